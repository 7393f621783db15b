/* The stack object: creation, teardown and the poll loop that drives it. */
#include "stack/stack_impl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"
#include "fd/fd.h"
#include "net/net.h"
#include "net/udp.h"
#include "ipc/ipc.h"
#include "tcp/tcp.h"
#include "runtime/runtime.h"

#define UST_TIMER_TICK_NS UST_NSEC_PER_MSEC
#define UST_RX_BUDGET 256

void ust_stack_config_init(struct ust_stack_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->name = "ustack";
    cfg->mem_limit = 256u << 20;
    cfg->max_fds = 1024;
    cfg->arp_cache_size = 256;
    cfg->arp_pending_max = 3;
    cfg->arp_reachable_ns = 30 * UST_NSEC_PER_SEC;
    cfg->arp_retrans_ns = 1 * UST_NSEC_PER_SEC;
    cfg->arp_max_probes = 3;
    cfg->ip_default_ttl = 64;
    cfg->ipfrag_high_thresh = 4u << 20;
    cfg->ipfrag_time_ns = 30 * UST_NSEC_PER_SEC;
    cfg->icmp_ratelimit_per_s = 1000;
    cfg->icmp_ratelimit_burst = 50;
    cfg->udp_rmem_default = 212992;
    cfg->udp_wmem_default = 212992;
    cfg->rmem_max = 212992;
    cfg->wmem_max = 212992;
    cfg->ephemeral_lo = 32768;
    cfg->ephemeral_hi = 60999;
    cfg->raise_sigpipe = 1;
    cfg->tcp_rmem_default = 131072;
    cfg->tcp_wmem_default = 16384;
    cfg->tcp_wmem_max = 4u << 20;
    cfg->tcp_somaxconn = 4096;
    cfg->tcp_syncookies = 1;
    cfg->tcp_syn_retries = 6;
    cfg->tcp_retries2 = 15;
    cfg->tcp_rto_min_ns = 200 * UST_NSEC_PER_MSEC;
    cfg->tcp_rto_max_ns = 120 * UST_NSEC_PER_SEC;
    cfg->tcp_timewait_ns = 60 * UST_NSEC_PER_SEC;
    cfg->tcp_max_tw_buckets = 32768;
    cfg->tcp_delack_ns = 40 * UST_NSEC_PER_MSEC;
    cfg->tcp_keepalive_time = 7200;
    cfg->tcp_keepalive_intvl = 75;
    cfg->tcp_keepalive_probes = 9;
    cfg->tcp_invalid_ratelimit_ms = 500;
    cfg->tcp_max_orphans = 4096;
    cfg->pipe_max_size = 1u << 20;
    cfg->fifo_max = 1024;
    cfg->pipe_user_pages_soft = 16384;
    cfg->pipe_user_pages_hard = 0;
    cfg->mq_queues_max = 256;
    cfg->mq_maxmsg_default = 10;
    cfg->mq_maxmsg_max = 10;
    cfg->mq_msgsize_default = 8192;
    cfg->mq_msgsize_max = 8192;
    cfg->mq_bytes_max = 819200;
    cfg->msgmni = 32000;
    cfg->msgmax = 8192;
    cfg->msgmnb = 16384;
    cfg->msgpool = 524288000;
    /* USTACK_IPC_SHARED=0 makes private namespaces the default (ctest runs
     * the IPC suite both ways). */
    const char *shared = getenv("USTACK_IPC_SHARED");
    cfg->ipc_shared = !(shared && strcmp(shared, "0") == 0);
    cfg->ipc_umask = -1;
    cfg->wait_spin_ns = 10 * UST_NSEC_PER_USEC;
    cfg->log_level = UST_LOG_WARN;
}

static int config_check(const struct ust_stack_config *c)
{
    if (c->max_fds == 0 || c->mem_limit < 2 * UST_FBUF_MAX || c->arp_cache_size == 0)
        return -EINVAL;
    if (c->ephemeral_lo == 0 || c->ephemeral_lo > c->ephemeral_hi)
        return -EINVAL;
    if (c->ip_default_ttl == 0)
        return -EINVAL;
    /* RFC 1122 4.2.3.2: the ACK delay MUST be less than 0.5 seconds. */
    if (c->tcp_delack_ns == 0 || c->tcp_delack_ns >= 500 * UST_NSEC_PER_MSEC)
        return -EINVAL;
    return 0;
}

