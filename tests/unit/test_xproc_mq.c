/* POSIX message queues shared between processes (cfg.ipc_shared, the
 * default; docs/IPC-SHARED.md "POSIX message queues"). Every rule with two
 * ends runs its other end in a separate process with its own fresh
 * struct ust_stack (fork, then ust_stack_new in the child, which never
 * touches the parent's stack) and no stack thread: a blocked call sleeps on
 * the shared object and the other process's call wakes it.
 *
 * Proved here: priority order (highest first, FIFO within one),
 * mq_getattr's curmsgs and poll readiness across processes; a blocking
 * receive (also a ranged one) woken by the other process's send and a
 * blocking send woken by its receive; a poll and an epoll_wait woken by the
 * other process's send; a timed receive that times out; mq_unlink while the other process holds the queue
 * (its descriptor goes on working, the name is free for a new queue);
 * O_CREAT|O_EXCL raced by several processes (exactly one creates);
 * mq_queues_max and mq_bytes_max counting another process's queues;
 * EACCES for another uid (open and unlink); mq_notify fired by another
 * process's send (SIGEV_SIGNAL with SI_MESGQ and the sender's pid), EBUSY
 * for a second process, the registration of a killed registrant freed, a
 * SIGEV_THREAD registration left in place by another process's send; a
 * peer SIGKILLed while blocked leaves a working queue (and does not count
 * as a blocked receiver for notify); two stacks of one process meet on the
 * same queue. A child reports through its exit status; every wait is
 * bounded, so a hang fails the test. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <ustack/ustack.h>

#include "unit/ipc_dir_test_util.h"
#include "unit/shmq_test_util.h"

#define BOUND_MS 20000
#define MSGSIZE 64

static struct ust_stack *new_stack(void)
{
    struct ust_stack_config c;
    ust_stack_config_init(&c);
    c.ipc_umask = 0;
    c.raise_sigpipe = 0;
    c.ipc_shared = 1;
    return ust_stack_new(&c);
}

static int open_q(struct ust_stack *s, const char *name, int oflag, long maxmsg)
{
    struct mq_attr a = { .mq_maxmsg = maxmsg, .mq_msgsize = MSGSIZE };
    return ust_mq_open(s, name, oflag | O_CREAT, 0600, &a);
}

static long curmsgs(struct ust_stack *s, int q)
{
    struct mq_attr a;
    assert_int_equal(ust_mq_getattr(s, q, &a), 0);
    return a.mq_curmsgs;
}

static bool passed(const struct timespec *limit)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec > limit->tv_sec ||
           (now.tv_sec == limit->tv_sec && now.tv_nsec >= limit->tv_nsec);
}

/* True once process pid (single-threaded) sleeps in futex(2) or
 * futex_waitv(2): it is blocked in a queue call. Bounded. */
static bool wait_blocked(pid_t pid)
{
    struct timespec limit = mono_in_ms(BOUND_MS);
    char path[64], line[128];
    snprintf(path, sizeof(path), "/proc/%d/syscall", (int)pid);
    while (!passed(&limit)) {
        FILE *fp = fopen(path, "r");
        if (!fp)
            return false;
        bool got = fgets(line, sizeof(line), fp) != NULL;
        fclose(fp);
        long nr = got ? strtol(line, NULL, 10) : -1;
        if (nr == SYS_futex || nr == 449 /* futex_waitv */)
            return true;
        sched_yield();
    }
    return false;
}

/* A pipe the child writes one byte to when it is ready. */
struct gate {
    int fd[2];
};

static void gate_init(struct gate *g)
{
    assert_int_equal(pipe(g->fd), 0);
}

static void gate_open(struct gate *g)
{
    char c = 1;
    if (write(g->fd[1], &c, 1) != 1)
        _exit(90);
}

static void gate_wait(struct gate *g)
{
    char c;
    assert_int_equal(read(g->fd[0], &c, 1), 1);
}

static void gate_close(struct gate *g)
{
    close(g->fd[0]);
    close(g->fd[1]);
}

/* ---- Data exchange ------------------------------------------------------ */

