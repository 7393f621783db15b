/* ARP for IPv4 over Ethernet (RFC 826), with Linux's neighbour behaviour
 * where the RFC leaves a choice:
 *  - a bounded cache (cfg.arp_cache_size slots, hashed by (netif, address)
 *    with the stack's secret key); when full the least recently confirmed
 *    entry is evicted;
 *  - INCOMPLETE: a broadcast request every cfg.arp_retrans_ns, at most
 *    cfg.arp_max_probes of them, then the waiting packets are dropped and each
 *    gets an ICMP host unreachable (so a local sender learns EHOSTUNREACH);
 *  - at most cfg.arp_pending_max packets wait per address (the oldest goes);
 *  - REACHABLE for cfg.arp_reachable_ns after a confirmation, then STALE;
 *    a STALE entry still carries traffic, which sends unicast probes (PROBE);
 *    an entry left STALE and unused for another arp_reachable_ns is removed;
 *  - requests for our addresses are answered and teach us the sender (RFC 826
 *    "merge" then "add if I am the target"); replies only update entries we
 *    have (Linux arp_accept=0), so unsolicited replies cannot fill the cache. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/stats.h"
#include "core/util.h"
#include "net/net_internal.h"
#include "netif/netif.h"
#include "stack/stack_impl.h"

static const uint8_t zero_mac[UST_ETH_ALEN];

static uint32_t arp_hash(const struct ust_stack *stack, const struct ust_netif *nif, uint32_t ip)
{
    return ust_hash_u32x3(stack->hash_key, ip, (uint32_t)nif->index, 0x41525000u);
}

static struct ust_arp_entry *arp_find(struct ust_stack *stack, const struct ust_netif *nif,
                                      uint32_t ip)
{
    uint32_t h = arp_hash(stack, nif, ip);
    for (struct ust_hnode *n = ust_ht_bucket(&stack->net.arp_ht, h); n; n = n->next) {
        struct ust_arp_entry *e = ust_container_of(n, struct ust_arp_entry, hnode);
        if (n->hash == h && e->ip == ip && e->nif == nif)
            return e;
    }
    return NULL;
}

/* Frees the slot. The caller has dealt with the pending packets it wants;
 * any left are dropped here. */
static void arp_entry_free(struct ust_stack *stack, struct ust_arp_entry *e)
{
    struct ust_net_state *ns = &stack->net;
    ust_timer_cancel(&stack->timers, &e->timer);
    ust_ht_remove(&ns->arp_ht, &e->hnode);
    ust_net_list_del(&e->lru);
    ust_fbq_purge(stack, &e->pending);
    e->state = UST_ARP_NONE;
    e->nif = NULL;
    ust_net_list_add_tail(&ns->arp_free, &e->lru);
    ns->arp_count--;
}

/* A free slot, evicting the least recently confirmed entry when the cache is
 * full (its waiting packets are dropped). */
static struct ust_arp_entry *arp_entry_new(struct ust_stack *stack, struct ust_netif *nif,
                                           uint32_t ip, enum ust_arp_state state)
{
    struct ust_net_state *ns = &stack->net;
    if (ust_net_list_empty(&ns->arp_free)) {
        struct ust_arp_entry *victim = ust_container_of(ns->arp_lru.next, struct ust_arp_entry, lru);
        UST_INC(stack, ARP, CacheEvictions);
        UST_ADD(stack, ARP, PendingDrops, victim->pending.count);
        arp_entry_free(stack, victim);
    }
    struct ust_arp_entry *e = ust_container_of(ns->arp_free.next, struct ust_arp_entry, lru);
    ust_net_list_del(&e->lru);
    e->nif = nif;
    e->ip = ip;
    e->state = (uint8_t)state;
    e->probes = 0;
    memset(e->mac, 0, sizeof(e->mac));
    ust_fbq_init(&e->pending);
    ust_ht_insert(&ns->arp_ht, &e->hnode, arp_hash(stack, nif, ip));
    ust_net_list_add_tail(&ns->arp_lru, &e->lru);
    ns->arp_count++;
    return e;
}

/* ---- Sending ARP packets ----------------------------------------------- */

static int arp_send(struct ust_netif *nif, const uint8_t eth_dst[UST_ETH_ALEN],
                    const struct ust_arp_pkt *a)
{
    struct ust_stack *stack = nif->stack;
    struct ust_fbuf *fb = ust_fbuf_alloc(stack, UST_ARP_LEN);
    if (!fb)
        return -ENOBUFS;
    ust_arp_emit(ust_fbuf_put(fb, UST_ARP_LEN), UST_ARP_LEN, a);
    return ust_eth_output(nif, eth_dst, UST_ETHERTYPE_ARP, fb);
}

