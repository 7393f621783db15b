/* Message queue benchmarks, the same code against Linux (mq_open/mq_send,
 * msgget/msgsnd) and against ustack (ust_mq_*, ust_msg*; stack thread
 * running, blocking calls), in one process and run, printed as a table with
 * the ratio ustack / Linux:
 *  - 64-byte message rate: a sender thread sends N messages, the main
 *    thread receives them (POSIX: mq_maxmsg 10, Linux's default; System V:
 *    msg_qbytes 16384, MSGMNB);
 *  - round trips per second: two threads ping-pong one 64-byte message
 *    over two queues;
 *  - with -l, only the round-trip latency instead (microseconds, median of
 *    interleaved runs), with the two threads placed by the scheduler, on
 *    one CPU, and on two CPUs.
 * -s sets ustack's wait_spin_ns. Not a test: see bench/README.md.
 * Usage: mq_rate [-n messages] [-r round trips] [-s spin_ns] [-l] */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <mqueue.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <time.h>
#include <unistd.h>

#include <ustack/ustack.h>

#define MSG_LEN 64

/* One queue API: open a fresh queue, send, receive, close. */
struct qapi {
    const char *name;
    struct ust_stack *s;
    int (*open)(struct qapi *a, int n);
    int (*send)(struct qapi *a, int q, const char *m, size_t len);
    ssize_t (*recv)(struct qapi *a, int q, char *m, size_t len);
    void (*close)(struct qapi *a, int q, int n);
};

static void qname(char *buf, size_t len, const char *who, int n)
{
    snprintf(buf, len, "/ustbench_%s_%d_%d", who, (int)getpid(), n);
}

/* Linux POSIX mq */
static int lxmq_open(struct qapi *a, int n)
{
    (void)a;
    char name[64];
    qname(name, sizeof(name), "lx", n);
    struct mq_attr at = { .mq_maxmsg = 10, .mq_msgsize = MSG_LEN };
    return (int)mq_open(name, O_RDWR | O_CREAT, 0600, &at);
}
static int lxmq_send(struct qapi *a, int q, const char *m, size_t l) { (void)a; return mq_send(q, m, l, 0); }
static ssize_t lxmq_recv(struct qapi *a, int q, char *m, size_t l) { (void)a; return mq_receive(q, m, l, NULL); }
static void lxmq_close(struct qapi *a, int q, int n)
{
    (void)a;
    char name[64];
    qname(name, sizeof(name), "lx", n);
    mq_close(q);
    mq_unlink(name);
}

/* ustack POSIX mq */
static int usmq_open(struct qapi *a, int n)
{
    char name[64];
    qname(name, sizeof(name), "us", n);
    struct mq_attr at = { .mq_maxmsg = 10, .mq_msgsize = MSG_LEN };
    return ust_mq_open(a->s, name, O_RDWR | O_CREAT, 0600, &at);
}
static int usmq_send(struct qapi *a, int q, const char *m, size_t l) { return ust_mq_send(a->s, q, m, l, 0); }
static ssize_t usmq_recv(struct qapi *a, int q, char *m, size_t l) { return ust_mq_receive(a->s, q, m, l, NULL); }
static void usmq_close(struct qapi *a, int q, int n)
{
    char name[64];
    qname(name, sizeof(name), "us", n);
    ust_mq_close(a->s, q);
    ust_mq_unlink(a->s, name);
}

struct sysv_msg {
    long mtype;
    char text[MSG_LEN];
};

/* Linux System V */
static int lxmsg_open(struct qapi *a, int n) { (void)a; (void)n; return msgget(IPC_PRIVATE, 0600); }
static int lxmsg_send(struct qapi *a, int q, const char *m, size_t l)
{
    (void)a;
    struct sysv_msg b = { .mtype = 1 };
    memcpy(b.text, m, l);
    return msgsnd(q, &b, l, 0);
}
static ssize_t lxmsg_recv(struct qapi *a, int q, char *m, size_t l)
{
    (void)a;
    struct sysv_msg b;
    ssize_t r = msgrcv(q, &b, MSG_LEN, 0, 0);
    if (r > 0)
        memcpy(m, b.text, (size_t)r < l ? (size_t)r : l);
    return r;
}
static void lxmsg_close(struct qapi *a, int q, int n) { (void)a; (void)n; msgctl(q, IPC_RMID, NULL); }

