/* The timing wheel: timers fire in expiry order, never early, exactly once;
 * cancel and re-arm (also from callbacks, also of timers due in the same
 * advance); jumps of an hour; and ust_tw_next is exactly the earliest pending
 * expiry, checked against a brute-force model over thousands of random
 * operations. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/rand.h"
#include "core/timer.h"
#include "core/util.h"

#define MS UST_NSEC_PER_MSEC
#define SEC UST_NSEC_PER_SEC

struct tt {
    struct ust_timer t;
    int id;
    /* model */
    bool armed;
    bool armed_late;        /* armed since the last advance started (by a callback
                             * or in between): may be due and not fired yet */
    uint64_t expires;
};

struct ctx {
    struct ust_timerwheel *tw;
    struct tt *timers;
    int n;
    uint64_t now;
    int log[4096];
    int nlog;
    uint64_t last_fired;    /* expiry of the previous firing in this advance */
    struct ust_rng rng;
    bool chaos;             /* callbacks set and cancel random timers */
    int rearm_period_ms;    /* > 0: a fired timer re-arms itself this much later */
};

static void model_set(struct ctx *c, struct tt *x, uint64_t exp)
{
    ust_timer_set(c->tw, &x->t, exp);
    x->armed = true;
    x->expires = exp;
    x->armed_late = true;
}

static void model_cancel(struct ctx *c, struct tt *x)
{
    ust_timer_cancel(c->tw, &x->t);
    x->armed = false;
}

static void on_fire(void *arg, struct ust_timer *t)
{
    struct ctx *c = arg;
    struct tt *x = ust_container_of(t, struct tt, t);
    /* Never early, never twice, in ascending order, exactly what was armed. */
    assert_true(t->expires <= c->now);
    assert_true(x->armed);
    assert_int_equal(x->expires, t->expires);
    assert_true(t->expires >= c->last_fired);
    assert_false(ust_timer_pending(t));
    c->last_fired = t->expires;
    x->armed = false;
    if (c->nlog < (int)UST_ARRAY_SIZE(c->log))
        c->log[c->nlog++] = x->id;

    if (c->rearm_period_ms > 0)
        model_set(c, x, t->expires + (uint64_t)c->rearm_period_ms * MS);
    if (!c->chaos)
        return;
    uint64_t what = ust_rng_below(&c->rng, 10);
    struct tt *other = &c->timers[ust_rng_below(&c->rng, (uint64_t)c->n)];
    if (what < 2) {
        /* Re-arm self, possibly for "now" (fires on the next advance). */
        model_set(c, x, c->now + ust_rng_below(&c->rng, 3 * MS));
    } else if (what < 3) {
        model_cancel(c, other);
    } else if (what < 4) {
        model_set(c, other, c->now + ust_rng_below(&c->rng, 50 * MS));
    }
}

static struct tt *make_timers(int n)
{
    struct tt *v = calloc((size_t)n, sizeof(*v));
    assert_non_null(v);
    for (int i = 0; i < n; i++) {
        ust_timer_init(&v[i].t, on_fire);
        v[i].id = i;
    }
    return v;
}

static void ctx_init(struct ctx *c, struct ust_timerwheel *tw, struct tt *v, int n)
{
    memset(c, 0, sizeof(*c));
    c->tw = tw;
    c->timers = v;
    c->n = n;
    ust_rng_seed(&c->rng, 7);
}

static unsigned advance(struct ctx *c, uint64_t now)
{
    c->now = now;
    c->last_fired = 0;
    for (int i = 0; i < c->n; i++)
        c->timers[i].armed_late = false;
    return ust_tw_advance(c->tw, now, c);
}

static uint64_t model_next(const struct ctx *c)
{
    uint64_t best = UINT64_MAX;
    for (int i = 0; i < c->n; i++)
        if (c->timers[i].armed && c->timers[i].expires < best)
            best = c->timers[i].expires;
    return best;
}

/* After an advance to now: nothing armed before it is still due, and the
 * wheel agrees with the model on what is pending and what comes next. */
static void check_model(const struct ctx *c)
{
    unsigned armed = 0;
    for (int i = 0; i < c->n; i++) {
        const struct tt *x = &c->timers[i];
        assert_int_equal(ust_timer_pending(&x->t), x->armed);
        if (!x->armed)
            continue;
        armed++;
        assert_int_equal(x->t.expires, x->expires);
        if (!x->armed_late)
            assert_true(x->expires > c->now);
    }
    assert_int_equal(c->tw->pending, armed);
    assert_int_equal(ust_tw_next(c->tw), model_next(c));
}

