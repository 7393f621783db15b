/* The simulated network: hosts (whole stacks) joined by point-to-point
 * Ethernet links with impairments, on virtual time.
 *
 * Every frame a host transmits on a sim netif is copied into a frame record
 * owned by the simulator (the sender's buffer goes back to its pool at once),
 * pushed through the link's impairments and scheduled as a delivery event. The
 * events live in a binary min-heap ordered by (time, sequence number), so two
 * events at the same instant always run in the order they were created. At
 * delivery the frame is copied into a buffer of the RECEIVING stack's pool.
 *
 * Virtual time jumps from event to event: the next frame delivery or the
 * earliest deadline a host returned from ust_stack_poll. All randomness comes
 * from the simulation's seed: the sim's own PRNG derives one PRNG per link
 * direction (so traffic on one link does not shift the dice of another) and
 * the seed of every host.
 *
 * The simulator is single-threaded: drive it and call the hosts' APIs from
 * one thread. */
#include <ustack/sim.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rand.h"
#include "core/util.h"
#include "netif/impair_model.h"
#include "netif/netif.h"
#include "runtime/runtime.h"
#include "stack/stack_impl.h"
#include "wire/wire.h"

#define SIM_DEFAULT_MTU 1500u
#define SIM_DEFAULT_QUEUE_LIMIT 1000u
/* Frames in propagation per direction: bounds memory when rate = 0
 * (infinite bandwidth) and a host sends without pause. */
#define SIM_MAX_IN_FLIGHT 16384u
#define SIM_HEAP_INITIAL 256u
#define SIM_HOST_NAMSIZ 32

struct sim_dir;

/* A frame in flight: one delivery event. */
struct sim_frame {
    uint64_t time;              /* delivery time, ns */
    uint64_t seq;               /* creation order: tie-break at equal times */
    struct sim_dir *dir;
    uint32_t len;
    uint8_t data[];
};

struct sim_host {
    struct ust_sim *sim;
    struct ust_stack *stack;
    char name[SIM_HOST_NAMSIZ];
    uint64_t deadline;          /* last returned by ust_stack_poll */
    bool need_poll;             /* kicked, or received frames */
    unsigned next_netif;        /* N of the next "simN" */
};

/* One direction of a link. */
struct sim_dir {
    struct ust_sim_link *link;
    int index;                  /* 0 = a->b, 1 = b->a */
    struct ust_link_params p;   /* normalised: mtu, queue_limit nonzero */
    struct ust_link_stats st;
    struct ust_rng rng;
    struct sim_host *to_host;
    struct ust_netif *to_nif;   /* NULL once the receiver is gone */
    uint64_t busy_until;        /* end of the last frame's serialisation */
    unsigned in_flight;         /* frames of this direction in the heap */
    /* Serialisation queue: end times (nondecreasing) of the frames still
     * being serialised. Ring of capacity p.queue_limit. */
    uint64_t *txq;
    unsigned txq_head, txq_count;
};

struct ust_sim_link {
    struct ust_sim *sim;
    struct ust_netif *nif[2];
    struct sim_dir dir[2];
    bool up;
};

struct ust_sim {
    uint64_t seed;
    uint64_t now;
    uint64_t next_seq;
    struct ust_rng rng;
    struct sim_host **hosts;
    unsigned n_hosts, cap_hosts;
    struct ust_sim_link **links;
    unsigned n_links, cap_links;
    struct sim_frame **heap;
    size_t heap_len, heap_cap;
    ust_sim_frame_fn hook;
    void *hook_arg;
};

/* ---- Event heap: min-heap on (time, seq) ------------------------------- */

static bool frame_before(const struct sim_frame *x, const struct sim_frame *y)
{
    return x->time < y->time || (x->time == y->time && x->seq < y->seq);
}

