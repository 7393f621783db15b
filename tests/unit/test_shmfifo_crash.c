/* Crash safety of the shared FIFO byte ring at every commit step,
 * deterministically: a child process SIGKILLs itself (ust_shmf_test_crash_at)
 * at each crash point of a write or a read - half of the bytes copied, all
 * copied, journal written but not committed, committed with 0..n of its
 * writes applied, journal cleared - while holding the ring's robust lock,
 * with the bytes wrapping around the end of the ring. After each death the
 * survivor proves that:
 *  - the lock is not held forever (the next call gets it and repairs it);
 *  - the ring holds exactly the old or exactly the new bytes: a write is all
 *    there (committed) or not there at all, a read consumed all it copied
 *    or nothing;
 *  - a reader asleep on the empty ring is woken by the dying writer's
 *    committed bytes, or by the next write if they were not committed;
 *  - afterwards the whole capacity still works (fill, wrap, drain). */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "ipc/shm_fifo.h"
#include "ipc/shm_queue.h"
#include "unit/shmq_test_util.h"

#define CAP 8192u

/* ctest's USTACK_IPC_DIR for this test (made on first use), else /dev/shm. */
static const char *dir(void)
{
    const char *d = getenv("USTACK_IPC_DIR");
    if (!d || !d[0])
        return NULL;
    mkdir(d, 01777);
    return d;
}

static struct ust_shmf *make(const char *path)
{
    struct ust_shmf_attr a = { .cap = CAP, .max_cap = CAP, .mode = 0600 };
    assert_int_equal(ust_shmf_create(dir(), path, &a), 0);
    struct ust_shmf *f = NULL;
    assert_int_equal(ust_shmf_open(dir(), path, UST_SHMF_RD | UST_SHMF_WR, &f), 0);
    return f;
}

static void put(struct ust_shmf *f, const void *p, size_t n)
{
    assert_int_equal(ust_shmf_write(f, p, n, UST_SHMF_NONBLOCK, NULL), (ssize_t)n);
}

/* Reads everything there is into out (NUL-terminated). */
static size_t drain(struct ust_shmf *f, char *out, size_t len)
{
    size_t got = 0;
    ssize_t n;
    while (got + 1 < len &&
           (n = ust_shmf_read(f, out + got, len - 1 - got, UST_SHMF_NONBLOCK, NULL)) > 0)
        got += (size_t)n;
    out[got] = '\0';
    return got;
}

/* Moves head to ring position pos (the ring is empty before and after). */
static void head_to(struct ust_shmf *f, size_t pos)
{
    static char junk[CAP];
    char buf[CAP + 1];
    assert_int_equal(drain(f, buf, sizeof(buf)), 0);
    /* Write and read whole rings' worth until head sits at pos. */
    size_t used = 0;
    while (used < CAP + pos) {
        size_t n = CAP + pos - used < 4000 ? CAP + pos - used : 4000;
        put(f, junk, n);
        assert_int_equal(drain(f, buf, sizeof(buf)), n);
        used += n;
    }
}

/* The whole capacity still works, wrapping: fill to CAP, EAGAIN, drain. */
static void check_usable(struct ust_shmf *f)
{
    static char big[CAP], back[CAP + 1];
    for (int round = 0; round < 2; round++) {
        for (size_t i = 0; i < CAP; i++)
            big[i] = (char)('a' + (i + (size_t)round) % 26);
        put(f, big, 3000);
        put(f, big + 3000, CAP - 3000);
        assert_int_equal(ust_shmf_write(f, "z", 1, UST_SHMF_NONBLOCK, NULL), -EAGAIN);
        assert_int_equal(drain(f, back, sizeof(back)), CAP);
        assert_memory_equal(back, big, CAP);
    }
}

static uint32_t repairs(const char *path)
{
    char name[UST_SHMO_NAME_MAX + 1];
    assert_int_equal(ust_shmf_name(path, name, sizeof(name)), 0);
    struct ust_shmq_stat st;
    assert_int_equal(ust_shmq_inspect(dir(), UST_SHMF_KIND, name, &st), 0);
    return st.info.repairs;
}

/* A child that opens the FIFO and runs one operation with the crash hook. */
static pid_t crasher(const char *path, unsigned point, bool write)
{
    pid_t pid = fork_child();
    if (pid == 0) {
        struct ust_shmf *c = NULL;
        if (ust_shmf_open(dir(), path, UST_SHMF_RD | UST_SHMF_WR, &c) != 0)
            _exit(1);
        ust_shmf_test_crash_at(c, point);
        if (write) {
            if (ust_shmf_write(c, "0123456789", 10, 0, NULL) != 10)
                _exit(2);
        } else {
            char buf[4];
            if (ust_shmf_read(c, buf, sizeof(buf), 0, NULL) != 4)
                _exit(3);
        }
        _exit(0);                       /* the operation had fewer crash points */
    }
    return pid;
}

