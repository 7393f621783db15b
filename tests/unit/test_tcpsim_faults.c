/* The fault matrix: many seeded TCP transfers between two simulated hosts,
 * each under a random mix of impairments - loss 0-30 %, reordering with
 * jitter, duplication, corruption, link flaps (short blips and long outages,
 * ust_sim_link_set_up) and rate/delay changes mid-transfer
 * (ust_sim_link_set_params) - and each of a random size (1 KiB - 512 KiB)
 * in a random direction, or both ways at once. Proves, for every seed:
 *  - byte-exact delivery: every byte once and in order, EOF exactly after
 *    the last one; or the run ends with a clean error (ETIMEDOUT,
 *    ECONNRESET... tcpsim_clean_error) after a correct prefix - corrupted,
 *    missing or extra data is never reported as success; on a wire that
 *    only delays, reorders or duplicates, not even a clean error is allowed;
 *  - no hang: a run fails (naming its seed) after 30 min of virtual time
 *    without progress or 4 h in all;
 *  - no leak: once both ends are closed and TIME-WAIT has run out, neither
 *    stack holds a connection block (ust_tcp_diag and tcp.nconns), its frame
 *    pool is back to its baseline (bytes in use, allocs - frees) and its
 *    descriptor table holds what it held before.
 * Seeds: USTACK_SOAK_SEEDS (default 1000, a deterministic CI slice; `make
 * soak` runs 10,000), counting from a fixed base. Replay one failure with
 * USTACK_SEED=<seed> ./test_tcpsim_faults. The summary prints the clean
 * errors by kind and by impairment profile. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <ustack/diag.h>
#include <ustack/ustack.h>

#include "unit/sim_test_util.h"
#include "unit/tcp_sim_util.h"

#include "runtime/runtime.h"
#include "stack/stack_impl.h"

#define BASE_SEED 0x50a4f0u
#define SEEDS_DEFAULT 1000u
#define PORT 5002
#define MIN_BYTES 1024u
#define MAX_BYTES (512u * 1024u)
#define MAX_CHUNK 32768u
#define MAX_EVENTS 6
#define IDLE_LIMIT (30 * 60 * TS_SEC)   /* > longest outage + tcp_retries2 give-up */
#define RUN_LIMIT (4 * 3600 * TS_SEC)
#define LEAK_LIMIT (45 * 60 * TS_SEC)   /* after the closes: orphans + TIME-WAIT */

/* Which impairments a seed gets: seed % NPROFILES, so every slice of
 * consecutive seeds covers all of them. */
enum profile { P_CLEAN, P_LOSS, P_REORDER, P_DUP, P_CORRUPT, P_FLAP, P_RATE, P_ALL, NPROFILES };
static const char *const profile_names[NPROFILES] = {
    "clean", "loss", "reorder", "duplicate", "corrupt", "flaps", "rate", "all",
};

enum dir { C2S, S2C, BOTH };
static const char *const dir_names[] = { "c2s", "s2c", "both" };

/* A change of the link at a virtual time: down for a while, or new params. */
struct event {
    uint64_t at;
    bool flap;
    uint64_t down_for;              /* flap */
    struct ust_link_params p[2];    /* param change, per direction */
};

/* One end of the connection: sends its stream, reads the peer's. */
struct end {
    struct ust_stack *s;
    int fd;
    uint8_t *tx;                    /* what this end sends */
    size_t tx_len, sent;
    bool shut;                      /* SHUT_WR done after the last byte */
    size_t rx_len, rcvd;            /* the peer's stream length, bytes read */
    bool eof;
};

struct run {
    struct tcpsim_net n;
    uint64_t seed;
    enum profile prof;
    enum dir dir;
    struct tcpsim_rng rng;
    struct ust_link_params base[2];
    struct event ev[MAX_EVENTS];
    unsigned nev, next_ev;
    bool down;
    uint64_t up_at;
    int lfd;
    bool connected;
    struct end e[2];                /* 0 = client on A, 1 = accepted on B */
    int error;                      /* the clean error that ended the run */
    const char *error_call;
    uint8_t *buf;
    /* baselines for the leak check */
    size_t fb_bytes[2];
    uint64_t fb_live[2];
    unsigned fds[2];
    uint64_t end_time;
};

