/* The event trace (include/ustack/trace.h): subscription, emission, and the
 * one-line text form shared by `ustack demo`, tests and embedders. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "stack/trace.h"
#include "runtime/runtime.h"
#include "wire/wire.h"

int ust_trace_set(struct ust_stack *stack, uint32_t mask, ust_trace_fn fn, void *arg)
{
    ust_rt_lock(stack);
    stack->trace.fn = fn;
    stack->trace.arg = arg;
    stack->trace.mask = fn ? (mask & UST_TRACE_ALL) : 0;
    ust_rt_unlock(stack);
    return 0;
}

void ust_trace_emit(struct ust_stack *stack, struct ust_trace_event *ev)
{
    ev->time_ns = stack->now;
    /* The subscriber may turn tracing off from the callback. */
    ust_trace_fn fn = stack->trace.fn;
    if (fn)
        fn(stack->trace.arg, ev);
}

void ust_trace_call_enter(struct ust_stack *stack, const char *name, int fd)
{
    if (!ust_tracing(stack, UST_TRACE_CALL))
        return;
    struct ust_trace_event ev = { .kind = UST_TRACE_CALL };
    ev.u.call.name = name;
    ev.u.call.fd = fd;
    ev.u.call.enter = true;
    ust_trace_emit(stack, &ev);
}

void ust_trace_call_exit(struct ust_stack *stack, const char *name, int fd, long ret, int err)
{
    if (!ust_tracing(stack, UST_TRACE_CALL))
        return;
    struct ust_trace_event ev = { .kind = UST_TRACE_CALL };
    ev.u.call.name = name;
    ev.u.call.fd = fd;
    ev.u.call.ret = ret;
    ev.u.call.err = ret == -1 ? err : 0;
    ust_trace_emit(stack, &ev);
}

void ust_trace_ipc_(struct ust_stack *stack, enum ust_trace_ipc_op op, const char *object,
                    int id, size_t bytes, long prio_or_type, size_t queued)
{
    struct ust_trace_event ev = { .kind = UST_TRACE_IPC };
    ev.u.ipc.op = op;
    ev.u.ipc.object = object;
    ev.u.ipc.fd = id;
    ev.u.ipc.bytes = (uint32_t)bytes;
    ev.u.ipc.prio_or_type = prio_or_type;
    ev.u.ipc.queued = (uint32_t)queued;
    ust_trace_emit(stack, &ev);
}

const char *ust_trace_kind_name(enum ust_trace_kind kind)
{
    static const char *const names[UST_TRACE__KINDS] = {
        [UST_TRACE_CALL] = "call",     [UST_TRACE_STATE] = "state",
        [UST_TRACE_SEG_OUT] = "seg-out", [UST_TRACE_SEG_IN] = "seg-in",
        [UST_TRACE_TIMER] = "timer",   [UST_TRACE_QUEUE] = "queue",
        [UST_TRACE_BUF] = "buf",       [UST_TRACE_CC] = "cc",
        [UST_TRACE_IPC] = "ipc",
    };
    return (unsigned)kind < UST_TRACE__KINDS ? names[kind] : "?";
}

/* ---- text ---- */

struct out {
    char *buf;
    size_t len, n;      /* n: what the whole text needs */
};

__attribute__((format(printf, 2, 3)))
static void put(struct out *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t room = o->n < o->len ? o->len - o->n : 0;
    int r = vsnprintf(room ? o->buf + o->n : NULL, room, fmt, ap);
    va_end(ap);
    if (r > 0)
        o->n += (size_t)r;
}

static void put_flags(struct out *o, uint8_t f)
{
    static const struct { uint8_t bit; char c; } tab[] = {
        { UST_TCP_FLAG_SYN, 'S' }, { UST_TCP_FLAG_FIN, 'F' }, { UST_TCP_FLAG_RST, 'R' },
        { UST_TCP_FLAG_PSH, 'P' }, { UST_TCP_FLAG_URG, 'U' }, { UST_TCP_FLAG_ACK, '.' },
    };
    put(o, "[");
    for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
        if (f & tab[i].bit)
            put(o, "%c", tab[i].c);
    put(o, "]");
}

