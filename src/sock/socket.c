/* The public socket calls (include/ustack/socket.h): each takes the stack
 * lock once, finds the socket behind the descriptor (EBADF, ENOTSOCK),
 * checks what Linux's system call layer checks (EFAULT, EINVAL for address
 * lengths, the msghdr and its iovecs), and hands over to the protocol's
 * operations. Every send and receive reaches the protocol as a
 * scatter/gather list: send/recv/read/write are the one-piece case of
 * sendmsg/recvmsg, and the protocol copies each piece once. Sockets are
 * files, so read/write/close/poll/fcntl/ioctl work on them through fd/. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include <ustack/fd.h>
#include <ustack/socket.h>

#include "core/iov.h"
#include "fd/fd.h"
#include "net/sk.h"
#include "runtime/runtime.h"
#include "sock/sock.h"
#include "stack/stack_impl.h"
#include "stack/trace.h"

/* Linux's SOCK_TYPE_MASK and SOCK_MAX. */
#define UST_SOCK_TYPE_MASK 0xf
#define UST_SOCK_MAX 11
/* The largest address a call accepts (sizeof(struct sockaddr_storage)). */
#define UST_MAX_ADDRLEN ((socklen_t)sizeof(struct sockaddr_storage))

/* ---- Sockets as files ------------------------------------------------- */

/* read/write are recv/send with no flags (Linux sock_read_iter and
 * sock_write_iter): the protocol waits as the file's O_NONBLOCK and
 * SO_RCVTIMEO/SO_SNDTIMEO say, so a blocking write on a stream socket
 * copies every byte (rw_waits below). */
static ssize_t sock_file_read(struct ust_file *f, void *buf, size_t len)
{
    struct ust_socket *so = f->priv;
    struct iovec iov = { buf, len };
    int mflags = 0;
    return so->ops->recvmsg(so, &iov, 1, len, 0, NULL, &mflags);
}

static ssize_t sock_file_write(struct ust_file *f, const void *buf, size_t len)
{
    struct ust_socket *so = f->priv;
    struct iovec iov = { (void *)buf, len };
    return so->ops->sendmsg(so, &iov, 1, len, 0, NULL, 0);
}

static uint32_t sock_file_poll(struct ust_file *f)
{
    struct ust_socket *so = f->priv;
    return so->ops->poll(so);
}

static int sock_file_ioctl(struct ust_file *f, unsigned long request, void *arg)
{
    struct ust_socket *so = f->priv;
    return so->ops->ioctl(so, request, arg);
}

static void sock_file_release(struct ust_file *f)
{
    struct ust_socket *so = f->priv;
    if (so->ops)
        so->ops->release(so);
    free(so);
}

static const struct ust_file_ops sock_file_ops = {
    .name = "socket",
    .read = sock_file_read,
    .write = sock_file_write,
    .poll = sock_file_poll,
    .ioctl = sock_file_ioctl,
    .release = sock_file_release,
    .rw_waits = true,
};

int ust_sock_lookup(struct ust_stack *stack, int fd, struct ust_socket **out)
{
    struct ust_file *f = ust_fd_lookup(stack, fd);
    if (!f)
        return -EBADF;
    if (f->ops != &sock_file_ops)
        return -ENOTSOCK;
    *out = f->priv;
    return 0;
}

void ust_sockaddr_out(const struct sockaddr_in *sin, struct sockaddr *addr, socklen_t *len)
{
    socklen_t n = *len < sizeof(*sin) ? *len : (socklen_t)sizeof(*sin);
    memcpy(addr, sin, n);
    *len = sizeof(*sin);
}

/* ---- socket ----------------------------------------------------------- */

int ust_sock_sin_in(const struct sockaddr *addr, socklen_t len, struct sockaddr_in *sin)
{
    if (len < sizeof(*sin))
        return -EINVAL;
    memcpy(sin, addr, sizeof(*sin));
    return 0;
}

int ust_sock_put_int(void *arg, int v)
{
    if (!arg)
        return -EFAULT;
    memcpy(arg, &v, sizeof(v));
    return 0;
}

int ust_sock_bind_addr(const struct sockaddr *addr, socklen_t len, uint32_t *ip, uint16_t *port)
{
    struct sockaddr_in sin;
    int err = ust_sock_sin_in(addr, len, &sin);
    if (err)
        return err;
    if (sin.sin_family != AF_INET &&
        !(sin.sin_family == AF_UNSPEC && sin.sin_addr.s_addr == htonl(INADDR_ANY)))
        return -EAFNOSUPPORT;
    *ip = ntohl(sin.sin_addr.s_addr);
    *port = ntohs(sin.sin_port);
    return 0;
}

