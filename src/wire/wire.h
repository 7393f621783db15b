/* wire/: stateless parsing and emitting of the headers ustack speaks.
 *
 * Rules for everything here:
 *  - Parsers read from a byte buffer of known length and fill a struct; they
 *    never read past `len`, never cast a struct onto the buffer, and return the
 *    header length in bytes (> 0) or a negative enum ust_wire_err.
 *  - Emitters write a header into a buffer of capacity `cap` and return the
 *    bytes written, or 0 if it does not fit.
 *  - Every multi-byte field in the structs is in HOST byte order (addresses
 *    and ports included). Conversion happens only here and at the socket API.
 *  - Nothing here knows about a stack, a socket or a connection. */
#ifndef UST_WIRE_WIRE_H
#define UST_WIRE_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum ust_wire_err {
    UST_WIRE_TRUNCATED = -1,    /* fewer bytes than the header (or its stated length) needs */
    UST_WIRE_BAD_VERSION = -2,  /* IPv4 version != 4 */
    UST_WIRE_BAD_LENGTH = -3,   /* a length field is inconsistent (IHL < 5, total < IHL, UDP len < 8...) */
    UST_WIRE_BAD_CSUM = -4,     /* checksum does not verify */
    UST_WIRE_BAD_OPTION = -5,   /* TCP/IP option with length 0/1 or running past the header */
    UST_WIRE_UNSUPPORTED = -6,  /* e.g. ARP for a hardware/protocol other than Ethernet/IPv4 */
};
const char *ust_wire_strerror(int err);

/* ---- Internet checksum (RFC 1071) ------------------------------------- */

/* One's-complement sum of len bytes added to `sum` (32-bit partial, not folded).
 * Processes 8 bytes per step. Odd lengths and any alignment are fine; the
 * result is the same as summing big-endian 16-bit words. */
uint32_t ust_csum_partial(const void *data, size_t len, uint32_t sum);
/* Folds a partial sum to 16 bits and complements it: the value to put in a header. */
uint16_t ust_csum_fold(uint32_t sum);
/* Partial sum of the IPv4 pseudo-header (RFC 793 / RFC 768): src, dst, proto, L4 length. */
uint32_t ust_csum_pseudo(uint32_t src, uint32_t dst, uint8_t proto, uint16_t l4_len);
/* Checksum of a whole buffer: ust_csum_fold(ust_csum_partial(data, len, 0)). */
uint16_t ust_inet_csum(const void *data, size_t len);
/* Copies len bytes and returns their partial sum, in one pass. */
uint32_t ust_csum_copy(void *dst, const void *src, size_t len, uint32_t sum);
/* Incremental sums: partial sums are canonical (folded to 16 bits, 0 only for
 * all-zero data), so ust_csum_partial(b, nb, ust_csum_partial(a, na, s)) equals
 * the sum of a and b concatenated whenever na is EVEN. A block that starts at
 * an odd offset of the message must be summed on its own and added with
 * ust_csum_block_add(sum, block_sum, offset) (RFC 1071 section 2(B): its bytes
 * land in the other half of each 16-bit word). */
uint32_t ust_csum_block_add(uint32_t sum, uint32_t block, size_t offset);

/* ---- Ethernet II ------------------------------------------------------ */

#define UST_ETH_HLEN 14
#define UST_ETH_ALEN 6
#define UST_ETHERTYPE_IPV4 0x0800
#define UST_ETHERTYPE_ARP 0x0806
#define UST_ETHERTYPE_VLAN 0x8100

struct ust_eth_hdr {
    uint8_t dst[UST_ETH_ALEN];
    uint8_t src[UST_ETH_ALEN];
    uint16_t type;
};
int ust_eth_parse(const uint8_t *p, size_t len, struct ust_eth_hdr *h);
size_t ust_eth_emit(uint8_t *p, size_t cap, const struct ust_eth_hdr *h);
extern const uint8_t ust_eth_broadcast[UST_ETH_ALEN];
static inline bool ust_eth_is_multicast(const uint8_t *a) { return (a[0] & 1) != 0; }

/* ---- ARP for Ethernet/IPv4 (RFC 826) ---------------------------------- */

#define UST_ARP_LEN 28
#define UST_ARP_REQUEST 1
#define UST_ARP_REPLY 2

struct ust_arp_pkt {
    uint16_t op;
    uint8_t sha[UST_ETH_ALEN];  /* sender hardware address */
    uint32_t spa;               /* sender protocol address */
    uint8_t tha[UST_ETH_ALEN];  /* target hardware address */
    uint32_t tpa;               /* target protocol address */
};
/* Checks htype 1, ptype 0x0800, hlen 6, plen 4 (else UST_WIRE_UNSUPPORTED). */
int ust_arp_parse(const uint8_t *p, size_t len, struct ust_arp_pkt *a);
size_t ust_arp_emit(uint8_t *p, size_t cap, const struct ust_arp_pkt *a);

