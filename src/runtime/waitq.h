/* Wait queues: where a sleeping caller waits for an object to change.
 *
 * Like Linux's wait_queue_head: every object that can make a caller wait (a
 * file, hence a socket, a pipe...) embeds one struct ust_waitq. A caller that
 * must wait links one entry per object it waits on (one for a blocking read,
 * one per descriptor for ust_poll, as in Linux's poll table) and sleeps in
 * ust_rt_wait() (runtime.h). Whoever makes the object ready calls
 * ust_waitq_wake() with the events that became true; every entry interested
 * in one of them wakes its sleeper, which then re-checks the object.
 *
 * Everything runs under the stack lock, so a wakeup cannot slip between a
 * caller's check and its sleep. Nothing here names a thread type: the
 * sleeper (a futex word, runtime/wait.c) is runtime/'s business, and layers
 * below the runtime only embed queues and wake them. Waking a queue with
 * nobody on it costs one test. */
#ifndef UST_RUNTIME_WAITQ_H
#define UST_RUNTIME_WAITQ_H

#include <stddef.h>
#include <stdint.h>

struct ust_waiter;              /* a sleeping caller (runtime/wait.c) */

struct ust_wait_entry {
    struct ust_wait_entry *next, **pprev;
    struct ust_waitq *q;        /* set by the caller before sleeping */
    uint32_t events;            /* POLL* bits that should wake this entry */
    struct ust_waiter *waiter;  /* set by ust_rt_wait */
    /* Callback entries (epoll's permanent watches): when set, a matching
     * wake calls func instead of waking a sleeper. func must not unlink
     * other entries of the queue being woken. Lock held. */
    void (*func)(struct ust_wait_entry *e, uint32_t events);
};

struct ust_waitq {
    struct ust_wait_entry *head;
};

/* Wake every sleeper on the queue. */
#define UST_WAKE_ALL 0xffffffffu

static inline void ust_waitq_init(struct ust_waitq *q) { q->head = NULL; }

void ust_waitq_wake_slow(struct ust_waitq *q, uint32_t events);

/* Links / unlinks a callback entry (e->q and e->func set) that stays on its
 * queue across wakes, unlike ust_rt_wait's entries. Lock held. */
static inline void ust_waitq_add(struct ust_wait_entry *e)
{
    e->next = e->q->head;
    if (e->next)
        e->next->pprev = &e->next;
    e->pprev = &e->q->head;
    e->q->head = e;
}

static inline void ust_waitq_del(struct ust_wait_entry *e)
{
    *e->pprev = e->next;
    if (e->next)
        e->next->pprev = e->pprev;
    e->next = NULL;
    e->pprev = NULL;
}

/* Wakes the entries whose interest intersects `events` (POLLIN, POLLOUT,
 * POLLERR... or UST_WAKE_ALL). Lock held. */
static inline void ust_waitq_wake(struct ust_waitq *q, uint32_t events)
{
    if (q && q->head)
        ust_waitq_wake_slow(q, events);
}

#endif
