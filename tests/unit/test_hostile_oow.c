/* The rate limit on ACKs that answer invalid segments (Linux
 * net.ipv4.tcp_invalid_ratelimit, tcp_oow_rate_limited), on the simulator
 * (see test_hostile_util.h for the world):
 *  - a blind attacker sending 10,000 out-of-window segments in 1 s of
 *    virtual time at an established connection draws at most 3 ACKs with
 *    the default 500 ms (TCP.TCPACKSkippedSeq counts the rest); the same
 *    for segments failing PAWS (TCPACKSkippedPAWS) and for ACKs of data
 *    never sent; the connection keeps working, byte-exact;
 *  - the first invalid segment is still answered with an ACK at RCV.NXT
 *    (RFC 9293 3.10.7.4), and one after the interval is answered again;
 *  - an out-of-window segment carrying data is answered every time (an old
 *    retransmission, as Linux exempts), and the limit is per connection;
 *  - RFC 5961 challenge ACKs keep their own limit (1000 a second per stack),
 *    not this one;
 *  - tcp_invalid_ratelimit_ms = 0 turns the limit off: every segment is
 *    answered. */
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

#define FLOOD 10000
#define TUS 1000ull

struct oow {
    struct hx h;
    int lfd, afd, bfd;
    struct ust_tcb *t;          /* B's side */
    uint16_t aport;
};

static void oow_setup(struct oow *o, uint64_t seed, unsigned ratelimit_ms)
{
    hx_setup(&o->h, seed);
    ust_rt_lock(o->h.n.b);
    o->h.n.b->cfg.tcp_invalid_ratelimit_ms = ratelimit_ms;
    ust_rt_unlock(o->h.n.b);
    o->lfd = tlisten(&o->h.n, 80, 8);
    o->bfd = tconnect_pair(&o->h.n, o->lfd, 80, &o->afd);
    hx_transfer(&o->h, o->h.n.a, o->afd, o->h.n.b, o->bfd, 20000, 1, 10 * TSEC);
    hx_transfer(&o->h, o->h.n.b, o->bfd, o->h.n.a, o->afd, 20000, 2, 10 * TSEC);
    tnet_run(&o->h.n, 2 * TSEC);
    o->t = ttcb(o->h.n.b, o->bfd);
    o->aport = ttcb(o->h.n.a, o->afd)->sk.lport;
    SIM_ASSERT(seed, o->t->ts_ok);
}

/* Segments B sent to A's port since n0. */
static uint64_t acks_to_a(const struct oow *o, uint64_t n0)
{
    uint64_t n = 0;
    for (uint64_t i = n0; i < o->h.nsegs; i++) {
        const struct hx_seg *s = &o->h.segs[i % HX_SEGS];
        if (o->h.nsegs - i <= HX_SEGS && s->dst == HX_IP_A && s->th.dport == o->aport)
            n++;
    }
    return o->h.nsegs - n0 > HX_SEGS ? o->h.nsegs - n0 : n;
}

enum kind { OUT_OF_WINDOW, PAWS_FAIL, ACK_UNSENT };

/* One invalid pure ACK from "A" (spoofed) of the given kind. */
static void send_invalid(struct oow *o, enum kind k, uint64_t *rs)
{
    struct ust_tcb *t = o->t;
    *rs = hx_mix64(*rs);
    uint32_t r = (uint32_t)(*rs >> 33);
    uint32_t wnd = t->rcv_adv - t->rcv_nxt;
    uint8_t ts[12] = { 1, 1, 8, 10 };
    switch (k) {
    case OUT_OF_WINDOW:     /* beyond the right edge, or long before RCV.NXT */
        hx_tcp_to_b(&o->h, HX_IP_A, o->aport, 80,
                    (r & 1) ? t->rcv_nxt + wnd + 1 + r % 1000000 : t->rcv_nxt - 1 - r % 1000000,
                    t->snd_una, UST_TCP_ACK, 1000, NULL, 0, NULL, 0);
        break;
    case PAWS_FAIL:         /* in the window, TSval older than TS.Recent */
        ust_put_be32(ts + 4, t->ts_recent - 1 - r % 100000);
        ust_put_be32(ts + 8, 0);
        hx_tcp_to_b(&o->h, HX_IP_A, o->aport, 80, t->rcv_nxt, t->snd_una, UST_TCP_ACK, 1000, ts,
                    sizeof(ts), NULL, 0);
        break;
    case ACK_UNSENT:        /* SEG.ACK > SND.NXT */
        hx_tcp_to_b(&o->h, HX_IP_A, o->aport, 80, t->rcv_nxt, t->snd_max + 1 + r % 100000,
                    UST_TCP_ACK, 1000, NULL, 0, NULL, 0);
        break;
    }
}

/* FLOOD invalid segments of kind k spread evenly over 1 s of virtual time;
 * returns how many ACKs B sent A meanwhile. */
