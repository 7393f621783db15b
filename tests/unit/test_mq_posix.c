/* POSIX message queues without a stack thread: the LTP checks mq_open01,
 * mq_unlink01, mq_timedsend01, mq_timedreceive01, mq_notify01/02 (those
 * that need no second thread) and the "not covered by LTP" list: priority
 * order with FIFO within a priority, poll readiness, one-shot notify,
 * unlink while open (and re-creating the name), EINVAL for a bad timeout
 * only when the call would block; plus ustack's priority-range receive and
 * limits. Without a stack thread a call that would block fails at once. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "unit/ipc_dir_test_util.h"

#include <ustack/ustack.h>

static struct ust_stack *new_stack(void)
{
    struct ust_stack_config c;
    ust_stack_config_init(&c);
    c.seed = 7;
    struct ust_stack *s = ust_stack_new(&c);
    assert_non_null(s);
    return s;
}

static struct mq_attr attr_of(long maxmsg, long msgsize)
{
    struct mq_attr a = { .mq_maxmsg = maxmsg, .mq_msgsize = msgsize };
    return a;
}

static int open_rw(struct ust_stack *s, const char *name, long maxmsg, long msgsize)
{
    struct mq_attr a = attr_of(maxmsg, msgsize);
    int q = ust_mq_open(s, name, O_RDWR | O_CREAT, 0600, &a);
    assert_true(q >= 0);
    return q;
}

static void expect_err(long r, int err)
{
    assert_int_equal(r, -1);
    assert_int_equal(errno, err);
}

static struct timespec realtime_in(long sec)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += sec;
    return ts;
}

/* mq_open01: attributes, defaults, name length, EINVAL, EEXIST, ENOENT,
 * EACCES, EMFILE, ENOSPC. */
static void test_mq_open01_create_with_attributes_and_defaults(void **state)
{
    (void)state;
    struct ust_stack_config c;
    ust_stack_config_init(&c);
    c.mq_maxmsg_max = 20;
    c.mq_msgsize_max = 16384;
    c.mq_bytes_max = 1u << 20;
    struct ust_stack *s = ust_stack_new(&c);
    struct mq_attr a = attr_of(20, 16384), got;
    int q = ust_mq_open(s, "/attrs", O_RDWR | O_CREAT, 0600, &a);
    assert_true(q >= 0);
    assert_int_equal(ust_mq_getattr(s, q, &got), 0);
    assert_int_equal(got.mq_maxmsg, 20);
    assert_int_equal(got.mq_msgsize, 16384);
    assert_int_equal(got.mq_curmsgs, 0);
    assert_int_equal(got.mq_flags, 0);
    int d = ust_mq_open(s, "/defaults", O_RDWR | O_CREAT, 0600, NULL);
    assert_true(d >= 0);
    assert_int_equal(ust_mq_getattr(s, d, &got), 0);
    assert_int_equal(got.mq_maxmsg, 10);
    assert_int_equal(got.mq_msgsize, 8192);
    /* Linux sets FD_CLOEXEC on every queue descriptor. */
    assert_int_equal(ust_fcntl(s, d, F_GETFD), FD_CLOEXEC);
    ust_stack_free(s);
}

static void test_mq_open01_name_rules(void **state)
{
    (void)state;
    struct ust_stack *s = new_stack();
    char name[258];
    name[0] = '/';
    memset(name + 1, 'a', 255);
    name[256] = '\0';
    int q = ust_mq_open(s, name, O_RDWR | O_CREAT, 0600, NULL);   /* 255 after '/' */
    assert_true(q >= 0);
    assert_int_equal(ust_mq_unlink(s, name), 0);
    name[256] = 'a';
    name[257] = '\0';
    expect_err(ust_mq_open(s, name, O_RDWR | O_CREAT, 0600, NULL), ENAMETOOLONG);
    expect_err(ust_mq_open(s, "", O_RDWR | O_CREAT, 0600, NULL), EINVAL);
    expect_err(ust_mq_open(s, "noslash", O_RDWR | O_CREAT, 0600, NULL), EINVAL);
    expect_err(ust_mq_open(s, "/", O_RDWR | O_CREAT, 0600, NULL), ENOENT);
    expect_err(ust_mq_open(s, "/a/b", O_RDWR | O_CREAT, 0600, NULL), EACCES);
    ust_stack_free(s);
}

