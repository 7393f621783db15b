/* Shared-memory message queues (src/ipc/shm_queue.c), semantics within one
 * process and between fork()ed processes that each open the object by name:
 * POSIX order (highest priority first, FIFO within a priority: a1 b5 c1 d5
 * leaves as b5 d5 a1 c1), System V selection by type (msgtyp 0, > 0,
 * MSG_EXCEPT, < 0), EAGAIN / EMSGSIZE / E2BIG / ETIMEDOUT / EINVAL-only-when-
 * it-would-block / EBADF / EEXIST / ENOENT / EACCES, unlink while open,
 * IPC_RMID waking a blocked receiver in another process with EIDRM, blocked
 * senders and receivers woken across processes, peer death (EOF / EPIPE after
 * the other side is SIGKILLed, within a bounded time), a fork()ed child's
 * inherited handle counted as a holder after ust_shmq_after_fork, and
 * listing objects (ipcs) and auto-remove.
 *
 * Objects are named t<pid>_<n>; every test unlinks what it creates. Waits are
 * bounded by deadlines; no assertion is about durations. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
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
    snprintf(buf, len, "t%d_%d", (int)getpid(), n);
}

static struct ust_shmq *mk(const char *name, uint32_t maxmsg, uint32_t msgsize, uint32_t flags,
                           unsigned access)
{
    struct ust_shmq_attr a = { .maxmsg = maxmsg, .msgsize = msgsize, .flags = flags,
                               .mode = 0600 };
    struct ust_shmq *q = NULL;
    assert_int_equal(ust_shmq_open(NULL, KIND, name, O_CREAT | O_EXCL, access, &a, &q), 0);
    return q;
}

/* Polls (bounded) until q has n live holders with access. */
static void await_holders(struct ust_shmq *q, unsigned access, int n)
{
    for (int i = 0; i < 20000 && ust_shmq_holders(q, access) != n; i++)
        usleep(1000);
    assert_int_equal(ust_shmq_holders(q, access), n);
}

static void send_str(struct ust_shmq *q, const char *s, int64_t key)
{
    assert_int_equal(ust_shmq_send(q, s, strlen(s), key, UST_SHMQ_NONBLOCK, NULL), 0);
}

static void expect_str(struct ust_shmq *q, const char *s, int64_t key,
                       const struct ust_shmq_sel *sel)
{
    char buf[64];
    int64_t k = -1;
    ssize_t n = ust_shmq_receive(q, buf, sizeof(buf), &k, sel, UST_SHMQ_NONBLOCK, NULL);
    assert_int_equal(n, (ssize_t)strlen(s));
    assert_memory_equal(buf, s, strlen(s));
    assert_int_equal(k, key);
}

/* mq_send(3): highest priority first, FIFO within a priority. */
static void test_shmq_prio_order_highest_first_fifo_within(void **state)
{
    (void)state;
    char name[64];
    qname(name, sizeof(name), 1);
    struct ust_shmq *q = mk(name, 16, 64, UST_SHMQ_PRIO, UST_SHMQ_RD | UST_SHMQ_WR);
    send_str(q, "a", 1);
    send_str(q, "b", 5);
    send_str(q, "c", 1);
    send_str(q, "d", 5);
    send_str(q, "e", 3);
    send_str(q, "f", 0);
    send_str(q, "g", 9);
    expect_str(q, "g", 9, NULL);
    expect_str(q, "b", 5, NULL);
    expect_str(q, "d", 5, NULL);
    expect_str(q, "e", 3, NULL);
    expect_str(q, "a", 1, NULL);
    expect_str(q, "c", 1, NULL);
    expect_str(q, "f", 0, NULL);
    /* Zero-length messages are allowed. */
    assert_int_equal(ust_shmq_send(q, "", 0, 2, 0, NULL), 0);
    char buf[64];
    assert_int_equal(ust_shmq_receive(q, buf, sizeof(buf), NULL, NULL, 0, NULL), 0);
    ust_shmq_close(q);
    assert_int_equal(ust_shmq_unlink(NULL, KIND, name), 0);
}

