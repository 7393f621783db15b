/* An intrusive chained hash table, and the keyed hashes that feed it.
 *
 * The table doubles its buckets when count passes nbuckets (load factor 1),
 * up to max_buckets; past that, chains just grow. Growth is best effort: if
 * the larger array cannot be allocated the table keeps working as it is.
 *
 * The hashes are SipHash (Aumasson & Bernstein, "SipHash: a fast short-input
 * PRF", 2012), written from the paper's description: keyed with the stack's
 * secret, a peer that does not know the key cannot choose inputs that land in
 * one bucket. SipHash-1-3 (one compression round, three finalization rounds,
 * as Linux's hsiphash and Python use) for speed; SipHash-2-4 is kept for the
 * paper's test vectors. */
#include "core/htable.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static uint32_t round_up_pow2(uint32_t v)
{
    uint32_t p = 1;
    while (p < v && p < (1u << 31))
        p <<= 1;
    return p;
}

int ust_ht_init(struct ust_htable *ht, uint32_t initial_buckets, uint32_t max_buckets)
{
    uint32_t n = round_up_pow2(initial_buckets ? initial_buckets : 1);
    uint32_t max = round_up_pow2(max_buckets ? max_buckets : 1);
    if (n > max)
        n = max;
    ht->buckets = calloc(n, sizeof(*ht->buckets));
    if (!ht->buckets)
        return -ENOMEM;
    ht->nbuckets = n;
    ht->count = 0;
    ht->max_buckets = max;
    return 0;
}

void ust_ht_fini(struct ust_htable *ht)
{
    free(ht->buckets);
    ht->buckets = NULL;
    ht->nbuckets = 0;
    ht->count = 0;
}

/* Doubles the bucket array, moving every node to its new bucket. */
static void ht_grow(struct ust_htable *ht)
{
    uint32_t n = ht->nbuckets * 2;
    struct ust_hnode **nb = calloc(n, sizeof(*nb));
    if (!nb)
        return;
    for (uint32_t i = 0; i < ht->nbuckets; i++) {
        struct ust_hnode *node = ht->buckets[i];
        while (node) {
            struct ust_hnode *next = node->next;
            struct ust_hnode **b = &nb[node->hash & (n - 1)];
            node->next = *b;
            *b = node;
            node = next;
        }
    }
    free(ht->buckets);
    ht->buckets = nb;
    ht->nbuckets = n;
}

void ust_ht_insert(struct ust_htable *ht, struct ust_hnode *n, uint32_t hash)
{
    struct ust_hnode **b = &ht->buckets[hash & (ht->nbuckets - 1)];
    n->hash = hash;
    n->next = *b;
    *b = n;
    if (++ht->count > ht->nbuckets && ht->nbuckets < ht->max_buckets)
        ht_grow(ht);
}

void ust_ht_remove(struct ust_htable *ht, struct ust_hnode *n)
{
    struct ust_hnode **pp = &ht->buckets[n->hash & (ht->nbuckets - 1)];
    for (; *pp; pp = &(*pp)->next) {
        if (*pp == n) {
            *pp = n->next;
            n->next = NULL;
            ht->count--;
            return;
        }
    }
}

/* ---- SipHash ---- */

static inline uint64_t rotl64(uint64_t x, unsigned b)
{
    return (x << b) | (x >> (64 - b));
}

static inline uint64_t load_le64(const uint8_t *p)
{
    return (uint64_t)p[0] | ((uint64_t)p[1] << 8) | ((uint64_t)p[2] << 16) |
           ((uint64_t)p[3] << 24) | ((uint64_t)p[4] << 32) | ((uint64_t)p[5] << 40) |
           ((uint64_t)p[6] << 48) | ((uint64_t)p[7] << 56);
}

struct sip_state {
    uint64_t v0, v1, v2, v3;
};

/* SipRound: the ARX network of the paper's figure 2. */
static inline void sip_round(struct sip_state *s)
{
    s->v0 += s->v1;
    s->v1 = rotl64(s->v1, 13);
    s->v1 ^= s->v0;
    s->v0 = rotl64(s->v0, 32);
    s->v2 += s->v3;
    s->v3 = rotl64(s->v3, 16);
    s->v3 ^= s->v2;
    s->v0 += s->v3;
    s->v3 = rotl64(s->v3, 21);
    s->v3 ^= s->v0;
    s->v2 += s->v1;
    s->v1 = rotl64(s->v1, 17);
    s->v1 ^= s->v2;
    s->v2 = rotl64(s->v2, 32);
}

static inline void sip_init(struct sip_state *s, const uint64_t key[2])
{
    /* "somepseudorandomlygeneratedbytes" */
    s->v0 = key[0] ^ 0x736f6d6570736575ull;
    s->v1 = key[1] ^ 0x646f72616e646f6dull;
    s->v2 = key[0] ^ 0x6c7967656e657261ull;
    s->v3 = key[1] ^ 0x7465646279746573ull;
}

static inline void sip_compress(struct sip_state *s, uint64_t m, unsigned c_rounds)
{
    s->v3 ^= m;
    for (unsigned i = 0; i < c_rounds; i++)
        sip_round(s);
    s->v0 ^= m;
}

static inline uint64_t sip_finalize(struct sip_state *s, unsigned d_rounds)
{
    s->v2 ^= 0xff;
    for (unsigned i = 0; i < d_rounds; i++)
        sip_round(s);
    return s->v0 ^ s->v1 ^ s->v2 ^ s->v3;
}

/* The message as little-endian 64-bit words; the last word holds the
 * remaining bytes and, in its top byte, the length mod 256. */
static inline uint64_t siphash(const uint64_t key[2], const void *data, size_t len,
                               unsigned c_rounds, unsigned d_rounds)
{
    const uint8_t *p = data;
    struct sip_state s;
    sip_init(&s, key);
    size_t full = len & ~(size_t)7;
    for (size_t i = 0; i < full; i += 8)
        sip_compress(&s, load_le64(p + i), c_rounds);
    uint64_t last = (uint64_t)(len & 0xff) << 56;
    for (size_t i = 0; i < (len & 7); i++)
        last |= (uint64_t)p[full + i] << (8 * i);
    sip_compress(&s, last, c_rounds);
    return sip_finalize(&s, d_rounds);
}

uint64_t ust_siphash13(const uint64_t key[2], const void *data, size_t len)
{
    return siphash(key, data, len, 1, 3);
}

uint64_t ust_siphash24(const uint64_t key[2], const void *data, size_t len)
{
    return siphash(key, data, len, 2, 4);
}

static inline uint32_t fold32(uint64_t h)
{
    return (uint32_t)(h ^ (h >> 32));
}

uint32_t ust_hash_bytes(const uint64_t key[2], const void *data, size_t len)
{
    return fold32(siphash(key, data, len, 1, 3));
}

/* SipHash-1-3 of the 12 bytes a, b, c (each little-endian), without the
 * byte loop: two message words. */
uint32_t ust_hash_u32x3(const uint64_t key[2], uint32_t a, uint32_t b, uint32_t c)
{
    struct sip_state s;
    sip_init(&s, key);
    sip_compress(&s, (uint64_t)a | ((uint64_t)b << 32), 1);
    sip_compress(&s, (uint64_t)c | (12ull << 56), 1);
    return fold32(sip_finalize(&s, 3));
}
