/* ustack serve --service http: a small HTTP/1.1 file server (RFC 9110,
 * RFC 9112) on the TCP connections of serve_tcp.c. GET and HEAD of regular
 * files under --root (index.html for a directory), Content-Length, keep-alive
 * (the default in HTTP/1.1, opt-in with HTTP/1.0), pipelined requests
 * answered in order; 400, 403, 404, 405, 431 otherwise. Files are streamed
 * from disk in pieces, never loaded whole. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "serve.h"

#define HTTP_OUT_MIN 4096

struct http_req {
    char method[16];
    char path[1024];
    int minor;              /* HTTP/1.<minor> */
    bool conn_close, conn_keep_alive;
    bool has_body;
};

static char *find_head_end(char *p, size_t len)
{
    for (size_t i = 0; i + 3 < len; i++)
        if (p[i] == '\r' && p[i + 1] == '\n' && p[i + 2] == '\r' && p[i + 3] == '\n')
            return p + i;
    return NULL;
}

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* Percent-decodes the path part of a request target in place (query
 * dropped). False for a malformed escape or a NUL. */
static bool decode_path(char *p)
{
    char *q = strchr(p, '?');
    if (q)
        *q = '\0';
    char *w = p;
    for (char *r = p; *r; r++) {
        if (*r == '%') {
            int hi = hexval(r[1]), lo = hi >= 0 ? hexval(r[2]) : -1;
            if (lo < 0 || (hi == 0 && lo == 0))
                return false;
            *w++ = (char)(hi * 16 + lo);
            r += 2;
        } else {
            *w++ = *r;
        }
    }
    *w = '\0';
    return true;
}

/* No ".." path segment: the request stays under the root. */
static bool path_is_safe(const char *p)
{
    if (p[0] != '/')
        return false;
    for (const char *s = p; (s = strstr(s, "..")) != NULL; s += 2) {
        bool starts = s[-1] == '/';
        bool ends = s[2] == '/' || s[2] == '\0';
        if (starts && ends)
            return false;
    }
    return true;
}

/* Header line "Name: value" (RFC 9110 §5): the ones we care about. */
static void parse_header(struct http_req *rq, char *line)
{
    char *colon = strchr(line, ':');
    if (!colon)
        return;
    *colon = '\0';
    char *v = colon + 1;
    while (*v == ' ' || *v == '\t')
        v++;
    if (strcasecmp(line, "Connection") == 0) {
        if (strcasestr(v, "close"))
            rq->conn_close = true;
        if (strcasestr(v, "keep-alive"))
            rq->conn_keep_alive = true;
    } else if (strcasecmp(line, "Content-Length") == 0) {
        rq->has_body = strtoull(v, NULL, 10) > 0;
    } else if (strcasecmp(line, "Transfer-Encoding") == 0) {
        rq->has_body = true;
    }
}

/* Parses the head in [head, head + len) (NUL-terminated by the caller). */
static bool parse_request(char *head, struct http_req *rq)
{
    memset(rq, 0, sizeof(*rq));
    char *save = NULL;
    char *line = strtok_r(head, "\r\n", &save);
    char version[16];
    if (!line || sscanf(line, "%15s %1023s %15s", rq->method, rq->path, version) != 3)
        return false;
    if (strncmp(version, "HTTP/1.", 7) != 0 || (version[7] != '0' && version[7] != '1'))
        return false;
    rq->minor = version[7] - '0';
    while ((line = strtok_r(NULL, "\r\n", &save)) != NULL)
        parse_header(rq, line);
    return true;
}

static const char *content_type(const char *path)
{
    const char *dot = strrchr(path, '.');
    if (!dot)
        return "application/octet-stream";
    if (strcmp(dot, ".html") == 0 || strcmp(dot, ".htm") == 0)
        return "text/html";
    if (strcmp(dot, ".txt") == 0)
        return "text/plain";
    return "application/octet-stream";
}

/* Appends a formatted head to c->out. */
static bool queue_head(struct conn *c, int code, const char *reason, uint64_t length,
                       const char *type, bool keep)
{
    size_t need = c->out_len + 512;
    if (c->out_cap < need) {
        char *p = realloc(c->out, need < HTTP_OUT_MIN ? HTTP_OUT_MIN : need);
        if (!p)
            return false;
        c->out = p;
        c->out_cap = need < HTTP_OUT_MIN ? HTTP_OUT_MIN : need;
    }
    int n = snprintf(c->out + c->out_len, c->out_cap - c->out_len,
                     "HTTP/1.1 %d %s\r\nServer: ustack\r\nContent-Length: %llu\r\n"
                     "Content-Type: %s\r\nConnection: %s\r\n\r\n",
                     code, reason, (unsigned long long)length, type, keep ? "keep-alive" : "close");
    if (n < 0 || (size_t)n >= c->out_cap - c->out_len)
        return false;
    c->out_len += (size_t)n;
    return true;
}

