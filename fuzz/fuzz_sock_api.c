/* libFuzzer target: the socket and IPC API driven by a byte string.
 *
 * Each input builds a fresh stack (fixed seed, 48 descriptors, a 4 MiB
 * memory limit so EMFILE and ENOBUFS paths are reachable, no SIGPIPE) and
 * decodes the input as a program: each call is an opcode byte followed by
 * the argument bytes it needs (missing bytes read as 0). Calls: socket,
 * bind, listen, connect (AF_INET and AF_UNSPEC), accept4, send/recv with
 * flags, sendto/recvfrom, sendmsg/recvmsg with several iovecs, shutdown,
 * close, setsockopt/getsockopt over the options ustack knows (odd lengths
 * too), getsockname/getpeername, ioctl, fcntl, poll, pipe2, read/write,
 * mkfifo/open/unlink, mq_open/send/receive/getattr/setattr/unlink,
 * msgget/msgsnd/msgrcv/msgctl, epoll_create1/ctl/wait, and "advance the
 * virtual clock". Descriptors live in 16 slots the program refers to; a
 * few opcodes use raw, possibly bad, descriptor numbers. Addresses are
 * 127.0.0.1 (the loopback, so TCP and UDP talk to themselves), 0.0.0.0, an
 * address not on the stack, or 255.255.255.255; ports come from a small set
 * so connections meet listeners. Without a stack thread no call blocks.
 *
 * After every call the frame buffers in use stay within mem_limit and the
 * descriptors within max_fds. After the program everything is closed and unlinked, the clock runs past
 * every TCP timeout, and the stack must be back to empty: no descriptor,
 * no connection block, no named IPC object, no pipe page, every frame
 * buffer returned to the pool. Otherwise abort(). ASan/UBSan/LSan catch
 * the rest. */
#include <arpa/inet.h>
#include <dirent.h>
#include <stdbool.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <mqueue.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/msg.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <ustack/ustack.h>

#include "core/util.h"
#include "runtime/runtime.h"
#include "stack/stack_impl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NSLOT 16
#define MAX_FDS 48
#define NMSQ 4

struct prog {
    const uint8_t *p;
    size_t n;
};

static uint8_t u8(struct prog *g)
{
    if (g->n == 0)
        return 0;
    g->n--;
    return *g->p++;
}

static uint16_t u16(struct prog *g)
{
    return (uint16_t)(u8(g) | (u8(g) << 8));
}

static uint32_t u32(struct prog *g)
{
    return (uint32_t)u16(g) | ((uint32_t)u16(g) << 16);
}

struct fz {
    struct ust_stack *s;
    uint64_t now;
    int slot[NSLOT];
    int msqid[NMSQ];
    int made[64];               /* every SysV queue id created, for cleanup */
    unsigned nmade;
};

static void fz_put(struct fz *z, int fd)
{
    if (fd < 0)
        return;
    for (int i = 0; i < NSLOT; i++)
        if (z->slot[i] < 0) {
            z->slot[i] = fd;
            return;
        }
    z->slot[fd % NSLOT] = fd;   /* the old one stays open; cleanup closes all */
}

/* A descriptor: mostly one from the slots, sometimes a raw number. */
static int fz_fd(struct fz *z, struct prog *g)
{
    uint8_t b = u8(g);
    if (b >= 248)
        return (int)b - 250;    /* -2 .. 5 */
    if (b >= 240)
        return MAX_FDS - 4 + (b - 240);   /* around the end of the table */
    return z->slot[b % NSLOT];
}

static struct sockaddr_in fz_addr(struct prog *g)
{
    static const uint32_t addrs[4] = { 0x7f000001u, 0, 0x0a0000feu, 0xffffffffu };
    static const uint16_t ports[8] = { 0, 7000, 7001, 7002, 7000, 7001, 80, 65535 };
    uint8_t b = u8(g);
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = (b & 0x80) ? AF_UNSPEC : AF_INET;
    if ((b & 0xc0) == 0xc0)
        sin.sin_family = AF_INET6;      /* wrong family */
    sin.sin_addr.s_addr = htonl(addrs[b & 3]);
    sin.sin_port = htons(ports[(b >> 2) & 7]);
    return sin;
}