/* ---- IPv4 (RFC 791) --------------------------------------------------- */

#define UST_IPV4_MIN_HLEN 20
#define UST_IPV4_MAX_HLEN 60
#define UST_IPPROTO_ICMP 1
#define UST_IPPROTO_TCP 6
#define UST_IPPROTO_UDP 17
#define UST_IP_DF 0x4000
#define UST_IP_MF 0x2000
#define UST_IP_OFFMASK 0x1fff

struct ust_ipv4_hdr {
    uint8_t hlen;               /* header length in bytes (IHL * 4) */
    uint8_t tos;
    uint16_t total_len;
    uint16_t id;
    uint16_t frag;              /* raw flags+offset field: UST_IP_DF, UST_IP_MF, offset in 8-byte units */
    uint8_t ttl;
    uint8_t proto;
    uint16_t csum;
    uint32_t src;
    uint32_t dst;
};
static inline uint32_t ust_ipv4_frag_offset(const struct ust_ipv4_hdr *h) { return (uint32_t)(h->frag & UST_IP_OFFMASK) * 8u; }
static inline bool ust_ipv4_more_frags(const struct ust_ipv4_hdr *h) { return (h->frag & UST_IP_MF) != 0; }
static inline bool ust_ipv4_is_fragment(const struct ust_ipv4_hdr *h) { return (h->frag & (UST_IP_MF | UST_IP_OFFMASK)) != 0; }
/* Validates version, IHL >= 5, total_len >= IHL*4 and <= len, the header
 * checksum, and that any options are well-formed (skipped, not interpreted).
 * Returns hlen. Bytes past total_len (link padding) are the caller's to trim. */
int ust_ipv4_parse(const uint8_t *p, size_t len, struct ust_ipv4_hdr *h);
/* An IPv4 header quoted inside an ICMP error (RFC 792): usually cut short
 * after 8 bytes of payload, so only version, IHL >= 5 and that the header
 * itself fits in len are checked; no checksum, no total_len. Returns hlen. */
int ust_ipv4_parse_quoted(const uint8_t *p, size_t len, struct ust_ipv4_hdr *h);
/* Writes a 20-byte header (no options) with the checksum computed; h->hlen
 * and h->csum are ignored. */
size_t ust_ipv4_emit(uint8_t *p, size_t cap, const struct ust_ipv4_hdr *h);

/* ---- ICMP (RFC 792) --------------------------------------------------- */

#define UST_ICMP_HLEN 8
#define UST_ICMP_ECHO_REPLY 0
#define UST_ICMP_DEST_UNREACH 3
#define UST_ICMP_SOURCE_QUENCH 4
#define UST_ICMP_REDIRECT 5
#define UST_ICMP_ECHO 8
#define UST_ICMP_TIME_EXCEEDED 11
#define UST_ICMP_PARAM_PROB 12
/* codes for DEST_UNREACH */
#define UST_ICMP_NET_UNREACH 0
#define UST_ICMP_HOST_UNREACH 1
#define UST_ICMP_PROT_UNREACH 2
#define UST_ICMP_PORT_UNREACH 3
#define UST_ICMP_FRAG_NEEDED 4
/* codes for TIME_EXCEEDED */
#define UST_ICMP_EXC_TTL 0
#define UST_ICMP_EXC_FRAGTIME 1

struct ust_icmp_hdr {
    uint8_t type;
    uint8_t code;
    uint16_t csum;
    uint32_t rest;              /* id<<16|seq for echo; next-hop MTU for frag-needed; 0 otherwise */
};
static inline uint16_t ust_icmp_echo_id(const struct ust_icmp_hdr *h) { return (uint16_t)(h->rest >> 16); }
static inline uint16_t ust_icmp_echo_seq(const struct ust_icmp_hdr *h) { return (uint16_t)h->rest; }
/* Parses the 8-byte header and verifies the checksum over all len bytes
 * (the whole ICMP message). */
int ust_icmp_parse(const uint8_t *p, size_t len, struct ust_icmp_hdr *h);
/* Writes the header; checksum covers header + payload_len bytes that follow
 * at p + 8 (already in place). cap must cover 8 + payload_len. */
size_t ust_icmp_emit(uint8_t *p, size_t cap, const struct ust_icmp_hdr *h, size_t payload_len);

/* ---- UDP (RFC 768) ---------------------------------------------------- */

#define UST_UDP_HLEN 8

struct ust_udp_hdr {
    uint16_t sport;
    uint16_t dport;
    uint16_t len;               /* header + payload */
    uint16_t csum;
};
/* Checks 8 <= h.len <= len. Does not verify the checksum (needs the
 * pseudo-header): use ust_udp_csum_ok. */
int ust_udp_parse(const uint8_t *p, size_t len, struct ust_udp_hdr *h);
/* p points at a UDP header + payload of l4_len bytes. A zero checksum field
 * means "none" (RFC 768) and verifies. */
