/* TCP urgent data (RFC 9293 3.8.5 and the URG step of 3.10.7.4, RFC 6093)
 * with Linux's socket behaviour, between two simulated hosts:
 * - send(MSG_OOB) sets URG with the pointer just past the last urgent byte
 *   (RFC 6093, Linux), so the receiver takes SEG.SEQ + SEG.UP - 1 as the
 *   urgent byte;
 * - without SO_OOBINLINE (the default) a read stops at the mark, the urgent
 *   byte is taken out of the stream and recv(MSG_OOB) returns it once
 *   (msg_flags MSG_OOB; MSG_PEEK leaves it; then EINVAL); SIOCATMARK says
 *   when reading reached the mark; poll gives POLLPRI while it waits, and no
 *   POLLIN when the urgent byte is the only thing queued;
 * - with SO_OOBINLINE the byte stays in the stream (recv(MSG_OOB): EINVAL)
 *   and a read still stops at the mark;
 * - a newer urgent pointer replaces the older one (RCV.UP only advances)
 *   and the older urgent byte becomes ordinary data;
 * - a pointer beyond its segment: EAGAIN until the byte arrives;
 * - no urgent data: recv(MSG_OOB) is EINVAL, SIOCATMARK 0, no POLLPRI. */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <linux/sockios.h>
#include <cmocka.h>

#include "unit/sim_test_util.h"
#include "unit/tcp_test_util.h"

struct pair {
    struct tnet n;
    int a, b;   /* A's connected socket, B's accepted one */
};

static void pair_setup(struct pair *p, uint64_t seed)
{
    tnet_setup(&p->n, sim_test_seed(seed), NULL);
    int lfd = tlisten(&p->n, 80, 4);
    p->b = tconnect_pair(&p->n, lfd, 80, &p->a);
}

static void a_sends(struct pair *p, const char *s, int flags)
{
    SIM_ASSERT_EQ(p->n.seed, ust_send(p->n.a, p->a, s, strlen(s), flags), strlen(s));
    tnet_run(&p->n, 50 * TMS);
}

static int atmark(struct pair *p)
{
    int v = -1;
    SIM_ASSERT_EQ(p->n.seed, ust_ioctl(p->n.b, p->b, SIOCATMARK, &v), 0);
    return v;
}

static short b_revents(struct pair *p)
{
    struct pollfd pf = { .fd = p->b, .events = POLLIN | POLLPRI };
    SIM_ASSERT(p->n.seed, ust_poll(p->n.b, &pf, 1, 0) >= 0);
    return pf.revents;
}

/* recvmsg on B: the bytes (NUL-terminated) and msg_flags. */
static ssize_t b_recv(struct pair *p, char *buf, size_t len, int flags, int *mflags)
{
    struct iovec iov = { buf, len - 1 };
    struct msghdr m;
    memset(&m, 0, sizeof(m));
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    ssize_t r = ust_recvmsg(p->n.b, p->b, &m, flags);
    buf[r > 0 ? r : 0] = 0;
    if (mflags)
        *mflags = m.msg_flags;
    return r;
}

static void oob_byte_is_taken_out_and_read_once_with_msg_oob(void **state)
{
    (void)state;
    struct pair p;
    pair_setup(&p, 801);
    uint64_t seed = p.n.seed;
    struct ust_tcb *ta = ttcb(p.n.a, p.a), *tb = ttcb(p.n.b, p.b);
    a_sends(&p, "abc", 0);
    SIM_ASSERT_EQ(seed, atmark(&p), 0);
    SIM_ASSERT(seed, !(b_revents(&p) & POLLPRI));
    a_sends(&p, "xyz", MSG_OOB);
    /* RFC 6093: SND.UP is just past 'z'; the receiver's urgent byte is 'z'. */
    SIM_ASSERT_EQ(seed, ta->snd_up - ta->iss, 1 + 6);
    SIM_ASSERT_EQ(seed, tb->rcv_up - tb->irs, 1 + 5);
    SIM_ASSERT(seed, b_revents(&p) & POLLPRI);

    char buf[64];
    int mf = -1;
    /* The read stops before the urgent byte. */
    SIM_ASSERT_EQ(seed, b_recv(&p, buf, sizeof(buf), 0, &mf), 5);
    SIM_ASSERT(seed, strcmp(buf, "abcxy") == 0);
    SIM_ASSERT_EQ(seed, mf, 0);
    SIM_ASSERT_EQ(seed, atmark(&p), 1);
    /* Only the urgent byte is queued: not readable, but POLLPRI. */
    short ev = b_revents(&p);
    SIM_ASSERT(seed, ev & POLLPRI);
    SIM_ASSERT(seed, !(ev & POLLIN));
    /* No room: MSG_TRUNC says a byte was there (Linux tcp_recv_urg). */
    SIM_ASSERT_EQ(seed, b_recv(&p, buf, 1, MSG_OOB | MSG_PEEK, &mf), 0);
    SIM_ASSERT_EQ(seed, mf, MSG_OOB | MSG_TRUNC);
    /* MSG_PEEK leaves it; MSG_OOB takes it once. */
    SIM_ASSERT_EQ(seed, b_recv(&p, buf, sizeof(buf), MSG_OOB | MSG_PEEK, &mf), 1);
    SIM_ASSERT_EQ(seed, buf[0], 'z');
    SIM_ASSERT_EQ(seed, mf, MSG_OOB);
    SIM_ASSERT_EQ(seed, b_recv(&p, buf, sizeof(buf), MSG_OOB, &mf), 1);
    SIM_ASSERT_EQ(seed, buf[0], 'z');
    SIM_ASSERT_EQ(seed, mf, MSG_OOB);
    SIM_ASSERT(seed, !(b_revents(&p) & POLLPRI));
    errno = 0;
    SIM_ASSERT_EQ(seed, b_recv(&p, buf, sizeof(buf), MSG_OOB, NULL), -1);
    SIM_ASSERT_EQ(seed, errno, EINVAL);
    /* It is not in the stream: the next read sees only later data. */
    errno = 0;
    SIM_ASSERT_EQ(seed, b_recv(&p, buf, sizeof(buf), 0, NULL), -1);
    SIM_ASSERT_EQ(seed, errno, EAGAIN);
    a_sends(&p, "more", 0);
    SIM_ASSERT_EQ(seed, b_recv(&p, buf, sizeof(buf), 0, NULL), 4);
    SIM_ASSERT(seed, strcmp(buf, "more") == 0);
    SIM_ASSERT_EQ(seed, atmark(&p), 0);
    ust_sim_free(p.n.sim);
}

