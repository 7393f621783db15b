/* ust_poll: poll(2) over ustack descriptors.
 *
 * Each pass asks every file for the events true now (ops->poll) and keeps
 * the requested ones plus POLLERR/POLLHUP (always reported); a bad
 * descriptor gets POLLNVAL, a negative one is skipped (POSIX). When nothing
 * is ready and the call may wait, one sleeper is linked on every polled
 * file's wait queue (Linux's poll table), so one wakeup from any of them
 * wakes the poller once; it then scans again.
 *
 * Without a stack thread nothing could wake the poller, so the timeout is
 * then treated as 0: ust_poll reports what is ready now.
 *
 * Files backed by shared objects (ops->shm_watch; poll_shared.h) change in
 * other processes, which cannot wake their queues. When the set holds one,
 * the poller registers the stack's doorbell with each of them, takes the
 * bell's snapshot, scans, and sleeps on the bell (ust_rt_wait_bell), still
 * linked on every file's queue: in-process wakes ring the bell. It then
 * scans again, re-registering first (idempotent: another poller of the same
 * stack, which shares the bell, may have removed the registration when it
 * returned). On return it removes its registrations, except on files an
 * epoll watches (epoll keeps them until EPOLL_CTL_DEL), and wakes the
 * stack's other doorbell sleepers so they re-register theirs. Such a poll
 * waits even without a stack thread: other processes, other threads, the
 * timeout and signals end it. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>

#include <ustack/fd.h>

#include "fd/fd.h"
#include "fd/poll_shared.h"
#include "ipc/ipc.h"
#include "ipc/shm_bell.h"
#include "runtime/runtime.h"
#include "core/util.h"
#include "stack/stack_impl.h"

/* Linux's DEFAULT_POLLMASK, for files without a poll op. */
#define UST_DEFAULT_POLLMASK (POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM)
/* Entries kept on the C stack before poll allocates. */
#define UST_POLL_STACK_ENTRIES 16

static uint32_t file_events(struct ust_file *f)
{
    return f->ops->poll ? f->ops->poll(f) : UST_DEFAULT_POLLMASK;
}

/* Fills every revents; returns how many descriptors have one. Counts the
 * shared files in *nshared when it is not NULL. */
static int poll_scan(struct ust_stack *stack, struct pollfd *fds, nfds_t nfds, unsigned *nshared)
{
    int count = 0;
    for (nfds_t i = 0; i < nfds; i++) {
        fds[i].revents = 0;
        if (fds[i].fd < 0)
            continue;
        struct ust_file *f = ust_fd_lookup(stack, fds[i].fd);
        uint32_t mask = POLLNVAL;
        if (f) {
            mask = file_events(f) & ((uint16_t)fds[i].events | POLLERR | POLLHUP);
            if (nshared && f->ops->shm_watch && ust_file_is_shared(f))
                (*nshared)++;
        }
        fds[i].revents = (short)mask;
        count += mask != 0;
    }
    return count;
}

struct poll_wait {
    struct ust_wait_entry *entries;
    struct ust_file **files;
    unsigned n;
};

/* Links on every valid descriptor's queue (holding a reference on each
 * file while asleep) and sleeps once. */
static int poll_sleep(struct ust_stack *stack, struct pollfd *fds, nfds_t nfds,
                      struct poll_wait *pw, uint64_t deadline)
{
    pw->n = 0;
    for (nfds_t i = 0; i < nfds; i++) {
        struct ust_file *f = fds[i].fd >= 0 ? ust_fd_lookup(stack, fds[i].fd) : NULL;
        if (!f)
            continue;
        ust_file_get(f);
        pw->files[pw->n] = f;
        pw->entries[pw->n] = (struct ust_wait_entry){
            .q = &f->wq,
            .events = (uint16_t)fds[i].events | POLLERR | POLLHUP,
        };
        pw->n++;
    }
    int rc = ust_rt_wait(stack, pw->entries, pw->n, deadline, UST_RT_SIG_EINTR);
    for (unsigned i = 0; i < pw->n; i++)
        ust_file_put(pw->files[i]);
    return rc;
}

/* ---- Polls with shared files: sleeping on the doorbell ---------------- */

/* Drops the file held for a descriptor, and its doorbell registration
 * unless an epoll keeps one on it. True when a registration went. */
static bool shared_unhold(struct ust_file *f, struct ust_shmbell_arena *arena, int bell)
{
    bool unwatched = false;
    if (f->ops->shm_watch && !f->epoll_watches) {
        f->ops->shm_watch(f, arena, bell, false);
        unwatched = true;
    }
    ust_file_put(f);
    return unwatched;
}

/* Holds (a reference in pw->files[i]) the file behind every descriptor,
 * swapping it when the descriptor was closed or replaced while the poller
 * slept, (re-)registers the doorbell with the shared ones, and fills the
 * wait entries of all of them. Returns the number of entries, or a
 * negative errno when a registration failed. */
