/* epoll(7) over ustack descriptors: ust_epoll_create1, ust_epoll_ctl,
 * ust_epoll_wait.
 *
 * As in Linux's fs/eventpoll.c, each watch (one per (file, fd) pair) keeps
 * a permanent callback entry on its file's wait queue. Whoever makes the
 * file ready wakes that queue, the callback puts the watch on the epoll's
 * ready list and wakes the epoll file's own queue (ust_epoll_wait sleepers,
 * ust_poll on the epoll fd). ust_epoll_wait then asks only the watches on
 * the ready list for their events (ops->poll), so its cost is O(ready), not
 * O(registered):
 *  - level-triggered: a watch that reported stays on the list and is asked
 *    again next time (and dropped once it reports nothing);
 *  - EPOLLET: a watch that reported leaves the list until its next wakeup;
 *  - EPOLLONESHOT: a watch that reported is disarmed until EPOLL_CTL_MOD.
 * A watch goes away with EPOLL_CTL_DEL, when its file's last reference goes
 * (closing every descriptor of it: Linux's eventpoll_release), or with the
 * epoll file. Watches are bounded per epoll by cfg.max_fds (ENOSPC beyond,
 * Linux's max_user_watches errno).
 *
 * An epoll may watch another epoll (readable while its ready list holds a
 * ready watch): the inner epoll's wakeup of its own queue is what the outer
 * watch's callback sees. As Linux's ep_loop_check, EPOLL_CTL_ADD refuses
 * with ELOOP an addition that would close a cycle or make a chain of more
 * than EP_MAX_NESTS (4) nested epolls, which also bounds the recursion of
 * wakeups and polls.
 *
 * Files backed by shared objects (ops->shm_watch: shared FIFOs and queues,
 * poll_shared.h) change in other processes, which cannot wake their queues,
 * so no callback tells the epoll about them. Their watches are also kept on
 * a list of their own (ep->shared), and the stack's doorbell is registered
 * with the object from EPOLL_CTL_ADD until the watch goes (DEL, close of
 * the file, close of the epoll). ust_epoll_wait asks each of them again on
 * every call (O(shared watches)), puts the reportable ones on the ready
 * list, and when nothing is ready sleeps on the doorbell (ust_rt_wait_bell:
 * in-process wakes ring it too), re-registering first (another poller of
 * the stack, which shares the bell, may have removed it), even without a
 * stack thread. For these watches:
 *  - level-triggered: reported while ready, as for any file;
 *  - EPOLLET: reported when an event is true that was not at the previous
 *    look, or when it is ready and the object changed since it last
 *    reported. A change is told by a bell of the watch's own (edge_bell),
 *    registered with that object alone: its counter moves on every send,
 *    receive or removal there (the object's own receives too, so a
 *    reader that leaves messages queued is told again; Linux would not).
 *    Without a free bell, the stack's doorbell stands in: it moves on
 *    changes of every watched object, so the watch may then also be
 *    reported when another object changed. Never is an edge missed;
 *    an EPOLLET reader that reads until EAGAIN, as it must, handles the
 *    extra reports;
 *  - EPOLLONESHOT: as for any file (disarmed once reported, until MOD).
 * An epoll that watches a shared file (directly or through nested epolls)
 * is itself polled that way by ust_poll and by an outer epoll.
 *
 * Differences from Linux: EPOLLEXCLUSIVE and EPOLLWAKEUP are accepted and
 * ignored. Without a stack thread, ust_epoll_wait does not wait (it returns
 * what is ready now) unless it watches a shared file. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/epoll.h>

#include <ustack/fd.h>
#include <ustack/poll.h>

#include "core/util.h"
#include "fd/fd.h"
#include "fd/poll_shared.h"
#include "ipc/ipc.h"
#include "ipc/shm_bell.h"
#include "runtime/runtime.h"
#include "stack/stack_impl.h"

struct ust_epoll {
    struct ust_file *file;              /* the epoll's own file */
    struct ust_epoll_watch *watches;    /* every watch (for release) */
    unsigned nwatches;
    /* Watches that were woken or found ready: a circular list through
     * rdl_next/rdl_prev with this sentinel. */
    struct ust_epoll_watch *rdl_first, *rdl_last;
    /* Watches of files with ops->shm_watch (shared files and epolls),
     * asked on every ust_epoll_wait. */
    struct ust_epoll_watch *shared;
};

