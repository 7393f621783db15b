/* Shared-memory objects (shm_obj.h): the machinery every shared object type
 * uses - names, atomic creation, mapping and checks, permissions, the
 * robust lock, the redo journal, holders and pid liveness, sleeping in
 * slices, watchers' doorbells, read-only inspection.
 *
 * Every change of a word that another operation may read goes through the
 * journal: the operation computes the new values, writes them to the
 * journal, commits by storing the journal length (one aligned 32-bit
 * store), applies them, and clears the length. A process that dies holding
 * the lock leaves the robust mutex in the EOWNERDEAD state; the next locker
 * replays a committed journal (the writes are absolute values, so replaying
 * twice is harmless) and discards an uncommitted one (docs/IPC-SHARED.md). */
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ipc/shm_bell.h"
#include "ipc/shm_futex.h"
#include "ipc/shm_obj.h"

#define SHMO_MAGIC      0x4f4d5355u     /* "USMO" */
#define SHMO_VERSION    2u
#define SHMO_LOCK_SPIN  50              /* trylock rounds before sleeping on the mutex */

static uint32_t ld(const _Atomic uint32_t *w)
{
    return atomic_load_explicit(w, memory_order_relaxed);
}

size_t ust_shmo_align(size_t v, size_t a)
{
    return (v + a - 1) / a * a;
}

/* ---- Names ------------------------------------------------------------- */

static bool kind_ok(const char *kind)
{
    size_t n = strlen(kind);
    if (n == 0 || n > UST_SHMO_KIND_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((kind[i] >= 'a' && kind[i] <= 'z') || (kind[i] >= '0' && kind[i] <= '9')))
            return false;
    return true;
}

