/* Inter-process IPC through ustack's public API against Linux, in the same
 * run, between two processes (fork), each with its own struct ust_stack:
 *  - 64-byte messages per second, one process sending and the other
 *    receiving, both busy: ust_mq_* vs mq_*, ust_msg* vs msg*;
 *  - the mean round trip of a 64-byte ping-pong over two queues;
 *  - FIFO throughput, one process writing -b byte chunks and the other
 *    reading: ust_mkfifo/ust_open vs mkfifo(3)/open(2).
 * ustack's named objects are shared (cfg.ipc_shared, the default) in a
 * private directory under /dev/shm, removed at the end. Blocking calls on
 * shared objects sleep on futexes in the shared memory: no stack thread is
 * started. Not a test: see bench/README.md.
 * Usage: ipc_xproc [-n messages] [-r round trips] [-d queue depth] [-m MiB]
 *                  [-b write size] */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
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
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <ustack/ustack.h>

#define MSG_LEN 64

static long depth = 10;
static char dir[64];            /* ustack's object directory */
static char tag[48];            /* unique part of every name */
static struct ust_stack *st;    /* this process's stack (made after the fork) */

static struct ust_stack *make_stack(void)
{
    struct ust_stack_config cfg;
    ust_stack_config_init(&cfg);
    cfg.ipc_shared = 1;
    cfg.ipc_dir = dir;
    cfg.mq_maxmsg_max = (unsigned)(depth > 10 ? depth : 10);
    cfg.msgmnb = (unsigned)(depth * MSG_LEN > 16384 ? depth * MSG_LEN : 16384);
    struct ust_stack *s = ust_stack_new(&cfg);
    if (!s) {
        perror("ust_stack_new");
        exit(1);
    }
    return s;
}

/* One queue kind. create(i) runs in the parent before the fork; open(i) in
 * each process after it. */
struct qops {
    const char *name;
    int (*create)(int i);
    long (*open)(int i);
    int (*send)(long q, const char *m);
    int (*recv)(long q, char *m);
    void (*destroy)(int i);
};

/* ---- Linux POSIX mq ---- */
static long lx_depth_used;
static void lx_name(char *b, size_t n, int i) { snprintf(b, n, "/%s_%d", tag, i); }
static int lx_create(int i)
{
    char n[96];
    lx_name(n, sizeof(n), i);
    struct mq_attr a = { .mq_maxmsg = depth, .mq_msgsize = MSG_LEN };
    mqd_t q = mq_open(n, O_RDWR | O_CREAT | O_EXCL, 0600, &a);
    if (q == (mqd_t)-1 && errno == EINVAL) {    /* msg_max without CAP_SYS_RESOURCE */
        a.mq_maxmsg = 10;
        q = mq_open(n, O_RDWR | O_CREAT | O_EXCL, 0600, &a);
    }
    if (q == (mqd_t)-1)
        return -errno;
    lx_depth_used = a.mq_maxmsg;
    mq_close(q);
    return 0;
}
static long lx_open(int i)
{
    char n[96];
    lx_name(n, sizeof(n), i);
    return mq_open(n, O_RDWR);
}
static int lx_send(long q, const char *m) { return mq_send((mqd_t)q, m, MSG_LEN, 0); }
static int lx_recv(long q, char *m)
{
    return mq_receive((mqd_t)q, m, MSG_LEN, NULL) == MSG_LEN ? 0 : -1;
}
static void lx_destroy(int i)
{
    char n[96];
    lx_name(n, sizeof(n), i);
    mq_unlink(n);
}

/* ---- Linux System V msg ---- */
static int sv_ids[2];
struct sv_msg {
    long mtype;
    char text[MSG_LEN];
};
static int sv_create(int i)
{
    sv_ids[i] = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
    if (sv_ids[i] < 0)
        return -errno;
    struct msqid_ds ds;
    msgctl(sv_ids[i], IPC_STAT, &ds);
    ds.msg_qbytes = (msglen_t)(depth * MSG_LEN > 16384 ? depth * MSG_LEN : 16384);
    msgctl(sv_ids[i], IPC_SET, &ds);
    return 0;
}
static long sv_open(int i) { return sv_ids[i]; }
static int sv_send(long q, const char *m)
{
    struct sv_msg b = { .mtype = 1 };
    memcpy(b.text, m, MSG_LEN);
    return msgsnd((int)q, &b, MSG_LEN, 0);
}
static int sv_recv(long q, char *m)
{
    struct sv_msg b;
    if (msgrcv((int)q, &b, MSG_LEN, 0, 0) != MSG_LEN)
        return -1;
    memcpy(m, b.text, MSG_LEN);
    return 0;
}
static void sv_destroy(int i) { msgctl(sv_ids[i], IPC_RMID, NULL); }

