/* The PRNG: published xoshiro256** and splitmix64 outputs, determinism per
 * seed, ust_rng_below bounds and uniformity (no modulo bias), doubles in
 * [0, 1), and the entropy source. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/rand.h"

static void test_xoshiro256ss_reference_output(void **state)
{
    (void)state;
    /* Output of the authors' reference code from state {1, 2, 3, 4}. */
    struct ust_rng r = {{1, 2, 3, 4}};
    const uint64_t want[6] = {11520ull, 0ull, 1509978240ull, 1215971899390074240ull,
                              1216172134540287360ull, 607988272756665600ull};
    for (int i = 0; i < 6; i++)
        assert_int_equal(ust_rng_next(&r), want[i]);
}

static void test_seed_uses_splitmix64(void **state)
{
    (void)state;
    /* splitmix64 from 0: e220a8397b1dcdaf 6e789e6aa1b965f4 06c45d188009454f. */
    struct ust_rng r;
    ust_rng_seed(&r, 0);
    assert_int_equal(r.s[0], 0xe220a8397b1dcdafull);
    assert_int_equal(r.s[1], 0x6e789e6aa1b965f4ull);
    assert_int_equal(r.s[2], 0x06c45d188009454full);
    assert_true((r.s[0] | r.s[1] | r.s[2] | r.s[3]) != 0);
}

static void test_same_seed_same_sequence(void **state)
{
    (void)state;
    struct ust_rng a, b, c;
    ust_rng_seed(&a, 12345);
    ust_rng_seed(&b, 12345);
    ust_rng_seed(&c, 12346);
    int differ = 0;
    for (int i = 0; i < 10000; i++) {
        uint64_t x = ust_rng_next(&a);
        assert_int_equal(x, ust_rng_next(&b));
        differ += x != ust_rng_next(&c);
    }
    assert_true(differ > 9990);
    /* The mixed calls replay too. */
    ust_rng_seed(&a, 777);
    ust_rng_seed(&b, 777);
    for (int i = 0; i < 1000; i++) {
        assert_int_equal(ust_rng_below(&a, 1000 + (uint64_t)i), ust_rng_below(&b, 1000 + (uint64_t)i));
        assert_true(ust_rng_double(&a) == ust_rng_double(&b));
    }
}

static void test_below_stays_in_bounds(void **state)
{
    (void)state;
    struct ust_rng r;
    ust_rng_seed(&r, 1);
    const uint64_t bounds[] = {1, 2, 3, 7, 10, 1000, 65536, 1ull << 32, (1ull << 63) + 1,
                               UINT64_MAX - 1, UINT64_MAX};
    for (size_t b = 0; b < sizeof(bounds) / sizeof(bounds[0]); b++)
        for (int i = 0; i < 20000; i++)
            assert_true(ust_rng_below(&r, bounds[b]) < bounds[b]);
    for (int i = 0; i < 100; i++)
        assert_int_equal(ust_rng_below(&r, 1), 0);
    /* Large bounds reach their upper half and quarter (no truncation). */
    int half = 0, quarter = 0;
    for (int i = 0; i < 1000; i++) {
        uint64_t v = ust_rng_below(&r, (1ull << 63) + 1);
        half += v >= (1ull << 62);
        quarter += v >= (1ull << 62) + (1ull << 61);
    }
    assert_true(half > 400 && half < 600);
    assert_true(quarter > 170 && quarter < 330);
}

static void test_below_is_uniform(void **state)
{
    (void)state;
    struct ust_rng r;
    ust_rng_seed(&r, 2024);
    enum { K = 6, N = 600000 };
    unsigned cnt[K] = {0};
    for (int i = 0; i < N; i++)
        cnt[ust_rng_below(&r, K)]++;
    for (int k = 0; k < K; k++)                 /* expected 100000, sd ~290 */
        assert_true(cnt[k] > 98500 && cnt[k] < 101500);

    /* A bound where x % bound would be visibly biased: 2^64 / (3 * 2^62)
     * makes the low third of the range twice as likely with a modulo. */
    uint64_t bound = 3ull << 62;
    unsigned third[3] = {0};
    for (int i = 0; i < 300000; i++)
        third[ust_rng_below(&r, bound) / (1ull << 62)]++;
    for (int k = 0; k < 3; k++)                 /* expected 100000 each */
        assert_true(third[k] > 98500 && third[k] < 101500);
}

static void test_double_in_unit_interval(void **state)
{
    (void)state;
    struct ust_rng r;
    ust_rng_seed(&r, 3);
    double sum = 0, lo = 1, hi = 0;
    for (int i = 0; i < 100000; i++) {
        double d = ust_rng_double(&r);
        assert_true(d >= 0.0 && d < 1.0);
        sum += d;
        lo = d < lo ? d : lo;
        hi = d > hi ? d : hi;
    }
    assert_true(sum / 100000 > 0.49 && sum / 100000 < 0.51);
    assert_true(lo < 0.001 && hi > 0.999);
}

static void test_entropy_varies(void **state)
{
    (void)state;
    /* Two 64-bit draws collide with probability 2^-64. */
    uint64_t a = ust_rng_entropy(), b = ust_rng_entropy();
    assert_int_not_equal(a, b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_xoshiro256ss_reference_output),
        cmocka_unit_test(test_seed_uses_splitmix64),
        cmocka_unit_test(test_same_seed_same_sequence),
        cmocka_unit_test(test_below_stays_in_bounds),
        cmocka_unit_test(test_below_is_uniform),
        cmocka_unit_test(test_double_in_unit_interval),
        cmocka_unit_test(test_entropy_varies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
