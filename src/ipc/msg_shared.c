/* System V message queues shared between processes (cfg.ipc_shared; the
 * design is in docs/IPC-SHARED.md, "System V message queues").
 *
 * A queue is a shared queue object (shm_queue.h, flag UST_SHMQ_SYSV: FIFO
 * order, msgrcv's selection by type, the msg_fits_inqueue room rule with a
 * msg_qbytes that IPC_SET may change) in the stack's IPC directory:
 *   ustack.msg.<index>      the queue itself, index < msgmni;
 *   ustack.msgkey.<key>     a second hard link to it for a key != IPC_PRIVATE;
 *   ustack.msgseq           the directory's sequence counter.
 * The identifier is the kernel's: index + 32768 * sequence (ipc/util.c), so
 * it means the same queue in every process that uses the directory, and a
 * reused index gives a different identifier. The header keeps the
 * identifier, the key, the owner and creator, the mode, msg_qbytes and the
 * times; msgsnd/msgrcv/msgctl by identifier open ustack.msg.<index> and
 * check the identifier in it (a process may learn an identifier from
 * another one). Each stack caches index -> handle.
 *
 * Permissions are the kernel's ipcperms() over the header's uid/cuid/gid/
 * cgid/mode, checked here at each call (no capability override, as the
 * private path); the file itself is readable and writable by everyone.
 * Blocking calls sleep in the queue's futexes with the stack lock released,
 * with or without a stack thread, and check their permission again after
 * every change of the queue (IPC_SET may have taken it away); a signal
 * handler ends the sleep with EINTR, SA_RESTART or not (msgop(2) calls are
 * never restarted). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/util.h"
#include "fd/fd.h"
#include "ipc/ipc.h"
#include "ipc/msg_shared.h"
#include "ipc/shm_queue.h"
#include "runtime/notify.h"
#include "runtime/runtime.h"
#include "stack/stack_impl.h"
#include "stack/trace.h"

#define SH_IPCMNI 32768                         /* Linux's IPCMNI */
#define SH_SEQ_MAX (INT32_MAX / SH_IPCMNI)       /* 65535 */
#define SH_SLOTS_MAX 2048u      /* message slots of one queue (see the docs) */
#define SH_KIND "msg"
#define SH_KEYKIND "msgkey"
#define SH_SEQFILE "ustack.msgseq"

struct msh_ent;

struct msh_desc {               /* ust_msgsh_fd's file->priv */
    struct msh_ent *e;
    struct ust_file *f;
    struct msh_desc *next, *prev;
};

struct msh_ent {                /* one open queue */
    int id;
    unsigned idx;
    struct ust_shmq *q;
    unsigned refs;              /* the cache + calls in progress + descriptors */
    bool cached;
    bool bells;                 /* the stack's doorbell arena is set on q */
    struct msh_desc *descs;
};

struct ust_msgsh {
    struct msh_ent **ents;      /* by index; NULL: not open here */
    unsigned cap;
    _Atomic uint32_t *seq;      /* the directory's counter (mapped on first use) */
};

/* ---- Per-stack state -------------------------------------------------- */

struct ust_msgsh *ust_msgsh_new(void)
{
    return calloc(1, sizeof(struct ust_msgsh));
}

static void ent_put(struct msh_ent *e)
{
    if (--e->refs > 0)
        return;
    ust_shmq_close(e->q);
    free(e);
}

void ust_msgsh_free(struct ust_msgsh *sh)
{
    if (!sh)
        return;
    for (unsigned i = 0; i < sh->cap; i++) {
        struct msh_ent *e = sh->ents[i];
        if (e) {
            e->cached = false;
            ent_put(e);
        }
    }
    free(sh->ents);
    if (sh->seq)
        munmap((void *)sh->seq, 4096);
    free(sh);
}

static struct ust_msgsh *sh_of(struct ust_stack *stack)
{
    return ust_msg_sh(stack);
}

/* Drops e from the cache (it was removed, or another queue took its index). */
static void cache_drop(struct ust_msgsh *sh, struct msh_ent *e)
{
    if (!e->cached)
        return;
    sh->ents[e->idx] = NULL;
    e->cached = false;
    ent_put(e);
}

/* cache_drop for an entry the caller also holds a reference on (which it
 * drops afterwards): the cache's reference goes without freeing e. */
static void cache_forget(struct ust_msgsh *sh, struct msh_ent *e)
{
    if (!e->cached)
        return;
    sh->ents[e->idx] = NULL;
    e->cached = false;
    e->refs--;                  /* > 0: the caller's reference remains */
}

