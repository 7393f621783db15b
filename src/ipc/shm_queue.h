/* Crash-safe message queues in shared memory, shared between processes
 * (internal API; the design and its crash-safety argument are in
 * docs/IPC-SHARED.md).
 *
 * One object = one file /dev/shm/ustack.<kind>.<name>, mapped MAP_SHARED by
 * every process that opens it. All queue state is changed under a robust,
 * process-shared mutex through a redo journal, so a process SIGKILLed at any
 * instruction leaves the queue either as before or as after its operation.
 * Waiting uses futexes on shared event words (shm_futex.h).
 *
 * Messages leave highest key first and FIFO within a key when the queue has
 * UST_SHMQ_PRIO (POSIX priorities), and in plain FIFO order otherwise (System
 * V; a selector picks by type). Every call returns 0 / a length, or a negative
 * errno. A handle is used by one thread at a time; the object itself may be
 * used by any number of processes and threads at once. */
#ifndef UST_IPC_SHM_QUEUE_H
#define UST_IPC_SHM_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

struct ust_shmq;

/* Object flags (ust_shmq_attr.flags), fixed at creation. */
#define UST_SHMQ_PRIO        0x1u   /* order by key, highest first (POSIX mq) */
#define UST_SHMQ_AUTOREMOVE  0x2u   /* unlink the name when the last holder closes */

/* Open access (ust_shmq_open's access argument). */
#define UST_SHMQ_RD          0x1u   /* may receive; counts as a reader holder */
#define UST_SHMQ_WR          0x2u   /* may send; counts as a writer holder */

/* Per-call flags (send / receive). */
#define UST_SHMQ_NONBLOCK    0x1u   /* -EAGAIN instead of waiting */
#define UST_SHMQ_REALTIME    0x2u   /* the deadline is on CLOCK_REALTIME, not MONOTONIC */
#define UST_SHMQ_HUP         0x4u   /* -EPIPE when no live holder of the other side */
#define UST_SHMQ_SYSV_LEN    0x8u   /* receive: check cap against the message (E2BIG), not msgsize */
#define UST_SHMQ_NOERROR     0x10u  /* receive with SYSV_LEN: truncate instead of E2BIG */

/* Limits. */
#define UST_SHMQ_NAME_MAX    200    /* the name part of /dev/shm/ustack.<kind>.<name> */
#define UST_SHMQ_KIND_MAX    15
#define UST_SHMQ_MAXMSG_MAX  65536u /* HARD_MSGMAX */
#define UST_SHMQ_MSGSIZE_MAX (16u << 20) /* HARD_MSGSIZEMAX */
#define UST_SHMQ_BYTES_MAX   (1ull << 31) /* a whole object stays below 2 GiB + header */
#define UST_SHMQ_HOLDERS     64     /* open handles tracked per object */
#define UST_SHMQ_DEFAULT_SPIN 200   /* rounds of ust_cpu_relax() before sleeping (a few us) */

struct ust_shmq_attr {
    uint32_t maxmsg;        /* message slots: at most this many queued */
    uint32_t msgsize;       /* the largest message */
    uint64_t max_bytes;     /* total queued bytes (SysV msg_qbytes); 0: no byte limit */
    uint32_t flags;         /* UST_SHMQ_PRIO, UST_SHMQ_AUTOREMOVE */
    mode_t mode;            /* permission bits checked by ust_shmq_open (as given: no umask) */
};

/* Which message a receive takes (NULL: the first in queue order). The
 * System V msgtyp rules (msgrcv(2)). */
enum ust_shmq_sel_how {
    UST_SHMQ_SEL_FIRST,     /* msgtyp == 0 */
    UST_SHMQ_SEL_EQ,        /* msgtyp > 0: first with key == type */
    UST_SHMQ_SEL_NE,        /* msgtyp > 0 with MSG_EXCEPT: first with key != type */
    UST_SHMQ_SEL_LE,        /* msgtyp < 0: first of the lowest key <= type (type = -msgtyp) */
};
struct ust_shmq_sel {
    enum ust_shmq_sel_how how;
    int64_t type;
};

