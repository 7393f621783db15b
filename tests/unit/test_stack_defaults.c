/* ust_stack_config_init's defaults for reassembly and IPC are Linux's
 * (net.ipv4.ipfrag_time, /proc/sys/fs/mqueue, kernel.msgmni and friends,
 * fs.pipe-max-size and fs.pipe-user-pages-*), pinned here because the
 * other tests set their own values. A stack made with a NULL config uses
 * them. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ustack/ustack.h>

#define NSEC_PER_SEC 1000000000ull

static void test_config_init_reassembly_and_ipc_defaults_are_linux(void **state)
{
    (void)state;
    struct ust_stack_config c;
    ust_stack_config_init(&c);
    /* IPv4 reassembly (ipfrag_time 30 s, ipfrag_high_thresh 4 MiB). */
    assert_int_equal(c.ipfrag_time_ns, 30 * NSEC_PER_SEC);
    assert_int_equal(c.ipfrag_high_thresh, 4u << 20);
    /* Pipes: pipe-max-size 1 MiB, pipe-user-pages-soft 16384, -hard 0 (off). */
    assert_int_equal(c.pipe_max_size, 1u << 20);
    assert_int_equal(c.pipe_user_pages_soft, 16384);
    assert_int_equal(c.pipe_user_pages_hard, 0);
    assert_int_equal(c.fifo_max, 1024);
    /* POSIX queues: queues_max 256, msg_default/msg_max 10,
     * msgsize_default/msgsize_max 8192, RLIMIT_MSGQUEUE 819200. */
    assert_int_equal(c.mq_queues_max, 256);
    assert_int_equal(c.mq_maxmsg_default, 10);
    assert_int_equal(c.mq_maxmsg_max, 10);
    assert_int_equal(c.mq_msgsize_default, 8192);
    assert_int_equal(c.mq_msgsize_max, 8192);
    assert_int_equal(c.mq_bytes_max, 819200);
    /* System V: MSGMNI 32000, MSGMAX 8192, MSGMNB 16384, MSGPOOL. */
    assert_int_equal(c.msgmni, 32000);
    assert_int_equal(c.msgmax, 8192);
    assert_int_equal(c.msgmnb, 16384);
    assert_int_equal(c.msgpool, 524288000);
    /* The creation mask follows the process umask. */
    assert_int_equal(c.ipc_umask, -1);
    /* TCP hostile-input bounds: tcp_invalid_ratelimit 500 ms (Linux), and
     * tcp_max_orphans 4096 (Linux sizes it from memory; docs/SECURITY.md). */
    assert_int_equal(c.tcp_invalid_ratelimit_ms, 500);
    assert_int_equal(c.tcp_max_orphans, 4096);
    /* Frames, connection blocks and socket buffers: room for about 1500
     * sockets moving data both ways with default buffers (docs/SECURITY.md). */
    assert_int_equal(c.mem_limit, 256u << 20);
}

/* The same defaults are in force in a stack made with a NULL config: a new
 * pipe holds 65536 bytes, a queue with NULL attr is 10 x 8192, IPC_INFO
 * reports 32000 / 8192 / 16384. */
static void test_null_config_stack_uses_the_defaults(void **state)
{
    (void)state;
    struct ust_stack *s = ust_stack_new(NULL);
    assert_non_null(s);
    int p[2];
    assert_int_equal(ust_pipe(s, p), 0);
    assert_int_equal(ust_fcntl(s, p[0], F_GETPIPE_SZ), 65536);
    int q = ust_mq_open(s, "/defaults", O_RDWR | O_CREAT, 0600, NULL);
    assert_true(q >= 0);
    struct mq_attr a;
    assert_int_equal(ust_mq_getattr(s, q, &a), 0);
    assert_int_equal(a.mq_maxmsg, 10);
    assert_int_equal(a.mq_msgsize, 8192);
    struct msginfo mi;
    assert_true(ust_msgctl(s, 0, IPC_INFO, (struct msqid_ds *)(void *)&mi) >= 0);
    assert_int_equal(mi.msgmni, 32000);
    assert_int_equal(mi.msgmax, 8192);
    assert_int_equal(mi.msgmnb, 16384);
    ust_stack_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_init_reassembly_and_ipc_defaults_are_linux),
        cmocka_unit_test(test_null_config_stack_uses_the_defaults),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
