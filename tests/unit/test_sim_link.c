/* Simulated links at the frame level: hand-made Ethernet frames are sent
 * straight into one end's netif (ust_netif_output) and every arrival at the
 * other end is observed through the simulator's frame hook. Proves each
 * impairment (delay, jitter, bandwidth, queue limit, loss, duplication,
 * corruption, reordering, link down, MTU) and that a seed replays a run. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <ustack/ustack.h>

#include "core/util.h"
#include "netif/netif.h"
#include "runtime/runtime.h"
#include "stack/stack_impl.h"
#include "unit/sim_test_util.h"

#define DEFAULT_SEED 20240611u
#define ETHERTYPE_TEST 0x88b5       /* IEEE 802 local experimental */
#define MAX_FRAMES 20000
#define US UST_NSEC_PER_USEC
#define MS UST_NSEC_PER_MSEC

/* Payload of a test frame after the Ethernet header. */
#define OFF_SEQ 14
#define OFF_SENT 18
#define HDR_LEN 26

struct arrival {
    int dir;
    uint32_t seq;               /* parsed from the frame (may be corrupted) */
    uint64_t sent;              /* sim time when sent, from the frame */
    uint64_t time;              /* sim time when delivered */
    uint32_t len;
    bool intact;                /* bytes equal those sent with this seq */
    uint8_t *bytes;             /* copy of the delivered frame */
};

struct sent_frame {
    uint8_t *bytes;
    uint32_t len;
};

struct fixture {
    uint64_t seed;
    struct ust_sim *sim;
    struct ust_stack *a, *b;
    struct ust_sim_link *link;
    struct arrival arr[MAX_FRAMES];
    unsigned n_arr;
    struct sent_frame sent[MAX_FRAMES]; /* by seq */
    uint64_t hash;              /* of every arrival: bytes + time */
};

/* The deterministic content of frame seq of length len. */
static void fill_frame(uint8_t *p, uint32_t len, const uint8_t dst[6], const uint8_t src[6],
                       uint32_t seq, uint64_t sent)
{
    memcpy(p, dst, 6);
    memcpy(p + 6, src, 6);
    ust_put_be16(p + 12, ETHERTYPE_TEST);
    ust_put_be32(p + OFF_SEQ, seq);
    ust_put_be32(p + OFF_SENT, (uint32_t)(sent >> 32));
    ust_put_be32(p + OFF_SENT + 4, (uint32_t)sent);
    for (uint32_t i = HDR_LEN; i < len; i++)
        p[i] = (uint8_t)(seq * 31u + i * 7u);
}

static int popcount8(uint8_t x)
{
    int n = 0;
    for (; x; x &= (uint8_t)(x - 1))
        n++;
    return n;
}

/* Bits in which two frames differ (lengths must match, else -1). */
static int bit_errors(const uint8_t *x, uint32_t xlen, const uint8_t *y, uint32_t ylen)
{
    if (xlen != ylen)
        return -1;
    int n = 0;
    for (uint32_t i = 0; i < xlen; i++)
        n += popcount8((uint8_t)(x[i] ^ y[i]));
    return n;
}

/* Records every frame the link delivers (nothing else runs on these hosts:
 * they have no addresses, so the stacks themselves stay silent). */
static void on_frame(void *arg, const struct ust_sim_link *link, int dir, uint64_t time,
                     const uint8_t *frame, size_t len)
{
    struct fixture *fx = arg;
    fx->hash = sim_test_hash(fx->hash, &time, sizeof(time));
    fx->hash = sim_test_hash(fx->hash, frame, len);
    assert_true(fx->n_arr < MAX_FRAMES);
    struct arrival *a = &fx->arr[fx->n_arr++];
    a->dir = dir;
    a->time = time;
    a->len = (uint32_t)len;
    a->bytes = malloc(len);
    assert_non_null(a->bytes);
    memcpy(a->bytes, frame, len);
    if (len >= HDR_LEN) {
        a->seq = ust_get_be32(frame + OFF_SEQ);
        a->sent = ((uint64_t)ust_get_be32(frame + OFF_SENT) << 32) |
                  ust_get_be32(frame + OFF_SENT + 4);
    }
    a->intact = a->seq < MAX_FRAMES && fx->sent[a->seq].bytes &&
                bit_errors(frame, a->len, fx->sent[a->seq].bytes, fx->sent[a->seq].len) == 0;
}

