/* Generic network interface code: creating and destroying netifs, the
 * output and receive paths shared by every driver, and the public calls that
 * configure an interface (address, MTU, MAC). */
#include "netif/netif.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/stats.h"
#include "net/net.h"
#include "runtime/runtime.h"
#include "stack/stack_impl.h"
#include "wire/wire.h"

/* RFC 791: every host must accept 576-byte datagrams, every link must carry
 * 68 bytes unfragmented; 68 is the smallest MTU we accept (as Linux). */
#define UST_MIN_MTU 68u
#define UST_MAX_IP_MTU 65535u

static struct ust_netif *find_by_name(struct ust_stack *stack, const char *name)
{
    for (unsigned i = 0; i < stack->n_netifs; i++)
        if (strcmp(stack->netifs[i]->name, name) == 0)
            return stack->netifs[i];
    return NULL;
}

struct ust_netif *ust_netif_create(struct ust_stack *stack, const char *name,
                                   enum ust_netif_kind kind, const struct ust_netif_ops *ops,
                                   void *priv)
{
    size_t n = strlen(name);
    if (n == 0 || n >= UST_NETIF_NAMSIZ) {
        errno = EINVAL;
        return NULL;
    }
    if (find_by_name(stack, name)) {
        errno = EEXIST;
        return NULL;
    }
    if (stack->n_netifs >= UST_MAX_NETIFS) {
        errno = ENOSPC;
        return NULL;
    }
    struct ust_netif *nif = calloc(1, sizeof(*nif));
    if (!nif)
        return NULL;
    nif->ops = ops;
    nif->stack = stack;
    memcpy(nif->name, name, n + 1);
    nif->kind = kind;
    nif->mtu = 1500;
    nif->up = true;
    nif->priv = priv;
    ust_fbq_init(&nif->rxq);
    stack->netifs[stack->n_netifs++] = nif;
    nif->index = (int)stack->n_netifs;
    return nif;
}

void ust_netif_destroy_all(struct ust_stack *stack)
{
    for (unsigned i = 0; i < stack->n_netifs; i++) {
        struct ust_netif *nif = stack->netifs[i];
        if (nif->capture)
            ust_pcap_close(nif->capture);
        nif->capture = NULL;
        ust_impair_destroy(nif);     /* frees held frames before the driver goes */
        if (nif->ops->destroy)
            nif->ops->destroy(nif);
        ust_fbq_purge(stack, &nif->rxq);
        free(nif);
        stack->netifs[i] = NULL;
    }
    stack->n_netifs = 0;
    stack->lo = NULL;
}

void ust_netif_receive(struct ust_netif *nif, struct ust_fbuf *fb)
{
    if (ust_impair_active(nif->impair[UST_IMPAIR_RX])) {
        ust_impair_receive(nif->impair[UST_IMPAIR_RX], fb);
        return;
    }
    ust_netif_deliver(nif, fb);
}

/* Capture sits at the stack's edge: after the receive impairment here,
 * before the transmit impairment in ust_netif_output. */
void ust_netif_deliver(struct ust_netif *nif, struct ust_fbuf *fb)
{
    struct ust_stack *stack = nif->stack;
    fb->netif = nif;
    fb->tstamp = stack->now;
    if (nif->capture)
        ust_pcap_record(nif->capture, fb, stack->now);
    ust_netif_input(nif, fb);
}

int ust_netif_output(struct ust_netif *nif, struct ust_fbuf *fb)
{
    struct ust_stack *stack = nif->stack;
    if (!nif->up) {
        ust_fbuf_free(stack, fb);
        UST_INC(stack, ETH, OutDrops);
        return -ENETDOWN;
    }
    if (nif->capture)
        ust_pcap_record(nif->capture, fb, stack->now);
    int err;
    if (ust_impair_active(nif->impair[UST_IMPAIR_TX]))
        err = ust_impair_transmit(nif->impair[UST_IMPAIR_TX], fb);
    else
        err = nif->ops->transmit(nif, fb);
    if (err < 0)
        UST_INC(stack, ETH, OutDrops);
    else
        UST_INC(stack, ETH, OutFrames);
    return err;
}

