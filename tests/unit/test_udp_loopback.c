/* UDP sockets over the loopback interface, the stack driven by hand: data
 * comes out byte-exact (empty, small, 8000-byte and maximum 65507-byte
 * datagrams), one datagram per call with its source, MSG_PEEK and MSG_TRUNC
 * behave as on Linux, connect() filters other peers, an ICMP port
 * unreachable turns into ECONNREFUSED on a connected socket only, SO_RCVBUF
 * bounds the queue (drops counted, nothing else lost), broadcasts reach
 * every bound socket while unicast picks one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "unit/sock_test_util.h"

static void roundtrip(size_t len)
{
    struct ust_stack *s = st_stack();
    int rx = st_udp_bound(s, ST_LO, 5000);
    int tx = st_udp(s);
    uint8_t *out = malloc(len + 1), *in = malloc(len + 16);
    assert_non_null(out);
    assert_non_null(in);
    st_fill(out, len, (unsigned)len);

    assert_int_equal(st_sendto(s, tx, out, len, ST_LO, 5000), (ssize_t)len);
    st_pump(s);
    struct sockaddr_in from;
    socklen_t flen = sizeof(from);
    memset(in, 0xaa, len + 16);
    assert_int_equal(ust_recvfrom(s, rx, in, len + 16, 0, ST_SA(&from), &flen), (ssize_t)len);
    assert_memory_equal(in, out, len);
    assert_int_equal(in[len], 0xaa);        /* nothing written past the datagram */
    assert_int_equal(flen, sizeof(from));
    assert_int_equal(from.sin_family, AF_INET);
    assert_int_equal(ntohl(from.sin_addr.s_addr), ST_LO);
    assert_int_equal(ntohs(from.sin_port), st_port(s, tx));
    assert_int_equal(ST_STAT(s, UDP, InDatagrams), 1);
    assert_int_equal(ST_STAT(s, UDP, OutDatagrams), 1);

    free(out);
    free(in);
    st_free(s);
}

static void test_empty_datagram_roundtrip(void **state) { (void)state; roundtrip(0); }
static void test_small_datagram_roundtrip(void **state) { (void)state; roundtrip(100); }
static void test_8000_byte_datagram_roundtrip(void **state) { (void)state; roundtrip(8000); }
static void test_max_65507_byte_datagram_roundtrip(void **state) { (void)state; roundtrip(65507); }

static void test_one_datagram_per_call_in_order(void **state)
{
    (void)state;
    struct ust_stack *s = st_stack();
    int rx = st_udp_bound(s, ST_LO, 5000);
    int tx = st_udp(s);
    for (unsigned i = 0; i < 10; i++) {
        uint8_t b[64];
        memset(b, (int)i, sizeof(b));
        assert_int_equal(st_sendto(s, tx, b, 10 + i, ST_LO, 5000), 10 + i);
    }
    st_pump(s);
    for (unsigned i = 0; i < 10; i++) {
        uint8_t b[64];
        assert_int_equal(ust_recv(s, rx, b, sizeof(b), 0), 10 + i);
        assert_int_equal(b[0], i);
        assert_int_equal(b[9 + i], i);
    }
    char b;
    st_fails(ust_recv(s, rx, &b, 1, MSG_DONTWAIT), EAGAIN);
    st_free(s);
}

static void test_peek_leaves_datagram_queued(void **state)
{
    (void)state;
    struct ust_stack *s = st_stack();
    int rx = st_udp_bound(s, ST_LO, 5000);
    int tx = st_udp(s);
    assert_int_equal(st_sendto(s, tx, "first", 5, ST_LO, 5000), 5);
    assert_int_equal(st_sendto(s, tx, "second", 6, ST_LO, 5000), 6);
    st_pump(s);
    char b[16];
    struct sockaddr_in from;
    socklen_t flen = sizeof(from);
    assert_int_equal(ust_recvfrom(s, rx, b, sizeof(b), MSG_PEEK, ST_SA(&from), &flen), 5);
    assert_memory_equal(b, "first", 5);
    assert_int_equal(ntohs(from.sin_port), st_port(s, tx));
    /* A short peek copies a prefix and still leaves the datagram. */
    assert_int_equal(ust_recv(s, rx, b, 2, MSG_PEEK), 2);
    assert_int_equal(ust_recv(s, rx, b, sizeof(b), 0), 5);
    assert_memory_equal(b, "first", 5);
    assert_int_equal(ust_recv(s, rx, b, sizeof(b), 0), 6);
    assert_memory_equal(b, "second", 6);
    st_free(s);
}

