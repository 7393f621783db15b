/* Crash safety of the shared queue at every commit step, deterministically:
 * a child process SIGKILLs itself (ust_shmq_test_crash_at) at each crash
 * point of a send or a receive - journal written but not committed,
 * committed with 0..n of its writes applied, journal cleared - while holding
 * the queue's robust lock. After each death the survivor proves that:
 *  - the lock is not held forever (the next call gets it and repairs);
 *  - the queue holds exactly the old or exactly the new contents, in order
 *    (never a half-linked or half-written message);
 *  - a receiver that was asleep on the empty queue is woken by the dying
 *    sender's committed message, or by the next one if it was not committed;
 *  - afterwards every slot still works (fill to maxmsg and drain, twice).
 * The random-moment version is test_shmq_kill.c. */
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

#include "ipc/shm_queue.h"
#include "unit/shmq_test_util.h"

#define KIND "test"
#define MAXMSG 4

static void put(struct ust_shmq *q, const char *s, int64_t key)
{
    assert_int_equal(ust_shmq_send(q, s, strlen(s) + 1, key, UST_SHMQ_NONBLOCK, NULL), 0);
}

/* Drains q into out ("a,b,c"); checks every message is intact. */
static void drain(struct ust_shmq *q, char *out, size_t len)
{
    out[0] = '\0';
    char buf[64];
    ssize_t n;
    while ((n = ust_shmq_receive(q, buf, sizeof(buf), NULL, NULL, UST_SHMQ_NONBLOCK, NULL)) > 0) {
        assert_int_equal(buf[n - 1], '\0');
        assert_int_equal((size_t)n, strlen(buf) + 1);
        if (out[0])
            strncat(out, ",", len - strlen(out) - 1);
        strncat(out, buf, len - strlen(out) - 1);
    }
    assert_int_equal(n, -EAGAIN);
}

/* Every slot and the free list still work: fill, drain in order, twice. */
static void check_usable(struct ust_shmq *q)
{
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < MAXMSG; i++) {
            char m[8];
            snprintf(m, sizeof(m), "u%d", i);
            put(q, m, 1);
        }
        assert_int_equal(ust_shmq_send(q, "z", 2, 1, UST_SHMQ_NONBLOCK, NULL), -EAGAIN);
        char got[128];
        drain(q, got, sizeof(got));
        assert_string_equal(got, "u0,u1,u2,u3");
    }
    struct ust_shmq_info info;
    assert_int_equal(ust_shmq_getattr(q, &info), 0);
    assert_int_equal(info.curmsgs, 0);
    assert_int_equal(info.bytes, 0);
}

/* A child that opens the queue and runs one operation with the crash hook. */
static pid_t crasher(const char *name, unsigned point, bool send)
{
    pid_t pid = fork_child();
    if (pid == 0) {
        struct ust_shmq *c = NULL;
        if (ust_shmq_open(NULL, KIND, name, 0, UST_SHMQ_RD | UST_SHMQ_WR, NULL, &c) != 0)
            _exit(1);
        ust_shmq_test_crash_at(c, point);
        if (send) {
            if (ust_shmq_send(c, "x", 2, 2, 0, NULL) != 0)
                _exit(2);
        } else {
            char buf[64];
            if (ust_shmq_receive(c, buf, sizeof(buf), NULL, NULL, 0, NULL) != 3)
                _exit(3);
        }
        _exit(0);                       /* the operation had fewer crash points */
    }
    return pid;
}

/* A send inserting in the middle (p3 x2 p1), killed at each point. */
static void test_shmq_send_killed_at_every_commit_step(void **state)
{
    (void)state;
    char name[64];
    snprintf(name, sizeof(name), "c%d_1", (int)getpid());
    struct ust_shmq_attr a = { .maxmsg = MAXMSG, .msgsize = 64, .flags = UST_SHMQ_PRIO,
                               .mode = 0600 };
    struct ust_shmq *q = NULL;
    assert_int_equal(ust_shmq_open(NULL, KIND, name, O_CREAT | O_EXCL, UST_SHMQ_RD | UST_SHMQ_WR, &a,
                                   &q), 0);
    unsigned killed = 0;
    for (unsigned point = 1; point < 20; point++) {
        /* Vary the free list: the first rounds use never-used slots. */
        put(q, "p1", 1);
        put(q, "p3", 3);
        struct ust_shmq_info before;
        assert_int_equal(ust_shmq_getattr(q, &before), 0);
        int st = wait_child(crasher(name, point, true));
        char got[128];
        drain(q, got, sizeof(got));
        struct ust_shmq_info after;
        assert_int_equal(ust_shmq_getattr(q, &after), 0);
        if (st == 0) {                  /* past the last crash point */
            assert_string_equal(got, "p3,x,p1");
            break;
        }
        assert_int_equal(st, 128 + SIGKILL);
        killed++;
        assert_int_equal(after.repairs, before.repairs + 1);
        if (point == 1)
            assert_string_equal(got, "p3,p1");      /* not committed: no trace */
        else
            assert_string_equal(got, "p3,x,p1");    /* committed: delivered */
        check_usable(q);
    }
    assert_true(killed >= 5);           /* commit, each write, clear */
    ust_shmq_close(q);
    assert_int_equal(ust_shmq_unlink(NULL, KIND, name), 0);
}

