/* Peers that stall, on the simulator (test_hostile_util.h has the world):
 *  - zero window forever: A accepts a connection and never reads. B fills
 *    A's receive buffer, then probes the zero window (RFC 9293 3.8.6.1);
 *    the persist timer backs off until it reaches tcp_rto_max_ns and stays
 *    there, A answers every probe so the connection lives, and over four
 *    hours of virtual time B's memory does not grow by a byte. When A
 *    finally reads, every byte arrives, in order;
 *  - a peer that never reads: a non-blocking send on B fills the send
 *    buffer and then fails with EAGAIN, POLLOUT is off, the bytes queued
 *    never exceed SO_SNDBUF (or, autotuned, tcp_wmem_max), and an hour of
 *    stalling costs nothing more; with the stack thread running, a
 *    blocking send waits and SO_SNDTIMEO ends it (partial count, then
 *    EAGAIN). */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>

#include <cmocka.h>

#include "unit/sim_test_util.h"
#include "unit/tcp_test_util.h"
#include "unit/test_hostile_util.h"

/* Writes stream `tag` from offset *sent until the socket says EAGAIN. */
static size_t fill_until_eagain(struct hx *h, struct ust_stack *s, int fd, uint64_t tag,
                                size_t *sent)
{
    static uint8_t buf[16384];
    size_t n0 = *sent;
    for (;;) {
        hx_fill(buf, sizeof(buf), tag, *sent);
        ssize_t k = ust_send(s, fd, buf, sizeof(buf), MSG_NOSIGNAL);
        if (k < 0) {
            SIM_ASSERT(h->n.seed, errno == EAGAIN);
            return *sent - n0;
        }
        *sent += (size_t)k;
        tnet_run(&h->n, 1 * TMS);
    }
}

/* Reads everything and checks it against stream `tag` from *got. */
static void read_check(struct hx *h, struct ust_stack *s, int fd, uint64_t tag, size_t *got)
{
    static uint8_t buf[16384];
    for (;;) {
        ssize_t k = ust_recv(s, fd, buf, sizeof(buf), 0);
        if (k < 0) {
            SIM_ASSERT(h->n.seed, errno == EAGAIN);
            return;
        }
        SIM_ASSERT(h->n.seed, k > 0);
        for (ssize_t i = 0; i < k; i++)
            if (buf[i] != hx_byte(tag, *got + (size_t)i))
                fail_msg("byte %zu differs (seed=%" PRIu64 ")", *got + (size_t)i, h->n.seed);
        *got += (size_t)k;
    }
}

