/* POSIX message queues shared between processes (mq_shared.h; the design
 * is docs/IPC-SHARED.md, "POSIX message queues").
 *
 * A queue is the shared object <dir>/ustack.mq.<name> (shm_queue.h with
 * UST_SHMQ_PRIO: highest priority first, FIFO within one, mq_send(3)); it
 * lives until mq_unlink and the last close, like the kernel's. Each open
 * description is one ust_shmq handle. A call that has to wait releases the
 * stack lock and sleeps on the object's futex (ust_shmq_wait), so another
 * process's send or receive wakes it with or without a stack thread;
 * futex_waitv gives mq's signal semantics (restarted under SA_RESTART,
 * signal(7)). The mq_notify registration lives in the object: any process's
 * send fires it (SIGEV_SIGNAL: rt_sigqueueinfo to the registrant with
 * SI_MESGQ; SIGEV_THREAD: only a send through the registrant's own stack,
 * which can run its function). */
#include "ipc/mq_shared.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/util.h"
#include "fd/fd.h"
#include "ipc/ipc.h"
#include "ipc/mq_internal.h"
#include "ipc/shm_queue.h"
#include "runtime/notify.h"
#include "runtime/runtime.h"
#include "stack/stack_impl.h"
#include "stack/trace.h"

#define MQS_KIND "mq"
/* Size of a queue file and of its status line buffer (Linux FILENT_SIZE). */
/* A name longer than the object name allows keeps this many characters,
 * then '~' and 16 hex digits of a hash of the whole name. */
#define MQS_NAME_KEEP (UST_SHMQ_NAME_MAX - 17)

struct mqs_desc {                   /* an open description: ust_file->priv */
    struct ust_shmq *q;
    struct ust_file *f;
    off_t pos;                      /* file position in the status line */
    dev_t dev;                      /* the object's identity */
    ino_t ino;
    char name[UST_SHMQ_NAME_MAX + 1];   /* its name in the directory */
    long maxmsg, msgsize;
    uid_t uid;                      /* its owner */
    uint64_t token;                 /* of a SIGEV_THREAD registration made here */
    struct ust_rt_notify thread;    /* its function and attributes */
    struct mqs_desc *next, *prev;
};

struct ust_mqs_ns {
    struct mqs_desc *descs;         /* this stack's open descriptions */
    uint64_t tag;                   /* SIGEV_THREAD registrations of this stack */
    uint64_t next_token;
};

static const struct ust_file_ops mqs_file_ops;

struct ust_mqs_ns *ust_mqs_ns_new(void)
{
    struct ust_mqs_ns *ns = calloc(1, sizeof(*ns));
    if (ns)
        ns->tag = ((uint64_t)getpid() << 48) ^ (uint64_t)(uintptr_t)ns;
    return ns;
}

void ust_mqs_ns_free(struct ust_mqs_ns *ns)
{
    free(ns);
}

static struct ust_mqs_ns *ns_of(struct ust_stack *stack)
{
    return ust_mq_shared_ns(stack);
}

bool ust_mqs_is(const struct ust_file *f)
{
    return f && f->ops == &mqs_file_ops;
}

/* ---- Names and limits ------------------------------------------------- */

/* The object name of an mq name (without its '/'): itself, or when too
 * long for a file name its first MQS_NAME_KEEP characters, '~' and an
 * FNV-1a hash of the whole name. */
static void object_name(const char *name, char *out)
{
    size_t n = strlen(name);
    if (n <= UST_SHMQ_NAME_MAX) {
        memcpy(out, name, n + 1);
        return;
    }
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)name[i]) * 0x100000001b3ull;
    memcpy(out, name, MQS_NAME_KEEP);
    snprintf(out + MQS_NAME_KEEP, UST_SHMQ_NAME_MAX + 1 - MQS_NAME_KEEP, "~%016llx",
             (unsigned long long)h);
}

/* The bytes a queue counts against mq_bytes_max: the private path's
 * reservation, so both modes have the same limit. */
