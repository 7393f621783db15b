/* A small deterministic PRNG (xoshiro256** seeded by splitmix64). Every stack
 * and the simulator own one, so a seed replays a run exactly. */
#ifndef UST_CORE_RAND_H
#define UST_CORE_RAND_H

#include <stdint.h>

struct ust_rng {
    uint64_t s[4];
};

void ust_rng_seed(struct ust_rng *r, uint64_t seed);
uint64_t ust_rng_next(struct ust_rng *r);
/* Uniform in [0, bound); bound > 0. */
uint64_t ust_rng_below(struct ust_rng *r, uint64_t bound);
/* Uniform in [0, 1). */
double ust_rng_double(struct ust_rng *r);
/* 64 bits from getrandom(), for seed 0. */
uint64_t ust_rng_entropy(void);

#endif
