/* Crash-safe byte rings in shared memory for named FIFOs (shm_fifo.h), on
 * the shared object machinery of shm_obj.h.
 *
 * Layout of an object file (docs/IPC-SHARED.md, "FIFOs"):
 *   struct shmf_hdr   the common header (struct ust_shmo_hdr), the ring's
 *                     geometry and the FIFO's path, then under the lock:
 *                     head (first byte), count (bytes queued), cap (the
 *                     capacity, F_SETPIPE_SZ), the open generations;
 *   seg_max words     packet mode's segments (O_DIRECT writers): a ring of
 *                     lengths, each a packet or a run of stream bytes;
 *   max_cap bytes     the ring. Positions run modulo max_cap; cap only
 *                     bounds count, so changing the capacity moves no byte.
 *
 * Crash safety: the bytes of a write go into free ring space, [head+count,
 * head+cap) modulo max_cap, which no reader looks at; one journal commit
 * then moves count. A read copies bytes out and commits head and count
 * together. The journal (shm_obj.c) makes each commit all or nothing under
 * a SIGKILL at any instruction. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ipc/shm_fifo.h"
#include "ipc/shm_futex.h"
#include "ipc/shm_obj.h"

struct shmf_hdr {
    struct ust_shmo_hdr o;              /* common: identity, lock, journal, holders */
    /* Geometry: written once before the object gets its name. */
    uint32_t max_cap;                   /* ring bytes */
    uint32_t def_cap;                   /* the capacity a new set of opens starts with */
    uint32_t seg_max;                   /* segment entries: 2 * max_cap / page + 1 */
    uint32_t pad;
    uint64_t seg_off, ring_off;
    char path[PATH_MAX];                /* the FIFO's path, as given to mkfifo */

    /* Under the lock; head, count and cap change only through the journal. */
    alignas(64) _Atomic uint32_t head, count, cap;
    /* Packet mode (pipe.c's): from the first packet write on, every byte
     * queued belongs to a segment seg[seg_head .. + seg_count) modulo
     * seg_max, pkt_count of them packets. Through the journal. */
    _Atomic uint32_t packet, seg_head, seg_count, pkt_count;
    _Atomic uint32_t r_counter, w_counter;  /* open generations (fs/pipe.c) */
    _Atomic int32_t last_write_pid, last_read_pid;
};

struct ust_shmf {
    struct ust_shmo o;                  /* first: the common handle */
    struct shmf_hdr *h;
    unsigned char *ring;
    _Atomic uint32_t *seg;
    uint32_t max_cap, seg_max;          /* checked at open, never re-read */
};

#define SEG_PACKET 0x80000000u          /* the segment is a packet */
#define SEG_LEN(x) ((x) & ~SEG_PACKET)

static uint32_t ld(const _Atomic uint32_t *w)
{
    return atomic_load_explicit(w, memory_order_relaxed);
}

static uint32_t ld_acq(const _Atomic uint32_t *w)
{
    return atomic_load_explicit(w, memory_order_acquire);
}

/* ---- Names ------------------------------------------------------------- */

static uint64_t fnv1a(const char *s, uint64_t h)
{
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 0x100000001b3ull;
    }
    return h;
}

int ust_shmf_name(const char *path, char *name, size_t len)
{
    size_t n = 0;
    bool fits = true;
    for (const char *c = path; *c && fits; c++) {
        bool esc = *c == '/' || *c == '%' || *c == '#';
        size_t need = esc ? 3 : 1;
        if (n + need > UST_SHMO_NAME_MAX || n + need >= len) {
            fits = false;
            break;
        }
        if (esc)
            n += (size_t)snprintf(name + n, len - n, "%%%02X", (unsigned char)*c);
        else
            name[n++] = *c;
    }
    if (fits && n > 0) {
        name[n] = '\0';
        return 0;
    }
    /* Too long for a file name: '#' (never in an encoding) and a hash. */
    if (len < 34)
        return -ENAMETOOLONG;
    snprintf(name, len, "#%016llx%016llx",
             (unsigned long long)fnv1a(path, 0xcbf29ce484222325ull),
             (unsigned long long)fnv1a(path, 0x84222325cbf29ce4ull));
    return 0;
}

