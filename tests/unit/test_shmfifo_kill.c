/* The shared FIFO ring under SIGKILL at random moments: TRIALS times
 * (default 100; USTACK_SHMFIFO_KILL_TRIALS sets it, seeded by
 * USTACK_SHMFIFO_KILL_SEED) a child process writing 64-byte records (even
 * trials) or reading them (odd trials) as fast as it can is SIGKILLed at a
 * random moment, holding the ring's lock or not. The same ring serves every
 * trial, so its head wanders around the ring's end. The child logs, in
 * shared memory, every record it wrote (a counter stored after the write
 * returned) or read (the record, then a counter). After each kill the parent
 * drains the ring and checks:
 *  - the ring is consistent: what is queued is a whole number of records,
 *    each intact (a write of <= PIPE_BUF bytes is all there or not there);
 *  - writer trials: the records queued are exactly 0..k-1 in order, where k
 *    is the child's count of returned writes, or one more (the write in
 *    progress had committed);
 *  - reader trials: every record the parent queued is seen exactly once,
 *    either read by the child (logged) or still queued, except at most the
 *    one the child had taken when it was killed;
 *  - the ring works afterwards (a marker goes through).
 * The summary line gives trials, repairs (kills inside the lock) and the
 * records checked. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "ipc/shm_fifo.h"
#include "ipc/shm_queue.h"
#include "unit/shmq_test_util.h"

#define REC 64u                         /* bytes per record */
#define CAP 65536u
#define NREC (CAP / REC)                /* records the ring holds */
#define MAGIC 0x52454331u               /* "REC1" */

struct rec {
    uint32_t magic, trial, seq, check;
    unsigned char fill[REC - 16];
};

struct kill_log {
    _Atomic uint32_t started;
    _Atomic uint32_t nwritten;          /* writes that returned */
    _Atomic uint32_t nread;             /* reads logged in seen[] */
    uint32_t seen[NREC];                /* seq of each record the child read */
};

static const char *dir(void)
{
    const char *d = getenv("USTACK_IPC_DIR");
    if (!d || !d[0])
        return NULL;
    mkdir(d, 01777);
    return d;
}

static void rec_make(struct rec *r, uint32_t trial, uint32_t seq)
{
    r->magic = MAGIC;
    r->trial = trial;
    r->seq = seq;
    r->check = ~(trial * 2654435761u + seq);
    for (unsigned i = 0; i < sizeof(r->fill); i++)
        r->fill[i] = (unsigned char)(seq + i);
}

static bool rec_ok(const struct rec *r, uint32_t trial)
{
    if (r->magic != MAGIC || r->trial != trial || r->check != ~(trial * 2654435761u + r->seq))
        return false;
    for (unsigned i = 0; i < sizeof(r->fill); i++)
        if (r->fill[i] != (unsigned char)(r->seq + i))
            return false;
    return true;
}

static uint64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

/* The victim: writes records 0, 1, ... or reads records, until killed. */
static void victim(const char *path, struct kill_log *log, uint32_t trial, bool writer)
{
    struct ust_shmf *c = NULL;
    if (ust_shmf_open(dir(), path, UST_SHMF_RD | UST_SHMF_WR, &c) != 0)
        _exit(1);
    atomic_store(&log->started, 1);
    struct rec r;
    for (uint32_t seq = 0;;) {
        if (writer) {
            rec_make(&r, trial, seq);
            if (ust_shmf_write(c, &r, REC, UST_SHMF_NONBLOCK, NULL) == REC)
                atomic_store(&log->nwritten, ++seq);
        } else if (ust_shmf_read(c, &r, REC, UST_SHMF_NONBLOCK, NULL) == REC) {
            uint32_t n = atomic_load(&log->nread);
            log->seen[n % NREC] = r.seq;
            atomic_store(&log->nread, n + 1);
        }
    }
}

/* Drains the ring: the records in order into seqs; fails on a torn one. */
static unsigned drain(struct ust_shmf *f, uint32_t trial, uint32_t *seqs)
{
    static unsigned char buf[CAP + REC];
    size_t got = 0;
    ssize_t n;
    while ((n = ust_shmf_read(f, buf + got, sizeof(buf) - got, UST_SHMF_NONBLOCK, NULL)) > 0)
        got += (size_t)n;
    assert_int_equal(n, -EAGAIN);
    if (got % REC != 0)
        fail_msg("trial %u: %zu bytes queued, not whole records", trial, got);
    for (size_t i = 0; i < got / REC; i++) {
        const struct rec *r = (const struct rec *)(buf + i * REC);
        if (!rec_ok(r, trial))
            fail_msg("trial %u: record %zu torn", trial, i);
        seqs[i] = r->seq;
    }
    return (unsigned)(got / REC);
}

