/* Crash-safe message queues in shared memory (shm_queue.h), on the shared
 * object machinery of shm_obj.h (creation, lock, journal, holders, waiting,
 * doorbells).
 *
 * Layout of an object file (docs/IPC-SHARED.md has the full argument):
 *   struct shmq_hdr   the common header (struct ust_shmo_hdr: identity,
 *                     robust mutex, redo journal, event words, holders,
 *                     watchers), then the queue's immutable geometry, its list
 *                     heads and counters;
 *   maxmsg slots      struct shmq_slot + msgsize bytes each.
 * Queued messages form one singly linked list in delivery order (key
 * descending then arrival for UST_SHMQ_PRIO, arrival only otherwise); free
 * slots form a second list, plus a watermark of never-used slots so that
 * creating a large queue touches no slot page.
 *
 * Every change of a word that another operation may read (list links, heads,
 * counters) goes through the journal (ust_shmo_jset / ust_shmo_jcommit).
 * Message text is written into a free slot before the commit, where no
 * reader looks. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ipc/shm_fifo.h"
#include "ipc/shm_futex.h"
#include "ipc/shm_obj.h"
#include "ipc/shm_queue.h"

#define SHMQ_NIL        UST_SHMO_NIL

_Static_assert(UST_SHMQ_RD == UST_SHMO_RD && UST_SHMQ_WR == UST_SHMO_WR, "access bits");
_Static_assert(UST_SHMQ_REALTIME == UST_SHMO_REALTIME, "realtime flag");
_Static_assert(UST_SHMQ_HOLDERS == UST_SHMO_HOLDERS, "holder table");
_Static_assert(UST_SHMQ_NAME_MAX == UST_SHMO_NAME_MAX && UST_SHMQ_KIND_MAX == UST_SHMO_KIND_MAX,
               "name limits");

struct shmq_hdr {
    struct ust_shmo_hdr o;              /* common: identity, lock, journal, holders */
    /* Geometry: written once before the object gets its name. */
    uint32_t flags, maxmsg, msgsize, stride;
    uint64_t max_bytes, slots_off;

    /* Under the lock, changed only through the journal. */
    alignas(64) _Atomic uint32_t head, tail;    /* queued messages, in delivery order */
    _Atomic uint32_t free_head;         /* recycled slots */
    _Atomic uint32_t fresh;             /* slots [fresh, maxmsg) never used */
    _Atomic uint32_t count, bytes;
    /* Single-word facts, stored directly. */
    _Atomic int32_t last_send_pid, last_recv_pid;

    /* POSIX mq_notify (ust_shmq_notify_*), under the lock: one registration,
     * nt_pid is its commit word (stored last, cleared first). */
    alignas(64) _Atomic uint32_t nt_pid;
    int32_t nt_how, nt_signo;
    uint64_t nt_start, nt_value, nt_tag, nt_token;
    /* Receivers blocked in ust_shmq_wait, per holder entry (rwait[i] counts
     * only while holder i is process rwait_pid[i], alive). */
    _Atomic uint32_t rwait_pid[UST_SHMO_HOLDERS];
    _Atomic uint32_t rwait[UST_SHMO_HOLDERS];
    /* UST_SHMQ_SYSV: the System V state (msg_shared.c), under the lock. */
    alignas(64) struct ust_shmq_sysv sv;
};

struct shmq_slot {
    _Atomic uint32_t next;              /* queue or free list link */
    uint32_t len;
    int64_t key;
    unsigned char data[];
};

struct ust_shmq {
    struct ust_shmo o;                  /* first: the common handle */
    struct shmq_hdr *h;
    /* Copies of the geometry, checked at open: never re-read from the file. */
    uint32_t maxmsg, msgsize, stride, flags;
    uint64_t max_bytes, slots_off;
};

/* ---- Names ------------------------------------------------------------- */

int ust_shmq_path(const char *dir, const char *kind, const char *name, char *buf, size_t len)
{
    return ust_shmo_path(dir, kind, name, buf, len);
}

int ust_shmq_list(const char *dir, int (*cb)(void *arg, const char *kind, const char *name),
                  void *arg)
{
    return ust_shmo_list(dir, cb, arg);
}

int ust_shmq_unlink(const char *dir, const char *kind, const char *name)
{
    return ust_shmo_unlink(dir, kind, name);
}

/* ---- Slots ------------------------------------------------------------- */

static struct shmq_slot *slot_at(const struct ust_shmq *q, uint32_t i)
{
    return (struct shmq_slot *)(q->o.base + q->slots_off + (size_t)i * q->stride);
}

static uint32_t ld(const _Atomic uint32_t *w)
{
    return atomic_load_explicit(w, memory_order_relaxed);
}

