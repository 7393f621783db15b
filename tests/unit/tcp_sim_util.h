/* Helpers for the simulated TCP tests (tests/unit/test_tcpsim_*.c). They use
 * the public API only (<ustack/ustack.h>): two simulated hosts joined by one
 * link, non-blocking sockets, TCP_INFO, a deterministic byte stream to check
 * what arrives. Include after <cmocka.h> and "unit/sim_test_util.h".
 *
 * Until the TCP engine lands, ust_socket(AF_INET, SOCK_STREAM, 0) fails with
 * EPROTONOSUPPORT: tcpsim_require_tcp() then skips the calling test with a
 * clear message, so the suite stays green and turns real on its own. */
#ifndef UST_TESTS_TCP_SIM_UTIL_H
#define UST_TESTS_TCP_SIM_UTIL_H

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <linux/sockios.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ustack/ustack.h>

#define TS_US 1000ull
#define TS_MS 1000000ull
#define TS_SEC 1000000000ull

/* ---- Is TCP there at all? ---- */

/* 1 when a stream socket can be created, 0 when the stack says
 * EPROTONOSUPPORT (TCP not built yet); fails the test on anything else. */
static inline int tcpsim_tcp_available(void)
{
    static int cached = -1;
    if (cached >= 0)
        return cached;
    struct ust_stack *s = ust_stack_new(NULL);
    assert_non_null(s);
    int fd = ust_socket(s, AF_INET, SOCK_STREAM, 0);
    int err = errno;
    if (fd >= 0) {
        ust_close(s, fd);
        cached = 1;
    } else if (err == EPROTONOSUPPORT) {
        cached = 0;
    } else {
        ust_stack_free(s);
        fail_msg("ust_socket(AF_INET, SOCK_STREAM, 0): unexpected %s", strerror(err));
    }
    ust_stack_free(s);
    return cached;
}

/* Skips the calling cmocka test when TCP is not available yet. */
#define tcpsim_require_tcp()                                                            \
    do {                                                                                \
        if (!tcpsim_tcp_available()) {                                                  \
            print_message("SKIP: TCP not available yet (SOCK_STREAM gives "             \
                          "EPROTONOSUPPORT)\n");                                        \
            skip();                                                                     \
        }                                                                               \
    } while (0)

/* ---- Deterministic data ---- */

static inline uint64_t tcpsim_mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

/* A small PRNG for the test's own choices (sizes, timing), seeded per run. */
struct tcpsim_rng {
    uint64_t s;
};

static inline uint64_t tcpsim_rand(struct tcpsim_rng *r)
{
    r->s += 0x9e3779b97f4a7c15ull;
    return tcpsim_mix64(r->s);
}

/* Uniform in [lo, hi]. */
static inline uint64_t tcpsim_range(struct tcpsim_rng *r, uint64_t lo, uint64_t hi)
{
    return lo + tcpsim_rand(r) % (hi - lo + 1);
}

/* The byte stream of a run: len bytes that depend on the seed and on the
 * offset, so a byte delivered twice, dropped or moved is caught. */
static inline uint8_t *tcpsim_stream_new(uint64_t seed, size_t len)
{
    uint8_t *p = malloc(len ? len : 1);
    assert_non_null(p);
    for (size_t i = 0; i < len; i += 8) {
        uint64_t w = tcpsim_mix64(seed * 0x100000001b3ull + i / 8);
        size_t n = len - i < 8 ? len - i : 8;
        memcpy(p + i, &w, n);
    }
    return p;
}

/* ---- TCP_INFO ---- */

static inline const char *tcpsim_state_name(int st)
{
    switch (st) {
    case TCP_ESTABLISHED: return "ESTABLISHED";
    case TCP_SYN_SENT: return "SYN_SENT";
    case TCP_SYN_RECV: return "SYN_RECV";
    case TCP_FIN_WAIT1: return "FIN_WAIT1";
    case TCP_FIN_WAIT2: return "FIN_WAIT2";
    case TCP_TIME_WAIT: return "TIME_WAIT";
    case TCP_CLOSE: return "CLOSE";
    case TCP_CLOSE_WAIT: return "CLOSE_WAIT";
    case TCP_LAST_ACK: return "LAST_ACK";
    case TCP_LISTEN: return "LISTEN";
    case TCP_CLOSING: return "CLOSING";
    default: return "?";
    }
}

