/* TCP windows, Nagle and TCP_MAXSEG, asserted on the segments a simulated
 * link carries (every frame is parsed in a frame hook):
 *  - receiver SWS avoidance (RFC 9293 3.8.6.2.2, RFC 1122 4.2.3.3): with an
 *    application reading slowly, the advertised right edge RCV.NXT+RCV.WND
 *    moves only by at least min(RCV.BUFF/2, MSS);
 *  - the window never shrinks (RFC 9293 3.8.6.2.2, RFC 7323 2.4): the right
 *    edge never moves left, with window scaling and odd-sized segments and
 *    after SO_RCVBUF is reduced;
 *  - sender SWS avoidance (RFC 9293 3.8.6.2.1): while data is in flight, no
 *    segment smaller than the MSS goes out unless it carries the last
 *    queued byte;
 *  - Nagle (RFC 896) in Minshall's form, as Linux: a small segment waits
 *    while an earlier small one is unacknowledged (a full segment in flight
 *    does not hold it); TCP_NODELAY sends each small write at once, and
 *    setting it pushes what Nagle held;
 *  - TCP_MAXSEG: set before connect it lowers the MSS option of the SYN or
 *    SYN-ACK and the segment size both ways; getsockopt values and
 *    Linux's range (88..32767, or 0). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <linux/sockios.h>

#include <cmocka.h>

#include "unit/sim_test_util.h"
#include "unit/tcp_test_util.h"
#include "wire/wire.h"

/* ---- A trace of the TCP segments on the link ------------------------------ */

struct segrec {
    uint64_t t;                 /* delivery time */
    int dir;                    /* 0 = A->B, 1 = B->A */
    uint32_t seq, ack, len;
    uint16_t win;               /* raw field */
    uint8_t flags;
    uint16_t mss;               /* MSS option, 0 when absent */
};

#define TRACE_MAX 60000

struct trace {
    struct segrec r[TRACE_MAX];
    size_t n;
    bool overflow;
};

static void on_frame(void *arg, const struct ust_sim_link *link, int dir, uint64_t t,
                     const uint8_t *f, size_t len)
{
    struct trace *tr = arg;
    (void)link;
    struct ust_eth_hdr eh;
    struct ust_ipv4_hdr ih;
    struct ust_tcp_hdr th;
    if (ust_eth_parse(f, len, &eh) < 0 || eh.type != UST_ETHERTYPE_IPV4)
        return;
    f += UST_ETH_HLEN;
    len -= UST_ETH_HLEN;
    int ihl = ust_ipv4_parse(f, len, &ih);
    if (ihl < 0 || ih.proto != UST_IPPROTO_TCP)
        return;
    int thl = ust_tcp_parse(f + ihl, ih.total_len - (size_t)ihl, &th);
    if (thl < 0)
        return;
    if (tr->n == TRACE_MAX) {
        tr->overflow = true;
        return;
    }
    struct segrec *r = &tr->r[tr->n++];
    r->t = t;
    r->dir = dir;
    r->seq = th.seq;
    r->ack = th.ack;
    r->len = (uint32_t)(ih.total_len - ihl - thl);
    r->win = th.win;
    r->flags = th.flags;
    r->mss = (th.opts.present & UST_TCPO_MSS) ? th.opts.mss : 0;
}

static struct trace *trace_start(struct tnet *n)
{
    struct trace *tr = calloc(1, sizeof(*tr));
    assert_non_null(tr);
    ust_sim_set_frame_hook(n->sim, on_frame, tr);
    return tr;
}

static void trace_stop(struct tnet *n, struct trace *tr)
{
    ust_sim_set_frame_hook(n->sim, NULL, NULL);
    assert_false(tr->overflow);
    free(tr);
}

/* Data segments in direction dir since record `from`. */
static size_t data_segs(const struct trace *tr, size_t from, int dir)
{
    size_t k = 0;
    for (size_t i = from; i < tr->n; i++)
        k += tr->r[i].dir == dir && tr->r[i].len > 0;
    return k;
}

/* The len of the i-th (0-based) data segment in direction dir since from. */
static uint32_t data_seg_len(const struct trace *tr, size_t from, int dir, size_t i)
{
    for (size_t j = from; j < tr->n; j++)
        if (tr->r[j].dir == dir && tr->r[j].len > 0 && i-- == 0)
            return tr->r[j].len;
    return 0;
}

