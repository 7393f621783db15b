/* IP fragment attacks on the simulator (RFC 791 3.2, RFC 815, RFC 5722
 * spirit; see test_hostile_util.h for the world). B is attacked with
 * crafted fragments while A sends it real fragmented UDP datagrams (4000
 * bytes over a 1500-byte MTU: three fragments each):
 *  - teardrop overlaps, a fragment inside another, the ping of death, two
 *    different "last" fragments, a fragment past the last, empty and odd
 *    sized fragments: each is dropped with its whole datagram, counted, and
 *    leaves no queue and no buffer behind;
 *  - tiny (8-byte) fragments in random order with duplicates reassemble
 *    exactly; a datagram whose tiny fragments would need more than the
 *    reassembly budget fails without exceeding it;
 *  - a flood of datagrams that never complete, from random sources: the
 *    number of queues (UST_IPQ_MAX) and their bytes (ipfrag_high_thresh)
 *    never exceed their bounds, the oldest go first so real datagrams keep
 *    getting through during the flood, and after ipfrag_time_ns everything
 *    is gone and real traffic flows. */
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

#define UDP_PORT 5000
#define PROTO_EXP 253           /* RFC 3692 experimental: no handler */
#define LEGIT_LEN 4000

struct legit {
    int afd, bfd;
    unsigned sent, got;
};