static int heap_push(struct ust_sim *sim, struct sim_frame *f)
{
    if (sim->heap_len == sim->heap_cap) {
        size_t cap = sim->heap_cap ? sim->heap_cap * 2 : SIM_HEAP_INITIAL;
        struct sim_frame **h = realloc(sim->heap, cap * sizeof(*h));
        if (!h)
            return -ENOMEM;
        sim->heap = h;
        sim->heap_cap = cap;
    }
    size_t i = sim->heap_len++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!frame_before(f, sim->heap[parent]))
            break;
        sim->heap[i] = sim->heap[parent];
        i = parent;
    }
    sim->heap[i] = f;
    return 0;
}

static struct sim_frame *heap_pop(struct ust_sim *sim)
{
    struct sim_frame *top = sim->heap[0];
    struct sim_frame *last = sim->heap[--sim->heap_len];
    size_t n = sim->heap_len, i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && frame_before(sim->heap[c + 1], sim->heap[c]))
            c++;
        if (!frame_before(sim->heap[c], last))
            break;
        sim->heap[i] = sim->heap[c];
        i = c;
    }
    if (n > 0)
        sim->heap[i] = last;
    return top;
}

/* ---- Link parameters and the serialisation queue ----------------------- */

static struct ust_link_params normalise(const struct ust_link_params *in)
{
    struct ust_link_params p;
    memset(&p, 0, sizeof(p));
    if (in)
        p = *in;
    if (p.mtu == 0)
        p.mtu = SIM_DEFAULT_MTU;
    if (p.mtu > UST_FBUF_MAX - UST_ETH_HLEN)
        p.mtu = UST_FBUF_MAX - UST_ETH_HLEN;
    if (p.queue_limit == 0)
        p.queue_limit = SIM_DEFAULT_QUEUE_LIMIT;
    ust_impair_clamp_params(&p);
    return p;
}

/* Installs params p, resizing the queue ring (keeping the newest entries). */
static int dir_set_params(struct sim_dir *d, const struct ust_link_params *p)
{
    if (!d->txq || p->queue_limit != d->p.queue_limit) {
        uint64_t *q = calloc(p->queue_limit, sizeof(*q));
        if (!q)
            return -ENOMEM;
        unsigned keep = UST_MIN(d->txq_count, p->queue_limit);
        for (unsigned i = 0; i < keep; i++) {
            unsigned from = d->txq_head + d->txq_count - keep + i;
            q[i] = d->txq[from % d->p.queue_limit];
        }
        free(d->txq);
        d->txq = q;
        d->txq_head = 0;
        d->txq_count = keep;
    }
    d->p = *p;
    return 0;
}

/* Forgets frames whose serialisation has ended by now. */
static void txq_expire(struct sim_dir *d, uint64_t now)
{
    while (d->txq_count > 0 && d->txq[d->txq_head] <= now) {
        d->txq_head = (d->txq_head + 1) % d->p.queue_limit;
        d->txq_count--;
    }
}

static void txq_push(struct sim_dir *d, uint64_t end)
{
    d->txq[(d->txq_head + d->txq_count) % d->p.queue_limit] = end;
    d->txq_count++;
}

/* ---- Transmit: the sim netif's driver ---------------------------------- */

static struct sim_frame *frame_new(const uint8_t *data, uint32_t len)
{
    struct sim_frame *f = malloc(sizeof(*f) + len);
    if (f) {
        f->len = len;
        memcpy(f->data, data, len);
    }
    return f;
}

static int schedule(struct ust_sim *sim, struct sim_dir *d, struct sim_frame *f, uint64_t t)
{
    f->time = t;
    f->seq = sim->next_seq++;
    f->dir = d;
    int err = heap_push(sim, f);
    if (err)
        return err;
    d->in_flight++;
    return 0;
}

/* Everything after the frame left the serialiser: loss, corruption,
 * delay/jitter/reordering and duplication, in that order (impair_model.c
 * draws the dice). */
