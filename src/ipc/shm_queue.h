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

#include "ipc/shm_obj.h"     /* ust_shm_pid_alive, ust_shm_pid_start */

struct ust_shmq;

/* Object flags (ust_shmq_attr.flags), fixed at creation. */
#define UST_SHMQ_PRIO        0x1u   /* order by key, highest first (POSIX mq) */
#define UST_SHMQ_AUTOREMOVE  0x2u   /* unlink the name when the last holder closes */
#define UST_SHMQ_SYSV        0x4u   /* a System V queue: struct ust_shmq_sysv below */

/* Open access (ust_shmq_open's access argument). */
#define UST_SHMQ_RD          0x1u   /* may receive; counts as a reader holder */
#define UST_SHMQ_WR          0x2u   /* may send; counts as a writer holder */

/* Per-call flags (send / receive). */
#define UST_SHMQ_NONBLOCK    0x1u   /* -EAGAIN instead of waiting */
#define UST_SHMQ_REALTIME    0x2u   /* the deadline is on CLOCK_REALTIME, not MONOTONIC */
#define UST_SHMQ_HUP         0x4u   /* -EPIPE when no live holder of the other side */
#define UST_SHMQ_SYSV_LEN    0x8u   /* receive: check cap against the message (E2BIG), not msgsize */
#define UST_SHMQ_NOERROR     0x10u  /* receive with SYSV_LEN: truncate instead of E2BIG */
#define UST_SHMQ_RESTART     0x20u  /* ust_shmq_wait: a handler with SA_RESTART does not end
                                     * the wait (futex_waitv restarts; signal(7)) */
#define UST_SHMQ_PEEK        0x40u  /* receive: copy the message, leave it queued (MSG_COPY) */

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
    const struct ust_shmq_sysv *sysv;   /* UST_SHMQ_SYSV: its initial state */
};

/* The System V state of a UST_SHMQ_SYSV queue (msg_shared.c), in its
 * header. Such an object is created with mode 0666 whatever attr.mode says,
 * so that every process can open it, and the System V permissions (mode,
 * uid, gid, cuid, cgid here) are checked by the caller (ipcperms()). Read
 * and written under ust_shmq_lock_sysv, except qbytes, which the queue
 * reads for its room rule (msg_fits_inqueue: count + 1 <= qbytes and
 * bytes + len <= qbytes, besides maxmsg) with __atomic loads. The queue
 * stamps stime on each send and rtime on each receive. */
struct ust_shmq_sysv {
    int32_t id;             /* msqid */
    int32_t key;
    uint32_t uid, gid, cuid, cgid, mode;
    uint32_t pad;
    uint64_t qbytes;        /* msg_qbytes */
    int64_t stime, rtime, ctime;
};

/* Which message a receive takes (NULL: the first in queue order). The
 * System V msgtyp rules (msgrcv(2)). */
enum ust_shmq_sel_how {
    UST_SHMQ_SEL_FIRST,     /* msgtyp == 0 */
    UST_SHMQ_SEL_EQ,        /* msgtyp > 0: first with key == type */
    UST_SHMQ_SEL_NE,        /* msgtyp > 0 with MSG_EXCEPT: first with key != type */
    UST_SHMQ_SEL_LE,        /* msgtyp < 0: first of the lowest key <= type (type = -msgtyp) */
    UST_SHMQ_SEL_RANGE,     /* first with lo <= key <= hi, type = UST_SHMQ_RANGE(lo, hi)
                             * (with UST_SHMQ_PRIO: the highest priority in a band,
                             * ust_mq_receive_prio) */
    UST_SHMQ_SEL_NTH,       /* MSG_COPY: the type-th message in queue order (0: the head) */
};
/* The type of a UST_SHMQ_SEL_RANGE selector: keys lo..hi, each 0..INT32_MAX. */
#define UST_SHMQ_RANGE(lo, hi) ((int64_t)(lo) | ((int64_t)(hi) << 32))
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
    bool has_sysv;              /* UST_SHMQ_SYSV: sysv is its System V state */
    struct ust_shmq_sysv sysv;
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

