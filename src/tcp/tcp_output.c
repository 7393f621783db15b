/* Sending: which bytes may go (RFC 9293 3.8.6 windows, RFC 5681 cwnd, Nagle
 * RFC 896, sender SWS avoidance), cutting segments out of the send ring
 * (the data stays there until acknowledged), the options of each segment
 * (RFC 7323 timestamps on every segment once negotiated; MSS, timestamps
 * and window scale on SYNs in Linux's order) and RSTs. */
#include <errno.h>

#include "core/stats.h"
#include "core/util.h"
#include "net/net.h"
#include "stack/stack_impl.h"
#include "tcp/tcp.h"
#include "tcp/tcp_trace.h"

uint32_t ust_tcp_ts_now(const struct ust_tcb *tcb)
{
    return (uint32_t)(tcb->sk.stack->now / UST_NSEC_PER_MSEC) + tcb->ts_offset;
}

/* ---- The receive window we advertise ------------------------------------ */

/* RFC 9293 3.8.6.2.2 (receiver SWS avoidance): the right edge moves only by
 * at least min(buffer/2, MSS); RFC 7323 2.4 / RFC 9293 3.8.6: it never moves
 * left. With window scaling the field counts units of 2^wscale: a new edge
 * is rounded down, the kept one up (Linux tcp_select_window: ALIGN), since
 * rounding it down would move it left. Data after shutdown(SHUT_RD) is
 * still queued for reading (Linux), so it closes the window like any. */
uint32_t ust_tcp_rcv_window(struct ust_tcb *tcb)
{
    uint32_t cur = ust_seq_gt(tcb->rcv_adv, tcb->rcv_nxt) ? tcb->rcv_adv - tcb->rcv_nxt : 0;
    size_t cap = tcb->rcv.cap;
    uint32_t max = (uint32_t)0xffff << tcb->rcv_wscale;
    uint32_t unit = (uint32_t)1 << tcb->rcv_wscale;
    /* Keeping the edge from moving left rounds the scaled window up (below),
     * which can promise up to unit - 1 bytes more than is free, and again
     * after each segment taken: a sixteenth of the buffer is kept back to
     * hold that, so what was offered still fits (as Linux advertises only
     * part of its buffer, tcp_adv_win_scale). */
    size_t slack = cap / 16 > 2 * (size_t)unit ? cap / 16 : 2 * (size_t)unit;
    if (slack > cap / 2)
        slack = cap / 2;
    size_t used = ust_ring_used(&tcb->rcv);
    size_t space = cap - slack > used ? cap - slack - used : 0;
    uint32_t win = space > max ? max : (uint32_t)space;
    uint32_t step = tcb->rcv_mss < cap / 2 ? tcb->rcv_mss : (uint32_t)(cap / 2);
    uint32_t keep = cur > max - (unit - 1) ? max : (cur + unit - 1) & ~(unit - 1);
    if (win < cur || win - cur < step)
        win = keep;
    win &= ~(unit - 1);
    if (win < keep)
        win = keep;
    if (ust_seq_gt(tcb->rcv_nxt + win, tcb->rcv_adv))
        tcb->rcv_adv = tcb->rcv_nxt + win;
    tcb->rcv_wnd = win;
    return win;
}

/* ---- Building one segment ------------------------------------------------ */

static void add_timestamp(const struct ust_tcb *tcb, struct ust_tcp_opts *o)
{
    o->present |= UST_TCPO_TIMESTAMP;
    o->tsval = ust_tcp_ts_now(tcb);
    o->tsecr = tcb->ts_recent;
}

/* Header + up to len bytes read from the ring at off, checksummed, to IP. */
static int emit(struct ust_stack *stack, uint32_t saddr, uint32_t daddr,
                const struct ust_tcp_hdr *h, const struct ust_ring *ring, size_t off,
                uint32_t len, const struct ust_sk *sk)
{
    size_t hl = UST_TCP_MIN_HLEN + ust_tcp_opts_len(&h->opts);
    struct ust_fbuf *fb = ust_fbuf_alloc(stack, hl + len);
    if (!fb)
        return -ENOBUFS;
    uint8_t *p = ust_fbuf_put(fb, hl + len);
    ust_tcp_emit(p, hl, h);
    if (len)
        ust_ring_peek(ring, off, p + hl, len);
    /* The loopback delivers frames marked verified (as Linux's loopback
     * skips checksums): only segments leaving the host need one. */
    if (!ust_net_is_local_addr(stack, daddr))
        ust_tcp_set_csum(p, hl + len, saddr, daddr);
    struct ust_ip_out o = {
        .src = saddr, .dst = daddr, .proto = UST_IPPROTO_TCP,
        .ttl = sk ? sk->ttl : 0, .tos = sk ? sk->tos : 0, .df = true,
    };
    UST_INC(stack, TCP, OutSegs);
    return ust_ipv4_output(stack, fb, &o);
}

