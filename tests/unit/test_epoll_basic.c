/* epoll without a stack thread (epoll_wait then reports what is ready now):
 * level-triggered, EPOLLET and EPOLLONESHOT over pipes and UDP sockets,
 * EPOLL_CTL_MOD / DEL, closing a watched descriptor, EPOLLERR / EPOLLHUP
 * always reported, nested epolls (and ELOOP for cycles and depth), the epoll fd in ust_poll, fairness when maxevents is
 * smaller than the ready set, epoll_ctl(2) / epoll_wait(2) errors, and the
 * O(ready) cost: with 1000 registered files and one ready, epoll_wait asks
 * only that one (counted through a test file type's poll op). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "fd/fd.h"
#include "unit/pipe_test_util.h"
#include "unit/sock_test_util.h"

static int ep_add(struct ust_stack *s, int ep, int fd, uint32_t events, uint64_t tag)
{
    struct epoll_event ev = { .events = events, .data.u64 = tag };
    return ust_epoll_ctl(s, ep, EPOLL_CTL_ADD, fd, &ev);
}

static int ep_wait0(struct ust_stack *s, int ep, struct epoll_event *evs, int max)
{
    return ust_epoll_wait(s, ep, evs, max, 0);
}

static void test_epoll_level_triggered_pipe_reported_until_drained(void **state)
{
    (void)state;
    struct ust_stack *s = pt_stack();
    int ep = ust_epoll_create1(s, 0);
    assert_true(ep >= 0);
    int p[2];
    assert_int_equal(ust_pipe2(s, p, O_NONBLOCK), 0);
    assert_int_equal(ep_add(s, ep, p[0], EPOLLIN, 7), 0);
    struct epoll_event ev[4];
    assert_int_equal(ep_wait0(s, ep, ev, 4), 0);
    assert_int_equal(ust_write(s, p[1], "ab", 2), 2);
    for (int i = 0; i < 3; i++) {               /* level: again and again */
        assert_int_equal(ep_wait0(s, ep, ev, 4), 1);
        assert_int_equal(ev[0].events, EPOLLIN);
        assert_int_equal(ev[0].data.u64, 7);
    }
    char buf[4];
    assert_int_equal(ust_read(s, p[0], buf, sizeof(buf)), 2);
    assert_int_equal(ep_wait0(s, ep, ev, 4), 0);
    ust_stack_free(s);
}

static void test_epoll_edge_triggered_reports_once_per_new_write(void **state)
{
    (void)state;
    struct ust_stack *s = pt_stack();
    int ep = ust_epoll_create1(s, 0);
    int p[2];
    assert_int_equal(ust_pipe2(s, p, O_NONBLOCK), 0);
    assert_int_equal(ep_add(s, ep, p[0], EPOLLIN | EPOLLET, 1), 0);
    struct epoll_event ev[4];
    assert_int_equal(ust_write(s, p[1], "a", 1), 1);
    assert_int_equal(ep_wait0(s, ep, ev, 4), 1);
    assert_int_equal(ep_wait0(s, ep, ev, 4), 0);    /* still readable, no new edge */
    assert_int_equal(ust_write(s, p[1], "b", 1), 1);
    assert_int_equal(ep_wait0(s, ep, ev, 4), 1);    /* a new arrival is an edge */
    assert_int_equal(ev[0].events, EPOLLIN);
    assert_int_equal(ep_wait0(s, ep, ev, 4), 0);
    ust_stack_free(s);
}

static void test_epoll_oneshot_disarms_until_ctl_mod(void **state)
{
    (void)state;
    struct ust_stack *s = pt_stack();
    int ep = ust_epoll_create1(s, 0);
    int p[2];
    assert_int_equal(ust_pipe2(s, p, O_NONBLOCK), 0);
    assert_int_equal(ep_add(s, ep, p[0], EPOLLIN | EPOLLONESHOT, 1), 0);
    struct epoll_event ev[4];
    assert_int_equal(ust_write(s, p[1], "a", 1), 1);
    assert_int_equal(ep_wait0(s, ep, ev, 4), 1);
    assert_int_equal(ep_wait0(s, ep, ev, 4), 0);
    assert_int_equal(ust_write(s, p[1], "b", 1), 1);
    assert_int_equal(ep_wait0(s, ep, ev, 4), 0);    /* disarmed */
    struct epoll_event mod = { .events = EPOLLIN | EPOLLONESHOT, .data.u64 = 2 };
    assert_int_equal(ust_epoll_ctl(s, ep, EPOLL_CTL_MOD, p[0], &mod), 0);
    assert_int_equal(ep_wait0(s, ep, ev, 4), 1);    /* re-armed and ready */
    assert_int_equal(ev[0].data.u64, 2);
    assert_int_equal(ep_wait0(s, ep, ev, 4), 0);
    ust_stack_free(s);
}

