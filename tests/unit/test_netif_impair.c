/* The impairment layer on a netif (netif/impair.c): off is a pass-through;
 * loss, delay, jitter, reordering, duplication, corruption, rate and the
 * queue bound behave as the simulator's model says, on the stack's virtual
 * clock; the counters add up; a seed replays the same fates; the capture
 * sees received frames after the impairment and sent frames before it; no
 * buffer leaks, also when frames are still held at teardown. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <unistd.h>

#include <cmocka.h>

#include "net_test_util.h"
#include "netif/impair_model.h"

#define MS UST_NSEC_PER_MSEC
#define US UST_NSEC_PER_USEC
#define TEST_ETHERTYPE 0x88b5u   /* IEEE 802 local experimental */
#define FRAME_LEN 60u

/* A frame to the stack's MAC carrying index i in its first payload bytes. */
static struct ust_fbuf *make_frame(struct tn_env *env, uint32_t i, size_t len)
{
    struct ust_fbuf *fb = ust_fbuf_alloc(env->stack, len);
    assert_non_null(fb);
    uint8_t *p = ust_fbuf_put(fb, len);
    memset(p, 0, len);
    tn_eth(p, tn_peer_mac, tn_mac, TEST_ETHERTYPE);
    for (size_t k = UST_ETH_HLEN + 4; k < len; k++)
        p[k] = (uint8_t)(k * 13 + i);
    memcpy(p + UST_ETH_HLEN, &i, 4);
    return fb;
}

static int send_frame_len(struct tn_env *env, uint32_t i, size_t len)
{
    struct ust_fbuf *fb = make_frame(env, i, len);
    ust_rt_lock(env->stack);
    int err = ust_netif_output(env->nif, fb);
    ust_rt_unlock(env->stack);
    return err;
}

static int send_frame(struct tn_env *env, uint32_t i)
{
    return send_frame_len(env, i, FRAME_LEN);
}

static void receive_frame(struct tn_env *env, uint32_t i)
{
    struct ust_fbuf *fb = make_frame(env, i, FRAME_LEN);
    ust_rt_lock(env->stack);
    ust_netif_receive(env->nif, fb);
    ust_rt_unlock(env->stack);
}

static uint32_t sent_index(struct tn_env *env, size_t k)
{
    uint32_t i;
    assert_true(env->frames[k].len >= UST_ETH_HLEN + 4);
    memcpy(&i, env->frames[k].data + UST_ETH_HLEN, 4);
    return i;
}

static void impair(struct tn_env *env, int dir, const struct ust_link_params *p)
{
    assert_int_equal(ust_netif_set_impairment(env->nif, dir, p), 0);
}

static struct ust_link_stats stats(struct tn_env *env, int dir)
{
    struct ust_link_stats st;
    assert_int_equal(ust_netif_impairment_stats(env->nif, dir, &st), 0);
    return st;
}

static void setup_seed(struct tn_env *env, uint64_t seed)
{
    struct ust_stack_config c;
    ust_stack_config_init(&c);
    c.seed = seed;
    tn_setup_cfg(env, &c);
    tn_clear(env);
}

/* ---- Off ----------------------------------------------------------------- */

static void test_off_and_all_zero_params_pass_frames_straight_through(void **state)
{
    struct tn_env env;
    setup_seed(&env, 7);
    struct ust_link_params zero;
    memset(&zero, 0, sizeof(zero));
    zero.queue_limit = 5;               /* a queue limit alone impairs nothing */
    impair(&env, UST_IMPAIR_TX, &zero);
    impair(&env, UST_IMPAIR_RX, NULL);
    for (uint32_t i = 0; i < 20; i++)
        assert_int_equal(send_frame(&env, i), 0);
    assert_int_equal(env.nframes, 20);  /* at once, no poll needed */
    for (uint32_t i = 0; i < 20; i++)
        assert_int_equal(sent_index(&env, i), i);
    uint64_t in0 = TN_STAT(&env, ETH, InFrames);
    receive_frame(&env, 1);
    assert_int_equal(TN_STAT(&env, ETH, InFrames), in0 + 1);
    struct ust_link_stats st = stats(&env, UST_IMPAIR_TX);
    assert_int_equal(st.sent, 0);       /* never engaged */
    tn_assert_no_leak(&env);
    tn_teardown(&env);
}

