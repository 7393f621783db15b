/* Signals and blocked POSIX message queue calls: mq_receive, mq_send,
 * mq_timedreceive and mq_timedsend fail with EINTR when a handler without
 * SA_RESTART runs in the blocked thread (LTP mq_timedsend01 and
 * mq_timedreceive01, their EINTR cases), and are restarted with SA_RESTART
 * (signal(7) lists the mq calls among the restartable ones; ipc/mqueue.c
 * returns -ERESTARTSYS): the call goes on waiting and then completes, for
 * the timed calls too (a deadline is absolute, so a restart keeps it).
 * Each blocked call runs in its own thread; the test waits until it is
 * asleep in the kernel, then pthread_kill(SIGUSR1)s it
 * (eintr_test_util.h). No sleeps, no timing assertions. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "unit/ipc_dir_test_util.h"

#include "unit/eintr_test_util.h"

#define MSGSIZE 64

/* A queue of maxmsg messages of MSGSIZE bytes. */
static int mq_new(struct ust_stack *s, const char *name, long maxmsg)
{
    struct mq_attr at = { .mq_maxmsg = maxmsg, .mq_msgsize = MSGSIZE };
    int q = ust_mq_open(s, name, O_RDWR | O_CREAT, 0600, &at);
    assert_true(q >= 0);
    return q;
}

/* A CLOCK_REALTIME deadline far enough to never pass during a test. */
static struct timespec far_deadline(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += 3600;
    return ts;
}

struct mq_arg {
    char buf[MSGSIZE];
    bool timed;
};

static long do_receive(struct et_call *c)
{
    struct mq_arg *a = c->arg;
    if (a->timed) {
        struct timespec ts = far_deadline();
        return ust_mq_timedreceive(c->s, c->fd, a->buf, MSGSIZE, NULL, &ts);
    }
    return ust_mq_receive(c->s, c->fd, a->buf, MSGSIZE, NULL);
}

static long do_send(struct et_call *c)
{
    struct mq_arg *a = c->arg;
    if (a->timed) {
        struct timespec ts = far_deadline();
        return ust_mq_timedsend(c->s, c->fd, "sent", 5, 0, &ts);
    }
    return ust_mq_send(c->s, c->fd, "sent", 5, 0);
}

static long curmsgs(struct ust_stack *s, int q)
{
    struct mq_attr at;
    assert_int_equal(ust_mq_getattr(s, q, &at), 0);
    return at.mq_curmsgs;
}

/* A receiver blocked on an empty queue, interrupted. */
static void receive_interrupted(bool timed)
{
    et_catch_sigusr1(false);
    struct ust_stack *s = et_started_stack();
    int q = mq_new(s, "/eintr", 4);
    struct mq_arg a = { .timed = timed };
    struct et_call c = { .s = s, .fn = do_receive, .arg = &a, .fd = q };
    et_start(&c);
    et_interrupt_until_done(&c);
    assert_int_equal(c.ret, -1);
    assert_int_equal(c.err, EINTR);
    assert_true(atomic_load(&et_handled) >= 1);
    /* The queue still works, and the interrupted receiver took nothing. */
    assert_int_equal(ust_mq_send(s, q, "x", 1, 0), 0);
    assert_int_equal(curmsgs(s, q), 1);
    ust_mq_close(s, q);
    ust_mq_unlink(s, "/eintr");
    ust_stack_free(s);
    et_default_sigusr1();
}

/* A receiver blocked on an empty queue goes on waiting after a handler
 * with SA_RESTART, then receives. */
static void receive_restarted(bool timed)
{
    et_catch_sigusr1(true);
    struct ust_stack *s = et_started_stack();
    int q = mq_new(s, "/eintr", 4);
    struct mq_arg a = { .timed = timed };
    struct et_call c = { .s = s, .fn = do_receive, .arg = &a, .fd = q };
    et_start(&c);
    et_wait_asleep(&c);
    et_interrupt(&c);
    et_wait_asleep(&c);
    assert_false(atomic_load(&c.done));
    assert_int_equal(ust_mq_send(s, q, "late", 5, 0), 0);
    et_join(&c);
    assert_int_equal(c.ret, 5);
    assert_string_equal(a.buf, "late");
    assert_int_equal(atomic_load(&et_handled), 1);
    ust_mq_close(s, q);
    ust_mq_unlink(s, "/eintr");
    ust_stack_free(s);
    et_default_sigusr1();
}

