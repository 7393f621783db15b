/* The last transitions of RFC 9293 Figure 5 and the order of segment
 * processing (§3.10.7.4), against a scripted peer (test_tcp_rules_peer.h),
 * with the state changes read from the event trace:
 *  - FIN-WAIT-1 -> TIME-WAIT when one segment carries the peer's FIN and
 *    the ACK of ours (the ACK step runs before the FIN step, so the block
 *    passes FIN-WAIT-2 within the segment, as §3.10.7.4 describes);
 *  - data and FIN in one segment: the data is delivered, then end of file
 *    (the data step runs before the FIN step);
 *  - SYN-SENT -> CLOSED on close(): nothing more is sent, and a late
 *    SYN-ACK finds no connection (RST);
 *  - LISTEN -> CLOSED on close(): a later SYN is refused with RST. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "unit/test_tcp_rules_peer.h"

/* State changes seen through the trace, as "FROM>TO" strings. */
struct states {
    char seen[32][48];
    unsigned n;
};

static void on_state(void *arg, const struct ust_trace_event *ev)
{
    struct states *st = arg;
    if (ev->kind == UST_TRACE_STATE && st->n < 32)
        snprintf(st->seen[st->n++], sizeof(st->seen[0]), "%s>%s", ev->u.state.from,
                 ev->u.state.to);
}

static bool saw(const struct states *st, const char *change)
{
    for (unsigned i = 0; i < st->n; i++)
        if (strcmp(st->seen[i], change) == 0)
            return true;
    return false;
}

static struct ust_tcp_opts peer_syn_opts(struct tp *p)
{
    p->ts = false;
    struct ust_tcp_opts o = { .present = UST_TCPO_MSS, .mss = 1460 };
    return o;
}

/* An established connection from the stack (port 4000) to the peer. */
static int established(struct tp *p, struct states *st)
{
    tp_init(p, NULL);
    p->pport = 80;
    ust_trace_set(p->stack, UST_TRACE_BIT(UST_TRACE_STATE), on_state, st);
    struct ust_tcp_opts o = peer_syn_opts(p);
    int fd = tp_stack_connects(p, 4000, &o, 10 * TP_MS);
    assert_non_null(tp_tcb(p));
    assert_int_equal(tp_tcb(p)->state, UST_TCP_ESTABLISHED);
    return fd;
}

static void fin_wait_1_to_time_wait_on_fin_carrying_the_ack_of_ours(void **state)
{
    (void)state;
    struct tp p;
    struct states st = { .n = 0 };
    int fd = established(&p, &st);
    size_t mark = p.nsegs;
    assert_int_equal(ust_close(p.stack, fd), 0);
    assert_int_equal(tp_sent_since(&p, mark), 1);
    assert_true(tp_last(&p)->th.flags & UST_TCP_FIN);
    assert_int_equal(tp_tcb(&p)->state, UST_TCP_FIN_WAIT_1);
    /* One segment: the peer's FIN, acknowledging our FIN. */
    tp_run(&p, 10 * TP_MS);
    p.rcv_nxt = tp_last(&p)->th.seq + 1;
    mark = p.nsegs;
    tp_send(&p, UST_TCP_FIN | UST_TCP_ACK, 0);
    struct ust_tcb *t = tp_tcb(&p);
    assert_non_null(t);
    assert_int_equal(t->state, UST_TCP_TIME_WAIT);
    /* §3.10.7.4: the ACK step sees our FIN acknowledged (FIN-WAIT-2), then
     * the FIN step enters TIME-WAIT - Figure 5's FIN-WAIT-1 -> TIME-WAIT,
     * within this one segment; never CLOSING (which would mean the FIN was
     * taken before the ACK). */
    assert_int_equal(st.n >= 2, 1);
    assert_string_equal(st.seen[st.n - 2], "FIN-WAIT-1>FIN-WAIT-2");
    assert_string_equal(st.seen[st.n - 1], "FIN-WAIT-2>TIME-WAIT");
    assert_false(saw(&st, "FIN-WAIT-1>CLOSING"));
    /* ...and the peer's FIN is acknowledged. */
    assert_int_equal(tp_sent_since(&p, mark), 1);
    assert_int_equal(tp_last(&p)->th.flags, UST_TCP_ACK);
    assert_int_equal(tp_last(&p)->th.ack, p.snd_nxt);
    tp_free(&p);
}

