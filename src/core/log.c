/* Logging: formats a message and hands it to the stack's log callback, or
 * writes "name: LEVEL: message" to stderr when none is configured. */
#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>

#include "stack/stack_impl.h"

/* Longer messages are truncated. */
#define UST_LOG_MSG_MAX 512

static const char *level_name(enum ust_log_level level)
{
    static const char *const names[] = {"ERROR", "WARN", "INFO", "DEBUG", "TRACE"};
    if ((unsigned)level < sizeof(names) / sizeof(names[0]))
        return names[level];
    return "LOG";
}

void ust_log_impl(struct ust_stack *stack, enum ust_log_level level, const char *fmt, ...)
{
    char msg[UST_LOG_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (stack && stack->cfg.log_fn) {
        stack->cfg.log_fn(stack->cfg.log_arg, level, msg);
        return;
    }
    const char *name = stack && stack->cfg.name ? stack->cfg.name : "ustack";
    fprintf(stderr, "%s: %s: %s\n", name, level_name(level), msg);
}

enum ust_log_level ust_log_level_of(const struct ust_stack *stack)
{
    return stack ? stack->cfg.log_level : UST_LOG_WARN;
}
