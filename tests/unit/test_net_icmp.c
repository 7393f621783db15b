/* ICMP (RFC 792, RFC 1122 3.2.2): echo replies (small, large and
 * fragmented), protocol unreachable, the rules about when never to send an
 * error, the quote length, the rate limit, and malformed messages. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <netinet/in.h>
#include <sys/socket.h>

#include "net_test_util.h"

#define ECHO_REST(id, seq) (((uint32_t)(id) << 16) | (seq))

/* Checks frame i is an ICMP message from us to the peer and returns it. */
static void sent_icmp(struct tn_env *env, size_t i, struct ust_ipv4_hdr *ih, struct ust_icmp_hdr *h,
                      const uint8_t **p, size_t *len)
{
    struct ust_eth_hdr eh;
    assert_true(tn_sent_ipv4(env, i, &eh, ih, p, len));
    assert_memory_equal(eh.dst, tn_peer_mac, 6);
    assert_int_equal(ih->proto, UST_IPPROTO_ICMP);
    assert_int_equal(ih->src, TN_ADDR);
    assert_int_equal(ih->dst, TN_PEER);
    assert_int_equal(ust_icmp_parse(*p, *len, h), UST_ICMP_HLEN);   /* checksum verified */
}

static void echo_request_gets_reply_with_same_id_seq_and_data(void **unused)
{
    struct tn_env env;
    tn_setup(&env);
    tn_peer_arp(&env);
    uint8_t msg[128], f[256];
    size_t m = tn_icmp_msg(msg, UST_ICMP_ECHO, 0, ECHO_REST(0x1234, 7), 56);
    struct tn_ip ip = { .proto = UST_IPPROTO_ICMP, .id = 99 };
    size_t n = tn_ip_frame(f, &ip, msg, m);
    tn_inject(&env, f, n);

    assert_int_equal(env.nframes, 1);
    struct ust_ipv4_hdr ih;
    struct ust_icmp_hdr h;
    const uint8_t *p;
    size_t len;
    sent_icmp(&env, 0, &ih, &h, &p, &len);
    assert_int_equal(h.type, UST_ICMP_ECHO_REPLY);
    assert_int_equal(h.code, 0);
    assert_int_equal(ust_icmp_echo_id(&h), 0x1234);
    assert_int_equal(ust_icmp_echo_seq(&h), 7);
    assert_int_equal(len, m);
    assert_memory_equal(p + UST_ICMP_HLEN, msg + UST_ICMP_HLEN, 56);
    assert_int_equal(ih.ttl, 64);
    assert_int_equal(TN_STAT(&env, ICMP, InEchos), 1);
    assert_int_equal(TN_STAT(&env, ICMP, OutEchoReps), 1);
    assert_int_equal(TN_STAT(&env, IP, InDelivers), 1);
    tn_assert_no_leak(&env);
    tn_teardown(&env);
}

static void echo_request_in_padded_frame_gets_reply_without_padding(void **unused)
{
    struct tn_env env;
    tn_setup(&env);
    tn_peer_arp(&env);
    uint8_t msg[64], f[64] = { 0 };
    size_t m = tn_icmp_msg(msg, UST_ICMP_ECHO, 0, ECHO_REST(1, 1), 4);
    struct tn_ip ip = { .proto = UST_IPPROTO_ICMP };
    size_t n = tn_ip_frame(f, &ip, msg, m);
    assert_true(n < 60);
    tn_inject(&env, f, 60);
    assert_int_equal(env.nframes, 1);
    struct ust_ipv4_hdr ih;
    struct ust_icmp_hdr h;
    const uint8_t *p;
    size_t len;
    sent_icmp(&env, 0, &ih, &h, &p, &len);
    assert_int_equal(len, m);
    tn_teardown(&env);
}

/* 4000 bytes of echo data in three fragments, sent last first: reassembled,
 * answered, and the reply fragmented to the 1500-byte MTU. */
