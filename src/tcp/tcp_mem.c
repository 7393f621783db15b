/* TCP's memory bounds against hostile peers.
 *
 *  - Socket memory counts in mem_limit: every connection block and the
 *    storage of every send and receive ring is charged against the same
 *    per-stack cap as frame buffers (fbpool.ext_bytes), as Linux charges
 *    socket buffers against tcp_mem. Sockets may use all of it but an
 *    eighth, which only frame buffers may use. When a charge does not fit,
 *    TIME-WAIT blocks end early, then orphans (connections the user
 *    closed) are reset, each oldest first. If that is not enough the
 *    allocation fails: socket() gives ENOBUFS (Linux inet_create), a SYN
 *    is dropped (ListenDrops), send() gives ENOBUFS, an arriving segment
 *    is dropped (TCPRcvQDrop) and the peer retransmits it later.
 *  - Orphans are bounded by tcp_max_orphans (Linux tcp_too_many_orphans):
 *    a connection closed beyond it, or found beyond it when its timer
 *    fires, is reset (TCPAbortOnMemory).
 * Ring storage is charged whole (its capacity), from the first byte
 * written until the ring is freed or resized: that is what malloc holds. */
#include <errno.h>

#include "core/stats.h"
#include "stack/stack_impl.h"
#include "tcp/tcp.h"

/* Linux SOCK_MIN_SNDBUF: an orphan holding less send data than this is
 * not blamed for memory pressure. */
#define UST_TCP_MIN_SNDBUF 4608u

static size_t mem_used(const struct ust_stack *stack)
{
    return stack->fbpool.in_use_bytes + stack->fbpool.ext_bytes;
}

/* Sockets may fill mem_limit but for an eighth kept for frame buffers
 * (as Linux's tcp_mem bounds socket buffers below what the machine has),
 * so that input, ACKs included, is still processed when every buffer is
 * full and the application can read, send and close its way out. */
static size_t sock_limit(const struct ust_stack *stack)
{
    return stack->fbpool.limit - stack->fbpool.limit / 8;
}

static bool mem_fits(const struct ust_stack *stack, size_t n)
{
    return mem_used(stack) + n <= sock_limit(stack);
}

/* Linux tcp_out_of_memory: memory allocated beyond tcp_mem[2]. Here: within
 * a sixteenth of mem_limit from what sockets may use. */
static bool mem_pressure(const struct ust_stack *stack)
{
    return mem_used(stack) + stack->fbpool.limit / 16 > sock_limit(stack);
}

void ust_tcp_abort_on_memory(struct ust_tcb *tcb)
{
    UST_INC(tcb->sk.stack, TCP, TCPAbortOnMemory);
    ust_tcp_send_rst_conn(tcb);
    tcb->reset = true;
    ust_tcp_done(tcb);
}

/* Makes n bytes fit: TIME-WAIT blocks end early, oldest first (as
 * tcp_max_tw_buckets does), then orphans are reset, oldest first. */
static void reclaim(struct ust_stack *stack, struct ust_tcb *self, size_t n)
{
    while (!mem_fits(stack, n)) {
        struct ust_tcb *t = stack->tcp.tw_oldest;
        if (!t || t == self)
            break;
        ust_tcp_done(t);
    }
    while (!mem_fits(stack, n)) {
        struct ust_tcb *t = stack->tcp.orph_oldest;
        if (t && t == self)
            t = t->orph_next;
        if (!t)
            return;
        ust_tcp_abort_on_memory(t);
    }
}

bool ust_tcp_mem_may_grow(const struct ust_stack *stack, size_t n)
{
    return mem_used(stack) + n + stack->fbpool.limit / 16 <= sock_limit(stack);
}

/* may_reclaim: make room at the expense of TIME-WAIT blocks and orphans. */
static int charge(struct ust_stack *stack, struct ust_tcb *self, size_t n, bool may_reclaim)
{
    if (!mem_fits(stack, n) && may_reclaim)
        reclaim(stack, self, n);
    if (!mem_fits(stack, n)) {
        UST_INC(stack, MEM, SockAllocFails);
        return -ENOBUFS;
    }
    stack->fbpool.ext_bytes += n;
    stack->tcp.mem_bytes += n;
    return 0;
}

int ust_tcp_mem_charge(struct ust_stack *stack, struct ust_tcb *self, size_t n)
{
    return charge(stack, self, n, true);
}

