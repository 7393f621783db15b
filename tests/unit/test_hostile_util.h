/* Helpers for the adversarial-peer tests (tests/unit/test_hostile_*.c).
 *
 * The world: the simulator with two real hosts, A (10.0.0.1) and B
 * (10.0.0.2, the stack under attack), on one 1 ms link (tcp_test_util.h).
 * The attacker has no stack: the test crafts Ethernet frames and hands them
 * straight to B's sim netif, as if they came down the wire. It may spoof
 * A (its IP and MAC), or be "M", a raw host at 10.0.0.3 whose MAC B learns
 * from an ARP request; B's frames to M cross the link (A drops them: not
 * its MAC) and the frame hook records every TCP segment B sends, so the
 * test can play M's side of a connection segment by segment.
 *
 * Memory: hx_mem() snapshots what a hostile peer could make B hold (frame
 * buffers in use, connection blocks, TIME-WAIT blocks, reassembly bytes).
 * Include after <cmocka.h>, "unit/sim_test_util.h", "unit/tcp_test_util.h". */
#ifndef UST_TESTS_TEST_HOSTILE_UTIL_H
#define UST_TESTS_TEST_HOSTILE_UTIL_H

#include <errno.h>
#include <linux/sockios.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include <ustack/ustack.h>

#include "core/util.h"
#include "net/net_state.h"
#include "netif/netif.h"
#include "runtime/runtime.h"
#include "stack/stack_impl.h"
#include "tcp/tcp.h"
#include "wire/wire.h"

#define HX_IP_A 0x0a000001u
#define HX_IP_B 0x0a000002u
#define HX_IP_M 0x0a000003u
static const uint8_t hx_m_mac[6] = { 0x02, 0x00, 0x5e, 0x00, 0x00, 0x03 };

/* One TCP segment B sent, as the hook saw it on the wire. */
struct hx_seg {
    uint32_t src, dst;
    struct ust_tcp_hdr th;
    uint32_t len;               /* payload bytes */
    uint8_t first;              /* first payload byte (0 if none) */
    uint64_t time;
};

#define HX_SEGS 8192u

struct hx {
    struct tnet n;
    uint8_t mac_a[6], mac_b[6];
    /* B -> wire (dir 1), TCP segments only; a ring of the last HX_SEGS. */
    struct hx_seg segs[HX_SEGS];
    uint64_t nsegs;             /* total recorded */
    uint64_t b_frames;          /* every frame B sent */
    uint64_t b_to_m_frames;     /* of which to M's MAC */
    uint16_t m_ipid;
};

static inline uint64_t hx_now(const struct hx *h)
{
    return ust_sim_now(h->n.sim);
}

static inline void hx_hook(void *arg, const struct ust_sim_link *link, int dir, uint64_t t,
                           const uint8_t *f, size_t len)
{
    (void)link;
    struct hx *h = arg;
    if (dir != 1)
        return;
    h->b_frames++;
    if (len >= 6 && memcmp(f, hx_m_mac, 6) == 0)
        h->b_to_m_frames++;
    if (len < UST_ETH_HLEN + UST_IPV4_MIN_HLEN || ust_get_be16(f + 12) != UST_ETHERTYPE_IPV4)
        return;
    struct ust_ipv4_hdr ih;
    int hl = ust_ipv4_parse(f + UST_ETH_HLEN, len - UST_ETH_HLEN, &ih);
    if (hl < 0 || ih.proto != UST_IPPROTO_TCP || ust_ipv4_is_fragment(&ih))
        return;
    const uint8_t *t4 = f + UST_ETH_HLEN + hl;
    size_t l4 = ih.total_len - (size_t)hl;
    struct hx_seg *s = &h->segs[h->nsegs % HX_SEGS];
    memset(s, 0, sizeof(*s));
    int thl = ust_tcp_parse(t4, l4, &s->th);
    if (thl < 0)
        return;
    s->src = ih.src;
    s->dst = ih.dst;
    s->len = (uint32_t)(l4 - (size_t)thl);
    s->first = s->len ? t4[thl] : 0;
    s->time = t;
    h->nsegs++;
}