static void jset(const struct ust_shmq *q, struct ust_shmo_journal *j, _Atomic uint32_t *w,
                 uint32_t val)
{
    ust_shmo_jset(&q->o, j, w, val);
}

/* Only a process writing the file behind our back can break these; they
 * keep every index we follow inside the mapping. */
static bool shmq_sane(const struct ust_shmo *o)
{
    const struct ust_shmq *q = (const struct ust_shmq *)o;
    const struct shmq_hdr *h = q->h;
    uint32_t head = ld(&h->head), tail = ld(&h->tail), fh = ld(&h->free_head);
    return (head < q->maxmsg || head == SHMQ_NIL) && (tail < q->maxmsg || tail == SHMQ_NIL) &&
           (head == SHMQ_NIL) == (tail == SHMQ_NIL) && (fh < q->maxmsg || fh == SHMQ_NIL) &&
           ld(&h->fresh) <= q->maxmsg && ld(&h->count) <= q->maxmsg;
}

static int shmq_lock(struct ust_shmq *q)
{
    return ust_shmo_lock(&q->o);
}

static void shmq_unlock(struct ust_shmq *q)
{
    ust_shmo_unlock(&q->o);
}

/* ---- Create and open --------------------------------------------------- */

static size_t slot_stride(uint32_t msgsize)
{
    return ust_shmo_align(sizeof(struct shmq_slot) + msgsize, 16);
}

static size_t slots_offset(void)
{
    return ust_shmo_align(sizeof(struct shmq_hdr), 64);
}

static int attr_check(const struct ust_shmq_attr *a)
{
    if (!a || a->maxmsg == 0 || a->maxmsg > UST_SHMQ_MAXMSG_MAX || a->msgsize == 0 ||
        a->msgsize > UST_SHMQ_MSGSIZE_MAX ||
        (a->flags & ~(UST_SHMQ_PRIO | UST_SHMQ_AUTOREMOVE | UST_SHMQ_SYSV)) ||
        (a->mode & ~07777u) || (!(a->flags & UST_SHMQ_SYSV) != !a->sysv))
        return -EINVAL;
    if ((uint64_t)slot_stride(a->msgsize) * a->maxmsg > UST_SHMQ_BYTES_MAX ||
        a->max_bytes > UST_SHMQ_BYTES_MAX)
        return -ENOMEM;
    return 0;
}

/* The queue's part of the header (the common part is written already). */
static void shmq_init(void *base, const void *arg)
{
    struct shmq_hdr *h = base;
    const struct ust_shmq_attr *a = arg;
    h->flags = a->flags;
    h->maxmsg = a->maxmsg;
    h->msgsize = a->msgsize;
    h->stride = (uint32_t)slot_stride(a->msgsize);
    h->max_bytes = a->max_bytes;
    h->slots_off = slots_offset();
    h->head = SHMQ_NIL;
    h->tail = SHMQ_NIL;
    h->free_head = SHMQ_NIL;
    if (a->flags & UST_SHMQ_SYSV)
        h->sv = *a->sysv;
}

/* Checks the queue's geometry against the file and caches it. */
static int shmq_check(struct ust_shmo *o)
{
    struct ust_shmq *q = (struct ust_shmq *)o;
    const struct shmq_hdr *h = (const struct shmq_hdr *)o->base;
    if (h->maxmsg == 0 || h->maxmsg > UST_SHMQ_MAXMSG_MAX || h->msgsize == 0 ||
        h->msgsize > UST_SHMQ_MSGSIZE_MAX ||
        h->stride < sizeof(struct shmq_slot) + h->msgsize || h->stride % 16 != 0 ||
        h->slots_off != slots_offset() ||
        h->slots_off + (uint64_t)h->stride * h->maxmsg != o->size)
        return -EINVAL;
    q->h = (struct shmq_hdr *)o->base;
    q->maxmsg = h->maxmsg;
    q->msgsize = h->msgsize;
    q->stride = h->stride;
    q->flags = h->flags;
    q->max_bytes = h->max_bytes;
    q->slots_off = h->slots_off;
    return 0;
}

static void creator_access(struct ust_shmq *q, unsigned access)
{
    if (ust_shmo_lock(&q->o) < 0)
        return;
    q->o.access = access;
    if (q->o.holder >= 0 && q->o.holder < UST_SHMO_HOLDERS)
        q->h->o.holders[q->o.holder].access = access;
    ust_shmo_unlock(&q->o);
}

/* Our holder entry's blocked-receiver count starts at 0 (the entry may
 * have been a dead process's). */
static void rwait_claim(struct ust_shmq *q)
{
    int i = q->o.holder;
    if (i < 0 || i >= UST_SHMO_HOLDERS)
        return;
    atomic_store(&q->h->rwait[i], 0);
    atomic_store(&q->h->rwait_pid[i], (uint32_t)q->o.pid);
}

