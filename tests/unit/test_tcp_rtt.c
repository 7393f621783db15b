/* Round-trip time and retransmission timeout, against a scripted peer whose
 * answers come at exact virtual times (test_tcp_rules_peer.h):
 *  - SRTT, RTTVAR and RTO after known samples (RFC 6298 2: alpha 1/8,
 *    beta 1/4, K = 4; Linux's 200 ms floor on the variance term, the only
 *    clock-granularity term G ustack has), and the timer uses that RTO;
 *  - the minimum RTO is cfg.tcp_rto_min_ns (RFC 6298 2.4, Linux 200 ms);
 *  - backoff doubles the RTO and caps it at 120 s (RFC 6298 5.5, 2.5);
 *  - Karn: no sample from a retransmitted segment when timestamps are off
 *    (RFC 6298 3);
 *  - RTTM (RFC 7323 4): samples come from the TSecr of ACKs that advance
 *    SND.UNA, not of duplicate ACKs; the TSval echoed is the one of the
 *    earliest unacknowledged segment (TS.Recent updated only for
 *    SEG.SEQ <= Last.ACK.sent) or of the segment that filled a hole. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "unit/test_tcp_rules_peer.h"

static struct ust_tcp_opts opts_ts(void)
{
    struct ust_tcp_opts o = { .present = UST_TCPO_MSS | UST_TCPO_SACK_PERM | UST_TCPO_WSCALE |
                                         UST_TCPO_TIMESTAMP,
                              .mss = 1460, .wscale = 7, .tsval = 5000 };
    return o;
}

static struct ust_tcp_opts opts_no_ts(void)
{
    struct ust_tcp_opts o = { .present = UST_TCPO_MSS | UST_TCPO_SACK_PERM | UST_TCPO_WSCALE,
                              .mss = 1460, .wscale = 7 };
    return o;
}

static void assert_rtt(struct tp *p, int fd, uint32_t rtt, uint32_t rttvar, uint32_t rto)
{
    struct tcp_info ti = tp_info(p, fd);
    assert_int_equal(ti.tcpi_rtt, rtt);
    assert_int_equal(ti.tcpi_rttvar, rttvar);
    assert_int_equal(ti.tcpi_rto, rto);
}

/* The stack sends len bytes now; the peer ACKs them rtt later, echoing the
 * TSval of that segment (when timestamps are on). */
static void exchange(struct tp *p, int fd, uint32_t len, uint64_t rtt)
{
    size_t mark = p->nsegs;
    tp_app_send(p, fd, len);
    assert_int_equal(tp_sent_since(p, mark), 1);
    uint32_t tsval = tp_last(p)->th.opts.tsval;
    tp_run(p, rtt);
    assert_int_equal(tp_sent_since(p, mark), 1);    /* no retransmission meanwhile */
    p->echo = tsval;
    tp_ack_all(p);
}

/* Samples 80, 160, 280 ms: the values follow RFC 6298 2.2 / 2.3 exactly
 * (numbers chosen so that every division is exact; each sample is below the
 * RTO of its time, so nothing is retransmitted). */
static void srtt_rttvar_rto_follow_rfc6298_for_known_samples(void **state)
{
    (void)state;
    struct tp p;
    tp_init(&p, NULL);
    struct ust_tcp_opts o = opts_ts();
    int fd = tp_stack_connects(&p, 5001, &o, 80 * TP_MS);
    assert_int_equal(tp_info(&p, fd).tcpi_state, TCP_ESTABLISHED);
    /* First sample R: SRTT = R, RTTVAR = R/2, RTO = SRTT + max(4 RTTVAR, 200 ms). */
    assert_rtt(&p, fd, 80000, 40000, 80000 + 200000);
    /* RTTVAR = 3/4 RTTVAR + 1/4 |SRTT - R'|, then SRTT = 7/8 SRTT + 1/8 R'. */
    exchange(&p, fd, 100, 160 * TP_MS);
    assert_rtt(&p, fd, 90000, 50000, 90000 + 200000);
    /* Now 4 RTTVAR is above the 200 ms floor. */
    exchange(&p, fd, 100, 280 * TP_MS);
    assert_rtt(&p, fd, 113750, 85000, 113750 + 4 * 85000);
    /* The retransmission timer runs on that RTO: the first retransmission
     * leaves exactly 453.75 ms after the segment. */
    size_t mark = p.nsegs;
    tp_app_send(&p, fd, 100);
    uint64_t t0 = tp_last(&p)->t;
    tp_run(&p, 2 * TP_SEC);
    assert_true(tp_sent_since(&p, mark) >= 2);
    struct tp_seg *rx = &p.segs[mark + 1];
    assert_int_equal(rx->th.seq, p.segs[mark].th.seq);
    assert_int_equal(rx->t - t0, 453750 * UST_NSEC_PER_USEC);
    tp_free(&p);
}

