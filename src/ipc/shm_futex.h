/* Futex wait/wake on words in memory shared between processes, and the
 * "event word" protocol the shared queues use to sleep and wake.
 *
 * Every futex here is non-private (no FUTEX_PRIVATE_FLAG): the word lives in
 * a MAP_SHARED file mapping, and the kernel keys such futexes by the backing
 * page, so two processes that map the same file at different addresses wait
 * and wake on the same futex (futex(2)).
 *
 * An event word counts state changes in bits 1..31; bit 0 (UST_SHMEV_SLEEPERS)
 * says "someone may be sleeping in FUTEX_WAIT on me". Protocol (see
 * docs/IPC-SHARED.md, "Waiting and waking"):
 *   waiter (holding the object's lock): snap = ust_shmev_snapshot(ev);
 *           test its condition; unlock; ust_shmev_wait(ev, snap, ...)
 *   waker  (holding the lock, after changing the state):
 *           wake = ust_shmev_bump(ev); unlock; if (wake) ust_shmev_wake(ev)
 * A waiter spins a little watching the counter, then sets the SLEEPERS bit
 * and sleeps on the value it set; any bump after the snapshot changes the
 * word, so the wait never misses a wake-up. A sleeper that dies leaves only a
 * stale SLEEPERS bit, which costs the next waker one spurious FUTEX_WAKE. */
#ifndef UST_IPC_SHM_FUTEX_H
#define UST_IPC_SHM_FUTEX_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "core/util.h"   /* ust_cpu_relax */

#define UST_SHMEV_SLEEPERS 1u

/* Sleep while *w == expect, until woken or the absolute deadline (NULL:
 * none) on CLOCK_MONOTONIC, or CLOCK_REALTIME if realtime is true.
 * Returns 0 (woken, or *w != expect), -ETIMEDOUT, -EINTR or -EINVAL (bad
 * timespec). */
int ust_futex_wait(_Atomic uint32_t *w, uint32_t expect, const struct timespec *deadline,
                   bool realtime);
/* ust_futex_wait on CLOCK_MONOTONIC (deadline required) that a signal
 * handler with SA_RESTART does not end: futex_waitv(2) fails with
 * ERESTARTSYS, which the kernel restarts (FUTEX_WAIT_BITSET with a timeout
 * gives EINTR whatever SA_RESTART says). Before Linux 5.16: FUTEX_WAIT_BITSET. */
int ust_futex_wait_restart(_Atomic uint32_t *w, uint32_t expect, const struct timespec *deadline);
/* Wake up to n sleepers on w; returns how many were woken or -errno. */
int ust_futex_wake(_Atomic uint32_t *w, int n);

/* The counter part of an event word, taken while holding the object's lock. */
uint32_t ust_shmev_snapshot(_Atomic uint32_t *ev);
/* Record a state change (call with the lock held). Returns true if someone
 * may be asleep and ust_shmev_wake() must be called (after unlocking). */
bool ust_shmev_bump(_Atomic uint32_t *ev);
/* Wake every sleeper on ev. */
void ust_shmev_wake(_Atomic uint32_t *ev);
/* Wait until ev's counter differs from snap: spin up to `spin` rounds, then
 * sleep. Returns 1 (it changed while spinning), 0 (changed or woken after
 * sleeping: re-check the condition), -ETIMEDOUT, -EINTR or -EINVAL (bad
 * deadline). */
int ust_shmev_wait(_Atomic uint32_t *ev, uint32_t snap, unsigned spin,
                   const struct timespec *deadline, bool realtime);

/* true if ts is a valid absolute time (tv_sec >= 0, 0 <= tv_nsec < 1e9). */
bool ust_timespec_valid(const struct timespec *ts);

#endif
