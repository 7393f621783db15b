/* The TCP sender's loss recovery, on the simulator with losses chosen by
 * sequence number (tcp_recovery_util.h drops A's data segments by their
 * offset and by which transmission it is), virtual time, one fixed seed:
 *
 *  - one loss: fast retransmit when the third duplicate ACK arrives (RFC
 *    5681 3.2, RFC 6675 5), no timeout, cwnd = ssthresh after the recovery;
 *  - four losses in one window with SACK: all repaired in one recovery
 *    episode, each hole sent once, no timeout (RFC 6675 NextSeg, pipe);
 *  - a retransmission lost too: sent a third time once later data is
 *    SACKed, without waiting for the timer (Linux's lost retransmission);
 *  - SACK off: NewReno (RFC 6582) retransmits the next hole on the partial
 *    ACK itself, one recovery, no timeout;
 *  - limited transmit (RFC 3042): the first two duplicate ACKs each send one
 *    new segment;
 *  - a lost tail: RFC 6675's rescue retransmission repairs it without the
 *    timer; after a timeout the segments the peer SACKed are not sent again
 *    (RFC 6675 5.1); the last two segments lost: the tail loss probe (RFC
 *    8985 7) at about 2 SRTT, then SACK recovery, no timeout;
 *  - a segment only late (reordered): the needless recovery is undone by
 *    the timestamp it echoes (RFC 3522 Eifel) and DupThresh grows;
 *  - D-SACK blocks (RFC 2883, RFC 3708), below SND.UNA or inside a SACKed
 *    range, are counted and change nothing;
 *  - IsLost and SetPipe of RFC 6675 on a hand-made scoreboard. */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "unit/sim_test_util.h"
#include "unit/tcp_test_util.h"
#include "unit/tcp_recovery_util.h"

#define SEED 0x6675u
#define DELAY (10 * TMS)        /* one way: RTT 20 ms */
#define TUS 1000ull
#define RATE 20000000ull        /* 20 Mbit/s: a full frame takes 0.6 ms */
#define PORT 7000

struct rt {
    struct tnet n;
    int afd, bfd;
    struct ust_tcb *ta, *tb;
    uint32_t mss;
    uint8_t *data;
    uint32_t total, sent, rcvd;
};

static uint8_t pat(uint32_t off)
{
    return (uint8_t)((off * 2654435761u) >> 11);
}

/* A and B on a perfect 10 ms, 20 Mbit/s wire with the drop filter, connected; A's
 * send buffer holds the whole transfer (so every segment is full-sized),
 * B's receive buffer too (so B's window does not move while it holds
 * out-of-order data: duplicate ACKs stay duplicates). sack: both ends
 * negotiated SACK, else it is switched off on both after the handshake. */
static void rt_setup(struct rt *r, uint32_t total, bool sack, const char *cc)
{
    memset(r, 0, sizeof(*r));
    struct ust_link_params p = { .delay_ns = DELAY, .rate_bps = RATE };
    tnet_setup(&r->n, SEED, &p);
    rec_filter_install(&r->n);
    int big = 4 << 20;
    int lfd = tlisten(&r->n, PORT, 4);
    assert_int_equal(ust_setsockopt(r->n.b, lfd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big)), 0);
    r->bfd = tconnect_pair(&r->n, lfd, PORT, &r->afd);
    assert_int_equal(ust_setsockopt(r->n.a, r->afd, SOL_SOCKET, SO_SNDBUF, &big, sizeof(big)), 0);
    if (cc)
        assert_int_equal(ust_setsockopt(r->n.a, r->afd, IPPROTO_TCP, TCP_CONGESTION, cc,
                                        (socklen_t)strlen(cc)), 0);
    r->ta = ttcb(r->n.a, r->afd);
    r->tb = ttcb(r->n.b, r->bfd);
    assert_non_null(r->ta);
    assert_non_null(r->tb);
    assert_true(r->ta->sack_ok && r->tb->sack_ok);
    if (!sack)
        r->ta->sack_ok = r->tb->sack_ok = false;
    r->mss = r->ta->mss;
    r->total = total;
    r->data = malloc(total);
    assert_non_null(r->data);
    for (uint32_t i = 0; i < total; i++)
        r->data[i] = pat(i);
}

