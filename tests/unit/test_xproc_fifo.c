/* Named FIFOs shared between processes (cfg.ipc_shared, the default): the
 * other end runs in a separate process, forked, with its own fresh
 * struct ust_stack (and no stack thread: shared FIFOs block without one).
 * fifo(7) / pipe(7) rules that involve two ends, across processes:
 *  - a blocking O_RDONLY open sleeps until another process opens for
 *    writing, and a blocking O_WRONLY open until one opens for reading;
 *    O_WRONLY|O_NONBLOCK with no reader anywhere is ENXIO;
 *  - bytes arrive complete and in order; writes of PIPE_BUF bytes from
 *    several writer processes never interleave;
 *  - a blocked write is woken by the other process's read;
 *  - EOF (read 0, POLLHUP) once the writer process exits, and once it is
 *    SIGKILLed; EPIPE (POLLERR) for a writer blocked when the reader
 *    process is SIGKILLed (the detection latency is printed: a 50 ms slice
 *    bounds it);
 *  - open(2) EACCES for another uid (a forked child that did setuid 65534);
 *  - unlink while both processes have it open: they go on, and a new FIFO
 *    may take the name;
 *  - ust_poll sleeps until the other process writes (POLLIN) and until it is
 *    SIGKILLed (POLLHUP).
 * Waits are bounded: a hang fails the test. A child's exit status carries
 * its result (0: every check passed; else the line that failed). */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <ustack/ustack.h>

#include "runtime/runtime.h"
#include "unit/ipc_dir_test_util.h"
#include "unit/shmq_test_util.h"

#define BOUND_MS 20000
#define PATH "/x/fifo"

/* In a child: leave with the failing line as the status. */
#define CHECK(c)                                                                              \
    do {                                                                                      \
        if (!(c))                                                                             \
            _exit(__LINE__ % 200 + 1);                                                        \
    } while (0)

static struct ust_stack *new_stack(void)
{
    struct ust_stack_config c;
    ust_stack_config_init(&c);
    c.raise_sigpipe = 0;
    c.ipc_umask = 0;
    c.ipc_shared = 1;
    return ust_stack_new(&c);
}

static uint64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

/* ---- Sync between the processes: an OS pipe, bounded waits ------------- */

struct chan {
    int fd[2];
};

static void chan_init(struct chan *c)
{
    assert_int_equal(pipe(c->fd), 0);
}

static void chan_close(struct chan *c)
{
    close(c->fd[0]);
    close(c->fd[1]);
}

static void chan_send(struct chan *c, char b)
{
    if (write(c->fd[1], &b, 1) != 1)
        abort();
}

/* A byte, or -1 when none came within ms. */
static int chan_recv(struct chan *c, int ms)
{
    struct pollfd p = { .fd = c->fd[0], .events = POLLIN };
    if (poll(&p, 1, ms) != 1)
        return -1;
    char b;
    return read(c->fd[0], &b, 1) == 1 ? (unsigned char)b : -1;
}

/* True when thread/process tid sleeps in futex(2) or futex_waitv(2). */
static bool in_futex(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%d/syscall", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    bool ok = fgets(line, sizeof(line), f) != NULL;
    fclose(f);
    if (!ok)
        return false;
    long nr = strtol(line, NULL, 10);
#ifdef SYS_futex_waitv
    if (nr == SYS_futex_waitv)
        return true;
#endif
    return nr == SYS_futex || nr == 449;
}

/* Waits (bounded) until pid sleeps in the kernel on a futex. */
static void wait_asleep(pid_t pid)
{
    uint64_t end = now_ns() + (uint64_t)BOUND_MS * 1000000ull;
    while (!in_futex(pid)) {
        if (now_ns() > end)
            fail_msg("process %d never went to sleep", (int)pid);
        sched_yield();
    }
}

static short revents(struct ust_stack *s, int fd, short events)
{
    struct pollfd p = { .fd = fd, .events = events };
    assert_true(ust_poll(s, &p, 1, 0) >= 0);
    return p.revents;
}