/* The last segment B sent to dst (ip, port) among the HX_SEGS recorded
 * last, or NULL. */
static inline const struct hx_seg *hx_last_to(const struct hx *h, uint32_t dst, uint16_t dport)
{
    uint64_t lo = h->nsegs > HX_SEGS ? h->nsegs - HX_SEGS : 0;
    for (uint64_t i = h->nsegs; i > lo; i--) {
        const struct hx_seg *s = &h->segs[(i - 1) % HX_SEGS];
        if (s->dst == dst && s->th.dport == dport)
            return s;
    }
    return NULL;
}

/* Hands a crafted frame to B's netif as if it came off the wire. */
static inline void hx_deliver_b(struct hx *h, const uint8_t *frame, size_t len)
{
    struct ust_stack *b = h->n.b;
    struct ust_netif *nif = ust_sim_link_netif(h->n.link, 1);
    ust_rt_lock(b);
    struct ust_fbuf *fb = ust_fbuf_alloc(b, len);
    if (fb) {
        memcpy(ust_fbuf_put(fb, len), frame, len);
        ust_netif_receive(nif, fb);
    }
    ust_rt_unlock(b);
}

/* Ethernet + IPv4 header (20 bytes) + payload; returns the frame length. */
static inline size_t hx_ip_frame(uint8_t *f, const uint8_t *src_mac, const uint8_t *dst_mac,
                                 uint32_t src, uint32_t dst, uint8_t proto, uint16_t id,
                                 uint16_t frag, const void *payload, size_t len)
{
    memcpy(f, dst_mac, 6);
    memcpy(f + 6, src_mac, 6);
    ust_put_be16(f + 12, UST_ETHERTYPE_IPV4);
    struct ust_ipv4_hdr ih = {
        .hlen = UST_IPV4_MIN_HLEN, .total_len = (uint16_t)(UST_IPV4_MIN_HLEN + len),
        .id = id, .frag = frag, .ttl = 64, .proto = proto, .src = src, .dst = dst,
    };
    ust_ipv4_emit(f + UST_ETH_HLEN, UST_IPV4_MIN_HLEN, &ih);
    if (len)
        memcpy(f + UST_ETH_HLEN + UST_IPV4_MIN_HLEN, payload, len);
    return UST_ETH_HLEN + UST_IPV4_MIN_HLEN + len;
}

/* A TCP segment to B from src:sport (src = A spoofs A with A's MAC; any
 * other source uses M's MAC). opts are raw option bytes, padded here to a
 * multiple of 4 with EOL; payload may be NULL. */
static inline void hx_tcp_to_b(struct hx *h, uint32_t src, uint16_t sport, uint16_t dport,
                               uint32_t seq, uint32_t ack, uint8_t flags, uint16_t win,
                               const uint8_t *opts, size_t optlen, const void *payload,
                               size_t len)
{
    static uint8_t seg[UST_TCP_MAX_HLEN + 2048];
    static uint8_t frame[UST_ETH_HLEN + UST_IPV4_MIN_HLEN + sizeof(seg)];
    size_t padded = (optlen + 3) & ~(size_t)3;
    assert_true(padded <= 40 && len <= 2048);
    size_t thl = UST_TCP_MIN_HLEN + padded;
    memset(seg, 0, thl);
    ust_put_be16(seg, sport);
    ust_put_be16(seg + 2, dport);
    ust_put_be32(seg + 4, seq);
    ust_put_be32(seg + 8, ack);
    seg[12] = (uint8_t)((thl / 4) << 4);
    seg[13] = flags;
    ust_put_be16(seg + 14, win);
    if (optlen)
        memcpy(seg + UST_TCP_MIN_HLEN, opts, optlen);
    if (len)
        memcpy(seg + thl, payload, len);
    ust_tcp_set_csum(seg, thl + len, src, HX_IP_B);
    const uint8_t *smac = src == HX_IP_A ? h->mac_a : hx_m_mac;
    size_t flen = hx_ip_frame(frame, smac, h->mac_b, src, HX_IP_B, UST_IPPROTO_TCP, h->m_ipid++,
                              0, seg, thl + len);
    hx_deliver_b(h, frame, flen);
}