static uint64_t flood(struct oow *o, enum kind k, uint64_t *rs)
{
    uint64_t n0 = o->h.nsegs;
    for (int i = 0; i < FLOOD; i++) {
        send_invalid(o, k, rs);
        tnet_run(&o->h.n, TSEC / FLOOD);
    }
    tnet_run(&o->h.n, 5 * TMS);
    return acks_to_a(o, n0);
}

static void check_unchanged(struct oow *o, uint32_t rcv_nxt, uint32_t snd_una)
{
    uint64_t seed = o->h.n.seed;
    SIM_ASSERT_EQ(seed, o->t->state, UST_TCP_ESTABLISHED);
    SIM_ASSERT_EQ(seed, o->t->rcv_nxt, rcv_nxt);
    SIM_ASSERT_EQ(seed, o->t->snd_una, snd_una);
    SIM_ASSERT_EQ(seed, tstate(o->h.n.a, o->afd), UST_TCP_ESTABLISHED);
}

static void blind_invalid_segment_flood_draws_at_most_3_acks_per_second(void **state)
{
    (void)state;
    static struct oow o;
    uint64_t seed = sim_test_seed(7101), rs = seed;
    oow_setup(&o, seed, 500);
    struct ust_stack *b = o.h.n.b;
    struct hx_mem base = hx_mem(b);
    static const struct {
        enum kind k;
        enum ust_stat skipped;
        const char *what;
    } kinds[] = {
        { OUT_OF_WINDOW, UST_STAT_TCP_TCPACKSkippedSeq, "out-of-window sequence numbers" },
        { PAWS_FAIL, UST_STAT_TCP_TCPACKSkippedPAWS, "PAWS failures" },
        { ACK_UNSENT, UST_STAT_TCP_TCPACKSkippedSeq, "ACKs of unsent data" },
    };
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        uint32_t rcv_nxt = o.t->rcv_nxt, snd_una = o.t->snd_una;
        uint64_t sk0 = ust_stat_get(b, kinds[i].skipped);
        uint64_t n0 = o.h.nsegs;
        uint64_t acks = flood(&o, kinds[i].k, &rs);
        uint64_t skipped = ust_stat_get(b, kinds[i].skipped) - sk0;
        print_message("  %d %s in 1 s: %" PRIu64 " ACKs, %" PRIu64 " held back\n", FLOOD,
                      kinds[i].what, acks, skipped);
        SIM_ASSERT(seed, acks >= 1 && acks <= 3);
        SIM_ASSERT_EQ(seed, acks + skipped, FLOOD);
        /* The first one was answered: an ACK at RCV.NXT (RFC 9293 3.10.7.4). */
        const struct hx_seg *first = &o.h.segs[n0 % HX_SEGS];
        SIM_ASSERT_EQ(seed, first->dst, HX_IP_A);
        SIM_ASSERT_EQ(seed, first->th.flags & (UST_TCP_ACK | UST_TCP_RST | UST_TCP_SYN),
                      UST_TCP_ACK);
        SIM_ASSERT_EQ(seed, first->th.ack, rcv_nxt);
        SIM_ASSERT_EQ(seed, first->len, 0);
        check_unchanged(&o, rcv_nxt, snd_una);
        tnet_run(&o.h.n, 1 * TSEC);     /* the next kind starts with a fresh interval */
    }
    /* The connection works, both ways, exactly; memory is back. */
    hx_transfer(&o.h, o.h.n.a, o.afd, b, o.bfd, 1 << 20, 3, 60 * TSEC);
    hx_transfer(&o.h, b, o.bfd, o.h.n.a, o.afd, 1 << 20, 4, 60 * TSEC);
    tnet_run(&o.h.n, 2 * TSEC);
    struct hx_mem end = hx_mem(b);
    SIM_ASSERT_EQ(seed, end.fbuf_bytes, base.fbuf_bytes);
    SIM_ASSERT_EQ(seed, end.conns, base.conns);
    hx_free(&o.h);
}

