/* The Internet checksum (RFC 1071): the 8-bytes-at-a-time ust_csum_partial and
 * ust_csum_copy agree with a byte-by-byte reference over random buffers of
 * every length 0..2000 at every alignment 0..7; partial sums compose when
 * split at even offsets, and ust_csum_block_add composes them at odd offsets;
 * the RFC 1071 worked example, the pseudo-header and fold edge cases. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/util.h"
#include "wire/wire.h"

#define MAXLEN 2000

/* Deterministic xorshift64 so every run sees the same bytes. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint8_t rnd8(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint8_t)(rng_state >> 24);
}

static void fill_random(uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = rnd8();
}

/* RFC 1071 by the book: big-endian 16-bit words, odd byte padded with zero,
 * end-around carry, result in [0, 0xffff] and 0 only for all-zero input. */
static uint32_t ref_sum(const uint8_t *p, size_t len, uint32_t sum)
{
    uint64_t s = sum;
    for (size_t i = 0; i < len; i++)
        s += (i & 1) ? p[i] : (uint32_t)p[i] << 8;
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint32_t)s;
}

static void test_partial_matches_reference_every_length_and_alignment(void **state)
{
    (void)state;
    static uint8_t buf[MAXLEN + 16];
    fill_random(buf, sizeof(buf));
    for (size_t align = 0; align < 8; align++) {
        for (size_t len = 0; len <= MAXLEN; len++) {
            uint32_t want = ref_sum(buf + align, len, 0);
            assert_int_equal(ust_csum_partial(buf + align, len, 0), want);
            assert_int_equal(ust_inet_csum(buf + align, len), (uint16_t)~want);
        }
    }
}

static void test_partial_adds_incoming_sum(void **state)
{
    (void)state;
    uint8_t buf[301];
    fill_random(buf, sizeof(buf));
    const uint32_t seeds[] = {0, 1, 0xffff, 0x12345, 0xfffffff0u, 0xffffffffu};
    for (size_t i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++)
        for (size_t len = 0; len <= sizeof(buf); len += 7)
            assert_int_equal(ust_csum_partial(buf, len, seeds[i]), ref_sum(buf, len, seeds[i]));
}

static void test_all_ones_buffers_do_not_overflow(void **state)
{
    (void)state;
    /* Worst case for carries: every 64-bit add overflows. */
    static uint8_t buf[65536 + 8];
    memset(buf, 0xff, sizeof(buf));
    for (size_t len = 65530; len <= sizeof(buf); len++)
        assert_int_equal(ust_csum_partial(buf, len, 0), ref_sum(buf, len, 0));
    memset(buf, 0, sizeof(buf));
    assert_int_equal(ust_csum_partial(buf, sizeof(buf), 0), 0);
    assert_int_equal(ust_inet_csum(buf, sizeof(buf)), 0xffff);
}

static void test_copy_copies_and_sums_every_length_and_alignment(void **state)
{
    (void)state;
    static uint8_t src[MAXLEN + 16], dst[MAXLEN + 32];
    fill_random(src, sizeof(src));
    for (size_t salign = 0; salign < 8; salign += 3) {
        for (size_t dalign = 0; dalign < 8; dalign++) {
            for (size_t len = 0; len <= MAXLEN; len += (len < 64 ? 1 : 13)) {
                memset(dst, 0xa5, sizeof(dst));
                uint32_t got = ust_csum_copy(dst + dalign, src + salign, len, 7);
                assert_int_equal(got, ref_sum(src + salign, len, 7));
                assert_memory_equal(dst + dalign, src + salign, len);
                /* Not a byte written outside [dalign, dalign + len). */
                for (size_t i = 0; i < dalign; i++)
                    assert_int_equal(dst[i], 0xa5);
                for (size_t i = dalign + len; i < sizeof(dst); i++)
                    assert_int_equal(dst[i], 0xa5);
            }
        }
    }
}

static void test_split_at_even_offsets_composes(void **state)
{
    (void)state;
    static uint8_t buf[MAXLEN];
    fill_random(buf, sizeof(buf));
    for (size_t len = 0; len <= 600; len++) {
        uint32_t whole = ust_csum_partial(buf, len, 0);
        for (size_t cut = 0; cut <= len; cut += 2) {
            uint32_t s = ust_csum_partial(buf, cut, 0);
            assert_int_equal(ust_csum_partial(buf + cut, len - cut, s), whole);
            /* And the copy variant chains the same way. */
            uint8_t out[600];
            s = ust_csum_copy(out, buf, cut, 0);
            assert_int_equal(ust_csum_copy(out + cut, buf + cut, len - cut, s), whole);
        }
    }
    /* Three pieces, the last of odd length (a segment's payload). */
    uint32_t s = ust_csum_partial(buf, 20, 0);
    s = ust_csum_partial(buf + 20, 1000, s);
    s = ust_csum_partial(buf + 1020, 977, s);
    assert_int_equal(s, ust_csum_partial(buf, 1997, 0));
}

