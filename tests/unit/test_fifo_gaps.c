/* FIFO rules beyond test_fifo_open.c: mkfifo(3) masks the mode with the
 * umask (cfg.ipc_umask, or by default the process umask), open(2) needs the
 * mode's bits for the caller's class (EACCES; a second user is tried in a
 * forked child when running as root), a FIFO open that would pass
 * pipe-user-pages-hard fails with ENOMEM (Linux fifo_open), and F_SETFL
 * O_DIRECT makes a FIFO writer write packets (setfl() allows it on any
 * S_ISFIFO file). No stack thread. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "unit/ipc_dir_test_util.h"

#include "ipc_cred_util.h"

static struct ust_stack *new_stack(int ipc_umask)
{
    struct ust_stack_config c;
    ust_stack_config_init(&c);
    c.seed = 3;
    c.raise_sigpipe = 0;
    c.ipc_umask = ipc_umask;
    struct ust_stack *s = ust_stack_new(&c);
    assert_non_null(s);
    return s;
}

static void expect_err(long r, int err)
{
    assert_int_equal(r, -1);
    assert_int_equal(errno, err);
}

/* mkfifo(3): "the permissions are modified by the process's umask". With
 * umask 0277, mode 0666 becomes 0400 [probe: stat shows 0400]: the owner
 * may open for reading, not for writing (no root override in ustack). */
static void test_mkfifo_mode_masked_by_cfg_umask(void **state)
{
    (void)state;
    struct ust_stack *s = new_stack(0277);
    assert_int_equal(ust_mkfifo(s, "f", 0666), 0);
    int r = ust_open(s, "f", O_RDONLY | O_NONBLOCK);
    assert_true(r >= 0);
    expect_err(ust_open(s, "f", O_WRONLY | O_NONBLOCK), EACCES);  /* before ENXIO */
    expect_err(ust_open(s, "f", O_RDWR), EACCES);
    ust_stack_free(s);
}

/* By default the process umask at the time of mkfifo applies. */
static void test_mkfifo_mode_masked_by_process_umask_by_default(void **state)
{
    (void)state;
    struct ust_stack *s = new_stack(-1);
    mode_t old = umask(0277);
    assert_int_equal(ust_mkfifo(s, "masked", 0666), 0);
    umask(0);
    assert_int_equal(ust_mkfifo(s, "whole", 0666), 0);
    umask(old);
    expect_err(ust_open(s, "masked", O_RDWR), EACCES);
    int w = ust_open(s, "whole", O_RDWR);
    assert_true(w >= 0);
    ust_stack_free(s);
}

struct open_arg {
    const char *path;
    int flags;
};

static int child_open(struct ust_stack *s, void *arg)
{
    struct open_arg *a = arg;
    return cred_errno_of(ust_open(s, a->path, a->flags));
}

static int open_as(struct ust_stack *s, uid_t uid, gid_t gid, const char *path, int flags)
{
    struct open_arg a = { path, flags };
    return cred_run_as(s, uid, gid, NULL, 0, child_open, &a);
}

/* open(2) EACCES for another user: root's FIFO with mode 0644 lets nobody
 * open it for reading only; mode 0660 lets the group (gid 0) write. */
static void test_fifo_open_eacces_for_another_user(void **state)
{
    (void)state;
    CRED_REQUIRE_ROOT();
    struct ust_stack *s = new_stack(0);
    assert_int_equal(ust_mkfifo(s, "f644", 0644), 0);
    assert_int_equal(open_as(s, CRED_NOBODY, CRED_NOBODY, "f644", O_RDONLY | O_NONBLOCK), CRED_OK);
    assert_int_equal(open_as(s, CRED_NOBODY, CRED_NOBODY, "f644", O_WRONLY | O_NONBLOCK), EACCES);
    assert_int_equal(open_as(s, CRED_NOBODY, CRED_NOBODY, "f644", O_RDWR), EACCES);
    assert_int_equal(ust_mkfifo(s, "f660", 0660), 0);
    assert_int_equal(open_as(s, CRED_NOBODY, 0, "f660", O_RDWR), CRED_OK);
    assert_int_equal(open_as(s, CRED_NOBODY, CRED_NOBODY, "f660", O_RDONLY | O_NONBLOCK), EACCES);
    ust_stack_free(s);
}

/* fifo_open(): alloc_pipe_info() failing at pipe-user-pages-hard gives
 * ENOMEM. A FIFO already open (its pipe exists) still opens. */
static void test_fifo_open_enomem_at_pipe_user_pages_hard(void **state)
{
    (void)state;
    struct ust_stack_config c;
    ust_stack_config_init(&c);
    c.seed = 3;
    c.pipe_user_pages_soft = 0;
    c.pipe_user_pages_hard = 16;
    c.ipc_umask = 0;
    struct ust_stack *s = ust_stack_new(&c);
    assert_non_null(s);
    assert_int_equal(ust_mkfifo(s, "a", 0600), 0);
    assert_int_equal(ust_mkfifo(s, "b", 0600), 0);
    int a = ust_open(s, "a", O_RDWR);               /* 16 pages: at the limit */
    assert_true(a >= 0);
    expect_err(ust_open(s, "b", O_RDWR), ENOMEM);
    int a2 = ust_open(s, "a", O_RDONLY | O_NONBLOCK);
    assert_true(a2 >= 0);
    int p[2];
    expect_err(ust_pipe(s, p), ENFILE);
    assert_int_equal(ust_close(s, a), 0);
    assert_int_equal(ust_close(s, a2), 0);          /* a's pipe is gone */
    int b = ust_open(s, "b", O_RDWR);
    assert_true(b >= 0);
    ust_stack_free(s);
}

/* setfl(): O_DIRECT is allowed on any FIFO; the writer then makes
 * packets, and a short read drops the rest of one. */
static void test_fifo_writer_switched_to_packets_by_fsetfl(void **state)
{
    (void)state;
    struct ust_stack *s = new_stack(0);
    assert_int_equal(ust_mkfifo(s, "pk", 0600), 0);
    int r = ust_open(s, "pk", O_RDONLY | O_NONBLOCK);
    int w = ust_open(s, "pk", O_WRONLY | O_NONBLOCK);
    assert_true(r >= 0 && w >= 0);
    assert_int_equal(ust_fcntl(s, w, F_SETFL, O_NONBLOCK | O_DIRECT), 0);
    assert_int_equal(ust_fcntl(s, w, F_GETFL), O_WRONLY | O_NONBLOCK | O_DIRECT);
    assert_int_equal(ust_write(s, w, "abc", 3), 3);
    assert_int_equal(ust_write(s, w, "defgh", 5), 5);
    char buf[16];
    assert_int_equal(ust_read(s, r, buf, 2), 2);
    assert_memory_equal(buf, "ab", 2);
    assert_int_equal(ust_read(s, r, buf, sizeof(buf)), 5);
    assert_memory_equal(buf, "defgh", 5);
    expect_err(ust_lseek(s, r, 0, SEEK_CUR), ESPIPE);
    ust_stack_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        ipc_dir_test(test_mkfifo_mode_masked_by_cfg_umask),
        ipc_dir_test(test_mkfifo_mode_masked_by_process_umask_by_default),
        ipc_dir_test(test_fifo_open_eacces_for_another_user),
        ipc_dir_test(test_fifo_open_enomem_at_pipe_user_pages_hard),
        ipc_dir_test(test_fifo_writer_switched_to_packets_by_fsetfl),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
