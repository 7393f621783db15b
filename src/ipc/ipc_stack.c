/* Per-stack IPC state: set up and torn down with the stack. */
#include "ipc/ipc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ipc/shm_bell.h"

#include "stack/stack_impl.h"
#include "ipc/mq_internal.h"
#include "ipc/pipe_impl.h"

/* The directory of shared objects: cfg.ipc_dir, else $USTACK_IPC_DIR, else
 * /dev/shm; created (mode 1777, like /dev/shm) when missing. */
static int dir_init(struct ust_stack *stack)
{
    const char *d = stack->cfg.ipc_dir;
    if (!d)
        d = getenv("USTACK_IPC_DIR");
    if (!d || !d[0])
        d = "/dev/shm";
    if (strlen(d) >= 3072)
        return -ENAMETOOLONG;
    stack->ipc.dir = strdup(d);
    if (!stack->ipc.dir)
        return -ENOMEM;
    stack->cfg.ipc_dir = stack->ipc.dir;
    if (stack->cfg.ipc_shared && mkdir(d, 01777) == 0)
        chmod(d, 01777);            /* mkdir applies the umask */
    return 0;
}

const char *ust_ipc_dir(const struct ust_stack *stack)
{
    return stack->ipc.dir;
}

int ust_ipc_bell(struct ust_stack *stack, struct ust_shmbell_arena **arena, int *bell)
{
    if (!stack->ipc.bells) {
        int r = ust_shmbell_open(stack->ipc.dir, NULL, &stack->ipc.bells);
        if (r < 0)
            return r;
    }
    if (stack->ipc.bell < 0) {
        int b = ust_shmbell_claim(stack->ipc.bells);
        if (b < 0)
            return b;
        stack->ipc.bell = b;
    }
    *arena = stack->ipc.bells;
    *bell = stack->ipc.bell;
    return 0;
}

int ust_ipc_init(struct ust_stack *stack)
{
    stack->ipc.nobjects = 0;
    stack->ipc.bells = NULL;
    stack->ipc.bell = -1;
    int err = dir_init(stack);
    if (err)
        return err;
    err = ust_mq_init(stack);
    if (err) {
        free(stack->ipc.dir);
        return err;
    }
    if ((err = ust_msg_init(stack)) != 0) {
        ust_mq_fini(stack);
        free(stack->ipc.dir);
        return err;
    }
    if ((err = ust_fifo_init(stack)) != 0) {
        ust_msg_fini(stack);
        ust_mq_fini(stack);
        free(stack->ipc.dir);
        return err;
    }
    return 0;
}

void ust_ipc_fini(struct ust_stack *stack)
{
    ust_fifo_fini(stack);
    ust_msg_fini(stack);
    ust_mq_fini(stack);
    if (stack->ipc.bells) {
        if (stack->ipc.bell >= 0)
            ust_shmbell_release(stack->ipc.bells, stack->ipc.bell);
        ust_shmbell_close(stack->ipc.bells);
    }
    free(stack->ipc.dir);
    stack->ipc.dir = NULL;
}
