/* The Internet checksum (RFC 1071): one's-complement sum of 16-bit words.
 *
 * The sum is byte-order independent (RFC 1071 section 2(B)): we add native
 * 64-bit loads with end-around carry, fold to 16 bits and byte-swap once at
 * the end on little-endian hosts. Loads go through memcpy, so any alignment
 * works and the compiler emits plain (unaligned) 8-byte moves.
 *
 * Every partial sum returned here is canonical: folded to 16 bits, and 0 only
 * when all the bytes summed (and the incoming sum) were zero. So summing a
 * buffer in pieces split at even offsets gives exactly the same value as
 * summing it whole. */
#include "wire/wire.h"

#include <string.h>

#include "core/util.h"

/* a + b with the carry out of bit 63 added back in (end-around carry). */
static inline uint64_t add_ec64(uint64_t a, uint64_t b)
{
    uint64_t s = a + b;
    return s + (s < b);
}

/* End-around-carry fold of a 64-bit sum to 16 bits. */
static inline uint32_t fold64(uint64_t s)
{
    s = (s & 0xffffffffu) + (s >> 32);  /* <= 2^33 - 2 */
    s = (s & 0xffffu) + (s >> 16);      /* <= 2^17 + 2^16 - 2 */
    s = (s & 0xffffu) + (s >> 16);      /* <= 0xffff + 2 */
    s = (s & 0xffffu) + (s >> 16);      /* <= 0xffff */
    return (uint32_t)s;
}

/* A native-order 16-bit sum as the sum of big-endian words. */
static inline uint32_t native_to_be16(uint32_t s)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    return ((s & 0xffu) << 8) | (s >> 8);
#else
    return s;
#endif
}

static inline uint64_t load64(const uint8_t *p)
{
    uint64_t w;
    memcpy(&w, p, sizeof(w));
    return w;
}

/* The trailing n < 8 bytes, zero-padded: an odd last byte becomes the high
 * byte of a big-endian word, as RFC 1071 asks, because the tail starts at an
 * even offset. */
static inline uint64_t load_tail(const uint8_t *p, size_t n)
{
    uint64_t w = 0;
    memcpy(&w, p, n);
    return w;
}

/* Adds a big-endian-semantics partial sum to a native 64-bit accumulator
 * result and returns the canonical partial. */
static uint32_t finish(uint64_t acc, uint32_t sum)
{
    uint64_t s = (uint64_t)native_to_be16(fold64(acc)) + sum;
    return fold64(s);
}

uint32_t ust_csum_partial(const void *data, size_t len, uint32_t sum)
{
    const uint8_t *p = data;
    uint64_t acc = 0;

    for (; len >= 32; p += 32, len -= 32) {
        acc = add_ec64(acc, load64(p));
        acc = add_ec64(acc, load64(p + 8));
        acc = add_ec64(acc, load64(p + 16));
        acc = add_ec64(acc, load64(p + 24));
    }
    for (; len >= 8; p += 8, len -= 8)
        acc = add_ec64(acc, load64(p));
    if (len)
        acc = add_ec64(acc, load_tail(p, len));
    return finish(acc, sum);
}

uint32_t ust_csum_copy(void *dst, const void *src, size_t len, uint32_t sum)
{
    uint8_t *d = dst;
    const uint8_t *s = src;
    uint64_t acc = 0;

    for (; len >= 8; s += 8, d += 8, len -= 8) {
        uint64_t w = load64(s);
        memcpy(d, &w, sizeof(w));
        acc = add_ec64(acc, w);
    }
    if (len) {
        uint64_t w = load_tail(s, len);
        memcpy(d, &w, len);
        acc = add_ec64(acc, w);
    }
    return finish(acc, sum);
}

uint32_t ust_csum_block_add(uint32_t sum, uint32_t block, size_t offset)
{
    block = fold64(block);
    if (offset & 1)  /* the block's bytes sit in the other half of each word */
        block = ((block & 0xffu) << 8) | (block >> 8);
    return fold64((uint64_t)sum + block);
}

uint16_t ust_csum_fold(uint32_t sum)
{
    return (uint16_t)~fold64(sum);
}

/* RFC 793 section 3.1 / RFC 768: src, dst, zero+protocol, length. */
uint32_t ust_csum_pseudo(uint32_t src, uint32_t dst, uint8_t proto, uint16_t l4_len)
{
    uint64_t s = (uint64_t)(src >> 16) + (src & 0xffffu) + (dst >> 16) + (dst & 0xffffu) +
                 proto + l4_len;
    return fold64(s);
}

uint16_t ust_inet_csum(const void *data, size_t len)
{
    return ust_csum_fold(ust_csum_partial(data, len, 0));
}
