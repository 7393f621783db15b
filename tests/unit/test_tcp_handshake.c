/* TCP connection establishment on the simulator (RFC 9293 3.5): the
 * three-way handshake with options negotiated as Linux does, simultaneous
 * open, connect to a closed port, the non-blocking connect errno sequence,
 * the listen backlog bound, and SYN cookies under a SYN flood (RFC 4987). */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "unit/sim_test_util.h"
#include "unit/tcp_test_util.h"

static void handshake_reaches_established_with_mss_ts_wscale(void **state)
{
    (void)state;
    struct tnet n;
    uint64_t seed = sim_test_seed(1);
    tnet_setup(&n, seed, NULL);
    int lfd = tlisten(&n, 80, 16);
    int afd;
    int bfd = tconnect_pair(&n, lfd, 80, &afd);

    struct tcp_info ti;
    socklen_t len = sizeof(ti);
    SIM_ASSERT_EQ(seed, ust_getsockopt(n.a, afd, IPPROTO_TCP, TCP_INFO, &ti, &len), 0);
    SIM_ASSERT_EQ(seed, ti.tcpi_state, 1);          /* TCP_ESTABLISHED */
    SIM_ASSERT_EQ(seed, ti.tcpi_options & (TCPI_OPT_TIMESTAMPS | TCPI_OPT_WSCALE),
                  TCPI_OPT_TIMESTAMPS | TCPI_OPT_WSCALE);
    SIM_ASSERT_EQ(seed, ti.tcpi_snd_mss, 1448);     /* 1500 - 40 - 12 (timestamps) */
    SIM_ASSERT_EQ(seed, ti.tcpi_rcv_wscale, 2);     /* 128 KiB buffer */
    SIM_ASSERT_EQ(seed, ti.tcpi_snd_wscale, 2);
    SIM_ASSERT_EQ(seed, ti.tcpi_snd_cwnd, 10);      /* RFC 6928 */
    SIM_ASSERT(seed, ti.tcpi_rtt > 0);
    len = sizeof(ti);
    SIM_ASSERT_EQ(seed, ust_getsockopt(n.b, bfd, IPPROTO_TCP, TCP_INFO, &ti, &len), 0);
    SIM_ASSERT_EQ(seed, ti.tcpi_state, 1);

    struct sockaddr_in peer;
    socklen_t plen = sizeof(peer);
    SIM_ASSERT_EQ(seed, ust_getpeername(n.a, afd, (struct sockaddr *)&peer, &plen), 0);
    SIM_ASSERT_EQ(seed, ntohs(peer.sin_port), 80);
    struct sockaddr_in me;
    socklen_t mlen = sizeof(me);
    SIM_ASSERT_EQ(seed, ust_getsockname(n.a, afd, (struct sockaddr *)&me, &mlen), 0);
    plen = sizeof(peer);
    SIM_ASSERT_EQ(seed, ust_getpeername(n.b, bfd, (struct sockaddr *)&peer, &plen), 0);
    SIM_ASSERT_EQ(seed, peer.sin_port, me.sin_port);
    SIM_ASSERT_EQ(seed, peer.sin_addr.s_addr, me.sin_addr.s_addr);

    /* connect again: EISCONN; the listener reports SO_ACCEPTCONN. */
    struct sockaddr_in sb = tsin("10.0.0.2", 80);
    SIM_ASSERT_EQ(seed, ust_connect(n.a, afd, (struct sockaddr *)&sb, sizeof(sb)), -1);
    SIM_ASSERT_EQ(seed, errno, EISCONN);
    int v = 0;
    socklen_t vl = sizeof(v);
    SIM_ASSERT_EQ(seed, ust_getsockopt(n.b, lfd, SOL_SOCKET, SO_ACCEPTCONN, &v, &vl), 0);
    SIM_ASSERT_EQ(seed, v, 1);
    SIM_ASSERT_EQ(seed, ust_stat_get(n.a, UST_STAT_TCP_ActiveOpens), 1);
    SIM_ASSERT_EQ(seed, ust_stat_get(n.b, UST_STAT_TCP_PassiveOpens), 1);
    SIM_ASSERT_EQ(seed, ust_stat_get(n.a, UST_STAT_TCP_CurrEstab), 1);
    ust_sim_free(n.sim);
}

