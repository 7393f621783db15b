/* Stream sockets: the socket operations of TCP on top of tcp/ (the user
 * calls in tcp_user.c). Here the caller's struct sockaddr_in is checked and
 * converted, blocking calls wait through ust_file_wait_io (connect for the
 * handshake, accept for a connection, send for buffer space until every byte
 * is copied, recv for data), SIGPIPE is raised as Linux does, and the
 * IPPROTO_TCP options live. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/sockios.h>
#include <netinet/tcp.h>

#include "core/iov.h"
#include "core/util.h"
#include "fd/fd.h"
#include "runtime/runtime.h"
#include "sock/sock.h"
#include "stack/stack_impl.h"
#include "tcp/tcp.h"

static struct ust_tcb *tcb_of(const struct ust_socket *so)
{
    return so->pcb;
}

static int stream_bind(struct ust_socket *so, const struct sockaddr *addr, socklen_t len)
{
    uint32_t ip;
    uint16_t port;
    int err = ust_sock_bind_addr(addr, len, &ip, &port);
    return err ? err : ust_tcp_bind(tcb_of(so), ip, port);
}

/* ---- connect ------------------------------------------------------------ */

static bool connecting(const struct ust_tcb *tcb)
{
    return tcb->state == UST_TCP_SYN_SENT ||
           (tcb->state == UST_TCP_SYN_RECEIVED && tcb->connect_pending);
}

/* The outcome of a handshake: 0, the error, or -EAGAIN while it runs. */
static ssize_t try_connected(struct ust_file *f, void *arg)
{
    (void)arg;
    struct ust_socket *so = f->priv;
    struct ust_tcb *tcb = tcb_of(so);
    if (connecting(tcb))
        return -EAGAIN;
    tcb->connect_pending = false;
    if (tcb->sk.err)
        return -ust_sk_take_err(&tcb->sk);
    if (tcb->state == UST_TCP_CLOSED)
        return -ECONNABORTED;
    return 0;
}

static int stream_connect(struct ust_socket *so, const struct sockaddr *addr, socklen_t len)
{
    struct ust_tcb *tcb = tcb_of(so);
    sa_family_t family;
    if (len < sizeof(family))
        return -EINVAL;
    memcpy(&family, addr, sizeof(family));
    if (family == AF_UNSPEC)
        return ust_tcp_disconnect(tcb);
    if (tcb->connect_pending && !connecting(tcb)) {
        /* A non-blocking connect finished: report how (Linux: sock_error). */
        return (int)try_connected(so->file, NULL);
    }
    if (!connecting(tcb)) {
        struct sockaddr_in sin;
        int err = ust_sock_sin_in(addr, len, &sin);
        if (err)
            return err;
        if (family != AF_INET)
            return -EAFNOSUPPORT;
        err = ust_tcp_connect(tcb, ntohl(sin.sin_addr.s_addr), ntohs(sin.sin_port));
        if (err != -EINPROGRESS)
            return err;
        if (so->file->status_flags & O_NONBLOCK)
            return -EINPROGRESS;
    } else if (so->file->status_flags & O_NONBLOCK) {
        return -EALREADY;
    }
    ssize_t r = ust_file_wait_io(so->file, POLLOUT, false, so->file->sndtimeo_ns,
                                 try_connected, NULL);
    return r == -EAGAIN ? -EINPROGRESS : (int)r;
}

/* ---- listen / accept ------------------------------------------------------- */

static int stream_listen(struct ust_socket *so, int backlog)
{
    return ust_tcp_listen(tcb_of(so), backlog);
}

static const struct ust_proto_ops stream_ops;

static void attach(struct ust_socket *so, struct ust_tcb *tcb)
{
    so->ops = &stream_ops;
    so->pcb = tcb;
    so->sk = &tcb->sk;
    tcb->sk.wq = &so->file->wq;
    tcb->orphan = false;
}

static ssize_t try_accept(struct ust_file *f, void *arg)
{
    struct ust_socket *so = f->priv;
    struct ust_tcb **child = arg;
    return ust_tcp_accept(tcb_of(so), child);
}

