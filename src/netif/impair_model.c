/* The impairment model shared by sim.c (simulated links) and impair.c (the
 * impairment layer over any netif). The order of the PRNG draws is part of
 * the contract: a simulation seed must replay the same run. */
#include "netif/impair_model.h"

#include "core/util.h"

uint64_t ust_impair_sat_add(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

double ust_impair_clamp_prob(double p)
{
    if (!(p > 0.0))             /* also NaN */
        return 0.0;
    return p > 1.0 ? 1.0 : p;
}

void ust_impair_clamp_params(struct ust_link_params *p)
{
    p->loss = ust_impair_clamp_prob(p->loss);
    p->duplicate = ust_impair_clamp_prob(p->duplicate);
    p->corrupt = ust_impair_clamp_prob(p->corrupt);
    p->reorder = ust_impair_clamp_prob(p->reorder);
}

bool ust_impair_chance(struct ust_rng *rng, double p)
{
    return p > 0.0 && ust_rng_double(rng) < p;
}

uint64_t ust_impair_serialisation_ns(uint32_t len, uint64_t rate_bps)
{
    if (rate_bps == 0)
        return 0;
    uint64_t bits_ns = (uint64_t)len * 8u * UST_NSEC_PER_SEC;
    return (bits_ns + rate_bps - 1) / rate_bps;
}

bool ust_impair_roll_loss(struct ust_rng *rng, const struct ust_link_params *p)
{
    return ust_impair_chance(rng, p->loss);
}

void ust_impair_roll_fate(struct ust_rng *rng, const struct ust_link_params *p, uint32_t len,
                          uint64_t tx_end, struct ust_impair_fate *out)
{
    out->corrupt = ust_impair_chance(rng, p->corrupt) && len > 0;
    out->corrupt_bit = out->corrupt ? ust_rng_below(rng, (uint64_t)len * 8u) : 0;
    uint64_t jitter = p->jitter_ns ? ust_rng_below(rng, ust_impair_sat_add(p->jitter_ns, 1)) : 0;
    out->arrival = ust_impair_sat_add(ust_impair_sat_add(tx_end, p->delay_ns), jitter);
    out->reordered = ust_impair_chance(rng, p->reorder);
    if (out->reordered)
        out->arrival = tx_end;  /* skips the queue of frames in propagation */
    out->duplicate = ust_impair_chance(rng, p->duplicate);
}

void ust_impair_flip_bit(uint8_t *data, uint64_t bit)
{
    data[bit / 8] ^= (uint8_t)(1u << (bit % 8));
}
