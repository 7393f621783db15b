/* System V message queues with a stack thread, so msgsnd/msgrcv block:
 * msgsnd06 and msgrcv06 (IPC_RMID wakes blocked callers with EIDRM), a
 * blocked msgrcv woken only by a message of its type, a blocked msgsnd woken
 * when a receive makes room, one blocking ust_poll over a System V queue's
 * descriptor and a POSIX queue woken by each, and LTP msgstress-like
 * traffic: 8 senders and 8 receivers on one queue, blocking and
 * non-blocking, nothing lost or duplicated, FIFO kept per sender.
 * UST_MQ_STRESS_MSGS sets the message count (default 100000).
 *
 * Synchronisation never sleeps: the test waits (bounded) until the other
 * thread really sleeps in the stack. Errnos are asserted, durations not. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "unit/ipc_dir_test_util.h"

#include <ustack/ustack.h>

#include "runtime/runtime.h"
#include "stack/stack_impl.h"

#define BOUND_SEC 30

struct tmsg {
    long mtype;
    char mtext[256];
};

static struct timespec realtime_in(int sec)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += sec;
    return ts;
}

static bool before(const struct timespec *limit)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    return now.tv_sec < limit->tv_sec ||
           (now.tv_sec == limit->tv_sec && now.tv_nsec < limit->tv_nsec);
}

static unsigned sleepers(struct ust_stack *s)
{
    ust_rt_lock(s);
    unsigned n = ust_rt_sleeper_count(s);
    ust_rt_unlock(s);
    return n;
}

static void wait_until_asleep(struct ust_stack *s, unsigned n)
{
    struct timespec limit = realtime_in(BOUND_SEC);
    while (sleepers(s) < n) {
        if (!before(&limit))
            fail_msg("the other thread never went to sleep");
        sched_yield();
    }
}

static void join_bounded(pthread_t t)
{
    struct timespec limit = realtime_in(BOUND_SEC);
    int err = pthread_timedjoin_np(t, NULL, &limit);
    if (err)
        fail_msg("thread did not finish (error %d)", err);
}

static struct ust_stack *started_stack(void)
{
    struct ust_stack_config c;
    ust_stack_config_init(&c);
    c.seed = 5;
    struct ust_stack *s = ust_stack_new(&c);
    assert_non_null(s);
    assert_int_equal(ust_stack_start(s), 0);
    return s;
}

struct call {
    struct ust_stack *s;
    int id;
    bool send;
    long msgtyp;
    size_t len;
    long ret;
    int err;
    struct tmsg m;
};

static void *call_thread(void *arg)
{
    struct call *c = arg;
    errno = 0;
    if (c->send)
        c->ret = ust_msgsnd(c->s, c->id, &c->m, c->len, 0);
    else
        c->ret = ust_msgrcv(c->s, c->id, &c->m, sizeof(c->m.mtext), c->msgtyp, 0);
    c->err = errno;
    return NULL;
}

static void fill_queue(struct ust_stack *s, int id, size_t qbytes)
{
    struct msqid_ds ds;
    assert_int_equal(ust_msgctl(s, id, IPC_STAT, &ds), 0);
    ds.msg_qbytes = qbytes;
    assert_int_equal(ust_msgctl(s, id, IPC_SET, &ds), 0);
    struct tmsg m = { .mtype = 1 };
    assert_int_equal(ust_msgsnd(s, id, &m, qbytes, IPC_NOWAIT), 0);
}

/* msgrcv06: IPC_RMID wakes a blocked receiver with EIDRM. */
static void test_msgrcv06_eidrm_when_removed_while_blocked(void **state)
{
    (void)state;
    struct ust_stack *s = started_stack();
    int id = ust_msgget(s, IPC_PRIVATE, 0600);
    struct call c[2] = { { .s = s, .id = id }, { .s = s, .id = id, .msgtyp = 7 } };
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&t[i], NULL, call_thread, &c[i]), 0);
    wait_until_asleep(s, 2);
    assert_int_equal(ust_msgctl(s, id, IPC_RMID, NULL), 0);
    for (int i = 0; i < 2; i++) {
        join_bounded(t[i]);
        assert_int_equal(c[i].ret, -1);
        assert_int_equal(c[i].err, EIDRM);
    }
    ust_stack_free(s);
}

/* msgsnd06: IPC_RMID wakes a sender blocked on a full queue with EIDRM. */
static void test_msgsnd06_eidrm_when_removed_while_blocked(void **state)
{
    (void)state;
    struct ust_stack *s = started_stack();
    int id = ust_msgget(s, IPC_PRIVATE, 0600);
    fill_queue(s, id, 100);
    struct call c = { .s = s, .id = id, .send = true, .len = 10, .m = { .mtype = 1 } };
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, call_thread, &c), 0);
    wait_until_asleep(s, 1);
    assert_int_equal(ust_msgctl(s, id, IPC_RMID, NULL), 0);
    join_bounded(t);
    assert_int_equal(c.ret, -1);
    assert_int_equal(c.err, EIDRM);
    ust_stack_free(s);
}