int ust_sock_new_file(struct ust_stack *stack, int flags, struct ust_socket **out)
{
    struct ust_socket *so = calloc(1, sizeof(*so));
    if (!so)
        return -ENOMEM;
    int status = O_RDWR | ((flags & SOCK_NONBLOCK) ? O_NONBLOCK : 0);
    struct ust_file *f = ust_file_new(stack, &sock_file_ops, so, status);
    if (!f) {
        free(so);
        return -ENOMEM;
    }
    so->file = f;
    f->wait_nospin = true;      /* the stack thread, not a peer caller, wakes socket calls */
    *out = so;
    return 0;
}

/* Linux __sock_create + inet_create: which protocol a (type, protocol)
 * pair names, or the errno. */
static int pick_protocol(int domain, int type, int protocol)
{
    if (domain != AF_INET)
        return -EAFNOSUPPORT;
    if (type < 0 || type >= UST_SOCK_MAX)
        return -EINVAL;
    if (protocol < 0 || protocol >= IPPROTO_MAX)
        return -EINVAL;
    switch (type) {
    case SOCK_DGRAM:
        if (protocol == 0 || protocol == IPPROTO_UDP)
            return IPPROTO_UDP;
        if (protocol == IPPROTO_ICMP)
            return IPPROTO_ICMP;
        return -EPROTONOSUPPORT;
    case SOCK_STREAM:
        if (protocol == 0 || protocol == IPPROTO_TCP)
            return IPPROTO_TCP;
        return -EPROTONOSUPPORT;
    default:
        /* SOCK_RAW, SOCK_SEQPACKET...: no such socket type here. */
        return -ESOCKTNOSUPPORT;
    }
}

static int do_socket(struct ust_stack *stack, int domain, int type, int protocol)
{
    int flags = type & ~UST_SOCK_TYPE_MASK;
    if (flags & ~(SOCK_CLOEXEC | SOCK_NONBLOCK))
        return -EINVAL;
    type &= UST_SOCK_TYPE_MASK;
    int proto = pick_protocol(domain, type, protocol);
    if (proto < 0)
        return proto;

    struct ust_socket *so;
    int err = ust_sock_new_file(stack, flags, &so);
    if (err)
        return err;
    struct ust_file *f = so->file;
    if (proto == IPPROTO_TCP)
        err = ust_stream_create(stack, so);
    else
        err = ust_dgram_create(stack, so, proto);
    if (err == 0) {
        int fd = ust_fd_install(stack, f, (flags & SOCK_CLOEXEC) ? FD_CLOEXEC : 0);
        if (fd >= 0)
            return fd;
        err = fd;
    }
    ust_file_put(f);    /* releases the socket */
    return err;
}

int ust_socket(struct ust_stack *stack, int domain, int type, int protocol)
{
    ust_rt_enter(stack);
    ust_trace_call_enter(stack, "socket", -1);
    int r = do_socket(stack, domain, type, protocol);
    ust_trace_call_ret(stack, "socket", -1, r);
    ust_rt_exit(stack);
    return (int)ust_fd_ret(r);
}

/* ---- bind / connect --------------------------------------------------- */

/* move_addr_to_kernel's checks. */
static int addr_in_check(const struct sockaddr *addr, socklen_t len)
{
    if (len > UST_MAX_ADDRLEN)
        return -EINVAL;
    if (!addr && len)
        return -EFAULT;
    return 0;
}

static int do_bind(struct ust_stack *stack, int fd, const struct sockaddr *addr, socklen_t len)
{
    struct ust_socket *so;
    int err = ust_sock_lookup(stack, fd, &so);
    if (!err)
        err = addr_in_check(addr, len);
    if (!err)
        err = so->ops->bind(so, addr, len);
    return err;
}

int ust_bind(struct ust_stack *stack, int fd, const struct sockaddr *addr, socklen_t addrlen)
{
    ust_rt_enter(stack);
    ust_trace_call_enter(stack, "bind", fd);
    int r = do_bind(stack, fd, addr, addrlen);
    ust_trace_call_ret(stack, "bind", fd, r);
    ust_rt_exit(stack);
    return (int)ust_fd_ret(r);
}

