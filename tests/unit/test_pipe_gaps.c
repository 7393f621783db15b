/* Pipe rules of pipe(2), pipe(7) and fcntl(2) beyond test_pipe_basic.c, each
 * checked against Linux 6.18 by a probe: lseek gives ESPIPE; O_DIRECT
 * switched on and off with F_SETFL (packets after switching, stream bytes and
 * packets sharing one pipe, Linux's merge of a packet write into a partly
 * filled stream page); zero-length O_DIRECT writes make no packet;
 * O_NOTIFICATION_PIPE gives ENOPKG; O_ASYNC sends SIGIO to the F_SETOWN
 * owner; pipe-user-pages-hard refuses new pipes (ENFILE) and growth
 * (EPERM). No stack thread: every call is non-blocking. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "unit/ipc_dir_test_util.h"

#include "pipe_test_util.h"

#ifndef O_NOTIFICATION_PIPE
#define O_NOTIFICATION_PIPE O_EXCL     /* linux/watch_queue.h */
#endif

static void expect_err(long r, int err)
{
    assert_int_equal(r, -1);
    assert_int_equal(errno, err);
}

static void write_all(struct ust_stack *s, int fd, const void *buf, size_t n)
{
    assert_int_equal(ust_write(s, fd, buf, n), (ssize_t)n);
}

/* Reads up to cap bytes and checks they are exactly `want`. */
static void read_expect(struct ust_stack *s, int fd, size_t cap, const char *want)
{
    char buf[8192];
    assert_true(cap <= sizeof(buf));
    ssize_t n = ust_read(s, fd, buf, cap);
    assert_int_equal(n, (ssize_t)strlen(want));
    assert_memory_equal(buf, want, strlen(want));
}

/* F_SETFL O_DIRECT on or off, keeping the other flags. */
static void set_packets(struct ust_stack *s, int fd, bool on)
{
    int fl = ust_fcntl(s, fd, F_GETFL);
    assert_true(fl >= 0);
    assert_int_equal(ust_fcntl(s, fd, F_SETFL, on ? fl | O_DIRECT : fl & ~O_DIRECT), 0);
}

/* ---- lseek ------------------------------------------------------------ */

/* pipe(7): "pipes do not support lseek" (ESPIPE); so do FIFOs and sockets. */
static void test_lseek_on_pipe_fifo_and_socket_is_espipe(void **state)
{
    (void)state;
    struct ust_stack *s = pt_stack();
    int p[2];
    assert_int_equal(ust_pipe(s, p), 0);
    write_all(s, p[1], "abc", 3);
    for (int i = 0; i < 2; i++) {
        expect_err(ust_lseek(s, p[i], 0, SEEK_CUR), ESPIPE);
        expect_err(ust_lseek(s, p[i], 0, SEEK_SET), ESPIPE);
        expect_err(ust_lseek(s, p[i], 1, SEEK_END), ESPIPE);
    }
    read_expect(s, p[0], 10, "abc");        /* nothing moved */
    assert_int_equal(ust_mkfifo(s, "f", 0600), 0);
    int r = ust_open(s, "f", O_RDONLY | O_NONBLOCK);
    assert_true(r >= 0);
    expect_err(ust_lseek(s, r, 0, SEEK_SET), ESPIPE);
    int u = ust_socket(s, AF_INET, SOCK_DGRAM, 0);
    assert_true(u >= 0);
    expect_err(ust_lseek(s, u, 0, SEEK_CUR), ESPIPE);
    ust_stack_free(s);
}

/* ksys_lseek order: EBADF first, then EINVAL for whence > SEEK_HOLE, and
 * only then the file's ESPIPE. */
static void test_lseek_ebadf_then_einval_for_bad_whence(void **state)
{
    (void)state;
    struct ust_stack *s = pt_stack();
    int p[2];
    assert_int_equal(ust_pipe(s, p), 0);
    expect_err(ust_lseek(s, -1, 0, SEEK_SET), EBADF);
    expect_err(ust_lseek(s, 77, 0, SEEK_SET), EBADF);
    expect_err(ust_lseek(s, p[0], 0, 99), EINVAL);
    expect_err(ust_lseek(s, p[0], 0, -1), EINVAL);
    expect_err(ust_lseek(s, p[0], 0, SEEK_HOLE), ESPIPE);
    ust_stack_free(s);
}

