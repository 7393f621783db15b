/* IPv4 reassembly: any arrival order, duplicates, overlaps, timeouts (with
 * and without ICMP time exceeded), the memory and queue bounds, oversized
 * and inconsistent datagrams. Datagrams are ICMP echo requests, so a
 * completed one is visible as an echo reply on the wire. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "net_test_util.h"

#define ECHO_REST(id, seq) (((uint32_t)(id) << 16) | (seq))

static uint8_t dgram[70000];

/* An echo request with `data` bytes in dgram; returns the ICMP length. */
static size_t make_echo(size_t data, uint16_t seq)
{
    return tn_icmp_msg(dgram, UST_ICMP_ECHO, 0, ECHO_REST(1, seq), data);
}

/* Injects bytes [off, off+len) of dgram as a fragment of datagram `id`. */
static void frag(struct tn_env *env, uint16_t id, size_t off, size_t len, bool more)
{
    static uint8_t f[UST_ETH_HLEN + UST_IPV4_MIN_HLEN + 65536];
    uint16_t fr = (uint16_t)((off / 8) | (more ? UST_IP_MF : 0));
    struct tn_ip ip = { .proto = UST_IPPROTO_ICMP, .id = id, .frag = fr };
    tn_inject(env, f, tn_ip_frame(f, &ip, dgram + off, len));
}

/* Datagrams sent: IPv4 frames that start a datagram (offset 0). */
static size_t echo_replies(struct tn_env *env)
{
    size_t n = 0;
    for (size_t i = 0; i < env->nframes; i++) {
        struct ust_eth_hdr eh;
        struct ust_ipv4_hdr ih;
        const uint8_t *p;
        size_t len;
        if (tn_sent_ipv4(env, i, &eh, &ih, &p, &len) && ust_ipv4_frag_offset(&ih) == 0)
            n++;
    }
    return n;
}

static void fragments_in_any_order_are_reassembled(void **unused)
{
    struct tn_env env;
    tn_setup(&env);
    tn_peer_arp(&env);
    size_t m = make_echo(1992, 1);      /* 2000 bytes: 5 fragments of 400 */
    const int order[][5] = { { 0, 1, 2, 3, 4 }, { 4, 3, 2, 1, 0 }, { 2, 0, 4, 1, 3 }, { 3, 4, 0, 2, 1 } };
    for (size_t o = 0; o < UST_ARRAY_SIZE(order); o++) {
        for (int k = 0; k < 5; k++) {
            size_t i = (size_t)order[o][k];
            frag(&env, (uint16_t)(10 + o), i * 400, 400, i < 4);
        }
    }
    assert_int_equal(m, 2000);
    assert_int_equal(TN_STAT(&env, IP, ReasmOKs), 4);
    assert_int_equal(TN_STAT(&env, IP, ReasmReqds), 20);
    assert_int_equal(echo_replies(&env), 4);
    assert_int_equal(TN_STAT(&env, ICMP, InEchos), 4);
    assert_int_equal(env.stack->net.ipq_count, 0);
    assert_int_equal(env.stack->net.ipq_mem, 0);
    tn_assert_no_leak(&env);
    tn_teardown(&env);
}

static void exact_duplicate_is_dropped_and_datagram_still_completes(void **unused)
{
    struct tn_env env;
    tn_setup(&env);
    tn_peer_arp(&env);
    make_echo(792, 1);
    frag(&env, 1, 0, 400, true);
    frag(&env, 1, 0, 400, true);        /* duplicate */
    frag(&env, 1, 400, 400, false);
    assert_int_equal(TN_STAT(&env, IP, ReasmOKs), 1);
    assert_int_equal(TN_STAT(&env, IP, ReasmFails), 0);
    assert_int_equal(TN_STAT(&env, IP, ReasmOverlaps), 0);
    assert_int_equal(echo_replies(&env), 1);
    tn_assert_no_leak(&env);
    tn_teardown(&env);
}

static void overlapping_fragments_drop_the_whole_datagram(void **unused)
{
    struct tn_env env;
    tn_setup(&env);
    tn_peer_arp(&env);
    make_echo(1192, 1);
    /* Overlap with the previous fragment's tail. */
    frag(&env, 1, 0, 400, true);
    frag(&env, 1, 392, 400, true);
    assert_int_equal(TN_STAT(&env, IP, ReasmOverlaps), 1);
    assert_int_equal(TN_STAT(&env, IP, ReasmFails), 1);
    assert_int_equal(env.stack->net.ipq_count, 0);
    /* The rest arriving later starts over and never completes the datagram. */
    frag(&env, 1, 400, 400, true);
    frag(&env, 1, 800, 400, false);
    assert_int_equal(TN_STAT(&env, IP, ReasmOKs), 0);

    /* Overlap with the next fragment's head, and one covering another. */
    frag(&env, 2, 400, 400, true);
    frag(&env, 2, 0, 408, true);
    assert_int_equal(TN_STAT(&env, IP, ReasmOverlaps), 2);
    frag(&env, 3, 400, 16, true);
    frag(&env, 3, 0, 800, true);
    assert_int_equal(TN_STAT(&env, IP, ReasmOverlaps), 3);
    /* Same offset, different length: an overlap, not a duplicate. */
    frag(&env, 4, 0, 400, true);
    frag(&env, 4, 0, 800, true);
    assert_int_equal(TN_STAT(&env, IP, ReasmOverlaps), 4);
    assert_int_equal(echo_replies(&env), 0);

    tn_poll(&env, env.stack->cfg.ipfrag_time_ns);
    assert_int_equal(env.stack->net.ipq_count, 0);
    tn_assert_no_leak(&env);
    tn_teardown(&env);
}

