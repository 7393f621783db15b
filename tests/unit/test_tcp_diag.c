/* Socket diagnostics (include/ustack/diag.h): ust_tcp_diag reports every
 * listener and connection with ss's columns - addresses, state, Recv-Q and
 * Send-Q (accept queue and backlog for a listener), TCP_INFO - including
 * blocks no descriptor refers to any more (TIME-WAIT), and a too-small array
 * still gets the total count. */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "unit/sim_test_util.h"
#include "unit/tcp_test_util.h"
#include "ustack/diag.h"

#define MAXD 16

/* The entry whose local port is lport and remote port rport (0 = listener). */
static const struct ust_tcp_diag *find(const struct ust_tcp_diag *d, ssize_t n, uint16_t lport,
                                       uint16_t rport)
{
    for (ssize_t i = 0; i < n; i++)
        if (ntohs(d[i].local.sin_port) == lport && ntohs(d[i].remote.sin_port) == rport)
            return &d[i];
    return NULL;
}

static uint16_t local_port(struct ust_stack *s, int fd)
{
    struct sockaddr_in me;
    socklen_t len = sizeof(me);
    assert_int_equal(ust_getsockname(s, fd, (struct sockaddr *)&me, &len), 0);
    return ntohs(me.sin_port);
}

static void listener_and_connections_are_reported_like_ss(void **state)
{
    (void)state;
    struct tnet n;
    uint64_t seed = sim_test_seed(1);
    tnet_setup(&n, seed, NULL);
    struct ust_tcp_diag d[MAXD];
    SIM_ASSERT_EQ(seed, ust_tcp_diag(n.b, d, MAXD), 0);

    int lfd = tlisten(&n, 80, 7);
    int a1, a2;
    int b1 = tconnect_pair(&n, lfd, 80, &a1);
    int b2 = tconnect_pair(&n, lfd, 80, &a2);
    (void)b2;
    /* A third client completes its handshake but is not accepted yet. */
    int a3 = tsock(&n, n.a);
    struct sockaddr_in sb = tsin("10.0.0.2", 80);
    SIM_ASSERT_EQ(seed, ust_connect(n.a, a3, (struct sockaddr *)&sb, sizeof(sb)), -1);
    tnet_run(&n, 100 * TMS);
    /* B gets 5 bytes it does not read yet. */
    SIM_ASSERT_EQ(seed, ust_send(n.a, a1, "hello", 5, 0), 5);
    tnet_run(&n, 100 * TMS);

    ssize_t nb = ust_tcp_diag(n.b, d, MAXD);
    SIM_ASSERT_EQ(seed, nb, 4);     /* the listener, two accepted, one queued */
    const struct ust_tcp_diag *l = find(d, nb, 80, 0);
    SIM_ASSERT(seed, l != NULL);
    SIM_ASSERT_EQ(seed, l->info.tcpi_state, TCP_LISTEN);
    SIM_ASSERT(seed, strcmp(ust_tcp_diag_state_name(l->info.tcpi_state), "LISTEN") == 0);
    SIM_ASSERT_EQ(seed, l->recv_q, 1);   /* a3 waits in the accept queue */
    SIM_ASSERT_EQ(seed, l->send_q, 7);   /* the backlog */
    SIM_ASSERT_EQ(seed, l->syn_q, 0);
    SIM_ASSERT_EQ(seed, ntohl(l->local.sin_addr.s_addr), 0x0a000002u);

    const struct ust_tcp_diag *c1 = find(d, nb, 80, local_port(n.a, a1));
    SIM_ASSERT(seed, c1 != NULL);
    SIM_ASSERT_EQ(seed, c1->info.tcpi_state, TCP_ESTABLISHED);
    SIM_ASSERT(seed, strcmp(ust_tcp_diag_state_name(c1->info.tcpi_state), "ESTAB") == 0);
    SIM_ASSERT_EQ(seed, c1->recv_q, 5);  /* "hello", unread */
    SIM_ASSERT_EQ(seed, c1->send_q, 0);
    SIM_ASSERT_EQ(seed, ntohl(c1->local.sin_addr.s_addr), 0x0a000002u);
    SIM_ASSERT_EQ(seed, ntohl(c1->remote.sin_addr.s_addr), 0x0a000001u);
    SIM_ASSERT(seed, !c1->orphan);
    SIM_ASSERT(seed, strcmp(c1->congestion, "cubic") == 0);
    SIM_ASSERT(seed, c1->info.tcpi_rtt > 0);
    SIM_ASSERT(seed, find(d, nb, 80, local_port(n.a, a2)) != NULL);
    SIM_ASSERT(seed, find(d, nb, 80, local_port(n.a, a3)) != NULL);

    /* A sender's Send-Q is what is not acknowledged yet: cut the wire. */
    struct ust_link_params cut = { .delay_ns = 1 * TMS, .loss = 1.0 };
    ust_sim_link_set_params(n.link, 0, &cut);
    SIM_ASSERT_EQ(seed, ust_send(n.a, a2, "0123456789", 10, 0), 10);
    tnet_run(&n, 10 * TMS);
    ssize_t na = ust_tcp_diag(n.a, d, MAXD);
    SIM_ASSERT_EQ(seed, na, 3);
    const struct ust_tcp_diag *c2 = find(d, na, local_port(n.a, a2), 80);
    SIM_ASSERT(seed, c2 != NULL);
    SIM_ASSERT_EQ(seed, c2->send_q, 10);
    SIM_ASSERT_EQ(seed, c2->info.tcpi_unacked, 1);
    struct ust_link_params ok = { .delay_ns = 1 * TMS };
    ust_sim_link_set_params(n.link, 0, &ok);
    tnet_run(&n, 2 * TSEC);

    /* The active closer's block stays in TIME-WAIT with no descriptor. */
    uint16_t p1 = local_port(n.a, a1);
    SIM_ASSERT_EQ(seed, ust_close(n.a, a1), 0);
    tnet_run(&n, 10 * TMS);
    char buf[8];
    SIM_ASSERT_EQ(seed, ust_recv(n.b, b1, buf, sizeof(buf), 0), 5);
    SIM_ASSERT_EQ(seed, ust_close(n.b, b1), 0);
    tnet_run(&n, 100 * TMS);
    na = ust_tcp_diag(n.a, d, MAXD);
    const struct ust_tcp_diag *tw = find(d, na, p1, 80);
    SIM_ASSERT(seed, tw != NULL);
    SIM_ASSERT_EQ(seed, tw->info.tcpi_state, TCP_TIME_WAIT);
    SIM_ASSERT(seed, strcmp(ust_tcp_diag_state_name(tw->info.tcpi_state), "TIME-WAIT") == 0);
    SIM_ASSERT(seed, tw->orphan);
    /* ...and is gone after 2 MSL (60 s). */
    tnet_run(&n, 61 * TSEC);
    na = ust_tcp_diag(n.a, d, MAXD);
    SIM_ASSERT(seed, find(d, na, p1, 80) == NULL);
    ust_sim_free(n.sim);
}