/* The child sends a1 b5 c1 d5 and exits; the parent sees curmsgs 4 and
 * receives b5 d5 a1 c1 (mq_send(3): priority, then FIFO). */
static void test_xproc_mq_priority_order_and_curmsgs_across_processes(void **state)
{
    (void)state;
    struct ust_stack *s = new_stack();
    int q = open_q(s, "/xprio", O_RDWR, 10);
    assert_true(q >= 0);
    pid_t pid = fork_child();
    if (pid == 0) {
        struct ust_stack *c = new_stack();
        int cq = c ? ust_mq_open(c, "/xprio", O_WRONLY) : -1;
        const char *msgs = "abcd";
        unsigned prios[] = { 1, 5, 1, 5 };
        for (int i = 0; i < 4; i++)
            if (ust_mq_send(c, cq, msgs + i, 1, prios[i]) != 0)
                _exit(10 + i);
        ust_stack_free(c);
        _exit(0);
    }
    assert_int_equal(wait_child(pid), 0);
    assert_int_equal(curmsgs(s, q), 4);
    struct pollfd pfd = { .fd = q, .events = POLLIN | POLLOUT };
    assert_int_equal(ust_poll(s, &pfd, 1, 0), 1);
    assert_int_equal(pfd.revents, POLLIN | POLLOUT);    /* 4 of 10 */
    const char *want = "bdac";
    unsigned want_prio[] = { 5, 5, 1, 1 };
    char buf[MSGSIZE];
    for (int i = 0; i < 4; i++) {
        unsigned p;
        assert_int_equal(ust_mq_receive(s, q, buf, sizeof(buf), &p), 1);
        assert_int_equal(buf[0], want[i]);
        assert_int_equal(p, want_prio[i]);
    }
    assert_int_equal(curmsgs(s, q), 0);
    assert_int_equal(ust_mq_unlink(s, "/xprio"), 0);
    ust_stack_free(s);
}

/* A receiver blocked (no stack thread) in another process is woken by our
 * send and gets the message; a ranged receive there skips a message out of
 * its band. */
static void test_xproc_mq_blocked_receive_woken_by_other_process_send(void **state)
{
    (void)state;
    struct ust_stack *s = new_stack();
    int q = open_q(s, "/xrecv", O_RDWR, 4);
    assert_true(q >= 0);
    pid_t pid = fork_child();
    if (pid == 0) {
        struct ust_stack *c = new_stack();
        int cq = c ? ust_mq_open(c, "/xrecv", O_RDONLY) : -1;
        char buf[MSGSIZE];
        unsigned p = 0;
        if (ust_mq_receive_prio(c, cq, buf, sizeof(buf), &p, 10, 20, 0, NULL) != 4)
            _exit(10);
        if (memcmp(buf, "band", 4) != 0 || p != 15)
            _exit(11);
        ust_stack_free(c);
        _exit(0);
    }
    assert_true(wait_blocked(pid));
    assert_int_equal(ust_mq_send(s, q, "low", 3, 1), 0);        /* not in [10, 20] */
    assert_int_equal(ust_mq_send(s, q, "band", 4, 15), 0);
    assert_int_equal(wait_child(pid), 0);
    char buf[MSGSIZE];
    assert_int_equal(ust_mq_receive(s, q, buf, sizeof(buf), NULL), 3);
    assert_memory_equal(buf, "low", 3);
    ust_mq_unlink(s, "/xrecv");
    ust_stack_free(s);
}

/* A sender blocked on a full queue in another process is woken by our
 * receive; its message then arrives. */