static socklen_t fz_alen(struct prog *g)
{
    static const socklen_t lens[4] = { sizeof(struct sockaddr_in), sizeof(struct sockaddr_in),
                                       2, sizeof(struct sockaddr_in) + 8 };
    return lens[u8(g) & 3];
}

static int fz_msgflags(struct prog *g)
{
    static const int f[8] = { 0, MSG_DONTWAIT, MSG_PEEK, MSG_WAITALL, MSG_TRUNC, MSG_MORE,
                              MSG_OOB, MSG_NOSIGNAL };
    uint8_t b = u8(g);
    int flags = 0;
    for (int i = 0; i < 8; i++)
        if (b & (1 << i))
            flags |= f[i];
    return flags;
}

static uint8_t iobuf[70000];

static size_t fz_len(struct prog *g)
{
    uint16_t v = u16(g);
    switch (v >> 14) {
    case 0: return v & 63;
    case 1: return v & 2047;
    case 2: return (size_t)(v & 0x3fff) * 4;
    default: return sizeof(iobuf) - (v & 255);
    }
}

/* setsockopt/getsockopt: the options the socket layer knows. */
static const struct { int level, name; } sockopts[] = {
    { SOL_SOCKET, SO_REUSEADDR }, { SOL_SOCKET, SO_REUSEPORT }, { SOL_SOCKET, SO_KEEPALIVE },
    { SOL_SOCKET, SO_LINGER }, { SOL_SOCKET, SO_RCVBUF }, { SOL_SOCKET, SO_SNDBUF },
    { SOL_SOCKET, SO_RCVTIMEO }, { SOL_SOCKET, SO_SNDTIMEO }, { SOL_SOCKET, SO_RCVLOWAT },
    { SOL_SOCKET, SO_BROADCAST }, { SOL_SOCKET, SO_ERROR }, { SOL_SOCKET, SO_TYPE },
    { SOL_SOCKET, SO_RCVBUFFORCE }, { SOL_SOCKET, SO_SNDBUFFORCE }, { SOL_SOCKET, SO_SNDLOWAT },
    { IPPROTO_TCP, TCP_NODELAY }, { IPPROTO_TCP, TCP_MAXSEG }, { IPPROTO_TCP, TCP_KEEPIDLE },
    { IPPROTO_TCP, TCP_KEEPINTVL }, { IPPROTO_TCP, TCP_KEEPCNT },
    { IPPROTO_TCP, TCP_USER_TIMEOUT }, { IPPROTO_TCP, TCP_CONGESTION },
    { IPPROTO_TCP, TCP_INFO }, { IPPROTO_TCP, TCP_CORK }, { IPPROTO_IP, IP_TTL },
    { IPPROTO_IP, IP_TOS }, { 12345, 1 }, { SOL_SOCKET, 9999 },
};
#define NSOCKOPTS (sizeof(sockopts) / sizeof(sockopts[0]))

static void op_setsockopt(struct fz *z, struct prog *g)
{
    int fd = fz_fd(z, g);
    unsigned k = u8(g) % NSOCKOPTS;
    uint8_t val[64];
    memset(val, 0, sizeof(val));
    uint8_t kind = u8(g);
    socklen_t len;
    if (sockopts[k].name == TCP_CONGESTION && sockopts[k].level == IPPROTO_TCP) {
        static const char *cc[4] = { "cubic", "reno", "bogus", "" };
        strcpy((char *)val, cc[kind & 3]);
        len = (socklen_t)strlen((char *)val) + ((kind & 4) ? 1 : 0);
    } else {
        uint32_t v = u32(g);
        memcpy(val, &v, 4);
        memcpy(val + 4, &v, 4);
        static const socklen_t lens[8] = { 4, 4, 4, 8, 16, 0, 1, 2 };
        len = lens[kind & 7];
    }
    ust_setsockopt(z->s, fd, sockopts[k].level, sockopts[k].name, (kind & 0x80) ? NULL : val,
                   len);
}

