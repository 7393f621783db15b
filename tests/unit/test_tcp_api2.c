/* The stream socket API with Linux's semantics, on the simulator (virtual
 * time) and over loopback with the stack thread where a call must block:
 *  - MSG_WAITALL: a blocking recv waits until the whole length arrived in
 *    several pieces, and returns short at EOF or on a reset;
 *  - EADDRINUSE (a second listener on a port; a port held by TIME-WAIT
 *    unless SO_REUSEADDR) and EADDRNOTAVAIL (an address not on the stack;
 *    connect when every ephemeral port is taken);
 *  - accept4's SOCK_NONBLOCK and SOCK_CLOEXEC on the new descriptor;
 *  - shutdown: SHUT_RD (recv gives 0 once the queue is empty, later data
 *    is still queued and closes the window), SHUT_RDWR, ENOTCONN, EINVAL;
 *  - SO_SNDTIMEO: a blocking send on a full buffer returns the bytes it
 *    copied, then EAGAIN;
 *  - SIGPIPE from a send after a reset, unless MSG_NOSIGNAL or the stack's
 *    raise_sigpipe is off;
 *  - MSG_TRUNC (discards, returns the count) and MSG_PEEK on TCP;
 *  - TCP_INFO in SACK loss recovery (unacked, sacked, lost, retrans,
 *    ssthresh, ca_state) and its RTT and window fields;
 *  - ioctl SIOCINQ / SIOCOUTQ / SIOCOUTQNSD. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <linux/sockios.h>

#include <cmocka.h>

#include "unit/sim_test_util.h"
#include "unit/tcp_test_util.h"
#include "runtime/runtime.h"

#define IP_A 0x0a000001u
#define IP_B 0x0a000002u

/* tnet_setup with a chosen configuration for both hosts. */
static void net_setup_cfg(struct tnet *n, uint64_t seed, const struct ust_stack_config *cfg)
{
    memset(n, 0, sizeof(*n));
    n->seed = seed;
    n->sim = ust_sim_new(seed);
    assert_non_null(n->sim);
    n->a = ust_sim_add_host(n->sim, "A", cfg);
    n->b = ust_sim_add_host(n->sim, "B", cfg);
    SIM_ASSERT(seed, n->a && n->b);
    struct ust_link_params p = { .delay_ns = 1 * TMS };
    n->link = ust_sim_link_new(n->sim, n->a, n->b, &p, &p);
    assert_non_null(n->link);
    struct in_addr ia, ib;
    inet_pton(AF_INET, "10.0.0.1", &ia);
    inet_pton(AF_INET, "10.0.0.2", &ib);
    SIM_ASSERT_EQ(seed, ust_netif_set_ipv4(ust_sim_link_netif(n->link, 0), ia, 24), 0);
    SIM_ASSERT_EQ(seed, ust_netif_set_ipv4(ust_sim_link_netif(n->link, 1), ib, 24), 0);
    ust_sim_run_until_quiet(n->sim, 10 * TSEC);
}

static int ioctl_int(struct ust_stack *s, int fd, unsigned long req)
{
    int v = -1;
    assert_int_equal(ust_ioctl(s, fd, req, &v), 0);
    return v;
}

static struct tcp_info info(struct tnet *n, struct ust_stack *s, int fd)
{
    struct tcp_info ti;
    socklen_t tl = sizeof(ti);
    SIM_ASSERT_EQ(n->seed, ust_getsockopt(s, fd, IPPROTO_TCP, TCP_INFO, &ti, &tl), 0);
    return ti;
}

static int bind_to(struct ust_stack *s, int fd, const char *ip, uint16_t port)
{
    struct sockaddr_in a = tsin(ip, port);
    return ust_bind(s, fd, (struct sockaddr *)&a, sizeof(a));
}

static void set_int(struct ust_stack *s, int fd, int level, int opt, int v)
{
    assert_int_equal(ust_setsockopt(s, fd, level, opt, &v, sizeof(v)), 0);
}

/* ---- Loopback with the stack thread --------------------------------------- */

struct lo {
    struct ust_stack *s;
    int lfd, cfd, sfd;
};

/* A connected pair over 127.0.0.1:port; the server side gets SO_RCVBUF
 * rcvbuf when non-zero (set on the listener, inherited). */
static void lo_setup(struct lo *l, uint16_t port, int rcvbuf)
{
    memset(l, 0, sizeof(*l));
    l->s = ust_stack_new(NULL);
    assert_non_null(l->s);
    assert_int_equal(ust_stack_start(l->s), 0);
    l->lfd = ust_socket(l->s, AF_INET, SOCK_STREAM, 0);
    assert_true(l->lfd >= 0);
    if (rcvbuf)
        set_int(l->s, l->lfd, SOL_SOCKET, SO_RCVBUF, rcvbuf);
    assert_int_equal(bind_to(l->s, l->lfd, "127.0.0.1", port), 0);
    assert_int_equal(ust_listen(l->s, l->lfd, 8), 0);
    l->cfd = ust_socket(l->s, AF_INET, SOCK_STREAM, 0);
    assert_true(l->cfd >= 0);
    struct sockaddr_in a = tsin("127.0.0.1", port);
    assert_int_equal(ust_connect(l->s, l->cfd, (struct sockaddr *)&a, sizeof(a)), 0);
    l->sfd = ust_accept(l->s, l->lfd, NULL, NULL);
    assert_true(l->sfd >= 0);
}

static void lo_free(struct lo *l)
{
    ust_close(l->s, l->cfd);
    ust_close(l->s, l->sfd);
    ust_close(l->s, l->lfd);
    ust_stack_free(l->s);
}

struct waitall_reader {
    struct ust_stack *s;
    int fd;
    size_t want;
    uint8_t buf[4096];
    ssize_t r;
    int err;
    volatile int finished;
};