static uint64_t reservation(long maxmsg, long msgsize)
{
    return (uint64_t)maxmsg * ((uint64_t)msgsize + 24 + sizeof(uint32_t));
}

struct usage {
    const char *dir;
    uid_t euid;
    unsigned queues;                /* mq objects (mq_queues_max) */
    uint64_t bytes;                 /* of this euid's queues (mq_bytes_max) */
};

static int count_object(void *arg, const char *kind, const char *name)
{
    struct usage *u = arg;
    if (strcmp(kind, MQS_KIND) != 0)
        return 0;
    u->queues++;
    char path[4096];
    struct stat st;
    if (ust_shmq_path(u->dir, kind, name, path, sizeof(path)) < 0 || stat(path, &st) < 0 ||
        st.st_uid != u->euid)
        return 0;
    struct ust_shmq_stat s;
    if (ust_shmq_inspect(u->dir, kind, name, &s) == 0)
        u->bytes += reservation(s.info.maxmsg, s.info.msgsize);
    else
        u->bytes += (uint64_t)st.st_size;   /* no read permission: its size */
    return 0;
}

/* Does d's object still have its name? */
static bool still_named(const char *dir, const struct mqs_desc *d)
{
    char path[4096];
    struct stat st;
    return ust_shmq_path(dir, MQS_KIND, d->name, path, sizeof(path)) == 0 &&
           stat(path, &st) == 0 && st.st_dev == d->dev && st.st_ino == d->ino;
}

/* The unlinked queues this stack still holds open, which the directory no
 * longer shows (each counted once). Lock held. */
static void held_unlinked(struct ust_stack *stack, struct usage *u)
{
    for (struct mqs_desc *d = ns_of(stack)->descs; d; d = d->next) {
        bool seen = false;
        for (struct mqs_desc *e = ns_of(stack)->descs; e != d && !seen; e = e->next)
            seen = e->dev == d->dev && e->ino == d->ino;
        if (seen || still_named(u->dir, d))
            continue;
        u->queues++;
        if (d->uid == u->euid)
            u->bytes += reservation(d->maxmsg, d->msgsize);
    }
}

/* mq_queues_max and RLIMIT_MSGQUEUE (mq_bytes_max) for machine-wide
 * queues: the queues are the mq objects of the directory plus the unlinked
 * ones this stack still holds open (held); the bytes are those of the
 * queues of this euid among them. Lock not held (reads a directory). */
static int check_limits(struct ust_stack *stack, const struct usage *held, long maxmsg,
                        long msgsize)
{
    const struct ust_stack_config *c = &stack->cfg;
    struct usage u = *held;
    int r = ust_shmq_list(u.dir, count_object, &u);
    if (r < 0 && r != -ENOENT)
        return r;
    if (u.queues >= c->mq_queues_max)
        return -ENOSPC;
    uint64_t bytes = reservation(maxmsg, msgsize);
    if (bytes > c->mq_bytes_max || u.bytes > c->mq_bytes_max - bytes)
        return -EMFILE;     /* Linux's errno for RLIMIT_MSGQUEUE */
    return 0;
}

/* ---- Open ------------------------------------------------------------- */

static unsigned access_of(int oflag)
{
    switch (oflag & O_ACCMODE) {
    case O_RDONLY:
        return UST_SHMQ_RD;
    case O_WRONLY:
        return UST_SHMQ_WR;
    default:
        return UST_SHMQ_RD | UST_SHMQ_WR;
    }
}

