/* What the shared-memory queue tests (test_shmq_*.c) share: deadlines and
 * child processes. Include after <cmocka.h>. */
#ifndef UST_TESTS_SHMQ_TEST_UTIL_H
#define UST_TESTS_SHMQ_TEST_UTIL_H

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* An absolute CLOCK_MONOTONIC deadline ms from now. */
static inline struct timespec mono_in_ms(long ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_nsec -= 1000000000L;
        ts.tv_sec++;
    }
    return ts;
}

/* fork(); the child dies with the test program, even if an assertion
 * fails before the test kills or reaps it. */
static inline pid_t fork_child(void)
{
    pid_t parent = getpid();
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(99);
    }
    return pid;
}

/* The child's exit status, or 128 + the signal that killed it. */
static inline int wait_child(pid_t pid)
{
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

#endif
