/* POSIX message queues with a stack thread (ust_stack_start), so calls
 * block: a blocked receiver is woken by a send and a blocked sender by a
 * receive; mq_timedreceive01 / mq_timedsend01's ETIMEDOUT on CLOCK_REALTIME
 * and on CLOCK_MONOTONIC (ustack's _mono calls); mq_notify01's SIGEV_THREAD;
 * no notification while a receiver is blocked (it takes the message and
 * the registration stays); a blocked ranged receive (ustack's typed
 * receive) ignores messages outside its band; and LTP msgstress-like
 * traffic: 8 senders and 8 receivers on one queue, blocking and
 * non-blocking, nothing lost or duplicated, FIFO kept per sender and
 * priority. UST_MQ_STRESS_MSGS sets the message count (default 100000;
 * 1000000 for the full run).
 *
 * Synchronisation never sleeps: the test waits (bounded) until the other
 * thread really sleeps in the stack. Errnos are asserted, durations not. */
#include <errno.h>
#include <fcntl.h>
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

static struct timespec realtime_in_ms(long ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

static struct timespec mono_in_ms(long ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
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
    struct timespec limit = realtime_in_ms(BOUND_SEC * 1000);
    while (sleepers(s) < n) {
        if (!before(&limit))
            fail_msg("the other thread never went to sleep");
        sched_yield();
    }
}

static void join_bounded(pthread_t t)
{
    struct timespec limit = realtime_in_ms(BOUND_SEC * 1000);
    int err = pthread_timedjoin_np(t, NULL, &limit);
    if (err)
        fail_msg("thread did not finish (error %d)", err);
}

static struct ust_stack *started_stack(unsigned maxmsg)
{
    struct ust_stack_config c;
    ust_stack_config_init(&c);
    c.seed = 3;
    c.mq_maxmsg_max = maxmsg > 10 ? maxmsg : 10;
    c.mq_bytes_max = 64u << 20;
    struct ust_stack *s = ust_stack_new(&c);
    assert_non_null(s);
    assert_int_equal(ust_stack_start(s), 0);
    return s;
}

static int open_q(struct ust_stack *s, const char *name, long maxmsg, long msgsize, int extra)
{
    struct mq_attr a = { .mq_maxmsg = maxmsg, .mq_msgsize = msgsize };
    int q = ust_mq_open(s, name, O_RDWR | O_CREAT | extra, 0600, &a);
    assert_true(q >= 0);
    return q;
}

struct call {
    struct ust_stack *s;
    int q;
    int kind;               /* 0 receive, 1 send, 2 timedreceive, 3 timedreceive_mono,
                             * 4 timedsend, 5 receive_prio [lo, hi] */
    struct timespec ts;
    unsigned lo, hi;
    long ret;
    int err;
    unsigned prio;
    char buf[64];
};

static void *call_thread(void *arg)
{
    struct call *c = arg;
    errno = 0;
    switch (c->kind) {
    case 0:
        c->ret = ust_mq_receive(c->s, c->q, c->buf, sizeof(c->buf), &c->prio);
        break;
    case 1:
        c->ret = ust_mq_send(c->s, c->q, "late", 4, 2);
        break;
    case 2:
        c->ret = ust_mq_timedreceive(c->s, c->q, c->buf, sizeof(c->buf), &c->prio, &c->ts);
        break;
    case 3:
        c->ret = ust_mq_timedreceive_mono(c->s, c->q, c->buf, sizeof(c->buf), &c->prio, &c->ts);
        break;
    case 4:
        c->ret = ust_mq_timedsend(c->s, c->q, "x", 1, 0, &c->ts);
        break;
    default:
        c->ret = ust_mq_receive_prio(c->s, c->q, c->buf, sizeof(c->buf), &c->prio, c->lo, c->hi,
                                     0, NULL);
        break;
    }
    c->err = errno;
    return NULL;
}

static void test_mq_blocked_receiver_woken_by_send(void **state)
{
    (void)state;
    struct ust_stack *s = started_stack(10);
    int q = open_q(s, "/wake", 4, 64, 0);
    struct call c = { .s = s, .q = q, .kind = 0 };
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, call_thread, &c), 0);
    wait_until_asleep(s, 1);
    assert_int_equal(ust_mq_send(s, q, "ping", 4, 9), 0);
    join_bounded(t);
    assert_int_equal(c.ret, 4);
    assert_memory_equal(c.buf, "ping", 4);
    assert_int_equal(c.prio, 9);
    ust_stack_free(s);
}

