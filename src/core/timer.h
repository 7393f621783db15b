/* A hashed timing wheel (Varghese & Lauck): add, cancel and expire are O(1).
 *
 * Timers are intrusive: embed a struct ust_timer in the object that owns it
 * and use ust_container_of in the callback. Expiry times are absolute
 * nanoseconds on the stack's clock. A timer lives in the slot of its tick
 * (1 ms by default) but fires exactly when expires <= now, so it never fires
 * early. */
#ifndef UST_CORE_TIMER_H
#define UST_CORE_TIMER_H

#include <stdbool.h>
#include <stdint.h>

struct ust_timer;
typedef void (*ust_timer_fn)(void *ctx, struct ust_timer *t);

struct ust_timer {
    struct ust_timer *next, **pprev; /* slot list; pprev == NULL when not pending */
    uint64_t expires;                /* absolute ns */
    ust_timer_fn fn;
};

#define UST_TW_SLOTS 512u            /* power of two */

struct ust_timerwheel {
    struct ust_timer *slot[UST_TW_SLOTS];
    uint64_t tick_ns;                /* slot width */
    uint64_t cur_tick;               /* every tick before this one has been processed */
    uint64_t now;                    /* last time passed to ust_tw_advance */
    unsigned pending;                /* timers armed */
    uint64_t next_lb;                /* <= every pending expiry (UINT64_MAX: none) */
    bool next_exact;                 /* next_lb is the earliest pending expiry */
};

void ust_tw_init(struct ust_timerwheel *tw, uint64_t tick_ns, uint64_t now);
void ust_timer_init(struct ust_timer *t, ust_timer_fn fn);
/* Arms (or re-arms) t to fire at `expires`. */
void ust_timer_set(struct ust_timerwheel *tw, struct ust_timer *t, uint64_t expires);
void ust_timer_cancel(struct ust_timerwheel *tw, struct ust_timer *t);
static inline bool ust_timer_pending(const struct ust_timer *t) { return t->pprev != 0; }
/* Fires, in expiry order, every timer due at or before now, passing ctx to
 * callbacks. Callbacks may set or cancel any timer; one they arm for a time
 * <= now fires on the next advance (so a timer re-arming itself cannot loop).
 * Returns the number fired. */
unsigned ust_tw_advance(struct ust_timerwheel *tw, uint64_t now, void *ctx);
/* The earliest expiry of any pending timer, or UINT64_MAX when none. Exact
 * (not rounded to a tick): the simulator jumps straight to it. O(1) after
 * ust_tw_advance; otherwise at most one pass over the slots. */
uint64_t ust_tw_next(const struct ust_timerwheel *tw);

#endif
