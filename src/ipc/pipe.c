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
 *    packet (larger writes are split), a read ends at a packet and
 *    discards what of it did not fit. As in Linux, the mode belongs to
 *    the writer's open file and F_SETFL switches it; stream bytes and
 *    packets may then share the pipe, and a write's first (len % 4096)
 *    bytes join a partly filled stream page at the tail even from a
 *    packet writer (Linux pipe_write's merge).
 *  - O_ASYNC (F_SETFL) with an F_SETOWN owner: SIGIO to the readers'
 *    owners on every write try, to the writers' owners on every read try,
 *    and to both when the last reader or writer goes (Linux kill_fasync
 *    in pipe_write, pipe_read, pipe_release). Plain SIGIO: no F_SETSIG.
 *  - pipe-user-pages-hard (cfg.pipe_user_pages_hard, 0 = off): a pipe
 *    that would pass it is refused (pipe: ENFILE; FIFO open: ENOMEM) and
 *    F_SETPIPE_SZ cannot grow past it (EPERM), as Linux alloc_pipe_info
 *    and pipe_set_size. */
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
#include "stack/trace.h"

/* ---- The pipe object -------------------------------------------------- */

/* A segment's length, and the flag marking it a packet. */
#define UST_PIPE_SEG_PACKET 0x80000000u
#define UST_PIPE_SEG_LEN(x) ((x) & ~UST_PIPE_SEG_PACKET)

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

/* ... or pipe-user-pages-hard (Linux too_many_pipe_buffers_hard; 0 = off)? */
static bool pages_over_hard_limit(const struct ust_stack *stack, uint64_t more)
{
    uint64_t hard = stack->cfg.pipe_user_pages_hard;
    return hard && stack->ipc.pipe_pages + more > hard;
}

/* Segments for packet mode: room for every packet a capacity of `slots`
 * pages holds, and for a stream run before, between and after them. */
static unsigned seg_ring_size(unsigned slots)
{
    return 2 * slots + 1;
}

static uint32_t *seg_at(struct ust_pipe *p, unsigned i)
{
    return &p->seg[(p->seg_head + i) % p->seg_max];
}

static void seg_push(struct ust_pipe *p, uint32_t len, bool packet)
{
    *seg_at(p, p->seg_count++) = len | (packet ? UST_PIPE_SEG_PACKET : 0);
    if (packet)
        p->pkt_count++;
}

static void seg_pop(struct ust_pipe *p)
{
    if (p->seg[p->seg_head] & UST_PIPE_SEG_PACKET)
        p->pkt_count--;
    p->seg_head = (p->seg_head + 1) % p->seg_max;
    p->seg_count--;
}

/* The first packet writer: from now on the ring is described by segments
 * (the bytes already there are one stream run). Stream writes keep
 * tail_fill up to date before too. */
static int pipe_segments_on(struct ust_pipe *p)
{
    if (p->packet)
        return 0;
    unsigned slots = (unsigned)(p->cap / UST_PIPE_PAGE);
    p->seg = calloc(seg_ring_size(slots), sizeof(*p->seg));
    if (!p->seg)
        return -ENOMEM;
    p->seg_max = seg_ring_size(slots);
    p->seg_head = p->seg_count = 0;
    p->pkt_slots = slots;
    p->pkt_count = 0;
    size_t used = ust_ring_used(&p->ring);
    if (used > 0)
        seg_push(p, (uint32_t)used, false);     /* tail_fill is kept up to date */
    p->packet = true;
    return 0;
}

struct ust_pipe *ust_pipe_alloc(struct ust_stack *stack, bool packet, int *err)
{
    *err = -ENOMEM;
    size_t cap = UST_PIPE_DEF_SIZE;
    size_t max = pipe_max_size(stack);
    while (cap > max && cap > UST_PIPE_PAGE)    /* pipe-max-size caps the default */
        cap /= 2;
    /* Past pipe-user-pages-soft a new pipe gets PIPE_MIN_DEF_BUFFERS (2)
     * pages (Linux alloc_pipe_info): total pipe memory stays bounded. */
    if (pages_over_soft_limit(stack, cap / UST_PIPE_PAGE) && cap > 2 * UST_PIPE_PAGE)
        cap = 2 * UST_PIPE_PAGE;
    /* Past pipe-user-pages-hard no new pipe at all (pipe(2): ENFILE). */
    if (pages_over_hard_limit(stack, cap / UST_PIPE_PAGE)) {
        *err = -ENFILE;
        return NULL;
    }
    struct ust_pipe *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    p->stack = stack;
    p->cap = cap;
    ust_ring_init(&p->ring, cap);
    if (packet && pipe_segments_on(p) != 0) {
        ust_ring_free(&p->ring);
        free(p);
        return NULL;
    }
    stack->ipc.pipe_pages += cap / UST_PIPE_PAGE;
    /* Linux alloc_pipe_info starts both generations at 1, so the ends of an
     * anonymous pipe (w_seen 0) have seen a writer. */
    p->r_counter = p->w_counter = 1;
    ust_waitq_init(&p->open_wq);
    *err = 0;
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
    free(p->seg);
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

/* O_ASYNC: SIGIO to the owners of the opens that read (readers true) or
 * write (Linux kill_fasync on fasync_readers / fasync_writers). */
static void pipe_sigio(struct ust_pipe *p, bool readers)
{
    for (struct ust_pipe_open *o = p->opens; o; o = o->next) {
        int mode = o->file->status_flags & O_ACCMODE;
        if (readers ? mode != O_WRONLY : mode != O_RDONLY)
            ust_file_sigio(o->file);
    }
}

/* Does the file write packets (O_DIRECT)? */
static bool file_packets(const struct ust_file *f)
{
    return (f->status_flags & O_DIRECT) != 0;
}

/* Linux pipe_write's merge: would the first (n % page) bytes of a write of
 * n go into the stream page at the tail of a non-empty pipe? Asked before
 * the write. */
static bool pipe_merges(const struct ust_pipe *p, size_t n)
{
    size_t chars = n & (UST_PIPE_PAGE - 1);
    if (chars == 0 || pipe_used(p) == 0 || p->tail_fill + chars > UST_PIPE_PAGE)
        return false;
    return !p->packet ||
           !(p->seg[(p->seg_head + p->seg_count - 1) % p->seg_max] & UST_PIPE_SEG_PACKET);
}

/* Can a write of n bytes (n <= PIPE_BUF) go in at once? A packet needs a
 * slot too, unless it merges into the stream page at the tail. */
static bool pipe_room_for(const struct ust_pipe *p, size_t n, bool packets)
{
    if (ust_ring_space(&p->ring) < n)
        return false;
    return !packets || p->pkt_count < p->pkt_slots || pipe_merges(p, n);
}

/* Room for a PIPE_BUF write of either kind (the writers' POLLOUT). */
static bool pipe_writable(const struct ust_pipe *p)
{
    return pipe_room_for(p, UST_PIPE_BUF, false) &&
           (!p->packet || pipe_room_for(p, UST_PIPE_BUF, true));
}

/* ---- Data ------------------------------------------------------------- */

/* Stream bytes just written (w of the n asked for; `merged` as
 * pipe_merges(n) said before the write): tail_fill follows Linux's pages (a
 * merge fills the tail page, the rest goes to new pages), and in packet
 * mode they join the tail run or start one. */
static void stream_segment_add(struct ust_pipe *p, size_t w, size_t n, bool merged)
{
    size_t chars = n & (UST_PIPE_PAGE - 1);
    if (merged && w <= chars)
        p->tail_fill += (unsigned)w;
    else
        p->tail_fill = (unsigned)((w - (merged ? chars : 0) - 1) % UST_PIPE_PAGE + 1);
    if (!p->packet)
        return;
    if (p->seg_count > 0 && !(*seg_at(p, p->seg_count - 1) & UST_PIPE_SEG_PACKET))
        *seg_at(p, p->seg_count - 1) += (uint32_t)w;
    else
        seg_push(p, (uint32_t)w, false);
}

/* Packets of up to PIPE_BUF while slots and bytes last (Linux pipe_write
 * with O_DIRECT: first the merge into a stream tail page, then one packet
 * per page). */
static size_t packets_put(struct ust_pipe *p, const uint8_t *src, size_t n)
{
    size_t done = 0, chars = n & (UST_PIPE_PAGE - 1);
    if (pipe_merges(p, n) && ust_ring_space(&p->ring) >= chars) {
        done = ust_ring_write(&p->ring, src, chars);
        stream_segment_add(p, done, chars, true);
    }
    while (done < n && p->pkt_count < p->pkt_slots) {
        size_t chunk = UST_MIN(n - done, (size_t)UST_PIPE_BUF);
        if (ust_ring_space(&p->ring) < chunk)
            break;
        ust_ring_write(&p->ring, src + done, chunk);
        seg_push(p, (uint32_t)chunk, true);
        done += chunk;
    }
    return done;
}

/* Copies in as much of src as the pipe takes now: all or nothing when
 * atomic, else whatever fits (whole packets for a packet writer). */
static size_t pipe_put(struct ust_pipe *p, const uint8_t *src, size_t n, bool atomic,
                       bool packets)
{
    if (atomic && !pipe_room_for(p, n, packets))
        return 0;
    if (packets)
        return packets_put(p, src, n);
    bool merged = pipe_merges(p, n);
    size_t w = ust_ring_write(&p->ring, src, n);
    if (w > 0)
        stream_segment_add(p, w, n, merged);
    return w;
}

/* Stream bytes up to len; a packet ends the read and what of it does not
 * fit is discarded (Linux pipe_read: PIPE_BUF_FLAG_PACKET). */
static size_t pipe_take(struct ust_pipe *p, uint8_t *dst, size_t len)
{
    if (!p->packet)
        return ust_ring_read(&p->ring, dst, len);
    size_t done = 0;
    while (done < len && p->seg_count > 0) {
        uint32_t *sg = seg_at(p, 0);
        size_t slen = UST_PIPE_SEG_LEN(*sg);
        size_t n = ust_ring_read(&p->ring, dst + done, UST_MIN(len - done, slen));
        done += n;
        if (*sg & UST_PIPE_SEG_PACKET) {
            ust_ring_discard(&p->ring, slen - n);
            seg_pop(p);
            break;
        }
        if (n == slen)
            seg_pop(p);
        else
            *sg -= (uint32_t)n;
    }
    return done;
}

/* ---- File operations -------------------------------------------------- */

struct ust_pipe_open *ust_pipe_open_of(struct ust_file *f)
{
    return f->priv;
}

static ssize_t pipe_read(struct ust_file *f, void *buf, size_t len)
{
    struct ust_pipe *p = ust_pipe_open_of(f)->pipe;
    if (pipe_used(p) == 0) {
        pipe_sigio(p, false);   /* Linux pipe_read: on every try */
        return p->writers ? -EAGAIN : 0;   /* EOF only once drained */
    }
    /* Writers can only be waiting when a PIPE_BUF write did not fit (a
     * smaller atomic write needs less, a larger one waits for any room):
     * wake them on that transition only, as Linux wakes on "was full". */
    bool was_writable = pipe_writable(p);
    size_t n = pipe_take(p, buf, len);
    ust_trace_ipc(p->stack, UST_IPC_READ, "pipe", -1, n, 0, pipe_used(p));
    if (!was_writable)
        pipe_wake(p, POLLOUT | POLLWRNORM);
    pipe_sigio(p, false);
    return (ssize_t)n;
}

static void pipe_sigpipe(const struct ust_pipe *p)
{
    if (p->stack->cfg.raise_sigpipe)
        raise(SIGPIPE);
}

/* One try at putting bytes in: count, -EAGAIN, or -EPIPE. */
static ssize_t pipe_write_try(struct ust_pipe *p, const void *buf, size_t len, bool atomic,
                              bool packets)
{
    if (p->readers == 0)
        return -EPIPE;
    size_t n = pipe_put(p, buf, len, atomic, packets);
    if (n > 0) {
        ust_trace_ipc(p->stack, UST_IPC_WRITE, "pipe", -1, n, 0, pipe_used(p));
        pipe_wake(p, POLLIN | POLLRDNORM);
    }
    pipe_sigio(p, true);        /* Linux pipe_write: also before it sleeps */
    if (n == 0)
        return -EAGAIN;
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
    ssize_t r = pipe_write_try(p, w->buf + w->done, w->len - w->done, false, file_packets(f));
    if (r > 0)
        w->done += (size_t)r;
    return r;
}

static ssize_t pipe_write(struct ust_file *f, const void *buf, size_t len)
{
    struct ust_pipe *p = ust_pipe_open_of(f)->pipe;
    if (len == 0)
        return 0;
    ssize_t r = pipe_write_try(p, buf, len, len <= UST_PIPE_BUF, file_packets(f));
    if (r == -EPIPE)
        pipe_sigpipe(p);
    if (r <= 0 || (size_t)r == len)
        return r;
    /* A partial write of more than PIPE_BUF: a blocking writer goes on
     * until everything is in (ust_file_wait_io gives up at once when the
     * file is non-blocking or nothing could wake it). */
    struct write_rest w = { buf, len, (size_t)r };
    while (w.done < len) {
        r = ust_file_wait_io_partial(f, POLLOUT | POLLWRNORM, false, f->sndtimeo_ns,
                                     try_write_rest, &w, &w.done);
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
        if (pipe_room_for(p, UST_PIPE_BUF, file_packets(f)))
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
    if (size > p->cap && (pages_over_soft_limit(p->stack, (size - p->cap) / UST_PIPE_PAGE) ||
                          pages_over_hard_limit(p->stack, (size - p->cap) / UST_PIPE_PAGE)))
        return -EPERM;          /* Linux: too_many_pipe_buffers_soft / _hard */
    unsigned slots = (unsigned)(size / UST_PIPE_PAGE);
    if (p->packet && p->pkt_count > slots)
        return -EBUSY;
    if (pipe_used(p) > size)
        return -EBUSY;
    uint32_t *ns = NULL;
    if (p->packet && !(ns = calloc(seg_ring_size(slots), sizeof(*ns))))
        return -ENOMEM;
    int err = ust_ring_resize(&p->ring, size);
    if (err) {
        free(ns);
        return err;
    }
    if (p->packet) {
        for (unsigned i = 0; i < p->seg_count; i++)
            ns[i] = *seg_at(p, i);
        free(p->seg);
        p->seg = ns;
        p->seg_max = seg_ring_size(slots);
        p->seg_head = 0;
        p->pkt_slots = slots;
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
    if (!p->readers != !p->writers) {   /* one side just went: SIGIO the other */
        pipe_sigio(p, true);
        pipe_sigio(p, false);
    }
    ust_pipe_free_if_unused(p);
}

/* F_SETFL: O_NONBLOCK, O_DIRECT (Linux setfl(): "pipe packetized mode is
 * controlled by O_DIRECT flag", on either end; it matters for writes) and
 * O_ASYNC (pipe_fasync: SIGIO to the F_SETOWN owner, see pipe_sigio). */
static int pipe_setfl(struct ust_file *f, int flags)
{
    const int changeable = O_NONBLOCK | O_DIRECT | O_ASYNC;
    if ((flags & O_DIRECT) && (f->status_flags & O_ACCMODE) != O_RDONLY) {
        int err = pipe_segments_on(ust_pipe_open_of(f)->pipe);
        if (err)
            return err;
    }
    f->status_flags = (f->status_flags & ~changeable) | (flags & changeable);
    return 0;
}

static const struct ust_file_ops pipe_ops = {
    .name = "pipe",
    .read = pipe_read,
    .write = pipe_write,
    .poll = pipe_poll,
    .ioctl = pipe_ioctl,
    .release = pipe_release,
    .fcntl = pipe_fcntl,
    .setfl = pipe_setfl,
};

static const struct ust_file_ops fifo_ops = {
    .name = "fifo",
    .read = pipe_read,
    .write = pipe_write,
    .poll = pipe_poll,
    .ioctl = pipe_ioctl,
    .release = pipe_release,
    .fcntl = pipe_fcntl,
    .setfl = pipe_setfl,
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
    int err;
    struct ust_pipe *p = ust_pipe_alloc(stack, flags & O_DIRECT, &err);
    if (!p)
        return err;     /* ENFILE at pipe-user-pages-hard, as Linux */
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