static int cache_put(struct ust_msgsh *sh, struct msh_ent *e)
{
    if (e->idx >= sh->cap) {
        unsigned cap = sh->cap ? sh->cap : 16;
        while (cap <= e->idx)
            cap *= 2;
        struct msh_ent **n = realloc(sh->ents, cap * sizeof(*n));
        if (!n)
            return -ENOMEM;
        for (unsigned i = sh->cap; i < cap; i++)
            n[i] = NULL;
        sh->ents = n;
        sh->cap = cap;
    }
    if (sh->ents[e->idx])
        cache_drop(sh, sh->ents[e->idx]);
    sh->ents[e->idx] = e;
    e->cached = true;
    e->refs++;
    return 0;
}

/* ---- Names, sequence -------------------------------------------------- */

static void idx_name(unsigned idx, char *buf, size_t len)
{
    snprintf(buf, len, "%u", idx);
}

static void key_name(key_t key, char *buf, size_t len)
{
    snprintf(buf, len, "%08x", (unsigned)key);
}

/* The next sequence number of the directory (a counter in ustack.msgseq,
 * made on first use, readable and writable by every user). */
static int next_seq(struct ust_stack *stack, unsigned *seq)
{
    struct ust_msgsh *sh = sh_of(stack);
    if (!sh->seq) {
        char path[4200];
        snprintf(path, sizeof(path), "%s/%s", ust_ipc_dir(stack), SH_SEQFILE);
        int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0666);
        if (fd >= 0)
            fchmod(fd, 0666);           /* the umask applied at creation */
        else if (errno == EEXIST)
            fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
            return -errno;
        struct stat st;
        int r = fstat(fd, &st) < 0 ? -errno : 0;
        if (r == 0 && (!S_ISREG(st.st_mode) ||
                       (st.st_size < 4096 && ftruncate(fd, 4096) < 0)))
            r = S_ISREG(st.st_mode) ? -errno : -EINVAL;
        void *map = MAP_FAILED;
        if (r == 0) {
            map = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
            if (map == MAP_FAILED)
                r = -errno;
        }
        close(fd);
        if (r < 0)
            return r;
        sh->seq = map;
    }
    *seq = atomic_fetch_add_explicit(sh->seq, 1, memory_order_relaxed) % (SH_SEQ_MAX + 1u);
    return 0;
}

/* ---- Opening ---------------------------------------------------------- */

static int sh_path(struct ust_stack *stack, const char *kind, const char *name, char *buf,
                   size_t len)
{
    return ust_shmq_path(ust_ipc_dir(stack), kind, name, buf, len);
}

/* A removed queue whose name was left behind (its remover died before
 * unlinking it, or could not: another user's file in a sticky directory):
 * unlinks the name if it still names that queue and this process may. */
static void unlink_stale(struct ust_stack *stack, const char *kind, const char *name,
                         const struct ust_shmq *q)
{
    char path[4400];
    if (sh_path(stack, kind, name, path, sizeof(path)) < 0)
        return;
    dev_t dev;
    ino_t ino;
    ust_shmq_ident(q, &dev, &ino);
    struct stat st;
    if (stat(path, &st) == 0 && st.st_dev == dev && st.st_ino == ino)
        unlink(path);
}

/* A new entry for the handle q of the queue at index idx (taking q). */
static int ent_new(struct ust_stack *stack, struct ust_shmq *q, unsigned idx,
                   struct msh_ent **out)
{
    struct ust_shmq_sysv *sv = ust_shmq_sysv(q);
    struct msh_ent *e = sv ? calloc(1, sizeof(*e)) : NULL;
    if (!e) {
        ust_shmq_close(q);
        return sv ? -ENOMEM : -EINVAL;  /* not a System V queue */
    }
    struct ust_shmbell_arena *arena;
    int bell;
    if (ust_ipc_bell(stack, &arena, &bell) == 0) {
        ust_shmq_set_bells(q, arena);
        e->bells = true;
    }
    e->q = q;
    e->idx = idx;
    e->refs = 1;
    e->id = -1;
    if (ust_shmq_lock_sysv(q) == 0) {
        e->id = sv->id;
        ust_shmq_unlock_sysv(q, false);
    }
    *out = e;
    return 0;
}

/* Opens the queue at index idx, whatever its identifier. */
static int ent_open_idx(struct ust_stack *stack, unsigned idx, struct msh_ent **out)
{
    char name[16];
    idx_name(idx, name, sizeof(name));
    struct ust_shmq *q;
    int r = ust_shmq_open(ust_ipc_dir(stack), SH_KIND, name, 0, UST_SHMQ_RD | UST_SHMQ_WR,
                          NULL, &q);
    if (r < 0)
        return r == -ENOENT ? -EINVAL : r;
    return ent_new(stack, q, idx, out);
}