/* A blocked msgrcv for type 7 sleeps through a type-3 message and wakes
 * for the type-7 one. */
static void test_msgrcv_blocked_woken_only_by_matching_type(void **state)
{
    (void)state;
    struct ust_stack *s = started_stack();
    int id = ust_msgget(s, IPC_PRIVATE, 0600);
    struct call c = { .s = s, .id = id, .msgtyp = 7 };
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, call_thread, &c), 0);
    wait_until_asleep(s, 1);
    struct tmsg m = { .mtype = 3, .mtext = "three" };
    assert_int_equal(ust_msgsnd(s, id, &m, 5, 0), 0);
    assert_int_equal(sleepers(s), 1);
    m.mtype = 7;
    memcpy(m.mtext, "seven", 5);
    assert_int_equal(ust_msgsnd(s, id, &m, 5, 0), 0);
    join_bounded(t);
    assert_int_equal(c.ret, 5);
    assert_int_equal(c.m.mtype, 7);
    assert_memory_equal(c.m.mtext, "seven", 5);
    struct msqid_ds ds;
    assert_int_equal(ust_msgctl(s, id, IPC_STAT, &ds), 0);
    assert_int_equal(ds.msg_qnum, 1);
    ust_stack_free(s);
}

static void test_msgsnd_blocked_woken_when_receive_makes_room(void **state)
{
    (void)state;
    struct ust_stack *s = started_stack();
    int id = ust_msgget(s, IPC_PRIVATE, 0600);
    fill_queue(s, id, 100);
    struct call c = { .s = s, .id = id, .send = true, .len = 50, .m = { .mtype = 2 } };
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, call_thread, &c), 0);
    wait_until_asleep(s, 1);
    struct tmsg m;
    assert_int_equal(ust_msgrcv(s, id, &m, sizeof(m.mtext), 1, 0), 100);
    join_bounded(t);
    assert_int_equal(c.ret, 0);
    assert_int_equal(ust_msgrcv(s, id, &m, sizeof(m.mtext), 0, IPC_NOWAIT), 50);
    assert_int_equal(m.mtype, 2);
    ust_stack_free(s);
}

/* A big blocked message does not hold back a small one behind it that
 * fits (Linux's ss_wakeup skips senders that do not fit). */
static void test_msgsnd_small_sender_not_blocked_behind_big_one(void **state)
{
    (void)state;
    struct ust_stack *s = started_stack();
    int id = ust_msgget(s, IPC_PRIVATE, 0600);
    fill_queue(s, id, 100);
    struct call big = { .s = s, .id = id, .send = true, .len = 100, .m = { .mtype = 3 } };
    struct call small = { .s = s, .id = id, .send = true, .len = 10, .m = { .mtype = 4 } };
    pthread_t tb, ts;
    assert_int_equal(pthread_create(&tb, NULL, call_thread, &big), 0);
    wait_until_asleep(s, 1);
    assert_int_equal(pthread_create(&ts, NULL, call_thread, &small), 0);
    wait_until_asleep(s, 2);
    /* Make 50 bytes of room: a partial read is not possible, so raise
     * msg_qbytes to 150 (the big one still does not fit, the small one does). */
    struct msqid_ds ds;
    assert_int_equal(ust_msgctl(s, id, IPC_STAT, &ds), 0);
    ds.msg_qbytes = 150;
    assert_int_equal(ust_msgctl(s, id, IPC_SET, &ds), 0);
    join_bounded(ts);
    assert_int_equal(small.ret, 0);
    assert_int_equal(sleepers(s), 1);
    assert_int_equal(ust_msgctl(s, id, IPC_RMID, NULL), 0);
    join_bounded(tb);
    assert_int_equal(big.ret, -1);
    assert_int_equal(big.err, EIDRM);
    ust_stack_free(s);
}

struct poll_call {
    struct ust_stack *s;
    struct pollfd p[2];
    int ret;
};

static void *poll_thread(void *arg)
{
    struct poll_call *c = arg;
    c->ret = ust_poll(c->s, c->p, 2, -1);
    return NULL;
}

/* One blocking ust_poll over a System V queue and a POSIX queue: a message
 * on either wakes it with POLLIN on that one. */
