/* Ephemeral ports and SO_REUSEPORT member selection, shared by UDP and TCP. */
#include "net/net.h"

#include <errno.h>

#include "stack/stack_impl.h"

/* A random start in [ephemeral_lo, ephemeral_hi], then the next free port
 * (linear probe, wrapping), as Linux's udp_lib_get_port and
 * inet_csk_find_open_port do. One PRNG draw per search. */
int ust_ephemeral_port(struct ust_stack *stack, bool (*in_use)(void *arg, uint16_t port), void *arg)
{
    uint32_t lo = stack->cfg.ephemeral_lo, hi = stack->cfg.ephemeral_hi;
    uint32_t range = hi - lo + 1;
    uint32_t off = (uint32_t)ust_rng_below(&stack->rng, range);
    for (uint32_t i = 0; i < range; i++) {
        uint16_t port = (uint16_t)(lo + (off + i) % range);
        if (!in_use(arg, port))
            return port;
    }
    return -EAGAIN;
}

/* SO_REUSEPORT: Linux hashes the 4-tuple (udp_ehashfn, inet_ehashfn) and
 * scales it to the group; here the hash picks the member by rendezvous
 * weight, so the choice does not depend on table order. */
uint32_t ust_reuseport_hash(const struct ust_stack *stack, uint32_t saddr, uint16_t sport,
                            uint32_t daddr, uint16_t dport)
{
    return ust_hash_u32x3(stack->hash_key, saddr, daddr, ((uint32_t)sport << 16) | dport);
}

uint32_t ust_reuseport_weight(const struct ust_stack *stack, uint32_t flow, uint64_t member)
{
    return ust_hash_u32x3(stack->hash_key, flow, (uint32_t)member, (uint32_t)(member >> 32));
}
