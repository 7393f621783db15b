/* libFuzzer target: ust_arp_parse. A parsed packet re-emits to the same 28
 * bytes and parses back to the same fields; any error is one of the two an
 * ARP parse may give. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wire/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool same(const struct ust_arp_pkt *a, const struct ust_arp_pkt *b)
{
    return a->op == b->op && a->spa == b->spa && a->tpa == b->tpa &&
           memcmp(a->sha, b->sha, UST_ETH_ALEN) == 0 && memcmp(a->tha, b->tha, UST_ETH_ALEN) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ust_arp_pkt a, back;
    uint8_t out[UST_ARP_LEN];

    int r = ust_arp_parse(data, size, &a);
    if (r < 0) {
        if (r != UST_WIRE_TRUNCATED && r != UST_WIRE_UNSUPPORTED)
            abort();
        if (r == UST_WIRE_TRUNCATED && size >= UST_ARP_LEN)
            abort();
        return 0;
    }
    if (r != UST_ARP_LEN || ust_arp_emit(out, sizeof(out), &a) != UST_ARP_LEN)
        abort();
    if (memcmp(out, data, UST_ARP_LEN) != 0)
        abort();
    if (ust_arp_parse(out, sizeof(out), &back) != UST_ARP_LEN || !same(&a, &back))
        abort();
    return 0;
}
