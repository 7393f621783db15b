/* Signals and blocked pipe / FIFO calls (signal(7), "Interruption of system
 * calls and library functions by signal handlers"; pipe(7); fifo(7)):
 *  - a blocked read or write fails with EINTR when a handler without
 *    SA_RESTART runs in its thread, and nothing is transferred;
 *  - with SA_RESTART the call is restarted: it goes on waiting (its thread
 *    is seen asleep again after the handler) and then completes normally;
 *  - a large write that already moved data returns that count instead,
 *    with or without SA_RESTART (fs/pipe.c pipe_write);
 *  - a blocked FIFO open fails with EINTR, or is restarted with SA_RESTART
 *    and then completes when the partner opens (fs/pipe.c wait_for_partner).
 * Each blocked call runs in its own thread; the test waits until that
 * thread is asleep in the kernel, then pthread_kill(SIGUSR1)s it
 * (eintr_test_util.h). No sleeps, no timing assertions. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "unit/ipc_dir_test_util.h"

#include "unit/eintr_test_util.h"

static long do_read1(struct et_call *c)
{
    return ust_read(c->s, c->fd, c->arg, 1);
}

static long do_write1(struct et_call *c)
{
    return ust_write(c->s, c->fd, "w", 1);
}

struct big_write {
    const uint8_t *buf;
    size_t len;
};

static long do_write_big(struct et_call *c)
{
    struct big_write *w = c->arg;
    return ust_write(c->s, c->fd, w->buf, w->len);
}

static long do_open(struct et_call *c)
{
    return ust_open(c->s, "/fifo", (int)(intptr_t)c->arg);
}

/* Fills the pipe (write end fd, non-blocking for the fill) and returns its
 * capacity. */
static size_t fill(struct ust_stack *s, int wfd)
{
    int fl = ust_fcntl(s, wfd, F_GETFL);
    assert_int_equal(ust_fcntl(s, wfd, F_SETFL, fl | O_NONBLOCK), 0);
    static const uint8_t chunk[4096];
    size_t total = 0;
    for (;;) {
        ssize_t n = ust_write(s, wfd, chunk, sizeof(chunk));
        if (n < 0) {
            assert_int_equal(errno, EAGAIN);
            break;
        }
        total += (size_t)n;
    }
    while (ust_write(s, wfd, chunk, 1) == 1)     /* the last partly filled page */
        total++;
    assert_int_equal(errno, EAGAIN);
    assert_int_equal(ust_fcntl(s, wfd, F_SETFL, fl), 0);
    return total;
}

/* Reads (non-blocking) everything there is; returns the byte count. */
static size_t drain(struct ust_stack *s, int rfd)
{
    int fl = ust_fcntl(s, rfd, F_GETFL);
    assert_int_equal(ust_fcntl(s, rfd, F_SETFL, fl | O_NONBLOCK), 0);
    static uint8_t buf[65536];
    size_t total = 0;
    ssize_t n;
    while ((n = ust_read(s, rfd, buf, sizeof(buf))) > 0)
        total += (size_t)n;
    assert_int_equal(ust_fcntl(s, rfd, F_SETFL, fl), 0);
    return total;
}

static void test_pipe_blocked_read_fails_with_eintr_without_sa_restart(void **state)
{
    (void)state;
    et_catch_sigusr1(false);
    struct ust_stack *s = et_started_stack();
    int p[2];
    assert_int_equal(ust_pipe(s, p), 0);
    char got = 0;
    struct et_call c = { .s = s, .fn = do_read1, .arg = &got, .fd = p[0] };
    et_start(&c);
    et_interrupt_until_done(&c);
    assert_int_equal(c.ret, -1);
    assert_int_equal(c.err, EINTR);
    assert_true(atomic_load(&et_handled) >= 1);
    /* Nothing was lost: the pipe still works. */
    assert_int_equal(ust_write(s, p[1], "z", 1), 1);
    assert_int_equal(ust_read(s, p[0], &got, 1), 1);
    assert_int_equal(got, 'z');
    ust_close(s, p[0]);
    ust_close(s, p[1]);
    ust_stack_free(s);
    et_default_sigusr1();
}

static void test_pipe_blocked_read_is_restarted_with_sa_restart(void **state)
{
    (void)state;
    et_catch_sigusr1(true);
    struct ust_stack *s = et_started_stack();
    int p[2];
    assert_int_equal(ust_pipe(s, p), 0);
    char got = 0;
    struct et_call c = { .s = s, .fn = do_read1, .arg = &got, .fd = p[0] };
    et_start(&c);
    et_wait_asleep(&c);
    et_interrupt(&c);
    et_wait_asleep(&c);                 /* still blocked: restarted */
    assert_false(atomic_load(&c.done));
    assert_int_equal(ust_write(s, p[1], "r", 1), 1);
    et_join(&c);
    assert_int_equal(c.ret, 1);
    assert_int_equal(got, 'r');
    assert_int_equal(atomic_load(&et_handled), 1);
    ust_close(s, p[0]);
    ust_close(s, p[1]);
    ust_stack_free(s);
    et_default_sigusr1();
}

static void test_pipe_blocked_write_fails_with_eintr_without_sa_restart(void **state)
{
    (void)state;
    et_catch_sigusr1(false);
    struct ust_stack *s = et_started_stack();
    int p[2];
    assert_int_equal(ust_pipe(s, p), 0);
    size_t cap = fill(s, p[1]);
    struct et_call c = { .s = s, .fn = do_write1, .fd = p[1] };
    et_start(&c);
    et_interrupt_until_done(&c);
    assert_int_equal(c.ret, -1);
    assert_int_equal(c.err, EINTR);
    assert_int_equal(drain(s, p[0]), cap);      /* the byte was not written */
    ust_close(s, p[0]);
    ust_close(s, p[1]);
    ust_stack_free(s);
    et_default_sigusr1();
}