/* ---- Geometry ---------------------------------------------------------- */

static uint32_t seg_count_max(uint32_t max_cap)
{
    return 2 * (max_cap / UST_SHMF_PAGE) + 1;
}

static size_t seg_offset(void)
{
    return ust_shmo_align(sizeof(struct shmf_hdr), 64);
}

static size_t ring_offset(uint32_t max_cap)
{
    return ust_shmo_align(seg_offset() + (size_t)seg_count_max(max_cap) * 4, 64);
}

struct shmf_init_arg {
    const struct ust_shmf_attr *a;
    const char *path;
};

static void shmf_init(void *base, const void *arg)
{
    struct shmf_hdr *h = base;
    const struct shmf_init_arg *ia = arg;
    h->max_cap = ia->a->max_cap;
    h->def_cap = ia->a->cap;
    h->cap = ia->a->cap;
    h->seg_max = seg_count_max(h->max_cap);
    h->seg_off = seg_offset();
    h->ring_off = ring_offset(h->max_cap);
    snprintf(h->path, sizeof(h->path), "%s", ia->path);
}

static int shmf_check(struct ust_shmo *o)
{
    struct ust_shmf *f = (struct ust_shmf *)o;
    const struct shmf_hdr *h = (const struct shmf_hdr *)o->base;
    if (h->max_cap == 0 || h->max_cap > UST_SHMF_MAX_SIZE || h->max_cap % UST_SHMF_PAGE ||
        h->def_cap > h->max_cap || h->seg_max != seg_count_max(h->max_cap) ||
        h->seg_off != seg_offset() || h->ring_off != ring_offset(h->max_cap) ||
        h->ring_off + h->max_cap != o->size)
        return -EINVAL;
    f->h = (struct shmf_hdr *)o->base;
    f->ring = o->base + h->ring_off;
    f->seg = (_Atomic uint32_t *)(o->base + h->seg_off);
    f->max_cap = h->max_cap;
    f->seg_max = h->seg_max;
    return 0;
}

/* Only a process writing the file behind our back can break these. */
static bool shmf_sane(const struct ust_shmo *o)
{
    const struct ust_shmf *f = (const struct ust_shmf *)o;
    const struct shmf_hdr *h = f->h;
    return ld(&h->head) < f->max_cap && ld(&h->cap) <= f->max_cap &&
           ld(&h->count) <= f->max_cap && ld(&h->seg_head) < f->seg_max &&
           ld(&h->seg_count) <= f->seg_max && ld(&h->pkt_count) <= f->seg_max;
}

static const struct ust_shmo_type shmf_type = {
    .type = UST_SHMO_RING,
    .hdr_size = sizeof(struct shmf_hdr),
    .check = shmf_check,
    .sane = shmf_sane,
    .strict_perm = true,
};

/* ---- Create, open, close ----------------------------------------------- */

static int shmf_open_name(const char *dir, const char *path, int oflag, unsigned access,
                          const struct ust_shmo_create *c, struct ust_shmf **out)
{
    char name[UST_SHMO_NAME_MAX + 1];
    int r = ust_shmf_name(path, name, sizeof(name));
    if (r < 0)
        return r;
    struct ust_shmf *f = calloc(1, sizeof(*f));
    if (!f)
        return -ENOMEM;
    r = ust_shmo_open(&f->o, dir, UST_SHMF_KIND, name, oflag, access, c, &shmf_type);
    if (r < 0) {
        free(f);
        return r;
    }
    *out = f;
    return 0;
}

