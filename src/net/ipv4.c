/* IPv4 (RFC 791, RFC 1122 section 3) for a host: input validation, martian
 * filtering, local delivery and protocol demultiplexing; output with route
 * selection, header construction and fragmentation; and the setup/teardown
 * of net/'s per-stack state. There is no forwarding: a datagram that is not
 * for one of our addresses is dropped (IP.InAddrErrors). */
#include <errno.h>
#include <string.h>

#include "core/rand.h"
#include "core/stats.h"
#include "core/util.h"
#include "net/net_internal.h"
#include "net/udp.h"
#include "netif/netif.h"
#include "stack/stack_impl.h"
#include "tcp/tcp.h"

/* Headroom a datagram needs in front of its L4 payload: IPv4 + Ethernet. */
#define IPV4_OUT_HEADROOM (UST_IPV4_MIN_HLEN + UST_ETH_HLEN)

/* ---- Setup -------------------------------------------------------------- */

int ust_net_init(struct ust_stack *stack)
{
    struct ust_net_state *ns = &stack->net;
    memset(ns, 0, sizeof(*ns));
    ns->ip_id = (uint16_t)ust_rng_next(&stack->rng);
    int err = ust_arp_init(stack);
    if (err)
        return err;
    err = ust_reasm_init(stack);
    if (err) {
        ust_arp_fini(stack);
        return err;
    }
    ust_icmp_init(stack);
    ns->inited = true;
    return 0;
}

void ust_net_fini(struct ust_stack *stack)
{
    struct ust_net_state *ns = &stack->net;
    if (!ns->inited)
        return;
    ust_reasm_fini(stack);
    ust_arp_fini(stack);
    ns->n_routes = 0;
    ns->inited = false;
}

/* ---- Input -------------------------------------------------------------- */

/* Counts a header ust_ipv4_parse refused, with Linux's ip_rcv_core
 * distinctions: a datagram longer than the frame is InTruncatedPkts, a bad
 * checksum InCsumErrors (and InHdrErrors), anything else InHdrErrors. */
static void ipv4_count_bad_header(struct ust_stack *stack, const struct ust_fbuf *fb, int err)
{
    if (err == UST_WIRE_TRUNCATED && fb->len >= UST_IPV4_MIN_HLEN &&
        fb->len >= (size_t)(fb->data[0] & 0x0f) * 4u) {
        UST_INC(stack, IP, InTruncatedPkts);
        return;
    }
    if (err == UST_WIRE_BAD_CSUM)
        UST_INC(stack, IP, InCsumErrors);
    UST_INC(stack, IP, InHdrErrors);
}

/* Martian source or destination (RFC 1122 3.2.1.3, Linux
 * ip_route_input_slow): sources that cannot be a host, 127/8 off the
 * loopback, and our own address coming back from the wire. */
static bool ipv4_is_martian(struct ust_stack *stack, const struct ust_netif *nif,
                            const struct ust_ipv4_hdr *ih)
{
    bool on_lo = nif->kind == UST_NETIF_LOOPBACK;
    if (!ust_net_is_unicast_host(stack, ih->src))
        return true;
    if ((ih->dst >> 24) == 0)
        return true;
    if (!on_lo && (ust_ipv4_is_loopback(ih->src) || ust_ipv4_is_loopback(ih->dst)))
        return true;
    if (!on_lo && ust_net_is_local_addr(stack, ih->src))
        return true;
    return false;
}

/* Weak host model (RFC 1122 3.3.4.2, Linux): any of our addresses on any
 * interface, the limited broadcast, and the receiving subnet's broadcast. */
static bool ipv4_is_for_us(struct ust_stack *stack, const struct ust_netif *nif, uint32_t dst)
{
    if (ust_net_is_local_addr(stack, dst) || ust_ipv4_is_limited_bcast(dst))
        return true;
    uint32_t bcast = ust_net_subnet_bcast(nif);
    return bcast != 0 && dst == bcast;
}