static struct tcp_info info(struct tnet *n, struct ust_stack *s, int fd)
{
    struct tcp_info ti;
    socklen_t tl = sizeof(ti);
    SIM_ASSERT_EQ(n->seed, ust_getsockopt(s, fd, IPPROTO_TCP, TCP_INFO, &ti, &tl), 0);
    return ti;
}

static int inq(struct ust_stack *s, int fd)
{
    int v = -1;
    assert_int_equal(ust_ioctl(s, fd, FIONREAD, &v), 0);
    return v;
}

/* A listener on B:port whose children get SO_RCVBUF rcvbuf (0 = default). */
static int listen_rcvbuf(struct tnet *n, uint16_t port, int rcvbuf)
{
    int fd = tsock(n, n->b);
    if (rcvbuf)
        SIM_ASSERT_EQ(n->seed, ust_setsockopt(n->b, fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
                                              sizeof(rcvbuf)), 0);
    struct sockaddr_in sb = tsin("10.0.0.2", port);
    SIM_ASSERT_EQ(n->seed, ust_bind(n->b, fd, (struct sockaddr *)&sb, sizeof(sb)), 0);
    SIM_ASSERT_EQ(n->seed, ust_listen(n->b, fd, 4), 0);
    return fd;
}

/* The right edges B advertised (dir 1, after its SYN-ACK): each move is
 * checked by `check`; returns how many times it moved right. */
static unsigned check_b_edges(struct tnet *n, const struct trace *tr, unsigned wscale,
                              uint32_t min_step)
{
    bool have = false;
    uint32_t prev = 0;
    unsigned moves = 0;
    for (size_t i = 0; i < tr->n; i++) {
        const struct segrec *r = &tr->r[i];
        if (r->dir != 1 || !(r->flags & UST_TCP_ACK) || (r->flags & UST_TCP_RST))
            continue;
        /* RFC 7323 2.2: the window of a SYN is never scaled. */
        uint32_t win = (r->flags & UST_TCP_SYN) ? r->win : (uint32_t)r->win << wscale;
        uint32_t edge = r->ack + win;
        if (have) {
            int32_t d = (int32_t)(edge - prev);
            if (d < 0)
                fail_msg("segment %zu (t=%" PRIu64 "us): right edge moved left by %d "
                         "(ack %u win %u) (seed=%" PRIu64 ")",
                         i, r->t / 1000, -d, r->ack, win, n->seed);
            if (d > 0 && (uint32_t)d < min_step)
                fail_msg("segment %zu (t=%" PRIu64 "us): right edge moved by %d < %u "
                         "(silly window) (seed=%" PRIu64 ")",
                         i, r->t / 1000, d, min_step, n->seed);
            moves += d > 0;
        }
        have = true;
        prev = edge;
    }
    return moves;
}

/* ---- Receiver: SWS avoidance and a window that never shrinks -------------- */

