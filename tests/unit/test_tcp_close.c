/* Closing a TCP connection on the simulator (RFC 9293 3.6 and Figure 5):
 * active close through FIN-WAIT-1/2 and TIME-WAIT (60 s) to CLOSED,
 * passive close through CLOSE-WAIT and LAST-ACK, simultaneous close through
 * CLOSING, half-close, RST when closing with unread data (RFC 2525 2.17) and
 * with SO_LINGER 0, and what poll/recv/send report afterwards. */
#include <errno.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "unit/sim_test_util.h"
#include "unit/tcp_test_util.h"

/* The block of the A side connection (orphans included), or NULL. */
static struct ust_tcb *conn_a(struct tnet *n, uint16_t aport)
{
    return ust_tcp_lookup(n->a, 0x0a000001u, aport, 0x0a000002u, 80);
}

static struct ust_tcb *conn_b(struct tnet *n, uint16_t aport)
{
    return ust_tcp_lookup(n->b, 0x0a000002u, 80, 0x0a000001u, aport);
}

static uint16_t local_port(struct ust_stack *s, int fd)
{
    struct sockaddr_in me;
    socklen_t l = sizeof(me);
    assert_int_equal(ust_getsockname(s, fd, (struct sockaddr *)&me, &l), 0);
    return ntohs(me.sin_port);
}

static short poll_one(struct ust_stack *s, int fd, short events)
{
    struct pollfd p = { .fd = fd, .events = events };
    ust_poll(s, &p, 1, 0);
    return p.revents;
}

static void active_close_fin_wait_time_wait_closed(void **state)
{
    (void)state;
    struct tnet n;
    uint64_t seed = sim_test_seed(21);
    tnet_setup(&n, seed, NULL);
    int lfd = tlisten(&n, 80, 4), afd;
    int bfd = tconnect_pair(&n, lfd, 80, &afd);
    uint16_t ap = local_port(n.a, afd);

    SIM_ASSERT_EQ(seed, ust_close(n.a, afd), 0);
    SIM_ASSERT_EQ(seed, conn_a(&n, ap)->state, UST_TCP_FIN_WAIT_1);
    tnet_run(&n, 50 * TMS);
    SIM_ASSERT_EQ(seed, conn_a(&n, ap)->state, UST_TCP_FIN_WAIT_2);
    SIM_ASSERT_EQ(seed, tstate(n.b, bfd), UST_TCP_CLOSE_WAIT);
    /* B sees EOF, and poll said so first. */
    short ev = poll_one(n.b, bfd, POLLIN | POLLOUT | POLLRDHUP);
    SIM_ASSERT_EQ(seed, ev & (POLLIN | POLLRDHUP | POLLOUT), POLLIN | POLLRDHUP | POLLOUT);
    char c;
    SIM_ASSERT_EQ(seed, ust_recv(n.b, bfd, &c, 1, 0), 0);

    SIM_ASSERT_EQ(seed, ust_shutdown(n.b, bfd, SHUT_WR), 0);
    SIM_ASSERT_EQ(seed, tstate(n.b, bfd), UST_TCP_LAST_ACK);
    tnet_run(&n, 50 * TMS);
    SIM_ASSERT_EQ(seed, tstate(n.b, bfd), UST_TCP_CLOSED);
    SIM_ASSERT(seed, (poll_one(n.b, bfd, POLLIN) & POLLHUP) != 0);
    SIM_ASSERT_EQ(seed, conn_a(&n, ap)->state, UST_TCP_TIME_WAIT);
    tnet_run(&n, 59 * TSEC);
    SIM_ASSERT_EQ(seed, conn_a(&n, ap)->state, UST_TCP_TIME_WAIT);
    tnet_run(&n, 2 * TSEC);
    SIM_ASSERT(seed, conn_a(&n, ap) == NULL);
    SIM_ASSERT_EQ(seed, n.a->tcp.nconns, 0);
    SIM_ASSERT_EQ(seed, ust_close(n.b, bfd), 0);
    SIM_ASSERT_EQ(seed, n.b->tcp.nconns, 1);    /* the listener */
    ust_sim_free(n.sim);
}

