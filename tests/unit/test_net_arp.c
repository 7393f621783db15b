/* ARP (RFC 826) on a test Ethernet netif: replies, learning, resolution with
 * a bounded pending queue, retransmission and giving up, ageing, gratuitous
 * ARP, the cache bound, and malformed packets. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "net_test_util.h"

static const uint8_t zero_mac[6];

static void arp_state(struct tn_env *env, uint32_t ip, int *state, uint8_t mac[6])
{
    ust_rt_lock(env->stack);
    *state = ust_arp_lookup(env->stack, env->nif, ip, mac);
    ust_rt_unlock(env->stack);
}

static void gratuitous_arp_announces_address_when_set(void **unused)
{
    struct tn_env env;
    tn_setup_cfg(&env, NULL);
    assert_int_equal(env.nframes, 1);
    struct ust_eth_hdr eh;
    struct ust_arp_pkt a;
    assert_true(tn_sent_arp(&env, 0, &eh, &a));
    assert_memory_equal(eh.dst, tn_bcast_mac, 6);
    assert_memory_equal(eh.src, tn_mac, 6);
    assert_int_equal(a.op, UST_ARP_REQUEST);
    assert_int_equal(a.spa, TN_ADDR);
    assert_int_equal(a.tpa, TN_ADDR);
    assert_memory_equal(a.sha, tn_mac, 6);
    assert_memory_equal(a.tha, zero_mac, 6);
    assert_int_equal(TN_STAT(&env, ARP, OutGratuitous), 1);
    tn_teardown(&env);
}

static void request_for_our_address_gets_reply_and_teaches_sender(void **unused)
{
    struct tn_env env;
    tn_setup(&env);
    uint8_t f[64];
    size_t n = tn_arp_frame(f, tn_bcast_mac, UST_ARP_REQUEST, tn_peer_mac, TN_PEER, zero_mac, TN_ADDR);
    tn_inject(&env, f, n);

    assert_int_equal(env.nframes, 1);
    struct ust_eth_hdr eh;
    struct ust_arp_pkt a;
    assert_true(tn_sent_arp(&env, 0, &eh, &a));
    assert_memory_equal(eh.dst, tn_peer_mac, 6);
    assert_int_equal(a.op, UST_ARP_REPLY);
    assert_memory_equal(a.sha, tn_mac, 6);
    assert_int_equal(a.spa, TN_ADDR);
    assert_memory_equal(a.tha, tn_peer_mac, 6);
    assert_int_equal(a.tpa, TN_PEER);
    assert_int_equal(TN_STAT(&env, ARP, InRequests), 1);
    assert_int_equal(TN_STAT(&env, ARP, OutReplies), 1);

    int st;
    uint8_t mac[6];
    arp_state(&env, TN_PEER, &st, mac);
    assert_int_equal(st, UST_ARP_REACHABLE);
    assert_memory_equal(mac, tn_peer_mac, 6);
    tn_assert_no_leak(&env);
    tn_teardown(&env);
}

static void request_for_other_address_is_not_answered_nor_learned(void **unused)
{
    struct tn_env env;
    tn_setup(&env);
    uint8_t f[64];
    size_t n = tn_arp_frame(f, tn_bcast_mac, UST_ARP_REQUEST, tn_peer_mac, TN_PEER, zero_mac,
                            0x0a000009u);
    tn_inject(&env, f, n);
    assert_int_equal(env.nframes, 0);
    int st;
    arp_state(&env, TN_PEER, &st, NULL);
    assert_int_equal(st, UST_ARP_NONE);
    tn_assert_no_leak(&env);
    tn_teardown(&env);
}

static void unsolicited_reply_creates_no_entry(void **unused)
{
    struct tn_env env;
    tn_setup(&env);
    uint8_t f[64];
    size_t n = tn_arp_frame(f, tn_mac, UST_ARP_REPLY, tn_peer_mac, TN_PEER, tn_mac, TN_ADDR);
    tn_inject(&env, f, n);
    int st;
    arp_state(&env, TN_PEER, &st, NULL);
    assert_int_equal(st, UST_ARP_NONE);
    assert_int_equal(TN_STAT(&env, ARP, InReplies), 1);
    assert_int_equal(env.nframes, 0);
    tn_teardown(&env);
}

static void probe_with_zero_sender_is_answered_but_not_learned(void **unused)
{
    struct tn_env env;
    tn_setup(&env);
    uint8_t f[64];
    size_t n = tn_arp_frame(f, tn_bcast_mac, UST_ARP_REQUEST, tn_peer_mac, 0, zero_mac, TN_ADDR);
    tn_inject(&env, f, n);
    assert_int_equal(env.nframes, 1);
    struct ust_eth_hdr eh;
    struct ust_arp_pkt a;
    assert_true(tn_sent_arp(&env, 0, &eh, &a));
    assert_int_equal(a.op, UST_ARP_REPLY);
    assert_int_equal(TN_STAT(&env, ARP, OutReplies), 1);
    assert_int_equal(env.stack->net.arp_count, 0);
    tn_teardown(&env);
}

/* Two datagrams wait for one resolution; the reply sends both, in order,
 * to the learned MAC. */
