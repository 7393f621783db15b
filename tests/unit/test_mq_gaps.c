/* POSIX message queue rules beyond test_mq_posix.c, each checked against
 * Linux 6.18 by a probe: read() on a queue descriptor gives /dev/mqueue's
 * status line (QSIZE, NOTIFY, SIGNO, NOTIFY_PID) from the file position,
 * lseek moves that position (default_llseek, file size 80); a notification
 * registration goes with any close of any descriptor of the queue by the
 * registering process (mqueue_flush_file); the mode of a new queue is masked
 * by the umask (cfg.ipc_umask, or by default the process umask). No stack
 * thread. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdbool.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "unit/ipc_dir_test_util.h"

#include <ustack/ustack.h>

static struct ust_stack *new_stack(int ipc_umask)
{
    struct ust_stack_config c;
    ust_stack_config_init(&c);
    c.seed = 11;
    c.ipc_umask = ipc_umask;
    struct ust_stack *s = ust_stack_new(&c);
    assert_non_null(s);
    return s;
}

static void expect_err(long r, int err)
{
    assert_int_equal(r, -1);
    assert_int_equal(errno, err);
}

static int open_q(struct ust_stack *s, const char *name)
{
    int q = ust_mq_open(s, name, O_RDWR | O_CREAT, 0600, NULL);
    assert_true(q >= 0);
    return q;
}

/* Reads the whole status line (from the current position). */
static void expect_line(struct ust_stack *s, int q, const char *want)
{
    char buf[200];
    ssize_t n = ust_read(s, q, buf, sizeof(buf));
    assert_int_equal(n, (ssize_t)strlen(want));
    assert_memory_equal(buf, want, strlen(want));
}

static const char *line_empty =
    "QSIZE:0          NOTIFY:0     SIGNO:0     NOTIFY_PID:0     \n";

/* ---- read() and lseek() ----------------------------------------------- */

/* [probe] After sending "hello" and "ab": read gives
 * "QSIZE:7          NOTIFY:0     SIGNO:0     NOTIFY_PID:0     \n" (60
 * bytes), not a message, and the messages stay queued; the next read gives
 * 0 (end of file); lseek back reads it again. */
static void test_mq_read_gives_status_line_not_a_message(void **state)
{
    (void)state;
    struct ust_stack *s = new_stack(0);
    int q = open_q(s, "/status");
    expect_line(s, q, line_empty);
    assert_int_equal(ust_read(s, q, (char[8]){ 0 }, 8), 0);
    assert_int_equal(ust_lseek(s, q, 0, SEEK_SET), 0);
    assert_int_equal(ust_mq_send(s, q, "hello", 5, 1), 0);
    assert_int_equal(ust_mq_send(s, q, "ab", 2, 1), 0);
    expect_line(s, q, "QSIZE:7          NOTIFY:0     SIGNO:0     NOTIFY_PID:0     \n");
    struct mq_attr a;
    assert_int_equal(ust_mq_getattr(s, q, &a), 0);
    assert_int_equal(a.mq_curmsgs, 2);                  /* nothing consumed */
    char msg[8192];
    assert_int_equal(ust_mq_receive(s, q, msg, sizeof(msg), NULL), 5);
    assert_int_equal(ust_lseek(s, q, 0, SEEK_SET), 0);
    expect_line(s, q, "QSIZE:2          NOTIFY:0     SIGNO:0     NOTIFY_PID:0     \n");
    /* Poll is unchanged by reads: POLLIN while a message is queued. */
    struct pollfd p = { .fd = q, .events = POLLIN };
    assert_int_equal(ust_poll(s, &p, 1, 0), 1);
    assert_int_equal(p.revents, POLLIN);
    /* A write-only descriptor cannot read (EBADF). */
    int w = ust_mq_open(s, "/status", O_WRONLY);
    assert_true(w >= 0);
    expect_err(ust_read(s, w, msg, sizeof(msg)), EBADF);
    ust_stack_free(s);
}

/* NOTIFY is the registration's sigev_notify, SIGNO its signal for
 * SIGEV_SIGNAL only, NOTIFY_PID the registering process. */
