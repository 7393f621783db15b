/* POSIX message queues (mq_overview(7)) as descriptors in the stack's table.
 *
 * A queue (struct ust_mq) lives in the stack's namespace under its name
 * until ust_mq_unlink, and as long as an open description (a ust_file made
 * by ust_mq_open) refers to it. Messages leave highest priority first, FIFO
 * within a priority (mq_send(3)): a binary heap ordered by (priority, send
 * sequence) gives O(log n) send and receive, and the message texts sit in
 * mq_maxmsg fixed slots allocated with the queue, so send and receive never
 * allocate. Blocked callers wait as mq_wait.h says; pollers are woken
 * through every open description's wait queue.
 *
 * With cfg.ipc_shared, queues are shared between processes instead
 * (mq_shared.c): mq_open and mq_unlink go there, and every call on a
 * descriptor goes to the backend its queue was opened on. */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ustack/fd.h>
#include <ustack/ipc.h>

#include "core/util.h"
#include "fd/fd.h"
#include "ipc/ipc.h"
#include "ipc/mq_internal.h"
#include "ipc/mq_shared.h"
#include "ipc/mq_wait.h"
#include "runtime/notify.h"
#include "runtime/runtime.h"
#include "stack/stack_impl.h"
#include "stack/trace.h"

/* NAME_MAX characters after the slash (mq_overview(7)). */
#define UST_MQ_NAME_MAX 255

struct mq_ref {                 /* one queued message */
    uint32_t prio;
    uint32_t len;
    uint64_t seq;               /* send order: FIFO within a priority */
    uint32_t slot;              /* where its text is */
};

struct mq_desc;

struct ust_mq {
    struct ust_mq *next;        /* namespace list (while it has a name) */
    bool named;
    bool autoremove;            /* UST_IPC_AUTOREMOVE: the last close unlinks */
    unsigned refs;              /* the name + one per open description */
    char name[UST_MQ_NAME_MAX + 1];
    uid_t uid;
    gid_t gid;
    mode_t mode;
    long maxmsg, msgsize;
    size_t reserved;            /* bytes counted against cfg.mq_bytes_max */
    struct mq_ref *heap;        /* maxmsg entries, n used */
    unsigned n;
    uint32_t *free_slots;       /* nfree free slot numbers */
    unsigned nfree;
    char *text;                 /* maxmsg * msgsize */
    uint64_t seq;
    struct ust_mqw_list senders, receivers;
    struct mq_desc *descs;      /* open descriptions (poll wakeups) */
    struct mq_desc *notify_owner;   /* NULL: no registration */
    struct ust_rt_notify notify;
    pid_t notify_pid;           /* the registering process (NOTIFY_PID) */
    size_t qsize;               /* bytes of message text queued (QSIZE) */
};

struct mq_desc {                /* an open description: ust_file->priv */
    struct ust_mq *q;
    struct ust_file *f;
    off_t pos;                  /* file position in the status line */
    struct mq_desc *next, *prev;
};

struct ust_mq_ns {
    struct ust_mq *named;
    unsigned nqueues;           /* alive, named or not (queues_max) */
    size_t reserved;            /* bytes reserved by all of them */
    struct ust_mqs_ns *shared;  /* cfg.ipc_shared: the shared backend's part */
};

/* ---- Queue objects ---------------------------------------------------- */

static size_t mq_reservation(long maxmsg, long msgsize)
{
    return (size_t)maxmsg * ((size_t)msgsize + sizeof(struct mq_ref) + sizeof(uint32_t));
}

static struct ust_mq *mq_alloc(long maxmsg, long msgsize)
{
    struct ust_mq *q = calloc(1, sizeof(*q));
    if (!q)
        return NULL;
    q->heap = calloc((size_t)maxmsg, sizeof(*q->heap));
    q->free_slots = calloc((size_t)maxmsg, sizeof(*q->free_slots));
    q->text = malloc((size_t)maxmsg * (size_t)msgsize + 1);
    if (!q->heap || !q->free_slots || !q->text) {
        free(q->heap);
        free(q->free_slots);
        free(q->text);
        free(q);
        return NULL;
    }
    q->maxmsg = maxmsg;
    q->msgsize = msgsize;
    for (long i = 0; i < maxmsg; i++)
        q->free_slots[i] = (uint32_t)(maxmsg - 1 - i);
    q->nfree = (unsigned)maxmsg;
    return q;
}

