/* SO_REUSEPORT with Linux's semantics (socket(7)):
 * - the option reads back, defaults to 0; a port is shared only when every
 *   socket on it set the option before bind (one without it: EADDRINUSE),
 *   for UDP and for TCP listeners; an ephemeral port is never shared;
 * - UDP: datagrams to the shared port are spread over the group by a hash
 *   of the 4-tuple: every datagram of one flow reaches the same socket,
 *   every member gets flows, and closing a member moves only its own flows;
 * - TCP: incoming connections are spread over the listeners the same way
 *   and each is accepted exactly once. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "unit/sock_test_util.h"
#include "unit/sim_test_util.h"
#include "unit/tcp_test_util.h"

#define MEMBERS 4
#define FLOWS 64
#define PORT 7000

static void set_reuseport(struct ust_stack *s, int fd, int on)
{
    assert_int_equal(ust_setsockopt(s, fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)), 0);
}

static int get_reuseport(struct ust_stack *s, int fd)
{
    int v = -1;
    socklen_t l = sizeof(v);
    assert_int_equal(ust_getsockopt(s, fd, SOL_SOCKET, SO_REUSEPORT, &v, &l), 0);
    assert_int_equal(l, sizeof(v));
    return v;
}

static int udp_member(struct ust_stack *s, uint16_t port)
{
    int fd = st_udp(s);
    set_reuseport(s, fd, 1);
    struct sockaddr_in sin = st_sin(ST_LO, port);
    assert_int_equal(ust_bind(s, fd, ST_SA(&sin), sizeof(sin)), 0);
    return fd;
}

static void udp_port_is_shared_only_when_every_socket_sets_it(void **state)
{
    (void)state;
    struct ust_stack *s = st_stack();
    int a = st_udp(s);
    assert_int_equal(get_reuseport(s, a), 0);
    set_reuseport(s, a, 1);
    assert_int_equal(get_reuseport(s, a), 1);
    struct sockaddr_in sin = st_sin(ST_LO, PORT);
    assert_int_equal(ust_bind(s, a, ST_SA(&sin), sizeof(sin)), 0);
    /* Without the option: refused. */
    int b = st_udp(s);
    st_fails(ust_bind(s, b, ST_SA(&sin), sizeof(sin)), EADDRINUSE);
    /* With it: shared, also by a wildcard bind. */
    int c = udp_member(s, PORT);
    int d = st_udp(s);
    set_reuseport(s, d, 1);
    struct sockaddr_in any = st_sin(0, PORT);
    assert_int_equal(ust_bind(s, d, ST_SA(&any), sizeof(any)), 0);
    /* A member that set the option and then cleared it is not in. */
    int e = st_udp(s);
    set_reuseport(s, e, 1);
    set_reuseport(s, e, 0);
    assert_int_equal(get_reuseport(s, e), 0);
    st_fails(ust_bind(s, e, ST_SA(&sin), sizeof(sin)), EADDRINUSE);
    /* Ephemeral ports are never shared. */
    int f = st_udp(s), g = st_udp(s);
    set_reuseport(s, f, 1);
    set_reuseport(s, g, 1);
    struct sockaddr_in zero = st_sin(ST_LO, 0);
    assert_int_equal(ust_bind(s, f, ST_SA(&zero), sizeof(zero)), 0);
    assert_int_equal(ust_bind(s, g, ST_SA(&zero), sizeof(zero)), 0);
    assert_int_not_equal(st_port(s, f), st_port(s, g));
    (void)b;
    (void)c;
    st_free(s);
}

/* Sends one datagram from each of FLOWS senders (`rounds` times) and records
 * which member each flow reached; -1 where none arrived. */
