/* ustack demo, part 2: one TCP connection between the two simulated hosts,
 * told from the stacks' event trace (include/ustack/trace.h). Host A is the
 * client (socket, connect, send, close), host B the server (socket, bind,
 * listen, accept, recv, close). Each line has A's side on the left, B's on
 * the right, and the segments crossing the link in the middle: the
 * handshake with its options, the SYN and accept queues, bytes going into
 * the send buffer and out of the receive buffer, a segment the link loses
 * and its retransmission, the four-way close and TIME-WAIT. A long transfer
 * is condensed after its first segments (--all shows every one). */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include <ustack/diag.h>

#include "demo.h"
#include "narrate.h"

#define TCP_PORT 5001
#define BACKLOG 8
#define FULL_SEGMENTS 8         /* data segments told one by one before condensing */
#define STEP_NS (100 * 1000ull) /* the applications look at their sockets every 0.1 ms */
#define GIVE_UP_NS (600 * 1000 * NS_PER_MS)   /* the transfer must end within 10 min */
#define CHUNK (64 * 1024)       /* bytes per send() call */



struct app {
    int fd;
    uint64_t done;              /* bytes sent (A) or received (B) */
    bool eof, closed;
};

struct tcp_demo {
    struct demo *d;
    struct nr_event *q;              /* events not told yet */
    size_t qn, qcap;
    long last_out[2];           /* index in q of the latest SEG_OUT per host, or -1 */
    uint64_t lost_seen[2];
    bool condensed;
    unsigned data_told;         /* A's data segments told one by one */
    uint32_t condense_after;    /* condense once B acknowledges this (relative) */
    bool closing;               /* B acknowledged A's FIN: tell everything again */
    bool condense_switch;       /* tell that condensing starts, after this event */
    uint32_t sack_ack;          /* the ACK of the latest SACK told, and how many told */
    unsigned sack_repeats;
    unsigned delack_told;
    unsigned long hidden;       /* events condensed away since the last line */
    /* What the summary tells. */
    unsigned long seg_out[2], rexmits, lost_frames[2];
    struct narrator nr;         /* the window scales each host announced */
    uint32_t mss;
    /* The two applications. */
    struct app a, b;
    int lfd;
    uint8_t *pattern;           /* what A sends */
    bool data_ok;
    uint64_t t_connect, t_eof;
    uint32_t srtt_us, rtt_min_us, rttvar_us, total_retrans;
    uint64_t last_rtt_sample;
};

/* ---- Collecting events (the trace callback runs inside the stack) ---- */

/* A frame the link dropped is counted when it is sent; the SEG_OUT event
 * came just before, so a new loss belongs to the latest SEG_OUT. */
static void resolve_losses(struct tcp_demo *t)
{
    for (int dir = 0; dir < 2; dir++) {
        struct ust_link_stats ls;
        ust_sim_link_stats(t->d->link, dir, &ls);
        if (ls.lost > t->lost_seen[dir] && t->last_out[dir] >= 0)
            t->q[t->last_out[dir]].lost = true;
        t->lost_frames[dir] += ls.lost - t->lost_seen[dir];
        t->lost_seen[dir] = ls.lost;
    }
}

struct sink {
    struct tcp_demo *t;
    int host;
};

static void on_event(void *arg, const struct ust_trace_event *ev)
{
    struct sink *s = arg;
    struct tcp_demo *t = s->t;
    resolve_losses(t);
    if (t->qn == t->qcap) {
        size_t cap = t->qcap ? 2 * t->qcap : 256;
        struct nr_event *q = realloc(t->q, cap * sizeof(*q));
        if (!q)
            return;             /* the story misses a line; the transfer goes on */
        t->q = q;
        t->qcap = cap;
    }
    struct nr_event *e = &t->q[t->qn];
    e->host = s->host;
    e->ev = *ev;
    e->lost = false;
    if (ev->kind == UST_TRACE_SEG_OUT)
        t->last_out[s->host] = (long)t->qn;
    t->qn++;
}

