/* A peer that sends thousands of 1-byte segments out of order, each with a
 * hole before it, against a scripted connection (test_tcp_rules_peer.h).
 * Every such segment arrives in a whole frame buffer, so the out-of-order
 * queue is bounded by what its buffers cost (twice the receive buffer, as
 * Linux charges truesize against a doubled SO_RCVBUF), not only by the
 * payload: the frames pinned stay within that bound, the rest are dropped
 * and counted, and once the holes are filled the stream is byte-exact and
 * every buffer is back in the pool. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "unit/test_tcp_rules_peer.h"

#define TINY 2000

static void tiny_out_of_order_segments_cannot_pin_a_buffer_each(void **state)
{
    (void)state;
    struct tp p;
    tp_init(&p, NULL);
    p.pport = 40000;
    int lfd = tp_listen(&p, 80, 4);
    struct ust_tcp_opts o = { .present = UST_TCPO_MSS | UST_TCPO_SACK_PERM, .mss = 1460 };
    int fd = tp_peer_connects(&p, lfd, &o, 10 * TP_MS);
    struct ust_tcb *t = tp_tcb(&p);
    assert_non_null(t);
    size_t base_bytes = p.stack->fbpool.in_use_bytes;
    uint64_t drops = ust_stat_get(p.stack, UST_STAT_TCP_TCPOFODrop);
    uint32_t start = p.snd_nxt;

    /* Bytes start+1, start+3, ...: a hole before each one. */
    for (uint32_t k = 0; k < TINY; k++)
        tp_inject(&p, start + 1 + 2 * k, p.rcv_nxt, UST_TCP_ACK, 65535, NULL, 1);
    size_t cap = t->rcv.cap;
    assert_true(t->ooo_truesize <= 2 * cap);
    assert_true(t->ooo.count < TINY);
    assert_true(ust_stat_get(p.stack, UST_STAT_TCP_TCPOFODrop) > drops);
    /* What the flood pins: the queued buffers only (about 2 x rcvbuf). */
    assert_true(p.stack->fbpool.in_use_bytes - base_bytes <= 2 * cap + 4096);

    /* The whole range, in order: the stream is exact, the queue drains. */
    uint32_t total = 2 * TINY + 1;
    tp_inject(&p, start, p.rcv_nxt, UST_TCP_ACK, 65535, NULL, 1000);
    for (uint32_t off = 1000; off < total; off += 1000)
        tp_inject(&p, start + off, p.rcv_nxt, UST_TCP_ACK, 65535, NULL,
                  total - off < 1000 ? total - off : 1000);
    static uint8_t buf[8192];
    size_t got = 0;
    ssize_t n;
    while ((n = ust_recv(p.stack, fd, buf + got, sizeof(buf) - got, 0)) > 0)
        got += (size_t)n;
    assert_int_equal(got, total);
    /* tp_inject fills byte i of a segment with (uint8_t)i. In-order data
     * wins over what was queued (as in Linux), so every byte is the one the
     * 1000-byte pieces carried. */
    for (size_t i = 0; i < total; i++)
        assert_int_equal(buf[i], (uint8_t)(i % 1000));
    assert_null(t->ooo.head);
    assert_int_equal(t->ooo_truesize, 0);
    assert_int_equal(t->ooo_bytes, 0);
    assert_true(p.stack->fbpool.in_use_bytes <= base_bytes);
    ust_close(p.stack, fd);
    ust_close(p.stack, lfd);
    tp_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tiny_out_of_order_segments_cannot_pin_a_buffer_each),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
