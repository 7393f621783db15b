/* POSIX message queue permissions with a second user (LTP mq_unlink01,
 * mq_open01 "a user without permission"): each check forks, the child drops
 * to another uid/gid and calls ustack on its copy of the stack, and reports
 * the errno. Needs root (skipped otherwise). These also prove that ustack
 * reads the credentials at the time of each call: the stack was made by
 * root, and the child's calls see the child's ids. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>
#include <cmocka.h>

#include "unit/ipc_dir_test_util.h"

#include "ipc_cred_util.h"

static struct ust_stack *new_stack(void)
{
    struct ust_stack_config c;
    ust_stack_config_init(&c);
    c.seed = 5;
    c.ipc_umask = 0;        /* modes exactly as given */
    struct ust_stack *s = ust_stack_new(&c);
    assert_non_null(s);
    return s;
}

static int create(struct ust_stack *s, const char *name, mode_t mode)
{
    int q = ust_mq_open(s, name, O_RDWR | O_CREAT | O_EXCL, mode, NULL);
    assert_true(q >= 0);
    return q;
}

struct open_arg {
    const char *name;
    int oflag;
};

static int child_open(struct ust_stack *s, void *arg)
{
    struct open_arg *a = arg;
    return cred_errno_of(ust_mq_open(s, a->name, a->oflag));
}

static int child_unlink(struct ust_stack *s, void *arg)
{
    return cred_errno_of(ust_mq_unlink(s, arg));
}

/* Opens name with oflag as uid/gid (+ groups) and returns the errno. */
static int open_as(struct ust_stack *s, uid_t uid, gid_t gid, const gid_t *groups, size_t ng,
                   const char *name, int oflag)
{
    struct open_arg a = { name, oflag };
    return cred_run_as(s, uid, gid, groups, ng, child_open, &a);
}

/* mq_unlink01: a queue made by root cannot be unlinked by nobody (Linux:
 * EPERM from the sticky /dev/mqueue, EACCES from glibc); root still can. */
static void test_mq_unlink01_eacces_as_nobody(void **state)
{
    (void)state;
    CRED_REQUIRE_ROOT();
    struct ust_stack *s = new_stack();
    create(s, "/rootq", 0666);
    assert_int_equal(cred_run_as(s, CRED_NOBODY, CRED_NOBODY, NULL, 0, child_unlink,
                                 (void *)"/rootq"), EACCES);
    /* The child's calls did not touch the parent's stack. */
    int q = ust_mq_open(s, "/rootq", O_RDONLY);
    assert_true(q >= 0);
    assert_int_equal(ust_mq_unlink(s, "/rootq"), 0);
    ust_stack_free(s);
}

/* The owner of a queue is the euid at mq_open time: a queue nobody creates
 * with mode 0400 is nobody's (the owner bits let it read, not write), and
 * nobody may unlink it. Creating succeeds whatever the mode. */
static int child_create_then_unlink(struct ust_stack *s, void *arg)
{
    (void)arg;
    if (ust_mq_open(s, "/mine", O_RDWR | O_CREAT, 0400, NULL) < 0)
        return 100;
    if (ust_mq_open(s, "/mine", O_RDONLY) < 0)
        return 101;
    if (ust_mq_open(s, "/mine", O_WRONLY) >= 0 || errno != EACCES)
        return 102;
    return cred_errno_of(ust_mq_unlink(s, "/mine"));
}

static void test_mq_owner_is_the_euid_at_create_time(void **state)
{
    (void)state;
    CRED_REQUIRE_ROOT();
    struct ust_stack *s = new_stack();
    assert_int_equal(cred_run_as(s, CRED_NOBODY, CRED_NOBODY, NULL, 0, child_create_then_unlink,
                                 NULL), CRED_OK);
    ust_stack_free(s);
}

/* mq_open01 EACCES: the "other" bits decide for a stranger. Mode 0644:
 * nobody may open for reading only. */
static void test_mq_open01_eacces_by_other_bits(void **state)
{
    (void)state;
    CRED_REQUIRE_ROOT();
    struct ust_stack *s = new_stack();
    create(s, "/q644", 0644);
    assert_int_equal(open_as(s, CRED_NOBODY, CRED_NOBODY, NULL, 0, "/q644", O_RDONLY), CRED_OK);
    assert_int_equal(open_as(s, CRED_NOBODY, CRED_NOBODY, NULL, 0, "/q644", O_WRONLY), EACCES);
    assert_int_equal(open_as(s, CRED_NOBODY, CRED_NOBODY, NULL, 0, "/q644", O_RDWR), EACCES);
    create(s, "/q602", 0602);
    assert_int_equal(open_as(s, CRED_NOBODY, CRED_NOBODY, NULL, 0, "/q602", O_WRONLY), CRED_OK);
    assert_int_equal(open_as(s, CRED_NOBODY, CRED_NOBODY, NULL, 0, "/q602", O_RDONLY), EACCES);
    ust_stack_free(s);
}

/* The group bits apply when the effective gid, or a supplementary group, is
 * the queue's group (root's gid 0 here), and then the other bits do not:
 * mode 0060 lets such a user read and write while root, the owner, gets
 * EACCES (the owner class has nothing; no root override). */
static void test_mq_open_group_class_by_egid_or_supplementary_group(void **state)
{
    (void)state;
    CRED_REQUIRE_ROOT();
    struct ust_stack *s = new_stack();
    create(s, "/grp", 0060);
    gid_t root_group = 0;
    assert_int_equal(open_as(s, CRED_NOBODY, 0, NULL, 0, "/grp", O_RDWR), CRED_OK);
    assert_int_equal(open_as(s, CRED_NOBODY, CRED_NOBODY, &root_group, 1, "/grp", O_RDWR), CRED_OK);
    assert_int_equal(open_as(s, CRED_NOBODY, CRED_NOBODY, NULL, 0, "/grp", O_RDONLY), EACCES);
    int r = ust_mq_open(s, "/grp", O_RDONLY);
    assert_int_equal(r, -1);
    assert_int_equal(errno, EACCES);
    /* Mode 0606: the group class (gid 0) gets nothing, even though the
     * other bits would allow it. */
    create(s, "/grp606", 0606);
    assert_int_equal(open_as(s, CRED_NOBODY, 0, NULL, 0, "/grp606", O_RDONLY), EACCES);
    assert_int_equal(open_as(s, CRED_NOBODY, CRED_NOBODY, NULL, 0, "/grp606", O_RDONLY), CRED_OK);
    ust_stack_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        ipc_dir_test(test_mq_unlink01_eacces_as_nobody),
        ipc_dir_test(test_mq_owner_is_the_euid_at_create_time),
        ipc_dir_test(test_mq_open01_eacces_by_other_bits),
        ipc_dir_test(test_mq_open_group_class_by_egid_or_supplementary_group),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