/* Whether an event is worth a line while the transfer is condensed. */
static bool notable(const struct nr_event *e)
{
    const struct ust_trace_event *ev = &e->ev;
    switch (ev->kind) {
    case UST_TRACE_SEG_OUT:
        return e->lost || ev->u.seg.retransmit || ev->u.seg.nsack || ev->u.seg.wnd == 0 ||
               (ev->u.seg.flags & (UST_TCP_FLAG_SYN | UST_TCP_FLAG_FIN | UST_TCP_FLAG_RST));
    case UST_TRACE_STATE:
    case UST_TRACE_QUEUE:
        return true;
    case UST_TRACE_TIMER:
        return ev->u.timer.op == UST_TIMER_FIRE && ev->u.timer.timer != UST_TIMER_DELACK;
    case UST_TRACE_CC:
        return ev->u.cc.op != UST_CC_ACK;
    default:
        return false;
    }
}

/* Whether an event gets a line at all (condensed or not). */
static bool told(const struct nr_event *e)
{
    const struct ust_trace_event *ev = &e->ev;
    switch (ev->kind) {
    case UST_TRACE_SEG_IN:
    case UST_TRACE_CALL:
    case UST_TRACE_IPC:
        return false;
    case UST_TRACE_BUF:
        return ev->u.buf.op != UST_BUF_ACKED;
    case UST_TRACE_TIMER:
        return ev->u.timer.op == UST_TIMER_FIRE ||
               (ev->u.timer.op == UST_TIMER_SET && ev->u.timer.timer == UST_TIMER_TIME_WAIT);
    case UST_TRACE_CC:
        return ev->u.cc.op != UST_CC_ACK;
    default:
        return true;
    }
}

/* What the plots need from one event (A is the sender). */
static void plot_event(struct tcp_demo *t, const struct nr_event *e)
{
    struct plot *p = t->d->plot;
    const struct ust_trace_event *ev = &e->ev;
    if (ev->kind == UST_TRACE_SEG_OUT && e->host == 1 && (ev->u.seg.flags & UST_TCP_FLAG_SYN))
        t->nr.wscale[1] = ev->u.seg.wscale;
    if (ev->kind == UST_TRACE_SEG_OUT && e->host == 0 && (ev->u.seg.flags & UST_TCP_FLAG_SYN) &&
        ev->u.seg.mss)
        t->mss = ev->u.seg.mss;
    if (!p || e->host != 0)
        return;
    if (ev->kind == UST_TRACE_SEG_OUT && ev->u.seg.len) {
        uint32_t s = ev->u.seg.seq - ev->u.seg.iss;
        plot_data(p, ev->time_ns, s, s + ev->u.seg.len, ev->u.seg.retransmit, e->lost);
    } else if (ev->kind == UST_TRACE_SEG_IN && (ev->u.seg.flags & UST_TCP_FLAG_ACK) &&
               !(ev->u.seg.flags & UST_TCP_FLAG_SYN)) {
        /* On A, the peer's ACK numbers count A's bytes: relative to A's ISS. */
        uint32_t base = ev->u.seg.iss, ack = ev->u.seg.ack - base;
        uint32_t wnd = (uint32_t)ev->u.seg.wnd << (t->nr.wscale[1] > 0 ? t->nr.wscale[1] : 0);
        uint32_t sack[4][2];
        for (unsigned i = 0; i < ev->u.seg.nsack; i++) {
            sack[i][0] = ev->u.seg.sack[i][0] - base;
            sack[i][1] = ev->u.seg.sack[i][1] - base;
        }
        plot_ack(p, ev->time_ns, ack, ack + wnd, (const uint32_t(*)[2])sack, ev->u.seg.nsack);
    } else if (ev->kind == UST_TRACE_CC) {
        plot_cc(p, ev->time_ns, ev->u.cc.cwnd, ev->u.cc.ssthresh, t->mss ? t->mss : 1448);
    }
}

