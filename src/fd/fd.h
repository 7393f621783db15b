/* fd/: the descriptor table and file objects.
 *
 * Every descriptor refers to a struct ust_file with an ops table, so sockets,
 * pipes and message queues share one table and one ust_poll. File operations
 * here never block: they return -EAGAIN, and the generic code (fd.c, with the
 * runtime's wait queues) turns that into blocking when the descriptor is in
 * blocking mode and a stack thread runs. */
#ifndef UST_FD_FD_H
#define UST_FD_FD_H

#include <stddef.h>
#include <sys/types.h>

struct ust_stack;

int ust_fd_init(struct ust_stack *stack);
/* Closes every descriptor. */
void ust_fd_fini(struct ust_stack *stack);

#endif
