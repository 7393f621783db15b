/* Segment arrival (RFC 9293 section 3.10.7), one named step per check:
 *
 *   ust_tcp_input      parse, checksum, demultiplex (connection, listener,
 *                      or none: RST)
 *   listen_input       3.10.7.2  a SYN makes a child in SYN-RECEIVED
 *   syn_sent_input     3.10.7.3
 *   sync_input         3.10.7.4, the synchronized states, in order:
 *     check_paws         RFC 7323 section 5
 *     check_sequence     the acceptability test, then trim to the window
 *     check_rst          RFC 5961 section 3 (exact RCV.NXT; else challenge ACK)
 *     check_syn          RFC 5961 section 4 (challenge ACK)
 *     check_ack          RFC 5961 section 5 range; SND.UNA, window update,
 *                        RTT, congestion control, FIN acknowledged
 *     process_data       in-order data to the receive ring, the rest to the
 *                        out-of-order queue
 *     check_fin
 *
 * Every step returns STEP_CONTINUE, STEP_DROP (stop, the block lives on) or
 * STEP_GONE (the block was freed: touch nothing). */
#include <errno.h>
#include <poll.h>
#include <string.h>

#include "core/stats.h"
#include "core/util.h"
#include "runtime/waitq.h"
#include "net/net_internal.h"
#include "stack/stack_impl.h"
#include "tcp/tcp.h"
#include "tcp/tcp_trace.h"

enum step { STEP_CONTINUE, STEP_DROP, STEP_GONE };

/* The segment being processed. */
struct seg {
    struct ust_tcp_hdr th;
    uint32_t saddr, daddr;
    uint32_t seq;
    uint32_t len;               /* payload bytes (fb->data after the header) */
    struct ust_fbuf *fb;        /* NULL once the out-of-order queue took it */
};

static uint32_t seg_len(const struct seg *s)
{
    return s->len + ((s->th.flags & UST_TCP_SYN) ? 1 : 0) + ((s->th.flags & UST_TCP_FIN) ? 1 : 0);
}

static bool has(const struct seg *s, uint8_t flag)
{
    return (s->th.flags & flag) != 0;
}

/* ---- Options of a SYN (RFC 9293 3.7.1, RFC 7323) ------------------------ */

static void take_syn_options(struct ust_tcb *tcb, const struct seg *s)
{
    const struct ust_tcp_opts *o = &s->th.opts;
    /* RFC 9293 3.7.1: 536 when the peer sent no MSS option. */
    uint16_t peer = (o->present & UST_TCPO_MSS) && o->mss >= 64 ? o->mss : 536;
    uint16_t mss = peer < tcb->rcv_mss ? peer : tcb->rcv_mss;
    if (tcb->user_mss && tcb->user_mss < mss)
        mss = tcb->user_mss;
    if (o->present & UST_TCPO_WSCALE) {
        tcb->wscale_ok = true;
        tcb->snd_wscale = o->wscale > 14 ? 14 : o->wscale;   /* RFC 7323 2.3 */
    } else {
        tcb->wscale_ok = false;
        tcb->snd_wscale = tcb->rcv_wscale = 0;
    }
    tcb->sack_ok = (o->present & UST_TCPO_SACK_PERM) != 0;   /* RFC 2018 */
    if (o->present & UST_TCPO_TIMESTAMP) {
        tcb->ts_ok = true;
        tcb->ts_recent = o->tsval;
        mss -= 12;              /* the timestamp option rides on every segment */
    }
    tcb->mss = mss;
    tcb->irs = s->seq;
    tcb->rcv_nxt = s->seq + 1;
    tcb->rcv_adv = tcb->rcv_nxt;    /* the next segment advertises the window */
    tcb->last_ack_sent = tcb->rcv_nxt;  /* what our SYN-ACK (or cookie SYN-ACK) acks */
    tcb->snd_wnd = s->th.win;   /* RFC 7323 2.2: a SYN's window is never scaled */
    tcb->max_snd_wnd = tcb->snd_wnd;
    tcb->snd_wl1 = s->seq;
    tcb->snd_wl2 = s->th.ack;
    tcb->cc->init(tcb);
}

static void establish(struct ust_tcb *tcb)
{
    ust_tcp_set_state(tcb, UST_TCP_ESTABLISHED);
    tcb->recover = tcb->snd_una;    /* RFC 6582 3.2: "recover" starts at the ISS */
    ust_tcp_sndbuf_expand(tcb);
    tcb->last_rcv = tcb->sk.stack->now;
    ust_tcp_keepalive_update(tcb);
    tcb->sk.connected = true;
    tcb->backoff = 0;
    tcb->retransmits = 0;
    ust_tcp_rearm_rtx(tcb);
    tcb->last_rcv = tcb->sk.stack->now;
    ust_tcp_keepalive_update(tcb);
    ust_tcp_wake(tcb, POLLOUT | POLLWRNORM);
}

/* ---- LISTEN (3.10.7.2) ------------------------------------------------- */

static struct ust_tcb *make_child(struct ust_tcb *l, const struct seg *s)
{
    struct ust_stack *stack = l->sk.stack;
    struct ust_tcb *c = ust_tcb_new(stack, NULL);
    if (!c)
        return NULL;
    c->sk.rcvbuf = l->sk.rcvbuf;
    c->sk.sndbuf = l->sk.sndbuf;
    c->sk.reuseaddr = l->sk.reuseaddr;
    c->sk.keepalive = l->sk.keepalive;
    c->sk.ttl = l->sk.ttl;
    c->sk.tos = l->sk.tos;
    c->nodelay = l->nodelay;
    c->user_mss = l->user_mss;
    c->cc = l->cc;
    c->linger = l->linger;
    c->rcvlowat = l->rcvlowat;
    c->keepidle_s = l->keepidle_s;
    c->keepintvl_s = l->keepintvl_s;
    c->keepcnt = l->keepcnt;
    c->user_timeout_ms = l->user_timeout_ms;
    c->sk.laddr = c->sk.saddr = s->daddr;
    c->sk.lport = l->sk.lport;
    c->sk.raddr = s->saddr;
    c->sk.rport = s->th.sport;
    c->parent = l;
    c->state = UST_TCP_SYN_RECEIVED;
    l->syn_len++;
    ust_tcp_init_buffers(c);
    c->rcv_mss = ust_tcp_route_mss(stack, c->sk.raddr);
    if (c->user_mss && c->user_mss < c->rcv_mss)
        c->rcv_mss = c->user_mss;       /* TCP_MAXSEG (Linux tcp_mss_clamp) */
    take_syn_options(c, s);
    c->iss = ust_tcp_isn(stack, c->sk.laddr, c->sk.lport, c->sk.raddr, c->sk.rport);
    c->ts_offset = ust_tcp_ts_offset(stack, c->sk.laddr, c->sk.lport, c->sk.raddr, c->sk.rport);
    c->snd_una = c->snd_max = c->snd_sml = c->iss;
    c->snd_buf_seq = c->iss + 1;
    ust_tcp_ehash_insert(c);
    ust_tcp_bhash_inherit(c);
    ust_tcp_trace_state(c, UST_TCP_LISTEN, UST_TCP_SYN_RECEIVED);
    ust_tcp_trace_queue(l, c, UST_QUEUE_SYN_ADD);
    return c;
}