static void test_epoll_mod_switches_events_and_del_stops_reports(void **state)
{
    (void)state;
    struct ust_stack *s = pt_stack();
    int ep = ust_epoll_create1(s, 0);
    int p[2];
    assert_int_equal(ust_pipe2(s, p, O_NONBLOCK), 0);
    assert_int_equal(ep_add(s, ep, p[1], EPOLLIN, 1), 0);
    struct epoll_event ev[4];
    assert_int_equal(ep_wait0(s, ep, ev, 4), 0);    /* a write end is never readable */
    struct epoll_event mod = { .events = EPOLLOUT, .data.u64 = 9 };
    assert_int_equal(ust_epoll_ctl(s, ep, EPOLL_CTL_MOD, p[1], &mod), 0);
    assert_int_equal(ep_wait0(s, ep, ev, 4), 1);
    assert_int_equal(ev[0].events, EPOLLOUT);
    assert_int_equal(ev[0].data.u64, 9);
    assert_int_equal(ust_epoll_ctl(s, ep, EPOLL_CTL_DEL, p[1], NULL), 0);
    assert_int_equal(ep_wait0(s, ep, ev, 4), 0);
    errno = 0;
    assert_int_equal(ust_epoll_ctl(s, ep, EPOLL_CTL_DEL, p[1], NULL), -1);
    assert_int_equal(errno, ENOENT);
    ust_stack_free(s);
}

/* EPOLLERR and EPOLLHUP are reported even when not asked for. */
static void test_epoll_reports_err_and_hup_unrequested(void **state)
{
    (void)state;
    struct ust_stack *s = pt_stack();
    int ep = ust_epoll_create1(s, 0);
    int p[2], q[2];
    assert_int_equal(ust_pipe2(s, p, O_NONBLOCK), 0);
    assert_int_equal(ust_pipe2(s, q, O_NONBLOCK), 0);
    assert_int_equal(ep_add(s, ep, p[0], 0, 1), 0);         /* read end, no events */
    assert_int_equal(ep_add(s, ep, q[1], EPOLLIN, 2), 0);   /* write end */
    struct epoll_event ev[4];
    assert_int_equal(ep_wait0(s, ep, ev, 4), 0);
    assert_int_equal(ust_close(s, p[1]), 0);
    assert_int_equal(ust_close(s, q[0]), 0);
    int n = ep_wait0(s, ep, ev, 4);
    assert_int_equal(n, 2);
    for (int i = 0; i < n; i++) {
        if (ev[i].data.u64 == 1)
            assert_int_equal(ev[i].events, EPOLLHUP);
        else
            assert_int_equal(ev[i].events, EPOLLERR);
    }
    ust_stack_free(s);
}

/* Closing the only descriptor of a watched file removes the watch; a
 * dup'd descriptor keeps the file (and the watch) alive, as Linux. */
static void test_epoll_close_of_watched_fd_removes_watch_on_last_reference(void **state)
{
    (void)state;
    struct ust_stack *s = pt_stack();
    int ep = ust_epoll_create1(s, 0);
    int p[2];
    assert_int_equal(ust_pipe2(s, p, O_NONBLOCK), 0);
    assert_int_equal(ep_add(s, ep, p[0], EPOLLIN, 1), 0);
    int dup = ust_fcntl(s, p[0], F_DUPFD, 0);
    assert_true(dup >= 0);
    assert_int_equal(ust_close(s, p[0]), 0);
    assert_int_equal(ust_write(s, p[1], "x", 1), 1);
    struct epoll_event ev[4];
    assert_int_equal(ep_wait0(s, ep, ev, 4), 1);    /* the file lives through dup */
    assert_int_equal(ust_close(s, dup), 0);         /* last reference: watch gone */
    assert_int_equal(ust_write(s, p[1], "y", 1), -1);
    assert_int_equal(ep_wait0(s, ep, ev, 4), 0);
    /* The same number, now another file, can be added afresh. */
    int p2[2];
    assert_int_equal(ust_pipe2(s, p2, O_NONBLOCK), 0);
    assert_int_equal(ep_add(s, ep, p2[0], EPOLLIN, 3), 0);
    /* Closing the epoll fd with watches left is clean (ASan/LSan). */
    assert_int_equal(ust_close(s, ep), 0);
    assert_int_equal(ust_write(s, p2[1], "z", 1), 1);
    ust_stack_free(s);
}