/* ---- O_DIRECT through F_SETFL ------------------------------------------ */

/* setfl(): "pipe packetized mode is controlled by O_DIRECT flag". A pipe
 * made without O_DIRECT becomes a packet pipe when its write end gets
 * O_DIRECT: [probe] "abc", "defgh", read 2 → "ab" (the "c" is lost), read
 * 100 → "defgh". F_GETFL shows the flag. */
static void test_fsetfl_odirect_on_write_end_makes_packets(void **state)
{
    (void)state;
    struct ust_stack *s = pt_stack();
    int p[2];
    assert_int_equal(ust_pipe2(s, p, O_NONBLOCK), 0);
    write_all(s, p[1], "st", 2);                    /* stream bytes before */
    set_packets(s, p[1], true);
    assert_int_equal(ust_fcntl(s, p[1], F_GETFL), O_WRONLY | O_DIRECT | O_NONBLOCK);
    assert_int_equal(ust_fcntl(s, p[0], F_GETFL), O_RDONLY | O_NONBLOCK);
    read_expect(s, p[0], 100, "st");
    write_all(s, p[1], "abc", 3);
    write_all(s, p[1], "defgh", 5);
    read_expect(s, p[0], 2, "ab");
    read_expect(s, p[0], 100, "defgh");
    expect_err(ust_read(s, p[0], (char[8]){ 0 }, 8), EAGAIN);
    ust_stack_free(s);
}

/* Clearing O_DIRECT makes the writer a stream writer again: later writes
 * have no boundaries, while a packet already queued keeps its own. */
static void test_fsetfl_clearing_odirect_returns_to_stream(void **state)
{
    (void)state;
    struct ust_stack *s = pt_stack();
    int p[2];
    assert_int_equal(ust_pipe2(s, p, O_DIRECT | O_NONBLOCK), 0);
    write_all(s, p[1], "PK", 2);
    set_packets(s, p[1], false);
    assert_int_equal(ust_fcntl(s, p[1], F_GETFL), O_WRONLY | O_NONBLOCK);
    write_all(s, p[1], "st", 2);
    write_all(s, p[1], "uv", 2);
    /* [probe] reads of 1 byte: "P" (the "K" is dropped), then s, t, u, v. */
    read_expect(s, p[0], 1, "P");
    read_expect(s, p[0], 1, "s");
    read_expect(s, p[0], 100, "tuv");
    ust_stack_free(s);
}

/* Linux pipe_write merges a write's first (len % 4096) bytes into a partly
 * filled stream page at the tail, even for a packet writer. [probe]
 * "xy" "zw" (stream), "PKT" (packet), "tail" (stream): read 5 → "xyzwP",
 * then "KTtail": the packet became stream bytes. */
static void test_packet_write_merges_into_stream_tail_page_as_linux(void **state)
{
    (void)state;
    struct ust_stack *s = pt_stack();
    int p[2];
    assert_int_equal(ust_pipe2(s, p, O_NONBLOCK), 0);
    write_all(s, p[1], "xy", 2);
    write_all(s, p[1], "zw", 2);
    set_packets(s, p[1], true);
    write_all(s, p[1], "PKT", 3);
    set_packets(s, p[1], false);
    write_all(s, p[1], "tail", 4);
    read_expect(s, p[0], 5, "xyzwP");
    read_expect(s, p[0], 100, "KTtail");
    expect_err(ust_read(s, p[0], (char[8]){ 0 }, 8), EAGAIN);
    ust_stack_free(s);
}

/* [probe] "xy" then a 5000-byte packet write: 904 bytes (5000 % 4096) join
 * the stream page, the other 4096 are one packet. Reads of 10 take 90 × 10
 * stream bytes, then 6 stream bytes + 4 of the packet (whose rest is
 * dropped). And a write of exactly 4096 never merges: "xy", a 4096-byte
 * packet, "PQ" → 10 (xy + 8 packet bytes), then 2. */