static void rt_free(struct rt *r)
{
    free(r->data);
    ust_sim_free(r->n.sim);
}

/* A writes what its buffer takes. */
static void rt_send(struct rt *r)
{
    while (r->sent < r->total) {
        ssize_t k = ust_send(r->n.a, r->afd, r->data + r->sent, r->total - r->sent, 0);
        if (k < 0) {
            assert_int_equal(errno, EAGAIN);
            return;
        }
        r->sent += (uint32_t)k;
    }
}

/* B reads everything that arrived, checking it. */
static void rt_recv(struct rt *r)
{
    uint8_t buf[16384];
    for (;;) {
        ssize_t k = ust_recv(r->n.b, r->bfd, buf, sizeof(buf), 0);
        if (k < 0) {
            assert_int_equal(errno, EAGAIN);
            return;
        }
        for (ssize_t i = 0; i < k; i++)
            if (buf[i] != pat(r->rcvd + (uint32_t)i))
                fail_msg("byte %u differs", r->rcvd + (uint32_t)i);
        r->rcvd += (uint32_t)k;
    }
}

/* Writes the whole transfer, then runs event by event (B reading only at
 * the end: its window must not move) until B has everything or limit of
 * virtual time passed. step, if not NULL, is called after every event. */
static void rt_transfer(struct rt *r, uint64_t limit, void (*step)(struct rt *))
{
    rt_send(r);
    assert_int_equal(r->sent, r->total);
    uint64_t until = ust_sim_now(r->n.sim) + limit;
    while (ust_sim_now(r->n.sim) < until) {
        if (r->ta->snd_una == r->ta->snd_max && r->ta->snd_una - r->ta->iss - 1 == r->total)
            break;
        uint64_t next = ust_sim_now(r->n.sim) + 100 * TUS;
        if (rec_F.nheld > 0)
            ust_sim_run_until(r->n.sim, next);      /* fine steps while a frame is held */
        else if (!ust_sim_step(r->n.sim))
            ust_sim_run_until(r->n.sim, ust_sim_now(r->n.sim) + 1 * TMS);
        rec_release();
        if (step)
            step(r);
    }
    ust_sim_run_until(r->n.sim, ust_sim_now(r->n.sim) + 100 * TMS);
    rt_recv(r);
    assert_int_equal(r->rcvd, r->total);
}

static uint64_t stat_a(struct rt *r, enum ust_stat s)
{
    return ust_stat_get(r->n.a, s);
}

/* ACKs from B with this cumulative ACK that reached A by time t. */
static unsigned acks_arrived(uint32_t rel_ack, uint64_t t)
{
    unsigned n = 0;
    for (unsigned i = 0; i < rec_F.nack; i++)
        if (rec_F.ack[i].rel_ack == rel_ack && rec_F.ack[i].t <= t)
            n++;
    return n;
}

/* Arrival time at A of the first ACK from B carrying this ACK number. */
static uint64_t first_ack_arrival(uint32_t rel_ack)
{
    for (unsigned i = 0; i < rec_F.nack; i++)
        if (rec_F.ack[i].rel_ack == rel_ack)
            return rec_F.ack[i].t;
    fail_msg("no ACK %u", rel_ack);
    return 0;
}

/* ---- One loss ------------------------------------------------------------- */

struct watch {
    bool seen_recovery, checked;
    uint32_t cwnd_at_exit, ssthresh_at_exit, cwnd_before;
};
static struct watch W;

static void watch_exit(struct rt *r)
{
    if (!r->ta->in_recovery && !W.seen_recovery)
        W.cwnd_before = r->ta->cwnd;
    if (r->ta->in_recovery)
        W.seen_recovery = true;
    else if (W.seen_recovery && !W.checked) {
        W.checked = true;
        W.cwnd_at_exit = r->ta->cwnd;
        W.ssthresh_at_exit = r->ta->ssthresh;
    }
}

