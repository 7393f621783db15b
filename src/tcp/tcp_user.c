/* The user calls of RFC 9293 section 3.10 (OPEN, SEND, RECEIVE, CLOSE,
 * ABORT, STATUS) with the errors Linux reports: what sock/stream.c turns
 * connect/listen/accept/send/recv/shutdown/close/poll into. None of these
 * block: they return -EAGAIN and the socket layer waits. */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/tcp.h>

#include "core/stats.h"
#include "core/util.h"
#include "net/net.h"
#include "stack/stack_impl.h"
#include "tcp/tcp.h"
#include "tcp/tcp_trace.h"

#define UST_INADDR_LOOPBACK 0x7f000001u

/* ---- OPEN --------------------------------------------------------------- */

/* Active OPEN (3.10.1): route, port, ISN, SYN. -EINPROGRESS on success. */
int ust_tcp_connect(struct ust_tcb *tcb, uint32_t addr, uint16_t port)
{
    struct ust_stack *stack = tcb->sk.stack;
    if (tcb->state == UST_TCP_SYN_SENT || tcb->state == UST_TCP_SYN_RECEIVED)
        return -EALREADY;
    if (tcb->state != UST_TCP_CLOSED)
        return -EISCONN;
    if (addr == 0)
        addr = UST_INADDR_LOOPBACK;     /* Linux: 0.0.0.0 is this host */
    if (port == 0)
        return -ECONNREFUSED;
    if (ust_ipv4_is_multicast(addr) || addr == 0xffffffffu)
        return -ENETUNREACH;
    struct ust_route_result rt;
    int err = ust_route_output(stack, addr, &rt);
    if (err)
        return err;
    if (tcb->sk.laddr == 0)
        tcb->sk.laddr = tcb->sk.saddr = rt.src;
    /* Linux __inet_hash_connect: no free ephemeral port is EADDRNOTAVAIL. */
    if ((err = ust_tcp_autobind(tcb)) != 0)
        return err == -EAGAIN ? -EADDRNOTAVAIL : err;
    if (ust_tcp_lookup(stack, tcb->sk.laddr, tcb->sk.lport, addr, port))
        return -EADDRNOTAVAIL;
    tcb->sk.raddr = addr;
    tcb->sk.rport = port;
    tcb->sk.err = 0;
    tcb->reset = tcb->done = tcb->fin_rcvd = tcb->shut_wr = tcb->shut_rd = false;
    tcb->oow_acked = false;
    ust_tcp_init_buffers(tcb);
    tcb->rcv_mss = ust_tcp_route_mss(stack, addr);
    if (tcb->user_mss && tcb->user_mss < tcb->rcv_mss)
        tcb->rcv_mss = tcb->user_mss;   /* TCP_MAXSEG (Linux tcp_mss_clamp) */
    tcb->mss = tcb->rcv_mss;
    tcb->iss = ust_tcp_isn(stack, tcb->sk.laddr, tcb->sk.lport, addr, port);
    tcb->ts_offset = ust_tcp_ts_offset(stack, tcb->sk.laddr, tcb->sk.lport, addr, port);
    tcb->snd_una = tcb->snd_max = tcb->snd_sml = tcb->iss;
    tcb->snd_buf_seq = tcb->iss + 1;
    tcb->backoff = 0;
    ust_tcp_set_state(tcb, UST_TCP_SYN_SENT);
    ust_tcp_ehash_insert(tcb);
    tcb->connect_pending = true;
    UST_INC(stack, TCP, ActiveOpens);
    tcb->rtt_start = stack->now;
    ust_tcp_send_syn(tcb);
    ust_tcp_rearm_rtx(tcb);
    return -EINPROGRESS;
}