static void test_xproc_mq_blocked_send_woken_by_other_process_receive(void **state)
{
    (void)state;
    struct ust_stack *s = new_stack();
    int q = open_q(s, "/xsend", O_RDWR, 1);
    assert_true(q >= 0);
    assert_int_equal(ust_mq_send(s, q, "full", 4, 0), 0);
    pid_t pid = fork_child();
    if (pid == 0) {
        struct ust_stack *c = new_stack();
        int cq = c ? ust_mq_open(c, "/xsend", O_WRONLY) : -1;
        if (ust_mq_send(c, cq, "late", 4, 3) != 0)
            _exit(10);
        ust_stack_free(c);
        _exit(0);
    }
    assert_true(wait_blocked(pid));
    char buf[MSGSIZE];
    assert_int_equal(ust_mq_receive(s, q, buf, sizeof(buf), NULL), 4);
    assert_memory_equal(buf, "full", 4);
    assert_int_equal(wait_child(pid), 0);
    unsigned p;
    assert_int_equal(ust_mq_receive(s, q, buf, sizeof(buf), &p), 4);
    assert_memory_equal(buf, "late", 4);
    assert_int_equal(p, 3);
    ust_mq_unlink(s, "/xsend");
    ust_stack_free(s);
}

/* mq_timedreceive in another process on a queue nobody sends to: ETIMEDOUT
 * at its CLOCK_REALTIME deadline, and a later send is not lost. */
static void test_xproc_mq_timed_receive_times_out(void **state)
{
    (void)state;
    struct ust_stack *s = new_stack();
    int q = open_q(s, "/xtime", O_RDWR, 2);
    assert_true(q >= 0);
    pid_t pid = fork_child();
    if (pid == 0) {
        struct ust_stack *c = new_stack();
        int cq = c ? ust_mq_open(c, "/xtime", O_RDONLY) : -1;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 120 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_nsec -= 1000000000L;
            ts.tv_sec++;
        }
        char buf[MSGSIZE];
        if (ust_mq_timedreceive(c, cq, buf, sizeof(buf), NULL, &ts) != -1 || errno != ETIMEDOUT)
            _exit(10);
        ust_stack_free(c);
        _exit(0);
    }
    assert_int_equal(wait_child(pid), 0);
    assert_int_equal(ust_mq_send(s, q, "x", 1, 0), 0);
    assert_int_equal(curmsgs(s, q), 1);
    ust_mq_unlink(s, "/xtime");
    ust_stack_free(s);
}

/* A poll and an epoll_wait blocked (no stack thread) on our queue wake
 * when another process sends: ->shm_watch rings the stack's doorbell. */
static void test_xproc_mq_poll_and_epoll_woken_by_other_process_send(void **state)
{
    (void)state;
    struct ust_stack *s = new_stack();
    int q = open_q(s, "/xpoll", O_RDWR, 4);
    assert_true(q >= 0);
    for (int round = 0; round < 2; round++) {
        struct gate go;
        gate_init(&go);
        pid_t pid = fork_child();
        if (pid == 0) {
            struct ust_stack *c = new_stack();
            int cq = c ? ust_mq_open(c, "/xpoll", O_WRONLY) : -1;
            char b;
            if (cq < 0 || read(go.fd[0], &b, 1) != 1)
                _exit(10);
            /* Sent once the parent is asleep in poll / epoll_wait. */
            if (ust_mq_send(c, cq, "w", 1, 0) != 0)
                _exit(11);
            ust_stack_free(c);
            _exit(0);
        }
        /* The child waits for the byte; the parent writes it, then sleeps:
         * the send may come before or after the sleep, both must wake. */
        char b = 1;
        assert_int_equal(write(go.fd[1], &b, 1), 1);
        if (round == 0) {
            struct pollfd pfd = { .fd = q, .events = POLLIN };
            assert_int_equal(ust_poll(s, &pfd, 1, BOUND_MS), 1);
            assert_int_equal(pfd.revents, POLLIN);
        } else {
            int ep = ust_epoll_create1(s, 0);
            struct epoll_event ev = { .events = EPOLLIN, .data.fd = q }, out;
            assert_int_equal(ust_epoll_ctl(s, ep, EPOLL_CTL_ADD, q, &ev), 0);
            assert_int_equal(ust_epoll_wait(s, ep, &out, 1, BOUND_MS), 1);
            assert_int_equal(out.data.fd, q);
            assert_int_equal(out.events, EPOLLIN);
            ust_close(s, ep);
        }
        assert_int_equal(wait_child(pid), 0);
        char buf[MSGSIZE];
        assert_int_equal(ust_mq_receive(s, q, buf, sizeof(buf), NULL), 1);
        gate_close(&go);
    }
    ust_mq_unlink(s, "/xpoll");
    ust_stack_free(s);
}

