/* TCP header (RFC 9293 section 3.1) and its options: MSS (RFC 9293 3.2),
 * window scale and timestamps (RFC 7323), SACK-permitted and SACK (RFC 2018).
 *
 * Parsing reports every option it finds whatever the flags (deciding that
 * MSS, window scale and SACK-permitted only count on a SYN is the TCP layer's
 * job). Emitting uses Linux's layout (tcp_options_write), so a segment built
 * here looks byte for byte like one from Linux:
 *   MSS                      02 04 mss
 *   SACK-perm + timestamps   04 02 08 0a tsval tsecr   (NOP NOP 08 0a without SACK-perm)
 *   SACK-perm alone          01 01 04 02
 *   window scale             01 03 03 shift
 *   SACK blocks              01 01 05 len left right ... */
#include "wire/wire.h"

#include <string.h>

#include "core/util.h"

#define TCP_MAX_OPTLEN (UST_TCP_MAX_HLEN - UST_TCP_MIN_HLEN)  /* 40 */
#define TCPOLEN_MSS 4
#define TCPOLEN_WSCALE 3
#define TCPOLEN_SACK_PERM 2
#define TCPOLEN_TIMESTAMP 10
#define TCPOLEN_SACK_BASE 2
#define TCPOLEN_SACK_PERBLOCK 8

/* ---- parsing ---------------------------------------------------------- */

/* Stores one option of kind `kind` whose data is d[0..dlen). A known option
 * with the wrong length is ignored, as Linux's tcp_parse_options does. */
static void take_option(struct ust_tcp_opts *o, uint8_t kind, const uint8_t *d, size_t dlen)
{
    size_t optlen = dlen + 2;

    switch (kind) {
    case UST_TCPOPT_MSS:
        if (optlen == TCPOLEN_MSS) {
            o->mss = ust_get_be16(d);
            o->present |= UST_TCPO_MSS;
        }
        break;
    case UST_TCPOPT_WSCALE:
        if (optlen == TCPOLEN_WSCALE) {
            o->wscale = d[0];
            o->present |= UST_TCPO_WSCALE;
        }
        break;
    case UST_TCPOPT_SACK_PERM:
        if (optlen == TCPOLEN_SACK_PERM)
            o->present |= UST_TCPO_SACK_PERM;
        break;
    case UST_TCPOPT_TIMESTAMP:
        if (optlen == TCPOLEN_TIMESTAMP) {
            o->tsval = ust_get_be32(d);
            o->tsecr = ust_get_be32(d + 4);
            o->present |= UST_TCPO_TIMESTAMP;
        }
        break;
    case UST_TCPOPT_SACK: {
        /* RFC 2018 section 3: length 2 + 8n, n blocks of left, right edge. */
        size_t n = dlen / TCPOLEN_SACK_PERBLOCK;
        if (dlen == 0 || dlen % TCPOLEN_SACK_PERBLOCK != 0 || n > UST_TCP_MAX_SACK)
            break;
        for (size_t i = 0; i < n; i++) {
            o->sack[i].left = ust_get_be32(d + 8 * i);
            o->sack[i].right = ust_get_be32(d + 8 * i + 4);
        }
        o->nsack = (uint8_t)n;
        o->present |= UST_TCPO_SACK;
        break;
    }
    default:
        break;  /* unknown: skipped by its length */
    }
}

/* RFC 9293 section 3.1 "Options": EOL and NOP are single bytes; any other
 * option is kind, length (>= 2, counting kind and length), data. Every step
 * advances at least one byte, so the walk always ends. */
static int parse_options(const uint8_t *opt, size_t len, struct ust_tcp_opts *o)
{
    size_t i = 0;

    while (i < len) {
        uint8_t kind = opt[i];
        if (kind == UST_TCPOPT_EOL)
            break;
        if (kind == UST_TCPOPT_NOP) {
            i++;
            continue;
        }
        if (len - i < 2)
            return UST_WIRE_BAD_OPTION;  /* no room for the length byte */
        uint8_t optlen = opt[i + 1];
        if (optlen < 2 || optlen > len - i)
            return UST_WIRE_BAD_OPTION;
        take_option(o, kind, opt + i + 2, optlen - 2u);
        i += optlen;
    }
    return 0;
}

int ust_tcp_parse(const uint8_t *p, size_t len, struct ust_tcp_hdr *h)
{
    if (len < UST_TCP_MIN_HLEN)
        return UST_WIRE_TRUNCATED;
    memset(h, 0, sizeof(*h));
    h->sport = ust_get_be16(p);
    h->dport = ust_get_be16(p + 2);
    h->seq = ust_get_be32(p + 4);
    h->ack = ust_get_be32(p + 8);
    h->hlen = (uint8_t)((p[12] >> 4) * 4);
    h->flags = p[13];
    h->win = ust_get_be16(p + 14);
    h->csum = ust_get_be16(p + 16);
    h->urg = ust_get_be16(p + 18);
    if (h->hlen < UST_TCP_MIN_HLEN)
        return UST_WIRE_BAD_LENGTH;
    if (h->hlen > len)
        return UST_WIRE_TRUNCATED;
    int err = parse_options(p + UST_TCP_MIN_HLEN, h->hlen - UST_TCP_MIN_HLEN, &h->opts);
    if (err)
        return err;
    return h->hlen;
}

