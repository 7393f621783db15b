/* ustack demo: two simulated hosts on one Ethernet link, in virtual time.
 * Part 1 (this file): host A resolves B's address (ARP), pings it and
 * exchanges a UDP datagram; every line comes from what the stacks report
 * (counters, return values, received bytes) at the simulator's clock.
 * Part 2 (demo_tcp.c) is a TCP connection told from the event trace, part 3
 * (demo_ipc.c) pipes and message queues. No root needed, and it finishes at
 * once however much virtual time passes. */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/ip_icmp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "demo.h"

#define TICK_NS (100 * 1000ull)           /* the demo looks at the stacks every 0.1 ms */
#define REPLY_WAIT_NS (3000 * NS_PER_MS)  /* give up on an answer after 3 s */
#define PING_COUNT 3
#define PING_INTERVAL_NS (1000 * NS_PER_MS)
#define PING_PAYLOAD 56
#define UDP_PORT 7
#define UDP_MESSAGE "hello from A"

/* Waiting for something: returns true once it happened. */
typedef bool (*done_fn)(struct demo *d, void *arg);

void usage_demo(FILE *out)
{
    fprintf(out,
            "usage: ustack demo [--seed N] [--loss P] [--delay MS] [--rate MBIT] [--bytes N]\n"
            "                   [--pcap FILE] [--svg FILE] [--html FILE] [--quiet] [--all]\n"
            "                   [--color auto|always|never] [--only net|tcp|ipc]\n\n"
            "Two simulated hosts, A (10.0.0.1/24) and B (10.0.0.2/24), on one Ethernet\n"
            "link, in virtual time: no root needed, done at once.\n"
            "  Part 1: A finds B's MAC address (ARP), pings B three times and sends it a\n"
            "          UDP datagram that B echoes.\n"
            "  Part 2: a TCP connection: B listens, A connects, sends --bytes and closes;\n"
            "          every socket call, state change, segment, queue and buffer move,\n"
            "          loss and retransmission, the four-way close and TIME-WAIT.\n"
            "  Part 3: a pipe, a POSIX and a System V message queue, and one poll.\n\n"
            "  --seed N     seed of the simulation (default 1); a seed replays exactly\n"
            "  --loss P     percentage of frames the link loses, each way (default 1)\n"
            "  --delay MS   one-way delay of the link in ms (default 10: a 20 ms RTT)\n"
            "  --rate MBIT  the link's rate in Mbit/s (default 10; 0 = unlimited)\n"
            "  --bytes N    bytes A sends in part 2 (default 262144; K and M suffixes)\n"
            "  --pcap FILE  capture host A's interface to FILE (pcap, for Wireshark)\n"
            "  --svg FILE   part 2 as pictures: time-sequence graph, cwnd, RTT (SVG)\n"
            "  --html FILE  one page with the narrative and the pictures\n"
            "  --quiet      the summaries only\n"
            "  --all        tell every segment of a long transfer (default: the first\n"
            "               ones, then only losses, retransmissions and SACKs)\n"
            "  --color C    auto (on a terminal), always or never\n"
            "  --only PART  net, tcp or ipc: one part only\n");
}

/* "262144", "256K", "4M". */
static bool parse_bytes(const char *s, unsigned long *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s)
        return false;
    if (*end == 'K' || *end == 'k')
        v *= 1024, end++;
    else if (*end == 'M' || *end == 'm')
        v *= 1024 * 1024, end++;
    if (*end || v == 0 || v > 1024ull * 1024 * 1024)
        return false;
    *out = (unsigned long)v;
    return true;
}

