/* Known-good frames captured from Linux (tests/data/wire/wire_linux.cap, made
 * by tests/data/wire/capture.sh between two network namespaces over veth with
 * checksum offload off): ARP request/reply, ICMP echo (plain, fragmented into
 * 3 pieces, with the record-route IP option), a UDP datagram and the ICMP port
 * unreachable it caused, a TCP connection (SYN with MSS/SACK-perm/TS/WS, data
 * with timestamps, FIN) and ACKs with 1, 2 and 3 SACK blocks.
 *
 * Every field is checked against what `tshark -V` shows for the frame, every
 * checksum verifies, and emitting the parsed structs reproduces the bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/util.h"
#include "wire/wire.h"

#ifndef USTACK_TESTDATA
#define USTACK_TESTDATA "tests/data"
#endif
#define PCAP_PATH USTACK_TESTDATA "/wire/wire_linux.cap"
#define NFRAMES 27

#define IP(a, b, c, d) (((uint32_t)(a) << 24) | ((b) << 16) | ((c) << 8) | (d))
static const uint32_t HOST_A = IP(10, 99, 0, 1), HOST_B = IP(10, 99, 0, 2);
static const uint8_t MAC_A[6] = {0x02, 0, 0, 0, 0, 0x0a}, MAC_B[6] = {0x02, 0, 0, 0, 0, 0x0b};

struct frame {
    const uint8_t *p;
    size_t len;
};

struct capture {
    uint8_t *file;
    struct frame f[NFRAMES + 1];  /* 1-based, as tshark numbers them */
};

/* ---- a minimal pcap reader (classic format, microsecond or nanosecond) ---- */

static uint32_t rd32(const uint8_t *p, int swap)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return swap ? __builtin_bswap32(v) : v;
}

static int load_capture(void **state)
{
    FILE *fp = fopen(PCAP_PATH, "rb");
    if (!fp) {
        fprintf(stderr, "cannot open %s\n", PCAP_PATH);
        return -1;
    }
    struct capture *c = calloc(1, sizeof(*c));
    c->file = malloc(1 << 20);
    size_t n = fread(c->file, 1, 1 << 20, fp);
    fclose(fp);
    if (n < 24)
        return -1;
    uint32_t magic = rd32(c->file, 0);
    int swap = magic == 0xd4c3b2a1u || magic == 0x4d3cb2a1u;
    if (!swap && magic != 0xa1b2c3d4u && magic != 0xa1b23c4du)
        return -1;
    if (rd32(c->file + 20, swap) != 1)  /* LINKTYPE_ETHERNET */
        return -1;
    size_t off = 24;
    int i = 0;
    while (off + 16 <= n && i < NFRAMES) {
        uint32_t caplen = rd32(c->file + off + 8, swap);
        uint32_t origlen = rd32(c->file + off + 12, swap);
        off += 16;
        if (caplen != origlen || caplen > n - off)
            return -1;
        c->f[++i] = (struct frame){c->file + off, caplen};
        off += caplen;
    }
    if (i != NFRAMES)
        return -1;
    *state = c;
    return 0;
}

static int free_capture(void **state)
{
    struct capture *c = *state;
    free(c->file);
    free(c);
    return 0;
}

static struct frame frame(void **state, int no)
{
    return ((struct capture *)*state)->f[no];
}

/* ---- helpers shared by the IPv4 frames ---------------------------------- */

struct ip_expect {
    int no;                     /* tshark frame number */
    uint8_t hlen, tos;
    uint16_t total_len, id, frag, csum;
    uint8_t proto;
    uint32_t src, dst;
};

/* Checks the Ethernet and IPv4 headers of frame e->no against e and that a
 * 20-byte header re-emits identically. Returns the IP header offset. */
static struct ust_ipv4_hdr check_ip(void **state, const struct ip_expect *e, size_t *l4_off)
{
    struct frame f = frame(state, e->no);
    struct ust_eth_hdr eh;
    struct ust_ipv4_hdr ip;

    assert_int_equal(ust_eth_parse(f.p, f.len, &eh), UST_ETH_HLEN);
    assert_int_equal(eh.type, UST_ETHERTYPE_IPV4);
    assert_memory_equal(eh.src, e->src == HOST_A ? MAC_A : MAC_B, 6);
    assert_memory_equal(eh.dst, e->src == HOST_A ? MAC_B : MAC_A, 6);

