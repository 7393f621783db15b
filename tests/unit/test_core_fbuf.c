/* Frame buffers and their pool: layout (headroom, put/push/pull/trim), size
 * classes, the memory limit and its counter, reuse through the free lists,
 * clone, and the buffer queue. Uses a bare struct ust_stack with only the
 * pool set up, so it does not depend on the rest of the stack. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/fbuf.h"
#include "stack/stack_impl.h"

#define SMALL_CAP (UST_FBUF_HEADROOM + 2048u)
#define BIG_CAP (UST_FBUF_HEADROOM + UST_FBUF_MAX)

static struct ust_stack *stack_with_pool(size_t limit)
{
    struct ust_stack *s = calloc(1, sizeof(*s));
    assert_non_null(s);
    s->cfg.name = "test";
    ust_fbpool_init(&s->fbpool, limit);
    return s;
}

/* Every buffer handed out must have come back. */
static void stack_done(struct ust_stack *s)
{
    assert_int_equal(s->fbpool.allocs, s->fbpool.frees);
    assert_int_equal(s->fbpool.in_use_bytes, 0);
    ust_fbpool_fini(&s->fbpool);
    assert_null(s->fbpool.free[0]);
    assert_null(s->fbpool.free[1]);
    free(s);
}

static uint64_t alloc_fails(const struct ust_stack *s)
{
    return s->stats[UST_STAT_MEM_FbufAllocFails];
}

static void test_alloc_has_headroom_and_clean_fields(void **state)
{
    (void)state;
    struct ust_stack *s = stack_with_pool(1u << 20);
    struct ust_fbuf *fb = ust_fbuf_alloc(s, 100);
    assert_non_null(fb);
    assert_ptr_equal(fb->data, fb->buf + UST_FBUF_HEADROOM);
    assert_int_equal(ust_fbuf_headroom(fb), UST_FBUF_HEADROOM);
    assert_int_equal(fb->len, 0);
    assert_int_equal(fb->cap, SMALL_CAP);
    assert_int_equal(ust_fbuf_tailroom(fb), 2048);
    assert_null(fb->l3);
    assert_null(fb->netif);
    assert_null(fb->next);
    assert_int_equal(fb->flags, 0);
    assert_int_equal(fb->tstamp, 0);
    assert_int_equal(fb->cb.raw[0] | fb->cb.raw[1] | fb->cb.raw[2], 0);

    /* Dirty everything, recycle it: the reused buffer comes back clean. */
    ust_fbuf_put(fb, 50);
    ust_fbuf_pull(fb, 10);
    fb->l3 = fb->data;
    fb->netif = (struct ust_netif *)(uintptr_t)0x1234;
    fb->flags = UST_FB_BROADCAST | UST_FB_CSUM_VERIFIED;
    fb->tstamp = 99;
    fb->cb.raw[0] = fb->cb.raw[1] = fb->cb.raw[2] = ~0ull;
    ust_fbuf_free(s, fb);
    struct ust_fbuf *again = ust_fbuf_alloc(s, 10);
    assert_ptr_equal(again, fb);
    assert_ptr_equal(again->data, again->buf + UST_FBUF_HEADROOM);
    assert_int_equal(again->len, 0);
    assert_null(again->l3);
    assert_null(again->netif);
    assert_int_equal(again->flags, 0);
    assert_int_equal(again->tstamp, 0);
    assert_int_equal(again->cb.raw[0] | again->cb.raw[1] | again->cb.raw[2], 0);
    ust_fbuf_free(s, again);
    ust_fbuf_free(s, NULL);     /* no-op */
    stack_done(s);
}

