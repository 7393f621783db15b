// The kill test of tests/unit/test_shmq_kill.c, run against
// boost::interprocess::message_queue instead of ustack's shared queue, so that
// the two can be compared (bench/boost_kill.sh runs both; bench/README.md has
// the results). Not part of the library build or of ctest.
//
// Protocol, per trial (mirrors test_shmq_kill.c; differences are marked):
//  - a queue of 8 messages of 64 bytes, priorities 0..3 (Boost's message_queue
//    always orders by priority, like ustack's UST_SHMQ_PRIO);
//  - the "survivor" process creates the queue, forks a victim that opens it by
//    name and hammers random sends and receives on it (63 in 64 calls
//    try_send/try_receive, 1 in 64 timed_send/timed_receive with a deadline
//    20-119 us away), logging in a shared append-only log every send that
//    returned success and every message it received (it receives straight
//    into the log's in-flight buffer, cleared before each receive);
//  - the survivor sends and receives on the queue too (try_*), until the
//    victim has made a random number (0..2999) of calls, naps 0..300 us, in
//    most trials waits until the victim is seen running and spins a random
//    fraction of a call, then SIGKILLs it;
//  - after the kill the survivor opens the queue again by name (a new handle),
//    drains it with timed_receive (1 ms deadline per call), then checks that the
//    queue still works: a marker goes through try_send and timed_receive and
//    get_num_msg() is 0;
//  - accounting as in test_shmq_kill.c: duplicates, reported-sent messages
//    never received (lost; the one message the victim was receiving when it
//    died is "taken by the dead receiver"), received messages never reported
//    sent (allowed only for the victim's send in progress).
// Differences: each trial uses a fresh queue (created by the survivor, removed
// with message_queue::remove by the driver afterwards), because a queue left
// locked by a dead process would hang every later trial; and the survivor is
// a child of a driver process, so that a hang ends the survivor but not the
// benchmark.
//
// Hang detection: everything the survivor does after the kill must finish
// within the bound (-b, default 2000 ms), measured by an interval timer whose
// signal handler leaves the blocked call (siglongjmp), records where it was,
// does the accounting and exits. The driver also kills a survivor that has not
// finished 30 s after it started (watchdog with waitpid). Nothing blocks the
// benchmark for longer than that.
//
// Before touching the queue after the kill, the survivor also maps the
// queue's shared memory itself and probes the header: whether the queue's
// mutex is held (interprocess_mutex::try_lock() fails: the victim died inside
// the lock) and whether the victim is still counted as a blocked sender or
// receiver (it died inside timed_send/timed_receive's wait).
//
// With -k the survivor also checks, after the drain, that blocked calls are
// still woken (test_shmq_kill.c does not do this): a helper process blocks in
// timed_receive on the empty queue and the survivor sends; then the helper
// blocks in timed_send on the full queue and the survivor receives. A helper
// that is only released by its deadline (bound / 4) is a lost wake-up; a call
// that does not return is a hang, as above.
//
// -w N makes 1 in N of the victim's calls timed (default 64, as in
// test_shmq_kill.c; 0: every call is try_send/try_receive).
//
// -q ustack (in a build with -DWITH_USTACK, linked with ustack_shim.c and
// src/ipc/shm_*.c, as bench/boost_kill.sh does) runs the same driver against
// ustack's shared queue instead; "lock held" then means ustack repaired a
// lock whose holder died (its repairs counter).
//
// Usage: boost_mq_kill [-n trials] [-s seed] [-b bound_ms] [-w N] [-k] [-q boost|ustack] [-v]
// Last line: "RESULT boost ..." with the totals, for bench/boost_kill.sh.
#include <boost/interprocess/ipc/message_queue.hpp>
#include <boost/interprocess/mapped_region.hpp>
#include <boost/interprocess/shared_memory_object.hpp>
#include <boost/date_time/posix_time/posix_time_types.hpp>

#include <algorithm>
#include <atomic>
#include <memory>
#include <stdexcept>
#include <cerrno>
#include <cinttypes>
#include <csetjmp>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#ifdef WITH_USTACK
#include "ustack_shim.h"
#endif

namespace bip = boost::interprocess;
namespace bpt = boost::posix_time;