static int stream_accept(struct ust_socket *so, struct ust_socket *newso, struct sockaddr_in *peer)
{
    struct ust_tcb *child = NULL;
    ssize_t r = ust_file_wait_io(so->file, POLLIN, false, so->file->rcvtimeo_ns, try_accept,
                                 &child);
    if (r < 0)
        return (int)r;
    attach(newso, child);
    memset(peer, 0, sizeof(*peer));
    peer->sin_family = AF_INET;
    peer->sin_addr.s_addr = htonl(child->sk.raddr);
    peer->sin_port = htons(child->sk.rport);
    return 0;
}

static int stream_shutdown(struct ust_socket *so, int how)
{
    return ust_tcp_shutdown(tcb_of(so), how);
}

/* ---- send / recv ------------------------------------------------------------ */

struct send_args {
    const struct iovec *iov;
    size_t iovcnt, len, done;
    int flags;
};

/* One piece into the send ring. MSG_OOB (Linux tcp_mark_urg, RFC 6093):
 * SND.UP becomes the sequence just past this call's data; it is set
 * before the data goes, so the segments carrying it have URG, and then
 * corrected to what the ring took. */
static ssize_t send_piece(struct ust_tcb *tcb, const void *p, size_t k, int flags)
{
    if (!(flags & MSG_OOB))
        return ust_tcp_send(tcb, p, k, flags);
    uint32_t old_up = tcb->snd_up;
    bool old_urg = tcb->snd_urg;
    tcb->snd_up = ust_tcp_snd_end(tcb) + (uint32_t)k;
    tcb->snd_urg = true;
    ssize_t r = ust_tcp_send(tcb, p, k, flags);
    if (r > 0) {
        tcb->snd_up = ust_tcp_snd_end(tcb);
    } else {
        tcb->snd_up = old_up;
        tcb->snd_urg = old_urg;
    }
    return r;
}

/* Copies what fits, piece by piece (every piece but the last with
 * MSG_MORE, so the pieces share segments); -EAGAIN until every byte is in
 * (a blocking send waits for all of it, as Linux's tcp_sendmsg). */
static ssize_t try_send(struct ust_file *f, void *arg)
{
    struct send_args *a = arg;
    struct ust_tcb *tcb = tcb_of(f->priv);
    ssize_t r = 0;
    while (a->done < a->len) {
        struct ust_iov_pos p = ust_iov_seek(a->iov, a->iovcnt, a->done);
        size_t k = UST_MIN(a->iov[p.idx].iov_len - p.off, a->len - a->done);
        bool last = a->done + k == a->len;
        r = send_piece(tcb, (const uint8_t *)a->iov[p.idx].iov_base + p.off, k,
                       last ? a->flags : a->flags | MSG_MORE);
        if (r <= 0)
            break;
        a->done += (size_t)r;
        if ((size_t)r < k)
            break;
    }
    if (a->done < a->len && tcb->more && !(a->flags & MSG_MORE)) {
        tcb->more = false;      /* stopped early: do not hold what went in */
        ust_tcp_output(tcb);
    }
    if (a->len == 0)
        r = ust_tcp_send(tcb, NULL, 0, a->flags);   /* the state checks only */
    if (r < 0 && r != -EAGAIN)
        return a->done ? (ssize_t)a->done : r;
    return a->done == a->len ? (ssize_t)a->done : -EAGAIN;
}