/* A 10-byte write after "AAAA", wrapping at the ring's end, killed at each
 * point: points 1-3 (copying, journal not committed) leave no trace, later
 * ones leave all ten bytes. */
static void test_shmfifo_write_killed_at_every_commit_step(void **state)
{
    (void)state;
    char path[64];
    snprintf(path, sizeof(path), "/crash/w%d", (int)getpid());
    struct ust_shmf *f = make(path);
    unsigned killed = 0;
    for (unsigned point = 1; point < 20; point++) {
        head_to(f, CAP - 7 + point % 3);   /* the write wraps around */
        put(f, "AAAA", 4);
        uint32_t before = repairs(path);
        int st = wait_child(crasher(path, point, true));
        char got[64];
        drain(f, got, sizeof(got));
        if (st == 0) {
            assert_string_equal(got, "AAAA0123456789");
            break;
        }
        assert_int_equal(st, 128 + SIGKILL);
        killed++;
        assert_int_equal(repairs(path), before + 1);
        assert_string_equal(got, point <= 3 ? "AAAA" : "AAAA0123456789");
        check_usable(f);
    }
    assert_true(killed >= 6);           /* 2 copy steps, journal, commit, apply, clear */
    ust_shmf_close(f);
    assert_int_equal(ust_shmf_unlink(dir(), path), 0);
}

/* A 4-byte read of "AAAA0123456789", wrapping, killed at each point: the
 * four bytes are still there (not committed) or gone with the reader. */
static void test_shmfifo_read_killed_at_every_commit_step(void **state)
{
    (void)state;
    char path[64];
    snprintf(path, sizeof(path), "/crash/r%d", (int)getpid());
    struct ust_shmf *f = make(path);
    unsigned killed = 0;
    for (unsigned point = 1; point < 20; point++) {
        head_to(f, CAP - 2);
        put(f, "AAAA0123456789", 14);
        uint32_t before = repairs(path);
        int st = wait_child(crasher(path, point, false));
        char got[64];
        drain(f, got, sizeof(got));
        if (st == 0) {
            assert_string_equal(got, "0123456789");
            break;
        }
        assert_int_equal(st, 128 + SIGKILL);
        killed++;
        assert_int_equal(repairs(path), before + 1);
        assert_string_equal(got, point <= 2 ? "AAAA0123456789" : "0123456789");
        check_usable(f);
    }
    assert_true(killed >= 5);           /* copy, journal, commit, 2 applies, clear */
    ust_shmf_close(f);
    assert_int_equal(ust_shmf_unlink(dir(), path), 0);
}

/* A PIPE_BUF write killed half copied leaves nothing; killed after the
 * commit, all 4096 bytes, intact. */
static void test_shmfifo_pipe_buf_write_is_all_or_nothing_under_sigkill(void **state)
{
    (void)state;
    char path[64];
    snprintf(path, sizeof(path), "/crash/p%d", (int)getpid());
    struct ust_shmf *f = make(path);
    static char msg[UST_SHMF_PIPE_BUF], back[CAP + 1];
    for (size_t i = 0; i < sizeof(msg); i++)
        msg[i] = (char)('A' + i % 23);
    const unsigned points[2] = { 1, 4 };
    for (int k = 0; k < 2; k++) {
        head_to(f, CAP - 100);
        pid_t pid = fork_child();
        if (pid == 0) {
            struct ust_shmf *c = NULL;
            if (ust_shmf_open(dir(), path, UST_SHMF_WR, &c) != 0)
                _exit(1);
            ust_shmf_test_crash_at(c, points[k]);
            ust_shmf_write(c, msg, sizeof(msg), 0, NULL);
            _exit(0);
        }
        assert_int_equal(wait_child(pid), 128 + SIGKILL);
        size_t n = drain(f, back, sizeof(back));
        if (k == 0) {
            assert_int_equal(n, 0);
        } else {
            assert_int_equal(n, sizeof(msg));
            assert_memory_equal(back, msg, sizeof(msg));
        }
    }
    check_usable(f);
    ust_shmf_close(f);
    assert_int_equal(ust_shmf_unlink(dir(), path), 0);
}

/* A reader asleep on the empty ring while the writer dies inside its
 * commit: it reads "x" if the write committed, else the next write "y";
 * it never sleeps through either. */
