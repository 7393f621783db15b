/* Ethernet II header (IEEE 802.3 clause 3.2.6 "Length/Type" >= 0x0600 is a type). */
#include "wire/wire.h"

#include <string.h>

#include "core/util.h"

const uint8_t ust_eth_broadcast[UST_ETH_ALEN] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

int ust_eth_parse(const uint8_t *p, size_t len, struct ust_eth_hdr *h)
{
    if (len < UST_ETH_HLEN)
        return UST_WIRE_TRUNCATED;
    memcpy(h->dst, p, UST_ETH_ALEN);
    memcpy(h->src, p + 6, UST_ETH_ALEN);
    h->type = ust_get_be16(p + 12);
    return UST_ETH_HLEN;
}

size_t ust_eth_emit(uint8_t *p, size_t cap, const struct ust_eth_hdr *h)
{
    if (cap < UST_ETH_HLEN)
        return 0;
    memcpy(p, h->dst, UST_ETH_ALEN);
    memcpy(p + 6, h->src, UST_ETH_ALEN);
    ust_put_be16(p + 12, h->type);
    return UST_ETH_HLEN;
}