/* Condensing starts once B acknowledged A's first FULL_SEGMENTS data
 * segments, and stops once B acknowledged A's FIN (the close is told in
 * full). --all never condenses. */
static void update_condensing(struct tcp_demo *t, const struct nr_event *e)
{
    const struct ust_trace_event *ev = &e->ev;
    if (ev->kind != UST_TRACE_SEG_OUT || t->d->opts->all)
        return;
    uint32_t seq = ev->u.seg.seq - ev->u.seg.iss, ack = ev->u.seg.ack - ev->u.seg.irs;
    if (e->host == 0 && ev->u.seg.len && !ev->u.seg.retransmit && ++t->data_told == FULL_SEGMENTS)
        t->condense_after = seq + ev->u.seg.len;
    if (e->host == 1 && (ev->u.seg.flags & UST_TCP_FLAG_ACK)) {
        if (!t->closing && t->condense_after && !t->condensed && ack >= t->condense_after &&
            ack < t->d->opts->bytes + 1) {
            t->condensed = true;
            t->condense_switch = true;
        }
        if (ack >= t->d->opts->bytes + 2) {     /* A's FIN is acknowledged */
            t->closing = true;
            t->condensed = false;
        }
    }
}

/* Of a run of SACKs for the same hole, the first three tell the story. */
static bool sack_worth_telling(struct tcp_demo *t, const struct nr_event *e)
{
    uint32_t ack = e->ev.u.seg.ack;
    if (ack != t->sack_ack) {
        t->sack_ack = ack;
        t->sack_repeats = 0;
    }
    return ++t->sack_repeats <= 3;
}

/* Tells (or condenses) every event collected so far. */
static void flush(struct tcp_demo *t)
{
    resolve_losses(t);
    for (size_t i = 0; i < t->qn; i++) {
        const struct nr_event *e = &t->q[i];
        plot_event(t, e);
        if (e->ev.kind == UST_TRACE_SEG_OUT)
            t->seg_out[e->host]++;
        if (e->ev.kind == UST_TRACE_SEG_OUT && e->host == 0 && e->ev.u.seg.retransmit)
            t->rexmits++;
        if (e->ev.kind == UST_TRACE_TIMER && e->ev.u.timer.op == UST_TIMER_SET &&
            e->ev.u.timer.timer == UST_TIMER_DELACK && t->delack_told < 2 && !t->condensed) {
            t->delack_told++;
            nr_tell(&t->nr, e);
            continue;
        }
        if (!told(e))
            continue;
        update_condensing(t, e);
        if (t->condense_switch) {
            t->condense_switch = false;
            nr_tell(&t->nr, e);
            nr_row(e->ev.time_ns, NULL, DP_PLAIN,
                "(the first segments are acknowledged: from here on, only losses, "
                "retransmissions and SACKs, until the close)", DP_NOTE, NULL, DP_PLAIN);
            continue;
        }
        if (t->condensed && !notable(e)) {
            t->hidden++;
            continue;
        }
        if (t->condensed && e->ev.kind == UST_TRACE_SEG_OUT && e->ev.u.seg.nsack && !e->lost &&
            !sack_worth_telling(t, e)) {
            t->hidden++;
            continue;
        }
        if (t->hidden) {
            char note[96];
            snprintf(note, sizeof(note), "... %lu events not shown ...", t->hidden);
            nr_row(e->ev.time_ns, NULL, DP_PLAIN, note, DP_NOTE, NULL, DP_PLAIN);
            t->hidden = 0;
        }
        nr_tell(&t->nr, e);
    }
    t->qn = 0;
    t->last_out[0] = t->last_out[1] = -1;
}

/* ---- The two applications ---- */

static uint64_t now(const struct tcp_demo *t)
{
    return ust_sim_now(t->d->sim);
}

static const char *err_name(int e)
{
    switch (e) {
    case EAGAIN: return "EAGAIN";
    case EINPROGRESS: return "EINPROGRESS";
    default: return strerror(e);
    }
}