static const struct ust_shmo_type shmq_type = {
    .type = UST_SHMO_QUEUE,
    .hdr_size = sizeof(struct shmq_hdr),
    .check = shmq_check,
    .sane = shmq_sane,
};

int ust_shmq_open(const char *dir, const char *kind, const char *name, int oflag,
                  unsigned access, const struct ust_shmq_attr *attr, struct ust_shmq **out)
{
    if ((access & ~(UST_SHMQ_RD | UST_SHMQ_WR)) || (oflag & ~(O_CREAT | O_EXCL)))
        return -EINVAL;
    struct ust_shmo_create c = { .type = UST_SHMO_QUEUE, .hdr_size = sizeof(struct shmq_hdr),
                                 .init = shmq_init, .arg = attr };
    if (oflag & O_CREAT) {
        int r = attr_check(attr);
        if (r < 0) {
            char path[UST_SHMO_PATH_MAX];
            int p = ust_shmo_path(dir, kind, name, path, sizeof(path));
            return p < 0 ? p : r;
        }
        c.size = slots_offset() + slot_stride(attr->msgsize) * attr->maxmsg;
        c.mode = attr->mode;
        if (attr->flags & UST_SHMQ_SYSV)
            c.mode = 0666;              /* the caller checks System V permissions */
    }
    struct ust_shmq *q = calloc(1, sizeof(*q));
    if (!q)
        return -ENOMEM;
    /* The creator gets the access it asks for whatever the mode says, as
     * mq_open(3) and msgget(2) give it: open with none, then take it. */
    bool excl = (oflag & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL);
    int r = ust_shmo_open(&q->o, dir, kind, name, oflag, excl ? 0 : access, &c, &shmq_type);
    if (r < 0) {
        free(q);
        return r;
    }
    if (excl)
        creator_access(q, access);
    rwait_claim(q);
    *out = q;
    return 0;
}

int ust_shmq_after_fork(struct ust_shmq *q)
{
    int r = ust_shmo_after_fork(&q->o);
    if (r == 0)
        rwait_claim(q);
    return r;
}

void ust_shmq_close(struct ust_shmq *q)
{
    if (!q)
        return;
    bool last = ust_shmo_leave(&q->o);
    if (last && (q->flags & UST_SHMQ_AUTOREMOVE))
        ust_shmo_unlink_if_ours(&q->o);
    ust_shmo_unmap(&q->o);
    free(q);
}

/* ---- Inspection (ipcs): read-only, lock-free ------------------------- */

static void inspect_read(const struct ust_shmq *q, struct ust_shmq_stat *st)
{
    const struct shmq_hdr *h = q->h;
    struct ust_shmq_info *in = &st->info;
    in->maxmsg = q->maxmsg;
    in->msgsize = q->msgsize;
    in->flags = q->flags;
    in->max_bytes = q->max_bytes;
    /* A committed journal (jn != 0) holds the operation's final values. */
    uint32_t jn = ust_shmo_pending(&q->o);
    st->pending = jn != 0;
    uint32_t count = ust_shmo_committed(&q->o, jn, &h->count);
    in->curmsgs = count <= q->maxmsg ? count : q->maxmsg;
    in->bytes = ust_shmo_committed(&q->o, jn, &h->bytes);
    in->last_send_pid = atomic_load_explicit(&h->last_send_pid, memory_order_relaxed);
    in->last_recv_pid = atomic_load_explicit(&h->last_recv_pid, memory_order_relaxed);
    if (q->flags & UST_SHMQ_SYSV) {
        st->has_sysv = true;
        memcpy(&st->sysv, &h->sv, sizeof(st->sysv));   /* a snapshot, as the counters */
    }
}

/* The parts every object type has: owner, mode, holders, removed. */
static void inspect_common(const struct ust_shmo *o, struct ust_shmq_stat *st)
{
    const struct ust_shmo_hdr *h = o->h;
    st->info.mode = (mode_t)h->mode;
    st->info.uid = (uid_t)h->uid;
    st->info.gid = (gid_t)h->gid;
    st->info.removed = atomic_load_explicit(&h->removed, memory_order_relaxed) != 0;
    st->info.repairs = atomic_load_explicit(&h->repairs, memory_order_relaxed);
    st->size = o->size;
    struct ust_shmo_peek p;
    ust_shmo_peek_holders(o, &p);
    st->nlive = p.nlive;
    st->ndead = p.ndead;
    st->info.readers = p.readers;
    st->info.writers = p.writers;
    for (unsigned i = 0; i < p.nlive; i++) {
        st->holder[i].pid = p.pid[i];
        st->holder[i].access = p.access[i];
    }
}

