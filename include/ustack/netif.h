/* Network interfaces. A netif moves frames; the stack owns it once added.
 * Addresses in this header are in network byte order (as in struct in_addr). */
#ifndef USTACK_NETIF_H
#define USTACK_NETIF_H

#include <netinet/in.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct ust_stack;
struct ust_netif;
struct ust_link_params;
struct ust_link_stats;

/* Flags for ust_tap_open / ust_tun_open. */
#define UST_TAP_ATTACH_ONLY 0x1  /* fail with ENODEV unless the device exists (persistent) */

/* Open a Linux TAP device (IFF_TAP|IFF_NO_PI): attaches to an existing
 * persistent tap of that name or creates one. Needs CAP_NET_ADMIN for
 * creating. The interface gets a random locally-administered MAC. */
struct ust_netif *ust_tap_open(struct ust_stack *stack, const char *ifname, int flags);
/* Open a Linux TUN device (IFF_TUN|IFF_NO_PI): IPv4 packets, no Ethernet, no ARP. */
struct ust_netif *ust_tun_open(struct ust_stack *stack, const char *ifname, int flags);

/* The loopback interface (127.0.0.1/8), always present. */
struct ust_netif *ust_loopback(struct ust_stack *stack);
/* Interface by name ("lo", "tap0", "sim0"...), NULL if none. */
struct ust_netif *ust_netif_by_name(struct ust_stack *stack, const char *name);

/* IPv4 address and prefix length; adds the connected route. Sends a
 * gratuitous ARP on Ethernet interfaces. */
int ust_netif_set_ipv4(struct ust_netif *nif, struct in_addr addr, int prefix_len);
int ust_netif_set_mtu(struct ust_netif *nif, unsigned mtu);
int ust_netif_set_mac(struct ust_netif *nif, const uint8_t mac[6]);
void ust_netif_get_mac(const struct ust_netif *nif, uint8_t mac[6]);
const char *ust_netif_name(const struct ust_netif *nif);

/* Default gateway (0.0.0.0/0 via gw). */
int ust_route_add_default(struct ust_stack *stack, struct in_addr gw);
/* A route to dst/prefix_len via gw (gw 0 = directly connected) on nif. */
int ust_route_add(struct ust_stack *stack, struct in_addr dst, int prefix_len,
                  struct in_addr gw, struct ust_netif *nif);

/* Capture every frame this netif sends and receives to a pcap file
 * (LINKTYPE_ETHERNET, or LINKTYPE_RAW for TUN). Timestamps are the stack's
 * clock. One capture per netif; ust_netif_capture_stop closes it. */
int ust_netif_capture_start(struct ust_netif *nif, const char *path);
int ust_netif_capture_stop(struct ust_netif *nif);

/* Impairments on one direction of a netif, like Linux's netem, for any
 * driver (TAP, TUN, sim; loopback only on transmit): dir UST_IMPAIR_RX
 * (frames arriving from the driver) or UST_IMPAIR_TX (frames the stack
 * sends). The model is the simulator's links' (see ust_sim_link_new in
 * ustack/sim.h): a full queue drops (queue_limit frames held, 0 = 1000),
 * serialisation at rate_bps, then loss, corruption, delay + jitter (or no
 * delay when reordered) and duplication. mtu is ignored. p NULL or all zero
 * turns the direction off (frames still held are dropped). The dice come
 * from the stack's PRNG, so a stack seed replays the same fates. Delayed
 * frames are released by a timer on the stack's clock. A capture
 * (ust_netif_capture_start) records what the stack itself sees: received
 * frames after the receive impairment, sent frames before the transmit one.
 * -1 and errno EINVAL (bad dir), EOPNOTSUPP (receive side of loopback),
 * ENOMEM. */
#define UST_IMPAIR_RX 0
#define UST_IMPAIR_TX 1
int ust_netif_set_impairment(struct ust_netif *nif, int dir, const struct ust_link_params *p);
/* Counters of a direction's impairment (ust_link_stats of ustack/sim.h:
 * sent = frames offered, delivered = frames passed on, duplicates included;
 * rx_nobufs = no buffer for a duplicate; down_drops = released while the
 * netif was down). All zero if never set. */
int ust_netif_impairment_stats(struct ust_netif *nif, int dir, struct ust_link_stats *out);

#ifdef __cplusplus
}
#endif
#endif
