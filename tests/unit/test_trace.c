/* The event trace (include/ustack/trace.h): a connection's life on the
 * simulator shows up as the textbook tells it, in order - the handshake
 * with its options, the SYN queue and the accept queue, bytes into the send
 * buffer and out of the receive buffer, a retransmission after a lost
 * segment, the four-way close and the TIME-WAIT timer - and the text form
 * reads like tcpdump. Socket calls are traced on entry and return, pipe
 * and queue traffic with sizes, priorities and types. With tracing off,
 * nothing is delivered. */
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "unit/sim_test_util.h"
#include "unit/tcp_test_util.h"
#include "ustack/trace.h"

#define MAXEV 4096

struct rec {
    int host;                       /* 0 = A, 1 = B */
    struct ust_trace_event ev;
    char text[256];
};

struct log {
    struct rec r[MAXEV];
    size_t n;
};

struct sink {
    struct log *log;
    int host;
};

static void collect(void *arg, const struct ust_trace_event *ev)
{
    struct sink *s = arg;
    if (s->log->n >= MAXEV)
        return;
    struct rec *r = &s->log->r[s->log->n++];
    r->host = s->host;
    r->ev = *ev;
    ust_trace_format(ev, r->text, sizeof(r->text));
}

/* Index of the first record at or after from on host whose text contains
 * needle (and whose kind is kind), or -1. */
static long find_from(const struct log *l, size_t from, int host, enum ust_trace_kind kind,
                      const char *needle)
{
    for (size_t i = from; i < l->n; i++)
        if (l->r[i].host == host && l->r[i].ev.kind == kind && strstr(l->r[i].text, needle))
            return (long)i;
    return -1;
}

static void dump(const struct log *l)
{
    for (size_t i = 0; i < l->n; i++)
        print_message("%c %s\n", l->r[i].host ? 'B' : 'A', l->r[i].text);
}

/* Asserts that the needles appear in this order (each after the previous). */
struct step {
    int host;
    enum ust_trace_kind kind;
    const char *needle;
};

static void assert_story(const struct log *l, const struct step *steps, size_t n)
{
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        long k = find_from(l, at, steps[i].host, steps[i].kind, steps[i].needle);
        if (k < 0) {
            dump(l);
            fail_msg("step %zu: no %s event on %c containing '%s' after record %zu", i,
                     ust_trace_kind_name(steps[i].kind), steps[i].host ? 'B' : 'A',
                     steps[i].needle, at);
        }
        at = (size_t)k + 1;
    }
}

