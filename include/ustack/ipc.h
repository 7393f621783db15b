/* Pipes, FIFOs, POSIX message queues and System V message queues, as
 * descriptors in the stack's table (so ust_poll/ust_epoll_* see them all).
 * Names and semantics are Linux's; every call returns -1 and sets errno. */
#ifndef USTACK_IPC_H
#define USTACK_IPC_H

#include <fcntl.h>
#include <sys/types.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

struct ust_stack;

/* ---- Pipes and FIFOs ---- */

/* pipe(2)/pipe2(2): fds[0] reads, fds[1] writes. flags: O_NONBLOCK (both
 * ends), O_CLOEXEC, O_DIRECT (packet mode, see pipe(7)); O_NOTIFICATION_PIPE
 * gives ENOPKG, any other flag EINVAL; EMFILE when two descriptors are not
 * free; ENFILE when the pipes' pages would pass cfg.pipe_user_pages_hard
 * (0 = no limit, Linux's pipe-user-pages-hard). fds is unchanged on
 * failure. Then ust_read, ust_write, ust_close, ust_poll, ust_epoll_*,
 * ust_fcntl (F_GETFL/F_SETFL with O_NONBLOCK, O_DIRECT and O_ASYNC,
 * F_SETOWN/F_GETOWN, F_GETPIPE_SZ, F_SETPIPE_SZ), ust_lseek (ESPIPE) and
 * ust_ioctl (FIONREAD) work on them as on Linux, with these choices:
 *  - capacity is byte-exact: F_GETPIPE_SZ bytes fit whatever the write
 *    sizes (Linux counts page slots); default 65,536, F_SETPIPE_SZ rounds
 *    up to a power-of-two number of 4 KiB pages, EPERM above
 *    cfg.pipe_max_size (1 MiB), EBUSY below the bytes held; once all pipes
 *    hold cfg.pipe_user_pages_soft pages, new pipes get 2 pages (8 KiB) and
 *    F_SETPIPE_SZ cannot grow a pipe (EPERM), as Linux's
 *    pipe-user-pages-soft;
 *  - writing with no reader left gives EPIPE and raises SIGPIPE in the
 *    calling thread unless cfg.raise_sigpipe is 0 (the handler runs with
 *    the stack locked: it must not call into the same stack);
 *  - O_DIRECT belongs to the writer's open file, as in Linux: F_SETFL
 *    switches it, and stream bytes and packets may share a pipe; a packet
 *    takes one of F_GETPIPE_SZ / 4096 slots;
 *  - O_ASYNC sends a plain SIGIO to the F_SETOWN owner (no F_SETSIG), from
 *    the calling thread with the stack locked, like SIGPIPE;
 *  - blocking needs the stack thread (ust_stack_start); without it every
 *    call behaves as non-blocking. */
int ust_pipe(struct ust_stack *stack, int fds[2]);
int ust_pipe2(struct ust_stack *stack, int fds[2], int flags);

/* Named FIFOs (mkfifo(3), fifo(7)) in a per-stack namespace kept in memory:
 * a path is an opaque key (no directories, no normalisation). The FIFO
 * belongs to the caller's effective uid and gid, and its mode is masked by
 * the umask (cfg.ipc_umask; by default the process umask). ENAMETOOLONG for
 * a path of PATH_MAX bytes or more or a component longer than NAME_MAX,
 * ENOENT for "", EEXIST when the name exists, ENOSPC beyond cfg.fifo_max
 * names. */