int ust_shmf_create(const char *dir, const char *path, const struct ust_shmf_attr *attr)
{
    if (!attr || attr->cap == 0 || attr->max_cap < attr->cap ||
        attr->max_cap > UST_SHMF_MAX_SIZE || attr->max_cap % UST_SHMF_PAGE ||
        (attr->mode & ~07777u))
        return -EINVAL;
    struct shmf_init_arg ia = { attr, path };
    struct ust_shmo_create c = {
        .type = UST_SHMO_RING, .hdr_size = sizeof(struct shmf_hdr),
        .size = ring_offset(attr->max_cap) + attr->max_cap, .mode = attr->mode,
        .init = shmf_init, .arg = &ia,
    };
    struct ust_shmf *f;
    int r = shmf_open_name(dir, path, O_CREAT | O_EXCL, 0, &c, &f);
    if (r < 0)
        return r;
    ust_shmo_leave(&f->o);
    ust_shmo_unmap(&f->o);
    free(f);
    return 0;
}

/* A new set of opens: what the last one left is gone (lock held). */
static void ring_reset(struct ust_shmf *f)
{
    struct shmf_hdr *h = f->h;
    if (ld(&h->count) == 0 && ld(&h->head) == 0 && ld(&h->cap) == h->def_cap &&
        ld(&h->packet) == 0)
        return;
    struct ust_shmo_journal j = { .n = 0 };
    ust_shmo_jset(&f->o, &j, &h->head, 0);
    ust_shmo_jset(&f->o, &j, &h->count, 0);
    ust_shmo_jset(&f->o, &j, &h->cap, h->def_cap);
    ust_shmo_jset(&f->o, &j, &h->packet, 0);
    ust_shmo_jset(&f->o, &j, &h->seg_head, 0);
    ust_shmo_jset(&f->o, &j, &h->seg_count, 0);
    ust_shmo_jset(&f->o, &j, &h->pkt_count, 0);
    ust_shmo_jcommit(&f->o, &j);
}

/* Wakes both sides' sleepers and the pollers (after the unlock). */
static void wake_all(struct ust_shmf *f, bool in, bool out)
{
    if (in)
        ust_shmev_wake(&f->h->o.ev_in);
    if (out)
        ust_shmev_wake(&f->h->o.ev_out);
    ust_shmo_ring(&f->o);
}

int ust_shmf_open(const char *dir, const char *path, unsigned access, struct ust_shmf **out)
{
    if (access & ~(UST_SHMF_RD | UST_SHMF_WR))
        return -EINVAL;
    struct ust_shmf *f;
    int r = shmf_open_name(dir, path, 0, access, NULL, &f);
    if (r < 0)
        return r;
    r = ust_shmo_lock(&f->o);
    if (r < 0) {
        ust_shmf_close(f);
        return r;
    }
    struct shmf_hdr *h = f->h;
    if (ust_shmo_holders_live(&f->o, ~0u) == 1)
        ring_reset(f);                  /* only we hold it: a new pipe (fs/pipe.c) */
    if (access & UST_SHMF_RD)
        atomic_fetch_add_explicit(&h->r_counter, 1, memory_order_relaxed);
    if (access & UST_SHMF_WR)
        atomic_fetch_add_explicit(&h->w_counter, 1, memory_order_relaxed);
    bool wi = ust_shmev_bump(&h->o.ev_in);
    bool wo = ust_shmev_bump(&h->o.ev_out);
    ust_shmo_unlock(&f->o);
    wake_all(f, wi, wo);
    *out = f;
    return 0;
}

void ust_shmf_close(struct ust_shmf *f)
{
    if (!f)
        return;
    if (ust_shmo_leave(&f->o) && ust_shmo_lock(&f->o) == 0) {
        if (ust_shmo_holders_live(&f->o, ~0u) == 0)
            ring_reset(f);              /* Linux frees the pipe with its last close */
        ust_shmo_unlock(&f->o);
    }
    ust_shmo_unmap(&f->o);
    free(f);
}

int ust_shmf_unlink(const char *dir, const char *path)
{
    char name[UST_SHMO_NAME_MAX + 1];
    int r = ust_shmf_name(path, name, sizeof(name));
    return r < 0 ? r : ust_shmo_unlink(dir, UST_SHMF_KIND, name);
}

