/* UDP (RFC 768, RFC 1122 4.1) and ICMP ping sockets: the protocol side of
 * datagram sockets. The socket API side is in sock/. */
#ifndef UST_NET_UDP_H
#define UST_NET_UDP_H

#include <stdbool.h>
#include <stdint.h>

#include "core/fbuf.h"
#include "wire/wire.h"

struct ust_stack;
/* Port table and sockets of UDP inside struct ust_stack (owner defines). */
struct ust_udp_state;

int ust_udp_init(struct ust_stack *stack);
void ust_udp_fini(struct ust_stack *stack);

/* IPv4 input hands a UDP datagram here: fb->data at the UDP header, fb->len
 * the IP payload length, fb->l3 the IPv4 header. Verifies the checksum,
 * delivers to the matching socket or answers ICMP port unreachable. Takes
 * ownership. */
void ust_udp_input(struct ust_stack *stack, struct ust_fbuf *fb, const struct ust_ipv4_hdr *ih);

/* ICMP input hands an ICMP echo reply here (fb->data at the ICMP header).
 * Returns true if a ping socket took it (ownership passes), false otherwise. */
bool ust_ping_input(struct ust_stack *stack, struct ust_fbuf *fb, const struct ust_ipv4_hdr *ih);

/* ICMP input reports an error about a datagram we sent: `inner` is the
 * quoted IPv4 header, l4 its first bytes (at least 8). err is the errno it
 * maps to (ECONNREFUSED for port unreachable, EHOSTUNREACH...). */
void ust_udp_icmp_error(struct ust_stack *stack, const struct ust_ipv4_hdr *inner,
                        const uint8_t *l4, size_t l4_len, int err);

#endif
