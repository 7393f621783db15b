/* epoll over files backed by shared objects (fd/epoll.c, docs/IPC-SHARED.md
 * "Doorbells for pollers"). The shared files are a test-local type wrapping
 * a shared-memory queue (shmfile_test_util.h); "another handle" changes the
 * object outside the stack, exactly as another process does (nothing wakes
 * the file's queue), and a forked peer is the other process where blocking
 * is involved. What is proven:
 *  - level-triggered: reported on every epoll_wait while readable, not
 *    after it was drained, though no callback ever told the epoll;
 *  - EPOLLET: reported once per change made elsewhere, not again while
 *    nothing changed, and again after drain + new message; not for a change
 *    of another object of the same epoll (each watch has a bell of its own),
 *    and, when no bell is free for that, still never missing an edge;
 *  - EPOLLONESHOT: once, then nothing until EPOLL_CTL_MOD re-arms it;
 *  - EPOLL_CTL_DEL, and closing the watched descriptor, remove the
 *    doorbell's registration (the object's changes ring nothing);
 *  - a blocked epoll_wait on {shared file, pipe} is woken by another
 *    process's send (with and without a stack thread) and by another
 *    thread's pipe write;
 *  - its timeout returns 0 (not earlier), and a signal ends it with EINTR;
 *  - the epoll descriptor in ust_poll, and an epoll inside an epoll, are
 *    woken by another process's send to a shared file the (inner) epoll
 *    watches;
 *  - with real shared objects (the default shared mode: a POSIX queue, a
 *    FIFO and a System V queue, with a pipe): a blocked epoll_wait, then a
 *    blocked poll, without a stack thread, woken by each send of a
 *    separate process with its own stack, reporting that source only
 *    (skipped in private mode).
 * This file runs twice under ctest (test_epoll_*: shared and private IPC
 * modes); the test-local file type is shared in both. */
#include <mqueue.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "unit/eintr_test_util.h"
#include "unit/pipe_test_util.h"
#include "unit/shmfile_test_util.h"

static int ep_add(struct ust_stack *s, int ep, int fd, uint32_t events, uint64_t tag)
{
    struct epoll_event ev = { .events = events, .data.u64 = tag };
    return ust_epoll_ctl(s, ep, EPOLL_CTL_ADD, fd, &ev);
}

static int ep_wait0(struct ust_stack *s, int ep, struct epoll_event *evs, int max)
{
    return ust_epoll_wait(s, ep, evs, max, 0);
}

static void drain(struct ust_stack *s, int fd, int expect)
{
    char buf[SF_MSGSIZE];
    for (int i = 0; i < expect; i++)
        assert_int_equal(ust_read(s, fd, buf, sizeof(buf)), 1);
    assert_int_equal(ust_read(s, fd, buf, sizeof(buf)), -1);
    assert_int_equal(errno, EAGAIN);
}

struct fixture {
    struct ust_stack *s;
    char name[64];
    int sfd, ep;
    struct sf_other other;
};

static void fx_open(struct fixture *fx, const char *tag)
{
    fx->s = sf_stack();
    sf_name(fx->name, sizeof(fx->name), tag, 0);
    fx->sfd = sf_open(fx->s, fx->name, true);
    fx->ep = ust_epoll_create1(fx->s, 0);
    assert_true(fx->ep >= 0);
    sf_other_open(&fx->other, ust_ipc_dir(fx->s), fx->name);
}

static void fx_close(struct fixture *fx)
{
    sf_other_close(&fx->other);
    sf_unlink(fx->s, fx->name);
    ust_stack_free(fx->s);
}

static void test_epoll_shared_level_triggered_reported_until_drained(void **state)
{
    (void)state;
    struct fixture fx;
    fx_open(&fx, "lt");
    struct ust_stack *s = fx.s;
    assert_int_equal(ep_add(s, fx.ep, fx.sfd, EPOLLIN, 7), 0);
    struct epoll_event ev[4];
    assert_int_equal(ep_wait0(s, fx.ep, ev, 4), 0);
    sf_other_send(&fx.other);
    sf_other_send(&fx.other);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(ep_wait0(s, fx.ep, ev, 4), 1);
        assert_int_equal(ev[0].events, EPOLLIN);
        assert_int_equal(ev[0].data.u64, 7);
    }
    drain(s, fx.sfd, 2);
    assert_int_equal(ep_wait0(s, fx.ep, ev, 4), 0);
    /* EPOLLOUT too: writable at once, as long as it has room. */
    struct epoll_event mod = { .events = EPOLLIN | EPOLLOUT, .data.u64 = 8 };
    assert_int_equal(ust_epoll_ctl(s, fx.ep, EPOLL_CTL_MOD, fx.sfd, &mod), 0);
    assert_int_equal(ep_wait0(s, fx.ep, ev, 4), 1);
    assert_int_equal(ev[0].events, EPOLLOUT);
    fx_close(&fx);
}