/* Linux: time exceeded (fragment reassembly) only if fragment 0 arrived. */
static void incomplete_datagram_times_out_and_frees_its_memory(void **unused)
{
    struct ust_stack_config cfg;
    ust_stack_config_init(&cfg);
    cfg.arp_reachable_ns = 3600 * UST_NSEC_PER_SEC;    /* no ARP probe in the way */
    struct tn_env env;
    tn_setup_cfg(&env, &cfg);
    tn_peer_arp(&env);
    make_echo(1192, 1);
    frag(&env, 1, 0, 400, true);        /* has fragment 0 */
    frag(&env, 1, 800, 400, false);
    frag(&env, 2, 400, 400, true);      /* has not */
    assert_int_equal(env.stack->net.ipq_count, 2);
    assert_true(env.stack->fbpool.in_use_bytes > env.baseline);

    tn_poll(&env, env.stack->cfg.ipfrag_time_ns - 1);
    assert_int_equal(TN_STAT(&env, IP, ReasmTimeout), 0);
    tn_poll(&env, 1);
    assert_int_equal(TN_STAT(&env, IP, ReasmTimeout), 2);
    assert_int_equal(TN_STAT(&env, IP, ReasmFails), 2);
    assert_int_equal(env.stack->net.ipq_count, 0);
    assert_int_equal(env.stack->net.ipq_mem, 0);

    assert_int_equal(env.nframes, 1);
    struct ust_eth_hdr eh;
    struct ust_ipv4_hdr ih;
    const uint8_t *p;
    size_t len;
    assert_true(tn_sent_ipv4(&env, 0, &eh, &ih, &p, &len));
    struct ust_icmp_hdr h;
    assert_int_equal(ust_icmp_parse(p, len, &h), UST_ICMP_HLEN);
    assert_int_equal(h.type, UST_ICMP_TIME_EXCEEDED);
    assert_int_equal(h.code, UST_ICMP_EXC_FRAGTIME);
    /* It quotes fragment 0 whole: its header (id 1, MF) and 400 bytes. */
    struct ust_ipv4_hdr q;
    assert_int_equal(len, UST_ICMP_HLEN + UST_IPV4_MIN_HLEN + 400);
    assert_int_equal(ust_ipv4_parse(p + UST_ICMP_HLEN, len - UST_ICMP_HLEN, &q), UST_IPV4_MIN_HLEN);
    assert_int_equal(q.id, 1);
    assert_int_equal(q.frag, UST_IP_MF);
    tn_assert_no_leak(&env);
    tn_teardown(&env);
}

/* Fragment 0 of an ICMP error that never completes: no error about it. */
static void no_time_exceeded_about_an_icmp_error(void **unused)
{
    struct tn_env env;
    tn_setup(&env);
    tn_peer_arp(&env);
    tn_icmp_msg(dgram, UST_ICMP_DEST_UNREACH, UST_ICMP_PORT_UNREACH, 0, 800);
    frag(&env, 1, 0, 400, true);
    tn_poll(&env, env.stack->cfg.ipfrag_time_ns);
    assert_int_equal(TN_STAT(&env, IP, ReasmTimeout), 1);
    assert_int_equal(env.nframes, 0);
    tn_assert_no_leak(&env);
    tn_teardown(&env);
}

static void reassembly_memory_is_bounded_by_dropping_oldest_queues(void **unused)
{
    struct ust_stack_config cfg;
    ust_stack_config_init(&cfg);
    cfg.ipfrag_high_thresh = 64 * 1024;
    struct tn_env env;
    tn_setup_cfg(&env, &cfg);
    tn_clear(&env);
    make_echo(1592, 1);
    size_t peak = 0;
    for (uint16_t id = 0; id < 60; id++) {
        frag(&env, id, 0, 800, true);   /* never completed */
        peak = UST_MAX(peak, env.stack->net.ipq_mem);
        assert_true(env.stack->net.ipq_mem <= cfg.ipfrag_high_thresh);
    }
    assert_true(peak > cfg.ipfrag_high_thresh / 2);
    assert_true(TN_STAT(&env, IP, ReasmFails) > 0);
    assert_true(env.stack->net.ipq_count < 60);
    /* The newest datagram survived the pressure and still completes. */
    tn_peer_arp(&env);
    frag(&env, 59, 800, 800, false);
    assert_int_equal(TN_STAT(&env, IP, ReasmOKs), 1);
    tn_poll(&env, cfg.ipfrag_time_ns);
    tn_assert_no_leak(&env);
    tn_teardown(&env);
}

