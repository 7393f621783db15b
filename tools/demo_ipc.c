/* ustack demo, part 3: pipes and message queues, the kernel's other way to
 * move bytes between programs. They are file objects in the same
 * descriptor table as the sockets: a pipe is a byte stream with no message
 * boundaries and EOF when the writer is gone; a POSIX queue hands out the
 * highest priority first (FIFO within one), a System V queue lets the
 * reader pick a message type; and one ust_poll waits on all of them. */
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <poll.h>
#include <string.h>
#include <sys/ioctl.h>

#include "demo.h"

/* One call and its result, in the demo's style. */
static void said(const char *what, long ret)
{
    if (ret < 0)
        dp(DP_CALL, "  %s = -1 %s\n", what, strerror(errno));
    else
        dp(DP_CALL, "  %s = %ld\n", what, ret);
}

static void note(const char *text)
{
    dp(DP_NOTE, "      %s\n", text);
}

static int pipe_tour(struct ust_stack *s)
{
    dp(DP_TITLE, "\nA pipe: a byte stream between a writer and a reader.\n");
    int fds[2];
    int r = ust_pipe(s, fds);
    char what[128];
    snprintf(what, sizeof(what), "pipe(fds) -> read end %d, write end %d", fds[0], fds[1]);
    said(what, r);
    if (r < 0)
        return -1;
    const char *parts[2] = { "first ", "second" };
    for (int i = 0; i < 2; i++) {
        ssize_t n = ust_write(s, fds[1], parts[i], strlen(parts[i]));
        snprintf(what, sizeof(what), "write(%d, \"%s\", %zu)", fds[1], parts[i], strlen(parts[i]));
        said(what, n);
    }
    int avail = 0;
    ust_ioctl(s, fds[0], FIONREAD, &avail);
    snprintf(what, sizeof(what), "ioctl(%d, FIONREAD) -> %d bytes waiting", fds[0], avail);
    said(what, 0);
    char buf[64];
    ssize_t n = ust_read(s, fds[0], buf, sizeof(buf));
    snprintf(what, sizeof(what), "read(%d, 64) -> \"%.*s\"", fds[0], (int)(n > 0 ? n : 0), buf);
    said(what, n);
    note("one read got both writes: a pipe keeps bytes, not message boundaries");
    said("close(write end)", ust_close(s, fds[1]));
    struct pollfd p = { .fd = fds[0], .events = POLLIN };
    ust_poll(s, &p, 1, 0);
    snprintf(what, sizeof(what), "poll(read end) -> revents %s%s", p.revents & POLLIN ? "POLLIN " : "",
             p.revents & POLLHUP ? "POLLHUP" : "");
    said(what, 1);
    n = ust_read(s, fds[0], buf, sizeof(buf));
    snprintf(what, sizeof(what), "read(%d, 64)", fds[0]);
    said(what, n);
    note("0: end of file, because no writer is left and the pipe is empty");
    ust_close(s, fds[0]);
    return 0;
}

static int mq_tour(struct ust_stack *s, int *mqd_out)
{
    dp(DP_TITLE, "\nA POSIX message queue: whole messages, highest priority first.\n");
    struct mq_attr attr = { .mq_maxmsg = 8, .mq_msgsize = 64 };
    int q = ust_mq_open(s, "/demo", O_CREAT | O_EXCL | O_RDWR | O_NONBLOCK, 0600, &attr);
    said("mq_open(\"/demo\", O_CREAT|O_RDWR|O_NONBLOCK, maxmsg 8, msgsize 64)", q);
    if (q < 0)
        return -1;
    static const struct { const char *text; unsigned prio; } msgs[] = {
        { "backup done", 1 }, { "disk full!", 9 }, { "user login", 5 }, { "user logout", 5 },
    };
    char what[128];
    for (size_t i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++) {
        int r = ust_mq_send(s, q, msgs[i].text, strlen(msgs[i].text), msgs[i].prio);
        snprintf(what, sizeof(what), "mq_send(\"%s\", priority %u)", msgs[i].text, msgs[i].prio);
        said(what, r);
    }
    for (size_t i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++) {
        char buf[64];
        unsigned prio = 0;
        ssize_t n = ust_mq_receive(s, q, buf, sizeof(buf), &prio);
        snprintf(what, sizeof(what), "mq_receive() -> \"%.*s\" (priority %u)", (int)(n > 0 ? n : 0),
                 buf, prio);
        said(what, n);
    }
    note("9 first, then the two 5s in the order they were sent, then 1");
    /* Leave one message queued for the poll at the end. */
    ust_mq_send(s, q, "still here", 10, 3);
    *mqd_out = q;
    return 0;
}

