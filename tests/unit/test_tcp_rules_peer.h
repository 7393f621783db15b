/* A scripted TCP peer for the rule tests (test_tcp_rules*.c, test_tcp_rtt.c).
 *
 * One stack under test ("tp0", 10.0.0.1/24) on a test Ethernet netif whose
 * transmit records every TCP segment the stack puts on the link, with the
 * virtual time it left. The peer (10.0.0.2) is the test itself: it crafts
 * each segment (flags, sequence numbers, options, payload length), so the
 * times and timestamps the stack sees are exact. Virtual time only moves
 * through tp_run / tp_run_until, which visit every deadline of the stack in
 * order (ust_stack_poll returns the next one). Include after <cmocka.h>. */
#ifndef UST_TESTS_TCP_RULES_PEER_H
#define UST_TESTS_TCP_RULES_PEER_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <ustack/ustack.h>

#include "core/util.h"
#include "netif/netif.h"
#include "runtime/runtime.h"
#include "sock/sock.h"
#include "stack/stack_impl.h"
#include "tcp/tcp.h"
#include "wire/wire.h"

#define TP_ME 0x0a000001u       /* 10.0.0.1: the stack under test */
#define TP_PEER 0x0a000002u     /* 10.0.0.2: the scripted peer */
#define TP_MS UST_NSEC_PER_MSEC
#define TP_SEC UST_NSEC_PER_SEC
#define TP_T0 (1000 * TP_SEC)   /* the stack's clock starts here */

static const uint8_t tp_mac[6] = { 0x02, 0, 0, 0, 0, 0x01 };
static const uint8_t tp_peer_mac[6] = { 0x02, 0, 0, 0, 0, 0x02 };

/* One TCP segment the stack sent. */
struct tp_seg {
    uint64_t t;                 /* virtual time it left */
    struct ust_tcp_hdr th;
    uint32_t len;               /* payload bytes */
};

struct tp {
    struct ust_stack *stack;
    struct ust_netif *nif;
    uint64_t now;
    struct tp_seg *segs;        /* every TCP segment sent, in order */
    size_t nsegs, cap;
    /* The peer's side of the connection under test. */
    uint16_t pport;             /* the peer's port */
    uint16_t sport;             /* the stack's port */
    uint32_t snd_nxt;           /* the peer's next sequence number */
    uint32_t rcv_nxt;           /* what the peer acknowledges */
    bool ts;                    /* the peer sends timestamps */
    uint32_t tsval;             /* the TSval the peer sends next */
    uint32_t echo;              /* TSecr the peer sends: the stack's latest TSval */
};

static inline int tp_transmit(struct ust_netif *nif, struct ust_fbuf *fb)
{
    struct tp *p = nif->priv;
    const uint8_t *d = fb->data;
    struct ust_eth_hdr eh;
    struct ust_ipv4_hdr ih;
    if (ust_eth_parse(d, fb->len, &eh) == UST_ETH_HLEN && eh.type == UST_ETHERTYPE_IPV4) {
        int hl = ust_ipv4_parse(d + UST_ETH_HLEN, fb->len - UST_ETH_HLEN, &ih);
        if (hl > 0 && ih.proto == UST_IPPROTO_TCP) {
            const uint8_t *t = d + UST_ETH_HLEN + hl;
            size_t l4 = ih.total_len - (size_t)hl;
            assert_true(ust_tcp_csum_ok(t, l4, ih.src, ih.dst));
            if (p->nsegs == p->cap) {
                p->cap = p->cap ? p->cap * 2 : 256;
                p->segs = realloc(p->segs, p->cap * sizeof(*p->segs));
                assert_non_null(p->segs);
            }
            struct tp_seg *s = &p->segs[p->nsegs++];
            memset(s, 0, sizeof(*s));
            s->t = nif->stack->now;
            int thl = ust_tcp_parse(t, l4, &s->th);
            assert_true(thl >= UST_TCP_MIN_HLEN);
            s->len = (uint32_t)(l4 - (size_t)thl);
            if (s->th.opts.present & UST_TCPO_TIMESTAMP)
                p->echo = s->th.opts.tsval;
        }
    }
    ust_fbuf_free(nif->stack, fb);
    return 0;
}

