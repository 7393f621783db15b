/* epoll with the stack thread running: an ust_epoll_wait asleep is woken by
 * a pipe write from another thread, by a UDP datagram the stack thread
 * delivers over loopback, and by a writer closing (EPOLLHUP); a timeout
 * returns 0; ust_poll asleep on the epoll fd is woken too; a watched
 * descriptor closed while epoll_wait sleeps leaves it asleep and valid; an
 * outer epoll is woken through an inner one. No
 * sleeps, bounded waits, no durations asserted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "unit/pipe_test_util.h"
#include "unit/sock_test_util.h"

struct waiter {
    struct ust_stack *s;
    int ep;
    int timeout;
    int ret;
    struct epoll_event ev[4];
};

static void *wait_thread(void *arg)
{
    struct waiter *w = arg;
    w->ret = ust_epoll_wait(w->s, w->ep, w->ev, 4, w->timeout);
    return NULL;
}

static int ep_add(struct ust_stack *s, int ep, int fd, uint32_t events, uint64_t tag)
{
    struct epoll_event ev = { .events = events, .data.u64 = tag };
    return ust_epoll_ctl(s, ep, EPOLL_CTL_ADD, fd, &ev);
}

static void test_epoll_wait_woken_by_pipe_write_from_another_thread(void **state)
{
    (void)state;
    struct ust_stack *s = pt_started_stack();
    int ep = ust_epoll_create1(s, 0);
    int p[2];
    assert_int_equal(ust_pipe(s, p), 0);
    assert_int_equal(ep_add(s, ep, p[0], EPOLLIN | EPOLLET, 5), 0);
    struct waiter w = { .s = s, .ep = ep, .timeout = -1 };
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, wait_thread, &w), 0);
    pt_wait_asleep(s, 1);
    assert_int_equal(ust_write(s, p[1], "go", 2), 2);
    pt_join(t);
    assert_int_equal(w.ret, 1);
    assert_int_equal(w.ev[0].events, EPOLLIN);
    assert_int_equal(w.ev[0].data.u64, 5);
    ust_stack_free(s);
}

static void test_epoll_wait_woken_by_last_writer_close_with_hup(void **state)
{
    (void)state;
    struct ust_stack *s = pt_started_stack();
    int ep = ust_epoll_create1(s, 0);
    int p[2];
    assert_int_equal(ust_pipe(s, p), 0);
    assert_int_equal(ep_add(s, ep, p[0], EPOLLIN, 5), 0);
    struct waiter w = { .s = s, .ep = ep, .timeout = -1 };
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, wait_thread, &w), 0);
    pt_wait_asleep(s, 1);
    assert_int_equal(ust_close(s, p[1]), 0);
    pt_join(t);
    assert_int_equal(w.ret, 1);
    assert_int_equal(w.ev[0].events, EPOLLHUP);
    ust_stack_free(s);
}

static void test_epoll_wait_woken_by_udp_datagram_over_loopback(void **state)
{
    (void)state;
    struct ust_stack *s = pt_started_stack();
    int ep = ust_epoll_create1(s, 0);
    int rx = st_udp_bound(s, ST_LO, 7100);
    int tx = st_udp_bound(s, ST_LO, 7101);
    int p[2];
    assert_int_equal(ust_pipe(s, p), 0);
    assert_int_equal(ep_add(s, ep, p[0], EPOLLIN, 1), 0);
    assert_int_equal(ep_add(s, ep, rx, EPOLLIN, 2), 0);
    struct waiter w = { .s = s, .ep = ep, .timeout = -1 };
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, wait_thread, &w), 0);
    pt_wait_asleep(s, 1);
    assert_int_equal(st_sendto(s, tx, "dgram", 5, ST_LO, 7100), 5);
    pt_join(t);
    assert_int_equal(w.ret, 1);
    assert_int_equal(w.ev[0].data.u64, 2);
    assert_int_equal(w.ev[0].events, EPOLLIN);
    ust_stack_free(s);
}

static void test_epoll_wait_timeout_returns_zero(void **state)
{
    (void)state;
    struct ust_stack *s = pt_started_stack();
    int ep = ust_epoll_create1(s, 0);
    int p[2];
    assert_int_equal(ust_pipe(s, p), 0);
    assert_int_equal(ep_add(s, ep, p[0], EPOLLIN, 1), 0);
    struct epoll_event ev[2];
    assert_int_equal(ust_epoll_wait(s, ep, ev, 2, 5), 0);
    ust_stack_free(s);
}

struct poller {
    struct ust_stack *s;
    struct pollfd pfd;
    int ret;
};

static void *poll_thread(void *arg)
{
    struct poller *p = arg;
    p->ret = ust_poll(p->s, &p->pfd, 1, -1);
    return NULL;
}

static void test_ust_poll_on_epoll_fd_woken_by_watched_pipe(void **state)
{
    (void)state;
    struct ust_stack *s = pt_started_stack();
    int ep = ust_epoll_create1(s, 0);
    int p[2];
    assert_int_equal(ust_pipe(s, p), 0);
    assert_int_equal(ep_add(s, ep, p[0], EPOLLIN, 1), 0);
    struct poller pl = { .s = s, .pfd = { .fd = ep, .events = POLLIN } };
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, poll_thread, &pl), 0);
    pt_wait_asleep(s, 1);
    assert_int_equal(ust_write(s, p[1], "x", 1), 1);
    pt_join(t);
    assert_int_equal(pl.ret, 1);
    assert_int_equal(pl.pfd.revents, POLLIN);
    ust_stack_free(s);
}

/* A watched descriptor closed under a sleeping epoll_wait removes its
 * watch; the epoll stays asleep until another watched pipe is written. */