/* tcpdump's style: relative sequence numbers once the ISNs are known. */
static void put_seg(struct out *o, const struct ust_trace_event *ev)
{
    bool out = ev->kind == UST_TRACE_SEG_OUT;
    uint32_t seq_base = out ? ev->u.seg.iss : ev->u.seg.irs;
    uint32_t ack_base = out ? ev->u.seg.irs : ev->u.seg.iss;
    char a[16], b[16];
    if (out)
        put(o, "%s:%u > %s:%u ", ust_ipv4_ntoa(ev->laddr, a), ev->lport,
            ust_ipv4_ntoa(ev->raddr, b), ev->rport);
    else
        put(o, "%s:%u > %s:%u ", ust_ipv4_ntoa(ev->raddr, a), ev->rport,
            ust_ipv4_ntoa(ev->laddr, b), ev->lport);
    put_flags(o, ev->u.seg.flags);
    uint32_t seq = ev->u.seg.seq - seq_base;
    if (ev->u.seg.len)
        put(o, " seq %" PRIu32 ":%" PRIu32, seq, seq + ev->u.seg.len);
    else
        put(o, " seq %" PRIu32, seq);
    if (ev->u.seg.flags & UST_TCP_FLAG_ACK)
        put(o, " ack %" PRIu32, ev->u.seg.ack - ack_base);
    put(o, " win %" PRIu32, ev->u.seg.wnd);
    const char *sep = " <";
    if (ev->u.seg.mss) {
        put(o, "%smss %u", sep, ev->u.seg.mss);
        sep = ",";
    }
    if (ev->u.seg.sack_permitted) {
        put(o, "%ssackOK", sep);
        sep = ",";
    }
    if (ev->u.seg.has_ts) {
        put(o, "%sTS val %" PRIu32 " ecr %" PRIu32, sep, ev->u.seg.tsval, ev->u.seg.tsecr);
        sep = ",";
    }
    if (ev->u.seg.wscale >= 0) {
        put(o, "%swscale %d", sep, ev->u.seg.wscale);
        sep = ",";
    }
    for (unsigned i = 0; i < ev->u.seg.nsack && i < 4; i++) {
        put(o, "%s%s%" PRIu32 ":%" PRIu32, sep, i == 0 ? "sack " : "",
            ev->u.seg.sack[i][0] - ack_base, ev->u.seg.sack[i][1] - ack_base);
        sep = ",";
    }
    if (sep[0] == ',')
        put(o, ">");
    put(o, " length %" PRIu32 "%s", ev->u.seg.len, ev->u.seg.retransmit ? " (retransmission)" : "");
}

static const char *timer_name(enum ust_trace_timer t)
{
    static const char *const n[] = { "RTO", "persist", "delayed-ACK", "keepalive", "TIME-WAIT",
                                     "loss-probe" };
    return (unsigned)t < sizeof(n) / sizeof(n[0]) ? n[t] : "?";
}

static void put_conn(struct out *o, const struct ust_trace_event *ev)
{
    char a[16], b[16];
    if (ev->rport)
        put(o, "%s:%u-%s:%u ", ust_ipv4_ntoa(ev->laddr, a), ev->lport,
            ust_ipv4_ntoa(ev->raddr, b), ev->rport);
    else if (ev->lport)
        put(o, "%s:%u ", ust_ipv4_ntoa(ev->laddr, a), ev->lport);
}