static void zero_window_forever_backs_off_to_rto_max_with_flat_memory(void **state)
{
    (void)state;
    static struct hx h;
    uint64_t seed = sim_test_seed(7201);
    hx_setup(&h, seed);
    int lfd = tlisten(&h.n, 80, 8), afd;
    /* A's receive buffer is small so its window closes soon. */
    int small = 8192;
    int bfd = -1;
    {
        int fd = tsock(&h.n, h.n.a);
        SIM_ASSERT_EQ(seed, ust_setsockopt(h.n.a, fd, SOL_SOCKET, SO_RCVBUF, &small,
                                           sizeof(small)), 0);
        struct sockaddr_in sb = tsin("10.0.0.2", 80);
        ust_connect(h.n.a, fd, (struct sockaddr *)&sb, sizeof(sb));
        for (int i = 0; i < 100 && bfd < 0; i++) {
            tnet_run(&h.n, 10 * TMS);
            bfd = ust_accept4(h.n.b, lfd, NULL, NULL, SOCK_NONBLOCK);
        }
        afd = fd;
    }
    SIM_ASSERT(seed, bfd >= 0);
    struct ust_tcb *t = ttcb(h.n.b, bfd);
    size_t sent = 0, got = 0;
    fill_until_eagain(&h, h.n.b, bfd, 21, &sent);
    tnet_run(&h.n, 5 * TSEC);
    SIM_ASSERT_EQ(seed, t->snd_wnd, 0);
    SIM_ASSERT(seed, t->persist);
    uint16_t aport = ttcb(h.n.a, afd)->sk.lport;

    /* Four hours in 10-minute steps. B's memory is measured after the
     * first half hour, when everything has settled. */
    uint64_t rto_max = h.n.b->cfg.tcp_rto_max_ns;
    struct hx_mem ref = { 0 };
    uint64_t probes0 = 0, last_probe = 0, max_gap = 0, at_max = 0;
    uint64_t seen = h.nsegs;
    for (int step = 0; step < 24; step++) {
        tnet_run(&h.n, 600 * TSEC);
        /* Probes (B -> A, no data or one old byte) and their spacing. */
        uint64_t lo = h.nsegs > HX_SEGS ? h.nsegs - HX_SEGS : 0;
        SIM_ASSERT(seed, seen >= lo);
        for (uint64_t i = seen; i < h.nsegs; i++) {
            const struct hx_seg *s = &h.segs[i % HX_SEGS];
            if (s->dst != HX_IP_A || s->th.dport != aport)
                continue;
            if (last_probe) {
                uint64_t gap = s->time - last_probe;
                if (gap > max_gap)
                    max_gap = gap;
                if (gap + 2 * TMS >= rto_max)
                    at_max++;
            }
            last_probe = s->time;
        }
        seen = h.nsegs;
        SIM_ASSERT_EQ(seed, t->state, UST_TCP_ESTABLISHED);
        SIM_ASSERT_EQ(seed, tstate(h.n.a, afd), UST_TCP_ESTABLISHED);
        SIM_ASSERT_EQ(seed, t->snd_wnd, 0);
        struct hx_mem m = hx_mem(h.n.b);
        if (step == 2) {
            ref = m;
            probes0 = ust_stat_get(h.n.b, UST_STAT_TCP_TCPZeroWindowProbes);
        } else if (step > 2) {
            SIM_ASSERT_EQ(seed, m.fbuf_bytes, ref.fbuf_bytes);
            SIM_ASSERT_EQ(seed, m.conns, ref.conns);
            SIM_ASSERT(seed, ust_tcp_outq(t) <= t->snd.cap);
        }
    }
    uint64_t probes = ust_stat_get(h.n.b, UST_STAT_TCP_TCPZeroWindowProbes) - probes0;
    print_message("  %" PRIu64 " probes in the last 3.5 h, longest gap %" PRIu64 " ms, "
                  "%" PRIu64 " gaps at the maximum\n", probes, (uint64_t)(max_gap / TMS), at_max);
    /* Backed off to the maximum and no further: about one probe every
     * tcp_rto_max_ns (120 s) for 3.5 hours. */
    SIM_ASSERT(seed, max_gap <= rto_max + 10 * TMS);
    SIM_ASSERT(seed, at_max >= 90);
    SIM_ASSERT(seed, probes >= 3 * 3600 / 120 && probes <= 4 * 3600 / 120 + 5);

    /* A reads at last: the window opens and the rest flows exactly. */
    size_t total = sent;
    for (int i = 0; i < 20000 && got < total; i++) {
        read_check(&h, h.n.a, afd, 21, &got);
        tnet_run(&h.n, 10 * TMS);
    }
    read_check(&h, h.n.a, afd, 21, &got);
    SIM_ASSERT_EQ(seed, got, total);
    hx_transfer(&h, h.n.b, bfd, h.n.a, afd, 300000, 22, 60 * TSEC);
    hx_free(&h);
}

