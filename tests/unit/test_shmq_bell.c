/* Doorbells for pollers (src/ipc/shm_bell.c with ust_shmq_watch): one bell
 * word gathers the changes of many shared queues, so a process waiting on
 * several objects sleeps on one futex:
 *  - a poller watching three queues, asleep on its bell, is woken by a send
 *    from another process to any one of them, and finds that queue readable;
 *  - each change of a watched queue rings the bell exactly once (sends and
 *    receives), an unwatched queue rings nothing;
 *  - the bell of a process that died without releasing it is reclaimed.
 * The arena is a private test one (ustack.bells.t<pid>), removed at the end. */
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
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "ipc/shm_bell.h"
#include "ipc/shm_queue.h"
#include "unit/shmq_test_util.h"

#define KIND "test"
#define NQ 3

static char arena_name[32];

static void open_queues(struct ust_shmq **q, struct ust_shmbell_arena *a, const char *prefix,
                        bool create)
{
    struct ust_shmq_attr at = { .maxmsg = 4, .msgsize = 64, .mode = 0600 };
    for (int i = 0; i < NQ; i++) {
        char n[64];
        snprintf(n, sizeof(n), "%s_%d", prefix, i);
        assert_int_equal(ust_shmq_open(NULL, KIND, n, create ? O_CREAT | O_EXCL : 0,
                                       UST_SHMQ_RD | UST_SHMQ_WR, &at, &q[i]), 0);
        ust_shmq_set_bells(q[i], a);
    }
}

static void close_queues(struct ust_shmq **q, const char *prefix, bool unlink)
{
    for (int i = 0; i < NQ; i++) {
        ust_shmq_close(q[i]);
        if (unlink) {
            char n[64];
            snprintf(n, sizeof(n), "%s_%d", prefix, i);
            assert_int_equal(ust_shmq_unlink(NULL, KIND, n), 0);
        }
    }
}

static void test_shmq_bell_poller_on_three_queues_woken_by_other_process(void **state)
{
    (void)state;
    char prefix[32];
    snprintf(prefix, sizeof(prefix), "b%d_1", (int)getpid());
    struct ust_shmbell_arena *a = NULL;
    assert_int_equal(ust_shmbell_open(NULL, arena_name, &a), 0);
    int bell = ust_shmbell_claim(a);
    assert_true(bell >= 0);
    struct ust_shmq *q[NQ];
    open_queues(q, a, prefix, true);
    for (int i = 0; i < NQ; i++)
        assert_int_equal(ust_shmq_watch(q[i], bell, true), 0);
    int go[2];
    assert_int_equal(pipe(go), 0);
    pid_t pid = fork_child();
    if (pid == 0) {
        struct ust_shmbell_arena *ca = NULL;
        struct ust_shmq *cq[NQ];
        if (ust_shmbell_open(NULL, arena_name, &ca) != 0)
            _exit(1);
        open_queues(cq, ca, prefix, false);
        char c;
        if (read(go[0], &c, 1) != 1)
            _exit(2);
        if (ust_shmq_send(cq[1], "hello", 5, 0, 0, NULL) != 0)
            _exit(3);
        _exit(0);
    }
    /* The poller's loop: snapshot, check every object, sleep on the bell. */
    bool released = false;
    int ready = -1, sleeps = 0;
    struct timespec deadline = mono_in_ms(20000);
    while (ready < 0) {
        uint32_t snap = ust_shmbell_snapshot(a, bell);
        for (int i = 0; i < NQ && ready < 0; i++)
            if (ust_shmq_readable(q[i]))
                ready = i;
        if (ready >= 0)
            break;
        if (!released) {
            assert_int_equal(write(go[1], "g", 1), 1);
            released = true;
        }
        assert_int_equal(ust_shmbell_wait(a, bell, snap, 0, &deadline), 0);
        sleeps++;
    }
    assert_int_equal(ready, 1);
    assert_true(sleeps >= 1);
    char buf[64];
    assert_int_equal(ust_shmq_receive(q[1], buf, sizeof(buf), NULL, NULL, UST_SHMQ_NONBLOCK, NULL),
                     5);
    assert_int_equal(wait_child(pid), 0);
    close(go[0]);
    close(go[1]);
    close_queues(q, prefix, true);
    ust_shmbell_release(a, bell);
    ust_shmbell_close(a);
}

