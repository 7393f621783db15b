/* Acceptance test of the foundation: UDP through the socket API between two
 * simulated hosts over a lossy, jittery, reordering link (both directions).
 *
 * Host A sends 10,000 single-frame datagrams (sequence number + deterministic
 * payload of varying length) to a socket on host B, then 1,000 datagrams that
 * need IP fragmentation. Proves:
 *  - every datagram B receives is byte-exact one that A sent, none twice;
 *  - single-frame part: received == sent - frames the link lost (exact);
 *  - fragmented part: received == datagrams all of whose fragments the link
 *    delivered (counted by watching the wire), so reassembly loses nothing
 *    else and never delivers a datagram with a hole;
 *  - reordering really happened and did not matter;
 *  - the same seed replays the run bit for bit.
 * A failure prints the seed; replay with USTACK_SEED=<seed>. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <ustack/ustack.h>

#include "core/util.h"
#include "unit/sim_test_util.h"

#define DEFAULT_SEED 0x5eedu
#define US UST_NSEC_PER_USEC
#define MS UST_NSEC_PER_MSEC
#define SEC UST_NSEC_PER_SEC

#define N_SINGLE 10000u
#define N_FRAG 1000u
#define SEQ_FRAG_BASE 100000u
#define SEQ_WARMUP_BASE 900000u
#define MAX_SINGLE_PAYLOAD 1472u        /* 1500 - IPv4 20 - UDP 8 */
#define PORT_B 9000
#define SEND_GAP (200 * US)

struct run {
    uint64_t seed;
    struct ust_sim *sim;
    struct ust_stack *a, *b;
    struct ust_sim_link *link;
    int fa, fb;
    struct sockaddr_in addr_a, addr_b;
    uint8_t *seen;              /* per seq: received already */
    uint64_t received, out_of_order;
    uint32_t last_seq;
    uint64_t hash;
    /* Wire watch of A->B IPv4 frames, by IP identification. */
    bool watching;
    uint32_t frag_bytes[65536];
    int32_t frag_total[65536];  /* payload length once the last fragment is seen, else -1 */
    uint64_t udp_frames;        /* unfragmented UDP datagrams delivered to B */
};

static uint32_t payload_len(uint32_t seq)
{
    if (seq >= SEQ_WARMUP_BASE)
        return 64;
    if (seq >= SEQ_FRAG_BASE) {     /* 1473..4000 bytes: 2 or 3 fragments */
        uint32_t k = seq - SEQ_FRAG_BASE;
        return k % 10 == 0 ? 3000 : MAX_SINGLE_PAYLOAD + 1 + (k * 2654435761u) % 2528u;
    }
    return 8 + (seq * 7919u) % (MAX_SINGLE_PAYLOAD - 8 + 1);
}

static void fill_payload(uint8_t *p, uint32_t seq, uint32_t len)
{
    ust_put_be32(p, seq);
    ust_put_be32(p + 4, len);
    uint64_t x = 0x9e3779b97f4a7c15ull * (seq + 1);
    for (uint32_t i = 8; i < len; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        p[i] = (uint8_t)x;
    }
}

/* The wire watch: which datagrams reached B whole (all fragments). */
static void on_frame(void *arg, const struct ust_sim_link *link, int dir, uint64_t time,
                     const uint8_t *f, size_t len)
{
    struct run *r = arg;
    if (!r->watching || dir != 0 || len < 14 + 20 || ust_get_be16(f + 12) != 0x0800)
        return;
    const uint8_t *ip = f + 14;
    unsigned ihl = (ip[0] & 0x0f) * 4u;
    unsigned total = ust_get_be16(ip + 2);
    if (ip[9] != 17 || total < ihl || total > len - 14)
        return;
    uint16_t id = ust_get_be16(ip + 4);
    uint16_t frag = ust_get_be16(ip + 6);
    unsigned off = (frag & 0x1fffu) * 8u, plen = total - ihl;
    if ((frag & 0x3fffu) == 0) {
        r->udp_frames++;
        return;
    }
    r->frag_bytes[id] += plen;
    if (!(frag & 0x2000u))
        r->frag_total[id] = (int32_t)(off + plen);
}

static uint64_t complete_fragmented(const struct run *r)
{
    uint64_t n = 0;
    for (unsigned id = 0; id < 65536; id++)
        n += r->frag_total[id] >= 0 && r->frag_bytes[id] == (uint32_t)r->frag_total[id];
    return n;
}

static struct sockaddr_in sin_of(const char *ip, uint16_t port)
{
    struct sockaddr_in s;
    memset(&s, 0, sizeof(s));
    s.sin_family = AF_INET;
    s.sin_port = htons(port);
    inet_pton(AF_INET, ip, &s.sin_addr);
    return s;
}

