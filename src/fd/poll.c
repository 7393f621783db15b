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
 * then treated as 0: ust_poll reports what is ready now. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>

#include <ustack/fd.h>

#include "fd/fd.h"
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

/* Fills every revents; returns how many descriptors have one. */
static int poll_scan(struct ust_stack *stack, struct pollfd *fds, nfds_t nfds)
{
    int count = 0;
    for (nfds_t i = 0; i < nfds; i++) {
        fds[i].revents = 0;
        if (fds[i].fd < 0)
            continue;
        struct ust_file *f = ust_fd_lookup(stack, fds[i].fd);
        uint32_t mask = POLLNVAL;
        if (f)
            mask = file_events(f) & ((uint16_t)fds[i].events | POLLERR | POLLHUP);
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

static int do_poll(struct ust_stack *stack, struct pollfd *fds, nfds_t nfds, int timeout_ms)
{
    int count = poll_scan(stack, fds, nfds);
    if (count > 0 || timeout_ms == 0 || !ust_rt_can_block(stack))
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
    uint64_t deadline = timeout_ms < 0 ? UST_RT_FOREVER
                                       : ust_rt_deadline(stack, (uint64_t)timeout_ms * UST_NSEC_PER_MSEC);
    for (;;) {
        int rc = poll_sleep(stack, fds, nfds, &pw, deadline);
        count = poll_scan(stack, fds, nfds);
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
