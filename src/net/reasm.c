/* IPv4 reassembly (RFC 791 3.2, RFC 815), bounded like Linux's ipfrag:
 *  - queues keyed by (src, dst, protocol, id), at most UST_IPQ_MAX at once
 *    and cfg.ipfrag_high_thresh buffer bytes in all; when either is exceeded
 *    the oldest queues are dropped (IP.ReasmFails);
 *  - a queue lives cfg.ipfrag_time_ns from its first fragment (IP.ReasmTimeout,
 *    and ICMP time exceeded / reassembly if fragment 0 had arrived, as Linux);
 *  - fragments are kept sorted and disjoint: any overlap drops the whole
 *    datagram (RFC 5722 spirit, IP.ReasmOverlaps), while an exact duplicate
 *    of a fragment already held is dropped alone and the queue kept (Linux,
 *    RFC 5722 errata 3089: duplicates come from retransmission, not attacks);
 *  - a datagram over 65535 bytes, a last fragment contradicting the others,
 *    or a non-last fragment whose length is not a multiple of 8 is an error.
 * With disjoint fragments inside [0, total), "received == total" means no
 * hole is left, which replaces RFC 815's explicit hole list. The datagram is
 * then copied into one buffer with the first fragment's header. */
#include <errno.h>
#include <string.h>

#include "core/stats.h"
#include "core/util.h"
#include "net/net_internal.h"
#include "stack/stack_impl.h"

enum frag_verdict { FRAG_QUEUED, FRAG_DUPLICATE, FRAG_OVERLAP, FRAG_INCONSISTENT };

static uint32_t frag_off(const struct ust_fbuf *f) { return (uint32_t)f->cb.raw[0]; }
static uint32_t frag_end(const struct ust_fbuf *f) { return frag_off(f) + f->len; }

static uint32_t ipq_hash(const struct ust_stack *stack, uint32_t src, uint32_t dst, uint8_t proto,
                         uint16_t id)
{
    return ust_hash_u32x3(stack->hash_key, src, dst, ((uint32_t)proto << 16) | id);
}

static struct ust_ipq *ipq_find(struct ust_stack *stack, const struct ust_ipv4_hdr *ih)
{
    uint32_t h = ipq_hash(stack, ih->src, ih->dst, ih->proto, ih->id);
    for (struct ust_hnode *n = ust_ht_bucket(&stack->net.ipq_ht, h); n; n = n->next) {
        struct ust_ipq *q = ust_container_of(n, struct ust_ipq, hnode);
        if (n->hash == h && q->src == ih->src && q->dst == ih->dst && q->proto == ih->proto &&
            q->id == ih->id)
            return q;
    }
    return NULL;
}

/* Releases the queue and every fragment it holds (no counter: callers say why). */
static void ipq_kill(struct ust_stack *stack, struct ust_ipq *q)
{
    struct ust_net_state *ns = &stack->net;
    ust_timer_cancel(&stack->timers, &q->timer);
    ust_ht_remove(&ns->ipq_ht, &q->hnode);
    ust_net_list_del(&q->age);
    struct ust_fbuf *f = q->frags;
    while (f) {
        struct ust_fbuf *next = f->next;
        ust_fbuf_free(stack, f);
        f = next;
    }
    ns->ipq_mem -= q->mem;
    ns->ipq_count--;
    q->frags = q->tail = NULL;
    q->mem = 0;
    ust_net_list_add_tail(&ns->ipq_free, &q->age);
}

static void ipq_fail(struct ust_stack *stack, struct ust_ipq *q)
{
    UST_INC(stack, IP, ReasmFails);
    ipq_kill(stack, q);
}

static struct ust_ipq *ipq_oldest(struct ust_stack *stack)
{
    if (ust_net_list_empty(&stack->net.ipq_age))
        return NULL;
    return ust_container_of(stack->net.ipq_age.next, struct ust_ipq, age);
}

/* RFC 1122 3.3.2: on timeout, drop the datagram; ICMP time exceeded only
 * if fragment 0 arrived (it holds the header and the L4 ports to quote). */