/* Creates the object (O_EXCL), after the attribute and limit checks. */
static int create_object(struct ust_stack *stack, const struct usage *held, const char *oname,
                         int oflag, mode_t mode, const struct mq_attr *attr, struct ust_shmq **q)
{
    const struct ust_stack_config *c = &stack->cfg;
    long maxmsg = c->mq_maxmsg_default, msgsize = c->mq_msgsize_default;
    if (attr) {
        if (attr->mq_maxmsg <= 0 || attr->mq_msgsize <= 0 ||
            attr->mq_maxmsg > (long)c->mq_maxmsg_max || attr->mq_msgsize > (long)c->mq_msgsize_max)
            return -EINVAL;
        maxmsg = attr->mq_maxmsg;
        msgsize = attr->mq_msgsize;
    }
    if (maxmsg > (long)UST_SHMQ_MAXMSG_MAX || msgsize > (long)UST_SHMQ_MSGSIZE_MAX)
        return -EINVAL;
    int r = check_limits(stack, held, maxmsg, msgsize);
    if (r < 0)
        return r;
    struct ust_shmq_attr a = {
        .maxmsg = (uint32_t)maxmsg,
        .msgsize = (uint32_t)msgsize,
        .flags = UST_SHMQ_PRIO | ((oflag & UST_IPC_AUTOREMOVE) ? UST_SHMQ_AUTOREMOVE : 0),
        .mode = mode & 0777,
    };
    return ust_shmq_open(ust_ipc_dir(stack), MQS_KIND, oname, O_CREAT | O_EXCL,
                         access_of(oflag), &a, q);
}

/* Opens or creates the object. *created tells which. Lock not held. */
static int open_object(struct ust_stack *stack, const struct usage *held, const char *oname,
                       int oflag, mode_t mode, const struct mq_attr *attr, struct ust_shmq **q,
                       bool *created)
{
    const char *dir = ust_ipc_dir(stack);
    *created = false;
    for (int tries = 0; tries < 8; tries++) {
        if ((oflag & (O_CREAT | O_EXCL)) != (O_CREAT | O_EXCL)) {
            int r = ust_shmq_open(dir, MQS_KIND, oname, 0, access_of(oflag), NULL, q);
            if (r != -ENOENT || !(oflag & O_CREAT))
                return r;
        } else {
            char path[4096];
            struct stat st;
            if (ust_shmq_path(dir, MQS_KIND, oname, path, sizeof(path)) == 0 &&
                stat(path, &st) == 0)
                return -EEXIST;     /* before the attributes, as the private path */
        }
        int r = create_object(stack, held, oname, oflag, mode, attr, q);
        if (r != -EEXIST || (oflag & O_EXCL)) {
            *created = r == 0;
            return r;
        }
        /* Another process created it meanwhile: open theirs. */
    }
    return -EAGAIN;
}

/* The permission check of the private path (inode_permission with the
 * caller's current credentials, no root override). */
static int perm_check(struct ust_shmq *q, int oflag, struct ust_shmq_info *info)
{
    int r = ust_shmq_getattr(q, info);
    if (r < 0)
        return r;
    if (!ust_ipc_perm_ok(info->uid, info->uid, info->gid, info->gid, info->mode,
                         ust_ipc_open_want(oflag)))
        return -EACCES;
    return 0;
}

/* A descriptor for q, which it takes over (closed on failure too). */
static int install(struct ust_stack *stack, struct ust_shmq *q, const char *oname, int oflag,
                   const struct ust_shmq_info *info)
{
    /* Every change this handle makes rings the pollers' bells (other
     * processes' too): without the arena it could not, so no descriptor. */
    struct ust_shmbell_arena *arena;
    int bell;
    int r = ust_ipc_bell(stack, &arena, &bell);
    if (r < 0) {
        ust_shmq_close(q);
        return r;
    }
    ust_shmq_set_bells(q, arena);
    struct mqs_desc *d = calloc(1, sizeof(*d));
    struct ust_file *f = NULL;
    if (d)
        f = ust_file_new(stack, &mqs_file_ops, d, oflag & (O_ACCMODE | O_NONBLOCK));
    if (!f) {
        free(d);
        ust_shmq_close(q);
        return -ENOMEM;
    }
    d->q = q;
    d->f = f;
    ust_shmq_ident(q, &d->dev, &d->ino);
    snprintf(d->name, sizeof(d->name), "%s", oname);
    d->maxmsg = info->maxmsg;
    d->msgsize = info->msgsize;
    d->uid = info->uid;
    struct ust_mqs_ns *ns = ns_of(stack);
    d->next = ns->descs;
    if (d->next)
        d->next->prev = d;
    ns->descs = d;
    int fd = ust_fd_install(stack, f, FD_CLOEXEC);
    if (fd < 0)
        ust_file_put(f);            /* release closes q */
    return fd;
}

