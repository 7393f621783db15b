/* Per-stack members of struct ust_stack owned by tcp/ (connection tables,
 * counters). Owner: tcp/. */
#ifndef UST_TCP_TCP_STATE_H
#define UST_TCP_TCP_STATE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/htable.h"

struct ust_tcb;

struct ust_tcp_state {
    uint32_t nconns;            /* connection blocks alive */
    struct ust_htable ehash;    /* connections by 4-tuple */
    struct ust_htable lhash;    /* listeners by local port */
    struct ust_htable bhash;    /* every block owning a local port, by port */
    /* RFC 5961 section 7: challenge ACKs per second (Linux: 1000). */
    uint64_t challenge_sec;
    uint32_t challenge_count;
    bool stopping;              /* ust_stack_free runs */
    struct ust_tcb *tw_oldest, *tw_newest;  /* TIME-WAIT blocks in order of entry */
    uint32_t tw_count;
    /* tcp_mem.c: orphans (tcp_max_orphans), oldest first; the bytes of
     * connection blocks and ring storage charged against mem_limit. */
    struct ust_tcb *orph_oldest, *orph_newest;
    uint32_t orphans;
    size_t mem_bytes;
};

#endif