static inline int tp_poll_fd(struct ust_netif *nif)
{
    (void)nif;
    return -1;
}

static const struct ust_netif_ops tp_ops = {
    .kind_name = "tp",
    .transmit = tp_transmit,
    .poll_fd = tp_poll_fd,
};

static inline void tp_frame_in(struct tp *p, const uint8_t *frame, size_t len)
{
    struct ust_fbuf *fb = ust_fbuf_alloc(p->stack, len);
    assert_non_null(fb);
    memcpy(ust_fbuf_put(fb, len), frame, len);
    ust_rt_lock(p->stack);
    ust_netif_receive(p->nif, fb);
    ust_rt_unlock(p->stack);
    ust_stack_poll(p->stack, p->now);
}

/* Runs every deadline of the stack up to and including t, then sets the
 * clock to t. */
static inline void tp_run_until(struct tp *p, uint64_t t)
{
    for (unsigned guard = 0; guard < 10000000u; guard++) {
        uint64_t d = ust_stack_poll(p->stack, p->now);
        if (d == UST_NO_DEADLINE || d > t)
            break;
        if (d > p->now)
            p->now = d;
    }
    if (t > p->now)
        p->now = t;
    ust_stack_poll(p->stack, p->now);
}

static inline void tp_run(struct tp *p, uint64_t dt)
{
    tp_run_until(p, p->now + dt);
}

/* cfg NULL = defaults. ARP entries never expire during a test, and the
 * stack knows the peer's MAC from the start (an ARP request of the peer). */
static inline void tp_init(struct tp *p, const struct ust_stack_config *cfg)
{
    struct ust_stack_config c;
    if (cfg)
        c = *cfg;
    else
        ust_stack_config_init(&c);
    if (!c.seed)
        c.seed = 11;
    c.arp_reachable_ns = 1000000 * TP_SEC;
    memset(p, 0, sizeof(*p));
    p->stack = ust_stack_new(&c);
    assert_non_null(p->stack);
    p->now = TP_T0;
    ust_stack_poll(p->stack, p->now);
    ust_rt_lock(p->stack);
    p->nif = ust_netif_create(p->stack, "tp0", UST_NETIF_ETHER, &tp_ops, p);
    assert_non_null(p->nif);
    memcpy(p->nif->mac, tp_mac, 6);
    ust_rt_unlock(p->stack);
    struct in_addr a = { htonl(TP_ME) };
    assert_int_equal(ust_netif_set_ipv4(p->nif, a, 24), 0);
    uint8_t f[42];
    memset(f, 0xff, 6);
    memcpy(f + 6, tp_peer_mac, 6);
    ust_put_be16(f + 12, UST_ETHERTYPE_ARP);
    struct ust_arp_pkt arp = { .op = UST_ARP_REQUEST, .spa = TP_PEER, .tpa = TP_ME };
    memcpy(arp.sha, tp_peer_mac, 6);
    ust_arp_emit(f + 14, sizeof(f) - 14, &arp);
    tp_frame_in(p, f, sizeof(f));
    p->nsegs = 0;
    p->pport = 40000;
    p->ts = true;
    p->tsval = 5000;
}

static inline void tp_free(struct tp *p)
{
    ust_stack_free(p->stack);
    free(p->segs);
    memset(p, 0, sizeof(*p));
}

/* A segment from the peer, everything given: seq, ack, flags, window, the
 * options (NULL = none) and len payload bytes (i & 0xff). */