/* ---- SYN cookies (tcp_syncookie.c) ---------------------------------------- */

/* The SYN queue is full: answer with a cookie SYN-ACK from a block that
 * lives on the C stack only. */
static void send_cookie_synack(struct ust_tcb *l, const struct seg *s)
{
    struct ust_stack *stack = l->sk.stack;
    struct ust_tcb t;
    memset(&t, 0, sizeof(t));
    t.sk = l->sk;
    t.sk.laddr = t.sk.saddr = s->daddr;
    t.sk.raddr = s->saddr;
    t.sk.rport = s->th.sport;
    t.state = UST_TCP_SYN_RECEIVED;
    t.sk.rcvbuf = l->sk.rcvbuf;
    ust_tcp_init_buffers(&t);       /* capacities only: nothing is allocated */
    t.rcv_mss = ust_tcp_route_mss(stack, t.sk.raddr);
    t.cc = l->cc;
    take_syn_options(&t, s);
    const struct ust_tcp_opts *o = &s->th.opts;
    uint16_t peer_mss = (o->present & UST_TCPO_MSS) ? o->mss : 536, mss;
    t.iss = ust_tcp_cookie_make(stack, t.sk.laddr, t.sk.lport, t.sk.raddr, t.sk.rport, s->seq,
                                peer_mss < t.rcv_mss ? peer_mss : t.rcv_mss, &mss);
    if (t.ts_ok) {
        uint32_t off = ust_tcp_ts_offset(stack, t.sk.laddr, t.sk.lport, t.sk.raddr, t.sk.rport);
        t.ts_offset = off;
        t.ts_offset = ust_tcp_cookie_ts_offset(ust_tcp_ts_now(&t), off, t.snd_wscale,
                                               t.wscale_ok, t.sack_ok);
    } else {
        t.wscale_ok = t.sack_ok = false;
        t.rcv_wscale = 0;
    }
    UST_INC(stack, TCP, SyncookiesSent);
    ust_tcp_trace_queue(l, &t, UST_QUEUE_COOKIE);
    ust_tcp_send_syn(&t);
}

static void sync_input(struct ust_tcb *tcb, struct seg *s);

/* An ACK to a listener: maybe the answer to a cookie. True when handled. */
static bool cookie_ack(struct ust_tcb *l, struct seg *s)
{
    struct ust_stack *stack = l->sk.stack;
    uint16_t mss;
    if (!stack->cfg.tcp_syncookies || has(s, UST_TCP_SYN) ||
        !ust_tcp_cookie_check(stack, s->daddr, l->sk.lport, s->saddr, s->th.sport, s->seq - 1,
                              s->th.ack - 1, &mss)) {
        UST_INC(stack, TCP, SyncookiesFailed);
        return false;
    }
    if (l->acc_len >= l->backlog) {
        UST_INC(stack, TCP, ListenOverflows);
        UST_INC(stack, TCP, ListenDrops);
        return true;
    }
    /* Rebuild the SYN the peer sent, as far as the cookie remembers it. */
    struct seg syn = *s;
    syn.seq = s->seq - 1;
    syn.th.win = s->th.win;
    struct ust_tcp_opts *o = &syn.th.opts;
    uint32_t tsval = o->tsval, tsecr = o->tsecr;
    bool ts = (o->present & UST_TCPO_TIMESTAMP) && tsecr != 0;
    memset(o, 0, sizeof(*o));
    o->present = UST_TCPO_MSS;
    o->mss = mss;
    if (ts) {
        bool ws_ok, sack;
        uint8_t ws;
        ust_tcp_cookie_ts_decode(tsecr, &ws, &ws_ok, &sack);
        o->present |= UST_TCPO_TIMESTAMP | (ws_ok ? UST_TCPO_WSCALE : 0) |
                      (sack ? UST_TCPO_SACK_PERM : 0);
        o->wscale = ws;
        o->tsval = tsval;
    }
    struct ust_tcb *c = make_child(l, &syn);
    if (!c) {
        UST_INC(stack, TCP, ListenDrops);
        return true;
    }
    c->iss = s->th.ack - 1;
    c->snd_una = c->snd_sml = c->iss;
    c->snd_nxt = c->snd_max = c->iss + 1;
    c->snd_buf_seq = c->iss + 1;
    /* The window our cookie SYN-ACK offered. */
    c->rcv_adv = c->rcv_nxt + (uint32_t)(c->rcv.cap > 0xffff ? 0xffff : c->rcv.cap);
    UST_INC(stack, TCP, SyncookiesRecv);
    UST_INC(stack, TCP, PassiveOpens);
    sync_input(c, s);
    return true;
}

static void listen_input(struct ust_tcb *l, struct seg *s)
{
    struct ust_stack *stack = l->sk.stack;
    if (has(s, UST_TCP_RST))
        return;
    if (has(s, UST_TCP_ACK)) {
        if (!cookie_ack(l, s))
            ust_tcp_send_rst_reply(stack, s->saddr, s->daddr, &s->th, seg_len(s));
        return;
    }
    if (!has(s, UST_TCP_SYN))
        return;
    /* Accept queue full: drop (the peer retries). SYN queue full: a
     * cookie, or drop when cookies are off. */
    if (l->acc_len >= l->backlog) {
        UST_INC(stack, TCP, ListenOverflows);
        UST_INC(stack, TCP, ListenDrops);
        return;
    }
    if (l->syn_len >= l->backlog) {
        if (stack->cfg.tcp_syncookies)
            send_cookie_synack(l, s);
        else
            UST_INC(stack, TCP, ListenDrops);
        return;
    }
    struct ust_tcb *c = make_child(l, s);
    if (!c) {
        UST_INC(stack, TCP, ListenDrops);
        return;
    }
    UST_INC(stack, TCP, PassiveOpens);
    ust_tcp_send_syn(c);
    ust_tcp_rearm_rtx(c);
}

