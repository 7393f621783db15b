/* Logging with levels, through the stack's configured callback. */
#ifndef UST_CORE_LOG_H
#define UST_CORE_LOG_H

#include <ustack/stack.h>

void ust_log_impl(struct ust_stack *stack, enum ust_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
enum ust_log_level ust_log_level_of(const struct ust_stack *stack);

#define ust_log(stack, level, ...)                                   \
    do {                                                             \
        if ((level) <= ust_log_level_of(stack))                      \
            ust_log_impl((stack), (level), __VA_ARGS__);             \
    } while (0)
#define ust_err(s, ...) ust_log(s, UST_LOG_ERROR, __VA_ARGS__)
#define ust_warn(s, ...) ust_log(s, UST_LOG_WARN, __VA_ARGS__)
#define ust_info(s, ...) ust_log(s, UST_LOG_INFO, __VA_ARGS__)
#define ust_debug(s, ...) ust_log(s, UST_LOG_DEBUG, __VA_ARGS__)

#endif
