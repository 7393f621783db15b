/* IPv4 input and output and routing: fragmentation sizes and DF, routes
 * (longest prefix, default gateway, errnos), broadcast output, martians,
 * datagrams not for us, and every malformed frame counted and freed. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "net_test_util.h"

#define ECHO_REST(id, seq) (((uint32_t)(id) << 16) | (seq))

static struct in_addr ip4(uint32_t host_order)
{
    struct in_addr a = { htonl(host_order) };
    return a;
}

/* ---- Output --------------------------------------------------------------- */

static void output_fragments_to_mtu_with_8_byte_offsets(void **unused)
{
    struct tn_env env;
    tn_setup(&env);
    tn_peer_arp(&env);
    assert_int_equal(tn_output(&env, TN_PEER, 253, 4000, false), 0);
    assert_int_equal(env.nframes, 3);
    const size_t want_len[] = { 1480, 1480, 1040 };
    uint16_t id = 0;
    for (size_t i = 0; i < 3; i++) {
        struct ust_eth_hdr eh;
        struct ust_ipv4_hdr ih;
        const uint8_t *p;
        size_t len;
        assert_true(tn_sent_ipv4(&env, i, &eh, &ih, &p, &len));
        assert_int_equal(len, want_len[i]);
        assert_int_equal(ust_ipv4_frag_offset(&ih), i * 1480);
        assert_int_equal(ust_ipv4_more_frags(&ih), i < 2);
        assert_int_equal(ih.frag & UST_IP_DF, 0);
        if (i == 0)
            id = ih.id;
        assert_int_equal(ih.id, id);
        for (size_t k = 0; k < len; k++)
            assert_int_equal(p[k], (uint8_t)((i * 1480 + k) * 7));
    }
    assert_int_equal(TN_STAT(&env, IP, FragOKs), 1);
    assert_int_equal(TN_STAT(&env, IP, FragCreates), 3);
    assert_int_equal(TN_STAT(&env, IP, OutRequests), 1);

    /* A smaller MTU: 576 -> 552-byte fragments. */
    tn_clear(&env);
    assert_int_equal(ust_netif_set_mtu(env.nif, 576), 0);
    assert_int_equal(tn_output(&env, TN_PEER, 253, 1200, false), 0);
    assert_int_equal(env.nframes, 3);
    struct ust_eth_hdr eh;
    struct ust_ipv4_hdr ih;
    const uint8_t *p;
    size_t len;
    assert_true(tn_sent_ipv4(&env, 2, &eh, &ih, &p, &len));
    assert_int_equal(ust_ipv4_frag_offset(&ih), 1104);
    assert_int_equal(len, 96);
    tn_assert_no_leak(&env);
    tn_teardown(&env);
}

static void datagram_fitting_mtu_exactly_is_not_fragmented(void **unused)
{
    struct tn_env env;
    tn_setup(&env);
    tn_peer_arp(&env);
    assert_int_equal(tn_output(&env, TN_PEER, 253, 1480, true), 0);
    assert_int_equal(env.nframes, 1);
    struct ust_eth_hdr eh;
    struct ust_ipv4_hdr ih;
    const uint8_t *p;
    size_t len;
    assert_true(tn_sent_ipv4(&env, 0, &eh, &ih, &p, &len));
    assert_int_equal(ih.frag, UST_IP_DF);
    assert_int_equal(ih.ttl, 64);
    assert_int_equal(ih.total_len, 1500);
    assert_int_equal(TN_STAT(&env, IP, FragOKs), 0);
    tn_teardown(&env);
}

static void df_datagram_over_mtu_fails_with_emsgsize(void **unused)
{
    struct tn_env env;
    tn_setup(&env);
    tn_peer_arp(&env);
    assert_int_equal(tn_output(&env, TN_PEER, 253, 1481, true), -EMSGSIZE);
    assert_int_equal(env.nframes, 0);
    assert_int_equal(TN_STAT(&env, IP, FragFails), 1);
    tn_assert_no_leak(&env);
    tn_teardown(&env);
}

static void no_route_fails_with_enetunreach(void **unused)
{
    struct tn_env env;
    tn_setup(&env);
    assert_int_equal(tn_output(&env, 0x08080808u, 253, 10, false), -ENETUNREACH);
    assert_int_equal(TN_STAT(&env, IP, OutNoRoutes), 1);
    assert_int_equal(env.nframes, 0);
    tn_assert_no_leak(&env);
    tn_teardown(&env);
}

