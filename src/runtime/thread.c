/* The stack thread (ust_stack_start / ust_stack_stop).
 *
 * It loops: take the lock, read CLOCK_MONOTONIC, run ust_stack_poll_locked,
 * release the lock, then sleep in epoll_wait on every netif's descriptor and
 * an eventfd until the deadline the stack returned (millisecond timeout,
 * rounded up, so timers never fire early; the timer wheel ticks in
 * milliseconds anyway). Work that a caller queues for the stack (a loopback
 * send) is done by that caller before it releases the lock (ust_rt_softirq),
 * not by waking the thread; a caller that arms a timer earlier than the
 * thread's deadline writes the eventfd so the thread polls at once (both in
 * ust_rt_unlock). The netif list is re-read every loop; when a
 * netif is added while the thread sleeps, the next ust_rt_unlock sees the
 * count change and wakes it, so the new descriptor is watched at once. */
#include "runtime/runtime.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <ustack/stack.h>

#include "core/util.h"
#include "stack/stack_impl.h"

/* Called with the lock held by whoever queued work. The stack thread never
 * needs to wake itself: ust_stack_poll_locked returns "now" when work is
 * pending, so it loops without sleeping. */
void ust_rt_wake_thread(struct ust_stack *stack)
{
    struct ust_rt_state *rt = &stack->rt;
    if (!rt->running || rt->wake_fd < 0 || pthread_equal(pthread_self(), rt->thread))
        return;
    uint64_t one = 1;
    ssize_t n = write(rt->wake_fd, &one, sizeof(one));
    (void)n;    /* EAGAIN: the counter is saturated, the thread wakes anyway */
}

/* Work was queued for the stack (a loopback transmit). The stack thread
 * loops by itself (ust_stack_poll_locked returns "now"); a caller's queued
 * frames are delivered by its own ust_rt_unlock (ust_rt_softirq), as Linux
 * runs the softirq in the sending thread after loopback_xmit, instead of
 * waking the stack thread for each of them. */
static void rt_kick(struct ust_stack *stack, void *arg)
{
    struct ust_rt_state *rt = &stack->rt;
    if (!pthread_equal(pthread_self(), rt->thread))
        rt->softirq_pending = true;
}

void ust_rt_softirq(struct ust_stack *stack)
{
    struct ust_rt_state *rt = &stack->rt;
    /* Replies to ourselves queue more frames: a few rounds, then leave the
     * rest to the stack thread so one caller does not run unboundedly. */
    for (unsigned round = 0; round < 8 && rt->softirq_pending; round++) {
        rt->softirq_pending = false;
        for (unsigned i = 0; i < stack->n_netifs; i++)
            ust_netif_process_rxq(stack->netifs[i]);
    }
    if (rt->softirq_pending) {
        rt->softirq_pending = false;
        ust_rt_wake_thread(stack);
    }
}

static int netif_poll_fd(struct ust_netif *nif)
{
    return nif->ops->poll_fd ? nif->ops->poll_fd(nif) : -1;
}

static bool watching(const struct ust_rt_state *rt, const struct ust_netif *nif, int fd)
{
    for (unsigned i = 0; i < rt->n_watched; i++)
        if (rt->watched[i].nif == nif && rt->watched[i].fd == fd)
            return true;
    return false;
}

/* Brings the epoll set in line with the netifs' descriptors. Lock held. */
static void sync_netif_fds(struct ust_stack *stack)
{
    struct ust_rt_state *rt = &stack->rt;
    unsigned n = 0;
    struct ust_rt_watch want[UST_MAX_NETIFS];
    for (unsigned i = 0; i < stack->n_netifs && n < UST_MAX_NETIFS; i++) {
        int fd = netif_poll_fd(stack->netifs[i]);
        if (fd >= 0) {
            want[n].nif = stack->netifs[i];
            want[n].fd = fd;
            n++;
        }
    }
    for (unsigned i = 0; i < rt->n_watched; i++) {
        bool still = false;
        for (unsigned j = 0; j < n; j++)
            still |= want[j].nif == rt->watched[i].nif && want[j].fd == rt->watched[i].fd;
        if (!still)   /* fails harmlessly when the driver already closed it */
            epoll_ctl(rt->epoll_fd, EPOLL_CTL_DEL, rt->watched[i].fd, NULL);
    }
    for (unsigned j = 0; j < n; j++) {
        if (watching(rt, want[j].nif, want[j].fd))
            continue;
        struct epoll_event ev = { .events = EPOLLIN, .data.fd = want[j].fd };
        if (epoll_ctl(rt->epoll_fd, EPOLL_CTL_ADD, want[j].fd, &ev) < 0 && errno == EEXIST)
            epoll_ctl(rt->epoll_fd, EPOLL_CTL_MOD, want[j].fd, &ev);
    }
    for (unsigned j = 0; j < n; j++)
        rt->watched[j] = want[j];
    rt->n_watched = n;
    rt->netifs_synced = stack->n_netifs;
}

