/* System V message queues (msgget(2), msgop(2), msgctl(2)), per stack.
 *
 * Identifiers are Linux's: slot index + 32768 * sequence (ipc/util.c), so a
 * reused slot gives a different identifier. A queue keeps its messages in
 * one FIFO list (msgrcv selects by scanning it, as Linux's find_msg does)
 * and counts bytes and messages against msg_qbytes (msg_fits_inqueue).
 * Blocked callers wait as mq_wait.h says: a send wakes the first receiver
 * whose selection matches the new message (pipelined_send), a receive the
 * senders whose messages now fit. Unlike Linux, ust_msgq_fd gives a
 * pollable descriptor per queue.
 *
 * With cfg.ipc_shared every call goes to msg_shared.c instead: queues
 * shared by every process that uses the same IPC directory. */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ustack/fd.h>
#include <ustack/ipc.h>

#include "core/util.h"
#include "fd/fd.h"
#include "ipc/ipc.h"
#include "ipc/mq_internal.h"
#include "ipc/msg_shared.h"
#include "ipc/mq_wait.h"
#include "runtime/notify.h"
#include "runtime/runtime.h"
#include "stack/stack_impl.h"
#include "stack/trace.h"

/* Linux's IPCMNI: identifiers are index + IPCMNI * sequence. */
#define UST_MSG_IPCMNI 32768
#define UST_MSG_SEQ_MAX (INT32_MAX / UST_MSG_IPCMNI)

struct msg_msg {
    struct msg_msg *next, *prev;
    long mtype;
    size_t len;
    char text[];
};

struct msgq_desc;

struct ust_msq {
    int id;
    unsigned refs;              /* the id table + sleepers + descriptors */
    bool removed;               /* IPC_RMID done */
    key_t key;
    uid_t uid, cuid;
    gid_t gid, cgid;
    mode_t mode;
    unsigned short seq;
    time_t stime, rtime, ctime;
    pid_t lspid, lrpid;
    size_t qbytes, cbytes;
    size_t qnum;
    struct msg_msg *first, *last;
    struct ust_mqw_list senders, receivers;
    struct msgq_desc *descs;
};

struct msgq_desc {              /* ust_msgq_fd's file->priv */
    struct ust_msq *q;
    struct ust_file *f;
    struct msgq_desc *next, *prev;
};

struct ust_msg_ns {
    struct ust_msq **slots;     /* cap entries, NULL = free */
    unsigned short *seqs;       /* next sequence per slot */
    unsigned cap, used;
    size_t pool;                /* message bytes allocated (cfg.msgpool) */
    /* The caller's pid, read once when the stack is made (msg_lspid,
     * msg_lrpid). Credentials are read at each call (ipc_cred.c). */
    pid_t pid;
    struct ust_msgsh *sh;       /* the shared backend (cfg.ipc_shared) */
};

static time_t wall_seconds(void)
{
    return (time_t)(ust_rt_realtime_ns() / UST_NSEC_PER_SEC);
}

/* ---- Messages --------------------------------------------------------- */

static void msg_free(struct ust_stack *stack, struct msg_msg *m)
{
    stack->ipc.msg->pool -= m->len;
    free(m);
}

static void q_link_msg(struct ust_msq *q, struct msg_msg *m)
{
    m->next = NULL;
    m->prev = q->last;
    if (q->last)
        q->last->next = m;
    else
        q->first = m;
    q->last = m;
    q->qnum++;
    q->cbytes += m->len;
}

static void q_unlink_msg(struct ust_msq *q, struct msg_msg *m)
{
    if (m->prev)
        m->prev->next = m->next;
    else
        q->first = m->next;
    if (m->next)
        m->next->prev = m->prev;
    else
        q->last = m->prev;
    q->qnum--;
    q->cbytes -= m->len;
}

/* msg_fits_inqueue(): bytes AND messages bounded by msg_qbytes. */
static bool q_fits(const struct ust_msq *q, size_t len)
{
    return len + q->cbytes <= q->qbytes && 1 + q->qnum <= q->qbytes;
}