static void default_gateway_is_resolved_and_used_as_next_hop(void **unused)
{
    struct tn_env env;
    tn_setup(&env);
    const uint32_t gw = 0x0a0000feu;
    assert_int_equal(ust_route_add_default(env.stack, ip4(gw)), 0);
    assert_int_equal(tn_output(&env, 0x08080808u, 253, 10, false), 0);
    assert_int_equal(env.nframes, 1);
    struct ust_eth_hdr eh;
    struct ust_arp_pkt a;
    assert_true(tn_sent_arp(&env, 0, &eh, &a));
    assert_int_equal(a.tpa, gw);                /* ARP for the gateway, not 8.8.8.8 */
    tn_clear(&env);

    static const uint8_t gw_mac[6] = { 0x02, 0, 0, 0, 0, 0xfe };
    uint8_t f[64];
    tn_inject(&env, f, tn_arp_frame(f, tn_mac, UST_ARP_REPLY, gw_mac, gw, tn_mac, TN_ADDR));
    assert_int_equal(env.nframes, 1);
    struct ust_ipv4_hdr ih;
    const uint8_t *p;
    size_t len;
    assert_true(tn_sent_ipv4(&env, 0, &eh, &ih, &p, &len));
    assert_memory_equal(eh.dst, gw_mac, 6);
    assert_int_equal(ih.dst, 0x08080808u);
    assert_int_equal(ih.src, TN_ADDR);
    tn_assert_no_leak(&env);
    tn_teardown(&env);
}

static void longest_prefix_wins(void **unused)
{
    struct tn_env env;
    tn_setup(&env);
    assert_int_equal(ust_route_add_default(env.stack, ip4(0x0a0000feu)), 0);
    assert_int_equal(ust_route_add(env.stack, ip4(0x0a010000u), 16, ip4(0x0a0000fdu), NULL), 0);
    assert_int_equal(ust_route_add(env.stack, ip4(0x0a010200u), 24, ip4(0x0a0000fcu), env.nif), 0);
    assert_int_equal(ust_route_add(env.stack, ip4(0x0a010203u), 32, ip4(0), env.nif), 0);

    const struct { uint32_t dst, nexthop; } cases[] = {
        { 0x0a010204u, 0x0a0000fcu },   /* /24 beats /16 and /0 */
        { 0x0a010904u, 0x0a0000fdu },   /* /16 */
        { 0x0b000001u, 0x0a0000feu },   /* default */
        { 0x0a000007u, 0x0a000007u },   /* connected /24: direct */
        { 0x0a010203u, 0x0a010203u },   /* /32 on-link host route */
    };
    ust_rt_lock(env.stack);
    for (size_t i = 0; i < UST_ARRAY_SIZE(cases); i++) {
        struct ust_route_result rr;
        assert_int_equal(ust_route_lookup(env.stack, cases[i].dst, &rr), 0);
        assert_int_equal(rr.nexthop, cases[i].nexthop);
        assert_ptr_equal(rr.netif, env.nif);
        assert_int_equal(rr.src, TN_ADDR);
    }
    struct ust_route_result rr;
    assert_int_equal(ust_route_lookup(env.stack, 0x7f000001u, &rr), 0);
    assert_ptr_equal(rr.netif, env.stack->lo);
    ust_rt_unlock(env.stack);
    tn_teardown(&env);
}

