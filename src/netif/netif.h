/* The driver interface: how a netif hands frames to the stack and how the
 * stack hands frames to a netif. Drivers: loopback.c, tap.c (TAP and TUN),
 * sim.c; pcap.c captures any of them. */
#ifndef UST_NETIF_NETIF_H
#define UST_NETIF_NETIF_H

#include <stdbool.h>
#include <stdint.h>

#include "core/fbuf.h"
#include <ustack/netif.h>
#include <ustack/sim.h>

enum ust_netif_kind {
    UST_NETIF_LOOPBACK,     /* IPv4 packets, no link header, no ARP */
    UST_NETIF_ETHER,        /* Ethernet II frames (TAP, sim) */
    UST_NETIF_RAWIP,        /* IPv4 packets, no link header (TUN) */
};

struct ust_netif;
struct ust_pcap;
struct ust_impair;

struct ust_netif_ops {
    const char *kind_name;
    /* Sends one frame (Ethernet frame on ETHER, IPv4 packet otherwise). Always
     * takes ownership of fb. Returns 0 or a negative errno. */
    int (*transmit)(struct ust_netif *nif, struct ust_fbuf *fb);
    /* Reads up to `budget` ready frames without blocking and passes each to
     * ust_netif_input. Returns the number read. NULL for drivers whose input
     * is pushed (sim). */
    int (*rx_poll)(struct ust_netif *nif, int budget);
    /* File descriptor the stack thread waits on for input, or -1. */
    int (*poll_fd)(struct ust_netif *nif);
    /* Releases driver resources (not the struct itself). */
    void (*destroy)(struct ust_netif *nif);
};

#define UST_NETIF_NAMSIZ 16
#define UST_MAX_NETIFS 16

struct ust_netif {
    const struct ust_netif_ops *ops;
    struct ust_stack *stack;
    char name[UST_NETIF_NAMSIZ];
    int index;                      /* 1.. within the stack */
    enum ust_netif_kind kind;
    uint8_t mac[6];
    unsigned mtu;                   /* IP MTU (payload of a link frame) */
    bool up;
    bool clean_link;                /* integrity guaranteed (loopback): skip L4 checksum checks */
    uint32_t addr;                  /* IPv4 address, host order; 0 = none */
    uint8_t prefix_len;
    struct ust_fbq rxq;             /* frames received but not yet processed (loopback) */
    struct ust_pcap *capture;       /* non-NULL while capturing */
    struct ust_impair *impair[2];   /* UST_IMPAIR_RX/TX (impair.c); NULL until first set */
    void *priv;                     /* driver state */
};

/* Allocates a netif and adds it to the stack (lock held). Defaults: up,
 * MTU 1500, no address. NULL and errno EINVAL (name empty or longer than
 * UST_NETIF_NAMSIZ - 1), EEXIST (name taken), ENOSPC (UST_MAX_NETIFS), ENOMEM. */
struct ust_netif *ust_netif_create(struct ust_stack *stack, const char *name,
                                   enum ust_netif_kind kind, const struct ust_netif_ops *ops,
                                   void *priv);
/* Creates "lo" (127.0.0.1/8, 64 KiB MTU); called by ust_stack_new. */
int ust_loopback_create(struct ust_stack *stack);
/* Destroys every netif of the stack (stack teardown). */
void ust_netif_destroy_all(struct ust_stack *stack);

/* Driver -> stack: one received frame (Ethernet or IPv4 by nif->kind). The
 * stack lock is held. Takes ownership. Defined in net/ (the input path). */
void ust_netif_input(struct ust_netif *nif, struct ust_fbuf *fb);
/* Driver -> stack, for drivers that receive from outside the stack (TAP,
 * TUN, sim): passes the frame through the receive impairment, if one is
 * set (impair.c), then ust_netif_deliver: records the frame if capturing,
 * stamps fb->netif and fb->tstamp, then calls ust_netif_input. Lock held;
 * takes ownership. (The loopback does not use it: its frames were captured
 * once on output.) */
void ust_netif_receive(struct ust_netif *nif, struct ust_fbuf *fb);
/* The receive path after the receive impairment (impair.c calls it when it
 * releases a frame; ust_netif_receive when there is none): stamps fb->netif
 * and fb->tstamp, records the frame if capturing, then ust_netif_input. */
void ust_netif_deliver(struct ust_netif *nif, struct ust_fbuf *fb);
/* Stack -> driver: captures (if on) then calls ops->transmit, through the
 * transmit impairment when one is set. Counts ETH.OutFrames, or
 * ETH.OutDrops when the driver (or a full impairment queue) refuses the
 * frame or the netif is down (-ENETDOWN). */
int ust_netif_output(struct ust_netif *nif, struct ust_fbuf *fb);
/* Drains nif->rxq (frames queued by loopback) through ust_netif_input. Only
 * the frames queued on entry are processed; frames queued meanwhile kick the
 * stack again, so a frame that answers itself cannot loop here. */
void ust_netif_process_rxq(struct ust_netif *nif);
/* The internals of ust_netif_set_ipv4 (lock held, host order): sets the
 * address and tells net/ (ust_net_addr_added). -EINVAL for prefix_len > 32. */
int ust_netif_set_addr(struct ust_netif *nif, uint32_t addr, unsigned prefix_len);

/* Impairments (netif/impair.c). ust_netif_impair_set is
 * ust_netif_set_impairment with the lock held, returning 0 or -errno. The
 * others are for netif.c: whether a direction is impaired, its entry points
 * (both take ownership of fb; transmit returns 0 or -ENOBUFS when the queue
 * is full), and freeing both directions' state and held frames. */
int ust_netif_impair_set(struct ust_netif *nif, int dir, const struct ust_link_params *p);
bool ust_impair_active(const struct ust_impair *im);
void ust_impair_receive(struct ust_impair *im, struct ust_fbuf *fb);
int ust_impair_transmit(struct ust_impair *im, struct ust_fbuf *fb);
void ust_impair_destroy(struct ust_netif *nif);

/* pcap capture (netif/pcap.c): records one frame with timestamp now_ns.
 * Classic pcap has no direction field, so inbound and outbound frames are
 * recorded alike. */
void ust_pcap_record(struct ust_pcap *pc, const struct ust_fbuf *fb, uint64_t now_ns);
void ust_pcap_close(struct ust_pcap *pc);

#endif
