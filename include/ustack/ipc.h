/* Pipes, FIFOs, POSIX message queues and System V message queues, as
 * descriptors in the stack's table (so ust_poll/ust_epoll_* see them all).
 * Names and semantics are Linux's; every call returns -1 and sets errno. */
#ifndef USTACK_IPC_H
#define USTACK_IPC_H

#include <fcntl.h>
#include <sys/types.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

struct ust_stack;

/* ---- Pipes and FIFOs ---- */

/* ---- POSIX message queues ---- */

/* ---- System V message queues ---- */

#ifdef __cplusplus
}
#endif
#endif