struct ust_epoll_watch {
    struct ust_epoll *ep;
    struct ust_file *file;              /* watched; no reference (see above) */
    int fd;
    uint32_t events;                    /* EPOLLIN... | EPOLLET | EPOLLONESHOT */
    epoll_data_t data;
    bool disarmed;                      /* EPOLLONESHOT fired */
    bool ready;                         /* on the ready list */
    struct ust_wait_entry wait;         /* permanent, on file->wq */
    struct ust_epoll_watch *rdl_next, *rdl_prev;
    struct ust_epoll_watch *ep_next, **ep_pprev;     /* ep->watches */
    struct ust_epoll_watch *f_next, **f_pprev;       /* file->epoll_watches */
    /* On ep->shared (the file has ops->shm_watch). EPOLLET there: the
     * events seen at the previous look, and the change counter (edge_bell's,
     * else the stack's doorbell's) when it last reported. */
    bool on_shared;
    uint32_t shm_seen, shm_bell;
    /* EPOLLET on a shared file: a bell of its own that only this object
     * rings, so its counter counts this object's changes; -1: none. */
    int edge_bell;
    struct ust_epoll_watch *sh_next, **sh_pprev;
};

/* Events that are always reported (epoll_ctl(2)). */
#define EP_ALWAYS (EPOLLERR | EPOLLHUP)
/* Bits that are not events. */
#define EP_CONTROL (EPOLLET | EPOLLONESHOT | EPOLLEXCLUSIVE | EPOLLWAKEUP)

static const struct ust_file_ops epoll_ops;

static bool is_epoll(const struct ust_file *f)
{
    return f->ops == &epoll_ops;
}

/* ---- The ready list --------------------------------------------------- */

static void rdl_append(struct ust_epoll *ep, struct ust_epoll_watch *w)
{
    w->ready = true;
    w->rdl_next = NULL;
    w->rdl_prev = ep->rdl_last;
    if (ep->rdl_last)
        ep->rdl_last->rdl_next = w;
    else
        ep->rdl_first = w;
    ep->rdl_last = w;
}

static void rdl_remove(struct ust_epoll *ep, struct ust_epoll_watch *w)
{
    if (!w->ready)
        return;
    if (w->rdl_prev)
        w->rdl_prev->rdl_next = w->rdl_next;
    else
        ep->rdl_first = w->rdl_next;
    if (w->rdl_next)
        w->rdl_next->rdl_prev = w->rdl_prev;
    else
        ep->rdl_last = w->rdl_prev;
    w->ready = false;
    w->rdl_next = w->rdl_prev = NULL;
}

static void watch_mark_ready(struct ust_epoll_watch *w)
{
    if (w->ready || w->disarmed)
        return;
    rdl_append(w->ep, w);
    ust_waitq_wake(&w->ep->file->wq, POLLIN | POLLRDNORM);
}

/* The wait-queue callback: the watched file changed (Linux ep_poll_callback). */
static void watch_wake(struct ust_wait_entry *e, uint32_t events)
{
    (void)events;
    watch_mark_ready(ust_container_of(e, struct ust_epoll_watch, wait));
}

static uint32_t file_events(struct ust_file *f)
{
    return f->ops->poll(f);
}

/* The events of w to report now (0: none). */
static uint32_t watch_events(struct ust_epoll_watch *w)
{
    if (w->disarmed)
        return 0;
    return file_events(w->file) & ((w->events & ~EP_CONTROL) | EP_ALWAYS);
}

/* ---- Watches ---------------------------------------------------------- */

static struct ust_epoll_watch *watch_find(struct ust_epoll *ep, struct ust_file *f, int fd)
{
    for (struct ust_epoll_watch *w = f->epoll_watches; w; w = w->f_next)
        if (w->ep == ep && w->fd == fd)
            return w;
    return NULL;
}

