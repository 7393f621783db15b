/* Pipes without a stack thread: the non-blocking semantics of pipe(2),
 * pipe2(2), pipe(7) and fcntl(2)'s pipe commands, one test per LTP check
 * (pipe01..pipe14, pipe2_01, pipe2_04, fcntl30/35/37) or per rule of
 * shared/reference/ipc-semantics.md that LTP does not cover (poll states,
 * O_DIRECT truncation, partial-write range, FIONREAD). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <cmocka.h>

#include "unit/pipe_test_util.h"

static volatile sig_atomic_t sigpipe_count;

static void on_sigpipe(int sig)
{
    (void)sig;
    sigpipe_count++;
}

/* pipe01: 26 bytes written come back, same size and data. */
static void test_pipe01_write_then_read(void **state)
{
    (void)state;
    struct ust_stack *s = pt_stack();
    int fds[2];
    assert_int_equal(ust_pipe(s, fds), 0);
    const char *abc = "abcdefghijklmnopqrstuvwxyz";
    assert_int_equal(ust_write(s, fds[1], abc, 26), 26);
    char buf[64] = { 0 };
    assert_int_equal(ust_read(s, fds[0], buf, sizeof(buf)), 26);
    assert_memory_equal(buf, abc, 26);
    ust_stack_free(s);
}

/* pipe02 / pipe08: writing with the read end closed raises SIGPIPE and
 * fails with EPIPE. */
static void test_pipe02_pipe08_no_reader_raises_sigpipe_and_epipe(void **state)
{
    (void)state;
    struct ust_stack_config c;
    ust_stack_config_init(&c);
    struct ust_stack *s = pt_stack_cfg(&c);     /* raise_sigpipe = 1 */
    struct sigaction sa = { .sa_handler = on_sigpipe }, old;
    sigemptyset(&sa.sa_mask);
    assert_int_equal(sigaction(SIGPIPE, &sa, &old), 0);
    sigpipe_count = 0;
    int fds[2];
    assert_int_equal(ust_pipe(s, fds), 0);
    assert_int_equal(ust_close(s, fds[0]), 0);
    errno = 0;
    assert_int_equal(ust_write(s, fds[1], "x", 1), -1);
    assert_int_equal(errno, EPIPE);
    assert_int_equal(sigpipe_count, 1);
    sigaction(SIGPIPE, &old, NULL);
    ust_stack_free(s);
}

static void test_pipe_epipe_without_signal_when_raise_sigpipe_is_off(void **state)
{
    (void)state;
    struct ust_stack *s = pt_stack();           /* raise_sigpipe = 0 */
    struct sigaction sa = { .sa_handler = on_sigpipe }, old;
    sigemptyset(&sa.sa_mask);
    assert_int_equal(sigaction(SIGPIPE, &sa, &old), 0);
    sigpipe_count = 0;
    int fds[2];
    assert_int_equal(ust_pipe(s, fds), 0);
    assert_int_equal(ust_close(s, fds[0]), 0);
    assert_int_equal(ust_write(s, fds[1], "x", 1), -1);
    assert_int_equal(errno, EPIPE);
    assert_int_equal(sigpipe_count, 0);
    /* Linux: a zero-length write returns 0 before looking at readers. */
    assert_int_equal(ust_write(s, fds[1], "", 0), 0);
    sigaction(SIGPIPE, &old, NULL);
    ust_stack_free(s);
}

/* pipe03: writing the read end or reading the write end is EBADF. */
static void test_pipe03_wrong_end_is_ebadf(void **state)
{
    (void)state;
    struct ust_stack *s = pt_stack();
    int fds[2];
    assert_int_equal(ust_pipe(s, fds), 0);
    char c;
    errno = 0;
    assert_int_equal(ust_write(s, fds[0], "x", 1), -1);
    assert_int_equal(errno, EBADF);
    errno = 0;
    assert_int_equal(ust_read(s, fds[1], &c, 1), -1);
    assert_int_equal(errno, EBADF);
    ust_stack_free(s);
}

