/* Ethernet, ARP, IPv4, ICMP and UDP parse/emit: each malformed case gives the
 * documented error (truncation at every length, wrong ARP hardware/protocol,
 * IPv4 version, IHL < 5, IHL or total length past the buffer, total length
 * below the header, bad header checksum, IP options with length 0/1/overlong
 * or a missing length byte; EOL ends the option list); ICMP and UDP checksums
 * (zero UDP checksum accepted, a computed 0 sent as 0xffff); emitters refuse a
 * buffer too small; strerror and address printing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/util.h"
#include "wire/wire.h"

#define IP(a, b, c, d) (((uint32_t)(a) << 24) | ((b) << 16) | ((c) << 8) | (d))

/* Runs parse on an exactly sized heap copy so ASan sees any over-read. */
typedef int (*parse_fn)(const uint8_t *p, size_t len, void *out);
static int parse_exact(parse_fn fn, const uint8_t *p, size_t len, void *out)
{
    uint8_t *copy = malloc(len ? len : 1);
    if (len)
        memcpy(copy, p, len);
    int r = fn(copy, len, out);
    free(copy);
    return r;
}
static int eth_parse(const uint8_t *p, size_t len, void *o) { return ust_eth_parse(p, len, o); }
static int arp_parse(const uint8_t *p, size_t len, void *o) { return ust_arp_parse(p, len, o); }
static int ip_parse(const uint8_t *p, size_t len, void *o) { return ust_ipv4_parse(p, len, o); }
static int icmp_parse(const uint8_t *p, size_t len, void *o) { return ust_icmp_parse(p, len, o); }
static int udp_parse(const uint8_t *p, size_t len, void *o) { return ust_udp_parse(p, len, o); }

/* ---- Ethernet ---------------------------------------------------------- */

static void test_eth_round_trip_and_truncation(void **state)
{
    (void)state;
    const struct ust_eth_hdr h = {{1, 0, 0x5e, 0, 0, 0xfb}, {2, 3, 4, 5, 6, 7}, UST_ETHERTYPE_VLAN};
    uint8_t b[14];
    struct ust_eth_hdr back;
    assert_int_equal(ust_eth_emit(b, 13, &h), 0);
    assert_int_equal(ust_eth_emit(b, sizeof(b), &h), 14);
    assert_int_equal(b[12], 0x81);
    assert_int_equal(b[13], 0x00);
    assert_int_equal(parse_exact(eth_parse, b, 14, &back), 14);
    assert_memory_equal(&back.dst, h.dst, 6);
    assert_memory_equal(&back.src, h.src, 6);
    assert_int_equal(back.type, UST_ETHERTYPE_VLAN);  /* reported raw, not followed */
    assert_true(ust_eth_is_multicast(back.dst));
    for (size_t len = 0; len < 14; len++)
        assert_int_equal(parse_exact(eth_parse, b, len, &back), UST_WIRE_TRUNCATED);
}

/* ---- ARP ------------------------------------------------------------------ */

static size_t make_arp(uint8_t *b)
{
    const struct ust_arp_pkt a = {UST_ARP_REQUEST, {2, 0, 0, 0, 0, 1}, IP(192, 168, 1, 1),
                                  {0}, IP(192, 168, 1, 2)};
    return ust_arp_emit(b, UST_ARP_LEN, &a);
}

static void test_arp_round_trip_and_truncation(void **state)
{
    (void)state;
    uint8_t b[28];
    struct ust_arp_pkt a;
    assert_int_equal(make_arp(b), 28);
    const uint8_t head[8] = {0, 1, 8, 0, 6, 4, 0, 1};  /* Ethernet, IPv4, 6, 4, request */
    assert_memory_equal(b, head, 8);
    assert_int_equal(parse_exact(arp_parse, b, 28, &a), 28);
    assert_int_equal(a.op, UST_ARP_REQUEST);
    assert_int_equal(a.spa, IP(192, 168, 1, 1));
    assert_int_equal(a.tpa, IP(192, 168, 1, 2));
    assert_int_equal(a.sha[5], 1);
    for (size_t len = 0; len < 28; len++)
        assert_int_equal(parse_exact(arp_parse, b, len, &a), UST_WIRE_TRUNCATED);
    /* Trailing Ethernet padding is fine. */
    uint8_t padded[46] = {0};
    memcpy(padded, b, 28);
    assert_int_equal(parse_exact(arp_parse, padded, 46, &a), 28);
    uint8_t small[27];
    assert_int_equal(ust_arp_emit(small, sizeof(small), &a), 0);
}