/* SACK blocks (RFC 2018) as many as fit: tcb->mss assumed only the
 * timestamp option, so a full-sized segment carries none. */
static void fill_sack_blocks(const struct ust_tcb *tcb, struct ust_tcp_opts *o, uint32_t len)
{
    ust_tcp_sack_fill(tcb, o);
    size_t base = tcb->ts_ok ? 12 : 0;
    while (o->nsack > 0 && len + ust_tcp_opts_len(o) - base > tcb->mss)
        o->nsack--;
    if (o->nsack == 0)
        o->present &= (uint8_t)~UST_TCPO_SACK;
}

/* A segment of this connection: seq, flags, len bytes of the send ring. */
static int send_segment(struct ust_tcb *tcb, uint32_t seq, uint8_t flags, uint32_t len)
{
    struct ust_tcp_hdr h = {
        .sport = tcb->sk.lport, .dport = tcb->sk.rport,
        .seq = seq, .flags = flags,
    };
    if (flags & UST_TCP_ACK) {
        h.ack = tcb->rcv_nxt;
        h.win = (uint16_t)(ust_tcp_rcv_window(tcb) >> tcb->rcv_wscale);
    }
    /* RFC 9293 3.8.5 with RFC 6093's (and Linux's) meaning: while data
     * before SND.UP is unacknowledged, a segment starting before it says
     * URG, pointing just past the last urgent byte (0xffff when further). */
    if (tcb->snd_urg && !ust_seq_lt(tcb->snd_una, tcb->snd_up))
        tcb->snd_urg = false;       /* all urgent data acknowledged (Linux tcp_urg_mode) */
    if (tcb->snd_urg && ust_seq_lt(seq, tcb->snd_up)) {
        uint32_t up = tcb->snd_up - seq;
        h.flags |= UST_TCP_URG;
        h.urg = up > 0xffffu ? 0xffffu : (uint16_t)up;
    }
    if (tcb->ts_ok)
        add_timestamp(tcb, &h.opts);
    if (tcb->sack_ok && tcb->ooo.head && (flags & UST_TCP_ACK))
        fill_sack_blocks(tcb, &h.opts, len);
    size_t off = len ? (size_t)(seq - tcb->snd_buf_seq) : 0;
    ust_tcp_trace_seg(tcb, UST_TRACE_SEG_OUT, &h, len, len && ust_seq_lt(seq, tcb->snd_max));
    int err = emit(tcb->sk.stack, tcb->sk.laddr, tcb->sk.raddr, &h, &tcb->snd, off, len, &tcb->sk);
    if (flags & UST_TCP_ACK)
        ust_tcp_ack_sent(tcb);
    return err;
}

/* SYN (SYN-SENT) or SYN-ACK (SYN-RECEIVED), RFC 9293 3.5, with options in
 * Linux's order: MSS, timestamps, NOP, window scale (RFC 7323). */
void ust_tcp_send_syn(struct ust_tcb *tcb)
{
    bool synack = tcb->state != UST_TCP_SYN_SENT;   /* also FIN-WAIT-1 from SYN-RECEIVED */
    struct ust_tcp_hdr h = {
        .sport = tcb->sk.lport, .dport = tcb->sk.rport,
        .seq = tcb->iss, .flags = UST_TCP_SYN | (synack ? UST_TCP_ACK : 0),
        .ack = synack ? tcb->rcv_nxt : 0,
    };
    size_t win = tcb->rcv.cap > 0xffff ? 0xffff : tcb->rcv.cap;   /* never scaled on a SYN */
    h.win = (uint16_t)win;
    tcb->rcv_adv = tcb->rcv_nxt + (uint32_t)win;
    h.opts.present = UST_TCPO_MSS;
    h.opts.mss = tcb->rcv_mss;
    if (!synack || tcb->sack_ok)
        h.opts.present |= UST_TCPO_SACK_PERM;   /* RFC 2018 */
    if (!synack || tcb->ts_ok) {
        h.opts.present |= UST_TCPO_TIMESTAMP;
        h.opts.tsval = ust_tcp_ts_now(tcb);
        h.opts.tsecr = synack ? tcb->ts_recent : 0;
    }
    if (!synack || tcb->wscale_ok) {
        h.opts.present |= UST_TCPO_WSCALE;
        h.opts.wscale = tcb->rcv_wscale;
    }
    ust_tcp_trace_seg(tcb, UST_TRACE_SEG_OUT, &h, 0, ust_seq_gt(tcb->snd_max, tcb->iss));
    tcb->snd_nxt = tcb->iss + 1;
    if (ust_seq_lt(tcb->snd_max, tcb->snd_nxt))
        tcb->snd_max = tcb->snd_nxt;
    emit(tcb->sk.stack, tcb->sk.laddr, tcb->sk.raddr, &h, NULL, 0, 0, &tcb->sk);
    if (synack)
        ust_tcp_ack_sent(tcb);
}

