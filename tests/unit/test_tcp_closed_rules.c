/* Rules about connections whose user side is closed, on the simulator
 * (M plays the peer segment by segment, see test_hostile_util.h):
 *  - RFC 1122 4.2.2.13 / RFC 2525 2.17 (Linux tcp_rcv_state_process,
 *    TCPAbortOnData): after close(), new data arriving in FIN-WAIT-1 or
 *    FIN-WAIT-2 is answered with a RST and the connection is gone; the
 *    same after shutdown(SHUT_RDWR) in FIN-WAIT-2, where the user then sees
 *    ECONNRESET; a retransmission of data already received is not new data
 *    and only draws an ACK;
 *  - bind() to a port held only by a TIME-WAIT connection fails with
 *    EADDRINUSE without SO_REUSEADDR and succeeds with it (Linux
 *    inet_csk_bind_conflict); listen() then works too. */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "unit/sim_test_util.h"
#include "unit/tcp_test_util.h"
#include "unit/test_hostile_util.h"

/* B's block for M's connection c, or NULL once freed. */
static struct ust_tcb *b_tcb(struct hx *h, const struct hx_conn *c)
{
    return ust_tcp_lookup(h->n.b, HX_IP_B, c->bport, HX_IP_M, c->mport);
}

/* M's ACK of B's FIN (B sent nothing else): FIN-WAIT-1 -> FIN-WAIT-2. */
static void m_ack_fin(struct hx *h, const struct hx_conn *c, uint32_t m_off)
{
    hx_tcp_to_b(h, HX_IP_M, c->mport, c->bport, c->m_isn + 1 + m_off, c->b_isn + 2, UST_TCP_ACK,
                1024, NULL, 0, NULL, 0);
    tnet_run(&h->n, 3 * TMS);
}

static void new_data_after_close_is_answered_with_rst(void **state)
{
    (void)state;
    static struct hx h;
    uint64_t seed = sim_test_seed(7301);
    hx_setup(&h, seed);
    struct ust_stack *b = h.n.b;
    int lfd = tlisten(&h.n, 80, 8);
    static const uint8_t data[300] = "late data";
    for (int fin_wait_2 = 0; fin_wait_2 < 2; fin_wait_2++) {
        struct hx_conn c;
        hx_m_connect(&h, &c, lfd, 80, (uint16_t)(4000 + fin_wait_2),
                     777u + 100000u * (uint32_t)fin_wait_2);
        /* Some data first, read by the application. */
        hx_m_data(&h, &c, 0, data, 100, NULL, 0);
        tnet_run(&h.n, 50 * TMS);
        uint8_t buf[200];
        SIM_ASSERT_EQ(seed, ust_recv(b, c.bfd, buf, sizeof(buf), 0), 100);
        SIM_ASSERT_EQ(seed, ust_close(b, c.bfd), 0);
        tnet_run(&h.n, 3 * TMS);
        struct ust_tcb *t = b_tcb(&h, &c);
        SIM_ASSERT(seed, t != NULL && t->orphan);
        SIM_ASSERT_EQ(seed, t->state, UST_TCP_FIN_WAIT_1);
        if (fin_wait_2) {
            m_ack_fin(&h, &c, 100);
            SIM_ASSERT_EQ(seed, t->state, UST_TCP_FIN_WAIT_2);
        }
        /* A retransmission of what B already has: an ACK, nothing else. */
        uint64_t aod0 = ust_stat_get(b, UST_STAT_TCP_TCPAbortOnData);
        hx_m_data(&h, &c, 0, data, 100, NULL, 0);
        tnet_run(&h.n, 3 * TMS);
        const struct hx_seg *s = hx_last_to(&h, HX_IP_M, c.mport);
        SIM_ASSERT(seed, s != NULL);
        SIM_ASSERT_EQ(seed, s->th.flags & UST_TCP_RST, 0);
        SIM_ASSERT_EQ(seed, b_tcb(&h, &c), t);
        SIM_ASSERT_EQ(seed, ust_stat_get(b, UST_STAT_TCP_TCPAbortOnData), aod0);
        /* New data: RST, and the block is gone. */
        uint64_t rst0 = ust_stat_get(b, UST_STAT_TCP_OutRsts);
        hx_m_data(&h, &c, 100, data, sizeof(data), NULL, 0);
        SIM_ASSERT(seed, b_tcb(&h, &c) == NULL);
        tnet_run(&h.n, 3 * TMS);
        s = hx_last_to(&h, HX_IP_M, c.mport);
        SIM_ASSERT(seed, s != NULL);
        SIM_ASSERT(seed, (s->th.flags & UST_TCP_RST) != 0);
        SIM_ASSERT_EQ(seed, s->th.seq, c.b_isn + 2);    /* after our FIN */
        SIM_ASSERT_EQ(seed, ust_stat_get(b, UST_STAT_TCP_TCPAbortOnData), aod0 + 1);
        SIM_ASSERT_EQ(seed, ust_stat_get(b, UST_STAT_TCP_OutRsts), rst0 + 1);
    }
    ust_close(b, lfd);
    SIM_ASSERT_EQ(seed, hx_mem(b).conns, 0);
    hx_free(&h);
}

