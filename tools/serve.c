/* ustack serve: a UDP echo (RFC 862), discard (RFC 863) or chargen (RFC 864)
 * service on a TAP or TUN device, run by the stack thread. Stops cleanly on
 * SIGINT/SIGTERM and can print the stack's counters on the way out. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

#define SERVE_BUF 65536
#define CHARGEN_MAX 512     /* RFC 864: a UDP answer holds 0 to 512 characters */
#define POLL_MS 200         /* how often the loop looks at tool_stop */

enum service { SVC_ECHO, SVC_DISCARD, SVC_CHARGEN };

static const struct {
    const char *name;
    unsigned short port;
} services[] = {
    [SVC_ECHO] = { "echo", 7 },
    [SVC_DISCARD] = { "discard", 9 },
    [SVC_CHARGEN] = { "chargen", 19 },
};

struct serve_opts {
    struct netif_opts nif;
    enum service service;
    bool have_service;
    unsigned short port;
    bool stats;
};

struct serve_counts {
    unsigned long long datagrams, bytes_in, bytes_out, send_errors;
};

void usage_serve(FILE *out)
{
    fprintf(out,
            "usage: ustack serve (--tap NAME | --tun NAME) --addr A.B.C.D/LEN [--gw G]\n"
            "                    --service echo|discard|chargen [--port N] [--pcap FILE] [--stats]\n\n"
            "Runs a UDP service on a TAP (Ethernet, ARP) or TUN (IP only) device until\n"
            "SIGINT or SIGTERM. The stack answers ping and ARP on its own.\n\n"
            "  --tap NAME        attach to (or create) the TAP device NAME\n"
            "  --tun NAME        attach to (or create) the TUN device NAME\n"
            "  --addr A.B.C.D/LEN  ustack's address and prefix length on the device\n"
            "  --gw G            default gateway\n"
            "  --service S       echo (RFC 862): send each datagram back;\n"
            "                    discard (RFC 863): drop it;\n"
            "                    chargen (RFC 864): answer with 0-512 pattern characters\n"
            "  --port N          UDP port (default: 7 echo, 9 discard, 19 chargen)\n"
            "  --pcap FILE       write every frame of the device to FILE (pcap)\n"
            "  --stats           print the stack's counters on exit\n");
}

static bool parse_service(const char *s, enum service *out)
{
    for (size_t i = 0; i < sizeof(services) / sizeof(services[0]); i++) {
        if (strcmp(s, services[i].name) == 0) {
            *out = (enum service)i;
            return true;
        }
    }
    return false;
}

/* Returns -1 when the options are fine, else the exit status. */
static int parse_args(int argc, char **argv, struct serve_opts *o)
{
    static const struct option longopts[] = {
        { "tap", required_argument, NULL, 'T' },   { "tun", required_argument, NULL, 'U' },
        { "addr", required_argument, NULL, 'a' },  { "gw", required_argument, NULL, 'g' },
        { "service", required_argument, NULL, 'S' }, { "port", required_argument, NULL, 'p' },
        { "pcap", required_argument, NULL, 'w' },  { "stats", no_argument, NULL, 's' },
        { "help", no_argument, NULL, 'h' },        { NULL, 0, NULL, 0 },
    };
    unsigned long port = 0;
    int c;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        bool ok = true;
        switch (c) {
        case 'T': o->nif.tap = optarg; break;
        case 'U': o->nif.tun = optarg; break;
        case 'a': ok = o->nif.have_addr = parse_ipv4_prefix(optarg, &o->nif.addr, &o->nif.prefix_len); break;
        case 'g': ok = o->nif.have_gw = parse_ipv4(optarg, &o->nif.gw); break;
        case 'S': ok = o->have_service = parse_service(optarg, &o->service); break;
        case 'p': ok = parse_uint(optarg, 1, 65535, &port); break;
        case 'w': o->nif.pcap = optarg; break;
        case 's': o->stats = true; break;
        case 'h': usage_serve(stdout); return TOOL_EXIT_OK;
        default: usage_serve(stderr); return TOOL_EXIT_USAGE;
        }
        if (!ok) {
            bad_value("serve", longopts, c, optarg);
            usage_serve(stderr);
            return TOOL_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "ustack serve: unexpected argument '%s'\n\n", argv[optind]);
        usage_serve(stderr);
        return TOOL_EXIT_USAGE;
    }
    if (!o->have_service) {
        fprintf(stderr, "ustack serve: --service echo|discard|chargen is needed\n\n");
        usage_serve(stderr);
        return TOOL_EXIT_USAGE;
    }
    if (!netif_opts_check(&o->nif, true)) {
        usage_serve(stderr);
        return TOOL_EXIT_USAGE;
    }
    o->port = port ? (unsigned short)port : services[o->service].port;
    return -1;
}

/* RFC 864: the printable ASCII characters (95 of them) in lines of 72, each
 * line starting one character further on. *pos carries the position across
 * datagrams. */
static size_t chargen_fill(char *buf, size_t len, unsigned long *pos)
{
    size_t n = 0;
    while (n < len) {
        unsigned long line = *pos / 74, col = *pos % 74;
        if (col < 72)
            buf[n] = (char)(' ' + (line + col) % 95);
        else
            buf[n] = col == 72 ? '\r' : '\n';
        n++;
        (*pos)++;
    }
    return n;
}