struct ust_stack *ust_stack_new(const struct ust_stack_config *cfg)
{
    struct ust_stack_config defaults;
    if (!cfg) {
        ust_stack_config_init(&defaults);
        cfg = &defaults;
    }
    int err = config_check(cfg);
    if (err) {
        errno = -err;
        return NULL;
    }
    struct ust_stack *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->cfg = *cfg;
    uint64_t seed = cfg->seed ? cfg->seed : ust_rng_entropy();
    ust_rng_seed(&s->rng, seed);
    s->hash_key[0] = ust_rng_next(&s->rng);
    s->hash_key[1] = ust_rng_next(&s->rng);
    ust_tw_init(&s->timers, UST_TIMER_TICK_NS, 0);
    ust_fbpool_init(&s->fbpool, cfg->mem_limit);

    /* Each step undoes the ones before it on failure. */
    if ((err = ust_rt_init(s)) != 0)
        goto fail_rt;
    if ((err = ust_net_init(s)) != 0)
        goto fail_net;
    if ((err = ust_udp_init(s)) != 0)
        goto fail_udp;
    if ((err = ust_tcp_init(s)) != 0)
        goto fail_tcp;
    if ((err = ust_ipc_init(s)) != 0)
        goto fail_ipc;
    if ((err = ust_fd_init(s)) != 0)
        goto fail_fd;
    if ((err = ust_loopback_create(s)) != 0)
        goto fail_lo;
    return s;

fail_lo:
    ust_fd_fini(s);
fail_fd:
    ust_ipc_fini(s);
fail_ipc:
    ust_tcp_fini(s);
fail_tcp:
    ust_udp_fini(s);
fail_udp:
    ust_net_fini(s);
fail_net:
    ust_rt_fini(s);
fail_rt:
    ust_fbpool_fini(&s->fbpool);
    free(s);
    errno = -err;
    return NULL;
}

void ust_stack_free(struct ust_stack *s)
{
    if (!s)
        return;
    if (ust_rt_can_block(s))
        ust_stack_stop(s);
    ust_rt_lock(s);
    ust_tcp_stop(s);         /* closing descriptors now sends nothing */
    ust_fd_fini(s);          /* closes every descriptor: sockets leave their tables */
    ust_ipc_fini(s);         /* named FIFOs and queues nobody holds */
    ust_tcp_fini(s);         /* connections left in TIME_WAIT or orphaned */
    ust_udp_fini(s);
    ust_netif_destroy_all(s);
    ust_net_fini(s);         /* ARP queues, reassembly, timers of net/ */
    ust_rt_unlock(s);
    ust_rt_fini(s);
    ust_fbpool_fini(&s->fbpool);
    free(s);
}

void ust_stack_kick(struct ust_stack *s)
{
    s->work_pending = true;
    if (s->kick)
        s->kick(s, s->kick_arg);
}

uint64_t ust_stack_poll_locked(struct ust_stack *s, uint64_t now_ns)
{
    if (now_ns > s->now)
        s->now = now_ns;
    s->work_pending = false;
    for (unsigned i = 0; i < s->n_netifs; i++) {
        struct ust_netif *nif = s->netifs[i];
        if (nif->ops->rx_poll)
            nif->ops->rx_poll(nif, UST_RX_BUDGET);
        ust_netif_process_rxq(nif);
    }
    ust_tw_advance(&s->timers, s->now, s);
    if (s->work_pending)
        return s->now;
    return ust_tw_next(&s->timers);
}

uint64_t ust_stack_poll(struct ust_stack *s, uint64_t now_ns)
{
    ust_rt_lock(s);
    uint64_t next = ust_stack_poll_locked(s, now_ns);
    ust_rt_unlock(s);
    return next;
}

uint64_t ust_stack_now(const struct ust_stack *s)
{
    return s->now;
}

uint64_t ust_stat_get(const struct ust_stack *s, enum ust_stat which)
{
    if ((unsigned)which >= UST_STAT__COUNT)
        return 0;
    return s->stats[which];
}

/* Group names as Linux's /proc/net/snmp spells them ("Ip.InReceives"). */
#define UST_STAT_GROUP_ETH "Eth"
#define UST_STAT_GROUP_ARP "Arp"
#define UST_STAT_GROUP_IP "Ip"
#define UST_STAT_GROUP_ICMP "Icmp"
#define UST_STAT_GROUP_UDP "Udp"
#define UST_STAT_GROUP_TCP "Tcp"
#define UST_STAT_GROUP_MEM "Mem"

static const char *const stat_names[UST_STAT__COUNT] = {
#define UST_STAT_NAME_(grp, name) UST_STAT_GROUP_##grp "." #name,
    UST_STATS(UST_STAT_NAME_)
#undef UST_STAT_NAME_
};

const char *ust_stat_name(enum ust_stat which)
{
    if ((unsigned)which >= UST_STAT__COUNT)
        return NULL;
    return stat_names[which];
}
