/* The kill test of the inter-process IPC issue: TRIALS times (default 200;
 * USTACK_SHMQ_KILL_TRIALS sets it, e.g. 5000 for a soak), a child process
 * hammering send and receive on a shared queue (POSIX priorities, 8 slots,
 * 64-byte messages, blocking and non-blocking calls) is SIGKILLed at a random
 * moment (seeded: USTACK_SHMQ_KILL_SEED) while the parent sends and receives
 * on the same queue. The same queue serves every trial.
 *
 * The child logs, in a shared append-only log whose entries are committed by
 * a counter store, every send that returned success and every message it
 * received; it receives straight into the log's in-flight buffer, which it
 * clears before each receive. After the kill the parent drains the queue and
 * checks, per trial:
 *  - no call of the parent ever hangs (every wait has a deadline; an alarm
 *    kills the test if a lock were held forever);
 *  - every message received (by either side or in the drain) is intact and
 *    seen exactly once;
 *  - every message whose send returned success (either side) was received,
 *    except at most the one the child was receiving when killed (it sits in
 *    the in-flight buffer: taken by the dead process, as with the kernel);
 *  - a message never reported sent appears only if it was the child's send
 *    in progress when killed;
 *  - the queue works afterwards (a marker message goes through, curmsgs 0).
 * The summary line gives trials, repairs (kills inside the lock), messages
 * checked, lost (must be 0) and duplicated (must be 0). */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "ipc/shm_futex.h"
#include "ipc/shm_queue.h"

#define KIND "test"
#define MSG_WORDS 8                     /* 64 bytes */
#define LOG_MAX (1u << 17)
#define CHILD_BIT (1ull << 63)

struct kill_log {
    _Atomic uint32_t started;
    _Atomic uint32_t nsent, nrecv;      /* commit counters of the arrays below */
    _Atomic uint32_t in_recv;           /* 1 while inside ust_shmq_receive */
    _Atomic uint64_t sending;           /* id of the send in progress, 0: none */
    _Atomic uint32_t corrupt;
    _Atomic uint32_t ops;               /* calls the child made */
    uint64_t inflight[MSG_WORDS];       /* the child's receive buffer */
    uint64_t sent[LOG_MAX];
    uint64_t recv[LOG_MAX];
};

static uint64_t rng_next(uint64_t *s)
{
    /* splitmix64 */
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void msg_fill(uint64_t *m, uint64_t id)
{
    m[0] = id;
    for (int i = 1; i < MSG_WORDS; i++)
        m[i] = id * 0x9e3779b97f4a7c15ull + (uint64_t)i;
}

static bool msg_ok(const uint64_t *m)
{
    for (int i = 1; i < MSG_WORDS; i++)
        if (m[i] != m[0] * 0x9e3779b97f4a7c15ull + (uint64_t)i)
            return false;
    return m[0] != 0;
}

static struct timespec mono_in_us(long us)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_nsec += us * 1000L;
    while (ts.tv_nsec >= 1000000000L) {
        ts.tv_nsec -= 1000000000L;
        ts.tv_sec++;
    }
    return ts;
}

static void on_alarm(int sig)
{
    (void)sig;
    static const char m[] = "test_shmq_kill: HANG (a call did not return in time)\n";
    if (write(2, m, sizeof(m) - 1) < 0) {
        /* nothing more to do */
    }
    _exit(3);
}

