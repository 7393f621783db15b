/* Named FIFOs (mkfifo(3), fifo(7)): ust_mkfifo, ust_open, ust_unlink.
 *
 * The namespace is a bounded list of names per stack (cfg.fifo_max). A name
 * has a pipe only while some open holds it (Linux keeps one
 * pipe_inode_info per FIFO inode while open; no data reaches the file
 * system). Open rules are Linux's fifo_open: an open for reading waits for
 * a writer generation to appear (w_counter changes), and vice versa, unless
 * O_NONBLOCK (then O_WRONLY without a reader is ENXIO) or O_RDWR. Without a
 * stack thread nothing could come along during the wait, so a blocking open
 * behaves as a non-blocking one. A FIFO's mode is masked by the umask
 * (cfg.ipc_umask) at mkfifo, and an open needs the mode's read / write bits
 * for the caller's current credentials (EACCES; no root override).
 *
 * With cfg.ipc_shared (the default) the names are shared FIFO objects in
 * ust_ipc_dir instead, which other processes open too (fifo_shared.c); the
 * dispatch happens here, at mkfifo / open / unlink. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ustack/ipc.h>

#include "fd/fd.h"
#include "ipc/fifo_shared.h"
#include "ipc/ipc.h"
#include "ipc/pipe_impl.h"
#include "runtime/runtime.h"
#include "stack/stack_impl.h"

struct ust_fifo_node {
    char *path;
    mode_t mode;                /* after the umask */
    uid_t uid;                  /* the creator's effective ids (mknod) */
    gid_t gid;
    struct ust_pipe *pipe;      /* NULL while nobody has it open */
    struct ust_fifo_node *next;
};

struct ust_fifo_ns {
    struct ust_fifo_node *head;
    unsigned count;
    struct ust_fifo_shared *shared;     /* shared FIFOs this stack has open */
};

int ust_fifo_init(struct ust_stack *stack)
{
    stack->ipc.fifo = calloc(1, sizeof(*stack->ipc.fifo));
    if (!stack->ipc.fifo)
        return -ENOMEM;
    int err = ust_fifo_shared_init(stack, &stack->ipc.fifo->shared);
    if (err) {
        free(stack->ipc.fifo);
        stack->ipc.fifo = NULL;
    }
    return err;
}

struct ust_fifo_shared *ust_fifo_shared_of(struct ust_stack *stack)
{
    return stack->ipc.fifo->shared;
}

static void node_free(struct ust_fifo_node *n)
{
    if (n->pipe)
        n->pipe->node = NULL;   /* the pipe lives on with its opens */
    free(n->path);
    free(n);
}

void ust_fifo_fini(struct ust_stack *stack)
{
    struct ust_fifo_ns *ns = stack->ipc.fifo;
    if (!ns)
        return;
    while (ns->head) {
        struct ust_fifo_node *n = ns->head;
        ns->head = n->next;
        node_free(n);
    }
    ust_fifo_shared_fini(ns->shared);
    free(ns);
    stack->ipc.fifo = NULL;
}

void ust_fifo_pipe_gone(struct ust_pipe *p)
{
    p->node->pipe = NULL;
    p->node = NULL;
}

/* path_resolution(7) limits: the whole path and each component. */
static int path_check(const char *path)
{
    if (!path)
        return -EFAULT;
    size_t len = strnlen(path, PATH_MAX);
    if (len == PATH_MAX)
        return -ENAMETOOLONG;
    if (len == 0)
        return -ENOENT;
    size_t comp = 0;
    for (const char *c = path; *c; c++) {
        comp = *c == '/' ? 0 : comp + 1;
        if (comp > NAME_MAX)
            return -ENAMETOOLONG;
    }
    return 0;
}

static struct ust_fifo_node **node_find(struct ust_fifo_ns *ns, const char *path)
{
    struct ust_fifo_node **pp = &ns->head;
    while (*pp && strcmp((*pp)->path, path) != 0)
        pp = &(*pp)->next;
    return pp;
}

static unsigned fifo_max(const struct ust_stack *stack)
{
    return stack->cfg.fifo_max ? stack->cfg.fifo_max : 1024;
}

/* ---- mkfifo / unlink -------------------------------------------------- */

static int do_mkfifo(struct ust_stack *stack, const char *path, mode_t mode, mode_t cmask)
{
    struct ust_fifo_ns *ns = stack->ipc.fifo;
    if (*node_find(ns, path))
        return -EEXIST;
    if (ns->count >= fifo_max(stack))
        return -ENOSPC;
    struct ust_fifo_node *n = calloc(1, sizeof(*n));
    if (!n || !(n->path = strdup(path))) {
        free(n);
        return -ENOMEM;
    }
    n->mode = mode & 07777 & ~cmask;    /* mkfifo(3): mode & ~umask */
    n->uid = geteuid();
    n->gid = getegid();
    n->next = ns->head;
    ns->head = n;
    ns->count++;
    return 0;
}

int ust_mkfifo(struct ust_stack *stack, const char *path, mode_t mode)
{
    int r = path_check(path);
    if (r)
        return (int)ust_fd_ret(r);
    mode_t cmask = ust_ipc_umask(stack);       /* may read /proc: before the lock */
    if (stack->cfg.ipc_shared)
        return (int)ust_fd_ret(ust_fifo_shared_mkfifo(stack, path, mode, cmask));
    ust_rt_enter(stack);
    r = do_mkfifo(stack, path, mode, cmask);
    ust_rt_exit(stack);
    return (int)ust_fd_ret(r);
}