static struct fixture *setup_link(uint64_t seed, const struct ust_link_params *ab,
                                  const struct ust_link_params *ba)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    assert_non_null(fx);
    fx->seed = seed;
    fx->hash = SIM_TEST_HASH_INIT;
    fx->sim = ust_sim_new(seed);
    assert_non_null(fx->sim);
    fx->a = ust_sim_add_host(fx->sim, "a", NULL);
    fx->b = ust_sim_add_host(fx->sim, "b", NULL);
    assert_non_null(fx->a);
    assert_non_null(fx->b);
    fx->link = ust_sim_link_new(fx->sim, fx->a, fx->b, ab, ba);
    assert_non_null(fx->link);
    ust_sim_set_frame_hook(fx->sim, on_frame, fx);
    return fx;
}

static void teardown_link(struct fixture *fx)
{
    ust_sim_free(fx->sim);
    for (unsigned i = 0; i < fx->n_arr; i++)
        free(fx->arr[i].bytes);
    for (unsigned i = 0; i < MAX_FRAMES; i++)
        free(fx->sent[i].bytes);
    free(fx);
}

/* Sends test frame seq of len bytes from side `side` now. Returns what
 * ust_netif_output returned. */
static int send_frame(struct fixture *fx, int side, uint32_t seq, uint32_t len)
{
    struct ust_netif *from = ust_sim_link_netif(fx->link, side);
    struct ust_netif *to = ust_sim_link_netif(fx->link, 1 - side);
    struct ust_stack *s = from->stack;
    ust_rt_lock(s);
    struct ust_fbuf *fb = ust_fbuf_alloc(s, len);
    assert_non_null(fb);
    uint8_t *p = ust_fbuf_put(fb, len);
    if (!p)
        abort();
    fill_frame(p, len, to->mac, from->mac, seq, ust_sim_now(fx->sim));
    assert_true(seq < MAX_FRAMES && !fx->sent[seq].bytes);
    fx->sent[seq].bytes = malloc(len);
    assert_non_null(fx->sent[seq].bytes);
    memcpy(fx->sent[seq].bytes, p, len);
    fx->sent[seq].len = len;
    int r = ust_netif_output(from, fb);
    ust_rt_unlock(s);
    return r;
}

static struct ust_link_stats stats(struct fixture *fx, int dir)
{
    struct ust_link_stats st;
    ust_sim_link_stats(fx->link, dir, &st);
    return st;
}

/* Frames of varying length, one every `gap` ns, then the link drains. */
static void send_spread(struct fixture *fx, int side, unsigned n, uint64_t gap)
{
    for (unsigned i = 0; i < n; i++) {
        send_frame(fx, side, i, 60 + (i * 37u) % 1400u);
        ust_sim_run_until(fx->sim, ust_sim_now(fx->sim) + gap);
    }
    ust_sim_run_until_quiet(fx->sim, 10 * UST_NSEC_PER_SEC);
}

static void perfect_link_delivers_every_frame_in_order_after_the_delay(void **state)
{
    uint64_t seed = sim_test_seed(DEFAULT_SEED);
    struct ust_link_params p = { .delay_ns = 3 * MS };
    struct fixture *fx = setup_link(seed, &p, NULL);
    for (uint32_t i = 0; i < 100; i++)
        SIM_ASSERT_EQ(seed, send_frame(fx, 0, i, 100), 0);
    ust_sim_run_until(fx->sim, 2 * MS);
    SIM_ASSERT_EQ(seed, fx->n_arr, 0);          /* still in flight */
    ust_sim_run_until(fx->sim, 10 * MS);
    SIM_ASSERT_EQ(seed, ust_sim_now(fx->sim), 10 * MS);
    SIM_ASSERT_EQ(seed, fx->n_arr, 100);
    for (uint32_t i = 0; i < 100; i++) {
        SIM_ASSERT_EQ(seed, fx->arr[i].seq, i);
        SIM_ASSERT_EQ(seed, fx->arr[i].time, 3 * MS);
        SIM_ASSERT(seed, fx->arr[i].intact);
        SIM_ASSERT_EQ(seed, fx->arr[i].dir, 0);
    }
    struct ust_link_stats st = stats(fx, 0);
    SIM_ASSERT_EQ(seed, st.sent, 100);
    SIM_ASSERT_EQ(seed, st.delivered, 100);
    SIM_ASSERT_EQ(seed, st.lost + st.queue_drops + st.duplicated + st.corrupted + st.reordered, 0);
    teardown_link(fx);
}

