/* UDP SO_SNDBUF is enforced as Linux's sk_wmem_alloc: a sent frame is
 * charged to its socket until whoever holds it frees it. Here the holder is
 * the ARP queue of an unresolved neighbour (10.0.0.2 on the test netif
 * before it answers), which really keeps the frames. Proves: sends stop with
 * EAGAIN once the held frames fill SO_SNDBUF (and not because the ARP queue
 * is full); SIOCOUTQ shows the charge; poll drops POLLOUT at half of
 * SO_SNDBUF (sock_writeable) while a send still succeeds below the full
 * size; the frames leaving (ARP resolved) give the room back and POLLOUT
 * returns; a socket closed with frames held is freed only when they go (no
 * leak, no use after free under ASan); ping sockets are charged the same;
 * loopback gives the charge back on transmit (Linux loopback_xmit);
 * with the stack thread a blocking send waits for room and wakes when the
 * frames leave, and SO_SNDTIMEO bounds the wait with EAGAIN. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <time.h>
#include <linux/sockios.h>
#include <cmocka.h>

#include "unit/net_test_util.h"

#define PEER_PORT 9
#define PAYLOAD 100
#define ARP_QUEUE 200           /* far more than SO_SNDBUF lets through */

static void setup(struct tn_env *env)
{
    struct ust_stack_config c;
    ust_stack_config_init(&c);
    c.arp_pending_max = ARP_QUEUE;
    tn_setup_cfg(env, &c);
    tn_clear(env);
}

static int udp_sock(struct tn_env *env, int sndbuf)
{
    int fd = ust_socket(env->stack, AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    assert_true(fd >= 0);
    if (sndbuf >= 0)
        assert_int_equal(ust_setsockopt(env->stack, fd, SOL_SOCKET, SO_SNDBUF, &sndbuf,
                                        sizeof(sndbuf)), 0);
    return fd;
}

static ssize_t send_one(struct tn_env *env, int fd, int flags)
{
    uint8_t b[PAYLOAD];
    memset(b, 0x5a, sizeof(b));
    struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(PEER_PORT),
                              .sin_addr.s_addr = htonl(TN_PEER) };
    return ust_sendto(env->stack, fd, b, sizeof(b), flags, (struct sockaddr *)&to, sizeof(to));
}

static int outq(struct tn_env *env, int fd)
{
    int v = -1;
    assert_int_equal(ust_ioctl(env->stack, fd, SIOCOUTQ, &v), 0);
    return v;
}

static short revents(struct tn_env *env, int fd)
{
    struct pollfd p = { .fd = fd, .events = POLLOUT };
    assert_true(ust_poll(env->stack, &p, 1, 0) >= 0);
    return p.revents;
}

static int sndbuf_of(struct tn_env *env, int fd)
{
    int v = 0;
    socklen_t l = sizeof(v);
    assert_int_equal(ust_getsockopt(env->stack, fd, SOL_SOCKET, SO_SNDBUF, &v, &l), 0);
    return v;
}

/* Sends until EAGAIN; returns how many went. */
static unsigned fill(struct tn_env *env, int fd)
{
    unsigned n = 0;
    for (;;) {
        ssize_t r = send_one(env, fd, 0);
        if (r < 0) {
            assert_int_equal(errno, EAGAIN);
            return n;
        }
        assert_int_equal(r, PAYLOAD);
        n++;
        assert_true(n < ARP_QUEUE);     /* SO_SNDBUF must stop it long before */
    }
}

static size_t udp_frames_sent(struct tn_env *env)
{
    size_t n = 0;
    for (size_t i = 0; i < env->nframes; i++) {
        struct ust_eth_hdr eh;
        struct ust_ipv4_hdr ih;
        const uint8_t *p;
        size_t len;
        if (tn_sent_ipv4(env, i, &eh, &ih, &p, &len) && ih.proto == UST_IPPROTO_UDP)
            n++;
    }
    return n;
}

/* The peer asks who has 10.0.0.1: the stack learns its MAC and flushes
 * the frames waiting for it (tn_peer_arp without forgetting the frames). */
static void peer_arp(struct tn_env *env)
{
    static const uint8_t zero[6];
    uint8_t f[64];
    size_t n = tn_arp_frame(f, tn_bcast_mac, UST_ARP_REQUEST, tn_peer_mac, TN_PEER, zero, TN_ADDR);
    tn_inject(env, f, n);
}