static void test_shmq_bell_rings_once_per_change_and_unwatch_stops(void **state)
{
    (void)state;
    char prefix[32];
    snprintf(prefix, sizeof(prefix), "b%d_2", (int)getpid());
    struct ust_shmbell_arena *a = NULL;
    assert_int_equal(ust_shmbell_open(NULL, arena_name, &a), 0);
    int bell = ust_shmbell_claim(a);
    assert_true(bell >= 0);
    struct ust_shmq *q[NQ];
    open_queues(q, a, prefix, true);
    for (int i = 0; i < NQ; i++)
        assert_int_equal(ust_shmq_watch(q[i], bell, true), 0);
    assert_int_equal(ust_shmq_watch(q[0], bell, true), 0);     /* twice: one bit */
    uint32_t c0 = ust_shmbell_count(a, bell);
    for (int i = 0; i < NQ; i++)
        assert_int_equal(ust_shmq_send(q[i], "m", 1, 0, UST_SHMQ_NONBLOCK, NULL), 0);
    assert_int_equal(ust_shmbell_count(a, bell), c0 + 3);
    char buf[64];
    assert_int_equal(ust_shmq_receive(q[0], buf, 64, NULL, NULL, UST_SHMQ_NONBLOCK, NULL), 1);
    assert_int_equal(ust_shmbell_count(a, bell), c0 + 4);
    /* A failed call changes nothing and rings nothing. */
    assert_int_equal(ust_shmq_receive(q[0], buf, 64, NULL, NULL, UST_SHMQ_NONBLOCK, NULL),
                     -EAGAIN);
    assert_int_equal(ust_shmbell_count(a, bell), c0 + 4);
    assert_int_equal(ust_shmq_watch(q[2], bell, false), 0);
    assert_int_equal(ust_shmq_send(q[2], "n", 1, 0, UST_SHMQ_NONBLOCK, NULL), 0);
    assert_int_equal(ust_shmbell_count(a, bell), c0 + 4);
    assert_int_equal(ust_shmq_watch(q[2], UST_SHMBELL_MAX, true), -EINVAL);
    close_queues(q, prefix, true);
    ust_shmbell_release(a, bell);
    ust_shmbell_close(a);
}

static void test_shmq_bell_of_dead_owner_is_reclaimed(void **state)
{
    (void)state;
    struct ust_shmbell_arena *a = NULL;
    assert_int_equal(ust_shmbell_open(NULL, arena_name, &a), 0);
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork_child();
    if (pid == 0) {
        struct ust_shmbell_arena *ca = NULL;
        if (ust_shmbell_open(NULL, arena_name, &ca) != 0)
            _exit(1);
        int b = ust_shmbell_claim(ca);
        if (write(fds[1], &b, sizeof(b)) != sizeof(b))
            _exit(2);
        kill(getpid(), SIGKILL);        /* dies owning the bell */
        _exit(3);
    }
    int dead_bell = -1;
    assert_int_equal(read(fds[0], &dead_bell, sizeof(dead_bell)), sizeof(dead_bell));
    assert_true(dead_bell >= 0);
    assert_int_equal(wait_child(pid), 128 + SIGKILL);
    /* Take every free bell; the next claim must reclaim the dead one. */
    int *mine = malloc(UST_SHMBELL_MAX * sizeof(int));
    assert_non_null(mine);
    int n = 0, b;
    while (n < UST_SHMBELL_MAX && (b = ust_shmbell_claim(a)) >= 0 && b != dead_bell)
        mine[n++] = b;
    assert_int_equal(b, dead_bell);
    assert_int_equal(n, UST_SHMBELL_MAX - 1);
    assert_int_equal(ust_shmbell_claim(a), -ENOSPC);
    ust_shmbell_release(a, dead_bell);
    for (int i = 0; i < n; i++)
        ust_shmbell_release(a, mine[i]);
    free(mine);
    close(fds[0]);
    close(fds[1]);
    ust_shmbell_close(a);
}

int main(void)
{
    snprintf(arena_name, sizeof(arena_name), "t%d", (int)getpid());
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shmq_bell_poller_on_three_queues_woken_by_other_process),
        cmocka_unit_test(test_shmq_bell_rings_once_per_change_and_unwatch_stops),
        cmocka_unit_test(test_shmq_bell_of_dead_owner_is_reclaimed),
    };
    int r = cmocka_run_group_tests(tests, NULL, NULL);
    ust_shmbell_unlink(NULL, arena_name);
    return r;
}