/* Linux: RCV_SHUTDOWN in FIN-WAIT-1/2 is enough, the descriptor may live. */
static void new_data_after_shutdown_rdwr_in_fin_wait_2_resets(void **state)
{
    (void)state;
    static struct hx h;
    uint64_t seed = sim_test_seed(7302);
    hx_setup(&h, seed);
    struct ust_stack *b = h.n.b;
    int lfd = tlisten(&h.n, 80, 8);
    struct hx_conn c;
    hx_m_connect(&h, &c, lfd, 80, 4100, 5555);
    SIM_ASSERT_EQ(seed, ust_shutdown(b, c.bfd, SHUT_RDWR), 0);
    tnet_run(&h.n, 3 * TMS);
    m_ack_fin(&h, &c, 0);
    SIM_ASSERT_EQ(seed, tstate(b, c.bfd), UST_TCP_FIN_WAIT_2);
    static const uint8_t data[50] = "unwanted";
    hx_m_data(&h, &c, 0, data, sizeof(data), NULL, 0);
    tnet_run(&h.n, 3 * TMS);
    const struct hx_seg *s = hx_last_to(&h, HX_IP_M, c.mport);
    SIM_ASSERT(seed, s != NULL && (s->th.flags & UST_TCP_RST));
    SIM_ASSERT_EQ(seed, tstate(b, c.bfd), UST_TCP_CLOSED);
    uint8_t buf[64];
    SIM_ASSERT_EQ(seed, ust_recv(b, c.bfd, buf, sizeof(buf), 0), -1);
    SIM_ASSERT_EQ(seed, errno, ECONNRESET);
    ust_close(b, c.bfd);
    ust_close(b, lfd);
    SIM_ASSERT_EQ(seed, hx_mem(b).conns, 0);
    hx_free(&h);
}

/* Only shut for reading, not closed, in ESTABLISHED: data is still taken
 * (Linux resets only in FIN-WAIT-1/2). */
static void data_after_shutdown_rd_in_established_does_not_reset(void **state)
{
    (void)state;
    static struct hx h;
    uint64_t seed = sim_test_seed(7303);
    hx_setup(&h, seed);
    struct ust_stack *b = h.n.b;
    int lfd = tlisten(&h.n, 80, 8);
    struct hx_conn c;
    hx_m_connect(&h, &c, lfd, 80, 4200, 9999);
    SIM_ASSERT_EQ(seed, ust_shutdown(b, c.bfd, SHUT_RD), 0);
    static const uint8_t data[50] = "still fine";
    hx_m_data(&h, &c, 0, data, sizeof(data), NULL, 0);
    tnet_run(&h.n, 50 * TMS);
    SIM_ASSERT_EQ(seed, tstate(b, c.bfd), UST_TCP_ESTABLISHED);
    const struct hx_seg *s = hx_last_to(&h, HX_IP_M, c.mport);
    SIM_ASSERT(seed, s != NULL);
    SIM_ASSERT_EQ(seed, s->th.flags & UST_TCP_RST, 0);
    SIM_ASSERT_EQ(seed, s->th.ack, c.m_isn + 1 + sizeof(data));
    ust_close(b, c.bfd);
    ust_close(b, lfd);
    hx_free(&h);
}

