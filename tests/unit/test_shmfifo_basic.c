/* The shared FIFO byte ring (shm_fifo.h) on its own, in one process:
 *  - object names: the path percent-encoded, a long path hashed; ipcs's
 *    view of the object (ust_shmq_inspect: bytes, capacity, holders);
 *  - create / open errors (EEXIST, ENOENT, EINVAL, EBADF for the wrong side);
 *  - pipe(7) at the ring: a write of <= PIPE_BUF is all or nothing, a larger
 *    one takes what fits; read returns what is there, 0 with no writer left;
 *    EPIPE with no reader left;
 *  - the capacity: F_SETPIPE_SZ's EBUSY and EPERM, growth wakes writers;
 *  - packets (O_DIRECT): a read ends at a packet and drops its rest; a
 *    packet takes one of cap / page slots; stream bytes join the tail run;
 *  - the last close empties the ring, and a new set of opens starts with the
 *    default capacity. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "ipc/shm_fifo.h"
#include "ipc/shm_queue.h"

#define CAP 8192u

static const char *dir(void)
{
    const char *d = getenv("USTACK_IPC_DIR");
    if (!d || !d[0])
        return NULL;
    mkdir(d, 01777);
    return d;
}

static void make(const char *path, uint32_t cap, uint32_t max_cap)
{
    struct ust_shmf_attr a = { .cap = cap, .max_cap = max_cap, .mode = 0600 };
    assert_int_equal(ust_shmf_create(dir(), path, &a), 0);
}

static struct ust_shmf *opn(const char *path, unsigned access)
{
    struct ust_shmf *f = NULL;
    assert_int_equal(ust_shmf_open(dir(), path, access, &f), 0);
    return f;
}

static void test_shmfifo_names_are_encoded_and_long_paths_hashed(void **state)
{
    (void)state;
    char name[UST_SHMO_NAME_MAX + 1];
    assert_int_equal(ust_shmf_name("/a%b#c/d", name, sizeof(name)), 0);
    assert_string_equal(name, "%2Fa%25b%23c%2Fd");
    assert_int_equal(ust_shmf_name("plain", name, sizeof(name)), 0);
    assert_string_equal(name, "plain");
    char long1[300], long2[300], n2[UST_SHMO_NAME_MAX + 1];
    memset(long1, 'x', sizeof(long1) - 1);
    long1[sizeof(long1) - 1] = '\0';
    memcpy(long2, long1, sizeof(long1));
    long2[150] = 'y';
    assert_int_equal(ust_shmf_name(long1, name, sizeof(name)), 0);
    assert_int_equal(ust_shmf_name(long2, n2, sizeof(n2)), 0);
    assert_int_equal(name[0], '#');
    assert_int_equal(strlen(name), 33);
    assert_string_not_equal(name, n2);
    /* A long path is a FIFO like any other. */
    make(long1, CAP, CAP);
    struct ust_shmf *f = opn(long1, UST_SHMF_RD | UST_SHMF_WR);
    assert_int_equal(ust_shmf_write(f, "hi", 2, UST_SHMF_NONBLOCK, NULL), 2);
    /* ipcs's read-only view of a FIFO object: bytes, capacity, holders. */
    struct ust_shmq_stat st;
    assert_int_equal(ust_shmq_inspect(dir(), UST_SHMF_KIND, name, &st), 0);
    assert_int_equal(st.info.bytes, 2);
    assert_int_equal(st.info.max_bytes, CAP);
    assert_int_equal(st.info.readers, 1);
    assert_int_equal(st.info.writers, 1);
    assert_int_equal(st.info.mode, 0600);
    ust_shmf_close(f);
    assert_int_equal(ust_shmf_unlink(dir(), long1), 0);
}

