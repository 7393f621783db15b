/* UDP (RFC 768, RFC 1122 4.1) with Linux's socket semantics: the port table,
 * bind/connect, input demultiplexing, receive queues and sending. Ping
 * sockets share the table and the queues (ping.c sends and receives their
 * ICMP side).
 *
 * The port table holds every bound socket, hashed by (protocol, local port)
 * with the stack's secret key. Delivery picks the most specific socket as
 * Linux's compute_score does (a connected peer and a bound address beat
 * wildcards; among equals the newest bind wins); a datagram to a broadcast
 * address goes to every matching socket. Sockets that all set SO_REUSEPORT
 * share a port; a datagram for the group goes to one member picked by a
 * hash of its 4-tuple (Linux reuseport_select_sock), so one flow always
 * reaches the same socket.
 *
 * Sending charges each frame to its socket until the driver (or the ARP
 * queue, or an impairment) frees it: fbuf's destructor hook, Linux's
 * sk_wmem_alloc and sock_wfree. A send finding SO_SNDBUF full gets -EAGAIN
 * and the socket layer waits for POLLOUT. */
#include "net/udp.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "core/iov.h"
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
 * set SO_REUSEADDR or both set SO_REUSEPORT (Linux also wants the same
 * effective uid: one process here), and overlapping local addresses (a
 * wildcard overlaps every address). */