static void test_epoll_fd_is_pollable_in_ust_poll(void **state)
{
    (void)state;
    struct ust_stack *s = pt_stack();
    int ep = ust_epoll_create1(s, EPOLL_CLOEXEC);
    assert_int_equal(ust_fcntl(s, ep, F_GETFD), FD_CLOEXEC);
    int p[2];
    assert_int_equal(ust_pipe2(s, p, O_NONBLOCK), 0);
    assert_int_equal(ep_add(s, ep, p[0], EPOLLIN, 1), 0);
    assert_int_equal(pt_revents(s, ep, POLLIN), 0);
    assert_int_equal(ust_write(s, p[1], "x", 1), 1);
    assert_int_equal(pt_revents(s, ep, POLLIN), POLLIN);
    char c;
    assert_int_equal(ust_read(s, p[0], &c, 1), 1);
    assert_int_equal(pt_revents(s, ep, POLLIN), 0);     /* stale wakeups do not count */
    /* read/write on an epoll fd: EINVAL, as Linux. */
    errno = 0;
    assert_int_equal(ust_read(s, ep, &c, 1), -1);
    assert_int_equal(errno, EINVAL);
    ust_stack_free(s);
}

/* With maxevents 1 and three ready pipes, three waits report three
 * different descriptors (level-triggered watches go to the tail). */
static void test_epoll_maxevents_smaller_than_ready_set_round_robins(void **state)
{
    (void)state;
    struct ust_stack *s = pt_stack();
    int ep = ust_epoll_create1(s, 0);
    int p[3][2];
    for (int i = 0; i < 3; i++) {
        assert_int_equal(ust_pipe2(s, p[i], O_NONBLOCK), 0);
        assert_int_equal(ep_add(s, ep, p[i][0], EPOLLIN, (uint64_t)i), 0);
        assert_int_equal(ust_write(s, p[i][1], "x", 1), 1);
    }
    int seen[3] = { 0 };
    struct epoll_event ev;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(ep_wait0(s, ep, &ev, 1), 1);
        assert_true(ev.data.u64 < 3);
        seen[ev.data.u64]++;
    }
    for (int i = 0; i < 3; i++)
        assert_int_equal(seen[i], 1);
    ust_stack_free(s);
}

static void test_epoll_ctl_and_wait_errors(void **state)
{
    (void)state;
    struct ust_stack *s = pt_stack();
    int ep = ust_epoll_create1(s, 0);
    int ep2 = ust_epoll_create1(s, 0);
    int p[2];
    assert_int_equal(ust_pipe2(s, p, O_NONBLOCK), 0);
    struct epoll_event ev = { .events = EPOLLIN };
    errno = 0;
    assert_int_equal(ust_epoll_create1(s, 1), -1);
    assert_int_equal(errno, EINVAL);
    errno = 0;
    assert_int_equal(ust_epoll_create(s, 0), -1);
    assert_int_equal(errno, EINVAL);
    assert_int_equal(ust_epoll_ctl(s, ep, EPOLL_CTL_ADD, p[0], &ev), 0);
    errno = 0;
    assert_int_equal(ust_epoll_ctl(s, ep, EPOLL_CTL_ADD, p[0], &ev), -1);
    assert_int_equal(errno, EEXIST);
    errno = 0;
    assert_int_equal(ust_epoll_ctl(s, ep, EPOLL_CTL_MOD, p[1], &ev), -1);
    assert_int_equal(errno, ENOENT);
    errno = 0;
    assert_int_equal(ust_epoll_ctl(s, ep, EPOLL_CTL_ADD, 900, &ev), -1);
    assert_int_equal(errno, EBADF);
    errno = 0;
    assert_int_equal(ust_epoll_ctl(s, 901, EPOLL_CTL_ADD, p[0], &ev), -1);
    assert_int_equal(errno, EBADF);
    errno = 0;
    assert_int_equal(ust_epoll_ctl(s, ep, EPOLL_CTL_ADD, ep, &ev), -1);   /* itself */
    assert_int_equal(errno, EINVAL);
    assert_int_equal(ust_epoll_ctl(s, ep, EPOLL_CTL_ADD, ep2, &ev), 0);   /* nesting */
    errno = 0;
    assert_int_equal(ust_epoll_ctl(s, p[0], EPOLL_CTL_ADD, p[1], &ev), -1); /* not an epoll */
    assert_int_equal(errno, EINVAL);
    errno = 0;
    assert_int_equal(ust_epoll_ctl(s, ep, 42, p[0], &ev), -1);
    assert_int_equal(errno, EINVAL);
    errno = 0;
    assert_int_equal(ust_epoll_ctl(s, ep, EPOLL_CTL_ADD, p[1], NULL), -1);
    assert_int_equal(errno, EFAULT);
    struct epoll_event out[2];
    errno = 0;
    assert_int_equal(ust_epoll_wait(s, ep, out, 0, 0), -1);
    assert_int_equal(errno, EINVAL);
    errno = 0;
    assert_int_equal(ust_epoll_wait(s, 902, out, 2, 0), -1);
    assert_int_equal(errno, EBADF);
    errno = 0;
    assert_int_equal(ust_epoll_wait(s, p[0], out, 2, 0), -1);
    assert_int_equal(errno, EINVAL);
    /* Without a stack thread, a timeout does not wait: what is ready now. */
    assert_int_equal(ust_epoll_wait(s, ep, out, 2, -1), 0);
    ust_stack_free(s);
}

