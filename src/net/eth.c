/* The receive entry point of every driver (ust_netif_input) and Ethernet II
 * framing: input demultiplexing by EtherType, and output with the link
 * header prepended. Loopback and TUN (RAWIP) netifs carry bare IPv4 packets. */
#include <errno.h>
#include <string.h>

#include "core/stats.h"
#include "net/net_internal.h"
#include "netif/netif.h"
#include "stack/stack_impl.h"

/* Ethernet II: accept frames to our MAC and to the broadcast address. We
 * join no multicast groups, so multicast frames are not for us either. */
static void eth_input(struct ust_netif *nif, struct ust_fbuf *fb)
{
    struct ust_stack *stack = nif->stack;
    struct ust_eth_hdr eh;

    if (ust_eth_parse(fb->data, fb->len, &eh) < 0) {
        UST_INC(stack, ETH, InTruncated);
        ust_fbuf_free(stack, fb);
        return;
    }
    if (memcmp(eh.dst, nif->mac, UST_ETH_ALEN) != 0) {
        if (memcmp(eh.dst, ust_eth_broadcast, UST_ETH_ALEN) != 0) {
            UST_INC(stack, ETH, InNotForUs);
            ust_fbuf_free(stack, fb);
            return;
        }
        fb->flags |= UST_FB_BROADCAST;
    }
    ust_fbuf_pull(fb, UST_ETH_HLEN);

    switch (eh.type) {
    case UST_ETHERTYPE_ARP:
        ust_arp_input(nif, fb);
        break;
    case UST_ETHERTYPE_IPV4:
        ust_ipv4_input(nif, fb);
        break;
    default:
        UST_INC(stack, ETH, InUnknownType);
        ust_fbuf_free(stack, fb);
        break;
    }
}

/* Capture and fb->tstamp are done by the driver side (ust_netif_receive, or
 * the loopback's transmit), so a frame is recorded exactly once. */
void ust_netif_input(struct ust_netif *nif, struct ust_fbuf *fb)
{
    struct ust_stack *stack = nif->stack;

    UST_INC(stack, ETH, InFrames);
    fb->netif = nif;
    fb->l3 = NULL;
    if (nif->clean_link)
        fb->flags |= UST_FB_CSUM_VERIFIED;
    if (nif->kind == UST_NETIF_ETHER)
        eth_input(nif, fb);
    else
        ust_ipv4_input(nif, fb);
}

int ust_eth_output(struct ust_netif *nif, const uint8_t dst[UST_ETH_ALEN], uint16_t type,
                   struct ust_fbuf *fb)
{
    struct ust_eth_hdr eh;
    memcpy(eh.dst, dst, UST_ETH_ALEN);
    memcpy(eh.src, nif->mac, UST_ETH_ALEN);
    eh.type = type;

    uint8_t *p = ust_fbuf_push(fb, UST_ETH_HLEN);
    if (!p) {
        UST_INC(nif->stack, IP, OutDiscards);
        ust_fbuf_free(nif->stack, fb);
        return -ENOBUFS;
    }
    ust_eth_emit(p, UST_ETH_HLEN, &eh);
    return ust_netif_output(nif, fb);
}