/* testmsg(): does m satisfy msgrcv's (msgtyp, MSG_EXCEPT) selection? */
static bool msg_matches(const struct msg_msg *m, long msgtyp, int flags)
{
    if (msgtyp == 0)
        return true;
    if (msgtyp > 0)
        return (flags & MSG_EXCEPT) ? m->mtype != msgtyp : m->mtype == msgtyp;
    return msgtyp == LONG_MIN || m->mtype <= -msgtyp;    /* |LONG_MIN|: any type */
}

/* find_msg(): the message msgrcv takes. msgtyp < 0: the first of the lowest
 * type <= |msgtyp| (Linux's reading). MSG_COPY: the msgtyp-th (from 0). */
static struct msg_msg *q_find(const struct ust_msq *q, long msgtyp, int flags)
{
    if (flags & MSG_COPY) {
        long i = 0;
        for (struct msg_msg *m = q->first; m; m = m->next, i++)
            if (i == msgtyp)
                return m;
        return NULL;
    }
    struct msg_msg *best = NULL;
    for (struct msg_msg *m = q->first; m; m = m->next) {
        if (!msg_matches(m, msgtyp, flags))
            continue;
        if (msgtyp >= 0)
            return m;
        if (!best || m->mtype < best->mtype) {
            best = m;
            if (m->mtype == 1)
                break;
        }
    }
    return best;
}

/* ---- Wakeups ---------------------------------------------------------- */

static void q_wake_files(struct ust_msq *q, uint32_t events)
{
    for (struct msgq_desc *d = q->descs; d; d = d->next)
        ust_waitq_wake(&d->f->wq, events);
}

/* Wakes the first blocked receiver (a = msgtyp, b = flags) that m satisfies;
 * with m NULL, the first that any queued message satisfies. */
static void q_wake_receiver(struct ust_msq *q, const struct msg_msg *m)
{
    for (struct ust_mqw_sleeper *s = q->receivers.first; s; s = s->next) {
        bool ok = m ? msg_matches(m, s->a, (int)s->b) : q_find(q, s->a, (int)s->b) != NULL;
        if (ok) {
            ust_mqw_wake(&q->receivers, s);
            return;
        }
    }
}

/* Wakes the blocked senders (a = message size) whose messages fit, in
 * order, counting the ones already woken; one that does not fit keeps its
 * place without blocking those behind it (Linux's ss_wakeup skips it). */
static void q_wake_senders(struct ust_msq *q)
{
    size_t bytes = q->cbytes, num = q->qnum;
    struct ust_mqw_sleeper *next;
    for (struct ust_mqw_sleeper *s = q->senders.first; s && 1 + num <= q->qbytes; s = next) {
        next = s->next;
        size_t len = (size_t)s->a;
        if (len + bytes > q->qbytes)
            continue;
        bytes += len;
        num++;
        ust_mqw_wake(&q->senders, s);
    }
}

/* ---- Namespace -------------------------------------------------------- */

int ust_msg_init(struct ust_stack *stack)
{
    struct ust_msg_ns *ns = calloc(1, sizeof(*ns));
    if (!ns)
        return -ENOMEM;
    ns->pid = getpid();
    if (stack->cfg.ipc_shared && !(ns->sh = ust_msgsh_new())) {
        free(ns);
        return -ENOMEM;
    }
    stack->ipc.msg = ns;
    return 0;
}

static void q_put(struct ust_stack *stack, struct ust_msq *q)
{
    if (--q->refs > 0)
        return;
    while (q->first) {
        struct msg_msg *m = q->first;
        q_unlink_msg(q, m);
        msg_free(stack, m);
    }
    free(q);
}

/* IPC_RMID: the identifier goes at once, messages are freed, and every
 * blocked caller wakes to find EIDRM (freeary() / expunge_all()). */
static void q_remove(struct ust_stack *stack, struct ust_msq *q)
{
    struct ust_msg_ns *ns = stack->ipc.msg;
    ns->slots[q->id % UST_MSG_IPCMNI] = NULL;
    ns->used--;
    q->removed = true;
    while (q->first) {
        struct msg_msg *m = q->first;
        q_unlink_msg(q, m);
        msg_free(stack, m);
    }
    ust_mqw_wake_all(&q->senders);
    ust_mqw_wake_all(&q->receivers);
    q_wake_files(q, POLLERR | POLLHUP | POLLIN | POLLOUT);
    q_put(stack, q);
}