static void test_empty_wheel_has_no_deadline(void **state)
{
    (void)state;
    struct ust_timerwheel tw;
    ust_tw_init(&tw, MS, 5 * SEC);
    assert_int_equal(ust_tw_next(&tw), UINT64_MAX);
    assert_int_equal(ust_tw_advance(&tw, 10 * SEC, NULL), 0);
    assert_int_equal(ust_tw_next(&tw), UINT64_MAX);
    assert_int_equal(tw.now, 10 * SEC);
}

static void test_fires_in_expiry_order(void **state)
{
    (void)state;
    enum { N = 200 };
    struct ust_timerwheel tw;
    ust_tw_init(&tw, MS, 0);
    struct tt *v = make_timers(N);
    struct ctx c;
    ctx_init(&c, &tw, v, N);
    /* Distinct expiries spread over 2 s, set in a scrambled order; several
     * share a tick (every 4th pair is 100 us apart). */
    for (int i = 0; i < N; i++) {
        int j = (i * 73) % N;
        model_set(&c, &v[j], (uint64_t)j * 10 * MS + (uint64_t)(j % 4) * 100000);
    }
    assert_int_equal(tw.pending, N);
    assert_int_equal(ust_tw_next(&tw), 0);
    assert_int_equal(advance(&c, 2 * SEC), N);
    assert_int_equal(c.nlog, N);
    for (int i = 0; i < N; i++)
        assert_int_equal(c.log[i], i);
    check_model(&c);
    free(v);
}

static void test_same_tick_fires_in_expiry_order(void **state)
{
    (void)state;
    struct ust_timerwheel tw;
    ust_tw_init(&tw, MS, 0);
    struct tt *v = make_timers(5);
    struct ctx c;
    ctx_init(&c, &tw, v, 5);
    const uint64_t exp[5] = {3 * MS + 900, 3 * MS + 100, 3 * MS + 500, 3 * MS + 100, 3 * MS};
    for (int i = 0; i < 5; i++)
        model_set(&c, &v[i], exp[i]);
    assert_int_equal(ust_tw_next(&tw), 3 * MS);
    assert_int_equal(advance(&c, 4 * MS), 5);
    assert_int_equal(c.log[0], 4);
    assert_int_equal(c.log[3], 2);
    assert_int_equal(c.log[4], 0);
    free(v);
}

static void test_never_fires_early(void **state)
{
    (void)state;
    struct ust_timerwheel tw;
    ust_tw_init(&tw, MS, 0);
    struct tt *v = make_timers(2);
    struct ctx c;
    ctx_init(&c, &tw, v, 2);
    uint64_t exp = 1500 * 1000 + 1;             /* 1.5 ms + 1 ns: mid-tick */
    model_set(&c, &v[0], exp);
    model_set(&c, &v[1], 7 * MS);
    assert_int_equal(ust_tw_next(&tw), exp);    /* exact, not rounded */
    assert_int_equal(advance(&c, 1 * MS), 0);
    assert_int_equal(advance(&c, 1500 * 1000), 0);
    assert_int_equal(advance(&c, exp - 1), 0);
    assert_int_equal(ust_tw_next(&tw), exp);
    assert_int_equal(advance(&c, exp), 1);      /* exactly at its time */
    assert_int_equal(c.log[0], 0);
    assert_int_equal(ust_tw_next(&tw), 7 * MS);
    assert_int_equal(advance(&c, 7 * MS - 1), 0);
    assert_int_equal(advance(&c, 7 * MS), 1);
    assert_int_equal(ust_tw_next(&tw), UINT64_MAX);
    /* Time passed in that is older than the last: treated as the last. */
    assert_int_equal(ust_tw_advance(&tw, 1, &c), 0);
    assert_int_equal(tw.now, 7 * MS);
    free(v);
}

static void test_cancel_and_rearm(void **state)
{
    (void)state;
    struct ust_timerwheel tw;
    ust_tw_init(&tw, MS, 0);
    struct tt *v = make_timers(3);
    struct ctx c;
    ctx_init(&c, &tw, v, 3);
    model_set(&c, &v[0], 10 * MS);
    model_set(&c, &v[1], 20 * MS);
    model_set(&c, &v[2], 30 * MS);
    model_cancel(&c, &v[0]);
    model_cancel(&c, &v[0]);                    /* twice: harmless */
    assert_false(ust_timer_pending(&v[0].t));
    assert_int_equal(tw.pending, 2);
    assert_int_equal(ust_tw_next(&tw), 20 * MS);
    /* Re-arm a pending timer earlier and later. */
    model_set(&c, &v[2], 5 * MS);
    assert_int_equal(tw.pending, 2);
    assert_int_equal(ust_tw_next(&tw), 5 * MS);
    model_set(&c, &v[2], 40 * MS + SEC); /* another round of the wheel */
    assert_int_equal(ust_tw_next(&tw), 20 * MS);
    model_set(&c, &v[1], 20 * MS);       /* same time: stays */
    assert_int_equal(advance(&c, 1 * SEC), 1);
    assert_int_equal(c.log[0], 1);
    check_model(&c);
    assert_int_equal(ust_tw_next(&tw), 40 * MS + SEC);
    model_cancel(&c, &v[2]);
    assert_int_equal(ust_tw_next(&tw), UINT64_MAX);
    assert_int_equal(advance(&c, 2 * SEC), 0);
    assert_int_equal(tw.pending, 0);
    free(v);
}

