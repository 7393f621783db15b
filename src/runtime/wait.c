/* Sleeping and waking (see docs/ARCHITECTURE.md, "Blocking, waking and
 * signals").
 *
 * A sleeper is one 32-bit state word on the caller's stack, slept on with
 * the raw futex system call (FUTEX_*_PRIVATE). ust_waitq_wake, under the
 * stack lock, sets the word of every sleeper linked on the queue to WOKEN;
 * only a sleeper that announced it is asleep in the kernel (SLEEPING) also
 * needs a FUTEX_WAKE, and that system call is made by ust_rt_unlock after
 * the lock is released, so the woken thread does not run into a held lock.
 * A sleeper first spins, lock released, re-reading its own word (with
 * sched_yield between reads) for up to cfg.wait_spin_ns: a wake that comes
 * within that time costs the waker no system call and the sleeper no
 * sleep in the kernel.
 *
 * Signals: the kernel decides, because the sleeper is inside a system call
 * when a handler runs. Which futex call is used gives Linux's table
 * (signal(7), "Interruption of system calls"):
 *   UST_RT_SIG_RESTART: FUTEX_WAIT with no timeout, or futex_waitv with an
 *     absolute one, both fail with ERESTARTSYS: -EINTR, or restarted by the
 *     kernel itself when the handler has SA_RESTART;
 *   UST_RT_SIG_EINTR: FUTEX_WAIT_BITSET with an absolute timeout (far in the
 *     future when there is none) fails with ERESTART_RESTARTBLOCK: -EINTR
 *     whenever a handler runs, whatever SA_RESTART says;
 *   UST_RT_SIG_IGNORE: as EINTR, and an interruption is just a spurious
 *     wakeup.
 * A handler that runs while the caller is still in user space (checking
 * under the lock, or spinning) is not seen: the call then behaves as if the
 * signal had come just before it.
 *
 * Doorbell sleepers (ust_rt_wait_bell: a poll or epoll_wait that also
 * waits for files backed by shared objects, docs/IPC-SHARED.md "Doorbells
 * for pollers") sleep on the stack's doorbell instead of their own word: a
 * non-private futex in shared memory that other processes ring (the event
 * word protocol of ipc/shm_futex.h). An in-process waker still sets the
 * sleeper's state word to WOKEN; when the sleeper announced SLEEPING it
 * also rings the doorbell (a counter bump, and a non-private FUTEX_WAKE,
 * deferred like the private ones, only if someone sleeps on it), so no wake
 * is lost whichever word the sleeper looks at. Every doorbell sleeper of the
 * stack wakes then (one word for all): each re-checks and sleeps again. A
 * doorbell sleep lasts at most one slice (UST_RT_BELL_SLICE_NS), after
 * which the caller looks again: the backstop for a process killed between
 * changing an object and ringing the bell (the shared queues' own waits
 * are sliced for the same reason, docs/IPC-SHARED.md). */
#include "runtime/runtime.h"

#include <errno.h>
#include <linux/futex.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "core/util.h"
#include "ipc/shm_futex.h"
#include "stack/stack_impl.h"

#ifndef SYS_futex_waitv
#define SYS_futex_waitv 449     /* Linux 5.16, the same number on every architecture */
#endif
#ifndef FUTEX_32
#define FUTEX_32 2
/* linux/futex.h before 5.16 */
struct futex_waitv {
    uint64_t val;
    uint64_t uaddr;
    uint32_t flags;
    uint32_t __reserved;
};
#endif

/* A sleeper's state word. */
enum {
    W_WAITING = 0,              /* linked, running (checking, spinning) */
    W_SLEEPING = 1,             /* in (or entering) FUTEX_WAIT: needs FUTEX_WAKE */
    W_WOKEN = 2,                /* woken: whatever it waited for may have happened */
};

struct ust_waiter {
    _Atomic uint32_t state;
    struct ust_rt_state *rt;            /* where deferred wakes are kept */
    struct ust_waiter *next, **pprev;   /* stack->rt.sleepers */
    /* ust_rt_wait_bell: the doorbell slept on (NULL: the state word) and
     * its counter when the caller last checked readiness. */
    _Atomic uint32_t *bell;
    uint32_t bell_snap;
};

/* The longest doorbell sleep: the shared queues' slice. */
#define UST_RT_BELL_SLICE_NS (50 * UST_NSEC_PER_MSEC)

/* A deferred wake of a doorbell (non-private futex, every sleeper) is kept
 * in rt->deferred with this low bit set; words are 4-byte aligned. */
#define DEFERRED_SHARED ((uintptr_t)1)

/* ---- futex ------------------------------------------------------------- */

