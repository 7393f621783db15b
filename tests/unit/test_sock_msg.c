/* ust_sendmsg / ust_recvmsg and ust_readv / ust_writev, as Linux's:
 * - UDP: pieces of odd lengths gather into one datagram whose checksum is
 *   right on the wire (pieces at odd offsets), recvmsg scatters it, fills
 *   msg_name/msg_namelen, sets msg_controllen to 0, reports MSG_TRUNC in
 *   msg_flags when the buffers were short (and with the MSG_TRUNC flag
 *   returns the real length); MSG_PEEK and MSG_DONTWAIT work through it;
 *   MSG_MORE gathers several sends into one datagram (Linux corking);
 * - the msghdr checks: more than 1024 pieces EMSGSIZE, a negative piece
 *   length EINVAL, a NULL list with a length EFAULT, a name longer than
 *   sockaddr_storage cut down, msg_name NULL leaving msg_namelen alone;
 * - ping sockets take an echo request whose header is split over pieces;
 * - TCP: a gathered send arrives byte-exact, a scattered receive fills the
 *   pieces in order, MSG_PEEK over several pieces sees the same bytes the
 *   next read takes, msg_namelen is 0;
 * - readv/writev on a socket and on a pipe (one atomic write). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "unit/sock_test_util.h"
#include "unit/sim_test_util.h"
#include "unit/tcp_test_util.h"
#include "wire/wire.h"

static struct msghdr msg_of(struct iovec *iov, size_t n, struct sockaddr_in *name)
{
    struct msghdr m;
    memset(&m, 0, sizeof(m));
    m.msg_iov = iov;
    m.msg_iovlen = n;
    if (name) {
        m.msg_name = name;
        m.msg_namelen = sizeof(*name);
    }
    return m;
}

/* ---- UDP over loopback ------------------------------------------------------- */

static void udp_pieces_gather_into_one_datagram_and_scatter_back(void **state)
{
    (void)state;
    struct ust_stack *s = st_stack();
    int rx = st_udp_bound(s, ST_LO, 5000);
    int tx = st_udp(s);
    uint8_t data[27];
    st_fill(data, sizeof(data), 3);
    struct iovec out[4] = { { data, 3 }, { NULL, 0 }, { data + 3, 5 }, { data + 8, 19 } };
    struct sockaddr_in to = st_sin(ST_LO, 5000);
    struct msghdr m = msg_of(out, 4, &to);
    assert_int_equal(ust_sendmsg(s, tx, &m, 0), 27);
    st_pump(s);

    uint8_t a[10], b[17];
    memset(a, 0xee, sizeof(a));
    memset(b, 0xee, sizeof(b));
    struct iovec in[2] = { { a, 10 }, { b, 17 } };
    struct sockaddr_in from;
    memset(&from, 0, sizeof(from));
    uint8_t ctl[64];
    struct msghdr r = msg_of(in, 2, &from);
    r.msg_control = ctl;
    r.msg_controllen = sizeof(ctl);
    r.msg_flags = -1;
    assert_int_equal(ust_recvmsg(s, rx, &r, 0), 27);
    assert_memory_equal(a, data, 10);
    assert_memory_equal(b, data + 10, 17);
    assert_int_equal(r.msg_flags, 0);
    assert_int_equal(r.msg_controllen, 0);      /* no control messages exist */
    assert_int_equal(r.msg_namelen, sizeof(from));
    assert_int_equal(ntohl(from.sin_addr.s_addr), ST_LO);
    assert_int_equal(ntohs(from.sin_port), st_port(s, tx));
    st_free(s);
}