/* ustack System V */
static int usmsg_open(struct qapi *a, int n) { (void)n; return ust_msgget(a->s, IPC_PRIVATE, 0600); }
static int usmsg_send(struct qapi *a, int q, const char *m, size_t l)
{
    struct sysv_msg b = { .mtype = 1 };
    memcpy(b.text, m, l);
    return ust_msgsnd(a->s, q, &b, l, 0);
}
static ssize_t usmsg_recv(struct qapi *a, int q, char *m, size_t l)
{
    struct sysv_msg b;
    ssize_t r = ust_msgrcv(a->s, q, &b, MSG_LEN, 0, 0);
    if (r > 0)
        memcpy(m, b.text, (size_t)r < l ? (size_t)r : l);
    return r;
}
static void usmsg_close(struct qapi *a, int q, int n) { (void)n; ust_msgctl(a->s, q, IPC_RMID, NULL); }

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

/* ---- Message rate ----------------------------------------------------- */

struct flow {
    struct qapi *a;
    int q, q2;
    long n;
};

static void *rate_sender(void *arg)
{
    struct flow *f = arg;
    char m[MSG_LEN] = { 0 };
    for (long i = 0; i < f->n; i++) {
        memcpy(m, &i, sizeof(i));
        if (f->a->send(f->a, f->q, m, MSG_LEN) != 0)
            die("send");
    }
    return NULL;
}

static double rate(struct qapi *a, long n)
{
    struct flow f = { a, a->open(a, 0), -1, n };
    if (f.q < 0)
        die("open");
    pthread_t t;
    double t0 = now_s();
    pthread_create(&t, NULL, rate_sender, &f);
    char m[MSG_LEN];
    for (long i = 0; i < n; i++) {
        if (a->recv(a, f.q, m, sizeof(m)) != MSG_LEN)
            die("recv");
        long got;
        memcpy(&got, m, sizeof(got));
        if (got != i) {
            fprintf(stderr, "%s: message %ld out of order (%ld)\n", a->name, i, got);
            exit(1);
        }
    }
    pthread_join(t, NULL);
    double dt = now_s() - t0;
    a->close(a, f.q, 0);
    return (double)n / dt;
}

/* ---- Round trips ------------------------------------------------------ */

/* Where the two threads of a round trip run: wherever the scheduler puts
 * them, both on one CPU, or each on its own CPU. */
enum place { PLACE_ANY, PLACE_SAME, PLACE_SPLIT };
static const char *const place_names[3] = { "any CPU", "same CPU", "two CPUs" };
static int cpu_a = -1, cpu_b = -1;     /* the first two CPUs we may run on */
static enum place rtt_place = PLACE_ANY;

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

static void *echo(void *arg)
{
    struct flow *f = arg;
    pin(rtt_place, true);
    char m[MSG_LEN];
    for (long i = 0; i < f->n; i++) {
        if (f->a->recv(f->a, f->q, m, sizeof(m)) != MSG_LEN)
            die("echo recv");
        if (f->a->send(f->a, f->q2, m, MSG_LEN) != 0)
            die("echo send");
    }
    return NULL;
}

static double round_trips(struct qapi *a, long n)
{
    struct flow f = { a, a->open(a, 1), a->open(a, 2), n };
    if (f.q < 0 || f.q2 < 0)
        die("open");
    cpu_set_t saved;
    sched_getaffinity(0, sizeof(saved), &saved);
    pin(rtt_place, false);
    pthread_t t;
    pthread_create(&t, NULL, echo, &f);
    char m[MSG_LEN] = { 0 };
    double t0 = now_s();
    for (long i = 0; i < n; i++) {
        if (a->send(a, f.q, m, MSG_LEN) != 0)
            die("send");
        if (a->recv(a, f.q2, m, sizeof(m)) != MSG_LEN)
            die("recv");
    }
    double dt = now_s() - t0;
    pthread_join(t, NULL);
    pthread_setaffinity_np(pthread_self(), sizeof(saved), &saved);
    a->close(a, f.q, 1);
    a->close(a, f.q2, 2);
    return (double)n / dt;
}