enum { MSG_WORDS = 8, QUEUE_DEPTH = 8 };          // 64-byte messages, 8 slots
static const uint32_t LOG_MAX = 1u << 17;
static const uint64_t CHILD_BIT = 1ull << 63;
static long WAKE_DEADLINE_MS = 500;               // bound / 4 (-b)

// The victim's shared log, as in test_shmq_kill.c.
struct kill_log {
    std::atomic<uint32_t> started;
    std::atomic<uint32_t> nsent, nrecv;   // commit counters of the arrays below
    std::atomic<uint32_t> in_recv;        // 1 while inside a receive call
    std::atomic<uint64_t> sending;        // id of the send in progress, 0: none
    std::atomic<uint32_t> corrupt;
    std::atomic<uint32_t> ops;            // calls the victim made
    uint64_t inflight[MSG_WORDS];         // the victim's receive buffer
    uint64_t sent[LOG_MAX];
    uint64_t recv[LOG_MAX];
};

// Where the survivor is; also where it hung.
enum phase {
    PH_SETUP, PH_TRAFFIC, PH_KILLED, PH_PROBE, PH_REOPEN, PH_DRAIN, PH_MARK_SEND,
    PH_MARK_RECV, PH_NUM_MSG, PH_WAKE_RECV, PH_WAKE_SEND, PH_DONE, PH_COUNT
};
static const char *const phase_name[PH_COUNT] = {
    "setup", "traffic", "killed", "probe", "reopen", "drain (timed_receive)",
    "marker try_send", "marker timed_receive", "get_num_msg",
    "waking a blocked receiver", "waking a blocked sender", "done"
};

// What the survivor reports to the driver, one trial.
struct trial_result {
    std::atomic<int> phase;
    int hung;                    // 1: a call after the kill did not return within the bound
    int unusable;                // the queue failed the check after the drain (or hung)
    int mutex_held;              // probe: the queue's mutex was held by the dead victim
    int dead_waiter;             // probe: m_blocked_senders/receivers != 0 after the kill
    int victim_op;               // 1 send, 2 receive, 0 between calls, at the kill
    int lost_wakeup;             // a blocked timed_receive/timed_send was not woken
    std::atomic<int> helper_ms;  // how long the helper's blocked call took
    unsigned long checked, lost, dup, maybe_sent, taken_by_dead, phantom, stranded, drained;
    char error[160];
};

static uint64_t rng_next(uint64_t *s)
{
    // splitmix64, as in test_shmq_kill.c
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

static inline void cpu_relax()
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#else
    __asm__ __volatile__("" ::: "memory");
#endif
}

static bpt::ptime deadline_in_us(long us)
{
    // Boost's timed calls take an absolute CLOCK_REALTIME time (universal_time).
    return bpt::microsec_clock::universal_time() + bpt::microseconds(us);
}

static double mono_s()
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

// ---------------------------------------------------------------- queues

// The calls the protocol makes, over Boost's message_queue or (-q ustack)
// ustack's shared queue. Messages are MSG_WORDS words. Timed calls take a
// relative timeout in microseconds. try_* and timed_* return false when the
// queue is full / empty (or the time ran out); any other error throws.
class queue {
public:
    virtual ~queue() {}
    virtual bool try_send(const uint64_t *m, unsigned prio) = 0;
    virtual bool timed_send(const uint64_t *m, unsigned prio, long us) = 0;
    virtual bool try_receive(uint64_t *m, size_t &got) = 0;
    virtual bool timed_receive(uint64_t *m, size_t &got, long us) = 0;
    virtual unsigned long num_msg() = 0;
};

static const size_t MSG_BYTES = sizeof(uint64_t) * MSG_WORDS;

class boost_queue : public queue {
    bip::message_queue q_;
public:
    explicit boost_queue(const char *name) : q_(bip::open_only, name) {}
    boost_queue(const char *name, bool) : q_(bip::create_only, name, QUEUE_DEPTH, MSG_BYTES) {}
    bool try_send(const uint64_t *m, unsigned prio) override
    {
        return q_.try_send(m, MSG_BYTES, prio);
    }
    bool timed_send(const uint64_t *m, unsigned prio, long us) override
    {
        return q_.timed_send(m, MSG_BYTES, prio, deadline_in_us(us));
    }
    bool try_receive(uint64_t *m, size_t &got) override
    {
        bip::message_queue::size_type n = 0;
        unsigned prio = 0;
        bool ok = q_.try_receive(m, MSG_BYTES, n, prio);
        got = n;
        return ok;
    }
    bool timed_receive(uint64_t *m, size_t &got, long us) override
    {
        bip::message_queue::size_type n = 0;
        unsigned prio = 0;
        bool ok = q_.timed_receive(m, MSG_BYTES, n, prio, deadline_in_us(us));
        got = n;
        return ok;
    }
    unsigned long num_msg() override { return q_.get_num_msg(); }
};