static void route_add_reports_linux_errnos(void **unused)
{
    struct tn_env env;
    tn_setup(&env);
    errno = 0;
    assert_int_equal(ust_route_add(env.stack, ip4(0x0a010001u), 16, ip4(0x0a0000feu), NULL), -1);
    assert_int_equal(errno, EINVAL);            /* host bits set */
    assert_int_equal(ust_route_add(env.stack, ip4(0x0a010000u), 33, ip4(0x0a0000feu), NULL), -1);
    assert_int_equal(errno, EINVAL);
    assert_int_equal(ust_route_add(env.stack, ip4(0x0a010000u), -1, ip4(0x0a0000feu), NULL), -1);
    assert_int_equal(errno, EINVAL);
    assert_int_equal(ust_route_add_default(env.stack, ip4(0xc0a80001u)), -1);
    assert_int_equal(errno, ENETUNREACH);       /* gateway not on a connected network */
    assert_int_equal(ust_route_add_default(env.stack, ip4(0xffffffffu)), -1);
    assert_int_equal(errno, EINVAL);
    assert_int_equal(ust_route_add(env.stack, ip4(0x0a010000u), 16, ip4(0), NULL), -1);
    assert_int_equal(errno, ENODEV);            /* neither gateway nor interface */
    assert_int_equal(ust_route_add_default(env.stack, ip4(0x0a0000feu)), 0);
    assert_int_equal(ust_route_add_default(env.stack, ip4(0x0a0000fdu)), -1);
    assert_int_equal(errno, EEXIST);

    unsigned added = 0;
    int r;
    while ((r = ust_route_add(env.stack, ip4(0x0b000000u + (added << 8)), 24, ip4(0x0a0000feu), NULL)) == 0)
        added++;
    assert_int_equal(errno, ENOSPC);
    assert_int_equal(env.stack->net.n_routes, UST_ROUTE_MAX);
    assert_true(added > 0);
    tn_teardown(&env);
}

static void broadcast_destinations_use_broadcast_mac_without_arp(void **unused)
{
    struct tn_env env;
    tn_setup(&env);
    assert_int_equal(tn_output(&env, TN_BCAST, 253, 10, false), 0);
    assert_int_equal(tn_output(&env, 0xffffffffu, 253, 10, false), 0);
    assert_int_equal(env.nframes, 2);
    for (size_t i = 0; i < 2; i++) {
        struct ust_eth_hdr eh;
        struct ust_ipv4_hdr ih;
        const uint8_t *p;
        size_t len;
        assert_true(tn_sent_ipv4(&env, i, &eh, &ih, &p, &len));
        assert_memory_equal(eh.dst, tn_bcast_mac, 6);
        assert_int_equal(ih.src, TN_ADDR);
    }
    assert_int_equal(TN_STAT(&env, ARP, OutRequests), 0);
    tn_assert_no_leak(&env);
    tn_teardown(&env);
}

static void datagrams_to_local_addresses_go_over_loopback(void **unused)
{
    struct tn_env env;
    tn_setup(&env);
    assert_int_equal(tn_output(&env, TN_ADDR, 253, 10, false), 0);
    assert_int_equal(tn_output(&env, 0x7f000005u, 253, 10, false), 0);
    assert_int_equal(env.nframes, 0);
    tn_poll(&env, 0);
    /* Both arrived (on lo, where neither is a martian) and met protocol 253. */
    assert_int_equal(TN_STAT(&env, IP, InUnknownProtos), 2);
    assert_int_equal(TN_STAT(&env, IP, InMartians), 0);
    tn_poll(&env, 0);
    assert_int_equal(TN_STAT(&env, ICMP, InDestUnreachs), 2);
    assert_int_equal(env.nframes, 0);
    tn_assert_no_leak(&env);
    tn_teardown(&env);
}

/* ---- Input ---------------------------------------------------------------- */

static void echo_frame(uint8_t *f, size_t *n, const struct tn_ip *ip)
{
    uint8_t msg[64];
    size_t m = tn_icmp_msg(msg, UST_ICMP_ECHO, 0, ECHO_REST(1, 1), 8);
    *n = tn_ip_frame(f, ip, msg, m);
}

static void martian_sources_and_destinations_are_dropped(void **unused)
{
    struct tn_env env;
    tn_setup(&env);
    tn_peer_arp(&env);
    const struct { uint32_t src, dst; } cases[] = {
        { TN_ADDR, TN_ADDR },           /* our own address from the wire */
        { 0x7f000001u, TN_ADDR },       /* loopback source off lo */
        { TN_PEER, 0x7f000001u },       /* loopback destination off lo */
        { 0xe0000001u, TN_ADDR },       /* multicast source */
        { 0xffffffffu, TN_ADDR },       /* broadcast source */
        { TN_BCAST, TN_ADDR },          /* subnet broadcast source */
        { 0x00000001u, TN_ADDR },       /* 0/8 source */
        { TN_PEER, 0x00000009u },       /* 0/8 destination */
    };
    for (size_t i = 0; i < UST_ARRAY_SIZE(cases); i++) {
        uint8_t f[128];
        size_t n;
        struct tn_ip ip = { .proto = UST_IPPROTO_ICMP, .src = cases[i].src, .dst = cases[i].dst };
        echo_frame(f, &n, &ip);
        tn_inject(&env, f, n);
        assert_int_equal(TN_STAT(&env, IP, InMartians), i + 1);
    }
    assert_int_equal(TN_STAT(&env, IP, InDelivers), 0);
    assert_int_equal(env.nframes, 0);
    tn_assert_no_leak(&env);
    tn_teardown(&env);
}

