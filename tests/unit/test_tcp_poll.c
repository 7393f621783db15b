/* ust_poll on TCP sockets agrees with what the next call does, state by
 * state (Linux tcp_poll): a fresh socket, a listener with and without a
 * pending connection, a connecting socket, an established one with empty,
 * readable and full buffers, after the peer's FIN, after shutdown(SHUT_WR),
 * after a reset. Also MSG_PEEK and FIONREAD/SIOCOUTQ. */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <linux/sockios.h>

#include <cmocka.h>

#include "unit/sim_test_util.h"
#include "unit/tcp_test_util.h"

static short ev(struct ust_stack *s, int fd)
{
    struct pollfd p = { .fd = fd, .events = POLLIN | POLLOUT | POLLRDHUP };
    ust_poll(s, &p, 1, 0);
    return p.revents;
}

static void poll_agrees_with_next_call_in_every_state(void **state)
{
    (void)state;
    struct tnet n;
    uint64_t seed = sim_test_seed(51);
    tnet_setup(&n, seed, NULL);
    char buf[70000];

    /* Fresh socket: Linux says POLLOUT | POLLHUP. */
    int fresh = tsock(&n, n.a);
    SIM_ASSERT_EQ(seed, ev(n.a, fresh), POLLOUT | POLLHUP);
    SIM_ASSERT_EQ(seed, ust_send(n.a, fresh, "x", 1, MSG_NOSIGNAL), -1);
    SIM_ASSERT_EQ(seed, errno, EPIPE);          /* Linux, not BSD's ENOTCONN */
    char c1;
    SIM_ASSERT_EQ(seed, ust_recv(n.a, fresh, &c1, 1, 0), -1);
    SIM_ASSERT_EQ(seed, errno, ENOTCONN);

    /* Listener: nothing until a connection waits; accept agrees. */
    int lfd = tlisten(&n, 80, 4);
    SIM_ASSERT_EQ(seed, ev(n.b, lfd), 0);
    SIM_ASSERT_EQ(seed, ust_accept(n.b, lfd, NULL, NULL), -1);
    SIM_ASSERT_EQ(seed, errno, EAGAIN);

    /* Connecting: nothing; recv and send would wait. */
    int afd = tsock(&n, n.a);
    struct sockaddr_in sb = tsin("10.0.0.2", 80);
    ust_connect(n.a, afd, (struct sockaddr *)&sb, sizeof(sb));
    SIM_ASSERT_EQ(seed, ev(n.a, afd), 0);
    SIM_ASSERT_EQ(seed, ust_send(n.a, afd, "x", 1, 0), -1);
    SIM_ASSERT_EQ(seed, errno, EAGAIN);
    tnet_run(&n, 100 * TMS);
    SIM_ASSERT_EQ(seed, ev(n.b, lfd), POLLIN);
    int bfd = ust_accept4(n.b, lfd, NULL, NULL, SOCK_NONBLOCK);
    SIM_ASSERT(seed, bfd >= 0);

    /* Established, empty: writable only; recv says EAGAIN. */
    SIM_ASSERT_EQ(seed, ev(n.a, afd), POLLOUT);
    SIM_ASSERT_EQ(seed, ust_recv(n.a, afd, buf, 1, 0), -1);
    SIM_ASSERT_EQ(seed, errno, EAGAIN);

    /* Data: POLLIN, MSG_PEEK leaves it, FIONREAD counts it. */
    SIM_ASSERT_EQ(seed, ust_send(n.b, bfd, "hello", 5, 0), 5);
    int outq = -1;
    SIM_ASSERT_EQ(seed, ust_ioctl(n.b, bfd, SIOCOUTQ, &outq), 0);
    SIM_ASSERT_EQ(seed, outq, 5);
    tnet_run(&n, 100 * TMS);
    SIM_ASSERT_EQ(seed, ust_ioctl(n.b, bfd, SIOCOUTQ, &outq), 0);
    SIM_ASSERT_EQ(seed, outq, 0);
    SIM_ASSERT_EQ(seed, ev(n.a, afd), POLLIN | POLLOUT);
    SIM_ASSERT_EQ(seed, ust_recv(n.a, afd, buf, sizeof(buf), MSG_PEEK), 5);
    int inq = -1;
    SIM_ASSERT_EQ(seed, ust_ioctl(n.a, afd, FIONREAD, &inq), 0);
    SIM_ASSERT_EQ(seed, inq, 5);
    SIM_ASSERT_EQ(seed, ust_recv(n.a, afd, buf, sizeof(buf), 0), 5);
    SIM_ASSERT(seed, memcmp(buf, "hello", 5) == 0);
    SIM_ASSERT_EQ(seed, ev(n.a, afd), POLLOUT);

    /* Full send buffer (the peer does not read, SO_SNDBUF fixed): no
     * POLLOUT, and send says EAGAIN; reading on the other side frees it. */
    int sb_size = 8192;
    SIM_ASSERT_EQ(seed, ust_setsockopt(n.a, afd, SOL_SOCKET, SO_SNDBUF, &sb_size, sizeof(sb_size)), 0);
    memset(buf, 'z', sizeof(buf));
    ssize_t total = 0, r;
    for (int i = 0; i < 2000; i++) {
        while ((r = ust_send(n.a, afd, buf, sizeof(buf), 0)) > 0)
            total += r;
        tnet_run(&n, 10 * TMS);
        if ((ev(n.a, afd) & POLLOUT) == 0)
            break;
    }
    SIM_ASSERT_EQ(seed, ev(n.a, afd) & POLLOUT, 0);
    SIM_ASSERT_EQ(seed, ust_send(n.a, afd, buf, 1, 0), -1);
    SIM_ASSERT_EQ(seed, errno, EAGAIN);
    ssize_t drained = 0;
    for (int i = 0; i < 1000 && drained < total; i++) {
        while ((r = ust_recv(n.b, bfd, buf, sizeof(buf), 0)) > 0)
            drained += r;
        tnet_run(&n, 10 * TMS);
    }
    SIM_ASSERT_EQ(seed, drained, total);
    SIM_ASSERT(seed, (ev(n.a, afd) & POLLOUT) != 0);

    /* Peer's FIN: POLLIN | POLLRDHUP and recv returns 0. */
    SIM_ASSERT_EQ(seed, ust_shutdown(n.b, bfd, SHUT_WR), 0);
    tnet_run(&n, 100 * TMS);
    SIM_ASSERT_EQ(seed, ev(n.a, afd), POLLIN | POLLOUT | POLLRDHUP);
    SIM_ASSERT_EQ(seed, ust_recv(n.a, afd, buf, 1, 0), 0);
    /* Our shutdown(SHUT_WR) too: POLLHUP; send fails at once (EPIPE). */
    SIM_ASSERT_EQ(seed, ust_shutdown(n.a, afd, SHUT_WR), 0);
    SIM_ASSERT_EQ(seed, ev(n.a, afd), POLLIN | POLLOUT | POLLRDHUP | POLLHUP);
    SIM_ASSERT_EQ(seed, ust_send(n.a, afd, "x", 1, MSG_NOSIGNAL), -1);
    SIM_ASSERT_EQ(seed, errno, EPIPE);
    ust_sim_free(n.sim);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(poll_agrees_with_next_call_in_every_state),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