int ust_shmf_after_fork(struct ust_shmf *f)
{
    return ust_shmo_after_fork(&f->o);
}

static int count_cb(void *arg, const char *kind, const char *name)
{
    (void)name;
    if (strcmp(kind, UST_SHMF_KIND) == 0)
        (*(int *)arg)++;
    return 0;
}

int ust_shmf_count(const char *dir)
{
    int n = 0;
    int r = ust_shmo_list(dir, count_cb, &n);
    return r < 0 ? r : n;
}

/* ---- Data -------------------------------------------------------------- */

static void ring_copy_in(struct ust_shmf *f, uint32_t pos, const unsigned char *src, size_t n)
{
    size_t first = f->max_cap - pos < n ? f->max_cap - pos : n;
    memcpy(f->ring + pos, src, first);
    if (n > first)
        memcpy(f->ring, src + first, n - first);
}

static void ring_copy_out(const struct ust_shmf *f, uint32_t pos, unsigned char *dst, size_t n)
{
    size_t first = f->max_cap - pos < n ? f->max_cap - pos : n;
    memcpy(dst, f->ring + pos, first);
    if (n > first)
        memcpy(dst + first, f->ring, n - first);
}

/* Segment i of the queued ones (packet mode). */
static _Atomic uint32_t *seg_at(const struct ust_shmf *f, uint32_t head, uint32_t i)
{
    return &f->seg[(head + i) % f->seg_max];
}

/* How much of a write of len goes in now: stream bytes take what fits
 * (all or nothing up to PIPE_BUF); a packet writer's bytes go as packets of
 * up to PIPE_BUF while slots (cap / page) and segment entries last. */
static size_t put_size(const struct ust_shmf *f, size_t len, bool packets, uint32_t *npk)
{
    const struct shmf_hdr *h = f->h;
    uint32_t count = ld(&h->count), cap = ld(&h->cap);
    size_t space = cap > count ? cap - count : 0, n = 0;
    *npk = 0;
    if (!packets) {
        n = len < space ? len : space;
    } else {
        uint32_t slots = cap / UST_SHMF_PAGE, pk = ld(&h->packet) ? ld(&h->pkt_count) : 0;
        uint32_t segs = ld(&h->packet) ? ld(&h->seg_count) : (count > 0);
        while (n < len && pk + *npk < slots && segs + *npk < f->seg_max) {
            size_t chunk = len - n < UST_SHMF_PIPE_BUF ? len - n : UST_SHMF_PIPE_BUF;
            if (space - n < chunk)
                break;
            n += chunk;
            (*npk)++;
        }
    }
    if (len <= UST_SHMF_PIPE_BUF && n < len)
        return 0;                       /* pipe(7): all or nothing */
    return n;
}

/* The segment updates of a write of n bytes (npk packets, or stream bytes
 * when npk is 0) in packet mode: new entries go into free segment slots,
 * where no reader looks, and the journal gets the counters. */
static void put_segments(struct ust_shmf *f, struct ust_shmo_journal *j, size_t n,
                         uint32_t npk)
{
    struct shmf_hdr *h = f->h;
    uint32_t sh = ld(&h->seg_head), sc = ld(&h->seg_count), pk = ld(&h->pkt_count);
    if (!ld(&h->packet)) {
        if (npk == 0)
            return;                     /* stream bytes without packet mode */
        /* The first packet: the bytes queued so far become one stream run. */
        sh = 0;
        sc = 0;
        pk = 0;
        uint32_t count = ld(&h->count);
        if (count > 0)
            atomic_store_explicit(seg_at(f, 0, sc++), count, memory_order_relaxed);
        ust_shmo_jset(&f->o, j, &h->packet, 1);
        ust_shmo_jset(&f->o, j, &h->seg_head, 0);
    }
    if (npk == 0) {
        _Atomic uint32_t *last = sc > 0 ? seg_at(f, sh, sc - 1) : NULL;
        if (last && !(ld(last) & SEG_PACKET)) {
            ust_shmo_jset(&f->o, j, last, ld(last) + (uint32_t)n);
            return;
        }
        atomic_store_explicit(seg_at(f, sh, sc), (uint32_t)n, memory_order_relaxed);
        ust_shmo_jset(&f->o, j, &h->seg_count, sc + 1);
        return;
    }
    for (uint32_t k = 0; k < npk; k++) {
        size_t off = (size_t)k * UST_SHMF_PIPE_BUF;
        uint32_t len = (uint32_t)(n - off < UST_SHMF_PIPE_BUF ? n - off : UST_SHMF_PIPE_BUF);
        atomic_store_explicit(seg_at(f, sh, sc + k), len | SEG_PACKET, memory_order_relaxed);
    }
    ust_shmo_jset(&f->o, j, &h->seg_count, sc + npk);
    ust_shmo_jset(&f->o, j, &h->pkt_count, pk + npk);
}