static void setup(struct run *r, uint64_t seed)
{
    memset(r, 0, sizeof(*r));
    r->seed = seed;
    r->hash = SIM_TEST_HASH_INIT;
    r->seen = calloc(SEQ_WARMUP_BASE + 1000, 1);
    assert_non_null(r->seen);
    for (unsigned i = 0; i < 65536; i++)
        r->frag_total[i] = -1;

    struct ust_stack_config cfg;
    ust_stack_config_init(&cfg);
    cfg.arp_reachable_ns = 3600 * SEC;  /* no re-resolution during the run */
    cfg.rmem_max = 4u << 20;
    r->sim = ust_sim_new(seed);
    assert_non_null(r->sim);
    r->a = ust_sim_add_host(r->sim, "A", &cfg);
    r->b = ust_sim_add_host(r->sim, "B", &cfg);
    assert_non_null(r->a);
    assert_non_null(r->b);
    struct ust_link_params p = {
        .delay_ns = 5 * MS, .jitter_ns = 2 * MS, .loss = 0.05, .reorder = 0.05,
        .rate_bps = 1000000000, .queue_limit = 100,
    };
    r->link = ust_sim_link_new(r->sim, r->a, r->b, &p, &p);
    assert_non_null(r->link);
    ust_sim_set_frame_hook(r->sim, on_frame, r);

    struct in_addr ia, ib;
    inet_pton(AF_INET, "10.0.0.1", &ia);
    inet_pton(AF_INET, "10.0.0.2", &ib);
    SIM_ASSERT_EQ(seed, ust_netif_set_ipv4(ust_sim_link_netif(r->link, 0), ia, 24), 0);
    SIM_ASSERT_EQ(seed, ust_netif_set_ipv4(ust_sim_link_netif(r->link, 1), ib, 24), 0);
    ust_sim_run_until_quiet(r->sim, 10 * SEC);  /* gratuitous ARP and such */

    r->addr_a = sin_of("10.0.0.1", 0);
    r->addr_b = sin_of("10.0.0.2", PORT_B);
    r->fa = ust_socket(r->a, AF_INET, SOCK_DGRAM, 0);
    r->fb = ust_socket(r->b, AF_INET, SOCK_DGRAM, 0);
    SIM_ASSERT(seed, r->fa >= 0 && r->fb >= 0);
    SIM_ASSERT_EQ(seed, ust_bind(r->b, r->fb, (struct sockaddr *)&r->addr_b, sizeof(r->addr_b)), 0);
    /* Jitter bunches arrivals, and a reassembled datagram occupies a 64 KiB
     * buffer: give B room so that only the link loses datagrams. */
    int rcvbuf = 2 << 20;
    SIM_ASSERT_EQ(seed, ust_setsockopt(r->b, r->fb, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)), 0);
}

static void teardown(struct run *r)
{
    ust_sim_free(r->sim);
    free(r->seen);
}

static bool send_one(struct run *r, uint32_t seq)
{
    uint8_t buf[4096];
    uint32_t len = payload_len(seq);
    fill_payload(buf, seq, len);
    ssize_t n = ust_sendto(r->a, r->fa, buf, len, MSG_DONTWAIT,
                           (struct sockaddr *)&r->addr_b, sizeof(r->addr_b));
    if (n < 0)
        fail_msg("sendto seq %u: %s (seed=%" PRIu64 ")", seq, strerror(errno), r->seed);
    SIM_ASSERT_EQ(r->seed, n, len);
    return true;
}

/* Reads everything B has; checks each datagram byte for byte. */
static void drain(struct run *r)
{
    uint8_t buf[8192], expect[4096];
    for (;;) {
        struct sockaddr_in from;
        socklen_t fromlen = sizeof(from);
        ssize_t n = ust_recvfrom(r->b, r->fb, buf, sizeof(buf), MSG_DONTWAIT,
                                 (struct sockaddr *)&from, &fromlen);
        if (n < 0) {
            SIM_ASSERT(r->seed, errno == EAGAIN || errno == EWOULDBLOCK);
            return;
        }
        SIM_ASSERT(r->seed, n >= 8);
        uint32_t seq = ust_get_be32(buf), len = ust_get_be32(buf + 4);
        SIM_ASSERT(r->seed, seq < SEQ_WARMUP_BASE + 1000);
        SIM_ASSERT_EQ(r->seed, len, payload_len(seq));
        SIM_ASSERT_EQ(r->seed, (uint64_t)n, len);
        fill_payload(expect, seq, len);
        SIM_ASSERT(r->seed, memcmp(buf, expect, len) == 0);
        SIM_ASSERT_EQ(r->seed, from.sin_family, AF_INET);
        SIM_ASSERT_EQ(r->seed, from.sin_addr.s_addr, r->addr_a.sin_addr.s_addr);
        SIM_ASSERT(r->seed, !r->seen[seq]);         /* never twice */
        r->seen[seq] = 1;
        if (seq >= SEQ_WARMUP_BASE)
            continue;
        if (r->received > 0 && seq < r->last_seq)
            r->out_of_order++;
        r->last_seq = seq;
        r->received++;
        r->hash = sim_test_hash(r->hash, &seq, sizeof(seq));
        r->hash = sim_test_hash(r->hash, &from.sin_port, sizeof(from.sin_port));
        uint64_t now = ust_sim_now(r->sim);
        r->hash = sim_test_hash(r->hash, &now, sizeof(now));
    }
}

