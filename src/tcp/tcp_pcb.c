/* Connection blocks: creation and freeing, the three tables (connections by
 * 4-tuple, listeners by port, port owners for bind conflicts), ports, the
 * initial sequence number (RFC 6528) and state changes. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include "core/stats.h"
#include "core/util.h"
#include "net/net.h"
#include "runtime/waitq.h"
#include "stack/stack_impl.h"
#include "tcp/tcp.h"
#include "tcp/tcp_trace.h"

static const char *const state_names[] = {
    "CLOSED", "LISTEN", "SYN-SENT", "SYN-RECEIVED", "ESTABLISHED", "FIN-WAIT-1",
    "FIN-WAIT-2", "CLOSE-WAIT", "CLOSING", "LAST-ACK", "TIME-WAIT",
};

const char *ust_tcp_state_name(enum ust_tcp_conn_state s)
{
    return (unsigned)s < sizeof(state_names) / sizeof(state_names[0]) ? state_names[s] : "?";
}

/* ---- Per-stack state -------------------------------------------------- */

int ust_tcp_init(struct ust_stack *stack)
{
    uint32_t max = 16;
    while (max < 4 * stack->cfg.max_fds && max < (1u << 20))
        max <<= 1;
    memset(&stack->tcp, 0, sizeof(stack->tcp));
    int err = ust_ht_init(&stack->tcp.ehash, 64, max);
    if (!err)
        err = ust_ht_init(&stack->tcp.lhash, 16, max);
    if (!err)
        err = ust_ht_init(&stack->tcp.bhash, 64, max);
    return err;
}

/* Frees every block still in a table: orphans in FIN-WAIT/TIME-WAIT and
 * children nobody accepted (descriptors were closed before this). */
static void free_all_in(struct ust_htable *ht, size_t node_off)
{
    for (uint32_t b = 0; ht->buckets && b < ht->nbuckets; b++) {
        while (ht->buckets[b]) {
            struct ust_tcb *tcb = (struct ust_tcb *)(void *)((char *)ht->buckets[b] - node_off);
            ust_tcb_free(tcb);
        }
    }
}

void ust_tcp_stop(struct ust_stack *stack)
{
    stack->tcp.stopping = true;
}

void ust_tcp_fini(struct ust_stack *stack)
{
    free_all_in(&stack->tcp.ehash, offsetof(struct ust_tcb, node));
    free_all_in(&stack->tcp.lhash, offsetof(struct ust_tcb, node));
    free_all_in(&stack->tcp.bhash, offsetof(struct ust_tcb, bnode));
    ust_ht_fini(&stack->tcp.ehash);
    ust_ht_fini(&stack->tcp.lhash);
    ust_ht_fini(&stack->tcp.bhash);
}

/* ---- Blocks ------------------------------------------------------------ */

struct ust_tcb *ust_tcb_new(struct ust_stack *stack, struct ust_waitq *wq)
{
    /* The block counts in mem_limit (tcp_mem.c). */
    if (ust_tcp_mem_charge(stack, NULL, sizeof(struct ust_tcb)) != 0)
        return NULL;
    struct ust_tcb *tcb = calloc(1, sizeof(*tcb));
    if (!tcb) {
        ust_tcp_mem_uncharge(stack, sizeof(struct ust_tcb));
        return NULL;
    }
    tcb->sk.stack = stack;
    tcb->sk.wq = wq;
    tcb->sk.type = SOCK_STREAM;
    tcb->sk.protocol = IPPROTO_TCP;
    tcb->sk.rcvbuf = stack->cfg.tcp_rmem_default;
    tcb->sk.sndbuf = stack->cfg.tcp_wmem_default;
    tcb->state = UST_TCP_CLOSED;
    tcb->linger = -1;
    tcb->rcvlowat = 1;
    tcb->cc = &ust_tcp_cc_cubic;           /* RFC 9438, Linux's default */
    tcb->rcv_mss_est = 536;                 /* RFC 9293 3.7.1 default */
    tcb->rto_ns = UST_NSEC_PER_SEC;         /* RFC 6298 2.1: initial RTO 1 s */
    ust_fbq_init(&tcb->ooo);
    ust_ring_init(&tcb->snd, 0);
    ust_ring_init(&tcb->rcv, 0);
    ust_tcp_timers_init(tcb);
    stack->tcp.nconns++;
    return tcb;
}

