/* struct ust_sk: the protocol-independent part of an Internet socket
 * (Linux's struct sock + inet_sock, much reduced). UDP and ping sockets embed
 * it now, TCP will; the socket API (sock/) reads and sets options through it
 * without knowing the protocol. Addresses and ports are host byte order.
 * Owner: net/udp.c (the first protocol that needed it). */
#ifndef UST_NET_SK_H
#define UST_NET_SK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ust_stack;
struct ust_waitq;

/* Linux's smallest buffer sizes (SOCK_MIN_RCVBUF, SOCK_MIN_SNDBUF): two
 * (one for receive) full-sized packets' worth of truesize. */
#define UST_SOCK_MIN_RCVBUF 2304u
#define UST_SOCK_MIN_SNDBUF 4608u

struct ust_sk {
    struct ust_stack *stack;
    struct ust_waitq *wq;       /* the file's queue: woken on POLLIN/POLLOUT/POLLERR */
    int type;                   /* SOCK_DGRAM, SOCK_STREAM */
    int protocol;               /* IPPROTO_UDP, IPPROTO_ICMP (ping), IPPROTO_TCP */

    /* Addresses (Linux inet_sock). */
    uint32_t laddr;             /* inet_rcv_saddr: receive only for it; 0 = any */
    uint32_t saddr;             /* source of sends; 0 = the route's */
    uint16_t lport;             /* bound port (ping: echo identifier); 0 = unbound */
    uint32_t raddr;             /* peer when connected */
    uint16_t rport;
    bool connected;

    /* Receive accounting (SO_RCVBUF): truesize of queued buffers. */
    size_t rmem_alloc;
    uint64_t drops;             /* datagrams dropped for lack of room */

    /* SOL_SOCKET options, as getsockopt reports them. */
    unsigned rcvbuf, sndbuf;    /* bytes (Linux doubles what setsockopt asks) */
    int err;                    /* pending error (SO_ERROR), positive errno; 0 = none */
    bool reuseaddr;             /* SO_REUSEADDR */
    bool reuseport;             /* SO_REUSEPORT: share the port with others that set it */
    bool broadcast;             /* SO_BROADCAST */
    bool keepalive;             /* SO_KEEPALIVE (stored; TCP will use it) */
    bool oobinline;             /* SO_OOBINLINE: TCP's urgent byte stays in the stream */

    /* IPPROTO_IP options. */
    uint8_t ttl;                /* IP_TTL; 0 = the stack's default */
    uint8_t tos;                /* IP_TOS */
};

/* Reads and clears the pending error (sock_error()): a positive errno or 0. */
static inline int ust_sk_take_err(struct ust_sk *sk)
{
    int e = sk->err;
    sk->err = 0;
    return e;
}

#endif