/* ---- Latency mode ------------------------------------------------------ */

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

#define LAT_RUNS 7

/* -l: 64-byte round-trip latency in microseconds, Linux and ustack runs
 * interleaved (so both see the same machine load), median of LAT_RUNS runs
 * of n round trips each, for each thread placement. */
static void latency_rows(const char *what, struct qapi *lx, struct qapi *us, long n)
{
    for (int p = PLACE_ANY; p <= PLACE_SPLIT; p++) {
        if (p == PLACE_SPLIT && cpu_b < 0)
            continue;
        rtt_place = (enum place)p;
        double l[LAT_RUNS], u[LAT_RUNS];
        for (int i = 0; i < LAT_RUNS; i++) {
            l[i] = 1e6 / round_trips(lx, n);
            u[i] = 1e6 / round_trips(us, n);
        }
        qsort(l, LAT_RUNS, sizeof(double), cmp_double);
        qsort(u, LAT_RUNS, sizeof(double), cmp_double);
        char row[64];
        snprintf(row, sizeof(row), "%s, %s", what, place_names[p]);
        double ml = l[LAT_RUNS / 2], mu = u[LAT_RUNS / 2];
        printf("%-40s %12.2f %12.2f %8.2f\n", row, ml, mu, mu / ml);
        fflush(stdout);
    }
    rtt_place = PLACE_ANY;
}

int main(int argc, char **argv)
{
    long n = 1000000, r = 100000;
    bool latency = false;
    struct ust_stack_config cfg;
    ust_stack_config_init(&cfg);
    int c;
    while ((c = getopt(argc, argv, "n:r:s:l")) != -1) {
        if (c == 'n')
            n = atol(optarg);
        else if (c == 'r')
            r = atol(optarg);
        else if (c == 's')
            cfg.wait_spin_ns = (uint64_t)atoll(optarg);
        else if (c == 'l')
            latency = true;
        else {
            fprintf(stderr, "usage: %s [-n messages] [-r round trips] [-s spin_ns] [-l]\n",
                    argv[0]);
            return 2;
        }
    }
    find_cpus();
    struct ust_stack *s = ust_stack_new(&cfg);
    if (!s || ust_stack_start(s) != 0)
        die("ustack");
    struct qapi lxmq = { "linux mq", NULL, lxmq_open, lxmq_send, lxmq_recv, lxmq_close };
    struct qapi usmq = { "ustack mq", s, usmq_open, usmq_send, usmq_recv, usmq_close };
    struct qapi lxmsg = { "linux msg", NULL, lxmsg_open, lxmsg_send, lxmsg_recv, lxmsg_close };
    struct qapi usmsg = { "ustack msg", s, usmsg_open, usmsg_send, usmsg_recv, usmsg_close };

    if (latency) {
        printf("%-40s %12s %12s %8s\n", "64-byte round trip, us (median)", "linux", "ustack",
               "ratio");
        latency_rows("POSIX mq", &lxmq, &usmq, r);
        latency_rows("SysV msg", &lxmsg, &usmsg, r);
        ust_stack_free(s);
        return 0;
    }
    printf("%-40s %12s %12s %8s\n", "benchmark (two threads, one process)", "linux", "ustack", "ratio");
    double a1 = rate(&lxmq, n), b1 = rate(&usmq, n);
    printf("%-40s %12.0f %12.0f %8.2f\n", "POSIX mq 64-byte messages, 1/s", a1, b1, b1 / a1);
    double a2 = rate(&lxmsg, n), b2 = rate(&usmsg, n);
    printf("%-40s %12.0f %12.0f %8.2f\n", "SysV msg 64-byte messages, 1/s", a2, b2, b2 / a2);
    double a3 = round_trips(&lxmq, r), b3 = round_trips(&usmq, r);
    printf("%-40s %12.0f %12.0f %8.2f\n", "POSIX mq round trips, 1/s", a3, b3, b3 / a3);
    double a4 = round_trips(&lxmsg, r), b4 = round_trips(&usmsg, r);
    printf("%-40s %12.0f %12.0f %8.2f\n", "SysV msg round trips, 1/s", a4, b4, b4 / a4);
    ust_stack_free(s);
    return 0;
}