/* pipe05: a bad address is EFAULT (here: NULL). */
static void test_pipe05_null_fds_is_efault(void **state)
{
    (void)state;
    struct ust_stack *s = pt_stack();
    errno = 0;
    assert_int_equal(ust_pipe(s, NULL), -1);
    assert_int_equal(errno, EFAULT);
    ust_stack_free(s);
}

/* pipe06 / pipe07: pipes up to the descriptor limit, then EMFILE with fds
 * unchanged (also when only one descriptor is left). */
static void test_pipe06_pipe07_pipes_up_to_fd_limit_then_emfile(void **state)
{
    (void)state;
    struct ust_stack_config c;
    ust_stack_config_init(&c);
    c.max_fds = 9;
    c.raise_sigpipe = 0;
    struct ust_stack *s = pt_stack_cfg(&c);
    int fds[2];
    for (int i = 0; i < 4; i++) {
        assert_int_equal(ust_pipe(s, fds), 0);
        assert_int_equal(fds[0], 2 * i);
        assert_int_equal(fds[1], 2 * i + 1);
    }
    fds[0] = fds[1] = -7;
    errno = 0;
    assert_int_equal(ust_pipe(s, fds), -1);     /* one descriptor left */
    assert_int_equal(errno, EMFILE);
    assert_int_equal(fds[0], -7);
    assert_int_equal(fds[1], -7);
    ust_stack_free(s);
}

/* pipe11 (one thread): N reads of PIPE_BUF/N bytes get consecutive parts. */
static void test_pipe11_reads_of_pipe_buf_over_n_get_consecutive_parts(void **state)
{
    (void)state;
    struct ust_stack *s = pt_stack();
    int fds[2];
    assert_int_equal(ust_pipe(s, fds), 0);
    static const int ns[] = { 1, 2, 3, 4, 7, 16 };
    for (size_t k = 0; k < sizeof(ns) / sizeof(ns[0]); k++) {
        uint8_t out[4096], in[4096];
        for (int i = 0; i < 4096; i++)
            out[i] = (uint8_t)(i * 7 + k);
        assert_int_equal(ust_write(s, fds[1], out, 4096), 4096);
        size_t part = 4096 / (size_t)ns[k], off = 0;
        for (int r = 0; r < ns[k]; r++, off += part)
            assert_int_equal(ust_read(s, fds[0], in + off, part), (ssize_t)part);
        assert_memory_equal(in, out, off);
        /* drain the remainder */
        while (off < 4096)
            off += (size_t)ust_read(s, fds[0], in + off, 4096 - off);
    }
    ust_stack_free(s);
}

/* pipe12: O_NONBLOCK full pipe gives EAGAIN; a write of at most PIPE_BUF
 * is all-or-nothing; a larger one writes 1..n bytes. */
static void test_pipe12_nonblock_full_eagain_and_partial_writes(void **state)
{
    (void)state;
    struct ust_stack *s = pt_stack();
    int fds[2];
    assert_int_equal(ust_pipe2(s, fds, O_NONBLOCK), 0);
    static uint8_t big[70000];
    memset(big, 'a', sizeof(big));
    /* Fill to 3996 bytes free: a PIPE_BUF write is refused whole. */
    assert_int_equal(ust_write(s, fds[1], big, 65536 - 3996), 65536 - 3996);
    errno = 0;
    assert_int_equal(ust_write(s, fds[1], big, 4096), -1);
    assert_int_equal(errno, EAGAIN);
    int n = -1;
    assert_int_equal(ust_ioctl(s, fds[0], FIONREAD, &n), 0);
    assert_int_equal(n, 65536 - 3996);             /* nothing went in */
    /* A larger write is partial, 1..n (here: what fits, byte-exact). */
    ssize_t w = ust_write(s, fds[1], big, 10000);
    assert_true(w >= 1 && w <= 10000);
    assert_int_equal(w, 3996);
    errno = 0;
    assert_int_equal(ust_write(s, fds[1], big, 1), -1);
    assert_int_equal(errno, EAGAIN);
    errno = 0;
    assert_int_equal(ust_write(s, fds[1], big, 10000), -1);
    assert_int_equal(errno, EAGAIN);
    ust_stack_free(s);
}