/* A request for tpa: broadcast while resolving, unicast to `unicast` when
 * reconfirming a known MAC (Linux's PROBE state). */
static void arp_send_request(struct ust_netif *nif, uint32_t tpa, const uint8_t *unicast)
{
    struct ust_arp_pkt a = { .op = UST_ARP_REQUEST, .spa = nif->addr, .tpa = tpa };
    memcpy(a.sha, nif->mac, UST_ETH_ALEN);
    if (arp_send(nif, unicast ? unicast : ust_eth_broadcast, &a) == 0)
        UST_INC(nif->stack, ARP, OutRequests);
}

void ust_arp_announce(struct ust_netif *nif)
{
    /* RFC 5227 2.3 / RFC 826: a request with spa == tpa == our address
     * refreshes every neighbour's cache; tha is zero as in Linux. */
    struct ust_arp_pkt a = { .op = UST_ARP_REQUEST, .spa = nif->addr, .tpa = nif->addr };
    memcpy(a.sha, nif->mac, UST_ETH_ALEN);
    if (arp_send(nif, ust_eth_broadcast, &a) == 0)
        UST_INC(nif->stack, ARP, OutGratuitous);
}

/* ---- State machine ------------------------------------------------------ */

/* Resolution failed: the waiting packets get ICMP host unreachable (RFC 1122
 * 3.2.2.1; Linux arp_error_report) and are dropped. The entry goes first, so
 * nothing below can find it half-dead. */
static void arp_resolve_failed(struct ust_stack *stack, struct ust_arp_entry *e)
{
    struct ust_fbq q = e->pending;
    ust_fbq_init(&e->pending);
    arp_entry_free(stack, e);
    UST_INC(stack, ARP, ResolveFailed);

    struct ust_fbuf *fb;
    while ((fb = ust_fbq_pop(&q)) != NULL) {
        fb->l3 = fb->data;
        fb->flags &= ~UST_FB_BROADCAST;
        ust_icmp_send_error(stack, fb, UST_ICMP_DEST_UNREACH, UST_ICMP_HOST_UNREACH, 0);
        ust_fbuf_free(stack, fb);
    }
}

static unsigned arp_max_probes(const struct ust_stack *stack)
{
    return stack->cfg.arp_max_probes ? stack->cfg.arp_max_probes : 1;
}

static void arp_timer(void *ctx, struct ust_timer *t)
{
    struct ust_stack *stack = ctx;
    struct ust_arp_entry *e = ust_container_of(t, struct ust_arp_entry, timer);
    uint64_t now = stack->now;

    switch (e->state) {
    case UST_ARP_INCOMPLETE:
    case UST_ARP_PROBE:
        if (e->probes < arp_max_probes(stack)) {
            e->probes++;
            arp_send_request(e->nif, e->ip, e->state == UST_ARP_PROBE ? e->mac : NULL);
            ust_timer_set(&stack->timers, &e->timer, now + stack->cfg.arp_retrans_ns);
        } else if (e->state == UST_ARP_INCOMPLETE) {
            arp_resolve_failed(stack, e);
        } else {
            arp_entry_free(stack, e);   /* the neighbour went away */
        }
        break;
    case UST_ARP_REACHABLE:
        e->state = UST_ARP_STALE;
        ust_timer_set(&stack->timers, &e->timer, now + stack->cfg.arp_reachable_ns);
        break;
    default:                            /* STALE and unused for a whole period */
        arp_entry_free(stack, e);
        break;
    }
}

/* A confirmation (any ARP packet from the neighbour): record the MAC, start
 * a new reachable period and send what was waiting. */
static void arp_confirm(struct ust_stack *stack, struct ust_arp_entry *e, const uint8_t mac[6])
{
    memcpy(e->mac, mac, UST_ETH_ALEN);
    e->state = UST_ARP_REACHABLE;
    e->probes = 0;
    ust_timer_set(&stack->timers, &e->timer, stack->now + stack->cfg.arp_reachable_ns);
    ust_net_list_del(&e->lru);
    ust_net_list_add_tail(&stack->net.arp_lru, &e->lru);

    struct ust_fbq q = e->pending;
    ust_fbq_init(&e->pending);
    struct ust_fbuf *fb;
    while ((fb = ust_fbq_pop(&q)) != NULL)
        ust_eth_output(e->nif, e->mac, UST_ETHERTYPE_IPV4, fb);
}

