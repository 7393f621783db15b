/* TCP full duplex on the simulator, public API only: both ends of one
 * connection send 1 MB at the same time (each its own seed-dependent
 * stream), under loss, reordering, duplication and corruption, many seeds.
 * Each end shuts down its sending side (SHUT_WR) as soon as it has written
 * everything, and reads until EOF, so the two FINs race: either end may
 * close first, or both at once (simultaneous close).
 *
 * Proves, for every run:
 *  - each stream arrives exactly once and in order, EOF exactly after its
 *    last byte (or a call fails with a clean error after a correct prefix);
 *  - poll agrees with the next call (POLLIN <=> recv not EAGAIN, POLLOUT =>
 *    send not EAGAIN);
 *  - the close order decides the end state (TCP_INFO): an end that had the
 *    peer's FIN before sending its own (CLOSE_WAIT at its shutdown: passive
 *    close through LAST_ACK) ends in CLOSE; an end that sent its FIN first, or at the same time,
 *    ends in TIME_WAIT (or CLOSE, as Linux shows a socket whose TIME_WAIT
 *    moved to a mini-socket);
 *  - no hang: no 20 min of virtual time without progress;
 *  - after both closes, nothing crosses the link from 60 s to 180 s later.
 * Seeds: USTACK_TCPSIM_SEEDS (default 10); replay with USTACK_SEED. */
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

#define DEFAULT_SEED 0xd0b1e5u
#define SEEDS_DEFAULT 10u
#define XFER_BYTES (1u << 20)
#define PORT 5002
#define MAX_CHUNK 65536u
#define IDLE_LIMIT (20 * 60 * TS_SEC)
#define QUIET_FROM (60 * TS_SEC)
#define QUIET_UNTIL (180 * TS_SEC)

struct scenario {
    const char *name;
    double loss, reorder, duplicate, corrupt;
    uint64_t jitter_ns;
};

static const struct scenario scenarios[] = {
    { "loss0", 0, 0, 0, 0, 0 },
    { "loss5", 0.05, 0, 0, 0, 0 },
    { "loss20", 0.20, 0, 0, 0, 0 },
    { "reorder", 0.01, 0.10, 0, 0, 1 * TS_MS },
    { "duplicate", 0, 0, 0.10, 0, 0 },
    { "corrupt", 0, 0, 0, 0.05, 0 },
};

/* One end of the connection: it sends `out` and expects `in`. */
struct side {
    const char *name;
    struct ust_stack *s;
    int fd;
    const uint8_t *out, *in;
    size_t sent, rcvd;
    bool shut, eof, passive, done;
    int final_state;
};

struct run {
    struct tcpsim_net n;
    const struct scenario *sc;
    struct tcpsim_rng rng;
    int lfd;
    bool connected;
    struct side e[2];           /* 0 = client (A), 1 = accepted socket (B) */
    uint8_t *buf;
    int error;
    bool closed;
    uint64_t closed_at, frames_late;
};

static void run_fail(struct run *r, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5), noreturn));

