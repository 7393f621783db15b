/* Pipes (pipe(2), pipe(7)): ust_pipe, ust_pipe2 and the file operations
 * shared by pipes and FIFOs.
 *
 * Rules (pipe(7), Linux fs/pipe.c), with ustack's choices:
 *  - capacity: 65,536 bytes by default; F_SETPIPE_SZ rounds up to a
 *    power-of-two number of pages, EPERM above cfg.pipe_max_size, EBUSY
 *    below the bytes held, EINVAL above 2^31. Accounting is byte-exact:
 *    exactly `cap` bytes fit whatever the write sizes (Linux counts page
 *    slots, so fewer may fit there). In packet mode a packet takes a slot
 *    (one per page of capacity) as in Linux. Memory is bounded as Linux's
 *    pipe-user-pages-soft: once all pipes hold cfg.pipe_user_pages_soft
 *    pages, new pipes get 2 pages and F_SETPIPE_SZ cannot grow (EPERM).
 *  - a write of n <= PIPE_BUF bytes is atomic: all or (non-blocking)
 *    EAGAIN; a larger one writes what fits (1..n, non-blocking) or, when it
 *    may block, keeps writing until all n are in (other writers may
 *    interleave).
 *  - read returns what is there (at most len); with no writer left, the
 *    remaining data and then 0 (EOF); otherwise EAGAIN when empty.
 *  - no reader left: EPIPE, and SIGPIPE is raised in the calling thread
 *    unless cfg.raise_sigpipe is 0 (a handler runs with the stack lock
 *    held, so it must not call into the same stack).
 *  - poll (fs/pipe.c pipe_poll): read side POLLIN when not empty, POLLHUP
 *    when no writer is left and this open has seen one; write side POLLOUT
 *    when a PIPE_BUF write would succeed, POLLERR when no reader is left.
 *  - O_DIRECT (packet mode): each write of up to PIPE_BUF bytes is one
 *    packet (larger writes are split), a read returns at most one packet
 *    and discards what did not fit. Packet mode is fixed at creation
 *    (F_SETFL cannot toggle it). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include <ustack/ipc.h>

#include "core/util.h"
#include "ipc/pipe_impl.h"
#include "runtime/runtime.h"
#include "stack/stack_impl.h"

/* ---- The pipe object -------------------------------------------------- */

static size_t pipe_max_size(const struct ust_stack *stack)
{
    return stack->cfg.pipe_max_size ? stack->cfg.pipe_max_size : (1u << 20);
}

/* Would the pipes' pages, grown by `more`, pass pipe-user-pages-soft? */
static bool pages_over_soft_limit(const struct ust_stack *stack, uint64_t more)
{
    uint64_t soft = stack->cfg.pipe_user_pages_soft;
    return soft && stack->ipc.pipe_pages + more > soft;
}

struct ust_pipe *ust_pipe_alloc(struct ust_stack *stack, bool packet)
{
    struct ust_pipe *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    size_t cap = UST_PIPE_DEF_SIZE;
    size_t max = pipe_max_size(stack);
    while (cap > max && cap > UST_PIPE_PAGE)    /* pipe-max-size caps the default */
        cap /= 2;
    /* Past pipe-user-pages-soft a new pipe gets PIPE_MIN_DEF_BUFFERS (2)
     * pages (Linux alloc_pipe_info): total pipe memory stays bounded. */
    if (pages_over_soft_limit(stack, cap / UST_PIPE_PAGE) && cap > 2 * UST_PIPE_PAGE)
        cap = 2 * UST_PIPE_PAGE;
    stack->ipc.pipe_pages += cap / UST_PIPE_PAGE;
    p->stack = stack;
    p->cap = cap;
    ust_ring_init(&p->ring, cap);
    p->packet = packet;
    if (packet) {
        p->pkt_slots = (unsigned)(cap / UST_PIPE_PAGE);
        p->pkt_len = calloc(p->pkt_slots, sizeof(*p->pkt_len));
        if (!p->pkt_len) {
            stack->ipc.pipe_pages -= cap / UST_PIPE_PAGE;
            free(p);
            return NULL;
        }
    }
    /* Linux alloc_pipe_info starts both generations at 1, so the ends of an
     * anonymous pipe (w_seen 0) have seen a writer. */
    p->r_counter = p->w_counter = 1;
    ust_waitq_init(&p->open_wq);
    return p;
}

