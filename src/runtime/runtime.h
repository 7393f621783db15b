/* runtime/: the stack lock, the stack thread, and blocking.
 *
 * The only layer that knows about threads and clocks. Everything below it is
 * single-threaded code that runs with the stack lock held.
 *
 * Blocking: a call that cannot complete sleeps in ust_rt_wait() on the wait
 * queues of the objects it waits for (waitq.h), releasing the lock while it
 * sleeps (wait.c: a futex word per sleeper, woken after the waker releases
 * the lock; signals interrupt it as Linux's table says). Only a running
 * stack thread can make progress while a caller sleeps, so callers check
 * ust_rt_can_block() first: without a stack thread
 * (a stack driven by ust_stack_poll or by the simulator) blocking calls
 * behave as non-blocking ones. */
#ifndef UST_RUNTIME_RUNTIME_H
#define UST_RUNTIME_RUNTIME_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "runtime/waitq.h"

struct ust_stack;

/* No deadline / wait forever. */
#define UST_RT_FOREVER UINT64_MAX

int ust_rt_init(struct ust_stack *stack);
void ust_rt_fini(struct ust_stack *stack);
/* The big lock (a plain, non-recursive mutex). Public calls take it once on
 * entry and release it on return. */
void ust_rt_lock(struct ust_stack *stack);
void ust_rt_unlock(struct ust_stack *stack);
/* ust_rt_lock, then, when the stack thread runs, brings stack->now up to
 * CLOCK_MONOTONIC so that timers a call arms start from the current time.
 * Every public ust_* call (socket, fd, poll) uses this pair. */
void ust_rt_enter(struct ust_stack *stack);
void ust_rt_exit(struct ust_stack *stack);
/* True when a stack thread runs (and is not stopping), so calls may block. */
bool ust_rt_can_block(const struct ust_stack *stack);

/* The stack-clock time (CLOCK_MONOTONIC ns while the thread runs) at which a
 * wait of timeout_ns that starts now ends; UST_RT_FOREVER stays forever. */
uint64_t ust_rt_deadline(const struct ust_stack *stack, uint64_t timeout_ns);

/* What a signal handler that runs while a caller sleeps does to the wait
 * (signal(7), "Interruption of system calls and library functions by
 * signal handlers"). The handler runs whatever the mode; the mode only
 * decides whether the call then fails with EINTR. */
enum ust_rt_sig {
    UST_RT_SIG_IGNORE,          /* the wait goes on */
    UST_RT_SIG_RESTART,         /* -EINTR, unless the handler has SA_RESTART: then
                                 * the wait goes on (pipes, FIFO open, mq, sockets
                                 * without a timeout) */
    UST_RT_SIG_EINTR,           /* -EINTR even with SA_RESTART (msgsnd/msgrcv,
                                 * poll/epoll, sockets with SO_RCVTIMEO/SNDTIMEO) */
};

/* Links the n entries (each with q and events set) onto their queues and
 * sleeps, lock released, until one of them is woken, the deadline passes,
 * the stack thread stops, or (per `sig`) a signal handler runs in this
 * thread. Unlinks them before returning, with the lock held again and
 * stack->now refreshed. Returns 0 when woken (or stopping: the caller
 * re-checks and finds it can no longer block), -ETIMEDOUT when the deadline
 * passed, -EINTR when interrupted; a caller that was woken as well gets 0
 * (what it waited for wins, as in Linux's wait loops, which check the
 * condition before signal_pending). A caller re-checks its object first
 * and returns -EINTR only when it still has to wait. The caller must keep
 * the queues alive (hold a reference on their objects) while it sleeps.
 * Only call when ust_rt_can_block(). */
int ust_rt_wait(struct ust_stack *stack, struct ust_wait_entry *entries, unsigned n,
                uint64_t deadline, enum ust_rt_sig sig);
/* ust_rt_wait with no spin before sleeping: for waits whose wake comes from
 * the stack thread (sockets), which a spinning caller would only slow down
 * on a machine with few CPUs. */
int ust_rt_wait_nospin(struct ust_stack *stack, struct ust_wait_entry *entries, unsigned n,
                       uint64_t deadline, enum ust_rt_sig sig);
