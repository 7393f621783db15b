/* The runtime: with ust_stack_start a stack thread drives the stack and calls
 * block. Proves that a recvfrom asleep in one thread is woken by a sendto
 * from another (over loopback, which needs the stack thread to deliver);
 * that SO_RCVTIMEO expiry gives EAGAIN; that ust_poll with timeout -1 is
 * woken by an arrival on any of its descriptors; that ust_stack_stop wakes
 * sleepers (EAGAIN: nothing could wake them any more) and that a descriptor
 * closed under a sleeper stays valid until it returns; that start/stop
 * report misuse; and that stop then free is clean under ASan/LSan.
 *
 * No sleep is used for synchronisation: the test waits until the other
 * thread is really asleep in the stack (its sleeper is registered, checked
 * under the stack lock), and every wait and join is bounded (a failure, not
 * a hang, if the stack misbehaves). No duration is asserted. */
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "netif/netif.h"
#include "runtime/runtime.h"
#include "wire/wire.h"
#include "unit/sock_test_util.h"

#define BOUND_SEC 20

static struct timespec deadline_in(int sec)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += sec;
    return ts;
}

static bool before(const struct timespec *limit)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    return now.tv_sec < limit->tv_sec ||
           (now.tv_sec == limit->tv_sec && now.tv_nsec < limit->tv_nsec);
}

static unsigned sleepers(struct ust_stack *s)
{
    ust_rt_lock(s);
    unsigned n = ust_rt_sleeper_count(s);
    ust_rt_unlock(s);
    return n;
}

/* Waits (bounded) until at least one caller sleeps inside the stack. */
static void wait_until_asleep(struct ust_stack *s)
{
    struct timespec limit = deadline_in(BOUND_SEC);
    while (sleepers(s) == 0) {
        if (!before(&limit))
            fail_msg("the other thread never went to sleep");
        sched_yield();
    }
}

static void join_bounded(pthread_t t)
{
    struct timespec limit = deadline_in(BOUND_SEC);
    int err = pthread_timedjoin_np(t, NULL, &limit);
    if (err)
        fail_msg("thread did not finish (error %d)", err);
}

struct call {
    struct ust_stack *s;
    int fd;
    ssize_t ret;
    int err;
    char buf[64];
    struct sockaddr_in from;
    struct pollfd pfd[2];
};

static void *recv_thread(void *arg)
{
    struct call *c = arg;
    socklen_t flen = sizeof(c->from);
    errno = 0;
    c->ret = ust_recvfrom(c->s, c->fd, c->buf, sizeof(c->buf), 0, ST_SA(&c->from), &flen);
    c->err = errno;
    return NULL;
}

static void *poll_thread(void *arg)
{
    struct call *c = arg;
    errno = 0;
    c->ret = ust_poll(c->s, c->pfd, 2, -1);
    c->err = errno;
    return NULL;
}

static struct ust_stack *started_stack(void)
{
    struct ust_stack *s = st_stack();
    assert_int_equal(ust_stack_start(s), 0);
    return s;
}

static void test_blocking_recvfrom_woken_by_sendto_from_another_thread(void **state)
{
    (void)state;
    struct ust_stack *s = started_stack();
    int rx = st_udp_bound(s, ST_LO, 5000);
    int tx = st_udp_bound(s, ST_LO, 5001);
    struct call c = { .s = s, .fd = rx };
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, recv_thread, &c), 0);
    wait_until_asleep(s);
    assert_int_equal(st_sendto(s, tx, "wake up", 7, ST_LO, 5000), 7);
    join_bounded(t);
    assert_int_equal(c.ret, 7);
    assert_memory_equal(c.buf, "wake up", 7);
    assert_int_equal(ntohs(c.from.sin_port), 5001);
    assert_int_equal(ust_stack_stop(s), 0);
    st_free(s);
}