static void single_loss_fast_retransmit_after_three_dupacks_no_rto(void **state)
{
    (void)state;
    struct rt r;
    rt_setup(&r, 200 * 1024, true, "reno");
    uint32_t lost = 20 * r.mss;
    rec_drop(lost, 1);
    memset(&W, 0, sizeof(W));
    rt_transfer(&r, 30 * TSEC, watch_exit);
    assert_true(rec_all_drops_done());
    /* Sent twice, the second time exactly when the third duplicate ACK
     * (ACK = the lost segment, SACKing what follows) arrived. */
    int rtx = rec_find(lost, 2);
    assert_true(rtx >= 0);
    assert_int_equal(rec_find(lost, 3), -1);
    uint64_t t = rec_F.seg[rtx].t;
    assert_int_equal(acks_arrived(lost, t), 4);     /* the first ACK + three duplicates */
    assert_int_equal(acks_arrived(lost, t - 1), 3);
    assert_int_equal(rec_retransmissions(), 1);
    assert_int_equal(stat_a(&r, UST_STAT_TCP_TCPTimeouts), 0);
    assert_int_equal(stat_a(&r, UST_STAT_TCP_TCPFastRetrans), 1);
    assert_int_equal(stat_a(&r, UST_STAT_TCP_TCPSackRecovery), 1);
    assert_int_equal(stat_a(&r, UST_STAT_TCP_RetransSegs), 1);
    /* After the recovery: cwnd = ssthresh, half the window of the loss. */
    assert_true(W.checked);
    assert_int_equal(W.cwnd_at_exit, W.ssthresh_at_exit);
    assert_true(W.ssthresh_at_exit < W.cwnd_before);
    assert_true(W.ssthresh_at_exit >= W.cwnd_before / 2 - r.mss);
    struct tcp_info ti;
    socklen_t len = sizeof(ti);
    assert_int_equal(ust_getsockopt(r.n.a, r.afd, IPPROTO_TCP, TCP_INFO, &ti, &len), 0);
    assert_int_equal(ti.tcpi_total_retrans, 1);
    rt_free(&r);
}

/* ---- Several losses, one window ------------------------------------------------ */

static unsigned episodes;
static bool was_in_recovery;
static void count_episodes(struct rt *r)
{
    if (r->ta->in_recovery && !was_in_recovery)
        episodes++;
    was_in_recovery = r->ta->in_recovery;
}

static void four_losses_one_window_repaired_in_one_sack_recovery(void **state)
{
    (void)state;
    struct rt r;
    rt_setup(&r, 300 * 1024, true, NULL);
    const unsigned lost[] = { 20, 23, 26, 29 };
    for (unsigned i = 0; i < 4; i++)
        rec_drop(lost[i] * r.mss, 1);
    episodes = 0;
    was_in_recovery = false;
    rt_transfer(&r, 30 * TSEC, count_episodes);
    assert_true(rec_all_drops_done());
    assert_int_equal(episodes, 1);
    uint64_t last_rtx = 0;
    for (unsigned i = 0; i < 4; i++) {
        int k = rec_find(lost[i] * r.mss, 2);
        assert_true(k >= 0);
        assert_int_equal(rec_find(lost[i] * r.mss, 3), -1);
        /* In order, within about one round trip of the first. */
        assert_true(rec_F.seg[k].t >= last_rtx);
        last_rtx = rec_F.seg[k].t;
    }
    assert_true(last_rtx - rec_F.seg[rec_find(lost[0] * r.mss, 2)].t < 3 * DELAY);
    assert_int_equal(rec_retransmissions(), 4);
    assert_int_equal(stat_a(&r, UST_STAT_TCP_TCPTimeouts), 0);
    assert_int_equal(stat_a(&r, UST_STAT_TCP_TCPSackRecovery), 1);
    assert_int_equal(stat_a(&r, UST_STAT_TCP_RetransSegs), 4);
    rt_free(&r);
}