/* ---- Delay and the clock ---------------------------------------------------- */

static void test_delay_releases_transmitted_frames_exactly_at_their_virtual_time(void **state)
{
    struct tn_env env;
    setup_seed(&env, 7);
    struct ust_link_params p = { .delay_ns = 5 * MS };
    impair(&env, UST_IMPAIR_TX, &p);
    for (uint32_t i = 0; i < 10; i++)
        assert_int_equal(send_frame(&env, i), 0);
    assert_int_equal(env.nframes, 0);
    /* The stack's next deadline is the release. */
    assert_int_equal(ust_stack_poll(env.stack, env.now), env.now + 5 * MS);
    tn_poll(&env, 5 * MS - 1);
    assert_int_equal(env.nframes, 0);
    tn_poll(&env, 1);
    assert_int_equal(env.nframes, 10);
    for (uint32_t i = 0; i < 10; i++)
        assert_int_equal(sent_index(&env, i), i);
    struct ust_link_stats st = stats(&env, UST_IMPAIR_TX);
    assert_int_equal(st.sent, 10);
    assert_int_equal(st.delivered, 10);
    assert_int_equal(st.lost + st.queue_drops + st.duplicated + st.reordered + st.corrupted, 0);
    tn_assert_no_leak(&env);
    tn_teardown(&env);
}

static void test_delay_on_receive_holds_frames_from_the_stack_until_due(void **state)
{
    struct tn_env env;
    setup_seed(&env, 7);
    struct ust_link_params p = { .delay_ns = 3 * MS };
    impair(&env, UST_IMPAIR_RX, &p);
    uint64_t in0 = TN_STAT(&env, ETH, InFrames);
    receive_frame(&env, 0);
    tn_poll(&env, 1 * MS);
    receive_frame(&env, 1);             /* due at +4 ms */
    tn_poll(&env, 2 * MS - 1);
    assert_int_equal(TN_STAT(&env, ETH, InFrames), in0);
    tn_poll(&env, 1);                   /* +3 ms */
    assert_int_equal(TN_STAT(&env, ETH, InFrames), in0 + 1);
    tn_poll(&env, 1 * MS);              /* +4 ms */
    assert_int_equal(TN_STAT(&env, ETH, InFrames), in0 + 2);
    assert_int_equal(stats(&env, UST_IMPAIR_RX).delivered, 2);
    tn_assert_no_leak(&env);
    tn_teardown(&env);
}

static void test_rate_serialises_frames_back_to_back(void **state)
{
    struct tn_env env;
    setup_seed(&env, 7);
    /* 8 Mbit/s: a 1000-byte frame takes 1 ms. */
    struct ust_link_params p = { .rate_bps = 8000000 };
    impair(&env, UST_IMPAIR_TX, &p);
    for (uint32_t i = 0; i < 3; i++)
        assert_int_equal(send_frame_len(&env, i, 1000), 0);
    for (size_t k = 1; k <= 3; k++) {
        tn_poll(&env, 1 * MS - 1);
        assert_int_equal(env.nframes, k - 1);
        tn_poll(&env, 1);
        assert_int_equal(env.nframes, k);
        assert_int_equal(sent_index(&env, k - 1), k - 1);
    }
    tn_assert_no_leak(&env);
    tn_teardown(&env);
}

/* ---- Loss ------------------------------------------------------------------ */

/* Sends n frames through loss p; returns a bitmap of which arrived. */
static void lossy_run(uint64_t seed, double loss, uint32_t n, uint8_t *arrived,
                      struct ust_link_stats *out)
{
    struct tn_env env;
    setup_seed(&env, seed);
    struct ust_link_params p = { .loss = loss };
    impair(&env, UST_IMPAIR_TX, &p);
    for (uint32_t i = 0; i < n; i++)
        assert_int_equal(send_frame(&env, i), 0);   /* a lost frame is not an error */
    memset(arrived, 0, n);
    for (size_t k = 0; k < env.nframes; k++) {
        uint32_t i = sent_index(&env, k);
        assert_true(i < n);
        assert_int_equal(arrived[i], 0);
        arrived[i] = 1;
    }
    *out = stats(&env, UST_IMPAIR_TX);
    assert_int_equal(out->delivered, env.nframes);
    tn_assert_no_leak(&env);
    tn_teardown(&env);
}

