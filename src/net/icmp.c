/* ICMP (RFC 792, RFC 1122 3.2.2): echo reply, delivery of echo replies to
 * ping sockets, errors about our datagrams handed to UDP with Linux's errno
 * mapping (icmp_err_convert), and generation of error messages under the
 * RFC 1122 3.2.2 rules with Linux's global token bucket
 * (icmp_msgs_per_sec / icmp_msgs_burst). Echo replies and errors sent to
 * ourselves are not rate limited (Linux's icmp_ratemask and its loopback
 * exemption). */
#include <errno.h>
#include <string.h>

#include "core/stats.h"
#include "core/util.h"
#include "net/net_internal.h"
#include "net/udp.h"
#include "netif/netif.h"
#include "stack/stack_impl.h"
#include "tcp/tcp.h"

/* RFC 1812 4.3.2.3 / Linux: an error quotes as much of the offending
 * datagram as fits in a 576-byte reply. */
#define ICMP_ERR_MAX_LEN 576u
#define ICMP_TOKEN UST_NSEC_PER_SEC         /* credit units per message */
#define IPTOS_PREC_INTERNETCONTROL 0xc0u
#define IPTOS_TOS_MASK 0x1eu
#define ICMP_NR_TYPES 18u                   /* Linux NR_ICMP_TYPES */

void ust_icmp_init(struct ust_stack *stack)
{
    stack->net.icmp_credit = (uint64_t)stack->cfg.icmp_ratelimit_burst * ICMP_TOKEN;
    stack->net.icmp_stamp = stack->now;
}

/* Types Linux treats as errors (icmp_pointers[].error), plus every type it
 * does not know. */
static bool icmp_type_is_error(uint8_t type)
{
    switch (type) {
    case UST_ICMP_DEST_UNREACH:
    case UST_ICMP_SOURCE_QUENCH:
    case UST_ICMP_REDIRECT:
    case UST_ICMP_TIME_EXCEEDED:
    case UST_ICMP_PARAM_PROB:
        return true;
    default:
        return type > ICMP_NR_TYPES;
    }
}

/* ---- Sending errors ------------------------------------------------------ */

/* RFC 1122 3.2.2: never about an ICMP error, a datagram sent to a broadcast
 * or multicast address or as a link-layer broadcast, a non-initial
 * fragment, or a datagram whose source is not a unicast host. */
static bool icmp_error_allowed(struct ust_stack *stack, const struct ust_fbuf *orig,
                               const struct ust_ipv4_hdr *ih, const uint8_t *l4, size_t l4_len)
{
    if (orig->flags & UST_FB_BROADCAST)
        return false;
    if (ust_ipv4_frag_offset(ih) != 0)
        return false;
    if (!ust_net_is_unicast_host(stack, ih->src))
        return false;
    if (ust_ipv4_is_multicast(ih->dst) || ust_net_is_bcast(stack, ih->dst))
        return false;
    if (ih->proto == UST_IPPROTO_ICMP && (l4_len < 1 || icmp_type_is_error(l4[0])))
        return false;
    return true;
}

/* Token bucket: icmp_ratelimit_per_s tokens a second, at most
 * icmp_ratelimit_burst saved up; 0 per second disables the limit. */
static bool icmp_ratelimit_allow(struct ust_stack *stack, uint32_t dst)
{
    struct ust_net_state *ns = &stack->net;
    uint64_t per_s = stack->cfg.icmp_ratelimit_per_s;
    if (per_s == 0 || ust_net_is_local_addr(stack, dst))
        return true;
    uint64_t cap = (uint64_t)stack->cfg.icmp_ratelimit_burst * ICMP_TOKEN;
    uint64_t elapsed = stack->now - ns->icmp_stamp;
    ns->icmp_stamp = stack->now;
    if (elapsed >= cap / per_s + 1)
        ns->icmp_credit = cap;          /* long idle: full (and no overflow below) */
    else
        ns->icmp_credit = UST_MIN(cap, ns->icmp_credit + elapsed * per_s);
    if (ns->icmp_credit < ICMP_TOKEN)
        return false;
    ns->icmp_credit -= ICMP_TOKEN;
    return true;
}