/* A sender blocked on a full queue, interrupted: nothing is queued. */
static void send_interrupted(bool timed)
{
    et_catch_sigusr1(false);
    struct ust_stack *s = et_started_stack();
    int q = mq_new(s, "/eintr", 1);
    assert_int_equal(ust_mq_send(s, q, "full", 5, 0), 0);
    struct mq_arg a = { .timed = timed };
    struct et_call c = { .s = s, .fn = do_send, .arg = &a, .fd = q };
    et_start(&c);
    et_interrupt_until_done(&c);
    assert_int_equal(c.ret, -1);
    assert_int_equal(c.err, EINTR);
    assert_int_equal(curmsgs(s, q), 1);
    char buf[MSGSIZE];
    assert_int_equal(ust_mq_receive(s, q, buf, sizeof(buf), NULL), 5);
    assert_string_equal(buf, "full");
    assert_int_equal(curmsgs(s, q), 0);
    ust_mq_close(s, q);
    ust_mq_unlink(s, "/eintr");
    ust_stack_free(s);
    et_default_sigusr1();
}

static void send_restarted(bool timed)
{
    et_catch_sigusr1(true);
    struct ust_stack *s = et_started_stack();
    int q = mq_new(s, "/eintr", 1);
    assert_int_equal(ust_mq_send(s, q, "full", 5, 0), 0);
    struct mq_arg a = { .timed = timed };
    struct et_call c = { .s = s, .fn = do_send, .arg = &a, .fd = q };
    et_start(&c);
    et_wait_asleep(&c);
    et_interrupt(&c);
    et_wait_asleep(&c);
    assert_false(atomic_load(&c.done));
    char buf[MSGSIZE];
    assert_int_equal(ust_mq_receive(s, q, buf, sizeof(buf), NULL), 5);
    et_join(&c);
    assert_int_equal(c.ret, 0);
    assert_int_equal(ust_mq_receive(s, q, buf, sizeof(buf), NULL), 5);
    assert_string_equal(buf, "sent");
    assert_int_equal(atomic_load(&et_handled), 1);
    ust_mq_close(s, q);
    ust_mq_unlink(s, "/eintr");
    ust_stack_free(s);
    et_default_sigusr1();
}

static void test_mq_receive_blocked_fails_with_eintr_without_sa_restart(void **state)
{
    (void)state;
    receive_interrupted(false);
}

static void test_mq_timedreceive01_eintr_when_signal_caught_while_blocked(void **state)
{
    (void)state;
    receive_interrupted(true);
}

static void test_mq_receive_blocked_is_restarted_with_sa_restart(void **state)
{
    (void)state;
    receive_restarted(false);
}

static void test_mq_timedreceive_blocked_is_restarted_with_sa_restart(void **state)
{
    (void)state;
    receive_restarted(true);
}

static void test_mq_send_blocked_fails_with_eintr_without_sa_restart(void **state)
{
    (void)state;
    send_interrupted(false);
}

static void test_mq_timedsend01_eintr_when_signal_caught_while_blocked(void **state)
{
    (void)state;
    send_interrupted(true);
}

static void test_mq_send_blocked_is_restarted_with_sa_restart(void **state)
{
    (void)state;
    send_restarted(false);
}

static void test_mq_timedsend_blocked_is_restarted_with_sa_restart(void **state)
{
    (void)state;
    send_restarted(true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        ipc_dir_test(test_mq_receive_blocked_fails_with_eintr_without_sa_restart),
        ipc_dir_test(test_mq_timedreceive01_eintr_when_signal_caught_while_blocked),
        ipc_dir_test(test_mq_receive_blocked_is_restarted_with_sa_restart),
        ipc_dir_test(test_mq_timedreceive_blocked_is_restarted_with_sa_restart),
        ipc_dir_test(test_mq_send_blocked_fails_with_eintr_without_sa_restart),
        ipc_dir_test(test_mq_timedsend01_eintr_when_signal_caught_while_blocked),
        ipc_dir_test(test_mq_send_blocked_is_restarted_with_sa_restart),
        ipc_dir_test(test_mq_timedsend_blocked_is_restarted_with_sa_restart),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
