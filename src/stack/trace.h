/* The event trace's core side (include/ustack/trace.h): the per-stack
 * subscription and the cheap "is anyone listening" test every trace point
 * makes before it builds an event. Owner: stack/. */
#ifndef UST_STACK_TRACE_H
#define UST_STACK_TRACE_H

#include <stdbool.h>

#include <ustack/trace.h>

#include "stack/stack_impl.h"

static inline bool ust_tracing(const struct ust_stack *stack, enum ust_trace_kind kind)
{
#ifdef UST_TRACE_DISABLED   /* cmake -DUSTACK_TRACE=OFF: the trace points compile away */
    (void)stack;
    (void)kind;
    return false;
#else
    return __builtin_expect((stack->trace.mask >> kind) & 1u, 0);
#endif
}

/* Stamps ev with the stack's clock and hands it to the subscriber. Only
 * after ust_tracing(stack, ev->kind). */
void ust_trace_emit(struct ust_stack *stack, struct ust_trace_event *ev);

/* UST_TRACE_CALL events for the public calls: a call is traced on entry and
 * on return (ret, and errno when ret is -1). */
void ust_trace_call_enter(struct ust_stack *stack, const char *name, int fd);
void ust_trace_call_exit(struct ust_stack *stack, const char *name, int fd, long ret, int err);

#endif
