/* The descriptor table, file objects, and the calls that work on any
 * descriptor: ust_read, ust_write, ust_close, ust_fcntl, ust_ioctl,
 * ust_lseek.
 *
 * POSIX rules: a new descriptor is the lowest free number (XSH 2.14), at most
 * cfg.max_fds of them (RLIMIT_NOFILE: EMFILE beyond), EBADF for anything that
 * is not an open descriptor. FD_CLOEXEC belongs to the descriptor, the status
 * flags (O_NONBLOCK) to the file, so dup'd descriptors share the latter. */
#include "fd/fd.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <ustack/fd.h>

#include "runtime/runtime.h"
#include "stack/stack_impl.h"
#include "stack/trace.h"

/* Linux caps one read or write at this many bytes (MAX_RW_COUNT). */
#define UST_MAX_RW_COUNT ((size_t)(INT_MAX & ~4095))

/* ---- Files ------------------------------------------------------------ */

struct ust_file *ust_file_new(struct ust_stack *stack, const struct ust_file_ops *ops,
                              void *priv, int status_flags)
{
    struct ust_file *f = calloc(1, sizeof(*f));
    if (!f)
        return NULL;
    f->ops = ops;
    f->stack = stack;
    f->refcnt = 1;
    f->status_flags = status_flags;
    f->rcvtimeo_ns = UST_TIMEO_FOREVER;
    f->sndtimeo_ns = UST_TIMEO_FOREVER;
    ust_waitq_init(&f->wq);
    f->priv = priv;
    return f;
}

void ust_file_get(struct ust_file *f)
{
    f->refcnt++;
}

void ust_file_put(struct ust_file *f)
{
    if (--f->refcnt > 0)
        return;
    if (f->epoll_watches)
        ust_epoll_file_release(f);
    if (f->ops->release)
        f->ops->release(f);
    free(f);
}

/* ---- The table -------------------------------------------------------- */

int ust_fd_init(struct ust_stack *stack)
{
    struct ust_fd_state *t = &stack->fds;
    t->table = calloc(stack->cfg.max_fds, sizeof(*t->table));
    if (!t->table)
        return -ENOMEM;
    t->size = stack->cfg.max_fds;
    t->lowest_free = 0;
    t->used = 0;
    return 0;
}

static struct ust_file *slot_clear(struct ust_fd_state *t, unsigned fd)
{
    struct ust_file *f = t->table[fd].file;
    t->table[fd].file = NULL;
    t->table[fd].fd_flags = 0;
    t->used--;
    if (fd < t->lowest_free)
        t->lowest_free = fd;
    return f;
}

void ust_fd_fini(struct ust_stack *stack)
{
    struct ust_fd_state *t = &stack->fds;
    if (!t->table)
        return;
    for (unsigned fd = 0; fd < t->size; fd++)
        if (t->table[fd].file)
            ust_file_put(slot_clear(t, fd));
    free(t->table);
    t->table = NULL;
    t->size = 0;
}

/* Lowest free descriptor >= from, or -EMFILE. */
static int fd_alloc_from(struct ust_fd_state *t, unsigned from)
{
    unsigned start = from > t->lowest_free ? from : t->lowest_free;
    for (unsigned fd = start; fd < t->size; fd++) {
        if (!t->table[fd].file) {
            if (fd == t->lowest_free)
                t->lowest_free = fd + 1;
            return (int)fd;
        }
    }
    return -EMFILE;
}

static int fd_install_from(struct ust_stack *stack, struct ust_file *f, int fd_flags, unsigned from)
{
    struct ust_fd_state *t = &stack->fds;
    int fd = fd_alloc_from(t, from);
    if (fd < 0)
        return fd;
    t->table[fd].file = f;
    t->table[fd].fd_flags = fd_flags & FD_CLOEXEC;
    t->used++;
    return fd;
}

int ust_fd_install(struct ust_stack *stack, struct ust_file *f, int fd_flags)
{
    return fd_install_from(stack, f, fd_flags, 0);
}

struct ust_file *ust_fd_lookup(struct ust_stack *stack, int fd)
{
    struct ust_fd_state *t = &stack->fds;
    if (fd < 0 || (unsigned)fd >= t->size)
        return NULL;
    return t->table[fd].file;
}

/* ---- Blocking --------------------------------------------------------- */

static bool may_sleep(const struct ust_file *f, bool dontwait, uint64_t timeout_ns)
{
    return !dontwait && !(f->status_flags & O_NONBLOCK) && timeout_ns != 0 &&
           ust_rt_can_block(f->stack);
}

/* A file that says it is ready although the operation wants to wait (an
 * ephemeral port range exhausted, say) would never be woken: its -EAGAIN is
 * final. */
static bool ready_anyway(struct ust_file *f, uint32_t events)
{
    return f->ops->poll && (f->ops->poll(f) & events);
}

ssize_t ust_file_wait_io(struct ust_file *f, uint32_t events, bool dontwait,
                         uint64_t timeout_ns, ust_file_try_fn try_fn, void *arg)
{
    return ust_file_wait_io_partial(f, events, dontwait, timeout_ns, try_fn, arg, NULL);
}