static void test_poll_blocks_on_sysv_and_posix_queue_together(void **state)
{
    (void)state;
    struct ust_stack *s = started_stack();
    int id = ust_msgget(s, IPC_PRIVATE, 0600);
    int sfd = ust_msgq_fd(s, id);
    int mq = ust_mq_open(s, "/pq", O_RDWR | O_CREAT, 0600, NULL);
    assert_true(sfd >= 0 && mq >= 0);
    for (int round = 0; round < 2; round++) {
        struct poll_call c = { .s = s, .p = { { sfd, POLLIN, 0 }, { mq, POLLIN, 0 } } };
        pthread_t t;
        assert_int_equal(pthread_create(&t, NULL, poll_thread, &c), 0);
        wait_until_asleep(s, 1);
        if (round == 0) {
            struct tmsg m = { .mtype = 1 };
            assert_int_equal(ust_msgsnd(s, id, &m, 1, 0), 0);
        } else {
            assert_int_equal(ust_mq_send(s, mq, "p", 1, 0), 0);
        }
        join_bounded(t);
        assert_int_equal(c.ret, 1);
        assert_int_equal(c.p[round].revents, POLLIN);
        assert_int_equal(c.p[1 - round].revents, 0);
        struct tmsg m;
        char buf[8192];
        if (round == 0)
            assert_int_equal(ust_msgrcv(s, id, &m, sizeof(m.mtext), 0, 0), 1);
        else
            assert_int_equal(ust_mq_receive(s, mq, buf, sizeof(buf), NULL), 1);
    }
    /* IPC_RMID wakes a poller with POLLERR|POLLHUP. */
    struct poll_call c = { .s = s, .p = { { sfd, POLLIN, 0 }, { mq, POLLIN, 0 } } };
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, poll_thread, &c), 0);
    wait_until_asleep(s, 1);
    assert_int_equal(ust_msgctl(s, id, IPC_RMID, NULL), 0);
    join_bounded(t);
    assert_int_equal(c.ret, 1);
    assert_int_equal(c.p[0].revents, POLLERR | POLLHUP);
    ust_stack_free(s);
}

struct pingpong {
    struct ust_stack *s;
    int id;
    long rounds;
    long failures;
};

static void *pong_thread(void *arg)
{
    struct pingpong *p = arg;
    struct tmsg m;
    for (long i = 0; i < p->rounds; i++) {
        if (ust_msgrcv(p->s, p->id, &m, sizeof(m.mtext), 1, 0) != 8)
            p->failures++;
        m.mtype = 2;
        if (ust_msgsnd(p->s, p->id, &m, 8, 0) != 0)
            p->failures++;
    }
    return NULL;
}

/* Two threads ping-pong over one queue by type (1: ping, 2: pong): every
 * msgrcv blocks in turn, so a lost wakeup would hang it (bounded join). */
static void test_msg_ping_pong_by_type_every_wakeup_delivered(void **state)
{
    (void)state;
    struct ust_stack *s = started_stack();
    struct pingpong p = { .s = s, .id = ust_msgget(s, IPC_PRIVATE, 0600), .rounds = 20000 };
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, pong_thread, &p), 0);
    long bad = 0;
    for (long i = 0; i < p.rounds; i++) {
        struct tmsg m = { .mtype = 1 };
        memcpy(m.mtext, &i, 8);
        if (ust_msgsnd(s, p.id, &m, 8, 0) != 0 ||
            ust_msgrcv(s, p.id, &m, sizeof(m.mtext), 2, 0) != 8)
            bad++;
        long got;
        memcpy(&got, m.mtext, 8);
        bad += got != i;
    }
    join_bounded(t);
    assert_int_equal(bad, 0);
    assert_int_equal(p.failures, 0);
    ust_stack_free(s);
}

/* ---- msgstress-like traffic ------------------------------------------ */

#define N_SENDERS 8
#define N_RECEIVERS 8
#define STOP_TYPE 1

struct stress {
    struct ust_stack *s;
    int id;
    bool nonblock;
    unsigned per_sender;
    uint8_t *seen;
    unsigned long errors;
};

struct smsg {
    long mtype;
    uint32_t sender, seq;
};

struct stress_arg {
    struct stress *st;
    unsigned id;
};

static void *stress_sender(void *p)
{
    struct stress_arg *a = p;
    struct stress *st = a->st;
    int flags = st->nonblock ? IPC_NOWAIT : 0;
    for (uint32_t i = 0; i < st->per_sender; i++) {
        struct smsg m = { 2 + a->id, a->id, i };
        while (ust_msgsnd(st->s, st->id, &m, 2 * sizeof(uint32_t), flags) != 0) {
            if (!(st->nonblock && errno == EAGAIN)) {
                __atomic_fetch_add(&st->errors, 1, __ATOMIC_RELAXED);
                return NULL;
            }
            sched_yield();
        }
    }
    return NULL;
}