static void ipv4_deliver(struct ust_stack *stack, struct ust_fbuf *fb, const struct ust_ipv4_hdr *ih)
{
    switch (ih->proto) {
    case UST_IPPROTO_ICMP:
        UST_INC(stack, IP, InDelivers);
        ust_icmp_input(stack, fb, ih);
        break;
    case UST_IPPROTO_UDP:
        UST_INC(stack, IP, InDelivers);
        ust_udp_input(stack, fb, ih);
        break;
    case UST_IPPROTO_TCP:
        UST_INC(stack, IP, InDelivers);
        ust_tcp_input(stack, fb, ih);
        break;
    default:
        /* RFC 1122 3.2.2.1: protocol unreachable. */
        UST_INC(stack, IP, InUnknownProtos);
        ust_icmp_send_error(stack, fb, UST_ICMP_DEST_UNREACH, UST_ICMP_PROT_UNREACH, 0);
        ust_fbuf_free(stack, fb);
        break;
    }
}

void ust_ipv4_input(struct ust_netif *nif, struct ust_fbuf *fb)
{
    struct ust_stack *stack = nif->stack;
    struct ust_ipv4_hdr ih;

    UST_INC(stack, IP, InReceives);
    int hlen = ust_ipv4_parse(fb->data, fb->len, &ih);
    if (hlen < 0) {
        ipv4_count_bad_header(stack, fb, hlen);
        goto drop;
    }
    ust_fbuf_trim(fb, ih.total_len);    /* link padding */
    if (ipv4_is_martian(stack, nif, &ih)) {
        UST_INC(stack, IP, InMartians);
        goto drop;
    }
    if (!ipv4_is_for_us(stack, nif, ih.dst)) {
        UST_INC(stack, IP, InAddrErrors);
        goto drop;
    }
    fb->l3 = fb->data;
    ust_fbuf_pull(fb, (size_t)hlen);
    if (ust_ipv4_is_fragment(&ih)) {
        fb = ust_reasm_input(stack, fb, &ih);
        if (!fb)
            return;
    }
    ipv4_deliver(stack, fb, &ih);
    return;
drop:
    ust_fbuf_free(stack, fb);
}

/* ---- Output ------------------------------------------------------------- */

/* Prepends the header and hands the datagram to the link. */
static int ipv4_xmit(struct ust_stack *stack, const struct ust_route_result *rt,
                     const struct ust_ipv4_hdr *h, struct ust_fbuf *fb)
{
    struct ust_ipv4_hdr hdr = *h;
    hdr.total_len = (uint16_t)(fb->len + UST_IPV4_MIN_HLEN);
    uint8_t *p = ust_fbuf_push(fb, UST_IPV4_MIN_HLEN);
    if (!p) {
        UST_INC(stack, IP, OutDiscards);
        ust_fbuf_free(stack, fb);
        return -ENOBUFS;
    }
    ust_ipv4_emit(p, UST_IPV4_MIN_HLEN, &hdr);
    fb->l3 = p;
    if (rt->netif->kind == UST_NETIF_ETHER)
        return ust_arp_output(rt->netif, rt->nexthop, fb);
    return ust_netif_output(rt->netif, fb);
}

/* RFC 791 3.2 "Fragmentation": every fragment but the last carries a
 * multiple of 8 payload bytes and MF; offsets are in 8-byte units. The first
 * fragment reuses fb; the others are copied into new buffers before any is
 * sent, so a buffer shortage sends nothing. */