/* ---- SYN-SENT (3.10.7.3) ------------------------------------------------- */

static void syn_sent_input(struct ust_tcb *tcb, struct seg *s)
{
    struct ust_stack *stack = tcb->sk.stack;
    bool ack_ok = false;
    if (has(s, UST_TCP_ACK)) {
        /* SEG.ACK =< ISS or SEG.ACK > SND.NXT: RST unless it is one. */
        if (ust_seq_le(s->th.ack, tcb->iss) || ust_seq_gt(s->th.ack, tcb->snd_max)) {
            ust_tcp_send_rst_reply(stack, s->saddr, s->daddr, &s->th, seg_len(s));
            return;
        }
        ack_ok = true;
    }
    if (has(s, UST_TCP_RST)) {
        if (ack_ok) {           /* "error: connection reset" = ECONNREFUSED */
            UST_INC(stack, TCP, AttemptFails);
            tcb->sk.err = ECONNREFUSED;
            tcb->reset = true;
            ust_tcp_done(tcb);
        }
        return;
    }
    if (!has(s, UST_TCP_SYN))
        return;
    take_syn_options(tcb, s);
    if (!ack_ok) {
        /* Simultaneous open: SYN-RECEIVED, SYN-ACK with our ISS. */
        ust_tcp_set_state(tcb, UST_TCP_SYN_RECEIVED);
        ust_tcp_send_syn(tcb);
        return;
    }
    if (tcb->ts_ok && s->th.opts.tsecr && tcb->backoff == 0)
        ust_tcp_rtt_sample(tcb, (ust_tcp_ts_now(tcb) - s->th.opts.tsecr) * 1000u);
    else if (tcb->backoff == 0)
        ust_tcp_rtt_sample(tcb, (uint32_t)((stack->now - tcb->rtt_start) / UST_NSEC_PER_USEC));
    tcb->rtt_timing = false;
    tcb->snd_una = s->th.ack;
    establish(tcb);
    tcb->ack_now = true;
    ust_tcp_output(tcb);
}

/* ---- Synchronized states (3.10.7.4) -------------------------------------- */

/* RFC 5961 section 7: at most 1000 challenge ACKs per second per stack. */
static void challenge_ack(struct ust_tcb *tcb)
{
    struct ust_tcp_state *st = &tcb->sk.stack->tcp;
    uint64_t sec = tcb->sk.stack->now / UST_NSEC_PER_SEC;
    if (sec != st->challenge_sec) {
        st->challenge_sec = sec;
        st->challenge_count = 0;
    }
    if (st->challenge_count++ >= 1000)
        return;
    UST_INC(tcb->sk.stack, TCP, TCPChallengeACK);
    ust_tcp_send_ack(tcb);
}

/* RFC 9293 3.10.7.4 answers an unacceptable segment with an ACK; Linux
 * (tcp_oow_rate_limited, net.ipv4.tcp_invalid_ratelimit) sends at most one
 * such ACK per connection per tcp_invalid_ratelimit_ms, so that a blind
 * flood of invalid segments cannot use the connection as a reflector and
 * two confused ends cannot loop. A segment carrying data or a FIN (without
 * SYN) is always answered: it is most likely a retransmission whose ACK was
 * lost, not part of an ACK loop. `skipped` counts what was held back. */
static void send_oow_ack(struct ust_tcb *tcb, const struct seg *s, enum ust_stat skipped)
{
    struct ust_stack *stack = tcb->sk.stack;
    uint64_t limit = (uint64_t)stack->cfg.tcp_invalid_ratelimit_ms * UST_NSEC_PER_MSEC;
    if (limit && (seg_len(s) == 0 || has(s, UST_TCP_SYN))) {
        if (tcb->oow_acked && stack->now - tcb->last_oow_ack < limit) {
            stack->stats[tcb->state == UST_TCP_TIME_WAIT ? UST_STAT_TCP_TCPACKSkippedTimeWait
                                                          : skipped]++;
            return;
        }
        tcb->oow_acked = true;
        tcb->last_oow_ack = stack->now;
    }
    ust_tcp_send_ack(tcb);
}

static uint32_t rcv_window_now(const struct ust_tcb *tcb)
{
    return ust_seq_gt(tcb->rcv_adv, tcb->rcv_nxt) ? tcb->rcv_adv - tcb->rcv_nxt : 0;
}

/* RFC 7323 section 5.3: PAWS drops a segment whose timestamp is older than
 * TS.Recent (ACKing it unless it is a RST). A segment without a timestamp
 * is let through, as Linux does (RFC 7323 3.2 only says SHOULD drop). */
static enum step check_paws(struct ust_tcb *tcb, struct seg *s)
{
    if (!tcb->ts_ok || !(s->th.opts.present & UST_TCPO_TIMESTAMP) || has(s, UST_TCP_RST))
        return STEP_CONTINUE;
    if (ust_seq_lt(s->th.opts.tsval, tcb->ts_recent)) {
        UST_INC(tcb->sk.stack, TCP, PAWSEstab);
        send_oow_ack(tcb, s, UST_STAT_TCP_TCPACKSkippedPAWS);
        return STEP_DROP;
    }
    return STEP_CONTINUE;
}

/* RFC 7323 4.3: TS.Recent = SEG.TSval when SEG.TSval >= TS.Recent and
 * SEG.SEQ <= Last.ACK.sent, so that an ACK covering several segments (a
 * delayed ACK) echoes the earliest one, and the ACK after a hole the
 * segment that filled it. */
static void update_ts_recent(struct ust_tcb *tcb, const struct seg *s, uint32_t last_ack_sent)
{
    if (tcb->ts_ok && (s->th.opts.present & UST_TCPO_TIMESTAMP) &&
        ust_seq_le(s->seq, last_ack_sent) && ust_seq_ge(s->th.opts.tsval, tcb->ts_recent))
        tcb->ts_recent = s->th.opts.tsval;
}