/* Passive OPEN. Linux inet_listen: backlog capped by somaxconn. */
int ust_tcp_listen(struct ust_tcb *tcb, int backlog)
{
    struct ust_stack *stack = tcb->sk.stack;
    unsigned max = stack->cfg.tcp_somaxconn;
    unsigned b = backlog < 0 || (unsigned)backlog > max ? max : (unsigned)backlog;
    if (b == 0)
        b = 1;
    if (tcb->state == UST_TCP_LISTEN) {
        tcb->backlog = b;
        return 0;
    }
    if (tcb->state != UST_TCP_CLOSED || tcb->done)
        return -EINVAL;
    int err = ust_tcp_autobind(tcb);
    if (err)
        return err == -EAGAIN ? -EADDRINUSE : err;
    struct ust_tcb *o = ust_tcp_lookup_listener(stack, tcb->sk.laddr, tcb->sk.lport);
    if (o && !(o->sk.reuseport && tcb->sk.reuseport) &&
        (o->sk.laddr == 0 || tcb->sk.laddr == 0 || o->sk.laddr == tcb->sk.laddr))
        return -EADDRINUSE;
    tcb->backlog = b;
    tcb->sk.rcvbuf = tcb->sk.rcvbuf ? tcb->sk.rcvbuf : stack->cfg.tcp_rmem_default;
    ust_tcp_set_state(tcb, UST_TCP_LISTEN);
    ust_tcp_lhash_insert(tcb);
    return 0;
}

int ust_tcp_accept(struct ust_tcb *l, struct ust_tcb **child)
{
    if (l->state != UST_TCP_LISTEN)
        return -EINVAL;
    struct ust_tcb *c = l->acc_head;
    if (!c)
        return -EAGAIN;
    l->acc_head = c->acc_next;
    if (!l->acc_head)
        l->acc_tail = NULL;
    l->acc_len--;
    c->acc_next = NULL;
    c->parent = NULL;
    ust_tcp_trace_queue(l, c, UST_QUEUE_ACCEPTED);
    *child = c;
    return 0;
}

/* ---- SEND and RECEIVE ---------------------------------------------------- */

void ust_tcp_sndbuf_expand(struct ust_tcb *tcb)
{
    /* A size set with SO_SNDBUF is the user's (Linux SOCK_SNDBUF_LOCK). */
    if (tcb->sk.sndbuf != tcb->sk.stack->cfg.tcp_wmem_default)
        return;
    size_t want = 2u * (size_t)(tcb->cwnd > 10u * tcb->mss ? tcb->cwnd : 10u * tcb->mss);
    size_t max = tcb->sk.stack->cfg.tcp_wmem_max;
    if (want > max)
        want = max;
    if (want <= tcb->snd.cap)
        return;
    size_t cap = tcb->snd.cap ? tcb->snd.cap : 4096;
    while (cap < want)
        cap *= 2;
    if (cap > max)
        cap = max;
    /* Not under memory pressure (Linux tcp_should_expand_sndbuf, tcp_mem.c). */
    if (!ust_tcp_mem_may_grow(tcb->sk.stack, cap - (tcb->snd.buf ? tcb->snd.cap : 0)))
        return;
    if (ust_tcp_ring_resize(tcb, &tcb->snd, cap) == 0)
        ust_tcp_wake(tcb, POLLOUT | POLLWRNORM);
}


/* Linux sk_stream_error: a pending error first, else EPIPE. */
static int send_error(struct ust_tcb *tcb)
{
    int e = ust_sk_take_err(&tcb->sk);
    return e ? -e : -EPIPE;
}

