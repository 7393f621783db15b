/* Adversarial peers against an established TCP connection, on the
 * simulator (see test_hostile_util.h for the world):
 *  - blind in-window RST, SYN and data injection (RFC 5961 3, 4, 5): no
 *    injected segment resets the connection or puts a byte in the stream;
 *    each draws at most a challenge ACK, at most 1000 a second (RFC 5961 7);
 *    afterwards the connection carries 1 MB each way byte-exact, and memory
 *    is back where it was;
 *  - an ACK of data never sent (RFC 9293 3.10.7.4): dropped with its data,
 *    answered by an ACK, SND.UNA unmoved;
 *  - overlapping and inconsistent segments: an attacker's copy, with other
 *    bytes, of data the receiver already holds (below RCV.NXT, or inside
 *    one queued out-of-order segment) never reaches the reader, who gets
 *    exactly what the sender sent; the out-of-order queue stays bounded.
 *    (A later segment starting at or before RCV.NXT is in-order data and
 *    does win over what the queue holds, as in Linux: docs/SECURITY.md);
 *  - TCP options with zero, one-byte and overlong lengths, on SYNs to a
 *    listener and on established segments (bogus SACK blocks too): nothing
 *    crashes or leaks, the stream stays exact, the scoreboard bounded. */
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

/* Runs the sim until nothing is in flight and no timer is near, then
 * returns B's memory. */
static struct hx_mem settle(struct hx *h)
{
    tnet_run(&h->n, 2 * TSEC);
    return hx_mem(h->n.b);
}

