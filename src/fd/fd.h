/* fd/: the descriptor table and file objects.
 *
 * Every descriptor refers to a struct ust_file with an ops table, so sockets,
 * pipes and message queues share one table and one ust_poll (Linux's struct
 * file and file_operations, much reduced). File operations never block: they
 * return -EAGAIN, and the generic code here (ust_file_wait_io, with the
 * runtime's wait queues) turns that into blocking when the descriptor is in
 * blocking mode and a stack thread runs. Whoever makes a file ready wakes
 * f->wq with the POLL* events that became true.
 *
 * Files are reference counted: the descriptor table holds one reference per
 * descriptor (dup'd descriptors share the file), and a call that sleeps holds
 * one while it sleeps, so a close() from another thread cannot free a file
 * under a sleeper (the file is released when the last reference goes, as in
 * Linux). All functions assume the stack lock is held. */
#ifndef UST_FD_FD_H
#define UST_FD_FD_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "runtime/waitq.h"

struct ust_stack;
struct ust_file;
struct ust_shmbell_arena;

/* A blocking bound that never expires (SO_RCVTIMEO 0 means this). */
#define UST_TIMEO_FOREVER UINT64_MAX

struct ust_file_ops {
    const char *name;           /* "udp", "icmp", "pipe"... for debugging */
    /* Each returns bytes done or a negative errno; -EAGAIN when it would
     * block. NULL read/write: -EINVAL (as Linux for files without them). */
    ssize_t (*read)(struct ust_file *f, void *buf, size_t len);
    ssize_t (*write)(struct ust_file *f, const void *buf, size_t len);
    /* The POLL* events true now (POLLIN, POLLOUT, POLLERR, POLLHUP...). */
    uint32_t (*poll)(struct ust_file *f);
    /* Requests beyond the generic ones (FIONBIO, FIOCLEX...); -ENOTTY when
     * unknown. arg is the caller's pointer. NULL: everything -ENOTTY. */
    int (*ioctl)(struct ust_file *f, unsigned long request, void *arg);
    /* The last reference went: free f->priv (not f itself). */
    void (*release)(struct ust_file *f);
    /* fcntl commands beyond the generic ones (F_GETPIPE_SZ, F_SETPIPE_SZ);
     * -EINVAL when unknown. NULL: everything -EINVAL. */
    int (*fcntl)(struct ust_file *f, int cmd, long arg);
    /* read/write wait by themselves (with the file's O_NONBLOCK and
     * timeouts, as sockets' recvmsg/sendmsg do): ust_read/ust_write call
     * them once instead of through ust_file_wait_io. */
    bool rw_waits;
    /* lseek(2) (Linux f_op->llseek): the new offset or a negative errno.
     * NULL: -ESPIPE, as Linux for pipes, FIFOs and sockets. */
    off_t (*llseek)(struct ust_file *f, off_t offset, int whence);
    /* Called on every close() of a descriptor of f, before the reference
     * goes (Linux f_op->flush: also for a dup'd descriptor). May be NULL. */
    void (*flush)(struct ust_file *f);
    /* F_SETFL with the caller's new flags (Linux setfl()): the file takes
     * the changeable bits it supports (O_NONBLOCK always) and returns 0 or a
     * negative errno. NULL: only O_NONBLOCK changes, and O_DIRECT gives
     * -EINVAL (Linux: no FMODE_CAN_ODIRECT). */
    int (*setfl)(struct ust_file *f, int flags);
    /* Files whose state other processes change (shared FIFOs and queues,
     * docs/IPC-SHARED.md): they cannot wake f->wq. A poller registers its
     * stack's doorbell (ust_ipc_bell) with on=true before checking ->poll
     * and sleeping on the bell, and unregisters it (on=false) after; the
     * object rings the bell on every change. 0 or a negative errno. NULL:
     * an in-process file, f->wq is enough. */
    int (*shm_watch)(struct ust_file *f, struct ust_shmbell_arena *arena, int bell, bool on);
};