static ssize_t stream_sendmsg(struct ust_socket *so, const struct iovec *iov, size_t iovcnt,
                              size_t len, int flags, const struct sockaddr *addr, socklen_t alen)
{
    (void)addr;             /* Linux ignores the address of a connected stream */
    (void)alen;
    struct send_args a = { iov, iovcnt, len, 0, flags };
    ssize_t r = ust_file_wait_io_partial(so->file, POLLOUT | POLLWRNORM,
                                         (flags & MSG_DONTWAIT) != 0, so->file->sndtimeo_ns,
                                         try_send, &a, &a.done);
    if ((r == -EAGAIN || r == -EINTR) && a.done > 0)
        r = (ssize_t)a.done;
    if ((flags & MSG_OOB) && a.done > 0) {
        /* Linux tcp_nagle_test: urgent mode sends at once. */
        struct ust_tcb *tcb = tcb_of(so);
        tcb->push_now = true;
        ust_tcp_output(tcb);
        tcb->push_now = false;
    }
    if (r == -EPIPE && !(flags & MSG_NOSIGNAL) && so->sk->stack->cfg.raise_sigpipe)
        raise(SIGPIPE);
    return r;
}

/* ---- Urgent data, receive side (Linux tcp_recvmsg / tcp_recv_urg) ------------ */

/* The sequence number of the receive ring's first byte (Linux copied_seq). */
static uint32_t copied_seq(const struct ust_tcb *tcb)
{
    return tcb->rcv_nxt - (uint32_t)ust_ring_used(&tcb->rcv) - (tcb->fin_rcvd ? 1u : 0u);
}

/* The urgent byte is in the ring (Linux TCP_URG_VALID): its offset there. */
static bool urg_valid(const struct ust_tcb *tcb, size_t *off)
{
    if (tcb->urg_state != UST_TCP_URG_PENDING)
        return false;
    uint32_t o = tcb->rcv_up - copied_seq(tcb);
    if (ust_seq_lt(tcb->rcv_up, copied_seq(tcb)) || o >= ust_ring_used(&tcb->rcv))
        return false;
    *off = o;
    return true;
}

/* Reading went past the urgent byte: it is forgotten (urg_data = 0). */
static void urg_passed(struct ust_tcb *tcb)
{
    if (tcb->urg_state != UST_TCP_URG_NONE && ust_seq_gt(copied_seq(tcb), tcb->rcv_up))
        tcb->urg_state = UST_TCP_URG_NONE;
}

/* recv(MSG_OOB): the urgent byte once, unless SO_OOBINLINE keeps it in the
 * stream. EINVAL with none (or read already), EAGAIN until it arrives. */
static ssize_t recv_urgent(struct ust_tcb *tcb, const struct iovec *iov, size_t iovcnt,
                           size_t len, int flags, int *msg_flags)
{
    if (tcb->state == UST_TCP_LISTEN)
        return -ENOTCONN;       /* tcp_recvmsg checks this first */
    if (tcb->sk.oobinline || tcb->urg_state != UST_TCP_URG_PENDING)
        return -EINVAL;
    if (tcb->state == UST_TCP_CLOSED && !tcb->done)
        return -ENOTCONN;
    size_t off;
    if (urg_valid(tcb, &off)) {
        uint8_t c;
        ust_ring_peek(&tcb->rcv, off, &c, 1);
        if (!(flags & MSG_PEEK))
            tcb->urg_state = UST_TCP_URG_READ;
        *msg_flags |= MSG_OOB;
        if (len == 0) {
            *msg_flags |= MSG_TRUNC;
            return 0;
        }
        if (!(flags & MSG_TRUNC))
            ust_iov_to(iov, iovcnt, 0, &c, 1);
        return 1;
    }
    if (tcb->state == UST_TCP_CLOSED || tcb->shut_rd || tcb->fin_rcvd)
        return 0;
    return -EAGAIN;
}

struct recv_args {
    const struct iovec *iov;
    size_t iovcnt, len, done;
    size_t skip;                /* MSG_PEEK: urgent bytes stepped over */
    int flags;
};

/* Reading stops at the urgent byte (so SIOCATMARK can tell), and without
 * SO_OOBINLINE steps over it. *k is cut to the bytes before the mark.
 * False when the call must end here (data was read before the mark). */