/* The victim: random sends and receives until killed. */
static void victim(const char *name, struct kill_log *log, uint64_t seed, uint32_t trial)
{
    struct ust_shmq *q = NULL;
    if (ust_shmq_open(NULL, KIND, name, 0, UST_SHMQ_RD | UST_SHMQ_WR, NULL, &q) != 0)
        _exit(1);
    uint64_t rs = seed;
    uint64_t seq = 0;
    atomic_store(&log->started, 1);
    for (;;) {
        uint64_t r = rng_next(&rs);
        unsigned flags = (r & 252) ? UST_SHMQ_NONBLOCK : 0;  /* 1 in 64 may wait */
        atomic_fetch_add_explicit(&log->ops, 1, memory_order_relaxed);
        struct timespec d = { 0, 0 };
        if (!(flags & UST_SHMQ_NONBLOCK))
            d = mono_in_us(20 + (long)(r >> 40) % 100);
        if (r & 1) {
            uint32_t n = atomic_load(&log->nsent);
            if (n >= LOG_MAX)
                continue;
            uint64_t id = CHILD_BIT | ((uint64_t)trial << 32) | ++seq;
            uint64_t m[MSG_WORDS];
            msg_fill(m, id);
            atomic_store(&log->sending, id);
            if (ust_shmq_send(q, m, sizeof(m), (int64_t)((r >> 8) % 4), flags, &d) == 0) {
                log->sent[n] = id;
                atomic_store_explicit(&log->nsent, n + 1, memory_order_release);
            }
            atomic_store(&log->sending, 0);
        } else {
            uint32_t n = atomic_load(&log->nrecv);
            if (n >= LOG_MAX)
                continue;
            log->inflight[0] = 0;
            atomic_store(&log->in_recv, 1);
            ssize_t got = ust_shmq_receive(q, log->inflight, sizeof(log->inflight), NULL, NULL,
                                           flags, &d);
            if (got == (ssize_t)sizeof(log->inflight)) {
                if (!msg_ok(log->inflight))
                    atomic_store(&log->corrupt, 1);
                log->recv[n] = log->inflight[0];
                atomic_store_explicit(&log->nrecv, n + 1, memory_order_release);
            } else if (got >= 0) {
                atomic_store(&log->corrupt, 1);
            }
            atomic_store(&log->in_recv, 0);
        }
    }
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static bool contains(const uint64_t *sorted, size_t n, uint64_t v)
{
    return bsearch(&v, sorted, n, sizeof(v), cmp_u64) != NULL;
}

struct totals {
    unsigned long repairs, checked, lost, dup, maybe_sent, taken_by_dead;
};

struct ids {
    uint64_t *v;
    size_t n, cap;
};

static void ids_add(struct ids *s, uint64_t id)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 4096;
        s->v = realloc(s->v, s->cap * sizeof(*s->v));
        assert_non_null(s->v);
    }
    s->v[s->n++] = id;
}

static void one_trial(struct ust_shmq *q, const char *name, struct kill_log *log,
                      uint64_t *rs, uint32_t trial, struct totals *t)
{
    memset(log, 0, offsetof(struct kill_log, sent));
    uint64_t child_seed = rng_next(rs);
    uint32_t kill_after_ops = (uint32_t)(rng_next(rs) % 3000);
    long nap_ns = (long)(rng_next(rs) % 300000);
    pid_t parent = getpid();
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(99);
        victim(name, log, child_seed, trial);
    }
    alarm(20);
    struct ids sent = { 0 }, recv = { 0 };
    for (int i = 0; i < 100000 && !atomic_load(&log->started); i++)
        usleep(50);
    assert_true(atomic_load(&log->started));
    /* Our own traffic until the child has made kill_after_ops calls (or 2 s
     * passed): it is running when the signal comes. */
    struct timespec end = mono_in_us(2000000), now;
    uint64_t seq = 0;
    do {
        uint64_t r = rng_next(rs);
        uint64_t m[MSG_WORDS];
        if (r & 1) {
            uint64_t id = ((uint64_t)trial << 32) | ++seq;
            msg_fill(m, id);
            if (ust_shmq_send(q, m, sizeof(m), (int64_t)((r >> 8) % 4), UST_SHMQ_NONBLOCK,
                              NULL) == 0)
                ids_add(&sent, id);
        } else {
            ssize_t n = ust_shmq_receive(q, m, sizeof(m), NULL, NULL, UST_SHMQ_NONBLOCK, NULL);
            if (n >= 0) {
                assert_int_equal(n, sizeof(m));
                assert_true(msg_ok(m));
                ids_add(&recv, m[0]);
            } else {
                assert_int_equal(n, -EAGAIN);
            }
        }
        if (atomic_load_explicit(&log->ops, memory_order_relaxed) >= kill_after_ops)
            break;
        clock_gettime(CLOCK_MONOTONIC, &now);
    } while (now.tv_sec < end.tv_sec || (now.tv_sec == end.tv_sec && now.tv_nsec < end.tv_nsec));
    /* The kill comes from a timer wake-up, which interrupts the child at
     * whatever instruction it is running (also on this CPU). */
    struct timespec nap = { 0, nap_ns };
    clock_nanosleep(CLOCK_MONOTONIC, 0, &nap, NULL);
    /* Most trials: also wait (briefly) until the child is seen running (its
     * call counter moves), so that the signal lands inside its loop rather
     * than in a sleep. */
    if (nap_ns % 4 != 0) {
        uint32_t o = atomic_load(&log->ops);
        for (int i = 0; i < 1000000 && atomic_load(&log->ops) - o < 2; i++)
            ;
        /* ... plus a random fraction of a call, to land anywhere in it. */
        for (long i = nap_ns % 100; i > 0; i--)
            ust_cpu_relax();            /* about 23 ns each here */
    }
    kill(pid, SIGKILL);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    assert_int_equal(atomic_load(&log->corrupt), 0);

    /* Drain: every call bounded; the first may repair the dead child's lock. */
    uint64_t m[MSG_WORDS];
    ssize_t n;
    while ((n = ust_shmq_receive(q, m, sizeof(m), NULL, NULL, UST_SHMQ_NONBLOCK, NULL)) >= 0) {
        assert_int_equal(n, sizeof(m));
        assert_true(msg_ok(m));
        ids_add(&recv, m[0]);
    }
    assert_int_equal(n, -EAGAIN);
    /* The queue keeps working. */
    msg_fill(m, 0xfeedull);
    assert_int_equal(ust_shmq_send(q, m, sizeof(m), 1, UST_SHMQ_NONBLOCK, NULL), 0);
    uint64_t back[MSG_WORDS];
    struct timespec d = mono_in_us(2000000);
    assert_int_equal(ust_shmq_receive(q, back, sizeof(back), NULL, NULL, 0, &d), sizeof(back));
    assert_int_equal(back[0], 0xfeedull);
    struct ust_shmq_info info;
    assert_int_equal(ust_shmq_getattr(q, &info), 0);
    assert_int_equal(info.curmsgs, 0);
    alarm(0);

    /* Accounting. */
    uint32_t cs = atomic_load(&log->nsent), cr = atomic_load(&log->nrecv);
    for (uint32_t i = 0; i < cs; i++)
        ids_add(&sent, log->sent[i]);
    for (uint32_t i = 0; i < cr; i++)
        ids_add(&recv, log->recv[i]);
    qsort(sent.v, sent.n, sizeof(uint64_t), cmp_u64);
    qsort(recv.v, recv.n, sizeof(uint64_t), cmp_u64);
    for (size_t i = 1; i < recv.n; i++)
        if (recv.v[i] == recv.v[i - 1])
            t->dup++;
    uint64_t pending = atomic_load(&log->sending);
    for (size_t i = 0; i < recv.n; i++) {
        if (contains(sent.v, sent.n, recv.v[i]))
            continue;
        assert_true(recv.v[i] == pending);  /* reported sent, or the send in progress */
        t->maybe_sent++;
    }
    uint64_t taken = atomic_load(&log->in_recv) ? log->inflight[0] : 0;
    for (size_t i = 0; i < sent.n; i++) {
        if (contains(recv.v, recv.n, sent.v[i]))
            continue;
        if (taken && sent.v[i] == taken && msg_ok(log->inflight)) {
            t->taken_by_dead++;
            continue;
        }
        t->lost++;
        print_error("trial %u: lost message %#llx\n", trial, (unsigned long long)sent.v[i]);
    }
    t->checked += sent.n;
    free(sent.v);
    free(recv.v);
}