void ust_icmp_send_error(struct ust_stack *stack, const struct ust_fbuf *orig,
                         uint8_t type, uint8_t code, uint32_t info)
{
    if (!orig || !orig->l3)
        return;
    const uint8_t *end = orig->data + orig->len;
    if (end <= orig->l3)
        return;
    size_t avail = (size_t)(end - orig->l3);
    struct ust_ipv4_hdr ih;
    int hlen = ust_ipv4_parse_quoted(orig->l3, avail, &ih);
    if (hlen < 0)
        return;
    if (!icmp_error_allowed(stack, orig, &ih, orig->l3 + hlen, avail - (size_t)hlen))
        return;
    if (!icmp_ratelimit_allow(stack, ih.src)) {
        UST_INC(stack, ICMP, OutRateLimited);
        return;
    }

    size_t quote = UST_MIN(avail, ICMP_ERR_MAX_LEN - UST_IPV4_MIN_HLEN - UST_ICMP_HLEN);
    struct ust_fbuf *fb = ust_fbuf_alloc(stack, UST_ICMP_HLEN + quote);
    if (!fb)
        return;
    uint8_t *p = ust_fbuf_put(fb, UST_ICMP_HLEN + quote);
    memcpy(p + UST_ICMP_HLEN, orig->l3, quote);
    struct ust_icmp_hdr h = { .type = type, .code = code, .rest = info };
    ust_icmp_emit(p, UST_ICMP_HLEN + quote, &h, quote);

    /* Answer from the address the datagram was sent to when it is ours
     * (Linux icmp_send with the default icmp_errors_use_inbound_ifaddr=0
     * picks the route's source otherwise). */
    struct ust_ip_out o = {
        .src = ust_net_is_local_addr(stack, ih.dst) ? ih.dst : 0,
        .dst = ih.src,
        .proto = UST_IPPROTO_ICMP,
        .tos = (uint8_t)((ih.tos & IPTOS_TOS_MASK) | IPTOS_PREC_INTERNETCONTROL),
    };
    UST_INC(stack, ICMP, OutMsgs);
    if (type == UST_ICMP_DEST_UNREACH)
        UST_INC(stack, ICMP, OutDestUnreachs);
    ust_ipv4_output(stack, fb, &o);
}

/* ---- Input -------------------------------------------------------------- */

/* RFC 792 echo: the reply carries the request's identifier, sequence
 * number and data. The request's buffer becomes the reply. */
static void icmp_echo(struct ust_stack *stack, struct ust_fbuf *fb, const struct ust_icmp_hdr *req,
                      const struct ust_ipv4_hdr *ih)
{
    struct ust_icmp_hdr h = { .type = UST_ICMP_ECHO_REPLY, .code = 0, .rest = req->rest };
    ust_icmp_emit(fb->data, fb->len, &h, fb->len - UST_ICMP_HLEN);
    struct ust_ip_out o = {
        .src = ih->dst,
        .dst = ih->src,
        .proto = UST_IPPROTO_ICMP,
        .tos = ih->tos,
    };
    UST_INC(stack, ICMP, OutMsgs);
    UST_INC(stack, ICMP, OutEchoReps);
    ust_ipv4_output(stack, fb, &o);
}

/* Linux icmp_err_convert[] for destination unreachable codes 0..15. */
static int icmp_unreach_errno(uint8_t code)
{
    static const int map[] = {
        ENETUNREACH,  /* 0 net unreachable */
        EHOSTUNREACH, /* 1 host unreachable */
        ENOPROTOOPT,  /* 2 protocol unreachable */
        ECONNREFUSED, /* 3 port unreachable */
        EMSGSIZE,     /* 4 fragmentation needed and DF set */
        EOPNOTSUPP,   /* 5 source route failed */
        ENETUNREACH,  /* 6 destination network unknown */
        EHOSTDOWN,    /* 7 destination host unknown */
        ENONET,       /* 8 source host isolated */
        ENETUNREACH,  /* 9 network administratively prohibited */
        EHOSTUNREACH, /* 10 host administratively prohibited */
        ENETUNREACH,  /* 11 network unreachable for TOS */
        EHOSTUNREACH, /* 12 host unreachable for TOS */
        EHOSTUNREACH, /* 13 communication administratively prohibited */
        EHOSTUNREACH, /* 14 host precedence violation */
        EHOSTUNREACH, /* 15 precedence cutoff in effect */
    };
    return code < UST_ARRAY_SIZE(map) ? map[code] : 0;
}