int ust_shmo_path(const char *dir, const char *kind, const char *name, char *buf, size_t len)
{
    if (!kind || !name || !kind_ok(kind) || name[0] == '\0' || strchr(name, '/'))
        return -EINVAL;
    if (strlen(name) > UST_SHMO_NAME_MAX)
        return -ENAMETOOLONG;
    int n = snprintf(buf, len, "%s/%s%s.%s", dir ? dir : UST_SHMO_DIR, UST_SHMO_PREFIX, kind,
                     name);
    return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int ust_shmo_list(const char *dir, int (*cb)(void *arg, const char *kind, const char *name),
                  void *arg)
{
    DIR *d = opendir(dir ? dir : UST_SHMO_DIR);
    if (!d)
        return -errno;
    int r = 0;
    struct dirent *de;
    while (r == 0 && (de = readdir(d)) != NULL) {
        const char *f = de->d_name;
        if (strncmp(f, UST_SHMO_PREFIX, sizeof(UST_SHMO_PREFIX) - 1) != 0)
            continue;
        f += sizeof(UST_SHMO_PREFIX) - 1;
        const char *dot = strchr(f, '.');
        char kind[UST_SHMO_KIND_MAX + 1];
        size_t klen = dot ? (size_t)(dot - f) : 0;
        if (klen == 0 || klen > UST_SHMO_KIND_MAX)
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

int ust_shmo_unlink(const char *dir, const char *kind, const char *name)
{
    char path[UST_SHMO_PATH_MAX];
    int r = ust_shmo_path(dir, kind, name, path, sizeof(path));
    if (r < 0)
        return r;
    return unlink(path) < 0 ? -errno : 0;
}

/* ---- Liveness ---------------------------------------------------------- */

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

/* ---- The journal ------------------------------------------------------- */

void ust_shmo_jset(const struct ust_shmo *o, struct ust_shmo_journal *j, _Atomic uint32_t *w,
                   uint32_t val)
{
    if (j->n >= UST_SHMO_JOURNAL)
        abort();                        /* a caller's bug: journals are sized statically */
    j->e[j->n].off = (uint32_t)((unsigned char *)w - o->base);
    j->e[j->n].val = val;
    j->n++;
}

static void japply(const struct ust_shmo *o, const struct ust_shmo_jent *e, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        uint32_t off = e[i].off;
        if (off % 4 != 0 || (size_t)off + 4 > o->size)
            continue;                   /* corrupt entry: never written by us */
        atomic_store_explicit((_Atomic uint32_t *)(o->base + off), e[i].val,
                              memory_order_relaxed);
    }
}

void ust_shmo_crash_point(struct ust_shmo *o)
{
    if (o->crash_at && --o->crash_at == 0)
        kill(getpid(), SIGKILL);
}

void ust_shmo_test_crash_at(struct ust_shmo *o, unsigned n)
{
    o->crash_at = n;
}

/* The commit point of every operation: the store of jn. Before it the
 * operation has changed nothing a reader can see; after it, replaying the
 * journal finishes it. */
void ust_shmo_jcommit(struct ust_shmo *o, const struct ust_shmo_journal *j)
{
    struct ust_shmo_hdr *h = o->h;
    memcpy(h->jent, j->e, j->n * sizeof(j->e[0]));
    ust_shmo_crash_point(o);
    atomic_store_explicit(&h->jn, j->n, memory_order_release);
    atomic_signal_fence(memory_order_seq_cst);  /* no apply store before the commit */
    ust_shmo_crash_point(o);
    if (o->crash_at) {
        for (unsigned i = 0; i < j->n; i++) {
            japply(o, &j->e[i], 1);
            ust_shmo_crash_point(o);
        }
    } else {
        japply(o, j->e, j->n);
    }
    atomic_signal_fence(memory_order_seq_cst);
    atomic_store_explicit(&h->jn, 0, memory_order_release);
    ust_shmo_crash_point(o);
}

/* ---- The lock ---------------------------------------------------------- */

/* EOWNERDEAD: the previous holder died inside a critical section. */
static void repair(const struct ust_shmo *o)
{
    struct ust_shmo_hdr *h = o->h;
    uint32_t n = atomic_load_explicit(&h->jn, memory_order_acquire);
    if (n > 0 && n <= UST_SHMO_JOURNAL) {
        struct ust_shmo_jent e[UST_SHMO_JOURNAL];
        memcpy(e, h->jent, n * sizeof(e[0]));
        japply(o, e, n);
    }
    atomic_store_explicit(&h->jn, 0, memory_order_release);
    atomic_fetch_add_explicit(&h->repairs, 1, memory_order_relaxed);
    /* The dead holder may have bumped an event word without waking its
     * sleepers: wake everyone, they re-check. */
    ust_shmev_bump(&h->ev_in);
    ust_shmev_bump(&h->ev_out);
    ust_shmev_wake(&h->ev_in);
    ust_shmev_wake(&h->ev_out);
}

int ust_shmo_lock(struct ust_shmo *o)
{
    pthread_mutex_t *m = &o->h->lock;
    int r = EBUSY;
    for (int i = 0; i < SHMO_LOCK_SPIN && r == EBUSY; i++) {
        r = pthread_mutex_trylock(m);
        if (r == EBUSY)
            ust_cpu_relax();
    }
    if (r == EBUSY)
        r = pthread_mutex_lock(m);
    if (r == EOWNERDEAD) {
        repair(o);
        pthread_mutex_consistent(m);
        r = 0;
    }
    if (r == 0 && o->sane && !o->sane(o)) {
        pthread_mutex_unlock(m);
        return -EIO;
    }
    return -r;
}

void ust_shmo_unlock(struct ust_shmo *o)
{
    pthread_mutex_unlock(&o->h->lock);
}

/* ---- Holders ----------------------------------------------------------- */

unsigned ust_shmo_holders_live(const struct ust_shmo *o, unsigned access)
{
    unsigned live = 0;
    for (int i = 0; i < UST_SHMO_HOLDERS; i++) {
        struct ust_shmo_holder *e = &o->h->holders[i];
        uint32_t pid = ld(&e->pid);
        if (pid == 0)
            continue;
        if ((pid_t)pid != o->pid && !ust_shm_pid_alive((pid_t)pid, e->start)) {
            atomic_store_explicit(&e->pid, 0, memory_order_relaxed);
            continue;
        }
        if (e->access & access)
            live++;
    }
    return live;
}

unsigned ust_shmo_holders_peek(const struct ust_shmo *o, unsigned access)
{
    unsigned live = 0;
    for (int i = 0; i < UST_SHMO_HOLDERS; i++) {
        const struct ust_shmo_holder *e = &o->h->holders[i];
        uint32_t pid = atomic_load_explicit(&e->pid, memory_order_acquire);
        if (pid == 0 || !(__atomic_load_n(&e->access, __ATOMIC_RELAXED) & access))
            continue;
        if ((pid_t)pid == o->pid ||
            ust_shm_pid_alive((pid_t)pid, __atomic_load_n(&e->start, __ATOMIC_RELAXED)))
            live++;
    }
    return live;
}

static int holder_add(struct ust_shmo *o)
{
    struct ust_shmo_hdr *h = o->h;
    uint64_t start = ust_shm_pid_start(o->pid);
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < UST_SHMO_HOLDERS; i++) {
            struct ust_shmo_holder *e = &h->holders[i];
            if (ld(&e->pid) != 0)
                continue;
            __atomic_store_n(&e->access, o->access, __ATOMIC_RELAXED);
            __atomic_store_n(&e->start, start, __ATOMIC_RELAXED);
            /* The pid is the entry's commit word. */
            atomic_store_explicit(&e->pid, (uint32_t)o->pid, memory_order_release);
            o->holder = i;
            return 0;
        }
        ust_shmo_holders_live(o, ~0u);  /* reap the dead, then look again */
    }
    return -ENOSPC;
}

