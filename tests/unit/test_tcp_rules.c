/* TCP rules of the reference checked one by one against a scripted peer
 * (test_tcp_rules_peer.h): the test crafts every segment the peer sends and
 * asserts on the segments the stack puts on the link, their virtual times,
 * TCP_INFO and the counters.
 *  - PAWS (RFC 7323 5): an old TSval is dropped, ACKed and counted
 *    (Tcp.PAWSEstab), modulo 2^32; a RST is exempt; a segment without a
 *    timestamp is accepted, as Linux does;
 *  - MSS 536 when the peer's SYN has no MSS option (RFC 9293 3.7.1);
 *  - delayed ACK: at least every second full-sized segment (RFC 1122
 *    4.2.3.2, RFC 9293 3.8.6.3), an immediate ACK with SACK blocks for
 *    out-of-order data and for the segment filling a hole (RFC 5681 4.2,
 *    RFC 2018 4);
 *  - ISN: a keyed hash of the 4-tuple plus a 4 us clock (RFC 6528 3);
 *  - challenge ACKs: at most 1000 per second per stack (RFC 5961 7);
 *  - defaults: keepalive 7200/75/9 (and their timing), somaxconn 4096,
 *    RTO max 120 s, TIME-WAIT 60 s and configurable;
 *  - close() in SYN-RECEIVED sends a FIN and enters FIN-WAIT-1 (RFC 9293
 *    Figure 5, 3.10.4; Linux tcp_close_state);
 *  - TIME-WAIT reuse by a new SYN (RFC 6191, Linux
 *    tcp_timewait_state_process): newer timestamp, else higher sequence;
 *    a refused SYN draws the TIME-WAIT ACK. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/ioctl.h>

#include <cmocka.h>

#include "unit/test_tcp_rules_peer.h"

static int inq(struct tp *p, int fd)
{
    int n = -1;
    assert_int_equal(ust_ioctl(p->stack, fd, FIONREAD, &n), 0);
    return n;
}

/* A connection the peer opened to the stack's listener on port 80, with
 * timestamps (peer TSval 5000 on the SYN) unless ts is false. */
static int peer_connection(struct tp *p, int *lfd, bool ts)
{
    *lfd = tp_listen(p, 80, 16);
    p->ts = ts;
    struct ust_tcp_opts o = tp_syn_opts(p);
    int fd = tp_peer_connects(p, *lfd, &o, 1 * TP_MS);
    tp_run(p, 1 * TP_SEC);
    return fd;
}

/* ---- PAWS (RFC 7323 section 5) ------------------------------------------ */

static void paws_drops_old_tsval_acks_and_counts_it(void **state)
{
    (void)state;
    struct tp p;
    tp_init(&p, NULL);
    int lfd, fd = peer_connection(&p, &lfd, true);
    struct ust_tcb *t = tp_tcb(&p);
    p.tsval = 5100;
    tp_send(&p, UST_TCP_ACK, 100);
    assert_int_equal(inq(&p, fd), 100);
    assert_int_equal(t->ts_recent, 5100);
    tp_run(&p, 100 * TP_MS);                /* the delayed ACK goes */
    /* Older TSval, in-window data: dropped, ACKed at once, counted. */
    size_t mark = p.nsegs;
    uint64_t paws = ust_stat_get(p.stack, UST_STAT_TCP_PAWSEstab);
    uint32_t rcv_nxt = t->rcv_nxt;
    p.tsval = 5099;
    tp_send(&p, UST_TCP_ACK, 100);
    assert_int_equal(inq(&p, fd), 100);
    assert_int_equal(t->rcv_nxt, rcv_nxt);
    assert_int_equal(ust_stat_get(p.stack, UST_STAT_TCP_PAWSEstab), paws + 1);
    assert_int_equal(tp_sent_since(&p, mark), 1);
    assert_int_equal(tp_last(&p)->th.flags, UST_TCP_ACK);
    assert_int_equal(tp_last(&p)->th.ack, rcv_nxt);
    assert_int_equal(tp_last(&p)->th.opts.tsecr, 5100);
    assert_int_equal(tp_last(&p)->t, p.now);
    /* The same bytes with a newer TSval are taken. */
    p.snd_nxt -= 100;
    p.tsval = 5101;
    tp_send(&p, UST_TCP_ACK, 100);
    assert_int_equal(inq(&p, fd), 200);
    /* Comparisons are modulo 2^32: the clock may wrap. (Each segment waits
     * for the delayed ACK of the one before, so that it starts at
     * Last.ACK.sent and its TSval becomes TS.Recent.) */
    static const uint32_t newer[] = { 0x7fff0000u, 0xf0000000u, 0x00000010u };
    for (size_t i = 0; i < 3; i++) {
        tp_run(&p, 100 * TP_MS);
        p.tsval = newer[i];
        tp_send(&p, UST_TCP_ACK, 10);
        assert_int_equal(t->ts_recent, newer[i]);
    }
    assert_int_equal(inq(&p, fd), 230);
    p.tsval = 0xfffffff0u;                  /* 32 ticks before 0x10 */
    tp_send(&p, UST_TCP_ACK, 10);
    assert_int_equal(inq(&p, fd), 230);
    assert_int_equal(ust_stat_get(p.stack, UST_STAT_TCP_PAWSEstab), paws + 2);
    /* A RST is not subject to PAWS (RFC 7323 5.3 R1; Linux). */
    p.snd_nxt -= 10;
    p.tsval = 1;
    tp_send(&p, UST_TCP_RST, 0);
    assert_int_equal(tp_info(&p, fd).tcpi_state, TCP_CLOSE);
    char buf[300];
    assert_int_equal(ust_recv(p.stack, fd, buf, sizeof(buf), 0), 230);   /* data first */
    assert_int_equal(ust_recv(p.stack, fd, buf, sizeof(buf), 0), -1);
    assert_int_equal(errno, ECONNRESET);
    tp_free(&p);
}