static void test_put_push_pull_trim_respect_bounds(void **state)
{
    (void)state;
    struct ust_stack *s = stack_with_pool(1u << 20);
    struct ust_fbuf *fb = ust_fbuf_alloc(s, 0);
    assert_non_null(fb);
    uint8_t *start = fb->data;

    uint8_t *p = ust_fbuf_put(fb, 100);
    assert_ptr_equal(p, start);
    assert_int_equal(fb->len, 100);
    memset(p, 0xab, 100);
    assert_int_equal(ust_fbuf_tailroom(fb), 2048 - 100);
    assert_null(ust_fbuf_put(fb, 2048 - 100 + 1));
    assert_int_equal(fb->len, 100);
    p = ust_fbuf_put(fb, 2048 - 100);       /* exactly fills the tailroom */
    assert_ptr_equal(p, start + 100);
    assert_int_equal(ust_fbuf_tailroom(fb), 0);
    assert_null(ust_fbuf_put(fb, 1));
    ust_fbuf_trim(fb, 100);
    assert_int_equal(fb->len, 100);
    ust_fbuf_trim(fb, 500);                 /* longer than len: no change */
    assert_int_equal(fb->len, 100);

    /* Prepend a 14-byte "Ethernet header", then a 20-byte one before it. */
    p = ust_fbuf_push(fb, 20);
    assert_ptr_equal(p, start - 20);
    p = ust_fbuf_push(fb, 14);
    assert_ptr_equal(p, start - 34);
    assert_int_equal(fb->len, 134);
    assert_int_equal(ust_fbuf_headroom(fb), UST_FBUF_HEADROOM - 34);
    assert_null(ust_fbuf_push(fb, UST_FBUF_HEADROOM - 34 + 1));
    assert_int_equal(fb->len, 134);
    assert_non_null(ust_fbuf_push(fb, UST_FBUF_HEADROOM - 34));
    assert_int_equal(ust_fbuf_headroom(fb), 0);
    assert_ptr_equal(fb->data, fb->buf);

    /* And strip them again. */
    assert_true(ust_fbuf_pull(fb, UST_FBUF_HEADROOM));
    assert_ptr_equal(fb->data, start);
    assert_int_equal(fb->len, 100);
    assert_int_equal(fb->data[0], 0xab);
    assert_false(ust_fbuf_pull(fb, 101));
    assert_int_equal(fb->len, 100);
    assert_true(ust_fbuf_pull(fb, 100));
    assert_int_equal(fb->len, 0);
    assert_true(ust_fbuf_pull(fb, 0));
    assert_false(ust_fbuf_pull(fb, 1));
    ust_fbuf_free(s, fb);
    stack_done(s);
}

static void test_size_classes(void **state)
{
    (void)state;
    struct ust_stack *s = stack_with_pool(64u << 20);
    struct ust_fbuf *a = ust_fbuf_alloc(s, 2048);
    struct ust_fbuf *b = ust_fbuf_alloc(s, 2049);
    struct ust_fbuf *c = ust_fbuf_alloc(s, UST_FBUF_MAX);
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(c);
    assert_int_equal(a->size_class, 0);
    assert_int_equal(a->cap, SMALL_CAP);
    assert_int_equal(b->size_class, 1);
    assert_int_equal(b->cap, BIG_CAP);
    assert_int_equal(ust_fbuf_tailroom(c), UST_FBUF_MAX);
    assert_int_equal(s->fbpool.in_use_bytes, SMALL_CAP + 2 * BIG_CAP);
    /* The whole payload area is writable (ASan checks the bounds). */
    memset(ust_fbuf_put(c, UST_FBUF_MAX), 0x5a, UST_FBUF_MAX);
    memset(ust_fbuf_push(c, UST_FBUF_HEADROOM), 0xa5, UST_FBUF_HEADROOM);

    /* Too big for any buffer: refused, and it is not a memory shortage. */
    assert_null(ust_fbuf_alloc(s, UST_FBUF_MAX + 1));
    assert_int_equal(alloc_fails(s), 0);
    assert_int_equal(s->fbpool.allocs, 3);

    ust_fbuf_free(s, a);
    ust_fbuf_free(s, b);
    ust_fbuf_free(s, c);
    assert_int_equal(s->fbpool.nfree[0], 1);
    assert_int_equal(s->fbpool.nfree[1], 2);
    stack_done(s);
}