/* ---- Create ------------------------------------------------------------ */

/* The file mode: read+write for every class the object's mode grants
 * anything, since a reader writes the shared state too. Access is checked
 * against the mode in the header (perm_check). */
static mode_t file_mode(mode_t mode)
{
    mode_t m = 0;
    for (int shift = 0; shift <= 6; shift += 3)
        if (mode & (06u << shift))
            m |= 06u << shift;
    return m | 0600u;                   /* the creator keeps access */
}

static void hdr_init(struct ust_shmo_hdr *h, const struct ust_shmo_create *c, const char *kind,
                     const char *name)
{
    memset(h, 0, c->hdr_size);
    h->magic = SHMO_MAGIC;
    h->version = SHMO_VERSION;
    h->type = c->type;
    h->hdr_size = (uint32_t)c->hdr_size;
    h->map_size = c->size;
    h->mode = c->mode;
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
    if (c->init)
        c->init(h, c->arg);
}

/* An unnamed file in dir: O_TMPFILE, else a unique temporary name
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
        snprintf(tmp, len, "%s/%stmp.%d.%ld.%u", dir, UST_SHMO_PREFIX, (int)getpid(),
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
static int obj_create(const char *dir, const char *path, const struct ust_shmo_create *c,
                      const char *kind, const char *name)
{
    char tmp[UST_SHMO_PATH_MAX + 64];
    int fd = tmpfile_open(dir, tmp, sizeof(tmp));
    if (fd < 0)
        return fd;
    int r = 0;
    void *map = MAP_FAILED;
    if (ftruncate(fd, (off_t)c->size) < 0 || fchmod(fd, file_mode(c->mode)) < 0)
        r = -errno;
    if (r == 0) {
        map = mmap(NULL, c->hdr_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (map == MAP_FAILED)
            r = -errno;
    }
    if (r == 0) {
        hdr_init(map, c, kind, name);
        munmap(map, c->hdr_size);
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

/* ---- Open -------------------------------------------------------------- */

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
static int perm_check(const struct ust_shmo_hdr *h, unsigned access, bool strict)
{
    uid_t euid = geteuid();
    if (euid == 0 && !strict)
        return 0;
    unsigned need = ((access & UST_SHMO_RD) ? 4u : 0u) | ((access & UST_SHMO_WR) ? 2u : 0u);
    unsigned granted;
    if (euid == h->uid)
        granted = (h->mode >> 6) & 7u;
    else if (in_group(h->gid))
        granted = (h->mode >> 3) & 7u;
    else
        granted = h->mode & 7u;
    return (need & ~granted) ? -EACCES : 0;
}