/* The four cases of the acceptability test. */
static bool acceptable(const struct ust_tcb *tcb, const struct seg *s)
{
    uint32_t wnd = rcv_window_now(tcb), len = seg_len(s);
    uint32_t lo = tcb->rcv_nxt, hi = tcb->rcv_nxt + wnd;
    if (len == 0)
        return wnd == 0 ? s->seq == lo : ust_seq_ge(s->seq, lo) && ust_seq_lt(s->seq, hi);
    if (wnd == 0)
        return false;
    uint32_t last = s->seq + len - 1;
    return (ust_seq_ge(s->seq, lo) && ust_seq_lt(s->seq, hi)) ||
           (ust_seq_ge(last, lo) && ust_seq_lt(last, hi));
}

/* Cuts what lies before RCV.NXT or past the window. */
static void trim_to_window(struct ust_tcb *tcb, struct seg *s)
{
    if (ust_seq_lt(s->seq, tcb->rcv_nxt)) {
        uint32_t cut = tcb->rcv_nxt - s->seq;
        if (has(s, UST_TCP_SYN)) {
            s->th.flags &= (uint8_t)~UST_TCP_SYN;
            cut--;
            s->seq++;
        }
        if (cut > s->len)
            cut = s->len;
        ust_fbuf_pull(s->fb, cut);
        s->len -= cut;
        s->seq += cut;
    }
    uint32_t wnd = rcv_window_now(tcb);
    uint32_t room = tcb->rcv_nxt + wnd - s->seq;
    if (s->len > room) {
        ust_fbuf_trim(s->fb, room);
        s->len = room;
        s->th.flags &= (uint8_t)~UST_TCP_FIN;
    }
}

static enum step check_sequence(struct ust_tcb *tcb, struct seg *s)
{
    if (tcb->state == UST_TCP_SYN_RECEIVED && has(s, UST_TCP_SYN) && s->seq == tcb->irs) {
        /* A retransmitted SYN while our SYN-ACK was lost: send it again. */
        if (!has(s, UST_TCP_ACK)) {
            ust_tcp_send_syn(tcb);
            return STEP_DROP;
        }
        /* Simultaneous open (Figure 8 line 6): the peer's SYN-ACK repeats
         * the SYN we have; what counts is its ACK. */
        s->th.flags &= (uint8_t)~UST_TCP_SYN;
        s->seq++;
    }
    if (!acceptable(tcb, s)) {
        /* RFC 7323 4.3: an old duplicate (SEG.SEQ <= Last.ACK.sent) still
         * refreshes TS.Recent, so the ACK it draws echoes its timestamp and
         * the sender's RTT sample stays honest. */
        if (ust_seq_lt(s->seq, tcb->rcv_nxt))
            update_ts_recent(tcb, s, tcb->rcv_nxt);
        if (!has(s, UST_TCP_RST))
            send_oow_ack(tcb, s, UST_STAT_TCP_TCPACKSkippedSeq);
        return STEP_DROP;
    }
    trim_to_window(tcb, s);
    return STEP_CONTINUE;
}

/* The peer reset the connection: the errno the user sees (Linux
 * tcp_reset: EPIPE in CLOSE-WAIT, ECONNRESET otherwise). */
static enum step connection_reset(struct ust_tcb *tcb)
{
    struct ust_stack *stack = tcb->sk.stack;
    switch (tcb->state) {
    case UST_TCP_SYN_RECEIVED:
        tcb->sk.err = tcb->parent ? 0 : ECONNREFUSED;
        break;
    case UST_TCP_CLOSE_WAIT:
        tcb->sk.err = EPIPE;
        break;
    case UST_TCP_CLOSING: case UST_TCP_LAST_ACK: case UST_TCP_TIME_WAIT:
        break;
    default:
        tcb->sk.err = ECONNRESET;
        break;
    }
    if (tcb->state == UST_TCP_ESTABLISHED || tcb->state == UST_TCP_CLOSE_WAIT)
        UST_INC(stack, TCP, EstabResets);
    tcb->reset = true;
    ust_tcp_done(tcb);
    return STEP_GONE;
}

/* RFC 5961 section 3.2. */
static enum step check_rst(struct ust_tcb *tcb, struct seg *s)
{
    if (!has(s, UST_TCP_RST))
        return STEP_CONTINUE;
    if (s->seq == tcb->rcv_nxt)
        return connection_reset(tcb);
    challenge_ack(tcb);
    return STEP_DROP;
}

/* RFC 5961 section 4.2: any SYN in a synchronized state gets a challenge
 * ACK (a genuine restart answers it with a RST at RCV.NXT). */
static enum step check_syn(struct ust_tcb *tcb, struct seg *s)
{
    if (!has(s, UST_TCP_SYN))
        return STEP_CONTINUE;
    challenge_ack(tcb);
    return STEP_DROP;
}

/* SYN-RECEIVED + acceptable ACK: ESTABLISHED, and into the listener's
 * accept queue. */
static enum step ack_in_syn_received(struct ust_tcb *tcb, struct seg *s)
{
    struct ust_stack *stack = tcb->sk.stack;
    if (ust_seq_le(s->th.ack, tcb->snd_una) || ust_seq_gt(s->th.ack, tcb->snd_max)) {
        ust_tcp_send_rst_reply(stack, s->saddr, s->daddr, &s->th, seg_len(s));
        return STEP_DROP;
    }
    struct ust_tcb *l = tcb->parent;
    if (l && l->acc_len >= l->backlog) {
        /* Linux: ignore the ACK; the peer's retransmission may fit later. */
        UST_INC(stack, TCP, ListenOverflows);
        UST_INC(stack, TCP, ListenDrops);
        return STEP_DROP;
    }
    if (tcb->ts_ok && s->th.opts.tsecr && tcb->backoff == 0)
        ust_tcp_rtt_sample(tcb, (ust_tcp_ts_now(tcb) - s->th.opts.tsecr) * 1000u);
    tcb->snd_wnd = (uint32_t)s->th.win << tcb->snd_wscale;
    tcb->max_snd_wnd = tcb->snd_wnd;
    tcb->snd_wl1 = s->seq;
    tcb->snd_wl2 = s->th.ack;
    establish(tcb);
    if (l) {
        tcb->acc_next = NULL;
        if (l->acc_tail)
            l->acc_tail->acc_next = tcb;
        else
            l->acc_head = tcb;
        l->acc_tail = tcb;
        l->acc_len++;
        ust_tcp_trace_queue(l, tcb, UST_QUEUE_ACCEPT_ADD);
        ust_waitq_wake(l->sk.wq, POLLIN | POLLRDNORM);
    }
    return STEP_CONTINUE;
}

