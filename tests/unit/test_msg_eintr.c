/* Signals and blocked System V message queue calls: a blocked msgsnd (full
 * queue) and a blocked msgrcv (no matching message) fail with EINTR when a
 * signal handler runs in their thread (LTP msgsnd05 and msgrcv05, their
 * EINTR cases), and are never restarted, even when the handler has
 * SA_RESTART (msgop(2), signal(7); ipc/msg.c returns -ERESTARTNOHAND).
 * Nothing is sent or taken by the interrupted call. Each blocked call runs
 * in its own thread; the test waits until it is asleep in the kernel, then
 * pthread_kill(SIGUSR1)s it (eintr_test_util.h). No sleeps, no timing
 * assertions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <cmocka.h>

#include "unit/ipc_dir_test_util.h"

#include "unit/eintr_test_util.h"

struct msgbuf64 {
    long mtype;
    char mtext[64];
};

static long do_msgsnd(struct et_call *c)
{
    struct msgbuf64 m = { .mtype = 1, .mtext = "blocked" };
    return ust_msgsnd(c->s, c->fd, &m, 8, 0);
}

static long do_msgrcv(struct et_call *c)
{
    struct msgbuf64 *m = c->arg;
    return ust_msgrcv(c->s, c->fd, m, sizeof(m->mtext), 0, 0);
}

static unsigned long qnum(struct ust_stack *s, int id)
{
    struct msqid_ds ds;
    assert_int_equal(ust_msgctl(s, id, IPC_STAT, &ds), 0);
    return (unsigned long)ds.msg_qnum;
}

/* msgsnd05: a sender blocked on a full queue (msg_qbytes 8, one 8-byte
 * message queued) gets EINTR; nothing more is queued. */
static void msgsnd_interrupted(bool restart)
{
    et_catch_sigusr1(restart);
    struct ust_stack *s = et_started_stack();
    int id = ust_msgget(s, IPC_PRIVATE, 0600);
    assert_true(id >= 0);
    struct msqid_ds ds;
    assert_int_equal(ust_msgctl(s, id, IPC_STAT, &ds), 0);
    ds.msg_qbytes = 8;
    assert_int_equal(ust_msgctl(s, id, IPC_SET, &ds), 0);
    struct msgbuf64 m = { .mtype = 1, .mtext = "queued" };
    assert_int_equal(ust_msgsnd(s, id, &m, 8, 0), 0);
    struct et_call c = { .s = s, .fn = do_msgsnd, .fd = id };
    et_start(&c);
    et_interrupt_until_done(&c);
    assert_int_equal(c.ret, -1);
    assert_int_equal(c.err, EINTR);
    assert_true(atomic_load(&et_handled) >= 1);
    assert_int_equal(qnum(s, id), 1);
    assert_int_equal(ust_msgrcv(s, id, &m, sizeof(m.mtext), 0, IPC_NOWAIT), 8);
    assert_string_equal(m.mtext, "queued");
    assert_int_equal(ust_msgctl(s, id, IPC_RMID, NULL), 0);
    ust_stack_free(s);
    et_default_sigusr1();
}

/* msgrcv05: a receiver blocked on an empty queue gets EINTR; a message
 * sent afterwards stays queued for the next receiver. */
static void msgrcv_interrupted(bool restart)
{
    et_catch_sigusr1(restart);
    struct ust_stack *s = et_started_stack();
    int id = ust_msgget(s, IPC_PRIVATE, 0600);
    assert_true(id >= 0);
    struct msgbuf64 got = { 0 };
    struct et_call c = { .s = s, .fn = do_msgrcv, .arg = &got, .fd = id };
    et_start(&c);
    et_interrupt_until_done(&c);
    assert_int_equal(c.ret, -1);
    assert_int_equal(c.err, EINTR);
    assert_true(atomic_load(&et_handled) >= 1);
    struct msgbuf64 m = { .mtype = 3, .mtext = "after" };
    assert_int_equal(ust_msgsnd(s, id, &m, 6, 0), 0);
    assert_int_equal(qnum(s, id), 1);
    assert_int_equal(ust_msgctl(s, id, IPC_RMID, NULL), 0);
    ust_stack_free(s);
    et_default_sigusr1();
}

static void test_msgsnd05_eintr_when_signal_caught_while_blocked(void **state)
{
    (void)state;
    msgsnd_interrupted(false);
}

static void test_msgsnd_blocked_not_restarted_even_with_sa_restart(void **state)
{
    (void)state;
    msgsnd_interrupted(true);
}

static void test_msgrcv05_eintr_when_signal_caught_while_blocked(void **state)
{
    (void)state;
    msgrcv_interrupted(false);
}

static void test_msgrcv_blocked_not_restarted_even_with_sa_restart(void **state)
{
    (void)state;
    msgrcv_interrupted(true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        ipc_dir_test(test_msgsnd05_eintr_when_signal_caught_while_blocked),
        ipc_dir_test(test_msgsnd_blocked_not_restarted_even_with_sa_restart),
        ipc_dir_test(test_msgrcv05_eintr_when_signal_caught_while_blocked),
        ipc_dir_test(test_msgrcv_blocked_not_restarted_even_with_sa_restart),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