static void unread_oob_byte_is_skipped_by_a_normal_read(void **state)
{
    (void)state;
    struct pair p;
    pair_setup(&p, 802);
    uint64_t seed = p.n.seed;
    a_sends(&p, "12", 0);
    a_sends(&p, "!", MSG_OOB);
    a_sends(&p, "34", 0);
    char buf[64];
    SIM_ASSERT_EQ(seed, b_recv(&p, buf, sizeof(buf), 0, NULL), 2);   /* stops at the mark */
    SIM_ASSERT(seed, strcmp(buf, "12") == 0);
    SIM_ASSERT_EQ(seed, atmark(&p), 1);
    SIM_ASSERT_EQ(seed, b_recv(&p, buf, sizeof(buf), 0, NULL), 2);   /* '!' stepped over */
    SIM_ASSERT(seed, strcmp(buf, "34") == 0);
    SIM_ASSERT_EQ(seed, atmark(&p), 0);
    errno = 0;
    SIM_ASSERT_EQ(seed, b_recv(&p, buf, sizeof(buf), MSG_OOB, NULL), -1);
    SIM_ASSERT_EQ(seed, errno, EINVAL);
    ust_sim_free(p.n.sim);
}

static void oobinline_keeps_the_byte_in_the_stream(void **state)
{
    (void)state;
    struct pair p;
    pair_setup(&p, 803);
    uint64_t seed = p.n.seed;
    int one = 1, v = 0;
    socklen_t l = sizeof(v);
    SIM_ASSERT_EQ(seed, ust_setsockopt(p.n.b, p.b, SOL_SOCKET, SO_OOBINLINE, &one, sizeof(one)), 0);
    SIM_ASSERT_EQ(seed, ust_getsockopt(p.n.b, p.b, SOL_SOCKET, SO_OOBINLINE, &v, &l), 0);
    SIM_ASSERT_EQ(seed, v, 1);
    a_sends(&p, "abc", 0);
    a_sends(&p, "xyz", MSG_OOB);
    a_sends(&p, "def", 0);
    SIM_ASSERT(seed, b_revents(&p) & POLLPRI);
    char buf[64];
    errno = 0;
    SIM_ASSERT_EQ(seed, b_recv(&p, buf, sizeof(buf), MSG_OOB, NULL), -1);
    SIM_ASSERT_EQ(seed, errno, EINVAL);
    SIM_ASSERT_EQ(seed, b_recv(&p, buf, sizeof(buf), 0, NULL), 5);   /* stops at the mark */
    SIM_ASSERT(seed, strcmp(buf, "abcxy") == 0);
    SIM_ASSERT_EQ(seed, atmark(&p), 1);
    SIM_ASSERT_EQ(seed, b_recv(&p, buf, sizeof(buf), 0, NULL), 4);   /* the byte, inline */
    SIM_ASSERT(seed, strcmp(buf, "zdef") == 0);
    SIM_ASSERT_EQ(seed, atmark(&p), 0);
    SIM_ASSERT(seed, !(b_revents(&p) & POLLPRI));
    ust_sim_free(p.n.sim);
}