int ust_mqs_open(struct ust_stack *stack, const char *name, int oflag, mode_t mode,
                 const struct mq_attr *attr)
{
    char oname[UST_SHMQ_NAME_MAX + 1];
    object_name(name, oname);
    struct usage held = { .dir = ust_ipc_dir(stack), .euid = geteuid() };
    if (oflag & O_CREAT)
        held_unlinked(stack, &held);
    /* Files, a directory, another process's lock: not under the stack lock. */
    ust_rt_unlock(stack);
    struct ust_shmq *q;
    bool created;
    int r = open_object(stack, &held, oname, oflag, mode, attr, &q, &created);
    struct ust_shmq_info info;
    if (r == 0) {
        r = created ? ust_shmq_getattr(q, &info) : perm_check(q, oflag, &info);
        if (r < 0)
            ust_shmq_close(q);
    }
    ust_rt_lock(stack);
    if (r < 0)
        return r;
    int fd = install(stack, q, oname, oflag, &info);
    if (fd < 0 && created)
        ust_shmq_unlink(ust_ipc_dir(stack), MQS_KIND, oname);
    return fd;
}

int ust_mqs_unlink(struct ust_stack *stack, const char *name)
{
    char oname[UST_SHMQ_NAME_MAX + 1], path[4096];
    object_name(name, oname);
    const char *dir = ust_ipc_dir(stack);
    int r = ust_shmq_path(dir, MQS_KIND, oname, path, sizeof(path));
    if (r < 0)
        return r;
    struct stat st;
    if (stat(path, &st) < 0)
        return -errno;
    /* The directory is sticky: only the owner may remove a name (as the
     * private path: EACCES, glibc's errno for Linux's EPERM). */
    if (st.st_uid != geteuid())
        return -EACCES;
    r = ust_shmq_unlink(dir, MQS_KIND, oname);
    return r == -EPERM ? -EACCES : r;
}

/* ---- Send and receive ------------------------------------------------- */

struct mqs_call {
    bool send;
    const char *smsg;               /* send */
    char *rmsg;                     /* receive */
    size_t len;
    unsigned prio;                  /* send: in; receive: out */
    struct ust_shmq_sel sel;        /* receive */
    bool nowait;
    unsigned flags;                 /* UST_SHMQ_REALTIME */
    const struct timespec *deadline;
    uint64_t tag;                   /* this stack's, for SIGEV_THREAD */
    struct ust_shmq_notify fired;   /* send: the registration it fired */
};

/* One try, never waiting. Stack lock not held. */
static long mqs_try(struct mqs_desc *d, struct mqs_call *c)
{
    if (c->send)
        return ust_shmq_send_notify(d->q, c->smsg, c->len, c->prio, UST_SHMQ_NONBLOCK, NULL,
                                    c->tag, &c->fired);
    int64_t key = 0;
    ssize_t n = ust_shmq_receive(d->q, c->rmsg, c->len, &key, &c->sel, UST_SHMQ_NONBLOCK, NULL);
    if (n >= 0)
        c->prio = (unsigned)key;
    return n;
}

/* Has the stack thread, which ran when the call began, stopped? Then the
 * call ends as in the private path (EAGAIN), so that ust_stack_stop
 * releases every blocked caller (within one 50 ms slice here). */
static bool thread_stopped(struct ust_stack *stack, bool had_thread)
{
    if (!had_thread)
        return false;
    ust_rt_lock(stack);
    bool stopped = !ust_rt_can_block(stack);
    ust_rt_unlock(stack);
    return stopped;
}

/* Waits and tries until done, the deadline or a signal (-EINTR unless the
 * handler has SA_RESTART). Stack lock not held; counted as a sleeper of the
 * stack meanwhile (ust_rt_ext_sleep_begin). A wait needs no stack thread:
 * the other process's send or receive wakes it through the object. */
