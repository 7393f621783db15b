/* Inter-process message queue benchmark: ustack's shared-memory queue
 * (src/ipc/shm_queue.c) against Linux's POSIX mq (mq_open) and System V
 * msg (msgget), in the same run, between two processes (fork):
 *  - 64-byte message rate: one process sends N messages, the other receives
 *    them, both busy (queue depth 10 = Linux's default mq_maxmsg, or -d;
 *    System V with msg_qbytes 16384 = MSGMNB, or depth * 64 if larger);
 *  - round trip: ping-pong of one 64-byte message over two queues; mean
 *    round-trip time. ustack is measured with its short spin before
 *    sleeping (default) and without (sleep at once, futex only).
 * Not a test: see bench/README.md.
 * Usage: shm_rate [-n messages] [-r round trips] [-d queue depth, default 10] */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <mqueue.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ipc/shm_queue.h"

#define MSG_LEN 64
static long depth = 10;              /* -d: queue depth (mq_maxmsg) */

/* One queue kind: open queue number i (both processes call it after the
 * creator made it), send, receive, destroy. */
struct qops {
    const char *name;
    int (*create)(int i);
    void *(*open)(int i);
    int (*send)(void *q, const char *m);
    int (*recv)(void *q, char *m);
    void (*destroy)(int i);
    unsigned spin;
};

static char base_name[64];

/* Linux POSIX mq */
static void mq_name(char *b, size_t n, int i)
{
    snprintf(b, n, "/%s_%d", base_name, i);
}
/* Linux caps mq_maxmsg at /proc/sys/fs/mqueue/msg_max without CAP_SYS_RESOURCE. */
static long lx_depth(void)
{
    long max = 10;
    FILE *f = fopen("/proc/sys/fs/mqueue/msg_max", "r");
    if (f) {
        if (fscanf(f, "%ld", &max) != 1)
            max = 10;
        fclose(f);
    }
    return depth < max ? depth : max;
}

static int lx_create(int i)
{
    char n[96];
    mq_name(n, sizeof(n), i);
    struct mq_attr a = { .mq_maxmsg = lx_depth(), .mq_msgsize = MSG_LEN };
    mqd_t q = mq_open(n, O_RDWR | O_CREAT | O_EXCL, 0600, &a);
    if (q == (mqd_t)-1)
        return -errno;
    mq_close(q);
    return 0;
}
static void *lx_open(int i)
{
    char n[96];
    mq_name(n, sizeof(n), i);
    mqd_t q = mq_open(n, O_RDWR);
    return q == (mqd_t)-1 ? NULL : (void *)(intptr_t)(q + 1);
}
static int lx_send(void *q, const char *m)
{
    return mq_send((mqd_t)((intptr_t)q - 1), m, MSG_LEN, 0);
}
static int lx_recv(void *q, char *m)
{
    return mq_receive((mqd_t)((intptr_t)q - 1), m, MSG_LEN, NULL) == MSG_LEN ? 0 : -1;
}
static void lx_destroy(int i)
{
    char n[96];
    mq_name(n, sizeof(n), i);
    mq_unlink(n);
}

/* Linux System V msg: ids made before the fork. */
static int sysv_ids[2];
struct sysv_msg {
    long mtype;
    char text[MSG_LEN];
};
static int sv_create(int i)
{
    sysv_ids[i] = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
    if (sysv_ids[i] < 0)
        return -errno;
    struct msqid_ds ds;
    msgctl(sysv_ids[i], IPC_STAT, &ds);
    ds.msg_qbytes = (msglen_t)(depth * MSG_LEN > 16384 ? depth * MSG_LEN : 16384);
    msgctl(sysv_ids[i], IPC_SET, &ds);
    return 0;
}
static void *sv_open(int i)
{
    return (void *)(intptr_t)(sysv_ids[i] + 1);
}
static int sv_send(void *q, const char *m)
{
    struct sysv_msg b = { .mtype = 1 };
    memcpy(b.text, m, MSG_LEN);
    return msgsnd((int)((intptr_t)q - 1), &b, MSG_LEN, 0);
}
static int sv_recv(void *q, char *m)
{
    struct sysv_msg b;
    if (msgrcv((int)((intptr_t)q - 1), &b, MSG_LEN, 0, 0) != MSG_LEN)
        return -1;
    memcpy(m, b.text, MSG_LEN);
    return 0;
}
static void sv_destroy(int i)
{
    msgctl(sysv_ids[i], IPC_RMID, NULL);
}

/* ustack shared-memory queue */
static unsigned cur_spin;
static void us_name(char *b, size_t n, int i)
{
    snprintf(b, n, "%s_%d", base_name, i);
}
static int us_create(int i)
{
    char n[96];
    us_name(n, sizeof(n), i);
    struct ust_shmq_attr a = { .maxmsg = (uint32_t)depth, .msgsize = MSG_LEN, .flags = UST_SHMQ_PRIO,
                               .mode = 0600 };
    struct ust_shmq *q;
    int r = ust_shmq_open(NULL, "bench", n, O_CREAT | O_EXCL, UST_SHMQ_RD | UST_SHMQ_WR, &a, &q);
    if (r == 0)
        ust_shmq_close(q);
    return r;
}
static void *us_open(int i)
{
    char n[96];
    us_name(n, sizeof(n), i);
    struct ust_shmq *q;
    if (ust_shmq_open(NULL, "bench", n, 0, UST_SHMQ_RD | UST_SHMQ_WR, NULL, &q) != 0)
        return NULL;
    ust_shmq_set_spin(q, cur_spin);
    return q;
}
static int us_send(void *q, const char *m)
{
    return ust_shmq_send(q, m, MSG_LEN, 0, 0, NULL);
}
static int us_recv(void *q, char *m)
{
    return ust_shmq_receive(q, m, MSG_LEN, NULL, NULL, 0, NULL) == MSG_LEN ? 0 : -1;
}
static void us_destroy(int i)
{
    char n[96];
    us_name(n, sizeof(n), i);
    ust_shmq_unlink(NULL, "bench", n);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static pid_t fork_child(void)
{
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(99);
    }
    return pid;
}