static void test_loss_drops_the_configured_fraction_and_counts_it(void **state)
{
    enum { N = 10000 };
    static uint8_t arrived[N];
    struct ust_link_stats st;
    lossy_run(7, 0.03, N, arrived, &st);
    assert_int_equal(st.sent, N);
    assert_int_equal(st.lost + st.delivered, N);
    /* 3% of 10000 = 300; a binomial's 5-sigma band is about +-85. */
    assert_in_range(st.lost, 215, 385);
    lossy_run(7, 1.0, N, arrived, &st);
    assert_int_equal(st.lost, N);
}

static void test_same_seed_same_fates_other_seed_other_fates(void **state)
{
    enum { N = 2000 };
    static uint8_t a[N], b[N], c[N];
    struct ust_link_stats sa, sb, sc;
    lossy_run(42, 0.2, N, a, &sa);
    lossy_run(42, 0.2, N, b, &sb);
    lossy_run(43, 0.2, N, c, &sc);
    assert_memory_equal(a, b, N);
    assert_int_equal(sa.lost, sb.lost);
    assert_memory_not_equal(a, c, N);
}

/* ---- Reordering, jitter, duplication, corruption ------------------------------- */

static void test_reordered_frames_skip_the_delay_and_overtake_earlier_ones(void **state)
{
    struct tn_env env;
    setup_seed(&env, 7);
    struct ust_link_params p = { .delay_ns = 5 * MS, .reorder = 0.3 };
    impair(&env, UST_IMPAIR_TX, &p);
    enum { N = 200 };
    for (uint32_t i = 0; i < N; i++) {
        assert_int_equal(send_frame(&env, i), 0);
        tn_poll(&env, 100 * US);
    }
    tn_poll(&env, 10 * MS);
    assert_int_equal(env.nframes, N);
    struct ust_link_stats st = stats(&env, UST_IMPAIR_TX);
    assert_in_range(st.reordered, 30, 90);
    unsigned inversions = 0;
    uint8_t seen[N] = { 0 };
    for (size_t k = 0; k < env.nframes; k++) {
        uint32_t i = sent_index(&env, k);
        assert_int_equal(seen[i], 0);
        seen[i] = 1;
        if (k > 0 && i < sent_index(&env, k - 1))
            inversions++;
    }
    assert_true(inversions > 0);
    tn_assert_no_leak(&env);
    tn_teardown(&env);
}

static void test_jitter_spreads_release_times_within_the_bound(void **state)
{
    struct tn_env env;
    setup_seed(&env, 7);
    struct ust_link_params p = { .delay_ns = 2 * MS, .jitter_ns = 4 * MS };
    impair(&env, UST_IMPAIR_TX, &p);
    enum { N = 100 };
    for (uint32_t i = 0; i < N; i++)
        assert_int_equal(send_frame(&env, i), 0);
    tn_poll(&env, 2 * MS - 1);
    assert_int_equal(env.nframes, 0);       /* never before the delay */
    tn_poll(&env, 2 * MS + 1);              /* +4 ms: about half */
    assert_in_range(env.nframes, 20, 80);
    tn_poll(&env, 2 * MS);                  /* +6 ms = delay + jitter: all */
    assert_int_equal(env.nframes, N);
    tn_assert_no_leak(&env);
    tn_teardown(&env);
}