/* M introduces itself: an ARP request for B, so B learns M's MAC. */
static inline void hx_m_arp(struct hx *h)
{
    uint8_t f[42];
    memset(f, 0xff, 6);
    memcpy(f + 6, hx_m_mac, 6);
    ust_put_be16(f + 12, UST_ETHERTYPE_ARP);
    struct ust_arp_pkt a = { .op = UST_ARP_REQUEST, .spa = HX_IP_M, .tpa = HX_IP_B };
    memcpy(a.sha, hx_m_mac, 6);
    ust_arp_emit(f + 14, sizeof(f) - 14, &a);
    hx_deliver_b(h, f, sizeof(f));
    tnet_run(&h->n, 5 * TMS);
}

/* The world: A and B on a perfect 1 ms link, the hook on, M known to B. */
static inline void hx_setup(struct hx *h, uint64_t seed)
{
    memset(h, 0, sizeof(*h));
    tnet_setup(&h->n, seed, NULL);
    memcpy(h->mac_a, ust_sim_link_netif(h->n.link, 0)->mac, 6);
    memcpy(h->mac_b, ust_sim_link_netif(h->n.link, 1)->mac, 6);
    /* Both directions of ARP resolved before the attacks start. */
    struct ust_stack *hosts[2] = { h->n.a, h->n.b };
    const char *peers[2] = { "10.0.0.2", "10.0.0.1" };
    for (int i = 0; i < 2; i++) {
        int fd = ust_socket(hosts[i], AF_INET, SOCK_DGRAM, 0);
        SIM_ASSERT(seed, fd >= 0);
        struct sockaddr_in to = tsin(peers[i], 9);
        SIM_ASSERT_EQ(seed, ust_sendto(hosts[i], fd, "arp", 3, 0, (struct sockaddr *)&to,
                                       sizeof(to)), 3);
        tnet_run(&h->n, 20 * TMS);
        ust_close(hosts[i], fd);
    }
    ust_sim_set_frame_hook(h->n.sim, hx_hook, h);
    hx_m_arp(h);
}

static inline void hx_free(struct hx *h)
{
    ust_sim_free(h->n.sim);
    h->n.sim = NULL;
}

/* What a peer could make a stack hold. */
struct hx_mem {
    size_t fbuf_bytes;          /* frame buffers in use */
    uint32_t conns;             /* connection blocks (listeners included) */
    uint32_t tw;                /* TIME-WAIT blocks */
    size_t ipq_mem;             /* reassembly buffer bytes */
    unsigned ipq_count;
};

static inline struct hx_mem hx_mem(struct ust_stack *s)
{
    struct hx_mem m;
    ust_rt_lock(s);
    m.fbuf_bytes = s->fbpool.in_use_bytes;
    m.conns = s->tcp.nconns;
    m.tw = s->tcp.tw_count;
    m.ipq_mem = s->net.ipq_mem;
    m.ipq_count = s->net.ipq_count;
    ust_rt_unlock(s);
    return m;
}

/* splitmix64: the tests' own PRNG step (x = hx_mix64(x)). */
static inline uint64_t hx_mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

/* The deterministic byte stream of a test: byte i of stream `tag`. */
static inline uint8_t hx_byte(uint64_t tag, uint64_t i)
{
    uint64_t x = (tag * 0x9e3779b97f4a7c15ull) ^ (i / 8);
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    x ^= x >> 33;
    return (uint8_t)(x >> (8 * (i % 8)));
}

static inline void hx_fill(uint8_t *p, size_t len, uint64_t tag, uint64_t off)
{
    for (size_t i = 0; i < len; i++)
        p[i] = hx_byte(tag, off + i);
}

/* Sends `total` bytes of stream `tag` from (s, fd) to (r, rfd) over the sim
 * and checks every byte arrives, in order, exactly once. Both descriptors
 * non-blocking. max_ns bounds the virtual time it may take. */
