/* The impairment layer: loss, delay, jitter, reordering, duplication,
 * corruption and a rate limit on one direction of any netif (TAP, TUN, sim,
 * loopback's transmit side), like Linux's netem qdisc, for kernels that have
 * no netem and for tests. Each frame meets the model of the simulator's links
 * (impair_model.c): a full queue (queue_drops), serialisation at `rate`,
 * loss, corruption, delay + jitter or reordering (no delay), duplication.
 *
 * Frames that must wait are held, in the stack's own buffers, in a binary
 * min-heap on (release time, arrival order) of at most queue_limit frames; a
 * timer on the stack's wheel releases them: on the receive side into
 * ust_netif_deliver (capture, then the stack's input), on the transmit side
 * into the driver's transmit. Frames due at once pass straight through.
 *
 * Capture happens at the stack's edge: frames the stack receives AFTER the
 * receive impairment, frames the stack sends BEFORE the transmit impairment.
 * So a pcap shows what the stack itself saw and did (the gaps the loss made,
 * the SACKs and the retransmissions), as a capture on the far side of netem.
 *
 * The dice come from a PRNG per direction seeded from the stack's PRNG when
 * the impairment is first set, so a stack seed replays the same fates. */
#include "netif/netif.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/stats.h"
#include "core/util.h"
#include "netif/impair_model.h"
#include "runtime/runtime.h"
#include "stack/stack_impl.h"

struct impair_slot {
    uint64_t time;              /* release time, ns */
    uint64_t seq;               /* arrival order: tie-break at equal times */
    struct ust_fbuf *fb;
};

struct ust_impair {
    struct ust_netif *nif;
    int dir;                    /* UST_IMPAIR_RX or UST_IMPAIR_TX */
    bool active;
    bool saved_clean;           /* nif->clean_link before a receive corruption */
    struct ust_link_params p;   /* clamped; queue_limit nonzero */
    struct ust_link_stats st;
    struct ust_rng rng;
    struct ust_timer timer;
    uint64_t busy_until;        /* end of the last frame's serialisation */
    uint64_t next_seq;
    struct impair_slot *heap;   /* capacity p.queue_limit */
    unsigned heap_len;
};

/* ---- The held frames: min-heap on (time, seq) -------------------------- */

static bool slot_before(const struct impair_slot *x, const struct impair_slot *y)
{
    return x->time < y->time || (x->time == y->time && x->seq < y->seq);
}

static void heap_push(struct ust_impair *im, struct impair_slot s)
{
    unsigned i = im->heap_len++;
    while (i > 0) {
        unsigned parent = (i - 1) / 2;
        if (!slot_before(&s, &im->heap[parent]))
            break;
        im->heap[i] = im->heap[parent];
        i = parent;
    }
    im->heap[i] = s;
}

static struct impair_slot heap_pop(struct ust_impair *im)
{
    struct impair_slot top = im->heap[0];
    struct impair_slot last = im->heap[--im->heap_len];
    unsigned n = im->heap_len, i = 0;
    for (;;) {
        unsigned c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && slot_before(&im->heap[c + 1], &im->heap[c]))
            c++;
        if (!slot_before(&im->heap[c], &last))
            break;
        im->heap[i] = im->heap[c];
        i = c;
    }
    if (n > 0)
        im->heap[i] = last;
    return top;
}

static void drop_held(struct ust_impair *im)
{
    struct ust_stack *stack = im->nif->stack;
    for (unsigned i = 0; i < im->heap_len; i++) {
        ust_fbuf_free(stack, im->heap[i].fb);
        im->st.queue_drops++;
    }
    im->heap_len = 0;
    ust_timer_cancel(&stack->timers, &im->timer);
}

/* ---- Release ------------------------------------------------------------ */

/* A frame leaves the impairment: into the stack, or onto the driver. */
static void release(struct ust_impair *im, struct ust_fbuf *fb)
{
    struct ust_netif *nif = im->nif;
    im->st.delivered++;
    if (im->dir == UST_IMPAIR_RX) {
        ust_netif_deliver(nif, fb);
        return;
    }
    if (!nif->up) {
        im->st.down_drops++;
        ust_fbuf_free(nif->stack, fb);
        return;
    }
    if (nif->ops->transmit(nif, fb) < 0)
        UST_INC(nif->stack, ETH, OutDrops);
}