static int do_unlink(struct ust_stack *stack, const char *path)
{
    struct ust_fifo_ns *ns = stack->ipc.fifo;
    struct ust_fifo_node **pp = node_find(ns, path);
    struct ust_fifo_node *n = *pp;
    if (!n)
        return -ENOENT;
    *pp = n->next;
    ns->count--;
    node_free(n);
    return 0;
}

int ust_unlink(struct ust_stack *stack, const char *path)
{
    int r = path_check(path);
    if (r)
        return (int)ust_fd_ret(r);
    if (stack->cfg.ipc_shared)
        return (int)ust_fd_ret(ust_fifo_shared_unlink(stack, path));
    ust_rt_enter(stack);
    r = do_unlink(stack, path);
    ust_rt_exit(stack);
    return (int)ust_fd_ret(r);
}

/* ---- open ------------------------------------------------------------- */

/* Waits until *counter moves away from `seen` (a partner opened), the
 * stack thread stops, or nothing can wake us: 0 when a partner came,
 * -EINTR when a signal handler interrupted the wait (restarted instead with
 * SA_RESTART, signal(7); fs/pipe.c wait_for_partner), else -EAGAIN. */
static int wait_for_partner(struct ust_stack *stack, struct ust_pipe *p,
                            const unsigned *counter, unsigned seen)
{
    while (*counter == seen && ust_rt_can_block(stack)) {
        struct ust_wait_entry e = { .q = &p->open_wq, .events = UST_WAKE_ALL };
        if (ust_rt_wait(stack, &e, 1, UST_RT_FOREVER, UST_RT_SIG_RESTART) == -EINTR &&
            *counter == seen)
            return -EINTR;
    }
    return *counter != seen ? 0 : -EAGAIN;
}

/* fifo(7) rules once the file exists (it already counts as reader and/or
 * writer, which keeps the pipe alive while we sleep). */
static int fifo_open_rules(struct ust_stack *stack, struct ust_file *f)
{
    struct ust_pipe_open *o = ust_pipe_open_of(f);
    struct ust_pipe *p = o->pipe;
    bool nonblock = (f->status_flags & O_NONBLOCK) || !ust_rt_can_block(stack);
    switch (f->status_flags & O_ACCMODE) {
    case O_RDONLY:
        if (p->writers == 0) {
            unsigned seen = p->w_counter;
            int err = nonblock ? -EAGAIN : wait_for_partner(stack, p, &p->w_counter, seen);
            if (err == -EINTR)
                return err;
            /* Suppress POLLHUP until a writer has come (fs/pipe.c). */
            if (err)
                o->w_seen = seen;
        }
        return 0;
    case O_WRONLY:
        if (p->readers == 0) {
            int err = nonblock ? -EAGAIN : wait_for_partner(stack, p, &p->r_counter, p->r_counter);
            if (err)
                return err == -EINTR ? err : -ENXIO;
        }
        return 0;
    default:
        return 0;       /* O_RDWR: Linux opens at once */
    }
}

static int do_open(struct ust_stack *stack, const char *path, int flags)
{
    struct ust_fifo_node *n = *node_find(stack->ipc.fifo, path);
    if (!n)
        return (flags & O_CREAT) ? -EOPNOTSUPP : -ENOENT;
    if ((flags & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL))
        return -EEXIST;
    /* open(2): the mode's bits for the caller's class (no root override). */
    if (!ust_ipc_perm_ok(n->uid, n->uid, n->gid, n->gid, n->mode, ust_ipc_open_want(flags)))
        return -EACCES;
    if (stack->fds.used >= stack->fds.size)
        return -EMFILE;
    struct ust_pipe *p = n->pipe;
    if (!p) {
        int err;
        if (!(p = ust_pipe_alloc(stack, false, &err)))
            return -ENOMEM;     /* Linux fifo_open, also at pipe-user-pages-hard */
        p->node = n;
        n->pipe = p;
    }
    struct ust_file *f = ust_pipe_open_file(p, flags & (O_ACCMODE | O_NONBLOCK), true);
    if (!f) {
        ust_pipe_free_if_unused(p);
        return -ENOMEM;
    }
    int err = fifo_open_rules(stack, f);
    if (err == 0)
        err = ust_fd_install(stack, f, (flags & O_CLOEXEC) ? FD_CLOEXEC : 0);
    if (err < 0)
        ust_file_put(f);        /* stops counting; frees the pipe if unused */
    return err;
}

int ust_open(struct ust_stack *stack, const char *path, int flags, ...)
{
    int r = path_check(path);
    if (r == 0 && (flags & O_ACCMODE) == O_ACCMODE)
        r = -EINVAL;
    if (r)
        return (int)ust_fd_ret(r);
    if (stack->cfg.ipc_shared)
        return (int)ust_fd_ret(ust_fifo_shared_open(stack, path, flags));
    ust_rt_enter(stack);
    r = do_open(stack, path, flags);
    ust_rt_exit(stack);
    return (int)ust_fd_ret(r);
}