static void op_getsockopt(struct fz *z, struct prog *g)
{
    int fd = fz_fd(z, g);
    unsigned k = u8(g) % NSOCKOPTS;
    uint8_t val[512];
    uint8_t kind = u8(g);
    static const socklen_t lens[8] = { 4, sizeof(struct tcp_info), 1, 0, 16, 8, 3, 512 };
    socklen_t len = lens[kind & 7];
    ust_getsockopt(z->s, fd, sockopts[k].level, sockopts[k].name, val, &len);
}

static void op_msg(struct fz *z, struct prog *g, bool send)
{
    int fd = fz_fd(z, g);
    uint8_t niov = u8(g) % 5;
    struct iovec iov[4];
    size_t off = 0;
    for (unsigned i = 0; i < niov && i < 4; i++) {
        size_t l = u8(g) * 37u;
        if (off + l > sizeof(iobuf))
            l = 0;
        iov[i].iov_base = iobuf + off;
        iov[i].iov_len = l;
        off += l;
    }
    struct sockaddr_in sin = fz_addr(g);
    struct msghdr m;
    memset(&m, 0, sizeof(m));
    m.msg_iov = niov ? iov : NULL;
    m.msg_iovlen = niov > 4 ? 4 : niov;
    if (u8(g) & 1) {
        m.msg_name = &sin;
        m.msg_namelen = fz_alen(g);
    }
    int flags = fz_msgflags(g) | MSG_NOSIGNAL;
    if (send)
        ust_sendmsg(z->s, fd, &m, flags);
    else
        ust_recvmsg(z->s, fd, &m, flags | MSG_DONTWAIT);
}

static void op_poll(struct fz *z, struct prog *g)
{
    struct pollfd p[4];
    unsigned n = u8(g) % 5;
    for (unsigned i = 0; i < n; i++) {
        p[i].fd = fz_fd(z, g);
        p[i].events = (short)u16(g);
        p[i].revents = 0;
    }
    ust_poll(z->s, n ? p : NULL, n, 0);
}

static const char *const names[4] = { "/q0", "/q1", "q-bad", "/q0" };
static const struct timespec fz_expired = { 0, 1 };

/* Would a call on fd fail at once instead of blocking? */
static bool fz_nonblock(struct fz *z, int fd)
{
    int fl = ust_fcntl(z->s, fd, F_GETFL);
    return fl < 0 || (fl & O_NONBLOCK);
}
static const char *const fifos[2] = { "/tmp/f0", "/tmp/f1" };

static void op_mq(struct fz *z, struct prog *g)
{
    uint8_t sub = u8(g);
    switch (sub % 6) {
    case 0: {
        struct mq_attr a = { .mq_maxmsg = u8(g) % 12, .mq_msgsize = u16(g) % 9000 };
        static const int fl[4] = { O_RDWR | O_CREAT, O_RDONLY, O_WRONLY | O_CREAT | O_EXCL,
                                   O_RDWR | O_CREAT | O_NONBLOCK };
        uint8_t b = u8(g);
        fz_put(z, ust_mq_open(z->s, names[b & 3], fl[(b >> 2) & 3], 0600,
                              (b & 0x10) ? NULL : &a));
        break;
    }
    /* A shared queue (cfg.ipc_shared) blocks even without a stack thread:
     * a descriptor in blocking mode gets an expired deadline instead. */
    case 1: {
        int fd = fz_fd(z, g);
        size_t len = fz_len(g) % 9000;
        unsigned prio = u8(g) % 40;
        if (fz_nonblock(z, fd))
            ust_mq_send(z->s, fd, (const char *)iobuf, len, prio);
        else
            ust_mq_timedsend_mono(z->s, fd, (const char *)iobuf, len, prio, &fz_expired);
        break;
    }
    case 2: {
        unsigned prio;
        int fd = fz_fd(z, g);
        size_t len = fz_len(g);
        if (fz_nonblock(z, fd))
            ust_mq_receive(z->s, fd, (char *)iobuf, len, &prio);
        else
            ust_mq_timedreceive_mono(z->s, fd, (char *)iobuf, len, &prio, &fz_expired);
        break;
    }
    case 3: {
        struct mq_attr a, old;
        ust_mq_getattr(z->s, fz_fd(z, g), &a);
        a.mq_flags = (u8(g) & 1) ? O_NONBLOCK : 0;
        ust_mq_setattr(z->s, fz_fd(z, g), &a, &old);
        break;
    }
    case 4:
        ust_mq_unlink(z->s, names[u8(g) & 3]);
        break;
    default:
        ust_mq_close(z->s, fz_fd(z, g));
        break;
    }
}