static void test_large_packet_write_after_stream_splits_like_linux(void **state)
{
    (void)state;
    struct ust_stack *s = pt_stack();
    int p[2];
    assert_int_equal(ust_pipe2(s, p, O_NONBLOCK), 0);
    static uint8_t big[5000];
    memset(big, 'B', sizeof(big));
    write_all(s, p[1], "xy", 2);
    set_packets(s, p[1], true);
    write_all(s, p[1], big, 5000);
    char buf[16];
    unsigned reads = 0;
    ssize_t n, total = 0;
    while ((n = ust_read(s, p[0], buf, 10)) > 0) {
        assert_int_equal(n, 10);
        reads++;
        total += n;
    }
    expect_err(n, EAGAIN);
    assert_int_equal(reads, 91);
    assert_int_equal(total, 910);

    set_packets(s, p[1], false);
    write_all(s, p[1], "xy", 2);
    set_packets(s, p[1], true);
    write_all(s, p[1], big, 4096);
    write_all(s, p[1], "PQ", 2);
    assert_int_equal(ust_read(s, p[0], buf, 10), 10);
    assert_memory_equal(buf, "xyBBBBBBBB", 10);
    read_expect(s, p[0], 10, "PQ");
    ust_stack_free(s);
}

/* The merge looks at where the tail page ends, which reads do not move
 * [probe]: 4090 stream bytes, 4000 read, then 20- and 5-byte packets: the
 * 20 do not fit the page (4090 + 20 > 4096) and stay a packet, so a read of
 * 95 gives the 90 stream bytes and 5 of that packet, then the 5-byte one. */
static void test_merge_uses_the_tail_page_end_not_the_bytes_left(void **state)
{
    (void)state;
    struct ust_stack *s = pt_stack();
    int p[2];
    assert_int_equal(ust_pipe2(s, p, O_NONBLOCK), 0);
    static uint8_t a[4090], c[20];
    memset(a, 'a', sizeof(a));
    memset(c, 'c', sizeof(c));
    write_all(s, p[1], a, sizeof(a));
    char buf[4096];
    assert_int_equal(ust_read(s, p[0], buf, 4000), 4000);
    set_packets(s, p[1], true);
    write_all(s, p[1], c, 20);
    write_all(s, p[1], c, 5);
    assert_int_equal(ust_read(s, p[0], buf, 95), 95);
    assert_int_equal(buf[89], 'a');
    assert_int_equal(buf[90], 'c');
    read_expect(s, p[0], 95, "ccccc");
    expect_err(ust_read(s, p[0], buf, 95), EAGAIN);
    ust_stack_free(s);
}

/* O_DIRECT on the read end is accepted and shown (Linux stores it), and
 * changes nothing for reads of stream data. */
static void test_fsetfl_odirect_on_read_end_is_shown_and_harmless(void **state)
{
    (void)state;
    struct ust_stack *s = pt_stack();
    int p[2];
    assert_int_equal(ust_pipe(s, p), 0);
    assert_int_equal(ust_fcntl(s, p[0], F_SETFL, O_DIRECT | O_NONBLOCK), 0);
    assert_int_equal(ust_fcntl(s, p[0], F_GETFL), O_RDONLY | O_DIRECT | O_NONBLOCK);
    write_all(s, p[1], "abc", 3);
    write_all(s, p[1], "def", 3);
    read_expect(s, p[0], 4, "abcd");
    read_expect(s, p[0], 4, "ef");
    ust_stack_free(s);
}

/* setfl(): O_DIRECT on a file without FMODE_CAN_ODIRECT (a socket, a POSIX
 * queue) is EINVAL [probe], and the flags stay as they were. */
