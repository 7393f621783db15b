/* Pipes with the stack thread running: blocking reads and writes between
 * threads (LTP pipe04, pipe09, pipe10, pipe11, pipe13, pipe2_04's blocking
 * part), large blocking writes that go on until done, and PIPE_BUF
 * atomicity with several blocked writers. No sleeps: the main thread waits
 * until the others are asleep inside the stack before acting, and every
 * wait is bounded. No duration is asserted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <cmocka.h>

#include "unit/pipe_test_util.h"

struct rw {
    struct ust_stack *s;
    int fd;
    size_t len;
    uint8_t *buf;
    ssize_t ret;
    int err;
};

static void *read_thread(void *arg)
{
    struct rw *c = arg;
    errno = 0;
    c->ret = ust_read(c->s, c->fd, c->buf, c->len);
    c->err = errno;
    return NULL;
}

static void *write_thread(void *arg)
{
    struct rw *c = arg;
    errno = 0;
    c->ret = ust_write(c->s, c->fd, c->buf, c->len);
    c->err = errno;
    return NULL;
}

/* Reads until len bytes or EOF/error; returns the count. */
static size_t read_full(struct ust_stack *s, int fd, uint8_t *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        ssize_t r = ust_read(s, fd, buf + got, len - got);
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    return got;
}

/* pipe10 and the basic blocking case: a read asleep on an empty pipe is
 * woken by a write from another thread. */
static void test_pipe10_blocking_read_woken_by_write(void **state)
{
    (void)state;
    struct ust_stack *s = pt_started_stack();
    int fds[2];
    assert_int_equal(ust_pipe(s, fds), 0);
    uint8_t buf[32];
    struct rw c = { .s = s, .fd = fds[0], .len = sizeof(buf), .buf = buf };
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, read_thread, &c), 0);
    pt_wait_asleep(s, 1);
    assert_int_equal(ust_write(s, fds[1], "wake up", 7), 7);
    pt_join(t);
    assert_int_equal(c.ret, 7);
    assert_memory_equal(buf, "wake up", 7);
    ust_stack_free(s);
}

/* pipe13: closing the last writer wakes ALL blocked readers with EOF. */
static void test_pipe13_last_writer_close_wakes_all_readers(void **state)
{
    (void)state;
    struct ust_stack *s = pt_started_stack();
    int fds[2];
    assert_int_equal(ust_pipe(s, fds), 0);
    int w2 = ust_fcntl(s, fds[1], F_DUPFD, 0);
    assert_true(w2 >= 0);
    enum { N = 4 };
    uint8_t bufs[N][8];
    struct rw c[N];
    pthread_t t[N];
    for (int i = 0; i < N; i++) {
        c[i] = (struct rw){ .s = s, .fd = fds[0], .len = 8, .buf = bufs[i], .ret = -2 };
        assert_int_equal(pthread_create(&t[i], NULL, read_thread, &c[i]), 0);
    }
    pt_wait_asleep(s, N);
    assert_int_equal(ust_close(s, fds[1]), 0);      /* not the last writer */
    assert_int_equal(pt_sleepers(s), N);
    assert_int_equal(ust_close(s, w2), 0);          /* the last one */
    for (int i = 0; i < N; i++) {
        pt_join(t[i]);
        assert_int_equal(c[i].ret, 0);
    }
    ust_stack_free(s);
}

/* pipe2_04 (blocking part) and pipe04: writers asleep on a full pipe are
 * released: one by a read making room, the others by the read end
 * closing (EPIPE). */
