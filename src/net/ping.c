/* Ping sockets (Linux's SOCK_DGRAM + IPPROTO_ICMP, net/ipv4/ping.c): an
 * unprivileged way to send ICMP echo requests (RFC 792) and read the replies.
 *
 * The socket's "port" is the echo identifier: bind or autobind picks it from
 * the same table and ephemeral range as UDP ports (in a separate protocol
 * space). The application writes an echo request header + data; the stack
 * puts the identifier in and computes the checksum. Replies whose identifier
 * matches are queued on the socket (ICMP header first), with the same
 * SO_RCVBUF bound as UDP. */
#include "net/udp.h"

#include <errno.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "core/iov.h"
#include "core/stats.h"
#include "core/util.h"
#include "net/net.h"
#include "stack/stack_impl.h"

/* Largest ICMP message in one IPv4 datagram. */
#define UST_PING_MAX_LEN (0xffffu - UST_IPV4_MIN_HLEN)

ssize_t ust_ping_sendmsg(struct ust_udp_sock *us, const struct iovec *iov, size_t iovcnt,
                         size_t len, int flags, const struct ust_inet_addr *dst)
{
    struct ust_stack *stack = us->sk.stack;
    uint8_t user[UST_ICMP_HLEN];    /* the caller's ICMP header */
    /* The checks of Linux ping_common_sendmsg, in its order. */
    if (len > 0xffffu)
        return -EMSGSIZE;
    if (len < UST_ICMP_HLEN)
        return -EINVAL;
    ust_iov_from(iov, iovcnt, 0, user, sizeof(user));
    if (flags & MSG_OOB)
        return -EOPNOTSUPP;
    if (user[0] != UST_ICMP_ECHO || user[1] != 0)
        return -EINVAL;
    uint32_t daddr, saddr;
    if (dst)
        daddr = dst->addr;
    else if (us->sk.connected)
        daddr = us->sk.raddr;
    else
        return -EDESTADDRREQ;
    int err = ust_udp_route(us, &daddr, &saddr);
    if (err)
        return err;
    if ((err = ust_sk_take_err(&us->sk)) != 0)
        return -err;
    if (len > UST_PING_MAX_LEN)
        return -EMSGSIZE;
    if ((err = ust_udp_wmem_check(us)) != 0)
        return err;

    struct ust_fbuf *fb = ust_fbuf_alloc(stack, len);
    if (!fb)
        return -ENOBUFS;
    uint8_t *p = ust_fbuf_put(fb, len);
    ust_iov_from(iov, iovcnt, UST_ICMP_HLEN, p + UST_ICMP_HLEN, len - UST_ICMP_HLEN);
    ust_udp_charge(us, fb);
    struct ust_icmp_hdr h = {
        .type = UST_ICMP_ECHO,
        .code = 0,
        .rest = ((uint32_t)us->sk.lport << 16) | ust_get_be16(user + 6),
    };
    ust_icmp_emit(p, len, &h, len - UST_ICMP_HLEN);
    struct ust_ip_out o = {
        .src = saddr, .dst = daddr, .proto = UST_IPPROTO_ICMP, .ttl = us->sk.ttl, .tos = us->sk.tos,
    };
    UST_INC(stack, ICMP, OutMsgs);
    UST_INC(stack, ICMP, OutEchos);
    err = ust_ipv4_output(stack, fb, &o);
    return err ? err : (ssize_t)len;
}

bool ust_ping_input(struct ust_stack *stack, struct ust_fbuf *fb, const struct ust_ipv4_hdr *ih)
{
    if (fb->len < UST_ICMP_HLEN)
        return false;
    uint16_t id = ust_get_be16(fb->data + 4);
    struct ust_udp_sock *us = ust_udp_lookup(stack, IPPROTO_ICMP, ih->dst, id, ih->src, 0);
    if (!us)
        return false;
    fb->cb.dgram.saddr = ih->src;
    fb->cb.dgram.daddr = ih->dst;
    fb->cb.dgram.sport = 0;
    fb->cb.dgram.dport = id;
    fb->cb.dgram.ttl = ih->ttl;
    fb->cb.dgram.tos = ih->tos;
    ust_udp_queue_rcv(us, fb);      /* consumes fb even when the queue is full */
    return true;
}