/* Returns -1 when the options are fine, else the exit status. */
static int parse_args(int argc, char **argv, struct demo_opts *o)
{
    static const struct option longopts[] = {
        { "seed", required_argument, NULL, 's' },  { "loss", required_argument, NULL, 'l' },
        { "delay", required_argument, NULL, 'd' }, { "pcap", required_argument, NULL, 'w' },
        { "rate", required_argument, NULL, 'r' },  { "bytes", required_argument, NULL, 'b' },
        { "svg", required_argument, NULL, 'S' },   { "html", required_argument, NULL, 'H' },
        { "quiet", no_argument, NULL, 'q' },       { "all", no_argument, NULL, 'a' },
        { "color", required_argument, NULL, 'c' }, { "only", required_argument, NULL, 'o' },
        { "help", no_argument, NULL, 'h' },        { NULL, 0, NULL, 0 },
    };
    unsigned long seed = 1;
    double loss = 1;
    o->delay_ms = 10;
    o->rate_mbps = 10;
    o->bytes = 256 * 1024;
    o->color = -1;
    int c;
    while ((c = getopt_long(argc, argv, "hq", longopts, NULL)) != -1) {
        bool ok = true;
        switch (c) {
        case 's': ok = parse_uint(optarg, 0, ~0ul, &seed); break;
        case 'l': ok = parse_double(optarg, 0, 100, &loss); break;
        case 'd': ok = parse_uint(optarg, 0, 60000, &o->delay_ms); break;
        case 'w': o->pcap = optarg; break;
        case 'r': ok = parse_double(optarg, 0, 100000, &o->rate_mbps); break;
        case 'b': ok = parse_bytes(optarg, &o->bytes); break;
        case 'S': o->svg = optarg; break;
        case 'H': o->html = optarg; break;
        case 'q': o->quiet = true; break;
        case 'a': o->all = true; break;
        case 'c':
            o->color = strcmp(optarg, "always") == 0 ? 1 : strcmp(optarg, "never") == 0 ? 0 : -1;
            ok = o->color >= 0 || strcmp(optarg, "auto") == 0;
            break;
        case 'o':
            o->only = optarg;
            ok = strcmp(optarg, "net") == 0 || strcmp(optarg, "tcp") == 0 ||
                 strcmp(optarg, "ipc") == 0;
            break;
        case 'h': usage_demo(stdout); return TOOL_EXIT_OK;
        default: usage_demo(stderr); return TOOL_EXIT_USAGE;
        }
        if (!ok) {
            bad_value("demo", longopts, c, optarg);
            usage_demo(stderr);
            return TOOL_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "ustack demo: unexpected argument '%s'\n\n", argv[optind]);
        usage_demo(stderr);
        return TOOL_EXIT_USAGE;
    }
    o->seed = seed;
    o->loss = loss / 100;
    return -1;
}

static double now_ms(const struct demo *d)
{
    return (double)ust_sim_now(d->sim) / NS_PER_MS;
}

/* One line of the story, stamped with the virtual time. */
__attribute__((format(printf, 2, 3)))
static void say(const struct demo *d, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    dp(DP_TIME, "  [%8.1f ms] ", now_ms(d));
    dp(DP_PLAIN, "%s\n", buf);
}

/* Counters that change with every packet, or that the story tells another
 * way (the recvfrom lines): they go to the summary only. */
static bool stat_is_routine(enum ust_stat s)
{
    switch (s) {
    case UST_STAT_ETH_InFrames: case UST_STAT_ETH_OutFrames:
    case UST_STAT_IP_InReceives: case UST_STAT_IP_InDelivers: case UST_STAT_IP_OutRequests:
    case UST_STAT_ICMP_InMsgs: case UST_STAT_ICMP_OutMsgs:
    case UST_STAT_UDP_InDatagrams:  /* counted, as by Linux, when the application reads */
        return true;
    default:
        return false;
    }
}

/* When a counter's move is told within one tick: first what a timer decided
 * (ARP gives up), then what came in, bottom layer first (the enum's order:
 * ETH, ARP, IP, ICMP, UDP), then what went out, top layer first (an echo
 * request is sent, then ARP asks for the address). */
enum phase { PHASE_TIMER, PHASE_IN, PHASE_OUT };