static void mq_put(struct ust_stack *stack, struct ust_mq *q)
{
    if (--q->refs > 0)
        return;
    struct ust_mq_ns *ns = stack->ipc.mq;
    ns->nqueues--;
    ns->reserved -= q->reserved;
    free(q->heap);
    free(q->free_slots);
    free(q->text);
    free(q);
}

static struct ust_mq *ns_find(struct ust_mq_ns *ns, const char *name)
{
    for (struct ust_mq *q = ns->named; q; q = q->next)
        if (strcmp(q->name, name) == 0)
            return q;
    return NULL;
}

/* Takes q's name away; the name's reference goes to the caller. */
static void ns_unname(struct ust_stack *stack, struct ust_mq *q)
{
    struct ust_mq_ns *ns = stack->ipc.mq;
    for (struct ust_mq **pp = &ns->named; *pp; pp = &(*pp)->next) {
        if (*pp == q) {
            *pp = q->next;
            break;
        }
    }
    q->named = false;
}

static void ns_remove(struct ust_stack *stack, struct ust_mq *q)
{
    ns_unname(stack, q);
    mq_put(stack, q);
}

int ust_mq_init(struct ust_stack *stack)
{
    struct ust_mq_ns *ns = calloc(1, sizeof(*ns));
    if (!ns)
        return -ENOMEM;
    ns->shared = ust_mqs_ns_new();
    if (!ns->shared) {
        free(ns);
        return -ENOMEM;
    }
    stack->ipc.mq = ns;
    return 0;
}

struct ust_mqs_ns *ust_mq_shared_ns(struct ust_stack *stack)
{
    return stack->ipc.mq->shared;
}

void ust_mq_fini(struct ust_stack *stack)
{
    struct ust_mq_ns *ns = stack->ipc.mq;
    if (!ns)
        return;
    while (ns->named)
        ns_remove(stack, ns->named);
    ust_mqs_ns_free(ns->shared);
    free(ns);
    stack->ipc.mq = NULL;
}

/* ---- The heap: highest priority first, then lowest sequence ----------- */

static bool ref_before(const struct mq_ref *a, const struct mq_ref *b)
{
    return a->prio > b->prio || (a->prio == b->prio && a->seq < b->seq);
}

static void heap_swap(struct mq_ref *h, unsigned i, unsigned j)
{
    struct mq_ref t = h[i];
    h[i] = h[j];
    h[j] = t;
}

