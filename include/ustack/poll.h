/* epoll over ustack descriptors (ust_poll itself is in fd.h). Flags, events
 * and struct epoll_event are Linux's (<sys/epoll.h>). */
#ifndef USTACK_POLL_H
#define USTACK_POLL_H

#include <sys/epoll.h>

#ifdef __cplusplus
extern "C" {
#endif

struct ust_stack;

#ifdef __cplusplus
}
#endif
#endif