static void test_epoll_watched_fd_closed_while_waiting(void **state)
{
    (void)state;
    struct ust_stack *s = pt_started_stack();
    int ep = ust_epoll_create1(s, 0);
    int p[2], q[2];
    assert_int_equal(ust_pipe(s, p), 0);
    assert_int_equal(ust_pipe(s, q), 0);
    assert_int_equal(ep_add(s, ep, p[0], EPOLLIN, 1), 0);
    assert_int_equal(ep_add(s, ep, q[0], EPOLLIN, 2), 0);
    struct waiter w = { .s = s, .ep = ep, .timeout = -1 };
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, wait_thread, &w), 0);
    pt_wait_asleep(s, 1);
    assert_int_equal(ust_close(s, p[0]), 0);
    assert_int_equal(ust_close(s, p[1]), 0);
    assert_int_equal(pt_sleepers(s), 1);
    assert_int_equal(ust_write(s, q[1], "x", 1), 1);
    pt_join(t);
    assert_int_equal(w.ret, 1);
    assert_int_equal(w.ev[0].data.u64, 2);
    ust_stack_free(s);
}

/* A sleeping epoll_wait on an outer epoll is woken through an inner one. */
static void test_epoll_wait_on_outer_epoll_woken_through_inner_epoll(void **state)
{
    (void)state;
    struct ust_stack *s = pt_started_stack();
    int outer = ust_epoll_create1(s, 0), inner = ust_epoll_create1(s, 0);
    int p[2];
    assert_int_equal(ust_pipe(s, p), 0);
    assert_int_equal(ep_add(s, inner, p[0], EPOLLIN, 1), 0);
    assert_int_equal(ep_add(s, outer, inner, EPOLLIN, 2), 0);
    struct waiter w = { .s = s, .ep = outer, .timeout = -1 };
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, wait_thread, &w), 0);
    pt_wait_asleep(s, 1);
    assert_int_equal(ust_write(s, p[1], "x", 1), 1);
    pt_join(t);
    assert_int_equal(w.ret, 1);
    assert_int_equal(w.ev[0].data.u64, 2);
    assert_int_equal(w.ev[0].events, EPOLLIN);
    ust_stack_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_epoll_wait_woken_by_pipe_write_from_another_thread),
        cmocka_unit_test(test_epoll_wait_woken_by_last_writer_close_with_hup),
        cmocka_unit_test(test_epoll_wait_woken_by_udp_datagram_over_loopback),
        cmocka_unit_test(test_epoll_wait_timeout_returns_zero),
        cmocka_unit_test(test_ust_poll_on_epoll_fd_woken_by_watched_pipe),
        cmocka_unit_test(test_epoll_watched_fd_closed_while_waiting),
        cmocka_unit_test(test_epoll_wait_on_outer_epoll_woken_through_inner_epoll),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
