/* ipc/: pipes, FIFOs, POSIX and System V message queues. */
#ifndef UST_IPC_IPC_H
#define UST_IPC_IPC_H

#include <stdbool.h>
#include <sys/types.h>

struct ust_stack;

int ust_ipc_init(struct ust_stack *stack);
void ust_ipc_fini(struct ust_stack *stack);

/* Shared objects (docs/IPC-SHARED.md). The directory named objects live in
 * when cfg.ipc_shared (never NULL then). */
const char *ust_ipc_dir(const struct ust_stack *stack);
/* The doorbell arena of ust_ipc_dir, which every shared object a stack opens
 * must ring (ust_shmq_set_bells), and this stack's own bell in it, which its
 * pollers sleep on: opened and claimed on first call. 0 or -errno. */
struct ust_shmbell_arena;
int ust_ipc_bell(struct ust_stack *stack, struct ust_shmbell_arena **arena, int *bell);

/* ipc_cred.c. The rwx bits of mode granted to the caller's current
 * credentials: owner bits when the effective uid is uid or cuid, group bits
 * when the effective gid or a supplementary group is gid or cgid, else the
 * other bits (Linux ipcperms(); for a file, cuid = uid and cgid = gid). */
unsigned ust_ipc_granted(uid_t uid, uid_t cuid, gid_t gid, gid_t cgid, mode_t mode);
/* Are all of `want` (4 read, 2 write) granted? No capability overrides. */
bool ust_ipc_perm_ok(uid_t uid, uid_t cuid, gid_t gid, gid_t cgid, mode_t mode, unsigned want);
/* The permission an open with these flags asks for: 4 read, 2 write, 6 both. */
unsigned ust_ipc_open_want(int oflags);
/* The mask for the mode of a new POSIX queue or FIFO: cfg.ipc_umask, or
 * when it is negative the process umask now (/proc/self/status; 022 when
 * that cannot be read). Reads a file: call it without the stack lock. */
mode_t ust_ipc_umask(const struct ust_stack *stack);

#endif
