/* The hash table: sizing, growth up to max_buckets, 100k inserts/lookups/
 * removes, removal while walking buckets (how callers expire entries), and
 * the keyed hashes (SipHash test vectors from the paper, key dependence,
 * spread over buckets). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/htable.h"
#include "core/util.h"

struct entry {
    struct ust_hnode node;
    uint32_t a, b, c;       /* key: like an address/port tuple */
    int live;
};

static const uint64_t key[2] = {0x0123456789abcdefull, 0xfedcba9876543210ull};

static uint32_t entry_hash(uint32_t a, uint32_t b, uint32_t c)
{
    return ust_hash_u32x3(key, a, b, c);
}

static struct entry *lookup(const struct ust_htable *ht, uint32_t a, uint32_t b, uint32_t c)
{
    uint32_t h = entry_hash(a, b, c);
    for (struct ust_hnode *n = ust_ht_bucket(ht, h); n; n = n->next) {
        struct entry *e = ust_container_of(n, struct entry, node);
        if (n->hash == h && e->a == a && e->b == b && e->c == c)
            return e;
    }
    return NULL;
}

static void insert(struct ust_htable *ht, struct entry *e)
{
    ust_ht_insert(ht, &e->node, entry_hash(e->a, e->b, e->c));
    e->live = 1;
}

/* Counts nodes by walking every bucket, checking each is in the right one. */
static uint32_t walk_count(const struct ust_htable *ht)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < ht->nbuckets; i++)
        for (struct ust_hnode *x = ht->buckets[i]; x; x = x->next) {
            assert_int_equal(x->hash & (ht->nbuckets - 1), i);
            n++;
        }
    return n;
}

static void test_init_rounds_to_powers_of_two(void **state)
{
    (void)state;
    struct ust_htable ht;
    assert_int_equal(ust_ht_init(&ht, 100, 1000), 0);
    assert_int_equal(ht.nbuckets, 128);
    assert_int_equal(ht.max_buckets, 1024);
    assert_int_equal(ht.count, 0);
    for (uint32_t i = 0; i < ht.nbuckets; i++)
        assert_null(ht.buckets[i]);
    ust_ht_fini(&ht);
    assert_null(ht.buckets);

    assert_int_equal(ust_ht_init(&ht, 0, 0), 0);    /* degenerate: one bucket */
    assert_int_equal(ht.nbuckets, 1);
    ust_ht_fini(&ht);
    assert_int_equal(ust_ht_init(&ht, 64, 16), 0);  /* initial capped by max */
    assert_int_equal(ht.nbuckets, 16);
    ust_ht_fini(&ht);
}

static void test_100k_insert_lookup_remove_with_growth(void **state)
{
    (void)state;
    enum { N = 100000 };
    struct ust_htable ht;
    assert_int_equal(ust_ht_init(&ht, 16, 1u << 20), 0);
    struct entry *e = calloc(N, sizeof(*e));
    assert_non_null(e);
    for (uint32_t i = 0; i < N; i++) {
        e[i].a = 0x0a000000 + i / 7;
        e[i].b = i % 7;
        e[i].c = 80;
        insert(&ht, &e[i]);
        assert_true(ht.count <= ht.nbuckets);       /* load factor <= 1 */
    }
    assert_int_equal(ht.count, N);
    assert_int_equal(ht.nbuckets, 131072);
    assert_int_equal(walk_count(&ht), N);
    for (uint32_t i = 0; i < N; i++)
        assert_ptr_equal(lookup(&ht, e[i].a, e[i].b, e[i].c), &e[i]);
    assert_null(lookup(&ht, 1, 2, 3));

    /* Remove every other one (in a scrambled order), then check both halves. */
    for (uint32_t k = 0; k < N; k++) {
        uint32_t i = (uint32_t)(((uint64_t)k * 40503u) % N);
        if (i % 2 == 0) {
            ust_ht_remove(&ht, &e[i].node);
            e[i].live = 0;
        }
    }
    assert_int_equal(ht.count, N / 2);
    assert_int_equal(walk_count(&ht), N / 2);
    for (uint32_t i = 0; i < N; i++) {
        struct entry *f = lookup(&ht, e[i].a, e[i].b, e[i].c);
        if (e[i].live)
            assert_ptr_equal(f, &e[i]);
        else
            assert_null(f);
    }
    /* Reinsert: the same nodes can go back in. */
    for (uint32_t i = 0; i < N; i += 2)
        insert(&ht, &e[i]);
    assert_int_equal(ht.count, N);
    for (uint32_t i = 0; i < N; i++)
        assert_ptr_equal(lookup(&ht, e[i].a, e[i].b, e[i].c), &e[i]);
    ust_ht_fini(&ht);
    free(e);
}