static void *waitall_main(void *arg)
{
    struct waitall_reader *w = arg;
    w->r = ust_recv(w->s, w->fd, w->buf, w->want, MSG_WAITALL);
    w->err = w->r < 0 ? errno : 0;
    __atomic_store_n(&w->finished, 1, __ATOMIC_RELEASE);
    return NULL;
}

/* Waits (bounded, in wall-clock time, without asserting any duration) until
 * what the client sent is acknowledged and the server's reader took it all
 * from the queue, or the reader returned. */
static void wait_consumed(struct lo *l, struct waitall_reader *w)
{
    uint64_t limit = ust_rt_clock_ns() + 60 * UST_NSEC_PER_SEC;
    while (ioctl_int(l->s, l->cfd, SIOCOUTQ) != 0 || ioctl_int(l->s, l->sfd, SIOCINQ) != 0) {
        if (__atomic_load_n(&w->finished, __ATOMIC_ACQUIRE))
            return;
        assert_true(ust_rt_clock_ns() < limit);
        sched_yield();
    }
}

static void msg_waitall_blocks_until_every_piece_arrived(void **state)
{
    (void)state;
    struct lo l;
    lo_setup(&l, 7901, 0);
    set_int(l.s, l.cfd, IPPROTO_TCP, TCP_NODELAY, 1);
    struct waitall_reader w = { .s = l.s, .fd = l.sfd, .want = 1000 };
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, waitall_main, &w), 0);
    /* Ten pieces of 100 bytes; each one is taken by the blocked reader
     * before the next is sent, so a recv without MSG_WAITALL would have
     * returned the first 100 bytes. */
    uint8_t piece[100];
    for (int i = 0; i < 10; i++) {
        memset(piece, 'a' + i, sizeof(piece));
        assert_int_equal(ust_send(l.s, l.cfd, piece, sizeof(piece), 0), (ssize_t)sizeof(piece));
        wait_consumed(&l, &w);
    }
    pthread_join(t, NULL);
    assert_int_equal(w.r, 1000);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(w.buf[i], 'a' + i / 100);
    lo_free(&l);
}

static void msg_waitall_returns_short_at_eof_and_on_reset(void **state)
{
    (void)state;
    /* EOF: what arrived before the FIN, then 0. */
    struct lo l;
    lo_setup(&l, 7902, 0);
    struct waitall_reader w = { .s = l.s, .fd = l.sfd, .want = 1000 };
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, waitall_main, &w), 0);
    uint8_t piece[300] = { 0 };
    assert_int_equal(ust_send(l.s, l.cfd, piece, sizeof(piece), 0), 300);
    wait_consumed(&l, &w);
    assert_int_equal(ust_shutdown(l.s, l.cfd, SHUT_WR), 0);
    pthread_join(t, NULL);
    assert_int_equal(w.r, 300);
    assert_int_equal(ust_recv(l.s, l.sfd, w.buf, 10, MSG_WAITALL), 0);
    lo_free(&l);

    /* Reset: what was copied, then ECONNRESET. */
    lo_setup(&l, 7903, 0);
    w.fd = l.sfd;
    w.s = l.s;
    w.finished = 0;
    assert_int_equal(pthread_create(&t, NULL, waitall_main, &w), 0);
    assert_int_equal(ust_send(l.s, l.cfd, piece, 200, 0), 200);
    wait_consumed(&l, &w);
    struct linger lg = { .l_onoff = 1, .l_linger = 0 };
    assert_int_equal(ust_setsockopt(l.s, l.cfd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
    assert_int_equal(ust_close(l.s, l.cfd), 0);
    pthread_join(t, NULL);
    assert_int_equal(w.r, 200);
    assert_int_equal(ust_recv(l.s, l.sfd, w.buf, 10, MSG_WAITALL), -1);
    assert_int_equal(errno, ECONNRESET);
    ust_close(l.s, l.sfd);
    ust_close(l.s, l.lfd);
    ust_stack_free(l.s);
}

static void msg_waitall_nonblocking_returns_what_is_there(void **state)
{
    (void)state;
    struct tnet n;
    uint64_t seed = sim_test_seed(1001);
    tnet_setup(&n, seed, NULL);
    int lfd = tlisten(&n, 80, 4), afd;
    int bfd = tconnect_pair(&n, lfd, 80, &afd);
    char buf[64];
    SIM_ASSERT_EQ(seed, ust_recv(n.b, bfd, buf, sizeof(buf), MSG_WAITALL), -1);
    SIM_ASSERT_EQ(seed, errno, EAGAIN);
    SIM_ASSERT_EQ(seed, ust_send(n.a, afd, "abcdef", 6, 0), 6);
    tnet_run(&n, 20 * TMS);
    /* Linux: a non-blocking MSG_WAITALL recv does not wait for the rest. */
    SIM_ASSERT_EQ(seed, ust_recv(n.b, bfd, buf, sizeof(buf), MSG_WAITALL), 6);
    ust_sim_free(n.sim);
}

static void sndtimeo_blocking_send_returns_partial_count_then_eagain(void **state)
{
    (void)state;
    struct lo l;
    lo_setup(&l, 7904, 4096);          /* the peer buffers 8 KiB and never reads */
    set_int(l.s, l.cfd, SOL_SOCKET, SO_SNDBUF, 16384);
    struct timeval tv = { .tv_sec = 0, .tv_usec = 50000 };
    assert_int_equal(ust_setsockopt(l.s, l.cfd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)), 0);
    size_t big = 1u << 20;
    uint8_t *out = malloc(big);
    assert_non_null(out);
    for (size_t i = 0; i < big; i++)
        out[i] = (uint8_t)(i % 251);
    /* Linux sk_stream_wait_memory: the timeout ends the wait; what was
     * copied is the result... */
    ssize_t n1 = ust_send(l.s, l.cfd, out, big, 0);
    assert_true(n1 > 0 && (size_t)n1 < big);
    /* ...and with nothing copied, EAGAIN. */
    assert_int_equal(ust_send(l.s, l.cfd, out + n1, big - (size_t)n1, 0), -1);
    assert_int_equal(errno, EAGAIN);
    /* Exactly the n1 bytes arrive. */
    assert_int_equal(ust_shutdown(l.s, l.cfd, SHUT_WR), 0);
    uint8_t in[8192];
    size_t got = 0;
    for (;;) {
        ssize_t r = ust_recv(l.s, l.sfd, in, sizeof(in), 0);
        assert_true(r >= 0);
        if (r == 0)
            break;
        for (ssize_t i = 0; i < r; i++)
            assert_int_equal(in[i], out[got + (size_t)i]);
        got += (size_t)r;
    }
    assert_int_equal(got, (size_t)n1);
    free(out);
    lo_free(&l);
}

