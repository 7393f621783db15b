/* Stream socket calls and options with Linux semantics:
 *  - SO_LINGER with a nonzero timeout: close waits until the FIN (and the
 *    data before it) is acknowledged, or until the timeout, after which the
 *    connection goes on in the background (Linux sk_stream_wait_close).
 *    Proved over loopback with the stack thread; on the simulator (no stack
 *    thread) close cannot wait and returns at once.
 *  - read/write on a TCP socket are recv/send without flags: a blocking
 *    write copies every byte (not a partial count), a non-blocking one
 *    copies what fits.
 *  - recvfrom on a connected TCP socket names no source: *addrlen = 0 and
 *    the address buffer is left alone, as Linux's tcp_recvmsg.
 *  - SO_RCVLOWAT: POLLIN and a blocking recv wait for that many bytes (or
 *    EOF/error); a non-blocking recv returns what there is. SO_SNDLOWAT
 *    cannot be changed (ENOPROTOOPT) and reads 1, as in Linux.
 *  - TCP_CORK and MSG_MORE hold a partial segment (full ones go) until
 *    uncorked / a send without MSG_MORE / the FIN, or at most 200 ms. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <time.h>

#include <cmocka.h>

#include "unit/sim_test_util.h"
#include "unit/tcp_test_util.h"
#include "runtime/runtime.h"

#define IP_A 0x0a000001u
#define IP_B 0x0a000002u
#define LO 0x7f000001u

static uint16_t lport_of(struct ust_stack *s, int fd)
{
    struct sockaddr_in me;
    socklen_t l = sizeof(me);
    assert_int_equal(ust_getsockname(s, fd, (struct sockaddr *)&me, &l), 0);
    return ntohs(me.sin_port);
}

/* ---- Simulator (no stack thread) ----------------------------------------- */