static void receiver_sws_right_edge_moves_by_at_least_min_half_buffer_mss(void **state)
{
    (void)state;
    struct tnet n;
    uint64_t seed = sim_test_seed(901);
    tnet_setup(&n, seed, NULL);
    int lfd = listen_rcvbuf(&n, 80, 2048), afd;
    struct trace *tr = trace_start(&n);
    int bfd = tconnect_pair(&n, lfd, 80, &afd);
    int rcvbuf = 0;
    socklen_t rl = sizeof(rcvbuf);
    SIM_ASSERT_EQ(seed, ust_getsockopt(n.b, bfd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, &rl), 0);
    SIM_ASSERT_EQ(seed, rcvbuf, 4096);
    struct tcp_info bi = info(&n, n.b, bfd);
    SIM_ASSERT_EQ(seed, bi.tcpi_rcv_wscale, 0);
    uint32_t step = bi.tcpi_advmss < (uint32_t)rcvbuf / 2 ? bi.tcpi_advmss : (uint32_t)rcvbuf / 2;
    SIM_ASSERT_EQ(seed, step, 1460);

    /* A sends 20000 bytes as fast as it may; B reads 100 bytes every 5 ms. */
    enum { TOTAL = 20000 };
    static uint8_t out[TOTAL];
    for (size_t i = 0; i < TOTAL; i++)
        out[i] = (uint8_t)(i * 7 + 3);
    size_t sent = 0, got = 0;
    bool zero_window_seen = false;
    for (int i = 0; i < 4000 && got < TOTAL; i++) {
        if (sent < TOTAL) {
            ssize_t w = ust_send(n.a, afd, out + sent, TOTAL - sent, 0);
            SIM_ASSERT(seed, w > 0 || errno == EAGAIN);
            sent += w > 0 ? (size_t)w : 0;
        }
        tnet_run(&n, 5 * TMS);
        uint8_t buf[100];
        ssize_t r = ust_recv(n.b, bfd, buf, sizeof(buf), 0);
        if (r > 0) {
            SIM_ASSERT_EQ(seed, memcmp(buf, out + got, (size_t)r), 0);
            got += (size_t)r;
        }
        if (ttcb(n.b, bfd)->rcv_wnd == 0)
            zero_window_seen = true;
    }
    SIM_ASSERT_EQ(seed, got, TOTAL);
    /* The reader was slow enough to close the window, and each reopening
     * waited for a full step. */
    unsigned moves = check_b_edges(&n, tr, 0, step);
    SIM_ASSERT(seed, zero_window_seen);
    SIM_ASSERT(seed, moves >= 8);
    trace_stop(&n, tr);
    ust_sim_free(n.sim);
}

static void window_right_edge_never_moves_left(void **state)
{
    (void)state;
    struct tnet n;
    uint64_t seed = sim_test_seed(902);
    tnet_setup(&n, seed, NULL);
    int lfd = listen_rcvbuf(&n, 80, 0), afd;
    struct trace *tr = trace_start(&n);
    int bfd = tconnect_pair(&n, lfd, 80, &afd);
    struct tcp_info bi = info(&n, n.b, bfd);
    unsigned ws = bi.tcpi_rcv_wscale;
    SIM_ASSERT(seed, ws > 0);           /* scaled: the edge is rounded */
    int one = 1;
    SIM_ASSERT_EQ(seed, ust_setsockopt(n.a, afd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)), 0);
    /* Odd-sized segments into a buffer nobody reads, so the window the
     * receiver keeps (RCV.ADV - RCV.NXT) is not a multiple of 2^wscale. */
    static uint8_t chunk[1001];
    for (int i = 0; i < 60; i++) {
        SIM_ASSERT_EQ(seed, ust_send(n.a, afd, chunk, sizeof(chunk), 0), (ssize_t)sizeof(chunk));
        tnet_run(&n, 3 * TMS);
    }
    tnet_run(&n, 100 * TMS);
    SIM_ASSERT_EQ(seed, inq(n.b, bfd), 60 * sizeof(chunk));
    /* A smaller SO_RCVBUF does not take back what was offered. */
    int small = 4096;
    SIM_ASSERT_EQ(seed, ust_setsockopt(n.b, bfd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)), 0);
    for (int i = 0; i < 80; i++) {
        ssize_t w = ust_send(n.a, afd, chunk, sizeof(chunk), 0);
        SIM_ASSERT(seed, w > 0 || errno == EAGAIN);
        tnet_run(&n, 3 * TMS);
    }
    tnet_run(&n, 2 * TSEC);
    /* Then B reads slowly, in odd pieces. */
    uint8_t buf[777];
    int outq = -1;
    for (int i = 0; i < 2000; i++) {
        if (ust_recv(n.b, bfd, buf, sizeof(buf), 0) <= 0 && inq(n.b, bfd) == 0 &&
            ust_ioctl(n.a, afd, SIOCOUTQ, &outq) == 0 && outq == 0)
            break;
        tnet_run(&n, 2 * TMS);
    }
    SIM_ASSERT_EQ(seed, inq(n.b, bfd), 0);
    SIM_ASSERT_EQ(seed, outq, 0);       /* A's queue drained: everything arrived */
    check_b_edges(&n, tr, ws, 0);
    trace_stop(&n, tr);
    ust_sim_free(n.sim);
}

/* ---- Sender: SWS avoidance, Nagle, TCP_NODELAY ------------------------------ */

