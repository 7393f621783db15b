/* POSIX message queues shared between processes (cfg.ipc_shared): the
 * backend mq_posix.c dispatches to (mq_shared.c; docs/IPC-SHARED.md, "POSIX
 * message queues"). A queue is a shared object of kind "mq" in
 * ust_ipc_dir(stack) (shm_queue.h, UST_SHMQ_PRIO); its descriptors are
 * files whose ops are mq_shared.c's. Every function is called with the
 * stack lock held, returns what the public call returns or a negative
 * errno, and may release the lock while it blocks or opens files. */
#ifndef UST_IPC_MQ_SHARED_H
#define UST_IPC_MQ_SHARED_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include <ustack/ipc.h>

struct ust_stack;
struct ust_file;
struct ust_rt_notify;
struct ust_mqs_ns;

/* The per-stack part (the stack's open descriptions, its notify tag).
 * NULL on ENOMEM. The descriptors are closed before ust_mqs_ns_free. */
struct ust_mqs_ns *ust_mqs_ns_new(void);
void ust_mqs_ns_free(struct ust_mqs_ns *ns);
/* The stack's (kept by mq_posix.c). */
struct ust_mqs_ns *ust_mq_shared_ns(struct ust_stack *stack);

/* Is f a descriptor of a shared queue? */
bool ust_mqs_is(const struct ust_file *f);

/* mq_open of name (already checked, without its '/'); mode already masked
 * by the umask. Returns the descriptor. */
int ust_mqs_open(struct ust_stack *stack, const char *name, int oflag, mode_t mode,
                 const struct mq_attr *attr);
int ust_mqs_unlink(struct ust_stack *stack, const char *name);

/* Deadline clocks of the timed calls. */
enum ust_mqs_clock { UST_MQS_NONE, UST_MQS_REALTIME, UST_MQS_MONOTONIC };

/* mq_send / mq_timedsend. A notification to deliver in this process after
 * the stack lock is released is left in *notify (SIGEV_NONE: none); one
 * for another process is sent by the call. */
long ust_mqs_send(struct ust_stack *stack, int mqd, struct ust_file *f, const char *msg,
                  size_t len, unsigned prio, const struct timespec *ts, enum ust_mqs_clock clock,
                  struct ust_rt_notify *notify);
/* mq_receive / mq_timedreceive / ust_mq_receive_prio ([lo, hi]). */
long ust_mqs_receive(struct ust_stack *stack, int mqd, struct ust_file *f, char *msg,
                     size_t len, unsigned *prio, unsigned lo, unsigned hi, bool dontwait,
                     const struct timespec *ts, enum ust_mqs_clock clock);
/* mq_getattr / mq_setattr (newattr already checked). */
int ust_mqs_getsetattr(struct ust_stack *stack, struct ust_file *f,
                       const struct mq_attr *newattr, struct mq_attr *oldattr);
/* mq_notify (sevp already checked; NULL: unregister). */
int ust_mqs_notify(struct ust_stack *stack, struct ust_file *f, const struct sigevent *sevp);

#endif
