/* Bulk transfer through the socket API between two simulated hosts: 1 MB
 * each way at the same time, over a clean link and over one that loses 5%
 * of frames (and reorders, duplicates) in both directions. Proves every byte
 * arrives once and in order (compared with the pattern sent), both ends see
 * EOF after the other's shutdown(SHUT_WR), and that loss really triggered
 * retransmissions. A failure prints the seed (USTACK_SEED replays it). */
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

#define TOTAL (1u << 20)

static uint8_t pattern(uint32_t dir, uint64_t off)
{
    uint64_t x = (off + 1) * 0x9e3779b97f4a7c15ull ^ (dir * 0x5bd1e995u);
    return (uint8_t)(x >> 29);
}

struct end {
    struct ust_stack *s;
    int fd;
    uint32_t dir;           /* pattern of what it sends */
    uint64_t sent, rcvd;
    bool shut, eof;
    uint64_t bad;
};

static void pump(struct tnet *n, struct end *e, uint32_t peer_dir)
{
    uint8_t buf[8192];
    while (e->sent < TOTAL) {
        size_t len = TOTAL - e->sent < sizeof(buf) ? TOTAL - e->sent : sizeof(buf);
        for (size_t i = 0; i < len; i++)
            buf[i] = pattern(e->dir, e->sent + i);
        ssize_t r = ust_send(e->s, e->fd, buf, len, 0);
        if (r < 0) {
            SIM_ASSERT_EQ(n->seed, errno, EAGAIN);
            break;
        }
        e->sent += (uint64_t)r;
    }
    if (e->sent == TOTAL && !e->shut) {
        SIM_ASSERT_EQ(n->seed, ust_shutdown(e->s, e->fd, SHUT_WR), 0);
        e->shut = true;
    }
    for (;;) {
        ssize_t r = ust_recv(e->s, e->fd, buf, sizeof(buf), 0);
        if (r < 0) {
            SIM_ASSERT_EQ(n->seed, errno, EAGAIN);
            break;
        }
        if (r == 0) {
            e->eof = true;
            break;
        }
        for (ssize_t i = 0; i < r; i++)
            if (buf[i] != pattern(peer_dir, e->rcvd + (uint64_t)i))
                e->bad++;
        e->rcvd += (uint64_t)r;
    }
}

