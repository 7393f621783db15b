/* sock/: the BSD socket API on top of the protocols.
 *
 * A socket is a file (fd/) whose priv is a struct ust_socket: the
 * protocol's operations (Linux's proto_ops), the protocol-independent state
 * (struct ust_sk, net/sk.h) and the protocol's own object. socket.c holds
 * the public calls (descriptor lookup, argument checks, locking, errno);
 * sockopt.c the SOL_SOCKET and IPPROTO_IP options; dgram.c the operations of
 * UDP and ping sockets. TCP will add its own operations table.
 *
 * Addresses arrive here as the caller's struct sockaddr; each protocol's
 * operations parse them (the checks and their order differ, as in Linux)
 * and hand host-order values to net/. All functions assume the stack lock. */
#ifndef UST_SOCK_SOCK_H
#define UST_SOCK_SOCK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <netinet/in.h>

struct ust_stack;
struct ust_file;
struct ust_sk;
struct ust_socket;

struct ust_proto_ops {
    int (*bind)(struct ust_socket *so, const struct sockaddr *addr, socklen_t len);
    /* addr->sa_family AF_UNSPEC dissolves the association. */
    int (*connect)(struct ust_socket *so, const struct sockaddr *addr, socklen_t len);
    /* Sends the len bytes of the scatter/gather list iov (checked by
     * ust_iov_check; send/write are the one-piece case). addr NULL: the
     * connected peer. May block through ust_file_wait_io (SO_SNDTIMEO)
     * unless flags has MSG_DONTWAIT. */
    ssize_t (*sendmsg)(struct ust_socket *so, const struct iovec *iov, size_t iovcnt, size_t len,
                       int flags, const struct sockaddr *addr, socklen_t alen);
    /* Receives up to len bytes into the list. from (may be NULL) gets the
     * source; *msg_flags (never NULL, starts at 0) gets recvmsg's msg_flags
     * (MSG_TRUNC, MSG_OOB). May block (SO_RCVTIMEO) unless flags has
     * MSG_DONTWAIT. */
    ssize_t (*recvmsg)(struct ust_socket *so, const struct iovec *iov, size_t iovcnt, size_t len,
                       int flags, struct sockaddr_in *from, int *msg_flags);
    /* POLL* events true now. */
    uint32_t (*poll)(struct ust_socket *so);
    /* Protocol ioctls (FIONREAD...); -ENOTTY when unknown. */
    int (*ioctl)(struct ust_socket *so, unsigned long request, void *arg);
    /* Stream sockets (NULL for datagram ones: EOPNOTSUPP). listen(2). */
    int (*listen)(struct ust_socket *so, int backlog);
    /* Waits (unless nonblocking or dontwait) for a connection and makes
     * newso (a fresh socket whose file exists) that connection; the peer's
     * address goes to *peer. */
    int (*accept)(struct ust_socket *so, struct ust_socket *newso, struct sockaddr_in *peer);
    int (*shutdown)(struct ust_socket *so, int how);
    /* Frees the protocol object (the descriptor's last reference went). */
    void (*release)(struct ust_socket *so);
};

struct ust_socket {
    struct ust_file *file;
    const struct ust_proto_ops *ops;
    struct ust_sk *sk;          /* inside pcb */
    void *pcb;                  /* struct ust_udp_sock *, later TCP's */
};

/* The socket behind fd: -EBADF, or -ENOTSOCK for a descriptor that is
 * not a socket. */
int ust_sock_lookup(struct ust_stack *stack, int fd, struct ust_socket **out);

/* dgram.c: makes so a UDP (IPPROTO_UDP) or ping (IPPROTO_ICMP) socket. */
int ust_dgram_create(struct ust_stack *stack, struct ust_socket *so, int protocol);

/* stream.c: makes so a TCP socket. */
int ust_stream_create(struct ust_stack *stack, struct ust_socket *so);
/* IPPROTO_TCP options and TCP_INFO. */
int ust_stream_setsockopt(struct ust_socket *so, int optname, const void *optval,
                          socklen_t optlen);
int ust_stream_getsockopt(struct ust_socket *so, int optname, void *optval, socklen_t *optlen);
/* SO_LINGER for stream sockets. */
int ust_stream_set_linger(struct ust_socket *so, const void *optval, socklen_t optlen);
int ust_stream_get_linger(struct ust_socket *so, void *optval, socklen_t *optlen);
bool ust_stream_listening(const struct ust_socket *so);
/* SO_RCVLOWAT for stream sockets. */
int ust_stream_set_rcvlowat(struct ust_socket *so, int val);
int ust_stream_get_rcvlowat(const struct ust_socket *so);
/* SO_KEEPALIVE changed: start or stop the keepalive timer. */
void ust_stream_keepalive_changed(struct ust_socket *so);

/* socket.c: a new socket file (for accept). */
int ust_sock_new_file(struct ust_stack *stack, int flags, struct ust_socket **out);
/* The caller's sockaddr_in, copied (it may be unaligned). -EINVAL when too
 * short. */
int ust_sock_sin_in(const struct sockaddr *addr, socklen_t len, struct sockaddr_in *sin);
/* The address of bind(2) on an Internet socket, checked as Linux's inet_bind
 * does (length, then family: AF_UNSPEC passes only with INADDR_ANY), in host
 * byte order. */
int ust_sock_bind_addr(const struct sockaddr *addr, socklen_t len, uint32_t *ip, uint16_t *port);
/* Stores an ioctl's int result at the caller's pointer; -EFAULT for NULL. */
int ust_sock_put_int(void *arg, int v);

/* sockopt.c */
int ust_sock_setsockopt(struct ust_socket *so, int level, int optname, const void *optval,
                        socklen_t optlen);
int ust_sock_getsockopt(struct ust_socket *so, int level, int optname, void *optval,
                        socklen_t *optlen);

/* Copies a kernel-side address out as Linux's move_addr_to_user: at most
 * *len bytes, then *len = the full size. */
void ust_sockaddr_out(const struct sockaddr_in *sin, struct sockaddr *addr, socklen_t *len);

#endif