static int impair_and_schedule(struct sim_dir *d, struct ust_fbuf *fb, uint64_t tx_end)
{
    struct ust_sim *sim = d->link->sim;
    if (ust_impair_roll_loss(&d->rng, &d->p)) {
        d->st.lost++;
        return 0;
    }
    struct sim_frame *f = frame_new(fb->data, fb->len);
    if (!f) {
        d->st.queue_drops++;
        return -ENOBUFS;
    }
    struct ust_impair_fate fate;
    ust_impair_roll_fate(&d->rng, &d->p, f->len, tx_end, &fate);
    if (fate.corrupt) {
        ust_impair_flip_bit(f->data, fate.corrupt_bit);
        d->st.corrupted++;
    }
    if (fate.reordered)
        d->st.reordered++;
    if (schedule(sim, d, f, fate.arrival) != 0) {
        free(f);
        d->st.queue_drops++;
        return -ENOBUFS;
    }
    if (fate.duplicate && d->in_flight < SIM_MAX_IN_FLIGHT) {
        struct sim_frame *copy = frame_new(f->data, f->len);
        if (copy && schedule(sim, d, copy, fate.arrival) == 0)
            d->st.duplicated++;
        else
            free(copy);
    }
    return 0;
}

static int sim_transmit(struct ust_netif *nif, struct ust_fbuf *fb)
{
    struct sim_dir *d = nif->priv;
    struct ust_sim *sim = d->link->sim;
    uint64_t now = sim->now;
    int err = 0;

    d->st.sent++;
    if (fb->len > d->p.mtu + UST_ETH_HLEN) {
        d->st.oversize_drops++;
        err = -EMSGSIZE;
    } else if (!d->link->up) {
        d->st.down_drops++;         /* the cable is cut: the sender cannot tell */
    } else {
        txq_expire(d, now);
        if (d->txq_count >= d->p.queue_limit || d->in_flight >= SIM_MAX_IN_FLIGHT) {
            d->st.queue_drops++;
            err = -ENOBUFS;
        } else {
            uint64_t ser = ust_impair_serialisation_ns(fb->len, d->p.rate_bps);
            uint64_t end = UST_MAX(now, d->busy_until) + ser;
            if (ser > 0) {
                d->busy_until = end;
                txq_push(d, end);
            }
            err = impair_and_schedule(d, fb, end);
        }
    }
    ust_fbuf_free(nif->stack, fb);
    return err;
}

static int sim_poll_fd(struct ust_netif *nif)
{
    return -1;
}

/* The stack is going away: its end of the link stops receiving. */
static void sim_destroy(struct ust_netif *nif)
{
    struct sim_dir *d = nif->priv;
    struct ust_sim_link *link = d->link;
    link->nif[d->index] = NULL;
    link->dir[1 - d->index].to_nif = NULL;
    nif->priv = NULL;
}

static const struct ust_netif_ops sim_ops = {
    .kind_name = "sim",
    .transmit = sim_transmit,
    .rx_poll = NULL,
    .poll_fd = sim_poll_fd,
    .destroy = sim_destroy,
};

/* ---- Delivery ---------------------------------------------------------- */

static void deliver(struct ust_sim *sim, struct sim_frame *f)
{
    struct sim_dir *d = f->dir;
    d->in_flight--;
    if (!d->to_nif) {
        free(f);
        return;
    }
    struct sim_host *h = d->to_host;
    struct ust_stack *stack = h->stack;
    ust_rt_lock(stack);
    /* Bring the receiver to the present first: its timers due by now fire
     * before the frame arrives, and input sees the right clock. */
    ust_stack_poll_locked(stack, sim->now);
    struct ust_fbuf *fb = ust_fbuf_alloc(stack, f->len);
    if (fb) {
        memcpy(ust_fbuf_put(fb, f->len), f->data, f->len);
        d->st.delivered++;
        ust_netif_receive(d->to_nif, fb);
    } else {
        d->st.rx_nobufs++;
    }
    ust_rt_unlock(stack);
    h->need_poll = true;
    if (fb && sim->hook)
        sim->hook(sim->hook_arg, d->link, d->index, sim->now, f->data, f->len);
    free(f);
}

/* ---- Hosts ------------------------------------------------------------- */

static void host_kick(struct ust_stack *stack, void *arg)
{
    struct sim_host *h = arg;
    h->need_poll = true;
}

static void host_poll(struct sim_host *h, uint64_t now)
{
    h->need_poll = false;
    h->deadline = ust_stack_poll(h->stack, now);
}