static void test_mq_open01_errors(void **state)
{
    (void)state;
    struct ust_stack *s = new_stack();
    expect_err(ust_mq_open(s, "/missing", O_RDWR), ENOENT);
    int q = open_rw(s, "/q", 4, 64);
    expect_err(ust_mq_open(s, "/q", O_RDWR | O_CREAT | O_EXCL, 0600, NULL), EEXIST);
    int q2 = ust_mq_open(s, "/q", O_RDWR | O_CREAT, 0600, NULL);     /* exists: opens */
    assert_true(q2 >= 0 && q2 != q);
    struct mq_attr bad = attr_of(0, 64);
    expect_err(ust_mq_open(s, "/bad", O_RDWR | O_CREAT, 0600, &bad), EINVAL);
    bad = attr_of(4, 0);
    expect_err(ust_mq_open(s, "/bad", O_RDWR | O_CREAT, 0600, &bad), EINVAL);
    bad = attr_of(11, 64);      /* above msg_max for an unprivileged caller */
    expect_err(ust_mq_open(s, "/bad", O_RDWR | O_CREAT, 0600, &bad), EINVAL);
    bad = attr_of(4, 8193);
    expect_err(ust_mq_open(s, "/bad", O_RDWR | O_CREAT, 0600, &bad), EINVAL);
    expect_err(ust_mq_open(s, "/bad", O_ACCMODE | O_CREAT, 0600, NULL), EINVAL);
    /* EACCES: the mode grants the owner nothing (no root override). */
    int r = ust_mq_open(s, "/locked", O_RDWR | O_CREAT, 0000, NULL);
    assert_true(r >= 0);
    expect_err(ust_mq_open(s, "/locked", O_RDONLY), EACCES);
    expect_err(ust_mq_open(s, "/locked", O_WRONLY), EACCES);
    int ro = ust_mq_open(s, "/ro", O_RDONLY | O_CREAT, 0400, NULL);
    assert_true(ro >= 0);
    expect_err(ust_mq_open(s, "/ro", O_WRONLY), EACCES);
    assert_true(ust_mq_open(s, "/ro", O_RDONLY) >= 0);
    ust_stack_free(s);
}

static void test_mq_open01_emfile_when_descriptors_run_out(void **state)
{
    (void)state;
    struct ust_stack_config c;
    ust_stack_config_init(&c);
    c.max_fds = 3;
    struct ust_stack *s = ust_stack_new(&c);
    int q = open_rw(s, "/q", 2, 16);
    for (int i = 0; i < 2; i++)
        assert_true(ust_mq_open(s, "/q", O_RDWR) >= 0);
    expect_err(ust_mq_open(s, "/q", O_RDWR), EMFILE);
    expect_err(ust_mq_open(s, "/new", O_RDWR | O_CREAT, 0600, NULL), EMFILE);
    /* Nothing was created by the failed call. */
    assert_int_equal(ust_close(s, q), 0);
    expect_err(ust_mq_open(s, "/new", O_RDWR), ENOENT);
    ust_stack_free(s);
}

static void test_mq_open01_enospc_at_queues_max(void **state)
{
    (void)state;
    struct ust_stack_config c;
    ust_stack_config_init(&c);
    c.mq_queues_max = 3;
    struct ust_stack *s = ust_stack_new(&c);
    char name[16];
    for (int i = 0; i < 3; i++) {
        snprintf(name, sizeof(name), "/q%d", i);
        assert_true(ust_mq_open(s, name, O_RDWR | O_CREAT, 0600, NULL) >= 0);
    }
    expect_err(ust_mq_open(s, "/q3", O_RDWR | O_CREAT, 0600, NULL), ENOSPC);
    /* An unlinked queue still open still counts (Linux frees it on last close). */
    assert_int_equal(ust_mq_unlink(s, "/q0"), 0);
    expect_err(ust_mq_open(s, "/q3", O_RDWR | O_CREAT, 0600, NULL), ENOSPC);
    assert_int_equal(ust_close(s, 0), 0);
    assert_true(ust_mq_open(s, "/q3", O_RDWR | O_CREAT, 0600, NULL) >= 0);
    ust_stack_free(s);
}

/* RLIMIT_MSGQUEUE: Linux answers EMFILE; memory is given back on close. */
static void test_mq_open_total_bytes_limit_gives_emfile(void **state)
{
    (void)state;
    struct ust_stack_config c;
    ust_stack_config_init(&c);
    c.mq_bytes_max = 3 * 10 * 8192;
    struct ust_stack *s = ust_stack_new(&c);
    assert_true(ust_mq_open(s, "/a", O_RDWR | O_CREAT, 0600, NULL) >= 0);
    assert_true(ust_mq_open(s, "/b", O_RDWR | O_CREAT, 0600, NULL) >= 0);
    expect_err(ust_mq_open(s, "/c", O_RDWR | O_CREAT, 0600, NULL), EMFILE);
    assert_int_equal(ust_mq_unlink(s, "/a"), 0);
    assert_int_equal(ust_close(s, 0), 0);
    assert_true(ust_mq_open(s, "/c", O_RDWR | O_CREAT, 0600, NULL) >= 0);
    ust_stack_free(s);
}