static void test_duplicates_arrive_twice_and_are_counted(void **state)
{
    struct tn_env env;
    setup_seed(&env, 7);
    struct ust_link_params p = { .duplicate = 0.25, .delay_ns = 1 * MS };
    impair(&env, UST_IMPAIR_TX, &p);
    enum { N = 400 };
    for (uint32_t i = 0; i < N; i++)
        assert_int_equal(send_frame(&env, i), 0);
    tn_poll(&env, 1 * MS);
    struct ust_link_stats st = stats(&env, UST_IMPAIR_TX);
    assert_in_range(st.duplicated, 60, 140);
    assert_int_equal(env.nframes, N + st.duplicated);
    assert_int_equal(st.delivered, N + st.duplicated);
    unsigned count[N] = { 0 };
    for (size_t k = 0; k < env.nframes; k++)
        count[sent_index(&env, k)]++;
    unsigned twice = 0;
    for (uint32_t i = 0; i < N; i++) {
        assert_in_range(count[i], 1, 2);
        twice += count[i] == 2;
    }
    assert_int_equal(twice, st.duplicated);
    tn_assert_no_leak(&env);
    tn_teardown(&env);
}

static unsigned bits_differing(const uint8_t *a, const uint8_t *b, size_t n)
{
    unsigned d = 0;
    for (size_t k = 0; k < n; k++)
        d += (unsigned)__builtin_popcount((unsigned)(a[k] ^ b[k]));
    return d;
}

static void test_corruption_flips_exactly_one_bit_per_frame(void **state)
{
    struct tn_env env;
    setup_seed(&env, 7);
    struct ust_link_params p = { .corrupt = 1.0 };
    impair(&env, UST_IMPAIR_TX, &p);
    enum { N = 50 };
    for (uint32_t i = 0; i < N; i++)
        assert_int_equal(send_frame_len(&env, 0, 200), 0);    /* same content each time */
    assert_int_equal(env.nframes, N);
    struct ust_fbuf *orig = make_frame(&env, 0, 200);
    unsigned differ_between = 0;
    for (size_t k = 0; k < N; k++) {
        assert_int_equal(env.frames[k].len, 200);
        assert_int_equal(bits_differing(env.frames[k].data, orig->data, 200), 1);
        if (k > 0)
            differ_between += memcmp(env.frames[k].data, env.frames[k - 1].data, 200) != 0;
    }
    assert_true(differ_between > N / 2);    /* a random bit, not always the same */
    ust_fbuf_free(env.stack, orig);
    assert_int_equal(stats(&env, UST_IMPAIR_TX).corrupted, N);
    tn_assert_no_leak(&env);
    tn_teardown(&env);
}

static void test_receive_corruption_makes_a_clean_link_check_checksums(void **state)
{
    struct tn_env env;
    setup_seed(&env, 7);
    env.nif->clean_link = true;
    struct ust_link_params p = { .corrupt = 0.5 };
    impair(&env, UST_IMPAIR_RX, &p);
    assert_false(env.nif->clean_link);
    impair(&env, UST_IMPAIR_RX, NULL);
    assert_true(env.nif->clean_link);
    tn_teardown(&env);
}

/* ---- The queue bound ---------------------------------------------------------- */

static void test_queue_limit_bounds_held_frames_and_drops_the_rest(void **state)
{
    struct tn_env env;
    setup_seed(&env, 7);
    struct ust_link_params p = { .delay_ns = 10 * MS, .queue_limit = 8 };
    impair(&env, UST_IMPAIR_TX, &p);
    uint64_t drops0 = TN_STAT(&env, ETH, OutDrops);
    for (uint32_t i = 0; i < 20; i++)
        assert_int_equal(send_frame(&env, i), i < 8 ? 0 : -ENOBUFS);
    assert_int_equal(TN_STAT(&env, ETH, OutDrops), drops0 + 12);
    tn_poll(&env, 10 * MS);
    assert_int_equal(env.nframes, 8);
    for (uint32_t i = 0; i < 8; i++)
        assert_int_equal(sent_index(&env, i), i);
    struct ust_link_stats st = stats(&env, UST_IMPAIR_TX);
    assert_int_equal(st.sent, 20);
    assert_int_equal(st.queue_drops, 12);
    assert_int_equal(st.delivered, 8);
    /* Room again once released. */
    assert_int_equal(send_frame(&env, 99), 0);
    tn_teardown(&env);
}

