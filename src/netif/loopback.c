/* The loopback interface "lo": IPv4 packets sent to it come back as input.
 *
 * Like Linux's loopback_xmit + netif_rx, transmit only queues the packet on
 * the interface's rxq and asks for a poll; ust_stack_poll delivers it. Never
 * processing inline keeps the call depth flat (a reply to ourselves cannot
 * recurse into output). The link is clean, so receivers may skip L4
 * checksum checks. */
#include "netif/netif.h"

#include <errno.h>

#include "stack/stack_impl.h"

/* IPv4's largest datagram (RFC 791: total length is 16 bits). Linux's lo has
 * MTU 65536, which IPv4 cannot fill. */
#define UST_LOOPBACK_MTU 65535u
/* Frames waiting for the next poll (Linux: netdev_max_backlog = 1000). */
#define UST_LOOPBACK_BACKLOG 1000u
#define UST_LOOPBACK_ADDR 0x7f000001u   /* 127.0.0.1 */
#define UST_LOOPBACK_PREFIX 8u

static int loopback_transmit(struct ust_netif *nif, struct ust_fbuf *fb)
{
    struct ust_stack *stack = nif->stack;
    if (nif->rxq.count >= UST_LOOPBACK_BACKLOG) {
        ust_fbuf_free(stack, fb);
        return -ENOBUFS;
    }
    ust_fbuf_orphan(fb);    /* Linux loopback_xmit: skb_orphan */
    fb->netif = nif;
    fb->tstamp = stack->now;
    fb->flags |= UST_FB_CSUM_VERIFIED;
    ust_fbq_push(&nif->rxq, fb);
    ust_stack_kick(stack);
    return 0;
}

static int loopback_poll_fd(struct ust_netif *nif)
{
    return -1;
}

static const struct ust_netif_ops loopback_ops = {
    .kind_name = "loopback",
    .transmit = loopback_transmit,
    .rx_poll = NULL,
    .poll_fd = loopback_poll_fd,
    .destroy = NULL,
};

int ust_loopback_create(struct ust_stack *stack)
{
    struct ust_netif *nif = ust_netif_create(stack, "lo", UST_NETIF_LOOPBACK, &loopback_ops, NULL);
    if (!nif)
        return -errno;
    nif->mtu = UST_LOOPBACK_MTU;
    nif->clean_link = true;
    stack->lo = nif;
    return ust_netif_set_addr(nif, UST_LOOPBACK_ADDR, UST_LOOPBACK_PREFIX);
}
