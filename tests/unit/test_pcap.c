/* pcap capture: the file has the classic pcap header (nanosecond magic,
 * snaplen, the link type of the netif), one record per frame sent or
 * received with the stack's clock as timestamp and the exact bytes, and it
 * reads cleanly with tshark when tshark is installed. Also the errors of
 * capture_start/stop. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <ustack/ustack.h>

#include "core/util.h"
#include "netif/netif.h"
#include "runtime/runtime.h"
#include "stack/stack_impl.h"
#include "unit/sim_test_util.h"
#include "wire/wire.h"

#define MS UST_NSEC_PER_MSEC

struct pcap_file {
    uint32_t magic, snaplen, linktype;
    uint16_t vmajor, vminor;
    unsigned n;
    struct {
        uint64_t ts_ns;
        uint32_t caplen, origlen;
        uint8_t data[2048];
    } rec[64];
};

static uint32_t rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint16_t rd16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }

/* A small reader for files written on this machine (host byte order). */
static void read_pcap(const char *path, struct pcap_file *pf)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    uint8_t h[24];
    assert_int_equal(fread(h, 1, 24, f), 24);
    pf->magic = rd32(h);
    pf->vmajor = rd16(h + 4);
    pf->vminor = rd16(h + 6);
    assert_int_equal(rd32(h + 8), 0);
    assert_int_equal(rd32(h + 12), 0);
    pf->snaplen = rd32(h + 16);
    pf->linktype = rd32(h + 20);
    pf->n = 0;
    uint8_t r[16];
    while (fread(r, 1, 16, f) == 16) {
        assert_true(pf->n < 64);
        uint32_t caplen = rd32(r + 8);
        assert_true(rd32(r + 4) < 1000000000u);     /* nanoseconds field */
        pf->rec[pf->n].ts_ns = (uint64_t)rd32(r) * UST_NSEC_PER_SEC + rd32(r + 4);
        pf->rec[pf->n].caplen = caplen;
        pf->rec[pf->n].origlen = rd32(r + 12);
        assert_true(caplen <= sizeof(pf->rec[0].data));
        assert_int_equal(fread(pf->rec[pf->n].data, 1, caplen, f), caplen);
        pf->n++;
    }
    assert_true(feof(f));
    fclose(f);
}

/* When tshark is installed, it must read the file without complaint. */
static void tshark_reads(const char *path, unsigned expect_frames)
{
    if (system("command -v tshark >/dev/null 2>&1") != 0) {
        print_message("tshark not installed: skipping the tshark check\n");
        return;
    }
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "tshark -r '%s' -T fields -e frame.number 2>/dev/null | wc -l", path);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    unsigned n = 0;
    assert_int_equal(fscanf(p, "%u", &n), 1);
    assert_int_equal(pclose(p), 0);
    assert_int_equal(n, expect_frames);
    snprintf(cmd, sizeof(cmd), "tshark -r '%s' >/dev/null 2>&1", path);
    assert_int_equal(system(cmd), 0);
}

static void temp_path(char *buf, size_t len, const char *tag)
{
    snprintf(buf, len, "/tmp/ustack-test-pcap-%d-%s.pcap", (int)getpid(), tag);
}

static void send_eth(struct ust_netif *from, struct ust_netif *to, uint32_t len, uint8_t fill)
{
    struct ust_stack *s = from->stack;
    ust_rt_lock(s);
    struct ust_fbuf *fb = ust_fbuf_alloc(s, len);
    assert_non_null(fb);
    uint8_t *p = ust_fbuf_put(fb, len);
    if (!p)
        abort();
    memcpy(p, to->mac, 6);
    memcpy(p + 6, from->mac, 6);
    ust_put_be16(p + 12, 0x88b5);
    memset(p + 14, fill, len - 14);
    assert_int_equal(ust_netif_output(from, fb), 0);
    ust_rt_unlock(s);
}