static void run_fail(struct run *r, const char *file, int line, const char *fmt, ...)
{
    char msg[512], i0[256], i1[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    fail_msg("%s:%d: duplex %s seed=%" PRIu64 " t=%.3fs: %s\n"
             "  client: sent=%zu rcvd=%zu %s\n  server: sent=%zu rcvd=%zu %s",
             file, line, r->sc->name, r->n.seed, (double)ust_sim_now(r->n.sim) / 1e9, msg,
             r->e[0].sent, r->e[0].rcvd, tcpsim_info_str(r->e[0].s, r->e[0].fd, i0, sizeof(i0)),
             r->e[1].sent, r->e[1].rcvd, tcpsim_info_str(r->e[1].s, r->e[1].fd, i1, sizeof(i1)));
    abort();
}
#define RFAIL(r, ...) run_fail(r, __FILE__, __LINE__, __VA_ARGS__)

static void on_frame(void *arg, const struct ust_sim_link *link, int dir, uint64_t time,
                     const uint8_t *f, size_t len)
{
    struct run *r = arg;
    (void)link, (void)dir, (void)f, (void)len;
    if (r->closed && time >= r->closed_at + QUIET_FROM)
        r->frames_late++;
}

static void clean_error(struct run *r, const char *call, int err)
{
    if (!tcpsim_clean_error(err))
        RFAIL(r, "%s: unexpected %s", call, strerror(err));
    if (!r->error)
        print_message("  duplex %s seed=%" PRIu64 ": %s ended the run with %s\n", r->sc->name,
                      r->n.seed, call, strerror(err));
    r->error = err;
}

static void step_open(struct run *r)
{
    struct side *c = &r->e[0], *s = &r->e[1];
    if (!r->connected && !r->error &&
        (tcpsim_revents(c->s, c->fd, POLLOUT) & (POLLOUT | POLLERR | POLLHUP))) {
        int err = 0;
        socklen_t len = sizeof(err);
        SIM_ASSERT_EQ(r->n.seed, ust_getsockopt(c->s, c->fd, SOL_SOCKET, SO_ERROR, &err, &len), 0);
        if (err)
            clean_error(r, "connect", err);
        else
            r->connected = true;
    }
    if (s->fd < 0 && !r->error) {
        short rev = tcpsim_revents(s->s, r->lfd, POLLIN);
        int fd = ust_accept4(s->s, r->lfd, NULL, NULL, SOCK_NONBLOCK);
        if (fd < 0 && errno != EAGAIN)
            RFAIL(r, "accept4: %s", strerror(errno));
        if ((fd >= 0) != ((rev & POLLIN) != 0))
            RFAIL(r, "listener POLLIN (%d) disagrees with accept4 (%d)", !!(rev & POLLIN), fd);
        s->fd = fd;
    }
}

static bool side_ready(const struct run *r, const struct side *e)
{
    return e->fd >= 0 && (e == &r->e[1] || r->connected) && !r->error;
}

static void step_send(struct run *r, struct side *e)
{
    if (!side_ready(r, e) || e->shut)
        return;
    short rev = tcpsim_revents(e->s, e->fd, POLLOUT);
    for (int i = 0; i < 64 && e->sent < XFER_BYTES; i++) {
        size_t len = (size_t)tcpsim_range(&r->rng, 1, MAX_CHUNK);
        if (len > XFER_BYTES - e->sent)
            len = XFER_BYTES - e->sent;
        ssize_t n = ust_send(e->s, e->fd, e->out + e->sent, len, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n < 0) {
            if (errno != EAGAIN)
                return clean_error(r, "send", errno);
            if (i == 0 && (rev & POLLOUT))
                RFAIL(r, "%s: POLLOUT but send says EAGAIN", e->name);
            return;
        }
        if (n == 0 || (size_t)n > len)
            RFAIL(r, "%s: send of %zu returned %zd", e->name, len, n);
        e->sent += (size_t)n;
    }
    if (e->sent == XFER_BYTES) {
        /* The peer's FIN already in (CLOSE_WAIT): this end closes passively. */
        e->passive = tcpsim_state(e->s, e->fd) == TCP_CLOSE_WAIT;
        if (ust_shutdown(e->s, e->fd, SHUT_WR) < 0)
            RFAIL(r, "%s: shutdown(SHUT_WR): %s", e->name, strerror(errno));
        e->shut = true;
    }
}

static void step_recv(struct run *r, struct side *e)
{
    if (!side_ready(r, e) || e->eof)
        return;
    short rev = tcpsim_revents(e->s, e->fd, POLLIN);
    for (int i = 0; i < 64; i++) {
        size_t len = (size_t)tcpsim_range(&r->rng, 1, MAX_CHUNK);
        ssize_t n = ust_recv(e->s, e->fd, r->buf, len, MSG_DONTWAIT);
        if (n < 0) {
            if (errno != EAGAIN)
                return clean_error(r, "recv", errno);
            if (i == 0 && (rev & POLLIN))
                RFAIL(r, "%s: POLLIN but recv says EAGAIN", e->name);
            return;
        }
        if (i == 0 && !(rev & (POLLIN | POLLERR | POLLHUP)))
            RFAIL(r, "%s: no POLLIN but recv returned %zd", e->name, n);
        if (n == 0) {
            if (e->rcvd != XFER_BYTES)
                RFAIL(r, "%s: EOF after %zu of %u bytes", e->name, e->rcvd, XFER_BYTES);
            e->eof = true;
            return;
        }
        if (e->rcvd + (size_t)n > XFER_BYTES)
            RFAIL(r, "%s: more bytes than the peer sent", e->name);
        if (memcmp(r->buf, e->in + e->rcvd, (size_t)n) != 0)
            RFAIL(r, "%s: wrong bytes at offset %zu..%zu", e->name, e->rcvd, e->rcvd + (size_t)n);
        e->rcvd += (size_t)n;
    }
}

/* Done once the FIN exchange is over: CLOSE (passive closer) or
 * TIME_WAIT/CLOSE (active or simultaneous). */
static void step_done(struct run *r, struct side *e)
{
    if (!side_ready(r, e) || e->done || !e->shut || !e->eof)
        return;
    int st = tcpsim_state(e->s, e->fd);
    bool passive = e->passive;
    if (st == TCP_CLOSE || (!passive && st == TCP_TIME_WAIT)) {
        e->done = true;
        e->final_state = st;
    } else if (passive && st == TCP_TIME_WAIT) {
        RFAIL(r, "%s closed passively (from CLOSE_WAIT) but is in TIME_WAIT", e->name);
    }
}

static uint64_t progress(const struct run *r)
{
    uint64_t m = r->connected;
    for (int i = 0; i < 2; i++)
        m += r->e[i].sent + r->e[i].rcvd + (r->e[i].fd >= 0) + r->e[i].shut + r->e[i].eof +
             r->e[i].done;
    return m;
}

static void one_run(const struct scenario *sc, uint64_t seed, unsigned *errors,
                    unsigned *simultaneous)
{
    struct run r;
    memset(&r, 0, sizeof(r));
    r.sc = sc;
    r.rng.s = seed ^ 0x5a5a5a5aull;
    r.buf = malloc(MAX_CHUNK);
    assert_non_null(r.buf);
    uint8_t *up = tcpsim_stream_new(seed, XFER_BYTES);
    uint8_t *down = tcpsim_stream_new(~seed, XFER_BYTES);
    struct ust_link_params p = {
        .delay_ns = 5 * TS_MS, .jitter_ns = sc->jitter_ns, .loss = sc->loss,
        .duplicate = sc->duplicate, .corrupt = sc->corrupt, .reorder = sc->reorder,
        .rate_bps = 100000000, .queue_limit = 1000,
    };
    struct ust_stack_config cfg;
    ust_stack_config_init(&cfg);
    cfg.arp_reachable_ns = 3600 * TS_SEC;
    cfg.raise_sigpipe = 0;
    tcpsim_net_init(&r.n, seed, &p, &cfg);
    ust_sim_set_frame_hook(r.n.sim, on_frame, &r);
    r.e[0] = (struct side){ .name = "client", .s = r.n.a, .out = up, .in = down };
    r.e[1] = (struct side){ .name = "server", .s = r.n.b, .fd = -1, .out = down, .in = up };
    r.lfd = tcpsim_listen(&r.n, r.n.b, TCPSIM_ADDR_B, PORT, 8);
    r.e[0].fd = tcpsim_connect_start(&r.n, r.n.a, TCPSIM_ADDR_B, PORT);

    uint64_t mark = progress(&r), last = ust_sim_now(r.n.sim);
    while (!(r.e[0].done && r.e[1].done) && !r.error) {
        uint64_t now = ust_sim_now(r.n.sim);
        if (progress(&r) != mark) {
            mark = progress(&r);
            last = now;
        }
        if (now - last > IDLE_LIMIT)
            RFAIL(&r, "hang: no progress for %llu s", (unsigned long long)(IDLE_LIMIT / TS_SEC));
        uint64_t q = now - last > TS_SEC ? tcpsim_range(&r.rng, 10 * TS_MS, 50 * TS_MS)
                                         : tcpsim_range(&r.rng, 50 * TS_US, 2 * TS_MS);
        ust_sim_run_until(r.n.sim, now + q);
        step_open(&r);
        int first = (int)(tcpsim_rand(&r.rng) & 1);  /* which end acts first this round */
        for (int k = 0; k < 2; k++) {
            struct side *e = &r.e[first ^ k];
            step_send(&r, e);
            step_recv(&r, e);
            step_done(&r, e);
        }
    }
    *errors += r.error != 0;
    *simultaneous += !r.error && !r.e[0].passive && !r.e[1].passive;
    int fds[3] = { r.e[0].fd, r.e[1].fd, r.lfd };
    struct ust_stack *st[3] = { r.n.a, r.n.b, r.n.b };
    for (int i = 0; i < 3; i++)
        if (fds[i] >= 0)
            SIM_ASSERT_EQ(seed, ust_close(st[i], fds[i]), 0);
    r.e[0].fd = r.e[1].fd = -1;
    if (!r.error) {
        r.closed = true;
        r.closed_at = ust_sim_now(r.n.sim);
        ust_sim_run_until(r.n.sim, r.closed_at + QUIET_UNTIL);
        if (r.frames_late)
            RFAIL(&r, "%llu frames 60 s or more after both closes",
                  (unsigned long long)r.frames_late);
    }
    tcpsim_net_free(&r.n);
    free(r.buf);
    free(up);
    free(down);
}

static void run_scenario(const struct scenario *sc)
{
    tcpsim_require_tcp();
    uint64_t base = sim_test_seed(DEFAULT_SEED);
    unsigned n = tcpsim_seed_count(SEEDS_DEFAULT), errors = 0, simultaneous = 0;
    for (unsigned i = 0; i < n; i++)
        one_run(sc, base + i, &errors, &simultaneous);
    print_message("  duplex %-9s: %u seeds, %u clean errors, %u simultaneous closes (FINs crossed)\n", sc->name,
                  n, errors, simultaneous);
    if (sc->loss == 0 && sc->corrupt == 0 && sc->reorder == 0)
        assert_int_equal(errors, 0);
}

#define DUPLEX_TEST(idx, fname)                                                         \
    static void fname(void **state)                                                     \
    {                                                                                   \
        (void)state;                                                                    \
        run_scenario(&scenarios[idx]);                                                  \
    }

DUPLEX_TEST(0, test_both_ends_send_1MB_at_once_loss0)
DUPLEX_TEST(1, test_both_ends_send_1MB_at_once_loss5)
DUPLEX_TEST(2, test_both_ends_send_1MB_at_once_loss20)
DUPLEX_TEST(3, test_both_ends_send_1MB_at_once_reorder)
DUPLEX_TEST(4, test_both_ends_send_1MB_at_once_duplicate)
DUPLEX_TEST(5, test_both_ends_send_1MB_at_once_corrupt)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_both_ends_send_1MB_at_once_loss0),
        cmocka_unit_test(test_both_ends_send_1MB_at_once_loss5),
        cmocka_unit_test(test_both_ends_send_1MB_at_once_loss20),
        cmocka_unit_test(test_both_ends_send_1MB_at_once_reorder),
        cmocka_unit_test(test_both_ends_send_1MB_at_once_duplicate),
        cmocka_unit_test(test_both_ends_send_1MB_at_once_corrupt),
    };
    const char *filter = getenv("USTACK_TCPSIM_FILTER");
    if (filter && *filter)
        cmocka_set_test_filter(filter);
    return cmocka_run_group_tests_name("tcpsim_duplex", tests, NULL, NULL);
}