/* ---- Names -------------------------------------------------------------- */

/* We unlink the name while the other process holds the queue open: its
 * descriptor keeps working (its message reaches our old descriptor), the
 * name is gone, and a new queue may take it, independent of the old one. */
static void test_xproc_mq_unlink_while_other_process_holds_it(void **state)
{
    (void)state;
    struct ust_stack *s = new_stack();
    int old = open_q(s, "/xunl", O_RDWR, 4);
    assert_true(old >= 0);
    struct gate opened, unlinked;
    gate_init(&opened);
    gate_init(&unlinked);
    pid_t pid = fork_child();
    if (pid == 0) {
        struct ust_stack *c = new_stack();
        int cq = c ? ust_mq_open(c, "/xunl", O_WRONLY) : -1;
        if (cq < 0)
            _exit(10);
        gate_open(&opened);
        char b;
        if (read(unlinked.fd[0], &b, 1) != 1)
            _exit(11);
        if (ust_mq_open(c, "/xunl", O_WRONLY) != -1 || errno != ENOENT)
            _exit(12);
        if (ust_mq_send(c, cq, "kept", 4, 0) != 0)
            _exit(13);
        ust_stack_free(c);
        _exit(0);
    }
    gate_wait(&opened);
    assert_int_equal(ust_mq_unlink(s, "/xunl"), 0);
    char c = 1;
    assert_int_equal(write(unlinked.fd[1], &c, 1), 1);
    assert_int_equal(wait_child(pid), 0);
    int fresh = open_q(s, "/xunl", O_RDWR | O_EXCL, 4);       /* a new queue */
    assert_true(fresh >= 0);
    char buf[MSGSIZE];
    assert_int_equal(ust_mq_receive(s, old, buf, sizeof(buf), NULL), 4);
    assert_memory_equal(buf, "kept", 4);
    assert_int_equal(curmsgs(s, fresh), 0);
    gate_close(&opened);
    gate_close(&unlinked);
    ust_mq_unlink(s, "/xunl");
    ust_stack_free(s);
}

/* UST_IPC_AUTOREMOVE (opt-in): the queue outlives its creator's close while
 * another process holds it, and its name goes when that last holder exits
 * (closing nothing itself: ust_stack_free closes its descriptors). A last
 * holder killed by SIGKILL leaves the name (docs/IPC-SHARED.md,
 * "Lifetimes"), until a later holder closes it. */
static void test_xproc_mq_autoremove_when_last_holder_exits(void **state)
{
    (void)state;
    struct ust_stack *s = new_stack();
    int q = open_q(s, "/xauto", O_RDWR | UST_IPC_AUTOREMOVE, 4);
    assert_true(q >= 0);
    struct gate opened, closed;
    gate_init(&opened);
    gate_init(&closed);
    pid_t pid = fork_child();
    if (pid == 0) {
        struct ust_stack *c = new_stack();
        int cq = c ? ust_mq_open(c, "/xauto", O_RDWR) : -1;
        if (cq < 0)
            _exit(10);
        gate_open(&opened);
        char b;
        if (read(closed.fd[0], &b, 1) != 1)
            _exit(11);
        /* The creator has closed: we are the last holder, the name stays. */
        if (ust_mq_open(c, "/xauto", O_RDONLY) < 0)
            _exit(12);
        ust_stack_free(c);
        _exit(0);
    }
    gate_wait(&opened);
    assert_int_equal(ust_mq_close(s, q), 0);
    char one = 1;
    assert_int_equal(write(closed.fd[1], &one, 1), 1);
    assert_int_equal(wait_child(pid), 0);
    assert_int_equal(ust_mq_open(s, "/xauto", O_RDONLY), -1);
    assert_int_equal(errno, ENOENT);

    /* A queue without the flag persists after every holder is gone. */
    q = open_q(s, "/xkeep", O_RDWR, 4);
    assert_true(q >= 0);
    assert_int_equal(ust_mq_close(s, q), 0);
    q = ust_mq_open(s, "/xkeep", O_RDONLY);
    assert_true(q >= 0);
    ust_mq_close(s, q);
    ust_mq_unlink(s, "/xkeep");

    /* The last holder SIGKILLed: the name stays (nobody closed it). */
    struct gate held;
    gate_init(&held);
    q = open_q(s, "/xkill", O_RDWR | UST_IPC_AUTOREMOVE, 4);
    assert_true(q >= 0);
    pid = fork_child();
    if (pid == 0) {
        struct ust_stack *c = new_stack();
        if (!c || ust_mq_open(c, "/xkill", O_RDWR) < 0)
            _exit(10);
        gate_open(&held);
        for (;;)
            pause();
    }
    gate_wait(&held);
    gate_close(&held);
    assert_int_equal(ust_mq_close(s, q), 0);
    kill(pid, SIGKILL);
    assert_int_equal(wait_child(pid), 128 + SIGKILL);
    q = ust_mq_open(s, "/xkill", O_RDONLY);
    assert_true(q >= 0);
    /* Now we are its last live holder: our close takes the name. */
    assert_int_equal(ust_mq_close(s, q), 0);
    assert_int_equal(ust_mq_open(s, "/xkill", O_RDONLY), -1);
    assert_int_equal(errno, ENOENT);
    gate_close(&opened);
    gate_close(&closed);
    ust_stack_free(s);
}