static void test_arp_other_hardware_or_protocol_unsupported(void **state)
{
    (void)state;
    struct ust_arp_pkt a;
    const struct { size_t off; uint8_t val; } bad[] = {
        {1, 6},     /* htype 6 (IEEE 802) */
        {0, 1},     /* htype 0x0101 */
        {3, 0xdd},  /* ptype 0x08dd */
        {2, 0x86},  /* ptype 0x8600 */
        {4, 8},     /* hlen 8 */
        {5, 16},    /* plen 16 */
    };
    for (size_t i = 0; i < UST_ARRAY_SIZE(bad); i++) {
        uint8_t b[28];
        make_arp(b);
        b[bad[i].off] = bad[i].val;
        assert_int_equal(parse_exact(arp_parse, b, 28, &a), UST_WIRE_UNSUPPORTED);
    }
}

/* ---- IPv4 ---------------------------------------------------------------- */

static const struct ust_ipv4_hdr base_ip = {
    .tos = 0x10, .total_len = 40, .id = 0xbeef, .frag = UST_IP_DF, .ttl = 64,
    .proto = UST_IPPROTO_UDP, .src = IP(10, 0, 0, 1), .dst = IP(10, 0, 0, 2),
};

/* Rewrites the header checksum after a test has modified the header. */
static void fix_ip_csum(uint8_t *b)
{
    size_t hlen = (size_t)(b[0] & 0xf) * 4;
    ust_put_be16(b + 10, 0);
    ust_put_be16(b + 10, ust_inet_csum(b, hlen));
}

static void test_ipv4_emit_then_parse(void **state)
{
    (void)state;
    uint8_t b[40] = {0};
    struct ust_ipv4_hdr h = base_ip, back;
    h.hlen = 33;      /* ignored by emit */
    h.csum = 0x1234;  /* ignored by emit */
    assert_int_equal(ust_ipv4_emit(b, 19, &h), 0);
    assert_int_equal(ust_ipv4_emit(b, sizeof(b), &h), 20);
    assert_int_equal(b[0], 0x45);
    assert_int_equal(ust_inet_csum(b, 20), 0);
    assert_int_equal(parse_exact(ip_parse, b, 40, &back), 20);
    assert_int_equal(back.hlen, 20);
    assert_int_equal(back.tos, 0x10);
    assert_int_equal(back.total_len, 40);
    assert_int_equal(back.id, 0xbeef);
    assert_int_equal(back.frag, UST_IP_DF);
    assert_false(ust_ipv4_is_fragment(&back));
    assert_int_equal(back.ttl, 64);
    assert_int_equal(back.proto, UST_IPPROTO_UDP);
    assert_int_equal(back.csum, ust_get_be16(b + 10));
    assert_int_equal(back.src, IP(10, 0, 0, 1));
    assert_int_equal(back.dst, IP(10, 0, 0, 2));

    /* Link-layer padding past total_len is the caller's to trim. */
    uint8_t padded[60] = {0};
    memcpy(padded, b, 40);
    assert_int_equal(parse_exact(ip_parse, padded, 60, &back), 20);
    assert_int_equal(back.total_len, 40);

    /* Fragment helpers: MF with offset 185 (1480 bytes). */
    h.frag = UST_IP_MF | 185;
    ust_ipv4_emit(b, sizeof(b), &h);
    assert_int_equal(parse_exact(ip_parse, b, 40, &back), 20);
    assert_true(ust_ipv4_is_fragment(&back));
    assert_true(ust_ipv4_more_frags(&back));
    assert_int_equal(ust_ipv4_frag_offset(&back), 1480);
}