/* mq_unlink01: success, ENOENT for a 255-character missing name, ENAMETOOLONG. */
static void test_mq_unlink01(void **state)
{
    (void)state;
    struct ust_stack *s = new_stack();
    int q = open_rw(s, "/u", 2, 16);
    assert_int_equal(ust_close(s, q), 0);
    assert_int_equal(ust_mq_unlink(s, "/u"), 0);
    expect_err(ust_mq_open(s, "/u", O_RDWR), ENOENT);
    expect_err(ust_mq_unlink(s, "/u"), ENOENT);
    char name[258];
    name[0] = '/';
    memset(name + 1, 'x', 255);
    name[256] = '\0';
    expect_err(ust_mq_unlink(s, name), ENOENT);
    name[256] = 'x';
    name[257] = '\0';
    expect_err(ust_mq_unlink(s, name), ENAMETOOLONG);
    ust_stack_free(s);
}

/* Unlink while open: the name goes, descriptors keep working, and a new
 * queue may take the name meanwhile. */
static void test_mq_unlink_while_open_keeps_queue_and_frees_name(void **state)
{
    (void)state;
    struct ust_stack *s = new_stack();
    int old = open_rw(s, "/n", 4, 16);
    assert_int_equal(ust_mq_send(s, old, "old", 3, 0), 0);
    assert_int_equal(ust_mq_unlink(s, "/n"), 0);
    expect_err(ust_mq_open(s, "/n", O_RDWR), ENOENT);
    int fresh = open_rw(s, "/n", 4, 16);
    struct mq_attr a;
    assert_int_equal(ust_mq_getattr(s, fresh, &a), 0);
    assert_int_equal(a.mq_curmsgs, 0);
    char buf[16];
    assert_int_equal(ust_mq_receive(s, old, buf, sizeof(buf), NULL), 3);
    assert_memory_equal(buf, "old", 3);
    assert_int_equal(ust_mq_send(s, old, "again", 5, 0), 0);
    assert_int_equal(ust_mq_close(s, old), 0);
    assert_int_equal(ust_mq_getattr(s, fresh, &a), 0);
    assert_int_equal(a.mq_curmsgs, 0);
    ust_stack_free(s);
}

/* mq_timedsend01: lengths 0, 1, msgsize and priority MQ_PRIO_MAX-1; EMSGSIZE;
 * EBADF (bad, INT_MAX-1, non-mq, read-only); EAGAIN; EINVAL (priority,
 * timeout only when blocking); ETIMEDOUT for an expired timeout. */
static void test_mq_timedsend01(void **state)
{
    (void)state;
    struct ust_stack *s = new_stack();
    int q = open_rw(s, "/ts", 3, 8192);
    static char big[8193];
    struct timespec ts = realtime_in(10);
    assert_int_equal(ust_mq_timedsend(s, q, big, 0, 0, &ts), 0);
    assert_int_equal(ust_mq_timedsend(s, q, big, 1, 0, &ts), 0);
    assert_int_equal(ust_mq_timedsend(s, q, big, 8192, UST_MQ_PRIO_MAX - 1, &ts), 0);
    expect_err(ust_mq_timedsend(s, q, big, 8193, 0, &ts), EMSGSIZE);
    expect_err(ust_mq_timedsend(s, q, big, 1, UST_MQ_PRIO_MAX, &ts), EINVAL);
    expect_err(ust_mq_timedsend(s, -1, big, 1, 0, &ts), EBADF);
    expect_err(ust_mq_timedsend(s, INT_MAX - 1, big, 1, 0, &ts), EBADF);
    int msgq = ust_msgq_fd(s, ust_msgget(s, IPC_PRIVATE, 0600));
    expect_err(ust_mq_timedsend(s, msgq, big, 1, 0, &ts), EBADF);
    int ro = ust_mq_open(s, "/ts", O_RDONLY);
    expect_err(ust_mq_timedsend(s, ro, big, 1, 0, &ts), EBADF);
    /* Full: a bad timeout is EINVAL now that the call would block... */
    struct timespec bad[] = { { -1, 0 }, { 0, -1 }, { 0, 1000000000 } };
    for (size_t i = 0; i < 3; i++)
        expect_err(ust_mq_timedsend(s, q, big, 1, 0, &bad[i]), EINVAL);
    /* ... an expired one ETIMEDOUT, and O_NONBLOCK EAGAIN. */
    struct timespec past = { 1, 0 };
    expect_err(ust_mq_timedsend(s, q, big, 1, 0, &past), ETIMEDOUT);
    struct mq_attr nb = { .mq_flags = O_NONBLOCK };
    assert_int_equal(ust_mq_setattr(s, q, &nb, NULL), 0);
    expect_err(ust_mq_timedsend(s, q, big, 1, 0, &ts), EAGAIN);
    expect_err(ust_mq_send(s, q, big, 1, 0), EAGAIN);
    ust_stack_free(s);
}

