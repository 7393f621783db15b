/* A byte ring buffer: the storage behind socket send/receive buffers and pipes.
 *
 * Positions are 64-bit counters that only grow (head = next byte to read,
 * tail = next byte to write), so used = tail - head and there is no ambiguity
 * between full and empty. Capacity need not be a power of two. The storage is
 * allocated on first write (an idle socket costs nothing). peek() reads at an
 * offset without consuming, which is how TCP will re-read unacknowledged data
 * for retransmission. */
#ifndef UST_CORE_RING_H
#define UST_CORE_RING_H

#include <stddef.h>
#include <stdint.h>

struct ust_ring {
    uint8_t *buf;       /* NULL until first write */
    size_t cap;         /* bytes */
    uint64_t head;      /* read position */
    uint64_t tail;      /* write position */
};

void ust_ring_init(struct ust_ring *r, size_t cap);
void ust_ring_free(struct ust_ring *r);
static inline size_t ust_ring_used(const struct ust_ring *r) { return (size_t)(r->tail - r->head); }
static inline size_t ust_ring_space(const struct ust_ring *r) { return r->cap - ust_ring_used(r); }
/* Copies min(n, space) bytes in; returns the count (0 also when allocation fails). */
size_t ust_ring_write(struct ust_ring *r, const void *src, size_t n);
/* Copies min(n, used) bytes out and consumes them. */
size_t ust_ring_read(struct ust_ring *r, void *dst, size_t n);
/* Copies up to n bytes starting `off` bytes after head, without consuming. */
size_t ust_ring_peek(const struct ust_ring *r, size_t off, void *dst, size_t n);
/* Consumes min(n, used) bytes. */
size_t ust_ring_discard(struct ust_ring *r, size_t n);
/* Changes capacity keeping the contents; -EBUSY if used > new_cap, -ENOMEM. */
int ust_ring_resize(struct ust_ring *r, size_t new_cap);

#endif