#ifdef WITH_USTACK
class ustack_queue : public queue {
    struct ust_shmq *q_;
    static void check(long rc, const char *what)
    {
        if (rc < 0 && rc != -EAGAIN && rc != -ETIMEDOUT) {
            char b[96];
            snprintf(b, sizeof(b), "ustack %s: %s", what, strerror((int)-rc));
            throw std::runtime_error(b);
        }
    }
public:
    ustack_queue(const char *name, bool create)
    {
        int err = 0;
        q_ = ushim_open(name, create, &err);
        if (!q_)
            check(err < 0 ? err : -EINVAL, "open");
        if (!q_)
            throw std::runtime_error("ustack open failed");
    }
    ~ustack_queue() override { ushim_close(q_); }
    bool try_send(const uint64_t *m, unsigned prio) override
    {
        int rc = ushim_send(q_, m, MSG_BYTES, prio, -1);
        check(rc, "send");
        return rc == 0;
    }
    bool timed_send(const uint64_t *m, unsigned prio, long us) override
    {
        int rc = ushim_send(q_, m, MSG_BYTES, prio, us);
        check(rc, "send");
        return rc == 0;
    }
    bool try_receive(uint64_t *m, size_t &got) override
    {
        long n = ushim_receive(q_, m, MSG_BYTES, -1);
        check(n, "receive");
        got = n >= 0 ? (size_t)n : 0;
        return n >= 0;
    }
    bool timed_receive(uint64_t *m, size_t &got, long us) override
    {
        long n = ushim_receive(q_, m, MSG_BYTES, us);
        check(n, "receive");
        got = n >= 0 ? (size_t)n : 0;
        return n >= 0;
    }
    unsigned long num_msg() override
    {
        unsigned long cur = 0, rep = 0;
        check(ushim_info(q_, &cur, &rep), "getattr");
        return cur;
    }
    unsigned long repairs()
    {
        unsigned long cur = 0, rep = 0;
        check(ushim_info(q_, &cur, &rep), "getattr");
        return rep;
    }
};
#endif

static bool g_ustack;           // -q ustack

static queue *queue_create(const char *name)
{
#ifdef WITH_USTACK
    if (g_ustack)
        return new ustack_queue(name, true);
#endif
    return new boost_queue(name, true);
}

static queue *queue_open(const char *name)
{
#ifdef WITH_USTACK
    if (g_ustack)
        return new ustack_queue(name, false);
#endif
    return new boost_queue(name);
}

static void queue_remove(const char *name)
{
#ifdef WITH_USTACK
    if (g_ustack) {
        ushim_unlink(name);
        return;
    }
#endif
    bip::message_queue::remove(name);
}

// ---------------------------------------------------------------- victim

[[noreturn]] static void victim(const char *name, kill_log *log, uint64_t seed, uint32_t trial,
                               unsigned wait_one_in)
{
    try {
        std::unique_ptr<queue> q(queue_open(name));
        uint64_t rs = seed;
        uint64_t seq = 0;
        log->started.store(1);
        for (;;) {
            uint64_t r = rng_next(&rs);
            // 1 in 64 calls may wait, as in test_shmq_kill.c ((r & 252) != 0);
            // -w changes the ratio (0: never).
            bool nonblock = wait_one_in == 64 ? (r & 252) != 0
                          : wait_one_in == 0  ? true
                                              : ((r >> 2) % wait_one_in) != 0;
            log->ops.fetch_add(1, std::memory_order_relaxed);
            long d = nonblock ? -1 : 20 + (long)((r >> 40) % 100);
            if (r & 1) {
                uint32_t n = log->nsent.load();
                if (n >= LOG_MAX)
                    continue;
                uint64_t id = CHILD_BIT | ((uint64_t)trial << 32) | ++seq;
                uint64_t m[MSG_WORDS];
                msg_fill(m, id);
                unsigned prio = (unsigned)((r >> 8) % 4);
                log->sending.store(id);
                bool ok = nonblock ? q->try_send(m, prio) : q->timed_send(m, prio, d);
                if (ok) {
                    log->sent[n] = id;
                    log->nsent.store(n + 1, std::memory_order_release);
                }
                log->sending.store(0);
            } else {
                uint32_t n = log->nrecv.load();
                if (n >= LOG_MAX)
                    continue;
                log->inflight[0] = 0;
                log->in_recv.store(1);
                size_t got = 0;
                bool ok = nonblock ? q->try_receive(log->inflight, got)
                                   : q->timed_receive(log->inflight, got, d);
                if (ok) {
                    if (got != sizeof(log->inflight) || !msg_ok(log->inflight))
                        log->corrupt.store(1);
                    log->recv[n] = log->inflight[0];
                    log->nrecv.store(n + 1, std::memory_order_release);
                }
                log->in_recv.store(0);
            }
        }
    } catch (...) {
        _exit(1);
    }
}