static void heap_up(struct mq_ref *h, unsigned i)
{
    while (i > 0 && ref_before(&h[i], &h[(i - 1) / 2])) {
        heap_swap(h, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
}

static void heap_down(struct mq_ref *h, unsigned n, unsigned i)
{
    for (;;) {
        unsigned best = i, l = 2 * i + 1, r = l + 1;
        if (l < n && ref_before(&h[l], &h[best]))
            best = l;
        if (r < n && ref_before(&h[r], &h[best]))
            best = r;
        if (best == i)
            return;
        heap_swap(h, i, best);
        i = best;
    }
}

static void heap_remove(struct ust_mq *q, unsigned i)
{
    q->heap[i] = q->heap[--q->n];
    if (i < q->n) {
        heap_down(q->heap, q->n, i);
        heap_up(q->heap, i);
    }
}

/* The message a receive for priorities [lo, hi] takes; -1 if none. */
static int mq_select(const struct ust_mq *q, unsigned lo, unsigned hi)
{
    if (q->n == 0)
        return -1;
    if (lo == 0 && hi >= UST_MQ_PRIO_MAX - 1)
        return 0;
    int best = -1;
    for (unsigned i = 0; i < q->n; i++) {
        const struct mq_ref *m = &q->heap[i];
        if (m->prio >= lo && m->prio <= hi && (best < 0 || ref_before(m, &q->heap[best])))
            best = (int)i;
    }
    return best;
}

/* ---- Wakeups ---------------------------------------------------------- */

static void mq_wake_files(struct ust_mq *q, uint32_t events)
{
    for (struct mq_desc *d = q->descs; d; d = d->next)
        ust_waitq_wake(&d->f->wq, events);
}

/* Wakes the first blocked receiver that a queued message can satisfy. */
static void mq_wake_receiver(struct ust_mq *q)
{
    for (struct ust_mqw_sleeper *s = q->receivers.first; s; s = s->next) {
        if (mq_select(q, (unsigned)s->a, (unsigned)s->b) >= 0) {
            ust_mqw_wake(&q->receivers, s);
            return;
        }
    }
}

static void mq_wake_sender(struct ust_mq *q)
{
    if (q->senders.first && q->n < (unsigned)q->maxmsg)
        ust_mqw_wake(&q->senders, q->senders.first);
}

/* ---- Send and receive ------------------------------------------------- */

struct mq_op {
    struct ust_mq *q;
    char *buf;
    size_t len;
    unsigned prio;              /* send: in; receive: out */
    unsigned lo, hi;            /* receive: the priority range */
    struct ust_rt_notify *notify;   /* send: a notification to deliver */
};

/* mq_notify(3): one-shot, on empty -> non-empty, only when no receiver is
 * blocked (a blocked receiver takes the message instead). */
static void mq_maybe_notify(struct ust_mq *q, struct ust_rt_notify *out)
{
    if (!q->notify_owner || q->receivers.n > 0)
        return;
    *out = q->notify;
    q->notify_owner = NULL;
}

static long mq_try_send(void *ctx)
{
    struct mq_op *op = ctx;
    struct ust_mq *q = op->q;
    if (q->n >= (unsigned)q->maxmsg)
        return -EAGAIN;
    uint32_t slot = q->free_slots[--q->nfree];
    if (op->len)
        memcpy(q->text + (size_t)slot * (size_t)q->msgsize, op->buf, op->len);
    bool was_empty = q->n == 0;
    q->heap[q->n] = (struct mq_ref){ op->prio, (uint32_t)op->len, q->seq++, slot };
    heap_up(q->heap, q->n++);
    q->qsize += op->len;
    if (was_empty)
        mq_maybe_notify(q, op->notify);
    mq_wake_receiver(q);
    mq_wake_files(q, POLLIN | POLLRDNORM);
    return 0;
}

static long mq_try_receive(void *ctx)
{
    struct mq_op *op = ctx;
    struct ust_mq *q = op->q;
    int i = mq_select(q, op->lo, op->hi);
    if (i < 0)
        return -EAGAIN;
    struct mq_ref m = q->heap[i];
    if (m.len)
        memcpy(op->buf, q->text + (size_t)m.slot * (size_t)q->msgsize, m.len);
    op->prio = m.prio;
    heap_remove(q, (unsigned)i);
    q->qsize -= m.len;
    q->free_slots[q->nfree++] = m.slot;
    mq_wake_sender(q);
    mq_wake_files(q, POLLOUT | POLLWRNORM);
    return (long)m.len;
}

static void mq_pass_receiver(void *ctx)
{
    mq_wake_receiver(((struct mq_op *)ctx)->q);
}

static void mq_pass_sender(void *ctx)
{
    mq_wake_sender(((struct mq_op *)ctx)->q);
}

/* ---- Descriptors ------------------------------------------------------ */

static uint32_t mq_file_poll(struct ust_file *f)
{
    struct mq_desc *d = f->priv;
    uint32_t ev = 0;
    if (d->q->n > 0)
        ev |= POLLIN | POLLRDNORM;
    if (d->q->n < (unsigned)d->q->maxmsg)
        ev |= POLLOUT | POLLWRNORM;
    return ev;
}

/* /dev/mqueue's status line (Linux mqueue_read_file). */
static size_t mq_status_line(const struct ust_mq *q, char *buf, size_t size)
{
    bool reg = q->notify_owner != NULL;
    int n = snprintf(buf, size, "QSIZE:%-10zu NOTIFY:%-5d SIGNO:%-5d NOTIFY_PID:%-6d\n",
                     q->qsize, reg ? q->notify.notify : 0,
                     reg && q->notify.notify == SIGEV_SIGNAL ? q->notify.signo : 0,
                     reg ? (int)q->notify_pid : 0);
    return n < 0 ? 0 : UST_MIN((size_t)n, size - 1);
}

ssize_t ust_mq_status_read(const char *line, size_t avail, off_t *pos, void *buf, size_t len)
{
    if (*pos < 0)
        return -EINVAL;
    if ((uint64_t)*pos >= avail)
        return 0;
    size_t n = UST_MIN(len, avail - (size_t)*pos);
    memcpy(buf, line + *pos, n);
    *pos += (off_t)n;
    return (ssize_t)n;
}

off_t ust_mq_status_llseek(off_t *pos, off_t offset, int whence)
{
    const off_t size = UST_MQ_FILENT_SIZE;
    switch (whence) {
    case SEEK_END:
        offset += size;
        break;
    case SEEK_CUR:
        if (offset == 0)
            return *pos;
        offset += *pos;
        break;
    case SEEK_DATA:
        if (offset >= size)
            return -ENXIO;
        break;
    case SEEK_HOLE:
        if (offset >= size)
            return -ENXIO;
        offset = size;
        break;
    default:
        break;
    }
    if (offset < 0)
        return -EINVAL;
    *pos = offset;
    return offset;
}

/* read(2) of a queue descriptor gives the status line from the file
 * position, never a message. */
static ssize_t mq_file_read(struct ust_file *f, void *buf, size_t len)
{
    struct mq_desc *d = f->priv;
    char line[UST_MQ_FILENT_SIZE];
    size_t avail = mq_status_line(d->q, line, sizeof(line));
    return ust_mq_status_read(line, avail, &d->pos, buf, len);
}

static off_t mq_file_llseek(struct ust_file *f, off_t offset, int whence)
{
    struct mq_desc *d = f->priv;
    return ust_mq_status_llseek(&d->pos, offset, whence);
}

/* Every close by the registering process of a descriptor of the queue
 * removes its notification (Linux mqueue_flush_file; here every caller is
 * that process). */
static void mq_file_flush(struct ust_file *f)
{
    struct mq_desc *d = f->priv;
    d->q->notify_owner = NULL;
}

static void mq_file_release(struct ust_file *f)
{
    struct mq_desc *d = f->priv;
    struct ust_mq *q = d->q;
    if (d->prev)
        d->prev->next = d->next;
    else
        q->descs = d->next;
    if (d->next)
        d->next->prev = d->prev;
    if (q->notify_owner == d)
        q->notify_owner = NULL;
    /* UST_IPC_AUTOREMOVE: the last close takes the name (the name's
     * reference and ours are all that is left). */
    if (q->autoremove && q->named && q->refs == 2) {
        ns_unname(f->stack, q);
        q->refs--;              /* the name's reference; ours is put below */
    }
    mq_put(f->stack, q);
    free(d);
}

static const struct ust_file_ops mq_file_ops = {
    .name = "mqueue",
    .read = mq_file_read,
    .poll = mq_file_poll,
    .release = mq_file_release,
    .llseek = mq_file_llseek,
    .flush = mq_file_flush,
};

static struct mq_desc *mq_lookup(struct ust_stack *stack, int mqd, struct ust_file **fp)
{
    struct ust_file *f = ust_fd_lookup(stack, mqd);
    if (!f || f->ops != &mq_file_ops)
        return NULL;
    *fp = f;
    return f->priv;
}

/* ---- Timeouts --------------------------------------------------------- */

static bool timespec_bad(const struct timespec *ts)
{
    return ts->tv_sec < 0 || ts->tv_nsec < 0 || ts->tv_nsec >= (long)UST_NSEC_PER_SEC;
}

static struct ust_rt_deadline to_deadline(const struct timespec *ts, enum ust_rt_dl_clock clock,
                                          bool *bad)
{
    struct ust_rt_deadline dl = { UST_DL_NONE, 0 };
    *bad = false;
    if (!ts)
        return dl;
    if (timespec_bad(ts)) {
        *bad = true;
        return dl;
    }
    dl.clock = clock;
    if ((uint64_t)ts->tv_sec >= UINT64_MAX / UST_NSEC_PER_SEC - 1)
        dl.abs_ns = UINT64_MAX - 1;
    else
        dl.abs_ns = (uint64_t)ts->tv_sec * UST_NSEC_PER_SEC + (uint64_t)ts->tv_nsec;
    return dl;
}

/* ---- Send / receive entry points -------------------------------------- */

static long do_send(struct ust_stack *stack, int mqd, const char *msg, size_t len, unsigned prio,
                    const struct timespec *ts, enum ust_rt_dl_clock clock,
                    struct ust_rt_notify *notify)
{
    if (prio >= UST_MQ_PRIO_MAX)
        return -EINVAL;
    struct ust_file *f;
    struct mq_desc *d = mq_lookup(stack, mqd, &f);
    if (!d || (f->status_flags & O_ACCMODE) == O_RDONLY)
        return -EBADF;
    if (len > (size_t)d->q->msgsize)
        return -EMSGSIZE;
    if (len && !msg)
        return -EFAULT;
    bool bad;
    struct ust_rt_deadline dl = to_deadline(ts, clock, &bad);
    struct mq_op op = { .q = d->q, .buf = (char *)msg, .len = len, .prio = prio, .notify = notify };
    ust_file_get(f);
    long r = ust_mqw_wait(stack, &d->q->senders, &dl, bad, f->status_flags & O_NONBLOCK, -EAGAIN,
                          UST_RT_SIG_RESTART, 0, 0, mq_try_send, mq_pass_sender, &op);
    if (r >= 0)
        ust_trace_ipc(stack, UST_IPC_WRITE, "mq", mqd, len, prio, d->q->n);
    ust_file_put(f);
    return r;
}

static long do_receive(struct ust_stack *stack, int mqd, char *msg, size_t len, unsigned *prio,
                       unsigned lo, unsigned hi, bool dontwait, const struct timespec *ts,
                       enum ust_rt_dl_clock clock)
{
    struct ust_file *f;
    struct mq_desc *d = mq_lookup(stack, mqd, &f);
    if (!d || (f->status_flags & O_ACCMODE) == O_WRONLY)
        return -EBADF;
    if (len < (size_t)d->q->msgsize)
        return -EMSGSIZE;
    if (!msg)
        return -EFAULT;
    bool bad;
    struct ust_rt_deadline dl = to_deadline(ts, clock, &bad);
    struct mq_op op = { .q = d->q, .buf = msg, .len = len, .lo = lo, .hi = hi };
    bool nowait = dontwait || (f->status_flags & O_NONBLOCK);
    ust_file_get(f);
    long r = ust_mqw_wait(stack, &d->q->receivers, &dl, bad, nowait, -EAGAIN,
                          UST_RT_SIG_RESTART, lo, hi, mq_try_receive, mq_pass_receiver, &op);
    if (r >= 0)
        ust_trace_ipc(stack, UST_IPC_READ, "mq", mqd, (size_t)r, op.prio, d->q->n);
    ust_file_put(f);
    if (r >= 0 && prio)
        *prio = op.prio;
    return r;
}

static enum ust_mqs_clock shared_clock(enum ust_rt_dl_clock clock)
{
    return clock == UST_DL_REALTIME    ? UST_MQS_REALTIME
           : clock == UST_DL_MONOTONIC ? UST_MQS_MONOTONIC
                                       : UST_MQS_NONE;
}

static int send_common(struct ust_stack *stack, int mqd, const char *msg, size_t len,
                       unsigned prio, const struct timespec *ts, enum ust_rt_dl_clock clock)
{
    struct ust_rt_notify notify = { .notify = SIGEV_NONE };
    ust_rt_enter(stack);
    struct ust_file *f = ust_fd_lookup(stack, mqd);
    long r;
    if (ust_mqs_is(f))
        r = ust_mqs_send(stack, mqd, f, msg, len, prio, ts, shared_clock(clock), &notify);
    else
        r = do_send(stack, mqd, msg, len, prio, ts, clock, &notify);
    ust_rt_exit(stack);
    ust_rt_notify_deliver(&notify);
    return (int)ust_fd_ret(r);
}

static ssize_t receive_common(struct ust_stack *stack, int mqd, char *msg, size_t len,
                              unsigned *prio, unsigned lo, unsigned hi, bool dontwait,
                              const struct timespec *ts, enum ust_rt_dl_clock clock)
{
    ust_rt_enter(stack);
    struct ust_file *f = ust_fd_lookup(stack, mqd);
    long r;
    if (ust_mqs_is(f))
        r = ust_mqs_receive(stack, mqd, f, msg, len, prio, lo, hi, dontwait, ts,
                            shared_clock(clock));
    else
        r = do_receive(stack, mqd, msg, len, prio, lo, hi, dontwait, ts, clock);
    ust_rt_exit(stack);
    return ust_fd_ret(r);
}

int ust_mq_send(struct ust_stack *stack, int mqd, const char *msg, size_t len, unsigned prio)
{
    return send_common(stack, mqd, msg, len, prio, NULL, UST_DL_NONE);
}

int ust_mq_timedsend(struct ust_stack *stack, int mqd, const char *msg, size_t len,
                     unsigned prio, const struct timespec *abs_timeout)
{
    return send_common(stack, mqd, msg, len, prio, abs_timeout, UST_DL_REALTIME);
}

int ust_mq_timedsend_mono(struct ust_stack *stack, int mqd, const char *msg, size_t len,
                          unsigned prio, const struct timespec *abs_mono)
{
    return send_common(stack, mqd, msg, len, prio, abs_mono, UST_DL_MONOTONIC);
}

ssize_t ust_mq_receive(struct ust_stack *stack, int mqd, char *msg, size_t len, unsigned *prio)
{
    return receive_common(stack, mqd, msg, len, prio, 0, UST_MQ_PRIO_MAX - 1, false, NULL,
                          UST_DL_NONE);
}

ssize_t ust_mq_timedreceive(struct ust_stack *stack, int mqd, char *msg, size_t len,
                            unsigned *prio, const struct timespec *abs_timeout)
{
    return receive_common(stack, mqd, msg, len, prio, 0, UST_MQ_PRIO_MAX - 1, false,
                          abs_timeout, UST_DL_REALTIME);
}

ssize_t ust_mq_timedreceive_mono(struct ust_stack *stack, int mqd, char *msg, size_t len,
                                 unsigned *prio, const struct timespec *abs_mono)
{
    return receive_common(stack, mqd, msg, len, prio, 0, UST_MQ_PRIO_MAX - 1, false, abs_mono,
                          UST_DL_MONOTONIC);
}

ssize_t ust_mq_receive_prio(struct ust_stack *stack, int mqd, char *msg, size_t len,
                            unsigned *prio, unsigned min_prio, unsigned max_prio, int flags,
                            const struct timespec *abs_mono)
{
    if (min_prio > max_prio || max_prio >= UST_MQ_PRIO_MAX || (flags & ~UST_MQ_DONTWAIT)) {
        errno = EINVAL;
        return -1;
    }
    return receive_common(stack, mqd, msg, len, prio, min_prio, max_prio,
                          flags & UST_MQ_DONTWAIT, abs_mono, UST_DL_MONOTONIC);
}

/* ---- Open / unlink ---------------------------------------------------- */

/* mq_overview(7) names: "/" then 1..NAME_MAX characters, no other slash.
 * Errors as glibc + Linux give them. */
static int name_check(const char *name)
{
    if (!name)
        return -EFAULT;
    if (name[0] != '/')
        return -EINVAL;
    size_t len = strnlen(name + 1, UST_MQ_NAME_MAX + 1);
    if (len > UST_MQ_NAME_MAX)
        return -ENAMETOOLONG;
    if (len == 0)
        return -ENOENT;
    if (strchr(name + 1, '/'))
        return -EACCES;
    return 0;
}

static int mq_create(struct ust_stack *stack, const char *name, mode_t mode,
                     const struct mq_attr *attr, struct ust_mq **out)
{
    const struct ust_stack_config *c = &stack->cfg;
    struct ust_mq_ns *ns = stack->ipc.mq;
    long maxmsg = c->mq_maxmsg_default, msgsize = c->mq_msgsize_default;
    if (attr) {
        if (attr->mq_maxmsg <= 0 || attr->mq_msgsize <= 0 ||
            attr->mq_maxmsg > (long)c->mq_maxmsg_max || attr->mq_msgsize > (long)c->mq_msgsize_max)
            return -EINVAL;
        maxmsg = attr->mq_maxmsg;
        msgsize = attr->mq_msgsize;
    }
    if (ns->nqueues >= c->mq_queues_max)
        return -ENOSPC;
    size_t bytes = mq_reservation(maxmsg, msgsize);
    if (bytes > c->mq_bytes_max || ns->reserved > c->mq_bytes_max - bytes)
        return -EMFILE;     /* Linux's errno for RLIMIT_MSGQUEUE */
    struct ust_mq *q = mq_alloc(maxmsg, msgsize);
    if (!q)
        return -ENOMEM;
    strcpy(q->name, name + 1);
    q->uid = geteuid();
    q->gid = getegid();
    q->mode = mode & 0777;
    q->reserved = bytes;
    q->named = true;
    q->refs = 1;
    q->next = ns->named;
    ns->named = q;
    ns->nqueues++;
    ns->reserved += bytes;
    *out = q;
    return 0;
}

static int mq_open_file(struct ust_stack *stack, struct ust_mq *q, int oflag)
{
    struct mq_desc *d = calloc(1, sizeof(*d));
    if (!d)
        return -ENOMEM;
    struct ust_file *f = ust_file_new(stack, &mq_file_ops, d, oflag & (O_ACCMODE | O_NONBLOCK));
    if (!f) {
        free(d);
        return -ENOMEM;
    }
    d->q = q;
    d->f = f;
    q->refs++;
    d->next = q->descs;
    if (d->next)
        d->next->prev = d;
    q->descs = d;
    int fd = ust_fd_install(stack, f, FD_CLOEXEC);
    if (fd < 0)
        ust_file_put(f);
    return fd;
}

static int do_open(struct ust_stack *stack, const char *name, int oflag, mode_t mode,
                   const struct mq_attr *attr)
{
    /* mode is already masked by the umask (mq_open(3)). */
    int err = name_check(name);
    if (err)
        return err;
    if ((oflag & O_ACCMODE) == O_ACCMODE)
        return -EINVAL;
    if (stack->fds.used >= stack->fds.size)
        return -EMFILE;
    if (stack->cfg.ipc_shared)
        return ust_mqs_open(stack, name + 1, oflag, mode, attr);
    struct ust_mq *q = ns_find(stack->ipc.mq, name + 1);
    bool created = false;
    if (q) {
        if ((oflag & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL))
            return -EEXIST;
        /* inode_permission: the mode's bits for the caller's current
         * credentials (no root override). */
        if (!ust_ipc_perm_ok(q->uid, q->uid, q->gid, q->gid, q->mode, ust_ipc_open_want(oflag)))
            return -EACCES;
    } else {
        if (!(oflag & O_CREAT))
            return -ENOENT;
        if ((err = mq_create(stack, name, mode, attr, &q)) != 0)
            return err;
        q->autoremove = (oflag & UST_IPC_AUTOREMOVE) != 0;
        created = true;
    }
    int fd = mq_open_file(stack, q, oflag);
    if (fd < 0 && created)
        ns_remove(stack, q);
    return fd;
}

int ust_mq_open(struct ust_stack *stack, const char *name, int oflag, ...)
{
    mode_t mode = 0;
    const struct mq_attr *attr = NULL;
    if (oflag & O_CREAT) {
        va_list ap;
        va_start(ap, oflag);
        mode = (mode_t)va_arg(ap, int);
        attr = va_arg(ap, const struct mq_attr *);
        va_end(ap);
        mode &= ~ust_ipc_umask(stack);      /* may read /proc: before the lock */
    }
    ust_rt_enter(stack);
    int r = do_open(stack, name, oflag, mode, attr);
    ust_rt_exit(stack);
    return (int)ust_fd_ret(r);
}

int ust_mq_close(struct ust_stack *stack, int mqd)
{
    return ust_close(stack, mqd);
}

static int do_unlink(struct ust_stack *stack, const char *name)
{
    int err = name_check(name);
    if (err)
        return err;
    if (stack->cfg.ipc_shared)
        return ust_mqs_unlink(stack, name + 1);
    struct ust_mq *q = ns_find(stack->ipc.mq, name + 1);
    if (!q)
        return -ENOENT;
    /* /dev/mqueue is sticky: only the owner may remove a name (Linux gives
     * EPERM, which glibc's mq_unlink turns into EACCES). */
    if (geteuid() != q->uid)
        return -EACCES;
    ns_remove(stack, q);
    return 0;
}

int ust_mq_unlink(struct ust_stack *stack, const char *name)
{
    ust_rt_enter(stack);
    int r = do_unlink(stack, name);
    ust_rt_exit(stack);
    return (int)ust_fd_ret(r);
}

/* ---- Attributes and notification -------------------------------------- */

static void fill_attr(const struct ust_file *f, const struct ust_mq *q, struct mq_attr *a)
{
    memset(a, 0, sizeof(*a));
    a->mq_flags = f->status_flags & O_NONBLOCK;
    a->mq_maxmsg = q->maxmsg;
    a->mq_msgsize = q->msgsize;
    a->mq_curmsgs = q->n;
}

static int do_getsetattr(struct ust_stack *stack, int mqd, const struct mq_attr *newattr,
                         struct mq_attr *oldattr)
{
    if (newattr && (newattr->mq_flags & ~(long)O_NONBLOCK))
        return -EINVAL;
    struct ust_file *sf = ust_fd_lookup(stack, mqd);
    if (ust_mqs_is(sf))
        return ust_mqs_getsetattr(stack, sf, newattr, oldattr);
    struct ust_file *f;
    struct mq_desc *d = mq_lookup(stack, mqd, &f);
    if (!d)
        return -EBADF;
    if (oldattr)
        fill_attr(f, d->q, oldattr);
    if (newattr)
        f->status_flags = (f->status_flags & ~O_NONBLOCK) | (int)(newattr->mq_flags & O_NONBLOCK);
    return 0;
}

int ust_mq_getattr(struct ust_stack *stack, int mqd, struct mq_attr *attr)
{
    if (!attr) {
        errno = EFAULT;
        return -1;
    }
    ust_rt_enter(stack);
    int r = do_getsetattr(stack, mqd, NULL, attr);
    ust_rt_exit(stack);
    return (int)ust_fd_ret(r);
}

int ust_mq_setattr(struct ust_stack *stack, int mqd, const struct mq_attr *newattr,
                   struct mq_attr *oldattr)
{
    if (!newattr) {
        errno = EFAULT;
        return -1;
    }
    ust_rt_enter(stack);
    int r = do_getsetattr(stack, mqd, newattr, oldattr);
    ust_rt_exit(stack);
    return (int)ust_fd_ret(r);
}

static int sevp_check(const struct sigevent *sevp)
{
    switch (sevp->sigev_notify) {
    case SIGEV_NONE:
        return 0;
    case SIGEV_SIGNAL:  /* valid_signal(): 0.._NSIG (64) */
        return sevp->sigev_signo < 0 || sevp->sigev_signo > SIGRTMAX ? -EINVAL : 0;
    case SIGEV_THREAD:
        return sevp->sigev_notify_function ? 0 : -EINVAL;
    default:
        return -EINVAL;
    }
}

static int do_notify(struct ust_stack *stack, int mqd, const struct sigevent *sevp)
{
    int err = sevp ? sevp_check(sevp) : 0;
    if (err)
        return err;
    struct ust_file *sf = ust_fd_lookup(stack, mqd);
    if (ust_mqs_is(sf))
        return ust_mqs_notify(stack, sf, sevp);
    struct ust_file *f;
    struct mq_desc *d = mq_lookup(stack, mqd, &f);
    if (!d)
        return -EBADF;
    struct ust_mq *q = d->q;
    if (!sevp) {        /* unregister (every caller is "this process") */
        q->notify_owner = NULL;
        return 0;
    }
    if (q->notify_owner)
        return -EBUSY;
    memset(&q->notify, 0, sizeof(q->notify));
    q->notify.notify = sevp->sigev_notify;
    q->notify.signo = sevp->sigev_signo;
    q->notify.value = sevp->sigev_value;
    if (sevp->sigev_notify == SIGEV_THREAD) {
        q->notify.function = sevp->sigev_notify_function;
        if (sevp->sigev_notify_attributes) {
            q->notify.has_attr = true;
            memcpy(&q->notify.attr, sevp->sigev_notify_attributes, sizeof(pthread_attr_t));
        }
    }
    q->notify_owner = d;
    q->notify_pid = getpid();
    return 0;
}

int ust_mq_notify(struct ust_stack *stack, int mqd, const struct sigevent *sevp)
{
    ust_rt_enter(stack);
    int r = do_notify(stack, mqd, sevp);
    ust_rt_exit(stack);
    return (int)ust_fd_ret(r);
}
