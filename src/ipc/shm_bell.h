/* Doorbells: one futex word per waiting context, shared by every process, so
 * that a poller waiting on many shared objects sleeps on one word and is
 * woken once (docs/IPC-SHARED.md, "Doorbells for pollers").
 *
 * An arena is one file <dir>/ustack.bells (or ustack.bells.<name> for
 * tests; dir is /dev/shm by default) of UST_SHMBELL_MAX bells. A waiting
 * context claims a bell (owner =
 * pid + start time; bells of dead owners are reclaimed), registers the bell's
 * index in each object it watches (ust_shmq_watch), and sleeps on the bell
 * with the event-word protocol of shm_futex.h. Every state change of a
 * watched object rings each registered bell: an increment, plus FUTEX_WAKE
 * only if its owner sleeps. */
#ifndef UST_IPC_SHM_BELL_H
#define UST_IPC_SHM_BELL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#define UST_SHMBELL_MAX 4096

struct ust_shmbell_arena;

/* Maps (creating it if needed) the arena <dir>/ustack.bells[.<name>]; dir
 * NULL: /dev/shm; name NULL: the arena of every object in dir. Returns 0 or
 * -errno. */
int ust_shmbell_open(const char *dir, const char *name, struct ust_shmbell_arena **out);
void ust_shmbell_close(struct ust_shmbell_arena *a);
/* Removes a test arena's name. */
int ust_shmbell_unlink(const char *dir, const char *name);

/* Claims a free bell (or one whose owner died) for this process: its index,
 * or -ENOSPC. */
int ust_shmbell_claim(struct ust_shmbell_arena *a);
void ust_shmbell_release(struct ust_shmbell_arena *a, int bell);

/* The waiting side: snapshot, check readiness of the watched objects, then
 * wait (spin rounds, then sleep until rung or the absolute CLOCK_MONOTONIC
 * deadline). Returns 0 (rung: re-check) or -ETIMEDOUT / -EINTR / -EINVAL. */
uint32_t ust_shmbell_snapshot(struct ust_shmbell_arena *a, int bell);
int ust_shmbell_wait(struct ust_shmbell_arena *a, int bell, uint32_t snap, unsigned spin,
                     const struct timespec *deadline);
/* The ringing side (objects call it for each registered bell). */
void ust_shmbell_ring(struct ust_shmbell_arena *a, int bell);
/* The bell's event word itself, for a waiter that sleeps on it together
 * with other conditions (runtime/wait.c: ust_rt_wait_bell). */
_Atomic uint32_t *ust_shmbell_word(struct ust_shmbell_arena *a, int bell);
/* Times the bell was rung (its counter), for tests and statistics. */
uint32_t ust_shmbell_count(struct ust_shmbell_arena *a, int bell);

#endif