/* The stack's doorbell counter now; 0 while it has no doorbell (then no
 * shared file is watched: none is made for nested epolls alone). */
static uint32_t bell_now(struct ust_stack *stack)
{
    if (!stack->ipc.bells || stack->ipc.bell < 0)
        return 0;
    return ust_shmbell_snapshot(stack->ipc.bells, stack->ipc.bell);
}

/* Gives an EPOLLET watch of a shared file a bell of its own (want), or
 * takes it back: claimed in the stack's arena and registered with that
 * object alone, nobody sleeps on it; its counter moves on every change of
 * the object. Without a free bell the stack's doorbell stands in. */
static void edge_bell_set(struct ust_epoll_watch *w, bool want)
{
    struct ust_file *f = w->file;
    struct ust_shmbell_arena *arena;
    int bell;
    if (is_epoll(f) || want == (w->edge_bell >= 0) || ust_ipc_bell(f->stack, &arena, &bell) < 0)
        return;
    if (want) {
        int b = ust_shmbell_claim(arena);
        if (b < 0)
            return;
        if (f->ops->shm_watch(f, arena, b, true) < 0) {
            ust_shmbell_release(arena, b);
            return;
        }
        w->edge_bell = b;
    } else {
        f->ops->shm_watch(f, arena, w->edge_bell, false);
        ust_shmbell_release(arena, w->edge_bell);
        w->edge_bell = -1;
    }
}

/* The change counter an EPOLLET shared watch compares (its own bell's,
 * else the stack's doorbell's: `bell`); read before looking at the file. */
static uint32_t watch_mark(const struct ust_epoll_watch *w, uint32_t bell)
{
    if (!(w->events & EPOLLET))
        return 0;
    if (w->edge_bell < 0)
        return bell;
    return ust_shmbell_snapshot(w->ep->file->stack->ipc.bells, w->edge_bell);
}

static void watch_arm(struct ust_epoll_watch *w, const struct epoll_event *ev)
{
    w->events = ev->events;
    w->data = ev->data;
    w->disarmed = false;
    w->wait.events = (ev->events & ~EP_CONTROL) | EP_ALWAYS;
    if (w->on_shared) {         /* an EPOLLET watch starts from nothing seen */
        edge_bell_set(w, (ev->events & EPOLLET) != 0);
        w->shm_seen = 0;
        w->shm_bell = watch_mark(w, bell_now(w->ep->file->stack));
    }
    if (watch_events(w))
        watch_mark_ready(w);
}

/* Registers (on) the stack's doorbell with a shared file. An epoll
 * forwards it to its shared watches. */
static int shm_register(struct ust_file *f)
{
    struct ust_shmbell_arena *arena;
    int bell;
    int err = ust_ipc_bell(f->stack, &arena, &bell);
    if (err < 0)
        return err;
    return f->ops->shm_watch(f, arena, bell, true);
}

/* Removes it once no epoll watch is left on f (ust_poll leaves those of
 * files an epoll watches), and wakes the stack's doorbell sleepers: a
 * poller may have registered the same bell with the same object. */
static void shm_unregister(struct ust_file *f)
{
    if (is_epoll(f) || f->epoll_watches)
        return;
    struct ust_shmbell_arena *arena;
    int bell;
    if (ust_ipc_bell(f->stack, &arena, &bell) < 0)
        return;
    f->ops->shm_watch(f, arena, bell, false);
    ust_rt_wake_bell_sleepers(f->stack);
}

