/* ust_poll over files backed by shared objects (docs/IPC-SHARED.md,
 * "Doorbells for pollers"), with ordinary in-process files in the same set.
 * The shared files are a test-local type wrapping a shared-memory queue
 * (shmfile_test_util.h); the other process is a forked peer with handles of
 * its own. What is proven:
 *  - a poller blocked on {shared file, pipe, UDP socket} is woken by a send
 *    from another process, once (the doorbell rang once, the poller passed
 *    twice), with POLLIN on the shared file only; its registration is gone
 *    afterwards (a further send rings nothing);
 *  - the same without a stack thread: a poll on shared files waits anyway;
 *  - an in-process pipe write from another thread wakes a poller that also
 *    watches shared files (it sleeps on the doorbell, the pipe's wake rings
 *    it), with and without a stack thread;
 *  - the timeout ends the wait with 0 (not earlier), and the registrations
 *    go;
 *  - a signal handler ends it with EINTR, even with SA_RESTART;
 *  - a poller on 100 shared objects sleeps on one word (one sleeper, in the
 *    futex), and each change of one object rings that word once and wakes
 *    the poller once, which reports only that object;
 *  - two pollers of one stack share its doorbell: when one returns and
 *    removes its registration, the other re-registers and is still woken by
 *    the other process.
 * Bounded waits everywhere (pipe_test_util.h, eintr_test_util.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "unit/eintr_test_util.h"
#include "unit/pipe_test_util.h"
#include "unit/shmfile_test_util.h"
#include "unit/sock_test_util.h"

#define NMANY 100

struct poller {
    struct ust_stack *s;
    struct pollfd *fds;
    nfds_t n;
    int timeout;
    int ret, err;
};

static void *poll_thread(void *arg)
{
    struct poller *p = arg;
    errno = 0;
    p->ret = ust_poll(p->s, p->fds, p->n, p->timeout);
    p->err = errno;
    return NULL;
}

static void start_poller(struct poller *p, pthread_t *t)
{
    assert_int_equal(pthread_create(t, NULL, poll_thread, p), 0);
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* {shared file, pipe, UDP socket}; the peer sends to the shared file. */
static void woken_by_other_process(bool stack_thread)
{
    struct ust_stack *s = sf_stack();
    char name[64], prefix[64];
    sf_name(name, sizeof(name), stack_thread ? "pa" : "pb", 0);
    sf_prefix(prefix, sizeof(prefix), stack_thread ? "pa" : "pb");
    int sfd = sf_open(s, name, true);
    int p[2];
    assert_int_equal(ust_pipe(s, p), 0);
    int udp = st_udp(s);
    struct sf_peer peer;
    sf_peer_start(&peer, ust_ipc_dir(s), prefix, 1);
    if (stack_thread)
        assert_int_equal(ust_stack_start(s), 0);

    struct pollfd fds[3] = {
        { .fd = sfd, .events = POLLIN },
        { .fd = p[0], .events = POLLIN },
        { .fd = udp, .events = POLLIN },
    };
    assert_int_equal(ust_poll(s, fds, 3, 0), 0);
    unsigned on0 = atomic_load(&sf_watch_on), off0 = atomic_load(&sf_watch_off);
    struct poller pl = { .s = s, .fds = fds, .n = 3, .timeout = -1 };
    pthread_t t;
    start_poller(&pl, &t);
    sf_wait_kernel_asleep(s, 1);
    uint32_t rings = sf_bell_count(s);
    assert_int_equal(sf_peer_do(&peer, 's', 0), 0);
    pt_join(t);
    assert_int_equal(pl.ret, 1);
    assert_int_equal(fds[0].revents, POLLIN);
    assert_int_equal(fds[1].revents, 0);
    assert_int_equal(fds[2].revents, 0);
    /* One change, one ring; woken once: registered on two passes, and
     * unregistered once at the end. */
    assert_int_equal(sf_bell_count(s), rings + 1);
    assert_int_equal(atomic_load(&sf_watch_on) - on0, 2);
    assert_int_equal(atomic_load(&sf_watch_off) - off0, 1);
    /* The registration went with the poll: another change rings nothing. */
    assert_int_equal(sf_peer_do(&peer, 's', 0), 0);
    assert_int_equal(sf_bell_count(s), rings + 1);

    sf_peer_stop(&peer);
    sf_unlink(s, name);
    ust_stack_free(s);
}

