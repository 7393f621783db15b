/* Orphaned connections and socket memory against hostile peers, on the
 * simulator (see test_hostile_util.h for the world):
 *  - tcp_max_orphans (Linux): a peer that never ACKs our FIN, over 10,000
 *    connections the application closes: the orphans stay at the limit,
 *    each one beyond it is reset at close (TCP.TCPAbortOnMemory, a RST on
 *    the wire), and memory stays flat;
 *  - memory pressure kills orphans first: orphans holding unacknowledged
 *    data fill a small mem_limit; a live connection that needs a receive
 *    buffer gets it by resetting the oldest orphans, and its transfer is
 *    byte-exact;
 *  - socket buffers count in mem_limit: 2000 connections whose receive
 *    buffers are filled by the peer (never read) against an 8 MiB cap: the
 *    counted memory (frame buffers + connection blocks + ring storage)
 *    never exceeds the cap, data beyond it is dropped (TCP.TCPRcvQDrop)
 *    and retransmitted later, socket() fails with ENOBUFS and a SYN is
 *    dropped (ListenDrops) once even a connection block does not fit,
 *    setsockopt(SO_RCVBUF) still succeeds, and everything recovers when
 *    the connections close. */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "unit/sim_test_util.h"
#include "unit/tcp_test_util.h"
#include "unit/test_hostile_util.h"

/* The mem_limit under which sockets may hold `bytes` (all but the eighth
 * kept for frame buffers, tcp_mem.c). */
static size_t limit_for_sockets(size_t bytes)
{
    size_t l = bytes + bytes / 7;
    while (l - l / 8 < bytes)
        l++;
    return l;
}

/* What counts against mem_limit on s. */
static size_t counted(struct ust_stack *s)
{
    ust_rt_lock(s);
    size_t n = s->fbpool.in_use_bytes + s->fbpool.ext_bytes;
    ust_rt_unlock(s);
    return n;
}

static uint32_t orphans(struct ust_stack *s)
{
    ust_rt_lock(s);
    uint32_t n = s->tcp.orphans;
    ust_rt_unlock(s);
    return n;
}

/* M opens n connections to B:bport from ports mport.. (one batch: SYNs,
 * then the ACKs), B accepts them into fds[]. */
static void m_connect_batch(struct hx *h, int lfd, uint16_t bport, uint16_t mport, int n,
                            struct hx_conn *c)
{
    uint64_t seed = h->n.seed;
    for (int i = 0; i < n; i++) {
        c[i].mport = (uint16_t)(mport + i);
        c[i].bport = bport;
        c[i].m_isn = 1000u * (uint32_t)(mport + i);
        hx_tcp_to_b(h, HX_IP_M, c[i].mport, bport, c[i].m_isn, 0, UST_TCP_SYN, 65535, hx_synopts,
                    sizeof(hx_synopts), NULL, 0);
    }
    tnet_run(&h->n, 3 * TMS);
    for (int i = 0; i < n; i++) {
        const struct hx_seg *sa = hx_last_to(h, HX_IP_M, c[i].mport);
        SIM_ASSERT(seed, sa != NULL);
        SIM_ASSERT_EQ(seed, sa->th.flags, UST_TCP_SYN | UST_TCP_ACK);
        c[i].b_isn = sa->th.seq;
        hx_tcp_to_b(h, HX_IP_M, c[i].mport, bport, c[i].m_isn + 1, c[i].b_isn + 1, UST_TCP_ACK,
                    1024, NULL, 0, NULL, 0);
    }
    tnet_run(&h->n, 3 * TMS);
    for (int i = 0; i < n; i++) {
        c[i].bfd = ust_accept4(h->n.b, lfd, NULL, NULL, SOCK_NONBLOCK);
        SIM_ASSERT(seed, c[i].bfd >= 0);
    }
}

#define ORPH_TOTAL 10000
#define ORPH_BATCH 100
#define ORPH_MAX 100