static void test_turning_off_drops_held_frames_and_frees_their_buffers(void **state)
{
    struct tn_env env;
    setup_seed(&env, 7);
    struct ust_link_params p = { .delay_ns = 10 * MS };
    impair(&env, UST_IMPAIR_TX, &p);
    impair(&env, UST_IMPAIR_RX, &p);
    for (uint32_t i = 0; i < 5; i++) {
        assert_int_equal(send_frame(&env, i), 0);
        receive_frame(&env, i);
    }
    assert_true(env.stack->fbpool.in_use_bytes > env.baseline);
    impair(&env, UST_IMPAIR_TX, NULL);
    impair(&env, UST_IMPAIR_RX, NULL);
    tn_assert_no_leak(&env);
    assert_int_equal(stats(&env, UST_IMPAIR_TX).queue_drops, 5);
    assert_int_equal(stats(&env, UST_IMPAIR_RX).queue_drops, 5);
    tn_poll(&env, 20 * MS);
    assert_int_equal(env.nframes, 0);
    assert_int_equal(send_frame(&env, 7), 0);   /* off: straight through again */
    assert_int_equal(env.nframes, 1);
    /* Held frames at teardown are freed too (ASan would see a leak). */
    impair(&env, UST_IMPAIR_TX, &p);
    assert_int_equal(send_frame(&env, 8), 0);
    tn_teardown(&env);
}

/* ---- Capture at the stack's edge ------------------------------------------------ */

/* Indices of the test frames in a pcap file, in file order. */
static size_t pcap_indices(const char *path, uint32_t *out, size_t max)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    uint8_t gh[24];
    assert_int_equal(fread(gh, 1, sizeof(gh), f), sizeof(gh));
    size_t n = 0;
    uint8_t rh[16], frame[2048];
    while (fread(rh, 1, sizeof(rh), f) == sizeof(rh)) {
        uint32_t caplen;
        memcpy(&caplen, rh + 8, 4);
        assert_true(caplen <= sizeof(frame));
        assert_int_equal(fread(frame, 1, caplen, f), caplen);
        uint16_t type = (uint16_t)(frame[12] << 8 | frame[13]);
        if (type == TEST_ETHERTYPE && n < max)
            memcpy(&out[n++], frame + UST_ETH_HLEN, 4);
    }
    fclose(f);
    return n;
}

static void test_capture_sees_received_frames_after_and_sent_frames_before_impairment(void **state)
{
    struct tn_env env;
    setup_seed(&env, 7);
    char path[] = "/tmp/ustack-impair-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(ust_netif_capture_start(env.nif, path), 0);
    struct ust_link_params p = { .loss = 0.5, .delay_ns = 1 * MS };
    impair(&env, UST_IMPAIR_RX, &p);
    impair(&env, UST_IMPAIR_TX, &p);
    enum { N = 100 };
    for (uint32_t i = 0; i < N; i++)
        receive_frame(&env, i);
    for (uint32_t i = N; i < 2 * N; i++)
        assert_int_equal(send_frame(&env, i), 0);
    tn_poll(&env, 1 * MS);
    assert_int_equal(ust_netif_capture_stop(env.nif), 0);
    uint32_t idx[3 * N];
    size_t n = pcap_indices(path, idx, 3 * N);
    unlink(path);
    struct ust_link_stats rx = stats(&env, UST_IMPAIR_RX), tx = stats(&env, UST_IMPAIR_TX);
    assert_true(rx.lost > 0 && tx.lost > 0);
    /* Every sent frame (before the loss), only the received frames that
     * survived it. */
    size_t n_rx = 0, n_tx = 0;
    for (size_t k = 0; k < n; k++) {
        if (idx[k] < N)
            n_rx++;
        else
            n_tx++;
    }
    assert_int_equal(n_tx, N);
    assert_int_equal(n_rx, rx.delivered);
    assert_int_equal(n_rx, N - rx.lost);
    tn_teardown(&env);
}

/* ---- Errors ------------------------------------------------------------------- */