static void connection_life_is_traced_in_order(void **state)
{
    (void)state;
    struct tnet n;
    uint64_t seed = sim_test_seed(1);
    tnet_setup(&n, seed, NULL);
    struct log *log = calloc(1, sizeof(*log));
    assert_non_null(log);
    struct sink sa = { log, 0 }, sb = { log, 1 };
    ust_trace_set(n.a, UST_TRACE_ALL, collect, &sa);
    ust_trace_set(n.b, UST_TRACE_ALL, collect, &sb);

    int lfd = tlisten(&n, 80, 8);
    int afd;
    int bfd = tconnect_pair(&n, lfd, 80, &afd);
    SIM_ASSERT_EQ(seed, ust_send(n.a, afd, "hello", 5, 0), 5);
    tnet_run(&n, 100 * TMS);
    char buf[16];
    SIM_ASSERT_EQ(seed, ust_recv(n.b, bfd, buf, sizeof(buf), 0), 5);
    /* Lose A's next data segment once: B gets it again after an RTO. */
    struct ust_link_params cut = { .delay_ns = 1 * TMS, .loss = 1.0 };
    struct ust_link_params ok = { .delay_ns = 1 * TMS };
    ust_sim_link_set_params(n.link, 0, &cut);
    SIM_ASSERT_EQ(seed, ust_send(n.a, afd, "again", 5, 0), 5);
    tnet_run(&n, 5 * TMS);
    ust_sim_link_set_params(n.link, 0, &ok);
    tnet_run(&n, 2 * TSEC);
    SIM_ASSERT_EQ(seed, ust_recv(n.b, bfd, buf, sizeof(buf), 0), 5);
    SIM_ASSERT_EQ(seed, ust_close(n.a, afd), 0);
    tnet_run(&n, 100 * TMS);
    SIM_ASSERT_EQ(seed, ust_close(n.b, bfd), 0);
    tnet_run(&n, 100 * TMS);

    const struct step story[] = {
        { 0, UST_TRACE_STATE, "CLOSED -> SYN-SENT" },
        { 0, UST_TRACE_SEG_OUT, "[S] seq 0 win" },
        { 1, UST_TRACE_SEG_IN, "[S] seq 0 win" },
        { 1, UST_TRACE_STATE, "LISTEN -> SYN-RECEIVED" },
        { 1, UST_TRACE_QUEUE, "SYN queue +1 (syn 1, accept 0/8)" },
        { 1, UST_TRACE_SEG_OUT, "[S.] seq 0 ack 1" },
        { 0, UST_TRACE_SEG_IN, "[S.] seq 0 ack 1" },
        { 0, UST_TRACE_STATE, "SYN-SENT -> ESTABLISHED" },
        { 0, UST_TRACE_SEG_OUT, "[.] seq 1 ack 1" },
        { 1, UST_TRACE_STATE, "SYN-RECEIVED -> ESTABLISHED" },
        { 1, UST_TRACE_QUEUE, "accept queue +1 (syn 0, accept 1/8)" },
        { 1, UST_TRACE_QUEUE, "accepted (syn 0, accept 0/8)" },
        { 0, UST_TRACE_BUF, "5 bytes into send buffer" },
        { 0, UST_TRACE_SEG_OUT, "[P.] seq 1:6 ack 1" },
        { 1, UST_TRACE_SEG_IN, "[P.] seq 1:6 ack 1" },
        { 1, UST_TRACE_TIMER, "delayed-ACK timer set" },
        { 1, UST_TRACE_BUF, "5 bytes out of receive buffer" },
        { 0, UST_TRACE_SEG_OUT, "seq 6:11" },
        { 0, UST_TRACE_TIMER, "RTO timer fired" },
        { 0, UST_TRACE_CC, "RTO: cwnd" },
        { 0, UST_TRACE_SEG_OUT, "seq 6:11 ack 1 win" },
        { 1, UST_TRACE_SEG_IN, "seq 6:11" },
        { 0, UST_TRACE_STATE, "ESTABLISHED -> FIN-WAIT-1" },
        { 0, UST_TRACE_SEG_OUT, "[F.] seq 11 ack 1" },
        { 1, UST_TRACE_STATE, "ESTABLISHED -> CLOSE-WAIT" },
        { 0, UST_TRACE_STATE, "FIN-WAIT-1 -> FIN-WAIT-2" },
        { 1, UST_TRACE_STATE, "CLOSE-WAIT -> LAST-ACK" },
        { 1, UST_TRACE_SEG_OUT, "[F.] seq 1 ack 12" },
        { 0, UST_TRACE_SEG_OUT, "[.] seq 12 ack 2" },
        { 0, UST_TRACE_STATE, "FIN-WAIT-2 -> TIME-WAIT" },
        { 0, UST_TRACE_TIMER, "TIME-WAIT timer set (60000.000 ms)" },
        { 1, UST_TRACE_STATE, "LAST-ACK -> CLOSED" },
    };
    assert_story(log, story, sizeof(story) / sizeof(story[0]));

    /* The SYN carries the options, as tcpdump would print them. */
    long k = find_from(log, 0, 0, UST_TRACE_SEG_OUT, "[S]");
    SIM_ASSERT(seed, k >= 0);
    const struct ust_trace_event *syn = &log->r[k].ev;
    SIM_ASSERT_EQ(seed, syn->u.seg.mss, 1460);
    SIM_ASSERT(seed, syn->u.seg.sack_permitted && syn->u.seg.has_ts);
    SIM_ASSERT_EQ(seed, syn->u.seg.wscale, 2);
    SIM_ASSERT_EQ(seed, syn->laddr, 0x0a000001u);
    SIM_ASSERT_EQ(seed, syn->raddr, 0x0a000002u);
    SIM_ASSERT_EQ(seed, syn->rport, 80);
    SIM_ASSERT(seed, strstr(log->r[k].text, "10.0.0.1:") && strstr(log->r[k].text, " > 10.0.0.2:80 [S]"));
    SIM_ASSERT(seed, strstr(log->r[k].text, "<mss 1460,sackOK,TS val ") != NULL);
    SIM_ASSERT(seed, strstr(log->r[k].text, ",wscale 2> length 0") != NULL);
    /* Exactly one retransmission is flagged, and it is the lost segment. */
    int rexmits = 0;
    for (size_t i = 0; i < log->n; i++) {
        if (log->r[i].ev.kind == UST_TRACE_SEG_OUT && log->r[i].ev.u.seg.retransmit) {
            rexmits++;
            SIM_ASSERT(seed, strstr(log->r[i].text, "seq 6:11") != NULL);
            SIM_ASSERT(seed, strstr(log->r[i].text, "(retransmission)") != NULL);
        }
    }
    SIM_ASSERT_EQ(seed, rexmits, 1);
    /* Events are stamped with the stack's clock, which never goes back. */
    uint64_t last[2] = { 0, 0 };
    for (size_t i = 0; i < log->n; i++) {
        SIM_ASSERT(seed, log->r[i].ev.time_ns >= last[log->r[i].host]);
        last[log->r[i].host] = log->r[i].ev.time_ns;
    }
    ust_sim_free(n.sim);
    free(log);
}