/* RFC 6298 2.4 with Linux's 200 ms: the floor is cfg.tcp_rto_min_ns. A
 * 10 ms path gives RTO = 10 + 200 ms by default, 10 + 50 ms with a 50 ms
 * floor, and the retransmission leaves exactly then. */
static uint64_t first_rto_on_link(uint64_t rto_min, uint32_t *tcpi_rto)
{
    struct ust_stack_config cfg;
    ust_stack_config_init(&cfg);
    if (rto_min)
        cfg.tcp_rto_min_ns = rto_min;
    struct tp p;
    tp_init(&p, &cfg);
    struct ust_tcp_opts o = opts_ts();
    int fd = tp_stack_connects(&p, 5002, &o, 10 * TP_MS);
    *tcpi_rto = tp_info(&p, fd).tcpi_rto;
    size_t mark = p.nsegs;
    tp_app_send(&p, fd, 100);
    tp_run(&p, 1 * TP_SEC);
    assert_true(tp_sent_since(&p, mark) >= 2);
    uint64_t gap = p.segs[mark + 1].t - p.segs[mark].t;
    assert_int_equal(p.segs[mark + 1].th.seq, p.segs[mark].th.seq);
    tp_free(&p);
    return gap;
}

static void rto_floor_is_200ms_by_default_and_configurable(void **state)
{
    (void)state;
    struct ust_stack_config cfg;
    ust_stack_config_init(&cfg);
    assert_int_equal(cfg.tcp_rto_min_ns, 200 * TP_MS);
    uint32_t rto;
    assert_int_equal(first_rto_on_link(0, &rto), 210 * TP_MS);
    assert_int_equal(rto, 210000);
    assert_int_equal(first_rto_on_link(50 * TP_MS, &rto), 60 * TP_MS);
    assert_int_equal(rto, 60000);
}

/* The peer goes silent: each retransmission waits twice as long as the one
 * before, up to 120 s (cfg.tcp_rto_max_ns), and the 15th is the last
 * (tcp_retries2). */
static void rto_backoff_doubles_up_to_120s(void **state)
{
    (void)state;
    struct ust_stack_config cfg;
    ust_stack_config_init(&cfg);
    assert_int_equal(cfg.tcp_rto_max_ns, 120 * TP_SEC);
    struct tp p;
    tp_init(&p, &cfg);
    struct ust_tcp_opts o = opts_ts();
    int fd = tp_stack_connects(&p, 5003, &o, 10 * TP_MS);
    assert_int_equal(tp_info(&p, fd).tcpi_rto, 210000);
    size_t mark = p.nsegs;
    tp_app_send(&p, fd, 100);
    uint32_t seq = tp_last(&p)->th.seq;
    tp_run(&p, 3000 * TP_SEC);
    assert_int_equal(tp_info(&p, fd).tcpi_state, TCP_CLOSE);
    uint64_t want = 210 * TP_MS, prev = p.segs[mark].t;
    unsigned n = 0;
    for (size_t i = mark + 1; i < p.nsegs; i++) {
        const struct tp_seg *s = &p.segs[i];
        if (s->len == 0)
            continue;
        assert_int_equal(s->th.seq, seq);
        assert_int_equal(s->t - prev, want);
        prev = s->t;
        want = want * 2 > 120 * TP_SEC ? 120 * TP_SEC : want * 2;
        n++;
    }
    assert_int_equal(n, 15);
    /* The last gaps were capped: 107.52 s doubled would be 215 s. */
    assert_int_equal(want, 120 * TP_SEC);
    char c;
    assert_int_equal(ust_recv(p.stack, fd, &c, 1, 0), -1);
    assert_int_equal(errno, ETIMEDOUT);
    tp_free(&p);
}