/* The timeout is only checked when the call would block (mq_send(3)). */
static void test_mq_bad_timeout_einval_only_when_call_would_block(void **state)
{
    (void)state;
    struct ust_stack *s = new_stack();
    int q = open_rw(s, "/bt", 1, 16);
    struct timespec bad = { 0, 1000000000 };
    char buf[16];
    expect_err(ust_mq_timedreceive(s, q, buf, sizeof(buf), NULL, &bad), EINVAL);   /* empty */
    assert_int_equal(ust_mq_timedsend(s, q, "x", 1, 0, &bad), 0);                 /* room */
    expect_err(ust_mq_timedsend(s, q, "y", 1, 0, &bad), EINVAL);                  /* full */
    assert_int_equal(ust_mq_timedreceive(s, q, buf, sizeof(buf), NULL, &bad), 1); /* ready */
    ust_stack_free(s);
}

/* mq_timedreceive01: the same matrix for receive, EMSGSIZE for a buffer
 * smaller than mq_msgsize even if the message fits, priority reported. */
static void test_mq_timedreceive01(void **state)
{
    (void)state;
    struct ust_stack *s = new_stack();
    int q = open_rw(s, "/tr", 3, 8192);
    static char buf[8192];
    struct timespec ts = realtime_in(10);
    unsigned prio = 0;
    assert_int_equal(ust_mq_send(s, q, "hello", 5, 17), 0);
    expect_err(ust_mq_timedreceive(s, q, buf, 8191, &prio, &ts), EMSGSIZE);
    assert_int_equal(ust_mq_timedreceive(s, q, buf, sizeof(buf), &prio, &ts), 5);
    assert_memory_equal(buf, "hello", 5);
    assert_int_equal(prio, 17);
    assert_int_equal(ust_mq_send(s, q, buf, 0, UST_MQ_PRIO_MAX - 1), 0);
    assert_int_equal(ust_mq_timedreceive(s, q, buf, sizeof(buf), &prio, &ts), 0);
    assert_int_equal(prio, UST_MQ_PRIO_MAX - 1);
    expect_err(ust_mq_timedreceive(s, -1, buf, sizeof(buf), &prio, &ts), EBADF);
    expect_err(ust_mq_timedreceive(s, INT_MAX - 1, buf, sizeof(buf), &prio, &ts), EBADF);
    int wo = ust_mq_open(s, "/tr", O_WRONLY);
    expect_err(ust_mq_timedreceive(s, wo, buf, sizeof(buf), &prio, &ts), EBADF);
    struct timespec bad[] = { { -1, 0 }, { 0, -1 }, { 0, 1000000000 } };
    for (size_t i = 0; i < 3; i++)
        expect_err(ust_mq_timedreceive(s, q, buf, sizeof(buf), &prio, &bad[i]), EINVAL);
    struct timespec past = { 1, 0 };
    expect_err(ust_mq_timedreceive(s, q, buf, sizeof(buf), &prio, &past), ETIMEDOUT);
    int nb = ust_mq_open(s, "/tr", O_RDONLY | O_NONBLOCK);
    expect_err(ust_mq_timedreceive(s, nb, buf, sizeof(buf), &prio, &ts), EAGAIN);
    ust_stack_free(s);
}

/* A private queue without a stack thread: a call that would block fails
 * at once (nothing in the process could wake it). A shared queue blocks
 * instead, on the object's futex, until another process or thread acts
 * (test_xproc_mq.c), so this rule is the private path's only. */
static void test_mq_private_receive_without_stack_thread_fails_at_once(void **state)
{
    (void)state;
    struct ust_stack_config c;
    ust_stack_config_init(&c);
    c.ipc_shared = 0;
    struct ust_stack *s = ust_stack_new(&c);
    assert_non_null(s);
    int q = open_rw(s, "/tr", 3, 8192);
    static char buf[8192];
    unsigned prio;
    expect_err(ust_mq_receive(s, q, buf, sizeof(buf), &prio), EAGAIN);
    ust_stack_free(s);
}