/* ---- EADDRINUSE / EADDRNOTAVAIL -------------------------------------------- */

static void eaddrinuse_for_second_listener_and_time_wait_port(void **state)
{
    (void)state;
    struct tnet n;
    uint64_t seed = sim_test_seed(1002);
    tnet_setup(&n, seed, NULL);
    /* A port with a listener: taken, for a specific or the wildcard address,
     * with or without SO_REUSEADDR (Linux: a listener never shares). */
    int l1 = tsock(&n, n.b);
    set_int(n.b, l1, SOL_SOCKET, SO_REUSEADDR, 1);
    SIM_ASSERT_EQ(seed, bind_to(n.b, l1, "0.0.0.0", 80), 0);
    SIM_ASSERT_EQ(seed, ust_listen(n.b, l1, 4), 0);
    int s2 = tsock(&n, n.b);
    SIM_ASSERT_EQ(seed, bind_to(n.b, s2, "10.0.0.2", 80), -1);
    SIM_ASSERT_EQ(seed, errno, EADDRINUSE);
    set_int(n.b, s2, SOL_SOCKET, SO_REUSEADDR, 1);
    SIM_ASSERT_EQ(seed, bind_to(n.b, s2, "0.0.0.0", 80), -1);
    SIM_ASSERT_EQ(seed, errno, EADDRINUSE);
    /* Two SO_REUSEADDR sockets may both bind while neither listens; the
     * second listen then finds the port taken. */
    int s3 = tsock(&n, n.b), s4 = tsock(&n, n.b);
    set_int(n.b, s3, SOL_SOCKET, SO_REUSEADDR, 1);
    set_int(n.b, s4, SOL_SOCKET, SO_REUSEADDR, 1);
    SIM_ASSERT_EQ(seed, bind_to(n.b, s3, "10.0.0.2", 81), 0);
    SIM_ASSERT_EQ(seed, bind_to(n.b, s4, "10.0.0.2", 81), 0);
    SIM_ASSERT_EQ(seed, ust_listen(n.b, s3, 4), 0);
    SIM_ASSERT_EQ(seed, ust_listen(n.b, s4, 4), -1);
    SIM_ASSERT_EQ(seed, errno, EADDRINUSE);
    /* Without SO_REUSEADDR, even a bound socket that does not listen. */
    int s5 = tsock(&n, n.b), s6 = tsock(&n, n.b);
    SIM_ASSERT_EQ(seed, bind_to(n.b, s5, "10.0.0.2", 82), 0);
    SIM_ASSERT_EQ(seed, bind_to(n.b, s6, "0.0.0.0", 82), -1);
    SIM_ASSERT_EQ(seed, errno, EADDRINUSE);

    /* A port whose connection is in TIME-WAIT (B closed first): a new bind
     * needs SO_REUSEADDR, as a server restart on Linux. */
    int afd;
    int bfd = tconnect_pair(&n, l1, 80, &afd);
    uint16_t aport;
    {
        struct sockaddr_in me;
        socklen_t ml = sizeof(me);
        SIM_ASSERT_EQ(seed, ust_getsockname(n.a, afd, (struct sockaddr *)&me, &ml), 0);
        aport = ntohs(me.sin_port);
    }
    SIM_ASSERT_EQ(seed, ust_close(n.b, bfd), 0);
    tnet_run(&n, 20 * TMS);
    SIM_ASSERT_EQ(seed, ust_close(n.a, afd), 0);
    tnet_run(&n, 20 * TMS);
    SIM_ASSERT_EQ(seed, ust_close(n.b, l1), 0);
    SIM_ASSERT_EQ(seed, ust_close(n.b, s2), 0);
    struct ust_tcb *tw = ust_tcp_lookup(n.b, IP_B, 80, IP_A, aport);
    SIM_ASSERT(seed, tw != NULL && tw->state == UST_TCP_TIME_WAIT);
    int s7 = tsock(&n, n.b);
    SIM_ASSERT_EQ(seed, bind_to(n.b, s7, "10.0.0.2", 80), -1);
    SIM_ASSERT_EQ(seed, errno, EADDRINUSE);
    set_int(n.b, s7, SOL_SOCKET, SO_REUSEADDR, 1);
    SIM_ASSERT_EQ(seed, bind_to(n.b, s7, "10.0.0.2", 80), 0);
    SIM_ASSERT_EQ(seed, ust_listen(n.b, s7, 4), 0);
    ust_sim_free(n.sim);
}

