/* Helpers for the net/ unit tests: a stack with one test Ethernet netif
 * ("test0", 10.0.0.1/24, MAC 02:00:00:00:00:01) whose transmit copies every
 * frame into a list the test inspects, frame builders for a peer
 * (10.0.0.2, MAC 02:00:00:00:00:02), and parsers that check every checksum
 * with the wire/ functions. Virtual time advances only through tn_poll.
 * Include after <cmocka.h>. */
#ifndef UST_TESTS_NET_TEST_UTIL_H
#define UST_TESTS_NET_TEST_UTIL_H

#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <ustack/ustack.h>

#include "core/util.h"
#include "net/net.h"
#include "net/net_state.h"
#include "netif/netif.h"
#include "runtime/runtime.h"
#include "stack/stack_impl.h"
#include "wire/wire.h"

#define TN_ADDR 0x0a000001u     /* 10.0.0.1: the stack under test */
#define TN_PEER 0x0a000002u     /* 10.0.0.2: the test's peer */
#define TN_BCAST 0x0a0000ffu    /* 10.0.0.255 */
#define TN_T0 (1000 * UST_NSEC_PER_SEC)

static const uint8_t tn_mac[6] = { 0x02, 0, 0, 0, 0, 0x01 };
static const uint8_t tn_peer_mac[6] = { 0x02, 0, 0, 0, 0, 0x02 };
static const uint8_t tn_bcast_mac[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

struct tn_frame {
    uint8_t *data;
    size_t len;
};

struct tn_env {
    struct ust_stack *stack;
    struct ust_netif *nif;
    uint64_t now;
    struct tn_frame *frames;
    size_t nframes, cap;
    size_t baseline;            /* fbpool.in_use_bytes once set up */
};

static inline int tn_transmit(struct ust_netif *nif, struct ust_fbuf *fb)
{
    struct tn_env *env = nif->priv;
    if (env->nframes == env->cap) {
        env->cap = env->cap ? env->cap * 2 : 64;
        env->frames = realloc(env->frames, env->cap * sizeof(*env->frames));
        assert_non_null(env->frames);
    }
    struct tn_frame *f = &env->frames[env->nframes++];
    f->data = malloc(fb->len ? fb->len : 1);
    assert_non_null(f->data);
    memcpy(f->data, fb->data, fb->len);
    f->len = fb->len;
    ust_fbuf_free(nif->stack, fb);
    return 0;
}

static inline int tn_poll_fd(struct ust_netif *nif)
{
    (void)nif;
    return -1;
}

static const struct ust_netif_ops tn_ops = {
    .kind_name = "test",
    .transmit = tn_transmit,
    .poll_fd = tn_poll_fd,
};

static inline void tn_clear(struct tn_env *env)
{
    for (size_t i = 0; i < env->nframes; i++)
        free(env->frames[i].data);
    env->nframes = 0;
}

static inline void tn_poll(struct tn_env *env, uint64_t dt)
{
    env->now += dt;
    ust_stack_poll(env->stack, env->now);
}

/* cfg NULL = defaults. The stack's clock starts at TN_T0. */
static inline void tn_setup_cfg(struct tn_env *env, const struct ust_stack_config *cfg)
{
    struct ust_stack_config c;
    if (cfg)
        c = *cfg;
    else
        ust_stack_config_init(&c);
    if (!c.seed)
        c.seed = 7;
    memset(env, 0, sizeof(*env));
    env->stack = ust_stack_new(&c);
    assert_non_null(env->stack);
    env->now = TN_T0;
    ust_stack_poll(env->stack, env->now);
    ust_rt_lock(env->stack);
    env->nif = ust_netif_create(env->stack, "test0", UST_NETIF_ETHER, &tn_ops, env);
    assert_non_null(env->nif);
    memcpy(env->nif->mac, tn_mac, 6);
    ust_rt_unlock(env->stack);
    struct in_addr a = { htonl(TN_ADDR) };
    assert_int_equal(ust_netif_set_ipv4(env->nif, a, 24), 0);
    env->baseline = env->stack->fbpool.in_use_bytes;
}

static inline void tn_setup(struct tn_env *env)
{
    tn_setup_cfg(env, NULL);
    tn_clear(env);
}

/* Every buffer the stack took was given back. */
static inline void tn_assert_no_leak(struct tn_env *env)
{
    assert_int_equal(env->stack->fbpool.in_use_bytes, env->baseline);
}

static inline void tn_teardown(struct tn_env *env)
{
    ust_stack_free(env->stack);
    tn_clear(env);
    free(env->frames);
    memset(env, 0, sizeof(*env));
}

static inline uint64_t tn_stat(struct tn_env *env, enum ust_stat s)
{
    return ust_stat_get(env->stack, s);
}
#define TN_STAT(env, grp, name) tn_stat(env, UST_STAT_##grp##_##name)

/* ---- Injecting frames --------------------------------------------------- */

static inline void tn_inject(struct tn_env *env, const uint8_t *frame, size_t len)
{
    struct ust_fbuf *fb = ust_fbuf_alloc(env->stack, len);
    assert_non_null(fb);
    memcpy(ust_fbuf_put(fb, len), frame, len);
    ust_rt_lock(env->stack);
    ust_netif_receive(env->nif, fb);
    ust_rt_unlock(env->stack);
}

static inline size_t tn_eth(uint8_t *p, const uint8_t *dst, const uint8_t *src, uint16_t type)
{
    struct ust_eth_hdr eh;
    memcpy(eh.dst, dst, 6);
    memcpy(eh.src, src, 6);
    eh.type = type;
    return ust_eth_emit(p, UST_ETH_HLEN, &eh);
}

static inline size_t tn_arp_frame(uint8_t *p, const uint8_t *eth_dst, uint16_t op,
                                  const uint8_t *sha, uint32_t spa, const uint8_t *tha,
                                  uint32_t tpa)
{
    size_t n = tn_eth(p, eth_dst, sha, UST_ETHERTYPE_ARP);
    struct ust_arp_pkt a = { .op = op, .spa = spa, .tpa = tpa };
    memcpy(a.sha, sha, 6);
    memcpy(a.tha, tha, 6);
    return n + ust_arp_emit(p + n, UST_ARP_LEN, &a);
}

/* The peer asks who has 10.0.0.1: the stack learns the peer's MAC. */
static inline void tn_peer_arp(struct tn_env *env)
{
    static const uint8_t zero[6];
    uint8_t f[64];
    size_t n = tn_arp_frame(f, tn_bcast_mac, UST_ARP_REQUEST, tn_peer_mac, TN_PEER, zero, TN_ADDR);
    tn_inject(env, f, n);
    tn_clear(env);
}

/* An IPv4 datagram (20-byte header) in an Ethernet frame to our MAC. */
struct tn_ip {
    const uint8_t *eth_dst;     /* NULL = our MAC */
    uint32_t src, dst;          /* 0 = peer / us */
    uint8_t proto;
    uint16_t id;
    uint16_t frag;
    uint8_t ttl;                /* 0 = 64 */
};

static inline size_t tn_ip_frame(uint8_t *p, const struct tn_ip *ip, const uint8_t *payload,
                                 size_t plen)
{
    size_t n = tn_eth(p, ip->eth_dst ? ip->eth_dst : tn_mac, tn_peer_mac, UST_ETHERTYPE_IPV4);
    struct ust_ipv4_hdr h = {
        .total_len = (uint16_t)(UST_IPV4_MIN_HLEN + plen),
        .id = ip->id,
        .frag = ip->frag,
        .ttl = ip->ttl ? ip->ttl : 64,
        .proto = ip->proto,
        .src = ip->src ? ip->src : TN_PEER,
        .dst = ip->dst ? ip->dst : TN_ADDR,
    };
    n += ust_ipv4_emit(p + n, UST_IPV4_MIN_HLEN, &h);
    memcpy(p + n, payload, plen);
    return n + plen;
}

/* An ICMP echo request (or other type) with `len` payload bytes i & 0xff. */
static inline size_t tn_icmp_msg(uint8_t *p, uint8_t type, uint8_t code, uint32_t rest, size_t len)
{
    for (size_t i = 0; i < len; i++)
        p[UST_ICMP_HLEN + i] = (uint8_t)i;
    struct ust_icmp_hdr h = { .type = type, .code = code, .rest = rest };
    ust_icmp_emit(p, UST_ICMP_HLEN + len, &h, len);
    return UST_ICMP_HLEN + len;
}

/* ---- Inspecting what the stack sent -------------------------------------- */

/* Parses frame i as Ethernet + IPv4, asserting the header checksum; p/len
 * the IP payload. Returns false if it is not IPv4. */
static inline bool tn_sent_ipv4(struct tn_env *env, size_t i, struct ust_eth_hdr *eh,
                                struct ust_ipv4_hdr *ih, const uint8_t **p, size_t *len)
{
    *p = NULL;
    *len = 0;
    assert_true(i < env->nframes);
    const struct tn_frame *f = &env->frames[i];
    assert_int_equal(ust_eth_parse(f->data, f->len, eh), UST_ETH_HLEN);
    if (eh->type != UST_ETHERTYPE_IPV4)
        return false;
    int hl = ust_ipv4_parse(f->data + UST_ETH_HLEN, f->len - UST_ETH_HLEN, ih);
    assert_true(hl >= UST_IPV4_MIN_HLEN);
    assert_int_equal(ih->total_len, f->len - UST_ETH_HLEN);
    *p = f->data + UST_ETH_HLEN + hl;
    *len = ih->total_len - (size_t)hl;
    return true;
}

static inline bool tn_sent_arp(struct tn_env *env, size_t i, struct ust_eth_hdr *eh,
                               struct ust_arp_pkt *a)
{
    assert_true(i < env->nframes);
    const struct tn_frame *f = &env->frames[i];
    assert_int_equal(ust_eth_parse(f->data, f->len, eh), UST_ETH_HLEN);
    if (eh->type != UST_ETHERTYPE_ARP)
        return false;
    assert_int_equal(ust_arp_parse(f->data + UST_ETH_HLEN, f->len - UST_ETH_HLEN, a), UST_ARP_LEN);
    return true;
}

/* Number of frames sent that are IPv4 / ARP. */
static inline size_t tn_count_type(struct tn_env *env, uint16_t type)
{
    size_t n = 0;
    for (size_t i = 0; i < env->nframes; i++) {
        struct ust_eth_hdr eh;
        assert_int_equal(ust_eth_parse(env->frames[i].data, env->frames[i].len, &eh), UST_ETH_HLEN);
        n += eh.type == type;
    }
    return n;
}

/* Sends `len` bytes of protocol `proto` from the stack (lock taken). */
static inline int tn_output(struct tn_env *env, uint32_t dst, uint8_t proto, size_t len, bool df)
{
    struct ust_fbuf *fb = ust_fbuf_alloc(env->stack, len);
    assert_non_null(fb);
    uint8_t *p = ust_fbuf_put(fb, len);
    for (size_t i = 0; i < len; i++)
        p[i] = (uint8_t)(i * 7);
    struct ust_ip_out o = { .dst = dst, .proto = proto, .df = df };
    ust_rt_lock(env->stack);
    int err = ust_ipv4_output(env->stack, fb, &o);
    ust_rt_unlock(env->stack);
    return err;
}

#endif