void ust_msg_fini(struct ust_stack *stack)
{
    struct ust_msg_ns *ns = stack->ipc.msg;
    if (!ns)
        return;
    for (unsigned i = 0; i < ns->cap; i++)
        if (ns->slots[i])
            q_remove(stack, ns->slots[i]);
    ust_msgsh_free(ns->sh);
    free(ns->slots);
    free(ns->seqs);
    free(ns);
    stack->ipc.msg = NULL;
}

static unsigned ns_limit(const struct ust_stack *stack)
{
    return UST_MIN(stack->cfg.msgmni, (unsigned)UST_MSG_IPCMNI);
}

/* A free slot index, growing the table (bounded by msgmni); -ENOSPC. */
static int ns_free_slot(struct ust_stack *stack)
{
    struct ust_msg_ns *ns = stack->ipc.msg;
    unsigned limit = ns_limit(stack);
    if (ns->used >= limit)
        return -ENOSPC;
    for (unsigned i = 0; i < ns->cap; i++)
        if (!ns->slots[i])
            return (int)i;
    unsigned cap = ns->cap ? UST_MIN(ns->cap * 2, limit) : UST_MIN(16u, limit);
    struct ust_msq **slots = realloc(ns->slots, cap * sizeof(*slots));
    if (!slots)
        return -ENOMEM;
    ns->slots = slots;
    unsigned short *seqs = realloc(ns->seqs, cap * sizeof(*seqs));
    if (!seqs)
        return -ENOMEM;
    ns->seqs = seqs;
    for (unsigned i = ns->cap; i < cap; i++) {
        slots[i] = NULL;
        seqs[i] = 0;
    }
    int idx = (int)ns->cap;
    ns->cap = cap;
    return idx;
}

static struct ust_msq *ns_lookup(struct ust_stack *stack, int id)
{
    struct ust_msg_ns *ns = stack->ipc.msg;
    if (id < 0)
        return NULL;
    unsigned idx = (unsigned)id % UST_MSG_IPCMNI;
    if (idx >= ns->cap || !ns->slots[idx] || ns->slots[idx]->id != id)
        return NULL;
    return ns->slots[idx];
}

static struct ust_msq *ns_find_key(struct ust_stack *stack, key_t key)
{
    struct ust_msg_ns *ns = stack->ipc.msg;
    for (unsigned i = 0; i < ns->cap; i++)
        if (ns->slots[i] && ns->slots[i]->key == key)
            return ns->slots[i];
    return NULL;
}

/* ipcperms(): requested rwx bits (octal 4/2) of the caller's class, for
 * the caller's current credentials. No CAP_IPC_OWNER override. */
static bool q_perm(const struct ust_stack *stack, const struct ust_msq *q, unsigned want)
{
    (void)stack;
    return ust_ipc_perm_ok(q->uid, q->cuid, q->gid, q->cgid, q->mode, want);
}

/* ipcctl_obtain_check(): the owner or the creator (no CAP_SYS_ADMIN). */
static bool q_owner(const struct ust_stack *stack, const struct ust_msq *q)
{
    (void)stack;
    uid_t euid = geteuid();
    return euid == q->uid || euid == q->cuid;
}

/* ---- msgget ----------------------------------------------------------- */

static int q_create(struct ust_stack *stack, key_t key, int msgflg)
{
    struct ust_msg_ns *ns = stack->ipc.msg;
    int idx = ns_free_slot(stack);
    if (idx < 0)
        return idx;
    struct ust_msq *q = calloc(1, sizeof(*q));
    if (!q)
        return -ENOMEM;
    q->seq = ns->seqs[idx];
    ns->seqs[idx] = (unsigned short)((ns->seqs[idx] + 1) % UST_MSG_SEQ_MAX);
    q->id = idx + UST_MSG_IPCMNI * (int)q->seq;
    q->refs = 1;
    q->key = key;
    q->uid = q->cuid = geteuid();
    q->gid = q->cgid = getegid();
    q->mode = (mode_t)(msgflg & 0777);
    q->qbytes = stack->cfg.msgmnb;
    q->ctime = wall_seconds();
    ns->slots[idx] = q;
    ns->used++;
    return q->id;
}