static void fragmented_echo_request_is_reassembled_and_reply_fragmented(void **unused)
{
    struct tn_env env;
    tn_setup(&env);
    tn_peer_arp(&env);
    enum { DATA = 4000 };
    static uint8_t msg[UST_ICMP_HLEN + DATA];
    size_t m = tn_icmp_msg(msg, UST_ICMP_ECHO, 0, ECHO_REST(77, 3), DATA);
    const size_t chunk = 1480;
    uint8_t f[1600];
    for (int k = 2; k >= 0; k--) {
        size_t off = (size_t)k * chunk;
        size_t len = UST_MIN(chunk, m - off);
        uint16_t frag = (uint16_t)(off / 8) | (off + len < m ? UST_IP_MF : 0);
        struct tn_ip ip = { .proto = UST_IPPROTO_ICMP, .id = 0x4242, .frag = frag };
        size_t n = tn_ip_frame(f, &ip, msg + off, len);
        tn_inject(&env, f, n);
    }
    assert_int_equal(TN_STAT(&env, IP, ReasmReqds), 3);
    assert_int_equal(TN_STAT(&env, IP, ReasmOKs), 1);
    assert_int_equal(env.nframes, 3);

    /* Put the reply back together from what was sent. */
    static uint8_t reply[UST_ICMP_HLEN + DATA];
    size_t total = 0;
    uint16_t id = 0;
    for (size_t i = 0; i < 3; i++) {
        struct ust_eth_hdr eh;
        struct ust_ipv4_hdr ih;
        const uint8_t *p;
        size_t len;
        assert_true(tn_sent_ipv4(&env, i, &eh, &ih, &p, &len));
        assert_true(ih.total_len <= env.nif->mtu);
        assert_int_equal(ih.proto, UST_IPPROTO_ICMP);
        if (i == 0)
            id = ih.id;
        assert_int_equal(ih.id, id);
        assert_int_equal(ust_ipv4_frag_offset(&ih), i * 1480);
        assert_int_equal(ust_ipv4_more_frags(&ih), i < 2);
        memcpy(reply + ust_ipv4_frag_offset(&ih), p, len);
        total += len;
    }
    assert_int_equal(total, m);
    struct ust_icmp_hdr h;
    assert_int_equal(ust_icmp_parse(reply, m, &h), UST_ICMP_HLEN);
    assert_int_equal(h.type, UST_ICMP_ECHO_REPLY);
    assert_int_equal(ust_icmp_echo_id(&h), 77);
    assert_int_equal(ust_icmp_echo_seq(&h), 3);
    assert_memory_equal(reply + UST_ICMP_HLEN, msg + UST_ICMP_HLEN, DATA);
    assert_int_equal(TN_STAT(&env, IP, FragOKs), 1);
    assert_int_equal(TN_STAT(&env, IP, FragCreates), 3);
    tn_assert_no_leak(&env);
    tn_teardown(&env);
}

static void echo_to_broadcast_is_ignored(void **unused)
{
    struct tn_env env;
    tn_setup(&env);
    tn_peer_arp(&env);
    uint8_t msg[64], f[128];
    size_t m = tn_icmp_msg(msg, UST_ICMP_ECHO, 0, ECHO_REST(1, 1), 8);
    struct tn_ip ip = { .eth_dst = tn_bcast_mac, .dst = TN_BCAST, .proto = UST_IPPROTO_ICMP };
    tn_inject(&env, f, tn_ip_frame(f, &ip, msg, m));
    ip.dst = 0xffffffffu;
    tn_inject(&env, f, tn_ip_frame(f, &ip, msg, m));
    assert_int_equal(TN_STAT(&env, ICMP, InEchos), 2);
    assert_int_equal(TN_STAT(&env, IP, InDelivers), 2);    /* accepted, then ignored */
    assert_int_equal(env.nframes, 0);
    tn_assert_no_leak(&env);
    tn_teardown(&env);
}