static void blind_rst_syn_data_injection_draws_rate_limited_challenge_acks(void **state)
{
    (void)state;
    static struct hx h;
    uint64_t seed = sim_test_seed(7001);
    uint64_t rs = seed;
    hx_setup(&h, seed);
    int lfd = tlisten(&h.n, 80, 8), afd;
    int bfd = tconnect_pair(&h.n, lfd, 80, &afd);
    hx_transfer(&h, h.n.a, afd, h.n.b, bfd, 100000, 1, 30 * TSEC);
    struct hx_mem base = settle(&h);
    struct ust_tcb *t = ttcb(h.n.b, bfd);
    const struct ust_tcb *ta = ttcb(h.n.a, afd);
    uint16_t aport = ta->sk.lport;

    for (int round = 0; round < 2; round++) {
        uint32_t rcv_nxt = t->rcv_nxt, snd_una = t->snd_una, snd_max = t->snd_max;
        uint32_t wnd = t->rcv_adv - t->rcv_nxt;
        SIM_ASSERT(seed, wnd > 1000);
        uint64_t ch0 = ust_stat_get(h.n.b, UST_STAT_TCP_TCPChallengeACK);
        uint64_t f0 = h.b_frames;
        unsigned n_ch = 0, n_other = 0;
        /* 5000 segments in one virtual instant: the attacker knows the
         * 4-tuple, guesses sequence numbers in the window, not RCV.NXT. */
        static const uint8_t evil[64] = "EVIL EVIL EVIL EVIL EVIL EVIL EVIL EVIL EVIL EVIL EVIL EVIL";
        for (int i = 0; i < 5000; i++) {
            rs = hx_mix64(rs);
            uint32_t r = (uint32_t)(rs >> 33);
            uint32_t seq = rcv_nxt + 1 + r % (wnd - 100);
            switch (i % 5) {
            case 0:     /* in-window RST: challenge ACK (RFC 5961 3.2) */
                hx_tcp_to_b(&h, HX_IP_A, aport, 80, seq, 0, UST_TCP_RST, 0, NULL, 0, NULL, 0);
                n_ch++;
                break;
            case 1:     /* in-window RST|ACK */
                hx_tcp_to_b(&h, HX_IP_A, aport, 80, seq, snd_una, UST_TCP_RST | UST_TCP_ACK, 0,
                            NULL, 0, NULL, 0);
                n_ch++;
                break;
            case 2:     /* SYN in a synchronized state (RFC 5961 4.2) */
                hx_tcp_to_b(&h, HX_IP_A, aport, 80, seq, 0, UST_TCP_SYN, 65535, hx_synopts,
                            sizeof(hx_synopts), NULL, 0);
                n_ch++;
                break;
            case 3:     /* data with an ACK too old (RFC 5961 5.2): challenge */
                hx_tcp_to_b(&h, HX_IP_A, aport, 80, seq,
                            snd_una - t->max_snd_wnd - 1 - (r % 100000), UST_TCP_ACK, 1000, NULL,
                            0, evil, sizeof(evil));
                n_ch++;
                break;
            default:    /* data without ACK: dropped silently */
                hx_tcp_to_b(&h, HX_IP_A, aport, 80, seq, 0, UST_TCP_PSH, 1000, NULL, 0, evil,
                            sizeof(evil));
                n_other++;
                break;
            }
        }
        /* Nothing reached the stream; the connection lives. */
        SIM_ASSERT_EQ(seed, t->state, UST_TCP_ESTABLISHED);
        SIM_ASSERT_EQ(seed, t->rcv_nxt, rcv_nxt);
        SIM_ASSERT_EQ(seed, t->snd_una, snd_una);
        SIM_ASSERT_EQ(seed, t->snd_max, snd_max);
        SIM_ASSERT_EQ(seed, t->ooo.count, 0);
        int inq = -1;
        SIM_ASSERT_EQ(seed, ust_ioctl(h.n.b, bfd, FIONREAD, &inq), 0);
        SIM_ASSERT_EQ(seed, inq, 0);
        /* RFC 5961 7: at most 1000 challenge ACKs in the second. */
        uint64_t ch = ust_stat_get(h.n.b, UST_STAT_TCP_TCPChallengeACK) - ch0;
        SIM_ASSERT(seed, n_ch > 1000);
        SIM_ASSERT_EQ(seed, ch, 1000);
        tnet_run(&h.n, 10 * TMS);
        uint64_t frames = h.b_frames - f0;
        if (frames > 1000 + 5)
            fail_msg("B answered %" PRIu64 " frames to 5000 blind segments (seed=%" PRIu64 ")",
                     frames, seed);
        SIM_ASSERT_EQ(seed, tstate(h.n.a, afd), UST_TCP_ESTABLISHED);
        /* The next second has a fresh budget. */
        tnet_run(&h.n, 1 * TSEC);
    }

    /* The connection works, both ways, exactly; memory is back. */
    hx_transfer(&h, h.n.a, afd, h.n.b, bfd, 1 << 20, 2, 60 * TSEC);
    hx_transfer(&h, h.n.b, bfd, h.n.a, afd, 1 << 20, 3, 60 * TSEC);
    struct hx_mem end = settle(&h);
    SIM_ASSERT_EQ(seed, end.fbuf_bytes, base.fbuf_bytes);
    SIM_ASSERT_EQ(seed, end.conns, base.conns);
    ust_close(h.n.a, afd);
    ust_close(h.n.b, bfd);
    ust_close(h.n.b, lfd);
    tnet_run(&h.n, 200 * TSEC);
    SIM_ASSERT_EQ(seed, hx_mem(h.n.b).conns, 0);
    SIM_ASSERT_EQ(seed, hx_mem(h.n.b).fbuf_bytes, 0);
    hx_free(&h);
}

static void ack_of_unsent_data_is_dropped_and_answered(void **state)
{
    (void)state;
    static struct hx h;
    uint64_t seed = sim_test_seed(7002);
    hx_setup(&h, seed);
    int lfd = tlisten(&h.n, 80, 8), afd;
    int bfd = tconnect_pair(&h.n, lfd, 80, &afd);
    hx_transfer(&h, h.n.b, bfd, h.n.a, afd, 50000, 4, 30 * TSEC);
    settle(&h);
    struct ust_tcb *t = ttcb(h.n.b, bfd);
    uint16_t aport = ttcb(h.n.a, afd)->sk.lport;
    uint32_t rcv_nxt = t->rcv_nxt, snd_una = t->snd_una;
    uint64_t n0 = h.nsegs;
    static const uint8_t evil[100] = "not from A";
    uint32_t acks[3] = { t->snd_max + 1, t->snd_max + 5000, t->snd_max + 0x3fffffffu };
    for (int i = 0; i < 3; i++) {
        /* RFC 9293 3.10.7.4: "If the ACK acks something not yet sent
         * (SEG.ACK > SND.NXT) then send an ACK, drop the segment". */
        hx_tcp_to_b(&h, HX_IP_A, aport, 80, rcv_nxt, acks[i], UST_TCP_ACK | UST_TCP_PSH, 1000,
                    NULL, 0, evil, sizeof(evil));
        SIM_ASSERT_EQ(seed, t->snd_una, snd_una);
        SIM_ASSERT_EQ(seed, t->rcv_nxt, rcv_nxt);
        SIM_ASSERT_EQ(seed, t->state, UST_TCP_ESTABLISHED);
        tnet_run(&h.n, 2 * TMS);
        SIM_ASSERT(seed, h.nsegs > n0);
        const struct hx_seg *ack = hx_last_to(&h, HX_IP_A, aport);
        SIM_ASSERT(seed, ack != NULL && ack->time > 0);
        SIM_ASSERT_EQ(seed, ack->th.flags & (UST_TCP_ACK | UST_TCP_RST | UST_TCP_SYN), UST_TCP_ACK);
        SIM_ASSERT_EQ(seed, ack->th.ack, rcv_nxt);
        SIM_ASSERT_EQ(seed, ack->len, 0);
        n0 = h.nsegs;
    }
    int inq = -1;
    ust_ioctl(h.n.b, bfd, FIONREAD, &inq);
    SIM_ASSERT_EQ(seed, inq, 0);
    /* A's real bytes at the same sequence numbers win. */
    hx_transfer(&h, h.n.a, afd, h.n.b, bfd, 200000, 5, 30 * TSEC);
    hx_transfer(&h, h.n.b, bfd, h.n.a, afd, 200000, 6, 30 * TSEC);
    hx_free(&h);
}