static void test_shmfifo_kill_random_moment_leaves_whole_records_only(void **state)
{
    (void)state;
    const char *e = getenv("USTACK_SHMFIFO_KILL_TRIALS");
    unsigned trials = e && atoi(e) > 0 ? (unsigned)atoi(e) : 100;
    e = getenv("USTACK_SHMFIFO_KILL_SEED");
    srand(e ? (unsigned)atoi(e) : 1);
    char path[64];
    snprintf(path, sizeof(path), "/kill/%d", (int)getpid());
    struct ust_shmf_attr a = { .cap = CAP, .max_cap = CAP, .mode = 0600 };
    assert_int_equal(ust_shmf_create(dir(), path, &a), 0);
    struct ust_shmf *f = NULL;
    assert_int_equal(ust_shmf_open(dir(), path, UST_SHMF_RD | UST_SHMF_WR, &f), 0);
    struct kill_log *log = mmap(NULL, sizeof(*log), PROT_READ | PROT_WRITE,
                                MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    assert_true(log != MAP_FAILED);
    static uint32_t seqs[NREC];
    static unsigned char count[NREC];
    unsigned long checked = 0;
    char name[UST_SHMO_NAME_MAX + 1];
    assert_int_equal(ust_shmf_name(path, name, sizeof(name)), 0);
    for (uint32_t t = 0; t < trials; t++) {
        bool writer = t % 2 == 0;
        memset(log, 0, sizeof(*log));
        uint32_t queued = 0;
        if (!writer) {                  /* records for the reader to take */
            queued = 200 + (uint32_t)rand() % (NREC - 200);
            struct rec r;
            for (uint32_t s = 0; s < queued; s++) {
                rec_make(&r, t, s);
                assert_int_equal(ust_shmf_write(f, &r, REC, UST_SHMF_NONBLOCK, NULL), REC);
            }
        }
        pid_t pid = fork_child();
        if (pid == 0)
            victim(path, log, t, writer);
        uint64_t limit = now_ns() + 20000000000ull;
        while (!atomic_load(&log->started))
            if (now_ns() > limit)
                fail_msg("the victim never started");
        /* A random moment: up to ~300 us of its calls. */
        uint64_t until = now_ns() + (uint64_t)(rand() % 300000);
        while (now_ns() < until)
            ;
        assert_int_equal(kill(pid, SIGKILL), 0);
        assert_int_equal(wait_child(pid), 128 + SIGKILL);
        unsigned n = drain(f, t, seqs);
        if (writer) {
            uint32_t k = atomic_load(&log->nwritten);
            if (n != k && n != k + 1)
                fail_msg("trial %u: %u records queued, %u writes returned", t, n, k);
            for (unsigned i = 0; i < n; i++)
                assert_int_equal(seqs[i], i);
        } else {
            memset(count, 0, sizeof(count));
            uint32_t nr = atomic_load(&log->nread);
            for (uint32_t i = 0; i < nr; i++)
                count[log->seen[i]]++;
            for (unsigned i = 0; i < n; i++)
                count[seqs[i]]++;
            unsigned missing = 0;
            for (uint32_t s = 0; s < queued; s++) {
                if (count[s] > 1)
                    fail_msg("trial %u: record %u seen %u times", t, s, count[s]);
                missing += count[s] == 0;
            }
            if (missing > 1)
                fail_msg("trial %u: %u records lost", t, missing);
            /* The queued ones follow the child's, in order. */
            for (unsigned i = 1; i < n; i++)
                assert_int_equal(seqs[i], seqs[i - 1] + 1);
        }
        checked += writer ? n : queued;
        assert_int_equal(ust_shmf_write(f, "mark", 4, UST_SHMF_NONBLOCK, NULL), 4);
        char m[8];
        assert_int_equal(ust_shmf_read(f, m, sizeof(m), UST_SHMF_NONBLOCK, NULL), 4);
        assert_memory_equal(m, "mark", 4);
    }
    struct ust_shmq_stat st;
    assert_int_equal(ust_shmq_inspect(dir(), UST_SHMF_KIND, name, &st), 0);
    print_message("%u trials, %u repairs, %lu records checked\n", trials, st.info.repairs,
                  checked);
    munmap(log, sizeof(*log));
    ust_shmf_close(f);
    assert_int_equal(ust_shmf_unlink(dir(), path), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shmfifo_kill_random_moment_leaves_whole_records_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
