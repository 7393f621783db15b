/* UDP (RFC 768, RFC 1122 4.1) with Linux's socket semantics: the port table,
 * bind/connect, input demultiplexing, receive queues and sending. Ping
 * sockets share the table and the queues (ping.c sends and receives their
 * ICMP side).
 *
 * The port table holds every bound socket, hashed by (protocol, local port)
 * with the stack's secret key. Delivery picks the most specific socket as
 * Linux's compute_score does (a connected peer and a bound address beat
 * wildcards; among equals the newest bind wins); a datagram to a broadcast
 * address goes to every matching socket. */
#include "net/udp.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "core/stats.h"
#include "core/util.h"
#include "net/net.h"
#include "net/net_internal.h"
#include "runtime/waitq.h"
#include "stack/stack_impl.h"

/* RFC 768: the largest payload of one datagram (65535 - 20 - 8). */
#define UST_UDP_MAX_PAYLOAD (0xffffu - UST_IPV4_MIN_HLEN - UST_UDP_HLEN)
#define UST_INADDR_LOOPBACK 0x7f000001u

/* ---- The port table --------------------------------------------------- */

int ust_udp_init(struct ust_stack *stack)
{
    uint32_t max = 16;
    while (max < stack->cfg.max_fds && max < (1u << 16))
        max <<= 1;
    stack->udp.bind_seq = 0;
    return ust_ht_init(&stack->udp.ports, 16, max);
}

void ust_udp_fini(struct ust_stack *stack)
{
    /* Every socket left with its descriptor (ust_fd_fini runs first). */
    ust_ht_fini(&stack->udp.ports);
}

static uint32_t port_hash(const struct ust_stack *stack, int protocol, uint16_t port)
{
    return ust_hash_u32x3(stack->hash_key, (uint32_t)protocol, port, 0);
}

#define for_each_on_port(us_, stack_, proto_, port_)                                       \
    for (struct ust_hnode *n_ = ust_ht_bucket(&(stack_)->udp.ports,                         \
                                              port_hash((stack_), (proto_), (port_)));      \
         n_ && ((us_) = ust_container_of(n_, struct ust_udp_sock, node), 1); n_ = n_->next)  \
        if ((us_)->sk.protocol == (proto_) && (us_)->sk.lport == (port_))

/* Linux's UDP bind conflict (udp_lib_lport_inuse): same port, unless both
 * set SO_REUSEADDR, and overlapping local addresses (a wildcard overlaps
 * every address). */
static bool bind_conflict(const struct ust_udp_sock *a, const struct ust_udp_sock *b)
{
    if (a->sk.reuseaddr && b->sk.reuseaddr)
        return false;
    return a->sk.laddr == 0 || b->sk.laddr == 0 || a->sk.laddr == b->sk.laddr;
}

static bool port_in_use(struct ust_udp_sock *us, uint16_t port)
{
    struct ust_stack *stack = us->sk.stack;
    struct ust_udp_sock *o;
    for_each_on_port(o, stack, us->sk.protocol, port)
        if (o != us && bind_conflict(us, o))
            return true;
    return false;
}

static void sock_hash(struct ust_udp_sock *us, uint16_t port)
{
    struct ust_stack *stack = us->sk.stack;
    us->sk.lport = port;
    us->bind_seq = ++stack->udp.bind_seq;
    ust_ht_insert(&stack->udp.ports, &us->node, port_hash(stack, us->sk.protocol, port));
    us->hashed = true;
}

static void sock_unhash(struct ust_udp_sock *us)
{
    if (!us->hashed)
        return;
    ust_ht_remove(&us->sk.stack->udp.ports, &us->node);
    us->hashed = false;
    us->sk.lport = 0;
}

static bool udp_port_in_use(void *arg, uint16_t port)
{
    return port_in_use(arg, port);
}

/* Binds us to port (0: ephemeral). -EADDRINUSE on conflict, -EAGAIN when no
 * ephemeral port is free. */
static int get_port(struct ust_udp_sock *us, uint16_t port)
{
    if (port == 0) {
        int p = ust_ephemeral_port(us->sk.stack, udp_port_in_use, us);
        if (p < 0)
            return p;
        port = (uint16_t)p;
    } else if (port_in_use(us, port)) {
        return -EADDRINUSE;
    }
    sock_hash(us, port);
    return 0;
}

/* ---- Sockets ---------------------------------------------------------- */

