/* SYN floods and half-open connections (RFC 4987), on the simulator
 * (test_hostile_util.h has the world). B listens with a backlog of 64 and
 * routes everything off-link through A, which drops what is not its own,
 * so the flood's SYN-ACKs go nowhere, as with spoofed sources:
 *  - 20,000 SYNs in two seconds from random spoofed sources and ports,
 *    with and without timestamps: the SYN queue and the accept queue never
 *    exceed the backlog, connection blocks stay bounded, frame memory stays
 *    flat, SYN cookies answer the overflow, and real clients from A keep
 *    connecting (via cookies) and move data byte-exact throughout;
 *  - afterwards every half-open child gives up (tcp_syn_retries) and the
 *    stack is back to where it started;
 *  - with cookies off, the overflow is dropped (ListenDrops) and the
 *    bounds still hold;
 *  - a forged cookie ACK flood (random ACK numbers) creates nothing;
 *  - peers that complete the handshake while the application does not
 *    accept fill the accept queue up to the backlog and no further. */
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

#define BACKLOG 64
#define PORT 80

/* SYN options: MSS, SACK-permitted, timestamps, window scale (Linux's). */
static const uint8_t syn_ts[20] = { 2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0,
                                    1, 3, 3, 7 };

struct client {
    int afd, bfd;
    size_t sent, got;
    bool connected, done;
};

static void route_off_link_via_a(struct hx *h)
{
    struct in_addr gw;
    inet_pton(AF_INET, "10.0.0.1", &gw);
    SIM_ASSERT_EQ(h->n.seed, ust_route_add_default(h->n.b, gw), 0);
}

/* One spoofed SYN from 198.18.0.0/15. */
static void spoofed_syn(struct hx *h, uint64_t *rs)
{
    *rs = hx_mix64(*rs);
    uint64_t r = *rs;
    uint32_t src = 0xc6120000u | (uint32_t)(r & 0x1ffff);
    uint16_t sport = (uint16_t)(1024 + ((r >> 17) % 60000));
    uint32_t isn = (uint32_t)(r >> 32);
    ((r >> 30) & 1) ? hx_tcp_to_b(h, src, sport, PORT, isn, 0, UST_TCP_SYN, 65535, syn_ts,
                                  sizeof(syn_ts), NULL, 0)
                    : hx_tcp_to_b(h, src, sport, PORT, isn, 0, UST_TCP_SYN, 65535, hx_synopts,
                                  sizeof(hx_synopts), NULL, 0);
}

