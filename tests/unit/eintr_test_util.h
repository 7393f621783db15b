/* Helpers for the signal tests (test_*_eintr.c, test_runtime_signal.c):
 * run one blocking ustack call in a thread, make sure that thread is really
 * asleep inside the kernel (registered as a sleeper, announced asleep in
 * the futex, and /proc says it is in the futex system call), interrupt it
 * with pthread_kill(SIGUSR1), and tell when the signal has been delivered
 * (it left the thread's pending set in /proc). No sleeps, no timing
 * assertions: every wait is bounded and a misbehaving stack fails the test
 * instead of hanging it. Include after <cmocka.h>. */
#ifndef UST_TESTS_EINTR_TEST_UTIL_H
#define UST_TESTS_EINTR_TEST_UTIL_H

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <ustack/ustack.h>

#include "runtime/runtime.h"
#include "stack/stack_impl.h"

#define ET_BOUND_SEC 60

static atomic_int et_handled;   /* SIGUSR1 handler runs */

static void et_handler(int sig)
{
    (void)sig;
    atomic_fetch_add(&et_handled, 1);
}

/* SIGUSR1 caught by et_handler, with SA_RESTART or without. */
static inline void et_catch_sigusr1(bool restart)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = et_handler;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = restart ? SA_RESTART : 0;
    assert_int_equal(sigaction(SIGUSR1, &sa, NULL), 0);
    atomic_store(&et_handled, 0);
}

static inline void et_default_sigusr1(void)
{
    signal(SIGUSR1, SIG_DFL);
}

/* A blocking call run in its own thread. */
struct et_call {
    struct ust_stack *s;
    long (*fn)(struct et_call *c);
    void *arg;                  /* for fn */
    int fd;
    long ret;
    int err;
    _Atomic pid_t tid;
    atomic_bool done;
    pthread_t thread;
};

static void *et_thread(void *p)
{
    struct et_call *c = p;
    atomic_store(&c->tid, (pid_t)syscall(SYS_gettid));
    errno = 0;
    long r = c->fn(c);
    c->err = r < 0 ? errno : 0;
    c->ret = r;
    atomic_store(&c->done, true);
    return NULL;
}

static inline struct timespec et_limit(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ET_BOUND_SEC;
    return ts;
}

static inline void et_check_limit(const struct timespec *limit, const char *what)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    if (now.tv_sec > limit->tv_sec ||
        (now.tv_sec == limit->tv_sec && now.tv_nsec >= limit->tv_nsec))
        fail_msg("%s", what);
}

static inline void et_start(struct et_call *c)
{
    atomic_store(&c->tid, 0);
    atomic_store(&c->done, false);
    assert_int_equal(pthread_create(&c->thread, NULL, et_thread, c), 0);
    struct timespec limit = et_limit();
    while (atomic_load(&c->tid) == 0) {
        et_check_limit(&limit, "the call thread never started");
        sched_yield();
    }
}

static inline void et_join(struct et_call *c)
{
    struct timespec limit = et_limit();
    int err = pthread_timedjoin_np(c->thread, NULL, &limit);
    if (err)
        fail_msg("the blocked call never returned (error %d)", err);
}

/* The first line of /proc/self/task/<tid>/<file> that starts with key (or
 * the first line when key is NULL), into buf. False when unreadable. */
static inline bool et_proc_line(pid_t tid, const char *file, const char *key, char *buf,
                                size_t len)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/self/task/%d/%s", (int)tid, file);
    FILE *fp = fopen(path, "r");
    if (!fp)
        return false;
    bool found = false;
    while (fgets(buf, (int)len, fp)) {
        if (!key || strncmp(buf, key, strlen(key)) == 0) {
            found = true;
            break;
        }
    }
    fclose(fp);
    return found;
}

/* True when thread tid is blocked in futex(2) or futex_waitv(2) (true as
 * well when /proc cannot tell: the sleeper count alone then decides). */
static inline bool et_in_futex(pid_t tid)
{
    char line[256];
    if (!et_proc_line(tid, "syscall", NULL, line, sizeof(line)))
        return true;
    long nr = strtol(line, NULL, 10);
#ifdef SYS_futex_waitv
    if (nr == SYS_futex_waitv)
        return true;
#endif
    return nr == SYS_futex;
}

/* True when sig is still pending for thread tid (SigPnd: the signals sent
 * to that thread and not yet delivered). False when /proc cannot tell. */
static inline bool et_pending(pid_t tid, int sig)
{
    char line[256];
    if (!et_proc_line(tid, "status", "SigPnd:", line, sizeof(line)))
        return false;
    unsigned long long mask = strtoull(line + strlen("SigPnd:"), NULL, 16);
    return (mask >> (sig - 1)) & 1;
}

static inline unsigned et_kernel_sleepers(struct ust_stack *s)
{
    ust_rt_lock(s);
    unsigned n = ust_rt_kernel_sleeper_count(s);
    ust_rt_unlock(s);
    return n;
}

/* Waits (bounded) until the call is asleep in the kernel (its sleeper said
 * so, and its thread is in the futex system call), or has returned: false
 * then. */
static inline bool et_wait_asleep_or_done(struct et_call *c)
{
    struct timespec limit = et_limit();
    pid_t tid = atomic_load(&c->tid);
    while (et_kernel_sleepers(c->s) == 0 || !et_in_futex(tid)) {
        if (atomic_load(&c->done))
            return false;
        et_check_limit(&limit, "the call never went to sleep");
        sched_yield();
    }
    return true;
}

/* Waits (bounded) until the call is asleep in the kernel; fails the test
 * if it returns instead. */
static inline void et_wait_asleep(struct et_call *c)
{
    if (!et_wait_asleep_or_done(c))
        fail_msg("the call returned (%ld, errno %d) instead of blocking", c->ret, c->err);
}

/* Sends SIGUSR1 to the call's thread once it sleeps in the kernel, and
 * waits until the signal has been delivered (or the call has returned). */
static inline void et_interrupt(struct et_call *c)
{
    if (!et_wait_asleep_or_done(c))
        return;
    pid_t tid = atomic_load(&c->tid);
    assert_int_equal(pthread_kill(c->thread, SIGUSR1), 0);
    struct timespec limit = et_limit();
    while (et_pending(tid, SIGUSR1) && !atomic_load(&c->done)) {
        et_check_limit(&limit, "SIGUSR1 was never delivered");
        sched_yield();
    }
}

/* The call must end with EINTR: interrupts it until it returns (a signal
 * that lands just before the thread enters the kernel runs its handler and
 * the call then sleeps on, as if the signal had come before the call;
 * /proc makes that rare, and this makes the test immune to it). */
static inline void et_interrupt_until_done(struct et_call *c)
{
    struct timespec limit = et_limit();
    while (!atomic_load(&c->done)) {
        et_check_limit(&limit, "the call never returned after signals");
        et_interrupt(c);
        for (int i = 0; i < 1000 && !atomic_load(&c->done); i++)
            sched_yield();
    }
    et_join(c);
}

/* A stack with the stack thread running (blocking semantics). */
static inline struct ust_stack *et_started_stack(void)
{
    struct ust_stack_config cfg;
    ust_stack_config_init(&cfg);
    cfg.seed = 42;
    cfg.raise_sigpipe = 0;
    struct ust_stack *s = ust_stack_new(&cfg);
    assert_non_null(s);
    assert_int_equal(ust_stack_start(s), 0);
    return s;
}

#endif