static void test_rcvtimeo_expiry_returns_eagain(void **state)
{
    (void)state;
    struct ust_stack *s = started_stack();
    int rx = st_udp_bound(s, ST_LO, 5000);
    struct timeval tv = { 0, 20000 };
    assert_int_equal(ust_setsockopt(s, rx, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
    char b[4];
    st_fails(ust_recv(s, rx, b, sizeof(b), 0), EAGAIN);
    st_fails(ust_read(s, rx, b, sizeof(b)), EAGAIN);
    /* MSG_DONTWAIT, O_NONBLOCK (fcntl or FIONBIO): no wait at all, even
     * with a long timeout. */
    tv.tv_sec = 1000;
    assert_int_equal(ust_setsockopt(s, rx, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
    st_fails(ust_recv(s, rx, b, sizeof(b), MSG_DONTWAIT), EAGAIN);
    assert_int_equal(ust_fcntl(s, rx, F_SETFL, O_NONBLOCK), 0);
    st_fails(ust_recv(s, rx, b, sizeof(b), 0), EAGAIN);
    st_fails(ust_read(s, rx, b, sizeof(b)), EAGAIN);
    assert_int_equal(ust_fcntl(s, rx, F_SETFL, 0), 0);
    int on = 1;
    assert_int_equal(ust_ioctl(s, rx, FIONBIO, &on), 0);
    st_fails(ust_recv(s, rx, b, sizeof(b), 0), EAGAIN);
    assert_int_equal(ust_stack_stop(s), 0);
    st_free(s);
}

static void test_poll_forever_woken_by_arrival(void **state)
{
    (void)state;
    struct ust_stack *s = started_stack();
    int a = st_udp_bound(s, ST_LO, 5000);
    int b = st_udp_bound(s, ST_LO, 5001);
    int tx = st_udp(s);
    struct call c = { .s = s };
    c.pfd[0] = (struct pollfd){ .fd = a, .events = POLLIN };
    c.pfd[1] = (struct pollfd){ .fd = b, .events = POLLIN };
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, poll_thread, &c), 0);
    wait_until_asleep(s);
    assert_int_equal(st_sendto(s, tx, "b", 1, ST_LO, 5001), 1);
    join_bounded(t);
    assert_int_equal(c.ret, 1);
    assert_int_equal(c.pfd[0].revents, 0);
    assert_int_equal(c.pfd[1].revents, POLLIN);
    /* And the next call agrees. */
    char buf[4];
    assert_int_equal(ust_recv(s, b, buf, sizeof(buf), MSG_DONTWAIT), 1);
    /* A finite timeout with nothing arriving returns 0. */
    struct pollfd p = { .fd = a, .events = POLLIN };
    assert_int_equal(ust_poll(s, &p, 1, 10), 0);
    assert_int_equal(ust_stack_stop(s), 0);
    st_free(s);
}

static void test_stop_wakes_sleepers_and_close_under_sleeper_is_safe(void **state)
{
    (void)state;
    struct ust_stack *s = started_stack();
    int rx = st_udp_bound(s, ST_LO, 5000);
    struct call c = { .s = s, .fd = rx };
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, recv_thread, &c), 0);
    wait_until_asleep(s);
    /* Closing the descriptor does not free the socket under the sleeper
     * (it holds a reference, as a Linux thread in recvfrom does). */
    assert_int_equal(ust_close(s, rx), 0);
    assert_int_equal(ust_stack_stop(s), 0);
    join_bounded(t);
    assert_int_equal(c.ret, -1);
    assert_int_equal(c.err, EAGAIN);
    /* Its last reference went with the call: the port is free again. */
    int again = st_udp_bound(s, ST_LO, 5000);
    assert_true(again >= 0);
    st_free(s);
}

static void test_start_stop_misuse_and_restart(void **state)
{
    (void)state;
    struct ust_stack *s = st_stack();
    st_fails(ust_stack_stop(s), EINVAL);
    assert_int_equal(ust_stack_start(s), 0);
    st_fails(ust_stack_start(s), EBUSY);
    assert_int_equal(ust_stack_stop(s), 0);
    st_fails(ust_stack_stop(s), EINVAL);
    /* Stopped: blocking calls are non-blocking again. */
    int rx = st_udp_bound(s, ST_LO, 5000);
    char b[4];
    st_fails(ust_recv(s, rx, b, sizeof(b), 0), EAGAIN);
    /* It can start again, and free stops it. */
    assert_int_equal(ust_stack_start(s), 0);
    int tx = st_udp(s);
    assert_int_equal(st_sendto(s, tx, "x", 1, ST_LO, 5000), 1);
    assert_int_equal(ust_recv(s, rx, b, sizeof(b), 0), 1);   /* blocks until delivered */
    st_free(s);
}

static void test_stack_clock_follows_monotonic_time_while_running(void **state)
{
    (void)state;
    struct ust_stack *s = st_stack();
    uint64_t before_start = ust_stack_now(s);
    assert_int_equal(ust_stack_start(s), 0);
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t mono = (uint64_t)ts.tv_sec * UST_NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
    /* A public call refreshes stack->now from CLOCK_MONOTONIC. */
    int fd = st_udp(s);
    ust_rt_lock(s);     /* the stack thread writes it too */
    uint64_t now = s->now;
    ust_rt_unlock(s);
    assert_true(now >= mono);
    assert_true(now > before_start);
    assert_int_equal(ust_close(s, fd), 0);
    assert_int_equal(ust_stack_stop(s), 0);
    st_free(s);
}