/* ---- ustack POSIX mq (ust_mq_*) ---- */
static int um_create(int i)
{
    char n[96];
    lx_name(n, sizeof(n), i);
    struct mq_attr a = { .mq_maxmsg = depth, .mq_msgsize = MSG_LEN };
    int q = ust_mq_open(st, n, O_RDWR | O_CREAT | O_EXCL, 0600, &a);
    if (q < 0)
        return -errno;
    ust_mq_close(st, q);
    return 0;
}
static long um_open(int i)
{
    char n[96];
    lx_name(n, sizeof(n), i);
    return ust_mq_open(st, n, O_RDWR);
}
static int um_send(long q, const char *m) { return ust_mq_send(st, (int)q, m, MSG_LEN, 0); }
static int um_recv(long q, char *m)
{
    return ust_mq_receive(st, (int)q, m, MSG_LEN, NULL) == MSG_LEN ? 0 : -1;
}
static void um_destroy(int i)
{
    char n[96];
    lx_name(n, sizeof(n), i);
    ust_mq_unlink(st, n);
}

/* ---- ustack System V msg (ust_msg*) ---- */
static int us_ids[2];
static int us_create(int i)
{
    us_ids[i] = ust_msgget(st, IPC_PRIVATE, IPC_CREAT | 0600);
    if (us_ids[i] < 0)
        return -errno;
    struct msqid_ds ds;
    ust_msgctl(st, us_ids[i], IPC_STAT, &ds);
    ds.msg_qbytes = (msglen_t)(depth * MSG_LEN > 16384 ? depth * MSG_LEN : 16384);
    ust_msgctl(st, us_ids[i], IPC_SET, &ds);
    return 0;
}
static long us_open(int i) { return us_ids[i]; }
static int us_send(long q, const char *m)
{
    struct sv_msg b = { .mtype = 1 };
    memcpy(b.text, m, MSG_LEN);
    return ust_msgsnd(st, (int)q, &b, MSG_LEN, 0);
}
static int us_recv(long q, char *m)
{
    struct sv_msg b;
    if (ust_msgrcv(st, (int)q, &b, MSG_LEN, 0, 0) != MSG_LEN)
        return -1;
    memcpy(m, b.text, MSG_LEN);
    return 0;
}
static void us_destroy(int i) { ust_msgctl(st, us_ids[i], IPC_RMID, NULL); }

/* ---- harness ---- */
static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* fork; the child dies with the parent and gets a stack of its own. */
static pid_t fork_child(void)
{
    pid_t parent = getpid();
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(99);
        st = make_stack();      /* never the parent's stack (its copy is left alone) */
    }
    return pid;
}

static int reap(pid_t pid)
{
    int s;
    if (waitpid(pid, &s, 0) != pid)
        return -1;
    return WIFEXITED(s) && WEXITSTATUS(s) == 0 ? 0 : -1;
}

