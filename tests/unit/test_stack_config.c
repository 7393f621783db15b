/* ust_stack_new checks its configuration: values a standard forbids or that
 * make no sense are refused with EINVAL instead of producing a stack that
 * misbehaves later. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <ustack/ustack.h>

#define MS 1000000ull

static void expect_refused(const struct ust_stack_config *cfg)
{
    errno = 0;
    struct ust_stack *s = ust_stack_new(cfg);
    assert_null(s);
    assert_int_equal(errno, EINVAL);
}

static void defaults_make_a_stack(void **state)
{
    (void)state;
    struct ust_stack_config cfg;
    ust_stack_config_init(&cfg);
    assert_true(cfg.tcp_delack_ns == 40 * MS);
    struct ust_stack *s = ust_stack_new(&cfg);
    assert_non_null(s);
    ust_stack_free(s);
}

/* RFC 1122 4.2.3.2: "the delay MUST be less than 0.5 seconds". */
static void delayed_ack_of_half_a_second_or_more_is_refused(void **state)
{
    (void)state;
    struct ust_stack_config cfg;
    ust_stack_config_init(&cfg);
    cfg.tcp_delack_ns = 500 * MS;
    expect_refused(&cfg);
    cfg.tcp_delack_ns = 0;
    expect_refused(&cfg);
    cfg.tcp_delack_ns = 499 * MS;
    struct ust_stack *s = ust_stack_new(&cfg);
    assert_non_null(s);
    ust_stack_free(s);
}

static void nonsense_limits_are_refused(void **state)
{
    (void)state;
    struct ust_stack_config cfg;
    ust_stack_config_init(&cfg);
    cfg.max_fds = 0;
    expect_refused(&cfg);
    ust_stack_config_init(&cfg);
    cfg.ephemeral_lo = 61000;
    cfg.ephemeral_hi = 60999;
    expect_refused(&cfg);
    ust_stack_config_init(&cfg);
    cfg.ip_default_ttl = 0;
    expect_refused(&cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults_make_a_stack),
        cmocka_unit_test(delayed_ack_of_half_a_second_or_more_is_refused),
        cmocka_unit_test(nonsense_limits_are_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