struct ust_udp_sock *ust_udp_sock_new(struct ust_stack *stack, int protocol, struct ust_waitq *wq)
{
    struct ust_udp_sock *us = calloc(1, sizeof(*us));
    if (!us)
        return NULL;
    us->sk.stack = stack;
    us->sk.wq = wq;
    us->sk.type = SOCK_DGRAM;
    us->sk.protocol = protocol;
    us->sk.rcvbuf = stack->cfg.udp_rmem_default;
    us->sk.sndbuf = stack->cfg.udp_wmem_default;
    ust_fbq_init(&us->rxq);
    return us;
}

void ust_udp_sock_free(struct ust_udp_sock *us)
{
    sock_unhash(us);
    ust_fbq_purge(us->sk.stack, &us->rxq);
    free(us);
}

int ust_udp_bind(struct ust_udp_sock *us, uint32_t addr, uint16_t port)
{
    struct ust_stack *stack = us->sk.stack;
    bool bcast = ust_net_is_bcast(stack, addr) || ust_ipv4_is_multicast(addr);
    /* Linux inet_bind: a local, broadcast or multicast address, or any;
     * ping_check_bind_addr: no broadcast or multicast for an echo id. */
    if (addr != 0 && !(bcast && us->sk.protocol == IPPROTO_UDP) &&
        !ust_net_is_local_addr(stack, addr))
        return -EADDRNOTAVAIL;
    if (us->hashed)
        return -EINVAL;
    us->sk.laddr = addr;
    us->sk.saddr = bcast ? 0 : addr;
    int err = get_port(us, port);
    if (err) {
        us->sk.laddr = us->sk.saddr = 0;
        return err == -EAGAIN ? -EADDRINUSE : err;
    }
    us->addr_locked = addr != 0;
    us->port_locked = port != 0;
    return 0;
}

int ust_udp_autobind(struct ust_udp_sock *us)
{
    return us->hashed ? 0 : get_port(us, 0);
}

/* The interface ust_ipv4_output sends an unrouted limited broadcast by. */
static uint32_t first_ether_addr(const struct ust_stack *stack)
{
    for (unsigned i = 0; i < stack->n_netifs; i++) {
        const struct ust_netif *nif = stack->netifs[i];
        if (nif != stack->lo && nif->addr != 0 && nif->up)
            return nif->addr;
    }
    return 0;
}

int ust_udp_route(struct ust_udp_sock *us, uint32_t *daddr, uint32_t *saddr)
{
    struct ust_stack *stack = us->sk.stack;
    /* Linux: a destination of 0.0.0.0 means this host. */
    if (*daddr == 0)
        *daddr = us->sk.saddr ? us->sk.saddr : UST_INADDR_LOOPBACK;
    struct ust_route_result rt;
    int err;
    if (ust_net_is_local_addr(stack, *daddr)) {
        rt.src = ust_ipv4_is_loopback(*daddr) ? UST_INADDR_LOOPBACK : *daddr;
    } else if ((err = ust_route_lookup(stack, *daddr, &rt)) != 0) {
        /* The limited broadcast leaves by the first configured interface
         * when no route covers it (as ust_ipv4_output does). */
        if (!ust_ipv4_is_limited_bcast(*daddr) || (rt.src = first_ether_addr(stack)) == 0)
            return err;
    }
    /* SO_BROADCAST guards sending to a broadcast address (Linux: EACCES). */
    if (ust_net_is_bcast(stack, *daddr) && !us->sk.broadcast)
        return -EACCES;
    *saddr = us->sk.saddr ? us->sk.saddr : rt.src;
    return 0;
}

int ust_udp_connect(struct ust_udp_sock *us, uint32_t addr, uint16_t port)
{
    int err = ust_udp_autobind(us);
    if (err)
        return err;
    uint32_t saddr;
    if ((err = ust_udp_route(us, &addr, &saddr)) != 0)
        return err;
    /* Linux __ip4_datagram_connect: the route's source becomes the local
     * address unless bind chose one. */
    if (!us->sk.saddr)
        us->sk.saddr = saddr;
    if (!us->sk.laddr)
        us->sk.laddr = saddr;
    us->sk.raddr = addr;
    us->sk.rport = port;
    us->sk.connected = true;
    return 0;
}

void ust_udp_disconnect(struct ust_udp_sock *us)
{
    us->sk.raddr = 0;
    us->sk.rport = 0;
    us->sk.connected = false;
    if (!us->addr_locked)
        us->sk.laddr = us->sk.saddr = 0;
    if (!us->port_locked)
        sock_unhash(us);
}

