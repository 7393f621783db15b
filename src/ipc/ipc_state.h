/* Members of struct ust_stack owned by ipc/ (FIFO and message queue
 * namespaces, limits). Owner: ipc/. */
#ifndef UST_IPC_IPC_STATE_H
#define UST_IPC_IPC_STATE_H

#include <stdint.h>

struct ust_mq_ns;
struct ust_msg_ns;
struct ust_fifo_ns;

struct ust_ipc_state {
    uint32_t nobjects;          /* named objects alive */
    struct ust_mq_ns *mq;       /* POSIX message queues (mq_posix.c) */
    struct ust_msg_ns *msg;     /* System V message queues (msg_sysv.c) */
    struct ust_fifo_ns *fifo;   /* named FIFOs (fifo.c) */
    uint64_t pipe_pages;        /* 4 KiB pages of capacity of all pipes (pipe.c) */
};

#endif
