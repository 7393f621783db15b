/* A hashed timing wheel (Varghese & Lauck, "Hashed and Hierarchical Timing
 * Wheels", scheme 6).
 *
 * A timer whose expiry falls in tick k = expires / tick_ns is linked into
 * slot k % UST_TW_SLOTS; a timer set in the past goes into the slot of
 * cur_tick, so the next advance sees it. Slots hold timers of several rounds,
 * so an advance compares each timer's expiry with now rather than trusting
 * its slot, and visits each slot at most once however far time jumps.
 *
 * Invariant: every pending timer's slot tick ("effective tick",
 * max(expires / tick_ns, cur_tick at insertion)) is >= cur_tick.
 *
 * ust_tw_next must be exact and cheap. The wheel keeps next_lb, a lower bound
 * of every pending expiry, and next_exact when it is the minimum: setting a
 * timer at or before the bound makes it exact, cancelling or firing the
 * minimum makes it inexact, and advance recomputes it with one scan. */
#include "core/timer.h"

#include <stddef.h>
#include <string.h>

#include "core/util.h"

#define TW_MASK (UST_TW_SLOTS - 1)

void ust_tw_init(struct ust_timerwheel *tw, uint64_t tick_ns, uint64_t now)
{
    memset(tw->slot, 0, sizeof(tw->slot));
    tw->tick_ns = tick_ns ? tick_ns : 1;
    tw->cur_tick = now / tw->tick_ns;
    tw->now = now;
    tw->pending = 0;
    tw->next_lb = UINT64_MAX;
    tw->next_exact = true;
}

void ust_timer_init(struct ust_timer *t, ust_timer_fn fn)
{
    t->next = NULL;
    t->pprev = NULL;
    t->expires = 0;
    t->fn = fn;
}

/* Takes t off whatever list holds it (a slot or advance's due list). */
static void timer_unlink(struct ust_timerwheel *tw, struct ust_timer *t)
{
    *t->pprev = t->next;
    if (t->next)
        t->next->pprev = t->pprev;
    t->next = NULL;
    t->pprev = NULL;
    if (--tw->pending == 0) {
        tw->next_lb = UINT64_MAX;
        tw->next_exact = true;
    } else if (t->expires == tw->next_lb) {
        tw->next_exact = false;     /* the minimum may have left */
    }
}

void ust_timer_set(struct ust_timerwheel *tw, struct ust_timer *t, uint64_t expires)
{
    if (t->pprev) {
        if (t->expires == expires)
            return;
        timer_unlink(tw, t);
    }
    t->expires = expires;
    uint64_t k = expires / tw->tick_ns;
    if (k < tw->cur_tick)
        k = tw->cur_tick;
    struct ust_timer **head = &tw->slot[k & TW_MASK];
    t->next = *head;
    if (t->next)
        t->next->pprev = &t->next;
    *head = t;
    t->pprev = head;
    tw->pending++;
    if (expires <= tw->next_lb) {
        tw->next_lb = expires;      /* below every other pending expiry */
        tw->next_exact = true;
    }
}

void ust_timer_cancel(struct ust_timerwheel *tw, struct ust_timer *t)
{
    if (t->pprev)
        timer_unlink(tw, t);
}

/* Last nanosecond of tick k, saturating. */
static uint64_t tick_last_ns(const struct ust_timerwheel *tw, uint64_t k)
{
    if (k >= UINT64_MAX / tw->tick_ns)
        return UINT64_MAX;
    return (k + 1) * tw->tick_ns - 1;
}

/* The earliest pending expiry, by scanning slots in tick order from the
 * lower bound's tick. The first slot holding a timer of that very tick holds
 * the minimum (slots before it only hold later rounds, slots after it later
 * ticks); if no slot does, every timer is a round or more away and the
 * minimum seen over the whole pass is the answer. */
