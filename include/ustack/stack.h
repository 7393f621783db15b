/* A stack: one independent host (interfaces, routes, sockets, descriptors).
 *
 * The core never reads a clock and never starts a thread. Either
 *  - drive it yourself: call ust_stack_poll(stack, now_ns) whenever a netif
 *    has input or the returned deadline passes (the simulator does this), or
 *  - call ust_stack_start() and a stack thread does it, using CLOCK_MONOTONIC;
 *    socket calls may then block. */
#ifndef USTACK_STACK_H
#define USTACK_STACK_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct ust_stack;

enum ust_log_level { UST_LOG_ERROR = 0, UST_LOG_WARN, UST_LOG_INFO, UST_LOG_DEBUG, UST_LOG_TRACE };

typedef void (*ust_log_fn)(void *arg, enum ust_log_level level, const char *msg);

/* Run-time settings. Fill with ust_stack_config_init() (Linux's defaults),
 * change what you need, pass to ust_stack_new(). Every limit is a bound on
 * memory a peer could otherwise make the stack consume. */
struct ust_stack_config {
    const char *name;               /* shown in logs; default "ustack" */
    uint64_t seed;                  /* PRNG seed; 0 = from getrandom() */

    /* Memory */
    size_t mem_limit;               /* bytes of frame buffers, TCP connection blocks and
                                     * socket buffer storage in use at once; default 256 MiB
                                     * (a TCP socket moving data both ways holds up to its
                                     * whole buffers, 144 KiB by default: about 1500 busy
                                     * sockets fit in 7/8 of it) */
    unsigned max_fds;               /* descriptor table size (RLIMIT_NOFILE); default 1024 */

    /* ARP (RFC 826) */
    unsigned arp_cache_size;        /* entries; default 256 */
    unsigned arp_pending_max;       /* frames queued per unresolved address; default 3 (Linux unres_qlen) */
    uint64_t arp_reachable_ns;      /* entry lifetime; default 30 s */
    uint64_t arp_retrans_ns;        /* request retransmit interval; default 1 s */
    unsigned arp_max_probes;        /* requests before giving up; default 3 */

    /* IPv4 (RFC 791) */
    uint8_t ip_default_ttl;         /* default 64 */
    size_t ipfrag_high_thresh;      /* reassembly memory bound; default 4 MiB (Linux) */
    uint64_t ipfrag_time_ns;        /* reassembly timeout; default 30 s (Linux) */

    /* ICMP (RFC 1122 3.2.2) */
    unsigned icmp_ratelimit_per_s;  /* error messages per second; default 1000 (Linux token bucket) */
    unsigned icmp_ratelimit_burst;  /* default 50 */

    /* Sockets */
    unsigned udp_rmem_default;      /* SO_RCVBUF default, bytes; default 212992 (Linux rmem_default) */
    unsigned udp_wmem_default;      /* SO_SNDBUF default; default 212992 */
    unsigned rmem_max;              /* cap for SO_RCVBUF; default 212992 (Linux rmem_max) */
    unsigned wmem_max;              /* cap for SO_SNDBUF; default 212992 */
    uint16_t ephemeral_lo;          /* default 32768 (ip_local_port_range) */
    uint16_t ephemeral_hi;          /* default 60999 */
    int raise_sigpipe;              /* raise SIGPIPE like the kernel; default 1 */

    /* TCP (RFC 9293; Linux's sysctl names and defaults) */
    unsigned tcp_rmem_default;      /* receive buffer, bytes; default 131072 (tcp_rmem[1]) */
    unsigned tcp_wmem_default;      /* send buffer, bytes; default 16384 (tcp_wmem[1]); grows
                                     * with cwnd unless SO_SNDBUF is set (Linux autotuning) */
    unsigned tcp_wmem_max;          /* autotuning bound; default 4 MiB (tcp_wmem[2]) */
    unsigned tcp_somaxconn;         /* listen backlog cap; default 4096 (somaxconn) */
    int tcp_syncookies;             /* SYN cookies when the SYN queue is full; default 1 */
    unsigned tcp_syn_retries;       /* SYN retransmissions before ETIMEDOUT; default 6 */
    unsigned tcp_retries2;          /* data retransmissions before ETIMEDOUT; default 15 */
    uint64_t tcp_rto_min_ns;        /* RFC 6298 lower bound; default 200 ms (Linux) */
    uint64_t tcp_rto_max_ns;        /* default 120 s */
    uint64_t tcp_timewait_ns;       /* TIME_WAIT (2 MSL); default 60 s (Linux) */
    unsigned tcp_max_tw_buckets;    /* TIME_WAIT blocks kept; the oldest goes first; default 32768 */
    uint64_t tcp_delack_ns;         /* delayed ACK timer; default 40 ms (Linux minimum); < 500 ms (RFC 1122) */
    unsigned tcp_keepalive_time;    /* idle seconds before probing; default 7200 */
    unsigned tcp_keepalive_intvl;   /* seconds between probes; default 75 */
    unsigned tcp_keepalive_probes;  /* unanswered probes before ETIMEDOUT; default 9 */
    unsigned tcp_invalid_ratelimit_ms; /* per connection, at most one ACK per this many ms in
                                     * reply to segments that fail the sequence, ACK or PAWS
                                     * test (data excepted); default 500; 0 = no limit */
    unsigned tcp_max_orphans;       /* connections closed by the user but not finished
                                     * (FIN-WAIT, CLOSING, LAST-ACK); beyond it a closing
                                     * one is reset; default 4096 */

