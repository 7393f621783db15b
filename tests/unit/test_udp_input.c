/* UDP input and output on an Ethernet interface, with frames built and
 * inspected by the test (RFC 768, RFC 1122 4.1.3): checksums are verified
 * (bad: InCsumErrors + InErrors, dropped silently; zero: none, accepted) and
 * always sent; the length field is checked against the IP payload (short:
 * InErrors; IP padding beyond it is trimmed); no socket means NoPorts and an
 * ICMP port unreachable quoting the datagram, except for broadcasts; ICMP
 * errors from the peer reach a connected socket as ECONNREFUSED only when
 * hard (port unreachable), and never an unconnected one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "unit/net_test_util.h"
#include "unit/sock_test_util.h"

#define PORT 5000
#define PEER_PORT 40000

/* A UDP datagram from the peer to dst:PORT; csum_mode 0 = right checksum,
 * 1 = zero (none), 2 = corrupted. ulen_delta changes the length field. */
static void inject_udp(struct tn_env *env, uint32_t dst, const void *data, size_t len,
                       int csum_mode, int ulen_delta, const uint8_t *eth_dst)
{
    uint8_t l4[1600], frame[1700];
    memcpy(l4 + UST_UDP_HLEN, data, len);
    struct ust_udp_hdr uh = { .sport = PEER_PORT, .dport = PORT, .len = (uint16_t)(UST_UDP_HLEN + len) };
    ust_udp_emit(l4, sizeof(l4), &uh, TN_PEER, dst ? dst : TN_ADDR);
    if (csum_mode == 1)
        ust_put_be16(l4 + 6, 0);
    else if (csum_mode == 2)
        l4[6] ^= 0x40;
    ust_put_be16(l4 + 4, (uint16_t)(UST_UDP_HLEN + len + (size_t)ulen_delta));
    struct tn_ip ip = { .eth_dst = eth_dst, .dst = dst, .proto = UST_IPPROTO_UDP };
    size_t n = tn_ip_frame(frame, &ip, l4, UST_UDP_HLEN + len);
    tn_inject(env, frame, n);
}

static int bound_socket(struct tn_env *env)
{
    int fd = st_udp(env->stack);
    struct sockaddr_in sin = st_sin(0, PORT);
    assert_int_equal(ust_bind(env->stack, fd, ST_SA(&sin), sizeof(sin)), 0);
    return fd;
}

static void test_valid_and_zero_checksums_are_accepted(void **state)
{
    (void)state;
    struct tn_env env;
    tn_setup(&env);
    int fd = bound_socket(&env);
    inject_udp(&env, 0, "good", 4, 0, 0, NULL);
    inject_udp(&env, 0, "none", 4, 1, 0, NULL);
    char b[16];
    struct sockaddr_in from;
    socklen_t flen = sizeof(from);
    assert_int_equal(ust_recvfrom(env.stack, fd, b, sizeof(b), 0, ST_SA(&from), &flen), 4);
    assert_memory_equal(b, "good", 4);
    assert_int_equal(ntohl(from.sin_addr.s_addr), TN_PEER);
    assert_int_equal(ntohs(from.sin_port), PEER_PORT);
    assert_int_equal(ust_recv(env.stack, fd, b, sizeof(b), 0), 4);
    assert_memory_equal(b, "none", 4);
    assert_int_equal(TN_STAT(&env, UDP, InErrors), 0);
    assert_int_equal(TN_STAT(&env, UDP, InDatagrams), 2);
    tn_teardown(&env);
}

static void test_bad_checksum_dropped_and_counted(void **state)
{
    (void)state;
    struct tn_env env;
    tn_setup(&env);
    int fd = bound_socket(&env);
    inject_udp(&env, 0, "bad!", 4, 2, 0, NULL);
    char b[16];
    st_fails(ust_recv(env.stack, fd, b, sizeof(b), 0), EAGAIN);
    assert_int_equal(TN_STAT(&env, UDP, InCsumErrors), 1);
    assert_int_equal(TN_STAT(&env, UDP, InErrors), 1);
    /* Also without a socket: no ICMP error for a corrupt datagram. */
    assert_int_equal(ust_close(env.stack, fd), 0);
    tn_peer_arp(&env);
    inject_udp(&env, 0, "bad!", 4, 2, 0, NULL);
    assert_int_equal(TN_STAT(&env, UDP, InCsumErrors), 2);
    assert_int_equal(TN_STAT(&env, UDP, NoPorts), 0);
    assert_int_equal(env.nframes, 0);
    tn_assert_no_leak(&env);
    tn_teardown(&env);
}

