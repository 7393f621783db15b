/* ustack get: fetch a URL over HTTP/1.1 (RFC 9112) with ustack's own TCP,
 * over a TAP or TUN device (or ustack's loopback), like a small curl:
 * Content-Length, chunked transfer coding and read-until-close bodies. The
 * body goes to -o FILE (or stdout); a summary with the byte count and the
 * throughput goes to stderr, with the connection's TCP_INFO under --stats. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common.h"
#include "serve.h"

#define GET_BUF (256 * 1024)
#define HEAD_MAX 65536
#define WAIT_MS 200             /* how often blocking waits look at tool_stop */

struct get_opts {
    struct netif_opts nif;
    const char *url;
    const char *output;         /* NULL or "-" = stdout */
    unsigned timeout_s;         /* idle timeout */
    bool stats;
    /* From the URL */
    char host[256];
    struct in_addr addr;
    unsigned short port;
    const char *path;
};

/* A buffered reader over the connection. */
struct conn_reader {
    struct ust_stack *stack;
    int fd;
    char *buf;
    size_t start, end;
    unsigned timeout_s;
    unsigned long long wire_bytes;
};

void usage_get(FILE *out)
{
    fprintf(out,
            "usage: ustack get URL [-o FILE] (--tap NAME | --tun NAME) --addr A.B.C.D/LEN\n"
            "                  [--gw G] [--pcap FILE] [--impair SPEC] [--timeout S] [--stats]\n\n"
            "Fetches URL (http://A.B.C.D[:PORT]/PATH) over HTTP/1.1 with ustack's TCP and\n"
            "writes the body to FILE or stdout. Prints the size and throughput to stderr.\n"
            "Exits 0 for a complete 2xx answer, 1 otherwise.\n\n"
            "  -o, --output FILE  write the body to FILE ('-' = stdout)\n"
            "  --tap NAME         attach to (or create) the TAP device NAME\n"
            "  --tun NAME         attach to (or create) the TUN device NAME\n"
            "  --addr A.B.C.D/LEN ustack's address and prefix length on the device\n"
            "  --gw G             default gateway\n"
            "  --pcap FILE        write every frame of the device to FILE (pcap)\n"
            NETIF_IMPAIR_HELP
            "  --timeout S        give up after S seconds without progress (default 30)\n"
            "  --stats            print the connection's TCP_INFO and the stack's counters\n");
}

/* "http://HOST[:PORT][/PATH]" with HOST an IPv4 address. */
static bool parse_url(struct get_opts *o)
{
    const char *u = o->url;
    if (strncasecmp(u, "http://", 7) != 0) {
        fprintf(stderr, "ustack get: only http:// URLs are supported\n");
        return false;
    }
    u += 7;
    size_t hl = strcspn(u, ":/");
    if (hl == 0 || hl >= sizeof(o->host)) {
        fprintf(stderr, "ustack get: no host in the URL\n");
        return false;
    }
    memcpy(o->host, u, hl);
    o->host[hl] = '\0';
    if (!parse_ipv4(o->host, &o->addr)) {
        fprintf(stderr, "ustack get: the host must be an IPv4 address (no DNS): %s\n", o->host);
        return false;
    }
    u += hl;
    o->port = 80;
    if (*u == ':') {
        char portbuf[8];
        size_t pl = strcspn(u + 1, "/");
        unsigned long port;
        if (pl == 0 || pl >= sizeof(portbuf))
            return false;
        memcpy(portbuf, u + 1, pl);
        portbuf[pl] = '\0';
        if (!parse_uint(portbuf, 1, 65535, &port))
            return false;
        o->port = (unsigned short)port;
        u += 1 + pl;
    }
    o->path = *u ? u : "/";
    return true;
}