static void directions_are_independent(void **state)
{
    uint64_t seed = sim_test_seed(DEFAULT_SEED);
    struct ust_link_params ab = { .delay_ns = 1 * MS };
    struct ust_link_params ba = { .delay_ns = 7 * MS };
    struct fixture *fx = setup_link(seed, &ab, &ba);
    send_frame(fx, 0, 1, 64);
    send_frame(fx, 1, 2, 64);
    ust_sim_run_until_quiet(fx->sim, UST_NSEC_PER_SEC);
    SIM_ASSERT_EQ(seed, fx->n_arr, 2);
    SIM_ASSERT(seed, fx->arr[0].dir == 0 && fx->arr[0].seq == 1 && fx->arr[0].time == 1 * MS);
    SIM_ASSERT(seed, fx->arr[1].dir == 1 && fx->arr[1].seq == 2 && fx->arr[1].time == 7 * MS);
    SIM_ASSERT_EQ(seed, stats(fx, 0).delivered, 1);
    SIM_ASSERT_EQ(seed, stats(fx, 1).delivered, 1);
    teardown_link(fx);
}

/* 8 Mbit/s = one byte per microsecond: a 1000-byte frame takes 1 ms. */
static void bandwidth_serialises_frames_back_to_back(void **state)
{
    uint64_t seed = sim_test_seed(DEFAULT_SEED);
    struct ust_link_params p = { .rate_bps = 8000000, .delay_ns = 500 * US };
    struct fixture *fx = setup_link(seed, &p, NULL);
    for (uint32_t i = 0; i < 10; i++)
        SIM_ASSERT_EQ(seed, send_frame(fx, 0, i, 1000), 0);
    ust_sim_run_until_quiet(fx->sim, UST_NSEC_PER_SEC);
    SIM_ASSERT_EQ(seed, fx->n_arr, 10);
    for (uint32_t i = 0; i < 10; i++)
        SIM_ASSERT_EQ(seed, fx->arr[i].time, (i + 1) * MS + 500 * US);
    /* An idle link does not charge old backlog to a new frame. */
    ust_sim_run_until(fx->sim, 100 * MS);
    send_frame(fx, 0, 10, 250);
    ust_sim_run_until_quiet(fx->sim, UST_NSEC_PER_SEC);
    SIM_ASSERT_EQ(seed, fx->arr[10].time, 100 * MS + 250 * US + 500 * US);
    teardown_link(fx);
}

static void full_queue_drops_frames_with_enobufs(void **state)
{
    uint64_t seed = sim_test_seed(DEFAULT_SEED);
    struct ust_link_params p = { .rate_bps = 8000000, .queue_limit = 5 };
    struct fixture *fx = setup_link(seed, &p, NULL);
    int ok = 0, enobufs = 0;
    for (uint32_t i = 0; i < 20; i++) {
        int r = send_frame(fx, 0, i, 1000);
        ok += r == 0;
        enobufs += r == -ENOBUFS;
    }
    SIM_ASSERT_EQ(seed, ok, 5);
    SIM_ASSERT_EQ(seed, enobufs, 15);
    SIM_ASSERT_EQ(seed, ust_stat_get(fx->a, UST_STAT_ETH_OutDrops), 15);
    /* Once the first frame has left the serialiser there is room for one. */
    ust_sim_run_until(fx->sim, 1 * MS);
    SIM_ASSERT_EQ(seed, send_frame(fx, 0, 20, 1000), 0);
    SIM_ASSERT_EQ(seed, send_frame(fx, 0, 21, 1000), -ENOBUFS);
    ust_sim_run_until_quiet(fx->sim, UST_NSEC_PER_SEC);
    struct ust_link_stats st = stats(fx, 0);
    SIM_ASSERT_EQ(seed, st.sent, 22);
    SIM_ASSERT_EQ(seed, st.queue_drops, 16);
    SIM_ASSERT_EQ(seed, st.delivered, 6);
    SIM_ASSERT_EQ(seed, fx->n_arr, 6);
    SIM_ASSERT_EQ(seed, fx->arr[5].seq, 20);
    teardown_link(fx);
}

