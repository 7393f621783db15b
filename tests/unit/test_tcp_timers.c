/* TCP timers on the simulator: retransmission backoff until ETIMEDOUT when
 * the peer vanishes (RFC 6298, Linux tcp_retries2 = 15), SYN retries until
 * ETIMEDOUT (tcp_syn_retries = 6), the persist timer probing a zero window
 * and the transfer resuming when the window opens (RFC 9293 3.8.6.1), and
 * the delayed ACK (RFC 9293 3.8.6.3), keepalive finding a dead peer (RFC
 * 1122 4.2.3.6, TCP_KEEPIDLE/INTVL/CNT) and TCP_USER_TIMEOUT. */
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

static void vanished_peer_backs_off_then_etimedout(void **state)
{
    (void)state;
    struct tnet n;
    uint64_t seed = sim_test_seed(31);
    tnet_setup(&n, seed, NULL);
    int lfd = tlisten(&n, 80, 4), afd;
    int bfd = tconnect_pair(&n, lfd, 80, &afd);
    (void)bfd;
    ust_sim_link_set_up(n.link, false);
    uint64_t t0 = ust_sim_now(n.sim);
    SIM_ASSERT_EQ(seed, ust_send(n.a, afd, "hello", 5, 0), 5);
    struct ust_tcb *t = ttcb(n.a, afd);
    /* Each timeout doubles the wait: after 2 s at most 3 timeouts, after
     * 60 s fewer than 9. */
    tnet_run(&n, 2 * TSEC);
    SIM_ASSERT(seed, t->backoff >= 1 && t->backoff <= 3);
    tnet_run(&n, 58 * TSEC);
    SIM_ASSERT(seed, t->backoff >= 4 && t->backoff < 9);
    struct tcp_info ti;
    socklen_t tl = sizeof(ti);
    SIM_ASSERT_EQ(seed, ust_getsockopt(n.a, afd, IPPROTO_TCP, TCP_INFO, &ti, &tl), 0);
    SIM_ASSERT_EQ(seed, ti.tcpi_retransmits, t->backoff);
    SIM_ASSERT(seed, ti.tcpi_total_retrans >= 4);
    uint64_t gave_up = 0;
    for (int i = 0; i < 3000 && !gave_up; i++) {
        tnet_run(&n, 1 * TSEC);
        if (tstate(n.a, afd) == UST_TCP_CLOSED)
            gave_up = ust_sim_now(n.sim) - t0;
    }
    /* 15 retransmissions with a 120 s cap: well over 10 minutes. */
    SIM_ASSERT(seed, gave_up > 600 * TSEC && gave_up < 1800 * TSEC);
    SIM_ASSERT_EQ(seed, ust_stat_get(n.a, UST_STAT_TCP_TCPTimeouts), 15);
    struct pollfd p = { .fd = afd, .events = POLLIN | POLLOUT };
    SIM_ASSERT_EQ(seed, ust_poll(n.a, &p, 1, 0), 1);
    SIM_ASSERT(seed, (p.revents & POLLERR) != 0);
    char c;
    SIM_ASSERT_EQ(seed, ust_recv(n.a, afd, &c, 1, 0), -1);
    SIM_ASSERT_EQ(seed, errno, ETIMEDOUT);
    ust_sim_free(n.sim);
}

static void syn_to_vanished_host_times_out_after_syn_retries(void **state)
{
    (void)state;
    struct tnet n;
    uint64_t seed = sim_test_seed(32);
    tnet_setup(&n, seed, NULL);
    /* A first connection resolves B's MAC; then the wire eats everything. */
    int lfd = tlisten(&n, 80, 4), afd;
    tconnect_pair(&n, lfd, 80, &afd);
    struct ust_link_params dead = { .delay_ns = 1 * TMS, .loss = 1.0 };
    ust_sim_link_set_params(n.link, 0, &dead);
    ust_sim_link_set_params(n.link, 1, &dead);
    int fd = tsock(&n, n.a);
    struct sockaddr_in sb = tsin("10.0.0.2", 80);
    SIM_ASSERT_EQ(seed, ust_connect(n.a, fd, (struct sockaddr *)&sb, sizeof(sb)), -1);
    /* 1 + 2 + 4 + ... + 64 = 127 s (Linux's tcp_syn_retries = 6). */
    tnet_run(&n, 126 * TSEC);
    SIM_ASSERT_EQ(seed, tstate(n.a, fd), UST_TCP_SYN_SENT);
    tnet_run(&n, 2 * TSEC);
    SIM_ASSERT_EQ(seed, tstate(n.a, fd), UST_TCP_CLOSED);
    SIM_ASSERT_EQ(seed, ust_connect(n.a, fd, (struct sockaddr *)&sb, sizeof(sb)), -1);
    SIM_ASSERT_EQ(seed, errno, ETIMEDOUT);
    ust_sim_free(n.sim);
}

