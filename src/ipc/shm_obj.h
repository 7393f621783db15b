/* Shared-memory objects: the machinery common to every crash-safe object
 * that processes share through a file in an IPC directory (the message
 * queues of shm_queue.h, the FIFO byte rings of shm_fifo.h). The design and
 * its crash-safety argument are in docs/IPC-SHARED.md.
 *
 * One object = one file <dir>/ustack.<kind>.<name>, mapped MAP_SHARED. It
 * starts with struct ust_shmo_hdr (identity, permissions, the robust
 * process-shared lock, the redo journal, two event words, the holder table
 * and the watchers' bitmap); the object type's own header and body follow.
 * This layer gives:
 *   - atomic creation (an unnamed file, fully built, then linkat), opening,
 *     mapping and the common geometry and permission checks;
 *   - the robust lock, with the journal replayed on EOWNERDEAD;
 *   - the redo journal (jset / jcommit) and its crash-test hook;
 *   - holders (who has it open, for which side) and pid liveness;
 *   - sleeping on an event word in 50 ms slices, ringing watchers' bells;
 *   - unlink, listing a directory, a read-only lock-free mapping for ipcs.
 * Every function returns 0 / a count, or a negative errno. */
#ifndef UST_IPC_SHM_OBJ_H
#define UST_IPC_SHM_OBJ_H

#include <pthread.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "ipc/shm_bell.h"
#include "ipc/shm_futex.h"     /* ust_shmev_*: snapshot, bump, wake the event words */

#define UST_SHMO_DIR        "/dev/shm"  /* the default directory */
#define UST_SHMO_PREFIX     "ustack."
#define UST_SHMO_PATH_MAX   4096
#define UST_SHMO_NAME_MAX   200         /* the name part of <dir>/ustack.<kind>.<name> */
#define UST_SHMO_KIND_MAX   15
#define UST_SHMO_HOLDERS    64          /* open handles tracked per object */
#define UST_SHMO_JOURNAL    8           /* most word writes one operation makes */
#define UST_SHMO_SLICE_NS   50000000L   /* longest sleep before re-checking (50 ms) */
#define UST_SHMO_NIL        UINT32_MAX
#define UST_SHMO_DEFAULT_SPIN 200       /* rounds of ust_cpu_relax() before sleeping */

/* Object types: the layout after the common header. */
#define UST_SHMO_QUEUE      1u          /* shm_queue.c */
#define UST_SHMO_RING       2u          /* shm_fifo.c */

/* Access bits (same values as UST_SHMQ_RD / UST_SHMQ_WR). */
#define UST_SHMO_RD         0x1u
#define UST_SHMO_WR         0x2u
/* Sleep flag (same value as UST_SHMQ_REALTIME). */
#define UST_SHMO_REALTIME   0x2u

/* The two event words: readers sleep on IN (something to take), writers on
 * OUT (room to put). */
enum { UST_SHMO_EV_IN, UST_SHMO_EV_OUT };

struct ust_shmo_jent {
    uint32_t off;                       /* byte offset of a 32-bit word in the object */
    uint32_t val;
};

struct ust_shmo_holder {
    _Atomic uint32_t pid;               /* 0: free; stored last when registering */
    uint32_t access;
    uint64_t start;                     /* the holder's start time (liveness) */
};

/* Offset 0 of every object. */
struct ust_shmo_hdr {
    /* Identity: written once before the object gets its name. */
    uint32_t magic, version;
    uint32_t type;                      /* UST_SHMO_QUEUE, UST_SHMO_RING */
    uint32_t hdr_size;                  /* the type's whole header (this one included) */
    uint64_t map_size;                  /* the file's size */
    uint32_t mode, uid, gid, pad;
    char kind[UST_SHMO_KIND_MAX + 1];
    char name[UST_SHMO_NAME_MAX + 1];

    alignas(64) pthread_mutex_t lock;   /* robust, process-shared */

    /* Under the lock. */
    alignas(64) _Atomic uint32_t jn;    /* committed journal length; 0: none */
    struct ust_shmo_jent jent[UST_SHMO_JOURNAL];
    _Atomic uint32_t removed;           /* IPC_RMID: every waiter gets -EIDRM */
    _Atomic uint32_t repairs;           /* times a dead holder's lock was repaired */

