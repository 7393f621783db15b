/* Socket options as Linux implements them: SO_RCVBUF/SO_SNDBUF are doubled,
 * capped by rmem_max/wmem_max and floored (getsockopt shows the doubled
 * value); SO_RCVTIMEO/SO_SNDTIMEO take a struct timeval (EDOM for a bad
 * tv_usec, EINVAL when short) and read back; SO_ERROR reads and clears;
 * boolean options read back 0/1; read-only and unknown options give
 * ENOPROTOOPT; setsockopt wants an int (EINVAL), getsockopt truncates to the
 * caller's length; IP_TTL and IP_TOS reach the datagrams sent. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/time.h>
#include <cmocka.h>

#include "net/sk.h"
#include "net/udp.h"
#include "runtime/runtime.h"
#include "sock/sock.h"
#include "unit/sock_test_util.h"

static int get_int(struct ust_stack *s, int fd, int level, int opt)
{
    int v = -12345;
    socklen_t len = sizeof(v);
    assert_int_equal(ust_getsockopt(s, fd, level, opt, &v, &len), 0);
    assert_int_equal(len, sizeof(v));
    return v;
}

static int set_int(struct ust_stack *s, int fd, int level, int opt, int v)
{
    return ust_setsockopt(s, fd, level, opt, &v, sizeof(v));
}

static void test_buffer_sizes_doubled_capped_and_floored(void **state)
{
    (void)state;
    struct ust_stack_config c;
    ust_stack_config_init(&c);
    c.rmem_max = 100000;
    c.wmem_max = 50000;
    struct ust_stack *s = st_stack_cfg(&c);
    int fd = st_udp(s);
    /* Defaults are not doubled. */
    assert_int_equal(get_int(s, fd, SOL_SOCKET, SO_RCVBUF), 212992);
    assert_int_equal(get_int(s, fd, SOL_SOCKET, SO_SNDBUF), 212992);

    assert_int_equal(set_int(s, fd, SOL_SOCKET, SO_RCVBUF, 10000), 0);
    assert_int_equal(get_int(s, fd, SOL_SOCKET, SO_RCVBUF), 20000);
    assert_int_equal(set_int(s, fd, SOL_SOCKET, SO_RCVBUF, 1 << 30), 0);
    assert_int_equal(get_int(s, fd, SOL_SOCKET, SO_RCVBUF), 200000);
    assert_int_equal(set_int(s, fd, SOL_SOCKET, SO_RCVBUF, 1), 0);
    assert_int_equal(get_int(s, fd, SOL_SOCKET, SO_RCVBUF), UST_SOCK_MIN_RCVBUF);
    assert_int_equal(set_int(s, fd, SOL_SOCKET, SO_RCVBUF, -1), 0);   /* as unsigned: the cap */
    assert_int_equal(get_int(s, fd, SOL_SOCKET, SO_RCVBUF), 200000);

    assert_int_equal(set_int(s, fd, SOL_SOCKET, SO_SNDBUF, 10000), 0);
    assert_int_equal(get_int(s, fd, SOL_SOCKET, SO_SNDBUF), 20000);
    assert_int_equal(set_int(s, fd, SOL_SOCKET, SO_SNDBUF, 1 << 30), 0);
    assert_int_equal(get_int(s, fd, SOL_SOCKET, SO_SNDBUF), 100000);
    assert_int_equal(set_int(s, fd, SOL_SOCKET, SO_SNDBUF, 0), 0);
    assert_int_equal(get_int(s, fd, SOL_SOCKET, SO_SNDBUF), UST_SOCK_MIN_SNDBUF);
    st_free(s);
}