/* The common header: ours, complete, and as large as the file. */
static int common_check(const struct ust_shmo *o)
{
    const struct ust_shmo_hdr *h = o->h;
    if (o->size < sizeof(*h) || h->magic != SHMO_MAGIC || h->version != SHMO_VERSION ||
        h->hdr_size < sizeof(*h) || h->hdr_size > o->size || h->map_size != o->size)
        return -EINVAL;
    return 0;
}

/* Maps fd (prot) into o and checks the common header. */
static int obj_map(struct ust_shmo *o, int fd, int prot)
{
    struct stat st;
    if (fstat(fd, &st) < 0)
        return -errno;
    if (!S_ISREG(st.st_mode) || st.st_size < (off_t)sizeof(struct ust_shmo_hdr))
        return -EINVAL;
    o->dev = st.st_dev;
    o->ino = st.st_ino;
    o->size = (size_t)st.st_size;
    void *map = mmap(NULL, o->size, prot, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED)
        return -errno;
    o->base = map;
    o->h = map;
    int r = common_check(o);
    if (r < 0)
        ust_shmo_unmap(o);
    return r;
}

/* Opens path, creating it if asked; returns the fd. */
static int open_or_create(struct ust_shmo *o, const char *kind, const char *name, int oflag,
                          const struct ust_shmo_create *c)
{
    for (int tries = 0; tries < 8; tries++) {
        if (oflag & O_CREAT) {
            int fd = obj_create(o->dir, o->path, c, kind, name);
            if (fd >= 0 || fd != -EEXIST || (oflag & O_EXCL))
                return fd;
        }
        int fd = open(o->path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
        if (fd >= 0)
            return fd;
        if (errno != ENOENT || !(oflag & O_CREAT))
            return -errno;
        /* Unlinked between our create and open: try again. */
    }
    return -EAGAIN;
}

int ust_shmo_open(struct ust_shmo *o, const char *dir, const char *kind, const char *name,
                  int oflag, unsigned access, const struct ust_shmo_create *c,
                  const struct ust_shmo_type *t)
{
    if ((access & ~(UST_SHMO_RD | UST_SHMO_WR)) || (oflag & ~(O_CREAT | O_EXCL)) ||
        ((oflag & O_CREAT) && !c))
        return -EINVAL;
    o->access = access;
    o->holder = -1;
    o->pid = getpid();
    o->sane = t->sane;
    o->spin = UST_SHMO_DEFAULT_SPIN;
    o->spin_max = UST_SHMO_DEFAULT_SPIN;
    snprintf(o->dir, sizeof(o->dir), "%s", dir ? dir : UST_SHMO_DIR);
    int r = ust_shmo_path(dir, kind, name, o->path, sizeof(o->path));
    int fd = r < 0 ? r : open_or_create(o, kind, name, oflag, c);
    if (fd < 0)
        return fd;
    r = obj_map(o, fd, PROT_READ | PROT_WRITE);
    close(fd);
    if (r < 0)
        return r;
    if (o->h->type != t->type || o->h->hdr_size != t->hdr_size)
        r = -EINVAL;
    if (r == 0 && t->check)
        r = t->check(o);
    if (r == 0)
        r = perm_check(o->h, access, t->strict_perm);
    if (r == 0) {
        r = ust_shmo_lock(o);
        if (r == 0) {
            r = holder_add(o);
            ust_shmo_unlock(o);
        }
    }
    if (r < 0)
        ust_shmo_unmap(o);
    return r;
}

int ust_shmo_after_fork(struct ust_shmo *o)
{
    o->pid = getpid();
    o->holder = -1;
    int r = ust_shmo_lock(o);
    if (r < 0)
        return r;
    r = holder_add(o);
    ust_shmo_unlock(o);
    return r;
}

bool ust_shmo_leave(struct ust_shmo *o)
{
    if (ust_shmo_lock(o) < 0)
        return false;
    /* Only our own entry: a fork()ed child that did not call after_fork
     * must not drop its parent's. */
    struct ust_shmo_holder *e = o->holder >= 0 ? &o->h->holders[o->holder] : NULL;
    if (e && o->pid == getpid() && ld(&e->pid) == (uint32_t)o->pid)
        atomic_store_explicit(&e->pid, 0, memory_order_release);
    o->holder = -1;
    bool last = ust_shmo_holders_live(o, ~0u) == 0;
    /* Sleepers waiting for this side re-check (EOF, EPIPE) at once. */
    bool wi = ust_shmev_bump(&o->h->ev_in);
    bool wo = ust_shmev_bump(&o->h->ev_out);
    ust_shmo_unlock(o);
    if (wi)
        ust_shmev_wake(&o->h->ev_in);
    if (wo)
        ust_shmev_wake(&o->h->ev_out);
    ust_shmo_ring(o);
    return last;
}

void ust_shmo_unmap(struct ust_shmo *o)
{
    if (o->base)
        munmap(o->base, o->size);
    o->base = NULL;
    o->h = NULL;
}

void ust_shmo_unlink_if_ours(const struct ust_shmo *o)
{
    struct stat st;
    if (stat(o->path, &st) == 0 && st.st_dev == o->dev && st.st_ino == o->ino)
        unlink(o->path);
}

int ust_shmo_remove(struct ust_shmo *o)
{
    int r = ust_shmo_lock(o);
    if (r < 0)
        return r;
    atomic_store_explicit(&o->h->removed, 1, memory_order_release);
    bool wi = ust_shmev_bump(&o->h->ev_in);
    bool wo = ust_shmev_bump(&o->h->ev_out);
    if (wi)
        ust_shmev_wake(&o->h->ev_in);
    if (wo)
        ust_shmev_wake(&o->h->ev_out);
    ust_shmo_unlock(o);
    ust_shmo_ring(o);
    ust_shmo_unlink_if_ours(o);
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

/* A sleeper re-checks the object at least every UST_SHMO_SLICE_NS, which
 * bounds the delay when a waker dies between changing the object and waking
 * us, and when a peer dies (EOF, EPIPE). */
int ust_shmo_sleep(struct ust_shmo *o, _Atomic uint32_t *ev, uint32_t snap, unsigned flags,
                   const struct timespec *deadline)
{
    if (deadline && !ust_timespec_valid(deadline))
        return -EINVAL;
    struct timespec now, until;
    clock_gettime(CLOCK_MONOTONIC, &now);
    until = now;
    ts_add_ns(&until, UST_SHMO_SLICE_NS);
    bool user = false;
    if (deadline) {
        struct timespec d = *deadline;
        if (flags & UST_SHMO_REALTIME) {    /* move it onto the monotonic clock */
            struct timespec rt;
            clock_gettime(CLOCK_REALTIME, &rt);
            if (!ts_before(&rt, deadline))
                return -ETIMEDOUT;
            long long left = (long long)(d.tv_sec - rt.tv_sec) * 1000000000LL +
                             (d.tv_nsec - rt.tv_nsec);
            if (left < UST_SHMO_SLICE_NS) {
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
    int r = ust_shmev_wait(ev, snap, o->spin, &until, false);
    /* Adaptive spinning: keep spinning while it pays (the peer runs on
     * another CPU), back off when we end up sleeping anyway (it does not). */
    if (r == 1)
        o->spin = o->spin * 2 < o->spin_max ? o->spin * 2 : o->spin_max;
    else if (r == 0 && o->spin / 2 >= o->spin_max / 8)
        o->spin /= 2;                   /* never below 1/8: it must be able to win again */
    if (r == -ETIMEDOUT && !user)
        return 0;                       /* end of a slice */
    return r < 0 ? r : 0;
}

/* ---- Doorbells --------------------------------------------------------- */

/* After a state change (and the unlock): ring every registered bell. The
 * fence pairs with ust_shmo_watch's: either the poller's re-check sees the
 * change or we see its bit (docs/IPC-SHARED.md). */
void ust_shmo_ring(const struct ust_shmo *o)
{
    atomic_thread_fence(memory_order_seq_cst);
    if (!o->bells || atomic_load_explicit(&o->h->nwatch, memory_order_relaxed) == 0)
        return;
    for (int w = 0; w < UST_SHMBELL_MAX / 64; w++) {
        uint64_t bits = atomic_load_explicit(&o->h->watch[w], memory_order_relaxed);
        while (bits) {
            int b = __builtin_ctzll(bits);
            bits &= bits - 1;
            ust_shmbell_ring(o->bells, w * 64 + b);
        }
    }
}

int ust_shmo_watch(struct ust_shmo *o, int bell, bool on)
{
    if (bell < 0 || bell >= UST_SHMBELL_MAX)
        return -EINVAL;
    _Atomic uint64_t *w = &o->h->watch[bell / 64];
    uint64_t bit = 1ull << (bell % 64);
    if (on) {
        if (!(atomic_fetch_or(w, bit) & bit))
            atomic_fetch_add(&o->h->nwatch, 1);
    } else if (atomic_fetch_and(w, ~bit) & bit) {
        atomic_fetch_sub(&o->h->nwatch, 1);
    }
    atomic_thread_fence(memory_order_seq_cst);
    return 0;
}

/* ---- Inspection (ipcs): read-only, lock-free ------------------------- */

int ust_shmo_map_ro(struct ust_shmo *o, const char *dir, const char *kind, const char *name,
                    uint32_t *type)
{
    memset(o, 0, sizeof(*o));
    o->holder = -1;
    int r = ust_shmo_path(dir, kind, name, o->path, sizeof(o->path));
    if (r < 0)
        return r;
    int fd = open(o->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return -errno;
    /* PROT_READ: this handle cannot write the object, not even its lock. */
    r = obj_map(o, fd, PROT_READ);
    close(fd);
    if (r < 0)
        return r;
    r = perm_check(o->h, UST_SHMO_RD, false);  /* IPC_STAT needs read permission */
    if (r < 0) {
        ust_shmo_unmap(o);
        return r;
    }
    *type = o->h->type;
    return 0;
}

void ust_shmo_peek_holders(const struct ust_shmo *o, struct ust_shmo_peek *p)
{
    memset(p, 0, sizeof(*p));
    for (int i = 0; i < UST_SHMO_HOLDERS; i++) {
        const struct ust_shmo_holder *e = &o->h->holders[i];
        uint32_t pid = atomic_load_explicit(&e->pid, memory_order_acquire);
        if (pid == 0)
            continue;
        unsigned access = __atomic_load_n(&e->access, __ATOMIC_RELAXED);
        uint64_t start = __atomic_load_n(&e->start, __ATOMIC_RELAXED);
        if (!ust_shm_pid_alive((pid_t)pid, start)) {
            p->ndead++;
            continue;
        }
        p->pid[p->nlive] = (pid_t)pid;
        p->access[p->nlive] = access;
        p->nlive++;
        if (access & UST_SHMO_RD)
            p->readers++;
        if (access & UST_SHMO_WR)
            p->writers++;
    }
}

uint32_t ust_shmo_pending(const struct ust_shmo *o)
{
    uint32_t jn = atomic_load_explicit(&o->h->jn, memory_order_acquire);
    return jn > UST_SHMO_JOURNAL ? 0 : jn;
}

/* Plain fields are read with atomic loads: a live holder may be writing them. */
uint32_t ust_shmo_committed(const struct ust_shmo *o, uint32_t jn, const _Atomic uint32_t *w)
{
    const struct ust_shmo_hdr *h = o->h;
    uint32_t off = (uint32_t)((const unsigned char *)w - o->base);
    uint32_t val = atomic_load_explicit(w, memory_order_relaxed);
    for (uint32_t i = 0; i < jn; i++)
        if (__atomic_load_n(&h->jent[i].off, __ATOMIC_RELAXED) == off)
            val = __atomic_load_n(&h->jent[i].val, __ATOMIC_RELAXED);
    return val;
}