static bool urg_limit(struct ust_tcb *tcb, struct recv_args *a, size_t *k)
{
    if (tcb->urg_state == UST_TCP_URG_NONE)
        return true;
    bool peek = (a->flags & MSG_PEEK) != 0;
    uint32_t head = copied_seq(tcb) + (peek ? (uint32_t)(a->done + a->skip) : 0u);
    if (ust_seq_lt(tcb->rcv_up, head))
        return true;
    uint32_t off = tcb->rcv_up - head;
    if (off >= *k)
        return true;
    if (off > 0) {
        *k = off;
        return true;
    }
    if (a->done > 0)
        return false;
    if (!tcb->sk.oobinline && ust_ring_used(&tcb->rcv) > (peek ? a->skip : 0)) {
        if (peek) {
            a->skip++;
        } else {
            ust_ring_discard(&tcb->rcv, 1);
            urg_passed(tcb);
        }
    }
    return true;
}

/* One piece: ust_tcp_recv (which also reports EOF and errors), or for a
 * later piece of MSG_PEEK a copy further into the ring. */
static ssize_t recv_piece(struct ust_tcb *tcb, struct recv_args *a, void *p, size_t k)
{
    size_t off = a->done + a->skip;
    if (!(a->flags & MSG_PEEK) || off == 0)
        return ust_tcp_recv(tcb, p, k, a->flags);
    size_t n = off < ust_ring_used(&tcb->rcv) ? ust_ring_peek(&tcb->rcv, off, p, k) : 0;
    return n ? (ssize_t)n : -EAGAIN;
}

static ssize_t try_recv(struct ust_file *f, void *arg)
{
    struct recv_args *a = arg;
    struct ust_tcb *tcb = tcb_of(f->priv);
    ssize_t r = -EAGAIN;
    bool at_mark = false;
    while (a->done < a->len || a->len == 0) {
        struct ust_iov_pos p = ust_iov_seek(a->iov, a->iovcnt, a->done);
        size_t k = a->len ? UST_MIN(a->iov[p.idx].iov_len - p.off, a->len - a->done) : 0;
        if (!urg_limit(tcb, a, &k)) {
            at_mark = true;
            break;
        }
        /* Linux tcp_recvmsg: once bytes are copied, a pending error ends
         * the call and stays for the next one. */
        if (a->done > 0 && tcb->sk.err && ust_ring_used(&tcb->rcv) == 0) {
            r = 0;
            break;
        }
        uint8_t *base = k ? (uint8_t *)a->iov[p.idx].iov_base + p.off : NULL;
        r = recv_piece(tcb, a, base, k);
        if (r <= 0 || a->len == 0)
            break;
        a->done += (size_t)r;
        urg_passed(tcb);
        if ((size_t)r < k)
            break;
    }
    if (a->done > 0) {
        /* Linux sock_rcvlowat: keep going until the target, which is the
         * whole length with MSG_WAITALL, else SO_RCVLOWAT (not with
         * MSG_PEEK). What was copied is returned if the wait ends early,
         * and always at the urgent mark. */
        size_t target = ust_tcp_rcvlowat(tcb);
        if ((a->flags & MSG_WAITALL) || target > a->len)
            target = a->len;
        if (!at_mark && !(a->flags & MSG_PEEK) && a->done < target && (r > 0 || r == -EAGAIN))
            return -EAGAIN;
        return (ssize_t)a->done;
    }
    return r;
}

static ssize_t stream_recvmsg(struct ust_socket *so, const struct iovec *iov, size_t iovcnt,
                              size_t len, int flags, struct sockaddr_in *from, int *msg_flags)
{
    (void)from;     /* Linux tcp_recvmsg names no source: *from stays AF_UNSPEC */
    if (flags & MSG_OOB)
        return recv_urgent(tcb_of(so), iov, iovcnt, len, flags, msg_flags);
    struct recv_args a = { iov, iovcnt, len, 0, 0, flags };
    ssize_t r = ust_file_wait_io_partial(so->file, POLLIN | POLLRDNORM,
                                         (flags & MSG_DONTWAIT) != 0, so->file->rcvtimeo_ns,
                                         try_recv, &a, &a.done);
    if ((r == -EAGAIN || r == -EINTR) && a.done > 0)
        r = (ssize_t)a.done;
    return r;
}