/* Reads exactly n bytes (blocking fd), bounded by the test's alarm. */
static bool read_full(struct ust_stack *s, int fd, void *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = ust_read(s, fd, (char *)buf + got, n - got);
        if (r <= 0)
            return false;
        got += (size_t)r;
    }
    return true;
}

/* ---- Tests --------------------------------------------------------------- */

/* fifo(7): each blocking open waits for the other process; without a reader
 * anywhere, O_WRONLY|O_NONBLOCK is ENXIO. */
static void test_xproc_fifo_blocking_opens_wait_for_the_other_process(void **state)
{
    (void)state;
    struct ust_stack *s = new_stack();
    assert_non_null(s);
    assert_int_equal(ust_mkfifo(s, PATH, 0600), 0);
    errno = 0;
    assert_int_equal(ust_open(s, PATH, O_WRONLY | O_NONBLOCK), -1);
    assert_int_equal(errno, ENXIO);
    struct chan c, go;
    chan_init(&c);
    chan_init(&go);
    /* Reader child: its open waits for our writer. */
    pid_t pid = fork_child();
    if (pid == 0) {
        struct ust_stack *cs = new_stack();
        CHECK(cs);
        int fd = ust_open(cs, PATH, O_RDONLY);
        CHECK(fd >= 0);
        chan_send(&c, 'o');
        char buf[8];
        CHECK(read_full(cs, fd, buf, 5) && memcmp(buf, "hello", 5) == 0);
        _exit(0);
    }
    wait_asleep(pid);
    assert_int_equal(chan_recv(&c, 0), -1);         /* still waiting */
    int w = ust_open(s, PATH, O_WRONLY);             /* a reader waits: no wait here */
    assert_true(w >= 0);
    assert_int_equal(chan_recv(&c, BOUND_MS), 'o');
    assert_int_equal(ust_write(s, w, "hello", 5), 5);
    assert_int_equal(wait_child(pid), 0);
    assert_int_equal(ust_close(s, w), 0);

    /* Writer child: its open waits for our reader. */
    pid = fork_child();
    if (pid == 0) {
        struct ust_stack *cs = new_stack();
        CHECK(cs);
        int fd = ust_open(cs, PATH, O_WRONLY);
        CHECK(fd >= 0);
        chan_send(&c, 'o');
        /* Stay a writer until our reader's open is done (else it would
         * wait for the next writer, as in Linux). */
        CHECK(chan_recv(&go, BOUND_MS) == 'g');
        CHECK(ust_write(cs, fd, "world", 5) == 5);
        _exit(0);
    }
    wait_asleep(pid);
    assert_int_equal(chan_recv(&c, 0), -1);
    int r = ust_open(s, PATH, O_RDONLY);
    assert_true(r >= 0);
    assert_int_equal(chan_recv(&c, BOUND_MS), 'o');
    chan_send(&go, 'g');
    char buf[8];
    assert_true(read_full(s, r, buf, 5));
    assert_memory_equal(buf, "world", 5);
    assert_int_equal(wait_child(pid), 0);
    /* The writer process is gone: end of file, and POLLHUP (a writer came). */
    assert_int_equal(ust_read(s, r, buf, sizeof(buf)), 0);
    assert_int_equal(revents(s, r, POLLIN), POLLHUP);
    assert_int_equal(ust_close(s, r), 0);
    chan_close(&c);
    chan_close(&go);
    assert_int_equal(ust_unlink(s, PATH), 0);
    ust_stack_free(s);
}

/* Order and completeness: 1 MiB in writes of varied sizes (many larger
 * than the capacity) arrives byte for byte; EOF after the writer exits. */