ssize_t ust_file_wait_io_partial(struct ust_file *f, uint32_t events, bool dontwait,
                                 uint64_t timeout_ns, ust_file_try_fn try_fn, void *arg,
                                 const size_t *done)
{
    ssize_t r = try_fn(f, arg);
    if (r != -EAGAIN || !may_sleep(f, dontwait, timeout_ns) || ready_anyway(f, events))
        return r;

    struct ust_stack *stack = f->stack;
    uint64_t deadline = ust_rt_deadline(stack, timeout_ns);
    struct ust_wait_entry e = { .q = &f->wq, .events = events | POLLERR | POLLHUP };
    ust_file_get(f);    /* a close() from another thread must not free f under us */
    for (;;) {
        /* signal(7): SA_RESTART restarts these calls, except socket calls
         * with a timeout set (SO_RCVTIMEO / SO_SNDTIMEO), which fail with
         * EINTR; a call that already moved data returns its count, with
         * or without SA_RESTART (fs/pipe.c pipe_write, tcp_sendmsg). */
        bool restart = timeout_ns == UST_TIMEO_FOREVER && !(done && *done);
        enum ust_rt_sig sig = restart ? UST_RT_SIG_RESTART : UST_RT_SIG_EINTR;
        int rc = f->wait_nospin ? ust_rt_wait_nospin(stack, &e, 1, deadline, sig)
                                : ust_rt_wait(stack, &e, 1, deadline, sig);
        /* One more try even after the timeout: what arrived meanwhile counts. */
        r = try_fn(f, arg);
        if (r == -EAGAIN && rc == -EINTR)
            r = -EINTR;
        if (r != -EAGAIN || rc == -ETIMEDOUT || !ust_rt_can_block(stack) ||
            ready_anyway(f, events))
            break;
    }
    ust_file_put(f);
    return r;
}

/* ---- O_ASYNC ---------------------------------------------------------- */

void ust_file_sigio(struct ust_file *f)
{
    if ((f->status_flags & O_ASYNC) && f->owner != 0)
        kill(f->owner, SIGIO);     /* a negative owner is a process group */
}

/* ---- read / write ----------------------------------------------------- */

struct rw_args {
    void *buf;
    size_t len;
};

static ssize_t try_read(struct ust_file *f, void *arg)
{
    struct rw_args *a = arg;
    return f->ops->read(f, a->buf, a->len);
}

static ssize_t try_write(struct ust_file *f, void *arg)
{
    struct rw_args *a = arg;
    return f->ops->write(f, a->buf, a->len);
}

static ssize_t do_read(struct ust_stack *stack, int fd, void *buf, size_t len)
{
    struct ust_file *f = ust_fd_lookup(stack, fd);
    if (!f || (f->status_flags & O_ACCMODE) == O_WRONLY)
        return -EBADF;
    if (!f->ops->read)
        return -EINVAL;
    if (len == 0)       /* Linux: a zero-length read returns 0 at once */
        return 0;
    struct rw_args a = { buf, len < UST_MAX_RW_COUNT ? len : UST_MAX_RW_COUNT };
    if (f->ops->rw_waits)
        return try_read(f, &a);
    return ust_file_wait_io(f, POLLIN | POLLRDNORM, false, f->rcvtimeo_ns, try_read, &a);
}

static ssize_t do_write(struct ust_stack *stack, int fd, const void *buf, size_t len)
{
    struct ust_file *f = ust_fd_lookup(stack, fd);
    if (!f || (f->status_flags & O_ACCMODE) == O_RDONLY)
        return -EBADF;
    if (!f->ops->write)
        return -EINVAL;
    struct rw_args a = { (void *)buf, len < UST_MAX_RW_COUNT ? len : UST_MAX_RW_COUNT };
    if (f->ops->rw_waits)
        return try_write(f, &a);
    return ust_file_wait_io(f, POLLOUT | POLLWRNORM, false, f->sndtimeo_ns, try_write, &a);
}

ssize_t ust_read(struct ust_stack *stack, int fd, void *buf, size_t len)
{
    ust_rt_enter(stack);
    ust_trace_call_enter(stack, "read", fd);
    ssize_t r = do_read(stack, fd, buf, len);
    ust_trace_call_ret(stack, "read", fd, r);
    ust_rt_exit(stack);
    return ust_fd_ret(r);
}

ssize_t ust_write(struct ust_stack *stack, int fd, const void *buf, size_t len)
{
    ust_rt_enter(stack);
    ust_trace_call_enter(stack, "write", fd);
    ssize_t r = do_write(stack, fd, buf, len);
    ust_trace_call_ret(stack, "write", fd, r);
    ust_rt_exit(stack);
    return ust_fd_ret(r);
}

/* ---- close / fcntl / ioctl -------------------------------------------- */

static int do_close(struct ust_stack *stack, int fd)
{
    struct ust_file *f = ust_fd_lookup(stack, fd);
    if (!f)
        return -EBADF;
    if (f->ops->flush)          /* filp_close(): on every close, before fput */
        f->ops->flush(f);
    ust_file_put(slot_clear(&stack->fds, (unsigned)fd));
    return 0;
}