static enum phase stat_phase(enum ust_stat s)
{
    if (s == UST_STAT_ARP_ResolveFailed || s == UST_STAT_IP_ReasmTimeout)
        return PHASE_TIMER;
    const char *dot = strchr(ust_stat_name(s), '.');
    return dot && strncmp(dot + 1, "In", 2) == 0 ? PHASE_IN : PHASE_OUT;
}

/* A counter change in plain words. h is the host whose counter moved, p
 * its peer (the only other host, so any ARP target or IP destination). */
static void describe(const struct demo *d, const struct host *h, const struct host *p,
                     enum ust_stat s)
{
    char ha[INET_ADDRSTRLEN], pa[INET_ADDRSTRLEN], hm[18], pm[18];
    ipv4_str(h->addr, ha);
    ipv4_str(p->addr, pa);
    mac_str(h->mac, hm);
    mac_str(p->mac, pm);
    switch (s) {
    case UST_STAT_ARP_OutGratuitous:
        say(d, "%s announces itself: gratuitous ARP \"%s is at %s\" (broadcast)", h->name, ha, hm);
        break;
    case UST_STAT_ARP_OutRequests:
        say(d, "%s broadcasts an ARP request: \"who has %s? tell %s\"", h->name, pa, ha);
        break;
    case UST_STAT_ARP_InRequests:
        say(d, "%s receives an ARP request from %s", h->name, p->name);
        break;
    case UST_STAT_ARP_OutReplies:
        say(d, "%s answers with an ARP reply to %s: \"%s is at %s\"", h->name, p->name, ha, hm);
        break;
    case UST_STAT_ARP_InReplies:
        say(d, "%s receives the ARP reply: %s is at %s", h->name, pa, pm);
        break;
    case UST_STAT_ARP_ResolveFailed:
        say(d, "%s gives up: no ARP reply for %s", h->name, pa);
        break;
    case UST_STAT_ICMP_OutEchos:
        say(d, "%s sends an ICMP echo request to %s", h->name, pa);
        break;
    case UST_STAT_ICMP_InEchos:
        say(d, "%s receives the echo request", h->name);
        break;
    case UST_STAT_ICMP_OutEchoReps:
        say(d, "%s sends an ICMP echo reply to %s", h->name, pa);
        break;
    case UST_STAT_ICMP_InEchoReps:
        say(d, "%s receives the echo reply", h->name);
        break;
    case UST_STAT_ICMP_OutDestUnreachs:
        say(d, "%s generates an ICMP destination unreachable message", h->name);
        break;
    case UST_STAT_ICMP_InDestUnreachs:
        say(d, "%s gets an ICMP destination unreachable message", h->name);
        break;
    case UST_STAT_UDP_OutDatagrams:
        say(d, "%s sends a UDP datagram to %s", h->name, pa);
        break;
    default:
        say(d, "%s: counter %s went up", h->name, ust_stat_name(s));
        break;
    }
}

/* Tells the moves of one counter since the last call. */
static void narrate_stat(struct demo *d, int host, enum ust_stat s)
{
    struct host *h = &d->host[host];
    uint64_t v = ust_stat_get(h->stack, s);
    for (; h->seen[s] < v; h->seen[s]++)
        if (!stat_is_routine(s))
            describe(d, h, &d->host[!host], s);
}

/* Tells every counter that moved since the last call, host by host in
 * causal order (see stat_phase), then the frames the link lost. */