static void ehash_remove(struct ust_tcb *tcb)
{
    struct ust_stack *stack = tcb->sk.stack;
    if (tcb->in_ehash)
        ust_ht_remove(&stack->tcp.ehash, &tcb->node);
    if (tcb->in_lhash)
        ust_ht_remove(&stack->tcp.lhash, &tcb->node);
    tcb->in_ehash = tcb->in_lhash = false;
}

static void bhash_remove(struct ust_tcb *tcb)
{
    if (tcb->in_bhash)
        ust_ht_remove(&tcb->sk.stack->tcp.bhash, &tcb->bnode);
    tcb->in_bhash = false;
}

/* A child leaves its listener's counts and accept queue. */
static void unlink_from_parent(struct ust_tcb *tcb)
{
    struct ust_tcb *l = tcb->parent;
    if (!l)
        return;
    if (tcb->state == UST_TCP_SYN_RECEIVED && l->syn_len > 0)
        l->syn_len--;
    for (struct ust_tcb **pp = &l->acc_head; *pp; pp = &(*pp)->acc_next) {
        if (*pp == tcb) {
            *pp = tcb->acc_next;
            l->acc_len--;
            if (l->acc_tail == tcb) {
                l->acc_tail = NULL;
                for (struct ust_tcb *t = l->acc_head; t; t = t->acc_next)
                    l->acc_tail = t;
            }
            break;
        }
    }
    tcb->parent = NULL;
}

/* The TIME-WAIT list (oldest first), for tcp_max_tw_buckets. */
static void tw_link(struct ust_tcb *tcb)
{
    struct ust_tcp_state *st = &tcb->sk.stack->tcp;
    tcb->tw_next = NULL;
    tcb->tw_prev = st->tw_newest;
    if (st->tw_newest)
        st->tw_newest->tw_next = tcb;
    else
        st->tw_oldest = tcb;
    st->tw_newest = tcb;
    st->tw_count++;
}

static void tw_unlink(struct ust_tcb *tcb)
{
    struct ust_tcp_state *st = &tcb->sk.stack->tcp;
    if (tcb->tw_prev)
        tcb->tw_prev->tw_next = tcb->tw_next;
    else
        st->tw_oldest = tcb->tw_next;
    if (tcb->tw_next)
        tcb->tw_next->tw_prev = tcb->tw_prev;
    else
        st->tw_newest = tcb->tw_prev;
    tcb->tw_prev = tcb->tw_next = NULL;
    st->tw_count--;
}

void ust_tcb_free(struct ust_tcb *tcb)
{
    struct ust_stack *stack = tcb->sk.stack;
    /* A listener's unaccepted children go with it. */
    while (tcb->acc_head) {
        struct ust_tcb *c = tcb->acc_head;
        unlink_from_parent(c);
        ust_tcb_free(c);
    }
    unlink_from_parent(tcb);
    if (tcb->state == UST_TCP_ESTABLISHED || tcb->state == UST_TCP_CLOSE_WAIT)
        stack->stats[UST_STAT_TCP_CurrEstab]--;
    if (tcb->state == UST_TCP_TIME_WAIT)
        tw_unlink(tcb);
    tcb->orphan = false;
    ust_tcp_orphan_update(tcb);
    ust_tcp_timers_cancel(tcb);
    ehash_remove(tcb);
    bhash_remove(tcb);
    ust_fbq_purge(stack, &tcb->ooo);
    ust_tcp_ring_free(tcb, &tcb->snd);
    ust_tcp_ring_free(tcb, &tcb->rcv);
    stack->tcp.nconns--;
    free(tcb);
    ust_tcp_mem_uncharge(stack, sizeof(struct ust_tcb));
}

