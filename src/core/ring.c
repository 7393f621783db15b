/* The byte ring behind socket buffers and pipes.
 *
 * head and tail are 64-bit byte positions that only grow; a position maps to
 * storage offset pos % cap. Every copy is at most two memcpy calls: up to the
 * end of the storage, then from its start. */
#include "core/ring.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

void ust_ring_init(struct ust_ring *r, size_t cap)
{
    r->buf = NULL;
    r->cap = cap;
    r->head = 0;
    r->tail = 0;
}

void ust_ring_free(struct ust_ring *r)
{
    free(r->buf);
    r->buf = NULL;
    r->head = 0;
    r->tail = 0;
}

/* Copies n bytes from the ring's storage at position pos (n <= cap). */
static void copy_out(const struct ust_ring *r, uint64_t pos, void *dst, size_t n)
{
    size_t off = (size_t)(pos % r->cap);
    size_t first = UST_MIN(n, r->cap - off);
    memcpy(dst, r->buf + off, first);
    if (n > first)
        memcpy((uint8_t *)dst + first, r->buf, n - first);
}

size_t ust_ring_write(struct ust_ring *r, const void *src, size_t n)
{
    n = UST_MIN(n, ust_ring_space(r));
    if (n == 0)
        return 0;
    if (UST_UNLIKELY(r->buf == NULL)) {
        r->buf = malloc(r->cap);
        if (r->buf == NULL)
            return 0;
    }
    size_t off = (size_t)(r->tail % r->cap);
    size_t first = UST_MIN(n, r->cap - off);
    memcpy(r->buf + off, src, first);
    if (n > first)
        memcpy(r->buf, (const uint8_t *)src + first, n - first);
    r->tail += n;
    return n;
}

size_t ust_ring_peek(const struct ust_ring *r, size_t off, void *dst, size_t n)
{
    size_t used = ust_ring_used(r);
    if (off >= used)
        return 0;
    n = UST_MIN(n, used - off);
    copy_out(r, r->head + off, dst, n);
    return n;
}

size_t ust_ring_read(struct ust_ring *r, void *dst, size_t n)
{
    n = UST_MIN(n, ust_ring_used(r));
    if (n == 0)
        return 0;
    copy_out(r, r->head, dst, n);
    r->head += n;
    return n;
}

size_t ust_ring_discard(struct ust_ring *r, size_t n)
{
    n = UST_MIN(n, ust_ring_used(r));
    r->head += n;
    return n;
}

int ust_ring_resize(struct ust_ring *r, size_t new_cap)
{
    size_t used = ust_ring_used(r);
    if (used > new_cap)
        return -EBUSY;
    if (new_cap == r->cap)
        return 0;
    if (used == 0) {
        /* Nothing to keep: drop the storage, the next write allocates it. */
        free(r->buf);
        r->buf = NULL;
        r->cap = new_cap;
        return 0;
    }
    uint8_t *nb = malloc(new_cap);
    if (nb == NULL)
        return -ENOMEM;
    /* Same positions, new mapping: the bytes go to head % new_cap onwards. */
    size_t off = (size_t)(r->head % new_cap);
    size_t first = UST_MIN(used, new_cap - off);
    copy_out(r, r->head, nb + off, first);
    if (used > first)
        copy_out(r, r->head + first, nb, used - first);
    free(r->buf);
    r->buf = nb;
    r->cap = new_cap;
    return 0;
}