static void test_epoll_shared_edge_triggered_once_per_change_elsewhere(void **state)
{
    (void)state;
    struct fixture fx;
    fx_open(&fx, "et");
    struct ust_stack *s = fx.s;
    assert_int_equal(ep_add(s, fx.ep, fx.sfd, EPOLLIN | EPOLLET, 1), 0);
    struct epoll_event ev[4];
    assert_int_equal(ep_wait0(s, fx.ep, ev, 4), 0);
    sf_other_send(&fx.other);
    assert_int_equal(ep_wait0(s, fx.ep, ev, 4), 1);
    assert_int_equal(ev[0].events, EPOLLIN);
    assert_int_equal(ep_wait0(s, fx.ep, ev, 4), 0);     /* still readable, no new edge */
    assert_int_equal(ep_wait0(s, fx.ep, ev, 4), 0);
    sf_other_send(&fx.other);                           /* a new arrival is an edge */
    assert_int_equal(ep_wait0(s, fx.ep, ev, 4), 1);
    assert_int_equal(ev[0].data.u64, 1);
    assert_int_equal(ep_wait0(s, fx.ep, ev, 4), 0);
    drain(s, fx.sfd, 2);
    assert_int_equal(ep_wait0(s, fx.ep, ev, 4), 0);
    sf_other_send(&fx.other);
    assert_int_equal(ep_wait0(s, fx.ep, ev, 4), 1);
    assert_int_equal(ep_wait0(s, fx.ep, ev, 4), 0);
    fx_close(&fx);
}

/* Another object's change is not an edge of this one: each EPOLLET watch
 * of a shared file counts its own object's changes (a bell of its own).
 * Without a free bell it falls back to the stack's doorbell: then no edge
 * is missed, though another object's change may be reported too. */
static void et_two_objects(bool bells_exhausted)
{
    struct fixture fx;
    fx_open(&fx, bells_exhausted ? "ex" : "eo");
    struct ust_stack *s = fx.s;
    char nb[64];
    sf_name(nb, sizeof(nb), bells_exhausted ? "ex" : "eo", 1);
    int bfd = sf_open(s, nb, true);
    struct sf_other ob;
    sf_other_open(&ob, ust_ipc_dir(s), nb);
    int *taken = NULL, ntaken = 0;
    struct ust_shmbell_arena *arena = NULL;
    if (bells_exhausted) {
        int bell;
        ust_rt_lock(s);
        assert_int_equal(ust_ipc_bell(s, &arena, &bell), 0);
        ust_rt_unlock(s);
        taken = malloc(UST_SHMBELL_MAX * sizeof(int));
        assert_non_null(taken);
        int b;
        while ((b = ust_shmbell_claim(arena)) >= 0)
            taken[ntaken++] = b;
    }
    assert_int_equal(ep_add(s, fx.ep, fx.sfd, EPOLLIN | EPOLLET, 1), 0);
    assert_int_equal(ep_add(s, fx.ep, bfd, EPOLLIN | EPOLLET, 2), 0);
    struct epoll_event ev[4];
    sf_other_send(&fx.other);
    assert_int_equal(ep_wait0(s, fx.ep, ev, 4), 1);
    assert_int_equal(ev[0].data.u64, 1);
    assert_int_equal(ep_wait0(s, fx.ep, ev, 4), 0);
    for (int round = 0; round < 3; round++) {
        sf_other_send(&ob);             /* B changes, A stays readable */
        int n = ep_wait0(s, fx.ep, ev, 4);
        bool saw_b = false;
        for (int i = 0; i < n; i++)
            saw_b |= ev[i].data.u64 == 2;
        assert_true(saw_b);             /* never missed */
        if (!bells_exhausted) {
            assert_int_equal(n, 1);     /* and A is not told */
        }
        assert_int_equal(ep_wait0(s, fx.ep, ev, 4), 0);
    }
    sf_other_send(&fx.other);           /* A changes again: an edge */
    int n = ep_wait0(s, fx.ep, ev, 4);
    bool saw_a = false;
    for (int i = 0; i < n; i++)
        saw_a |= ev[i].data.u64 == 1;
    assert_true(saw_a);
    if (!bells_exhausted) {
        assert_int_equal(n, 1);
    }
    for (int i = 0; i < ntaken; i++)
        ust_shmbell_release(arena, taken[i]);
    free(taken);
    sf_other_close(&ob);
    sf_unlink(s, nb);
    fx_close(&fx);
}

