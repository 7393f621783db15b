/* The socket calls' error paths, each with the errno Linux gives: socket()
 * argument checks (EAFNOSUPPORT, EINVAL, EPROTONOSUPPORT, ESOCKTNOSUPPORT),
 * EMFILE at max_fds, EBADF and ENOTSOCK, EDESTADDRREQ, EMSGSIZE above 65507
 * bytes, EAFNOSUPPORT/EINVAL for destination addresses, EOPNOTSUPP for
 * MSG_OOB, EFAULT, EAGAIN from an empty non-blocking receive, and that
 * SOCK_NONBLOCK/SOCK_CLOEXEC set the flags they name. */
#include <fcntl.h>
#include <sys/ioctl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "fd/fd.h"
#include "runtime/runtime.h"
#include "unit/sock_test_util.h"

static void test_socket_argument_errors(void **state)
{
    (void)state;
    struct ust_stack *s = st_stack();
    st_fails(ust_socket(s, AF_INET6, SOCK_DGRAM, 0), EAFNOSUPPORT);
    st_fails(ust_socket(s, AF_UNIX, SOCK_DGRAM, 0), EAFNOSUPPORT);
    st_fails(ust_socket(s, AF_INET, SOCK_DGRAM, IPPROTO_TCP), EPROTONOSUPPORT);
    st_fails(ust_socket(s, AF_INET, SOCK_DGRAM, IPPROTO_UDPLITE), EPROTONOSUPPORT);
    st_fails(ust_socket(s, AF_INET, SOCK_STREAM, IPPROTO_UDP), EPROTONOSUPPORT);
    st_fails(ust_socket(s, AF_INET, SOCK_SEQPACKET, 0), ESOCKTNOSUPPORT);
    st_fails(ust_socket(s, AF_INET, SOCK_RAW, IPPROTO_ICMP), ESOCKTNOSUPPORT);
    st_fails(ust_socket(s, AF_INET, 12, 0), EINVAL);                     /* >= SOCK_MAX */
    st_fails(ust_socket(s, AF_INET, SOCK_DGRAM | 0x100, 0), EINVAL);     /* unknown flag */
    st_fails(ust_socket(s, AF_INET, SOCK_DGRAM, -1), EINVAL);
    st_fails(ust_socket(s, AF_INET, SOCK_DGRAM, IPPROTO_MAX), EINVAL);
    st_fails(ust_socket(s, AF_INET, SOCK_DGRAM, IPPROTO_MAX - 1), EPROTONOSUPPORT);
    /* Nothing was left allocated: the first socket is descriptor 0. */
    assert_int_equal(ust_socket(s, AF_INET, SOCK_DGRAM, IPPROTO_UDP), 0);
    assert_int_equal(ust_socket(s, AF_INET, SOCK_DGRAM, IPPROTO_ICMP), 1);
    st_free(s);
}

