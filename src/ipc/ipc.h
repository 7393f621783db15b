/* ipc/: pipes, FIFOs, POSIX and System V message queues. */
#ifndef UST_IPC_IPC_H
#define UST_IPC_IPC_H

struct ust_stack;

int ust_ipc_init(struct ust_stack *stack);
void ust_ipc_fini(struct ust_stack *stack);

#endif