/* ---- Overlapping and inconsistent segments -------------------------------- */

#define OV_TOTAL (256u * 1024u)
#define OV_SEG 1000u

/* A range [*lo, *hi) of stream offsets the receiver already holds from the
 * real sender in a way no later copy can change: below RCV.NXT, or inside
 * one segment of the out-of-order queue (a copy inside it sorts after it
 * and is skipped when the hole fills). False if there is none. */
static bool pick_held(const struct ust_tcb *t, uint32_t isn, uint64_t r, uint32_t *lo,
                      uint32_t *hi)
{
    uint32_t delivered = t->rcv_nxt - isn - 1;
    if ((r & 1) || t->ooo.count == 0) {
        if (delivered == 0)
            return false;
        uint32_t back = delivered < 8000 ? delivered : 8000;
        *lo = delivered - 1 - (uint32_t)((r >> 8) % back);
        uint32_t room = delivered - *lo;
        *hi = *lo + 1 + (uint32_t)((r >> 24) % (room < 1500 ? room : 1500));
        return true;
    }
    uint32_t k = (uint32_t)((r >> 8) % t->ooo.count);
    const struct ust_fbuf *fb = t->ooo.head;
    while (k--)
        fb = fb->next;
    uint32_t start = (uint32_t)fb->cb.raw[0] - isn - 1;
    *lo = start + (uint32_t)((r >> 24) % fb->len);
    *hi = *lo + 1 + (uint32_t)((r >> 40) % (start + fb->len - *lo));
    return true;
}

