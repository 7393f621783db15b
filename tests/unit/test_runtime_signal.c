/* The runtime's sleeping and waking (runtime/wait.c) and signals, for the
 * calls outside ipc/ (signal(7), "Interruption of system calls and library
 * functions by signal handlers"):
 *  - poll and epoll_wait fail with EINTR when a handler runs, even with
 *    SA_RESTART (never restarted);
 *  - a blocking UDP recvfrom is restarted with SA_RESTART and fails with
 *    EINTR without it; with SO_RCVTIMEO set it fails with EINTR even with
 *    SA_RESTART (sock_intr_errno);
 *  - a wake of more sleepers than the deferred-wake batch (their FUTEX_WAKEs
 *    are made after the lock is released) wakes every one of them;
 *  - the default spin before sleeping is 10 us, and 0 (sleep at once)
 *    still blocks and wakes correctly.
 * Blocked calls run in their own threads; the test waits until they are
 * asleep in the kernel, then pthread_kill(SIGUSR1)s them
 * (eintr_test_util.h). No sleeps, no timing assertions. */
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/time.h>
#include <cmocka.h>

#include "unit/eintr_test_util.h"
#include "unit/sock_test_util.h"

static long do_poll_forever(struct et_call *c)
{
    struct pollfd p = { .fd = c->fd, .events = POLLIN };
    return ust_poll(c->s, &p, 1, -1);
}

static long do_epoll_forever(struct et_call *c)
{
    struct epoll_event ev;
    return ust_epoll_wait(c->s, c->fd, &ev, 1, -1);
}

static long do_recvfrom(struct et_call *c)
{
    return ust_recvfrom(c->s, c->fd, c->arg, 64, 0, NULL, NULL);
}

static void poll_interrupted(bool restart)
{
    et_catch_sigusr1(restart);
    struct ust_stack *s = et_started_stack();
    int p[2];
    assert_int_equal(ust_pipe(s, p), 0);
    struct et_call c = { .s = s, .fn = do_poll_forever, .fd = p[0] };
    et_start(&c);
    et_interrupt_until_done(&c);
    assert_int_equal(c.ret, -1);
    assert_int_equal(c.err, EINTR);
    assert_true(atomic_load(&et_handled) >= 1);
    ust_close(s, p[0]);
    ust_close(s, p[1]);
    ust_stack_free(s);
    et_default_sigusr1();
}

static void test_poll_fails_with_eintr_without_sa_restart(void **state)
{
    (void)state;
    poll_interrupted(false);
}

static void test_poll_not_restarted_even_with_sa_restart(void **state)
{
    (void)state;
    poll_interrupted(true);
}

static void test_epoll_wait_not_restarted_even_with_sa_restart(void **state)
{
    (void)state;
    et_catch_sigusr1(true);
    struct ust_stack *s = et_started_stack();
    int p[2];
    assert_int_equal(ust_pipe(s, p), 0);
    int ep = ust_epoll_create1(s, 0);
    assert_true(ep >= 0);
    struct epoll_event ev = { .events = EPOLLIN, .data.fd = p[0] };
    assert_int_equal(ust_epoll_ctl(s, ep, EPOLL_CTL_ADD, p[0], &ev), 0);
    struct et_call c = { .s = s, .fn = do_epoll_forever, .fd = ep };
    et_start(&c);
    et_interrupt_until_done(&c);
    assert_int_equal(c.ret, -1);
    assert_int_equal(c.err, EINTR);
    /* The watch survives: the next wait sees the data. */
    assert_int_equal(ust_write(s, p[1], "e", 1), 1);
    assert_int_equal(ust_epoll_wait(s, ep, &ev, 1, 0), 1);
    assert_int_equal(ev.data.fd, p[0]);
    ust_close(s, ep);
    ust_close(s, p[0]);
    ust_close(s, p[1]);
    ust_stack_free(s);
    et_default_sigusr1();
}