static void held_frames_fill_sndbuf_then_eagain_and_room_returns_when_they_leave(void **state)
{
    (void)state;
    struct tn_env env;
    setup(&env);
    int fd = udp_sock(&env, 0);             /* the floor: 4608 bytes */
    int sb = sndbuf_of(&env, fd);
    assert_int_equal(sb, 4608);
    assert_true(revents(&env, fd) & POLLOUT);
    assert_int_equal(outq(&env, fd), 0);

    unsigned n = fill(&env, fd);
    assert_true(n >= 2);
    assert_true(outq(&env, fd) >= sb);       /* the charge reached SO_SNDBUF */
    assert_false(revents(&env, fd) & POLLOUT);
    assert_int_equal(udp_frames_sent(&env), 0);     /* all still in the ARP queue */
    /* MSG_DONTWAIT says the same; nothing was dropped from the queue. */
    assert_int_equal(send_one(&env, fd, MSG_DONTWAIT), -1);
    assert_int_equal(errno, EAGAIN);
    assert_int_equal(TN_STAT(&env, UDP, OutDatagrams), n);

    /* The neighbour answers: the queue goes out, the charge goes away. */
    peer_arp(&env);
    tn_poll(&env, 0);
    assert_int_equal(outq(&env, fd), 0);
    assert_true(revents(&env, fd) & POLLOUT);
    assert_int_equal(send_one(&env, fd, 0), PAYLOAD);
    assert_int_equal(outq(&env, fd), 0);     /* resolved now: freed as it went */

    ust_close(env.stack, fd);
    tn_assert_no_leak(&env);
    tn_teardown(&env);
}

static void pollout_clears_at_half_of_sndbuf_while_sends_still_fit(void **state)
{
    (void)state;
    struct tn_env env;
    setup(&env);
    int fd = udp_sock(&env, 8192);          /* doubled: 16384 */
    int sb = sndbuf_of(&env, fd);
    assert_int_equal(sb, 16384);
    bool saw_between = false;
    for (unsigned i = 0; i < ARP_QUEUE; i++) {
        int q = outq(&env, fd);
        bool pollout = (revents(&env, fd) & POLLOUT) != 0;
        /* Linux sock_writeable: POLLOUT exactly while below half. */
        assert_int_equal(pollout, q < sb / 2);
        ssize_t r = send_one(&env, fd, 0);
        if (q >= sb) {
            assert_int_equal(r, -1);
            assert_int_equal(errno, EAGAIN);
            break;
        }
        assert_int_equal(r, PAYLOAD);       /* room below the full size */
        if (!pollout)
            saw_between = true;
    }
    assert_true(saw_between);   /* a send succeeded while poll said no POLLOUT */
    assert_true(outq(&env, fd) >= sb);
    ust_close(env.stack, fd);
    tn_teardown(&env);
}

static void bigger_sndbuf_holds_proportionally_more_frames(void **state)
{
    (void)state;
    struct tn_env env;
    setup(&env);
    int small = udp_sock(&env, 2304);       /* 4608 */
    int big = udp_sock(&env, 9216);         /* 18432: four times as much */
    unsigned ns = fill(&env, small), nb = fill(&env, big);
    assert_true(nb >= 3 * ns);
    assert_true(nb <= 5 * ns);
    ust_close(env.stack, small);
    ust_close(env.stack, big);
    tn_teardown(&env);
}

static void socket_closed_with_frames_held_is_freed_when_they_leave(void **state)
{
    (void)state;
    struct tn_env env;
    setup(&env);
    int fd = udp_sock(&env, 0);
    unsigned n = fill(&env, fd);
    assert_int_equal(ust_close(env.stack, fd), 0);
    /* The frames outlive their socket and still go out intact. */
    peer_arp(&env);
    tn_poll(&env, 0);
    assert_int_equal(udp_frames_sent(&env), n);
    tn_assert_no_leak(&env);
    /* A second socket closed with frames that never leave: the stack's
     * teardown frees both (LSan/ASan check it). */
    int fd2 = udp_sock(&env, 0);
    struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(PEER_PORT),
                              .sin_addr.s_addr = htonl(TN_PEER + 1) };
    assert_int_equal(ust_sendto(env.stack, fd2, "x", 1, 0, (struct sockaddr *)&to, sizeof(to)), 1);
    assert_true(outq(&env, fd2) > 0);
    assert_int_equal(ust_close(env.stack, fd2), 0);
    tn_teardown(&env);
}

static void ping_socket_is_charged_the_same(void **state)
{
    (void)state;
    struct tn_env env;
    setup(&env);
    int fd = ust_socket(env.stack, AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, IPPROTO_ICMP);
    assert_true(fd >= 0);
    int v = 0;
    assert_int_equal(ust_setsockopt(env.stack, fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v)), 0);
    uint8_t echo[64] = { 8, 0 };
    struct sockaddr_in to = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(TN_PEER) };
    unsigned n = 0;
    while (ust_sendto(env.stack, fd, echo, sizeof(echo), 0, (struct sockaddr *)&to,
                      sizeof(to)) == (ssize_t)sizeof(echo)) {
        n++;
        assert_true(n < ARP_QUEUE);
    }
    assert_int_equal(errno, EAGAIN);
    assert_true(n >= 2);
    assert_false(revents(&env, fd) & POLLOUT);
    peer_arp(&env);
    tn_poll(&env, 0);
    assert_true(revents(&env, fd) & POLLOUT);
    ust_close(env.stack, fd);
    tn_assert_no_leak(&env);
    tn_teardown(&env);
}

