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
    int err = pthread_mutex_lock(&stack->rt.lock);
    if (UST_UNLIKELY(err))
        lock_failed("lock", err);
}

void ust_rt_unlock(struct ust_stack *stack)
{
    /* A netif was added (by any caller) since the stack thread last looked:
     * wake it so it watches the new descriptor. */
    if (UST_UNLIKELY(stack->rt.running && stack->n_netifs != stack->rt.netifs_synced))
        ust_rt_wake_thread(stack);
    int err = pthread_mutex_unlock(&stack->rt.lock);
    if (UST_UNLIKELY(err))
        lock_failed("unlock", err);
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
