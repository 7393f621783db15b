/* A test-local shared file type for the poll/epoll tests (test_poll_shared,
 * test_epoll_shared): a descriptor whose ops wrap a shared-memory queue
 * (ipc/shm_queue.h) in the stack's directory of shared objects, as the
 * shared FIFOs and message queues do: read = receive, write = send (both
 * non-blocking), poll = the lock-free readable/writable hints, shm_watch =
 * ust_shmq_watch. Its state changes in other processes, which cannot wake
 * its f->wq: only the stack's doorbell tells a poller.
 *
 * Also: a "peer", a forked process that opens the same objects with its own
 * handles and its own doorbell arena mapping (no stack) and sends or
 * receives on command, and in-process "other handles" that change an
 * object without going through the stack (what another process does). Every
 * wait is bounded. Include after <cmocka.h>. */
#ifndef UST_TESTS_SHMFILE_TEST_UTIL_H
#define UST_TESTS_SHMFILE_TEST_UTIL_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <ustack/ustack.h>

#include "fd/fd.h"
#include "ipc/ipc.h"
#include "ipc/shm_bell.h"
#include "ipc/shm_queue.h"
#include "runtime/runtime.h"
#include "stack/stack_impl.h"
#include "unit/shmq_test_util.h"

#define SF_KIND "polltest"
#define SF_MSGSIZE 64

/* shm_watch calls (on / off) of every test file of this process. */
static atomic_uint sf_watch_on, sf_watch_off;

static ssize_t sf_read(struct ust_file *f, void *buf, size_t len)
{
    return ust_shmq_receive(f->priv, buf, len, NULL, NULL, UST_SHMQ_NONBLOCK, NULL);
}

static ssize_t sf_write(struct ust_file *f, const void *buf, size_t len)
{
    int r = ust_shmq_send(f->priv, buf, len, 0, UST_SHMQ_NONBLOCK, NULL);
    return r < 0 ? r : (ssize_t)len;
}

static uint32_t sf_poll(struct ust_file *f)
{
    uint32_t ev = 0;
    if (ust_shmq_readable(f->priv))
        ev |= POLLIN | POLLRDNORM;
    if (ust_shmq_writable(f->priv))
        ev |= POLLOUT | POLLWRNORM;
    return ev;
}

static int sf_watch(struct ust_file *f, struct ust_shmbell_arena *arena, int bell, bool on)
{
    (void)arena;
    atomic_fetch_add(on ? &sf_watch_on : &sf_watch_off, 1);
    return ust_shmq_watch(f->priv, bell, on);
}

static void sf_release(struct ust_file *f)
{
    ust_shmq_close(f->priv);
}

static const struct ust_file_ops sf_ops = {
    .name = "test-shmq",
    .read = sf_read,
    .write = sf_write,
    .poll = sf_poll,
    .release = sf_release,
    .shm_watch = sf_watch,
};

/* Opens (creating it when `create`) the object `name` in the stack's
 * directory as a non-blocking descriptor of the stack. */
static inline int sf_open(struct ust_stack *s, const char *name, bool create)
{
    struct ust_shmq_attr at = { .maxmsg = 8, .msgsize = SF_MSGSIZE, .mode = 0600 };
    struct ust_shmq *q = NULL;
    struct ust_shmbell_arena *arena = NULL;
    int bell = -1, fd = -1;
    ust_rt_lock(s);
    int r = ust_shmq_open(ust_ipc_dir(s), SF_KIND, name, create ? O_CREAT | O_EXCL : 0,
                          UST_SHMQ_RD | UST_SHMQ_WR, &at, &q);
    if (r == 0)
        r = ust_ipc_bell(s, &arena, &bell);
    if (r == 0) {
        ust_shmq_set_bells(q, arena);
        struct ust_file *f = ust_file_new(s, &sf_ops, q, O_RDWR | O_NONBLOCK);
        fd = f ? ust_fd_install(s, f, 0) : -ENOMEM;
        if (fd < 0 && f)
            ust_file_put(f);
        else if (!f)
            ust_shmq_close(q);
    } else if (q) {
        ust_shmq_close(q);
    }
    ust_rt_unlock(s);
    assert_int_equal(r, 0);
    assert_true(fd >= 0);
    return fd;
}