static void overlapping_inconsistent_segments_keep_the_senders_bytes(void **state)
{
    (void)state;
    static struct hx h;
    static uint8_t buf[OV_TOTAL], got[OV_TOTAL], junk[2048];
    uint64_t seed = sim_test_seed(7003);
    uint64_t rs = seed;
    hx_setup(&h, seed);
    int lfd = tlisten(&h.n, 90, 8);
    struct hx_conn c;
    hx_m_connect(&h, &c, lfd, 90, 40000, 0x12345678u);
    struct ust_tcb *t = ttcb(h.n.b, c.bfd);
    struct hx_mem base = hx_mem(h.n.b);
    hx_fill(buf, OV_TOTAL, 77, 0);
    size_t nread = 0;
    uint32_t nsegs = (OV_TOTAL + OV_SEG - 1) / OV_SEG;
    uint8_t *sent = calloc(nsegs, 1);
    assert_non_null(sent);
    unsigned attacks = 0, max_ooo = 0;

    /* The hand-made cases first: an old copy, a copy of an out-of-order
     * segment, a sub-range of it, then the hole fills. */
    hx_m_data(&h, &c, 0, buf, 1000, NULL, 0);
    hx_m_data(&h, &c, 2000, buf + 2000, 1000, NULL, 0);
    memset(junk, 'X', sizeof(junk));
    hx_m_data(&h, &c, 0, junk, 1000, NULL, 0);           /* old, different */
    hx_m_data(&h, &c, 2000, junk, 1000, NULL, 0);        /* same as queued, different */
    hx_m_data(&h, &c, 2200, junk, 600, NULL, 0);         /* inside the queued one */
    hx_m_data(&h, &c, 500, junk, 500, NULL, 0);          /* old tail */
    SIM_ASSERT_EQ(seed, t->rcv_nxt, c.m_isn + 1 + 1000);
    hx_m_data(&h, &c, 1000, buf + 1000, 1000, NULL, 0);  /* fills: 0..3000 */
    SIM_ASSERT_EQ(seed, t->rcv_nxt, c.m_isn + 1 + 3000);
    SIM_ASSERT_EQ(seed, t->ooo.count, 0);
    hx_m_data(&h, &c, 1500, junk, 1500, NULL, 0);        /* straddles old data */
    SIM_ASSERT_EQ(seed, t->rcv_nxt, c.m_isn + 1 + 3000);
    for (uint32_t i = 0; i < 3; i++)
        sent[i] = 1;

    /* Then a seeded storm: the real segments in random order (within 64
     * segments ahead of what the reader took), some twice, and after each
     * an attacker's copy, with different bytes, of a range B holds. */
    while (nread < OV_TOTAL) {
        uint32_t lo_seg = (uint32_t)(nread / OV_SEG);
        uint32_t hi_seg = lo_seg + 64;
        if (hi_seg > nsegs)
            hi_seg = nsegs;
        for (int k = 0; k < 8; k++) {
            rs = hx_mix64(rs);
            uint32_t i = lo_seg + (uint32_t)(rs % (hi_seg - lo_seg));
            uint32_t off = i * OV_SEG, len = OV_TOTAL - off < OV_SEG ? OV_TOTAL - off : OV_SEG;
            if ((rs & (1ull << 40)) || !sent[i]) {
                hx_m_data(&h, &c, off, buf + off, len, NULL, 0);
                sent[i] = 1;
            }
            rs = hx_mix64(rs);
            uint32_t a_lo, a_hi;
            if (pick_held(t, c.m_isn, rs, &a_lo, &a_hi)) {
                for (uint32_t j = a_lo; j < a_hi; j++)
                    junk[j - a_lo] = (uint8_t)~buf[j];
                hx_m_data(&h, &c, a_lo, junk, a_hi - a_lo, NULL, 0);
                attacks++;
            }
            if (t->ooo.count > max_ooo)
                max_ooo = t->ooo.count;
            /* What ooo_insert promises: queued payload within the buffer,
             * at most 1024 segments. */
            SIM_ASSERT(seed, t->ooo.count <= 1024);
            SIM_ASSERT(seed, t->ooo_bytes <= t->rcv.cap);
        }
        tnet_run(&h.n, 1 * TMS);
        while (nread < OV_TOTAL) {
            ssize_t k = ust_recv(h.n.b, c.bfd, got + nread, OV_TOTAL - nread, 0);
            if (k <= 0) {
                SIM_ASSERT(seed, k < 0 && errno == EAGAIN);
                break;
            }
            nread += (size_t)k;
        }
    }
    SIM_ASSERT_EQ(seed, nread, OV_TOTAL);
    for (size_t i = 0; i < OV_TOTAL; i++)
        if (got[i] != buf[i])
            fail_msg("byte %zu: got %#x, the sender sent %#x (seed=%" PRIu64 ")", i, got[i],
                     buf[i], seed);
    print_message("  %u attacker copies, out-of-order queue peak %u segments\n", attacks,
                  max_ooo);
    SIM_ASSERT(seed, attacks > 500);
    SIM_ASSERT(seed, max_ooo > 0);
    SIM_ASSERT_EQ(seed, t->ooo.count, 0);
    SIM_ASSERT_EQ(seed, t->state, UST_TCP_ESTABLISHED);
    tnet_run(&h.n, 1 * TSEC);
    SIM_ASSERT_EQ(seed, hx_mem(h.n.b).fbuf_bytes, base.fbuf_bytes);
    free(sent);
    hx_free(&h);
}

/* ---- Options with zero and overlong lengths ---------------------------------- */

/* Malformed option lists (raw bytes, at most 40). */
struct badopt {
    const char *what;
    uint8_t len;
    uint8_t b[40];
};