int ust_shmq_inspect(const char *dir, const char *kind, const char *name,
                     struct ust_shmq_stat *st)
{
    struct ust_shmq q;
    memset(&q, 0, sizeof(q));
    uint32_t type = 0;
    int r = ust_shmo_map_ro(&q.o, dir, kind, name, &type);
    if (r < 0)
        return r;
    memset(st, 0, sizeof(*st));
    if (type == UST_SHMO_QUEUE) {
        r = q.o.h->hdr_size == sizeof(struct shmq_hdr) ? shmq_check(&q.o) : -EINVAL;
        if (r == 0)
            inspect_read(&q, st);
    }
    if (type == UST_SHMO_RING) {       /* a FIFO: bytes queued and capacity */
        uint64_t bytes, cap;
        r = ust_shmf_peek(&q.o, &bytes, &cap);
        st->info.bytes = bytes;
        st->info.max_bytes = cap;
    }
    if (r == 0)
        inspect_common(&q.o, st);
    ust_shmo_unmap(&q.o);
    return r;
}

int ust_shmq_remove(struct ust_shmq *q)
{
    return ust_shmo_remove(&q->o);
}

/* ---- Doorbells --------------------------------------------------------- */

void ust_shmq_set_bells(struct ust_shmq *q, struct ust_shmbell_arena *a)
{
    q->o.bells = a;
}

int ust_shmq_watch(struct ust_shmq *q, int bell, bool on)
{
    return ust_shmo_watch(&q->o, bell, on);
}

/* ---- Send -------------------------------------------------------------- */

/* The slot after which a message with this key goes (SHMQ_NIL: the head). */
static uint32_t insert_after(const struct ust_shmq *q, int64_t key)
{
    uint32_t head = ld(&q->h->head), tail = ld(&q->h->tail);
    if (tail == SHMQ_NIL || !(q->flags & UST_SHMQ_PRIO) || slot_at(q, tail)->key >= key)
        return tail;                    /* FIFO, or the lowest priority so far */
    if (slot_at(q, head)->key < key)
        return SHMQ_NIL;
    uint32_t prev = head;
    for (uint32_t steps = 0; steps < q->maxmsg; steps++) {
        uint32_t nx = ld(&slot_at(q, prev)->next);
        if (nx >= q->maxmsg || slot_at(q, nx)->key < key)
            break;
        prev = nx;
    }
    return prev;
}

/* With the lock held and room in the queue: append the message. Returns
 * true if receivers sleep and must be woken (after unlocking). */
static bool shmq_insert(struct ust_shmq *q, const void *msg, size_t len, int64_t key)
{
    struct shmq_hdr *h = q->h;
    struct ust_shmo_journal j = { .n = 0 };
    uint32_t s = ld(&h->free_head);
    if (s < q->maxmsg) {
        jset(q, &j, &h->free_head, ld(&slot_at(q, s)->next));
    } else {
        s = ld(&h->fresh);
        jset(q, &j, &h->fresh, s + 1);
    }
    struct shmq_slot *sl = slot_at(q, s);
    sl->len = (uint32_t)len;            /* a free slot: invisible until the commit */
    sl->key = key;
    if (len)
        memcpy(sl->data, msg, len);
    uint32_t prev = insert_after(q, key);
    uint32_t succ = prev == SHMQ_NIL ? ld(&h->head) : ld(&slot_at(q, prev)->next);
    jset(q, &j, &sl->next, succ);
    jset(q, &j, prev == SHMQ_NIL ? &h->head : &slot_at(q, prev)->next, s);
    if (succ == SHMQ_NIL)
        jset(q, &j, &h->tail, s);
    jset(q, &j, &h->count, ld(&h->count) + 1);
    jset(q, &j, &h->bytes, ld(&h->bytes) + (uint32_t)len);
    atomic_store_explicit(&h->last_send_pid, q->o.pid, memory_order_relaxed);
    if (q->flags & UST_SHMQ_SYSV)
        h->sv.stime = (int64_t)time(NULL);
    ust_shmo_jcommit(&q->o, &j);
    /* Receivers see the counter move; sleepers are woken after the unlock. */
    return ust_shmev_bump(&h->o.ev_in);
}

static bool has_room(const struct ust_shmq *q, size_t len)
{
    const struct shmq_hdr *h = q->h;
    if (ld(&h->count) >= q->maxmsg)
        return false;
    if (q->flags & UST_SHMQ_SYSV) {     /* msg_fits_inqueue(): bytes and messages */
        uint64_t qb = __atomic_load_n(&h->sv.qbytes, __ATOMIC_RELAXED);
        if ((uint64_t)ld(&h->count) + 1 > qb || (uint64_t)ld(&h->bytes) + len > qb)
            return false;
    }
    return q->max_bytes == 0 || ld(&h->bytes) + len <= q->max_bytes;
}