static void narrate(struct demo *d)
{
    for (int i = 0; i < 2; i++) {
        for (int s = 0; s < UST_STAT__COUNT; s++)
            if (stat_phase((enum ust_stat)s) == PHASE_TIMER)
                narrate_stat(d, i, (enum ust_stat)s);
        for (int s = 0; s < UST_STAT__COUNT; s++)
            if (stat_phase((enum ust_stat)s) == PHASE_IN)
                narrate_stat(d, i, (enum ust_stat)s);
        for (int s = UST_STAT__COUNT - 1; s >= 0; s--)
            if (stat_phase((enum ust_stat)s) == PHASE_OUT)
                narrate_stat(d, i, (enum ust_stat)s);
    }
    for (int dir = 0; dir < 2; dir++) {
        struct ust_link_stats ls;
        ust_sim_link_stats(d->link, dir, &ls);
        for (; d->lost_seen[dir] < ls.lost; d->lost_seen[dir]++)
            say(d, "the link loses a frame from %s to %s", d->host[dir].name, d->host[!dir].name);
    }
}

/* Advances virtual time in ticks, telling what happens, until done() says
 * so (true) or max_ns passed (false). done may be NULL: run the whole time. */
static bool run_for(struct demo *d, uint64_t max_ns, done_fn done, void *arg)
{
    uint64_t end = ust_sim_now(d->sim) + max_ns;
    do {    /* at least once: events due now run even when max_ns is 0 */
        uint64_t next = ust_sim_now(d->sim) + TICK_NS;
        if (ust_sim_run_until(d->sim, next < end ? next : end) == 0)
            continue;
        narrate(d);
        if (done && done(d, arg))
            return true;
    } while (ust_sim_now(d->sim) < end);
    return false;
}

static uint64_t stat_of(const struct host *h, enum ust_stat s)
{
    return ust_stat_get(h->stack, s);
}

/* Quoted, with anything unprintable escaped, for showing bytes received. */
static void print_bytes(const char *buf, size_t len)
{
    dp(DP_PLAIN, "\"");
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)buf[i];
        if (isprint(ch) && ch != '"' && ch != '\\')
            dp(DP_PLAIN, "%c", ch);
        else
            dp(DP_PLAIN, "\\x%02x", ch);
    }
    dp(DP_PLAIN, "\"");
}

static int fail(const char *what)
{
    fprintf(stderr, "ustack demo: %s: %s\n", what, strerror(errno));
    return -1;
}

/* ---- Setting up the two hosts and the link ---- */

static int setup(struct demo *d)
{
    const struct demo_opts *o = d->opts;
    d->sim = ust_sim_new(o->seed);
    if (!d->sim)
        return fail("ust_sim_new");
    static const char *const names[2] = { "A", "B" };
    for (int i = 0; i < 2; i++) {
        d->host[i].name = names[i];
        d->host[i].addr.s_addr = htonl(0x0a000001u + (uint32_t)i);   /* 10.0.0.1, 10.0.0.2 */
        d->host[i].stack = ust_sim_add_host(d->sim, names[i], NULL);
        if (!d->host[i].stack)
            return fail("ust_sim_add_host");
    }
    struct ust_link_params lp = { .delay_ns = o->delay_ms * NS_PER_MS, .loss = o->loss,
                                  .rate_bps = (uint64_t)(o->rate_mbps * 1e6) };
    d->link = ust_sim_link_new(d->sim, d->host[0].stack, d->host[1].stack, &lp, &lp);
    if (!d->link)
        return fail("ust_sim_link_new");
    for (int i = 0; i < 2; i++) {
        d->host[i].nif = ust_sim_link_netif(d->link, i);
        ust_netif_get_mac(d->host[i].nif, d->host[i].mac);
    }
    if (o->pcap && ust_netif_capture_start(d->host[0].nif, o->pcap) < 0)
        return fail(o->pcap);
    return 0;
}