    assert_int_equal(ust_ipv4_parse(f.p + 14, f.len - 14, &ip), e->hlen);
    assert_int_equal(ip.hlen, e->hlen);
    assert_int_equal(ip.tos, e->tos);
    assert_int_equal(ip.total_len, e->total_len);
    assert_int_equal(f.len, 14 + e->total_len);  /* veth frames carry no padding */
    assert_int_equal(ip.id, e->id);
    assert_int_equal(ip.frag, e->frag);
    assert_int_equal(ip.ttl, 64);
    assert_int_equal(ip.proto, e->proto);
    assert_int_equal(ip.csum, e->csum);
    assert_int_equal(ip.src, e->src);
    assert_int_equal(ip.dst, e->dst);
    if (ip.hlen == UST_IPV4_MIN_HLEN) {
        uint8_t out[20];
        struct ust_ipv4_hdr copy = ip;
        copy.csum = 0;  /* ignored by emit: recomputed */
        assert_int_equal(ust_ipv4_emit(out, sizeof(out), &copy), 20);
        assert_memory_equal(out, f.p + 14, 20);
    }
    *l4_off = 14 + ip.hlen;
    return ip;
}

/* ---- ARP ------------------------------------------------------------------ */

static void check_arp(void **state, int no, uint16_t op, const uint8_t *eth_dst,
                      const uint8_t *sha, uint32_t spa, const uint8_t *tha, uint32_t tpa)
{
    struct frame f = frame(state, no);
    struct ust_eth_hdr eh;
    struct ust_arp_pkt a;
    uint8_t out[42];

    assert_int_equal(f.len, 42);
    assert_int_equal(ust_eth_parse(f.p, f.len, &eh), 14);
    assert_int_equal(eh.type, UST_ETHERTYPE_ARP);
    assert_memory_equal(eh.dst, eth_dst, 6);
    assert_memory_equal(eh.src, sha, 6);
    assert_int_equal(ust_arp_parse(f.p + 14, f.len - 14, &a), UST_ARP_LEN);
    assert_int_equal(a.op, op);
    assert_memory_equal(a.sha, sha, 6);
    assert_int_equal(a.spa, spa);
    assert_memory_equal(a.tha, tha, 6);
    assert_int_equal(a.tpa, tpa);

    assert_int_equal(ust_eth_emit(out, sizeof(out), &eh), 14);
    assert_int_equal(ust_arp_emit(out + 14, sizeof(out) - 14, &a), 28);
    assert_memory_equal(out, f.p, 42);
}

static void test_linux_arp_request_and_reply(void **state)
{
    static const uint8_t zero[6];
    /* 1: Who has 10.99.0.2? Tell 10.99.0.1 (broadcast, tha all zero) */
    check_arp(state, 1, UST_ARP_REQUEST, ust_eth_broadcast, MAC_A, HOST_A, zero, HOST_B);
    assert_true(ust_eth_is_multicast(ust_eth_broadcast));
    /* 2: 10.99.0.2 is at 02:00:00:00:00:0b */
    check_arp(state, 2, UST_ARP_REPLY, MAC_A, MAC_B, HOST_B, MAC_A, HOST_A);
    assert_false(ust_eth_is_multicast(MAC_A));
}

/* ---- ICMP echo ------------------------------------------------------------ */

static void check_echo(void **state, const struct ip_expect *e, uint8_t type, uint16_t csum,
                       uint16_t id, uint16_t seq)
{
    struct frame f = frame(state, e->no);
    size_t off;
    struct ust_ipv4_hdr ip = check_ip(state, e, &off);
    struct ust_icmp_hdr ic;
    size_t icmp_len = ip.total_len - ip.hlen;

    assert_int_equal(ust_icmp_parse(f.p + off, icmp_len, &ic), UST_ICMP_HLEN);
    assert_int_equal(ic.type, type);
    assert_int_equal(ic.code, 0);
    assert_int_equal(ic.csum, csum);
    assert_int_equal(ust_icmp_echo_id(&ic), id);
    assert_int_equal(ust_icmp_echo_seq(&ic), seq);

    /* Re-emit over a copy of the payload: same header, same checksum. */
    uint8_t out[2048];
    memcpy(out, f.p + off, icmp_len);
    memset(out, 0x55, 8);
    ic.csum = 0;
    assert_int_equal(ust_icmp_emit(out, icmp_len, &ic, icmp_len - 8), 8);
    assert_memory_equal(out, f.p + off, icmp_len);
    /* cap one byte short of header + payload: nothing written */
    assert_int_equal(ust_icmp_emit(out, icmp_len - 1, &ic, icmp_len - 8), 0);

    /* One corrupted payload byte fails the checksum. */
    out[icmp_len - 1] ^= 1;
    assert_int_equal(ust_icmp_parse(out, icmp_len, &ic), UST_WIRE_BAD_CSUM);
}

