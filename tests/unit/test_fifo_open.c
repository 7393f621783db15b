/* Named FIFOs (mkfifo(3), fifo(7)): the namespace errors, the open rules
 * with and without O_NONBLOCK, EOF before any writer, POLLHUP only after a
 * writer was seen, LTP read03/write04 (EAGAIN on an empty / full FIFO), and
 * with the stack thread: blocking opens waiting for the other side. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "unit/ipc_dir_test_util.h"

#include "unit/pipe_test_util.h"

static void test_mkfifo_errors_eexist_enoent_enametoolong_enospc(void **state)
{
    (void)state;
    struct ust_stack_config c;
    ust_stack_config_init(&c);
    c.fifo_max = 2;
    struct ust_stack *s = pt_stack_cfg(&c);
    assert_int_equal(ust_mkfifo(s, "/tmp/a", 0600), 0);
    errno = 0;
    assert_int_equal(ust_mkfifo(s, "/tmp/a", 0600), -1);
    assert_int_equal(errno, EEXIST);
    errno = 0;
    assert_int_equal(ust_mkfifo(s, "", 0600), -1);
    assert_int_equal(errno, ENOENT);
    char comp[NAME_MAX + 3] = "/";
    memset(comp + 1, 'n', NAME_MAX + 1);
    errno = 0;
    assert_int_equal(ust_mkfifo(s, comp, 0600), -1);
    assert_int_equal(errno, ENAMETOOLONG);
    comp[NAME_MAX + 1] = 0;                    /* exactly NAME_MAX: fine */
    assert_int_equal(ust_mkfifo(s, comp, 0600), 0);
    errno = 0;
    assert_int_equal(ust_mkfifo(s, "/tmp/c", 0600), -1);
    assert_int_equal(errno, ENOSPC);
    errno = 0;
    assert_int_equal(ust_open(s, "/tmp/nope", O_RDONLY | O_NONBLOCK), -1);
    assert_int_equal(errno, ENOENT);
    errno = 0;
    assert_int_equal(ust_open(s, "/tmp/a", O_RDONLY | O_CREAT | O_EXCL), -1);
    assert_int_equal(errno, EEXIST);
    assert_int_equal(ust_unlink(s, "/tmp/a"), 0);
    errno = 0;
    assert_int_equal(ust_unlink(s, "/tmp/a"), -1);
    assert_int_equal(errno, ENOENT);
    assert_int_equal(ust_mkfifo(s, "/tmp/c", 0600), 0);     /* room again */
    ust_stack_free(s);
}

/* fifo(7) [probe]: O_WRONLY|O_NONBLOCK without a reader is ENXIO;
 * O_RDONLY|O_NONBLOCK succeeds and reads 0 (EOF, not EAGAIN) while no
 * writer ever came, and does not report POLLHUP. */
static void test_fifo_nonblock_open_enxio_and_eof_before_any_writer(void **state)
{
    (void)state;
    struct ust_stack *s = pt_stack();
    assert_int_equal(ust_mkfifo(s, "f", 0600), 0);
    errno = 0;
    assert_int_equal(ust_open(s, "f", O_WRONLY | O_NONBLOCK), -1);
    assert_int_equal(errno, ENXIO);
    int r = ust_open(s, "f", O_RDONLY | O_NONBLOCK);
    assert_true(r >= 0);
    char buf[8];
    assert_int_equal(ust_read(s, r, buf, sizeof(buf)), 0);
    assert_int_equal(pt_revents(s, r, POLLIN), 0);          /* no POLLHUP yet */
    int w = ust_open(s, "f", O_WRONLY | O_NONBLOCK);        /* a reader exists now */
    assert_true(w >= 0);
    /* read03: with a writer, an empty FIFO read is EAGAIN. */
    errno = 0;
    assert_int_equal(ust_read(s, r, buf, sizeof(buf)), -1);
    assert_int_equal(errno, EAGAIN);
    assert_int_equal(ust_write(s, w, "fifo", 4), 4);
    assert_int_equal(ust_read(s, r, buf, sizeof(buf)), 4);
    assert_memory_equal(buf, "fifo", 4);
    assert_int_equal(ust_close(s, w), 0);
    /* The writer came and went: now POLLHUP and EOF. */
    assert_int_equal(pt_revents(s, r, POLLIN), POLLHUP);
    assert_int_equal(ust_read(s, r, buf, sizeof(buf)), 0);
    ust_stack_free(s);
}