void ust_tcp_wake(struct ust_tcb *tcb, uint32_t events)
{
    ust_waitq_wake(tcb->sk.wq, events);
    if (tcb->parent && tcb->state != UST_TCP_SYN_RECEIVED)
        ust_waitq_wake(tcb->parent->sk.wq, POLLIN | POLLRDNORM);
}

static bool is_established_like(enum ust_tcp_conn_state s)
{
    return s == UST_TCP_ESTABLISHED || s == UST_TCP_CLOSE_WAIT;
}

void ust_tcp_set_state(struct ust_tcb *tcb, enum ust_tcp_conn_state s)
{
    struct ust_stack *stack = tcb->sk.stack;
    if (is_established_like(tcb->state) && !is_established_like(s))
        stack->stats[UST_STAT_TCP_CurrEstab]--;
    if (!is_established_like(tcb->state) && is_established_like(s))
        UST_INC(stack, TCP, CurrEstab);
    if (tcb->state == UST_TCP_SYN_RECEIVED && tcb->parent && tcb->parent->syn_len > 0)
        tcb->parent->syn_len--;
    if (tcb->state == UST_TCP_TIME_WAIT && s != UST_TCP_TIME_WAIT)
        tw_unlink(tcb);
    if (tcb->state != UST_TCP_TIME_WAIT && s == UST_TCP_TIME_WAIT)
        tw_link(tcb);
    ust_tcp_trace_state(tcb, tcb->state, s);
    tcb->state = s;
    ust_tcp_orphan_update(tcb);
}

void ust_tcp_done(struct ust_tcb *tcb)
{
    ust_tcp_set_state(tcb, UST_TCP_CLOSED);
    ust_tcp_timers_cancel(tcb);
    ehash_remove(tcb);
    tcb->done = true;
    tcb->sk.connected = false;
    ust_tcp_wake(tcb, POLLIN | POLLOUT | POLLERR | POLLHUP | POLLRDHUP);
    /* Nobody will accept or close a child that died in the queue, nor an
     * orphan: free them now. */
    if (tcb->orphan || tcb->parent)
        ust_tcb_free(tcb);
}

/* ---- Lookup -------------------------------------------------------------- */

static uint32_t tuple_hash(const struct ust_stack *stack, uint32_t laddr, uint16_t lport,
                           uint32_t raddr, uint16_t rport)
{
    return ust_hash_u32x3(stack->hash_key, laddr, raddr, ((uint32_t)lport << 16) | rport);
}

static uint32_t port_hash(const struct ust_stack *stack, uint16_t port)
{
    return ust_hash_u32x3(stack->hash_key, IPPROTO_TCP, port, 0x7cb);
}

struct ust_tcb *ust_tcp_lookup(struct ust_stack *stack, uint32_t laddr, uint16_t lport,
                               uint32_t raddr, uint16_t rport)
{
    uint32_t h = tuple_hash(stack, laddr, lport, raddr, rport);
    for (struct ust_hnode *n = ust_ht_bucket(&stack->tcp.ehash, h); n; n = n->next) {
        struct ust_tcb *t = ust_container_of(n, struct ust_tcb, node);
        if (n->hash == h && t->sk.lport == lport && t->sk.rport == rport &&
            t->sk.laddr == laddr && t->sk.raddr == raddr)
            return t;
    }
    return NULL;
}

/* An address-specific listener beats a wildcard one. */
struct ust_tcb *ust_tcp_lookup_listener(struct ust_stack *stack, uint32_t laddr, uint16_t lport)
{
    uint32_t h = port_hash(stack, lport);
    struct ust_tcb *wild = NULL;
    for (struct ust_hnode *n = ust_ht_bucket(&stack->tcp.lhash, h); n; n = n->next) {
        struct ust_tcb *t = ust_container_of(n, struct ust_tcb, node);
        if (n->hash != h || t->sk.lport != lport)
            continue;
        if (t->sk.laddr == laddr)
            return t;
        if (t->sk.laddr == 0)
            wild = t;
    }
    return wild;
}