static void test_periodic_rearm_from_callback(void **state)
{
    (void)state;
    struct ust_timerwheel tw;
    ust_tw_init(&tw, MS, 0);
    struct tt *v = make_timers(1);
    struct ctx c;
    ctx_init(&c, &tw, v, 1);
    c.rearm_period_ms = 10;
    model_set(&c, &v[0], 10 * MS);
    unsigned fired = 0;
    for (uint64_t t = 0; t <= 1 * SEC; t += 3 * MS)
        fired += advance(&c, t);
    assert_int_equal(fired, 99);                /* 10, 20, ..., 990 ms */
    assert_int_equal(ust_tw_next(&tw), 1000 * MS);
    /* A jump fires it once: the re-armed expiry is still in the past and
     * waits for the next advance (no loop inside one advance). */
    assert_int_equal(advance(&c, 5 * SEC), 1);
    assert_int_equal(ust_tw_next(&tw), 1010 * MS);
    assert_int_equal(advance(&c, 5 * SEC), 1);
    free(v);
}

static struct tt *g_victim;
static struct tt *g_moved;
static void cancel_victim_cb(void *arg, struct ust_timer *t)
{
    struct ctx *c = arg;
    on_fire(arg, t);
    model_cancel(c, g_victim);                  /* due in this same advance */
    model_set(c, g_moved, c->now + 5 * MS);
}

static void test_callback_cancels_and_moves_due_timers(void **state)
{
    (void)state;
    struct ust_timerwheel tw;
    ust_tw_init(&tw, MS, 0);
    struct tt *v = make_timers(4);
    struct ctx c;
    ctx_init(&c, &tw, v, 4);
    v[0].t.fn = cancel_victim_cb;
    g_victim = &v[1];
    g_moved = &v[2];
    model_set(&c, &v[0], 1 * MS);
    model_set(&c, &v[1], 1 * MS + 10);  /* same slot */
    model_set(&c, &v[2], 2 * MS);
    model_set(&c, &v[3], 3 * MS);
    assert_int_equal(advance(&c, 3 * MS), 2);   /* v0 and v3 only */
    assert_int_equal(c.log[0], 0);
    assert_int_equal(c.log[1], 3);
    check_model(&c);
    assert_int_equal(ust_tw_next(&tw), 8 * MS);
    assert_int_equal(advance(&c, 8 * MS), 1);
    assert_int_equal(c.log[2], 2);
    free(v);
}

static void test_hour_jump_with_spread_timers(void **state)
{
    (void)state;
    enum { N = 3000 };
    struct ust_timerwheel tw;
    uint64_t t0 = 12345 * SEC + 678;
    ust_tw_init(&tw, MS, t0);
    struct tt *v = make_timers(N);
    struct ctx c;
    ctx_init(&c, &tw, v, N);
    struct ust_rng rng;
    ust_rng_seed(&rng, 99);
    for (int i = 0; i < N; i++)
        model_set(&c, &v[i], t0 + 1 + ust_rng_below(&rng, 3600 * SEC));
    assert_int_equal(ust_tw_next(&tw), model_next(&c));

    /* Half an hour: exactly the first half fire, in order (on_fire checks). */
    unsigned expect = 0;
    for (int i = 0; i < N; i++)
        expect += v[i].expires <= t0 + 1800 * SEC;
    assert_int_equal(advance(&c, t0 + 1800 * SEC), expect);
    check_model(&c);
    /* The rest, in one jump of more than the remaining half hour. */
    assert_int_equal(advance(&c, t0 + 3601 * SEC), N - expect);
    assert_int_equal(c.nlog, N);
    check_model(&c);
    assert_int_equal(tw.pending, 0);
    free(v);
}

static void test_timer_set_in_the_past_fires_next_advance(void **state)
{
    (void)state;
    struct ust_timerwheel tw;
    ust_tw_init(&tw, MS, 100 * MS);
    struct tt *v = make_timers(2);
    struct ctx c;
    ctx_init(&c, &tw, v, 2);
    model_set(&c, &v[0], 3 * MS);        /* long past */
    model_set(&c, &v[1], 100 * MS);      /* exactly now */
    assert_int_equal(ust_tw_next(&tw), 3 * MS);
    assert_int_equal(advance(&c, 100 * MS), 2);
    assert_int_equal(c.log[0], 0);
    assert_int_equal(c.log[1], 1);
    free(v);
}