void ust_tcp_mem_uncharge(struct ust_stack *stack, size_t n)
{
    stack->fbpool.ext_bytes -= n;
    stack->tcp.mem_bytes -= n;
}

static size_t ring_storage(const struct ust_ring *r)
{
    return r->buf ? r->cap : 0;
}

size_t ust_tcp_ring_write(struct ust_tcb *tcb, struct ust_ring *r, const void *src, size_t n)
{
    if (r->buf || n == 0 || ust_ring_space(r) == 0)
        return ust_ring_write(r, src, n);
    /* This write allocates the storage. */
    struct ust_stack *stack = tcb->sk.stack;
    if (ust_tcp_mem_charge(stack, tcb, r->cap) != 0)
        return 0;
    size_t k = ust_ring_write(r, src, n);
    if (!r->buf) {
        ust_tcp_mem_uncharge(stack, r->cap);
        UST_INC(stack, MEM, SockAllocFails);
        return 0;
    }
    tcb->mem_charged += r->cap;
    return k;
}

int ust_tcp_ring_resize(struct ust_tcb *tcb, struct ust_ring *r, size_t cap)
{
    struct ust_stack *stack = tcb->sk.stack;
    size_t used = ust_ring_used(r), old = ring_storage(r);
    if (used > cap)
        return -EBUSY;
    if (cap == r->cap)
        return 0;
    if (used == 0) {            /* the storage goes; the next write allocates */
        ust_ring_resize(r, cap);
        ust_tcp_mem_uncharge(stack, old);
        tcb->mem_charged -= old;
        return 0;
    }
    /* A ring in use that changes size is not worth anyone's reset. */
    if (charge(stack, tcb, cap, false) != 0)
        return -ENOBUFS;
    if (ust_ring_resize(r, cap) != 0) {
        ust_tcp_mem_uncharge(stack, cap);
        UST_INC(stack, MEM, SockAllocFails);
        return -ENOBUFS;
    }
    ust_tcp_mem_uncharge(stack, old);
    tcb->mem_charged += cap - old;
    return 0;
}

void ust_tcp_ring_free(struct ust_tcb *tcb, struct ust_ring *r)
{
    size_t old = ring_storage(r);
    ust_ring_free(r);
    if (old) {
        ust_tcp_mem_uncharge(tcb->sk.stack, old);
        tcb->mem_charged -= old;
    }
}

/* ---- Orphans ----------------------------------------------------------------- */

static bool counts_as_orphan(const struct ust_tcb *tcb)
{
    switch (tcb->state) {
    case UST_TCP_FIN_WAIT_1: case UST_TCP_FIN_WAIT_2: case UST_TCP_CLOSING:
    case UST_TCP_LAST_ACK:
        return tcb->orphan;
    default:
        return false;
    }
}

static void orphan_link(struct ust_tcb *tcb)
{
    struct ust_tcp_state *st = &tcb->sk.stack->tcp;
    tcb->orph_next = NULL;
    tcb->orph_prev = st->orph_newest;
    if (st->orph_newest)
        st->orph_newest->orph_next = tcb;
    else
        st->orph_oldest = tcb;
    st->orph_newest = tcb;
    st->orphans++;
}

static void orphan_unlink(struct ust_tcb *tcb)
{
    struct ust_tcp_state *st = &tcb->sk.stack->tcp;
    if (tcb->orph_prev)
        tcb->orph_prev->orph_next = tcb->orph_next;
    else
        st->orph_oldest = tcb->orph_next;
    if (tcb->orph_next)
        tcb->orph_next->orph_prev = tcb->orph_prev;
    else
        st->orph_newest = tcb->orph_prev;
    tcb->orph_prev = tcb->orph_next = NULL;
    st->orphans--;
}

void ust_tcp_orphan_update(struct ust_tcb *tcb)
{
    bool c = counts_as_orphan(tcb);
    if (c == tcb->orphan_counted)
        return;
    if (c)
        orphan_link(tcb);
    else
        orphan_unlink(tcb);
    tcb->orphan_counted = c;
}

bool ust_tcp_check_oom(const struct ust_tcb *tcb, unsigned shift)
{
    const struct ust_stack *stack = tcb->sk.stack;
    uint64_t orphans = (uint64_t)stack->tcp.orphans << (shift > 16 ? 16 : shift);
    if (orphans > stack->cfg.tcp_max_orphans)
        return true;    /* Linux: "too many orphaned sockets" */
    return ust_ring_used(&tcb->snd) > UST_TCP_MIN_SNDBUF && mem_pressure(stack);
}