static void *stress_receiver(void *p)
{
    struct stress_arg *a = p;
    struct stress *st = a->st;
    int flags = st->nonblock ? IPC_NOWAIT : 0;
    int64_t last[N_SENDERS];
    for (unsigned i = 0; i < N_SENDERS; i++)
        last[i] = -1;
    for (;;) {
        struct smsg m;
        ssize_t n = ust_msgrcv(st->s, st->id, &m, 2 * sizeof(uint32_t), 0, flags);
        if (n < 0) {
            if (st->nonblock && errno == ENOMSG) {
                sched_yield();
                continue;
            }
            __atomic_fetch_add(&st->errors, 1, __ATOMIC_RELAXED);
            return NULL;
        }
        if (m.mtype == STOP_TYPE)
            return NULL;
        if (n != 2 * sizeof(uint32_t) || m.sender >= N_SENDERS || m.mtype != 2 + m.sender ||
            m.seq >= st->per_sender || (int64_t)m.seq <= last[m.sender]) {
            __atomic_fetch_add(&st->errors, 1, __ATOMIC_RELAXED);
            continue;
        }
        last[m.sender] = m.seq;
        __atomic_fetch_add(&st->seen[m.sender * st->per_sender + m.seq], 1, __ATOMIC_RELAXED);
    }
}

static unsigned stress_total(void)
{
    const char *env = getenv("UST_MQ_STRESS_MSGS");
    unsigned long n = env ? strtoul(env, NULL, 10) : 100000;
    return n < N_SENDERS ? N_SENDERS : (unsigned)n;
}

static void run_stress(bool nonblock)
{
    struct ust_stack *s = started_stack();
    struct stress st = { .s = s, .nonblock = nonblock };
    st.id = ust_msgget(s, IPC_PRIVATE, 0600);
    assert_true(st.id >= 0);
    st.per_sender = stress_total() / N_SENDERS;
    st.seen = calloc((size_t)N_SENDERS * st.per_sender, 1);
    assert_non_null(st.seen);
    pthread_t snd[N_SENDERS], rcv[N_RECEIVERS];
    struct stress_arg sa[N_SENDERS], ra[N_RECEIVERS];
    for (unsigned i = 0; i < N_RECEIVERS; i++) {
        ra[i] = (struct stress_arg){ &st, i };
        assert_int_equal(pthread_create(&rcv[i], NULL, stress_receiver, &ra[i]), 0);
    }
    for (unsigned i = 0; i < N_SENDERS; i++) {
        sa[i] = (struct stress_arg){ &st, i };
        assert_int_equal(pthread_create(&snd[i], NULL, stress_sender, &sa[i]), 0);
    }
    for (unsigned i = 0; i < N_SENDERS; i++)
        pthread_join(snd[i], NULL);
    /* Stops go after every data message (FIFO), one per receiver. */
    for (unsigned i = 0; i < N_RECEIVERS; i++) {
        struct smsg stop = { STOP_TYPE, 0, 0 };
        assert_int_equal(ust_msgsnd(s, st.id, &stop, 0, 0), 0);
    }
    for (unsigned i = 0; i < N_RECEIVERS; i++)
        pthread_join(rcv[i], NULL);
    assert_int_equal(st.errors, 0);
    size_t total = (size_t)N_SENDERS * st.per_sender, bad = 0;
    for (size_t i = 0; i < total; i++)
        bad += st.seen[i] != 1;
    assert_int_equal(bad, 0);
    struct msqid_ds ds;
    assert_int_equal(ust_msgctl(s, st.id, IPC_STAT, &ds), 0);
    assert_int_equal(ds.msg_qnum, 0);
    assert_int_equal(ds.__msg_cbytes, 0);
    free(st.seen);
    ust_stack_free(s);
}

static void test_msgstress_8_senders_8_receivers_blocking(void **state)
{
    (void)state;
    run_stress(false);
}

static void test_msgstress_8_senders_8_receivers_nonblocking(void **state)
{
    (void)state;
    run_stress(true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        ipc_dir_test(test_msgrcv06_eidrm_when_removed_while_blocked),
        ipc_dir_test(test_msgsnd06_eidrm_when_removed_while_blocked),
        ipc_dir_test(test_msgrcv_blocked_woken_only_by_matching_type),
        ipc_dir_test(test_msgsnd_blocked_woken_when_receive_makes_room),
        ipc_dir_test(test_msgsnd_small_sender_not_blocked_behind_big_one),
        ipc_dir_test(test_poll_blocks_on_sysv_and_posix_queue_together),
        ipc_dir_test(test_msg_ping_pong_by_type_every_wakeup_delivered),
        ipc_dir_test(test_msgstress_8_senders_8_receivers_blocking),
        ipc_dir_test(test_msgstress_8_senders_8_receivers_nonblocking),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