/* Byte-exact capacity (our rule): 65,536 one-byte writes fit, the next is
 * EAGAIN, and FIONREAD then says 65,536 [probe]. */
static void test_pipe_capacity_is_65536_bytes_exactly(void **state)
{
    (void)state;
    struct ust_stack *s = pt_stack();
    int fds[2];
    assert_int_equal(ust_pipe2(s, fds, O_NONBLOCK), 0);
    for (int i = 0; i < 65536; i++)
        assert_int_equal(ust_write(s, fds[1], "z", 1), 1);
    errno = 0;
    assert_int_equal(ust_write(s, fds[1], "z", 1), -1);
    assert_int_equal(errno, EAGAIN);
    int n = 0;
    assert_int_equal(ust_ioctl(s, fds[0], FIONREAD, &n), 0);
    assert_int_equal(n, 65536);
    ust_stack_free(s);
}

/* pipe14: after the writer closes, the reader gets the rest, then EOF. A
 * non-blocking read of an empty pipe with a writer is EAGAIN. */
static void test_pipe14_data_then_eof_after_writer_closes(void **state)
{
    (void)state;
    struct ust_stack *s = pt_stack();
    int fds[2];
    assert_int_equal(ust_pipe2(s, fds, O_NONBLOCK), 0);
    char buf[16];
    errno = 0;
    assert_int_equal(ust_read(s, fds[0], buf, sizeof(buf)), -1);
    assert_int_equal(errno, EAGAIN);
    assert_int_equal(ust_write(s, fds[1], "hello", 5), 5);
    assert_int_equal(ust_close(s, fds[1]), 0);
    assert_int_equal(ust_read(s, fds[0], buf, 3), 3);
    assert_int_equal(ust_read(s, fds[0], buf, sizeof(buf)), 2);
    assert_memory_equal(buf, "lo", 2);
    assert_int_equal(ust_read(s, fds[0], buf, sizeof(buf)), 0);
    assert_int_equal(ust_read(s, fds[0], buf, sizeof(buf)), 0);
    ust_stack_free(s);
}

/* Blocking mode without a stack thread behaves as non-blocking. */
static void test_pipe_blocking_mode_without_thread_behaves_nonblocking(void **state)
{
    (void)state;
    struct ust_stack *s = pt_stack();
    int fds[2];
    assert_int_equal(ust_pipe(s, fds), 0);
    char buf[4];
    errno = 0;
    assert_int_equal(ust_read(s, fds[0], buf, sizeof(buf)), -1);
    assert_int_equal(errno, EAGAIN);
    static uint8_t big[70000];
    assert_int_equal(ust_write(s, fds[1], big, sizeof(big)), 65536);
    ust_stack_free(s);
}

/* pipe2_01: flags visible through F_GETFD / F_GETFL (O_DIRECT on the write
 * end only, as Linux). */
static void test_pipe2_01_flags_visible_through_fcntl(void **state)
{
    (void)state;
    struct ust_stack *s = pt_stack();
    int fds[2];
    assert_int_equal(ust_pipe2(s, fds, 0), 0);
    assert_int_equal(ust_fcntl(s, fds[0], F_GETFD), 0);
    assert_int_equal(ust_fcntl(s, fds[0], F_GETFL) & (O_ACCMODE | O_NONBLOCK), O_RDONLY);
    assert_int_equal(ust_fcntl(s, fds[1], F_GETFL) & (O_ACCMODE | O_NONBLOCK), O_WRONLY);
    assert_int_equal(ust_pipe2(s, fds, O_CLOEXEC), 0);
    assert_int_equal(ust_fcntl(s, fds[0], F_GETFD), FD_CLOEXEC);
    assert_int_equal(ust_fcntl(s, fds[1], F_GETFD), FD_CLOEXEC);
    assert_int_equal(ust_pipe2(s, fds, O_NONBLOCK), 0);
    assert_true(ust_fcntl(s, fds[0], F_GETFL) & O_NONBLOCK);
    assert_true(ust_fcntl(s, fds[1], F_GETFL) & O_NONBLOCK);
    assert_int_equal(ust_pipe2(s, fds, O_DIRECT), 0);
    assert_true(ust_fcntl(s, fds[1], F_GETFL) & O_DIRECT);
    assert_false(ust_fcntl(s, fds[0], F_GETFL) & O_DIRECT);
    ust_stack_free(s);
}

