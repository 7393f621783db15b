/* TCP's trace events (tcp_trace.h): built only when someone listens. */
#include <string.h>

#include "tcp/tcp_trace.h"
#include "wire/wire.h"

static void conn(const struct ust_tcb *tcb, struct ust_trace_event *ev, enum ust_trace_kind k)
{
    memset(ev, 0, sizeof(*ev));
    ev->kind = k;
    ev->laddr = tcb->sk.laddr ? tcb->sk.laddr : tcb->sk.saddr;
    ev->lport = tcb->sk.lport;
    ev->raddr = tcb->sk.raddr;
    ev->rport = tcb->sk.rport;
}

void ust_tcp_trace_state_(struct ust_tcb *tcb, enum ust_tcp_conn_state from,
                          enum ust_tcp_conn_state to)
{
    struct ust_trace_event ev;
    conn(tcb, &ev, UST_TRACE_STATE);
    ev.u.state.from = ust_tcp_state_name(from);
    ev.u.state.to = ust_tcp_state_name(to);
    ust_trace_emit(tcb->sk.stack, &ev);
}

static void fill_seg(struct ust_tcb *tcb, struct ust_trace_event *ev,
                     const struct ust_tcp_hdr *th, uint32_t len, bool rexmit);

void ust_tcp_trace_seg_(struct ust_tcb *tcb, enum ust_trace_kind kind,
                        const struct ust_tcp_hdr *th, uint32_t len, bool rexmit)
{
    struct ust_trace_event ev;
    conn(tcb, &ev, kind);
    fill_seg(tcb, &ev, th, len, rexmit);
    ust_trace_emit(tcb->sk.stack, &ev);
}

void ust_tcp_trace_syn_in_(struct ust_tcb *l, uint32_t saddr, uint32_t daddr,
                           const struct ust_tcp_hdr *th, uint32_t len)
{
    struct ust_trace_event ev;
    conn(l, &ev, UST_TRACE_SEG_IN);
    ev.laddr = daddr;
    ev.raddr = saddr;
    ev.rport = th->sport;
    fill_seg(l, &ev, th, len, false);
    ev.u.seg.iss = th->ack ? th->ack - 1 : 0;   /* a cookie's ACK: relative to our ISN */
    ev.u.seg.irs = th->flags & UST_TCP_SYN ? th->seq : th->seq - 1;
    ust_trace_emit(l->sk.stack, &ev);
}

static void fill_seg(struct ust_tcb *tcb, struct ust_trace_event *ev,
                     const struct ust_tcp_hdr *th, uint32_t len, bool rexmit)
{
    ev->u.seg.seq = th->seq;
    ev->u.seg.ack = th->ack;
    ev->u.seg.iss = tcb->iss;
    ev->u.seg.irs = tcb->irs;
    if (tcb->state == UST_TCP_SYN_SENT || tcb->state == UST_TCP_LISTEN)
        /* IRS is not known yet: a SYN arriving now defines it. */
        ev->u.seg.irs = ev->kind == UST_TRACE_SEG_IN && (th->flags & UST_TCP_SYN) ? th->seq : 0;
    ev->u.seg.wnd = th->win;
    ev->u.seg.len = len;
    ev->u.seg.flags = th->flags;
    ev->u.seg.retransmit = rexmit;
    const struct ust_tcp_opts *o = &th->opts;
    ev->u.seg.mss = (o->present & UST_TCPO_MSS) ? o->mss : 0;
    ev->u.seg.wscale = (o->present & UST_TCPO_WSCALE) ? (int8_t)o->wscale : -1;
    ev->u.seg.sack_permitted = (o->present & UST_TCPO_SACK_PERM) != 0;
    ev->u.seg.has_ts = (o->present & UST_TCPO_TIMESTAMP) != 0;
    ev->u.seg.tsval = o->tsval;
    ev->u.seg.tsecr = o->tsecr;
    if (o->present & UST_TCPO_SACK) {
        ev->u.seg.nsack = o->nsack > 4 ? 4 : o->nsack;
        for (unsigned i = 0; i < ev->u.seg.nsack; i++) {
            ev->u.seg.sack[i][0] = o->sack[i].left;
            ev->u.seg.sack[i][1] = o->sack[i].right;
        }
    }
}

void ust_tcp_trace_timer_(struct ust_tcb *tcb, enum ust_trace_timer t,
                          enum ust_trace_timer_op op, uint64_t delay_ns)
{
    struct ust_trace_event ev;
    conn(tcb, &ev, UST_TRACE_TIMER);
    ev.u.timer.timer = t;
    ev.u.timer.op = op;
    ev.u.timer.delay_ns = delay_ns;
    ust_trace_emit(tcb->sk.stack, &ev);
}

void ust_tcp_trace_queue_(struct ust_tcb *l, struct ust_tcb *child, enum ust_trace_queue_op op)
{
    struct ust_trace_event ev;
    conn(child ? child : l, &ev, UST_TRACE_QUEUE);
    ev.u.queue.op = op;
    ev.u.queue.syn_q = l->syn_len;
    ev.u.queue.accept_q = l->acc_len;
    ev.u.queue.backlog = l->backlog;
    ust_trace_emit(l->sk.stack, &ev);
}

void ust_tcp_trace_buf_(struct ust_tcb *tcb, enum ust_trace_buf_op op, uint32_t bytes)
{
    struct ust_trace_event ev;
    conn(tcb, &ev, UST_TRACE_BUF);
    const struct ust_ring *r = op == UST_BUF_RECV ? &tcb->rcv : &tcb->snd;
    ev.u.buf.op = op;
    ev.u.buf.bytes = bytes;
    ev.u.buf.used = (uint32_t)ust_ring_used(r);
    ev.u.buf.size = (uint32_t)(r->cap ? r->cap : op == UST_BUF_RECV ? tcb->sk.rcvbuf
                                                                    : tcb->sk.sndbuf);
    ust_trace_emit(tcb->sk.stack, &ev);
}

void ust_tcp_trace_cc_(struct ust_tcb *tcb, enum ust_trace_cc_op op)
{
    struct ust_trace_event ev;
    conn(tcb, &ev, UST_TRACE_CC);
    ev.u.cc.op = op;
    ev.u.cc.cwnd = tcb->cwnd;
    ev.u.cc.ssthresh = tcb->ssthresh;
    ev.u.cc.flight = tcb->snd_max - tcb->snd_una;
    ust_trace_emit(tcb->sk.stack, &ev);
}