static void test_truncation_discards_rest_and_msg_trunc_reports_real_length(void **state)
{
    (void)state;
    struct ust_stack *s = st_stack();
    int rx = st_udp_bound(s, ST_LO, 5000);
    int tx = st_udp(s);
    uint8_t out[1000];
    st_fill(out, sizeof(out), 1);
    for (int i = 0; i < 3; i++)
        assert_int_equal(st_sendto(s, tx, out, sizeof(out), ST_LO, 5000), 1000);
    st_pump(s);

    uint8_t b[100];
    /* Without MSG_TRUNC: the bytes copied; the rest of the datagram is gone. */
    assert_int_equal(ust_recv(s, rx, b, sizeof(b), 0), 100);
    assert_memory_equal(b, out, 100);
    /* With MSG_TRUNC: the datagram's real length, still one datagram. */
    assert_int_equal(ust_recv(s, rx, b, sizeof(b), MSG_TRUNC), 1000);
    assert_memory_equal(b, out, 100);
    /* MSG_PEEK|MSG_TRUNC with no buffer: the size of the next datagram. */
    assert_int_equal(ust_recv(s, rx, NULL, 0, MSG_PEEK | MSG_TRUNC), 1000);
    assert_int_equal(ust_recv(s, rx, b, sizeof(b), 0), 100);
    st_fails(ust_recv(s, rx, b, sizeof(b), MSG_DONTWAIT), EAGAIN);
    st_free(s);
}

static void test_connect_filters_other_senders(void **state)
{
    (void)state;
    struct ust_stack *s = st_stack();
    int rx = st_udp_bound(s, ST_LO, 5000);
    int peer = st_udp_bound(s, ST_LO, 6000);
    int other = st_udp_bound(s, ST_LO, 6001);
    struct sockaddr_in p = st_sin(ST_LO, 6000);
    assert_int_equal(ust_connect(s, rx, ST_SA(&p), sizeof(p)), 0);

    assert_int_equal(st_sendto(s, other, "x", 1, ST_LO, 5000), 1);
    assert_int_equal(st_sendto(s, peer, "y", 1, ST_LO, 5000), 1);
    st_pump(s);
    char b[4];
    struct sockaddr_in from;
    socklen_t flen = sizeof(from);
    assert_int_equal(ust_recvfrom(s, rx, b, sizeof(b), 0, ST_SA(&from), &flen), 1);
    assert_int_equal(b[0], 'y');
    assert_int_equal(ntohs(from.sin_port), 6000);
    st_fails(ust_recv(s, rx, b, sizeof(b), 0), EAGAIN);

    /* send() goes to the connected peer; sendto() with an address is
     * allowed on a connected UDP socket (Linux). */
    assert_int_equal(ust_send(s, rx, "z", 1, 0), 1);
    assert_int_equal(st_sendto(s, rx, "w", 1, ST_LO, 6001), 1);
    st_pump(s);
    assert_int_equal(ust_recv(s, peer, b, sizeof(b), 0), 1);
    assert_int_equal(b[0], 'z');
    assert_int_equal(ust_recv(s, other, b, sizeof(b), 0), 1);
    assert_int_equal(b[0], 'w');

    /* AF_UNSPEC dissolves the association: everyone gets through again. */
    struct sockaddr unspec = { .sa_family = AF_UNSPEC };
    assert_int_equal(ust_connect(s, rx, &unspec, sizeof(unspec)), 0);
    assert_int_equal(st_sendto(s, other, "v", 1, ST_LO, 5000), 1);
    st_pump(s);
    assert_int_equal(ust_recv(s, rx, b, sizeof(b), 0), 1);
    assert_int_equal(b[0], 'v');
    st_fails(ust_send(s, rx, "u", 1, 0), EDESTADDRREQ);
    st_free(s);
}

static void test_port_unreachable_gives_econnrefused_on_connected_socket(void **state)
{
    (void)state;
    struct ust_stack *s = st_stack();
    int fd = st_udp(s);
    struct sockaddr_in closed = st_sin(ST_LO, 7777);    /* nobody there */
    assert_int_equal(ust_connect(s, fd, ST_SA(&closed), sizeof(closed)), 0);
    assert_int_equal(ust_send(s, fd, "ping", 4, 0), 4);
    st_pump(s);
    assert_int_equal(ST_STAT(s, UDP, NoPorts), 1);
    assert_int_equal(ST_STAT(s, ICMP, OutDestUnreachs), 1);

    /* The error is reported once, by the next call, then cleared. */
    char b[8];
    st_fails(ust_recv(s, fd, b, sizeof(b), 0), ECONNREFUSED);
    st_fails(ust_recv(s, fd, b, sizeof(b), 0), EAGAIN);

    /* Same through send() and through SO_ERROR. */
    assert_int_equal(ust_send(s, fd, "ping", 4, 0), 4);
    st_pump(s);
    st_fails(ust_send(s, fd, "ping", 4, 0), ECONNREFUSED);
    assert_int_equal(ust_send(s, fd, "ping", 4, 0), 4);
    st_pump(s);
    int err = -1;
    socklen_t len = sizeof(err);
    assert_int_equal(ust_getsockopt(s, fd, SOL_SOCKET, SO_ERROR, &err, &len), 0);
    assert_int_equal(err, ECONNREFUSED);
    assert_int_equal(ust_getsockopt(s, fd, SOL_SOCKET, SO_ERROR, &err, &len), 0);
    assert_int_equal(err, 0);
    st_free(s);
}