// ---------------------------------------------------------------- survivor

// The survivor's own record of ids (fixed arrays: no allocation, so the hang
// handler can still do the accounting).
struct id_set {
    uint64_t v[2 * LOG_MAX];
    size_t n;
    void add(uint64_t id) { if (n < sizeof(v) / sizeof(v[0])) v[n++] = id; }
};
static id_set g_sent, g_recv;
static sigjmp_buf g_hang_jmp;
static trial_result *g_res;

static void on_bound(int)
{
    siglongjmp(g_hang_jmp, 1);
}

static void arm_bound(long ms)
{
    struct itimerval it;
    memset(&it, 0, sizeof(it));
    it.it_value.tv_sec = ms / 1000;
    it.it_value.tv_usec = (ms % 1000) * 1000;
    setitimer(ITIMER_REAL, &it, nullptr);
}

static void set_phase(int p) { g_res->phase.store(p); }

static void fail(const char *what)
{
    if (!g_res->error[0])
        snprintf(g_res->error, sizeof(g_res->error), "%s (in %s)", what,
                 phase_name[g_res->phase.load()]);
}

static bool contains(const uint64_t *sorted, size_t n, uint64_t v)
{
    return std::binary_search(sorted, sorted + n, v);
}

// Lost / duplicated / unexplained, over what the survivor and the victim saw.
static void account(kill_log *log, trial_result *res, bool hung)
{
    uint32_t cs = log->nsent.load(), cr = log->nrecv.load();
    for (uint32_t i = 0; i < cs; i++)
        g_sent.add(log->sent[i]);
    for (uint32_t i = 0; i < cr; i++)
        g_recv.add(log->recv[i]);
    std::sort(g_sent.v, g_sent.v + g_sent.n);
    std::sort(g_recv.v, g_recv.v + g_recv.n);
    for (size_t i = 1; i < g_recv.n; i++)
        if (g_recv.v[i] == g_recv.v[i - 1])
            res->dup++;
    uint64_t pending = log->sending.load();
    for (size_t i = 0; i < g_recv.n; i++) {
        if (contains(g_sent.v, g_sent.n, g_recv.v[i]))
            continue;
        if (g_recv.v[i] == pending)
            res->maybe_sent++;
        else
            res->phantom++;
    }
    uint64_t taken = log->in_recv.load() ? log->inflight[0] : 0;
    for (size_t i = 0; i < g_sent.n; i++) {
        if (contains(g_recv.v, g_recv.n, g_sent.v[i]))
            continue;
        if (taken && g_sent.v[i] == taken && msg_ok(log->inflight)) {
            res->taken_by_dead++;
            continue;
        }
        // In a trial that hung, a message still in the wedged queue is
        // stranded: it is in the shared memory, but no one can take it.
        if (hung)
            res->stranded++;
        else
            res->lost++;
    }
    res->checked += g_sent.n;
}