static void test_epoll_shared_edge_triggered_not_reported_for_another_objects_change(void **state)
{
    (void)state;
    et_two_objects(false);
}

static void test_epoll_shared_edge_triggered_without_a_free_bell_misses_no_edge(void **state)
{
    (void)state;
    et_two_objects(true);
}

static void test_epoll_shared_oneshot_disarms_until_ctl_mod(void **state)
{
    (void)state;
    struct fixture fx;
    fx_open(&fx, "os");
    struct ust_stack *s = fx.s;
    assert_int_equal(ep_add(s, fx.ep, fx.sfd, EPOLLIN | EPOLLONESHOT, 1), 0);
    struct epoll_event ev[4];
    sf_other_send(&fx.other);
    assert_int_equal(ep_wait0(s, fx.ep, ev, 4), 1);
    assert_int_equal(ep_wait0(s, fx.ep, ev, 4), 0);
    sf_other_send(&fx.other);
    assert_int_equal(ep_wait0(s, fx.ep, ev, 4), 0);     /* disarmed */
    struct epoll_event mod = { .events = EPOLLIN | EPOLLONESHOT, .data.u64 = 2 };
    assert_int_equal(ust_epoll_ctl(s, fx.ep, EPOLL_CTL_MOD, fx.sfd, &mod), 0);
    assert_int_equal(ep_wait0(s, fx.ep, ev, 4), 1);     /* re-armed and ready */
    assert_int_equal(ev[0].data.u64, 2);
    assert_int_equal(ep_wait0(s, fx.ep, ev, 4), 0);
    fx_close(&fx);
}

static void test_epoll_shared_ctl_del_and_close_stop_the_watching(void **state)
{
    (void)state;
    struct fixture fx;
    fx_open(&fx, "dl");
    struct ust_stack *s = fx.s;
    uint32_t rings = sf_bell_count(s);
    sf_other_send(&fx.other);
    assert_int_equal(sf_bell_count(s), rings);          /* not watched yet */
    assert_int_equal(ep_add(s, fx.ep, fx.sfd, EPOLLIN, 1), 0);
    sf_other_send(&fx.other);
    assert_int_equal(sf_bell_count(s), rings + 1);      /* watched from EPOLL_CTL_ADD */
    assert_int_equal(ust_epoll_ctl(s, fx.ep, EPOLL_CTL_DEL, fx.sfd, NULL), 0);
    sf_other_send(&fx.other);
    assert_int_equal(sf_bell_count(s), rings + 1);      /* DEL: no more */
    struct epoll_event ev[4];
    assert_int_equal(ep_wait0(s, fx.ep, ev, 4), 0);
    /* Two epolls watch it; closing the descriptor ends both watches (the
     * file goes) and the registration with them. */
    int ep2 = ust_epoll_create1(s, 0);
    assert_int_equal(ep_add(s, fx.ep, fx.sfd, EPOLLIN, 1), 0);
    assert_int_equal(ep_add(s, ep2, fx.sfd, EPOLLIN, 1), 0);
    assert_int_equal(ust_epoll_ctl(s, ep2, EPOLL_CTL_DEL, fx.sfd, NULL), 0);
    sf_other_send(&fx.other);                           /* the first still watches */
    assert_int_equal(sf_bell_count(s), rings + 2);
    assert_int_equal(ep_wait0(s, fx.ep, ev, 4), 1);
    assert_int_equal(ep_add(s, ep2, fx.sfd, EPOLLIN, 1), 0);
    assert_int_equal(ust_close(s, fx.sfd), 0);
    assert_int_equal(ep_wait0(s, fx.ep, ev, 4), 0);
    assert_int_equal(ep_wait0(s, ep2, ev, 4), 0);
    char buf[SF_MSGSIZE];
    assert_int_equal(ust_shmq_receive(fx.other.q, buf, sizeof(buf), NULL, NULL,
                                      UST_SHMQ_NONBLOCK, NULL), 1);
    assert_int_equal(sf_bell_count(s), rings + 2);
    fx_close(&fx);
}

