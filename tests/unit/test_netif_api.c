/* The generic netif code: creation limits and naming, the output path and
 * its counters, and the public configuration calls with their errnos. Uses a
 * dummy driver that keeps what it is given. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <ustack/ustack.h>

#include "netif/netif.h"
#include "runtime/runtime.h"
#include "stack/stack_impl.h"

struct dummy {
    unsigned transmitted;
    int fail_with;              /* transmit returns this when nonzero */
    unsigned destroyed;
};

static int dummy_transmit(struct ust_netif *nif, struct ust_fbuf *fb)
{
    struct dummy *d = nif->priv;
    ust_fbuf_free(nif->stack, fb);
    if (d->fail_with)
        return d->fail_with;
    d->transmitted++;
    return 0;
}

static int dummy_poll_fd(struct ust_netif *nif)
{
    return -1;
}

static void dummy_destroy(struct ust_netif *nif)
{
    struct dummy *d = nif->priv;
    d->destroyed++;
}

static const struct ust_netif_ops dummy_ops = {
    .kind_name = "dummy",
    .transmit = dummy_transmit,
    .poll_fd = dummy_poll_fd,
    .destroy = dummy_destroy,
};

static struct ust_stack *new_stack(void)
{
    struct ust_stack_config cfg;
    ust_stack_config_init(&cfg);
    cfg.seed = 42;
    struct ust_stack *s = ust_stack_new(&cfg);
    assert_non_null(s);
    return s;
}

static struct ust_netif *create(struct ust_stack *s, const char *name, struct dummy *d)
{
    ust_rt_lock(s);
    struct ust_netif *nif = ust_netif_create(s, name, UST_NETIF_ETHER, &dummy_ops, d);
    ust_rt_unlock(s);
    return nif;
}

static void every_stack_has_loopback_first(void **state)
{
    struct ust_stack *s = new_stack();
    struct ust_netif *lo = ust_loopback(s);
    assert_non_null(lo);
    assert_ptr_equal(ust_netif_by_name(s, "lo"), lo);
    assert_string_equal(ust_netif_name(lo), "lo");
    assert_int_equal(lo->index, 1);
    assert_int_equal(lo->kind, UST_NETIF_LOOPBACK);
    assert_int_equal(lo->mtu, 65535);
    assert_int_equal(lo->addr, 0x7f000001);
    assert_int_equal(lo->prefix_len, 8);
    assert_true(lo->clean_link);
    assert_true(lo->up);
    errno = 0;
    assert_null(ust_netif_by_name(s, "eth9"));
    assert_int_equal(errno, ENODEV);
    ust_stack_free(s);
}

static void create_numbers_and_bounds_netifs(void **state)
{
    struct ust_stack *s = new_stack();
    struct dummy d = { 0 };
    char name[UST_NETIF_NAMSIZ];
    for (int i = 1; i < UST_MAX_NETIFS; i++) {
        snprintf(name, sizeof(name), "d%d", i);
        struct ust_netif *nif = create(s, name, &d);
        assert_non_null(nif);
        assert_int_equal(nif->index, i + 1);
        assert_int_equal(nif->mtu, 1500);
        assert_ptr_equal(ust_netif_by_name(s, name), nif);
    }
    errno = 0;
    assert_null(create(s, "one-too-many", &d));
    assert_int_equal(errno, ENOSPC);
    ust_stack_free(s);
    assert_int_equal(d.destroyed, UST_MAX_NETIFS - 1);
}

static void create_refuses_duplicate_and_bad_names(void **state)
{
    struct ust_stack *s = new_stack();
    struct dummy d = { 0 };
    assert_non_null(create(s, "eth0", &d));
    errno = 0;
    assert_null(create(s, "eth0", &d));
    assert_int_equal(errno, EEXIST);
    errno = 0;
    assert_null(create(s, "lo", &d));
    assert_int_equal(errno, EEXIST);
    errno = 0;
    assert_null(create(s, "0123456789abcdef", &d));    /* 16 chars: no room for NUL */
    assert_int_equal(errno, EINVAL);
    errno = 0;
    assert_null(create(s, "", &d));
    assert_int_equal(errno, EINVAL);
    assert_non_null(create(s, "0123456789abcde", &d));  /* 15 chars fit */
    ust_stack_free(s);
}

static struct ust_fbuf *frame(struct ust_stack *s, size_t len)
{
    struct ust_fbuf *fb = ust_fbuf_alloc(s, len);
    assert_non_null(fb);
    memset(ust_fbuf_put(fb, len), 0xab, len);
    return fb;
}

static void output_counts_frames_and_drops(void **state)
{
    struct ust_stack *s = new_stack();
    struct dummy d = { 0 };
    struct ust_netif *nif = create(s, "eth0", &d);
    ust_rt_lock(s);
    uint64_t allocs = s->fbpool.allocs, frees = s->fbpool.frees;
    assert_int_equal(ust_netif_output(nif, frame(s, 60)), 0);
    assert_int_equal(ust_netif_output(nif, frame(s, 60)), 0);
    d.fail_with = -ENOBUFS;
    assert_int_equal(ust_netif_output(nif, frame(s, 60)), -ENOBUFS);
    d.fail_with = 0;
    nif->up = false;
    assert_int_equal(ust_netif_output(nif, frame(s, 60)), -ENETDOWN);
    /* Every frame was consumed, whatever happened to it. */
    assert_int_equal(s->fbpool.allocs - allocs, s->fbpool.frees - frees);
    ust_rt_unlock(s);
    assert_int_equal(d.transmitted, 2);
    assert_int_equal(ust_stat_get(s, UST_STAT_ETH_OutFrames), 2);
    assert_int_equal(ust_stat_get(s, UST_STAT_ETH_OutDrops), 2);
    ust_stack_free(s);
}

