/* Routing for a host (RFC 1122 3.3.1): a small table of prefixes, each
 * directly connected or via a gateway, searched by longest prefix. Connected
 * prefixes come from interface addresses (ust_net_addr_added); the public
 * ust_route_add / ust_route_add_default add the rest with Linux's errnos.
 * Also the address predicates the rest of net/ shares (ours, broadcast,
 * unicast host). */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "net/net_internal.h"
#include "netif/netif.h"
#include "runtime/runtime.h"
#include "stack/stack_impl.h"

/* ---- Address predicates ------------------------------------------------- */

bool ust_net_is_local_addr(struct ust_stack *stack, uint32_t addr)
{
    if (ust_ipv4_is_loopback(addr))
        return true;
    if (addr == 0)
        return false;
    for (unsigned i = 0; i < stack->n_netifs; i++)
        if (stack->netifs[i]->addr == addr)
            return true;
    return false;
}

uint32_t ust_net_subnet_bcast(const struct ust_netif *nif)
{
    if (nif->addr == 0 || nif->prefix_len >= 31)
        return 0;
    return nif->addr | ~ust_prefix_mask(nif->prefix_len);
}

bool ust_net_is_bcast(const struct ust_stack *stack, uint32_t addr)
{
    if (ust_ipv4_is_limited_bcast(addr))
        return true;
    for (unsigned i = 0; i < stack->n_netifs; i++) {
        uint32_t b = ust_net_subnet_bcast(stack->netifs[i]);
        if (b != 0 && b == addr)
            return true;
    }
    return false;
}

bool ust_net_is_unicast_host(const struct ust_stack *stack, uint32_t addr)
{
    if ((addr >> 24) == 0 || ust_ipv4_is_multicast(addr) || (addr >> 28) == 0xf)
        return false;               /* "this network", class D, class E and 255.255.255.255 */
    return !ust_net_is_bcast(stack, addr);
}

/* ---- The table ------------------------------------------------------------ */

static struct ust_route *route_find_exact(struct ust_stack *stack, uint32_t dst, uint8_t plen)
{
    for (unsigned i = 0; i < stack->net.n_routes; i++) {
        struct ust_route *r = &stack->net.routes[i];
        if (r->dst == dst && r->prefix_len == plen)
            return r;
    }
    return NULL;
}

static const struct ust_route *route_best(struct ust_stack *stack, uint32_t dst, bool connected_only)
{
    const struct ust_route *best = NULL;
    for (unsigned i = 0; i < stack->net.n_routes; i++) {
        const struct ust_route *r = &stack->net.routes[i];
        if ((dst & r->mask) != r->dst || !r->nif->up)
            continue;
        if (connected_only && r->gw != 0)
            continue;
        if (!best || r->prefix_len > best->prefix_len)
            best = r;
    }
    return best;
}

/* The preferred source for a route out of nif: its address, else any of ours. */
static uint32_t route_src(struct ust_stack *stack, const struct ust_netif *nif)
{
    if (nif->addr != 0)
        return nif->addr;
    for (unsigned i = 0; i < stack->n_netifs; i++)
        if (stack->netifs[i] != stack->lo && stack->netifs[i]->addr != 0)
            return stack->netifs[i]->addr;
    return 0;
}

int ust_route_lookup(struct ust_stack *stack, uint32_t dst, struct ust_route_result *out)
{
    const struct ust_route *r = route_best(stack, dst, false);
    if (!r)
        return -ENETUNREACH;
    out->netif = r->nif;
    out->nexthop = r->gw ? r->gw : dst;
    out->src = route_src(stack, r->nif);
    return 0;
}

/* The first interface with an address other than the loopback: where a
 * limited broadcast goes when no route covers 255.255.255.255. */
static struct ust_netif *first_configured_netif(struct ust_stack *stack)
{
    for (unsigned i = 0; i < stack->n_netifs; i++) {
        struct ust_netif *nif = stack->netifs[i];
        if (nif != stack->lo && nif->addr != 0 && nif->up)
            return nif;
    }
    return NULL;
}

/* Datagrams to our own addresses and to 127/8 go over the loopback (Linux's
 * local table); everything else by the route table. */