static void data_and_fin_in_one_segment_give_the_data_then_eof(void **state)
{
    (void)state;
    struct tp p;
    struct states st = { .n = 0 };
    int fd = established(&p, &st);
    tp_send(&p, UST_TCP_ACK | UST_TCP_PSH | UST_TCP_FIN, 100);
    assert_int_equal(tp_tcb(&p)->state, UST_TCP_CLOSE_WAIT);
    uint8_t buf[256];
    assert_int_equal(ust_recv(p.stack, fd, buf, sizeof(buf), 0), 100);
    for (unsigned i = 0; i < 100; i++)
        assert_int_equal(buf[i], (uint8_t)i);
    assert_int_equal(ust_recv(p.stack, fd, buf, sizeof(buf), 0), 0);
    /* The ACK covers the data and the FIN. */
    tp_run(&p, 1 * TP_SEC);
    bool acked = false;
    for (size_t i = 0; i < p.nsegs; i++)
        acked |= (p.segs[i].th.flags & UST_TCP_ACK) && p.segs[i].th.ack == p.snd_nxt;
    assert_true(acked);
    assert_true(saw(&st, "ESTABLISHED>CLOSE-WAIT"));
    ust_close(p.stack, fd);
    tp_free(&p);
}

static void close_in_syn_sent_goes_to_closed_silently(void **state)
{
    (void)state;
    struct tp p;
    struct states st = { .n = 0 };
    tp_init(&p, NULL);
    p.pport = 80;
    ust_trace_set(p.stack, UST_TRACE_BIT(UST_TRACE_STATE), on_state, &st);
    int fd = ust_socket(p.stack, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    assert_true(fd >= 0);
    struct sockaddr_in me = { .sin_family = AF_INET, .sin_port = htons(4001),
                              .sin_addr = { htonl(TP_ME) } };
    assert_int_equal(ust_bind(p.stack, fd, (struct sockaddr *)&me, sizeof(me)), 0);
    p.sport = 4001;
    struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(80),
                              .sin_addr = { htonl(TP_PEER) } };
    assert_int_equal(ust_connect(p.stack, fd, (struct sockaddr *)&to, sizeof(to)), -1);
    assert_int_equal(errno, EINPROGRESS);
    uint32_t iss = tp_last(&p)->th.seq;
    assert_int_equal(tp_tcb(&p)->state, UST_TCP_SYN_SENT);
    size_t mark = p.nsegs;
    assert_int_equal(ust_close(p.stack, fd), 0);
    assert_null(tp_tcb(&p));
    assert_true(saw(&st, "SYN-SENT>CLOSED"));
    /* Linux sends nothing when a SYN-SENT socket is closed, and its SYN is
     * not retransmitted any more. */
    tp_run(&p, 10 * TP_SEC);
    assert_int_equal(tp_sent_since(&p, mark), 0);
    /* A late SYN-ACK finds no connection: RST with SEQ = its ACK. */
    p.snd_nxt = 5000;
    struct ust_tcp_opts o = { .present = UST_TCPO_MSS, .mss = 1460 };
    tp_inject(&p, p.snd_nxt, iss + 1, UST_TCP_SYN | UST_TCP_ACK, 65535, &o, 0);
    assert_int_equal(tp_sent_since(&p, mark), 1);
    assert_int_equal(tp_last(&p)->th.flags, UST_TCP_RST);
    assert_int_equal(tp_last(&p)->th.seq, iss + 1);
    tp_free(&p);
}

static void close_of_a_listener_goes_to_closed_and_refuses_new_syns(void **state)
{
    (void)state;
    struct tp p;
    struct states st = { .n = 0 };
    tp_init(&p, NULL);
    p.pport = 5555;
    ust_trace_set(p.stack, UST_TRACE_BIT(UST_TRACE_STATE), on_state, &st);
    int lfd = tp_listen(&p, 80, 4);
    assert_non_null(ust_tcp_lookup_listener(p.stack, TP_ME, 80));
    assert_int_equal(ust_close(p.stack, lfd), 0);
    assert_null(ust_tcp_lookup_listener(p.stack, TP_ME, 80));
    assert_true(saw(&st, "LISTEN>CLOSED"));
    size_t mark = p.nsegs;
    struct ust_tcp_opts o = peer_syn_opts(&p);
    tp_inject(&p, 1000, 0, UST_TCP_SYN, 65535, &o, 0);
    assert_int_equal(tp_sent_since(&p, mark), 1);
    assert_int_equal(tp_last(&p)->th.flags, UST_TCP_RST | UST_TCP_ACK);
    assert_int_equal(tp_last(&p)->th.ack, 1001);
    tp_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fin_wait_1_to_time_wait_on_fin_carrying_the_ack_of_ours),
        cmocka_unit_test(data_and_fin_in_one_segment_give_the_data_then_eof),
        cmocka_unit_test(close_in_syn_sent_goes_to_closed_silently),
        cmocka_unit_test(close_of_a_listener_goes_to_closed_and_refuses_new_syns),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
