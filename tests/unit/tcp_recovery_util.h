/* Helpers for the loss recovery tests (tests/unit/test_tcp_recovery*.c): two
 * simulated hosts, A (10.0.0.1) sending to B (10.0.0.2), with a filter in
 * front of each host's simulated link that sees every frame the host sends.
 * The filter drops chosen data segments deterministically (by sequence
 * number relative to A's ISS and by which transmission of that sequence it
 * is) and records what crossed the wire: data segments and their
 * retransmissions when A sends them, B's ACKs with their SACK blocks when
 * they reach A (the simulator's frame hook).
 *
 * The filter works white-box: it replaces the ops table of the host's sim
 * netif with a copy whose transmit looks at the frame first. Include after
 * <cmocka.h>, sim_test_util.h and tcp_test_util.h. */
#ifndef UST_TESTS_TCP_RECOVERY_UTIL_H
#define UST_TESTS_TCP_RECOVERY_UTIL_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "netif/netif.h"
#include "runtime/runtime.h"

#define REC_MAX_DROPS 32
#define REC_MAX_SEGS 8192

struct rec_seg {
    uint64_t t;                 /* virtual time it was sent */
    uint32_t rel_seq, len;      /* relative to the sender's ISS + 1 */
    unsigned nth;               /* 1 = first transmission of this sequence number */
    bool dropped;
};

struct rec_ack {
    uint64_t t;                 /* virtual time it reached A */
    uint32_t rel_ack;
    unsigned nsack;
    uint32_t sack_left[4], sack_right[4];   /* relative */
};

struct rec_filter {
    struct ust_netif *nif[2];               /* A's and B's sim netifs */
    const struct ust_netif_ops *orig[2];
    struct ust_netif_ops wrap[2];
    struct ust_sim *sim;
    uint32_t iss[2];                        /* ISS of A (0) and B (1), from their SYNs */
    /* Drop A's data segment starting at rel_seq on its nth transmission
     * (delay 0), or hold it back for delay ns (then rec_release sends it). */
    struct { uint32_t rel_seq; unsigned nth; bool done; uint64_t delay; } drop[REC_MAX_DROPS];
    unsigned ndrop;
    struct { struct ust_fbuf *fb; uint64_t due; } held[REC_MAX_DROPS];
    unsigned nheld;
    /* A's data segments as sent (in order). */
    struct rec_seg seg[REC_MAX_SEGS];
    unsigned nseg;
    /* B's ACKs as sent. */
    struct rec_ack ack[REC_MAX_SEGS];
    unsigned nack;
    bool record;
};

/* One filter per process: the netif ops carry no context pointer. */
static struct rec_filter rec_F;

static inline uint32_t rec_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* How many times A has sent data starting at rel_seq before (from the log). */
static inline unsigned rec_times_sent(uint32_t rel_seq)
{
    unsigned n = 0;
    for (unsigned i = 0; i < rec_F.nseg; i++)
        if (rec_F.seg[i].rel_seq == rel_seq)
            n++;
    return n;
}

static inline void rec_parse_sack(struct rec_ack *a, const uint8_t *opt, unsigned olen,
                                  uint32_t base)
{
    unsigned i = 0;
    while (i < olen) {
        uint8_t kind = opt[i];
        if (kind == 0)
            break;
        if (kind == 1) {
            i++;
            continue;
        }
        if (i + 1 >= olen || opt[i + 1] < 2 || i + opt[i + 1] > olen)
            break;
        uint8_t len = opt[i + 1];
        if (kind == 5) {
            for (unsigned k = 0; k + 8 <= (unsigned)len - 2 && a->nsack < 4; k += 8) {
                a->sack_left[a->nsack] = rec_be32(opt + i + 2 + k) - base;
                a->sack_right[a->nsack] = rec_be32(opt + i + 2 + k + 4) - base;
                a->nsack++;
            }
        }
        i += len;
    }
}

/* true when the frame must be dropped. side 0 = A sends, 1 = B sends. */
static inline bool rec_inspect(int side, const uint8_t *f, size_t flen)
{
    if (flen < 14 + 20 || f[12] != 0x08 || f[13] != 0x00)
        return false;
    const uint8_t *ip = f + 14;
    unsigned ihl = (ip[0] & 0xfu) * 4u, tot = (unsigned)ip[2] << 8 | ip[3];
    if (ip[9] != 6 || flen < 14 + ihl + 20u)
        return false;
    const uint8_t *th = ip + ihl;
    unsigned doff = (th[12] >> 4) * 4u;
    uint8_t flags = th[13];
    uint32_t seq = rec_be32(th + 4), ackno = rec_be32(th + 8);
    uint32_t len = tot - ihl - doff;
    if (flags & 0x02) {         /* SYN */
        rec_F.iss[side] = seq;
        return false;
    }
    if (side == 0 && len > 0) {
        uint32_t rel = seq - rec_F.iss[0] - 1;
        unsigned nth = rec_times_sent(rel) + 1;
        bool drop = false;
        for (unsigned i = 0; i < rec_F.ndrop; i++)
            if (!rec_F.drop[i].done && rec_F.drop[i].rel_seq == rel && rec_F.drop[i].nth == nth) {
                rec_F.drop[i].done = true;
                drop = true;
            }
        if (rec_F.record && rec_F.nseg < REC_MAX_SEGS)
            rec_F.seg[rec_F.nseg++] = (struct rec_seg){ .t = ust_sim_now(rec_F.sim),
                                                        .rel_seq = rel, .len = len, .nth = nth,
                                                        .dropped = drop };
        return drop;
    }
    (void)ackno;
    return false;
}

