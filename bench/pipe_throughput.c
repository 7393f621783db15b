/* Pipe benchmarks, the same code run against Linux's pipe(2) and against
 * ustack's ust_pipe (blocking calls, stack thread running), in the same
 * process and run, printed as a table with the ratio ustack / Linux:
 *  - throughput with 4 KiB and with 64 KiB writes: a writer thread sends B
 *    bytes, the main thread reads them in 64 KiB reads until EOF;
 *  - 1-byte round trips per second between two threads over two pipes;
 *  - with -l, only the round-trip latency instead (microseconds, median of
 *    interleaved runs), with the two threads placed by the scheduler, on
 *    one CPU, and on two CPUs.
 * -s sets ustack's wait_spin_ns. Not a test: see bench/README.md. */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <ustack/ustack.h>

struct api {
    const char *name;
    struct ust_stack *s;
    int (*pipe)(struct api *a, int fds[2]);
    ssize_t (*read)(struct api *a, int fd, void *buf, size_t len);
    ssize_t (*write)(struct api *a, int fd, const void *buf, size_t len);
    int (*close)(struct api *a, int fd);
};

static int lx_pipe(struct api *a, int fds[2]) { (void)a; return pipe(fds); }
static ssize_t lx_read(struct api *a, int fd, void *b, size_t l) { (void)a; return read(fd, b, l); }
static ssize_t lx_write(struct api *a, int fd, const void *b, size_t l) { (void)a; return write(fd, b, l); }
static int lx_close(struct api *a, int fd) { (void)a; return close(fd); }

static int us_pipe(struct api *a, int fds[2]) { return ust_pipe(a->s, fds); }
static ssize_t us_read(struct api *a, int fd, void *b, size_t l) { return ust_read(a->s, fd, b, l); }
static ssize_t us_write(struct api *a, int fd, const void *b, size_t l) { return ust_write(a->s, fd, b, l); }
static int us_close(struct api *a, int fd) { return ust_close(a->s, fd); }

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
    perror(what);
    exit(1);
}

/* ---- Throughput ------------------------------------------------------- */

struct bulk {
    struct api *a;
    int fd;
    size_t total, wsize;
};

static void *bulk_writer(void *arg)
{
    struct bulk *b = arg;
    uint8_t *buf = calloc(1, b->wsize);
    for (size_t done = 0; done < b->total;) {
        size_t n = b->total - done < b->wsize ? b->total - done : b->wsize;
        ssize_t w = b->a->write(b->a, b->fd, buf, n);
        if (w <= 0)
            die("write");
        done += (size_t)w;
    }
    b->a->close(b->a, b->fd);
    free(buf);
    return NULL;
}

/* Gbit/s for `total` bytes in writes of wsize. */
static double bench_bulk(struct api *a, size_t total, size_t wsize)
{
    int fds[2];
    if (a->pipe(a, fds) != 0)
        die("pipe");
    static uint8_t buf[65536];
    struct bulk b = { a, fds[1], total, wsize };
    double t0 = now_s();
    pthread_t t;
    pthread_create(&t, NULL, bulk_writer, &b);
    size_t got = 0;
    for (;;) {
        ssize_t r = a->read(a, fds[0], buf, sizeof(buf));
        if (r < 0)
            die("read");
        if (r == 0)
            break;
        got += (size_t)r;
    }
    double dt = now_s() - t0;
    pthread_join(t, NULL);
    a->close(a, fds[0]);
    if (got != total) {
        fprintf(stderr, "%s: got %zu of %zu bytes\n", a->name, got, total);
        exit(1);
    }
    return (double)total * 8 / dt / 1e9;
}

/* ---- Round trips ------------------------------------------------------ */

/* Where the two threads of a round-trip run: wherever the scheduler puts
 * them, both on one CPU, or each on its own CPU. */
enum place { PLACE_ANY, PLACE_SAME, PLACE_SPLIT };
static const char *const place_names[3] = { "any CPU", "same CPU", "two CPUs" };
static int cpu_a = -1, cpu_b = -1;     /* the first two CPUs we may run on */

static void find_cpus(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof(set), &set) != 0)
        return;
    for (int c = 0; c < CPU_SETSIZE; c++) {
        if (!CPU_ISSET(c, &set))
            continue;
        if (cpu_a < 0)
            cpu_a = c;
        else if (cpu_b < 0)
            cpu_b = c;
    }
}