static void test_xproc_fifo_bytes_arrive_in_order_then_eof_after_exit(void **state)
{
    (void)state;
    struct ust_stack *s = new_stack();
    assert_int_equal(ust_mkfifo(s, PATH, 0600), 0);
    const size_t total = 1u << 20;
    pid_t pid = fork_child();
    if (pid == 0) {
        struct ust_stack *cs = new_stack();
        CHECK(cs);
        int fd = ust_open(cs, PATH, O_WRONLY);
        CHECK(fd >= 0);
        static unsigned char buf[100000];
        size_t off = 0, len = 1;
        while (off < total) {
            size_t n = len < total - off ? len : total - off;
            for (size_t i = 0; i < n; i++)
                buf[i] = (unsigned char)((off + i) * 7 + (off + i) / 251);
            CHECK(ust_write(cs, fd, buf, n) == (ssize_t)n);
            off += n;
            len = len * 3 % 99991 + 1;
        }
        _exit(0);                       /* exits with the FIFO open */
    }
    int r = ust_open(s, PATH, O_RDONLY);
    assert_true(r >= 0);
    static unsigned char got[65536];
    size_t off = 0;
    for (;;) {
        ssize_t n = ust_read(s, r, got, sizeof(got));
        assert_true(n >= 0);
        if (n == 0)
            break;
        for (ssize_t i = 0; i < n; i++)
            if (got[i] != (unsigned char)((off + (size_t)i) * 7 + (off + (size_t)i) / 251))
                fail_msg("byte %zu differs", off + (size_t)i);
        off += (size_t)n;
    }
    assert_int_equal(off, total);
    assert_int_equal(wait_child(pid), 0);
    assert_int_equal(ust_close(s, r), 0);
    assert_int_equal(ust_unlink(s, PATH), 0);
    ust_stack_free(s);
}

/* pipe(7): writes of PIPE_BUF bytes by 4 writer processes at once are never
 * interleaved, and each writer's order is kept. */
static void test_xproc_fifo_pipe_buf_writes_of_four_processes_never_interleave(void **state)
{
    (void)state;
    enum { WRITERS = 4, MSGS = 300, LEN = PIPE_BUF };
    struct ust_stack *s = new_stack();
    assert_int_equal(ust_mkfifo(s, PATH, 0600), 0);
    int r = ust_open(s, PATH, O_RDONLY | O_NONBLOCK);
    assert_true(r >= 0);
    struct chan c;
    chan_init(&c);
    pid_t pid[WRITERS];
    for (int w = 0; w < WRITERS; w++) {
        pid[w] = fork_child();
        if (pid[w] == 0) {
            struct ust_stack *cs = new_stack();
            CHECK(cs);
            int fd = ust_open(cs, PATH, O_WRONLY);
            CHECK(fd >= 0);
            chan_send(&c, 'o');
            static unsigned char m[LEN];
            for (int i = 0; i < MSGS; i++) {
                memset(m, 'A' + w, LEN);
                memcpy(m, &i, sizeof(i));
                CHECK(ust_write(cs, fd, m, LEN) == LEN);
            }
            _exit(0);
        }
    }
    for (int w = 0; w < WRITERS; w++)      /* every writer is in: no early EOF */
        assert_int_equal(chan_recv(&c, BOUND_MS), 'o');
    assert_int_equal(ust_fcntl(s, r, F_SETFL, 0), 0);
    int next[WRITERS] = { 0 };
    static unsigned char m[LEN];
    for (int k = 0; k < WRITERS * MSGS; k++) {
        assert_true(read_full(s, r, m, LEN));
        int w = m[LEN - 1] - 'A';
        assert_true(w >= 0 && w < WRITERS);
        int seq;
        memcpy(&seq, m, sizeof(seq));
        assert_int_equal(seq, next[w]);
        next[w]++;
        for (size_t i = sizeof(seq); i < LEN; i++)
            if (m[i] != 'A' + w)
                fail_msg("message %d of writer %d interleaved at byte %zu", seq, w, i);
    }
    for (int w = 0; w < WRITERS; w++)
        assert_int_equal(wait_child(pid[w]), 0);
    char ch;
    assert_int_equal(ust_read(s, r, &ch, 1), 0);
    assert_int_equal(ust_close(s, r), 0);
    chan_close(&c);
    assert_int_equal(ust_unlink(s, PATH), 0);
    ust_stack_free(s);
}

