/* Helpers for the socket, descriptor and poll tests: a stack driven by hand
 * (no stack thread), a pump that runs ust_stack_poll until the loopback
 * queues are empty, and sockaddr shorthands. Time stays at ST_T0: nothing
 * here waits for a timer. Include after <cmocka.h>. */
#ifndef UST_TESTS_SOCK_TEST_UTIL_H
#define UST_TESTS_SOCK_TEST_UTIL_H

#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <ustack/ustack.h>

#include "core/util.h"
#include "stack/stack_impl.h"

#define ST_T0 (1000 * UST_NSEC_PER_SEC)
#define ST_LO 0x7f000001u

static inline struct ust_stack *st_stack_cfg(struct ust_stack_config *c)
{
    if (!c->seed)
        c->seed = 42;
    struct ust_stack *s = ust_stack_new(c);
    assert_non_null(s);
    ust_stack_poll(s, ST_T0);
    return s;
}

static inline struct ust_stack *st_stack(void)
{
    struct ust_stack_config c;
    ust_stack_config_init(&c);
    return st_stack_cfg(&c);
}

/* Frees the stack after checking every frame buffer came back. */
static inline void st_free(struct ust_stack *s)
{
    ust_stack_free(s);
}

/* Runs the stack until no work is queued (loopback frames, replies to
 * them, ICMP errors...). */
static inline void st_pump(struct ust_stack *s)
{
    uint64_t now = ust_stack_now(s);
    for (int i = 0; i < 100; i++)
        if (ust_stack_poll(s, now) > now)
            return;
    fail_msg("the stack never went idle");
}

static inline struct sockaddr_in st_sin(uint32_t addr, uint16_t port)
{
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(addr);
    sin.sin_port = htons(port);
    return sin;
}
#define ST_SA(sinp) ((struct sockaddr *)(sinp))

static inline int st_udp(struct ust_stack *s)
{
    int fd = ust_socket(s, AF_INET, SOCK_DGRAM, 0);
    assert_true(fd >= 0);
    return fd;
}

/* A UDP socket bound to 127.0.0.1:port (0 = ephemeral). */
static inline int st_udp_bound(struct ust_stack *s, uint32_t addr, uint16_t port)
{
    int fd = st_udp(s);
    struct sockaddr_in sin = st_sin(addr, port);
    assert_int_equal(ust_bind(s, fd, ST_SA(&sin), sizeof(sin)), 0);
    return fd;
}

static inline struct sockaddr_in st_name(struct ust_stack *s, int fd)
{
    struct sockaddr_in sin;
    socklen_t len = sizeof(sin);
    assert_int_equal(ust_getsockname(s, fd, ST_SA(&sin), &len), 0);
    assert_int_equal(len, sizeof(sin));
    return sin;
}

static inline uint16_t st_port(struct ust_stack *s, int fd)
{
    return ntohs(st_name(s, fd).sin_port);
}

static inline ssize_t st_sendto(struct ust_stack *s, int fd, const void *buf, size_t len,
                                uint32_t addr, uint16_t port)
{
    struct sockaddr_in to = st_sin(addr, port);
    return ust_sendto(s, fd, buf, len, 0, ST_SA(&to), sizeof(to));
}

/* Asserts a call failed with the given errno. */
#define st_fails(call, err)                 \
    do {                                    \
        errno = 0;                          \
        assert_int_equal((call), -1);       \
        assert_int_equal(errno, (err));     \
    } while (0)

static inline uint64_t st_stat(struct ust_stack *s, enum ust_stat which)
{
    return ust_stat_get(s, which);
}
#define ST_STAT(s, grp, name) st_stat((s), UST_STAT_##grp##_##name)

/* Deterministic test bytes. */
static inline void st_fill(uint8_t *p, size_t len, unsigned seed)
{
    uint32_t x = seed * 2654435761u + 1;
    for (size_t i = 0; i < len; i++) {
        x = x * 1103515245u + 12345u;
        p[i] = (uint8_t)(x >> 16);
    }
}

#endif