/* ---- Blocking ---------------------------------------------------------- */

struct waiter {
    struct ust_stack *s;
    int ep, timeout;
    int ret, err;
    struct epoll_event ev[4];
};

static void *wait_thread(void *arg)
{
    struct waiter *w = arg;
    errno = 0;
    w->ret = ust_epoll_wait(w->s, w->ep, w->ev, 4, w->timeout);
    w->err = errno;
    return NULL;
}

static void blocked_wait_woken_by_other_process(bool stack_thread)
{
    struct ust_stack *s = sf_stack();
    char name[64], prefix[64];
    const char *tag = stack_thread ? "ba" : "bb";
    sf_name(name, sizeof(name), tag, 0);
    sf_prefix(prefix, sizeof(prefix), tag);
    int sfd = sf_open(s, name, true);
    int p[2];
    assert_int_equal(ust_pipe(s, p), 0);
    int ep = ust_epoll_create1(s, 0);
    assert_int_equal(ep_add(s, ep, sfd, EPOLLIN, 10), 0);
    assert_int_equal(ep_add(s, ep, p[0], EPOLLIN, 20), 0);
    struct sf_peer peer;
    sf_peer_start(&peer, ust_ipc_dir(s), prefix, 1);
    if (stack_thread)
        assert_int_equal(ust_stack_start(s), 0);

    /* Another process sends: woken once (registered again for its second
     * look only). */
    struct waiter w = { .s = s, .ep = ep, .timeout = -1 };
    unsigned on0 = atomic_load(&sf_watch_on);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, wait_thread, &w), 0);
    sf_wait_kernel_asleep(s, 1);
    assert_int_equal(sf_peer_do(&peer, 's', 0), 0);
    pt_join(t);
    assert_int_equal(w.ret, 1);
    assert_int_equal(w.ev[0].events, EPOLLIN);
    assert_int_equal(w.ev[0].data.u64, 10);
    assert_int_equal(atomic_load(&sf_watch_on) - on0, 2);
    drain(s, sfd, 1);

    /* Another thread writes the pipe: its wake rings the doorbell, once. */
    w = (struct waiter){ .s = s, .ep = ep, .timeout = -1 };
    on0 = atomic_load(&sf_watch_on);
    uint32_t rings = sf_bell_count(s);
    assert_int_equal(pthread_create(&t, NULL, wait_thread, &w), 0);
    sf_wait_kernel_asleep(s, 1);
    assert_int_equal(ust_write(s, p[1], "w", 1), 1);
    pt_join(t);
    assert_int_equal(w.ret, 1);
    assert_int_equal(w.ev[0].data.u64, 20);
    assert_int_equal(atomic_load(&sf_watch_on) - on0, 2);
    assert_int_equal(sf_bell_count(s), rings + 1);

    sf_peer_stop(&peer);
    sf_unlink(s, name);
    ust_stack_free(s);
}

static void test_epoll_shared_blocked_wait_woken_by_other_process_and_pipe(void **state)
{
    (void)state;
    blocked_wait_woken_by_other_process(true);
}