static void peer_that_never_reads_bounds_the_send_buffer(void **state)
{
    (void)state;
    static struct hx h;
    uint64_t seed = sim_test_seed(7202);
    hx_setup(&h, seed);
    int lfd = tlisten(&h.n, 80, 8), afd;
    int bfd = tconnect_pair(&h.n, lfd, 80, &afd);
    /* One connection with a fixed SO_SNDBUF, one autotuned. */
    int afd2;
    int bfd2 = tconnect_pair(&h.n, lfd, 80, &afd2);
    int sndbuf = 65536;
    SIM_ASSERT_EQ(seed, ust_setsockopt(h.n.b, bfd, SOL_SOCKET, SO_SNDBUF, &sndbuf,
                                       sizeof(sndbuf)), 0);
    int eff = 0;
    socklen_t el = sizeof(eff);
    SIM_ASSERT_EQ(seed, ust_getsockopt(h.n.b, bfd, SOL_SOCKET, SO_SNDBUF, &eff, &el), 0);
    size_t sent = 0, sent2 = 0;
    fill_until_eagain(&h, h.n.b, bfd, 31, &sent);
    fill_until_eagain(&h, h.n.b, bfd2, 32, &sent2);
    tnet_run(&h.n, 10 * TSEC);
    fill_until_eagain(&h, h.n.b, bfd, 31, &sent);
    fill_until_eagain(&h, h.n.b, bfd2, 32, &sent2);
    struct ust_tcb *t = ttcb(h.n.b, bfd), *t2 = ttcb(h.n.b, bfd2);
    int outq = -1, inq = -1;
    SIM_ASSERT_EQ(seed, ust_ioctl(h.n.b, bfd, SIOCOUTQ, &outq), 0);
    SIM_ASSERT_EQ(seed, ust_ioctl(h.n.a, afd, FIONREAD, &inq), 0);
    print_message("  SO_SNDBUF %d: %zu bytes taken, %d queued at B, %d waiting at A; "
                  "autotuned: %zu taken, %zu queued\n",
                  eff, sent, outq, inq, sent2, ust_tcp_outq(t2));
    SIM_ASSERT_EQ(seed, (size_t)outq + (size_t)inq, sent);
    SIM_ASSERT(seed, (size_t)outq <= (size_t)eff);
    SIM_ASSERT(seed, t->snd.cap <= (size_t)eff);
    SIM_ASSERT(seed, t2->snd.cap <= h.n.b->cfg.tcp_wmem_max);
    SIM_ASSERT(seed, ust_tcp_outq(t2) <= h.n.b->cfg.tcp_wmem_max);
    SIM_ASSERT(seed, ust_tcp_inq(ttcb(h.n.a, afd)) <= ttcb(h.n.a, afd)->rcv.cap);
    /* EAGAIN and no POLLOUT while the peer does not read. */
    struct pollfd p = { .fd = bfd, .events = POLLOUT };
    SIM_ASSERT_EQ(seed, ust_poll(h.n.b, &p, 1, 0), 0);
    SIM_ASSERT_EQ(seed, ust_send(h.n.b, bfd, "x", 1, MSG_NOSIGNAL), -1);
    SIM_ASSERT_EQ(seed, errno, EAGAIN);
    SIM_ASSERT_EQ(seed, ust_send(h.n.b, bfd2, "x", 1, MSG_DONTWAIT | MSG_NOSIGNAL), -1);
    SIM_ASSERT_EQ(seed, errno, EAGAIN);

    /* An hour of stalling costs nothing more. */
    struct hx_mem ref = hx_mem(h.n.b);
    for (int i = 0; i < 6; i++) {
        tnet_run(&h.n, 600 * TSEC);
        struct hx_mem m = hx_mem(h.n.b);
        SIM_ASSERT_EQ(seed, m.fbuf_bytes, ref.fbuf_bytes);
        SIM_ASSERT_EQ(seed, m.conns, ref.conns);
        SIM_ASSERT_EQ(seed, ust_send(h.n.b, bfd, "x", 1, MSG_NOSIGNAL), -1);
        SIM_ASSERT_EQ(seed, t->state, UST_TCP_ESTABLISHED);
    }
    /* The reader wakes up: everything arrives, POLLOUT returns. */
    size_t got = 0, got2 = 0;
    for (int i = 0; i < 20000 && (got < sent || got2 < sent2); i++) {
        read_check(&h, h.n.a, afd, 31, &got);
        read_check(&h, h.n.a, afd2, 32, &got2);
        tnet_run(&h.n, 10 * TMS);
    }
    SIM_ASSERT_EQ(seed, got, sent);
    SIM_ASSERT_EQ(seed, got2, sent2);
    SIM_ASSERT_EQ(seed, ust_poll(h.n.b, &p, 1, 0), 1);
    SIM_ASSERT(seed, p.revents & POLLOUT);
    hx_free(&h);
}