int ust_mkfifo(struct ust_stack *stack, const char *path, mode_t mode);
/* Opens a FIFO made by ust_mkfifo (O_RDONLY, O_WRONLY or O_RDWR, plus
 * O_NONBLOCK, O_CLOEXEC; O_CREAT|O_EXCL on an existing name gives EEXIST,
 * O_CREAT of a missing name EOPNOTSUPP: only FIFOs exist here). fifo(7):
 * a blocking O_RDONLY open waits for a writer and a blocking O_WRONLY open
 * for a reader; O_RDONLY|O_NONBLOCK succeeds at once (reads give 0 until a
 * writer comes); O_WRONLY|O_NONBLOCK without a reader gives ENXIO; O_RDWR
 * succeeds at once. EACCES when the mode does not grant the access to the
 * caller's current credentials (owner, group or supplementary groups,
 * other; no root override); ENOMEM when a new pipe would pass
 * cfg.pipe_user_pages_hard (Linux fifo_open). Without the stack thread (or
 * when it stops during the wait) a blocking open behaves as a non-blocking
 * one. */
int ust_open(struct ust_stack *stack, const char *path, int flags, ...);
/* Removes the name; opens keep working (the pipe goes with its last
 * close), and a new FIFO may take the name. ENOENT when absent. */
int ust_unlink(struct ust_stack *stack, const char *path);

/* ---- POSIX message queues ---- */

/* Queues live in the stack's namespace (one per stack, like an IPC
 * namespace); a queue descriptor is a descriptor in the stack's table, so
 * ust_poll sees it (POLLIN: a message is queued, POLLOUT: a send would not
 * block) and ust_close / ust_mq_close both close it.
 *
 * With cfg.ipc_shared (the default) queues are shared between processes
 * instead: one namespace per directory (cfg.ipc_dir) for every stack and
 * process using it, a queue lives until ust_mq_unlink and its last close
 * anywhere, a call blocks on the queue itself with or without a stack
 * thread, and a notification registration belongs to its process
 * (docs/IPC-SHARED.md, "POSIX message queues"). The points marked
 * (private) below hold for cfg.ipc_shared = 0 only.
 *
 * As on Linux, the mode of a new queue is masked by the umask
 * (cfg.ipc_umask; by default the process umask at the time of the call),
 * and permission bits are checked against the caller's current effective
 * uid, gid and supplementary groups. read() gives /dev/mqueue's status line
 * ("QSIZE:%-10lu NOTIFY:%-5d SIGNO:%-5d NOTIFY_PID:%-6d\n") from the file
 * position, never a message, and ust_lseek moves that position (the file's
 * size is 80).
 *
 * Differences from Linux, by design:
 *  - no capabilities: mq_maxmsg and mq_msgsize are always capped by
 *    cfg.mq_maxmsg_max / mq_msgsize_max (EINVAL beyond, Linux's
 *    unprivileged rule), and root has no override of the permission bits;
 *  - the bytes every queue reserves (mq_maxmsg * (mq_msgsize + a small
 *    header)) count against cfg.mq_bytes_max: EMFILE beyond, as Linux does
 *    for RLIMIT_MSGQUEUE;
 *  - (private) without a stack thread (ust_stack_start) nothing can wake a sleeper, so
 *    a call that would block fails at once: EAGAIN, or ETIMEDOUT for a timed
 *    call whose deadline has already passed;
 *  - (private) every caller counts as the process that registered a notification, so
 *    any close of any descriptor of the queue removes the registration
 *    (Linux mqueue_flush_file: any close by the registering process);
 *  - ust_mq_unlink needs the owner's uid (EACCES), as Linux's sticky
 *    /dev/mqueue (where root could also unlink);
 *  - blocked callers are served in FIFO order (Linux: by thread priority);
 *  - a signal handler that runs while the caller is still in user space
 *    (not yet asleep in the kernel) does not interrupt it; otherwise EINTR,
 *    or a restart with SA_RESTART, as Linux (signal(7)). */
#include <mqueue.h>
#include <signal.h>

/* Largest priority + 1 (Linux's MQ_PRIO_MAX). */
#define UST_MQ_PRIO_MAX 32768

/* Opt-in oflag of ust_mq_open, with O_CREAT: a POSIX queue created with
 * this flag vanishes when its last holder closes it or exits, instead of
 * persisting until ust_mq_unlink. A holder killed by a signal does not
 * count; if the very last one dies so, the name stays until `ustack ipcrm`
 * (shown as "auto,orphan" by `ustack ipcs`). Ignored when the queue exists
 * already. Not a Linux flag: bit 30 is unused by open(2). (System V queues
 * have no such flag: IPC_RMID removes them.) */