struct ust_shmq_info {
    uint32_t maxmsg, msgsize, flags;
    uint64_t max_bytes;
    uint32_t curmsgs;
    uint64_t bytes;         /* queued bytes */
    mode_t mode;
    uid_t uid;
    gid_t gid;
    pid_t last_send_pid, last_recv_pid;
    unsigned readers, writers;  /* live holders of each side */
    bool removed;
    uint32_t repairs;       /* times a holder died holding the lock and was repaired */
};

/* Every call that names an object takes the directory it lives in: dir
 * (NULL: /dev/shm). The directory is the namespace: processes meet on the
 * same objects only when they use the same one (struct ust_stack_config's
 * ipc_dir; tests use a private directory under /dev/shm).
 *
 * The file name of an object: <dir>/ustack.<kind>.<name>. kind is
 * [a-z0-9]+; name is any non-empty string without '/' (a POSIX mq name
 * without its leading slash, a SysV key in hex, an encoded FIFO path).
 * Returns 0, -EINVAL or -ENAMETOOLONG. */
int ust_shmq_path(const char *dir, const char *kind, const char *name, char *buf, size_t len);

/* Open (oflag O_CREAT, O_CREAT|O_EXCL, or 0) with the access
 * UST_SHMQ_RD|UST_SHMQ_WR; attr is needed only to create. Checks the mode
 * stored in the object against the caller's euid/egid (EACCES). Errors:
 * -EEXIST, -ENOENT, -EACCES, -EINVAL (attr out of range, a corrupt object),
 * -ENOSPC (holder table full), -ENOMEM, and open/mmap errors. */
int ust_shmq_open(const char *dir, const char *kind, const char *name, int oflag,
                  unsigned access, const struct ust_shmq_attr *attr, struct ust_shmq **out);
/* In a fork()ed child that goes on using an inherited handle: register the
 * child as a holder of its own (for EOF/EPIPE and auto-remove). Without it,
 * the inherited handle works but the child is not counted. */
int ust_shmq_after_fork(struct ust_shmq *q);
/* Drop this handle: leave the holder table, unmap; with AUTOREMOVE, the last
 * live holder's close unlinks the name. */
void ust_shmq_close(struct ust_shmq *q);
/* Calls cb for every object in dir (for `ustack ipcs`; open one with
 * access 0 to read its ust_shmq_info). Stops at and returns cb's first
 * non-zero result; 0 or -errno otherwise. */
int ust_shmq_list(const char *dir, int (*cb)(void *arg, const char *kind, const char *name),
                  void *arg);
/* A read-only snapshot of one object, for `ustack ipcs` (ust_shmq_inspect). */
struct ust_shmq_holder_info {
    pid_t pid;
    unsigned access;        /* UST_SHMQ_RD | UST_SHMQ_WR; 0: a handle that only inspects */
};
struct ust_shmq_stat {
    struct ust_shmq_info info;  /* readers, writers: live holders of each side */
    uint64_t size;              /* bytes of the object file */
    unsigned nlive;             /* live holders, listed in holder[0..nlive) */
    struct ust_shmq_holder_info holder[UST_SHMQ_HOLDERS];
    unsigned ndead;             /* entries of dead holders not reaped yet */
    bool pending;               /* a committed journal was not yet applied (its
                                 * holder is mid-operation or died): the counters
                                 * are the committed values, taken from it */
};
/* Reads the object kind/name without changing it: maps the file read-only
 * and takes no lock, so a holder that stopped or died holding the lock
 * cannot make it wait. The counters are the committed ones; while other
 * processes send and receive they are a momentary snapshot (each within its
 * limits). Needs read permission under the object's mode, as IPC_STAT does.
 * Dead holders are counted, not reaped. Returns 0, -ENOENT, -EACCES,
 * -EINVAL (not a well-formed object), or open/mmap errors. */
