/* Internals shared by the files of net/ (eth.c, arp.c, ipv4.c, route.c,
 * reasm.c, icmp.c). Not for other layers: they use net.h. All functions
 * assume the stack lock is held; addresses are host byte order. */
#ifndef UST_NET_NET_INTERNAL_H
#define UST_NET_NET_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "core/fbuf.h"
#include "net/net.h"
#include "net/net_state.h"
#include "wire/wire.h"

struct ust_stack;
struct ust_netif;

/* ---- Small address helpers -------------------------------------------- */

static inline uint32_t ust_prefix_mask(unsigned prefix_len)
{
    return prefix_len == 0 ? 0 : 0xffffffffu << (32 - prefix_len);
}

/* The directed (subnet) broadcast address of nif, or 0 when it has none
 * (no address, or a /31 or /32 prefix: RFC 3021). */
uint32_t ust_net_subnet_bcast(const struct ust_netif *nif);
/* True for 255.255.255.255 and for the subnet broadcast of any interface. */
bool ust_net_is_bcast(const struct ust_stack *stack, uint32_t addr);
/* True if addr may be the source of a datagram from a host: not 0.0.0.0/8,
 * not multicast, not a broadcast, not class E (RFC 1122 3.2.1.3). */
bool ust_net_is_unicast_host(const struct ust_stack *stack, uint32_t addr);

/* ---- Intrusive list (net_state.h) ------------------------------------- */

static inline void ust_net_list_init(struct ust_net_list *h) { h->prev = h->next = h; }
static inline bool ust_net_list_empty(const struct ust_net_list *h) { return h->next == h; }
static inline void ust_net_list_del(struct ust_net_list *n)
{
    n->prev->next = n->next;
    n->next->prev = n->prev;
    n->prev = n->next = n;
}
/* Appends n at the tail (newest end) of h. */
static inline void ust_net_list_add_tail(struct ust_net_list *h, struct ust_net_list *n)
{
    n->prev = h->prev;
    n->next = h;
    h->prev->next = n;
    h->prev = n;
}

/* ---- eth.c ------------------------------------------------------------- */

/* Prepends an Ethernet header (src = nif's MAC) and transmits. Takes ownership. */
int ust_eth_output(struct ust_netif *nif, const uint8_t dst[UST_ETH_ALEN], uint16_t type,
                   struct ust_fbuf *fb);

/* ---- arp.c ------------------------------------------------------------- */

int ust_arp_init(struct ust_stack *stack);
void ust_arp_fini(struct ust_stack *stack);
/* fb->data at the ARP packet. Takes ownership. */
void ust_arp_input(struct ust_netif *nif, struct ust_fbuf *fb);
/* Sends the IPv4 packet at fb->data to nexthop on an Ethernet netif:
 * broadcast/multicast mapping, cached MAC, or queue and resolve. Takes
 * ownership. */
int ust_arp_output(struct ust_netif *nif, uint32_t nexthop, struct ust_fbuf *fb);
/* Gratuitous ARP announcing nif->addr (RFC 5227 2.3 announcement form). */
void ust_arp_announce(struct ust_netif *nif);

/* ---- ipv4.c ------------------------------------------------------------ */

/* fb->data at the IPv4 header. Takes ownership. */
void ust_ipv4_input(struct ust_netif *nif, struct ust_fbuf *fb);

/* ---- reasm.c ----------------------------------------------------------- */

int ust_reasm_init(struct ust_stack *stack);
void ust_reasm_fini(struct ust_stack *stack);
/* A fragment: fb->l3 at its IPv4 header, fb->data/len its payload. Takes
 * ownership. Returns the whole datagram (fb->l3 at a rebuilt header with
 * frag = 0, data/len its payload, *ih updated) once complete, else NULL. */
struct ust_fbuf *ust_reasm_input(struct ust_stack *stack, struct ust_fbuf *fb,
                                 struct ust_ipv4_hdr *ih);

/* ---- icmp.c ------------------------------------------------------------ */

void ust_icmp_init(struct ust_stack *stack);
/* fb->data at the ICMP header, fb->len the ICMP message length, fb->l3 set.
 * Takes ownership. */
void ust_icmp_input(struct ust_stack *stack, struct ust_fbuf *fb, const struct ust_ipv4_hdr *ih);

/* ---- route.c ----------------------------------------------------------- */

void ust_route_del_connected(struct ust_stack *stack, struct ust_netif *nif);

#endif