static void newer_urgent_pointer_replaces_the_older(void **state)
{
    (void)state;
    struct pair p;
    pair_setup(&p, 804);
    uint64_t seed = p.n.seed;
    a_sends(&p, "12", 0);
    a_sends(&p, "a", MSG_OOB);
    a_sends(&p, "34", 0);
    a_sends(&p, "b", MSG_OOB);
    char buf[64];
    /* RCV.UP moved to 'b': 'a' is ordinary data now. */
    SIM_ASSERT_EQ(seed, b_recv(&p, buf, sizeof(buf), 0, NULL), 5);
    SIM_ASSERT(seed, strcmp(buf, "12a34") == 0);
    SIM_ASSERT_EQ(seed, atmark(&p), 1);
    SIM_ASSERT_EQ(seed, b_recv(&p, buf, sizeof(buf), MSG_OOB, NULL), 1);
    SIM_ASSERT_EQ(seed, buf[0], 'b');
    ust_sim_free(p.n.sim);
}

/* A 4000-byte urgent send spans three segments: the first carries a
 * pointer beyond itself. On a 1 Mbit/s link the segments arrive 12 ms
 * apart, so the receiver is seen between them: announced but not arrived
 * is EAGAIN (Linux TCP_URG_NOTYET), then the byte arrives: POLLPRI. */
static void pointer_beyond_the_segment_waits_for_its_byte(void **state)
{
    (void)state;
    struct pair p;
    struct ust_link_params lp = { .delay_ns = 1 * TMS, .rate_bps = 1000000 };
    tnet_setup(&p.n, sim_test_seed(806), &lp);
    int lfd = tlisten(&p.n, 80, 4);
    p.b = tconnect_pair(&p.n, lfd, 80, &p.a);
    uint64_t seed = p.n.seed;
    static char big[4001];
    memset(big, 'd', 4000);
    big[3999] = '!';
    SIM_ASSERT_EQ(seed, ust_send(p.n.a, p.a, big, 4000, MSG_OOB), 4000);
    tnet_run(&p.n, 14 * TMS);       /* the first segment only */
    struct ust_tcb *tb = ttcb(p.n.b, p.b);
    SIM_ASSERT_EQ(seed, tb->urg_state, UST_TCP_URG_PENDING);
    SIM_ASSERT(seed, ust_seq_lt(tb->rcv_nxt, tb->rcv_up));   /* not arrived */
    char buf[8];
    errno = 0;
    SIM_ASSERT_EQ(seed, b_recv(&p, buf, sizeof(buf), MSG_OOB, NULL), -1);
    SIM_ASSERT_EQ(seed, errno, EAGAIN);
    SIM_ASSERT(seed, !(b_revents(&p) & POLLPRI));
    tnet_run(&p.n, 200 * TMS);
    SIM_ASSERT(seed, b_revents(&p) & POLLPRI);
    SIM_ASSERT_EQ(seed, b_recv(&p, buf, sizeof(buf), MSG_OOB, NULL), 1);
    SIM_ASSERT_EQ(seed, buf[0], '!');
    static char in[5000];
    SIM_ASSERT_EQ(seed, ust_recv(p.n.b, p.b, in, sizeof(in), 0), 3999);
    SIM_ASSERT(seed, memcmp(in, big, 3999) == 0);
    ust_sim_free(p.n.sim);
}

static void no_urgent_data_gives_einval_and_no_pollpri(void **state)
{
    (void)state;
    struct pair p;
    pair_setup(&p, 805);
    uint64_t seed = p.n.seed;
    a_sends(&p, "plain", 0);
    char buf[64];
    errno = 0;
    SIM_ASSERT_EQ(seed, b_recv(&p, buf, sizeof(buf), MSG_OOB, NULL), -1);
    SIM_ASSERT_EQ(seed, errno, EINVAL);
    SIM_ASSERT_EQ(seed, atmark(&p), 0);
    short ev = b_revents(&p);
    SIM_ASSERT(seed, ev & POLLIN);
    SIM_ASSERT(seed, !(ev & POLLPRI));
    SIM_ASSERT_EQ(seed, b_recv(&p, buf, sizeof(buf), 0, NULL), 5);
    /* No segment carried URG. */
    SIM_ASSERT(seed, !ttcb(p.n.a, p.a)->snd_urg);
    ust_sim_free(p.n.sim);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(oob_byte_is_taken_out_and_read_once_with_msg_oob),
        cmocka_unit_test(unread_oob_byte_is_skipped_by_a_normal_read),
        cmocka_unit_test(oobinline_keeps_the_byte_in_the_stream),
        cmocka_unit_test(newer_urgent_pointer_replaces_the_older),
        cmocka_unit_test(pointer_beyond_the_segment_waits_for_its_byte),
        cmocka_unit_test(no_urgent_data_gives_einval_and_no_pollpri),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