static void loopback_frames_give_the_charge_back_at_once(void **state)
{
    (void)state;
    struct tn_env env;
    setup(&env);
    int rx = ust_socket(env.stack, AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    int big = 1 << 20;
    assert_int_equal(ust_setsockopt(env.stack, rx, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big)), 0);
    struct sockaddr_in lo = { .sin_family = AF_INET, .sin_port = htons(7),
                              .sin_addr.s_addr = htonl(0x7f000001) };
    assert_int_equal(ust_bind(env.stack, rx, (struct sockaddr *)&lo, sizeof(lo)), 0);
    int fd = udp_sock(&env, 0);             /* 4608 bytes */
    static uint8_t b[1000];
    /* Linux loopback_xmit orphans the frame: 50 KB queued on lo, never
     * delivered yet (no poll), and the sender is still not full. */
    for (int i = 0; i < 50; i++)
        assert_int_equal(ust_sendto(env.stack, fd, b, sizeof(b), 0, (struct sockaddr *)&lo,
                                    sizeof(lo)), (ssize_t)sizeof(b));
    assert_int_equal(outq(&env, fd), 0);
    assert_true(revents(&env, fd) & POLLOUT);
    tn_poll(&env, 0);
    int n = 0;
    while (ust_recv(env.stack, rx, b, sizeof(b), 0) == (ssize_t)sizeof(b))
        n++;
    assert_int_equal(n, 50);
    ust_close(env.stack, fd);
    ust_close(env.stack, rx);
    tn_teardown(&env);
}

/* ---- With the stack thread: blocking sends ---------------------------------- */

#define BOUND_SEC 20

static unsigned sleepers(struct ust_stack *s)
{
    ust_rt_lock(s);
    unsigned n = ust_rt_sleeper_count(s);
    ust_rt_unlock(s);
    return n;
}

static void wait_until_asleep(struct ust_stack *s)
{
    time_t limit = time(NULL) + BOUND_SEC;
    while (sleepers(s) == 0) {
        if (time(NULL) > limit)
            fail_msg("the sender never went to sleep");
        sched_yield();
    }
}

struct call {
    struct tn_env *env;
    int fd;
    ssize_t ret;
    int err;
};

static void *send_thread(void *arg)
{
    struct call *c = arg;
    errno = 0;
    c->ret = send_one(c->env, c->fd, 0);
    c->err = errno;
    return NULL;
}

static int blocking_full_socket(struct tn_env *env)
{
    int fd = udp_sock(env, 0);
    fill(env, fd);      /* non-blocking: until EAGAIN */
    int fl = ust_fcntl(env->stack, fd, F_GETFL, 0);
    assert_int_equal(ust_fcntl(env->stack, fd, F_SETFL, fl & ~O_NONBLOCK), 0);
    return fd;
}

static void blocking_send_sleeps_until_held_frames_leave(void **state)
{
    (void)state;
    struct tn_env env;
    setup(&env);
    int fd = blocking_full_socket(&env);
    assert_int_equal(ust_stack_start(env.stack), 0);
    struct call c = { &env, fd, 0, 0 };
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, send_thread, &c), 0);
    wait_until_asleep(env.stack);
    peer_arp(&env);          /* the queue leaves, the sender wakes */
    struct timespec limit;
    clock_gettime(CLOCK_REALTIME, &limit);
    limit.tv_sec += BOUND_SEC;
    assert_int_equal(pthread_timedjoin_np(t, NULL, &limit), 0);
    assert_int_equal(c.ret, PAYLOAD);
    assert_int_equal(ust_stack_stop(env.stack), 0);
    ust_close(env.stack, fd);
    tn_teardown(&env);
}

static void sndtimeo_bounds_the_wait_with_eagain(void **state)
{
    (void)state;
    struct tn_env env;
    setup(&env);
    int fd = blocking_full_socket(&env);
    struct timeval tv = { 0, 20000 };
    assert_int_equal(ust_setsockopt(env.stack, fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)), 0);
    assert_int_equal(ust_stack_start(env.stack), 0);
    /* Nothing frees the frames within 20 ms (ARP retries for seconds). */
    assert_int_equal(send_one(&env, fd, 0), -1);
    assert_int_equal(errno, EAGAIN);
    assert_int_equal(ust_stack_stop(env.stack), 0);
    ust_close(env.stack, fd);
    tn_teardown(&env);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(held_frames_fill_sndbuf_then_eagain_and_room_returns_when_they_leave),
        cmocka_unit_test(pollout_clears_at_half_of_sndbuf_while_sends_still_fit),
        cmocka_unit_test(bigger_sndbuf_holds_proportionally_more_frames),
        cmocka_unit_test(socket_closed_with_frames_held_is_freed_when_they_leave),
        cmocka_unit_test(ping_socket_is_charged_the_same),
        cmocka_unit_test(loopback_frames_give_the_charge_back_at_once),
        cmocka_unit_test(blocking_send_sleeps_until_held_frames_leave),
        cmocka_unit_test(sndtimeo_bounds_the_wait_with_eagain),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