bool ust_udp_csum_ok(const uint8_t *p, size_t l4_len, uint32_t src, uint32_t dst);
/* Writes the header; the checksum covers header + payload already at p + 8
 * (h->len bytes in all), with the pseudo-header; a computed 0 becomes 0xffff. */
size_t ust_udp_emit(uint8_t *p, size_t cap, const struct ust_udp_hdr *h, uint32_t src, uint32_t dst);

/* ---- TCP (RFC 9293, options RFC 7323, RFC 2018) ----------------------- */

#define UST_TCP_MIN_HLEN 20
#define UST_TCP_MAX_HLEN 60
#define UST_TCP_FIN 0x01
#define UST_TCP_SYN 0x02
#define UST_TCP_RST 0x04
#define UST_TCP_PSH 0x08
#define UST_TCP_ACK 0x10
#define UST_TCP_URG 0x20
#define UST_TCP_ECE 0x40
#define UST_TCP_CWR 0x80

#define UST_TCPOPT_EOL 0
#define UST_TCPOPT_NOP 1
#define UST_TCPOPT_MSS 2
#define UST_TCPOPT_WSCALE 3
#define UST_TCPOPT_SACK_PERM 4
#define UST_TCPOPT_SACK 5
#define UST_TCPOPT_TIMESTAMP 8

/* Which options a struct ust_tcp_opts carries. */
#define UST_TCPO_MSS 0x01
#define UST_TCPO_WSCALE 0x02
#define UST_TCPO_SACK_PERM 0x04
#define UST_TCPO_TIMESTAMP 0x08
#define UST_TCPO_SACK 0x10

#define UST_TCP_MAX_SACK 4

struct ust_tcp_sack_block {
    uint32_t left, right;       /* [left, right) sequence numbers */
};

struct ust_tcp_opts {
    uint8_t present;            /* UST_TCPO_* */
    uint8_t wscale;             /* shift count as received (caller clamps to 14, RFC 7323 2.3) */
    uint16_t mss;
    uint32_t tsval, tsecr;
    uint8_t nsack;
    struct ust_tcp_sack_block sack[UST_TCP_MAX_SACK];
};

struct ust_tcp_hdr {
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint8_t hlen;               /* data offset in bytes */
    uint8_t flags;              /* UST_TCP_* */
    uint16_t win;               /* raw window field (unscaled) */
    uint16_t csum;
    uint16_t urg;
    struct ust_tcp_opts opts;
};
/* Parses header and options. Unknown options are skipped by their length;
 * EOL ends the list; an option whose length is 0, 1 or runs past the header
 * is UST_WIRE_BAD_OPTION (never a loop). A known option with the wrong length
 * is ignored (as Linux does). Does not verify the checksum: ust_tcp_csum_ok.
 * Options are reported whatever the flags: honouring MSS, window scale and
 * SACK-permitted only on a SYN is the TCP layer's decision. */
int ust_tcp_parse(const uint8_t *p, size_t len, struct ust_tcp_hdr *h);
bool ust_tcp_csum_ok(const uint8_t *p, size_t l4_len, uint32_t src, uint32_t dst);
/* Bytes the options in `o` take when emitted (padded to a multiple of 4). */
size_t ust_tcp_opts_len(const struct ust_tcp_opts *o);
/* How many SACK blocks fit (up to UST_TCP_MAX_SACK) next to the other options
 * in `o` within the 40 option bytes: 4 alone, 3 with timestamps (as Linux),
 * 2 next to all four SYN options.
 * ust_tcp_opts_len and ust_tcp_emit leave out blocks past this number. */
unsigned ust_tcp_sack_room(const struct ust_tcp_opts *o);
/* Writes header + options (in Linux's SYN order: MSS, SACK-permitted,
 * timestamps, NOP, window scale; SACK blocks after timestamps), hlen computed.
 * Checksum field written as 0: the caller adds it with ust_tcp_set_csum once
 * the payload is in place. Returns the header length. */
size_t ust_tcp_emit(uint8_t *p, size_t cap, const struct ust_tcp_hdr *h);
/* Computes and stores the checksum of the segment at p (header + payload, l4_len bytes). */
void ust_tcp_set_csum(uint8_t *p, size_t l4_len, uint32_t src, uint32_t dst);

/* ---- Addresses ------------------------------------------------------- */

/* "a.b.c.d" for a host-order address, into buf (>= 16 bytes); returns buf. */
char *ust_ipv4_ntoa(uint32_t addr, char *buf);
static inline bool ust_ipv4_is_multicast(uint32_t a) { return (a >> 28) == 0xe; }
static inline bool ust_ipv4_is_loopback(uint32_t a) { return (a >> 24) == 127; }
static inline bool ust_ipv4_is_limited_bcast(uint32_t a) { return a == 0xffffffffu; }

#endif