#define UST_IPC_AUTOREMOVE 0x40000000

/* oflag: O_RDONLY/O_WRONLY/O_RDWR [| O_CREAT [| O_EXCL]] [| O_NONBLOCK]
 * [| O_CLOEXEC] [| UST_IPC_AUTOREMOVE]; with O_CREAT two more arguments:
 * mode_t mode, struct mq_attr *attr (NULL: cfg defaults). The descriptor
 * is always FD_CLOEXEC, as on Linux. A private queue (cfg.ipc_shared 0)
 * made with UST_IPC_AUTOREMOVE loses its name at its last close. */
int ust_mq_open(struct ust_stack *stack, const char *name, int oflag, ...);
int ust_mq_close(struct ust_stack *stack, int mqd);
/* The name goes at once; the queue when its last descriptor closes. */
int ust_mq_unlink(struct ust_stack *stack, const char *name);
int ust_mq_send(struct ust_stack *stack, int mqd, const char *msg, size_t len, unsigned prio);
ssize_t ust_mq_receive(struct ust_stack *stack, int mqd, char *msg, size_t len, unsigned *prio);
/* abs_timeout: absolute CLOCK_REALTIME, checked only when the call would
 * block (EINVAL), ETIMEDOUT when it passes. A wall-clock step is noticed
 * within a second. */
int ust_mq_timedsend(struct ust_stack *stack, int mqd, const char *msg, size_t len,
                     unsigned prio, const struct timespec *abs_timeout);
ssize_t ust_mq_timedreceive(struct ust_stack *stack, int mqd, char *msg, size_t len,
                            unsigned *prio, const struct timespec *abs_timeout);
int ust_mq_getattr(struct ust_stack *stack, int mqd, struct mq_attr *attr);
/* Only O_NONBLOCK in mq_flags may be set (EINVAL otherwise). */
int ust_mq_setattr(struct ust_stack *stack, int mqd, const struct mq_attr *newattr,
                   struct mq_attr *oldattr);
/* SIGEV_NONE, SIGEV_SIGNAL (signal queued to this process, si_code
 * SI_MESGQ), SIGEV_THREAD (a new detached thread); NULL unregisters. A
 * shared queue's send in any process fires it; SIGEV_THREAD only fires for a
 * send through the registering stack (it stays registered otherwise). One
 * registration per queue (EBUSY); fires once, on the empty -> non-empty
 * transition when no receiver is blocked, after the stack lock is
 * released. */
int ust_mq_notify(struct ust_stack *stack, int mqd, const struct sigevent *sevp);

/* Beyond POSIX. */

/* As ust_mq_timedsend / ust_mq_timedreceive with an absolute
 * CLOCK_MONOTONIC deadline: a wall-clock step neither wakes nor starves the
 * waiter. */
int ust_mq_timedsend_mono(struct ust_stack *stack, int mqd, const char *msg, size_t len,
                          unsigned prio, const struct timespec *abs_mono);
ssize_t ust_mq_timedreceive_mono(struct ust_stack *stack, int mqd, char *msg, size_t len,
                                 unsigned *prio, const struct timespec *abs_mono);

/* Priorities as message types: receives the highest-priority message whose
 * priority lies in [min_prio, max_prio] (FIFO within a priority), leaving
 * the others queued. [p, p] receives "a message of type p"; [0, 32767] is
 * ust_mq_receive. Blocks until such a message arrives unless the
 * descriptor is O_NONBLOCK or flags has UST_MQ_DONTWAIT (EAGAIN);
 * abs_mono (CLOCK_MONOTONIC, may be NULL) bounds the wait (ETIMEDOUT).
 * EINVAL when min_prio > max_prio or max_prio >= UST_MQ_PRIO_MAX. Costs
 * O(messages queued) where ust_mq_receive costs O(log messages). */