static void unknown_protocol_gets_protocol_unreachable_quoting_datagram(void **unused)
{
    struct tn_env env;
    tn_setup(&env);
    tn_peer_arp(&env);
    uint8_t payload[32], f[128];
    memset(payload, 0xab, sizeof(payload));
    struct tn_ip ip = { .proto = 200, .id = 5 };
    size_t n = tn_ip_frame(f, &ip, payload, sizeof(payload));
    tn_inject(&env, f, n);

    assert_int_equal(TN_STAT(&env, IP, InUnknownProtos), 1);
    assert_int_equal(TN_STAT(&env, IP, InDelivers), 0);
    assert_int_equal(env.nframes, 1);
    struct ust_ipv4_hdr ih;
    struct ust_icmp_hdr h;
    const uint8_t *p;
    size_t len;
    sent_icmp(&env, 0, &ih, &h, &p, &len);
    assert_int_equal(h.type, UST_ICMP_DEST_UNREACH);
    assert_int_equal(h.code, UST_ICMP_PROT_UNREACH);
    /* The whole offending datagram fits: header + 32 bytes quoted. */
    assert_int_equal(len, UST_ICMP_HLEN + UST_IPV4_MIN_HLEN + sizeof(payload));
    assert_memory_equal(p + UST_ICMP_HLEN, f + UST_ETH_HLEN, UST_IPV4_MIN_HLEN + sizeof(payload));
    assert_int_equal(TN_STAT(&env, ICMP, OutDestUnreachs), 1);
    tn_assert_no_leak(&env);
    tn_teardown(&env);
}

static void error_quotes_as_much_as_fits_in_576_bytes(void **unused)
{
    struct tn_env env;
    tn_setup(&env);
    tn_peer_arp(&env);
    static uint8_t payload[1400], f[1500];
    struct tn_ip ip = { .proto = 200 };
    tn_inject(&env, f, tn_ip_frame(f, &ip, payload, sizeof(payload)));
    assert_int_equal(env.nframes, 1);
    struct ust_ipv4_hdr ih;
    struct ust_icmp_hdr h;
    const uint8_t *p;
    size_t len;
    sent_icmp(&env, 0, &ih, &h, &p, &len);
    assert_int_equal(ih.total_len, 576);
    assert_int_equal(len, 576 - UST_IPV4_MIN_HLEN);
    tn_teardown(&env);
}

/* Calls ust_icmp_send_error about a datagram built from `h` and `l4`. */
static void send_error_about(struct tn_env *env, const struct ust_ipv4_hdr *h, const uint8_t *l4,
                             size_t l4_len, uint32_t fb_flags)
{
    struct ust_fbuf *fb = ust_fbuf_alloc(env->stack, 128);
    struct ust_ipv4_hdr hh = *h;
    hh.total_len = (uint16_t)(UST_IPV4_MIN_HLEN + l4_len);
    uint8_t *p = ust_fbuf_put(fb, UST_IPV4_MIN_HLEN + l4_len);
    ust_ipv4_emit(p, UST_IPV4_MIN_HLEN, &hh);
    memcpy(p + UST_IPV4_MIN_HLEN, l4, l4_len);
    fb->l3 = p;
    fb->flags = fb_flags;
    fb->netif = env->nif;
    ust_fbuf_pull(fb, UST_IPV4_MIN_HLEN);
    ust_rt_lock(env->stack);
    ust_icmp_send_error(env->stack, fb, UST_ICMP_DEST_UNREACH, UST_ICMP_PORT_UNREACH, 0);
    ust_rt_unlock(env->stack);
    ust_fbuf_free(env->stack, fb);
}

/* RFC 1122 3.2.2: no error about a link-layer broadcast, an IP broadcast or
 * multicast, a non-initial fragment, an ICMP error, or a datagram whose
 * source is not a unicast host. */
