/* ustack demo: what the parts of the tour share. demo.c parses the options,
 * builds two simulated hosts and tells part 1 (ARP, ping, UDP); demo_tcp.c
 * part 2 (a TCP connection, from the event trace); demo_ipc.c part 3 (pipes
 * and message queues); demo_out.c prints (colour on a terminal, plain when
 * piped, and a copy for --html); demo_plot.c draws --svg and --html. */
#ifndef USTACK_TOOLS_DEMO_H
#define USTACK_TOOLS_DEMO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common.h"

#define NS_PER_MS 1000000ull

struct demo_opts {
    uint64_t seed;
    double loss;                /* probability, 0..1 */
    unsigned long delay_ms;     /* one way */
    double rate_mbps;           /* link rate; 0 = infinite */
    unsigned long bytes;        /* TCP transfer size */
    const char *pcap, *svg, *html;
    bool quiet;                 /* the summaries only */
    bool all;                   /* every segment, no condensing */
    int color;                  /* -1 auto (a terminal), 0 never, 1 always */
    const char *only;           /* NULL, "net", "tcp" or "ipc" */
};

struct host {
    const char *name;
    struct ust_stack *stack;
    struct ust_netif *nif;
    struct in_addr addr;
    uint8_t mac[6];
    uint64_t seen[UST_STAT__COUNT];   /* counters as last narrated */
};

struct plot;

struct demo {
    const struct demo_opts *opts;
    struct ust_sim *sim;
    struct ust_sim_link *link;
    struct host host[2];
    uint64_t lost_seen[2];            /* link losses as last narrated, per direction */
    struct plot *plot;                /* filled by the TCP part; NULL without --svg/--html */
};

/* ---- demo_out.c: the narrative's output ---- */

enum dp_class {
    DP_PLAIN, DP_TITLE, DP_TIME, DP_CALL, DP_STATE, DP_QUEUE, DP_BUF, DP_TIMER, DP_CC,
    DP_SEG_AB, DP_SEG_BA, DP_LOST, DP_REXMIT, DP_NOTE, DP_SUMMARY,
    DP__N
};

void dp_init(const struct demo_opts *o);
/* Text of a class (may hold newlines). With --quiet, only DP_SUMMARY shows. */
__attribute__((format(printf, 2, 3)))
void dp(enum dp_class c, const char *fmt, ...);
/* The narrative as HTML (escaped, one <span> per class); the caller frees. */
char *dp_html(void);
/* A progress bar on stderr when it is a terminal (frac 0..1); dp_progress_end
 * clears it. */
void dp_progress(double frac, const char *label);
void dp_progress_end(void);
void dp_fini(void);

/* ---- the parts ---- */

int demo_tcp(struct demo *d);
int demo_ipc(const struct demo_opts *o);

/* ---- demo_plot.c: the time-sequence graph, cwnd and RTT ---- */

struct plot *plot_new(void);
void plot_free(struct plot *p);
/* Samples (times in ns, sequence numbers relative to the sender's ISN). */
void plot_data(struct plot *p, uint64_t t, uint32_t start, uint32_t end, bool rexmit, bool lost);
void plot_ack(struct plot *p, uint64_t t, uint32_t ack, uint32_t win_right,
              const uint32_t (*sack)[2], unsigned nsack);
void plot_cc(struct plot *p, uint64_t t, uint32_t cwnd, uint32_t ssthresh, uint32_t mss);
void plot_rtt(struct plot *p, uint64_t t, uint32_t srtt_us, uint32_t rto_us);
void plot_title(struct plot *p, const char *title);
/* Time 0 of the plots' axis (connect()). */
void plot_origin(struct plot *p, uint64_t t0);
int plot_write_svg(const struct plot *p, const char *path);
/* The page: title, narrative (dp_html), the plots inline. */
int plot_write_html(const struct plot *p, const char *path, const char *narrative_html);

#endif