static void sender_sws_sends_no_small_segment_while_data_in_flight(void **state)
{
    (void)state;
    struct tnet n;
    uint64_t seed = sim_test_seed(903);
    tnet_setup(&n, seed, NULL);
    int lfd = listen_rcvbuf(&n, 80, 1500), afd;   /* B's buffer: 3000 bytes */
    int bfd = tconnect_pair(&n, lfd, 80, &afd);
    int sz = 32768;
    SIM_ASSERT_EQ(seed, ust_setsockopt(n.a, afd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz)), 0);
    uint32_t mss = info(&n, n.a, afd).tcpi_snd_mss;
    SIM_ASSERT_EQ(seed, mss, 1448);
    struct trace *tr = trace_start(&n);
    enum { TOTAL = 30000 };
    static uint8_t out[TOTAL];
    uint32_t una0 = ttcb(n.a, afd)->snd_una;
    SIM_ASSERT_EQ(seed, ust_send(n.a, afd, out, TOTAL, 0), TOTAL);
    uint32_t end = una0 + TOTAL;
    /* B reads 1000 bytes every 30 ms: its window opens in pieces. */
    size_t got = 0;
    for (int i = 0; i < 1000 && got < TOTAL; i++) {
        tnet_run(&n, 30 * TMS);
        uint8_t buf[1000];
        ssize_t r = ust_recv(n.b, bfd, buf, sizeof(buf), 0);
        got += r > 0 ? (size_t)r : 0;
    }
    SIM_ASSERT_EQ(seed, got, TOTAL);
    /* Every A->B data segment shorter than the MSS either carries the last
     * byte or left when nothing was in flight: the highest ACK A had seen
     * when it sent (ACKs delivered at least one link delay earlier) covered
     * everything before it. */
    unsigned small = 0;
    for (size_t i = 0; i < tr->n; i++) {
        const struct segrec *r = &tr->r[i];
        if (r->dir != 0 || r->len == 0 || r->len >= mss)
            continue;
        small++;
        if (r->seq + r->len == end)
            continue;
        uint32_t acked = una0;
        for (size_t j = 0; j < i; j++) {
            const struct segrec *q = &tr->r[j];
            if (q->dir == 1 && (q->flags & UST_TCP_ACK) && q->t + 1 * TMS <= r->t &&
                ust_seq_gt(q->ack, acked))
                acked = q->ack;
        }
        if (ust_seq_lt(acked, r->seq))
            fail_msg("segment %zu (t=%" PRIu64 "us): %u bytes < MSS sent with %u bytes in "
                     "flight (seed=%" PRIu64 ")",
                     i, r->t / 1000, r->len, r->seq - acked, seed);
    }
    SIM_ASSERT(seed, small > 0);        /* the window did force short segments */
    trace_stop(&n, tr);
    ust_sim_free(n.sim);
}