static void mask_selects_kinds_and_off_delivers_nothing(void **state)
{
    (void)state;
    struct tnet n;
    uint64_t seed = sim_test_seed(2);
    tnet_setup(&n, seed, NULL);
    struct log *log = calloc(1, sizeof(*log));
    assert_non_null(log);
    struct sink sa = { log, 0 };
    ust_trace_set(n.a, UST_TRACE_BIT(UST_TRACE_STATE), collect, &sa);
    int lfd = tlisten(&n, 80, 8);
    int afd;
    int bfd = tconnect_pair(&n, lfd, 80, &afd);
    SIM_ASSERT(seed, log->n >= 2);
    for (size_t i = 0; i < log->n; i++)
        SIM_ASSERT_EQ(seed, log->r[i].ev.kind, UST_TRACE_STATE);
    size_t before = log->n;
    ust_trace_set(n.a, 0, NULL, NULL);
    SIM_ASSERT_EQ(seed, ust_send(n.a, afd, "x", 1, 0), 1);
    SIM_ASSERT_EQ(seed, ust_close(n.a, afd), 0);
    SIM_ASSERT_EQ(seed, ust_close(n.b, bfd), 0);
    tnet_run(&n, 200 * TMS);
    SIM_ASSERT_EQ(seed, log->n, before);
    ust_sim_free(n.sim);
    free(log);
}