static int parse_args(int argc, char **argv, struct get_opts *o)
{
    static const struct option longopts[] = {
        { "tap", required_argument, NULL, 'T' },   { "tun", required_argument, NULL, 'U' },
        { "addr", required_argument, NULL, 'a' },  { "gw", required_argument, NULL, 'g' },
        { "output", required_argument, NULL, 'o' }, { "pcap", required_argument, NULL, 'w' },
        { "timeout", required_argument, NULL, 't' }, { "stats", no_argument, NULL, 's' },
        { "help", no_argument, NULL, 'h' },        NETIF_IMPAIR_OPTION,
        { NULL, 0, NULL, 0 },
    };
    unsigned long v;
    int c;
    o->timeout_s = 30;
    while ((c = getopt_long(argc, argv, "ho:", longopts, NULL)) != -1) {
        bool ok = true;
        switch (c) {
        case 'T': o->nif.tap = optarg; break;
        case 'U': o->nif.tun = optarg; break;
        case 'a': ok = o->nif.have_addr = parse_ipv4_prefix(optarg, &o->nif.addr, &o->nif.prefix_len); break;
        case 'g': ok = o->nif.have_gw = parse_ipv4(optarg, &o->nif.gw); break;
        case 'o': o->output = optarg; break;
        case 'w': o->nif.pcap = optarg; break;
        case NETIF_IMPAIR_OPT: ok = parse_impair(optarg, &o->nif); break;
        case 't': ok = parse_uint(optarg, 1, 86400, &v); o->timeout_s = (unsigned)v; break;
        case 's': o->stats = true; break;
        case 'h': usage_get(stdout); return TOOL_EXIT_OK;
        default: usage_get(stderr); return TOOL_EXIT_USAGE;
        }
        if (!ok) {
            bad_value("get", longopts, c, optarg);
            usage_get(stderr);
            return TOOL_EXIT_USAGE;
        }
    }
    if (optind + 1 != argc) {
        fprintf(stderr, "ustack get: exactly one URL is needed\n\n");
        usage_get(stderr);
        return TOOL_EXIT_USAGE;
    }
    o->url = argv[optind];
    if (!parse_url(o) || !netif_opts_check(&o->nif, false)) {
        usage_get(stderr);
        return TOOL_EXIT_USAGE;
    }
    return -1;
}

/* Waits until fd has one of events, bounded by the idle timeout and
 * tool_stop. Returns false (errno set) on timeout or stop. */
static bool wait_for(struct ust_stack *stack, int fd, short events, unsigned timeout_s)
{
    uint64_t deadline = mono_ns() + (uint64_t)timeout_s * 1000000000u;
    while (!tool_stop) {
        struct pollfd p = { .fd = fd, .events = events };
        int r = ust_poll(stack, &p, 1, WAIT_MS);
        if (r > 0)
            return true;
        if (r < 0 && errno != EINTR)
            return false;
        if (mono_ns() > deadline) {
            errno = ETIMEDOUT;
            return false;
        }
    }
    errno = EINTR;
    return false;
}

/* Reads more into the reader; returns bytes read, 0 at EOF, -1 on error. */
static ssize_t reader_fill(struct conn_reader *r)
{
    if (r->start == r->end)
        r->start = r->end = 0;
    if (r->end == GET_BUF && r->start > 0) {
        memmove(r->buf, r->buf + r->start, r->end - r->start);
        r->end -= r->start;
        r->start = 0;
    }
    if (r->end == GET_BUF) {
        errno = EMSGSIZE;
        return -1;
    }
    for (;;) {
        ssize_t n = ust_recv(r->stack, r->fd, r->buf + r->end, GET_BUF - r->end, MSG_DONTWAIT);
        if (n >= 0) {
            r->end += (size_t)n;
            r->wire_bytes += (unsigned long long)n;
            return n;
        }
        if (errno != EAGAIN || !wait_for(r->stack, r->fd, POLLIN, r->timeout_s))
            return -1;
    }
}

/* One line (CRLF or LF stripped) of at most cap-1 bytes; false on EOF/error. */
static bool reader_line(struct conn_reader *r, char *line, size_t cap)
{
    for (;;) {
        char *nl = memchr(r->buf + r->start, '\n', r->end - r->start);
        if (nl) {
            size_t len = (size_t)(nl - (r->buf + r->start));
            size_t keep = len && nl[-1] == '\r' ? len - 1 : len;
            if (keep >= cap) {
                errno = EMSGSIZE;
                return false;
            }
            memcpy(line, r->buf + r->start, keep);
            line[keep] = '\0';
            r->start += len + 1;
            return true;
        }
        if (r->end - r->start >= cap) {
            errno = EMSGSIZE;
            return false;
        }
        ssize_t n = reader_fill(r);
        if (n <= 0) {
            if (n == 0)
                errno = ECONNRESET;
            return false;
        }
    }
}

static bool write_all(int fd, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return false;
        }
        p += n;
        len -= (size_t)n;
    }
    return true;
}

/* Copies len body bytes (or until EOF when len is UINT64_MAX) to out.
 * Returns the bytes copied; *complete tells whether all len came. */