int ust_shmq_inspect(const char *dir, const char *kind, const char *name,
                     struct ust_shmq_stat *st);
/* Remove the name (mq_unlink); open handles keep working. */
int ust_shmq_unlink(const char *dir, const char *kind, const char *name);
/* Remove the object for everyone (IPC_RMID): mark it removed, wake every
 * waiter (they get -EIDRM), unlink the name. */
int ust_shmq_remove(struct ust_shmq *q);

/* Send len bytes with key (POSIX priority or SysV type). Waits while the
 * queue is full until the absolute deadline (NULL: forever). -EMSGSIZE (len
 * > msgsize), -EAGAIN (full, NONBLOCK), -ETIMEDOUT, -EINTR, -EINVAL (bad
 * deadline, only when it would wait), -EBADF (not opened UST_SHMQ_WR),
 * -EIDRM, -EPIPE (HUP and no live reader). Returns 0 once the message is in
 * the queue: from then on no crash of any process loses it. */
int ust_shmq_send(struct ust_shmq *q, const void *msg, size_t len, int64_t key,
                  unsigned flags, const struct timespec *deadline);
/* Receive the message sel picks into buf; returns its length (truncated
 * with NOERROR) and stores its key. -EMSGSIZE (cap < msgsize, POSIX),
 * -E2BIG (SYSV_LEN and the message is longer than cap), -EAGAIN (none,
 * NONBLOCK), -ETIMEDOUT, -EINTR, -EINVAL, -EBADF, -EIDRM, -EPIPE (HUP, queue
 * empty and no live writer: end of file). */
ssize_t ust_shmq_receive(struct ust_shmq *q, void *buf, size_t cap, int64_t *key,
                         const struct ust_shmq_sel *sel, unsigned flags,
                         const struct timespec *deadline);

/* Attributes and counters (curmsgs read under the lock). */
int ust_shmq_getattr(struct ust_shmq *q, struct ust_shmq_info *info);
/* Lock-free readiness hints for poll: a message is queued / a slot is free. */
bool ust_shmq_readable(const struct ust_shmq *q);
bool ust_shmq_writable(const struct ust_shmq *q);
/* Doorbells (shm_bell.h): the arena this handle rings watchers' bells in
 * (every process using an object must use the same arena), and registering
 * a bell to be rung on every change of the object (on) or no more (off).
 * A poller: watch, snapshot its bell, re-check readable/writable, wait. */
struct ust_shmbell_arena;
void ust_shmq_set_bells(struct ust_shmq *q, struct ust_shmbell_arena *a);
int ust_shmq_watch(struct ust_shmq *q, int bell, bool on);

/* Live holders with any of the access bits in `access` (dead ones are reaped). */
int ust_shmq_holders(struct ust_shmq *q, unsigned access);
/* Largest spin (rounds) before sleeping for this handle (0: sleep at once).
 * The handle adapts below it: it spins less while spinning does not pay. */
void ust_shmq_set_spin(struct ust_shmq *q, unsigned spin);

/* Test hook: this process SIGKILLs itself at the n-th "crash point" of the
 * next operations' commits (1: journal written, not committed; 2: committed,
 * nothing applied; 3..: after each applied write; last: journal cleared).
 * 0: off. Used by tests/unit/test_shmq_crash.c. */
void ust_shmq_test_crash_at(struct ust_shmq *q, unsigned n);

/* Liveness of a recorded holder: pid with its start time (clock ticks since
 * boot, /proc/<pid>/stat field 22; 0: unknown). A zombie counts as dead. */
bool ust_shm_pid_alive(pid_t pid, uint64_t start);
/* This process's start time, or 0 if /proc is not readable. */
uint64_t ust_shm_pid_start(pid_t pid);

#endif