void ust_tcp_send_ack(struct ust_tcb *tcb)
{
    if (tcb->state == UST_TCP_CLOSED || tcb->state == UST_TCP_LISTEN ||
        tcb->state == UST_TCP_SYN_SENT)
        return;
    /* SND.MAX rather than SND.NXT: after a timeout rewinds SND.NXT, an ACK
     * must still fall inside the peer's window (Linux tcp_acceptable_seq). */
    send_segment(tcb, tcb->snd_max, UST_TCP_ACK, 0);
}

void ust_tcp_send_rst_conn(struct ust_tcb *tcb)
{
    UST_INC(tcb->sk.stack, TCP, OutRsts);
    send_segment(tcb, tcb->snd_max, UST_TCP_RST | UST_TCP_ACK, 0);
}

/* RFC 9293 3.10.7.1: no connection. If the segment has an ACK, <SEQ=SEG.ACK>
 * <CTL=RST>, else <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>. Never for a RST. */
void ust_tcp_send_rst_reply(struct ust_stack *stack, uint32_t saddr, uint32_t daddr,
                            const struct ust_tcp_hdr *th, uint32_t seg_len)
{
    if (th->flags & UST_TCP_RST)
        return;
    struct ust_tcp_hdr h = { .sport = th->dport, .dport = th->sport };
    if (th->flags & UST_TCP_ACK) {
        h.seq = th->ack;
        h.flags = UST_TCP_RST;
    } else {
        h.ack = th->seq + seg_len;
        h.flags = UST_TCP_RST | UST_TCP_ACK;
    }
    UST_INC(stack, TCP, OutRsts);
    emit(stack, daddr, saddr, &h, NULL, 0, 0, NULL);
}

/* ---- Deciding what to send ------------------------------------------------ */

static bool retransmit_range(struct ust_tcb *tcb, uint32_t seq, uint32_t len);

static bool can_send_data(enum ust_tcp_conn_state s)
{
    return s == UST_TCP_ESTABLISHED || s == UST_TCP_CLOSE_WAIT || s == UST_TCP_FIN_WAIT_1 ||
           s == UST_TCP_CLOSING || s == UST_TCP_LAST_ACK;
}

static uint32_t min3(uint32_t a, uint32_t b, uint32_t c)
{
    uint32_t m = a < b ? a : b;
    return m < c ? m : c;
}

/* Sends segment [snd_nxt, snd_nxt+len) (+FIN) and advances SND.NXT. */
static void send_new(struct ust_tcb *tcb, uint32_t len, bool fin)
{
    uint32_t end = ust_tcp_snd_end(tcb);
    uint8_t flags = UST_TCP_ACK;
    if (len && tcb->snd_nxt + len == end)
        flags |= UST_TCP_PSH;
    if (fin)
        flags |= UST_TCP_FIN;
    bool new_data = tcb->snd_nxt == tcb->snd_max;
    if (!new_data) {
        tcb->total_retrans++;
        UST_INC(tcb->sk.stack, TCP, RetransSegs);
    }
    send_segment(tcb, tcb->snd_nxt, flags, len);
    /* Karn: time only segments sent once (timestamps make this moot). */
    if (new_data && !tcb->rtt_timing && !tcb->ts_ok) {
        tcb->rtt_timing = true;
        tcb->rtt_seq = tcb->snd_nxt;
        tcb->rtt_start = tcb->sk.stack->now;
    }
    tcb->snd_nxt += len + (fin ? 1 : 0);
    if (ust_seq_gt(tcb->snd_nxt, tcb->snd_max))
        tcb->snd_max = tcb->snd_nxt;
    /* RFC 8985 7.2: the probe timer restarts on new data; else RFC 6298
     * 5.1: the retransmission timer starts if it is not running. */
    if (!(new_data && !tcb->tlp_probe && ust_tcp_tlp_rearm(tcb)) &&
        (!ust_timer_pending(&tcb->rtx_timer) || tcb->persist))
        ust_tcp_rearm_rtx(tcb);
}