static void test_pipe04_writers_blocked_on_full_pipe_are_released(void **state)
{
    (void)state;
    struct ust_stack *s = pt_started_stack();
    int fds[2];
    assert_int_equal(ust_pipe(s, fds), 0);
    static uint8_t fill[65536];
    assert_int_equal(ust_write(s, fds[1], fill, sizeof(fill)), 65536);
    enum { N = 2 };
    uint8_t one[N][100];
    struct rw c[N];
    pthread_t t[N];
    for (int i = 0; i < N; i++) {
        memset(one[i], 'A' + i, sizeof(one[i]));
        c[i] = (struct rw){ .s = s, .fd = fds[1], .len = 100, .buf = one[i], .ret = -2 };
        assert_int_equal(pthread_create(&t[i], NULL, write_thread, &c[i]), 0);
    }
    pt_wait_asleep(s, N);
    uint8_t drain[100];
    assert_int_equal(ust_read(s, fds[0], drain, 100), 100);  /* room for exactly one */
    /* Exactly one writer gets in; wait until it did (FIONREAD back at 64 KiB). */
    struct timespec limit = pt_deadline_in(PT_BOUND_SEC);
    int n = 0;
    while (ust_ioctl(s, fds[0], FIONREAD, &n) == 0 && n != 65536)
        assert_true(pt_before(&limit));
    pt_wait_asleep(s, 1);
    assert_int_equal(ust_close(s, fds[0]), 0);
    int ok = 0, epipe = 0;
    for (int i = 0; i < N; i++) {
        pt_join(t[i]);
        ok += c[i].ret == 100;
        epipe += c[i].ret == -1 && c[i].err == EPIPE;
    }
    assert_int_equal(ok, 1);
    assert_int_equal(epipe, 1);
    ust_stack_free(s);
}

/* A blocking write larger than the pipe goes on until every byte is in,
 * while another thread reads; the data arrives intact and in order. */
static void test_pipe_blocking_write_larger_than_capacity_completes(void **state)
{
    (void)state;
    struct ust_stack *s = pt_started_stack();
    int fds[2];
    assert_int_equal(ust_pipe(s, fds), 0);
    size_t len = 300000;
    uint8_t *out = malloc(len), *in = malloc(len);
    assert_non_null(out);
    assert_non_null(in);
    for (size_t i = 0; i < len; i++)
        out[i] = (uint8_t)(i * 13 + (i >> 8));
    struct rw c = { .s = s, .fd = fds[1], .len = len, .buf = out };
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, write_thread, &c), 0);
    assert_int_equal(read_full(s, fds[0], in, len), len);
    pt_join(t);
    assert_int_equal(c.ret, (ssize_t)len);
    assert_memory_equal(in, out, len);
    free(out);
    free(in);
    ust_stack_free(s);
}

/* A large blocking write whose reader goes away returns the bytes it got
 * in (a partial count), not EPIPE. */
static void test_pipe_blocking_large_write_returns_partial_count_when_reader_leaves(void **state)
{
    (void)state;
    struct ust_stack *s = pt_started_stack();
    int fds[2];
    assert_int_equal(ust_pipe(s, fds), 0);
    static uint8_t big[100000];
    struct rw c = { .s = s, .fd = fds[1], .len = sizeof(big), .buf = big };
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, write_thread, &c), 0);
    pt_wait_asleep(s, 1);               /* 65,536 in, asleep for the rest */
    assert_int_equal(ust_close(s, fds[0]), 0);
    pt_join(t);
    assert_int_equal(c.ret, 65536);
    ust_stack_free(s);
}

/* pipe09 + PIPE_BUF atomicity: writers of PIPE_BUF-byte blocks, blocked on
 * a full pipe most of the time; the reader sees every block whole (never
 * interleaved) and every byte of both. */
struct blk_writer {
    struct ust_stack *s;
    int fd;
    uint8_t id;
    int blocks;
    int fails;
};

static void *blk_write_thread(void *arg)
{
    struct blk_writer *w = arg;
    uint8_t blk[4096];
    for (int b = 0; b < w->blocks; b++) {
        memset(blk, w->id, sizeof(blk));
        blk[0] = (uint8_t)b;
        if (ust_write(w->s, w->fd, blk, sizeof(blk)) != (ssize_t)sizeof(blk))
            w->fails++;
    }
    return NULL;
}

