/* Ping sockets (SOCK_DGRAM + IPPROTO_ICMP, as Linux) over loopback: an echo
 * request sent to 127.0.0.1 comes back as an echo reply with the socket's
 * identifier (whatever id the application wrote), the application's sequence
 * number and data, a valid checksum, and the source address; only echo
 * requests may be sent (EINVAL otherwise); each socket sees only replies to
 * its own identifier; bind chooses the identifier. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "wire/wire.h"
#include "unit/sock_test_util.h"

static int ping_socket(struct ust_stack *s)
{
    int fd = ust_socket(s, AF_INET, SOCK_DGRAM, IPPROTO_ICMP);
    assert_true(fd >= 0);
    return fd;
}

/* An echo request with id 0xdead (the stack replaces it) and seq. */
static size_t echo_request(uint8_t *p, uint16_t seq, size_t datalen)
{
    p[0] = 8;
    p[1] = 0;
    ust_put_be16(p + 2, 0x1234);    /* wrong checksum: the stack computes it */
    ust_put_be16(p + 4, 0xdead);
    ust_put_be16(p + 6, seq);
    st_fill(p + 8, datalen, seq);
    return 8 + datalen;
}

static void test_echo_to_loopback_comes_back(void **state)
{
    (void)state;
    struct ust_stack *s = st_stack();
    int fd = ping_socket(s);
    uint8_t req[64 + 8], rep[200];
    size_t n = echo_request(req, 7, 64);
    assert_int_equal(st_sendto(s, fd, req, n, ST_LO, 0), (ssize_t)n);
    uint16_t id = st_port(s, fd);
    assert_true(id != 0);
    st_pump(s);

    struct sockaddr_in from;
    socklen_t flen = sizeof(from);
    assert_int_equal(ust_recvfrom(s, fd, rep, sizeof(rep), 0, ST_SA(&from), &flen), (ssize_t)n);
    assert_int_equal(ntohl(from.sin_addr.s_addr), ST_LO);
    assert_int_equal(from.sin_port, 0);
    struct ust_icmp_hdr h;
    assert_int_equal(ust_icmp_parse(rep, n, &h), UST_ICMP_HLEN);   /* checksum verifies */
    assert_int_equal(h.type, UST_ICMP_ECHO_REPLY);
    assert_int_equal(h.code, 0);
    assert_int_equal(ust_icmp_echo_id(&h), id);
    assert_int_equal(ust_icmp_echo_seq(&h), 7);
    assert_memory_equal(rep + 8, req + 8, 64);
    assert_int_equal(ST_STAT(s, ICMP, OutEchos), 1);
    assert_int_equal(ST_STAT(s, ICMP, InEchoReps), 1);
    char b;
    st_fails(ust_recv(s, fd, &b, 1, 0), EAGAIN);
    st_free(s);
}

static void test_each_socket_gets_its_own_replies(void **state)
{
    (void)state;
    struct ust_stack *s = st_stack();
    int a = ping_socket(s), b = ping_socket(s);
    uint8_t req[16], rep[64];
    size_t n = echo_request(req, 1, 8);
    assert_int_equal(st_sendto(s, a, req, n, ST_LO, 0), (ssize_t)n);
    n = echo_request(req, 2, 8);
    assert_int_equal(st_sendto(s, b, req, n, ST_LO, 0), (ssize_t)n);
    n = echo_request(req, 3, 8);
    assert_int_equal(st_sendto(s, b, req, n, ST_LO, 0), (ssize_t)n);
    assert_true(st_port(s, a) != st_port(s, b));
    st_pump(s);
    struct ust_icmp_hdr h;
    assert_int_equal(ust_recv(s, a, rep, sizeof(rep), 0), 16);
    assert_int_equal(ust_icmp_parse(rep, 16, &h), UST_ICMP_HLEN);
    assert_int_equal(ust_icmp_echo_seq(&h), 1);
    st_fails(ust_recv(s, a, rep, sizeof(rep), 0), EAGAIN);
    for (uint16_t seq = 2; seq <= 3; seq++) {
        assert_int_equal(ust_recv(s, b, rep, sizeof(rep), 0), 16);
        assert_int_equal(ust_icmp_parse(rep, 16, &h), UST_ICMP_HLEN);
        assert_int_equal(ust_icmp_echo_seq(&h), seq);
        assert_int_equal(ust_icmp_echo_id(&h), st_port(s, b));
    }
    st_free(s);
}

