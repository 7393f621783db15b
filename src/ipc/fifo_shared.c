/* Named FIFOs in shared memory (fifo_shared.h): mkfifo / open / unlink of
 * a FIFO object in ust_ipc_dir and the file operations of its opens.
 *
 * The rules are the private path's (fifo.c, pipe.c; pipe(7), fifo(7)),
 * across processes:
 *  - open O_RDONLY waits until a writer generation appears (O_NONBLOCK:
 *    opens at once), O_WRONLY until a reader's (O_NONBLOCK: ENXIO), O_RDWR
 *    never waits (Linux fifo_open's wait_for_partner);
 *  - read returns what is there, 0 once no writer is left and the ring is
 *    empty; write of <= PIPE_BUF bytes is all or nothing, a larger one may
 *    be split; no reader: EPIPE and SIGPIPE (cfg.raise_sigpipe);
 *  - poll: POLLIN, POLLOUT (room for PIPE_BUF), POLLHUP (no writer, one was
 *    seen), POLLERR (no reader);
 *  - O_DIRECT (F_SETFL) makes an open's writes packets (shm_fifo.h);
 *  - F_GETPIPE_SZ / F_SETPIPE_SZ up to the ring's size, fixed at mkfifo.
 * Waiting happens on the object's event words in shared memory through
 * ust_rt_wait_bell, with the stack lock released and a file reference
 * held: it works without a stack thread (another process can come), counts
 * as a sleeper, and follows signal(7) (FIFO calls restart under
 * SA_RESTART). A wait sleeps at most 50 ms at a time and then re-checks, so
 * a SIGKILLed peer (a holder whose pid died) is noticed within a slice.
 * ust_stack_stop releases a wait that began while the stack thread ran, as
 * in the private path (the call ends as a non-blocking one would). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include "core/util.h"
#include "fd/fd.h"
#include "ipc/fifo_shared.h"
#include "ipc/ipc.h"
#include "ipc/pipe_impl.h"
#include "ipc/shm_fifo.h"
#include "runtime/runtime.h"
#include "stack/stack_impl.h"

#define SLICE_NS (50 * UST_NSEC_PER_MSEC)

/* A FIFO object this stack has open (counted once in pipe_pages). */
struct fs_obj {
    dev_t dev;
    ino_t ino;
    unsigned refs;
    uint64_t pages;
    struct fs_obj *next;
};

struct ust_fifo_shared {
    struct fs_obj *objs;
};

/* f->priv of a shared FIFO open. */
struct fs_open {
    struct ust_shmf *h;
    struct fs_obj *obj;
    /* fs/pipe.c's POLLHUP rule: a reader that opened with no writer
     * reports POLLHUP only once the writer generation moved from w_seen. */
    bool w_wait;
    uint32_t w_seen;
};

int ust_fifo_shared_init(struct ust_stack *stack, struct ust_fifo_shared **out)
{
    (void)stack;
    *out = calloc(1, sizeof(**out));
    return *out ? 0 : -ENOMEM;
}

void ust_fifo_shared_fini(struct ust_fifo_shared *fs)
{
    if (!fs)
        return;
    while (fs->objs) {          /* every open is closed before: nothing left */
        struct fs_obj *o = fs->objs;
        fs->objs = o->next;
        free(o);
    }
    free(fs);
}

static struct ust_fifo_shared *fs_of(struct ust_stack *stack)
{
    return ust_fifo_shared_of(stack);
}

/* ---- Limits (pipe.c's, for a shared ring) ------------------------------ */

static size_t max_size(const struct ust_stack *stack)
{
    return stack->cfg.pipe_max_size ? stack->cfg.pipe_max_size : (1u << 20);
}

/* The default capacity, capped by pipe-max-size (as ust_pipe_alloc), and
 * the ring's size: pipe-max-size rounded up to a power of two pages, the
 * largest F_SETPIPE_SZ. */