/* ---- A lost retransmission ------------------------------------------------------ */

static void lost_retransmission_resent_without_rto(void **state)
{
    (void)state;
    struct rt r;
    rt_setup(&r, 300 * 1024, true, NULL);
    uint32_t lost = 20 * r.mss;
    rec_drop(lost, 1);
    rec_drop(lost, 2);          /* the fast retransmission is lost too */
    rt_transfer(&r, 30 * TSEC, NULL);
    assert_true(rec_all_drops_done());
    int k2 = rec_find(lost, 2), k3 = rec_find(lost, 3);
    assert_true(k2 >= 0 && k3 >= 0);
    assert_int_equal(rec_find(lost, 4), -1);
    /* Long before a timeout (200 ms at least): about one round trip. */
    assert_true(rec_F.seg[k3].t - rec_F.seg[k2].t < 4 * DELAY);
    /* Something sent after the second transmission was SACKed first. */
    bool sacked_after = false;
    for (unsigned i = 0; i < rec_F.nack; i++) {
        const struct rec_ack *a = &rec_F.ack[i];
        if (a->t > rec_F.seg[k3].t || a->rel_ack != lost)
            continue;
        for (unsigned b = 0; b < a->nsack; b++)
            for (unsigned j = (unsigned)k2 + 1; j < rec_F.nseg; j++)
                if (rec_F.seg[j].rel_seq >= a->sack_left[b] &&
                    rec_F.seg[j].rel_seq < a->sack_right[b])
                    sacked_after = true;
    }
    assert_true(sacked_after);
    assert_int_equal(stat_a(&r, UST_STAT_TCP_TCPTimeouts), 0);
    assert_int_equal(stat_a(&r, UST_STAT_TCP_TCPLostRetransmit), 1);
    assert_int_equal(stat_a(&r, UST_STAT_TCP_TCPSackRecovery), 1);
    assert_int_equal(rec_retransmissions(), 2);
    rt_free(&r);
}

/* ---- NewReno without SACK ---------------------------------------------------------- */

static void newreno_partial_ack_retransmits_next_hole(void **state)
{
    (void)state;
    struct rt r;
    rt_setup(&r, 200 * 1024, false, "reno");
    uint32_t l1 = 20 * r.mss, l2 = 24 * r.mss;
    rec_drop(l1, 1);
    rec_drop(l2, 1);
    episodes = 0;
    was_in_recovery = false;
    rt_transfer(&r, 30 * TSEC, count_episodes);
    assert_true(rec_all_drops_done());
    /* No SACK block ever. */
    for (unsigned i = 0; i < rec_F.nack; i++)
        assert_int_equal(rec_F.ack[i].nsack, 0);
    int k1 = rec_find(l1, 2), k2 = rec_find(l2, 2);
    assert_true(k1 >= 0 && k2 >= 0);
    /* The first at the third duplicate ACK; the second exactly when the
     * partial ACK (the first hole filled, ACK = the second hole) arrived. */
    assert_int_equal(acks_arrived(l1, rec_F.seg[k1].t), 4);
    assert_int_equal(acks_arrived(l1, rec_F.seg[k1].t - 1), 3);
    assert_int_equal(rec_F.seg[k2].t, first_ack_arrival(l2));
    assert_int_equal(rec_retransmissions(), 2);
    assert_int_equal(episodes, 1);
    assert_int_equal(stat_a(&r, UST_STAT_TCP_TCPTimeouts), 0);
    assert_int_equal(stat_a(&r, UST_STAT_TCP_TCPRenoRecovery), 1);
    assert_int_equal(stat_a(&r, UST_STAT_TCP_TCPSackRecovery), 0);
    assert_int_equal(stat_a(&r, UST_STAT_TCP_TCPFastRetrans), 1);
    rt_free(&r);
}

