/* ustack serve, TCP side: the listener, one struct conn per accepted
 * connection driven by ust_poll (non-blocking calls only), the echo, discard
 * and chargen services over a stream, and the ss-like TCP_INFO table. HTTP
 * request handling is in serve_http.c. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "serve.h"

#define BACKLOG 4096
#define IO_BUF 65536            /* echo/chargen buffer per connection */
#define HTTP_OUT_BUF (256 * 1024)
#define IDLE_NS (120ull * 1000000000ull)  /* close connections idle this long */
#define SEND_ROUNDS 16          /* refills per connection per poll round (fairness) */

int tcp_server_open(struct tcp_server *srv, struct ust_stack *stack, const struct serve_opts *o)
{
    memset(srv, 0, sizeof(*srv));
    srv->stack = stack;
    srv->o = o;
    srv->lfd = ust_socket(stack, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (srv->lfd < 0) {
        int err = errno;
        fprintf(stderr, "ustack serve: tcp socket: %s\n", strerror(err));
        errno = err;
        return -1;
    }
    int one = 1;
    ust_setsockopt(stack, srv->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(o->port),
                               .sin_addr = o->nif.addr };
    if (ust_bind(stack, srv->lfd, (const struct sockaddr *)&sin, sizeof(sin)) < 0 ||
        ust_listen(stack, srv->lfd, BACKLOG) < 0) {
        int err = errno;
        fprintf(stderr, "ustack serve: tcp port %u: %s\n", o->port, strerror(err));
        ust_close(stack, srv->lfd);
        srv->lfd = -1;
        errno = err;
        return -1;
    }
    return 0;
}

/* Keeps the last SERVE_RECORDS closed connections' TCP_INFO for the table. */
static void record_conn(struct tcp_server *srv, struct conn *c)
{
    struct conn_record *r = &srv->records[srv->n_records++ % SERVE_RECORDS];
    socklen_t len = sizeof(r->ti);
    memset(r, 0, sizeof(*r));
    r->peer = c->peer;
    r->have_ti = ust_getsockopt(srv->stack, c->fd, IPPROTO_TCP, TCP_INFO, &r->ti, &len) == 0;
    r->bytes_in = c->bytes_in;
    r->bytes_out = c->bytes_out;
    if (r->have_ti)
        srv->total_retrans += r->ti.tcpi_total_retrans;
}

static void conn_free(struct tcp_server *srv, struct conn *c)
{
    record_conn(srv, c);
    ust_close(srv->stack, c->fd);
    if (c->file_fd >= 0)
        close(c->file_fd);
    srv->closed++;
    free(c->out);
    free(c->req);
    free(c);
}

void tcp_server_close(struct tcp_server *srv)
{
    for (size_t i = 0; i < srv->n; i++)
        conn_free(srv, srv->conns[i]);
    free(srv->conns);
    srv->conns = NULL;
    srv->n = srv->cap = 0;
    if (srv->lfd >= 0)
        ust_close(srv->stack, srv->lfd);
    srv->lfd = -1;
}

static short conn_events(const struct tcp_server *srv, const struct conn *c)
{
    bool sending = c->out_off < c->out_len || c->file_left > 0;
    short ev = 0;
    if (sending || srv->o->service == SVC_CHARGEN)
        ev |= POLLOUT;
    switch (srv->o->service) {
    case SVC_ECHO:
        /* Read more only once what was read is echoed (backpressure). */
        if (!sending && !c->peer_eof)
            ev |= POLLIN;
        break;
    case SVC_HTTP:
        if (!c->peer_eof && c->req_len < HTTP_REQ_MAX)
            ev |= POLLIN;
        break;
    default:
        if (!c->peer_eof)
            ev |= POLLIN;
        break;
    }
    return ev;
}

size_t tcp_server_pollfds(struct tcp_server *srv, struct pollfd *fds, size_t max)
{
    size_t k = 0;
    if (max == 0)
        return 0;
    /* A full table stops accepting: new connections wait in the backlog. */
    fds[k++] = (struct pollfd){ .fd = srv->n + 1 < max ? srv->lfd : -1, .events = POLLIN };
    for (size_t i = 0; i < srv->n && k < max; i++)
        fds[k++] = (struct pollfd){ .fd = srv->conns[i]->fd,
                                    .events = conn_events(srv, srv->conns[i]) };
    return k;
}

static void accept_all(struct tcp_server *srv, size_t room)
{
    while (room-- > 0) {
        struct sockaddr_in peer;
        socklen_t plen = sizeof(peer);
        int fd = ust_accept4(srv->stack, srv->lfd, (struct sockaddr *)&peer, &plen, SOCK_NONBLOCK);
        if (fd < 0) {
            if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
                fprintf(stderr, "ustack serve: accept: %s\n", strerror(errno));
            return;
        }
        if (srv->n == srv->cap) {
            size_t cap = srv->cap ? srv->cap * 2 : 64;
            struct conn **v = realloc(srv->conns, cap * sizeof(*v));
            if (!v) {
                ust_close(srv->stack, fd);
                return;
            }
            srv->conns = v;
            srv->cap = cap;
        }
        struct conn *c = calloc(1, sizeof(*c));
        if (!c) {
            ust_close(srv->stack, fd);
            return;
        }
        c->fd = fd;
        c->peer = peer;
        c->file_fd = -1;
        c->last_io_ns = mono_ns();
        srv->conns[srv->n++] = c;
        srv->accepted++;
    }
}

/* Makes room for at least len bytes in c->out. */
static bool out_reserve(struct conn *c, size_t len)
{
    if (c->out_cap >= len)
        return true;
    char *p = realloc(c->out, len);
    if (!p)
        return false;
    c->out = p;
    c->out_cap = len;
    return true;
}

/* Sends what is queued (and, for HTTP, the file behind it). Returns false
 * when the connection failed. */
static bool conn_flush(struct tcp_server *srv, struct conn *c)
{
    for (int round = 0; round < SEND_ROUNDS; round++) {
        while (c->out_off < c->out_len) {
            ssize_t r = ust_send(srv->stack, c->fd, c->out + c->out_off, c->out_len - c->out_off,
                                 MSG_DONTWAIT | MSG_NOSIGNAL);
            if (r < 0)
                return errno == EAGAIN || errno == EINTR;
            c->out_off += (size_t)r;
            c->bytes_out += (unsigned long long)r;
            srv->bytes_out += (unsigned long long)r;
            c->last_io_ns = mono_ns();
        }
        c->out_off = c->out_len = 0;
        if (c->file_left > 0) {
            if (!out_reserve(c, HTTP_OUT_BUF) || !http_refill(c))
                return false;
            continue;
        }
        if (srv->o->service != SVC_CHARGEN || c->peer_eof)
            return true;
        if (!out_reserve(c, IO_BUF))
            return false;
        c->out_len = chargen_fill(c->out, IO_BUF, &c->chargen_pos);
    }
    return true;
}

/* Reads what the connection has; false when it failed. */
static bool conn_read(struct tcp_server *srv, struct conn *c)
{
    char scratch[IO_BUF];
    for (int i = 0; i < 16 && !c->peer_eof; i++) {
        char *dst = scratch;
        size_t room = sizeof(scratch);
        if (srv->o->service == SVC_ECHO) {
            if (c->out_len > 0 || !out_reserve(c, IO_BUF))
                return true;
            dst = c->out;
            room = IO_BUF;
        } else if (srv->o->service == SVC_HTTP) {
            if (!c->req && !(c->req = malloc(HTTP_REQ_MAX)))
                return false;
            dst = c->req + c->req_len;
            room = HTTP_REQ_MAX - c->req_len;
            if (room == 0)
                return true;
        }
        ssize_t r = ust_recv(srv->stack, c->fd, dst, room, MSG_DONTWAIT);
        if (r < 0)
            return errno == EAGAIN || errno == EINTR;
        c->last_io_ns = mono_ns();
        if (r == 0) {
            c->peer_eof = true;
            break;
        }
        c->bytes_in += (unsigned long long)r;
        srv->bytes_in += (unsigned long long)r;
        if (srv->o->service == SVC_ECHO) {
            c->out_off = 0;
            c->out_len = (size_t)r;
            return conn_flush(srv, c);
        }
        if (srv->o->service == SVC_HTTP) {
            c->req_len += (size_t)r;
            http_on_input(srv, c);
            if (!conn_flush(srv, c))
                return false;
        }
    }
    return true;
}

/* Whether the connection has nothing left to do. */
static bool conn_finished(const struct tcp_server *srv, const struct conn *c)
{
    bool sending = c->out_off < c->out_len || c->file_left > 0;
    if (sending)
        return false;
    if (c->close_after_out)
        return true;
    if (!c->peer_eof)
        return false;
    /* HTTP: a complete request may still wait in req after the peer's FIN. */
    return srv->o->service != SVC_HTTP || c->req_len == 0;
}

/* One connection after poll; false when it is to be closed. */
static bool conn_handle(struct tcp_server *srv, struct conn *c, short rev)
{
    if (rev & POLLNVAL)
        return false;
    if ((rev & (POLLIN | POLLERR | POLLHUP)) && !conn_read(srv, c))
        goto failed;
    if ((rev & (POLLOUT | POLLERR)) && !conn_flush(srv, c))
        goto failed;
    /* HTTP: the next (pipelined) request once the previous answer is out. */
    if (srv->o->service == SVC_HTTP && c->req_len && http_response_done(c) && !c->close_after_out) {
        http_on_input(srv, c);
        if (!conn_flush(srv, c))
            goto failed;
    }
    if (conn_finished(srv, c))
        return false;
    return mono_ns() - c->last_io_ns < IDLE_NS;
failed:
    if (errno == ECONNRESET || errno == EPIPE)
        srv->resets++;
    else
        srv->errors++;
    return false;
}

void tcp_server_handle(struct tcp_server *srv, const struct pollfd *fds, size_t count)
{
    if (count == 0)
        return;
    /* fds[1..] match conns[0..] as tcp_server_pollfds laid them out; accept
     * after, so that new connections are not mixed into this round. */
    size_t n = count - 1 < srv->n ? count - 1 : srv->n;
    size_t keep = 0;
    for (size_t i = 0; i < srv->n; i++) {
        struct conn *c = srv->conns[i];
        bool alive = true;
        if (i < n && fds[1 + i].revents)
            alive = conn_handle(srv, c, fds[1 + i].revents);
        else if (mono_ns() - c->last_io_ns >= IDLE_NS)
            alive = false;
        if (alive)
            srv->conns[keep++] = c;
        else
            conn_free(srv, c);
    }
    srv->n = keep;
    if (fds[0].fd >= 0 && (fds[0].revents & POLLIN))
        accept_all(srv, 256);
}

const char *tcp_state_name(int st)
{
    static const char *const names[] = {
        [TCP_ESTABLISHED] = "ESTAB",     [TCP_SYN_SENT] = "SYN-SENT",
        [TCP_SYN_RECV] = "SYN-RECV",     [TCP_FIN_WAIT1] = "FIN-WAIT-1",
        [TCP_FIN_WAIT2] = "FIN-WAIT-2",  [TCP_TIME_WAIT] = "TIME-WAIT",
        [TCP_CLOSE] = "CLOSED",          [TCP_CLOSE_WAIT] = "CLOSE-WAIT",
        [TCP_LAST_ACK] = "LAST-ACK",     [TCP_LISTEN] = "LISTEN",
        [TCP_CLOSING] = "CLOSING",
    };
    if (st > 0 && st < (int)(sizeof(names) / sizeof(names[0])) && names[st])
        return names[st];
    return "?";
}

void tcp_info_header(FILE *out)
{
    fprintf(out, "%-6s %-21s %-10s %8s %8s %8s %6s %8s %7s %7s %8s %12s %12s\n", "conn", "peer",
            "state", "rtt_ms", "rttvar", "rto_ms", "cwnd", "ssthresh", "unacked", "retrans",
            "tot_retr", "bytes_in", "bytes_out");
}

void tcp_info_row(FILE *out, const char *what, const struct sockaddr_in *peer,
                  const struct tcp_info *ti, unsigned long long in, unsigned long long out_b)
{
    char a[INET_ADDRSTRLEN], p[32], ss[16];
    snprintf(p, sizeof(p), "%s:%u", ipv4_str(peer->sin_addr, a), ntohs(peer->sin_port));
    if (ti->tcpi_snd_ssthresh >= 0x7fffffffu)
        snprintf(ss, sizeof(ss), "inf");
    else
        snprintf(ss, sizeof(ss), "%u", ti->tcpi_snd_ssthresh);
    fprintf(out, "%-6s %-21s %-10s %8.3f %8.3f %8.3f %6u %8s %7u %7u %8u %12llu %12llu\n", what, p,
            tcp_state_name(ti->tcpi_state), ti->tcpi_rtt / 1000.0, ti->tcpi_rttvar / 1000.0,
            ti->tcpi_rto / 1000.0, ti->tcpi_snd_cwnd, ss, ti->tcpi_unacked, ti->tcpi_retransmits,
            ti->tcpi_total_retrans, in, out_b);
}

void tcp_server_print(struct tcp_server *srv, FILE *out)
{
    fprintf(out, "tcp connections: %zu open, %llu accepted, %llu closed\n", srv->n, srv->accepted,
            srv->closed);
    tcp_info_header(out);
    for (size_t i = 0; i < srv->n; i++) {
        struct conn *c = srv->conns[i];
        struct tcp_info ti;
        socklen_t len = sizeof(ti);
        char what[16];
        snprintf(what, sizeof(what), "fd%d", c->fd);
        if (ust_getsockopt(srv->stack, c->fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == 0)
            tcp_info_row(out, what, &c->peer, &ti, c->bytes_in, c->bytes_out);
    }
    unsigned long long first = srv->n_records > SERVE_RECORDS ? srv->n_records - SERVE_RECORDS : 0;
    for (unsigned long long k = first; k < srv->n_records; k++) {
        const struct conn_record *r = &srv->records[k % SERVE_RECORDS];
        if (r->have_ti)
            tcp_info_row(out, "closed", &r->peer, &r->ti, r->bytes_in, r->bytes_out);
    }
    if (first)
        fprintf(out, "(%llu earlier closed connections not shown)\n", first);
}