/* The queue with index idx as this stack knows it (a reference for the
 * caller), opened if needed; a removed one is dropped and opened again. */
static int ent_by_idx(struct ust_stack *stack, unsigned idx, struct msh_ent **out)
{
    struct ust_msgsh *sh = sh_of(stack);
    if (idx >= SH_IPCMNI)
        return -EINVAL;
    struct msh_ent *e = idx < sh->cap ? sh->ents[idx] : NULL;
    if (e && ust_shmq_removed(e->q)) {
        cache_drop(sh, e);
        e = NULL;
    }
    if (e) {
        e->refs++;
        *out = e;
        return 0;
    }
    int r = ent_open_idx(stack, idx, &e);
    if (r < 0)
        return r;
    if (ust_shmq_removed(e->q) || e->id < 0) {
        char name[16];
        idx_name(idx, name, sizeof(name));
        if (ust_shmq_removed(e->q))
            unlink_stale(stack, SH_KIND, name, e->q);
        ent_put(e);
        return -EINVAL;
    }
    cache_put(sh, e);                   /* without the cache it still works */
    *out = e;
    return 0;
}

/* The queue msqid names (ipc_obtain_object_check): -EINVAL if none. */
static int ent_by_id(struct ust_stack *stack, int msqid, struct msh_ent **out)
{
    if (msqid < 0)
        return -EINVAL;
    struct msh_ent *e;
    int r = ent_by_idx(stack, (unsigned)msqid % SH_IPCMNI, &e);
    if (r < 0)
        return r;
    if (e->id != msqid) {
        ent_put(e);
        return -EINVAL;
    }
    *out = e;
    return 0;
}

/* ---- Permissions ------------------------------------------------------ */

/* ipcperms(): want 4 (read) / 2 (write) against the header, now. */
static int ent_perm(struct msh_ent *e, unsigned want)
{
    int r = ust_shmq_lock_sysv(e->q);
    if (r < 0)
        return r;
    const struct ust_shmq_sysv *sv = ust_shmq_sysv(e->q);
    bool ok = ust_ipc_perm_ok(sv->uid, sv->cuid, sv->gid, sv->cgid, sv->mode, want);
    ust_shmq_unlock_sysv(e->q, false);
    return ok ? 0 : -EACCES;
}

/* ---- msgget ------------------------------------------------------------ */

struct idx_scan {
    unsigned char *used;        /* a bit per index < limit */
    unsigned limit, count, max_idx;
};

static int scan_cb(void *arg, const char *kind, const char *name)
{
    struct idx_scan *s = arg;
    if (strcmp(kind, SH_KIND) != 0)
        return 0;
    char *end;
    unsigned long i = strtoul(name, &end, 10);
    if (*end || end == name || i >= SH_IPCMNI)
        return 0;
    s->count++;
    if (i > s->max_idx)
        s->max_idx = (unsigned)i;
    if (s->used && i < s->limit)
        s->used[i / 8] |= (unsigned char)(1u << (i % 8));
    return 0;
}

static unsigned sh_limit(const struct ust_stack *stack)
{
    return UST_MIN(stack->cfg.msgmni, (unsigned)SH_IPCMNI);
}

static void sh_attr(const struct ust_stack *stack, key_t key, int msgflg, int id,
                    struct ust_shmq_sysv *sv, struct ust_shmq_attr *a)
{
    const struct ust_stack_config *c = &stack->cfg;
    memset(sv, 0, sizeof(*sv));
    sv->id = id;
    sv->key = (int32_t)key;
    sv->uid = sv->cuid = geteuid();
    sv->gid = sv->cgid = getegid();
    sv->mode = (uint32_t)msgflg & 0777u;
    sv->qbytes = c->msgmnb;
    sv->ctime = (int64_t)(ust_rt_realtime_ns() / UST_NSEC_PER_SEC);
    memset(a, 0, sizeof(*a));
    a->msgsize = c->msgmax ? (uint32_t)UST_MIN(c->msgmax, UST_SHMQ_MSGSIZE_MAX) : 1;
    size_t stride = a->msgsize + 32;
    uint64_t fit = UST_SHMQ_BYTES_MAX / stride;
    a->maxmsg = (uint32_t)UST_MIN(UST_MIN((uint64_t)UST_MAX(c->msgmnb, 1u), SH_SLOTS_MAX), fit);
    a->flags = UST_SHMQ_SYSV;
    a->mode = (mode_t)sv->mode;
    a->sysv = sv;
}

/* newque(): a new queue at the lowest free index below msgmni, with a new
 * sequence number. Returns the open entry (a reference) or -ENOSPC. */