static int msg_tour(struct ust_stack *s, int *msqid_out)
{
    dp(DP_TITLE, "\nA System V message queue: the reader picks a message type.\n");
    int id = ust_msgget(s, IPC_PRIVATE, IPC_CREAT | 0600);
    said("msgget(IPC_PRIVATE, IPC_CREAT|0600)", id);
    if (id < 0)
        return -1;
    struct { long mtype; char mtext[32]; } m;
    static const struct { long type; const char *text; } msgs[] = {
        { 1, "order #1" }, { 2, "invoice #1" }, { 1, "order #2" },
    };
    char what[128];
    for (size_t i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++) {
        m.mtype = msgs[i].type;
        snprintf(m.mtext, sizeof(m.mtext), "%s", msgs[i].text);
        int r = ust_msgsnd(s, id, &m, strlen(m.mtext) + 1, IPC_NOWAIT);
        snprintf(what, sizeof(what), "msgsnd(type %ld, \"%s\")", msgs[i].type, msgs[i].text);
        said(what, r);
    }
    static const struct { long msgtyp; const char *why; } takes[] = {
        { 2, "type 2 only: the invoice, though it was sent second" },
        { 0, "type 0: the oldest message of any type" },
    };
    for (size_t i = 0; i < sizeof(takes) / sizeof(takes[0]); i++) {
        ssize_t n = ust_msgrcv(s, id, &m, sizeof(m.mtext), takes[i].msgtyp, IPC_NOWAIT);
        snprintf(what, sizeof(what), "msgrcv(msgtyp %ld) -> type %ld \"%s\"", takes[i].msgtyp,
                 n >= 0 ? m.mtype : 0, n >= 0 ? m.mtext : "");
        said(what, n);
        note(takes[i].why);
    }
    *msqid_out = id;
    return 0;
}

static void poll_tour(struct ust_stack *s, int mqd, int msqid)
{
    dp(DP_TITLE, "\nOne poll over a pipe, a POSIX queue and a System V queue.\n");
    int fds[2];
    if (ust_pipe(s, fds) < 0)
        return;
    ust_write(s, fds[1], "x", 1);
    int qfd = ust_msgq_fd(s, msqid);
    char what[160];
    snprintf(what, sizeof(what), "msgq_fd(%d) -> a descriptor for the System V queue", msqid);
    said(what, qfd);
    struct pollfd p[3] = {
        { .fd = fds[0], .events = POLLIN }, { .fd = mqd, .events = POLLIN },
        { .fd = qfd, .events = POLLIN },
    };
    int r = ust_poll(s, p, 3, 0);
    snprintf(what, sizeof(what), "poll(pipe %d, mq %d, msg queue %d) -> %s, %s, %s ready", fds[0],
             mqd, qfd, p[0].revents & POLLIN ? "POLLIN" : "-", p[1].revents & POLLIN ? "POLLIN" : "-",
             p[2].revents & POLLIN ? "POLLIN" : "-");
    said(what, r);
    note("the same descriptor table and poll as the sockets of part 2 (Linux cannot poll a");
    note("System V queue at all)");
    ust_close(s, fds[0]);
    ust_close(s, fds[1]);
    if (qfd >= 0)
        ust_close(s, qfd);
}

int demo_ipc(const struct demo_opts *o)
{
    (void)o;
    dp(DP_TITLE, "\nPart 3. Pipes and message queues, in one stack's descriptor table.\n");
    /* The demo's host keeps its queues to itself (a private namespace, like
     * one machine's kernel): nothing is left in /dev/shm, and a seed replays
     * the same identifiers. Shared queues are shown by `ustack ipcs`. */
    struct ust_stack_config cfg;
    ust_stack_config_init(&cfg);
    cfg.ipc_shared = 0;
    struct ust_stack *s = ust_stack_new(&cfg);
    if (!s) {
        fprintf(stderr, "ustack demo: ust_stack_new: %s\n", strerror(errno));
        return -1;
    }
    int mqd = -1, msqid = -1;
    int r = pipe_tour(s);
    if (r == 0)
        r = mq_tour(s, &mqd);
    if (r == 0)
        r = msg_tour(s, &msqid);
    if (r == 0)
        poll_tour(s, mqd, msqid);
    if (mqd >= 0) {
        ust_mq_close(s, mqd);
        ust_mq_unlink(s, "/demo");
    }
    if (msqid >= 0)
        ust_msgctl(s, msqid, IPC_RMID, NULL);
    ust_stack_free(s);
    dp(DP_SUMMARY, "\nIPC summary: %s\n",
       r == 0 ? "pipe bytes in order with EOF; queue messages by priority and by type; one "
                "poll over all three"
              : "a step failed (see above)");
    return r;
}