ssize_t ust_tcp_send(struct ust_tcb *tcb, const void *buf, size_t len, int flags)
{
    if (tcb->sk.err || tcb->shut_wr || tcb->reset)
        return send_error(tcb);
    switch (tcb->state) {
    case UST_TCP_ESTABLISHED:
    case UST_TCP_CLOSE_WAIT:
        break;
    case UST_TCP_SYN_SENT:
    case UST_TCP_SYN_RECEIVED:
        return -EAGAIN;         /* sk_stream_wait_connect */
    default:
        /* Linux sk_stream_wait_connect: EPIPE when not connected (even a
         * socket that never was; BSD would say ENOTCONN). */
        return -EPIPE;
    }
    if (len == 0)
        return 0;
    /* SO_SNDBUF set after the connection began: the ring follows it. */
    size_t want = tcb->sk.sndbuf;
    if (want != tcb->sk.stack->cfg.tcp_wmem_default && want != tcb->snd.cap &&
        ust_ring_used(&tcb->snd) <= want)
        ust_tcp_ring_resize(tcb, &tcb->snd, want);
    /* The ring's storage may not fit in mem_limit: ENOBUFS (tcp_mem.c). */
    size_t n = ust_tcp_ring_write(tcb, &tcb->snd, buf, len);
    if (n == 0)
        return ust_ring_space(&tcb->snd) ? -ENOBUFS : -EAGAIN;
    ust_tcp_trace_buf(tcb, UST_BUF_SEND, (uint32_t)n);
    /* MSG_MORE: hold a partial segment until a send without it. */
    tcb->more = (flags & MSG_MORE) != 0;
    ust_tcp_output(tcb);
    return (ssize_t)n;
}

/* RFC 9293 3.8.6.2.2: tell the peer when reading opened the window by at
 * least min(buffer/2, MSS) past what it last heard. */
static void maybe_window_update(struct ust_tcb *tcb)
{
    if (tcb->state != UST_TCP_ESTABLISHED && tcb->state != UST_TCP_FIN_WAIT_1 &&
        tcb->state != UST_TCP_FIN_WAIT_2)
        return;
    uint32_t cur = ust_seq_gt(tcb->rcv_adv, tcb->rcv_nxt) ? tcb->rcv_adv - tcb->rcv_nxt : 0;
    size_t space = ust_ring_space(&tcb->rcv);
    size_t step = tcb->rcv_mss < tcb->rcv.cap / 2 ? tcb->rcv_mss : tcb->rcv.cap / 2;
    if (space > cur && space - cur >= step && (cur < step || space >= 2 * (size_t)cur))
        ust_tcp_send_ack(tcb);
}

ssize_t ust_tcp_recv(struct ust_tcb *tcb, void *buf, size_t len, int flags)
{
    if (tcb->state == UST_TCP_LISTEN)
        return -ENOTCONN;
    size_t used = ust_ring_used(&tcb->rcv);
    if (used > 0 && len > 0) {
        size_t n;
        if (flags & MSG_TRUNC) {    /* Linux tcp_recvmsg: counted, not copied */
            n = len < used ? len : used;
            if (!(flags & MSG_PEEK)) {
                ust_ring_discard(&tcb->rcv, n);
                maybe_window_update(tcb);
            }
        } else if (flags & MSG_PEEK) {
            n = ust_ring_peek(&tcb->rcv, 0, buf, len);
        } else {
            n = ust_ring_read(&tcb->rcv, buf, len);
            ust_tcp_trace_buf(tcb, UST_BUF_RECV, (uint32_t)n);
            maybe_window_update(tcb);
        }
        return (ssize_t)n;
    }
    /* Linux tcp_recvmsg's order: EOF after a FIN, then a pending error. */
    if (tcb->fin_rcvd)
        return 0;
    if (tcb->sk.err)
        return -ust_sk_take_err(&tcb->sk);
    if (tcb->shut_rd || tcb->done)
        return 0;
    if (tcb->state == UST_TCP_CLOSED)
        return -ENOTCONN;
    if (len == 0)
        return 0;
    return -EAGAIN;
}

/* ---- CLOSE and ABORT ----------------------------------------------------- */

/* Queues our FIN after the data (3.10.4): ESTABLISHED -> FIN-WAIT-1,
 * CLOSE-WAIT -> LAST-ACK. */
static void queue_fin(struct ust_tcb *tcb)
{
    if (tcb->shut_wr)
        return;
    switch (tcb->state) {
    case UST_TCP_SYN_RECEIVED:
    case UST_TCP_ESTABLISHED:
        ust_tcp_set_state(tcb, UST_TCP_FIN_WAIT_1);
        break;
    case UST_TCP_CLOSE_WAIT:
        ust_tcp_set_state(tcb, UST_TCP_LAST_ACK);
        break;
    default:
        return;
    }
    tcb->shut_wr = true;
    ust_tcp_output(tcb);
    ust_tcp_wake(tcb, POLLOUT | POLLWRNORM);
}