static int do_connect(struct ust_stack *stack, int fd, const struct sockaddr *addr, socklen_t len)
{
    struct ust_socket *so;
    int err = ust_sock_lookup(stack, fd, &so);
    if (!err)
        err = addr_in_check(addr, len);
    if (!err)
        err = so->ops->connect(so, addr, len);
    return err;
}

int ust_connect(struct ust_stack *stack, int fd, const struct sockaddr *addr, socklen_t addrlen)
{
    ust_rt_enter(stack);
    ust_trace_call_enter(stack, "connect", fd);
    int r = do_connect(stack, fd, addr, addrlen);
    ust_trace_call_ret(stack, "connect", fd, r);
    ust_rt_exit(stack);
    return (int)ust_fd_ret(r);
}

/* ---- listen / accept / shutdown (stream sockets) ----------------------- */

static int do_listen(struct ust_stack *stack, int fd, int backlog)
{
    struct ust_socket *so;
    int err = ust_sock_lookup(stack, fd, &so);
    if (err)
        return err;
    if (!so->ops->listen)
        return -EOPNOTSUPP;
    return so->ops->listen(so, backlog);
}

int ust_listen(struct ust_stack *stack, int fd, int backlog)
{
    ust_rt_enter(stack);
    ust_trace_call_enter(stack, "listen", fd);
    int r = do_listen(stack, fd, backlog);
    ust_trace_call_ret(stack, "listen", fd, r);
    ust_rt_exit(stack);
    return (int)ust_fd_ret(r);
}

static int do_accept(struct ust_stack *stack, int fd, struct sockaddr *addr, socklen_t *len,
                     int flags)
{
    struct ust_socket *so;
    int err = ust_sock_lookup(stack, fd, &so);
    if (err)
        return err;
    if (flags & ~(SOCK_CLOEXEC | SOCK_NONBLOCK))
        return -EINVAL;
    if (!so->ops->accept)
        return -EOPNOTSUPP;
    if (addr && !len)
        return -EFAULT;
    if (addr && (int)*len < 0)
        return -EINVAL;
    /* Linux takes the descriptor first (get_unused_fd_flags): with the
     * table full, EMFILE and the connection stays in the accept queue. */
    if (stack->fds.used >= stack->fds.size)
        return -EMFILE;
    struct ust_socket *nso;
    if ((err = ust_sock_new_file(stack, flags, &nso)) != 0)
        return err;
    struct sockaddr_in peer;
    err = so->ops->accept(so, nso, &peer);
    if (err == 0) {
        int nfd = ust_fd_install(stack, nso->file, (flags & SOCK_CLOEXEC) ? FD_CLOEXEC : 0);
        if (nfd >= 0) {
            if (addr)
                ust_sockaddr_out(&peer, addr, len);
            return nfd;
        }
        err = nfd;
    }
    ust_file_put(nso->file);    /* releases the socket (and a taken connection) */
    return err;
}

int ust_accept4(struct ust_stack *stack, int fd, struct sockaddr *addr, socklen_t *addrlen,
                int flags)
{
    ust_rt_enter(stack);
    ust_trace_call_enter(stack, "accept4", fd);
    int r = do_accept(stack, fd, addr, addrlen, flags);
    ust_trace_call_ret(stack, "accept4", fd, r);
    ust_rt_exit(stack);
    return (int)ust_fd_ret(r);
}

int ust_accept(struct ust_stack *stack, int fd, struct sockaddr *addr, socklen_t *addrlen)
{
    return ust_accept4(stack, fd, addr, addrlen, 0);
}

static int do_shutdown(struct ust_stack *stack, int fd, int how)
{
    struct ust_socket *so;
    int err = ust_sock_lookup(stack, fd, &so);
    if (err)
        return err;
    if (how < SHUT_RD || how > SHUT_RDWR)
        return -EINVAL;
    if (!so->ops->shutdown)
        return -ENOTCONN;
    return so->ops->shutdown(so, how);
}

int ust_shutdown(struct ust_stack *stack, int fd, int how)
{
    ust_rt_enter(stack);
    ust_trace_call_enter(stack, "shutdown", fd);
    int r = do_shutdown(stack, fd, how);
    ust_trace_call_ret(stack, "shutdown", fd, r);
    ust_rt_exit(stack);
    return (int)ust_fd_ret(r);
}

/* ---- send / recv ------------------------------------------------------ */