/* The limit is an interval, per connection; data is always answered. */
static void invalid_ack_limit_is_per_connection_and_spares_data(void **state)
{
    (void)state;
    static struct oow o;
    uint64_t seed = sim_test_seed(7102), rs = seed;
    oow_setup(&o, seed, 500);
    struct ust_tcb *t = o.t;
    /* One answered, the next 400 ms silent, then answered again. */
    uint64_t n0 = o.h.nsegs;
    send_invalid(&o, OUT_OF_WINDOW, &rs);
    tnet_run(&o.h.n, 2 * TMS);
    SIM_ASSERT_EQ(seed, acks_to_a(&o, n0), 1);
    for (int i = 0; i < 40; i++) {
        send_invalid(&o, OUT_OF_WINDOW, &rs);
        tnet_run(&o.h.n, 10 * TMS);
    }
    SIM_ASSERT_EQ(seed, acks_to_a(&o, n0), 1);
    tnet_run(&o.h.n, 100 * TMS);
    send_invalid(&o, OUT_OF_WINDOW, &rs);
    tnet_run(&o.h.n, 2 * TMS);
    SIM_ASSERT_EQ(seed, acks_to_a(&o, n0), 2);

    /* Out-of-window data (an old retransmission) draws its ACK each time. */
    static const uint8_t old[200] = "old data";
    n0 = o.h.nsegs;
    for (int i = 0; i < 20; i++) {
        hx_tcp_to_b(&o.h, HX_IP_A, o.aport, 80, t->rcv_nxt - 1000, t->snd_una,
                    UST_TCP_ACK | UST_TCP_PSH, 1000, NULL, 0, old, sizeof(old));
        tnet_run(&o.h.n, 1 * TMS);
    }
    SIM_ASSERT_EQ(seed, acks_to_a(&o, n0), 20);

    /* A second connection has its own interval. */
    int afd2;
    int bfd2 = tconnect_pair(&o.h.n, o.lfd, 80, &afd2);
    struct ust_tcb *t2 = ttcb(o.h.n.b, bfd2);
    uint16_t aport2 = ttcb(o.h.n.a, afd2)->sk.lport;
    send_invalid(&o, OUT_OF_WINDOW, &rs);       /* the first connection: answered */
    tnet_run(&o.h.n, 1 * TMS);
    uint64_t n1 = o.h.nsegs;
    hx_tcp_to_b(&o.h, HX_IP_A, aport2, 80, t2->rcv_nxt + 3000000, t2->snd_una, UST_TCP_ACK, 1000,
                NULL, 0, NULL, 0);
    tnet_run(&o.h.n, 2 * TMS);
    const struct hx_seg *ack2 = hx_last_to(&o.h, HX_IP_A, aport2);
    SIM_ASSERT(seed, ack2 != NULL && o.h.nsegs > n1);
    SIM_ASSERT_EQ(seed, ack2->th.ack, t2->rcv_nxt);

    /* RFC 5961 challenge ACKs do not wait for this interval: in-window RSTs
     * right after an answered invalid segment are each challenged. */
    send_invalid(&o, OUT_OF_WINDOW, &rs);
    uint64_t ch0 = ust_stat_get(o.h.n.b, UST_STAT_TCP_TCPChallengeACK);
    for (int i = 0; i < 10; i++)
        hx_tcp_to_b(&o.h, HX_IP_A, o.aport, 80, t->rcv_nxt + 100 + (uint32_t)i, 0, UST_TCP_RST,
                    0, NULL, 0, NULL, 0);
    SIM_ASSERT_EQ(seed, ust_stat_get(o.h.n.b, UST_STAT_TCP_TCPChallengeACK) - ch0, 10);
    SIM_ASSERT_EQ(seed, t->state, UST_TCP_ESTABLISHED);
    hx_transfer(&o.h, o.h.n.a, afd2, o.h.n.b, bfd2, 100000, 5, 30 * TSEC);
    hx_transfer(&o.h, o.h.n.a, o.afd, o.h.n.b, o.bfd, 100000, 6, 30 * TSEC);
    hx_free(&o.h);
}

static void zero_invalid_ratelimit_answers_every_segment(void **state)
{
    (void)state;
    static struct oow o;
    uint64_t seed = sim_test_seed(7103), rs = seed;
    oow_setup(&o, seed, 0);
    uint32_t rcv_nxt = o.t->rcv_nxt, snd_una = o.t->snd_una;
    uint64_t sk0 = ust_stat_get(o.h.n.b, UST_STAT_TCP_TCPACKSkippedSeq);
    uint64_t acks = flood(&o, OUT_OF_WINDOW, &rs);
    SIM_ASSERT_EQ(seed, acks, FLOOD);
    SIM_ASSERT_EQ(seed, ust_stat_get(o.h.n.b, UST_STAT_TCP_TCPACKSkippedSeq), sk0);
    check_unchanged(&o, rcv_nxt, snd_una);
    hx_transfer(&o.h, o.h.n.a, o.afd, o.h.n.b, o.bfd, 100000, 7, 30 * TSEC);
    hx_free(&o.h);
}

/* The default is Linux's 500 ms. */
static void invalid_ratelimit_default_is_500_ms(void **state)
{
    (void)state;
    struct ust_stack_config c;
    ust_stack_config_init(&c);
    assert_int_equal(c.tcp_invalid_ratelimit_ms, 500);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(blind_invalid_segment_flood_draws_at_most_3_acks_per_second),
        cmocka_unit_test(invalid_ack_limit_is_per_connection_and_spares_data),
        cmocka_unit_test(zero_invalid_ratelimit_answers_every_segment),
        cmocka_unit_test(invalid_ratelimit_default_is_500_ms),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