int ust_route_output(struct ust_stack *stack, uint32_t dst, struct ust_route_result *rt)
{
    if (ust_net_is_local_addr(stack, dst)) {
        if (!stack->lo)
            return -ENETUNREACH;
        rt->netif = stack->lo;
        rt->nexthop = dst;
        rt->src = ust_ipv4_is_loopback(dst) ? stack->lo->addr : dst;
        return 0;
    }
    int err = ust_route_lookup(stack, dst, rt);
    if (ust_ipv4_is_limited_bcast(dst)) {
        if (err) {
            struct ust_netif *nif = first_configured_netif(stack);
            if (!nif)
                return -ENETUNREACH;
            rt->netif = nif;
            rt->src = nif->addr;
            err = 0;
        }
        rt->nexthop = dst;              /* never via a gateway */
    }
    return err;
}

static int route_insert(struct ust_stack *stack, uint32_t dst, uint8_t plen, uint32_t gw,
                        struct ust_netif *nif, bool connected)
{
    struct ust_net_state *ns = &stack->net;
    if (ns->n_routes >= UST_ROUTE_MAX)
        return -ENOSPC;
    struct ust_route *r = &ns->routes[ns->n_routes++];
    r->dst = dst;
    r->mask = ust_prefix_mask(plen);
    r->prefix_len = plen;
    r->gw = gw;
    r->nif = nif;
    r->connected = connected;
    return 0;
}

/* Linux's checks (fib_create_info / fib_check_nh): a canonical prefix, a
 * gateway reachable through a connected route (on nif if one is given), an
 * interface when there is no gateway; one route per prefix (NLM_F_EXCL). */
int ust_route_add_internal(struct ust_stack *stack, uint32_t dst, uint8_t prefix_len,
                           uint32_t gw, struct ust_netif *nif)
{
    if (prefix_len > 32 || (dst & ~ust_prefix_mask(prefix_len)) != 0)
        return -EINVAL;
    if (nif && nif->stack != stack)
        return -EINVAL;
    if (gw != 0) {
        if (!ust_net_is_unicast_host(stack, gw) || ust_net_is_local_addr(stack, gw))
            return -EINVAL;
        const struct ust_route *via = route_best(stack, gw, true);
        if (!via || (nif && via->nif != nif))
            return -ENETUNREACH;
        nif = via->nif;
    } else if (!nif) {
        return -ENODEV;
    }
    if (route_find_exact(stack, dst, prefix_len))
        return -EEXIST;
    return route_insert(stack, dst, prefix_len, gw, nif, false);
}

void ust_route_del_connected(struct ust_stack *stack, struct ust_netif *nif)
{
    struct ust_net_state *ns = &stack->net;
    unsigned j = 0;
    for (unsigned i = 0; i < ns->n_routes; i++) {
        struct ust_route *r = &ns->routes[i];
        if (r->connected && r->nif == nif)
            continue;
        ns->routes[j++] = *r;
    }
    ns->n_routes = j;
}

void ust_net_addr_added(struct ust_netif *nif)
{
    struct ust_stack *stack = nif->stack;
    ust_route_del_connected(stack, nif);
    if (nif->addr == 0)
        return;
    uint32_t mask = ust_prefix_mask(nif->prefix_len);
    /* Several interfaces may share a prefix: connected routes skip the
     * one-route-per-prefix rule; the first added wins ties. */
    route_insert(stack, nif->addr & mask, nif->prefix_len, 0, nif, true);
    if (nif->kind == UST_NETIF_ETHER)
        ust_arp_announce(nif);
}

/* ---- Public calls: lock, network byte order, -1/errno ------------------- */

static int ret_errno(int err)
{
    if (err < 0) {
        errno = -err;
        return -1;
    }
    return 0;
}

int ust_route_add_default(struct ust_stack *stack, struct in_addr gw)
{
    if (!stack)
        return ret_errno(-EINVAL);
    ust_rt_lock(stack);
    int err = ust_route_add_internal(stack, 0, 0, ntohl(gw.s_addr), NULL);
    ust_rt_unlock(stack);
    return ret_errno(err);
}

int ust_route_add(struct ust_stack *stack, struct in_addr dst, int prefix_len,
                  struct in_addr gw, struct ust_netif *nif)
{
    if (!stack || prefix_len < 0 || prefix_len > 32)
        return ret_errno(-EINVAL);
    ust_rt_lock(stack);
    int err = ust_route_add_internal(stack, ntohl(dst.s_addr), (uint8_t)prefix_len,
                                     ntohl(gw.s_addr), nif);
    ust_rt_unlock(stack);
    return ret_errno(err);
}