/* With the lock held: one try at putting bytes in. Count, -EAGAIN or
 * -EPIPE; *wake when readers sleep. */
static ssize_t put_locked(struct ust_shmf *f, const unsigned char *src, size_t len,
                          bool packets, bool *wake)
{
    struct shmf_hdr *h = f->h;
    if (ust_shmo_holders_live(&f->o, UST_SHMF_RD) == 0)
        return -EPIPE;
    uint32_t npk, count = ld(&h->count);
    size_t n = put_size(f, len, packets, &npk);
    if (n == 0)
        return -EAGAIN;
    uint32_t tail = (uint32_t)(((uint64_t)ld(&h->head) + count) % f->max_cap);
    /* Free space: no reader looks here until the commit. */
    ring_copy_in(f, tail, src, n / 2);
    ust_shmo_crash_point(&f->o);
    ring_copy_in(f, (uint32_t)(((uint64_t)tail + n / 2) % f->max_cap), src + n / 2,
                 n - n / 2);
    ust_shmo_crash_point(&f->o);
    struct ust_shmo_journal j = { .n = 0 };
    put_segments(f, &j, n, npk);
    ust_shmo_jset(&f->o, &j, &h->count, count + (uint32_t)n);
    atomic_store_explicit(&h->last_write_pid, f->o.pid, memory_order_relaxed);
    ust_shmo_jcommit(&f->o, &j);
    *wake = ust_shmev_bump(&h->o.ev_in);
    return (ssize_t)n;
}

/* Packet mode's read: stream bytes up to len; a packet ends the read and
 * what of it does not fit is dropped (pipe.c's pipe_take). Returns the
 * bytes delivered; *used the bytes consumed. */
static size_t take_segments(struct ust_shmf *f, struct ust_shmo_journal *j, unsigned char *dst,
                            size_t len, uint32_t *used)
{
    struct shmf_hdr *h = f->h;
    uint32_t count = ld(&h->count), pos = ld(&h->head);
    uint32_t sh = ld(&h->seg_head), sc = ld(&h->seg_count), pk = ld(&h->pkt_count);
    size_t done = 0;
    uint32_t consumed = 0;
    while (done < len && sc > 0 && consumed < count) {
        uint32_t sg = ld(&f->seg[sh]), slen = SEG_LEN(sg);
        if (slen > count - consumed)
            slen = count - consumed;    /* only a corrupt file gets here */
        size_t n = len - done < slen ? len - done : slen;
        ring_copy_out(f, (uint32_t)(((uint64_t)pos + consumed) % f->max_cap), dst + done, n);
        done += n;
        if ((sg & SEG_PACKET) || n == slen) {
            consumed += slen;           /* a packet goes whole */
            sh = (sh + 1) % f->seg_max;
            sc--;
            if (sg & SEG_PACKET) {
                pk -= pk > 0;
                break;
            }
        } else {
            consumed += (uint32_t)n;
            ust_shmo_jset(&f->o, j, &f->seg[sh], sg - (uint32_t)n);
        }
    }
    ust_shmo_jset(&f->o, j, &h->seg_head, sh);
    ust_shmo_jset(&f->o, j, &h->seg_count, sc);
    ust_shmo_jset(&f->o, j, &h->pkt_count, pk);
    *used = consumed;
    return done;
}

