/* UDP bind, connect and names with Linux's rules: EADDRINUSE unless both
 * sockets set SO_REUSEADDR (a wildcard overlaps every address, distinct
 * addresses do not), EADDRNOTAVAIL for an address that is not ours, EINVAL
 * for a second bind, ephemeral ports inside ip_local_port_range for bind(0),
 * sendto and connect (EAGAIN / EADDRINUSE once the range is exhausted),
 * getsockname/getpeername, and what connect(AF_UNSPEC) gives back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "unit/sock_test_util.h"

static int bind_to(struct ust_stack *s, int fd, uint32_t addr, uint16_t port)
{
    struct sockaddr_in sin = st_sin(addr, port);
    return ust_bind(s, fd, ST_SA(&sin), sizeof(sin));
}

static void set_reuse(struct ust_stack *s, int fd)
{
    int one = 1;
    assert_int_equal(ust_setsockopt(s, fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
}

static void test_same_port_conflicts_unless_both_reuseaddr(void **state)
{
    (void)state;
    struct ust_stack *s = st_stack();
    int a = st_udp(s), b = st_udp(s), c = st_udp(s);
    assert_int_equal(bind_to(s, a, ST_LO, 5000), 0);
    st_fails(bind_to(s, b, ST_LO, 5000), EADDRINUSE);
    /* Only one side asking is not enough. */
    set_reuse(s, b);
    st_fails(bind_to(s, b, ST_LO, 5000), EADDRINUSE);
    set_reuse(s, a);
    assert_int_equal(bind_to(s, b, ST_LO, 5000), 0);
    /* A wildcard overlaps the specific address too. */
    st_fails(bind_to(s, c, 0, 5000), EADDRINUSE);
    set_reuse(s, c);
    assert_int_equal(bind_to(s, c, 0, 5000), 0);
    st_free(s);
}

static void test_wildcard_and_distinct_addresses(void **state)
{
    (void)state;
    struct ust_stack *s = st_stack();
    int a = st_udp(s), b = st_udp(s), c = st_udp(s);
    assert_int_equal(bind_to(s, a, 0, 6000), 0);
    st_fails(bind_to(s, b, ST_LO, 6000), EADDRINUSE);
    /* Two distinct specific addresses share a port without any option. */
    assert_int_equal(bind_to(s, b, ST_LO, 6001), 0);
    assert_int_equal(bind_to(s, c, 0x7f000002u, 6001), 0);
    /* The port is free again once the socket is closed. */
    assert_int_equal(ust_close(s, a), 0);
    int d = st_udp(s);
    assert_int_equal(bind_to(s, d, ST_LO, 6000), 0);
    st_free(s);
}

static void test_bind_errors(void **state)
{
    (void)state;
    struct ust_stack *s = st_stack();
    int fd = st_udp(s);
    st_fails(bind_to(s, fd, 0x0a000001u, 5000), EADDRNOTAVAIL);   /* 10.0.0.1: not ours */
    struct sockaddr_in sin = st_sin(ST_LO, 5000);
    st_fails(ust_bind(s, fd, ST_SA(&sin), sizeof(sin) - 1), EINVAL);
    sin.sin_family = AF_INET6;
    st_fails(ust_bind(s, fd, ST_SA(&sin), sizeof(sin)), EAFNOSUPPORT);
    /* AF_UNSPEC passes only with INADDR_ANY (Linux's compatibility rule). */
    sin.sin_family = AF_UNSPEC;
    st_fails(ust_bind(s, fd, ST_SA(&sin), sizeof(sin)), EAFNOSUPPORT);
    struct sockaddr_in any = st_sin(0, 5000);
    any.sin_family = AF_UNSPEC;
    assert_int_equal(ust_bind(s, fd, ST_SA(&any), sizeof(any)), 0);
    /* A second bind. */
    st_fails(bind_to(s, fd, ST_LO, 5001), EINVAL);
    st_fails(ust_bind(s, fd, NULL, sizeof(sin)), EFAULT);
    st_fails(ust_bind(s, 999, ST_SA(&sin), sizeof(sin)), EBADF);
    st_free(s);
}