#define RFAIL(r, ...) run_fail(r, __FILE__, __LINE__, __VA_ARGS__)

static void run_fail(struct run *r, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5), noreturn));

static void run_fail(struct run *r, const char *file, int line, const char *fmt, ...)
{
    char msg[512], i0[256], i1[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    fail_msg("%s:%d: seed=%" PRIu64 " (replay: USTACK_SEED=%" PRIu64 ") profile=%s dir=%s "
             "t=%.3fs: %s\n  A: %zu/%zu sent, %zu/%zu rcvd: %s\n  B: %zu/%zu sent, %zu/%zu "
             "rcvd: %s",
             file, line, r->seed, r->seed, profile_names[r->prof], dir_names[r->dir],
             (double)ust_sim_now(r->n.sim) / 1e9, msg, r->e[0].sent, r->e[0].tx_len,
             r->e[0].rcvd, r->e[0].rx_len, tcpsim_info_str(r->e[0].s, r->e[0].fd, i0, sizeof(i0)),
             r->e[1].sent, r->e[1].tx_len, r->e[1].rcvd, r->e[1].rx_len,
             tcpsim_info_str(r->e[1].s, r->e[1].fd, i1, sizeof(i1)));
    abort(); /* not reached */
}

/* ---- The impairments of one seed ---- */

static double frac(struct tcpsim_rng *g, double hi)
{
    return hi * (double)(tcpsim_rand(g) % 1000001) / 1e6;
}

static void random_rate(struct tcpsim_rng *g, struct ust_link_params *p)
{
    static const uint64_t rates[] = { 1000000, 10000000, 100000000, 1000000000, 0 };
    p->rate_bps = rates[tcpsim_range(g, 0, 4)];
    p->delay_ns = tcpsim_range(g, 100 * TS_US, 50 * TS_MS);
}

static void pick_params(struct run *r)
{
    struct tcpsim_rng *g = &r->rng;
    bool all = r->prof == P_ALL;
    for (int d = 0; d < 2; d++) {
        struct ust_link_params *p = &r->base[d];
        memset(p, 0, sizeof(*p));
        p->delay_ns = tcpsim_range(g, 100 * TS_US, 20 * TS_MS);
        p->rate_bps = 100000000;
        p->queue_limit = 1000;
        if (r->prof == P_LOSS || all)
            p->loss = frac(g, 0.30);
        if (r->prof == P_REORDER || all) {
            p->reorder = frac(g, 0.25);
            p->jitter_ns = tcpsim_range(g, 0, 5 * TS_MS);
        }
        if (r->prof == P_DUP || all)
            p->duplicate = frac(g, 0.20);
        if (r->prof == P_CORRUPT || all)
            p->corrupt = frac(g, 0.10);
    }
    /* Events spread over a horizon of 10 ms - 1 s (the time a transfer
     * takes at 100 Mbit/s), sometimes 20 s, so that most of them meet a
     * transfer in flight. A long outage (10 s - 16 min) in one flap of five:
     * long enough, at times, for the sender to give up (ETIMEDOUT). */
    if (r->prof != P_FLAP && r->prof != P_RATE && !all)
        return;
    r->nev = (unsigned)tcpsim_range(g, 1, MAX_EVENTS);
    uint64_t horizon = tcpsim_range(g, 0, 9) == 0 ? 20 * TS_SEC
                                                  : tcpsim_range(g, 10 * TS_MS, 1 * TS_SEC);
    uint64_t t = ust_sim_now(r->n.sim);
    for (unsigned i = 0; i < r->nev; i++) {
        struct event *e = &r->ev[i];
        t += tcpsim_range(g, 1 * TS_MS, horizon / r->nev);
        e->at = t;
        e->flap = r->prof == P_FLAP || (all && (tcpsim_rand(g) & 1));
        if (e->flap) {
            e->down_for = tcpsim_range(g, 0, 4) == 0 ? tcpsim_range(g, 10 * TS_SEC, 16 * 60 * TS_SEC)
                                                     : tcpsim_range(g, 1 * TS_MS, 3 * TS_SEC);
        } else {
            for (int d = 0; d < 2; d++) {
                e->p[d] = r->base[d];
                random_rate(g, &e->p[d]);
            }
        }
    }
}

/* Applies the events due at now; returns the time of the next change. */
static uint64_t apply_events(struct run *r, uint64_t now)
{
    if (r->down && now >= r->up_at) {
        ust_sim_link_set_up(r->n.link, true);
        r->down = false;
    }
    while (r->next_ev < r->nev && r->ev[r->next_ev].at <= now) {
        const struct event *e = &r->ev[r->next_ev++];
        if (e->flap) {
            uint64_t until = now + e->down_for;
            r->up_at = r->down && r->up_at > until ? r->up_at : until;
            r->down = true;
            ust_sim_link_set_up(r->n.link, false);
        } else {
            ust_sim_link_set_params(r->n.link, 0, &e->p[0]);
            ust_sim_link_set_params(r->n.link, 1, &e->p[1]);
        }
    }
    uint64_t next = UINT64_MAX;
    if (r->down)
        next = r->up_at;
    if (r->next_ev < r->nev && r->ev[r->next_ev].at < next)
        next = r->ev[r->next_ev].at;
    return next;
}

/* ---- Setup and teardown ---- */

static void snapshot(struct ust_stack *s, size_t *bytes, uint64_t *live, unsigned *fds)
{
    ust_rt_lock(s);
    *bytes = s->fbpool.in_use_bytes;
    *live = s->fbpool.allocs - s->fbpool.frees;
    *fds = s->fds.used;
    ust_rt_unlock(s);
}

static uint32_t nconns(struct ust_stack *s)
{
    ust_rt_lock(s);
    uint32_t n = s->tcp.nconns;
    ust_rt_unlock(s);
    return n;
}

static void run_setup(struct run *r, uint64_t seed)
{
    memset(r, 0, sizeof(*r));
    r->seed = seed;
    r->prof = (enum profile)(seed % NPROFILES);
    r->rng.s = seed ^ 0x5eed50a4ull;
    r->dir = (enum dir)tcpsim_range(&r->rng, 0, 2);
    r->lfd = -1;
    r->buf = malloc(MAX_CHUNK);
    assert_non_null(r->buf);

    struct ust_stack_config cfg;
    ust_stack_config_init(&cfg);
    cfg.arp_reachable_ns = 3600 * TS_SEC;   /* only TCP on the wire during a run */
    cfg.raise_sigpipe = 0;
    tcpsim_net_init(&r->n, seed, NULL, &cfg);
    pick_params(r);
    ust_sim_link_set_params(r->n.link, 0, &r->base[0]);
    ust_sim_link_set_params(r->n.link, 1, &r->base[1]);

    size_t len[2] = { 0, 0 };
    if (r->dir != S2C)
        len[0] = (size_t)tcpsim_range(&r->rng, MIN_BYTES, MAX_BYTES);
    if (r->dir != C2S)
        len[1] = (size_t)tcpsim_range(&r->rng, MIN_BYTES, MAX_BYTES);
    struct ust_stack *hosts[2] = { r->n.a, r->n.b };
    for (int i = 0; i < 2; i++) {
        snapshot(hosts[i], &r->fb_bytes[i], &r->fb_live[i], &r->fds[i]);
        r->e[i].s = hosts[i];
        r->e[i].fd = -1;
        r->e[i].tx_len = len[i];
        r->e[i].tx = tcpsim_stream_new(seed * 2 + (uint64_t)i, len[i]);
        r->e[i].rx_len = len[1 - i];
    }
    r->lfd = tcpsim_listen(&r->n, r->n.b, TCPSIM_ADDR_B, PORT, 8);
    r->e[0].fd = tcpsim_connect_start(&r->n, r->n.a, TCPSIM_ADDR_B, PORT);
}

static void run_free(struct run *r)
{
    tcpsim_net_free(&r->n);
    for (int i = 0; i < 2; i++)
        free(r->e[i].tx);
    free(r->buf);
}

static void run_error(struct run *r, const char *call, int err)
{
    if (!tcpsim_clean_error(err))
        RFAIL(r, "%s: unexpected %s", call, strerror(err));
    if (!r->error) {
        r->error = err;
        r->error_call = call;
    }
}

/* ---- The transfer ---- */

static void step_connect(struct run *r)
{
    if (r->connected || r->error)
        return;
    short rev = tcpsim_revents(r->n.a, r->e[0].fd, POLLOUT);
    if (!(rev & (POLLOUT | POLLERR | POLLHUP)))
        return;
    int err = 0;
    socklen_t len = sizeof(err);
    if (ust_getsockopt(r->n.a, r->e[0].fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
        RFAIL(r, "getsockopt SO_ERROR: %s", strerror(errno));
    if (err)
        run_error(r, "connect", err);
    else
        r->connected = true;
}

static void step_accept(struct run *r)
{
    if (r->e[1].fd >= 0 || r->error)
        return;
    int fd = ust_accept4(r->n.b, r->lfd, NULL, NULL, SOCK_NONBLOCK);
    if (fd < 0 && errno != EAGAIN)
        RFAIL(r, "accept4: %s", strerror(errno));
    r->e[1].fd = fd;
}

/* Sends the stream in random chunks; SHUT_WR once all of it is taken. */
static void step_send(struct run *r, struct end *e)
{
    if (e->fd < 0 || e->shut || r->error || (e == &r->e[0] && !r->connected))
        return;
    for (int i = 0; i < 16 && e->sent < e->tx_len; i++) {
        size_t len = (size_t)tcpsim_range(&r->rng, 1, MAX_CHUNK);
        if (len > e->tx_len - e->sent)
            len = e->tx_len - e->sent;
        ssize_t n = ust_send(e->s, e->fd, e->tx + e->sent, len, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n < 0) {
            if (errno != EAGAIN)
                run_error(r, "send", errno);
            return;
        }
        if (n == 0 || (size_t)n > len)
            RFAIL(r, "send of %zu bytes returned %zd", len, n);
        e->sent += (size_t)n;
    }
    if (e->sent == e->tx_len) {
        if (ust_shutdown(e->s, e->fd, SHUT_WR) < 0) {
            run_error(r, "shutdown", errno);
            return;
        }
        e->shut = true;
    }
}

/* Reads and checks every byte against the peer's stream; EOF only at its end. */
static void step_recv(struct run *r, struct end *e, const struct end *peer)
{
    if (e->fd < 0 || e->eof || r->error || (e == &r->e[0] && !r->connected))
        return;
    for (int i = 0; i < 16; i++) {
        size_t len = (size_t)tcpsim_range(&r->rng, 1, MAX_CHUNK);
        ssize_t n = ust_recv(e->s, e->fd, r->buf, len, MSG_DONTWAIT);
        if (n < 0) {
            if (errno != EAGAIN)
                run_error(r, "recv", errno);
            return;
        }
        if (n == 0) {
            if (e->rcvd != e->rx_len)
                RFAIL(r, "EOF after %zu of %zu bytes", e->rcvd, e->rx_len);
            e->eof = true;
            return;
        }
        if ((size_t)n > len || e->rcvd + (size_t)n > e->rx_len)
            RFAIL(r, "recv of %zu returned %zd: more than was sent", len, n);
        if (memcmp(r->buf, peer->tx + e->rcvd, (size_t)n) != 0) {
            size_t k = 0;
            while (r->buf[k] == peer->tx[e->rcvd + k])
                k++;
            RFAIL(r, "byte %zu of the stream is wrong", e->rcvd + k);
        }
        e->rcvd += (size_t)n;
    }
}

/* An end that has read its EOF and sent its FIN no longer calls send or
 * recv, but its connection may still fail: its FIN or last data unacked
 * when the retransmissions give up (the peer, in FIN-WAIT-2 with an open
 * descriptor, would wait forever). POLLERR and SO_ERROR tell. */
static void step_watch(struct run *r, struct end *e)
{
    if (e->fd < 0 || !e->eof || r->error)
        return;
    if (!(tcpsim_revents(e->s, e->fd, POLLIN) & POLLERR))
        return;
    int err = 0;
    socklen_t len = sizeof(err);
    if (ust_getsockopt(e->s, e->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
        RFAIL(r, "getsockopt SO_ERROR: %s", strerror(errno));
    if (err)
        run_error(r, "SO_ERROR after EOF", err);
}

static uint64_t progress_mark(const struct run *r)
{
    uint64_t m = r->connected;
    for (int i = 0; i < 2; i++)
        m += r->e[i].sent + r->e[i].rcvd + r->e[i].shut + r->e[i].eof + (r->e[i].fd >= 0);
    return m;
}

static bool transfer_done(const struct run *r)
{
    return r->e[0].shut && r->e[0].eof && r->e[1].shut && r->e[1].eof;
}

static void close_all(struct run *r)
{
    for (int i = 0; i < 2; i++) {
        if (r->e[i].fd >= 0 && ust_close(r->e[i].s, r->e[i].fd) < 0)
            RFAIL(r, "close: %s", strerror(errno));
        r->e[i].fd = -1;
    }
    if (r->lfd >= 0 && ust_close(r->n.b, r->lfd) < 0)
        RFAIL(r, "close listener: %s", strerror(errno));
    r->lfd = -1;
}

static void transfer(struct run *r)
{
    uint64_t t0 = ust_sim_now(r->n.sim), last = t0, mark = progress_mark(r);
    while (!transfer_done(r) && !r->error) {
        uint64_t now = ust_sim_now(r->n.sim);
        if (progress_mark(r) != mark) {
            mark = progress_mark(r);
            last = now;
        }
        if (now - last > IDLE_LIMIT)
            RFAIL(r, "hang: no progress for %llu s of virtual time",
                  (unsigned long long)(IDLE_LIMIT / TS_SEC));
        if (now - t0 > RUN_LIMIT)
            RFAIL(r, "still going after %llu s of virtual time",
                  (unsigned long long)(RUN_LIMIT / TS_SEC));
        uint64_t next = apply_events(r, now);
        /* Fine quanta while data moves, coarser during a long wait. */
        uint64_t idle = now - last;
        uint64_t q = idle > 10 * TS_SEC ? tcpsim_range(&r->rng, 200 * TS_MS, 1000 * TS_MS)
                     : idle > TS_SEC    ? tcpsim_range(&r->rng, 10 * TS_MS, 50 * TS_MS)
                                        : tcpsim_range(&r->rng, 50 * TS_US, 2 * TS_MS);
        ust_sim_run_until(r->n.sim, now + q < next ? now + q : next);
        step_connect(r);
        step_accept(r);
        for (int i = 0; i < 2; i++) {
            step_send(r, &r->e[i]);
            step_recv(r, &r->e[i], &r->e[1 - i]);
            step_watch(r, &r->e[i]);
        }
    }
    r->end_time = ust_sim_now(r->n.sim) - t0;
}

/* After the closes, with the link back up: every connection block goes away
 * (orphans finish or give up, TIME-WAIT runs out), and the frame pools and
 * descriptor tables are back to where they were. */
static void check_no_leak(struct run *r)
{
    close_all(r);
    r->next_ev = r->nev;
    if (r->down) {
        ust_sim_link_set_up(r->n.link, true);
        r->down = false;
    }
    struct ust_stack *hosts[2] = { r->n.a, r->n.b };
    uint64_t t0 = ust_sim_now(r->n.sim);
    while (nconns(r->n.a) + nconns(r->n.b) != 0) {
        if (ust_sim_now(r->n.sim) - t0 > LEAK_LIMIT)
            RFAIL(r, "leak: %u + %u connection blocks %llu s after the closes "
                     "(ust_tcp_diag: %zd + %zd)",
                  nconns(r->n.a), nconns(r->n.b), (unsigned long long)(LEAK_LIMIT / TS_SEC),
                  ust_tcp_diag(r->n.a, NULL, 0), ust_tcp_diag(r->n.b, NULL, 0));
        ust_sim_run_until(r->n.sim, ust_sim_now(r->n.sim) + TS_SEC);
    }
    ust_sim_run_until_quiet(r->n.sim, 10 * TS_SEC);
    for (int i = 0; i < 2; i++) {
        size_t bytes;
        uint64_t live;
        unsigned fds;
        snapshot(hosts[i], &bytes, &live, &fds);
        if (ust_tcp_diag(hosts[i], NULL, 0) != 0)
            RFAIL(r, "leak: host %c still reports connections", 'A' + i);
        if (bytes != r->fb_bytes[i] || live != r->fb_live[i])
            RFAIL(r, "leak: host %c holds %zu frame bytes (%llu buffers), %zu (%llu) before",
                  'A' + i, bytes, (unsigned long long)live, r->fb_bytes[i],
                  (unsigned long long)r->fb_live[i]);
        if (fds != r->fds[i])
            RFAIL(r, "leak: host %c has %u descriptors open, %u before", 'A' + i, fds, r->fds[i]);
    }
}

/* ---- The matrix ---- */

struct tally {
    unsigned runs[NPROFILES], errors[NPROFILES];
    unsigned etimedout, econnreset, econnrefused, epipe, econnaborted;
    uint64_t bytes, vt_max;
    struct ust_link_stats link;     /* summed over runs and directions */
};

static void add_link_stats(struct tally *t, const struct ust_sim_link *l)
{
    for (int d = 0; d < 2; d++) {
        struct ust_link_stats s;
        ust_sim_link_stats(l, d, &s);
        t->link.sent += s.sent;
        t->link.lost += s.lost;
        t->link.queue_drops += s.queue_drops;
        t->link.duplicated += s.duplicated;
        t->link.corrupted += s.corrupted;
        t->link.reordered += s.reordered;
        t->link.down_drops += s.down_drops;
    }
}

static void count_error(struct tally *t, int err)
{
    switch (err) {
    case ETIMEDOUT: t->etimedout++; break;
    case ECONNRESET: t->econnreset++; break;
    case ECONNREFUSED: t->econnrefused++; break;
    case EPIPE: t->epipe++; break;
    case ECONNABORTED: t->econnaborted++; break;
    default: break;
    }
}

static unsigned soak_seed_count(void)
{
    const char *env = getenv("USTACK_SOAK_SEEDS");
    if (env && *env)
        return (unsigned)strtoul(env, NULL, 0);
    env = getenv("USTACK_SEED");
    return env && *env ? 1 : SEEDS_DEFAULT;
}

static void every_seed_delivers_exactly_or_fails_cleanly_and_leaks_nothing(void **state)
{
    (void)state;
    tcpsim_require_tcp();
    uint64_t base = sim_test_seed(BASE_SEED);
    unsigned nseeds = soak_seed_count();
    static struct tally t;
    memset(&t, 0, sizeof(t));
    for (unsigned i = 0; i < nseeds; i++) {
        struct run r;
        run_setup(&r, base + i);
        transfer(&r);
        check_no_leak(&r);
        t.runs[r.prof]++;
        if (r.error) {
            t.errors[r.prof]++;
            count_error(&t, r.error);
        }
        /* A perfect or merely duplicating/reordering wire gives no reason to fail. */
        if (r.error && (r.prof == P_CLEAN || r.prof == P_DUP || r.prof == P_REORDER))
            RFAIL(&r, "%s failed with %s on a wire that only delays or duplicates",
                  r.error_call, strerror(r.error));
        t.bytes += r.e[0].rcvd + r.e[1].rcvd;
        t.vt_max = r.end_time > t.vt_max ? r.end_time : t.vt_max;
        add_link_stats(&t, r.n.link);
        run_free(&r);
    }
    unsigned errs = 0;
    for (int p = 0; p < NPROFILES; p++) {
        print_message("  %-9s %5u runs, %4u ended with a clean error\n", profile_names[p],
                      t.runs[p], t.errors[p]);
        errs += t.errors[p];
    }
    print_message("  %u seeds from %" PRIu64 ": %u clean errors (ETIMEDOUT %u, ECONNRESET %u, "
                  "ECONNREFUSED %u, EPIPE %u, ECONNABORTED %u), %.1f MiB delivered, longest "
                  "transfer %.1f s virtual\n",
                  nseeds, base, errs, t.etimedout, t.econnreset, t.econnrefused, t.epipe,
                  t.econnaborted, (double)t.bytes / (1 << 20), (double)t.vt_max / 1e9);
    print_message("  frames: %llu sent, %llu lost, %llu queue drops, %llu duplicated, %llu "
                  "corrupted, %llu reordered, %llu dropped while the link was down\n",
                  (unsigned long long)t.link.sent, (unsigned long long)t.link.lost,
                  (unsigned long long)t.link.queue_drops, (unsigned long long)t.link.duplicated,
                  (unsigned long long)t.link.corrupted, (unsigned long long)t.link.reordered,
                  (unsigned long long)t.link.down_drops);
    assert_true(nseeds == 0 || t.bytes > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_seed_delivers_exactly_or_fails_cleanly_and_leaks_nothing),
    };
    return cmocka_run_group_tests_name("tcpsim_faults", tests, NULL, NULL);
}