static void test_timeouts_roundtrip_and_reject_bad_values(void **state)
{
    (void)state;
    struct ust_stack *s = st_stack();
    int fd = st_udp(s);
    struct timeval tv = { 0, 0 };
    socklen_t len = sizeof(tv);
    assert_int_equal(ust_getsockopt(s, fd, SOL_SOCKET, SO_RCVTIMEO, &tv, &len), 0);
    assert_int_equal(len, sizeof(tv));
    assert_int_equal(tv.tv_sec, 0);         /* 0,0 = wait forever */
    assert_int_equal(tv.tv_usec, 0);

    struct timeval set = { 2, 500000 };
    assert_int_equal(ust_setsockopt(s, fd, SOL_SOCKET, SO_RCVTIMEO, &set, sizeof(set)), 0);
    struct timeval set2 = { 0, 1000 };
    assert_int_equal(ust_setsockopt(s, fd, SOL_SOCKET, SO_SNDTIMEO, &set2, sizeof(set2)), 0);
    len = sizeof(tv);
    assert_int_equal(ust_getsockopt(s, fd, SOL_SOCKET, SO_RCVTIMEO, &tv, &len), 0);
    assert_int_equal(tv.tv_sec, 2);
    assert_int_equal(tv.tv_usec, 500000);
    len = sizeof(tv);
    assert_int_equal(ust_getsockopt(s, fd, SOL_SOCKET, SO_SNDTIMEO, &tv, &len), 0);
    assert_int_equal(tv.tv_sec, 0);
    assert_int_equal(tv.tv_usec, 1000);

    struct timeval bad = { 1, 1000000 };
    st_fails(ust_setsockopt(s, fd, SOL_SOCKET, SO_RCVTIMEO, &bad, sizeof(bad)), EDOM);
    bad.tv_usec = -1;
    st_fails(ust_setsockopt(s, fd, SOL_SOCKET, SO_SNDTIMEO, &bad, sizeof(bad)), EDOM);
    st_fails(ust_setsockopt(s, fd, SOL_SOCKET, SO_RCVTIMEO, &set, sizeof(set) - 1), EINVAL);
    /* A negative time: return at once (reads back as 0,0 like Linux). */
    struct timeval neg = { -5, 0 };
    assert_int_equal(ust_setsockopt(s, fd, SOL_SOCKET, SO_RCVTIMEO, &neg, sizeof(neg)), 0);
    char b;
    st_fails(ust_recv(s, fd, &b, 1, 0), EAGAIN);
    st_free(s);
}

static void test_boolean_options_read_back(void **state)
{
    (void)state;
    struct ust_stack *s = st_stack();
    int fd = st_udp(s);
    const int opts[] = { SO_REUSEADDR, SO_BROADCAST, SO_KEEPALIVE };
    for (unsigned i = 0; i < 3; i++) {
        assert_int_equal(get_int(s, fd, SOL_SOCKET, opts[i]), 0);
        assert_int_equal(set_int(s, fd, SOL_SOCKET, opts[i], 42), 0);
        assert_int_equal(get_int(s, fd, SOL_SOCKET, opts[i]), 1);
        assert_int_equal(set_int(s, fd, SOL_SOCKET, opts[i], 0), 0);
        assert_int_equal(get_int(s, fd, SOL_SOCKET, opts[i]), 0);
    }
    assert_int_equal(get_int(s, fd, SOL_SOCKET, SO_TYPE), SOCK_DGRAM);
    assert_int_equal(get_int(s, fd, SOL_SOCKET, SO_PROTOCOL), IPPROTO_UDP);
    assert_int_equal(get_int(s, fd, SOL_SOCKET, SO_DOMAIN), AF_INET);
    assert_int_equal(get_int(s, fd, SOL_SOCKET, SO_ERROR), 0);
    st_free(s);
}