/* Several processes race O_CREAT|O_EXCL on one name, released together:
 * exactly one creates, every other gets EEXIST; then each opens it. */
static void test_xproc_mq_o_excl_race_one_creator(void **state)
{
    (void)state;
    enum { N = 4, ROUNDS = 5 };
    struct ust_stack *s = new_stack();
    for (int round = 0; round < ROUNDS; round++) {
        struct gate go;
        gate_init(&go);
        pid_t pids[N];
        for (int i = 0; i < N; i++) {
            pids[i] = fork_child();
            if (pids[i] == 0) {
                struct ust_stack *c = new_stack();
                char b;
                if (!c || read(go.fd[0], &b, 1) != 1)
                    _exit(90);
                int q = open_q(c, "/xexcl", O_RDWR | O_EXCL, 2);
                int code = q >= 0 ? 0 : errno == EEXIST ? 1 : 20;
                if (ust_mq_open(c, "/xexcl", O_RDWR) < 0)
                    code = 21;
                ust_stack_free(c);
                _exit(code);
            }
        }
        char b[N];
        memset(b, 1, sizeof(b));
        assert_int_equal(write(go.fd[1], b, N), N);
        int creators = 0;
        for (int i = 0; i < N; i++) {
            int st = wait_child(pids[i]);
            assert_true(st == 0 || st == 1);
            creators += st == 0;
        }
        assert_int_equal(creators, 1);
        assert_int_equal(ust_mq_unlink(s, "/xexcl"), 0);
        gate_close(&go);
    }
    ust_stack_free(s);
}

/* The limits are machine-wide: queues another process created count
 * against our mq_queues_max (ENOSPC), and the bytes of our uid's queues
 * against mq_bytes_max (EMFILE); an unlink gives the room back. */
static void test_xproc_mq_limits_count_other_processes_queues(void **state)
{
    (void)state;
    pid_t pid = fork_child();
    if (pid == 0) {
        struct ust_stack *c = new_stack();
        if (!c || open_q(c, "/xlim1", O_RDWR, 10) < 0 || open_q(c, "/xlim2", O_RDWR, 10) < 0)
            _exit(10);
        ust_stack_free(c);
        _exit(0);
    }
    assert_int_equal(wait_child(pid), 0);
    struct ust_stack_config cfg;
    ust_stack_config_init(&cfg);
    cfg.ipc_shared = 1;
    cfg.mq_queues_max = 2;
    struct ust_stack *s = ust_stack_new(&cfg);
    assert_int_equal(open_q(s, "/xlim3", O_RDWR, 10), -1);
    assert_int_equal(errno, ENOSPC);
    ust_stack_free(s);
    cfg.mq_queues_max = 256;
    cfg.mq_bytes_max = 3 * 10 * (MSGSIZE + 28) - 1;     /* two of them, not three */
    s = ust_stack_new(&cfg);
    assert_int_equal(open_q(s, "/xlim3", O_RDWR, 10), -1);
    assert_int_equal(errno, EMFILE);
    assert_int_equal(ust_mq_unlink(s, "/xlim1"), 0);
    assert_true(open_q(s, "/xlim3", O_RDWR, 10) >= 0);
    ust_mq_unlink(s, "/xlim2");
    ust_mq_unlink(s, "/xlim3");
    ust_stack_free(s);
}