static void send_flows(struct ust_stack *s, const int *senders, const int *members,
                       int nmembers, int *reached)
{
    for (int f = 0; f < FLOWS; f++) {
        uint8_t tag = (uint8_t)f;
        assert_int_equal(st_sendto(s, senders[f], &tag, 1, ST_LO, PORT), 1);
    }
    st_pump(s);
    for (int f = 0; f < FLOWS; f++)
        reached[f] = -1;
    for (int m = 0; m < nmembers; m++) {
        if (members[m] < 0)
            continue;
        uint8_t tag;
        while (ust_recv(s, members[m], &tag, 1, MSG_DONTWAIT) == 1) {
            assert_int_equal(reached[tag], -1);     /* each datagram once */
            reached[tag] = m;
        }
    }
    for (int f = 0; f < FLOWS; f++)
        assert_true(reached[f] >= 0);               /* none lost */
}

static void udp_datagrams_spread_by_flow_and_a_flow_stays_on_its_socket(void **state)
{
    (void)state;
    struct ust_stack *s = st_stack();
    int members[MEMBERS], senders[FLOWS];
    for (int m = 0; m < MEMBERS; m++)
        members[m] = udp_member(s, PORT);
    for (int f = 0; f < FLOWS; f++)
        senders[f] = st_udp_bound(s, ST_LO, (uint16_t)(20000 + f));

    int first[FLOWS], again[FLOWS];
    send_flows(s, senders, members, MEMBERS, first);
    /* Every member got flows (not "the newest bind takes all"). */
    int per[MEMBERS] = { 0 };
    for (int f = 0; f < FLOWS; f++)
        per[first[f]]++;
    for (int m = 0; m < MEMBERS; m++) {
        print_message("member %d: %d flows\n", m, per[m]);
        assert_true(per[m] >= 4);
    }
    /* The same flows again: the same sockets. */
    send_flows(s, senders, members, MEMBERS, again);
    assert_memory_equal(first, again, sizeof(first));

    /* Member 0 leaves: its flows move, every other flow stays put. */
    assert_int_equal(ust_close(s, members[0]), 0);
    members[0] = -1;
    send_flows(s, senders, members, MEMBERS, again);
    for (int f = 0; f < FLOWS; f++) {
        if (first[f] != 0)
            assert_int_equal(again[f], first[f]);
        else
            assert_int_not_equal(again[f], 0);
    }
    st_free(s);
}

static void udp_connected_member_keeps_its_peer_and_is_not_picked_for_others(void **state)
{
    (void)state;
    struct ust_stack *s = st_stack();
    int m0 = udp_member(s, PORT), m1 = udp_member(s, PORT);
    int peer = st_udp_bound(s, ST_LO, 30000);
    struct sockaddr_in p = st_sin(ST_LO, 30000);
    assert_int_equal(ust_connect(s, m1, ST_SA(&p), sizeof(p)), 0);
    /* The connected peer always reaches m1 (its score is higher). */
    for (int i = 0; i < 5; i++)
        assert_int_equal(st_sendto(s, peer, "p", 1, ST_LO, PORT), 1);
    /* Everyone else reaches m0: m1 takes no strangers. */
    int others[16];
    for (int i = 0; i < 16; i++) {
        others[i] = st_udp_bound(s, ST_LO, (uint16_t)(31000 + i));
        assert_int_equal(st_sendto(s, others[i], "o", 1, ST_LO, PORT), 1);
    }
    st_pump(s);
    char c;
    int n0 = 0, n1 = 0;
    while (ust_recv(s, m0, &c, 1, MSG_DONTWAIT) == 1) {
        assert_int_equal(c, 'o');
        n0++;
    }
    while (ust_recv(s, m1, &c, 1, MSG_DONTWAIT) == 1) {
        assert_int_equal(c, 'p');
        n1++;
    }
    assert_int_equal(n0, 16);
    assert_int_equal(n1, 5);
    st_free(s);
}

/* ---- TCP listeners ------------------------------------------------------------ */

