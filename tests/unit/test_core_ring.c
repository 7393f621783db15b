/* The byte ring: lazy allocation, partial writes, wrap-around, peek at any
 * offset (across the wrap), discard, resize (keeping contents, -EBUSY), large
 * 64-bit positions, and a randomized comparison against a trivial model. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/rand.h"
#include "core/ring.h"

static void fill_seq(uint8_t *p, size_t n, uint8_t first)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(first + i);
}

static void test_storage_allocated_on_first_write(void **state)
{
    (void)state;
    struct ust_ring r;
    ust_ring_init(&r, 100);
    uint8_t b[10];
    assert_null(r.buf);
    assert_int_equal(ust_ring_used(&r), 0);
    assert_int_equal(ust_ring_space(&r), 100);
    assert_int_equal(ust_ring_read(&r, b, 10), 0);
    assert_int_equal(ust_ring_peek(&r, 0, b, 10), 0);
    assert_int_equal(ust_ring_discard(&r, 10), 0);
    assert_int_equal(ust_ring_write(&r, b, 0), 0);
    assert_null(r.buf);
    assert_int_equal(ust_ring_resize(&r, 200), 0);      /* still nothing allocated */
    assert_null(r.buf);
    assert_int_equal(r.cap, 200);
    fill_seq(b, 10, 1);
    assert_int_equal(ust_ring_write(&r, b, 10), 10);
    assert_non_null(r.buf);
    ust_ring_free(&r);
    assert_null(r.buf);
    assert_int_equal(ust_ring_used(&r), 0);
}

static void test_write_is_partial_when_full(void **state)
{
    (void)state;
    struct ust_ring r;
    ust_ring_init(&r, 10);
    uint8_t in[15], out[15];
    fill_seq(in, 15, 0);
    assert_int_equal(ust_ring_write(&r, in, 15), 10);
    assert_int_equal(ust_ring_used(&r), 10);
    assert_int_equal(ust_ring_space(&r), 0);
    assert_int_equal(ust_ring_write(&r, in, 1), 0);
    assert_int_equal(ust_ring_read(&r, out, 15), 10);
    assert_memory_equal(out, in, 10);
    assert_int_equal(r.head, 10);
    assert_int_equal(r.tail, 10);
    ust_ring_free(&r);
}

static void test_wraparound_and_peek_across_it(void **state)
{
    (void)state;
    struct ust_ring r;
    ust_ring_init(&r, 10);       /* not a power of two */
    uint8_t in[16], out[16];
    fill_seq(in, 16, 100);
    assert_int_equal(ust_ring_write(&r, in, 7), 7);
    assert_int_equal(ust_ring_read(&r, out, 5), 5);
    assert_memory_equal(out, in, 5);
    /* head at 5, tail at 7: 8 more bytes wrap past the end of the storage. */
    assert_int_equal(ust_ring_write(&r, in + 7, 8), 8);
    assert_int_equal(ust_ring_used(&r), 10);
    /* Offsets 0..9 map to positions 5..14, i.e. storage 5..9 then 0..4. */
    for (size_t off = 0; off < 10; off++) {
        for (size_t n = 1; n <= 10 - off; n++) {
            memset(out, 0, sizeof(out));
            assert_int_equal(ust_ring_peek(&r, off, out, n), n);
            assert_memory_equal(out, in + 5 + off, n);
        }
        /* Asking for more than there is: only what is there. */
        assert_int_equal(ust_ring_peek(&r, off, out, 16), 10 - off);
    }
    assert_int_equal(ust_ring_peek(&r, 10, out, 1), 0);
    assert_int_equal(ust_ring_peek(&r, 1000, out, 1), 0);
    assert_int_equal(ust_ring_used(&r), 10);            /* peek consumed nothing */
    assert_int_equal(ust_ring_read(&r, out, 16), 10);
    assert_memory_equal(out, in + 5, 10);
    ust_ring_free(&r);
}

static void test_discard_consumes_without_copy(void **state)
{
    (void)state;
    struct ust_ring r;
    ust_ring_init(&r, 8);
    uint8_t in[8], out[8];
    fill_seq(in, 8, 0);
    ust_ring_write(&r, in, 8);
    assert_int_equal(ust_ring_discard(&r, 3), 3);
    assert_int_equal(ust_ring_used(&r), 5);
    assert_int_equal(ust_ring_read(&r, out, 2), 2);
    assert_memory_equal(out, in + 3, 2);
    assert_int_equal(ust_ring_discard(&r, 100), 3);
    assert_int_equal(ust_ring_used(&r), 0);
    assert_int_equal(r.head, 8);
    ust_ring_free(&r);
}

