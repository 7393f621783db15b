/* TCP benchmarks, the same code run against the Linux kernel's sockets
 * (127.0.0.1) and against ustack (its loopback, blocking calls served by the
 * stack thread), in the same process and run, printed as a table with the
 * ratio ustack / Linux:
 *  - bulk throughput: one connection, the client sends B bytes, a server
 *    thread reads them (timed until the server sees EOF);
 *  - 1-byte request/response round trips per second (TCP_NODELAY);
 *  - connections per second: connect, accept, close (server closes first);
 *  - memory per idle established connection (per socket: N connections on
 *    loopback are 2N sockets): ustack's heap growth (mallinfo2), Linux's
 *    slab growth (/proc/meminfo Slab, system-wide, so approximate).
 * The benchmark code calls the socket API through a table of functions
 * (struct api) with one implementation per stack, so both run exactly the
 * same sequence of calls. Not a test: see bench/README.md. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <ustack/ustack.h>

#define BUF_SIZE (256 * 1024)

/* The socket calls the benchmarks make; ctx is the ustack stack (or NULL). */
struct api {
    const char *name;
    void *ctx;
    int (*socket)(void *ctx, int domain, int type, int proto);
    int (*bind)(void *ctx, int fd, const struct sockaddr *a, socklen_t len);
    int (*listen)(void *ctx, int fd, int backlog);
    int (*accept)(void *ctx, int fd);
    int (*connect)(void *ctx, int fd, const struct sockaddr *a, socklen_t len);
    ssize_t (*send)(void *ctx, int fd, const void *buf, size_t len);
    ssize_t (*recv)(void *ctx, int fd, void *buf, size_t len);
    int (*close)(void *ctx, int fd);
    int (*setsockopt)(void *ctx, int fd, int level, int name, const void *v, socklen_t len);
    int (*getsockname)(void *ctx, int fd, struct sockaddr *a, socklen_t *len);
};

/* ---- Linux ---- */
static int lx_socket(void *c, int d, int t, int p) { (void)c; return socket(d, t, p); }
static int lx_bind(void *c, int fd, const struct sockaddr *a, socklen_t l) { (void)c; return bind(fd, a, l); }
static int lx_listen(void *c, int fd, int b) { (void)c; return listen(fd, b); }
static int lx_accept(void *c, int fd) { (void)c; return accept(fd, NULL, NULL); }
static int lx_connect(void *c, int fd, const struct sockaddr *a, socklen_t l) { (void)c; return connect(fd, a, l); }
static ssize_t lx_send(void *c, int fd, const void *b, size_t l) { (void)c; return send(fd, b, l, MSG_NOSIGNAL); }
static ssize_t lx_recv(void *c, int fd, void *b, size_t l) { (void)c; return recv(fd, b, l, 0); }
static int lx_close(void *c, int fd) { (void)c; return close(fd); }
static int lx_setsockopt(void *c, int fd, int lv, int n, const void *v, socklen_t l) { (void)c; return setsockopt(fd, lv, n, v, l); }
static int lx_getsockname(void *c, int fd, struct sockaddr *a, socklen_t *l) { (void)c; return getsockname(fd, a, l); }

static const struct api linux_api = {
    "linux", NULL, lx_socket, lx_bind, lx_listen, lx_accept, lx_connect, lx_send, lx_recv,
    lx_close, lx_setsockopt, lx_getsockname,
};

/* ---- ustack ---- */
static int us_socket(void *c, int d, int t, int p) { return ust_socket(c, d, t, p); }
static int us_bind(void *c, int fd, const struct sockaddr *a, socklen_t l) { return ust_bind(c, fd, a, l); }
static int us_listen(void *c, int fd, int b) { return ust_listen(c, fd, b); }
static int us_accept(void *c, int fd) { return ust_accept(c, fd, NULL, NULL); }
static int us_connect(void *c, int fd, const struct sockaddr *a, socklen_t l) { return ust_connect(c, fd, a, l); }
static ssize_t us_send(void *c, int fd, const void *b, size_t l) { return ust_send(c, fd, b, l, MSG_NOSIGNAL); }
static ssize_t us_recv(void *c, int fd, void *b, size_t l) { return ust_recv(c, fd, b, l, 0); }
static int us_close(void *c, int fd) { return ust_close(c, fd); }
static int us_setsockopt(void *c, int fd, int lv, int n, const void *v, socklen_t l) { return ust_setsockopt(c, fd, lv, n, v, l); }
static int us_getsockname(void *c, int fd, struct sockaddr *a, socklen_t *l) { return ust_getsockname(c, fd, a, l); }

