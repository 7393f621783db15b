/* ustack serve: echo (RFC 862), discard (RFC 863) or chargen (RFC 864) over
 * UDP and TCP, or an HTTP/1.1 file server over TCP, on a TAP or TUN device,
 * with the stack thread. This file: options, the poll loop and the UDP
 * side; TCP connections are in serve_tcp.c, HTTP in serve_http.c. Stops
 * cleanly on SIGINT/SIGTERM; SIGUSR1 prints the per-connection TCP_INFO
 * table; --stats prints it and the stack's counters on the way out. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common.h"
#include "serve.h"
#include "control.h"

#define SERVE_BUF 65536
#define CHARGEN_MAX 512     /* RFC 864: a UDP answer holds 0 to 512 characters */
#define POLL_MS 200         /* how often the loop looks at tool_stop */
#define SERVE_MAX_FDS 4096  /* descriptor table of the stack: many TCP connections */

static const struct {
    const char *name;
    unsigned short port;
} services[] = {
    [SVC_ECHO] = { "echo", 7 },
    [SVC_DISCARD] = { "discard", 9 },
    [SVC_CHARGEN] = { "chargen", 19 },
    [SVC_HTTP] = { "http", 80 },
};

static volatile sig_atomic_t want_table;

struct serve_counts {
    unsigned long long datagrams, bytes_in, bytes_out, send_errors;
};

