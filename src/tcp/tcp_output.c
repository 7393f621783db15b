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
 * left. */
uint32_t ust_tcp_rcv_window(struct ust_tcb *tcb)
{
    uint32_t cur = ust_seq_gt(tcb->rcv_adv, tcb->rcv_nxt) ? tcb->rcv_adv - tcb->rcv_nxt : 0;
    size_t cap = tcb->rcv.cap;
    size_t space = tcb->shut_rd ? cap : cap - ust_ring_used(&tcb->rcv);
    uint32_t max = (uint32_t)0xffff << tcb->rcv_wscale;
    uint32_t win = space > max ? max : (uint32_t)space;
    uint32_t step = tcb->rcv_mss < cap / 2 ? tcb->rcv_mss : (uint32_t)(cap / 2);
    if (win < cur || win - cur < step)
        win = cur;
    if (win > max)
        win = max;
    /* What the scaled field can say. */
    win = (win >> tcb->rcv_wscale) << tcb->rcv_wscale;
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
    bool synack = tcb->state == UST_TCP_SYN_RECEIVED;
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
    if (!ust_timer_pending(&tcb->rtx_timer) || tcb->persist)
        ust_tcp_rearm_rtx(tcb);
}

static bool sack_recovery(const struct ust_tcb *tcb)
{
    return tcb->in_recovery && tcb->sack_ok;
}

/* RFC 6675 5 (NextSeg rule 1): retransmit the lost holes first, while pipe
 * leaves room in cwnd. */
static void sack_retransmit_holes(struct ust_tcb *tcb)
{
    uint32_t s, e;
    while (ust_tcp_sack_pipe(tcb) + tcb->mss <= tcb->cwnd &&
           ust_tcp_sack_next_hole(tcb, tcb->high_rxt, &s, &e)) {
        uint32_t len = e - s < tcb->mss ? e - s : tcb->mss;
        ust_tcp_retransmit_one(tcb, s);
        tcb->high_rxt = s + len;
    }
}

/* One round of the send decision; false when nothing (more) may go. */
static bool output_one(struct ust_tcb *tcb)
{
    uint32_t end = ust_tcp_snd_end(tcb);
    uint32_t unsent = ust_seq_lt(tcb->snd_nxt, end) ? end - tcb->snd_nxt : 0;
    bool fin_unsent = tcb->shut_wr && ust_seq_le(tcb->snd_nxt, end);
    uint32_t in_flight = tcb->snd_nxt - tcb->snd_una;
    /* The peer's window bounds the sequence space; cwnd bounds what is in
     * the network (RFC 6675 pipe during SACK recovery). */
    uint32_t rwnd_room = tcb->snd_wnd > in_flight ? tcb->snd_wnd - in_flight : 0;
    uint32_t pipe = sack_recovery(tcb) ? ust_tcp_sack_pipe(tcb) : in_flight;
    /* RFC 3042 limited transmit: the first two duplicate ACKs each let
     * one new segment go beyond cwnd. */
    uint32_t cwnd = tcb->cwnd;
    if (!tcb->in_recovery && tcb->dupacks > 0 && tcb->dupacks < 3)
        cwnd += tcb->dupacks * tcb->mss;
    uint32_t cwnd_room = cwnd > pipe ? cwnd - pipe : 0;
    uint32_t usable = rwnd_room < cwnd_room ? rwnd_room : cwnd_room;
    uint32_t len = min3(unsent, tcb->mss, usable);
    bool fin = fin_unsent && len == unsent;

    if (len == 0 && !fin) {
        /* RFC 9293 3.8.6.1: data waits behind a zero window. */
        if (unsent > 0 && tcb->snd_wnd == 0 && in_flight == 0)
            ust_tcp_start_persist(tcb);
        return false;
    }
    if (len < tcb->mss && len < unsent && in_flight > 0)
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
            sack_retransmit_holes(tcb);
        /* Bounded: each round sends at least one byte or the FIN. */
        while (output_one(tcb))
            ;
    }
    if (tcb->ack_now)
        ust_tcp_send_ack(tcb);
}

/* Fast retransmit, partial ACKs, zero-window probes (seq = SND.UNA - 1). */
void ust_tcp_retransmit_one(struct ust_tcb *tcb, uint32_t seq)
{
    if (seq == tcb->snd_una - 1) {          /* window probe: no data */
        send_segment(tcb, seq, UST_TCP_ACK, 0);
        return;
    }
    uint32_t end = ust_tcp_snd_end(tcb);
    uint32_t len = ust_seq_lt(seq, end) ? end - seq : 0;
    if (len > tcb->mss)
        len = tcb->mss;
    bool fin = tcb->shut_wr && seq + len == end && ust_seq_gt(tcb->snd_max, end);
    if (len == 0 && !fin)
        return;
    tcb->total_retrans++;
    UST_INC(tcb->sk.stack, TCP, RetransSegs);
    send_segment(tcb, seq, UST_TCP_ACK | (fin ? UST_TCP_FIN : 0) | (len ? UST_TCP_PSH : 0), len);
    if (tcb->rtt_timing && ust_seq_le(seq, tcb->rtt_seq))
        tcb->rtt_timing = false;            /* Karn */
}