/* A receive taking the head (p3) of p3 x2 p1, killed at each point: the
 * message is either still there or gone with the dead receiver. */
static void test_shmq_receive_killed_at_every_commit_step(void **state)
{
    (void)state;
    char name[64];
    snprintf(name, sizeof(name), "c%d_2", (int)getpid());
    struct ust_shmq_attr a = { .maxmsg = MAXMSG, .msgsize = 64, .flags = UST_SHMQ_PRIO,
                               .mode = 0600 };
    struct ust_shmq *q = NULL;
    assert_int_equal(ust_shmq_open(NULL, KIND, name, O_CREAT | O_EXCL, UST_SHMQ_RD | UST_SHMQ_WR, &a,
                                   &q), 0);
    unsigned killed = 0;
    for (unsigned point = 1; point < 20; point++) {
        put(q, "p1", 1);
        put(q, "x", 2);
        put(q, "p3", 3);
        int st = wait_child(crasher(name, point, false));
        char got[128];
        drain(q, got, sizeof(got));
        if (st == 0) {
            assert_string_equal(got, "x,p1");
            break;
        }
        assert_int_equal(st, 128 + SIGKILL);
        killed++;
        assert_string_equal(got, point == 1 ? "p3,x,p1" : "x,p1");
        check_usable(q);
    }
    assert_true(killed >= 5);
    ust_shmq_close(q);
    assert_int_equal(ust_shmq_unlink(NULL, KIND, name), 0);
}

/* A receiver asleep on an empty queue while the sender dies inside its
 * commit: it gets "x" if the send committed, else the next message "y";
 * never sleeps through either. */
static void test_shmq_sleeping_receiver_survives_sender_death(void **state)
{
    (void)state;
    char name[64];
    snprintf(name, sizeof(name), "c%d_3", (int)getpid());
    struct ust_shmq_attr a = { .maxmsg = MAXMSG, .msgsize = 64, .flags = UST_SHMQ_PRIO,
                               .mode = 0600 };
    struct ust_shmq *q = NULL;
    assert_int_equal(ust_shmq_open(NULL, KIND, name, O_CREAT | O_EXCL, UST_SHMQ_RD | UST_SHMQ_WR, &a,
                                   &q), 0);
    for (unsigned point = 1; point < 20; point++) {
        pid_t r = fork_child();
        if (r == 0) {
            struct ust_shmq *c = NULL;
            if (ust_shmq_open(NULL, KIND, name, 0, UST_SHMQ_RD, NULL, &c) != 0)
                _exit(1);
            ust_shmq_set_spin(c, 0);
            char buf[64];
            struct timespec d = mono_in_ms(20000);
            ssize_t n = ust_shmq_receive(c, buf, sizeof(buf), NULL, NULL, 0, &d);
            if (n == 2 && buf[0] == 'x')
                _exit(10);
            if (n == 2 && buf[0] == 'y')
                _exit(11);
            _exit(2);
        }
        /* Let the receiver register and (very likely) fall asleep. */
        for (int i = 0; i < 20000 && ust_shmq_holders(q, UST_SHMQ_RD) < 2; i++)
            usleep(1000);
        usleep(2000);
        int st = wait_child(crasher(name, point, true));
        if (st == 128 + SIGKILL && point == 1)
            put(q, "y", 1);
        int rst = wait_child(r);
        char got[128];
        drain(q, got, sizeof(got));
        assert_string_equal(got, "");
        if (st == 0) {
            assert_int_equal(rst, 10);
            break;
        }
        assert_int_equal(st, 128 + SIGKILL);
        assert_int_equal(rst, point == 1 ? 11 : 10);
    }
    check_usable(q);
    ust_shmq_close(q);
    assert_int_equal(ust_shmq_unlink(NULL, KIND, name), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shmq_send_killed_at_every_commit_step),
        cmocka_unit_test(test_shmq_receive_killed_at_every_commit_step),
        cmocka_unit_test(test_shmq_sleeping_receiver_survives_sender_death),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