static void put_rest(struct out *o, const struct ust_trace_event *ev)
{
    static const char *const qops[] = { "SYN queue +1", "SYN cookie sent",
                                        "handshake done: accept queue +1", "accepted",
                                        "dropped (queue full)" };
    static const char *const ccops[] = { "ack", "fast retransmit", "recovery done", "RTO" };
    static const char *const bops[] = { "into send buffer", "out of receive buffer",
                                        "acknowledged, freed" };
    switch (ev->kind) {
    case UST_TRACE_STATE:
        put(o, "%s -> %s", ev->u.state.from, ev->u.state.to);
        break;
    case UST_TRACE_TIMER:
        if (ev->u.timer.op == UST_TIMER_SET)
            put(o, "%s timer set (%" PRIu64 ".%03" PRIu64 " ms)", timer_name(ev->u.timer.timer),
                ev->u.timer.delay_ns / 1000000, ev->u.timer.delay_ns / 1000 % 1000);
        else
            put(o, "%s timer %s", timer_name(ev->u.timer.timer),
                ev->u.timer.op == UST_TIMER_FIRE ? "fired" : "stopped");
        break;
    case UST_TRACE_QUEUE:
        put(o, "%s (syn %u, accept %u/%u)",
            (unsigned)ev->u.queue.op < 5 ? qops[ev->u.queue.op] : "?", ev->u.queue.syn_q,
            ev->u.queue.accept_q, ev->u.queue.backlog);
        break;
    case UST_TRACE_BUF:
        put(o, "%u bytes %s (%u/%u used)", ev->u.buf.bytes,
            (unsigned)ev->u.buf.op < 3 ? bops[ev->u.buf.op] : "?", ev->u.buf.used, ev->u.buf.size);
        break;
    case UST_TRACE_CC:
        put(o, "%s: cwnd %u", (unsigned)ev->u.cc.op < 4 ? ccops[ev->u.cc.op] : "?", ev->u.cc.cwnd);
        if (ev->u.cc.ssthresh == UINT32_MAX)
            put(o, " ssthresh inf");
        else
            put(o, " ssthresh %u", ev->u.cc.ssthresh);
        put(o, " flight %u", ev->u.cc.flight);
        break;
    case UST_TRACE_IPC:
        put(o, "%s", ev->u.ipc.object);
        if (ev->u.ipc.fd >= 0)
            put(o, " %d", ev->u.ipc.fd);
        put(o, ": %s %u bytes", ev->u.ipc.op == UST_IPC_WRITE ? "wrote" : "read", ev->u.ipc.bytes);
        if (ev->u.ipc.prio_or_type)
            put(o, " (%s %ld)", strcmp(ev->u.ipc.object, "msg") == 0 ? "type" : "prio",
                ev->u.ipc.prio_or_type);
        put(o, ", %u queued", ev->u.ipc.queued);
        break;
    default:
        break;
    }
}

int ust_trace_format(const struct ust_trace_event *ev, char *buf, size_t len)
{
    struct out o = { .buf = buf, .len = len, .n = 0 };
    if (len)
        buf[0] = '\0';
    put(&o, "%" PRIu64 ".%06" PRIu64 " %-7s ", ev->time_ns / 1000000000u,
        ev->time_ns / 1000u % 1000000u, ust_trace_kind_name(ev->kind));
    switch (ev->kind) {
    case UST_TRACE_CALL:
        if (ev->u.call.enter)
            put(&o, "%s(%d) ...", ev->u.call.name, ev->u.call.fd);
        else if (ev->u.call.ret == -1)
            put(&o, "%s(%d) = -1 %s", ev->u.call.name, ev->u.call.fd, strerror(ev->u.call.err));
        else
            put(&o, "%s(%d) = %ld", ev->u.call.name, ev->u.call.fd, ev->u.call.ret);
        break;
    case UST_TRACE_SEG_OUT:
    case UST_TRACE_SEG_IN:
        put(&o, "%s ", ev->kind == UST_TRACE_SEG_OUT ? "out" : "in ");
        put_seg(&o, ev);
        break;
    default:
        put_conn(&o, ev);
        put_rest(&o, ev);
        break;
    }
    return (int)(o.n > INT32_MAX ? INT32_MAX : o.n);
}