static void test_ipv4_truncated_at_every_length(void **state)
{
    (void)state;
    uint8_t b[40] = {0};
    struct ust_ipv4_hdr h;
    ust_ipv4_emit(b, sizeof(b), &base_ip);
    for (size_t len = 0; len < 40; len++)
        assert_int_equal(parse_exact(ip_parse, b, len, &h), UST_WIRE_TRUNCATED);
}

static void test_ipv4_bad_version(void **state)
{
    (void)state;
    uint8_t b[40] = {0};
    struct ust_ipv4_hdr h;
    ust_ipv4_emit(b, sizeof(b), &base_ip);
    for (unsigned v = 0; v < 16; v++) {
        if (v == 4)
            continue;
        b[0] = (uint8_t)(v << 4 | 5);
        fix_ip_csum(b);
        assert_int_equal(parse_exact(ip_parse, b, 40, &h), UST_WIRE_BAD_VERSION);
    }
}

static void test_ipv4_bad_lengths(void **state)
{
    (void)state;
    uint8_t b[64] = {0};
    struct ust_ipv4_hdr h;
    /* IHL 0..4: header shorter than 20 bytes. */
    for (uint8_t ihl = 0; ihl < 5; ihl++) {
        ust_ipv4_emit(b, sizeof(b), &base_ip);
        b[0] = (uint8_t)(0x40 | ihl);
        assert_int_equal(parse_exact(ip_parse, b, 40, &h), UST_WIRE_BAD_LENGTH);
    }
    /* IHL 15 (60 bytes) in a 40-byte buffer. */
    ust_ipv4_emit(b, sizeof(b), &base_ip);
    b[0] = 0x4f;
    assert_int_equal(parse_exact(ip_parse, b, 40, &h), UST_WIRE_TRUNCATED);
    /* total_len below the header length: 0, 19; and 20 < 24 with IHL 6. */
    ust_ipv4_emit(b, sizeof(b), &base_ip);
    ust_put_be16(b + 2, 19);
    fix_ip_csum(b);
    assert_int_equal(parse_exact(ip_parse, b, 40, &h), UST_WIRE_BAD_LENGTH);
    ust_put_be16(b + 2, 0);
    fix_ip_csum(b);
    assert_int_equal(parse_exact(ip_parse, b, 40, &h), UST_WIRE_BAD_LENGTH);
    b[0] = 0x46;
    ust_put_be16(b + 2, 20);
    memset(b + 20, UST_TCPOPT_NOP, 4);
    fix_ip_csum(b);
    assert_int_equal(parse_exact(ip_parse, b, 40, &h), UST_WIRE_BAD_LENGTH);
    /* total_len past the buffer. */
    ust_ipv4_emit(b, sizeof(b), &base_ip);
    ust_put_be16(b + 2, 41);
    fix_ip_csum(b);
    assert_int_equal(parse_exact(ip_parse, b, 40, &h), UST_WIRE_TRUNCATED);
    ust_put_be16(b + 2, 0xffff);
    fix_ip_csum(b);
    assert_int_equal(parse_exact(ip_parse, b, 40, &h), UST_WIRE_TRUNCATED);
    /* total_len == hlen (no payload) is fine. */
    ust_put_be16(b + 2, 20);
    fix_ip_csum(b);
    assert_int_equal(parse_exact(ip_parse, b, 20, &h), 20);
}

static void test_ipv4_bad_checksum(void **state)
{
    (void)state;
    uint8_t b[40] = {0};
    struct ust_ipv4_hdr h;
    for (size_t i = 0; i < 20; i++) {
        for (int bit = 0; bit < 8; bit++) {
            ust_ipv4_emit(b, sizeof(b), &base_ip);
            b[i] ^= (uint8_t)(1u << bit);
            int r = parse_exact(ip_parse, b, 40, &h);
            /* Flipping a bit of the version/IHL/length is caught earlier;
             * every other single-bit error is a checksum error. */
            if (i == 0 || i == 2 || i == 3)
                assert_true(r < 0);
            else
                assert_int_equal(r, UST_WIRE_BAD_CSUM);
        }
    }
    /* A payload error is not the IP layer's business. */
    ust_ipv4_emit(b, sizeof(b), &base_ip);
    b[30] ^= 0xff;
    assert_int_equal(parse_exact(ip_parse, b, 40, &h), 20);
}