/* ---- Receiving -------------------------------------------------------- */

/* What a queued datagram costs against SO_RCVBUF: its whole buffer, like
 * Linux's skb->truesize. */
static size_t fb_truesize(const struct ust_fbuf *fb)
{
    return fb->cap + sizeof(*fb);
}

bool ust_udp_queue_rcv(struct ust_udp_sock *us, struct ust_fbuf *fb)
{
    struct ust_stack *stack = us->sk.stack;
    /* Linux __udp_enqueue_schedule_skb: refuse once the queue already holds
     * more than rcvbuf (so one datagram always fits). */
    if (us->sk.rmem_alloc > us->sk.rcvbuf) {
        us->sk.drops++;
        if (us->sk.protocol == IPPROTO_UDP) {
            UST_INC(stack, UDP, RcvbufErrors);
            UST_INC(stack, UDP, InErrors);
        }
        ust_fbuf_free(stack, fb);
        return false;
    }
    us->sk.rmem_alloc += fb_truesize(fb);
    ust_fbq_push(&us->rxq, fb);
    ust_waitq_wake(us->sk.wq, POLLIN | POLLRDNORM);
    return true;
}

/* Linux compute_score: -1 when us cannot take the datagram, otherwise
 * higher for each field it matches exactly rather than by wildcard. */
static int score(const struct ust_udp_sock *us, uint32_t daddr, uint32_t saddr, uint16_t sport)
{
    int s = 1;
    if (us->sk.laddr) {
        if (us->sk.laddr != daddr)
            return -1;
        s += 4;
    }
    if (us->sk.protocol == IPPROTO_ICMP)    /* ping_lookup ignores the peer */
        return s;
    if (us->sk.raddr) {
        if (us->sk.raddr != saddr)
            return -1;
        s += 4;
    }
    if (us->sk.rport) {
        if (us->sk.rport != sport)
            return -1;
        s += 4;
    }
    return s;
}

struct ust_udp_sock *ust_udp_lookup(struct ust_stack *stack, int protocol, uint32_t daddr,
                                    uint16_t dport, uint32_t saddr, uint16_t sport)
{
    struct ust_udp_sock *us, *best = NULL;
    int best_score = -1;
    for_each_on_port(us, stack, protocol, dport) {
        int s = score(us, daddr, saddr, sport);
        if (s > best_score || (s == best_score && s >= 0 && us->bind_seq > best->bind_seq)) {
            best = us;
            best_score = s;
        }
    }
    return best_score >= 0 ? best : NULL;
}

/* A datagram to a broadcast address goes to every socket that matches
 * (Linux __udp4_lib_mcast_deliver); each gets its own copy. */
static void deliver_broadcast(struct ust_stack *stack, struct ust_fbuf *fb,
                              const struct ust_udp_hdr *uh, uint32_t daddr, uint32_t saddr)
{
    struct ust_udp_sock *us, *last = NULL;
    for_each_on_port(us, stack, IPPROTO_UDP, uh->dport) {
        if (score(us, daddr, saddr, uh->sport) < 0)
            continue;
        if (last) {
            struct ust_fbuf *copy = ust_fbuf_clone(stack, fb);
            if (!copy) {
                UST_INC(stack, UDP, InErrors);
                continue;
            }
            ust_udp_queue_rcv(last, copy);
        }
        last = us;
    }
    if (last)
        ust_udp_queue_rcv(last, fb);
    else
        ust_fbuf_free(stack, fb);   /* Linux counts these as IgnoredMulti, not NoPorts */
}

static void udp_drop_error(struct ust_stack *stack, struct ust_fbuf *fb, bool csum)
{
    if (csum)
        UST_INC(stack, UDP, InCsumErrors);
    UST_INC(stack, UDP, InErrors);
    ust_fbuf_free(stack, fb);
}

