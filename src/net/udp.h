/* UDP (RFC 768, RFC 1122 4.1) and ICMP ping sockets: the protocol side of
 * datagram sockets. The socket API side is in sock/. All functions assume
 * the stack lock is held; addresses and ports are host byte order; results
 * are >= 0 or a negative errno, as Linux's udp.c/ping.c would return them. */
#ifndef UST_NET_UDP_H
#define UST_NET_UDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "core/fbuf.h"
#include "core/htable.h"
#include "net/sk.h"
#include "wire/wire.h"

struct ust_stack;
struct ust_waitq;
/* Port table and sockets of UDP inside struct ust_stack (udp_state.h). */
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
 * maps to (ECONNREFUSED for port unreachable, EHOSTUNREACH...). Quoted UDP
 * datagrams and ICMP echo requests (ping sockets) are matched to their
 * socket. As in Linux (without IP_RECVERR), only a connected socket takes
 * the error, and only a hard one: ECONNREFUSED, ENOPROTOOPT, EPROTO,
 * EHOSTDOWN, ENONET (net/host unreachable, time exceeded and frag needed are
 * soft errors). */
void ust_udp_icmp_error(struct ust_stack *stack, const struct ust_ipv4_hdr *inner,
                        const uint8_t *l4, size_t l4_len, int err);

/* ---- Datagram sockets (UDP and ping), for sock/ ------------------------ */

struct ust_udp_sock {
    struct ust_sk sk;
    struct ust_hnode node;      /* in udp.ports while bound (hashed) */
    bool hashed;
    bool addr_locked;           /* local address chosen by bind (Linux SOCK_BINDADDR_LOCK) */
    bool port_locked;           /* port chosen by bind (SOCK_BINDPORT_LOCK) */
    uint64_t bind_seq;
    bool reuseport_grp;         /* SO_REUSEPORT was set at bind: a member of the port's group */
    struct ust_fbq rxq;         /* datagrams; source in fb->cb.dgram */
    /* Send accounting (Linux sk_wmem_alloc): bytes of sent frames a driver,
     * the ARP queue or an impairment still holds. Against SO_SNDBUF. */
    size_t wmem_alloc;
    bool dead;                  /* closed while frames were charged: freed at 0 */
    struct ust_fbuf *cork;      /* MSG_MORE: the datagram being gathered (UDP header room
                                 * first, destination in cb.dgram); NULL when none */
};

/* A destination or source: address and port. */
struct ust_inet_addr {
    uint32_t addr;
    uint16_t port;
};

/* protocol: IPPROTO_UDP or IPPROTO_ICMP. wq: woken on arrival and errors.
 * NULL when out of memory. */
struct ust_udp_sock *ust_udp_sock_new(struct ust_stack *stack, int protocol, struct ust_waitq *wq);
/* Leaves the port table and frees queued datagrams and the socket. */
void ust_udp_sock_free(struct ust_udp_sock *us);

/* bind(2): -EINVAL if already bound, -EADDRNOTAVAIL for an address not ours,
 * -EADDRINUSE on conflict (port 0: an ephemeral port). */
int ust_udp_bind(struct ust_udp_sock *us, uint32_t addr, uint16_t port);
/* Binds an ephemeral port if unbound (Linux inet_autobind); -EAGAIN when
 * none is free. */
int ust_udp_autobind(struct ust_udp_sock *us);
/* connect(2): sets the default destination and the peer filter; picks the
 * local address from the route. -ENETUNREACH, -EACCES (broadcast without
 * SO_BROADCAST). */
int ust_udp_connect(struct ust_udp_sock *us, uint32_t addr, uint16_t port);
/* connect(AF_UNSPEC): forgets the peer; a local address or port that bind
 * did not choose is released too (Linux __udp_disconnect). */
void ust_udp_disconnect(struct ust_udp_sock *us);

/* Sends one datagram made of the len bytes of the list iov (UDP payload,
 * or for ping an ICMP echo request header + data); the list was checked by
 * the caller (ust_iov_check). dst NULL = the connected peer. UDP with
 * MSG_MORE: the bytes wait and later sends append to the same datagram,
 * which goes with the first send without MSG_MORE (Linux corking; the
 * first send's destination counts). Never blocks:
 * -EAGAIN when the frames still held by drivers already fill SO_SNDBUF
 * (Linux sock_alloc_send_pskb); the caller waits for POLLOUT. */
ssize_t ust_udp_sendmsg(struct ust_udp_sock *us, const struct iovec *iov, size_t iovcnt,
                        size_t len, int flags, const struct ust_inet_addr *dst);
/* Takes (MSG_PEEK: copies) the next datagram: up to len bytes into the
 * list, the rest of it discarded; returns the bytes copied, or the
 * datagram's length with MSG_TRUNC. *msg_flags (may be NULL) gets
 * MSG_TRUNC when the datagram was longer than len. A pending error comes
 * first. -EAGAIN when none is queued. src (may be NULL) gets the sender
 * (port 0 for ping). */
ssize_t ust_udp_recvmsg(struct ust_udp_sock *us, const struct iovec *iov, size_t iovcnt,
                        size_t len, int flags, struct ust_inet_addr *src, int *msg_flags);
/* Socket writeable (Linux sock_writeable): charged bytes below half of
 * SO_SNDBUF. */
bool ust_udp_writeable(const struct ust_udp_sock *us);
/* POLL* events true now. */
uint32_t ust_udp_poll(const struct ust_udp_sock *us);
/* Length of the next datagram (FIONREAD), 0 when none. */
size_t ust_udp_next_len(const struct ust_udp_sock *us);

/* ---- Shared by udp.c and ping.c --------------------------------------- */

/* True for 255.255.255.255 and the directed broadcast address of any of the
 * stack's interfaces. */
bool ust_udp_is_broadcast(struct ust_stack *stack, uint32_t addr);
/* Finds the route to *daddr (0 means ourselves, as Linux), checks the
 * broadcast permission and picks the source address. */
int ust_udp_route(struct ust_udp_sock *us, uint32_t *daddr, uint32_t *saddr);
/* Queues a received datagram on us (bounded by SO_RCVBUF) and wakes
 * readers; false (buffer freed, drop counted) when the queue is full. */
bool ust_udp_queue_rcv(struct ust_udp_sock *us, struct ust_fbuf *fb);
/* The best socket for a datagram daddr:dport from saddr:sport (ping: the
 * echo id as dport, remote ignored), or NULL. */
struct ust_udp_sock *ust_udp_lookup(struct ust_stack *stack, int protocol, uint32_t daddr,
                                    uint16_t dport, uint32_t saddr, uint16_t sport);
ssize_t ust_ping_sendmsg(struct ust_udp_sock *us, const struct iovec *iov, size_t iovcnt,
                         size_t len, int flags, const struct ust_inet_addr *dst);
/* -EAGAIN when the socket's charged frames fill SO_SNDBUF (a new frame
 * may be allocated while any room is left, as Linux). */
int ust_udp_wmem_check(const struct ust_udp_sock *us);
/* Charges a frame about to be sent to us until it is freed (sock_wfree). */
void ust_udp_charge(struct ust_udp_sock *us, struct ust_fbuf *fb);

#endif