static long mqs_block(struct ust_stack *stack, struct mqs_desc *d, struct mqs_call *c,
                      uint32_t snap)
{
    ust_rt_lock(stack);
    ust_rt_ext_sleep_begin(stack);
    bool had_thread = ust_rt_can_block(stack);
    ust_rt_unlock(stack);
    if (!c->send)
        ust_shmq_receiver_waiting(d->q, true);
    long r;
    for (;;) {
        int w = ust_shmq_wait(d->q, c->send, snap, c->flags | UST_SHMQ_RESTART, c->deadline);
        snap = ust_shmq_snapshot(d->q, c->send);
        r = mqs_try(d, c);
        if (r != -EAGAIN)
            break;
        if (w < 0) {
            r = w;
            break;
        }
        if (thread_stopped(stack, had_thread))
            break;                      /* r is -EAGAIN */
    }
    if (!c->send)
        ust_shmq_receiver_waiting(d->q, false);
    ust_rt_lock(stack);
    ust_rt_ext_sleep_end(stack);
    ust_rt_unlock(stack);
    return r;
}

/* In-process pollers of the same queue (descriptions of this stack): the
 * other processes' are rung by the object's doorbells. Lock held. */
static void wake_local(struct ust_stack *stack, const struct mqs_desc *d, uint32_t events)
{
    for (struct mqs_desc *e = ns_of(stack)->descs; e; e = e->next)
        if (e->dev == d->dev && e->ino == d->ino)
            ust_waitq_wake(&e->f->wq, events);
}

/* Messages queued now (a lock-free hint). */
static uint32_t queued(const struct mqs_desc *d)
{
    uint32_t n;
    uint64_t bytes;
    ust_shmq_load(d->q, &n, &bytes);
    return n;
}

/* Lock held on entry and return; released while the call runs. */
static long mqs_run(struct ust_stack *stack, struct ust_file *f, struct mqs_call *c)
{
    struct mqs_desc *d = f->priv;
    ust_file_get(f);
    ust_rt_unlock(stack);
    uint32_t snap = ust_shmq_snapshot(d->q, c->send);
    long r = mqs_try(d, c);
    if (r == -EAGAIN && !c->nowait)
        r = mqs_block(stack, d, c, snap);
    ust_rt_lock(stack);
    if (r >= 0)
        wake_local(stack, d, c->send ? POLLIN | POLLRDNORM : POLLOUT | POLLWRNORM);
    ust_file_put(f);
    return r;
}

static void to_deadline(const struct timespec *ts, enum ust_mqs_clock clock, struct mqs_call *c)
{
    c->deadline = clock == UST_MQS_NONE ? NULL : ts;
    c->flags = clock == UST_MQS_REALTIME ? UST_SHMQ_REALTIME : 0;
}

/* The kernel's notification signal to another process (SI_MESGQ); lost
 * when we may not signal it, unlike the kernel's own delivery. */
static void signal_other(const struct ust_shmq_notify *n)
{
    union sigval v = { .sival_ptr = (void *)(uintptr_t)n->value };
    if (n->signo > 0)
        ust_rt_send_mesgq(n->pid, n->signo, v);
}

/* A fired registration: what to deliver, now or (this process) after the
 * stack lock goes. Lock held. */
static void deliver(struct ust_stack *stack, const struct ust_shmq_notify *n,
                    struct ust_rt_notify *out)
{
    if (n->pid == 0 || n->how == SIGEV_NONE)
        return;
    if (n->how == SIGEV_SIGNAL) {
        if (n->pid != getpid()) {
            signal_other(n);
            return;
        }
        memset(out, 0, sizeof(*out));
        out->notify = SIGEV_SIGNAL;
        out->signo = n->signo;
        out->value.sival_ptr = (void *)(uintptr_t)n->value;
        return;
    }
    /* SIGEV_THREAD: fired only by this stack (tag), which keeps the
     * function in the description it was registered through. */
    for (struct mqs_desc *d = ns_of(stack)->descs; d; d = d->next) {
        if (d->token == n->token && d->thread.notify == SIGEV_THREAD) {
            *out = d->thread;
            d->thread.notify = SIGEV_NONE;
            return;
        }
    }
}