void ust_netif_process_rxq(struct ust_netif *nif)
{
    /* Snapshot: frames queued while we process (a reply to ourselves) wait
     * for the next poll, which the kick of their transmit asked for. */
    uint32_t n = nif->rxq.count;
    while (n-- > 0) {
        struct ust_fbuf *fb = ust_fbq_pop(&nif->rxq);
        if (!fb)
            break;
        ust_netif_input(nif, fb);
    }
}

int ust_netif_set_addr(struct ust_netif *nif, uint32_t addr, unsigned prefix_len)
{
    if (prefix_len > 32)
        return -EINVAL;
    nif->addr = addr;
    nif->prefix_len = (uint8_t)prefix_len;
    if (addr != 0)
        ust_net_addr_added(nif);
    return 0;
}

/* ---- Public calls: take the stack lock, return -1/errno ---------------- */

static int ret_errno(int err)
{
    if (err < 0) {
        errno = -err;
        return -1;
    }
    return err;
}

int ust_netif_set_ipv4(struct ust_netif *nif, struct in_addr addr, int prefix_len)
{
    if (!nif || prefix_len < 0 || prefix_len > 32)
        return ret_errno(-EINVAL);
    ust_rt_lock(nif->stack);
    int err = ust_netif_set_addr(nif, ntohl(addr.s_addr), (unsigned)prefix_len);
    ust_rt_unlock(nif->stack);
    return ret_errno(err);
}

/* The largest IP MTU a netif can carry: an IPv4 datagram is at most 65535
 * bytes (RFC 791), and a frame (with its link header) must fit one buffer. */
static unsigned max_mtu(const struct ust_netif *nif)
{
    unsigned link_hdr = nif->kind == UST_NETIF_ETHER ? UST_ETH_HLEN : 0;
    unsigned limit = UST_FBUF_MAX - link_hdr;
    return limit < UST_MAX_IP_MTU ? limit : UST_MAX_IP_MTU;
}

int ust_netif_set_mtu(struct ust_netif *nif, unsigned mtu)
{
    if (!nif)
        return ret_errno(-EINVAL);
    ust_rt_lock(nif->stack);
    int err = 0;
    if (mtu < UST_MIN_MTU || mtu > max_mtu(nif))
        err = -EINVAL;
    else
        nif->mtu = mtu;
    ust_rt_unlock(nif->stack);
    return ret_errno(err);
}

int ust_netif_set_mac(struct ust_netif *nif, const uint8_t mac[6])
{
    if (!nif || !mac)
        return ret_errno(-EINVAL);
    ust_rt_lock(nif->stack);
    int err = 0;
    static const uint8_t zero[6];
    if (nif->kind != UST_NETIF_ETHER)
        err = -EOPNOTSUPP;
    else if (ust_eth_is_multicast(mac) || memcmp(mac, zero, 6) == 0)
        err = -EADDRNOTAVAIL;   /* Linux: eth_validate_addr */
    else
        memcpy(nif->mac, mac, 6);
    ust_rt_unlock(nif->stack);
    return ret_errno(err);
}

void ust_netif_get_mac(const struct ust_netif *nif, uint8_t mac[6])
{
    ust_rt_lock(nif->stack);
    memcpy(mac, nif->mac, 6);
    ust_rt_unlock(nif->stack);
}

const char *ust_netif_name(const struct ust_netif *nif)
{
    return nif->name;
}

struct ust_netif *ust_netif_by_name(struct ust_stack *stack, const char *name)
{
    if (!name) {
        errno = EINVAL;
        return NULL;
    }
    ust_rt_lock(stack);
    struct ust_netif *nif = find_by_name(stack, name);
    ust_rt_unlock(stack);
    if (!nif)
        errno = ENODEV;
    return nif;
}

struct ust_netif *ust_loopback(struct ust_stack *stack)
{
    return stack->lo;
}
