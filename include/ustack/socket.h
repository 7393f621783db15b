/* The BSD socket API, with the stack as first argument.
 *
 * Names, arguments, constants (AF_INET, SOCK_DGRAM, MSG_DONTWAIT, SOL_SOCKET,
 * SO_RCVBUF...) and struct sockaddr_in are the system's own, so code ports by
 * renaming calls. Each call returns -1 and sets errno as Linux would.
 *
 * Supported now: AF_INET with SOCK_DGRAM (UDP, protocol 0 or IPPROTO_UDP) and
 * Linux-style ping sockets (SOCK_DGRAM, IPPROTO_ICMP: send an ICMP echo
 * request with any id, the stack sets the id to the socket's port and fills
 * the checksum; recv returns echo replies, ICMP header first). SOCK_STREAM
 * (protocol 0 or IPPROTO_TCP) is TCP. SOCK_RAW and the other types give
 * ESOCKTNOSUPPORT; other families EAFNOSUPPORT. SOCK_NONBLOCK and
 * SOCK_CLOEXEC are honoured. Sockets are descriptors: ust_read, ust_write,
 * ust_close, ust_fcntl, ust_ioctl and ust_poll (fd.h) work on them.
 *
 * Flags: MSG_DONTWAIT, MSG_PEEK, MSG_TRUNC (recv returns the datagram's real
 * length); MSG_OOB gives EOPNOTSUPP on send; MSG_ERRQUEUE finds an empty
 * queue. Options: SOL_SOCKET SO_RCVBUF, SO_SNDBUF (doubled and capped by
 * cfg rmem_max/wmem_max, as Linux), SO_RCVBUFFORCE, SO_SNDBUFFORCE,
 * SO_RCVTIMEO, SO_SNDTIMEO, SO_REUSEADDR, SO_BROADCAST, SO_KEEPALIVE,
 * SO_ERROR (read and clear), SO_TYPE, SO_PROTOCOL, SO_DOMAIN,
 * SO_ACCEPTCONN; IPPROTO_IP IP_TTL, IP_TOS. TCP also: SO_LINGER, and
 * IPPROTO_TCP TCP_NODELAY, TCP_MAXSEG, TCP_KEEPIDLE, TCP_KEEPINTVL,
 * TCP_KEEPCNT, TCP_USER_TIMEOUT, TCP_CONGESTION ("cubic", "reno"), TCP_INFO
 * (struct tcp_info of <netinet/tcp.h>); ioctl SIOCINQ/FIONREAD, SIOCOUTQ,
 * SIOCOUTQNSD. Anything else: ENOPROTOOPT.
 * Ports below 1024 need no privilege. A UDP send never waits for buffer
 * space (SO_SNDBUF is stored, not enforced).
 *
 * Blocking: calls block (on condition variables) only when the stack thread
 * runs (ust_stack_start); a stack driven by hand or by the simulator behaves as
 * if every descriptor were O_NONBLOCK. ust_stack_stop wakes every blocked
 * call (a receive then fails with EAGAIN, ust_poll returns what is ready).
 * Every call must have returned before ust_stack_free. */
#ifndef USTACK_SOCKET_H
#define USTACK_SOCKET_H

#include <sys/socket.h>
#include <sys/types.h>
#include <netinet/in.h>

#ifdef __cplusplus
extern "C" {
#endif

struct ust_stack;

int ust_socket(struct ust_stack *stack, int domain, int type, int protocol);
int ust_bind(struct ust_stack *stack, int fd, const struct sockaddr *addr, socklen_t addrlen);
int ust_connect(struct ust_stack *stack, int fd, const struct sockaddr *addr, socklen_t addrlen);

/* Stream sockets (TCP). */
int ust_listen(struct ust_stack *stack, int fd, int backlog);
int ust_accept(struct ust_stack *stack, int fd, struct sockaddr *addr, socklen_t *addrlen);
/* flags: SOCK_NONBLOCK, SOCK_CLOEXEC. */
int ust_accept4(struct ust_stack *stack, int fd, struct sockaddr *addr, socklen_t *addrlen, int flags);
/* how: SHUT_RD, SHUT_WR, SHUT_RDWR. */
int ust_shutdown(struct ust_stack *stack, int fd, int how);

ssize_t ust_sendto(struct ust_stack *stack, int fd, const void *buf, size_t len, int flags,
                   const struct sockaddr *dest, socklen_t destlen);
ssize_t ust_recvfrom(struct ust_stack *stack, int fd, void *buf, size_t len, int flags,
                     struct sockaddr *src, socklen_t *srclen);
ssize_t ust_send(struct ust_stack *stack, int fd, const void *buf, size_t len, int flags);
ssize_t ust_recv(struct ust_stack *stack, int fd, void *buf, size_t len, int flags);

int ust_getsockname(struct ust_stack *stack, int fd, struct sockaddr *addr, socklen_t *addrlen);
int ust_getpeername(struct ust_stack *stack, int fd, struct sockaddr *addr, socklen_t *addrlen);
int ust_setsockopt(struct ust_stack *stack, int fd, int level, int optname,
                   const void *optval, socklen_t optlen);
int ust_getsockopt(struct ust_stack *stack, int fd, int level, int optname,
                   void *optval, socklen_t *optlen);

#ifdef __cplusplus
}
#endif
#endif
