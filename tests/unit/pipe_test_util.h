/* Helpers for the pipe, FIFO and epoll tests: a stack without a thread
 * (non-blocking semantics) or with one (blocking), and bounded waits for
 * the multi-threaded tests (no sleeps: a test waits until the other threads
 * are really asleep inside the stack, checked under the stack lock, and a
 * misbehaving stack fails the test instead of hanging it). Include after
 * <cmocka.h>. */
#ifndef UST_TESTS_PIPE_TEST_UTIL_H
#define UST_TESTS_PIPE_TEST_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ustack/ustack.h>

#include "runtime/runtime.h"
#include "stack/stack_impl.h"

#define PT_BOUND_SEC 60

static inline struct ust_stack *pt_stack_cfg(struct ust_stack_config *c)
{
    if (!c->seed)
        c->seed = 42;
    struct ust_stack *s = ust_stack_new(c);
    assert_non_null(s);
    return s;
}

/* A stack with SIGPIPE off unless asked (tests check EPIPE). */
static inline struct ust_stack *pt_stack(void)
{
    struct ust_stack_config c;
    ust_stack_config_init(&c);
    c.raise_sigpipe = 0;
    return pt_stack_cfg(&c);
}

static inline struct ust_stack *pt_started_stack(void)
{
    struct ust_stack *s = pt_stack();
    assert_int_equal(ust_stack_start(s), 0);
    return s;
}

static inline struct timespec pt_deadline_in(int sec)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += sec;
    return ts;
}

static inline bool pt_before(const struct timespec *limit)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    return now.tv_sec < limit->tv_sec ||
           (now.tv_sec == limit->tv_sec && now.tv_nsec < limit->tv_nsec);
}

static inline unsigned pt_sleepers(struct ust_stack *s)
{
    ust_rt_lock(s);
    unsigned n = ust_rt_sleeper_count(s);
    ust_rt_unlock(s);
    return n;
}

/* Waits (bounded) until at least n callers sleep inside the stack. */
static inline void pt_wait_asleep(struct ust_stack *s, unsigned n)
{
    struct timespec limit = pt_deadline_in(PT_BOUND_SEC);
    while (pt_sleepers(s) < n) {
        if (!pt_before(&limit))
            fail_msg("the other threads never went to sleep");
        sched_yield();
    }
}

static inline void pt_join(pthread_t t)
{
    struct timespec limit = pt_deadline_in(PT_BOUND_SEC);
    int err = pthread_timedjoin_np(t, NULL, &limit);
    if (err)
        fail_msg("thread did not finish (error %d)", err);
}

static inline short pt_revents(struct ust_stack *s, int fd, short events)
{
    struct pollfd p = { .fd = fd, .events = events };
    assert_true(ust_poll(s, &p, 1, 0) >= 0);
    return p.revents;
}

#endif
