/* System V message queues without a stack thread: the LTP checks msgget01-03,
 * msgsnd01/02/05, msgrcv01/02/03/07, msgctl01-04 that need no second
 * thread, and the "not covered by LTP" list: negative msgtyp order (lowest
 * type <= |msgtyp|), E2BIG leaving the message queued, the zero-length
 * message count limit (msg_qbytes bounds messages too); plus ustack's
 * pollable queue descriptor (ust_msgq_fd) and the msgpool limit. Without a
 * stack thread a call on a private queue that would block fails at once:
 * msgsnd EAGAIN, msgrcv ENOMSG (a shared one blocks: test_xproc_msg.c). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <dirent.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "unit/ipc_dir_test_util.h"

#include <ustack/ustack.h>

struct tmsg {
    long mtype;
    char mtext[8192];
};

static struct ust_stack *stack_with(unsigned msgmni, size_t msgpool)
{
    struct ust_stack_config c;
    ust_stack_config_init(&c);
    c.seed = 11;
    if (msgmni)
        c.msgmni = msgmni;
    if (msgpool)
        c.msgpool = msgpool;
    struct ust_stack *s = ust_stack_new(&c);
    assert_non_null(s);
    return s;
}

static struct ust_stack *new_stack(void)
{
    return stack_with(0, 0);
}

/* The checks that count every queue of the namespace (msgmni, IPC_INFO,
 * MSG_INFO, MSG_STAT by index) need an empty one. With shared queues
 * (cfg.ipc_shared) the namespace is the IPC directory, where the earlier
 * tests' queues persist as the kernel's do: such a stack gets a fresh
 * directory of its own, removed by own_dir_free. */
static char own_dir[4096];

static struct ust_stack *stack_in_own_dir(unsigned msgmni, const char *name)
{
    const char *base = getenv("USTACK_IPC_DIR");
    snprintf(own_dir, sizeof(own_dir), "%s/%s.%d", base && base[0] ? base : "/dev/shm", name,
             (int)getpid());
    struct ust_stack_config c;
    ust_stack_config_init(&c);
    c.seed = 11;
    if (msgmni)
        c.msgmni = msgmni;
    c.ipc_dir = own_dir;
    struct ust_stack *s = ust_stack_new(&c);
    assert_non_null(s);
    return s;
}