static void test_port_unreachable_ignored_by_unconnected_socket(void **state)
{
    (void)state;
    struct ust_stack *s = st_stack();
    int fd = st_udp(s);
    assert_int_equal(st_sendto(s, fd, "ping", 4, ST_LO, 7777), 4);
    st_pump(s);
    assert_int_equal(ST_STAT(s, ICMP, OutDestUnreachs), 1);
    char b[8];
    st_fails(ust_recv(s, fd, b, sizeof(b), 0), EAGAIN);
    assert_int_equal(st_sendto(s, fd, "ping", 4, ST_LO, 7777), 4);
    int err = -1;
    socklen_t len = sizeof(err);
    assert_int_equal(ust_getsockopt(s, fd, SOL_SOCKET, SO_ERROR, &err, &len), 0);
    assert_int_equal(err, 0);
    st_free(s);
}

/* Sends n datagrams of 100 bytes numbered from first, pumping as it goes
 * (the loopback queue has its own bound). */
static void send_numbered(struct ust_stack *s, int tx, unsigned first, unsigned n)
{
    for (unsigned i = first; i < first + n; i++) {
        uint8_t b[100];
        memset(b, 0, sizeof(b));
        memcpy(b, &i, sizeof(i));
        assert_int_equal(st_sendto(s, tx, b, sizeof(b), ST_LO, 5000), 100);
        if (i % 16 == 15)
            st_pump(s);
    }
    st_pump(s);
}

static void test_rcvbuf_full_drops_and_counts_newest_only(void **state)
{
    (void)state;
    struct ust_stack *s = st_stack();
    int rx = st_udp_bound(s, ST_LO, 5000);
    int tx = st_udp(s);
    int v = 4096;       /* becomes 8192: a few datagrams' truesize */
    assert_int_equal(ust_setsockopt(s, rx, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v)), 0);

    send_numbered(s, tx, 0, 100);
    uint64_t dropped = ST_STAT(s, UDP, RcvbufErrors);
    assert_true(dropped > 0);
    assert_true(dropped < 100);
    assert_int_equal(ST_STAT(s, UDP, InErrors), dropped);

    /* What was queued is the oldest datagrams, in order, without gaps. */
    unsigned got = 0;
    uint8_t b[200];
    while (ust_recv(s, rx, b, sizeof(b), MSG_DONTWAIT) == 100) {
        unsigned seq;
        memcpy(&seq, b, sizeof(seq));
        assert_int_equal(seq, got);
        got++;
    }
    assert_int_equal(errno, EAGAIN);
    assert_int_equal(got + dropped, 100);

    /* Once drained, the socket takes datagrams again. */
    send_numbered(s, tx, 1000, 1);
    assert_int_equal(ust_recv(s, rx, b, sizeof(b), 0), 100);
    unsigned seq;
    memcpy(&seq, b, sizeof(seq));
    assert_int_equal(seq, 1000);
    assert_int_equal(ST_STAT(s, UDP, RcvbufErrors), dropped);
    st_free(s);
}