static void test_linux_icmp_echo_100_bytes(void **state)
{
    /* 3: Echo (ping) request id=0x70e9, seq=1, ttl=64, DF */
    const struct ip_expect req = {3, 20, 0, 128, 0xca79, UST_IP_DF, 0x5b3b, 1, HOST_A, HOST_B};
    check_echo(state, &req, UST_ICMP_ECHO, 0x430a, 0x70e9, 1);
    /* 4: Echo (ping) reply (Linux leaves DF clear on replies) */
    const struct ip_expect rep = {4, 20, 0, 128, 0x57eb, 0, 0x0dca, 1, HOST_B, HOST_A};
    check_echo(state, &rep, UST_ICMP_ECHO_REPLY, 0x4b0a, 0x70e9, 1);
}

static void test_linux_icmp_echo_with_record_route_option(void **state)
{
    /* 11, 12: ping -R: IHL 15, options NOP + record route (type 7, len 39). */
    const struct ip_expect req = {11, 60, 0, 124, 0xca7e, UST_IP_DF, 0x1ec7, 1, HOST_A, HOST_B};
    check_echo(state, &req, UST_ICMP_ECHO, 0xd964, 0x70eb, 1);
    const struct ip_expect rep = {12, 60, 0, 124, 0x57f1, 0, 0xbe81, 1, HOST_B, HOST_A};
    check_echo(state, &rep, UST_ICMP_ECHO_REPLY, 0xe164, 0x70eb, 1);
    struct frame f = frame(state, 11);
    assert_int_equal(f.p[14 + 20], 1);      /* NOP */
    assert_int_equal(f.p[14 + 21], 7);      /* RR */
    assert_int_equal(f.p[14 + 22], 39);
}

/* 5-7 (request) and 8-10 (reply): a 4008-byte ICMP message in fragments at
 * offsets 0, 1480, 2960 (frag field units of 8: 0, 185, 370). The ICMP
 * checksum only verifies over the reassembled message, and summing the
 * fragments' payloads one after the other (even sizes) gives the same sum. */
static void check_fragmented_echo(void **state, int first, uint32_t src, uint32_t dst, uint16_t id,
                                  const uint16_t csum[3], uint8_t type, uint16_t icmp_csum)
{
    static const uint16_t tot[3] = {1500, 1500, 1068};
    static const uint16_t frag[3] = {UST_IP_MF | 0, UST_IP_MF | 185, 370};
    uint8_t msg[4008];
    size_t msg_len = 0;
    uint32_t sum = 0;

    for (int i = 0; i < 3; i++) {
        const struct ip_expect e = {first + i, 20, 0, tot[i], id, frag[i], csum[i], 1, src, dst};
        struct frame f = frame(state, e.no);
        size_t off;
        struct ust_ipv4_hdr ip = check_ip(state, &e, &off);
        assert_true(ust_ipv4_is_fragment(&ip));
        assert_int_equal(ust_ipv4_more_frags(&ip), i < 2);
        assert_int_equal(ust_ipv4_frag_offset(&ip), msg_len);
        size_t n = ip.total_len - ip.hlen;
        sum = ust_csum_copy(msg + msg_len, f.p + off, n, sum);
        msg_len += n;
        if (i == 0) {  /* the first fragment alone does not verify */
            struct ust_icmp_hdr ic;
            assert_int_equal(ust_icmp_parse(f.p + off, n, &ic), UST_WIRE_BAD_CSUM);
        }
    }
    assert_int_equal(msg_len, sizeof(msg));
    assert_int_equal(ust_csum_fold(sum), 0);
    struct ust_icmp_hdr ic;
    assert_int_equal(ust_icmp_parse(msg, msg_len, &ic), 8);
    assert_int_equal(ic.type, type);
    assert_int_equal(ic.csum, icmp_csum);
    assert_int_equal(ust_icmp_echo_id(&ic), 0x70ea);
    assert_int_equal(ust_icmp_echo_seq(&ic), 1);
}