/* msgrcv(2): msgtyp 0 / > 0 / MSG_EXCEPT / < 0 on a FIFO queue. */
static void test_shmq_sysv_type_selection(void **state)
{
    (void)state;
    char name[64];
    qname(name, sizeof(name), 2);
    struct ust_shmq *q = mk(name, 16, 64, 0, UST_SHMQ_RD | UST_SHMQ_WR);
    send_str(q, "t3a", 3);
    send_str(q, "t1a", 1);
    send_str(q, "t2a", 2);
    send_str(q, "t3b", 3);
    send_str(q, "t1b", 1);
    struct ust_shmq_sel eq2 = { UST_SHMQ_SEL_EQ, 2 }, ne3 = { UST_SHMQ_SEL_NE, 3 };
    struct ust_shmq_sel le3 = { UST_SHMQ_SEL_LE, 3 }, eq7 = { UST_SHMQ_SEL_EQ, 7 };
    expect_str(q, "t2a", 2, &eq2);
    expect_str(q, "t1a", 1, &ne3);
    expect_str(q, "t1b", 1, &le3);     /* the lowest type <= 3 first */
    char buf[64];
    assert_int_equal(ust_shmq_receive(q, buf, sizeof(buf), NULL, &eq7, UST_SHMQ_NONBLOCK,
                                      NULL), -EAGAIN);
    expect_str(q, "t3a", 3, NULL);      /* msgtyp 0: plain FIFO, keys ignored */
    expect_str(q, "t3b", 3, &le3);
    ust_shmq_close(q);
    assert_int_equal(ust_shmq_unlink(NULL, KIND, name), 0);
}

static void test_shmq_errors_eagain_emsgsize_e2big_ebadf(void **state)
{
    (void)state;
    char name[64], buf[64];
    qname(name, sizeof(name), 3);
    struct ust_shmq *q = mk(name, 2, 16, UST_SHMQ_PRIO, UST_SHMQ_RD | UST_SHMQ_WR);
    assert_int_equal(ust_shmq_receive(q, buf, 16, NULL, NULL, UST_SHMQ_NONBLOCK, NULL),
                     -EAGAIN);
    char big[17] = { 0 };
    assert_int_equal(ust_shmq_send(q, big, 17, 0, 0, NULL), -EMSGSIZE);
    assert_int_equal(ust_shmq_send(q, big, 16, 0, 0, NULL), 0);
    send_str(q, "0123456789", 0);
    assert_int_equal(ust_shmq_send(q, "x", 1, 0, UST_SHMQ_NONBLOCK, NULL), -EAGAIN);
    /* mq_receive(3): a buffer smaller than msgsize, even if the message fits. */
    assert_int_equal(ust_shmq_receive(q, buf, 15, NULL, NULL, 0, NULL), -EMSGSIZE);
    assert_int_equal(ust_shmq_receive(q, buf, 16, NULL, NULL, 0, NULL), 16);
    /* System V: E2BIG leaves the message queued; MSG_NOERROR truncates. */
    assert_int_equal(ust_shmq_receive(q, buf, 4, NULL, NULL, UST_SHMQ_SYSV_LEN, NULL), -E2BIG);
    assert_int_equal(ust_shmq_receive(q, buf, 4, NULL, NULL,
                                      UST_SHMQ_SYSV_LEN | UST_SHMQ_NOERROR, NULL), 4);
    assert_memory_equal(buf, "0123", 4);
    struct ust_shmq_info info;
    assert_int_equal(ust_shmq_getattr(q, &info), 0);
    assert_int_equal(info.curmsgs, 0);
    assert_int_equal(info.bytes, 0);
    /* Access: a read-only handle cannot send, a write-only one cannot receive. */
    struct ust_shmq *ro = NULL, *wo = NULL;
    assert_int_equal(ust_shmq_open(NULL, KIND, name, 0, UST_SHMQ_RD, NULL, &ro), 0);
    assert_int_equal(ust_shmq_open(NULL, KIND, name, 0, UST_SHMQ_WR, NULL, &wo), 0);
    assert_int_equal(ust_shmq_send(ro, "x", 1, 0, 0, NULL), -EBADF);
    assert_int_equal(ust_shmq_receive(wo, buf, 16, NULL, NULL, 0, NULL), -EBADF);
    ust_shmq_close(ro);
    ust_shmq_close(wo);
    ust_shmq_close(q);
    assert_int_equal(ust_shmq_unlink(NULL, KIND, name), 0);
}