static void test_fsetfl_odirect_on_socket_and_mq_is_einval(void **state)
{
    (void)state;
    struct ust_stack *s = pt_stack();
    int u = ust_socket(s, AF_INET, SOCK_DGRAM, 0);
    assert_true(u >= 0);
    expect_err(ust_fcntl(s, u, F_SETFL, O_DIRECT | O_NONBLOCK), EINVAL);
    assert_int_equal(ust_fcntl(s, u, F_GETFL) & (O_DIRECT | O_NONBLOCK), 0);
    int q = ust_mq_open(s, "/odirect", O_RDWR | O_CREAT, 0600, NULL);
    assert_true(q >= 0);
    expect_err(ust_fcntl(s, q, F_SETFL, O_DIRECT), EINVAL);
    assert_int_equal(ust_fcntl(s, q, F_SETFL, O_NONBLOCK), 0);
    assert_int_equal(ust_fcntl(s, q, F_GETFL) & O_NONBLOCK, O_NONBLOCK);
    ust_stack_free(s);
}

/* pipe(2): "zero-length packets are not supported": a zero-length write
 * returns 0 and queues nothing, so the reader still finds the pipe empty
 * [probe: EAGAIN], and the next packet is read whole. */
static void test_odirect_zero_length_write_makes_no_packet(void **state)
{
    (void)state;
    struct ust_stack *s = pt_stack();
    int p[2];
    assert_int_equal(ust_pipe2(s, p, O_DIRECT | O_NONBLOCK), 0);
    assert_int_equal(ust_write(s, p[1], "", 0), 0);
    int n = -1;
    assert_int_equal(ust_ioctl(s, p[0], FIONREAD, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(pt_revents(s, p[0], POLLIN), 0);
    expect_err(ust_read(s, p[0], (char[8]){ 0 }, 8), EAGAIN);
    write_all(s, p[1], "ab", 2);
    assert_int_equal(ust_write(s, p[1], "", 0), 0);
    write_all(s, p[1], "cd", 2);
    read_expect(s, p[0], 8, "ab");
    read_expect(s, p[0], 8, "cd");
    ust_stack_free(s);
}

/* O_NOTIFICATION_PIPE needs a watch queue, which ustack (like a kernel
 * without CONFIG_WATCH_QUEUE) has not: ENOPKG, and fds stays unchanged. */
static void test_notification_pipe_is_enopkg_and_fds_unchanged(void **state)
{
    (void)state;
    struct ust_stack *s = pt_stack();
    int p[2] = { -7, -8 };
    expect_err(ust_pipe2(s, p, O_NOTIFICATION_PIPE), ENOPKG);
    expect_err(ust_pipe2(s, p, O_NOTIFICATION_PIPE | O_CLOEXEC), ENOPKG);
    assert_int_equal(p[0], -7);
    assert_int_equal(p[1], -8);
    assert_int_equal(ust_pipe(s, p), 0);     /* nothing leaked: fds 0 and 1 */
    assert_int_equal(p[0], 0);
    assert_int_equal(p[1], 1);
    ust_stack_free(s);
}

/* A packet writer needs a slot per packet: with all 16 slots taken by
 * 1-byte packets it gets no POLLOUT and EAGAIN, as Linux (pipe_full). */
static void test_packet_writer_pollout_needs_a_free_slot(void **state)
{
    (void)state;
    struct ust_stack *s = pt_stack();
    int p[2];
    assert_int_equal(ust_pipe2(s, p, O_NONBLOCK), 0);
    set_packets(s, p[1], true);
    for (int i = 0; i < 16; i++)
        write_all(s, p[1], "x", 1);
    assert_int_equal(pt_revents(s, p[1], POLLOUT), 0);
    expect_err(ust_write(s, p[1], "y", 1), EAGAIN);
    read_expect(s, p[0], 8, "x");
    assert_int_equal(pt_revents(s, p[1], POLLOUT), POLLOUT);
    write_all(s, p[1], "y", 1);
    ust_stack_free(s);
}

/* F_SETPIPE_SZ keeps mixed contents in order: a stream page, two packets,
 * stream bytes; shrinking below what is held is EBUSY. */
static void test_set_pipe_size_keeps_mixed_segments(void **state)
{
    (void)state;
    struct ust_stack *s = pt_stack();
    int p[2];
    assert_int_equal(ust_pipe2(s, p, O_NONBLOCK), 0);
    static uint8_t page[4096];
    memset(page, 'a', sizeof(page));
    write_all(s, p[1], page, 4096);                 /* one full stream page */
    set_packets(s, p[1], true);
    write_all(s, p[1], "PKT", 3);
    write_all(s, p[1], "QR", 2);
    set_packets(s, p[1], false);
    write_all(s, p[1], "st", 2);
    assert_int_equal(ust_fcntl(s, p[1], F_SETPIPE_SZ, 1 << 20), 1 << 20);
    assert_int_equal(ust_fcntl(s, p[1], F_SETPIPE_SZ, 16384), 16384);
    expect_err(ust_fcntl(s, p[1], F_SETPIPE_SZ, 4096), EBUSY);
    char buf[8192];
    assert_int_equal(ust_read(s, p[0], buf, 4097), 4097);     /* page + "P" */
    assert_int_equal(buf[4096], 'P');
    read_expect(s, p[0], 1, "Q");
    read_expect(s, p[0], 100, "st");
    ust_stack_free(s);
}

/* ---- A reference model of mixed stream and packet writes ---------------- */

/* The rules, written plainly over a flat byte array and a segment list:
 * Linux's packet and merge rules with ustack's capacity rule (byte-exact,
 * one of cap / 4096 slots per packet). */
struct mseg {
    size_t len;
    bool pkt;
};

struct model {
    uint8_t bytes[65536];
    size_t used, cap;
    struct mseg seg[512];
    unsigned nseg, npkt;
    size_t tail_fill;
};

static bool m_merges(const struct model *m, size_t n)
{
    size_t chars = n % 4096;
    return chars && m->used > 0 && !m->seg[m->nseg - 1].pkt && m->tail_fill + chars <= 4096;
}

static void m_add(struct model *m, const uint8_t *src, size_t w, bool pkt)
{
    memcpy(m->bytes + m->used, src, w);
    m->used += w;
    if (!pkt && m->nseg > 0 && !m->seg[m->nseg - 1].pkt) {
        m->seg[m->nseg - 1].len += w;
        return;
    }
    m->seg[m->nseg++] = (struct mseg){ w, pkt };
    m->npkt += pkt;
}

static void m_stream(struct model *m, const uint8_t *src, size_t w, size_t n, bool merged)
{
    size_t chars = n % 4096;
    if (merged && w <= chars)
        m->tail_fill += w;
    else
        m->tail_fill = (w - (merged ? chars : 0) - 1) % 4096 + 1;
    m_add(m, src, w, false);
}

/* The count a write of n returns, or 0 for EAGAIN. */
static size_t m_write(struct model *m, const uint8_t *src, size_t n, bool pkt)
{
    size_t space = m->cap - m->used, slots = m->cap / 4096;
    bool merges = m_merges(m, n);
    if (n <= 4096 && (space < n || (pkt && m->npkt >= slots && !merges)))
        return 0;
    if (!pkt) {
        size_t w = n < space ? n : space;
        if (w)
            m_stream(m, src, w, n, merges);
        return w;
    }
    size_t done = 0;
    if (merges && space >= n % 4096) {
        m_stream(m, src, n % 4096, n % 4096, true);
        done = n % 4096;
    }
    while (done < n && m->npkt < slots) {
        size_t chunk = n - done < 4096 ? n - done : 4096;
        if (m->cap - m->used < chunk)
            break;
        m_add(m, src + done, chunk, true);
        done += chunk;
    }
    return done;
}

static size_t m_read(struct model *m, uint8_t *dst, size_t len)
{
    size_t done = 0, consumed = 0;
    unsigned popped = 0;
    while (done < len && popped < m->nseg) {
        struct mseg *sg = &m->seg[popped];
        size_t n = len - done < sg->len ? len - done : sg->len;
        memcpy(dst + done, m->bytes + consumed, n);
        done += n;
        if (sg->pkt) {
            consumed += sg->len;
            m->npkt--;
            popped++;
            break;
        }
        consumed += n;
        sg->len -= n;
        if (sg->len == 0)
            popped++;
    }
    memmove(m->bytes, m->bytes + consumed, m->used - consumed);
    m->used -= consumed;
    memmove(m->seg, m->seg + popped, (m->nseg - popped) * sizeof(m->seg[0]));
    m->nseg -= popped;
    return done;
}

static uint64_t rng_next(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

static size_t rand_len(uint64_t *x)
{
    switch (rng_next(x) % 4) {
    case 0:
        return 1 + rng_next(x) % 16;
    case 1:
        return 1 + rng_next(x) % 4096;
    case 2:
        return 4096 * (1 + rng_next(x) % 2) + rng_next(x) % 3 - 1;
    default:
        return 1 + rng_next(x) % 9000;
    }
}

/* 20,000 random writes (stream or packet, switched with F_SETFL), reads
 * and F_SETPIPE_SZ calls on one pipe agree with the model on every count,
 * every byte, FIONREAD and the writer's POLLOUT. */
static void test_mixed_stream_and_packets_match_reference_model(void **state)
{
    (void)state;
    struct ust_stack *s = pt_stack();
    int p[2];
    assert_int_equal(ust_pipe2(s, p, O_NONBLOCK), 0);
    static struct model m;
    memset(&m, 0, sizeof(m));
    m.cap = 65536;
    bool pkt = false;
    uint64_t x = 0x9e3779b97f4a7c15ull;
    static uint8_t src[9000], got[9000], want[9000];
    uint8_t next = 0;
    for (int step = 0; step < 20000; step++) {
        unsigned op = (unsigned)(rng_next(&x) % 16);
        if (op == 0) {
            pkt = !pkt;
            set_packets(s, p[1], pkt);
        } else if (op == 1) {
            int size = 4096 << (rng_next(&x) % 5);
            int r = ust_fcntl(s, p[1], F_SETPIPE_SZ, size);
            if (m.used > (size_t)size || m.npkt > (unsigned)size / 4096) {
                expect_err(r, EBUSY);
            } else {
                assert_int_equal(r, size);
                m.cap = (size_t)size;
            }
        } else if (op < 9) {
            size_t n = rand_len(&x);
            for (size_t i = 0; i < n; i++)
                src[i] = next++;
            size_t expect = m_write(&m, src, n, pkt);
            ssize_t r = ust_write(s, p[1], src, n);
            if (expect == 0)
                expect_err(r, EAGAIN);
            else
                assert_int_equal(r, (ssize_t)expect);
            next = (uint8_t)(next - (n - expect));     /* unwritten bytes come again */
        } else {
            size_t n = rand_len(&x);
            size_t expect = m_read(&m, want, n);
            ssize_t r = ust_read(s, p[0], got, n);
            if (expect == 0) {
                expect_err(r, EAGAIN);
            } else {
                assert_int_equal(r, (ssize_t)expect);
                assert_memory_equal(got, want, expect);
            }
        }
        int avail = -1;
        assert_int_equal(ust_ioctl(s, p[0], FIONREAD, &avail), 0);
        assert_int_equal(avail, (int)m.used);
        bool room = m.cap - m.used >= 4096 && (!pkt || m.npkt < m.cap / 4096);
        assert_int_equal(pt_revents(s, p[1], POLLOUT), room ? POLLOUT : 0);
    }
    ust_stack_free(s);
}

/* ---- O_ASYNC and F_SETOWN ----------------------------------------------- */

/* SIGIO stays blocked during these tests and is taken with sigtimedwait:
 * deterministic whatever the delivery (ThreadSanitizer defers handlers). */
struct sigio_guard {
    sigset_t old;
};

static bool take_sigio(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGIO);
    struct timespec zero = { 0, 0 };
    return sigtimedwait(&set, NULL, &zero) == SIGIO;
}

static void sigio_catch(struct sigio_guard *g)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGIO);
    assert_int_equal(pthread_sigmask(SIG_BLOCK, &set, &g->old), 0);
    while (take_sigio())
        ;
}