static void loss_drops_about_the_configured_fraction(void **state)
{
    uint64_t seed = sim_test_seed(DEFAULT_SEED);
    struct ust_link_params p = { .loss = 0.1, .delay_ns = 1 * MS };
    struct fixture *fx = setup_link(seed, &p, NULL);
    send_spread(fx, 0, 5000, 10 * US);
    struct ust_link_stats st = stats(fx, 0);
    SIM_ASSERT_EQ(seed, st.sent, 5000);
    SIM_ASSERT_EQ(seed, st.delivered + st.lost, 5000);
    SIM_ASSERT_EQ(seed, fx->n_arr, st.delivered);
    /* Binomial(5000, 0.1): mean 500, sd 21; 6 sd either side. */
    SIM_ASSERT(seed, st.lost > 370 && st.lost < 630);
    /* Survivors arrive intact, once each, in order. */
    for (unsigned i = 0; i < fx->n_arr; i++) {
        SIM_ASSERT(seed, fx->arr[i].intact);
        SIM_ASSERT_EQ(seed, fx->arr[i].time, fx->arr[i].sent + 1 * MS);
        if (i > 0)
            SIM_ASSERT(seed, fx->arr[i].seq > fx->arr[i - 1].seq);
    }
    teardown_link(fx);
}

static void duplicate_delivers_identical_second_copies(void **state)
{
    uint64_t seed = sim_test_seed(DEFAULT_SEED);
    struct ust_link_params p = { .duplicate = 0.2 };
    struct fixture *fx = setup_link(seed, &p, NULL);
    send_spread(fx, 0, 2000, 10 * US);
    struct ust_link_stats st = stats(fx, 0);
    SIM_ASSERT_EQ(seed, st.delivered, 2000 + st.duplicated);
    SIM_ASSERT(seed, st.duplicated > 300 && st.duplicated < 500);
    unsigned twice = 0;
    for (unsigned i = 1; i < fx->n_arr; i++) {
        SIM_ASSERT(seed, fx->arr[i].intact);
        if (fx->arr[i].seq == fx->arr[i - 1].seq) {
            twice++;
            SIM_ASSERT_EQ(seed, fx->arr[i].time, fx->arr[i - 1].time);
        }
    }
    SIM_ASSERT_EQ(seed, twice, st.duplicated);
    teardown_link(fx);
}

static void corruption_flips_exactly_one_bit(void **state)
{
    uint64_t seed = sim_test_seed(DEFAULT_SEED);
    struct ust_link_params p = { .corrupt = 0.1 };
    struct fixture *fx = setup_link(seed, &p, NULL);
    /* A corrupted link is not clean: receivers must verify checksums. */
    SIM_ASSERT(seed, !ust_sim_link_netif(fx->link, 0)->clean_link);
    SIM_ASSERT(seed, !ust_sim_link_netif(fx->link, 1)->clean_link);
    send_spread(fx, 0, 2000, 10 * US);
    struct ust_link_stats st = stats(fx, 0);
    SIM_ASSERT_EQ(seed, st.delivered, 2000);
    SIM_ASSERT_EQ(seed, fx->n_arr, 2000);
    SIM_ASSERT(seed, st.corrupted > 120 && st.corrupted < 280);
    /* Nothing else is impaired, so arrival k is frame k (its seq field may
     * be the damaged part). */
    unsigned one_bit = 0;
    for (unsigned k = 0; k < fx->n_arr; k++) {
        int e = bit_errors(fx->arr[k].bytes, fx->arr[k].len, fx->sent[k].bytes, fx->sent[k].len);
        SIM_ASSERT(seed, e == 0 || e == 1);
        one_bit += e == 1;
    }
    SIM_ASSERT_EQ(seed, one_bit, st.corrupted);
    teardown_link(fx);
}