/* A UDP socket bound on loopback, with SO_RCVTIMEO set when timeo_s > 0. */
static int udp_rx(struct ust_stack *s, uint16_t port, long timeo_s)
{
    int fd = st_udp_bound(s, ST_LO, port);
    if (timeo_s > 0) {
        struct timeval tv = { .tv_sec = timeo_s };
        assert_int_equal(ust_setsockopt(s, fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
    }
    return fd;
}

static void test_udp_recvfrom_fails_with_eintr_without_sa_restart(void **state)
{
    (void)state;
    et_catch_sigusr1(false);
    struct ust_stack *s = et_started_stack();
    int rx = udp_rx(s, 7000, 0);
    char buf[64];
    struct et_call c = { .s = s, .fn = do_recvfrom, .arg = buf, .fd = rx };
    et_start(&c);
    et_interrupt_until_done(&c);
    assert_int_equal(c.ret, -1);
    assert_int_equal(c.err, EINTR);
    ust_close(s, rx);
    ust_stack_free(s);
    et_default_sigusr1();
}

static void test_udp_recvfrom_is_restarted_with_sa_restart(void **state)
{
    (void)state;
    et_catch_sigusr1(true);
    struct ust_stack *s = et_started_stack();
    int rx = udp_rx(s, 7001, 0);
    int tx = st_udp_bound(s, ST_LO, 7002);
    char buf[64] = { 0 };
    struct et_call c = { .s = s, .fn = do_recvfrom, .arg = buf, .fd = rx };
    et_start(&c);
    et_wait_asleep(&c);
    et_interrupt(&c);
    et_wait_asleep(&c);
    assert_false(atomic_load(&c.done));
    assert_int_equal(st_sendto(s, tx, "dgram", 6, ST_LO, 7001), 6);
    et_join(&c);
    assert_int_equal(c.ret, 6);
    assert_string_equal(buf, "dgram");
    assert_int_equal(atomic_load(&et_handled), 1);
    ust_close(s, rx);
    ust_close(s, tx);
    ust_stack_free(s);
    et_default_sigusr1();
}

static void test_udp_recvfrom_with_rcvtimeo_fails_with_eintr_even_with_sa_restart(void **state)
{
    (void)state;
    et_catch_sigusr1(true);
    struct ust_stack *s = et_started_stack();
    int rx = udp_rx(s, 7003, 3600);
    char buf[64];
    struct et_call c = { .s = s, .fn = do_recvfrom, .arg = buf, .fd = rx };
    et_start(&c);
    et_interrupt_until_done(&c);
    assert_int_equal(c.ret, -1);
    assert_int_equal(c.err, EINTR);
    ust_close(s, rx);
    ust_stack_free(s);
    et_default_sigusr1();
}

#define MANY 24     /* more than UST_RT_DEFERRED_WAKES */

static void test_one_wake_of_more_sleepers_than_the_deferred_batch_wakes_them_all(void **state)
{
    (void)state;
    assert_true(MANY > UST_RT_DEFERRED_WAKES);
    struct ust_stack *s = et_started_stack();
    int p[2];
    assert_int_equal(ust_pipe(s, p), 0);
    struct et_call c[MANY];
    for (int i = 0; i < MANY; i++) {
        c[i] = (struct et_call){ .s = s, .fn = do_poll_forever, .fd = p[0] };
        et_start(&c[i]);
    }
    struct timespec limit = et_limit();
    while (et_kernel_sleepers(s) < MANY) {
        et_check_limit(&limit, "the pollers never all went to sleep");
        sched_yield();
    }
    assert_int_equal(ust_write(s, p[1], "w", 1), 1);
    for (int i = 0; i < MANY; i++) {
        et_join(&c[i]);
        assert_int_equal(c[i].ret, 1);
    }
    ust_close(s, p[0]);
    ust_close(s, p[1]);
    ust_stack_free(s);
}

static void test_default_spin_is_10us_and_0_sleeps_at_once(void **state)
{
    (void)state;
    struct ust_stack_config cfg;
    ust_stack_config_init(&cfg);
    assert_int_equal(cfg.wait_spin_ns, 10 * UST_NSEC_PER_USEC);
    cfg.wait_spin_ns = 0;
    cfg.seed = 42;
    struct ust_stack *s = ust_stack_new(&cfg);
    assert_non_null(s);
    assert_int_equal(s->rt.spin_ns, 0);
    assert_int_equal(ust_stack_start(s), 0);
    int p[2];
    assert_int_equal(ust_pipe(s, p), 0);
    char got = 0;
    struct et_call c = { .s = s, .fn = do_poll_forever, .arg = &got, .fd = p[0] };
    et_start(&c);
    et_wait_asleep(&c);
    assert_int_equal(ust_write(s, p[1], "0", 1), 1);
    et_join(&c);
    assert_int_equal(c.ret, 1);
    ust_close(s, p[0]);
    ust_close(s, p[1]);
    ust_stack_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_poll_fails_with_eintr_without_sa_restart),
        cmocka_unit_test(test_poll_not_restarted_even_with_sa_restart),
        cmocka_unit_test(test_epoll_wait_not_restarted_even_with_sa_restart),
        cmocka_unit_test(test_udp_recvfrom_fails_with_eintr_without_sa_restart),
        cmocka_unit_test(test_udp_recvfrom_is_restarted_with_sa_restart),
        cmocka_unit_test(test_udp_recvfrom_with_rcvtimeo_fails_with_eintr_even_with_sa_restart),
        cmocka_unit_test(test_one_wake_of_more_sleepers_than_the_deferred_batch_wakes_them_all),
        cmocka_unit_test(test_default_spin_is_10us_and_0_sleeps_at_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