static void test_pipe2_bad_flags_einval_and_fds_unchanged(void **state)
{
    (void)state;
    struct ust_stack *s = pt_stack();
    int fds[2] = { -5, -6 };
    errno = 0;
    assert_int_equal(ust_pipe2(s, fds, O_APPEND), -1);
    assert_int_equal(errno, EINVAL);
    assert_int_equal(ust_pipe2(s, fds, O_RDWR), -1);
    assert_int_equal(errno, EINVAL);
    assert_int_equal(fds[0], -5);
    assert_int_equal(fds[1], -6);
    ust_stack_free(s);
}

/* pipe2_04 / fcntl30: F_GETPIPE_SZ / F_SETPIPE_SZ and EAGAIN when full. */
static void test_pipe2_04_fcntl30_get_set_pipe_size(void **state)
{
    (void)state;
    struct ust_stack *s = pt_stack();
    int fds[2];
    assert_int_equal(ust_pipe2(s, fds, O_NONBLOCK), 0);
    assert_int_equal(ust_fcntl(s, fds[0], F_GETPIPE_SZ), 65536);
    assert_int_equal(ust_fcntl(s, fds[1], F_SETPIPE_SZ, 100000), 131072);   /* [probe] */
    assert_int_equal(ust_fcntl(s, fds[0], F_GETPIPE_SZ), 131072);
    assert_int_equal(ust_fcntl(s, fds[1], F_SETPIPE_SZ, 1), 4096);          /* [probe] */
    assert_int_equal(ust_fcntl(s, fds[1], F_SETPIPE_SZ, 0), 4096);
    assert_int_equal(ust_fcntl(s, fds[1], F_SETPIPE_SZ, 1 << 20), 1 << 20); /* the maximum */
    assert_int_equal(ust_fcntl(s, fds[1], F_SETPIPE_SZ, 8192), 8192);
    static uint8_t buf[8192];
    assert_int_equal(ust_write(s, fds[1], buf, 8192), 8192);
    errno = 0;
    assert_int_equal(ust_write(s, fds[1], buf, 1), -1);
    assert_int_equal(errno, EAGAIN);
    ust_stack_free(s);
}

/* fcntl37: EINVAL above 2^31, EPERM above the maximum, EBUSY below the
 * bytes held (the contents survive). */
static void test_fcntl37_set_pipe_size_errors(void **state)
{
    (void)state;
    struct ust_stack *s = pt_stack();
    int fds[2];
    assert_int_equal(ust_pipe2(s, fds, O_NONBLOCK), 0);
    errno = 0;
    assert_int_equal(ust_fcntl(s, fds[1], F_SETPIPE_SZ, (int)((1u << 31) + 4096)), -1);
    assert_int_equal(errno, EINVAL);
    errno = 0;
    assert_int_equal(ust_fcntl(s, fds[1], F_SETPIPE_SZ, (1 << 20) + 1), -1);
    assert_int_equal(errno, EPERM);
    static uint8_t buf[10000], in[10000];
    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = (uint8_t)(i * 31);
    assert_int_equal(ust_write(s, fds[1], buf, sizeof(buf)), (ssize_t)sizeof(buf));
    errno = 0;
    assert_int_equal(ust_fcntl(s, fds[1], F_SETPIPE_SZ, 8192), -1);
    assert_int_equal(errno, EBUSY);
    assert_int_equal(ust_fcntl(s, fds[1], F_SETPIPE_SZ, 16384), 16384);
    assert_int_equal(ust_read(s, fds[0], in, sizeof(in)), (ssize_t)sizeof(in));
    assert_memory_equal(in, buf, sizeof(buf));
    ust_stack_free(s);
}