#define UST_MQ_DONTWAIT 0x1
ssize_t ust_mq_receive_prio(struct ust_stack *stack, int mqd, char *msg, size_t len,
                            unsigned *prio, unsigned min_prio, unsigned max_prio, int flags,
                            const struct timespec *abs_mono);


/* ---- System V message queues ---- */

/* Identifiers are per stack (one namespace each) and are not descriptors;
 * ust_msgq_fd gives a pollable descriptor for one.
 *
 * With cfg.ipc_shared (the default) queues are shared between processes
 * instead: one namespace per directory (cfg.ipc_dir) for every stack and
 * process using it, identifiers mean the same queue in all of them (one
 * learnt from another process works without msgget), a queue lives until
 * IPC_RMID, not with the stack, and a call blocks on the queue itself with
 * or without a stack thread. cfg.msgmni counts every queue of the
 * directory; cfg.msgpool the bytes queued in the queues this stack has
 * open; a queue holds at most min(msgmnb, 2048) messages of at most its
 * creator's msgmax bytes (docs/IPC-SHARED.md, "System V message queues").
 *
 * Rules are Linux's (msgop(2), msgctl(2)) with these choices:
 *  - msgtyp < 0 takes the first message of the LOWEST type <= |msgtyp|
 *    (Linux's reading, not the BSDs');
 *  - a queue is full when a message would exceed msg_qbytes bytes or
 *    msg_qbytes messages (Linux);
 *  - no capabilities: raising msg_qbytes above cfg.msgmnb is always EPERM,
 *    and permissions are checked against the caller's current effective
 *    uid, gid and supplementary groups, with no root override (IPC_SET and
 *    IPC_RMID need the owner or creator uid; IPC_SET sets uid, gid and the
 *    mode bits, EINVAL for a uid or gid of -1, and blocked callers check
 *    their permission again, as Linux);
 *  - all queued message bytes of the stack count against cfg.msgpool:
 *    ENOMEM beyond (Linux's errno for a message it cannot allocate);
 *  - msg_stime / msg_rtime / msg_ctime are wall-clock (CLOCK_REALTIME)
 *    seconds, msg_lspid / msg_lrpid the pid of the process that made the
 *    stack (read once: a stack does not survive fork);
 *  - (private) without a stack thread a call that would block fails at
 *    once: msgsnd with EAGAIN, msgrcv with ENOMSG (their IPC_NOWAIT errors);
 *  - a blocked caller fails with EINTR when a signal handler runs in its
 *    thread (never restarted, as Linux), unless the handler ran while the
 *    caller was still in user space (not yet asleep in the kernel). */
#include <sys/ipc.h>
#include <sys/msg.h>

int ust_msgget(struct ust_stack *stack, key_t key, int msgflg);
/* msgp points to { long mtype; char mtext[msgsz]; }. */
int ust_msgsnd(struct ust_stack *stack, int msqid, const void *msgp, size_t msgsz, int msgflg);
ssize_t ust_msgrcv(struct ust_stack *stack, int msqid, void *msgp, size_t msgsz, long msgtyp,
                   int msgflg);
/* IPC_STAT, IPC_SET, IPC_RMID; for ipcs(1): IPC_INFO and MSG_INFO (buf is
 * a struct msginfo *; MSG_INFO reports queues, messages and bytes in use in
 * msgpool, msgmap, msgtql) returning the highest index in use, MSG_STAT and
 * MSG_STAT_ANY (msqid is an index) returning the identifier. */
int ust_msgctl(struct ust_stack *stack, int msqid, int cmd, struct msqid_ds *buf);
/* A new descriptor (O_RDWR, FD_CLOEXEC) watching queue msqid: POLLIN when
 * a message is queued, POLLOUT when a one-byte message would fit, and
 * POLLERR|POLLHUP once the queue is removed. Needs read or write
 * permission (EACCES); EINVAL for a bad id. Close it with ust_close. */
int ust_msgq_fd(struct ust_stack *stack, int msqid);


#ifdef __cplusplus
}
#endif
#endif
