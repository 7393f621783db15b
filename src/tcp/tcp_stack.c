/* Per-stack TCP state: set up and torn down with the stack. */
#include "tcp/tcp.h"

#include "stack/stack_impl.h"

int ust_tcp_init(struct ust_stack *stack)
{
    stack->tcp.nconns = 0;
    return 0;
}

void ust_tcp_fini(struct ust_stack *stack)
{
    (void)stack;
}