static void test_linux_fragmented_echo_reassembles_and_verifies(void **state)
{
    const uint16_t req_csum[3] = {0x75dd, 0x7524, 0x961b};
    check_fragmented_echo(state, 5, HOST_A, HOST_B, 0xca7b, req_csum, UST_ICMP_ECHO, 0x9bdc);
    const uint16_t rep_csum[3] = {0xe86b, 0xe7b2, 0x08aa};
    check_fragmented_echo(state, 8, HOST_B, HOST_A, 0x57ed, rep_csum, UST_ICMP_ECHO_REPLY, 0xa3dc);
}

/* ---- UDP and the ICMP error it caused ------------------------------------- */

static void test_linux_udp_datagram(void **state)
{
    /* 13: 10.99.0.1:60401 -> 10.99.0.2:9999, "hello-udp\n", UDP checksum 0xae92 */
    const struct ip_expect e = {13, 20, 0, 38, 0x5a46, UST_IP_DF, 0xcbb8, 17, HOST_A, HOST_B};
    struct frame f = frame(state, 13);
    size_t off;
    check_ip(state, &e, &off);
    struct ust_udp_hdr u;
    assert_int_equal(ust_udp_parse(f.p + off, 18, &u), 8);
    assert_int_equal(u.sport, 60401);
    assert_int_equal(u.dport, 9999);
    assert_int_equal(u.len, 18);
    assert_int_equal(u.csum, 0xae92);
    assert_memory_equal(f.p + off + 8, "hello-udp\n", 10);
    assert_true(ust_udp_csum_ok(f.p + off, 18, HOST_A, HOST_B));
    assert_false(ust_udp_csum_ok(f.p + off, 18, HOST_B + 1, HOST_A));  /* wrong pseudo-header */

    uint8_t out[18];
    memcpy(out, f.p + off, 18);
    memset(out, 0, 8);
    assert_int_equal(ust_udp_emit(out, sizeof(out), &u, HOST_A, HOST_B), 8);
    assert_memory_equal(out, f.p + off, 18);
}

static void test_linux_icmp_port_unreachable_quotes_udp(void **state)
{
    /* 14: Destination unreachable (Port unreachable), tos 0xc0 (CS6, as Linux
     * sends ICMP errors), quoting the IP header and all of frame 13's UDP. */
    const struct ip_expect e = {14, 20, 0xc0, 66, 0x57f2, 0, 0x0d41, 1, HOST_B, HOST_A};
    struct frame f = frame(state, 14);
    size_t off;
    check_ip(state, &e, &off);
    struct ust_icmp_hdr ic;
    assert_int_equal(ust_icmp_parse(f.p + off, 46, &ic), 8);
    assert_int_equal(ic.type, UST_ICMP_DEST_UNREACH);
    assert_int_equal(ic.code, UST_ICMP_PORT_UNREACH);
    assert_int_equal(ic.csum, 0x11e9);
    assert_int_equal(ic.rest, 0);

    struct ust_ipv4_hdr inner;
    assert_int_equal(ust_ipv4_parse(f.p + off + 8, 38, &inner), 20);
    assert_int_equal(inner.id, 0x5a46);
    assert_int_equal(inner.proto, UST_IPPROTO_UDP);
    assert_int_equal(inner.src, HOST_A);
    struct ust_udp_hdr u;
    assert_int_equal(ust_udp_parse(f.p + off + 28, 18, &u), 8);
    assert_int_equal(u.sport, 60401);
    assert_int_equal(u.dport, 9999);
    /* The quote in the ICMP error is byte for byte the datagram of frame 13. */
    assert_memory_equal(f.p + off + 8, frame(state, 13).p + 14, 38);

    uint8_t out[46];
    memcpy(out, f.p + off, 46);
    memset(out, 0, 8);
    assert_int_equal(ust_icmp_emit(out, sizeof(out), &ic, 38), 8);
    assert_memory_equal(out, f.p + off, 46);
}

/* ---- TCP ------------------------------------------------------------------ */