static void test_names_before_and_after_bind_and_connect(void **state)
{
    (void)state;
    struct ust_stack *s = st_stack();
    int fd = st_udp(s);
    struct sockaddr_in n = st_name(s, fd);
    assert_int_equal(n.sin_family, AF_INET);
    assert_int_equal(n.sin_addr.s_addr, 0);
    assert_int_equal(n.sin_port, 0);
    struct sockaddr_in peer;
    socklen_t plen = sizeof(peer);
    st_fails(ust_getpeername(s, fd, ST_SA(&peer), &plen), ENOTCONN);

    assert_int_equal(bind_to(s, fd, 0, 5000), 0);
    n = st_name(s, fd);
    assert_int_equal(n.sin_addr.s_addr, 0);
    assert_int_equal(ntohs(n.sin_port), 5000);

    /* connect fills in the local address from the route. */
    struct sockaddr_in to = st_sin(0x7f000005u, 9);
    assert_int_equal(ust_connect(s, fd, ST_SA(&to), sizeof(to)), 0);
    n = st_name(s, fd);
    assert_int_equal(ntohl(n.sin_addr.s_addr), ST_LO);
    assert_int_equal(ntohs(n.sin_port), 5000);
    plen = sizeof(peer);
    assert_int_equal(ust_getpeername(s, fd, ST_SA(&peer), &plen), 0);
    assert_int_equal(plen, sizeof(peer));
    assert_int_equal(ntohl(peer.sin_addr.s_addr), 0x7f000005u);
    assert_int_equal(ntohs(peer.sin_port), 9);

    /* A short buffer gets a prefix; the length says the full size. */
    uint8_t small[4];
    socklen_t slen = sizeof(small);
    assert_int_equal(ust_getsockname(s, fd, (struct sockaddr *)small, &slen), 0);
    assert_int_equal(slen, sizeof(struct sockaddr_in));
    uint16_t fam;
    memcpy(&fam, small, sizeof(fam));
    assert_int_equal(fam, AF_INET);

    /* AF_UNSPEC: the peer goes, and the address connect chose; the port
     * bind chose stays. */
    struct sockaddr unspec = { .sa_family = AF_UNSPEC };
    assert_int_equal(ust_connect(s, fd, &unspec, sizeof(unspec)), 0);
    plen = sizeof(peer);
    st_fails(ust_getpeername(s, fd, ST_SA(&peer), &plen), ENOTCONN);
    n = st_name(s, fd);
    assert_int_equal(n.sin_addr.s_addr, 0);
    assert_int_equal(ntohs(n.sin_port), 5000);
    st_fails(ust_getsockname(s, fd, NULL, &slen), EFAULT);
    st_free(s);
}

static void test_disconnect_releases_autobound_port(void **state)
{
    (void)state;
    struct ust_stack *s = st_stack();
    int fd = st_udp(s);
    struct sockaddr_in to = st_sin(ST_LO, 9);
    assert_int_equal(ust_connect(s, fd, ST_SA(&to), sizeof(to)), 0);
    assert_true(st_port(s, fd) != 0);
    struct sockaddr unspec = { .sa_family = AF_UNSPEC };
    assert_int_equal(ust_connect(s, fd, &unspec, sizeof(unspec)), 0);
    assert_int_equal(st_port(s, fd), 0);      /* Linux __udp_disconnect */
    /* Now unbound, it may be bound again. */
    assert_int_equal(bind_to(s, fd, ST_LO, 5000), 0);
    st_free(s);
}

static struct ust_stack *narrow_range_stack(uint16_t lo, uint16_t hi)
{
    struct ust_stack_config c;
    ust_stack_config_init(&c);
    c.ephemeral_lo = lo;
    c.ephemeral_hi = hi;
    return st_stack_cfg(&c);
}