static int q_create(struct ust_stack *stack, key_t key, int msgflg, struct msh_ent **out)
{
    unsigned limit = sh_limit(stack);
    struct idx_scan s = { .limit = limit };
    s.used = calloc(limit / 8 + 1, 1);
    if (!s.used)
        return -ENOMEM;
    int r = ust_shmq_list(ust_ipc_dir(stack), scan_cb, &s);
    for (unsigned idx = 0; r == 0 && idx < limit; idx++) {
        if (s.used[idx / 8] & (1u << (idx % 8)))
            continue;
        unsigned seq;
        r = next_seq(stack, &seq);
        if (r < 0)
            break;
        struct ust_shmq_sysv sv;
        struct ust_shmq_attr a;
        sh_attr(stack, key, msgflg, (int)(idx + SH_IPCMNI * seq), &sv, &a);
        char name[16];
        idx_name(idx, name, sizeof(name));
        struct ust_shmq *q;
        r = ust_shmq_open(ust_ipc_dir(stack), SH_KIND, name, O_CREAT | O_EXCL,
                          UST_SHMQ_RD | UST_SHMQ_WR, &a, &q);
        if (r == -EEXIST) {             /* another process took it meanwhile */
            r = 0;
            continue;
        }
        if (r < 0)
            break;
        free(s.used);
        r = ent_new(stack, q, idx, out);
        if (r == 0)
            cache_put(sh_of(stack), *out);
        return r;
    }
    free(s.used);
    return r < 0 ? r : -ENOSPC;
}

/* Gives e the key's name; -EEXIST when another queue has it. */
static int key_link(struct ust_stack *stack, struct msh_ent *e, key_t key)
{
    char iname[16], kname[16], ipath[4400], kpath[4400];
    idx_name(e->idx, iname, sizeof(iname));
    key_name(key, kname, sizeof(kname));
    int r = sh_path(stack, SH_KIND, iname, ipath, sizeof(ipath));
    if (r == 0)
        r = sh_path(stack, SH_KEYKIND, kname, kpath, sizeof(kpath));
    if (r == 0 && link(ipath, kpath) < 0)
        r = -errno;
    return r;
}

/* Unlinks the key's name if it still names e's queue. */
static void key_unlink(struct ust_stack *stack, struct msh_ent *e, key_t key)
{
    char iname[16], kname[16], ipath[4400], kpath[4400];
    idx_name(e->idx, iname, sizeof(iname));
    key_name(key, kname, sizeof(kname));
    if (sh_path(stack, SH_KIND, iname, ipath, sizeof(ipath)) < 0 ||
        sh_path(stack, SH_KEYKIND, kname, kpath, sizeof(kpath)) < 0)
        return;
    struct stat a, b;
    if (stat(kpath, &b) < 0)
        return;
    if (stat(ipath, &a) == 0 && (a.st_dev != b.st_dev || a.st_ino != b.st_ino))
        return;                         /* the key names another queue now */
    unlink(kpath);
}

/* The queue the key names, or -ENOENT. A removed queue whose key name was
 * left behind (its remover died in between) counts as none. */
static int ent_by_key(struct ust_stack *stack, key_t key, struct msh_ent **out)
{
    char kname[16];
    key_name(key, kname, sizeof(kname));
    struct ust_shmq *q;
    int r = ust_shmq_open(ust_ipc_dir(stack), SH_KEYKIND, kname, 0, 0, NULL, &q);
    if (r < 0)
        return r;
    int id = -1;
    struct ust_shmq_sysv *sv = ust_shmq_sysv(q);
    if (sv && ust_shmq_lock_sysv(q) == 0) {
        id = sv->id;
        ust_shmq_unlock_sysv(q, false);
    }
    bool removed = ust_shmq_removed(q);
    if (removed && id >= 0) {
        char iname[16];
        idx_name((unsigned)id % SH_IPCMNI, iname, sizeof(iname));
        unlink_stale(stack, SH_KEYKIND, kname, q);
        unlink_stale(stack, SH_KIND, iname, q);
    }
    ust_shmq_close(q);
    if (id < 0)
        return -EINVAL;
    if (removed)
        return -ENOENT;
    r = ent_by_id(stack, id, out);
    return r == -EINVAL ? -ENOENT : r;
}