/* The same with blocking calls (stack thread running, loopback): a send
 * to a peer that never reads waits, then SO_SNDTIMEO ends it with what was
 * taken (Linux sk_stream_wait_memory), and the next one fails with EAGAIN.
 * Only outcomes are asserted, never how long anything took. */
static void blocking_send_to_a_peer_that_never_reads_ends_at_sndtimeo(void **state)
{
    (void)state;
    struct ust_stack_config cfg;
    ust_stack_config_init(&cfg);
    cfg.seed = 7203;
    cfg.raise_sigpipe = 0;
    struct ust_stack *s = ust_stack_new(&cfg);
    assert_non_null(s);
    assert_int_equal(ust_stack_start(s), 0);
    int lfd = ust_socket(s, AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin = tsin("127.0.0.1", 7100);
    assert_int_equal(ust_bind(s, lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    assert_int_equal(ust_listen(s, lfd, 4), 0);
    int cfd = ust_socket(s, AF_INET, SOCK_STREAM, 0);
    assert_int_equal(ust_connect(s, cfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    int afd = ust_accept(s, lfd, NULL, NULL);
    assert_true(afd >= 0);
    struct timeval tv = { .tv_sec = 0, .tv_usec = 50000 };
    assert_int_equal(ust_setsockopt(s, cfd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)), 0);
    int sndbuf = 65536, eff = 0;
    socklen_t el = sizeof(eff);
    assert_int_equal(ust_setsockopt(s, cfd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf)), 0);
    assert_int_equal(ust_getsockopt(s, cfd, SOL_SOCKET, SO_SNDBUF, &eff, &el), 0);
    size_t big = 16u << 20, taken = 0;
    uint8_t *buf = calloc(1, big);
    assert_non_null(buf);
    ssize_t n = ust_send(s, cfd, buf, big, 0);
    print_message("  a blocking 16 MiB send took %zd bytes before SO_SNDTIMEO\n", n);
    assert_true(n > 0 && (size_t)n < big);
    taken += (size_t)n;
    /* Whatever was still in flight drains; then every send times out
     * having taken nothing. */
    int tries = 0;
    while ((n = ust_send(s, cfd, buf, big, 0)) > 0 && tries++ < 100)
        taken += (size_t)n;
    assert_int_equal(n, -1);
    assert_int_equal(errno, EAGAIN);
    int outq = -1, inq = -1;
    assert_int_equal(ust_ioctl(s, cfd, SIOCOUTQ, &outq), 0);
    assert_int_equal(ust_ioctl(s, afd, FIONREAD, &inq), 0);
    assert_true(outq <= eff);
    assert_int_equal((size_t)outq + (size_t)inq, taken);
    free(buf);
    assert_int_equal(ust_stack_stop(s), 0);
    ust_close(s, afd);
    ust_close(s, cfd);
    ust_close(s, lfd);
    ust_stack_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(zero_window_forever_backs_off_to_rto_max_with_flat_memory),
        cmocka_unit_test(peer_that_never_reads_bounds_the_send_buffer),
        cmocka_unit_test(blocking_send_to_a_peer_that_never_reads_ends_at_sndtimeo),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
