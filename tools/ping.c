/* ustack ping: ICMP echo (RFC 792) from a ustack ping socket
 * (SOCK_DGRAM, IPPROTO_ICMP, as Linux's), over a TAP or TUN device or the
 * stack's loopback, printing what ping(8) prints. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <netinet/ip_icmp.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

#define PING_MAX_PAYLOAD 65507      /* 65535 - 20 (IPv4) - 8 (ICMP) */
#define PING_SEQS 65536             /* icmp_seq is 16 bits */
#define POLL_SLICE_MS 200           /* longest wait before looking at tool_stop */

struct ping_opts {
    struct netif_opts nif;
    unsigned long count;            /* 0 = until interrupted */
    double interval_s;
    unsigned long size;             /* payload bytes after the ICMP header */
    double timeout_s;               /* wait for replies after the last request */
    struct in_addr host;
};

/* What was sent and what came back, indexed by icmp_seq. */
struct ping_state {
    uint64_t sent_at[PING_SEQS];
    uint8_t answered[PING_SEQS];
    unsigned long transmitted, received, duplicates, errors;
    double rtt_min, rtt_max, rtt_sum, rtt_sum2;   /* ms */
    uint8_t *packet;                               /* request: header + payload */
    uint8_t *reply;
};

void usage_ping(FILE *out)
{
    fprintf(out,
            "usage: ustack ping [--tap NAME | --tun NAME --addr A.B.C.D/LEN [--gw G]] [--pcap FILE]\n"
            "                   [--impair SPEC] [-c COUNT] [-i INTERVAL] [-s SIZE] [-W TIMEOUT] HOST\n\n"
            "Sends ICMP echo requests from a ustack ping socket and prints the replies\n"
            "and a summary like ping(8). Without --tap or --tun it uses ustack's\n"
            "loopback (HOST 127.0.0.1). Exit status 0 if any reply came back, else 1.\n\n"
            "  --tap NAME        use the TAP device NAME\n"
            "  --tun NAME        use the TUN device NAME\n"
            "  --addr A.B.C.D/LEN  ustack's address on the device\n"
            "  --gw G            default gateway\n"
            "  --pcap FILE       write every frame of the interface to FILE (pcap)\n"
            NETIF_IMPAIR_HELP
            "  -c COUNT          stop after COUNT requests (default: until interrupted)\n"
            "  -i INTERVAL       seconds between requests (default 1)\n"
            "  -s SIZE           payload bytes (default 56)\n"
            "  -W TIMEOUT        seconds to wait for replies after the last request (default 2)\n");
}

/* Returns -1 when the options are fine, else the exit status. */
static int parse_args(int argc, char **argv, struct ping_opts *o)
{
    static const struct option longopts[] = {
        { "tap", required_argument, NULL, 'T' }, { "tun", required_argument, NULL, 'U' },
        { "addr", required_argument, NULL, 'a' }, { "gw", required_argument, NULL, 'g' },
        { "pcap", required_argument, NULL, 'w' }, { "help", no_argument, NULL, 'h' },
        NETIF_IMPAIR_OPTION,                      { NULL, 0, NULL, 0 },
    };
    o->interval_s = 1.0;
    o->size = 56;
    o->timeout_s = 2.0;
    int c;
    while ((c = getopt_long(argc, argv, "c:i:s:W:h", longopts, NULL)) != -1) {
        bool ok = true;
        switch (c) {
        case 'T': o->nif.tap = optarg; break;
        case 'U': o->nif.tun = optarg; break;
        case 'a': ok = o->nif.have_addr = parse_ipv4_prefix(optarg, &o->nif.addr, &o->nif.prefix_len); break;
        case 'g': ok = o->nif.have_gw = parse_ipv4(optarg, &o->nif.gw); break;
        case 'w': o->nif.pcap = optarg; break;
        case NETIF_IMPAIR_OPT: ok = parse_impair(optarg, &o->nif); break;
        case 'c': ok = parse_uint(optarg, 1, 1000000000ul, &o->count); break;
        case 'i': ok = parse_double(optarg, 0.001, 3600, &o->interval_s); break;
        case 's': ok = parse_uint(optarg, 0, PING_MAX_PAYLOAD, &o->size); break;
        case 'W': ok = parse_double(optarg, 0.001, 3600, &o->timeout_s); break;
        case 'h': usage_ping(stdout); return TOOL_EXIT_OK;
        default: usage_ping(stderr); return TOOL_EXIT_USAGE;
        }
        if (!ok) {
            bad_value("ping", longopts, c, optarg);
            usage_ping(stderr);
            return TOOL_EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "ustack ping: %s\n\n", optind == argc ? "HOST is missing" : "one HOST only");
        usage_ping(stderr);
        return TOOL_EXIT_USAGE;
    }
    if (!parse_ipv4(argv[optind], &o->host)) {
        fprintf(stderr, "ustack ping: HOST must be an IPv4 address: '%s'\n\n", argv[optind]);
        usage_ping(stderr);
        return TOOL_EXIT_USAGE;
    }
    if (!netif_opts_check(&o->nif, false)) {
        usage_ping(stderr);
        return TOOL_EXIT_USAGE;
    }
    return -1;
}

