/* The descriptor table and the calls on any descriptor: new descriptors take
 * the lowest free number (POSIX), F_DUPFD shares the file (status flags are
 * the file's, FD_CLOEXEC the descriptor's) and the file lives until its last
 * descriptor closes; fcntl and ioctl (FIONBIO, FIOCLEX, FIONREAD) set and
 * report what they should; unknown commands fail as on Linux. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <cmocka.h>

#include "fd/fd.h"
#include "runtime/runtime.h"
#include "unit/sock_test_util.h"

static void test_lowest_free_descriptor_is_reused(void **state)
{
    (void)state;
    struct ust_stack *s = st_stack();
    for (int i = 0; i < 6; i++)
        assert_int_equal(st_udp(s), i);
    assert_int_equal(ust_close(s, 4), 0);
    assert_int_equal(ust_close(s, 1), 0);
    assert_int_equal(ust_close(s, 2), 0);
    assert_int_equal(st_udp(s), 1);
    assert_int_equal(st_udp(s), 2);
    assert_int_equal(st_udp(s), 4);
    assert_int_equal(st_udp(s), 6);
    st_free(s);
}

static void test_dupfd_shares_file_until_last_close(void **state)
{
    (void)state;
    struct ust_stack *s = st_stack();
    int rx = st_udp_bound(s, ST_LO, 5000);        /* 0 */
    int other = st_udp(s);                         /* 1 */
    int dup = ust_fcntl(s, rx, F_DUPFD, 0);
    assert_int_equal(dup, 2);
    assert_int_equal(ust_fcntl(s, rx, F_DUPFD, 10), 10);
    int cx = ust_fcntl(s, rx, F_DUPFD_CLOEXEC, 5);
    assert_int_equal(cx, 5);
    assert_int_equal(ust_fcntl(s, cx, F_GETFD), FD_CLOEXEC);
    assert_int_equal(ust_fcntl(s, dup, F_GETFD), 0);
    st_fails(ust_fcntl(s, rx, F_DUPFD, -1), EINVAL);
    st_fails(ust_fcntl(s, rx, F_DUPFD, 1024), EINVAL);

    /* Status flags belong to the file: set through one, seen through all. */
    assert_int_equal(ust_fcntl(s, dup, F_SETFL, O_NONBLOCK), 0);
    assert_int_equal(ust_fcntl(s, rx, F_GETFL), O_RDWR | O_NONBLOCK);

    /* Closing the original keeps the socket (and its port) alive. */
    assert_int_equal(ust_close(s, rx), 0);
    assert_int_equal(st_port(s, dup), 5000);
    assert_int_equal(st_sendto(s, other, "hi", 2, ST_LO, 5000), 2);
    st_pump(s);
    char b[4];
    assert_int_equal(ust_recv(s, cx, b, sizeof(b), 0), 2);
    assert_int_equal(ust_close(s, dup), 0);
    assert_int_equal(ust_close(s, 10), 0);
    assert_int_equal(ust_close(s, cx), 0);
    /* Last one closed: the port is free. */
    int again = st_udp_bound(s, ST_LO, 5000);
    assert_int_equal(again, 0);
    st_free(s);
}

static void test_fcntl_flags(void **state)
{
    (void)state;
    struct ust_stack *s = st_stack();
    int fd = st_udp(s);
    assert_int_equal(ust_fcntl(s, fd, F_GETFL), O_RDWR);
    assert_int_equal(ust_fcntl(s, fd, F_SETFL, O_NONBLOCK | O_WRONLY | O_CREAT), 0);
    assert_int_equal(ust_fcntl(s, fd, F_GETFL), O_RDWR | O_NONBLOCK);   /* only O_NONBLOCK changes */
    assert_int_equal(ust_fcntl(s, fd, F_SETFL, 0), 0);
    assert_int_equal(ust_fcntl(s, fd, F_GETFL), O_RDWR);
    assert_int_equal(ust_fcntl(s, fd, F_SETFD, FD_CLOEXEC | 0x10), 0);
    assert_int_equal(ust_fcntl(s, fd, F_GETFD), FD_CLOEXEC);
    assert_int_equal(ust_fcntl(s, fd, F_SETFD, 0), 0);
    assert_int_equal(ust_fcntl(s, fd, F_GETFD), 0);
    st_fails(ust_fcntl(s, fd, F_GETLK), EINVAL);
    st_free(s);
}

