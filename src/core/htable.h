/* An intrusive chained hash table with power-of-two buckets that doubles
 * when the load factor passes 1 (up to a maximum), so lookups stay O(1) as
 * connections grow. Callers compute the hash (ust_hash_* with the stack's
 * secret key, so a peer cannot aim for one bucket) and compare keys
 * themselves while walking a bucket:
 *
 *     for (n = ust_ht_bucket(ht, h); n; n = n->next)
 *         if (n->hash == h && key_matches(container_of(n, ...)))
 */
#ifndef UST_CORE_HTABLE_H
#define UST_CORE_HTABLE_H

#include <stddef.h>
#include <stdint.h>

struct ust_hnode {
    struct ust_hnode *next;
    uint32_t hash;
};

struct ust_htable {
    struct ust_hnode **buckets;
    uint32_t nbuckets;      /* power of two */
    uint32_t count;
    uint32_t max_buckets;
};

int ust_ht_init(struct ust_htable *ht, uint32_t initial_buckets, uint32_t max_buckets);
void ust_ht_fini(struct ust_htable *ht);
void ust_ht_insert(struct ust_htable *ht, struct ust_hnode *n, uint32_t hash);
void ust_ht_remove(struct ust_htable *ht, struct ust_hnode *n);
static inline struct ust_hnode *ust_ht_bucket(const struct ust_htable *ht, uint32_t hash)
{
    return ht->buckets[hash & (ht->nbuckets - 1)];
}

/* Keyed hashes: SipHash-1-3 folded to 32 bits. */
uint32_t ust_hash_bytes(const uint64_t key[2], const void *data, size_t len);
uint32_t ust_hash_u32x3(const uint64_t key[2], uint32_t a, uint32_t b, uint32_t c);
/* The full 64-bit SipHash-1-3 (what ust_hash_bytes folds to 32 bits; also
 * ust_hash_u32x3 of a, b, c as 12 little-endian bytes) and SipHash-2-4 (the
 * paper's reference variant). key[0] and key[1] are the key's bytes 0-7 and
 * 8-15 read little-endian. */
uint64_t ust_siphash13(const uint64_t key[2], const void *data, size_t len);
uint64_t ust_siphash24(const uint64_t key[2], const void *data, size_t len);

#endif