/* A header of 20 + optlen bytes (multiple of 4) carrying `opt`. */
static int parse_ip_with_options(const uint8_t *opt, size_t optlen)
{
    uint8_t b[60 + 8] = {0};
    struct ust_ipv4_hdr h = base_ip;
    h.total_len = (uint16_t)(20 + optlen + 8);
    ust_ipv4_emit(b, sizeof(b), &h);
    b[0] = (uint8_t)(0x40 | (20 + optlen) / 4);
    memcpy(b + 20, opt, optlen);
    fix_ip_csum(b);
    struct ust_ipv4_hdr out;
    int r = parse_exact(ip_parse, b, h.total_len, &out);
    if (r > 0)
        assert_int_equal(out.hlen, 20 + optlen);
    return r;
}

static void test_ipv4_options_skipped_safely(void **state)
{
    (void)state;
    /* NOP, record route (7, len 11, ptr 4, 2 slots), router alert (148, len 4):
     * well-formed, skipped. */
    const uint8_t good[16] = {1, 7, 11, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0x94, 4, 0, 0};
    assert_int_equal(parse_ip_with_options(good, 16), 36);
    /* Forty bytes of NOP; and EOL first with garbage after it. */
    uint8_t nops[40];
    memset(nops, 1, sizeof(nops));
    assert_int_equal(parse_ip_with_options(nops, 40), 60);
    const uint8_t eol[8] = {0, 7, 0, 1, 255, 255, 0, 0};
    assert_int_equal(parse_ip_with_options(eol, 8), 28);

    const uint8_t len0[4] = {7, 0, 0, 0};
    const uint8_t len1[4] = {1, 0x94, 1, 0};
    const uint8_t overlong[4] = {0x94, 5, 0, 0};
    const uint8_t len255[8] = {1, 1, 7, 255, 4, 0, 0, 0};
    const uint8_t no_len_byte[4] = {1, 1, 1, 7};
    assert_int_equal(parse_ip_with_options(len0, 4), UST_WIRE_BAD_OPTION);
    assert_int_equal(parse_ip_with_options(len1, 4), UST_WIRE_BAD_OPTION);
    assert_int_equal(parse_ip_with_options(overlong, 4), UST_WIRE_BAD_OPTION);
    assert_int_equal(parse_ip_with_options(len255, 8), UST_WIRE_BAD_OPTION);
    assert_int_equal(parse_ip_with_options(no_len_byte, 4), UST_WIRE_BAD_OPTION);
    /* An option ending exactly at the header's end is fine. */
    const uint8_t exact[4] = {0x94, 4, 0, 0};
    assert_int_equal(parse_ip_with_options(exact, 4), 24);
}

/* ---- ICMP ----------------------------------------------------------------- */

