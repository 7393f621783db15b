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
    /* Packet mode (O_DIRECT): the ring also holds packets whose lengths
     * are here, one slot per page of capacity (as Linux's pipe_buffers). */
    bool packet;
    uint16_t *pkt_len;          /* pkt_slots entries, a ring */
    unsigned pkt_slots, pkt_head, pkt_count;
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
 * cfg.pipe_max_size). NULL when out of memory. */
struct ust_pipe *ust_pipe_alloc(struct ust_stack *stack, bool packet);
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
