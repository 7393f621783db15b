/* The side-by-side narrative of `ustack demo` and `ustack trace`
 * (narrate.c): rows of time | host A | the wire | host B. */
#ifndef USTACK_TOOLS_NARRATE_H
#define USTACK_TOOLS_NARRATE_H

#include <stdbool.h>
#include <stdint.h>

#include "demo.h"

/* Column widths. */
#define NR_W_TIME 13
#define NR_W_SIDE 34
#define NR_W_WIRE 44

/* One event to tell: on host 0 (A, left) or 1 (B, right). */
struct nr_event {
    int host;
    struct ust_trace_event ev;
    bool lost;                  /* a segment the link dropped */
};

struct narrator {
    int8_t wscale[2];           /* the window scale each host announced; -1 unknown */
};

/* One row; any text may be NULL. A's text runs on into an empty wire
 * column; longer texts continue on the next rows. */
void nr_row(uint64_t t_ns, const char *a, enum dp_class ca, const char *wire,
            enum dp_class cw, const char *b, enum dp_class cb);
/* A line on one host's side. */
void nr_side(int host, uint64_t t_ns, enum dp_class c, const char *text);
__attribute__((format(printf, 4, 5)))
void nr_sidef(int host, uint64_t t_ns, enum dp_class c, const char *fmt, ...);
/* "1448", "12K". */
void nr_size_str(uint64_t n, char *buf, size_t len);
/* Tells one event: a segment as an arrow, anything else on its host's side. */
void nr_tell(const struct narrator *nr, const struct nr_event *e);

#endif