static int reap(pid_t pid)
{
    int st;
    if (waitpid(pid, &st, 0) != pid)
        return -1;
    return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

/* Messages per second, sender in the child, receiver here. */
static double run_rate(const struct qops *o, long n)
{
    if (o->create(0) < 0)
        return -1;
    pid_t pid = fork_child();
    if (pid == 0) {
        void *q = o->open(0);
        char m[MSG_LEN] = { 0 };
        for (long i = 0; q && i < n; i++) {
            memcpy(m, &i, sizeof(i));
            if (o->send(q, m) != 0)
                _exit(1);
        }
        _exit(q ? 0 : 2);
    }
    void *q = o->open(0);
    char m[MSG_LEN];
    double t0 = now_s();
    long i;
    for (i = 0; q && i < n; i++) {
        long v;
        if (o->recv(q, m) != 0)
            break;
        memcpy(&v, m, sizeof(v));
        if (v != i)
            break;
    }
    double t = now_s() - t0;
    int ok = reap(pid) == 0 && i == n;
    o->destroy(0);
    return ok ? (double)n / t : -1;
}

/* Mean round-trip time in microseconds: ping on queue 0, pong on queue 1. */
static double run_rtt(const struct qops *o, long n)
{
    if (o->create(0) < 0 || o->create(1) < 0)
        return -1;
    pid_t pid = fork_child();
    if (pid == 0) {
        void *ping = o->open(0), *pong = o->open(1);
        char m[MSG_LEN];
        for (long i = 0; ping && pong && i < n; i++)
            if (o->recv(ping, m) != 0 || o->send(pong, m) != 0)
                _exit(1);
        _exit(ping && pong ? 0 : 2);
    }
    void *ping = o->open(0), *pong = o->open(1);
    char m[MSG_LEN] = { 0 };
    long i;
    double t0 = now_s();
    for (i = 0; ping && pong && i < n; i++)
        if (o->send(ping, m) != 0 || o->recv(pong, m) != 0)
            break;
    double t = now_s() - t0;
    int ok = reap(pid) == 0 && i == n;
    o->destroy(0);
    o->destroy(1);
    return ok ? t / (double)n * 1e6 : -1;
}

int main(int argc, char **argv)
{
    long n = 1000000, r = 100000;
    int c;
    while ((c = getopt(argc, argv, "n:r:d:")) != -1) {
        if (c == 'd')
            depth = atol(optarg);
        else if (c == 'n')
            n = atol(optarg);
        else if (c == 'r')
            r = atol(optarg);
        else {
            fprintf(stderr, "usage: %s [-n messages] [-r round trips] [-d depth]\n", argv[0]);
            return 2;
        }
    }
    snprintf(base_name, sizeof(base_name), "ustbench_shm_%d", (int)getpid());
    const struct qops lx = { "posix mq", lx_create, lx_open, lx_send, lx_recv, lx_destroy, 0 };
    const struct qops sv = { "sysv msg", sv_create, sv_open, sv_send, sv_recv, sv_destroy, 0 };
    const struct qops us = { "ustack shm", us_create, us_open, us_send, us_recv, us_destroy, 0 };

    fprintf(stderr, "rate: %ld messages; round trips: %ld\n", n, r);
    double rate_lx = run_rate(&lx, n), rate_sv = run_rate(&sv, n);
    cur_spin = UST_SHMQ_DEFAULT_SPIN;
    double rate_us = run_rate(&us, n);
    double rtt_lx = run_rtt(&lx, r), rtt_sv = run_rtt(&sv, r);
    double rtt_us = run_rtt(&us, r);
    cur_spin = 0;
    double rate_us0 = run_rate(&us, n);
    double rtt_us0 = run_rtt(&us, r);

    printf("benchmark (two processes, 64-byte messages)  posix mq   sysv msg  ustack shm  shm/mq\n");
    printf("messages/s, both busy, depth %-5ld          %9.0f  %9.0f  %10.0f  %6.2f\n", depth,
           rate_lx, rate_sv, rate_us, rate_us / rate_lx);
    printf("  ustack without spinning (futex only)                            %10.0f  %6.2f\n",
           rate_us0, rate_us0 / rate_lx);
    printf("round trip, mean us                         %9.2f  %9.2f  %10.2f  %6.2f\n", rtt_lx,
           rtt_sv, rtt_us, rtt_us / rtt_lx);
    printf("  ustack without spinning (futex only)                            %10.2f  %6.2f\n",
           rtt_us0, rtt_us0 / rtt_lx);
    if (lx_depth() != depth)
        printf("(posix mq depth capped at %ld by /proc/sys/fs/mqueue/msg_max)\n", lx_depth());
    return (rate_lx < 0 || rate_sv < 0 || rate_us < 0 || rtt_us < 0) ? 1 : 0;
}
