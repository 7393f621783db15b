/* libFuzzer target: ust_udp_parse, ust_udp_csum_ok and ust_udp_emit. A parsed
 * header has 8 <= len <= size; re-emitting it over its payload parses back to
 * the same fields with a checksum that verifies and is never 0. Addresses
 * are those of tests/data/wire/wire_linux.cap, so the seeds verify. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "wire/wire.h"

#define SRC 0x0a630001u  /* 10.99.0.1 */
#define DST 0x0a630002u  /* 10.99.0.2 */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ust_udp_hdr h, back;

    int r = ust_udp_parse(data, size, &h);
    if (r < 0) {
        if (r == UST_WIRE_BAD_LENGTH ? h.len >= UST_UDP_HLEN
                                     : r != UST_WIRE_TRUNCATED)
            abort();
        return 0;
    }
    if (r != UST_UDP_HLEN || h.len < UST_UDP_HLEN || h.len > size)
        abort();
    bool ok = ust_udp_csum_ok(data, h.len, SRC, DST);
    if (h.csum == 0 && !ok)
        abort();

    uint8_t *out = malloc(h.len);
    memcpy(out, data, h.len);
    if (ust_udp_emit(out, h.len - 1u, &h, SRC, DST) != 0)
        abort();
    if (ust_udp_emit(out, h.len, &h, SRC, DST) != UST_UDP_HLEN)
        abort();
    if (ust_udp_parse(out, h.len, &back) != UST_UDP_HLEN)
        abort();
    if (back.sport != h.sport || back.dport != h.dport || back.len != h.len || back.csum == 0)
        abort();
    if (!ust_udp_csum_ok(out, h.len, SRC, DST))
        abort();
    /* A non-zero checksum that verified is exactly the one we compute (the
     * pseudo-header is never all zero, so there is a single candidate). */
    if (ok && h.csum != 0 && h.csum != back.csum)
        abort();
    free(out);
    return 0;
}