/* write04: a non-blocking write to a full FIFO is EAGAIN; O_RDWR opens at
 * once (Linux) and the data goes through the same pipe. */
static void test_fifo_write04_full_eagain_and_rdwr_opens_at_once(void **state)
{
    (void)state;
    struct ust_stack *s = pt_stack();
    assert_int_equal(ust_mkfifo(s, "f", 0600), 0);
    int rw = ust_open(s, "f", O_RDWR | O_NONBLOCK);
    assert_true(rw >= 0);
    int w = ust_open(s, "f", O_WRONLY | O_NONBLOCK);
    assert_true(w >= 0);
    static uint8_t big[65536];
    assert_int_equal(ust_write(s, w, big, sizeof(big)), 65536);
    errno = 0;
    assert_int_equal(ust_write(s, w, big, 1), -1);
    assert_int_equal(errno, EAGAIN);
    assert_int_equal(ust_fcntl(s, rw, F_GETPIPE_SZ), 65536);
    assert_int_equal(pt_revents(s, rw, POLLIN | POLLOUT), POLLIN);
    assert_int_equal(ust_read(s, rw, big, sizeof(big)), 65536);
    assert_int_equal(pt_revents(s, rw, POLLIN | POLLOUT), POLLOUT);
    ust_stack_free(s);
}

/* Every open of a name shares one pipe; when the last one closes the data
 * is gone (Linux frees the pipe), and unlink leaves opens working while a
 * new FIFO may take the name. */
static void test_fifo_unlink_while_open_and_data_gone_after_last_close(void **state)
{
    (void)state;
    struct ust_stack *s = pt_stack();
    assert_int_equal(ust_mkfifo(s, "f", 0600), 0);
    int r = ust_open(s, "f", O_RDONLY | O_NONBLOCK);
    int w = ust_open(s, "f", O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    assert_true(r >= 0 && w >= 0);
    assert_int_equal(ust_fcntl(s, w, F_GETFD), FD_CLOEXEC);
    assert_int_equal(ust_write(s, w, "old", 3), 3);
    assert_int_equal(ust_unlink(s, "f"), 0);
    assert_int_equal(ust_mkfifo(s, "f", 0600), 0);          /* a new FIFO */
    errno = 0;
    assert_int_equal(ust_open(s, "f", O_WRONLY | O_NONBLOCK), -1);  /* its own pipe: no reader */
    assert_int_equal(errno, ENXIO);
    char buf[8];
    assert_int_equal(ust_read(s, r, buf, sizeof(buf)), 3);  /* the old one still works */
    assert_int_equal(ust_write(s, w, "x", 1), 1);
    assert_int_equal(ust_close(s, r), 0);
    assert_int_equal(ust_close(s, w), 0);
    r = ust_open(s, "f", O_RDONLY | O_NONBLOCK);
    w = ust_open(s, "f", O_WRONLY | O_NONBLOCK);
    errno = 0;
    assert_int_equal(ust_read(s, r, buf, sizeof(buf)), -1);  /* nothing left over */
    assert_int_equal(errno, EAGAIN);
    ust_stack_free(s);
}

/* Without a stack thread a blocking open behaves as a non-blocking one.
 * Private FIFOs only (cfg.ipc_shared = 0): a shared FIFO's partner may be
 * another process, so there a blocking open blocks, thread or not
 * (test_xproc_fifo.c). */
static void test_fifo_blocking_open_without_thread_behaves_nonblocking(void **state)
{
    (void)state;
    struct ust_stack_config c;
    ust_stack_config_init(&c);
    c.raise_sigpipe = 0;
    c.ipc_shared = 0;
    struct ust_stack *s = pt_stack_cfg(&c);
    assert_int_equal(ust_mkfifo(s, "f", 0600), 0);
    errno = 0;
    assert_int_equal(ust_open(s, "f", O_WRONLY), -1);
    assert_int_equal(errno, ENXIO);
    int r = ust_open(s, "f", O_RDONLY);
    assert_true(r >= 0);
    assert_false(ust_fcntl(s, r, F_GETFL) & O_NONBLOCK);
    int w = ust_open(s, "f", O_WRONLY);
    assert_true(w >= 0);
    ust_stack_free(s);
}

struct opener {
    struct ust_stack *s;
    int flags;
    int fd;
    int err;
};

static void *open_thread(void *arg)
{
    struct opener *o = arg;
    errno = 0;
    o->fd = ust_open(o->s, "f", o->flags);
    o->err = errno;
    return NULL;
}

/* fifo(7): a blocking O_RDONLY open waits for a writer; a blocking
 * O_WRONLY open waits for a reader. */
static void test_fifo_blocking_open_waits_for_the_other_side(void **state)
{
    (void)state;
    struct ust_stack *s = pt_started_stack();
    assert_int_equal(ust_mkfifo(s, "f", 0600), 0);
    struct opener o = { s, O_RDONLY, -2, 0 };
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, open_thread, &o), 0);
    pt_wait_asleep(s, 1);
    int w = ust_open(s, "f", O_WRONLY);         /* a reader waits: no wait here */
    assert_true(w >= 0);
    pt_join(t);
    assert_true(o.fd >= 0);
    assert_int_equal(ust_write(s, w, "hi", 2), 2);
    char buf[4];
    assert_int_equal(ust_read(s, o.fd, buf, sizeof(buf)), 2);
    assert_int_equal(ust_close(s, w), 0);
    assert_int_equal(pt_revents(s, o.fd, POLLIN), POLLHUP);   /* it saw a writer */
    assert_int_equal(ust_close(s, o.fd), 0);

    o = (struct opener){ s, O_WRONLY, -2, 0 };
    assert_int_equal(pthread_create(&t, NULL, open_thread, &o), 0);
    pt_wait_asleep(s, 1);
    int r = ust_open(s, "f", O_RDONLY);
    assert_true(r >= 0);
    pt_join(t);
    assert_true(o.fd >= 0);
    ust_stack_free(s);
}

