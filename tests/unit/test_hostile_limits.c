/* Resource exhaustion by churn, and the descriptor table:
 *  - connection churn from A (which closes first, so A keeps the TIME-WAIT
 *    blocks) over a small ephemeral range until every port is held:
 *    connect fails with EADDRNOTAVAIL (Linux), nothing else breaks, and
 *    when TIME-WAIT ends (tcp_timewait_ns) connections work again;
 *  - with tcp_max_tw_buckets below the range, the oldest TIME-WAIT block
 *    is recycled under pressure (tcp.md: "recycle the oldest"), so the
 *    churn goes on forever and the TIME-WAIT table never passes its bound;
 *  - a server that closes first keeps its TIME-WAIT table within
 *    tcp_max_tw_buckets however many clients churn through it;
 *  - a long churn (USTACK_CHURN connections) ends with the memory it
 *    started with;
 *  - the per-stack memory cap: input beyond it is dropped, output fails
 *    with ENOBUFS, TCP stalls without losing a byte, all recovers;
 *  - the descriptor table full (max_fds): socket, accept, pipe, mq_open
 *    and epoll_create fail with EMFILE, the pending connection waits in
 *    the accept queue, and everything works again after a close. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <mqueue.h>
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

#define PORT 80

/* One connection A -> B that moves a few bytes and is closed by `first`
 * (0 = A, 1 = B), the other side closing when it sees EOF. Returns 0, or
 * the errno of a failed connect. */
static int churn_one(struct hx *h, int lfd, int first, uint64_t tag)
{
    int fd = tsock(&h->n, h->n.a);
    struct sockaddr_in sb = tsin("10.0.0.2", PORT);
    if (ust_connect(h->n.a, fd, (struct sockaddr *)&sb, sizeof(sb)) == 0 || errno != EINPROGRESS) {
        int e = errno;
        ust_close(h->n.a, fd);
        return e;
    }
    int cfd = -1;
    for (int i = 0; i < 500 && cfd < 0; i++) {
        tnet_run(&h->n, 1 * TMS);
        cfd = ust_accept4(h->n.b, lfd, NULL, NULL, SOCK_NONBLOCK);
    }
    SIM_ASSERT(h->n.seed, cfd >= 0);
    uint8_t msg[64], got[64];
    hx_fill(msg, sizeof(msg), tag, 0);
    SIM_ASSERT_EQ(h->n.seed, ust_send(h->n.a, fd, msg, sizeof(msg), 0), sizeof(msg));
    tnet_run(&h->n, 3 * TMS);
    SIM_ASSERT_EQ(h->n.seed, ust_recv(h->n.b, cfd, got, sizeof(got), 0), sizeof(got));
    SIM_ASSERT(h->n.seed, memcmp(msg, got, sizeof(msg)) == 0);
    struct ust_stack *s1 = first ? h->n.b : h->n.a, *s2 = first ? h->n.a : h->n.b;
    int f1 = first ? cfd : fd, f2 = first ? fd : cfd;
    ust_close(s1, f1);
    tnet_run(&h->n, 3 * TMS);
    char c;
    SIM_ASSERT_EQ(h->n.seed, ust_recv(s2, f2, &c, 1, 0), 0);
    ust_close(s2, f2);
    tnet_run(&h->n, 3 * TMS);
    return 0;
}

static void set_cfg(struct ust_stack *s, uint16_t lo, uint16_t hi, unsigned tw_max)
{
    ust_rt_lock(s);
    s->cfg.ephemeral_lo = lo;
    s->cfg.ephemeral_hi = hi;
    s->cfg.tcp_max_tw_buckets = tw_max;
    ust_rt_unlock(s);
}

static void churn_until_ports_run_out_gives_eaddrnotavail_then_recovers(void **state)
{
    (void)state;
    static struct hx h;
    uint64_t seed = sim_test_seed(7401);
    hx_setup(&h, seed);
    set_cfg(h.n.a, 40000, 40099, 32768);   /* 100 ephemeral ports */
    int lfd = tlisten(&h.n, PORT, 16);
    struct hx_mem base_b = hx_mem(h.n.b);
    unsigned ok = 0;
    int err = 0;
    while (ok < 1000 && (err = churn_one(&h, lfd, 0, ok)) == 0)
        ok++;
    print_message("  %u connections, then connect: %s; %u in TIME-WAIT\n", ok, strerror(err),
                  hx_mem(h.n.a).tw);
    SIM_ASSERT_EQ(seed, ok, 100);
    SIM_ASSERT_EQ(seed, err, EADDRNOTAVAIL);
    SIM_ASSERT_EQ(seed, hx_mem(h.n.a).tw, 100);
    /* bind(port 0) says EADDRINUSE (Linux inet_csk_get_port). */
    int fd = tsock(&h.n, h.n.a);
    struct sockaddr_in any = tsin("0.0.0.0", 0);
    SIM_ASSERT_EQ(seed, ust_bind(h.n.a, fd, (struct sockaddr *)&any, sizeof(any)), -1);
    SIM_ASSERT_EQ(seed, errno, EADDRINUSE);
    ust_close(h.n.a, fd);
    /* B is untouched: its side closed second, nothing held. */
    SIM_ASSERT_EQ(seed, hx_mem(h.n.b).conns, base_b.conns);
    /* TIME-WAIT ends: the ports come back. */
    tnet_run(&h.n, h.n.a->cfg.tcp_timewait_ns + 1 * TSEC);
    SIM_ASSERT_EQ(seed, hx_mem(h.n.a).tw, 0);
    for (unsigned i = 0; i < 50; i++)
        SIM_ASSERT_EQ(seed, churn_one(&h, lfd, 0, 5000 + i), 0);
    hx_free(&h);
}