static void no_error_where_rfc1122_forbids_one(void **unused)
{
    struct tn_env env;
    tn_setup(&env);
    tn_peer_arp(&env);
    uint8_t l4[16] = { 0 };
    const struct ust_ipv4_hdr ok = { .ttl = 64, .proto = UST_IPPROTO_UDP, .src = TN_PEER, .dst = TN_ADDR };
    struct ust_ipv4_hdr h;

    send_error_about(&env, &ok, l4, sizeof(l4), UST_FB_BROADCAST);
    const uint32_t bad_dst[] = { TN_BCAST, 0xffffffffu, 0xe0000001u };
    for (size_t i = 0; i < UST_ARRAY_SIZE(bad_dst); i++) {
        h = ok;
        h.dst = bad_dst[i];
        send_error_about(&env, &h, l4, sizeof(l4), 0);
    }
    const uint32_t bad_src[] = { 0, 0x00000005u, TN_BCAST, 0xffffffffu, 0xe0000001u, 0xf0000001u };
    for (size_t i = 0; i < UST_ARRAY_SIZE(bad_src); i++) {
        h = ok;
        h.src = bad_src[i];
        send_error_about(&env, &h, l4, sizeof(l4), 0);
    }
    h = ok;
    h.frag = UST_IP_MF | 1;                     /* offset 8 */
    send_error_about(&env, &h, l4, sizeof(l4), 0);
    const uint8_t icmp_errors[] = { UST_ICMP_DEST_UNREACH, UST_ICMP_SOURCE_QUENCH, UST_ICMP_REDIRECT,
                                    UST_ICMP_TIME_EXCEEDED, UST_ICMP_PARAM_PROB, 200 };
    h = ok;
    h.proto = UST_IPPROTO_ICMP;
    for (size_t i = 0; i < UST_ARRAY_SIZE(icmp_errors); i++) {
        l4[0] = icmp_errors[i];
        send_error_about(&env, &h, l4, sizeof(l4), 0);
    }
    assert_int_equal(env.nframes, 0);
    assert_int_equal(TN_STAT(&env, ICMP, OutMsgs), 0);

    /* The same with nothing wrong: first fragment, ICMP query, UDP. */
    l4[0] = UST_ICMP_ECHO;
    send_error_about(&env, &h, l4, sizeof(l4), 0);
    h = ok;
    h.frag = UST_IP_MF;
    send_error_about(&env, &h, l4, sizeof(l4), 0);
    send_error_about(&env, &ok, l4, sizeof(l4), 0);
    assert_int_equal(env.nframes, 3);
    tn_assert_no_leak(&env);
    tn_teardown(&env);
}

/* 2000 triggers at one instant: exactly `burst` errors, the rest counted as
 * rate limited; a second later, icmp_ratelimit_per_s more are allowed. */
static void error_rate_limit_is_a_token_bucket(void **unused)
{
    struct tn_env env;
    tn_setup(&env);
    tn_peer_arp(&env);
    unsigned burst = env.stack->cfg.icmp_ratelimit_burst;
    uint8_t payload[8] = { 0 }, f[128];
    struct tn_ip ip = { .proto = 200 };
    size_t n = tn_ip_frame(f, &ip, payload, sizeof(payload));
    for (int i = 0; i < 2000; i++)
        tn_inject(&env, f, n);
    assert_int_equal(env.nframes, burst);
    assert_int_equal(TN_STAT(&env, ICMP, OutRateLimited), 2000 - burst);

    /* Echo replies are not limited. */
    uint8_t msg[64];
    size_t m = tn_icmp_msg(msg, UST_ICMP_ECHO, 0, ECHO_REST(1, 1), 8);
    struct tn_ip eip = { .proto = UST_IPPROTO_ICMP };
    size_t en = tn_ip_frame(f, &eip, msg, m);
    for (int i = 0; i < 10; i++)
        tn_inject(&env, f, en);
    assert_int_equal(env.nframes, burst + 10);

    /* 10 ms refill 10 tokens at 1000/s. */
    tn_clear(&env);
    tn_poll(&env, 10 * UST_NSEC_PER_MSEC);
    n = tn_ip_frame(f, &ip, payload, sizeof(payload));
    for (int i = 0; i < 100; i++)
        tn_inject(&env, f, n);
    assert_int_equal(env.nframes, 10);
    tn_assert_no_leak(&env);
    tn_teardown(&env);
}