static void print_intro(const struct demo *d)
{
    const struct demo_opts *o = d->opts;
    dp(DP_TITLE, "ustack demo: two hosts on one simulated Ethernet link, in virtual time (seed %llu)\n",
           (unsigned long long)o->seed);
    for (int i = 0; i < 2; i++) {
        char a[INET_ADDRSTRLEN], m[18];
        dp(DP_PLAIN, "  host %s: %s/24 on %s, MAC address %s\n", d->host[i].name,
               ipv4_str(d->host[i].addr, a), ust_netif_name(d->host[i].nif),
               mac_str(d->host[i].mac, m));
    }
    dp(DP_PLAIN, "  link: %lu ms one way, %g%% of frames lost each way", o->delay_ms, o->loss * 100);
    if (o->rate_mbps > 0)
        dp(DP_PLAIN, ", %g Mbit/s", o->rate_mbps);
    dp(DP_PLAIN, "\n");
    dp(DP_PLAIN, "Every line below is read from the stacks (counters, return values,\n"
           "bytes received); [time] is the simulator's virtual clock.\n");
}

/* Step 1: addresses. Setting one announces it (gratuitous ARP). */
static int step_addresses(struct demo *d)
{
    dp(DP_TITLE, "\nStep 1. Each host gets its IPv4 address (ust_netif_set_ipv4).\n");
    for (int i = 0; i < 2; i++)
        if (ust_netif_set_ipv4(d->host[i].nif, d->host[i].addr, 24) < 0)
            return fail("ust_netif_set_ipv4");
    narrate(d);
    run_for(d, d->opts->delay_ms * NS_PER_MS, NULL, NULL);   /* the announcements arrive */
    return 0;
}

/* ---- Step 2: ping ---- */

struct ping_wait {
    int fd;
    uint16_t seq;              /* the reply we wait for */
    uint16_t sent;             /* requests sent so far: seqs 1..sent */
    uint8_t answered[PING_COUNT + 1];
    size_t len;                /* bytes of the awaited reply */
};

/* Reads the replies that came in; true once the one for w->seq is here. */
static bool ping_reply_in(struct demo *d, void *arg)
{
    struct ping_wait *w = arg;
    bool got = false;
    uint8_t buf[sizeof(struct icmphdr) + PING_PAYLOAD];
    for (;;) {
        ssize_t n = ust_recvfrom(d->host[0].stack, w->fd, buf, sizeof(buf), MSG_DONTWAIT, NULL, NULL);
        struct icmphdr h;
        if (n < (ssize_t)sizeof(h))
            return got;
        memcpy(&h, buf, sizeof(h));
        uint16_t seq = ntohs(h.un.echo.sequence);
        if (h.type != ICMP_ECHOREPLY || seq == 0 || seq > w->sent || w->answered[seq])
            continue;
        w->answered[seq] = 1;
        if (seq == w->seq) {
            w->len = (size_t)n;
            got = true;
        } else {
            say(d, "A: ust_recvfrom() = %zd bytes: late echo reply, icmp_seq=%u", n, seq);
        }
    }
}

/* Sends echo request seq and waits for its reply; returns the RTT in ns, or
 * 0 when no reply came within REPLY_WAIT_NS. */