/* RFC 7323 3.2 says a non-RST segment without a timestamp SHOULD be
 * dropped once timestamps are in use; Linux accepts it, and so does ustack.
 * It leaves TS.Recent alone: the ACK still echoes the last TSval. */
static void segment_without_timestamp_is_accepted_as_linux(void **state)
{
    (void)state;
    struct tp p;
    tp_init(&p, NULL);
    int lfd, fd = peer_connection(&p, &lfd, true);
    p.tsval = 5100;
    tp_send(&p, UST_TCP_ACK, 100);
    tp_run(&p, 100 * TP_MS);
    size_t mark = p.nsegs;
    p.ts = false;
    tp_send(&p, UST_TCP_ACK, 200);
    assert_int_equal(inq(&p, fd), 300);
    assert_int_equal(ust_stat_get(p.stack, UST_STAT_TCP_PAWSEstab), 0);
    tp_run(&p, 100 * TP_MS);
    assert_int_equal(tp_sent_since(&p, mark), 1);
    const struct tp_seg *a = tp_last(&p);
    assert_int_equal(a->th.ack, p.snd_nxt);
    assert_true(a->th.opts.present & UST_TCPO_TIMESTAMP);
    assert_int_equal(a->th.opts.tsecr, 5100);
    tp_free(&p);
}

/* ---- MSS 536 (RFC 9293 3.7.1, RFC 1122 4.2.2.6) --------------------------- */

static void assert_segments_of_536(struct tp *p, int fd)
{
    assert_int_equal(tp_info(p, fd).tcpi_snd_mss, 536);
    size_t mark = p->nsegs;
    tp_app_send(p, fd, 2000);
    assert_int_equal(tp_sent_since(p, mark), 4);
    static const uint32_t want[4] = { 536, 536, 536, 392 };
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(p->segs[mark + i].len, want[i]);
}

static void peer_syn_without_mss_option_means_536(void **state)
{
    (void)state;
    struct tp p;
    tp_init(&p, NULL);
    /* Passive: a SYN with no options at all. The SYN-ACK offers our MSS
     * but none of the options the peer did not offer. */
    int lfd = tp_listen(&p, 80, 4);
    struct ust_tcp_opts none = { 0 };
    int fd = tp_peer_connects(&p, lfd, &none, 1 * TP_MS);
    const struct tp_seg *synack = &p.segs[0];
    assert_int_equal(synack->th.flags, UST_TCP_SYN | UST_TCP_ACK);
    assert_int_equal(synack->th.opts.present, UST_TCPO_MSS);
    assert_int_equal(synack->th.opts.mss, 1460);
    assert_segments_of_536(&p, fd);
    /* Active: a SYN-ACK with no options. */
    p.pport = 40001;
    int cfd = tp_stack_connects(&p, 5000, &none, 1 * TP_MS);
    assert_int_equal(tp_info(&p, cfd).tcpi_state, TCP_ESTABLISHED);
    assert_segments_of_536(&p, cfd);
    tp_free(&p);
}

/* ---- Delayed ACK (RFC 1122 4.2.3.2, RFC 9293 3.8.6.3, RFC 5681 4.2) ------- */