    /* Pipes and FIFOs (pipe(7)) */
    unsigned pipe_max_size;         /* F_SETPIPE_SZ cap, bytes (pipe-max-size); default 1 MiB */
    unsigned fifo_max;              /* named FIFOs per stack (ust_mkfifo: ENOSPC); default 1024 */
    unsigned pipe_user_pages_soft;  /* 4 KiB pages all pipes may hold; beyond it new pipes get
                                     * 2 pages and F_SETPIPE_SZ cannot grow (EPERM), as
                                     * Linux's pipe-user-pages-soft; default 16384 (64 MiB) */
    unsigned pipe_user_pages_hard;  /* 4 KiB pages all pipes may hold at most: a new pipe
                                     * past it is refused (pipe: ENFILE, FIFO open: ENOMEM)
                                     * and F_SETPIPE_SZ cannot grow past it (EPERM), as
                                     * Linux's pipe-user-pages-hard; default 0 = no limit */

    /* POSIX message queues (mq_overview(7), /proc/sys/fs/mqueue) */
    unsigned mq_queues_max;         /* queues in the namespace; default 256 (ENOSPC beyond) */
    unsigned mq_maxmsg_default;     /* mq_maxmsg when attr is NULL; default 10 */
    unsigned mq_maxmsg_max;         /* largest mq_maxmsg; default 10 (msg_max) */
    unsigned mq_msgsize_default;    /* mq_msgsize when attr is NULL; default 8192 */
    unsigned mq_msgsize_max;        /* largest mq_msgsize; default 8192 (msgsize_max) */
    size_t mq_bytes_max;            /* bytes reserved by all queues; default 819200
                                     * (RLIMIT_MSGQUEUE; EMFILE beyond, as Linux) */
    /* System V message queues (msgget(2), /proc/sys/kernel/msg*) */
    unsigned msgmni;                /* queues; default 32000 (ENOSPC beyond) */
    unsigned msgmax;                /* largest message; default 8192 */
    unsigned msgmnb;                /* default and largest msg_qbytes; default 16384 */
    size_t msgpool;                 /* message bytes queued in all queues; default
                                     * 524288000 (Linux MSGPOOL; ENOMEM beyond) */
    /* Where named FIFOs, POSIX and System V queues live (docs/IPC-SHARED.md) */
    int ipc_shared;                 /* 1 (default): in shared memory, one file per object in
                                     * ipc_dir, shared with every process and stack that uses
                                     * the same directory; 0: private to this stack (gone
                                     * with it), as in one process's kernel namespace. The
                                     * environment variable USTACK_IPC_SHARED=0 makes 0 the
                                     * default */
    const char *ipc_dir;            /* a directory on tmpfs; NULL (default): the environment
                                     * variable USTACK_IPC_DIR if set, else /dev/shm. Copied
                                     * at ust_stack_new, which creates it (mode 1777, one
                                     * level) if missing */
    /* Creation mask of POSIX queues and FIFOs (mq_open(3), mkfifo(3): mode & ~umask) */
    int ipc_umask;                  /* 0..0777; default -1: the process umask at the time of
                                     * each create (read from /proc/self/status; 022 if
                                     * that cannot be read) */

    /* Blocking calls (with the stack thread running) */
    uint64_t wait_spin_ns;          /* a caller that must wait first spins this long, re-checking,
                                     * before sleeping in the kernel; 0: sleep at once; ignored
                                     * on one CPU; default 10 us */

    /* Logging */
    enum ust_log_level log_level;   /* default UST_LOG_WARN */
    ust_log_fn log_fn;              /* default: stderr */
    void *log_arg;
};

void ust_stack_config_init(struct ust_stack_config *cfg);

/* NULL cfg = defaults. Returns NULL and sets errno on failure.
 * A loopback interface (127.0.0.1/8) is always present. */
struct ust_stack *ust_stack_new(const struct ust_stack_config *cfg);
/* Stops the stack thread if running, closes every descriptor and interface. */
void ust_stack_free(struct ust_stack *stack);

#define UST_NO_DEADLINE UINT64_MAX

/* Processes queued input and due timers at time now_ns (any monotonic
 * nanosecond clock, never decreasing). Returns the time at which it wants to be
 * called again, or UST_NO_DEADLINE. */
uint64_t ust_stack_poll(struct ust_stack *stack, uint64_t now_ns);

/* The time last passed to ust_stack_poll (or read by the stack thread). */
uint64_t ust_stack_now(const struct ust_stack *stack);

/* Runtime: a stack thread that waits on the netifs and the next deadline. */
int ust_stack_start(struct ust_stack *stack);
int ust_stack_stop(struct ust_stack *stack);

#ifdef __cplusplus
}
#endif
#endif
