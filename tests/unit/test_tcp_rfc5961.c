/* Segment arrival checks against blind attacks (RFC 5961) and RST in every
 * state (RFC 9293 3.10.7.4 "second, check the RST bit"), on the simulator
 * with crafted segments handed straight to B's TCP input:
 *  - a RST exactly at RCV.NXT resets; one elsewhere in the window only draws
 *    a challenge ACK; one outside the window is ignored;
 *  - a SYN in a synchronized state draws a challenge ACK;
 *  - an ACK for data never sent is dropped; one too old draws a challenge ACK;
 *  - a bad checksum is counted and dropped;
 *  - RST in SYN-RECEIVED, ESTABLISHED, FIN-WAIT-1, FIN-WAIT-2, CLOSE-WAIT,
 *    CLOSING, LAST-ACK, TIME-WAIT ends the connection with Linux's errno;
 *  - ICMP errors (RFC 5927): only about segments in flight; "fragmentation
 *    needed" lowers the MSS; a soft error names a later timeout. */
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
#include "net/net_internal.h"

#define IP_A 0x0a000001u
#define IP_B 0x0a000002u

/* A segment from A's side of tcb's connection to B (tcb lives on B). */
static void inject(struct ust_stack *b, const struct ust_tcb *tcb, uint32_t seq, uint32_t ack,
                   uint8_t flags, bool bad_csum)
{
    struct ust_fbuf *fb = ust_fbuf_alloc(b, UST_TCP_MIN_HLEN);
    assert_non_null(fb);
    uint8_t *p = ust_fbuf_put(fb, UST_TCP_MIN_HLEN);
    struct ust_tcp_hdr h = {
        .sport = tcb->sk.rport, .dport = tcb->sk.lport, .seq = seq, .ack = ack,
        .flags = flags, .win = 1000,
    };
    ust_tcp_emit(p, UST_TCP_MIN_HLEN, &h);
    ust_tcp_set_csum(p, UST_TCP_MIN_HLEN, tcb->sk.raddr, tcb->sk.laddr);
    if (bad_csum)
        p[16] ^= 0x55;
    struct ust_ipv4_hdr ih = { .hlen = 20, .ttl = 64, .proto = UST_IPPROTO_TCP,
                               .src = tcb->sk.raddr, .dst = tcb->sk.laddr,
                               .total_len = 20 + UST_TCP_MIN_HLEN };
    ust_tcp_input(b, fb, &ih);
}

static void rst_exact_resets_in_window_gets_challenge(void **state)
{
    (void)state;
    struct tnet n;
    uint64_t seed = sim_test_seed(41);
    tnet_setup(&n, seed, NULL);
    int lfd = tlisten(&n, 80, 4), afd;
    int bfd = tconnect_pair(&n, lfd, 80, &afd);
    struct ust_tcb *t = ttcb(n.b, bfd);
    uint64_t ch = ust_stat_get(n.b, UST_STAT_TCP_TCPChallengeACK);
    inject(n.b, t, t->rcv_nxt + 100, 0, UST_TCP_RST, false);           /* in window */
    SIM_ASSERT_EQ(seed, t->state, UST_TCP_ESTABLISHED);
    SIM_ASSERT_EQ(seed, ust_stat_get(n.b, UST_STAT_TCP_TCPChallengeACK), ch + 1);
    inject(n.b, t, t->rcv_nxt + 0x40000000u, 0, UST_TCP_RST, false);   /* outside */
    SIM_ASSERT_EQ(seed, t->state, UST_TCP_ESTABLISHED);
    SIM_ASSERT_EQ(seed, ust_stat_get(n.b, UST_STAT_TCP_TCPChallengeACK), ch + 1);
    inject(n.b, t, t->rcv_nxt + 10, t->snd_nxt, UST_TCP_SYN, false);    /* SYN */
    SIM_ASSERT_EQ(seed, t->state, UST_TCP_ESTABLISHED);
    SIM_ASSERT_EQ(seed, ust_stat_get(n.b, UST_STAT_TCP_TCPChallengeACK), ch + 2);
    /* An ACK for data never sent; one from before the window. */
    inject(n.b, t, t->rcv_nxt, t->snd_max + 5000, UST_TCP_ACK, false);
    SIM_ASSERT_EQ(seed, t->snd_una, t->snd_max);
    inject(n.b, t, t->rcv_nxt, t->snd_una - 0x40000000u, UST_TCP_ACK, false);
    SIM_ASSERT_EQ(seed, ust_stat_get(n.b, UST_STAT_TCP_TCPChallengeACK), ch + 3);
    /* A bad checksum. */
    uint64_t cs = ust_stat_get(n.b, UST_STAT_TCP_InCsumErrors);
    inject(n.b, t, t->rcv_nxt, t->snd_una, UST_TCP_RST, true);
    SIM_ASSERT_EQ(seed, ust_stat_get(n.b, UST_STAT_TCP_InCsumErrors), cs + 1);
    SIM_ASSERT_EQ(seed, t->state, UST_TCP_ESTABLISHED);
    /* The challenge ACKs did A no harm. */
    tnet_run(&n, 50 * TMS);
    SIM_ASSERT_EQ(seed, tstate(n.a, afd), UST_TCP_ESTABLISHED);
    /* Exactly RCV.NXT: reset. */
    inject(n.b, t, t->rcv_nxt, 0, UST_TCP_RST, false);
    SIM_ASSERT_EQ(seed, tstate(n.b, bfd), UST_TCP_CLOSED);
    char c;
    SIM_ASSERT_EQ(seed, ust_recv(n.b, bfd, &c, 1, 0), -1);
    SIM_ASSERT_EQ(seed, errno, ECONNRESET);
    ust_sim_free(n.sim);
}