/* TCP_INFO of fd; returns false (errno set) if getsockopt fails. */
static inline bool tcpsim_info(struct ust_stack *s, int fd, struct tcp_info *ti)
{
    socklen_t len = sizeof(*ti);
    memset(ti, 0, sizeof(*ti));
    return ust_getsockopt(s, fd, IPPROTO_TCP, TCP_INFO, ti, &len) == 0;
}

/* tcpi_state of fd, or -1 if TCP_INFO cannot be read. */
static inline int tcpsim_state(struct ust_stack *s, int fd)
{
    struct tcp_info ti;
    return tcpsim_info(s, fd, &ti) ? ti.tcpi_state : -1;
}

/* poll() revents for one descriptor, without waiting. */
static inline short tcpsim_revents(struct ust_stack *s, int fd, short events)
{
    struct pollfd p = { .fd = fd, .events = events };
    int r = ust_poll(s, &p, 1, 0);
    return r > 0 ? p.revents : 0;
}

/* "state=ESTABLISHED rtt=..." for failure messages. */
static inline const char *tcpsim_info_str(struct ust_stack *s, int fd, char *buf, size_t len)
{
    struct tcp_info ti;
    if (fd < 0) {
        snprintf(buf, len, "(no fd)");
    } else if (!tcpsim_info(s, fd, &ti)) {
        snprintf(buf, len, "(TCP_INFO: %s)", strerror(errno));
    } else {
        int inq = -1, outq = -1;
        ust_ioctl(s, fd, FIONREAD, &inq);
        ust_ioctl(s, fd, SIOCOUTQ, &outq);
        snprintf(buf, len,
                 "state=%s rtt=%uus rto=%uus cwnd=%u ssthresh=%u unacked=%u "
                 "retransmits=%u total_retrans=%u inq=%d outq=%d revents=%#x",
                 tcpsim_state_name(ti.tcpi_state), ti.tcpi_rtt, ti.tcpi_rto, ti.tcpi_snd_cwnd,
                 ti.tcpi_snd_ssthresh, ti.tcpi_unacked, ti.tcpi_retransmits,
                 ti.tcpi_total_retrans, inq, outq,
                 (unsigned)tcpsim_revents(s, fd, POLLIN | POLLOUT | POLLRDHUP));
    }
    return buf;
}

/* ---- Two hosts on one link ---- */

#define TCPSIM_ADDR_A "10.0.0.1"
#define TCPSIM_ADDR_B "10.0.0.2"

struct tcpsim_net {
    uint64_t seed;
    struct ust_sim *sim;
    struct ust_stack *a, *b;       /* a = 10.0.0.1, b = 10.0.0.2 */
    struct ust_sim_link *link;
};

static inline struct sockaddr_in tcpsim_sin(const char *ip, uint16_t port)
{
    struct sockaddr_in s;
    memset(&s, 0, sizeof(s));
    s.sin_family = AF_INET;
    s.sin_port = htons(port);
    inet_pton(AF_INET, ip, &s.sin_addr);
    return s;
}

/* Two hosts, one link with impairments p (both directions, NULL = none),
 * addresses set, ARP resolved both ways before the impairments start. cfg may be NULL (then ARP entries never expire
 * during a run, so that only TCP sends frames). */