static int ipv4_fragment(struct ust_stack *stack, const struct ust_route_result *rt,
                         const struct ust_ipv4_hdr *h, struct ust_fbuf *fb)
{
    /* RFC 791: every link carries 68 bytes; netif.c enforces it, this guards. */
    size_t mtu = UST_MAX(rt->netif->mtu, 68u);
    size_t chunk = (mtu - UST_IPV4_MIN_HLEN) & ~(size_t)7;
    struct ust_fbq rest;
    ust_fbq_init(&rest);

    for (size_t off = chunk; off < fb->len; off += chunk) {
        size_t n = UST_MIN(chunk, fb->len - off);
        struct ust_fbuf *f = ust_fbuf_alloc(stack, n);
        if (!f) {
            ust_fbq_purge(stack, &rest);
            ust_fbuf_free(stack, fb);
            UST_INC(stack, IP, FragFails);
            UST_INC(stack, IP, OutDiscards);
            return -ENOBUFS;
        }
        memcpy(ust_fbuf_put(f, n), fb->data + off, n);
        f->cb.raw[0] = off;
        ust_fbq_push(&rest, f);
    }
    UST_INC(stack, IP, FragOKs);
    UST_ADD(stack, IP, FragCreates, rest.count + 1);

    struct ust_ipv4_hdr fh = *h;
    ust_fbuf_trim(fb, chunk);
    fh.frag = (uint16_t)(h->frag | UST_IP_MF);
    int err = ipv4_xmit(stack, rt, &fh, fb);

    struct ust_fbuf *f;
    while ((f = ust_fbq_pop(&rest)) != NULL) {
        uint16_t mf = rest.count > 0 ? UST_IP_MF : 0;
        fh.frag = (uint16_t)(h->frag | mf | (uint16_t)(f->cb.raw[0] / 8));
        int e = ipv4_xmit(stack, rt, &fh, f);
        if (e < 0 && err == 0)
            err = e;
    }
    return err;
}

/* A buffer with room for the headers in front of the payload; fb itself
 * when it has it (the usual case). NULL when no buffer is available. */
static struct ust_fbuf *ipv4_ensure_headroom(struct ust_stack *stack, struct ust_fbuf *fb)
{
    if (ust_fbuf_headroom(fb) >= IPV4_OUT_HEADROOM)
        return fb;
    struct ust_fbuf *n = ust_fbuf_alloc(stack, fb->len);
    if (n)
        memcpy(ust_fbuf_put(n, fb->len), fb->data, fb->len);
    ust_fbuf_free(stack, fb);
    return n;
}

int ust_ipv4_output(struct ust_stack *stack, struct ust_fbuf *fb, const struct ust_ip_out *o)
{
    struct ust_route_result rt;

    UST_INC(stack, IP, OutRequests);
    int err = ust_route_output(stack, o->dst, &rt);
    if (err) {
        UST_INC(stack, IP, OutNoRoutes);
        ust_fbuf_free(stack, fb);
        return err;
    }
    if (fb->len > 0xffffu - UST_IPV4_MIN_HLEN) {
        UST_INC(stack, IP, OutDiscards);
        ust_fbuf_free(stack, fb);
        return -EMSGSIZE;
    }
    fb = ipv4_ensure_headroom(stack, fb);
    if (!fb) {
        UST_INC(stack, IP, OutDiscards);
        return -ENOBUFS;
    }
    fb->flags = 0;
    fb->l3 = NULL;

    struct ust_ipv4_hdr h = {
        .tos = o->tos,
        .id = stack->net.ip_id++,
        .frag = o->df ? UST_IP_DF : 0,
        .ttl = o->ttl ? o->ttl : stack->cfg.ip_default_ttl,
        .proto = o->proto,
        .src = o->src ? o->src : rt.src,
        .dst = o->dst,
    };
    if (fb->len + UST_IPV4_MIN_HLEN <= rt.netif->mtu)
        return ipv4_xmit(stack, &rt, &h, fb);
    if (o->df) {
        /* RFC 1191: the caller learns the MTU problem instead of a silent drop. */
        UST_INC(stack, IP, FragFails);
        ust_fbuf_free(stack, fb);
        return -EMSGSIZE;
    }
    return ipv4_fragment(stack, &rt, &h, fb);
}
