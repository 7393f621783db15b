/* The event trace: what the stack does, step by step, as the textbook tells
 * it. Socket calls entering and leaving, TCP state changes, every segment
 * sent and received (flags, seq/ack, window, options, length), timers set and
 * fired, connections moving from the SYN queue to the accept queue, bytes
 * copied into the send buffer and out of the receive buffer, congestion
 * events, and pipe and message-queue traffic.
 *
 *     static void show(void *arg, const struct ust_trace_event *ev)
 *     {
 *         char line[256];
 *         ust_trace_format(ev, line, sizeof(line));
 *         puts(line);
 *     }
 *     ust_trace_set(stack, UST_TRACE_ALL, show, NULL);
 *
 * Off by default, and then it costs one predictable branch per trace point.
 * The callback runs inside the stack, with its lock held, at the moment the
 * event happens: it must not call ustack (copy what it needs and return).
 * Pointers in an event are valid only during the call. */
#ifndef USTACK_TRACE_H
#define USTACK_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ust_stack;

/* What happened; one bit each in the mask given to ust_trace_set. */
enum ust_trace_kind {
    UST_TRACE_CALL = 0,     /* a socket/IPC call entered (u.call.enter) or returned */
    UST_TRACE_STATE,        /* a TCP connection changed state */
    UST_TRACE_SEG_OUT,      /* a TCP segment was sent */
    UST_TRACE_SEG_IN,       /* a TCP segment arrived (before it is processed) */
    UST_TRACE_TIMER,        /* a TCP timer was set, fired or stopped */
    UST_TRACE_QUEUE,        /* a connection moved between listen queues */
    UST_TRACE_BUF,          /* bytes went into a send buffer or out of a receive buffer */
    UST_TRACE_CC,           /* congestion control: cwnd/ssthresh change, recovery, RTO */
    UST_TRACE_IPC,          /* a pipe write/read, a queue send/receive */
    UST_TRACE__KINDS
};

#define UST_TRACE_BIT(kind) (1u << (kind))
#define UST_TRACE_ALL ((1u << UST_TRACE__KINDS) - 1u)

enum ust_trace_timer {
    UST_TIMER_RTO, UST_TIMER_PERSIST, UST_TIMER_DELACK, UST_TIMER_KEEPALIVE,
    UST_TIMER_TIME_WAIT,
    UST_TIMER_LOSS_PROBE,   /* tail loss probe (RFC 8985 7): before the RTO */
};
enum ust_trace_timer_op { UST_TIMER_SET, UST_TIMER_FIRE, UST_TIMER_STOP };

enum ust_trace_queue_op {
    UST_QUEUE_SYN_ADD,      /* a SYN made a half-open child (SYN queue) */
    UST_QUEUE_COOKIE,       /* the SYN queue was full: answered with a SYN cookie */
    UST_QUEUE_ACCEPT_ADD,   /* the handshake completed: child on the accept queue */
    UST_QUEUE_ACCEPTED,     /* accept() took it */
    UST_QUEUE_DROP,         /* a SYN or a completed child dropped (queue full) */
};

enum ust_trace_cc_op {
    UST_CC_ACK,             /* cwnd grew on an ACK (slow start or avoidance) */
    UST_CC_FAST_RETRANSMIT, /* enter fast retransmit / recovery */
    UST_CC_RECOVERY_END,    /* left fast recovery */
    UST_CC_RTO,             /* retransmission timeout: cwnd to the loss window */
};

enum ust_trace_buf_op {
    UST_BUF_SEND,           /* bytes copied into the send buffer (send/write) */
    UST_BUF_RECV,           /* bytes copied out of the receive buffer (recv/read) */
    UST_BUF_ACKED,          /* bytes acknowledged and freed from the send buffer */
};

enum ust_trace_ipc_op { UST_IPC_WRITE, UST_IPC_READ };

/* TCP header flags as on the wire (RFC 9293 3.1). */
#define UST_TCP_FLAG_FIN 0x01
#define UST_TCP_FLAG_SYN 0x02
#define UST_TCP_FLAG_RST 0x04
#define UST_TCP_FLAG_PSH 0x08
#define UST_TCP_FLAG_ACK 0x10
#define UST_TCP_FLAG_URG 0x20

struct ust_trace_event {
    enum ust_trace_kind kind;
    uint64_t time_ns;               /* the stack's clock */
    /* The connection (host byte order); zeros when not about one. */
    uint32_t laddr, raddr;
    uint16_t lport, rport;
    union {
        struct {
            const char *name;       /* "socket", "connect", "send", "mq_send"... */
            int fd;                 /* the descriptor, or -1 */
            bool enter;             /* true on entry, false on return */
            long ret;               /* on return: the result */
            int err;                /* on return with ret -1: errno */
        } call;
        struct {
            const char *from, *to;  /* RFC 9293 names: "SYN-SENT", "ESTABLISHED"... */
        } state;
        struct {
            uint32_t seq, ack;      /* absolute sequence numbers */
            uint32_t iss, irs;      /* the connection's initial numbers (0 before known),
                                     * to print relative numbers like Wireshark */
            uint32_t wnd;           /* window field, unscaled as on the wire */
            uint32_t len;           /* payload bytes */
            uint8_t flags;          /* UST_TCP_FLAG_* */
            bool retransmit;        /* SEG_OUT: data sent before */
            /* Options present (0 = absent). */
            uint16_t mss;
            int8_t wscale;          /* -1 = absent */
            bool sack_permitted, has_ts;
            uint32_t tsval, tsecr;
            uint8_t nsack;          /* SACK blocks, [start, end) */
            uint32_t sack[4][2];
        } seg;
        struct {
            enum ust_trace_timer timer;
            enum ust_trace_timer_op op;
            uint64_t delay_ns;      /* UST_TIMER_SET: fires after this long */
        } timer;
        struct {
            enum ust_trace_queue_op op;
            uint32_t syn_q, accept_q, backlog;   /* the listener's queues, after */
        } queue;
        struct {
            enum ust_trace_buf_op op;
            uint32_t bytes;         /* copied or freed now */
            uint32_t used, size;    /* the buffer's fill and capacity, after */
        } buf;
        struct {
            enum ust_trace_cc_op op;
            uint32_t cwnd, ssthresh;    /* bytes, after (ssthresh UINT32_MAX = infinite) */
            uint32_t flight;            /* bytes in flight */
        } cc;
        struct {
            enum ust_trace_ipc_op op;
            const char *object;     /* "pipe", "fifo", "mq", "msg" */
            int fd;
            uint32_t bytes;
            long prio_or_type;      /* mq priority or SysV mtype; 0 for pipes */
            uint32_t queued;        /* bytes (pipe) or messages (queues) waiting, after */
        } ipc;
    } u;
};

typedef void (*ust_trace_fn)(void *arg, const struct ust_trace_event *ev);

/* Delivers the events whose kind bit is in mask (UST_TRACE_BIT(k) ORed, or
 * UST_TRACE_ALL) to fn; mask 0 or fn NULL turns tracing off. Returns 0. */
int ust_trace_set(struct ust_stack *stack, uint32_t mask, ust_trace_fn fn, void *arg);

/* One line of text for an event, e.g.
 *   "10.0.0.1:49152 > 10.0.0.2:80 [S] seq 0 win 65535 <mss 1460,sackOK,TS,wscale 7>"
 * Returns the length it would have had (snprintf). */
int ust_trace_format(const struct ust_trace_event *ev, char *buf, size_t len);

/* The name of a kind ("call", "state", "seg-out", ...). */
const char *ust_trace_kind_name(enum ust_trace_kind kind);

#endif