static void test_mq_status_line_shows_the_registration(void **state)
{
    (void)state;
    struct ust_stack *s = new_stack(0);
    int q = open_q(s, "/reg");
    struct sigevent sev = { .sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGUSR1 };
    assert_int_equal(ust_mq_notify(s, q, &sev), 0);
    char want[100];
    snprintf(want, sizeof(want), "QSIZE:0          NOTIFY:%-5d SIGNO:%-5d NOTIFY_PID:%-6d\n",
             SIGEV_SIGNAL, SIGUSR1, (int)getpid());
    expect_line(s, q, want);
    assert_int_equal(ust_mq_notify(s, q, NULL), 0);
    sev = (struct sigevent){ .sigev_notify = SIGEV_NONE, .sigev_signo = SIGUSR1 };
    assert_int_equal(ust_mq_notify(s, q, &sev), 0);
    snprintf(want, sizeof(want), "QSIZE:0          NOTIFY:%-5d SIGNO:0     NOTIFY_PID:%-6d\n",
             SIGEV_NONE, (int)getpid());
    assert_int_equal(ust_lseek(s, q, 0, SEEK_SET), 0);
    expect_line(s, q, want);
    ust_stack_free(s);
}

/* default_llseek on a file of size 80 (FILENT_SIZE) [probe]: SEEK_SET 6
 * then a read of 4 gives "7   "; SEEK_CUR 0 reports the position; SEEK_END
 * gives 80; a negative result is EINVAL; SEEK_DATA at or past 80 is ENXIO;
 * SEEK_HOLE gives 80. Each open description has its own position. */
static void test_mq_lseek_moves_in_the_status_line(void **state)
{
    (void)state;
    struct ust_stack *s = new_stack(0);
    int q = open_q(s, "/seek");
    int q2 = ust_mq_open(s, "/seek", O_RDONLY);
    assert_true(q2 >= 0);
    assert_int_equal(ust_mq_send(s, q, "hello", 5, 0), 0);
    assert_int_equal(ust_mq_send(s, q, "ab", 2, 0), 0);
    assert_int_equal(ust_lseek(s, q, 6, SEEK_SET), 6);
    char buf[16];
    assert_int_equal(ust_read(s, q, buf, 4), 4);
    assert_memory_equal(buf, "7   ", 4);
    assert_int_equal(ust_lseek(s, q, 0, SEEK_CUR), 10);
    assert_int_equal(ust_lseek(s, q, -4, SEEK_CUR), 6);
    assert_int_equal(ust_lseek(s, q, 0, SEEK_END), 80);
    assert_int_equal(ust_read(s, q, buf, 4), 0);
    expect_err(ust_lseek(s, q, -1, SEEK_SET), EINVAL);
    expect_err(ust_lseek(s, q, -81, SEEK_END), EINVAL);
    assert_int_equal(ust_lseek(s, q, 0, SEEK_CUR), 80);       /* unchanged by errors */
    expect_err(ust_lseek(s, q, 100, SEEK_DATA), ENXIO);
    assert_int_equal(ust_lseek(s, q, 3, SEEK_DATA), 3);
    assert_int_equal(ust_lseek(s, q, 0, SEEK_HOLE), 80);
    expect_err(ust_lseek(s, q, 0, 99), EINVAL);
    /* q2 is its own open description: still at 0. */
    assert_int_equal(ust_lseek(s, q2, 0, SEEK_CUR), 0);
    expect_line(s, q2, "QSIZE:7          NOTIFY:0     SIGNO:0     NOTIFY_PID:0     \n");
    ust_stack_free(s);
}

/* ---- Notification removal on close (mqueue_flush_file) ----------------- */

static int notify_none(struct ust_stack *s, int q)
{
    struct sigevent sev = { .sigev_notify = SIGEV_NONE };
    return ust_mq_notify(s, q, &sev);
}

/* [probe] A registration made through q goes away when the process closes
 * another open description of the same queue, or a dup of q: registering
 * again then succeeds instead of EBUSY. Closing a descriptor of another
 * queue leaves it. */
static void test_mq_notify_removed_by_any_close_of_the_queue(void **state)
{
    (void)state;
    struct ust_stack *s = new_stack(0);
    int q = open_q(s, "/flush");
    int other = open_q(s, "/other");
    assert_int_equal(notify_none(s, q), 0);
    expect_err(notify_none(s, q), EBUSY);
    assert_int_equal(ust_close(s, other), 0);           /* another queue: kept */
    expect_err(notify_none(s, q), EBUSY);

    int q2 = ust_mq_open(s, "/flush", O_RDONLY);        /* a second description */
    assert_true(q2 >= 0);
    assert_int_equal(ust_mq_close(s, q2), 0);
    assert_int_equal(notify_none(s, q), 0);             /* removed, so free again */

    int dup = ust_fcntl(s, q, F_DUPFD, 0);              /* same description */
    assert_true(dup >= 0);
    assert_int_equal(ust_close(s, dup), 0);
    assert_int_equal(notify_none(s, q), 0);
    assert_int_equal(ust_lseek(s, q, 0, SEEK_SET), 0);
    char want[100];
    snprintf(want, sizeof(want), "QSIZE:0          NOTIFY:%-5d SIGNO:0     NOTIFY_PID:%-6d\n",
             SIGEV_NONE, (int)getpid());
    expect_line(s, q, want);
    ust_stack_free(s);
}