static void test_poll_shared_file_pipe_and_udp_woken_once_by_other_process(void **state)
{
    (void)state;
    woken_by_other_process(true);
}

static void test_poll_shared_file_waits_without_a_stack_thread(void **state)
{
    (void)state;
    woken_by_other_process(false);
}

struct writer {
    struct ust_stack *s;
    int fd;
};

static void *pipe_writer(void *arg)
{
    struct writer *w = arg;
    sf_wait_kernel_asleep(w->s, 1);
    assert_int_equal(ust_write(w->s, w->fd, "w", 1), 1);
    return NULL;
}

static void woken_by_pipe_write(bool stack_thread)
{
    struct ust_stack *s = sf_stack();
    if (stack_thread)
        assert_int_equal(ust_stack_start(s), 0);
    char n0[64], n1[64];
    sf_name(n0, sizeof(n0), stack_thread ? "wa" : "wb", 0);
    sf_name(n1, sizeof(n1), stack_thread ? "wa" : "wb", 1);
    int a = sf_open(s, n0, true), b = sf_open(s, n1, true);
    int p[2];
    assert_int_equal(ust_pipe(s, p), 0);
    struct pollfd fds[3] = {
        { .fd = a, .events = POLLIN },
        { .fd = p[0], .events = POLLIN },
        { .fd = b, .events = POLLIN },
    };
    struct poller pl = { .s = s, .fds = fds, .n = 3, .timeout = -1 };
    struct writer w = { .s = s, .fd = p[1] };
    unsigned on0 = atomic_load(&sf_watch_on);
    uint32_t rings = sf_bell_count(s);
    pthread_t t, tw;
    start_poller(&pl, &t);
    assert_int_equal(pthread_create(&tw, NULL, pipe_writer, &w), 0);
    pt_join(tw);
    pt_join(t);
    assert_int_equal(pl.ret, 1);
    assert_int_equal(fds[0].revents, 0);
    assert_int_equal(fds[1].revents, POLLIN);
    assert_int_equal(fds[2].revents, 0);
    /* The poller slept in the kernel on the doorbell: the pipe's wake rang
     * it, once; the poller then registered again for its second look. */
    assert_int_equal(sf_bell_count(s), rings + 1);
    assert_int_equal(atomic_load(&sf_watch_on) - on0, 2 * 2);
    sf_unlink(s, n0);
    sf_unlink(s, n1);
    ust_stack_free(s);
}

static void test_poll_shared_woken_by_in_process_pipe_write(void **state)
{
    (void)state;
    woken_by_pipe_write(true);
}

static void test_poll_shared_woken_by_pipe_write_without_stack_thread(void **state)
{
    (void)state;
    woken_by_pipe_write(false);
}

static void test_poll_shared_timeout_returns_zero_and_unregisters(void **state)
{
    (void)state;
    struct ust_stack *s = sf_stack();      /* no stack thread: it must wait anyway */
    char name[64];
    sf_name(name, sizeof(name), "to", 0);
    int sfd = sf_open(s, name, true);
    struct pollfd fds[1] = { { .fd = sfd, .events = POLLIN } };
    uint64_t t0 = now_ms();
    assert_int_equal(ust_poll(s, fds, 1, 30), 0);
    assert_true(now_ms() - t0 >= 30);
    assert_int_equal(fds[0].revents, 0);
    /* POLLOUT is true at once. */
    fds[0].events = POLLIN | POLLOUT;
    assert_int_equal(ust_poll(s, fds, 1, 30), 1);
    assert_int_equal(fds[0].revents, POLLOUT);
    /* No registration left behind. */
    uint32_t rings = sf_bell_count(s);
    struct sf_other o;
    sf_other_open(&o, ust_ipc_dir(s), name);
    sf_other_send(&o);
    assert_int_equal(sf_bell_count(s), rings);
    sf_other_close(&o);
    sf_unlink(s, name);
    ust_stack_free(s);
}