static void resolution_queues_packets_then_sends_them_to_learned_mac(void **unused)
{
    struct tn_env env;
    tn_setup(&env);
    assert_int_equal(tn_output(&env, TN_PEER, 253, 100, false), 0);
    assert_int_equal(tn_output(&env, TN_PEER, 253, 101, false), 0);

    assert_int_equal(env.nframes, 1);       /* one request, nothing else yet */
    struct ust_eth_hdr eh;
    struct ust_arp_pkt a;
    assert_true(tn_sent_arp(&env, 0, &eh, &a));
    assert_memory_equal(eh.dst, tn_bcast_mac, 6);
    assert_int_equal(a.op, UST_ARP_REQUEST);
    assert_int_equal(a.spa, TN_ADDR);
    assert_int_equal(a.tpa, TN_PEER);
    int st;
    arp_state(&env, TN_PEER, &st, NULL);
    assert_int_equal(st, UST_ARP_INCOMPLETE);
    tn_clear(&env);

    uint8_t f[64];
    size_t n = tn_arp_frame(f, tn_mac, UST_ARP_REPLY, tn_peer_mac, TN_PEER, tn_mac, TN_ADDR);
    tn_inject(&env, f, n);
    assert_int_equal(env.nframes, 2);
    for (size_t i = 0; i < 2; i++) {
        struct ust_ipv4_hdr ih;
        const uint8_t *p;
        size_t len;
        assert_true(tn_sent_ipv4(&env, i, &eh, &ih, &p, &len));
        assert_memory_equal(eh.dst, tn_peer_mac, 6);
        assert_memory_equal(eh.src, tn_mac, 6);
        assert_int_equal(ih.dst, TN_PEER);
        assert_int_equal(ih.src, TN_ADDR);
        assert_int_equal(len, 100 + i);
    }
    arp_state(&env, TN_PEER, &st, NULL);
    assert_int_equal(st, UST_ARP_REACHABLE);
    tn_assert_no_leak(&env);
    tn_teardown(&env);
}

static void pending_queue_is_bounded_and_drops_oldest(void **unused)
{
    struct tn_env env;
    tn_setup(&env);
    unsigned max = env.stack->cfg.arp_pending_max;
    for (unsigned i = 0; i < max + 2; i++)
        assert_int_equal(tn_output(&env, TN_PEER, 253, 100 + i, false), 0);
    assert_int_equal(TN_STAT(&env, ARP, PendingDrops), 2);
    tn_clear(&env);

    uint8_t f[64];
    size_t n = tn_arp_frame(f, tn_mac, UST_ARP_REPLY, tn_peer_mac, TN_PEER, tn_mac, TN_ADDR);
    tn_inject(&env, f, n);
    assert_int_equal(env.nframes, max);
    for (unsigned i = 0; i < max; i++) {
        struct ust_eth_hdr eh;
        struct ust_ipv4_hdr ih;
        const uint8_t *p;
        size_t len;
        assert_true(tn_sent_ipv4(&env, i, &eh, &ih, &p, &len));
        assert_int_equal(len, 100 + 2 + i);  /* the two oldest were dropped */
    }
    tn_assert_no_leak(&env);
    tn_teardown(&env);
}

/* arp_max_probes requests arp_retrans_ns apart, then the waiting packets are
 * dropped, each answered with ICMP host unreachable to ourselves. */