static void futex_wake(_Atomic uint32_t *word)
{
    syscall(SYS_futex, (uint32_t *)word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

/* A doorbell: shared memory, every sleeper on it. */
static void bell_futex_wake(_Atomic uint32_t *word)
{
    ust_shmev_wake(word);
}

static struct timespec ns_to_timespec(uint64_t ns)
{
    struct timespec ts = {
        .tv_sec = (time_t)(ns / UST_NSEC_PER_SEC),
        .tv_nsec = (long)(ns % UST_NSEC_PER_SEC),
    };
    return ts;
}

/* FUTEX_WAIT_BITSET: absolute CLOCK_MONOTONIC timeout; a handler always
 * makes it fail with EINTR (ERESTART_RESTARTBLOCK). priv is
 * FUTEX_PRIVATE_FLAG, or 0 for a word in shared memory (a doorbell). */
static long futex_wait_abs(_Atomic uint32_t *word, uint32_t val, uint64_t deadline, int priv)
{
    struct timespec ts = { .tv_sec = INT64_MAX, .tv_nsec = 0 };
    if (deadline != UST_RT_FOREVER)
        ts = ns_to_timespec(deadline);
    return syscall(SYS_futex, (uint32_t *)word, FUTEX_WAIT_BITSET | priv, val, &ts, NULL,
                   FUTEX_BITSET_MATCH_ANY);
}

/* A wait that SA_RESTART restarts: FUTEX_WAIT without a timeout, or
 * futex_waitv with an absolute one (both ERESTARTSYS). Before Linux 5.16
 * (no futex_waitv), a timed wait falls back to FUTEX_WAIT_BITSET and a
 * handler ends it with EINTR even with SA_RESTART. */
static long futex_wait_restartable(_Atomic uint32_t *word, uint32_t val, uint64_t deadline,
                                   int priv)
{
    if (deadline == UST_RT_FOREVER)
        return syscall(SYS_futex, (uint32_t *)word, FUTEX_WAIT | priv, val, NULL, NULL, 0);
    struct futex_waitv wv = {
        .val = val,
        .uaddr = (uint64_t)(uintptr_t)word,
        .flags = FUTEX_32 | (uint32_t)priv,
    };
    struct timespec ts = ns_to_timespec(deadline);
    long r = syscall(SYS_futex_waitv, &wv, 1, 0, &ts, CLOCK_MONOTONIC);
    if (r < 0 && errno == ENOSYS)
        return futex_wait_abs(word, val, deadline, priv);
    return r;
}

/* Sleeps in the kernel while *word == val. Returns 0 (woken, or
 * spuriously), -ETIMEDOUT or -EINTR. */
static int futex_sleep(_Atomic uint32_t *word, uint32_t val, int priv, uint64_t deadline,
                       enum ust_rt_sig sig)
{
    long r = sig == UST_RT_SIG_RESTART ? futex_wait_restartable(word, val, deadline, priv)
                                       : futex_wait_abs(word, val, deadline, priv);
    if (r >= 0)
        return 0;
    if (errno == ETIMEDOUT)
        return -ETIMEDOUT;
    if (errno == EINTR && sig != UST_RT_SIG_IGNORE)
        return -EINTR;
    return 0;                   /* EAGAIN: the word had changed */
}

/* ---- waking (lock held) ------------------------------------------------ */

static void waiter_signal(struct ust_waiter *w)
{
    uint32_t old = atomic_exchange_explicit(&w->state, W_WOKEN, memory_order_release);
    if (old != W_SLEEPING)
        return;                 /* running or spinning: it sees the word */
    struct ust_rt_state *rt = w->rt;
    _Atomic uint32_t *word = &w->state;
    if (w->bell) {
        /* It sleeps (or is about to) on the doorbell: ring it. Nobody in
         * FUTEX_WAIT on it yet: the bump alone makes its wait return. */
        if (!ust_shmev_bump(w->bell))
            return;
        if (rt->n_deferred >= UST_RT_DEFERRED_WAKES) {
            bell_futex_wake(w->bell);
            return;
        }
        word = (_Atomic uint32_t *)((uintptr_t)w->bell | DEFERRED_SHARED);
    }
    if (rt->n_deferred < UST_RT_DEFERRED_WAKES)
        rt->deferred[rt->n_deferred++] = word;
    else
        futex_wake(&w->state);  /* rare: a wake of more sleepers than the batch */
}

void ust_waitq_wake_slow(struct ust_waitq *q, uint32_t events)
{
    for (struct ust_wait_entry *e = q->head; e; e = e->next) {
        if (!(e->events & events))
            continue;
        if (e->func)
            e->func(e, events);
        else
            waiter_signal(e->waiter);
    }
}

void ust_rt_wake_all(struct ust_stack *stack)
{
    for (struct ust_waiter *w = stack->rt.sleepers; w; w = w->next)
        waiter_signal(w);
}

/* FUTEX_WAKE for the sleepers woken under the lock, called by
 * ust_rt_unlock once the lock is released. A word may belong to a sleeper
 * that has returned meanwhile (it cannot return before its word is WOKEN,
 * which was set under the lock): FUTEX_WAKE only names an address, and at
 * worst wakes a later sleeper there spuriously, which re-checks its word
 * (as glibc's own futex users tolerate). */
void ust_rt_flush_wakes(_Atomic uint32_t *const *words, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        uintptr_t p = (uintptr_t)words[i];
        if (UST_UNLIKELY(p & DEFERRED_SHARED))
            bell_futex_wake((_Atomic uint32_t *)(p & ~DEFERRED_SHARED));
        else
            futex_wake(words[i]);
    }
}

void ust_rt_wake_bell_sleepers(struct ust_stack *stack)
{
    for (struct ust_waiter *w = stack->rt.sleepers; w; w = w->next)
        if (w->bell)
            waiter_signal(w);
}

void ust_rt_ext_sleep_begin(struct ust_stack *stack)
{
    stack->rt.ext_sleepers++;
}

void ust_rt_ext_sleep_end(struct ust_stack *stack)
{
    stack->rt.ext_sleepers--;
}

unsigned ust_rt_sleeper_count(const struct ust_stack *stack)
{
    unsigned n = stack->rt.ext_sleepers;
    for (const struct ust_waiter *w = stack->rt.sleepers; w; w = w->next)
        n++;
    return n;
}

unsigned ust_rt_kernel_sleeper_count(const struct ust_stack *stack)
{
    unsigned n = stack->rt.ext_sleepers;
    for (const struct ust_waiter *w = stack->rt.sleepers; w; w = w->next)
        n += atomic_load_explicit(&w->state, memory_order_relaxed) == W_SLEEPING;
    return n;
}

/* ---- sleeping ---------------------------------------------------------- */

static void entry_link(struct ust_wait_entry *e, struct ust_waiter *w)
{
    e->waiter = w;
    e->next = e->q->head;
    if (e->next)
        e->next->pprev = &e->next;
    e->pprev = &e->q->head;
    e->q->head = e;
}

static void entry_unlink(struct ust_wait_entry *e)
{
    *e->pprev = e->next;
    if (e->next)
        e->next->pprev = e->pprev;
    e->next = NULL;
    e->pprev = NULL;
}

static bool is_woken(struct ust_waiter *w)
{
    return atomic_load_explicit(&w->state, memory_order_acquire) == W_WOKEN;
}

/* Woken in-process, or (a doorbell sleeper) the doorbell rang since the
 * caller's check. */
static bool wake_seen(struct ust_waiter *w)
{
    if (is_woken(w))
        return true;
    return w->bell && (atomic_load_explicit(w->bell, memory_order_acquire) &
                       ~UST_SHMEV_SLEEPERS) != w->bell_snap;
}

/* A sched_yield that took longer than this ran another thread: the CPU is
 * shared, so spinning on would only delay that thread. */
#define UST_RT_YIELD_RAN_OTHER_NS 2000

/* Re-reads the word for up to spin_ns, yielding the CPU between reads: on
 * the waker's CPU that lets it run at once, and on an otherwise idle CPU
 * sched_yield returns at once and the CPU stays awake (a halted virtual
 * CPU takes tens of microseconds to wake). Stops early once a yield ran
 * another thread: a consumer that keeps the CPU busy then would wake for
 * every item instead of letting the producer batch. True when woken. */
static bool spin(struct ust_waiter *w, uint64_t spin_ns)
{
    if (spin_ns == 0)
        return false;
    uint64_t now = ust_rt_clock_ns(), end = now + spin_ns;
    do {
        if (wake_seen(w))
            return true;
        sched_yield();
        uint64_t t = ust_rt_clock_ns();
        if (t - now > UST_RT_YIELD_RAN_OTHER_NS)
            break;
        now = t;
    } while (now < end);
    return wake_seen(w);
}

/* Spins, then announces SLEEPING; true when woken meanwhile (no sleep). */
static bool woken_before_sleep(struct ust_waiter *w, uint64_t spin_ns)
{
    if (spin(w, spin_ns))
        return true;
    uint32_t s = W_WAITING;
    return !atomic_compare_exchange_strong_explicit(&w->state, &s, W_SLEEPING,
                                                    memory_order_acq_rel, memory_order_acquire) &&
           s == W_WOKEN;
}

/* One block, lock released: spin, then announce SLEEPING and sleep in the
 * kernel unless woken meanwhile. 0, -ETIMEDOUT or -EINTR. */
static int block(struct ust_waiter *w, uint64_t spin_ns, uint64_t deadline, enum ust_rt_sig sig)
{
    if (woken_before_sleep(w, spin_ns))
        return 0;
    return futex_sleep(&w->state, W_SLEEPING, FUTEX_PRIVATE_FLAG, deadline, sig);
}

/* block() for a doorbell sleeper: after SLEEPING is announced (from then
 * on an in-process waker rings the bell), the event-word protocol of
 * shm_futex.h: set the bell's SLEEPERS bit and sleep unless the counter
 * moved since the caller's snapshot. */
static int block_bell(struct ust_waiter *w, uint64_t spin_ns, uint64_t deadline,
                      enum ust_rt_sig sig)
{
    if (woken_before_sleep(w, spin_ns))
        return 0;
    uint32_t old = atomic_fetch_or_explicit(w->bell, UST_SHMEV_SLEEPERS, memory_order_acq_rel);
    if ((old & ~UST_SHMEV_SLEEPERS) != w->bell_snap)
        return 0;
    uint64_t slice_end = ust_rt_clock_ns() + UST_RT_BELL_SLICE_NS;
    if (slice_end >= deadline)
        return futex_sleep(w->bell, w->bell_snap | UST_SHMEV_SLEEPERS, 0, deadline, sig);
    int rc = futex_sleep(w->bell, w->bell_snap | UST_SHMEV_SLEEPERS, 0, slice_end, sig);
    return rc == -ETIMEDOUT ? -EAGAIN : rc;
}

static int wait_spin(struct ust_stack *stack, struct ust_wait_entry *entries, unsigned n,
                     uint64_t deadline, enum ust_rt_sig sig, uint64_t spin_first_ns,
                     const struct ust_rt_bell *bell);

int ust_rt_wait(struct ust_stack *stack, struct ust_wait_entry *entries, unsigned n,
                uint64_t deadline, enum ust_rt_sig sig)
{
    return wait_spin(stack, entries, n, deadline, sig, stack->rt.spin_ns, NULL);
}

int ust_rt_wait_nospin(struct ust_stack *stack, struct ust_wait_entry *entries, unsigned n,
                       uint64_t deadline, enum ust_rt_sig sig)
{
    return wait_spin(stack, entries, n, deadline, sig, 0, NULL);
}

int ust_rt_wait_bell(struct ust_stack *stack, struct ust_wait_entry *entries, unsigned n,
                     uint64_t deadline, enum ust_rt_sig sig, const struct ust_rt_bell *bell)
{
    return wait_spin(stack, entries, n, deadline, sig, stack->rt.spin_ns, bell);
}

uint64_t ust_rt_deadline_clock(uint64_t timeout_ns)
{
    if (timeout_ns == UST_RT_FOREVER)
        return UST_RT_FOREVER;
    uint64_t now = ust_rt_clock_ns();
    if (timeout_ns > UST_RT_FOREVER - 1 - now)
        return UST_RT_FOREVER;
    return now + timeout_ns;
}

static int wait_spin(struct ust_stack *stack, struct ust_wait_entry *entries, unsigned n,
                     uint64_t deadline, enum ust_rt_sig sig, uint64_t spin_first_ns,
                     const struct ust_rt_bell *bell)
{
    struct ust_rt_state *rt = &stack->rt;
    struct ust_waiter w = { .rt = rt };
    atomic_init(&w.state, W_WAITING);
    if (bell) {
        w.bell = bell->word;
        w.bell_snap = bell->snap & ~UST_SHMEV_SLEEPERS;
    }

    for (unsigned i = 0; i < n; i++)
        entry_link(&entries[i], &w);
    w.next = rt->sleepers;
    if (w.next)
        w.next->pprev = &w.next;
    w.pprev = &rt->sleepers;
    rt->sleepers = &w;

    int ret = 0;
    uint64_t spin_ns = spin_first_ns;   /* the first block only */
    while (!is_woken(&w) && (bell || ust_rt_can_block(stack))) {
        ust_rt_unlock(stack);
        int rc = bell ? block_bell(&w, spin_ns, deadline, sig) : block(&w, spin_ns, deadline, sig);
        spin_ns = 0;
        ust_rt_lock(stack);
        if (rc < 0 && !is_woken(&w)) {
            ret = rc;
            break;
        }
        if (bell)
            break;              /* rung (or spurious): the caller re-checks */
    }

    *w.pprev = w.next;
    if (w.next)
        w.next->pprev = w.pprev;
    for (unsigned i = 0; i < n; i++)
        entry_unlink(&entries[i]);
    ust_rt_refresh_now(stack);
    return ret;
}

int ust_rt_sleep(struct ust_stack *stack, struct ust_wait_entry *entries, unsigned n,
                 uint64_t deadline)
{
    return ust_rt_wait(stack, entries, n, deadline, UST_RT_SIG_IGNORE);
}
