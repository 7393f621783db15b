/* Frame buffers: one frame (or datagram) in a contiguous buffer with headroom,
 * so each layer can prepend its header without copying (like Linux's sk_buff,
 * much reduced).
 *
 *   buf                 data              data+len           buf+cap
 *   |<---- headroom ---->|<----- len ------>|<--- tailroom ---->|
 *
 * Buffers come from a per-stack pool with two size classes (a standard frame
 * and a 64 KiB one for loopback and reassembled datagrams); the pool enforces
 * the stack's memory limit. The per-packet path never calls malloc once the
 * pool is warm. */
#ifndef UST_CORE_FBUF_H
#define UST_CORE_FBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ust_stack;
struct ust_netif;

/* Room reserved in front of the data of a new buffer: Ethernet (14) + IPv4
 * with options (60) + TCP with options (60), rounded up. */
#define UST_FBUF_HEADROOM 160u
/* Largest payload (after headroom) a buffer can hold: a full IPv4 datagram. */
#define UST_FBUF_MAX 65536u

#define UST_FB_CSUM_VERIFIED 0x1u   /* the link guarantees integrity: skip L4 checksum check */
#define UST_FB_BROADCAST 0x2u       /* arrived as link-layer broadcast */

struct ust_fbuf {
    struct ust_fbuf *next;          /* queue linkage (struct ust_fbq, pool free list) */
    uint8_t *buf;                   /* start of storage */
    uint8_t *data;                  /* first valid byte */
    uint32_t len;                   /* valid bytes from data */
    uint32_t cap;                   /* bytes of storage at buf */
    uint8_t *l3;                    /* IPv4 header, set by IPv4 input (for ICMP errors) */
    struct ust_netif *netif;        /* receiving interface */
    uint32_t flags;                 /* UST_FB_* */
    uint8_t size_class;             /* pool bookkeeping */
    uint64_t tstamp;                /* stack time when received/queued, ns */
    /* Scratch space owned by whichever layer holds the buffer (like skb->cb):
     * UDP stores the datagram's source here while it waits in a socket queue. */
    union {
        struct {
            uint32_t saddr, daddr;  /* host byte order */
            uint16_t sport, dport;
            uint8_t ttl, tos;
        } dgram;
        uint64_t raw[3];
    } cb;
    /* Send-buffer accounting (Linux skb->sk + skb->destructor, sock_wfree):
     * a socket that charged this buffer to itself sets destructor, owner
     * and the bytes charged; the destructor runs once, when the buffer is
     * freed or orphaned. NULL for every other buffer. */
    void (*destructor)(struct ust_fbuf *fb);
    void *owner;
    uint32_t charged;
};

/* A FIFO of buffers with byte and frame counts. */
struct ust_fbq {
    struct ust_fbuf *head, *tail;
    uint32_t count;
    size_t bytes;                   /* sum of len */
};

/* A buffer with at least `size` bytes of tailroom after UST_FBUF_HEADROOM;
 * data = buf + headroom, len = 0. NULL when size > UST_FBUF_MAX or the stack's
 * memory limit is reached (counted in MEM.FbufAllocFails). */
struct ust_fbuf *ust_fbuf_alloc(struct ust_stack *stack, size_t size);
void ust_fbuf_free(struct ust_stack *stack, struct ust_fbuf *fb);
/* What a buffer costs whoever holds it: its whole storage and header, like
 * Linux's skb->truesize (a 1-byte segment still pins a full buffer). */
static inline size_t ust_fbuf_truesize(const struct ust_fbuf *fb)
{
    return fb->cap + sizeof(*fb);
}

/* Drops the sender's charge now (Linux skb_orphan): runs the destructor,
 * if any, and forgets the owner. Loopback does this on transmit, as
 * Linux's loopback_xmit, so a looped frame never holds its sender's
 * buffer. */
static inline void ust_fbuf_orphan(struct ust_fbuf *fb)
{
    void (*d)(struct ust_fbuf *) = fb->destructor;
    if (d) {
        fb->destructor = NULL;
        d(fb);
    }
    fb->owner = NULL;
    fb->charged = 0;
}
/* A copy of fb (data, len, flags, cb, l3 offset) in a new buffer. */
struct ust_fbuf *ust_fbuf_clone(struct ust_stack *stack, const struct ust_fbuf *fb);

static inline size_t ust_fbuf_headroom(const struct ust_fbuf *fb) { return (size_t)(fb->data - fb->buf); }
static inline size_t ust_fbuf_tailroom(const struct ust_fbuf *fb)
{
    return fb->cap - ust_fbuf_headroom(fb) - fb->len;
}
/* Extend the data at the end by n bytes; returns a pointer to them, or NULL if no room. */
static inline uint8_t *ust_fbuf_put(struct ust_fbuf *fb, size_t n)
{
    if (n > ust_fbuf_tailroom(fb))
        return NULL;
    uint8_t *p = fb->data + fb->len;
    fb->len += (uint32_t)n;
    return p;
}
/* Prepend n bytes (a header); returns the new data pointer, or NULL if no headroom. */
static inline uint8_t *ust_fbuf_push(struct ust_fbuf *fb, size_t n)
{
    if (n > ust_fbuf_headroom(fb))
        return NULL;
    fb->data -= n;
    fb->len += (uint32_t)n;
    return fb->data;
}
/* Strip n bytes from the front (a parsed header); false if fewer than n. */
static inline bool ust_fbuf_pull(struct ust_fbuf *fb, size_t n)
{
    if (n > fb->len)
        return false;
    fb->data += n;
    fb->len -= (uint32_t)n;
    return true;
}
/* Cut the data to n bytes (n <= len), e.g. Ethernet padding. */
static inline void ust_fbuf_trim(struct ust_fbuf *fb, size_t n)
{
    if (n < fb->len)
        fb->len = (uint32_t)n;
}

void ust_fbq_init(struct ust_fbq *q);
void ust_fbq_push(struct ust_fbq *q, struct ust_fbuf *fb);
struct ust_fbuf *ust_fbq_pop(struct ust_fbq *q);
/* Frees every buffer in the queue. */
void ust_fbq_purge(struct ust_stack *stack, struct ust_fbq *q);

/* Pool, one per stack (embedded in struct ust_stack). */
struct ust_fbpool {
    struct ust_fbuf *free[2];       /* free lists per size class */
    uint32_t nfree[2];
    uint32_t max_free[2];           /* cached free buffers kept per class */
    size_t in_use_bytes;            /* storage handed out, counted against limit */
    size_t limit;                   /* stack's mem_limit */
    size_t ext_bytes;               /* charged by others against the same limit: TCP
                                     * connection blocks and socket buffer storage */
    uint64_t allocs, frees;         /* for leak checks in tests */
};
void ust_fbpool_init(struct ust_fbpool *pool, size_t limit);
void ust_fbpool_fini(struct ust_fbpool *pool);

#endif