static void nonblocking_connect_gives_einprogress_ealready_eisconn(void **state)
{
    (void)state;
    struct tnet n;
    uint64_t seed = sim_test_seed(2);
    tnet_setup(&n, seed, NULL);
    int lfd = tlisten(&n, 80, 4);
    int fd = tsock(&n, n.a);
    struct sockaddr_in sb = tsin("10.0.0.2", 80);
    SIM_ASSERT_EQ(seed, ust_connect(n.a, fd, (struct sockaddr *)&sb, sizeof(sb)), -1);
    SIM_ASSERT_EQ(seed, errno, EINPROGRESS);
    /* Not writable, not readable while the handshake runs. */
    struct pollfd p = { .fd = fd, .events = POLLIN | POLLOUT };
    SIM_ASSERT_EQ(seed, ust_poll(n.a, &p, 1, 0), 0);
    SIM_ASSERT_EQ(seed, ust_connect(n.a, fd, (struct sockaddr *)&sb, sizeof(sb)), -1);
    SIM_ASSERT_EQ(seed, errno, EALREADY);
    char c;
    SIM_ASSERT_EQ(seed, ust_recv(n.a, fd, &c, 1, 0), -1);
    SIM_ASSERT_EQ(seed, errno, EAGAIN);
    tnet_run(&n, 100 * TMS);
    SIM_ASSERT_EQ(seed, ust_poll(n.a, &p, 1, 0), 1);
    SIM_ASSERT_EQ(seed, p.revents, POLLOUT);
    SIM_ASSERT_EQ(seed, ust_connect(n.a, fd, (struct sockaddr *)&sb, sizeof(sb)), 0);
    SIM_ASSERT_EQ(seed, ust_connect(n.a, fd, (struct sockaddr *)&sb, sizeof(sb)), -1);
    SIM_ASSERT_EQ(seed, errno, EISCONN);
    (void)lfd;
    ust_sim_free(n.sim);
}

static void connect_to_closed_port_gives_econnrefused(void **state)
{
    (void)state;
    struct tnet n;
    uint64_t seed = sim_test_seed(3);
    tnet_setup(&n, seed, NULL);
    int fd = tsock(&n, n.a);
    struct sockaddr_in sb = tsin("10.0.0.2", 81);
    SIM_ASSERT_EQ(seed, ust_connect(n.a, fd, (struct sockaddr *)&sb, sizeof(sb)), -1);
    SIM_ASSERT_EQ(seed, errno, EINPROGRESS);
    tnet_run(&n, 100 * TMS);
    struct pollfd p = { .fd = fd, .events = POLLIN | POLLOUT };
    SIM_ASSERT_EQ(seed, ust_poll(n.a, &p, 1, 0), 1);
    SIM_ASSERT(seed, (p.revents & (POLLERR | POLLHUP)) == (POLLERR | POLLHUP));
    int err = 0;
    socklen_t el = sizeof(err);
    SIM_ASSERT_EQ(seed, ust_getsockopt(n.a, fd, SOL_SOCKET, SO_ERROR, &err, &el), 0);
    SIM_ASSERT_EQ(seed, err, ECONNREFUSED);
    SIM_ASSERT_EQ(seed, ust_stat_get(n.b, UST_STAT_TCP_OutRsts), 1);
    SIM_ASSERT_EQ(seed, ust_stat_get(n.a, UST_STAT_TCP_AttemptFails), 1);

    /* The same through connect's own return on a second socket. */
    int fd2 = tsock(&n, n.a);
    SIM_ASSERT_EQ(seed, ust_connect(n.a, fd2, (struct sockaddr *)&sb, sizeof(sb)), -1);
    tnet_run(&n, 100 * TMS);
    SIM_ASSERT_EQ(seed, ust_connect(n.a, fd2, (struct sockaddr *)&sb, sizeof(sb)), -1);
    SIM_ASSERT_EQ(seed, errno, ECONNREFUSED);
    ust_sim_free(n.sim);
}

static void simultaneous_open_establishes_both(void **state)
{
    (void)state;
    struct tnet n;
    uint64_t seed = sim_test_seed(4);
    tnet_setup(&n, seed, NULL);
    int fa = tsock(&n, n.a), fb = tsock(&n, n.b);
    struct sockaddr_in la = tsin("10.0.0.1", 5000), lb = tsin("10.0.0.2", 6000);
    SIM_ASSERT_EQ(seed, ust_bind(n.a, fa, (struct sockaddr *)&la, sizeof(la)), 0);
    SIM_ASSERT_EQ(seed, ust_bind(n.b, fb, (struct sockaddr *)&lb, sizeof(lb)), 0);
    SIM_ASSERT_EQ(seed, ust_connect(n.a, fa, (struct sockaddr *)&lb, sizeof(lb)), -1);
    SIM_ASSERT_EQ(seed, ust_connect(n.b, fb, (struct sockaddr *)&la, sizeof(la)), -1);
    SIM_ASSERT_EQ(seed, tstate(n.a, fa), UST_TCP_SYN_SENT);
    tnet_run(&n, 1500 * TMS);   /* SYNs cross */
    SIM_ASSERT_EQ(seed, tstate(n.a, fa), UST_TCP_ESTABLISHED);
    SIM_ASSERT_EQ(seed, tstate(n.b, fb), UST_TCP_ESTABLISHED);
    SIM_ASSERT_EQ(seed, ust_send(n.a, fa, "hi", 2, 0), 2);
    tnet_run(&n, 100 * TMS);
    char buf[4];
    SIM_ASSERT_EQ(seed, ust_recv(n.b, fb, buf, sizeof(buf), 0), 2);
    SIM_ASSERT(seed, memcmp(buf, "hi", 2) == 0);
    ust_sim_free(n.sim);
}