    alignas(64) _Atomic uint32_t ev_in;     /* readers sleep here */
    alignas(64) _Atomic uint32_t ev_out;    /* writers sleep here */
    alignas(64) struct ust_shmo_holder holders[UST_SHMO_HOLDERS];
    /* Pollers' doorbells (shm_bell.h): a bit per watching bell. */
    alignas(64) _Atomic uint32_t nwatch;    /* bits set (0: skip the scan) */
    _Atomic uint64_t watch[UST_SHMBELL_MAX / 64];
};

/* A process's handle on an object; embedded first in the type's handle. */
struct ust_shmo {
    struct ust_shmo_hdr *h;
    unsigned char *base;
    size_t size;
    unsigned access;
    unsigned spin, spin_max;            /* current and largest spin budget */
    int holder;                         /* our holder entry, or -1 */
    unsigned crash_at;                  /* test hook: crash points left */
    struct ust_shmbell_arena *bells;    /* where watchers' bells are, or NULL */
    pid_t pid;
    dev_t dev;
    ino_t ino;
    bool (*sane)(const struct ust_shmo *o); /* the type's check after each lock */
    char dir[UST_SHMO_PATH_MAX];        /* the directory of the object */
    char path[UST_SHMO_PATH_MAX];
};

/* What creating an object needs: the type's header size (at least
 * sizeof(struct ust_shmo_hdr)), the file size, the mode (as given, no
 * umask) and a callback that fills the type's part of the header after the
 * common part is written (base is the start of the mapped header). */
struct ust_shmo_create {
    uint32_t type;
    size_t hdr_size;
    size_t size;
    mode_t mode;
    void (*init)(void *base, const void *arg);
    const void *arg;
};

/* What opening checks: the type and its header size; check() validates the
 * type's geometry (the common part is checked already) and caches it in the
 * handle that embeds o; sane() is called after every lock (may be NULL). */
struct ust_shmo_type {
    uint32_t type;
    size_t hdr_size;
    int (*check)(struct ust_shmo *o);
    bool (*sane)(const struct ust_shmo *o);
    bool strict_perm;       /* no root override (as ustack's private FIFOs) */
};

struct ust_shmo_journal {
    struct ust_shmo_jent e[UST_SHMO_JOURNAL];
    unsigned n;
};

/* ---- Names ------------------------------------------------------------- */

/* <dir>/ustack.<kind>.<name>; kind [a-z0-9]+, name non-empty without '/'.
 * 0, -EINVAL, -ENAMETOOLONG. */
int ust_shmo_path(const char *dir, const char *kind, const char *name, char *buf, size_t len);
/* Calls cb for every object in dir; stops at cb's first non-zero result. */
int ust_shmo_list(const char *dir, int (*cb)(void *arg, const char *kind, const char *name),
                  void *arg);
int ust_shmo_unlink(const char *dir, const char *kind, const char *name);

/* ---- Liveness ---------------------------------------------------------- */

/* Liveness of a recorded holder: pid with its start time (clock ticks since
 * boot, /proc/<pid>/stat field 22; 0: unknown). A zombie counts as dead. */
bool ust_shm_pid_alive(pid_t pid, uint64_t start);
/* A process's start time, or 0 if /proc is not readable. */
uint64_t ust_shm_pid_start(pid_t pid);

/* ---- Open and close ---------------------------------------------------- */

/* Opens (oflag O_CREAT, O_CREAT|O_EXCL or 0) kind/name in dir into o (a
 * zeroed handle embedded in the caller's), creating it from c if asked:
 * maps it, checks the common header, the type t, the permission for access
 * (the kernel's ipcperms()), and registers this process as a holder. On
 * error nothing stays mapped. */
int ust_shmo_open(struct ust_shmo *o, const char *dir, const char *kind, const char *name,
                  int oflag, unsigned access, const struct ust_shmo_create *c,
                  const struct ust_shmo_type *t);