static void geometry(const struct ust_stack *stack, uint32_t *cap, uint32_t *max_cap)
{
    size_t max = max_size(stack), c = UST_PIPE_DEF_SIZE, m = UST_PIPE_PAGE;
    while (c > max && c > UST_PIPE_PAGE)
        c /= 2;
    while (m < max && m < UST_SHMF_MAX_SIZE)
        m *= 2;
    *cap = (uint32_t)c;
    *max_cap = (uint32_t)(m > c ? m : c);
}

static bool over_hard_limit(const struct ust_stack *stack, uint64_t more)
{
    uint64_t hard = stack->cfg.pipe_user_pages_hard;
    return hard && stack->ipc.pipe_pages + more > hard;
}

static bool over_soft_limit(const struct ust_stack *stack, uint64_t more)
{
    uint64_t soft = stack->cfg.pipe_user_pages_soft;
    return soft && stack->ipc.pipe_pages + more > soft;
}

/* ---- mkfifo / unlink ---------------------------------------------------- */

static bool exists(const char *dir, const char *path)
{
    char name[UST_SHMO_NAME_MAX + 1], file[UST_SHMO_PATH_MAX];
    struct stat st;
    return ust_shmf_name(path, name, sizeof(name)) == 0 &&
           ust_shmo_path(dir, UST_SHMF_KIND, name, file, sizeof(file)) == 0 &&
           lstat(file, &st) == 0;
}

int ust_fifo_shared_mkfifo(struct ust_stack *stack, const char *path, mode_t mode,
                           mode_t cmask)
{
    const char *dir = ust_ipc_dir(stack);
    if (exists(dir, path))
        return -EEXIST;
    unsigned max = stack->cfg.fifo_max ? stack->cfg.fifo_max : 1024;
    int n = ust_shmf_count(dir);
    if (n < 0)
        return n;
    if ((unsigned)n >= max)
        return -ENOSPC;         /* cfg.fifo_max FIFOs in the directory */
    struct ust_shmf_attr a = { .mode = mode & 07777 & ~cmask };   /* mkfifo(3) */
    geometry(stack, &a.cap, &a.max_cap);
    return ust_shmf_create(dir, path, &a);
}

int ust_fifo_shared_unlink(struct ust_stack *stack, const char *path)
{
    return ust_shmf_unlink(ust_ipc_dir(stack), path);
}

/* ---- Pages and bells (stack lock held) --------------------------------- */

static int obj_get(struct ust_stack *stack, struct fs_open *o)
{
    struct ust_fifo_shared *fs = fs_of(stack);
    dev_t dev;
    ino_t ino;
    ust_shmf_id(o->h, &dev, &ino);
    struct fs_obj *ob = fs->objs;
    while (ob && (ob->dev != dev || ob->ino != ino))
        ob = ob->next;
    if (!ob) {
        uint64_t pages = ust_shmf_cap(o->h) / UST_PIPE_PAGE;
        if (over_hard_limit(stack, pages))
            return -ENOMEM;     /* Linux fifo_open at pipe-user-pages-hard */
        if (!(ob = calloc(1, sizeof(*ob))))
            return -ENOMEM;
        ob->dev = dev;
        ob->ino = ino;
        ob->pages = pages;
        ob->next = fs->objs;
        fs->objs = ob;
        stack->ipc.pipe_pages += pages;
    }
    ob->refs++;
    o->obj = ob;
    return 0;
}

static void obj_put(struct ust_stack *stack, struct fs_obj *ob)
{
    if (!ob || --ob->refs > 0)
        return;
    struct fs_obj **pp = &fs_of(stack)->objs;
    while (*pp != ob)
        pp = &(*pp)->next;
    *pp = ob->next;
    stack->ipc.pipe_pages -= ob->pages;
    free(ob);
}

/* ---- Waiting ------------------------------------------------------------ */

/* Sleeps (lock released) until the event word of side moves past snap,
 * one slice passes, or a signal / ust_stack_stop ends the wait. 0 (re-check),
 * -EINTR, or -EAGAIN when the stack was stopped under a wait that began
 * while its thread ran. restart: SA_RESTART restarts the wait. */