static void passive_close_close_wait_last_ack_closed(void **state)
{
    (void)state;
    struct tnet n;
    uint64_t seed = sim_test_seed(22);
    tnet_setup(&n, seed, NULL);
    int lfd = tlisten(&n, 80, 4), afd;
    int bfd = tconnect_pair(&n, lfd, 80, &afd);
    uint16_t ap = local_port(n.a, afd);
    SIM_ASSERT_EQ(seed, ust_close(n.b, bfd), 0);   /* B closes first: A is passive */
    tnet_run(&n, 50 * TMS);
    SIM_ASSERT_EQ(seed, tstate(n.a, afd), UST_TCP_CLOSE_WAIT);
    SIM_ASSERT_EQ(seed, conn_b(&n, ap)->state, UST_TCP_FIN_WAIT_2);
    SIM_ASSERT_EQ(seed, ust_close(n.a, afd), 0);
    SIM_ASSERT_EQ(seed, conn_a(&n, ap)->state, UST_TCP_LAST_ACK);
    tnet_run(&n, 50 * TMS);
    SIM_ASSERT(seed, conn_a(&n, ap) == NULL);       /* CLOSED and freed */
    SIM_ASSERT_EQ(seed, conn_b(&n, ap)->state, UST_TCP_TIME_WAIT);
    tnet_run(&n, 61 * TSEC);
    SIM_ASSERT(seed, conn_b(&n, ap) == NULL);
    ust_sim_free(n.sim);
}

static void simultaneous_close_goes_through_closing(void **state)
{
    (void)state;
    struct tnet n;
    uint64_t seed = sim_test_seed(23);
    tnet_setup(&n, seed, NULL);
    int lfd = tlisten(&n, 80, 4), afd;
    int bfd = tconnect_pair(&n, lfd, 80, &afd);
    SIM_ASSERT_EQ(seed, ust_shutdown(n.a, afd, SHUT_WR), 0);
    SIM_ASSERT_EQ(seed, ust_shutdown(n.b, bfd, SHUT_WR), 0);
    SIM_ASSERT_EQ(seed, tstate(n.a, afd), UST_TCP_FIN_WAIT_1);
    SIM_ASSERT_EQ(seed, tstate(n.b, bfd), UST_TCP_FIN_WAIT_1);
    /* The FINs cross: each side sees the other's FIN before the ACK of its own. */
    ust_sim_run_until(n.sim, ust_sim_now(n.sim) + 1 * TMS + 1);
    SIM_ASSERT_EQ(seed, tstate(n.a, afd), UST_TCP_CLOSING);
    SIM_ASSERT_EQ(seed, tstate(n.b, bfd), UST_TCP_CLOSING);
    tnet_run(&n, 50 * TMS);
    SIM_ASSERT_EQ(seed, tstate(n.a, afd), UST_TCP_TIME_WAIT);
    SIM_ASSERT_EQ(seed, tstate(n.b, bfd), UST_TCP_TIME_WAIT);
    char c;
    SIM_ASSERT_EQ(seed, ust_recv(n.a, afd, &c, 1, 0), 0);
    tnet_run(&n, 61 * TSEC);
    SIM_ASSERT_EQ(seed, tstate(n.a, afd), UST_TCP_CLOSED);
    SIM_ASSERT_EQ(seed, tstate(n.b, bfd), UST_TCP_CLOSED);
    ust_sim_free(n.sim);
}