/* RFC 6298 2 with RFC 7323 RTTM, else Karn's single timed segment. */
static void measure_rtt(struct ust_tcb *tcb, const struct seg *s, uint32_t ack)
{
    if (tcb->ts_ok && (s->th.opts.present & UST_TCPO_TIMESTAMP) && s->th.opts.tsecr) {
        uint32_t ms = ust_tcp_ts_now(tcb) - s->th.opts.tsecr;
        if (ms < 1000u * 1000u)
            ust_tcp_rtt_sample(tcb, ms ? ms * 1000u : 500u);
        return;
    }
    if (tcb->rtt_timing && ust_seq_gt(ack, tcb->rtt_seq)) {
        tcb->rtt_timing = false;
        ust_tcp_rtt_sample(tcb, (uint32_t)((tcb->sk.stack->now - tcb->rtt_start) /
                                           UST_NSEC_PER_USEC));
    }
}

/* New data acknowledged: RFC 5681 growth or RFC 6582 recovery steps. */
static void ack_congestion(struct ust_tcb *tcb, const struct seg *s, uint32_t ack,
                           uint32_t acked)
{
    if (!tcb->in_recovery) {
        tcb->cc->cong_avoid(tcb, acked);
        ust_tcp_trace_cc(tcb, UST_CC_ACK);
        return;
    }
    if (ust_seq_ge(ack, tcb->recover)) {
        /* Full acknowledgment: RFC 6582 3.2 step 3 option (1),
         * min(ssthresh, max(FlightSize, SMSS) + SMSS); with SACK, ssthresh
         * (pipe kept the flight near cwnd during the recovery). Unless the
         * timestamp shows the recovery was needless (RFC 3522, tcp_sack.c). */
        uint32_t flight = tcb->snd_max - ack;
        if (flight < tcb->mss)
            flight = tcb->mss;
        if (ust_tcp_undo_eifel(tcb, &s->th.opts))
            ust_tcp_undo(tcb);
        if (!tcb->undone)
            tcb->cwnd = tcb->ssthresh < flight + tcb->mss || tcb->sack_ok ? tcb->ssthresh
                                                                          : flight + tcb->mss;
        tcb->in_recovery = false;
        ust_tcp_trace_cc(tcb, UST_CC_RECOVERY_END);
        return;
    }
    /* RFC 3522: the first ACK of the retransmitted data echoes an older
     * timestamp: the original filled the hole. With no other retransmission
     * the window comes back (Linux tcp_try_undo_partial). */
    if (tcb->undo_retrans <= 1 && ust_tcp_undo_eifel(tcb, &s->th.opts))
        ust_tcp_undo(tcb);
    if (tcb->sack_ok)
        return;                 /* RFC 6675: the holes go out in tcp_output */
    /* Partial acknowledgment: retransmit the next hole, deflate. */
    ust_tcp_retransmit_one(tcb, ack);
    tcb->cwnd = tcb->cwnd > acked ? tcb->cwnd - acked : tcb->mss;
    if (acked >= tcb->mss)
        tcb->cwnd += tcb->mss;
}

/* SND.UNA moves to ack: free acknowledged bytes of the send ring. */
static void advance_una(struct ust_tcb *tcb, const struct seg *s, uint32_t ack)
{
    uint32_t acked = ack - tcb->snd_una;
    if (ust_seq_gt(ack, tcb->snd_buf_seq)) {
        size_t n = ack - tcb->snd_buf_seq;
        size_t used = ust_ring_used(&tcb->snd);
        if (n > used)
            n = used;       /* the rest acknowledges the FIN */
        ust_ring_discard(&tcb->snd, n);
        tcb->snd_buf_seq += (uint32_t)n;
        ust_tcp_trace_buf(tcb, UST_BUF_ACKED, (uint32_t)n);
    }
    measure_rtt(tcb, s, ack);
    ack_congestion(tcb, s, ack, acked);
    tcb->snd_una = ack;
    if (ust_seq_lt(tcb->snd_nxt, ack))
        tcb->snd_nxt = ack;
    if (ust_seq_lt(tcb->high_rxt, ack))
        tcb->high_rxt = ack;
    ust_tcp_sack_clean(tcb);
    tcb->dupacks = 0;
    tcb->backoff = 0;
    tcb->retransmits = 0;
    tcb->soft_err = 0;
    ust_tcp_rearm_rtx(tcb);     /* RFC 6298 5.3 */
    ust_tcp_sndbuf_expand(tcb);
    ust_tcp_wake(tcb, POLLOUT | POLLWRNORM);
}

/* Fast retransmit: RFC 5681 3.2 / RFC 6582 without SACK; with SACK,
 * RFC 6675 5 (cwnd = ssthresh, the holes go out as pipe allows). */
static void enter_recovery(struct ust_tcb *tcb)
{
    UST_INC(tcb->sk.stack, TCP, TCPFastRetrans);
    ust_tcp_undo_start(tcb);
    tcb->ssthresh = tcb->cc->ssthresh(tcb);
    ust_tcp_trace_cc(tcb, UST_CC_FAST_RETRANSMIT);
    tcb->recover = tcb->snd_max;
    tcb->in_recovery = true;
    tcb->high_rxt = tcb->snd_una;
    tcb->rtt_timing = false;
    if (tcb->sack_ok) {
        tcb->cwnd = tcb->ssthresh;
        ust_tcp_sack_recovery_start(tcb);   /* tcp_output.c */
        return;
    }
    UST_INC(tcb->sk.stack, TCP, TCPRenoRecovery);
    ust_tcp_retransmit_one(tcb, tcb->snd_una);
    tcb->cwnd = tcb->ssthresh + 3u * tcb->mss;
}

static void duplicate_ack(struct ust_tcb *tcb)
{
    tcb->dupacks++;
    if (tcb->in_recovery) {
        if (!tcb->sack_ok)
            tcb->cwnd += tcb->mss;  /* inflate for each segment that left */
        return;
    }
    if (tcb->dupacks != ust_tcp_dupthresh(tcb) || ust_seq_lt(tcb->snd_una, tcb->recover))
        return;
    enter_recovery(tcb);
}