/* The payload pattern, so a reply can be checked byte by byte. */
static uint8_t pattern_byte(size_t i)
{
    return (uint8_t)(i & 0xff);
}

/* Sends echo request number seq (RFC 792: type 8, code 0). The stack sets
 * the identifier to the socket's port and computes the checksum. */
static void send_request(struct ust_stack *stack, int fd, const struct ping_opts *o,
                         struct ping_state *st)
{
    uint16_t seq = (uint16_t)(st->transmitted + 1);
    struct icmphdr h = { .type = ICMP_ECHO, .code = 0 };
    h.un.echo.sequence = htons(seq);
    memcpy(st->packet, &h, sizeof(h));
    struct sockaddr_in dst = { .sin_family = AF_INET, .sin_addr = o->host };
    size_t len = sizeof(h) + o->size;
    st->sent_at[seq] = mono_ns();
    st->answered[seq] = 0;
    st->transmitted++;      /* a request that cannot be sent counts as lost */
    if (ust_sendto(stack, fd, st->packet, len, 0, (struct sockaddr *)&dst, sizeof(dst)) < 0) {
        fprintf(stderr, "ustack ping: sendto: %s\n", strerror(errno));
        st->errors++;
    }
}

static void note_rtt(struct ping_state *st, double ms)
{
    if (st->received == 0 || ms < st->rtt_min)
        st->rtt_min = ms;
    if (st->received == 0 || ms > st->rtt_max)
        st->rtt_max = ms;
    st->rtt_sum += ms;
    st->rtt_sum2 += ms * ms;
    st->received++;
}

/* Checks and prints one reply of len bytes (ICMP header first). */
static void handle_reply(const struct ping_opts *o, struct ping_state *st, size_t len,
                         const struct sockaddr_in *from)
{
    struct icmphdr h;
    if (len < sizeof(h))
        return;
    memcpy(&h, st->reply, sizeof(h));
    if (h.type != ICMP_ECHOREPLY)
        return;
    uint16_t seq = ntohs(h.un.echo.sequence);
    if (st->sent_at[seq] == 0)
        return;                      /* not one of ours */
    char a[INET_ADDRSTRLEN];
    double ms = (double)(mono_ns() - st->sent_at[seq]) / 1e6;
    printf("%zu bytes from %s: icmp_seq=%u time=%.3f ms", len, ipv4_str(from->sin_addr, a), seq, ms);
    if (st->answered[seq]) {
        st->duplicates++;
        printf(" (DUP!)");
    } else {
        st->answered[seq] = 1;
        note_rtt(st, ms);
    }
    size_t payload = len - sizeof(h);
    if (payload != o->size)
        printf(" (%zu payload bytes, sent %lu)", payload, o->size);
    for (size_t i = 0; i < payload && i < o->size; i++) {
        if (st->reply[sizeof(h) + i] != pattern_byte(i)) {
            printf(" (wrong data byte #%zu: 0x%02x, expected 0x%02x)", i,
                   st->reply[sizeof(h) + i], pattern_byte(i));
            break;
        }
    }
    printf("\n");
    fflush(stdout);
}

static void drain_replies(struct ust_stack *stack, int fd, const struct ping_opts *o,
                          struct ping_state *st)
{
    for (;;) {
        struct sockaddr_in from;
        socklen_t flen = sizeof(from);
        ssize_t n = ust_recvfrom(stack, fd, st->reply, sizeof(struct icmphdr) + PING_MAX_PAYLOAD,
                                 MSG_DONTWAIT, (struct sockaddr *)&from, &flen);
        if (n < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
                char a[INET_ADDRSTRLEN];
                printf("From %s: %s\n", ipv4_str(o->host, a), strerror(errno));
            }
            return;
        }
        handle_reply(o, st, (size_t)n, &from);
    }
}