/* A writer blocked on the full FIFO is woken by the other process's read. */
static void test_xproc_fifo_blocked_write_woken_by_other_process_read(void **state)
{
    (void)state;
    struct ust_stack *s = new_stack();
    assert_int_equal(ust_mkfifo(s, PATH, 0600), 0);
    int r = ust_open(s, PATH, O_RDONLY | O_NONBLOCK);
    assert_true(r >= 0);
    struct chan c;
    chan_init(&c);
    pid_t pid = fork_child();
    if (pid == 0) {
        struct ust_stack *cs = new_stack();
        CHECK(cs);
        int fd = ust_open(cs, PATH, O_WRONLY | O_NONBLOCK);
        CHECK(fd >= 0);
        static char chunk[4096];
        while (ust_write(cs, fd, chunk, sizeof(chunk)) > 0)
            ;
        CHECK(errno == EAGAIN);
        CHECK(ust_fcntl(cs, fd, F_SETFL, 0) == 0);
        CHECK(ust_write(cs, fd, "tail", 4) == 4);  /* blocks: full */
        chan_send(&c, 'w');
        _exit(0);
    }
    wait_asleep(pid);
    assert_int_equal(chan_recv(&c, 0), -1);
    int size = ust_fcntl(s, r, F_GETPIPE_SZ);
    assert_int_equal(size, 65536);
    static char buf[65536];
    assert_int_equal(ust_read(s, r, buf, 4096), 4096);   /* room: the write goes on */
    assert_int_equal(chan_recv(&c, BOUND_MS), 'w');
    assert_int_equal(wait_child(pid), 0);
    assert_int_equal(ust_fcntl(s, r, F_SETFL, 0), 0);
    assert_true(read_full(s, r, buf, (size_t)size - 4096 + 4));
    assert_memory_equal(buf + size - 4096, "tail", 4);
    assert_int_equal(ust_close(s, r), 0);
    chan_close(&c);
    assert_int_equal(ust_unlink(s, PATH), 0);
    ust_stack_free(s);
}

struct blocked_call {
    struct ust_stack *s;
    int fd;
    ssize_t ret;
    int err;
    uint64_t done_ns;
};

static void *blocked_read(void *arg)
{
    struct blocked_call *b = arg;
    char buf[8];
    b->ret = ust_read(b->s, b->fd, buf, sizeof(buf));
    b->err = errno;
    b->done_ns = now_ns();
    return NULL;
}

static void *blocked_write(void *arg)
{
    struct blocked_call *b = arg;
    static char buf[65536 + 1];
    b->ret = ust_write(b->s, b->fd, buf, sizeof(buf));
    b->err = errno;
    b->done_ns = now_ns();
    return NULL;
}

static void *blocked_write_pipe_buf(void *arg)
{
    struct blocked_call *b = arg;
    static char buf[PIPE_BUF];
    b->ret = ust_write(b->s, b->fd, buf, sizeof(buf));
    b->err = errno;
    b->done_ns = now_ns();
    return NULL;
}

/* A poll for POLLIN; err gets the revents. */
static void *blocked_poll(void *arg)
{
    struct blocked_call *b = arg;
    struct pollfd p = { .fd = b->fd, .events = POLLIN };
    b->ret = ust_poll(b->s, &p, 1, BOUND_MS);
    b->err = p.revents;
    b->done_ns = now_ns();
    return NULL;
}

static void join_bounded(pthread_t t)
{
    struct timespec limit;
    clock_gettime(CLOCK_REALTIME, &limit);
    limit.tv_sec += BOUND_MS / 1000;
    if (pthread_timedjoin_np(t, NULL, &limit) != 0)
        fail_msg("the blocked call never returned");
}

/* Waits (bounded) until the stack has a caller asleep in it. */
static void wait_sleeper(struct ust_stack *s)
{
    uint64_t end = now_ns() + (uint64_t)BOUND_MS * 1000000ull;
    for (;;) {
        ust_rt_lock(s);
        unsigned n = ust_rt_kernel_sleeper_count(s);
        ust_rt_unlock(s);
        if (n > 0)
            return;
        if (now_ns() > end)
            fail_msg("the call never went to sleep");
        sched_yield();
    }
}

/* A reader blocked on the empty FIFO gets EOF when the writer process is
 * SIGKILLed (it never closed), and POLLHUP shows. */