static void test_far_future_and_huge_expiry(void **state)
{
    (void)state;
    struct ust_timerwheel tw;
    ust_tw_init(&tw, MS, 0);
    struct tt *v = make_timers(2);
    struct ctx c;
    ctx_init(&c, &tw, v, 2);
    model_set(&c, &v[0], UINT64_MAX - 5);
    model_set(&c, &v[1], 3600 * 24 * SEC);
    assert_int_equal(ust_tw_next(&tw), 3600 * 24 * SEC);
    model_cancel(&c, &v[1]);
    assert_int_equal(ust_tw_next(&tw), UINT64_MAX - 5);
    assert_int_equal(advance(&c, 3600 * 24 * SEC), 0);
    assert_int_equal(ust_tw_next(&tw), UINT64_MAX - 5);
    assert_int_equal(advance(&c, UINT64_MAX - 5), 1);
    assert_int_equal(ust_tw_next(&tw), UINT64_MAX);
    free(v);
}

/* Random sets, cancels and advances (small steps, jumps of up to an hour, and
 * straight to the next deadline as the simulator does), with callbacks that
 * set and cancel timers; after every operation the wheel must agree with a
 * brute-force model. */
static void run_random_model(uint64_t seed, uint64_t tick_ns, bool chaos)
{
    enum { N = 64, OPS = 20000 };
    struct ust_timerwheel tw;
    uint64_t now = seed * 1000003;
    ust_tw_init(&tw, tick_ns, now);
    struct tt *v = make_timers(N);
    struct ctx c;
    ctx_init(&c, &tw, v, N);
    c.chaos = chaos;
    c.now = now;
    struct ust_rng rng;
    ust_rng_seed(&rng, seed);
    unsigned total_fired = 0;

    for (int op = 0; op < OPS; op++) {
        uint64_t r = ust_rng_below(&rng, 100);
        struct tt *x = &v[ust_rng_below(&rng, N)];
        if (r < 40) {
            uint64_t kind = ust_rng_below(&rng, 10), exp;
            if (kind < 4)
                exp = now + ust_rng_below(&rng, 5 * MS);
            else if (kind < 7)
                exp = now + ust_rng_below(&rng, 2 * SEC);
            else if (kind < 9)
                exp = now + ust_rng_below(&rng, 7200 * SEC);
            else
                exp = now - ust_rng_below(&rng, now < 10 * MS ? now + 1 : 10 * MS);
            model_set(&c, x, exp);
        } else if (r < 55) {
            model_cancel(&c, x);
        } else {
            uint64_t kind = ust_rng_below(&rng, 10), to;
            uint64_t next = ust_tw_next(&tw);
            if (kind < 4)
                to = now + ust_rng_below(&rng, 3 * MS);
            else if (kind < 6)
                to = now + ust_rng_below(&rng, 600 * MS);
            else if (kind < 7)
                to = now + ust_rng_below(&rng, 3600 * SEC);
            else
                to = next == UINT64_MAX || next < now ? now : next;
            now = to;
            total_fired += advance(&c, now);
        }
        check_model(&c);
    }
    assert_true(total_fired > 1000);
    for (int i = 0; i < N; i++)
        model_cancel(&c, &v[i]);
    assert_int_equal(tw.pending, 0);
    assert_int_equal(ust_tw_next(&tw), UINT64_MAX);
    free(v);
}

static void test_random_ops_match_model(void **state)
{
    (void)state;
    run_random_model(1, MS, false);
    run_random_model(2, 1000, false);       /* 1 us ticks */
    run_random_model(3, 7 * MS, false);     /* tick not a power of ten */
}

static void test_random_ops_with_callbacks_changing_timers(void **state)
{
    (void)state;
    run_random_model(4, MS, true);
    run_random_model(5, 1000, true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_wheel_has_no_deadline),
        cmocka_unit_test(test_fires_in_expiry_order),
        cmocka_unit_test(test_same_tick_fires_in_expiry_order),
        cmocka_unit_test(test_never_fires_early),
        cmocka_unit_test(test_cancel_and_rearm),
        cmocka_unit_test(test_periodic_rearm_from_callback),
        cmocka_unit_test(test_callback_cancels_and_moves_due_timers),
        cmocka_unit_test(test_hour_jump_with_spread_timers),
        cmocka_unit_test(test_timer_set_in_the_past_fires_next_advance),
        cmocka_unit_test(test_far_future_and_huge_expiry),
        cmocka_unit_test(test_random_ops_match_model),
        cmocka_unit_test(test_random_ops_with_callbacks_changing_timers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
