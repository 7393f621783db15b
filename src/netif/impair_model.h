/* The impairment model shared by the simulator's links (sim.c) and the
 * impairment layer that wraps any netif (impair.c): what happens to one frame
 * (loss, corruption, delay + jitter, reordering, duplication) and the PRNG
 * draws that decide it, always in the same order so a seed replays a run. */
#ifndef UST_NETIF_IMPAIR_MODEL_H
#define UST_NETIF_IMPAIR_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include <ustack/sim.h>

#include "core/rand.h"

#define UST_IMPAIR_DEFAULT_QUEUE_LIMIT 1000u

/* The fate of a frame that was not lost. */
struct ust_impair_fate {
    bool corrupt;            /* flip bit `corrupt_bit` (counting from the first byte's LSB) */
    uint64_t corrupt_bit;
    bool reordered;          /* skips the delay: arrives at tx_end */
    bool duplicate;          /* a second copy arrives with it */
    uint64_t arrival;        /* absolute ns */
};

uint64_t ust_impair_sat_add(uint64_t a, uint64_t b);
/* A probability clamped to [0, 1]; NaN and negatives are 0. */
double ust_impair_clamp_prob(double p);
/* Clamps the four probabilities of p in place (other fields untouched). */
void ust_impair_clamp_params(struct ust_link_params *p);
/* True with probability p; draws from rng only when p > 0. */
bool ust_impair_chance(struct ust_rng *rng, double p);
/* Time to put len bytes on the wire at rate bit/s, rounded up (0: infinite). */
uint64_t ust_impair_serialisation_ns(uint32_t len, uint64_t rate_bps);

/* Step 1 of a frame's fate, after it left the serialiser: lost? (one draw
 * when p->loss > 0). */
bool ust_impair_roll_loss(struct ust_rng *rng, const struct ust_link_params *p);
/* Step 2, for a frame that survived: corruption, then delay + jitter
 * (arrival = tx_end + delay + uniform [0, jitter]), then reordering (arrival
 * = tx_end), then duplication, drawn in that order. */
void ust_impair_roll_fate(struct ust_rng *rng, const struct ust_link_params *p, uint32_t len,
                          uint64_t tx_end, struct ust_impair_fate *out);
/* Flips the bit a fate chose. */
void ust_impair_flip_bit(uint8_t *data, uint64_t bit);

#endif