static void ipq_expire(void *ctx, struct ust_timer *t)
{
    struct ust_stack *stack = ctx;
    struct ust_ipq *q = ust_container_of(t, struct ust_ipq, timer);
    UST_INC(stack, IP, ReasmTimeout);
    if (q->frags && frag_off(q->frags) == 0)
        ust_icmp_send_error(stack, q->frags, UST_ICMP_TIME_EXCEEDED, UST_ICMP_EXC_FRAGTIME, 0);
    ipq_fail(stack, q);
}

static struct ust_ipq *ipq_create(struct ust_stack *stack, const struct ust_ipv4_hdr *ih)
{
    struct ust_net_state *ns = &stack->net;
    if (ust_net_list_empty(&ns->ipq_free))
        ipq_fail(stack, ipq_oldest(stack));
    struct ust_ipq *q = ust_container_of(ns->ipq_free.next, struct ust_ipq, age);
    ust_net_list_del(&q->age);
    q->src = ih->src;
    q->dst = ih->dst;
    q->proto = ih->proto;
    q->id = ih->id;
    q->last_seen = false;
    q->total = q->max_end = q->received = 0;
    q->mem = 0;
    q->frags = q->tail = NULL;
    ust_ht_insert(&ns->ipq_ht, &q->hnode, ipq_hash(stack, ih->src, ih->dst, ih->proto, ih->id));
    ust_net_list_add_tail(&ns->ipq_age, &q->age);
    ns->ipq_count++;
    ust_timer_set(&stack->timers, &q->timer, stack->now + stack->cfg.ipfrag_time_ns);
    return q;
}

/* Makes room for `bytes` more under ipfrag_high_thresh by dropping the oldest
 * other queues. False if q itself would still be over the bound. */
static bool ipq_make_room(struct ust_stack *stack, struct ust_ipq *q, size_t bytes)
{
    struct ust_net_state *ns = &stack->net;
    size_t limit = stack->cfg.ipfrag_high_thresh;
    while (ns->ipq_mem + bytes > limit) {
        struct ust_ipq *old = ipq_oldest(stack);
        if (old == q) {
            /* q is the oldest; drop the next one if there is one. */
            struct ust_net_list *n = q->age.next;
            if (n == &ns->ipq_age)
                return false;
            old = ust_container_of(n, struct ust_ipq, age);
        }
        ipq_fail(stack, old);
    }
    return true;
}

/* RFC 791: the fragment without MF fixes the length; fragments beyond it,
 * or a second different "last", mean corruption (Linux ip_frag_queue). */
static bool ipq_length_consistent(struct ust_ipq *q, uint32_t end, bool more)
{
    if (!more)
        return end >= q->max_end && (!q->last_seen || end == q->total);
    return !q->last_seen || end <= q->total;
}

static enum frag_verdict ipq_insert(struct ust_ipq *q, struct ust_fbuf *fb, uint32_t off, bool more)
{
    uint32_t end = off + fb->len;
    if (!ipq_length_consistent(q, end, more))
        return FRAG_INCONSISTENT;

    struct ust_fbuf *prev = NULL, *next = q->frags;
    if (q->tail && off >= frag_off(q->tail)) {
        prev = q->tail;                 /* in-order arrival: skip the walk */
        next = NULL;
    } else {
        while (next && frag_off(next) < off) {
            prev = next;
            next = next->next;
        }
    }
    if (prev && frag_off(prev) == off && frag_end(prev) == end)
        return FRAG_DUPLICATE;
    if (next && frag_off(next) == off && frag_end(next) == end)
        return FRAG_DUPLICATE;
    if ((prev && frag_end(prev) > off) || (next && frag_off(next) < end))
        return FRAG_OVERLAP;

    fb->cb.raw[0] = off;
    fb->next = next;
    if (prev)
        prev->next = fb;
    else
        q->frags = fb;
    if (!next)
        q->tail = fb;
    if (!more) {
        q->last_seen = true;
        q->total = end;
    }
    q->max_end = UST_MAX(q->max_end, end);
    q->received += fb->len;
    q->mem += fb->cap;
    return FRAG_QUEUED;
}

/* Copies the fragments behind the first one's header into one buffer and
 * fixes the header: total length, no fragment fields, new checksum. */