static bool sack_recovery(const struct ust_tcb *tcb)
{
    return tcb->in_recovery && tcb->sack_ok;
}

/* Retransmits [s, e) cut to one MSS in SACK recovery and remembers it;
 * the end sent, or s when nothing went. */
static uint32_t sack_resend(struct ust_tcb *tcb, uint32_t s, uint32_t e)
{
    uint32_t len = e - s < tcb->mss ? e - s : tcb->mss;
    if (!retransmit_range(tcb, s, len))
        return s;
    ust_tcp_rtx_record(tcb, s, s + len);
    return s + len;
}

void ust_tcp_sack_recovery_start(struct ust_tcb *tcb)
{
    uint32_t s, e;
    UST_INC(tcb->sk.stack, TCP, TCPSackRecovery);
    ust_tcp_rtx_reset(tcb);
    tcb->rescue_set = false;
    tcb->high_rxt = tcb->snd_una;
    if (!ust_tcp_sack_next_hole(tcb, tcb->snd_una, &s, &e)) {
        s = tcb->snd_una;               /* no SACK block yet: three duplicate ACKs */
        e = tcb->snd_una + tcb->mss;
    }
    tcb->high_rxt = sack_resend(tcb, s, e);
}

/* Rules 1 and 3 of NextSeg: the first hole above HighRxt (below the highest
 * SACKed octet); rule 1 takes it only when IsLost, rule 3 in any case. */
static bool sack_next_hole(struct ust_tcb *tcb, bool need_lost)
{
    uint32_t s, e;
    if (!ust_tcp_sack_next_hole(tcb, tcb->high_rxt, &s, &e))
        return false;
    if (need_lost && !ust_tcp_sack_is_lost(tcb, s))
        return false;
    uint32_t sent = sack_resend(tcb, s, e);
    if (sent == s)
        return false;
    tcb->high_rxt = sent;
    return true;
}

/* Rule 4 of NextSeg: once per recovery, the segment ending with the highest
 * unSACKed octet, so that a lost tail does not wait for the timer.
 * HighRxt does not move. */
static bool sack_rescue(struct ust_tcb *tcb)
{
    if (tcb->rescue_set && ust_seq_le(tcb->snd_una, tcb->rescue_rxt))
        return false;
    uint32_t top = tcb->snd_max, s, e, from = tcb->snd_una;
    if (ust_seq_ge(ust_tcp_sack_high(tcb), top)) {
        top = tcb->snd_una;             /* the tail is SACKed: the last hole's end */
        while (ust_tcp_sack_next_hole(tcb, from, &s, &e)) {
            top = e;
            from = e;
        }
    }
    if (ust_seq_le(top, tcb->high_rxt))
        return false;                   /* that was sent again already */
    uint32_t data_end = ust_tcp_snd_end(tcb);
    if (ust_seq_gt(top, data_end))
        top = data_end;                 /* the FIN rides with the data before it */
    uint32_t start = top - tcb->mss;
    if (ust_seq_lt(start, tcb->snd_una) || ust_seq_gt(start, top))
        start = tcb->snd_una;
    if (!ust_seq_lt(tcb->snd_una, tcb->snd_max))
        return false;
    if (!retransmit_range(tcb, start, top - start))
        return false;
    UST_INC(tcb->sk.stack, TCP, TCPSACKRescue);
    tcb->rescue_rxt = tcb->recover;
    tcb->rescue_set = true;
    return true;
}

/* Linux's first rule: a retransmission found lost goes out again. */
static bool sack_resend_lost(struct ust_tcb *tcb)
{
    uint32_t s, e;
    if (!ust_tcp_rtx_next_lost(tcb, &s, &e))
        return false;
    return sack_resend(tcb, s, e) != s;
}

static bool output_one(struct ust_tcb *tcb);

/* RFC 6675 5 step (C): while pipe < cwnd, send what NextSeg picks: a lost
 * retransmission again, (1) a lost hole, (2) new data, (3) a hole not yet
 * lost, (4) the rescue retransmission. RFC 6675 waits for a whole SMSS of
 * room; a part of one is rounded up here (as PRR, RFC 6937, sends at least
 * one segment while pipe is below ssthresh), or a small window could stall
 * with its retransmission lost and nothing sent after it to show that.
 * Each round sends a segment or stops, and sequence space is finite:
 * bounded. */