static long do_poll2(struct et_call *c)
{
    struct pollfd *fds = c->arg;
    return ust_poll(c->s, fds, 2, (int)c->fd);
}

static void eintr(struct ust_stack *s, bool restart, int timeout_ms)
{
    char name[64];
    sf_name(name, sizeof(name), restart ? "ir" : "in", timeout_ms);
    int sfd = sf_open(s, name, true);
    int p[2];
    assert_int_equal(ust_pipe(s, p), 0);
    struct pollfd fds[2] = { { .fd = sfd, .events = POLLIN }, { .fd = p[0], .events = POLLIN } };
    et_catch_sigusr1(restart);
    struct et_call c = { .s = s, .fn = do_poll2, .arg = fds, .fd = timeout_ms };
    et_start(&c);
    et_wait_asleep(&c);
    et_interrupt_until_done(&c);
    assert_int_equal(c.ret, -1);
    assert_int_equal(c.err, EINTR);
    assert_true(atomic_load(&et_handled) >= 1);
    et_default_sigusr1();
    assert_int_equal(ust_close(s, sfd), 0);
    assert_int_equal(ust_close(s, p[0]), 0);
    assert_int_equal(ust_close(s, p[1]), 0);
    sf_unlink(s, name);
}

/* poll is never restarted (signal(7)): EINTR with or without SA_RESTART,
 * with or without a timeout, with or without a stack thread. */
static void test_poll_shared_interrupted_by_signal_fails_with_eintr(void **state)
{
    (void)state;
    struct ust_stack *s = et_started_stack();
    eintr(s, false, -1);
    eintr(s, true, -1);
    eintr(s, true, 600000);
    ust_stack_free(s);
    s = sf_stack();
    eintr(s, true, -1);
    ust_stack_free(s);
}

static void test_poll_on_100_shared_objects_sleeps_on_one_word_woken_once_per_change(void **state)
{
    (void)state;
    struct ust_stack *s = sf_stack();
    char prefix[64];
    sf_prefix(prefix, sizeof(prefix), "m");
    struct pollfd fds[NMANY];
    for (int i = 0; i < NMANY; i++) {
        char name[64];
        sf_name(name, sizeof(name), "m", i);
        fds[i] = (struct pollfd){ .fd = sf_open(s, name, true), .events = POLLIN };
    }
    struct sf_peer peer;
    sf_peer_start(&peer, ust_ipc_dir(s), prefix, NMANY);
    assert_int_equal(ust_stack_start(s), 0);
    static const int changed[] = { 0, 57, 99, 57 };
    for (unsigned k = 0; k < sizeof(changed) / sizeof(changed[0]); k++) {
        int idx = changed[k];
        unsigned on0 = atomic_load(&sf_watch_on), off0 = atomic_load(&sf_watch_off);
        struct poller pl = { .s = s, .fds = fds, .n = NMANY, .timeout = -1 };
        pthread_t t;
        start_poller(&pl, &t);
        sf_wait_kernel_asleep(s, 1);     /* one sleeper, in the kernel: on the doorbell */
        uint32_t rings = sf_bell_count(s);
        assert_int_equal(sf_peer_do(&peer, 's', idx), 0);
        pt_join(t);
        assert_int_equal(pl.ret, 1);
        for (int i = 0; i < NMANY; i++)
            assert_int_equal(fds[i].revents, i == idx ? POLLIN : 0);
        assert_int_equal(sf_bell_count(s), rings + 1);      /* one word, rung once */
        /* Woken once: every object registered on the first pass and again
         * on the second (the one that found the message), then removed. */
        assert_int_equal(atomic_load(&sf_watch_on) - on0, 2 * NMANY);
        assert_int_equal(atomic_load(&sf_watch_off) - off0, NMANY);
        char buf[SF_MSGSIZE];
        assert_int_equal(ust_read(s, fds[idx].fd, buf, sizeof(buf)), 1);
    }
    /* Nothing registered any more: changes ring nothing. */
    uint32_t rings = sf_bell_count(s);
    assert_int_equal(sf_peer_do(&peer, 's', 3), 0);
    assert_int_equal(sf_peer_do(&peer, 'r', 3), 1);
    assert_int_equal(sf_bell_count(s), rings);
    sf_peer_stop(&peer);
    for (int i = 0; i < NMANY; i++) {
        char name[64];
        sf_name(name, sizeof(name), "m", i);
        sf_unlink(s, name);
    }
    ust_stack_free(s);
}