static void test_length_field_checked_and_padding_trimmed(void **state)
{
    (void)state;
    struct tn_env env;
    tn_setup(&env);
    int fd = bound_socket(&env);
    /* Length field longer than the IP payload: an error. */
    inject_udp(&env, 0, "longer", 6, 1, +1, NULL);
    assert_int_equal(TN_STAT(&env, UDP, InErrors), 1);
    /* Shorter than 8: an error. */
    inject_udp(&env, 0, "tiny", 4, 1, -5, NULL);
    assert_int_equal(TN_STAT(&env, UDP, InErrors), 2);
    /* Shorter than the IP payload: the rest is padding, cut off. */
    inject_udp(&env, 0, "data+pad", 8, 1, -4, NULL);
    char b[16];
    assert_int_equal(ust_recv(env.stack, fd, b, sizeof(b), 0), 4);
    assert_memory_equal(b, "data", 4);
    st_fails(ust_recv(env.stack, fd, b, sizeof(b), 0), EAGAIN);
    tn_teardown(&env);
}

static void test_no_socket_answers_port_unreachable_not_for_broadcast(void **state)
{
    (void)state;
    struct tn_env env;
    tn_setup(&env);
    tn_peer_arp(&env);
    inject_udp(&env, 0, "hello?", 6, 0, 0, NULL);
    assert_int_equal(TN_STAT(&env, UDP, NoPorts), 1);
    assert_int_equal(env.nframes, 1);
    struct ust_eth_hdr eh;
    struct ust_ipv4_hdr ih;
    const uint8_t *p;
    size_t len;
    assert_true(tn_sent_ipv4(&env, 0, &eh, &ih, &p, &len));
    assert_int_equal(ih.proto, UST_IPPROTO_ICMP);
    assert_int_equal(ih.dst, TN_PEER);
    struct ust_icmp_hdr h;
    assert_int_equal(ust_icmp_parse(p, len, &h), UST_ICMP_HLEN);
    assert_int_equal(h.type, UST_ICMP_DEST_UNREACH);
    assert_int_equal(h.code, UST_ICMP_PORT_UNREACH);
    /* The quote: the datagram's IP header then its UDP header. */
    assert_int_equal(ust_get_be16(p + 8 + 20), PEER_PORT);
    assert_int_equal(ust_get_be16(p + 8 + 22), PORT);
    tn_clear(&env);

    /* To the subnet broadcast or the link broadcast: silence. */
    inject_udp(&env, TN_BCAST, "all?", 4, 0, 0, tn_bcast_mac);
    inject_udp(&env, 0xffffffffu, "all?", 4, 0, 0, tn_bcast_mac);
    assert_int_equal(env.nframes, 0);
    assert_int_equal(TN_STAT(&env, UDP, NoPorts), 1);
    tn_assert_no_leak(&env);
    tn_teardown(&env);
}

static void test_broadcast_delivered_to_wildcard_socket(void **state)
{
    (void)state;
    struct tn_env env;
    tn_setup(&env);
    int fd = bound_socket(&env);
    inject_udp(&env, TN_BCAST, "subnet", 6, 0, 0, tn_bcast_mac);
    inject_udp(&env, 0xffffffffu, "limited", 7, 0, 0, tn_bcast_mac);
    char b[16];
    assert_int_equal(ust_recv(env.stack, fd, b, sizeof(b), 0), 6);
    assert_int_equal(ust_recv(env.stack, fd, b, sizeof(b), 0), 7);
    tn_teardown(&env);
}