static void nagle_holds_small_segment_until_ack_minshall_as_linux(void **state)
{
    (void)state;
    struct tnet n;
    uint64_t seed = sim_test_seed(904);
    tnet_setup(&n, seed, NULL);
    int lfd = tlisten(&n, 80, 4), afd;
    int bfd = tconnect_pair(&n, lfd, 80, &afd);
    int v = -1;
    socklen_t vl = sizeof(v);
    SIM_ASSERT_EQ(seed, ust_getsockopt(n.a, afd, IPPROTO_TCP, TCP_NODELAY, &v, &vl), 0);
    SIM_ASSERT_EQ(seed, v, 0);          /* Nagle is on by default */
    struct trace *tr = trace_start(&n);
    /* One byte goes at once; nine more one-byte writes wait for its ACK,
     * which B delays by 40 ms. */
    SIM_ASSERT_EQ(seed, ust_send(n.a, afd, "x", 1, 0), 1);
    for (int i = 0; i < 9; i++)
        SIM_ASSERT_EQ(seed, ust_send(n.a, afd, "y", 1, 0), 1);
    tnet_run(&n, 20 * TMS);
    SIM_ASSERT_EQ(seed, inq(n.b, bfd), 1);
    SIM_ASSERT_EQ(seed, data_segs(tr, 0, 0), 1);
    tnet_run(&n, 100 * TMS);
    SIM_ASSERT_EQ(seed, inq(n.b, bfd), 10);
    SIM_ASSERT_EQ(seed, data_segs(tr, 0, 0), 2);
    SIM_ASSERT_EQ(seed, data_seg_len(tr, 0, 0, 1), 9);
    /* The held segment left only after the ACK of the first arrived. */
    uint64_t t_ack = 0, t_second = 0;
    for (size_t i = 0; i < tr->n; i++) {
        const struct segrec *r = &tr->r[i];
        if (!t_ack && r->dir == 1 && r->len == 0 && (r->flags & UST_TCP_ACK))
            t_ack = r->t;
        if (r->dir == 0 && r->len == 9)
            t_second = r->t;
    }
    SIM_ASSERT(seed, t_ack > 0 && t_second >= t_ack + 1 * TMS);
    char buf[64];
    SIM_ASSERT_EQ(seed, ust_recv(n.b, bfd, buf, sizeof(buf), 0), 10);
    tnet_run(&n, 100 * TMS);

    /* Minshall: a full segment in flight does not hold a small one, so one
     * write of MSS + 100 bytes leaves at once as two segments... */
    uint32_t mss = info(&n, n.a, afd).tcpi_snd_mss;
    static uint8_t big[4096];
    size_t from = tr->n;
    SIM_ASSERT_EQ(seed, ust_send(n.a, afd, big, mss + 100, 0), (ssize_t)(mss + 100));
    tnet_run(&n, 5 * TMS);
    SIM_ASSERT_EQ(seed, data_segs(tr, from, 0), 2);
    SIM_ASSERT_EQ(seed, data_seg_len(tr, from, 0, 0), mss);
    SIM_ASSERT_EQ(seed, data_seg_len(tr, from, 0, 1), 100);
    /* ...but the next small write waits while that 100-byte one is unacked. */
    SIM_ASSERT_EQ(seed, ust_send(n.a, afd, big, 50, 0), 50);
    tnet_run(&n, 10 * TMS);
    SIM_ASSERT_EQ(seed, data_segs(tr, from, 0), 2);
    SIM_ASSERT_EQ(seed, inq(n.b, bfd), (int)mss + 100);
    tnet_run(&n, 100 * TMS);
    SIM_ASSERT_EQ(seed, data_segs(tr, from, 0), 3);
    SIM_ASSERT_EQ(seed, inq(n.b, bfd), (int)mss + 150);
    trace_stop(&n, tr);
    ust_sim_free(n.sim);
}

static void tcp_nodelay_sends_each_small_write_at_once(void **state)
{
    (void)state;
    struct tnet n;
    uint64_t seed = sim_test_seed(905);
    tnet_setup(&n, seed, NULL);
    int lfd = tlisten(&n, 80, 4), afd;
    int bfd = tconnect_pair(&n, lfd, 80, &afd);
    struct trace *tr = trace_start(&n);
    /* Setting TCP_NODELAY pushes what Nagle was holding (Linux
     * tcp_push_pending_frames), long before B's delayed ACK. */
    SIM_ASSERT_EQ(seed, ust_send(n.a, afd, "a", 1, 0), 1);
    SIM_ASSERT_EQ(seed, ust_send(n.a, afd, "bcdef", 5, 0), 5);
    tnet_run(&n, 5 * TMS);
    SIM_ASSERT_EQ(seed, inq(n.b, bfd), 1);
    int one = 1, v = 0;
    socklen_t vl = sizeof(v);
    SIM_ASSERT_EQ(seed, ust_setsockopt(n.a, afd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)), 0);
    SIM_ASSERT_EQ(seed, ust_getsockopt(n.a, afd, IPPROTO_TCP, TCP_NODELAY, &v, &vl), 0);
    SIM_ASSERT_EQ(seed, v, 1);
    tnet_run(&n, 5 * TMS);
    SIM_ASSERT_EQ(seed, inq(n.b, bfd), 6);
    /* Each small write is its own segment, sent at once. */
    size_t from = tr->n;
    for (int i = 0; i < 10; i++)
        SIM_ASSERT_EQ(seed, ust_send(n.a, afd, "z", 1, 0), 1);
    tnet_run(&n, 5 * TMS);
    SIM_ASSERT_EQ(seed, inq(n.b, bfd), 16);
    SIM_ASSERT_EQ(seed, data_segs(tr, from, 0), 10);
    for (size_t i = 0; i < 10; i++)
        SIM_ASSERT_EQ(seed, data_seg_len(tr, from, 0, i), 1);
    trace_stop(&n, tr);
    ust_sim_free(n.sim);
}