/* ABORT (3.10.5): RST to the peer if synchronized, then CLOSED. */
static void abort_conn(struct ust_tcb *tcb)
{
    switch (tcb->state) {
    case UST_TCP_SYN_RECEIVED: case UST_TCP_ESTABLISHED: case UST_TCP_FIN_WAIT_1:
    case UST_TCP_FIN_WAIT_2: case UST_TCP_CLOSE_WAIT:
        ust_tcp_send_rst_conn(tcb);
        break;
    default:
        break;
    }
    ust_tcp_done(tcb);
}

/* A listener's children go when it stops listening: unaccepted connections
 * are reset (Linux inet_csk_listen_stop), half-open ones dropped. */
static void stop_listening(struct ust_tcb *l)
{
    struct ust_stack *stack = l->sk.stack;
    struct ust_tcb *c;
    while ((c = l->acc_head) != NULL) {
        l->acc_head = c->acc_next;
        l->acc_len--;
        c->parent = NULL;
        c->orphan = true;
        if (stack->tcp.stopping)
            ust_tcb_free(c);
        else
            abort_conn(c);
    }
    l->acc_tail = NULL;
    struct ust_htable *ht = &stack->tcp.ehash;
    for (uint32_t b = 0; l->syn_len > 0 && b < ht->nbuckets; b++) {
        struct ust_hnode *n = ht->buckets[b];
        while (n) {
            struct ust_tcb *t = ust_container_of(n, struct ust_tcb, node);
            n = n->next;
            if (t->parent == l)
                ust_tcb_free(t);
        }
    }
}

int ust_tcp_shutdown(struct ust_tcb *tcb, int how)
{
    switch (tcb->state) {
    case UST_TCP_CLOSED:
        return -ENOTCONN;
    case UST_TCP_LISTEN:
        if (how == SHUT_WR)
            return 0;
        stop_listening(tcb);
        ust_tcp_done(tcb);
        return 0;
    case UST_TCP_SYN_SENT:
        ust_tcp_done(tcb);
        return 0;
    default:
        break;
    }
    if (how == SHUT_RD || how == SHUT_RDWR) {
        tcb->shut_rd = true;
        ust_tcp_wake(tcb, POLLIN | POLLRDNORM | POLLRDHUP);
    }
    if (how == SHUT_WR || how == SHUT_RDWR)
        queue_fin(tcb);
    return 0;
}

int ust_tcp_disconnect(struct ust_tcb *tcb)
{
    if (tcb->state == UST_TCP_LISTEN)
        stop_listening(tcb);
    if (tcb->state != UST_TCP_CLOSED)
        abort_conn(tcb);
    ust_ring_discard(&tcb->rcv, ust_ring_used(&tcb->rcv));
    ust_ring_discard(&tcb->snd, ust_ring_used(&tcb->snd));
    ust_fbq_purge(tcb->sk.stack, &tcb->ooo);
    tcb->ooo_bytes = 0;
    tcb->ooo_truesize = 0;
    tcb->done = tcb->reset = tcb->fin_rcvd = tcb->shut_wr = tcb->shut_rd = false;
    tcb->connect_pending = false;
    tcb->sk.raddr = 0;
    tcb->sk.rport = 0;
    ust_tcp_sack_reset(tcb);
    return 0;
}

