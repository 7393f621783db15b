/* Members of struct ust_stack owned by net/udp.c (UDP and ping sockets). */
#ifndef UST_NET_UDP_STATE_H
#define UST_NET_UDP_STATE_H

#include <stdint.h>

#include "core/htable.h"

struct ust_udp_state {
    /* Bound UDP and ping sockets, hashed by (protocol, local port) with the
     * stack's secret key; sockets sharing a port (SO_REUSEADDR, different
     * local addresses) share a bucket. */
    struct ust_htable ports;
    uint64_t bind_seq;          /* orders binds: the newest wins ties in delivery */
};

#endif