static void number_of_queues_is_bounded(void **unused)
{
    struct tn_env env;
    tn_setup(&env);
    make_echo(1592, 1);
    for (uint16_t id = 0; id < UST_IPQ_MAX + 36; id++)
        frag(&env, id, 0, 800, true);
    assert_int_equal(env.stack->net.ipq_count, UST_IPQ_MAX);
    assert_int_equal(TN_STAT(&env, IP, ReasmFails), 36);
    tn_poll(&env, env.stack->cfg.ipfrag_time_ns);
    assert_int_equal(env.stack->net.ipq_count, 0);
    /* The time-exceeded errors wait for ARP (the peer is unknown) until it gives up. */
    for (int i = 0; i < 5; i++)
        tn_poll(&env, env.stack->cfg.arp_retrans_ns);
    tn_assert_no_leak(&env);
    tn_teardown(&env);
}

static void datagram_over_65535_bytes_is_refused(void **unused)
{
    struct tn_env env;
    tn_setup(&env);
    make_echo(65000, 1);
    frag(&env, 1, 0, 1480, true);
    frag(&env, 1, 65520, 16, false);    /* 20 + 65536 > 65535 */
    assert_int_equal(TN_STAT(&env, IP, ReasmFails), 1);
    assert_int_equal(env.stack->net.ipq_count, 0);
    tn_assert_no_leak(&env);
    tn_teardown(&env);
}

static void largest_datagram_is_reassembled(void **unused)
{
    struct tn_env env;
    tn_setup(&env);
    tn_peer_arp(&env);
    size_t m = make_echo(65515 - UST_ICMP_HLEN, 1);     /* 20 + 65515 = 65535 */
    for (size_t off = 0; off < m; off += 1480)
        frag(&env, 1, off, UST_MIN(1480, m - off), off + 1480 < m);
    assert_int_equal(TN_STAT(&env, IP, ReasmOKs), 1);
    assert_int_equal(TN_STAT(&env, ICMP, OutEchoReps), 1);
    assert_int_equal(echo_replies(&env), 1);
    assert_int_equal(env.nframes, (m + 1479) / 1480);   /* the reply, fragmented */
    tn_assert_no_leak(&env);
    tn_teardown(&env);
}

static void inconsistent_lengths_drop_the_datagram(void **unused)
{
    struct tn_env env;
    tn_setup(&env);
    make_echo(1592, 1);
    /* A "last" fragment ending before data already received. */
    frag(&env, 1, 800, 400, true);
    frag(&env, 1, 400, 400, false);
    assert_int_equal(TN_STAT(&env, IP, ReasmFails), 1);
    /* Two different last fragments. */
    frag(&env, 2, 800, 400, false);
    frag(&env, 2, 1200, 400, false);
    assert_int_equal(TN_STAT(&env, IP, ReasmFails), 2);
    /* Data past the end fixed by the last fragment. */
    frag(&env, 3, 400, 400, false);
    frag(&env, 3, 800, 400, true);
    assert_int_equal(TN_STAT(&env, IP, ReasmFails), 3);
    assert_int_equal(env.stack->net.ipq_count, 0);
    /* A non-last fragment whose length is not a multiple of 8, or empty. */
    uint64_t hdr = TN_STAT(&env, IP, InHdrErrors);
    frag(&env, 4, 0, 401, true);
    frag(&env, 4, 0, 0, true);
    assert_int_equal(TN_STAT(&env, IP, InHdrErrors), hdr + 2);
    assert_int_equal(env.stack->net.ipq_count, 0);
    tn_assert_no_leak(&env);
    tn_teardown(&env);
}

static void fragments_of_different_datagrams_do_not_mix(void **unused)
{
    struct tn_env env;
    tn_setup(&env);
    tn_peer_arp(&env);
    make_echo(792, 1);
    frag(&env, 1, 0, 400, true);
    frag(&env, 2, 400, 400, false);     /* other id */
    assert_int_equal(TN_STAT(&env, IP, ReasmOKs), 0);
    assert_int_equal(env.stack->net.ipq_count, 2);
    frag(&env, 1, 400, 400, false);
    frag(&env, 2, 0, 400, true);
    assert_int_equal(TN_STAT(&env, IP, ReasmOKs), 2);
    assert_int_equal(echo_replies(&env), 2);
    tn_assert_no_leak(&env);
    tn_teardown(&env);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fragments_in_any_order_are_reassembled),
        cmocka_unit_test(exact_duplicate_is_dropped_and_datagram_still_completes),
        cmocka_unit_test(overlapping_fragments_drop_the_whole_datagram),
        cmocka_unit_test(incomplete_datagram_times_out_and_frees_its_memory),
        cmocka_unit_test(no_time_exceeded_about_an_icmp_error),
        cmocka_unit_test(reassembly_memory_is_bounded_by_dropping_oldest_queues),
        cmocka_unit_test(number_of_queues_is_bounded),
        cmocka_unit_test(datagram_over_65535_bytes_is_refused),
        cmocka_unit_test(largest_datagram_is_reassembled),
        cmocka_unit_test(inconsistent_lengths_drop_the_datagram),
        cmocka_unit_test(fragments_of_different_datagrams_do_not_mix),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
