/* ust_poll without a stack thread: readiness agrees with what the next
 * call does (POLLIN exactly when a receive would not say EAGAIN, POLLOUT
 * always for UDP, POLLERR with a pending error that the next call reports),
 * revents holds only requested events plus POLLERR/POLLHUP/POLLNVAL,
 * negative descriptors are skipped, bad ones get POLLNVAL, the count is the
 * number of descriptors with events, and a timeout cannot make it wait
 * (nothing could wake it). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "unit/sock_test_util.h"

static short poll_one(struct ust_stack *s, int fd, short events)
{
    struct pollfd p = { .fd = fd, .events = events, .revents = (short)0xffff };
    int n = ust_poll(s, &p, 1, 0);
    assert_true(n == 0 || n == 1);
    assert_int_equal(n, p.revents != 0);
    return p.revents;
}

static void test_pollin_agrees_with_recv(void **state)
{
    (void)state;
    struct ust_stack *s = st_stack();
    int rx = st_udp_bound(s, ST_LO, 5000);
    int tx = st_udp(s);
    char b[8];
    assert_int_equal(poll_one(s, rx, POLLIN), 0);
    st_fails(ust_recv(s, rx, b, sizeof(b), 0), EAGAIN);

    assert_int_equal(st_sendto(s, tx, "a", 1, ST_LO, 5000), 1);
    assert_int_equal(poll_one(s, rx, POLLIN), 0);      /* still on the loopback queue */
    st_pump(s);
    assert_int_equal(poll_one(s, rx, POLLIN | POLLRDNORM), POLLIN | POLLRDNORM);
    assert_int_equal(ust_recv(s, rx, b, sizeof(b), 0), 1);
    assert_int_equal(poll_one(s, rx, POLLIN), 0);
    st_fails(ust_recv(s, rx, b, sizeof(b), 0), EAGAIN);

    /* An empty datagram is readable too. */
    assert_int_equal(st_sendto(s, tx, "", 0, ST_LO, 5000), 0);
    st_pump(s);
    assert_int_equal(poll_one(s, rx, POLLIN), POLLIN);
    assert_int_equal(ust_recv(s, rx, b, sizeof(b), 0), 0);
    assert_int_equal(poll_one(s, rx, POLLIN), 0);
    st_free(s);
}

static void test_pollout_always_and_only_requested_events(void **state)
{
    (void)state;
    struct ust_stack *s = st_stack();
    int rx = st_udp_bound(s, ST_LO, 5000);
    int tx = st_udp(s);
    assert_int_equal(poll_one(s, tx, POLLOUT), POLLOUT);
    assert_int_equal(poll_one(s, tx, POLLOUT | POLLWRNORM), POLLOUT | POLLWRNORM);
    assert_int_equal(st_sendto(s, tx, "a", 1, ST_LO, 5000), 1);
    st_pump(s);
    /* Readable and writable, but only what was asked for is reported. */
    assert_int_equal(poll_one(s, rx, POLLOUT), POLLOUT);
    assert_int_equal(poll_one(s, rx, POLLIN), POLLIN);
    assert_int_equal(poll_one(s, rx, POLLIN | POLLOUT), POLLIN | POLLOUT);
    assert_int_equal(poll_one(s, rx, 0), 0);
    st_free(s);
}

static void test_pollerr_reported_unasked_then_cleared_by_the_call(void **state)
{
    (void)state;
    struct ust_stack *s = st_stack();
    int fd = st_udp(s);
    struct sockaddr_in closed = st_sin(ST_LO, 7777);
    assert_int_equal(ust_connect(s, fd, ST_SA(&closed), sizeof(closed)), 0);
    assert_int_equal(ust_send(s, fd, "x", 1, 0), 1);
    st_pump(s);
    assert_int_equal(poll_one(s, fd, POLLIN), POLLERR);
    assert_int_equal(poll_one(s, fd, 0), POLLERR);
    char b[4];
    st_fails(ust_recv(s, fd, b, sizeof(b), 0), ECONNREFUSED);
    assert_int_equal(poll_one(s, fd, POLLIN), 0);
    st_free(s);
}

static void test_many_descriptors_nval_negative_and_count(void **state)
{
    (void)state;
    struct ust_stack *s = st_stack();
    int a = st_udp_bound(s, ST_LO, 5000);
    int b = st_udp_bound(s, ST_LO, 5001);
    int tx = st_udp(s);
    assert_int_equal(st_sendto(s, tx, "x", 1, ST_LO, 5001), 1);
    st_pump(s);
    struct pollfd p[5] = {
        { .fd = a, .events = POLLIN },
        { .fd = b, .events = POLLIN },
        { .fd = -1, .events = POLLIN, .revents = 0x7 },
        { .fd = 77, .events = POLLIN },      /* not open */
        { .fd = tx, .events = POLLIN | POLLOUT },
    };
    assert_int_equal(ust_poll(s, p, 5, 0), 3);
    assert_int_equal(p[0].revents, 0);
    assert_int_equal(p[1].revents, POLLIN);
    assert_int_equal(p[2].revents, 0);      /* negative: ignored, revents cleared */
    assert_int_equal(p[3].revents, POLLNVAL);
    assert_int_equal(p[4].revents, POLLOUT);

    /* Without a stack thread a timeout does not make it wait: -1 returns
     * at once with what is ready (here nothing). */
    struct pollfd q = { .fd = a, .events = POLLIN };
    assert_int_equal(ust_poll(s, &q, 1, -1), 0);
    assert_int_equal(ust_poll(s, &q, 1, 1000), 0);
    assert_int_equal(ust_poll(s, NULL, 0, -1), 0);
    st_fails(ust_poll(s, NULL, 1, 0), EFAULT);
    st_fails(ust_poll(s, &q, 1025, 0), EINVAL);        /* more than max_fds */
    st_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pollin_agrees_with_recv),
        cmocka_unit_test(test_pollout_always_and_only_requested_events),
        cmocka_unit_test(test_pollerr_reported_unasked_then_cleared_by_the_call),
        cmocka_unit_test(test_many_descriptors_nval_negative_and_count),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