static void time_wait_bound_recycles_the_oldest_so_churn_goes_on(void **state)
{
    (void)state;
    static struct hx h;
    uint64_t seed = sim_test_seed(7402);
    hx_setup(&h, seed);
    set_cfg(h.n.a, 40000, 40099, 50);      /* 100 ports, 50 TIME-WAIT blocks */
    set_cfg(h.n.b, 32768, 60999, 20);      /* B closes first below: 20 */
    int lfd = tlisten(&h.n, PORT, 16);
    uint32_t max_a = 0, max_b = 0;
    for (unsigned i = 0; i < 600; i++) {
        SIM_ASSERT_EQ(seed, churn_one(&h, lfd, (int)(i % 2), i), 0);
        struct hx_mem ma = hx_mem(h.n.a), mb = hx_mem(h.n.b);
        SIM_ASSERT(seed, ma.tw <= 50 && mb.tw <= 20);
        max_a = ma.tw > max_a ? ma.tw : max_a;
        max_b = mb.tw > max_b ? mb.tw : max_b;
    }
    SIM_ASSERT_EQ(seed, max_a, 50);
    SIM_ASSERT_EQ(seed, max_b, 20);
    tnet_run(&h.n, 61 * TSEC);
    SIM_ASSERT_EQ(seed, hx_mem(h.n.a).tw, 0);
    SIM_ASSERT_EQ(seed, hx_mem(h.n.b).tw, 0);
    SIM_ASSERT_EQ(seed, hx_mem(h.n.a).conns, 0);
    SIM_ASSERT_EQ(seed, hx_mem(h.n.b).conns, 1);   /* the listener */
    SIM_ASSERT_EQ(seed, hx_mem(h.n.a).fbuf_bytes, 0);
    hx_free(&h);
}

/* Many connections opened and closed, alternating which side closes first:
 * afterwards both hosts hold exactly what they held before (no connection
 * block, no TIME-WAIT block, no frame buffer, no descriptor). The count is
 * USTACK_CHURN (default 5000; the 10^6 is USTACK_CHURN=1000000). */
static void long_churn_ends_with_the_memory_it_started_with(void **state)
{
    (void)state;
    static struct hx h;
    uint64_t seed = sim_test_seed(7404);
    const char *env = getenv("USTACK_CHURN");
    unsigned count = env && *env ? (unsigned)strtoul(env, NULL, 0) : 5000;
    hx_setup(&h, seed);
    int lfd = tlisten(&h.n, PORT, 16);
    struct hx_mem a0 = hx_mem(h.n.a), b0 = hx_mem(h.n.b);
    unsigned fds_a = h.n.a->fds.used, fds_b = h.n.b->fds.used;
    uint32_t max_tw = 0;
    for (unsigned i = 0; i < count; i++) {
        SIM_ASSERT_EQ(seed, churn_one(&h, lfd, (int)(i % 2), i), 0);
        uint32_t tw = hx_mem(h.n.a).tw + hx_mem(h.n.b).tw;
        max_tw = tw > max_tw ? tw : max_tw;
    }
    tnet_run(&h.n, h.n.a->cfg.tcp_timewait_ns + 1 * TSEC);
    struct hx_mem a1 = hx_mem(h.n.a), b1 = hx_mem(h.n.b);
    print_message("  %u connections; at most %u in TIME-WAIT\n", count, max_tw);
    SIM_ASSERT_EQ(seed, a1.conns, a0.conns);
    SIM_ASSERT_EQ(seed, b1.conns, b0.conns);
    SIM_ASSERT_EQ(seed, a1.tw + b1.tw, 0);
    SIM_ASSERT_EQ(seed, a1.fbuf_bytes, a0.fbuf_bytes);
    SIM_ASSERT_EQ(seed, b1.fbuf_bytes, b0.fbuf_bytes);
    SIM_ASSERT_EQ(seed, h.n.a->fds.used, fds_a);
    SIM_ASSERT_EQ(seed, h.n.b->fds.used, fds_b);
    hx_free(&h);
}