static void test_pipe_blocked_write_is_restarted_with_sa_restart(void **state)
{
    (void)state;
    et_catch_sigusr1(true);
    struct ust_stack *s = et_started_stack();
    int p[2];
    assert_int_equal(ust_pipe(s, p), 0);
    size_t cap = fill(s, p[1]);
    struct et_call c = { .s = s, .fn = do_write1, .fd = p[1] };
    et_start(&c);
    et_wait_asleep(&c);
    et_interrupt(&c);
    et_wait_asleep(&c);
    assert_false(atomic_load(&c.done));
    uint8_t buf[4096];
    assert_int_equal(ust_read(s, p[0], buf, sizeof(buf)), sizeof(buf));
    et_join(&c);
    assert_int_equal(c.ret, 1);
    assert_int_equal(drain(s, p[0]), cap - sizeof(buf) + 1);
    assert_int_equal(atomic_load(&et_handled), 1);
    ust_close(s, p[0]);
    ust_close(s, p[1]);
    ust_stack_free(s);
    et_default_sigusr1();
}

/* signal(7): "If the call has already transferred some data, it returns
 * the count" - and a count is no error to restart, so SA_RESTART changes
 * nothing. */
static void partial_write_returns_count(bool restart)
{
    et_catch_sigusr1(restart);
    struct ust_stack *s = et_started_stack();
    int p[2];
    assert_int_equal(ust_pipe(s, p), 0);
    int cap = ust_fcntl(s, p[1], F_GETPIPE_SZ);
    assert_true(cap > 0);
    size_t len = (size_t)cap + 8192;
    uint8_t *buf = calloc(1, len);
    assert_non_null(buf);
    struct big_write w = { buf, len };
    struct et_call c = { .s = s, .fn = do_write_big, .arg = &w, .fd = p[1] };
    et_start(&c);
    et_interrupt_until_done(&c);
    assert_true(c.ret > 0);
    assert_true((size_t)c.ret < len);
    assert_int_equal(drain(s, p[0]), (size_t)c.ret);
    free(buf);
    ust_close(s, p[0]);
    ust_close(s, p[1]);
    ust_stack_free(s);
    et_default_sigusr1();
}

static void test_pipe_partial_write_returns_count_on_signal(void **state)
{
    (void)state;
    partial_write_returns_count(false);
}

static void test_pipe_partial_write_returns_count_on_signal_even_with_sa_restart(void **state)
{
    (void)state;
    partial_write_returns_count(true);
}

static void test_fifo_blocked_open_fails_with_eintr_without_sa_restart(void **state)
{
    (void)state;
    et_catch_sigusr1(false);
    struct ust_stack *s = et_started_stack();
    assert_int_equal(ust_mkfifo(s, "/fifo", 0600), 0);
    struct et_call c = { .s = s, .fn = do_open, .arg = (void *)(intptr_t)O_RDONLY };
    et_start(&c);
    et_interrupt_until_done(&c);
    assert_int_equal(c.ret, -1);
    assert_int_equal(c.err, EINTR);
    /* The interrupted open left no reader behind. */
    errno = 0;
    assert_int_equal(ust_open(s, "/fifo", O_WRONLY | O_NONBLOCK), -1);
    assert_int_equal(errno, ENXIO);
    ust_stack_free(s);
    et_default_sigusr1();
}

static void test_fifo_blocked_open_is_restarted_with_sa_restart(void **state)
{
    (void)state;
    et_catch_sigusr1(true);
    struct ust_stack *s = et_started_stack();
    assert_int_equal(ust_mkfifo(s, "/fifo", 0600), 0);
    struct et_call c = { .s = s, .fn = do_open, .arg = (void *)(intptr_t)O_WRONLY };
    et_start(&c);
    et_wait_asleep(&c);
    et_interrupt(&c);
    et_wait_asleep(&c);
    assert_false(atomic_load(&c.done));
    int rfd = ust_open(s, "/fifo", O_RDONLY | O_NONBLOCK);
    assert_true(rfd >= 0);
    et_join(&c);
    assert_true(c.ret >= 0);
    assert_int_equal(ust_write(s, (int)c.ret, "f", 1), 1);
    char got = 0;
    assert_int_equal(ust_read(s, rfd, &got, 1), 1);
    assert_int_equal(got, 'f');
    assert_int_equal(atomic_load(&et_handled), 1);
    ust_stack_free(s);
    et_default_sigusr1();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        ipc_dir_test(test_pipe_blocked_read_fails_with_eintr_without_sa_restart),
        ipc_dir_test(test_pipe_blocked_read_is_restarted_with_sa_restart),
        ipc_dir_test(test_pipe_blocked_write_fails_with_eintr_without_sa_restart),
        ipc_dir_test(test_pipe_blocked_write_is_restarted_with_sa_restart),
        ipc_dir_test(test_pipe_partial_write_returns_count_on_signal),
        ipc_dir_test(test_pipe_partial_write_returns_count_on_signal_even_with_sa_restart),
        ipc_dir_test(test_fifo_blocked_open_fails_with_eintr_without_sa_restart),
        ipc_dir_test(test_fifo_blocked_open_is_restarted_with_sa_restart),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
