/* Members of struct ust_stack owned by ipc/ (FIFO and message queue
 * namespaces, limits). Owner: ipc/. */
#ifndef UST_IPC_IPC_STATE_H
#define UST_IPC_IPC_STATE_H

#include <stdint.h>

struct ust_mq_ns;
struct ust_shmbell_arena;
struct ust_msg_ns;
struct ust_fifo_ns;

struct ust_ipc_state {
    uint32_t nobjects;          /* named objects alive */
    struct ust_mq_ns *mq;       /* POSIX message queues (mq_posix.c) */
    struct ust_msg_ns *msg;     /* System V message queues (msg_sysv.c) */
    struct ust_fifo_ns *fifo;   /* named FIFOs (fifo.c) */
    uint64_t pipe_pages;        /* 4 KiB pages of capacity of all pipes (pipe.c) */
    /* Shared objects (cfg.ipc_shared): the directory (cfg.ipc_dir points
     * here), and the doorbell arena and this stack's bell, made on first
     * use by ust_ipc_bell (bell -1 until then). */
    char *dir;
    struct ust_shmbell_arena *bells;
    int bell;
};

#endif
