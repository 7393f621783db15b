/* ust_shmq_inspect, the read-only view behind `ustack ipcs`, and the
 * removal behind `ustack ipcrm` (src/ipc/shm_queue.c):
 *  - it reports queued messages and bytes, limits, mode, owner and flags;
 *  - it lists live holders with their side (a fork()ed child holding the
 *    write side), counts a SIGKILLed holder as dead without reaping it (the
 *    object is not written), and a locked operation reaps it afterwards;
 *  - it never takes the lock: with a sender SIGKILLed inside its critical
 *    section (lock left owner-dead), it answers at once with the committed
 *    counters (before the commit: old values; after it: the operation done,
 *    "pending"), repairs nothing, and a later locker still repairs;
 *  - errors: ENOENT, EINVAL for a file that is not a queue, EACCES for a
 *    user without read permission;
 *  - an access-0 handle (what ipcrm opens) removes the object: a receiver
 *    blocked in another process gets EIDRM and the name is gone.
 *
 * Objects are named i<pid>_<n> of kind "test"; every test unlinks them. Waits
 * are bounded by deadlines; no assertion is about durations. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "ipc/shm_queue.h"
#include "unit/shmq_test_util.h"

#define KIND "test"

static void qname(char *buf, size_t len, int n)
{
    snprintf(buf, len, "i%d_%d", (int)getpid(), n);
}

static struct ust_shmq *mk(const char *name, uint32_t maxmsg, uint32_t msgsize, uint32_t flags,
                           mode_t mode, unsigned access)
{
    struct ust_shmq_attr a = { .maxmsg = maxmsg, .msgsize = msgsize, .flags = flags,
                               .mode = mode };
    struct ust_shmq *q = NULL;
    assert_int_equal(ust_shmq_open(NULL, KIND, name, O_CREAT | O_EXCL, access, &a, &q), 0);
    return q;
}

static void send_str(struct ust_shmq *q, const char *s)
{
    assert_int_equal(ust_shmq_send(q, s, strlen(s), 1, UST_SHMQ_NONBLOCK, NULL), 0);
}

static const struct ust_shmq_holder_info *find_holder(const struct ust_shmq_stat *st, pid_t pid)
{
    for (unsigned i = 0; i < st->nlive; i++)
        if (st->holder[i].pid == pid)
            return &st->holder[i];
    return NULL;
}

static void test_ipcs_inspect_reports_counts_limits_mode_owner_flags(void **state)
{
    (void)state;
    char n1[64], n2[64];
    qname(n1, sizeof(n1), 1);
    qname(n2, sizeof(n2), 2);
    struct ust_shmq *q1 = mk(n1, 4, 32, UST_SHMQ_PRIO | UST_SHMQ_AUTOREMOVE, 0640,
                             UST_SHMQ_RD | UST_SHMQ_WR);
    struct ust_shmq *q2 = mk(n2, 7, 100, 0, 0600, UST_SHMQ_RD);
    send_str(q1, "abc");
    send_str(q1, "hello");
    send_str(q1, "1234567");

    struct ust_shmq_stat st;
    assert_int_equal(ust_shmq_inspect(NULL, KIND, n1, &st), 0);
    assert_int_equal(st.info.curmsgs, 3);
    assert_int_equal(st.info.bytes, 15);
    assert_int_equal(st.info.maxmsg, 4);
    assert_int_equal(st.info.msgsize, 32);
    assert_int_equal(st.info.flags, UST_SHMQ_PRIO | UST_SHMQ_AUTOREMOVE);
    assert_int_equal(st.info.mode, 0640);
    assert_int_equal(st.info.uid, geteuid());
    assert_int_equal(st.info.gid, getegid());
    assert_int_equal(st.info.last_send_pid, getpid());
    assert_false(st.pending);
    assert_false(st.info.removed);
    assert_true(st.size > 4u * 32u);
    assert_int_equal(st.nlive, 1);
    assert_int_equal(st.holder[0].pid, getpid());
    assert_int_equal(st.holder[0].access, UST_SHMQ_RD | UST_SHMQ_WR);
    assert_int_equal(st.info.readers, 1);
    assert_int_equal(st.info.writers, 1);
    assert_int_equal(st.ndead, 0);

    assert_int_equal(ust_shmq_inspect(NULL, KIND, n2, &st), 0);
    assert_int_equal(st.info.curmsgs, 0);
    assert_int_equal(st.info.bytes, 0);
    assert_int_equal(st.info.maxmsg, 7);
    assert_int_equal(st.info.msgsize, 100);
    assert_int_equal(st.info.flags, 0);
    assert_int_equal(st.info.writers, 0);
    assert_int_equal(st.info.readers, 1);

    ust_shmq_close(q1);                 /* auto-remove: the last holder's close unlinks it */
    assert_int_equal(ust_shmq_inspect(NULL, KIND, n1, &st), -ENOENT);
    ust_shmq_close(q2);
    assert_int_equal(ust_shmq_unlink(NULL, KIND, n2), 0);
}

/* A child holds the write side; once SIGKILLed (still a zombie) it is no
 * longer listed, its entry is counted dead and stays there until a locked
 * operation reaps it: inspection writes nothing. */
