/* Helpers for the permission tests that need a second user: run one ustack
 * call in a forked child that has dropped to another uid/gid, and hand its
 * errno back through the exit status.
 *
 * The child works on its copy-on-write copy of the stack (no stack thread
 * may run: the test stacks here have none), sets its groups, gid and uid
 * with setgroups/setresgid/setresuid, calls the function and leaves with
 * _exit (nothing else runs in the child, which keeps ThreadSanitizer
 * builds happy). Include after <cmocka.h>. */
#ifndef UST_TESTS_IPC_CRED_UTIL_H
#define UST_TESTS_IPC_CRED_UTIL_H

#include <errno.h>
#include <grp.h>
#include <stdbool.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ustack/ustack.h>

/* nobody / nogroup on most systems; only the numbers matter. */
#define CRED_NOBODY 65534
#define CRED_OTHER 65533

/* Exit status of a child whose call succeeded, and of one that could not
 * drop its privileges. */
#define CRED_OK 0
#define CRED_SETUP_FAILED 250

/* Skips the calling test unless it runs as root (needed to switch ids). */
#define CRED_REQUIRE_ROOT()                                                                   \
    do {                                                                                      \
        if (geteuid() != 0) {                                                                 \
            print_message("skipped: needs root to act as a second user\n");                   \
            skip();                                                                           \
        }                                                                                     \
    } while (0)

/* The call made as the other user: 0 (success) or an errno. */
typedef int (*cred_fn)(struct ust_stack *s, void *arg);

/* Result of a call returning -1/errno or >= 0: CRED_OK or the errno. */
static inline int cred_errno_of(long r)
{
    return r < 0 ? errno : CRED_OK;
}

/* Runs fn(s, arg) in a child with euid/egid uid/gid; ngroups supplementary
 * groups from groups (0: none). Returns what fn returned (CRED_OK or an
 * errno), failing the test when the child could not set up or died. */
static inline int cred_run_as(struct ust_stack *s, uid_t uid, gid_t gid, const gid_t *groups,
                              size_t ngroups, cred_fn fn, void *arg)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (setgroups(ngroups, groups) != 0 || setresgid(gid, gid, gid) != 0 ||
            setresuid(uid, uid, uid) != 0 || geteuid() != uid || getegid() != gid)
            _exit(CRED_SETUP_FAILED);
        int r = fn(s, arg);
        _exit(r < 0 || r > 200 ? 201 : r);
    }
    int status;
    pid_t w;
    while ((w = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
        ;
    assert_int_equal(w, pid);
    assert_true(WIFEXITED(status));
    assert_int_not_equal(WEXITSTATUS(status), CRED_SETUP_FAILED);
    return WEXITSTATUS(status);
}

#endif
