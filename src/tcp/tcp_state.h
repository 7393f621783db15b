/* Members of struct ust_stack owned by tcp/ (connection tables, ISN secret,
 * counters). Owner: tcp/. */
#ifndef UST_TCP_TCP_STATE_H
#define UST_TCP_TCP_STATE_H

#include <stdint.h>

struct ust_tcp_state {
    uint32_t nconns;            /* connection blocks alive */
};

#endif