static void arm(struct ust_impair *im)
{
    struct ust_stack *stack = im->nif->stack;
    if (im->heap_len == 0)
        ust_timer_cancel(&stack->timers, &im->timer);
    else if (!ust_timer_pending(&im->timer) || im->timer.expires != im->heap[0].time)
        ust_timer_set(&stack->timers, &im->timer, im->heap[0].time);
}

/* Timer: releases every frame due by now, in (time, arrival) order. */
static void on_timer(void *ctx, struct ust_timer *t)
{
    struct ust_stack *stack = ctx;
    struct ust_impair *im = ust_container_of(t, struct ust_impair, timer);
    while (im->heap_len > 0 && im->heap[0].time <= stack->now) {
        struct impair_slot s = heap_pop(im);
        release(im, s.fb);
    }
    arm(im);
}

/* Holds fb until `time` (or releases it now if that is not in the future).
 * Takes ownership. */
static void hold(struct ust_impair *im, struct ust_fbuf *fb, uint64_t time)
{
    struct ust_stack *stack = im->nif->stack;
    if (time <= stack->now) {
        release(im, fb);
        return;
    }
    if (im->heap_len >= im->p.queue_limit) {
        im->st.queue_drops++;
        ust_fbuf_free(stack, fb);
        return;
    }
    bool earliest = im->heap_len == 0 || time < im->heap[0].time;
    heap_push(im, (struct impair_slot){ .time = time, .seq = im->next_seq++, .fb = fb });
    if (earliest) {
        arm(im);
        /* The stack thread may be asleep until a later deadline. */
        ust_stack_kick(stack);
    }
}

/* The model: queue, serialisation, loss, corruption, delay/reordering,
 * duplication (see sim.h for the sim's identical order). Takes ownership. */
static int impair_frame(struct ust_impair *im, struct ust_fbuf *fb)
{
    struct ust_stack *stack = im->nif->stack;
    im->st.sent++;
    if (im->heap_len >= im->p.queue_limit) {
        im->st.queue_drops++;
        ust_fbuf_free(stack, fb);
        return -ENOBUFS;
    }
    uint64_t ser = ust_impair_serialisation_ns(fb->len, im->p.rate_bps);
    uint64_t tx_end = UST_MAX(stack->now, im->busy_until) + ser;
    if (ser > 0)
        im->busy_until = tx_end;        /* a lost frame still occupies the wire */
    if (ust_impair_roll_loss(&im->rng, &im->p)) {
        im->st.lost++;
        ust_fbuf_free(stack, fb);
        return 0;
    }
    struct ust_impair_fate fate;
    ust_impair_roll_fate(&im->rng, &im->p, fb->len, tx_end, &fate);
    if (fate.corrupt) {
        ust_impair_flip_bit(fb->data, fate.corrupt_bit);
        im->st.corrupted++;
    }
    if (fate.reordered)
        im->st.reordered++;
    struct ust_fbuf *copy = NULL;
    if (fate.duplicate) {
        copy = ust_fbuf_clone(stack, fb);
        if (copy)
            im->st.duplicated++;
        else
            im->st.rx_nobufs++;         /* no buffer for the copy */
    }
    hold(im, fb, fate.arrival);
    if (copy)
        hold(im, copy, fate.arrival);
    return 0;
}

/* ---- The netif paths (netif.c) ------------------------------------------ */

bool ust_impair_active(const struct ust_impair *im)
{
    return im && im->active;
}

void ust_impair_receive(struct ust_impair *im, struct ust_fbuf *fb)
{
    impair_frame(im, fb);
}

int ust_impair_transmit(struct ust_impair *im, struct ust_fbuf *fb)
{
    return impair_frame(im, fb);
}

void ust_impair_destroy(struct ust_netif *nif)
{
    for (int d = 0; d < 2; d++) {
        struct ust_impair *im = nif->impair[d];
        if (!im)
            continue;
        drop_held(im);
        free(im->heap);
        free(im);
        nif->impair[d] = NULL;
    }
}

/* ---- Configuration -------------------------------------------------------- */

