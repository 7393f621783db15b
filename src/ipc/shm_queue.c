/* Crash-safe message queues in shared memory (shm_queue.h).
 *
 * Layout of an object file (docs/IPC-SHARED.md has the full argument):
 *   struct shmq_hdr   immutable geometry, the robust mutex, the redo journal,
 *                     the list heads and counters, two event words (futexes),
 *                     the holder table;
 *   maxmsg slots      struct shmq_slot + msgsize bytes each.
 * Queued messages form one singly linked list in delivery order (key
 * descending then arrival for UST_SHMQ_PRIO, arrival only otherwise); free
 * slots form a second list, plus a watermark of never-used slots so that
 * creating a large queue touches no slot page.
 *
 * Every change of a word that another operation may read (list links, heads,
 * counters) goes through the journal: the operation computes the new values,
 * writes them to the journal, commits by storing the journal length (one
 * aligned 32-bit store), applies them, and clears the length. A process that
 * dies holding the lock leaves the robust mutex in the EOWNERDEAD state; the
 * next locker replays a committed journal (the writes are absolute values,
 * so replaying twice is harmless) and discards an uncommitted one. Message
 * text is written into a free slot before the commit, where no reader looks. */
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ipc/shm_bell.h"
#include "ipc/shm_futex.h"
#include "ipc/shm_queue.h"

#define SHMQ_DIR        "/dev/shm"       /* the default directory */
#define SHMQ_PATH_MAX   4096
#define SHMQ_PREFIX     "ustack."
#define SHMQ_MAGIC      0x51534d55u     /* "UMSQ" */
#define SHMQ_VERSION    1u
#define SHMQ_NIL        UINT32_MAX
#define SHMQ_JOURNAL    8               /* most word writes one operation makes */
#define SHMQ_SLICE_NS   50000000L       /* longest sleep before re-checking (50 ms) */
#define SHMQ_LOCK_SPIN  50              /* trylock rounds before sleeping on the mutex */

struct shmq_jent {
    uint32_t off;                       /* byte offset of a 32-bit word in the object */
    uint32_t val;
};

struct shmq_holder {
    _Atomic uint32_t pid;               /* 0: free; stored last when registering */
    uint32_t access;
    uint64_t start;                     /* the holder's start time (liveness) */
};

struct shmq_hdr {
    /* Geometry: written once before the object gets its name. */
    uint32_t magic, version;
    uint32_t flags, maxmsg, msgsize, stride;
    uint64_t max_bytes, map_size, slots_off;
    uint32_t mode, uid, gid, hdr_size;
    char kind[UST_SHMQ_KIND_MAX + 1];
    char name[UST_SHMQ_NAME_MAX + 1];

    alignas(64) pthread_mutex_t lock;   /* robust, process-shared */

    /* Under the lock, changed only through the journal. */
    alignas(64) _Atomic uint32_t jn;    /* committed journal length; 0: none */
    struct shmq_jent jent[SHMQ_JOURNAL];
    _Atomic uint32_t head, tail;        /* queued messages, in delivery order */
    _Atomic uint32_t free_head;         /* recycled slots */
    _Atomic uint32_t fresh;             /* slots [fresh, maxmsg) never used */
    _Atomic uint32_t count, bytes;
    /* Single-word facts, stored directly. */
    _Atomic uint32_t removed;
    _Atomic int32_t last_send_pid, last_recv_pid;
    _Atomic uint32_t repairs;           /* times a dead holder's lock was repaired */

    alignas(64) _Atomic uint32_t ev_items;  /* receivers sleep here */
    alignas(64) _Atomic uint32_t ev_space;  /* senders sleep here */
    alignas(64) struct shmq_holder holders[UST_SHMQ_HOLDERS];
    /* Pollers' doorbells (shm_bell.h): a bit per watching bell. */
    alignas(64) _Atomic uint32_t nwatch;    /* bits set (0: skip the scan) */
    _Atomic uint64_t watch[UST_SHMBELL_MAX / 64];
};

struct shmq_slot {
    _Atomic uint32_t next;              /* queue or free list link */
    uint32_t len;
    int64_t key;
    unsigned char data[];
};

struct ust_shmq {
    struct shmq_hdr *h;
    unsigned char *base;
    size_t size;
    /* Copies of the geometry, checked at open: never re-read from the file. */
    uint32_t maxmsg, msgsize, stride, flags;
    uint64_t max_bytes, slots_off;
    unsigned access;
    unsigned spin, spin_max;            /* current and largest spin budget */
    int holder;                         /* our holder entry, or -1 */
    unsigned crash_at;                  /* test hook: ust_shmq_test_crash_at */
    struct ust_shmbell_arena *bells;    /* where watchers' bells are, or NULL */
    pid_t pid;
    dev_t dev;
    ino_t ino;
    char dir[SHMQ_PATH_MAX];            /* the directory of the object */
    char path[SHMQ_PATH_MAX];
};

struct shmq_journal {
    struct shmq_jent e[SHMQ_JOURNAL];
    unsigned n;
};

static void ring_watchers(const struct ust_shmq *q);

/* ---- Names and liveness ------------------------------------------------ */