long ust_mqs_send(struct ust_stack *stack, int mqd, struct ust_file *f, const char *msg,
                  size_t len, unsigned prio, const struct timespec *ts, enum ust_mqs_clock clock,
                  struct ust_rt_notify *notify)
{
    struct mqs_desc *d = f->priv;
    if (prio >= UST_MQ_PRIO_MAX)
        return -EINVAL;
    if ((f->status_flags & O_ACCMODE) == O_RDONLY)
        return -EBADF;
    if (len > (size_t)d->msgsize)
        return -EMSGSIZE;
    if (len && !msg)
        return -EFAULT;
    struct mqs_call c = { .send = true, .smsg = msg, .len = len, .prio = prio,
                          .nowait = f->status_flags & O_NONBLOCK, .tag = ns_of(stack)->tag };
    to_deadline(ts, clock, &c);
    long r = mqs_run(stack, f, &c);
    if (r >= 0) {
        ust_trace_ipc(stack, UST_IPC_WRITE, "mq", mqd, len, prio, queued(d));
        deliver(stack, &c.fired, notify);
    }
    return r;
}

long ust_mqs_receive(struct ust_stack *stack, int mqd, struct ust_file *f, char *msg,
                     size_t len, unsigned *prio, unsigned lo, unsigned hi, bool dontwait,
                     const struct timespec *ts, enum ust_mqs_clock clock)
{
    struct mqs_desc *d = f->priv;
    if ((f->status_flags & O_ACCMODE) == O_WRONLY)
        return -EBADF;
    if (len < (size_t)d->msgsize)
        return -EMSGSIZE;
    if (!msg)
        return -EFAULT;
    struct mqs_call c = { .send = false, .rmsg = msg, .len = len,
                          .nowait = dontwait || (f->status_flags & O_NONBLOCK) };
    c.sel.how = UST_SHMQ_SEL_FIRST;
    if (lo > 0 || hi < UST_MQ_PRIO_MAX - 1) {
        c.sel.how = UST_SHMQ_SEL_RANGE;
        c.sel.type = UST_SHMQ_RANGE(lo, hi);
    }
    to_deadline(ts, clock, &c);
    long r = mqs_run(stack, f, &c);
    if (r >= 0)
        ust_trace_ipc(stack, UST_IPC_READ, "mq", mqd, (size_t)r, c.prio, queued(d));
    if (r >= 0 && prio)
        *prio = c.prio;
    return r;
}

/* ---- Attributes and notification -------------------------------------- */

int ust_mqs_getsetattr(struct ust_stack *stack, struct ust_file *f,
                       const struct mq_attr *newattr, struct mq_attr *oldattr)
{
    (void)stack;
    struct mqs_desc *d = f->priv;
    if (oldattr) {
        struct ust_shmq_info info;
        int r = ust_shmq_getattr(d->q, &info);
        if (r < 0)
            return r;
        memset(oldattr, 0, sizeof(*oldattr));
        oldattr->mq_flags = f->status_flags & O_NONBLOCK;
        oldattr->mq_maxmsg = d->maxmsg;
        oldattr->mq_msgsize = d->msgsize;
        oldattr->mq_curmsgs = info.curmsgs;
    }
    if (newattr)
        f->status_flags = (f->status_flags & ~O_NONBLOCK) | (int)(newattr->mq_flags & O_NONBLOCK);
    return 0;
}

