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

#endif