static bool kind_ok(const char *kind)
{
    size_t n = strlen(kind);
    if (n == 0 || n > UST_SHMQ_KIND_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((kind[i] >= 'a' && kind[i] <= 'z') || (kind[i] >= '0' && kind[i] <= '9')))
            return false;
    return true;
}

int ust_shmq_path(const char *dir, const char *kind, const char *name, char *buf, size_t len)
{
    if (!kind || !name || !kind_ok(kind) || name[0] == '\0' || strchr(name, '/'))
        return -EINVAL;
    if (strlen(name) > UST_SHMQ_NAME_MAX)
        return -ENAMETOOLONG;
    int n = snprintf(buf, len, "%s/%s%s.%s", dir ? dir : SHMQ_DIR, SHMQ_PREFIX, kind, name);
    return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* Reads /proc/<pid>/stat: the state letter and the start time (field 22). */
static int proc_stat(pid_t pid, char *state, uint64_t *start)
{
    char path[40], buf[512];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return -EIO;
    buf[n] = '\0';
    char *p = strrchr(buf, ')');        /* the command name may hold spaces */
    if (!p || p[1] != ' ')
        return -EIO;
    p += 2;
    *state = *p;
    for (int field = 3; field < 22; field++) {
        p = strchr(p, ' ');
        if (!p)
            return -EIO;
        p++;
    }
    *start = strtoull(p, NULL, 10);
    return 0;
}

uint64_t ust_shm_pid_start(pid_t pid)
{
    char st;
    uint64_t start;
    return proc_stat(pid, &st, &start) == 0 ? start : 0;
}

bool ust_shm_pid_alive(pid_t pid, uint64_t start)
{
    if (pid <= 0)
        return false;
    if (kill(pid, 0) < 0 && errno == ESRCH)
        return false;
    char st;
    uint64_t now_start;
    if (proc_stat(pid, &st, &now_start) < 0)
        return true;                    /* exists, but /proc says nothing: assume alive */
    if (st == 'Z' || st == 'X')
        return false;                   /* killed, not yet reaped */
    return start == 0 || now_start == start;    /* else: the pid was reused */
}

/* ---- Slots and the journal --------------------------------------------- */

static struct shmq_slot *slot_at(const struct ust_shmq *q, uint32_t i)
{
    return (struct shmq_slot *)(q->base + q->slots_off + (size_t)i * q->stride);
}

static uint32_t ld(const _Atomic uint32_t *w)
{
    return atomic_load_explicit(w, memory_order_relaxed);
}

static void jset(const struct ust_shmq *q, struct shmq_journal *j, _Atomic uint32_t *w,
                 uint32_t val)
{
    j->e[j->n].off = (uint32_t)((unsigned char *)w - q->base);
    j->e[j->n].val = val;
    j->n++;
}

static void japply(const struct ust_shmq *q, const struct shmq_jent *e, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        uint32_t off = e[i].off;
        if (off % 4 != 0 || (size_t)off + 4 > q->size)
            continue;                   /* corrupt entry: never written by us */
        atomic_store_explicit((_Atomic uint32_t *)(q->base + off), e[i].val,
                              memory_order_relaxed);
    }
}

/* Test hook: SIGKILL ourselves at the crash_at-th point visited. */
static void crash_point(struct ust_shmq *q)
{
    if (q->crash_at && --q->crash_at == 0)
        kill(getpid(), SIGKILL);
}

/* The commit point of every operation: the store of jn. Before it the
 * operation has changed nothing a reader can see; after it, replaying the
 * journal finishes it. */
static void jcommit(struct ust_shmq *q, const struct shmq_journal *j)
{
    struct shmq_hdr *h = q->h;
    memcpy(h->jent, j->e, j->n * sizeof(j->e[0]));
    crash_point(q);
    atomic_store_explicit(&h->jn, j->n, memory_order_release);
    atomic_signal_fence(memory_order_seq_cst);  /* no apply store before the commit */
    crash_point(q);
    if (q->crash_at) {
        for (unsigned i = 0; i < j->n; i++) {
            japply(q, &j->e[i], 1);
            crash_point(q);
        }
    } else {
        japply(q, j->e, j->n);
    }
    atomic_signal_fence(memory_order_seq_cst);
    atomic_store_explicit(&h->jn, 0, memory_order_release);
    crash_point(q);
}

/* EOWNERDEAD: the previous holder died inside a critical section. */
static void shmq_repair(const struct ust_shmq *q)
{
    struct shmq_hdr *h = q->h;
    uint32_t n = atomic_load_explicit(&h->jn, memory_order_acquire);
    if (n > 0 && n <= SHMQ_JOURNAL) {
        struct shmq_jent e[SHMQ_JOURNAL];
        memcpy(e, h->jent, n * sizeof(e[0]));
        japply(q, e, n);
    }
    atomic_store_explicit(&h->jn, 0, memory_order_release);
    atomic_fetch_add_explicit(&h->repairs, 1, memory_order_relaxed);
    /* The dead holder may have bumped an event word without waking its
     * sleepers: wake everyone, they re-check. */
    ust_shmev_bump(&h->ev_items);
    ust_shmev_bump(&h->ev_space);
    ust_shmev_wake(&h->ev_items);
    ust_shmev_wake(&h->ev_space);
}