int ust_msgsh_get(struct ust_stack *stack, key_t key, int msgflg)
{
    struct msh_ent *e;
    int r;
    if (key == IPC_PRIVATE) {
        r = q_create(stack, key, msgflg, &e);
        if (r < 0)
            return r;
        int id = e->id;
        ent_put(e);
        return id;
    }
    for (int tries = 0; tries < 8; tries++) {
        r = ent_by_key(stack, key, &e);
        if (r == 0) {
            if ((msgflg & (IPC_CREAT | IPC_EXCL)) == (IPC_CREAT | IPC_EXCL)) {
                ent_put(e);
                return -EEXIST;
            }
            unsigned want = (unsigned)(((msgflg >> 6) | (msgflg >> 3) | msgflg) & 7);
            r = ent_perm(e, want);
            int id = e->id;
            ent_put(e);
            return r < 0 ? r : id;
        }
        if (r != -ENOENT)
            return r;
        if (!(msgflg & IPC_CREAT))
            return -ENOENT;
        r = q_create(stack, key, msgflg, &e);
        if (r < 0)
            return r;
        r = key_link(stack, e, key);
        if (r == 0) {
            int id = e->id;
            ent_put(e);
            return id;
        }
        /* Another process made a queue with this key first: ours goes,
         * theirs is the one (or EEXIST for IPC_EXCL). */
        ust_shmq_remove(e->q);
        cache_forget(sh_of(stack), e);
        ent_put(e);
        if (r != -EEXIST)
            return r;
    }
    return -ENOSPC;     /* the key's name is held by a removed queue we may not unlink */
}

/* ---- Blocking --------------------------------------------------------- */

static void wake_descs(struct msh_ent *e, uint32_t events)
{
    for (struct msh_desc *d = e->descs; d; d = d->next)
        ust_waitq_wake(&d->f->wq, events);
}

/* The queued bytes of the queues this stack has open (cfg.msgpool). */
static uint64_t sh_pool(struct ust_msgsh *sh)
{
    uint64_t bytes = 0;
    for (unsigned i = 0; i < sh->cap; i++) {
        if (sh->ents[i] && !ust_shmq_removed(sh->ents[i]->q)) {
            uint32_t n;
            uint64_t b;
            ust_shmq_load(sh->ents[i]->q, &n, &b);
            bytes += b;
        }
    }
    return bytes;
}

struct sh_op {
    struct msh_ent *e;
    bool send;
    /* send */
    const void *text;
    size_t len;
    int64_t type;
    /* receive */
    void *buf;
    size_t cap;
    int64_t *key;
    struct ust_shmq_sel sel;
    unsigned rflags;
};

static long op_once(struct sh_op *op, unsigned flags, const struct timespec *deadline)
{
    if (op->send)
        return ust_shmq_send(op->e->q, op->text, op->len, op->type, flags, deadline);
    return ust_shmq_receive(op->e->q, op->buf, op->cap, op->key, &op->sel, op->rflags | flags,
                            deadline);
}

/* Runs op, sleeping while it would block: with the stack lock released,
 * on the queue's event word (ust_shmq_wait), waking at each change of the
 * queue (IPC_SET included) or after a slice to check the caller's
 * permission (want) again. It needs no stack thread: another process or
 * thread wakes it through the queue; but when the stack thread that ran
 * when it began stops (ust_stack_stop), it ends as in the private path.
 * would_block: the result with IPC_NOWAIT, or then. A signal handler ends the wait with EINTR even with
 * SA_RESTART (msgop(2) calls are never restarted, signal(7)). */
static long op_run(struct ust_stack *stack, struct sh_op *op, bool nowait, unsigned want,
                   long would_block)
{
    bool asleep = false, had_thread = false;
    long r;
    for (;;) {
        uint32_t snap = ust_shmq_snapshot(op->e->q, op->send);
        r = op_once(op, UST_SHMQ_NONBLOCK, NULL);
        if (r != -EAGAIN)
            break;
        if (nowait) {
            r = would_block;
            break;
        }
        if (asleep && (r = ent_perm(op->e, want)) < 0)
            break;                      /* IPC_SET took it away meanwhile */
        if (asleep && had_thread && !ust_rt_can_block(stack)) {
            r = would_block;            /* ust_stack_stop releases it, as the private path */
            break;
        }
        if (!asleep) {
            ust_rt_ext_sleep_begin(stack);
            asleep = true;
            had_thread = ust_rt_can_block(stack);
        }
        ust_rt_unlock(stack);
        r = ust_shmq_wait(op->e->q, op->send, snap, 0, NULL);
        ust_rt_lock(stack);
        if (r < 0)
            break;
    }
    if (asleep)
        ust_rt_ext_sleep_end(stack);
    return r;
}

/* ---- msgsnd / msgrcv -------------------------------------------------- */