static void test_epoll_shared_blocked_wait_without_a_stack_thread(void **state)
{
    (void)state;
    blocked_wait_woken_by_other_process(false);
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static long do_epoll_wait(struct et_call *c)
{
    struct epoll_event ev[4];
    return ust_epoll_wait(c->s, c->fd, ev, 4, (int)(intptr_t)c->arg);
}

static void test_epoll_shared_timeout_and_eintr(void **state)
{
    (void)state;
    struct fixture fx;
    fx_open(&fx, "te");
    struct ust_stack *s = fx.s;
    assert_int_equal(ep_add(s, fx.ep, fx.sfd, EPOLLIN, 1), 0);
    struct epoll_event ev[4];
    uint64_t t0 = now_ms();
    assert_int_equal(ust_epoll_wait(s, fx.ep, ev, 4, 30), 0);    /* no stack thread */
    assert_true(now_ms() - t0 >= 30);
    assert_int_equal(ust_stack_start(s), 0);
    t0 = now_ms();
    assert_int_equal(ust_epoll_wait(s, fx.ep, ev, 4, 30), 0);
    assert_true(now_ms() - t0 >= 30);
    /* Never restarted (signal(7)), with or without SA_RESTART. */
    for (int restart = 0; restart < 2; restart++) {
        et_catch_sigusr1(restart);
        struct et_call c = { .s = s, .fn = do_epoll_wait, .fd = fx.ep,
                             .arg = (void *)(intptr_t)(restart ? 600000 : -1) };
        et_start(&c);
        et_wait_asleep(&c);
        et_interrupt_until_done(&c);
        assert_int_equal(c.ret, -1);
        assert_int_equal(c.err, EINTR);
        et_default_sigusr1();
    }
    fx_close(&fx);
}

struct poller {
    struct ust_stack *s;
    int fd;
    int ret;
    short revents;
};

static void *poll_thread(void *arg)
{
    struct poller *p = arg;
    struct pollfd pf = { .fd = p->fd, .events = POLLIN };
    p->ret = ust_poll(p->s, &pf, 1, -1);
    p->revents = pf.revents;
    return NULL;
}

static void test_epoll_shared_epoll_fd_in_poll_and_nested_epoll_woken_by_other_process(void **state)
{
    (void)state;
    struct ust_stack *s = sf_stack();
    char name[64], prefix[64];
    sf_name(name, sizeof(name), "ne", 0);
    sf_prefix(prefix, sizeof(prefix), "ne");
    int sfd = sf_open(s, name, true);
    int inner = ust_epoll_create1(s, 0), outer = ust_epoll_create1(s, 0);
    assert_int_equal(ep_add(s, inner, sfd, EPOLLIN, 1), 0);
    assert_int_equal(ep_add(s, outer, inner, EPOLLIN, 2), 0);
    struct sf_peer peer;
    sf_peer_start(&peer, ust_ipc_dir(s), prefix, 1);
    assert_int_equal(ust_stack_start(s), 0);
    assert_int_equal(pt_revents(s, inner, POLLIN), 0);

    /* ust_poll on the inner epoll's descriptor. */
    struct poller pl = { .s = s, .fd = inner };
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, poll_thread, &pl), 0);
    sf_wait_kernel_asleep(s, 1);
    assert_int_equal(sf_peer_do(&peer, 's', 0), 0);
    pt_join(t);
    assert_int_equal(pl.ret, 1);
    assert_int_equal(pl.revents, POLLIN);
    drain(s, sfd, 1);

    /* epoll_wait on the outer epoll. */
    struct waiter w = { .s = s, .ep = outer, .timeout = -1 };
    assert_int_equal(pthread_create(&t, NULL, wait_thread, &w), 0);
    sf_wait_kernel_asleep(s, 1);
    assert_int_equal(sf_peer_do(&peer, 's', 0), 0);
    pt_join(t);
    assert_int_equal(w.ret, 1);
    assert_int_equal(w.ev[0].data.u64, 2);
    struct epoll_event ev[4];
    assert_int_equal(ep_wait0(s, inner, ev, 4), 1);
    assert_int_equal(ev[0].data.u64, 1);

    sf_peer_stop(&peer);
    sf_unlink(s, name);
    ust_stack_free(s);
}

/* ---- Real shared objects, the other end in another process ------------ */

enum { REAL_MQ, REAL_FIFO, REAL_MSG, NREAL };

struct real {
    char mq[64], fifo[64];
    key_t key;
    int fd[NREAL];              /* ours: mq, FIFO read end, ust_msgq_fd */
    int msqid;
    bool shared[NREAL];         /* the descriptor is backed by a shared object */
};

/* The other process: a stack of its own opens the three objects, then does
 * what the parent asks ('m' mq_send, 'f' FIFO write, 's' msgsnd, 'q' quit),
 * answering each with its result. */
