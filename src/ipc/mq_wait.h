/* ipc/: blocked senders and receivers of a message queue (POSIX and
 * System V), one sleeper each, in FIFO order.
 *
 * Each blocked caller links a sleeper with its own wait queue, so a send
 * wakes exactly the one receiver that will take the message (the first
 * whose selection matches, as Linux's pipelined_send), and a receive wakes
 * the senders whose messages now fit: no thundering herd. The waker unlinks
 * the sleeper and marks it woken; a woken caller that then does not
 * consume (it timed out, or lost the race to a caller that never slept)
 * passes the wakeup on. Lock held throughout. */
#ifndef UST_IPC_MQ_WAIT_H
#define UST_IPC_MQ_WAIT_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>

#include "runtime/notify.h"
#include "runtime/runtime.h"
#include "runtime/waitq.h"

struct ust_mqw_sleeper {
    struct ust_mqw_sleeper *next, *prev;
    struct ust_waitq wq;
    bool linked;
    bool woken;
    /* What the caller waits for; read by the queue's matching rule. */
    long a, b;
};

struct ust_mqw_list {
    struct ust_mqw_sleeper *first, *last;
    unsigned n;
};

static inline void ust_mqw_link(struct ust_mqw_list *l, struct ust_mqw_sleeper *s, bool at_head)
{
    s->linked = true;
    if (at_head) {
        s->prev = NULL;
        s->next = l->first;
        if (l->first)
            l->first->prev = s;
        else
            l->last = s;
        l->first = s;
    } else {
        s->next = NULL;
        s->prev = l->last;
        if (l->last)
            l->last->next = s;
        else
            l->first = s;
        l->last = s;
    }
    l->n++;
}

static inline void ust_mqw_unlink(struct ust_mqw_list *l, struct ust_mqw_sleeper *s)
{
    if (!s->linked)
        return;
    if (s->prev)
        s->prev->next = s->next;
    else
        l->first = s->next;
    if (s->next)
        s->next->prev = s->prev;
    else
        l->last = s->prev;
    s->next = s->prev = NULL;
    s->linked = false;
    l->n--;
}

/* Unlinks s and wakes its caller. */
static inline void ust_mqw_wake(struct ust_mqw_list *l, struct ust_mqw_sleeper *s)
{
    ust_mqw_unlink(l, s);
    s->woken = true;
    ust_waitq_wake(&s->wq, UST_WAKE_ALL);
}

static inline void ust_mqw_wake_all(struct ust_mqw_list *l)
{
    while (l->first)
        ust_mqw_wake(l, l->first);
}

/* Links s (at the head when it had been woken before: it keeps its turn)
 * and sleeps once until woken, `until` (CLOCK_MONOTONIC ns) or a signal
 * (per sig). Returns 0, -ETIMEDOUT or -EINTR; s is unlinked on return. */
static inline int ust_mqw_sleep(struct ust_stack *stack, struct ust_mqw_list *l,
                                struct ust_mqw_sleeper *s, uint64_t until, enum ust_rt_sig sig)
{
    bool again = s->woken;
    s->woken = false;
    ust_waitq_init(&s->wq);
    ust_mqw_link(l, s, again);
    struct ust_wait_entry e = { .q = &s->wq, .events = UST_WAKE_ALL };
    int rc = ust_rt_wait(stack, &e, 1, until, sig);
    ust_mqw_unlink(l, s);
    return rc;
}

/* One try of the operation: a result, or -EAGAIN to wait and try again. */
typedef long (*ust_mqw_try_fn)(void *ctx);
/* Hands a wakeup this caller received but did not use to the next caller. */
typedef void (*ust_mqw_pass_fn)(void *ctx);

/* Runs try until it returns something other than -EAGAIN, sleeping on l
 * between tries. When the call would block: `would_block` (-EAGAIN or
 * -ENOMSG) at once when nowait or when no stack thread runs; -EINVAL when
 * bad_timeout (POSIX checks the timeout only when the call would block);
 * -ETIMEDOUT once the deadline dl has passed; -EINTR when a signal handler
 * interrupts the wait (sig: UST_RT_SIG_RESTART for POSIX queues, restarted
 * with SA_RESTART; UST_RT_SIG_EINTR for System V, never restarted;
 * signal(7)). match_a/b go into the sleeper for the waker's matching rule.
 * The caller keeps the queue alive while this sleeps. */
static inline long ust_mqw_wait(struct ust_stack *stack, struct ust_mqw_list *l,
                                const struct ust_rt_deadline *dl, bool bad_timeout, bool nowait,
                                long would_block, enum ust_rt_sig sig, long match_a, long match_b,
                                ust_mqw_try_fn try_fn, ust_mqw_pass_fn pass, void *ctx)
{
    long r = try_fn(ctx);
    if (r != -EAGAIN)
        return r;
    if (nowait)
        return would_block;
    if (bad_timeout)
        return -EINVAL;
    if (ust_rt_deadline_passed(dl))
        return -ETIMEDOUT;
    if (!ust_rt_can_block(stack))
        return would_block;
    struct ust_mqw_sleeper sl = { .woken = false, .a = match_a, .b = match_b };
    for (;;) {
        int rc = ust_mqw_sleep(stack, l, &sl, ust_rt_deadline_sleep_until(dl), sig);
        r = try_fn(ctx);
        if (r != -EAGAIN)
            break;
        if (rc == -EINTR) {
            r = -EINTR;
            break;
        }
        if (ust_rt_deadline_passed(dl)) {
            r = -ETIMEDOUT;
            break;
        }
        if (!ust_rt_can_block(stack)) {
            r = would_block;
            break;
        }
    }
    if (r < 0 && sl.woken)
        pass(ctx);
    return r;
}

#endif
