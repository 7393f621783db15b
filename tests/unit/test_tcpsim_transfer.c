/* Acceptance test of TCP ("deterministic simulation"): 1 MB transfers both
 * ways between two simulated hosts, through the public socket API only, under
 * loss 0/1/5/10/20 %, reordering, duplication and corruption, many seeds each.
 *
 * Each run: B listens, A connects (non-blocking); the sender (A for c2s, the
 * accepted socket on B for s2c) writes a seed-dependent 1 MB stream in random
 * chunks with MSG_DONTWAIT, then shutdown(SHUT_WR); the receiver reads random
 * chunk sizes (sometimes MSG_PEEK first) until EOF, then shutdown(SHUT_WR).
 * Application calls interleave with ust_sim_run_until in random virtual-time
 * quanta. Proves, for every run:
 *  - every byte arrives exactly once and in order (compared with the stream),
 *    EOF comes exactly after the last byte; or a call fails with a clean
 *    error (ECONNRESET, ETIMEDOUT...) after a correct prefix;
 *  - poll agrees with the next call: POLLIN <=> recv does not say EAGAIN,
 *    POLLOUT => send does not say EAGAIN;
 *  - the close order decides the end states (TCP_INFO tcpi_state): the
 *    receiver sees CLOSE_WAIT after EOF and CLOSE once its FIN is acked; the
 *    sender (active closer) ends in TIME_WAIT (or CLOSE, as Linux shows a
 *    socket whose TIME_WAIT moved to a mini-socket);
 *  - no run hangs: a run fails if it goes 20 min of virtual time without
 *    progress (longer than the stack takes to give up with ETIMEDOUT) or
 *    lasts over 2 h (failure names the scenario, direction, seed and both
 *    ends' TCP_INFO);
 *  - after both closes the connection goes away: from 60 s to 180 s later
 *    the link carries no frame at all;
 *  - the same seed replays the same run (frame fingerprint).
 *
 * Seeds per scenario: USTACK_TCPSIM_SEEDS (default TCPSIM_SEEDS_DEFAULT;
 * `make soak` runs 500). Replay one failure: USTACK_SEED=<seed> ./test_tcpsim_transfer,
 * with USTACK_TCPSIM_FILTER=<test name pattern> to run one scenario and
 * USTACK_TCPSIM_PCAP=<file> (host A) / USTACK_TCPSIM_PCAP_B=<file> to capture it. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <ustack/ustack.h>

#include "unit/sim_test_util.h"
#include "unit/tcp_sim_util.h"

#define DEFAULT_SEED 0x7c9001u
#define TCPSIM_SEEDS_DEFAULT 20u
#define XFER_BYTES (1u << 20)
#define PORT 5001
#define MAX_CHUNK 65536u
/* A run hangs if it makes no progress (bytes, connect, accept, EOF, close)
 * for longer than a stack needs to give up with ETIMEDOUT: Linux's
 * tcp_retries2 = 15 backoffs add up to about 15.5 minutes. Under 20 % loss
 * both ways, ten or so timeouts in a row do happen now and then (a
 * retransmission or its ACK lost each time), so a bound shorter than the
 * give-up time would flag a stack doing exactly what it should. */
#define IDLE_LIMIT (20 * 60 * TS_SEC)
#define RUN_LIMIT (2 * 3600 * TS_SEC)   /* and no run takes over 2 h of virtual time */
#define QUIET_FROM (60 * TS_SEC)        /* after both closes: TIME_WAIT is over... */
#define QUIET_UNTIL (180 * TS_SEC)      /* ...and no frame until here */

enum dir { C2S, S2C };

struct scenario {
    const char *name;
    double loss, reorder, duplicate, corrupt;
    uint64_t jitter_ns;
};

static const struct scenario scenarios[] = {
    { "loss0", 0, 0, 0, 0, 0 },
    { "loss1", 0.01, 0, 0, 0, 0 },
    { "loss5", 0.05, 0, 0, 0, 0 },
    { "loss10", 0.10, 0, 0, 0, 0 },
    { "loss20", 0.20, 0, 0, 0, 0 },
    { "reorder", 0, 0.10, 0, 0, 1 * TS_MS },
    { "duplicate", 0, 0, 0.10, 0, 0 },
    { "corrupt", 0, 0, 0, 0.05, 0 },
};

struct end {
    struct ust_stack *s;
    int fd;
};