static ssize_t do_sendto(struct ust_stack *stack, int fd, const void *buf, size_t len, int flags,
                         const struct sockaddr *dest, socklen_t destlen)
{
    struct ust_socket *so;
    int err = ust_sock_lookup(stack, fd, &so);
    if (err)
        return err;
    if (dest && (err = addr_in_check(dest, destlen)) != 0)
        return err;
    if (!buf && len)
        return -EFAULT;
    struct iovec iov = { (void *)buf, len };
    return so->ops->sendmsg(so, &iov, 1, len, flags, dest, dest ? destlen : 0);
}

ssize_t ust_sendto(struct ust_stack *stack, int fd, const void *buf, size_t len, int flags,
                   const struct sockaddr *dest, socklen_t destlen)
{
    ust_rt_enter(stack);
    ust_trace_call_enter(stack, "sendto", fd);
    ssize_t r = do_sendto(stack, fd, buf, len, flags, dest, destlen);
    ust_trace_call_ret(stack, "sendto", fd, r);
    ust_rt_exit(stack);
    return ust_fd_ret(r);
}

ssize_t ust_send(struct ust_stack *stack, int fd, const void *buf, size_t len, int flags)
{
    return ust_sendto(stack, fd, buf, len, flags, NULL, 0);
}

/* The receive shared by recvfrom and recvmsg: the list is checked. The
 * source goes to src/srclen as Linux's move_addr_to_user; *msg_flags gets
 * the protocol's output flags. */
static ssize_t recv_common(struct ust_socket *so, const struct iovec *iov, size_t iovcnt,
                           size_t len, int flags, struct sockaddr *src, socklen_t *srclen,
                           int *msg_flags)
{
    struct sockaddr_in from = { .sin_family = AF_UNSPEC };
    *msg_flags = 0;
    ssize_t r = so->ops->recvmsg(so, iov, iovcnt, len, flags, src ? &from : NULL, msg_flags);
    /* A connected stream names no source: Linux leaves the buffer alone
     * and sets *srclen to 0 (tcp_recvmsg fills no msg_name). */
    if (r >= 0 && src && from.sin_family == AF_UNSPEC)
        *srclen = 0;
    else if (r >= 0 && src)
        ust_sockaddr_out(&from, src, srclen);
    return r;
}

static ssize_t do_recvfrom(struct ust_stack *stack, int fd, void *buf, size_t len, int flags,
                           struct sockaddr *src, socklen_t *srclen)
{
    struct ust_socket *so;
    int err = ust_sock_lookup(stack, fd, &so);
    if (err)
        return err;
    if (src && !srclen)
        return -EFAULT;
    if (src && *srclen > (socklen_t)INT32_MAX)
        return -EINVAL;
    if (!buf && len)
        return -EFAULT;
    struct iovec iov = { buf, len };
    int mflags;
    return recv_common(so, &iov, 1, len, flags, src, srclen, &mflags);
}

ssize_t ust_recvfrom(struct ust_stack *stack, int fd, void *buf, size_t len, int flags,
                     struct sockaddr *src, socklen_t *srclen)
{
    ust_rt_enter(stack);
    ust_trace_call_enter(stack, "recvfrom", fd);
    ssize_t r = do_recvfrom(stack, fd, buf, len, flags, src, srclen);
    ust_trace_call_ret(stack, "recvfrom", fd, r);
    ust_rt_exit(stack);
    return ust_fd_ret(r);
}

ssize_t ust_recv(struct ust_stack *stack, int fd, void *buf, size_t len, int flags)
{
    return ust_recvfrom(stack, fd, buf, len, flags, NULL, NULL);
}

/* ---- sendmsg / recvmsg, readv / writev ----------------------------------- */

/* Linux __copy_msghdr: a name length past sockaddr_storage is cut to it, a
 * negative one (with a name) is EINVAL, more than UIO_MAXIOV pieces is
 * EMSGSIZE; then import_iovec checks the pieces. */
static int msghdr_check(const struct msghdr *msg, socklen_t *namelen, size_t *len)
{
    if (!msg)
        return -EFAULT;
    *namelen = msg->msg_name ? msg->msg_namelen : 0;
    if ((int)*namelen < 0)
        return -EINVAL;
    if (*namelen > UST_MAX_ADDRLEN)
        *namelen = UST_MAX_ADDRLEN;
    if (msg->msg_iovlen > UST_IOV_MAX)
        return -EMSGSIZE;
    return ust_iov_check(msg->msg_iov, msg->msg_iovlen, len);
}

