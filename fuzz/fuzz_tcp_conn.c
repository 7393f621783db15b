/* libFuzzer target: a live TCP connection fed arbitrary segments.
 *
 * Each input builds a fresh stack (fixed seed) with an Ethernet netif
 * "fuzz0" at 10.0.0.1/24 whose transmit records our last TCP segment and
 * frees the frame. The peer 10.0.0.2:4000 is made known by an ARP request,
 * then connects to a listener on port 80 with a real handshake (SYN, our
 * SYN-ACK, ACK) and is accepted. The input is then a sequence of records
 *     op (1) | dseq (2, signed) | dack (2, signed) | tcp flags (1) |
 *     window (2) | option bytes length (1, <= 40) | payload length (2) |
 *     options | payload
 * Each record becomes one segment from the peer with the right 4-tuple and
 * checksum: SEQ = our RCV.NXT + dseq, ACK = our SND.UNA + dack (so the
 * fuzzer reaches in-window segments easily), everything else as given. op
 * bits: 0 the application sends 1000 bytes, 1 it reads everything, 2
 * shutdown(SHUT_WR), 3 close() (once), 4-7 virtual time to advance in units
 * of 50 ms.
 *
 * After each record the connection's invariants must hold (SND.UNA <=
 * SND.NXT <= SND.MAX, buffers within their capacity, the out-of-order queue
 * within the receive buffer); at the end every descriptor is closed, the
 * clock runs past every timeout (retransmission give-up, FIN-WAIT-2,
 * TIME-WAIT) and every connection block and frame buffer must be gone.
 * Otherwise abort(). ASan/LSan catch the rest. */
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
#include "sock/sock.h"
#include "stack/stack_impl.h"
#include "tcp/tcp.h"
#include "wire/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_ME 0x0a000001u
#define FZ_PEER 0x0a000002u
#define FZ_PEER_PORT 4000
#define FZ_PORT 80

static const uint8_t fz_mac[6] = { 0x02, 0, 0, 0, 0, 0x01 };
static const uint8_t peer_mac[6] = { 0x02, 0, 0, 0, 0, 0x02 };

struct fz {
    struct ust_stack *stack;
    struct ust_netif *nif;
    int lfd, cfd;
    bool closed;
    uint64_t now;
    uint32_t peer_seq;          /* the peer's next sequence number */
    uint32_t our_seq;           /* seq of our last segment */
    bool have_our_seq;
};

static struct fz *fz_current;

static int fz_transmit(struct ust_netif *nif, struct ust_fbuf *fb)
{
    struct fz *z = fz_current;
    const uint8_t *p = fb->data;
    if (fb->len >= UST_ETH_HLEN + UST_IPV4_MIN_HLEN + UST_TCP_MIN_HLEN &&
        ust_get_be16(p + 12) == UST_ETHERTYPE_IPV4 && p[UST_ETH_HLEN + 9] == UST_IPPROTO_TCP) {
        const uint8_t *th = p + UST_ETH_HLEN + (size_t)(p[UST_ETH_HLEN] & 0x0f) * 4u;
        z->our_seq = ust_get_be32(th + 4);
        z->have_our_seq = true;
    }
    ust_fbuf_free(nif->stack, fb);
    return 0;
}

static int fz_poll_fd(struct ust_netif *nif)
{
    (void)nif;
    return -1;
}

static const struct ust_netif_ops fz_ops = {
    .kind_name = "fuzz",
    .transmit = fz_transmit,
    .poll_fd = fz_poll_fd,
};

static void fz_inject(struct fz *z, const uint8_t *frame, size_t len)
{
    struct ust_fbuf *fb = ust_fbuf_alloc(z->stack, len);
    if (!fb)
        abort();
    memcpy(ust_fbuf_put(fb, len), frame, len);
    ust_rt_lock(z->stack);
    ust_netif_receive(z->nif, fb);
    ust_rt_unlock(z->stack);
    ust_stack_poll(z->stack, z->now);
}

