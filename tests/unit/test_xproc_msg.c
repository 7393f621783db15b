/* System V message queues shared between processes (cfg.ipc_shared): the
 * other end runs in a forked child with a fresh struct ust_stack of its own
 * (never the parent's). Covers the msgget01-02 / msgsnd01-06 / msgrcv01-07 /
 * msgctl01-04 rules that involve two ends:
 *   - a key names the same queue in both processes; IPC_CREAT|IPC_EXCL gives
 *     EEXIST there; type selection (0, > 0, < 0, MSG_EXCEPT, MSG_COPY) of
 *     messages sent by the other process; msg_lspid / msg_lrpid are the
 *     other process's pid;
 *   - an identifier learnt from another process (inherited over fork, or
 *     read from a message) works without msgget;
 *   - a blocked msgrcv is woken by the other process's msgsnd of its type
 *     only (with no stack thread in the blocked process); a blocked msgsnd
 *     by the other process's msgrcv;
 *   - IPC_RMID by one process wakes the other's blocked msgrcv and msgsnd
 *     with EIDRM;
 *   - IPC_SET by another process (as another uid: EPERM, EACCES; as the new
 *     owner: allowed, seen by the creator; IPC_RMID by the new owner), and
 *     IPC_SET taking read permission from a receiver blocked in another
 *     process (EACCES);
 *   - a blocking ust_poll on a queue's descriptor woken by the other
 *     process's msgsnd (POLLIN) and IPC_RMID (POLLERR|POLLHUP);
 *   - processes racing to create one key agree on one queue;
 *   - a peer SIGKILLed while blocked leaves the queue consistent and usable.
 * Every wait is bounded: a child that hangs fails the test. The child
 * reports through its exit status (0: every check held, else the number
 * of the check that failed). Needs root only for the second-user test. */
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "unit/ipc_dir_test_util.h"

#include <ustack/ustack.h>

#include "shmq_test_util.h"

#define BOUND_SEC 30
#define NOBODY 65534

struct tmsg {
    long mtype;
    char mtext[256];
};

/* A stack with shared queues; started: blocking calls block. */
static struct ust_stack *xp_stack(bool start)
{
    struct ust_stack_config c;
    ust_stack_config_init(&c);
    c.seed = 17;
    c.ipc_shared = 1;
    struct ust_stack *s = ust_stack_new(&c);
    if (s && start && ust_stack_start(s) != 0) {
        ust_stack_free(s);
        s = NULL;
    }
    return s;
}

/* In a child: a fresh stack of its own, or exit 90. */
static struct ust_stack *child_stack(bool start)
{
    struct ust_stack *s = xp_stack(start);
    if (!s)
        _exit(90);
    return s;
}

#define CHECK(cond, code)                                                                     \
    do {                                                                                      \
        if (!(cond))                                                                          \
            _exit(code);                                                                      \
    } while (0)

static int send_text(struct ust_stack *s, int id, long type, const char *text, int flags)
{
    struct tmsg m = { .mtype = type };
    size_t n = strlen(text);
    memcpy(m.mtext, text, n);
    return ust_msgsnd(s, id, &m, n, flags);
}

/* Receives and checks the text; returns the type, or -1. */
static long recv_text(struct ust_stack *s, int id, long msgtyp, int flags, const char *want)
{
    struct tmsg m;
    memset(&m, 0, sizeof(m));
    ssize_t n = ust_msgrcv(s, id, &m, sizeof(m.mtext), msgtyp, flags);
    if (n != (ssize_t)strlen(want) || memcmp(m.mtext, want, strlen(want)) != 0)
        return -1;
    return m.mtype;
}

static struct timespec limit_in(int sec)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += sec;
    return ts;
}

static bool before(const struct timespec *limit)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec < limit->tv_sec ||
           (now.tv_sec == limit->tv_sec && now.tv_nsec < limit->tv_nsec);
}

/* True when the main thread of pid sleeps in futex(2) (/proc; true when
 * /proc cannot tell). */