/* 3.10.7.4 "fifth, check the ACK field": window update rule. */
static void update_window(struct ust_tcb *tcb, const struct seg *s)
{
    if (ust_seq_lt(tcb->snd_wl1, s->seq) ||
        (tcb->snd_wl1 == s->seq && ust_seq_le(tcb->snd_wl2, s->th.ack))) {
        uint32_t old = tcb->snd_wnd;
        tcb->snd_wnd = (uint32_t)s->th.win << tcb->snd_wscale;
        tcb->snd_wl1 = s->seq;
        tcb->snd_wl2 = s->th.ack;
        if (tcb->snd_wnd > tcb->max_snd_wnd)
            tcb->max_snd_wnd = tcb->snd_wnd;
        if (old == 0 && tcb->snd_wnd > 0 && tcb->persist) {
            ust_timer_cancel(&tcb->sk.stack->timers, &tcb->rtx_timer);
            tcb->persist = false;
            tcb->backoff = 0;
        }
    }
}

/* Our FIN is acknowledged: the closing states move on. */
static enum step fin_acked(struct ust_tcb *tcb)
{
    switch (tcb->state) {
    case UST_TCP_FIN_WAIT_1:
        ust_tcp_set_state(tcb, UST_TCP_FIN_WAIT_2);
        /* An orphan does not wait forever (Linux tcp_fin_timeout). */
        if (tcb->orphan)
            ust_timer_set(&tcb->sk.stack->timers, &tcb->tw_timer,
                          tcb->sk.stack->now + tcb->sk.stack->cfg.tcp_timewait_ns);
        ust_tcp_wake(tcb, POLLOUT);
        return STEP_CONTINUE;
    case UST_TCP_CLOSING:
        ust_tcp_enter_time_wait(tcb);
        return STEP_DROP;
    case UST_TCP_LAST_ACK:
        ust_tcp_done(tcb);
        return STEP_GONE;
    default:
        return STEP_CONTINUE;
    }
}

static enum step check_ack(struct ust_tcb *tcb, struct seg *s)
{
    if (!has(s, UST_TCP_ACK))
        return STEP_DROP;
    if (tcb->state == UST_TCP_SYN_RECEIVED) {
        enum step st = ack_in_syn_received(tcb, s);
        if (st != STEP_CONTINUE)
            return st;
    }
    uint32_t ack = s->th.ack;
    /* RFC 5961 5.2: acceptable range SND.UNA - MAX.SND.WND .. SND.NXT. */
    if (ust_seq_gt(ack, tcb->snd_max)) {
        send_oow_ack(tcb, s, UST_STAT_TCP_TCPACKSkippedSeq);
        return STEP_DROP;
    }
    if (ust_seq_lt(ack, tcb->snd_una - tcb->max_snd_wnd)) {
        challenge_ack(tcb);
        return STEP_DROP;
    }
    uint32_t old_wnd = tcb->snd_wnd;
    tcb->probes_out = 0;        /* the peer is alive */
    ust_tcp_sack_update(tcb, &s->th.opts);
    if (ust_seq_gt(ack, tcb->snd_una))
        advance_una(tcb, s, ack);
    else if (ack == tcb->snd_una && s->len == 0 && !has(s, UST_TCP_FIN) &&
             tcb->snd_una != tcb->snd_max && ((uint32_t)s->th.win << tcb->snd_wscale) == old_wnd)
        duplicate_ack(tcb);
    update_window(tcb, s);
    /* RFC 6675 5: also enter recovery once IsLost(HighACK + 1) (or the
     * tail loss probe shows a loss, tcp_sack.c). */
    if (tcb->sack_ok && !tcb->in_recovery && ust_tcp_sack_loss_detected(tcb) &&
        ust_seq_ge(tcb->snd_una, tcb->recover) && tcb->snd_una != tcb->snd_max)
        enter_recovery(tcb);
    bool fin_sent = tcb->shut_wr && ust_seq_gt(tcb->snd_max, ust_tcp_snd_end(tcb));
    if (fin_sent && tcb->snd_una == ust_tcp_snd_end(tcb) + 1)
        return fin_acked(tcb);
    return STEP_CONTINUE;
}

/* Out-of-order data waits, sorted by sequence, bounded by the window. */
static void ooo_insert(struct ust_tcb *tcb, struct seg *s)
{
    struct ust_stack *stack = tcb->sk.stack;
    /* Bounded twice: the payload by the receive buffer, and the buffers
     * holding it by twice that (Linux charges truesize against a doubled
     * SO_RCVBUF), so tiny segments cannot pin a buffer each. */
    if (tcb->ooo_bytes + s->len + ust_ring_used(&tcb->rcv) > tcb->rcv.cap ||
        tcb->ooo_truesize + ust_fbuf_truesize(s->fb) > 2 * (size_t)tcb->rcv.cap ||
        tcb->ooo.count >= 1024) {
        UST_INC(stack, TCP, TCPOFODrop);
        return;
    }
    struct ust_fbuf *fb = s->fb;
    s->fb = NULL;
    fb->cb.raw[0] = s->seq;
    tcb->last_ooo_seq = s->seq;
    fb->next = NULL;
    struct ust_fbuf **pp = &tcb->ooo.head, *prev = NULL;
    while (*pp && ust_seq_le((uint32_t)(*pp)->cb.raw[0], s->seq)) {
        prev = *pp;
        pp = &(*pp)->next;
    }
    fb->next = *pp;
    *pp = fb;
    if (!fb->next)
        tcb->ooo.tail = fb;
    (void)prev;
    tcb->ooo.count++;
    tcb->ooo.bytes += fb->len;
    tcb->ooo_bytes += fb->len;
    tcb->ooo_truesize += ust_fbuf_truesize(fb);
    UST_INC(stack, TCP, TCPOFOQueue);
}

/* Segments the hole-filling data reached move to the ring. */
static void ooo_merge(struct ust_tcb *tcb)
{
    struct ust_fbuf *fb;
    while ((fb = tcb->ooo.head) && ust_seq_le((uint32_t)fb->cb.raw[0], tcb->rcv_nxt)) {
        ust_fbq_pop(&tcb->ooo);
        tcb->ooo_bytes -= fb->len;
        tcb->ooo_truesize -= ust_fbuf_truesize(fb);
        uint32_t seq = (uint32_t)fb->cb.raw[0], end = seq + fb->len;
        if (ust_seq_gt(end, tcb->rcv_nxt)) {
            uint32_t off = tcb->rcv_nxt - seq;
            tcb->rcv_nxt += (uint32_t)ust_tcp_ring_write(tcb, &tcb->rcv, fb->data + off,
                                                         fb->len - off);
        }
        ust_fbuf_free(tcb->sk.stack, fb);
    }
}