static void udp_short_buffers_set_msg_trunc_and_the_flag_gives_the_real_length(void **state)
{
    (void)state;
    struct ust_stack *s = st_stack();
    int rx = st_udp_bound(s, ST_LO, 5000);
    int tx = st_udp(s);
    uint8_t data[100];
    st_fill(data, sizeof(data), 9);
    for (int i = 0; i < 3; i++)
        assert_int_equal(st_sendto(s, tx, data, sizeof(data), ST_LO, 5000), 100);
    st_pump(s);

    uint8_t a[8], b[12];
    struct iovec in[2] = { { a, 8 }, { b, 12 } };
    /* Peek: the datagram stays, but the flag still says it was cut. */
    struct msghdr r = msg_of(in, 2, NULL);
    assert_int_equal(ust_recvmsg(s, rx, &r, MSG_PEEK), 20);
    assert_int_equal(r.msg_flags, MSG_TRUNC);
    /* Take it: 20 bytes, the rest discarded, MSG_TRUNC. */
    r = msg_of(in, 2, NULL);
    assert_int_equal(ust_recvmsg(s, rx, &r, 0), 20);
    assert_int_equal(r.msg_flags, MSG_TRUNC);
    assert_memory_equal(a, data, 8);
    assert_memory_equal(b, data + 8, 12);
    /* With MSG_TRUNC in: the real length comes back. */
    r = msg_of(in, 2, NULL);
    assert_int_equal(ust_recvmsg(s, rx, &r, MSG_TRUNC), 100);
    assert_int_equal(r.msg_flags, MSG_TRUNC);
    /* A buffer that fits: no flag. */
    uint8_t big[200];
    struct iovec one = { big, sizeof(big) };
    r = msg_of(&one, 1, NULL);
    assert_int_equal(ust_recvmsg(s, rx, &r, 0), 100);
    assert_int_equal(r.msg_flags, 0);
    /* Empty now. */
    r = msg_of(&one, 1, NULL);
    st_fails(ust_recvmsg(s, rx, &r, MSG_DONTWAIT), EAGAIN);
    st_free(s);
}

static void udp_msg_more_gathers_sends_into_one_datagram(void **state)
{
    (void)state;
    struct ust_stack *s = st_stack();
    int rx = st_udp_bound(s, ST_LO, 5000);
    int other = st_udp_bound(s, ST_LO, 5001);
    int tx = st_udp(s);
    assert_int_equal(st_sendto(s, tx, "ab", 2, ST_LO, 5000), 2);    /* plain: its own */
    struct sockaddr_in to = st_sin(ST_LO, 5000), to2 = st_sin(ST_LO, 5001);
    assert_int_equal(ust_sendto(s, tx, "12", 2, MSG_MORE, ST_SA(&to), sizeof(to)), 2);
    /* While pending, a send's address is ignored (Linux up->pending). */
    assert_int_equal(ust_sendto(s, tx, "345", 3, MSG_MORE, ST_SA(&to2), sizeof(to2)), 3);
    st_pump(s);
    char b[64];
    assert_int_equal(ust_recv(s, rx, b, sizeof(b), MSG_DONTWAIT), 2);   /* only "ab" */
    st_fails(ust_recv(s, rx, b, sizeof(b), MSG_DONTWAIT), EAGAIN);
    struct iovec last[2] = { { "6", 1 }, { "789", 3 } };
    struct msghdr m = msg_of(last, 2, &to2);
    assert_int_equal(ust_sendmsg(s, tx, &m, 0), 4);
    st_pump(s);
    assert_int_equal(ust_recv(s, rx, b, sizeof(b), MSG_DONTWAIT), 9);
    assert_memory_equal(b, "123456789", 9);
    st_fails(ust_recv(s, other, b, sizeof(b), MSG_DONTWAIT), EAGAIN);
    assert_int_equal(ST_STAT(s, UDP, OutDatagrams), 2);
    /* Past 65507 bytes in total: EMSGSIZE and the pending datagram goes. */
    static uint8_t big[40000];
    assert_int_equal(ust_sendto(s, tx, big, sizeof(big), MSG_MORE, ST_SA(&to), sizeof(to)),
                     (ssize_t)sizeof(big));
    st_fails(ust_sendto(s, tx, big, sizeof(big), MSG_MORE, ST_SA(&to), sizeof(to)), EMSGSIZE);
    assert_int_equal(ust_sendto(s, tx, "x", 1, 0, ST_SA(&to), sizeof(to)), 1);
    st_pump(s);
    assert_int_equal(ust_recv(s, rx, b, sizeof(b), MSG_DONTWAIT), 1);
    /* A socket closed with a datagram pending frees it (ASan/LSan). */
    assert_int_equal(ust_sendto(s, tx, "zz", 2, MSG_MORE, ST_SA(&to), sizeof(to)), 2);
    assert_int_equal(ust_close(s, tx), 0);
    st_free(s);
}

