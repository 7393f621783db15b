/* Logging: the callback gets the formatted message and its level, the level
 * filter of the ust_log macros, truncation of long messages, and the stderr
 * format "name: LEVEL: message" when no callback is set. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/log.h"
#include "stack/stack_impl.h"

struct captured {
    int calls;
    enum ust_log_level level;
    char msg[1024];
};

static void capture(void *arg, enum ust_log_level level, const char *msg)
{
    struct captured *c = arg;
    c->calls++;
    c->level = level;
    snprintf(c->msg, sizeof(c->msg), "%s", msg);
}

static struct ust_stack *stack_logging_to(struct captured *c, enum ust_log_level level)
{
    struct ust_stack *s = calloc(1, sizeof(*s));
    assert_non_null(s);
    s->cfg.name = "h1";
    s->cfg.log_level = level;
    s->cfg.log_fn = c ? capture : NULL;
    s->cfg.log_arg = c;
    return s;
}

static void test_callback_gets_formatted_message(void **state)
{
    (void)state;
    struct captured c = {0};
    struct ust_stack *s = stack_logging_to(&c, UST_LOG_INFO);
    ust_warn(s, "arp: %u probes to %s failed", 3u, "10.0.0.2");
    assert_int_equal(c.calls, 1);
    assert_int_equal(c.level, UST_LOG_WARN);
    assert_string_equal(c.msg, "arp: 3 probes to 10.0.0.2 failed");
    ust_info(s, "x=%d", 42);
    assert_int_equal(c.calls, 2);
    assert_int_equal(c.level, UST_LOG_INFO);
    assert_string_equal(c.msg, "x=42");
    free(s);
}

static void test_level_filter(void **state)
{
    (void)state;
    struct captured c = {0};
    struct ust_stack *s = stack_logging_to(&c, UST_LOG_WARN);
    assert_int_equal(ust_log_level_of(s), UST_LOG_WARN);
    ust_debug(s, "not shown");
    ust_info(s, "not shown");
    ust_log(s, UST_LOG_TRACE, "not shown");
    assert_int_equal(c.calls, 0);
    ust_err(s, "shown");
    ust_warn(s, "shown");
    assert_int_equal(c.calls, 2);
    s->cfg.log_level = UST_LOG_TRACE;
    ust_log(s, UST_LOG_TRACE, "now shown");
    assert_int_equal(c.calls, 3);
    assert_int_equal(c.level, UST_LOG_TRACE);
    free(s);
}

static void test_long_message_truncated(void **state)
{
    (void)state;
    struct captured c = {0};
    struct ust_stack *s = stack_logging_to(&c, UST_LOG_DEBUG);
    char big[900];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    ust_err(s, "%s", big);
    assert_int_equal(c.calls, 1);
    assert_int_equal(strlen(c.msg), 511);
    assert_int_equal(c.msg[0], 'x');
    free(s);
}

static void test_stderr_format_without_callback(void **state)
{
    (void)state;
    struct ust_stack *s = stack_logging_to(NULL, UST_LOG_WARN);
    FILE *tmp = tmpfile();
    assert_non_null(tmp);
    fflush(stderr);
    int saved = dup(2);
    assert_true(saved >= 0);
    assert_true(dup2(fileno(tmp), 2) >= 0);
    ust_err(s, "no route to %s", "10.1.1.1");
    ust_warn(s, "w%d", 1);
    ust_info(s, "filtered");
    fflush(stderr);
    assert_true(dup2(saved, 2) >= 0);
    close(saved);
    char buf[256] = {0};
    rewind(tmp);
    size_t n = fread(buf, 1, sizeof(buf) - 1, tmp);
    fclose(tmp);
    buf[n] = '\0';
    assert_string_equal(buf, "h1: ERROR: no route to 10.1.1.1\nh1: WARN: w1\n");
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_callback_gets_formatted_message),
        cmocka_unit_test(test_level_filter),
        cmocka_unit_test(test_long_message_truncated),
        cmocka_unit_test(test_stderr_format_without_callback),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
