/* The big lock and the stack's notion of "now" for application calls.
 *
 * One plain mutex per stack serialises everything: the stack thread's
 * polling and every public call. It is deliberately not recursive: a public
 * call takes it exactly once and calls only internal (lock-held) functions.
 * Debug builds use an error-checking mutex and abort on misuse. */
#include "runtime/runtime.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "core/util.h"
#include "stack/stack_impl.h"

/* Tries of a contended lock before sleeping on it (when spinning is on). */
#define UST_RT_LOCK_SPIN 200

int ust_rt_init(struct ust_stack *stack)
{
    struct ust_rt_state *rt = &stack->rt;
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
#ifndef NDEBUG
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ERRORCHECK);
#endif
    int err = pthread_mutex_init(&rt->lock, &attr);
    pthread_mutexattr_destroy(&attr);
    if (err)
        return -err;
    rt->running = false;
    rt->stopping = false;
    rt->wake_fd = -1;
    rt->epoll_fd = -1;
    rt->n_watched = 0;
    rt->netifs_synced = 0;
    rt->sleepers = NULL;
    rt->n_deferred = 0;
    /* Spinning only pays when the waker can run meanwhile on another CPU. */
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    rt->spin_ns = cpus > 1 ? stack->cfg.wait_spin_ns : 0;
    return 0;
}

void ust_rt_fini(struct ust_stack *stack)
{
    pthread_mutex_destroy(&stack->rt.lock);
}

static void lock_failed(const char *what, int err)
{
    fprintf(stderr, "ustack: %s of the stack lock failed: errno %d (lock taken twice?)\n",
            what, err);
    abort();
}

void ust_rt_lock(struct ust_stack *stack)
{
    /* Contended: the holder is usually about to release it (a waker wakes
     * last), so try a little before sleeping on the mutex. */
    if (stack->rt.spin_ns) {
        for (unsigned i = 0; i < UST_RT_LOCK_SPIN; i++) {
            if (pthread_mutex_trylock(&stack->rt.lock) == 0)
                return;
            ust_cpu_relax();
        }
    }
    int err = pthread_mutex_lock(&stack->rt.lock);
    if (UST_UNLIKELY(err))
        lock_failed("lock", err);
}

void ust_rt_unlock(struct ust_stack *stack)
{
    struct ust_rt_state *rt = &stack->rt;
    if (rt->softirq_pending && rt->running)
        ust_rt_softirq(stack);
    /* A netif was added (by any caller) since the stack thread last looked:
     * wake it so it watches the new descriptor. */
    if (UST_UNLIKELY(rt->running && stack->n_netifs != rt->netifs_synced))
        ust_rt_wake_thread(stack);
    /* A caller armed a timer earlier than the stack thread's wake-up (a
     * SYN's retransmission, an ARP probe): wake it to sleep less. next_lb
     * is a lower bound, so at worst the thread wakes early and re-checks.
     * The stack thread itself always recomputes its deadline. */
    if (rt->running && stack->timers.next_lb < rt->sleep_until &&
        !pthread_equal(pthread_self(), rt->thread)) {
        rt->sleep_until = stack->timers.next_lb;
        ust_rt_wake_thread(stack);
    }
    /* Sleepers woken meanwhile get their FUTEX_WAKE after the lock is
     * released, so they do not wake only to wait for it (wait.c). */
    unsigned n = rt->n_deferred;
    _Atomic uint32_t *words[UST_RT_DEFERRED_WAKES];
    for (unsigned i = 0; i < n; i++)
        words[i] = rt->deferred[i];
    rt->n_deferred = 0;
    int err = pthread_mutex_unlock(&rt->lock);
    if (UST_UNLIKELY(err))
        lock_failed("unlock", err);
    if (n)
        ust_rt_flush_wakes(words, n);
}

static uint64_t monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * UST_NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

void ust_rt_refresh_now(struct ust_stack *stack)
{
    if (!stack->rt.running)
        return;
    uint64_t now = monotonic_ns();
    if (now > stack->now)
        stack->now = now;
}

void ust_rt_enter(struct ust_stack *stack)
{
    ust_rt_lock(stack);
    ust_rt_refresh_now(stack);
}

void ust_rt_exit(struct ust_stack *stack)
{
    ust_rt_unlock(stack);
}

bool ust_rt_can_block(const struct ust_stack *stack)
{
    return stack->rt.running && !stack->rt.stopping;
}

uint64_t ust_rt_deadline(const struct ust_stack *stack, uint64_t timeout_ns)
{
    if (timeout_ns == UST_RT_FOREVER)
        return UST_RT_FOREVER;
    uint64_t now = stack->rt.running ? monotonic_ns() : stack->now;
    if (timeout_ns > UST_RT_FOREVER - 1 - now)
        return UST_RT_FOREVER;
    return now + timeout_ns;
}

/* The stack thread's clock, for thread.c. */
uint64_t ust_rt_clock_ns(void)
{
    return monotonic_ns();
}