/* ---- Limited transmit ------------------------------------------------------------- */

/* RFC 3042 with a small window: the initial window (10 segments), the third
 * segment lost. The ACKs of the first two open cwnd by slow start; then the
 * first and the second duplicate ACK each send one new segment, the third
 * starts the recovery. */
static void limited_transmit_on_first_two_dupacks(bool sack)
{
    struct rt r;
    rt_setup(&r, 40 * 1024, sack, "reno");
    uint32_t lost = 2 * r.mss;
    rec_drop(lost, 1);
    rt_transfer(&r, 30 * TSEC, NULL);
    int k = rec_find(lost, 2);
    assert_true(k >= 0);
    uint64_t t_rtx = rec_F.seg[k].t;
    /* Arrival times of the duplicates (ACK = the lost segment, not the first). */
    uint64_t dup[3];
    unsigned nd = 0, seen = 0;
    for (unsigned i = 0; i < rec_F.nack && nd < 3; i++)
        if (rec_F.ack[i].rel_ack == lost && seen++ > 0)
            dup[nd++] = rec_F.ack[i].t;
    assert_int_equal(nd, 3);
    assert_int_equal(t_rtx, dup[2]);
    /* Exactly one new segment at each of the first two duplicate ACKs. */
    for (unsigned d = 0; d < 2; d++) {
        unsigned n = 0;
        for (unsigned i = 0; i < rec_F.nseg; i++)
            if (rec_F.seg[i].t == dup[d] && rec_F.seg[i].nth == 1)
                n++;
        assert_int_equal(n, 1);
    }
    /* Before the duplicates, cwnd was used up: nothing new went since the
     * last ACK that moved SND.UNA. */
    uint64_t t_ack_last = first_ack_arrival(lost);
    for (unsigned i = 0; i < rec_F.nseg; i++)
        if (rec_F.seg[i].t > t_ack_last && rec_F.seg[i].t < dup[0])
            fail_msg("segment %u sent between the ACK and the first duplicate", rec_F.seg[i].rel_seq);
    assert_int_equal(stat_a(&r, UST_STAT_TCP_TCPTimeouts), 0);
    rt_free(&r);
}

static void limited_transmit_sends_new_data_on_two_dupacks_sack(void **state)
{
    (void)state;
    limited_transmit_on_first_two_dupacks(true);
}

static void limited_transmit_sends_new_data_on_two_dupacks_nosack(void **state)
{
    (void)state;
    limited_transmit_on_first_two_dupacks(false);
}

/* ---- The tail, and after a timeout ------------------------------------------------ */

/* 10 segments (the initial window), the 6th and the last lost: three SACKed
 * segments make the 6th lost; nothing follows the last, so only the rescue
 * retransmission (RFC 6675 4, NextSeg rule 4) repairs it before a timeout. */
static void rescue_retransmission_repairs_lost_tail(void **state)
{
    (void)state;
    struct rt r;
    rt_setup(&r, 0, true, NULL);
    free(r.data);
    r.total = 10 * r.mss;
    r.data = malloc(r.total);
    for (uint32_t i = 0; i < r.total; i++)
        r.data[i] = pat(i);
    rec_drop(5 * r.mss, 1);
    rec_drop(9 * r.mss, 1);
    rt_transfer(&r, 30 * TSEC, NULL);
    assert_true(rec_find(5 * r.mss, 2) >= 0);
    assert_true(rec_find(9 * r.mss, 2) >= 0);
    assert_int_equal(rec_retransmissions(), 2);
    assert_int_equal(stat_a(&r, UST_STAT_TCP_TCPTimeouts), 0);
    assert_int_equal(stat_a(&r, UST_STAT_TCP_TCPSACKRescue), 1);
    rt_free(&r);
}

/* Same, but the fast retransmission and the rescue are lost too: the timer
 * fires; what follows resends the holes only, never the segments the peer
 * SACKed (RFC 6675 5.1). */
