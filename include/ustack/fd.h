/* Calls on any descriptor: sockets now, pipes and queues later. */
#ifndef USTACK_FD_H
#define USTACK_FD_H

#include <poll.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

struct ust_stack;

ssize_t ust_read(struct ust_stack *stack, int fd, void *buf, size_t len);
ssize_t ust_write(struct ust_stack *stack, int fd, const void *buf, size_t len);
int ust_close(struct ust_stack *stack, int fd);
/* F_GETFL, F_SETFL (O_NONBLOCK), F_GETFD, F_SETFD. */
int ust_fcntl(struct ust_stack *stack, int fd, int cmd, ...);
/* FIONREAD (bytes of the next datagram / bytes readable), FIONBIO. */
int ust_ioctl(struct ust_stack *stack, int fd, unsigned long request, ...);

/* poll(2) over ustack descriptors. timeout_ms < 0 waits forever (only with
 * the stack thread running; otherwise it returns what is ready now). */
int ust_poll(struct ust_stack *stack, struct pollfd *fds, nfds_t nfds, int timeout_ms);

#ifdef __cplusplus
}
#endif
#endif