static const struct badopt badopts[] = {
    { "MSS length 0", 4, { 2, 0, 5, 0xb4 } },
    { "MSS length 1", 4, { 2, 1, 5, 0xb4 } },
    { "unknown kind length 0", 4, { 0x99, 0, 0, 0 } },
    { "unknown kind length 1", 4, { 0x99, 1, 1, 1 } },
    { "unknown kind length 255", 4, { 0x99, 255, 0, 0 } },
    { "MSS past the header", 4, { 1, 1, 2, 4 } },
    { "timestamp length 40", 12, { 8, 40, 0, 0, 0, 1, 0, 0, 0, 0, 1, 1 } },
    { "wscale length 2", 4, { 3, 2, 1, 1 } },
    { "MSS length 3", 4, { 2, 3, 5, 0 } },
    { "MSS 0", 4, { 2, 4, 0, 0 } },
    { "wscale 255", 4, { 1, 3, 3, 255 } },
    { "SACK length 2", 4, { 5, 2, 1, 1 } },
    { "SACK length 3", 4, { 5, 3, 0, 1 } },
    { "SACK length 42", 4, { 5, 42, 0, 0 } },
    { "40 NOPs", 40, { 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
                      1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1 } },
    { "unknown kind length 40", 40, { 0x99, 40 } },
    { "unknown kind length 41", 40, { 0x99, 41 } },
    { "EOL then garbage", 8, { 0, 0x99, 0, 2, 1, 0xff, 0xff, 0xff } },
};
#define N_BADOPTS (sizeof(badopts) / sizeof(badopts[0]))

static void options_with_bad_lengths_on_syn_leave_the_listener_sound(void **state)
{
    (void)state;
    static struct hx h;
    uint64_t seed = sim_test_seed(7004);
    hx_setup(&h, seed);
    int lfd = tlisten(&h.n, 80, 64);
    struct hx_mem base = hx_mem(h.n.b);
    for (unsigned i = 0; i < N_BADOPTS; i++) {
        uint16_t mport = (uint16_t)(41000 + i);
        uint64_t n0 = h.nsegs;
        hx_tcp_to_b(&h, HX_IP_M, mport, 80, 1000u * i, 0, UST_TCP_SYN, 65535, badopts[i].b,
                    badopts[i].len, NULL, 0);
        tnet_run(&h.n, 5 * TMS);
        const struct hx_seg *sa = h.nsegs > n0 ? hx_last_to(&h, HX_IP_M, mport) : NULL;
        if (sa) {
            /* Accepted: the SYN-ACK is sane, and the handshake completes. */
            SIM_ASSERT_EQ(seed, sa->th.flags, UST_TCP_SYN | UST_TCP_ACK);
            SIM_ASSERT_EQ(seed, sa->th.ack, 1000u * i + 1);
            uint32_t b_isn = sa->th.seq;
            hx_tcp_to_b(&h, HX_IP_M, mport, 80, 1000u * i + 1, b_isn + 1, UST_TCP_ACK, 1024,
                        badopts[i].b, badopts[i].len, "hi", 2);
            tnet_run(&h.n, 5 * TMS);
            int fd = ust_accept4(h.n.b, lfd, NULL, NULL, SOCK_NONBLOCK);
            if (fd >= 0) {
                struct ust_tcb *t = ttcb(h.n.b, fd);
                SIM_ASSERT(seed, t->mss >= 64 && t->mss <= 1460);
                SIM_ASSERT(seed, t->snd_wscale <= 14);
                ust_close(h.n.b, fd);       /* unread data or not: RST or FIN */
            }
        }
        print_message("  SYN with %s: %s\n", badopts[i].what,
                      sa ? "answered" : "dropped");
    }
    /* Every half-open child gives up; nothing is left. */
    tnet_run(&h.n, 300 * TSEC);
    struct hx_mem end = hx_mem(h.n.b);
    SIM_ASSERT_EQ(seed, end.conns, base.conns);
    SIM_ASSERT_EQ(seed, end.fbuf_bytes, base.fbuf_bytes);
    SIM_ASSERT_EQ(seed, ttcb(h.n.b, lfd)->syn_len, 0);
    /* A real client still gets in. */
    int afd;
    int bfd = tconnect_pair(&h.n, lfd, 80, &afd);
    hx_transfer(&h, h.n.a, afd, h.n.b, bfd, 100000, 8, 30 * TSEC);
    hx_free(&h);
}