static inline void hx_transfer(struct hx *h, struct ust_stack *s, int fd, struct ust_stack *r,
                               int rfd, size_t total, uint64_t tag, uint64_t max_ns)
{
    static uint8_t buf[16384];
    size_t sent = 0, got = 0;
    uint64_t end = hx_now(h) + max_ns;
    while (got < total) {
        SIM_ASSERT(h->n.seed, hx_now(h) < end);
        while (sent < total) {
            size_t n = total - sent < sizeof(buf) ? total - sent : sizeof(buf);
            hx_fill(buf, n, tag, sent);
            ssize_t k = ust_send(s, fd, buf, n, MSG_NOSIGNAL);
            if (k < 0) {
                SIM_ASSERT(h->n.seed, errno == EAGAIN);
                break;
            }
            sent += (size_t)k;
        }
        tnet_run(&h->n, 5 * TMS);
        for (;;) {
            ssize_t k = ust_recv(r, rfd, buf, sizeof(buf), 0);
            if (k < 0) {
                SIM_ASSERT(h->n.seed, errno == EAGAIN);
                break;
            }
            SIM_ASSERT(h->n.seed, k > 0);
            for (ssize_t i = 0; i < k; i++)
                if (buf[i] != hx_byte(tag, got + (size_t)i))
                    fail_msg("byte %zu differs: got %#x want %#x (seed=%" PRIu64 ")",
                             got + (size_t)i, buf[i], hx_byte(tag, got + (size_t)i),
                             h->n.seed);
            got += (size_t)k;
        }
    }
    SIM_ASSERT_EQ(h->n.seed, got, total);
}

/* M's side of a connection to B, played segment by segment. */
struct hx_conn {
    uint16_t mport, bport;
    uint32_t m_isn;             /* M's initial sequence number */
    uint32_t b_isn;             /* B's, from its SYN-ACK */
    int bfd;                    /* B's accepted descriptor */
};

/* The SYN options Linux sends: MSS 1460, SACK-permitted, no timestamps
 * (so PAWS stays out of the way), window scale 7. */
static const uint8_t hx_synopts[12] = { 2, 4, 0x05, 0xb4, 4, 2, 1, 1, 1, 3, 3, 7 };

/* M connects to B:bport (listener lfd) from mport. */
static inline void hx_m_connect(struct hx *h, struct hx_conn *c, int lfd, uint16_t bport,
                                uint16_t mport, uint32_t isn)
{
    uint64_t seed = h->n.seed;
    c->mport = mport;
    c->bport = bport;
    c->m_isn = isn;
    hx_tcp_to_b(h, HX_IP_M, mport, bport, isn, 0, UST_TCP_SYN, 65535, hx_synopts,
                sizeof(hx_synopts), NULL, 0);
    tnet_run(&h->n, 5 * TMS);
    const struct hx_seg *sa = hx_last_to(h, HX_IP_M, mport);
    SIM_ASSERT(seed, sa != NULL);
    SIM_ASSERT_EQ(seed, sa->th.flags, UST_TCP_SYN | UST_TCP_ACK);
    SIM_ASSERT_EQ(seed, sa->th.ack, isn + 1);
    c->b_isn = sa->th.seq;
    hx_tcp_to_b(h, HX_IP_M, mport, bport, isn + 1, c->b_isn + 1, UST_TCP_ACK, 1024,
                NULL, 0, NULL, 0);
    tnet_run(&h->n, 5 * TMS);
    c->bfd = ust_accept4(h->n.b, lfd, NULL, NULL, SOCK_NONBLOCK);
    SIM_ASSERT(seed, c->bfd >= 0);
}

/* A data segment from M at stream offset off (0 = first byte after SYN). */
static inline void hx_m_data(struct hx *h, const struct hx_conn *c, uint32_t off, const void *p,
                             size_t len, const uint8_t *opts, size_t optlen)
{
    hx_tcp_to_b(h, HX_IP_M, c->mport, c->bport, c->m_isn + 1 + off, c->b_isn + 1,
                UST_TCP_ACK | UST_TCP_PSH, 1024, opts, optlen, p, len);
}

#endif
