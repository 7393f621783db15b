/* Futex wait/wake on shared words and the event-word protocol (shm_futex.h).
 * This is the only place in ipc/ that calls futex(2) directly. */
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ipc/shm_futex.h"

bool ust_timespec_valid(const struct timespec *ts)
{
    return ts->tv_sec >= 0 && ts->tv_nsec >= 0 && ts->tv_nsec < 1000000000L;
}

int ust_futex_wait(_Atomic uint32_t *w, uint32_t expect, const struct timespec *deadline,
                   bool realtime)
{
    /* FUTEX_WAIT_BITSET takes an absolute timeout, on CLOCK_MONOTONIC
     * unless FUTEX_CLOCK_REALTIME is given (futex(2)). Not private: the word
     * is in a shared mapping. */
    int op = FUTEX_WAIT_BITSET | (realtime ? FUTEX_CLOCK_REALTIME : 0);
    if (deadline && !ust_timespec_valid(deadline))
        return -EINVAL;
    long r = syscall(SYS_futex, (uint32_t *)w, op, expect, deadline, NULL,
                     FUTEX_BITSET_MATCH_ANY);
    if (r == 0 || errno == EAGAIN)
        return 0;               /* woken, or the word had already changed */
    return -errno;              /* ETIMEDOUT, EINTR */
}

int ust_futex_wake(_Atomic uint32_t *w, int n)
{
    long r = syscall(SYS_futex, (uint32_t *)w, FUTEX_WAKE, n, NULL, NULL, 0);
    return r < 0 ? -errno : (int)r;
}


uint32_t ust_shmev_snapshot(_Atomic uint32_t *ev)
{
    return atomic_load_explicit(ev, memory_order_acquire) & ~UST_SHMEV_SLEEPERS;
}

bool ust_shmev_bump(_Atomic uint32_t *ev)
{
    /* Advance the counter and clear SLEEPERS in one step: whoever set it is
     * either asleep on the old value (we wake it) or about to sleep on it
     * (the futex sees a different value and returns at once). */
    uint32_t old = atomic_load_explicit(ev, memory_order_relaxed);
    uint32_t nv;
    do {
        nv = (old + 2u) & ~UST_SHMEV_SLEEPERS;
    } while (!atomic_compare_exchange_weak_explicit(ev, &old, nv, memory_order_acq_rel,
                                                    memory_order_relaxed));
    return (old & UST_SHMEV_SLEEPERS) != 0;
}

void ust_shmev_wake(_Atomic uint32_t *ev)
{
    (void)ust_futex_wake(ev, INT_MAX);
}

int ust_shmev_wait(_Atomic uint32_t *ev, uint32_t snap, unsigned spin,
                   const struct timespec *deadline, bool realtime)
{
    for (unsigned i = 0; i < spin; i++) {
        if ((atomic_load_explicit(ev, memory_order_acquire) & ~UST_SHMEV_SLEEPERS) != snap)
            return 1;
        ust_cpu_relax();
    }
    uint32_t old = atomic_fetch_or_explicit(ev, UST_SHMEV_SLEEPERS, memory_order_acq_rel);
    if ((old & ~UST_SHMEV_SLEEPERS) != snap)
        return 0;
    return ust_futex_wait(ev, snap | UST_SHMEV_SLEEPERS, deadline, realtime);
}

#ifndef SYS_futex_waitv
#define SYS_futex_waitv 449     /* Linux 5.16, the same number on every architecture */
#endif
#ifndef FUTEX_32
#define FUTEX_32 2
struct futex_waitv {            /* linux/futex.h before 5.16 */
    uint64_t val;
    uint64_t uaddr;
    uint32_t flags;
    uint32_t __reserved;
};
#endif

int ust_futex_wait_restart(_Atomic uint32_t *w, uint32_t expect, const struct timespec *deadline)
{
    if (!ust_timespec_valid(deadline))
        return -EINVAL;
    /* Not FUTEX_PRIVATE_FLAG: the word is in a shared mapping. */
    struct futex_waitv wv = { .val = expect, .uaddr = (uint64_t)(uintptr_t)w, .flags = FUTEX_32 };
    long r = syscall(SYS_futex_waitv, &wv, 1, 0, deadline, CLOCK_MONOTONIC);
    if (r >= 0 || errno == EAGAIN)
        return 0;
    if (errno == ENOSYS)        /* before Linux 5.16 */
        return ust_futex_wait(w, expect, deadline, false);
    return -errno;              /* ETIMEDOUT, EINTR */
}