/* ---- Output: resolve the next hop --------------------------------------- */

/* RFC 1112 6.4: 01:00:5e + the low 23 bits of the group. */
static void ipv4_mcast_mac(uint32_t group, uint8_t mac[6])
{
    mac[0] = 0x01;
    mac[1] = 0x00;
    mac[2] = 0x5e;
    mac[3] = (uint8_t)((group >> 16) & 0x7f);
    mac[4] = (uint8_t)(group >> 8);
    mac[5] = (uint8_t)group;
}

/* Linux unres_qlen: at most arp_pending_max packets wait; the oldest goes. */
static void arp_enqueue(struct ust_stack *stack, struct ust_arp_entry *e, struct ust_fbuf *fb)
{
    if (stack->cfg.arp_pending_max == 0) {
        UST_INC(stack, ARP, PendingDrops);
        ust_fbuf_free(stack, fb);
        return;
    }
    if (e->pending.count >= stack->cfg.arp_pending_max) {
        UST_INC(stack, ARP, PendingDrops);
        ust_fbuf_free(stack, ust_fbq_pop(&e->pending));
    }
    fb->tstamp = stack->now;
    ust_fbq_push(&e->pending, fb);
}

int ust_arp_output(struct ust_netif *nif, uint32_t nexthop, struct ust_fbuf *fb)
{
    struct ust_stack *stack = nif->stack;
    uint8_t mac[UST_ETH_ALEN];

    if (ust_ipv4_is_limited_bcast(nexthop) || nexthop == ust_net_subnet_bcast(nif))
        return ust_eth_output(nif, ust_eth_broadcast, UST_ETHERTYPE_IPV4, fb);
    if (ust_ipv4_is_multicast(nexthop)) {
        ipv4_mcast_mac(nexthop, mac);
        return ust_eth_output(nif, mac, UST_ETHERTYPE_IPV4, fb);
    }

    struct ust_arp_entry *e = arp_find(stack, nif, nexthop);
    if (!e) {
        e = arp_entry_new(stack, nif, nexthop, UST_ARP_INCOMPLETE);
        arp_enqueue(stack, e, fb);
        e->probes = 1;
        arp_send_request(nif, nexthop, NULL);
        ust_timer_set(&stack->timers, &e->timer, stack->now + stack->cfg.arp_retrans_ns);
        return 0;
    }
    switch (e->state) {
    case UST_ARP_INCOMPLETE:
        arp_enqueue(stack, e, fb);
        return 0;
    case UST_ARP_STALE:
        /* In use again: keep sending, reconfirm with unicast probes. */
        e->state = UST_ARP_PROBE;
        e->probes = 1;
        arp_send_request(nif, nexthop, e->mac);
        ust_timer_set(&stack->timers, &e->timer, stack->now + stack->cfg.arp_retrans_ns);
        break;
    default:
        break;
    }
    memcpy(mac, e->mac, UST_ETH_ALEN);
    return ust_eth_output(nif, mac, UST_ETHERTYPE_IPV4, fb);
}

/* ---- Input -------------------------------------------------------------- */

/* Sanity checks Linux's arp_process makes, plus our own echo: a sender that
 * is us, a group or broadcast MAC, or a group/broadcast/loopback address
 * cannot be a neighbour. */
static bool arp_valid(struct ust_netif *nif, const struct ust_arp_pkt *a)
{
    struct ust_stack *stack = nif->stack;
    if (a->op != UST_ARP_REQUEST && a->op != UST_ARP_REPLY)
        return false;
    if (ust_eth_is_multicast(a->sha) || memcmp(a->sha, zero_mac, UST_ETH_ALEN) == 0)
        return false;
    if (memcmp(a->sha, nif->mac, UST_ETH_ALEN) == 0)
        return false;
    if (ust_ipv4_is_multicast(a->spa) || ust_ipv4_is_loopback(a->spa) || ust_net_is_bcast(stack, a->spa))
        return false;
    if (ust_ipv4_is_multicast(a->tpa) || ust_ipv4_is_loopback(a->tpa))
        return false;
    /* Someone else claims one of our addresses: never cache it. */
    if (a->spa != 0 && ust_net_is_local_addr(stack, a->spa)) {
        ust_info(stack, "arp: address conflict on %s", nif->name);
        return false;
    }
    return true;
}

