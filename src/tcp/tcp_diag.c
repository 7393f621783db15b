/* Socket diagnostics (include/ustack/diag.h): walks the connection tables
 * and fills one struct ust_tcp_diag per connection block, the way Linux's
 * inet_diag answers `ss`. Owner: tcp/. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>

#include "ustack/diag.h"

#include "stack/stack_impl.h"
#include "runtime/runtime.h"
#include "tcp/tcp.h"

static void fill_addr(struct sockaddr_in *sin, uint32_t addr, uint16_t port)
{
    memset(sin, 0, sizeof(*sin));
    sin->sin_family = AF_INET;
    sin->sin_addr.s_addr = htonl(addr);
    sin->sin_port = htons(port);
}

static void fill_one(const struct ust_tcb *tcb, struct ust_tcp_diag *d)
{
    memset(d, 0, sizeof(*d));
    const struct ust_sk *sk = &tcb->sk;
    /* A connected block has a concrete source address; a listener may be
     * bound to any (0). */
    uint32_t laddr = sk->laddr ? sk->laddr : sk->saddr;
    fill_addr(&d->local, laddr, sk->lport);
    ust_tcp_get_info(tcb, &d->info);
    d->orphan = tcb->orphan;
    snprintf(d->congestion, sizeof(d->congestion), "%s", tcb->cc ? tcb->cc->name : "");
    if (tcb->state == UST_TCP_LISTEN) {
        d->recv_q = tcb->acc_len;
        d->send_q = tcb->backlog;
        d->syn_q = tcb->syn_len;
        return;
    }
    fill_addr(&d->remote, sk->raddr, sk->rport);
    d->recv_q = (uint32_t)ust_tcp_inq(tcb);
    d->send_q = (uint32_t)ust_tcp_outq(tcb);
}

/* Visits every block of one table; node_off is where its hash node sits. */
static size_t walk(const struct ust_htable *ht, size_t node_off, struct ust_tcp_diag *out,
                   size_t max, size_t n)
{
    for (uint32_t b = 0; ht->buckets && b < ht->nbuckets; b++) {
        for (const struct ust_hnode *h = ht->buckets[b]; h; h = h->next, n++) {
            if (n < max)
                fill_one((const struct ust_tcb *)(const void *)((const char *)h - node_off),
                         &out[n]);
        }
    }
    return n;
}

ssize_t ust_tcp_diag(struct ust_stack *stack, struct ust_tcp_diag *out, size_t max)
{
    if (!out && max) {
        errno = EINVAL;
        return -1;
    }
    ust_rt_enter(stack);
    const struct ust_tcp_state *t = &stack->tcp;
    /* Listeners live in lhash, every other bound or connected block in
     * ehash (both through tcb->node). */
    size_t n = walk(&t->lhash, offsetof(struct ust_tcb, node), out, max, 0);
    n = walk(&t->ehash, offsetof(struct ust_tcb, node), out, max, n);
    ust_rt_exit(stack);
    return (ssize_t)n;
}

const char *ust_tcp_diag_state_name(int st)
{
    static const char *const names[] = {
        [TCP_ESTABLISHED] = "ESTAB",     [TCP_SYN_SENT] = "SYN-SENT",
        [TCP_SYN_RECV] = "SYN-RECV",     [TCP_FIN_WAIT1] = "FIN-WAIT-1",
        [TCP_FIN_WAIT2] = "FIN-WAIT-2",  [TCP_TIME_WAIT] = "TIME-WAIT",
        [TCP_CLOSE] = "UNCONN",          [TCP_CLOSE_WAIT] = "CLOSE-WAIT",
        [TCP_LAST_ACK] = "LAST-ACK",     [TCP_LISTEN] = "LISTEN",
        [TCP_CLOSING] = "CLOSING",
    };
    if (st > 0 && st < (int)(sizeof(names) / sizeof(names[0])) && names[st])
        return names[st];
    return "UNKNOWN";
}