struct tcp_expect {
    struct ip_expect ip;
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint8_t hlen, flags;
    uint16_t win, csum;
    uint16_t payload;
    uint8_t present;
    uint16_t mss;
    uint8_t wscale;
    uint32_t tsval, tsecr;
    uint8_t nsack;
    struct ust_tcp_sack_block sack[3];
};

#define TS_A 1271556053u
#define TS_B 2436749797u
#define ISS_A 952879998u
#define ISS_B 2609385871u
#define SYN_OPTS (UST_TCPO_MSS | UST_TCPO_WSCALE | UST_TCPO_SACK_PERM | UST_TCPO_TIMESTAMP)
#define TS_SACK (UST_TCPO_TIMESTAMP | UST_TCPO_SACK)
#define A_TO_B(no, tot, id, csum) {no, 20, 0, tot, id, UST_IP_DF, csum, 6, HOST_A, HOST_B}
#define B_TO_A(no, tot, id, csum) {no, 20, 0, tot, id, UST_IP_DF, csum, 6, HOST_B, HOST_A}

static const struct tcp_expect tcp_frames[] = {
    /* 15: [SYN] MSS=1460 SACK_PERM TSval=1271556053 TSecr=0 WS=1024 (shift 10) */
    {A_TO_B(15, 60, 0x0052, 0x25a2), 45104, 5000, ISS_A, 0, 40, UST_TCP_SYN, 64240, 0xbca1, 0,
     SYN_OPTS, 1460, 10, TS_A, 0, 0, {{0, 0}}},
    /* 16: [SYN, ACK] MSS=1460 SACK_PERM TSval=2436749797 TSecr=1271556053 WS=1024 */
    {B_TO_A(16, 60, 0x0000, 0x25f4), 5000, 45104, ISS_B, ISS_A + 1, 40, UST_TCP_SYN | UST_TCP_ACK,
     65160, 0xa0bd, 0, SYN_OPTS, 1460, 10, TS_B, TS_A, 0, {{0, 0}}},
    /* 17: [ACK] NOP NOP TS */
    {A_TO_B(17, 52, 0x0053, 0x25a9), 45104, 5000, ISS_A + 1, ISS_B + 1, 32, UST_TCP_ACK, 63, 0xcdd6,
     0, UST_TCPO_TIMESTAMP, 0, 0, TS_A, TS_B, 0, {{0, 0}}},
    /* 18: [PSH, ACK] Len=10 "hello tcp\n" */
    {A_TO_B(18, 62, 0x0054, 0x259e), 45104, 5000, ISS_A + 1, ISS_B + 1, 32, UST_TCP_PSH | UST_TCP_ACK,
     63, 0xa564, 10, UST_TCPO_TIMESTAMP, 0, 0, TS_A, TS_B, 0, {{0, 0}}},
    /* 19: [ACK] */
    {B_TO_A(19, 52, 0x91ec, 0x940f), 5000, 45104, ISS_B + 1, ISS_A + 11, 32, UST_TCP_ACK, 64, 0xcdcb,
     0, UST_TCPO_TIMESTAMP, 0, 0, TS_B, TS_A, 0, {{0, 0}}},
    /* 20: [PSH, ACK] Len=15 (odd: the checksum pads the last byte) */
    {B_TO_A(20, 67, 0x91ed, 0x93ff), 5000, 45104, ISS_B + 1, ISS_A + 11, 32, UST_TCP_PSH | UST_TCP_ACK,
     64, 0x65b9, 15, UST_TCPO_TIMESTAMP, 0, 0, TS_B, TS_A, 0, {{0, 0}}},
    /* 21: [ACK] */
    {A_TO_B(21, 52, 0x0055, 0x25a7), 45104, 5000, ISS_A + 11, ISS_B + 16, 32, UST_TCP_ACK, 63, 0xcdbd,
     0, UST_TCPO_TIMESTAMP, 0, 0, TS_A, TS_B, 0, {{0, 0}}},
    /* 22: [FIN, ACK] */
    {A_TO_B(22, 52, 0x0056, 0x25a6), 45104, 5000, ISS_A + 11, ISS_B + 16, 32, UST_TCP_FIN | UST_TCP_ACK,
     63, 0xcdbc, 0, UST_TCPO_TIMESTAMP, 0, 0, TS_A, TS_B, 0, {{0, 0}}},
    /* 23: [FIN, ACK] */
    {B_TO_A(23, 52, 0x91ee, 0x940d), 5000, 45104, ISS_B + 16, ISS_A + 12, 32, UST_TCP_FIN | UST_TCP_ACK,
     64, 0xcdb9, 0, UST_TCPO_TIMESTAMP, 0, 0, TS_B + 1, TS_A, 0, {{0, 0}}},
    /* 24: [ACK] */
    {A_TO_B(24, 52, 0x0057, 0x25a5), 45104, 5000, ISS_A + 12, ISS_B + 17, 32, UST_TCP_ACK, 63, 0xcdb9,
     0, UST_TCPO_TIMESTAMP, 0, 0, TS_A + 1, TS_B + 1, 0, {{0, 0}}},
    /* 25: [ACK] SLE=3294778342 SRE=3294779790 (NOP NOP TS NOP NOP SACK) */
    {B_TO_A(25, 64, 0x42d6, 0xe319), 5001, 42760, 3250969570u, 3294773998u, 44, UST_TCP_ACK, 80,
     0x1d20, 0, TS_SACK, 0, 0, 1799130929u, 815484319u, 1, {{3294778342u, 3294779790u}}},
    /* 26: [ACK] with 2 SACK blocks */
    {B_TO_A(26, 72, 0x42f2, 0xe2f5), 5001, 42760, 3250969570u, 3294807302u, 52, UST_TCP_ACK, 80,
     0x8197, 0, TS_SACK, 0, 0, 1799130944u, 815484331u, 2,
     {{3294829022u, 3294830470u}, {3294814542u, 3294823230u}}},
    /* 27: [ACK] with 3 SACK blocks: 40 option bytes, the most Linux fits with TS */
    {B_TO_A(27, 80, 0x4321, 0xe2be), 5001, 42760, 3250969570u, 3294878254u, 60, UST_TCP_ACK, 78,
     0xe90f, 0, TS_SACK, 0, 0, 1799130973u, 815484364u, 3,
     {{3294908662u, 3294910110u}, {3294897078u, 3294901422u}, {3294885494u, 3294888390u}}},
};