static void op_msgq(struct fz *z, struct prog *g)
{
    uint8_t sub = u8(g);
    int *id = &z->msqid[u8(g) % NMSQ];
    switch (sub % 4) {
    case 0: {
        static const key_t keys[3] = { IPC_PRIVATE, 1234, 5678 };
        uint8_t b = u8(g);
        int r = ust_msgget(z->s, keys[b % 3], ((b & 4) ? IPC_CREAT : 0) |
                                                  ((b & 8) ? IPC_EXCL : 0) | 0600);
        if (r >= 0) {
            *id = r;
            if (z->nmade < 64)
                z->made[z->nmade++] = r;
        }
        break;
    }
    case 1: {
        long mtype = (long)(int8_t)u8(g);
        memcpy(iobuf, &mtype, sizeof(mtype));
        ust_msgsnd(z->s, *id, iobuf, fz_len(g) % 9000, IPC_NOWAIT);
        break;
    }
    case 2: {
        long type = (long)(int8_t)u8(g);
        int fl = IPC_NOWAIT | ((u8(g) & 1) ? MSG_NOERROR : 0);
        ust_msgrcv(z->s, *id, iobuf, fz_len(g) % 9000, type, fl);
        break;
    }
    default: {
        struct msqid_ds ds;
        uint8_t b = u8(g);
        if (ust_msgctl(z->s, *id, (b & 1) ? IPC_RMID : IPC_STAT, &ds) == 0 && (b & 1))
            *id = -1;
        break;
    }
    }
}

static void op_epoll(struct fz *z, struct prog *g)
{
    uint8_t sub = u8(g);
    switch (sub % 3) {
    case 0:
        fz_put(z, ust_epoll_create1(z->s, (sub & 4) ? EPOLL_CLOEXEC : 0));
        break;
    case 1: {
        int ep = fz_fd(z, g), fd = fz_fd(z, g);
        struct epoll_event ev = { .events = u32(g), .data.u64 = 7 };
        ust_epoll_ctl(z->s, ep, 1 + u8(g) % 3, fd, (sub & 8) ? NULL : &ev);
        break;
    }
    default: {
        struct epoll_event ev[8];
        ust_epoll_wait(z->s, fz_fd(z, g), ev, 1 + u8(g) % 8, 0);
        break;
    }
    }
}

static void op_fcntl(struct fz *z, struct prog *g)
{
    int fd = fz_fd(z, g);
    uint8_t b = u8(g);
    switch (b % 5) {
    case 0: ust_fcntl(z->s, fd, F_GETFL); break;
    case 1: ust_fcntl(z->s, fd, F_SETFL, (b & 8) ? O_NONBLOCK : 0); break;
    case 2: fz_put(z, ust_fcntl(z->s, fd, F_DUPFD, (int)(u8(g) % 60))); break;
    case 3: ust_fcntl(z->s, fd, F_SETPIPE_SZ, (int)u32(g) & 0x3fffff); break;
    default: ust_fcntl(z->s, fd, F_GETPIPE_SZ); break;
    }
}