/* Drives B's side of a fresh connection to `want`, then resets it. Returns
 * the errno B's recv reports afterwards (0 for EOF). */
static int rst_in_state(uint64_t seed, enum ust_tcp_conn_state want)
{
    struct tnet n;
    tnet_setup(&n, seed, NULL);
    int lfd = tlisten(&n, 80, 4), afd;
    int bfd = tconnect_pair(&n, lfd, 80, &afd);
    struct ust_tcb *t = ttcb(n.b, bfd);
    switch (want) {
    case UST_TCP_FIN_WAIT_1:    /* A must not ACK B's FIN: cut the wire */
        ust_sim_link_set_up(n.link, false);
        ust_shutdown(n.b, bfd, SHUT_WR);
        break;
    case UST_TCP_FIN_WAIT_2:
        ust_shutdown(n.b, bfd, SHUT_WR);
        tnet_run(&n, 50 * TMS);
        break;
    case UST_TCP_CLOSE_WAIT:
        ust_shutdown(n.a, afd, SHUT_WR);
        tnet_run(&n, 50 * TMS);
        break;
    case UST_TCP_LAST_ACK:
        ust_shutdown(n.a, afd, SHUT_WR);
        tnet_run(&n, 50 * TMS);
        ust_sim_link_set_up(n.link, false);
        ust_shutdown(n.b, bfd, SHUT_WR);
        break;
    case UST_TCP_CLOSING:
        ust_shutdown(n.a, afd, SHUT_WR);
        ust_shutdown(n.b, bfd, SHUT_WR);
        ust_sim_run_until(n.sim, ust_sim_now(n.sim) + 1 * TMS + 1);
        ust_sim_link_set_up(n.link, false);
        break;
    case UST_TCP_TIME_WAIT:
        ust_shutdown(n.b, bfd, SHUT_WR);
        tnet_run(&n, 50 * TMS);
        ust_shutdown(n.a, afd, SHUT_WR);
        tnet_run(&n, 50 * TMS);
        break;
    default:
        break;
    }
    SIM_ASSERT_EQ(seed, t->state, want);
    inject(n.b, t, t->rcv_nxt, 0, UST_TCP_RST, false);
    SIM_ASSERT_EQ(seed, tstate(n.b, bfd), UST_TCP_CLOSED);
    char c;
    int r = (int)ust_recv(n.b, bfd, &c, 1, 0);
    int e = r < 0 ? errno : 0;
    ust_sim_free(n.sim);
    return e;
}