static void test_limit_refuses_and_counts(void **state)
{
    (void)state;
    /* Room for three small buffers, not for a big one. */
    struct ust_stack *s = stack_with_pool(3 * SMALL_CAP);
    struct ust_fbuf *fb[3];
    for (int i = 0; i < 3; i++) {
        fb[i] = ust_fbuf_alloc(s, 1500);
        assert_non_null(fb[i]);
    }
    assert_int_equal(s->fbpool.in_use_bytes, 3 * SMALL_CAP);
    assert_null(ust_fbuf_alloc(s, 1500));
    assert_int_equal(alloc_fails(s), 1);
    assert_null(ust_fbuf_alloc(s, 0));
    assert_int_equal(alloc_fails(s), 2);
    assert_int_equal(s->fbpool.allocs, 3);

    /* Freeing one makes room for exactly one again. */
    ust_fbuf_free(s, fb[1]);
    assert_int_equal(s->fbpool.in_use_bytes, 2 * SMALL_CAP);
    fb[1] = ust_fbuf_alloc(s, 1500);
    assert_non_null(fb[1]);
    assert_null(ust_fbuf_alloc(s, 1));
    assert_int_equal(alloc_fails(s), 3);

    /* Cached free buffers do not count against the limit. */
    for (int i = 0; i < 3; i++)
        ust_fbuf_free(s, fb[i]);
    assert_int_equal(s->fbpool.in_use_bytes, 0);
    assert_int_equal(s->fbpool.nfree[0], 3);
    assert_null(ust_fbuf_alloc(s, 3000));       /* a big one never fits */
    assert_int_equal(alloc_fails(s), 4);
    stack_done(s);
}

static void test_big_class_limit_independent_of_small(void **state)
{
    (void)state;
    struct ust_stack *s = stack_with_pool(BIG_CAP + SMALL_CAP);
    struct ust_fbuf *big = ust_fbuf_alloc(s, 60000);
    assert_non_null(big);
    assert_null(ust_fbuf_alloc(s, 60000));
    struct ust_fbuf *small = ust_fbuf_alloc(s, 60);
    assert_non_null(small);
    assert_null(ust_fbuf_alloc(s, 60));
    assert_int_equal(alloc_fails(s), 2);
    ust_fbuf_free(s, big);
    ust_fbuf_free(s, small);
    stack_done(s);
}

static void test_free_list_reuse_is_bounded(void **state)
{
    (void)state;
    struct ust_stack *s = stack_with_pool(64u << 20);
    enum { N = 300 };
    struct ust_fbuf **fb = calloc(N, sizeof(*fb));
    assert_non_null(fb);
    for (int i = 0; i < N; i++)
        assert_non_null(fb[i] = ust_fbuf_alloc(s, 1000));
    for (int i = 0; i < N; i++)
        ust_fbuf_free(s, fb[i]);
    assert_int_equal(s->fbpool.nfree[0], s->fbpool.max_free[0]);
    assert_int_equal(s->fbpool.max_free[0], 256);
    assert_int_equal(s->fbpool.allocs, N);
    assert_int_equal(s->fbpool.frees, N);

    /* The warm path reuses the cached buffers, LIFO. */
    struct ust_fbuf *last = fb[s->fbpool.max_free[0] - 1];
    struct ust_fbuf *x = ust_fbuf_alloc(s, 10);
    assert_ptr_equal(x, last);
    assert_int_equal(s->fbpool.nfree[0], 255);
    ust_fbuf_free(s, x);

    /* Big class: its own list, its own bound. */
    for (int i = 0; i < 20; i++)
        assert_non_null(fb[i] = ust_fbuf_alloc(s, 9000));
    for (int i = 0; i < 20; i++)
        ust_fbuf_free(s, fb[i]);
    assert_int_equal(s->fbpool.nfree[1], s->fbpool.max_free[1]);
    assert_int_equal(s->fbpool.nfree[0], 256);
    free(fb);
    stack_done(s);
}