static void sack_output(struct ust_tcb *tcb)
{
    ust_tcp_rtx_detect_lost(tcb);
    for (;;) {
        if (ust_tcp_sack_pipe(tcb) >= tcb->cwnd)
            return;
        if (sack_resend_lost(tcb) || sack_next_hole(tcb, true) || output_one(tcb) ||
            sack_next_hole(tcb, false) || sack_rescue(tcb))
            continue;
        return;
    }
}

/* After a timeout SND.NXT went back to SND.UNA: what the peer SACKed is
 * not sent again (RFC 6675 5.1: use the SACK information in the recovery
 * that follows a timeout). Returns the room before the next SACKed range. */
static uint32_t loss_skip_sacked(struct ust_tcb *tcb)
{
    uint32_t end;
    if (tcb->in_loss && ust_seq_ge(tcb->snd_una, tcb->recover))
        tcb->in_loss = false;
    if (!tcb->in_loss)
        return UINT32_MAX;
    while (ust_seq_lt(tcb->snd_nxt, tcb->snd_max) && ust_tcp_sack_covers(tcb, tcb->snd_nxt, &end))
        tcb->snd_nxt = ust_seq_lt(end, tcb->snd_max) ? end : tcb->snd_max;
    uint32_t s, e;
    if (ust_seq_lt(tcb->snd_nxt, tcb->snd_max) &&
        ust_tcp_sack_next_hole(tcb, tcb->snd_nxt, &s, &e) && s == tcb->snd_nxt)
        return e - s;
    return UINT32_MAX;
}

/* One round of the send decision; false when nothing (more) may go. */
static bool output_one(struct ust_tcb *tcb)
{
    uint32_t gap = loss_skip_sacked(tcb);
    uint32_t end = ust_tcp_snd_end(tcb);
    uint32_t unsent = ust_seq_lt(tcb->snd_nxt, end) ? end - tcb->snd_nxt : 0;
    bool fin_unsent = tcb->shut_wr && ust_seq_le(tcb->snd_nxt, end);
    uint32_t in_flight = tcb->snd_nxt - tcb->snd_una;
    /* The peer's window bounds the sequence space; cwnd bounds what is in
     * the network (RFC 6675 pipe during SACK recovery; after a timeout, what
     * was sent again less what the peer SACKed). */
    uint32_t rwnd_room = tcb->snd_wnd > in_flight ? tcb->snd_wnd - in_flight : 0;
    uint32_t pipe = in_flight;
    if (sack_recovery(tcb))
        pipe = ust_tcp_sack_pipe(tcb);
    else if (tcb->in_loss)
        pipe = in_flight - ust_tcp_sack_bytes_in(tcb, tcb->snd_una, tcb->snd_nxt);
    uint32_t room = unsent < gap ? unsent : gap;    /* up to the next SACKed range */
    /* RFC 3042 limited transmit: the first two duplicate ACKs each let
     * one new segment go beyond cwnd. With SACK, a segment SACKed counts as
     * one duplicate ACK (RFC 6675 5), even when the ACK that reported it
     * also moved the window. */
    uint32_t cwnd = tcb->cwnd + (tcb->tlp_probe ? tcb->mss : 0u);
    if (!tcb->in_recovery && !tcb->in_loss) {
        uint32_t dups = tcb->dupacks;
        if (tcb->sack_ok && tcb->sacked_bytes / tcb->mss > dups)
            dups = tcb->sacked_bytes / tcb->mss;
        uint32_t most = ust_tcp_dupthresh(tcb) - 1;     /* 2, more with reordering */
        cwnd += (dups < most ? dups : most) * tcb->mss;
    }
    uint32_t cwnd_room = cwnd > pipe ? cwnd - pipe : 0;
    if (sack_recovery(tcb) && cwnd_room > 0 && cwnd_room < tcb->mss)
        cwnd_room = tcb->mss;           /* see sack_output */
    uint32_t usable = rwnd_room < cwnd_room ? rwnd_room : cwnd_room;
    uint32_t len = min3(room, tcb->mss, usable);
    bool fin = fin_unsent && len == unsent;

    if (len == 0 && !fin) {
        /* RFC 9293 3.8.6.1: data waits behind a zero window. */
        if (unsent > 0 && tcb->snd_wnd == 0 && in_flight == 0)
            ust_tcp_start_persist(tcb);
        return false;
    }
    if (len < tcb->mss && len < room && in_flight > 0)
        return false;               /* sender SWS avoidance: wait for a bigger window */
    /* Nagle (RFC 896) in Minshall's form, as Linux: hold a small segment
     * only while an earlier small one is unacknowledged. */
    bool resend = ust_seq_lt(tcb->snd_nxt, tcb->snd_max);
    /* TCP_CORK and MSG_MORE (Linux TCP_NAGLE_CORK): full segments go, a
     * partial one waits for more data, the FIN, uncorking or the ceiling. */
    if (len < tcb->mss && !fin && !resend && !tcb->push_now && (tcb->cork || tcb->more)) {
        struct ust_stack *stack = tcb->sk.stack;
        if (!ust_timer_pending(&tcb->cork_timer))
            ust_timer_set(&stack->timers, &tcb->cork_timer, stack->now + UST_TCP_CORK_CEILING_NS);
        return false;
    }
    if (len < tcb->mss && !fin && !tcb->nodelay && !resend && !tcb->push_now &&
        ust_seq_gt(tcb->snd_sml, tcb->snd_una))
        return false;
    if (len < tcb->mss)
        tcb->snd_sml = tcb->snd_nxt + len;
    if (len == unsent)              /* nothing held any more */
        ust_timer_cancel(&tcb->sk.stack->timers, &tcb->cork_timer);
    send_new(tcb, len, fin);
    return true;
}

