/* Helpers for the TCP tests on the simulator: two hosts A (10.0.0.1) and B
 * (10.0.0.2) on one link, non-blocking sockets, virtual time. Include after
 * <cmocka.h> and sim_test_util.h. */
#ifndef UST_TESTS_TCP_TEST_UTIL_H
#define UST_TESTS_TCP_TEST_UTIL_H

#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <string.h>

#include <ustack/ustack.h>

#include "core/util.h"
#include "sock/sock.h"
#include "stack/stack_impl.h"
#include "tcp/tcp.h"

#define TMS UST_NSEC_PER_MSEC
#define TSEC UST_NSEC_PER_SEC

struct tnet {
    uint64_t seed;
    struct ust_sim *sim;
    struct ust_stack *a, *b;
    struct ust_sim_link *link;
};

static inline struct sockaddr_in tsin(const char *ip, uint16_t port)
{
    struct sockaddr_in s;
    memset(&s, 0, sizeof(s));
    s.sin_family = AF_INET;
    s.sin_port = htons(port);
    inet_pton(AF_INET, ip, &s.sin_addr);
    return s;
}

/* p: impairments both ways (NULL: a perfect 1 ms wire). */
static inline void tnet_setup(struct tnet *n, uint64_t seed, const struct ust_link_params *p)
{
    memset(n, 0, sizeof(*n));
    n->seed = seed;
    struct ust_stack_config cfg;
    ust_stack_config_init(&cfg);
    cfg.arp_reachable_ns = 36000 * TSEC;
    n->sim = ust_sim_new(seed);
    assert_non_null(n->sim);
    n->a = ust_sim_add_host(n->sim, "A", &cfg);
    n->b = ust_sim_add_host(n->sim, "B", &cfg);
    struct ust_link_params dflt = { .delay_ns = 1 * TMS };
    n->link = ust_sim_link_new(n->sim, n->a, n->b, p ? p : &dflt, p ? p : &dflt);
    assert_non_null(n->link);
    struct in_addr ia, ib;
    inet_pton(AF_INET, "10.0.0.1", &ia);
    inet_pton(AF_INET, "10.0.0.2", &ib);
    SIM_ASSERT_EQ(seed, ust_netif_set_ipv4(ust_sim_link_netif(n->link, 0), ia, 24), 0);
    SIM_ASSERT_EQ(seed, ust_netif_set_ipv4(ust_sim_link_netif(n->link, 1), ib, 24), 0);
    ust_sim_run_until_quiet(n->sim, 10 * TSEC);
}

static inline void tnet_run(struct tnet *n, uint64_t dt)
{
    ust_sim_run_until(n->sim, ust_sim_now(n->sim) + dt);
}

/* A non-blocking TCP socket on stack s. */
static inline int tsock(struct tnet *n, struct ust_stack *s)
{
    int fd = ust_socket(s, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    SIM_ASSERT(n->seed, fd >= 0);
    return fd;
}

/* A listener on B:port. */
static inline int tlisten(struct tnet *n, uint16_t port, int backlog)
{
    int fd = tsock(n, n->b);
    struct sockaddr_in sb = tsin("10.0.0.2", port);
    SIM_ASSERT_EQ(n->seed, ust_bind(n->b, fd, (struct sockaddr *)&sb, sizeof(sb)), 0);
    SIM_ASSERT_EQ(n->seed, ust_listen(n->b, fd, backlog), 0);
    return fd;
}

/* The connection block behind a descriptor (white-box checks). */
static inline struct ust_tcb *ttcb(struct ust_stack *s, int fd)
{
    struct ust_socket *so = NULL;
    if (ust_sock_lookup(s, fd, &so) != 0)
        return NULL;
    return so->pcb;
}

static inline int tstate(struct ust_stack *s, int fd)
{
    struct ust_tcb *t = ttcb(s, fd);
    return t ? (int)t->state : -1;
}

/* A connects to B:port (listener lfd); returns the accepted fd on B and the
 * connected one on A in *afd. */
static inline int tconnect_pair(struct tnet *n, int lfd, uint16_t port, int *afd)
{
    int fd = tsock(n, n->a);
    struct sockaddr_in sb = tsin("10.0.0.2", port);
    int r = ust_connect(n->a, fd, (struct sockaddr *)&sb, sizeof(sb));
    SIM_ASSERT(n->seed, r == -1 && errno == EINPROGRESS);
    int cfd = -1;
    for (int i = 0; i < 3000 && cfd < 0; i++) {
        tnet_run(n, 10 * TMS);
        cfd = ust_accept4(n->b, lfd, NULL, NULL, SOCK_NONBLOCK);
    }
    SIM_ASSERT(n->seed, cfd >= 0);
    SIM_ASSERT_EQ(n->seed, tstate(n->a, fd), UST_TCP_ESTABLISHED);
    /* Linux: the connect after a completed non-blocking one returns 0. */
    SIM_ASSERT_EQ(n->seed, ust_connect(n->a, fd, (struct sockaddr *)&sb, sizeof(sb)), 0);
    *afd = fd;
    return cfd;
}

#endif