static void rst_in_every_synchronized_state(void **state)
{
    (void)state;
    uint64_t seed = sim_test_seed(42);
    SIM_ASSERT_EQ(seed, rst_in_state(seed, UST_TCP_ESTABLISHED), ECONNRESET);
    SIM_ASSERT_EQ(seed, rst_in_state(seed, UST_TCP_FIN_WAIT_1), ECONNRESET);
    SIM_ASSERT_EQ(seed, rst_in_state(seed, UST_TCP_FIN_WAIT_2), ECONNRESET);
    SIM_ASSERT_EQ(seed, rst_in_state(seed, UST_TCP_CLOSE_WAIT), 0);    /* EOF came first */
    SIM_ASSERT_EQ(seed, rst_in_state(seed, UST_TCP_LAST_ACK), 0);
    SIM_ASSERT_EQ(seed, rst_in_state(seed, UST_TCP_CLOSING), 0);
    SIM_ASSERT_EQ(seed, rst_in_state(seed, UST_TCP_TIME_WAIT), 0);
}

static void rst_in_syn_received_drops_the_child(void **state)
{
    (void)state;
    struct tnet n;
    uint64_t seed = sim_test_seed(43);
    tnet_setup(&n, seed, NULL);
    int lfd = tlisten(&n, 80, 4);
    /* A's ACK of the SYN-ACK is lost: B's child stays in SYN-RECEIVED. */
    int fd = tsock(&n, n.a);
    struct sockaddr_in sb = tsin("10.0.0.2", 80);
    ust_connect(n.a, fd, (struct sockaddr *)&sb, sizeof(sb));
    struct ust_tcb *a = ttcb(n.a, fd);
    struct ust_tcb *child = NULL;
    for (int i = 0; i < 200 && !child; i++) {      /* until the SYN arrives */
        ust_sim_run_until(n.sim, ust_sim_now(n.sim) + 100 * UST_NSEC_PER_USEC);
        child = ust_tcp_lookup(n.b, IP_B, 80, IP_A, a->sk.lport);
    }
    ust_sim_link_set_up(n.link, false);
    SIM_ASSERT(seed, child != NULL);
    SIM_ASSERT_EQ(seed, child->state, UST_TCP_SYN_RECEIVED);
    SIM_ASSERT_EQ(seed, ttcb(n.b, lfd)->syn_len, 1);
    inject(n.b, child, child->rcv_nxt, 0, UST_TCP_RST, false);
    SIM_ASSERT(seed, ust_tcp_lookup(n.b, IP_B, 80, IP_A, a->sk.lport) == NULL);
    SIM_ASSERT_EQ(seed, ttcb(n.b, lfd)->syn_len, 0);
    SIM_ASSERT_EQ(seed, ust_accept(n.b, lfd, NULL, NULL), -1);
    SIM_ASSERT_EQ(seed, errno, EAGAIN);
    ust_sim_free(n.sim);
}

/* An ICMP error from B's side about A's segment at seq (RFC 5927). */
static void icmp_to_a(struct ust_stack *a, const struct ust_tcb *t, uint8_t type, uint8_t code,
                      uint32_t info, uint32_t seq)
{
    uint8_t pkt[8 + 20 + 8];
    memset(pkt, 0, sizeof(pkt));
    pkt[0] = type;
    pkt[1] = code;
    ust_put_be32(pkt + 4, info);
    struct ust_ipv4_hdr in = { .hlen = 20, .ttl = 64, .proto = UST_IPPROTO_TCP,
                               .src = t->sk.laddr, .dst = t->sk.raddr, .total_len = 1500 };
    ust_ipv4_emit(pkt + 8, 20, &in);
    ust_put_be16(pkt + 28, t->sk.lport);
    ust_put_be16(pkt + 30, t->sk.rport);
    ust_put_be32(pkt + 32, seq);
    ust_put_be16(pkt + 2, ust_inet_csum(pkt, sizeof(pkt)));
    struct ust_fbuf *fb = ust_fbuf_alloc(a, sizeof(pkt));
    memcpy(ust_fbuf_put(fb, sizeof(pkt)), pkt, sizeof(pkt));
    struct ust_ipv4_hdr ih = { .hlen = 20, .ttl = 64, .proto = UST_IPPROTO_ICMP,
                               .src = t->sk.raddr, .dst = t->sk.laddr,
                               .total_len = (uint16_t)(20 + sizeof(pkt)) };
    ust_icmp_input(a, fb, &ih);
}

