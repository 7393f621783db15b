/* Members of struct ust_stack owned by net/udp.c (UDP and ping sockets). */
#ifndef UST_NET_UDP_STATE_H
#define UST_NET_UDP_STATE_H

#include <stdint.h>

struct ust_udp_state {
    uint16_t next_ephemeral;
};

#endif