/* An epoll watching an epoll: the inner one's readiness is the outer one's
 * EPOLLIN (level-triggered: until the inner is drained). */
static void test_epoll_nested_epoll_reports_inner_readiness(void **state)
{
    (void)state;
    struct ust_stack *s = pt_stack();
    int outer = ust_epoll_create1(s, 0), inner = ust_epoll_create1(s, 0);
    int p[2];
    assert_int_equal(ust_pipe2(s, p, O_NONBLOCK), 0);
    assert_int_equal(ep_add(s, inner, p[0], EPOLLIN | EPOLLET, 1), 0);
    assert_int_equal(ep_add(s, outer, inner, EPOLLIN, 2), 0);
    struct epoll_event ev[4];
    assert_int_equal(ep_wait0(s, outer, ev, 4), 0);
    assert_int_equal(ust_write(s, p[1], "x", 1), 1);
    assert_int_equal(ep_wait0(s, outer, ev, 4), 1);
    assert_int_equal(ev[0].data.u64, 2);
    assert_int_equal(ev[0].events, EPOLLIN);
    assert_int_equal(ep_wait0(s, inner, ev, 4), 1);     /* consumes the edge */
    assert_int_equal(ev[0].data.u64, 1);
    assert_int_equal(ep_wait0(s, outer, ev, 4), 0);     /* inner no longer ready */
    /* Closing the inner epoll removes the outer's watch of it. */
    assert_int_equal(ust_close(s, inner), 0);
    assert_int_equal(ust_write(s, p[1], "y", 1), 1);
    assert_int_equal(ep_wait0(s, outer, ev, 4), 0);
    ust_stack_free(s);
}

/* ep_loop_check: a cycle, or a chain deeper than 4 nested epolls, is ELOOP. */
static void test_epoll_nesting_cycle_and_depth_are_eloop(void **state)
{
    (void)state;
    struct ust_stack *s = pt_stack();
    int e[7];
    for (int i = 0; i < 7; i++)
        e[i] = ust_epoll_create1(s, 0);
    assert_int_equal(ep_add(s, e[0], e[1], EPOLLIN, 0), 0);
    assert_int_equal(ep_add(s, e[1], e[2], EPOLLIN, 0), 0);
    errno = 0;
    assert_int_equal(ep_add(s, e[2], e[0], EPOLLIN, 0), -1);   /* e0 -> e1 -> e2 -> e0 */
    assert_int_equal(errno, ELOOP);
    errno = 0;
    assert_int_equal(ep_add(s, e[1], e[0], EPOLLIN, 0), -1);
    assert_int_equal(errno, ELOOP);
    assert_int_equal(ep_add(s, e[2], e[3], EPOLLIN, 0), 0);
    assert_int_equal(ep_add(s, e[3], e[4], EPOLLIN, 0), 0);    /* e0 .. e4: 4 levels */
    errno = 0;
    assert_int_equal(ep_add(s, e[4], e[5], EPOLLIN, 0), -1);   /* a 5th level */
    assert_int_equal(errno, ELOOP);
    errno = 0;
    assert_int_equal(ep_add(s, e[6], e[0], EPOLLIN, 0), -1);   /* a 5th level above */
    assert_int_equal(errno, ELOOP);
    ust_stack_free(s);
}