static ssize_t do_sendmsg(struct ust_stack *stack, int fd, const struct msghdr *msg, int flags)
{
    struct ust_socket *so;
    int err = ust_sock_lookup(stack, fd, &so);
    if (err)
        return err;
    socklen_t namelen;
    size_t len;
    if ((err = msghdr_check(msg, &namelen, &len)) != 0)
        return err;
    /* No ancillary data is understood: msg_control is ignored. */
    const struct sockaddr *dest = namelen ? msg->msg_name : NULL;
    return so->ops->sendmsg(so, msg->msg_iov, msg->msg_iovlen, len, flags, dest, namelen);
}

ssize_t ust_sendmsg(struct ust_stack *stack, int fd, const struct msghdr *msg, int flags)
{
    ust_rt_enter(stack);
    ust_trace_call_enter(stack, "sendmsg", fd);
    ssize_t r = do_sendmsg(stack, fd, msg, flags);
    ust_trace_call_ret(stack, "sendmsg", fd, r);
    ust_rt_exit(stack);
    return ust_fd_ret(r);
}

static ssize_t do_recvmsg(struct ust_stack *stack, int fd, struct msghdr *msg, int flags)
{
    struct ust_socket *so;
    int err = ust_sock_lookup(stack, fd, &so);
    if (err)
        return err;
    socklen_t namelen;
    size_t len;
    if ((err = msghdr_check(msg, &namelen, &len)) != 0)
        return err;
    struct sockaddr *src = msg->msg_name;
    int mflags;
    ssize_t r = recv_common(so, msg->msg_iov, msg->msg_iovlen, len, flags, src,
                            src ? &msg->msg_namelen : NULL, &mflags);
    if (r < 0)
        return r;
    /* No control messages exist here, so none is ever cut: MSG_CTRUNC
     * stays clear and the control length used is 0. */
    msg->msg_flags = mflags;
    msg->msg_controllen = 0;
    return r;
}

ssize_t ust_recvmsg(struct ust_stack *stack, int fd, struct msghdr *msg, int flags)
{
    ust_rt_enter(stack);
    ust_trace_call_enter(stack, "recvmsg", fd);
    ssize_t r = do_recvmsg(stack, fd, msg, flags);
    ust_trace_call_ret(stack, "recvmsg", fd, r);
    ust_rt_exit(stack);
    return ust_fd_ret(r);
}

/* readv/writev: on a socket, recvmsg/sendmsg without flags or name (Linux
 * sock_read_iter / sock_write_iter). */
static ssize_t do_rwv(struct ust_stack *stack, int fd, const struct iovec *iov, int iovcnt,
                      bool write, struct ust_socket **so, size_t *len)
{
    int err = ust_sock_lookup(stack, fd, so);
    if (err == -EBADF)
        return err;
    if (iovcnt < 0)
        return -EINVAL;
    if ((err = ust_iov_check(iov, (size_t)iovcnt, len)) != 0)
        return err;
    if (!*so)
        return 0;
    struct ust_socket *s = *so;
    if (write)
        return s->ops->sendmsg(s, iov, (size_t)iovcnt, *len, 0, NULL, 0);
    int mflags = 0;
    return s->ops->recvmsg(s, iov, (size_t)iovcnt, *len, 0, NULL, &mflags);
}

/* The most a non-socket readv/writev moves in one call. */
#define UST_RWV_BOUNCE_MAX (1u << 20)

/* Another descriptor (pipe, FIFO...) gets ONE ust_read/ust_write through a
 * bounce buffer, so a pipe write of up to PIPE_BUF stays atomic and a read
 * never waits for a second piece. At most UST_RWV_BOUNCE_MAX bytes move
 * per call (a short count, as a signal could cause on Linux). */
static ssize_t rwv_bounce(struct ust_stack *stack, int fd, const struct iovec *iov, int iovcnt,
                          size_t len, bool write)
{
    if (len > UST_RWV_BOUNCE_MAX)
        len = UST_RWV_BOUNCE_MAX;
    void *b = malloc(len ? len : 1);
    if (!b) {
        errno = ENOMEM;
        return -1;
    }
    ssize_t r;
    if (write) {
        ust_iov_from(iov, (size_t)iovcnt, 0, b, len);
        r = ust_write(stack, fd, b, len);
    } else {
        r = ust_read(stack, fd, b, len);
        if (r > 0)
            ust_iov_to(iov, (size_t)iovcnt, 0, b, (size_t)r);
    }
    int e = errno;
    free(b);
    errno = e;
    return r;
}