static void set_ipv4_validates_prefix_and_stores_host_order(void **state)
{
    struct ust_stack *s = new_stack();
    struct dummy d = { 0 };
    struct ust_netif *nif = create(s, "eth0", &d);
    struct in_addr a;
    inet_pton(AF_INET, "192.168.7.9", &a);
    errno = 0;
    assert_int_equal(ust_netif_set_ipv4(nif, a, 33), -1);
    assert_int_equal(errno, EINVAL);
    errno = 0;
    assert_int_equal(ust_netif_set_ipv4(nif, a, -1), -1);
    assert_int_equal(errno, EINVAL);
    assert_int_equal(nif->addr, 0);
    assert_int_equal(ust_netif_set_ipv4(nif, a, 24), 0);
    assert_int_equal(nif->addr, 0xc0a80709);
    assert_int_equal(nif->prefix_len, 24);
    ust_stack_free(s);
}

static void set_mtu_accepts_68_up_to_what_a_buffer_holds(void **state)
{
    struct ust_stack *s = new_stack();
    struct dummy d = { 0 };
    struct ust_netif *nif = create(s, "eth0", &d);
    errno = 0;
    assert_int_equal(ust_netif_set_mtu(nif, 67), -1);
    assert_int_equal(errno, EINVAL);
    assert_int_equal(ust_netif_set_mtu(nif, 68), 0);
    assert_int_equal(nif->mtu, 68);
    assert_int_equal(ust_netif_set_mtu(nif, 9000), 0);
    assert_int_equal(ust_netif_set_mtu(nif, 65522), 0);     /* 65522 + 14 = 64 KiB */
    assert_int_equal(ust_netif_set_mtu(nif, 65523), -1);
    assert_int_equal(nif->mtu, 65522);
    assert_int_equal(ust_netif_set_mtu(ust_loopback(s), 65535), 0);
    assert_int_equal(ust_netif_set_mtu(ust_loopback(s), 65536), -1);
    ust_stack_free(s);
}

static void set_mac_refuses_multicast_zero_and_non_ethernet(void **state)
{
    struct ust_stack *s = new_stack();
    struct dummy d = { 0 };
    struct ust_netif *nif = create(s, "eth0", &d);
    const uint8_t good[6] = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 };
    const uint8_t mcast[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 };
    const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    const uint8_t zero[6] = { 0 };
    uint8_t got[6];
    assert_int_equal(ust_netif_set_mac(nif, good), 0);
    ust_netif_get_mac(nif, got);
    assert_memory_equal(got, good, 6);
    /* Linux (eth_prepare_mac_addr_change) answers EADDRNOTAVAIL. */
    errno = 0;
    assert_int_equal(ust_netif_set_mac(nif, mcast), -1);
    assert_int_equal(errno, EADDRNOTAVAIL);
    errno = 0;
    assert_int_equal(ust_netif_set_mac(nif, bcast), -1);
    assert_int_equal(errno, EADDRNOTAVAIL);
    errno = 0;
    assert_int_equal(ust_netif_set_mac(nif, zero), -1);
    assert_int_equal(errno, EADDRNOTAVAIL);
    ust_netif_get_mac(nif, got);
    assert_memory_equal(got, good, 6);
    errno = 0;
    assert_int_equal(ust_netif_set_mac(ust_loopback(s), good), -1);
    assert_int_equal(errno, EOPNOTSUPP);
    ust_stack_free(s);
}

static void tap_open_reports_errors_without_side_effects(void **state)
{
    struct ust_stack *s = new_stack();
    /* ATTACH_ONLY on a device that does not exist: ENODEV, nothing created. */
    errno = 0;
    assert_null(ust_tap_open(s, "ustnone0", UST_TAP_ATTACH_ONLY));
    assert_int_equal(errno, ENODEV);
    errno = 0;
    assert_null(ust_tun_open(s, "ustnone0", UST_TAP_ATTACH_ONLY));
    assert_int_equal(errno, ENODEV);
    errno = 0;
    assert_null(ust_tap_open(s, "a-name-much-too-long-for-ifnamsiz", 0));
    assert_int_equal(errno, EINVAL);
    assert_int_equal(s->n_netifs, 1);
    ust_stack_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_stack_has_loopback_first),
        cmocka_unit_test(create_numbers_and_bounds_netifs),
        cmocka_unit_test(create_refuses_duplicate_and_bad_names),
        cmocka_unit_test(output_counts_frames_and_drops),
        cmocka_unit_test(set_ipv4_validates_prefix_and_stores_host_order),
        cmocka_unit_test(set_mtu_accepts_68_up_to_what_a_buffer_holds),
        cmocka_unit_test(set_mac_refuses_multicast_zero_and_non_ethernet),
        cmocka_unit_test(tap_open_reports_errors_without_side_effects),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
