/* Members of struct ust_stack owned by net/ (ARP, routing, reassembly, ICMP).
 * Owner: net/. Kept apart from net.h so stack_impl.h stays small.
 *
 * Everything here is bounded: the ARP cache has cfg.arp_cache_size entries
 * (allocated once by ust_net_init), the route table UST_ROUTE_MAX entries,
 * reassembly UST_IPQ_MAX queues and cfg.ipfrag_high_thresh bytes. */
#ifndef UST_NET_NET_STATE_H
#define UST_NET_NET_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/fbuf.h"
#include "core/htable.h"
#include "core/timer.h"

struct ust_netif;

#define UST_ROUTE_MAX 64        /* routes per stack */
#define UST_IPQ_MAX 64          /* datagrams being reassembled at once */

/* An intrusive doubly linked list (circular, with a sentinel head). */
struct ust_net_list {
    struct ust_net_list *prev, *next;
};

/* ARP cache entry states (a reduced RFC 4861 / Linux neighbour machine). */
enum ust_arp_state {
    UST_ARP_NONE = 0,           /* free slot / no entry */
    UST_ARP_INCOMPLETE,         /* request sent, packets wait in `pending` */
    UST_ARP_REACHABLE,          /* confirmed within arp_reachable_ns */
    UST_ARP_STALE,              /* usable, unconfirmed; removed if unused for arp_reachable_ns */
    UST_ARP_PROBE,              /* stale entry in use: unicast requests to reconfirm */
};

struct ust_arp_entry {
    struct ust_hnode hnode;     /* in ust_net_state.arp_ht, keyed by (nif, ip) */
    struct ust_net_list lru;    /* in arp_lru (oldest first) or arp_free */
    struct ust_netif *nif;
    uint32_t ip;
    uint8_t mac[6];
    uint8_t state;              /* enum ust_arp_state */
    uint8_t probes;             /* requests sent in the current INCOMPLETE/PROBE round */
    struct ust_timer timer;     /* retransmit or ageing, by state */
    struct ust_fbq pending;     /* IPv4 packets waiting for resolution (INCOMPLETE) */
};

struct ust_route {
    uint32_t dst;               /* network (dst & mask) */
    uint32_t mask;
    uint32_t gw;                /* 0 = directly connected */
    uint8_t prefix_len;
    bool connected;             /* added by ust_net_addr_added */
    struct ust_netif *nif;
};

/* One datagram being reassembled (RFC 791 3.2, RFC 815). Fragments are kept
 * as received, sorted by offset, without overlaps; fb->data/len is each
 * fragment's payload and fb->cb.raw[0] its byte offset. */
struct ust_ipq {
    struct ust_hnode hnode;     /* in ipq_ht, keyed by (src, dst, proto, id) */
    struct ust_net_list age;    /* in ipq_age (oldest first) or ipq_free */
    uint32_t src, dst;
    uint16_t id;
    uint8_t proto;
    bool last_seen;             /* the fragment with MF clear arrived: `total` is known */
    uint32_t total;             /* payload length of the datagram (once last_seen) */
    uint32_t max_end;           /* highest fragment end seen */
    uint32_t received;          /* payload bytes held */
    size_t mem;                 /* buffer bytes held (fb->cap sum), counts against ipfrag_high_thresh */
    struct ust_fbuf *frags;     /* sorted by offset, linked by fb->next */
    struct ust_fbuf *tail;      /* last of frags (in-order arrival is O(1)) */
    struct ust_timer timer;     /* ipfrag_time_ns after the first fragment */
};

struct ust_net_state {
    uint16_t ip_id;             /* next IPv4 identification */

    /* ARP cache */
    struct ust_arp_entry *arp_entries;  /* cfg.arp_cache_size slots */
    struct ust_htable arp_ht;
    struct ust_net_list arp_lru;        /* entries in use, least recently confirmed first */
    struct ust_net_list arp_free;
    unsigned arp_count;                 /* entries in use */

    /* Routes, longest prefix wins */
    struct ust_route routes[UST_ROUTE_MAX];
    unsigned n_routes;

    /* Reassembly */
    struct ust_ipq ipq[UST_IPQ_MAX];
    struct ust_htable ipq_ht;
    struct ust_net_list ipq_age;        /* queues in use, oldest first */
    struct ust_net_list ipq_free;
    unsigned ipq_count;
    size_t ipq_mem;                     /* sum of ust_ipq.mem */

    /* ICMP error rate limit: a token bucket (RFC 1122 3.2.2, Linux
     * icmp_msgs_per_sec / icmp_msgs_burst). One token = 1e9 credit units;
     * time refills icmp_ratelimit_per_s units per ns. */
    uint64_t icmp_credit;
    uint64_t icmp_stamp;                /* stack time of the last refill */
    bool inited;
};

#endif
