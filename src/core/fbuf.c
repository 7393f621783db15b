/* Frame buffers and the per-stack pool they come from.
 *
 * A buffer is one allocation: the struct ust_fbuf followed by its storage.
 * There are two size classes: class 0 holds any Ethernet frame (2048 bytes
 * after the headroom), class 1 a full IPv4 datagram (UST_FBUF_MAX). Freed
 * buffers are kept on a per-class free list (up to max_free), so once the
 * pool is warm the per-packet path never calls malloc. The bytes of storage
 * handed out are counted against the stack's memory limit. */
#include "core/fbuf.h"

#include <stdlib.h>
#include <string.h>

#include "core/stats.h"
#include "core/util.h"
#include "stack/stack_impl.h"

#define FBUF_SMALL_DATA 2048u

/* Storage bytes (headroom included) of each size class. */
static const uint32_t class_cap[2] = {
    UST_FBUF_HEADROOM + FBUF_SMALL_DATA,
    UST_FBUF_HEADROOM + UST_FBUF_MAX,
};

void ust_fbpool_init(struct ust_fbpool *pool, size_t limit)
{
    memset(pool, 0, sizeof(*pool));
    pool->max_free[0] = 256;
    pool->max_free[1] = 16;
    pool->limit = limit;
}

void ust_fbpool_fini(struct ust_fbpool *pool)
{
    for (unsigned c = 0; c < 2; c++) {
        struct ust_fbuf *fb = pool->free[c];
        while (fb) {
            struct ust_fbuf *next = fb->next;
            free(fb);
            fb = next;
        }
        pool->free[c] = NULL;
        pool->nfree[c] = 0;
    }
}

/* A buffer of class c from the free list, or a new one; NULL when malloc fails. */
static struct ust_fbuf *pool_get(struct ust_fbpool *pool, unsigned c)
{
    struct ust_fbuf *fb = pool->free[c];
    if (UST_LIKELY(fb != NULL)) {
        pool->free[c] = fb->next;
        pool->nfree[c]--;
        return fb;
    }
    fb = malloc(sizeof(*fb) + class_cap[c]);
    if (UST_UNLIKELY(fb == NULL))
        return NULL;
    fb->buf = (uint8_t *)(fb + 1);
    fb->cap = class_cap[c];
    fb->size_class = (uint8_t)c;
    return fb;
}

struct ust_fbuf *ust_fbuf_alloc(struct ust_stack *stack, size_t size)
{
    if (UST_UNLIKELY(size > UST_FBUF_MAX))
        return NULL;
    struct ust_fbpool *pool = &stack->fbpool;
    unsigned c = size > FBUF_SMALL_DATA;
    size_t cap = class_cap[c];
    if (UST_UNLIKELY(pool->in_use_bytes + pool->ext_bytes + cap > pool->limit))
        goto fail;
    struct ust_fbuf *fb = pool_get(pool, c);
    if (UST_UNLIKELY(fb == NULL))
        goto fail;
    pool->in_use_bytes += cap;
    pool->allocs++;

    fb->next = NULL;
    fb->data = fb->buf + UST_FBUF_HEADROOM;
    fb->len = 0;
    fb->l3 = NULL;
    fb->netif = NULL;
    fb->flags = 0;
    fb->tstamp = 0;
    memset(&fb->cb, 0, sizeof(fb->cb));
    fb->destructor = NULL;
    fb->owner = NULL;
    fb->charged = 0;
    return fb;

fail:
    UST_INC(stack, MEM, FbufAllocFails);
    return NULL;
}

void ust_fbuf_free(struct ust_stack *stack, struct ust_fbuf *fb)
{
    if (!fb)
        return;
    if (fb->destructor)
        ust_fbuf_orphan(fb);    /* the sender's charge goes first */
    struct ust_fbpool *pool = &stack->fbpool;
    unsigned c = fb->size_class;
    pool->in_use_bytes -= fb->cap;
    pool->frees++;
    if (pool->nfree[c] < pool->max_free[c]) {
        fb->next = pool->free[c];
        pool->free[c] = fb;
        pool->nfree[c]++;
    } else {
        free(fb);
    }
}

struct ust_fbuf *ust_fbuf_clone(struct ust_stack *stack, const struct ust_fbuf *fb)
{
    size_t head = ust_fbuf_headroom(fb);
    size_t end = head + fb->len;
    /* Enough storage for the same headroom and the data. */
    size_t size = end > UST_FBUF_HEADROOM ? end - UST_FBUF_HEADROOM : 0;
    struct ust_fbuf *n = ust_fbuf_alloc(stack, size);
    if (!n)
        return NULL;

    /* Copy from the IPv4 header when it lies in front of the data (already
     * pulled), so n->l3 points at the same bytes. */
    size_t start = head;
    bool l3_inside = fb->l3 && fb->l3 >= fb->buf && fb->l3 < fb->buf + fb->cap;
    if (l3_inside) {
        size_t off = (size_t)(fb->l3 - fb->buf);
        n->l3 = n->buf + off;
        if (off < start)
            start = off;
    }
    memcpy(n->buf + start, fb->buf + start, end - start);
    n->data = n->buf + head;
    n->len = fb->len;
    n->flags = fb->flags;
    n->cb = fb->cb;
    n->tstamp = fb->tstamp;
    n->netif = fb->netif;
    return n;
}

void ust_fbq_init(struct ust_fbq *q)
{
    q->head = q->tail = NULL;
    q->count = 0;
    q->bytes = 0;
}

void ust_fbq_push(struct ust_fbq *q, struct ust_fbuf *fb)
{
    fb->next = NULL;
    if (q->tail)
        q->tail->next = fb;
    else
        q->head = fb;
    q->tail = fb;
    q->count++;
    q->bytes += fb->len;
}

struct ust_fbuf *ust_fbq_pop(struct ust_fbq *q)
{
    struct ust_fbuf *fb = q->head;
    if (!fb)
        return NULL;
    q->head = fb->next;
    if (!q->head)
        q->tail = NULL;
    fb->next = NULL;
    q->count--;
    q->bytes -= fb->len;
    return fb;
}

void ust_fbq_purge(struct ust_stack *stack, struct ust_fbq *q)
{
    struct ust_fbuf *fb;
    while ((fb = ust_fbq_pop(q)) != NULL)
        ust_fbuf_free(stack, fb);
}