static void test_mq_blocked_sender_woken_by_receive(void **state)
{
    (void)state;
    struct ust_stack *s = started_stack(10);
    int q = open_q(s, "/full", 1, 64, 0);
    assert_int_equal(ust_mq_send(s, q, "first", 5, 1), 0);
    struct call c = { .s = s, .q = q, .kind = 1 };
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, call_thread, &c), 0);
    wait_until_asleep(s, 1);
    char buf[64];
    assert_int_equal(ust_mq_receive(s, q, buf, sizeof(buf), NULL), 5);
    join_bounded(t);
    assert_int_equal(c.ret, 0);
    assert_int_equal(ust_mq_receive(s, q, buf, sizeof(buf), NULL), 4);
    assert_memory_equal(buf, "late", 4);
    ust_stack_free(s);
}

/* mq_timedreceive01 / mq_timedsend01: ETIMEDOUT once the CLOCK_REALTIME
 * deadline passes while blocked. */
static void test_mq_timedreceive01_etimedout_while_blocked(void **state)
{
    (void)state;
    struct ust_stack *s = started_stack(10);
    int q = open_q(s, "/to", 1, 64, 0);
    struct call c = { .s = s, .q = q, .kind = 2, .ts = realtime_in_ms(50) };
    call_thread(&c);
    assert_int_equal(c.ret, -1);
    assert_int_equal(c.err, ETIMEDOUT);
    assert_int_equal(ust_mq_send(s, q, "f", 1, 0), 0);
    c.kind = 4;
    c.ts = realtime_in_ms(50);
    call_thread(&c);
    assert_int_equal(c.ret, -1);
    assert_int_equal(c.err, ETIMEDOUT);
    ust_stack_free(s);
}

/* A CLOCK_REALTIME deadline further than the 1 s re-check slice still
 * ends in ETIMEDOUT (the slices add up; a wakeup at a slice is not an
 * error). */
static void test_mq_timedreceive_realtime_deadline_across_slices(void **state)
{
    (void)state;
    struct ust_stack *s = started_stack(10);
    int q = open_q(s, "/slices", 1, 64, 0);
    struct call c = { .s = s, .q = q, .kind = 2, .ts = realtime_in_ms(1300) };
    call_thread(&c);
    assert_int_equal(c.ret, -1);
    assert_int_equal(c.err, ETIMEDOUT);
    ust_stack_free(s);
}

static void test_mq_timedreceive_mono_etimedout_while_blocked(void **state)
{
    (void)state;
    struct ust_stack *s = started_stack(10);
    int q = open_q(s, "/mono", 1, 64, 0);
    struct call c = { .s = s, .q = q, .kind = 3, .ts = mono_in_ms(50) };
    call_thread(&c);
    assert_int_equal(c.ret, -1);
    assert_int_equal(c.err, ETIMEDOUT);
    /* ... and a timed receive is still woken by a send before its deadline. */
    c.ts = mono_in_ms(BOUND_SEC * 1000);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, call_thread, &c), 0);
    wait_until_asleep(s, 1);
    assert_int_equal(ust_mq_send(s, q, "m", 1, 0), 0);
    join_bounded(t);
    assert_int_equal(c.ret, 1);
    ust_stack_free(s);
}

/* A blocked ranged receive ignores messages outside its band and wakes for
 * one inside it. */
static void test_mq_receive_prio_blocked_waits_for_its_band(void **state)
{
    (void)state;
    struct ust_stack *s = started_stack(10);
    int q = open_q(s, "/bandw", 4, 64, 0);
    struct call c = { .s = s, .q = q, .kind = 5, .lo = 10, .hi = 19 };
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, call_thread, &c), 0);
    wait_until_asleep(s, 1);
    assert_int_equal(ust_mq_send(s, q, "low", 3, 5), 0);
    assert_int_equal(ust_mq_send(s, q, "high", 4, 25), 0);
    assert_int_equal(sleepers(s), 1);
    assert_int_equal(ust_mq_send(s, q, "mine", 4, 12), 0);
    join_bounded(t);
    assert_int_equal(c.ret, 4);
    assert_memory_equal(c.buf, "mine", 4);
    assert_int_equal(c.prio, 12);
    struct mq_attr a;
    assert_int_equal(ust_mq_getattr(s, q, &a), 0);
    assert_int_equal(a.mq_curmsgs, 2);
    ust_stack_free(s);
}

static pthread_mutex_t notify_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t notify_cond = PTHREAD_COND_INITIALIZER;
static int notify_calls, notify_value;

