/* libFuzzer target: the whole receive path from ust_netif_input (Ethernet,
 * ARP, IPv4, reassembly, ICMP, UDP) of a live stack, and the output path it
 * triggers (ARP resolution, echo replies, ICMP errors, a UDP echo server).
 *
 * Each input builds a fresh stack (fixed seed, small ARP cache and
 * reassembly bound so the limits are hit): "fuzz0" is an Ethernet netif at
 * 10.0.0.1/24 with a default gateway 10.0.0.254, whose transmit frees every
 * frame; a UDP socket on port 7 sends every datagram it gets back to its
 * sender. The input is a sequence of records
 *     flags (1 byte) | length (2 bytes, big-endian) | frame (length bytes)
 * flags bit 0: recompute the IPv4 header checksum; bit 1: recompute the
 * ICMP/UDP checksum of an unfragmented datagram (so the fuzzer gets past
 * checksums); bits 2-7: virtual time to advance after the frame, in units
 * of 100 ms. An input shorter than one record header is one raw frame.
 *
 * After the last record the stack is polled far past every timeout
 * (reassembly 30 s, ARP) and the socket drained: every frame buffer must
 * be back in the pool, else abort(). ASan/LSan catch the rest. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <ustack/ustack.h>

#include "core/util.h"
#include "netif/netif.h"
#include "runtime/runtime.h"
#include "stack/stack_impl.h"
#include "wire/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_ADDR 0x0a000001u
#define FZ_GW 0x0a0000feu
#define FZ_PORT 7
#define FZ_MAX_FRAME 9000u

static int fz_transmit(struct ust_netif *nif, struct ust_fbuf *fb)
{
    ust_fbuf_free(nif->stack, fb);
    return 0;
}

static int fz_poll_fd(struct ust_netif *nif)
{
    return -1;
}

static const struct ust_netif_ops fz_ops = {
    .kind_name = "fuzz",
    .transmit = fz_transmit,
    .poll_fd = fz_poll_fd,
};

struct fz {
    struct ust_stack *stack;
    struct ust_netif *nif;
    int fd;
    uint64_t now;
};

static void fz_setup(struct fz *z)
{
    struct ust_stack_config cfg;
    ust_stack_config_init(&cfg);
    cfg.seed = 1;
    cfg.log_level = UST_LOG_ERROR;
    cfg.arp_cache_size = 8;
    cfg.ipfrag_high_thresh = 64 * 1024;
    cfg.mem_limit = 8u << 20;
    z->stack = ust_stack_new(&cfg);
    if (!z->stack)
        abort();
    z->now = UST_NSEC_PER_SEC;
    ust_stack_poll(z->stack, z->now);

    ust_rt_lock(z->stack);
    z->nif = ust_netif_create(z->stack, "fuzz0", UST_NETIF_ETHER, &fz_ops, NULL);
    if (!z->nif)
        abort();
    static const uint8_t mac[6] = { 0x02, 0, 0, 0, 0, 0x01 };
    memcpy(z->nif->mac, mac, 6);
    ust_rt_unlock(z->stack);
    struct in_addr a = { htonl(FZ_ADDR) }, gw = { htonl(FZ_GW) };
    if (ust_netif_set_ipv4(z->nif, a, 24) != 0 || ust_route_add_default(z->stack, gw) != 0)
        abort();

    z->fd = ust_socket(z->stack, AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(FZ_PORT) };
    if (z->fd < 0 || ust_bind(z->stack, z->fd, (struct sockaddr *)&sin, sizeof(sin)) != 0)
        abort();
}

/* The UDP echo server: everything received goes back to its sender. */
static void fz_drain_socket(struct fz *z)
{
    static uint8_t buf[65536];
    for (;;) {
        struct sockaddr_in from;
        socklen_t flen = sizeof(from);
        ssize_t n = ust_recvfrom(z->stack, z->fd, buf, sizeof(buf), MSG_DONTWAIT,
                                 (struct sockaddr *)&from, &flen);
        if (n < 0) {
            if (errno == EAGAIN)
                return;
            continue;               /* a pending error (SO_ERROR) was reported */
        }
        ust_sendto(z->stack, z->fd, buf, (size_t)n, MSG_DONTWAIT, (struct sockaddr *)&from, flen);
    }
}