static bool bind_conflict(const struct ust_udp_sock *a, const struct ust_udp_sock *b)
{
    if (a->sk.reuseaddr && b->sk.reuseaddr)
        return false;
    if (a->sk.reuseport && b->sk.reuseport)
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
    us->reuseport_grp = us->sk.reuseport;  /* Linux reuseport_alloc/add_sock at bind */
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

/* An ephemeral port is never shared (Linux udp_lib_get_port searches
 * with the socket's reuse flags off for port 0). */
static bool udp_port_in_use(void *arg, uint16_t port)
{
    struct ust_udp_sock *us = arg;
    bool ra = us->sk.reuseaddr, rp = us->sk.reuseport;
    us->sk.reuseaddr = us->sk.reuseport = false;
    bool used = port_in_use(us, port);
    us->sk.reuseaddr = ra;
    us->sk.reuseport = rp;
    return used;
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
    ust_fbuf_free(us->sk.stack, us->cork);     /* a MSG_MORE datagram never sent */
    /* Frames still charged to us point at us: the last one frees it
     * (Linux: each skb holds a reference on its sock). */
    if (us->wmem_alloc) {
        us->dead = true;
        us->sk.wq = NULL;
        return;
    }
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
    us->sk.rmem_alloc += ust_fbuf_truesize(fb);
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

/* SO_REUSEPORT (Linux lookup_reuseport): the best socket is one of a group
 * bound to the same address and port with SO_REUSEPORT; the datagram goes
 * to the member whose (flow hash, bind) weight is highest (rendezvous
 * hashing: the same 4-tuple always picks the same member, and a member
 * leaving moves only its own flows). Connected members keep their own
 * peers and are not picked for others, as Linux's has_conns rule. */
static struct ust_udp_sock *reuseport_select(struct ust_stack *stack, struct ust_udp_sock *best,
                                             uint32_t daddr, uint16_t dport, uint32_t saddr,
                                             uint16_t sport)
{
    if (!best->reuseport_grp || best->sk.connected)
        return best;
    uint32_t flow = ust_reuseport_hash(stack, saddr, sport, daddr, dport);
    struct ust_udp_sock *us, *pick = best;
    uint32_t top = ust_reuseport_weight(stack, flow, best->bind_seq);
    for_each_on_port(us, stack, best->sk.protocol, dport) {
        if (us == best || !us->reuseport_grp || us->sk.connected || us->sk.laddr != best->sk.laddr)
            continue;
        uint32_t w = ust_reuseport_weight(stack, flow, us->bind_seq);
        if (w > top) {
            top = w;
            pick = us;
        }
    }
    return pick;
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
    if (best_score < 0)
        return NULL;
    return reuseport_select(stack, best, daddr, dport, saddr, sport);
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

ssize_t ust_udp_recvmsg(struct ust_udp_sock *us, const struct iovec *iov, size_t iovcnt,
                        size_t len, int flags, struct ust_inet_addr *src, int *msg_flags)
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
        ust_iov_to(iov, iovcnt, 0, fb->data, n);
    if (msg_flags && n < fb->len)
        *msg_flags |= MSG_TRUNC;    /* udp_recvmsg: the datagram was cut */
    if (src) {
        src->addr = fb->cb.dgram.saddr;
        src->port = us->sk.protocol == IPPROTO_ICMP ? 0 : fb->cb.dgram.sport;
    }
    size_t full = fb->len;
    if (!(flags & MSG_PEEK)) {
        ust_fbq_pop(&us->rxq);
        us->sk.rmem_alloc -= ust_fbuf_truesize(fb);
        ust_fbuf_free(us->sk.stack, fb);
        /* Linux counts InDatagrams when the application takes one. */
        if (us->sk.protocol == IPPROTO_UDP)
            UST_INC(us->sk.stack, UDP, InDatagrams);
    }
    return (ssize_t)((flags & MSG_TRUNC) ? full : n);
}

bool ust_udp_writeable(const struct ust_udp_sock *us)
{
    return us->wmem_alloc < us->sk.sndbuf / 2;
}

uint32_t ust_udp_poll(const struct ust_udp_sock *us)
{
    /* Linux udp_poll/datagram_poll: writable while the frames still held
     * by drivers charge less than half of SO_SNDBUF (sock_writeable). */
    uint32_t mask = ust_udp_writeable(us) ? (POLLOUT | POLLWRNORM | POLLWRBAND) : 0;
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

/* ---- Send-buffer accounting ------------------------------------------ */

/* Linux sock_wfree: the frame is gone, uncharge it and wake writers when
 * the socket becomes writeable again (sock_def_write_space; only on that
 * crossing, so a free costs a subtraction and a compare). */
static void udp_wfree(struct ust_fbuf *fb)
{
    struct ust_udp_sock *us = fb->owner;
    bool was = ust_udp_writeable(us);
    us->wmem_alloc -= fb->charged;
    if (us->dead) {
        if (us->wmem_alloc == 0)
            free(us);
        return;
    }
    if (!was && ust_udp_writeable(us))
        ust_waitq_wake(us->sk.wq, POLLOUT | POLLWRNORM | POLLWRBAND);
}

int ust_udp_wmem_check(const struct ust_udp_sock *us)
{
    return us->wmem_alloc < us->sk.sndbuf ? 0 : -EAGAIN;
}

void ust_udp_charge(struct ust_udp_sock *us, struct ust_fbuf *fb)
{
    /* Like skb->truesize: the data, the headroom for headers and the
     * buffer's bookkeeping. */
    fb->charged = (uint32_t)(fb->len + UST_FBUF_HEADROOM + sizeof(*fb));
    fb->owner = us;
    fb->destructor = udp_wfree;
    us->wmem_alloc += fb->charged;
}

/* The UDP header at p for len payload bytes whose partial sum (pseudo
 * header included) is sum. RFC 1122 4.1.3.4: a checksum is always sent;
 * RFC 768: a computed 0 goes out as all ones. */
static void udp_header(uint8_t *p, size_t len, uint32_t sum, uint16_t sport, uint16_t dport)
{
    ust_put_be16(p, sport);
    ust_put_be16(p + 2, dport);
    ust_put_be16(p + 4, (uint16_t)(UST_UDP_HLEN + len));
    ust_put_be16(p + 6, 0);
    uint16_t csum = ust_csum_fold(ust_csum_partial(p, UST_UDP_HLEN, sum));
    ust_put_be16(p + 6, csum == 0 ? 0xffff : csum);
}

/* Writes header and payload at p, summing the payload while copying it (one
 * pass over the data): one's-complement sums of blocks simply add up, a
 * block at an odd offset byte-swapped (RFC 1071, ust_csum_block_add). */
static void udp_build(uint8_t *p, const struct iovec *iov, size_t iovcnt, size_t len,
                      uint16_t sport, uint16_t dport, uint32_t saddr, uint32_t daddr)
{
    uint16_t ulen = (uint16_t)(UST_UDP_HLEN + len);
    uint32_t sum = ust_csum_pseudo(saddr, daddr, UST_IPPROTO_UDP, ulen);
    size_t off = 0;
    for (size_t i = 0; i < iovcnt && off < len; i++) {
        size_t k = UST_MIN(iov[i].iov_len, len - off);
        if (!k)
            continue;
        if (off == 0)
            sum = ust_csum_copy(p + UST_UDP_HLEN, iov[i].iov_base, k, sum);
        else
            sum = ust_csum_block_add(
                sum, ust_csum_copy(p + UST_UDP_HLEN + off, iov[i].iov_base, k, 0), off);
        off += k;
    }
    udp_header(p, len, sum, sport, dport);
}

/* Hands a built datagram (charged to us) to IPv4 and counts it. */
static int udp_xmit(struct ust_udp_sock *us, struct ust_fbuf *fb, uint32_t saddr, uint32_t daddr)
{
    struct ust_stack *stack = us->sk.stack;
    ust_udp_charge(us, fb);
    struct ust_ip_out o = {
        .src = saddr, .dst = daddr, .proto = UST_IPPROTO_UDP, .ttl = us->sk.ttl, .tos = us->sk.tos,
    };
    int err = ust_ipv4_output(stack, fb, &o);
    if (err == -ENOBUFS) {
        /* Linux udp_send_skb: a full device queue is a silent drop. */
        UST_INC(stack, UDP, SndbufErrors);
        return 0;
    }
    if (err)
        return err;
    UST_INC(stack, UDP, OutDatagrams);
    return 0;
}

/* ---- MSG_MORE: one datagram from several sends (Linux up->pending) ------ */

/* The pending datagram goes out: header and checksum over what was
 * gathered, to the destination of the first send. */
static int cork_push(struct ust_udp_sock *us)
{
    struct ust_fbuf *fb = us->cork;
    us->cork = NULL;
    size_t len = fb->len - UST_UDP_HLEN;
    uint32_t saddr = fb->cb.dgram.saddr, daddr = fb->cb.dgram.daddr;
    uint32_t sum = ust_csum_pseudo(saddr, daddr, UST_IPPROTO_UDP, (uint16_t)(UST_UDP_HLEN + len));
    sum = ust_csum_partial(fb->data + UST_UDP_HLEN, len, sum);
    udp_header(fb->data, len, sum, us->sk.lport, fb->cb.dgram.dport);
    return udp_xmit(us, fb, saddr, daddr);
}

/* A send while a datagram is pending appends to it (its address, if any,
 * is ignored, as Linux); without MSG_MORE the datagram goes. Too much in
 * total: EMSGSIZE and the pending datagram is dropped
 * (udp_flush_pending_frames). */
static ssize_t cork_append(struct ust_udp_sock *us, const struct iovec *iov, size_t iovcnt,
                           size_t len, int flags)
{
    struct ust_fbuf *fb = us->cork;
    if (len > UST_UDP_MAX_PAYLOAD - (fb->len - UST_UDP_HLEN)) {
        us->cork = NULL;
        ust_fbuf_free(us->sk.stack, fb);
        return -EMSGSIZE;
    }
    ust_iov_from(iov, iovcnt, 0, ust_fbuf_put(fb, len), len);
    if (!(flags & MSG_MORE)) {
        int err = cork_push(us);
        if (err)
            return err;
    }
    return (ssize_t)len;
}

/* The first MSG_MORE send: a buffer for a whole datagram, the payload after
 * room for the header, the destination kept in the buffer's scratch. */
static ssize_t cork_start(struct ust_udp_sock *us, const struct iovec *iov, size_t iovcnt,
                          size_t len, uint32_t saddr, uint32_t daddr, uint16_t dport)
{
    struct ust_fbuf *fb = ust_fbuf_alloc(us->sk.stack, UST_UDP_HLEN + UST_UDP_MAX_PAYLOAD);
    if (!fb) {
        UST_INC(us->sk.stack, UDP, SndbufErrors);
        return -ENOBUFS;
    }
    ust_fbuf_put(fb, UST_UDP_HLEN);
    ust_iov_from(iov, iovcnt, 0, ust_fbuf_put(fb, len), len);
    fb->cb.dgram.saddr = saddr;
    fb->cb.dgram.daddr = daddr;
    fb->cb.dgram.dport = dport;
    us->cork = fb;
    return (ssize_t)len;
}

ssize_t ust_udp_sendmsg(struct ust_udp_sock *us, const struct iovec *iov, size_t iovcnt,
                        size_t len, int flags, const struct ust_inet_addr *dst)
{
    if (us->sk.protocol == IPPROTO_ICMP)
        return ust_ping_sendmsg(us, iov, iovcnt, len, flags, dst);
    struct ust_stack *stack = us->sk.stack;
    if (len > UST_UDP_MAX_PAYLOAD)
        return -EMSGSIZE;
    if (flags & MSG_OOB)
        return -EOPNOTSUPP;
    if (us->cork)
        return cork_append(us, iov, iovcnt, len, flags);
    uint32_t daddr, saddr;
    uint16_t dport;
    int err = send_dest(us, dst, &daddr, &dport);
    if (err)
        return err;
    if ((err = ust_udp_route(us, &daddr, &saddr)) != 0)
        return err;
    if ((err = ust_sk_take_err(&us->sk)) != 0)
        return -err;
    if ((err = ust_udp_wmem_check(us)) != 0)
        return err;
    if (flags & MSG_MORE)
        return cork_start(us, iov, iovcnt, len, saddr, daddr, dport);

    struct ust_fbuf *fb = ust_fbuf_alloc(stack, UST_UDP_HLEN + len);
    if (!fb) {
        UST_INC(stack, UDP, SndbufErrors);
        return -ENOBUFS;
    }
    udp_build(ust_fbuf_put(fb, UST_UDP_HLEN + len), iov, iovcnt, len, us->sk.lport, dport, saddr,
              daddr);
    err = udp_xmit(us, fb, saddr, daddr);
    return err ? err : (ssize_t)len;
}