static void after_rto_sacked_segments_not_resent(void **state)
{
    (void)state;
    struct rt r;
    rt_setup(&r, 0, true, NULL);
    free(r.data);
    r.total = 10 * r.mss;
    r.data = malloc(r.total);
    for (uint32_t i = 0; i < r.total; i++)
        r.data[i] = pat(i);
    rec_drop(5 * r.mss, 1);
    rec_drop(5 * r.mss, 2);
    rec_drop(9 * r.mss, 1);
    rec_drop(9 * r.mss, 2);
    rt_transfer(&r, 30 * TSEC, NULL);
    assert_true(rec_all_drops_done());
    assert_int_equal(stat_a(&r, UST_STAT_TCP_TCPTimeouts), 1);
    for (uint32_t s = 6; s <= 8; s++)
        assert_int_equal(rec_times_sent(s * r.mss), 1);
    assert_int_equal(rec_times_sent(5 * r.mss), 3);
    assert_int_equal(rec_times_sent(9 * r.mss), 3);
    rt_free(&r);
}

/* The last two segments of the initial window lost: no duplicate ACK comes
 * back. The tail loss probe (RFC 8985 7), 2 SRTT after the last ACK and
 * long before the RTO, sends the last segment again; its SACK shows the
 * one before it lost: recovery, no timeout. */
static void tail_loss_probe_instead_of_rto(void **state)
{
    (void)state;
    struct rt r;
    rt_setup(&r, 0, true, NULL);
    free(r.data);
    r.total = 10 * r.mss;
    r.data = malloc(r.total);
    for (uint32_t i = 0; i < r.total; i++)
        r.data[i] = pat(i);
    rec_drop(8 * r.mss, 1);
    rec_drop(9 * r.mss, 1);
    rt_transfer(&r, 30 * TSEC, NULL);
    assert_true(rec_all_drops_done());
    int probe = rec_find(9 * r.mss, 2), rtx = rec_find(8 * r.mss, 2);
    assert_true(probe >= 0 && rtx >= 0);
    assert_true(probe < rtx);                   /* the probe first, then the repair */
    uint64_t last_ack = first_ack_arrival(8 * r.mss);
    uint64_t pto = rec_F.seg[probe].t - last_ack;
    assert_true(pto >= 2 * DELAY && pto < 100 * TMS);   /* about 2 SRTT, well below 200 ms */
    assert_int_equal(rec_retransmissions(), 2);
    assert_int_equal(stat_a(&r, UST_STAT_TCP_TCPLossProbes), 1);
    assert_int_equal(stat_a(&r, UST_STAT_TCP_TCPTimeouts), 0);
    assert_int_equal(stat_a(&r, UST_STAT_TCP_TCPSackRecovery), 1);
    rt_free(&r);
}

/* Reordering, not loss: segment 20 arrives 4 ms late, after enough later
 * segments to look lost. The fast retransmission goes, but the ACK that
 * ends the recovery echoes a timestamp older than that retransmission: the
 * original arrived (RFC 3522 Eifel detection), and cwnd and ssthresh come
 * back to what they were. DupThresh grows for that reordering. */
static uint32_t cwnd_before_rec, ssthresh_before_rec;
static bool in_rec_seen;
static void watch_undo(struct rt *r)
{
    if (!r->ta->in_recovery && !in_rec_seen) {
        cwnd_before_rec = r->ta->cwnd;
        ssthresh_before_rec = r->ta->ssthresh;
    }
    if (r->ta->in_recovery)
        in_rec_seen = true;
}