void ust_tcp_close(struct ust_tcb *tcb)
{
    struct ust_stack *stack = tcb->sk.stack;
    tcb->sk.wq = NULL;
    tcb->orphan = true;
    if (stack->tcp.stopping) {
        if (tcb->state == UST_TCP_LISTEN)
            stop_listening(tcb);
        ust_tcb_free(tcb);
        return;
    }
    switch (tcb->state) {
    case UST_TCP_LISTEN:
        stop_listening(tcb);
        /* fallthrough */
    case UST_TCP_CLOSED:
    case UST_TCP_SYN_SENT:
        /* Figure 5: LISTEN and SYN-SENT go to CLOSED, silently. */
        ust_tcp_set_state(tcb, UST_TCP_CLOSED);
        ust_tcb_free(tcb);
        return;
    case UST_TCP_TIME_WAIT:
        return;                 /* the timer frees it */
    default:
        break;
    }
    /* RFC 2525 2.17: unread data means the peer's data is lost: RST.
     * SO_LINGER with a zero timeout aborts the same way. */
    if (ust_ring_used(&tcb->rcv) > 0 || tcb->ooo.head || tcb->linger == 0) {
        if (ust_ring_used(&tcb->rcv) > 0)
            UST_INC(stack, TCP, TCPAbortOnData);
        abort_conn(tcb);
        return;
    }
    queue_fin(tcb);
    ust_tcp_orphan_update(tcb);     /* also when shutdown() sent the FIN before */
    /* Linux tcp_close -> tcp_check_oom: one orphan too many (tcp_max_orphans),
     * or memory short while it holds send data: reset it now. */
    if (tcb->orphan_counted && ust_tcp_check_oom(tcb, 0)) {
        ust_tcp_abort_on_memory(tcb);
        return;
    }
    if (tcb->state == UST_TCP_FIN_WAIT_2 && !ust_timer_pending(&tcb->tw_timer))
        ust_timer_set(&stack->timers, &tcb->tw_timer, stack->now + stack->cfg.tcp_timewait_ns);
}

/* ---- STATUS ---------------------------------------------------------------- */

/* Linux tcp_poll. */
uint32_t ust_tcp_poll(struct ust_tcb *tcb)
{
    if (tcb->state == UST_TCP_LISTEN)
        return tcb->acc_head ? (POLLIN | POLLRDNORM) : 0;
    bool rd_shut = tcb->shut_rd || tcb->fin_rcvd || tcb->done;
    bool wr_shut = tcb->shut_wr || tcb->done;
    uint32_t mask = 0;
    if ((rd_shut && wr_shut) || tcb->state == UST_TCP_CLOSED)
        mask |= POLLHUP;
    if (rd_shut)
        mask |= POLLIN | POLLRDNORM | POLLRDHUP;
    if (tcb->state != UST_TCP_SYN_SENT && tcb->state != UST_TCP_SYN_RECEIVED) {
        /* Linux tcp_stream_is_readable: at least SO_RCVLOWAT bytes. */
        size_t queued = ust_ring_used(&tcb->rcv);
        if (queued > 0 && queued >= ust_tcp_rcvlowat(tcb))
            mask |= POLLIN | POLLRDNORM;
        if (wr_shut) {
            mask |= POLLOUT | POLLWRNORM;
        } else {
            /* sk_stream_is_writeable: free space >= half of what is queued. */
            size_t used = ust_ring_used(&tcb->snd);
            size_t cap = tcb->snd.cap ? tcb->snd.cap : tcb->sk.sndbuf;
            size_t space = cap > used ? cap - used : 0;
            if (space > 0 && space >= used / 2)
                mask |= POLLOUT | POLLWRNORM;
        }
    }
    if (tcb->sk.err)
        mask |= POLLERR;
    return mask;
}

void ust_tcp_set_cork(struct ust_tcb *tcb, bool on)
{
    tcb->cork = on;
    if (on)
        return;
    tcb->push_now = tcb->nodelay && !tcb->more;
    ust_tcp_output(tcb);
    tcb->push_now = false;
}

uint32_t ust_tcp_rcvlowat(const struct ust_tcb *tcb)
{
    uint32_t cap = tcb->sk.rcvbuf / 2;
    if (tcb->rcv.cap && tcb->rcv.cap / 2 < cap)
        cap = (uint32_t)(tcb->rcv.cap / 2);
    uint32_t v = tcb->rcvlowat < cap ? tcb->rcvlowat : cap;
    return v ? v : 1;
}

size_t ust_tcp_inq(const struct ust_tcb *tcb)
{
    return ust_ring_used(&tcb->rcv);
}

size_t ust_tcp_outq(const struct ust_tcb *tcb)
{
    return tcb->state == UST_TCP_LISTEN ? 0 : ust_ring_used(&tcb->snd);
}