static void orphans_of_a_peer_that_never_acks_fin_stay_at_tcp_max_orphans(void **state)
{
    (void)state;
    static struct hx h;
    static struct hx_conn c[ORPH_BATCH];
    uint64_t seed = sim_test_seed(7201);
    hx_setup(&h, seed);
    struct ust_stack *b = h.n.b;
    ust_rt_lock(b);
    b->cfg.tcp_max_orphans = ORPH_MAX;
    ust_rt_unlock(b);
    int lfd = tlisten(&h.n, 80, 128);
    struct hx_mem base = hx_mem(b);
    size_t base_counted = counted(b);
    uint64_t ab0 = ust_stat_get(b, UST_STAT_TCP_TCPAbortOnMemory);
    uint64_t rst0 = ust_stat_get(b, UST_STAT_TCP_OutRsts);
    uint32_t max_orphans = 0, max_conns = 0;
    size_t max_counted = 0, max_fbuf = 0;
    for (int done = 0; done < ORPH_TOTAL; done += ORPH_BATCH) {
        m_connect_batch(&h, lfd, 80, (uint16_t)(10000 + done), ORPH_BATCH, c);
        /* The application closes each one; B's FIN goes to M, which never
         * answers it. */
        for (int i = 0; i < ORPH_BATCH; i++) {
            SIM_ASSERT_EQ(seed, ust_close(b, c[i].bfd), 0);
            SIM_ASSERT(seed, orphans(b) <= ORPH_MAX);
        }
        tnet_run(&h.n, 50 * TMS);
        struct hx_mem m = hx_mem(b);
        max_orphans = orphans(b) > max_orphans ? orphans(b) : max_orphans;
        max_conns = m.conns > max_conns ? m.conns : max_conns;
        max_fbuf = m.fbuf_bytes > max_fbuf ? m.fbuf_bytes : max_fbuf;
        max_counted = counted(b) > max_counted ? counted(b) : max_counted;
    }
    uint64_t aborted = ust_stat_get(b, UST_STAT_TCP_TCPAbortOnMemory) - ab0;
    print_message("  %d orphans made: at most %u at once (limit %d), %u blocks, %" PRIu64
                  " reset at close; frame buffers at most %zu bytes, counted memory at most "
                  "%zu (%zu at the start)\n",
                  ORPH_TOTAL, max_orphans, ORPH_MAX, max_conns, aborted, max_fbuf, max_counted,
                  base_counted);
    SIM_ASSERT_EQ(seed, max_orphans, ORPH_MAX);
    SIM_ASSERT(seed, max_conns <= ORPH_MAX + 1);
    SIM_ASSERT(seed, aborted >= ORPH_TOTAL - ORPH_MAX);
    SIM_ASSERT(seed, ust_stat_get(b, UST_STAT_TCP_OutRsts) - rst0 >= aborted);
    /* Flat: a connection block each for the orphans kept, a few frames. */
    SIM_ASSERT(seed, max_counted <= base_counted + (ORPH_MAX + 1) * sizeof(struct ust_tcb) +
                                        64 * 1024);
    /* The orphans left give up on their own; nothing stays behind. */
    tnet_run(&h.n, 3600 * TSEC);
    SIM_ASSERT_EQ(seed, orphans(b), 0);
    struct hx_mem end = hx_mem(b);
    SIM_ASSERT_EQ(seed, end.conns, base.conns);
    SIM_ASSERT_EQ(seed, end.fbuf_bytes, base.fbuf_bytes);
    SIM_ASSERT_EQ(seed, counted(b), base_counted);
    ust_close(b, lfd);
    hx_free(&h);
}

/* Orphans holding unacknowledged data leave 100 KiB under the cap; a live
 * connection's 128 KiB receive buffer is made from the oldest of them. */