static void eaddrnotavail_foreign_address_and_exhausted_ephemeral_ports(void **state)
{
    (void)state;
    struct ust_stack_config cfg;
    ust_stack_config_init(&cfg);
    cfg.arp_reachable_ns = 36000 * TSEC;
    cfg.ephemeral_lo = cfg.ephemeral_hi = 40000;    /* ip_local_port_range "40000 40000" */
    struct tnet n;
    uint64_t seed = sim_test_seed(1003);
    net_setup_cfg(&n, seed, &cfg);
    /* bind to an address the stack does not have. */
    int fd = tsock(&n, n.a);
    SIM_ASSERT_EQ(seed, bind_to(n.a, fd, "10.0.0.99", 80), -1);
    SIM_ASSERT_EQ(seed, errno, EADDRNOTAVAIL);
    SIM_ASSERT_EQ(seed, bind_to(n.a, fd, "10.0.0.2", 80), -1);     /* the peer's */
    SIM_ASSERT_EQ(seed, errno, EADDRNOTAVAIL);
    SIM_ASSERT_EQ(seed, bind_to(n.a, fd, "127.0.0.1", 80), 0);
    ust_close(n.a, fd);

    /* One ephemeral port: the first connect takes it. */
    int lfd = tlisten(&n, 80, 8), afd;
    int bfd = tconnect_pair(&n, lfd, 80, &afd);
    (void)bfd;
    struct sockaddr_in me;
    socklen_t ml = sizeof(me);
    SIM_ASSERT_EQ(seed, ust_getsockname(n.a, afd, (struct sockaddr *)&me, &ml), 0);
    SIM_ASSERT_EQ(seed, ntohs(me.sin_port), 40000);
    /* Linux: connect with no port left gives EADDRNOTAVAIL... */
    int c2 = tsock(&n, n.a);
    struct sockaddr_in sb = tsin("10.0.0.2", 80);
    SIM_ASSERT_EQ(seed, ust_connect(n.a, c2, (struct sockaddr *)&sb, sizeof(sb)), -1);
    SIM_ASSERT_EQ(seed, errno, EADDRNOTAVAIL);
    /* ...bind to port 0 and listen's autobind give EADDRINUSE. */
    int c3 = tsock(&n, n.a);
    SIM_ASSERT_EQ(seed, bind_to(n.a, c3, "0.0.0.0", 0), -1);
    SIM_ASSERT_EQ(seed, errno, EADDRINUSE);
    SIM_ASSERT_EQ(seed, ust_listen(n.a, c3, 4), -1);
    SIM_ASSERT_EQ(seed, errno, EADDRINUSE);
    /* Once the port is free again, connect works. */
    struct linger lg = { .l_onoff = 1, .l_linger = 0 };
    SIM_ASSERT_EQ(seed, ust_setsockopt(n.a, afd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
    SIM_ASSERT_EQ(seed, ust_close(n.a, afd), 0);            /* RST: no TIME-WAIT */
    tnet_run(&n, 20 * TMS);
    int c4 = tsock(&n, n.a);
    int r = ust_connect(n.a, c4, (struct sockaddr *)&sb, sizeof(sb));
    SIM_ASSERT(seed, r == -1 && errno == EINPROGRESS);
    tnet_run(&n, 20 * TMS);
    SIM_ASSERT_EQ(seed, tstate(n.a, c4), UST_TCP_ESTABLISHED);
    ust_sim_free(n.sim);
}

/* ---- accept4 ----------------------------------------------------------------- */

static void accept4_flags_take_effect_on_the_new_descriptor(void **state)
{
    (void)state;
    struct tnet n;
    uint64_t seed = sim_test_seed(1004);
    tnet_setup(&n, seed, NULL);
    int lfd = tlisten(&n, 80, 4);       /* the listener is O_NONBLOCK */
    int a1 = tsock(&n, n.a), a2 = tsock(&n, n.a);
    struct sockaddr_in sb = tsin("10.0.0.2", 80);
    ust_connect(n.a, a1, (struct sockaddr *)&sb, sizeof(sb));
    ust_connect(n.a, a2, (struct sockaddr *)&sb, sizeof(sb));
    tnet_run(&n, 50 * TMS);
    SIM_ASSERT_EQ(seed, ust_accept4(n.b, lfd, NULL, NULL, 0x1000), -1);   /* unknown flag */
    SIM_ASSERT_EQ(seed, errno, EINVAL);
    int b1 = ust_accept4(n.b, lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    SIM_ASSERT(seed, b1 >= 0);
    SIM_ASSERT(seed, (ust_fcntl(n.b, b1, F_GETFL) & O_NONBLOCK) != 0);
    SIM_ASSERT_EQ(seed, ust_fcntl(n.b, b1, F_GETFD), FD_CLOEXEC);
    /* Linux: the new socket does not inherit the listener's O_NONBLOCK. */
    int b2 = ust_accept4(n.b, lfd, NULL, NULL, 0);
    SIM_ASSERT(seed, b2 >= 0);
    SIM_ASSERT_EQ(seed, ust_fcntl(n.b, b2, F_GETFL) & O_NONBLOCK, 0);
    SIM_ASSERT_EQ(seed, ust_fcntl(n.b, b2, F_GETFD), 0);
    SIM_ASSERT(seed, (ust_fcntl(n.b, lfd, F_GETFL) & O_NONBLOCK) != 0);
    ust_sim_free(n.sim);
}

/* ---- shutdown ---------------------------------------------------------------- */

static void shutdown_rd_reads_zero_yet_later_data_is_queued_and_closes_window(void **state)
{
    (void)state;
    struct tnet n;
    uint64_t seed = sim_test_seed(1005);
    tnet_setup(&n, seed, NULL);
    int lfd = tsock(&n, n.b);
    set_int(n.b, lfd, SOL_SOCKET, SO_RCVBUF, 4096);     /* 8 KiB */
    SIM_ASSERT_EQ(seed, bind_to(n.b, lfd, "10.0.0.2", 80), 0);
    SIM_ASSERT_EQ(seed, ust_listen(n.b, lfd, 4), 0);
    int afd;
    int bfd = tconnect_pair(&n, lfd, 80, &afd);
    SIM_ASSERT_EQ(seed, ust_send(n.a, afd, "hello", 5, 0), 5);
    tnet_run(&n, 50 * TMS);
    SIM_ASSERT_EQ(seed, ust_shutdown(n.b, bfd, SHUT_RD), 0);
    /* Linux tcp_recvmsg: queued data is still read, then 0 (no EAGAIN). */
    char buf[16384];
    SIM_ASSERT_EQ(seed, ust_recv(n.b, bfd, buf, sizeof(buf), 0), 5);
    SIM_ASSERT_EQ(seed, ust_recv(n.b, bfd, buf, sizeof(buf), 0), 0);
    struct pollfd p = { .fd = bfd, .events = POLLIN | POLLRDHUP };
    SIM_ASSERT_EQ(seed, ust_poll(n.b, &p, 1, 0), 1);
    SIM_ASSERT_EQ(seed, p.revents & (POLLIN | POLLRDHUP), POLLIN | POLLRDHUP);
    /* The peer is not told; what it sends later is queued, readable, and
     * fills the window, which closes: no segment is sent into a full
     * buffer (so none is retransmitted). */
    static uint8_t out[20000];
    for (size_t i = 0; i < sizeof(out); i++)
        out[i] = (uint8_t)(i * 13);
    ssize_t w = ust_send(n.a, afd, out, sizeof(out), 0);
    SIM_ASSERT(seed, w > 8192);
    tnet_run(&n, 3 * TSEC);
    SIM_ASSERT_EQ(seed, info(&n, n.a, afd).tcpi_total_retrans, 0);
    SIM_ASSERT_EQ(seed, ttcb(n.a, afd)->snd_wnd, 0);
    /* Reading "hello" opened the window by 5 bytes only, too little to
     * move the right edge (receiver SWS avoidance): 8 KiB minus 5 fit. */
    SIM_ASSERT_EQ(seed, ioctl_int(n.b, bfd, SIOCINQ), 8192 - 5);
    size_t got = 0;
    for (int i = 0; i < 200 && got < (size_t)w; i++) {
        ssize_t r = ust_recv(n.b, bfd, buf, sizeof(buf), 0);
        SIM_ASSERT(seed, r >= 0);
        SIM_ASSERT_EQ(seed, memcmp(buf, out + got, (size_t)r), 0);
        got += (size_t)r;
        tnet_run(&n, 20 * TMS);
    }
    SIM_ASSERT_EQ(seed, got, (size_t)w);
    SIM_ASSERT_EQ(seed, ust_recv(n.b, bfd, buf, sizeof(buf), 0), 0);
    /* SHUT_RD leaves the sending direction alone. */
    SIM_ASSERT_EQ(seed, ust_send(n.b, bfd, "ok", 2, 0), 2);
    tnet_run(&n, 50 * TMS);
    SIM_ASSERT_EQ(seed, ust_recv(n.a, afd, buf, sizeof(buf), 0), 2);
    ust_sim_free(n.sim);
}

static void shutdown_rdwr_enotconn_and_einval(void **state)
{
    (void)state;
    struct tnet n;
    uint64_t seed = sim_test_seed(1006);
    tnet_setup(&n, seed, NULL);
    /* Never connected: ENOTCONN for each direction; a bad `how` first. */
    int fd = tsock(&n, n.a);
    SIM_ASSERT_EQ(seed, ust_shutdown(n.a, fd, 3), -1);
    SIM_ASSERT_EQ(seed, errno, EINVAL);
    const int hows[] = { SHUT_RD, SHUT_WR, SHUT_RDWR };
    for (int i = 0; i < 3; i++) {
        SIM_ASSERT_EQ(seed, ust_shutdown(n.a, fd, hows[i]), -1);
        SIM_ASSERT_EQ(seed, errno, ENOTCONN);
    }
    /* A listener shut down stops listening (Linux tcp_disconnect). */
    int l2 = tlisten(&n, 81, 4);
    SIM_ASSERT_EQ(seed, ust_shutdown(n.b, l2, SHUT_RDWR), 0);
    SIM_ASSERT_EQ(seed, ust_accept(n.b, l2, NULL, NULL), -1);
    SIM_ASSERT_EQ(seed, errno, EINVAL);
    /* SHUT_RDWR: our FIN goes (the peer reads EOF), sends fail with EPIPE,
     * recv gives 0. */
    int lfd = tlisten(&n, 80, 4), afd;
    int bfd = tconnect_pair(&n, lfd, 80, &afd);
    SIM_ASSERT_EQ(seed, ust_shutdown(n.a, afd, SHUT_RDWR), 0);
    tnet_run(&n, 50 * TMS);
    char buf[8];
    SIM_ASSERT_EQ(seed, ust_recv(n.b, bfd, buf, sizeof(buf), 0), 0);
    SIM_ASSERT_EQ(seed, ust_recv(n.a, afd, buf, sizeof(buf), 0), 0);
    SIM_ASSERT_EQ(seed, ust_send(n.a, afd, "x", 1, MSG_NOSIGNAL), -1);
    SIM_ASSERT_EQ(seed, errno, EPIPE);
    SIM_ASSERT_EQ(seed, tstate(n.a, afd), UST_TCP_FIN_WAIT_2);
    struct pollfd p = { .fd = afd, .events = POLLIN | POLLOUT | POLLRDHUP };
    SIM_ASSERT_EQ(seed, ust_poll(n.a, &p, 1, 0), 1);
    SIM_ASSERT(seed, (p.revents & (POLLIN | POLLRDHUP | POLLOUT | POLLHUP)) ==
                         (POLLIN | POLLRDHUP | POLLOUT | POLLHUP));
    ust_sim_free(n.sim);
}

/* ---- SIGPIPE ---------------------------------------------------------------------- */

static volatile sig_atomic_t sigpipes;

static void on_sigpipe(int sig)
{
    (void)sig;
    sigpipes++;
}

/* A connection A->B that B resets; A has read the reset. */
static int reset_by_peer(struct tnet *n, int *afd)
{
    int lfd = tlisten(n, 80, 4);
    int bfd = tconnect_pair(n, lfd, 80, afd);
    struct linger lg = { .l_onoff = 1, .l_linger = 0 };
    SIM_ASSERT_EQ(n->seed, ust_setsockopt(n->b, bfd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
    SIM_ASSERT_EQ(n->seed, ust_close(n->b, bfd), 0);
    tnet_run(n, 20 * TMS);
    return lfd;
}

static void sigpipe_on_send_after_reset_unless_nosignal_or_disabled(void **state)
{
    (void)state;
    struct sigaction sa, old;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_sigpipe;
    sigemptyset(&sa.sa_mask);
    assert_int_equal(sigaction(SIGPIPE, &sa, &old), 0);
    sigpipes = 0;

    struct tnet n;
    uint64_t seed = sim_test_seed(1007);
    tnet_setup(&n, seed, NULL);
    SIM_ASSERT(seed, n.a->cfg.raise_sigpipe);
    int afd;
    reset_by_peer(&n, &afd);
    /* Linux tcp_sendmsg: the pending ECONNRESET first, without a signal... */
    SIM_ASSERT_EQ(seed, ust_send(n.a, afd, "x", 1, 0), -1);
    SIM_ASSERT_EQ(seed, errno, ECONNRESET);
    SIM_ASSERT_EQ(seed, sigpipes, 0);
    /* ...then EPIPE with SIGPIPE, unless MSG_NOSIGNAL. */
    SIM_ASSERT_EQ(seed, ust_send(n.a, afd, "x", 1, MSG_NOSIGNAL), -1);
    SIM_ASSERT_EQ(seed, errno, EPIPE);
    SIM_ASSERT_EQ(seed, sigpipes, 0);
    SIM_ASSERT_EQ(seed, ust_send(n.a, afd, "x", 1, 0), -1);
    SIM_ASSERT_EQ(seed, errno, EPIPE);
    SIM_ASSERT_EQ(seed, sigpipes, 1);
    SIM_ASSERT_EQ(seed, ust_write(n.a, afd, "x", 1), -1);
    SIM_ASSERT_EQ(seed, errno, EPIPE);
    SIM_ASSERT_EQ(seed, sigpipes, 2);
    /* After our own shutdown(SHUT_WR) too. */
    int lfd = tlisten(&n, 81, 4), a2;
    tconnect_pair(&n, lfd, 81, &a2);
    SIM_ASSERT_EQ(seed, ust_shutdown(n.a, a2, SHUT_WR), 0);
    SIM_ASSERT_EQ(seed, ust_send(n.a, a2, "x", 1, 0), -1);
    SIM_ASSERT_EQ(seed, errno, EPIPE);
    SIM_ASSERT_EQ(seed, sigpipes, 3);
    ust_sim_free(n.sim);

    /* A stack configured not to raise signals: EPIPE only. */
    struct ust_stack_config cfg;
    ust_stack_config_init(&cfg);
    cfg.arp_reachable_ns = 36000 * TSEC;
    cfg.raise_sigpipe = 0;
    net_setup_cfg(&n, seed, &cfg);
    reset_by_peer(&n, &afd);
    SIM_ASSERT_EQ(seed, ust_send(n.a, afd, "x", 1, 0), -1);
    SIM_ASSERT_EQ(seed, errno, ECONNRESET);
    SIM_ASSERT_EQ(seed, ust_send(n.a, afd, "x", 1, 0), -1);
    SIM_ASSERT_EQ(seed, errno, EPIPE);
    SIM_ASSERT_EQ(seed, sigpipes, 3);
    ust_sim_free(n.sim);
    assert_int_equal(sigaction(SIGPIPE, &old, NULL), 0);
}

/* ---- MSG_TRUNC, MSG_PEEK ------------------------------------------------------------ */

static void msg_trunc_discards_and_msg_peek_keeps(void **state)
{
    (void)state;
    struct tnet n;
    uint64_t seed = sim_test_seed(1008);
    tnet_setup(&n, seed, NULL);
    int lfd = tlisten(&n, 80, 4), afd;
    int bfd = tconnect_pair(&n, lfd, 80, &afd);
    SIM_ASSERT_EQ(seed, ust_send(n.a, afd, "0123456789", 10, 0), 10);
    tnet_run(&n, 50 * TMS);
    char buf[32];
    /* MSG_PEEK copies without consuming, as often as asked. */
    SIM_ASSERT_EQ(seed, ust_recv(n.b, bfd, buf, 4, MSG_PEEK), 4);
    SIM_ASSERT_EQ(seed, memcmp(buf, "0123", 4), 0);
    SIM_ASSERT_EQ(seed, ust_recv(n.b, bfd, buf, sizeof(buf), MSG_PEEK), 10);
    SIM_ASSERT_EQ(seed, memcmp(buf, "0123456789", 10), 0);
    SIM_ASSERT_EQ(seed, ioctl_int(n.b, bfd, SIOCINQ), 10);
    /* Linux tcp_recvmsg with MSG_TRUNC: the bytes are dropped, not copied,
     * and counted. */
    memset(buf, 0xaa, sizeof(buf));
    SIM_ASSERT_EQ(seed, ust_recv(n.b, bfd, buf, 4, MSG_TRUNC), 4);
    SIM_ASSERT_EQ(seed, (uint8_t)buf[0], 0xaa);
    SIM_ASSERT_EQ(seed, (uint8_t)buf[3], 0xaa);
    SIM_ASSERT_EQ(seed, ioctl_int(n.b, bfd, SIOCINQ), 6);
    /* MSG_PEEK | MSG_TRUNC: counted, neither copied nor consumed. */
    SIM_ASSERT_EQ(seed, ust_recv(n.b, bfd, buf, 3, MSG_PEEK | MSG_TRUNC), 3);
    SIM_ASSERT_EQ(seed, (uint8_t)buf[0], 0xaa);
    SIM_ASSERT_EQ(seed, ioctl_int(n.b, bfd, SIOCINQ), 6);
    SIM_ASSERT_EQ(seed, ust_recv(n.b, bfd, buf, 2, 0), 2);
    SIM_ASSERT_EQ(seed, memcmp(buf, "45", 2), 0);
    /* More asked than queued: what there is. */
    SIM_ASSERT_EQ(seed, ust_recv(n.b, bfd, buf, sizeof(buf), MSG_TRUNC), 4);
    SIM_ASSERT_EQ(seed, ioctl_int(n.b, bfd, SIOCINQ), 0);
    SIM_ASSERT_EQ(seed, ust_recv(n.b, bfd, buf, sizeof(buf), MSG_TRUNC), -1);
    SIM_ASSERT_EQ(seed, errno, EAGAIN);
    SIM_ASSERT_EQ(seed, ust_recv(n.b, bfd, buf, sizeof(buf), MSG_PEEK), -1);
    SIM_ASSERT_EQ(seed, errno, EAGAIN);
    /* The stream goes on after the discarded bytes. */
    SIM_ASSERT_EQ(seed, ust_send(n.a, afd, "abc", 3, 0), 3);
    tnet_run(&n, 50 * TMS);
    SIM_ASSERT_EQ(seed, ust_recv(n.b, bfd, buf, sizeof(buf), 0), 3);
    SIM_ASSERT_EQ(seed, memcmp(buf, "abc", 3), 0);
    ust_sim_free(n.sim);
}

/* ---- TCP_INFO ------------------------------------------------------------------------ */

static void set_loss(struct tnet *n, int dir, double loss)
{
    struct ust_link_params p = { .delay_ns = 1 * TMS, .loss = loss };
    ust_sim_link_set_params(n->link, dir, &p);
}

static void tcp_info_in_sack_recovery_counts_unacked_sacked_lost(void **state)
{
    (void)state;
    struct tnet n;
    uint64_t seed = sim_test_seed(1009);
    tnet_setup(&n, seed, NULL);
    int lfd = tlisten(&n, 80, 4), afd;
    int bfd = tconnect_pair(&n, lfd, 80, &afd);
    /* One RTT sample (the SYN-ACK; the SYN waited for ARP): RFC 6298 2.2
     * RTTVAR = R/2, and the RTO is at least the 200 ms floor. */
    struct tcp_info ti = info(&n, n.a, afd);
    SIM_ASSERT(seed, ti.tcpi_rtt >= 2000 && ti.tcpi_rtt <= 5000);
    SIM_ASSERT_EQ(seed, ti.tcpi_rttvar, ti.tcpi_rtt / 2);
    SIM_ASSERT(seed, ti.tcpi_rto >= 200000 && ti.tcpi_rto <= 200000 + ti.tcpi_rtt + 4 * ti.tcpi_rttvar);
    /* Known quiet state: nothing outstanding, ssthresh not set yet (Linux
     * reports TCP_INFINITE_SSTHRESH). */
    SIM_ASSERT_EQ(seed, ust_send(n.a, afd, "warm", 4, 0), 4);
    tnet_run(&n, 200 * TMS);
    ti = info(&n, n.a, afd);
    SIM_ASSERT_EQ(seed, ti.tcpi_state, TCP_ESTABLISHED);
    SIM_ASSERT_EQ(seed, ti.tcpi_ca_state, 0);
    SIM_ASSERT_EQ(seed, ti.tcpi_unacked, 0);
    SIM_ASSERT_EQ(seed, ti.tcpi_sacked, 0);
    SIM_ASSERT_EQ(seed, ti.tcpi_lost, 0);
    SIM_ASSERT_EQ(seed, ti.tcpi_snd_ssthresh, 0x7fffffff);
    /* The delayed ACK of "warm" (40 ms) was sampled too. */
    SIM_ASSERT(seed, ti.tcpi_rtt > 2000 && ti.tcpi_rtt < 43000);
    SIM_ASSERT(seed, ti.tcpi_rttvar > 0);
    SIM_ASSERT(seed, (ti.tcpi_options & TCPI_OPT_SACK) != 0);
    uint32_t mss = ti.tcpi_snd_mss, cwnd0 = ti.tcpi_snd_cwnd;
    SIM_ASSERT(seed, cwnd0 >= 10);
    /* B's window: what it advertised last, its buffer less the sixteenth
     * kept back for the rounding of the scaled window (tcp_output.c:
     * ust_tcp_rcv_window) less the 4 unread bytes, in units of 2^wscale. */
    struct tcp_info bi = info(&n, n.b, bfd);
    int rcvbuf = 0;
    socklen_t rl = sizeof(rcvbuf);
    SIM_ASSERT_EQ(seed, ust_getsockopt(n.b, bfd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, &rl), 0);
    uint32_t unit = 1u << bi.tcpi_rcv_wscale;
    uint32_t slack = (uint32_t)rcvbuf / 16 > 2 * unit ? (uint32_t)rcvbuf / 16 : 2 * unit;
    uint32_t offer = (uint32_t)rcvbuf - slack;
    SIM_ASSERT(seed, bi.tcpi_rcv_space + 4 + unit > offer && bi.tcpi_rcv_space <= offer);
    char sink[8];
    SIM_ASSERT_EQ(seed, ust_recv(n.b, bfd, sink, sizeof(sink), 0), 4);

    /* One full segment lost, five behind it delivered: B SACKs them; the
     * first retransmission is lost too, so A stays in recovery. */
    static uint8_t data[6 * 1448];
    SIM_ASSERT(seed, 6 * mss <= sizeof(data));
    set_loss(&n, 0, 1.0);
    SIM_ASSERT_EQ(seed, ust_send(n.a, afd, data, mss, 0), (ssize_t)mss);
    set_loss(&n, 0, 0.0);
    SIM_ASSERT_EQ(seed, ust_send(n.a, afd, data, 5 * mss, 0), (ssize_t)(5 * mss));
    set_loss(&n, 0, 1.0);
    tnet_run(&n, 20 * TMS);
    ti = info(&n, n.a, afd);
    SIM_ASSERT_EQ(seed, ti.tcpi_ca_state, 3);               /* TCP_CA_Recovery */
    SIM_ASSERT_EQ(seed, ti.tcpi_unacked, 6);
    SIM_ASSERT_EQ(seed, ti.tcpi_sacked, 5);
    SIM_ASSERT_EQ(seed, ti.tcpi_lost, 1);
    SIM_ASSERT_EQ(seed, ti.tcpi_retrans, 1);
    SIM_ASSERT(seed, ti.tcpi_total_retrans >= 1);
    SIM_ASSERT(seed, ti.tcpi_snd_ssthresh >= 2 && ti.tcpi_snd_ssthresh < cwnd0);
    SIM_ASSERT_EQ(seed, ioctl_int(n.a, afd, SIOCOUTQ), (int)(6 * mss));
    SIM_ASSERT_EQ(seed, ioctl_int(n.b, bfd, SIOCINQ), 0);   /* the hole holds it back */
    /* The wire heals: everything arrives, nothing is outstanding. */
    set_loss(&n, 0, 0.0);
    tnet_run(&n, 3 * TSEC);
    ti = info(&n, n.a, afd);
    SIM_ASSERT_EQ(seed, ti.tcpi_ca_state, 0);
    SIM_ASSERT_EQ(seed, ti.tcpi_unacked, 0);
    SIM_ASSERT_EQ(seed, ti.tcpi_sacked, 0);
    SIM_ASSERT_EQ(seed, ti.tcpi_lost, 0);
    SIM_ASSERT_EQ(seed, ioctl_int(n.b, bfd, SIOCINQ), (int)(6 * mss));
    ust_sim_free(n.sim);
}

/* ---- SIOCINQ / SIOCOUTQ ---------------------------------------------------------------- */

static void siocinq_siocoutq_count_unread_and_unacked_bytes(void **state)
{
    (void)state;
    struct tnet n;
    uint64_t seed = sim_test_seed(1010);
    tnet_setup(&n, seed, NULL);
    int lfd = tlisten(&n, 80, 4), afd;
    int v;
    /* Linux tcp_ioctl: EINVAL on a listener. */
    SIM_ASSERT_EQ(seed, ust_ioctl(n.b, lfd, SIOCINQ, &v), -1);
    SIM_ASSERT_EQ(seed, errno, EINVAL);
    SIM_ASSERT_EQ(seed, ust_ioctl(n.b, lfd, SIOCOUTQ, &v), -1);
    SIM_ASSERT_EQ(seed, errno, EINVAL);
    int bfd = tconnect_pair(&n, lfd, 80, &afd);
    SIM_ASSERT_EQ(seed, ioctl_int(n.a, afd, SIOCOUTQ), 0);
    SIM_ASSERT_EQ(seed, ioctl_int(n.b, bfd, SIOCINQ), 0);
    /* Sent but lost: counted in SIOCOUTQ (write_seq - snd_una), not in
     * SIOCOUTQNSD (not yet sent). */
    static uint8_t data[5000];
    set_loss(&n, 0, 1.0);
    SIM_ASSERT_EQ(seed, ust_send(n.a, afd, data, sizeof(data), 0), (ssize_t)sizeof(data));
    tnet_run(&n, 10 * TMS);
    SIM_ASSERT_EQ(seed, ioctl_int(n.a, afd, SIOCOUTQ), 5000);
    SIM_ASSERT_EQ(seed, ioctl_int(n.a, afd, SIOCOUTQNSD), 0);
    SIM_ASSERT_EQ(seed, ioctl_int(n.b, bfd, SIOCINQ), 0);
    /* The retransmission gets through: acknowledged, queued at B. */
    set_loss(&n, 0, 0.0);
    tnet_run(&n, 2 * TSEC);
    SIM_ASSERT_EQ(seed, ioctl_int(n.a, afd, SIOCOUTQ), 0);
    SIM_ASSERT_EQ(seed, ioctl_int(n.b, bfd, SIOCINQ), 5000);
    char buf[1500];
    SIM_ASSERT_EQ(seed, ust_recv(n.b, bfd, buf, 1000, 0), 1000);
    SIM_ASSERT_EQ(seed, ioctl_int(n.b, bfd, SIOCINQ), 4000);
    SIM_ASSERT_EQ(seed, ust_recv(n.b, bfd, buf, 500, MSG_PEEK), 500);
    SIM_ASSERT_EQ(seed, ioctl_int(n.b, bfd, SIOCINQ), 4000);
    /* The FIN is not a byte to read. */
    SIM_ASSERT_EQ(seed, ust_shutdown(n.a, afd, SHUT_WR), 0);
    tnet_run(&n, 50 * TMS);
    SIM_ASSERT_EQ(seed, ioctl_int(n.b, bfd, SIOCINQ), 4000);
    size_t got = 0;
    ssize_t r;
    while ((r = ust_recv(n.b, bfd, buf, sizeof(buf), 0)) > 0)
        got += (size_t)r;
    SIM_ASSERT_EQ(seed, r, 0);
    SIM_ASSERT_EQ(seed, got, 4000);
    SIM_ASSERT_EQ(seed, ioctl_int(n.b, bfd, SIOCINQ), 0);
    ust_sim_free(n.sim);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(msg_waitall_blocks_until_every_piece_arrived),
        cmocka_unit_test(msg_waitall_returns_short_at_eof_and_on_reset),
        cmocka_unit_test(msg_waitall_nonblocking_returns_what_is_there),
        cmocka_unit_test(sndtimeo_blocking_send_returns_partial_count_then_eagain),
        cmocka_unit_test(eaddrinuse_for_second_listener_and_time_wait_port),
        cmocka_unit_test(eaddrnotavail_foreign_address_and_exhausted_ephemeral_ports),
        cmocka_unit_test(accept4_flags_take_effect_on_the_new_descriptor),
        cmocka_unit_test(shutdown_rd_reads_zero_yet_later_data_is_queued_and_closes_window),
        cmocka_unit_test(shutdown_rdwr_enotconn_and_einval),
        cmocka_unit_test(sigpipe_on_send_after_reset_unless_nosignal_or_disabled),
        cmocka_unit_test(msg_trunc_discards_and_msg_peek_keeps),
        cmocka_unit_test(tcp_info_in_sack_recovery_counts_unacked_sacked_lost),
        cmocka_unit_test(siocinq_siocoutq_count_unread_and_unacked_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
