/* ICMP header (RFC 792): type, code, checksum over the whole message, and a
 * 32-bit "rest of header" whose meaning depends on the type. */
#include "wire/wire.h"

#include "core/util.h"

int ust_icmp_parse(const uint8_t *p, size_t len, struct ust_icmp_hdr *h)
{
    if (len < UST_ICMP_HLEN)
        return UST_WIRE_TRUNCATED;
    h->type = p[0];
    h->code = p[1];
    h->csum = ust_get_be16(p + 2);
    h->rest = ust_get_be32(p + 4);
    /* RFC 792: the checksum covers the ICMP message from the type field on. */
    if (ust_inet_csum(p, len) != 0)
        return UST_WIRE_BAD_CSUM;
    return UST_ICMP_HLEN;
}

size_t ust_icmp_emit(uint8_t *p, size_t cap, const struct ust_icmp_hdr *h, size_t payload_len)
{
    if (cap < UST_ICMP_HLEN || cap - UST_ICMP_HLEN < payload_len)
        return 0;
    p[0] = h->type;
    p[1] = h->code;
    ust_put_be16(p + 2, 0);
    ust_put_be32(p + 4, h->rest);
    ust_put_be16(p + 2, ust_inet_csum(p, UST_ICMP_HLEN + payload_len));
    return UST_ICMP_HLEN;
}