struct xfer {
    struct tcpsim_net n;
    const struct scenario *sc;
    enum dir dir;
    struct tcpsim_rng rng;
    const uint8_t *data;
    uint8_t *buf;
    int lfd, cfd, sfd;
    bool connected;
    struct end snd, rcv;
    size_t sent, rcvd;
    bool snd_shut, snd_eof, snd_done;
    bool rcv_eof, rcv_shut, rcv_done;
    int error;                  /* clean error that ended the run, or 0 */
    /* Results */
    uint64_t frames, frames_late, end_time, hash;
    bool closed;                /* both descriptors closed */
    uint64_t closed_at;
    unsigned total_retrans;
};

#define XFAIL(x, ...)                                                                  \
    xfer_fail(x, __FILE__, __LINE__, __VA_ARGS__)

static void xfer_fail(struct xfer *x, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5), noreturn));

static void xfer_fail(struct xfer *x, const char *file, int line, const char *fmt, ...)
{
    char msg[512], si[256], ri[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    fail_msg("%s:%d: %s %s seed=%" PRIu64 " t=%.3fs: %s\n  sent=%zu rcvd=%zu\n"
             "  sender:   %s\n  receiver: %s",
             file, line, x->sc->name, x->dir == C2S ? "c2s" : "s2c", x->n.seed,
             (double)ust_sim_now(x->n.sim) / 1e9, msg, x->sent, x->rcvd,
             tcpsim_info_str(x->snd.s, x->snd.fd, si, sizeof(si)),
             tcpsim_info_str(x->rcv.s, x->rcv.fd, ri, sizeof(ri)));
    abort(); /* not reached */
}

/* Every delivered frame: fingerprint, and count the ones after both closes. */
static void on_frame(void *arg, const struct ust_sim_link *link, int dir, uint64_t time,
                     const uint8_t *f, size_t len)
{
    struct xfer *x = arg;
    (void)link;
    x->frames++;
    x->hash = sim_test_hash(x->hash, &dir, sizeof(dir));
    x->hash = sim_test_hash(x->hash, &time, sizeof(time));
    x->hash = sim_test_hash(x->hash, f, len);
    if (x->closed && time >= x->closed_at + QUIET_FROM)
        x->frames_late++;
}

static void xfer_setup(struct xfer *x, const struct scenario *sc, enum dir d, uint64_t seed,
                       const uint8_t *data)
{
    memset(x, 0, sizeof(*x));
    x->sc = sc;
    x->dir = d;
    x->data = data;
    x->rng.s = seed ^ 0xa5a5a5a5ull;
    x->hash = SIM_TEST_HASH_INIT;
    x->lfd = x->cfd = x->sfd = x->snd.fd = x->rcv.fd = -1;
    x->buf = malloc(MAX_CHUNK);
    assert_non_null(x->buf);

    struct ust_link_params p = {
        .delay_ns = 5 * TS_MS, .jitter_ns = sc->jitter_ns, .loss = sc->loss,
        .duplicate = sc->duplicate, .corrupt = sc->corrupt, .reorder = sc->reorder,
        .rate_bps = 100000000, .queue_limit = 1000,
    };
    struct ust_stack_config cfg;
    ust_stack_config_init(&cfg);
    cfg.arp_reachable_ns = 3600 * TS_SEC;   /* only TCP on the wire during a run */
    cfg.raise_sigpipe = 0;
    tcpsim_net_init(&x->n, seed, &p, &cfg);
    ust_sim_set_frame_hook(x->n.sim, on_frame, x);
    /* USTACK_TCPSIM_PCAP=FILE / USTACK_TCPSIM_PCAP_B=FILE: host A's / B's
     * side of the link to a pcap (to debug one replayed run). */
    const char *pcap[2] = { getenv("USTACK_TCPSIM_PCAP"), getenv("USTACK_TCPSIM_PCAP_B") };
    for (int side = 0; side < 2; side++)
        if (pcap[side] && *pcap[side])
            SIM_ASSERT_EQ(seed, ust_netif_capture_start(ust_sim_link_netif(x->n.link, side),
                                                        pcap[side]), 0);
    x->lfd = tcpsim_listen(&x->n, x->n.b, TCPSIM_ADDR_B, PORT, 8);
    x->cfd = tcpsim_connect_start(&x->n, x->n.a, TCPSIM_ADDR_B, PORT);
}

static void xfer_free(struct xfer *x)
{
    tcpsim_net_free(&x->n);
    free(x->buf);
}

/* A clean error ends the run; anything else is a failure. */
static void xfer_error(struct xfer *x, const char *call, int err)
{
    if (!tcpsim_clean_error(err))
        XFAIL(x, "%s: unexpected %s", call, strerror(err));
    if (!x->error) {
        x->error = err;
        print_message("  %s %s seed=%" PRIu64 ": %s ended the run with %s after %zu/%u bytes\n",
                      x->sc->name, x->dir == C2S ? "c2s" : "s2c", x->n.seed, call,
                      strerror(err), x->rcvd, XFER_BYTES);
    }
}

/* Client side: completion of the non-blocking connect (POLLOUT, SO_ERROR). */
static void step_connect(struct xfer *x)
{
    if (x->connected || x->error)
        return;
    short rev = tcpsim_revents(x->n.a, x->cfd, POLLOUT);
    if (!(rev & (POLLOUT | POLLERR | POLLHUP)))
        return;
    int err = 0;
    socklen_t len = sizeof(err);
    if (ust_getsockopt(x->n.a, x->cfd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
        XFAIL(x, "getsockopt SO_ERROR: %s", strerror(errno));
    if (err) {
        xfer_error(x, "connect", err);
        return;
    }
    int st = tcpsim_state(x->n.a, x->cfd);
    if (st != TCP_ESTABLISHED && st != TCP_CLOSE_WAIT)
        XFAIL(x, "connect done (POLLOUT) but state %s", tcpsim_state_name(st));
    x->connected = true;
    if (x->dir == C2S)
        x->snd = (struct end){ x->n.a, x->cfd };
    else
        x->rcv = (struct end){ x->n.a, x->cfd };
}

/* Server side: the accepted connection. */
static void step_accept(struct xfer *x)
{
    if (x->sfd >= 0 || x->error)
        return;
    short rev = tcpsim_revents(x->n.b, x->lfd, POLLIN);
    struct sockaddr_in peer;
    socklen_t plen = sizeof(peer);
    int fd = ust_accept4(x->n.b, x->lfd, (struct sockaddr *)&peer, &plen, SOCK_NONBLOCK);
    if (fd < 0) {
        if (errno != EAGAIN)
            XFAIL(x, "accept4: %s", strerror(errno));
        if (rev & POLLIN)
            XFAIL(x, "listener POLLIN but accept4 says EAGAIN");
        return;
    }
    if (!(rev & POLLIN))
        XFAIL(x, "accept4 returned a connection but the listener had no POLLIN");
    struct sockaddr_in a = tcpsim_sin(TCPSIM_ADDR_A, 0);
    if (plen != sizeof(peer) || peer.sin_addr.s_addr != a.sin_addr.s_addr)
        XFAIL(x, "accept4: wrong peer address");
    x->sfd = fd;
    if (x->dir == C2S)
        x->rcv = (struct end){ x->n.b, fd };
    else
        x->snd = (struct end){ x->n.b, fd };
}

static ssize_t do_send(struct xfer *x, size_t len)
{
    if (tcpsim_rand(&x->rng) & 1)
        return ust_send(x->snd.s, x->snd.fd, x->data + x->sent, len, MSG_DONTWAIT | MSG_NOSIGNAL);
    return ust_write(x->snd.s, x->snd.fd, x->data + x->sent, len);
}

/* Sender: random chunks until EAGAIN, then SHUT_WR once all is written. */
static void step_send(struct xfer *x)
{
    if (x->snd.fd < 0 || x->snd_shut || x->error)
        return;
    short rev = tcpsim_revents(x->snd.s, x->snd.fd, POLLOUT);
    for (int i = 0; i < 64 && x->sent < XFER_BYTES; i++) {
        size_t len = (size_t)tcpsim_range(&x->rng, 1, MAX_CHUNK);
        if (len > XFER_BYTES - x->sent)
            len = XFER_BYTES - x->sent;
        ssize_t r = do_send(x, len);
        if (r < 0) {
            if (errno != EAGAIN) {
                xfer_error(x, "send", errno);
                return;
            }
            if (i == 0 && (rev & POLLOUT))
                XFAIL(x, "POLLOUT but send of %zu bytes says EAGAIN", len);
            return;
        }
        if (r == 0 || (size_t)r > len)
            XFAIL(x, "send of %zu bytes returned %zd", len, r);
        x->sent += (size_t)r;
    }
    if (x->sent == XFER_BYTES) {
        if (ust_shutdown(x->snd.s, x->snd.fd, SHUT_WR) < 0)
            XFAIL(x, "shutdown(SHUT_WR) after the data: %s", strerror(errno));
        x->snd_shut = true;
    }
}

static ssize_t do_recv(struct xfer *x, struct end *e, size_t len)
{
    uint64_t how = tcpsim_rand(&x->rng) % 8;
    if (how == 0) {
        /* MSG_PEEK, then the same read must return at least those bytes. */
        uint8_t peek[512];
        size_t plen = len < sizeof(peek) ? len : sizeof(peek);
        ssize_t p = ust_recv(e->s, e->fd, peek, plen, MSG_PEEK | MSG_DONTWAIT);
        if (p <= 0)
            return p;
        ssize_t r = ust_recv(e->s, e->fd, x->buf, len, MSG_DONTWAIT);
        if (r < p || memcmp(peek, x->buf, (size_t)p) != 0)
            XFAIL(x, "MSG_PEEK saw %zd bytes, the read after it returned %zd different ones", p, r);
        return r;
    }
    if (how < 4)
        return ust_read(e->s, e->fd, x->buf, len);
    return ust_recv(e->s, e->fd, x->buf, len, MSG_DONTWAIT);
}

/* Receiver: checks each byte against the stream; EOF exactly at the end. */
static void step_recv(struct xfer *x)
{
    if (x->rcv.fd < 0 || x->rcv_eof || x->error)
        return;
    short rev = tcpsim_revents(x->rcv.s, x->rcv.fd, POLLIN);
    for (int i = 0; i < 64; i++) {
        size_t len = (size_t)tcpsim_range(&x->rng, 1, MAX_CHUNK);
        ssize_t r = do_recv(x, &x->rcv, len);
        if (r < 0) {
            if (errno != EAGAIN) {
                xfer_error(x, "recv", errno);
                return;
            }
            if (i == 0 && (rev & POLLIN))
                XFAIL(x, "POLLIN but recv says EAGAIN");
            return;
        }
        if (i == 0 && !(rev & (POLLIN | POLLERR | POLLHUP)))
            XFAIL(x, "no POLLIN but recv returned %zd", r);
        if (r == 0) {
            if (x->rcvd != XFER_BYTES)
                XFAIL(x, "EOF after %zu of %u bytes", x->rcvd, XFER_BYTES);
            x->rcv_eof = true;
            int st = tcpsim_state(x->rcv.s, x->rcv.fd);
            if (st != TCP_CLOSE_WAIT)
                XFAIL(x, "receiver after EOF: state %s, not CLOSE_WAIT", tcpsim_state_name(st));
            return;
        }
        if ((size_t)r > len || x->rcvd + (size_t)r > XFER_BYTES)
            XFAIL(x, "recv of %zu returned %zd: more than was sent", len, r);
        if (memcmp(x->buf, x->data + x->rcvd, (size_t)r) != 0) {
            size_t k = 0;
            while (x->buf[k] == x->data[x->rcvd + k])
                k++;
            XFAIL(x, "byte %zu of the stream is wrong", x->rcvd + k);
        }
        x->rcvd += (size_t)r;
    }
}

/* The closes: receiver SHUT_WR after EOF and waits for CLOSE (its FIN
 * acked); sender waits for EOF, then for TIME_WAIT. */
static void step_close(struct xfer *x)
{
    if (x->error)
        return;
    if (x->rcv_eof && !x->rcv_shut) {
        if (ust_shutdown(x->rcv.s, x->rcv.fd, SHUT_WR) < 0)
            XFAIL(x, "receiver shutdown(SHUT_WR): %s", strerror(errno));
        x->rcv_shut = true;
    }
    if (x->rcv_shut && !x->rcv_done && tcpsim_state(x->rcv.s, x->rcv.fd) == TCP_CLOSE)
        x->rcv_done = true;
    if (x->snd_shut && !x->snd_eof) {
        ssize_t r = ust_recv(x->snd.s, x->snd.fd, x->buf, 16, MSG_DONTWAIT);
        if (r > 0)
            XFAIL(x, "the sender received %zd bytes nobody sent", r);
        if (r < 0 && errno != EAGAIN) {
            xfer_error(x, "sender recv", errno);
            return;
        }
        if (r == 0) {
            if (!x->rcv_shut)
                XFAIL(x, "the sender saw EOF before the receiver shut down");
            x->snd_eof = true;
        }
    }
    if (x->snd_eof && !x->snd_done) {
        struct tcp_info ti;
        if (!tcpsim_info(x->snd.s, x->snd.fd, &ti))
            XFAIL(x, "TCP_INFO on the sender: %s", strerror(errno));
        if (ti.tcpi_state == TCP_TIME_WAIT || ti.tcpi_state == TCP_CLOSE) {
            x->snd_done = true;
            x->total_retrans = ti.tcpi_total_retrans;
        }
    }
}

/* Closes whatever is open (after an error, or at the end). */
static void close_all(struct xfer *x)
{
    int fds[3] = { x->cfd, x->sfd, x->lfd };
    struct ust_stack *st[3] = { x->n.a, x->n.b, x->n.b };
    for (int i = 0; i < 3; i++)
        if (fds[i] >= 0 && ust_close(st[i], fds[i]) < 0)
            XFAIL(x, "close: %s", strerror(errno));
    x->cfd = x->sfd = x->lfd = x->snd.fd = x->rcv.fd = -1;
}

/* Everything that counts as progress, in one number. */
static uint64_t progress_mark(const struct xfer *x)
{
    return (uint64_t)x->sent + x->rcvd + x->connected + (x->sfd >= 0) + x->snd_shut +
           x->snd_eof + x->snd_done + x->rcv_eof + x->rcv_shut + x->rcv_done;
}

/* One run, until both ends are done or a clean error. */
static void xfer_run(struct xfer *x)
{
    uint64_t t0 = ust_sim_now(x->n.sim), limit = t0 + RUN_LIMIT;
    uint64_t mark = progress_mark(x), last_progress = t0;
    while (!(x->snd_done && x->rcv_done) && !x->error) {
        uint64_t now = ust_sim_now(x->n.sim);
        if (progress_mark(x) != mark) {
            mark = progress_mark(x);
            last_progress = now;
        }
        if (now - last_progress > IDLE_LIMIT)
            XFAIL(x, "hang: no progress for %llu s of virtual time",
                  (unsigned long long)(IDLE_LIMIT / TS_SEC));
        if (now > limit)
            XFAIL(x, "still going after %llu s of virtual time",
                  (unsigned long long)(RUN_LIMIT / TS_SEC));
        /* Small random quanta while things happen; coarser ones during a
         * long wait (a backed-off retransmission timer). */
        uint64_t q = now - last_progress > TS_SEC ? tcpsim_range(&x->rng, 10 * TS_MS, 50 * TS_MS)
                                                  : tcpsim_range(&x->rng, 50 * TS_US, 2 * TS_MS);
        ust_sim_run_until(x->n.sim, now + q);
        step_connect(x);
        step_accept(x);
        step_send(x);
        step_recv(x);
        step_close(x);
    }
    x->end_time = ust_sim_now(x->n.sim) - t0;
    if (x->error) {
        close_all(x);
        return;
    }
    /* The receiver's connection is CLOSED; the sender's is in TIME_WAIT. Close
     * both descriptors: nothing may cross the link from 60 s on. */
    close_all(x);
    x->closed = true;
    x->closed_at = ust_sim_now(x->n.sim);
    ust_sim_run_until(x->n.sim, x->closed_at + QUIET_UNTIL);
    if (x->frames_late)
        XFAIL(x, "%llu frames crossed the link 60 s or more after both closes",
              (unsigned long long)x->frames_late);
}

static const uint8_t *stream_for(uint64_t seed, uint8_t **owner)
{
    *owner = tcpsim_stream_new(seed, XFER_BYTES);
    return *owner;
}

static void run_matrix(const struct scenario *sc, enum dir d)
{
    tcpsim_require_tcp();
    uint64_t base = sim_test_seed(DEFAULT_SEED);
    unsigned nseeds = tcpsim_seed_count(TCPSIM_SEEDS_DEFAULT);
    uint64_t vt_sum = 0, vt_max = 0, retrans = 0;
    unsigned errors = 0;
    for (unsigned i = 0; i < nseeds; i++) {
        uint8_t *owner;
        struct xfer x;
        uint64_t seed = base + i;
        xfer_setup(&x, sc, d, seed, stream_for(seed, &owner));
        xfer_run(&x);
        errors += x.error != 0;
        vt_sum += x.end_time;
        vt_max = x.end_time > vt_max ? x.end_time : vt_max;
        retrans += x.total_retrans;
        xfer_free(&x);
        free(owner);
    }
    print_message("  %-9s %s: %u seeds, %u ended with a clean error, virtual time avg %.2f s "
                  "max %.2f s, %llu retransmissions\n",
                  sc->name, d == C2S ? "c2s" : "s2c", nseeds, errors,
                  nseeds ? (double)vt_sum / nseeds / 1e9 : 0.0, (double)vt_max / 1e9,
                  (unsigned long long)retrans);
    /* A perfect or merely duplicating wire gives no reason to fail. */
    if (sc->loss == 0 && sc->corrupt == 0 && sc->reorder == 0)
        assert_int_equal(errors, 0);
}

#define MATRIX_TEST(idx, dirname, d)                                                    \
    static void test_##dirname##_##idx(void **state)                                    \
    {                                                                                   \
        (void)state;                                                                    \
        run_matrix(&scenarios[idx], d);                                                 \
    }

MATRIX_TEST(0, c2s, C2S)
MATRIX_TEST(1, c2s, C2S)
MATRIX_TEST(2, c2s, C2S)
MATRIX_TEST(3, c2s, C2S)
MATRIX_TEST(4, c2s, C2S)
MATRIX_TEST(5, c2s, C2S)
MATRIX_TEST(6, c2s, C2S)
MATRIX_TEST(7, c2s, C2S)
MATRIX_TEST(0, s2c, S2C)
MATRIX_TEST(1, s2c, S2C)
MATRIX_TEST(2, s2c, S2C)
MATRIX_TEST(3, s2c, S2C)
MATRIX_TEST(4, s2c, S2C)
MATRIX_TEST(5, s2c, S2C)
MATRIX_TEST(6, s2c, S2C)
MATRIX_TEST(7, s2c, S2C)

/* The same seed gives the same run: same frames at the same times, same end. */
static void test_same_seed_replays_the_same_transfer(void **state)
{
    (void)state;
    tcpsim_require_tcp();
    uint64_t seed = sim_test_seed(DEFAULT_SEED);
    uint64_t hash[2], end[2], frames[2];
    for (int k = 0; k < 2; k++) {
        uint8_t *owner;
        struct xfer x;
        xfer_setup(&x, &scenarios[2], C2S, seed, stream_for(seed, &owner));
        xfer_run(&x);
        hash[k] = x.hash;
        end[k] = x.end_time;
        frames[k] = x.frames;
        xfer_free(&x);
        free(owner);
    }
    SIM_ASSERT(seed, frames[0] > XFER_BYTES / 1500);
    SIM_ASSERT_EQ(seed, frames[0], frames[1]);
    SIM_ASSERT_EQ(seed, end[0], end[1]);
    SIM_ASSERT_EQ(seed, hash[0], hash[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_seed_replays_the_same_transfer),
#define NAMED(fn, name) { name, fn, NULL, NULL, NULL }
        NAMED(test_c2s_0, "client_to_server_1MB_loss0_every_byte_once_in_order"),
        NAMED(test_s2c_0, "server_to_client_1MB_loss0_every_byte_once_in_order"),
        NAMED(test_c2s_1, "client_to_server_1MB_loss1_every_byte_once_in_order"),
        NAMED(test_s2c_1, "server_to_client_1MB_loss1_every_byte_once_in_order"),
        NAMED(test_c2s_2, "client_to_server_1MB_loss5_every_byte_once_in_order"),
        NAMED(test_s2c_2, "server_to_client_1MB_loss5_every_byte_once_in_order"),
        NAMED(test_c2s_3, "client_to_server_1MB_loss10_every_byte_once_in_order"),
        NAMED(test_s2c_3, "server_to_client_1MB_loss10_every_byte_once_in_order"),
        NAMED(test_c2s_4, "client_to_server_1MB_loss20_every_byte_once_in_order"),
        NAMED(test_s2c_4, "server_to_client_1MB_loss20_every_byte_once_in_order"),
        NAMED(test_c2s_5, "client_to_server_1MB_reorder_every_byte_once_in_order"),
        NAMED(test_s2c_5, "server_to_client_1MB_reorder_every_byte_once_in_order"),
        NAMED(test_c2s_6, "client_to_server_1MB_duplicate_every_byte_once_in_order"),
        NAMED(test_s2c_6, "server_to_client_1MB_duplicate_every_byte_once_in_order"),
        NAMED(test_c2s_7, "client_to_server_1MB_corrupt_every_byte_once_in_order"),
        NAMED(test_s2c_7, "server_to_client_1MB_corrupt_every_byte_once_in_order"),
#undef NAMED
    };
    const char *filter = getenv("USTACK_TCPSIM_FILTER");
    if (filter && *filter)
        cmocka_set_test_filter(filter);
    return cmocka_run_group_tests_name("tcpsim_transfer", tests, NULL, NULL);
}