static void msghdr_checks_follow_linux(void **state)
{
    (void)state;
    struct ust_stack *s = st_stack();
    int rx = st_udp_bound(s, ST_LO, 5000);
    int tx = st_udp(s);
    static struct iovec many[1025];
    static uint8_t byte;
    for (size_t i = 0; i < 1025; i++)
        many[i] = (struct iovec){ &byte, 1 };
    struct sockaddr_in to = st_sin(ST_LO, 5000);

    struct msghdr m = msg_of(many, 1025, &to);
    st_fails(ust_sendmsg(s, tx, &m, 0), EMSGSIZE);          /* > UIO_MAXIOV */
    m.msg_iovlen = 1024;
    assert_int_equal(ust_sendmsg(s, tx, &m, 0), 1024);      /* exactly the limit */
    struct iovec neg = { &byte, (size_t)-5 };
    m = msg_of(&neg, 1, &to);
    st_fails(ust_sendmsg(s, tx, &m, 0), EINVAL);
    m = msg_of(NULL, 2, &to);
    st_fails(ust_sendmsg(s, tx, &m, 0), EFAULT);
    st_fails(ust_sendmsg(s, tx, NULL, 0), EFAULT);
    /* A name longer than sockaddr_storage is cut to it, not refused. */
    struct sockaddr_storage ss[2];
    memset(ss, 0, sizeof(ss));
    memcpy(ss, &to, sizeof(to));
    struct iovec one = { "hi", 2 };
    m = msg_of(&one, 1, NULL);
    m.msg_name = ss;
    m.msg_namelen = sizeof(ss);
    assert_int_equal(ust_sendmsg(s, tx, &m, 0), 2);
    /* A negative name length with a name is EINVAL. */
    m.msg_namelen = (socklen_t)-1;
    st_fails(ust_sendmsg(s, tx, &m, 0), EINVAL);
    st_pump(s);

    /* recvmsg: msg_name NULL leaves msg_namelen alone. */
    uint8_t buf[2048];
    struct iovec in = { buf, sizeof(buf) };
    struct msghdr r = msg_of(&in, 1, NULL);
    r.msg_namelen = 77;
    assert_int_equal(ust_recvmsg(s, rx, &r, 0), 1024);
    assert_int_equal(r.msg_namelen, 77);
    /* A short name buffer gets what fits and the full length. */
    struct sockaddr_in from;
    memset(&from, 0, sizeof(from));
    r = msg_of(&in, 1, &from);
    r.msg_namelen = 4;
    assert_int_equal(ust_recvmsg(s, rx, &r, 0), 2);
    assert_int_equal(r.msg_namelen, sizeof(from));
    assert_int_equal(from.sin_family, AF_INET);
    assert_int_equal(from.sin_addr.s_addr, 0);   /* beyond the 4 bytes copied */
    r = msg_of(many, 1025, NULL);
    st_fails(ust_recvmsg(s, rx, &r, 0), EMSGSIZE);
    int notsock = -1;
    int pfd[2];
    assert_int_equal(ust_pipe(s, pfd), 0);
    notsock = pfd[0];
    r = msg_of(&in, 1, NULL);
    st_fails(ust_recvmsg(s, notsock, &r, 0), ENOTSOCK);
    st_fails(ust_recvmsg(s, 999, &r, 0), EBADF);
    ust_close(s, pfd[0]);
    ust_close(s, pfd[1]);
    st_free(s);
}