/* Only a process writing the file behind our back can break these; they
 * keep every index we follow inside the mapping. */
static bool shmq_sane(const struct ust_shmq *q)
{
    const struct shmq_hdr *h = q->h;
    uint32_t head = ld(&h->head), tail = ld(&h->tail), fh = ld(&h->free_head);
    return (head < q->maxmsg || head == SHMQ_NIL) && (tail < q->maxmsg || tail == SHMQ_NIL) &&
           (head == SHMQ_NIL) == (tail == SHMQ_NIL) && (fh < q->maxmsg || fh == SHMQ_NIL) &&
           ld(&h->fresh) <= q->maxmsg && ld(&h->count) <= q->maxmsg;
}

static int shmq_lock(const struct ust_shmq *q)
{
    pthread_mutex_t *m = &q->h->lock;
    int r = EBUSY;
    for (int i = 0; i < SHMQ_LOCK_SPIN && r == EBUSY; i++) {
        r = pthread_mutex_trylock(m);
        if (r == EBUSY)
            ust_cpu_relax();
    }
    if (r == EBUSY)
        r = pthread_mutex_lock(m);
    if (r == EOWNERDEAD) {
        shmq_repair(q);
        pthread_mutex_consistent(m);
        r = 0;
    }
    if (r == 0 && !shmq_sane(q)) {
        pthread_mutex_unlock(m);
        return -EIO;
    }
    return -r;
}

static void shmq_unlock(const struct ust_shmq *q)
{
    pthread_mutex_unlock(&q->h->lock);
}

/* ---- Holders ----------------------------------------------------------- */

/* Live holders with any bit of access; frees the entries of dead ones.
 * Called with the lock held. */
static unsigned holders_live(const struct ust_shmq *q, unsigned access)
{
    unsigned live = 0;
    for (int i = 0; i < UST_SHMQ_HOLDERS; i++) {
        struct shmq_holder *e = &q->h->holders[i];
        uint32_t pid = ld(&e->pid);
        if (pid == 0)
            continue;
        if ((pid_t)pid != q->pid && !ust_shm_pid_alive((pid_t)pid, e->start)) {
            atomic_store_explicit(&e->pid, 0, memory_order_relaxed);
            continue;
        }
        if (e->access & access)
            live++;
    }
    return live;
}

static int holder_add(struct ust_shmq *q)
{
    struct shmq_hdr *h = q->h;
    uint64_t start = ust_shm_pid_start(q->pid);
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < UST_SHMQ_HOLDERS; i++) {
            struct shmq_holder *e = &h->holders[i];
            if (ld(&e->pid) != 0)
                continue;
            e->access = q->access;
            e->start = start;
            /* The pid is the entry's commit word. */
            atomic_store_explicit(&e->pid, (uint32_t)q->pid, memory_order_release);
            q->holder = i;
            return 0;
        }
        holders_live(q, ~0u);           /* reap the dead, then look again */
    }
    return -ENOSPC;
}

/* ---- Create and open --------------------------------------------------- */

static size_t align_up(size_t v, size_t a)
{
    return (v + a - 1) / a * a;
}

static int attr_check(const struct ust_shmq_attr *a)
{
    if (!a || a->maxmsg == 0 || a->maxmsg > UST_SHMQ_MAXMSG_MAX || a->msgsize == 0 ||
        a->msgsize > UST_SHMQ_MSGSIZE_MAX ||
        (a->flags & ~(UST_SHMQ_PRIO | UST_SHMQ_AUTOREMOVE)) || (a->mode & ~07777u))
        return -EINVAL;
    size_t stride = align_up(sizeof(struct shmq_slot) + a->msgsize, 16);
    if ((uint64_t)stride * a->maxmsg > UST_SHMQ_BYTES_MAX ||
        a->max_bytes > UST_SHMQ_BYTES_MAX)
        return -ENOMEM;
    return 0;
}

/* The file mode: read+write for every class the object's mode grants
 * anything, since a receiver writes the queue too. Access is checked against
 * the mode in the header (perm_check). */
static mode_t file_mode(mode_t mode)
{
    mode_t m = 0;
    for (int shift = 0; shift <= 6; shift += 3)
        if (mode & (06u << shift))
            m |= 06u << shift;
    return m | 0600u;                   /* the creator keeps access */
}

static void hdr_init(struct shmq_hdr *h, const struct ust_shmq_attr *a, const char *kind,
                     const char *name, size_t size, size_t stride)
{
    memset(h, 0, sizeof(*h));
    h->magic = SHMQ_MAGIC;
    h->version = SHMQ_VERSION;
    h->flags = a->flags;
    h->maxmsg = a->maxmsg;
    h->msgsize = a->msgsize;
    h->stride = (uint32_t)stride;
    h->max_bytes = a->max_bytes;
    h->map_size = size;
    h->hdr_size = (uint32_t)sizeof(*h);
    h->slots_off = align_up(sizeof(*h), 64);
    h->mode = a->mode;
    h->uid = geteuid();
    h->gid = getegid();
    snprintf(h->kind, sizeof(h->kind), "%s", kind);
    snprintf(h->name, sizeof(h->name), "%s", name);
    pthread_mutexattr_t ma;
    pthread_mutexattr_init(&ma);
    pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
    pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST);
    pthread_mutex_init(&h->lock, &ma);
    pthread_mutexattr_destroy(&ma);
    h->head = SHMQ_NIL;
    h->tail = SHMQ_NIL;
    h->free_head = SHMQ_NIL;
}

