/* libFuzzer target: ust_tcp_parse and ust_tcp_emit. On success hlen is sane
 * and the options are consistent; parse -> emit -> parse gives the same
 * header and options (SACK blocks trimmed to ust_tcp_sack_room), the emitted
 * length is ust_tcp_opts_len + 20, and a checksum set by ust_tcp_set_csum
 * verifies. Independently, options built from the input bytes emit and parse
 * back unchanged. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "wire/wire.h"

#define SRC 0x0a630001u  /* 10.99.0.1 */
#define DST 0x0a630002u  /* 10.99.0.2 */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_opts(const struct ust_tcp_opts *want, const struct ust_tcp_opts *got)
{
    unsigned n = (want->present & UST_TCPO_SACK) ? UST_MIN(want->nsack, ust_tcp_sack_room(want)) : 0;
    uint8_t present = n ? want->present : (uint8_t)(want->present & ~UST_TCPO_SACK);

    if (got->present != present || got->nsack != n)
        abort();
    if ((present & UST_TCPO_MSS) && got->mss != want->mss)
        abort();
    if ((present & UST_TCPO_WSCALE) && got->wscale != want->wscale)
        abort();
    if ((present & UST_TCPO_TIMESTAMP) && (got->tsval != want->tsval || got->tsecr != want->tsecr))
        abort();
    for (unsigned i = 0; i < n; i++)
        if (got->sack[i].left != want->sack[i].left || got->sack[i].right != want->sack[i].right)
            abort();
}

/* Emits h, appends payload, sets the checksum and parses it all back. */
static void round_trip(const struct ust_tcp_hdr *h, const uint8_t *payload, size_t plen)
{
    size_t optlen = ust_tcp_opts_len(&h->opts);
    size_t hlen = UST_TCP_MIN_HLEN + optlen;
    uint8_t *out = malloc(hlen + plen);
    struct ust_tcp_hdr back;

    if (optlen % 4 != 0 || hlen > UST_TCP_MAX_HLEN)
        abort();
    if (ust_tcp_emit(out, hlen - 1, h) != 0 || ust_tcp_emit(out, hlen, h) != hlen)
        abort();
    memcpy(out + hlen, payload, plen);
    ust_tcp_set_csum(out, hlen + plen, SRC, DST);
    if (!ust_tcp_csum_ok(out, hlen + plen, SRC, DST))
        abort();
    if (ust_tcp_parse(out, hlen + plen, &back) != (int)hlen || back.hlen != hlen)
        abort();
    if (back.sport != h->sport || back.dport != h->dport || back.seq != h->seq ||
        back.ack != h->ack || back.flags != h->flags || back.win != h->win || back.urg != h->urg)
        abort();
    check_opts(&h->opts, &back.opts);
    free(out);
}

/* Options made up from input bytes: every combination the fuzzer can reach. */
static void synthetic(const uint8_t *d, size_t size)
{
    if (size < 48)
        return;
    struct ust_tcp_hdr h = {.sport = ust_get_be16(d), .dport = ust_get_be16(d + 2),
                            .seq = ust_get_be32(d + 4), .ack = ust_get_be32(d + 8),
                            .flags = d[12], .win = ust_get_be16(d + 13)};
    struct ust_tcp_opts *o = &h.opts;
    o->present = d[15] & 0x1f;
    o->wscale = d[16];
    o->mss = ust_get_be16(d + 17);
    o->tsval = ust_get_be32(d + 19);
    o->tsecr = ust_get_be32(d + 23);
    o->nsack = d[27] % (UST_TCP_MAX_SACK + 1);
    for (unsigned i = 0; i < UST_TCP_MAX_SACK; i++) {
        o->sack[i].left = ust_get_be32(d + 28 + 4 * i);
        o->sack[i].right = ust_get_be32(d + 32 + 4 * i);
    }
    round_trip(&h, d + 48, size - 48);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ust_tcp_hdr h;

    int r = ust_tcp_parse(data, size, &h);
    if (r >= 0) {
        if (r != h.hlen || h.hlen < UST_TCP_MIN_HLEN || h.hlen > UST_TCP_MAX_HLEN || h.hlen > size)
            abort();
        if (h.opts.nsack > UST_TCP_MAX_SACK || ((h.opts.present & UST_TCPO_SACK) != 0) != (h.opts.nsack != 0))
            abort();
        round_trip(&h, data + h.hlen, size - h.hlen);
        (void)ust_tcp_csum_ok(data, size, SRC, DST);
    } else if (r != UST_WIRE_TRUNCATED && r != UST_WIRE_BAD_LENGTH && r != UST_WIRE_BAD_OPTION) {
        abort();
    }
    synthetic(data, size);
    return 0;
}
