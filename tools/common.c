/* Helpers shared by the ustack subcommands: argument parsing, interface
 * setup (TAP, TUN or loopback), signal handling and counter printing. */
#include "common.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

volatile sig_atomic_t tool_stop;
/* The netif --impair was applied to, for stats_print (one per process). */
static struct ust_netif *impaired_nif;

bool parse_uint(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
    if (!s || *s < '0' || *s > '9')
        return false;
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return false;
    *out = v;
    return true;
}

bool parse_double(const char *s, double min, double max, double *out)
{
    if (!s || !*s)
        return false;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    /* "!(v >= min)" also rejects NaN. */
    if (errno || *end || !(v >= min) || v > max)
        return false;
    *out = v;
    return true;
}

bool parse_ipv4(const char *s, struct in_addr *out)
{
    return s && inet_pton(AF_INET, s, out) == 1;
}

bool parse_ipv4_prefix(const char *s, struct in_addr *addr, int *prefix_len)
{
    const char *slash = s ? strchr(s, '/') : NULL;
    char ip[INET_ADDRSTRLEN];
    unsigned long len;
    if (!slash || (size_t)(slash - s) >= sizeof(ip))
        return false;
    memcpy(ip, s, (size_t)(slash - s));
    ip[slash - s] = '\0';
    if (!parse_ipv4(ip, addr) || !parse_uint(slash + 1, 0, 32, &len))
        return false;
    *prefix_len = (int)len;
    return true;
}

const char *ipv4_str(struct in_addr a, char *buf)
{
    return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

const char *mac_str(const uint8_t mac[6], char *buf)
{
    snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x",
             mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
    return buf;
}

void bad_value(const char *cmd, const struct option *opts, int val, const char *arg)
{
    for (; opts->name; opts++) {
        if (opts->val == val) {
            fprintf(stderr, "ustack %s: bad value for --%s: '%s'\n\n", cmd, opts->name, arg);
            return;
        }
    }
    fprintf(stderr, "ustack %s: bad value for -%c: '%s'\n\n", cmd, val, arg);
}

/* ---- --impair SPEC ---------------------------------------------------- */

/* A number followed by one of the units (name, multiplier); an empty unit
 * gets def_mult. */
struct unit {
    const char *name;
    double mult;
};

static bool parse_with_unit(const char *s, const struct unit *units, double def_mult, double max,
                            double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno || !(v >= 0.0))
        return false;
    double mult = def_mult;
    if (*end) {
        const struct unit *u = units;
        while (u->name && strcasecmp(end, u->name) != 0)
            u++;
        if (!u->name)
            return false;
        mult = u->mult;
    }
    v *= mult;
    if (v > max)
        return false;
    *out = v;
    return true;
}

static const struct unit percent_units[] = { { "%", 0.01 }, { NULL, 0 } };
static const struct unit time_units[] = {
    { "ns", 1 }, { "us", 1e3 }, { "ms", 1e6 }, { "s", 1e9 }, { NULL, 0 },
};
static const struct unit rate_units[] = {
    { "bit", 1 }, { "kbit", 1e3 }, { "mbit", 1e6 }, { "gbit", 1e9 }, { NULL, 0 },
};

/* Sets KEY=VALUE in one direction's params. */
static bool impair_set_key(struct ust_link_params *p, const char *key, const char *val)
{
    double v;
    if (!strcmp(key, "loss") || !strcmp(key, "dup") || !strcmp(key, "duplicate") ||
        !strcmp(key, "corrupt") || !strcmp(key, "reorder")) {
        if (!parse_with_unit(val, percent_units, 0.01, 1.0, &v))
            return false;
        if (!strcmp(key, "loss"))
            p->loss = v;
        else if (!strcmp(key, "corrupt"))
            p->corrupt = v;
        else if (!strcmp(key, "reorder"))
            p->reorder = v;
        else
            p->duplicate = v;
        return true;
    }
    if (!strcmp(key, "delay") || !strcmp(key, "jitter")) {
        if (!parse_with_unit(val, time_units, 1e6, 3600e9, &v))
            return false;
        *(!strcmp(key, "delay") ? &p->delay_ns : &p->jitter_ns) = (uint64_t)v;
        return true;
    }
    if (!strcmp(key, "rate")) {
        if (!parse_with_unit(val, rate_units, 1, 1e12, &v))
            return false;
        p->rate_bps = (uint64_t)v;
        return true;
    }
    if (!strcmp(key, "limit")) {
        unsigned long n;
        if (!parse_uint(val, 1, 1000000, &n))
            return false;
        p->queue_limit = (unsigned)n;
        return true;
    }
    return false;
}