static void notify_fire(struct ust_shmq *q, bool was_empty, uint64_t tag,
                        struct ust_shmq_notify *fired);

static int send_common(struct ust_shmq *q, const void *msg, size_t len, int64_t key,
                       unsigned flags, const struct timespec *deadline, uint64_t tag,
                       struct ust_shmq_notify *fired)
{
    if (fired)
        fired->pid = 0;
    if (!(q->o.access & UST_SHMQ_WR))
        return -EBADF;
    if (len > q->msgsize)
        return -EMSGSIZE;
    struct shmq_hdr *h = q->h;
    for (;;) {
        int r = shmq_lock(q);
        if (r < 0)
            return r;
        if (ld(&h->o.removed)) {
            r = -EIDRM;
        } else if (has_room(q, len)) {
            bool was_empty = ld(&h->count) == 0;
            bool wake = shmq_insert(q, msg, len, key);
            if (fired)
                notify_fire(q, was_empty, tag, fired);
            shmq_unlock(q);
            if (wake)
                ust_shmev_wake(&h->o.ev_in);
            ust_shmo_ring(&q->o);
            return 0;
        } else if (flags & UST_SHMQ_NONBLOCK) {
            r = -EAGAIN;
        } else if ((flags & UST_SHMQ_HUP) && ust_shmo_holders_live(&q->o, UST_SHMQ_RD) == 0) {
            r = -EPIPE;
        }
        uint32_t snap = ust_shmev_snapshot(&h->o.ev_out);
        shmq_unlock(q);
        if (r < 0)
            return r;
        r = ust_shmo_sleep(&q->o, &h->o.ev_out, snap, flags, deadline);
        if (r < 0)
            return r;
    }
}

int ust_shmq_send(struct ust_shmq *q, const void *msg, size_t len, int64_t key,
                  unsigned flags, const struct timespec *deadline)
{
    return send_common(q, msg, len, key, flags, deadline, 0, NULL);
}

int ust_shmq_send_notify(struct ust_shmq *q, const void *msg, size_t len, int64_t key,
                         unsigned flags, const struct timespec *deadline, uint64_t tag,
                         struct ust_shmq_notify *fired)
{
    return send_common(q, msg, len, key, flags, deadline, tag, fired);
}

/* ---- Receive ----------------------------------------------------------- */

/* The slot sel picks and its predecessor; SHMQ_NIL if none. */
static uint32_t shmq_find(const struct ust_shmq *q, const struct ust_shmq_sel *sel,
                          uint32_t *prevp)
{
    uint32_t prev = SHMQ_NIL, i = ld(&q->h->head);
    uint32_t best = SHMQ_NIL, best_prev = SHMQ_NIL;
    enum ust_shmq_sel_how how = sel ? sel->how : UST_SHMQ_SEL_FIRST;
    for (uint32_t steps = 0; i < q->maxmsg && steps < q->maxmsg; steps++) {
        int64_t key = slot_at(q, i)->key;
        bool hit = how == UST_SHMQ_SEL_FIRST || (how == UST_SHMQ_SEL_EQ && key == sel->type) ||
                   (how == UST_SHMQ_SEL_NE && key != sel->type) ||
                   (how == UST_SHMQ_SEL_RANGE && key >= (sel->type & 0xffffffff) &&
                    key <= (sel->type >> 32)) ||
                   (how == UST_SHMQ_SEL_NTH && (int64_t)steps == sel->type);
        if (hit) {
            *prevp = prev;
            return i;
        }
        /* msgrcv(2), msgtyp < 0: the first message of the lowest type <= |msgtyp|. */
        if (how == UST_SHMQ_SEL_LE && key <= sel->type &&
            (best == SHMQ_NIL || key < slot_at(q, best)->key)) {
            best = i;
            best_prev = prev;
        }
        prev = i;
        i = ld(&slot_at(q, i)->next);
    }
    *prevp = best_prev;
    return best;
}

/* With the lock held: unlink slot s (after prev) and free it. Returns true
 * if senders sleep and must be woken (after unlocking). */
static bool shmq_remove_slot(struct ust_shmq *q, uint32_t s, uint32_t prev)
{
    struct shmq_hdr *h = q->h;
    struct ust_shmo_journal j = { .n = 0 };
    struct shmq_slot *sl = slot_at(q, s);
    uint32_t next = ld(&sl->next);
    jset(q, &j, prev == SHMQ_NIL ? &h->head : &slot_at(q, prev)->next, next);
    if (ld(&h->tail) == s)
        jset(q, &j, &h->tail, prev);
    jset(q, &j, &sl->next, ld(&h->free_head));
    jset(q, &j, &h->free_head, s);
    jset(q, &j, &h->count, ld(&h->count) - 1);
    jset(q, &j, &h->bytes, ld(&h->bytes) - sl->len);
    atomic_store_explicit(&h->last_recv_pid, q->o.pid, memory_order_relaxed);
    if (q->flags & UST_SHMQ_SYSV)
        h->sv.rtime = (int64_t)time(NULL);
    ust_shmo_jcommit(&q->o, &j);
    return ust_shmev_bump(&h->o.ev_out);
}