static void test_bad_direction_and_loopback_receive_are_refused(void **state)
{
    struct tn_env env;
    setup_seed(&env, 7);
    struct ust_link_params p = { .loss = 0.1 };
    struct ust_link_stats st;
    errno = 0;
    assert_int_equal(ust_netif_set_impairment(env.nif, 2, &p), -1);
    assert_int_equal(errno, EINVAL);
    errno = 0;
    assert_int_equal(ust_netif_impairment_stats(env.nif, -1, &st), -1);
    assert_int_equal(errno, EINVAL);
    errno = 0;
    assert_int_equal(ust_netif_set_impairment(ust_loopback(env.stack), UST_IMPAIR_RX, &p), -1);
    assert_int_equal(errno, EOPNOTSUPP);
    assert_int_equal(ust_netif_set_impairment(ust_loopback(env.stack), UST_IMPAIR_TX, &p), 0);
    assert_int_equal(ust_netif_impairment_stats(env.nif, UST_IMPAIR_RX, &st), 0);
    assert_int_equal(st.sent, 0);           /* never set: all zero */
    tn_teardown(&env);
}

/* The shared model draws in the documented order: the same dice give the
 * same fate, and reordering overrides delay + jitter. */
static void test_model_fate_is_a_pure_function_of_the_dice(void **state)
{
    struct ust_link_params p = { .delay_ns = 5 * MS, .jitter_ns = 1 * MS, .corrupt = 0.5,
                                 .reorder = 0.5, .duplicate = 0.5 };
    struct ust_rng a, b;
    ust_rng_seed(&a, 99);
    ust_rng_seed(&b, 99);
    unsigned reordered = 0;
    for (int k = 0; k < 1000; k++) {
        struct ust_impair_fate fa, fb;
        ust_impair_roll_fate(&a, &p, 100, 1000, &fa);
        ust_impair_roll_fate(&b, &p, 100, 1000, &fb);
        assert_int_equal(fa.corrupt, fb.corrupt);
        assert_int_equal(fa.corrupt_bit, fb.corrupt_bit);
        assert_int_equal(fa.reordered, fb.reordered);
        assert_int_equal(fa.duplicate, fb.duplicate);
        assert_int_equal(fa.arrival, fb.arrival);
        if (fa.reordered) {
            assert_int_equal(fa.arrival, 1000);
            reordered++;
        } else {
            assert_in_range(fa.arrival, 1000 + 5 * MS, 1000 + 6 * MS);
        }
        if (fa.corrupt)
            assert_true(fa.corrupt_bit < 800);
    }
    assert_in_range(reordered, 400, 600);
    assert_int_equal(ust_impair_serialisation_ns(1000, 8000000), 1 * MS);
    assert_int_equal(ust_impair_clamp_prob(-1.0), 0);
    assert_true(ust_impair_clamp_prob(2.0) == 1.0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_off_and_all_zero_params_pass_frames_straight_through),
        cmocka_unit_test(test_delay_releases_transmitted_frames_exactly_at_their_virtual_time),
        cmocka_unit_test(test_delay_on_receive_holds_frames_from_the_stack_until_due),
        cmocka_unit_test(test_rate_serialises_frames_back_to_back),
        cmocka_unit_test(test_loss_drops_the_configured_fraction_and_counts_it),
        cmocka_unit_test(test_same_seed_same_fates_other_seed_other_fates),
        cmocka_unit_test(test_reordered_frames_skip_the_delay_and_overtake_earlier_ones),
        cmocka_unit_test(test_jitter_spreads_release_times_within_the_bound),
        cmocka_unit_test(test_duplicates_arrive_twice_and_are_counted),
        cmocka_unit_test(test_corruption_flips_exactly_one_bit_per_frame),
        cmocka_unit_test(test_receive_corruption_makes_a_clean_link_check_checksums),
        cmocka_unit_test(test_queue_limit_bounds_held_frames_and_drops_the_rest),
        cmocka_unit_test(test_turning_off_drops_held_frames_and_frees_their_buffers),
        cmocka_unit_test(test_capture_sees_received_frames_after_and_sent_frames_before_impairment),
        cmocka_unit_test(test_bad_direction_and_loopback_receive_are_refused),
        cmocka_unit_test(test_model_fate_is_a_pure_function_of_the_dice),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