void ust_udp_input(struct ust_stack *stack, struct ust_fbuf *fb, const struct ust_ipv4_hdr *ih)
{
    struct ust_udp_hdr uh;
    /* RFC 768: the length field covers header and data; a shorter IP
     * payload is an error, a longer one is trimmed (RFC 1122 4.1.3.4). */
    if (ust_udp_parse(fb->data, fb->len, &uh) < 0)
        return udp_drop_error(stack, fb, false);
    ust_fbuf_trim(fb, uh.len);
    /* RFC 1122 4.1.3.4: verify a non-zero checksum (zero means none was
     * sent), unless the link guarantees integrity (loopback). */
    if (!(fb->flags & UST_FB_CSUM_VERIFIED) && uh.csum != 0 &&
        !ust_udp_csum_ok(fb->data, fb->len, ih->src, ih->dst))
        return udp_drop_error(stack, fb, true);

    bool bcast = (fb->flags & UST_FB_BROADCAST) || ust_net_is_bcast(stack, ih->dst) ||
                 ust_ipv4_is_multicast(ih->dst);
    struct ust_udp_sock *us = NULL;
    if (!bcast) {
        us = ust_udp_lookup(stack, IPPROTO_UDP, ih->dst, uh.dport, ih->src, uh.sport);
        if (!us) {
            /* RFC 1122 4.1.3.1: port unreachable, never for broadcasts. */
            UST_INC(stack, UDP, NoPorts);
            ust_icmp_send_error(stack, fb, UST_ICMP_DEST_UNREACH, UST_ICMP_PORT_UNREACH, 0);
            ust_fbuf_free(stack, fb);
            return;
        }
    }
    fb->cb.dgram.saddr = ih->src;
    fb->cb.dgram.daddr = ih->dst;
    fb->cb.dgram.sport = uh.sport;
    fb->cb.dgram.dport = uh.dport;
    fb->cb.dgram.ttl = ih->ttl;
    fb->cb.dgram.tos = ih->tos;
    ust_fbuf_pull(fb, UST_UDP_HLEN);
    if (bcast)
        deliver_broadcast(stack, fb, &uh, ih->dst, ih->src);
    else
        ust_udp_queue_rcv(us, fb);
}

ssize_t ust_udp_recvmsg(struct ust_udp_sock *us, void *buf, size_t len, int flags,
                        struct ust_inet_addr *src)
{
    if (flags & MSG_ERRQUEUE)   /* no error queue (IP_RECVERR): always empty */
        return -EAGAIN;
    /* Linux __skb_recv_udp: a pending error is reported before data. */
    int err = ust_sk_take_err(&us->sk);
    if (err)
        return -err;
    struct ust_fbuf *fb = us->rxq.head;
    if (!fb)
        return -EAGAIN;
    size_t n = UST_MIN(len, (size_t)fb->len);
    if (n)
        memcpy(buf, fb->data, n);
    if (src) {
        src->addr = fb->cb.dgram.saddr;
        src->port = us->sk.protocol == IPPROTO_ICMP ? 0 : fb->cb.dgram.sport;
    }
    size_t full = fb->len;
    if (!(flags & MSG_PEEK)) {
        ust_fbq_pop(&us->rxq);
        us->sk.rmem_alloc -= fb_truesize(fb);
        ust_fbuf_free(us->sk.stack, fb);
        /* Linux counts InDatagrams when the application takes one. */
        if (us->sk.protocol == IPPROTO_UDP)
            UST_INC(us->sk.stack, UDP, InDatagrams);
    }
    return (ssize_t)((flags & MSG_TRUNC) ? full : n);
}

uint32_t ust_udp_poll(const struct ust_udp_sock *us)
{
    /* Linux udp_poll/datagram_poll. Sending never waits for buffer space
     * here (a datagram leaves the socket as soon as it is sent). */
    uint32_t mask = POLLOUT | POLLWRNORM | POLLWRBAND;
    if (us->rxq.head)
        mask |= POLLIN | POLLRDNORM;
    if (us->sk.err)
        mask |= POLLERR;
    return mask;
}

size_t ust_udp_next_len(const struct ust_udp_sock *us)
{
    return us->rxq.head ? us->rxq.head->len : 0;
}

/* ---- ICMP errors ------------------------------------------------------ */

/* Linux icmp_err_convert[].fatal and __udp4_lib_err: hard errors only. */
static bool is_hard_error(int err)
{
    return err == ECONNREFUSED || err == ENOPROTOOPT || err == EPROTO || err == EHOSTDOWN ||
           err == ENONET;
}