// Looks at the queue header without Boost's locking: is the mutex held, is a
// dead waiter still counted?
static void probe(const char *name, trial_result *res)
{
    if (g_ustack) {
        res->dead_waiter = -1;      // not observable; mutex_held: from repairs, later
        return;
    }
    typedef bip::ipcdetail::mq_hdr_t<bip::offset_ptr<void> > hdr_t;
    typedef bip::ipcdetail::managed_open_or_create_impl<bip::shared_memory_object, 0, true, false>
        impl_t;
    bip::shared_memory_object shm(bip::open_only, name, bip::read_write);
    bip::mapped_region region(shm, bip::read_write);
    hdr_t *h = reinterpret_cast<hdr_t *>(static_cast<char *>(region.get_address()) +
                                         impl_t::ManagedOpenOrCreateUserOffset);
    if (h->m_mutex.try_lock()) {
        h->m_mutex.unlock();
    } else {
        res->mutex_held = 1;
    }
    if (h->m_blocked_senders != 0 || h->m_blocked_receivers != 0)
        res->dead_waiter = 1;
}

// The helper of wake_checks: one blocked call, timed, reported in ms.
[[noreturn]] static void wake_helper(const char *name, trial_result *res, bool send)
{
    try {
        std::unique_ptr<queue> q(queue_open(name));
        uint64_t m[MSG_WORDS];
        msg_fill(m, 0xbeefull);
        size_t got = 0;
        double t = mono_s();
        bool ok = send ? q->timed_send(m, 0, WAKE_DEADLINE_MS * 1000)
                       : q->timed_receive(m, got, WAKE_DEADLINE_MS * 1000);
        res->helper_ms.store((int)((mono_s() - t) * 1000.0));
        _exit(ok ? 0 : 1);
    } catch (...) {
        _exit(2);
    }
}

// Runs one wake check: the helper blocks (we give it 20 ms to get there),
// then `act` should wake it. A helper that only returns at its deadline
// (WAKE_DEADLINE_MS) was not woken: a lost wake-up.
template <class Act>
static void wake_one(const char *name, trial_result *res, bool send, Act act)
{
    res->helper_ms.store(-1);
    pid_t me = getpid();
    pid_t h = fork();
    if (h < 0) {
        fail("fork");
        return;
    }
    if (h == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != me)
            _exit(99);
        wake_helper(name, res, send);
    }
    usleep(20000);
    act();
    int st = 0;
    waitpid(h, &st, 0);
    int ms = res->helper_ms.load();
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0 || ms < 0 || ms >= WAKE_DEADLINE_MS / 2) {
        res->lost_wakeup = 1;
        res->unusable = 1;
        fail(send ? "a blocked timed_send was not woken by a receive"
                  : "a blocked timed_receive was not woken by a send");
    }
}

static void wake_checks(const char *name, queue &q, trial_result *res)
{
    uint64_t m[MSG_WORDS];
    size_t got = 0;
    set_phase(PH_WAKE_RECV);
    wake_one(name, res, false, [&] {
        msg_fill(m, 0xbeefull);
        if (!q.try_send(m, 0))
            fail("try_send on the empty queue failed");
    });
    set_phase(PH_WAKE_SEND);
    msg_fill(m, 0xbeefull);
    for (int i = 0; i < QUEUE_DEPTH; i++)
        if (!q.try_send(m, 0))
            fail("could not fill the queue");
    wake_one(name, res, true, [&] {
        if (!q.try_receive(m, got))
            fail("try_receive on the full queue failed");
    });
    while (q.try_receive(m, got))
        ;
}

struct trial_params {
    uint64_t child_seed, traffic_seed;
    uint32_t kill_after_ops;
    long nap_ns;
    long bound_ms;
    unsigned wait_one_in;
    bool wake_checks;
    uint32_t trial;
};