static inline void sf_unlink(struct ust_stack *s, const char *name)
{
    assert_int_equal(ust_shmq_unlink(ust_ipc_dir(s), SF_KIND, name), 0);
}

/* The stack's doorbell: how many times it was rung. */
static inline uint32_t sf_bell_count(struct ust_stack *s)
{
    struct ust_shmbell_arena *arena;
    int bell;
    ust_rt_lock(s);
    int r = ust_ipc_bell(s, &arena, &bell);
    uint32_t n = r == 0 ? ust_shmbell_count(arena, bell) : 0;
    ust_rt_unlock(s);
    assert_int_equal(r, 0);
    return n;
}

/* Waits (bounded: 60 s) until exactly n callers of the stack sleep in the
 * kernel (past their spin: a wake must then ring the futex they sleep on),
 * and no other caller is linked as a sleeper. */
static inline void sf_wait_kernel_asleep(struct ust_stack *s, unsigned n)
{
    struct timespec limit = mono_in_ms(60000);
    for (;;) {
        ust_rt_lock(s);
        unsigned k = ust_rt_kernel_sleeper_count(s), all = ust_rt_sleeper_count(s);
        ust_rt_unlock(s);
        if (k == n && all == n)
            return;
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec > limit.tv_sec)
            fail_msg("the callers never went to sleep in the kernel (%u of %u)", k, n);
        sched_yield();
    }
}

/* ---- Another handle on an object, outside the stack -------------------- */

struct sf_other {
    struct ust_shmbell_arena *arena;
    struct ust_shmq *q;
};

/* Opens the existing object `name` of dir with a handle of its own, which
 * rings the bells registered with it, as another process's would. */
static inline void sf_other_open(struct sf_other *o, const char *dir, const char *name)
{
    assert_int_equal(ust_shmbell_open(dir, NULL, &o->arena), 0);
    assert_int_equal(ust_shmq_open(dir, SF_KIND, name, 0, UST_SHMQ_RD | UST_SHMQ_WR, NULL, &o->q),
                     0);
    ust_shmq_set_bells(o->q, o->arena);
}

static inline void sf_other_send(struct sf_other *o)
{
    assert_int_equal(ust_shmq_send(o->q, "x", 1, 0, UST_SHMQ_NONBLOCK, NULL), 0);
}

static inline void sf_other_close(struct sf_other *o)
{
    ust_shmq_close(o->q);
    ust_shmbell_close(o->arena);
}

/* ---- A peer process ---------------------------------------------------- */

/* A forked process with its own handles on the objects <prefix>_0 ..
 * <prefix>_<n-1> (which must exist) and its own mapping of the doorbell
 * arena. Fork it before any thread starts. */
struct sf_peer {
    pid_t pid;
    int cmd, ack;               /* parent's ends */
};

struct sf_peer_cmd {
    char op;                    /* 's' send one byte, 'r' receive, 'q' quit */
    int idx;
};

#define SF_PEER_MAX 128

static inline void sf_peer_run(const char *dir, const char *prefix, int n, int cmd, int ack)
{
    struct ust_shmbell_arena *arena = NULL;
    static struct ust_shmq *q[SF_PEER_MAX];
    if (ust_shmbell_open(dir, NULL, &arena) != 0)
        _exit(2);
    for (int i = 0; i < n; i++) {
        char name[UST_SHMQ_NAME_MAX + 16];
        snprintf(name, sizeof(name), "%s_%d", prefix, i);
        if (ust_shmq_open(dir, SF_KIND, name, 0, UST_SHMQ_RD | UST_SHMQ_WR, NULL, &q[i]) != 0)
            _exit(3);
        ust_shmq_set_bells(q[i], arena);
    }
    struct sf_peer_cmd c;
    while (read(cmd, &c, sizeof(c)) == (ssize_t)sizeof(c)) {
        int r = 0;
        if (c.op == 'q')
            _exit(0);
        if (c.idx < 0 || c.idx >= n) {
            r = -EINVAL;
        } else if (c.op == 's') {
            r = ust_shmq_send(q[c.idx], "p", 1, 0, UST_SHMQ_NONBLOCK, NULL);
        } else {
            char buf[SF_MSGSIZE];
            r = (int)ust_shmq_receive(q[c.idx], buf, sizeof(buf), NULL, NULL, UST_SHMQ_NONBLOCK,
                                      NULL);
        }
        if (write(ack, &r, sizeof(r)) != (ssize_t)sizeof(r))
            _exit(4);
    }
    _exit(5);
}

