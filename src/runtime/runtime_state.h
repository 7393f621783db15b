/* Members of struct ust_stack owned by runtime/: the big lock and the stack
 * thread. Everything below runtime/ is single-threaded and assumes the lock
 * is held; every public ust_* call takes it on entry. */
#ifndef UST_RUNTIME_RUNTIME_STATE_H
#define UST_RUNTIME_RUNTIME_STATE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "netif/netif.h"

struct ust_waiter;

/* FUTEX_WAKEs a lock holder may defer to its ust_rt_unlock (more are made
 * at once, under the lock). */
#define UST_RT_DEFERRED_WAKES 16

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
    /* The deadline the stack thread sleeps until (the earliest timer when
     * it last looked; UINT64_MAX: none). A caller that arms an earlier
     * timer wakes it in ust_rt_unlock. */
    uint64_t sleep_until;
    /* Loopback frames were queued by a caller (not the stack thread):
     * ust_rt_unlock delivers them in the caller's thread. */
    bool softirq_pending;
    /* Every caller asleep in ust_rt_sleep, so ust_stack_stop can wake them. */
    struct ust_waiter *sleepers;
    /* Callers asleep outside ust_rt_wait, on a shared IPC object's futex
     * (ust_rt_ext_sleep_begin/end): counted as sleepers, in the kernel. */
    unsigned ext_sleepers;
    /* State words of sleepers woken under the lock that sleep in the
     * kernel: ust_rt_unlock FUTEX_WAKEs them once the lock is released. */
    _Atomic uint32_t *deferred[UST_RT_DEFERRED_WAKES];
    unsigned n_deferred;
    /* How long a sleeper spins before sleeping in the kernel (from
     * cfg.wait_spin_ns; 0 on a single CPU). */
    uint64_t spin_ns;
};

#endif