/* A socket call on host h: its line, after what the call made happen. */
__attribute__((format(printf, 4, 5)))
static void call(struct tcp_demo *t, int host, long ret, const char *fmt, ...)
{
    int err = errno;
    char what[160], line[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    if (ret < 0)
        snprintf(line, sizeof(line), "%s = -1 %s", what, err_name(err));
    else
        snprintf(line, sizeof(line), "%s = %ld", what, ret);
    nr_side(host, now(t), DP_CALL, line);
    flush(t);
    errno = err;
}

static int server_listen(struct tcp_demo *t)
{
    struct ust_stack *b = t->d->host[1].stack;
    t->lfd = ust_socket(b, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    call(t, 1, t->lfd, "socket(AF_INET, SOCK_STREAM)");
    struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(TCP_PORT),
                               .sin_addr = t->d->host[1].addr };
    int r = ust_bind(b, t->lfd, (struct sockaddr *)&sin, sizeof(sin));
    call(t, 1, r, "bind(%d, 10.0.0.2:%d)", t->lfd, TCP_PORT);
    if (r == 0) {
        r = ust_listen(b, t->lfd, BACKLOG);
        call(t, 1, r, "listen(%d, backlog %d)", t->lfd, BACKLOG);
    }
    return t->lfd < 0 || r < 0 ? -1 : 0;
}

static int client_connect(struct tcp_demo *t)
{
    struct ust_stack *a = t->d->host[0].stack;
    t->a.fd = ust_socket(a, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    call(t, 0, t->a.fd, "socket(AF_INET, SOCK_STREAM)");
    if (t->a.fd < 0)
        return -1;
    struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(TCP_PORT),
                               .sin_addr = t->d->host[1].addr };
    t->t_connect = now(t);
    if (t->d->plot)
        plot_origin(t->d->plot, t->t_connect);
    int r = ust_connect(a, t->a.fd, (struct sockaddr *)&sin, sizeof(sin));
    call(t, 0, r, "connect(%d, 10.0.0.2:%d)", t->a.fd, TCP_PORT);
    if (r < 0 && errno != EINPROGRESS)
        return -1;
    return 0;
}

/* A's RTT, RTO and retransmissions, from the stack's socket diagnostics
 * (which still see the connection after close(), while it finishes). */
static void sample_rtt(struct tcp_demo *t)
{
    if (now(t) - t->last_rtt_sample < NS_PER_MS)
        return;
    struct ust_tcp_diag dg[4];
    ssize_t n = ust_tcp_diag(t->d->host[0].stack, dg, 4);
    for (ssize_t i = 0; i < n && i < 4; i++) {
        const struct tcp_info *ti = &dg[i].info;
        if (ti->tcpi_state == TCP_LISTEN || ti->tcpi_rtt == 0 ||
            ntohs(dg[i].remote.sin_port) != TCP_PORT)
            continue;
        t->last_rtt_sample = now(t);
        t->srtt_us = ti->tcpi_rtt;
        t->rttvar_us = ti->tcpi_rttvar;
        t->total_retrans = ti->tcpi_total_retrans;
        if (!t->rtt_min_us || ti->tcpi_rtt < t->rtt_min_us)
            t->rtt_min_us = ti->tcpi_rtt;
        if (t->d->plot)
            plot_rtt(t->d->plot, now(t), ti->tcpi_rtt, ti->tcpi_rto);
    }
}

/* Host A: once connected, send everything, then close. */
static void client_step(struct tcp_demo *t)
{
    struct ust_stack *a = t->d->host[0].stack;
    uint64_t total = t->d->opts->bytes;
    if (t->a.closed)
        return;
    struct pollfd p = { .fd = t->a.fd, .events = POLLOUT };
    if (ust_poll(a, &p, 1, 0) <= 0 || !(p.revents & POLLOUT))
        return;
    while (t->a.done < total) {
        size_t n = total - t->a.done < CHUNK ? (size_t)(total - t->a.done) : CHUNK;
        ssize_t r = ust_send(a, t->a.fd, t->pattern + t->a.done, n, 0);
        if (!t->condensed) {
            call(t, 0, r, "send(%d, %zu bytes)", t->a.fd, n);
            if (r < 0 && errno == EAGAIN)
                nr_side(0, now(t), DP_NOTE, "(send buffer full: a blocking send would wait here)");
        }
        if (r <= 0)
            return;
        t->a.done += (uint64_t)r;
    }
    sample_rtt(t);
    t->a.closed = true;
    int r = ust_close(a, t->a.fd);
    call(t, 0, r, "close(%d): FIN after the data", t->a.fd);
}

static void server_read(struct tcp_demo *t)
{
    struct ust_stack *b = t->d->host[1].stack;
    static uint8_t buf[CHUNK];
    for (;;) {
        ssize_t r = ust_recv(b, t->b.fd, buf, sizeof(buf), 0);
        if (r < 0 && errno == EAGAIN)
            return;
        if (!t->condensed || r <= 0)
            call(t, 1, r, "recv(%d)%s", t->b.fd, r == 0 ? ": end of stream (A's FIN)" : "");
        if (r <= 0) {
            t->b.eof = true;
            t->t_eof = now(t);
            int c = ust_close(b, t->b.fd);
            call(t, 1, c, "close(%d): B's FIN", t->b.fd);
            t->b.closed = true;
            return;
        }
        if (t->b.done + (uint64_t)r > t->d->opts->bytes ||
            memcmp(buf, t->pattern + t->b.done, (size_t)r) != 0)
            t->data_ok = false;
        t->b.done += (uint64_t)r;
        if (t->condensed) {
            char label[48];
            snprintf(label, sizeof(label), "%" PRIu64 " of %lu bytes", t->b.done,
                     t->d->opts->bytes);
            dp_progress((double)t->b.done / (double)t->d->opts->bytes, label);
        }
    }
}

/* Host B: accept, then read until the end of the stream, then close. */
static void server_step(struct tcp_demo *t)
{
    struct ust_stack *b = t->d->host[1].stack;
    if (t->b.closed)
        return;
    if (t->b.fd < 0) {
        struct sockaddr_in peer;
        socklen_t plen = sizeof(peer);
        int fd = ust_accept4(b, t->lfd, (struct sockaddr *)&peer, &plen, SOCK_NONBLOCK);
        if (fd < 0)
            return;
        t->b.fd = fd;
        call(t, 1, fd, "accept(%d): from 10.0.0.1:%u", t->lfd, ntohs(peer.sin_port));
        int r = ust_close(b, t->lfd);
        call(t, 1, r, "close(%d): no more clients", t->lfd);
    }
    server_read(t);
}

/* ---- The part ---- */

static void intro(const struct demo *d)
{
    const struct demo_opts *o = d->opts;
    dp(DP_TITLE, "\nPart 2. A TCP connection (RFC 9293): B listens on port %d, A connects and "
                 "sends %lu bytes, then both close.\n", TCP_PORT, o->bytes);
    char rate[32] = "no rate limit";
    if (o->rate_mbps > 0)
        snprintf(rate, sizeof(rate), "%g Mbit/s", o->rate_mbps);
    dp(DP_NOTE, "The link: %lu ms each way (RTT %lu ms), %g%% of frames lost each way, %s.\n"
                "Left: host A (client, 10.0.0.1). Right: host B (server, 10.0.0.2). Middle: "
                "segments on the wire\n(sequence numbers relative to the sender's ISN). Every "
                "line comes from the stacks' event trace.\n\n",
       o->delay_ms, 2 * o->delay_ms, o->loss * 100, rate);
    char hdr[160];
    snprintf(hdr, sizeof(hdr), "%-*s %-*s%-*s%-*s\n", NR_W_TIME, "time", NR_W_SIDE, "A: client",
             NR_W_WIRE, "wire", NR_W_SIDE, "B: server");
    dp(DP_TITLE, "%s", hdr);
}

static void summary(struct tcp_demo *t)
{
    const struct demo_opts *o = t->d->opts;
    double secs = (double)(t->t_eof - t->t_connect) / 1e9;
    dp(DP_SUMMARY, "\nTCP summary: %" PRIu64 " of %lu bytes arrived, %s, in %.3f s of virtual "
                   "time (connect to EOF): %.2f Mbit/s\n",
       t->b.done, o->bytes, t->data_ok && t->b.done == o->bytes ? "in order and intact"
                                                                : "NOT intact",
       secs, secs > 0 ? (double)t->b.done * 8 / secs / 1e6 : 0.0);
    dp(DP_SUMMARY, "  segments sent: A %lu, B %lu; the link lost %lu from A and %lu from B;"
                   " A retransmitted %lu\n",
       t->seg_out[0], t->seg_out[1], t->lost_frames[0], t->lost_frames[1], t->rexmits);
    dp(DP_SUMMARY, "  A's round-trip time: smoothed %.1f ms (rttvar %.1f ms), lowest %.1f ms; "
                   "the link's own RTT is %lu ms\n",
       t->srtt_us / 1000.0, t->rttvar_us / 1000.0, t->rtt_min_us / 1000.0, 2 * o->delay_ms);
}

static int run(struct tcp_demo *t)
{
    if (server_listen(t) < 0 || client_connect(t) < 0)
        return -1;
    uint64_t give_up = now(t) + GIVE_UP_NS;
    while (!t->b.closed && now(t) < give_up) {
        ust_sim_run_until(t->d->sim, now(t) + STEP_NS);
        flush(t);
        server_step(t);
        client_step(t);
        sample_rtt(t);
    }
    if (!t->b.closed) {
        dp(DP_SUMMARY, "the transfer did not finish within %llu s of virtual time\n",
           (unsigned long long)(GIVE_UP_NS / 1000000000ull));
        return -1;
    }
    /* TIME-WAIT: A, which closed first, waits 2 MSL (RFC 9293 3.6.1). */
    ust_sim_run_until(t->d->sim, now(t) + 61000 * NS_PER_MS);
    flush(t);
    return 0;
}

int demo_tcp(struct demo *d)
{
    struct tcp_demo t;
    memset(&t, 0, sizeof(t));
    t.d = d;
    t.a.fd = t.b.fd = t.lfd = -1;
    t.last_out[0] = t.last_out[1] = -1;
    t.data_ok = true;
    t.nr.wscale[0] = t.nr.wscale[1] = -1;
    for (int dir = 0; dir < 2; dir++) {
        struct ust_link_stats ls;
        ust_sim_link_stats(d->link, dir, &ls);
        t.lost_seen[dir] = ls.lost;
    }
    t.pattern = malloc(d->opts->bytes ? d->opts->bytes : 1);
    if (!t.pattern) {
        fprintf(stderr, "ustack demo: out of memory\n");
        return -1;
    }
    for (uint64_t i = 0; i < d->opts->bytes; i++)
        t.pattern[i] = (uint8_t)("ustack demo. "[i % 13]);
    struct sink sa = { &t, 0 }, sb = { &t, 1 };
    ust_trace_set(d->host[0].stack, UST_TRACE_ALL, on_event, &sa);
    ust_trace_set(d->host[1].stack, UST_TRACE_ALL, on_event, &sb);
    intro(d);
    int r = run(&t);
    ust_trace_set(d->host[0].stack, 0, NULL, NULL);
    ust_trace_set(d->host[1].stack, 0, NULL, NULL);
    dp_progress_end();
    if (r == 0)
        summary(&t);
    free(t.pattern);
    free(t.q);
    return r == 0 && t.data_ok && t.b.done == d->opts->bytes ? 0 : -1;
}
