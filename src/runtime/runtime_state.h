/* Members of struct ust_stack owned by runtime/: the big lock and the stack
 * thread. Everything below runtime/ is single-threaded and assumes the lock
 * is held; every public ust_* call takes it on entry. */
#ifndef UST_RUNTIME_RUNTIME_STATE_H
#define UST_RUNTIME_RUNTIME_STATE_H

#include <pthread.h>
#include <stdbool.h>

#include "netif/netif.h"

struct ust_waiter;

/* A netif descriptor in the stack thread's epoll set. */
struct ust_rt_watch {
    const struct ust_netif *nif;
    int fd;
};

struct ust_rt_state {
    pthread_mutex_t lock;
    pthread_t thread;
    bool running;               /* stack thread started */
    bool stopping;              /* ust_stack_stop in progress */
    int wake_fd;                /* eventfd the stack thread also waits on; -1 */
    int epoll_fd;               /* the stack thread's epoll set; -1 */
    /* Netif descriptors in the epoll set, re-synchronised with the netif
     * list every loop (netifs may be added while the thread runs). */
    struct ust_rt_watch watched[UST_MAX_NETIFS];
    unsigned n_watched;
    unsigned netifs_synced;     /* stack->n_netifs when the set was last synced */
    /* Every caller asleep in ust_rt_sleep, so ust_stack_stop can wake them. */
    struct ust_waiter *sleepers;
};

#endif