static void test_shmq_byte_limit_sysv_qbytes(void **state)
{
    (void)state;
    char name[64];
    qname(name, sizeof(name), 4);
    struct ust_shmq_attr a = { .maxmsg = 16, .msgsize = 64, .max_bytes = 100, .mode = 0600 };
    struct ust_shmq *q = NULL;
    assert_int_equal(ust_shmq_open(NULL, KIND, name, O_CREAT | O_EXCL, UST_SHMQ_RD | UST_SHMQ_WR, &a,
                                   &q), 0);
    char m[64] = { 0 };
    assert_int_equal(ust_shmq_send(q, m, 60, 1, UST_SHMQ_NONBLOCK, NULL), 0);
    assert_int_equal(ust_shmq_send(q, m, 41, 1, UST_SHMQ_NONBLOCK, NULL), -EAGAIN);
    assert_int_equal(ust_shmq_send(q, m, 40, 1, UST_SHMQ_NONBLOCK, NULL), 0);
    ust_shmq_close(q);
    assert_int_equal(ust_shmq_unlink(NULL, KIND, name), 0);
}

/* mq_timedreceive(3): ETIMEDOUT on expiry, at once for a past deadline;
 * EINVAL for a bad timespec only when the call would block. */
static void test_shmq_timeouts_monotonic_and_realtime(void **state)
{
    (void)state;
    char name[64], buf[64];
    qname(name, sizeof(name), 5);
    struct ust_shmq *q = mk(name, 1, 64, UST_SHMQ_PRIO, UST_SHMQ_RD | UST_SHMQ_WR);
    struct timespec past = { 0, 0 };
    assert_int_equal(ust_shmq_receive(q, buf, 64, NULL, NULL, 0, &past), -ETIMEDOUT);
    struct timespec soon = mono_in_ms(20);
    assert_int_equal(ust_shmq_receive(q, buf, 64, NULL, NULL, 0, &soon), -ETIMEDOUT);
    struct timespec rt;
    clock_gettime(CLOCK_REALTIME, &rt);
    rt.tv_nsec = 0;
    rt.tv_sec += 0;                     /* at most a second away, usually past */
    assert_int_equal(ust_shmq_receive(q, buf, 64, NULL, NULL, UST_SHMQ_REALTIME, &rt),
                     -ETIMEDOUT);
    struct timespec bad = { 0, 1000000000L };
    assert_int_equal(ust_shmq_receive(q, buf, 64, NULL, NULL, 0, &bad), -EINVAL);
    send_str(q, "m", 4);
    /* Would not block: the bad timeout is not looked at. */
    assert_int_equal(ust_shmq_receive(q, buf, 64, NULL, NULL, 0, &bad), 1);
    send_str(q, "m", 4);
    assert_int_equal(ust_shmq_send(q, "n", 1, 0, 0, &bad), -EINVAL);
    soon = mono_in_ms(20);
    assert_int_equal(ust_shmq_send(q, "n", 1, 0, 0, &soon), -ETIMEDOUT);
    ust_shmq_close(q);
    assert_int_equal(ust_shmq_unlink(NULL, KIND, name), 0);
}