/* With the lock held: one try at taking bytes. Count, 0 (EOF) or -EAGAIN. */
static ssize_t take_locked(struct ust_shmf *f, unsigned char *dst, size_t len, bool *wake)
{
    struct shmf_hdr *h = f->h;
    uint32_t count = ld(&h->count), head = ld(&h->head);
    if (count == 0)
        return ust_shmo_holders_live(&f->o, UST_SHMF_WR) == 0 ? 0 : -EAGAIN;
    struct ust_shmo_journal j = { .n = 0 };
    size_t n;
    uint32_t used;
    if (ld(&h->packet)) {
        n = take_segments(f, &j, dst, len, &used);
    } else {
        n = len < count ? len : count;
        ring_copy_out(f, head, dst, n);
        used = (uint32_t)n;
    }
    ust_shmo_crash_point(&f->o);
    ust_shmo_jset(&f->o, &j, &h->head, (uint32_t)(((uint64_t)head + used) % f->max_cap));
    ust_shmo_jset(&f->o, &j, &h->count, count - used);
    atomic_store_explicit(&h->last_read_pid, f->o.pid, memory_order_relaxed);
    ust_shmo_jcommit(&f->o, &j);
    *wake = ust_shmev_bump(&h->o.ev_out);
    return (ssize_t)n;
}

typedef ssize_t (*shmf_op)(struct ust_shmf *f, unsigned char *p, size_t len, bool *wake);

static ssize_t op_put(struct ust_shmf *f, unsigned char *p, size_t len, bool *wake)
{
    return put_locked(f, p, len, false, wake);
}

static ssize_t op_put_packets(struct ust_shmf *f, unsigned char *p, size_t len, bool *wake)
{
    return put_locked(f, p, len, true, wake);
}

/* One try, or (without NONBLOCK) tries until done, sleeping on the event
 * word of the side in 50 ms slices (a dead peer is seen within one). */
static ssize_t run(struct ust_shmf *f, shmf_op op, _Atomic uint32_t *ev, unsigned char *p,
                   size_t len, bool whole, unsigned flags, const struct timespec *deadline)
{
    size_t done = 0;
    for (;;) {
        int r = ust_shmo_lock(&f->o);
        if (r < 0)
            return done ? (ssize_t)done : r;
        bool wake = false;
        ssize_t n = op(f, p + done, len - done, &wake);
        uint32_t snap = ust_shmev_snapshot(ev);
        ust_shmo_unlock(&f->o);
        if (n > 0) {
            if (wake)
                ust_shmev_wake(ev == &f->h->o.ev_in ? &f->h->o.ev_out : &f->h->o.ev_in);
            ust_shmo_ring(&f->o);
            done += (size_t)n;
            if (!whole || done == len)
                return (ssize_t)done;
            continue;
        }
        if (n != -EAGAIN || (flags & UST_SHMF_NONBLOCK))
            return done ? (ssize_t)done : n;
        r = ust_shmo_sleep(&f->o, ev, snap, 0, deadline);
        if (r < 0)
            return done ? (ssize_t)done : r;
    }
}

ssize_t ust_shmf_write(struct ust_shmf *f, const void *buf, size_t len, unsigned flags,
                       const struct timespec *deadline)
{
    if (!(f->o.access & UST_SHMF_WR))
        return -EBADF;
    if (len == 0)
        return 0;
    return run(f, (flags & UST_SHMF_PACKET) ? op_put_packets : op_put, &f->h->o.ev_out,
               (unsigned char *)(uintptr_t)buf, len,
               !(flags & UST_SHMF_NONBLOCK), flags, deadline);
}

ssize_t ust_shmf_read(struct ust_shmf *f, void *buf, size_t len, unsigned flags,
                      const struct timespec *deadline)
{
    if (!(f->o.access & UST_SHMF_RD))
        return -EBADF;
    if (len == 0)
        return 0;
    return run(f, take_locked, &f->h->o.ev_in, buf, len, false, flags, deadline);
}

