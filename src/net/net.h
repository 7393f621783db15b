/* net/: the IPv4 host. ARP, IPv4 input/output, routing, fragmentation and
 * reassembly, ICMP. UDP is in udp.h. All functions assume the stack lock is
 * held. Addresses are host byte order. */
#ifndef UST_NET_NET_H
#define UST_NET_NET_H

#include <stdbool.h>
#include <stdint.h>

#include "core/fbuf.h"
#include "core/timer.h"
#include "wire/wire.h"

struct ust_stack;
struct ust_netif;

/* State of net/ inside struct ust_stack. The net/ owner defines the members
 * (ARP cache, pending queues, route table, reassembly queues, ICMP token
 * bucket, IP id counter...). */
struct ust_net_state;

int ust_net_init(struct ust_stack *stack);
void ust_net_fini(struct ust_stack *stack);

/* What ust_ipv4_output needs besides the payload. */
struct ust_ip_out {
    uint32_t src;               /* 0 = the route's preferred source */
    uint32_t dst;
    uint8_t proto;
    uint8_t ttl;                /* 0 = stack default */
    uint8_t tos;
    bool df;                    /* don't fragment */
};

/* Sends the L4 payload at fb->data (fb->len bytes, with headroom for the
 * headers): routes, fragments if needed (or -EMSGSIZE if df), resolves the
 * next hop with ARP (queueing while unresolved) and transmits. Always takes
 * ownership of fb. Returns 0 or -ENETUNREACH, -EMSGSIZE, -ENOBUFS. */
int ust_ipv4_output(struct ust_stack *stack, struct ust_fbuf *fb, const struct ust_ip_out *o);

struct ust_route_result {
    struct ust_netif *netif;
    uint32_t nexthop;           /* gateway or the destination itself */
    uint32_t src;               /* preferred source address */
};
/* Longest-prefix match. -ENETUNREACH when nothing matches. */
int ust_route_lookup(struct ust_stack *stack, uint32_t dst, struct ust_route_result *out);
/* The route a datagram we originate takes: our own addresses and 127/8 over
 * the loopback (source = the destination, or 127.0.0.1 for the rest of
 * 127/8); 255.255.255.255 directly (never via a gateway), by the first
 * configured interface when no route covers it; else ust_route_lookup.
 * ust_ipv4_output uses it; so can a socket choosing its source address. */
int ust_route_output(struct ust_stack *stack, uint32_t dst, struct ust_route_result *out);
int ust_route_add_internal(struct ust_stack *stack, uint32_t dst, uint8_t prefix_len,
                           uint32_t gw, struct ust_netif *nif);
/* Called by netif.c when an interface gets an address (connected route, gratuitous ARP). */
void ust_net_addr_added(struct ust_netif *nif);
/* A free ephemeral port (cfg.ephemeral_lo..hi) by in_use(arg, port), or
 * -EAGAIN when every one is taken. */
int ust_ephemeral_port(struct ust_stack *stack, bool (*in_use)(void *arg, uint16_t port), void *arg);
/* SO_REUSEPORT (net/port.c): a keyed hash of a flow's 4-tuple, and the
 * weight of one group member (identified by a per-bind number) for that
 * flow; the member with the highest weight takes the flow (rendezvous
 * hashing). Shared by UDP and TCP listeners. */
uint32_t ust_reuseport_hash(const struct ust_stack *stack, uint32_t saddr, uint16_t sport,
                            uint32_t daddr, uint16_t dport);
uint32_t ust_reuseport_weight(const struct ust_stack *stack, uint32_t flow, uint64_t member);
/* True if addr is one of this stack's unicast addresses (or loopback). */
bool ust_net_is_local_addr(struct ust_stack *stack, uint32_t addr);

/* The ARP cache entry for ip on nif: returns its state (enum ust_arp_state
 * in net_state.h, UST_ARP_NONE when there is none) and copies its MAC into
 * mac (if not NULL) when the state is not INCOMPLETE. For tests and tools. */
int ust_arp_lookup(struct ust_stack *stack, const struct ust_netif *nif, uint32_t ip,
                   uint8_t mac[6]);

/* Sends an ICMP error about the datagram in `orig` (orig->l3 points at its
 * IPv4 header), subject to the RFC 1122 3.2.2 rules (never about ICMP errors,
 * broadcasts, non-first fragments) and the rate limit. Does not take
 * ownership of orig. */
void ust_icmp_send_error(struct ust_stack *stack, const struct ust_fbuf *orig,
                         uint8_t type, uint8_t code, uint32_t info);

#endif