static int do_msgget(struct ust_stack *stack, key_t key, int msgflg)
{
    if (key == IPC_PRIVATE)
        return q_create(stack, key, msgflg);
    struct ust_msq *q = ns_find_key(stack, key);
    if (!q)
        return (msgflg & IPC_CREAT) ? q_create(stack, key, msgflg) : -ENOENT;
    if ((msgflg & (IPC_CREAT | IPC_EXCL)) == (IPC_CREAT | IPC_EXCL))
        return -EEXIST;
    unsigned want = (unsigned)(((msgflg >> 6) | (msgflg >> 3) | msgflg) & 7);
    if (!q_perm(stack, q, want))
        return -EACCES;
    return q->id;
}

struct ust_msgsh *ust_msg_sh(struct ust_stack *stack)
{
    return stack->ipc.msg->sh;
}

int ust_msgget(struct ust_stack *stack, key_t key, int msgflg)
{
    ust_rt_enter(stack);
    int r = stack->ipc.msg->sh ? ust_msgsh_get(stack, key, msgflg)
                               : do_msgget(stack, key, msgflg);
    ust_rt_exit(stack);
    return (int)ust_fd_ret(r);
}

/* ---- msgsnd ----------------------------------------------------------- */

struct snd_op {
    struct ust_stack *stack;
    struct ust_msq *q;
    struct msg_msg *m;
};

static long try_send(void *ctx)
{
    struct snd_op *op = ctx;
    struct ust_msq *q = op->q;
    if (q->removed)
        return -EIDRM;
    /* do_msgsnd checks on every pass: IPC_SET may have taken write
     * permission away while the caller slept. */
    if (!q_perm(op->stack, q, 2))
        return -EACCES;
    if (!q_fits(q, op->m->len))
        return -EAGAIN;
    q_link_msg(q, op->m);
    q->lspid = op->stack->ipc.msg->pid;
    q->stime = wall_seconds();
    struct msg_msg *m = op->m;
    op->m = NULL;
    q_wake_receiver(q, m);
    q_wake_files(q, POLLIN | POLLRDNORM);
    return 0;
}

static void pass_send(void *ctx)
{
    struct snd_op *op = ctx;
    if (!op->q->removed)
        q_wake_senders(op->q);
}

static long do_msgsnd(struct ust_stack *stack, int msqid, const void *msgp, size_t msgsz,
                      int msgflg)
{
    long mtype;                 /* ust_msgsnd checked the arguments */
    memcpy(&mtype, msgp, sizeof(mtype));
    struct ust_msq *q = ns_lookup(stack, msqid);
    if (!q)
        return -EINVAL;
    struct ust_msg_ns *ns = stack->ipc.msg;
    if (ns->pool > stack->cfg.msgpool || msgsz > stack->cfg.msgpool - ns->pool)
        return -ENOMEM;
    struct msg_msg *m = malloc(sizeof(*m) + msgsz);
    if (!m)
        return -ENOMEM;
    ns->pool += msgsz;
    m->mtype = mtype;
    m->len = msgsz;
    if (msgsz)
        memcpy(m->text, (const char *)msgp + sizeof(long), msgsz);
    struct snd_op op = { stack, q, m };
    struct ust_rt_deadline dl = { UST_DL_NONE, 0 };
    q->refs++;
    long r = ust_mqw_wait(stack, &q->senders, &dl, false, msgflg & IPC_NOWAIT, -EAGAIN,
                          UST_RT_SIG_EINTR, (long)msgsz, 0, try_send, pass_send, &op);
    if (r >= 0)
        ust_trace_ipc(stack, UST_IPC_WRITE, "msg", msqid, msgsz, mtype, q->qnum);
    if (op.m)
        msg_free(stack, op.m);
    q_put(stack, q);
    return r;
}

/* The argument checks of msgsnd(2), before the queue is looked up, for both
 * backends. */