static uint64_t copy_body(struct conn_reader *r, int out, uint64_t len, bool *complete,
                          bool *write_err)
{
    uint64_t done = 0;
    *complete = false;
    while (done < len) {
        if (r->start == r->end) {
            ssize_t n = reader_fill(r);
            if (n < 0)
                return done;
            if (n == 0) {
                *complete = len == UINT64_MAX;
                return done;
            }
        }
        size_t n = r->end - r->start;
        if (n > len - done)
            n = (size_t)(len - done);
        if (!write_all(out, r->buf + r->start, n)) {
            *write_err = true;
            return done;
        }
        r->start += n;
        done += n;
    }
    *complete = true;
    return done;
}

/* RFC 9112 §7.1: chunk-size [ext] CRLF data CRLF ... 0 CRLF trailers CRLF. */
static uint64_t copy_chunked(struct conn_reader *r, int out, bool *complete, bool *write_err)
{
    char line[1024];
    uint64_t total = 0;
    *complete = false;
    for (;;) {
        if (!reader_line(r, line, sizeof(line)))
            return total;
        char *end;
        errno = 0;
        unsigned long long size = strtoull(line, &end, 16);
        if (end == line || errno)
            return total;
        if (size == 0)
            break;
        bool got;
        total += copy_body(r, out, size, &got, write_err);
        if (!got || !reader_line(r, line, sizeof(line)) || line[0] != '\0')
            return total;
    }
    do {  /* trailer section up to the empty line */
        if (!reader_line(r, line, sizeof(line)))
            return total;
    } while (line[0] != '\0');
    *complete = true;
    return total;
}

struct response {
    int status;
    bool chunked;
    bool have_length;
    uint64_t length;
};

static bool read_head(struct conn_reader *r, struct response *rs)
{
    char line[HEAD_MAX / 8];
    memset(rs, 0, sizeof(*rs));
    do {  /* 1xx interim answers come before the real one */
        if (!reader_line(r, line, sizeof(line)))
            return false;
        if (sscanf(line, "HTTP/1.%*d %d", &rs->status) != 1) {
            fprintf(stderr, "ustack get: not an HTTP/1.x answer: %.80s\n", line);
            return false;
        }
        for (;;) {
            if (!reader_line(r, line, sizeof(line)))
                return false;
            if (line[0] == '\0')
                break;
            char *colon = strchr(line, ':');
            if (!colon)
                continue;
            *colon = '\0';
            char *v = colon + 1;
            while (*v == ' ' || *v == '\t')
                v++;
            if (strcasecmp(line, "Content-Length") == 0) {
                rs->have_length = true;
                rs->length = strtoull(v, NULL, 10);
            } else if (strcasecmp(line, "Transfer-Encoding") == 0 && strcasestr(v, "chunked")) {
                rs->chunked = true;
            }
        }
    } while (rs->status >= 100 && rs->status < 200);
    return true;
}