static void test_poll_two_pollers_share_the_bell_one_returning_keeps_the_other_woken(void **state)
{
    (void)state;
    struct ust_stack *s = sf_stack();
    char name[64], prefix[64];
    sf_name(name, sizeof(name), "tw", 0);
    sf_prefix(prefix, sizeof(prefix), "tw");
    int sfd = sf_open(s, name, true);
    int p[2];
    assert_int_equal(ust_pipe(s, p), 0);
    struct sf_peer peer;
    sf_peer_start(&peer, ust_ipc_dir(s), prefix, 1);
    assert_int_equal(ust_stack_start(s), 0);

    /* A: {shared, pipe}; B: {shared}, the same file. */
    struct pollfd fa[2] = { { .fd = sfd, .events = POLLIN }, { .fd = p[0], .events = POLLIN } };
    struct pollfd fb[1] = { { .fd = sfd, .events = POLLIN } };
    struct poller a = { .s = s, .fds = fa, .n = 2, .timeout = -1 };
    struct poller b = { .s = s, .fds = fb, .n = 1, .timeout = -1 };
    pthread_t ta, tb;
    start_poller(&a, &ta);
    start_poller(&b, &tb);
    sf_wait_kernel_asleep(s, 2);
    /* A returns (the pipe) and removes the stack's registration... */
    assert_int_equal(ust_write(s, p[1], "w", 1), 1);
    pt_join(ta);
    assert_int_equal(a.ret, 1);
    assert_int_equal(fa[1].revents, POLLIN);
    /* ...B is woken to register again, and goes back to sleep... */
    sf_wait_kernel_asleep(s, 1);
    /* ...so the other process's send still rings the doorbell and wakes
     * it (not its 50 ms re-check). */
    uint32_t rings = sf_bell_count(s);
    assert_int_equal(sf_peer_do(&peer, 's', 0), 0);
    pt_join(tb);
    assert_int_equal(b.ret, 1);
    assert_int_equal(fb[0].revents, POLLIN);
    assert_int_equal(sf_bell_count(s), rings + 1);

    sf_peer_stop(&peer);
    sf_unlink(s, name);
    ust_stack_free(s);
}

static int group_teardown(void **state)
{
    (void)state;
    sf_dir_cleanup();
    return 0;
}

int main(void)
{
    sf_dir_setup("test_poll_shared");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_poll_shared_file_pipe_and_udp_woken_once_by_other_process),
        cmocka_unit_test(test_poll_shared_file_waits_without_a_stack_thread),
        cmocka_unit_test(test_poll_shared_woken_by_in_process_pipe_write),
        cmocka_unit_test(test_poll_shared_woken_by_pipe_write_without_stack_thread),
        cmocka_unit_test(test_poll_shared_timeout_returns_zero_and_unregisters),
        cmocka_unit_test(test_poll_shared_interrupted_by_signal_fails_with_eintr),
        cmocka_unit_test(test_poll_on_100_shared_objects_sleeps_on_one_word_woken_once_per_change),
        cmocka_unit_test(test_poll_two_pollers_share_the_bell_one_returning_keeps_the_other_woken),
    };
    return cmocka_run_group_tests(tests, NULL, group_teardown);
}