/* An unnamed file in /dev/shm: O_TMPFILE, else a unique temporary name
 * (returned in tmp, to be unlinked once linked). */
static int tmpfile_open(const char *dir, char *tmp, size_t len)
{
    int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    tmp[0] = '\0';
    if (fd >= 0)
        return fd;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    for (unsigned i = 0; i < 100; i++) {
        snprintf(tmp, len, "%s/%stmp.%d.%ld.%u", dir, SHMQ_PREFIX, (int)getpid(),
                 (long)ts.tv_nsec, i);
        fd = open(tmp, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd >= 0 || errno != EEXIST)
            break;
    }
    if (fd < 0)
        tmp[0] = '\0';
    return fd < 0 ? -errno : fd;
}

/* Give fd the name path, atomically failing with EEXIST (O_EXCL). */
static int link_name(int fd, const char *tmp, const char *path)
{
    int r;
    if (tmp[0]) {
        r = link(tmp, path);
    } else {
        char proc[40];
        snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
        r = linkat(AT_FDCWD, proc, AT_FDCWD, path, AT_SYMLINK_FOLLOW);
    }
    return r < 0 ? -errno : 0;
}

/* Builds a complete object in an unnamed file, then links it under its
 * name: nobody can open a half-initialised object. Returns the fd or -errno
 * (-EEXIST if the name exists). */
