/* Sleeping and waking: a caller sleeps on a condition variable (clocked by
 * CLOCK_MONOTONIC) bound to the stack lock; ust_waitq_wake signals the
 * sleepers linked on a queue. One sleeper may be linked on many queues (one
 * entry each, as ust_poll does), and any of them wakes it once. */
#include "runtime/runtime.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <time.h>

#include "core/util.h"
#include "stack/stack_impl.h"

struct ust_waiter {
    pthread_cond_t cond;
    bool woken;
    struct ust_waiter *next, **pprev;   /* stack->rt.sleepers */
};

static void waiter_signal(struct ust_waiter *w)
{
    if (!w->woken) {
        w->woken = true;
        pthread_cond_signal(&w->cond);
    }
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

unsigned ust_rt_sleeper_count(const struct ust_stack *stack)
{
    unsigned n = 0;
    for (const struct ust_waiter *w = stack->rt.sleepers; w; w = w->next)
        n++;
    return n;
}

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

static struct timespec ns_to_timespec(uint64_t ns)
{
    struct timespec ts = {
        .tv_sec = (time_t)(ns / UST_NSEC_PER_SEC),
        .tv_nsec = (long)(ns % UST_NSEC_PER_SEC),
    };
    return ts;
}

int ust_rt_sleep(struct ust_stack *stack, struct ust_wait_entry *entries, unsigned n,
                 uint64_t deadline)
{
    struct ust_rt_state *rt = &stack->rt;
    struct ust_waiter w = { .woken = false };
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&w.cond, &attr);
    pthread_condattr_destroy(&attr);

    for (unsigned i = 0; i < n; i++)
        entry_link(&entries[i], &w);
    w.next = rt->sleepers;
    if (w.next)
        w.next->pprev = &w.next;
    w.pprev = &rt->sleepers;
    rt->sleepers = &w;

    int ret = 0;
    struct timespec ts = ns_to_timespec(deadline);
    while (!w.woken && ust_rt_can_block(stack)) {
        if (deadline == UST_RT_FOREVER) {
            pthread_cond_wait(&w.cond, &rt->lock);
        } else if (pthread_cond_timedwait(&w.cond, &rt->lock, &ts) == ETIMEDOUT) {
            if (!w.woken)
                ret = -ETIMEDOUT;
            break;
        }
    }

    *w.pprev = w.next;
    if (w.next)
        w.next->pprev = w.pprev;
    for (unsigned i = 0; i < n; i++)
        entry_unlink(&entries[i]);
    pthread_cond_destroy(&w.cond);
    ust_rt_refresh_now(stack);
    return ret;
}
