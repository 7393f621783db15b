/* System V message queue permissions with a second user (LTP msgget02
 * EACCES, msgctl04 EPERM, msgctl(2) IPC_SET of uid/gid and its owner-or-
 * creator rule): each check forks, the child drops to another uid/gid and
 * calls ustack on its copy of the stack, and reports the errno. Needs root
 * (skipped otherwise). The stack is made by root, so these also prove the
 * credentials are read at each call; the last test shows a blocked receiver
 * checks them again when IPC_SET changes the mode. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "unit/ipc_dir_test_util.h"

#include "ipc_cred_util.h"
#include "pipe_test_util.h"

static struct ust_stack *new_stack(void)
{
    struct ust_stack_config c;
    ust_stack_config_init(&c);
    c.seed = 9;
    struct ust_stack *s = ust_stack_new(&c);
    assert_non_null(s);
    return s;
}

/* A stack whose queues are its own (cfg.ipc_shared = 0), for a check that
 * needs each forked child's changes to stay in the child's copy. */
static struct ust_stack *new_private_stack(void)
{
    struct ust_stack_config c;
    ust_stack_config_init(&c);
    c.seed = 9;
    c.ipc_shared = 0;
    struct ust_stack *s = ust_stack_new(&c);
    assert_non_null(s);
    return s;
}

struct msg_arg {
    int id;
    key_t key;
    int flg;
    int cmd;
    struct msqid_ds ds;
};

static int child_msgget(struct ust_stack *s, void *arg)
{
    struct msg_arg *a = arg;
    return cred_errno_of(ust_msgget(s, a->key, a->flg));
}

static int child_msgctl(struct ust_stack *s, void *arg)
{
    struct msg_arg *a = arg;
    return cred_errno_of(ust_msgctl(s, a->id, a->cmd, &a->ds));
}

static int child_msgsnd(struct ust_stack *s, void *arg)
{
    struct msg_arg *a = arg;
    struct { long mtype; char text[4]; } m = { 1, "abc" };
    return cred_errno_of(ust_msgsnd(s, a->id, &m, 3, IPC_NOWAIT));
}

static int child_msgrcv(struct ust_stack *s, void *arg)
{
    struct msg_arg *a = arg;
    struct { long mtype; char text[16]; } m;
    return cred_errno_of(ust_msgrcv(s, a->id, &m, sizeof(m.text), 0, IPC_NOWAIT));
}

static int ctl_as(struct ust_stack *s, uid_t uid, gid_t gid, int id, int cmd,
                  const struct msqid_ds *ds)
{
    struct msg_arg a = { .id = id, .cmd = cmd };
    if (ds)
        a.ds = *ds;
    return cred_run_as(s, uid, gid, NULL, 0, child_msgctl, &a);
}

static int get_as(struct ust_stack *s, uid_t uid, gid_t gid, const gid_t *groups, size_t ng,
                  key_t key, int flg)
{
    struct msg_arg a = { .key = key, .flg = flg };
    return cred_run_as(s, uid, gid, groups, ng, child_msgget, &a);
}

/* msgget02 EACCES: ipcperms() compares the requested bits of msgflg with the
 * caller's class. A root queue with mode 0640: nobody may look it up with
 * no bits asked, not with read or write; the group (gid 0, or 0 as a
 * supplementary group) may read but not write. */
static void test_msgget02_eacces_by_mode_bits_for_another_user(void **state)
{
    (void)state;
    CRED_REQUIRE_ROOT();
    struct ust_stack *s = new_stack();
    key_t key = 0x5150;
    assert_true(ust_msgget(s, key, IPC_CREAT | 0640) >= 0);
    gid_t root_group = 0;
    assert_int_equal(get_as(s, CRED_NOBODY, CRED_NOBODY, NULL, 0, key, 0), CRED_OK);
    assert_int_equal(get_as(s, CRED_NOBODY, CRED_NOBODY, NULL, 0, key, 0400), EACCES);
    assert_int_equal(get_as(s, CRED_NOBODY, CRED_NOBODY, NULL, 0, key, 0200), EACCES);
    assert_int_equal(get_as(s, CRED_NOBODY, 0, NULL, 0, key, 0400), CRED_OK);
    assert_int_equal(get_as(s, CRED_NOBODY, 0, NULL, 0, key, 0600), EACCES);
    assert_int_equal(get_as(s, CRED_NOBODY, CRED_NOBODY, &root_group, 1, key, 0040), CRED_OK);
    assert_int_equal(get_as(s, CRED_NOBODY, CRED_NOBODY, &root_group, 1, key, 0020), EACCES);
    ust_stack_free(s);
}

/* msgsnd02 / msgrcv02 EACCES for a stranger: mode 0604 grants the others
 * read only, so nobody's msgsnd is EACCES while its msgrcv gets past the
 * check (ENOMSG: the queue is empty). */