/* ARP gets no answer for the SYN: the local ICMP host unreachable is a hard
 * error while connecting (Linux: EHOSTUNREACH after the ARP probes). */
static void connect_to_absent_neighbour_gives_ehostunreach(void **state)
{
    (void)state;
    struct tnet n;
    uint64_t seed = sim_test_seed(37);
    tnet_setup(&n, seed, NULL);
    int fd = tsock(&n, n.a);
    struct sockaddr_in sc = tsin("10.0.0.3", 80);
    SIM_ASSERT_EQ(seed, ust_connect(n.a, fd, (struct sockaddr *)&sc, sizeof(sc)), -1);
    SIM_ASSERT_EQ(seed, errno, EINPROGRESS);
    tnet_run(&n, 10 * TSEC);
    SIM_ASSERT_EQ(seed, tstate(n.a, fd), UST_TCP_CLOSED);
    SIM_ASSERT_EQ(seed, ust_connect(n.a, fd, (struct sockaddr *)&sc, sizeof(sc)), -1);
    SIM_ASSERT_EQ(seed, errno, EHOSTUNREACH);
    ust_sim_free(n.sim);
}

static void zero_window_is_probed_and_transfer_resumes(void **state)
{
    (void)state;
    struct tnet n;
    uint64_t seed = sim_test_seed(33);
    tnet_setup(&n, seed, NULL);
    int lfd = tlisten(&n, 80, 4), afd;
    int small = 4096;       /* doubled: 8 KiB of receive buffer */
    int bfd;
    {
        int l = lfd;
        SIM_ASSERT_EQ(seed, ust_setsockopt(n.b, l, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)), 0);
        bfd = tconnect_pair(&n, lfd, 80, &afd);
    }
    enum { TOTAL = 100000 };
    static uint8_t out[TOTAL];
    for (size_t i = 0; i < TOTAL; i++)
        out[i] = (uint8_t)(i * 13 + 1);
    size_t sent = 0;
    for (int i = 0; i < 100; i++) {
        ssize_t r = ust_send(n.a, afd, out + sent, TOTAL - sent, 0);
        if (r > 0)
            sent += (size_t)r;
        tnet_run(&n, 10 * TMS);
    }
    struct ust_tcb *ta = ttcb(n.a, afd);
    SIM_ASSERT_EQ(seed, ta->snd_wnd, 0);
    uint64_t probes = ust_stat_get(n.a, UST_STAT_TCP_TCPZeroWindowProbes);
    tnet_run(&n, 30 * TSEC);
    uint64_t probes2 = ust_stat_get(n.a, UST_STAT_TCP_TCPZeroWindowProbes);
    SIM_ASSERT(seed, probes2 > probes);
    SIM_ASSERT(seed, probes2 < probes + 12);        /* backed off, not every RTO */
    SIM_ASSERT_EQ(seed, tstate(n.a, afd), UST_TCP_ESTABLISHED);
    /* Now B reads: the window opens and everything arrives in order. */
    static uint8_t in[TOTAL];
    size_t rcvd = 0;
    for (int i = 0; i < 20000 && rcvd < TOTAL; i++) {
        ssize_t r;
        while ((r = ust_recv(n.b, bfd, in + rcvd, TOTAL - rcvd, 0)) > 0)
            rcvd += (size_t)r;
        if (sent < TOTAL) {
            r = ust_send(n.a, afd, out + sent, TOTAL - sent, 0);
            if (r > 0)
                sent += (size_t)r;
        }
        tnet_run(&n, 1 * TMS);
    }
    SIM_ASSERT_EQ(seed, rcvd, TOTAL);
    SIM_ASSERT(seed, memcmp(in, out, TOTAL) == 0);
    ust_sim_free(n.sim);
}

/* One small segment is ACKed after the delayed-ACK timeout (40 ms), not at
 * once; two full segments are ACKed at once. */
static void delayed_ack_waits_40ms_for_one_segment(void **state)
{
    (void)state;
    struct tnet n;
    uint64_t seed = sim_test_seed(34);
    struct ust_link_params p = { .delay_ns = 1 * TMS };
    tnet_setup(&n, seed, &p);
    int lfd = tlisten(&n, 80, 4), afd;
    int bfd = tconnect_pair(&n, lfd, 80, &afd);
    (void)bfd;
    tnet_run(&n, 1 * TSEC);
    struct ust_tcb *ta = ttcb(n.a, afd);
    SIM_ASSERT_EQ(seed, ust_send(n.a, afd, "abc", 3, 0), 3);
    tnet_run(&n, 30 * TMS);
    SIM_ASSERT(seed, ta->snd_una != ta->snd_max);   /* not yet ACKed */
    tnet_run(&n, 15 * TMS);
    SIM_ASSERT_EQ(seed, ta->snd_una, ta->snd_max);
    ust_sim_free(n.sim);
}