static void memory_pressure_resets_orphans_before_failing_live_sockets(void **state)
{
    (void)state;
    static struct hx h;
    static struct hx_conn c[24];
    static uint8_t d[20000];
    uint64_t seed = sim_test_seed(7202);
    hx_setup(&h, seed);
    struct ust_stack *b = h.n.b;
    int lfd = tlisten(&h.n, 80, 64);
    m_connect_batch(&h, lfd, 80, 20000, 24, c);
    for (int i = 0; i < 24; i++) {
        hx_fill(d, sizeof(d), 100 + (uint64_t)i, 0);
        SIM_ASSERT(seed, ust_send(b, c[i].bfd, d, sizeof(d), MSG_NOSIGNAL) > 4608);
        SIM_ASSERT_EQ(seed, ust_close(b, c[i].bfd), 0);
    }
    tnet_run(&h.n, 10 * TMS);
    uint32_t o0 = orphans(b);
    SIM_ASSERT_EQ(seed, o0, 24);
    const size_t cap = limit_for_sockets(counted(b) + 100 * 1024);
    ust_rt_lock(b);
    b->fbpool.limit = cap;              /* as if mem_limit were this */
    ust_rt_unlock(b);
    uint64_t ab0 = ust_stat_get(b, UST_STAT_TCP_TCPAbortOnMemory);
    print_message("  %u orphans hold %zu bytes; the cap is %zu\n", o0, counted(b), cap);
    /* A live connection from A: its receive buffer does not fit without
     * the orphans. */
    int afd;
    int bfd = tconnect_pair(&h.n, lfd, 80, &afd);
    hx_transfer(&h, h.n.a, afd, b, bfd, 300000, 9, 30 * TSEC);
    uint64_t aborted = ust_stat_get(b, UST_STAT_TCP_TCPAbortOnMemory) - ab0;
    print_message("  the live connection's buffer cost %" PRIu64 " orphans, %u left\n",
                  aborted, orphans(b));
    SIM_ASSERT(seed, aborted >= 1);
    SIM_ASSERT_EQ(seed, orphans(b), o0 - aborted);
    SIM_ASSERT(seed, counted(b) <= cap);
    /* The oldest went first. */
    SIM_ASSERT(seed, ust_tcp_lookup(b, HX_IP_B, 80, HX_IP_M, c[0].mport) == NULL);
    ust_close(h.n.a, afd);
    ust_close(b, bfd);
    ust_close(b, lfd);
    tnet_run(&h.n, 3600 * TSEC);
    SIM_ASSERT_EQ(seed, orphans(b), 0);
    SIM_ASSERT_EQ(seed, hx_mem(b).conns, 0);
    hx_free(&h);
}

/* Linux tcp_check_oom's other half: under memory pressure an orphan that
 * holds more than SOCK_MIN_SNDBUF of send data is reset, at close() or
 * when its retransmission timer fires; one holding nothing closes with a
 * FIN as usual. */
static void under_pressure_orphans_holding_data_are_reset(void **state)
{
    (void)state;
    static struct hx h;
    static struct hx_conn c[3];
    static uint8_t d[20000];
    uint64_t seed = sim_test_seed(7205);
    hx_setup(&h, seed);
    struct ust_stack *b = h.n.b;
    int lfd = tlisten(&h.n, 80, 8);
    m_connect_batch(&h, lfd, 80, 30000, 3, c);
    hx_fill(d, sizeof(d), 5, 0);
    SIM_ASSERT_EQ(seed, ust_send(b, c[0].bfd, d, sizeof(d), MSG_NOSIGNAL), (ssize_t)sizeof(d));
    SIM_ASSERT_EQ(seed, ust_send(b, c[1].bfd, d, sizeof(d), MSG_NOSIGNAL), (ssize_t)sizeof(d));
    /* c[0] closes before the pressure: an orphan with unacknowledged data. */
    SIM_ASSERT_EQ(seed, ust_close(b, c[0].bfd), 0);
    tnet_run(&h.n, 3 * TMS);
    SIM_ASSERT_EQ(seed, orphans(b), 1);
    /* Pressure: sockets hold all they may. */
    ust_rt_lock(b);
    b->fbpool.limit = limit_for_sockets(b->fbpool.in_use_bytes + b->fbpool.ext_bytes);
    ust_rt_unlock(b);
    uint64_t ab0 = ust_stat_get(b, UST_STAT_TCP_TCPAbortOnMemory);
    /* c[1] holds 20000 bytes: reset at close, a RST after its data. */
    SIM_ASSERT_EQ(seed, ust_close(b, c[1].bfd), 0);
    SIM_ASSERT_EQ(seed, ust_stat_get(b, UST_STAT_TCP_TCPAbortOnMemory), ab0 + 1);
    SIM_ASSERT(seed, ust_tcp_lookup(b, HX_IP_B, 80, HX_IP_M, c[1].mport) == NULL);
    tnet_run(&h.n, 3 * TMS);
    const struct hx_seg *s = hx_last_to(&h, HX_IP_M, c[1].mport);
    SIM_ASSERT(seed, s != NULL && (s->th.flags & UST_TCP_RST));
    /* That freed memory: back under pressure. */
    ust_rt_lock(b);
    b->fbpool.limit = limit_for_sockets(b->fbpool.in_use_bytes + b->fbpool.ext_bytes);
    ust_rt_unlock(b);
    /* c[2] holds nothing: FIN-WAIT-1, an orphan like any other. */
    SIM_ASSERT_EQ(seed, ust_close(b, c[2].bfd), 0);
    struct ust_tcb *t2 = ust_tcp_lookup(b, HX_IP_B, 80, HX_IP_M, c[2].mport);
    SIM_ASSERT(seed, t2 != NULL && t2->state == UST_TCP_FIN_WAIT_1);
    SIM_ASSERT_EQ(seed, ust_stat_get(b, UST_STAT_TCP_TCPAbortOnMemory), ab0 + 1);
    /* c[0]'s retransmission timer finds it under pressure: reset. */
    tnet_run(&h.n, 3 * TSEC);
    SIM_ASSERT(seed, ust_tcp_lookup(b, HX_IP_B, 80, HX_IP_M, c[0].mport) == NULL);
    SIM_ASSERT_EQ(seed, ust_stat_get(b, UST_STAT_TCP_TCPAbortOnMemory), ab0 + 2);
    SIM_ASSERT(seed, ust_tcp_lookup(b, HX_IP_B, 80, HX_IP_M, c[2].mport) != NULL);
    ust_close(b, lfd);
    tnet_run(&h.n, 3600 * TSEC);
    SIM_ASSERT_EQ(seed, hx_mem(b).conns, 0);
    hx_free(&h);
}