static void check_tcp(void **state, const struct tcp_expect *e)
{
    struct frame f = frame(state, e->ip.no);
    size_t off;
    struct ust_ipv4_hdr ip = check_ip(state, &e->ip, &off);
    size_t l4_len = ip.total_len - ip.hlen;
    struct ust_tcp_hdr t;

    assert_int_equal(ust_tcp_parse(f.p + off, l4_len, &t), e->hlen);
    assert_int_equal(t.sport, e->sport);
    assert_int_equal(t.dport, e->dport);
    assert_int_equal(t.seq, e->seq);
    assert_int_equal(t.ack, e->ack);
    assert_int_equal(t.hlen, e->hlen);
    assert_int_equal(t.flags, e->flags);
    assert_int_equal(t.win, e->win);
    assert_int_equal(t.csum, e->csum);
    assert_int_equal(t.urg, 0);
    assert_int_equal(l4_len - t.hlen, e->payload);
    assert_int_equal(t.opts.present, e->present);
    assert_int_equal(t.opts.mss, e->mss);
    assert_int_equal(t.opts.wscale, e->wscale);
    assert_int_equal(t.opts.tsval, e->tsval);
    assert_int_equal(t.opts.tsecr, e->tsecr);
    assert_int_equal(t.opts.nsack, e->nsack);
    for (int i = 0; i < e->nsack; i++) {
        assert_int_equal(t.opts.sack[i].left, e->sack[i].left);
        assert_int_equal(t.opts.sack[i].right, e->sack[i].right);
    }
    assert_true(ust_tcp_csum_ok(f.p + off, l4_len, ip.src, ip.dst));
    assert_false(ust_tcp_csum_ok(f.p + off, l4_len, ip.dst, ip.src + 1));

    /* Round trip: Linux's option layout is ours, byte for byte. */
    uint8_t out[128];
    assert_int_equal(ust_tcp_opts_len(&t.opts), t.hlen - 20);
    assert_int_equal(ust_tcp_emit(out, t.hlen - 1, &t), 0);  /* does not fit */
    assert_int_equal(ust_tcp_emit(out, sizeof(out), &t), t.hlen);
    memcpy(out + t.hlen, f.p + off + t.hlen, l4_len - t.hlen);
    ust_tcp_set_csum(out, l4_len, ip.src, ip.dst);
    assert_memory_equal(out, f.p + off, l4_len);
}