static int wait_event(struct ust_file *f, struct ust_shmf *h, unsigned side, uint32_t snap,
                      bool restart, bool had_thread)
{
    struct ust_stack *stack = f->stack;
    struct ust_rt_bell bell = { .word = ust_shmf_event(h, side), .snap = snap };
    uint64_t deadline = ust_rt_deadline_clock(SLICE_NS);
    int rc = ust_rt_wait_bell(stack, NULL, 0, deadline,
                              restart ? UST_RT_SIG_RESTART : UST_RT_SIG_EINTR, &bell);
    if (had_thread && !ust_rt_can_block(stack))
        return -EAGAIN;         /* ust_stack_stop: end as a non-blocking call */
    return rc == -EINTR ? -EINTR : 0;
}

/* ---- File operations ---------------------------------------------------- */

static struct fs_open *open_of(struct ust_file *f)
{
    return f->priv;
}

static ssize_t fs_read(struct ust_file *f, void *buf, size_t len)
{
    struct ust_shmf *h = open_of(f)->h;
    bool nonblock = f->status_flags & O_NONBLOCK, had = ust_rt_can_block(f->stack);
    ssize_t r;
    ust_file_get(f);            /* a close() elsewhere must not unmap it under us */
    for (;;) {
        uint32_t snap = ust_shmev_snapshot(ust_shmf_event(h, UST_SHMF_RD));
        r = ust_shmf_read(h, buf, len, UST_SHMF_NONBLOCK, NULL);
        if (r != -EAGAIN || nonblock)
            break;
        int w = wait_event(f, h, UST_SHMF_RD, snap, true, had);
        if (w < 0) {
            r = ust_shmf_read(h, buf, len, UST_SHMF_NONBLOCK, NULL);
            if (r == -EAGAIN)
                r = w;
            break;
        }
    }
    ust_file_put(f);
    return r;
}

static void fs_sigpipe(const struct ust_file *f)
{
    if (f->stack->cfg.raise_sigpipe)
        raise(SIGPIPE);
}

static ssize_t fs_write(struct ust_file *f, const void *buf, size_t len)
{
    struct ust_shmf *h = open_of(f)->h;
    bool nonblock = f->status_flags & O_NONBLOCK, had = ust_rt_can_block(f->stack);
    const unsigned char *p = buf;
    unsigned packets = (f->status_flags & O_DIRECT) ? UST_SHMF_PACKET : 0;
    size_t done = 0;
    ssize_t r = 0;
    if (len == 0)
        return 0;
    ust_file_get(f);
    while (done < len) {
        uint32_t snap = ust_shmev_snapshot(ust_shmf_event(h, UST_SHMF_WR));
        r = ust_shmf_write(h, p + done, len - done, UST_SHMF_NONBLOCK | packets, NULL);
        if (r > 0) {
            done += (size_t)r;
            if (nonblock)
                break;          /* a non-blocking write takes what fits */
            continue;
        }
        if (r != -EAGAIN || nonblock)
            break;
        /* signal(7): restarted under SA_RESTART, unless bytes went in
         * already: then the count is returned (fs/pipe.c pipe_write). */
        r = wait_event(f, h, UST_SHMF_WR, snap, done == 0, had);
        if (r < 0)
            break;
    }
    ust_file_put(f);
    if (r == -EPIPE)
        fs_sigpipe(f);          /* also after a partial write, as pipe.c */
    if (done > 0)
        return (ssize_t)done;
    return r;
}