static void datagram_for_another_host_is_not_forwarded(void **unused)
{
    struct tn_env env;
    tn_setup(&env);
    tn_peer_arp(&env);
    uint8_t f[128];
    size_t n;
    struct tn_ip ip = { .proto = UST_IPPROTO_ICMP, .dst = 0x0a000009u };
    echo_frame(f, &n, &ip);
    tn_inject(&env, f, n);
    ip.dst = 0xe0000001u;           /* a group we did not join (frame to our MAC) */
    echo_frame(f, &n, &ip);
    tn_inject(&env, f, n);
    assert_int_equal(TN_STAT(&env, IP, InAddrErrors), 2);
    assert_int_equal(env.nframes, 0);
    tn_assert_no_leak(&env);
    tn_teardown(&env);
}

static void weak_host_accepts_our_address_of_another_interface(void **unused)
{
    struct tn_env env;
    tn_setup(&env);
    tn_peer_arp(&env);
    ust_rt_lock(env.stack);
    struct ust_netif *other = ust_netif_create(env.stack, "test1", UST_NETIF_ETHER, &tn_ops, &env);
    ust_rt_unlock(env.stack);
    assert_non_null(other);
    assert_int_equal(ust_netif_set_ipv4(other, ip4(0xc0a80101u), 24), 0);
    tn_clear(&env);
    uint8_t f[128];
    size_t n;
    struct tn_ip ip = { .proto = UST_IPPROTO_ICMP, .dst = 0xc0a80101u };
    echo_frame(f, &n, &ip);
    tn_inject(&env, f, n);
    assert_int_equal(env.nframes, 1);
    struct ust_eth_hdr eh;
    struct ust_ipv4_hdr ih;
    const uint8_t *p;
    size_t len;
    assert_true(tn_sent_ipv4(&env, 0, &eh, &ih, &p, &len));
    assert_int_equal(ih.src, 0xc0a80101u);
    assert_int_equal(ih.dst, TN_PEER);
    tn_teardown(&env);
}

/* Writes a raw IPv4 header (any field) + 8 bytes of ICMP echo into f. */
static size_t raw_ip_frame(uint8_t *f, uint8_t ver_ihl, uint16_t total_len, const uint8_t *opts,
                           size_t opt_len, bool fix_csum)
{
    size_t n = tn_eth(f, tn_mac, tn_peer_mac, UST_ETHERTYPE_IPV4);
    uint8_t *h = f + n;
    size_t hlen = UST_IPV4_MIN_HLEN + opt_len;
    memset(h, 0, hlen);
    h[0] = ver_ihl;
    ust_put_be16(h + 2, total_len);
    h[8] = 64;
    h[9] = UST_IPPROTO_ICMP;
    ust_put_be32(h + 12, TN_PEER);
    ust_put_be32(h + 16, TN_ADDR);
    memcpy(h + UST_IPV4_MIN_HLEN, opts, opt_len);
    if (fix_csum)
        ust_put_be16(h + 10, ust_inet_csum(h, hlen));
    tn_icmp_msg(h + hlen, UST_ICMP_ECHO, 0, ECHO_REST(2, 2), 0);
    return n + hlen + UST_ICMP_HLEN;
}

static void ip_options_are_skipped_when_well_formed(void **unused)
{
    struct tn_env env;
    tn_setup(&env);
    tn_peer_arp(&env);
    /* NOP, timestamp option (type 68, length 8), EOL padding: IHL 8. */
    const uint8_t opts[12] = { 1, 68, 8, 5, 0, 0, 0, 0, 0, 0, 0, 0 };
    uint8_t f[128];
    size_t n = raw_ip_frame(f, 0x48, 32 + 8, opts, sizeof(opts), true);
    tn_inject(&env, f, n);
    assert_int_equal(TN_STAT(&env, ICMP, OutEchoReps), 1);
    assert_int_equal(env.nframes, 1);
    tn_assert_no_leak(&env);
    tn_teardown(&env);
}