/* ---- poll / ioctl / release ---------------------------------------------------- */

static uint32_t stream_poll(struct ust_socket *so)
{
    struct ust_tcb *tcb = tcb_of(so);
    uint32_t mask = ust_tcp_poll(tcb);
    if (tcb->urg_state == UST_TCP_URG_NONE)
        return mask;
    size_t off;
    if (urg_valid(tcb, &off))
        mask |= POLLPRI;        /* Linux tcp_poll: TCP_URG_VALID */
    /* An urgent byte at the head that reading will step over does not
     * count as readable data (tcp_poll's target++). */
    size_t used = ust_ring_used(&tcb->rcv);
    if (!tcb->sk.oobinline && tcb->rcv_up == copied_seq(tcb) && used > 0 &&
        !(mask & POLLRDHUP) && used - 1 < ust_tcp_rcvlowat(tcb))
        mask &= ~(uint32_t)(POLLIN | POLLRDNORM);
    return mask;
}

static int stream_ioctl(struct ust_socket *so, unsigned long request, void *arg)
{
    struct ust_tcb *tcb = tcb_of(so);
    switch (request) {
    case SIOCINQ:           /* = FIONREAD (Linux: EINVAL on a listener) */
        if (tcb->state == UST_TCP_LISTEN)
            return -EINVAL;
        return ust_sock_put_int(arg, (int)ust_tcp_inq(tcb));
    case SIOCOUTQ:
        if (tcb->state == UST_TCP_LISTEN)
            return -EINVAL;
        return ust_sock_put_int(arg, (int)ust_tcp_outq(tcb));
    case SIOCATMARK:        /* reading is at the urgent byte (Linux tcp_ioctl) */
        return ust_sock_put_int(arg, tcb->urg_state != UST_TCP_URG_NONE &&
                                         tcb->rcv_up == copied_seq(tcb));
    case SIOCOUTQNSD: {     /* queued but not yet sent */
        if (tcb->state == UST_TCP_LISTEN)
            return -EINVAL;
        uint32_t end = ust_tcp_snd_end(tcb);
        return ust_sock_put_int(arg, ust_seq_gt(end, tcb->snd_nxt) ? (int)(end - tcb->snd_nxt) : 0);
    }
    default:
        return -ENOTTY;
    }
}

/* Linux sk_stream_closing: our FIN is sent or queued and not yet acked. */
static bool fin_unacked(enum ust_tcp_conn_state st)
{
    return st == UST_TCP_FIN_WAIT_1 || st == UST_TCP_CLOSING || st == UST_TCP_LAST_ACK;
}

/* SO_LINGER with a nonzero timeout (socket(7), Linux tcp_close ->
 * sk_stream_wait_close): close queues the FIN, then waits until it is
 * acknowledged (all data with it) or the timeout passes; either way the
 * connection then goes on as an orphan like any closed one. As in Linux
 * O_NONBLOCK does not matter; without a stack thread (ust_stack_poll, the
 * simulator) nothing can wait, so close returns at once. Unread data and a
 * zero timeout abort in ust_tcp_close without waiting. */
static void linger_wait(struct ust_socket *so)
{
    struct ust_tcb *tcb = tcb_of(so);
    struct ust_stack *stack = tcb->sk.stack;
    if (tcb->linger <= 0 || !ust_rt_can_block(stack) || stack->tcp.stopping)
        return;
    if (tcb->state != UST_TCP_ESTABLISHED && tcb->state != UST_TCP_CLOSE_WAIT &&
        !fin_unacked(tcb->state))
        return;
    if (ust_ring_used(&tcb->rcv) > 0 || tcb->ooo.head)
        return;
    ust_tcp_shutdown(tcb, SHUT_WR);
    uint64_t deadline = ust_rt_deadline(stack, (uint64_t)tcb->linger * UST_NSEC_PER_SEC);
    struct ust_wait_entry e = { .q = &so->file->wq, .events = UST_WAKE_ALL };
    while (fin_unacked(tcb->state) && ust_rt_can_block(stack)) {
        /* A signal ends the wait too; close still succeeds (Linux
         * sk_stream_wait_close). */
        if (ust_rt_wait(stack, &e, 1, deadline, UST_RT_SIG_EINTR) < 0)
            break;
    }
}