long ust_msgsh_snd(struct ust_stack *stack, int msqid, const void *msgp, size_t msgsz,
                   int msgflg)
{
    long mtype;                 /* msg_sysv.c checked the arguments */
    memcpy(&mtype, msgp, sizeof(mtype));
    struct msh_ent *e;
    long r = ent_by_id(stack, msqid, &e);
    if (r < 0)
        return r;
    r = ent_perm(e, 2);
    struct ust_msgsh *sh = sh_of(stack);
    if (r == 0) {
        uint64_t pool = sh_pool(sh);
        if (pool > stack->cfg.msgpool || msgsz > stack->cfg.msgpool - pool)
            r = -ENOMEM;
    }
    if (r == 0) {
        struct sh_op op = { .e = e, .send = true, .text = (const char *)msgp + sizeof(long),
                            .len = msgsz, .type = mtype };
        r = op_run(stack, &op, msgflg & IPC_NOWAIT, 2, -EAGAIN);
        if (r == -EMSGSIZE)
            r = -EINVAL;                /* longer than the queue's msgmax */
    }
    if (r == 0) {
        wake_descs(e, POLLIN | POLLRDNORM);
        uint32_t n;
        uint64_t b;
        ust_shmq_load(e->q, &n, &b);
        ust_trace_ipc(stack, UST_IPC_WRITE, "msg", msqid, msgsz, mtype, n);
    } else if (r == -EIDRM) {
        cache_forget(sh, e);
    }
    ent_put(e);
    return r;
}

/* msgtyp and MSG_EXCEPT as a selector (msgrcv(2), Linux's reading). */
static struct ust_shmq_sel sel_of(long msgtyp, int msgflg)
{
    struct ust_shmq_sel s = { .how = UST_SHMQ_SEL_FIRST };
    if (msgflg & MSG_COPY) {
        s.how = UST_SHMQ_SEL_NTH;
        s.type = msgtyp;
    } else if (msgtyp > 0) {
        s.how = (msgflg & MSG_EXCEPT) ? UST_SHMQ_SEL_NE : UST_SHMQ_SEL_EQ;
        s.type = msgtyp;
    } else if (msgtyp < 0) {
        s.how = UST_SHMQ_SEL_LE;
        s.type = msgtyp == LONG_MIN ? INT64_MAX : -(int64_t)msgtyp;
    }
    return s;
}

long ust_msgsh_rcv(struct ust_stack *stack, int msqid, void *msgp, size_t msgsz, long msgtyp,
                   int msgflg)
{
    struct msh_ent *e;          /* msg_sysv.c checked the arguments */
    long r = ent_by_id(stack, msqid, &e);
    if (r < 0)
        return r;
    r = ent_perm(e, 4);
    int64_t type = 0;
    if (r == 0) {
        struct sh_op op = { .e = e, .buf = (char *)msgp + sizeof(long), .cap = msgsz,
                            .key = &type, .sel = sel_of(msgtyp, msgflg),
                            .rflags = UST_SHMQ_SYSV_LEN };
        if (msgflg & MSG_NOERROR)
            op.rflags |= UST_SHMQ_NOERROR;
        if (msgflg & MSG_COPY)
            op.rflags |= UST_SHMQ_PEEK;
        r = op_run(stack, &op, msgflg & IPC_NOWAIT, 4, -ENOMSG);
    }
    if (r >= 0) {
        long t = (long)type;
        memcpy(msgp, &t, sizeof(t));
        if (!(msgflg & MSG_COPY))
            wake_descs(e, POLLOUT | POLLWRNORM);
        uint32_t n;
        uint64_t b;
        ust_shmq_load(e->q, &n, &b);
        ust_trace_ipc(stack, UST_IPC_READ, "msg", msqid, (size_t)r, t, n);
    } else if (r == -EIDRM) {
        cache_forget(sh_of(stack), e);
    }
    ent_put(e);
    return r;
}

/* ---- msgctl ----------------------------------------------------------- */

/* IPC_STAT of e into ds (permission checked by the caller). */
static int ent_stat(struct msh_ent *e, struct msqid_ds *ds)
{
    struct ust_shmq_info in;
    int r = ust_shmq_getattr(e->q, &in);
    if (r < 0)
        return r;
    r = ust_shmq_lock_sysv(e->q);
    if (r < 0)
        return r;
    const struct ust_shmq_sysv *sv = ust_shmq_sysv(e->q);
    memset(ds, 0, sizeof(*ds));
    ds->msg_perm.__key = sv->key;
    ds->msg_perm.uid = sv->uid;
    ds->msg_perm.gid = sv->gid;
    ds->msg_perm.cuid = sv->cuid;
    ds->msg_perm.cgid = sv->cgid;
    ds->msg_perm.mode = (unsigned short)sv->mode;
    ds->msg_perm.__seq = (unsigned short)((unsigned)sv->id / SH_IPCMNI);
    ds->msg_stime = (time_t)sv->stime;
    ds->msg_rtime = (time_t)sv->rtime;
    ds->msg_ctime = (time_t)sv->ctime;
    ds->msg_qbytes = __atomic_load_n(&sv->qbytes, __ATOMIC_RELAXED);
    ust_shmq_unlock_sysv(e->q, false);
    ds->__msg_cbytes = in.bytes;
    ds->msg_qnum = in.curmsgs;
    ds->msg_lspid = in.last_send_pid;
    ds->msg_lrpid = in.last_recv_pid;
    return 0;
}