static void transfer(uint64_t seed, const struct ust_link_params *p, bool expect_retrans)
{
    struct tnet n;
    tnet_setup(&n, seed, p);
    int lfd = tlisten(&n, 5001, 8);
    int afd;
    int bfd = tconnect_pair(&n, lfd, 5001, &afd);
    struct end a = { .s = n.a, .fd = afd, .dir = 1 }, b = { .s = n.b, .fd = bfd, .dir = 2 };
    uint64_t deadline = ust_sim_now(n.sim) + 600 * TSEC;
    while (!(a.eof && b.eof) && ust_sim_now(n.sim) < deadline) {
        pump(&n, &a, 2);
        pump(&n, &b, 1);
        tnet_run(&n, 1 * TMS);
    }
    if (!(a.eof && b.eof)) {
        struct ust_tcb *ta = ttcb(n.a, afd), *tb = ttcb(n.b, bfd);
        print_message("A sent %llu rcvd %llu st %d una %u nxt %u max %u wnd %u cwnd %u rcvnxt %u used %zu | "
                      "B sent %llu rcvd %llu st %d una %u nxt %u wnd %u cwnd %u rcvnxt %u\n",
                      (unsigned long long)a.sent, (unsigned long long)a.rcvd, ta->state, ta->snd_una,
                      ta->snd_nxt, ta->snd_max, ta->snd_wnd, ta->cwnd, ta->rcv_nxt, ust_ring_used(&ta->snd),
                      (unsigned long long)b.sent, (unsigned long long)b.rcvd, tb->state, tb->snd_una,
                      tb->snd_nxt, tb->snd_wnd, tb->cwnd, tb->rcv_nxt);
        print_message("A rtx pending %d exp %llu now %llu backoff %u persist %d rto %llu | B pending %d exp %llu backoff %u\n",
                      ust_timer_pending(&ta->rtx_timer), (unsigned long long)ta->rtx_timer.expires,
                      (unsigned long long)ust_sim_now(n.sim), ta->backoff, ta->persist, (unsigned long long)ta->rto_ns,
                      ust_timer_pending(&tb->rtx_timer), (unsigned long long)tb->rtx_timer.expires, tb->backoff);
    }
    SIM_ASSERT(seed, a.eof && b.eof);
    SIM_ASSERT_EQ(seed, a.rcvd, TOTAL);
    SIM_ASSERT_EQ(seed, b.rcvd, TOTAL);
    SIM_ASSERT_EQ(seed, a.bad, 0);
    SIM_ASSERT_EQ(seed, b.bad, 0);
    uint64_t retrans = ust_stat_get(n.a, UST_STAT_TCP_RetransSegs) +
                       ust_stat_get(n.b, UST_STAT_TCP_RetransSegs);
    /* No segment (SACK blocks included) ever exceeded the path MTU. */
    SIM_ASSERT_EQ(seed, ust_stat_get(n.a, UST_STAT_IP_FragFails), 0);
    SIM_ASSERT_EQ(seed, ust_stat_get(n.b, UST_STAT_IP_FragFails), 0);
    struct tcp_info ti;
    socklen_t tl = sizeof(ti);
    SIM_ASSERT_EQ(seed, ust_getsockopt(n.a, afd, IPPROTO_TCP, TCP_INFO, &ti, &tl), 0);
    SIM_ASSERT(seed, (ti.tcpi_options & TCPI_OPT_SACK) != 0);
    if (expect_retrans)
        SIM_ASSERT(seed, retrans > 0);
    else
        SIM_ASSERT_EQ(seed, retrans, 0);
    /* Both shut down writing and read EOF: close from both sides ends in
     * TIME-WAIT on one side at most, then nothing is left. */
    SIM_ASSERT_EQ(seed, ust_close(n.a, afd), 0);
    SIM_ASSERT_EQ(seed, ust_close(n.b, bfd), 0);
    tnet_run(&n, 200 * TSEC);
    SIM_ASSERT_EQ(seed, n.a->tcp.nconns, 0);
    SIM_ASSERT_EQ(seed, n.b->tcp.nconns, 1);   /* the listener */
    ust_sim_free(n.sim);
}

static void megabyte_both_ways_clean_link_is_byte_exact(void **state)
{
    (void)state;
    struct ust_link_params p = { .delay_ns = 2 * TMS, .rate_bps = 100000000 };
    transfer(sim_test_seed(11), &p, false);
}

static void megabyte_both_ways_5pct_loss_reorder_dup_is_byte_exact(void **state)
{
    (void)state;
    struct ust_link_params p = {
        .delay_ns = 5 * TMS, .jitter_ns = 1 * TMS, .loss = 0.05, .reorder = 0.05,
        .duplicate = 0.01, .rate_bps = 100000000,
    };
    uint64_t seed = sim_test_seed(12);
    for (uint64_t i = 0; i < 3; i++)
        transfer(seed + i, &p, true);
}

static void megabyte_with_corruption_is_byte_exact(void **state)
{
    (void)state;
    struct ust_link_params p = {
        .delay_ns = 3 * TMS, .loss = 0.01, .corrupt = 0.02, .rate_bps = 100000000,
    };
    transfer(sim_test_seed(13), &p, true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(megabyte_both_ways_clean_link_is_byte_exact),
        cmocka_unit_test(megabyte_both_ways_5pct_loss_reorder_dup_is_byte_exact),
        cmocka_unit_test(megabyte_with_corruption_is_byte_exact),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