/* Highest priority first, FIFO within one: a1 b5 c1 d5 -> b5 d5 a1 c1. */
static void test_mq_priority_order_fifo_within_priority(void **state)
{
    (void)state;
    struct ust_stack *s = new_stack();
    int q = open_rw(s, "/p", 10, 16);
    const char *msgs[] = { "a", "b", "c", "d" };
    unsigned prios[] = { 1, 5, 1, 5 };
    for (int i = 0; i < 4; i++)
        assert_int_equal(ust_mq_send(s, q, msgs[i], 1, prios[i]), 0);
    const char *want = "bdac";
    unsigned want_prio[] = { 5, 5, 1, 1 };
    char buf[16];
    for (int i = 0; i < 4; i++) {
        unsigned p;
        assert_int_equal(ust_mq_receive(s, q, buf, sizeof(buf), &p), 1);
        assert_int_equal(buf[0], want[i]);
        assert_int_equal(p, want_prio[i]);
    }
    ust_stack_free(s);
}

/* Many priorities interleaved: the heap hands them out in (prio desc,
 * send order) order. */
static void test_mq_priority_order_many_random_priorities(void **state)
{
    (void)state;
    struct ust_stack_config c;
    ust_stack_config_init(&c);
    c.mq_maxmsg_max = 1000;
    c.mq_bytes_max = 1u << 20;
    struct ust_stack *s = ust_stack_new(&c);
    int q = open_rw(s, "/many", 1000, 8);
    unsigned seed = 1;
    for (unsigned i = 0; i < 1000; i++) {
        seed = seed * 1103515245u + 12345u;
        unsigned prio = (seed >> 16) % 20;
        uint32_t payload[2] = { prio, i };
        assert_int_equal(ust_mq_send(s, q, (const char *)payload, sizeof(payload), prio), 0);
    }
    uint32_t last[2] = { UINT32_MAX, 0 };
    for (unsigned i = 0; i < 1000; i++) {
        uint32_t got[2];
        unsigned p;
        assert_int_equal(ust_mq_receive(s, q, (char *)got, 8, &p), 8);
        assert_int_equal(got[0], p);
        if (i > 0) {
            assert_true(got[0] <= last[0]);
            if (got[0] == last[0])
                assert_true(got[1] > last[1]);
        }
        memcpy(last, got, sizeof(last));
    }
    ust_stack_free(s);
}

/* EFAULT for a NULL message buffer (mq_timedsend01 / mq_timedreceive01),
 * and for a NULL attribute buffer. */
static void test_mq_efault_for_null_buffers(void **state)
{
    (void)state;
    struct ust_stack *s = new_stack();
    int q = open_rw(s, "/f", 2, 8);
    expect_err(ust_mq_send(s, q, NULL, 1, 0), EFAULT);
    expect_err(ust_mq_receive(s, q, NULL, 8, NULL), EFAULT);
    expect_err(ust_mq_getattr(s, q, NULL), EFAULT);
    expect_err(ust_mq_setattr(s, q, NULL, NULL), EFAULT);
    expect_err(ust_mq_open(s, NULL, O_RDONLY), EFAULT);
    ust_stack_free(s);
}

/* Zero-length messages are allowed; EMSGSIZE beyond mq_msgsize. */
static void test_mq_send_zero_length_and_emsgsize(void **state)
{
    (void)state;
    struct ust_stack *s = new_stack();
    int q = open_rw(s, "/z", 2, 4);
    assert_int_equal(ust_mq_send(s, q, "", 0, 0), 0);
    expect_err(ust_mq_send(s, q, "12345", 5, 0), EMSGSIZE);
    char buf[4];
    assert_int_equal(ust_mq_receive(s, q, buf, sizeof(buf), NULL), 0);
    ust_stack_free(s);
}

