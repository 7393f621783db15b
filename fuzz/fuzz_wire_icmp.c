/* libFuzzer target: ust_icmp_parse and ust_icmp_emit. A parsed message
 * re-emitted over its own payload parses back to the same fields; and any
 * header emitted over any payload (the input) always verifies. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "wire/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void emit_and_check(const struct ust_icmp_hdr *h, const uint8_t *payload, size_t plen)
{
    uint8_t *out = malloc(UST_ICMP_HLEN + plen);
    struct ust_icmp_hdr back;

    memcpy(out + UST_ICMP_HLEN, payload, plen);
    if (ust_icmp_emit(out, UST_ICMP_HLEN + plen - 1, h, plen) != 0)
        abort();
    if (ust_icmp_emit(out, UST_ICMP_HLEN + plen, h, plen) != UST_ICMP_HLEN)
        abort();
    if (ust_icmp_parse(out, UST_ICMP_HLEN + plen, &back) != UST_ICMP_HLEN)
        abort();
    if (back.type != h->type || back.code != h->code || back.rest != h->rest)
        abort();
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ust_icmp_hdr h;

    int r = ust_icmp_parse(data, size, &h);
    if (r == UST_ICMP_HLEN) {
        emit_and_check(&h, data + UST_ICMP_HLEN, size - UST_ICMP_HLEN);
    } else if (r != UST_WIRE_BAD_CSUM && !(r == UST_WIRE_TRUNCATED && size < UST_ICMP_HLEN)) {
        abort();
    }
    /* Whatever the input's checksum, our own emission of it must verify. */
    if (size >= UST_ICMP_HLEN) {
        struct ust_icmp_hdr any = {data[0], data[1], 0, ust_get_be32(data + 4)};
        emit_and_check(&any, data + UST_ICMP_HLEN, size - UST_ICMP_HLEN);
    }
    return 0;
}
