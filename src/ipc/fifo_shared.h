/* Named FIFOs in shared memory (cfg.ipc_shared): the ust_mkfifo /
 * ust_open / ust_unlink paths and the file operations of a FIFO opened
 * through a shared byte ring (shm_fifo.h). fifo.c dispatches here on
 * cfg.ipc_shared; an open description stays on the backend it was opened
 * on. Semantics are the private path's (fifo.c, pipe.c), across processes;
 * docs/IPC-SHARED.md "FIFOs" lists the differences. */
#ifndef UST_IPC_FIFO_SHARED_H
#define UST_IPC_FIFO_SHARED_H

#include <sys/types.h>

struct ust_stack;
struct ust_fifo_shared;

/* Per-stack state (the FIFO objects this stack has open, for the
 * pipe-user-pages accounting); called from fifo.c's init / fini. */
int ust_fifo_shared_init(struct ust_stack *stack, struct ust_fifo_shared **out);
void ust_fifo_shared_fini(struct ust_fifo_shared *fs);
/* The stack's state (kept by fifo.c). */
struct ust_fifo_shared *ust_fifo_shared_of(struct ust_stack *stack);

/* The calls, after fifo.c's path checks, without the stack lock (they take
 * it). cmask: the umask to apply. 0 or a negative errno; open: the fd. */
int ust_fifo_shared_mkfifo(struct ust_stack *stack, const char *path, mode_t mode,
                           mode_t cmask);
int ust_fifo_shared_unlink(struct ust_stack *stack, const char *path);
int ust_fifo_shared_open(struct ust_stack *stack, const char *path, int flags);

#endif
