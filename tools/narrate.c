/* The side-by-side narrative that `ustack demo` (demo_tcp.c) and `ustack
 * trace` (trace.c) print: time | host A | the wire | host B. Segments cross
 * the middle as arrows (A's go right, B's left; a lost one stops with an X),
 * everything a host does is on its side. Events are the stack's trace
 * events (include/ustack/trace.h). */
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>

#include "narrate.h"

/* ---- Rows: time | A | wire | B ---- */

static double ms(uint64_t ns)
{
    return (double)ns / NS_PER_MS;
}

/* Prints s padded (or cut) to w columns. */
static void cell(enum dp_class c, const char *s, int w)
{
    int len = (int)strlen(s);
    if (len > w)
        len = w;
    dp(c, "%.*s%*s", len, s, w - len, "");
}

/* One row; any of the texts may be NULL. A text longer than its column
 * continues on the following rows. */
void nr_row(uint64_t t_ns, const char *a, enum dp_class ca, const char *wire,
                enum dp_class cw, const char *b, enum dp_class cb)
{
    const char *p[3] = { a ? a : "", wire ? wire : "", b ? b : "" };
    /* A's text may run on into an empty wire column; B's column is the
     * last one and never wraps. */
    const int w[3] = { wire ? NR_W_SIDE : NR_W_SIDE + NR_W_WIRE, wire ? NR_W_WIRE : 0, 200 };
    const enum dp_class c[3] = { ca, cw, cb };
    bool first = true;
    while (first || *p[0] || *p[1] || *p[2]) {
        char tbuf[32];
        if (first)
            snprintf(tbuf, sizeof(tbuf), "%9.3f ms", ms(t_ns));   /* NR_W_TIME - 1 */
        else
            tbuf[0] = '\0';
        cell(DP_TIME, tbuf, NR_W_TIME);
        dp(DP_PLAIN, " ");
        int last = *p[2] ? 2 : *p[1] ? 1 : 0;   /* no padding after the last text */
        for (int i = 0; i <= last; i++) {
            if (w[i] == 0)
                continue;
            int len = (int)strlen(p[i]);
            int take = len;
            if (len > w[i] - 1) {   /* break at the last space that fits */
                take = w[i] - 1;
                while (take > 0 && p[i][take] != ' ')
                    take--;
                if (take == 0)
                    take = w[i] - 1;
            }
            char part[256];
            snprintf(part, sizeof(part), "%.*s", take, p[i]);
            cell(c[i], part, i == last ? take : w[i]);
            p[i] += take;
            while (*p[i] == ' ')
                p[i]++;
        }
        dp(DP_PLAIN, "\n");
        first = false;
    }
}

/* A line on one host's side. */
void nr_side(int host, uint64_t t_ns, enum dp_class c, const char *text)
{
    if (host == 0)
        nr_row(t_ns, text, c, NULL, DP_PLAIN, NULL, DP_PLAIN);
    else
        nr_row(t_ns, NULL, DP_PLAIN, NULL, DP_PLAIN, text, c);
}

void nr_sidef(int host, uint64_t t_ns, enum dp_class c, const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    nr_side(host, t_ns, c, buf);
}

/* ---- Telling one event ---- */

static void flags_str(uint8_t f, char *buf, size_t len)
{
    snprintf(buf, len, "%s%s%s%s", f & UST_TCP_FLAG_SYN ? "SYN," : "",
             f & UST_TCP_FLAG_FIN ? "FIN," : "", f & UST_TCP_FLAG_RST ? "RST," : "",
             f & UST_TCP_FLAG_ACK ? "ACK," : "");
    size_t n = strlen(buf);
    if (n)
        buf[n - 1] = '\0';
}

void nr_size_str(uint64_t n, char *buf, size_t len)
{
    if (n >= 10 * 1024)
        snprintf(buf, len, "%" PRIu64 "K", n / 1024);
    else
        snprintf(buf, len, "%" PRIu64, n);
}

/* The arrow for a segment: A's go right, B's go left; a lost one stops in
 * the middle of the wire. */