/* SO_REUSEPORT (Linux inet_lhash2_lookup -> lookup_reuseport): l is the
 * best listener; when it belongs to a group that set SO_REUSEPORT on the
 * same address and port, the SYN's 4-tuple picks the member (rendezvous
 * weight, net/port.c), so every segment of one flow finds the same one. */
struct ust_tcb *ust_tcp_reuseport_select(struct ust_tcb *l, uint32_t saddr, uint16_t sport)
{
    if (!l->sk.reuseport)
        return l;
    struct ust_stack *stack = l->sk.stack;
    uint32_t flow = ust_reuseport_hash(stack, saddr, sport, l->sk.laddr, l->sk.lport);
    uint32_t h = port_hash(stack, l->sk.lport);
    struct ust_tcb *pick = l;
    uint32_t top = ust_reuseport_weight(stack, flow, l->reuseport_id);
    for (struct ust_hnode *n = ust_ht_bucket(&stack->tcp.lhash, h); n; n = n->next) {
        struct ust_tcb *t = ust_container_of(n, struct ust_tcb, node);
        if (n->hash != h || t == l || t->sk.lport != l->sk.lport || !t->sk.reuseport ||
            t->sk.laddr != l->sk.laddr)
            continue;
        uint32_t w = ust_reuseport_weight(stack, flow, t->reuseport_id);
        if (w > top) {
            top = w;
            pick = t;
        }
    }
    return pick;
}

void ust_tcp_ehash_insert(struct ust_tcb *tcb)
{
    struct ust_stack *stack = tcb->sk.stack;
    ust_ht_insert(&stack->tcp.ehash, &tcb->node,
                  tuple_hash(stack, tcb->sk.laddr, tcb->sk.lport, tcb->sk.raddr, tcb->sk.rport));
    tcb->in_ehash = true;
}

void ust_tcp_lhash_insert(struct ust_tcb *tcb)
{
    struct ust_stack *stack = tcb->sk.stack;
    ust_ht_insert(&stack->tcp.lhash, &tcb->node, port_hash(stack, tcb->sk.lport));
    tcb->in_lhash = true;
    if (tcb->sk.reuseport)      /* its identity in a SO_REUSEPORT group */
        tcb->reuseport_id = ust_rng_next(&stack->rng);
}

/* ---- Ports ------------------------------------------------------------- */

/* Linux inet_csk_bind_conflict for TCP: the same port with overlapping
 * addresses conflicts unless both sides set SO_REUSEADDR and the other one
 * is not listening (a TIME-WAIT block never stops a SO_REUSEADDR bind). */
static bool bind_conflict(const struct ust_tcb *a, const struct ust_tcb *b)
{
    if (a->sk.laddr != 0 && b->sk.laddr != 0 && a->sk.laddr != b->sk.laddr)
        return false;
    if (a->sk.reuseaddr && b->state != UST_TCP_LISTEN &&
        (b->sk.reuseaddr || b->state == UST_TCP_TIME_WAIT))
        return false;
    /* SO_REUSEPORT on both (Linux also wants the same uid: one process). */
    if (a->sk.reuseport && b->sk.reuseport)
        return false;
    return true;
}

static bool port_in_use(struct ust_tcb *tcb, uint16_t port)
{
    struct ust_stack *stack = tcb->sk.stack;
    uint32_t h = port_hash(stack, port);
    for (struct ust_hnode *n = ust_ht_bucket(&stack->tcp.bhash, h); n; n = n->next) {
        struct ust_tcb *o = ust_container_of(n, struct ust_tcb, bnode);
        if (o != tcb && o->sk.lport == port && bind_conflict(tcb, o))
            return true;
    }
    return false;
}