static void test_icmp_emit_parse_and_checksum(void **state)
{
    (void)state;
    uint8_t b[8 + 57];
    for (size_t i = 0; i < 57; i++)
        b[8 + i] = (uint8_t)(i * 7);
    for (size_t plen = 0; plen <= 57; plen++) {  /* odd payloads too */
        const struct ust_icmp_hdr h = {UST_ICMP_ECHO, 0, 0xdead, 0x12340005};
        struct ust_icmp_hdr back;
        assert_int_equal(ust_icmp_emit(b, 8 + plen, &h, plen), 8);
        assert_int_equal(parse_exact(icmp_parse, b, 8 + plen, &back), 8);
        assert_int_equal(back.type, UST_ICMP_ECHO);
        assert_int_equal(ust_icmp_echo_id(&back), 0x1234);
        assert_int_equal(ust_icmp_echo_seq(&back), 5);
        assert_int_equal(back.csum, ust_get_be16(b + 2));
        uint8_t *victim = plen ? &b[8 + plen / 2] : &b[4];  /* payload, or header */
        *victim ^= 4;
        assert_int_equal(parse_exact(icmp_parse, b, 8 + plen, &back), UST_WIRE_BAD_CSUM);
        *victim ^= 4;
        assert_int_equal(ust_icmp_emit(b, 7 + plen, &h, plen), 0);  /* too small */
    }
    for (size_t len = 0; len < 8; len++) {
        struct ust_icmp_hdr back;
        assert_int_equal(parse_exact(icmp_parse, b, len, &back), UST_WIRE_TRUNCATED);
    }
    /* Fragmentation needed carries the next-hop MTU in the low 16 bits. */
    const struct ust_icmp_hdr fn = {UST_ICMP_DEST_UNREACH, UST_ICMP_FRAG_NEEDED, 0, 1400};
    uint8_t m[8];
    assert_int_equal(ust_icmp_emit(m, 8, &fn, 0), 8);
    assert_int_equal(ust_get_be16(m + 6), 1400);
    assert_int_equal(ust_get_be16(m + 4), 0);
}

/* ---- UDP ------------------------------------------------------------------ */

static const uint32_t SRC = IP(10, 0, 0, 1), DST = IP(10, 0, 0, 2);

static void test_udp_lengths(void **state)
{
    (void)state;
    uint8_t b[20] = {0x30, 0x39, 0x00, 0x35, 0x00, 0x14, 0x00, 0x00};  /* 12345 -> 53, len 20 */
    struct ust_udp_hdr h;
    assert_int_equal(parse_exact(udp_parse, b, 20, &h), 8);
    assert_int_equal(h.sport, 12345);
    assert_int_equal(h.dport, 53);
    assert_int_equal(h.len, 20);
    for (size_t len = 0; len < 8; len++)
        assert_int_equal(parse_exact(udp_parse, b, len, &h), UST_WIRE_TRUNCATED);
    for (size_t len = 8; len < 20; len++)  /* stated length past the buffer */
        assert_int_equal(parse_exact(udp_parse, b, len, &h), UST_WIRE_TRUNCATED);
    for (uint16_t l = 0; l < 8; l++) {
        ust_put_be16(b + 4, l);
        assert_int_equal(parse_exact(udp_parse, b, 20, &h), UST_WIRE_BAD_LENGTH);
    }
    ust_put_be16(b + 4, 8);  /* shorter than the buffer: fine, caller trims */
    assert_int_equal(parse_exact(udp_parse, b, 20, &h), 8);
    assert_int_equal(h.len, 8);
}

static void test_udp_checksum_emit_verify_and_zero(void **state)
{
    (void)state;
    uint8_t b[8 + 11] = {0};
    memcpy(b + 8, "hello world", 11);
    const struct ust_udp_hdr h = {5353, 5353, 19, 0xaaaa};
    assert_int_equal(ust_udp_emit(b, 18, &h, SRC, DST), 0);  /* cap < len */
    struct ust_udp_hdr bad = h;
    bad.len = 7;
    assert_int_equal(ust_udp_emit(b, sizeof(b), &bad, SRC, DST), 0);
    assert_int_equal(ust_udp_emit(b, sizeof(b), &h, SRC, DST), 8);
    assert_int_not_equal(ust_get_be16(b + 6), 0);
    assert_true(ust_udp_csum_ok(b, 19, SRC, DST));
    assert_false(ust_udp_csum_ok(b, 19, SRC, DST + 1));
    b[18] ^= 1;
    assert_false(ust_udp_csum_ok(b, 19, SRC, DST));
    /* RFC 768: a zero checksum field means none was sent; it verifies. */
    ust_put_be16(b + 6, 0);
    assert_true(ust_udp_csum_ok(b, 19, SRC, DST));
    assert_false(ust_udp_csum_ok(b, 7, SRC, DST));
}