/* A short error answer with a text body. */
static void queue_error(struct conn *c, int code, const char *reason, bool keep, bool head_only)
{
    char body[128];
    int n = snprintf(body, sizeof(body), "%d %s\n", code, reason);
    if (!queue_head(c, code, reason, (uint64_t)n, "text/plain", keep))
        return;
    if (!head_only && c->out_cap - c->out_len >= (size_t)n) {
        memcpy(c->out + c->out_len, body, (size_t)n);
        c->out_len += (size_t)n;
    }
    if (!keep)
        c->close_after_out = true;
}

/* Opens root + path (index.html for a directory); -1 with errno. */
static int open_target(const char *root, const char *path, struct stat *st)
{
    char full[4096];
    int n = snprintf(full, sizeof(full), "%s%s", root, path);
    if (n < 0 || (size_t)n >= sizeof(full) - 16) {
        errno = ENAMETOOLONG;
        return -1;
    }
    if (stat(full, st) == 0 && S_ISDIR(st->st_mode))
        strcat(full, full[n - 1] == '/' ? "index.html" : "/index.html");
    int fd = open(full, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode)) {
        close(fd);
        errno = ENOENT;
        return -1;
    }
    return fd;
}

/* Queues the answer to one parsed request. */
static void answer(struct tcp_server *srv, struct conn *c, struct http_req *rq)
{
    bool keep = rq->minor >= 1 ? !rq->conn_close : rq->conn_keep_alive;
    bool head = strcmp(rq->method, "HEAD") == 0;
    c->requests++;
    if (!head && strcmp(rq->method, "GET") != 0) {
        queue_error(c, 405, "Method Not Allowed", false, false);
        return;
    }
    if (rq->has_body) {  /* GET/HEAD with a body: not worth supporting */
        queue_error(c, 400, "Bad Request", false, head);
        return;
    }
    if (!decode_path(rq->path) || !path_is_safe(rq->path)) {
        queue_error(c, 403, "Forbidden", keep, head);
        return;
    }
    struct stat st;
    int fd = open_target(srv->o->root, rq->path, &st);
    if (fd < 0) {
        queue_error(c, 404, "Not Found", keep, head);
        return;
    }
    if (!queue_head(c, 200, "OK", (uint64_t)st.st_size, content_type(rq->path), keep)) {
        close(fd);
        c->close_after_out = true;
        return;
    }
    if (!keep)
        c->close_after_out = true;
    if (head || st.st_size == 0) {
        close(fd);
        return;
    }
    c->file_fd = fd;
    c->file_off = 0;
    c->file_left = (uint64_t)st.st_size;
}

bool http_response_done(const struct conn *c)
{
    return c->out_off >= c->out_len && c->file_left == 0;
}

void http_on_input(struct tcp_server *srv, struct conn *c)
{
    if (!http_response_done(c) || c->close_after_out || c->req_len == 0)
        return;
    char *end = find_head_end(c->req, c->req_len);
    if (!end) {
        if (c->req_len >= HTTP_REQ_MAX)
            queue_error(c, 431, "Request Header Fields Too Large", false, false);
        else if (c->peer_eof)
            c->req_len = 0;  /* a partial request, then FIN: nothing to answer */
        return;
    }
    size_t head_len = (size_t)(end - c->req) + 4;
    char head[HTTP_REQ_MAX + 1];
    memcpy(head, c->req, head_len);
    head[head_len] = '\0';
    memmove(c->req, c->req + head_len, c->req_len - head_len);
    c->req_len -= head_len;
    c->out_off = c->out_len = 0;
    struct http_req rq;
    if (!parse_request(head, &rq)) {
        queue_error(c, 400, "Bad Request", false, false);
        return;
    }
    answer(srv, c, &rq);
}

bool http_refill(struct conn *c)
{
    size_t n = c->out_cap;
    if (n > c->file_left)
        n = (size_t)c->file_left;
    ssize_t r = pread(c->file_fd, c->out, n, (off_t)c->file_off);
    if (r <= 0) {
        errno = r < 0 ? errno : EIO;
        return false;
    }
    c->out_off = 0;
    c->out_len = (size_t)r;
    c->file_off += (uint64_t)r;
    c->file_left -= (uint64_t)r;
    if (c->file_left == 0) {
        close(c->file_fd);
        c->file_fd = -1;
    }
    return true;
}