/* Answers one datagram of len bytes from src according to the service. */
static void serve_one(struct ust_stack *stack, int fd, const struct serve_opts *o, char *buf,
                      size_t len, const struct sockaddr_in *src, struct serve_counts *n,
                      unsigned long *chargen_pos)
{
    size_t out;
    switch (o->service) {
    case SVC_DISCARD:
        return;
    case SVC_ECHO:
        out = len;
        break;
    case SVC_CHARGEN:
    default:
        out = chargen_fill(buf, (size_t)(random() % (CHARGEN_MAX + 1)), chargen_pos);
        break;
    }
    ssize_t r = ust_sendto(stack, fd, buf, out, 0, (const struct sockaddr *)src, sizeof(*src));
    if (r < 0) {
        if (n->send_errors++ == 0)
            fprintf(stderr, "ustack serve: sendto: %s\n", strerror(errno));
        return;
    }
    n->bytes_out += (unsigned long long)r;
}

/* Reads every datagram waiting on fd. */
static void serve_drain(struct ust_stack *stack, int fd, const struct serve_opts *o, char *buf,
                        struct serve_counts *n, unsigned long *chargen_pos)
{
    for (;;) {
        struct sockaddr_in src;
        socklen_t slen = sizeof(src);
        ssize_t len = ust_recvfrom(stack, fd, buf, SERVE_BUF, MSG_DONTWAIT,
                                   (struct sockaddr *)&src, &slen);
        if (len < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                fprintf(stderr, "ustack serve: recvfrom: %s\n", strerror(errno));
            return;
        }
        n->datagrams++;
        n->bytes_in += (unsigned long long)len;
        serve_one(stack, fd, o, buf, (size_t)len, &src, n, chargen_pos);
    }
}

static int open_socket(struct ust_stack *stack, const struct serve_opts *o)
{
    int fd = ust_socket(stack, AF_INET, SOCK_DGRAM, 0);
    if (fd < 0) {
        fprintf(stderr, "ustack serve: socket: %s\n", strerror(errno));
        return -1;
    }
    struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(o->port),
                               .sin_addr = o->nif.addr };
    if (ust_bind(stack, fd, (const struct sockaddr *)&sin, sizeof(sin)) < 0) {
        fprintf(stderr, "ustack serve: bind to port %u: %s\n", o->port, strerror(errno));
        ust_close(stack, fd);
        return -1;
    }
    return fd;
}

static int serve_loop(struct ust_stack *stack, int fd, const struct serve_opts *o)
{
    char *buf = malloc(SERVE_BUF);
    if (!buf) {
        fprintf(stderr, "ustack serve: out of memory\n");
        return TOOL_EXIT_FAIL;
    }
    struct serve_counts n = { 0 };
    unsigned long chargen_pos = 0;
    int status = TOOL_EXIT_OK;
    while (!tool_stop) {
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        int r = ust_poll(stack, &pfd, 1, POLL_MS);
        if ((r < 0 && errno != EINTR) || (r > 0 && (pfd.revents & POLLNVAL))) {
            fprintf(stderr, "ustack serve: poll: %s\n", r < 0 ? strerror(errno) : "bad descriptor");
            status = TOOL_EXIT_FAIL;
            break;
        }
        if (r > 0)
            serve_drain(stack, fd, o, buf, &n, &chargen_pos);
    }
    free(buf);
    printf("ustack: stopped; %llu datagrams (%llu bytes) received, %llu bytes sent",
           n.datagrams, n.bytes_in, n.bytes_out);
    if (n.send_errors)
        printf(", %llu send errors", n.send_errors);
    printf("\n");
    return status;
}

int cmd_serve(int argc, char **argv)
{
    struct serve_opts o = { 0 };
    int status = parse_args(argc, argv, &o);
    if (status >= 0)
        return status;

    srandom((unsigned)mono_ns());
    signals_install();
    struct ust_stack *stack = ust_stack_new(NULL);
    if (!stack) {
        fprintf(stderr, "ustack serve: cannot create the stack: %s\n", strerror(errno));
        return TOOL_EXIT_FAIL;
    }
    status = TOOL_EXIT_FAIL;
    struct ust_netif *nif = netif_setup(stack, &o.nif);
    int fd = nif ? open_socket(stack, &o) : -1;
    if (fd < 0)
        goto out;
    /* The stack thread inherits the blocked mask: signals go to this thread. */
    signals_block(true);
    int err = ust_stack_start(stack);
    signals_block(false);
    if (err < 0) {
        fprintf(stderr, "ustack serve: cannot start the stack thread: %s\n", strerror(errno));
        goto out;
    }
    char a[INET_ADDRSTRLEN];
    printf("ustack: serving udp/%s on %s:%u via %s\n", services[o.service].name,
           ipv4_str(o.nif.addr, a), o.port, ust_netif_name(nif));
    fflush(stdout);
    status = serve_loop(stack, fd, &o);
    ust_stack_stop(stack);
out:
    if (o.stats) {
        printf("counters:\n");
        stats_print(stdout, stack);
    }
    if (nif && o.nif.pcap)
        ust_netif_capture_stop(nif);
    ust_stack_free(stack);
    fflush(stdout);
    return status;
}