/* POLLIN when non-empty, POLLOUT when not full (mqueue_poll_file). */
static void test_mq_poll_readiness_empty_partial_full(void **state)
{
    (void)state;
    struct ust_stack *s = new_stack();
    int q = open_rw(s, "/poll", 2, 8);
    int other = ust_mq_open(s, "/poll", O_RDONLY);
    struct pollfd p[2] = { { q, POLLIN | POLLOUT, 0 }, { other, POLLIN | POLLOUT, 0 } };
    assert_int_equal(ust_poll(s, p, 2, 0), 2);
    assert_int_equal(p[0].revents, POLLOUT);
    assert_int_equal(ust_mq_send(s, q, "a", 1, 0), 0);
    assert_int_equal(ust_poll(s, p, 2, 0), 2);
    assert_int_equal(p[0].revents, POLLIN | POLLOUT);
    assert_int_equal(ust_mq_send(s, q, "b", 1, 0), 0);
    assert_int_equal(ust_poll(s, p, 2, 0), 2);
    assert_int_equal(p[0].revents, POLLIN);
    assert_int_equal(p[1].revents, POLLIN);
    ust_stack_free(s);
}

static void test_mq_getattr_setattr_only_o_nonblock(void **state)
{
    (void)state;
    struct ust_stack *s = new_stack();
    int q = open_rw(s, "/attr", 3, 32);
    assert_int_equal(ust_mq_send(s, q, "x", 1, 0), 0);
    struct mq_attr nb = { .mq_flags = O_NONBLOCK }, old, now;
    assert_int_equal(ust_mq_setattr(s, q, &nb, &old), 0);
    assert_int_equal(old.mq_flags, 0);
    assert_int_equal(old.mq_curmsgs, 1);
    assert_int_equal(ust_mq_getattr(s, q, &now), 0);
    assert_int_equal(now.mq_flags, O_NONBLOCK);
    assert_int_equal(now.mq_maxmsg, 3);
    assert_int_equal(now.mq_msgsize, 32);
    struct mq_attr bad = { .mq_flags = O_NONBLOCK | O_APPEND };
    expect_err(ust_mq_setattr(s, q, &bad, NULL), EINVAL);
    expect_err(ust_mq_getattr(s, 99, &now), EBADF);
    ust_stack_free(s);
}

/* mq_notify01 (single-threaded parts): SIGEV_NONE registers, a second
 * registration is EBUSY, NULL unregisters, EBADF for bad and non-mq fds. */
static void test_mq_notify01_register_ebusy_ebadf(void **state)
{
    (void)state;
    struct ust_stack *s = new_stack();
    int q = open_rw(s, "/nt", 2, 8);
    int q2 = ust_mq_open(s, "/nt", O_RDWR);
    struct sigevent ev = { .sigev_notify = SIGEV_NONE };
    assert_int_equal(ust_mq_notify(s, q, &ev), 0);
    expect_err(ust_mq_notify(s, q, &ev), EBUSY);
    expect_err(ust_mq_notify(s, q2, &ev), EBUSY);
    assert_int_equal(ust_mq_notify(s, q, NULL), 0);
    assert_int_equal(ust_mq_notify(s, q2, &ev), 0);
    expect_err(ust_mq_notify(s, -1, &ev), EBADF);
    expect_err(ust_mq_notify(s, INT_MAX - 1, &ev), EBADF);
    int msgq = ust_msgq_fd(s, ust_msgget(s, IPC_PRIVATE, 0600));
    expect_err(ust_mq_notify(s, msgq, &ev), EBADF);
    /* Closing the description it was made through removes it. */
    assert_int_equal(ust_close(s, q2), 0);
    assert_int_equal(ust_mq_notify(s, q, &ev), 0);
    ust_stack_free(s);
}

/* mq_notify02: EINVAL for a bad sigev_notify and a signal number > _NSIG. */
static void test_mq_notify02_einval(void **state)
{
    (void)state;
    struct ust_stack *s = new_stack();
    int q = open_rw(s, "/nt2", 2, 8);
    struct sigevent ev = { .sigev_notify = -1 };
    expect_err(ust_mq_notify(s, q, &ev), EINVAL);
    ev.sigev_notify = SIGEV_SIGNAL;
    ev.sigev_signo = _NSIG + 1;
    expect_err(ust_mq_notify(s, q, &ev), EINVAL);
    ust_stack_free(s);
}

/* Takes a pending SIGUSR1 (blocked by the caller) without waiting; returns
 * its siginfo's si_code, or 0 when none is pending. */
static int take_usr1(int *value)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    siginfo_t si;
    struct timespec zero = { 0, 0 };
    if (sigtimedwait(&set, &si, &zero) != SIGUSR1)
        return 0;
    *value = si.si_value.sival_int;
    return si.si_code;
}

/* SIGEV_SIGNAL: queued once, on empty -> non-empty, with SI_MESGQ and the
 * user's value, before the send returns; the second message (queue not
 * empty) and the next transition (registration gone: one-shot) give
 * nothing. The signal is blocked and fetched with sigtimedwait, so the
 * check is deterministic. */