/* Leaves the holder table (only our own entry); returns true if no live
 * holder is left. Does not unmap. */
bool ust_shmo_leave(struct ust_shmo *o);
void ust_shmo_unmap(struct ust_shmo *o);
/* In a fork()ed child: register the child as a holder of its own. */
int ust_shmo_after_fork(struct ust_shmo *o);
/* Unlinks o's path only if it still names this object (not a newer one). */
void ust_shmo_unlink_if_ours(const struct ust_shmo *o);
/* Marks the object removed, wakes every sleeper and watcher, unlinks it. */
int ust_shmo_remove(struct ust_shmo *o);

/* ---- Lock and journal -------------------------------------------------- */

/* Takes the robust lock, repairing after a dead holder; -EIO if the type's
 * sane() fails afterwards (the lock is then not held). */
int ust_shmo_lock(struct ust_shmo *o);
void ust_shmo_unlock(struct ust_shmo *o);
/* Adds the absolute write *w = val to j (w inside the mapping). */
void ust_shmo_jset(const struct ust_shmo *o, struct ust_shmo_journal *j, _Atomic uint32_t *w,
                   uint32_t val);
/* The commit point: writes j to the journal, commits (one store of jn),
 * applies, clears. A SIGKILL anywhere leaves all of j or none of it. */
void ust_shmo_jcommit(struct ust_shmo *o, const struct ust_shmo_journal *j);
/* Test hook: SIGKILL this process at the n-th crash point (1: journal
 * written, not committed; 2: committed; 3..: after each applied write;
 * last: journal cleared). 0: off. */
void ust_shmo_test_crash_at(struct ust_shmo *o, unsigned n);
/* Visits one crash point (for a type's own steps, e.g. a copy half done). */
void ust_shmo_crash_point(struct ust_shmo *o);

/* ---- Holders ----------------------------------------------------------- */

/* Live holders with any bit of access; frees dead entries. Lock held. */
unsigned ust_shmo_holders_live(const struct ust_shmo *o, unsigned access);
/* The same without the lock and without reaping (for poll hints). */
unsigned ust_shmo_holders_peek(const struct ust_shmo *o, unsigned access);

/* ---- Waiting and doorbells --------------------------------------------- */

/* Sleeps on ev until it moves past snap, the deadline (absolute,
 * CLOCK_MONOTONIC, or CLOCK_REALTIME with UST_SHMO_REALTIME; NULL: none) or
 * one 50 ms slice. 0: re-check; -ETIMEDOUT, -EINTR, -EINVAL (bad deadline). */
int ust_shmo_sleep(struct ust_shmo *o, _Atomic uint32_t *ev, uint32_t snap, unsigned flags,
                   const struct timespec *deadline);
/* After a change and the unlock: ring every watcher's bell. */
void ust_shmo_ring(const struct ust_shmo *o);
int ust_shmo_watch(struct ust_shmo *o, int bell, bool on);

/* ---- Read-only inspection (ipcs) --------------------------------------- */

struct ust_shmo_peek {
    unsigned nlive, ndead, readers, writers;
    pid_t pid[UST_SHMO_HOLDERS];
    unsigned access[UST_SHMO_HOLDERS];
};
/* Maps kind/name read-only into o without any lock or holder entry, checks
 * the common header and read permission (IPC_STAT); *type gets the
 * object's type. Unmap with ust_shmo_unmap. */
int ust_shmo_map_ro(struct ust_shmo *o, const char *dir, const char *kind, const char *name,
                    uint32_t *type);
/* The holder table as it is: live entries listed, dead ones only counted. */
void ust_shmo_peek_holders(const struct ust_shmo *o, struct ust_shmo_peek *p);
/* A word of the committed state: the pending journal's value if it writes
 * w, else the word itself (jn: the committed length read once). */
uint32_t ust_shmo_committed(const struct ust_shmo *o, uint32_t jn, const _Atomic uint32_t *w);
/* The committed journal length (0 if none or corrupt). */
uint32_t ust_shmo_pending(const struct ust_shmo *o);

size_t ust_shmo_align(size_t v, size_t a);

#endif
