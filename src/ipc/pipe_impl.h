/* Pipes inside ipc/: the pipe object shared by pipe.c (anonymous pipes, the
 * file operations) and fifo.c (named FIFOs and their open rules).
 *
 * One struct ust_pipe is the buffer; every open of it (the two ends of a
 * pipe(), each open() of a FIFO) is a struct ust_file whose priv is a
 * struct ust_pipe_open. The pipe counts readers and writers (an O_RDWR
 * open counts as both) and lives until both counts are zero, as Linux's
 * pipe_inode_info. */
#ifndef UST_IPC_PIPE_IMPL_H
#define UST_IPC_PIPE_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/ring.h"
#include "fd/fd.h"
#include "runtime/waitq.h"

/* pipe(7): writes of at most PIPE_BUF bytes are atomic. */
#define UST_PIPE_BUF 4096u
/* The page size of capacity rounding (F_SETPIPE_SZ) and packet slots. */
#define UST_PIPE_PAGE 4096u
/* Default capacity: 16 pages (pipe(7)). */
#define UST_PIPE_DEF_SIZE 65536u

struct ust_fifo_node;

struct ust_pipe_open;

struct ust_pipe {
    struct ust_stack *stack;
    /* The bytes, in FIFO order. Capacity rule (byte-exact, unlike Linux's
     * page slots): cap bytes fit, whatever the write sizes. */
    struct ust_ring ring;
    size_t cap;                 /* bytes, a power-of-two number of pages */
    /* Packet mode (O_DIRECT, pipe(2)) belongs to the writer's file, as in
     * Linux (F_SETFL may switch it). From the first packet writer on,
     * `packet` is set and every byte in the ring belongs to a segment in
     * `seg`: a packet (one write of up to PIPE_BUF, taking one of
     * pkt_slots = cap / page slots, as Linux's pipe_buffers) or a run of
     * stream bytes (byte-exact, no slot). */
    bool packet;
    uint32_t *seg;              /* seg_max entries, a ring: length | UST_PIPE_SEG_PACKET */
    unsigned seg_max, seg_head, seg_count;
    unsigned pkt_slots, pkt_count;
    /* Bytes in the last page of a stream tail segment: Linux's pipe_write
     * merges a write's first (len % page) bytes into that page when they
     * fit, even from a packet writer. */
    unsigned tail_fill;
    unsigned readers, writers;  /* opens that can read / write */
    /* Generations: incremented on every open for reading / writing
     * (Linux's r_counter, w_counter): a blocked FIFO open waits for a
     * change, and a reader's POLLHUP needs to have seen a writer. */
    unsigned r_counter, w_counter;
    struct ust_pipe_open *opens;        /* every open file */
    struct ust_waitq open_wq;           /* FIFO opens waiting for a partner */
    struct ust_fifo_node *node;         /* the FIFO name, or NULL */
};

struct ust_pipe_open {
    struct ust_pipe *pipe;
    struct ust_file *file;
    unsigned w_seen;            /* w_counter this open has seen (POLLHUP rule) */
    struct ust_pipe_open *next, **pprev;
};

/* A pipe with no opens and the default capacity (capped by
 * cfg.pipe_max_size; 2 pages past cfg.pipe_user_pages_soft). NULL with
 * *err -ENOMEM, or -ENFILE when the pages would pass
 * cfg.pipe_user_pages_hard (Linux alloc_pipe_info). */
struct ust_pipe *ust_pipe_alloc(struct ust_stack *stack, bool packet, int *err);
/* Frees p when nothing reads or writes it any more (and detaches it from
 * its FIFO name). */
void ust_pipe_free_if_unused(struct ust_pipe *p);
/* A new open of p with the given status flags (access mode, O_NONBLOCK,
 * O_DIRECT): counts it as reader and/or writer, bumps the generations and
 * wakes FIFO opens waiting for a partner. fifo picks the ops' name. NULL
 * when out of memory (p unchanged). */
struct ust_file *ust_pipe_open_file(struct ust_pipe *p, int status_flags, bool fifo);
/* The open behind a pipe or FIFO file. */
struct ust_pipe_open *ust_pipe_open_of(struct ust_file *f);

/* FIFO namespace (fifo.c), called from ust_ipc_init / ust_ipc_fini. */
int ust_fifo_init(struct ust_stack *stack);
void ust_fifo_fini(struct ust_stack *stack);
/* The pipe is going away: forget it in its FIFO name (fifo.c). */
void ust_fifo_pipe_gone(struct ust_pipe *p);

#endif