static void ethernet_capture_records_both_directions_with_sim_time(void **state)
{
    uint64_t seed = sim_test_seed(99);
    char pa[128], pb[128];
    temp_path(pa, sizeof(pa), "a");
    temp_path(pb, sizeof(pb), "b");
    struct ust_sim *sim = ust_sim_new(seed);
    struct ust_stack *a = ust_sim_add_host(sim, "a", NULL);
    struct ust_stack *b = ust_sim_add_host(sim, "b", NULL);
    struct ust_link_params p = { .delay_ns = 2 * MS };
    struct ust_sim_link *link = ust_sim_link_new(sim, a, b, &p, &p);
    struct ust_netif *na = ust_sim_link_netif(link, 0), *nb = ust_sim_link_netif(link, 1);
    assert_int_equal(ust_netif_capture_start(na, pa), 0);
    assert_int_equal(ust_netif_capture_start(nb, pb), 0);
    errno = 0;
    assert_int_equal(ust_netif_capture_start(na, pa), -1);
    assert_int_equal(errno, EBUSY);

    ust_sim_run_until(sim, 1500 * MS);          /* a timestamp past one second */
    send_eth(na, nb, 100, 0x11);
    ust_sim_run_until(sim, 1510 * MS);
    send_eth(nb, na, 1514, 0x22);
    ust_sim_run_until_quiet(sim, UST_NSEC_PER_SEC);
    assert_int_equal(ust_netif_capture_stop(na), 0);
    assert_int_equal(ust_netif_capture_stop(nb), 0);
    errno = 0;
    assert_int_equal(ust_netif_capture_stop(na), -1);
    assert_int_equal(errno, EINVAL);

    struct pcap_file *pf = calloc(1, sizeof(*pf));
    assert_non_null(pf);
    read_pcap(pa, pf);
    assert_int_equal(pf->magic, 0xa1b23c4d);
    assert_int_equal(pf->vmajor, 2);
    assert_int_equal(pf->vminor, 4);
    assert_int_equal(pf->snaplen, 65535);
    assert_int_equal(pf->linktype, 1);
    assert_int_equal(pf->n, 2);
    /* a: out at 1.5 s, in at 1.512 s */
    assert_int_equal(pf->rec[0].ts_ns, 1500 * MS);
    assert_int_equal(pf->rec[0].caplen, 100);
    assert_int_equal(pf->rec[0].origlen, 100);
    assert_memory_equal(pf->rec[0].data, nb->mac, 6);
    assert_int_equal(pf->rec[0].data[50], 0x11);
    assert_int_equal(pf->rec[1].ts_ns, 1512 * MS);
    assert_int_equal(pf->rec[1].caplen, 1514);
    assert_int_equal(pf->rec[1].data[1000], 0x22);
    tshark_reads(pa, 2);

    read_pcap(pb, pf);
    assert_int_equal(pf->n, 2);
    assert_int_equal(pf->rec[0].ts_ns, 1502 * MS);     /* in */
    assert_int_equal(pf->rec[1].ts_ns, 1510 * MS);     /* out */
    assert_int_equal(pf->rec[0].data[50], 0x11);
    tshark_reads(pb, 2);
    free(pf);
    unlink(pa);
    unlink(pb);
    ust_sim_free(sim);
}

static void loopback_capture_is_raw_ip(void **state)
{
    char path[128];
    temp_path(path, sizeof(path), "lo");
    struct ust_stack_config cfg;
    ust_stack_config_init(&cfg);
    cfg.seed = 5;
    struct ust_stack *s = ust_stack_new(&cfg);
    struct ust_netif *lo = ust_loopback(s);
    assert_int_equal(ust_netif_capture_start(lo, path), 0);
    ust_stack_poll(s, 3 * UST_NSEC_PER_SEC + 7);
    ust_rt_lock(s);
    /* An ICMP echo reply nobody waits for: dropped without an answer. */
    struct ust_fbuf *fb = ust_fbuf_alloc(s, 28);
    uint8_t *p = ust_fbuf_put(fb, 28);
    struct ust_ipv4_hdr h = { .total_len = 28, .ttl = 64, .proto = UST_IPPROTO_ICMP,
                              .src = 0x7f000001, .dst = 0x7f000001 };
    ust_ipv4_emit(p, 28, &h);
    struct ust_icmp_hdr ih = { .type = UST_ICMP_ECHO_REPLY, .rest = 0x12340001 };
    ust_icmp_emit(p + 20, 8, &ih, 0);
    assert_int_equal(ust_netif_output(lo, fb), 0);
    ust_rt_unlock(s);
    ust_stack_poll(s, 3 * UST_NSEC_PER_SEC + 7);
    assert_int_equal(ust_netif_capture_stop(lo), 0);

    struct pcap_file *pf = calloc(1, sizeof(*pf));
    read_pcap(path, pf);
    assert_int_equal(pf->linktype, 101);
    assert_int_equal(pf->n, 1);                 /* once, not once per direction */
    assert_int_equal(pf->rec[0].ts_ns, 3 * UST_NSEC_PER_SEC + 7);
    assert_int_equal(pf->rec[0].caplen, 28);
    assert_int_equal(pf->rec[0].data[0], 0x45);
    tshark_reads(path, 1);
    free(pf);
    unlink(path);

    /* Capturing at teardown: the stack closes the file. */
    assert_int_equal(ust_netif_capture_start(lo, path), 0);
    ust_stack_free(s);
    pf = calloc(1, sizeof(*pf));
    read_pcap(path, pf);
    assert_int_equal(pf->n, 0);
    free(pf);
    unlink(path);
}

static void capture_start_reports_open_errors(void **state)
{
    struct ust_stack *s = ust_stack_new(NULL);
    errno = 0;
    assert_int_equal(ust_netif_capture_start(ust_loopback(s), "/nonexistent-dir/x.pcap"), -1);
    assert_int_equal(errno, ENOENT);
    assert_null(ust_loopback(s)->capture);
    ust_stack_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ethernet_capture_records_both_directions_with_sim_time),
        cmocka_unit_test(loopback_capture_is_raw_ip),
        cmocka_unit_test(capture_start_reports_open_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