static void sigio_restore(struct sigio_guard *g)
{
    while (take_sigio())
        ;
    pthread_sigmask(SIG_SETMASK, &g->old, NULL);
}

static void set_async_owner(struct ust_stack *s, int fd)
{
    assert_int_equal(ust_fcntl(s, fd, F_SETOWN, (int)getpid()), 0);
    assert_int_equal(ust_fcntl(s, fd, F_GETOWN), (int)getpid());
    int fl = ust_fcntl(s, fd, F_GETFL);
    assert_int_equal(ust_fcntl(s, fd, F_SETFL, fl | O_ASYNC), 0);
    assert_int_equal(ust_fcntl(s, fd, F_GETFL) & O_ASYNC, O_ASYNC);
}

/* pipe(7): O_ASYNC sends SIGIO to the F_SETOWN owner. [probe] With the read
 * end async: a write raises SIGIO once, a read does not. With the write end
 * async too: a read (even of an empty pipe) raises it, and a write too (for
 * the reader only); a write that fails with EAGAIN on a full pipe as well.
 * SIGIO is blocked and taken with sigtimedwait after each call. */
static void test_o_async_sigio_to_owner_on_write_and_read(void **state)
{
    (void)state;
    struct sigio_guard g;
    sigio_catch(&g);
    struct ust_stack *s = pt_stack();
    int p[2];
    assert_int_equal(ust_pipe2(s, p, O_NONBLOCK), 0);
    set_async_owner(s, p[0]);
    write_all(s, p[1], "a", 1);
    assert_true(take_sigio());
    read_expect(s, p[0], 4, "a");
    assert_false(take_sigio());
    set_async_owner(s, p[1]);
    expect_err(ust_read(s, p[0], (char[4]){ 0 }, 4), EAGAIN);
    assert_true(take_sigio());
    write_all(s, p[1], "b", 1);
    assert_true(take_sigio());
    /* A full pipe: the failing write still signals the reader [probe]. */
    static uint8_t big[70000];
    assert_int_equal(ust_write(s, p[1], big, sizeof(big)), 65535);
    assert_true(take_sigio());
    expect_err(ust_write(s, p[1], big, 10), EAGAIN);
    assert_true(take_sigio());
    assert_false(take_sigio());
    ust_stack_free(s);
    sigio_restore(&g);
}

