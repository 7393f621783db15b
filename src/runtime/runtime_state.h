/* Members of struct ust_stack owned by runtime/: the big lock and the stack
 * thread. Everything below runtime/ is single-threaded and assumes the lock
 * is held; every public ust_* call takes it on entry. */
#ifndef UST_RUNTIME_RUNTIME_STATE_H
#define UST_RUNTIME_RUNTIME_STATE_H

#include <pthread.h>
#include <stdbool.h>

struct ust_rt_state {
    pthread_mutex_t lock;
    pthread_t thread;
    bool running;               /* stack thread started */
    bool stopping;
    int wake_fd;                /* eventfd the stack thread also waits on */
};

#endif
