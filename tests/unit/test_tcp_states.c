/* RFC 9293 Figure 5, one test per transition, on the simulator. Each test
 * drives one connection into the "from" state, triggers the event the
 * figure names, and asserts the "to" state: through TCP_INFO's tcpi_state
 * (Linux numbering, netinet/tcp.h) while a descriptor exists, and through
 * the connection block found by its 4-tuple (ust_tcp_lookup) once the
 * descriptor is closed. Exact segments (a SYN in SYN-SENT, a RST in
 * SYN-RECEIVED) are crafted and handed straight to TCP input, as in
 * test_tcp_rfc5961.c.
 *
 * Matrix (rule -> test; "see" names a longer test elsewhere):
 *   CLOSED  -> LISTEN       passive OPEN       closed_to_listen_on_passive_open
 *   LISTEN  -> SYN-RCVD     rcv SYN            listen_to_syn_rcvd_on_syn
 *   LISTEN  -> SYN-SENT     SEND               listen_send_is_refused_like_linux (not supported,
 *                                              as in Linux: connect gives EISCONN, send EPIPE)
 *   LISTEN  -> CLOSED       CLOSE              listen_to_closed_on_close
 *   CLOSED  -> SYN-SENT     active OPEN        closed_to_syn_sent_on_active_open
 *   SYN-SENT -> CLOSED      CLOSE              syn_sent_to_closed_on_close
 *   SYN-SENT -> SYN-RCVD    rcv SYN            syn_sent_to_syn_rcvd_on_simultaneous_syn
 *                                              (see test_tcp_handshake.c simultaneous_open_...)
 *   SYN-SENT -> ESTABLISHED rcv SYN,ACK        syn_sent_to_established_on_syn_ack
 *   SYN-RCVD -> ESTABLISHED rcv ACK of SYN     syn_rcvd_to_established_on_ack (passive and
 *                                              simultaneous-open sides)
 *   SYN-RCVD -> FIN-WAIT-1  CLOSE              syn_rcvd_to_fin_wait_1_on_close
 *   SYN-RCVD -> LISTEN      rcv RST (passive)  syn_rcvd_rst_leaves_listener_listening
 *                                              (see test_tcp_rfc5961.c rst_in_syn_received_...)
 *   ESTABLISHED -> FIN-WAIT-1 CLOSE            established_to_fin_wait_1_on_close
 *   ESTABLISHED -> CLOSE-WAIT rcv FIN          established_to_close_wait_on_fin
 *   FIN-WAIT-1 -> FIN-WAIT-2 rcv ACK of FIN    fin_wait_1_to_fin_wait_2_on_ack
 *   FIN-WAIT-1 -> CLOSING    rcv FIN           fin_wait_1_to_closing_on_fin
 *                                              (see test_tcp_close.c simultaneous_close_...)
 *   FIN-WAIT-2 -> TIME-WAIT  rcv FIN           fin_wait_2_to_time_wait_on_fin
 *   CLOSING  -> TIME-WAIT    rcv ACK of FIN    closing_to_time_wait_on_ack
 *   CLOSE-WAIT -> LAST-ACK   CLOSE             close_wait_to_last_ack_on_close
 *   LAST-ACK -> CLOSED       rcv ACK of FIN    last_ack_to_closed_on_ack
 *   TIME-WAIT -> CLOSED      2 MSL timeout     time_wait_to_closed_after_2msl
 *                                              (see test_tcp_close.c active_close_...) */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "unit/sim_test_util.h"
#include "unit/tcp_test_util.h"

#define IP_A 0x0a000001u
#define IP_B 0x0a000002u