static int shmq_create(const char *dir, const char *path, const struct ust_shmq_attr *a,
                       const char *kind, const char *name)
{
    size_t stride = align_up(sizeof(struct shmq_slot) + a->msgsize, 16);
    size_t size = align_up(sizeof(struct shmq_hdr), 64) + stride * a->maxmsg;
    char tmp[SHMQ_PATH_MAX + 64];
    int fd = tmpfile_open(dir, tmp, sizeof(tmp));
    if (fd < 0)
        return fd;
    int r = 0;
    void *map = MAP_FAILED;
    if (ftruncate(fd, (off_t)size) < 0 || fchmod(fd, file_mode(a->mode)) < 0)
        r = -errno;
    if (r == 0) {
        map = mmap(NULL, sizeof(struct shmq_hdr), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (map == MAP_FAILED)
            r = -errno;
    }
    if (r == 0) {
        hdr_init(map, a, kind, name, size, stride);
        munmap(map, sizeof(struct shmq_hdr));
        r = link_name(fd, tmp, path);
    }
    if (tmp[0])
        unlink(tmp);
    if (r < 0) {
        close(fd);
        return r;
    }
    return fd;
}

static bool in_group(gid_t gid)
{
    if (getegid() == gid)
        return true;
    int n = getgroups(0, NULL);
    if (n <= 0)
        return false;
    gid_t *g = malloc((size_t)n * sizeof(*g));
    bool found = false;
    if (g) {
        n = getgroups(n, g);
        for (int i = 0; i < n && !found; i++)
            found = g[i] == gid;
        free(g);
    }
    return found;
}

/* The kernel's ipcperms(): owner, group or other bits against the request. */
static int perm_check(const struct shmq_hdr *h, unsigned access)
{
    uid_t euid = geteuid();
    if (euid == 0)
        return 0;
    unsigned need = ((access & UST_SHMQ_RD) ? 4u : 0u) | ((access & UST_SHMQ_WR) ? 2u : 0u);
    unsigned granted;
    if (euid == h->uid)
        granted = (h->mode >> 6) & 7u;
    else if (in_group(h->gid))
        granted = (h->mode >> 3) & 7u;
    else
        granted = h->mode & 7u;
    return (need & ~granted) ? -EACCES : 0;
}

/* Checks that the mapped file is a well-formed object and caches its geometry. */
static int geometry_check(struct ust_shmq *q)
{
    const struct shmq_hdr *h = q->h;
    if (q->size < sizeof(*h) || h->magic != SHMQ_MAGIC || h->version != SHMQ_VERSION ||
        h->hdr_size != sizeof(*h) || h->map_size != q->size)
        return -EINVAL;
    if (h->maxmsg == 0 || h->maxmsg > UST_SHMQ_MAXMSG_MAX || h->msgsize == 0 ||
        h->msgsize > UST_SHMQ_MSGSIZE_MAX ||
        h->stride < sizeof(struct shmq_slot) + h->msgsize || h->stride % 16 != 0 ||
        h->slots_off != align_up(sizeof(*h), 64) ||
        h->slots_off + (uint64_t)h->stride * h->maxmsg != q->size)
        return -EINVAL;
    q->maxmsg = h->maxmsg;
    q->msgsize = h->msgsize;
    q->stride = h->stride;
    q->flags = h->flags;
    q->max_bytes = h->max_bytes;
    q->slots_off = h->slots_off;
    return 0;
}

static int shmq_map(struct ust_shmq *q, int fd)
{
    struct stat st;
    if (fstat(fd, &st) < 0)
        return -errno;
    if (!S_ISREG(st.st_mode) || st.st_size < (off_t)sizeof(struct shmq_hdr))
        return -EINVAL;
    q->dev = st.st_dev;
    q->ino = st.st_ino;
    q->size = (size_t)st.st_size;
    void *map = mmap(NULL, q->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED)
        return -errno;
    q->base = map;
    q->h = map;
    int r = geometry_check(q);
    if (r == 0)
        r = perm_check(q->h, q->access);
    if (r < 0) {
        munmap(map, q->size);
        q->base = NULL;
        q->h = NULL;
    }
    return r;
}

/* Opens path, creating it if asked; returns the fd. */
static int open_or_create(struct ust_shmq *q, const char *kind, const char *name, int oflag,
                          const struct ust_shmq_attr *attr)
{
    for (int tries = 0; tries < 8; tries++) {
        if (oflag & O_CREAT) {
            int fd = shmq_create(q->dir, q->path, attr, kind, name);
            if (fd >= 0 || fd != -EEXIST || (oflag & O_EXCL))
                return fd;
        }
        int fd = open(q->path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
        if (fd >= 0)
            return fd;
        if (errno != ENOENT || !(oflag & O_CREAT))
            return -errno;
        /* Unlinked between our create and open: try again. */
    }
    return -EAGAIN;
}

int ust_shmq_open(const char *dir, const char *kind, const char *name, int oflag,
                  unsigned access, const struct ust_shmq_attr *attr, struct ust_shmq **out)
{
    if ((access & ~(UST_SHMQ_RD | UST_SHMQ_WR)) || (oflag & ~(O_CREAT | O_EXCL)))
        return -EINVAL;
    struct ust_shmq *q = calloc(1, sizeof(*q));
    if (!q)
        return -ENOMEM;
    q->access = access;
    q->spin = UST_SHMQ_DEFAULT_SPIN;
    q->spin_max = UST_SHMQ_DEFAULT_SPIN;
    q->holder = -1;
    q->pid = getpid();
    snprintf(q->dir, sizeof(q->dir), "%s", dir ? dir : SHMQ_DIR);
    int r = ust_shmq_path(dir, kind, name, q->path, sizeof(q->path));
    if (r == 0 && (oflag & O_CREAT))
        r = attr_check(attr);
    int fd = r < 0 ? r : open_or_create(q, kind, name, oflag, attr);
    if (fd < 0) {
        free(q);
        return fd;
    }
    r = shmq_map(q, fd);
    close(fd);
    if (r == 0) {
        r = shmq_lock(q);
        if (r == 0) {
            r = holder_add(q);
            shmq_unlock(q);
        }
        if (r < 0)
            munmap(q->base, q->size);
    }
    if (r < 0) {
        free(q);
        return r;
    }
    *out = q;
    return 0;
}

int ust_shmq_after_fork(struct ust_shmq *q)
{
    q->pid = getpid();
    q->holder = -1;
    int r = shmq_lock(q);
    if (r < 0)
        return r;
    r = holder_add(q);
    shmq_unlock(q);
    return r;
}

/* Unlinks path only if it still names our object (not a newer one). */
static void unlink_if_ours(const struct ust_shmq *q)
{
    struct stat st;
    if (stat(q->path, &st) == 0 && st.st_dev == q->dev && st.st_ino == q->ino)
        unlink(q->path);
}

void ust_shmq_close(struct ust_shmq *q)
{
    if (!q)
        return;
    if (shmq_lock(q) == 0) {
        /* Only our own entry: a fork()ed child that did not call
         * ust_shmq_after_fork must not drop its parent's. */
        struct shmq_holder *e = q->holder >= 0 ? &q->h->holders[q->holder] : NULL;
        if (e && q->pid == getpid() && ld(&e->pid) == (uint32_t)q->pid)
            atomic_store_explicit(&e->pid, 0, memory_order_release);
        bool last = (q->flags & UST_SHMQ_AUTOREMOVE) && holders_live(q, ~0u) == 0;
        shmq_unlock(q);
        if (last)
            unlink_if_ours(q);
    }
    munmap(q->base, q->size);
    free(q);
}

int ust_shmq_list(const char *dir, int (*cb)(void *arg, const char *kind, const char *name),
                  void *arg)
{
    DIR *d = opendir(dir ? dir : SHMQ_DIR);
    if (!d)
        return -errno;
    int r = 0;
    struct dirent *de;
    while (r == 0 && (de = readdir(d)) != NULL) {
        const char *f = de->d_name;
        if (strncmp(f, SHMQ_PREFIX, sizeof(SHMQ_PREFIX) - 1) != 0)
            continue;
        f += sizeof(SHMQ_PREFIX) - 1;
        const char *dot = strchr(f, '.');
        char kind[UST_SHMQ_KIND_MAX + 1];
        size_t klen = dot ? (size_t)(dot - f) : 0;
        if (klen == 0 || klen > UST_SHMQ_KIND_MAX)
            continue;
        memcpy(kind, f, klen);
        kind[klen] = '\0';
        if (!kind_ok(kind) || strcmp(kind, "tmp") == 0 || strcmp(kind, "bells") == 0 ||
            dot[1] == '\0')
            continue;
        r = cb(arg, kind, dot + 1);
    }
    closedir(d);
    return r;
}

/* ---- Inspection (ipcs): read-only, lock-free ------------------------- */

/* A 32-bit word of the committed state: the journal's value if the pending
 * journal jent[0..jn) writes it, else the word itself. Plain fields are read
 * with atomic loads: a live holder may be writing them. */
static uint32_t committed_word(const struct shmq_hdr *h, uint32_t jn, const _Atomic uint32_t *w)
{
    uint32_t off = (uint32_t)((const unsigned char *)w - (const unsigned char *)h);
    uint32_t val = atomic_load_explicit(w, memory_order_relaxed);
    for (uint32_t i = 0; i < jn; i++)
        if (__atomic_load_n(&h->jent[i].off, __ATOMIC_RELAXED) == off)
            val = __atomic_load_n(&h->jent[i].val, __ATOMIC_RELAXED);
    return val;
}

/* The holder table as it is: live entries listed, dead ones only counted. */
static void inspect_holders(const struct shmq_hdr *h, struct ust_shmq_stat *st)
{
    for (int i = 0; i < UST_SHMQ_HOLDERS; i++) {
        const struct shmq_holder *e = &h->holders[i];
        uint32_t pid = atomic_load_explicit(&e->pid, memory_order_acquire);
        if (pid == 0)
            continue;
        unsigned access = __atomic_load_n(&e->access, __ATOMIC_RELAXED);
        uint64_t start = __atomic_load_n(&e->start, __ATOMIC_RELAXED);
        if (!ust_shm_pid_alive((pid_t)pid, start)) {
            st->ndead++;
            continue;
        }
        st->holder[st->nlive].pid = (pid_t)pid;
        st->holder[st->nlive].access = access;
        st->nlive++;
        if (access & UST_SHMQ_RD)
            st->info.readers++;
        if (access & UST_SHMQ_WR)
            st->info.writers++;
    }
}

static void inspect_read(const struct ust_shmq *q, struct ust_shmq_stat *st)
{
    const struct shmq_hdr *h = q->h;
    struct ust_shmq_info *in = &st->info;
    in->maxmsg = q->maxmsg;
    in->msgsize = q->msgsize;
    in->flags = q->flags;
    in->max_bytes = q->max_bytes;
    in->mode = (mode_t)h->mode;
    in->uid = (uid_t)h->uid;
    in->gid = (gid_t)h->gid;
    /* A committed journal (jn != 0) holds the operation's final values. */
    uint32_t jn = atomic_load_explicit(&h->jn, memory_order_acquire);
    if (jn > SHMQ_JOURNAL)
        jn = 0;
    st->pending = jn != 0;
    uint32_t count = committed_word(h, jn, &h->count);
    in->curmsgs = count <= q->maxmsg ? count : q->maxmsg;
    in->bytes = committed_word(h, jn, &h->bytes);
    in->last_send_pid = atomic_load_explicit(&h->last_send_pid, memory_order_relaxed);
    in->last_recv_pid = atomic_load_explicit(&h->last_recv_pid, memory_order_relaxed);
    in->removed = atomic_load_explicit(&h->removed, memory_order_relaxed) != 0;
    in->repairs = atomic_load_explicit(&h->repairs, memory_order_relaxed);
    st->size = q->size;
    inspect_holders(h, st);
}

int ust_shmq_inspect(const char *dir, const char *kind, const char *name,
                     struct ust_shmq_stat *st)
{
    struct ust_shmq q = { .holder = -1 };
    int r = ust_shmq_path(dir, kind, name, q.path, sizeof(q.path));
    if (r < 0)
        return r;
    int fd = open(q.path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return -errno;
    struct stat sb;
    r = fstat(fd, &sb) < 0 ? -errno : 0;
    if (r == 0 && (!S_ISREG(sb.st_mode) || sb.st_size < (off_t)sizeof(struct shmq_hdr)))
        r = -EINVAL;
    void *map = MAP_FAILED;
    if (r == 0) {
        /* PROT_READ: this handle cannot write the object, not even its lock. */
        q.size = (size_t)sb.st_size;
        map = mmap(NULL, q.size, PROT_READ, MAP_SHARED, fd, 0);
        if (map == MAP_FAILED)
            r = -errno;
    }
    close(fd);
    if (r < 0)
        return r;
    q.base = map;
    q.h = map;
    r = geometry_check(&q);
    if (r == 0)
        r = perm_check(q.h, UST_SHMQ_RD);   /* IPC_STAT needs read permission */
    if (r == 0) {
        memset(st, 0, sizeof(*st));
        inspect_read(&q, st);
    }
    munmap(map, q.size);
    return r;
}

int ust_shmq_unlink(const char *dir, const char *kind, const char *name)
{
    char path[SHMQ_PATH_MAX];
    int r = ust_shmq_path(dir, kind, name, path, sizeof(path));
    if (r < 0)
        return r;
    return unlink(path) < 0 ? -errno : 0;
}

int ust_shmq_remove(struct ust_shmq *q)
{
    int r = shmq_lock(q);
    if (r < 0)
        return r;
    atomic_store_explicit(&q->h->removed, 1, memory_order_release);
    bool wi = ust_shmev_bump(&q->h->ev_items);
    bool ws = ust_shmev_bump(&q->h->ev_space);
    if (wi)
        ust_shmev_wake(&q->h->ev_items);
    if (ws)
        ust_shmev_wake(&q->h->ev_space);
    shmq_unlock(q);
    ring_watchers(q);
    unlink_if_ours(q);
    return 0;
}

/* ---- Waiting ----------------------------------------------------------- */

static void ts_add_ns(struct timespec *t, long ns)
{
    t->tv_nsec += ns;
    while (t->tv_nsec >= 1000000000L) {
        t->tv_nsec -= 1000000000L;
        t->tv_sec++;
    }
}

static bool ts_before(const struct timespec *a, const struct timespec *b)
{
    return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

/* Sleeps on ev until it moves past snap, the deadline, or one slice: a
 * sleeper re-checks the queue at least every SHMQ_SLICE_NS, which bounds the
 * delay when a waker dies between changing the queue and waking us, and
 * when a peer dies (UST_SHMQ_HUP). Returns 0 (re-check) or -errno. */
static int shmq_sleep(struct ust_shmq *q, _Atomic uint32_t *ev, uint32_t snap,
                      unsigned flags, const struct timespec *deadline)
{
    if (deadline && !ust_timespec_valid(deadline))
        return -EINVAL;
    struct timespec now, until;
    clock_gettime(CLOCK_MONOTONIC, &now);
    until = now;
    ts_add_ns(&until, SHMQ_SLICE_NS);
    bool user = false;
    if (deadline) {
        struct timespec d = *deadline;
        if (flags & UST_SHMQ_REALTIME) {    /* move it onto the monotonic clock */
            struct timespec rt;
            clock_gettime(CLOCK_REALTIME, &rt);
            if (!ts_before(&rt, deadline))
                return -ETIMEDOUT;
            long long left = (long long)(d.tv_sec - rt.tv_sec) * 1000000000LL +
                             (d.tv_nsec - rt.tv_nsec);
            if (left < SHMQ_SLICE_NS) {
                d = now;
                ts_add_ns(&d, (long)left);
            } else {
                d = until;
            }
        }
        if (!ts_before(&until, &d)) {
            until = d;
            user = true;
        }
    }
    int r = ust_shmev_wait(ev, snap, q->spin, &until, false);
    /* Adaptive spinning: keep spinning while it pays (the peer runs on
     * another CPU), back off when we end up sleeping anyway (it does not). */
    if (r == 1)
        q->spin = q->spin * 2 < q->spin_max ? q->spin * 2 : q->spin_max;
    else if (r == 0 && q->spin / 2 >= q->spin_max / 8)
        q->spin /= 2;                   /* never below 1/8: it must be able to win again */
    if (r == -ETIMEDOUT && !user)
        return 0;                       /* end of a slice */
    return r < 0 ? r : 0;
}

/* ---- Doorbells --------------------------------------------------------- */

/* After a state change (and the unlock): ring every registered bell. The
 * fence pairs with ust_shmq_watch's: either the poller's re-check sees the
 * change or we see its bit (docs/IPC-SHARED.md). */
static void ring_watchers(const struct ust_shmq *q)
{
    atomic_thread_fence(memory_order_seq_cst);
    if (!q->bells || atomic_load_explicit(&q->h->nwatch, memory_order_relaxed) == 0)
        return;
    for (int w = 0; w < UST_SHMBELL_MAX / 64; w++) {
        uint64_t bits = atomic_load_explicit(&q->h->watch[w], memory_order_relaxed);
        while (bits) {
            int b = __builtin_ctzll(bits);
            bits &= bits - 1;
            ust_shmbell_ring(q->bells, w * 64 + b);
        }
    }
}

void ust_shmq_set_bells(struct ust_shmq *q, struct ust_shmbell_arena *a)
{
    q->bells = a;
}

int ust_shmq_watch(struct ust_shmq *q, int bell, bool on)
{
    if (bell < 0 || bell >= UST_SHMBELL_MAX)
        return -EINVAL;
    _Atomic uint64_t *w = &q->h->watch[bell / 64];
    uint64_t bit = 1ull << (bell % 64);
    if (on) {
        if (!(atomic_fetch_or(w, bit) & bit))
            atomic_fetch_add(&q->h->nwatch, 1);
    } else if (atomic_fetch_and(w, ~bit) & bit) {
        atomic_fetch_sub(&q->h->nwatch, 1);
    }
    atomic_thread_fence(memory_order_seq_cst);
    return 0;
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
    struct shmq_journal j = { .n = 0 };
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
    atomic_store_explicit(&h->last_send_pid, q->pid, memory_order_relaxed);
    jcommit(q, &j);
    /* Receivers see the counter move; sleepers are woken after the unlock. */
    return ust_shmev_bump(&h->ev_items);
}

static bool has_room(const struct ust_shmq *q, size_t len)
{
    const struct shmq_hdr *h = q->h;
    if (ld(&h->count) >= q->maxmsg)
        return false;
    return q->max_bytes == 0 || ld(&h->bytes) + len <= q->max_bytes;
}

int ust_shmq_send(struct ust_shmq *q, const void *msg, size_t len, int64_t key,
                  unsigned flags, const struct timespec *deadline)
{
    if (!(q->access & UST_SHMQ_WR))
        return -EBADF;
    if (len > q->msgsize)
        return -EMSGSIZE;
    struct shmq_hdr *h = q->h;
    for (;;) {
        int r = shmq_lock(q);
        if (r < 0)
            return r;
        if (ld(&h->removed)) {
            r = -EIDRM;
        } else if (has_room(q, len)) {
            bool wake = shmq_insert(q, msg, len, key);
            shmq_unlock(q);
            if (wake)
                ust_shmev_wake(&h->ev_items);
            ring_watchers(q);
            return 0;
        } else if (flags & UST_SHMQ_NONBLOCK) {
            r = -EAGAIN;
        } else if ((flags & UST_SHMQ_HUP) && holders_live(q, UST_SHMQ_RD) == 0) {
            r = -EPIPE;
        }
        uint32_t snap = ust_shmev_snapshot(&h->ev_space);
        shmq_unlock(q);
        if (r < 0)
            return r;
        r = shmq_sleep(q, &h->ev_space, snap, flags, deadline);
        if (r < 0)
            return r;
    }
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
                   (how == UST_SHMQ_SEL_NE && key != sel->type);
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
    struct shmq_journal j = { .n = 0 };
    struct shmq_slot *sl = slot_at(q, s);
    uint32_t next = ld(&sl->next);
    jset(q, &j, prev == SHMQ_NIL ? &h->head : &slot_at(q, prev)->next, next);
    if (ld(&h->tail) == s)
        jset(q, &j, &h->tail, prev);
    jset(q, &j, &sl->next, ld(&h->free_head));
    jset(q, &j, &h->free_head, s);
    jset(q, &j, &h->count, ld(&h->count) - 1);
    jset(q, &j, &h->bytes, ld(&h->bytes) - sl->len);
    atomic_store_explicit(&h->last_recv_pid, q->pid, memory_order_relaxed);
    jcommit(q, &j);
    return ust_shmev_bump(&h->ev_space);
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
    *wake = shmq_remove_slot(q, s, prev);
    return (ssize_t)len;
}

ssize_t ust_shmq_receive(struct ust_shmq *q, void *buf, size_t cap, int64_t *key,
                         const struct ust_shmq_sel *sel, unsigned flags,
                         const struct timespec *deadline)
{
    if (!(q->access & UST_SHMQ_RD))
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
        if (ld(&h->removed))
            n = -EIDRM;
        else
            n = shmq_take(q, buf, cap, key, sel, flags, &wake);
        if (n == -EAGAIN && !(flags & UST_SHMQ_NONBLOCK) && (flags & UST_SHMQ_HUP) &&
            holders_live(q, UST_SHMQ_WR) == 0)
            n = -EPIPE;                 /* end of file: no writer left */
        if (n != -EAGAIN || (flags & UST_SHMQ_NONBLOCK)) {
            shmq_unlock(q);
            if (wake)
                ust_shmev_wake(&h->ev_space);
            if (n >= 0)
                ring_watchers(q);
            return n;
        }
        uint32_t snap = ust_shmev_snapshot(&h->ev_items);
        shmq_unlock(q);
        r = shmq_sleep(q, &h->ev_items, snap, flags, deadline);
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
    info->mode = (mode_t)h->mode;
    info->uid = (uid_t)h->uid;
    info->gid = (gid_t)h->gid;
    info->last_send_pid = atomic_load_explicit(&h->last_send_pid, memory_order_relaxed);
    info->last_recv_pid = atomic_load_explicit(&h->last_recv_pid, memory_order_relaxed);
    info->readers = holders_live(q, UST_SHMQ_RD);
    info->writers = holders_live(q, UST_SHMQ_WR);
    info->removed = ld(&h->removed) != 0;
    info->repairs = ld(&h->repairs);
    shmq_unlock(q);
    return 0;
}

bool ust_shmq_readable(const struct ust_shmq *q)
{
    return atomic_load_explicit(&q->h->count, memory_order_acquire) > 0 ||
           atomic_load_explicit(&q->h->removed, memory_order_acquire);
}

bool ust_shmq_writable(const struct ust_shmq *q)
{
    return has_room(q, 0) || ld(&q->h->removed);
}

int ust_shmq_holders(struct ust_shmq *q, unsigned access)
{
    int r = shmq_lock(q);
    if (r < 0)
        return r;
    r = (int)holders_live(q, access);
    shmq_unlock(q);
    return r;
}

void ust_shmq_test_crash_at(struct ust_shmq *q, unsigned n)
{
    q->crash_at = n;
}

void ust_shmq_set_spin(struct ust_shmq *q, unsigned spin)
{
    q->spin = spin;
    q->spin_max = spin;
}
