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
/* The same from an internal result: >= 0, or a negative errno. */
static inline void ust_trace_call_ret(struct ust_stack *stack, const char *name, int fd, long r)
{
    if (ust_tracing(stack, UST_TRACE_CALL))
        ust_trace_call_exit(stack, name, fd, r < 0 ? -1 : r, r < 0 ? (int)-r : 0);
}

/* UST_TRACE_IPC: op of bytes on a pipe/queue ("pipe", "mq", "msg"); id is
 * the descriptor or queue id (-1 when the layer does not know it). */
void ust_trace_ipc_(struct ust_stack *stack, enum ust_trace_ipc_op op, const char *object,
                    int id, size_t bytes, long prio_or_type, size_t queued);
static inline void ust_trace_ipc(struct ust_stack *stack, enum ust_trace_ipc_op op,
                                 const char *object, int id, size_t bytes, long prio_or_type,
                                 size_t queued)
{
    if (ust_tracing(stack, UST_TRACE_IPC))
        ust_trace_ipc_(stack, op, object, id, bytes, prio_or_type, queued);
}

#endif
