/* Message queue benchmarks, the same code against Linux (mq_open/mq_send,
 * msgget/msgsnd) and against ustack (ust_mq_*, ust_msg*; stack thread
 * running, blocking calls), in one process and run, printed as a table with
 * the ratio ustack / Linux:
 *  - 64-byte message rate: a sender thread sends N messages, the main
 *    thread receives them (POSIX: mq_maxmsg 10, Linux's default; System V:
 *    msg_qbytes 16384, MSGMNB);
 *  - round trips per second: two threads ping-pong one 64-byte message
 *    over two queues.
 * Not a test: see bench/README.md. Usage: mq_rate [-n messages] [-r round trips] */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <mqueue.h>
#include <pthread.h>
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

static void *echo(void *arg)
{
    struct flow *f = arg;
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
    a->close(a, f.q, 1);
    a->close(a, f.q2, 2);
    return (double)n / dt;
}

int main(int argc, char **argv)
{
    long n = 1000000, r = 100000;
    int c;
    while ((c = getopt(argc, argv, "n:r:")) != -1) {
        if (c == 'n')
            n = atol(optarg);
        else if (c == 'r')
            r = atol(optarg);
        else {
            fprintf(stderr, "usage: %s [-n messages] [-r round trips]\n", argv[0]);
            return 2;
        }
    }
    struct ust_stack *s = ust_stack_new(NULL);
    if (!s || ust_stack_start(s) != 0)
        die("ustack");
    struct qapi lxmq = { "linux mq", NULL, lxmq_open, lxmq_send, lxmq_recv, lxmq_close };
    struct qapi usmq = { "ustack mq", s, usmq_open, usmq_send, usmq_recv, usmq_close };
    struct qapi lxmsg = { "linux msg", NULL, lxmsg_open, lxmsg_send, lxmsg_recv, lxmsg_close };
    struct qapi usmsg = { "ustack msg", s, usmsg_open, usmsg_send, usmsg_recv, usmsg_close };

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