static void listen_backlog_bounds_accept_queue(void **state)
{
    (void)state;
    struct tnet n;
    uint64_t seed = sim_test_seed(5);
    tnet_setup(&n, seed, NULL);
    int lfd = tlisten(&n, 80, 2);
    struct sockaddr_in sb = tsin("10.0.0.2", 80);
    int fds[6];
    for (int i = 0; i < 6; i++) {
        fds[i] = tsock(&n, n.a);
        SIM_ASSERT_EQ(seed, ust_connect(n.a, fds[i], (struct sockaddr *)&sb, sizeof(sb)), -1);
    }
    tnet_run(&n, 4 * TSEC);     /* SYNs ARP dropped are retransmitted at 1 s and 3 s */
    struct ust_tcb *l = ttcb(n.b, lfd);
    SIM_ASSERT_EQ(seed, l->acc_len, 2);

    /* Two SYNs made half-open children, later ones got SYN cookies (or
     * wait in ARP's queue and SYN retransmission): ACKs of cookies found
     * the accept queue full and were dropped (as in Linux). */
    SIM_ASSERT(seed, ust_stat_get(n.b, UST_STAT_TCP_SyncookiesSent) >= 1);
    SIM_ASSERT(seed, ust_stat_get(n.b, UST_STAT_TCP_ListenOverflows) > 0);
    struct pollfd p = { .fd = lfd, .events = POLLIN };
    SIM_ASSERT_EQ(seed, ust_poll(n.b, &p, 1, 0), 1);
    /* Each client sends a byte once connected: when accepting makes room,
     * its first data segment (retransmitted as needed) proves the cookie;
     * SYNs dropped while the accept queue was full are retransmitted. */
    bool sent[6] = { false };
    int accepted = 0;
    for (int t = 0; t < 1000 && accepted < 6; t++) {
        for (int i = 0; i < 6; i++)
            if (!sent[i] && ust_send(n.a, fds[i], "x", 1, 0) == 1)
                sent[i] = true;
        int c;
        while ((c = ust_accept(n.b, lfd, NULL, NULL)) >= 0) {
            accepted++;
            tnet_run(&n, 5 * TMS);
            char ch;
            SIM_ASSERT_EQ(seed, ust_recv(n.b, c, &ch, 1, 0), 1);
        }
        SIM_ASSERT_EQ(seed, errno, EAGAIN);
        SIM_ASSERT(seed, l->acc_len <= 2);
        tnet_run(&n, 50 * TMS);
    }
    SIM_ASSERT_EQ(seed, accepted, 6);
    SIM_ASSERT(seed, ust_stat_get(n.b, UST_STAT_TCP_SyncookiesRecv) >= 1);
    p.revents = 0;
    SIM_ASSERT_EQ(seed, ust_poll(n.b, &p, 1, 0), 0);
    ust_sim_free(n.sim);
}

/* A SYN from a host that never answers (10.0.0.77:port). */
static void inject_syn(struct ust_stack *b, uint16_t sport, uint32_t seq)
{
    struct ust_fbuf *fb = ust_fbuf_alloc(b, UST_TCP_MIN_HLEN);
    assert_non_null(fb);
    uint8_t *p = ust_fbuf_put(fb, UST_TCP_MIN_HLEN);
    struct ust_tcp_hdr h = { .sport = sport, .dport = 80, .seq = seq, .flags = UST_TCP_SYN,
                             .win = 65535 };
    ust_tcp_emit(p, UST_TCP_MIN_HLEN, &h);
    ust_tcp_set_csum(p, UST_TCP_MIN_HLEN, 0x0a00004du, 0x0a000002u);
    struct ust_ipv4_hdr ih = { .hlen = 20, .ttl = 64, .proto = UST_IPPROTO_TCP,
                               .src = 0x0a00004du, .dst = 0x0a000002u,
                               .total_len = 20 + UST_TCP_MIN_HLEN };
    ust_tcp_input(b, fb, &ih);
}