static void spurious_recovery_undone_by_timestamps(void **state)
{
    (void)state;
    struct rt r;
    rt_setup(&r, 100 * 1024, true, "reno");
    uint32_t late = 20 * r.mss;
    rec_delay(late, 1, 4 * TMS);
    in_rec_seen = false;
    rt_transfer(&r, 30 * TSEC, watch_undo);
    assert_true(in_rec_seen);
    assert_true(rec_find(late, 2) >= 0);        /* the needless retransmission */
    assert_int_equal(stat_a(&r, UST_STAT_TCP_TCPFullUndo), 1);
    assert_int_equal(stat_a(&r, UST_STAT_TCP_TCPTimeouts), 0);
    assert_true(r.ta->cwnd >= cwnd_before_rec);
    assert_true(r.ta->ssthresh >= ssthresh_before_rec);
    assert_true(ust_tcp_dupthresh(r.ta) > 3);
    rt_free(&r);
}

/* ---- D-SACK --------------------------------------------------------------------- */

static struct ust_tcp_opts sack_opts(unsigned n, const uint32_t *l, const uint32_t *rr)
{
    struct ust_tcp_opts o;
    memset(&o, 0, sizeof(o));
    o.present = UST_TCPO_SACK;
    o.nsack = (uint8_t)n;
    for (unsigned i = 0; i < n; i++) {
        o.sack[i].left = l[i];
        o.sack[i].right = rr[i];
    }
    return o;
}

/* Mid-transfer, in the middle of a recovery, D-SACK blocks arrive: one
 * below SND.UNA, one inside a SACKed range. Counted; the scoreboard is
 * unchanged; the transfer completes with no extra retransmission. */
static bool dsack_done;
static uint64_t dsack_before;
static void inject_dsack(struct rt *r)
{
    struct ust_tcb *t = r->ta;
    if (dsack_done || !t->in_recovery || t->nsb == 0)
        return;
    dsack_done = true;
    struct ust_tcp_sackblk sb[UST_TCP_SCOREBOARD];
    unsigned nsb = t->nsb;
    memcpy(sb, t->sb, sizeof(sb));
    uint32_t sacked = t->sacked_bytes;
    dsack_before = ust_stat_get(r->n.a, UST_STAT_TCP_TCPDSACKRecv);
    ust_rt_lock(r->n.a);
    uint32_t l1[2] = { t->snd_una - 2 * r->mss, t->sb[0].start };
    uint32_t r1[2] = { t->snd_una - r->mss, t->sb[0].end };
    struct ust_tcp_opts o = sack_opts(2, l1, r1);
    ust_tcp_sack_update(t, &o);
    uint32_t l2[2] = { t->sb[0].start, t->sb[0].start };
    uint32_t r2[2] = { t->sb[0].start + r->mss < t->sb[0].end ? t->sb[0].start + r->mss
                                                              : t->sb[0].end, t->sb[0].end };
    o = sack_opts(2, l2, r2);
    ust_tcp_sack_update(t, &o);
    ust_rt_unlock(r->n.a);
    assert_int_equal(t->nsb, nsb);
    assert_memory_equal(t->sb, sb, nsb * sizeof(sb[0]));
    assert_int_equal(t->sacked_bytes, sacked);
    assert_int_equal(ust_stat_get(r->n.a, UST_STAT_TCP_TCPDSACKRecv), dsack_before + 2);
}

static void dsack_blocks_tolerated(void **state)
{
    (void)state;
    struct rt r;
    rt_setup(&r, 200 * 1024, true, NULL);
    rec_drop(20 * r.mss, 1);
    dsack_done = false;
    rt_transfer(&r, 30 * TSEC, inject_dsack);
    assert_true(dsack_done);
    assert_int_equal(rec_retransmissions(), 1);
    assert_int_equal(stat_a(&r, UST_STAT_TCP_TCPTimeouts), 0);
    /* A D-SACK alone (every block below SND.UNA) is no SACK information. */
    struct ust_tcb *t = r.ta;
    uint32_t l[1] = { t->snd_una - 3 * r.mss }, rr[1] = { t->snd_una - r.mss };
    struct ust_tcp_opts o = sack_opts(1, l, rr);
    ust_rt_lock(r.n.a);
    ust_tcp_sack_update(t, &o);
    ust_rt_unlock(r.n.a);
    assert_int_equal(t->nsb, 0);
    assert_int_equal(t->sacked_bytes, 0);
    rt_free(&r);
}