static void test_ipcs_inspect_lists_live_holders_and_counts_dead_without_reaping(void **state)
{
    (void)state;
    char name[64];
    qname(name, sizeof(name), 3);
    struct ust_shmq *q = mk(name, 4, 16, 0, 0600, UST_SHMQ_RD);
    int ready[2], hold[2];
    assert_int_equal(pipe(ready), 0);
    assert_int_equal(pipe(hold), 0);
    pid_t pid = fork_child();
    if (pid == 0) {
        struct ust_shmq *c = NULL;
        if (ust_shmq_open(NULL, KIND, name, 0, UST_SHMQ_WR, NULL, &c) != 0)
            _exit(1);
        char b = 'r';
        if (write(ready[1], &b, 1) != 1 || read(hold[0], &b, 1) < 0)
            _exit(2);
        _exit(3);                       /* killed before it gets here */
    }
    char b;
    assert_int_equal(read(ready[0], &b, 1), 1);

    struct ust_shmq_stat st;
    assert_int_equal(ust_shmq_inspect(NULL, KIND, name, &st), 0);
    assert_int_equal(st.nlive, 2);
    const struct ust_shmq_holder_info *child = find_holder(&st, pid);
    assert_non_null(child);
    assert_int_equal(child->access, UST_SHMQ_WR);
    assert_non_null(find_holder(&st, getpid()));
    assert_int_equal(st.info.writers, 1);
    assert_int_equal(st.info.readers, 1);
    assert_int_equal(st.ndead, 0);

    assert_int_equal(kill(pid, SIGKILL), 0);
    siginfo_t si;                       /* wait for the death, leave the zombie */
    assert_int_equal(waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT), 0);
    for (int i = 0; i < 2; i++) {       /* twice: the first did not reap it */
        assert_int_equal(ust_shmq_inspect(NULL, KIND, name, &st), 0);
        assert_int_equal(st.nlive, 1);
        assert_null(find_holder(&st, pid));
        assert_int_equal(st.info.writers, 0);
        assert_int_equal(st.ndead, 1);
    }
    assert_int_equal(wait_child(pid), 128 + SIGKILL);
    assert_int_equal(ust_shmq_holders(q, UST_SHMQ_WR), 0);   /* locked: reaps */
    assert_int_equal(ust_shmq_inspect(NULL, KIND, name, &st), 0);
    assert_int_equal(st.ndead, 0);
    assert_int_equal(st.nlive, 1);

    close(ready[0]);
    close(ready[1]);
    close(hold[0]);
    close(hold[1]);
    ust_shmq_close(q);
    assert_int_equal(ust_shmq_unlink(NULL, KIND, name), 0);
}

/* A sender SIGKILLed at crash point `at` of its send, holding the lock. */
static void kill_sender_inside_send(const char *name, unsigned at)
{
    pid_t pid = fork_child();
    if (pid == 0) {
        struct ust_shmq *c = NULL;
        if (ust_shmq_open(NULL, KIND, name, 0, UST_SHMQ_WR, NULL, &c) != 0)
            _exit(1);
        ust_shmq_test_crash_at(c, at);
        ust_shmq_send(c, "four", 4, 1, UST_SHMQ_NONBLOCK, NULL);
        _exit(2);
    }
    assert_int_equal(wait_child(pid), 128 + SIGKILL);
}

/* The lock is left owner-dead. Inspection (a read-only mapping: it could
 * not even try the lock) answers with the committed state and repairs
 * nothing; the next locker repairs and agrees with it. */
static void test_ipcs_inspect_takes_no_lock_and_shows_committed_counters(void **state)
{
    (void)state;
    char name[64];
    qname(name, sizeof(name), 4);
    struct ust_shmq *q = mk(name, 4, 16, 0, 0600, UST_SHMQ_RD | UST_SHMQ_WR);
    send_str(q, "ab");

    /* Killed after writing the journal, before committing it: no send. */
    kill_sender_inside_send(name, 1);
    struct ust_shmq_stat st;
    assert_int_equal(ust_shmq_inspect(NULL, KIND, name, &st), 0);
    assert_false(st.pending);
    assert_int_equal(st.info.curmsgs, 1);
    assert_int_equal(st.info.bytes, 2);
    assert_int_equal(st.info.repairs, 0);
    assert_int_equal(st.ndead, 1);
    struct ust_shmq_info info;
    assert_int_equal(ust_shmq_getattr(q, &info), 0);        /* locks: repairs */
    assert_int_equal(info.repairs, 1);
    assert_int_equal(info.curmsgs, 1);

    /* Killed right after the commit, nothing applied: the send happened. */
    kill_sender_inside_send(name, 2);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(ust_shmq_inspect(NULL, KIND, name, &st), 0);
        assert_true(st.pending);
        assert_int_equal(st.info.curmsgs, 2);
        assert_int_equal(st.info.bytes, 6);
        assert_int_equal(st.info.repairs, 1);   /* inspection repaired nothing */
    }
    assert_int_equal(ust_shmq_getattr(q, &info), 0);
    assert_int_equal(info.repairs, 2);
    assert_int_equal(info.curmsgs, 2);
    assert_int_equal(info.bytes, 6);
    assert_int_equal(ust_shmq_inspect(NULL, KIND, name, &st), 0);
    assert_false(st.pending);
    assert_int_equal(st.info.curmsgs, 2);

    char buf[16];
    int64_t key;
    assert_int_equal(ust_shmq_receive(q, buf, sizeof(buf), &key, NULL, UST_SHMQ_NONBLOCK, NULL),
                     2);
    assert_int_equal(ust_shmq_receive(q, buf, sizeof(buf), &key, NULL, UST_SHMQ_NONBLOCK, NULL),
                     4);
    assert_memory_equal(buf, "four", 4);
    ust_shmq_close(q);
    assert_int_equal(ust_shmq_unlink(NULL, KIND, name), 0);
}