static void every_malformed_frame_is_counted_and_freed(void **unused)
{
    struct tn_env env;
    tn_setup(&env);
    tn_peer_arp(&env);
    uint8_t f[256];
    size_t n;
    static const uint8_t no_opts[1];

    /* Ethernet: shorter than its header; unknown EtherType; not for us. */
    n = raw_ip_frame(f, 0x45, 28, no_opts, 0, true);
    tn_inject(&env, f, 13);
    assert_int_equal(TN_STAT(&env, ETH, InTruncated), 1);
    ust_put_be16(f + 12, 0x86dd);
    tn_inject(&env, f, n);
    assert_int_equal(TN_STAT(&env, ETH, InUnknownType), 1);
    static const uint8_t other_mac[6] = { 0x02, 9, 9, 9, 9, 9 };
    static const uint8_t mcast_mac[6] = { 0x01, 0, 0x5e, 0, 0, 1 };
    n = raw_ip_frame(f, 0x45, 28, no_opts, 0, true);
    memcpy(f, other_mac, 6);
    tn_inject(&env, f, n);
    memcpy(f, mcast_mac, 6);
    tn_inject(&env, f, n);
    assert_int_equal(TN_STAT(&env, ETH, InNotForUs), 2);

    uint64_t hdr = 0;
    /* IPv4 shorter than 20 bytes. */
    n = raw_ip_frame(f, 0x45, 28, no_opts, 0, true);
    tn_inject(&env, f, UST_ETH_HLEN + 19);
    assert_int_equal(TN_STAT(&env, IP, InHdrErrors), ++hdr);
    /* Version 6 in an IPv4 EtherType; IHL 4; IHL 15 beyond the frame. */
    n = raw_ip_frame(f, 0x65, 28, no_opts, 0, true);
    tn_inject(&env, f, n);
    assert_int_equal(TN_STAT(&env, IP, InHdrErrors), ++hdr);
    n = raw_ip_frame(f, 0x44, 28, no_opts, 0, true);
    tn_inject(&env, f, n);
    assert_int_equal(TN_STAT(&env, IP, InHdrErrors), ++hdr);
    n = raw_ip_frame(f, 0x4f, 28, no_opts, 0, true);
    tn_inject(&env, f, n);
    assert_int_equal(TN_STAT(&env, IP, InHdrErrors), ++hdr);
    /* Total length smaller than the header. */
    n = raw_ip_frame(f, 0x45, 19, no_opts, 0, true);
    tn_inject(&env, f, n);
    assert_int_equal(TN_STAT(&env, IP, InHdrErrors), ++hdr);
    /* Bad header checksum. */
    n = raw_ip_frame(f, 0x45, 28, no_opts, 0, true);
    f[UST_ETH_HLEN + 10] ^= 0x5a;
    tn_inject(&env, f, n);
    assert_int_equal(TN_STAT(&env, IP, InCsumErrors), 1);
    assert_int_equal(TN_STAT(&env, IP, InHdrErrors), ++hdr);
    /* Total length beyond the frame. */
    n = raw_ip_frame(f, 0x45, 29, no_opts, 0, true);
    tn_inject(&env, f, n);
    assert_int_equal(TN_STAT(&env, IP, InTruncatedPkts), 1);
    /* Options: length 0, length 1, and running past the header. */
    const uint8_t bad_opts[][4] = { { 7, 0, 0, 0 }, { 7, 1, 0, 0 }, { 1, 1, 68, 8 } };
    for (size_t i = 0; i < UST_ARRAY_SIZE(bad_opts); i++) {
        n = raw_ip_frame(f, 0x46, 32, bad_opts[i], 4, true);
        tn_inject(&env, f, n);
        assert_int_equal(TN_STAT(&env, IP, InHdrErrors), ++hdr);
    }
    /* ICMP truncated to 3 bytes inside a valid IP datagram. */
    n = raw_ip_frame(f, 0x45, 23, no_opts, 0, true);
    tn_inject(&env, f, n);
    assert_int_equal(TN_STAT(&env, ICMP, InErrors), 1);

    /* UDP truncated to 4 bytes: delivered to UDP, which counts it. */
    uint8_t udp4[4] = { 0, 1, 0, 2 };
    struct tn_ip uip = { .proto = UST_IPPROTO_UDP };
    tn_inject(&env, f, tn_ip_frame(f, &uip, udp4, sizeof(udp4)));
    assert_int_equal(TN_STAT(&env, UDP, InErrors), 1);

    assert_int_equal(TN_STAT(&env, IP, InReceives), hdr + 3);  /* + truncated, ICMP, UDP */
    assert_int_equal(TN_STAT(&env, IP, InDelivers), 2);
    assert_int_equal(env.nframes, 0);
    tn_assert_no_leak(&env);
    tn_teardown(&env);
}