static void test_bind_chooses_identifier_and_connect_sets_peer(void **state)
{
    (void)state;
    struct ust_stack *s = st_stack();
    int fd = ping_socket(s);
    struct sockaddr_in me = st_sin(ST_LO, 4321);
    assert_int_equal(ust_bind(s, fd, ST_SA(&me), sizeof(me)), 0);
    assert_int_equal(st_port(s, fd), 4321);
    int other = ping_socket(s);
    st_fails(ust_bind(s, other, ST_SA(&me), sizeof(me)), EADDRINUSE);
    /* A UDP socket has its own port space. */
    int udp = st_udp(s);
    assert_int_equal(ust_bind(s, udp, ST_SA(&me), sizeof(me)), 0);

    struct sockaddr_in to = st_sin(ST_LO, 0);
    assert_int_equal(ust_connect(s, fd, ST_SA(&to), sizeof(to)), 0);
    uint8_t req[16], rep[64];
    size_t n = echo_request(req, 9, 8);
    assert_int_equal(ust_send(s, fd, req, n, 0), (ssize_t)n);
    st_pump(s);
    assert_int_equal(ust_recv(s, fd, rep, sizeof(rep), 0), 16);
    struct ust_icmp_hdr h;
    assert_int_equal(ust_icmp_parse(rep, 16, &h), UST_ICMP_HLEN);
    assert_int_equal(ust_icmp_echo_id(&h), 4321);
    /* A connected ping socket has no peer port: getpeername says ENOTCONN
     * (as Linux). */
    struct sockaddr_in peer;
    socklen_t plen = sizeof(peer);
    st_fails(ust_getpeername(s, fd, ST_SA(&peer), &plen), ENOTCONN);
    st_free(s);
}

static void test_only_echo_requests_may_be_sent(void **state)
{
    (void)state;
    struct ust_stack *s = st_stack();
    int fd = ping_socket(s);
    uint8_t req[16];
    size_t n = echo_request(req, 1, 8);
    req[0] = 0;                 /* echo reply */
    st_fails(st_sendto(s, fd, req, n, ST_LO, 0), EINVAL);
    req[0] = 13;                /* timestamp */
    st_fails(st_sendto(s, fd, req, n, ST_LO, 0), EINVAL);
    req[0] = 8;
    req[1] = 1;                 /* code must be 0 */
    st_fails(st_sendto(s, fd, req, n, ST_LO, 0), EINVAL);
    req[1] = 0;
    st_fails(st_sendto(s, fd, req, 7, ST_LO, 0), EINVAL);     /* shorter than a header */
    st_fails(ust_send(s, fd, req, n, 0), EDESTADDRREQ);
    struct sockaddr_in to = st_sin(ST_LO, 0);
    to.sin_family = AF_UNSPEC;
    st_fails(ust_sendto(s, fd, req, n, 0, ST_SA(&to), sizeof(to)), EAFNOSUPPORT);
    assert_int_equal(st_sendto(s, fd, req, n, ST_LO, 0), (ssize_t)n);
    st_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_echo_to_loopback_comes_back),
        cmocka_unit_test(test_each_socket_gets_its_own_replies),
        cmocka_unit_test(test_bind_chooses_identifier_and_connect_sets_peer),
        cmocka_unit_test(test_only_echo_requests_may_be_sent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
