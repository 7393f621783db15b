/* libFuzzer target: ust_ipv4_parse. On success the header is consistent
 * (20 <= hlen <= total_len <= size, checksum verifies); emitting the parsed
 * struct (20 bytes, options dropped) in front of the same payload parses back
 * to the same fields; and a 20-byte input header re-emits byte for byte
 * (checksum aside: 0x0000 and 0xffff both verify in one's complement). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wire/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_same(const struct ust_ipv4_hdr *a, const struct ust_ipv4_hdr *b)
{
    if (a->tos != b->tos || a->id != b->id || a->frag != b->frag || a->ttl != b->ttl ||
        a->proto != b->proto || a->src != b->src || a->dst != b->dst)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ust_ipv4_hdr h, back;

    int r = ust_ipv4_parse(data, size, &h);
    if (r < 0) {
        if (r < UST_WIRE_UNSUPPORTED || r == UST_WIRE_UNSUPPORTED)
            abort();
        return 0;
    }
    if (r != h.hlen || h.hlen < UST_IPV4_MIN_HLEN || h.hlen > UST_IPV4_MAX_HLEN ||
        h.total_len < h.hlen || h.total_len > size || ust_inet_csum(data, h.hlen) != 0)
        abort();

    size_t payload = (size_t)h.total_len - h.hlen;
    uint8_t *out = malloc(UST_IPV4_MIN_HLEN + payload);
    struct ust_ipv4_hdr copy = h;
    copy.total_len = (uint16_t)(UST_IPV4_MIN_HLEN + payload);
    if (ust_ipv4_emit(out, UST_IPV4_MIN_HLEN - 1, &copy) != 0)
        abort();
    if (ust_ipv4_emit(out, UST_IPV4_MIN_HLEN + payload, &copy) != UST_IPV4_MIN_HLEN)
        abort();
    memcpy(out + UST_IPV4_MIN_HLEN, data + h.hlen, payload);
    if (ust_ipv4_parse(out, UST_IPV4_MIN_HLEN + payload, &back) != UST_IPV4_MIN_HLEN)
        abort();
    check_same(&h, &back);
    if (back.total_len != copy.total_len)
        abort();
    if (h.hlen == UST_IPV4_MIN_HLEN &&
        (memcmp(out, data, 10) != 0 || memcmp(out + 12, data + 12, 8) != 0))
        abort();
    free(out);
    return 0;
}