static int shared_hold(struct ust_stack *stack, struct pollfd *fds, nfds_t nfds,
                       struct poll_wait *pw, struct ust_shmbell_arena *arena, int bell)
{
    unsigned n = 0;
    for (nfds_t i = 0; i < nfds; i++) {
        struct ust_file *f = fds[i].fd >= 0 ? ust_fd_lookup(stack, fds[i].fd) : NULL;
        if (f != pw->files[i]) {
            if (pw->files[i] && shared_unhold(pw->files[i], arena, bell))
                ust_rt_wake_bell_sleepers(stack);
            if (f)
                ust_file_get(f);
            pw->files[i] = f;
        }
        if (!f)
            continue;
        if (f->ops->shm_watch) {
            int err = f->ops->shm_watch(f, arena, bell, true);
            if (err < 0)
                return err;
        }
        pw->entries[n++] = (struct ust_wait_entry){
            .q = &f->wq,
            .events = (uint16_t)fds[i].events | POLLERR | POLLHUP,
        };
    }
    return (int)n;
}

/* The wait loop of a poll whose set holds a shared file: register, take
 * the bell's snapshot, scan, sleep on the bell; until something is ready,
 * the timeout, or a signal (never restarted, signal(7)). */
static int poll_shared(struct ust_stack *stack, struct pollfd *fds, nfds_t nfds,
                       struct poll_wait *pw, int timeout_ms)
{
    struct ust_shmbell_arena *arena;
    int bell;
    if (ust_ipc_bell(stack, &arena, &bell) < 0)
        return -ENOMEM;         /* no doorbell to sleep on (poll(2) knows no better errno) */
    uint64_t deadline = timeout_ms < 0 ? UST_RT_FOREVER
                                       : ust_rt_deadline_clock((uint64_t)timeout_ms * UST_NSEC_PER_MSEC);
    for (nfds_t i = 0; i < nfds; i++)
        pw->files[i] = NULL;
    int count, n = 0;
    bool hold = true;
    for (;;) {
        if (hold && (n = shared_hold(stack, fds, nfds, pw, arena, bell)) < 0) {
            count = -ENOMEM;
            break;
        }
        struct ust_rt_bell b = { ust_shmbell_word(arena, bell), ust_shmbell_snapshot(arena, bell) };
        count = poll_scan(stack, fds, nfds, NULL);
        if (count > 0)
            break;
        int rc = ust_rt_wait_bell(stack, pw->entries, (unsigned)n, deadline, UST_RT_SIG_EINTR, &b);
        hold = rc == 0;         /* -EAGAIN: a slice passed, the registrations stand */
        if (rc == 0 || rc == -EAGAIN)
            continue;
        count = poll_scan(stack, fds, nfds, NULL);
        if (count == 0 && rc == -EINTR)
            count = -EINTR;
        break;
    }
    bool unwatched = false;
    for (nfds_t i = 0; i < nfds; i++)
        if (pw->files[i])
            unwatched |= shared_unhold(pw->files[i], arena, bell);
    if (unwatched)
        ust_rt_wake_bell_sleepers(stack);
    return count;
}

static int do_poll(struct ust_stack *stack, struct pollfd *fds, nfds_t nfds, int timeout_ms)
{
    unsigned nshared = 0;
    int count = poll_scan(stack, fds, nfds, &nshared);
    if (count > 0 || timeout_ms == 0 || (!nshared && !ust_rt_can_block(stack)))
        return count;

    struct ust_wait_entry entries_buf[UST_POLL_STACK_ENTRIES];
    struct ust_file *files_buf[UST_POLL_STACK_ENTRIES];
    struct poll_wait pw = { entries_buf, files_buf, 0 };
    if (nfds > UST_POLL_STACK_ENTRIES) {
        pw.entries = calloc(nfds, sizeof(*pw.entries));
        pw.files = calloc(nfds, sizeof(*pw.files));
        if (!pw.entries || !pw.files) {
            count = -ENOMEM;
            goto out;
        }
    }
    if (nshared) {
        count = poll_shared(stack, fds, nfds, &pw, timeout_ms);
        goto out;
    }
    uint64_t deadline = timeout_ms < 0 ? UST_RT_FOREVER
                                       : ust_rt_deadline(stack, (uint64_t)timeout_ms * UST_NSEC_PER_MSEC);
    for (;;) {
        int rc = poll_sleep(stack, fds, nfds, &pw, deadline);
        count = poll_scan(stack, fds, nfds, NULL);
        if (count > 0 || rc == -ETIMEDOUT || !ust_rt_can_block(stack))
            break;
        if (rc == -EINTR) {     /* never restarted (signal(7)) */
            count = -EINTR;
            break;
        }
    }
out:
    if (pw.entries != entries_buf) {
        free(pw.entries);
        free(pw.files);
    }
    return count;
}

int ust_poll(struct ust_stack *stack, struct pollfd *fds, nfds_t nfds, int timeout_ms)
{
    if (nfds > stack->cfg.max_fds) {    /* Linux: more than RLIMIT_NOFILE */
        errno = EINVAL;
        return -1;
    }
    if (nfds > 0 && !fds) {
        errno = EFAULT;
        return -1;
    }
    ust_rt_enter(stack);
    int r = do_poll(stack, fds, nfds, timeout_ms);
    ust_rt_exit(stack);
    return (int)ust_fd_ret(r);
}