static uint32_t fs_poll(struct ust_file *f)
{
    struct fs_open *o = open_of(f);
    int mode = f->status_flags & O_ACCMODE;
    uint32_t mask = 0;
    if (mode != O_WRONLY) {
        if (ust_shmf_readable(o->h))
            mask |= POLLIN | POLLRDNORM;
        if (ust_shmf_holders(o->h, UST_SHMF_WR, false) == 0 &&
            (!o->w_wait || o->w_seen != ust_shmf_counter(o->h, UST_SHMF_WR)))
            mask |= POLLHUP;
    }
    if (mode != O_RDONLY) {
        if (ust_shmf_writable(o->h, f->status_flags & O_DIRECT))
            mask |= POLLOUT | POLLWRNORM;
        if (ust_shmf_holders(o->h, UST_SHMF_RD, false) == 0)
            mask |= POLLERR;
    }
    return mask;
}

static int fs_ioctl(struct ust_file *f, unsigned long request, void *arg)
{
    if (request != FIONREAD)
        return -ENOTTY;
    if (!arg)
        return -EFAULT;
    int n = (int)ust_shmf_used(open_of(f)->h);
    memcpy(arg, &n, sizeof(n));
    return 0;
}

/* F_SETPIPE_SZ (pipe.c's pipe_set_size rules); the ring was sized at
 * mkfifo for the creator's pipe-max-size, beyond which it is EPERM. */
static int fs_set_size(struct ust_file *f, unsigned long arg)
{
    struct fs_open *o = open_of(f);
    struct ust_stack *stack = f->stack;
    if (arg > (1ul << 31))
        return -EINVAL;
    size_t size = UST_PIPE_PAGE;
    while (size < arg)
        size *= 2;
    if (size > max_size(stack) || size > ust_shmf_max_cap(o->h))
        return -EPERM;
    uint64_t pages = size / UST_PIPE_PAGE;
    if (pages > o->obj->pages &&
        (over_soft_limit(stack, pages - o->obj->pages) ||
         over_hard_limit(stack, pages - o->obj->pages)))
        return -EPERM;
    int r = ust_shmf_set_cap(o->h, (uint32_t)size);
    if (r < 0)
        return r;
    stack->ipc.pipe_pages = stack->ipc.pipe_pages - o->obj->pages + pages;
    o->obj->pages = pages;
    return (int)size;
}

static int fs_fcntl(struct ust_file *f, int cmd, long arg)
{
    switch (cmd) {
    case F_GETPIPE_SZ:
        return (int)ust_shmf_cap(open_of(f)->h);
    case F_SETPIPE_SZ:
        return fs_set_size(f, (unsigned long)(unsigned int)arg);
    default:
        return -EINVAL;
    }
}

static void fs_release(struct ust_file *f)
{
    struct fs_open *o = open_of(f);
    ust_shmf_close(o->h);       /* wakes the other side's sleepers and pollers */
    obj_put(f->stack, o->obj);
    free(o);
}

/* F_SETFL: O_NONBLOCK, O_DIRECT (packet mode for this open's writes, as
 * pipe.c's) and O_ASYNC (kept, but no SIGIO is sent: it would have to
 * cross processes). */
static int fs_setfl(struct ust_file *f, int flags)
{
    const int changeable = O_NONBLOCK | O_DIRECT | O_ASYNC;
    f->status_flags = (f->status_flags & ~changeable) | (flags & changeable);
    return 0;
}

static int fs_shm_watch(struct ust_file *f, struct ust_shmbell_arena *arena, int bell, bool on)
{
    struct ust_shmf *h = open_of(f)->h;
    if (arena)
        ust_shmf_set_bells(h, arena);
    return ust_shmf_watch(h, bell, on);
}

static const struct ust_file_ops fifo_shared_ops = {
    .name = "fifo",
    .read = fs_read,
    .write = fs_write,
    .poll = fs_poll,
    .ioctl = fs_ioctl,
    .release = fs_release,
    .fcntl = fs_fcntl,
    .setfl = fs_setfl,
    .rw_waits = true,
    .shm_watch = fs_shm_watch,
};

/* ---- open --------------------------------------------------------------- */

/* fifo(7) / Linux wait_for_partner: waits until the other side's open
 * generation moves from seen. 0, -EINTR, or -EAGAIN (non-blocking, or
 * released by ust_stack_stop). */