static void ping_request_header_split_over_pieces_is_sent(void **state)
{
    (void)state;
    struct ust_stack *s = st_stack();
    int fd = ust_socket(s, AF_INET, SOCK_DGRAM, IPPROTO_ICMP);
    assert_true(fd >= 0);
    uint8_t req[8 + 32] = { 8, 0, 0, 0, 0, 0, 0, 5 };
    st_fill(req + 8, 32, 5);
    struct iovec out[3] = { { req, 3 }, { req + 3, 6 }, { req + 9, 31 } };
    struct sockaddr_in to = st_sin(ST_LO, 0);
    struct msghdr m = msg_of(out, 3, &to);
    assert_int_equal(ust_sendmsg(s, fd, &m, 0), 40);
    st_pump(s);
    uint8_t rep[64];
    struct iovec in = { rep, sizeof(rep) };
    struct msghdr r = msg_of(&in, 1, NULL);
    assert_int_equal(ust_recvmsg(s, fd, &r, MSG_DONTWAIT), 40);
    struct ust_icmp_hdr h;
    assert_int_equal(ust_icmp_parse(rep, 40, &h), UST_ICMP_HLEN);
    assert_int_equal(h.type, UST_ICMP_ECHO_REPLY);
    assert_int_equal(ust_icmp_echo_seq(&h), 5);
    assert_memory_equal(rep + 8, req + 8, 32);
    /* A header that is not an echo request, split too: EINVAL. */
    req[0] = 0;
    st_fails(ust_sendmsg(s, fd, &m, 0), EINVAL);
    st_free(s);
}

static void readv_writev_on_a_socket_and_on_a_pipe(void **state)
{
    (void)state;
    struct ust_stack *s = st_stack();
    int rx = st_udp_bound(s, ST_LO, 5000);
    int tx = st_udp(s);
    struct sockaddr_in to = st_sin(ST_LO, 5000);
    assert_int_equal(ust_connect(s, tx, ST_SA(&to), sizeof(to)), 0);
    struct iovec out[2] = { { "abc", 3 }, { "defgh", 5 } };
    assert_int_equal(ust_writev(s, tx, out, 2), 8);
    st_pump(s);
    char a[4] = { 0 }, b[8] = { 0 };
    struct iovec in[2] = { { a, 3 }, { b, 8 } };
    assert_int_equal(ust_readv(s, rx, in, 2), 8);
    assert_memory_equal(a, "abc", 3);
    assert_memory_equal(b, "defgh", 5);
    st_fails(ust_writev(s, tx, out, -1), EINVAL);
    st_fails(ust_writev(s, 999, out, 2), EBADF);

    int p[2];
    assert_int_equal(ust_pipe(s, p), 0);
    assert_int_equal(ust_writev(s, p[1], out, 2), 8);
    memset(a, 0, sizeof(a));
    memset(b, 0, sizeof(b));
    assert_int_equal(ust_readv(s, p[0], in, 2), 8);
    assert_memory_equal(a, "abc", 3);
    assert_memory_equal(b, "defgh", 5);
    static struct iovec many[1025];
    st_fails(ust_writev(s, p[1], many, 1025), EINVAL);      /* import_iovec */
    ust_close(s, p[0]);
    ust_close(s, p[1]);
    st_free(s);
}

/* ---- UDP on a wire: the checksum of pieces at odd offsets ------------------ */