static void test_ipcs_inspect_errors_enoent_einval_eacces(void **state)
{
    (void)state;
    char name[64], path[512];
    qname(name, sizeof(name), 5);
    struct ust_shmq_stat st;
    assert_int_equal(ust_shmq_inspect(NULL, KIND, name, &st), -ENOENT);
    assert_int_equal(ust_shmq_inspect(NULL, "Bad!", name, &st), -EINVAL);
    assert_int_equal(ust_shmq_inspect(NULL, KIND, "a/b", &st), -EINVAL);

    /* A file under our prefix that is not a queue: empty, then garbage. */
    assert_int_equal(ust_shmq_path(NULL, KIND, name, path, sizeof(path)), 0);
    int fd = open(path, O_CREAT | O_EXCL | O_WRONLY, 0600);
    assert_true(fd >= 0);
    assert_int_equal(ust_shmq_inspect(NULL, KIND, name, &st), -EINVAL);
    char junk[4096];
    memset(junk, 0x5a, sizeof(junk));
    assert_int_equal(write(fd, junk, sizeof(junk)), (ssize_t)sizeof(junk));
    close(fd);
    assert_int_equal(ust_shmq_inspect(NULL, KIND, name, &st), -EINVAL);
    assert_int_equal(unlink(path), 0);

    /* Another user: no read permission under the object's mode, EACCES
     * (as IPC_STAT); with 0644 it may look. Needs root to switch users. */
    if (geteuid() != 0)
        return;
    char n2[64];
    qname(n2, sizeof(n2), 6);
    struct ust_shmq *q1 = mk(name, 2, 8, 0, 0600, UST_SHMQ_RD);
    struct ust_shmq *q2 = mk(n2, 2, 8, 0, 0644, UST_SHMQ_RD);
    pid_t pid = fork_child();
    if (pid == 0) {
        struct ust_shmq_stat cst;
        if (setgid(65534) < 0 || setuid(65534) < 0)
            _exit(10);
        if (ust_shmq_inspect(NULL, KIND, name, &cst) != -EACCES)
            _exit(1);
        if (ust_shmq_inspect(NULL, KIND, n2, &cst) != 0 || cst.info.uid != 0 || cst.nlive != 1)
            _exit(2);
        _exit(0);
    }
    assert_int_equal(wait_child(pid), 0);
    ust_shmq_close(q1);
    ust_shmq_close(q2);
    assert_int_equal(ust_shmq_unlink(NULL, KIND, name), 0);
    assert_int_equal(ust_shmq_unlink(NULL, KIND, n2), 0);
}

/* What `ustack ipcrm` does: open with access 0 (no side), remove. A
 * receiver blocked in another process wakes with EIDRM; the name is gone. */
static void test_ipcs_ipcrm_handle_removes_and_blocked_receiver_gets_eidrm(void **state)
{
    (void)state;
    char name[64];
    qname(name, sizeof(name), 7);
    struct ust_shmq *q = mk(name, 2, 16, 0, 0600, UST_SHMQ_RD);
    pid_t pid = fork_child();
    if (pid == 0) {
        char buf[16];
        struct timespec dl = mono_in_ms(20000);
        ssize_t n = ust_shmq_receive(q, buf, sizeof(buf), NULL, NULL, 0, &dl);
        _exit(n == -EIDRM ? 0 : 1);
    }
    struct ust_shmq *rm = NULL;
    assert_int_equal(ust_shmq_open(NULL, KIND, name, 0, 0, NULL, &rm), 0);
    assert_int_equal(ust_shmq_remove(rm), 0);
    ust_shmq_close(rm);
    assert_int_equal(wait_child(pid), 0);
    struct ust_shmq_stat st;
    assert_int_equal(ust_shmq_inspect(NULL, KIND, name, &st), -ENOENT);
    ust_shmq_close(q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ipcs_inspect_reports_counts_limits_mode_owner_flags),
        cmocka_unit_test(test_ipcs_inspect_lists_live_holders_and_counts_dead_without_reaping),
        cmocka_unit_test(test_ipcs_inspect_takes_no_lock_and_shows_committed_counters),
        cmocka_unit_test(test_ipcs_inspect_errors_enoent_einval_eacces),
        cmocka_unit_test(test_ipcs_ipcrm_handle_removes_and_blocked_receiver_gets_eidrm),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