/* No signal without an owner, or without O_ASYNC [probe]; and when the last
 * writer goes, the async reader gets SIGIO (pipe_release). */
static void test_o_async_needs_owner_and_flag_and_signals_last_close(void **state)
{
    (void)state;
    struct sigio_guard g;
    sigio_catch(&g);
    struct ust_stack *s = pt_stack();
    int p[2];
    assert_int_equal(ust_pipe(s, p), 0);
    assert_int_equal(ust_fcntl(s, p[0], F_SETFL, O_ASYNC), 0);     /* no owner */
    write_all(s, p[1], "a", 1);
    assert_false(take_sigio());
    assert_int_equal(ust_fcntl(s, p[0], F_SETOWN, (int)getpid()), 0);
    assert_int_equal(ust_fcntl(s, p[0], F_SETFL, 0), 0);           /* owner, not async */
    write_all(s, p[1], "a", 1);
    assert_false(take_sigio());
    assert_int_equal(ust_fcntl(s, p[0], F_SETFL, O_ASYNC), 0);
    assert_int_equal(ust_close(s, p[1]), 0);
    assert_true(take_sigio());
    /* F_SETOWN 0 clears the owner. */
    assert_int_equal(ust_fcntl(s, p[0], F_SETOWN, 0), 0);
    assert_int_equal(ust_fcntl(s, p[0], F_GETOWN), 0);
    ust_stack_free(s);
    sigio_restore(&g);
}