static bool may_receive_data(enum ust_tcp_conn_state s)
{
    return s == UST_TCP_ESTABLISHED || s == UST_TCP_FIN_WAIT_1 || s == UST_TCP_FIN_WAIT_2;
}

/* RFC 9293 3.10.7.4 "sixth, check the URG bit" (Linux tcp_check_urg): in
 * the states that take data, RCV.UP advances to the segment's pointer and
 * the user is told. RFC 6093 / Linux: the pointer names the byte after the
 * urgent one, so the urgent byte is SEG.SEQ + SEG.UP - 1. An old or
 * repeated pointer is ignored. Without SO_OOBINLINE an earlier urgent byte
 * the reader has not reached yet is dropped from the stream now, as Linux. */
static void urg_pointer(struct ust_tcb *tcb, const struct seg *s)
{
    uint32_t ptr = s->seq + s->th.urg - (s->th.urg ? 1u : 0u);
    uint32_t head = tcb->rcv_nxt - (uint32_t)ust_ring_used(&tcb->rcv);
    if (ust_seq_gt(head, ptr) || ust_seq_lt(ptr, tcb->rcv_nxt))
        return;
    if (tcb->urg_state != UST_TCP_URG_NONE && !ust_seq_gt(ptr, tcb->rcv_up))
        return;
    if (tcb->urg_state != UST_TCP_URG_NONE && tcb->rcv_up == head && !tcb->sk.oobinline &&
        ust_ring_used(&tcb->rcv) > 0)
        ust_ring_discard(&tcb->rcv, 1);
    tcb->urg_state = UST_TCP_URG_PENDING;
    tcb->rcv_up = ptr;
    ust_tcp_wake(tcb, POLLPRI);
}

static enum step check_urg(struct ust_tcb *tcb, struct seg *s)
{
    if (!may_receive_data(tcb->state))
        return STEP_CONTINUE;
    if (has(s, UST_TCP_URG))
        urg_pointer(tcb, s);
    /* Linux tcp_urg: the urgent byte is in this segment (maybe a later one
     * than the pointer's): POLLPRI waiters learn it is coming. */
    if (tcb->urg_state == UST_TCP_URG_PENDING && ust_seq_le(s->seq, tcb->rcv_up) &&
        ust_seq_lt(tcb->rcv_up, s->seq + s->len))
        ust_tcp_wake(tcb, POLLPRI);
    return STEP_CONTINUE;
}

static enum step process_data(struct ust_tcb *tcb, struct seg *s)
{
    if (s->len == 0 || !may_receive_data(tcb->state))
        return STEP_CONTINUE;
    /* New data for a receive side shut for good: a closed descriptor, or
     * shutdown(SHUT_RD) once our FIN is out. Nobody will read it, so the
     * peer must learn its data is lost: RST and abort (RFC 1122 4.2.2.13,
     * RFC 2525 2.17; Linux tcp_rcv_state_process, TCPAbortOnData). */
    bool rd_closed = tcb->shut_rd && (tcb->state == UST_TCP_FIN_WAIT_1 ||
                                      tcb->state == UST_TCP_FIN_WAIT_2);
    if (tcb->orphan || rd_closed) {
        UST_INC(tcb->sk.stack, TCP, TCPAbortOnData);
        ust_tcp_send_rst_conn(tcb);
        if (!tcb->orphan)
            tcb->sk.err = ECONNRESET;   /* Linux tcp_reset */
        tcb->reset = true;
        ust_tcp_done(tcb);
        return STEP_GONE;
    }
    if (s->seq != tcb->rcv_nxt) {
        ooo_insert(tcb, s);
        ust_tcp_schedule_ack(tcb, s->len, true);    /* RFC 5681 4.2: duplicate ACK at once */
        return STEP_CONTINUE;
    }
    bool had_ooo = tcb->ooo.head != NULL;
    size_t n = ust_tcp_ring_write(tcb, &tcb->rcv, s->fb->data, s->len);
    if (n == 0 && !tcb->rcv.buf)
        UST_INC(tcb->sk.stack, TCP, TCPRcvQDrop);   /* no memory for the ring (tcp_mem.c) */
    tcb->rcv_nxt += (uint32_t)n;
    if (n < s->len)
        s->th.flags &= (uint8_t)~UST_TCP_FIN;   /* not all in: the FIN waits too */
    ooo_merge(tcb);
    ust_tcp_wake(tcb, POLLIN | POLLRDNORM);
    ust_tcp_schedule_ack(tcb, s->len, had_ooo);
    return STEP_CONTINUE;
}

static enum step check_fin(struct ust_tcb *tcb, struct seg *s)
{
    if (!has(s, UST_TCP_FIN) || s->seq + s->len != tcb->rcv_nxt)
        return STEP_CONTINUE;
    if (tcb->state == UST_TCP_CLOSE_WAIT || tcb->state == UST_TCP_CLOSING ||
        tcb->state == UST_TCP_LAST_ACK) {
        return STEP_CONTINUE;   /* a retransmitted FIN: already counted */
    }
    tcb->rcv_nxt++;
    tcb->fin_rcvd = true;
    tcb->ack_now = true;
    switch (tcb->state) {
    case UST_TCP_SYN_RECEIVED:
    case UST_TCP_ESTABLISHED:
        ust_tcp_set_state(tcb, UST_TCP_CLOSE_WAIT);
        break;
    case UST_TCP_FIN_WAIT_1:    /* our FIN not yet acknowledged: simultaneous close */
        ust_tcp_set_state(tcb, UST_TCP_CLOSING);
        break;
    case UST_TCP_FIN_WAIT_2:
        ust_tcp_send_ack(tcb);
        ust_tcp_enter_time_wait(tcb);
        break;
    case UST_TCP_TIME_WAIT:
        ust_tcp_enter_time_wait(tcb);   /* restart the 2 MSL timeout */
        break;
    default:
        break;
    }
    ust_tcp_wake(tcb, POLLIN | POLLRDNORM | POLLRDHUP);
    return STEP_CONTINUE;
}