/* An ARP request from the peer: we learn its MAC. */
static void fz_arp(struct fz *z)
{
    uint8_t f[42];
    memset(f, 0xff, 6);
    memcpy(f + 6, peer_mac, 6);
    ust_put_be16(f + 12, UST_ETHERTYPE_ARP);
    struct ust_arp_pkt a = { .op = UST_ARP_REQUEST, .spa = FZ_PEER, .tpa = FZ_ME };
    memcpy(a.sha, peer_mac, 6);
    ust_arp_emit(f + 14, sizeof(f) - 14, &a);
    fz_inject(z, f, sizeof(f));
}

/* One segment from the peer. */
static void fz_segment(struct fz *z, uint32_t seq, uint32_t ack, uint8_t flags, uint16_t win,
                       const uint8_t *opts, size_t optlen, const uint8_t *payload, size_t len)
{
    static uint8_t f[UST_ETH_HLEN + UST_IPV4_MIN_HLEN + UST_TCP_MAX_HLEN + 2048];
    optlen &= ~(size_t)3;
    if (optlen > 40)
        optlen = 40;
    if (len > 2048)
        len = 2048;
    size_t thl = UST_TCP_MIN_HLEN + optlen, l4 = thl + len;
    memcpy(f, fz_mac, 6);
    memcpy(f + 6, peer_mac, 6);
    ust_put_be16(f + 12, UST_ETHERTYPE_IPV4);
    uint8_t *ip = f + UST_ETH_HLEN;
    struct ust_ipv4_hdr ih = {
        .hlen = UST_IPV4_MIN_HLEN, .total_len = (uint16_t)(UST_IPV4_MIN_HLEN + l4), .ttl = 64,
        .proto = UST_IPPROTO_TCP, .src = FZ_PEER, .dst = FZ_ME,
    };
    ust_ipv4_emit(ip, UST_IPV4_MIN_HLEN, &ih);
    uint8_t *t = ip + UST_IPV4_MIN_HLEN;
    memset(t, 0, UST_TCP_MIN_HLEN);
    ust_put_be16(t, FZ_PEER_PORT);
    ust_put_be16(t + 2, FZ_PORT);
    ust_put_be32(t + 4, seq);
    ust_put_be32(t + 8, ack);
    t[12] = (uint8_t)((thl / 4) << 4);
    t[13] = flags;
    ust_put_be16(t + 14, win);
    if (optlen)
        memcpy(t + UST_TCP_MIN_HLEN, opts, optlen);
    if (len)
        memcpy(t + thl, payload, len);
    ust_tcp_set_csum(t, l4, FZ_PEER, FZ_ME);
    fz_inject(z, f, UST_ETH_HLEN + UST_IPV4_MIN_HLEN + l4);
}

static struct ust_tcb *fz_tcb(struct fz *z)
{
    return ust_tcp_lookup(z->stack, FZ_ME, FZ_PORT, FZ_PEER, FZ_PEER_PORT);
}