/* ARP resolution (itself subject to loss) before the counted part. */
static void warm_up(struct run *r)
{
    for (uint32_t k = 0; k < 20 && r->received == 0; k++) {
        send_one(r, SEQ_WARMUP_BASE + k);
        ust_sim_run_until(r->sim, ust_sim_now(r->sim) + 2 * SEC);
        drain(r);
        bool got = false;
        for (uint32_t j = 0; j <= k; j++)
            got |= r->seen[SEQ_WARMUP_BASE + j];
        if (got)
            break;
    }
    ust_sim_run_until_quiet(r->sim, 60 * SEC);
    drain(r);
    bool any = false;
    for (uint32_t j = 0; j < 20; j++)
        any |= r->seen[SEQ_WARMUP_BASE + j];
    SIM_ASSERT(r->seed, any);
}

static struct ust_link_stats link_stats(struct run *r, int dir)
{
    struct ust_link_stats st;
    ust_sim_link_stats(r->link, dir, &st);
    return st;
}

/* Sends seqs [first, first+n) one every SEND_GAP, draining B as it goes,
 * then lets everything arrive. */
static void send_series(struct run *r, uint32_t first, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        send_one(r, first + i);
        ust_sim_run_until(r->sim, ust_sim_now(r->sim) + SEND_GAP);
        drain(r);
    }
    ust_sim_run_until(r->sim, ust_sim_now(r->sim) + 1 * SEC);
    ust_sim_run_until_quiet(r->sim, 60 * SEC);
    drain(r);
}

/* The whole scenario; returns the fingerprint of what B received. */
static uint64_t scenario(uint64_t seed)
{
    struct run *r = calloc(1, sizeof(*r));
    assert_non_null(r);
    setup(r, seed);
    warm_up(r);

    /* Part 1: single-frame datagrams, exact accounting against the link. */
    struct ust_link_stats before = link_stats(r, 0);
    uint64_t arp_before = ust_stat_get(r->a, UST_STAT_ARP_OutRequests);
    r->watching = true;
    send_series(r, 0, N_SINGLE);
    struct ust_link_stats after = link_stats(r, 0);
    uint64_t lost = after.lost - before.lost;
    SIM_ASSERT_EQ(seed, after.sent - before.sent, N_SINGLE);
    SIM_ASSERT_EQ(seed, after.queue_drops - before.queue_drops, 0);
    SIM_ASSERT_EQ(seed, after.rx_nobufs - before.rx_nobufs, 0);
    SIM_ASSERT_EQ(seed, ust_stat_get(r->a, UST_STAT_ARP_OutRequests), arp_before);
    SIM_ASSERT(seed, lost > N_SINGLE * 3 / 100 && lost < N_SINGLE * 7 / 100);
    SIM_ASSERT_EQ(seed, r->udp_frames, N_SINGLE - lost);
    SIM_ASSERT_EQ(seed, r->received, N_SINGLE - lost);
    SIM_ASSERT(seed, r->out_of_order > 0);
    SIM_ASSERT_EQ(seed, ust_stat_get(r->b, UST_STAT_UDP_RcvbufErrors), 0);

    /* Part 2: datagrams of 2-3 fragments. */
    uint64_t received_single = r->received;
    uint64_t reasm_ok_before = ust_stat_get(r->b, UST_STAT_IP_ReasmOKs);
    send_series(r, SEQ_FRAG_BASE, N_FRAG);
    uint64_t whole = complete_fragmented(r);
    uint64_t got = r->received - received_single;
    SIM_ASSERT_EQ(seed, got, whole);
    SIM_ASSERT_EQ(seed, ust_stat_get(r->b, UST_STAT_IP_ReasmOKs) - reasm_ok_before, whole);
    SIM_ASSERT_EQ(seed, ust_stat_get(r->b, UST_STAT_UDP_RcvbufErrors), 0);
    /* P(3 fragments survive 5% loss) ~ 0.86: most arrive, some do not. */
    SIM_ASSERT(seed, got > N_FRAG * 75 / 100 && got < N_FRAG);
    SIM_ASSERT_EQ(seed, ust_stat_get(r->a, UST_STAT_IP_FragOKs), N_FRAG);

    uint64_t h = r->hash;
    struct ust_link_stats st[2] = { link_stats(r, 0), link_stats(r, 1) };
    h = sim_test_hash(h, st, sizeof(st));
    print_message("seed=%" PRIu64 ": single %" PRIu64 "/%u received (%" PRIu64
                  " lost on the link), fragmented %" PRIu64 "/%u, %" PRIu64
                  " out of order, hash %016" PRIx64 "\n",
                  seed, received_single, N_SINGLE, lost, got, N_FRAG, r->out_of_order, h);
    teardown(r);
    free(r);
    return h;
}

static void udp_over_lossy_link_is_exact_and_replays_with_its_seed(void **state)
{
    uint64_t seed = sim_test_seed(DEFAULT_SEED);
    uint64_t h1 = scenario(seed);
    uint64_t h2 = scenario(seed);
    SIM_ASSERT_EQ(seed, h1, h2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(udp_over_lossy_link_is_exact_and_replays_with_its_seed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