static void unanswered_resolution_retransmits_then_gives_up(void **unused)
{
    struct tn_env env;
    tn_setup(&env);
    uint64_t retrans = env.stack->cfg.arp_retrans_ns;
    unsigned probes = env.stack->cfg.arp_max_probes;
    assert_int_equal(tn_output(&env, TN_PEER, 253, 64, false), 0);
    assert_int_equal(tn_output(&env, TN_PEER, 253, 64, false), 0);
    assert_int_equal(env.nframes, 1);

    tn_poll(&env, retrans - 1);
    assert_int_equal(env.nframes, 1);       /* not early */
    for (unsigned i = 1; i < probes; i++) {
        tn_poll(&env, 1);
        assert_int_equal(env.nframes, i + 1);
        tn_poll(&env, retrans - 1);
    }
    assert_int_equal(tn_count_type(&env, UST_ETHERTYPE_ARP), probes);
    assert_int_equal(TN_STAT(&env, ARP, OutRequests), probes);
    assert_int_equal(TN_STAT(&env, ARP, ResolveFailed), 0);

    tn_poll(&env, 1);
    assert_int_equal(TN_STAT(&env, ARP, ResolveFailed), 1);
    assert_int_equal(env.nframes, probes);  /* nothing more on the wire */
    assert_int_equal(TN_STAT(&env, ICMP, OutDestUnreachs), 2);
    tn_poll(&env, 1);                       /* the errors loop back and are consumed */
    assert_int_equal(TN_STAT(&env, ICMP, InDestUnreachs), 2);
    int st;
    arp_state(&env, TN_PEER, &st, NULL);
    assert_int_equal(st, UST_ARP_NONE);
    tn_assert_no_leak(&env);

    /* A new datagram starts a new resolution. */
    tn_clear(&env);
    assert_int_equal(tn_output(&env, TN_PEER, 253, 64, false), 0);
    assert_int_equal(tn_count_type(&env, UST_ETHERTYPE_ARP), 1);
    tn_teardown(&env);
}

/* REACHABLE for arp_reachable_ns, then STALE; traffic to a stale entry goes
 * out at once and triggers unicast probes; unanswered, the entry goes. */
static void entry_ages_to_stale_and_is_reprobed_by_unicast(void **unused)
{
    struct tn_env env;
    tn_setup(&env);
    tn_peer_arp(&env);
    uint64_t reach = env.stack->cfg.arp_reachable_ns;
    int st;

    tn_poll(&env, reach - 1);
    arp_state(&env, TN_PEER, &st, NULL);
    assert_int_equal(st, UST_ARP_REACHABLE);
    tn_poll(&env, 1);
    arp_state(&env, TN_PEER, &st, NULL);
    assert_int_equal(st, UST_ARP_STALE);

    assert_int_equal(tn_output(&env, TN_PEER, 253, 10, false), 0);
    assert_int_equal(env.nframes, 2);
    struct ust_eth_hdr eh;
    struct ust_arp_pkt a;
    struct ust_ipv4_hdr ih;
    const uint8_t *p;
    size_t len;
    assert_true(tn_sent_arp(&env, 0, &eh, &a));
    assert_memory_equal(eh.dst, tn_peer_mac, 6);    /* unicast probe */
    assert_int_equal(a.tpa, TN_PEER);
    assert_true(tn_sent_ipv4(&env, 1, &eh, &ih, &p, &len));
    assert_memory_equal(eh.dst, tn_peer_mac, 6);
    arp_state(&env, TN_PEER, &st, NULL);
    assert_int_equal(st, UST_ARP_PROBE);

    for (unsigned i = 0; i < env.stack->cfg.arp_max_probes; i++)
        tn_poll(&env, env.stack->cfg.arp_retrans_ns);
    arp_state(&env, TN_PEER, &st, NULL);
    assert_int_equal(st, UST_ARP_NONE);
    assert_int_equal(tn_count_type(&env, UST_ETHERTYPE_ARP), env.stack->cfg.arp_max_probes);
    tn_assert_no_leak(&env);
    tn_teardown(&env);
}

static void probe_answered_makes_entry_reachable_again(void **unused)
{
    struct tn_env env;
    tn_setup(&env);
    tn_peer_arp(&env);
    tn_poll(&env, env.stack->cfg.arp_reachable_ns);
    assert_int_equal(tn_output(&env, TN_PEER, 253, 10, false), 0);
    uint8_t f[64];
    size_t n = tn_arp_frame(f, tn_mac, UST_ARP_REPLY, tn_peer_mac, TN_PEER, tn_mac, TN_ADDR);
    tn_inject(&env, f, n);
    int st;
    arp_state(&env, TN_PEER, &st, NULL);
    assert_int_equal(st, UST_ARP_REACHABLE);
    tn_teardown(&env);
}