/* splitmix64 of the sim seed and the host number: independent, reproducible
 * host seeds; never 0 (which would mean "from entropy"). */
static uint64_t host_seed(uint64_t sim_seed, unsigned n)
{
    uint64_t z = sim_seed + 0x9e3779b97f4a7c15ull * (n + 1u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    return z ? z : 1;
}

static struct sim_host *find_host(struct ust_sim *sim, const struct ust_stack *stack)
{
    for (unsigned i = 0; i < sim->n_hosts; i++)
        if (sim->hosts[i]->stack == stack)
            return sim->hosts[i];
    return NULL;
}

static int grow_hosts(struct ust_sim *sim)
{
    if (sim->n_hosts < sim->cap_hosts)
        return 0;
    unsigned cap = sim->cap_hosts ? sim->cap_hosts * 2 : 8;
    struct sim_host **p = realloc(sim->hosts, cap * sizeof(*p));
    if (!p)
        return -ENOMEM;
    sim->hosts = p;
    sim->cap_hosts = cap;
    return 0;
}

static int grow_links(struct ust_sim *sim)
{
    if (sim->n_links < sim->cap_links)
        return 0;
    unsigned cap = sim->cap_links ? sim->cap_links * 2 : 8;
    struct ust_sim_link **p = realloc(sim->links, cap * sizeof(*p));
    if (!p)
        return -ENOMEM;
    sim->links = p;
    sim->cap_links = cap;
    return 0;
}

struct ust_stack *ust_sim_add_host(struct ust_sim *sim, const char *name,
                                   const struct ust_stack_config *cfg)
{
    if (!sim) {
        errno = EINVAL;
        return NULL;
    }
    if (grow_hosts(sim) != 0) {
        errno = ENOMEM;
        return NULL;
    }
    struct sim_host *h = calloc(1, sizeof(*h));
    if (!h) {
        errno = ENOMEM;
        return NULL;
    }
    h->sim = sim;
    if (name)
        snprintf(h->name, sizeof(h->name), "%s", name);
    else
        snprintf(h->name, sizeof(h->name), "host%u", sim->n_hosts);

    struct ust_stack_config c;
    if (cfg)
        c = *cfg;
    else
        ust_stack_config_init(&c);
    c.name = h->name;
    c.seed = host_seed(sim->seed, sim->n_hosts);
    h->stack = ust_stack_new(&c);
    if (!h->stack) {
        int err = errno;
        free(h);
        errno = err;
        return NULL;
    }
    ust_rt_lock(h->stack);
    h->stack->kick = host_kick;
    h->stack->kick_arg = h;
    ust_rt_unlock(h->stack);
    sim->hosts[sim->n_hosts++] = h;
    host_poll(h, sim->now);      /* its clock and timers start now */
    return h->stack;
}

/* ---- Links ------------------------------------------------------------- */

/* A random locally-administered unicast MAC (IEEE 802: bit 1 of the first
 * octet = local, bit 0 = group). */
static void random_mac(struct ust_rng *rng, uint8_t mac[6])
{
    uint64_t r = ust_rng_next(rng);
    for (int i = 0; i < 6; i++)
        mac[i] = (uint8_t)(r >> (8 * i));
    mac[0] = (uint8_t)((mac[0] & 0xfe) | 0x02);
}

/* Sim netifs may skip checksums only while neither direction corrupts. */
static void update_clean(struct ust_sim_link *link)
{
    bool clean = link->dir[0].p.corrupt == 0.0 && link->dir[1].p.corrupt == 0.0;
    for (int s = 0; s < 2; s++) {
        struct ust_netif *nif = link->nif[s];
        if (!nif)
            continue;
        ust_rt_lock(nif->stack);
        nif->clean_link = clean;
        ust_rt_unlock(nif->stack);
    }
}

/* Creates the link's netif on host h; `out` is the direction it sends on. */
static struct ust_netif *attach_netif(struct ust_sim *sim, struct sim_host *h, struct sim_dir *out)
{
    struct ust_stack *stack = h->stack;
    ust_rt_lock(stack);
    struct ust_netif *nif = NULL;
    int err = ENOSPC;
    while (stack->n_netifs < UST_MAX_NETIFS) {
        char name[UST_NETIF_NAMSIZ];
        snprintf(name, sizeof(name), "sim%u", h->next_netif++);
        nif = ust_netif_create(stack, name, UST_NETIF_ETHER, &sim_ops, out);
        if (nif || errno != EEXIST) {
            err = errno;
            break;
        }
    }
    if (nif) {
        nif->mtu = out->p.mtu;
        random_mac(&sim->rng, nif->mac);
    }
    ust_rt_unlock(stack);
    if (!nif)
        errno = err;
    return nif;
}

static void link_free(struct ust_sim_link *link)
{
    free(link->dir[0].txq);
    free(link->dir[1].txq);
    free(link);
}

struct ust_sim_link *ust_sim_link_new(struct ust_sim *sim, struct ust_stack *a, struct ust_stack *b,
                                      const struct ust_link_params *ab,
                                      const struct ust_link_params *ba)
{
    struct sim_host *ha = sim ? find_host(sim, a) : NULL;
    struct sim_host *hb = sim ? find_host(sim, b) : NULL;
    if (!ha || !hb) {
        errno = EINVAL;
        return NULL;
    }
    unsigned need_a = a == b ? 2 : 1;
    if (a->n_netifs + need_a > UST_MAX_NETIFS || b->n_netifs >= UST_MAX_NETIFS) {
        errno = ENOSPC;
        return NULL;
    }
    if (grow_links(sim) != 0) {
        errno = ENOMEM;
        return NULL;
    }
    struct ust_sim_link *link = calloc(1, sizeof(*link));
    if (!link) {
        errno = ENOMEM;
        return NULL;
    }
    link->sim = sim;
    link->up = true;
    const struct ust_link_params *in[2] = { ab, ba };
    struct sim_host *to[2] = { hb, ha };
    for (int i = 0; i < 2; i++) {
        struct sim_dir *d = &link->dir[i];
        d->link = link;
        d->index = i;
        d->to_host = to[i];
        ust_rng_seed(&d->rng, ust_rng_next(&sim->rng));
        struct ust_link_params p = normalise(in[i]);
        if (dir_set_params(d, &p) != 0) {
            link_free(link);
            errno = ENOMEM;
            return NULL;
        }
    }
    /* From here the link is registered, so ust_sim_free releases it even
     * if a netif cannot be created. */
    sim->links[sim->n_links++] = link;
    link->nif[0] = attach_netif(sim, ha, &link->dir[0]);
    if (!link->nif[0])
        return NULL;
    link->nif[1] = attach_netif(sim, hb, &link->dir[1]);
    if (!link->nif[1])
        return NULL;
    link->dir[0].to_nif = link->nif[1];
    link->dir[1].to_nif = link->nif[0];
    update_clean(link);
    ha->need_poll = true;
    hb->need_poll = true;
    return link;
}

struct ust_netif *ust_sim_link_netif(struct ust_sim_link *link, int side)
{
    if (!link || side < 0 || side > 1)
        return NULL;
    return link->nif[side];
}

void ust_sim_link_set_params(struct ust_sim_link *link, int dir, const struct ust_link_params *p)
{
    if (!link || dir < 0 || dir > 1)
        return;
    struct ust_link_params n = normalise(p);
    if (dir_set_params(&link->dir[dir], &n) == 0)
        update_clean(link);
}

void ust_sim_link_set_up(struct ust_sim_link *link, bool up)
{
    if (link)
        link->up = up;
}

void ust_sim_link_stats(const struct ust_sim_link *link, int dir, struct ust_link_stats *out)
{
    if (!link || dir < 0 || dir > 1) {
        memset(out, 0, sizeof(*out));
        return;
    }
    *out = link->dir[dir].st;
}

/* ---- The simulator and virtual time ------------------------------------ */

struct ust_sim *ust_sim_new(uint64_t seed)
{
    struct ust_sim *sim = calloc(1, sizeof(*sim));
    if (!sim)
        return NULL;
    sim->seed = seed ? seed : ust_rng_entropy();
    ust_rng_seed(&sim->rng, sim->seed);
    return sim;
}

void ust_sim_free(struct ust_sim *sim)
{
    if (!sim)
        return;
    for (size_t i = 0; i < sim->heap_len; i++)
        free(sim->heap[i]);
    free(sim->heap);
    /* Freeing a stack destroys its sim netifs, which detach from the links. */
    for (unsigned i = 0; i < sim->n_hosts; i++) {
        ust_stack_free(sim->hosts[i]->stack);
        free(sim->hosts[i]);
    }
    free(sim->hosts);
    for (unsigned i = 0; i < sim->n_links; i++)
        link_free(sim->links[i]);
    free(sim->links);
    free(sim);
}

uint64_t ust_sim_seed(const struct ust_sim *sim)
{
    return sim->seed;
}

uint64_t ust_sim_now(const struct ust_sim *sim)
{
    return sim->now;
}

void ust_sim_set_frame_hook(struct ust_sim *sim, ust_sim_frame_fn fn, void *arg)
{
    sim->hook = fn;
    sim->hook_arg = arg;
}

/* Polls every host at the current time: their clocks catch up and their
 * deadlines become exact again (an application call between runs may have
 * armed timers or queued work). */
static void poll_all(struct ust_sim *sim)
{
    for (unsigned i = 0; i < sim->n_hosts; i++)
        host_poll(sim->hosts[i], sim->now);
}

/* When the next event is due (never before now); UST_NO_DEADLINE if none. */
static uint64_t next_event_time(const struct ust_sim *sim)
{
    uint64_t t = sim->heap_len ? sim->heap[0]->time : UST_NO_DEADLINE;
    for (unsigned i = 0; i < sim->n_hosts; i++) {
        const struct sim_host *h = sim->hosts[i];
        uint64_t ht = h->need_poll ? sim->now : h->deadline;
        if (ht < t)
            t = ht;
    }
    return t < sim->now ? sim->now : t;
}

/* Runs everything due at time t: frame deliveries, then the hosts that got
 * frames, were kicked or reached their deadline. Returns events run. */
static uint64_t run_at(struct ust_sim *sim, uint64_t t)
{
    uint64_t events = 0;
    sim->now = t;
    while (sim->heap_len > 0 && sim->heap[0]->time <= t) {
        deliver(sim, heap_pop(sim));
        events++;
    }
    for (unsigned i = 0; i < sim->n_hosts; i++) {
        struct sim_host *h = sim->hosts[i];
        if (h->need_poll || h->deadline <= t) {
            host_poll(h, t);
            events++;
        }
    }
    return events;
}

uint64_t ust_sim_run_until(struct ust_sim *sim, uint64_t until_ns)
{
    if (until_ns < sim->now)
        until_ns = sim->now;
    uint64_t events = 0;
    poll_all(sim);
    for (;;) {
        uint64_t t = next_event_time(sim);
        if (t > until_ns)
            break;
        events += run_at(sim, t);
    }
    sim->now = until_ns;
    poll_all(sim);
    return events;
}

bool ust_sim_step(struct ust_sim *sim)
{
    poll_all(sim);
    uint64_t t = next_event_time(sim);
    if (t == UST_NO_DEADLINE)
        return false;
    run_at(sim, t);
    return true;
}

static bool quiet(const struct ust_sim *sim)
{
    if (sim->heap_len > 0)
        return false;
    for (unsigned i = 0; i < sim->n_hosts; i++)
        if (sim->hosts[i]->need_poll || sim->hosts[i]->deadline <= sim->now)
            return false;
    return true;
}

uint64_t ust_sim_run_until_quiet(struct ust_sim *sim, uint64_t max_ns)
{
    uint64_t end = ust_impair_sat_add(sim->now, max_ns);
    uint64_t events = 0;
    poll_all(sim);
    while (!quiet(sim)) {
        uint64_t t = next_event_time(sim);
        if (t > end)
            break;
        events += run_at(sim, t);
    }
    return events;
}