static void test_eagain_that_no_wakeup_could_end_is_returned_at_once(void **state)
{
    (void)state;
    struct ust_stack_config c;
    ust_stack_config_init(&c);
    c.ephemeral_lo = c.ephemeral_hi = 40000;
    struct ust_stack *s = st_stack_cfg(&c);
    assert_int_equal(ust_stack_start(s), 0);
    int holder = st_udp(s);
    struct sockaddr_in any = st_sin(0, 0);
    assert_int_equal(ust_bind(s, holder, ST_SA(&any), sizeof(any)), 0);
    /* No ephemeral port left: autobind says EAGAIN (Linux), and a blocking
     * write must not sleep on a socket that is already writable. */
    int fd = st_udp(s);
    st_fails(ust_write(s, fd, "x", 1), EAGAIN);
    st_fails(st_sendto(s, fd, "x", 1, ST_LO, 9), EAGAIN);
    assert_int_equal(ust_stack_stop(s), 0);
    st_free(s);
}

/* ---- A netif added while the thread runs ------------------------------ */

/* A TUN-like netif fed through a pipe: the test writes IPv4 packets into
 * it, the stack thread must notice the readable descriptor on its own. */
struct pipe_nif {
    int rd, wr;
};

static int pipe_poll_fd(struct ust_netif *nif)
{
    return ((struct pipe_nif *)nif->priv)->rd;
}

static int pipe_rx_poll(struct ust_netif *nif, int budget)
{
    struct pipe_nif *pn = nif->priv;
    uint8_t len_be[2];
    int n = 0;
    while (n < budget && read(pn->rd, len_be, 2) == 2) {
        size_t len = ust_get_be16(len_be);
        struct ust_fbuf *fb = ust_fbuf_alloc(nif->stack, len);
        assert_non_null(fb);
        uint8_t *dst = ust_fbuf_put(fb, len);
        if (!dst) {
            fail_msg("no room for a %zu-byte frame", len);
            return n;
        }
        assert_int_equal(read(pn->rd, dst, len), (ssize_t)len);
        ust_netif_receive(nif, fb);
        n++;
    }
    return n;
}

static int pipe_transmit(struct ust_netif *nif, struct ust_fbuf *fb)
{
    ust_fbuf_free(nif->stack, fb);
    return 0;
}

static const struct ust_netif_ops pipe_ops = {
    .kind_name = "pipe",
    .transmit = pipe_transmit,
    .rx_poll = pipe_rx_poll,
    .poll_fd = pipe_poll_fd,
};

static void test_netif_added_after_start_is_watched(void **state)
{
    (void)state;
    struct ust_stack *s = started_stack();
    struct pipe_nif pn;
    int p[2];
    assert_int_equal(pipe2(p, O_NONBLOCK), 0);
    pn.rd = p[0];
    pn.wr = p[1];
    ust_rt_lock(s);
    struct ust_netif *nif = ust_netif_create(s, "pipe0", UST_NETIF_RAWIP, &pipe_ops, &pn);
    ust_rt_unlock(s);
    assert_non_null(nif);
    struct in_addr a = { htonl(0x0a090001u) };
    assert_int_equal(ust_netif_set_ipv4(nif, a, 24), 0);
    int rx = st_udp_bound(s, 0, 5000);

    struct call c = { .s = s, .fd = rx };
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, recv_thread, &c), 0);
    wait_until_asleep(s);

    /* 10.9.0.2:6000 -> 10.9.0.1:5000, "tun!" */
    uint8_t pkt[2 + 20 + 8 + 4];
    ust_put_be16(pkt, sizeof(pkt) - 2);
    struct ust_ipv4_hdr ih = { .total_len = sizeof(pkt) - 2, .ttl = 64, .proto = UST_IPPROTO_UDP,
                               .src = 0x0a090002u, .dst = 0x0a090001u };
    ust_ipv4_emit(pkt + 2, 20, &ih);
    memcpy(pkt + 2 + 28, "tun!", 4);
    struct ust_udp_hdr uh = { .sport = 6000, .dport = 5000, .len = 12 };
    ust_udp_emit(pkt + 22, 12, &uh, ih.src, ih.dst);
    assert_int_equal(write(pn.wr, pkt, sizeof(pkt)), (ssize_t)sizeof(pkt));

    join_bounded(t);
    assert_int_equal(c.ret, 4);
    assert_memory_equal(c.buf, "tun!", 4);
    assert_int_equal(ntohl(c.from.sin_addr.s_addr), 0x0a090002u);
    assert_int_equal(ust_stack_stop(s), 0);
    st_free(s);
    close(pn.rd);
    close(pn.wr);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_blocking_recvfrom_woken_by_sendto_from_another_thread),
        cmocka_unit_test(test_rcvtimeo_expiry_returns_eagain),
        cmocka_unit_test(test_poll_forever_woken_by_arrival),
        cmocka_unit_test(test_stop_wakes_sleepers_and_close_under_sleeper_is_safe),
        cmocka_unit_test(test_start_stop_misuse_and_restart),
        cmocka_unit_test(test_stack_clock_follows_monotonic_time_while_running),
        cmocka_unit_test(test_eagain_that_no_wakeup_could_end_is_returned_at_once),
        cmocka_unit_test(test_netif_added_after_start_is_watched),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