static void options_with_bad_lengths_on_established_segments_keep_the_stream(void **state)
{
    (void)state;
    static struct hx h;
    static uint8_t buf[64 * 1024], got[64 * 1024];
    uint64_t seed = sim_test_seed(7005);
    hx_setup(&h, seed);
    int lfd = tlisten(&h.n, 90, 8);
    struct hx_conn c;
    hx_m_connect(&h, &c, lfd, 90, 40001, 0xfffff000u);     /* wraps soon */
    struct ust_tcb *t = ttcb(h.n.b, c.bfd);
    hx_fill(buf, sizeof(buf), 9, 0);
    /* B has data in flight toward M, so SACK blocks matter. */
    static uint8_t out[30000];
    hx_fill(out, sizeof(out), 10, 0);
    SIM_ASSERT_EQ(seed, ust_send(h.n.b, c.bfd, out, sizeof(out), 0), (ssize_t)sizeof(out));
    tnet_run(&h.n, 5 * TMS);
    SIM_ASSERT(seed, t->snd_max != t->snd_una);
    uint32_t off = 0;
    size_t nread = 0;
    uint32_t una = t->snd_una, top = t->snd_max;
    for (unsigned round = 0; round < 4; round++) {
        for (unsigned i = 0; i < N_BADOPTS; i++) {
            /* The payload is the real stream at its place: accepted or
             * dropped, the stream stays right. */
            uint32_t len = 500;
            hx_m_data(&h, &c, off, buf + off, len, badopts[i].b, badopts[i].len);
            if (t->rcv_nxt == c.m_isn + 1 + off + len)
                off += len;
            /* SACK blocks that lie: beyond SND.MAX, below SND.UNA, upside
             * down, wrapped, and four overlapping. */
            uint8_t so[40] = { 1, 1, 5, 34 };
            uint32_t blk[8] = { top + 1000, top + 9000, una - 5000, una - 1000, una + 3000,
                                una + 1000, una + 0x80000000u, una + 10 };
            for (int b = 0; b < 8; b++)
                ust_put_be32(so + 4 + 4 * b, blk[b] + round * 977u + i);
            hx_tcp_to_b(&h, HX_IP_M, c.mport, c.bport, c.m_isn + 1 + off, una, UST_TCP_ACK,
                        1024, so, 36, NULL, 0);
            SIM_ASSERT(seed, t->nsb <= UST_TCP_SCOREBOARD);
            SIM_ASSERT(seed, t->sacked_bytes <= t->snd_max - t->snd_una);
            SIM_ASSERT_EQ(seed, t->state, UST_TCP_ESTABLISHED);
        }
        tnet_run(&h.n, 50 * TMS);
        ssize_t k;
        while ((k = ust_recv(h.n.b, c.bfd, got + nread, sizeof(got) - nread, 0)) > 0)
            nread += (size_t)k;
    }
    SIM_ASSERT_EQ(seed, nread, off);
    SIM_ASSERT(seed, memcmp(got, buf, nread) == 0);
    SIM_ASSERT(seed, off > 0);
    /* M acknowledges everything B sends until all 30000 bytes are in. */
    for (int i = 0; i < 100 && (t->snd_una != t->snd_max || ust_tcp_outq(t) > 0); i++) {
        hx_tcp_to_b(&h, HX_IP_M, c.mport, c.bport, c.m_isn + 1 + off, t->snd_max, UST_TCP_ACK,
                    1024, NULL, 0, NULL, 0);
        tnet_run(&h.n, 5 * TMS);
    }
    SIM_ASSERT_EQ(seed, ust_tcp_outq(t), 0);
    SIM_ASSERT_EQ(seed, t->snd_una, t->snd_max);
    SIM_ASSERT_EQ(seed, t->nsb, 0);
    SIM_ASSERT_EQ(seed, t->state, UST_TCP_ESTABLISHED);
    ust_close(h.n.b, c.bfd);
    ust_close(h.n.b, lfd);
    tnet_run(&h.n, 3000 * TSEC);   /* FIN never acknowledged: 15 retries */
    SIM_ASSERT_EQ(seed, hx_mem(h.n.b).conns, 0);
    SIM_ASSERT_EQ(seed, hx_mem(h.n.b).fbuf_bytes, 0);
    hx_free(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(blind_rst_syn_data_injection_draws_rate_limited_challenge_acks),
        cmocka_unit_test(ack_of_unsent_data_is_dropped_and_answered),
        cmocka_unit_test(overlapping_inconsistent_segments_keep_the_senders_bytes),
        cmocka_unit_test(options_with_bad_lengths_on_syn_leave_the_listener_sound),
        cmocka_unit_test(options_with_bad_lengths_on_established_segments_keep_the_stream),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