/* ---- Waiting by the caller, and POSIX mq_notify (mq_shared.c) ----------
 * A caller that must do its own blocking (release its own lock, count its
 * sleepers, choose the signal semantics) tries with UST_SHMQ_NONBLOCK and
 * waits in between:
 *     snap = ust_shmq_snapshot(q, space);   before the try
 *     try with UST_SHMQ_NONBLOCK; on -EAGAIN: ust_shmq_wait(q, space, snap, ...)
 * Every change after the snapshot moves the event word, so no wake-up is
 * lost. space: wait for room (a sender), else for a message (a receiver).
 * These calls and UST_SHMQ_NONBLOCK sends and receives change nothing in
 * the handle (no adaptive spin), so several threads may use one handle
 * this way at once (mq_shared.c does). */
uint32_t ust_shmq_snapshot(const struct ust_shmq *q, bool space);
/* Sleeps until the event word moves past snap, the absolute deadline
 * (CLOCK_MONOTONIC, or CLOCK_REALTIME with UST_SHMQ_REALTIME; NULL: none)
 * or one 50 ms slice. flags UST_SHMQ_RESTART: a signal handler with
 * SA_RESTART does not end it. 0 (re-check), -ETIMEDOUT, -EINTR, -EINVAL. */
int ust_shmq_wait(struct ust_shmq *q, bool space, uint32_t snap, unsigned flags,
                  const struct timespec *deadline);
/* A receiver of this handle is (on) / is no more (off) blocked: a send to
 * an empty queue then fires no notification (mq_notify(3)). Per holder
 * entry, so a receiver that dies blocked stops counting with its process. */
void ust_shmq_receiver_waiting(struct ust_shmq *q, bool on);

/* The one mq_notify registration of a queue, kept in the object. */
struct ust_shmq_notify {
    pid_t pid;              /* the registering process; 0: none */
    int how;                /* SIGEV_NONE, SIGEV_SIGNAL, SIGEV_THREAD */
    int signo;
    uint64_t value;         /* sigev_value, as an integer */
    uint64_t tag;           /* who may fire a SIGEV_THREAD one (its stack) */
    uint64_t token;         /* the registrant's own reference */
};
/* Registers n for this process: -EBUSY while a live process holds one. */
int ust_shmq_notify_set(struct ust_shmq *q, const struct ust_shmq_notify *n);
/* Removes the registration if process pid holds it. */
int ust_shmq_notify_clear(struct ust_shmq *q, pid_t pid);
/* The live registration (pid 0: none). */
int ust_shmq_notify_get(struct ust_shmq *q, struct ust_shmq_notify *n);
/* ust_shmq_send that also fires the registration (mq_notify(3)): when the
 * message goes into an empty queue, no receiver is blocked and a live
 * process is registered, the registration is removed and copied to *fired
 * (pid 0: none fired). A SIGEV_THREAD registration fires only for a sender
 * passing its tag (it stays registered otherwise). */
int ust_shmq_send_notify(struct ust_shmq *q, const void *msg, size_t len, int64_t key,
                         unsigned flags, const struct timespec *deadline, uint64_t tag,
                         struct ust_shmq_notify *fired);
/* The object's identity (the file's device and inode). */
void ust_shmq_ident(const struct ust_shmq *q, dev_t *dev, ino_t *ino);

/* ---- System V queues (UST_SHMQ_SYSV; msg_shared.c) --------------------- */

/* The queue's System V state, NULL if it has none. Use under the lock. */
struct ust_shmq_sysv *ust_shmq_sysv(struct ust_shmq *q);
/* The object's lock, for reading or changing the System V state (IPC_STAT,
 * IPC_SET). Unlock with changed = true after a change that blocked senders
 * and receivers must see (msg_qbytes, permissions): they wake and check
 * again, and watchers' bells ring. */
int ust_shmq_lock_sysv(struct ust_shmq *q);
void ust_shmq_unlock_sysv(struct ust_shmq *q, bool changed);
/* Lock-free: IPC_RMID happened; the queued messages and bytes (hints). */
bool ust_shmq_removed(const struct ust_shmq *q);
void ust_shmq_load(const struct ust_shmq *q, uint32_t *count, uint64_t *bytes);

/* ust_shm_pid_alive / ust_shm_pid_start (holder liveness) are in shm_obj.h. */

#endif