static void test_shmq_kill_random_moment_survivor_sees_every_sent_message_once(void **state)
{
    (void)state;
    const char *e = getenv("USTACK_SHMQ_KILL_TRIALS");
    unsigned trials = e ? (unsigned)strtoul(e, NULL, 10) : 200;
    e = getenv("USTACK_SHMQ_KILL_SEED");
    uint64_t seed = e ? strtoull(e, NULL, 0) : 0x5eedull;
    signal(SIGALRM, on_alarm);
    char name[64];
    snprintf(name, sizeof(name), "k%d", (int)getpid());
    struct ust_shmq_attr a = { .maxmsg = 8, .msgsize = 64, .flags = UST_SHMQ_PRIO,
                               .mode = 0600 };
    struct ust_shmq *q = NULL;
    assert_int_equal(ust_shmq_open(NULL, KIND, name, O_CREAT | O_EXCL, UST_SHMQ_RD | UST_SHMQ_WR, &a,
                                   &q), 0);
    struct kill_log *log = mmap(NULL, sizeof(*log), PROT_READ | PROT_WRITE,
                                MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    assert_true(log != MAP_FAILED);
    struct totals t = { 0 };
    uint64_t rs = seed;
    for (unsigned i = 0; i < trials; i++)
        one_trial(q, name, log, &rs, i + 1, &t);
    struct ust_shmq_info info;
    assert_int_equal(ust_shmq_getattr(q, &info), 0);
    t.repairs = info.repairs;
    print_message("shmq kill test: seed %#llx, %u trials, 0 hangs, %lu kills inside the lock "
                  "(repaired), %lu reported-sent messages checked, %lu lost, %lu duplicated, "
                  "%lu sent-unreported delivered once, %lu taken by the dying receiver\n",
                  (unsigned long long)seed, trials, t.repairs, t.checked, t.lost, t.dup,
                  t.maybe_sent, t.taken_by_dead);
    assert_int_equal(t.lost, 0);
    assert_int_equal(t.dup, 0);
    munmap(log, sizeof(*log));
    ust_shmq_close(q);
    assert_int_equal(ust_shmq_unlink(NULL, KIND, name), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shmq_kill_random_moment_survivor_sees_every_sent_message_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