struct ust_file {
    const struct ust_file_ops *ops;
    struct ust_stack *stack;
    unsigned refcnt;
    int status_flags;           /* O_RDONLY/O_WRONLY/O_RDWR | O_NONBLOCK (F_GETFL) */
    /* How long a blocking read / write may wait before -EAGAIN
     * (SO_RCVTIMEO / SO_SNDTIMEO for sockets); UST_TIMEO_FOREVER. */
    uint64_t rcvtimeo_ns, sndtimeo_ns;
    struct ust_waitq wq;        /* sleepers waiting for this file to change */
    void *priv;                 /* the object behind it (socket, pipe end...) */
    /* F_SETOWN: the process (> 0) or process group (< 0) that O_ASYNC
     * signals go to; 0: none (Linux f_owner). */
    int owner;
    /* epoll watches on this file (fd/epoll.c); removed when the last
     * reference goes, as Linux's eventpoll_release. */
    struct ust_epoll_watch *epoll_watches;
    /* Blocked calls on it sleep at once, without the spin (sockets: the
     * stack thread, not another caller, makes them ready). */
    bool wait_nospin;
};

struct ust_epoll_watch;
/* Removes every epoll watch on f (fd/epoll.c); called by ust_file_put
 * before ops->release. */
void ust_epoll_file_release(struct ust_file *f);

int ust_fd_init(struct ust_stack *stack);
/* Closes every descriptor. */
void ust_fd_fini(struct ust_stack *stack);

/* A new file with one reference (the caller's). NULL when out of memory. */
struct ust_file *ust_file_new(struct ust_stack *stack, const struct ust_file_ops *ops,
                              void *priv, int status_flags);
void ust_file_get(struct ust_file *f);
/* Drops a reference; the last one calls ops->release and frees f. */
void ust_file_put(struct ust_file *f);

/* Puts f in the lowest free descriptor (POSIX) and returns it, taking over
 * the caller's reference; fd_flags is FD_CLOEXEC or 0. -EMFILE when all
 * max_fds descriptors are in use. */
int ust_fd_install(struct ust_stack *stack, struct ust_file *f, int fd_flags);
/* The file behind fd (no reference taken: valid while the lock is held and
 * nobody closes it), or NULL for a bad descriptor (-EBADF). */
struct ust_file *ust_fd_lookup(struct ust_stack *stack, int fd);

/* One try at an operation that may have to wait. Returns bytes, a negative
 * errno, or -EAGAIN to wait and try again. */
typedef ssize_t (*ust_file_try_fn)(struct ust_file *f, void *arg);

/* Runs try(f, arg) until it returns something other than -EAGAIN, sleeping
 * on f->wq for `events` (POLLIN for reads, POLLOUT for writes; POLLERR and
 * POLLHUP are added) between tries. It returns -EAGAIN instead of sleeping
 * when f is O_NONBLOCK, `dontwait` (MSG_DONTWAIT), or no stack thread runs;
 * and once timeout_ns (UST_TIMEO_FOREVER: none) has passed since the call.
 * -EINTR when a signal handler interrupts the wait: restarted instead when
 * the handler has SA_RESTART and there is no timeout (signal(7)). */
ssize_t ust_file_wait_io(struct ust_file *f, uint32_t events, bool dontwait,
                         uint64_t timeout_ns, ust_file_try_fn try_fn, void *arg);
/* The same for a transfer that counts its progress in *done (bytes moved
 * so far by this call): once *done > 0 a signal ends the wait (-EINTR)
 * even with SA_RESTART, and the caller returns *done. */
ssize_t ust_file_wait_io_partial(struct ust_file *f, uint32_t events, bool dontwait,
                                 uint64_t timeout_ns, ust_file_try_fn try_fn, void *arg,
                                 const size_t *done);

/* O_ASYNC (Linux kill_fasync / send_sigio): sends SIGIO to f's F_SETOWN
 * owner when f is O_ASYNC and has one. The signal is sent with the stack
 * lock held: a handler must not call into the same stack. */
void ust_file_sigio(struct ust_file *f);

/* Converts an internal result (>= 0 or -errno) to the public convention:
 * -1 with errno set. */
static inline long ust_fd_ret(long r)
{
    if (r < 0) {
        errno = (int)-r;
        return -1;
    }
    return r;
}

#endif