static int real_child(const struct real *r, int cmd, int ack)
{
    struct ust_stack_config c;
    ust_stack_config_init(&c);
    c.seed = 7;
    c.raise_sigpipe = 0;
    struct ust_stack *cs = ust_stack_new(&c);
    if (!cs)
        return 10;
    int mq = ust_mq_open(cs, r->mq, O_WRONLY);
    int fifo = ust_open(cs, r->fifo, O_WRONLY | O_NONBLOCK);
    int id = ust_msgget(cs, r->key, 0);
    if (mq < 0 || fifo < 0 || id < 0)
        return 11;
    char op;
    while (read(cmd, &op, 1) == 1) {
        int res = 0;
        struct { long mtype; char mtext[4]; } m = { 2, "sv" };
        if (op == 'q')
            break;
        if (op == 'm')
            res = ust_mq_send(cs, mq, "xp", 2, 5);
        else if (op == 'f')
            res = ust_write(cs, fifo, "fi", 2) == 2 ? 0 : -1;
        else
            res = ust_msgsnd(cs, id, &m, 2, IPC_NOWAIT);
        if (write(ack, &res, sizeof(res)) != (ssize_t)sizeof(res))
            return 12;
    }
    ust_stack_free(cs);
    return 0;
}

struct real_poll {
    struct ust_stack *s;
    struct pollfd *fds;
    int ret;
};

static void *real_poll_thread(void *arg)
{
    struct real_poll *p = arg;
    p->ret = ust_poll(p->s, p->fds, NREAL + 1, 60000);
    return NULL;
}

static int real_open(struct ust_stack *s, struct real *r)
{
    snprintf(r->mq, sizeof(r->mq), "/eps%d", (int)getpid());
    snprintf(r->fifo, sizeof(r->fifo), "/epsfifo%d", (int)getpid());
    r->key = (key_t)(0x4550000 + (getpid() & 0xffff));
    struct mq_attr attr = { .mq_maxmsg = 4, .mq_msgsize = 64 };
    r->fd[REAL_MQ] = ust_mq_open(s, r->mq, O_RDWR | O_CREAT | O_EXCL, 0600, &attr);
    assert_true(r->fd[REAL_MQ] >= 0);
    assert_int_equal(ust_mkfifo(s, r->fifo, 0600), 0);
    r->fd[REAL_FIFO] = ust_open(s, r->fifo, O_RDONLY | O_NONBLOCK);
    assert_true(r->fd[REAL_FIFO] >= 0);
    r->msqid = ust_msgget(s, r->key, IPC_CREAT | IPC_EXCL | 0600);
    assert_true(r->msqid >= 0);
    r->fd[REAL_MSG] = ust_msgq_fd(s, r->msqid);
    assert_true(r->fd[REAL_MSG] >= 0);
    int nshared = 0;
    ust_rt_lock(s);
    for (int i = 0; i < NREAL; i++) {
        struct ust_file *f = ust_fd_lookup(s, r->fd[i]);
        r->shared[i] = f && f->ops->shm_watch;
        nshared += r->shared[i];
    }
    ust_rt_unlock(s);
    return nshared;
}

static void real_close(struct ust_stack *s, struct real *r)
{
    assert_int_equal(ust_mq_unlink(s, r->mq), 0);
    assert_int_equal(ust_unlink(s, r->fifo), 0);
    assert_int_equal(ust_msgctl(s, r->msqid, IPC_RMID, NULL), 0);
}

static void real_drain(struct ust_stack *s, struct real *r, int src)
{
    char buf[64];
    unsigned prio = 0;
    struct { long mtype; char mtext[8]; } m;
    switch (src) {
    case REAL_MQ:
        assert_int_equal(ust_mq_receive(s, r->fd[REAL_MQ], buf, sizeof(buf), &prio), 2);
        assert_int_equal(prio, 5);
        break;
    case REAL_FIFO:
        assert_int_equal(ust_read(s, r->fd[REAL_FIFO], buf, sizeof(buf)), 2);
        break;
    default:
        assert_int_equal(ust_msgrcv(s, r->msqid, &m, sizeof(m.mtext), 0, IPC_NOWAIT), 2);
        assert_int_equal(m.mtype, 2);
    }
}

/* One epoll_wait, then one poll, over a shared POSIX queue, a shared FIFO
 * and a shared System V queue (with a pipe), no stack thread: each send by
 * a process with its own stack wakes it once, with that descriptor's tag /
 * revents only. A source whose backend is not shared (private mode) is
 * left out. */
