/* UDP header and checksum (RFC 768; RFC 1122 section 4.1.3.4). */
#include "wire/wire.h"

#include "core/util.h"

int ust_udp_parse(const uint8_t *p, size_t len, struct ust_udp_hdr *h)
{
    if (len < UST_UDP_HLEN)
        return UST_WIRE_TRUNCATED;
    h->sport = ust_get_be16(p);
    h->dport = ust_get_be16(p + 2);
    h->len = ust_get_be16(p + 4);
    h->csum = ust_get_be16(p + 6);
    if (h->len < UST_UDP_HLEN)
        return UST_WIRE_BAD_LENGTH;
    if (h->len > len)
        return UST_WIRE_TRUNCATED;
    return UST_UDP_HLEN;
}

/* RFC 768: "An all zero transmitted checksum value means that the
 * transmitter generated no checksum". */
bool ust_udp_csum_ok(const uint8_t *p, size_t l4_len, uint32_t src, uint32_t dst)
{
    if (l4_len < UST_UDP_HLEN || l4_len > 0xffff)
        return false;
    if (ust_get_be16(p + 6) == 0)
        return true;
    uint32_t sum = ust_csum_pseudo(src, dst, UST_IPPROTO_UDP, (uint16_t)l4_len);
    return ust_csum_fold(ust_csum_partial(p, l4_len, sum)) == 0;
}

size_t ust_udp_emit(uint8_t *p, size_t cap, const struct ust_udp_hdr *h, uint32_t src, uint32_t dst)
{
    if (h->len < UST_UDP_HLEN || cap < h->len)
        return 0;
    ust_put_be16(p, h->sport);
    ust_put_be16(p + 2, h->dport);
    ust_put_be16(p + 4, h->len);
    ust_put_be16(p + 6, 0);
    uint32_t sum = ust_csum_pseudo(src, dst, UST_IPPROTO_UDP, h->len);
    uint16_t csum = ust_csum_fold(ust_csum_partial(p, h->len, sum));
    /* RFC 768: "If the computed checksum is zero, it is transmitted as all ones". */
    ust_put_be16(p + 6, csum == 0 ? 0xffff : csum);
    return UST_UDP_HLEN;
}
