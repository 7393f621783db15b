/* POSIX message queues against a reference model: 20000 random operations
 * (send with a random priority and length, receive, ranged receive) on one
 * queue, without a stack thread, compared step by step with a plain array
 * kept in (priority desc, send order) order. Proves the heap keeps
 * "highest priority first, FIFO within a priority" under any interleaving,
 * that ranged receives take the right message out of the middle, and that
 * EAGAIN comes exactly when the model is full or has no match.
 * Deterministic (fixed seed). */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "unit/ipc_dir_test_util.h"

#include <ustack/ustack.h>

#define MAXMSG 64
#define MSGSIZE 32
#define OPS 20000

struct model_msg {
    unsigned prio;
    uint32_t id;
    size_t len;
};

struct model {
    struct model_msg m[MAXMSG];
    unsigned n;
};

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)rng_state;
}

/* Inserts after every message of priority >= prio (FIFO within one). */
static void model_send(struct model *md, unsigned prio, uint32_t id, size_t len)
{
    unsigned i = 0;
    while (i < md->n && md->m[i].prio >= prio)
        i++;
    memmove(&md->m[i + 1], &md->m[i], (md->n - i) * sizeof(md->m[0]));
    md->m[i] = (struct model_msg){ prio, id, len };
    md->n++;
}

/* The first (= best) message with priority in [lo, hi], or -1. */
static int model_find(const struct model *md, unsigned lo, unsigned hi)
{
    for (unsigned i = 0; i < md->n; i++)
        if (md->m[i].prio >= lo && md->m[i].prio <= hi)
            return (int)i;
    return -1;
}

static void model_remove(struct model *md, unsigned i)
{
    memmove(&md->m[i], &md->m[i + 1], (md->n - i - 1) * sizeof(md->m[0]));
    md->n--;
}

static void fill(char *buf, uint32_t id, size_t len)
{
    for (size_t i = 0; i < len; i++)
        buf[i] = (char)(id * 31 + i);
}

static void test_mq_model_random_operations_match_reference(void **state)
{
    (void)state;
    struct ust_stack_config c;
    ust_stack_config_init(&c);
    c.mq_maxmsg_max = MAXMSG;
    struct ust_stack *s = ust_stack_new(&c);
    assert_non_null(s);
    struct mq_attr a = { .mq_maxmsg = MAXMSG, .mq_msgsize = MSGSIZE };
    int q = ust_mq_open(s, "/model", O_RDWR | O_CREAT | O_NONBLOCK, 0600, &a);
    assert_true(q >= 0);
    struct model md = { .n = 0 };
    uint32_t next_id = 0;
    char buf[MSGSIZE], want[MSGSIZE];
    unsigned received = 0;
    for (int op = 0; op < OPS; op++) {
        uint32_t r = rnd() % 10;
        if (r < 5) {                        /* send: few priorities, many ties */
            unsigned prio = rnd() % 8 * (rnd() % 4 == 0 ? 4000 : 1);
            size_t len = rnd() % (MSGSIZE + 1);
            uint32_t id = next_id++;
            fill(buf, id, len);
            if (len >= 4)
                memcpy(buf, &id, 4);
            int rc = ust_mq_send(s, q, buf, len, prio);
            if (md.n == MAXMSG) {
                assert_int_equal(rc, -1);
                assert_int_equal(errno, EAGAIN);
            } else {
                assert_int_equal(rc, 0);
                model_send(&md, prio, id, len);
            }
            continue;
        }
        unsigned lo = 0, hi = UST_MQ_PRIO_MAX - 1;
        if (r >= 8) {                       /* a ranged receive */
            lo = rnd() % 32000;
            hi = lo + rnd() % 8000;
            if (hi >= UST_MQ_PRIO_MAX)
                hi = UST_MQ_PRIO_MAX - 1;
        }
        unsigned prio = 0;
        ssize_t n = r >= 8 ? ust_mq_receive_prio(s, q, buf, sizeof(buf), &prio, lo, hi, 0, NULL)
                           : ust_mq_receive(s, q, buf, sizeof(buf), &prio);
        int i = model_find(&md, lo, hi);
        if (i < 0) {
            assert_int_equal(n, -1);
            assert_int_equal(errno, EAGAIN);
            continue;
        }
        struct model_msg m = md.m[i];
        model_remove(&md, (unsigned)i);
        assert_int_equal(n, (ssize_t)m.len);
        assert_int_equal(prio, m.prio);
        fill(want, m.id, m.len);
        if (m.len >= 4)
            memcpy(want, &m.id, 4);
        assert_memory_equal(buf, want, m.len);
        received++;
    }
    assert_true(received > OPS / 10);   /* the run exercised receives */
    struct mq_attr now;
    assert_int_equal(ust_mq_getattr(s, q, &now), 0);
    assert_int_equal(now.mq_curmsgs, md.n);
    ust_stack_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        ipc_dir_test(test_mq_model_random_operations_match_reference),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