static void test_option_errors(void **state)
{
    (void)state;
    struct ust_stack *s = st_stack();
    int fd = st_udp(s);
    int v = 1;
    socklen_t len = sizeof(v);
    st_fails(set_int(s, fd, SOL_SOCKET, SO_TYPE, 1), ENOPROTOOPT);
    st_fails(set_int(s, fd, SOL_SOCKET, SO_ERROR, 1), ENOPROTOOPT);
    st_fails(set_int(s, fd, SOL_SOCKET, 9999, 1), ENOPROTOOPT);
    st_fails(ust_getsockopt(s, fd, SOL_SOCKET, 9999, &v, &len), ENOPROTOOPT);
    st_fails(set_int(s, fd, IPPROTO_UDP, 1, 1), ENOPROTOOPT);
    st_fails(set_int(s, fd, 12345, 1, 1), ENOPROTOOPT);
    st_fails(ust_getsockopt(s, fd, 12345, 1, &v, &len), ENOPROTOOPT);
    st_fails(ust_setsockopt(s, fd, SOL_SOCKET, SO_REUSEADDR, &v, sizeof(v) - 1), EINVAL);
    st_fails(ust_setsockopt(s, fd, SOL_SOCKET, SO_REUSEADDR, NULL, sizeof(v)), EFAULT);
    st_fails(ust_getsockopt(s, fd, SOL_SOCKET, SO_REUSEADDR, &v, NULL), EFAULT);
    /* getsockopt copies what fits and says so. */
    assert_int_equal(set_int(s, fd, SOL_SOCKET, SO_RCVBUF, 0x10000), 0);
    uint8_t two[2] = { 0xee, 0xee };
    socklen_t two_len = 2;
    assert_int_equal(ust_getsockopt(s, fd, SOL_SOCKET, SO_RCVBUF, two, &two_len), 0);
    assert_int_equal(two_len, 2);
    uint16_t low;
    memcpy(&low, two, 2);
    assert_int_equal(low, (uint16_t)0x20000);
    st_free(s);
}

static void test_so_error_reads_and_clears(void **state)
{
    (void)state;
    struct ust_stack *s = st_stack();
    int fd = st_udp(s);
    struct sockaddr_in closed = st_sin(ST_LO, 7777);
    assert_int_equal(ust_connect(s, fd, ST_SA(&closed), sizeof(closed)), 0);
    assert_int_equal(ust_send(s, fd, "x", 1, 0), 1);
    st_pump(s);
    assert_int_equal(get_int(s, fd, SOL_SOCKET, SO_ERROR), ECONNREFUSED);
    assert_int_equal(get_int(s, fd, SOL_SOCKET, SO_ERROR), 0);
    /* Read and cleared: the next send works. */
    assert_int_equal(ust_send(s, fd, "x", 1, 0), 1);
    st_free(s);
}

static void test_ip_ttl_and_tos_reach_the_datagram(void **state)
{
    (void)state;
    struct ust_stack *s = st_stack();
    int rx = st_udp_bound(s, ST_LO, 5000);
    int tx = st_udp(s);
    assert_int_equal(get_int(s, tx, IPPROTO_IP, IP_TTL), 64);
    assert_int_equal(set_int(s, tx, IPPROTO_IP, IP_TTL, 7), 0);
    assert_int_equal(set_int(s, tx, IPPROTO_IP, IP_TOS, 0x10), 0);
    assert_int_equal(get_int(s, tx, IPPROTO_IP, IP_TTL), 7);
    assert_int_equal(get_int(s, tx, IPPROTO_IP, IP_TOS), 0x10);
    st_fails(set_int(s, tx, IPPROTO_IP, IP_TTL, 0), EINVAL);
    st_fails(set_int(s, tx, IPPROTO_IP, IP_TTL, 256), EINVAL);
    assert_int_equal(st_sendto(s, tx, "t", 1, ST_LO, 5000), 1);
    st_pump(s);
    /* Look at the queued datagram's IP fields (kept in fb->cb). */
    ust_rt_lock(s);
    struct ust_socket *so = NULL;
    assert_int_equal(ust_sock_lookup(s, rx, &so), 0);
    const struct ust_fbuf *fb = ((struct ust_udp_sock *)so->pcb)->rxq.head;
    assert_non_null(fb);
    assert_int_equal(fb->cb.dgram.ttl, 7);
    assert_int_equal(fb->cb.dgram.tos, 0x10);
    ust_rt_unlock(s);
    /* -1 restores the default. */
    assert_int_equal(set_int(s, tx, IPPROTO_IP, IP_TTL, -1), 0);
    assert_int_equal(get_int(s, tx, IPPROTO_IP, IP_TTL), 64);
    st_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buffer_sizes_doubled_capped_and_floored),
        cmocka_unit_test(test_timeouts_roundtrip_and_reject_bad_values),
        cmocka_unit_test(test_boolean_options_read_back),
        cmocka_unit_test(test_option_errors),
        cmocka_unit_test(test_so_error_reads_and_clears),
        cmocka_unit_test(test_ip_ttl_and_tos_reach_the_datagram),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