/* Timestamps off: the ACK of a retransmitted segment gives no sample (it
 * could answer either transmission); the next segment sent once does. */
static void karn_no_sample_from_retransmitted_segment(void **state)
{
    (void)state;
    struct tp p;
    tp_init(&p, NULL);
    struct ust_tcp_opts o = opts_no_ts();
    int fd = tp_stack_connects(&p, 5004, &o, 50 * TP_MS);
    struct tcp_info ti = tp_info(&p, fd);
    assert_int_equal(ti.tcpi_options & TCPI_OPT_TIMESTAMPS, 0);
    assert_rtt(&p, fd, 50000, 25000, 250000);
    /* The segment is lost: retransmitted after the 250 ms RTO, and ACKed
     * 100 ms after that (350 ms after the first transmission). */
    size_t mark = p.nsegs;
    tp_app_send(&p, fd, 100);
    tp_run(&p, 350 * TP_MS);
    assert_int_equal(tp_sent_since(&p, mark), 2);
    assert_int_equal(p.segs[mark + 1].th.seq, p.segs[mark].th.seq);
    assert_int_equal(p.segs[mark + 1].t - p.segs[mark].t, 250 * TP_MS);
    assert_int_equal(ust_stat_get(p.stack, UST_STAT_TCP_TCPTimeouts), 1);
    tp_ack_all(&p);
    assert_int_equal(tp_tcb(&p)->snd_una, tp_tcb(&p)->snd_max);
    /* Neither 350 ms nor 100 ms was taken as a sample. */
    ti = tp_info(&p, fd);
    assert_int_equal(ti.tcpi_rtt, 50000);
    assert_int_equal(ti.tcpi_rttvar, 25000);
    /* A segment sent once is timed again: 130 ms. */
    exchange(&p, fd, 100, 130 * TP_MS);
    ti = tp_info(&p, fd);
    assert_int_equal(ti.tcpi_rtt, 60000);
    assert_int_equal(ti.tcpi_rttvar, 38750);
    tp_free(&p);
}

/* RFC 7323 4.1 / 4.2: RTT = now - TSecr of an ACK that advances SND.UNA.
 * A duplicate ACK's TSecr is no sample; an ACK echoing an older TSval (a
 * delayed ACK covering two segments) measures from that older one. */
static void rtt_samples_come_from_tsecr_of_acks_of_new_data(void **state)
{
    (void)state;
    struct tp p;
    tp_init(&p, NULL);
    struct ust_tcp_opts o = opts_ts();
    int fd = tp_stack_connects(&p, 5005, &o, 100 * TP_MS);
    int one = 1;
    assert_int_equal(ust_setsockopt(p.stack, fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)), 0);
    assert_rtt(&p, fd, 100000, 50000, 300000);
    tp_send(&p, UST_TCP_ACK, 0);            /* the scaled window, so that ... */
    /* Segment A; 260 ms later a duplicate ACK echoing A's TSval, then the
     * ACK of A echoing it too. Only the second is a sample (260 ms). */
    size_t mark = p.nsegs;
    tp_app_send(&p, fd, 100);
    uint32_t ts_a = p.segs[mark].th.opts.tsval;
    tp_run(&p, 260 * TP_MS);
    assert_int_equal(tp_sent_since(&p, mark), 1);
    p.echo = ts_a;
    tp_send(&p, UST_TCP_ACK, 0);            /* ... this one is a true duplicate */
    assert_int_equal(tp_tcb(&p)->dupacks, 1);
    struct tcp_info ti = tp_info(&p, fd);
    assert_int_equal(ti.tcpi_rtt, 100000);
    assert_int_equal(ti.tcpi_rttvar, 50000);
    tp_ack_all(&p);
    assert_rtt(&p, fd, 120000, 77500, 120000 + 4 * 77500);
    /* B, then C 100 ms later; one ACK for both 200 ms after B, echoing B's
     * TSval: the sample is 200 ms, not C's 100 ms. */
    mark = p.nsegs;
    tp_app_send(&p, fd, 100);
    uint32_t ts_b = tp_last(&p)->th.opts.tsval;
    tp_run(&p, 100 * TP_MS);
    tp_app_send(&p, fd, 100);
    assert_int_equal(tp_sent_since(&p, mark), 2);
    tp_run(&p, 100 * TP_MS);
    p.echo = ts_b;
    tp_ack_all(&p);
    /* RTTVAR = 3/4 * 77500 + 1/4 * 80000; SRTT = 7/8 * 120000 + 1/8 * 200000
     * (with C's 100 ms it would be 63125 and 117500). */
    ti = tp_info(&p, fd);
    assert_int_equal(ti.tcpi_rttvar, 78125);
    assert_int_equal(ti.tcpi_rtt, 130000);
    tp_free(&p);
}