/* ---- TCP_MAXSEG ------------------------------------------------------------ */

static int maxseg_get(struct ust_stack *s, int fd)
{
    int v = -1;
    socklen_t vl = sizeof(v);
    assert_int_equal(ust_getsockopt(s, fd, IPPROTO_TCP, TCP_MAXSEG, &v, &vl), 0);
    return v;
}

static int maxseg_set(struct ust_stack *s, int fd, int v)
{
    return ust_setsockopt(s, fd, IPPROTO_TCP, TCP_MAXSEG, &v, sizeof(v));
}

static void tcp_maxseg_range_and_getsockopt_as_linux(void **state)
{
    (void)state;
    struct tnet n;
    uint64_t seed = sim_test_seed(906);
    tnet_setup(&n, seed, NULL);
    int fd = tsock(&n, n.a);
    /* A fresh socket reads Linux's TCP_MSS_DEFAULT. */
    SIM_ASSERT_EQ(seed, maxseg_get(n.a, fd), 536);
    /* Linux: 0 (no clamp) or TCP_MIN_MSS (88) .. MAX_TCP_WINDOW (32767). */
    const int bad[] = { 1, 87, -1, 32768, 65535, 65536 };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        SIM_ASSERT_EQ(seed, maxseg_set(n.a, fd, bad[i]), -1);
        SIM_ASSERT_EQ(seed, errno, EINVAL);
    }
    SIM_ASSERT_EQ(seed, maxseg_get(n.a, fd), 536);
    SIM_ASSERT_EQ(seed, maxseg_set(n.a, fd, 88), 0);
    SIM_ASSERT_EQ(seed, maxseg_get(n.a, fd), 88);
    SIM_ASSERT_EQ(seed, maxseg_set(n.a, fd, 32767), 0);
    SIM_ASSERT_EQ(seed, maxseg_get(n.a, fd), 32767);
    SIM_ASSERT_EQ(seed, maxseg_set(n.a, fd, 0), 0);
    SIM_ASSERT_EQ(seed, maxseg_get(n.a, fd), 536);
    /* A short option value. */
    short sv = 1000;
    SIM_ASSERT_EQ(seed, ust_setsockopt(n.a, fd, IPPROTO_TCP, TCP_MAXSEG, &sv, sizeof(sv)), -1);
    SIM_ASSERT_EQ(seed, errno, EINVAL);
    ust_close(n.a, fd);
    ust_sim_free(n.sim);
}

/* The largest data segment in direction dir since from. */
static uint32_t max_data_len(const struct trace *tr, size_t from, int dir)
{
    uint32_t m = 0;
    for (size_t i = from; i < tr->n; i++)
        if (tr->r[i].dir == dir && tr->r[i].len > m)
            m = tr->r[i].len;
    return m;
}

/* Sends len bytes from s/fd and lets the peer read them all. */
static void pump(struct tnet *n, struct ust_stack *s, int fd, struct ust_stack *rs, int rfd,
                 size_t len)
{
    static uint8_t data[20000], sink[20000];
    assert_true(len <= sizeof(data));
    SIM_ASSERT_EQ(n->seed, ust_send(s, fd, data, len, 0), (ssize_t)len);
    size_t got = 0;
    for (int i = 0; i < 100 && got < len; i++) {
        tnet_run(n, 20 * TMS);
        ssize_t r = ust_recv(rs, rfd, sink, sizeof(sink), 0);
        got += r > 0 ? (size_t)r : 0;
    }
    SIM_ASSERT_EQ(n->seed, got, len);
}