/* RFC 9293 section 3.1 "Checksum": over the pseudo-header, header and data. */
bool ust_tcp_csum_ok(const uint8_t *p, size_t l4_len, uint32_t src, uint32_t dst)
{
    if (l4_len < UST_TCP_MIN_HLEN || l4_len > 0xffff)
        return false;
    uint32_t sum = ust_csum_pseudo(src, dst, UST_IPPROTO_TCP, (uint16_t)l4_len);
    return ust_csum_fold(ust_csum_partial(p, l4_len, sum)) == 0;
}

void ust_tcp_set_csum(uint8_t *p, size_t l4_len, uint32_t src, uint32_t dst)
{
    ust_put_be16(p + 16, 0);
    uint32_t sum = ust_csum_pseudo(src, dst, UST_IPPROTO_TCP, (uint16_t)l4_len);
    ust_put_be16(p + 16, ust_csum_fold(ust_csum_partial(p, l4_len, sum)));
}

/* ---- emitting --------------------------------------------------------- */

/* Bytes of every option but the SACK blocks, in the layout above. */
static size_t base_opts_len(const struct ust_tcp_opts *o)
{
    size_t n = 0;

    if (o->present & UST_TCPO_MSS)
        n += 4;
    if (o->present & (UST_TCPO_TIMESTAMP | UST_TCPO_SACK_PERM))
        n += (o->present & UST_TCPO_TIMESTAMP) ? 12 : 4;
    if (o->present & UST_TCPO_WSCALE)
        n += 4;
    return n;
}

unsigned ust_tcp_sack_room(const struct ust_tcp_opts *o)
{
    size_t room = TCP_MAX_OPTLEN - base_opts_len(o);  /* base is at most 20 */
    size_t n = room < 4 ? 0 : (room - 4) / TCPOLEN_SACK_PERBLOCK;
    return (unsigned)UST_MIN(n, (size_t)UST_TCP_MAX_SACK);
}

/* SACK blocks actually emitted. */
static unsigned sack_blocks(const struct ust_tcp_opts *o)
{
    if (!(o->present & UST_TCPO_SACK))
        return 0;
    return UST_MIN((unsigned)o->nsack, ust_tcp_sack_room(o));
}

size_t ust_tcp_opts_len(const struct ust_tcp_opts *o)
{
    unsigned nsack = sack_blocks(o);
    return base_opts_len(o) + (nsack ? 4 + TCPOLEN_SACK_PERBLOCK * nsack : 0);
}

/* Writes the options (ust_tcp_opts_len(o) bytes) at q. */
static void emit_options(uint8_t *q, const struct ust_tcp_opts *o)
{
    bool sack_perm = (o->present & UST_TCPO_SACK_PERM) != 0;
    unsigned nsack = sack_blocks(o);

    if (o->present & UST_TCPO_MSS) {
        q[0] = UST_TCPOPT_MSS;
        q[1] = TCPOLEN_MSS;
        ust_put_be16(q + 2, o->mss);
        q += 4;
    }
    if (o->present & UST_TCPO_TIMESTAMP) {
        /* SACK-permitted takes the place of the two NOPs (as Linux does). */
        q[0] = sack_perm ? UST_TCPOPT_SACK_PERM : UST_TCPOPT_NOP;
        q[1] = sack_perm ? TCPOLEN_SACK_PERM : UST_TCPOPT_NOP;
        q[2] = UST_TCPOPT_TIMESTAMP;
        q[3] = TCPOLEN_TIMESTAMP;
        ust_put_be32(q + 4, o->tsval);
        ust_put_be32(q + 8, o->tsecr);
        q += 12;
    } else if (sack_perm) {
        q[0] = UST_TCPOPT_NOP;
        q[1] = UST_TCPOPT_NOP;
        q[2] = UST_TCPOPT_SACK_PERM;
        q[3] = TCPOLEN_SACK_PERM;
        q += 4;
    }
    if (o->present & UST_TCPO_WSCALE) {
        q[0] = UST_TCPOPT_NOP;
        q[1] = UST_TCPOPT_WSCALE;
        q[2] = TCPOLEN_WSCALE;
        q[3] = o->wscale;
        q += 4;
    }
    if (nsack) {
        q[0] = UST_TCPOPT_NOP;
        q[1] = UST_TCPOPT_NOP;
        q[2] = UST_TCPOPT_SACK;
        q[3] = (uint8_t)(TCPOLEN_SACK_BASE + TCPOLEN_SACK_PERBLOCK * nsack);
        q += 4;
        for (unsigned i = 0; i < nsack; i++, q += 8) {
            ust_put_be32(q, o->sack[i].left);
            ust_put_be32(q + 4, o->sack[i].right);
        }
    }
}

size_t ust_tcp_emit(uint8_t *p, size_t cap, const struct ust_tcp_hdr *h)
{
    size_t hlen = UST_TCP_MIN_HLEN + ust_tcp_opts_len(&h->opts);

    if (cap < hlen)
        return 0;
    ust_put_be16(p, h->sport);
    ust_put_be16(p + 2, h->dport);
    ust_put_be32(p + 4, h->seq);
    ust_put_be32(p + 8, h->ack);
    p[12] = (uint8_t)((hlen / 4) << 4);  /* data offset; reserved bits 0 */
    p[13] = h->flags;
    ust_put_be16(p + 14, h->win);
    ust_put_be16(p + 16, 0);
    ust_put_be16(p + 18, h->urg);
    emit_options(p + UST_TCP_MIN_HLEN, &h->opts);
    return hlen;
}
