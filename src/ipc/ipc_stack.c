/* Per-stack IPC state: set up and torn down with the stack. */
#include "ipc/ipc.h"

#include "stack/stack_impl.h"
#include "ipc/mq_internal.h"
#include "ipc/pipe_impl.h"

int ust_ipc_init(struct ust_stack *stack)
{
    stack->ipc.nobjects = 0;
    int err = ust_mq_init(stack);
    if (err)
        return err;
    if ((err = ust_msg_init(stack)) != 0) {
        ust_mq_fini(stack);
        return err;
    }
    if ((err = ust_fifo_init(stack)) != 0) {
        ust_msg_fini(stack);
        ust_mq_fini(stack);
        return err;
    }
    return 0;
}

void ust_ipc_fini(struct ust_stack *stack)
{
    ust_fifo_fini(stack);
    ust_msg_fini(stack);
    ust_mq_fini(stack);
}
