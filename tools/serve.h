/* ustack serve: what serve.c (options, main loop, UDP), serve_tcp.c (TCP
 * connections: echo, discard, chargen, TCP_INFO table) and serve_http.c
 * (HTTP/1.1 file server) share. */
#ifndef USTACK_TOOLS_SERVE_H
#define USTACK_TOOLS_SERVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include "common.h"

enum service { SVC_ECHO, SVC_DISCARD, SVC_CHARGEN, SVC_HTTP };

#define HTTP_REQ_MAX 16384      /* request head bytes buffered per connection */

struct serve_opts {
    struct netif_opts nif;
    enum service service;
    bool have_service;
    bool udp, tcp;              /* protocols to serve */
    bool proto_explicit;        /* --proto given: failing to open one is fatal */
    unsigned short port;
    const char *root;           /* --root for http */
    bool stats;
    const char *control;        /* --control PATH, or NULL for the default */
    bool no_control;            /* --no-control */
};

/* One accepted TCP connection. */
struct conn {
    int fd;
    struct sockaddr_in peer;
    uint64_t last_io_ns;
    unsigned long long bytes_in, bytes_out;
    char *out;                  /* bytes waiting to be sent: out[out_off, out_len) */
    size_t out_off, out_len, out_cap;
    bool peer_eof;              /* the peer's FIN was read */
    bool close_after_out;       /* close once out is sent (HTTP Connection: close) */
    unsigned long chargen_pos;
    /* HTTP */
    char *req;                  /* request bytes read, not yet handled */
    size_t req_len;
    int file_fd;                /* file being sent, or -1 */
    uint64_t file_off, file_left;
    unsigned requests;
};

/* Final TCP_INFO of a closed connection, kept for the --stats table. */
struct conn_record {
    struct sockaddr_in peer;
    struct tcp_info ti;
    bool have_ti;
    unsigned long long bytes_in, bytes_out;
};

#define SERVE_RECORDS 16

struct tcp_server {
    struct ust_stack *stack;
    const struct serve_opts *o;
    int lfd;
    struct conn **conns;
    size_t n, cap;
    unsigned long long accepted, closed, bytes_in, bytes_out, errors, resets;
    unsigned long long total_retrans;        /* sum over closed connections */
    struct conn_record records[SERVE_RECORDS]; /* the last closed ones */
    unsigned long long n_records;
};

/* serve_tcp.c */
int tcp_server_open(struct tcp_server *srv, struct ust_stack *stack, const struct serve_opts *o);
void tcp_server_close(struct tcp_server *srv);
/* Adds the listener and the connections to fds (from index *n on, at most
 * max entries); returns how many were added. */
size_t tcp_server_pollfds(struct tcp_server *srv, struct pollfd *fds, size_t max);
/* Handles the results of a poll for the entries tcp_server_pollfds added. */
void tcp_server_handle(struct tcp_server *srv, const struct pollfd *fds, size_t count);
/* Prints the ss-like per-connection TCP_INFO table (open connections, then
 * the last closed ones). */
void tcp_server_print(struct tcp_server *srv, FILE *out);
/* Prints one TCP_INFO table header / row (also used by ustack get). */
void tcp_info_header(FILE *out);
void tcp_info_row(FILE *out, const char *what, const struct sockaddr_in *peer,
                  const struct tcp_info *ti, unsigned long long in, unsigned long long out_b);
const char *tcp_state_name(int st);

/* RFC 864 chargen pattern; *pos carries the position across calls. */
size_t chargen_fill(char *buf, size_t len, unsigned long *pos);

/* serve_http.c: parses the requests in c->req and queues the responses. */
void http_on_input(struct tcp_server *srv, struct conn *c);
/* Refills c->out from the file being sent; false on a read error. */
bool http_refill(struct conn *c);
/* Whether the current response (headers and file) is entirely queued. */
bool http_response_done(const struct conn *c);

#endif