static void reorder_lets_frames_overtake(void **state)
{
    uint64_t seed = sim_test_seed(DEFAULT_SEED);
    struct ust_link_params p = { .reorder = 0.1, .delay_ns = 10 * MS };
    struct fixture *fx = setup_link(seed, &p, NULL);
    send_spread(fx, 0, 2000, 100 * US);
    struct ust_link_stats st = stats(fx, 0);
    SIM_ASSERT_EQ(seed, st.delivered, 2000);
    SIM_ASSERT(seed, st.reordered > 120 && st.reordered < 280);
    unsigned early = 0, inversions = 0;
    for (unsigned i = 0; i < fx->n_arr; i++) {
        SIM_ASSERT(seed, fx->arr[i].intact);
        if (fx->arr[i].time == fx->arr[i].sent)
            early++;
        else
            SIM_ASSERT_EQ(seed, fx->arr[i].time, fx->arr[i].sent + 10 * MS);
        if (i > 0 && fx->arr[i].seq < fx->arr[i - 1].seq)
            inversions++;
    }
    SIM_ASSERT_EQ(seed, early, st.reordered);
    SIM_ASSERT(seed, inversions > 0);
    teardown_link(fx);
}

static void jitter_spreads_arrivals_within_its_bound(void **state)
{
    uint64_t seed = sim_test_seed(DEFAULT_SEED);
    struct ust_link_params p = { .delay_ns = 2 * MS, .jitter_ns = 1 * MS };
    struct fixture *fx = setup_link(seed, &p, NULL);
    send_spread(fx, 0, 1000, 50 * US);
    SIM_ASSERT_EQ(seed, fx->n_arr, 1000);
    uint64_t min = UINT64_MAX, max = 0;
    for (unsigned i = 0; i < fx->n_arr; i++) {
        uint64_t d = fx->arr[i].time - fx->arr[i].sent;
        SIM_ASSERT(seed, d >= 2 * MS && d <= 3 * MS);
        min = UST_MIN(min, d);
        max = UST_MAX(max, d);
    }
    SIM_ASSERT(seed, min < 2 * MS + 100 * US);
    SIM_ASSERT(seed, max > 3 * MS - 100 * US);
    teardown_link(fx);
}

static void link_down_drops_everything_until_up(void **state)
{
    uint64_t seed = sim_test_seed(DEFAULT_SEED);
    struct fixture *fx = setup_link(seed, NULL, NULL);
    ust_sim_link_set_up(fx->link, false);
    for (uint32_t i = 0; i < 10; i++)
        SIM_ASSERT_EQ(seed, send_frame(fx, i % 2, i, 100), 0);
    ust_sim_run_until_quiet(fx->sim, UST_NSEC_PER_SEC);
    SIM_ASSERT_EQ(seed, fx->n_arr, 0);
    SIM_ASSERT_EQ(seed, stats(fx, 0).down_drops, 5);
    SIM_ASSERT_EQ(seed, stats(fx, 1).down_drops, 5);
    ust_sim_link_set_up(fx->link, true);
    send_frame(fx, 0, 10, 100);
    ust_sim_run_until_quiet(fx->sim, UST_NSEC_PER_SEC);
    SIM_ASSERT_EQ(seed, fx->n_arr, 1);
    teardown_link(fx);
}

static void frames_over_the_mtu_are_refused(void **state)
{
    uint64_t seed = sim_test_seed(DEFAULT_SEED);
    struct ust_link_params p = { .mtu = 1000 };
    struct fixture *fx = setup_link(seed, &p, NULL);
    SIM_ASSERT_EQ(seed, ust_sim_link_netif(fx->link, 0)->mtu, 1000);
    SIM_ASSERT_EQ(seed, ust_sim_link_netif(fx->link, 1)->mtu, 1500);
    SIM_ASSERT_EQ(seed, send_frame(fx, 0, 1, 1014), 0);
    SIM_ASSERT_EQ(seed, send_frame(fx, 0, 2, 1015), -EMSGSIZE);
    SIM_ASSERT_EQ(seed, send_frame(fx, 1, 3, 1514), 0);
    ust_sim_run_until_quiet(fx->sim, UST_NSEC_PER_SEC);
    SIM_ASSERT_EQ(seed, fx->n_arr, 2);
    SIM_ASSERT_EQ(seed, stats(fx, 0).oversize_drops, 1);
    teardown_link(fx);
}