/* Linux's numbering of states in tcp_info (include/net/tcp_states.h). */
static uint8_t linux_state(enum ust_tcp_conn_state s)
{
    static const uint8_t map[] = {
        [UST_TCP_CLOSED] = 7, [UST_TCP_LISTEN] = 10, [UST_TCP_SYN_SENT] = 2,
        [UST_TCP_SYN_RECEIVED] = 3, [UST_TCP_ESTABLISHED] = 1, [UST_TCP_FIN_WAIT_1] = 4,
        [UST_TCP_FIN_WAIT_2] = 5, [UST_TCP_CLOSE_WAIT] = 8, [UST_TCP_CLOSING] = 11,
        [UST_TCP_LAST_ACK] = 9, [UST_TCP_TIME_WAIT] = 6,
    };
    return map[s];
}

void ust_tcp_get_info(const struct ust_tcb *tcb, struct tcp_info *ti)
{
    memset(ti, 0, sizeof(*ti));
    uint32_t mss = tcb->mss ? tcb->mss : 536;
    ti->tcpi_state = linux_state(tcb->state);
    ti->tcpi_ca_state = tcb->in_recovery ? 3 /* TCP_CA_Recovery */ : 0;
    ti->tcpi_retransmits = (uint8_t)tcb->retransmits;
    ti->tcpi_backoff = (uint8_t)tcb->backoff;
    ti->tcpi_options = (uint8_t)((tcb->ts_ok ? TCPI_OPT_TIMESTAMPS : 0) |
                                 (tcb->sack_ok ? TCPI_OPT_SACK : 0) |
                                 (tcb->wscale_ok ? TCPI_OPT_WSCALE : 0));
    if (tcb->wscale_ok) {
        ti->tcpi_snd_wscale = tcb->snd_wscale & 0xf;
        ti->tcpi_rcv_wscale = tcb->rcv_wscale & 0xf;
    }
    ti->tcpi_rto = (uint32_t)(tcb->rto_ns / UST_NSEC_PER_USEC);
    ti->tcpi_ato = (uint32_t)(tcb->sk.stack->cfg.tcp_delack_ns / UST_NSEC_PER_USEC);
    ti->tcpi_snd_mss = mss;
    ti->tcpi_rcv_mss = tcb->rcv_mss;
    ti->tcpi_unacked = (tcb->snd_max - tcb->snd_una + mss - 1) / mss;
    ti->tcpi_sacked = tcb->sacked_bytes / mss;
    ti->tcpi_probes = (uint8_t)(tcb->probes_out + tcb->ka_probes);
    if (tcb->in_recovery && tcb->sack_ok) {
        uint32_t s, e, from = tcb->snd_una, lost = 0;
        while (ust_tcp_sack_next_hole(tcb, from, &s, &e)) {
            lost += e - s;
            from = e;
        }
        ti->tcpi_lost = lost / mss;
    }
    ti->tcpi_retrans = ust_seq_gt(tcb->high_rxt, tcb->snd_una) && tcb->in_recovery
                           ? (tcb->high_rxt - tcb->snd_una) / mss : 0;
    uint64_t now = tcb->sk.stack->now;
    ti->tcpi_last_data_recv = (uint32_t)((now - tcb->last_rcv) / UST_NSEC_PER_MSEC);
    ti->tcpi_pmtu = tcb->rcv_mss + 40u;
    ti->tcpi_rtt = tcb->srtt_us;
    ti->tcpi_rttvar = tcb->rttvar_us;
    ti->tcpi_snd_ssthresh = tcb->ssthresh == UINT32_MAX ? 0x7fffffffu : tcb->ssthresh / mss;
    ti->tcpi_snd_cwnd = tcb->cwnd / mss;
    ti->tcpi_advmss = tcb->rcv_mss;
    ti->tcpi_reordering = 3;
    ti->tcpi_rcv_space = tcb->rcv_wnd;
    ti->tcpi_total_retrans = tcb->total_retrans;
}
