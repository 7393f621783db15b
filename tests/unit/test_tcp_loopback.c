/* TCP over the loopback interface with the stack thread running: blocking
 * connect, accept, send and recv from two application threads (as a normal
 * program would use kernel sockets). Proves a 32 MiB stream arrives intact
 * through blocking calls (send copying more than the buffer holds waits for
 * room, recv waits for data, EOF after shutdown), that the reply comes back,
 * and that blocking accept wakes when the connection arrives. Prints the
 * in-process throughput (informational, not asserted). */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>

#include <cmocka.h>

#include <ustack/ustack.h>

#define TOTAL (32u << 20)
#define PORT 7777

struct srv {
    struct ust_stack *s;
    int lfd;
    uint64_t rcvd, sum;
    int err;
};

static uint8_t pat(uint64_t i)
{
    return (uint8_t)((i * 2654435761u) >> 13);
}

static void *server(void *arg)
{
    struct srv *v = arg;
    int c = ust_accept(v->s, v->lfd, NULL, NULL);
    if (c < 0) {
        v->err = errno;
        return NULL;
    }
    static uint8_t buf[256 * 1024];
    for (;;) {
        ssize_t r = ust_recv(v->s, c, buf, sizeof(buf), 0);
        if (r < 0) {
            v->err = errno;
            break;
        }
        if (r == 0)
            break;
        for (ssize_t i = 0; i < r; i++)
            if (buf[i] != pat(v->rcvd + (uint64_t)i))
                v->sum++;           /* mismatches */
        v->rcvd += (uint64_t)r;
    }
    uint64_t n = v->rcvd;
    if (ust_send(v->s, c, &n, sizeof(n), 0) != (ssize_t)sizeof(n))
        v->err = errno;
    ust_close(v->s, c);
    return NULL;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void blocking_stream_over_loopback_with_stack_thread(void **state)
{
    (void)state;
    struct ust_stack *s = ust_stack_new(NULL);
    assert_non_null(s);
    assert_int_equal(ust_stack_start(s), 0);
    struct srv v = { .s = s };
    v.lfd = ust_socket(s, AF_INET, SOCK_STREAM, 0);
    assert_true(v.lfd >= 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(PORT) };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(ust_bind(s, v.lfd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(ust_listen(s, v.lfd, 8), 0);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, server, &v), 0);

    int fd = ust_socket(s, AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    assert_int_equal(ust_connect(s, fd, (struct sockaddr *)&a, sizeof(a)), 0);
    uint8_t *out = malloc(1u << 20);
    assert_non_null(out);
    double t0 = now_s();
    for (uint64_t off = 0; off < TOTAL; off += 1u << 20) {
        for (uint32_t i = 0; i < (1u << 20); i++)
            out[i] = pat(off + i);
        /* One blocking send of 1 MiB: more than the send buffer holds. */
        assert_int_equal(ust_send(s, fd, out, 1u << 20, 0), 1 << 20);
    }
    assert_int_equal(ust_shutdown(s, fd, SHUT_WR), 0);
    uint64_t n = 0;
    assert_int_equal(ust_recv(s, fd, &n, sizeof(n), MSG_WAITALL), (int)sizeof(n));
    double dt = now_s() - t0;
    char c;
    assert_int_equal(ust_recv(s, fd, &c, 1, 0), 0);     /* EOF after the reply */
    pthread_join(t, NULL);
    assert_int_equal(v.err, 0);
    assert_int_equal(n, TOTAL);
    assert_int_equal(v.rcvd, TOTAL);
    assert_int_equal(v.sum, 0);
    print_message("loopback: %u MiB in %.3f s = %.2f Gbit/s (with pattern generation/check)\n",
                  TOTAL >> 20, dt, (double)TOTAL * 8 / dt / 1e9);
    free(out);
    ust_close(s, fd);
    ust_close(s, v.lfd);
    ust_stack_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(blocking_stream_over_loopback_with_stack_thread),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