void usage_serve(FILE *out)
{
    fprintf(out,
            "usage: ustack serve (--tap NAME | --tun NAME) --addr A.B.C.D/LEN [--gw G]\n"
            "                    --service echo|discard|chargen|http [--proto tcp|udp|both]\n"
            "                    [--port N] [--root DIR] [--pcap FILE] [--impair SPEC] [--stats]\n"
            "                    [--control PATH | --no-control]\n\n"
            "Runs a service over UDP and/or TCP on a TAP (Ethernet, ARP) or TUN (IP only)\n"
            "device until SIGINT or SIGTERM. The stack answers ping and ARP on its own.\n"
            "SIGUSR1 prints every open TCP connection's TCP_INFO (state, rtt, rto, cwnd,\n"
            "ssthresh, unacked, retransmits). While it runs, `ustack ss` and `ustack stat`\n"
            "show its connections and counters (through a control socket).\n\n"
            "  --tap NAME        attach to (or create) the TAP device NAME\n"
            "  --tun NAME        attach to (or create) the TUN device NAME\n"
            "  --addr A.B.C.D/LEN  ustack's address and prefix length on the device\n"
            "  --gw G            default gateway\n"
            "  --service S       echo (RFC 862): send the data back;\n"
            "                    discard (RFC 863): drop it;\n"
            "                    chargen (RFC 864): answer with pattern characters\n"
            "                    (UDP: 0-512 per datagram; TCP: a stream);\n"
            "                    http: HTTP/1.1 (GET, HEAD, keep-alive) serving --root\n"
            "  --proto P         tcp, udp or both (default both; http is tcp only)\n"
            "  --port N          port (default: 7 echo, 9 discard, 19 chargen, 80 http)\n"
            "  --root DIR        directory served by http (default: .)\n"
            "  --pcap FILE       write every frame of the device to FILE (pcap)\n"
            NETIF_IMPAIR_HELP
            "  --stats           on exit, print the TCP connections' TCP_INFO and the\n"
            "                    stack's counters\n"
            "  --control PATH    the control socket for ustack ss/stat (default:\n"
            "                    serve-PID.sock in /run/ustack as root, else in\n"
            "                    $XDG_RUNTIME_DIR/ustack or /tmp/ustack-UID)\n"
            "  --no-control      no control socket\n");
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

static bool parse_proto(const char *s, struct serve_opts *o)
{
    o->udp = strcmp(s, "udp") == 0 || strcmp(s, "both") == 0;
    o->tcp = strcmp(s, "tcp") == 0 || strcmp(s, "both") == 0;
    o->proto_explicit = true;
    return o->udp || o->tcp;
}

/* The combination of service, protocol and root; prints the problem. */
static bool check_service(struct serve_opts *o)
{
    if (!o->have_service) {
        fprintf(stderr, "ustack serve: --service echo|discard|chargen|http is needed\n\n");
        return false;
    }
    if (!o->proto_explicit) {
        o->tcp = true;
        o->udp = o->service != SVC_HTTP;
    }
    if (o->service == SVC_HTTP && o->udp) {
        fprintf(stderr, "ustack serve: http is served over TCP only (--proto tcp)\n\n");
        return false;
    }
    if (o->root && o->service != SVC_HTTP) {
        fprintf(stderr, "ustack serve: --root is for --service http\n\n");
        return false;
    }
    if (o->service == SVC_HTTP) {
        struct stat st;
        if (!o->root)
            o->root = ".";
        if (stat(o->root, &st) < 0 || !S_ISDIR(st.st_mode)) {
            fprintf(stderr, "ustack serve: --root %s is not a directory\n\n", o->root);
            return false;
        }
    }
    return true;
}

/* Returns -1 when the options are fine, else the exit status. */
static int parse_args(int argc, char **argv, struct serve_opts *o)
{
    static const struct option longopts[] = {
        { "tap", required_argument, NULL, 'T' },   { "tun", required_argument, NULL, 'U' },
        { "addr", required_argument, NULL, 'a' },  { "gw", required_argument, NULL, 'g' },
        { "service", required_argument, NULL, 'S' }, { "port", required_argument, NULL, 'p' },
        { "proto", required_argument, NULL, 'P' }, { "root", required_argument, NULL, 'r' },
        { "pcap", required_argument, NULL, 'w' },  { "stats", no_argument, NULL, 's' },
        { "help", no_argument, NULL, 'h' },        NETIF_IMPAIR_OPTION,
        { "control", required_argument, NULL, 'C' }, { "no-control", no_argument, NULL, 'N' },
        { NULL, 0, NULL, 0 },
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
        case 'P': ok = parse_proto(optarg, o); break;
        case 'r': o->root = optarg; break;
        case 'w': o->nif.pcap = optarg; break;
        case NETIF_IMPAIR_OPT: ok = parse_impair(optarg, &o->nif); break;
        case 's': o->stats = true; break;
        case 'C': o->control = optarg; break;
        case 'N': o->no_control = true; break;
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
    if (!check_service(o) || !netif_opts_check(&o->nif, true)) {
        usage_serve(stderr);
        return TOOL_EXIT_USAGE;
    }
    o->port = port ? (unsigned short)port : services[o->service].port;
    return -1;
}

size_t chargen_fill(char *buf, size_t len, unsigned long *pos)
{
    /* RFC 864: the printable ASCII characters (95 of them) in lines of 72,
     * each line starting one character further on. */
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

static int open_udp(struct ust_stack *stack, const struct serve_opts *o)
{
    int fd = ust_socket(stack, AF_INET, SOCK_DGRAM, 0);
    if (fd < 0) {
        fprintf(stderr, "ustack serve: socket: %s\n", strerror(errno));
        return -1;
    }
    struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(o->port),
                               .sin_addr = o->nif.addr };
    if (ust_bind(stack, fd, (const struct sockaddr *)&sin, sizeof(sin)) < 0) {
        fprintf(stderr, "ustack serve: bind to udp port %u: %s\n", o->port, strerror(errno));
        ust_close(stack, fd);
        return -1;
    }
    return fd;
}

static void on_usr1(int sig)
{
    (void)sig;
    want_table = 1;
}

struct serve_state {
    struct ust_stack *stack;
    const struct serve_opts *o;
    int ufd;                    /* UDP socket or -1 */
    int cfd;                    /* control socket (ustack ss/stat) or -1 */
    struct tcp_server *tcp;     /* NULL without TCP */
};

static int serve_loop(struct serve_state *st)
{
    size_t max = SERVE_MAX_FDS;
    char *buf = malloc(SERVE_BUF);
    struct pollfd *fds = calloc(max, sizeof(*fds));
    if (!buf || !fds) {
        fprintf(stderr, "ustack serve: out of memory\n");
        free(buf);
        free(fds);
        return TOOL_EXIT_FAIL;
    }
    struct serve_counts n = { 0 };
    unsigned long chargen_pos = 0;
    int status = TOOL_EXIT_OK;
    while (!tool_stop) {
        if (want_table && st->tcp) {
            want_table = 0;
            tcp_server_print(st->tcp, stdout);
            fflush(stdout);
        }
        fds[0] = (struct pollfd){ .fd = st->ufd, .events = POLLIN };
        size_t nt = st->tcp ? tcp_server_pollfds(st->tcp, fds + 1, max - 1) : 0;
        int r = ust_poll(st->stack, fds, (nfds_t)(1 + nt), POLL_MS);
        if ((r < 0 && errno != EINTR) || (r > 0 && (fds[0].revents & POLLNVAL))) {
            fprintf(stderr, "ustack serve: poll: %s\n", r < 0 ? strerror(errno) : "bad descriptor");
            status = TOOL_EXIT_FAIL;
            break;
        }
        if (r > 0 && st->ufd >= 0 && fds[0].revents)
            serve_drain(st->stack, st->ufd, st->o, buf, &n, &chargen_pos);
        if (st->tcp)
            tcp_server_handle(st->tcp, fds + 1, nt);
        if (st->cfd >= 0)
            control_serve(st->cfd, st->stack);
    }
    free(buf);
    free(fds);
    printf("ustack: stopped; %llu datagrams (%llu bytes) received, %llu bytes sent",
           n.datagrams, n.bytes_in, n.bytes_out);
    if (n.send_errors)
        printf(", %llu send errors", n.send_errors);
    printf("\n");
    if (st->tcp) {
        struct tcp_server *t = st->tcp;
        printf("ustack: tcp: %llu connections accepted, %llu closed, %llu bytes received, "
               "%llu bytes sent, %llu resets/errors, %llu retransmissions\n",
               t->accepted, t->closed, t->bytes_in, t->bytes_out, t->errors + t->resets,
               t->total_retrans);
    }
    return status;
}

/* Opens what the options ask for; false after printing why not. */
static bool open_services(struct serve_state *st, struct tcp_server *tcp)
{
    const struct serve_opts *o = st->o;
    if (o->tcp) {
        if (tcp_server_open(tcp, st->stack, o) == 0) {
            st->tcp = tcp;
        } else if (errno == EPROTONOSUPPORT && !o->proto_explicit) {
            fprintf(stderr, "ustack serve: TCP is not available in this build; serving UDP only\n");
        } else {
            return false;
        }
    }
    if (o->udp && (st->ufd = open_udp(st->stack, o)) < 0)
        return false;
    return st->tcp || st->ufd >= 0;
}

int cmd_serve(int argc, char **argv)
{
    struct serve_opts o = { 0 };
    int status = parse_args(argc, argv, &o);
    if (status >= 0)
        return status;

    srandom((unsigned)mono_ns());
    signals_install();
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_usr1;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);

    struct ust_stack_config cfg;
    ust_stack_config_init(&cfg);
    cfg.max_fds = SERVE_MAX_FDS;
    struct ust_stack *stack = ust_stack_new(&cfg);
    if (!stack) {
        fprintf(stderr, "ustack serve: cannot create the stack: %s\n", strerror(errno));
        return TOOL_EXIT_FAIL;
    }
    status = TOOL_EXIT_FAIL;
    struct tcp_server tcp;
    memset(&tcp, 0, sizeof(tcp));
    tcp.lfd = -1;
    struct serve_state st = { .stack = stack, .o = &o, .ufd = -1, .cfd = -1, .tcp = NULL };
    char cpath[256] = "";
    struct ust_netif *nif = netif_setup(stack, &o.nif);
    if (!nif || !open_services(&st, &tcp))
        goto out;
    if (!o.no_control && (st.cfd = control_listen(o.control, cpath, sizeof(cpath))) < 0 &&
        o.control)
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
    printf("ustack: serving %s%s%s/%s on %s:%u via %s\n", st.tcp ? "tcp" : "",
           st.tcp && st.ufd >= 0 ? "+" : "", st.ufd >= 0 ? "udp" : "",
           services[o.service].name, ipv4_str(o.nif.addr, a), o.port, ust_netif_name(nif));
    if (st.cfd >= 0)
        printf("ustack: control socket %s (ustack ss, ustack stat)\n", cpath);
    fflush(stdout);
    status = serve_loop(&st);
    if (o.stats && st.tcp)
        tcp_server_print(st.tcp, stdout);
    ust_stack_stop(stack);
out:
    control_close(st.cfd, cpath);
    if (st.tcp)
        tcp_server_close(st.tcp);
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