static inline void sf_peer_start(struct sf_peer *p, const char *dir, const char *prefix, int n)
{
    assert_true(n <= SF_PEER_MAX);
    int cmd[2], ack[2];
    assert_int_equal(pipe(cmd), 0);
    assert_int_equal(pipe(ack), 0);
    p->pid = fork_child();
    if (p->pid == 0) {
        close(cmd[1]);
        close(ack[0]);
        sf_peer_run(dir, prefix, n, cmd[0], ack[1]);
    }
    close(cmd[0]);
    close(ack[1]);
    p->cmd = cmd[1];
    p->ack = ack[0];
}

/* Has the peer do op on object idx; returns its result (bounded wait). */
static inline int sf_peer_do(struct sf_peer *p, char op, int idx)
{
    struct sf_peer_cmd c = { .op = op, .idx = idx };
    assert_int_equal(write(p->cmd, &c, sizeof(c)), (ssize_t)sizeof(c));
    struct pollfd pf = { .fd = p->ack, .events = POLLIN };
    if (poll(&pf, 1, 30000) != 1)
        fail_msg("the peer process did not answer");
    int r = -1;
    assert_int_equal(read(p->ack, &r, sizeof(r)), (ssize_t)sizeof(r));
    return r;
}

static inline void sf_peer_stop(struct sf_peer *p)
{
    struct sf_peer_cmd c = { .op = 'q' };
    assert_int_equal(write(p->cmd, &c, sizeof(c)), (ssize_t)sizeof(c));
    assert_int_equal(wait_child(p->pid), 0);
    close(p->cmd);
    close(p->ack);
}

/* ---- The directory of shared objects ------------------------------------ */

/* ctest gives the test its own USTACK_IPC_DIR; run by hand, the test uses a
 * directory of its own under /dev/shm (removed by sf_dir_cleanup) rather
 * than /dev/shm itself. The directory is made here too, for the _private
 * run (a stack in private mode does not make it, and the test-local file
 * type is shared in both modes). */
static char sf_own_dir[128];

static inline void sf_dir_setup(const char *test)
{
    const char *d = getenv("USTACK_IPC_DIR");
    if (!d || !d[0]) {
        snprintf(sf_own_dir, sizeof(sf_own_dir), "/dev/shm/ustack-%s-%d", test, (int)getpid());
        setenv("USTACK_IPC_DIR", sf_own_dir, 1);
        d = sf_own_dir;
    }
    if (mkdir(d, 01777) == 0)
        chmod(d, 01777);
}

static inline void sf_dir_cleanup(void)
{
    if (!sf_own_dir[0])
        return;
    DIR *dir = opendir(sf_own_dir);
    if (dir) {
        struct dirent *e;
        char path[512];
        while ((e = readdir(dir)) != NULL) {
            if (e->d_name[0] == '.')
                continue;
            snprintf(path, sizeof(path), "%s/%s", sf_own_dir, e->d_name);
            unlink(path);
        }
        closedir(dir);
    }
    rmdir(sf_own_dir);
}

/* A stack of the test (SIGPIPE off), not started. */
static inline struct ust_stack *sf_stack(void)
{
    struct ust_stack_config c;
    ust_stack_config_init(&c);
    c.seed = 42;
    c.raise_sigpipe = 0;
    struct ust_stack *s = ust_stack_new(&c);
    assert_non_null(s);
    return s;
}

/* The object names <prefix>_<i> of this process's test `tag`. */
static inline void sf_name(char *buf, size_t len, const char *tag, int i)
{
    snprintf(buf, len, "%s%d_%d", tag, (int)getpid(), i);
}

static inline void sf_prefix(char *buf, size_t len, const char *tag)
{
    snprintf(buf, len, "%s%d", tag, (int)getpid());
}

#endif