static const struct api ustack_api = {
    "ustack", NULL, us_socket, us_bind, us_listen, us_accept, us_connect, us_send, us_recv,
    us_close, us_setsockopt, us_getsockname,
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const struct api *api, const char *what)
{
    fprintf(stderr, "tcp_throughput (%s): %s: %s\n", api->name, what, strerror(errno));
    exit(1);
}

/* A listener on 127.0.0.1, any port; *addr gets its address. */
static int listener(const struct api *api, struct sockaddr_in *addr)
{
    int fd = api->socket(api->ctx, AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    api->setsockopt(api->ctx, fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    memset(addr, 0, sizeof(*addr));
    addr->sin_family = AF_INET;
    addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(*addr);
    if (api->bind(api->ctx, fd, (struct sockaddr *)addr, sizeof(*addr)) < 0 ||
        api->listen(api->ctx, fd, 1024) < 0 ||
        api->getsockname(api->ctx, fd, (struct sockaddr *)addr, &len) < 0)
        die(api, "listen");
    return fd;
}

static int dial(const struct api *api, const struct sockaddr_in *addr, bool nodelay)
{
    int fd = api->socket(api->ctx, AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        die(api, "socket");
    if (nodelay) {
        int one = 1;
        api->setsockopt(api->ctx, fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }
    if (api->connect(api->ctx, fd, (const struct sockaddr *)addr, sizeof(*addr)) < 0)
        die(api, "connect");
    return fd;
}

struct server_arg {
    const struct api *api;
    int lfd;
    long n;                     /* rr: round trips; cps: connections */
    unsigned long long bytes;   /* bulk: bytes read */
};

/* ---- bulk ---- */
static void *bulk_server(void *p)
{
    struct server_arg *a = p;
    const struct api *api = a->api;
    char *buf = malloc(BUF_SIZE);
    int fd = api->accept(api->ctx, a->lfd);
    if (fd < 0 || !buf)
        die(api, "accept");
    for (;;) {
        ssize_t r = api->recv(api->ctx, fd, buf, BUF_SIZE);
        if (r <= 0)
            break;
        a->bytes += (unsigned long long)r;
    }
    api->close(api->ctx, fd);
    free(buf);
    return NULL;
}

/* Gbit/s for total bytes through one connection. */
static double bench_bulk(const struct api *api, unsigned long long total)
{
    struct sockaddr_in addr;
    struct server_arg a = { .api = api };
    a.lfd = listener(api, &addr);
    pthread_t t;
    pthread_create(&t, NULL, bulk_server, &a);
    char *buf = malloc(BUF_SIZE);
    memset(buf, 'x', BUF_SIZE);
    double t0 = now_s();
    int fd = dial(api, &addr, false);
    unsigned long long sent = 0;
    while (sent < total) {
        size_t len = total - sent < BUF_SIZE ? (size_t)(total - sent) : BUF_SIZE;
        ssize_t r = api->send(api->ctx, fd, buf, len);
        if (r <= 0)
            die(api, "send");
        sent += (unsigned long long)r;
    }
    api->close(api->ctx, fd);
    pthread_join(t, NULL);
    double secs = now_s() - t0;
    api->close(api->ctx, a.lfd);
    free(buf);
    if (a.bytes != total) {
        fprintf(stderr, "tcp_throughput (%s): the server read %llu of %llu bytes\n", api->name,
                a.bytes, total);
        exit(1);
    }
    return (double)total * 8 / secs / 1e9;
}

/* ---- 1-byte request/response ---- */
static void *rr_server(void *p)
{
    struct server_arg *a = p;
    const struct api *api = a->api;
    int fd = api->accept(api->ctx, a->lfd);
    if (fd < 0)
        die(api, "accept");
    int one = 1;
    api->setsockopt(api->ctx, fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    char c;
    while (api->recv(api->ctx, fd, &c, 1) == 1)
        if (api->send(api->ctx, fd, &c, 1) != 1)
            break;
    api->close(api->ctx, fd);
    return NULL;
}

static double bench_rr(const struct api *api, long n)
{
    struct sockaddr_in addr;
    struct server_arg a = { .api = api };
    a.lfd = listener(api, &addr);
    pthread_t t;
    pthread_create(&t, NULL, rr_server, &a);
    int fd = dial(api, &addr, true);
    char c = 'r';
    double t0 = now_s();
    for (long i = 0; i < n; i++) {
        if (api->send(api->ctx, fd, &c, 1) != 1 || api->recv(api->ctx, fd, &c, 1) != 1)
            die(api, "round trip");
    }
    double secs = now_s() - t0;
    api->close(api->ctx, fd);
    pthread_join(t, NULL);
    api->close(api->ctx, a.lfd);
    return (double)n / secs;
}

/* ---- connections per second ---- */
static void *cps_server(void *p)
{
    struct server_arg *a = p;
    const struct api *api = a->api;
    for (long i = 0; i < a->n; i++) {
        int fd = api->accept(api->ctx, a->lfd);
        if (fd < 0)
            die(api, "accept");
        api->close(api->ctx, fd);
    }
    return NULL;
}

static double bench_cps(const struct api *api, long n)
{
    struct sockaddr_in addr;
    struct server_arg a = { .api = api, .n = n };
    a.lfd = listener(api, &addr);
    pthread_t t;
    pthread_create(&t, NULL, cps_server, &a);
    double t0 = now_s();
    for (long i = 0; i < n; i++) {
        int fd = dial(api, &addr, false);
        char c;
        api->recv(api->ctx, fd, &c, 1);  /* EOF: the server closed first */
        api->close(api->ctx, fd);
    }
    pthread_join(t, NULL);
    double secs = now_s() - t0;
    api->close(api->ctx, a.lfd);
    return (double)n / secs;
}

/* ---- memory per idle connection ---- */
static long long slab_kib(void)
{
    FILE *f = fopen("/proc/meminfo", "r");
    char line[256];
    long long v = -1;
    while (f && fgets(line, sizeof(line), f))
        if (sscanf(line, "Slab: %lld kB", &v) == 1)
            break;
    if (f)
        fclose(f);
    return v;
}

static long long heap_bytes(void)
{
    struct mallinfo2 mi = mallinfo2();
    return (long long)(mi.uordblks + mi.hblkhd);
}

/* Bytes per socket of n idle established connections (both ends here). */
static double bench_idle_mem(const struct api *api, long n, bool linux_side)
{
    struct sockaddr_in addr;
    int lfd = listener(api, &addr);
    int *fds = calloc((size_t)n * 2, sizeof(int));
    long long before = linux_side ? slab_kib() * 1024 : heap_bytes();
    for (long i = 0; i < n; i++) {
        fds[2 * i] = dial(api, &addr, false);
        fds[2 * i + 1] = api->accept(api->ctx, lfd);
        if (fds[2 * i + 1] < 0)
            die(api, "accept");
    }
    long long after = linux_side ? slab_kib() * 1024 : heap_bytes();
    for (long i = 0; i < 2 * n; i++)
        api->close(api->ctx, fds[i]);
    api->close(api->ctx, lfd);
    free(fds);
    return (double)(after - before) / (double)(2 * n);
}

struct results {
    bool ok;
    double gbps, rr, cps, mem;
};

/* A benchmark that stops making progress is a bug, not a slow result. */
static void on_alarm(int sig)
{
    (void)sig;
    static const char msg[] = "tcp_throughput: a benchmark stalled (no result in 120 s)\n";
    ssize_t w = write(STDERR_FILENO, msg, sizeof(msg) - 1);
    (void)w;
    _exit(1);
}

static void run_all(const struct api *api, unsigned long long bytes, long rr_n, long cps_n,
                    struct results *r)
{
    signal(SIGALRM, on_alarm);
    alarm(120);
    fprintf(stderr, "%s: bulk %llu MiB...\n", api->name, bytes >> 20);
    r->gbps = bench_bulk(api, bytes);
    alarm(120);
    fprintf(stderr, "%s: %ld round trips...\n", api->name, rr_n);
    r->rr = bench_rr(api, rr_n);
    alarm(120);
    fprintf(stderr, "%s: %ld connections...\n", api->name, cps_n);
    r->cps = bench_cps(api, cps_n);
    alarm(120);
    fprintf(stderr, "%s: 500 idle connections...\n", api->name);
    r->mem = bench_idle_mem(api, 500, api->ctx == NULL);
    alarm(0);
    r->ok = true;
}

static void row(const char *what, double lx, double us, bool lx_ok, bool us_ok)
{
    char a[32] = "n/a", b[32] = "n/a", c[32] = "n/a";
    if (lx_ok)
        snprintf(a, sizeof(a), "%.2f", lx);
    if (us_ok)
        snprintf(b, sizeof(b), "%.2f", us);
    if (lx_ok && us_ok && lx > 0)
        snprintf(c, sizeof(c), "%.2f", us / lx);
    printf("%-34s %14s %14s %8s\n", what, a, b, c);
}

static void usage(FILE *out)
{
    fprintf(out, "usage: tcp_throughput [-b MIB] [-r ROUND_TRIPS] [-c CONNECTIONS] [-o linux|ustack]\n"
                 "  -b MIB   bytes for the bulk transfer, in MiB (default 1024)\n"
                 "  -r N     1-byte round trips (default 20000)\n"
                 "  -c N     connections for connect/accept/close (default 2000)\n"
                 "  -o WHICH run only one side\n");
}

int main(int argc, char **argv)
{
    unsigned long long mib = 1024;
    long rr_n = 20000, cps_n = 2000;
    const char *only = NULL;
    int c;
    while ((c = getopt(argc, argv, "b:r:c:o:h")) != -1) {
        switch (c) {
        case 'b': mib = strtoull(optarg, NULL, 10); break;
        case 'r': rr_n = strtol(optarg, NULL, 10); break;
        case 'c': cps_n = strtol(optarg, NULL, 10); break;
        case 'o': only = optarg; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (mib == 0 || rr_n <= 0 || cps_n <= 0) {
        usage(stderr);
        return 2;
    }
    struct results lx = { 0 }, us = { 0 };
    if (!only || strcmp(only, "linux") == 0)
        run_all(&linux_api, mib << 20, rr_n, cps_n, &lx);
    if (!only || strcmp(only, "ustack") == 0) {
        struct ust_stack_config cfg;
        ust_stack_config_init(&cfg);
        cfg.raise_sigpipe = 0;
        struct ust_stack *stack = ust_stack_new(&cfg);
        if (!stack || ust_stack_start(stack) < 0) {
            fprintf(stderr, "tcp_throughput: cannot start a ustack stack: %s\n", strerror(errno));
            return 1;
        }
        struct api api = ustack_api;
        api.ctx = stack;
        int probe = ust_socket(stack, AF_INET, SOCK_STREAM, 0);
        if (probe < 0) {
            fprintf(stderr, "ustack: no TCP in this build (%s): skipped\n", strerror(errno));
        } else {
            ust_close(stack, probe);
            run_all(&api, mib << 20, rr_n, cps_n, &us);
        }
        ust_stack_stop(stack);
        ust_stack_free(stack);
    }
    printf("%-34s %14s %14s %8s\n", "benchmark (loopback, one process)", "linux", "ustack", "ratio");
    row("bulk throughput, Gbit/s", lx.gbps, us.gbps, lx.ok, us.ok);
    row("1-byte round trips, 1/s", lx.rr, us.rr, lx.ok, us.ok);
    row("connect/accept/close, 1/s", lx.cps, us.cps, lx.ok, us.ok);
    row("memory per idle socket, bytes", lx.mem, us.mem, lx.ok, us.ok);
    return 0;
}
