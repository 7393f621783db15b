/* The C face of ustack's shared queue used by boost_mq_kill.cpp (see
 * ustack_shim.c). Usable from C and C++. */
#ifndef USTACK_BENCH_USTACK_SHIM_H
#define USTACK_BENCH_USTACK_SHIM_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

struct ust_shmq;

/* Create (O_CREAT|O_EXCL: 8 x 64 bytes, priorities) or open by name;
 * NULL with *err = -errno on failure. */
struct ust_shmq *ushim_open(const char *name, int create, int *err);
void ushim_close(struct ust_shmq *q);
int ushim_unlink(const char *name);
/* timeout_us < 0: non-blocking. 0 or -errno (-EAGAIN, -ETIMEDOUT...). */
int ushim_send(struct ust_shmq *q, const void *m, size_t len, unsigned prio, long timeout_us);
/* The length received, or -errno. */
long ushim_receive(struct ust_shmq *q, void *buf, size_t cap, long timeout_us);
/* Queued messages and locks repaired after a dead holder, under the lock. */
int ushim_info(struct ust_shmq *q, unsigned long *curmsgs, unsigned long *repairs);

#ifdef __cplusplus
}
#endif

#endif