static void test_ioctl_fionbio_fioclex_fionread(void **state)
{
    (void)state;
    struct ust_stack *s = st_stack();
    int rx = st_udp_bound(s, ST_LO, 5000);
    int tx = st_udp(s);
    int on = 1, off = 0, n = -1;
    assert_int_equal(ust_ioctl(s, rx, FIONBIO, &on), 0);
    assert_int_equal(ust_fcntl(s, rx, F_GETFL), O_RDWR | O_NONBLOCK);
    assert_int_equal(ust_ioctl(s, rx, FIONBIO, &off), 0);
    assert_int_equal(ust_fcntl(s, rx, F_GETFL), O_RDWR);
    st_fails(ust_ioctl(s, rx, FIONBIO, NULL), EFAULT);
    assert_int_equal(ust_ioctl(s, rx, FIOCLEX, NULL), 0);
    assert_int_equal(ust_fcntl(s, rx, F_GETFD), FD_CLOEXEC);
    assert_int_equal(ust_ioctl(s, rx, FIONCLEX, NULL), 0);
    assert_int_equal(ust_fcntl(s, rx, F_GETFD), 0);

    /* FIONREAD: the size of the next datagram, not the sum. */
    assert_int_equal(ust_ioctl(s, rx, FIONREAD, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(st_sendto(s, tx, "12345", 5, ST_LO, 5000), 5);
    assert_int_equal(st_sendto(s, tx, "123", 3, ST_LO, 5000), 3);
    st_pump(s);
    assert_int_equal(ust_ioctl(s, rx, FIONREAD, &n), 0);
    assert_int_equal(n, 5);
    char b[8];
    assert_int_equal(ust_recv(s, rx, b, sizeof(b), 0), 5);
    assert_int_equal(ust_ioctl(s, rx, FIONREAD, &n), 0);
    assert_int_equal(n, 3);
    assert_int_equal(ust_ioctl(s, rx, TIOCOUTQ, &n), 0);    /* SIOCOUTQ */
    assert_int_equal(n, 0);
    st_fails(ust_ioctl(s, rx, TCGETS, &n), ENOTTY);
    st_free(s);
}

/* ---- The generic blocking helper, with a file type of the test's own -- */

struct counter_file {
    int tries;
    int ready_after;     /* tries that return -EAGAIN before success */
};

static ssize_t counter_try(struct ust_file *f, void *arg)
{
    struct counter_file *c = f->priv;
    (void)arg;
    return ++c->tries > c->ready_after ? 7 : -EAGAIN;
}

static void test_wait_io_never_sleeps_without_stack_thread(void **state)
{
    (void)state;
    struct ust_stack *s = st_stack();
    static const struct ust_file_ops ops = { .name = "counter" };
    struct counter_file c = { 0, 1 };
    ust_rt_lock(s);
    struct ust_file *f = ust_file_new(s, &ops, &c, O_RDWR);
    assert_non_null(f);
    /* Blocking descriptor, but nothing could wake a sleeper: one try. */
    assert_int_equal(ust_file_wait_io(f, POLLIN, false, UST_TIMEO_FOREVER, counter_try, NULL),
                     -EAGAIN);
    assert_int_equal(c.tries, 1);
    assert_int_equal(ust_file_wait_io(f, POLLIN, false, UST_TIMEO_FOREVER, counter_try, NULL), 7);
    assert_int_equal(c.tries, 2);
    assert_int_equal(f->refcnt, 1);
    ust_file_put(f);
    ust_rt_unlock(s);
    st_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lowest_free_descriptor_is_reused),
        cmocka_unit_test(test_dupfd_shares_file_until_last_close),
        cmocka_unit_test(test_fcntl_flags),
        cmocka_unit_test(test_ioctl_fionbio_fioclex_fionread),
        cmocka_unit_test(test_wait_io_never_sleeps_without_stack_thread),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