/* Another uid (root's child drops to nobody, with a fresh stack): mode 0600
 * gives it EACCES for open and unlink; mode 0604 lets it read, not write. */
static void test_xproc_mq_eacces_for_another_uid(void **state)
{
    (void)state;
    if (geteuid() != 0) {
        print_message("skipped: needs root to act as a second user\n");
        skip();
    }
    struct ust_stack *s = new_stack();
    struct mq_attr a = { .mq_maxmsg = 2, .mq_msgsize = MSGSIZE };
    assert_true(ust_mq_open(s, "/xpriv", O_RDWR | O_CREAT, 0600, &a) >= 0);
    assert_true(ust_mq_open(s, "/xread", O_RDWR | O_CREAT, 0604, &a) >= 0);
    pid_t pid = fork_child();
    if (pid == 0) {
        if (setgroups(0, NULL) != 0 || setresgid(65534, 65534, 65534) != 0 ||
            setresuid(65534, 65534, 65534) != 0)
            _exit(90);
        struct ust_stack *c = new_stack();
        if (!c)
            _exit(91);
        if (ust_mq_open(c, "/xpriv", O_RDONLY) != -1 || errno != EACCES)
            _exit(10);
        if (ust_mq_unlink(c, "/xpriv") != -1 || errno != EACCES)
            _exit(11);
        if (ust_mq_open(c, "/xread", O_WRONLY) != -1 || errno != EACCES)
            _exit(12);
        if (ust_mq_open(c, "/xread", O_RDONLY) < 0)
            _exit(13);
        ust_stack_free(c);
        _exit(0);
    }
    assert_int_equal(wait_child(pid), 0);
    assert_int_equal(ust_mq_unlink(s, "/xpriv"), 0);    /* still there, ours */
    assert_int_equal(ust_mq_unlink(s, "/xread"), 0);
    ust_stack_free(s);
}

/* ---- mq_notify across processes ----------------------------------------- */

static void block_usr1(sigset_t *old)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    assert_int_equal(pthread_sigmask(SIG_BLOCK, &set, old), 0);
    struct timespec zero = { 0, 0 };
    while (sigtimedwait(&set, NULL, &zero) == SIGUSR1)
        ;
}

/* Waits (bounded) for SIGUSR1; its siginfo in *si. */
static bool take_usr1(siginfo_t *si, long ms)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    return sigtimedwait(&set, si, &ts) == SIGUSR1;
}

/* A child that opens name and sends one message. */
static pid_t child_send(const char *name, const char *msg)
{
    pid_t pid = fork_child();
    if (pid == 0) {
        struct ust_stack *c = new_stack();
        int cq = c ? ust_mq_open(c, name, O_WRONLY) : -1;
        if (ust_mq_send(c, cq, msg, strlen(msg), 0) != 0)
            _exit(10);
        ust_stack_free(c);
        _exit(0);
    }
    return pid;
}

/* Our SIGEV_SIGNAL registration, fired by another process's send into the
 * empty queue: SIGUSR1 with SI_MESGQ, the sender's pid and our value; the
 * registration is gone (one-shot), and another process may register then,
 * but not while ours stands (EBUSY). */