static bool params_off(const struct ust_link_params *p)
{
    return !p || (p->delay_ns == 0 && p->jitter_ns == 0 && !(p->loss > 0.0) &&
                  !(p->duplicate > 0.0) && !(p->corrupt > 0.0) && !(p->reorder > 0.0) &&
                  p->rate_bps == 0);
}

static struct ust_impair *impair_get(struct ust_netif *nif, int dir)
{
    struct ust_impair *im = nif->impair[dir];
    if (im)
        return im;
    im = calloc(1, sizeof(*im));
    if (!im)
        return NULL;
    im->nif = nif;
    im->dir = dir;
    ust_rng_seed(&im->rng, ust_rng_next(&nif->stack->rng));
    ust_timer_init(&im->timer, on_timer);
    nif->impair[dir] = im;
    return im;
}

/* Resizes the heap to `limit` frames. A prefix of a heap array is a heap,
 * so when shrinking the latest positions are dropped. */
static int resize_heap(struct ust_impair *im, unsigned limit)
{
    if (im->heap && limit == im->p.queue_limit)
        return 0;
    struct impair_slot *h = calloc(limit, sizeof(*h));
    if (!h)
        return -ENOMEM;
    unsigned keep = UST_MIN(im->heap_len, limit);
    for (unsigned i = 0; i < im->heap_len; i++) {
        if (i < keep) {
            h[i] = im->heap[i];
        } else {
            ust_fbuf_free(im->nif->stack, im->heap[i].fb);
            im->st.queue_drops++;
        }
    }
    free(im->heap);
    im->heap = h;
    im->heap_len = keep;
    return 0;
}

static void set_corrupting(struct ust_impair *im, bool on)
{
    if (im->dir != UST_IMPAIR_RX)
        return;
    struct ust_netif *nif = im->nif;
    bool was = im->active && im->p.corrupt > 0.0;
    if (on && !was) {
        im->saved_clean = nif->clean_link;
        nif->clean_link = false;        /* corrupted frames must meet the checksums */
    } else if (!on && was) {
        nif->clean_link = im->saved_clean;
    }
}

int ust_netif_impair_set(struct ust_netif *nif, int dir, const struct ust_link_params *in)
{
    if (dir != UST_IMPAIR_RX && dir != UST_IMPAIR_TX)
        return -EINVAL;
    if (dir == UST_IMPAIR_RX && nif->kind == UST_NETIF_LOOPBACK)
        return -EOPNOTSUPP;     /* loopback input bypasses ust_netif_receive */
    struct ust_impair *im = nif->impair[dir];
    if (params_off(in)) {
        if (im) {
            set_corrupting(im, false);
            drop_held(im);
            im->active = false;
        }
        return 0;
    }
    im = impair_get(nif, dir);
    if (!im)
        return -ENOMEM;
    struct ust_link_params p = *in;
    ust_impair_clamp_params(&p);
    if (p.queue_limit == 0)
        p.queue_limit = UST_IMPAIR_DEFAULT_QUEUE_LIMIT;
    int err = resize_heap(im, p.queue_limit);
    if (err)
        return err;
    set_corrupting(im, p.corrupt > 0.0);
    im->p = p;
    im->active = true;
    arm(im);
    return 0;
}

/* ---- Public calls ------------------------------------------------------- */

int ust_netif_set_impairment(struct ust_netif *nif, int dir, const struct ust_link_params *p)
{
    if (!nif) {
        errno = EINVAL;
        return -1;
    }
    ust_rt_enter(nif->stack);
    int err = ust_netif_impair_set(nif, dir, p);
    ust_rt_exit(nif->stack);
    if (err < 0) {
        errno = -err;
        return -1;
    }
    return 0;
}

int ust_netif_impairment_stats(struct ust_netif *nif, int dir, struct ust_link_stats *out)
{
    if (!nif || !out || (dir != UST_IMPAIR_RX && dir != UST_IMPAIR_TX)) {
        errno = EINVAL;
        return -1;
    }
    ust_rt_lock(nif->stack);
    const struct ust_impair *im = nif->impair[dir];
    if (im)
        *out = im->st;
    else
        memset(out, 0, sizeof(*out));
    ust_rt_unlock(nif->stack);
    return 0;
}