static uint64_t ping_once(struct demo *d, struct ping_wait *w, uint16_t seq)
{
    struct host *a = &d->host[0];
    uint8_t req[sizeof(struct icmphdr) + PING_PAYLOAD];
    struct icmphdr h = { .type = ICMP_ECHO };
    h.un.echo.sequence = htons(seq);
    memcpy(req, &h, sizeof(h));
    for (size_t i = 0; i < PING_PAYLOAD; i++)
        req[sizeof(h) + i] = (uint8_t)i;
    struct sockaddr_in dst = { .sin_family = AF_INET, .sin_addr = d->host[1].addr };
    uint64_t arp_before = stat_of(a, UST_STAT_ARP_OutRequests);
    uint64_t t0 = ust_sim_now(d->sim);
    ssize_t n = ust_sendto(a->stack, w->fd, req, sizeof(req), MSG_DONTWAIT,
                           (struct sockaddr *)&dst, sizeof(dst));
    say(d, "A: ust_sendto(fd, echo request icmp_seq=%u, %zu bytes, 10.0.0.2) = %zd%s%s", seq,
        sizeof(req), n, n < 0 ? " " : "", n < 0 ? strerror(errno) : "");
    if (n < 0)
        return 0;
    w->seq = seq;
    w->sent = seq;
    narrate(d);
    if (stat_of(a, UST_STAT_ARP_OutRequests) > arp_before)
        dp(DP_NOTE, "      (A does not know B's MAC address yet: the echo request waits in A's\n"
               "       ARP queue for the answer)\n");
    else if (seq == 1)
        dp(DP_NOTE, "      (A already knows B's MAC address: no ARP request needed)\n");
    if (!run_for(d, REPLY_WAIT_NS, ping_reply_in, w)) {
        say(d, "no reply to icmp_seq=%u within %llu ms", seq,
            (unsigned long long)(REPLY_WAIT_NS / NS_PER_MS));
        return 0;
    }
    uint64_t rtt = ust_sim_now(d->sim) - t0;
    bool arp = stat_of(a, UST_STAT_ARP_OutRequests) > arp_before;
    say(d, "A: ust_recvfrom() = %zu bytes: echo reply from 10.0.0.2, icmp_seq=%u, rtt %.1f ms%s",
        w->len, seq, (double)rtt / NS_PER_MS, arp ? " (ARP included)" : "");
    return rtt;
}

static int step_ping(struct demo *d)
{
    struct host *a = &d->host[0];
    dp(DP_TITLE, "\nStep 2. A pings 10.0.0.2: %d ICMP echo requests (RFC 792), one per second,\n"
           "over a ping socket. 10.0.0.2 is in A's own network 10.0.0.0/24, so A sends\n"
           "straight to B, and for that it needs B's Ethernet (MAC) address (ARP, RFC 826).\n",
           PING_COUNT);
    struct ping_wait w = { .fd = ust_socket(a->stack, AF_INET, SOCK_DGRAM, IPPROTO_ICMP) };
    say(d, "A: ust_socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP) = %d", w.fd);
    if (w.fd < 0)
        return fail("ust_socket");
    unsigned received = 0;
    uint64_t min = UINT64_MAX, max = 0, sum = 0;
    for (uint16_t seq = 1; seq <= PING_COUNT; seq++) {
        uint64_t start = ust_sim_now(d->sim);
        uint64_t rtt = ping_once(d, &w, seq);
        if (rtt) {
            received++;
            sum += rtt;
            min = rtt < min ? rtt : min;
            max = rtt > max ? rtt : max;
        }
        if (seq < PING_COUNT) {
            uint64_t elapsed = ust_sim_now(d->sim) - start;
            if (elapsed < PING_INTERVAL_NS)
                run_for(d, PING_INTERVAL_NS - elapsed, NULL, NULL);
        }
    }
    dp(DP_PLAIN, "  ping: %d transmitted, %u received, %u%% loss", PING_COUNT, received,
           (PING_COUNT - received) * 100 / PING_COUNT);
    if (received)
        dp(DP_PLAIN, ", rtt min/avg/max = %.1f/%.1f/%.1f ms", (double)min / NS_PER_MS,
               (double)sum / received / NS_PER_MS, (double)max / NS_PER_MS);
    dp(DP_PLAIN, "\n");
    ust_close(a->stack, w.fd);
    return 0;
}

/* ---- Step 3: UDP ---- */

struct udp_wait {
    struct host *h;
    int fd;
    char buf[64];
    ssize_t len;
    struct sockaddr_in from;
};

static bool udp_in(struct demo *d, void *arg)
{
    (void)d;
    struct udp_wait *w = arg;
    socklen_t flen = sizeof(w->from);
    w->len = ust_recvfrom(w->h->stack, w->fd, w->buf, sizeof(w->buf), MSG_DONTWAIT,
                          (struct sockaddr *)&w->from, &flen);
    return w->len >= 0;
}