/* ---- The per-stack memory cap ----------------------------------------------- */

/* B's frame memory is capped at 256 KiB; A floods a UDP socket on B that
 * never reads (its SO_RCVBUF far above the cap). The cap holds: arrivals
 * beyond it are dropped (MEM.FbufAllocFails), B's own sends fail with
 * ENOBUFS, and a TCP transfer in the middle of it stalls but loses
 * nothing. Once the socket is read, everything recovers. */
static void memory_cap_drops_input_refuses_output_and_recovers(void **state)
{
    (void)state;
    static struct hx h;
    static uint8_t d[1400];
    uint64_t seed = sim_test_seed(7405);
    hx_setup(&h, seed);
    const size_t cap = 256 * 1024;
    struct hx_mem base = hx_mem(h.n.b);
    ust_rt_lock(h.n.b);
    h.n.b->fbpool.limit = cap;          /* as if mem_limit were 256 KiB */
    ust_rt_unlock(h.n.b);
    int lfd = tlisten(&h.n, PORT, 4), afd;
    int bfd = tconnect_pair(&h.n, lfd, PORT, &afd);
    int ua = ust_socket(h.n.a, AF_INET, SOCK_DGRAM, 0);
    int ub = ust_socket(h.n.b, AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    int big = 8 << 20;
    SIM_ASSERT_EQ(seed, ust_setsockopt(h.n.b, ub, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big)), 0);
    struct sockaddr_in sb = tsin("10.0.0.2", 6000), sa = tsin("10.0.0.1", 9);
    SIM_ASSERT_EQ(seed, ust_bind(h.n.b, ub, (struct sockaddr *)&sb, sizeof(sb)), 0);
    uint64_t fails0 = ust_stat_get(h.n.b, UST_STAT_MEM_FbufAllocFails);
    unsigned sent = 0;
    for (int i = 0; i < 2000; i++) {
        hx_fill(d, sizeof(d), 3000 + (uint64_t)i, 0);
        if (ust_sendto(h.n.a, ua, d, sizeof(d), 0, (struct sockaddr *)&sb, sizeof(sb)) == sizeof(d))
            sent++;
        if (i % 20 == 0)
            tnet_run(&h.n, 1 * TMS);
        SIM_ASSERT(seed, hx_mem(h.n.b).fbuf_bytes <= cap);
    }
    tnet_run(&h.n, 10 * TMS);
    SIM_ASSERT(seed, hx_mem(h.n.b).fbuf_bytes <= cap);
    SIM_ASSERT(seed, ust_stat_get(h.n.b, UST_STAT_MEM_FbufAllocFails) > fails0);
    /* B itself cannot send a datagram now. */
    SIM_ASSERT_EQ(seed, ust_sendto(h.n.b, ub, d, sizeof(d), 0, (struct sockaddr *)&sa,
                                   sizeof(sa)), -1);
    SIM_ASSERT_EQ(seed, errno, ENOBUFS);
    /* A TCP transfer to B now makes no progress (B drops the segments)... */
    static uint8_t tb[20000], got[20000];
    hx_fill(tb, sizeof(tb), 42, 0);
    SIM_ASSERT_EQ(seed, ust_send(h.n.a, afd, tb, sizeof(tb), 0), (ssize_t)sizeof(tb));
    tnet_run(&h.n, 2 * TSEC);
    SIM_ASSERT(seed, hx_mem(h.n.b).fbuf_bytes <= cap);
    SIM_ASSERT_EQ(seed, ust_tcp_inq(ttcb(h.n.b, bfd)), 0);
    /* ...until the datagrams are read: then it completes, exactly. */
    unsigned nread = 0;
    static uint8_t rd[2048];
    while (ust_recv(h.n.b, ub, rd, sizeof(rd), 0) == sizeof(d))
        nread++;
    print_message("  %u of %u datagrams kept under the cap, %" PRIu64 " allocations refused\n",
                  nread, sent, ust_stat_get(h.n.b, UST_STAT_MEM_FbufAllocFails) - fails0);
    SIM_ASSERT(seed, nread > 0 && nread < sent);
    size_t n = 0;
    for (int i = 0; i < 3000 && n < sizeof(got); i++) {
        tnet_run(&h.n, 10 * TMS);
        ssize_t k;
        while ((k = ust_recv(h.n.b, bfd, got + n, sizeof(got) - n, 0)) > 0)
            n += (size_t)k;
    }
    SIM_ASSERT_EQ(seed, n, sizeof(got));
    SIM_ASSERT(seed, memcmp(got, tb, sizeof(tb)) == 0);
    SIM_ASSERT_EQ(seed, ust_sendto(h.n.b, ub, d, sizeof(d), 0, (struct sockaddr *)&sa,
                                   sizeof(sa)), sizeof(d));
    tnet_run(&h.n, 1 * TSEC);
    SIM_ASSERT_EQ(seed, hx_mem(h.n.b).fbuf_bytes, base.fbuf_bytes);
    hx_free(&h);
}