/* With the lock held: take a message if sel finds one. Returns its length,
 * -EAGAIN if none, -E2BIG if it does not fit. */
static ssize_t shmq_take(struct ust_shmq *q, void *buf, size_t cap, int64_t *key,
                         const struct ust_shmq_sel *sel, unsigned flags, bool *wake)
{
    uint32_t prev;
    uint32_t s = shmq_find(q, sel, &prev);
    if (s == SHMQ_NIL)
        return -EAGAIN;
    struct shmq_slot *sl = slot_at(q, s);
    size_t len = sl->len <= q->msgsize ? sl->len : q->msgsize;
    if (len > cap) {
        if (!(flags & UST_SHMQ_NOERROR))
            return -E2BIG;
        len = cap;
    }
    if (len)
        memcpy(buf, sl->data, len);
    if (key)
        *key = sl->key;
    if (flags & UST_SHMQ_PEEK)
        return (ssize_t)len;            /* MSG_COPY: it stays queued */
    *wake = shmq_remove_slot(q, s, prev);
    return (ssize_t)len;
}

ssize_t ust_shmq_receive(struct ust_shmq *q, void *buf, size_t cap, int64_t *key,
                         const struct ust_shmq_sel *sel, unsigned flags,
                         const struct timespec *deadline)
{
    if (!(q->o.access & UST_SHMQ_RD))
        return -EBADF;
    if (!(flags & UST_SHMQ_SYSV_LEN) && cap < q->msgsize)
        return -EMSGSIZE;               /* mq_receive(3): even if the message would fit */
    struct shmq_hdr *h = q->h;
    for (;;) {
        int r = shmq_lock(q);
        if (r < 0)
            return r;
        ssize_t n = -EAGAIN;
        bool wake = false;
        if (ld(&h->o.removed))
            n = -EIDRM;
        else
            n = shmq_take(q, buf, cap, key, sel, flags, &wake);
        if (n == -EAGAIN && !(flags & UST_SHMQ_NONBLOCK) && (flags & UST_SHMQ_HUP) &&
            ust_shmo_holders_live(&q->o, UST_SHMQ_WR) == 0)
            n = -EPIPE;                 /* end of file: no writer left */
        if (n != -EAGAIN || (flags & UST_SHMQ_NONBLOCK)) {
            shmq_unlock(q);
            if (wake)
                ust_shmev_wake(&h->o.ev_out);
            if (n >= 0)
                ust_shmo_ring(&q->o);
            return n;
        }
        uint32_t snap = ust_shmev_snapshot(&h->o.ev_in);
        shmq_unlock(q);
        r = ust_shmo_sleep(&q->o, &h->o.ev_in, snap, flags, deadline);
        if (r < 0)
            return r;
    }
}

/* ---- Attributes -------------------------------------------------------- */

int ust_shmq_getattr(struct ust_shmq *q, struct ust_shmq_info *info)
{
    int r = shmq_lock(q);
    if (r < 0)
        return r;
    const struct shmq_hdr *h = q->h;
    memset(info, 0, sizeof(*info));
    info->maxmsg = q->maxmsg;
    info->msgsize = q->msgsize;
    info->flags = q->flags;
    info->max_bytes = q->max_bytes;
    info->curmsgs = ld(&h->count);
    info->bytes = ld(&h->bytes);
    info->mode = (mode_t)h->o.mode;
    info->uid = (uid_t)h->o.uid;
    info->gid = (gid_t)h->o.gid;
    info->last_send_pid = atomic_load_explicit(&h->last_send_pid, memory_order_relaxed);
    info->last_recv_pid = atomic_load_explicit(&h->last_recv_pid, memory_order_relaxed);
    info->readers = ust_shmo_holders_live(&q->o, UST_SHMQ_RD);
    info->writers = ust_shmo_holders_live(&q->o, UST_SHMQ_WR);
    info->removed = ld(&h->o.removed) != 0;
    info->repairs = ld(&h->o.repairs);
    shmq_unlock(q);
    return 0;
}

bool ust_shmq_readable(const struct ust_shmq *q)
{
    return atomic_load_explicit(&q->h->count, memory_order_acquire) > 0 ||
           atomic_load_explicit(&q->h->o.removed, memory_order_acquire);
}

