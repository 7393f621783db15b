/* System V message queues against a reference model: 20000 random
 * operations (msgsnd with random types and sizes, msgrcv with msgtyp 0,
 * > 0, < 0, MSG_EXCEPT, MSG_NOERROR, MSG_COPY, short buffers) on one queue,
 * without a stack thread, compared step by step with a plain FIFO array
 * implementing msgop(2)'s rules (Linux's reading of negative msgtyp).
 * Proves selection, E2BIG leaving the message queued, truncation, the
 * byte and count limits (EAGAIN) and ENOMSG under any interleaving, and
 * that msg_qnum / msg_cbytes track the model. Deterministic (fixed seed). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "unit/ipc_dir_test_util.h"

#include <ustack/ustack.h>

#define QBYTES 600
#define MAXLEN 64
#define OPS 20000
#define MAXQ QBYTES         /* messages are bounded by msg_qbytes too */

struct model_msg {
    long type;
    uint32_t id;
    size_t len;
};

struct model {
    struct model_msg m[MAXQ];
    unsigned n;
    size_t bytes;
};

struct tmsg {
    long mtype;
    char mtext[MAXLEN];
};

static uint64_t rng_state = 0x2545f4914f6cdd1dull;

static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)rng_state;
}

static void fill(char *buf, uint32_t id, size_t len)
{
    for (size_t i = 0; i < len; i++)
        buf[i] = (char)(id * 7 + i * 13);
}

/* msgop(2) selection; MSG_COPY picks by position. -1: none. */
static int model_find(const struct model *md, long msgtyp, int flags)
{
    if (flags & MSG_COPY)
        return msgtyp >= 0 && (unsigned long)msgtyp < md->n ? (int)msgtyp : -1;
    int best = -1;
    for (unsigned i = 0; i < md->n; i++) {
        long t = md->m[i].type;
        if (msgtyp == 0)
            return (int)i;
        if (msgtyp > 0) {
            if ((flags & MSG_EXCEPT) ? t != msgtyp : t == msgtyp)
                return (int)i;
        } else if (t <= -msgtyp && (best < 0 || t < md->m[best].type)) {
            best = (int)i;
        }
    }
    return best;
}

static void test_msg_model_random_operations_match_reference(void **state)
{
    (void)state;
    struct ust_stack *s = ust_stack_new(NULL);
    assert_non_null(s);
    int id = ust_msgget(s, IPC_PRIVATE, 0600);
    struct msqid_ds ds;
    assert_int_equal(ust_msgctl(s, id, IPC_STAT, &ds), 0);
    ds.msg_qbytes = QBYTES;
    assert_int_equal(ust_msgctl(s, id, IPC_SET, &ds), 0);
    static struct model md;
    uint32_t next_id = 0;
    unsigned received = 0;
    for (int op = 0; op < OPS; op++) {
        struct tmsg m;
        if (rnd() % 2 == 0) {
            size_t len = rnd() % 4 == 0 ? 0 : rnd() % (MAXLEN + 1);
            long type = 1 + rnd() % 6;
            uint32_t mid = next_id++;
            m.mtype = type;
            fill(m.mtext, mid, len);
            int rc = ust_msgsnd(s, id, &m, len, IPC_NOWAIT);
            if (md.bytes + len > QBYTES || md.n + 1 > QBYTES) {
                assert_int_equal(rc, -1);
                assert_int_equal(errno, EAGAIN);
            } else {
                assert_int_equal(rc, 0);
                md.m[md.n++] = (struct model_msg){ type, mid, len };
                md.bytes += len;
            }
            continue;
        }
        int flags = IPC_NOWAIT;
        long msgtyp;
        switch (rnd() % 5) {
        case 0: msgtyp = 0; break;
        case 1: msgtyp = 1 + rnd() % 7; break;
        case 2: msgtyp = -(long)(1 + rnd() % 7); break;
        case 3: msgtyp = 1 + rnd() % 7; flags |= MSG_EXCEPT; break;
        default: msgtyp = rnd() % 8; flags |= MSG_COPY; break;
        }
        if (rnd() % 3 == 0)
            flags |= MSG_NOERROR;
        size_t bufsz = rnd() % 4 == 0 ? rnd() % (MAXLEN / 2) : MAXLEN;
        ssize_t n = ust_msgrcv(s, id, &m, bufsz, msgtyp, flags);
        int i = model_find(&md, msgtyp, flags);
        if (i < 0) {
            assert_int_equal(n, -1);
            assert_int_equal(errno, ENOMSG);
            continue;
        }
        struct model_msg want = md.m[i];
        if (want.len > bufsz && !(flags & MSG_NOERROR)) {
            assert_int_equal(n, -1);
            assert_int_equal(errno, E2BIG);     /* and it stays queued */
            continue;
        }
        size_t got = want.len < bufsz ? want.len : bufsz;
        assert_int_equal(n, (ssize_t)got);
        assert_int_equal(m.mtype, want.type);
        char text[MAXLEN];
        fill(text, want.id, want.len);
        assert_memory_equal(m.mtext, text, got);
        received++;
        if (!(flags & MSG_COPY)) {
            md.bytes -= want.len;
            memmove(&md.m[i], &md.m[i + 1], (md.n - (unsigned)i - 1) * sizeof(md.m[0]));
            md.n--;
        }
        if (op % 97 == 0) {
            assert_int_equal(ust_msgctl(s, id, IPC_STAT, &ds), 0);
            assert_int_equal(ds.msg_qnum, md.n);
            assert_int_equal(ds.__msg_cbytes, md.bytes);
        }
    }
    assert_true(received > OPS / 10);   /* the run exercised receives */
    ust_stack_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        ipc_dir_test(test_msg_model_random_operations_match_reference),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