static void on_notify(union sigval v)
{
    pthread_mutex_lock(&notify_lock);
    notify_calls++;
    notify_value = v.sival_int;
    pthread_cond_broadcast(&notify_cond);
    pthread_mutex_unlock(&notify_lock);
}

/* mq_notify01: SIGEV_THREAD runs the function with the user's value in a
 * new thread, once. */
static void test_mq_notify01_sigev_thread_runs_function(void **state)
{
    (void)state;
    struct ust_stack *s = started_stack(10);
    int q = open_q(s, "/thr", 4, 64, 0);
    notify_calls = 0;
    struct sigevent ev = { .sigev_notify = SIGEV_THREAD, .sigev_notify_function = on_notify };
    ev.sigev_value.sival_int = 77;
    assert_int_equal(ust_mq_notify(s, q, &ev), 0);
    assert_int_equal(ust_mq_send(s, q, "n", 1, 0), 0);
    struct timespec limit = realtime_in_ms(BOUND_SEC * 1000);
    pthread_mutex_lock(&notify_lock);
    while (notify_calls == 0)
        if (pthread_cond_timedwait(&notify_cond, &notify_lock, &limit) == ETIMEDOUT)
            break;
    int calls = notify_calls, value = notify_value;
    pthread_mutex_unlock(&notify_lock);
    assert_int_equal(calls, 1);
    assert_int_equal(value, 77);
    /* The registration is gone (one-shot): registering again works. */
    assert_int_equal(ust_mq_notify(s, q, &ev), 0);
    assert_int_equal(ust_mq_notify(s, q, NULL), 0);
    ust_stack_free(s);
}

/* No notification when a receiver is blocked: it takes the message and the
 * registration stays. */
static void test_mq_notify_not_sent_while_receiver_blocked(void **state)
{
    (void)state;
    struct ust_stack *s = started_stack(10);
    int q = open_q(s, "/nn", 4, 64, 0);
    notify_calls = 0;
    struct sigevent ev = { .sigev_notify = SIGEV_THREAD, .sigev_notify_function = on_notify };
    assert_int_equal(ust_mq_notify(s, q, &ev), 0);
    struct call c = { .s = s, .q = q, .kind = 0 };
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, call_thread, &c), 0);
    wait_until_asleep(s, 1);
    assert_int_equal(ust_mq_send(s, q, "r", 1, 0), 0);
    join_bounded(t);
    assert_int_equal(c.ret, 1);
    assert_int_equal(ust_mq_notify(s, q, &ev), -1);
    assert_int_equal(errno, EBUSY);
    pthread_mutex_lock(&notify_lock);
    assert_int_equal(notify_calls, 0);
    pthread_mutex_unlock(&notify_lock);
    ust_stack_free(s);
}

/* ust_stack_stop wakes a blocked receiver: nothing could wake it any
 * more, so it fails as a non-blocking call would (EAGAIN). */
static void test_mq_blocked_receiver_released_by_stack_stop(void **state)
{
    (void)state;
    struct ust_stack *s = started_stack(10);
    int q = open_q(s, "/stop", 2, 64, 0);
    struct call c = { .s = s, .q = q, .kind = 0 };
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, call_thread, &c), 0);
    wait_until_asleep(s, 1);
    assert_int_equal(ust_stack_stop(s), 0);
    join_bounded(t);
    assert_int_equal(c.ret, -1);
    assert_int_equal(c.err, EAGAIN);
    ust_stack_free(s);
}

struct pingpong {
    struct ust_stack *s;
    int ping, pong;
    long rounds;
    long failures;
};

static void *pong_thread(void *arg)
{
    struct pingpong *p = arg;
    char buf[64];
    for (long i = 0; i < p->rounds; i++) {
        if (ust_mq_receive(p->s, p->ping, buf, sizeof(buf), NULL) != 8 ||
            ust_mq_send(p->s, p->pong, buf, 8, 0) != 0)
            p->failures++;
    }
    return NULL;
}

/* Two threads ping-pong over two one-slot queues: every call blocks in
 * turn, so a lost wakeup would hang it (the join is bounded). */