static void op_ioctl(struct fz *z, struct prog *g)
{
    int fd = fz_fd(z, g);
    int v = u8(g) & 1;
    static const unsigned long req[4] = { FIONREAD, SIOCOUTQ, FIONBIO, 0x1234 };
    ust_ioctl(z->s, fd, req[u8(g) & 3], &v);
}

/* A shared FIFO (cfg.ipc_shared) blocks even without a stack thread, since
 * another process could come (nothing would here): a blocking open, read or
 * write of a pipe or FIFO is made with O_NONBLOCK set for the call. A
 * private pipe or FIFO without a stack thread behaves so anyway. */
static int fz_fifo_open(struct fz *z, const char *path, int flags)
{
    int fd = ust_open(z->s, path, flags | O_NONBLOCK);
    int fl = fd >= 0 ? ust_fcntl(z->s, fd, F_GETFL) : -1;
    if (fl >= 0 && !(flags & O_NONBLOCK))
        ust_fcntl(z->s, fd, F_SETFL, fl & ~O_NONBLOCK);
    return fd;
}

/* The flags to restore after the call, or -1: fd is no blocking pipe. */
static int fz_pipe_nonblock_begin(struct fz *z, int fd)
{
    int fl = ust_fcntl(z->s, fd, F_GETFL);
    if (fl < 0 || (fl & O_NONBLOCK) || ust_fcntl(z->s, fd, F_GETPIPE_SZ) < 0)
        return -1;
    ust_fcntl(z->s, fd, F_SETFL, fl | O_NONBLOCK);
    return fl;
}

static void fz_pipe_nonblock_end(struct fz *z, int fd, int fl)
{
    if (fl >= 0)
        ust_fcntl(z->s, fd, F_SETFL, fl);
}

static void op_fifo(struct fz *z, struct prog *g)
{
    uint8_t b = u8(g);
    const char *path = fifos[b & 1];
    static const int fl[4] = { O_RDONLY | O_NONBLOCK, O_WRONLY | O_NONBLOCK, O_RDWR, O_RDONLY };
    switch ((b >> 1) % 3) {
    case 0: ust_mkfifo(z->s, path, 0600); break;
    case 1: fz_put(z, fz_fifo_open(z, path, fl[(b >> 3) & 3])); break;
    default: ust_unlink(z->s, path); break;
    }
}

static void fz_advance(struct fz *z, uint64_t ns)
{
    z->now += ns;
    ust_stack_poll(z->s, z->now);
}