static void test_xproc_fifo_eof_when_writer_process_is_sigkilled(void **state)
{
    (void)state;
    struct ust_stack *s = new_stack();
    assert_int_equal(ust_mkfifo(s, PATH, 0600), 0);
    int r = ust_open(s, PATH, O_RDONLY | O_NONBLOCK);
    assert_true(r >= 0);
    struct chan c;
    chan_init(&c);
    pid_t pid = fork_child();
    if (pid == 0) {
        struct ust_stack *cs = new_stack();
        CHECK(cs);
        int fd = ust_open(cs, PATH, O_WRONLY);
        CHECK(fd >= 0);
        CHECK(ust_write(cs, fd, "x", 1) == 1);
        chan_send(&c, 'r');
        for (;;)
            pause();
    }
    assert_int_equal(chan_recv(&c, BOUND_MS), 'r');
    char ch;
    assert_int_equal(ust_read(s, r, &ch, 1), 1);
    assert_int_equal(ust_fcntl(s, r, F_SETFL, 0), 0);
    struct blocked_call b = { .s = s, .fd = r };
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, blocked_read, &b), 0);
    wait_sleeper(s);
    uint64_t t0 = now_ns();
    assert_int_equal(kill(pid, SIGKILL), 0);
    join_bounded(t);
    assert_int_equal(b.ret, 0);                 /* end of file */
    print_message("EOF seen %.1f ms after the writer's SIGKILL\n",
                  (double)(b.done_ns - t0) / 1e6);
    assert_int_equal(wait_child(pid), 128 + SIGKILL);
    assert_int_equal(revents(s, r, POLLIN), POLLHUP);
    assert_int_equal(ust_close(s, r), 0);
    chan_close(&c);
    assert_int_equal(ust_unlink(s, PATH), 0);
    ust_stack_free(s);
}

/* A writer blocked on the full FIFO gets EPIPE when the reader process is
 * SIGKILLed; the detection latency is printed; POLLERR shows after. */
static void test_xproc_fifo_epipe_when_reader_process_is_sigkilled(void **state)
{
    (void)state;
    struct ust_stack *s = new_stack();
    assert_int_equal(ust_mkfifo(s, PATH, 0600), 0);
    struct chan c;
    chan_init(&c);
    pid_t pid = fork_child();
    if (pid == 0) {
        struct ust_stack *cs = new_stack();
        CHECK(cs);
        int fd = ust_open(cs, PATH, O_RDONLY);
        CHECK(fd >= 0);
        chan_send(&c, 'r');
        for (;;)
            pause();
    }
    int w = ust_open(s, PATH, O_WRONLY);
    assert_true(w >= 0);
    assert_int_equal(chan_recv(&c, BOUND_MS), 'r');
    struct blocked_call b = { .s = s, .fd = w };
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, blocked_write, &b), 0);
    wait_sleeper(s);                            /* 64 KiB in, 1 byte to go */
    uint64_t t0 = now_ns();
    assert_int_equal(kill(pid, SIGKILL), 0);
    join_bounded(t);
    assert_int_equal(b.ret, 65536);             /* what went in before (pipe_write) */
    print_message("blocked writer released %.1f ms after the reader's SIGKILL\n",
                  (double)(b.done_ns - t0) / 1e6);
    errno = 0;
    assert_int_equal(ust_write(s, w, "y", 1), -1);
    assert_int_equal(errno, EPIPE);
    assert_int_equal(revents(s, w, POLLOUT) & POLLERR, POLLERR);
    assert_int_equal(wait_child(pid), 128 + SIGKILL);
    assert_int_equal(ust_close(s, w), 0);
    chan_close(&c);
    assert_int_equal(ust_unlink(s, PATH), 0);
    ust_stack_free(s);
}

/* A writer blocked before writing anything gets EPIPE itself when the
 * reader is SIGKILLed (a PIPE_BUF write waiting for room). */