static void test_xproc_mq_notify_signal_fired_by_other_process_send(void **state)
{
    (void)state;
    sigset_t old;
    block_usr1(&old);
    struct ust_stack *s = new_stack();
    int q = open_q(s, "/xnote", O_RDWR, 4);
    assert_true(q >= 0);
    struct sigevent ev = { .sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGUSR1 };
    ev.sigev_value.sival_int = 4321;
    assert_int_equal(ust_mq_notify(s, q, &ev), 0);

    pid_t busy = fork_child();
    if (busy == 0) {
        struct ust_stack *c = new_stack();
        int cq = c ? ust_mq_open(c, "/xnote", O_RDONLY) : -1;
        struct sigevent none = { .sigev_notify = SIGEV_NONE };
        _exit(ust_mq_notify(c, cq, &none) == -1 && errno == EBUSY ? 0 : 10);
    }
    assert_int_equal(wait_child(busy), 0);

    pid_t pid = child_send("/xnote", "hi");
    siginfo_t si;
    assert_true(take_usr1(&si, BOUND_MS));
    assert_int_equal(si.si_code, SI_MESGQ);
    assert_int_equal(si.si_pid, pid);
    assert_int_equal(si.si_value.sival_int, 4321);
    assert_int_equal(wait_child(pid), 0);

    /* One-shot: the registration went with the notification. */
    pid_t again = fork_child();
    if (again == 0) {
        struct ust_stack *c = new_stack();
        int cq = c ? ust_mq_open(c, "/xnote", O_RDONLY) : -1;
        struct sigevent none = { .sigev_notify = SIGEV_NONE };
        _exit(ust_mq_notify(c, cq, &none) == 0 ? 0 : 10);
    }
    assert_int_equal(wait_child(again), 0);
    ust_mq_unlink(s, "/xnote");
    ust_stack_free(s);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* A registrant that dies (SIGKILL, no close) leaves no registration behind:
 * we may register at once. */
static void test_xproc_mq_notify_of_killed_registrant_is_freed(void **state)
{
    (void)state;
    struct ust_stack *s = new_stack();
    int q = open_q(s, "/xdead", O_RDWR, 4);
    assert_true(q >= 0);
    struct gate reg;
    gate_init(&reg);
    pid_t pid = fork_child();
    if (pid == 0) {
        struct ust_stack *c = new_stack();
        int cq = c ? ust_mq_open(c, "/xdead", O_RDONLY) : -1;
        struct sigevent none = { .sigev_notify = SIGEV_NONE };
        if (ust_mq_notify(c, cq, &none) != 0)
            _exit(10);
        gate_open(&reg);
        for (;;)
            pause();
    }
    gate_wait(&reg);
    struct sigevent none = { .sigev_notify = SIGEV_NONE };
    assert_int_equal(ust_mq_notify(s, q, &none), -1);
    assert_int_equal(errno, EBUSY);
    kill(pid, SIGKILL);
    assert_int_equal(wait_child(pid), 128 + SIGKILL);
    assert_int_equal(ust_mq_notify(s, q, &none), 0);
    gate_close(&reg);
    ust_mq_unlink(s, "/xdead");
    ust_stack_free(s);
}

static void never_called(union sigval v)
{
    (void)v;
}

/* SIGEV_THREAD runs the function in the registrant's process, which only
 * its own stack's send can do: another process's send leaves the
 * registration in place (NOTIFY in the status line), as documented. */
static void test_xproc_mq_notify_thread_stays_for_other_process_send(void **state)
{
    (void)state;
    struct ust_stack *s = new_stack();
    int q = open_q(s, "/xthr", O_RDWR, 4);
    assert_true(q >= 0);
    struct sigevent ev = { .sigev_notify = SIGEV_THREAD,
                           .sigev_notify_function = never_called };
    assert_int_equal(ust_mq_notify(s, q, &ev), 0);
    pid_t pid = child_send("/xthr", "x");
    assert_int_equal(wait_child(pid), 0);
    char line[81] = { 0 }, want[40];
    assert_int_equal(ust_lseek(s, q, 0, SEEK_SET), 0);
    assert_true(ust_read(s, q, line, 80) > 0);
    snprintf(want, sizeof(want), "NOTIFY:%-5d", SIGEV_THREAD);
    assert_non_null(strstr(line, want));
    ust_mq_unlink(s, "/xthr");
    ust_stack_free(s);
}

/* ---- Peer death ------------------------------------------------------- */

/* The other process is SIGKILLed while blocked in a receive. The queue
 * works on: we send and receive, curmsgs is right, and the dead receiver
 * does not count as blocked (our notification still fires). */
static void test_xproc_mq_peer_killed_while_blocked_queue_keeps_working(void **state)
{
    (void)state;
    sigset_t old;
    block_usr1(&old);
    struct ust_stack *s = new_stack();
    int q = open_q(s, "/xkill", O_RDWR, 2);
    assert_true(q >= 0);
    pid_t pid = fork_child();
    if (pid == 0) {
        struct ust_stack *c = new_stack();
        int cq = c ? ust_mq_open(c, "/xkill", O_RDONLY) : -1;
        char buf[MSGSIZE];
        ust_mq_receive(c, cq, buf, sizeof(buf), NULL);
        _exit(10);      /* never: killed while blocked */
    }
    assert_true(wait_blocked(pid));
    kill(pid, SIGKILL);
    assert_int_equal(wait_child(pid), 128 + SIGKILL);

    struct sigevent ev = { .sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGUSR1 };
    assert_int_equal(ust_mq_notify(s, q, &ev), 0);
    assert_int_equal(ust_mq_send(s, q, "a", 1, 0), 0);
    siginfo_t si;
    assert_true(take_usr1(&si, BOUND_MS));
    assert_int_equal(si.si_code, SI_MESGQ);
    assert_int_equal(ust_mq_send(s, q, "b", 1, 0), 0);
    assert_int_equal(curmsgs(s, q), 2);
    char buf[MSGSIZE];
    assert_int_equal(ust_mq_receive(s, q, buf, sizeof(buf), NULL), 1);
    assert_int_equal(ust_mq_receive(s, q, buf, sizeof(buf), NULL), 1);
    assert_int_equal(curmsgs(s, q), 0);
    ust_mq_unlink(s, "/xkill");
    ust_stack_free(s);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* Two stacks of one process with the same directory meet on one queue
 * (the namespace is the directory, not the stack). */
static void test_xproc_mq_two_stacks_in_one_process_share_the_queue(void **state)
{
    (void)state;
    struct ust_stack *a = new_stack(), *b = new_stack();
    int qa = open_q(a, "/xsame", O_RDWR, 2);
    assert_true(qa >= 0);
    int qb = ust_mq_open(b, "/xsame", O_RDWR);
    assert_true(qb >= 0);
    assert_int_equal(ust_mq_send(a, qa, "x", 1, 7), 0);
    char buf[MSGSIZE];
    unsigned p;
    assert_int_equal(ust_mq_receive(b, qb, buf, sizeof(buf), &p), 1);
    assert_int_equal(p, 7);
    assert_int_equal(ust_mq_unlink(b, "/xsame"), 0);
    ust_stack_free(a);
    ust_stack_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        ipc_dir_test(test_xproc_mq_priority_order_and_curmsgs_across_processes),
        ipc_dir_test(test_xproc_mq_blocked_receive_woken_by_other_process_send),
        ipc_dir_test(test_xproc_mq_blocked_send_woken_by_other_process_receive),
        ipc_dir_test(test_xproc_mq_timed_receive_times_out),
        ipc_dir_test(test_xproc_mq_poll_and_epoll_woken_by_other_process_send),
        ipc_dir_test(test_xproc_mq_unlink_while_other_process_holds_it),
        ipc_dir_test(test_xproc_mq_autoremove_when_last_holder_exits),
        ipc_dir_test(test_xproc_mq_o_excl_race_one_creator),
        ipc_dir_test(test_xproc_mq_limits_count_other_processes_queues),
        ipc_dir_test(test_xproc_mq_eacces_for_another_uid),
        ipc_dir_test(test_xproc_mq_notify_signal_fired_by_other_process_send),
        ipc_dir_test(test_xproc_mq_notify_of_killed_registrant_is_freed),
        ipc_dir_test(test_xproc_mq_notify_thread_stays_for_other_process_send),
        ipc_dir_test(test_xproc_mq_peer_killed_while_blocked_queue_keeps_working),
        ipc_dir_test(test_xproc_mq_two_stacks_in_one_process_share_the_queue),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