void ust_pipe_free_if_unused(struct ust_pipe *p)
{
    if (p->readers || p->writers || p->opens)
        return;
    if (p->node)
        ust_fifo_pipe_gone(p);
    p->stack->ipc.pipe_pages -= p->cap / UST_PIPE_PAGE;
    ust_ring_free(&p->ring);
    free(p->pkt_len);
    free(p);
}

static size_t pipe_used(const struct ust_pipe *p)
{
    return ust_ring_used(&p->ring);
}

/* Wakes every open of the pipe (their files' queues: readers, writers,
 * pollers and epoll watches sleep there). */
static void pipe_wake(struct ust_pipe *p, uint32_t events)
{
    for (struct ust_pipe_open *o = p->opens; o; o = o->next)
        ust_waitq_wake(&o->file->wq, events);
}

/* Can a write of n bytes (n <= PIPE_BUF) go in at once? */
static bool pipe_room_for(const struct ust_pipe *p, size_t n)
{
    if (p->packet)
        return p->pkt_count < p->pkt_slots;
    return ust_ring_space(&p->ring) >= n;
}

/* ---- Data ------------------------------------------------------------- */

static size_t packet_push(struct ust_pipe *p, const uint8_t *src, size_t n)
{
    size_t w = ust_ring_write(&p->ring, src, n);
    if (w == 0)
        return 0;
    p->pkt_len[(p->pkt_head + p->pkt_count) % p->pkt_slots] = (uint16_t)w;
    p->pkt_count++;
    return w;
}

/* Copies in as much of src as the pipe takes now: all or nothing when
 * atomic, else whatever fits (whole packets in packet mode). */
static size_t pipe_put(struct ust_pipe *p, const uint8_t *src, size_t n, bool atomic)
{
    if (atomic && !pipe_room_for(p, n))
        return 0;
    if (!p->packet)
        return ust_ring_write(&p->ring, src, n);
    size_t done = 0;
    while (done < n && p->pkt_count < p->pkt_slots) {
        size_t w = packet_push(p, src + done, UST_MIN(n - done, (size_t)UST_PIPE_BUF));
        if (w == 0)
            break;
        done += w;
    }
    return done;
}

static size_t pipe_take(struct ust_pipe *p, uint8_t *dst, size_t len)
{
    if (!p->packet)
        return ust_ring_read(&p->ring, dst, len);
    /* Packet mode: one packet; the part that does not fit is discarded. */
    size_t plen = p->pkt_len[p->pkt_head];
    size_t n = ust_ring_read(&p->ring, dst, UST_MIN(len, plen));
    ust_ring_discard(&p->ring, plen - n);
    p->pkt_head = (p->pkt_head + 1) % p->pkt_slots;
    p->pkt_count--;
    return n;
}

/* ---- File operations -------------------------------------------------- */

struct ust_pipe_open *ust_pipe_open_of(struct ust_file *f)
{
    return f->priv;
}

static ssize_t pipe_read(struct ust_file *f, void *buf, size_t len)
{
    struct ust_pipe *p = ust_pipe_open_of(f)->pipe;
    if (pipe_used(p) == 0)
        return p->writers ? -EAGAIN : 0;   /* EOF only once drained */
    /* Writers can only be waiting when a PIPE_BUF write did not fit (a
     * smaller atomic write needs less, a larger one waits for any room):
     * wake them on that transition only, as Linux wakes on "was full". */
    bool was_writable = pipe_room_for(p, UST_PIPE_BUF);
    size_t n = pipe_take(p, buf, len);
    if (!was_writable)
        pipe_wake(p, POLLOUT | POLLWRNORM);
    return (ssize_t)n;
}

static void pipe_sigpipe(const struct ust_pipe *p)
{
    if (p->stack->cfg.raise_sigpipe)
        raise(SIGPIPE);
}

/* One try at putting bytes in: count, -EAGAIN, or -EPIPE. */
static ssize_t pipe_write_try(struct ust_pipe *p, const void *buf, size_t len, bool atomic)
{
    if (p->readers == 0)
        return -EPIPE;
    size_t n = pipe_put(p, buf, len, atomic);
    if (n == 0)
        return -EAGAIN;
    pipe_wake(p, POLLIN | POLLRDNORM);
    return (ssize_t)n;
}

/* The rest of a large blocking write, one chunk per wakeup. */
struct write_rest {
    const uint8_t *buf;
    size_t len, done;
};