/* Accepts what is ready, drives the clients' little exchanges. */
static void serve(struct hx *h, int lfd, struct client *c, unsigned nc)
{
    static uint8_t buf[4096];
    int fd;
    while ((fd = ust_accept4(h->n.b, lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
        /* Which client is it? The one whose port matches. */
        struct sockaddr_in peer;
        socklen_t pl = sizeof(peer);
        SIM_ASSERT_EQ(h->n.seed, ust_getpeername(h->n.b, fd, (struct sockaddr *)&peer, &pl), 0);
        bool found = false;
        for (unsigned i = 0; i < nc; i++) {
            if (c[i].afd < 0 || c[i].bfd >= 0)
                continue;
            struct sockaddr_in me;
            socklen_t ml = sizeof(me);
            ust_getsockname(h->n.a, c[i].afd, (struct sockaddr *)&me, &ml);
            if (me.sin_port == peer.sin_port) {
                c[i].bfd = fd;
                found = true;
                break;
            }
        }
        SIM_ASSERT(h->n.seed, found);
    }
    SIM_ASSERT(h->n.seed, errno == EAGAIN);
    for (unsigned i = 0; i < nc; i++) {
        struct client *k = &c[i];
        if (k->afd < 0 || k->done)
            continue;
        if (tstate(h->n.a, k->afd) == UST_TCP_ESTABLISHED)
            k->connected = true;
        if (!k->connected)
            continue;
        if (k->sent < 10000) {
            hx_fill(buf, sizeof(buf), 1000 + i, k->sent);
            size_t n = 10000 - k->sent < sizeof(buf) ? 10000 - k->sent : sizeof(buf);
            ssize_t s = ust_send(h->n.a, k->afd, buf, n, MSG_NOSIGNAL);
            if (s > 0)
                k->sent += (size_t)s;
        }
        if (k->bfd >= 0) {
            ssize_t r;
            while ((r = ust_recv(h->n.b, k->bfd, buf, sizeof(buf), 0)) > 0) {
                for (ssize_t j = 0; j < r; j++)
                    SIM_ASSERT_EQ(h->n.seed, buf[j], hx_byte(1000 + i, k->got + (size_t)j));
                k->got += (size_t)r;
            }
            if (k->got == 10000) {
                ust_close(h->n.a, k->afd);
                ust_close(h->n.b, k->bfd);
                k->done = true;
            }
        }
    }
}

static void check_bounds(struct hx *h, int lfd, const struct hx_mem *base, unsigned nclients)
{
    struct ust_tcb *l = ttcb(h->n.b, lfd);
    SIM_ASSERT(h->n.seed, l->syn_len <= BACKLOG);
    SIM_ASSERT(h->n.seed, l->acc_len <= BACKLOG);
    struct hx_mem m = hx_mem(h->n.b);
    /* The listener's children plus the clients' connections. */
    SIM_ASSERT(h->n.seed, m.conns <= base->conns + 2 * BACKLOG + nclients);
    /* No frame memory per half-open connection: only what is in flight
     * inside B at this instant. */
    SIM_ASSERT(h->n.seed, m.fbuf_bytes <= base->fbuf_bytes + 64 * 1024);
}

static void syn_flood_keeps_queues_bounded_and_real_clients_connect(void **state)
{
    (void)state;
    static struct hx h;
    static struct client c[20];
    uint64_t seed = sim_test_seed(7301);
    uint64_t rs = seed;
    hx_setup(&h, seed);
    route_off_link_via_a(&h);
    int lfd = tlisten(&h.n, PORT, BACKLOG);
    struct hx_mem base = hx_mem(h.n.b);
    uint64_t sent0 = ust_stat_get(h.n.b, UST_STAT_TCP_SyncookiesSent);
    uint64_t recv0 = ust_stat_get(h.n.b, UST_STAT_TCP_SyncookiesRecv);
    for (unsigned i = 0; i < 20; i++)
        c[i] = (struct client){ .afd = -1, .bfd = -1 };
    unsigned nsyn = 0, nc = 0;

    /* Two seconds: 10 spoofed SYNs a millisecond, a real client every
     * 100 ms. */
    for (unsigned ms = 0; ms < 2000; ms++) {
        for (int i = 0; i < 10; i++, nsyn++)
            spoofed_syn(&h, &rs);
        if (ms % 100 == 50) {
            int fd = tsock(&h.n, h.n.a);
            struct sockaddr_in sb = tsin("10.0.0.2", PORT);
            int r = ust_connect(h.n.a, fd, (struct sockaddr *)&sb, sizeof(sb));
            SIM_ASSERT(seed, r == -1 && errno == EINPROGRESS);
            c[nc++].afd = fd;
        }
        tnet_run(&h.n, 1 * TMS);
        serve(&h, lfd, c, nc);
        check_bounds(&h, lfd, &base, nc);
    }
    /* The clients finish (the flood's children time out meanwhile). */
    for (int i = 0; i < 3000; i++) {
        tnet_run(&h.n, 10 * TMS);
        serve(&h, lfd, c, nc);
        check_bounds(&h, lfd, &base, nc);
        bool all = true;
        for (unsigned k = 0; k < nc; k++)
            all = all && c[k].done;
        if (all)
            break;
    }
    unsigned done = 0;
    for (unsigned k = 0; k < nc; k++)
        done += c[k].done;
    uint64_t ck_sent = ust_stat_get(h.n.b, UST_STAT_TCP_SyncookiesSent) - sent0;
    uint64_t ck_recv = ust_stat_get(h.n.b, UST_STAT_TCP_SyncookiesRecv) - recv0;
    print_message("  %u spoofed SYNs: %" PRIu64 " cookies sent, %" PRIu64 " validated; "
                  "%u of %u real clients done\n", nsyn, ck_sent, ck_recv, done, nc);
    SIM_ASSERT_EQ(seed, done, nc);
    SIM_ASSERT(seed, ck_sent >= nsyn - 2 * BACKLOG * 4);
    SIM_ASSERT(seed, ck_recv >= 1);
    /* Every half-open child gives up; back to the start. */
    tnet_run(&h.n, 300 * TSEC);
    struct hx_mem end = hx_mem(h.n.b);
    SIM_ASSERT_EQ(seed, ttcb(h.n.b, lfd)->syn_len, 0);
    SIM_ASSERT_EQ(seed, end.conns, base.conns);
    SIM_ASSERT_EQ(seed, end.fbuf_bytes, base.fbuf_bytes);
    hx_free(&h);
}

static void syn_flood_without_cookies_drops_the_overflow(void **state)
{
    (void)state;
    static struct hx h;
    uint64_t seed = sim_test_seed(7302);
    uint64_t rs = seed;
    hx_setup(&h, seed);
    route_off_link_via_a(&h);
    h.n.b->cfg.tcp_syncookies = 0;
    int lfd = tlisten(&h.n, PORT, BACKLOG);
    struct hx_mem base = hx_mem(h.n.b);
    uint64_t drops0 = ust_stat_get(h.n.b, UST_STAT_TCP_ListenDrops);
    uint64_t ck0 = ust_stat_get(h.n.b, UST_STAT_TCP_SyncookiesSent);
    for (unsigned ms = 0; ms < 500; ms++) {
        for (int i = 0; i < 10; i++)
            spoofed_syn(&h, &rs);
        tnet_run(&h.n, 1 * TMS);
        check_bounds(&h, lfd, &base, 0);
    }
    SIM_ASSERT_EQ(seed, ttcb(h.n.b, lfd)->syn_len, BACKLOG);
    SIM_ASSERT(seed, ust_stat_get(h.n.b, UST_STAT_TCP_ListenDrops) >= drops0 + 5000 - BACKLOG * 4);
    SIM_ASSERT_EQ(seed, ust_stat_get(h.n.b, UST_STAT_TCP_SyncookiesSent), ck0);
    /* Once the half-open children give up, a real client gets in. */
    tnet_run(&h.n, 300 * TSEC);
    SIM_ASSERT_EQ(seed, ttcb(h.n.b, lfd)->syn_len, 0);
    int afd;
    int bfd = tconnect_pair(&h.n, lfd, PORT, &afd);
    hx_transfer(&h, h.n.a, afd, h.n.b, bfd, 50000, 7, 30 * TSEC);
    hx_free(&h);
}

static void forged_cookie_acks_create_nothing(void **state)
{
    (void)state;
    static struct hx h;
    uint64_t seed = sim_test_seed(7303);
    uint64_t rs = seed;
    hx_setup(&h, seed);
    route_off_link_via_a(&h);
    int lfd = tlisten(&h.n, PORT, BACKLOG);
    struct hx_mem base = hx_mem(h.n.b);
    uint64_t fail0 = ust_stat_get(h.n.b, UST_STAT_TCP_SyncookiesFailed);
    /* 20,000 ACKs with random sequence and acknowledgment numbers: a blind
     * attacker guessing cookies (each draws at most a RST). */
    for (unsigned i = 0; i < 20000; i++) {
        rs = hx_mix64(rs);
        uint32_t src = 0xc6120000u | (uint32_t)(rs & 0x1ffff);
        uint16_t sport = (uint16_t)(1024 + ((rs >> 17) % 60000));
        hx_tcp_to_b(&h, src, sport, PORT, (uint32_t)(rs >> 32), (uint32_t)(rs >> 7), UST_TCP_ACK,
                    1024, NULL, 0, "guess", 5);
        if (i % 100 == 0)
            tnet_run(&h.n, 1 * TMS);
    }
    tnet_run(&h.n, 10 * TMS);
    SIM_ASSERT(seed, ust_stat_get(h.n.b, UST_STAT_TCP_SyncookiesFailed) >= fail0 + 20000);
    SIM_ASSERT_EQ(seed, ttcb(h.n.b, lfd)->acc_len, 0);
    SIM_ASSERT_EQ(seed, ttcb(h.n.b, lfd)->syn_len, 0);
    struct hx_mem end = hx_mem(h.n.b);
    SIM_ASSERT_EQ(seed, end.conns, base.conns);
    SIM_ASSERT_EQ(seed, end.fbuf_bytes, base.fbuf_bytes);
    SIM_ASSERT_EQ(seed, ust_accept(h.n.b, lfd, NULL, NULL), -1);
    SIM_ASSERT_EQ(seed, errno, EAGAIN);
    hx_free(&h);
}

/* Peers that finish the handshake and then sit there while the application
 * does not accept: the accept queue stops at the backlog, the rest is
 * refused (ListenOverflows) without holding memory, and once the
 * application accepts, new clients get in. */
static void accept_queue_full_of_idle_peers_stays_bounded(void **state)
{
    (void)state;
    static struct hx h;
    uint64_t seed = sim_test_seed(7304);
    hx_setup(&h, seed);
    int lfd = tlisten(&h.n, PORT, 8);
    struct hx_mem base = hx_mem(h.n.b);
    uint64_t ovf0 = ust_stat_get(h.n.b, UST_STAT_TCP_ListenOverflows);
    unsigned established = 0;
    for (unsigned i = 0; i < 200; i++) {
        uint16_t mport = (uint16_t)(20000 + i);
        uint32_t isn = 1000u * i;
        uint64_t n0 = h.nsegs;
        hx_tcp_to_b(&h, HX_IP_M, mport, PORT, isn, 0, UST_TCP_SYN, 65535, hx_synopts,
                    sizeof(hx_synopts), NULL, 0);
        tnet_run(&h.n, 2 * TMS);
        const struct hx_seg *sa = h.nsegs > n0 ? hx_last_to(&h, HX_IP_M, mport) : NULL;
        if (sa && sa->th.flags == (UST_TCP_SYN | UST_TCP_ACK)) {
            hx_tcp_to_b(&h, HX_IP_M, mport, PORT, isn + 1, sa->th.seq + 1, UST_TCP_ACK, 1024,
                        NULL, 0, NULL, 0);
            established++;
        }
        tnet_run(&h.n, 2 * TMS);
        struct ust_tcb *l = ttcb(h.n.b, lfd);
        SIM_ASSERT(seed, l->acc_len <= 8 && l->syn_len <= 8);
        SIM_ASSERT(seed, hx_mem(h.n.b).conns <= base.conns + 16);
        SIM_ASSERT(seed, hx_mem(h.n.b).fbuf_bytes <= base.fbuf_bytes + 16 * 1024);
    }
    print_message("  %u of 200 handshakes answered, accept queue %u, %" PRIu64 " overflows\n",
                  established, ttcb(h.n.b, lfd)->acc_len,
                  ust_stat_get(h.n.b, UST_STAT_TCP_ListenOverflows) - ovf0);
    SIM_ASSERT_EQ(seed, ttcb(h.n.b, lfd)->acc_len, 8);
    SIM_ASSERT(seed, ust_stat_get(h.n.b, UST_STAT_TCP_ListenOverflows) > ovf0);
    /* The application catches up: 8 connections, then a real client. */
    int fds[8];
    for (int i = 0; i < 8; i++) {
        fds[i] = ust_accept4(h.n.b, lfd, NULL, NULL, SOCK_NONBLOCK);
        SIM_ASSERT(seed, fds[i] >= 0);
    }
    tnet_run(&h.n, 300 * TSEC);     /* the refused half-open ones give up */
    int afd;
    int bfd = tconnect_pair(&h.n, lfd, PORT, &afd);
    hx_transfer(&h, h.n.a, afd, h.n.b, bfd, 50000, 9, 30 * TSEC);
    for (int i = 0; i < 8; i++)
        ust_close(h.n.b, fds[i]);
    hx_free(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(syn_flood_keeps_queues_bounded_and_real_clients_connect),
        cmocka_unit_test(syn_flood_without_cookies_drops_the_overflow),
        cmocka_unit_test(forged_cookie_acks_create_nothing),
        cmocka_unit_test(accept_queue_full_of_idle_peers_stays_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