/* ---- pipe-user-pages-hard ---------------------------------------------- */

/* alloc_pipe_info: past pipe-user-pages-hard a new pipe is refused and
 * pipe() gives ENFILE (create_pipe_files), with fds unchanged; F_SETPIPE_SZ
 * cannot grow past it (EPERM); closing a pipe makes room again. With the
 * soft limit lower, new pipes first shrink to 2 pages, then stop. */
static void test_pipe_user_pages_hard_refuses_new_pipes_enfile(void **state)
{
    (void)state;
    struct ust_stack_config c;
    ust_stack_config_init(&c);
    c.raise_sigpipe = 0;
    c.pipe_user_pages_soft = 16;
    c.pipe_user_pages_hard = 20;
    struct ust_stack *s = pt_stack_cfg(&c);
    int a[2], b[2], d[2], e[2] = { -5, -6 };
    assert_int_equal(ust_pipe(s, a), 0);            /* 16 pages */
    assert_int_equal(ust_fcntl(s, a[0], F_GETPIPE_SZ), 65536);
    assert_int_equal(ust_pipe(s, b), 0);            /* past soft: 2 pages (18) */
    assert_int_equal(ust_fcntl(s, b[0], F_GETPIPE_SZ), 8192);
    assert_int_equal(ust_pipe(s, d), 0);            /* 20: at the limit, not past */
    expect_err(ust_pipe(s, e), ENFILE);             /* 22 > 20 */
    expect_err(ust_pipe2(s, e, O_DIRECT), ENFILE);
    assert_int_equal(e[0], -5);
    assert_int_equal(e[1], -6);
    expect_err(ust_fcntl(s, d[1], F_SETPIPE_SZ, 16384), EPERM);
    assert_int_equal(ust_fcntl(s, d[1], F_SETPIPE_SZ, 4096), 4096);   /* shrinking is fine */
    expect_err(ust_pipe(s, e), ENFILE);             /* 19 + 2 > 20 */
    assert_int_equal(ust_close(s, a[0]), 0);
    assert_int_equal(ust_close(s, a[1]), 0);        /* 16 pages freed: 3 in use */
    assert_int_equal(ust_pipe(s, e), 0);            /* 3 + 2 (still past soft) */
    assert_int_equal(ust_fcntl(s, e[0], F_GETPIPE_SZ), 8192);
    ust_stack_free(s);
}