static void test_clone_copies_data_metadata_and_l3(void **state)
{
    (void)state;
    struct ust_stack *s = stack_with_pool(1u << 20);
    struct ust_fbuf *fb = ust_fbuf_alloc(s, 200);
    assert_non_null(fb);
    uint8_t *p = ust_fbuf_put(fb, 200);
    for (int i = 0; i < 200; i++)
        p[i] = (uint8_t)i;
    /* As IPv4 input leaves it: l3 at the IP header, data past it (pulled). */
    fb->l3 = fb->data;
    assert_true(ust_fbuf_pull(fb, 20));
    fb->flags = UST_FB_BROADCAST;
    fb->tstamp = 123456789;
    fb->netif = (struct ust_netif *)(uintptr_t)0x1000;
    fb->cb.dgram.saddr = 0x0a000001;
    fb->cb.dgram.sport = 53;
    fb->cb.dgram.ttl = 7;

    struct ust_fbuf *c = ust_fbuf_clone(s, fb);
    assert_non_null(c);
    assert_ptr_not_equal(c, fb);
    assert_ptr_not_equal(c->buf, fb->buf);
    assert_int_equal(ust_fbuf_headroom(c), ust_fbuf_headroom(fb));
    assert_int_equal(c->len, 180);
    assert_memory_equal(c->data, fb->data, 180);
    assert_ptr_equal(c->l3, c->buf + (fb->l3 - fb->buf));
    assert_memory_equal(c->l3, fb->l3, 20);     /* the pulled header came along */
    assert_int_equal(c->flags, UST_FB_BROADCAST);
    assert_int_equal(c->tstamp, 123456789);
    assert_ptr_equal(c->netif, fb->netif);
    assert_int_equal(c->cb.dgram.saddr, 0x0a000001);
    assert_int_equal(c->cb.dgram.sport, 53);
    assert_int_equal(c->cb.dgram.ttl, 7);
    assert_null(c->next);

    /* Independent storage. */
    fb->data[0] ^= 0xff;
    assert_int_equal(c->data[0], 20);
    assert_int_equal(s->fbpool.allocs, 2);

    /* l3 not set, or pointing outside the buffer: the clone has none. */
    fb->l3 = NULL;
    struct ust_fbuf *c2 = ust_fbuf_clone(s, fb);
    assert_non_null(c2);
    assert_null(c2->l3);
    uint8_t elsewhere[4];
    fb->l3 = elsewhere;
    struct ust_fbuf *c3 = ust_fbuf_clone(s, fb);
    assert_non_null(c3);
    assert_null(c3->l3);
    assert_memory_equal(c3->data, fb->data, fb->len);

    ust_fbuf_free(s, fb);
    ust_fbuf_free(s, c);
    ust_fbuf_free(s, c2);
    ust_fbuf_free(s, c3);
    stack_done(s);
}

static void test_clone_picks_smallest_class_that_fits(void **state)
{
    (void)state;
    struct ust_stack *s = stack_with_pool(4u << 20);
    /* A 64 KiB datagram (loopback) cloned: big class. */
    struct ust_fbuf *big = ust_fbuf_alloc(s, UST_FBUF_MAX);
    uint8_t *p = ust_fbuf_put(big, UST_FBUF_MAX);
    for (size_t i = 0; i < UST_FBUF_MAX; i++)
        p[i] = (uint8_t)(i * 7);
    struct ust_fbuf *c = ust_fbuf_clone(s, big);
    assert_non_null(c);
    assert_int_equal(c->size_class, 1);
    assert_memory_equal(c->data, big->data, UST_FBUF_MAX);

    /* A small datagram in a big buffer: the clone is small. */
    ust_fbuf_trim(big, 100);
    struct ust_fbuf *c2 = ust_fbuf_clone(s, big);
    assert_non_null(c2);
    assert_int_equal(c2->size_class, 0);
    assert_memory_equal(c2->data, big->data, 100);

    /* Data far into a small buffer: same headroom still fits. */
    struct ust_fbuf *fb = ust_fbuf_alloc(s, 2048);
    ust_fbuf_put(fb, 2048);
    assert_true(ust_fbuf_pull(fb, 2000));
    memset(fb->data, 0x77, 48);
    struct ust_fbuf *c3 = ust_fbuf_clone(s, fb);
    assert_non_null(c3);
    assert_int_equal(ust_fbuf_headroom(c3), UST_FBUF_HEADROOM + 2000);
    assert_int_equal(c3->len, 48);
    assert_memory_equal(c3->data, fb->data, 48);

    ust_fbuf_free(s, big);
    ust_fbuf_free(s, c);
    ust_fbuf_free(s, c2);
    ust_fbuf_free(s, fb);
    ust_fbuf_free(s, c3);
    stack_done(s);
}