/* A pending SIGUSR1 (blocked by the caller), taken without waiting. */
static bool take_usr1(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    struct timespec zero = { 0, 0 };
    return sigtimedwait(&set, NULL, &zero) == SIGUSR1;
}

/* After the removal by close, a message to the empty queue raises no
 * signal (SIGUSR1 is blocked and looked for with sigtimedwait). */
static void test_mq_notify_signal_not_sent_after_close_removed_it(void **state)
{
    (void)state;
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    assert_int_equal(pthread_sigmask(SIG_BLOCK, &set, &old), 0);
    while (take_usr1())
        ;
    struct ust_stack *s = new_stack(0);
    int q = open_q(s, "/nosig");
    struct sigevent sev = { .sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGUSR1 };
    assert_int_equal(ust_mq_notify(s, q, &sev), 0);
    int dup = ust_fcntl(s, q, F_DUPFD, 0);
    assert_int_equal(ust_close(s, dup), 0);
    assert_int_equal(ust_mq_send(s, q, "x", 1, 0), 0);
    assert_false(take_usr1());
    /* Registered again, the same send raises it (control). */
    char buf[8192];
    assert_int_equal(ust_mq_receive(s, q, buf, sizeof(buf), NULL), 1);
    assert_int_equal(ust_mq_notify(s, q, &sev), 0);
    assert_int_equal(ust_mq_send(s, q, "x", 1, 0), 0);
    assert_true(take_usr1());
    ust_stack_free(s);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* ---- umask ------------------------------------------------------------- */

/* mq_open(3): "the permissions settings are masked against the process
 * umask". cfg.ipc_umask 0277 turns 0666 into 0400: the owner may read but
 * not write (ustack has no root override). */
static void test_mq_open_mode_masked_by_cfg_umask(void **state)
{
    (void)state;
    struct ust_stack *s = new_stack(0277);
    int q = ust_mq_open(s, "/masked", O_RDONLY | O_CREAT, 0666, NULL);
    assert_true(q >= 0);
    expect_err(ust_mq_open(s, "/masked", O_WRONLY), EACCES);
    expect_err(ust_mq_open(s, "/masked", O_RDWR), EACCES);
    int r = ust_mq_open(s, "/masked", O_RDONLY);
    assert_true(r >= 0);
    ust_stack_free(s);
}

/* By default (cfg.ipc_umask -1) the process umask at the time of the call
 * applies: umask 0277 masks as above; after umask(0) the same mode is kept
 * whole. */
static void test_mq_open_mode_masked_by_process_umask_by_default(void **state)
{
    (void)state;
    struct ust_stack_config c;
    ust_stack_config_init(&c);
    assert_int_equal(c.ipc_umask, -1);
    struct ust_stack *s = new_stack(-1);
    mode_t old = umask(0277);
    int q = ust_mq_open(s, "/pmask", O_RDONLY | O_CREAT, 0666, NULL);
    umask(0);
    int q2 = ust_mq_open(s, "/pmask2", O_RDONLY | O_CREAT, 0666, NULL);
    umask(old);
    assert_true(q >= 0);
    assert_true(q2 >= 0);
    expect_err(ust_mq_open(s, "/pmask", O_WRONLY), EACCES);
    int w = ust_mq_open(s, "/pmask2", O_WRONLY);
    assert_true(w >= 0);
    ust_stack_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        ipc_dir_test(test_mq_read_gives_status_line_not_a_message),
        ipc_dir_test(test_mq_status_line_shows_the_registration),
        ipc_dir_test(test_mq_lseek_moves_in_the_status_line),
        ipc_dir_test(test_mq_notify_removed_by_any_close_of_the_queue),
        ipc_dir_test(test_mq_notify_signal_not_sent_after_close_removed_it),
        ipc_dir_test(test_mq_open_mode_masked_by_cfg_umask),
        ipc_dir_test(test_mq_open_mode_masked_by_process_umask_by_default),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