static void bad_icmp_checksum_and_truncated_messages_are_counted(void **unused)
{
    struct tn_env env;
    tn_setup(&env);
    tn_peer_arp(&env);
    uint8_t msg[64], f[128];
    size_t m = tn_icmp_msg(msg, UST_ICMP_ECHO, 0, ECHO_REST(1, 1), 8);
    msg[10] ^= 0xff;
    struct tn_ip ip = { .proto = UST_IPPROTO_ICMP };
    tn_inject(&env, f, tn_ip_frame(f, &ip, msg, m));
    assert_int_equal(TN_STAT(&env, ICMP, InCsumErrors), 1);
    assert_int_equal(TN_STAT(&env, ICMP, InErrors), 1);
    tn_inject(&env, f, tn_ip_frame(f, &ip, msg, 4));   /* 4-byte ICMP message */
    assert_int_equal(TN_STAT(&env, ICMP, InErrors), 2);

    /* A destination unreachable whose quote is too short to use. */
    uint8_t err[64] = { 0 };
    struct ust_icmp_hdr h = { .type = UST_ICMP_DEST_UNREACH, .code = UST_ICMP_PORT_UNREACH };
    ust_icmp_emit(err, sizeof(err), &h, 12);
    tn_inject(&env, f, tn_ip_frame(f, &ip, err, UST_ICMP_HLEN + 12));
    assert_int_equal(TN_STAT(&env, ICMP, InDestUnreachs), 1);
    assert_int_equal(TN_STAT(&env, ICMP, InErrors), 3);
    assert_int_equal(env.nframes, 0);
    tn_assert_no_leak(&env);
    tn_teardown(&env);
}

static void echo_reply_without_ping_socket_is_discarded(void **unused)
{
    struct tn_env env;
    tn_setup(&env);
    uint8_t msg[64], f[128];
    size_t m = tn_icmp_msg(msg, UST_ICMP_ECHO_REPLY, 0, ECHO_REST(9, 9), 8);
    struct tn_ip ip = { .proto = UST_IPPROTO_ICMP };
    tn_inject(&env, f, tn_ip_frame(f, &ip, msg, m));
    assert_int_equal(TN_STAT(&env, ICMP, InEchoReps), 1);
    assert_int_equal(TN_STAT(&env, IP, InDiscards), 1);
    tn_assert_no_leak(&env);
    tn_teardown(&env);
}

/* An echo request to our own address from inside the stack goes over the
 * loopback, and its reply comes back the same way: nothing on test0. */
static void echo_to_own_address_uses_loopback(void **unused)
{
    struct tn_env env;
    tn_setup(&env);
    struct ust_fbuf *fb = ust_fbuf_alloc(env.stack, 64);
    size_t m = tn_icmp_msg(ust_fbuf_put(fb, 16), UST_ICMP_ECHO, 0, ECHO_REST(3, 4), 8);
    assert_int_equal(m, 16);
    struct ust_ip_out o = { .dst = TN_ADDR, .proto = UST_IPPROTO_ICMP };
    ust_rt_lock(env.stack);
    assert_int_equal(ust_ipv4_output(env.stack, fb, &o), 0);
    ust_rt_unlock(env.stack);
    tn_poll(&env, 0);
    tn_poll(&env, 0);
    assert_int_equal(TN_STAT(&env, ICMP, InEchos), 1);
    assert_int_equal(TN_STAT(&env, ICMP, InEchoReps), 1);
    assert_int_equal(env.nframes, 0);
    tn_assert_no_leak(&env);
    tn_teardown(&env);
}

/* An error about a datagram a connected UDP socket sent reaches it with
 * Linux's errno (port unreachable -> ECONNREFUSED, protocol unreachable ->
 * ENOPROTOOPT); the quote is matched by the UDP ports. */