static void test_xproc_fifo_blocked_small_write_gets_epipe_on_reader_sigkill(void **state)
{
    (void)state;
    struct ust_stack *s = new_stack();
    assert_int_equal(ust_mkfifo(s, PATH, 0600), 0);
    struct chan c;
    chan_init(&c);
    pid_t pid = fork_child();
    if (pid == 0) {
        struct ust_stack *cs = new_stack();
        CHECK(cs);
        int fd = ust_open(cs, PATH, O_RDONLY | O_NONBLOCK);
        CHECK(fd >= 0);
        chan_send(&c, 'r');
        for (;;)
            pause();
    }
    assert_int_equal(chan_recv(&c, BOUND_MS), 'r');
    int w = ust_open(s, PATH, O_WRONLY | O_NONBLOCK);
    assert_true(w >= 0);
    static char chunk[4096];
    while (ust_write(s, w, chunk, sizeof(chunk)) > 0)
        ;
    assert_int_equal(errno, EAGAIN);
    assert_int_equal(ust_fcntl(s, w, F_SETFL, 0), 0);
    struct blocked_call b = { .s = s, .fd = w };
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, blocked_write_pipe_buf, &b), 0);
    wait_sleeper(s);
    uint64_t t0 = now_ns();
    assert_int_equal(kill(pid, SIGKILL), 0);
    join_bounded(t);
    assert_int_equal(b.ret, -1);
    assert_int_equal(b.err, EPIPE);
    print_message("EPIPE %.1f ms after the reader's SIGKILL\n", (double)(b.done_ns - t0) / 1e6);
    assert_int_equal(wait_child(pid), 128 + SIGKILL);
    assert_int_equal(ust_close(s, w), 0);
    chan_close(&c);
    assert_int_equal(ust_unlink(s, PATH), 0);
    ust_stack_free(s);
}

/* open(2) as another uid: mode 0600 refuses nobody (EACCES); 0644 lets
 * nobody read, not write. */
static void test_xproc_fifo_open_eacces_for_another_uid(void **state)
{
    (void)state;
    if (geteuid() != 0) {
        print_message("skipped: needs root to act as a second user\n");
        skip();
    }
    struct ust_stack *s = new_stack();
    assert_int_equal(ust_mkfifo(s, "/p600", 0600), 0);
    assert_int_equal(ust_mkfifo(s, "/p644", 0644), 0);
    pid_t pid = fork_child();
    if (pid == 0) {
        CHECK(setgroups(0, NULL) == 0 && setresgid(65534, 65534, 65534) == 0 &&
              setresuid(65534, 65534, 65534) == 0);
        struct ust_stack *cs = new_stack();
        CHECK(cs);
        errno = 0;
        CHECK(ust_open(cs, "/p600", O_RDONLY | O_NONBLOCK) == -1 && errno == EACCES);
        errno = 0;
        CHECK(ust_open(cs, "/p644", O_WRONLY | O_NONBLOCK) == -1 && errno == EACCES);
        CHECK(ust_open(cs, "/p644", O_RDONLY | O_NONBLOCK) >= 0);
        _exit(0);
    }
    assert_int_equal(wait_child(pid), 0);
    assert_int_equal(ust_unlink(s, "/p600"), 0);
    assert_int_equal(ust_unlink(s, "/p644"), 0);
    ust_stack_free(s);
}

/* unlink while both processes have the FIFO open: data still flows through
 * the old object, and a new FIFO of the same name is a different one. */
static void test_xproc_fifo_unlink_while_open_in_two_processes(void **state)
{
    (void)state;
    struct ust_stack *s = new_stack();
    assert_int_equal(ust_mkfifo(s, PATH, 0600), 0);
    int r = ust_open(s, PATH, O_RDONLY | O_NONBLOCK);
    assert_true(r >= 0);
    struct chan c, go;
    chan_init(&c);
    chan_init(&go);
    pid_t pid = fork_child();
    if (pid == 0) {
        struct ust_stack *cs = new_stack();
        CHECK(cs);
        int fd = ust_open(cs, PATH, O_WRONLY);
        CHECK(fd >= 0);
        chan_send(&c, 'o');
        CHECK(chan_recv(&go, BOUND_MS) == 'u');     /* the parent unlinked it */
        CHECK(ust_write(cs, fd, "after", 5) == 5);
        errno = 0;
        CHECK(ust_open(cs, PATH, O_WRONLY | O_NONBLOCK) == -1 && errno == ENXIO);
        _exit(0);
    }
    assert_int_equal(chan_recv(&c, BOUND_MS), 'o');
    assert_int_equal(ust_unlink(s, PATH), 0);
    assert_int_equal(ust_mkfifo(s, PATH, 0600), 0);     /* a new FIFO: no reader */
    chan_send(&go, 'u');
    assert_int_equal(wait_child(pid), 0);
    char buf[8];
    assert_int_equal(ust_read(s, r, buf, sizeof(buf)), 5);
    assert_memory_equal(buf, "after", 5);
    assert_int_equal(ust_read(s, r, buf, sizeof(buf)), 0);     /* the writer exited */
    assert_int_equal(ust_close(s, r), 0);
    chan_close(&c);
    chan_close(&go);
    assert_int_equal(ust_unlink(s, PATH), 0);
    ust_stack_free(s);
}