static void tell_segment(const struct narrator *nr, const struct nr_event *e)
{
    const struct ust_trace_event *ev = &e->ev;
    uint32_t seq = ev->u.seg.seq - ev->u.seg.iss, ack = ev->u.seg.ack - ev->u.seg.irs;
    char fl[24], label[160], win[24];
    flags_str(ev->u.seg.flags, fl, sizeof(fl));
    nr_size_str(ev->u.seg.flags & UST_TCP_FLAG_SYN
                 ? ev->u.seg.wnd
                 : (uint64_t)ev->u.seg.wnd << (nr->wscale[e->host] > 0 ? nr->wscale[e->host] : 0),
             win, sizeof(win));
    int n;
    if (ev->u.seg.len)
        n = snprintf(label, sizeof(label), "%u:%u%s", seq, seq + ev->u.seg.len,
                     ev->u.seg.flags & UST_TCP_FLAG_FIN ? " FIN" : "");
    else if (ev->u.seg.flags & (UST_TCP_FLAG_SYN | UST_TCP_FLAG_FIN | UST_TCP_FLAG_RST))
        n = snprintf(label, sizeof(label), "%s seq %u%s", fl, seq,
                     ev->u.seg.flags & UST_TCP_FLAG_ACK ? "" : "");
    else
        n = snprintf(label, sizeof(label), "ACK");
    if ((ev->u.seg.flags & UST_TCP_FLAG_ACK) && !ev->u.seg.len)
        n += snprintf(label + n, sizeof(label) - (size_t)n, " %s%u",
                      ev->u.seg.flags & (UST_TCP_FLAG_SYN | UST_TCP_FLAG_FIN) ? "ack " : "", ack);
    if ((ev->u.seg.flags & UST_TCP_FLAG_SYN) || (!ev->u.seg.len && !ev->u.seg.nsack))
        n += snprintf(label + n, sizeof(label) - (size_t)n, " win %s", win);
    for (unsigned i = 0; i < ev->u.seg.nsack; i++)
        n += snprintf(label + n, sizeof(label) - (size_t)n, "%s%u:%u", i ? "," : " SACK ",
                      ev->u.seg.sack[i][0] - ev->u.seg.irs, ev->u.seg.sack[i][1] - ev->u.seg.irs);
    char wire[256];
    enum dp_class c = e->host == 0 ? DP_SEG_AB : DP_SEG_BA;
    if (ev->u.seg.retransmit)
        c = DP_REXMIT;
    if (e->lost) {
        c = DP_LOST;
        if (e->host == 0)
            snprintf(wire, sizeof(wire), "-%s%s ---X lost", ev->u.seg.retransmit ? " again:" : "",
                     label);
        else
            snprintf(wire, sizeof(wire), "lost X--- %s", label);
    } else if (e->host == 0) {
        snprintf(wire, sizeof(wire), "-%s %s-->", ev->u.seg.retransmit ? " again:" : "", label);
    } else {
        snprintf(wire, sizeof(wire), "<-- %s%s-", ev->u.seg.retransmit ? "again: " : "", label);
    }
    /* Pad the arrow's shaft to the column. */
    size_t len = strlen(wire);
    if (!e->lost && len < NR_W_WIRE - 1) {
        char padded[NR_W_WIRE + 1];
        size_t fill = NR_W_WIRE - 1 - len;
        if (e->host == 0) {
            size_t keep = len - 3;  /* up to the "-->" */
            memcpy(padded, wire, keep);
            memset(padded + keep, '-', fill);
            memcpy(padded + keep + fill, "-->", 4);
        } else {
            memcpy(padded, "<--", 3);
            memset(padded + 3, '-', fill);
            memcpy(padded + 3 + fill, wire + 3, len - 3 + 1);
        }
        snprintf(wire, sizeof(wire), "%s", padded);
    }
    nr_row(ev->time_ns, NULL, DP_PLAIN, wire, c, NULL, DP_PLAIN);
    if (ev->u.seg.flags & UST_TCP_FLAG_SYN) {
        char opts[96];
        snprintf(opts, sizeof(opts), "  <mss %u%s%s, wscale %d>", ev->u.seg.mss,
                 ev->u.seg.sack_permitted ? ", SACK ok" : "", ev->u.seg.has_ts ? ", TS" : "",
                 ev->u.seg.wscale);
        nr_row(ev->time_ns, NULL, DP_PLAIN, opts, DP_NOTE, NULL, DP_PLAIN);
    }
}