bool ust_shmq_writable(const struct ust_shmq *q)
{
    /* System V: a one-byte message fits (the kernel's POLLOUT for ustack's
     * queue descriptor, msg_sysv.c). */
    return has_room(q, (q->flags & UST_SHMQ_SYSV) ? 1 : 0) || ld(&q->h->o.removed);
}

int ust_shmq_holders(struct ust_shmq *q, unsigned access)
{
    int r = shmq_lock(q);
    if (r < 0)
        return r;
    r = (int)ust_shmo_holders_live(&q->o, access);
    shmq_unlock(q);
    return r;
}

void ust_shmq_test_crash_at(struct ust_shmq *q, unsigned n)
{
    ust_shmo_test_crash_at(&q->o, n);
}

void ust_shmq_set_spin(struct ust_shmq *q, unsigned spin)
{
    q->o.spin = spin;
    q->o.spin_max = spin;
}

/* ---- Waiting by the caller (shm_queue.h) -------------------------------- */

static _Atomic uint32_t *event_of(const struct ust_shmq *q, bool space)
{
    return space ? &q->h->o.ev_out : &q->h->o.ev_in;
}

uint32_t ust_shmq_snapshot(const struct ust_shmq *q, bool space)
{
    return ust_shmev_snapshot(event_of(q, space));
}

static long long ts_diff_ns(const struct timespec *a, const struct timespec *b)
{
    return (long long)(a->tv_sec - b->tv_sec) * 1000000000LL + (a->tv_nsec - b->tv_nsec);
}

static struct timespec ts_plus_ns(struct timespec t, long long ns)
{
    t.tv_sec += (time_t)(ns / 1000000000LL);
    t.tv_nsec += (long)(ns % 1000000000LL);
    if (t.tv_nsec >= 1000000000L) {
        t.tv_nsec -= 1000000000L;
        t.tv_sec++;
    }
    return t;
}

/* The CLOCK_MONOTONIC end of this sleep: one slice, or less when the
 * caller's deadline comes first (*user then). -ETIMEDOUT if it passed. */
static int wait_until(const struct timespec *deadline, unsigned flags, struct timespec *until,
                      bool *user)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long long left = UST_SHMO_SLICE_NS;
    *user = false;
    if (deadline) {
        struct timespec ref = now;
        if (flags & UST_SHMQ_REALTIME)      /* converted afresh at each slice */
            clock_gettime(CLOCK_REALTIME, &ref);
        long long d = ts_diff_ns(deadline, &ref);
        if (d <= 0)
            return -ETIMEDOUT;
        if (d <= left) {
            left = d;
            *user = true;
        }
    }
    *until = ts_plus_ns(now, left);
    return 0;
}

int ust_shmq_wait(struct ust_shmq *q, bool space, uint32_t snap, unsigned flags,
                  const struct timespec *deadline)
{
    if (deadline && !ust_timespec_valid(deadline))
        return -EINVAL;
    struct timespec until;
    bool user;
    int r = wait_until(deadline, flags, &until, &user);
    if (r < 0)
        return r;
    _Atomic uint32_t *ev = event_of(q, space);
    for (unsigned i = 0; i < UST_SHMQ_DEFAULT_SPIN; i++) {
        if ((atomic_load_explicit(ev, memory_order_acquire) & ~UST_SHMEV_SLEEPERS) != snap)
            return 0;
        ust_cpu_relax();
    }
    uint32_t old = atomic_fetch_or_explicit(ev, UST_SHMEV_SLEEPERS, memory_order_acq_rel);
    if ((old & ~UST_SHMEV_SLEEPERS) != snap)
        return 0;
    uint32_t expect = snap | UST_SHMEV_SLEEPERS;
    r = (flags & UST_SHMQ_RESTART) ? ust_futex_wait_restart(ev, expect, &until)
                                   : ust_futex_wait(ev, expect, &until, false);
    if (r == -ETIMEDOUT && !user)
        return 0;                       /* end of a slice: re-check */
    return r < 0 ? r : 0;
}

void ust_shmq_receiver_waiting(struct ust_shmq *q, bool on)
{
    int i = q->o.holder;
    if (i < 0 || i >= UST_SHMO_HOLDERS || q->o.pid != getpid())
        return;
    if (on)
        atomic_fetch_add(&q->h->rwait[i], 1);
    else
        atomic_fetch_sub(&q->h->rwait[i], 1);
}

/* Lock held: is a live receiver blocked (other than dead holders' leftovers)? */
static bool receivers_blocked(const struct ust_shmq *q)
{
    const struct ust_shmo_hdr *o = &q->h->o;
    for (int i = 0; i < UST_SHMO_HOLDERS; i++) {
        if (atomic_load(&q->h->rwait[i]) == 0)
            continue;
        uint32_t pid = atomic_load(&o->holders[i].pid);
        if (pid != 0 && pid == atomic_load(&q->h->rwait_pid[i]) &&
            ((pid_t)pid == q->o.pid || ust_shm_pid_alive((pid_t)pid, o->holders[i].start)))
            return true;
    }
    return false;
}

