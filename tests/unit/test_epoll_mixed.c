/* Issue 4's acceptance check: one ust_epoll_wait over a TCP socket, a UDP
 * socket, a pipe, a POSIX message queue and a System V message queue (its
 * ust_msgq_fd) wakes for each of them, in turn, with EPOLLIN and that
 * descriptor's tag; after the source is drained it is no longer reported.
 * The stack thread runs (TCP and UDP over loopback need it); no sleeps,
 * bounded waits. */
#include <mqueue.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "unit/ipc_dir_test_util.h"

#include "unit/pipe_test_util.h"
#include "unit/sock_test_util.h"

enum { SRC_TCP, SRC_UDP, SRC_PIPE, SRC_MQ, SRC_MSGQ, NSRC };

struct mix {
    struct ust_stack *s;
    int ep;
    int tcp_a, tcp_b;           /* connected pair; tcp_a is watched */
    int udp_rx, udp_tx;
    int pipe[2];
    int mqd;
    int msqid, msqfd;
};

struct waiter {
    struct ust_stack *s;
    int ep;
    int ret;
    struct epoll_event ev[NSRC];
};

static void *wait_thread(void *arg)
{
    struct waiter *w = arg;
    w->ret = ust_epoll_wait(w->s, w->ep, w->ev, NSRC, -1);
    return NULL;
}

static void tcp_pair(struct mix *m)
{
    struct ust_stack *s = m->s;
    int l = ust_socket(s, AF_INET, SOCK_STREAM, 0);
    assert_true(l >= 0);
    struct sockaddr_in a = st_sin(ST_LO, 7300);
    assert_int_equal(ust_bind(s, l, ST_SA(&a), sizeof(a)), 0);
    assert_int_equal(ust_listen(s, l, 4), 0);
    m->tcp_b = ust_socket(s, AF_INET, SOCK_STREAM, 0);
    assert_true(m->tcp_b >= 0);
    assert_int_equal(ust_connect(s, m->tcp_b, ST_SA(&a), sizeof(a)), 0);
    m->tcp_a = ust_accept(s, l, NULL, NULL);
    assert_true(m->tcp_a >= 0);
    assert_int_equal(ust_close(s, l), 0);
}

static void trigger(struct mix *m, int src)
{
    struct ust_stack *s = m->s;
    struct { long mtype; char mtext[4]; } msg = { 1, "sv" };
    switch (src) {
    case SRC_TCP:
        assert_int_equal(ust_send(s, m->tcp_b, "tcp", 3, 0), 3);
        break;
    case SRC_UDP:
        assert_int_equal(st_sendto(s, m->udp_tx, "udp", 3, ST_LO, 7301), 3);
        break;
    case SRC_PIPE:
        assert_int_equal(ust_write(s, m->pipe[1], "pipe", 4), 4);
        break;
    case SRC_MQ:
        assert_int_equal(ust_mq_send(s, m->mqd, "mq", 2, 3), 0);
        break;
    case SRC_MSGQ:
        assert_int_equal(ust_msgsnd(s, m->msqid, &msg, 2, 0), 0);
        break;
    }
}

static void drain(struct mix *m, int src)
{
    struct ust_stack *s = m->s;
    char buf[8192];
    switch (src) {
    case SRC_TCP:
        assert_int_equal(ust_recv(s, m->tcp_a, buf, sizeof(buf), 0), 3);
        break;
    case SRC_UDP:
        assert_int_equal(ust_recv(s, m->udp_rx, buf, sizeof(buf), 0), 3);
        break;
    case SRC_PIPE:
        assert_int_equal(ust_read(s, m->pipe[0], buf, sizeof(buf)), 4);
        break;
    case SRC_MQ:
        assert_int_equal(ust_mq_receive(s, m->mqd, buf, sizeof(buf), NULL), 2);
        break;
    case SRC_MSGQ:
        assert_int_equal(ust_msgrcv(s, m->msqid, buf, 100, 0, 0), 2);
        break;
    }
}

static void test_epoll_one_wait_over_tcp_udp_pipe_mq_and_sysv_queue(void **state)
{
    (void)state;
    struct mix m = { .s = pt_started_stack() };
    struct ust_stack *s = m.s;
    tcp_pair(&m);
    m.udp_rx = st_udp_bound(s, ST_LO, 7301);
    m.udp_tx = st_udp_bound(s, ST_LO, 7302);
    assert_int_equal(ust_pipe(s, m.pipe), 0);
    struct mq_attr attr = { .mq_maxmsg = 4, .mq_msgsize = 64 };
    m.mqd = ust_mq_open(s, "/epoll_mixed", O_RDWR | O_CREAT | O_EXCL, 0600, &attr);
    assert_true(m.mqd >= 0);
    m.msqid = ust_msgget(s, IPC_PRIVATE, IPC_CREAT | 0600);
    assert_true(m.msqid >= 0);
    m.msqfd = ust_msgq_fd(s, m.msqid);
    assert_true(m.msqfd >= 0);

    m.ep = ust_epoll_create1(s, 0);
    const int fds[NSRC] = { m.tcp_a, m.udp_rx, m.pipe[0], m.mqd, m.msqfd };
    for (int i = 0; i < NSRC; i++) {
        struct epoll_event ev = { .events = EPOLLIN, .data.u32 = (uint32_t)i };
        assert_int_equal(ust_epoll_ctl(s, m.ep, EPOLL_CTL_ADD, fds[i], &ev), 0);
    }
    struct epoll_event none[NSRC];
    assert_int_equal(ust_epoll_wait(s, m.ep, none, NSRC, 0), 0);

    for (int src = 0; src < NSRC; src++) {
        struct waiter w = { .s = s, .ep = m.ep };
        pthread_t t;
        assert_int_equal(pthread_create(&t, NULL, wait_thread, &w), 0);
        pt_wait_asleep(s, 1);
        trigger(&m, src);
        pt_join(t);
        assert_int_equal(w.ret, 1);
        assert_int_equal(w.ev[0].data.u32, (uint32_t)src);
        assert_int_equal(w.ev[0].events, EPOLLIN);
        drain(&m, src);
        assert_int_equal(ust_epoll_wait(s, m.ep, none, NSRC, 0), 0);
    }
    assert_int_equal(ust_mq_unlink(s, "/epoll_mixed"), 0);
    assert_int_equal(ust_msgctl(s, m.msqid, IPC_RMID, NULL), 0);
    ust_stack_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        ipc_dir_test(test_epoll_one_wait_over_tcp_udp_pipe_mq_and_sysv_queue),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