static inline void tp_inject(struct tp *p, uint32_t seq, uint32_t ack, uint8_t flags,
                             uint16_t win, const struct ust_tcp_opts *o, uint32_t len)
{
    static uint8_t f[UST_ETH_HLEN + UST_IPV4_MIN_HLEN + UST_TCP_MAX_HLEN + 65536];
    struct ust_tcp_hdr h = { .sport = p->pport, .dport = p->sport, .seq = seq, .ack = ack,
                             .flags = flags, .win = win };
    if (o)
        h.opts = *o;
    uint8_t *t = f + UST_ETH_HLEN + UST_IPV4_MIN_HLEN;
    size_t thl = ust_tcp_emit(t, UST_TCP_MAX_HLEN, &h);
    assert_true(len <= 65535 - UST_IPV4_MIN_HLEN - thl);
    for (uint32_t i = 0; i < len; i++)
        t[thl + i] = (uint8_t)i;
    ust_tcp_set_csum(t, thl + len, TP_PEER, TP_ME);
    struct ust_ipv4_hdr ih = { .hlen = UST_IPV4_MIN_HLEN,
                               .total_len = (uint16_t)(UST_IPV4_MIN_HLEN + thl + len),
                               .ttl = 64, .proto = UST_IPPROTO_TCP, .src = TP_PEER,
                               .dst = TP_ME };
    ust_ipv4_emit(f + UST_ETH_HLEN, UST_IPV4_MIN_HLEN, &ih);
    struct ust_eth_hdr eh = { .type = UST_ETHERTYPE_IPV4 };
    memcpy(eh.dst, tp_mac, 6);
    memcpy(eh.src, tp_peer_mac, 6);
    ust_eth_emit(f, UST_ETH_HLEN, &eh);
    tp_frame_in(p, f, UST_ETH_HLEN + UST_IPV4_MIN_HLEN + thl + len);
}

/* The peer's next segment of the connection: SEQ = its SND.NXT, ACK = its
 * RCV.NXT (when flags has ACK), a timestamp when p->ts (TSval p->tsval,
 * TSecr the stack's latest TSval). SND.NXT advances. */
static inline void tp_send(struct tp *p, uint8_t flags, uint32_t len)
{
    struct ust_tcp_opts o = { 0 };
    if (p->ts) {
        o.present = UST_TCPO_TIMESTAMP;
        o.tsval = p->tsval;
        o.tsecr = p->echo;
    }
    tp_inject(p, p->snd_nxt, (flags & UST_TCP_ACK) ? p->rcv_nxt : 0, flags, 65535, &o, len);
    p->snd_nxt += len + ((flags & UST_TCP_SYN) ? 1u : 0u) + ((flags & UST_TCP_FIN) ? 1u : 0u);
}

static inline struct tp_seg *tp_last(struct tp *p)
{
    assert_true(p->nsegs > 0);
    return &p->segs[p->nsegs - 1];
}

/* Segments sent from index `from` on. */
static inline size_t tp_sent_since(const struct tp *p, size_t from)
{
    return p->nsegs - from;
}

/* The peer's options on a SYN: MSS 1460, SACK-permitted, timestamps (when
 * p->ts), window scale 7, as Linux sends them. */
static inline struct ust_tcp_opts tp_syn_opts(const struct tp *p)
{
    struct ust_tcp_opts o = { .present = UST_TCPO_MSS | UST_TCPO_SACK_PERM | UST_TCPO_WSCALE,
                              .mss = 1460, .wscale = 7 };
    if (p->ts) {
        o.present |= UST_TCPO_TIMESTAMP;
        o.tsval = p->tsval;
    }
    return o;
}