static int wait_for_partner(struct ust_file *f, unsigned side_waited, uint32_t seen,
                            bool nonblock)
{
    struct ust_shmf *h = open_of(f)->h;
    unsigned mine = side_waited == UST_SHMF_WR ? UST_SHMF_RD : UST_SHMF_WR;
    bool had = ust_rt_can_block(f->stack);
    for (;;) {
        uint32_t snap = ust_shmev_snapshot(ust_shmf_event(h, mine));
        if (ust_shmf_counter(h, side_waited) != seen)
            return 0;
        if (nonblock)
            return -EAGAIN;
        int r = wait_event(f, h, mine, snap, true, had);
        if (r < 0)
            return ust_shmf_counter(h, side_waited) != seen ? 0 : r;
    }
}

static int open_rules(struct ust_file *f)
{
    struct fs_open *o = open_of(f);
    bool nonblock = f->status_flags & O_NONBLOCK;
    switch (f->status_flags & O_ACCMODE) {
    case O_RDONLY:
        if (ust_shmf_holders(o->h, UST_SHMF_WR, true) == 0) {
            uint32_t seen = ust_shmf_counter(o->h, UST_SHMF_WR);
            int err = wait_for_partner(f, UST_SHMF_WR, seen, nonblock);
            if (err == -EINTR)
                return err;
            if (err) {
                o->w_wait = true;       /* no POLLHUP until a writer came */
                o->w_seen = seen;
            }
        }
        return 0;
    case O_WRONLY:
        if (ust_shmf_holders(o->h, UST_SHMF_RD, true) == 0) {
            int err = wait_for_partner(f, UST_SHMF_RD, ust_shmf_counter(o->h, UST_SHMF_RD),
                                       nonblock);
            if (err)
                return err == -EINTR ? err : -ENXIO;
        }
        return 0;
    default:
        return 0;               /* O_RDWR: at once */
    }
}

static unsigned access_of(int flags)
{
    switch (flags & O_ACCMODE) {
    case O_RDONLY: return UST_SHMF_RD;
    case O_WRONLY: return UST_SHMF_WR;
    default: return UST_SHMF_RD | UST_SHMF_WR;
    }
}

/* With the stack lock held. */
static int do_open(struct ust_stack *stack, const char *path, int flags)
{
    const char *dir = ust_ipc_dir(stack);
    if (!exists(dir, path))
        return (flags & O_CREAT) ? -EOPNOTSUPP : -ENOENT;
    if ((flags & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL))
        return -EEXIST;
    if (stack->fds.used >= stack->fds.size)
        return -EMFILE;
    struct fs_open *o = calloc(1, sizeof(*o));
    if (!o)
        return -ENOMEM;
    int err = ust_shmf_open(dir, path, access_of(flags), &o->h);
    if (err == 0 && (err = obj_get(stack, o)) < 0)
        ust_shmf_close(o->h);
    if (err < 0) {
        free(o);
        return err;
    }
    struct ust_shmbell_arena *arena;
    int bell;
    if (ust_ipc_bell(stack, &arena, &bell) == 0)
        ust_shmf_set_bells(o->h, arena);
    struct ust_file *f = ust_file_new(stack, &fifo_shared_ops, o, flags & (O_ACCMODE | O_NONBLOCK));
    if (!f) {
        ust_shmf_close(o->h);
        obj_put(stack, o->obj);
        free(o);
        return -ENOMEM;
    }
    err = open_rules(f);
    if (err == 0)
        err = ust_fd_install(stack, f, (flags & O_CLOEXEC) ? FD_CLOEXEC : 0);
    if (err < 0)
        ust_file_put(f);        /* leaves the holder table */
    return err;
}

int ust_fifo_shared_open(struct ust_stack *stack, const char *path, int flags)
{
    ust_rt_enter(stack);
    int r = do_open(stack, path, flags);
    ust_rt_exit(stack);
    return r;
}
