/* ARP packets for Ethernet hardware and IPv4 protocol addresses (RFC 826). */
#include "wire/wire.h"

#include <string.h>

#include "core/util.h"

#define ARP_HRD_ETHER 1  /* ar$hrd for Ethernet */

/* RFC 826 "Packet format": hrd(2) pro(2) hln(1) pln(1) op(2) sha spa tha tpa. */
int ust_arp_parse(const uint8_t *p, size_t len, struct ust_arp_pkt *a)
{
    if (len < UST_ARP_LEN)
        return UST_WIRE_TRUNCATED;
    if (ust_get_be16(p) != ARP_HRD_ETHER || ust_get_be16(p + 2) != UST_ETHERTYPE_IPV4 ||
        p[4] != UST_ETH_ALEN || p[5] != 4)
        return UST_WIRE_UNSUPPORTED;
    a->op = ust_get_be16(p + 6);
    memcpy(a->sha, p + 8, UST_ETH_ALEN);
    a->spa = ust_get_be32(p + 14);
    memcpy(a->tha, p + 18, UST_ETH_ALEN);
    a->tpa = ust_get_be32(p + 24);
    return UST_ARP_LEN;
}

size_t ust_arp_emit(uint8_t *p, size_t cap, const struct ust_arp_pkt *a)
{
    if (cap < UST_ARP_LEN)
        return 0;
    ust_put_be16(p, ARP_HRD_ETHER);
    ust_put_be16(p + 2, UST_ETHERTYPE_IPV4);
    p[4] = UST_ETH_ALEN;
    p[5] = 4;
    ust_put_be16(p + 6, a->op);
    memcpy(p + 8, a->sha, UST_ETH_ALEN);
    ust_put_be32(p + 14, a->spa);
    memcpy(p + 18, a->tha, UST_ETH_ALEN);
    ust_put_be32(p + 24, a->tpa);
    return UST_ARP_LEN;
}