static struct ust_fbuf *ipq_assemble(struct ust_stack *stack, struct ust_ipq *q,
                                     struct ust_ipv4_hdr *ih)
{
    struct ust_fbuf *first = q->frags;
    size_t hlen = (size_t)(first->data - first->l3);
    if (hlen + q->total > 0xffffu) {
        ipq_fail(stack, q);             /* RFC 791: total length is 16 bits */
        return NULL;
    }
    struct ust_fbuf *nf = ust_fbuf_alloc(stack, hlen + q->total);
    if (!nf) {
        ipq_fail(stack, q);
        return NULL;
    }
    uint8_t *h = ust_fbuf_put(nf, hlen);
    memcpy(h, first->l3, hlen);
    uint32_t flags = first->flags;
    for (struct ust_fbuf *f = first; f; f = f->next) {
        memcpy(ust_fbuf_put(nf, f->len), f->data, f->len);
        flags &= f->flags;              /* checksum-verified only if every piece was */
    }
    ust_put_be16(h + 2, (uint16_t)(hlen + q->total));
    ust_put_be16(h + 6, 0);
    ust_put_be16(h + 10, 0);
    ust_put_be16(h + 10, ust_inet_csum(h, hlen));

    nf->netif = first->netif;
    nf->flags = flags;
    nf->tstamp = stack->now;
    nf->l3 = nf->data;
    ust_fbuf_pull(nf, hlen);
    ih->total_len = (uint16_t)(hlen + q->total);
    ih->frag = 0;
    UST_INC(stack, IP, ReasmOKs);
    ipq_kill(stack, q);
    return nf;
}

struct ust_fbuf *ust_reasm_input(struct ust_stack *stack, struct ust_fbuf *fb,
                                 struct ust_ipv4_hdr *ih)
{
    uint32_t off = ust_ipv4_frag_offset(ih);
    bool more = ust_ipv4_more_frags(ih);
    uint32_t end = off + fb->len;

    UST_INC(stack, IP, ReasmReqds);
    /* RFC 791: every fragment but the last carries a multiple of 8 bytes;
     * an empty fragment carries nothing (dropped alone, as Linux). */
    if (fb->len == 0 || (more && (fb->len & 7) != 0)) {
        UST_INC(stack, IP, InHdrErrors);
        ust_fbuf_free(stack, fb);
        return NULL;
    }
    struct ust_ipq *q = ipq_find(stack, ih);
    if (end + UST_IPV4_MIN_HLEN > 0xffffu) {
        /* Oversized: the "ping of death". */
        if (q)
            ipq_kill(stack, q);
        UST_INC(stack, IP, ReasmFails);
        ust_fbuf_free(stack, fb);
        return NULL;
    }
    if (!q)
        q = ipq_create(stack, ih);
    if (!ipq_make_room(stack, q, fb->cap)) {
        ipq_fail(stack, q);
        ust_fbuf_free(stack, fb);
        return NULL;
    }

    switch (ipq_insert(q, fb, off, more)) {
    case FRAG_QUEUED:
        break;
    case FRAG_DUPLICATE:
        ust_fbuf_free(stack, fb);
        return NULL;
    case FRAG_OVERLAP:
        UST_INC(stack, IP, ReasmOverlaps);
        /* fall through */
    case FRAG_INCONSISTENT:
        ipq_fail(stack, q);
        ust_fbuf_free(stack, fb);
        return NULL;
    }
    stack->net.ipq_mem += fb->cap;
    if (q->last_seen && q->received == q->total)
        return ipq_assemble(stack, q, ih);
    return NULL;
}

/* ---- Setup and teardown -------------------------------------------------- */

int ust_reasm_init(struct ust_stack *stack)
{
    struct ust_net_state *ns = &stack->net;
    ust_net_list_init(&ns->ipq_age);
    ust_net_list_init(&ns->ipq_free);
    for (unsigned i = 0; i < UST_IPQ_MAX; i++) {
        ust_timer_init(&ns->ipq[i].timer, ipq_expire);
        ust_net_list_add_tail(&ns->ipq_free, &ns->ipq[i].age);
    }
    /* Sized once for every queue: never resizes. */
    int err = ust_ht_init(&ns->ipq_ht, UST_IPQ_MAX, UST_IPQ_MAX);
    return err < 0 ? err : (err > 0 ? -ENOMEM : 0);
}

void ust_reasm_fini(struct ust_stack *stack)
{
    struct ust_ipq *q;
    while ((q = ipq_oldest(stack)) != NULL)
        ipq_kill(stack, q);
    ust_ht_fini(&stack->net.ipq_ht);
}