static uint64_t scan_earliest(const struct ust_timerwheel *tw)
{
    if (tw->pending == 0)
        return UINT64_MAX;
    uint64_t k = tw->next_lb / tw->tick_ns;
    if (k < tw->cur_tick)
        k = tw->cur_tick;
    uint64_t best = UINT64_MAX;
    for (unsigned i = 0; i < UST_TW_SLOTS; i++, k++) {
        const struct ust_timer *t = tw->slot[k & TW_MASK];
        if (!t)
            continue;
        uint64_t last = tick_last_ns(tw, k);
        uint64_t hit = UINT64_MAX;
        for (; t; t = t->next) {
            if (t->expires <= last && t->expires < hit)
                hit = t->expires;
            if (t->expires < best)
                best = t->expires;
        }
        if (hit != UINT64_MAX)
            return hit;
    }
    return best;
}

uint64_t ust_tw_next(const struct ust_timerwheel *tw)
{
    if (tw->next_exact)
        return tw->next_lb;
    return scan_earliest(tw);
}

/* Moves every timer with expires <= now out of the slots of ticks
 * [start, end] (each slot at most once) onto a singly linked list. */
static struct ust_timer *collect_due(struct ust_timerwheel *tw, uint64_t start, uint64_t end,
                                     uint64_t now)
{
    struct ust_timer *due = NULL;
    uint64_t n = end - start >= UST_TW_SLOTS ? UST_TW_SLOTS : end - start + 1;
    for (uint64_t i = 0; i < n; i++) {
        struct ust_timer **pp = &tw->slot[(start + i) & TW_MASK];
        struct ust_timer *t;
        while ((t = *pp) != NULL) {
            if (t->expires <= now) {
                *pp = t->next;
                if (t->next)
                    t->next->pprev = pp;
                t->next = due;
                due = t;
            } else {
                pp = &t->next;
            }
        }
    }
    return due;
}

static struct ust_timer *merge_by_expiry(struct ust_timer *a, struct ust_timer *b)
{
    struct ust_timer *head = NULL, **tail = &head;
    while (a && b) {
        struct ust_timer **min = b->expires < a->expires ? &b : &a;
        *tail = *min;
        tail = &(*min)->next;
        *min = (*min)->next;
    }
    *tail = a ? a : b;
    return head;
}

/* Merge sort of a singly linked list by expiry. */
static struct ust_timer *sort_by_expiry(struct ust_timer *list)
{
    if (!list || !list->next)
        return list;
    struct ust_timer *slow = list, *fast = list->next;
    while (fast && fast->next) {
        slow = slow->next;
        fast = fast->next->next;
    }
    struct ust_timer *second = slow->next;
    slow->next = NULL;
    return merge_by_expiry(sort_by_expiry(list), sort_by_expiry(second));
}

unsigned ust_tw_advance(struct ust_timerwheel *tw, uint64_t now, void *ctx)
{
    if (now < tw->now)
        now = tw->now;
    tw->now = now;
    uint64_t end = now / tw->tick_ns;
    unsigned fired = 0;

    if (tw->pending && now >= tw->next_lb) {
        uint64_t start = tw->next_lb / tw->tick_ns;
        if (start < tw->cur_tick)
            start = tw->cur_tick;
        struct ust_timer *due = sort_by_expiry(collect_due(tw, start, end, now));
        /* Timers armed by the callbacks below go to tick `end` or later. */
        tw->cur_tick = end;

        /* The due list stays doubly linked (pprev), so a callback can cancel
         * or re-arm a timer that has not fired yet. */
        struct ust_timer **pp = &due;
        for (struct ust_timer *t = due; t; t = t->next) {
            t->pprev = pp;
            pp = &t->next;
        }
        struct ust_timer *t;
        while ((t = due) != NULL) {
            timer_unlink(tw, t);
            t->fn(ctx, t);
            fired++;
        }
    } else if (end > tw->cur_tick) {
        tw->cur_tick = end;
    }
    if (!tw->next_exact) {
        tw->next_lb = scan_earliest(tw);
        tw->next_exact = true;
    }
    return fired;
}