/* Pins the calling thread for placement p; `second` is the echo thread. */
static void pin(enum place p, bool second)
{
    if (p == PLACE_ANY || cpu_a < 0 || (p == PLACE_SPLIT && cpu_b < 0))
        return;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(p == PLACE_SPLIT && second ? cpu_b : cpu_a, &set);
    pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

struct echo {
    struct api *a;
    int in, out;
    long n;
    enum place place;
};

static void *echo_thread(void *arg)
{
    struct echo *e = arg;
    pin(e->place, true);
    char c;
    for (long i = 0; i < e->n; i++) {
        if (e->a->read(e->a, e->in, &c, 1) != 1 || e->a->write(e->a, e->out, &c, 1) != 1)
            die("echo");
    }
    return NULL;
}

static double bench_rtt_placed(struct api *a, long n, enum place place)
{
    int ping[2], pong[2];
    if (a->pipe(a, ping) != 0 || a->pipe(a, pong) != 0)
        die("pipe");
    cpu_set_t saved;
    sched_getaffinity(0, sizeof(saved), &saved);
    pin(place, false);
    struct echo e = { a, ping[0], pong[1], n, place };
    pthread_t t;
    pthread_create(&t, NULL, echo_thread, &e);
    double t0 = now_s();
    char c = 'x';
    for (long i = 0; i < n; i++) {
        if (a->write(a, ping[1], &c, 1) != 1 || a->read(a, pong[0], &c, 1) != 1)
            die("ping");
    }
    double dt = now_s() - t0;
    pthread_join(t, NULL);
    pthread_setaffinity_np(pthread_self(), sizeof(saved), &saved);
    for (int i = 0; i < 2; i++) {
        a->close(a, ping[i]);
        a->close(a, pong[i]);
    }
    return (double)n / dt;
}

static double bench_rtt(struct api *a, long n)
{
    return bench_rtt_placed(a, n, PLACE_ANY);
}

/* ---- Latency mode ------------------------------------------------------ */

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

#define LAT_RUNS 7

/* -l: 1-byte round-trip latency in microseconds, Linux and ustack runs
 * interleaved (so both see the same machine load), median of LAT_RUNS runs
 * of n round trips each, for each thread placement. */
static void latency_table(struct api *lx, struct api *us, long n)
{
    printf("%-40s %12s %12s %8s\n", "1-byte pipe round trip, us (median)", "linux", "ustack",
           "ratio");
    for (int p = PLACE_ANY; p <= PLACE_SPLIT; p++) {
        if (p == PLACE_SPLIT && cpu_b < 0)
            continue;
        double l[LAT_RUNS], u[LAT_RUNS];
        for (int i = 0; i < LAT_RUNS; i++) {
            l[i] = 1e6 / bench_rtt_placed(lx, n, (enum place)p);
            u[i] = 1e6 / bench_rtt_placed(us, n, (enum place)p);
        }
        qsort(l, LAT_RUNS, sizeof(double), cmp_double);
        qsort(u, LAT_RUNS, sizeof(double), cmp_double);
        char row[64];
        snprintf(row, sizeof(row), "threads on %s", place_names[p]);
        double ml = l[LAT_RUNS / 2], mu = u[LAT_RUNS / 2];
        printf("%-40s %12.2f %12.2f %8.2f\n", row, ml, mu, mu / ml);
        fflush(stdout);
    }
}

int main(int argc, char **argv)
{
    size_t mib = 1024;
    long rtts = 20000;
    const char *only = NULL;
    int opt;
    struct ust_stack_config cfg;
    ust_stack_config_init(&cfg);
    bool latency = false;
    while ((opt = getopt(argc, argv, "b:r:o:s:l")) != -1) {
        switch (opt) {
        case 'b': mib = (size_t)atol(optarg); break;
        case 'r': rtts = atol(optarg); break;
        case 'o': only = optarg; break;
        case 's': cfg.wait_spin_ns = (uint64_t)atoll(optarg); break;
        case 'l': latency = true; break;
        default:
            fprintf(stderr,
                    "usage: %s [-b MiB] [-r round_trips] [-o linux|ustack] [-s spin_ns] [-l]\n",
                    argv[0]);
            return 2;
        }
    }
    find_cpus();
    struct api lx = { "linux", NULL, lx_pipe, lx_read, lx_write, lx_close };
    struct api us = { "ustack", NULL, us_pipe, us_read, us_write, us_close };
    us.s = ust_stack_new(&cfg);
    if (!us.s || ust_stack_start(us.s) != 0)
        die("ust_stack_new/start");
    if (latency) {
        latency_table(&lx, &us, rtts);
        ust_stack_free(us.s);
        return 0;
    }
    struct api *apis[2] = { &lx, &us };
    double r[2][3] = { { 0 } };
    for (int i = 0; i < 2; i++) {
        if (only && strcmp(only, apis[i]->name) != 0)
            continue;
        fprintf(stderr, "%s: 4 KiB writes...\n", apis[i]->name);
        r[i][0] = bench_bulk(apis[i], mib << 20, 4096);
        fprintf(stderr, "%s: 64 KiB writes...\n", apis[i]->name);
        r[i][1] = bench_bulk(apis[i], mib << 20, 65536);
        fprintf(stderr, "%s: round trips...\n", apis[i]->name);
        r[i][2] = bench_rtt(apis[i], rtts);
    }
    static const char *rows[3] = {
        "throughput, 4 KiB writes, Gbit/s",
        "throughput, 64 KiB writes, Gbit/s",
        "1-byte round trips, 1/s",
    };
    printf("%-40s %12s %12s %8s\n", "benchmark (two threads, one process)", "linux", "ustack", "ratio");
    for (int k = 0; k < 3; k++) {
        if (r[0][k] > 0 && r[1][k] > 0)
            printf("%-40s %12.2f %12.2f %8.2f\n", rows[k], r[0][k], r[1][k], r[1][k] / r[0][k]);
        else
            printf("%-40s %12.2f %12.2f %8s\n", rows[k], r[0][k], r[1][k], "n/a");
    }
    ust_stack_free(us.s);
    return 0;
}