/* F_GETPIPE_SZ / F_SETPIPE_SZ on something that is not a pipe: EBADF
 * (Linux pipe_fcntl). */
static void test_pipe_size_commands_on_non_pipe_are_ebadf(void **state)
{
    (void)state;
    struct ust_stack *s = pt_stack();
    int ep = ust_epoll_create1(s, 0);
    assert_true(ep >= 0);
    errno = 0;
    assert_int_equal(ust_fcntl(s, ep, F_GETPIPE_SZ), -1);
    assert_int_equal(errno, EBADF);
    errno = 0;
    assert_int_equal(ust_fcntl(s, ep, F_SETPIPE_SZ, 4096), -1);
    assert_int_equal(errno, EBADF);
    ust_stack_free(s);
}

/* fcntl35: cfg.pipe_max_size caps the initial capacity of new pipes. */
static void test_fcntl35_pipe_max_size_caps_initial_capacity(void **state)
{
    (void)state;
    struct ust_stack_config c;
    ust_stack_config_init(&c);
    c.pipe_max_size = 16384;
    c.raise_sigpipe = 0;
    struct ust_stack *s = pt_stack_cfg(&c);
    int fds[2];
    assert_int_equal(ust_pipe(s, fds), 0);
    assert_int_equal(ust_fcntl(s, fds[0], F_GETPIPE_SZ), 16384);
    errno = 0;
    assert_int_equal(ust_fcntl(s, fds[0], F_SETPIPE_SZ, 32768), -1);
    assert_int_equal(errno, EPERM);
    ust_stack_free(s);
}

/* pipe-user-pages-soft: past the limit a new pipe gets 2 pages and cannot
 * grow (EPERM); closing pipes gives the pages back. */
static void test_pipe15_soft_page_limit_shrinks_new_pipes(void **state)
{
    (void)state;
    struct ust_stack_config c;
    ust_stack_config_init(&c);
    c.pipe_user_pages_soft = 32;
    c.raise_sigpipe = 0;
    struct ust_stack *s = pt_stack_cfg(&c);
    int a[2], b[2], d[2];
    assert_int_equal(ust_pipe(s, a), 0);
    assert_int_equal(ust_pipe(s, b), 0);                    /* 32 pages: at the limit */
    assert_int_equal(ust_fcntl(s, b[0], F_GETPIPE_SZ), 65536);
    assert_int_equal(ust_pipe2(s, d, O_NONBLOCK), 0);       /* past it */
    assert_int_equal(ust_fcntl(s, d[0], F_GETPIPE_SZ), 8192);
    errno = 0;
    assert_int_equal(ust_fcntl(s, d[1], F_SETPIPE_SZ, 16384), -1);
    assert_int_equal(errno, EPERM);
    assert_int_equal(ust_fcntl(s, a[1], F_SETPIPE_SZ, 4096), 4096);   /* shrinking is fine */
    /* The small pipe works: 8 KiB in, then EAGAIN, then all of it out. */
    static uint8_t buf[8192];
    assert_int_equal(ust_write(s, d[1], buf, sizeof(buf)), 8192);
    errno = 0;
    assert_int_equal(ust_write(s, d[1], buf, 1), -1);
    assert_int_equal(errno, EAGAIN);
    assert_int_equal(ust_read(s, d[0], buf, sizeof(buf)), 8192);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(ust_close(s, b[i]), 0);
        assert_int_equal(ust_close(s, d[i]), 0);
    }
    assert_int_equal(ust_pipe(s, b), 0);                    /* pages came back */
    assert_int_equal(ust_fcntl(s, b[0], F_GETPIPE_SZ), 65536);
    ust_stack_free(s);
}

/* O_DIRECT [probe]: "abc" then "defgh" read as two packets; a 2-byte read of
 * a 5-byte packet returns 2 and loses the other 3. */