/* A doorbell to sleep on (ust_rt_wait_bell): the stack's bell word
 * (ust_ipc_bell, ust_shmbell_word), a non-private futex in shared memory
 * that other processes ring (ipc/shm_futex.h event word), and its counter
 * (ust_shmbell_snapshot) taken after registering the watches and before
 * checking readiness. */
struct ust_rt_bell {
    _Atomic uint32_t *word;
    uint32_t snap;
};
/* ust_rt_wait for a caller that also waits for files backed by shared
 * objects (poll, epoll_wait; docs/IPC-SHARED.md "Doorbells for pollers"):
 * sleeps on the doorbell instead of a private word, and an in-process wake
 * of the entries rings the doorbell. Returns 0 as soon as the doorbell
 * rang (since bell->snap) or an entry was woken, or spuriously: the caller
 * re-registers its watches, re-checks, and calls again with a new
 * snapshot. -EAGAIN when a slice (50 ms) passed with no ring: the caller
 * re-checks (a process may have died between a change and its ring) and
 * calls again; its registrations stand. Also -ETIMEDOUT, -EINTR. The
 * deadline is on CLOCK_MONOTONIC (ust_rt_deadline_clock). It may be called
 * without a stack thread: other processes, other threads, the deadline and
 * signals end the wait. */
int ust_rt_wait_bell(struct ust_stack *stack, struct ust_wait_entry *entries, unsigned n,
                     uint64_t deadline, enum ust_rt_sig sig, const struct ust_rt_bell *bell);
/* Wakes every caller asleep in ust_rt_wait_bell: a watch of the stack's
 * bell was removed from a shared object, which may have been another
 * caller's as well (one bell per stack); they re-register theirs. */
void ust_rt_wake_bell_sleepers(struct ust_stack *stack);
/* CLOCK_MONOTONIC now + timeout_ns (UST_RT_FOREVER stays forever), whether
 * or not the stack thread runs: the deadline of a doorbell wait. */
uint64_t ust_rt_deadline_clock(uint64_t timeout_ns);
/* ust_rt_wait(..., UST_RT_SIG_IGNORE): never -EINTR. */
int ust_rt_sleep(struct ust_stack *stack, struct ust_wait_entry *entries, unsigned n,
                 uint64_t deadline);

/* How many callers sleep in ust_rt_wait now (tests, diagnostics). Lock held. */
unsigned ust_rt_sleeper_count(const struct ust_stack *stack);
/* How many of them sleep in the kernel (past their spin, in or entering
 * the futex system call): a signal sent to such a thread interrupts its
 * wait (tests). Lock held. */
unsigned ust_rt_kernel_sleeper_count(const struct ust_stack *stack);

/* A caller that sleeps outside ust_rt_wait, lock released, on the futex of
 * an object shared between processes (ipc/, docs/IPC-SHARED.md): it is
 * counted by ust_rt_sleeper_count and ust_rt_kernel_sleeper_count from
 * begin to end. Lock held for both calls. */
void ust_rt_ext_sleep_begin(struct ust_stack *stack);
void ust_rt_ext_sleep_end(struct ust_stack *stack);

/* Internal to runtime/ (lock held). */
/* Brings stack->now up to CLOCK_MONOTONIC when the stack thread runs. */
void ust_rt_refresh_now(struct ust_stack *stack);
/* CLOCK_MONOTONIC in nanoseconds: the stack thread's clock. */
uint64_t ust_rt_clock_ns(void);
/* Makes the stack thread run a loop now (writes its eventfd); nothing when
 * called on the stack thread itself or when it does not run. */
void ust_rt_wake_thread(struct ust_stack *stack);
/* Delivers the loopback frames a caller queued (lock held, from
 * ust_rt_unlock): see thread.c. */
void ust_rt_softirq(struct ust_stack *stack);
/* Wakes every caller asleep in ust_rt_wait (ust_stack_stop). */
void ust_rt_wake_all(struct ust_stack *stack);
/* FUTEX_WAKEs the n deferred state words (ust_rt_unlock, lock released). */
void ust_rt_flush_wakes(_Atomic uint32_t *const *words, unsigned n);

#endif