void ust_tcp_output(struct ust_tcb *tcb)
{
    if (can_send_data(tcb->state)) {
        if (sack_recovery(tcb))
            sack_output(tcb);
        /* Bounded: each round sends at least one byte or the FIN. */
        while (output_one(tcb))
            ;
    }
    if (tcb->ack_now)
        ust_tcp_send_ack(tcb);
}

/* Resends [seq, seq + len) (len <= MSS), with the FIN when it ends the
 * data and the FIN was sent. False when there is nothing there. */
static bool retransmit_range(struct ust_tcb *tcb, uint32_t seq, uint32_t len)
{
    uint32_t end = ust_tcp_snd_end(tcb);
    uint32_t avail = ust_seq_lt(seq, end) ? end - seq : 0;
    if (len > avail)
        len = avail;
    if (len > tcb->mss)
        len = tcb->mss;
    bool fin = tcb->shut_wr && seq + len == end && ust_seq_gt(tcb->snd_max, end);
    if (len == 0 && !fin)
        return false;
    tcb->total_retrans++;
    if (tcb->in_recovery)
        tcb->undo_retrans++;
    UST_INC(tcb->sk.stack, TCP, RetransSegs);
    send_segment(tcb, seq, UST_TCP_ACK | (fin ? UST_TCP_FIN : 0) | (len ? UST_TCP_PSH : 0), len);
    if (tcb->rtt_timing && ust_seq_le(seq, tcb->rtt_seq))
        tcb->rtt_timing = false;            /* Karn */
    return true;
}

/* RFC 8985 7.3. The probe's loss detection (7.4: a loss repaired by the
 * probe alone should still reduce cwnd) is not done: such a tail loss
 * costs no window reduction here. */
void ust_tcp_send_tlp(struct ust_tcb *tcb)
{
    UST_INC(tcb->sk.stack, TCP, TCPLossProbes);
    tcb->tlp_out = true;
    tcb->tlp_probe = true;
    bool sent = can_send_data(tcb->state) && output_one(tcb);
    tcb->tlp_probe = false;
    tcb->tlp_high = tcb->snd_max;
    if (sent)
        return;
    tcb->undo_ok = false;       /* a D-SACK of this one says nothing of the last recovery */
    uint32_t end = ust_tcp_snd_end(tcb);
    uint32_t top = ust_seq_lt(tcb->snd_max, end) ? tcb->snd_max : end;
    uint32_t start = top - tcb->mss;
    if (ust_seq_lt(start, tcb->snd_una) || ust_seq_gt(start, top))
        start = tcb->snd_una;
    retransmit_range(tcb, start, top - start);
}

/* Fast retransmit, partial ACKs, zero-window probes (seq = SND.UNA - 1). */
void ust_tcp_retransmit_one(struct ust_tcb *tcb, uint32_t seq)
{
    if (seq == tcb->snd_una - 1) {          /* window probe: no data */
        send_segment(tcb, seq, UST_TCP_ACK, 0);
        return;
    }
    retransmit_range(tcb, seq, tcb->mss);
}