static void half_close_peer_keeps_sending(void **state)
{
    (void)state;
    struct tnet n;
    uint64_t seed = sim_test_seed(24);
    tnet_setup(&n, seed, NULL);
    int lfd = tlisten(&n, 80, 4), afd;
    int bfd = tconnect_pair(&n, lfd, 80, &afd);
    SIM_ASSERT_EQ(seed, ust_shutdown(n.a, afd, SHUT_WR), 0);
    SIM_ASSERT_EQ(seed, ust_send(n.a, afd, "x", 1, MSG_NOSIGNAL), -1);
    SIM_ASSERT_EQ(seed, errno, EPIPE);
    SIM_ASSERT(seed, (poll_one(n.a, afd, POLLOUT) & POLLOUT) != 0);   /* a write won't block */
    tnet_run(&n, 50 * TMS);
    char buf[4096];
    SIM_ASSERT_EQ(seed, ust_recv(n.b, bfd, buf, sizeof(buf), 0), 0);
    /* B sends 200 KB after A's FIN; A reads all of it. */
    size_t sent = 0, rcvd = 0;
    uint8_t out[4096];
    for (size_t i = 0; i < sizeof(out); i++)
        out[i] = (uint8_t)(i * 7);
    for (int t = 0; t < 10000 && rcvd < 200000; t++) {
        if (sent < 200000) {
            size_t len = 200000 - sent < sizeof(out) ? 200000 - sent : sizeof(out);
            ssize_t r = ust_send(n.b, bfd, out, len, 0);
            if (r > 0)
                sent += (size_t)r;
        }
        ssize_t r;
        while ((r = ust_recv(n.a, afd, buf, sizeof(buf), 0)) > 0) {
            for (ssize_t i = 0; i < r; i++)
                SIM_ASSERT_EQ(seed, (uint8_t)buf[i], (uint8_t)((rcvd + (size_t)i) % 4096 * 7));
            rcvd += (size_t)r;
        }
        tnet_run(&n, 1 * TMS);
    }
    SIM_ASSERT_EQ(seed, rcvd, 200000);
    SIM_ASSERT_EQ(seed, ust_close(n.b, bfd), 0);
    tnet_run(&n, 50 * TMS);
    SIM_ASSERT_EQ(seed, ust_recv(n.a, afd, buf, sizeof(buf), 0), 0);
    SIM_ASSERT_EQ(seed, tstate(n.a, afd), UST_TCP_TIME_WAIT);
    ust_sim_free(n.sim);
}

static void close_with_unread_data_resets_peer(void **state)
{
    (void)state;
    struct tnet n;
    uint64_t seed = sim_test_seed(25);
    tnet_setup(&n, seed, NULL);
    int lfd = tlisten(&n, 80, 4), afd;
    int bfd = tconnect_pair(&n, lfd, 80, &afd);
    SIM_ASSERT_EQ(seed, ust_send(n.a, afd, "unread", 6, 0), 6);
    tnet_run(&n, 50 * TMS);
    int inq = -1;
    SIM_ASSERT_EQ(seed, ust_ioctl(n.b, bfd, FIONREAD, &inq), 0);
    SIM_ASSERT_EQ(seed, inq, 6);
    SIM_ASSERT_EQ(seed, ust_close(n.b, bfd), 0);
    SIM_ASSERT_EQ(seed, n.b->tcp.nconns, 1);        /* no TIME-WAIT after a RST */
    tnet_run(&n, 50 * TMS);
    SIM_ASSERT_EQ(seed, tstate(n.a, afd), UST_TCP_CLOSED);
    short ev = poll_one(n.a, afd, POLLIN | POLLOUT);
    SIM_ASSERT_EQ(seed, ev & (POLLERR | POLLHUP | POLLIN), POLLERR | POLLHUP | POLLIN);
    char c;
    SIM_ASSERT_EQ(seed, ust_recv(n.a, afd, &c, 1, 0), -1);
    SIM_ASSERT_EQ(seed, errno, ECONNRESET);
    SIM_ASSERT_EQ(seed, ust_send(n.a, afd, "x", 1, MSG_NOSIGNAL), -1);
    SIM_ASSERT_EQ(seed, errno, EPIPE);
    SIM_ASSERT_EQ(seed, ust_recv(n.a, afd, &c, 1, 0), 0);
    SIM_ASSERT_EQ(seed, ust_stat_get(n.a, UST_STAT_TCP_EstabResets), 1);
    ust_sim_free(n.sim);
}