static void test_shmfifo_create_and_open_errors(void **state)
{
    (void)state;
    struct ust_shmf_attr bad = { .cap = CAP, .max_cap = CAP / 2, .mode = 0600 };
    assert_int_equal(ust_shmf_create(dir(), "/e", &bad), -EINVAL);
    bad = (struct ust_shmf_attr){ .cap = CAP, .max_cap = CAP + 1, .mode = 0600 };
    assert_int_equal(ust_shmf_create(dir(), "/e", &bad), -EINVAL);
    struct ust_shmf *f = NULL;
    assert_int_equal(ust_shmf_open(dir(), "/e", UST_SHMF_RD, &f), -ENOENT);
    make("/e", CAP, CAP);
    struct ust_shmf_attr a = { .cap = CAP, .max_cap = CAP, .mode = 0600 };
    assert_int_equal(ust_shmf_create(dir(), "/e", &a), -EEXIST);
    struct ust_shmf *r = opn("/e", UST_SHMF_RD);
    assert_int_equal(ust_shmf_write(r, "x", 1, UST_SHMF_NONBLOCK, NULL), -EBADF);
    struct ust_shmf *w = opn("/e", UST_SHMF_WR);
    char c;
    assert_int_equal(ust_shmf_read(w, &c, 1, UST_SHMF_NONBLOCK, NULL), -EBADF);
    ust_shmf_close(w);
    ust_shmf_close(r);
    assert_int_equal(ust_shmf_unlink(dir(), "/e"), 0);
    assert_int_equal(ust_shmf_unlink(dir(), "/e"), -ENOENT);
}

static void test_shmfifo_pipe_buf_all_or_nothing_large_writes_partial_eof_epipe(void **state)
{
    (void)state;
    make("/p", CAP, CAP);
    struct ust_shmf *r = opn("/p", UST_SHMF_RD);
    char buf[CAP + 10];
    assert_int_equal(ust_shmf_read(r, buf, 1, UST_SHMF_NONBLOCK, NULL), 0);  /* no writer */
    struct ust_shmf *w = opn("/p", UST_SHMF_WR);
    assert_int_equal(ust_shmf_read(r, buf, 1, UST_SHMF_NONBLOCK, NULL), -EAGAIN);
    memset(buf, 'q', sizeof(buf));
    assert_int_equal(ust_shmf_write(w, buf, CAP - 100, UST_SHMF_NONBLOCK, NULL), CAP - 100);
    /* 100 bytes free: a 200-byte write is atomic, so nothing goes in. */
    assert_int_equal(ust_shmf_write(w, buf, 200, UST_SHMF_NONBLOCK, NULL), -EAGAIN);
    assert_false(ust_shmf_writable(w, false));
    /* A larger-than-PIPE_BUF write takes what fits. */
    assert_int_equal(ust_shmf_write(w, buf, 5000, UST_SHMF_NONBLOCK, NULL), 100);
    assert_int_equal(ust_shmf_used(r), CAP);
    assert_int_equal(ust_shmf_read(r, buf, sizeof(buf), UST_SHMF_NONBLOCK, NULL), CAP);
    assert_true(ust_shmf_writable(w, false));
    assert_int_equal(ust_shmf_write(w, "end", 3, UST_SHMF_NONBLOCK, NULL), 3);
    ust_shmf_close(w);
    /* The writer is gone: the bytes, then end of file. */
    assert_int_equal(ust_shmf_read(r, buf, sizeof(buf), 0, NULL), 3);
    assert_int_equal(ust_shmf_read(r, buf, sizeof(buf), 0, NULL), 0);
    w = opn("/p", UST_SHMF_WR);
    ust_shmf_close(r);
    assert_int_equal(ust_shmf_write(w, "x", 1, 0, NULL), -EPIPE);
    ust_shmf_close(w);
    assert_int_equal(ust_shmf_unlink(dir(), "/p"), 0);
}