/* ust_stack_stop releases a blocked open as a non-blocking open would
 * end: O_RDONLY gets its descriptor (reads 0, no POLLHUP: no writer seen). */
static void test_fifo_blocked_rdonly_open_released_by_stack_stop(void **state)
{
    (void)state;
    struct ust_stack *s = pt_started_stack();
    assert_int_equal(ust_mkfifo(s, "f", 0600), 0);
    struct opener o = { s, O_RDONLY, -2, 0 };
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, open_thread, &o), 0);
    pt_wait_asleep(s, 1);
    assert_int_equal(ust_stack_stop(s), 0);
    pt_join(t);
    assert_true(o.fd >= 0);
    char c;
    assert_int_equal(ust_read(s, o.fd, &c, 1), 0);
    assert_int_equal(pt_revents(s, o.fd, POLLIN), 0);
    ust_stack_free(s);
}

/* ust_stack_stop releases a blocked open: O_WRONLY gives ENXIO (as a
 * non-blocking open would). */
static void test_fifo_blocked_open_released_by_stack_stop(void **state)
{
    (void)state;
    struct ust_stack *s = pt_started_stack();
    assert_int_equal(ust_mkfifo(s, "f", 0600), 0);
    struct opener o = { s, O_WRONLY, -2, 0 };
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, open_thread, &o), 0);
    pt_wait_asleep(s, 1);
    assert_int_equal(ust_stack_stop(s), 0);
    pt_join(t);
    assert_int_equal(o.fd, -1);
    assert_int_equal(o.err, ENXIO);
    ust_stack_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        ipc_dir_test(test_mkfifo_errors_eexist_enoent_enametoolong_enospc),
        ipc_dir_test(test_fifo_nonblock_open_enxio_and_eof_before_any_writer),
        ipc_dir_test(test_fifo_write04_full_eagain_and_rdwr_opens_at_once),
        ipc_dir_test(test_fifo_unlink_while_open_and_data_gone_after_last_close),
        ipc_dir_test(test_fifo_blocking_open_without_thread_behaves_nonblocking),
        ipc_dir_test(test_fifo_blocking_open_waits_for_the_other_side),
        ipc_dir_test(test_fifo_blocked_open_released_by_stack_stop),
        ipc_dir_test(test_fifo_blocked_rdonly_open_released_by_stack_stop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