static ssize_t try_write_rest(struct ust_file *f, void *arg)
{
    struct write_rest *w = arg;
    struct ust_pipe *p = ust_pipe_open_of(f)->pipe;
    ssize_t r = pipe_write_try(p, w->buf + w->done, w->len - w->done, false);
    if (r > 0)
        w->done += (size_t)r;
    return r;
}

static ssize_t pipe_write(struct ust_file *f, const void *buf, size_t len)
{
    struct ust_pipe *p = ust_pipe_open_of(f)->pipe;
    if (len == 0)
        return 0;
    ssize_t r = pipe_write_try(p, buf, len, len <= UST_PIPE_BUF);
    if (r == -EPIPE)
        pipe_sigpipe(p);
    if (r <= 0 || (size_t)r == len)
        return r;
    /* A partial write of more than PIPE_BUF: a blocking writer goes on
     * until everything is in (ust_file_wait_io gives up at once when the
     * file is non-blocking or nothing could wake it). */
    struct write_rest w = { buf, len, (size_t)r };
    while (w.done < len) {
        r = ust_file_wait_io(f, POLLOUT | POLLWRNORM, false, f->sndtimeo_ns, try_write_rest, &w);
        if (r == -EPIPE)
            pipe_sigpipe(p);
        if (r <= 0)
            break;
    }
    return (ssize_t)w.done;
}

static uint32_t pipe_poll(struct ust_file *f)
{
    struct ust_pipe_open *o = ust_pipe_open_of(f);
    struct ust_pipe *p = o->pipe;
    int mode = f->status_flags & O_ACCMODE;
    uint32_t mask = 0;
    if (mode != O_WRONLY) {
        if (pipe_used(p) > 0)
            mask |= POLLIN | POLLRDNORM;
        if (p->writers == 0 && o->w_seen != p->w_counter)
            mask |= POLLHUP;
    }
    if (mode != O_RDONLY) {
        if (pipe_room_for(p, UST_PIPE_BUF))
            mask |= POLLOUT | POLLWRNORM;
        if (p->readers == 0)
            mask |= POLLERR;
    }
    return mask;
}

static int pipe_ioctl(struct ust_file *f, unsigned long request, void *arg)
{
    struct ust_pipe *p = ust_pipe_open_of(f)->pipe;
    if (request != FIONREAD)
        return -ENOTTY;
    if (!arg)
        return -EFAULT;
    int n = (int)pipe_used(p);
    memcpy(arg, &n, sizeof(n));
    return 0;
}

/* fcntl(2) F_SETPIPE_SZ (Linux pipe_set_size / round_pipe_size). */
static int pipe_set_size(struct ust_pipe *p, unsigned long arg)
{
    if (arg > (1ul << 31))
        return -EINVAL;
    size_t size = UST_PIPE_PAGE;
    while (size < arg)
        size *= 2;
    if (size > pipe_max_size(p->stack))
        return -EPERM;
    if (size > p->cap && pages_over_soft_limit(p->stack, (size - p->cap) / UST_PIPE_PAGE))
        return -EPERM;          /* Linux: too_many_pipe_buffers_soft */
    unsigned slots = (unsigned)(size / UST_PIPE_PAGE);
    if (p->packet && p->pkt_count > slots)
        return -EBUSY;
    if (pipe_used(p) > size)
        return -EBUSY;
    uint16_t *nl = NULL;
    if (p->packet && !(nl = calloc(slots, sizeof(*nl))))
        return -ENOMEM;
    int err = ust_ring_resize(&p->ring, size);
    if (err) {
        free(nl);
        return err;
    }
    if (p->packet) {
        for (unsigned i = 0; i < p->pkt_count; i++)
            nl[i] = p->pkt_len[(p->pkt_head + i) % p->pkt_slots];
        free(p->pkt_len);
        p->pkt_len = nl;
        p->pkt_slots = slots;
        p->pkt_head = 0;
    }
    bool grew = size > p->cap;
    p->stack->ipc.pipe_pages = p->stack->ipc.pipe_pages - p->cap / UST_PIPE_PAGE + size / UST_PIPE_PAGE;
    p->cap = size;
    if (grew)
        pipe_wake(p, POLLOUT | POLLWRNORM);
    return (int)size;
}

static int pipe_fcntl(struct ust_file *f, int cmd, long arg)
{
    struct ust_pipe *p = ust_pipe_open_of(f)->pipe;
    switch (cmd) {
    case F_GETPIPE_SZ:
        return (int)p->cap;
    case F_SETPIPE_SZ:
        return pipe_set_size(p, (unsigned long)(unsigned int)arg);
    default:
        return -EINVAL;
    }
}