static void legit_open(struct hx *h, struct legit *l)
{
    memset(l, 0, sizeof(*l));
    l->afd = ust_socket(h->n.a, AF_INET, SOCK_DGRAM, 0);
    l->bfd = ust_socket(h->n.b, AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    SIM_ASSERT(h->n.seed, l->afd >= 0 && l->bfd >= 0);
    int big = 4 << 20;
    ust_setsockopt(h->n.b, l->bfd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
    struct sockaddr_in sb = tsin("10.0.0.2", UDP_PORT);
    SIM_ASSERT_EQ(h->n.seed, ust_bind(h->n.b, l->bfd, (struct sockaddr *)&sb, sizeof(sb)), 0);
}

/* A sends datagram number l->sent (4000 bytes: fragmented by A). */
static void legit_send(struct hx *h, struct legit *l)
{
    static uint8_t d[LEGIT_LEN];
    hx_fill(d, sizeof(d), 100 + l->sent, 0);
    struct sockaddr_in sb = tsin("10.0.0.2", UDP_PORT);
    SIM_ASSERT_EQ(h->n.seed, ust_sendto(h->n.a, l->afd, d, sizeof(d), 0, (struct sockaddr *)&sb,
                                        sizeof(sb)), LEGIT_LEN);
    l->sent++;
}

/* Reads what arrived at B; every datagram must be one of A's, intact.
 * Returns how many were read. */
static unsigned legit_drain(struct hx *h, struct legit *l)
{
    static uint8_t d[65536], want[LEGIT_LEN];
    unsigned n = 0;
    for (;;) {
        ssize_t k = ust_recv(h->n.b, l->bfd, d, sizeof(d), 0);
        if (k < 0) {
            SIM_ASSERT(h->n.seed, errno == EAGAIN);
            return n;
        }
        SIM_ASSERT_EQ(h->n.seed, k, LEGIT_LEN);
        bool found = false;
        for (unsigned i = l->got; i < l->sent && !found; i++) {
            hx_fill(want, sizeof(want), 100 + i, 0);
            found = memcmp(d, want, LEGIT_LEN) == 0;
        }
        SIM_ASSERT(h->n.seed, found);
        l->got++;
        n++;
    }
}

/* Every datagram A sends now arrives. */
static void legit_all_arrive(struct hx *h, struct legit *l, unsigned count)
{
    for (unsigned i = 0; i < count; i++) {
        legit_send(h, l);
        tnet_run(&h->n, 3 * TMS);
        SIM_ASSERT_EQ(h->n.seed, legit_drain(h, l), 1);
    }
}

/* One fragment from src to B: offset in bytes (multiple of 8), MF as more. */
static void frag_to_b(struct hx *h, uint32_t src, uint8_t proto, uint16_t id, uint32_t off,
                      bool more, const uint8_t *p, size_t len)
{
    static uint8_t f[2048];
    uint16_t frag = (uint16_t)(((off / 8) & UST_IP_OFFMASK) | (more ? UST_IP_MF : 0));
    size_t n = hx_ip_frame(f, hx_m_mac, h->mac_b, src, HX_IP_B, proto, id, frag, p, len);
    hx_deliver_b(h, f, n);
}

static uint64_t bstat(struct hx *h, enum ust_stat s)
{
    return ust_stat_get(h->n.b, s);
}

static void teardrop_and_malformed_fragments_drop_their_datagram(void **state)
{
    (void)state;
    static struct hx h;
    static uint8_t p[2048];
    uint64_t seed = sim_test_seed(7101);
    hx_setup(&h, seed);
    struct legit l;
    legit_open(&h, &l);
    legit_all_arrive(&h, &l, 3);
    struct hx_mem base = hx_mem(h.n.b);
    memset(p, 0xab, sizeof(p));
    uint16_t id = 1;

    /* Teardrop (1997): the second fragment starts inside the first and
     * ends inside it too; then one that runs over the next one. */
    uint64_t ov = bstat(&h, UST_STAT_IP_ReasmOverlaps), fails = bstat(&h, UST_STAT_IP_ReasmFails);
    frag_to_b(&h, HX_IP_M, PROTO_EXP, id, 0, true, p, 40);
    SIM_ASSERT_EQ(seed, hx_mem(h.n.b).ipq_count, 1);
    frag_to_b(&h, HX_IP_M, PROTO_EXP, id, 24, true, p, 8);     /* inside */
    SIM_ASSERT_EQ(seed, hx_mem(h.n.b).ipq_count, 0);
    id++;
    frag_to_b(&h, HX_IP_M, PROTO_EXP, id, 16, true, p, 16);
    frag_to_b(&h, HX_IP_M, PROTO_EXP, id, 0, true, p, 24);     /* runs into [16, 32) */
    SIM_ASSERT_EQ(seed, hx_mem(h.n.b).ipq_count, 0);
    id++;
    /* A small piece, then a bigger fragment that covers it. */
    frag_to_b(&h, HX_IP_M, PROTO_EXP, id, 8, true, p, 8);
    frag_to_b(&h, HX_IP_M, PROTO_EXP, id, 0, true, p, 96);
    SIM_ASSERT_EQ(seed, hx_mem(h.n.b).ipq_count, 0);
    id++;
    /* The original teardrop: the last fragment ends inside the first. */
    frag_to_b(&h, HX_IP_M, PROTO_EXP, id, 0, true, p, 40);
    frag_to_b(&h, HX_IP_M, PROTO_EXP, id, 24, false, p, 4);
    SIM_ASSERT_EQ(seed, hx_mem(h.n.b).ipq_count, 0);
    id++;
    SIM_ASSERT_EQ(seed, bstat(&h, UST_STAT_IP_ReasmOverlaps), ov + 3);

    /* Ping of death: the last fragment ends past 65535. */
    frag_to_b(&h, HX_IP_M, PROTO_EXP, id, 0, true, p, 1480);
    frag_to_b(&h, HX_IP_M, PROTO_EXP, id, 65528, false, p, 100);
    SIM_ASSERT_EQ(seed, hx_mem(h.n.b).ipq_count, 0);
    id++;
    /* Two different last fragments; a fragment past the last. */
    frag_to_b(&h, HX_IP_M, PROTO_EXP, id, 1000, false, p, 8);
    frag_to_b(&h, HX_IP_M, PROTO_EXP, id, 2000, false, p, 8);
    SIM_ASSERT_EQ(seed, hx_mem(h.n.b).ipq_count, 0);
    id++;
    frag_to_b(&h, HX_IP_M, PROTO_EXP, id, 1000, false, p, 8);
    frag_to_b(&h, HX_IP_M, PROTO_EXP, id, 2000, true, p, 8);
    SIM_ASSERT_EQ(seed, hx_mem(h.n.b).ipq_count, 0);
    id++;
    SIM_ASSERT(seed, bstat(&h, UST_STAT_IP_ReasmFails) >= fails + 7);
    /* Empty fragments and a middle one not a multiple of 8: dropped alone. */
    uint64_t hdr = bstat(&h, UST_STAT_IP_InHdrErrors);
    frag_to_b(&h, HX_IP_M, PROTO_EXP, id, 8, true, p, 0);
    frag_to_b(&h, HX_IP_M, PROTO_EXP, id, 8, false, p, 0);
    frag_to_b(&h, HX_IP_M, PROTO_EXP, id, 8, true, p, 13);
    SIM_ASSERT_EQ(seed, bstat(&h, UST_STAT_IP_InHdrErrors), hdr + 3);
    SIM_ASSERT_EQ(seed, hx_mem(h.n.b).ipq_count, 0);

    tnet_run(&h.n, 1 * TSEC);
    legit_all_arrive(&h, &l, 5);
    /* Nothing left anywhere after the reassembly timeout. */
    tnet_run(&h.n, 31 * TSEC);
    struct hx_mem end = hx_mem(h.n.b);
    SIM_ASSERT_EQ(seed, end.ipq_count, 0);
    SIM_ASSERT_EQ(seed, end.ipq_mem, 0);
    SIM_ASSERT_EQ(seed, end.fbuf_bytes, base.fbuf_bytes);
    hx_free(&h);
}

static void tiny_fragments_reassemble_exactly_within_the_budget(void **state)
{
    (void)state;
    static struct hx h;
    uint64_t seed = sim_test_seed(7102);
    uint64_t rs = seed;
    hx_setup(&h, seed);
    struct legit l;
    legit_open(&h, &l);
    struct hx_mem base = hx_mem(h.n.b);
    size_t thresh = h.n.b->cfg.ipfrag_high_thresh;

    /* A 1500-byte UDP datagram from M in 8-byte fragments, shuffled, every
     * fourth one twice. */
    static uint8_t dg[8 + 1492], got[2048];
    struct ust_udp_hdr uh = { .sport = 7, .dport = UDP_PORT, .len = sizeof(dg) };
    hx_fill(dg + 8, sizeof(dg) - 8, 555, 0);
    ust_udp_emit(dg, sizeof(dg), &uh, HX_IP_M, HX_IP_B);
    unsigned nfr = (sizeof(dg) + 7) / 8;
    unsigned order[256];
    for (unsigned i = 0; i < nfr; i++)
        order[i] = i;
    for (unsigned i = nfr - 1; i > 0; i--) {
        rs = hx_mix64(rs);
        unsigned j = (unsigned)(rs % (i + 1)), t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    size_t peak = 0;
    for (unsigned k = 0; k < nfr; k++) {
        unsigned i = order[k];
        size_t off = (size_t)i * 8, len = sizeof(dg) - off < 8 ? sizeof(dg) - off : 8;
        /* (Not the one that completes it: a copy after that is a new
         * datagram, which would wait for its timeout.) */
        for (int rep = 0; rep < (i % 4 == 0 && k + 1 < nfr ? 2 : 1); rep++)
            frag_to_b(&h, HX_IP_M, UST_IPPROTO_UDP, 4242, (uint32_t)off, i != nfr - 1, dg + off,
                      len);
        struct hx_mem m = hx_mem(h.n.b);
        if (m.ipq_mem > peak)
            peak = m.ipq_mem;
        SIM_ASSERT(seed, m.ipq_mem <= thresh);
    }
    ssize_t k = ust_recv(h.n.b, l.bfd, got, sizeof(got), 0);
    SIM_ASSERT_EQ(seed, k, (ssize_t)sizeof(dg) - 8);
    SIM_ASSERT(seed, memcmp(got, dg + 8, sizeof(dg) - 8) == 0);
    SIM_ASSERT_EQ(seed, hx_mem(h.n.b).ipq_count, 0);
    print_message("  188 tiny fragments held %zu bytes at the peak\n", peak);

    /* 20000 bytes in 8-byte fragments would hold ~2500 buffers: more than
     * the budget. It fails; the bound holds throughout. */
    static uint8_t junk[8];
    uint64_t fails = bstat(&h, UST_STAT_IP_ReasmFails);
    for (uint32_t off = 0; off < 20000; off += 8) {
        frag_to_b(&h, HX_IP_M, PROTO_EXP, 4243, off, off + 8 < 20000, junk, 8);
        SIM_ASSERT(seed, hx_mem(h.n.b).ipq_mem <= thresh);
    }
    SIM_ASSERT(seed, bstat(&h, UST_STAT_IP_ReasmFails) > fails);
    tnet_run(&h.n, 31 * TSEC);
    struct hx_mem end = hx_mem(h.n.b);
    SIM_ASSERT_EQ(seed, end.ipq_count, 0);
    SIM_ASSERT_EQ(seed, end.fbuf_bytes, base.fbuf_bytes);
    legit_all_arrive(&h, &l, 5);
    hx_free(&h);
}

static void never_completed_datagrams_stay_bounded_and_real_ones_get_through(void **state)
{
    (void)state;
    static struct hx h;
    static uint8_t p[1480];
    uint64_t seed = sim_test_seed(7103);
    uint64_t rs = seed;
    hx_setup(&h, seed);
    struct legit l;
    legit_open(&h, &l);
    legit_all_arrive(&h, &l, 2);
    struct hx_mem base = hx_mem(h.n.b);
    size_t thresh = h.n.b->cfg.ipfrag_high_thresh;
    memset(p, 0x5a, sizeof(p));
    uint64_t fails0 = bstat(&h, UST_STAT_IP_ReasmFails);
    size_t peak_mem = 0, peak_fbuf = 0;
    unsigned peak_q = 0, n_attack = 0;

    /* Two seconds of flood: every millisecond 20 first-or-middle fragments
     * of datagrams that will never complete, from random sources (spoofed
     * 198.18.0.0/15), and every 10 ms one real datagram from A. */
    for (unsigned ms = 0; ms < 2000; ms++) {
        for (int i = 0; i < 20; i++) {
            rs = hx_mix64(rs);
            uint32_t src = 0xc6120000u | (uint32_t)(rs & 0x1ffff);
            uint32_t off = (uint32_t)((rs >> 20) % 40) * 1480;
            frag_to_b(&h, src, (rs >> 40) & 1 ? UST_IPPROTO_UDP : PROTO_EXP,
                      (uint16_t)(rs >> 44), off, true, p, sizeof(p));
            n_attack++;
        }
        if (ms % 10 == 0)
            legit_send(&h, &l);
        tnet_run(&h.n, 1 * TMS);
        legit_drain(&h, &l);
        struct hx_mem m = hx_mem(h.n.b);
        SIM_ASSERT(seed, m.ipq_count <= UST_IPQ_MAX);
        SIM_ASSERT(seed, m.ipq_mem <= thresh);
        if (m.ipq_mem > peak_mem)
            peak_mem = m.ipq_mem;
        if (m.ipq_count > peak_q)
            peak_q = m.ipq_count;
        if (m.fbuf_bytes > peak_fbuf)
            peak_fbuf = m.fbuf_bytes;
    }
    tnet_run(&h.n, 10 * TMS);
    legit_drain(&h, &l);
    print_message("  %u junk fragments: peak %u queues, %zu reassembly bytes, %zu frame bytes; "
                  "%u of %u real datagrams arrived\n",
                  n_attack, peak_q, peak_mem, peak_fbuf, l.got, l.sent);
    SIM_ASSERT(seed, peak_fbuf <= base.fbuf_bytes + thresh + 64 * 1024);
    SIM_ASSERT(seed, bstat(&h, UST_STAT_IP_ReasmFails) > fails0 + 1000);
    /* The oldest queue goes first, and A's three fragments arrive within
     * one millisecond: real datagrams are not starved. */
    SIM_ASSERT_EQ(seed, l.got, l.sent);

    /* After the reassembly timeout nothing is left; traffic flows. */
    tnet_run(&h.n, h.n.b->cfg.ipfrag_time_ns + 1 * TSEC);
    struct hx_mem end = hx_mem(h.n.b);
    SIM_ASSERT_EQ(seed, end.ipq_count, 0);
    SIM_ASSERT_EQ(seed, end.ipq_mem, 0);
    SIM_ASSERT_EQ(seed, end.fbuf_bytes, base.fbuf_bytes);
    legit_all_arrive(&h, &l, 20);
    hx_free(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(teardrop_and_malformed_fragments_drop_their_datagram),
        cmocka_unit_test(tiny_fragments_reassemble_exactly_within_the_budget),
        cmocka_unit_test(never_completed_datagrams_stay_bounded_and_real_ones_get_through),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