static void test_socket_type_flags(void **state)
{
    (void)state;
    struct ust_stack *s = st_stack();
    int a = ust_socket(s, AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    assert_true(a >= 0);
    assert_int_equal(ust_fcntl(s, a, F_GETFL), O_RDWR | O_NONBLOCK);
    assert_int_equal(ust_fcntl(s, a, F_GETFD), FD_CLOEXEC);
    int b = st_udp(s);
    assert_int_equal(ust_fcntl(s, b, F_GETFL), O_RDWR);
    assert_int_equal(ust_fcntl(s, b, F_GETFD), 0);
    int type = 0;
    socklen_t len = sizeof(type);
    assert_int_equal(ust_getsockopt(s, a, SOL_SOCKET, SO_TYPE, &type, &len), 0);
    assert_int_equal(type, SOCK_DGRAM);     /* the flags are not part of the type */
    st_free(s);
}

static void test_emfile_at_max_fds(void **state)
{
    (void)state;
    struct ust_stack_config c;
    ust_stack_config_init(&c);
    c.max_fds = 8;
    struct ust_stack *s = st_stack_cfg(&c);
    for (int i = 0; i < 8; i++)
        assert_int_equal(st_udp(s), i);
    st_fails(ust_socket(s, AF_INET, SOCK_DGRAM, 0), EMFILE);
    assert_int_equal(ust_close(s, 3), 0);
    assert_int_equal(st_udp(s), 3);
    st_fails(ust_socket(s, AF_INET, SOCK_DGRAM, 0), EMFILE);
    st_free(s);
}

/* A file that is not a socket (a stand-in for pipes). */
static const struct ust_file_ops plain_ops = { .name = "plain" };

static int install_plain_file(struct ust_stack *s)
{
    ust_rt_lock(s);
    struct ust_file *f = ust_file_new(s, &plain_ops, NULL, O_RDWR);
    assert_non_null(f);
    int fd = ust_fd_install(s, f, 0);
    ust_rt_unlock(s);
    assert_true(fd >= 0);
    return fd;
}

static void test_ebadf_and_enotsock(void **state)
{
    (void)state;
    struct ust_stack *s = st_stack();
    struct sockaddr_in sin = st_sin(ST_LO, 5000);
    socklen_t len = sizeof(sin);
    char b[4];
    int v = 1;
    int bad[] = { -1, 5, 1 << 20 };
    for (unsigned i = 0; i < 3; i++) {
        int fd = bad[i];
        st_fails(ust_bind(s, fd, ST_SA(&sin), sizeof(sin)), EBADF);
        st_fails(ust_connect(s, fd, ST_SA(&sin), sizeof(sin)), EBADF);
        st_fails(ust_sendto(s, fd, "x", 1, 0, ST_SA(&sin), sizeof(sin)), EBADF);
        st_fails(ust_recvfrom(s, fd, b, 1, 0, NULL, NULL), EBADF);
        st_fails(ust_getsockname(s, fd, ST_SA(&sin), &len), EBADF);
        st_fails(ust_getpeername(s, fd, ST_SA(&sin), &len), EBADF);
        st_fails(ust_setsockopt(s, fd, SOL_SOCKET, SO_REUSEADDR, &v, sizeof(v)), EBADF);
        st_fails(ust_getsockopt(s, fd, SOL_SOCKET, SO_REUSEADDR, &v, &len), EBADF);
        st_fails(ust_close(s, fd), EBADF);
        st_fails(ust_read(s, fd, b, 1), EBADF);
        st_fails(ust_write(s, fd, b, 1), EBADF);
        st_fails(ust_fcntl(s, fd, F_GETFL), EBADF);
        st_fails(ust_ioctl(s, fd, FIONBIO, &v), EBADF);
    }
    int pf = install_plain_file(s);
    st_fails(ust_bind(s, pf, ST_SA(&sin), sizeof(sin)), ENOTSOCK);
    st_fails(ust_connect(s, pf, ST_SA(&sin), sizeof(sin)), ENOTSOCK);
    st_fails(ust_send(s, pf, "x", 1, 0), ENOTSOCK);
    st_fails(ust_recv(s, pf, b, 1, 0), ENOTSOCK);
    st_fails(ust_getsockname(s, pf, ST_SA(&sin), &len), ENOTSOCK);
    st_fails(ust_setsockopt(s, pf, SOL_SOCKET, SO_REUSEADDR, &v, sizeof(v)), ENOTSOCK);
    st_fails(ust_getsockopt(s, pf, SOL_SOCKET, SO_REUSEADDR, &v, &len), ENOTSOCK);
    /* A file without read/write: EINVAL, ioctl: ENOTTY (Linux). */
    st_fails(ust_read(s, pf, b, 1), EINVAL);
    st_fails(ust_ioctl(s, pf, FIONREAD, &v), ENOTTY);
    assert_int_equal(ust_close(s, pf), 0);
    st_fails(ust_close(s, pf), EBADF);
    st_free(s);
}

static void test_send_errors(void **state)
{
    (void)state;
    struct ust_stack *s = st_stack();
    int fd = st_udp(s);
    static uint8_t big[65508];
    st_fails(ust_send(s, fd, "x", 1, 0), EDESTADDRREQ);
    st_fails(ust_write(s, fd, "x", 1), EDESTADDRREQ);
    st_fails(st_sendto(s, fd, big, 65508, ST_LO, 9), EMSGSIZE);
    st_fails(st_sendto(s, fd, "x", 1, ST_LO, 0), EINVAL);      /* port 0 */
    struct sockaddr_in to = st_sin(ST_LO, 9);
    st_fails(ust_sendto(s, fd, "x", 1, 0, ST_SA(&to), sizeof(to) - 1), EINVAL);
    st_fails(ust_sendto(s, fd, "x", 1, 0, ST_SA(&to), 0), EINVAL);
    st_fails(ust_sendto(s, fd, "x", 1, 0, ST_SA(&to), 1000), EINVAL);
    to.sin_family = AF_INET6;
    st_fails(ust_sendto(s, fd, "x", 1, 0, ST_SA(&to), sizeof(to)), EAFNOSUPPORT);
    to.sin_family = AF_UNSPEC;          /* udp_sendmsg takes AF_UNSPEC as AF_INET */
    assert_int_equal(ust_sendto(s, fd, "x", 1, 0, ST_SA(&to), sizeof(to)), 1);
    st_fails(st_sendto(s, fd, NULL, 1, ST_LO, 9), EFAULT);
    to.sin_family = AF_INET;
    st_fails(ust_sendto(s, fd, "x", 1, MSG_OOB, ST_SA(&to), sizeof(to)), EOPNOTSUPP);
    /* The largest datagram is fine. */
    assert_int_equal(st_sendto(s, fd, big, 65507, ST_LO, 9), 65507);
    st_free(s);
}

static void test_recv_errors_and_eagain(void **state)
{
    (void)state;
    struct ust_stack *s = st_stack();
    int fd = st_udp_bound(s, ST_LO, 5000);
    char b[8];
    /* Without a stack thread nothing could wake a sleeper: blocking
     * descriptors behave as non-blocking ones. */
    st_fails(ust_recv(s, fd, b, sizeof(b), 0), EAGAIN);
    st_fails(ust_recv(s, fd, b, sizeof(b), MSG_DONTWAIT), EAGAIN);
    st_fails(ust_read(s, fd, b, sizeof(b)), EAGAIN);
    assert_int_equal(ust_read(s, fd, b, 0), 0);       /* Linux: zero-length read is 0 */
    struct sockaddr_in from;
    st_fails(ust_recvfrom(s, fd, b, sizeof(b), 0, ST_SA(&from), NULL), EFAULT);
    st_fails(ust_recvfrom(s, fd, NULL, 8, 0, NULL, NULL), EFAULT);
    /* MSG_ERRQUEUE: no error queue, always empty. */
    st_fails(ust_recv(s, fd, b, sizeof(b), MSG_ERRQUEUE), EAGAIN);
    st_free(s);
}

static void test_read_write_on_connected_socket(void **state)
{
    (void)state;
    struct ust_stack *s = st_stack();
    int a = st_udp_bound(s, ST_LO, 5000);
    int b = st_udp_bound(s, ST_LO, 5001);
    struct sockaddr_in pa = st_sin(ST_LO, 5000), pb = st_sin(ST_LO, 5001);
    assert_int_equal(ust_connect(s, a, ST_SA(&pb), sizeof(pb)), 0);
    assert_int_equal(ust_connect(s, b, ST_SA(&pa), sizeof(pa)), 0);
    assert_int_equal(ust_write(s, a, "hello", 5), 5);
    assert_int_equal(ust_write(s, a, "", 0), 0);   /* an empty datagram */
    st_pump(s);
    char buf[16];
    assert_int_equal(ust_read(s, b, buf, sizeof(buf)), 5);
    assert_memory_equal(buf, "hello", 5);
    /* The empty datagram is still there: read(len 0) does not consume. */
    assert_int_equal(ust_read(s, b, buf, 0), 0);
    assert_int_equal(ust_recv(s, b, buf, sizeof(buf), MSG_DONTWAIT), 0);
    st_fails(ust_read(s, b, buf, sizeof(buf)), EAGAIN);
    st_free(s);
}

static void test_stack_free_closes_open_sockets(void **state)
{
    (void)state;
    struct ust_stack *s = st_stack();
    int rx = st_udp_bound(s, ST_LO, 5000);
    int tx = st_udp(s);
    for (int i = 0; i < 3; i++)
        assert_int_equal(st_sendto(s, tx, "queued", 6, ST_LO, 5000), 6);
    st_pump(s);
    int n = 0;
    assert_int_equal(ust_ioctl(s, rx, FIONREAD, &n), 0);
    assert_int_equal(n, 6);
    /* Freeing the stack closes both sockets and frees the queued
     * datagrams: leak-checked under ASan/LSan. */
    st_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_socket_argument_errors),
        cmocka_unit_test(test_socket_type_flags),
        cmocka_unit_test(test_emfile_at_max_fds),
        cmocka_unit_test(test_ebadf_and_enotsock),
        cmocka_unit_test(test_send_errors),
        cmocka_unit_test(test_recv_errors_and_eagain),
        cmocka_unit_test(test_read_write_on_connected_socket),
        cmocka_unit_test(test_stack_free_closes_open_sockets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