static void test_msgsnd_msgrcv_eacces_for_another_user(void **state)
{
    (void)state;
    CRED_REQUIRE_ROOT();
    struct ust_stack *s = new_stack();
    int id = ust_msgget(s, IPC_PRIVATE, 0604);
    assert_true(id >= 0);
    struct msg_arg a = { .id = id };
    assert_int_equal(cred_run_as(s, CRED_NOBODY, CRED_NOBODY, NULL, 0, child_msgsnd, &a), EACCES);
    assert_int_equal(cred_run_as(s, CRED_NOBODY, CRED_NOBODY, NULL, 0, child_msgrcv, &a), ENOMSG);
    ust_stack_free(s);
}

/* msgctl04 EPERM: IPC_RMID (and IPC_SET) on a root-owned queue as nobody;
 * IPC_STAT still works when the mode lets the others read. The queue is
 * still there afterwards. */
static void test_msgctl04_eperm_for_rmid_and_set_as_nobody(void **state)
{
    (void)state;
    CRED_REQUIRE_ROOT();
    struct ust_stack *s = new_stack();
    int id = ust_msgget(s, IPC_PRIVATE, 0644);
    assert_true(id >= 0);
    struct msqid_ds ds;
    assert_int_equal(ust_msgctl(s, id, IPC_STAT, &ds), 0);
    assert_int_equal(ctl_as(s, CRED_NOBODY, CRED_NOBODY, id, IPC_RMID, NULL), EPERM);
    assert_int_equal(ctl_as(s, CRED_NOBODY, CRED_NOBODY, id, IPC_SET, &ds), EPERM);
    assert_int_equal(ctl_as(s, CRED_NOBODY, CRED_NOBODY, id, IPC_STAT, NULL), CRED_OK);
    assert_int_equal(ust_msgctl(s, id, IPC_STAT, &ds), 0);
    ust_stack_free(s);
}

/* msgctl(2) IPC_SET sets msg_perm.uid and .gid (not cuid/cgid). Afterwards
 * the new owner (nobody) may IPC_SET, IPC_STAT and IPC_RMID; the creator
 * (root) still may; a third user may not (EPERM); a member of the new group
 * reads through the group bits. The new owner's IPC_RMID is made in a
 * forked child and the later checks need the queue still there, so the
 * queues are the stack's own (with shared queues the removal would be
 * machine-wide; test_xproc_msg.c checks IPC_SET and IPC_RMID by another
 * user on shared queues). */
static void test_msgctl_ipc_set_uid_gid_and_owner_or_creator_rule(void **state)
{
    (void)state;
    CRED_REQUIRE_ROOT();
    struct ust_stack *s = new_private_stack();
    int id = ust_msgget(s, IPC_PRIVATE, 0600);
    assert_true(id >= 0);
    struct msqid_ds ds;
    assert_int_equal(ust_msgctl(s, id, IPC_STAT, &ds), 0);
    ds.msg_perm.uid = CRED_NOBODY;
    ds.msg_perm.gid = CRED_NOBODY;
    ds.msg_perm.mode = 0640;
    assert_int_equal(ust_msgctl(s, id, IPC_SET, &ds), 0);
    memset(&ds, 0, sizeof(ds));
    assert_int_equal(ust_msgctl(s, id, IPC_STAT, &ds), 0);   /* root: still the creator */
    assert_int_equal(ds.msg_perm.uid, CRED_NOBODY);
    assert_int_equal(ds.msg_perm.gid, CRED_NOBODY);
    assert_int_equal(ds.msg_perm.cuid, 0);
    assert_int_equal(ds.msg_perm.cgid, 0);
    assert_int_equal(ds.msg_perm.mode & 0777, 0640);

    /* The new owner. */
    assert_int_equal(ctl_as(s, CRED_NOBODY, CRED_NOBODY, id, IPC_STAT, NULL), CRED_OK);
    assert_int_equal(ctl_as(s, CRED_NOBODY, CRED_NOBODY, id, IPC_SET, &ds), CRED_OK);
    assert_int_equal(ctl_as(s, CRED_NOBODY, CRED_NOBODY, id, IPC_RMID, NULL), CRED_OK);
    /* A third user, in the new group: reads by the group bits, but is
     * neither owner nor creator. */
    assert_int_equal(ctl_as(s, CRED_OTHER, CRED_NOBODY, id, IPC_STAT, NULL), CRED_OK);
    assert_int_equal(ctl_as(s, CRED_OTHER, CRED_NOBODY, id, IPC_SET, &ds), EPERM);
    assert_int_equal(ctl_as(s, CRED_OTHER, CRED_NOBODY, id, IPC_RMID, NULL), EPERM);
    /* A third user outside the group: the other bits (none). */
    assert_int_equal(ctl_as(s, CRED_OTHER, CRED_OTHER, id, IPC_STAT, NULL), EACCES);
    struct msg_arg a = { .id = id };
    assert_int_equal(cred_run_as(s, CRED_OTHER, CRED_OTHER, NULL, 0, child_msgrcv, &a), EACCES);

    /* The creator may still change it, even back. */
    ds.msg_perm.uid = 0;
    ds.msg_perm.gid = 0;
    assert_int_equal(ust_msgctl(s, id, IPC_SET, &ds), 0);
    assert_int_equal(ctl_as(s, CRED_NOBODY, CRED_NOBODY, id, IPC_SET, &ds), EPERM);
    assert_int_equal(ust_msgctl(s, id, IPC_RMID, NULL), 0);
    ust_stack_free(s);
}