static void udp_checksum_over_odd_pieces_verifies_on_the_wire(void **state)
{
    (void)state;
    struct ust_sim *sim = ust_sim_new(11);
    assert_non_null(sim);
    struct ust_stack *a = ust_sim_add_host(sim, "A", NULL);
    struct ust_stack *b = ust_sim_add_host(sim, "B", NULL);
    /* A corruption chance that never fires but keeps the link "unclean",
     * so B verifies every UDP checksum. */
    struct ust_link_params p = { .delay_ns = 1000000, .corrupt = 1e-12 };
    struct ust_sim_link *l = ust_sim_link_new(sim, a, b, &p, &p);
    assert_non_null(l);
    struct in_addr ia = { htonl(0x0a000001) }, ib = { htonl(0x0a000002) };
    assert_int_equal(ust_netif_set_ipv4(ust_sim_link_netif(l, 0), ia, 24), 0);
    assert_int_equal(ust_netif_set_ipv4(ust_sim_link_netif(l, 1), ib, 24), 0);
    ust_sim_run_until_quiet(sim, 10 * UST_NSEC_PER_SEC);
    int rx = ust_socket(b, AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in sb = st_sin(0x0a000002, 6000);
    assert_int_equal(ust_bind(b, rx, ST_SA(&sb), sizeof(sb)), 0);
    int tx = ust_socket(a, AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    uint8_t data[1001];
    st_fill(data, sizeof(data), 77);
    /* Odd, even, odd, one byte: blocks start at odd and even offsets. */
    struct iovec out[5] = { { data, 1 }, { data + 1, 4 }, { data + 5, 333 }, { data + 338, 1 },
                            { data + 339, 662 } };
    struct msghdr m = msg_of(out, 5, &sb);
    for (int i = 0; i < 4; i++) {   /* the first may wait for ARP */
        assert_int_equal(ust_sendmsg(a, tx, &m, 0), 1001);
        ust_sim_run_until_quiet(sim, 10 * UST_NSEC_PER_SEC);
    }
    /* MSG_MORE: an odd first part, the checksum summed at the end. */
    assert_int_equal(ust_sendto(a, tx, data, 3, MSG_MORE, ST_SA(&sb), sizeof(sb)), 3);
    /* Pending: no address is needed (Linux appends before looking). */
    assert_int_equal(ust_send(a, tx, data + 3, 998, 0), 998);
    ust_sim_run_until_quiet(sim, 10 * UST_NSEC_PER_SEC);
    /* B verified every checksum: a wrong one would be dropped and counted. */
    assert_int_equal(ust_stat_get(b, UST_STAT_UDP_InCsumErrors), 0);
    uint8_t in[1100];
    for (int i = 0; i < 5; i++) {
        assert_int_equal(ust_recv(b, rx, in, sizeof(in), 0), 1001);
        assert_memory_equal(in, data, 1001);
    }
    ust_sim_free(sim);
}

/* ---- TCP on the simulator ---------------------------------------------------- */

static void tcp_gathered_send_and_scattered_receive_are_byte_exact(void **state)
{
    (void)state;
    struct tnet n;
    tnet_setup(&n, sim_test_seed(501), NULL);
    int lfd = tlisten(&n, 80, 8);
    int afd;
    int bfd = tconnect_pair(&n, lfd, 80, &afd);
    uint8_t *data = malloc(5000);
    assert_non_null(data);
    st_fill(data, 5000, (unsigned)n.seed);
    struct iovec out[4] = { { data, 1 }, { data + 1, 2999 }, { NULL, 0 }, { data + 3000, 2000 } };
    struct msghdr m = msg_of(out, 4, NULL);
    SIM_ASSERT_EQ(n.seed, ust_sendmsg(n.a, afd, &m, 0), 5000);
    tnet_run(&n, 100 * TMS);

    static uint8_t x[7], y[1000], z[5000], pa[7], pb[1000];
    /* MSG_PEEK over two pieces sees exactly what the read then takes. */
    struct iovec pk[2] = { { pa, 7 }, { pb, 1000 } };
    struct msghdr r = msg_of(pk, 2, NULL);
    SIM_ASSERT_EQ(n.seed, ust_recvmsg(n.b, bfd, &r, MSG_PEEK), 1007);
    struct sockaddr_in from;
    struct iovec in[3] = { { x, 7 }, { y, 1000 }, { z, 5000 } };
    r = msg_of(in, 3, &from);
    SIM_ASSERT_EQ(n.seed, ust_recvmsg(n.b, bfd, &r, 0), 5000);
    SIM_ASSERT_EQ(n.seed, r.msg_namelen, 0);     /* a stream names no source */
    SIM_ASSERT_EQ(n.seed, r.msg_flags, 0);
    SIM_ASSERT(n.seed, memcmp(x, data, 7) == 0);
    SIM_ASSERT(n.seed, memcmp(y, data + 7, 1000) == 0);
    SIM_ASSERT(n.seed, memcmp(z, data + 1007, 3993) == 0);
    SIM_ASSERT(n.seed, memcmp(pa, data, 7) == 0);
    SIM_ASSERT(n.seed, memcmp(pb, data + 7, 1000) == 0);

    /* writev/readv on the stream. */
    SIM_ASSERT_EQ(n.seed, ust_writev(n.b, bfd, out, 4), 5000);
    tnet_run(&n, 100 * TMS);
    memset(z, 0, sizeof(z));
    struct iovec back[2] = { { z, 4000 }, { y, 1000 } };
    SIM_ASSERT_EQ(n.seed, ust_readv(n.a, afd, back, 2), 5000);
    SIM_ASSERT(n.seed, memcmp(z, data, 4000) == 0);
    SIM_ASSERT(n.seed, memcmp(y, data + 4000, 1000) == 0);
    free(data);
    ust_sim_free(n.sim);
}

static void tcp_gathered_send_of_small_pieces_shares_segments(void **state)
{
    (void)state;
    struct tnet n;
    tnet_setup(&n, sim_test_seed(502), NULL);
    int lfd = tlisten(&n, 80, 8);
    int afd;
    int bfd = tconnect_pair(&n, lfd, 80, &afd);
    int one = 1;
    SIM_ASSERT_EQ(n.seed, ust_setsockopt(n.a, afd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)), 0);
    uint64_t before = ust_stat_get(n.a, UST_STAT_TCP_OutSegs);
    static struct iovec out[100];
    static uint8_t bytes[100];
    for (int i = 0; i < 100; i++) {
        bytes[i] = (uint8_t)i;
        out[i] = (struct iovec){ &bytes[i], 1 };
    }
    struct msghdr m = msg_of(out, 100, NULL);
    SIM_ASSERT_EQ(n.seed, ust_sendmsg(n.a, afd, &m, 0), 100);
    /* One data segment, not one per piece (TCP_NODELAY on). */
    SIM_ASSERT_EQ(n.seed, ust_stat_get(n.a, UST_STAT_TCP_OutSegs) - before, 1);
    tnet_run(&n, 100 * TMS);
    uint8_t in[100];
    SIM_ASSERT_EQ(n.seed, ust_recv(n.b, bfd, in, sizeof(in), 0), 100);
    SIM_ASSERT(n.seed, memcmp(in, bytes, 100) == 0);
    ust_sim_free(n.sim);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(udp_pieces_gather_into_one_datagram_and_scatter_back),
        cmocka_unit_test(udp_short_buffers_set_msg_trunc_and_the_flag_gives_the_real_length),
        cmocka_unit_test(udp_msg_more_gathers_sends_into_one_datagram),
        cmocka_unit_test(msghdr_checks_follow_linux),
        cmocka_unit_test(ping_request_header_split_over_pieces_is_sent),
        cmocka_unit_test(readv_writev_on_a_socket_and_on_a_pipe),
        cmocka_unit_test(udp_checksum_over_odd_pieces_verifies_on_the_wire),
        cmocka_unit_test(tcp_gathered_send_and_scattered_receive_are_byte_exact),
        cmocka_unit_test(tcp_gathered_send_of_small_pieces_shares_segments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