static void arp_reply(struct ust_netif *nif, const struct ust_arp_pkt *req)
{
    struct ust_arp_pkt a = { .op = UST_ARP_REPLY, .spa = req->tpa, .tpa = req->spa };
    memcpy(a.sha, nif->mac, UST_ETH_ALEN);
    memcpy(a.tha, req->sha, UST_ETH_ALEN);
    if (arp_send(nif, req->sha, &a) == 0)
        UST_INC(nif->stack, ARP, OutReplies);
}

void ust_arp_input(struct ust_netif *nif, struct ust_fbuf *fb)
{
    struct ust_stack *stack = nif->stack;
    struct ust_arp_pkt a;

    if (ust_arp_parse(fb->data, fb->len, &a) < 0 || !arp_valid(nif, &a)) {
        UST_INC(stack, ARP, InErrors);
        ust_fbuf_free(stack, fb);
        return;
    }
    ust_fbuf_free(stack, fb);
    if (a.op == UST_ARP_REQUEST)
        UST_INC(stack, ARP, InRequests);
    else
        UST_INC(stack, ARP, InReplies);

    bool for_us = a.tpa != 0 && ust_net_is_local_addr(stack, a.tpa);
    if (a.spa == 0) {
        /* RFC 5227 probe (duplicate address detection): answer, learn nothing. */
        if (for_us && a.op == UST_ARP_REQUEST)
            arp_reply(nif, &a);
        return;
    }

    /* RFC 826: "If the pair <protocol type, sender protocol address> is
     * already in my translation table, update the sender hardware address
     * field of the entry with the new information ... set Merge_flag". */
    struct ust_arp_entry *e = arp_find(stack, nif, a.spa);
    if (e)
        arp_confirm(stack, e, a.sha);
    if (!for_us)
        return;
    /* "If Merge_flag is false, add the triplet" -- for requests only. */
    if (!e && a.op == UST_ARP_REQUEST) {
        e = arp_entry_new(stack, nif, a.spa, UST_ARP_REACHABLE);
        arp_confirm(stack, e, a.sha);
    }
    if (a.op == UST_ARP_REQUEST)
        arp_reply(nif, &a);
}

/* ---- Setup, teardown, inspection ---------------------------------------- */

static uint32_t pow2_at_least(uint32_t n)
{
    uint32_t p = 1;
    while (p < n && p < (1u << 30))
        p <<= 1;
    return p;
}

int ust_arp_init(struct ust_stack *stack)
{
    struct ust_net_state *ns = &stack->net;
    unsigned n = stack->cfg.arp_cache_size;
    ust_net_list_init(&ns->arp_lru);
    ust_net_list_init(&ns->arp_free);
    ns->arp_entries = calloc(n, sizeof(*ns->arp_entries));
    if (!ns->arp_entries)
        return -ENOMEM;
    /* Buckets sized once for the whole cache: the table never resizes. */
    uint32_t buckets = pow2_at_least(n);
    int err = ust_ht_init(&ns->arp_ht, buckets, buckets);
    if (err) {
        free(ns->arp_entries);
        ns->arp_entries = NULL;
        return err < 0 ? err : -ENOMEM;
    }
    for (unsigned i = 0; i < n; i++) {
        struct ust_arp_entry *e = &ns->arp_entries[i];
        ust_timer_init(&e->timer, arp_timer);
        ust_fbq_init(&e->pending);
        ust_net_list_add_tail(&ns->arp_free, &e->lru);
    }
    return 0;
}

void ust_arp_fini(struct ust_stack *stack)
{
    struct ust_net_state *ns = &stack->net;
    if (!ns->arp_entries)
        return;
    while (!ust_net_list_empty(&ns->arp_lru))
        arp_entry_free(stack, ust_container_of(ns->arp_lru.next, struct ust_arp_entry, lru));
    ust_ht_fini(&ns->arp_ht);
    free(ns->arp_entries);
    ns->arp_entries = NULL;
}

int ust_arp_lookup(struct ust_stack *stack, const struct ust_netif *nif, uint32_t ip,
                   uint8_t mac[6])
{
    struct ust_arp_entry *e = arp_find(stack, nif, ip);
    if (!e)
        return UST_ARP_NONE;
    if (mac && e->state != UST_ARP_INCOMPLETE)
        memcpy(mac, e->mac, UST_ETH_ALEN);
    return e->state;
}