/* With only the hard limit set (soft 0 = off), pipes keep their default
 * size until the hard limit refuses one. */
static void test_pipe_user_pages_hard_without_soft_limit(void **state)
{
    (void)state;
    struct ust_stack_config c;
    ust_stack_config_init(&c);
    c.raise_sigpipe = 0;
    c.pipe_user_pages_soft = 0;
    c.pipe_user_pages_hard = 32;
    struct ust_stack *s = pt_stack_cfg(&c);
    int a[2], b[2], d[2];
    assert_int_equal(ust_pipe(s, a), 0);
    assert_int_equal(ust_pipe(s, b), 0);
    assert_int_equal(ust_fcntl(s, b[0], F_GETPIPE_SZ), 65536);
    expect_err(ust_pipe(s, d), ENFILE);
    ust_stack_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        ipc_dir_test(test_lseek_on_pipe_fifo_and_socket_is_espipe),
        ipc_dir_test(test_lseek_ebadf_then_einval_for_bad_whence),
        ipc_dir_test(test_fsetfl_odirect_on_write_end_makes_packets),
        ipc_dir_test(test_fsetfl_clearing_odirect_returns_to_stream),
        ipc_dir_test(test_packet_write_merges_into_stream_tail_page_as_linux),
        ipc_dir_test(test_large_packet_write_after_stream_splits_like_linux),
        ipc_dir_test(test_merge_uses_the_tail_page_end_not_the_bytes_left),
        ipc_dir_test(test_fsetfl_odirect_on_read_end_is_shown_and_harmless),
        ipc_dir_test(test_fsetfl_odirect_on_socket_and_mq_is_einval),
        ipc_dir_test(test_odirect_zero_length_write_makes_no_packet),
        ipc_dir_test(test_notification_pipe_is_enopkg_and_fds_unchanged),
        ipc_dir_test(test_packet_writer_pollout_needs_a_free_slot),
        ipc_dir_test(test_set_pipe_size_keeps_mixed_segments),
        ipc_dir_test(test_mixed_stream_and_packets_match_reference_model),
        ipc_dir_test(test_o_async_sigio_to_owner_on_write_and_read),
        ipc_dir_test(test_o_async_needs_owner_and_flag_and_signals_last_close),
        ipc_dir_test(test_pipe_user_pages_hard_refuses_new_pipes_enfile),
        ipc_dir_test(test_pipe_user_pages_hard_without_soft_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