static void fix_l4_csum(uint8_t *ip, size_t hlen, size_t total, const struct ust_ipv4_hdr *h)
{
    uint8_t *l4 = ip + hlen;
    size_t l4_len = total - hlen;
    if (h->proto == UST_IPPROTO_ICMP && l4_len >= UST_ICMP_HLEN) {
        ust_put_be16(l4 + 2, 0);
        ust_put_be16(l4 + 2, ust_inet_csum(l4, l4_len));
    } else if (h->proto == UST_IPPROTO_UDP && l4_len >= UST_UDP_HLEN) {
        struct ust_udp_hdr uh;
        if (ust_udp_parse(l4, l4_len, &uh) < 0)
            return;
        ust_udp_emit(l4, uh.len, &uh, h->src, h->dst);
    }
}

/* Makes the checksums of an Ethernet/IPv4 frame right, as flags ask. */
static void fix_csums(uint8_t *f, size_t len, uint8_t flags)
{
    if (len < UST_ETH_HLEN + UST_IPV4_MIN_HLEN || ust_get_be16(f + 12) != UST_ETHERTYPE_IPV4)
        return;
    uint8_t *ip = f + UST_ETH_HLEN;
    size_t avail = len - UST_ETH_HLEN;
    size_t hlen = (size_t)(ip[0] & 0x0f) * 4u;
    if ((ip[0] >> 4) != 4 || hlen < UST_IPV4_MIN_HLEN || hlen > avail)
        return;
    if (flags & 1) {
        ust_put_be16(ip + 10, 0);
        ust_put_be16(ip + 10, ust_inet_csum(ip, hlen));
    }
    struct ust_ipv4_hdr h;
    if ((flags & 2) && ust_ipv4_parse(ip, avail, &h) > 0 && !ust_ipv4_is_fragment(&h))
        fix_l4_csum(ip, hlen, h.total_len, &h);
}

static void fz_frame(struct fz *z, const uint8_t *frame, size_t len, uint8_t flags)
{
    if (len > FZ_MAX_FRAME)
        len = FZ_MAX_FRAME;
    struct ust_fbuf *fb = ust_fbuf_alloc(z->stack, len);
    if (!fb)
        abort();
    uint8_t *p = ust_fbuf_put(fb, len);
    memcpy(p, frame, len);
    fix_csums(p, len, flags);
    ust_rt_lock(z->stack);
    ust_netif_receive(z->nif, fb);
    ust_rt_unlock(z->stack);
    z->now += (uint64_t)(flags >> 2) * 100 * UST_NSEC_PER_MSEC;
    ust_stack_poll(z->stack, z->now);
    fz_drain_socket(z);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz z;
    fz_setup(&z);
    size_t baseline = z.stack->fbpool.in_use_bytes;

    if (size < 3) {
        fz_frame(&z, data, size, 0);
    } else {
        while (size >= 3) {
            uint8_t flags = data[0];
            size_t len = ust_get_be16(data + 1);
            data += 3;
            size -= 3;
            if (len > size)
                len = size;
            fz_frame(&z, data, len, flags);
            data += len;
            size -= len;
        }
    }

    /* Past every timeout: loopback traffic delivered, ARP given up,
     * reassembly expired, replies echoed. */
    for (int i = 0; i < 8; i++) {
        z.now += 20 * UST_NSEC_PER_SEC;
        ust_stack_poll(z.stack, z.now);
        fz_drain_socket(&z);
    }
    if (z.stack->fbpool.in_use_bytes != baseline)
        abort();
    ust_close(z.stack, z.fd);
    ust_stack_free(z.stack);
    return 0;
}