[[noreturn]] static void survivor(const char *name, kill_log *log, trial_result *res,
                                  const trial_params &p)
{
    g_res = res;
    set_phase(PH_SETUP);
    memset(static_cast<void *>(log), 0, offsetof(kill_log, sent));
    g_sent.n = g_recv.n = 0;
    pid_t pid = -1;
    // Kept open to the end (as test_shmq_kill's parent does): closing it
    // right after the kill could touch the queue outside the bounded part.
    std::unique_ptr<queue> q;
    try {
        q.reset(queue_create(name));
        pid_t me = getpid();
        pid = fork();
        if (pid < 0) {
            fail("fork");
            _exit(2);
        }
        if (pid == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (getppid() != me)
                _exit(99);
            victim(name, log, p.child_seed, p.trial, p.wait_one_in);
        }
        for (int i = 0; i < 100000 && !log->started.load(); i++)
            usleep(50);
        if (!log->started.load()) {
            fail("victim did not start");
            kill(pid, SIGKILL);
            waitpid(pid, nullptr, 0);
            _exit(2);
        }
        set_phase(PH_TRAFFIC);
        // Our own traffic until the victim has made kill_after_ops calls (or 2 s).
        uint64_t rs = p.traffic_seed;
        uint64_t seq = 0;
        double end = mono_s() + 2.0;
        do {
            uint64_t r = rng_next(&rs);
            uint64_t m[MSG_WORDS];
            if (r & 1) {
                uint64_t id = ((uint64_t)p.trial << 32) | ++seq;
                msg_fill(m, id);
                if (q->try_send(m, (unsigned)((r >> 8) % 4)))
                    g_sent.add(id);
            } else {
                size_t got = 0;
                if (q->try_receive(m, got)) {
                    if (got != sizeof(m) || !msg_ok(m))
                        fail("corrupt message received before the kill");
                    g_recv.add(m[0]);
                }
            }
            if (log->ops.load(std::memory_order_relaxed) >= p.kill_after_ops)
                break;
        } while (mono_s() < end);
        // The kill comes from a timer wake-up, as in test_shmq_kill.c.
        struct timespec nap = { 0, p.nap_ns };
        clock_nanosleep(CLOCK_MONOTONIC, 0, &nap, nullptr);
        if (p.nap_ns % 4 != 0) {
            uint32_t o = log->ops.load();
            for (int i = 0; i < 1000000 && log->ops.load() - o < 2; i++)
                ;
            for (long i = p.nap_ns % 100; i > 0; i--)
                cpu_relax();
        }
        kill(pid, SIGKILL);
        int st = 0;
        waitpid(pid, &st, 0);
        set_phase(PH_KILLED);
        if (!(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL))
            fail("victim did not die of SIGKILL (it exited on its own)");
        if (log->corrupt.load())
            fail("victim received a corrupt message");
        res->victim_op = log->sending.load() ? 1 : log->in_recv.load() ? 2 : 0;
    } catch (const std::exception &e) {
        fail(e.what());
        if (pid > 0) {
            kill(pid, SIGKILL);
            waitpid(pid, nullptr, 0);
        }
        _exit(2);
    }

    // From here on, everything is bounded.
    signal(SIGALRM, on_bound);
    if (sigsetjmp(g_hang_jmp, 1)) {
        res->hung = 1;
        res->unusable = 1;
        account(log, res, true);
        _exit(3);
    }
    arm_bound(p.bound_ms);
    try {
        set_phase(PH_PROBE);
        probe(name, res);
        set_phase(PH_REOPEN);
        std::unique_ptr<queue> q2(queue_open(name));
        set_phase(PH_DRAIN);
        uint64_t m[MSG_WORDS];
        size_t got = 0;
        while (q2->timed_receive(m, got, 1000)) {
            if (got != sizeof(m) || !msg_ok(m))
                fail("corrupt message in the drain");
            g_recv.add(m[0]);
            res->drained++;
        }
        // The queue keeps working.
        set_phase(PH_MARK_SEND);
        msg_fill(m, 0xfeedull);
        if (!q2->try_send(m, 1)) {
            res->unusable = 1;
            fail("marker try_send failed");
        }
        set_phase(PH_MARK_RECV);
        uint64_t back[MSG_WORDS] = { 0 };
        if (!q2->timed_receive(back, got, 500000) ||
            got != sizeof(back) || back[0] != 0xfeedull) {
            res->unusable = 1;
            fail("marker not received back");
        }
        set_phase(PH_NUM_MSG);
        if (q2->num_msg() != 0) {
            res->unusable = 1;
            fail("get_num_msg() != 0 after the drain");
        }
#ifdef WITH_USTACK
        if (g_ustack && static_cast<ustack_queue *>(q2.get())->repairs() != 0)
            res->mutex_held = 1;    // the victim died holding the lock; repaired
#endif
        // With -k, beyond test_shmq_kill.c: blocked calls are still woken. A helper
        // blocks in timed_receive on the empty queue and we send; then it
        // blocks in timed_send on the full queue and we receive.
        if (p.wake_checks && !res->unusable)
            wake_checks(name, *q2, res);
    } catch (const std::exception &e) {
        res->unusable = 1;
        fail(e.what());
    }
    arm_bound(0);
    set_phase(PH_DONE);
    account(log, res, false);
    _exit(0);
}