static void fz_step(struct fz *z, struct prog *g)
{
    uint8_t op = u8(g);
    switch (op % 26) {
    case 0: {
        static const int dom[4] = { AF_INET, AF_INET, AF_INET6, AF_UNIX };
        static const int typ[4] = { SOCK_STREAM, SOCK_DGRAM, SOCK_RAW, SOCK_SEQPACKET };
        uint8_t b = u8(g);
        int t = typ[(b >> 2) & 3] | ((b & 0x10) ? SOCK_NONBLOCK : 0) |
                ((b & 0x20) ? SOCK_CLOEXEC : 0);
        fz_put(z, ust_socket(z->s, dom[b & 3], t, (b & 0x40) ? IPPROTO_ICMP : 0));
        break;
    }
    case 1: {
        int fd = fz_fd(z, g);
        struct sockaddr_in a = fz_addr(g);
        ust_bind(z->s, fd, (struct sockaddr *)&a, fz_alen(g));
        break;
    }
    case 2:
        ust_listen(z->s, fz_fd(z, g), (int)(int8_t)u8(g));
        break;
    case 3: {
        int fd = fz_fd(z, g);
        struct sockaddr_in a = fz_addr(g);
        ust_connect(z->s, fd, (struct sockaddr *)&a, fz_alen(g));
        break;
    }
    case 4: {
        int fd = fz_fd(z, g);
        struct sockaddr_in a;
        socklen_t al = (u8(g) & 1) ? sizeof(a) : 3;
        uint8_t b = u8(g);
        fz_put(z, ust_accept4(z->s, fd, (b & 1) ? (struct sockaddr *)&a : NULL,
                              (b & 1) ? &al : NULL,
                              ((b & 2) ? SOCK_NONBLOCK : 0) | ((b & 4) ? SOCK_CLOEXEC : 0)));
        break;
    }
    case 5: {
        int fd = fz_fd(z, g);
        size_t len = fz_len(g);
        ust_send(z->s, fd, iobuf, len, fz_msgflags(g) | MSG_NOSIGNAL);
        break;
    }
    case 6: {
        int fd = fz_fd(z, g);
        size_t len = fz_len(g);
        ust_recv(z->s, fd, iobuf, len, fz_msgflags(g) | MSG_DONTWAIT);
        break;
    }
    case 7: {
        int fd = fz_fd(z, g);
        size_t len = fz_len(g);
        struct sockaddr_in a = fz_addr(g);
        ust_sendto(z->s, fd, iobuf, len, fz_msgflags(g) | MSG_NOSIGNAL, (struct sockaddr *)&a,
                   fz_alen(g));
        break;
    }
    case 8: {
        int fd = fz_fd(z, g);
        struct sockaddr_in a;
        socklen_t al = (socklen_t)(u8(g) % 24);
        ust_recvfrom(z->s, fd, iobuf, fz_len(g), fz_msgflags(g) | MSG_DONTWAIT,
                     (struct sockaddr *)&a, &al);
        break;
    }
    case 9:
        op_msg(z, g, true);
        break;
    case 10:
        op_msg(z, g, false);
        break;
    case 11:
        ust_shutdown(z->s, fz_fd(z, g), (int)(u8(g) % 4));
        break;
    case 12: {
        uint8_t b = u8(g);
        int fd = z->slot[b % NSLOT];
        ust_close(z->s, fd);
        if (fd >= 0)
            for (int i = 0; i < NSLOT; i++)
                if (z->slot[i] == fd)
                    z->slot[i] = -1;
        break;
    }
    case 13:
        op_setsockopt(z, g);
        break;
    case 14:
        op_getsockopt(z, g);
        break;
    case 15: {
        int fd = fz_fd(z, g);
        struct sockaddr_in a;
        socklen_t al = (socklen_t)(u8(g) % 24);
        if (u8(g) & 1)
            ust_getsockname(z->s, fd, (struct sockaddr *)&a, &al);
        else
            ust_getpeername(z->s, fd, (struct sockaddr *)&a, &al);
        break;
    }
    case 16:
        op_poll(z, g);
        break;
    case 17: {
        int p[2];
        uint8_t b = u8(g);
        if (ust_pipe2(z->s, p, ((b & 1) ? O_NONBLOCK : 0) | ((b & 2) ? O_CLOEXEC : 0) |
                                    ((b & 4) ? O_DIRECT : 0)) == 0) {
            fz_put(z, p[0]);
            fz_put(z, p[1]);
        }
        break;
    }
    case 18: {
        int fd = fz_fd(z, g);
        int fl = fz_pipe_nonblock_begin(z, fd);
        ust_read(z->s, fd, iobuf, fz_len(g));
        fz_pipe_nonblock_end(z, fd, fl);
        break;
    }
    case 19: {
        int fd = fz_fd(z, g);
        int fl = fz_pipe_nonblock_begin(z, fd);
        ust_write(z->s, fd, iobuf, fz_len(g));
        fz_pipe_nonblock_end(z, fd, fl);
        break;
    }
    case 20:
        op_mq(z, g);
        break;
    case 21:
        op_msgq(z, g);
        break;
    case 22:
        op_epoll(z, g);
        break;
    case 23:
        if (u8(g) & 1)
            op_fcntl(z, g);
        else
            op_ioctl(z, g);
        break;
    case 24:
        op_fifo(z, g);
        break;
    default: {
        /* Virtual time: up to ~25 s in 100 ms steps, polled as it goes. */
        unsigned steps = u8(g);
        for (unsigned i = 0; i < steps; i++)
            fz_advance(z, 100 * UST_NSEC_PER_MSEC);
        fz_advance(z, 1);
        break;
    }
    }
    ust_stack_poll(z->s, z->now);
}