static void test_mq_notify_signal_one_shot_on_empty_to_nonempty(void **state)
{
    (void)state;
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    assert_int_equal(pthread_sigmask(SIG_BLOCK, &set, &old), 0);
    int value = 0;
    while (take_usr1(&value))
        ;
    struct ust_stack *s = new_stack();
    int q = open_rw(s, "/sig", 4, 8);
    assert_int_equal(ust_mq_send(s, q, "a", 1, 0), 0);
    struct sigevent ev = { .sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGUSR1 };
    ev.sigev_value.sival_int = 1234;
    assert_int_equal(ust_mq_notify(s, q, &ev), 0);
    assert_int_equal(ust_mq_send(s, q, "b", 1, 0), 0);     /* not empty before */
    assert_int_equal(take_usr1(&value), 0);
    char buf[8];
    assert_int_equal(ust_mq_receive(s, q, buf, sizeof(buf), NULL), 1);
    assert_int_equal(ust_mq_receive(s, q, buf, sizeof(buf), NULL), 1);
    assert_int_equal(ust_mq_send(s, q, "c", 1, 0), 0);     /* empty -> non-empty */
    assert_int_equal(take_usr1(&value), SI_MESGQ);
    assert_int_equal(value, 1234);
    assert_int_equal(ust_mq_receive(s, q, buf, sizeof(buf), NULL), 1);
    assert_int_equal(ust_mq_send(s, q, "d", 1, 0), 0);
    assert_int_equal(take_usr1(&value), 0);     /* one-shot */
    assert_int_equal(ust_mq_notify(s, q, &ev), 0);  /* may register again */
    ust_stack_free(s);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* ustack's typed receive: the highest-priority message within a priority
 * range, the others left queued in order. */
static void test_mq_receive_prio_range_selects_highest_in_band(void **state)
{
    (void)state;
    struct ust_stack *s = new_stack();
    int q = open_rw(s, "/band", 10, 8);
    unsigned prios[] = { 3, 10, 4, 20, 4, 11 };
    for (int i = 0; i < 6; i++) {
        char c = (char)('a' + i);
        assert_int_equal(ust_mq_send(s, q, &c, 1, prios[i]), 0);
    }
    char buf[8];
    unsigned p;
    /* band [0, 9]: 4 (c), then 4 (e, FIFO), then 3 (a) */
    assert_int_equal(ust_mq_receive_prio(s, q, buf, 8, &p, 0, 9, 0, NULL), 1);
    assert_int_equal(buf[0], 'c');
    assert_int_equal(ust_mq_receive_prio(s, q, buf, 8, &p, 0, 9, 0, NULL), 1);
    assert_int_equal(buf[0], 'e');
    assert_int_equal(ust_mq_receive_prio(s, q, buf, 8, &p, 3, 3, 0, NULL), 1);
    assert_int_equal(buf[0], 'a');
    assert_int_equal(p, 3);
    expect_err(ust_mq_receive_prio(s, q, buf, 8, &p, 0, 9, UST_MQ_DONTWAIT, NULL), EAGAIN);
    expect_err(ust_mq_receive_prio(s, q, buf, 8, &p, 9, 0, 0, NULL), EINVAL);
    expect_err(ust_mq_receive_prio(s, q, buf, 8, &p, 0, UST_MQ_PRIO_MAX, 0, NULL), EINVAL);
    expect_err(ust_mq_receive_prio(s, q, buf, 7, &p, 0, 9, 0, NULL), EMSGSIZE);
    /* What is left comes out of ust_mq_receive in order: 20 (d), 11 (f), 10 (b). */
    const char *rest = "dfb";
    for (int i = 0; i < 3; i++) {
        assert_int_equal(ust_mq_receive(s, q, buf, 8, NULL), 1);
        assert_int_equal(buf[0], rest[i]);
    }
    ust_stack_free(s);
}

/* CLOCK_MONOTONIC deadlines: checked the same way (EINVAL only when the
 * call would block, ETIMEDOUT once passed). */
static void test_mq_timedreceive_mono_expired_and_invalid(void **state)
{
    (void)state;
    struct ust_stack *s = new_stack();
    int q = open_rw(s, "/mono", 1, 8);
    char buf[8];
    struct timespec past = { 0, 1 }, bad = { 0, -5 };
    expect_err(ust_mq_timedreceive_mono(s, q, buf, 8, NULL, &past), ETIMEDOUT);
    expect_err(ust_mq_timedreceive_mono(s, q, buf, 8, NULL, &bad), EINVAL);
    assert_int_equal(ust_mq_timedsend_mono(s, q, "m", 1, 0, &bad), 0);
    expect_err(ust_mq_timedsend_mono(s, q, "m", 1, 0, &past), ETIMEDOUT);
    assert_int_equal(ust_mq_timedreceive_mono(s, q, buf, 8, NULL, &past), 1);
    ust_stack_free(s);
}

/* UST_IPC_AUTOREMOVE: the name goes with the last close of the queue (a
 * plain queue keeps it until mq_unlink). In both backends; across
 * processes in test_xproc_mq.c. */
static void test_mq_autoremove_at_last_close(void **state)
{
    (void)state;
    struct ust_stack *s = new_stack();
    struct mq_attr a = attr_of(2, 8);
    int q1 = ust_mq_open(s, "/auto", O_RDWR | O_CREAT | UST_IPC_AUTOREMOVE, 0600, &a);
    assert_true(q1 >= 0);
    int q2 = ust_mq_open(s, "/auto", O_RDONLY);
    assert_true(q2 >= 0);
    assert_int_equal(ust_mq_send(s, q1, "x", 1, 0), 0);
    assert_int_equal(ust_mq_close(s, q1), 0);
    int q3 = ust_mq_open(s, "/auto", O_RDONLY);         /* q2 still holds it */
    assert_true(q3 >= 0);
    assert_int_equal(ust_mq_close(s, q3), 0);
    char buf[8];
    assert_int_equal(ust_mq_receive(s, q2, buf, sizeof(buf), NULL), 1);
    assert_int_equal(ust_mq_close(s, q2), 0);
    expect_err(ust_mq_open(s, "/auto", O_RDONLY), ENOENT);
    int k = open_rw(s, "/kept", 2, 8);
    assert_int_equal(ust_mq_close(s, k), 0);
    k = ust_mq_open(s, "/kept", O_RDONLY);
    assert_true(k >= 0);
    ust_mq_close(s, k);
    assert_int_equal(ust_mq_unlink(s, "/kept"), 0);
    ust_stack_free(s);
}

/* Private queues are per stack: the same name in two stacks is two
 * queues. (Shared queues are per directory: test_xproc_mq.c.) */
static void test_mq_namespace_is_per_stack(void **state)
{
    (void)state;
    struct ust_stack_config c;
    ust_stack_config_init(&c);
    c.ipc_shared = 0;
    struct ust_stack *a = ust_stack_new(&c), *b = ust_stack_new(&c);
    int qa = open_rw(a, "/same", 2, 8);
    expect_err(ust_mq_open(b, "/same", O_RDWR), ENOENT);
    assert_int_equal(ust_mq_send(a, qa, "x", 1, 0), 0);
    ust_stack_free(a);
    ust_stack_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        ipc_dir_test(test_mq_open01_create_with_attributes_and_defaults),
        ipc_dir_test(test_mq_open01_name_rules),
        ipc_dir_test(test_mq_open01_errors),
        ipc_dir_test(test_mq_open01_emfile_when_descriptors_run_out),
        ipc_dir_test(test_mq_open01_enospc_at_queues_max),
        ipc_dir_test(test_mq_open_total_bytes_limit_gives_emfile),
        ipc_dir_test(test_mq_unlink01),
        ipc_dir_test(test_mq_unlink_while_open_keeps_queue_and_frees_name),
        ipc_dir_test(test_mq_timedsend01),
        ipc_dir_test(test_mq_bad_timeout_einval_only_when_call_would_block),
        ipc_dir_test(test_mq_timedreceive01),
        ipc_dir_test(test_mq_private_receive_without_stack_thread_fails_at_once),
        ipc_dir_test(test_mq_priority_order_fifo_within_priority),
        ipc_dir_test(test_mq_priority_order_many_random_priorities),
        ipc_dir_test(test_mq_efault_for_null_buffers),
        ipc_dir_test(test_mq_send_zero_length_and_emsgsize),
        ipc_dir_test(test_mq_poll_readiness_empty_partial_full),
        ipc_dir_test(test_mq_getattr_setattr_only_o_nonblock),
        ipc_dir_test(test_mq_notify01_register_ebusy_ebadf),
        ipc_dir_test(test_mq_notify02_einval),
        ipc_dir_test(test_mq_notify_signal_one_shot_on_empty_to_nonempty),
        ipc_dir_test(test_mq_receive_prio_range_selects_highest_in_band),
        ipc_dir_test(test_mq_timedreceive_mono_expired_and_invalid),
        ipc_dir_test(test_mq_autoremove_at_last_close),
        ipc_dir_test(test_mq_namespace_is_per_stack),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