static void too_small_array_still_gets_the_total(void **state)
{
    (void)state;
    struct tnet n;
    uint64_t seed = sim_test_seed(2);
    tnet_setup(&n, seed, NULL);
    int lfd = tlisten(&n, 80, 16);
    int a1, a2;
    (void)tconnect_pair(&n, lfd, 80, &a1);
    (void)tconnect_pair(&n, lfd, 80, &a2);
    struct ust_tcp_diag d[1];
    memset(d, 0xab, sizeof(d));
    SIM_ASSERT_EQ(seed, ust_tcp_diag(n.b, d, 1), 3);
    SIM_ASSERT(seed, d[0].info.tcpi_state == TCP_LISTEN ||
                         d[0].info.tcpi_state == TCP_ESTABLISHED);
    SIM_ASSERT_EQ(seed, ust_tcp_diag(n.b, NULL, 0), 3);
    errno = 0;
    SIM_ASSERT_EQ(seed, ust_tcp_diag(n.b, NULL, 4), -1);
    SIM_ASSERT_EQ(seed, errno, EINVAL);
    SIM_ASSERT(seed, strcmp(ust_tcp_diag_state_name(99), "UNKNOWN") == 0);
    ust_sim_free(n.sim);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(listener_and_connections_are_reported_like_ss),
        cmocka_unit_test(too_small_array_still_gets_the_total),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