/* ---- IsLost and SetPipe on a hand-made scoreboard --------------------------------- */

static void islost_and_pipe_follow_rfc6675(void **state)
{
    (void)state;
    struct ust_stack *s = ust_stack_new(NULL);
    assert_non_null(s);
    struct ust_tcb *t = ust_tcb_new(s, NULL);
    assert_non_null(t);
    const uint32_t M = 1000, U = 5000;
    t->mss = M;
    t->sack_ok = true;
    t->snd_una = t->high_rxt = U;
    t->snd_max = U + 10 * M;
    /* Segments 0..9: 1 and 3 SACKed (two blocks, 2000 bytes). */
    uint32_t l[2] = { U + 1 * M, U + 3 * M }, r[2] = { U + 2 * M, U + 4 * M };
    struct ust_tcp_opts o = sack_opts(2, l, r);
    ust_tcp_sack_update(t, &o);
    assert_int_equal(t->sacked_bytes, 2 * M);
    /* Not lost: two blocks and 2 * SMSS above (DupThresh = 3). */
    assert_false(ust_tcp_sack_is_lost(t, U));
    assert_int_equal(ust_tcp_sack_pipe(t), 8 * M);
    /* A third block above: segment 0 lost (three discontiguous SACKs);
     * segment 2 still not (two blocks above). */
    uint32_t l3[1] = { U + 5 * M }, r3[1] = { U + 6 * M };
    o = sack_opts(1, l3, r3);
    ust_tcp_sack_update(t, &o);
    assert_true(ust_tcp_sack_is_lost(t, U));
    assert_false(ust_tcp_sack_is_lost(t, U + 2 * M));
    assert_false(ust_tcp_sack_is_lost(t, U + 1 * M));      /* SACKed */
    /* pipe: 10 - 3 SACKed - 1 lost = 6 segments. */
    assert_int_equal(ust_tcp_sack_pipe(t), 6 * M);
    /* Retransmitting segment 0 puts it back in the pipe (HighRxt). */
    t->high_rxt = U + M;
    assert_int_equal(ust_tcp_sack_pipe(t), 7 * M);
    /* Bytes: a block of 3 segments above segment 4 makes it lost. */
    uint32_t l4[1] = { U + 7 * M }, r4[1] = { U + 10 * M };
    o = sack_opts(1, l4, r4);
    ust_tcp_sack_update(t, &o);
    assert_true(ust_tcp_sack_is_lost(t, U + 6 * M));
    assert_true(ust_tcp_sack_is_lost(t, U + 4 * M));
    /* The highest SACKed octet and the holes below it. */
    assert_int_equal(ust_tcp_sack_high(t), U + 10 * M);
    uint32_t hs, he;
    assert_true(ust_tcp_sack_next_hole(t, U + M, &hs, &he));
    assert_int_equal(hs, U + 2 * M);
    assert_int_equal(he, U + 3 * M);
    ust_tcb_free(t);
    ust_stack_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(islost_and_pipe_follow_rfc6675),
        cmocka_unit_test(single_loss_fast_retransmit_after_three_dupacks_no_rto),
        cmocka_unit_test(four_losses_one_window_repaired_in_one_sack_recovery),
        cmocka_unit_test(lost_retransmission_resent_without_rto),
        cmocka_unit_test(newreno_partial_ack_retransmits_next_hole),
        cmocka_unit_test(limited_transmit_sends_new_data_on_two_dupacks_sack),
        cmocka_unit_test(limited_transmit_sends_new_data_on_two_dupacks_nosack),
        cmocka_unit_test(rescue_retransmission_repairs_lost_tail),
        cmocka_unit_test(after_rto_sacked_segments_not_resent),
        cmocka_unit_test(tail_loss_probe_instead_of_rto),
        cmocka_unit_test(spurious_recovery_undone_by_timestamps),
        cmocka_unit_test(dsack_blocks_tolerated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