static void test_shmfifo_sleeping_reader_survives_writer_death(void **state)
{
    (void)state;
    char path[64];
    snprintf(path, sizeof(path), "/crash/s%d", (int)getpid());
    struct ust_shmf *f = make(path);
    for (unsigned point = 1; point < 10; point++) {
        pid_t r = fork_child();
        if (r == 0) {
            struct ust_shmf *c = NULL;
            if (ust_shmf_open(dir(), path, UST_SHMF_RD, &c) != 0)
                _exit(1);
            char buf[8];
            struct timespec d = mono_in_ms(20000);
            ssize_t n = ust_shmf_read(c, buf, 1, 0, &d);
            if (n == 1 && buf[0] == 'x')
                _exit(10);
            if (n == 1 && buf[0] == 'y')
                _exit(11);
            _exit(2);
        }
        /* The reader is registered before the writer starts. */
        struct timespec limit = mono_in_ms(20000);
        while (ust_shmf_holders(f, UST_SHMF_RD, true) < 2) {
            struct timespec now;
            clock_gettime(CLOCK_MONOTONIC, &now);
            assert_true(now.tv_sec < limit.tv_sec);
            sched_yield();
        }
        pid_t w = fork_child();
        if (w == 0) {
            struct ust_shmf *c = NULL;
            if (ust_shmf_open(dir(), path, UST_SHMF_WR, &c) != 0)
                _exit(1);
            ust_shmf_test_crash_at(c, point);
            ust_shmf_write(c, "x", 1, 0, NULL);
            _exit(0);
        }
        int ws = wait_child(w);
        bool committed = ws == 0 || point >= 4;
        if (!committed)
            put(f, "y", 1);
        int rs = wait_child(r);
        assert_int_equal(rs, committed ? 10 : 11);
        char rest[8];
        drain(f, rest, sizeof(rest));
        if (ws == 0)
            break;
    }
    ust_shmf_close(f);
    assert_int_equal(ust_shmf_unlink(dir(), path), 0);
}

/* The first packet write (O_DIRECT) after stream bytes "AAAA" turns packet
 * mode on: killed at each point, the segments are consistent with the bytes:
 * not committed, "AAAA" is a plain stream; committed, a read of 6 gets the
 * stream run and the start of the packet, and drops the packet's rest. */
static void test_shmfifo_first_packet_write_killed_at_every_commit_step(void **state)
{
    (void)state;
    char path[64];
    snprintf(path, sizeof(path), "/crash/k%d", (int)getpid());
    unsigned killed = 0;
    for (unsigned point = 1; point < 20; point++) {
        struct ust_shmf *f = make(path);    /* a new FIFO: packet mode off */
        put(f, "AAAA", 4);
        pid_t pid = fork_child();
        if (pid == 0) {
            struct ust_shmf *c = NULL;
            if (ust_shmf_open(dir(), path, UST_SHMF_WR, &c) != 0)
                _exit(1);
            ust_shmf_test_crash_at(c, point);
            if (ust_shmf_write(c, "0123456789", 10, UST_SHMF_PACKET, NULL) != 10)
                _exit(2);
            _exit(0);
        }
        int st = wait_child(pid);
        char got[16] = { 0 };
        ssize_t n = ust_shmf_read(f, got, 6, UST_SHMF_NONBLOCK, NULL);
        bool committed = st == 0 || point >= 4;
        if (committed) {
            assert_int_equal(n, 6);
            assert_memory_equal(got, "AAAA01", 6);
        } else {
            assert_int_equal(n, 4);
            assert_memory_equal(got, "AAAA", 4);
        }
        assert_int_equal(ust_shmf_read(f, got, sizeof(got), UST_SHMF_NONBLOCK, NULL), -EAGAIN);
        if (st != 0) {
            assert_int_equal(st, 128 + SIGKILL);
            killed++;
        }
        check_usable(f);
        ust_shmf_close(f);
        assert_int_equal(ust_shmf_unlink(dir(), path), 0);
        if (st == 0)
            break;
    }
    assert_true(killed >= 6);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shmfifo_write_killed_at_every_commit_step),
        cmocka_unit_test(test_shmfifo_read_killed_at_every_commit_step),
        cmocka_unit_test(test_shmfifo_pipe_buf_write_is_all_or_nothing_under_sigkill),
        cmocka_unit_test(test_shmfifo_sleeping_reader_survives_writer_death),
        cmocka_unit_test(test_shmfifo_first_packet_write_killed_at_every_commit_step),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