static void test_growth_stops_at_max_buckets(void **state)
{
    (void)state;
    enum { N = 5000 };
    struct ust_htable ht;
    assert_int_equal(ust_ht_init(&ht, 4, 64), 0);
    struct entry *e = calloc(N, sizeof(*e));
    assert_non_null(e);
    for (uint32_t i = 0; i < N; i++) {
        e[i].a = i;
        insert(&ht, &e[i]);
    }
    assert_int_equal(ht.nbuckets, 64);
    assert_int_equal(ht.count, N);
    assert_int_equal(walk_count(&ht), N);
    for (uint32_t i = 0; i < N; i++)
        assert_ptr_equal(lookup(&ht, i, 0, 0), &e[i]);
    ust_ht_fini(&ht);
    free(e);
}

static void test_remove_while_walking_buckets(void **state)
{
    (void)state;
    enum { N = 3000 };
    struct ust_htable ht;
    assert_int_equal(ust_ht_init(&ht, 8, 256), 0);  /* long chains past 256 */
    struct entry *e = calloc(N, sizeof(*e));
    assert_non_null(e);
    for (uint32_t i = 0; i < N; i++) {
        e[i].a = i;
        insert(&ht, &e[i]);
    }
    /* The expiry pattern: save next before removing the current node. */
    for (uint32_t b = 0; b < ht.nbuckets; b++) {
        struct ust_hnode *n = ht.buckets[b], *next;
        for (; n; n = next) {
            next = n->next;
            struct entry *x = ust_container_of(n, struct entry, node);
            if (x->a % 3 != 0) {
                ust_ht_remove(&ht, n);
                assert_null(n->next);
                x->live = 0;
            }
        }
    }
    assert_int_equal(ht.count, N / 3);
    assert_int_equal(walk_count(&ht), N / 3);
    for (uint32_t i = 0; i < N; i++) {
        if (i % 3 == 0)
            assert_ptr_equal(lookup(&ht, i, 0, 0), &e[i]);
        else
            assert_null(lookup(&ht, i, 0, 0));
    }
    /* Teardown pattern: remove everything, head first. */
    for (uint32_t b = 0; b < ht.nbuckets; b++)
        while (ht.buckets[b])
            ust_ht_remove(&ht, ht.buckets[b]);
    assert_int_equal(ht.count, 0);
    /* Removing a node that is not in the table changes nothing. */
    struct entry stray = {.a = 5};
    stray.node.hash = entry_hash(5, 0, 0);
    stray.node.next = NULL;
    ust_ht_remove(&ht, &stray.node);
    assert_int_equal(ht.count, 0);
    ust_ht_fini(&ht);
    free(e);
}

/* Test vectors of the SipHash paper (appendix A) and of its reference
 * implementation: key 00 01 .. 0f, message 00 01 .. (len-1). */