static void test_mq_ping_pong_two_threads_every_wakeup_delivered(void **state)
{
    (void)state;
    struct ust_stack *s = started_stack(10);
    struct pingpong p = { .s = s, .ping = open_q(s, "/ping", 1, 64, 0),
                          .pong = open_q(s, "/pong", 1, 64, 0), .rounds = 20000 };
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, pong_thread, &p), 0);
    char buf[64];
    long bad = 0;
    for (long i = 0; i < p.rounds; i++) {
        long got = -1;
        if (ust_mq_send(s, p.ping, (const char *)&i, 8, 0) != 0 ||
            ust_mq_receive(s, p.pong, buf, sizeof(buf), NULL) != 8)
            bad++;
        memcpy(&got, buf, 8);
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
#define N_PRIOS 4

struct stress {
    struct ust_stack *s;
    int q;
    bool nonblock;
    unsigned per_sender;
    uint8_t *seen;          /* [sender * per_sender + seq] */
    unsigned long errors;
};

struct stress_msg {
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
    for (uint32_t i = 0; i < st->per_sender; i++) {
        struct stress_msg m = { a->id, i };
        unsigned prio = 1 + i % N_PRIOS;
        while (ust_mq_send(st->s, st->q, (const char *)&m, sizeof(m), prio) != 0) {
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
    /* Per (sender, priority): the last sequence this receiver saw. */
    int64_t last[N_SENDERS][N_PRIOS + 1];
    for (unsigned i = 0; i < N_SENDERS; i++)
        for (unsigned j = 0; j <= N_PRIOS; j++)
            last[i][j] = -1;
    char buf[64];
    for (;;) {
        unsigned prio;
        ssize_t n = ust_mq_receive(st->s, st->q, buf, sizeof(buf), &prio);
        if (n < 0) {
            if (st->nonblock && errno == EAGAIN) {
                sched_yield();
                continue;
            }
            __atomic_fetch_add(&st->errors, 1, __ATOMIC_RELAXED);
            return NULL;
        }
        if (prio == 0)          /* stop: sent after every sender finished */
            return NULL;
        struct stress_msg m;
        memcpy(&m, buf, sizeof(m));
        if (n != sizeof(m) || m.sender >= N_SENDERS || m.seq >= st->per_sender ||
            prio != 1 + m.seq % N_PRIOS || (int64_t)m.seq <= last[m.sender][prio]) {
            __atomic_fetch_add(&st->errors, 1, __ATOMIC_RELAXED);
            continue;
        }
        last[m.sender][prio] = m.seq;
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
    struct ust_stack *s = started_stack(64);
    struct stress st = { .s = s, .nonblock = nonblock };
    st.q = open_q(s, "/stress", 64, 64, nonblock ? O_NONBLOCK : 0);
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
    for (unsigned i = 0; i < N_RECEIVERS; i++) {
        while (ust_mq_send(s, st.q, "", 0, 0) != 0) {
            assert_int_equal(errno, EAGAIN);
            sched_yield();
        }
    }
    for (unsigned i = 0; i < N_RECEIVERS; i++)
        pthread_join(rcv[i], NULL);
    assert_int_equal(st.errors, 0);
    size_t total = (size_t)N_SENDERS * st.per_sender, bad = 0;
    for (size_t i = 0; i < total; i++)
        bad += st.seen[i] != 1;
    assert_int_equal(bad, 0);
    struct mq_attr a;
    assert_int_equal(ust_mq_getattr(s, st.q, &a), 0);
    assert_int_equal(a.mq_curmsgs, 0);
    free(st.seen);
    ust_stack_free(s);
}

static void test_mq_stress_8_senders_8_receivers_blocking(void **state)
{
    (void)state;
    run_stress(false);
}

static void test_mq_stress_8_senders_8_receivers_nonblocking(void **state)
{
    (void)state;
    run_stress(true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        ipc_dir_test(test_mq_blocked_receiver_woken_by_send),
        ipc_dir_test(test_mq_blocked_sender_woken_by_receive),
        ipc_dir_test(test_mq_timedreceive01_etimedout_while_blocked),
        ipc_dir_test(test_mq_timedreceive_realtime_deadline_across_slices),
        ipc_dir_test(test_mq_timedreceive_mono_etimedout_while_blocked),
        ipc_dir_test(test_mq_receive_prio_blocked_waits_for_its_band),
        ipc_dir_test(test_mq_notify01_sigev_thread_runs_function),
        ipc_dir_test(test_mq_notify_not_sent_while_receiver_blocked),
        ipc_dir_test(test_mq_blocked_receiver_released_by_stack_stop),
        ipc_dir_test(test_mq_ping_pong_two_threads_every_wakeup_delivered),
        ipc_dir_test(test_mq_stress_8_senders_8_receivers_blocking),
        ipc_dir_test(test_mq_stress_8_senders_8_receivers_nonblocking),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