static void socket_calls_and_ipc_traffic_are_traced(void **state)
{
    (void)state;
    struct ust_stack *s = ust_stack_new(NULL);
    assert_non_null(s);
    struct log *log = calloc(1, sizeof(*log));
    assert_non_null(log);
    struct sink sk = { log, 0 };
    ust_trace_set(s, UST_TRACE_BIT(UST_TRACE_CALL) | UST_TRACE_BIT(UST_TRACE_IPC), collect, &sk);

    int fd = ust_socket(s, AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sin = tsin("10.9.9.9", 80);     /* not an address of this stack */
    assert_int_equal(ust_bind(s, fd, (struct sockaddr *)&sin, sizeof(sin)), -1);
    assert_int_equal(ust_close(s, fd), 0);
    int p[2];
    assert_int_equal(ust_pipe(s, p), 0);
    assert_int_equal(ust_write(s, p[1], "abc", 3), 3);
    char buf[64];
    assert_int_equal(ust_read(s, p[0], buf, sizeof(buf)), 3);
    struct mq_attr attr = { .mq_maxmsg = 4, .mq_msgsize = 16 };
    int q = ust_mq_open(s, "/trace", O_CREAT | O_RDWR | O_NONBLOCK, 0600, &attr);
    assert_true(q >= 0);
    assert_int_equal(ust_mq_send(s, q, "hi", 2, 7), 0);
    unsigned prio;
    assert_int_equal(ust_mq_receive(s, q, buf, sizeof(buf), &prio), 2);
    int id = ust_msgget(s, IPC_PRIVATE, IPC_CREAT | 0600);
    assert_true(id >= 0);
    struct { long mtype; char mtext[8]; } m = { 5, "yo" };
    assert_int_equal(ust_msgsnd(s, id, &m, 3, IPC_NOWAIT), 0);
    assert_int_equal(ust_msgrcv(s, id, &m, sizeof(m.mtext), 0, IPC_NOWAIT), 3);

    char want[64];
    snprintf(want, sizeof(want), "socket(-1) = %d", fd);
    const struct step story[] = {
        { 0, UST_TRACE_CALL, "socket(-1) ..." },
        { 0, UST_TRACE_CALL, want },
        { 0, UST_TRACE_CALL, "bind(" },
        { 0, UST_TRACE_CALL, ") = -1 Cannot assign requested address" },
        { 0, UST_TRACE_CALL, "close(" },
        { 0, UST_TRACE_CALL, "write(" },
        { 0, UST_TRACE_IPC, "pipe: wrote 3 bytes, 3 queued" },
        { 0, UST_TRACE_CALL, ") = 3" },
        { 0, UST_TRACE_IPC, "pipe: read 3 bytes, 0 queued" },
        { 0, UST_TRACE_IPC, ": wrote 2 bytes (prio 7), 1 queued" },
        { 0, UST_TRACE_IPC, ": read 2 bytes (prio 7), 0 queued" },
        { 0, UST_TRACE_IPC, ": wrote 3 bytes (type 5), 1 queued" },
        { 0, UST_TRACE_IPC, ": read 3 bytes (type 5), 0 queued" },
    };
    assert_story(log, story, sizeof(story) / sizeof(story[0]));
    long k = find_from(log, 0, 0, UST_TRACE_IPC, "(prio 7)");
    assert_true(k >= 0);
    assert_string_equal(log->r[k].ev.u.ipc.object, "mq");
    assert_int_equal(log->r[k].ev.u.ipc.fd, q);
    ust_mq_close(s, q);
    ust_mq_unlink(s, "/trace");
    ust_msgctl(s, id, IPC_RMID, NULL);
    ust_stack_free(s);
    free(log);
}

static void format_reports_truncation_like_snprintf(void **state)
{
    (void)state;
    struct ust_trace_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.kind = UST_TRACE_STATE;
    ev.time_ns = 1500000000ull;
    ev.laddr = 0x0a000001u;
    ev.lport = 1234;
    ev.raddr = 0x0a000002u;
    ev.rport = 80;
    ev.u.state.from = "ESTABLISHED";
    ev.u.state.to = "FIN-WAIT-1";
    char full[256], tiny[8];
    int len = ust_trace_format(&ev, full, sizeof(full));
    assert_string_equal(full,
                        "1.500000 state   10.0.0.1:1234-10.0.0.2:80 ESTABLISHED -> FIN-WAIT-1");
    assert_int_equal(len, (int)strlen(full));
    assert_int_equal(ust_trace_format(&ev, tiny, sizeof(tiny)), len);
    assert_int_equal(strlen(tiny), sizeof(tiny) - 1);
    assert_string_equal(ust_trace_kind_name(UST_TRACE_SEG_OUT), "seg-out");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(connection_life_is_traced_in_order),
        cmocka_unit_test(mask_selects_kinds_and_off_delivers_nothing),
        cmocka_unit_test(socket_calls_and_ipc_traffic_are_traced),
        cmocka_unit_test(format_reports_truncation_like_snprintf),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