static int watch_add(struct ust_epoll *ep, struct ust_file *f, int fd, const struct epoll_event *ev)
{
    if (ep->nwatches >= ep->file->stack->cfg.max_fds)
        return -ENOSPC;
    if (f->ops->shm_watch && !is_epoll(f)) {
        int err = shm_register(f);
        if (err < 0)
            return err == -ENOSPC ? -ENOSPC : -ENOMEM;
    }
    struct ust_epoll_watch *w = calloc(1, sizeof(*w));
    if (!w) {
        if (f->ops->shm_watch)
            shm_unregister(f);
        return -ENOMEM;
    }
    w->ep = ep;
    w->file = f;
    w->fd = fd;
    w->edge_bell = -1;
    w->wait.q = &f->wq;
    w->wait.func = watch_wake;
    ust_waitq_add(&w->wait);
    w->ep_next = ep->watches;
    if (w->ep_next)
        w->ep_next->ep_pprev = &w->ep_next;
    w->ep_pprev = &ep->watches;
    ep->watches = w;
    w->f_next = f->epoll_watches;
    if (w->f_next)
        w->f_next->f_pprev = &w->f_next;
    w->f_pprev = &f->epoll_watches;
    f->epoll_watches = w;
    if (f->ops->shm_watch) {
        w->on_shared = true;
        w->sh_next = ep->shared;
        if (w->sh_next)
            w->sh_next->sh_pprev = &w->sh_next;
        w->sh_pprev = &ep->shared;
        ep->shared = w;
    }
    ep->nwatches++;
    watch_arm(w, ev);
    return 0;
}

static void watch_del(struct ust_epoll_watch *w)
{
    struct ust_epoll *ep = w->ep;
    rdl_remove(ep, w);
    ust_waitq_del(&w->wait);
    *w->ep_pprev = w->ep_next;
    if (w->ep_next)
        w->ep_next->ep_pprev = w->ep_pprev;
    *w->f_pprev = w->f_next;
    if (w->f_next)
        w->f_next->f_pprev = w->f_pprev;
    if (w->on_shared) {
        *w->sh_pprev = w->sh_next;
        if (w->sh_next)
            w->sh_next->sh_pprev = w->sh_pprev;
        edge_bell_set(w, false);
        shm_unregister(w->file);
    }
    ep->nwatches--;
    free(w);
}

void ust_epoll_file_release(struct ust_file *f)
{
    while (f->epoll_watches)
        watch_del(f->epoll_watches);
}

/* ---- The epoll file ----------------------------------------------------- */

/* ---- Shared watches --------------------------------------------------- */

/* Should a shared watch off the ready list, whose events are `got` now,
 * report them (see the header comment for EPOLLET)? mark: its change
 * counter (watch_mark) read before looking. */
static bool shared_reportable(const struct ust_epoll_watch *w, uint32_t got, uint32_t mark)
{
    if (!got)
        return false;
    if (!(w->events & EPOLLET))
        return true;
    return (got & ~w->shm_seen) || mark != w->shm_bell;
}

/* A watch on ep->shared that must be asked on every look: a shared file,
 * or an epoll that watches one (another epoll's readiness reaches us
 * through its queue's callbacks, as for any in-process file). */
static bool shared_asked(struct ust_epoll_watch *w)
{
    return !w->ready && ust_file_is_shared(w->file);
}

/* Puts every shared watch with events to report on the ready list. */
static void shared_collect(struct ust_epoll *ep, uint32_t bell)
{
    for (struct ust_epoll_watch *w = ep->shared; w; w = w->sh_next) {
        if (!shared_asked(w))
            continue;
        uint32_t mark = watch_mark(w, bell);
        uint32_t got = watch_events(w);     /* 0 when disarmed */
        if (shared_reportable(w, got, mark))
            rdl_append(ep, w);
        else
            w->shm_seen = got;
    }
}

bool ust_file_is_shared(struct ust_file *f)
{
    if (!f->ops->shm_watch)
        return false;
    if (!is_epoll(f))
        return true;
    const struct ust_epoll *ep = f->priv;      /* at most EP_MAX_NESTS deep */
    for (struct ust_epoll_watch *w = ep->shared; w; w = w->sh_next)
        if (ust_file_is_shared(w->file))
            return true;
    return false;
}

/* The epoll's shm_watch: registering re-registers the doorbell with every
 * shared file it watches (through nested epolls too); the registrations
 * stay while the watches do, so unregistering does nothing. */