static void tcp_maxseg_before_connect_lowers_mss_option_and_segments(void **state)
{
    (void)state;
    struct tnet n;
    uint64_t seed = sim_test_seed(907);
    tnet_setup(&n, seed, NULL);
    struct trace *tr = trace_start(&n);
    /* Connecting side: TCP_MAXSEG 1000 before connect. */
    int lfd = tlisten(&n, 80, 4);
    int afd = tsock(&n, n.a);
    SIM_ASSERT_EQ(seed, maxseg_set(n.a, afd, 1000), 0);
    SIM_ASSERT_EQ(seed, maxseg_get(n.a, afd), 1000);
    struct sockaddr_in sb = tsin("10.0.0.2", 80);
    SIM_ASSERT_EQ(seed, ust_connect(n.a, afd, (struct sockaddr *)&sb, sizeof(sb)), -1);
    SIM_ASSERT_EQ(seed, errno, EINPROGRESS);
    tnet_run(&n, 20 * TMS);
    int bfd = ust_accept4(n.b, lfd, NULL, NULL, SOCK_NONBLOCK);
    SIM_ASSERT(seed, bfd >= 0);
    SIM_ASSERT(seed, tr->n >= 2);
    SIM_ASSERT_EQ(seed, tr->r[0].flags & (UST_TCP_SYN | UST_TCP_ACK), UST_TCP_SYN);
    SIM_ASSERT_EQ(seed, tr->r[0].mss, 1000);    /* our SYN offers only 1000 */
    SIM_ASSERT_EQ(seed, tr->r[1].mss, 1460);    /* the listener's SYN-ACK is unclamped */
    /* Both sides use 1000 less the 12 bytes of the timestamp option. */
    SIM_ASSERT_EQ(seed, maxseg_get(n.a, afd), 988);
    SIM_ASSERT_EQ(seed, info(&n, n.a, afd).tcpi_snd_mss, 988);
    SIM_ASSERT_EQ(seed, maxseg_get(n.b, bfd), 988);
    size_t from = tr->n;
    pump(&n, n.a, afd, n.b, bfd, 10000);
    pump(&n, n.b, bfd, n.a, afd, 10000);
    SIM_ASSERT_EQ(seed, max_data_len(tr, from, 0), 988);
    SIM_ASSERT_EQ(seed, max_data_len(tr, from, 1), 988);

    /* Listening side: the children of a listener with TCP_MAXSEG 700 offer
     * 700 in their SYN-ACK. */
    int l2 = tsock(&n, n.b);
    SIM_ASSERT_EQ(seed, maxseg_set(n.b, l2, 700), 0);
    struct sockaddr_in s81 = tsin("10.0.0.2", 81);
    SIM_ASSERT_EQ(seed, ust_bind(n.b, l2, (struct sockaddr *)&s81, sizeof(s81)), 0);
    SIM_ASSERT_EQ(seed, ust_listen(n.b, l2, 4), 0);
    SIM_ASSERT_EQ(seed, maxseg_get(n.b, l2), 700);
    from = tr->n;
    int a2;
    int b2 = tconnect_pair(&n, l2, 81, &a2);
    SIM_ASSERT_EQ(seed, tr->r[from].mss, 1460);
    SIM_ASSERT_EQ(seed, tr->r[from + 1].flags & (UST_TCP_SYN | UST_TCP_ACK),
                  UST_TCP_SYN | UST_TCP_ACK);
    SIM_ASSERT_EQ(seed, tr->r[from + 1].mss, 700);
    SIM_ASSERT_EQ(seed, maxseg_get(n.a, a2), 688);
    SIM_ASSERT_EQ(seed, maxseg_get(n.b, b2), 688);
    from = tr->n;
    pump(&n, n.a, a2, n.b, b2, 5000);
    pump(&n, n.b, b2, n.a, a2, 5000);
    SIM_ASSERT_EQ(seed, max_data_len(tr, from, 0), 688);
    SIM_ASSERT_EQ(seed, max_data_len(tr, from, 1), 688);
    trace_stop(&n, tr);
    ust_sim_free(n.sim);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(receiver_sws_right_edge_moves_by_at_least_min_half_buffer_mss),
        cmocka_unit_test(window_right_edge_never_moves_left),
        cmocka_unit_test(sender_sws_sends_no_small_segment_while_data_in_flight),
        cmocka_unit_test(nagle_holds_small_segment_until_ack_minshall_as_linux),
        cmocka_unit_test(tcp_nodelay_sends_each_small_write_at_once),
        cmocka_unit_test(tcp_maxseg_range_and_getsockopt_as_linux),
        cmocka_unit_test(tcp_maxseg_before_connect_lowers_mss_option_and_segments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