static void params_can_change_during_a_run(void **state)
{
    uint64_t seed = sim_test_seed(DEFAULT_SEED);
    struct fixture *fx = setup_link(seed, NULL, NULL);
    struct ust_link_params lossy = { .loss = 1.0 };
    ust_sim_link_set_params(fx->link, 0, &lossy);
    send_frame(fx, 0, 1, 100);
    ust_sim_run_until_quiet(fx->sim, UST_NSEC_PER_SEC);
    SIM_ASSERT_EQ(seed, fx->n_arr, 0);
    SIM_ASSERT_EQ(seed, stats(fx, 0).lost, 1);
    ust_sim_link_set_params(fx->link, 0, NULL);
    send_frame(fx, 0, 2, 100);
    ust_sim_run_until_quiet(fx->sim, UST_NSEC_PER_SEC);
    SIM_ASSERT_EQ(seed, fx->n_arr, 1);
    SIM_ASSERT(seed, ust_sim_link_netif(fx->link, 0)->clean_link);
    teardown_link(fx);
}

/* Everything at once, both directions; returns the hash of all arrivals. */
static uint64_t impaired_scenario(uint64_t seed)
{
    struct ust_link_params p = {
        .delay_ns = 2 * MS, .jitter_ns = 500 * US, .loss = 0.05, .duplicate = 0.03,
        .corrupt = 0.02, .reorder = 0.05, .rate_bps = 1000000000, .queue_limit = 50,
    };
    struct fixture *fx = setup_link(seed, &p, &p);
    for (uint32_t i = 0; i < 3000; i++) {
        send_frame(fx, (int)(i % 3 == 0), i, 60 + (i * 101u) % 1455u);
        if (i % 4 == 0)
            ust_sim_run_until(fx->sim, ust_sim_now(fx->sim) + 37 * US);
    }
    ust_sim_run_until_quiet(fx->sim, UST_NSEC_PER_SEC);
    uint64_t h = fx->hash;
    struct ust_link_stats st[2] = { stats(fx, 0), stats(fx, 1) };
    h = sim_test_hash(h, st, sizeof(st));
    SIM_ASSERT(seed, fx->n_arr > 2500);
    SIM_ASSERT(seed, st[0].lost > 0 && st[0].duplicated > 0 && st[0].corrupted > 0 && st[0].reordered > 0);
    teardown_link(fx);
    return h;
}

static void same_seed_replays_identically_other_seed_differs(void **state)
{
    uint64_t seed = sim_test_seed(DEFAULT_SEED);
    uint64_t h1 = impaired_scenario(seed);
    uint64_t h2 = impaired_scenario(seed);
    uint64_t h3 = impaired_scenario(seed + 1);
    SIM_ASSERT_EQ(seed, h1, h2);
    SIM_ASSERT(seed, h1 != h3);
}

static void hosts_get_seeds_derived_from_the_sim_seed(void **state)
{
    uint64_t seed = sim_test_seed(DEFAULT_SEED);
    uint8_t mac[2][6];
    for (int run = 0; run < 2; run++) {
        struct fixture *fx = setup_link(seed, NULL, NULL);
        SIM_ASSERT(seed, fx->a->cfg.seed != 0 && fx->a->cfg.seed != fx->b->cfg.seed);
        ust_netif_get_mac(ust_sim_link_netif(fx->link, 0), mac[run]);
        /* locally administered unicast */
        SIM_ASSERT_EQ(seed, mac[run][0] & 3, 2);
        SIM_ASSERT_EQ(seed, strcmp(ust_netif_name(ust_sim_link_netif(fx->link, 1)), "sim0"), 0);
        teardown_link(fx);
    }
    SIM_ASSERT(seed, memcmp(mac[0], mac[1], 6) == 0);
}