static void tell_queue(const struct nr_event *e)
{
    const struct ust_trace_event *ev = &e->ev;
    switch (ev->u.queue.op) {
    case UST_QUEUE_SYN_ADD:
        nr_sidef(e->host, ev->time_ns, DP_QUEUE, "SYN queue: %u half-open (SYN-ACK sent)",
              ev->u.queue.syn_q);
        break;
    case UST_QUEUE_COOKIE:
        nr_sidef(e->host, ev->time_ns, DP_QUEUE, "SYN queue full: answer with a SYN cookie");
        break;
    case UST_QUEUE_ACCEPT_ADD:
        nr_sidef(e->host, ev->time_ns, DP_QUEUE, "handshake done: accept queue %u/%u",
              ev->u.queue.accept_q, ev->u.queue.backlog);
        break;
    case UST_QUEUE_ACCEPTED:
        nr_sidef(e->host, ev->time_ns, DP_QUEUE, "accept queue %u/%u (taken by accept)",
              ev->u.queue.accept_q, ev->u.queue.backlog);
        break;
    case UST_QUEUE_DROP:
        nr_sidef(e->host, ev->time_ns, DP_QUEUE, "queue full: SYN dropped");
        break;
    }
}

static void tell_cc(const struct nr_event *e)
{
    const struct ust_trace_event *ev = &e->ev;
    char cw[24], ss[24];
    nr_size_str(ev->u.cc.cwnd, cw, sizeof(cw));
    if (ev->u.cc.ssthresh == UINT32_MAX)
        snprintf(ss, sizeof(ss), "infinite");
    else
        nr_size_str(ev->u.cc.ssthresh, ss, sizeof(ss));
    switch (ev->u.cc.op) {
    case UST_CC_FAST_RETRANSMIT:
        nr_sidef(e->host, ev->time_ns, DP_CC, "loss detected: fast retransmit, ssthresh %s", ss);
        break;
    case UST_CC_RECOVERY_END:
        nr_sidef(e->host, ev->time_ns, DP_CC, "loss repaired: recovery ends, cwnd %s", cw);
        break;
    case UST_CC_RTO:
        nr_sidef(e->host, ev->time_ns, DP_CC, "timeout: cwnd %s, ssthresh %s, go back to SND.UNA",
              cw, ss);
        break;
    case UST_CC_ACK:
        break;
    }
}

static const char *timer_name(enum ust_trace_timer timer)
{
    switch (timer) {
    case UST_TIMER_RTO: return "retransmission timer (RTO)";
    case UST_TIMER_PERSIST: return "persist timer";
    case UST_TIMER_DELACK: return "delayed-ACK timer";
    case UST_TIMER_KEEPALIVE: return "keepalive timer";
    case UST_TIMER_TIME_WAIT: return "TIME-WAIT timer";
    case UST_TIMER_LOSS_PROBE: return "tail loss probe timer";
    }
    return "timer";
}

void nr_tell(const struct narrator *nr, const struct nr_event *e)
{
    const struct ust_trace_event *ev = &e->ev;
    switch (ev->kind) {
    case UST_TRACE_SEG_OUT:
        tell_segment(nr, e);
        break;
    case UST_TRACE_STATE:
        nr_sidef(e->host, ev->time_ns, DP_STATE, "%s -> %s", ev->u.state.from, ev->u.state.to);
        break;
    case UST_TRACE_QUEUE:
        tell_queue(e);
        break;
    case UST_TRACE_BUF: {
        char b[24], u[24];
        nr_size_str(ev->u.buf.bytes, b, sizeof(b));
        nr_size_str(ev->u.buf.used, u, sizeof(u));
        if (ev->u.buf.op == UST_BUF_SEND)
            nr_sidef(e->host, ev->time_ns, DP_BUF, "send buffer +%s bytes (%s queued)", b, u);
        else
            nr_sidef(e->host, ev->time_ns, DP_BUF, "receive buffer -%s bytes (%s left)", b, u);
        break;
    }
    case UST_TRACE_TIMER:
        if (ev->u.timer.op == UST_TIMER_SET)
            nr_sidef(e->host, ev->time_ns, DP_TIMER, "%s set: %.0f ms",
                  timer_name(ev->u.timer.timer), ms(ev->u.timer.delay_ns));
        else
            nr_sidef(e->host, ev->time_ns, DP_TIMER, "%s fires", timer_name(ev->u.timer.timer));
        break;
    case UST_TRACE_CC:
        tell_cc(e);
        break;
    default:
        break;
    }
}