static void test_split_at_odd_offsets_needs_block_add(void **state)
{
    (void)state;
    static uint8_t buf[MAXLEN];
    fill_random(buf, sizeof(buf));
    int chaining_differs = 0;
    for (size_t len = 2; len <= 500; len++) {
        uint32_t whole = ust_csum_partial(buf, len, 0);
        for (size_t cut = 1; cut < len; cut += 2) {
            uint32_t a = ust_csum_partial(buf, cut, 0);
            uint32_t b = ust_csum_partial(buf + cut, len - cut, 0);
            assert_int_equal(ust_csum_block_add(a, b, cut), whole);
            /* Naive chaining at an odd offset is wrong (that is the point). */
            chaining_differs |= ust_csum_partial(buf + cut, len - cut, a) != whole;
        }
        /* Even offsets: block_add is plain addition. */
        for (size_t cut = 0; cut <= len; cut += 2) {
            uint32_t a = ust_csum_partial(buf, cut, 0);
            uint32_t b = ust_csum_partial(buf + cut, len - cut, 0);
            assert_int_equal(ust_csum_block_add(a, b, cut), whole);
        }
    }
    assert_true(chaining_differs);
    /* Many pieces of random odd and even sizes, each summed on its own. */
    for (int round = 0; round < 200; round++) {
        size_t off = 0, len = 1 + (size_t)rnd8() * 7;
        uint32_t sum = 0;
        while (off < len) {
            size_t n = (size_t)1 + rnd8() % 37;
            n = UST_MIN(n, len - off);
            sum = ust_csum_block_add(sum, ust_csum_partial(buf + off, n, 0), off);
            off += n;
        }
        assert_int_equal(sum, ust_csum_partial(buf, len, 0));
    }
}

/* RFC 1071 section 3, "Numerical Examples": bytes 00 01 f2 03 f4 f5 f6 f7
 * sum to ddf2 (big-endian words), so the checksum is ~ddf2 = 220d. */
static void test_rfc1071_example(void **state)
{
    (void)state;
    const uint8_t b[8] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
    assert_int_equal(ust_csum_partial(b, 8, 0), 0xddf2);
    assert_int_equal(ust_inet_csum(b, 8), 0x220d);
    /* Odd length: the last byte is the high half of a word. */
    const uint8_t c[3] = {0x12, 0x34, 0x56};
    assert_int_equal(ust_csum_partial(c, 3, 0), 0x1234 + 0x5600);
}

static void test_fold_and_pseudo_header(void **state)
{
    (void)state;
    assert_int_equal(ust_csum_fold(0), 0xffff);
    assert_int_equal(ust_csum_fold(0xffff), 0);
    assert_int_equal(ust_csum_fold(0x1ffff), (uint16_t)~0x0001);  /* 0xffff + 1 carry -> 1 */
    assert_int_equal(ust_csum_fold(0xffffffffu), 0);
    assert_int_equal(ust_csum_fold(0x0001fffeu), (uint16_t)~0xffff);

    /* The pseudo-header equals summing its 12 wire bytes (RFC 768). */
    const uint32_t src = 0x0a630001, dst = 0xc0a8fffe;
    const uint8_t ph[12] = {0x0a, 0x63, 0x00, 0x01, 0xc0, 0xa8, 0xff, 0xfe, 0, 17, 0x05, 0xdc};
    assert_int_equal(ust_csum_pseudo(src, dst, UST_IPPROTO_UDP, 1500), ref_sum(ph, 12, 0));
    assert_int_equal(ust_csum_pseudo(0xffffffffu, 0xffffffffu, 0xff, 0xffff),
                     ref_sum((const uint8_t[12]){0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                                 0, 0xff, 0xff, 0xff}, 12, 0));
}

/* A header with its checksum in place sums to 0xffff (verifies as 0). */
static void test_checksum_in_place_verifies(void **state)
{
    (void)state;
    uint8_t buf[64];
    for (size_t len = 4; len <= sizeof(buf); len += 2) {
        fill_random(buf, len);
        buf[2] = buf[3] = 0;
        uint16_t c = ust_inet_csum(buf, len);
        buf[2] = (uint8_t)(c >> 8);
        buf[3] = (uint8_t)c;
        assert_int_equal(ust_inet_csum(buf, len), 0);
        buf[len - 1] ^= 0x10;  /* a flipped bit is caught */
        assert_int_not_equal(ust_inet_csum(buf, len), 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_partial_matches_reference_every_length_and_alignment),
        cmocka_unit_test(test_partial_adds_incoming_sum),
        cmocka_unit_test(test_all_ones_buffers_do_not_overflow),
        cmocka_unit_test(test_copy_copies_and_sums_every_length_and_alignment),
        cmocka_unit_test(test_split_at_even_offsets_composes),
        cmocka_unit_test(test_split_at_odd_offsets_needs_block_add),
        cmocka_unit_test(test_rfc1071_example),
        cmocka_unit_test(test_fold_and_pseudo_header),
        cmocka_unit_test(test_checksum_in_place_verifies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
