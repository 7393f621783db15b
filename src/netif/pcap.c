/* Packet capture: writes every frame a netif sends or receives to a file in
 * the classic pcap format (https://www.tcpdump.org/manpages/pcap-savefile.5.html),
 * readable by tcpdump, tshark and Wireshark.
 *
 * Timestamps are the stack's clock (virtual time under the simulator) with
 * nanosecond resolution (magic 0xa1b23c4d). Ethernet netifs are captured as
 * LINKTYPE_ETHERNET, loopback and TUN as LINKTYPE_RAW (bare IPv4). Fields
 * are written in host byte order, as libpcap does; readers detect it from
 * the magic. Writes go through stdio buffering and are flushed on stop. */
#include "netif/netif.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "runtime/runtime.h"
#include "stack/stack_impl.h"

#define PCAP_MAGIC_NSEC 0xa1b23c4du
#define PCAP_VERSION_MAJOR 2
#define PCAP_VERSION_MINOR 4
#define PCAP_SNAPLEN 65535u
#define LINKTYPE_ETHERNET 1u
#define LINKTYPE_RAW 101u
#define PCAP_STDIO_BUF (64u * 1024u)

struct ust_pcap {
    FILE *f;
    bool failed;            /* a write failed: stop recording, report on close */
    int err;                /* errno of the first failure */
};

static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }

static int write_file_header(FILE *f, uint32_t linktype)
{
    uint8_t h[24];
    put32(h, PCAP_MAGIC_NSEC);
    put16(h + 4, PCAP_VERSION_MAJOR);
    put16(h + 6, PCAP_VERSION_MINOR);
    put32(h + 8, 0);        /* thiszone: timestamps are UTC (here: stack clock) */
    put32(h + 12, 0);       /* sigfigs */
    put32(h + 16, PCAP_SNAPLEN);
    put32(h + 20, linktype);
    return fwrite(h, sizeof(h), 1, f) == 1 ? 0 : -EIO;
}

void ust_pcap_record(struct ust_pcap *pc, const struct ust_fbuf *fb, uint64_t now_ns)
{
    if (!pc || pc->failed)
        return;
    uint32_t caplen = UST_MIN(fb->len, PCAP_SNAPLEN);
    uint8_t h[16];
    put32(h, (uint32_t)(now_ns / UST_NSEC_PER_SEC));
    put32(h + 4, (uint32_t)(now_ns % UST_NSEC_PER_SEC));
    put32(h + 8, caplen);
    put32(h + 12, fb->len);
    if (fwrite(h, sizeof(h), 1, pc->f) != 1 || fwrite(fb->data, 1, caplen, pc->f) != caplen) {
        pc->failed = true;
        pc->err = errno ? errno : EIO;
    }
}

/* Closes the file; returns 0 or a negative errno (a write or flush failed). */
static int pcap_close(struct ust_pcap *pc)
{
    int err = pc->failed ? -pc->err : 0;
    if (fclose(pc->f) != 0 && err == 0)
        err = -(errno ? errno : EIO);
    free(pc);
    return err;
}

void ust_pcap_close(struct ust_pcap *pc)
{
    if (pc)
        (void)pcap_close(pc);
}

static int capture_start(struct ust_netif *nif, const char *path)
{
    if (nif->capture)
        return -EBUSY;
    struct ust_pcap *pc = calloc(1, sizeof(*pc));
    if (!pc)
        return -ENOMEM;
    pc->f = fopen(path, "wbe");
    if (!pc->f) {
        int err = errno;
        free(pc);
        return -err;
    }
    setvbuf(pc->f, NULL, _IOFBF, PCAP_STDIO_BUF);
    uint32_t linktype = nif->kind == UST_NETIF_ETHER ? LINKTYPE_ETHERNET : LINKTYPE_RAW;
    int err = write_file_header(pc->f, linktype);
    if (err == 0 && fflush(pc->f) != 0)
        err = -errno;
    if (err) {
        pcap_close(pc);
        return err;
    }
    nif->capture = pc;
    return 0;
}

int ust_netif_capture_start(struct ust_netif *nif, const char *path)
{
    if (!nif || !path) {
        errno = EINVAL;
        return -1;
    }
    ust_rt_lock(nif->stack);
    int err = capture_start(nif, path);
    ust_rt_unlock(nif->stack);
    if (err) {
        errno = -err;
        return -1;
    }
    return 0;
}

int ust_netif_capture_stop(struct ust_netif *nif)
{
    if (!nif) {
        errno = EINVAL;
        return -1;
    }
    ust_rt_lock(nif->stack);
    struct ust_pcap *pc = nif->capture;
    nif->capture = NULL;
    ust_rt_unlock(nif->stack);
    if (!pc) {
        errno = EINVAL;
        return -1;
    }
    int err = pcap_close(pc);
    if (err) {
        errno = -err;
        return -1;
    }
    return 0;
}