static bool udp_wait_for(struct demo *d, struct udp_wait *w)
{
    if (!run_for(d, REPLY_WAIT_NS, udp_in, w)) {
        say(d, "%s: nothing arrived within %llu ms (UDP does not retransmit: a lost "
            "datagram is gone)", w->h->name, (unsigned long long)(REPLY_WAIT_NS / NS_PER_MS));
        return false;
    }
    char a[INET_ADDRSTRLEN];
    dp(DP_PLAIN, "  [%8.1f ms] %s: ust_recvfrom(fd) = %zd bytes from %s:%u: ", now_ms(d), w->h->name,
           w->len, ipv4_str(w->from.sin_addr, a), ntohs(w->from.sin_port));
    print_bytes(w->buf, (size_t)w->len);
    dp(DP_PLAIN, "\n");
    return true;
}

static int udp_socket(struct demo *d, struct host *h, bool bind_port)
{
    int fd = ust_socket(h->stack, AF_INET, SOCK_DGRAM, 0);
    say(d, "%s: ust_socket(AF_INET, SOCK_DGRAM, 0) = %d", h->name, fd);
    if (fd < 0 || !bind_port)
        return fd;
    char a[INET_ADDRSTRLEN];
    struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(UDP_PORT), .sin_addr = h->addr };
    int r = ust_bind(h->stack, fd, (struct sockaddr *)&sin, sizeof(sin));
    say(d, "%s: ust_bind(fd, %s:%d) = %d", h->name, ipv4_str(h->addr, a), UDP_PORT, r);
    return r < 0 ? -1 : fd;
}

static int step_udp(struct demo *d)
{
    struct host *a = &d->host[0], *b = &d->host[1];
    dp(DP_TITLE, "\nStep 3. UDP (RFC 768): B runs an echo service on port %d; A sends it a datagram\n"
           "and B sends the same bytes back.\n", UDP_PORT);
    int bfd = udp_socket(d, b, true);
    int afd = udp_socket(d, a, false);
    if (bfd < 0 || afd < 0)
        return fail("socket setup");
    struct sockaddr_in dst = { .sin_family = AF_INET, .sin_port = htons(UDP_PORT), .sin_addr = b->addr };
    ssize_t n = ust_sendto(a->stack, afd, UDP_MESSAGE, strlen(UDP_MESSAGE), MSG_DONTWAIT,
                           (struct sockaddr *)&dst, sizeof(dst));
    say(d, "A: ust_sendto(fd, \"%s\", %zu bytes, 10.0.0.2:%d) = %zd", UDP_MESSAGE,
        strlen(UDP_MESSAGE), UDP_PORT, n);
    if (n < 0)
        return fail("ust_sendto");
    narrate(d);
    struct udp_wait bw = { .h = b, .fd = bfd }, aw = { .h = a, .fd = afd };
    if (udp_wait_for(d, &bw)) {
        char a_str[INET_ADDRSTRLEN];
        n = ust_sendto(b->stack, bfd, bw.buf, (size_t)bw.len, MSG_DONTWAIT,
                       (struct sockaddr *)&bw.from, sizeof(bw.from));
        say(d, "B: ust_sendto(fd, the same %zd bytes, %s:%u) = %zd", bw.len,
            ipv4_str(bw.from.sin_addr, a_str), ntohs(bw.from.sin_port), n);
        narrate(d);
        if (n >= 0 && udp_wait_for(d, &aw))
            dp(DP_PLAIN, "  A got back %s it sent.\n",
                   aw.len == (ssize_t)strlen(UDP_MESSAGE) && memcmp(aw.buf, UDP_MESSAGE, (size_t)aw.len) == 0
                       ? "exactly the bytes" : "NOT the bytes");
    }
    ust_close(a->stack, afd);
    ust_close(b->stack, bfd);
    return 0;
}

/* ---- Summary ---- */

