/* TAP and TUN drivers: a Linux virtual interface opened through
 * /dev/net/tun (Documentation/networking/tuntap.rst).
 *
 * TAP (IFF_TAP) carries Ethernet frames, TUN (IFF_TUN) bare IPv4 packets;
 * both with IFF_NO_PI (no packet-information prefix). The descriptor is
 * non-blocking: rx_poll reads until EAGAIN or the budget, and the stack
 * thread waits on poll_fd. */
#include "netif/netif.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/rand.h"
#include "core/stats.h"
#include "runtime/runtime.h"
#include "stack/stack_impl.h"
#include "wire/wire.h"

struct tap_priv {
    int fd;
};

static int tap_fd(const struct ust_netif *nif)
{
    return ((const struct tap_priv *)nif->priv)->fd;
}

static int tap_rx_poll(struct ust_netif *nif, int budget)
{
    struct ust_stack *stack = nif->stack;
    size_t link_hdr = nif->kind == UST_NETIF_ETHER ? UST_ETH_HLEN : 0;
    int n = 0;
    while (n < budget) {
        struct ust_fbuf *fb = ust_fbuf_alloc(stack, nif->mtu + link_hdr);
        if (!fb)
            break;      /* out of buffers: leave the frames in the kernel's queue */
        ssize_t r = read(tap_fd(nif), fb->data, ust_fbuf_tailroom(fb));
        if (r <= 0) {
            /* EAGAIN: drained. Other errors (EIO when the link is down):
             * nothing to read now either. */
            ust_fbuf_free(stack, fb);
            break;
        }
        fb->len = (uint32_t)r;
        n++;
        ust_netif_receive(nif, fb);
    }
    return n;
}

static int tap_transmit(struct ust_netif *nif, struct ust_fbuf *fb)
{
    ssize_t w = write(tap_fd(nif), fb->data, fb->len);
    int err = errno;
    ust_fbuf_free(nif->stack, fb);
    if (w < 0)
        return err == EAGAIN ? -ENOBUFS : -err;
    return 0;
}

static int tap_poll_fd(struct ust_netif *nif)
{
    return tap_fd(nif);
}

static void tap_destroy(struct ust_netif *nif)
{
    struct tap_priv *p = nif->priv;
    close(p->fd);
    free(p);
    nif->priv = NULL;
}

static const struct ust_netif_ops tap_ops = {
    .kind_name = "tap",
    .transmit = tap_transmit,
    .rx_poll = tap_rx_poll,
    .poll_fd = tap_poll_fd,
    .destroy = tap_destroy,
};

static const struct ust_netif_ops tun_ops = {
    .kind_name = "tun",
    .transmit = tap_transmit,
    .rx_poll = tap_rx_poll,
    .poll_fd = tap_poll_fd,
    .destroy = tap_destroy,
};

/* Opens /dev/net/tun and binds it to the interface; name gets the kernel's
 * name (it picks one for an empty name). Returns the fd or a negative errno. */
static int tun_attach(const char *ifname, short type, int flags, char name[IFNAMSIZ])
{
    if (strlen(ifname) >= IFNAMSIZ)
        return -EINVAL;
    if ((flags & UST_TAP_ATTACH_ONLY) && (ifname[0] == '\0' || if_nametoindex(ifname) == 0))
        return -ENODEV;
    int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    ifr.ifr_flags = (short)(type | IFF_NO_PI);
    memcpy(ifr.ifr_name, ifname, strlen(ifname));
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        int err = errno;
        close(fd);
        return -err;
    }
    memcpy(name, ifr.ifr_name, IFNAMSIZ);
    name[IFNAMSIZ - 1] = '\0';
    return fd;
}

/* The MTU Linux has configured on its side of the device, or 1500. */
static unsigned device_mtu(const char *name)
{
    unsigned mtu = 1500;
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        return mtu;
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    memcpy(ifr.ifr_name, name, strnlen(name, IFNAMSIZ - 1));
    if (ioctl(s, SIOCGIFMTU, &ifr) == 0 && ifr.ifr_mtu >= 68 && ifr.ifr_mtu <= 65535 - UST_ETH_HLEN)
        mtu = (unsigned)ifr.ifr_mtu;
    close(s);
    return mtu;
}

/* A random locally-administered unicast MAC (IEEE 802: bit 1 of the first
 * octet set = local, bit 0 clear = unicast). */
static void random_mac(struct ust_rng *rng, uint8_t mac[6])
{
    uint64_t r = ust_rng_next(rng);
    for (int i = 0; i < 6; i++)
        mac[i] = (uint8_t)(r >> (8 * i));
    mac[0] = (uint8_t)((mac[0] & 0xfe) | 0x02);
}

static struct ust_netif *tuntap_open(struct ust_stack *stack, const char *ifname, int flags,
                                     bool tap)
{
    if (!stack) {
        errno = EINVAL;
        return NULL;
    }
    char name[IFNAMSIZ];
    int fd = tun_attach(ifname ? ifname : "", tap ? IFF_TAP : IFF_TUN, flags, name);
    if (fd < 0) {
        errno = -fd;
        return NULL;
    }
    struct tap_priv *p = malloc(sizeof(*p));
    if (!p) {
        close(fd);
        errno = ENOMEM;
        return NULL;
    }
    p->fd = fd;
    unsigned mtu = device_mtu(name);

    ust_rt_lock(stack);
    struct ust_netif *nif = ust_netif_create(stack, name, tap ? UST_NETIF_ETHER : UST_NETIF_RAWIP,
                                             tap ? &tap_ops : &tun_ops, p);
    int err = errno;
    if (nif) {
        nif->mtu = mtu;
        if (tap)
            random_mac(&stack->rng, nif->mac);
    }
    ust_rt_unlock(stack);
    if (!nif) {
        close(fd);
        free(p);
        errno = err;
    }
    return nif;
}

struct ust_netif *ust_tap_open(struct ust_stack *stack, const char *ifname, int flags)
{
    return tuntap_open(stack, ifname, flags, true);
}

struct ust_netif *ust_tun_open(struct ust_stack *stack, const char *ifname, int flags)
{
    return tuntap_open(stack, ifname, flags, false);
}