/* RFC 7323 4.3: TS.Recent takes SEG.TSval only when SEG.SEQ <= Last.ACK.sent.
 * (A) A delayed ACK for two segments echoes the first one's TSval.
 * (C) The duplicate ACK for out-of-order data echoes the last in-order
 *     segment's; the ACK for the segment filling the hole echoes the
 *     filler's. */
static void echoed_tsval_follows_last_ack_sent(void **state)
{
    (void)state;
    struct tp p;
    tp_init(&p, NULL);
    int lfd = tp_listen(&p, 80, 4);
    struct ust_tcp_opts o = tp_syn_opts(&p);
    int fd = tp_peer_connects(&p, lfd, &o, 1 * TP_MS);
    assert_int_equal(tp_info(&p, fd).tcpi_options & TCPI_OPT_TIMESTAMPS, TCPI_OPT_TIMESTAMPS);
    tp_run(&p, 1 * TP_SEC);
    /* (A) Two full segments 5 ms apart: one ACK, right after the second,
     * echoing the first's TSval. */
    size_t mark = p.nsegs;
    p.tsval = 6001;
    tp_send(&p, UST_TCP_ACK, 1448);
    assert_int_equal(tp_sent_since(&p, mark), 0);   /* delayed */
    tp_run(&p, 5 * TP_MS);
    p.tsval = 6006;
    tp_send(&p, UST_TCP_ACK, 1448);
    assert_int_equal(tp_sent_since(&p, mark), 1);
    struct tp_seg *a = tp_last(&p);
    assert_int_equal(a->th.ack, p.snd_nxt);
    assert_int_equal(a->th.opts.tsecr, 6001);
    /* (C) In order (TSval 7000, delayed), then a hole: the segment after
     * the missing one (TSval 7100) draws an ACK at once, echoing 7000. */
    tp_run(&p, 1 * TP_SEC);
    mark = p.nsegs;
    p.tsval = 7000;
    tp_send(&p, UST_TCP_ACK, 100);
    uint32_t hole = p.snd_nxt;
    p.snd_nxt += 1448;
    p.tsval = 7100;
    tp_send(&p, UST_TCP_ACK, 1448);
    assert_int_equal(tp_sent_since(&p, mark), 1);
    assert_int_equal(tp_last(&p)->th.ack, hole);
    assert_int_equal(tp_last(&p)->th.opts.tsecr, 7000);
    /* The retransmission fills the hole (TSval 7200): ACK at once, echoing it. */
    uint32_t end = p.snd_nxt;
    p.snd_nxt = hole;
    p.tsval = 7200;
    tp_send(&p, UST_TCP_ACK, 1448);
    p.snd_nxt = end;
    assert_int_equal(tp_sent_since(&p, mark), 2);
    assert_int_equal(tp_last(&p)->th.ack, end);
    assert_int_equal(tp_last(&p)->th.opts.tsecr, 7200);
    tp_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(srtt_rttvar_rto_follow_rfc6298_for_known_samples),
        cmocka_unit_test(rto_floor_is_200ms_by_default_and_configurable),
        cmocka_unit_test(rto_backoff_doubles_up_to_120s),
        cmocka_unit_test(karn_no_sample_from_retransmitted_segment),
        cmocka_unit_test(rtt_samples_come_from_tsecr_of_acks_of_new_data),
        cmocka_unit_test(echoed_tsval_follows_last_ack_sent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
