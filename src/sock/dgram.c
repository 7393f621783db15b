/* Datagram sockets: the socket operations of UDP and ping sockets, on top
 * of net/udp.c and net/ping.c. Here the caller's struct sockaddr_in is
 * checked (with Linux's errnos, in Linux's order) and converted to host
 * byte order; the caller's iovec list goes down to net/ untouched.
 * Receiving waits for a datagram, sending for room in SO_SNDBUF (frames
 * still held by drivers), both through the generic ust_file_wait_io. */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/sockios.h>

#include "core/iov.h"
#include "fd/fd.h"
#include "net/udp.h"
#include "sock/sock.h"
#include "stack/stack_impl.h"

static struct ust_udp_sock *udp_of(struct ust_socket *so)
{
    return so->pcb;
}

static bool is_ping(const struct ust_socket *so)
{
    return so->sk->protocol == IPPROTO_ICMP;
}

static int dgram_bind(struct ust_socket *so, const struct sockaddr *addr, socklen_t len)
{
    uint32_t ip;
    uint16_t port;
    int err = ust_sock_bind_addr(addr, len, &ip, &port);
    return err ? err : ust_udp_bind(udp_of(so), ip, port);
}

static int dgram_connect(struct ust_socket *so, const struct sockaddr *addr, socklen_t len)
{
    sa_family_t family;
    if (len < sizeof(family))
        return -EINVAL;
    memcpy(&family, addr, sizeof(family));
    if (family == AF_UNSPEC) {
        ust_udp_disconnect(udp_of(so));
        return 0;
    }
    /* Linux inet_dgram_connect binds a port before looking at the address. */
    if (ust_udp_autobind(udp_of(so)) != 0)
        return -EAGAIN;
    struct sockaddr_in sin;
    int err = ust_sock_sin_in(addr, len, &sin);
    if (err)
        return err;
    if (family != AF_INET)
        return -EAFNOSUPPORT;
    return ust_udp_connect(udp_of(so), ntohl(sin.sin_addr.s_addr), ntohs(sin.sin_port));
}

/* The checks Linux makes before it looks at the destination address. */
static int send_precheck(const struct ust_socket *so, const struct iovec *iov, size_t iovcnt,
                         size_t len, int flags)
{
    if (len > 0xffff)
        return -EMSGSIZE;
    if (!is_ping(so))
        return (flags & MSG_OOB) ? -EOPNOTSUPP : 0;
    if (len < 8)    /* an ICMP header */
        return -EINVAL;
    if (flags & MSG_OOB)
        return -EOPNOTSUPP;
    uint8_t h[2];
    ust_iov_from(iov, iovcnt, 0, h, sizeof(h));
    if (h[0] != 8 /* echo request */ || h[1] != 0)
        return -EINVAL;
    return 0;
}

struct send_args {
    const struct iovec *iov;
    size_t iovcnt, len;
    int flags;
    const struct ust_inet_addr *dst;
};

static ssize_t try_send(struct ust_file *f, void *arg)
{
    struct ust_socket *so = f->priv;
    struct send_args *a = arg;
    return ust_udp_sendmsg(udp_of(so), a->iov, a->iovcnt, a->len, a->flags, a->dst);
}

static ssize_t dgram_sendmsg(struct ust_socket *so, const struct iovec *iov, size_t iovcnt,
                             size_t len, int flags, const struct sockaddr *addr, socklen_t alen)
{
    /* inet_send_prepare: bind a port first. */
    if (ust_udp_autobind(udp_of(so)) != 0)
        return -EAGAIN;
    int err = send_precheck(so, iov, iovcnt, len, flags);
    if (err)
        return err;
    struct ust_inet_addr dst, *pdst = NULL;
    if (addr) {
        struct sockaddr_in sin;
        if ((err = ust_sock_sin_in(addr, alen, &sin)) != 0)
            return err;
        /* udp_sendmsg accepts AF_UNSPEC as AF_INET; ping does not. */
        if (sin.sin_family != AF_INET && (is_ping(so) || sin.sin_family != AF_UNSPEC))
            return -EAFNOSUPPORT;
        dst.addr = ntohl(sin.sin_addr.s_addr);
        dst.port = ntohs(sin.sin_port);
        pdst = &dst;
    }
    /* SO_SNDBUF full (frames still held below): wait for room as Linux's
     * sock_alloc_send_pskb, bounded by SO_SNDTIMEO; -EAGAIN when it may
     * not wait. */
    struct send_args a = { iov, iovcnt, len, flags, pdst };
    return ust_file_wait_io(so->file, POLLOUT | POLLWRNORM, (flags & MSG_DONTWAIT) != 0,
                            so->file->sndtimeo_ns, try_send, &a);
}

struct recv_args {
    const struct iovec *iov;
    size_t iovcnt, len;
    int flags;
    struct ust_inet_addr src;
    int *msg_flags;
};

static ssize_t try_recv(struct ust_file *f, void *arg)
{
    struct ust_socket *so = f->priv;
    struct recv_args *a = arg;
    return ust_udp_recvmsg(udp_of(so), a->iov, a->iovcnt, a->len, a->flags, &a->src,
                           a->msg_flags);
}

static ssize_t dgram_recvmsg(struct ust_socket *so, const struct iovec *iov, size_t iovcnt,
                             size_t len, int flags, struct sockaddr_in *from, int *msg_flags)
{
    if ((flags & MSG_OOB) && is_ping(so))
        return -EOPNOTSUPP;     /* ping_recvmsg (udp_recvmsg ignores the flag) */
    struct recv_args a = { iov, iovcnt, len, flags, { 0, 0 }, msg_flags };
    ssize_t r = ust_file_wait_io(so->file, POLLIN | POLLRDNORM, (flags & MSG_DONTWAIT) != 0,
                                 so->file->rcvtimeo_ns, try_recv, &a);
    if (r >= 0 && from) {
        memset(from, 0, sizeof(*from));
        from->sin_family = AF_INET;
        from->sin_addr.s_addr = htonl(a.src.addr);
        from->sin_port = htons(a.src.port);
    }
    return r;
}

static uint32_t dgram_poll(struct ust_socket *so)
{
    return ust_udp_poll(udp_of(so));
}

static int dgram_ioctl(struct ust_socket *so, unsigned long request, void *arg)
{
    switch (request) {
    case SIOCINQ:       /* = FIONREAD: the next datagram's length (udp_ioctl) */
        return ust_sock_put_int(arg, (int)ust_udp_next_len(udp_of(so)));
    case SIOCOUTQ:      /* bytes of sent frames not yet freed (sk_wmem_alloc) */
        return ust_sock_put_int(arg, (int)udp_of(so)->wmem_alloc);
    default:
        return -ENOTTY;
    }
}

static void dgram_release(struct ust_socket *so)
{
    ust_udp_sock_free(udp_of(so));
}

static const struct ust_proto_ops dgram_ops = {
    .bind = dgram_bind,
    .connect = dgram_connect,
    .sendmsg = dgram_sendmsg,
    .recvmsg = dgram_recvmsg,
    .poll = dgram_poll,
    .ioctl = dgram_ioctl,
    .release = dgram_release,
};

int ust_dgram_create(struct ust_stack *stack, struct ust_socket *so, int protocol)
{
    struct ust_udp_sock *us = ust_udp_sock_new(stack, protocol, &so->file->wq);
    if (!us)
        return -ENOMEM;
    so->ops = &dgram_ops;
    so->pcb = us;
    so->sk = &us->sk;
    return 0;
}