static int epoll_shm_watch(struct ust_file *f, struct ust_shmbell_arena *arena, int bell, bool on)
{
    if (!on)
        return 0;
    struct ust_epoll *ep = f->priv;
    for (struct ust_epoll_watch *w = ep->shared; w; w = w->sh_next) {
        int err = w->file->ops->shm_watch(w->file, arena, bell, true);
        if (err < 0)
            return err;
    }
    return 0;
}

/* POLLIN when some watch on the ready list really has events (the list
 * may hold watches whose wakeup is already stale), or a shared watch would
 * report. */
static uint32_t epoll_poll(struct ust_file *f)
{
    struct ust_epoll *ep = f->priv;
    for (struct ust_epoll_watch *w = ep->rdl_first; w; w = w->rdl_next)
        if (watch_events(w))
            return POLLIN | POLLRDNORM;
    if (ep->shared) {
        uint32_t bell = bell_now(f->stack);
        for (struct ust_epoll_watch *w = ep->shared; w; w = w->sh_next) {
            if (!shared_asked(w))
                continue;
            uint32_t mark = watch_mark(w, bell);
            if (shared_reportable(w, watch_events(w), mark))
                return POLLIN | POLLRDNORM;
        }
    }
    return 0;
}

static void epoll_release(struct ust_file *f)
{
    struct ust_epoll *ep = f->priv;
    while (ep->watches)
        watch_del(ep->watches);
    free(ep);
}

static const struct ust_file_ops epoll_ops = {
    .name = "epoll",
    .poll = epoll_poll,
    .release = epoll_release,
    .shm_watch = epoll_shm_watch,
};

static int do_epoll_create(struct ust_stack *stack, int flags)
{
    struct ust_epoll *ep = calloc(1, sizeof(*ep));
    if (!ep)
        return -ENOMEM;
    struct ust_file *f = ust_file_new(stack, &epoll_ops, ep, O_RDWR);
    if (!f) {
        free(ep);
        return -ENOMEM;
    }
    ep->file = f;
    int fd = ust_fd_install(stack, f, (flags & EPOLL_CLOEXEC) ? FD_CLOEXEC : 0);
    if (fd < 0)
        ust_file_put(f);
    return fd;
}

int ust_epoll_create1(struct ust_stack *stack, int flags)
{
    if (flags & ~EPOLL_CLOEXEC) {
        errno = EINVAL;
        return -1;
    }
    ust_rt_enter(stack);
    int r = do_epoll_create(stack, flags);
    ust_rt_exit(stack);
    return (int)ust_fd_ret(r);
}

int ust_epoll_create(struct ust_stack *stack, int size)
{
    if (size <= 0) {
        errno = EINVAL;
        return -1;
    }
    return ust_epoll_create1(stack, 0);
}

/* ---- Nesting (Linux ep_loop_check) ------------------------------------ */

/* Linux EP_MAX_NESTS: epolls in a chain below the outermost one. */
#define EP_MAX_NESTS 4

/* Levels of epolls watched below ep (0: it watches no epoll); sets *loop
 * when `target` is among them. Bounded: the graph is acyclic and at most
 * EP_MAX_NESTS deep, by induction on the checks below. */
static unsigned depth_below(const struct ust_epoll *ep, const struct ust_epoll *target, bool *loop)
{
    unsigned depth = 0;
    for (const struct ust_epoll_watch *w = ep->watches; w; w = w->ep_next) {
        if (!is_epoll(w->file))
            continue;
        const struct ust_epoll *child = w->file->priv;
        if (child == target)
            *loop = true;
        unsigned d = 1 + depth_below(child, target, loop);
        depth = d > depth ? d : depth;
    }
    return depth;
}

/* Levels of epolls watching ep from above. */
static unsigned depth_above(const struct ust_epoll *ep)
{
    unsigned depth = 0;
    for (const struct ust_epoll_watch *w = ep->file->epoll_watches; w; w = w->f_next) {
        unsigned d = 1 + depth_above(w->ep);
        depth = d > depth ? d : depth;
    }
    return depth;
}

/* May `outer` watch the epoll `inner`? -ELOOP for a cycle or too deep. */
static int nest_check(const struct ust_epoll *outer, const struct ust_epoll *inner)
{
    bool loop = false;
    unsigned below = depth_below(inner, outer, &loop);
    if (loop || depth_above(outer) + 1 + below > EP_MAX_NESTS)
        return -ELOOP;
    return 0;
}