static void bhash_insert(struct ust_tcb *tcb, uint16_t port)
{
    struct ust_stack *stack = tcb->sk.stack;
    tcb->sk.lport = port;
    ust_ht_insert(&stack->tcp.bhash, &tcb->bnode, port_hash(stack, port));
    tcb->in_bhash = true;
}

void ust_tcp_bhash_inherit(struct ust_tcb *child)
{
    bhash_insert(child, child->sk.lport);
}

static bool tcp_port_in_use(void *arg, uint16_t port)
{
    return port_in_use(arg, port);
}

static int pick_ephemeral(struct ust_tcb *tcb)
{
    bool save = tcb->sk.reuseaddr, save_rp = tcb->sk.reuseport;
    tcb->sk.reuseaddr = false;      /* never share an ephemeral port */
    tcb->sk.reuseport = false;
    int port = ust_ephemeral_port(tcb->sk.stack, tcp_port_in_use, tcb);
    tcb->sk.reuseaddr = save;
    tcb->sk.reuseport = save_rp;
    return port;
}

int ust_tcp_bind(struct ust_tcb *tcb, uint32_t addr, uint16_t port)
{
    struct ust_stack *stack = tcb->sk.stack;
    if (addr != 0 && !ust_net_is_local_addr(stack, addr))
        return -EADDRNOTAVAIL;
    if (tcb->in_bhash || tcb->state != UST_TCP_CLOSED)
        return -EINVAL;
    tcb->sk.laddr = tcb->sk.saddr = addr;
    if (port == 0) {
        int p = pick_ephemeral(tcb);
        if (p < 0) {
            tcb->sk.laddr = tcb->sk.saddr = 0;
            return -EADDRINUSE;
        }
        port = (uint16_t)p;
    } else if (port_in_use(tcb, port)) {
        tcb->sk.laddr = tcb->sk.saddr = 0;
        return -EADDRINUSE;
    }
    bhash_insert(tcb, port);
    return 0;
}

int ust_tcp_autobind(struct ust_tcb *tcb)
{
    if (tcb->in_bhash)
        return 0;
    int p = pick_ephemeral(tcb);
    if (p < 0)
        return p;
    bhash_insert(tcb, (uint16_t)p);
    return 0;
}

/* RFC 6528: ISN = M + F(localip, localport, remoteip, remoteport, secretkey)
 * with M a 4-microsecond timer. */
uint32_t ust_tcp_isn(struct ust_stack *stack, uint32_t laddr, uint16_t lport, uint32_t raddr,
                     uint16_t rport)
{
    uint32_t f = ust_hash_u32x3(stack->hash_key, laddr ^ 0x54435049u, raddr,
                                ((uint32_t)lport << 16) | rport);
    return f + (uint32_t)(stack->now / 4000u);
}

uint16_t ust_tcp_route_mss(struct ust_stack *stack, uint32_t raddr)
{
    struct ust_route_result rt;
    unsigned mtu = 1500;
    if (ust_route_output(stack, raddr, &rt) == 0 && rt.netif)
        mtu = rt.netif->mtu;
    if (mtu > 65535)
        mtu = 65535;
    return (uint16_t)(mtu - UST_IPV4_MIN_HLEN - UST_TCP_MIN_HLEN);
}

/* RFC 7323 2.2: the smallest shift that lets the window cover the buffer. */
void ust_tcp_init_buffers(struct ust_tcb *tcb)
{
    size_t rcv = tcb->sk.rcvbuf, snd = tcb->sk.sndbuf;
    if (tcb->rcv.cap != rcv && ust_ring_used(&tcb->rcv) == 0) {
        ust_tcp_ring_free(tcb, &tcb->rcv);
        ust_ring_init(&tcb->rcv, rcv);
    }
    if (tcb->snd.cap != snd && ust_ring_used(&tcb->snd) == 0) {
        ust_tcp_ring_free(tcb, &tcb->snd);
        ust_ring_init(&tcb->snd, snd);
    }
    uint8_t ws = 0;
    while (ws < 14 && (rcv >> ws) > 0xffff)
        ws++;
    tcb->rcv_wscale = ws;
}