static void fz_cleanup(struct fz *z)
{
    for (int fd = 0; fd < MAX_FDS; fd++)
        ust_close(z->s, fd);
    for (int i = 0; i < 4; i++)
        ust_mq_unlink(z->s, names[i]);
    for (int i = 0; i < 2; i++)
        ust_unlink(z->s, fifos[i]);
    struct msqid_ds ds;
    for (unsigned i = 0; i < z->nmade; i++)
        ust_msgctl(z->s, z->made[i], IPC_RMID, &ds);
    /* Past every TCP timeout: retransmission give-up, FIN-WAIT-2, TIME-WAIT. */
    for (int i = 0; i < 200; i++)
        fz_advance(z, 30 * UST_NSEC_PER_SEC);
}

/* Shared IPC objects (cfg.ipc_shared) live in a directory of this process's
 * own, emptied before every input so that no object of an earlier input
 * changes what this one does, and removed at exit: nothing is left in
 * /dev/shm. */
static char fz_dir[64];

static void fz_dir_empty(bool remove_dir)
{
    DIR *d = opendir(fz_dir);
    struct dirent *de;
    char path[sizeof(fz_dir) + 300];
    while (d && (de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
            snprintf(path, sizeof(path), "%s/%s", fz_dir, de->d_name);
            unlink(path);
        }
    }
    if (d)
        closedir(d);
    if (remove_dir)
        rmdir(fz_dir);
}

static void fz_dir_remove(void)
{
    fz_dir_empty(true);
}

static const char *fz_ipc_dir(void)
{
    if (!fz_dir[0]) {
        snprintf(fz_dir, sizeof(fz_dir), "/dev/shm/ustack-fuzz-XXXXXX");
        if (!mkdtemp(fz_dir))
            abort();
        atexit(fz_dir_remove);
    }
    fz_dir_empty(false);
    return fz_dir;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ust_stack_config cfg;
    ust_stack_config_init(&cfg);
    cfg.ipc_dir = fz_ipc_dir();
    cfg.seed = 1;
    cfg.log_level = UST_LOG_ERROR;
    cfg.max_fds = MAX_FDS;
    cfg.mem_limit = 4u << 20;
    cfg.raise_sigpipe = 0;
    cfg.fifo_max = 2;
    cfg.mq_queues_max = 3;
    cfg.msgmni = 3;
    struct fz z;
    memset(&z, 0, sizeof(z));
    z.s = ust_stack_new(&cfg);
    if (!z.s)
        abort();
    for (int i = 0; i < NSLOT; i++)
        z.slot[i] = -1;
    for (int i = 0; i < NMSQ; i++)
        z.msqid[i] = -1;
    z.now = UST_NSEC_PER_SEC;
    ust_stack_poll(z.s, z.now);
    size_t baseline = z.s->fbpool.in_use_bytes;

    struct prog g = { data, size };
    for (unsigned steps = 0; g.n > 0 && steps < 400; steps++) {
        fz_step(&z, &g);
        /* Bounds that hold after every call. */
        if (z.s->fbpool.in_use_bytes > cfg.mem_limit || z.s->fds.used > MAX_FDS)
            abort();
    }

    fz_cleanup(&z);
    if (z.s->fds.used != 0)
        abort();
    if (z.s->tcp.nconns != 0)
        abort();
    if (z.s->ipc.nobjects != 0 || z.s->ipc.pipe_pages != 0)
        abort();
    if (z.s->fbpool.in_use_bytes != baseline)
        abort();
    ust_stack_free(z.s);
    return 0;
}
