/* System V message queues shared between processes (cfg.ipc_shared): the
 * backend msg_sysv.c dispatches to (msg_shared.c, docs/IPC-SHARED.md
 * "System V message queues"). Every function is called with the stack lock
 * held, returns what the public call returns or a negative errno, and may
 * release the lock while it blocks. */
#ifndef UST_IPC_MSG_SHARED_H
#define UST_IPC_MSG_SHARED_H

#include <stddef.h>
#include <sys/types.h>

#include <ustack/ipc.h>

struct ust_stack;
struct ust_msgsh;

/* The per-stack state: identifier -> handle cache. NULL on ENOMEM. */
struct ust_msgsh *ust_msgsh_new(void);
/* The stack's state (msg_sysv.c keeps it). */
struct ust_msgsh *ust_msg_sh(struct ust_stack *stack);
/* Closes every handle (the queues themselves persist, as the kernel's do). */
void ust_msgsh_free(struct ust_msgsh *sh);

int ust_msgsh_get(struct ust_stack *stack, key_t key, int msgflg);
long ust_msgsh_snd(struct ust_stack *stack, int msqid, const void *msgp, size_t msgsz,
                   int msgflg);
long ust_msgsh_rcv(struct ust_stack *stack, int msqid, void *msgp, size_t msgsz, long msgtyp,
                   int msgflg);
int ust_msgsh_ctl(struct ust_stack *stack, int msqid, int cmd, struct msqid_ds *buf);
int ust_msgsh_fd(struct ust_stack *stack, int msqid);

#endif