static void test_unicast_goes_to_newest_reuseaddr_socket_broadcast_to_all(void **state)
{
    (void)state;
    struct ust_stack *s = st_stack();
    int one = 1;
    int a = st_udp(s), b = st_udp(s);
    struct sockaddr_in any = st_sin(0, 5353);
    for (int i = 0; i < 2; i++) {
        int fd = i ? b : a;
        assert_int_equal(ust_setsockopt(s, fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
        assert_int_equal(ust_bind(s, fd, ST_SA(&any), sizeof(any)), 0);
    }
    int tx = st_udp(s);
    char buf[8];

    assert_int_equal(st_sendto(s, tx, "uni", 3, ST_LO, 5353), 3);
    st_pump(s);
    assert_int_equal(ust_recv(s, b, buf, sizeof(buf), 0), 3);
    st_fails(ust_recv(s, a, buf, sizeof(buf), 0), EAGAIN);

    /* Broadcast needs SO_BROADCAST on the sender... */
    st_fails(st_sendto(s, tx, "bc", 2, 0x7fffffffu, 5353), EACCES);
    assert_int_equal(ust_setsockopt(s, tx, SOL_SOCKET, SO_BROADCAST, &one, sizeof(one)), 0);
    /* ...and then reaches every socket bound to the port. */
    assert_int_equal(st_sendto(s, tx, "bc", 2, 0x7fffffffu, 5353), 2);
    st_pump(s);
    assert_int_equal(ust_recv(s, a, buf, sizeof(buf), 0), 2);
    assert_memory_equal(buf, "bc", 2);
    assert_int_equal(ust_recv(s, b, buf, sizeof(buf), 0), 2);
    assert_memory_equal(buf, "bc", 2);
    /* A broadcast nobody listens to is dropped without an ICMP error. */
    assert_int_equal(st_sendto(s, tx, "bc", 2, 0x7fffffffu, 5354), 2);
    st_pump(s);
    assert_int_equal(ST_STAT(s, ICMP, OutDestUnreachs), 0);
    st_free(s);
}

static void test_specific_address_beats_wildcard(void **state)
{
    (void)state;
    struct ust_stack *s = st_stack();
    int one = 1;
    int wild = st_udp(s), spec = st_udp(s);
    assert_int_equal(ust_setsockopt(s, wild, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
    assert_int_equal(ust_setsockopt(s, spec, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
    struct sockaddr_in a1 = st_sin(ST_LO, 5000), a0 = st_sin(0, 5000);
    assert_int_equal(ust_bind(s, spec, ST_SA(&a1), sizeof(a1)), 0);
    assert_int_equal(ust_bind(s, wild, ST_SA(&a0), sizeof(a0)), 0);   /* newer */
    int tx = st_udp(s);
    char buf[4];
    assert_int_equal(st_sendto(s, tx, "a", 1, ST_LO, 5000), 1);
    assert_int_equal(st_sendto(s, tx, "b", 1, 0x7f000002u, 5000), 1);
    st_pump(s);
    assert_int_equal(ust_recv(s, spec, buf, sizeof(buf), 0), 1);
    assert_int_equal(buf[0], 'a');
    assert_int_equal(ust_recv(s, wild, buf, sizeof(buf), 0), 1);
    assert_int_equal(buf[0], 'b');
    st_fails(ust_recv(s, spec, buf, sizeof(buf), 0), EAGAIN);
    st_free(s);
}

static void test_close_frees_queued_datagrams_and_port(void **state)
{
    (void)state;
    struct ust_stack *s = st_stack();
    size_t base = s->fbpool.in_use_bytes;
    int rx = st_udp_bound(s, ST_LO, 5000);
    int tx = st_udp(s);
    for (int i = 0; i < 5; i++)
        assert_int_equal(st_sendto(s, tx, "data", 4, ST_LO, 5000), 4);
    st_pump(s);
    assert_true(s->fbpool.in_use_bytes > base);
    assert_int_equal(ust_close(s, rx), 0);
    assert_int_equal(s->fbpool.in_use_bytes, base);
    /* The port is free again; datagrams to it now bounce. */
    int again = st_udp_bound(s, ST_LO, 5000);
    assert_int_equal(ust_close(s, again), 0);
    assert_int_equal(st_sendto(s, tx, "data", 4, ST_LO, 5000), 4);
    st_pump(s);
    assert_int_equal(ST_STAT(s, UDP, NoPorts), 1);
    st_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_datagram_roundtrip),
        cmocka_unit_test(test_small_datagram_roundtrip),
        cmocka_unit_test(test_8000_byte_datagram_roundtrip),
        cmocka_unit_test(test_max_65507_byte_datagram_roundtrip),
        cmocka_unit_test(test_one_datagram_per_call_in_order),
        cmocka_unit_test(test_peek_leaves_datagram_queued),
        cmocka_unit_test(test_truncation_discards_rest_and_msg_trunc_reports_real_length),
        cmocka_unit_test(test_connect_filters_other_senders),
        cmocka_unit_test(test_port_unreachable_gives_econnrefused_on_connected_socket),
        cmocka_unit_test(test_port_unreachable_ignored_by_unconnected_socket),
        cmocka_unit_test(test_rcvbuf_full_drops_and_counts_newest_only),
        cmocka_unit_test(test_unicast_goes_to_newest_reuseaddr_socket_broadcast_to_all),
        cmocka_unit_test(test_specific_address_beats_wildcard),
        cmocka_unit_test(test_close_frees_queued_datagrams_and_port),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