static inline void tcpsim_net_init(struct tcpsim_net *n, uint64_t seed,
                                   const struct ust_link_params *p,
                                   const struct ust_stack_config *cfg)
{
    struct ust_stack_config c;
    if (cfg) {
        c = *cfg;
    } else {
        ust_stack_config_init(&c);
        c.arp_reachable_ns = 3600 * TS_SEC;
    }
    memset(n, 0, sizeof(*n));
    n->seed = seed;
    n->sim = ust_sim_new(seed);
    SIM_ASSERT(seed, n->sim != NULL);
    n->a = ust_sim_add_host(n->sim, "A", &c);
    n->b = ust_sim_add_host(n->sim, "B", &c);
    SIM_ASSERT(seed, n->a && n->b);
    n->link = ust_sim_link_new(n->sim, n->a, n->b, NULL, NULL);
    SIM_ASSERT(seed, n->link != NULL);
    struct in_addr ia, ib;
    inet_pton(AF_INET, TCPSIM_ADDR_A, &ia);
    inet_pton(AF_INET, TCPSIM_ADDR_B, &ib);
    SIM_ASSERT_EQ(seed, ust_netif_set_ipv4(ust_sim_link_netif(n->link, 0), ia, 24), 0);
    SIM_ASSERT_EQ(seed, ust_netif_set_ipv4(ust_sim_link_netif(n->link, 1), ib, 24), 0);
    ust_sim_run_until_quiet(n->sim, 10 * TS_SEC);
    /* Resolve ARP both ways on the perfect wire (a UDP datagram each way),
     * then impair it: ARP has no checksum, and a corrupted reply would send
     * every TCP segment to a wrong MAC, which is not what these tests test. */
    struct ust_stack *hosts[2] = { n->a, n->b };
    const char *peers[2] = { TCPSIM_ADDR_B, TCPSIM_ADDR_A };
    for (int i = 0; i < 2; i++) {
        int fd = ust_socket(hosts[i], AF_INET, SOCK_DGRAM, 0);
        SIM_ASSERT(seed, fd >= 0);
        struct sockaddr_in to = tcpsim_sin(peers[i], 9);
        SIM_ASSERT_EQ(seed, ust_sendto(hosts[i], fd, "arp", 3, 0, (struct sockaddr *)&to, sizeof(to)), 3);
        ust_sim_run_until_quiet(n->sim, 10 * TS_SEC);
        ust_close(hosts[i], fd);
    }
    if (p) {
        ust_sim_link_set_params(n->link, 0, p);
        ust_sim_link_set_params(n->link, 1, p);
    }
}

static inline void tcpsim_net_free(struct tcpsim_net *n)
{
    ust_sim_free(n->sim);
    n->sim = NULL;
}

/* A non-blocking listener on host s, port, backlog. */
static inline int tcpsim_listen(struct tcpsim_net *n, struct ust_stack *s, const char *ip,
                                uint16_t port, int backlog)
{
    int fd = ust_socket(s, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    SIM_ASSERT(n->seed, fd >= 0);
    int one = 1;
    SIM_ASSERT_EQ(n->seed, ust_setsockopt(s, fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
    struct sockaddr_in sin = tcpsim_sin(ip, port);
    SIM_ASSERT_EQ(n->seed, ust_bind(s, fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    SIM_ASSERT_EQ(n->seed, ust_listen(s, fd, backlog), 0);
    return fd;
}

/* A non-blocking connect from host s to ip:port: returns the descriptor;
 * the connect itself is in progress (EINPROGRESS) or, rarely, done. */
static inline int tcpsim_connect_start(struct tcpsim_net *n, struct ust_stack *s, const char *ip,
                                       uint16_t port)
{
    int fd = ust_socket(s, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    SIM_ASSERT(n->seed, fd >= 0);
    struct sockaddr_in sin = tcpsim_sin(ip, port);
    int r = ust_connect(s, fd, (struct sockaddr *)&sin, sizeof(sin));
    if (r < 0 && errno != EINPROGRESS)
        fail_msg("connect: %s (seed=%" PRIu64 ")", strerror(errno), n->seed);
    return fd;
}

/* The errors a connection may end with cleanly. */
static inline bool tcpsim_clean_error(int err)
{
    return err == ECONNRESET || err == ETIMEDOUT || err == ECONNREFUSED || err == EPIPE ||
           err == ECONNABORTED;
}

/* Number of seeds per scenario: USTACK_TCPSIM_SEEDS, else dflt (1 when
 * USTACK_SEED asks to replay one run). */
static inline unsigned tcpsim_seed_count(unsigned dflt)
{
    const char *env = getenv("USTACK_TCPSIM_SEEDS");
    if (env && *env)
        return (unsigned)strtoul(env, NULL, 0);
    env = getenv("USTACK_SEED");
    return env && *env ? 1 : dflt;
}

#endif