static void sync_input(struct ust_tcb *tcb, struct seg *s)
{
    uint32_t last_ack_sent = tcb->last_ack_sent;
    tcb->last_rcv = tcb->sk.stack->now;
    tcb->ka_probes = 0;         /* any segment shows the peer alive */
    enum step st = check_paws(tcb, s);
    if (st == STEP_CONTINUE)
        st = check_sequence(tcb, s);
    if (st == STEP_CONTINUE)
        st = check_rst(tcb, s);
    if (st == STEP_CONTINUE)
        st = check_syn(tcb, s);
    if (st == STEP_CONTINUE) {
        update_ts_recent(tcb, s, last_ack_sent);
        st = check_ack(tcb, s);
    }
    if (st == STEP_CONTINUE)
        st = check_urg(tcb, s);
    if (st == STEP_CONTINUE)
        st = process_data(tcb, s);
    if (st == STEP_CONTINUE)
        st = check_fin(tcb, s);
    if (st != STEP_GONE && tcb->state != UST_TCP_CLOSED)
        ust_tcp_output(tcb);
}

/* ---- Demultiplexing -------------------------------------------------------- */

static void input_drop(struct ust_stack *stack, struct ust_fbuf *fb, bool csum)
{
    if (csum)
        UST_INC(stack, TCP, InCsumErrors);
    UST_INC(stack, TCP, InErrs);
    ust_fbuf_free(stack, fb);
}

/* RFC 6191 (as Linux tcp_timewait_state_process): a SYN ends a TIME-WAIT
 * and opens a new connection when both incarnations use timestamps and its
 * TSval is above TS.Recent; otherwise (no timestamps, or an equal TSval)
 * when its sequence number is above RCV.NXT. A SYN with an older TSval
 * fails PAWS and never reuses: sync_input answers it with the TIME-WAIT
 * ACK, as it answers any other refused SYN. */
static bool time_wait_reuse(struct ust_tcb *tcb, const struct seg *s)
{
    if (tcb->state != UST_TCP_TIME_WAIT || !has(s, UST_TCP_SYN) || has(s, UST_TCP_ACK) ||
        has(s, UST_TCP_RST))
        return false;
    if (tcb->ts_ok && (s->th.opts.present & UST_TCPO_TIMESTAMP)) {
        if (ust_seq_lt(s->th.opts.tsval, tcb->ts_recent))
            return false;
        if (ust_seq_gt(s->th.opts.tsval, tcb->ts_recent))
            return true;
    }
    return ust_seq_gt(s->seq, tcb->rcv_nxt);
}

void ust_tcp_input(struct ust_stack *stack, struct ust_fbuf *fb, const struct ust_ipv4_hdr *ih)
{
    struct seg s = { .saddr = ih->src, .daddr = ih->dst, .fb = fb };
    UST_INC(stack, TCP, InSegs);
    int hl = ust_tcp_parse(fb->data, fb->len, &s.th);
    if (hl < 0) {
        input_drop(stack, fb, false);
        return;
    }
    if (!(fb->flags & UST_FB_CSUM_VERIFIED) && !ust_tcp_csum_ok(fb->data, fb->len, ih->src, ih->dst)) {
        input_drop(stack, fb, true);
        return;
    }
    /* RFC 1122 4.2.3.10: never for broadcast or multicast destinations. */
    if (ust_net_is_bcast(stack, ih->dst) || ust_ipv4_is_multicast(ih->dst)) {
        ust_fbuf_free(stack, fb);
        return;
    }
    ust_fbuf_pull(fb, (size_t)hl);
    s.seq = s.th.seq;
    s.len = fb->len;

    struct ust_tcb *tcb = ust_tcp_lookup(stack, ih->dst, s.th.dport, ih->src, s.th.sport);
    if (tcb && time_wait_reuse(tcb, &s)) {
        ust_tcp_done(tcb);
        tcb = NULL;
    }
    if (tcb)
        ust_tcp_trace_seg(tcb, UST_TRACE_SEG_IN, &s.th, s.len, false);
    if (!tcb) {
        struct ust_tcb *l = ust_tcp_lookup_listener(stack, ih->dst, s.th.dport);
        if (l)
            l = ust_tcp_reuseport_select(l, ih->src, s.th.sport);
        if (l) {
            ust_tcp_trace_syn_in(l, ih->src, ih->dst, &s.th, s.len);
            listen_input(l, &s);
        } else {
            ust_tcp_send_rst_reply(stack, ih->src, ih->dst, &s.th, seg_len(&s));
        }
    } else if (tcb->state == UST_TCP_SYN_SENT) {
        syn_sent_input(tcb, &s);
    } else {
        sync_input(tcb, &s);
    }
    if (s.fb)
        ust_fbuf_free(stack, s.fb);
}

/* ---- ICMP errors (RFC 5927, RFC 1122 4.2.3.9) ------------------------------ */

/* "Fragmentation needed": a smaller path MTU (RFC 1191) lowers the MSS and
 * resends what is outstanding at that size. */
static void icmp_frag_needed(struct ust_tcb *tcb, uint32_t mtu)
{
    if (mtu < 68 || mtu >= tcb->rcv_mss + 40u)
        return;
    uint32_t mss = mtu - UST_IPV4_MIN_HLEN - UST_TCP_MIN_HLEN - (tcb->ts_ok ? 12u : 0u);
    if (mss < 64 || mss >= tcb->mss)
        return;
    tcb->mss = (uint16_t)mss;
    if (tcb->snd_una != tcb->snd_max)
        ust_tcp_retransmit_one(tcb, tcb->snd_una);
}

void ust_tcp_icmp_error(struct ust_stack *stack, const struct ust_ipv4_hdr *inner,
                        const uint8_t *l4, size_t l4_len, int err, uint32_t mtu)
{
    if (l4_len < 8)
        return;
    uint16_t sport = ust_get_be16(l4), dport = ust_get_be16(l4 + 2);
    uint32_t seq = ust_get_be32(l4 + 4);
    struct ust_tcb *tcb = ust_tcp_lookup(stack, inner->src, sport, inner->dst, dport);
    if (!tcb || tcb->state == UST_TCP_LISTEN)
        return;
    /* RFC 5927 4.1: only for a segment in flight. */
    if (ust_seq_lt(seq, tcb->snd_una) || ust_seq_ge(seq, tcb->snd_max))
        return;
    if (err == EMSGSIZE) {
        icmp_frag_needed(tcb, mtu);
        return;
    }
    if (tcb->state == UST_TCP_SYN_SENT) {
        /* Linux tcp_v4_err: a hard error while connecting. */
        UST_INC(stack, TCP, AttemptFails);
        tcb->sk.err = err;
        tcb->reset = true;
        ust_tcp_done(tcb);
        return;
    }
    tcb->soft_err = err;
}