static bool in_futex(pid_t pid)
{
    char path[64], line[128];
    snprintf(path, sizeof(path), "/proc/%d/syscall", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return true;
    bool ok = fgets(line, sizeof(line), f) != NULL;
    fclose(f);
    if (!ok)
        return true;
    return strtol(line, NULL, 10) == SYS_futex;
}

/* Reads the child's "about to block" byte from fd, then waits (bounded)
 * until the child sleeps in the kernel; fails if it exits first. */
static void wait_blocked(pid_t pid, int fd)
{
    char c;
    assert_int_equal(read(fd, &c, 1), 1);
    struct timespec limit = limit_in(BOUND_SEC);
    int st;
    while (!in_futex(pid)) {
        if (waitpid(pid, &st, WNOHANG) == pid)
            fail_msg("the child ended (status %d) instead of blocking", st);
        if (!before(&limit))
            fail_msg("the child never blocked");
        sched_yield();
    }
}

/* The child's exit status within BOUND_SEC, or the test fails (and the
 * child is killed). */
static int wait_child_bounded(pid_t pid)
{
    struct timespec limit = limit_in(BOUND_SEC);
    int st;
    for (;;) {
        pid_t w = waitpid(pid, &st, WNOHANG);
        if (w == pid)
            return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        assert_true(w == 0);
        if (!before(&limit)) {
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            fail_msg("the child never finished");
        }
        sched_yield();
    }
}

static void announce(int fd)
{
    CHECK(write(fd, "b", 1) == 1, 91);
}

static unsigned long qnum(struct ust_stack *s, int id)
{
    struct msqid_ds ds;
    assert_int_equal(ust_msgctl(s, id, IPC_STAT, &ds), 0);
    return (unsigned long)ds.msg_qnum;
}

static void set_qbytes(struct ust_stack *s, int id, size_t qbytes)
{
    struct msqid_ds ds;
    assert_int_equal(ust_msgctl(s, id, IPC_STAT, &ds), 0);
    ds.msg_qbytes = qbytes;
    assert_int_equal(ust_msgctl(s, id, IPC_SET, &ds), 0);
}

/* ---- Keys, selection, pids -------------------------------------------- */

/* msgget01/02, msgrcv07 across processes: the child finds the parent's
 * queue by key, sees the parent's pid as msg_lspid, takes messages by type
 * (0, > 0, < 0, MSG_EXCEPT, MSG_COPY), and the parent then sees the
 * child's pid as msg_lrpid. */
static void test_xproc_key_names_same_queue_and_type_selection(void **state)
{
    (void)state;
    struct ust_stack *s = xp_stack(false);
    assert_non_null(s);
    key_t key = 0x7a110001;
    int id = ust_msgget(s, key, IPC_CREAT | IPC_EXCL | 0600);
    assert_true(id >= 0);
    const char *texts[] = { "A", "B", "C", "D", "E" };
    long types[] = { 3, 1, 2, 5, 1 };
    for (int i = 0; i < 5; i++)
        assert_int_equal(send_text(s, id, types[i], texts[i], 0), 0);
    pid_t parent = getpid();
    pid_t pid = fork_child();
    if (pid == 0) {
        struct ust_stack *c = child_stack(false);
        CHECK(ust_msgget(c, key, 0) == id, 1);
        CHECK(ust_msgget(c, key, IPC_CREAT | IPC_EXCL | 0600) == -1 && errno == EEXIST, 2);
        struct msqid_ds ds;
        CHECK(ust_msgctl(c, id, IPC_STAT, &ds) == 0, 3);
        CHECK(ds.msg_qnum == 5 && ds.msg_lspid == parent && ds.msg_perm.__key == key, 4);
        CHECK(recv_text(c, id, 3, MSG_COPY | IPC_NOWAIT, "D") == 5, 5);
        CHECK(recv_text(c, id, -4, IPC_NOWAIT, "B") == 1, 6);
        CHECK(recv_text(c, id, 2, IPC_NOWAIT, "C") == 2, 7);
        CHECK(recv_text(c, id, 3, MSG_EXCEPT | IPC_NOWAIT, "D") == 5, 8);
        CHECK(recv_text(c, id, 0, IPC_NOWAIT, "A") == 3, 9);
        struct tmsg m;
        CHECK(ust_msgrcv(c, id, &m, sizeof(m.mtext), 9, IPC_NOWAIT) == -1 && errno == ENOMSG, 10);
        ust_stack_free(c);
        _exit(0);
    }
    assert_int_equal(wait_child_bounded(pid), 0);
    struct msqid_ds ds;
    assert_int_equal(ust_msgctl(s, id, IPC_STAT, &ds), 0);
    assert_int_equal(ds.msg_qnum, 1);
    assert_int_equal(ds.msg_lrpid, pid);
    assert_int_equal(recv_text(s, id, 0, IPC_NOWAIT, "E"), 1);
    assert_int_equal(ust_msgctl(s, id, IPC_RMID, NULL), 0);
    ust_stack_free(s);
}

/* An identifier means the same queue in every process: the child uses the
 * parent's IPC_PRIVATE queue by the identifier it inherited, without
 * msgget, and sends back the identifier of a queue it made, which the
 * parent uses without msgget either. */
static void test_xproc_identifier_used_without_msgget(void **state)
{
    (void)state;
    struct ust_stack *s = xp_stack(false);
    assert_non_null(s);
    int id = ust_msgget(s, IPC_PRIVATE, 0600);
    assert_true(id >= 0);
    pid_t pid = fork_child();
    if (pid == 0) {
        struct ust_stack *c = child_stack(false);
        int mine = ust_msgget(c, IPC_PRIVATE, 0600);
        CHECK(mine >= 0 && mine != id, 1);
        CHECK(send_text(c, mine, 4, "in mine", 0) == 0, 2);
        struct tmsg m = { .mtype = 9 };
        memcpy(m.mtext, &mine, sizeof(mine));
        CHECK(ust_msgsnd(c, id, &m, sizeof(mine), 0) == 0, 3);
        struct msqid_ds ds;
        CHECK(ust_msgctl(c, id, IPC_STAT, &ds) == 0 && ds.msg_qnum == 1, 4);
        ust_stack_free(c);
        _exit(0);
    }
    assert_int_equal(wait_child_bounded(pid), 0);
    struct tmsg m;
    assert_int_equal(ust_msgrcv(s, id, &m, sizeof(m.mtext), 9, IPC_NOWAIT), sizeof(int));
    int theirs;
    memcpy(&theirs, m.mtext, sizeof(theirs));
    assert_int_equal(recv_text(s, theirs, 0, IPC_NOWAIT, "in mine"), 4);
    assert_int_equal(ust_msgctl(s, theirs, IPC_RMID, NULL), 0);
    assert_int_equal(ust_msgctl(s, id, IPC_RMID, NULL), 0);
    /* Removed for everyone: the identifiers name nothing now. */
    assert_int_equal(ust_msgctl(s, theirs, IPC_STAT, &(struct msqid_ds){ 0 }), -1);
    assert_int_equal(errno, EINVAL);
    ust_stack_free(s);
}

/* ---- Blocking ---------------------------------------------------------- */

/* A msgrcv blocked for type 7 in the child sleeps through the parent's
 * type-3 message and wakes for its type-7 one. The child's stack has no
 * stack thread: a call on a shared queue blocks on the queue itself. */
static void test_xproc_blocked_msgrcv_woken_by_other_process_matching_type(void **state)
{
    (void)state;
    struct ust_stack *s = xp_stack(false);
    assert_non_null(s);
    int id = ust_msgget(s, IPC_PRIVATE, 0600);
    int sync[2];
    assert_int_equal(pipe(sync), 0);
    pid_t pid = fork_child();
    if (pid == 0) {
        struct ust_stack *c = child_stack(false);
        announce(sync[1]);
        CHECK(recv_text(c, id, 7, 0, "seven") == 7, 1);
        ust_stack_free(c);
        _exit(0);
    }
    wait_blocked(pid, sync[0]);
    assert_int_equal(send_text(s, id, 3, "three", 0), 0);
    assert_int_equal(send_text(s, id, 7, "seven", 0), 0);
    assert_int_equal(wait_child_bounded(pid), 0);
    assert_int_equal(qnum(s, id), 1);
    assert_int_equal(recv_text(s, id, 0, IPC_NOWAIT, "three"), 3);
    assert_int_equal(ust_msgctl(s, id, IPC_RMID, NULL), 0);
    close(sync[0]);
    close(sync[1]);
    ust_stack_free(s);
}

/* A msgsnd blocked on a full queue in the child (msg_qbytes 100, full)
 * goes through when the parent's msgrcv makes room. */
static void test_xproc_blocked_msgsnd_woken_by_other_process_receive(void **state)
{
    (void)state;
    struct ust_stack *s = xp_stack(false);
    assert_non_null(s);
    int id = ust_msgget(s, IPC_PRIVATE, 0600);
    set_qbytes(s, id, 100);
    struct tmsg m = { .mtype = 1 };
    assert_int_equal(ust_msgsnd(s, id, &m, 100, IPC_NOWAIT), 0);
    int sync[2];
    assert_int_equal(pipe(sync), 0);
    pid_t pid = fork_child();
    if (pid == 0) {
        struct ust_stack *c = child_stack(true);
        struct tmsg big = { .mtype = 2 };
        CHECK(ust_msgsnd(c, id, &big, 50, IPC_NOWAIT) == -1 && errno == EAGAIN, 1);
        announce(sync[1]);
        CHECK(ust_msgsnd(c, id, &big, 50, 0) == 0, 2);
        ust_stack_free(c);
        _exit(0);
    }
    wait_blocked(pid, sync[0]);
    assert_int_equal(ust_msgrcv(s, id, &m, sizeof(m.mtext), 1, 0), 100);
    assert_int_equal(wait_child_bounded(pid), 0);
    assert_int_equal(ust_msgrcv(s, id, &m, sizeof(m.mtext), 0, IPC_NOWAIT), 50);
    assert_int_equal(m.mtype, 2);
    assert_int_equal(ust_msgctl(s, id, IPC_RMID, NULL), 0);
    close(sync[0]);
    close(sync[1]);
    ust_stack_free(s);
}

/* msgrcv06 / msgsnd06 across processes: IPC_RMID by the parent wakes the
 * child's blocked msgrcv, then another child's blocked msgsnd, with EIDRM. */
static void test_xproc_rmid_wakes_other_process_blocked_calls_with_eidrm(void **state)
{
    (void)state;
    struct ust_stack *s = xp_stack(false);
    assert_non_null(s);
    for (int send = 0; send < 2; send++) {
        int id = ust_msgget(s, IPC_PRIVATE, 0600);
        assert_true(id >= 0);
        if (send) {
            set_qbytes(s, id, 10);
            assert_int_equal(send_text(s, id, 1, "0123456789", 0), 0);
        }
        int sync[2];
        assert_int_equal(pipe(sync), 0);
        pid_t pid = fork_child();
        if (pid == 0) {
            /* No stack thread: the only futex this process can sleep in
             * once it has announced is the queue's (wait_blocked). */
            struct ust_stack *c = child_stack(false);
            announce(sync[1]);
            struct tmsg m = { .mtype = 1 };
            long r = send ? ust_msgsnd(c, id, &m, 5, 0)
                          : ust_msgrcv(c, id, &m, sizeof(m.mtext), 0, 0);
            CHECK(r == -1 && errno == EIDRM, 1);
            /* And the identifier is gone for this process too. */
            CHECK(ust_msgsnd(c, id, &m, 1, IPC_NOWAIT) == -1 && errno == EINVAL, 2);
            ust_stack_free(c);
            _exit(0);
        }
        wait_blocked(pid, sync[0]);
        assert_int_equal(ust_msgctl(s, id, IPC_RMID, NULL), 0);
        assert_int_equal(wait_child_bounded(pid), 0);
        close(sync[0]);
        close(sync[1]);
    }
    ust_stack_free(s);
}

/* A peer SIGKILLed while blocked in msgrcv, and one killed while blocked in
 * msgsnd, leave the queue consistent: nothing taken, nothing added, and
 * both directions still work. */
static void test_xproc_peer_sigkilled_while_blocked_leaves_queue_usable(void **state)
{
    (void)state;
    struct ust_stack *s = xp_stack(false);
    assert_non_null(s);
    int id = ust_msgget(s, IPC_PRIVATE, 0600);
    for (int send = 0; send < 2; send++) {
        if (send) {
            set_qbytes(s, id, 10);
            assert_int_equal(send_text(s, id, 1, "0123456789", 0), 0);
        }
        int sync[2];
        assert_int_equal(pipe(sync), 0);
        pid_t pid = fork_child();
        if (pid == 0) {
            struct ust_stack *c = child_stack(true);
            announce(sync[1]);
            struct tmsg m = { .mtype = 5 };
            if (send)
                ust_msgsnd(c, id, &m, 5, 0);
            else
                ust_msgrcv(c, id, &m, sizeof(m.mtext), 0, 0);
            _exit(1);                   /* never: it is killed while blocked */
        }
        wait_blocked(pid, sync[0]);
        assert_int_equal(kill(pid, SIGKILL), 0);
        assert_int_equal(wait_child_bounded(pid), 128 + SIGKILL);
        close(sync[0]);
        close(sync[1]);
    }
    /* Only the parent's message is queued; send and receive both work. */
    assert_int_equal(qnum(s, id), 1);
    assert_int_equal(recv_text(s, id, 0, IPC_NOWAIT, "0123456789"), 1);
    assert_int_equal(send_text(s, id, 2, "after", IPC_NOWAIT), 0);
    assert_int_equal(recv_text(s, id, 2, IPC_NOWAIT, "after"), 2);
    assert_int_equal(ust_msgctl(s, id, IPC_RMID, NULL), 0);
    ust_stack_free(s);
}

/* IPC_SET in one process wakes a receiver blocked in another one to check
 * its permission again: it fails with EACCES once read permission is gone
 * (expunge_all; do_msgrcv checks ipcperms on every pass). */
static void test_xproc_ipc_set_revoking_read_fails_other_process_blocked_receiver(void **state)
{
    (void)state;
    struct ust_stack *s = xp_stack(false);
    assert_non_null(s);
    int id = ust_msgget(s, IPC_PRIVATE, 0600);
    int sync[2];
    assert_int_equal(pipe(sync), 0);
    pid_t pid = fork_child();
    if (pid == 0) {
        struct ust_stack *c = child_stack(true);
        announce(sync[1]);
        struct tmsg m;
        CHECK(ust_msgrcv(c, id, &m, sizeof(m.mtext), 0, 0) == -1 && errno == EACCES, 1);
        ust_stack_free(c);
        _exit(0);
    }
    wait_blocked(pid, sync[0]);
    struct msqid_ds ds;
    assert_int_equal(ust_msgctl(s, id, IPC_STAT, &ds), 0);
    ds.msg_perm.mode = 0200;
    assert_int_equal(ust_msgctl(s, id, IPC_SET, &ds), 0);
    assert_int_equal(wait_child_bounded(pid), 0);
    assert_int_equal(ust_msgctl(s, id, IPC_RMID, NULL), 0);
    close(sync[0]);
    close(sync[1]);
    ust_stack_free(s);
}

/* A blocking ust_poll on a queue's descriptor (ust_msgq_fd) in the child
 * wakes with POLLIN when the parent sends, and with POLLERR|POLLHUP when
 * the parent removes the queue. */
static void test_xproc_poll_on_queue_descriptor_woken_by_other_process(void **state)
{
    (void)state;
    struct ust_stack *s = xp_stack(false);
    assert_non_null(s);
    int id = ust_msgget(s, IPC_PRIVATE, 0600);
    int sync[2];
    assert_int_equal(pipe(sync), 0);
    pid_t pid = fork_child();
    if (pid == 0) {
        struct ust_stack *c = child_stack(true);
        int fd = ust_msgq_fd(c, id);
        CHECK(fd >= 0, 1);
        struct pollfd p = { fd, POLLIN, 0 };
        CHECK(ust_poll(c, &p, 1, 0) == 0, 2);
        announce(sync[1]);
        CHECK(ust_poll(c, &p, 1, BOUND_SEC * 1000) == 1 && p.revents == POLLIN, 3);
        CHECK(recv_text(c, id, 0, IPC_NOWAIT, "ready") == 4, 4);
        announce(sync[1]);
        CHECK(ust_poll(c, &p, 1, BOUND_SEC * 1000) == 1 && p.revents == (POLLERR | POLLHUP), 5);
        ust_stack_free(c);
        _exit(0);
    }
    wait_blocked(pid, sync[0]);
    assert_int_equal(send_text(s, id, 4, "ready", 0), 0);
    wait_blocked(pid, sync[0]);
    assert_int_equal(ust_msgctl(s, id, IPC_RMID, NULL), 0);
    assert_int_equal(wait_child_bounded(pid), 0);
    close(sync[0]);
    close(sync[1]);
    ust_stack_free(s);
}

/* Processes racing to create the same key with IPC_CREAT all get the one
 * queue: the key's name is given with link(), which only one of them wins
 * (the others remove their own queue and use the winner's). Each child
 * reports the identifier it got in a message on a queue of the parent. */
#define RACERS 4
static void test_xproc_racing_creators_of_one_key_agree(void **state)
{
    (void)state;
    struct ust_stack *s = xp_stack(false);
    assert_non_null(s);
    int report = ust_msgget(s, IPC_PRIVATE, 0600);
    assert_true(report >= 0);
    for (int round = 0; round < 5; round++) {
        key_t key = 0x7a110100 + round;
        int go[2];
        assert_int_equal(pipe(go), 0);
        pid_t pids[RACERS];
        for (int i = 0; i < RACERS; i++) {
            pids[i] = fork_child();
            if (pids[i] == 0) {
                close(go[1]);
                struct ust_stack *c = child_stack(false);
                char b;
                CHECK(read(go[0], &b, 1) == 0, 1);      /* all start together */
                int id = ust_msgget(c, key, IPC_CREAT | 0600);
                CHECK(id >= 0, 2);
                struct tmsg m = { .mtype = 1 };
                memcpy(m.mtext, &id, sizeof(id));
                CHECK(ust_msgsnd(c, report, &m, sizeof(id), IPC_NOWAIT) == 0, 3);
                ust_stack_free(c);
                _exit(0);
            }
        }
        close(go[0]);
        close(go[1]);                   /* EOF: go */
        for (int i = 0; i < RACERS; i++)
            assert_int_equal(wait_child_bounded(pids[i]), 0);
        int want = ust_msgget(s, key, 0);
        assert_true(want >= 0);
        for (int i = 0; i < RACERS; i++) {
            struct tmsg m;
            assert_int_equal(ust_msgrcv(s, report, &m, sizeof(m.mtext), 0, IPC_NOWAIT),
                             sizeof(int));
            int got;
            memcpy(&got, m.mtext, sizeof(got));
            assert_int_equal(got, want);
        }
        /* The losers' queues are gone: only the key's queue and ours exist. */
        struct msginfo mi;
        assert_true(ust_msgctl(s, 0, MSG_INFO, (struct msqid_ds *)(void *)&mi) >= 0);
        assert_int_equal(mi.msgpool, 2);
        assert_int_equal(ust_msgctl(s, want, IPC_RMID, NULL), 0);
    }
    assert_int_equal(ust_msgctl(s, report, IPC_RMID, NULL), 0);
    ust_stack_free(s);
}

/* ---- Another user ------------------------------------------------------ */

/* Forks a child that drops to uid/gid NOBODY, makes its own stack and runs
 * fn; returns the child's status. */
static int run_as_nobody(int (*fn)(struct ust_stack *c, int id, key_t key), int id, key_t key)
{
    pid_t pid = fork_child();
    if (pid == 0) {
        if (setgroups(0, NULL) != 0 || setresgid(NOBODY, NOBODY, NOBODY) != 0 ||
            setresuid(NOBODY, NOBODY, NOBODY) != 0)
            _exit(92);
        struct ust_stack *c = child_stack(false);
        int r = fn(c, id, key);
        _exit(r);
    }
    return wait_child_bounded(pid);
}

/* A stranger (mode 0600, owner root): msgget asking for bits, IPC_STAT,
 * msgsnd, msgrcv are EACCES; IPC_SET and IPC_RMID are EPERM. */
static int stranger_checks(struct ust_stack *c, int id, key_t key)
{
    struct msqid_ds ds;
    memset(&ds, 0, sizeof(ds));
    struct tmsg m = { .mtype = 1 };
    CHECK(ust_msgget(c, key, 0) == id, 1);          /* no bits asked: allowed */
    CHECK(ust_msgget(c, key, 0400) == -1 && errno == EACCES, 2);
    CHECK(ust_msgctl(c, id, IPC_STAT, &ds) == -1 && errno == EACCES, 3);
    CHECK(ust_msgsnd(c, id, &m, 1, IPC_NOWAIT) == -1 && errno == EACCES, 4);
    CHECK(ust_msgrcv(c, id, &m, 10, 0, IPC_NOWAIT) == -1 && errno == EACCES, 5);
    ds.msg_qbytes = 100;
    ds.msg_perm.mode = 0666;
    CHECK(ust_msgctl(c, id, IPC_SET, &ds) == -1 && errno == EPERM, 6);
    CHECK(ust_msgctl(c, id, IPC_RMID, NULL) == -1 && errno == EPERM, 7);
    ust_stack_free(c);
    return 0;
}

/* The new owner (after the creator's IPC_SET of uid NOBODY, mode 0640):
 * reads, sends, changes msg_qbytes and the mode with IPC_SET. */
static int owner_checks(struct ust_stack *c, int id, key_t key)
{
    (void)key;
    struct msqid_ds ds;
    CHECK(ust_msgctl(c, id, IPC_STAT, &ds) == 0, 11);
    CHECK(ds.msg_perm.uid == NOBODY && ds.msg_perm.cuid == 0, 12);
    CHECK(send_text(c, id, 6, "owner", IPC_NOWAIT) == 0, 13);
    ds.msg_qbytes = 200;
    ds.msg_perm.mode = 0660;
    CHECK(ust_msgctl(c, id, IPC_SET, &ds) == 0, 14);
    ust_stack_free(c);
    return 0;
}

static int owner_rmid(struct ust_stack *c, int id, key_t key)
{
    (void)key;
    CHECK(ust_msgctl(c, id, IPC_RMID, NULL) == 0, 21);
    ust_stack_free(c);
    return 0;
}

/* msgctl04 / msgget02 / msgsnd02 / msgrcv02 permissions and IPC_SET across
 * processes and users. */
static void test_xproc_ipc_set_by_other_process_and_other_uid(void **state)
{
    (void)state;
    if (geteuid() != 0) {
        print_message("skipped: needs root to act as a second user\n");
        skip();
    }
    struct ust_stack *s = xp_stack(false);
    assert_non_null(s);
    key_t key = 0x7a110002;
    int id = ust_msgget(s, key, IPC_CREAT | IPC_EXCL | 0600);
    assert_true(id >= 0);
    assert_int_equal(run_as_nobody(stranger_checks, id, key), 0);
    struct msqid_ds ds;
    assert_int_equal(ust_msgctl(s, id, IPC_STAT, &ds), 0);
    assert_int_equal(ds.msg_qbytes, 16384);             /* the stranger changed nothing */
    assert_int_equal(ds.msg_perm.mode & 0777, 0600);
    ds.msg_perm.uid = NOBODY;
    ds.msg_perm.gid = NOBODY;
    ds.msg_perm.mode = 0640;
    assert_int_equal(ust_msgctl(s, id, IPC_SET, &ds), 0);
    assert_int_equal(run_as_nobody(owner_checks, id, key), 0);
    /* The new owner's IPC_SET, seen by the creator's process. */
    assert_int_equal(ust_msgctl(s, id, IPC_STAT, &ds), 0);
    assert_int_equal(ds.msg_qbytes, 200);
    assert_int_equal(ds.msg_perm.mode & 0777, 0660);
    assert_int_equal(ds.msg_qnum, 1);
    assert_int_equal(recv_text(s, id, 6, IPC_NOWAIT, "owner"), 6);
    /* The new owner may remove it, for everyone. */
    assert_int_equal(run_as_nobody(owner_rmid, id, key), 0);
    assert_int_equal(ust_msgctl(s, id, IPC_STAT, &ds), -1);
    assert_int_equal(errno, EINVAL);
    assert_int_equal(ust_msgget(s, key, 0), -1);
    assert_int_equal(errno, ENOENT);
    /* The key can be used again. */
    int again = ust_msgget(s, key, IPC_CREAT | IPC_EXCL | 0600);
    assert_true(again >= 0 && again != id);
    assert_int_equal(ust_msgctl(s, again, IPC_RMID, NULL), 0);
    ust_stack_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        ipc_dir_test(test_xproc_key_names_same_queue_and_type_selection),
        ipc_dir_test(test_xproc_identifier_used_without_msgget),
        ipc_dir_test(test_xproc_blocked_msgrcv_woken_by_other_process_matching_type),
        ipc_dir_test(test_xproc_blocked_msgsnd_woken_by_other_process_receive),
        ipc_dir_test(test_xproc_rmid_wakes_other_process_blocked_calls_with_eidrm),
        ipc_dir_test(test_xproc_peer_sigkilled_while_blocked_leaves_queue_usable),
        ipc_dir_test(test_xproc_ipc_set_revoking_read_fails_other_process_blocked_receiver),
        ipc_dir_test(test_xproc_poll_on_queue_descriptor_woken_by_other_process),
        ipc_dir_test(test_xproc_racing_creators_of_one_key_agree),
        ipc_dir_test(test_xproc_ipc_set_by_other_process_and_other_uid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