static void test_udp_computed_zero_is_sent_as_ffff(void **state)
{
    (void)state;
    /* Choose the last payload word so the one's-complement sum is 0xffff,
     * i.e. the computed checksum is 0. */
    uint8_t b[12] = {0x04, 0xd2, 0x16, 0x2e, 0x00, 0x0c, 0, 0, 'h', 'i', 0, 0};
    uint32_t s = ust_csum_partial(b, 12, ust_csum_pseudo(SRC, DST, UST_IPPROTO_UDP, 12));
    ust_put_be16(b + 10, (uint16_t)(0xffff - s));
    assert_int_equal(ust_csum_fold(ust_csum_partial(b, 12, ust_csum_pseudo(SRC, DST, 17, 12))), 0);

    const struct ust_udp_hdr h = {1234, 5678, 12, 0};
    assert_int_equal(ust_udp_emit(b, sizeof(b), &h, SRC, DST), 8);
    assert_int_equal(ust_get_be16(b + 6), 0xffff);
    assert_true(ust_udp_csum_ok(b, 12, SRC, DST));  /* 0xffff verifies like 0 would */
}

/* ---- errors and addresses -------------------------------------------------- */

static void test_strerror_names_every_error(void **state)
{
    (void)state;
    const int errs[] = {UST_WIRE_TRUNCATED, UST_WIRE_BAD_VERSION, UST_WIRE_BAD_LENGTH,
                        UST_WIRE_BAD_CSUM, UST_WIRE_BAD_OPTION, UST_WIRE_UNSUPPORTED};
    const char *unknown = ust_wire_strerror(-100);
    assert_non_null(unknown);
    for (size_t i = 0; i < UST_ARRAY_SIZE(errs); i++) {
        const char *s = ust_wire_strerror(errs[i]);
        assert_non_null(s);
        assert_string_not_equal(s, unknown);
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(s, ust_wire_strerror(errs[j]));
    }
    assert_string_equal(ust_wire_strerror(UST_WIRE_BAD_CSUM), "bad checksum");
}

static void test_ipv4_ntoa_and_address_classes(void **state)
{
    (void)state;
    char buf[16];
    assert_string_equal(ust_ipv4_ntoa(IP(10, 99, 0, 1), buf), "10.99.0.1");
    assert_string_equal(ust_ipv4_ntoa(0, buf), "0.0.0.0");
    assert_string_equal(ust_ipv4_ntoa(0xffffffffu, buf), "255.255.255.255");
    assert_ptr_equal(ust_ipv4_ntoa(IP(1, 2, 3, 4), buf), buf);
    assert_true(ust_ipv4_is_multicast(IP(224, 0, 0, 251)));
    assert_true(ust_ipv4_is_multicast(IP(239, 255, 255, 255)));
    assert_false(ust_ipv4_is_multicast(IP(240, 0, 0, 1)));
    assert_true(ust_ipv4_is_loopback(IP(127, 0, 0, 1)));
    assert_false(ust_ipv4_is_loopback(IP(128, 0, 0, 1)));
    assert_true(ust_ipv4_is_limited_bcast(0xffffffffu));
    for (int i = 0; i < 6; i++)
        assert_int_equal(ust_eth_broadcast[i], 0xff);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_eth_round_trip_and_truncation),
        cmocka_unit_test(test_arp_round_trip_and_truncation),
        cmocka_unit_test(test_arp_other_hardware_or_protocol_unsupported),
        cmocka_unit_test(test_ipv4_emit_then_parse),
        cmocka_unit_test(test_ipv4_truncated_at_every_length),
        cmocka_unit_test(test_ipv4_bad_version),
        cmocka_unit_test(test_ipv4_bad_lengths),
        cmocka_unit_test(test_ipv4_bad_checksum),
        cmocka_unit_test(test_ipv4_options_skipped_safely),
        cmocka_unit_test(test_icmp_emit_parse_and_checksum),
        cmocka_unit_test(test_udp_lengths),
        cmocka_unit_test(test_udp_checksum_emit_verify_and_zero),
        cmocka_unit_test(test_udp_computed_zero_is_sent_as_ffff),
        cmocka_unit_test(test_strerror_names_every_error),
        cmocka_unit_test(test_ipv4_ntoa_and_address_classes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