static void test_linux_tcp_connection_and_sack(void **state)
{
    for (size_t i = 0; i < UST_ARRAY_SIZE(tcp_frames); i++)
        check_tcp(state, &tcp_frames[i]);
    /* The SYN's options are exactly Linux's: mss | sackOK TS | nop wscale. */
    uint8_t syn_opts[20] = {0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a, 0, 0,
                            0, 0, 0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x03, 0x0a};
    ust_put_be32(syn_opts + 8, TS_A);
    assert_memory_equal(frame(state, 15).p + 14 + 20 + 20, syn_opts, 20);
    assert_memory_equal(frame(state, 18).p + 14 + 20 + 32, "hello tcp\n", 10);
}

/* Every frame, cut short at every length, fails cleanly at the first layer
 * that notices, never reading past the cut (ASan checks the reads). */
static void test_linux_frames_truncated_at_every_length(void **state)
{
    for (int no = 1; no <= NFRAMES; no++) {
        struct frame f = frame(state, no);
        for (size_t len = 0; len < f.len; len++) {
            uint8_t *cut = malloc(len ? len : 1);
            memcpy(cut, f.p, len);
            struct ust_eth_hdr eh;
            int r = ust_eth_parse(cut, len, &eh);
            if (len < 14) {
                assert_int_equal(r, UST_WIRE_TRUNCATED);
            } else if (eh.type == UST_ETHERTYPE_ARP) {
                struct ust_arp_pkt a;
                assert_int_equal(ust_arp_parse(cut + 14, len - 14, &a), UST_WIRE_TRUNCATED);
            } else {
                struct ust_ipv4_hdr ip;
                /* The IP total length always covers the cut-off bytes. */
                assert_int_equal(ust_ipv4_parse(cut + 14, len - 14, &ip), UST_WIRE_TRUNCATED);
            }
            free(cut);
        }
    }
}

/* The L4 headers of the captured frames, cut short inside the header (or,
 * for UDP, inside its stated length): TRUNCATED, reading only what is there. */
static void test_linux_l4_headers_truncated_at_every_length(void **state)
{
    for (int no = 3; no <= NFRAMES; no++) {
        struct frame f = frame(state, no);
        struct ust_ipv4_hdr ip;
        assert_true(ust_ipv4_parse(f.p + 14, f.len - 14, &ip) > 0);
        if (ust_ipv4_is_fragment(&ip))
            continue;
        const uint8_t *l4 = f.p + 14 + ip.hlen;
        size_t l4_len = ip.total_len - ip.hlen;
        struct ust_tcp_hdr t;
        size_t need = ip.proto == UST_IPPROTO_TCP ? (size_t)(l4[12] >> 4) * 4
                    : ip.proto == UST_IPPROTO_UDP ? l4_len : UST_ICMP_HLEN;
        for (size_t n = 0; n < need; n++) {
            uint8_t *cut = malloc(n ? n : 1);
            memcpy(cut, l4, n);
            int r;
            if (ip.proto == UST_IPPROTO_TCP) {
                r = ust_tcp_parse(cut, n, &t);
            } else if (ip.proto == UST_IPPROTO_UDP) {
                struct ust_udp_hdr u;
                r = ust_udp_parse(cut, n, &u);
            } else {
                struct ust_icmp_hdr ic;
                r = ust_icmp_parse(cut, n, &ic);
            }
            assert_int_equal(r, UST_WIRE_TRUNCATED);
            free(cut);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_linux_arp_request_and_reply),
        cmocka_unit_test(test_linux_icmp_echo_100_bytes),
        cmocka_unit_test(test_linux_icmp_echo_with_record_route_option),
        cmocka_unit_test(test_linux_fragmented_echo_reassembles_and_verifies),
        cmocka_unit_test(test_linux_udp_datagram),
        cmocka_unit_test(test_linux_icmp_port_unreachable_quotes_udp),
        cmocka_unit_test(test_linux_tcp_connection_and_sack),
        cmocka_unit_test(test_linux_frames_truncated_at_every_length),
        cmocka_unit_test(test_linux_l4_headers_truncated_at_every_length),
    };
    return cmocka_run_group_tests(tests, load_capture, free_capture);
}