static void syn_flood_stays_bounded_and_cookies_still_connect(void **state)
{
    (void)state;
    struct tnet n;
    uint64_t seed = sim_test_seed(6);
    tnet_setup(&n, seed, NULL);
    int lfd = tlisten(&n, 80, 4);
    for (uint32_t i = 0; i < 2000; i++)
        inject_syn(n.b, (uint16_t)(1024 + i), i * 7919u);
    struct ust_tcb *l = ttcb(n.b, lfd);
    SIM_ASSERT_EQ(seed, l->syn_len, 4);
    SIM_ASSERT(seed, n.b->tcp.nconns <= 5);         /* the listener + 4 half-open */
    SIM_ASSERT_EQ(seed, ust_stat_get(n.b, UST_STAT_TCP_SyncookiesSent), 1996);
    /* A real client during the flood gets a cookie and connects. */
    int afd;
    int bfd = tconnect_pair(&n, lfd, 80, &afd);
    SIM_ASSERT_EQ(seed, ust_stat_get(n.b, UST_STAT_TCP_SyncookiesRecv), 1);
    struct tcp_info ti;
    socklen_t tl = sizeof(ti);
    SIM_ASSERT_EQ(seed, ust_getsockopt(n.b, bfd, IPPROTO_TCP, TCP_INFO, &ti, &tl), 0);
    SIM_ASSERT_EQ(seed, ti.tcpi_state, 1);
    /* Window scale and SACK survived in the timestamp. */
    SIM_ASSERT_EQ(seed, ti.tcpi_options & (TCPI_OPT_TIMESTAMPS | TCPI_OPT_WSCALE | TCPI_OPT_SACK),
                  TCPI_OPT_TIMESTAMPS | TCPI_OPT_WSCALE | TCPI_OPT_SACK);
    SIM_ASSERT_EQ(seed, ti.tcpi_snd_wscale, 2);
    SIM_ASSERT_EQ(seed, ti.tcpi_snd_mss, 1460 - 12);
    /* Data both ways. */
    static uint8_t big[100000];
    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = (uint8_t)i;
    size_t sent = 0, got = 0;
    static uint8_t in[100000];
    for (int t = 0; t < 2000 && got < sizeof(big); t++) {
        ssize_t r = ust_send(n.b, bfd, big + sent, sizeof(big) - sent, 0);
        if (r > 0)
            sent += (size_t)r;
        while ((r = ust_recv(n.a, afd, in + got, sizeof(in) - got, 0)) > 0)
            got += (size_t)r;
        tnet_run(&n, 1 * TMS);
    }
    SIM_ASSERT_EQ(seed, got, sizeof(big));
    SIM_ASSERT(seed, memcmp(in, big, sizeof(big)) == 0);
    /* The half-open entries expire (SYN-ACK retries), nothing else grows. */
    tnet_run(&n, 200 * TSEC);
    SIM_ASSERT_EQ(seed, l->syn_len, 0);
    SIM_ASSERT_EQ(seed, n.b->tcp.nconns, 2);
    ust_sim_free(n.sim);
}

static void forged_cookie_ack_gets_rst(void **state)
{
    (void)state;
    struct tnet n;
    uint64_t seed = sim_test_seed(7);
    tnet_setup(&n, seed, NULL);
    int lfd = tlisten(&n, 80, 4);
    struct ust_fbuf *fb = ust_fbuf_alloc(n.b, UST_TCP_MIN_HLEN);
    uint8_t *p = ust_fbuf_put(fb, UST_TCP_MIN_HLEN);
    struct ust_tcp_hdr h = { .sport = 999, .dport = 80, .seq = 5, .ack = 12345,
                             .flags = UST_TCP_ACK, .win = 1000 };
    ust_tcp_emit(p, UST_TCP_MIN_HLEN, &h);
    ust_tcp_set_csum(p, UST_TCP_MIN_HLEN, 0x0a000001u, 0x0a000002u);
    struct ust_ipv4_hdr ih = { .hlen = 20, .ttl = 64, .proto = UST_IPPROTO_TCP,
                               .src = 0x0a000001u, .dst = 0x0a000002u,
                               .total_len = 20 + UST_TCP_MIN_HLEN };
    ust_tcp_input(n.b, fb, &ih);
    SIM_ASSERT_EQ(seed, ust_stat_get(n.b, UST_STAT_TCP_SyncookiesFailed), 1);
    SIM_ASSERT_EQ(seed, ust_stat_get(n.b, UST_STAT_TCP_OutRsts), 1);
    SIM_ASSERT_EQ(seed, ttcb(n.b, lfd)->acc_len, 0);
    ust_sim_free(n.sim);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(handshake_reaches_established_with_mss_ts_wscale),
        cmocka_unit_test(nonblocking_connect_gives_einprogress_ealready_eisconn),
        cmocka_unit_test(connect_to_closed_port_gives_econnrefused),
        cmocka_unit_test(simultaneous_open_establishes_both),
        cmocka_unit_test(listen_backlog_bounds_accept_queue),
        cmocka_unit_test(syn_flood_stays_bounded_and_cookies_still_connect),
        cmocka_unit_test(forged_cookie_ack_gets_rst),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