static void test_ephemeral_ports_stay_in_range_and_run_out(void **state)
{
    (void)state;
    struct ust_stack *s = narrow_range_stack(40000, 40003);
    bool seen[4] = { false };
    int fds[4];
    /* Each way of getting an ephemeral port: bind(0), sendto, connect. */
    fds[0] = st_udp(s);
    assert_int_equal(bind_to(s, fds[0], 0, 0), 0);
    fds[1] = st_udp(s);
    assert_int_equal(st_sendto(s, fds[1], "x", 1, ST_LO, 9), 1);
    fds[2] = st_udp(s);
    struct sockaddr_in to = st_sin(ST_LO, 9);
    assert_int_equal(ust_connect(s, fds[2], ST_SA(&to), sizeof(to)), 0);
    fds[3] = st_udp(s);
    assert_int_equal(bind_to(s, fds[3], ST_LO, 0), 0);
    for (int i = 0; i < 4; i++) {
        uint16_t p = st_port(s, fds[i]);
        assert_in_range(p, 40000, 40003);
        assert_false(seen[p - 40000]);
        seen[p - 40000] = true;
    }
    /* The range is exhausted: bind(0) says EADDRINUSE, autobind EAGAIN. */
    int e = st_udp(s);
    st_fails(bind_to(s, e, 0, 0), EADDRINUSE);
    st_fails(st_sendto(s, e, "x", 1, ST_LO, 9), EAGAIN);
    st_fails(ust_connect(s, e, ST_SA(&to), sizeof(to)), EAGAIN);
    /* A fixed port outside the range still works. */
    assert_int_equal(bind_to(s, e, 0, 50000), 0);
    /* Closing one frees its port for the next. */
    assert_int_equal(ust_close(s, fds[2]), 0);
    int f = st_udp(s);
    assert_int_equal(bind_to(s, f, 0, 0), 0);
    assert_in_range(st_port(s, f), 40000, 40003);
    st_free(s);
}

static void test_ephemeral_ports_are_spread(void **state)
{
    (void)state;
    struct ust_stack *s = st_stack();
    /* Random starting points: 8 sockets do not get 8 consecutive ports. */
    uint16_t p[8];
    bool consecutive = true;
    for (int i = 0; i < 8; i++) {
        int fd = st_udp(s);
        assert_int_equal(bind_to(s, fd, 0, 0), 0);
        p[i] = st_port(s, fd);
        assert_in_range(p[i], 32768, 60999);
        if (i > 0 && p[i] != p[i - 1] + 1)
            consecutive = false;
    }
    assert_false(consecutive);
    st_free(s);
}

static void test_connect_errors(void **state)
{
    (void)state;
    struct ust_stack *s = st_stack();
    int fd = st_udp(s);
    struct sockaddr_in to = st_sin(ST_LO, 9);
    st_fails(ust_connect(s, fd, ST_SA(&to), sizeof(to) - 1), EINVAL);
    st_fails(ust_connect(s, fd, ST_SA(&to), 1), EINVAL);
    to.sin_family = AF_INET6;
    st_fails(ust_connect(s, fd, ST_SA(&to), sizeof(to)), EAFNOSUPPORT);
    struct sockaddr_in far = st_sin(0x08080808u, 53);   /* no route: only lo exists */
    st_fails(ust_connect(s, fd, ST_SA(&far), sizeof(far)), ENETUNREACH);
    st_fails(st_sendto(s, fd, "x", 1, 0x08080808u, 53), ENETUNREACH);
    struct sockaddr_in bc = st_sin(0x7fffffffu, 53);
    st_fails(ust_connect(s, fd, ST_SA(&bc), sizeof(bc)), EACCES);
    st_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_port_conflicts_unless_both_reuseaddr),
        cmocka_unit_test(test_wildcard_and_distinct_addresses),
        cmocka_unit_test(test_bind_errors),
        cmocka_unit_test(test_names_before_and_after_bind_and_connect),
        cmocka_unit_test(test_disconnect_releases_autobound_port),
        cmocka_unit_test(test_ephemeral_ports_stay_in_range_and_run_out),
        cmocka_unit_test(test_ephemeral_ports_are_spread),
        cmocka_unit_test(test_connect_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