static void test_epoll_shared_real_queues_and_fifo_woken_by_other_process(void **state)
{
    (void)state;
    struct ust_stack *s = sf_stack();
    if (!s->cfg.ipc_shared) {
        ust_stack_free(s);
        skip();
    }
    struct real r;
    if (real_open(s, &r) == 0) {        /* no shared backend yet */
        real_close(s, &r);
        ust_stack_free(s);
        skip();
    }
    int p[2];
    assert_int_equal(ust_pipe(s, p), 0);
    int ep = ust_epoll_create1(s, 0);
    for (int i = 0; i < NREAL; i++)
        assert_int_equal(ep_add(s, ep, r.fd[i], EPOLLIN, (uint64_t)i), 0);
    assert_int_equal(ep_add(s, ep, p[0], EPOLLIN, 99), 0);
    int cmd[2], ack[2];
    assert_int_equal(pipe(cmd), 0);
    assert_int_equal(pipe(ack), 0);
    pid_t pid = fork_child();
    if (pid == 0) {
        close(cmd[1]);
        close(ack[0]);
        _exit(real_child(&r, cmd[0], ack[1]));
    }
    close(cmd[0]);
    close(ack[1]);
    static const char ops[NREAL] = { 'm', 'f', 's' };
    for (int round = 0; round < 2; round++) {
        for (int src = 0; src < NREAL; src++) {
            if (!r.shared[src])
                continue;
            struct waiter w = { .s = s, .ep = ep, .timeout = 60000 };
            struct pollfd pfd[NREAL + 1];
            for (int i = 0; i < NREAL; i++)
                pfd[i] = (struct pollfd){ .fd = r.fd[i], .events = POLLIN };
            pfd[NREAL] = (struct pollfd){ .fd = p[0], .events = POLLIN };
            struct real_poll pl = { s, pfd, 0 };
            pthread_t t;
            if (round == 0)
                assert_int_equal(pthread_create(&t, NULL, wait_thread, &w), 0);
            else
                assert_int_equal(pthread_create(&t, NULL, real_poll_thread, &pl), 0);
            sf_wait_kernel_asleep(s, 1);
            assert_int_equal(write(cmd[1], &ops[src], 1), 1);
            struct pollfd pa = { .fd = ack[0], .events = POLLIN };
            assert_int_equal(poll(&pa, 1, 30000), 1);
            int res = -1;
            assert_int_equal(read(ack[0], &res, sizeof(res)), (ssize_t)sizeof(res));
            assert_int_equal(res, 0);
            pt_join(t);
            if (round == 0) {
                assert_int_equal(w.ret, 1);
                assert_int_equal(w.ev[0].data.u64, (uint64_t)src);
                assert_true(w.ev[0].events & EPOLLIN);
            } else {
                assert_int_equal(pl.ret, 1);
                for (int i = 0; i <= NREAL; i++)
                    assert_int_equal(pfd[i].revents != 0, i == src);
                assert_true(pfd[src].revents & POLLIN);
            }
            real_drain(s, &r, src);
        }
    }
    assert_int_equal(write(cmd[1], "q", 1), 1);
    assert_int_equal(wait_child(pid), 0);
    close(cmd[1]);
    close(ack[0]);
    real_close(s, &r);
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
    sf_dir_setup("test_epoll_shared");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_epoll_shared_level_triggered_reported_until_drained),
        cmocka_unit_test(test_epoll_shared_edge_triggered_once_per_change_elsewhere),
        cmocka_unit_test(test_epoll_shared_edge_triggered_not_reported_for_another_objects_change),
        cmocka_unit_test(test_epoll_shared_edge_triggered_without_a_free_bell_misses_no_edge),
        cmocka_unit_test(test_epoll_shared_oneshot_disarms_until_ctl_mod),
        cmocka_unit_test(test_epoll_shared_ctl_del_and_close_stop_the_watching),
        cmocka_unit_test(test_epoll_shared_blocked_wait_woken_by_other_process_and_pipe),
        cmocka_unit_test(test_epoll_shared_blocked_wait_without_a_stack_thread),
        cmocka_unit_test(test_epoll_shared_timeout_and_eintr),
        cmocka_unit_test(test_epoll_shared_epoll_fd_in_poll_and_nested_epoll_woken_by_other_process),
        cmocka_unit_test(test_epoll_shared_real_queues_and_fifo_woken_by_other_process),
    };
    return cmocka_run_group_tests(tests, NULL, group_teardown);
}