static void test_pipe2_odirect_packets_and_truncation(void **state)
{
    (void)state;
    struct ust_stack *s = pt_stack();
    int fds[2];
    assert_int_equal(ust_pipe2(s, fds, O_DIRECT | O_NONBLOCK), 0);
    char buf[16];
    assert_int_equal(ust_write(s, fds[1], "abc", 3), 3);
    assert_int_equal(ust_write(s, fds[1], "defgh", 5), 5);
    assert_int_equal(ust_write(s, fds[1], "ij", 2), 2);
    assert_int_equal(ust_read(s, fds[0], buf, sizeof(buf)), 3);
    assert_memory_equal(buf, "abc", 3);
    assert_int_equal(ust_read(s, fds[0], buf, 2), 2);
    assert_memory_equal(buf, "de", 2);
    assert_int_equal(ust_read(s, fds[0], buf, sizeof(buf)), 2);
    assert_memory_equal(buf, "ij", 2);
    errno = 0;
    assert_int_equal(ust_read(s, fds[0], buf, sizeof(buf)), -1);
    assert_int_equal(errno, EAGAIN);
    ust_stack_free(s);
}

/* O_DIRECT: a write above PIPE_BUF is split into PIPE_BUF packets, and a
 * packet takes a slot: 16 packets fill a 64 KiB pipe. */
static void test_pipe2_odirect_large_write_split_and_slots(void **state)
{
    (void)state;
    struct ust_stack *s = pt_stack();
    int fds[2];
    assert_int_equal(ust_pipe2(s, fds, O_DIRECT | O_NONBLOCK), 0);
    static uint8_t big[10000], in[10000];
    assert_int_equal(ust_write(s, fds[1], big, 10000), 10000);
    assert_int_equal(ust_read(s, fds[0], in, sizeof(in)), 4096);
    assert_int_equal(ust_read(s, fds[0], in, sizeof(in)), 4096);
    assert_int_equal(ust_read(s, fds[0], in, sizeof(in)), 10000 - 8192);
    for (int i = 0; i < 16; i++)
        assert_int_equal(ust_write(s, fds[1], "p", 1), 1);
    errno = 0;
    assert_int_equal(ust_write(s, fds[1], "p", 1), -1);
    assert_int_equal(errno, EAGAIN);
    ust_stack_free(s);
}

/* poll states [probe table]: empty read end 0, empty write end POLLOUT,
 * data + writers gone POLLIN|POLLHUP, drained POLLHUP, readers gone
 * POLLOUT|POLLERR. */
static void test_pipe_poll_states_match_linux_table(void **state)
{
    (void)state;
    struct ust_stack *s = pt_stack();
    int fds[2];
    short all = POLLIN | POLLOUT;
    assert_int_equal(ust_pipe2(s, fds, O_NONBLOCK), 0);
    assert_int_equal(pt_revents(s, fds[0], all), 0);
    assert_int_equal(pt_revents(s, fds[1], all), POLLOUT);
    assert_int_equal(ust_write(s, fds[1], "x", 1), 1);
    assert_int_equal(pt_revents(s, fds[0], all), POLLIN);
    assert_int_equal(ust_close(s, fds[1]), 0);
    assert_int_equal(pt_revents(s, fds[0], all), POLLIN | POLLHUP);
    char c;
    assert_int_equal(ust_read(s, fds[0], &c, 1), 1);
    assert_int_equal(pt_revents(s, fds[0], all), POLLHUP);

    assert_int_equal(ust_pipe2(s, fds, O_NONBLOCK), 0);
    assert_int_equal(ust_close(s, fds[0]), 0);
    assert_int_equal(pt_revents(s, fds[1], all), POLLOUT | POLLERR);
    ust_stack_free(s);
}