static long msgsnd_args(const struct ust_stack *stack, int msqid, const void *msgp,
                        size_t msgsz)
{
    if (msgsz > stack->cfg.msgmax || (ssize_t)msgsz < 0 || msqid < 0)
        return -EINVAL;
    if (!msgp)
        return -EFAULT;
    long mtype;
    memcpy(&mtype, msgp, sizeof(mtype));
    return mtype < 1 ? -EINVAL : 0;
}

int ust_msgsnd(struct ust_stack *stack, int msqid, const void *msgp, size_t msgsz, int msgflg)
{
    ust_rt_enter(stack);
    long r = msgsnd_args(stack, msqid, msgp, msgsz);
    if (r == 0)
        r = stack->ipc.msg->sh ? ust_msgsh_snd(stack, msqid, msgp, msgsz, msgflg)
                               : do_msgsnd(stack, msqid, msgp, msgsz, msgflg);
    ust_rt_exit(stack);
    return (int)ust_fd_ret(r);
}

/* ---- msgrcv ----------------------------------------------------------- */

struct rcv_op {
    struct ust_stack *stack;
    struct ust_msq *q;
    void *msgp;
    size_t msgsz;
    long msgtyp;
    int flags;
};

static long try_receive(void *ctx)
{
    struct rcv_op *op = ctx;
    struct ust_msq *q = op->q;
    if (q->removed)
        return -EIDRM;
    if (!q_perm(op->stack, q, 4))      /* do_msgrcv: on every pass, too */
        return -EACCES;
    struct msg_msg *m = q_find(q, op->msgtyp, op->flags);
    if (!m)
        return -EAGAIN;
    if (m->len > op->msgsz && !(op->flags & MSG_NOERROR))
        return -E2BIG;      /* the message stays queued */
    size_t n = UST_MIN(m->len, op->msgsz);
    memcpy(op->msgp, &m->mtype, sizeof(long));
    if (n)
        memcpy((char *)op->msgp + sizeof(long), m->text, n);
    if (op->flags & MSG_COPY)
        return (long)n;
    q_unlink_msg(q, m);
    msg_free(op->stack, m);
    q->lrpid = op->stack->ipc.msg->pid;
    q->rtime = wall_seconds();
    q_wake_senders(q);
    q_wake_files(q, POLLOUT | POLLWRNORM);
    return (long)n;
}

static void pass_receive(void *ctx)
{
    struct rcv_op *op = ctx;
    if (!op->q->removed)
        q_wake_receiver(op->q, NULL);
}

static long do_msgrcv(struct ust_stack *stack, int msqid, void *msgp, size_t msgsz, long msgtyp,
                      int msgflg)
{
    struct ust_msq *q = ns_lookup(stack, msqid);
    if (!q)
        return -EINVAL;
    struct rcv_op op = { stack, q, msgp, msgsz, msgtyp, msgflg };
    struct ust_rt_deadline dl = { UST_DL_NONE, 0 };
    q->refs++;
    long r = ust_mqw_wait(stack, &q->receivers, &dl, false, msgflg & IPC_NOWAIT, -ENOMSG,
                          UST_RT_SIG_EINTR, msgtyp, msgflg, try_receive, pass_receive, &op);
    if (r >= 0) {
        long type;
        memcpy(&type, msgp, sizeof(type));
        ust_trace_ipc(stack, UST_IPC_READ, "msg", msqid, (size_t)r, type, q->qnum);
    }
    q_put(stack, q);
    return r;
}

/* The argument checks of msgrcv(2), for both backends. */
static long msgrcv_args(int msqid, const void *msgp, size_t msgsz, int msgflg)
{
    if (msqid < 0 || (ssize_t)msgsz < 0)
        return -EINVAL;
    if ((msgflg & MSG_COPY) && ((msgflg & MSG_EXCEPT) || !(msgflg & IPC_NOWAIT)))
        return -EINVAL;
    return msgp ? 0 : -EFAULT;
}

ssize_t ust_msgrcv(struct ust_stack *stack, int msqid, void *msgp, size_t msgsz, long msgtyp,
                   int msgflg)
{
    ust_rt_enter(stack);
    long r = msgrcv_args(msqid, msgp, msgsz, msgflg);
    if (r == 0)
        r = stack->ipc.msg->sh ? ust_msgsh_rcv(stack, msqid, msgp, msgsz, msgtyp, msgflg)
                               : do_msgrcv(stack, msqid, msgp, msgsz, msgtyp, msgflg);
    ust_rt_exit(stack);
    return ust_fd_ret(r);
}