static void several_links_number_netifs_per_host(void **state)
{
    uint64_t seed = sim_test_seed(DEFAULT_SEED);
    struct ust_sim *sim = ust_sim_new(seed);
    struct ust_stack *r = ust_sim_add_host(sim, "router", NULL);
    struct ust_stack *h1 = ust_sim_add_host(sim, "h1", NULL);
    struct ust_stack *h2 = ust_sim_add_host(sim, "h2", NULL);
    struct ust_sim_link *l1 = ust_sim_link_new(sim, r, h1, NULL, NULL);
    struct ust_sim_link *l2 = ust_sim_link_new(sim, r, h2, NULL, NULL);
    assert_non_null(l1);
    assert_non_null(l2);
    assert_string_equal(ust_netif_name(ust_sim_link_netif(l1, 0)), "sim0");
    assert_string_equal(ust_netif_name(ust_sim_link_netif(l2, 0)), "sim1");
    assert_string_equal(ust_netif_name(ust_sim_link_netif(l2, 1)), "sim0");
    assert_ptr_equal(ust_netif_by_name(r, "sim1"), ust_sim_link_netif(l2, 0));
    /* A stack the simulator does not know cannot be linked. */
    struct ust_stack *stranger = ust_stack_new(NULL);
    assert_null(ust_sim_link_new(sim, r, stranger, NULL, NULL));
    assert_int_equal(errno, EINVAL);
    ust_stack_free(stranger);
    /* Time only moves when asked, and never backwards. */
    assert_int_equal(ust_sim_now(sim), 0);
    ust_sim_run_until(sim, 5 * MS);
    ust_sim_run_until(sim, 1 * MS);
    assert_int_equal(ust_sim_now(sim), 5 * MS);
    assert_int_equal(ust_stack_now(h2), 5 * MS);
    ust_sim_free(sim);
}

static void step_and_quiet_advance_only_to_the_next_event(void **state)
{
    uint64_t seed = sim_test_seed(DEFAULT_SEED);
    struct ust_sim *empty = ust_sim_new(seed);
    SIM_ASSERT(seed, !ust_sim_step(empty));         /* nothing at all to run */
    SIM_ASSERT_EQ(seed, ust_sim_run_until_quiet(empty, UST_NSEC_PER_SEC), 0);
    ust_sim_free(empty);

    struct ust_link_params p = { .delay_ns = 5 * MS };
    struct fixture *fx = setup_link(seed, &p, NULL);
    send_frame(fx, 0, 1, 64);
    uint64_t last = 0;
    for (int i = 0; i < 100 && fx->n_arr == 0; i++) {
        SIM_ASSERT(seed, ust_sim_step(fx->sim));
        SIM_ASSERT(seed, ust_sim_now(fx->sim) >= last);
        last = ust_sim_now(fx->sim);
    }
    SIM_ASSERT_EQ(seed, fx->n_arr, 1);
    SIM_ASSERT_EQ(seed, ust_sim_now(fx->sim), 5 * MS);   /* jumped, did not tick */
    /* Quiet: stops once the link is empty, not at the time limit. */
    send_frame(fx, 0, 2, 64);
    SIM_ASSERT(seed, ust_sim_run_until_quiet(fx->sim, UST_NSEC_PER_SEC) > 0);
    SIM_ASSERT_EQ(seed, fx->n_arr, 2);
    SIM_ASSERT_EQ(seed, ust_sim_now(fx->sim), 10 * MS);
    /* ...or at the limit when frames are still in flight. */
    send_frame(fx, 0, 3, 64);
    ust_sim_run_until_quiet(fx->sim, 1 * MS);
    SIM_ASSERT_EQ(seed, fx->n_arr, 2);
    SIM_ASSERT(seed, ust_sim_now(fx->sim) <= 11 * MS);
    teardown_link(fx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(perfect_link_delivers_every_frame_in_order_after_the_delay),
        cmocka_unit_test(directions_are_independent),
        cmocka_unit_test(bandwidth_serialises_frames_back_to_back),
        cmocka_unit_test(full_queue_drops_frames_with_enobufs),
        cmocka_unit_test(loss_drops_about_the_configured_fraction),
        cmocka_unit_test(duplicate_delivers_identical_second_copies),
        cmocka_unit_test(corruption_flips_exactly_one_bit),
        cmocka_unit_test(reorder_lets_frames_overtake),
        cmocka_unit_test(jitter_spreads_arrivals_within_its_bound),
        cmocka_unit_test(link_down_drops_everything_until_up),
        cmocka_unit_test(frames_over_the_mtu_are_refused),
        cmocka_unit_test(params_can_change_during_a_run),
        cmocka_unit_test(same_seed_replays_identically_other_seed_differs),
        cmocka_unit_test(hosts_get_seeds_derived_from_the_sim_seed),
        cmocka_unit_test(several_links_number_netifs_per_host),
        cmocka_unit_test(step_and_quiet_advance_only_to_the_next_event),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