/* epoll_wait timeout until `next`, rounded up to whole milliseconds. */
static int timeout_ms(uint64_t next, uint64_t now)
{
    if (next == UST_NO_DEADLINE)
        return -1;
    if (next <= now)
        return 0;
    uint64_t ms = (next - now + UST_NSEC_PER_MSEC - 1) / UST_NSEC_PER_MSEC;
    return ms > INT_MAX ? INT_MAX : (int)ms;
}

static void drain_eventfd(int fd)
{
    uint64_t v;
    ssize_t n = read(fd, &v, sizeof(v));
    (void)n;
}

static void *stack_thread(void *arg)
{
    struct ust_stack *stack = arg;
    struct ust_rt_state *rt = &stack->rt;
    struct epoll_event evs[UST_MAX_NETIFS + 1];

    ust_rt_lock(stack);
    while (!rt->stopping) {
        uint64_t next = ust_stack_poll_locked(stack, ust_rt_clock_ns());
        uint64_t now = stack->now;
        rt->sleep_until = next;
        sync_netif_fds(stack);
        int ep = rt->epoll_fd, wake = rt->wake_fd;
        ust_rt_unlock(stack);

        int n = epoll_wait(ep, evs, (int)UST_ARRAY_SIZE(evs), timeout_ms(next, now));
        for (int i = 0; i < n; i++)
            if (evs[i].data.fd == wake)
                drain_eventfd(wake);

        ust_rt_lock(stack);
    }
    ust_rt_unlock(stack);
    return NULL;
}

static void close_fds(struct ust_rt_state *rt)
{
    if (rt->epoll_fd >= 0)
        close(rt->epoll_fd);
    if (rt->wake_fd >= 0)
        close(rt->wake_fd);
    rt->epoll_fd = rt->wake_fd = -1;
    rt->n_watched = 0;
}

static int open_fds(struct ust_rt_state *rt)
{
    rt->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    rt->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    if (rt->wake_fd < 0 || rt->epoll_fd < 0)
        goto fail;
    struct epoll_event ev = { .events = EPOLLIN, .data.fd = rt->wake_fd };
    if (epoll_ctl(rt->epoll_fd, EPOLL_CTL_ADD, rt->wake_fd, &ev) < 0)
        goto fail;
    return 0;
fail:;
    int err = errno;
    close_fds(rt);
    return -err;
}

/* Starts the thread with every signal blocked, so the application's signal
 * handlers run on its own threads. */
static int spawn(struct ust_stack *stack)
{
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int err = pthread_create(&stack->rt.thread, NULL, stack_thread, stack);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return -err;
}

int ust_stack_start(struct ust_stack *stack)
{
    if (!stack) {
        errno = EINVAL;
        return -1;
    }
    struct ust_rt_state *rt = &stack->rt;
    ust_rt_lock(stack);
    /* Already running, or driven by someone else (the simulator owns kick). */
    int err = (rt->running || stack->kick) ? -EBUSY : open_fds(rt);
    if (err == 0) {
        rt->netifs_synced = 0;
        rt->running = true;
        rt->stopping = false;
        stack->kick = rt_kick;
        stack->kick_arg = NULL;
        err = spawn(stack);
        if (err) {
            rt->running = false;
            stack->kick = NULL;
            close_fds(rt);
        }
    }
    ust_rt_unlock(stack);
    if (err) {
        errno = -err;
        return -1;
    }
    return 0;
}

int ust_stack_stop(struct ust_stack *stack)
{
    if (!stack) {
        errno = EINVAL;
        return -1;
    }
    struct ust_rt_state *rt = &stack->rt;
    ust_rt_lock(stack);
    if (!rt->running || rt->stopping) {
        int err = rt->running ? EALREADY : EINVAL;
        ust_rt_unlock(stack);
        errno = err;
        return -1;
    }
    rt->stopping = true;
    uint64_t one = 1;
    ssize_t n = write(rt->wake_fd, &one, sizeof(one));
    (void)n;
    ust_rt_wake_all(stack);     /* sleepers return EAGAIN: nothing can wake them now */
    ust_rt_unlock(stack);

    pthread_join(rt->thread, NULL);

    ust_rt_lock(stack);
    rt->running = false;
    rt->stopping = false;
    stack->kick = NULL;
    close_fds(rt);
    ust_rt_unlock(stack);
    return 0;
}