static int connect_to(struct ust_stack *stack, const struct get_opts *o)
{
    int fd = ust_socket(stack, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        fprintf(stderr, "ustack get: socket: %s\n", strerror(errno));
        return -1;
    }
    struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(o->port), .sin_addr = o->addr };
    int err = 0;
    if (ust_connect(stack, fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
        err = errno;
        if (err == EINPROGRESS) {
            socklen_t len = sizeof(err);
            if (!wait_for(stack, fd, POLLOUT, o->timeout_s))
                err = errno;
            else if (ust_getsockopt(stack, fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
                err = errno;
        }
    }
    if (err) {
        fprintf(stderr, "ustack get: connect to %s:%u: %s\n", o->host, o->port, strerror(err));
        ust_close(stack, fd);
        return -1;
    }
    return fd;
}

static bool send_request(struct ust_stack *stack, int fd, const struct get_opts *o)
{
    char req[2048];
    int n = snprintf(req, sizeof(req),
                     "GET %s HTTP/1.1\r\nHost: %s:%u\r\nUser-Agent: ustack-get/%d.%d\r\n"
                     "Accept: */*\r\nConnection: close\r\n\r\n",
                     o->path, o->host, o->port, USTACK_VERSION_MAJOR, USTACK_VERSION_MINOR);
    if (n < 0 || (size_t)n >= sizeof(req)) {
        fprintf(stderr, "ustack get: URL too long\n");
        return false;
    }
    size_t off = 0;
    while (off < (size_t)n) {
        ssize_t r = ust_send(stack, fd, req + off, (size_t)n - off, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (r < 0) {
            if (errno == EAGAIN && wait_for(stack, fd, POLLOUT, o->timeout_s))
                continue;
            fprintf(stderr, "ustack get: send: %s\n", strerror(errno));
            return false;
        }
        off += (size_t)r;
    }
    return true;
}

static void print_info(struct ust_stack *stack, int fd, const struct get_opts *o,
                       unsigned long long in)
{
    struct tcp_info ti;
    socklen_t len = sizeof(ti);
    if (ust_getsockopt(stack, fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0)
        return;
    struct sockaddr_in peer = { .sin_family = AF_INET, .sin_port = htons(o->port), .sin_addr = o->addr };
    tcp_info_header(stderr);
    tcp_info_row(stderr, "get", &peer, &ti, in, 0);
}

/* The whole exchange on a running stack; returns the exit status. */
static int fetch(struct ust_stack *stack, const struct get_opts *o, int out)
{
    struct conn_reader r = { .stack = stack, .timeout_s = o->timeout_s };
    r.buf = malloc(GET_BUF);
    if (!r.buf)
        return TOOL_EXIT_FAIL;
    uint64_t t0 = mono_ns();
    int status = TOOL_EXIT_FAIL;
    r.fd = connect_to(stack, o);
    if (r.fd < 0)
        goto out;
    struct response rs;
    if (!send_request(stack, r.fd, o) || !read_head(&r, &rs)) {
        if (errno)
            fprintf(stderr, "ustack get: no answer: %s\n", strerror(errno));
        goto close;
    }
    uint64_t t1 = mono_ns();
    bool complete = false, write_err = false;
    uint64_t body;
    if (rs.chunked)
        body = copy_chunked(&r, out, &complete, &write_err);
    else
        body = copy_body(&r, out, rs.have_length ? rs.length : UINT64_MAX, &complete, &write_err);
    uint64_t t2 = mono_ns();
    double secs = (double)(t2 - t0) / 1e9, body_secs = (double)(t2 - t1) / 1e9;
    fprintf(stderr, "ustack get: HTTP %d, %llu bytes%s in %.3f s (%.1f Mbit/s over the body)\n",
            rs.status, (unsigned long long)body, rs.chunked ? " (chunked)" : "", secs,
            body_secs > 0 ? (double)body * 8 / body_secs / 1e6 : 0.0);
    if (write_err)
        fprintf(stderr, "ustack get: writing the output: %s\n", strerror(errno));
    else if (!complete)
        fprintf(stderr, "ustack get: the body is incomplete%s%s\n", errno ? ": " : "",
                errno ? strerror(errno) : "");
    if (o->stats)
        print_info(stack, r.fd, o, r.wire_bytes);
    if (complete && !write_err && rs.status >= 200 && rs.status < 300)
        status = TOOL_EXIT_OK;
close:
    ust_close(stack, r.fd);
out:
    free(r.buf);
    return status;
}

int cmd_get(int argc, char **argv)
{
    struct get_opts o;
    memset(&o, 0, sizeof(o));
    int status = parse_args(argc, argv, &o);
    if (status >= 0)
        return status;
    int out = STDOUT_FILENO;
    if (o.output && strcmp(o.output, "-") != 0) {
        out = open(o.output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (out < 0) {
            fprintf(stderr, "ustack get: cannot open %s: %s\n", o.output, strerror(errno));
            return TOOL_EXIT_FAIL;
        }
    }
    signals_install();
    struct ust_stack_config cfg;
    ust_stack_config_init(&cfg);
    cfg.raise_sigpipe = 0;
    struct ust_stack *stack = ust_stack_new(&cfg);
    if (!stack) {
        fprintf(stderr, "ustack get: cannot create the stack: %s\n", strerror(errno));
        return TOOL_EXIT_FAIL;
    }
    status = TOOL_EXIT_FAIL;
    struct ust_netif *nif = netif_setup(stack, &o.nif);
    if (!nif)
        goto free;
    signals_block(true);
    int err = ust_stack_start(stack);
    signals_block(false);
    if (err < 0) {
        fprintf(stderr, "ustack get: cannot start the stack thread: %s\n", strerror(errno));
        goto free;
    }
    status = fetch(stack, &o, out);
    ust_stack_stop(stack);
    if (o.stats) {
        fprintf(stderr, "counters:\n");
        stats_print(stderr, stack);
    }
free:
    if (nif && o.nif.pcap)
        ust_netif_capture_stop(nif);
    ust_stack_free(stack);
    if (out != STDOUT_FILENO && close(out) < 0 && status == TOOL_EXIT_OK) {
        fprintf(stderr, "ustack get: closing %s: %s\n", o.output, strerror(errno));
        status = TOOL_EXIT_FAIL;
    }
    return status;
}
