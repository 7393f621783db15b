/* Congestion control algorithms through their ops table, white-box on a
 * bare connection block with a controlled clock: NewReno's slow start and
 * one MSS per window in congestion avoidance (RFC 5681), CUBIC's decrease
 * to 0.7 W and its cubic climb back to W_max after K seconds (RFC 9438),
 * and TCP_CONGESTION selecting between them. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <netinet/tcp.h>

#include <ustack/ustack.h>

#include "core/util.h"
#include "stack/stack_impl.h"
#include "tcp/tcp.h"

#define MSS 1000u

static struct ust_tcb *bare(struct ust_stack *s, const struct ust_tcp_cc_ops *cc)
{
    struct ust_tcb *t = ust_tcb_new(s, NULL);
    assert_non_null(t);
    t->mss = MSS;
    t->cc = cc;
    t->srtt_us = 100000;        /* 100 ms */
    cc->init(t);
    return t;
}

static void newreno_slow_start_then_one_mss_per_window(void **state)
{
    (void)state;
    struct ust_stack *s = ust_stack_new(NULL);
    struct ust_tcb *t = bare(s, &ust_tcp_cc_newreno);
    assert_int_equal(t->cwnd, 10 * MSS);    /* RFC 6928 IW10 (mss 1000: 14600 cap) */
    t->cc->cong_avoid(t, MSS);
    assert_int_equal(t->cwnd, 11 * MSS);
    t->snd_una = 0;
    t->snd_max = 20 * MSS;
    t->ssthresh = t->cc->ssthresh(t);
    assert_int_equal(t->ssthresh, 10 * MSS);    /* FlightSize / 2 */
    t->cwnd = t->ssthresh;
    for (int i = 0; i < 10; i++)
        t->cc->cong_avoid(t, MSS);              /* one window acknowledged */
    assert_int_equal(t->cwnd, 11 * MSS);
    ust_tcb_free(t);
    ust_stack_free(s);
}

static void cubic_decreases_by_beta_and_climbs_back_in_k_seconds(void **state)
{
    (void)state;
    struct ust_stack *s = ust_stack_new(NULL);
    struct ust_tcb *t = bare(s, &ust_tcp_cc_cubic);
    t->cwnd = 100 * MSS;
    t->ssthresh = t->cc->ssthresh(t);
    assert_int_equal(t->ssthresh, 70 * MSS);   /* beta = 0.7 */
    t->cwnd = t->ssthresh;
    /* K = cbrt(W_max (1 - beta) / C) = cbrt(100 * 0.3 / 0.4) = 4.2 s. */
    uint64_t t0 = 1000 * UST_NSEC_PER_SEC;
    s->now = t0;
    uint32_t at1 = 0, at4 = 0;
    for (int ms = 0; ms <= 6000; ms += 10) {
        s->now = t0 + (uint64_t)ms * UST_NSEC_PER_MSEC;
        for (int k = 0; k < 10; k++)
            t->cc->cong_avoid(t, MSS);
        if (ms == 1000)
            at1 = t->cwnd;
        if (ms == 4000)
            at4 = t->cwnd;
    }
    /* Concave: most of the way back after 1 s, near W_max around K, then
     * beyond it. */
    assert_true(at1 > 80 * MSS && at1 < 100 * MSS);
    assert_true(at4 > 97 * MSS && at4 <= 101 * MSS);
    assert_true(t->cwnd > 101 * MSS);
    ust_tcb_free(t);
    ust_stack_free(s);
}

static void tcp_congestion_option_selects_algorithm(void **state)
{
    (void)state;
    struct ust_stack *s = ust_stack_new(NULL);
    int fd = ust_socket(s, AF_INET, SOCK_STREAM, 0);
    char name[16];
    socklen_t len = sizeof(name);
    assert_int_equal(ust_getsockopt(s, fd, IPPROTO_TCP, TCP_CONGESTION, name, &len), 0);
    assert_string_equal(name, "cubic");
    assert_int_equal(ust_setsockopt(s, fd, IPPROTO_TCP, TCP_CONGESTION, "reno", 4), 0);
    len = sizeof(name);
    assert_int_equal(ust_getsockopt(s, fd, IPPROTO_TCP, TCP_CONGESTION, name, &len), 0);
    assert_string_equal(name, "reno");
    /* An empty name is EINVAL, a NULL one EFAULT, as Linux (found by
     * fuzz_sock_api: a NULL pointer reached memcpy). */
    assert_int_equal(ust_setsockopt(s, fd, IPPROTO_TCP, TCP_CONGESTION, NULL, 0), -1);
    assert_int_equal(errno, EINVAL);
    assert_int_equal(ust_setsockopt(s, fd, IPPROTO_TCP, TCP_CONGESTION, NULL, 4), -1);
    assert_int_equal(errno, EFAULT);
    assert_int_equal(ust_setsockopt(s, fd, IPPROTO_TCP, TCP_CONGESTION, "bbr9", 4), -1);
    assert_int_equal(errno, ENOENT);
    ust_close(s, fd);
    ust_stack_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(newreno_slow_start_then_one_mss_per_window),
        cmocka_unit_test(cubic_decreases_by_beta_and_climbs_back_in_k_seconds),
        cmocka_unit_test(tcp_congestion_option_selects_algorithm),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