static void stale_unused_entry_is_removed(void **unused)
{
    struct tn_env env;
    tn_setup(&env);
    tn_peer_arp(&env);
    uint64_t reach = env.stack->cfg.arp_reachable_ns;
    tn_poll(&env, reach);
    tn_poll(&env, reach);
    int st;
    arp_state(&env, TN_PEER, &st, NULL);
    assert_int_equal(st, UST_ARP_NONE);
    assert_int_equal(env.stack->net.arp_count, 0);
    tn_teardown(&env);
}

static void learned_mac_is_updated_by_newer_request(void **unused)
{
    struct tn_env env;
    tn_setup(&env);
    tn_peer_arp(&env);
    static const uint8_t newmac[6] = { 0x02, 0, 0, 0, 0, 0x22 };
    uint8_t f[64];
    size_t n = tn_arp_frame(f, tn_bcast_mac, UST_ARP_REQUEST, newmac, TN_PEER, zero_mac, 0x0a000063u);
    tn_inject(&env, f, n);      /* not for us, but merges into the existing entry */
    int st;
    uint8_t mac[6];
    arp_state(&env, TN_PEER, &st, mac);
    assert_int_equal(st, UST_ARP_REACHABLE);
    assert_memory_equal(mac, newmac, 6);
    tn_teardown(&env);
}

static void cache_is_bounded_and_evicts_least_recently_confirmed(void **unused)
{
    struct ust_stack_config cfg;
    ust_stack_config_init(&cfg);
    cfg.arp_cache_size = 4;
    struct tn_env env;
    tn_setup_cfg(&env, &cfg);
    tn_clear(&env);
    for (unsigned i = 0; i < 6; i++) {
        uint8_t mac[6] = { 0x02, 0, 0, 0, 1, (uint8_t)i };
        uint8_t f[64];
        size_t n = tn_arp_frame(f, tn_bcast_mac, UST_ARP_REQUEST, mac, 0x0a000010u + i, zero_mac, TN_ADDR);
        tn_inject(&env, f, n);
        tn_poll(&env, UST_NSEC_PER_MSEC);
    }
    assert_int_equal(env.stack->net.arp_count, 4);
    assert_int_equal(TN_STAT(&env, ARP, CacheEvictions), 2);
    int st;
    arp_state(&env, 0x0a000010u, &st, NULL);
    assert_int_equal(st, UST_ARP_NONE);
    arp_state(&env, 0x0a000011u, &st, NULL);
    assert_int_equal(st, UST_ARP_NONE);
    for (unsigned i = 2; i < 6; i++) {
        arp_state(&env, 0x0a000010u + i, &st, NULL);
        assert_int_equal(st, UST_ARP_REACHABLE);
    }
    /* Resolutions evict too, and their dropped packets are counted. */
    for (unsigned i = 0; i < 5; i++)
        assert_int_equal(tn_output(&env, 0x0a000020u + i, 253, 10, false), 0);
    assert_int_equal(env.stack->net.arp_count, 4);
    assert_int_equal(TN_STAT(&env, ARP, PendingDrops), 1);
    tn_teardown(&env);
}

