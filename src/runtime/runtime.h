/* runtime/: the stack lock, the stack thread, and blocking. */
#ifndef UST_RUNTIME_RUNTIME_H
#define UST_RUNTIME_RUNTIME_H

#include <stdbool.h>
#include <stdint.h>

struct ust_stack;

int ust_rt_init(struct ust_stack *stack);
void ust_rt_fini(struct ust_stack *stack);
/* The big lock. Public calls take it on entry and release it on return. */
void ust_rt_lock(struct ust_stack *stack);
void ust_rt_unlock(struct ust_stack *stack);
/* True when a stack thread runs, so calls may block. */
bool ust_rt_can_block(const struct ust_stack *stack);

#endif