/* Messages per second: the child sends n numbered messages, we receive. */
static double run_rate(const struct qops *o, long n)
{
    if (o->create(0) < 0)
        return -1;
    pid_t pid = fork_child();
    if (pid == 0) {
        long q = o->open(0);
        char m[MSG_LEN] = { 0 };
        for (long i = 0; q >= 0 && i < n; i++) {
            memcpy(m, &i, sizeof(i));
            if (o->send(q, m) != 0)
                _exit(1);
        }
        _exit(q >= 0 ? 0 : 2);
    }
    long q = o->open(0);
    char m[MSG_LEN];
    double t0 = now_s();
    long i;
    for (i = 0; q >= 0 && i < n; i++) {
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

/* Mean round trip in microseconds: ping on queue 0, pong on queue 1. */
static double run_rtt(const struct qops *o, long n)
{
    if (o->create(0) < 0 || o->create(1) < 0)
        return -1;
    pid_t pid = fork_child();
    if (pid == 0) {
        long ping = o->open(0), pong = o->open(1);
        char m[MSG_LEN];
        for (long i = 0; ping >= 0 && pong >= 0 && i < n; i++)
            if (o->recv(ping, m) != 0 || o->send(pong, m) != 0)
                _exit(1);
        _exit(ping >= 0 && pong >= 0 ? 0 : 2);
    }
    long ping = o->open(0), pong = o->open(1);
    char m[MSG_LEN] = { 0 };
    long i;
    double t0 = now_s();
    for (i = 0; ping >= 0 && pong >= 0 && i < n; i++)
        if (o->send(ping, m) != 0 || o->recv(pong, m) != 0)
            break;
    double t = now_s() - t0;
    int ok = reap(pid) == 0 && i == n;
    o->destroy(0);
    o->destroy(1);
    return ok ? t / (double)n * 1e6 : -1;
}

/* FIFO throughput in MB/s: the child writes `total` bytes in chunks of
 * `chunk`, we read and check the byte pattern. */
static double run_fifo(bool ustack, size_t total, size_t chunk)
{
    char path[128];
    snprintf(path, sizeof(path), ustack ? "/%s.fifo" : "/tmp/%s.fifo", tag);
    int r = ustack ? ust_mkfifo(st, path, 0600) : mkfifo(path, 0600);
    if (r < 0)
        return -1;
    unsigned char *buf = malloc(chunk);
    if (!buf)
        return -1;
    pid_t pid = fork_child();
    if (pid == 0) {
        int fd = ustack ? ust_open(st, path, O_WRONLY) : open(path, O_WRONLY);
        if (fd < 0)
            _exit(2);
        for (size_t off = 0; off < total;) {
            size_t n = total - off < chunk ? total - off : chunk;
            for (size_t k = 0; k < n; k++)
                buf[k] = (unsigned char)((off + k) * 7);
            ssize_t w = ustack ? ust_write(st, fd, buf, n) : write(fd, buf, n);
            if (w <= 0)
                _exit(1);
            off += (size_t)w;
        }
        _exit(0);
    }
    int fd = ustack ? ust_open(st, path, O_RDONLY) : open(path, O_RDONLY);
    size_t got = 0;
    bool ok = fd >= 0;
    double t0 = now_s();
    while (ok && got < total) {
        ssize_t n = ustack ? ust_read(st, fd, buf, chunk) : read(fd, buf, chunk);
        if (n <= 0)
            break;
        for (ssize_t k = 0; k < n; k += 4093)     /* spot check, not a full compare */
            ok = ok && buf[k] == (unsigned char)((got + (size_t)k) * 7);
        got += (size_t)n;
    }
    double t = now_s() - t0;
    ok = reap(pid) == 0 && ok && got == total;
    if (ustack) {
        ust_close(st, fd);
        ust_unlink(st, path);
    } else {
        close(fd);
        unlink(path);
    }
    free(buf);
    return ok ? (double)total / t / 1e6 : -1;
}

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(p);
}

int main(int argc, char **argv)
{
    long n = 1000000, rt = 100000, mib = 1024;
    size_t chunk = 65536;
    int c;
    while ((c = getopt(argc, argv, "n:r:d:m:b:")) != -1) {
        if (c == 'n')
            n = atol(optarg);
        else if (c == 'r')
            rt = atol(optarg);
        else if (c == 'd')
            depth = atol(optarg);
        else if (c == 'm')
            mib = atol(optarg);
        else if (c == 'b')
            chunk = (size_t)atol(optarg);
        else {
            fprintf(stderr, "usage: %s [-n messages] [-r round trips] [-d depth] [-m MiB] "
                            "[-b write size]\n", argv[0]);
            return 2;
        }
    }
    signal(SIGPIPE, SIG_IGN);
    snprintf(tag, sizeof(tag), "ustbench_ipc_%d", (int)getpid());
    snprintf(dir, sizeof(dir), "/dev/shm/%s", tag);
    st = make_stack();          /* the parent's: creates objects, measures */

    const struct qops lx = { "posix mq", lx_create, lx_open, lx_send, lx_recv, lx_destroy };
    const struct qops sv = { "sysv msg", sv_create, sv_open, sv_send, sv_recv, sv_destroy };
    const struct qops um = { "ust_mq", um_create, um_open, um_send, um_recv, um_destroy };
    const struct qops us = { "ust_msg", us_create, us_open, us_send, us_recv, us_destroy };

    fprintf(stderr, "messages: %ld, round trips: %ld, depth %ld, FIFO: %ld MiB in %zu-byte "
                    "writes\n", n, rt, depth, mib, chunk);
    double r_lx = run_rate(&lx, n), r_um = run_rate(&um, n);
    double r_sv = run_rate(&sv, n), r_us = run_rate(&us, n);
    double t_lx = run_rtt(&lx, rt), t_um = run_rtt(&um, rt);
    double t_sv = run_rtt(&sv, rt), t_us = run_rtt(&us, rt);
    size_t total = (size_t)mib << 20;
    double f_lx = run_fifo(false, total, chunk), f_us = run_fifo(true, total, chunk);

    printf("two processes, each its own stack          Linux       ustack    ustack/Linux\n");
    printf("POSIX mq 64 B messages/s, depth %-5ld  %10.0f  %11.0f  %8.2f\n", depth, r_lx, r_um,
           r_um / r_lx);
    printf("SysV msg 64 B messages/s                %10.0f  %11.0f  %8.2f\n", r_sv, r_us,
           r_us / r_sv);
    printf("POSIX mq round trip, mean us            %10.2f  %11.2f  %8.2f\n", t_lx, t_um,
           t_um / t_lx);
    printf("SysV msg round trip, mean us            %10.2f  %11.2f  %8.2f\n", t_sv, t_us,
           t_us / t_sv);
    printf("FIFO, MB/s (%zu-byte writes)          %10.0f  %11.0f  %8.2f\n", chunk, f_lx, f_us,
           f_us / f_lx);
    if (lx_depth_used && lx_depth_used != depth)
        printf("(Linux mq depth capped at %ld by /proc/sys/fs/mqueue/msg_max)\n", lx_depth_used);

    ust_stack_free(st);
    nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    bool bad = r_lx < 0 || r_um < 0 || r_sv < 0 || r_us < 0 || t_lx < 0 || t_um < 0 ||
               t_sv < 0 || t_us < 0 || f_lx < 0 || f_us < 0;
    if (bad)
        fprintf(stderr, "a measurement failed (negative value above)\n");
    return bad ? 1 : 0;
}