static void ack_at_least_every_second_full_segment(void **state)
{
    (void)state;
    struct tp p;
    tp_init(&p, NULL);
    int lfd, fd = peer_connection(&p, &lfd, true);
    (void)fd;
    /* Full-sized here is 1448 (MSS 1460 less the timestamp option). */
    size_t mark = p.nsegs;
    tp_send(&p, UST_TCP_ACK, 1448);
    assert_int_equal(tp_sent_since(&p, mark), 0);
    tp_send(&p, UST_TCP_ACK, 1448);
    assert_int_equal(tp_sent_since(&p, mark), 1);
    assert_int_equal(tp_last(&p)->th.ack, p.snd_nxt);
    assert_int_equal(tp_last(&p)->t, p.now);
    /* Five in a row: ACKs after the second and the fourth; the fifth waits
     * for the delayed-ACK timer (40 ms). */
    tp_run(&p, 1 * TP_SEC);
    mark = p.nsegs;
    uint32_t start = p.snd_nxt;
    for (int i = 0; i < 5; i++)
        tp_send(&p, UST_TCP_ACK, 1448);
    assert_int_equal(tp_sent_since(&p, mark), 2);
    assert_int_equal(p.segs[mark].th.ack, start + 2 * 1448);
    assert_int_equal(p.segs[mark + 1].th.ack, start + 4 * 1448);
    uint64_t t5 = p.now;
    tp_run(&p, 1 * TP_SEC);
    assert_int_equal(tp_sent_since(&p, mark), 3);
    assert_int_equal(p.segs[mark + 2].th.ack, p.snd_nxt);
    assert_int_equal(p.segs[mark + 2].t - t5, 40 * TP_MS);
    /* Small segments are not full-sized: three of 100 bytes share one
     * delayed ACK. */
    mark = p.nsegs;
    for (int i = 0; i < 3; i++)
        tp_send(&p, UST_TCP_ACK, 100);
    assert_int_equal(tp_sent_since(&p, mark), 0);
    tp_run(&p, 40 * TP_MS);
    assert_int_equal(tp_sent_since(&p, mark), 1);
    assert_int_equal(tp_last(&p)->th.ack, p.snd_nxt);
    tp_free(&p);
}

static void out_of_order_data_is_acked_at_once_with_sack_blocks(void **state)
{
    (void)state;
    struct tp p;
    tp_init(&p, NULL);
    int lfd, fd = peer_connection(&p, &lfd, true);
    assert_true(tp_info(&p, fd).tcpi_options & TCPI_OPT_SACK);
    uint32_t h = p.snd_nxt;                 /* first hole: [h, h + 1448) */
    size_t mark = p.nsegs;
    p.snd_nxt = h + 1448;
    tp_send(&p, UST_TCP_ACK, 1448);
    assert_int_equal(tp_sent_since(&p, mark), 1);
    const struct tp_seg *a = tp_last(&p);
    assert_int_equal(a->t, p.now);
    assert_int_equal(a->th.ack, h);
    assert_int_equal(a->th.opts.nsack, 1);
    assert_int_equal(a->th.opts.sack[0].left, h + 1448);
    assert_int_equal(a->th.opts.sack[0].right, h + 2896);
    /* A second island beyond a second hole: its block comes first. */
    p.snd_nxt = h + 4344;
    tp_send(&p, UST_TCP_ACK, 1448);
    assert_int_equal(tp_sent_since(&p, mark), 2);
    a = tp_last(&p);
    assert_int_equal(a->th.ack, h);
    assert_int_equal(a->th.opts.nsack, 2);
    assert_int_equal(a->th.opts.sack[0].left, h + 4344);
    assert_int_equal(a->th.opts.sack[0].right, h + 5792);
    assert_int_equal(a->th.opts.sack[1].left, h + 1448);
    assert_int_equal(a->th.opts.sack[1].right, h + 2896);
    /* Filling the first hole: ACKed at once, one block left. */
    p.snd_nxt = h;
    tp_send(&p, UST_TCP_ACK, 1448);
    assert_int_equal(tp_sent_since(&p, mark), 3);
    a = tp_last(&p);
    assert_int_equal(a->th.ack, h + 2896);
    assert_int_equal(a->th.opts.nsack, 1);
    assert_int_equal(a->th.opts.sack[0].left, h + 4344);
    /* Filling the last: ACKed at once, no block. */
    p.snd_nxt = h + 2896;
    tp_send(&p, UST_TCP_ACK, 1448);
    assert_int_equal(tp_sent_since(&p, mark), 4);
    a = tp_last(&p);
    assert_int_equal(a->th.ack, h + 5792);
    assert_int_equal(a->th.opts.present & UST_TCPO_SACK, 0);
    assert_int_equal(inq(&p, fd), 5792);
    tp_free(&p);
}

/* ---- ISN (RFC 6528 3, RFC 9293 3.4.1) ------------------------------------ */

