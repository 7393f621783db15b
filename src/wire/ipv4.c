/* IPv4 header (RFC 791 section 3.1); options are checked for well-formedness
 * and skipped, never interpreted (RFC 1122 section 3.2.1.8 lets a host ignore
 * the ones it does not implement). */
#include "wire/wire.h"

#include "core/util.h"

#define IPOPT_EOL 0  /* end of option list */
#define IPOPT_NOP 1  /* no operation */

/* RFC 791 "Options": EOL and NOP are one byte; every other option is
 * type, length (counting type and length, so >= 2), data. */
static int walk_options(const uint8_t *opt, size_t len)
{
    size_t i = 0;

    while (i < len) {
        uint8_t type = opt[i];
        if (type == IPOPT_EOL)
            break;
        if (type == IPOPT_NOP) {
            i++;
            continue;
        }
        if (len - i < 2 || opt[i + 1] < 2 || opt[i + 1] > len - i)
            return UST_WIRE_BAD_OPTION;
        i += opt[i + 1];
    }
    return 0;
}

/* The fixed 20 bytes into h; p holds at least UST_IPV4_MIN_HLEN bytes. */
static void read_fixed_header(const uint8_t *p, struct ust_ipv4_hdr *h)
{
    h->hlen = (uint8_t)((p[0] & 0x0f) * 4);
    h->tos = p[1];
    h->total_len = ust_get_be16(p + 2);
    h->id = ust_get_be16(p + 4);
    h->frag = ust_get_be16(p + 6);
    h->ttl = p[8];
    h->proto = p[9];
    h->csum = ust_get_be16(p + 10);
    h->src = ust_get_be32(p + 12);
    h->dst = ust_get_be32(p + 16);
}

int ust_ipv4_parse_quoted(const uint8_t *p, size_t len, struct ust_ipv4_hdr *h)
{
    if (len < UST_IPV4_MIN_HLEN)
        return UST_WIRE_TRUNCATED;
    if (p[0] >> 4 != 4)
        return UST_WIRE_BAD_VERSION;
    read_fixed_header(p, h);
    if (h->hlen < UST_IPV4_MIN_HLEN)
        return UST_WIRE_BAD_LENGTH;
    if (h->hlen > len)
        return UST_WIRE_TRUNCATED;
    return h->hlen;
}

int ust_ipv4_parse(const uint8_t *p, size_t len, struct ust_ipv4_hdr *h)
{
    if (len < UST_IPV4_MIN_HLEN)
        return UST_WIRE_TRUNCATED;
    if (p[0] >> 4 != 4)
        return UST_WIRE_BAD_VERSION;
    read_fixed_header(p, h);

    /* Checks in the order of Linux's ip_rcv_core, so counters agree with it. */
    if (h->hlen < UST_IPV4_MIN_HLEN)
        return UST_WIRE_BAD_LENGTH;
    if (h->hlen > len)
        return UST_WIRE_TRUNCATED;
    /* RFC 791 "Header Checksum": the sum over the header, field included, is 0. */
    if (ust_inet_csum(p, h->hlen) != 0)
        return UST_WIRE_BAD_CSUM;
    if (h->total_len > len)
        return UST_WIRE_TRUNCATED;
    if (h->total_len < h->hlen)
        return UST_WIRE_BAD_LENGTH;
    int err = walk_options(p + UST_IPV4_MIN_HLEN, h->hlen - UST_IPV4_MIN_HLEN);
    if (err)
        return err;
    return h->hlen;
}

size_t ust_ipv4_emit(uint8_t *p, size_t cap, const struct ust_ipv4_hdr *h)
{
    if (cap < UST_IPV4_MIN_HLEN)
        return 0;
    p[0] = 0x45;  /* version 4, IHL 5 */
    p[1] = h->tos;
    ust_put_be16(p + 2, h->total_len);
    ust_put_be16(p + 4, h->id);
    ust_put_be16(p + 6, h->frag);
    p[8] = h->ttl;
    p[9] = h->proto;
    ust_put_be16(p + 10, 0);
    ust_put_be32(p + 12, h->src);
    ust_put_be32(p + 16, h->dst);
    ust_put_be16(p + 10, ust_inet_csum(p, UST_IPV4_MIN_HLEN));
    return UST_IPV4_MIN_HLEN;
}