/* ---- bind() and TIME-WAIT -------------------------------------------------- */

static int bind_port(struct ust_stack *s, int fd, uint16_t port)
{
    struct sockaddr_in sin = tsin("10.0.0.2", port);
    return ust_bind(s, fd, (struct sockaddr *)&sin, sizeof(sin));
}

static void bind_to_a_port_held_by_time_wait_needs_so_reuseaddr(void **state)
{
    (void)state;
    static struct hx h;
    uint64_t seed = sim_test_seed(7304);
    hx_setup(&h, seed);
    struct ust_stack *b = h.n.b;
    /* B's side of a connection on port 80 ends in TIME-WAIT (B closes
     * first); the listener goes too: only TIME-WAIT holds the port. */
    int lfd = tlisten(&h.n, 80, 8), afd;
    int bfd = tconnect_pair(&h.n, lfd, 80, &afd);
    ust_close(b, lfd);
    ust_close(b, bfd);
    tnet_run(&h.n, 5 * TMS);
    ust_close(h.n.a, afd);
    tnet_run(&h.n, 50 * TMS);
    ust_rt_lock(b);
    uint32_t tw = b->tcp.tw_count, conns = b->tcp.nconns;
    ust_rt_unlock(b);
    SIM_ASSERT_EQ(seed, tw, 1);
    SIM_ASSERT_EQ(seed, conns, 1);
    /* Without SO_REUSEADDR: EADDRINUSE (to the address and to 0.0.0.0). */
    int fd = ust_socket(b, AF_INET, SOCK_STREAM, 0);
    SIM_ASSERT_EQ(seed, bind_port(b, fd, 80), -1);
    SIM_ASSERT_EQ(seed, errno, EADDRINUSE);
    struct sockaddr_in any = tsin("0.0.0.0", 80);
    SIM_ASSERT_EQ(seed, ust_bind(b, fd, (struct sockaddr *)&any, sizeof(any)), -1);
    SIM_ASSERT_EQ(seed, errno, EADDRINUSE);
    /* With it: bound, and it can listen and serve. */
    int one = 1;
    SIM_ASSERT_EQ(seed, ust_setsockopt(b, fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
    SIM_ASSERT_EQ(seed, bind_port(b, fd, 80), 0);
    SIM_ASSERT_EQ(seed, ust_listen(b, fd, 8), 0);
    int afd2;
    int bfd2 = tconnect_pair(&h.n, fd, 80, &afd2);
    hx_transfer(&h, h.n.a, afd2, b, bfd2, 10000, 1, 10 * TSEC);
    /* Once TIME-WAIT is over, the port is free for anyone. */
    ust_close(h.n.a, afd2);
    ust_close(b, bfd2);
    ust_close(b, fd);
    tnet_run(&h.n, b->cfg.tcp_timewait_ns + 1 * TSEC);
    fd = ust_socket(b, AF_INET, SOCK_STREAM, 0);
    SIM_ASSERT_EQ(seed, bind_port(b, fd, 80), 0);
    ust_close(b, fd);
    hx_free(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(new_data_after_close_is_answered_with_rst),
        cmocka_unit_test(new_data_after_shutdown_rdwr_in_fin_wait_2_resets),
        cmocka_unit_test(data_after_shutdown_rd_in_established_does_not_reset),
        cmocka_unit_test(bind_to_a_port_held_by_time_wait_needs_so_reuseaddr),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