/* A file type without a poll op cannot be watched (EPERM, as Linux for
 * regular files), and one whose poll op counts its calls proves the
 * O(ready) cost. */
static unsigned poll_calls;
static uint32_t counted_ready;

static uint32_t counting_poll(struct ust_file *f)
{
    poll_calls++;
    return f->priv == &counted_ready ? counted_ready : 0;
}

static const struct ust_file_ops counting_ops = { .name = "counting", .poll = counting_poll };
static const struct ust_file_ops nopoll_ops = { .name = "nopoll" };

static int install(struct ust_stack *s, const struct ust_file_ops *ops, void *priv)
{
    ust_rt_lock(s);
    struct ust_file *f = ust_file_new(s, ops, priv, O_RDWR);
    int fd = f ? ust_fd_install(s, f, 0) : -ENOMEM;
    ust_rt_unlock(s);
    return fd;
}

static void test_epoll_unpollable_file_is_eperm(void **state)
{
    (void)state;
    struct ust_stack *s = pt_stack();
    int ep = ust_epoll_create1(s, 0);
    int fd = install(s, &nopoll_ops, NULL);
    assert_true(fd >= 0);
    errno = 0;
    assert_int_equal(ep_add(s, ep, fd, EPOLLIN, 0), -1);
    assert_int_equal(errno, EPERM);
    ust_stack_free(s);
}

static void test_epoll_1000_registered_one_ready_polls_only_the_ready_one(void **state)
{
    (void)state;
    struct ust_stack_config c;
    ust_stack_config_init(&c);
    c.max_fds = 1100;
    struct ust_stack *s = pt_stack_cfg(&c);
    int ep = ust_epoll_create1(s, 0);
    int fds[1000];
    for (int i = 0; i < 1000; i++) {
        fds[i] = install(s, &counting_ops, i == 500 ? (void *)&counted_ready : NULL);
        assert_true(fds[i] >= 0);
        assert_int_equal(ep_add(s, ep, fds[i], EPOLLIN, (uint64_t)i), 0);
    }
    struct epoll_event ev[8];
    poll_calls = 0;
    assert_int_equal(ep_wait0(s, ep, ev, 8), 0);
    assert_int_equal(poll_calls, 0);                /* nothing woken: nothing asked */
    /* File 500 becomes readable and wakes its queue, as a pipe write would. */
    counted_ready = POLLIN;
    ust_rt_lock(s);
    ust_waitq_wake(&ust_fd_lookup(s, fds[500])->wq, POLLIN);
    ust_rt_unlock(s);
    assert_int_equal(ep_wait0(s, ep, ev, 8), 1);
    assert_int_equal(ev[0].data.u64, 500);
    assert_int_equal(poll_calls, 1);
    counted_ready = 0;
    ust_stack_free(s);
}

/* UDP sockets: level-triggered EPOLLIN per queued datagram, EPOLLOUT at
 * once, EPOLLET once per arrival; with a pipe in the same set. */
