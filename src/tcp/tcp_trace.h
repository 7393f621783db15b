/* TCP's trace points (include/ustack/trace.h). Each ust_tcp_trace_* is a
 * one-branch inline test; the event is built out of line, only when someone
 * listens. Owner: tcp/. */
#ifndef UST_TCP_TCP_TRACE_H
#define UST_TCP_TCP_TRACE_H

#include <stdbool.h>
#include <stdint.h>

#include "stack/trace.h"
#include "tcp/tcp.h"

struct ust_tcp_hdr;

void ust_tcp_trace_state_(struct ust_tcb *tcb, enum ust_tcp_conn_state from,
                          enum ust_tcp_conn_state to);
void ust_tcp_trace_seg_(struct ust_tcb *tcb, enum ust_trace_kind kind,
                        const struct ust_tcp_hdr *th, uint32_t len, bool rexmit);
void ust_tcp_trace_syn_in_(struct ust_tcb *listener, uint32_t saddr, uint32_t daddr,
                           const struct ust_tcp_hdr *th, uint32_t len);
void ust_tcp_trace_timer_(struct ust_tcb *tcb, enum ust_trace_timer t,
                          enum ust_trace_timer_op op, uint64_t delay_ns);
void ust_tcp_trace_queue_(struct ust_tcb *listener, struct ust_tcb *child,
                          enum ust_trace_queue_op op);
void ust_tcp_trace_buf_(struct ust_tcb *tcb, enum ust_trace_buf_op op, uint32_t bytes);
void ust_tcp_trace_cc_(struct ust_tcb *tcb, enum ust_trace_cc_op op);

static inline void ust_tcp_trace_state(struct ust_tcb *tcb, enum ust_tcp_conn_state from,
                                       enum ust_tcp_conn_state to)
{
    if (ust_tracing(tcb->sk.stack, UST_TRACE_STATE) && from != to)
        ust_tcp_trace_state_(tcb, from, to);
}

/* kind: UST_TRACE_SEG_OUT or UST_TRACE_SEG_IN; len: payload bytes. */
static inline void ust_tcp_trace_seg(struct ust_tcb *tcb, enum ust_trace_kind kind,
                                     const struct ust_tcp_hdr *th, uint32_t len, bool rexmit)
{
    if (ust_tracing(tcb->sk.stack, kind))
        ust_tcp_trace_seg_(tcb, kind, th, len, rexmit);
}

/* A segment arriving at a listener (a SYN, or the ACK of a SYN cookie):
 * the connection's addresses come from the IP header. */
static inline void ust_tcp_trace_syn_in(struct ust_tcb *listener, uint32_t saddr, uint32_t daddr,
                                        const struct ust_tcp_hdr *th, uint32_t len)
{
    if (ust_tracing(listener->sk.stack, UST_TRACE_SEG_IN))
        ust_tcp_trace_syn_in_(listener, saddr, daddr, th, len);
}

static inline void ust_tcp_trace_timer(struct ust_tcb *tcb, enum ust_trace_timer t,
                                       enum ust_trace_timer_op op, uint64_t delay_ns)
{
    if (ust_tracing(tcb->sk.stack, UST_TRACE_TIMER))
        ust_tcp_trace_timer_(tcb, t, op, delay_ns);
}

/* child may be NULL (a SYN cookie or a dropped SYN has none). */
static inline void ust_tcp_trace_queue(struct ust_tcb *listener, struct ust_tcb *child,
                                       enum ust_trace_queue_op op)
{
    if (ust_tracing(listener->sk.stack, UST_TRACE_QUEUE))
        ust_tcp_trace_queue_(listener, child, op);
}

static inline void ust_tcp_trace_buf(struct ust_tcb *tcb, enum ust_trace_buf_op op,
                                     uint32_t bytes)
{
    if (ust_tracing(tcb->sk.stack, UST_TRACE_BUF) && bytes)
        ust_tcp_trace_buf_(tcb, op, bytes);
}

static inline void ust_tcp_trace_cc(struct ust_tcb *tcb, enum ust_trace_cc_op op)
{
    if (ust_tracing(tcb->sk.stack, UST_TRACE_CC))
        ust_tcp_trace_cc_(tcb, op);
}

#endif