/* ---- EMFILE ------------------------------------------------------------ */

static void pump(struct ust_stack *s, uint64_t *now)
{
    for (int i = 0; i < 20; i++) {
        *now += 1000000;
        ust_stack_poll(s, *now);
    }
}

static void full_descriptor_table_gives_emfile_and_recovers(void **state)
{
    (void)state;
    struct ust_stack_config cfg;
    ust_stack_config_init(&cfg);
    cfg.seed = 7403;
    cfg.max_fds = 32;
    struct ust_stack *s = ust_stack_new(&cfg);
    assert_non_null(s);
    uint64_t now = 1000000000ull;
    ust_stack_poll(s, now);
    int lfd = ust_socket(s, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in sin = tsin("127.0.0.1", 7000);
    assert_int_equal(ust_bind(s, lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    assert_int_equal(ust_listen(s, lfd, 8), 0);
    int cfd = ust_socket(s, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    assert_true(cfd >= 0);
    ust_connect(s, cfd, (struct sockaddr *)&sin, sizeof(sin));
    pump(s, &now);
    /* Fill the table. */
    int fds[64];
    int n = 0;
    for (;;) {
        int fd = ust_socket(s, AF_INET, SOCK_DGRAM, 0);
        if (fd < 0) {
            assert_int_equal(errno, EMFILE);
            break;
        }
        assert_true(n < 64);
        fds[n++] = fd;
    }
    assert_int_equal(n, 32 - 2);
    /* Every way to make a descriptor says EMFILE. */
    int p[2];
    assert_int_equal(ust_pipe(s, p), -1);
    assert_int_equal(errno, EMFILE);
    assert_int_equal(ust_accept(s, lfd, NULL, NULL), -1);
    assert_int_equal(errno, EMFILE);
    struct mq_attr attr = { .mq_maxmsg = 4, .mq_msgsize = 64 };
    assert_int_equal(ust_mq_open(s, "/hostile", O_CREAT | O_RDWR, 0600, &attr), -1);
    assert_int_equal(errno, EMFILE);
    assert_int_equal(ust_epoll_create1(s, 0), -1);
    assert_int_equal(errno, EMFILE);
    assert_int_equal(ust_fcntl(s, lfd, F_DUPFD, 0), -1);
    assert_int_equal(errno, EMFILE);
    /* The connection waits in the accept queue meanwhile. */
    struct pollfd pl = { .fd = lfd, .events = POLLIN };
    assert_int_equal(ust_poll(s, &pl, 1, 0), 1);
    /* One close: the pending connection is accepted and works. */
    ust_close(s, fds[--n]);
    int afd = ust_accept4(s, lfd, NULL, NULL, SOCK_NONBLOCK);
    assert_true(afd >= 0);
    assert_int_equal(ust_send(s, cfd, "ping", 4, 0), 4);
    pump(s, &now);
    char buf[8];
    assert_int_equal(ust_recv(s, afd, buf, sizeof(buf), 0), 4);
    assert_memory_equal(buf, "ping", 4);
    /* Full again; free two: a pipe fits. */
    assert_int_equal(ust_socket(s, AF_INET, SOCK_DGRAM, 0), -1);
    assert_int_equal(errno, EMFILE);
    ust_close(s, fds[--n]);
    ust_close(s, fds[--n]);
    assert_int_equal(ust_pipe(s, p), 0);
    assert_int_equal(ust_write(s, p[1], "x", 1), 1);
    assert_int_equal(ust_read(s, p[0], buf, 1), 1);
    ust_close(s, p[0]);
    ust_close(s, p[1]);
    for (int i = 0; i < n; i++)
        ust_close(s, fds[i]);
    ust_close(s, afd);
    ust_close(s, cfd);
    ust_close(s, lfd);
    ust_stack_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(churn_until_ports_run_out_gives_eaddrnotavail_then_recovers),
        cmocka_unit_test(time_wait_bound_recycles_the_oldest_so_churn_goes_on),
        cmocka_unit_test(long_churn_ends_with_the_memory_it_started_with),
        cmocka_unit_test(memory_cap_drops_input_refuses_output_and_recovers),
        cmocka_unit_test(full_descriptor_table_gives_emfile_and_recovers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