static void test_siphash24_reference_vectors(void **state)
{
    (void)state;
    const uint64_t k[2] = {0x0706050403020100ull, 0x0f0e0d0c0b0a0908ull};
    uint8_t msg[64];
    for (int i = 0; i < 64; i++)
        msg[i] = (uint8_t)i;
    assert_int_equal(ust_siphash24(k, msg, 0), 0x726fdb47dd0e0e31ull);
    assert_int_equal(ust_siphash24(k, msg, 1), 0x74f839c593dc67fdull);
    assert_int_equal(ust_siphash24(k, msg, 2), 0x0d6c8009d9a94f5aull);
    assert_int_equal(ust_siphash24(k, msg, 8), 0x93f5f5799a932462ull);
    assert_int_equal(ust_siphash24(k, msg, 15), 0xa129ca6149be45e5ull);
}

static void test_hash_functions_agree_and_depend_on_key(void **state)
{
    (void)state;
    uint8_t b[12];
    uint32_t a = 0xc0a80001, p = 0x1f90d431, c = 0x00000006;
    for (int i = 0; i < 4; i++) {
        b[i] = (uint8_t)(a >> (8 * i));
        b[4 + i] = (uint8_t)(p >> (8 * i));
        b[8 + i] = (uint8_t)(c >> (8 * i));
    }
    uint64_t h64 = ust_siphash13(key, b, sizeof(b));
    assert_int_equal(ust_hash_bytes(key, b, sizeof(b)), (uint32_t)(h64 ^ (h64 >> 32)));
    assert_int_equal(ust_hash_u32x3(key, a, p, c), ust_hash_bytes(key, b, sizeof(b)));
    assert_int_not_equal(ust_siphash13(key, b, sizeof(b)), ust_siphash24(key, b, sizeof(b)));

    /* Another key, another hash; one input bit, another hash. */
    const uint64_t key2[2] = {key[0] ^ 1, key[1]};
    assert_int_not_equal(ust_hash_u32x3(key, a, p, c), ust_hash_u32x3(key2, a, p, c));
    assert_int_not_equal(ust_hash_u32x3(key, a, p, c), ust_hash_u32x3(key, a, p, c ^ 0x100));
    /* Length is part of the input (trailing zero bytes matter). */
    uint8_t z[16] = {0};
    for (size_t n = 0; n < 16; n++)
        assert_int_not_equal(ust_hash_bytes(key, z, n), ust_hash_bytes(key, z, n + 1));
    /* Deterministic for a fixed key. */
    assert_int_equal(ust_hash_bytes(key, "ustack", 6), ust_hash_bytes(key, "ustack", 6));
}

/* Sequential tuples (what a scan by one peer produces) spread evenly. */
static void test_hash_spreads_sequential_keys(void **state)
{
    (void)state;
    enum { BUCKETS = 1024, N = 1024 * 64 };
    uint32_t *cnt = calloc(BUCKETS, sizeof(*cnt));
    assert_non_null(cnt);
    for (uint32_t i = 0; i < N; i++)
        cnt[ust_hash_u32x3(key, 0x0a000001, 0x0a000002, (i << 16) | 80) & (BUCKETS - 1)]++;
    double chi2 = 0;
    uint32_t max = 0;
    for (int i = 0; i < BUCKETS; i++) {
        double d = (double)cnt[i] - 64.0;
        chi2 += d * d / 64.0;
        if (cnt[i] > max)
            max = cnt[i];
    }
    /* 1023 degrees of freedom: mean 1023, sd ~45; these bounds are > 6 sd. */
    assert_true(chi2 > 750 && chi2 < 1300);
    assert_true(max < 128);
    free(cnt);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_rounds_to_powers_of_two),
        cmocka_unit_test(test_100k_insert_lookup_remove_with_growth),
        cmocka_unit_test(test_growth_stops_at_max_buckets),
        cmocka_unit_test(test_remove_while_walking_buckets),
        cmocka_unit_test(test_siphash24_reference_vectors),
        cmocka_unit_test(test_hash_functions_agree_and_depend_on_key),
        cmocka_unit_test(test_hash_spreads_sequential_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