static void icmp_frag_needed_lowers_mss_and_soft_error_explains_timeout(void **state)
{
    (void)state;
    struct tnet n;
    uint64_t seed = sim_test_seed(44);
    tnet_setup(&n, seed, NULL);
    int lfd = tlisten(&n, 80, 4), afd;
    int bfd = tconnect_pair(&n, lfd, 80, &afd);
    (void)bfd;
    struct ust_tcb *t = ttcb(n.a, afd);
    ust_sim_link_set_up(n.link, false);
    static uint8_t data[4000];
    SIM_ASSERT_EQ(seed, ust_send(n.a, afd, data, sizeof(data), 0), (ssize_t)sizeof(data));
    SIM_ASSERT_EQ(seed, t->mss, 1448);
    /* An error about a sequence number not in flight is ignored. */
    icmp_to_a(n.a, t, UST_ICMP_DEST_UNREACH, 4, 1000, t->snd_una - 5000);
    SIM_ASSERT_EQ(seed, t->mss, 1448);
    icmp_to_a(n.a, t, UST_ICMP_DEST_UNREACH, 4, 1000, t->snd_una);
    SIM_ASSERT_EQ(seed, t->mss, 1000 - 40 - 12);
    /* Host unreachable while established: soft, the connection stays... */
    icmp_to_a(n.a, t, UST_ICMP_DEST_UNREACH, 1, 0, t->snd_una);
    SIM_ASSERT_EQ(seed, t->state, UST_TCP_ESTABLISHED);
    /* ...and names the error when retransmission gives up. */
    tnet_run(&n, 2000 * TSEC);
    SIM_ASSERT_EQ(seed, tstate(n.a, afd), UST_TCP_CLOSED);
    char c;
    SIM_ASSERT_EQ(seed, ust_recv(n.a, afd, &c, 1, 0), -1);
    SIM_ASSERT_EQ(seed, errno, EHOSTUNREACH);
    ust_sim_free(n.sim);
}

/* connect(AF_UNSPEC) aborts with a RST; the socket can connect again. */
static void connect_af_unspec_aborts_and_allows_reconnect(void **state)
{
    (void)state;
    struct tnet n;
    uint64_t seed = sim_test_seed(45);
    tnet_setup(&n, seed, NULL);
    int lfd = tlisten(&n, 80, 4), afd;
    int bfd = tconnect_pair(&n, lfd, 80, &afd);
    struct sockaddr unspec = { .sa_family = AF_UNSPEC };
    SIM_ASSERT_EQ(seed, ust_connect(n.a, afd, &unspec, sizeof(unspec)), 0);
    SIM_ASSERT_EQ(seed, tstate(n.a, afd), UST_TCP_CLOSED);
    tnet_run(&n, 50 * TMS);
    char c;
    SIM_ASSERT_EQ(seed, ust_recv(n.b, bfd, &c, 1, 0), -1);
    SIM_ASSERT_EQ(seed, errno, ECONNRESET);
    struct sockaddr_in sb = tsin("10.0.0.2", 80);
    SIM_ASSERT_EQ(seed, ust_connect(n.a, afd, (struct sockaddr *)&sb, sizeof(sb)), -1);
    SIM_ASSERT_EQ(seed, errno, EINPROGRESS);
    tnet_run(&n, 50 * TMS);
    SIM_ASSERT_EQ(seed, tstate(n.a, afd), UST_TCP_ESTABLISHED);
    SIM_ASSERT(seed, ust_accept(n.b, lfd, NULL, NULL) >= 0);
    ust_sim_free(n.sim);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rst_exact_resets_in_window_gets_challenge),
        cmocka_unit_test(rst_in_every_synchronized_state),
        cmocka_unit_test(rst_in_syn_received_drops_the_child),
        cmocka_unit_test(icmp_frag_needed_lowers_mss_and_soft_error_explains_timeout),
        cmocka_unit_test(connect_af_unspec_aborts_and_allows_reconnect),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
