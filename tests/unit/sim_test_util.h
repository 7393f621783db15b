/* Helpers for tests that run on the simulator: the seed of a run is printed
 * at its start and in every failure message, so a failing run can be
 * replayed (USTACK_SEED=<seed> ./test_xxx). Include after <cmocka.h>. */
#ifndef UST_TESTS_SIM_TEST_UTIL_H
#define UST_TESTS_SIM_TEST_UTIL_H

#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>

/* The seed for this run: USTACK_SEED from the environment when set (to
 * replay a failure), else the test's fixed default. Printed either way. */
static inline uint64_t sim_test_seed(uint64_t dflt)
{
    const char *env = getenv("USTACK_SEED");
    uint64_t seed = dflt;
    if (env && *env)
        seed = strtoull(env, NULL, 0);
    print_message("seed=%" PRIu64 "\n", seed);
    return seed;
}

/* Like assert_true, but the failure message names the seed. */
#define SIM_ASSERT(seed, cond)                                                          \
    do {                                                                                \
        if (!(cond))                                                                    \
            fail_msg("%s:%d: %s failed (seed=%" PRIu64 ")", __FILE__, __LINE__, #cond,  \
                     (uint64_t)(seed));                                                 \
    } while (0)

/* Like assert_int_equal, with the seed. */
#define SIM_ASSERT_EQ(seed, a, b)                                                       \
    do {                                                                                \
        uint64_t a_ = (uint64_t)(a), b_ = (uint64_t)(b);                                \
        if (a_ != b_)                                                                   \
            fail_msg("%s:%d: %s == %s failed: %" PRIu64 " != %" PRIu64                  \
                     " (seed=%" PRIu64 ")",                                             \
                     __FILE__, __LINE__, #a, #b, a_, b_, (uint64_t)(seed));             \
    } while (0)

/* FNV-1a, to fingerprint a run (frames, times, received data). */
static inline uint64_t sim_test_hash(uint64_t h, const void *data, size_t len)
{
    const uint8_t *p = data;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}
#define SIM_TEST_HASH_INIT 0xcbf29ce484222325ull

#endif