static void stream_release(struct ust_socket *so)
{
    linger_wait(so);
    ust_tcp_close(tcb_of(so));
}

static const struct ust_proto_ops stream_ops = {
    .bind = stream_bind,
    .connect = stream_connect,
    .sendmsg = stream_sendmsg,
    .recvmsg = stream_recvmsg,
    .poll = stream_poll,
    .ioctl = stream_ioctl,
    .listen = stream_listen,
    .accept = stream_accept,
    .shutdown = stream_shutdown,
    .release = stream_release,
};

int ust_stream_create(struct ust_stack *stack, struct ust_socket *so)
{
    /* Linux inet_create: no memory for the sock (here also mem_limit,
     * tcp_mem.c) is ENOBUFS. */
    struct ust_tcb *tcb = ust_tcb_new(stack, &so->file->wq);
    if (!tcb)
        return -ENOBUFS;
    attach(so, tcb);
    return 0;
}

void ust_stream_keepalive_changed(struct ust_socket *so)
{
    ust_tcp_keepalive_update(tcb_of(so));
}

bool ust_stream_listening(const struct ust_socket *so)
{
    return tcb_of(so)->state == UST_TCP_LISTEN;
}

/* ---- Options ---------------------------------------------------------------- */

static int get_int_opt(const void *optval, socklen_t optlen, int *v)
{
    if (optlen < sizeof(int))
        return -EINVAL;
    memcpy(v, optval, sizeof(int));
    return 0;
}

static int copy_opt_out(void *optval, socklen_t *optlen, const void *v, size_t vlen)
{
    socklen_t n = *optlen < vlen ? *optlen : (socklen_t)vlen;
    if (n && !optval)
        return -EFAULT;
    memcpy(optval, v, n);
    *optlen = n;
    return 0;
}

int ust_stream_setsockopt(struct ust_socket *so, int optname, const void *optval,
                          socklen_t optlen)
{
    struct ust_tcb *tcb = tcb_of(so);
    int v;
    if (optname == TCP_CONGESTION) {
        char name[16] = { 0 };
        if (optlen < 1)
            return -EINVAL;     /* Linux do_tcp_setsockopt */
        if (!optval)
            return -EFAULT;
        memcpy(name, optval, optlen < sizeof(name) - 1 ? optlen : sizeof(name) - 1);
        const struct ust_tcp_cc_ops *cc = ust_tcp_cc_find(name);
        if (!cc)
            return -ENOENT;
        if (cc != tcb->cc) {
            tcb->cc = cc;
            if (tcb->mss)
                cc->init(tcb);  /* a new algorithm starts from its own state */
        }
        return 0;
    }
    int err = get_int_opt(optval, optlen, &v);
    if (err)
        return err;
    switch (optname) {
    case TCP_NODELAY:
        tcb->nodelay = v != 0;
        if (tcb->nodelay)
            ust_tcp_output(tcb);
        return 0;
    case TCP_CORK:
        ust_tcp_set_cork(tcb, v != 0);
        return 0;
    case TCP_MAXSEG:        /* Linux: TCP_MIN_MSS..MAX_TCP_WINDOW, or 0 */
        if (v != 0 && (v < 88 || v > 32767))
            return -EINVAL;
        tcb->user_mss = (uint16_t)v;
        return 0;
    case TCP_KEEPIDLE:      /* Linux bounds: MAX_TCP_KEEPIDLE 32767 */
    case TCP_KEEPINTVL:
        if (v < 1 || v > 32767)
            return -EINVAL;
        if (optname == TCP_KEEPIDLE)
            tcb->keepidle_s = (uint32_t)v;
        else
            tcb->keepintvl_s = (uint32_t)v;
        ust_tcp_keepalive_update(tcb);
        return 0;
    case TCP_KEEPCNT:       /* MAX_TCP_KEEPCNT 127 */
        if (v < 1 || v > 127)
            return -EINVAL;
        tcb->keepcnt = (uint32_t)v;
        return 0;
    case TCP_USER_TIMEOUT:
        if (v < 0)
            return -EINVAL;
        tcb->user_timeout_ms = (uint32_t)v;
        return 0;
    default:
        return -ENOPROTOOPT;
    }
}