/* ---- mq_notify registration ------------------------------------------- */

/* Lock held: the registration, dropped if its process is gone. */
static pid_t notify_owner(struct ust_shmq *q)
{
    struct shmq_hdr *h = q->h;
    uint32_t pid = atomic_load(&h->nt_pid);
    if (pid != 0 && (pid_t)pid != q->o.pid && !ust_shm_pid_alive((pid_t)pid, h->nt_start)) {
        atomic_store(&h->nt_pid, 0);
        pid = 0;
    }
    return (pid_t)pid;
}

static void notify_copy(const struct shmq_hdr *h, pid_t pid, struct ust_shmq_notify *n)
{
    n->pid = pid;
    n->how = h->nt_how;
    n->signo = h->nt_signo;
    n->value = h->nt_value;
    n->tag = h->nt_tag;
    n->token = h->nt_token;
}

int ust_shmq_notify_set(struct ust_shmq *q, const struct ust_shmq_notify *n)
{
    int r = shmq_lock(q);
    if (r < 0)
        return r;
    struct shmq_hdr *h = q->h;
    if (notify_owner(q) != 0) {
        r = -EBUSY;
    } else {
        h->nt_how = n->how;
        h->nt_signo = n->signo;
        h->nt_value = n->value;
        h->nt_tag = n->tag;
        h->nt_token = n->token;
        h->nt_start = ust_shm_pid_start(q->o.pid);
        atomic_store(&h->nt_pid, (uint32_t)q->o.pid);   /* the commit word */
    }
    shmq_unlock(q);
    return r;
}

int ust_shmq_notify_clear(struct ust_shmq *q, pid_t pid)
{
    int r = shmq_lock(q);
    if (r < 0)
        return r;
    if (atomic_load(&q->h->nt_pid) == (uint32_t)pid)
        atomic_store(&q->h->nt_pid, 0);
    shmq_unlock(q);
    return 0;
}

int ust_shmq_notify_get(struct ust_shmq *q, struct ust_shmq_notify *n)
{
    int r = shmq_lock(q);
    if (r < 0)
        return r;
    notify_copy(q->h, notify_owner(q), n);
    shmq_unlock(q);
    return 0;
}

/* Lock held, right after a send (mq_notify(3)): the message went into an
 * empty queue and no receiver is blocked: fire and remove the registration. */
static void notify_fire(struct ust_shmq *q, bool was_empty, uint64_t tag,
                        struct ust_shmq_notify *fired)
{
    struct shmq_hdr *h = q->h;
    if (!was_empty || atomic_load(&h->nt_pid) == 0)
        return;
    pid_t pid = notify_owner(q);
    if (pid == 0 || (h->nt_how == SIGEV_THREAD && (tag == 0 || h->nt_tag != tag)) ||
        receivers_blocked(q))
        return;
    notify_copy(h, pid, fired);
    atomic_store(&h->nt_pid, 0);
}

void ust_shmq_ident(const struct ust_shmq *q, dev_t *dev, ino_t *ino)
{
    *dev = q->o.dev;
    *ino = q->o.ino;
}

/* ---- System V state (UST_SHMQ_SYSV) ------------------------------------ */

struct ust_shmq_sysv *ust_shmq_sysv(struct ust_shmq *q)
{
    return (q->flags & UST_SHMQ_SYSV) ? &q->h->sv : NULL;
}

int ust_shmq_lock_sysv(struct ust_shmq *q)
{
    return shmq_lock(q);
}

void ust_shmq_unlock_sysv(struct ust_shmq *q, bool changed)
{
    struct shmq_hdr *h = q->h;
    bool wi = changed && ust_shmev_bump(&h->o.ev_in);
    bool wo = changed && ust_shmev_bump(&h->o.ev_out);
    shmq_unlock(q);
    if (wi)
        ust_shmev_wake(&h->o.ev_in);
    if (wo)
        ust_shmev_wake(&h->o.ev_out);
    if (changed)
        ust_shmo_ring(&q->o);
}

bool ust_shmq_removed(const struct ust_shmq *q)
{
    return atomic_load_explicit(&q->h->o.removed, memory_order_acquire) != 0;
}

void ust_shmq_load(const struct ust_shmq *q, uint32_t *count, uint64_t *bytes)
{
    *count = atomic_load_explicit(&q->h->count, memory_order_relaxed);
    *bytes = atomic_load_explicit(&q->h->bytes, memory_order_relaxed);
}
