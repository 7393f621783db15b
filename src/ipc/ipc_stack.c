/* Per-stack IPC state: set up and torn down with the stack. */
#include "ipc/ipc.h"

#include "stack/stack_impl.h"

int ust_ipc_init(struct ust_stack *stack)
{
    stack->ipc.nobjects = 0;
    return 0;
}

void ust_ipc_fini(struct ust_stack *stack)
{
    (void)stack;
}