static void print_summary(const struct ping_opts *o, const struct ping_state *st,
                          uint64_t elapsed_ns)
{
    char a[INET_ADDRSTRLEN];
    printf("\n--- %s ping statistics ---\n", ipv4_str(o->host, a));
    unsigned long loss = st->transmitted
        ? (unsigned long)((st->transmitted - st->received) * 100 / st->transmitted) : 0;
    printf("%lu packets transmitted, %lu received,", st->transmitted, st->received);
    if (st->duplicates)
        printf(" +%lu duplicates,", st->duplicates);
    if (st->errors)
        printf(" +%lu errors,", st->errors);
    printf(" %lu%% packet loss, time %llums\n", loss, (unsigned long long)(elapsed_ns / 1000000));
    if (st->received) {
        double avg = st->rtt_sum / (double)st->received;
        double var = st->rtt_sum2 / (double)st->received - avg * avg;
        printf("rtt min/avg/max/mdev = %.3f/%.3f/%.3f/%.3f ms\n", st->rtt_min, avg, st->rtt_max,
               sqrt(var > 0 ? var : 0));
    }
    fflush(stdout);
}

/* Milliseconds from now until t (rounded up), at most POLL_SLICE_MS. */
static int wait_ms(uint64_t now, uint64_t t)
{
    if (t <= now)
        return 0;
    uint64_t ms = (t - now + 999999) / 1000000;
    return ms > POLL_SLICE_MS ? POLL_SLICE_MS : (int)ms;
}

static bool more_to_send(const struct ping_opts *o, const struct ping_state *st)
{
    return o->count == 0 || st->transmitted < o->count;
}

/* Sends a request every interval and reads replies in between; after the
 * last request, waits until every reply is in or the timeout passed. */
static void ping_loop(struct ust_stack *stack, int fd, const struct ping_opts *o,
                      struct ping_state *st)
{
    uint64_t interval = (uint64_t)(o->interval_s * 1e9);
    uint64_t start = mono_ns(), next_send = start, deadline = 0;
    while (!tool_stop) {
        uint64_t now = mono_ns();
        if (more_to_send(o, st) && now >= next_send) {
            send_request(stack, fd, o, st);
            next_send += interval;
            if (!more_to_send(o, st))
                deadline = now + (uint64_t)(o->timeout_s * 1e9);
        }
        bool more = more_to_send(o, st);
        if (!more && (st->received >= st->transmitted || now >= deadline))
            break;
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        int r = ust_poll(stack, &pfd, 1, wait_ms(now, more ? next_send : deadline));
        if (r < 0 && errno != EINTR) {
            fprintf(stderr, "ustack ping: poll: %s\n", strerror(errno));
            break;
        }
        if (r > 0)
            drain_replies(stack, fd, o, st);
    }
    print_summary(o, st, mono_ns() - start);
}

static int run(struct ust_stack *stack, const struct ping_opts *o, struct ping_state *st)
{
    struct ust_netif *nif = netif_setup(stack, &o->nif);
    if (!nif)
        return TOOL_EXIT_FAIL;
    int fd = ust_socket(stack, AF_INET, SOCK_DGRAM, IPPROTO_ICMP);
    if (fd < 0) {
        fprintf(stderr, "ustack ping: socket: %s\n", strerror(errno));
        return TOOL_EXIT_FAIL;
    }
    signals_block(true);
    int err = ust_stack_start(stack);
    signals_block(false);
    if (err < 0) {
        fprintf(stderr, "ustack ping: cannot start the stack thread: %s\n", strerror(errno));
        return TOOL_EXIT_FAIL;
    }
    for (size_t i = 0; i < o->size; i++)
        st->packet[sizeof(struct icmphdr) + i] = pattern_byte(i);
    char a[INET_ADDRSTRLEN];
    printf("PING %s (%s) %lu(%lu) bytes of data.\n", ipv4_str(o->host, a), a, o->size,
           o->size + 28);
    fflush(stdout);
    ping_loop(stack, fd, o, st);
    ust_stack_stop(stack);
    if (o->nif.pcap)
        ust_netif_capture_stop(nif);
    return st->received ? TOOL_EXIT_OK : TOOL_EXIT_FAIL;
}

int cmd_ping(int argc, char **argv)
{
    struct ping_opts o = { 0 };
    int status = parse_args(argc, argv, &o);
    if (status >= 0)
        return status;

    signals_install();
    size_t bufsize = sizeof(struct icmphdr) + PING_MAX_PAYLOAD;
    struct ping_state *st = calloc(1, sizeof(*st));
    struct ust_stack *stack = ust_stack_new(NULL);
    if (st) {
        st->packet = malloc(bufsize);
        st->reply = malloc(bufsize);
    }
    if (!st || !st->packet || !st->reply || !stack) {
        fprintf(stderr, "ustack ping: cannot set up: %s\n", strerror(errno));
        status = TOOL_EXIT_FAIL;
    } else {
        status = run(stack, &o, st);
    }
    if (stack)
        ust_stack_free(stack);
    if (st) {
        free(st->packet);
        free(st->reply);
        free(st);
    }
    return status;
}