/* ipcctl_obtain_check(): the owner or the creator (no CAP_SYS_ADMIN). */
static bool sv_owner(const struct ust_shmq_sysv *sv)
{
    uid_t euid = geteuid();
    return euid == sv->uid || euid == sv->cuid;
}

/* IPC_SET under the queue's lock; every sleeper wakes to check again (its
 * permission, the new msg_qbytes). */
static int ent_set(struct ust_stack *stack, struct msh_ent *e, const struct msqid_ds *ds)
{
    int r = ust_shmq_lock_sysv(e->q);
    if (r < 0)
        return r;
    struct ust_shmq_sysv *sv = ust_shmq_sysv(e->q);
    if (!sv_owner(sv))
        r = -EPERM;
    else if (ds->msg_qbytes > stack->cfg.msgmnb)
        r = -EPERM;                     /* needs CAP_SYS_RESOURCE */
    else if (ds->msg_perm.uid == (uid_t)-1 || ds->msg_perm.gid == (gid_t)-1)
        r = -EINVAL;
    if (r == 0) {
        sv->uid = ds->msg_perm.uid;
        sv->gid = ds->msg_perm.gid;
        sv->mode = (sv->mode & ~0777u) | (ds->msg_perm.mode & 0777u);
        __atomic_store_n(&sv->qbytes, (uint64_t)ds->msg_qbytes, __ATOMIC_RELAXED);
        sv->ctime = (int64_t)(ust_rt_realtime_ns() / UST_NSEC_PER_SEC);
    }
    ust_shmq_unlock_sysv(e->q, r == 0);
    if (r == 0)
        wake_descs(e, POLLOUT | POLLWRNORM);
    return r;
}

/* IPC_RMID: the key's name, then the queue (marked removed: every waiter
 * gets EIDRM; its index name goes). */
static int ent_rmid(struct ust_stack *stack, struct msh_ent *e)
{
    int r = ust_shmq_lock_sysv(e->q);
    if (r < 0)
        return r;
    struct ust_shmq_sysv *sv = ust_shmq_sysv(e->q);
    bool owner = sv_owner(sv);
    key_t key = (key_t)sv->key;
    ust_shmq_unlock_sysv(e->q, false);
    if (!owner)
        return -EPERM;
    if (key != IPC_PRIVATE)
        key_unlink(stack, e, key);
    r = ust_shmq_remove(e->q);
    if (r < 0)
        return r;
    wake_descs(e, POLLERR | POLLHUP | POLLIN | POLLOUT);
    cache_forget(sh_of(stack), e);     /* the caller still holds e */
    return 0;
}

struct info_scan {
    struct ust_stack *stack;
    unsigned count, max_idx;
    uint64_t msgs, bytes;
};

static int info_cb(void *arg, const char *kind, const char *name)
{
    struct info_scan *s = arg;
    struct idx_scan is = { 0 };
    scan_cb(&is, kind, name);
    if (is.count == 0)
        return 0;
    s->count++;
    if (is.max_idx > s->max_idx)
        s->max_idx = is.max_idx;
    struct ust_shmq_stat st;
    if (ust_shmq_inspect(ust_ipc_dir(s->stack), kind, name, &st) == 0) {
        s->msgs += st.info.curmsgs;
        s->bytes += st.info.bytes;
    }
    return 0;
}

/* IPC_INFO: the limits; MSG_INFO: the queues, messages and bytes in the
 * directory. Returns the highest index in use. */