static void test_pipe09_writers_pipe_buf_blocks_never_interleave(void **state)
{
    (void)state;
    struct ust_stack *s = pt_started_stack();
    int fds[2];
    assert_int_equal(ust_pipe(s, fds), 0);
    enum { W = 4, BLOCKS = 200 };
    struct blk_writer w[W];
    pthread_t t[W];
    for (int i = 0; i < W; i++) {
        w[i] = (struct blk_writer){ s, fds[1], (uint8_t)(0x10 + i), BLOCKS, 0 };
        assert_int_equal(pthread_create(&t[i], NULL, blk_write_thread, &w[i]), 0);
    }
    int next[W] = { 0 };
    uint8_t blk[4096];
    for (int b = 0; b < W * BLOCKS; b++) {
        assert_int_equal(read_full(s, fds[0], blk, sizeof(blk)), sizeof(blk));
        int id = blk[1] - 0x10;
        assert_true(id >= 0 && id < W);
        assert_int_equal(blk[0], (uint8_t)next[id]);
        next[id]++;
        for (size_t k = 1; k < sizeof(blk); k++)
            assert_int_equal(blk[k], blk[1]);
    }
    for (int i = 0; i < W; i++) {
        pt_join(t[i]);
        assert_int_equal(w[i].fails, 0);
        assert_int_equal(next[i], BLOCKS);
    }
    ust_stack_free(s);
}

/* pipe11: N reader threads each read PIPE_BUF/N bytes of one PIPE_BUF
 * write; together they get all of it. */
static void test_pipe11_n_readers_share_one_pipe_buf_write(void **state)
{
    (void)state;
    struct ust_stack *s = pt_started_stack();
    int fds[2];
    assert_int_equal(ust_pipe(s, fds), 0);
    enum { N = 4, PART = 4096 / N };
    uint8_t bufs[N][PART];
    struct rw c[N];
    pthread_t t[N];
    for (int i = 0; i < N; i++) {
        c[i] = (struct rw){ .s = s, .fd = fds[0], .len = PART, .buf = bufs[i] };
        assert_int_equal(pthread_create(&t[i], NULL, read_thread, &c[i]), 0);
    }
    pt_wait_asleep(s, N);
    uint8_t out[4096];
    for (int i = 0; i < 4096; i++)
        out[i] = (uint8_t)(i / PART);
    assert_int_equal(ust_write(s, fds[1], out, sizeof(out)), 4096);
    int seen[N] = { 0 };
    for (int i = 0; i < N; i++) {
        pt_join(t[i]);
        assert_int_equal(c[i].ret, PART);
        for (int k = 1; k < PART; k++)
            assert_int_equal(bufs[i][k], bufs[i][0]);
        seen[bufs[i][0]]++;
    }
    for (int i = 0; i < N; i++)
        assert_int_equal(seen[i], 1);
    ust_stack_free(s);
}

/* pipe15: a pipe shrunk to 2 pages by the soft page limit does not hang a
 * blocking transfer much larger than itself. */
static void test_pipe15_small_pipe_past_soft_limit_does_not_hang(void **state)
{
    (void)state;
    struct ust_stack_config c;
    ust_stack_config_init(&c);
    c.pipe_user_pages_soft = 1;
    c.raise_sigpipe = 0;
    struct ust_stack *s = pt_stack_cfg(&c);
    assert_int_equal(ust_stack_start(s), 0);
    int fds[2];
    assert_int_equal(ust_pipe(s, fds), 0);
    assert_int_equal(ust_fcntl(s, fds[0], F_GETPIPE_SZ), 8192);
    size_t len = 200000;
    uint8_t *out = malloc(len), *in = malloc(len);
    assert_non_null(out);
    assert_non_null(in);
    for (size_t i = 0; i < len; i++)
        out[i] = (uint8_t)(i * 5 + 1);
    struct rw w = { .s = s, .fd = fds[1], .len = len, .buf = out };
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, write_thread, &w), 0);
    assert_int_equal(read_full(s, fds[0], in, len), len);
    pt_join(t);
    assert_int_equal(w.ret, (ssize_t)len);
    assert_memory_equal(in, out, len);
    free(out);
    free(in);
    ust_stack_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pipe10_blocking_read_woken_by_write),
        cmocka_unit_test(test_pipe13_last_writer_close_wakes_all_readers),
        cmocka_unit_test(test_pipe04_writers_blocked_on_full_pipe_are_released),
        cmocka_unit_test(test_pipe_blocking_write_larger_than_capacity_completes),
        cmocka_unit_test(test_pipe_blocking_large_write_returns_partial_count_when_reader_leaves),
        cmocka_unit_test(test_pipe09_writers_pipe_buf_blocks_never_interleave),
        cmocka_unit_test(test_pipe11_n_readers_share_one_pipe_buf_write),
        cmocka_unit_test(test_pipe15_small_pipe_past_soft_limit_does_not_hang),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
