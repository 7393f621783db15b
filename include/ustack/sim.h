/* The simulated network: several stacks in one process, joined by links with
 * impairments, on virtual time. Everything random comes from one seed, so a
 * run replays exactly. */
#ifndef USTACK_SIM_H
#define USTACK_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct ust_stack;
struct ust_stack_config;
struct ust_netif;
struct ust_sim;
struct ust_sim_link;

/* Impairments of one direction of a link. All zero = a perfect wire. */
struct ust_link_params {
    uint64_t delay_ns;        /* one-way propagation delay */
    uint64_t jitter_ns;       /* uniform extra delay in [0, jitter] */
    double loss;              /* probability a frame is dropped, 0..1 */
    double duplicate;         /* probability a frame is delivered twice */
    double corrupt;           /* probability one random bit is flipped */
    double reorder;           /* probability a frame skips the delay (arrives early) */
    uint64_t rate_bps;        /* serialisation rate in bit/s; 0 = infinite */
    unsigned queue_limit;     /* frames waiting to be serialised; 0 = 1000 */
    unsigned mtu;             /* 0 = 1500 */
};

struct ust_link_stats {
    uint64_t sent;            /* frames handed to the link */
    uint64_t delivered;       /* frames delivered (duplicates count) */
    uint64_t lost;            /* dropped by the loss probability */
    uint64_t queue_drops;     /* dropped because the queue was full */
    uint64_t duplicated;
    uint64_t corrupted;
    uint64_t reordered;
    uint64_t down_drops;      /* dropped while the link was down */
    uint64_t oversize_drops;  /* longer than mtu + 14 (refused with EMSGSIZE) */
    uint64_t rx_nobufs;       /* arrived but the receiver had no free buffer */
};

/* Called for every frame a link delivers (after impairments, duplicates
 * included), just before the receiving stack sees it: for tests and traces.
 * dir 0 = a->b, 1 = b->a. The frame is only valid during the call. */
typedef void (*ust_sim_frame_fn)(void *arg, const struct ust_sim_link *link, int dir,
                                 uint64_t time_ns, const uint8_t *frame, size_t len);

/* seed 0 picks one from getrandom(); ust_sim_seed tells which, so a failing
 * run can be replayed. */
struct ust_sim *ust_sim_new(uint64_t seed);
/* Frees the links and every stack the simulator created. */
void ust_sim_free(struct ust_sim *sim);
uint64_t ust_sim_seed(const struct ust_sim *sim);

/* A new host. cfg may be NULL; its seed is derived from the simulation's
 * (host number and sim seed), so each host replays too. The simulator drives
 * the host: its clock is the simulation's and its deadlines are events. The
 * simulator owns it (do not ust_stack_free it, and do not ust_stack_start it). */
struct ust_stack *ust_sim_add_host(struct ust_sim *sim, const char *name,
                                   const struct ust_stack_config *cfg);

/* A point-to-point Ethernet link between two hosts; creates one netif on each
 * (named "simN", N counting per host), with a random locally-administered
 * MAC and the link's MTU. ab: impairments from a to b, ba: from b to a (NULL =
 * perfect). A frame sent on a link meets, in order: link down (down_drops),
 * a full serialisation queue (queue_drops), loss, corruption, then it arrives
 * after max(now, end of the previous frame's serialisation) + len*8/rate +
 * delay + jitter, or right after serialisation when reordered; a duplicate
 * arrives with it. A lost frame still occupies the wire. At most 16384
 * frames are in flight per direction (more count as queue_drops). NULL and
 * errno on failure (ENOSPC: a host has UST_MAX_NETIFS netifs). */
struct ust_sim_link *ust_sim_link_new(struct ust_sim *sim, struct ust_stack *a, struct ust_stack *b,
                                      const struct ust_link_params *ab,
                                      const struct ust_link_params *ba);
struct ust_netif *ust_sim_link_netif(struct ust_sim_link *link, int side /* 0 = a, 1 = b */);
void ust_sim_link_set_params(struct ust_sim_link *link, int dir /* 0 = a->b, 1 = b->a */,
                             const struct ust_link_params *p);
void ust_sim_link_set_up(struct ust_sim_link *link, bool up);
void ust_sim_link_stats(const struct ust_sim_link *link, int dir, struct ust_link_stats *out);

/* Virtual time in ns (starts at 0). */
uint64_t ust_sim_now(const struct ust_sim *sim);
/* Runs events (frame deliveries, stack deadlines) in time order up to and
 * including until_ns, then sets the clock to until_ns. Returns events run. */
uint64_t ust_sim_run_until(struct ust_sim *sim, uint64_t until_ns);
/* Runs the next event only; returns false if there is none. */
bool ust_sim_step(struct ust_sim *sim);
/* Runs until no frame is in flight on any link (stack timers may remain),
 * or until max_ns of virtual time has passed. Returns events run. */
uint64_t ust_sim_run_until_quiet(struct ust_sim *sim, uint64_t max_ns);

/* Observe every delivered frame (NULL fn to stop). */
void ust_sim_set_frame_hook(struct ust_sim *sim, ust_sim_frame_fn fn, void *arg);

#ifdef __cplusplus
}
#endif
#endif