/* ust_poll on a FIFO reader sleeps (no stack thread) until the writer
 * process writes, and then until that process is SIGKILLed: POLLIN, then
 * POLLHUP within a slice of its death. */
static void test_xproc_fifo_poll_woken_by_other_process_write_and_death(void **state)
{
    (void)state;
    struct ust_stack *s = new_stack();
    assert_int_equal(ust_mkfifo(s, PATH, 0600), 0);
    int r = ust_open(s, PATH, O_RDONLY | O_NONBLOCK);
    assert_true(r >= 0);
    struct chan c;
    chan_init(&c);
    pid_t parent = getpid();
    pid_t pid = fork_child();
    if (pid == 0) {
        struct ust_stack *cs = new_stack();
        CHECK(cs);
        int fd = ust_open(cs, PATH, O_WRONLY);
        CHECK(fd >= 0);
        chan_send(&c, 'o');
        wait_asleep(parent);            /* the parent sleeps in ust_poll */
        CHECK(ust_write(cs, fd, "p", 1) == 1);
        for (;;)
            pause();
    }
    assert_int_equal(chan_recv(&c, BOUND_MS), 'o');
    struct pollfd p = { .fd = r, .events = POLLIN };
    assert_int_equal(ust_poll(s, &p, 1, BOUND_MS), 1);
    assert_int_equal(p.revents, POLLIN);
    char ch;
    assert_int_equal(ust_read(s, r, &ch, 1), 1);
    assert_int_equal(ch, 'p');
    struct blocked_call b = { .s = s, .fd = r };
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, blocked_poll, &b), 0);
    wait_sleeper(s);
    uint64_t t0 = now_ns();
    assert_int_equal(kill(pid, SIGKILL), 0);
    join_bounded(t);
    assert_int_equal(b.ret, 1);
    assert_int_equal(b.err, POLLHUP);
    print_message("POLLHUP %.1f ms after the writer's SIGKILL\n", (double)(b.done_ns - t0) / 1e6);
    assert_int_equal(wait_child(pid), 128 + SIGKILL);
    assert_int_equal(ust_close(s, r), 0);
    chan_close(&c);
    assert_int_equal(ust_unlink(s, PATH), 0);
    ust_stack_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        ipc_dir_test(test_xproc_fifo_blocking_opens_wait_for_the_other_process),
        ipc_dir_test(test_xproc_fifo_bytes_arrive_in_order_then_eof_after_exit),
        ipc_dir_test(test_xproc_fifo_pipe_buf_writes_of_four_processes_never_interleave),
        ipc_dir_test(test_xproc_fifo_blocked_write_woken_by_other_process_read),
        ipc_dir_test(test_xproc_fifo_eof_when_writer_process_is_sigkilled),
        ipc_dir_test(test_xproc_fifo_epipe_when_reader_process_is_sigkilled),
        ipc_dir_test(test_xproc_fifo_blocked_small_write_gets_epipe_on_reader_sigkill),
        ipc_dir_test(test_xproc_fifo_open_eacces_for_another_uid),
        ipc_dir_test(test_xproc_fifo_unlink_while_open_in_two_processes),
        ipc_dir_test(test_xproc_fifo_poll_woken_by_other_process_write_and_death),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