static void test_epoll_udp_socket_and_pipe_in_one_set(void **state)
{
    (void)state;
    struct ust_stack *s = st_stack();
    int ep = ust_epoll_create1(s, 0);
    int rx = st_udp_bound(s, ST_LO, 7000);
    int tx = st_udp_bound(s, ST_LO, 7001);
    int p[2];
    assert_int_equal(ust_pipe2(s, p, O_NONBLOCK), 0);
    assert_int_equal(ep_add(s, ep, rx, EPOLLIN, 1), 0);
    assert_int_equal(ep_add(s, ep, tx, EPOLLOUT | EPOLLET, 2), 0);
    assert_int_equal(ep_add(s, ep, p[0], EPOLLIN, 3), 0);
    struct epoll_event ev[4];
    assert_int_equal(ep_wait0(s, ep, ev, 4), 1);    /* tx writable, once (ET) */
    assert_int_equal(ev[0].data.u64, 2);
    assert_int_equal(ev[0].events, EPOLLOUT);
    assert_int_equal(ep_wait0(s, ep, ev, 4), 0);
    assert_int_equal(st_sendto(s, tx, "d1", 2, ST_LO, 7000), 2);
    assert_int_equal(st_sendto(s, tx, "d2", 2, ST_LO, 7000), 2);
    st_pump(s);
    assert_int_equal(ust_write(s, p[1], "x", 1), 1);
    int n = ep_wait0(s, ep, ev, 4);
    int got_rx = 0, got_pipe = 0;
    for (int i = 0; i < n; i++) {
        got_rx += ev[i].data.u64 == 1 && ev[i].events == EPOLLIN;
        got_pipe += ev[i].data.u64 == 3 && ev[i].events == EPOLLIN;
    }
    assert_int_equal(got_rx, 1);
    assert_int_equal(got_pipe, 1);
    char buf[8];
    assert_int_equal(ust_recv(s, rx, buf, sizeof(buf), MSG_DONTWAIT), 2);
    assert_true(ep_wait0(s, ep, ev, 4) >= 1);        /* one datagram still queued */
    assert_int_equal(ust_recv(s, rx, buf, sizeof(buf), MSG_DONTWAIT), 2);
    assert_int_equal(ust_read(s, p[0], buf, sizeof(buf)), 1);
    n = ep_wait0(s, ep, ev, 4);
    for (int i = 0; i < n; i++)
        assert_int_equal(ev[i].data.u64, 2);        /* only tx (a send may re-arm ET) */
    ust_stack_free(s);
}

/* UDP: EPOLLET reports once per arrival, EPOLLONESHOT once until MOD. */
static void test_epoll_udp_edge_and_oneshot(void **state)
{
    (void)state;
    struct ust_stack *s = st_stack();
    int ep = ust_epoll_create1(s, 0);
    int et = st_udp_bound(s, ST_LO, 7010);
    int os = st_udp_bound(s, ST_LO, 7011);
    int tx = st_udp_bound(s, ST_LO, 7012);
    assert_int_equal(ep_add(s, ep, et, EPOLLIN | EPOLLET, 1), 0);
    assert_int_equal(ep_add(s, ep, os, EPOLLIN | EPOLLONESHOT, 2), 0);
    struct epoll_event ev[4];
    for (int round = 0; round < 2; round++) {
        assert_int_equal(st_sendto(s, tx, "a", 1, ST_LO, 7010), 1);
        assert_int_equal(st_sendto(s, tx, "b", 1, ST_LO, 7011), 1);
        st_pump(s);
        int n = ep_wait0(s, ep, ev, 4);
        if (round == 0) {
            assert_int_equal(n, 2);                 /* both, once */
        } else {
            assert_int_equal(n, 1);                 /* the edge again; oneshot disarmed */
            assert_int_equal(ev[0].data.u64, 1);
        }
        assert_int_equal(ep_wait0(s, ep, ev, 4), 0);
    }
    struct epoll_event mod = { .events = EPOLLIN | EPOLLONESHOT, .data.u64 = 3 };
    assert_int_equal(ust_epoll_ctl(s, ep, EPOLL_CTL_MOD, os, &mod), 0);
    assert_int_equal(ep_wait0(s, ep, ev, 4), 1);    /* two datagrams queued: ready */
    assert_int_equal(ev[0].data.u64, 3);
    ust_stack_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_epoll_level_triggered_pipe_reported_until_drained),
        cmocka_unit_test(test_epoll_edge_triggered_reports_once_per_new_write),
        cmocka_unit_test(test_epoll_oneshot_disarms_until_ctl_mod),
        cmocka_unit_test(test_epoll_mod_switches_events_and_del_stops_reports),
        cmocka_unit_test(test_epoll_reports_err_and_hup_unrequested),
        cmocka_unit_test(test_epoll_close_of_watched_fd_removes_watch_on_last_reference),
        cmocka_unit_test(test_epoll_fd_is_pollable_in_ust_poll),
        cmocka_unit_test(test_epoll_maxevents_smaller_than_ready_set_round_robins),
        cmocka_unit_test(test_epoll_ctl_and_wait_errors),
        cmocka_unit_test(test_epoll_unpollable_file_is_eperm),
        cmocka_unit_test(test_epoll_nested_epoll_reports_inner_readiness),
        cmocka_unit_test(test_epoll_nesting_cycle_and_depth_are_eloop),
        cmocka_unit_test(test_epoll_1000_registered_one_ready_polls_only_the_ready_one),
        cmocka_unit_test(test_epoll_udp_socket_and_pipe_in_one_set),
        cmocka_unit_test(test_epoll_udp_edge_and_oneshot),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