int ust_close(struct ust_stack *stack, int fd)
{
    ust_rt_enter(stack);
    ust_trace_call_enter(stack, "close", fd);
    int r = do_close(stack, fd);
    ust_trace_call_ret(stack, "close", fd, r);
    ust_rt_exit(stack);
    return (int)ust_fd_ret(r);
}

static int do_dupfd(struct ust_stack *stack, struct ust_file *f, long from, int fd_flags)
{
    if (from < 0 || (unsigned long)from >= stack->fds.size)
        return -EINVAL;
    int fd = fd_install_from(stack, f, fd_flags, (unsigned)from);
    if (fd >= 0)
        ust_file_get(f);
    return fd;
}

static int do_fcntl(struct ust_stack *stack, int fd, int cmd, long arg)
{
    struct ust_file *f = ust_fd_lookup(stack, fd);
    if (!f)
        return -EBADF;
    struct ust_fd_slot *slot = &stack->fds.table[fd];
    switch (cmd) {
    case F_GETFD:
        return slot->fd_flags;
    case F_SETFD:
        slot->fd_flags = (int)(arg & FD_CLOEXEC);
        return 0;
    case F_GETFL:
        return f->status_flags;
    case F_SETFL:
        /* The access mode and creation flags are ignored, as Linux does;
         * a file with a setfl op takes the bits it supports (pipes:
         * O_DIRECT). Linux setfl(): O_DIRECT on a file that cannot do it is
         * EINVAL. */
        if (f->ops->setfl)
            return f->ops->setfl(f, (int)arg);
        if ((int)arg & O_DIRECT)
            return -EINVAL;
        f->status_flags = (f->status_flags & ~O_NONBLOCK) | ((int)arg & O_NONBLOCK);
        return 0;
    case F_GETOWN:
        return f->owner;
    case F_SETOWN:          /* f_setown(): any pid or -pgid; 0 clears */
        f->owner = (int)arg;
        return 0;
    case F_DUPFD:
        return do_dupfd(stack, f, arg, 0);
    case F_DUPFD_CLOEXEC:
        return do_dupfd(stack, f, arg, FD_CLOEXEC);
    default:
        if (f->ops->fcntl)
            return f->ops->fcntl(f, cmd, arg);
        /* Linux: the pipe commands on anything else are EBADF. */
        return (cmd == F_GETPIPE_SZ || cmd == F_SETPIPE_SZ) ? -EBADF : -EINVAL;
    }
}

int ust_fcntl(struct ust_stack *stack, int fd, int cmd, ...)
{
    long arg = 0;
    if (cmd == F_SETFD || cmd == F_SETFL || cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC ||
        cmd == F_SETPIPE_SZ || cmd == F_SETOWN) {
        va_list ap;
        va_start(ap, cmd);
        arg = va_arg(ap, int);
        va_end(ap);
    }
    ust_rt_enter(stack);
    int r = do_fcntl(stack, fd, cmd, arg);
    ust_rt_exit(stack);
    return (int)ust_fd_ret(r);
}

/* ksys_lseek(): EBADF, then EINVAL for a bad whence, then the file's own
 * rule (vfs_llseek: ESPIPE without FMODE_LSEEK). */
static off_t do_lseek(struct ust_stack *stack, int fd, off_t offset, int whence)
{
    struct ust_file *f = ust_fd_lookup(stack, fd);
    if (!f)
        return -EBADF;
    if (whence < SEEK_SET || whence > SEEK_HOLE)
        return -EINVAL;
    return f->ops->llseek ? f->ops->llseek(f, offset, whence) : -ESPIPE;
}

off_t ust_lseek(struct ust_stack *stack, int fd, off_t offset, int whence)
{
    ust_rt_enter(stack);
    off_t r = do_lseek(stack, fd, offset, whence);
    ust_rt_exit(stack);
    return (off_t)ust_fd_ret(r);
}

static int do_ioctl(struct ust_stack *stack, int fd, unsigned long request, void *arg)
{
    struct ust_file *f = ust_fd_lookup(stack, fd);
    if (!f)
        return -EBADF;
    switch (request) {
    case FIONBIO:
        if (!arg)
            return -EFAULT;
        if (*(const int *)arg)
            f->status_flags |= O_NONBLOCK;
        else
            f->status_flags &= ~O_NONBLOCK;
        return 0;
    case FIOCLEX:
        stack->fds.table[fd].fd_flags |= FD_CLOEXEC;
        return 0;
    case FIONCLEX:
        stack->fds.table[fd].fd_flags &= ~FD_CLOEXEC;
        return 0;
    default:
        return f->ops->ioctl ? f->ops->ioctl(f, request, arg) : -ENOTTY;
    }
}

int ust_ioctl(struct ust_stack *stack, int fd, unsigned long request, ...)
{
    va_list ap;
    va_start(ap, request);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    ust_rt_enter(stack);
    int r = do_ioctl(stack, fd, request, arg);
    ust_rt_exit(stack);
    return (int)ust_fd_ret(r);
}