/* The last reference to one open went: it stops counting as reader or
 * writer, and the other side learns (the last writer wakes every blocked
 * reader: LTP pipe13). */
static void pipe_release(struct ust_file *f)
{
    struct ust_pipe_open *o = ust_pipe_open_of(f);
    struct ust_pipe *p = o->pipe;
    int mode = f->status_flags & O_ACCMODE;
    *o->pprev = o->next;
    if (o->next)
        o->next->pprev = o->pprev;
    free(o);
    if (mode != O_WRONLY)
        p->readers--;
    if (mode != O_RDONLY)
        p->writers--;
    if (mode != O_RDONLY && p->writers == 0)
        pipe_wake(p, POLLIN | POLLRDNORM | POLLHUP);
    if (mode != O_WRONLY && p->readers == 0)
        pipe_wake(p, POLLOUT | POLLWRNORM | POLLERR);
    ust_pipe_free_if_unused(p);
}

static const struct ust_file_ops pipe_ops = {
    .name = "pipe",
    .read = pipe_read,
    .write = pipe_write,
    .poll = pipe_poll,
    .ioctl = pipe_ioctl,
    .release = pipe_release,
    .fcntl = pipe_fcntl,
};

static const struct ust_file_ops fifo_ops = {
    .name = "fifo",
    .read = pipe_read,
    .write = pipe_write,
    .poll = pipe_poll,
    .ioctl = pipe_ioctl,
    .release = pipe_release,
    .fcntl = pipe_fcntl,
};

struct ust_file *ust_pipe_open_file(struct ust_pipe *p, int status_flags, bool fifo)
{
    struct ust_pipe_open *o = calloc(1, sizeof(*o));
    if (!o)
        return NULL;
    struct ust_file *f = ust_file_new(p->stack, fifo ? &fifo_ops : &pipe_ops, o, status_flags);
    if (!f) {
        free(o);
        return NULL;
    }
    o->pipe = p;
    o->file = f;
    o->next = p->opens;
    if (o->next)
        o->next->pprev = &o->next;
    o->pprev = &p->opens;
    p->opens = o;
    int mode = status_flags & O_ACCMODE;
    if (mode != O_WRONLY) {
        p->readers++;
        p->r_counter++;
    }
    if (mode != O_RDONLY) {
        p->writers++;
        p->w_counter++;
    }
    ust_waitq_wake(&p->open_wq, UST_WAKE_ALL);
    return f;
}

/* ---- pipe() / pipe2() ------------------------------------------------- */

static int do_pipe2(struct ust_stack *stack, int fds[2], int flags)
{
    if (stack->fds.size - stack->fds.used < 2)
        return -EMFILE;     /* both descriptors or none */
    struct ust_pipe *p = ust_pipe_alloc(stack, flags & O_DIRECT);
    if (!p)
        return -ENOMEM;
    int fd_flags = (flags & O_CLOEXEC) ? FD_CLOEXEC : 0;
    struct ust_file *rf = ust_pipe_open_file(p, O_RDONLY | (flags & O_NONBLOCK), false);
    struct ust_file *wf = rf ? ust_pipe_open_file(p, O_WRONLY | (flags & (O_NONBLOCK | O_DIRECT)), false)
                             : NULL;
    if (!wf) {
        if (rf)
            ust_file_put(rf);
        else
            ust_pipe_free_if_unused(p);
        return -ENOMEM;
    }
    int rfd = ust_fd_install(stack, rf, fd_flags);    /* cannot fail: checked above */
    int wfd = ust_fd_install(stack, wf, fd_flags);
    fds[0] = rfd;   /* only now: fds stay unchanged on failure (POSIX TC2) */
    fds[1] = wfd;
    return 0;
}

int ust_pipe2(struct ust_stack *stack, int fds[2], int flags)
{
    if (!fds) {
        errno = EFAULT;
        return -1;
    }
    if (flags & O_EXCL) {           /* O_NOTIFICATION_PIPE: no watch queues here */
        errno = ENOPKG;
        return -1;
    }
    if (flags & ~(O_NONBLOCK | O_CLOEXEC | O_DIRECT)) {
        errno = EINVAL;
        return -1;
    }
    ust_rt_enter(stack);
    int r = do_pipe2(stack, fds, flags);
    ust_rt_exit(stack);
    return (int)ust_fd_ret(r);
}

int ust_pipe(struct ust_stack *stack, int fds[2])
{
    return ust_pipe2(stack, fds, 0);
}