static void print_summary(const struct demo *d)
{
    dp(DP_SUMMARY, "\nSummary after %.1f ms of virtual time. Counters that are not zero\n"
           "(as in Linux's /proc/net/snmp):\n", now_ms(d));
    dp(DP_SUMMARY, "  %-24s %8s %8s\n", "", "A", "B");
    for (int s = 0; s < UST_STAT__COUNT; s++) {
        uint64_t va = stat_of(&d->host[0], (enum ust_stat)s);
        uint64_t vb = stat_of(&d->host[1], (enum ust_stat)s);
        if (va || vb)
            dp(DP_SUMMARY, "  %-24s %8llu %8llu\n", ust_stat_name((enum ust_stat)s),
                   (unsigned long long)va, (unsigned long long)vb);
    }
    for (int dir = 0; dir < 2; dir++) {
        struct ust_link_stats ls;
        ust_sim_link_stats(d->link, dir, &ls);
        dp(DP_SUMMARY, "  link %s->%s: %llu frames sent, %llu delivered, %llu lost\n", d->host[dir].name,
               d->host[!dir].name, (unsigned long long)ls.sent, (unsigned long long)ls.delivered,
               (unsigned long long)ls.lost);
    }
    if (d->opts->pcap)
        dp(DP_SUMMARY, "  host A's frames are in %s (tshark -r %s)\n", d->opts->pcap, d->opts->pcap);
}

static bool part(const struct demo_opts *o, const char *name)
{
    return !o->only || strcmp(o->only, name) == 0;
}

/* --svg and --html, after the parts ran. */
static int write_files(const struct demo *d)
{
    const struct demo_opts *o = d->opts;
    int status = 0;
    if (o->svg) {
        if (d->plot && plot_write_svg(d->plot, o->svg) == 0)
            dp(DP_SUMMARY, "  part 2's plots are in %s\n", o->svg);
        else
            status = fail(d->plot ? o->svg : "--svg needs part 2 (tcp)");
    }
    if (o->html) {
        char *narrative = dp_html();
        if (plot_write_html(d->plot, o->html, narrative) == 0)
            dp(DP_SUMMARY, "  the narrative and the plots are in %s\n", o->html);
        else
            status = fail(o->html);
        free(narrative);
    }
    return status;
}

static int run_parts(struct demo *d)
{
    const struct demo_opts *o = d->opts;
    print_intro(d);
    if (part(o, "net") || part(o, "tcp")) {
        if (part(o, "net"))
            dp(DP_TITLE, "\nPart 1. Neighbours: addresses, ARP, ping and UDP.\n");
        if (step_addresses(d) < 0)
            return -1;
    }
    if (part(o, "net")) {
        if (step_ping(d) < 0 || step_udp(d) < 0)
            return -1;
        print_summary(d);
    }
    if (part(o, "tcp")) {
        if ((o->svg || o->html) && !(d->plot = plot_new()))
            return fail("plot");
        if (d->plot) {
            char title[160];
            snprintf(title, sizeof(title), "ustack demo, part 2: %lu bytes over %lu ms RTT, %g%% loss, "
                     "seed %llu", o->bytes, 2 * o->delay_ms, o->loss * 100,
                     (unsigned long long)o->seed);
            plot_title(d->plot, title);
        }
        if (demo_tcp(d) < 0)
            return -1;
    }
    if (part(o, "ipc") && demo_ipc(o) < 0)
        return -1;
    return write_files(d);
}

int cmd_demo(int argc, char **argv)
{
    struct demo_opts o = { 0 };
    int status = parse_args(argc, argv, &o);
    if (status >= 0)
        return status;
    dp_init(&o);
    struct demo d = { .opts = &o };
    status = TOOL_EXIT_FAIL;
    if (setup(&d) == 0 && run_parts(&d) == 0)
        status = TOOL_EXIT_OK;
    if (o.pcap && d.host[0].nif)
        ust_netif_capture_stop(d.host[0].nif);
    if (d.sim)
        ust_sim_free(d.sim);
    plot_free(d.plot);
    dp_fini();
    fflush(stdout);
    return status;
}