bool parse_impair(const char *spec, struct netif_opts *o)
{
    char buf[512];
    if (!spec || !*spec || strlen(spec) >= sizeof(buf))
        return false;
    snprintf(buf, sizeof(buf), "%s", spec);
    char *save = NULL;
    for (char *item = strtok_r(buf, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
        bool dirs[2] = { true, true };
        if (!strncmp(item, "rx:", 3) || !strncmp(item, "tx:", 3)) {
            dirs[item[0] == 'r' ? UST_IMPAIR_TX : UST_IMPAIR_RX] = false;
            item += 3;
        }
        char *eq = strchr(item, '=');
        if (!eq)
            return false;
        *eq = '\0';
        for (int d = 0; d < 2; d++)
            if (dirs[d] && !impair_set_key(&o->impair[d], item, eq + 1))
                return false;
    }
    o->have_impair = true;
    return true;
}

static void impair_describe(char *buf, size_t n, const struct ust_link_params *p)
{
    snprintf(buf, n, "loss %g%% delay %gms jitter %gms reorder %g%% dup %g%% corrupt %g%% rate %llubit",
             p->loss * 100, (double)p->delay_ns / 1e6, (double)p->jitter_ns / 1e6,
             p->reorder * 100, p->duplicate * 100, p->corrupt * 100,
             (unsigned long long)p->rate_bps);
}

static bool impair_apply(struct ust_netif *nif, const struct netif_opts *o)
{
    static const char *const names[2] = { "rx", "tx" };
    for (int d = 0; d < 2; d++) {
        if (ust_netif_set_impairment(nif, d, &o->impair[d]) < 0) {
            fprintf(stderr, "ustack: cannot impair %s of %s: %s\n", names[d], ust_netif_name(nif),
                    strerror(errno));
            return false;
        }
        char desc[200];
        impair_describe(desc, sizeof(desc), &o->impair[d]);
        fprintf(stderr, "ustack: impairing %s %s: %s\n", ust_netif_name(nif), names[d], desc);
    }
    impaired_nif = nif;
    return true;
}

bool netif_opts_check(const struct netif_opts *o, bool require_dev)
{
    if (o->tap && o->tun) {
        fprintf(stderr, "ustack: use either --tap or --tun, not both\n");
        return false;
    }
    bool dev = o->tap || o->tun;
    if (require_dev && !dev) {
        fprintf(stderr, "ustack: an interface is needed: --tap NAME or --tun NAME\n");
        return false;
    }
    if (dev && !o->have_addr) {
        fprintf(stderr, "ustack: --%s needs --addr A.B.C.D/LEN\n", o->tap ? "tap" : "tun");
        return false;
    }
    if (!dev && (o->have_addr || o->have_gw)) {
        fprintf(stderr, "ustack: --addr and --gw need --tap or --tun\n");
        return false;
    }
    if (!dev && o->have_impair) {
        fprintf(stderr, "ustack: --impair needs --tap or --tun\n");
        return false;
    }
    return true;
}

/* Attaching to a TAP or TUN turns its carrier on, but Linux starts the
 * device's transmit queue a little later, asynchronously (linkwatch): until
 * then the kernel silently drops what it sends to us, such as the reply to
 * our first ping. Linux reports IFF_RUNNING once that is done, so wait for it
 * (bounded; an interface that is administratively down never gets there). */
static void wait_kernel_link_running(const char *ifname)
{
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        return;
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
    for (int i = 0; i < 300; i++) {           /* at most 3 s */
        if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0 || !(ifr.ifr_flags & IFF_UP) ||
            (ifr.ifr_flags & IFF_RUNNING))
            break;
        struct timespec ten_ms = { 0, 10 * 1000 * 1000 };
        nanosleep(&ten_ms, NULL);
    }
    close(s);
}

struct ust_netif *netif_setup(struct ust_stack *stack, const struct netif_opts *o)
{
    struct ust_netif *nif;
    if (o->tap)
        nif = ust_tap_open(stack, o->tap, 0);
    else if (o->tun)
        nif = ust_tun_open(stack, o->tun, 0);
    else
        nif = ust_loopback(stack);
    if (!nif) {
        fprintf(stderr, "ustack: cannot open %s device %s: %s\n", o->tap ? "TAP" : "TUN",
                o->tap ? o->tap : o->tun, strerror(errno));
        return NULL;
    }
    if (o->tap || o->tun)
        wait_kernel_link_running(o->tap ? o->tap : o->tun);
    /* Capture first, so the announcement of the address is in the file. */
    if (o->pcap && ust_netif_capture_start(nif, o->pcap) < 0) {
        fprintf(stderr, "ustack: cannot capture %s to %s: %s\n", ust_netif_name(nif), o->pcap,
                strerror(errno));
        return NULL;
    }
    if (o->have_impair && !impair_apply(nif, o))
        return NULL;
    char a[INET_ADDRSTRLEN];
    if (o->have_addr && ust_netif_set_ipv4(nif, o->addr, o->prefix_len) < 0) {
        fprintf(stderr, "ustack: cannot set address %s/%d on %s: %s\n", ipv4_str(o->addr, a),
                o->prefix_len, ust_netif_name(nif), strerror(errno));
        return NULL;
    }
    if (o->have_gw && ust_route_add_default(stack, o->gw) < 0) {
        fprintf(stderr, "ustack: cannot add default route via %s: %s\n", ipv4_str(o->gw, a),
                strerror(errno));
        return NULL;
    }
    return nif;
}

static void on_signal(int sig)
{
    (void)sig;
    tool_stop = 1;
}

void signals_install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: let a waiting system call return EINTR */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

void signals_block(bool block)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(block ? SIG_BLOCK : SIG_UNBLOCK, &set, NULL);
}

uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void stats_print(FILE *out, const struct ust_stack *stack)
{
    for (int i = 0; i < UST_STAT__COUNT; i++) {
        uint64_t v = ust_stat_get(stack, (enum ust_stat)i);
        if (v)
            fprintf(out, "%-24s %llu\n", ust_stat_name((enum ust_stat)i), (unsigned long long)v);
    }
    impair_stats_print(out);
}

void impair_stats_print(FILE *out)
{
    static const char *const names[2] = { "rx", "tx" };
    for (int d = 0; impaired_nif && d < 2; d++) {
        struct ust_link_stats st;
        if (ust_netif_impairment_stats(impaired_nif, d, &st) < 0)
            continue;
        fprintf(out, "impair %s: %llu frames, %llu passed, %llu lost, %llu reordered, "
                "%llu duplicated, %llu corrupted, %llu queue drops\n", names[d],
                (unsigned long long)st.sent, (unsigned long long)st.delivered,
                (unsigned long long)st.lost, (unsigned long long)st.reordered,
                (unsigned long long)st.duplicated, (unsigned long long)st.corrupted,
                (unsigned long long)st.queue_drops);
    }
}