static void linger_nonzero_without_stack_thread_closes_at_once(void **state)
{
    (void)state;
    struct tnet n;
    uint64_t seed = sim_test_seed(601);
    tnet_setup(&n, seed, NULL);
    int lfd = tlisten(&n, 80, 4), afd;
    int bfd = tconnect_pair(&n, lfd, 80, &afd);
    struct linger lg = { .l_onoff = 1, .l_linger = 5 }, got;
    socklen_t gl = sizeof(got);
    SIM_ASSERT_EQ(seed, ust_setsockopt(n.a, afd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
    SIM_ASSERT_EQ(seed, ust_getsockopt(n.a, afd, SOL_SOCKET, SO_LINGER, &got, &gl), 0);
    SIM_ASSERT_EQ(seed, got.l_onoff, 1);
    SIM_ASSERT_EQ(seed, got.l_linger, 5);
    SIM_ASSERT_EQ(seed, ust_send(n.a, afd, "hello", 5, 0), 5);
    uint16_t ap = lport_of(n.a, afd);
    uint64_t t0 = ust_sim_now(n.sim);
    SIM_ASSERT_EQ(seed, ust_close(n.a, afd), 0);
    SIM_ASSERT_EQ(seed, ust_sim_now(n.sim), t0);           /* no waiting */
    struct ust_tcb *t = ust_tcp_lookup(n.a, IP_A, ap, IP_B, 80);
    SIM_ASSERT(seed, t != NULL);
    SIM_ASSERT_EQ(seed, t->state, UST_TCP_FIN_WAIT_1);     /* an orderly close, no RST */
    tnet_run(&n, 50 * TMS);
    SIM_ASSERT_EQ(seed, ust_tcp_lookup(n.a, IP_A, ap, IP_B, 80)->state, UST_TCP_FIN_WAIT_2);
    char buf[8];
    SIM_ASSERT_EQ(seed, ust_recv(n.b, bfd, buf, sizeof(buf), 0), 5);
    SIM_ASSERT_EQ(seed, ust_recv(n.b, bfd, buf, sizeof(buf), 0), 0);
    ust_sim_free(n.sim);
}

static void recvfrom_on_tcp_sets_addrlen_zero(void **state)
{
    (void)state;
    struct tnet n;
    uint64_t seed = sim_test_seed(602);
    tnet_setup(&n, seed, NULL);
    int lfd = tlisten(&n, 80, 4), afd;
    int bfd = tconnect_pair(&n, lfd, 80, &afd);
    SIM_ASSERT_EQ(seed, ust_send(n.a, afd, "abc", 3, 0), 3);
    tnet_run(&n, 50 * TMS);
    struct sockaddr_in from;
    memset(&from, 0xa5, sizeof(from));
    socklen_t fl = sizeof(from);
    char buf[8];
    SIM_ASSERT_EQ(seed, ust_recvfrom(n.b, bfd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl),
                  3);
    SIM_ASSERT_EQ(seed, fl, 0);
    const uint8_t *p = (const uint8_t *)&from;
    for (size_t i = 0; i < sizeof(from); i++)
        SIM_ASSERT_EQ(seed, p[i], 0xa5);
    /* At EOF too. */
    SIM_ASSERT_EQ(seed, ust_shutdown(n.a, afd, SHUT_WR), 0);
    tnet_run(&n, 50 * TMS);
    fl = sizeof(from);
    SIM_ASSERT_EQ(seed, ust_recvfrom(n.b, bfd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl),
                  0);
    SIM_ASSERT_EQ(seed, fl, 0);
    ust_sim_free(n.sim);
}

static void nonblocking_write_copies_what_fits_and_read_is_recv(void **state)
{
    (void)state;
    struct tnet n;
    uint64_t seed = sim_test_seed(603);
    tnet_setup(&n, seed, NULL);
    int lfd = tlisten(&n, 80, 4), afd;
    int bfd = tconnect_pair(&n, lfd, 80, &afd);
    int sz = 16384;
    SIM_ASSERT_EQ(seed, ust_setsockopt(n.a, afd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz)), 0);
    static uint8_t big[1 << 20];
    ssize_t w = ust_write(n.a, afd, big, sizeof(big));
    SIM_ASSERT(seed, w > 0 && w < (ssize_t)sizeof(big));   /* partial: non-blocking */
    SIM_ASSERT_EQ(seed, ust_write(n.a, afd, big, sizeof(big)), -1);
    SIM_ASSERT_EQ(seed, errno, EAGAIN);
    tnet_run(&n, 100 * TMS);
    char buf[64];
    SIM_ASSERT_EQ(seed, ust_read(n.b, bfd, buf, sizeof(buf)), (ssize_t)sizeof(buf));
    /* Read on a socket with nothing queued: EAGAIN like recv. */
    int cfd2;
    int bfd2 = tconnect_pair(&n, lfd, 80, &cfd2);
    SIM_ASSERT_EQ(seed, ust_read(n.b, bfd2, buf, sizeof(buf)), -1);
    SIM_ASSERT_EQ(seed, errno, EAGAIN);
    /* Write after shutdown: EPIPE (SIGPIPE is off on the simulator's stacks). */
    SIM_ASSERT_EQ(seed, ust_shutdown(n.a, cfd2, SHUT_WR), 0);
    if (!n.a->cfg.raise_sigpipe) {
        SIM_ASSERT_EQ(seed, ust_write(n.a, cfd2, "x", 1), -1);
        SIM_ASSERT_EQ(seed, errno, EPIPE);
    }
    ust_sim_free(n.sim);
}

static short poll_one(struct ust_stack *s, int fd, short events)
{
    struct pollfd p = { .fd = fd, .events = events };
    ust_poll(s, &p, 1, 0);
    return p.revents;
}

static void rcvlowat_gates_pollin_until_enough_or_eof(void **state)
{
    (void)state;
    struct tnet n;
    uint64_t seed = sim_test_seed(604);
    tnet_setup(&n, seed, NULL);
    int lfd = tlisten(&n, 80, 4), afd;
    int bfd = tconnect_pair(&n, lfd, 80, &afd);
    int v = 1000, got = 0;
    socklen_t gl = sizeof(got);
    SIM_ASSERT_EQ(seed, ust_setsockopt(n.b, bfd, SOL_SOCKET, SO_RCVLOWAT, &v, sizeof(v)), 0);
    SIM_ASSERT_EQ(seed, ust_getsockopt(n.b, bfd, SOL_SOCKET, SO_RCVLOWAT, &got, &gl), 0);
    SIM_ASSERT_EQ(seed, got, 1000);
    static uint8_t data[2000];
    SIM_ASSERT_EQ(seed, ust_send(n.a, afd, data, 500, 0), 500);
    tnet_run(&n, 50 * TMS);
    SIM_ASSERT_EQ(seed, poll_one(n.b, bfd, POLLIN) & POLLIN, 0);
    SIM_ASSERT_EQ(seed, ust_send(n.a, afd, data, 600, 0), 600);
    tnet_run(&n, 50 * TMS);
    SIM_ASSERT(seed, (poll_one(n.b, bfd, POLLIN) & POLLIN) != 0);
    char buf[4096];
    SIM_ASSERT_EQ(seed, ust_recv(n.b, bfd, buf, sizeof(buf), 0), 1100);
    /* Below the mark a non-blocking recv still returns what is there. */
    SIM_ASSERT_EQ(seed, ust_send(n.a, afd, data, 10, 0), 10);
    tnet_run(&n, 50 * TMS);
    SIM_ASSERT_EQ(seed, poll_one(n.b, bfd, POLLIN) & POLLIN, 0);
    SIM_ASSERT_EQ(seed, ust_recv(n.b, bfd, buf, sizeof(buf), 0), 10);
    /* EOF makes it readable whatever the mark. */
    SIM_ASSERT_EQ(seed, ust_send(n.a, afd, data, 10, 0), 10);
    SIM_ASSERT_EQ(seed, ust_shutdown(n.a, afd, SHUT_WR), 0);
    tnet_run(&n, 50 * TMS);
    SIM_ASSERT(seed, (poll_one(n.b, bfd, POLLIN) & POLLIN) != 0);
    SIM_ASSERT_EQ(seed, ust_recv(n.b, bfd, buf, sizeof(buf), 0), 10);
    SIM_ASSERT_EQ(seed, ust_recv(n.b, bfd, buf, sizeof(buf), 0), 0);
    /* 0 means 1; a negative value or a huge one is capped at half the
     * receive buffer. */
    v = 0;
    SIM_ASSERT_EQ(seed, ust_setsockopt(n.b, bfd, SOL_SOCKET, SO_RCVLOWAT, &v, sizeof(v)), 0);
    SIM_ASSERT_EQ(seed, ust_getsockopt(n.b, bfd, SOL_SOCKET, SO_RCVLOWAT, &got, &gl), 0);
    SIM_ASSERT_EQ(seed, got, 1);
    int rb = 0;
    socklen_t rl = sizeof(rb);
    SIM_ASSERT_EQ(seed, ust_getsockopt(n.b, bfd, SOL_SOCKET, SO_RCVBUF, &rb, &rl), 0);
    v = -1;
    SIM_ASSERT_EQ(seed, ust_setsockopt(n.b, bfd, SOL_SOCKET, SO_RCVLOWAT, &v, sizeof(v)), 0);
    SIM_ASSERT_EQ(seed, ust_getsockopt(n.b, bfd, SOL_SOCKET, SO_RCVLOWAT, &got, &gl), 0);
    SIM_ASSERT_EQ(seed, got, rb / 2);
    ust_sim_free(n.sim);
}

static void sndlowat_cannot_be_changed(void **state)
{
    (void)state;
    struct tnet n;
    uint64_t seed = sim_test_seed(605);
    tnet_setup(&n, seed, NULL);
    int fd = tsock(&n, n.a);
    int v = 4096, got = 0;
    socklen_t gl = sizeof(got);
    SIM_ASSERT_EQ(seed, ust_setsockopt(n.a, fd, SOL_SOCKET, SO_SNDLOWAT, &v, sizeof(v)), -1);
    SIM_ASSERT_EQ(seed, errno, ENOPROTOOPT);
    SIM_ASSERT_EQ(seed, ust_getsockopt(n.a, fd, SOL_SOCKET, SO_SNDLOWAT, &got, &gl), 0);
    SIM_ASSERT_EQ(seed, got, 1);
    SIM_ASSERT_EQ(seed, ust_getsockopt(n.a, fd, SOL_SOCKET, SO_RCVLOWAT, &got, &gl), 0);
    SIM_ASSERT_EQ(seed, got, 1);
    ust_sim_free(n.sim);
}

static int inq(struct ust_stack *s, int fd)
{
    int v = -1;
    assert_int_equal(ust_ioctl(s, fd, FIONREAD, &v), 0);
    return v;
}

static void tcp_cork_holds_partial_segments_until_uncorked(void **state)
{
    (void)state;
    struct tnet n;
    uint64_t seed = sim_test_seed(606);
    tnet_setup(&n, seed, NULL);
    int lfd = tlisten(&n, 80, 4), afd;
    int bfd = tconnect_pair(&n, lfd, 80, &afd);
    int one = 1, zero = 0, got = 0;
    socklen_t gl = sizeof(got);
    SIM_ASSERT_EQ(seed, ust_setsockopt(n.a, afd, IPPROTO_TCP, TCP_CORK, &one, sizeof(one)), 0);
    SIM_ASSERT_EQ(seed, ust_getsockopt(n.a, afd, IPPROTO_TCP, TCP_CORK, &got, &gl), 0);
    SIM_ASSERT_EQ(seed, got, 1);
    static uint8_t data[4000];
    uint64_t segs = ust_stat_get(n.a, UST_STAT_TCP_OutSegs);
    SIM_ASSERT_EQ(seed, ust_send(n.a, afd, data, 100, 0), 100);
    SIM_ASSERT_EQ(seed, ust_send(n.a, afd, data, 100, 0), 100);
    tnet_run(&n, 50 * TMS);
    SIM_ASSERT_EQ(seed, inq(n.b, bfd), 0);
    SIM_ASSERT_EQ(seed, ust_stat_get(n.a, UST_STAT_TCP_OutSegs), segs);
    /* A full segment's worth goes at once; the tail stays. */
    SIM_ASSERT_EQ(seed, ust_send(n.a, afd, data, 3000, 0), 3000);
    uint32_t mss = ttcb(n.a, afd)->mss;
    tnet_run(&n, 50 * TMS);
    SIM_ASSERT_EQ(seed, inq(n.b, bfd), (int)(3200 / mss * mss));
    /* Uncorking sends the rest. */
    SIM_ASSERT_EQ(seed, ust_setsockopt(n.a, afd, IPPROTO_TCP, TCP_CORK, &zero, sizeof(zero)), 0);
    tnet_run(&n, 50 * TMS);
    SIM_ASSERT_EQ(seed, inq(n.b, bfd), 3200);
    ust_sim_free(n.sim);
}

static void tcp_cork_ceiling_is_200ms_and_fin_pushes(void **state)
{
    (void)state;
    struct tnet n;
    uint64_t seed = sim_test_seed(607);
    tnet_setup(&n, seed, NULL);
    int lfd = tlisten(&n, 80, 4), afd;
    int bfd = tconnect_pair(&n, lfd, 80, &afd);
    int one = 1;
    SIM_ASSERT_EQ(seed, ust_setsockopt(n.a, afd, IPPROTO_TCP, TCP_CORK, &one, sizeof(one)), 0);
    SIM_ASSERT_EQ(seed, ust_send(n.a, afd, "0123456789", 10, 0), 10);
    tnet_run(&n, 190 * TMS);
    SIM_ASSERT_EQ(seed, inq(n.b, bfd), 0);
    tnet_run(&n, 20 * TMS);         /* 200 ms + 1 ms of wire */
    SIM_ASSERT_EQ(seed, inq(n.b, bfd), 10);
    /* Still corked: the next partial segment waits, but the FIN takes it. */
    SIM_ASSERT_EQ(seed, ust_send(n.a, afd, "abc", 3, 0), 3);
    tnet_run(&n, 50 * TMS);
    SIM_ASSERT_EQ(seed, inq(n.b, bfd), 10);
    SIM_ASSERT_EQ(seed, ust_shutdown(n.a, afd, SHUT_WR), 0);
    tnet_run(&n, 10 * TMS);
    SIM_ASSERT_EQ(seed, inq(n.b, bfd), 13);
    char buf[32];
    SIM_ASSERT_EQ(seed, ust_recv(n.b, bfd, buf, sizeof(buf), 0), 13);
    SIM_ASSERT_EQ(seed, ust_recv(n.b, bfd, buf, sizeof(buf), 0), 0);
    ust_sim_free(n.sim);
}

static void msg_more_holds_until_a_send_without_it(void **state)
{
    (void)state;
    struct tnet n;
    uint64_t seed = sim_test_seed(608);
    tnet_setup(&n, seed, NULL);
    int lfd = tlisten(&n, 80, 4), afd;
    int bfd = tconnect_pair(&n, lfd, 80, &afd);
    uint64_t segs = ust_stat_get(n.a, UST_STAT_TCP_OutSegs);
    SIM_ASSERT_EQ(seed, ust_send(n.a, afd, "GET / ", 6, MSG_MORE), 6);
    SIM_ASSERT_EQ(seed, ust_send(n.a, afd, "HTTP/1.1", 8, MSG_MORE), 8);
    tnet_run(&n, 50 * TMS);
    SIM_ASSERT_EQ(seed, inq(n.b, bfd), 0);
    SIM_ASSERT_EQ(seed, ust_send(n.a, afd, "\r\n", 2, 0), 2);
    tnet_run(&n, 50 * TMS);
    SIM_ASSERT_EQ(seed, inq(n.b, bfd), 16);
    /* One data segment carried all three sends (A sent nothing else but
     * possibly an ACK: at most two segments). */
    SIM_ASSERT(seed, ust_stat_get(n.a, UST_STAT_TCP_OutSegs) - segs <= 2);
    /* MSG_MORE alone: the 200 ms ceiling releases it. */
    SIM_ASSERT_EQ(seed, ust_send(n.a, afd, "x", 1, MSG_MORE), 1);
    tnet_run(&n, 150 * TMS);
    SIM_ASSERT_EQ(seed, inq(n.b, bfd), 16);
    tnet_run(&n, 100 * TMS);
    SIM_ASSERT_EQ(seed, inq(n.b, bfd), 17);
    ust_sim_free(n.sim);
}

/* ---- Loopback with the stack thread -------------------------------------- */

struct lo {
    struct ust_stack *s;
    int lfd, cfd, sfd;
    uint16_t cport;
};

static void lo_setup(struct lo *l, uint16_t port)
{
    memset(l, 0, sizeof(*l));
    l->s = ust_stack_new(NULL);
    assert_non_null(l->s);
    assert_int_equal(ust_stack_start(l->s), 0);
    l->lfd = ust_socket(l->s, AF_INET, SOCK_STREAM, 0);
    assert_true(l->lfd >= 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(ust_bind(l->s, l->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(ust_listen(l->s, l->lfd, 8), 0);
    l->cfd = ust_socket(l->s, AF_INET, SOCK_STREAM, 0);
    assert_true(l->cfd >= 0);
    assert_int_equal(ust_connect(l->s, l->cfd, (struct sockaddr *)&a, sizeof(a)), 0);
    l->sfd = ust_accept(l->s, l->lfd, NULL, NULL);
    assert_true(l->sfd >= 0);
    l->cport = lport_of(l->s, l->cfd);
}

/* The state of the client's connection (orphans included), -1 when gone. */
static int lo_client_state(struct lo *l, uint16_t sport)
{
    ust_rt_lock(l->s);
    struct ust_tcb *t = ust_tcp_lookup(l->s, LO, l->cport, LO, sport);
    int st = t ? (int)t->state : -1;
    ust_rt_unlock(l->s);
    return st;
}

struct reader {
    struct ust_stack *s;
    int fd;
    uint64_t got;
    int err;
};

/* Reads with ust_read until EOF. */
static void *reader_main(void *arg)
{
    struct reader *r = arg;
    uint8_t buf[65536];
    for (;;) {
        ssize_t k = ust_read(r->s, r->fd, buf, sizeof(buf));
        if (k < 0) {
            r->err = errno;
            break;
        }
        if (k == 0)
            break;
        r->got += (uint64_t)k;
    }
    return NULL;
}

static void blocking_write_copies_every_byte(void **state)
{
    (void)state;
    struct lo l;
    lo_setup(&l, 7801);
    int sz = 65536;     /* far less than one write */
    assert_int_equal(ust_setsockopt(l.s, l.cfd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz)), 0);
    struct reader r = { .s = l.s, .fd = l.sfd };
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, reader_main, &r), 0);
    size_t total = 4u << 20;
    uint8_t *out = calloc(1, total);
    assert_non_null(out);
    assert_int_equal(ust_write(l.s, l.cfd, out, total), (ssize_t)total);
    assert_int_equal(ust_shutdown(l.s, l.cfd, SHUT_WR), 0);
    pthread_join(t, NULL);
    assert_int_equal(r.err, 0);
    assert_int_equal(r.got, total);
    free(out);
    ust_close(l.s, l.cfd);
    ust_close(l.s, l.sfd);
    ust_close(l.s, l.lfd);
    ust_stack_free(l.s);
}

static void linger_close_waits_until_fin_acked(void **state)
{
    (void)state;
    struct lo l;
    lo_setup(&l, 7802);
    struct reader r = { .s = l.s, .fd = l.sfd };
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, reader_main, &r), 0);
    size_t total = 2u << 20;
    uint8_t *out = calloc(1, total);
    assert_non_null(out);
    assert_int_equal(ust_send(l.s, l.cfd, out, total, 0), (ssize_t)total);
    struct linger lg = { .l_onoff = 1, .l_linger = 30 };
    assert_int_equal(ust_setsockopt(l.s, l.cfd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
    assert_int_equal(ust_close(l.s, l.cfd), 0);
    /* Everything, FIN included, is acknowledged when close returns. */
    int st = lo_client_state(&l, 7802);
    assert_true(st == UST_TCP_FIN_WAIT_2 || st == UST_TCP_TIME_WAIT || st == -1);
    pthread_join(t, NULL);
    assert_int_equal(r.err, 0);
    assert_int_equal(r.got, total);
    free(out);
    ust_close(l.s, l.sfd);
    ust_close(l.s, l.lfd);
    ust_stack_free(l.s);
}

static void linger_close_returns_after_timeout_when_peer_reads_nothing(void **state)
{
    (void)state;
    struct lo l;
    lo_setup(&l, 7803);
    /* Fill the peer's receive buffer and our send buffer: the FIN cannot go. */
    static uint8_t chunk[65536];
    int loops = 0;
    while (ust_send(l.s, l.cfd, chunk, sizeof(chunk), MSG_DONTWAIT) > 0 && loops < 100000)
        loops++;
    assert_int_equal(errno, EAGAIN);
    struct linger lg = { .l_onoff = 1, .l_linger = 1 };
    assert_int_equal(ust_setsockopt(l.s, l.cfd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
    uint64_t t0 = ust_rt_clock_ns();
    assert_int_equal(ust_close(l.s, l.cfd), 0);
    uint64_t waited = ust_rt_clock_ns() - t0;
    /* It waited (a lower bound only) and the connection lives on, its FIN
     * still queued behind the data. */
    assert_true(waited >= 900 * UST_NSEC_PER_MSEC);
    assert_int_equal(lo_client_state(&l, 7803), UST_TCP_FIN_WAIT_1);
    /* The peer reads it all, then EOF: the orphan finishes normally. */
    struct reader r = { .s = l.s, .fd = l.sfd };
    reader_main(&r);
    assert_int_equal(r.err, 0);
    assert_true(r.got > 0);
    ust_close(l.s, l.sfd);
    ust_close(l.s, l.lfd);
    ust_stack_free(l.s);
}

struct dribbler {
    struct ust_stack *s;
    int fd;
};

/* Sends 100 bytes, then 900 more in small pieces. */
static void *dribble_main(void *arg)
{
    struct dribbler *d = arg;
    static const uint8_t z[100];
    for (int i = 0; i < 10; i++)
        if (ust_send(d->s, d->fd, z, sizeof(z), 0) != (ssize_t)sizeof(z))
            return (void *)1;
    return NULL;
}

static void blocking_recv_waits_for_rcvlowat(void **state)
{
    (void)state;
    struct lo l;
    lo_setup(&l, 7804);
    int one = 1;
    assert_int_equal(ust_setsockopt(l.s, l.cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)), 0);
    int v = 1000;
    assert_int_equal(ust_setsockopt(l.s, l.sfd, SOL_SOCKET, SO_RCVLOWAT, &v, sizeof(v)), 0);
    struct dribbler d = { l.s, l.cfd };
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, dribble_main, &d), 0);
    char buf[4096];
    assert_int_equal(ust_recv(l.s, l.sfd, buf, sizeof(buf), 0), 1000);
    void *ret;
    pthread_join(t, &ret);
    assert_null(ret);
    ust_close(l.s, l.cfd);
    ust_close(l.s, l.sfd);
    ust_close(l.s, l.lfd);
    ust_stack_free(l.s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(linger_nonzero_without_stack_thread_closes_at_once),
        cmocka_unit_test(recvfrom_on_tcp_sets_addrlen_zero),
        cmocka_unit_test(nonblocking_write_copies_what_fits_and_read_is_recv),
        cmocka_unit_test(blocking_write_copies_every_byte),
        cmocka_unit_test(linger_close_waits_until_fin_acked),
        cmocka_unit_test(linger_close_returns_after_timeout_when_peer_reads_nothing),
        cmocka_unit_test(rcvlowat_gates_pollin_until_enough_or_eof),
        cmocka_unit_test(sndlowat_cannot_be_changed),
        cmocka_unit_test(tcp_cork_holds_partial_segments_until_uncorked),
        cmocka_unit_test(tcp_cork_ceiling_is_200ms_and_fin_pushes),
        cmocka_unit_test(msg_more_holds_until_a_send_without_it),
        cmocka_unit_test(blocking_recv_waits_for_rcvlowat),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