/* ---- epoll_ctl -------------------------------------------------------- */

static int do_epoll_ctl(struct ust_stack *stack, int epfd, int op, int fd,
                        const struct epoll_event *ev)
{
    struct ust_file *epf = ust_fd_lookup(stack, epfd);
    struct ust_file *f = ust_fd_lookup(stack, fd);
    if (!epf || !f)
        return -EBADF;
    if (!f->ops->poll)
        return -EPERM;          /* Linux: a file that cannot be polled */
    if (!is_epoll(epf) || epf == f)
        return -EINVAL;
    struct ust_epoll *ep = epf->priv;
    struct ust_epoll_watch *w = watch_find(ep, f, fd);
    int err;
    switch (op) {
    case EPOLL_CTL_ADD:
        if (w)
            return -EEXIST;
        if (is_epoll(f) && (err = nest_check(ep, f->priv)) != 0)
            return err;
        return watch_add(ep, f, fd, ev);
    case EPOLL_CTL_MOD:
        if (!w)
            return -ENOENT;
        if ((ev->events | w->events) & EPOLLEXCLUSIVE)
            return -EINVAL;     /* Linux: no MOD with EPOLLEXCLUSIVE */
        rdl_remove(ep, w);
        watch_arm(w, ev);
        return 0;
    case EPOLL_CTL_DEL:
        if (!w)
            return -ENOENT;
        watch_del(w);
        return 0;
    default:
        return -EINVAL;
    }
}

int ust_epoll_ctl(struct ust_stack *stack, int epfd, int op, int fd, struct epoll_event *event)
{
    if (op != EPOLL_CTL_DEL && !event) {
        errno = EFAULT;
        return -1;
    }
    struct epoll_event ev = { 0 };
    if (event)
        ev = *event;            /* packed on x86-64: copy once */
    ust_rt_enter(stack);
    int r = do_epoll_ctl(stack, epfd, op, fd, &ev);
    ust_rt_exit(stack);
    return (int)ust_fd_ret(r);
}

/* ---- epoll_wait ------------------------------------------------------- */

/* Reports up to maxevents ready watches (Linux ep_send_events): each watch
 * on the ready list is asked once; level-triggered ones that reported go
 * back to the tail, the others leave the list. */
static int epoll_transfer(struct ust_epoll *ep, struct epoll_event *events, int maxevents,
                          uint32_t bell)
{
    int n = 0;
    struct ust_epoll_watch *requeue_first = NULL, *requeue_last = NULL;
    while (n < maxevents && ep->rdl_first) {
        struct ust_epoll_watch *w = ep->rdl_first;
        rdl_remove(ep, w);
        uint32_t mark = w->on_shared ? watch_mark(w, bell) : 0;
        uint32_t got = watch_events(w);
        if (!got)
            continue;
        struct epoll_event ev = { .events = got, .data = w->data };
        events[n++] = ev;
        if (w->on_shared) {
            w->shm_seen = got;
            w->shm_bell = mark;
        }
        if (w->events & EPOLLONESHOT) {
            w->disarmed = true;
        } else if (!(w->events & EPOLLET)) {
            w->rdl_next = NULL;         /* level-triggered: asked again next time */
            w->rdl_prev = requeue_last;
            if (requeue_last)
                requeue_last->rdl_next = w;
            else
                requeue_first = w;
            requeue_last = w;
        }
    }
    for (struct ust_epoll_watch *w = requeue_first, *next; w; w = next) {
        next = w->rdl_next;
        rdl_append(ep, w);
    }
    return n;
}

/* One look: the shared watches, then the ready list (bell: the doorbell's
 * counter taken before). */
static int epoll_check(struct ust_epoll *ep, struct epoll_event *events, int maxevents,
                       uint32_t bell)
{
    if (ep->shared)
        shared_collect(ep, bell);
    return epoll_transfer(ep, events, maxevents, bell);
}

