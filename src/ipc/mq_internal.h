/* ipc/: per-stack set-up of the POSIX (mq_posix.c) and System V (msg_sysv.c)
 * message queue namespaces, called from ust_ipc_init / ust_ipc_fini. */
#ifndef UST_IPC_MQ_INTERNAL_H
#define UST_IPC_MQ_INTERNAL_H

struct ust_stack;

/* 0 or -ENOMEM. */
int ust_mq_init(struct ust_stack *stack);
/* Frees every queue left (unlinked or not); descriptors are closed first. */
void ust_mq_fini(struct ust_stack *stack);
int ust_msg_init(struct ust_stack *stack);
void ust_msg_fini(struct ust_stack *stack);

/* A queue descriptor reads as a status line (Linux: "QSIZE:... NOTIFY:...")
 * whose file size is UST_MQ_FILENT_SIZE, in both backends. */
#define UST_MQ_FILENT_SIZE 80

#include <sys/types.h>
/* read(2): bytes of line (avail long) from *pos on (simple_read_from_buffer). */
ssize_t ust_mq_status_read(const char *line, size_t avail, off_t *pos, void *buf, size_t len);
/* lseek(2) (Linux default_llseek on a file of UST_MQ_FILENT_SIZE bytes). */
off_t ust_mq_status_llseek(off_t *pos, off_t offset, int whence);

#endif