static void so_linger_zero_aborts_with_rst(void **state)
{
    (void)state;
    struct tnet n;
    uint64_t seed = sim_test_seed(26);
    tnet_setup(&n, seed, NULL);
    int lfd = tlisten(&n, 80, 4), afd;
    int bfd = tconnect_pair(&n, lfd, 80, &afd);
    struct linger lg = { .l_onoff = 1, .l_linger = 0 };
    SIM_ASSERT_EQ(seed, ust_setsockopt(n.a, afd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
    struct linger got;
    socklen_t gl = sizeof(got);
    SIM_ASSERT_EQ(seed, ust_getsockopt(n.a, afd, SOL_SOCKET, SO_LINGER, &got, &gl), 0);
    SIM_ASSERT_EQ(seed, got.l_onoff, 1);
    SIM_ASSERT_EQ(seed, ust_close(n.a, afd), 0);
    SIM_ASSERT_EQ(seed, n.a->tcp.nconns, 0);
    tnet_run(&n, 50 * TMS);
    char c;
    SIM_ASSERT_EQ(seed, ust_recv(n.b, bfd, &c, 1, 0), -1);
    SIM_ASSERT_EQ(seed, errno, ECONNRESET);
    ust_sim_free(n.sim);
}

static void time_wait_port_reused_by_new_syn(void **state)
{
    (void)state;
    struct tnet n;
    uint64_t seed = sim_test_seed(27);
    tnet_setup(&n, seed, NULL);
    int lfd = tlisten(&n, 80, 4), afd;
    int bfd = tconnect_pair(&n, lfd, 80, &afd);
    uint16_t ap = local_port(n.a, afd);
    /* B closes first: B's side holds the TIME-WAIT. */
    SIM_ASSERT_EQ(seed, ust_close(n.b, bfd), 0);
    tnet_run(&n, 50 * TMS);
    SIM_ASSERT_EQ(seed, ust_close(n.a, afd), 0);
    tnet_run(&n, 50 * TMS);
    SIM_ASSERT_EQ(seed, conn_b(&n, ap)->state, UST_TCP_TIME_WAIT);
    /* A new connection from the same port reaches the listener. */
    int fd = tsock(&n, n.a);
    int one = 1;
    ust_setsockopt(n.a, fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in la = tsin("10.0.0.1", ap), sb = tsin("10.0.0.2", 80);
    SIM_ASSERT_EQ(seed, ust_bind(n.a, fd, (struct sockaddr *)&la, sizeof(la)), 0);
    SIM_ASSERT_EQ(seed, ust_connect(n.a, fd, (struct sockaddr *)&sb, sizeof(sb)), -1);
    tnet_run(&n, 50 * TMS);
    SIM_ASSERT_EQ(seed, tstate(n.a, fd), UST_TCP_ESTABLISHED);
    int c = ust_accept(n.b, lfd, NULL, NULL);
    SIM_ASSERT(seed, c >= 0);
    SIM_ASSERT_EQ(seed, tstate(n.b, c), UST_TCP_ESTABLISHED);
    ust_sim_free(n.sim);
}

static void time_wait_entries_are_bounded_oldest_first(void **state)
{
    (void)state;
    struct tnet n;
    uint64_t seed = sim_test_seed(28);
    tnet_setup(&n, seed, NULL);
    n.a->cfg.tcp_max_tw_buckets = 3;    /* white-box: a small bound */
    int lfd = tlisten(&n, 80, 8);
    uint16_t ports[5];
    for (int i = 0; i < 5; i++) {
        int afd;
        int bfd = tconnect_pair(&n, lfd, 80, &afd);
        ports[i] = local_port(n.a, afd);
        SIM_ASSERT_EQ(seed, ust_close(n.a, afd), 0);
        tnet_run(&n, 50 * TMS);
        SIM_ASSERT_EQ(seed, ust_close(n.b, bfd), 0);
        tnet_run(&n, 50 * TMS);
        SIM_ASSERT_EQ(seed, conn_a(&n, ports[i])->state, UST_TCP_TIME_WAIT);
    }
    SIM_ASSERT_EQ(seed, n.a->tcp.tw_count, 3);
    SIM_ASSERT_EQ(seed, n.a->tcp.nconns, 3);
    SIM_ASSERT(seed, conn_a(&n, ports[0]) == NULL);     /* the two oldest went */
    SIM_ASSERT(seed, conn_a(&n, ports[1]) == NULL);
    SIM_ASSERT(seed, conn_a(&n, ports[4]) != NULL);
    tnet_run(&n, 61 * TSEC);
    SIM_ASSERT_EQ(seed, n.a->tcp.tw_count, 0);
    SIM_ASSERT_EQ(seed, n.a->tcp.nconns, 0);
    ust_sim_free(n.sim);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(active_close_fin_wait_time_wait_closed),
        cmocka_unit_test(passive_close_close_wait_last_ack_closed),
        cmocka_unit_test(simultaneous_close_goes_through_closing),
        cmocka_unit_test(half_close_peer_keeps_sending),
        cmocka_unit_test(close_with_unread_data_resets_peer),
        cmocka_unit_test(so_linger_zero_aborts_with_rst),
        cmocka_unit_test(time_wait_port_reused_by_new_syn),
        cmocka_unit_test(time_wait_entries_are_bounded_oldest_first),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