/* ---- State ------------------------------------------------------------- */

uint32_t ust_shmf_counter(const struct ust_shmf *f, unsigned side)
{
    return ld_acq(side == UST_SHMF_RD ? &f->h->r_counter : &f->h->w_counter);
}

int ust_shmf_holders(struct ust_shmf *f, unsigned side, bool locked)
{
    if (!locked)
        return (int)ust_shmo_holders_peek(&f->o, side);
    int r = ust_shmo_lock(&f->o);
    if (r < 0)
        return r;
    r = (int)ust_shmo_holders_live(&f->o, side);
    ust_shmo_unlock(&f->o);
    return r;
}

_Atomic uint32_t *ust_shmf_event(struct ust_shmf *f, unsigned side)
{
    return side == UST_SHMF_RD ? &f->h->o.ev_in : &f->h->o.ev_out;
}

size_t ust_shmf_used(const struct ust_shmf *f)
{
    return ld_acq(&f->h->count);
}

bool ust_shmf_readable(const struct ust_shmf *f)
{
    return ld_acq(&f->h->count) > 0;
}

bool ust_shmf_writable(const struct ust_shmf *f, bool packets)
{
    uint32_t count = ld_acq(&f->h->count), cap = ld_acq(&f->h->cap);
    if (cap < count || cap - count < UST_SHMF_PIPE_BUF)
        return false;
    return !packets || !ld_acq(&f->h->packet) || ld_acq(&f->h->pkt_count) < cap / UST_SHMF_PAGE;
}

uint32_t ust_shmf_cap(const struct ust_shmf *f)
{
    return ld_acq(&f->h->cap);
}

uint32_t ust_shmf_max_cap(const struct ust_shmf *f)
{
    return f->max_cap;
}

int ust_shmf_set_cap(struct ust_shmf *f, uint32_t cap)
{
    if (cap > f->max_cap)
        return -EPERM;
    int r = ust_shmo_lock(&f->o);
    if (r < 0)
        return r;
    struct shmf_hdr *h = f->h;
    if (ld(&h->count) > cap || (ld(&h->packet) && ld(&h->pkt_count) > cap / UST_SHMF_PAGE)) {
        ust_shmo_unlock(&f->o);
        return -EBUSY;
    }
    bool grew = cap > ld(&h->cap), wake = false;
    struct ust_shmo_journal j = { .n = 0 };
    ust_shmo_jset(&f->o, &j, &h->cap, cap);
    ust_shmo_jcommit(&f->o, &j);
    if (grew)
        wake = ust_shmev_bump(&h->o.ev_out);
    ust_shmo_unlock(&f->o);
    if (grew)
        wake_all(f, false, wake);
    return 0;
}

void ust_shmf_set_bells(struct ust_shmf *f, struct ust_shmbell_arena *a)
{
    f->o.bells = a;
}

int ust_shmf_watch(struct ust_shmf *f, int bell, bool on)
{
    return ust_shmo_watch(&f->o, bell, on);
}

void ust_shmf_id(const struct ust_shmf *f, dev_t *dev, ino_t *ino)
{
    *dev = f->o.dev;
    *ino = f->o.ino;
}

int ust_shmf_peek(const struct ust_shmo *o, uint64_t *bytes, uint64_t *cap)
{
    struct ust_shmf f;
    memset(&f, 0, sizeof(f));
    f.o = *o;
    if (o->h->hdr_size != sizeof(struct shmf_hdr) || shmf_check(&f.o) < 0)
        return -EINVAL;
    uint32_t jn = ust_shmo_pending(&f.o);
    *bytes = ust_shmo_committed(&f.o, jn, &f.h->count);
    *cap = ust_shmo_committed(&f.o, jn, &f.h->cap);
    return 0;
}

void ust_shmf_test_crash_at(struct ust_shmf *f, unsigned n)
{
    ust_shmo_test_crash_at(&f->o, n);
}