static void test_sent_datagrams_have_valid_checksums(void **state)
{
    (void)state;
    struct tn_env env;
    tn_setup(&env);
    tn_peer_arp(&env);
    int fd = st_udp(env.stack);
    const size_t lens[] = { 0, 1, 2, 7, 300, 301, 1472 };
    for (unsigned i = 0; i < UST_ARRAY_SIZE(lens); i++) {
        size_t n = lens[i];
        uint8_t data[1472];
        st_fill(data, n, (unsigned)n);
        tn_clear(&env);
        assert_int_equal(st_sendto(env.stack, fd, data, n, TN_PEER, 53), (ssize_t)n);
        assert_int_equal(env.nframes, 1);
        struct ust_eth_hdr eh;
        struct ust_ipv4_hdr ih;
        const uint8_t *p;
        size_t len;
        assert_true(tn_sent_ipv4(&env, 0, &eh, &ih, &p, &len));
        assert_int_equal(ih.proto, UST_IPPROTO_UDP);
        assert_int_equal(ih.src, TN_ADDR);
        assert_int_equal(len, 8 + n);
        struct ust_udp_hdr uh;
        assert_int_equal(ust_udp_parse(p, len, &uh), UST_UDP_HLEN);
        assert_int_equal(uh.dport, 53);
        assert_int_equal(uh.sport, st_port(env.stack, fd));
        assert_int_equal(uh.len, 8 + n);
        assert_true(uh.csum != 0);      /* always computed */
        assert_true(ust_udp_csum_ok(p, len, ih.src, ih.dst));
        assert_memory_equal(p + 8, data, n);
    }
    tn_teardown(&env);
}

/* An ICMP error from the peer about a datagram our socket sent. */
static void inject_icmp_error(struct tn_env *env, uint8_t type, uint8_t code, uint16_t our_port)
{
    uint8_t quote[28], msg[64], frame[128];
    struct ust_ipv4_hdr q = {
        .total_len = 28, .ttl = 64, .proto = UST_IPPROTO_UDP, .src = TN_ADDR, .dst = TN_PEER,
    };
    ust_ipv4_emit(quote, sizeof(quote), &q);
    struct ust_udp_hdr uh = { .sport = our_port, .dport = PEER_PORT, .len = 8 };
    ust_udp_emit(quote + 20, 8, &uh, TN_ADDR, TN_PEER);
    memcpy(msg + 8, quote, sizeof(quote));
    struct ust_icmp_hdr h = { .type = type, .code = code };
    ust_icmp_emit(msg, sizeof(msg), &h, sizeof(quote));
    struct tn_ip ip = { .proto = UST_IPPROTO_ICMP };
    size_t n = tn_ip_frame(frame, &ip, msg, 8 + sizeof(quote));
    tn_inject(env, frame, n);
}

static void test_icmp_errors_reach_connected_sockets_when_hard(void **state)
{
    (void)state;
    struct tn_env env;
    tn_setup(&env);
    tn_peer_arp(&env);
    int conn = st_udp(env.stack), unconn = st_udp(env.stack);
    struct sockaddr_in peer = st_sin(TN_PEER, PEER_PORT);
    assert_int_equal(ust_connect(env.stack, conn, ST_SA(&peer), sizeof(peer)), 0);
    assert_int_equal(st_sendto(env.stack, unconn, "x", 1, TN_PEER, PEER_PORT), 1);
    char b[4];

    /* Host unreachable is a soft error: ignored without IP_RECVERR. */
    inject_icmp_error(&env, UST_ICMP_DEST_UNREACH, UST_ICMP_HOST_UNREACH, st_port(env.stack, conn));
    st_fails(ust_recv(env.stack, conn, b, sizeof(b), 0), EAGAIN);
    /* Port unreachable: ECONNREFUSED, once. */
    inject_icmp_error(&env, UST_ICMP_DEST_UNREACH, UST_ICMP_PORT_UNREACH, st_port(env.stack, conn));
    st_fails(ust_recv(env.stack, conn, b, sizeof(b), 0), ECONNREFUSED);
    st_fails(ust_recv(env.stack, conn, b, sizeof(b), 0), EAGAIN);
    /* Unconnected: never. */
    inject_icmp_error(&env, UST_ICMP_DEST_UNREACH, UST_ICMP_PORT_UNREACH, st_port(env.stack, unconn));
    st_fails(ust_recv(env.stack, unconn, b, sizeof(b), 0), EAGAIN);
    tn_teardown(&env);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_and_zero_checksums_are_accepted),
        cmocka_unit_test(test_bad_checksum_dropped_and_counted),
        cmocka_unit_test(test_length_field_checked_and_padding_trimmed),
        cmocka_unit_test(test_no_socket_answers_port_unreachable_not_for_broadcast),
        cmocka_unit_test(test_broadcast_delivered_to_wildcard_socket),
        cmocka_unit_test(test_sent_datagrams_have_valid_checksums),
        cmocka_unit_test(test_icmp_errors_reach_connected_sockets_when_hard),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
