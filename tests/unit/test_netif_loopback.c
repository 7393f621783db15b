/* The loopback interface: transmit queues and kicks instead of processing
 * inline, the queue is bounded, ust_stack_poll delivers, and UDP over
 * 127.0.0.1 works through the socket API with a 64 KiB MTU (no
 * fragmentation). */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <ustack/ustack.h>

#include "netif/netif.h"
#include "runtime/runtime.h"
#include "stack/stack_impl.h"
#include "wire/wire.h"

static unsigned kicks;

static void count_kick(struct ust_stack *s, void *arg)
{
    kicks++;
}

static struct ust_stack *new_stack(void)
{
    struct ust_stack_config cfg;
    ust_stack_config_init(&cfg);
    cfg.seed = 7;
    struct ust_stack *s = ust_stack_new(&cfg);
    assert_non_null(s);
    return s;
}

/* 127.0.0.1 -> 127.0.0.1: an ICMP echo reply nobody waits for, which the
 * stack drops without answering. */
static struct ust_fbuf *ip_packet(struct ust_stack *s)
{
    struct ust_fbuf *fb = ust_fbuf_alloc(s, 28);
    assert_non_null(fb);
    uint8_t *p = ust_fbuf_put(fb, 28);
    struct ust_ipv4_hdr h = { .total_len = 28, .ttl = 64, .proto = UST_IPPROTO_ICMP,
                              .src = 0x7f000001, .dst = 0x7f000001 };
    assert_int_equal(ust_ipv4_emit(p, 28, &h), 20);
    struct ust_icmp_hdr ih = { .type = UST_ICMP_ECHO_REPLY, .rest = 0x12340001 };
    assert_int_equal(ust_icmp_emit(p + 20, 8, &ih, 0), 8);
    return fb;
}

static void transmit_queues_and_kicks_without_processing_inline(void **state)
{
    struct ust_stack *s = new_stack();
    struct ust_netif *lo = ust_loopback(s);
    s->kick = count_kick;
    kicks = 0;
    ust_rt_lock(s);
    uint64_t in_before = s->stats[UST_STAT_IP_InReceives];
    assert_int_equal(ust_netif_output(lo, ip_packet(s)), 0);
    assert_int_equal(lo->rxq.count, 1);
    assert_int_equal(kicks, 1);
    assert_true(s->work_pending);
    assert_int_equal(s->stats[UST_STAT_IP_InReceives], in_before);   /* not yet */
    ust_rt_unlock(s);

    ust_stack_poll(s, 1000);
    assert_int_equal(lo->rxq.count, 0);
    assert_int_equal(ust_stat_get(s, UST_STAT_IP_InReceives), in_before + 1);
    assert_int_equal(ust_stat_get(s, UST_STAT_ETH_OutFrames), 1);
    ust_stack_free(s);
}

static void backlog_is_bounded(void **state)
{
    struct ust_stack *s = new_stack();
    struct ust_netif *lo = ust_loopback(s);
    ust_rt_lock(s);
    unsigned ok = 0, enobufs = 0;
    for (int i = 0; i < 1100; i++) {
        int r = ust_netif_output(lo, ip_packet(s));
        ok += r == 0;
        enobufs += r == -ENOBUFS;
    }
    ust_rt_unlock(s);
    assert_int_equal(ok, 1000);
    assert_int_equal(enobufs, 100);
    assert_int_equal(ust_stat_get(s, UST_STAT_ETH_OutDrops), 100);
    ust_stack_poll(s, 0);
    assert_int_equal(lo->rxq.count, 0);
    /* Frames still queued at teardown are freed (ASan checks). */
    ust_rt_lock(s);
    ust_netif_output(lo, ip_packet(s));
    ust_rt_unlock(s);
    ust_stack_free(s);
}

static struct sockaddr_in lo_addr(uint16_t port)
{
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

static void udp_over_loopback_needs_a_poll_and_never_fragments(void **state)
{
    struct ust_stack *s = new_stack();
    int rx = ust_socket(s, AF_INET, SOCK_DGRAM, 0);
    int tx = ust_socket(s, AF_INET, SOCK_DGRAM, 0);
    assert_true(rx >= 0 && tx >= 0);
    struct sockaddr_in dst = lo_addr(7000);
    assert_int_equal(ust_bind(s, rx, (struct sockaddr *)&dst, sizeof(dst)), 0);

    static uint8_t big[60000], got[65536];
    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = (uint8_t)(i * 13);
    assert_int_equal(ust_sendto(s, tx, "hello", 5, 0, (struct sockaddr *)&dst, sizeof(dst)), 5);
    assert_int_equal(ust_sendto(s, tx, big, sizeof(big), 0, (struct sockaddr *)&dst, sizeof(dst)),
                     (ssize_t)sizeof(big));
    /* Nothing arrives before the stack runs. */
    errno = 0;
    assert_int_equal(ust_recvfrom(s, rx, got, sizeof(got), MSG_DONTWAIT, NULL, NULL), -1);
    assert_int_equal(errno, EAGAIN);

    uint64_t now = 0;
    for (int i = 0; i < 10 && now != UST_NO_DEADLINE; i++) {
        uint64_t next = ust_stack_poll(s, now);
        if (next != now)
            break;
    }
    struct sockaddr_in from;
    socklen_t fromlen = sizeof(from);
    assert_int_equal(ust_recvfrom(s, rx, got, sizeof(got), MSG_DONTWAIT,
                                  (struct sockaddr *)&from, &fromlen), 5);
    assert_memory_equal(got, "hello", 5);
    assert_int_equal(from.sin_addr.s_addr, htonl(INADDR_LOOPBACK));
    assert_int_equal(ust_recvfrom(s, rx, got, sizeof(got), MSG_DONTWAIT, NULL, NULL),
                     (ssize_t)sizeof(big));
    assert_memory_equal(got, big, sizeof(big));
    assert_int_equal(ust_stat_get(s, UST_STAT_IP_FragCreates), 0);
    ust_close(s, rx);
    ust_close(s, tx);
    ust_stack_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(transmit_queues_and_kicks_without_processing_inline),
        cmocka_unit_test(backlog_is_bounded),
        cmocka_unit_test(udp_over_loopback_needs_a_poll_and_never_fragments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