static void keepalive_detects_dead_peer(void **state)
{
    (void)state;
    struct tnet n;
    uint64_t seed = sim_test_seed(35);
    tnet_setup(&n, seed, NULL);
    int lfd = tlisten(&n, 80, 4), afd;
    int bfd = tconnect_pair(&n, lfd, 80, &afd);
    int one = 1, idle = 10, intvl = 2, cnt = 3;
    SIM_ASSERT_EQ(seed, ust_setsockopt(n.a, afd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one)), 0);
    SIM_ASSERT_EQ(seed, ust_setsockopt(n.a, afd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle)), 0);
    SIM_ASSERT_EQ(seed, ust_setsockopt(n.a, afd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl)), 0);
    SIM_ASSERT_EQ(seed, ust_setsockopt(n.a, afd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt)), 0);
    int got = 0;
    socklen_t gl = sizeof(got);
    SIM_ASSERT_EQ(seed, ust_getsockopt(n.a, afd, IPPROTO_TCP, TCP_KEEPIDLE, &got, &gl), 0);
    SIM_ASSERT_EQ(seed, got, 10);
    /* A live peer answers the probes: the connection stays. */
    tnet_run(&n, 100 * TSEC);
    SIM_ASSERT_EQ(seed, tstate(n.a, afd), UST_TCP_ESTABLISHED);
    SIM_ASSERT_EQ(seed, tstate(n.b, bfd), UST_TCP_ESTABLISHED);
    /* The peer vanishes: at most 10 s idle, 3 probes 2 s apart, then
     * ETIMEDOUT: between 6 and 16 s later. */
    ust_sim_link_set_up(n.link, false);
    tnet_run(&n, 6 * TSEC);
    SIM_ASSERT_EQ(seed, tstate(n.a, afd), UST_TCP_ESTABLISHED);
    tnet_run(&n, 11 * TSEC);
    SIM_ASSERT_EQ(seed, tstate(n.a, afd), UST_TCP_CLOSED);
    char c;
    SIM_ASSERT_EQ(seed, ust_recv(n.a, afd, &c, 1, 0), -1);
    SIM_ASSERT_EQ(seed, errno, ETIMEDOUT);
    ust_sim_free(n.sim);
}

static void user_timeout_bounds_retransmission(void **state)
{
    (void)state;
    struct tnet n;
    uint64_t seed = sim_test_seed(36);
    tnet_setup(&n, seed, NULL);
    int lfd = tlisten(&n, 80, 4), afd;
    int bfd = tconnect_pair(&n, lfd, 80, &afd);
    (void)bfd;
    int ms = 5000;
    SIM_ASSERT_EQ(seed, ust_setsockopt(n.a, afd, IPPROTO_TCP, TCP_USER_TIMEOUT, &ms, sizeof(ms)), 0);
    ust_sim_link_set_up(n.link, false);
    SIM_ASSERT_EQ(seed, ust_send(n.a, afd, "x", 1, 0), 1);
    tnet_run(&n, 5 * TSEC);
    SIM_ASSERT_EQ(seed, tstate(n.a, afd), UST_TCP_ESTABLISHED);
    tnet_run(&n, 10 * TSEC);
    SIM_ASSERT_EQ(seed, tstate(n.a, afd), UST_TCP_CLOSED);
    int err = 0;
    socklen_t el = sizeof(err);
    SIM_ASSERT_EQ(seed, ust_getsockopt(n.a, afd, SOL_SOCKET, SO_ERROR, &err, &el), 0);
    SIM_ASSERT_EQ(seed, err, ETIMEDOUT);
    ust_sim_free(n.sim);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(vanished_peer_backs_off_then_etimedout),
        cmocka_unit_test(syn_to_vanished_host_times_out_after_syn_retries),
        cmocka_unit_test(connect_to_absent_neighbour_gives_ehostunreach),
        cmocka_unit_test(zero_window_is_probed_and_transfer_resumes),
        cmocka_unit_test(delayed_ack_waits_40ms_for_one_segment),
        cmocka_unit_test(keepalive_detects_dead_peer),
        cmocka_unit_test(user_timeout_bounds_retransmission),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