static void test_shmfifo_capacity_ebusy_eperm_and_growth(void **state)
{
    (void)state;
    make("/c", CAP, 4 * CAP);
    struct ust_shmf *f = opn("/c", UST_SHMF_RD | UST_SHMF_WR);
    assert_int_equal(ust_shmf_cap(f), CAP);
    assert_int_equal(ust_shmf_max_cap(f), 4 * CAP);
    static char buf[4 * CAP];
    assert_int_equal(ust_shmf_write(f, buf, CAP, UST_SHMF_NONBLOCK, NULL), CAP);
    assert_int_equal(ust_shmf_set_cap(f, 4096), -EBUSY);
    assert_int_equal(ust_shmf_set_cap(f, 8 * CAP), -EPERM);
    assert_int_equal(ust_shmf_set_cap(f, 4 * CAP), 0);
    assert_int_equal(ust_shmf_write(f, buf, 3 * CAP, UST_SHMF_NONBLOCK, NULL), 3 * CAP);
    assert_int_equal(ust_shmf_read(f, buf, sizeof(buf), UST_SHMF_NONBLOCK, NULL), 4 * CAP);
    assert_int_equal(ust_shmf_set_cap(f, 4096), 0);
    assert_int_equal(ust_shmf_cap(f), 4096);
    /* A new set of opens: empty, the default capacity again. */
    assert_int_equal(ust_shmf_write(f, "left", 4, UST_SHMF_NONBLOCK, NULL), 4);
    ust_shmf_close(f);
    f = opn("/c", UST_SHMF_RD | UST_SHMF_WR);
    assert_int_equal(ust_shmf_cap(f), CAP);
    assert_int_equal(ust_shmf_used(f), 0);
    ust_shmf_close(f);
    assert_int_equal(ust_shmf_unlink(dir(), "/c"), 0);
}

static void test_shmfifo_packets_end_reads_and_take_slots(void **state)
{
    (void)state;
    make("/k", CAP, CAP);               /* 2 packet slots */
    struct ust_shmf *f = opn("/k", UST_SHMF_RD | UST_SHMF_WR);
    const unsigned P = UST_SHMF_NONBLOCK | UST_SHMF_PACKET;
    assert_int_equal(ust_shmf_write(f, "st", 2, UST_SHMF_NONBLOCK, NULL), 2);
    assert_int_equal(ust_shmf_write(f, "abc", 3, P, NULL), 3);
    assert_int_equal(ust_shmf_write(f, "defgh", 5, P, NULL), 5);
    assert_int_equal(ust_shmf_write(f, "i", 1, P, NULL), -EAGAIN);    /* no slot */
    assert_int_equal(ust_shmf_set_cap(f, 4096), -EBUSY);    /* 2 packets, 1 slot */
    assert_false(ust_shmf_writable(f, true));
    assert_true(ust_shmf_writable(f, false));
    assert_int_equal(ust_shmf_write(f, "uv", 2, UST_SHMF_NONBLOCK, NULL), 2);
    assert_int_equal(ust_shmf_write(f, "w", 1, UST_SHMF_NONBLOCK, NULL), 1);
    char buf[16];
    /* The stream run and then a packet, whose rest is dropped. */
    assert_int_equal(ust_shmf_read(f, buf, 4, UST_SHMF_NONBLOCK, NULL), 4);
    assert_memory_equal(buf, "stab", 4);
    assert_int_equal(ust_shmf_read(f, buf, sizeof(buf), UST_SHMF_NONBLOCK, NULL), 5);
    assert_memory_equal(buf, "defgh", 5);
    /* Stream bytes written one after the other form one run. */
    assert_int_equal(ust_shmf_read(f, buf, 1, UST_SHMF_NONBLOCK, NULL), 1);
    assert_int_equal(ust_shmf_read(f, buf, sizeof(buf), UST_SHMF_NONBLOCK, NULL), 2);
    assert_memory_equal(buf, "vw", 2);
    /* A packet write larger than PIPE_BUF is split into packets. */
    static char big[6000];
    memset(big, 'b', sizeof(big));
    assert_int_equal(ust_shmf_write(f, big, sizeof(big), P, NULL), 6000);
    assert_int_equal(ust_shmf_read(f, buf, 10, UST_SHMF_NONBLOCK, NULL), 10);
    assert_int_equal(ust_shmf_used(f), 6000 - 4096);
    assert_int_equal(ust_shmf_set_cap(f, 4096), 0);    /* one packet in one slot */
    ust_shmf_close(f);
    assert_int_equal(ust_shmf_unlink(dir(), "/k"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shmfifo_names_are_encoded_and_long_paths_hashed),
        cmocka_unit_test(test_shmfifo_create_and_open_errors),
        cmocka_unit_test(test_shmfifo_pipe_buf_all_or_nothing_large_writes_partial_eof_epipe),
        cmocka_unit_test(test_shmfifo_capacity_ebusy_eperm_and_growth),
        cmocka_unit_test(test_shmfifo_packets_end_reads_and_take_slots),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
