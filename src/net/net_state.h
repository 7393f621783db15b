/* Members of struct ust_stack owned by net/ (ARP, routing, reassembly, ICMP).
 * Owner: net/. Kept apart from net.h so stack_impl.h stays small. */
#ifndef UST_NET_NET_STATE_H
#define UST_NET_NET_STATE_H

#include <stdint.h>

struct ust_net_state {
    uint16_t ip_id;             /* next IPv4 identification */
};

#endif