static void test_clone_fails_at_limit(void **state)
{
    (void)state;
    struct ust_stack *s = stack_with_pool(SMALL_CAP);
    struct ust_fbuf *fb = ust_fbuf_alloc(s, 10);
    assert_non_null(fb);
    assert_null(ust_fbuf_clone(s, fb));
    assert_int_equal(alloc_fails(s), 1);
    ust_fbuf_free(s, fb);
    stack_done(s);
}

static void test_fbq_is_fifo_with_counts(void **state)
{
    (void)state;
    struct ust_stack *s = stack_with_pool(1u << 20);
    struct ust_fbq q;
    ust_fbq_init(&q);
    assert_null(ust_fbq_pop(&q));
    struct ust_fbuf *fb[5];
    size_t bytes = 0;
    for (int i = 0; i < 5; i++) {
        fb[i] = ust_fbuf_alloc(s, 100);
        ust_fbuf_put(fb[i], (size_t)(10 * (i + 1)));
        ust_fbq_push(&q, fb[i]);
        bytes += (size_t)(10 * (i + 1));
        assert_int_equal(q.count, i + 1);
        assert_int_equal(q.bytes, bytes);
    }
    assert_ptr_equal(ust_fbq_pop(&q), fb[0]);
    assert_ptr_equal(ust_fbq_pop(&q), fb[1]);
    assert_int_equal(q.count, 3);
    assert_int_equal(q.bytes, 30 + 40 + 50);
    ust_fbq_push(&q, fb[0]);                  /* to the tail */
    assert_ptr_equal(ust_fbq_pop(&q), fb[2]);
    assert_ptr_equal(ust_fbq_pop(&q), fb[3]);
    assert_ptr_equal(ust_fbq_pop(&q), fb[4]);
    assert_ptr_equal(ust_fbq_pop(&q), fb[0]);
    assert_null(ust_fbq_pop(&q));
    assert_int_equal(q.count, 0);
    assert_int_equal(q.bytes, 0);
    assert_null(q.head);
    assert_null(q.tail);

    /* Purge frees everything queued. */
    for (int i = 0; i < 5; i++)
        ust_fbq_push(&q, fb[i]);
    ust_fbuf_free(s, ust_fbq_pop(&q));
    uint64_t frees = s->fbpool.frees;
    ust_fbq_purge(s, &q);
    assert_int_equal(s->fbpool.frees, frees + 4);
    assert_int_equal(q.count, 0);
    assert_int_equal(q.bytes, 0);
    assert_null(ust_fbq_pop(&q));
    stack_done(s);
}

/* The leak check itself works: an outstanding buffer shows in the counters. */
static void test_counters_reveal_a_leak(void **state)
{
    (void)state;
    struct ust_stack *s = stack_with_pool(1u << 20);
    struct ust_fbuf *fb = ust_fbuf_alloc(s, 10);
    assert_int_not_equal(s->fbpool.allocs, s->fbpool.frees);
    assert_int_equal(s->fbpool.in_use_bytes, SMALL_CAP);
    ust_fbuf_free(s, fb);
    stack_done(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alloc_has_headroom_and_clean_fields),
        cmocka_unit_test(test_put_push_pull_trim_respect_bounds),
        cmocka_unit_test(test_size_classes),
        cmocka_unit_test(test_limit_refuses_and_counts),
        cmocka_unit_test(test_big_class_limit_independent_of_small),
        cmocka_unit_test(test_free_list_reuse_is_bounded),
        cmocka_unit_test(test_clone_copies_data_metadata_and_l3),
        cmocka_unit_test(test_clone_picks_smallest_class_that_fits),
        cmocka_unit_test(test_clone_fails_at_limit),
        cmocka_unit_test(test_fbq_is_fifo_with_counts),
        cmocka_unit_test(test_counters_reveal_a_leak),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