static int icmp_errno(const struct ust_icmp_hdr *h)
{
    switch (h->type) {
    case UST_ICMP_DEST_UNREACH:
        return icmp_unreach_errno(h->code);
    case UST_ICMP_TIME_EXCEEDED:
        return EHOSTUNREACH;
    case UST_ICMP_PARAM_PROB:
        return EPROTO;
    default:
        return 0;
    }
}

/* An error about a datagram we sent: the quote must hold its IPv4 header
 * and the first 8 bytes of its payload (RFC 792) to find the socket. */
static void icmp_error_input(struct ust_stack *stack, struct ust_fbuf *fb, const struct ust_icmp_hdr *h)
{
    const uint8_t *q = fb->data + UST_ICMP_HLEN;
    size_t qlen = fb->len - UST_ICMP_HLEN;
    struct ust_ipv4_hdr inner;
    int hlen = ust_ipv4_parse_quoted(q, qlen, &inner);
    if (hlen < 0 || qlen - (size_t)hlen < 8) {
        UST_INC(stack, ICMP, InErrors);
        return;
    }
    /* UDP and ping sockets (an error about our echo request) live in udp.c;
     * TCP will take its own. */
    int err = icmp_errno(h);
    if (err != 0 && (inner.proto == UST_IPPROTO_UDP || inner.proto == UST_IPPROTO_ICMP))
        ust_udp_icmp_error(stack, &inner, q + hlen, qlen - (size_t)hlen, err);
    if (err != 0 && inner.proto == UST_IPPROTO_TCP)
        ust_tcp_icmp_error(stack, &inner, q + hlen, qlen - (size_t)hlen, err,
                           h->type == UST_ICMP_DEST_UNREACH && h->code == 4 ? h->rest & 0xffff : 0);
}

void ust_icmp_input(struct ust_stack *stack, struct ust_fbuf *fb, const struct ust_ipv4_hdr *ih)
{
    struct ust_icmp_hdr h;

    UST_INC(stack, ICMP, InMsgs);
    int r = ust_icmp_parse(fb->data, fb->len, &h);
    if (r < 0) {
        if (r == UST_WIRE_BAD_CSUM)
            UST_INC(stack, ICMP, InCsumErrors);
        UST_INC(stack, ICMP, InErrors);
        goto drop;
    }
    /* Sent to a broadcast (link or IP): only echo requests are defined, and
     * Linux ignores those (icmp_echo_ignore_broadcasts = 1). */
    bool bcast = (fb->flags & UST_FB_BROADCAST) || !ust_net_is_local_addr(stack, ih->dst);

    switch (h.type) {
    case UST_ICMP_ECHO:
        UST_INC(stack, ICMP, InEchos);
        if (bcast)
            goto drop;
        icmp_echo(stack, fb, &h, ih);
        return;
    case UST_ICMP_ECHO_REPLY:
        UST_INC(stack, ICMP, InEchoReps);
        if (ust_ping_input(stack, fb, ih))
            return;
        UST_INC(stack, IP, InDiscards);     /* no ping socket wants it */
        goto drop;
    case UST_ICMP_DEST_UNREACH:
        UST_INC(stack, ICMP, InDestUnreachs);
        /* fall through */
    case UST_ICMP_TIME_EXCEEDED:
    case UST_ICMP_PARAM_PROB:
        if (bcast)
            UST_INC(stack, ICMP, InErrors);
        else
            icmp_error_input(stack, fb, &h);
        goto drop;
    default:
        goto drop;                          /* source quench, redirect, timestamps: ignored */
    }
drop:
    ust_fbuf_free(stack, fb);
}