/* The wait loop of an epoll that watches a shared file: re-register, take
 * the doorbell's snapshot, look, sleep on the doorbell (linked on the epoll
 * file's queue for the in-process wakes). */
static int epoll_wait_shared(struct ust_stack *stack, struct ust_file *epf,
                             struct epoll_event *events, int maxevents, int timeout_ms)
{
    struct ust_epoll *ep = epf->priv;
    struct ust_shmbell_arena *arena;
    int bell;
    if (ust_ipc_bell(stack, &arena, &bell) < 0)
        return -ENOMEM;
    uint64_t deadline = timeout_ms < 0 ? UST_RT_FOREVER
                                       : ust_rt_deadline_clock((uint64_t)timeout_ms * UST_NSEC_PER_MSEC);
    int n;
    bool hold = true;
    ust_file_get(epf);          /* a close() from another thread must not free it */
    for (;;) {
        if (hold && epoll_shm_watch(epf, arena, bell, true) < 0) {
            n = -ENOMEM;
            break;
        }
        struct ust_rt_bell b = { ust_shmbell_word(arena, bell), ust_shmbell_snapshot(arena, bell) };
        n = epoll_check(ep, events, maxevents, b.snap);
        if (n > 0)
            break;
        struct ust_wait_entry e = { .q = &epf->wq, .events = POLLIN | POLLRDNORM };
        int rc = ust_rt_wait_bell(stack, &e, 1, deadline, UST_RT_SIG_EINTR, &b);
        hold = rc == 0;         /* -EAGAIN: a slice passed, the registrations stand */
        if (rc == 0 || rc == -EAGAIN)
            continue;
        n = epoll_check(ep, events, maxevents, ust_shmbell_snapshot(arena, bell));
        if (n == 0 && rc == -EINTR)     /* never restarted (signal(7)) */
            n = -EINTR;
        break;
    }
    ust_file_put(epf);
    return n;
}

static int do_epoll_wait(struct ust_stack *stack, int epfd, struct epoll_event *events,
                         int maxevents, int timeout_ms)
{
    struct ust_file *epf = ust_fd_lookup(stack, epfd);
    if (!epf)
        return -EBADF;
    if (!is_epoll(epf))
        return -EINVAL;
    struct ust_epoll *ep = epf->priv;
    int n = epoll_check(ep, events, maxevents, ep->shared ? bell_now(stack) : 0);
    if (n > 0 || timeout_ms == 0)
        return n;
    if (ep->shared && ust_file_is_shared(epf))
        return epoll_wait_shared(stack, epf, events, maxevents, timeout_ms);
    if (!ust_rt_can_block(stack))
        return n;
    uint64_t deadline = timeout_ms < 0 ? UST_RT_FOREVER
                                       : ust_rt_deadline(stack, (uint64_t)timeout_ms * UST_NSEC_PER_MSEC);
    ust_file_get(epf);          /* a close() from another thread must not free it */
    for (;;) {
        struct ust_wait_entry e = { .q = &epf->wq, .events = POLLIN | POLLRDNORM };
        int rc = ep->rdl_first ? 0 : ust_rt_wait(stack, &e, 1, deadline, UST_RT_SIG_EINTR);
        n = epoll_check(ep, events, maxevents, 0);
        if (n > 0 || rc == -ETIMEDOUT || !ust_rt_can_block(stack))
            break;
        if (rc == -EINTR) {     /* never restarted (signal(7)) */
            n = -EINTR;
            break;
        }
    }
    ust_file_put(epf);
    return n;
}

int ust_epoll_wait(struct ust_stack *stack, int epfd, struct epoll_event *events,
                   int maxevents, int timeout_ms)
{
    if (maxevents <= 0 || (size_t)maxevents > INT_MAX / sizeof(struct epoll_event)) {
        errno = EINVAL;
        return -1;
    }
    if (!events) {
        errno = EFAULT;
        return -1;
    }
    ust_rt_enter(stack);
    int r = do_epoll_wait(stack, epfd, events, maxevents, timeout_ms);
    ust_rt_exit(stack);
    return (int)ust_fd_ret(r);
}