// ---------------------------------------------------------------- driver

static void usage()
{
    fprintf(stderr, "usage: boost_mq_kill [-n trials] [-s seed] [-b bound_ms (>= 200)] "
                    "[-w N: 1 in N victim calls is timed, 0 never; default 64] "
                    "[-k: also check that blocked calls are woken] [-q boost|ustack] [-v]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    unsigned trials = 200;
    uint64_t seed = 0x5eedull;
    long bound_ms = 2000;
    bool verbose = false;
    int c;
    unsigned wait_one_in = 64;
    bool wake = false;
    while ((c = getopt(argc, argv, "n:s:b:w:q:kv")) != -1) {
        switch (c) {
        case 'n': trials = (unsigned)strtoul(optarg, nullptr, 0); break;
        case 's': seed = strtoull(optarg, nullptr, 0); break;
        case 'b': bound_ms = strtol(optarg, nullptr, 0); break;
        case 'w': wait_one_in = (unsigned)strtoul(optarg, nullptr, 0); break;
        case 'k': wake = true; break;
        case 'q':
            if (strcmp(optarg, "ustack") == 0) {
#ifdef WITH_USTACK
                g_ustack = true;
#else
                fprintf(stderr, "boost_mq_kill: built without WITH_USTACK\n");
                return 2;
#endif
            } else if (strcmp(optarg, "boost") != 0) {
                usage();
            }
            break;
        case 'v': verbose = true; break;
        default: usage();
        }
    }
    if (bound_ms < 200)
        usage();
    WAKE_DEADLINE_MS = bound_ms / 4;

    void *mem = mmap(nullptr, sizeof(kill_log) + sizeof(trial_result), PROT_READ | PROT_WRITE,
                     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    kill_log *log = static_cast<kill_log *>(mem);
    trial_result *res = reinterpret_cast<trial_result *>(static_cast<char *>(mem) + sizeof(kill_log));

    char name[64];
    snprintf(name, sizeof(name), "%s-kill.%d", g_ustack ? "ustack" : "boost", (int)getpid());

    unsigned long lost_wakeups = 0;
    unsigned long hangs = 0, watchdog = 0, unusable = 0, held = 0, waiters = 0, errors = 0;
    unsigned long checked = 0, lost = 0, dup = 0, maybe = 0, taken = 0, phantom = 0,
                  stranded = 0, completed = 0;
    unsigned long hang_at[PH_COUNT] = { 0 }, hang_held = 0, hang_waiter = 0;
    uint64_t rs = seed;
    double t0 = mono_s();
    for (unsigned i = 0; i < trials; i++) {
        trial_params p;
        p.trial = i + 1;
        p.child_seed = rng_next(&rs);
        p.kill_after_ops = (uint32_t)(rng_next(&rs) % 3000);
        p.nap_ns = (long)(rng_next(&rs) % 300000);
        p.traffic_seed = rng_next(&rs);
        p.bound_ms = bound_ms;
        p.wait_one_in = wait_one_in;
        p.wake_checks = wake;

        queue_remove(name);
        memset(static_cast<void *>(res), 0, sizeof(*res));
        fflush(stdout);
        pid_t s = fork();
        if (s < 0) {
            perror("fork");
            return 1;
        }
        if (s == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            survivor(name, log, res, p);
        }
        // Watchdog: the survivor's own timer bounds everything after the kill;
        // this bounds the rest (and a survivor whose timer failed).
        double give_up = mono_s() + 30.0 + (double)bound_ms / 1000.0;
        int st = 0;
        pid_t w;
        bool killed_by_watchdog = false;
        while ((w = waitpid(s, &st, WNOHANG)) == 0) {
            if (mono_s() > give_up) {
                kill(s, SIGKILL);
                waitpid(s, &st, 0);
                killed_by_watchdog = true;
                break;
            }
            usleep(1000);
        }
        queue_remove(name);

        int ph = res->phase.load();
        bool hung = res->hung || killed_by_watchdog;
        if (killed_by_watchdog) {
            watchdog++;
            res->unusable = 1;
        }
        if (res->mutex_held)
            held++;
        if (res->dead_waiter == 1)
            waiters++;
        if (hung) {
            hangs++;
            hang_at[ph]++;
            if (res->mutex_held)
                hang_held++;
            if (res->dead_waiter == 1)
                hang_waiter++;
        } else if (ph == PH_DONE) {
            completed++;
        }
        if (res->unusable)
            unusable++;
        if (res->lost_wakeup)
            lost_wakeups++;
        // Anything else that went wrong (set-up, a victim that exited by
        // itself, a corrupt message): counted and printed, never hidden.
        bool err = !hung && (ph != PH_DONE || (res->error[0] && !res->unusable));
        if (err)
            errors++;
        checked += res->checked;
        lost += res->lost;
        dup += res->dup;
        maybe += res->maybe_sent;
        taken += res->taken_by_dead;
        phantom += res->phantom;
        stranded += res->stranded;
        if (verbose || err || hung || res->error[0] || res->lost || res->dup || res->phantom)
            printf("trial %3u: %s%s, victim in %s, mutex %s, dead waiter %s, drained %lu, "
                   "lost %lu, dup %lu, stranded %lu%s%s\n",
                   i + 1, hung ? "HUNG in " : "ok", hung ? phase_name[ph] : "",
                   res->victim_op == 1 ? "send" : res->victim_op == 2 ? "receive" : "neither",
                   res->mutex_held ? (g_ustack ? "held (repaired)" : "HELD") : "free",
                   res->dead_waiter == 1 ? "yes" : res->dead_waiter < 0 ? "n/a" : "no",
                   res->drained, res->lost, res->dup, res->stranded,
                   res->error[0] ? ": " : "", res->error);
    }
    double secs = mono_s() - t0;
    munmap(mem, sizeof(kill_log) + sizeof(trial_result));

    if (g_ustack)
        printf("ustack shared queue kill test (same driver)");
    else
        printf("boost::interprocess::message_queue kill test (Boost %d.%d.%d)",
               BOOST_VERSION / 100000, BOOST_VERSION / 100 % 1000, BOOST_VERSION % 100);
    printf(": seed %#" PRIx64 ", %u trials, bound %ld ms, 1 in %u victim calls timed, "
           "wake checks %s, %.1f s\n", seed, trials, bound_ms, wait_one_in, wake ? "on" : "off",
           secs);
    printf("  hangs (survivor blocked beyond the bound)        %lu\n", hangs);
    for (int ph = 0; ph < PH_COUNT; ph++)
        if (hang_at[ph])
            printf("    in %-44s %lu\n", phase_name[ph], hang_at[ph]);
    if (watchdog)
        printf("    of which ended by the driver's watchdog    %lu\n", watchdog);
    printf("    with the lock held by the dead victim        %lu\n", hang_held);
    printf("    with a dead waiter still counted             %lu\n", hang_waiter);
    printf("  kills with the lock held (all trials)          %lu%s\n", held,
           g_ustack ? " (repaired)" : "");
    if (g_ustack)
        printf("  kills inside a timed wait (dead waiter)        n/a\n");
    else
        printf("  kills inside a timed wait (dead waiter)        %lu\n", waiters);
    printf("  queue unusable afterwards (incl. hangs)        %lu\n", unusable);
    printf("    of which a blocked call was not woken        %lu\n", lost_wakeups);
    printf("  trials completed (drained and checked)         %lu\n", completed);
    printf("  reported-sent messages checked                 %lu\n", checked);
    printf("  lost (in completed trials)                     %lu\n", lost);
    printf("  duplicated                                     %lu\n", dup);
    printf("  stranded in a wedged queue (hung trials)       %lu\n", stranded);
    printf("  sent-unreported delivered once                 %lu\n", maybe);
    printf("  taken by the dying receiver                    %lu\n", taken);
    printf("  never sent but received                        %lu\n", phantom);
    printf("  other errors                                   %lu\n", errors);
    printf("RESULT %s%s trials=%u hangs=%lu lost=%lu dup=%lu unusable=%lu mutex_held=%lu "
           "checked=%lu stranded=%lu lost_wakeups=%lu dead_waiters=%lu errors=%lu\n",
           g_ustack ? "ustack" : "boost", wake ? "+wake" : "", trials, hangs, lost, dup, unusable, held, checked, stranded, lost_wakeups, waiters,
           errors);
    return 0;
}
