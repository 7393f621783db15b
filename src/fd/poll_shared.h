/* Polling files backed by shared objects (fd/poll.c, fd/epoll.c; the
 * protocol is in docs/IPC-SHARED.md, "Doorbells for pollers").
 *
 * A shared file (ops->shm_watch set: shared FIFOs and queues) changes in
 * other processes, which cannot wake its f->wq: a poller registers the
 * stack's doorbell with the object (shm_watch on), takes the bell's
 * snapshot, checks readiness (ops->poll), and sleeps on the bell
 * (ust_rt_wait_bell), which in-process wakes ring as well. An epoll file is
 * shared while it watches a shared file (directly or through nested
 * epolls). Lock held. */
#ifndef UST_FD_POLL_SHARED_H
#define UST_FD_POLL_SHARED_H

#include <stdbool.h>

struct ust_file;

/* Must a poller of f sleep on the doorbell? */
bool ust_file_is_shared(struct ust_file *f);

#endif