/* ---- msgctl ----------------------------------------------------------- */

static void q_stat(const struct ust_msq *q, struct msqid_ds *ds)
{
    memset(ds, 0, sizeof(*ds));
    ds->msg_perm.__key = q->key;
    ds->msg_perm.uid = q->uid;
    ds->msg_perm.gid = q->gid;
    ds->msg_perm.cuid = q->cuid;
    ds->msg_perm.cgid = q->cgid;
    ds->msg_perm.mode = (unsigned short)q->mode;
    ds->msg_perm.__seq = q->seq;
    ds->msg_stime = q->stime;
    ds->msg_rtime = q->rtime;
    ds->msg_ctime = q->ctime;
    ds->__msg_cbytes = q->cbytes;
    ds->msg_qnum = q->qnum;
    ds->msg_qbytes = q->qbytes;
    ds->msg_lspid = q->lspid;
    ds->msg_lrpid = q->lrpid;
}

/* IPC_SET: owner or creator only; msg_qbytes above msgmnb needs
 * CAP_SYS_RESOURCE, which ustack never grants (EPERM). */
static int q_set(struct ust_stack *stack, struct ust_msq *q, const struct msqid_ds *ds)
{
    if (!q_owner(stack, q))
        return -EPERM;
    if (ds->msg_qbytes > stack->cfg.msgmnb)
        return -EPERM;
    /* ipc_update_perm(): an id that maps to no user or group is EINVAL. */
    if (ds->msg_perm.uid == (uid_t)-1 || ds->msg_perm.gid == (gid_t)-1)
        return -EINVAL;
    q->uid = ds->msg_perm.uid;
    q->gid = ds->msg_perm.gid;
    q->mode = (q->mode & ~0777u) | (ds->msg_perm.mode & 0777u);
    q->qbytes = ds->msg_qbytes;
    q->ctime = wall_seconds();
    /* expunge_all(-EAGAIN): blocked receivers check their permission
     * again; ss_wakeup: senders whose messages now fit. */
    ust_mqw_wake_all(&q->receivers);
    q_wake_senders(q);      /* room may have grown */
    q_wake_files(q, POLLOUT | POLLWRNORM);
    return 0;
}

/* The highest slot in use, or 0 (ipc_get_maxidx). */
static int ns_max_index(const struct ust_msg_ns *ns)
{
    for (unsigned i = ns->cap; i-- > 0;)
        if (ns->slots[i])
            return (int)i;
    return 0;
}

/* IPC_INFO: the limits; MSG_INFO: queues, messages and bytes in use in
 * msgpool, msgmap and msgtql (msgctl_info). Returns the highest index. */
static int ns_info(struct ust_stack *stack, int cmd, struct msginfo *mi)
{
    const struct ust_stack_config *c = &stack->cfg;
    struct ust_msg_ns *ns = stack->ipc.msg;
    memset(mi, 0, sizeof(*mi));
    mi->msgmni = (int)ns_limit(stack);
    mi->msgmax = (int)UST_MIN(c->msgmax, (unsigned)INT32_MAX);
    mi->msgmnb = (int)UST_MIN(c->msgmnb, (unsigned)INT32_MAX);
    mi->msgssz = 16;            /* MSGSSZ */
    mi->msgseg = 0xffff;        /* MSGSEG */
    if (cmd == MSG_INFO) {
        size_t msgs = 0, bytes = 0;
        for (unsigned i = 0; i < ns->cap; i++) {
            if (ns->slots[i]) {
                msgs += ns->slots[i]->qnum;
                bytes += ns->slots[i]->cbytes;
            }
        }
        mi->msgpool = (int)ns->used;
        mi->msgmap = (int)UST_MIN(msgs, (size_t)INT32_MAX);
        mi->msgtql = (int)UST_MIN(bytes, (size_t)INT32_MAX);
    } else {
        mi->msgpool = (int)UST_MIN(c->msgpool / 1024, (size_t)INT32_MAX);   /* KiB */
        mi->msgmap = mi->msgmnb;    /* MSGMAP */
        mi->msgtql = mi->msgmnb;    /* MSGTQL */
    }
    return ns_max_index(ns);
}