static int tcp_listener(struct tnet *n, int reuseport)
{
    int fd = tsock(n, n->b);
    if (reuseport)
        set_reuseport(n->b, fd, 1);
    struct sockaddr_in sb = tsin("10.0.0.2", 80);
    if (ust_bind(n->b, fd, (struct sockaddr *)&sb, sizeof(sb)) != 0) {
        int e = errno;
        ust_close(n->b, fd);
        errno = e;
        return -1;
    }
    SIM_ASSERT_EQ(n->seed, ust_listen(n->b, fd, 64), 0);
    return fd;
}

static void tcp_listeners_share_a_port_only_when_all_set_it(void **state)
{
    (void)state;
    struct tnet n;
    tnet_setup(&n, sim_test_seed(601), NULL);
    int l1 = tcp_listener(&n, 1);
    SIM_ASSERT(n.seed, l1 >= 0);
    SIM_ASSERT_EQ(n.seed, tcp_listener(&n, 0), -1);    /* without the option */
    SIM_ASSERT_EQ(n.seed, errno, EADDRINUSE);
    int l2 = tcp_listener(&n, 1);
    SIM_ASSERT(n.seed, l2 >= 0);
    SIM_ASSERT_EQ(n.seed, get_reuseport(n.b, l2), 1);
    ust_sim_free(n.sim);
}

static void tcp_connections_spread_over_listeners_each_accepted_once(void **state)
{
    (void)state;
    struct tnet n;
    tnet_setup(&n, sim_test_seed(602), NULL);
    int l[2] = { tcp_listener(&n, 1), tcp_listener(&n, 1) };
    SIM_ASSERT(n.seed, l[0] >= 0 && l[1] >= 0);
    enum { CONNS = 32 };
    int c[CONNS];
    struct sockaddr_in sb = tsin("10.0.0.2", 80);
    for (int i = 0; i < CONNS; i++) {
        c[i] = tsock(&n, n.a);
        int r = ust_connect(n.a, c[i], (struct sockaddr *)&sb, sizeof(sb));
        SIM_ASSERT(n.seed, r == -1 && errno == EINPROGRESS);
    }
    /* SYNs beyond ARP's 3-frame queue are retransmitted after 1 s. */
    tnet_run(&n, 5 * TSEC);
    int got[2] = { 0, 0 };
    uint16_t seen[CONNS];
    int nseen = 0;
    for (int k = 0; k < 2; k++) {
        struct sockaddr_in peer;
        socklen_t pl = sizeof(peer);
        int fd;
        while ((fd = ust_accept4(n.b, l[k], (struct sockaddr *)&peer, &pl, SOCK_NONBLOCK)) >= 0) {
            for (int j = 0; j < nseen; j++)
                SIM_ASSERT(n.seed, seen[j] != ntohs(peer.sin_port));     /* once */
            seen[nseen++] = ntohs(peer.sin_port);
            got[k]++;
            pl = sizeof(peer);
        }
        SIM_ASSERT_EQ(n.seed, errno, EAGAIN);
    }
    print_message("listener 0: %d, listener 1: %d\n", got[0], got[1]);
    SIM_ASSERT_EQ(n.seed, got[0] + got[1], CONNS);
    SIM_ASSERT(n.seed, got[0] >= 4 && got[1] >= 4);
    for (int i = 0; i < CONNS; i++)
        SIM_ASSERT_EQ(n.seed, tstate(n.a, c[i]), UST_TCP_ESTABLISHED);
    ust_sim_free(n.sim);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(udp_port_is_shared_only_when_every_socket_sets_it),
        cmocka_unit_test(udp_datagrams_spread_by_flow_and_a_flow_stays_on_its_socket),
        cmocka_unit_test(udp_connected_member_keeps_its_peer_and_is_not_picked_for_others),
        cmocka_unit_test(tcp_listeners_share_a_port_only_when_all_set_it),
        cmocka_unit_test(tcp_connections_spread_over_listeners_each_accepted_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