/* The simulator's delivery hook: B's ACKs as they reach A (t = arrival). */
static inline void rec_hook(void *arg, const struct ust_sim_link *link, int dir, uint64_t t,
                            const uint8_t *f, size_t flen)
{
    (void)arg;
    (void)link;
    if (dir != 1 || !rec_F.record || rec_F.nack >= REC_MAX_SEGS || flen < 14 + 20 ||
        f[12] != 0x08 || f[13] != 0x00)
        return;
    const uint8_t *ip = f + 14;
    unsigned ihl = (ip[0] & 0xfu) * 4u;
    if (ip[9] != 6 || flen < 14 + ihl + 20u)
        return;
    const uint8_t *th = ip + ihl;
    unsigned doff = (th[12] >> 4) * 4u;
    if (!(th[13] & 0x10) || (th[13] & 0x02))
        return;
    struct rec_ack *a = &rec_F.ack[rec_F.nack++];
    memset(a, 0, sizeof(*a));
    a->t = t;
    a->rel_ack = rec_be32(th + 8) - rec_F.iss[0] - 1;
    rec_parse_sack(a, th + 20, doff - 20, rec_F.iss[0] + 1);
}

/* The rule that took the frame rec_inspect just dropped. */
static inline uint64_t rec_last_delay(uint32_t rel_seq, unsigned nth)
{
    for (unsigned i = 0; i < rec_F.ndrop; i++)
        if (rec_F.drop[i].rel_seq == rel_seq && rec_F.drop[i].nth == nth)
            return rec_F.drop[i].delay;
    return 0;
}

static inline int rec_transmit(struct ust_netif *nif, struct ust_fbuf *fb)
{
    int side = nif == rec_F.nif[0] ? 0 : 1;
    if (rec_inspect(side, fb->data, fb->len)) {
        const struct rec_seg *sg = &rec_F.seg[rec_F.nseg - 1];
        uint64_t delay = side == 0 ? rec_last_delay(sg->rel_seq, sg->nth) : 0;
        if (delay && rec_F.nheld < REC_MAX_DROPS) {
            rec_F.held[rec_F.nheld].fb = fb;
            rec_F.held[rec_F.nheld].due = ust_sim_now(rec_F.sim) + delay;
            rec_F.nheld++;
            return 0;           /* late: rec_release sends it */
        }
        ust_fbuf_free(nif->stack, fb);
        return 0;               /* "sent": lost on the wire */
    }
    return rec_F.orig[side]->transmit(nif, fb);
}

/* Sends the held frames that are due (call between simulator events). */
static inline void rec_release(void)
{
    unsigned k = 0;
    for (unsigned i = 0; i < rec_F.nheld; i++) {
        if (rec_F.held[i].due <= ust_sim_now(rec_F.sim)) {
            struct ust_netif *nif = rec_F.nif[0];
            ust_rt_lock(nif->stack);
            rec_F.orig[0]->transmit(nif, rec_F.held[i].fb);
            ust_rt_unlock(nif->stack);
        } else {
            rec_F.held[k++] = rec_F.held[i];
        }
    }
    rec_F.nheld = k;
}

/* Holds A's data segment at rel_seq back for delay ns on its nth
 * transmission: the network reorders it. */
static inline void rec_delay(uint32_t rel_seq, unsigned nth, uint64_t delay)
{
    assert_true(rec_F.ndrop < REC_MAX_DROPS);
    rec_F.drop[rec_F.ndrop].rel_seq = rel_seq;
    rec_F.drop[rec_F.ndrop].nth = nth;
    rec_F.drop[rec_F.ndrop].done = false;
    rec_F.drop[rec_F.ndrop].delay = delay;
    rec_F.ndrop++;
}

/* Puts the filter in front of both ends of n's link. */
static inline void rec_filter_install(struct tnet *n)
{
    memset(&rec_F, 0, sizeof(rec_F));
    rec_F.sim = n->sim;
    for (int side = 0; side < 2; side++) {
        struct ust_netif *nif = ust_sim_link_netif(n->link, side);
        rec_F.nif[side] = nif;
        rec_F.orig[side] = nif->ops;
        rec_F.wrap[side] = *nif->ops;
        rec_F.wrap[side].transmit = rec_transmit;
        nif->ops = &rec_F.wrap[side];
    }
    ust_sim_set_frame_hook(n->sim, rec_hook, NULL);
    rec_F.record = true;
}

/* Drop A's data segment at rel_seq (bytes after the SYN) on its nth
 * transmission (1 = the original). */
static inline void rec_drop(uint32_t rel_seq, unsigned nth)
{
    assert_true(rec_F.ndrop < REC_MAX_DROPS);
    rec_F.drop[rec_F.ndrop].rel_seq = rel_seq;
    rec_F.drop[rec_F.ndrop].nth = nth;
    rec_F.drop[rec_F.ndrop].done = false;
    rec_F.drop[rec_F.ndrop].delay = 0;
    rec_F.ndrop++;
}

static inline bool rec_all_drops_done(void)
{
    for (unsigned i = 0; i < rec_F.ndrop; i++)
        if (!rec_F.drop[i].done)
            return false;
    return true;
}

/* Data segments A sent again (nth > 1). */
static inline unsigned rec_retransmissions(void)
{
    unsigned n = 0;
    for (unsigned i = 0; i < rec_F.nseg; i++)
        if (rec_F.seg[i].nth > 1)
            n++;
    return n;
}

/* Index of the first transmission number nth of rel_seq in the log, or -1. */
static inline int rec_find(uint32_t rel_seq, unsigned nth)
{
    for (unsigned i = 0; i < rec_F.nseg; i++)
        if (rec_F.seg[i].rel_seq == rel_seq && rec_F.seg[i].nth == nth)
            return (int)i;
    return -1;
}

#endif
