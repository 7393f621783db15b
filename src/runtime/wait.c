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
 * signal had come just before it. */
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
};

/* ---- futex ------------------------------------------------------------- */

static void futex_wake(_Atomic uint32_t *word)
{
    syscall(SYS_futex, (uint32_t *)word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
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
 * makes it fail with EINTR (ERESTART_RESTARTBLOCK). */
static long futex_wait_abs(_Atomic uint32_t *word, uint32_t val, uint64_t deadline)
{
    struct timespec ts = { .tv_sec = INT64_MAX, .tv_nsec = 0 };
    if (deadline != UST_RT_FOREVER)
        ts = ns_to_timespec(deadline);
    return syscall(SYS_futex, (uint32_t *)word, FUTEX_WAIT_BITSET_PRIVATE, val, &ts, NULL,
                   FUTEX_BITSET_MATCH_ANY);
}

/* A wait that SA_RESTART restarts: FUTEX_WAIT without a timeout, or
 * futex_waitv with an absolute one (both ERESTARTSYS). Before Linux 5.16
 * (no futex_waitv), a timed wait falls back to FUTEX_WAIT_BITSET and a
 * handler ends it with EINTR even with SA_RESTART. */
static long futex_wait_restartable(_Atomic uint32_t *word, uint32_t val, uint64_t deadline)
{
    if (deadline == UST_RT_FOREVER)
        return syscall(SYS_futex, (uint32_t *)word, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
    struct futex_waitv wv = {
        .val = val,
        .uaddr = (uint64_t)(uintptr_t)word,
        .flags = FUTEX_32 | FUTEX_PRIVATE_FLAG,
    };
    struct timespec ts = ns_to_timespec(deadline);
    long r = syscall(SYS_futex_waitv, &wv, 1, 0, &ts, CLOCK_MONOTONIC);
    if (r < 0 && errno == ENOSYS)
        return futex_wait_abs(word, val, deadline);
    return r;
}

/* Sleeps in the kernel while *word == W_SLEEPING. Returns 0 (woken, or
 * spuriously), -ETIMEDOUT or -EINTR. */
static int futex_sleep(_Atomic uint32_t *word, uint64_t deadline, enum ust_rt_sig sig)
{
    long r = sig == UST_RT_SIG_RESTART ? futex_wait_restartable(word, W_SLEEPING, deadline)
                                       : futex_wait_abs(word, W_SLEEPING, deadline);
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
    if (rt->n_deferred < UST_RT_DEFERRED_WAKES)
        rt->deferred[rt->n_deferred++] = &w->state;
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
    for (unsigned i = 0; i < n; i++)
        futex_wake(words[i]);
}

unsigned ust_rt_sleeper_count(const struct ust_stack *stack)
{
    unsigned n = 0;
    for (const struct ust_waiter *w = stack->rt.sleepers; w; w = w->next)
        n++;
    return n;
}

unsigned ust_rt_kernel_sleeper_count(const struct ust_stack *stack)
{
    unsigned n = 0;
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
        if (is_woken(w))
            return true;
        sched_yield();
        uint64_t t = ust_rt_clock_ns();
        if (t - now > UST_RT_YIELD_RAN_OTHER_NS)
            break;
        now = t;
    } while (now < end);
    return is_woken(w);
}

/* One block, lock released: spin, then announce SLEEPING and sleep in the
 * kernel unless woken meanwhile. 0, -ETIMEDOUT or -EINTR. */
static int block(struct ust_waiter *w, uint64_t spin_ns, uint64_t deadline, enum ust_rt_sig sig)
{
    if (spin(w, spin_ns))
        return 0;
    uint32_t s = W_WAITING;
    if (!atomic_compare_exchange_strong_explicit(&w->state, &s, W_SLEEPING, memory_order_acq_rel,
                                                 memory_order_acquire) &&
        s == W_WOKEN)
        return 0;
    return futex_sleep(&w->state, deadline, sig);
}

static int wait_spin(struct ust_stack *stack, struct ust_wait_entry *entries, unsigned n,
                     uint64_t deadline, enum ust_rt_sig sig, uint64_t spin_first_ns);

int ust_rt_wait(struct ust_stack *stack, struct ust_wait_entry *entries, unsigned n,
                uint64_t deadline, enum ust_rt_sig sig)
{
    return wait_spin(stack, entries, n, deadline, sig, stack->rt.spin_ns);
}

int ust_rt_wait_nospin(struct ust_stack *stack, struct ust_wait_entry *entries, unsigned n,
                       uint64_t deadline, enum ust_rt_sig sig)
{
    return wait_spin(stack, entries, n, deadline, sig, 0);
}

static int wait_spin(struct ust_stack *stack, struct ust_wait_entry *entries, unsigned n,
                     uint64_t deadline, enum ust_rt_sig sig, uint64_t spin_first_ns)
{
    struct ust_rt_state *rt = &stack->rt;
    struct ust_waiter w = { .rt = rt };
    atomic_init(&w.state, W_WAITING);

    for (unsigned i = 0; i < n; i++)
        entry_link(&entries[i], &w);
    w.next = rt->sleepers;
    if (w.next)
        w.next->pprev = &w.next;
    w.pprev = &rt->sleepers;
    rt->sleepers = &w;

    int ret = 0;
    uint64_t spin_ns = spin_first_ns;   /* the first block only */
    while (!is_woken(&w) && ust_rt_can_block(stack)) {
        ust_rt_unlock(stack);
        int rc = block(&w, spin_ns, deadline, sig);
        spin_ns = 0;
        ust_rt_lock(stack);
        if (rc < 0 && !is_woken(&w)) {
            ret = rc;
            break;
        }
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