/* ---- 2000 connections with full buffers against an 8 MiB cap ------------- */

#define NCONN 2000
#define MEMCAP (8u << 20)
#define RCVBUF 16384

struct big {
    struct tnet n;
    int lfd;
    int afd[NCONN], bfd[NCONN];
    size_t max_counted;
};

static void big_setup(struct big *g, uint64_t seed)
{
    memset(g, 0, sizeof(*g));
    struct tnet *n = &g->n;
    n->seed = seed;
    struct ust_stack_config ca, cb;
    ust_stack_config_init(&ca);
    ca.arp_reachable_ns = 36000 * TSEC;
    ca.max_fds = 4096;
    ca.mem_limit = 512u << 20;          /* the client is not under test */
    cb = ca;
    cb.mem_limit = MEMCAP;
    cb.tcp_rmem_default = RCVBUF;
    n->sim = ust_sim_new(seed);
    assert_non_null(n->sim);
    n->a = ust_sim_add_host(n->sim, "A", &ca);
    n->b = ust_sim_add_host(n->sim, "B", &cb);
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

/* Runs the sim in 1 ms steps, checking B's counted memory after each. */
static void big_run(struct big *g, uint64_t dt)
{
    for (uint64_t t = 0; t < dt; t += TMS) {
        tnet_run(&g->n, TMS);
        size_t c = counted(g->n.b);
        if (c > g->max_counted)
            g->max_counted = c;
        SIM_ASSERT(g->n.seed, c <= MEMCAP);
    }
}

static void socket_buffers_count_in_mem_limit_and_recover(void **state)
{
    (void)state;
    static struct big g;
    static uint8_t d[RCVBUF];
    uint64_t seed = sim_test_seed(7203);
    big_setup(&g, seed);
    struct ust_stack *a = g.n.a, *b = g.n.b;
    size_t base = counted(b);
    g.lfd = tlisten(&g.n, 80, 4096);
    struct sockaddr_in sb = tsin("10.0.0.2", 80);
    /* 2000 connections, 100 at a time. */
    int nacc = 0;
    for (int i = 0; i < NCONN; i += 100) {
        for (int j = i; j < i + 100; j++) {
            g.afd[j] = tsock(&g.n, a);
            SIM_ASSERT_EQ(seed, ust_connect(a, g.afd[j], (struct sockaddr *)&sb, sizeof(sb)), -1);
        }
        big_run(&g, 5 * TMS);
        int fd;
        while ((fd = ust_accept4(b, g.lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0)
            g.bfd[nacc++] = fd;
    }
    for (int i = 0; i < 100 && nacc < NCONN; i++) {
        big_run(&g, 10 * TMS);
        int fd;
        while ((fd = ust_accept4(b, g.lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0)
            g.bfd[nacc++] = fd;
    }
    SIM_ASSERT_EQ(seed, nacc, NCONN);
    size_t blocks = counted(b) - base;
    /* A fills every receive buffer; B never reads. */
    uint64_t drop0 = ust_stat_get(b, UST_STAT_TCP_TCPRcvQDrop);
    uint64_t fail0 = ust_stat_get(b, UST_STAT_MEM_SockAllocFails);
    for (int j = 0; j < NCONN; j++) {
        hx_fill(d, sizeof(d), 500 + (uint64_t)j, 0);
        SIM_ASSERT_EQ(seed, ust_send(a, g.afd[j], d, sizeof(d), 0), (ssize_t)sizeof(d));
        if (j % 100 == 99)
            big_run(&g, 2 * TMS);
    }
    big_run(&g, 3 * TSEC);
    unsigned full = 0, empty = 0;
    for (int j = 0; j < NCONN; j++) {
        const struct ust_tcb *t = ttcb(b, g.bfd[j]);
        full += t->rcv.buf != NULL && ust_tcp_inq(t) > RCVBUF / 2;
        empty += t->rcv.buf == NULL && ust_tcp_inq(t) == 0;
    }
    uint64_t drops = ust_stat_get(b, UST_STAT_TCP_TCPRcvQDrop) - drop0;
    print_message("  %d connections: blocks %zu bytes; %u receive buffers filled, %u without "
                  "storage; %" PRIu64 " segments dropped for memory; counted memory at most "
                  "%zu of %u\n",
                  NCONN, blocks, full, empty, drops, g.max_counted, MEMCAP);
    SIM_ASSERT(seed, full > 0 && empty > 0 && full + empty == NCONN);
    SIM_ASSERT(seed, drops > 0);
    SIM_ASSERT(seed, ust_stat_get(b, UST_STAT_MEM_SockAllocFails) > fail0);
    SIM_ASSERT(seed, g.max_counted <= MEMCAP);
    ust_rt_lock(b);
    size_t sock = b->fbpool.ext_bytes;
    ust_rt_unlock(b);
    print_message("  sockets hold %zu bytes (at most 7/8 of the cap: %u)\n", sock,
                  MEMCAP - MEMCAP / 8);
    SIM_ASSERT(seed, sock <= MEMCAP - MEMCAP / 8);
    SIM_ASSERT(seed, sock > MEMCAP - MEMCAP / 8 - 2 * RCVBUF);
    /* Fill the rest with sockets: socket() then fails with ENOBUFS. */
    static int extra[4096];
    int nextra = 0;
    for (;;) {
        int fd = ust_socket(b, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        if (fd < 0) {
            SIM_ASSERT_EQ(seed, errno, ENOBUFS);
            break;
        }
        SIM_ASSERT(seed, nextra < 4096);
        extra[nextra++] = fd;
    }
    SIM_ASSERT(seed, counted(b) <= MEMCAP);
    /* setsockopt(SO_RCVBUF) still succeeds (the storage comes on use). */
    int big = 1 << 20;
    SIM_ASSERT_EQ(seed, ust_setsockopt(b, extra[0], SOL_SOCKET, SO_RCVBUF, &big, sizeof(big)), 0);
    print_message("  then %d more sockets until ENOBUFS\n", nextra);
    /* Recovery: B closes everything (unread data: RST). */
    for (int j = 0; j < nextra; j++)
        ust_close(b, extra[j]);
    for (int j = 0; j < NCONN; j++)
        ust_close(b, g.bfd[j]);
    big_run(&g, 1 * TSEC);
    SIM_ASSERT(seed, counted(b) <= base + 2 * sizeof(struct ust_tcb) + 64 * 1024);
    int late = tsock(&g.n, a);
    SIM_ASSERT_EQ(seed, ust_connect(a, late, (struct sockaddr *)&sb, sizeof(sb)), -1);
    big_run(&g, 20 * TMS);
    int lbfd = ust_accept4(b, g.lfd, NULL, NULL, SOCK_NONBLOCK);
    SIM_ASSERT(seed, lbfd >= 0);
    SIM_ASSERT_EQ(seed, tstate(a, late), UST_TCP_ESTABLISHED);
    static uint8_t big_msg[200000], got[200000];
    hx_fill(big_msg, sizeof(big_msg), 77, 0);
    size_t sent = 0, n = 0;
    for (int i = 0; i < 20000 && n < sizeof(got); i++) {
        ssize_t k = ust_send(a, late, big_msg + sent, sizeof(big_msg) - sent, 0);
        if (k > 0)
            sent += (size_t)k;
        big_run(&g, TMS);
        while ((k = ust_recv(b, lbfd, got + n, sizeof(got) - n, 0)) > 0)
            n += (size_t)k;
    }
    SIM_ASSERT_EQ(seed, n, sizeof(got));
    SIM_ASSERT(seed, memcmp(got, big_msg, sizeof(got)) == 0);
    for (int j = 0; j < NCONN; j++)
        ust_close(a, g.afd[j]);
    ust_close(a, late);
    ust_close(b, lbfd);
    ust_close(b, g.lfd);
    tnet_run(&g.n, 600 * TSEC);
    SIM_ASSERT_EQ(seed, counted(b), base);
    ust_rt_lock(b);
    SIM_ASSERT_EQ(seed, b->tcp.mem_bytes, 0);
    SIM_ASSERT_EQ(seed, b->tcp.nconns, 0);
    ust_rt_unlock(b);
    ust_sim_free(g.n.sim);
}

/* When not even a connection block fits: socket() fails with ENOBUFS and a
 * SYN is dropped (ListenDrops); both work again once memory is freed. */
static void full_memory_refuses_sockets_and_syns_and_recovers(void **state)
{
    (void)state;
    static struct hx h;
    static int fds[1024];
    uint64_t seed = sim_test_seed(7204);
    hx_setup(&h, seed);
    struct ust_stack *b = h.n.b;
    int lfd = tlisten(&h.n, 80, 8);
    /* Room for 20 connection blocks. */
    ust_rt_lock(b);
    b->fbpool.limit = limit_for_sockets(b->fbpool.in_use_bytes + b->fbpool.ext_bytes +
                                        20 * sizeof(struct ust_tcb));
    ust_rt_unlock(b);
    uint64_t f0 = ust_stat_get(b, UST_STAT_MEM_SockAllocFails);
    int n = 0;
    for (;;) {
        int fd = ust_socket(b, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        if (fd < 0) {
            SIM_ASSERT_EQ(seed, errno, ENOBUFS);
            break;
        }
        fds[n++] = fd;
    }
    SIM_ASSERT_EQ(seed, n, 20);
    SIM_ASSERT_EQ(seed, ust_stat_get(b, UST_STAT_MEM_SockAllocFails) - f0, 1);
    /* A SYN's frame buffer fits (in the eighth kept for frames), the
     * child's block does not. */
    uint64_t ld0 = ust_stat_get(b, UST_STAT_TCP_ListenDrops);
    int afd = tsock(&h.n, h.n.a);
    struct sockaddr_in sb = tsin("10.0.0.2", 80);
    SIM_ASSERT_EQ(seed, ust_connect(h.n.a, afd, (struct sockaddr *)&sb, sizeof(sb)), -1);
    tnet_run(&h.n, 50 * TMS);
    SIM_ASSERT_EQ(seed, ust_stat_get(b, UST_STAT_TCP_ListenDrops) - ld0, 1);
    SIM_ASSERT_EQ(seed, tstate(h.n.a, afd), UST_TCP_SYN_SENT);
    SIM_ASSERT(seed, counted(b) <= b->fbpool.limit);
    /* Sockets go: the SYN's retransmission gets in and the connection works. */
    for (int i = 0; i < n; i++)
        ust_close(b, fds[i]);
    int bfd = -1;
    for (int i = 0; i < 300 && bfd < 0; i++) {
        tnet_run(&h.n, 10 * TMS);
        bfd = ust_accept4(b, lfd, NULL, NULL, SOCK_NONBLOCK);
    }
    SIM_ASSERT(seed, bfd >= 0);
    ust_rt_lock(b);
    b->fbpool.limit = b->cfg.mem_limit;
    ust_rt_unlock(b);
    hx_transfer(&h, h.n.a, afd, b, bfd, 100000, 11, 30 * TSEC);
    int fd = ust_socket(b, AF_INET, SOCK_STREAM, 0);
    SIM_ASSERT(seed, fd >= 0);
    ust_close(b, fd);
    hx_free(&h);
}

/* Linux's tcp_max_orphans follows memory; 4096 here (docs/SECURITY.md). */
static void max_orphans_default_is_4096(void **state)
{
    (void)state;
    struct ust_stack_config c;
    ust_stack_config_init(&c);
    assert_int_equal(c.tcp_max_orphans, 4096);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(orphans_of_a_peer_that_never_acks_fin_stay_at_tcp_max_orphans),
        cmocka_unit_test(memory_pressure_resets_orphans_before_failing_live_sockets),
        cmocka_unit_test(under_pressure_orphans_holding_data_are_reset),
        cmocka_unit_test(socket_buffers_count_in_mem_limit_and_recover),
        cmocka_unit_test(full_memory_refuses_sockets_and_syns_and_recovers),
        cmocka_unit_test(max_orphans_default_is_4096),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
