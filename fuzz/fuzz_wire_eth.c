/* libFuzzer target: ust_eth_parse. A parsed header re-emits to the same 14
 * bytes and parses back to the same fields. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wire/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ust_eth_hdr h, back;
    uint8_t out[UST_ETH_HLEN];

    int r = ust_eth_parse(data, size, &h);
    if (r < 0) {
        if (r != UST_WIRE_TRUNCATED || size >= UST_ETH_HLEN)
            abort();
        return 0;
    }
    if (r != UST_ETH_HLEN || ust_eth_emit(out, sizeof(out), &h) != UST_ETH_HLEN)
        abort();
    if (memcmp(out, data, UST_ETH_HLEN) != 0)
        abort();
    if (ust_eth_parse(out, sizeof(out), &back) != UST_ETH_HLEN || memcmp(&h, &back, sizeof(h)) != 0)
        abort();
    if (ust_eth_emit(out, UST_ETH_HLEN - 1, &h) != 0)
        abort();
    return 0;
}