int ust_stream_getsockopt(struct ust_socket *so, int optname, void *optval, socklen_t *optlen)
{
    const struct ust_tcb *tcb = tcb_of(so);
    int v;
    switch (optname) {
    case TCP_NODELAY:
        v = tcb->nodelay;
        break;
    case TCP_CORK:
        v = tcb->cork;
        break;
    case TCP_MAXSEG:
        v = tcb->state >= UST_TCP_SYN_SENT && tcb->mss ? tcb->mss : (tcb->user_mss ? tcb->user_mss : 536);
        break;
    case TCP_KEEPIDLE:
        v = (int)(tcb->keepidle_s ? tcb->keepidle_s : tcb->sk.stack->cfg.tcp_keepalive_time);
        break;
    case TCP_KEEPINTVL:
        v = (int)(tcb->keepintvl_s ? tcb->keepintvl_s : tcb->sk.stack->cfg.tcp_keepalive_intvl);
        break;
    case TCP_KEEPCNT:
        v = (int)(tcb->keepcnt ? tcb->keepcnt : tcb->sk.stack->cfg.tcp_keepalive_probes);
        break;
    case TCP_USER_TIMEOUT:
        v = (int)tcb->user_timeout_ms;
        break;
    case TCP_INFO: {
        struct tcp_info ti;
        ust_tcp_get_info(tcb, &ti);
        return copy_opt_out(optval, optlen, &ti, sizeof(ti));
    }
    case TCP_CONGESTION: {
        char name[16] = { 0 };      /* TCP_CA_NAME_MAX */
        strncpy(name, tcb->cc->name, sizeof(name) - 1);
        return copy_opt_out(optval, optlen, name, sizeof(name));
    }
    default:
        return -ENOPROTOOPT;
    }
    return copy_opt_out(optval, optlen, &v, sizeof(v));
}

int ust_stream_set_linger(struct ust_socket *so, const void *optval, socklen_t optlen)
{
    struct linger l;
    if (optlen < sizeof(l))
        return -EINVAL;
    memcpy(&l, optval, sizeof(l));
    tcb_of(so)->linger = l.l_onoff ? (l.l_linger < 0 ? 0 : l.l_linger) : -1;
    return 0;
}

/* SO_RCVLOWAT (Linux tcp_set_rcvlowat): negative means INT_MAX, 0 means
 * 1; capped at half the receive buffer (Linux grows the buffer instead
 * unless SO_RCVBUF fixed it). Readers re-check at once. */
int ust_stream_set_rcvlowat(struct ust_socket *so, int val)
{
    struct ust_tcb *tcb = tcb_of(so);
    uint32_t v = val < 0 ? (uint32_t)INT_MAX : (uint32_t)val;
    uint32_t cap = tcb->sk.rcvbuf / 2;
    if (v > cap)
        v = cap;
    tcb->rcvlowat = v ? v : 1;
    ust_tcp_wake(tcb, POLLIN | POLLRDNORM);
    return 0;
}

int ust_stream_get_rcvlowat(const struct ust_socket *so)
{
    return (int)tcb_of(so)->rcvlowat;
}

int ust_stream_get_linger(struct ust_socket *so, void *optval, socklen_t *optlen)
{
    int lg = tcb_of(so)->linger;
    struct linger l = { .l_onoff = lg >= 0, .l_linger = lg >= 0 ? lg : 0 };
    return copy_opt_out(optval, optlen, &l, sizeof(l));
}