static void malformed_and_invalid_arp_is_counted_and_dropped(void **unused)
{
    struct tn_env env;
    tn_setup(&env);
    uint8_t f[64];
    size_t n;
    uint64_t errs = 0;

    /* Truncated: 27 bytes of ARP. */
    n = tn_arp_frame(f, tn_bcast_mac, UST_ARP_REQUEST, tn_peer_mac, TN_PEER, zero_mac, TN_ADDR);
    tn_inject(&env, f, n - 1);
    assert_int_equal(TN_STAT(&env, ARP, InErrors), ++errs);
    /* Hardware type 6 (IEEE 802). */
    n = tn_arp_frame(f, tn_bcast_mac, UST_ARP_REQUEST, tn_peer_mac, TN_PEER, zero_mac, TN_ADDR);
    f[UST_ETH_HLEN + 1] = 6;
    tn_inject(&env, f, n);
    assert_int_equal(TN_STAT(&env, ARP, InErrors), ++errs);
    /* Opcode 3 (RARP request). */
    n = tn_arp_frame(f, tn_bcast_mac, 3, tn_peer_mac, TN_PEER, zero_mac, TN_ADDR);
    tn_inject(&env, f, n);
    assert_int_equal(TN_STAT(&env, ARP, InErrors), ++errs);
    /* Sender hardware address broadcast, multicast, zero, or ours. */
    n = tn_arp_frame(f, tn_bcast_mac, UST_ARP_REQUEST, tn_bcast_mac, TN_PEER, zero_mac, TN_ADDR);
    tn_inject(&env, f, n);
    assert_int_equal(TN_STAT(&env, ARP, InErrors), ++errs);
    static const uint8_t mcast[6] = { 0x01, 0x00, 0x5e, 0, 0, 1 };
    n = tn_arp_frame(f, tn_bcast_mac, UST_ARP_REQUEST, mcast, TN_PEER, zero_mac, TN_ADDR);
    tn_inject(&env, f, n);
    assert_int_equal(TN_STAT(&env, ARP, InErrors), ++errs);
    n = tn_arp_frame(f, tn_bcast_mac, UST_ARP_REQUEST, zero_mac, TN_PEER, zero_mac, TN_ADDR);
    tn_inject(&env, f, n);
    assert_int_equal(TN_STAT(&env, ARP, InErrors), ++errs);
    n = tn_arp_frame(f, tn_bcast_mac, UST_ARP_REQUEST, tn_mac, TN_PEER, zero_mac, TN_ADDR);
    tn_inject(&env, f, n);
    assert_int_equal(TN_STAT(&env, ARP, InErrors), ++errs);
    /* Sender protocol address multicast, broadcast, loopback, or ours. */
    const uint32_t bad_spa[] = { 0xe0000001u, 0xffffffffu, TN_BCAST, 0x7f000001u, TN_ADDR };
    for (size_t i = 0; i < UST_ARRAY_SIZE(bad_spa); i++) {
        n = tn_arp_frame(f, tn_bcast_mac, UST_ARP_REQUEST, tn_peer_mac, bad_spa[i], zero_mac, TN_ADDR);
        tn_inject(&env, f, n);
        assert_int_equal(TN_STAT(&env, ARP, InErrors), ++errs);
    }
    /* Target 127.0.0.1 (Linux never answers for loopback addresses). */
    n = tn_arp_frame(f, tn_bcast_mac, UST_ARP_REQUEST, tn_peer_mac, TN_PEER, zero_mac, 0x7f000001u);
    tn_inject(&env, f, n);
    assert_int_equal(TN_STAT(&env, ARP, InErrors), ++errs);

    assert_int_equal(env.nframes, 0);
    assert_int_equal(env.stack->net.arp_count, 0);
    assert_int_equal(TN_STAT(&env, ARP, InRequests), 0);
    tn_assert_no_leak(&env);
    tn_teardown(&env);
}

static void link_padding_after_arp_is_ignored(void **unused)
{
    struct tn_env env;
    tn_setup(&env);
    uint8_t f[64] = { 0 };
    tn_arp_frame(f, tn_bcast_mac, UST_ARP_REQUEST, tn_peer_mac, TN_PEER, zero_mac, TN_ADDR);
    tn_inject(&env, f, 60);     /* minimum Ethernet frame: 18 bytes of padding */
    assert_int_equal(TN_STAT(&env, ARP, OutReplies), 1);
    tn_assert_no_leak(&env);
    tn_teardown(&env);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(gratuitous_arp_announces_address_when_set),
        cmocka_unit_test(request_for_our_address_gets_reply_and_teaches_sender),
        cmocka_unit_test(request_for_other_address_is_not_answered_nor_learned),
        cmocka_unit_test(unsolicited_reply_creates_no_entry),
        cmocka_unit_test(probe_with_zero_sender_is_answered_but_not_learned),
        cmocka_unit_test(resolution_queues_packets_then_sends_them_to_learned_mac),
        cmocka_unit_test(pending_queue_is_bounded_and_drops_oldest),
        cmocka_unit_test(unanswered_resolution_retransmits_then_gives_up),
        cmocka_unit_test(entry_ages_to_stale_and_is_reprobed_by_unicast),
        cmocka_unit_test(probe_answered_makes_entry_reachable_again),
        cmocka_unit_test(stale_unused_entry_is_removed),
        cmocka_unit_test(learned_mac_is_updated_by_newer_request),
        cmocka_unit_test(cache_is_bounded_and_evicts_least_recently_confirmed),
        cmocka_unit_test(malformed_and_invalid_arp_is_counted_and_dropped),
        cmocka_unit_test(link_padding_after_arp_is_ignored),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