/* The ISN of the SYN the stack sends from sport to the peer now. */
static uint32_t syn_isn(struct tp *p, uint16_t sport)
{
    int fd = ust_socket(p->stack, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    assert_true(fd >= 0);
    int one = 1;
    assert_int_equal(ust_setsockopt(p->stack, fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
    struct sockaddr_in me = { .sin_family = AF_INET, .sin_port = htons(sport),
                              .sin_addr = { htonl(TP_ME) } };
    assert_int_equal(ust_bind(p->stack, fd, (struct sockaddr *)&me, sizeof(me)), 0);
    struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(p->pport),
                              .sin_addr = { htonl(TP_PEER) } };
    size_t mark = p->nsegs;
    assert_int_equal(ust_connect(p->stack, fd, (struct sockaddr *)&to, sizeof(to)), -1);
    assert_int_equal(tp_sent_since(p, mark), 1);
    uint32_t isn = tp_last(p)->th.seq;
    assert_int_equal(tp_last(p)->th.flags, UST_TCP_SYN);
    assert_int_equal(ust_close(p->stack, fd), 0);   /* SYN-SENT: gone at once */
    return isn;
}

static void isn_is_keyed_hash_of_tuple_plus_4us_clock(void **state)
{
    (void)state;
    struct ust_stack_config cfg;
    ust_stack_config_init(&cfg);
    cfg.seed = 11;
    struct tp p;
    tp_init(&p, &cfg);
    /* Eight source ports at the same instant: eight different ISNs, and
     * not a linear function of the port. */
    uint32_t isn[8];
    for (int i = 0; i < 8; i++) {
        isn[i] = syn_isn(&p, (uint16_t)(5100 + i));
        for (int j = 0; j < i; j++)
            assert_true(isn[i] != isn[j]);
    }
    bool linear = true;
    for (int i = 2; i < 8; i++)
        linear = linear && isn[i] - isn[i - 1] == isn[1] - isn[0];
    assert_false(linear);
    /* The same 4-tuple 1 s later: 250000 ticks of 4 us on. */
    tp_run(&p, 1 * TP_SEC);
    assert_int_equal((uint32_t)(syn_isn(&p, 5100) - isn[0]), 250000u);
    tp_run(&p, 12 * TP_MS + 3000);          /* 12.003 ms = 3000.75 ticks */
    assert_int_equal((uint32_t)(syn_isn(&p, 5100) - isn[0]), 253000u);
    tp_free(&p);
    /* Another stack with the same secret and clock gives the same ISN;
     * one with a different secret (seed), a different one. */
    struct tp q;
    tp_init(&q, &cfg);
    assert_int_equal(syn_isn(&q, 5100), isn[0]);
    tp_free(&q);
    cfg.seed = 12;
    tp_init(&q, &cfg);
    assert_true(syn_isn(&q, 5100) != isn[0]);
    tp_free(&q);
}

/* ---- Challenge ACK rate limit (RFC 5961 7) ------------------------------ */

static void challenge_acks_limited_to_1000_per_second(void **state)
{
    (void)state;
    struct tp p;
    tp_init(&p, NULL);
    int lfd, fd = peer_connection(&p, &lfd, true);
    struct ust_tcb *t = tp_tcb(&p);
    /* Start a fresh second, then flood: 1500 in-window RSTs and 500 SYNs. */
    tp_run_until(&p, (p.now / TP_SEC + 1) * TP_SEC + 1 * TP_MS);
    size_t mark = p.nsegs;
    uint64_t ch = ust_stat_get(p.stack, UST_STAT_TCP_TCPChallengeACK);
    for (uint32_t i = 0; i < 1500; i++)
        tp_inject(&p, t->rcv_nxt + 1 + i, 0, UST_TCP_RST, 1000, NULL, 0);
    tp_run(&p, 500 * TP_MS);
    for (uint32_t i = 0; i < 500; i++)
        tp_inject(&p, t->rcv_nxt + 1 + i, 0, UST_TCP_SYN, 1000, NULL, 0);
    assert_int_equal(tp_sent_since(&p, mark), 1000);
    assert_int_equal(ust_stat_get(p.stack, UST_STAT_TCP_TCPChallengeACK), ch + 1000);
    for (size_t i = mark; i < p.nsegs; i++) {
        assert_int_equal(p.segs[i].th.flags, UST_TCP_ACK);
        assert_int_equal(p.segs[i].th.ack, t->rcv_nxt);
    }
    assert_int_equal(tp_info(&p, fd).tcpi_state, TCP_ESTABLISHED);
    /* The next second allows again. */
    tp_run(&p, 500 * TP_MS);
    mark = p.nsegs;
    for (uint32_t i = 0; i < 10; i++)
        tp_inject(&p, t->rcv_nxt + 1 + i, 0, UST_TCP_RST, 1000, NULL, 0);
    assert_int_equal(tp_sent_since(&p, mark), 10);
    assert_int_equal(tp_info(&p, fd).tcpi_state, TCP_ESTABLISHED);
    tp_free(&p);
}

/* ---- Defaults ------------------------------------------------------------ */

static void stack_defaults_are_linux_values(void **state)
{
    (void)state;
    struct ust_stack_config cfg;
    ust_stack_config_init(&cfg);
    assert_int_equal(cfg.tcp_keepalive_time, 7200);
    assert_int_equal(cfg.tcp_keepalive_intvl, 75);
    assert_int_equal(cfg.tcp_keepalive_probes, 9);
    assert_int_equal(cfg.tcp_somaxconn, 4096);
    assert_int_equal(cfg.tcp_rto_min_ns, 200 * TP_MS);
    assert_int_equal(cfg.tcp_rto_max_ns, 120 * TP_SEC);
    assert_int_equal(cfg.tcp_timewait_ns, 60 * TP_SEC);
    /* A new TCP socket: keepalive off, TCP_KEEP* read the defaults. */
    struct tp p;
    tp_init(&p, NULL);
    int fd = ust_socket(p.stack, AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    static const int opt[4][2] = { { SOL_SOCKET, SO_KEEPALIVE }, { IPPROTO_TCP, TCP_KEEPIDLE },
                                   { IPPROTO_TCP, TCP_KEEPINTVL }, { IPPROTO_TCP, TCP_KEEPCNT } };
    static const int want[4] = { 0, 7200, 75, 9 };
    for (int i = 0; i < 4; i++) {
        int v = -1;
        socklen_t len = sizeof(v);
        assert_int_equal(ust_getsockopt(p.stack, fd, opt[i][0], opt[i][1], &v, &len), 0);
        assert_int_equal(v, want[i]);
    }
    tp_free(&p);
}

/* SO_KEEPALIVE with the defaults: the first probe after 7200 s idle, then
 * every 75 s, and after 9 unanswered probes ETIMEDOUT (7875 s). */
static void keepalive_defaults_probe_at_7200s_every_75s_nine_times(void **state)
{
    (void)state;
    struct tp p;
    tp_init(&p, NULL);
    int lfd, fd = peer_connection(&p, &lfd, true);
    uint64_t idle_from = p.now;
    tp_send(&p, UST_TCP_ACK, 0);            /* the last thing the peer says */
    tp_run(&p, 100 * TP_MS);
    int one = 1;
    assert_int_equal(ust_setsockopt(p.stack, fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one)), 0);
    size_t mark = p.nsegs;
    struct ust_tcb *t = tp_tcb(&p);
    uint32_t una = t->snd_una;
    tp_run_until(&p, idle_from + 7874 * TP_SEC);
    assert_int_equal(tp_info(&p, fd).tcpi_state, TCP_ESTABLISHED);
    assert_int_equal(tp_sent_since(&p, mark), 9);
    for (size_t i = 0; i < 9; i++) {
        const struct tp_seg *s = &p.segs[mark + i];
        assert_int_equal(s->t - idle_from, (7200 + 75 * i) * TP_SEC);
        assert_int_equal(s->th.seq, una - 1);
        assert_int_equal(s->len, 0);
    }
    tp_run_until(&p, idle_from + 7875 * TP_SEC);
    assert_int_equal(tp_info(&p, fd).tcpi_state, TCP_CLOSE);
    char c;
    assert_int_equal(ust_recv(p.stack, fd, &c, 1, 0), -1);
    assert_int_equal(errno, ETIMEDOUT);
    tp_free(&p);
}

static struct ust_tcb *fd_tcb(struct tp *p, int fd)
{
    struct ust_socket *so = NULL;
    assert_int_equal(ust_sock_lookup(p->stack, fd, &so), 0);
    return so->pcb;
}

static unsigned backlog_of(struct tp *p, int fd)
{
    return fd_tcb(p, fd)->backlog;
}

/* listen(2): the backlog is capped by somaxconn (4096), and the cap is what
 * bounds the accept queue. */
static void listen_backlog_is_capped_by_somaxconn(void **state)
{
    (void)state;
    struct tp p;
    tp_init(&p, NULL);
    int big = tp_listen(&p, 81, 100000);
    assert_int_equal(backlog_of(&p, big), 4096);
    int neg = tp_listen(&p, 82, -1);
    assert_int_equal(backlog_of(&p, neg), 4096);
    tp_free(&p);
    /* somaxconn 2: listen(100) holds two established connections; the
     * third SYN is dropped (ListenOverflows), not answered. */
    struct ust_stack_config cfg;
    ust_stack_config_init(&cfg);
    cfg.tcp_somaxconn = 2;
    tp_init(&p, &cfg);
    int lfd = tp_listen(&p, 80, 100);
    assert_int_equal(backlog_of(&p, lfd), 2);
    for (uint16_t i = 0; i < 2; i++) {
        p.pport = (uint16_t)(40000 + i);
        struct ust_tcp_opts o = tp_syn_opts(&p);
        size_t mark = p.nsegs;
        tp_inject(&p, 1000, 0, UST_TCP_SYN, 65535, &o, 0);
        assert_int_equal(tp_sent_since(&p, mark), 1);
        p.rcv_nxt = tp_last(&p)->th.seq + 1;
        p.snd_nxt = 1001;
        tp_send(&p, UST_TCP_ACK, 0);
    }
    assert_int_equal(fd_tcb(&p, lfd)->acc_len, 2);
    p.pport = 40002;
    struct ust_tcp_opts o = tp_syn_opts(&p);
    size_t mark = p.nsegs;
    uint64_t ovf = ust_stat_get(p.stack, UST_STAT_TCP_ListenOverflows);
    tp_inject(&p, 1000, 0, UST_TCP_SYN, 65535, &o, 0);
    assert_int_equal(tp_sent_since(&p, mark), 0);
    assert_int_equal(ust_stat_get(p.stack, UST_STAT_TCP_ListenOverflows), ovf + 1);
    tp_free(&p);
}

/* ---- TIME-WAIT ------------------------------------------------------------ */

/* The stack closes a connection the peer opened from pport (with or
 * without timestamps): FIN, the peer's ACK and FIN (TSval 5200), the
 * stack's ACK. Returns the block in TIME-WAIT; its RCV.NXT is 1000102. */
static struct ust_tcb *time_wait_from(struct tp *p, int lfd, uint16_t pport, bool ts)
{
    p->pport = pport;
    p->ts = ts;
    p->tsval = 5000;
    struct ust_tcp_opts o = tp_syn_opts(p);
    int fd = tp_peer_connects(p, lfd, &o, 1 * TP_MS);
    p->tsval = 5100;
    tp_send(p, UST_TCP_ACK, 100);
    char buf[100];
    assert_int_equal(ust_recv(p->stack, fd, buf, sizeof(buf), 0), 100);
    size_t mark = p->nsegs;
    assert_int_equal(ust_close(p->stack, fd), 0);
    assert_int_equal(tp_sent_since(p, mark), 1);
    assert_true(tp_last(p)->th.flags & UST_TCP_FIN);
    tp_run(p, 1 * TP_MS);
    p->tsval = 5200;
    tp_ack_all(p);
    tp_send(p, UST_TCP_FIN | UST_TCP_ACK, 0);
    struct ust_tcb *t = tp_tcb(p);
    assert_non_null(t);
    assert_int_equal(t->state, UST_TCP_TIME_WAIT);
    assert_int_equal(t->rcv_nxt, 1000102);
    if (ts)
        assert_int_equal(t->ts_recent, 5200);
    tp_run(p, 1 * TP_SEC);
    return t;
}

static void time_wait_lasts_cfg_tcp_timewait_ns(void **state)
{
    (void)state;
    struct ust_stack_config cfg;
    ust_stack_config_init(&cfg);
    cfg.tcp_timewait_ns = 5 * TP_SEC;
    struct tp p;
    tp_init(&p, &cfg);
    int lfd = tp_listen(&p, 80, 4);
    time_wait_from(&p, lfd, 40000, true);   /* entered 1 s ago */
    tp_run(&p, 4 * TP_SEC - 1);
    assert_non_null(tp_tcb(&p));
    assert_int_equal(tp_tcb(&p)->state, UST_TCP_TIME_WAIT);
    tp_run(&p, 1);
    assert_null(tp_tcb(&p));
    tp_free(&p);
}

/* A SYN for the 4-tuple in TIME-WAIT: seq, TSval (has_ts false = no
 * timestamp option). True when it opened a new connection (SYN-ACK). */
static bool syn_reuses(struct tp *p, uint32_t seq, bool has_ts, uint32_t tsval)
{
    p->ts = has_ts;
    p->tsval = tsval;
    struct ust_tcp_opts o = tp_syn_opts(p);
    size_t mark = p->nsegs;
    uint64_t paws = ust_stat_get(p->stack, UST_STAT_TCP_PAWSEstab);
    tp_inject(p, seq, 0, UST_TCP_SYN, 65535, &o, 0);
    assert_int_equal(tp_sent_since(p, mark), 1);
    const struct tp_seg *a = tp_last(p);
    struct ust_tcb *t = tp_tcb(p);
    assert_non_null(t);
    if (a->th.flags == (UST_TCP_SYN | UST_TCP_ACK)) {
        assert_int_equal(a->th.ack, seq + 1);
        assert_int_equal(t->state, UST_TCP_SYN_RECEIVED);
        return true;
    }
    /* Refused: the TIME-WAIT ACK, the old connection untouched. A SYN
     * older by timestamp counts as a PAWS rejection (Linux). */
    assert_int_equal(a->th.flags, UST_TCP_ACK);
    assert_int_equal(a->th.ack, 1000102);
    assert_int_equal(t->state, UST_TCP_TIME_WAIT);
    bool old_ts = has_ts && t->ts_ok && ust_seq_lt(tsval, t->ts_recent);
    assert_int_equal(ust_stat_get(p->stack, UST_STAT_TCP_PAWSEstab), paws + (old_ts ? 1 : 0));
    return false;
}

/* RFC 6191: with timestamps on both incarnations, a newer TSval reuses the
 * TIME-WAIT whatever the sequence number, an older one never does, an
 * equal one falls back to the sequence rule (SEG.SEQ > RCV.NXT); without
 * timestamps (on either side) the sequence rule alone decides. */
static void time_wait_reuse_by_timestamp_then_sequence(void **state)
{
    (void)state;
    struct tp p;
    tp_init(&p, NULL);
    int lfd = tp_listen(&p, 80, 16);
    const uint32_t below = 999000, above = 1000200;
    uint16_t port = 40100;
    /* Timestamps on the old connection (TS.Recent 5200). */
    time_wait_from(&p, lfd, port, true);
    assert_true(syn_reuses(&p, below, true, 5201));     /* newer TSval, lower seq */
    time_wait_from(&p, lfd, ++port, true);
    assert_false(syn_reuses(&p, above, true, 5199));    /* older TSval, higher seq */
    tp_run(&p, 600 * TP_MS);    /* past tcp_invalid_ratelimit: the next one is answered */
    assert_false(syn_reuses(&p, above, true, 1));
    time_wait_from(&p, lfd, ++port, true);
    assert_true(syn_reuses(&p, above, true, 5200));     /* equal TSval: by seq */
    time_wait_from(&p, lfd, ++port, true);
    assert_false(syn_reuses(&p, below, true, 5200));
    time_wait_from(&p, lfd, ++port, true);
    assert_false(syn_reuses(&p, 1000102, true, 5200));  /* seq == RCV.NXT is not above */
    time_wait_from(&p, lfd, ++port, true);
    assert_true(syn_reuses(&p, above, false, 0));       /* SYN without timestamps: by seq */
    time_wait_from(&p, lfd, ++port, true);
    assert_false(syn_reuses(&p, below, false, 0));
    /* No timestamps on the old connection: the SYN's TSval does not count. */
    time_wait_from(&p, lfd, ++port, false);
    assert_false(syn_reuses(&p, below, true, 0x7fffffffu));
    time_wait_from(&p, lfd, ++port, false);
    assert_true(syn_reuses(&p, above, true, 1));
    tp_free(&p);
}

/* ---- SYN-RECEIVED -> FIN-WAIT-1 (RFC 9293 Figure 5, 3.10.4) -------------- */

/* Simultaneous open leaves the socket in SYN-RECEIVED; close() then sends a
 * FIN and enters FIN-WAIT-1 (RFC 9293 3.10.4; Linux tcp_close_state maps
 * SYN_RECV to FIN_WAIT1 and sends the FIN). The close completes through
 * FIN-WAIT-2 and TIME-WAIT. */
static void close_in_syn_received_sends_fin_and_enters_fin_wait_1(void **state)
{
    (void)state;
    struct tp p;
    tp_init(&p, NULL);
    int fd = ust_socket(p.stack, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in me = { .sin_family = AF_INET, .sin_port = htons(5000),
                              .sin_addr = { htonl(TP_ME) } };
    assert_int_equal(ust_bind(p.stack, fd, (struct sockaddr *)&me, sizeof(me)), 0);
    struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(p.pport),
                              .sin_addr = { htonl(TP_PEER) } };
    assert_int_equal(ust_connect(p.stack, fd, (struct sockaddr *)&to, sizeof(to)), -1);
    p.sport = 5000;
    uint32_t iss = tp_last(&p)->th.seq;
    /* The peer's SYN crosses ours. */
    size_t mark = p.nsegs;
    struct ust_tcp_opts o = tp_syn_opts(&p);
    p.snd_nxt = 7000000;
    tp_inject(&p, p.snd_nxt, 0, UST_TCP_SYN, 65535, &o, 0);
    p.snd_nxt++;
    p.rcv_nxt = iss + 1;
    assert_int_equal(tp_info(&p, fd).tcpi_state, TCP_SYN_RECV);
    assert_int_equal(tp_sent_since(&p, mark), 1);
    assert_int_equal(tp_last(&p)->th.flags, UST_TCP_SYN | UST_TCP_ACK);
    /* close(): FIN at ISS + 1, FIN-WAIT-1. */
    mark = p.nsegs;
    assert_int_equal(ust_close(p.stack, fd), 0);
    struct ust_tcb *t = tp_tcb(&p);
    assert_non_null(t);
    assert_int_equal(t->state, UST_TCP_FIN_WAIT_1);
    assert_int_equal(tp_sent_since(&p, mark), 1);
    const struct tp_seg *fin = tp_last(&p);
    assert_int_equal(fin->th.flags & (UST_TCP_FIN | UST_TCP_ACK | UST_TCP_SYN | UST_TCP_RST),
                     UST_TCP_FIN | UST_TCP_ACK);
    assert_int_equal(fin->th.seq, iss + 1);
    assert_int_equal(fin->th.ack, p.snd_nxt);
    assert_int_equal(fin->len, 0);
    /* The peer's SYN-ACK (it was in SYN-RECEIVED too) changes nothing. */
    tp_inject(&p, p.snd_nxt - 1, iss + 1, UST_TCP_SYN | UST_TCP_ACK, 65535, &o, 0);
    assert_int_equal(t->state, UST_TCP_FIN_WAIT_1);
    /* It ACKs SYN and FIN: FIN-WAIT-2; its FIN: TIME-WAIT, ACKed. */
    p.rcv_nxt = iss + 2;
    tp_send(&p, UST_TCP_ACK, 0);
    assert_int_equal(t->state, UST_TCP_FIN_WAIT_2);
    mark = p.nsegs;
    tp_send(&p, UST_TCP_FIN | UST_TCP_ACK, 0);
    assert_int_equal(t->state, UST_TCP_TIME_WAIT);
    assert_int_equal(tp_sent_since(&p, mark), 1);
    assert_int_equal(tp_last(&p)->th.ack, p.snd_nxt);
    tp_free(&p);
}

/* The same close, but the peer never answers: what goes again is the
 * SYN-ACK (the head of Linux's retransmission queue), never a byte of data
 * (none was queued: the bug was one byte read from before the send ring),
 * until the stack gives up. */
static void fin_from_syn_received_is_retransmitted_alone(void **state)
{
    (void)state;
    struct tp p;
    tp_init(&p, NULL);
    int fd = ust_socket(p.stack, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(p.pport),
                              .sin_addr = { htonl(TP_PEER) } };
    assert_int_equal(ust_connect(p.stack, fd, (struct sockaddr *)&to, sizeof(to)), -1);
    p.sport = tp_last(&p)->th.sport;
    uint32_t iss = tp_last(&p)->th.seq;
    struct ust_tcp_opts o = tp_syn_opts(&p);
    tp_inject(&p, 7000000, 0, UST_TCP_SYN, 65535, &o, 0);
    assert_int_equal(tp_info(&p, fd).tcpi_state, TCP_SYN_RECV);
    size_t mark = p.nsegs;
    assert_int_equal(ust_close(p.stack, fd), 0);
    tp_run(&p, 3000 * TP_SEC);
    assert_null(tp_tcb(&p));
    assert_true(tp_sent_since(&p, mark) >= 2);
    unsigned synacks = 0;
    for (size_t i = mark; i < p.nsegs; i++) {
        const struct tp_seg *s = &p.segs[i];
        assert_int_equal(s->len, 0);
        assert_int_equal(s->th.flags & UST_TCP_RST, 0);
        if (s->th.flags & UST_TCP_FIN)
            assert_int_equal(s->th.seq, iss + 1);
        if (s->th.flags & UST_TCP_SYN) {
            assert_int_equal(s->th.flags, UST_TCP_SYN | UST_TCP_ACK);
            assert_int_equal(s->th.seq, iss);
            synacks++;
        }
    }
    assert_true(synacks >= 1);
    tp_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(paws_drops_old_tsval_acks_and_counts_it),
        cmocka_unit_test(segment_without_timestamp_is_accepted_as_linux),
        cmocka_unit_test(peer_syn_without_mss_option_means_536),
        cmocka_unit_test(ack_at_least_every_second_full_segment),
        cmocka_unit_test(out_of_order_data_is_acked_at_once_with_sack_blocks),
        cmocka_unit_test(isn_is_keyed_hash_of_tuple_plus_4us_clock),
        cmocka_unit_test(challenge_acks_limited_to_1000_per_second),
        cmocka_unit_test(stack_defaults_are_linux_values),
        cmocka_unit_test(keepalive_defaults_probe_at_7200s_every_75s_nine_times),
        cmocka_unit_test(listen_backlog_is_capped_by_somaxconn),
        cmocka_unit_test(time_wait_lasts_cfg_tcp_timewait_ns),
        cmocka_unit_test(time_wait_reuse_by_timestamp_then_sequence),
        cmocka_unit_test(close_in_syn_received_sends_fin_and_enters_fin_wait_1),
        cmocka_unit_test(fin_from_syn_received_is_retransmitted_alone),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