/* ipc_update_perm(): a uid or gid that maps to nobody at all ((uid_t)-1) is
 * EINVAL, and nothing changes. Needs no second user. */
static void test_msgctl_ipc_set_invalid_uid_or_gid_is_einval(void **state)
{
    (void)state;
    struct ust_stack *s = new_stack();
    int id = ust_msgget(s, IPC_PRIVATE, 0600);
    assert_true(id >= 0);
    struct msqid_ds ds, now;
    assert_int_equal(ust_msgctl(s, id, IPC_STAT, &ds), 0);
    struct msqid_ds bad = ds;
    bad.msg_perm.uid = (uid_t)-1;
    bad.msg_perm.mode = 0666;
    assert_int_equal(ust_msgctl(s, id, IPC_SET, &bad), -1);
    assert_int_equal(errno, EINVAL);
    bad = ds;
    bad.msg_perm.gid = (gid_t)-1;
    assert_int_equal(ust_msgctl(s, id, IPC_SET, &bad), -1);
    assert_int_equal(errno, EINVAL);
    assert_int_equal(ust_msgctl(s, id, IPC_STAT, &now), 0);
    assert_int_equal(now.msg_perm.uid, ds.msg_perm.uid);
    assert_int_equal(now.msg_perm.mode & 0777, 0600);
    ust_stack_free(s);
}

struct blocked_rcv {
    struct ust_stack *s;
    int id;
    ssize_t r;
    int err;
};

static void *blocked_receiver(void *arg)
{
    struct blocked_rcv *b = arg;
    struct { long mtype; char text[16]; } m;
    b->r = ust_msgrcv(b->s, b->id, &m, sizeof(m.text), 0, 0);
    b->err = errno;
    return NULL;
}

/* msgctl IPC_SET wakes blocked receivers to check their permission again
 * (expunge_all(-EAGAIN) in msgctl_down; do_msgrcv checks ipcperms on every
 * pass): a receiver blocked on an empty queue fails with EACCES once the
 * owner takes read permission away. One user; needs the stack thread. */
static void test_ipc_set_revoking_read_fails_blocked_receiver_eacces(void **state)
{
    (void)state;
    struct ust_stack *s = pt_started_stack();
    int id = ust_msgget(s, IPC_PRIVATE, 0600);
    assert_true(id >= 0);
    struct blocked_rcv b = { s, id, 0, 0 };
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, blocked_receiver, &b), 0);
    pt_wait_asleep(s, 1);
    struct msqid_ds ds;
    assert_int_equal(ust_msgctl(s, id, IPC_STAT, &ds), 0);
    ds.msg_perm.mode = 0200;
    assert_int_equal(ust_msgctl(s, id, IPC_SET, &ds), 0);
    pt_join(t);
    assert_int_equal(b.r, -1);
    assert_int_equal(b.err, EACCES);
    /* And a sender without write permission fails at once. */
    ds.msg_perm.mode = 0400;
    assert_int_equal(ust_msgctl(s, id, IPC_SET, &ds), 0);
    struct { long mtype; char text[4]; } m = { 1, "abc" };
    assert_int_equal(ust_msgsnd(s, id, &m, 3, 0), -1);
    assert_int_equal(errno, EACCES);
    ust_stack_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        ipc_dir_test(test_msgget02_eacces_by_mode_bits_for_another_user),
        ipc_dir_test(test_msgsnd_msgrcv_eacces_for_another_user),
        ipc_dir_test(test_msgctl04_eperm_for_rmid_and_set_as_nobody),
        ipc_dir_test(test_msgctl_ipc_set_uid_gid_and_owner_or_creator_rule),
        ipc_dir_test(test_msgctl_ipc_set_invalid_uid_or_gid_is_einval),
        /* Last: the only test that starts threads (the others fork). */
        ipc_dir_test(test_ipc_set_revoking_read_fails_blocked_receiver_eacces),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