static ssize_t rwv(struct ust_stack *stack, int fd, const struct iovec *iov, int iovcnt,
                   bool write)
{
    struct ust_socket *so = NULL;
    size_t len = 0;
    ust_rt_enter(stack);
    ssize_t r = do_rwv(stack, fd, iov, iovcnt, write, &so, &len);
    ust_rt_exit(stack);
    if (r == 0 && !so)      /* a descriptor that is not a socket */
        return rwv_bounce(stack, fd, iov, iovcnt, len, write);
    return ust_fd_ret(r);
}

ssize_t ust_readv(struct ust_stack *stack, int fd, const struct iovec *iov, int iovcnt)
{
    return rwv(stack, fd, iov, iovcnt, false);
}

ssize_t ust_writev(struct ust_stack *stack, int fd, const struct iovec *iov, int iovcnt)
{
    return rwv(stack, fd, iov, iovcnt, true);
}

/* ---- getsockname / getpeername ---------------------------------------- */

static int do_getname(struct ust_stack *stack, int fd, struct sockaddr *addr, socklen_t *len,
                      bool peer)
{
    struct ust_socket *so;
    int err = ust_sock_lookup(stack, fd, &so);
    if (err)
        return err;
    if (!addr || !len)
        return -EFAULT;
    if (*len > (socklen_t)INT32_MAX)
        return -EINVAL;
    const struct ust_sk *sk = so->sk;
    struct sockaddr_in sin = { .sin_family = AF_INET };
    if (peer) {
        /* Linux inet_getname: no peer port, no peer (ping sockets too). */
        if (!sk->connected || sk->rport == 0)
            return -ENOTCONN;
        sin.sin_addr.s_addr = htonl(sk->raddr);
        sin.sin_port = htons(sk->rport);
    } else {
        sin.sin_addr.s_addr = htonl(sk->laddr);
        sin.sin_port = htons(sk->lport);
    }
    ust_sockaddr_out(&sin, addr, len);
    return 0;
}

int ust_getsockname(struct ust_stack *stack, int fd, struct sockaddr *addr, socklen_t *addrlen)
{
    ust_rt_enter(stack);
    ust_trace_call_enter(stack, "getsockname", fd);
    int r = do_getname(stack, fd, addr, addrlen, false);
    ust_trace_call_ret(stack, "getsockname", fd, r);
    ust_rt_exit(stack);
    return (int)ust_fd_ret(r);
}

int ust_getpeername(struct ust_stack *stack, int fd, struct sockaddr *addr, socklen_t *addrlen)
{
    ust_rt_enter(stack);
    ust_trace_call_enter(stack, "getpeername", fd);
    int r = do_getname(stack, fd, addr, addrlen, true);
    ust_trace_call_ret(stack, "getpeername", fd, r);
    ust_rt_exit(stack);
    return (int)ust_fd_ret(r);
}

/* ---- options ---------------------------------------------------------- */

static int do_setsockopt(struct ust_stack *stack, int fd, int level, int optname,
                         const void *optval, socklen_t optlen)
{
    struct ust_socket *so;
    int err = ust_sock_lookup(stack, fd, &so);
    if (err)
        return err;
    return ust_sock_setsockopt(so, level, optname, optval, optlen);
}

int ust_setsockopt(struct ust_stack *stack, int fd, int level, int optname,
                   const void *optval, socklen_t optlen)
{
    ust_rt_enter(stack);
    ust_trace_call_enter(stack, "setsockopt", fd);
    int r = do_setsockopt(stack, fd, level, optname, optval, optlen);
    ust_trace_call_ret(stack, "setsockopt", fd, r);
    ust_rt_exit(stack);
    return (int)ust_fd_ret(r);
}

static int do_getsockopt(struct ust_stack *stack, int fd, int level, int optname,
                         void *optval, socklen_t *optlen)
{
    struct ust_socket *so;
    int err = ust_sock_lookup(stack, fd, &so);
    if (err)
        return err;
    return ust_sock_getsockopt(so, level, optname, optval, optlen);
}

int ust_getsockopt(struct ust_stack *stack, int fd, int level, int optname,
                   void *optval, socklen_t *optlen)
{
    ust_rt_enter(stack);
    ust_trace_call_enter(stack, "getsockopt", fd);
    int r = do_getsockopt(stack, fd, level, optname, optval, optlen);
    ust_trace_call_ret(stack, "getsockopt", fd, r);
    ust_rt_exit(stack);
    return (int)ust_fd_ret(r);
}
