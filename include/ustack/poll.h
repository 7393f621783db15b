/* epoll over ustack descriptors (ust_poll itself is in fd.h). Flags, events
 * and struct epoll_event are Linux's (<sys/epoll.h>). */
#ifndef USTACK_POLL_H
#define USTACK_POLL_H

#include <sys/epoll.h>

#ifdef __cplusplus
extern "C" {
#endif

struct ust_stack;

/* epoll_create1(2): flags 0 or EPOLL_CLOEXEC (else EINVAL). The epoll fd is
 * itself pollable (POLLIN while a watched descriptor is ready), also by
 * another epoll (nesting, as Linux). */
int ust_epoll_create1(struct ust_stack *stack, int flags);
/* epoll_create(2): size must be > 0 (else EINVAL) and is otherwise ignored. */
int ust_epoll_create(struct ust_stack *stack, int size);
/* epoll_ctl(2): EPOLL_CTL_ADD / MOD / DEL of (fd, event) with EPOLLIN,
 * EPOLLOUT, EPOLLRDHUP, EPOLLPRI, EPOLLET, EPOLLONESHOT (EPOLLERR and
 * EPOLLHUP are always reported). EBADF (bad epfd or fd), EINVAL (epfd not an
 * epoll, fd == epfd, bad op), ELOOP (adding an epoll would close a cycle or
 * nest more than 4 deep), EEXIST (ADD twice), ENOENT (MOD or
 * DEL of a descriptor not registered), EPERM (fd cannot be polled), ENOSPC
 * (more than cfg.max_fds watches), EFAULT (NULL event for ADD/MOD).
 * A watch goes away when every descriptor of its file is closed. */
int ust_epoll_ctl(struct ust_stack *stack, int epfd, int op, int fd, struct epoll_event *event);
/* epoll_wait(2): level-triggered by default, edge-triggered with EPOLLET,
 * disarmed after one report with EPOLLONESHOT (until EPOLL_CTL_MOD). Costs
 * O(ready descriptors), not O(registered). timeout_ms < 0 waits forever;
 * waiting needs the stack thread (ust_stack_start): without it the call
 * returns what is ready now. EINVAL for maxevents <= 0 or epfd not an epoll,
 * EBADF for a bad epfd, EFAULT for NULL events. */
int ust_epoll_wait(struct ust_stack *stack, int epfd, struct epoll_event *events,
                   int maxevents, int timeout_ms);

#ifdef __cplusplus
}
#endif
#endif