int ust_mqs_notify(struct ust_stack *stack, struct ust_file *f, const struct sigevent *sevp)
{
    struct mqs_desc *d = f->priv;
    if (!sevp)      /* unregister: only the registering process's (Linux) */
        return ust_shmq_notify_clear(d->q, getpid());
    struct ust_mqs_ns *ns = ns_of(stack);
    struct ust_shmq_notify n = {
        .how = sevp->sigev_notify,
        .signo = sevp->sigev_notify == SIGEV_SIGNAL ? sevp->sigev_signo : 0,
        .value = (uint64_t)(uintptr_t)sevp->sigev_value.sival_ptr,
        .tag = ns->tag,
        .token = ++ns->next_token,
    };
    int r = ust_shmq_notify_set(d->q, &n);
    if (r < 0 || sevp->sigev_notify != SIGEV_THREAD)
        return r;
    memset(&d->thread, 0, sizeof(d->thread));
    d->thread.notify = SIGEV_THREAD;
    d->thread.value = sevp->sigev_value;
    d->thread.function = sevp->sigev_notify_function;
    if (sevp->sigev_notify_attributes) {
        d->thread.has_attr = true;
        memcpy(&d->thread.attr, sevp->sigev_notify_attributes, sizeof(pthread_attr_t));
    }
    d->token = n.token;
    return 0;
}

/* ---- Descriptor operations -------------------------------------------- */

static uint32_t mqs_file_poll(struct ust_file *f)
{
    struct mqs_desc *d = f->priv;
    uint32_t ev = 0;
    if (ust_shmq_readable(d->q))
        ev |= POLLIN | POLLRDNORM;
    if (ust_shmq_writable(d->q))
        ev |= POLLOUT | POLLWRNORM;
    return ev;
}

static int mqs_file_shm_watch(struct ust_file *f, struct ust_shmbell_arena *arena, int bell,
                              bool on)
{
    (void)arena;        /* the stack's, given to the handle at open (install) */
    struct mqs_desc *d = f->priv;
    return ust_shmq_watch(d->q, bell, on);
}

/* /dev/mqueue's status line (Linux mqueue_read_file). */
static size_t status_line(struct mqs_desc *d, char *buf, size_t size)
{
    struct ust_shmq_info info = { .bytes = 0 };
    struct ust_shmq_notify n = { .pid = 0 };
    ust_shmq_getattr(d->q, &info);
    ust_shmq_notify_get(d->q, &n);
    bool reg = n.pid != 0;
    int len = snprintf(buf, size, "QSIZE:%-10llu NOTIFY:%-5d SIGNO:%-5d NOTIFY_PID:%-6d\n",
                       (unsigned long long)info.bytes, reg ? n.how : 0,
                       reg && n.how == SIGEV_SIGNAL ? n.signo : 0, reg ? (int)n.pid : 0);
    return len < 0 ? 0 : UST_MIN((size_t)len, size - 1);
}

/* read(2) gives the status line from the file position, never a message. */
static ssize_t mqs_file_read(struct ust_file *f, void *buf, size_t len)
{
    struct mqs_desc *d = f->priv;
    char line[UST_MQ_FILENT_SIZE];
    size_t avail = status_line(d, line, sizeof(line));
    return ust_mq_status_read(line, avail, &d->pos, buf, len);
}

static off_t mqs_file_llseek(struct ust_file *f, off_t offset, int whence)
{
    struct mqs_desc *d = f->priv;
    return ust_mq_status_llseek(&d->pos, offset, whence);
}

/* Every close of a descriptor of the queue by the registering process
 * removes its notification (Linux mqueue_flush_file). */
static void mqs_file_flush(struct ust_file *f)
{
    struct mqs_desc *d = f->priv;
    ust_shmq_notify_clear(d->q, getpid());
}

static void mqs_file_release(struct ust_file *f)
{
    struct mqs_desc *d = f->priv;
    struct ust_mqs_ns *ns = ns_of(f->stack);
    if (d->prev)
        d->prev->next = d->next;
    else
        ns->descs = d->next;
    if (d->next)
        d->next->prev = d->prev;
    ust_shmq_close(d->q);
    free(d);
}

static const struct ust_file_ops mqs_file_ops = {
    .name = "mqueue",
    .read = mqs_file_read,
    .poll = mqs_file_poll,
    .release = mqs_file_release,
    .llseek = mqs_file_llseek,
    .flush = mqs_file_flush,
    .shm_watch = mqs_file_shm_watch,
};