static void icmp_errors_reach_the_connected_udp_socket(void **unused)
{
    const struct { uint8_t code; int err; } cases[] = {
        { UST_ICMP_PORT_UNREACH, ECONNREFUSED },
        { UST_ICMP_PROT_UNREACH, ENOPROTOOPT },
    };
    for (size_t c = 0; c < UST_ARRAY_SIZE(cases); c++) {
        struct tn_env env;
        tn_setup(&env);
        tn_peer_arp(&env);
        int fd = ust_socket(env.stack, AF_INET, SOCK_DGRAM, 0);
        assert_true(fd >= 0);
        struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(9999),
                                   .sin_addr = { htonl(TN_PEER) } };
        assert_int_equal(ust_connect(env.stack, fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
        assert_int_equal(ust_send(env.stack, fd, "hello", 5, 0), 5);
        assert_int_equal(env.nframes, 1);
        const struct tn_frame *sent = &env.frames[0];
        const size_t ip_len = sent->len - UST_ETH_HLEN;

        uint8_t msg[128], f[256];
        memcpy(msg + UST_ICMP_HLEN, sent->data + UST_ETH_HLEN, ip_len);
        struct ust_icmp_hdr h = { .type = UST_ICMP_DEST_UNREACH, .code = cases[c].code };
        ust_icmp_emit(msg, sizeof(msg), &h, ip_len);
        struct tn_ip ip = { .proto = UST_IPPROTO_ICMP };
        tn_inject(&env, f, tn_ip_frame(f, &ip, msg, UST_ICMP_HLEN + ip_len));
        assert_int_equal(TN_STAT(&env, ICMP, InDestUnreachs), 1);

        char buf[16];
        errno = 0;
        assert_int_equal(ust_recv(env.stack, fd, buf, sizeof(buf), MSG_DONTWAIT), -1);
        assert_int_equal(errno, cases[c].err);
        assert_int_equal(ust_close(env.stack, fd), 0);
        tn_assert_no_leak(&env);
        tn_teardown(&env);
    }
}

/* A UDP datagram to a port nobody listens on: port unreachable, quoting it. */
static void udp_to_closed_port_gets_port_unreachable(void **unused)
{
    struct tn_env env;
    tn_setup(&env);
    tn_peer_arp(&env);
    uint8_t udp[16], f[128];
    struct ust_udp_hdr uh = { .sport = 4000, .dport = 4001, .len = sizeof(udp) };
    memset(udp + UST_UDP_HLEN, 0x33, sizeof(udp) - UST_UDP_HLEN);
    ust_udp_emit(udp, sizeof(udp), &uh, TN_PEER, TN_ADDR);
    struct tn_ip ip = { .proto = UST_IPPROTO_UDP };
    size_t n = tn_ip_frame(f, &ip, udp, sizeof(udp));
    tn_inject(&env, f, n);
    assert_int_equal(TN_STAT(&env, IP, InDelivers), 1);
    assert_int_equal(env.nframes, 1);
    struct ust_ipv4_hdr ih;
    struct ust_icmp_hdr h;
    const uint8_t *p;
    size_t len;
    sent_icmp(&env, 0, &ih, &h, &p, &len);
    assert_int_equal(h.type, UST_ICMP_DEST_UNREACH);
    assert_int_equal(h.code, UST_ICMP_PORT_UNREACH);
    assert_int_equal(len, UST_ICMP_HLEN + n - UST_ETH_HLEN);
    assert_memory_equal(p + UST_ICMP_HLEN, f + UST_ETH_HLEN, n - UST_ETH_HLEN);
    tn_assert_no_leak(&env);
    tn_teardown(&env);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(echo_request_gets_reply_with_same_id_seq_and_data),
        cmocka_unit_test(echo_request_in_padded_frame_gets_reply_without_padding),
        cmocka_unit_test(fragmented_echo_request_is_reassembled_and_reply_fragmented),
        cmocka_unit_test(echo_to_broadcast_is_ignored),
        cmocka_unit_test(unknown_protocol_gets_protocol_unreachable_quoting_datagram),
        cmocka_unit_test(error_quotes_as_much_as_fits_in_576_bytes),
        cmocka_unit_test(no_error_where_rfc1122_forbids_one),
        cmocka_unit_test(error_rate_limit_is_a_token_bucket),
        cmocka_unit_test(bad_icmp_checksum_and_truncated_messages_are_counted),
        cmocka_unit_test(echo_reply_without_ping_socket_is_discarded),
        cmocka_unit_test(echo_to_own_address_uses_loopback),
        cmocka_unit_test(icmp_errors_reach_the_connected_udp_socket),
        cmocka_unit_test(udp_to_closed_port_gets_port_unreachable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