/* A TUN-style netif carries bare IPv4 packets: no Ethernet, no ARP. */
static void rawip_netif_answers_echo_without_link_header(void **unused)
{
    struct tn_env env;
    tn_setup(&env);
    ust_rt_lock(env.stack);
    struct ust_netif *tun = ust_netif_create(env.stack, "tun0", UST_NETIF_RAWIP, &tn_ops, &env);
    ust_rt_unlock(env.stack);
    assert_non_null(tun);
    assert_int_equal(ust_netif_set_ipv4(tun, ip4(0xc0a80001u), 24), 0);
    assert_int_equal(env.nframes, 0);               /* no gratuitous ARP on a TUN */

    uint8_t msg[64], f[128];
    size_t m = tn_icmp_msg(msg, UST_ICMP_ECHO, 0, ECHO_REST(5, 6), 8);
    struct ust_ipv4_hdr h = { .total_len = (uint16_t)(UST_IPV4_MIN_HLEN + m), .ttl = 64,
                              .proto = UST_IPPROTO_ICMP, .src = 0xc0a80002u, .dst = 0xc0a80001u };
    ust_ipv4_emit(f, UST_IPV4_MIN_HLEN, &h);
    memcpy(f + UST_IPV4_MIN_HLEN, msg, m);
    struct ust_fbuf *fb = ust_fbuf_alloc(env.stack, UST_IPV4_MIN_HLEN + m);
    memcpy(ust_fbuf_put(fb, UST_IPV4_MIN_HLEN + m), f, UST_IPV4_MIN_HLEN + m);
    ust_rt_lock(env.stack);
    ust_netif_receive(tun, fb);
    ust_rt_unlock(env.stack);

    assert_int_equal(env.nframes, 1);
    struct ust_ipv4_hdr ih;
    assert_int_equal(ust_ipv4_parse(env.frames[0].data, env.frames[0].len, &ih), UST_IPV4_MIN_HLEN);
    assert_int_equal(ih.src, 0xc0a80001u);
    assert_int_equal(ih.dst, 0xc0a80002u);
    struct ust_icmp_hdr ic;
    assert_int_equal(ust_icmp_parse(env.frames[0].data + UST_IPV4_MIN_HLEN,
                                    env.frames[0].len - UST_IPV4_MIN_HLEN, &ic), UST_ICMP_HLEN);
    assert_int_equal(ic.type, UST_ICMP_ECHO_REPLY);
    tn_assert_no_leak(&env);
    tn_teardown(&env);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(output_fragments_to_mtu_with_8_byte_offsets),
        cmocka_unit_test(datagram_fitting_mtu_exactly_is_not_fragmented),
        cmocka_unit_test(df_datagram_over_mtu_fails_with_emsgsize),
        cmocka_unit_test(no_route_fails_with_enetunreach),
        cmocka_unit_test(default_gateway_is_resolved_and_used_as_next_hop),
        cmocka_unit_test(longest_prefix_wins),
        cmocka_unit_test(route_add_reports_linux_errnos),
        cmocka_unit_test(broadcast_destinations_use_broadcast_mac_without_arp),
        cmocka_unit_test(datagrams_to_local_addresses_go_over_loopback),
        cmocka_unit_test(martian_sources_and_destinations_are_dropped),
        cmocka_unit_test(datagram_for_another_host_is_not_forwarded),
        cmocka_unit_test(weak_host_accepts_our_address_of_another_interface),
        cmocka_unit_test(ip_options_are_skipped_when_well_formed),
        cmocka_unit_test(every_malformed_frame_is_counted_and_freed),
        cmocka_unit_test(rawip_netif_answers_echo_without_link_header),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
