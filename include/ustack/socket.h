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
 * length; recvmsg also sets MSG_TRUNC in msg_flags), MSG_WAITALL (TCP),
 * MSG_MORE (TCP, and UDP corking; not ping), MSG_NOSIGNAL, MSG_OOB (TCP
 * urgent data, below; UDP and ping: EOPNOTSUPP on send); MSG_ERRQUEUE finds
 * an empty queue. Options:
 * SOL_SOCKET SO_RCVBUF, SO_SNDBUF (doubled and capped by
 * cfg rmem_max/wmem_max, as Linux), SO_RCVBUFFORCE, SO_SNDBUFFORCE,
 * SO_RCVTIMEO, SO_SNDTIMEO, SO_REUSEADDR, SO_REUSEPORT, SO_BROADCAST,
 * SO_KEEPALIVE, SO_OOBINLINE, SO_ERROR (read and clear), SO_TYPE,
 * SO_PROTOCOL, SO_DOMAIN, SO_ACCEPTCONN; IPPROTO_IP IP_TTL, IP_TOS. TCP
 * also: SO_LINGER, and IPPROTO_TCP TCP_NODELAY, TCP_MAXSEG, TCP_KEEPIDLE,
 * TCP_KEEPINTVL, TCP_KEEPCNT, TCP_USER_TIMEOUT, TCP_CONGESTION ("cubic",
 * "reno"), TCP_INFO (struct tcp_info of <netinet/tcp.h>); ioctl
 * SIOCINQ/FIONREAD, SIOCOUTQ, SIOCOUTQNSD, SIOCATMARK. Anything else:
 * ENOPROTOOPT. Ports below 1024 need no privilege.
 *
 * SO_REUSEPORT: a port is shared when every socket bound to it set the
 * option before bind (Linux also requires the same effective uid: there is
 * one process here). UDP datagrams and TCP connection requests for the
 * shared port go to one member chosen by a hash of the 4-tuple, so one flow
 * always reaches the same socket (Linux scales the hash over the group in
 * join order; ustack weighs each member by a hash, so the mapping differs
 * but a closing member moves only its own flows). No BPF group selection.
 *
 * UDP SO_SNDBUF is enforced as Linux's sk_wmem_alloc: a sent datagram is
 * charged to its socket (payload + headroom + buffer header) until the
 * driver, ARP's queue of an unresolved neighbour or an impairment frees the
 * frame (loopback gives the charge back at once, as Linux). A send finding
 * the charge at SO_SNDBUF blocks (SO_SNDTIMEO, then EAGAIN) or gives EAGAIN
 * when non-blocking; poll reports POLLOUT only below half of SO_SNDBUF
 * (sock_writeable); SIOCOUTQ is the charge. A datagram larger than the MTU
 * is charged whole to its first fragment (Linux charges each fragment).
 *
 * TCP urgent data (RFC 9293 3.8.5, RFC 6093, as Linux): send(MSG_OOB)
 * marks the call's last byte urgent, the urgent pointer pointing just past
 * it. The receiver keeps the newest pointer; without SO_OOBINLINE (the
 * default) that byte is taken out of the stream and recv(MSG_OOB) returns it
 * once (msg_flags MSG_OOB; EINVAL when there is none or it was read, EAGAIN
 * while announced but not arrived); with SO_OOBINLINE it stays in the stream
 * and recv(MSG_OOB) gives EINVAL. A read stops at the urgent byte, so
 * SIOCATMARK can tell when it is next; poll reports POLLPRI while it waits.
 * No SIGURG is sent (there is no F_SETOWN).
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
#include <sys/uio.h>
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

/* sendmsg(2) / recvmsg(2) with the system's struct msghdr: msg_iov is a
 * scatter/gather list (each piece copied once, straight into or out of the
 * protocol's buffer; more than IOV_MAX = 1024 pieces: EMSGSIZE; a negative
 * piece length: EINVAL), msg_name the destination (sendto) or gets the
 * source (recvfrom; msg_namelen 0 for TCP, left alone when msg_name is
 * NULL). No ancillary data exists here: msg_control is ignored on send,
 * and recvmsg sets msg_controllen to 0 (so MSG_CTRUNC is never set).
 * recvmsg's msg_flags: MSG_TRUNC when a datagram was longer than the
 * buffers (with the MSG_TRUNC flag the call returns its real length), MSG_OOB
 * when TCP's urgent byte was read with MSG_OOB. Flags in: MSG_DONTWAIT,
 * MSG_PEEK, MSG_TRUNC, MSG_WAITALL (TCP), MSG_NOSIGNAL, MSG_MORE (TCP:
 * hold a partial segment; UDP: later sends append to the same datagram,
 * which leaves with the first send without MSG_MORE, to the first send's
 * destination, as Linux's corking), MSG_OOB (TCP, see above). */
ssize_t ust_sendmsg(struct ust_stack *stack, int fd, const struct msghdr *msg, int flags);
ssize_t ust_recvmsg(struct ust_stack *stack, int fd, struct msghdr *msg, int flags);
/* readv(2) / writev(2): on a socket, recvmsg/sendmsg without flags; on any
 * other descriptor one ust_read/ust_write through a bounce buffer (at most
 * 1 MiB per call, a short count beyond). More than 1024 pieces, or a
 * negative iovcnt: EINVAL. */
ssize_t ust_readv(struct ust_stack *stack, int fd, const struct iovec *iov, int iovcnt);
ssize_t ust_writev(struct ust_stack *stack, int fd, const struct iovec *iov, int iovcnt);

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
