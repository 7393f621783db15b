/* Calls on any descriptor: sockets now, pipes and queues later.
 *
 * Descriptors are small integers per stack, the lowest free one first
 * (POSIX), at most cfg.max_fds (EMFILE); EBADF for anything else. */
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
/* F_GETFL, F_SETFL (O_NONBLOCK; on pipes and FIFOs also O_DIRECT, as
 * Linux, which gives EINVAL for O_DIRECT on anything else, and O_ASYNC),
 * F_SETOWN / F_GETOWN (the pid, or -pgid, that O_ASYNC's SIGIO goes to;
 * stored for any descriptor, sent by pipes and FIFOs), F_GETFD, F_SETFD
 * (FD_CLOEXEC is stored; nothing here execs), F_DUPFD, F_DUPFD_CLOEXEC.
 * Others: EINVAL. */
int ust_fcntl(struct ust_stack *stack, int fd, int cmd, ...);
/* lseek(2): EBADF for a bad descriptor, EINVAL for whence beyond SEEK_HOLE,
 * ESPIPE for pipes, FIFOs, sockets and every other unseekable descriptor.
 * A POSIX queue descriptor seeks in its status line (see ust_mq_open). */
off_t ust_lseek(struct ust_stack *stack, int fd, off_t offset, int whence);
/* FIONREAD/SIOCINQ (bytes of the next datagram / bytes readable), FIONBIO,
 * FIOCLEX, FIONCLEX, SIOCOUTQ. Others: ENOTTY. */
int ust_ioctl(struct ust_stack *stack, int fd, unsigned long request, ...);

/* poll(2) over ustack descriptors. revents holds the requested events that
 * are true plus POLLERR/POLLHUP (always) and POLLNVAL (not an open
 * descriptor); negative fds are skipped. Returns how many descriptors have
 * events. timeout_ms < 0 waits forever; waiting needs the stack thread
 * (ust_stack_start): without it the timeout is treated as 0 and ust_poll
 * returns what is ready now. EINVAL for nfds > cfg.max_fds. */
int ust_poll(struct ust_stack *stack, struct pollfd *fds, nfds_t nfds, int timeout_ms);

#ifdef __cplusplus
}
#endif
#endif