/* tcpi_state of fd (Linux numbering: TCP_ESTABLISHED... in netinet/tcp.h). */
static int istate(struct ust_stack *s, int fd)
{
    struct tcp_info ti;
    socklen_t len = sizeof(ti);
    if (ust_getsockopt(s, fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0)
        return -1;
    return ti.tcpi_state;
}

static uint16_t lport_of(struct ust_stack *s, int fd)
{
    struct sockaddr_in me;
    socklen_t l = sizeof(me);
    assert_int_equal(ust_getsockname(s, fd, (struct sockaddr *)&me, &l), 0);
    return ntohs(me.sin_port);
}

/* The connection block on `s` for (laddr:lport, raddr:rport), orphans
 * included; the state or -1 when there is none. */
static int conn_state(struct ust_stack *s, uint32_t laddr, uint16_t lport, uint32_t raddr,
                      uint16_t rport)
{
    struct ust_tcb *t = ust_tcp_lookup(s, laddr, lport, raddr, rport);
    return t ? (int)t->state : -1;
}

/* A crafted option-less segment from saddr:sport to daddr:dport, handed to
 * stack's TCP input. */
static void inject(struct ust_stack *s, uint32_t saddr, uint16_t sport, uint32_t daddr,
                   uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags)
{
    struct ust_fbuf *fb = ust_fbuf_alloc(s, UST_TCP_MIN_HLEN);
    assert_non_null(fb);
    uint8_t *p = ust_fbuf_put(fb, UST_TCP_MIN_HLEN);
    struct ust_tcp_hdr h = {
        .sport = sport, .dport = dport, .seq = seq, .ack = ack, .flags = flags, .win = 8192,
    };
    ust_tcp_emit(p, UST_TCP_MIN_HLEN, &h);
    ust_tcp_set_csum(p, UST_TCP_MIN_HLEN, saddr, daddr);
    struct ust_ipv4_hdr ih = { .hlen = 20, .ttl = 64, .proto = UST_IPPROTO_TCP,
                               .src = saddr, .dst = daddr, .total_len = 20 + UST_TCP_MIN_HLEN };
    ust_tcp_input(s, fb, &ih);
}

/* A's socket bound to 10.0.0.1:5000 in SYN-SENT towards 10.0.0.2:6000 with
 * the wire cut (its SYN never arrives), then a crafted SYN from B's side:
 * the simultaneous open of Figure 5 (SYN-SENT -> SYN-RECEIVED). *peer_isn
 * is the ISN the crafted SYN used. */
static int simultaneous_syn_rcvd(struct tnet *n, uint32_t *peer_isn)
{
    int fd = tsock(n, n->a);
    struct sockaddr_in la = tsin("10.0.0.1", 5000), rb = tsin("10.0.0.2", 6000);
    SIM_ASSERT_EQ(n->seed, ust_bind(n->a, fd, (struct sockaddr *)&la, sizeof(la)), 0);
    ust_sim_link_set_up(n->link, false);
    SIM_ASSERT_EQ(n->seed, ust_connect(n->a, fd, (struct sockaddr *)&rb, sizeof(rb)), -1);
    SIM_ASSERT_EQ(n->seed, errno, EINPROGRESS);
    SIM_ASSERT_EQ(n->seed, istate(n->a, fd), TCP_SYN_SENT);
    *peer_isn = 777000u;
    inject(n->a, IP_B, 6000, IP_A, 5000, *peer_isn, 0, UST_TCP_SYN);
    return fd;
}

static void closed_to_listen_on_passive_open(void **state)
{
    (void)state;
    struct tnet n;
    uint64_t seed = sim_test_seed(501);
    tnet_setup(&n, seed, NULL);
    int fd = tsock(&n, n.b);
    SIM_ASSERT_EQ(seed, istate(n.b, fd), TCP_CLOSE);
    struct sockaddr_in sb = tsin("10.0.0.2", 80);
    SIM_ASSERT_EQ(seed, ust_bind(n.b, fd, (struct sockaddr *)&sb, sizeof(sb)), 0);
    SIM_ASSERT_EQ(seed, istate(n.b, fd), TCP_CLOSE);
    SIM_ASSERT_EQ(seed, ust_listen(n.b, fd, 4), 0);
    SIM_ASSERT_EQ(seed, istate(n.b, fd), TCP_LISTEN);
    SIM_ASSERT(seed, ust_tcp_lookup_listener(n.b, IP_B, 80) == ttcb(n.b, fd));
    ust_sim_free(n.sim);
}

static void listen_to_syn_rcvd_on_syn(void **state)
{
    (void)state;
    struct tnet n;
    uint64_t seed = sim_test_seed(502);
    tnet_setup(&n, seed, NULL);
    int lfd = tlisten(&n, 80, 4);
    int fd = tsock(&n, n.a);
    struct sockaddr_in sb = tsin("10.0.0.2", 80);
    ust_connect(n.a, fd, (struct sockaddr *)&sb, sizeof(sb));
    uint16_t ap = lport_of(n.a, fd);
    /* Step until the SYN has arrived, before A's ACK of the SYN-ACK can. */
    int st = -1;
    for (int i = 0; i < 2000 && st < 0; i++) {
        ust_sim_run_until(n.sim, ust_sim_now(n.sim) + 100 * UST_NSEC_PER_USEC);
        st = conn_state(n.b, IP_B, 80, IP_A, ap);
    }
    SIM_ASSERT_EQ(seed, st, UST_TCP_SYN_RECEIVED);
    SIM_ASSERT_EQ(seed, istate(n.b, lfd), TCP_LISTEN);      /* the listener stays */
    SIM_ASSERT_EQ(seed, ttcb(n.b, lfd)->syn_len, 1);
    ust_sim_free(n.sim);
}

/* Figure 5's LISTEN --SEND--> SYN-SENT is optional in RFC 9293 (3.10.2)
 * and Linux does not offer it: a listening socket cannot connect (EISCONN)
 * and send fails with EPIPE. ustack follows Linux; the listener stays. */
static void listen_send_is_refused_like_linux(void **state)
{
    (void)state;
    struct tnet n;
    uint64_t seed = sim_test_seed(503);
    tnet_setup(&n, seed, NULL);
    int lfd = tlisten(&n, 80, 4);
    struct sockaddr_in sa = tsin("10.0.0.1", 7);
    SIM_ASSERT_EQ(seed, ust_connect(n.b, lfd, (struct sockaddr *)&sa, sizeof(sa)), -1);
    SIM_ASSERT_EQ(seed, errno, EISCONN);
    SIM_ASSERT_EQ(seed, ust_send(n.b, lfd, "x", 1, MSG_NOSIGNAL), -1);
    SIM_ASSERT_EQ(seed, errno, EPIPE);
    SIM_ASSERT_EQ(seed, istate(n.b, lfd), TCP_LISTEN);
    ust_sim_free(n.sim);
}

static void listen_to_closed_on_close(void **state)
{
    (void)state;
    struct tnet n;
    uint64_t seed = sim_test_seed(504);
    tnet_setup(&n, seed, NULL);
    /* shutdown keeps the descriptor, so the state can be read... */
    int lfd = tlisten(&n, 80, 4);
    SIM_ASSERT_EQ(seed, ust_shutdown(n.b, lfd, SHUT_RDWR), 0);
    SIM_ASSERT_EQ(seed, istate(n.b, lfd), TCP_CLOSE);
    SIM_ASSERT(seed, ust_tcp_lookup_listener(n.b, IP_B, 80) == NULL);
    SIM_ASSERT_EQ(seed, ust_close(n.b, lfd), 0);
    /* ...close drops the listener: a SYN now meets a RST. */
    lfd = tlisten(&n, 81, 4);
    SIM_ASSERT_EQ(seed, ust_close(n.b, lfd), 0);
    SIM_ASSERT(seed, ust_tcp_lookup_listener(n.b, IP_B, 81) == NULL);
    int fd = tsock(&n, n.a);
    struct sockaddr_in sb = tsin("10.0.0.2", 81);
    ust_connect(n.a, fd, (struct sockaddr *)&sb, sizeof(sb));
    tnet_run(&n, 100 * TMS);
    SIM_ASSERT_EQ(seed, istate(n.a, fd), TCP_CLOSE);
    int err = 0;
    socklen_t el = sizeof(err);
    SIM_ASSERT_EQ(seed, ust_getsockopt(n.a, fd, SOL_SOCKET, SO_ERROR, &err, &el), 0);
    SIM_ASSERT_EQ(seed, err, ECONNREFUSED);
    ust_sim_free(n.sim);
}

static void closed_to_syn_sent_on_active_open(void **state)
{
    (void)state;
    struct tnet n;
    uint64_t seed = sim_test_seed(505);
    tnet_setup(&n, seed, NULL);
    int fd = tsock(&n, n.a);
    SIM_ASSERT_EQ(seed, istate(n.a, fd), TCP_CLOSE);
    struct sockaddr_in sb = tsin("10.0.0.2", 80);
    SIM_ASSERT_EQ(seed, ust_connect(n.a, fd, (struct sockaddr *)&sb, sizeof(sb)), -1);
    SIM_ASSERT_EQ(seed, errno, EINPROGRESS);
    SIM_ASSERT_EQ(seed, istate(n.a, fd), TCP_SYN_SENT);
    ust_sim_free(n.sim);
}

static void syn_sent_to_closed_on_close(void **state)
{
    (void)state;
    struct tnet n;
    uint64_t seed = sim_test_seed(506);
    tnet_setup(&n, seed, NULL);
    ust_sim_link_set_up(n.link, false);
    struct sockaddr_in sb = tsin("10.0.0.2", 80);
    /* shutdown in SYN-SENT: CLOSED, the descriptor stays. */
    int fd = tsock(&n, n.a);
    ust_connect(n.a, fd, (struct sockaddr *)&sb, sizeof(sb));
    SIM_ASSERT_EQ(seed, istate(n.a, fd), TCP_SYN_SENT);
    SIM_ASSERT_EQ(seed, ust_shutdown(n.a, fd, SHUT_RDWR), 0);
    SIM_ASSERT_EQ(seed, istate(n.a, fd), TCP_CLOSE);
    /* close in SYN-SENT: the block is gone at once (RFC 9293 3.10.4). */
    int fd2 = tsock(&n, n.a);
    ust_connect(n.a, fd2, (struct sockaddr *)&sb, sizeof(sb));
    uint16_t ap = lport_of(n.a, fd2);
    SIM_ASSERT_EQ(seed, conn_state(n.a, IP_A, ap, IP_B, 80), UST_TCP_SYN_SENT);
    SIM_ASSERT_EQ(seed, ust_close(n.a, fd2), 0);
    SIM_ASSERT_EQ(seed, conn_state(n.a, IP_A, ap, IP_B, 80), -1);
    ust_sim_free(n.sim);
}

static void syn_sent_to_syn_rcvd_on_simultaneous_syn(void **state)
{
    (void)state;
    struct tnet n;
    uint64_t seed = sim_test_seed(507);
    tnet_setup(&n, seed, NULL);
    uint32_t pisn;
    int fd = simultaneous_syn_rcvd(&n, &pisn);
    SIM_ASSERT_EQ(seed, istate(n.a, fd), TCP_SYN_RECV);
    struct ust_tcb *t = ttcb(n.a, fd);
    SIM_ASSERT_EQ(seed, t->irs, pisn);
    SIM_ASSERT_EQ(seed, t->rcv_nxt, pisn + 1);
    ust_sim_free(n.sim);
}

static void syn_sent_to_established_on_syn_ack(void **state)
{
    (void)state;
    struct tnet n;
    uint64_t seed = sim_test_seed(508);
    tnet_setup(&n, seed, NULL);
    int lfd = tlisten(&n, 80, 4);
    int fd = tsock(&n, n.a);
    struct sockaddr_in sb = tsin("10.0.0.2", 80);
    ust_connect(n.a, fd, (struct sockaddr *)&sb, sizeof(sb));
    int seen_syn_sent = 0;
    for (int i = 0; i < 2000 && istate(n.a, fd) != TCP_ESTABLISHED; i++) {
        SIM_ASSERT_EQ(seed, istate(n.a, fd), TCP_SYN_SENT);   /* nothing in between */
        seen_syn_sent++;
        ust_sim_run_until(n.sim, ust_sim_now(n.sim) + 100 * UST_NSEC_PER_USEC);
    }
    SIM_ASSERT(seed, seen_syn_sent > 0);
    SIM_ASSERT_EQ(seed, istate(n.a, fd), TCP_ESTABLISHED);
    tnet_run(&n, 10 * TMS);
    int cfd = ust_accept(n.b, lfd, NULL, NULL);
    SIM_ASSERT(seed, cfd >= 0);
    SIM_ASSERT_EQ(seed, istate(n.b, cfd), TCP_ESTABLISHED);
    ust_sim_free(n.sim);
}

static void syn_rcvd_to_established_on_ack(void **state)
{
    (void)state;
    struct tnet n;
    uint64_t seed = sim_test_seed(509);
    tnet_setup(&n, seed, NULL);
    /* Passive side: the listener's child. */
    int lfd = tlisten(&n, 80, 4);
    int fd = tsock(&n, n.a);
    struct sockaddr_in sb = tsin("10.0.0.2", 80);
    ust_connect(n.a, fd, (struct sockaddr *)&sb, sizeof(sb));
    uint16_t ap = lport_of(n.a, fd);
    int st = -1;
    for (int i = 0; i < 2000 && st != UST_TCP_ESTABLISHED; i++) {
        SIM_ASSERT(seed, st == -1 || st == UST_TCP_SYN_RECEIVED);
        ust_sim_run_until(n.sim, ust_sim_now(n.sim) + 100 * UST_NSEC_PER_USEC);
        st = conn_state(n.b, IP_B, 80, IP_A, ap);
    }
    SIM_ASSERT_EQ(seed, st, UST_TCP_ESTABLISHED);
    int cfd = ust_accept(n.b, lfd, NULL, NULL);
    SIM_ASSERT(seed, cfd >= 0);
    SIM_ASSERT_EQ(seed, istate(n.b, cfd), TCP_ESTABLISHED);
    ust_sim_free(n.sim);

    /* Simultaneous-open side: the ACK of our SYN (RFC 9293 3.10.7.4). */
    tnet_setup(&n, seed, NULL);
    uint32_t pisn;
    fd = simultaneous_syn_rcvd(&n, &pisn);
    struct ust_tcb *t = ttcb(n.a, fd);
    inject(n.a, IP_B, 6000, IP_A, 5000, pisn + 1, t->iss + 1, UST_TCP_ACK);
    SIM_ASSERT_EQ(seed, istate(n.a, fd), TCP_ESTABLISHED);
    SIM_ASSERT_EQ(seed, t->snd_una, t->iss + 1);
    ust_sim_free(n.sim);
}

static void syn_rcvd_to_fin_wait_1_on_close(void **state)
{
    (void)state;
    struct tnet n;
    uint64_t seed = sim_test_seed(510);
    tnet_setup(&n, seed, NULL);
    uint32_t pisn;
    int fd = simultaneous_syn_rcvd(&n, &pisn);
    SIM_ASSERT_EQ(seed, istate(n.a, fd), TCP_SYN_RECV);
    struct ust_tcb *t = ttcb(n.a, fd);
    uint32_t iss = t->iss;
    SIM_ASSERT_EQ(seed, ust_close(n.a, fd), 0);
    SIM_ASSERT_EQ(seed, conn_state(n.a, IP_A, 5000, IP_B, 6000), UST_TCP_FIN_WAIT_1);
    /* The FIN follows once the SYN is acknowledged; its ACK then gives
     * FIN-WAIT-2. */
    inject(n.a, IP_B, 6000, IP_A, 5000, pisn + 1, iss + 1, UST_TCP_ACK);
    t = ust_tcp_lookup(n.a, IP_A, 5000, IP_B, 6000);
    SIM_ASSERT(seed, t != NULL);
    SIM_ASSERT_EQ(seed, t->state, UST_TCP_FIN_WAIT_1);
    SIM_ASSERT_EQ(seed, t->snd_max, iss + 2);       /* the FIN went out */
    inject(n.a, IP_B, 6000, IP_A, 5000, pisn + 1, iss + 2, UST_TCP_ACK);
    SIM_ASSERT_EQ(seed, conn_state(n.a, IP_A, 5000, IP_B, 6000), UST_TCP_FIN_WAIT_2);
    ust_sim_free(n.sim);
}

/* The passive child in SYN-RECEIVED is reset: it goes, the listener keeps
 * listening and the next connection succeeds. The RST rules themselves are
 * in test_tcp_rfc5961.c rst_in_syn_received_drops_the_child. */
static void syn_rcvd_rst_leaves_listener_listening(void **state)
{
    (void)state;
    struct tnet n;
    uint64_t seed = sim_test_seed(511);
    tnet_setup(&n, seed, NULL);
    int lfd = tlisten(&n, 80, 4);
    int fd = tsock(&n, n.a);
    struct sockaddr_in sb = tsin("10.0.0.2", 80);
    ust_connect(n.a, fd, (struct sockaddr *)&sb, sizeof(sb));
    uint16_t ap = lport_of(n.a, fd);
    struct ust_tcb *child = NULL;
    for (int i = 0; i < 2000 && !child; i++) {
        ust_sim_run_until(n.sim, ust_sim_now(n.sim) + 100 * UST_NSEC_PER_USEC);
        child = ust_tcp_lookup(n.b, IP_B, 80, IP_A, ap);
    }
    ust_sim_link_set_up(n.link, false);
    SIM_ASSERT(seed, child != NULL);
    SIM_ASSERT_EQ(seed, child->state, UST_TCP_SYN_RECEIVED);
    inject(n.b, IP_A, ap, IP_B, 80, child->rcv_nxt, 0, UST_TCP_RST);
    SIM_ASSERT_EQ(seed, conn_state(n.b, IP_B, 80, IP_A, ap), -1);
    SIM_ASSERT_EQ(seed, istate(n.b, lfd), TCP_LISTEN);
    SIM_ASSERT_EQ(seed, ttcb(n.b, lfd)->syn_len, 0);
    ust_sim_link_set_up(n.link, true);
    int afd;
    int cfd = tconnect_pair(&n, lfd, 80, &afd);
    SIM_ASSERT_EQ(seed, istate(n.b, cfd), TCP_ESTABLISHED);
    ust_sim_free(n.sim);
}

static void established_to_fin_wait_1_on_close(void **state)
{
    (void)state;
    struct tnet n;
    uint64_t seed = sim_test_seed(512);
    tnet_setup(&n, seed, NULL);
    int lfd = tlisten(&n, 80, 4), afd;
    tconnect_pair(&n, lfd, 80, &afd);
    uint16_t ap = lport_of(n.a, afd);
    SIM_ASSERT_EQ(seed, istate(n.a, afd), TCP_ESTABLISHED);
    SIM_ASSERT_EQ(seed, ust_close(n.a, afd), 0);
    SIM_ASSERT_EQ(seed, conn_state(n.a, IP_A, ap, IP_B, 80), UST_TCP_FIN_WAIT_1);
    ust_sim_free(n.sim);
}

static void established_to_close_wait_on_fin(void **state)
{
    (void)state;
    struct tnet n;
    uint64_t seed = sim_test_seed(513);
    tnet_setup(&n, seed, NULL);
    int lfd = tlisten(&n, 80, 4), afd;
    int bfd = tconnect_pair(&n, lfd, 80, &afd);
    SIM_ASSERT_EQ(seed, ust_shutdown(n.a, afd, SHUT_WR), 0);
    SIM_ASSERT_EQ(seed, istate(n.b, bfd), TCP_ESTABLISHED);
    tnet_run(&n, 50 * TMS);
    SIM_ASSERT_EQ(seed, istate(n.b, bfd), TCP_CLOSE_WAIT);
    ust_sim_free(n.sim);
}

static void fin_wait_1_to_fin_wait_2_on_ack(void **state)
{
    (void)state;
    struct tnet n;
    uint64_t seed = sim_test_seed(514);
    tnet_setup(&n, seed, NULL);
    int lfd = tlisten(&n, 80, 4), afd;
    tconnect_pair(&n, lfd, 80, &afd);
    SIM_ASSERT_EQ(seed, ust_shutdown(n.a, afd, SHUT_WR), 0);
    SIM_ASSERT_EQ(seed, istate(n.a, afd), TCP_FIN_WAIT1);
    tnet_run(&n, 50 * TMS);
    SIM_ASSERT_EQ(seed, istate(n.a, afd), TCP_FIN_WAIT2);
    ust_sim_free(n.sim);
}

/* Both FINs cross on the wire (see also test_tcp_close.c
 * simultaneous_close_goes_through_closing). */
static void fin_wait_1_to_closing_on_fin(void **state)
{
    (void)state;
    struct tnet n;
    uint64_t seed = sim_test_seed(515);
    tnet_setup(&n, seed, NULL);
    int lfd = tlisten(&n, 80, 4), afd;
    int bfd = tconnect_pair(&n, lfd, 80, &afd);
    struct ust_tcb *t = ttcb(n.a, afd);
    /* A's FIN is lost on the cut wire; B's FIN arrives (crafted) before any
     * ACK of A's. */
    ust_sim_link_set_up(n.link, false);
    SIM_ASSERT_EQ(seed, ust_shutdown(n.a, afd, SHUT_WR), 0);
    SIM_ASSERT_EQ(seed, istate(n.a, afd), TCP_FIN_WAIT1);
    inject(n.a, IP_B, 80, IP_A, t->sk.lport, t->rcv_nxt, t->snd_una, UST_TCP_FIN | UST_TCP_ACK);
    SIM_ASSERT_EQ(seed, istate(n.a, afd), TCP_CLOSING);
    (void)bfd;
    ust_sim_free(n.sim);
}

static void fin_wait_2_to_time_wait_on_fin(void **state)
{
    (void)state;
    struct tnet n;
    uint64_t seed = sim_test_seed(516);
    tnet_setup(&n, seed, NULL);
    int lfd = tlisten(&n, 80, 4), afd;
    int bfd = tconnect_pair(&n, lfd, 80, &afd);
    SIM_ASSERT_EQ(seed, ust_shutdown(n.a, afd, SHUT_WR), 0);
    tnet_run(&n, 50 * TMS);
    SIM_ASSERT_EQ(seed, istate(n.a, afd), TCP_FIN_WAIT2);
    SIM_ASSERT_EQ(seed, ust_shutdown(n.b, bfd, SHUT_WR), 0);
    tnet_run(&n, 50 * TMS);
    SIM_ASSERT_EQ(seed, istate(n.a, afd), TCP_TIME_WAIT);
    ust_sim_free(n.sim);
}

static void closing_to_time_wait_on_ack(void **state)
{
    (void)state;
    struct tnet n;
    uint64_t seed = sim_test_seed(517);
    tnet_setup(&n, seed, NULL);
    int lfd = tlisten(&n, 80, 4), afd;
    tconnect_pair(&n, lfd, 80, &afd);
    struct ust_tcb *t = ttcb(n.a, afd);
    ust_sim_link_set_up(n.link, false);
    SIM_ASSERT_EQ(seed, ust_shutdown(n.a, afd, SHUT_WR), 0);
    uint32_t fin_end = t->snd_max;
    inject(n.a, IP_B, 80, IP_A, t->sk.lport, t->rcv_nxt, t->snd_una, UST_TCP_FIN | UST_TCP_ACK);
    SIM_ASSERT_EQ(seed, istate(n.a, afd), TCP_CLOSING);
    /* An ACK short of the FIN changes nothing; the ACK of the FIN does. */
    inject(n.a, IP_B, 80, IP_A, t->sk.lport, t->rcv_nxt, fin_end - 1, UST_TCP_ACK);
    SIM_ASSERT_EQ(seed, istate(n.a, afd), TCP_CLOSING);
    inject(n.a, IP_B, 80, IP_A, t->sk.lport, t->rcv_nxt, fin_end, UST_TCP_ACK);
    SIM_ASSERT_EQ(seed, istate(n.a, afd), TCP_TIME_WAIT);
    ust_sim_free(n.sim);
}

static void close_wait_to_last_ack_on_close(void **state)
{
    (void)state;
    struct tnet n;
    uint64_t seed = sim_test_seed(518);
    tnet_setup(&n, seed, NULL);
    int lfd = tlisten(&n, 80, 4), afd;
    int bfd = tconnect_pair(&n, lfd, 80, &afd);
    SIM_ASSERT_EQ(seed, ust_shutdown(n.a, afd, SHUT_WR), 0);
    tnet_run(&n, 50 * TMS);
    SIM_ASSERT_EQ(seed, istate(n.b, bfd), TCP_CLOSE_WAIT);
    /* Through shutdown (descriptor kept) and through close. */
    SIM_ASSERT_EQ(seed, ust_shutdown(n.b, bfd, SHUT_WR), 0);
    SIM_ASSERT_EQ(seed, istate(n.b, bfd), TCP_LAST_ACK);
    ust_sim_free(n.sim);

    tnet_setup(&n, seed, NULL);
    lfd = tlisten(&n, 80, 4);
    bfd = tconnect_pair(&n, lfd, 80, &afd);
    uint16_t ap = lport_of(n.a, afd);
    SIM_ASSERT_EQ(seed, ust_shutdown(n.a, afd, SHUT_WR), 0);
    tnet_run(&n, 50 * TMS);
    char c;
    SIM_ASSERT_EQ(seed, ust_recv(n.b, bfd, &c, 1, 0), 0);      /* EOF read: no RST */
    SIM_ASSERT_EQ(seed, ust_close(n.b, bfd), 0);
    SIM_ASSERT_EQ(seed, conn_state(n.b, IP_B, 80, IP_A, ap), UST_TCP_LAST_ACK);
    ust_sim_free(n.sim);
}

static void last_ack_to_closed_on_ack(void **state)
{
    (void)state;
    struct tnet n;
    uint64_t seed = sim_test_seed(519);
    tnet_setup(&n, seed, NULL);
    int lfd = tlisten(&n, 80, 4), afd;
    int bfd = tconnect_pair(&n, lfd, 80, &afd);
    SIM_ASSERT_EQ(seed, ust_shutdown(n.a, afd, SHUT_WR), 0);
    tnet_run(&n, 50 * TMS);
    SIM_ASSERT_EQ(seed, ust_shutdown(n.b, bfd, SHUT_WR), 0);
    SIM_ASSERT_EQ(seed, istate(n.b, bfd), TCP_LAST_ACK);
    tnet_run(&n, 50 * TMS);
    SIM_ASSERT_EQ(seed, istate(n.b, bfd), TCP_CLOSE);
    /* An orphan in LAST-ACK is freed by the ACK. */
    uint16_t ap = lport_of(n.a, afd);
    SIM_ASSERT_EQ(seed, conn_state(n.b, IP_B, 80, IP_A, ap), -1);
    ust_sim_free(n.sim);
}

/* See also test_tcp_close.c active_close_fin_wait_time_wait_closed. */
static void time_wait_to_closed_after_2msl(void **state)
{
    (void)state;
    struct tnet n;
    uint64_t seed = sim_test_seed(520);
    tnet_setup(&n, seed, NULL);
    int lfd = tlisten(&n, 80, 4), afd;
    int bfd = tconnect_pair(&n, lfd, 80, &afd);
    SIM_ASSERT_EQ(seed, ust_shutdown(n.a, afd, SHUT_WR), 0);
    tnet_run(&n, 50 * TMS);
    SIM_ASSERT_EQ(seed, ust_shutdown(n.b, bfd, SHUT_WR), 0);
    tnet_run(&n, 50 * TMS);
    SIM_ASSERT_EQ(seed, istate(n.a, afd), TCP_TIME_WAIT);
    uint64_t t0 = ust_sim_now(n.sim);
    uint64_t msl2 = n.a->cfg.tcp_timewait_ns;
    SIM_ASSERT_EQ(seed, msl2, 60 * TSEC);
    ust_sim_run_until(n.sim, t0 + msl2 - 200 * TMS);
    SIM_ASSERT_EQ(seed, istate(n.a, afd), TCP_TIME_WAIT);
    ust_sim_run_until(n.sim, t0 + msl2 + 200 * TMS);
    SIM_ASSERT_EQ(seed, istate(n.a, afd), TCP_CLOSE);
    ust_sim_free(n.sim);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(closed_to_listen_on_passive_open),
        cmocka_unit_test(listen_to_syn_rcvd_on_syn),
        cmocka_unit_test(listen_send_is_refused_like_linux),
        cmocka_unit_test(listen_to_closed_on_close),
        cmocka_unit_test(closed_to_syn_sent_on_active_open),
        cmocka_unit_test(syn_sent_to_closed_on_close),
        cmocka_unit_test(syn_sent_to_syn_rcvd_on_simultaneous_syn),
        cmocka_unit_test(syn_sent_to_established_on_syn_ack),
        cmocka_unit_test(syn_rcvd_to_established_on_ack),
        cmocka_unit_test(syn_rcvd_to_fin_wait_1_on_close),
        cmocka_unit_test(syn_rcvd_rst_leaves_listener_listening),
        cmocka_unit_test(established_to_fin_wait_1_on_close),
        cmocka_unit_test(established_to_close_wait_on_fin),
        cmocka_unit_test(fin_wait_1_to_fin_wait_2_on_ack),
        cmocka_unit_test(fin_wait_1_to_closing_on_fin),
        cmocka_unit_test(fin_wait_2_to_time_wait_on_fin),
        cmocka_unit_test(closing_to_time_wait_on_ack),
        cmocka_unit_test(close_wait_to_last_ack_on_close),
        cmocka_unit_test(last_ack_to_closed_on_ack),
        cmocka_unit_test(time_wait_to_closed_after_2msl),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