/* MSG_STAT / MSG_STAT_ANY: IPC_STAT by slot index; returns the identifier. */
static int ns_stat_index(struct ust_stack *stack, int cmd, int index, struct msqid_ds *buf)
{
    struct ust_msg_ns *ns = stack->ipc.msg;
    if (index < 0 || (unsigned)index >= ns->cap || !ns->slots[index])
        return -EINVAL;
    struct ust_msq *q = ns->slots[index];
    if (cmd == MSG_STAT && !q_perm(stack, q, 4))
        return -EACCES;
    q_stat(q, buf);
    return q->id;
}

static int do_msgctl(struct ust_stack *stack, int msqid, int cmd, struct msqid_ds *buf)
{
    switch (cmd) {
    case IPC_STAT:
    case IPC_SET:
    case IPC_RMID:
        break;
    case IPC_INFO:
    case MSG_INFO:
        return buf ? ns_info(stack, cmd, (struct msginfo *)(void *)buf) : -EFAULT;
    case MSG_STAT:
    case MSG_STAT_ANY:
        return buf ? ns_stat_index(stack, cmd, msqid, buf) : -EFAULT;
    default:
        return -EINVAL;
    }
    if (msqid < 0)
        return -EINVAL;
    if (cmd != IPC_RMID && !buf)
        return -EFAULT;
    struct ust_msq *q = ns_lookup(stack, msqid);
    if (!q)
        return -EINVAL;
    switch (cmd) {
    case IPC_STAT:
        if (!q_perm(stack, q, 4))
            return -EACCES;
        q_stat(q, buf);
        return 0;
    case IPC_SET:
        return q_set(stack, q, buf);
    default:
        if (!q_owner(stack, q))
            return -EPERM;
        q_remove(stack, q);
        return 0;
    }
}

int ust_msgctl(struct ust_stack *stack, int msqid, int cmd, struct msqid_ds *buf)
{
    ust_rt_enter(stack);
    int r = stack->ipc.msg->sh ? ust_msgsh_ctl(stack, msqid, cmd, buf)
                               : do_msgctl(stack, msqid, cmd, buf);
    ust_rt_exit(stack);
    return (int)ust_fd_ret(r);
}

/* ---- Pollable descriptors --------------------------------------------- */

static uint32_t msgq_file_poll(struct ust_file *f)
{
    struct msgq_desc *d = f->priv;
    struct ust_msq *q = d->q;
    if (q->removed)
        return POLLERR | POLLHUP;
    uint32_t ev = 0;
    if (q->qnum > 0)
        ev |= POLLIN | POLLRDNORM;
    if (q_fits(q, 1))
        ev |= POLLOUT | POLLWRNORM;
    return ev;
}

static void msgq_file_release(struct ust_file *f)
{
    struct msgq_desc *d = f->priv;
    struct ust_msq *q = d->q;
    if (d->prev)
        d->prev->next = d->next;
    else
        q->descs = d->next;
    if (d->next)
        d->next->prev = d->prev;
    q_put(f->stack, q);
    free(d);
}

static const struct ust_file_ops msgq_file_ops = {
    .name = "sysvmsg",
    .poll = msgq_file_poll,
    .release = msgq_file_release,
};

static int do_msgq_fd(struct ust_stack *stack, int msqid)
{
    struct ust_msq *q = ns_lookup(stack, msqid);
    if (!q)
        return -EINVAL;
    if (!q_perm(stack, q, 4) && !q_perm(stack, q, 2))
        return -EACCES;
    struct msgq_desc *d = calloc(1, sizeof(*d));
    if (!d)
        return -ENOMEM;
    struct ust_file *f = ust_file_new(stack, &msgq_file_ops, d, O_RDWR);
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

int ust_msgq_fd(struct ust_stack *stack, int msqid)
{
    ust_rt_enter(stack);
    int r = stack->ipc.msg->sh ? ust_msgsh_fd(stack, msqid) : do_msgq_fd(stack, msqid);
    ust_rt_exit(stack);
    return (int)ust_fd_ret(r);
}
