/* CUBIC congestion control (RFC 9438), the default as in Linux: after a
 * loss the window follows W_cubic(t) = C (t - K)^3 + W_max, concave up to
 * the window where the loss happened and convex beyond it, never slower
 * than the Reno-friendly estimate W_est. Windows in segments, time in
 * seconds (double precision; no libm: the cube root is Newton's). */
#include "stack/stack_impl.h"
#include "tcp/tcp.h"

#define CUBIC_C 0.4             /* RFC 9438 4.1 */
#define CUBIC_BETA 0.7          /* RFC 9438 4.6 */
#define CUBIC_ALPHA (3.0 * (1.0 - CUBIC_BETA) / (1.0 + CUBIC_BETA))

static double cube_root(double x)
{
    if (x <= 0.0)
        return 0.0;
    double r = x > 1.0 ? x / 3.0 : 1.0;
    for (int i = 0; i < 60; i++) {
        double next = r - (r * r * r - x) / (3.0 * r * r);
        if (next == r)
            break;
        r = next;
    }
    return r;
}

static double segs(const struct ust_tcb *tcb, uint32_t bytes)
{
    return (double)bytes / (double)tcb->mss;
}

static void cubic_init(struct ust_tcb *tcb)
{
    ust_tcp_cc_newreno.init(tcb);       /* IW10, ssthresh infinite */
    tcb->cubic.w_max = 0.0;
    tcb->cubic.w_last_max = 0.0;
    tcb->cubic.epoch_start = 0;
}

/* RFC 9438 4.2-4.5, once per ACK of new data in congestion avoidance. */
static void cubic_cong_avoid(struct ust_tcb *tcb, uint32_t acked)
{
    if (tcb->cwnd < tcb->ssthresh) {
        ust_tcp_cc_newreno.cong_avoid(tcb, acked);  /* slow start */
        return;
    }
    struct ust_tcp_cubic *c = &tcb->cubic;
    uint64_t now = tcb->sk.stack->now;
    double cwnd = segs(tcb, tcb->cwnd);
    if (c->epoch_start == 0) {
        c->epoch_start = now ? now : 1;
        if (c->w_max < cwnd) {          /* no loss yet, or grew past it */
            c->k = 0.0;
            c->w_max = cwnd;
        } else {
            c->k = cube_root((c->w_max - cwnd) / CUBIC_C);
        }
        c->w_est = cwnd;
    }
    double rtt = tcb->srtt_us ? (double)tcb->srtt_us / 1e6 : 0.1;
    double t = (double)(now - c->epoch_start) / 1e9 + rtt;
    double d = t - c->k;
    double target = CUBIC_C * d * d * d + c->w_max;
    /* Reno-friendly region (4.3): W_est grows by alpha per window. */
    c->w_est += CUBIC_ALPHA * segs(tcb, acked) / cwnd;
    if (target < c->w_est)
        target = c->w_est;
    if (target > 1.5 * cwnd)
        target = 1.5 * cwnd;            /* 4.4: at most 50% per RTT */
    if (target > cwnd) {
        /* (target - cwnd) / cwnd segments per acknowledged segment. */
        double inc = (target - cwnd) / cwnd * segs(tcb, acked) * tcb->mss;
        c->bytes_frac += inc;
        if (c->bytes_frac >= 1.0) {
            uint32_t add = (uint32_t)c->bytes_frac;
            tcb->cwnd += add;
            c->bytes_frac -= add;
        }
    }
}

/* RFC 9438 4.6-4.7: multiplicative decrease by beta, fast convergence. */
static uint32_t cubic_ssthresh(struct ust_tcb *tcb)
{
    struct ust_tcp_cubic *c = &tcb->cubic;
    double cwnd = segs(tcb, tcb->cwnd);
    if (cwnd < c->w_last_max)
        c->w_max = cwnd * (1.0 + CUBIC_BETA) / 2.0;
    else
        c->w_max = cwnd;
    c->w_last_max = cwnd;
    c->epoch_start = 0;
    uint32_t th = (uint32_t)((double)tcb->cwnd * CUBIC_BETA);
    return th > 2u * tcb->mss ? th : 2u * tcb->mss;
}

const struct ust_tcp_cc_ops ust_tcp_cc_cubic = {
    .name = "cubic",
    .init = cubic_init,
    .cong_avoid = cubic_cong_avoid,
    .ssthresh = cubic_ssthresh,
};

const struct ust_tcp_cc_ops *ust_tcp_cc_find(const char *name)
{
    static const struct ust_tcp_cc_ops *const all[] = { &ust_tcp_cc_cubic, &ust_tcp_cc_newreno };
    for (unsigned i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        const char *a = all[i]->name, *b = name;
        while (*a && *a == *b) {
            a++;
            b++;
        }
        if (*a == 0 && *b == 0)
            return all[i];
    }
    return NULL;
}