void ust_udp_icmp_error(struct ust_stack *stack, const struct ust_ipv4_hdr *inner,
                        const uint8_t *l4, size_t l4_len, int err)
{
    if (l4_len < 8)
        return;
    struct ust_udp_sock *us = NULL;
    /* The quoted datagram went from us (inner->src) to the peer: look it
     * up the other way round. */
    if (inner->proto == UST_IPPROTO_UDP) {
        us = ust_udp_lookup(stack, IPPROTO_UDP, inner->src, ust_get_be16(l4), inner->dst,
                            ust_get_be16(l4 + 2));
    } else if (inner->proto == UST_IPPROTO_ICMP && l4[0] == UST_ICMP_ECHO) {
        us = ust_udp_lookup(stack, IPPROTO_ICMP, inner->src, ust_get_be16(l4 + 4), inner->dst, 0);
    }
    /* RFC 1122 4.1.3.3: pass it to the application; Linux does so only for
     * connected sockets (an unconnected one cannot tell which peer). */
    if (!us || !us->sk.connected || !is_hard_error(err))
        return;
    us->sk.err = err;
    ust_waitq_wake(us->sk.wq, POLLERR);
}

/* ---- Sending ---------------------------------------------------------- */

/* The destination of a send: the given one, or the connected peer. */
static int send_dest(const struct ust_udp_sock *us, const struct ust_inet_addr *dst,
                     uint32_t *daddr, uint16_t *dport)
{
    if (dst) {
        if (dst->port == 0 && us->sk.protocol == IPPROTO_UDP)
            return -EINVAL;
        *daddr = dst->addr;
        *dport = dst->port;
        return 0;
    }
    if (!us->sk.connected)
        return -EDESTADDRREQ;
    *daddr = us->sk.raddr;
    *dport = us->sk.rport;
    return 0;
}

/* Writes header and payload at p, summing the payload while copying it (one
 * pass over the data): one's-complement sums of blocks at even offsets
 * simply add up (RFC 1071). RFC 1122 4.1.3.4: a checksum is always sent;
 * RFC 768: a computed 0 goes out as all ones. */
static void udp_build(uint8_t *p, const void *buf, size_t len, uint16_t sport, uint16_t dport,
                      uint32_t saddr, uint32_t daddr)
{
    uint16_t ulen = (uint16_t)(UST_UDP_HLEN + len);
    uint32_t sum = ust_csum_pseudo(saddr, daddr, UST_IPPROTO_UDP, ulen);
    if (len)
        sum = ust_csum_copy(p + UST_UDP_HLEN, buf, len, sum);
    ust_put_be16(p, sport);
    ust_put_be16(p + 2, dport);
    ust_put_be16(p + 4, ulen);
    ust_put_be16(p + 6, 0);
    uint16_t csum = ust_csum_fold(ust_csum_partial(p, UST_UDP_HLEN, sum));
    ust_put_be16(p + 6, csum == 0 ? 0xffff : csum);
}

ssize_t ust_udp_sendmsg(struct ust_udp_sock *us, const void *buf, size_t len, int flags,
                        const struct ust_inet_addr *dst)
{
    if (us->sk.protocol == IPPROTO_ICMP)
        return ust_ping_sendmsg(us, buf, len, flags, dst);
    struct ust_stack *stack = us->sk.stack;
    if (len > UST_UDP_MAX_PAYLOAD)
        return -EMSGSIZE;
    if (flags & MSG_OOB)
        return -EOPNOTSUPP;
    uint32_t daddr, saddr;
    uint16_t dport;
    int err = send_dest(us, dst, &daddr, &dport);
    if (err)
        return err;
    if ((err = ust_udp_route(us, &daddr, &saddr)) != 0)
        return err;
    if ((err = ust_sk_take_err(&us->sk)) != 0)
        return -err;

    struct ust_fbuf *fb = ust_fbuf_alloc(stack, UST_UDP_HLEN + len);
    if (!fb) {
        UST_INC(stack, UDP, SndbufErrors);
        return -ENOBUFS;
    }
    udp_build(ust_fbuf_put(fb, UST_UDP_HLEN + len), buf, len, us->sk.lport, dport, saddr, daddr);
    struct ust_ip_out o = {
        .src = saddr, .dst = daddr, .proto = UST_IPPROTO_UDP, .ttl = us->sk.ttl, .tos = us->sk.tos,
    };
    err = ust_ipv4_output(stack, fb, &o);
    if (err == -ENOBUFS) {
        /* Linux udp_send_skb: a full device queue is a silent drop. */
        UST_INC(stack, UDP, SndbufErrors);
        return (ssize_t)len;
    }
    if (err)
        return err;
    UST_INC(stack, UDP, OutDatagrams);
    return (ssize_t)len;
}