static void own_dir_free(struct ust_stack *s)
{
    ust_stack_free(s);
    DIR *d = opendir(own_dir);
    if (!d)
        return;
    struct dirent *de;
    char path[8192];
    while ((de = readdir(d)) != NULL) {
        if (strncmp(de->d_name, "ustack.", 7) != 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", own_dir, de->d_name);
        unlink(path);
    }
    closedir(d);
    rmdir(own_dir);
}

static void expect_err(long r, int err)
{
    assert_int_equal(r, -1);
    assert_int_equal(errno, err);
}

static int send_text(struct ust_stack *s, int id, long type, const char *text, int flags)
{
    struct tmsg m = { .mtype = type };
    size_t n = strlen(text);
    memcpy(m.mtext, text, n);
    return ust_msgsnd(s, id, &m, n, flags);
}

/* Receives into m and returns its type, checking the text. */
static long recv_text(struct ust_stack *s, int id, long msgtyp, int flags, const char *want)
{
    struct tmsg m;
    memset(&m, 0, sizeof(m));
    ssize_t n = ust_msgrcv(s, id, &m, sizeof(m.mtext), msgtyp, flags);
    assert_int_equal(n, (ssize_t)strlen(want));
    assert_memory_equal(m.mtext, want, strlen(want));
    return m.mtype;
}

static void test_msgget01_create_send_and_read_back(void **state)
{
    (void)state;
    struct ust_stack *s = new_stack();
    int id = ust_msgget(s, IPC_PRIVATE, IPC_CREAT | 0600);
    assert_true(id >= 0);
    assert_int_equal(send_text(s, id, 1, "hello", 0), 0);
    assert_int_equal(recv_text(s, id, 0, IPC_NOWAIT, "hello"), 1);
    /* Two IPC_PRIVATE calls: two queues. */
    int id2 = ust_msgget(s, IPC_PRIVATE, 0600);
    assert_true(id2 >= 0 && id2 != id);
    ust_stack_free(s);
}

static void test_msgget02_eexist_enoent_eacces(void **state)
{
    (void)state;
    struct ust_stack *s = new_stack();
    key_t key = 0x1234;
    int id = ust_msgget(s, key, IPC_CREAT | IPC_EXCL | 0600);
    assert_true(id >= 0);
    expect_err(ust_msgget(s, key, IPC_CREAT | IPC_EXCL | 0600), EEXIST);
    assert_int_equal(ust_msgget(s, key, IPC_CREAT | 0600), id);
    assert_int_equal(ust_msgget(s, key, 0), id);
    expect_err(ust_msgget(s, 0x4321, 0600), ENOENT);
    /* A queue that grants its owner only read: asking for write is EACCES. */
    assert_true(ust_msgget(s, 0x99, IPC_CREAT | 0400) >= 0);
    expect_err(ust_msgget(s, 0x99, 0200), EACCES);
    assert_true(ust_msgget(s, 0x99, 0400) >= 0);
    ust_stack_free(s);
}

static void test_msgget03_enospc_when_msgmni_queues_exist(void **state)
{
    (void)state;
    struct ust_stack *s = stack_in_own_dir(5, "msgget03");
    int ids[5];
    for (int i = 0; i < 5; i++) {
        ids[i] = ust_msgget(s, IPC_PRIVATE, 0600);
        assert_true(ids[i] >= 0);
    }
    expect_err(ust_msgget(s, IPC_PRIVATE, 0600), ENOSPC);
    expect_err(ust_msgget(s, 77, IPC_CREAT | 0600), ENOSPC);
    /* A removed slot is reused with a different identifier (__seq). */
    assert_int_equal(ust_msgctl(s, ids[2], IPC_RMID, NULL), 0);
    int again = ust_msgget(s, IPC_PRIVATE, 0600);
    assert_true(again >= 0);
    for (int i = 0; i < 5; i++)
        assert_int_not_equal(again, ids[i]);
    expect_err(ust_msgsnd(s, ids[2], &(struct tmsg){ .mtype = 1 }, 0, IPC_NOWAIT), EINVAL);
    own_dir_free(s);
}

/* msgsnd01: enqueued; msg_qnum, msg_lspid, msg_stime updated. */
static void test_msgsnd01_updates_qnum_lspid_stime(void **state)
{
    (void)state;
    struct ust_stack *s = new_stack();
    int id = ust_msgget(s, IPC_PRIVATE, 0600);
    time_t before = time(NULL);
    assert_int_equal(send_text(s, id, 3, "abc", 0), 0);
    struct msqid_ds ds;
    assert_int_equal(ust_msgctl(s, id, IPC_STAT, &ds), 0);
    assert_int_equal(ds.msg_qnum, 1);
    assert_int_equal(ds.__msg_cbytes, 3);
    assert_int_equal(ds.msg_lspid, getpid());
    assert_true(ds.msg_stime >= before && ds.msg_stime <= time(NULL));
    assert_int_equal(ds.msg_lrpid, 0);
    assert_int_equal(ds.msg_rtime, 0);
    ust_stack_free(s);
}

/* msgsnd02: EACCES, EFAULT, EINVAL (bad id, mtype 0, mtype < 0, msgsz too
 * big / negative). */
static void test_msgsnd02_errors(void **state)
{
    (void)state;
    struct ust_stack *s = new_stack();
    int id = ust_msgget(s, IPC_PRIVATE, 0600);
    int ro = ust_msgget(s, IPC_PRIVATE, 0400);
    struct tmsg m = { .mtype = 1 };
    expect_err(ust_msgsnd(s, ro, &m, 1, IPC_NOWAIT), EACCES);
    expect_err(ust_msgsnd(s, id, NULL, 1, IPC_NOWAIT), EFAULT);
    expect_err(ust_msgsnd(s, -1, &m, 1, IPC_NOWAIT), EINVAL);
    expect_err(ust_msgsnd(s, id + 1000, &m, 1, IPC_NOWAIT), EINVAL);
    m.mtype = 0;
    expect_err(ust_msgsnd(s, id, &m, 1, IPC_NOWAIT), EINVAL);
    m.mtype = -1;
    expect_err(ust_msgsnd(s, id, &m, 1, IPC_NOWAIT), EINVAL);
    m.mtype = 1;
    expect_err(ust_msgsnd(s, id, &m, 8193, IPC_NOWAIT), EINVAL);     /* > msgmax */
    expect_err(ust_msgsnd(s, id, &m, (size_t)-1, IPC_NOWAIT), EINVAL);
    assert_int_equal(ust_msgsnd(s, id, &m, 8192, IPC_NOWAIT), 0);
    assert_int_equal(ust_msgsnd(s, id, &m, 0, IPC_NOWAIT), 0);
    ust_stack_free(s);
}

/* msgsnd05: a full queue gives EAGAIN with IPC_NOWAIT; the byte limit. */
static void test_msgsnd05_eagain_when_qbytes_full(void **state)
{
    (void)state;
    struct ust_stack *s = new_stack();
    int id = ust_msgget(s, IPC_PRIVATE, 0600);
    struct msqid_ds ds;
    assert_int_equal(ust_msgctl(s, id, IPC_STAT, &ds), 0);
    assert_int_equal(ds.msg_qbytes, 16384);     /* MSGMNB */
    ds.msg_qbytes = 100;
    assert_int_equal(ust_msgctl(s, id, IPC_SET, &ds), 0);
    struct tmsg m = { .mtype = 1 };
    assert_int_equal(ust_msgsnd(s, id, &m, 40, IPC_NOWAIT), 0);
    assert_int_equal(ust_msgsnd(s, id, &m, 40, IPC_NOWAIT), 0);
    expect_err(ust_msgsnd(s, id, &m, 40, IPC_NOWAIT), EAGAIN);
    assert_int_equal(ust_msgsnd(s, id, &m, 20, IPC_NOWAIT), 0);        /* exactly 100 */
    ust_stack_free(s);
}

/* A stack's own queues (cfg.ipc_shared = 0) without a stack thread: a call
 * that would block fails at once, msgsnd with EAGAIN and msgrcv with
 * ENOMSG, since nothing in the process could wake it. A shared queue blocks
 * instead, on the queue itself, until another process or thread acts
 * (test_xproc_msg.c), so this rule is the private path's only. */
static void test_msg_private_calls_without_stack_thread_fail_at_once(void **state)
{
    (void)state;
    struct ust_stack_config c;
    ust_stack_config_init(&c);
    c.ipc_shared = 0;
    struct ust_stack *s = ust_stack_new(&c);
    assert_non_null(s);
    int id = ust_msgget(s, IPC_PRIVATE, 0600);
    struct tmsg m = { .mtype = 1 };
    expect_err(ust_msgrcv(s, id, &m, 100, 0, 0), ENOMSG);
    struct msqid_ds ds;
    assert_int_equal(ust_msgctl(s, id, IPC_STAT, &ds), 0);
    ds.msg_qbytes = 50;
    assert_int_equal(ust_msgctl(s, id, IPC_SET, &ds), 0);
    assert_int_equal(ust_msgsnd(s, id, &m, 40, 0), 0);
    expect_err(ust_msgsnd(s, id, &m, 40, 0), EAGAIN);
    ust_stack_free(s);
}

/* msg_qbytes also bounds the message count: with 5, exactly 5 empty
 * messages fit. */
static void test_msgsnd_zero_length_messages_bounded_by_count(void **state)
{
    (void)state;
    struct ust_stack *s = new_stack();
    int id = ust_msgget(s, IPC_PRIVATE, 0600);
    struct msqid_ds ds;
    assert_int_equal(ust_msgctl(s, id, IPC_STAT, &ds), 0);
    ds.msg_qbytes = 5;
    assert_int_equal(ust_msgctl(s, id, IPC_SET, &ds), 0);
    struct tmsg m = { .mtype = 1 };
    for (int i = 0; i < 5; i++)
        assert_int_equal(ust_msgsnd(s, id, &m, 0, IPC_NOWAIT), 0);
    expect_err(ust_msgsnd(s, id, &m, 0, IPC_NOWAIT), EAGAIN);
    ust_stack_free(s);
}

/* msgrcv01: the message is received; msg_qnum, msg_lrpid, msg_rtime. */
static void test_msgrcv01_updates_qnum_lrpid_rtime(void **state)
{
    (void)state;
    struct ust_stack *s = new_stack();
    int id = ust_msgget(s, IPC_PRIVATE, 0600);
    assert_int_equal(send_text(s, id, 1, "one", 0), 0);
    assert_int_equal(send_text(s, id, 1, "two", 0), 0);
    time_t before = time(NULL);
    assert_int_equal(recv_text(s, id, 0, 0, "one"), 1);
    struct msqid_ds ds;
    assert_int_equal(ust_msgctl(s, id, IPC_STAT, &ds), 0);
    assert_int_equal(ds.msg_qnum, 1);
    assert_int_equal(ds.__msg_cbytes, 3);
    assert_int_equal(ds.msg_lrpid, getpid());
    assert_true(ds.msg_rtime >= before && ds.msg_rtime <= time(NULL));
    ust_stack_free(s);
}

/* msgrcv02: E2BIG (leaving the message queued), EACCES, EFAULT, EINVAL,
 * ENOMSG with IPC_NOWAIT (not EAGAIN: the asymmetry with msgsnd). */
static void test_msgrcv02_errors(void **state)
{
    (void)state;
    struct ust_stack *s = new_stack();
    int id = ust_msgget(s, IPC_PRIVATE, 0600);
    int wo = ust_msgget(s, IPC_PRIVATE, 0200);
    struct tmsg m;
    expect_err(ust_msgrcv(s, id, &m, 100, 0, IPC_NOWAIT), ENOMSG);
    assert_int_equal(send_text(s, id, 5, "0123456789", 0), 0);
    expect_err(ust_msgrcv(s, id, &m, 4, 0, IPC_NOWAIT), E2BIG);
    expect_err(ust_msgrcv(s, id, &m, 100, 6, IPC_NOWAIT), ENOMSG);
    expect_err(ust_msgrcv(s, wo, &m, 100, 0, IPC_NOWAIT), EACCES);
    expect_err(ust_msgrcv(s, id, NULL, 100, 0, IPC_NOWAIT), EFAULT);
    expect_err(ust_msgrcv(s, -1, &m, 100, 0, IPC_NOWAIT), EINVAL);
    expect_err(ust_msgrcv(s, id, &m, (size_t)-1, 0, IPC_NOWAIT), EINVAL);
    /* E2BIG left it there. */
    assert_int_equal(recv_text(s, id, 5, IPC_NOWAIT, "0123456789"), 5);
    ust_stack_free(s);
}

/* msgrcv03: MSG_COPY errors. */
static void test_msgrcv03_msg_copy_errors(void **state)
{
    (void)state;
    struct ust_stack *s = new_stack();
    int id = ust_msgget(s, IPC_PRIVATE, 0600);
    assert_int_equal(send_text(s, id, 1, "a", 0), 0);
    struct tmsg m;
    expect_err(ust_msgrcv(s, id, &m, 100, 0, MSG_COPY), EINVAL);
    expect_err(ust_msgrcv(s, id, &m, 100, 0, MSG_COPY | IPC_NOWAIT | MSG_EXCEPT), EINVAL);
    expect_err(ust_msgrcv(s, id, &m, 100, 1, MSG_COPY | IPC_NOWAIT), ENOMSG);
    ust_stack_free(s);
}

/* msgrcv07: msgtyp 0 / > 0 / < 0, MSG_EXCEPT, MSG_NOERROR, MSG_COPY. */
static void test_msgrcv07_selection_by_type(void **state)
{
    (void)state;
    struct ust_stack *s = new_stack();
    int id = ust_msgget(s, IPC_PRIVATE, 0600);
    /* A(3) B(1) C(2) D(5) E(1) */
    const char *texts[] = { "A", "B", "C", "D", "E" };
    long types[] = { 3, 1, 2, 5, 1 };
    for (int i = 0; i < 5; i++)
        assert_int_equal(send_text(s, id, types[i], texts[i], 0), 0);
    /* MSG_COPY reads by position without removing. */
    assert_int_equal(recv_text(s, id, 3, MSG_COPY | IPC_NOWAIT, "D"), 5);
    assert_int_equal(recv_text(s, id, 0, MSG_COPY | IPC_NOWAIT, "A"), 3);
    /* -4: the first of the lowest type <= 4 -> B (type 1). */
    assert_int_equal(recv_text(s, id, -4, IPC_NOWAIT, "B"), 1);
    /* 2: the first of type 2. */
    assert_int_equal(recv_text(s, id, 2, IPC_NOWAIT, "C"), 2);
    /* MSG_EXCEPT 3: the first not of type 3 -> D. */
    assert_int_equal(recv_text(s, id, 3, MSG_EXCEPT | IPC_NOWAIT, "D"), 5);
    /* 0: the first -> A. */
    assert_int_equal(recv_text(s, id, 0, IPC_NOWAIT, "A"), 3);
    assert_int_equal(recv_text(s, id, 0, IPC_NOWAIT, "E"), 1);
    /* MSG_NOERROR truncates, the rest is lost. */
    assert_int_equal(send_text(s, id, 9, "truncated", 0), 0);
    struct tmsg m;
    assert_int_equal(ust_msgrcv(s, id, &m, 5, 0, MSG_NOERROR | IPC_NOWAIT), 5);
    assert_memory_equal(m.mtext, "trunc", 5);
    expect_err(ust_msgrcv(s, id, &m, 100, 0, IPC_NOWAIT), ENOMSG);
    ust_stack_free(s);
}

/* Linux's reading of a negative msgtyp: types 4 3 2 1 with -2 give 1 (the
 * lowest), FIFO among equal types; BSDs would give 2. */
static void test_msgrcv_negative_type_takes_lowest_type_first(void **state)
{
    (void)state;
    struct ust_stack *s = new_stack();
    int id = ust_msgget(s, IPC_PRIVATE, 0600);
    assert_int_equal(send_text(s, id, 4, "t4", 0), 0);
    assert_int_equal(send_text(s, id, 3, "t3", 0), 0);
    assert_int_equal(send_text(s, id, 2, "t2", 0), 0);
    assert_int_equal(send_text(s, id, 1, "t1a", 0), 0);
    assert_int_equal(send_text(s, id, 1, "t1b", 0), 0);
    assert_int_equal(recv_text(s, id, -2, IPC_NOWAIT, "t1a"), 1);
    assert_int_equal(recv_text(s, id, -2, IPC_NOWAIT, "t1b"), 1);
    assert_int_equal(recv_text(s, id, -2, IPC_NOWAIT, "t2"), 2);
    struct tmsg m;
    expect_err(ust_msgrcv(s, id, &m, 100, -2, IPC_NOWAIT), ENOMSG);
    assert_int_equal(recv_text(s, id, -10, IPC_NOWAIT, "t3"), 3);
    assert_int_equal(recv_text(s, id, LONG_MIN, IPC_NOWAIT, "t4"), 4);    /* no overflow */
    ust_stack_free(s);
}

/* msgctl01: IPC_STAT fills msqid_ds (perm, qbytes, times). */
static void test_msgctl01_ipc_stat(void **state)
{
    (void)state;
    struct ust_stack *s = new_stack();
    time_t before = time(NULL);
    int id = ust_msgget(s, 0x5151, IPC_CREAT | 0640);
    struct msqid_ds ds;
    assert_int_equal(ust_msgctl(s, id, IPC_STAT, &ds), 0);
    assert_int_equal(ds.msg_perm.__key, 0x5151);
    assert_int_equal(ds.msg_perm.uid, geteuid());
    assert_int_equal(ds.msg_perm.cuid, geteuid());
    assert_int_equal(ds.msg_perm.gid, getegid());
    assert_int_equal(ds.msg_perm.mode & 0777, 0640);
    assert_int_equal(ds.msg_qbytes, 16384);
    assert_int_equal(ds.msg_qnum, 0);
    assert_int_equal(ds.msg_lspid, 0);
    assert_int_equal(ds.msg_lrpid, 0);
    assert_true(ds.msg_ctime >= before && ds.msg_ctime <= time(NULL));
    ust_stack_free(s);
}

/* msgctl02: IPC_SET lowering msg_qbytes takes effect; raising above msgmnb
 * is EPERM (no CAP_SYS_RESOURCE in ustack). */
static void test_msgctl02_ipc_set_qbytes(void **state)
{
    (void)state;
    struct ust_stack *s = new_stack();
    int id = ust_msgget(s, IPC_PRIVATE, 0600);
    struct msqid_ds ds;
    assert_int_equal(ust_msgctl(s, id, IPC_STAT, &ds), 0);
    ds.msg_qbytes = 1000;
    ds.msg_perm.mode = 0660;
    assert_int_equal(ust_msgctl(s, id, IPC_SET, &ds), 0);
    struct msqid_ds got;
    assert_int_equal(ust_msgctl(s, id, IPC_STAT, &got), 0);
    assert_int_equal(got.msg_qbytes, 1000);
    assert_int_equal(got.msg_perm.mode & 0777, 0660);
    ds.msg_qbytes = 16385;
    expect_err(ust_msgctl(s, id, IPC_SET, &ds), EPERM);
    ds.msg_qbytes = 16384;
    assert_int_equal(ust_msgctl(s, id, IPC_SET, &ds), 0);
    ust_stack_free(s);
}

/* msgctl03: IPC_RMID removes the queue; later use is EINVAL. */
static void test_msgctl03_ipc_rmid_removes(void **state)
{
    (void)state;
    struct ust_stack *s = new_stack();
    int id = ust_msgget(s, 0x77, IPC_CREAT | 0600);
    assert_int_equal(send_text(s, id, 1, "gone", 0), 0);
    assert_int_equal(ust_msgctl(s, id, IPC_RMID, NULL), 0);
    struct msqid_ds ds;
    expect_err(ust_msgctl(s, id, IPC_STAT, &ds), EINVAL);
    expect_err(ust_msgctl(s, id, IPC_RMID, NULL), EINVAL);
    expect_err(send_text(s, id, 1, "x", IPC_NOWAIT), EINVAL);
    expect_err(ust_msgget(s, 0x77, 0600), ENOENT);
    ust_stack_free(s);
}

/* msgctl04: EACCES (IPC_STAT without read permission), EFAULT, EINVAL (bad
 * cmd, bad id). */
static void test_msgctl04_errors(void **state)
{
    (void)state;
    struct ust_stack *s = new_stack();
    int id = ust_msgget(s, IPC_PRIVATE, 0200);
    struct msqid_ds ds;
    expect_err(ust_msgctl(s, id, IPC_STAT, &ds), EACCES);
    expect_err(ust_msgctl(s, id, IPC_STAT, NULL), EFAULT);
    expect_err(ust_msgctl(s, id, IPC_SET, NULL), EFAULT);
    expect_err(ust_msgctl(s, id, 12345, &ds), EINVAL);
    expect_err(ust_msgctl(s, -1, IPC_STAT, &ds), EINVAL);
    expect_err(ust_msgctl(s, id + 1, IPC_STAT, &ds), EINVAL);
    ust_stack_free(s);
}

/* msgctl12 / msgctl06: IPC_INFO gives the limits, MSG_INFO what is in
 * use, MSG_STAT / MSG_STAT_ANY stat by index and return the identifier. */
static void test_msgctl12_ipc_info_msg_info_msg_stat(void **state)
{
    (void)state;
    struct ust_stack *s = stack_in_own_dir(0, "msgctl12");
    int a = ust_msgget(s, IPC_PRIVATE, 0600);
    int b = ust_msgget(s, IPC_PRIVATE, 0200);
    assert_int_equal(send_text(s, a, 1, "1234", 0), 0);
    assert_int_equal(send_text(s, b, 1, "56", 0), 0);
    struct msginfo mi;
    int maxidx = ust_msgctl(s, 0, IPC_INFO, (struct msqid_ds *)(void *)&mi);
    assert_int_equal(maxidx, 1);
    assert_int_equal(mi.msgmni, 32000);
    assert_int_equal(mi.msgmax, 8192);
    assert_int_equal(mi.msgmnb, 16384);
    assert_int_equal(ust_msgctl(s, 0, MSG_INFO, (struct msqid_ds *)(void *)&mi), 1);
    assert_int_equal(mi.msgpool, 2);    /* queues */
    assert_int_equal(mi.msgmap, 2);     /* messages */
    assert_int_equal(mi.msgtql, 6);     /* bytes */
    struct msqid_ds ds;
    assert_int_equal(ust_msgctl(s, 0, MSG_STAT, &ds), a);
    assert_int_equal(ds.msg_qnum, 1);
    expect_err(ust_msgctl(s, 1, MSG_STAT, &ds), EACCES);
    assert_int_equal(ust_msgctl(s, 1, MSG_STAT_ANY, &ds), b);
    expect_err(ust_msgctl(s, 2, MSG_STAT, &ds), EINVAL);
    expect_err(ust_msgctl(s, 0, IPC_INFO, NULL), EFAULT);
    own_dir_free(s);
}

/* ustack's pollable descriptor: POLLOUT when a byte fits, POLLIN when a
 * message is queued, POLLERR|POLLHUP after IPC_RMID. */
static void test_msgq_fd_poll_readiness_and_rmid(void **state)
{
    (void)state;
    struct ust_stack *s = new_stack();
    int id = ust_msgget(s, IPC_PRIVATE, 0600);
    int fd = ust_msgq_fd(s, id);
    assert_true(fd >= 0);
    assert_int_equal(ust_fcntl(s, fd, F_GETFD), FD_CLOEXEC);
    struct pollfd p = { fd, POLLIN | POLLOUT, 0 };
    assert_int_equal(ust_poll(s, &p, 1, 0), 1);
    assert_int_equal(p.revents, POLLOUT);
    struct msqid_ds ds;
    assert_int_equal(ust_msgctl(s, id, IPC_STAT, &ds), 0);
    ds.msg_qbytes = 10;
    assert_int_equal(ust_msgctl(s, id, IPC_SET, &ds), 0);
    assert_int_equal(send_text(s, id, 1, "0123456789", 0), 0);
    assert_int_equal(ust_poll(s, &p, 1, 0), 1);
    assert_int_equal(p.revents, POLLIN);
    assert_int_equal(recv_text(s, id, 0, 0, "0123456789"), 1);
    assert_int_equal(send_text(s, id, 1, "x", 0), 0);
    assert_int_equal(ust_poll(s, &p, 1, 0), 1);
    assert_int_equal(p.revents, POLLIN | POLLOUT);
    assert_int_equal(ust_msgctl(s, id, IPC_RMID, NULL), 0);
    assert_int_equal(ust_poll(s, &p, 1, 0), 1);
    assert_int_equal(p.revents, POLLERR | POLLHUP);
    assert_int_equal(ust_close(s, fd), 0);
    expect_err(ust_msgq_fd(s, id), EINVAL);
    int locked = ust_msgget(s, IPC_PRIVATE, 0000);
    expect_err(ust_msgq_fd(s, locked), EACCES);
    ust_stack_free(s);
}

/* All queued bytes of a stack count against cfg.msgpool: ENOMEM beyond. */
static void test_msgsnd_enomem_beyond_msgpool(void **state)
{
    (void)state;
    struct ust_stack *s = stack_with(0, 100);
    int a = ust_msgget(s, IPC_PRIVATE, 0600), b = ust_msgget(s, IPC_PRIVATE, 0600);
    struct tmsg m = { .mtype = 1 };
    assert_int_equal(ust_msgsnd(s, a, &m, 60, IPC_NOWAIT), 0);
    expect_err(ust_msgsnd(s, b, &m, 60, IPC_NOWAIT), ENOMEM);
    assert_int_equal(ust_msgsnd(s, b, &m, 40, IPC_NOWAIT), 0);
    assert_int_equal(ust_msgrcv(s, a, &m, 100, 0, IPC_NOWAIT), 60);
    assert_int_equal(ust_msgsnd(s, b, &m, 60, IPC_NOWAIT), 0);
    /* IPC_RMID gives the bytes of its messages back. */
    assert_int_equal(ust_msgctl(s, b, IPC_RMID, NULL), 0);
    assert_int_equal(ust_msgsnd(s, a, &m, 100, IPC_NOWAIT), 0);
    ust_stack_free(s);
}

/* One epoll set over a System V queue's descriptor and a POSIX queue:
 * each reports its own readiness, and IPC_RMID gives EPOLLERR|EPOLLHUP. */
static void test_epoll_reports_sysv_and_posix_queue_readiness(void **state)
{
    (void)state;
    struct ust_stack *s = new_stack();
    int id = ust_msgget(s, IPC_PRIVATE, 0600);
    int sfd = ust_msgq_fd(s, id);
    int mq = ust_mq_open(s, "/ep", O_RDWR | O_CREAT, 0600, NULL);
    int ep = ust_epoll_create1(s, 0);
    assert_true(sfd >= 0 && mq >= 0 && ep >= 0);
    struct epoll_event ev = { .events = EPOLLIN, .data.fd = sfd };
    assert_int_equal(ust_epoll_ctl(s, ep, EPOLL_CTL_ADD, sfd, &ev), 0);
    ev = (struct epoll_event){ .events = EPOLLIN | EPOLLET, .data.fd = mq };
    assert_int_equal(ust_epoll_ctl(s, ep, EPOLL_CTL_ADD, mq, &ev), 0);
    struct epoll_event out[4];
    assert_int_equal(ust_epoll_wait(s, ep, out, 4, 0), 0);
    assert_int_equal(send_text(s, id, 1, "s", 0), 0);
    assert_int_equal(ust_epoll_wait(s, ep, out, 4, 0), 1);
    assert_int_equal(out[0].data.fd, sfd);
    assert_int_equal(out[0].events, EPOLLIN);
    assert_int_equal(recv_text(s, id, 0, 0, "s"), 1);
    assert_int_equal(ust_mq_send(s, mq, "p", 1, 0), 0);
    assert_int_equal(ust_epoll_wait(s, ep, out, 4, 0), 1);
    assert_int_equal(out[0].data.fd, mq);
    assert_int_equal(out[0].events, EPOLLIN);
    assert_int_equal(ust_epoll_wait(s, ep, out, 4, 0), 0);     /* edge-triggered */
    assert_int_equal(ust_mq_send(s, mq, "q", 1, 0), 0);          /* a new edge */
    assert_int_equal(ust_epoll_wait(s, ep, out, 4, 0), 1);
    assert_int_equal(out[0].data.fd, mq);
    assert_int_equal(ust_msgctl(s, id, IPC_RMID, NULL), 0);
    assert_int_equal(ust_epoll_wait(s, ep, out, 4, 0), 1);
    assert_int_equal(out[0].data.fd, sfd);
    assert_int_equal(out[0].events, EPOLLERR | EPOLLHUP);
    ust_stack_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        ipc_dir_test(test_msgget01_create_send_and_read_back),
        ipc_dir_test(test_msgget02_eexist_enoent_eacces),
        ipc_dir_test(test_msgget03_enospc_when_msgmni_queues_exist),
        ipc_dir_test(test_msgsnd01_updates_qnum_lspid_stime),
        ipc_dir_test(test_msgsnd02_errors),
        ipc_dir_test(test_msgsnd05_eagain_when_qbytes_full),
        ipc_dir_test(test_msgsnd_zero_length_messages_bounded_by_count),
        ipc_dir_test(test_msg_private_calls_without_stack_thread_fail_at_once),
        ipc_dir_test(test_msgrcv01_updates_qnum_lrpid_rtime),
        ipc_dir_test(test_msgrcv02_errors),
        ipc_dir_test(test_msgrcv03_msg_copy_errors),
        ipc_dir_test(test_msgrcv07_selection_by_type),
        ipc_dir_test(test_msgrcv_negative_type_takes_lowest_type_first),
        ipc_dir_test(test_msgctl01_ipc_stat),
        ipc_dir_test(test_msgctl02_ipc_set_qbytes),
        ipc_dir_test(test_msgctl03_ipc_rmid_removes),
        ipc_dir_test(test_msgctl04_errors),
        ipc_dir_test(test_msgctl12_ipc_info_msg_info_msg_stat),
        ipc_dir_test(test_msgq_fd_poll_readiness_and_rmid),
        ipc_dir_test(test_msgsnd_enomem_beyond_msgpool),
        ipc_dir_test(test_epoll_reports_sysv_and_posix_queue_readiness),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
