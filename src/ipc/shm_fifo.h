/* Crash-safe byte rings in shared memory: the named FIFOs that processes
 * share (ust_mkfifo / ust_open with cfg.ipc_shared; fifo.c). The design and
 * its crash-safety argument are in docs/IPC-SHARED.md ("FIFOs").
 *
 * One object = one file <dir>/ustack.fifo.<name> (shm_obj.h: robust lock,
 * redo journal, holders, event words, watchers) holding one ring of bytes.
 * A write copies its bytes into free ring space, where no reader looks, and
 * then commits the new count with one journal commit; a read copies bytes
 * out and commits the new head and count. A process SIGKILLed at any
 * instruction therefore leaves the ring as before or as after its
 * operation: a write of at most PIPE_BUF bytes is all there or not there.
 *
 * The calls here make one try each (never sleep) unless told otherwise:
 * fifo.c sleeps through the runtime (ust_rt_wait_bell on ust_shmf_event),
 * which counts sleepers and applies signal(7)'s restart rules. Every call
 * returns 0 / a count, or a negative errno. A handle is used by one thread
 * at a time. */
#ifndef UST_IPC_SHM_FIFO_H
#define UST_IPC_SHM_FIFO_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "ipc/shm_obj.h"

#define UST_SHMF_KIND       "fifo"
#define UST_SHMF_PIPE_BUF   4096u       /* pipe(7): writes up to this are atomic */
#define UST_SHMF_PAGE       4096u
#define UST_SHMF_MAX_SIZE   (1u << 30)  /* the largest ring */

/* Access (as UST_SHMO_RD / UST_SHMO_WR): an O_RDWR open has both. */
#define UST_SHMF_RD         UST_SHMO_RD
#define UST_SHMF_WR         UST_SHMO_WR

/* Per-call flags. */
#define UST_SHMF_NONBLOCK   0x1u        /* one try: -EAGAIN instead of waiting */
#define UST_SHMF_PACKET     0x2u        /* write: packets (O_DIRECT, pipe(2)) */

struct ust_shmf;

struct ust_shmf_attr {
    uint32_t cap;           /* initial capacity (F_GETPIPE_SZ), pages */
    uint32_t max_cap;       /* the ring's size: the largest F_SETPIPE_SZ, >= cap */
    mode_t mode;            /* permission bits (the caller applied its umask) */
};

/* The object name of a FIFO path: '/', '%' and '#' percent-encoded; a path
 * whose encoding is longer than UST_SHMO_NAME_MAX becomes '#' and a 128-bit
 * hash of the path in hex. -ENAMETOOLONG if len is too short. */
int ust_shmf_name(const char *path, char *name, size_t len);

/* mkfifo: creates the object (O_EXCL: -EEXIST), holding nothing open. */
int ust_shmf_create(const char *dir, const char *path, const struct ust_shmf_attr *attr);
/* Opens the FIFO path for access (UST_SHMF_RD and/or WR; permission checked
 * against the stored mode without a root override, as ustack's private
 * FIFOs: -EACCES). Registers this process as a holder of that side and
 * starts a new generation of it (wakes opens waiting for a partner). If
 * nobody else holds the FIFO, what an earlier set of opens left in the ring
 * is discarded (Linux frees a FIFO's pipe with its last close). -ENOENT,
 * -ENOSPC (holder table full), -EINVAL (not a FIFO object), -ENOMEM. */
int ust_shmf_open(const char *dir, const char *path, unsigned access, struct ust_shmf **out);
/* Leaves the holder table and unmaps; the last holder's close empties the ring. */
void ust_shmf_close(struct ust_shmf *f);
int ust_shmf_unlink(const char *dir, const char *path);
/* In a fork()ed child that goes on using the handle: register it as a holder. */
int ust_shmf_after_fork(struct ust_shmf *f);
/* Counts FIFO objects in dir (for cfg.fifo_max). */
int ust_shmf_count(const char *dir);

/* Write: a write of len <= PIPE_BUF goes in whole or not at all (-EAGAIN);
 * a larger one puts in what fits (-EAGAIN if nothing). With UST_SHMF_PACKET
 * the bytes go as packets of up to PIPE_BUF, each taking one of cap / page
 * slots; a read ends at a packet and drops what of it did not fit (packet
 * mode stays on until the last close, as pipe.c's). -EPIPE if no live
 * reader holder is left. With a deadline (or NULL: forever) and without
 * NONBLOCK it waits in 50 ms slices, for everything (a large write may be
 * split around other writers' writes); then -ETIMEDOUT / -EINTR unless some
 * bytes went in (their count is returned). */
ssize_t ust_shmf_write(struct ust_shmf *f, const void *buf, size_t len, unsigned flags,
                       const struct timespec *deadline);
/* Read: up to len bytes there are; 0 (end of file) when the ring is empty
 * and no live writer holder is left; -EAGAIN when empty with a writer.
 * Waits as ust_shmf_write without NONBLOCK. */
ssize_t ust_shmf_read(struct ust_shmf *f, void *buf, size_t len, unsigned flags,
                      const struct timespec *deadline);

/* Open generations (Linux's r_counter / w_counter): a blocked open waits
 * for the other side's to change; a reader reports POLLHUP only once a
 * writer came. */
uint32_t ust_shmf_counter(const struct ust_shmf *f, unsigned side);
/* Live holders of the side (UST_SHMF_RD / WR): under the lock, reaping the
 * dead (locked true), or a lock-free peek for poll (locked false). */
int ust_shmf_holders(struct ust_shmf *f, unsigned side, bool locked);
/* The event word that changes when bytes arrive, a writer leaves or opens
 * (UST_SHMF_RD: readers and read-side opens wait here) or when room
 * appears, a reader leaves or opens (UST_SHMF_WR). */
_Atomic uint32_t *ust_shmf_event(struct ust_shmf *f, unsigned side);

/* Lock-free readiness hints: bytes queued; room for a PIPE_BUF write (of
 * a packet writer: and a free packet slot). */
size_t ust_shmf_used(const struct ust_shmf *f);
bool ust_shmf_readable(const struct ust_shmf *f);
bool ust_shmf_writable(const struct ust_shmf *f, bool packets);

/* F_GETPIPE_SZ / F_SETPIPE_SZ: the capacity (bytes queued at most).
 * set_cap: -EBUSY if more bytes are queued, -EPERM above the ring's size. */
uint32_t ust_shmf_cap(const struct ust_shmf *f);
uint32_t ust_shmf_max_cap(const struct ust_shmf *f);
int ust_shmf_set_cap(struct ust_shmf *f, uint32_t cap);

/* Doorbells for pollers (as ust_shmq_set_bells / ust_shmq_watch). */
void ust_shmf_set_bells(struct ust_shmf *f, struct ust_shmbell_arena *a);
int ust_shmf_watch(struct ust_shmf *f, int bell, bool on);
/* Identity of the object (a stack counts each FIFO it has open once). */
void ust_shmf_id(const struct ust_shmf *f, dev_t *dev, ino_t *ino);

/* For ust_shmq_inspect (ipcs): the committed bytes queued and capacity of
 * a ring object mapped read-only in o. 0 or -EINVAL (not a ring). */
int ust_shmf_peek(const struct ust_shmo *o, uint64_t *bytes, uint64_t *cap);

/* Test hook (as ust_shmq_test_crash_at): SIGKILL this process at the n-th
 * crash point of the next operations (a write: 1 half of the bytes copied,
 * 2 all copied, then the journal's points; a read: 1 bytes copied out, then
 * the journal's). 0: off. */
void ust_shmf_test_crash_at(struct ust_shmf *f, unsigned n);

#endif