/* A listener of the stack on port. */
static inline int tp_listen(struct tp *p, uint16_t port, int backlog)
{
    int fd = ust_socket(p->stack, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    assert_true(fd >= 0);
    int one = 1;
    assert_int_equal(ust_setsockopt(p->stack, fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
    struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port),
                               .sin_addr = { htonl(TP_ME) } };
    assert_int_equal(ust_bind(p->stack, fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    assert_int_equal(ust_listen(p->stack, fd, backlog), 0);
    p->sport = port;
    return fd;
}

/* The peer connects to the stack's listener lfd (port p->sport) from
 * p->pport: SYN with `o`, the stack's SYN-ACK, then the peer's ACK rtt
 * later. Returns the accepted descriptor. */
static inline int tp_peer_connects(struct tp *p, int lfd, const struct ust_tcp_opts *o,
                                   uint64_t rtt)
{
    size_t mark = p->nsegs;
    p->snd_nxt = 1000000;
    tp_inject(p, p->snd_nxt, 0, UST_TCP_SYN, 65535, o, 0);
    p->snd_nxt++;
    assert_int_equal(tp_sent_since(p, mark), 1);
    struct tp_seg *sa = tp_last(p);
    assert_int_equal(sa->th.flags, UST_TCP_SYN | UST_TCP_ACK);
    p->rcv_nxt = sa->th.seq + 1;
    p->ts = (o->present & UST_TCPO_TIMESTAMP) != 0;
    tp_run(p, rtt);
    tp_send(p, UST_TCP_ACK, 0);
    int fd = ust_accept4(p->stack, lfd, NULL, NULL, SOCK_NONBLOCK);
    assert_true(fd >= 0);
    return fd;
}

/* The stack connects from port sport to the peer (p->pport): its SYN, then
 * the peer's SYN-ACK rtt later with `o`. Returns the descriptor. */
static inline int tp_stack_connects(struct tp *p, uint16_t sport, const struct ust_tcp_opts *o,
                                    uint64_t rtt)
{
    int fd = ust_socket(p->stack, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    assert_true(fd >= 0);
    int one = 1;
    assert_int_equal(ust_setsockopt(p->stack, fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
    struct sockaddr_in me = { .sin_family = AF_INET, .sin_port = htons(sport),
                              .sin_addr = { htonl(TP_ME) } };
    assert_int_equal(ust_bind(p->stack, fd, (struct sockaddr *)&me, sizeof(me)), 0);
    struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(p->pport),
                              .sin_addr = { htonl(TP_PEER) } };
    size_t mark = p->nsegs;
    assert_int_equal(ust_connect(p->stack, fd, (struct sockaddr *)&to, sizeof(to)), -1);
    assert_int_equal(errno, EINPROGRESS);
    assert_int_equal(tp_sent_since(p, mark), 1);
    struct tp_seg *syn = tp_last(p);
    assert_int_equal(syn->th.flags, UST_TCP_SYN);
    p->sport = sport;
    p->rcv_nxt = syn->th.seq + 1;
    p->snd_nxt = 7000000;
    p->ts = (o->present & UST_TCPO_TIMESTAMP) != 0;
    tp_run(p, rtt);
    struct ust_tcp_opts so = *o;
    if (p->ts)
        so.tsecr = p->echo;
    tp_inject(p, p->snd_nxt, p->rcv_nxt, UST_TCP_SYN | UST_TCP_ACK, 65535, &so, 0);
    p->snd_nxt++;
    return fd;
}

/* The stack's connection block for the peer's port (white-box). */
static inline struct ust_tcb *tp_tcb(struct tp *p)
{
    return ust_tcp_lookup(p->stack, TP_ME, p->sport, TP_PEER, p->pport);
}

static inline struct tcp_info tp_info(struct tp *p, int fd)
{
    struct tcp_info ti;
    socklen_t len = sizeof(ti);
    memset(&ti, 0, sizeof(ti));
    assert_int_equal(ust_getsockopt(p->stack, fd, IPPROTO_TCP, TCP_INFO, &ti, &len), 0);
    return ti;
}

/* The stack sends len bytes on fd (all of them taken). */
static inline void tp_app_send(struct tp *p, int fd, size_t len)
{
    static uint8_t buf[65536];
    assert_true(len <= sizeof(buf));
    memset(buf, 'd', len);
    assert_int_equal(ust_send(p->stack, fd, buf, len, MSG_NOSIGNAL), (ssize_t)len);
}

/* The peer acknowledges everything the stack sent so far, with TSecr the
 * stack's latest TSval. */
static inline void tp_ack_all(struct tp *p)
{
    for (size_t i = 0; i < p->nsegs; i++) {
        const struct tp_seg *s = &p->segs[i];
        if (s->th.sport != p->sport || s->th.dport != p->pport)
            continue;
        uint32_t end = s->th.seq + s->len + ((s->th.flags & UST_TCP_SYN) ? 1u : 0u) +
                       ((s->th.flags & UST_TCP_FIN) ? 1u : 0u);
        if (ust_seq_gt(end, p->rcv_nxt))
            p->rcv_nxt = end;
    }
    tp_send(p, UST_TCP_ACK, 0);
}

#endif