static void test_resize_keeps_contents_or_refuses(void **state)
{
    (void)state;
    struct ust_ring r;
    ust_ring_init(&r, 10);
    uint8_t in[64], out[64];
    fill_seq(in, 64, 1);
    ust_ring_write(&r, in, 8);
    ust_ring_discard(&r, 6);
    ust_ring_write(&r, in + 8, 7);      /* 9 bytes used, wrapped (5 at the end, 4 at start) */
    assert_int_equal(ust_ring_used(&r), 9);

    assert_int_equal(ust_ring_resize(&r, 8), -EBUSY);
    assert_int_equal(r.cap, 10);
    assert_int_equal(ust_ring_peek(&r, 0, out, 9), 9);
    assert_memory_equal(out, in + 6, 9);

    /* Grow: same positions, same bytes, more space. */
    uint64_t head = r.head, tail = r.tail;
    assert_int_equal(ust_ring_resize(&r, 37), 0);
    assert_int_equal(r.head, head);
    assert_int_equal(r.tail, tail);
    assert_int_equal(ust_ring_space(&r), 28);
    assert_int_equal(ust_ring_peek(&r, 0, out, 64), 9);
    assert_memory_equal(out, in + 6, 9);
    assert_int_equal(ust_ring_write(&r, in + 15, 28), 28);
    assert_int_equal(ust_ring_peek(&r, 0, out, 64), 37);
    assert_memory_equal(out, in + 6, 37);

    /* Shrink to exactly what is used. */
    ust_ring_discard(&r, 30);
    assert_int_equal(ust_ring_resize(&r, 7), 0);
    assert_int_equal(ust_ring_space(&r), 0);
    assert_int_equal(ust_ring_read(&r, out, 64), 7);
    assert_memory_equal(out, in + 36, 7);

    /* Resizing an empty ring drops the storage until the next write. */
    assert_int_equal(ust_ring_resize(&r, 5), 0);
    assert_null(r.buf);
    assert_int_equal(ust_ring_write(&r, in, 9), 5);
    assert_int_equal(ust_ring_read(&r, out, 9), 5);
    assert_memory_equal(out, in, 5);
    assert_int_equal(ust_ring_resize(&r, 5), 0);        /* same size: no-op */
    ust_ring_free(&r);
}

static void test_large_positions(void **state)
{
    (void)state;
    /* After terabytes have gone through, positions are beyond 32 bits. */
    struct ust_ring r;
    ust_ring_init(&r, 1000);
    r.head = r.tail = (1ull << 40) + 123;
    uint8_t in[1500], out[1500];
    fill_seq(in, sizeof(in), 9);
    for (int round = 0; round < 50; round++) {
        assert_int_equal(ust_ring_write(&r, in, 700), 700);
        assert_int_equal(ust_ring_peek(&r, 100, out, 600), 600);
        assert_memory_equal(out, in + 100, 600);
        assert_int_equal(ust_ring_read(&r, out, 1500), 700);
        assert_memory_equal(out, in, 700);
    }
    assert_int_equal(r.head, (1ull << 40) + 123 + 50 * 700);
    ust_ring_free(&r);
}

/* The model: a flat array holding the ring's bytes, front first. */
struct model {
    uint8_t *d;
    size_t len, cap;
};

static void test_random_ops_match_model(void **state)
{
    (void)state;
    struct ust_rng rng;
    ust_rng_seed(&rng, 42);
    struct ust_ring r;
    size_t cap = 97;
    ust_ring_init(&r, cap);
    struct model m = {malloc(4096), 0, cap};
    uint8_t *src = malloc(4096), *out = malloc(4096);
    assert_non_null(m.d);
    assert_non_null(src);
    assert_non_null(out);
    uint64_t written = 0, consumed = 0;

    for (int op = 0; op < 20000; op++) {
        size_t n = (size_t)ust_rng_below(&rng, m.cap + 20);
        switch (ust_rng_below(&rng, 10)) {
        case 0: case 1: case 2: {          /* write */
            for (size_t i = 0; i < n; i++)
                src[i] = (uint8_t)ust_rng_next(&rng);
            size_t want = n < m.cap - m.len ? n : m.cap - m.len;
            assert_int_equal(ust_ring_write(&r, src, n), want);
            memcpy(m.d + m.len, src, want);
            m.len += want;
            written += want;
            break;
        }
        case 3: case 4: {                  /* read */
            size_t want = n < m.len ? n : m.len;
            assert_int_equal(ust_ring_read(&r, out, n), want);
            assert_memory_equal(out, m.d, want);
            memmove(m.d, m.d + want, m.len - want);
            m.len -= want;
            consumed += want;
            break;
        }
        case 5: case 6: {                  /* peek at an offset */
            size_t off = (size_t)ust_rng_below(&rng, m.len + 5);
            size_t want = off >= m.len ? 0 : (n < m.len - off ? n : m.len - off);
            assert_int_equal(ust_ring_peek(&r, off, out, n), want);
            assert_memory_equal(out, m.d + (off < m.len ? off : 0), want);
            break;
        }
        case 7: {                          /* discard */
            size_t want = n < m.len ? n : m.len;
            assert_int_equal(ust_ring_discard(&r, n), want);
            memmove(m.d, m.d + want, m.len - want);
            m.len -= want;
            consumed += want;
            break;
        }
        default: {                         /* resize */
            size_t nc = 1 + (size_t)ust_rng_below(&rng, 300);
            int rc = ust_ring_resize(&r, nc);
            if (m.len > nc) {
                assert_int_equal(rc, -EBUSY);
            } else {
                assert_int_equal(rc, 0);
                m.cap = nc;
            }
            break;
        }
        }
        assert_int_equal(ust_ring_used(&r), m.len);
        assert_int_equal(ust_ring_space(&r), m.cap - m.len);
        assert_int_equal(r.cap, m.cap);
        assert_int_equal(r.tail, written);
        assert_int_equal(r.head, consumed);
    }
    /* Whole contents at the end. */
    assert_int_equal(ust_ring_peek(&r, 0, out, 4096), m.len);
    assert_memory_equal(out, m.d, m.len);
    ust_ring_free(&r);
    free(m.d);
    free(src);
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_storage_allocated_on_first_write),
        cmocka_unit_test(test_write_is_partial_when_full),
        cmocka_unit_test(test_wraparound_and_peek_across_it),
        cmocka_unit_test(test_discard_consumes_without_copy),
        cmocka_unit_test(test_resize_keeps_contents_or_refuses),
        cmocka_unit_test(test_large_positions),
        cmocka_unit_test(test_random_ops_match_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
