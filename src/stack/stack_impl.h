/* struct ust_stack: one host. Each layer keeps its state in a member it
 * defines in its own header; this file only assembles them. */
#ifndef UST_STACK_STACK_IMPL_H
#define UST_STACK_STACK_IMPL_H

#include <stdbool.h>
#include <stdint.h>

#include <ustack/stack.h>
#include <ustack/stats.h>
#include <ustack/trace.h>

#include "core/fbuf.h"
#include "core/rand.h"
#include "core/timer.h"
#include "netif/netif.h"
#include "net/net_state.h"
#include "net/udp_state.h"
#include "tcp/tcp_state.h"
#include "ipc/ipc_state.h"
#include "fd/fd_state.h"
#include "runtime/runtime_state.h"

struct ust_stack {
    struct ust_stack_config cfg;
    uint64_t now;                       /* ns; last time passed in */
    uint64_t hash_key[2];               /* secret for ust_hash_* */
    struct ust_rng rng;
    struct ust_timerwheel timers;
    struct ust_fbpool fbpool;
    uint64_t stats[UST_STAT__COUNT];
    bool work_pending;                  /* something queued (loopback rxq) */
    /* Called (lock held) when work was queued for ust_stack_poll; the stack
     * thread sets it to wake itself, the simulator to schedule the host. */
    void (*kick)(struct ust_stack *stack, void *arg);
    void *kick_arg;

    struct ust_netif *netifs[UST_MAX_NETIFS];
    unsigned n_netifs;
    struct ust_netif *lo;

    struct ust_net_state net;           /* net/: ARP, routes, reassembly, ICMP */
    struct ust_udp_state udp;           /* net/udp.c: UDP and ping sockets */
    struct ust_tcp_state tcp;           /* tcp/: connections, listeners */
    struct ust_ipc_state ipc;           /* ipc/: FIFOs, message queues */
    struct ust_fd_state fds;            /* fd/: descriptor table */
    struct ust_rt_state rt;             /* runtime/: lock, stack thread */

    struct {                            /* stack/trace.c: the event trace */
        uint32_t mask;                  /* UST_TRACE_BIT(kind)s wanted; 0 = off */
        ust_trace_fn fn;
        void *arg;
    } trace;
};

/* Marks work pending and calls the kick hook. */
void ust_stack_kick(struct ust_stack *stack);
/* ust_stack_poll with the lock already held (stack thread, simulator). */
uint64_t ust_stack_poll_locked(struct ust_stack *stack, uint64_t now_ns);

#endif