static void test_shmq_open_eexist_enoent_einval(void **state)
{
    (void)state;
    char name[64];
    qname(name, sizeof(name), 6);
    struct ust_shmq *q = NULL, *q2 = NULL;
    struct ust_shmq_attr a = { .maxmsg = 4, .msgsize = 32, .mode = 0600 };
    assert_int_equal(ust_shmq_open(NULL, KIND, name, 0, UST_SHMQ_RD, NULL, &q), -ENOENT);
    assert_int_equal(ust_shmq_open(NULL, KIND, name, O_CREAT | O_EXCL, UST_SHMQ_RD, &a, &q), 0);
    assert_int_equal(ust_shmq_open(NULL, KIND, name, O_CREAT | O_EXCL, UST_SHMQ_RD, &a, &q2), -EEXIST);
    /* O_CREAT without O_EXCL opens the existing object, whatever attr says. */
    struct ust_shmq_attr other = { .maxmsg = 9, .msgsize = 9, .mode = 0600 };
    assert_int_equal(ust_shmq_open(NULL, KIND, name, O_CREAT, UST_SHMQ_RD, &other, &q2), 0);
    struct ust_shmq_info info;
    assert_int_equal(ust_shmq_getattr(q2, &info), 0);
    assert_int_equal(info.maxmsg, 4);
    assert_int_equal(info.msgsize, 32);
    assert_int_equal(info.readers, 2);
    ust_shmq_close(q2);
    ust_shmq_close(q);
    struct ust_shmq_attr zero = { .maxmsg = 0, .msgsize = 32, .mode = 0600 };
    assert_int_equal(ust_shmq_open(NULL, KIND, "zz", O_CREAT, UST_SHMQ_RD, &zero, &q), -EINVAL);
    assert_int_equal(ust_shmq_open(NULL, KIND, "a/b", O_CREAT, UST_SHMQ_RD, &a, &q), -EINVAL);
    assert_int_equal(ust_shmq_open(NULL, "Bad", name, 0, UST_SHMQ_RD, NULL, &q), -EINVAL);
    char longname[UST_SHMQ_NAME_MAX + 2];
    memset(longname, 'x', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    assert_int_equal(ust_shmq_open(NULL, KIND, longname, 0, UST_SHMQ_RD, NULL, &q), -ENAMETOOLONG);
    /* The file is created with the object's name, not left half-made. */
    char path[512];
    assert_int_equal(ust_shmq_path(NULL, KIND, name, path, sizeof(path)), 0);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(ust_shmq_unlink(NULL, KIND, name), 0);
    assert_int_equal(ust_shmq_unlink(NULL, KIND, name), -ENOENT);
}

/* mq_unlink(3): the name goes at once, open handles keep the queue, and a
 * new queue of the same name is a different one. */
static void test_shmq_unlink_while_open_keeps_queue(void **state)
{
    (void)state;
    char name[64];
    qname(name, sizeof(name), 7);
    struct ust_shmq *q = mk(name, 4, 32, UST_SHMQ_PRIO, UST_SHMQ_RD | UST_SHMQ_WR);
    send_str(q, "old", 1);
    assert_int_equal(ust_shmq_unlink(NULL, KIND, name), 0);
    struct ust_shmq *q2 = NULL;
    assert_int_equal(ust_shmq_open(NULL, KIND, name, 0, UST_SHMQ_RD, NULL, &q2), -ENOENT);
    q2 = mk(name, 4, 32, UST_SHMQ_PRIO, UST_SHMQ_RD | UST_SHMQ_WR);
    send_str(q2, "new", 1);
    send_str(q, "old2", 1);
    expect_str(q, "old", 1, NULL);
    expect_str(q, "old2", 1, NULL);
    expect_str(q2, "new", 1, NULL);
    ust_shmq_close(q);
    ust_shmq_close(q2);
    assert_int_equal(ust_shmq_unlink(NULL, KIND, name), 0);
}

/* mode bits against another uid (ipcperms): needs root to become nobody. */
static void test_shmq_eacces_for_other_user(void **state)
{
    (void)state;
    if (geteuid() != 0)
        skip();
    char n1[64], n2[64];
    qname(n1, sizeof(n1), 8);
    qname(n2, sizeof(n2), 9);
    struct ust_shmq_attr a = { .maxmsg = 4, .msgsize = 32, .mode = 0600 };
    struct ust_shmq_attr b = { .maxmsg = 4, .msgsize = 32, .mode = 0644 };
    struct ust_shmq *q1 = NULL, *q2 = NULL;
    assert_int_equal(ust_shmq_open(NULL, KIND, n1, O_CREAT | O_EXCL, UST_SHMQ_RD, &a, &q1), 0);
    assert_int_equal(ust_shmq_open(NULL, KIND, n2, O_CREAT | O_EXCL, UST_SHMQ_RD, &b, &q2), 0);
    pid_t pid = fork_child();
    if (pid == 0) {
        if (setgid(65534) < 0 || setuid(65534) < 0)
            _exit(10);
        struct ust_shmq *c = NULL;
        if (ust_shmq_open(NULL, KIND, n1, 0, UST_SHMQ_RD, NULL, &c) != -EACCES)
            _exit(1);
        if (ust_shmq_open(NULL, KIND, n2, 0, UST_SHMQ_WR, NULL, &c) != -EACCES)
            _exit(2);
        if (ust_shmq_open(NULL, KIND, n2, 0, UST_SHMQ_RD, NULL, &c) != 0)
            _exit(3);
        ust_shmq_close(c);
        _exit(0);
    }
    assert_int_equal(wait_child(pid), 0);
    ust_shmq_close(q1);
    ust_shmq_close(q2);
    assert_int_equal(ust_shmq_unlink(NULL, KIND, n1), 0);
    assert_int_equal(ust_shmq_unlink(NULL, KIND, n2), 0);
}

/* Two processes, each opening the queue by name: 20000 messages with mixed
 * priorities through a 4-slot queue, so both sides block and wake each
 * other; every message arrives once, FIFO within each priority. */
static void test_shmq_fork_blocking_traffic_in_order(void **state)
{
    (void)state;
    char name[64];
    qname(name, sizeof(name), 10);
    struct ust_shmq *q = mk(name, 4, 64, UST_SHMQ_PRIO, UST_SHMQ_RD);
    enum { N = 20000, PRIOS = 4 };
    pid_t pid = fork_child();
    if (pid == 0) {
        struct ust_shmq *c = NULL;
        if (ust_shmq_open(NULL, KIND, name, 0, UST_SHMQ_WR, NULL, &c) != 0)
            _exit(1);
        uint32_t seq[PRIOS] = { 0 };
        for (uint32_t i = 0; i < N; i++) {
            uint32_t p = (i * 7u + i / 3u) % PRIOS;
            uint32_t m[2] = { p, seq[p]++ };
            struct timespec d = mono_in_ms(10000);
            if (ust_shmq_send(c, m, sizeof(m), p, 0, &d) != 0)
                _exit(2);
        }
        ust_shmq_close(c);
        _exit(0);
    }
    uint32_t next[PRIOS] = { 0 };
    for (uint32_t i = 0; i < N; i++) {
        uint32_t m[16];
        int64_t key;
        struct timespec d = mono_in_ms(10000);
        assert_int_equal(ust_shmq_receive(q, m, sizeof(m), &key, NULL, 0, &d), 8);
        assert_true(m[0] < PRIOS);
        assert_int_equal(key, m[0]);
        assert_int_equal(m[1], next[m[0]]);
        next[m[0]]++;
    }
    assert_int_equal(wait_child(pid), 0);
    assert_int_equal(next[0] + next[1] + next[2] + next[3], N);
    ust_shmq_close(q);
    assert_int_equal(ust_shmq_unlink(NULL, KIND, name), 0);
}

/* IPC_RMID: a receiver blocked in another process wakes with EIDRM. */
static void test_shmq_remove_wakes_blocked_receiver_in_other_process(void **state)
{
    (void)state;
    char name[64];
    qname(name, sizeof(name), 11);
    struct ust_shmq *q = mk(name, 4, 64, 0, UST_SHMQ_RD | UST_SHMQ_WR);
    pid_t pid = fork_child();
    if (pid == 0) {
        struct ust_shmq *c = NULL;
        if (ust_shmq_open(NULL, KIND, name, 0, UST_SHMQ_RD, NULL, &c) != 0)
            _exit(1);
        char buf[64];
        struct timespec d = mono_in_ms(20000);
        ssize_t r = ust_shmq_receive(c, buf, sizeof(buf), NULL, NULL, 0, &d);
        _exit(r == -EIDRM ? 0 : 2);
    }
    /* Wait (bounded) until the child is a holder, then until it sleeps. */
    await_holders(q, UST_SHMQ_RD, 2);
    assert_int_equal(ust_shmq_remove(q), 0);
    assert_int_equal(wait_child(pid), 0);
    char buf[64];
    assert_int_equal(ust_shmq_send(q, "x", 1, 1, 0, NULL), -EIDRM);
    assert_int_equal(ust_shmq_receive(q, buf, 64, NULL, NULL, 0, NULL), -EIDRM);
    struct ust_shmq *q2 = NULL;
    assert_int_equal(ust_shmq_open(NULL, KIND, name, 0, UST_SHMQ_RD, NULL, &q2), -ENOENT);
    ust_shmq_close(q);
}

/* Pipe-like peer death: once the only writer is SIGKILLed (here while
 * blocked on a full queue), a HUP receiver drains the queue, then gets EPIPE
 * (end of file) instead of waiting; likewise a HUP sender gets EPIPE once
 * the only reader is killed. The deadline only bounds a failure. */
static void test_shmq_peer_sigkill_gives_eof_and_epipe(void **state)
{
    (void)state;
    char name[64], buf[64];
    qname(name, sizeof(name), 12);
    struct ust_shmq *q = mk(name, 2, 64, 0, UST_SHMQ_RD);
    assert_int_equal(ust_shmq_holders(q, UST_SHMQ_WR), 0);
    pid_t pid = fork_child();
    if (pid == 0) {
        struct ust_shmq *c = NULL;
        if (ust_shmq_open(NULL, KIND, name, 0, UST_SHMQ_WR, NULL, &c) != 0)
            _exit(1);
        for (;;)
            ust_shmq_send(c, "w", 1, 1, 0, NULL);   /* blocks when full */
    }
    await_holders(q, UST_SHMQ_WR, 1);
    struct timespec d = mono_in_ms(20000);
    assert_int_equal(ust_shmq_receive(q, buf, 64, NULL, NULL, UST_SHMQ_HUP, &d), 1);
    kill(pid, SIGKILL);
    /* Not reaped yet: a zombie must already count as dead. */
    int got = 0;
    ssize_t r;
    d = mono_in_ms(20000);
    while ((r = ust_shmq_receive(q, buf, 64, NULL, NULL, UST_SHMQ_HUP, &d)) == 1)
        got++;
    assert_int_equal(r, -EPIPE);
    assert_true(got <= 2);
    assert_int_equal(ust_shmq_holders(q, UST_SHMQ_WR), 0);
    assert_int_equal(wait_child(pid), 128 + SIGKILL);
    ust_shmq_close(q);

    /* The other direction: a writer and a reader that dies. */
    struct ust_shmq *w = NULL;
    assert_int_equal(ust_shmq_open(NULL, KIND, name, 0, UST_SHMQ_WR, NULL, &w), 0);
    pid = fork_child();
    if (pid == 0) {
        struct ust_shmq *c = NULL;
        if (ust_shmq_open(NULL, KIND, name, 0, UST_SHMQ_RD, NULL, &c) != 0)
            _exit(1);
        for (;;)
            pause();
    }
    await_holders(w, UST_SHMQ_RD, 1);
    assert_int_equal(ust_shmq_send(w, "a", 1, 1, UST_SHMQ_HUP, NULL), 0);
    assert_int_equal(ust_shmq_send(w, "b", 1, 1, UST_SHMQ_HUP, NULL), 0);
    kill(pid, SIGKILL);
    d = mono_in_ms(20000);
    assert_int_equal(ust_shmq_send(w, "c", 1, 1, UST_SHMQ_HUP, &d), -EPIPE);
    assert_int_equal(wait_child(pid), 128 + SIGKILL);
    ust_shmq_close(w);
    assert_int_equal(ust_shmq_unlink(NULL, KIND, name), 0);
}

/* fork: a child that re-registers its inherited handle keeps the write side
 * alive after the parent closes its own; its death then gives EOF. */
static void test_shmq_inherited_handle_after_fork_counts_as_holder(void **state)
{
    (void)state;
    char name[64], buf[64];
    qname(name, sizeof(name), 14);
    struct ust_shmq *r = mk(name, 4, 64, 0, UST_SHMQ_RD);
    struct ust_shmq *w = NULL;
    assert_int_equal(ust_shmq_open(NULL, KIND, name, 0, UST_SHMQ_WR, NULL, &w), 0);
    int go[2];
    assert_int_equal(pipe(go), 0);
    pid_t pid = fork_child();
    if (pid == 0) {
        if (ust_shmq_after_fork(w) != 0)
            _exit(1);
        if (ust_shmq_send(w, "c", 1, 1, 0, NULL) != 0)
            _exit(2);
        char c;
        if (read(go[0], &c, 1) != 1)
            _exit(3);
        _exit(0);                       /* exits without closing */
    }
    struct timespec d = mono_in_ms(20000);
    assert_int_equal(ust_shmq_receive(r, buf, 64, NULL, NULL, UST_SHMQ_HUP, &d), 1);
    ust_shmq_close(w);                  /* the parent's write side goes */
    assert_int_equal(ust_shmq_holders(r, UST_SHMQ_WR), 1);
    assert_int_equal(ust_shmq_receive(r, buf, 64, NULL, NULL, UST_SHMQ_HUP | UST_SHMQ_NONBLOCK,
                                      NULL), -EAGAIN);
    assert_int_equal(write(go[1], "g", 1), 1);
    assert_int_equal(wait_child(pid), 0);
    d = mono_in_ms(20000);
    assert_int_equal(ust_shmq_receive(r, buf, 64, NULL, NULL, UST_SHMQ_HUP, &d), -EPIPE);
    close(go[0]);
    close(go[1]);
    ust_shmq_close(r);
    assert_int_equal(ust_shmq_unlink(NULL, KIND, name), 0);
}

struct found {
    const char *want[2];
    int seen[2];
};

static int list_cb(void *arg, const char *kind, const char *name)
{
    struct found *f = arg;
    for (int i = 0; i < 2; i++)
        if (strcmp(kind, KIND) == 0 && strcmp(name, f->want[i]) == 0)
            f->seen[i]++;
    return 0;
}

/* ipcs: the objects are listed by kind and name, and an access-0 handle
 * reads their attributes and holders. */
static void test_shmq_list_finds_objects_and_stats_them(void **state)
{
    (void)state;
    char n1[64], n2[64];
    qname(n1, sizeof(n1), 15);
    qname(n2, sizeof(n2), 16);
    struct ust_shmq *q1 = mk(n1, 3, 32, UST_SHMQ_PRIO, UST_SHMQ_RD);
    struct ust_shmq *q2 = mk(n2, 5, 16, 0, UST_SHMQ_WR);
    send_str(q2, "abc", 1);
    struct found f = { { n1, n2 }, { 0, 0 } };
    assert_int_equal(ust_shmq_list(NULL, list_cb, &f), 0);
    assert_int_equal(f.seen[0], 1);
    assert_int_equal(f.seen[1], 1);
    struct ust_shmq *s = NULL;
    assert_int_equal(ust_shmq_open(NULL, KIND, n2, 0, 0, NULL, &s), 0);
    struct ust_shmq_info info;
    assert_int_equal(ust_shmq_getattr(s, &info), 0);
    assert_int_equal(info.maxmsg, 5);
    assert_int_equal(info.curmsgs, 1);
    assert_int_equal(info.bytes, 3);
    assert_int_equal(info.writers, 1);
    assert_int_equal(info.readers, 0);
    assert_int_equal(info.last_send_pid, getpid());
    ust_shmq_close(s);
    ust_shmq_close(q1);
    ust_shmq_close(q2);
    assert_int_equal(ust_shmq_unlink(NULL, KIND, n1), 0);
    assert_int_equal(ust_shmq_unlink(NULL, KIND, n2), 0);
}

/* Opt-in: the name vanishes when the last holder closes (even if another
 * holder died without closing). */
static void test_shmq_autoremove_on_last_close(void **state)
{
    (void)state;
    char name[64];
    qname(name, sizeof(name), 13);
    struct ust_shmq *q = mk(name, 2, 16, UST_SHMQ_AUTOREMOVE, UST_SHMQ_RD | UST_SHMQ_WR);
    pid_t pid = fork_child();
    if (pid == 0) {
        struct ust_shmq *c = NULL;
        if (ust_shmq_open(NULL, KIND, name, 0, UST_SHMQ_WR, NULL, &c) != 0)
            _exit(1);
        kill(getpid(), SIGKILL);        /* dies holding it open */
        _exit(2);
    }
    assert_int_equal(wait_child(pid), 128 + SIGKILL);
    struct ust_shmq *q2 = NULL;
    assert_int_equal(ust_shmq_open(NULL, KIND, name, 0, UST_SHMQ_RD, NULL, &q2), 0);
    ust_shmq_close(q2);                 /* q still holds it: the name stays */
    assert_int_equal(ust_shmq_open(NULL, KIND, name, 0, UST_SHMQ_RD, NULL, &q2), 0);
    ust_shmq_close(q2);
    ust_shmq_close(q);
    assert_int_equal(ust_shmq_open(NULL, KIND, name, 0, UST_SHMQ_RD, NULL, &q2), -ENOENT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shmq_prio_order_highest_first_fifo_within),
        cmocka_unit_test(test_shmq_sysv_type_selection),
        cmocka_unit_test(test_shmq_errors_eagain_emsgsize_e2big_ebadf),
        cmocka_unit_test(test_shmq_byte_limit_sysv_qbytes),
        cmocka_unit_test(test_shmq_timeouts_monotonic_and_realtime),
        cmocka_unit_test(test_shmq_open_eexist_enoent_einval),
        cmocka_unit_test(test_shmq_unlink_while_open_keeps_queue),
        cmocka_unit_test(test_shmq_eacces_for_other_user),
        cmocka_unit_test(test_shmq_fork_blocking_traffic_in_order),
        cmocka_unit_test(test_shmq_remove_wakes_blocked_receiver_in_other_process),
        cmocka_unit_test(test_shmq_peer_sigkill_gives_eof_and_epipe),
        cmocka_unit_test(test_shmq_inherited_handle_after_fork_counts_as_holder),
        cmocka_unit_test(test_shmq_list_finds_objects_and_stats_them),
        cmocka_unit_test(test_shmq_autoremove_on_last_close),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
