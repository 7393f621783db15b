/* The stack thread sleeps until the earliest timer it knew of when it went
 * to sleep. A caller that arms an earlier timer (a SYN's retransmission
 * timer, set by connect in the caller's thread) must wake it, or the timer
 * fires only when some unrelated event happens, or never.
 *
 * The test: an idle stack with the thread running, and an interface whose
 * driver drops every packet (a black hole, so no reply can wake the thread
 * either). A non-blocking connect sends the SYN from this thread; the SYN's
 * retransmission must follow by itself. The wait for it is bounded (a
 * failure, not a hang); no duration is asserted. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdatomic.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <cmocka.h>

#include <ustack/ustack.h>

#include "core/fbuf.h"
#include "netif/netif.h"
#include "runtime/runtime.h"
#include "stack/stack_impl.h"

#define BOUND_SEC 20

struct blackhole {
    _Atomic unsigned sent;
};

static int bh_transmit(struct ust_netif *nif, struct ust_fbuf *fb)
{
    struct blackhole *bh = nif->priv;
    atomic_fetch_add(&bh->sent, 1);
    ust_fbuf_free(nif->stack, fb);
    return 0;
}

static const struct ust_netif_ops bh_ops = {
    .kind_name = "blackhole",
    .transmit = bh_transmit,
};

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

static void test_timer_armed_by_caller_wakes_stack_thread(void **state)
{
    (void)state;
    struct ust_stack *s = ust_stack_new(NULL);
    assert_non_null(s);
    struct blackhole bh = { 0 };
    ust_rt_lock(s);
    struct ust_netif *nif = ust_netif_create(s, "bh0", UST_NETIF_RAWIP, &bh_ops, &bh);
    ust_rt_unlock(s);
    assert_non_null(nif);
    struct in_addr a = { htonl(0x0a000001) };   /* 10.0.0.1/24 */
    assert_int_equal(ust_netif_set_ipv4(nif, a, 24), 0);
    assert_int_equal(ust_stack_start(s), 0);
    sleep_ms(50);                   /* let the thread go to sleep with nothing to do */

    int fd = ust_socket(s, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    assert_true(fd >= 0);
    struct sockaddr_in peer = { .sin_family = AF_INET, .sin_port = htons(5001),
                                .sin_addr.s_addr = htonl(0x0a000002) };
    assert_int_equal(ust_connect(s, fd, (struct sockaddr *)&peer, sizeof(peer)), -1);
    assert_int_equal(errno, EINPROGRESS);
    assert_int_equal(atomic_load(&bh.sent), 1);   /* the SYN, sent by this thread */

    /* The retransmission (initial RTO 1 s, RFC 6298 2.1) needs the thread. */
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        if (atomic_load(&bh.sent) >= 2)
            break;
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        if (t.tv_sec - t0.tv_sec > BOUND_SEC)
            fail_msg("no SYN retransmission within %d s: the stack thread slept through "
                     "the timer armed by connect", BOUND_SEC);
        sleep_ms(10);
    }
    ust_close(s, fd);
    assert_int_equal(ust_stack_stop(s), 0);
    ust_stack_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_timer_armed_by_caller_wakes_stack_thread),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
