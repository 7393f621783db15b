/* The sender's loss recovery under random loss, on the simulator (virtual
 * time, fixed seeds): 4 MB from A to B over a 5 ms link that loses 3 % of
 * frames and reorders 10 % in both directions, the conditions of
 * tests/integration/test_tcp_tap_impaired.sh. Proves, for each seed: the
 * bytes arrive intact; the losses are repaired by SACK recovery (RFC 6675)
 * and not by the retransmission timer (at most one timeout per run; before
 * the lost-retransmission detection, the rescue retransmission and the
 * tail loss probe there were about ten); some recoveries met a lost
 * retransmission and repaired it; and the transfer keeps a rate near what
 * 3 % loss allows (above 0.6 MB/s of virtual time; Mathis et al. give
 * about 1 MB/s for a 10 ms round trip). Also the regression guard of
 * bench/tap_impaired.sh's numbers without a TAP device.
 * USTACK_RECOVERY_MB=<n> changes the size and prints the counters. */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "unit/sim_test_util.h"
#include "unit/tcp_test_util.h"

static uint8_t pat(uint64_t off)
{
    return (uint8_t)((off * 2654435761u) >> 13);
}

struct result {
    double mbps;
    uint64_t rto, recoveries, lost_rtx;
};

static struct result lossy_transfer(uint64_t seed, uint64_t total)
{
    struct ust_link_params p = { .delay_ns = 5 * TMS, .loss = 0.03, .reorder = 0.10 };
    struct tnet n;
    tnet_setup(&n, seed, NULL);
    int lfd = tlisten(&n, 80, 4);
    int afd;
    int bfd = tconnect_pair(&n, lfd, 80, &afd);
    ust_sim_link_set_params(n.link, 0, &p);
    ust_sim_link_set_params(n.link, 1, &p);
    uint64_t sent = 0, rcvd = 0, t0 = ust_sim_now(n.sim);
    static uint8_t buf[65536];
    while (rcvd < total && ust_sim_now(n.sim) - t0 < 600 * TSEC) {
        while (sent < total) {
            size_t len = total - sent < sizeof(buf) ? (size_t)(total - sent) : sizeof(buf);
            for (size_t i = 0; i < len; i++)
                buf[i] = pat(sent + i);
            ssize_t k = ust_send(n.a, afd, buf, len, 0);
            if (k < 0) {
                SIM_ASSERT_EQ(seed, errno, EAGAIN);
                break;
            }
            sent += (uint64_t)k;
        }
        for (;;) {
            ssize_t k = ust_recv(n.b, bfd, buf, sizeof(buf), 0);
            if (k < 0) {
                SIM_ASSERT_EQ(seed, errno, EAGAIN);
                break;
            }
            for (ssize_t i = 0; i < k; i++)
                if (buf[i] != pat(rcvd + (uint64_t)i))
                    fail_msg("byte %" PRIu64 " differs (seed=%" PRIu64 ")", rcvd + (uint64_t)i,
                             seed);
            rcvd += (uint64_t)k;
        }
        tnet_run(&n, 1 * TMS);
    }
    SIM_ASSERT_EQ(seed, rcvd, total);
    struct result r = {
        .mbps = (double)total / ((double)(ust_sim_now(n.sim) - t0) / 1e9) / 1e6,
        .rto = ust_stat_get(n.a, UST_STAT_TCP_TCPTimeouts),
        .recoveries = ust_stat_get(n.a, UST_STAT_TCP_TCPSackRecovery),
        .lost_rtx = ust_stat_get(n.a, UST_STAT_TCP_TCPLostRetransmit),
    };
    if (getenv("USTACK_RECOVERY_MB"))
        print_message("seed %" PRIu64 ": %.3f MB/s, %" PRIu64 " timeouts, %" PRIu64
                      " SACK recoveries, %" PRIu64 " lost retransmissions, %" PRIu64
                      " probes, %" PRIu64 " undone, %" PRIu64 " retransmitted segments\n",
                      seed, r.mbps, r.rto, r.recoveries, r.lost_rtx,
                      ust_stat_get(n.a, UST_STAT_TCP_TCPLossProbes),
                      ust_stat_get(n.a, UST_STAT_TCP_TCPFullUndo),
                      ust_stat_get(n.a, UST_STAT_TCP_RetransSegs));
    ust_sim_free(n.sim);
    return r;
}

static void sack_recovery_repairs_3pct_loss_without_timeouts(void **state)
{
    (void)state;
    const char *env = getenv("USTACK_RECOVERY_MB");
    uint64_t total = (env ? strtoull(env, NULL, 0) : 4) << 20;
    static const uint64_t seeds[] = { 42, 4242, 0x6675 };
    uint64_t lost_rtx = 0;
    for (unsigned i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
        struct result r = lossy_transfer(seeds[i], total);
        SIM_ASSERT(seeds[i], r.rto <= 1);
        SIM_ASSERT(seeds[i], r.recoveries >= 20);
        SIM_ASSERT(seeds[i], r.mbps > 0.6);
        lost_rtx += r.lost_rtx;
    }
    assert_true(lost_rtx > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sack_recovery_repairs_3pct_loss_without_timeouts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