static int sh_info(struct ust_stack *stack, int cmd, struct msginfo *mi)
{
    const struct ust_stack_config *c = &stack->cfg;
    struct info_scan s = { .stack = stack };
    int r = ust_shmq_list(ust_ipc_dir(stack), info_cb, &s);
    if (r < 0 && r != -ENOENT)
        return r;
    memset(mi, 0, sizeof(*mi));
    mi->msgmni = (int)sh_limit(stack);
    mi->msgmax = (int)UST_MIN(c->msgmax, (unsigned)INT32_MAX);
    mi->msgmnb = (int)UST_MIN(c->msgmnb, (unsigned)INT32_MAX);
    mi->msgssz = 16;
    mi->msgseg = 0xffff;
    if (cmd == MSG_INFO) {
        mi->msgpool = (int)s.count;
        mi->msgmap = (int)UST_MIN(s.msgs, (uint64_t)INT32_MAX);
        mi->msgtql = (int)UST_MIN(s.bytes, (uint64_t)INT32_MAX);
    } else {
        mi->msgpool = (int)UST_MIN(c->msgpool / 1024, (size_t)INT32_MAX);
        mi->msgmap = mi->msgmnb;
        mi->msgtql = mi->msgmnb;
    }
    return (int)s.max_idx;
}

int ust_msgsh_ctl(struct ust_stack *stack, int msqid, int cmd, struct msqid_ds *buf)
{
    struct msh_ent *e;
    int r;
    switch (cmd) {
    case IPC_STAT:
    case IPC_SET:
    case IPC_RMID:
        break;
    case IPC_INFO:
    case MSG_INFO:
        return buf ? sh_info(stack, cmd, (struct msginfo *)(void *)buf) : -EFAULT;
    case MSG_STAT:
    case MSG_STAT_ANY:
        if (!buf)
            return -EFAULT;
        if (msqid < 0)
            return -EINVAL;
        r = ent_by_idx(stack, (unsigned)msqid, &e);
        if (r < 0)
            return r;
        r = cmd == MSG_STAT ? ent_perm(e, 4) : 0;
        if (r == 0)
            r = ent_stat(e, buf);
        if (r == 0)
            r = e->id;
        ent_put(e);
        return r;
    default:
        return -EINVAL;
    }
    if (msqid < 0)
        return -EINVAL;
    if (cmd != IPC_RMID && !buf)
        return -EFAULT;
    r = ent_by_id(stack, msqid, &e);
    if (r < 0)
        return r;
    switch (cmd) {
    case IPC_STAT:
        r = ent_perm(e, 4);
        if (r == 0)
            r = ent_stat(e, buf);
        break;
    case IPC_SET:
        r = ent_set(stack, e, buf);
        break;
    default:
        r = ent_rmid(stack, e);
        break;
    }
    ent_put(e);
    return r;
}

/* ---- Pollable descriptors --------------------------------------------- */

static uint32_t desc_poll(struct ust_file *f)
{
    struct msh_desc *d = f->priv;
    struct ust_shmq *q = d->e->q;
    if (ust_shmq_removed(q))
        return POLLERR | POLLHUP;
    uint32_t ev = 0;
    if (ust_shmq_readable(q))
        ev |= POLLIN | POLLRDNORM;
    if (ust_shmq_writable(q))
        ev |= POLLOUT | POLLWRNORM;
    return ev;
}

/* The handle rings the stack's arena from the start (ent_new; setting it
 * again here would race with another thread's send reading it), unless the
 * arena could not be made then. */
static int desc_watch(struct ust_file *f, struct ust_shmbell_arena *arena, int bell, bool on)
{
    struct msh_desc *d = f->priv;
    if (!d->e->bells) {
        ust_shmq_set_bells(d->e->q, arena);
        d->e->bells = true;
    }
    return ust_shmq_watch(d->e->q, bell, on);
}

static void desc_release(struct ust_file *f)
{
    struct msh_desc *d = f->priv;
    struct msh_ent *e = d->e;
    if (d->prev)
        d->prev->next = d->next;
    else
        e->descs = d->next;
    if (d->next)
        d->next->prev = d->prev;
    ent_put(e);
    free(d);
}

static const struct ust_file_ops desc_ops = {
    .name = "sysvmsg",
    .poll = desc_poll,
    .release = desc_release,
    .shm_watch = desc_watch,
};

int ust_msgsh_fd(struct ust_stack *stack, int msqid)
{
    struct msh_ent *e;
    int r = ent_by_id(stack, msqid, &e);
    if (r < 0)
        return r;
    if (ent_perm(e, 4) < 0 && ent_perm(e, 2) < 0) {
        ent_put(e);
        return -EACCES;
    }
    struct msh_desc *d = calloc(1, sizeof(*d));
    struct ust_file *f = d ? ust_file_new(stack, &desc_ops, d, O_RDWR) : NULL;
    if (!f) {
        free(d);
        ent_put(e);
        return -ENOMEM;
    }
    d->e = e;                           /* the caller's reference is the file's */
    d->f = f;
    d->next = e->descs;
    if (d->next)
        d->next->prev = d;
    e->descs = d;
    int fd = ust_fd_install(stack, f, FD_CLOEXEC);
    if (fd < 0)
        ust_file_put(f);
    return fd;
}