/* POLLOUT means a PIPE_BUF write succeeds: gone with fewer free bytes. */
static void test_pipe_pollout_needs_pipe_buf_free(void **state)
{
    (void)state;
    struct ust_stack *s = pt_stack();
    int fds[2];
    assert_int_equal(ust_pipe2(s, fds, O_NONBLOCK), 0);
    static uint8_t big[65536];
    assert_int_equal(ust_write(s, fds[1], big, 65536 - 4096), 65536 - 4096);
    assert_int_equal(pt_revents(s, fds[1], POLLOUT), POLLOUT);
    assert_int_equal(ust_write(s, fds[1], big, 1), 1);
    assert_int_equal(pt_revents(s, fds[1], POLLOUT), 0);
    assert_int_equal(ust_read(s, fds[0], big, 1), 1);
    assert_int_equal(pt_revents(s, fds[1], POLLOUT), POLLOUT);
    ust_stack_free(s);
}

/* FIONREAD counts unread bytes; dup'd descriptors share the pipe end and
 * the pipe stays open until the last one closes. */
static void test_pipe_fionread_and_dup_keeps_writer(void **state)
{
    (void)state;
    struct ust_stack *s = pt_stack();
    int fds[2];
    assert_int_equal(ust_pipe2(s, fds, O_NONBLOCK), 0);
    int n = -1;
    assert_int_equal(ust_ioctl(s, fds[0], FIONREAD, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(ust_write(s, fds[1], "12345", 5), 5);
    assert_int_equal(ust_ioctl(s, fds[0], FIONREAD, &n), 0);
    assert_int_equal(n, 5);
    int w2 = ust_fcntl(s, fds[1], F_DUPFD, 0);
    assert_true(w2 >= 0);
    assert_int_equal(ust_close(s, fds[1]), 0);
    char buf[8];
    assert_int_equal(ust_read(s, fds[0], buf, sizeof(buf)), 5);
    errno = 0;
    assert_int_equal(ust_read(s, fds[0], buf, sizeof(buf)), -1);   /* a writer remains */
    assert_int_equal(errno, EAGAIN);
    assert_int_equal(ust_close(s, w2), 0);
    assert_int_equal(ust_read(s, fds[0], buf, sizeof(buf)), 0);
    ust_stack_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pipe01_write_then_read),
        cmocka_unit_test(test_pipe02_pipe08_no_reader_raises_sigpipe_and_epipe),
        cmocka_unit_test(test_pipe_epipe_without_signal_when_raise_sigpipe_is_off),
        cmocka_unit_test(test_pipe03_wrong_end_is_ebadf),
        cmocka_unit_test(test_pipe05_null_fds_is_efault),
        cmocka_unit_test(test_pipe06_pipe07_pipes_up_to_fd_limit_then_emfile),
        cmocka_unit_test(test_pipe11_reads_of_pipe_buf_over_n_get_consecutive_parts),
        cmocka_unit_test(test_pipe12_nonblock_full_eagain_and_partial_writes),
        cmocka_unit_test(test_pipe_capacity_is_65536_bytes_exactly),
        cmocka_unit_test(test_pipe14_data_then_eof_after_writer_closes),
        cmocka_unit_test(test_pipe_blocking_mode_without_thread_behaves_nonblocking),
        cmocka_unit_test(test_pipe2_01_flags_visible_through_fcntl),
        cmocka_unit_test(test_pipe2_bad_flags_einval_and_fds_unchanged),
        cmocka_unit_test(test_pipe2_04_fcntl30_get_set_pipe_size),
        cmocka_unit_test(test_fcntl37_set_pipe_size_errors),
        cmocka_unit_test(test_fcntl35_pipe_max_size_caps_initial_capacity),
        cmocka_unit_test(test_pipe_size_commands_on_non_pipe_are_ebadf),
        cmocka_unit_test(test_pipe15_soft_page_limit_shrinks_new_pipes),
        cmocka_unit_test(test_pipe2_odirect_packets_and_truncation),
        cmocka_unit_test(test_pipe2_odirect_large_write_split_and_slots),
        cmocka_unit_test(test_pipe_poll_states_match_linux_table),
        cmocka_unit_test(test_pipe_pollout_needs_pipe_buf_free),
        cmocka_unit_test(test_pipe_fionread_and_dup_keeps_writer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