static void fz_setup(struct fz *z)
{
    memset(z, 0, sizeof(*z));
    fz_current = z;
    struct ust_stack_config cfg;
    ust_stack_config_init(&cfg);
    cfg.seed = 1;
    cfg.log_level = UST_LOG_ERROR;
    cfg.mem_limit = 16u << 20;
    z->stack = ust_stack_new(&cfg);
    if (!z->stack)
        abort();
    z->now = UST_NSEC_PER_SEC;
    ust_stack_poll(z->stack, z->now);
    ust_rt_lock(z->stack);
    z->nif = ust_netif_create(z->stack, "fuzz0", UST_NETIF_ETHER, &fz_ops, NULL);
    if (!z->nif)
        abort();
    memcpy(z->nif->mac, fz_mac, 6);
    ust_rt_unlock(z->stack);
    struct in_addr a = { htonl(FZ_ME) };
    if (ust_netif_set_ipv4(z->nif, a, 24) != 0)
        abort();
    fz_arp(z);

    z->lfd = ust_socket(z->stack, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(FZ_PORT) };
    if (z->lfd < 0 || ust_bind(z->stack, z->lfd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
        ust_listen(z->stack, z->lfd, 4) != 0)
        abort();
    /* The handshake: SYN with MSS, SACK-permitted, timestamps, window scale. */
    static const uint8_t synopts[20] = { 2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0,
                                         1, 3, 3, 7 };
    z->peer_seq = 1000;
    fz_segment(z, z->peer_seq, 0, UST_TCP_SYN, 65535, synopts, sizeof(synopts), NULL, 0);
    if (!z->have_our_seq)
        abort();
    z->peer_seq++;
    fz_segment(z, z->peer_seq, z->our_seq + 1, UST_TCP_ACK, 1000, NULL, 0, NULL, 0);
    z->cfd = ust_accept4(z->stack, z->lfd, NULL, NULL, SOCK_NONBLOCK);
    if (z->cfd < 0)
        abort();
}

static void fz_check(struct fz *z)
{
    struct ust_tcb *t = fz_tcb(z);
    if (!t)
        return;
    if (ust_seq_gt(t->snd_una, t->snd_nxt) || ust_seq_gt(t->snd_nxt, t->snd_max))
        abort();
    if (ust_ring_used(&t->snd) > t->snd.cap || ust_ring_used(&t->rcv) > t->rcv.cap)
        abort();
    if (t->ooo_bytes + ust_ring_used(&t->rcv) > t->rcv.cap + 2048 || t->ooo.count > 1024)
        abort();
    if (t->nsb > UST_TCP_SCOREBOARD || t->sacked_bytes > t->snd_max - t->snd_una)
        abort();
}

static void fz_app(struct fz *z, uint8_t op)
{
    static uint8_t buf[65536];
    if (z->closed)
        return;
    if (op & 1) {
        memset(buf, 'x', 1000);
        ust_send(z->stack, z->cfd, buf, 1000, MSG_NOSIGNAL);
    }
    if (op & 2)
        while (ust_recv(z->stack, z->cfd, buf, sizeof(buf), 0) > 0)
            ;
    if (op & 4)
        ust_shutdown(z->stack, z->cfd, SHUT_WR);
    if (op & 8) {
        ust_close(z->stack, z->cfd);
        z->closed = true;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz z;
    fz_setup(&z);
    size_t baseline_frames = z.stack->fbpool.in_use_bytes;
    while (size >= 11) {
        uint8_t op = data[0];
        int16_t dseq = (int16_t)ust_get_be16(data + 1), dack = (int16_t)ust_get_be16(data + 3);
        uint8_t flags = data[5];
        uint16_t win = ust_get_be16(data + 6);
        size_t optlen = data[8], len = ust_get_be16(data + 9);
        data += 11;
        size -= 11;
        if (optlen > size)
            optlen = size;
        const uint8_t *opts = data;
        data += optlen;
        size -= optlen;
        if (len > size)
            len = size;
        struct ust_tcb *t = fz_tcb(&z);
        uint32_t rnxt = t ? t->rcv_nxt : z.peer_seq, una = t ? t->snd_una : z.our_seq;
        fz_segment(&z, rnxt + (uint32_t)(int32_t)dseq, una + (uint32_t)(int32_t)dack, flags, win,
                   opts, optlen, data, len);
        data += len;
        size -= len;
        fz_app(&z, op);
        z.now += (uint64_t)(op >> 4) * 50 * UST_NSEC_PER_MSEC;
        ust_stack_poll(z.stack, z.now);
        fz_check(&z);
    }
    if (!z.closed)
        ust_close(z.stack, z.cfd);
    ust_close(z.stack, z.lfd);
    /* Past every timeout: 15 backed-off retransmissions, FIN-WAIT-2, TIME-WAIT. */
    for (int i = 0; i < 200; i++) {
        z.now += 30 * UST_NSEC_PER_SEC;
        ust_stack_poll(z.stack, z.now);
    }
    if (z.stack->tcp.nconns != 0)
        abort();
    if (z.stack->fbpool.in_use_bytes != baseline_frames)
        abort();
    ust_stack_free(z.stack);
    return 0;
}
