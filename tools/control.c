/* The control channel of `ustack serve` (see control.h): the server side
 * answers `ss` with the stack's TCP connections (ust_tcp_diag, like
 * `ss -tin`) and `stat` with its counters (like `nstat -az`); the client
 * side finds the serve process and relays its answer. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <ustack/ustack.h>
#include <ustack/diag.h>

#include "common.h"
#include "control.h"

#define REQ_MAX 128
#define CLIENT_WAIT_MS 200      /* how long serve waits for a request line */
#define DIAG_MAX 8192           /* connections listed at most */

void control_dir(char *buf, size_t len)
{
    const char *xdg = getenv("XDG_RUNTIME_DIR");
    if (geteuid() == 0)
        snprintf(buf, len, "/run/ustack");
    else if (xdg && *xdg)
        snprintf(buf, len, "%s/ustack", xdg);
    else
        snprintf(buf, len, "/tmp/ustack-%u", (unsigned)geteuid());
}

static bool make_addr(const char *path, struct sockaddr_un *sun)
{
    memset(sun, 0, sizeof(*sun));
    sun->sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(sun->sun_path)) {
        fprintf(stderr, "ustack: control socket path too long: %s\n", path);
        return false;
    }
    memcpy(sun->sun_path, path, strlen(path) + 1);
    return true;
}

int control_listen(const char *path, char *out, size_t outlen)
{
    char dir[256];
    if (path) {
        snprintf(out, outlen, "%s", path);
    } else {
        control_dir(dir, sizeof(dir));
        if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
            fprintf(stderr, "ustack serve: mkdir %s: %s\n", dir, strerror(errno));
            return -1;
        }
        snprintf(out, outlen, "%s/serve-%ld.sock", dir, (long)getpid());
    }
    struct sockaddr_un sun;
    if (!make_addr(out, &sun))
        return -1;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        fprintf(stderr, "ustack serve: control socket: %s\n", strerror(errno));
        return -1;
    }
    unlink(out);    /* a stale socket of a serve that was killed */
    mode_t old = umask(0077);
    int r = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
    umask(old);
    if (r < 0 || listen(fd, 16) < 0) {
        fprintf(stderr, "ustack serve: control socket %s: %s\n", out, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

void control_close(int lfd, const char *path)
{
    if (lfd < 0)
        return;
    close(lfd);
    unlink(path);
}

/* Reads one request line (bounded in size and time); false when none came. */
static bool read_request(int fd, char *req, size_t len)
{
    size_t n = 0;
    while (n + 1 < len) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        if (poll(&p, 1, CLIENT_WAIT_MS) <= 0)
            return false;
        ssize_t r = read(fd, req + n, len - 1 - n);
        if (r <= 0)
            return false;
        n += (size_t)r;
        req[n] = '\0';
        char *nl = strchr(req, '\n');
        if (nl) {
            *nl = '\0';
            return true;
        }
    }
    return false;
}

void control_serve(int lfd, struct ust_stack *stack)
{
    for (int k = 0; k < 16; k++) {
        int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
            return;
        char req[REQ_MAX];
        /* The client side is blocking from here: a client that stops reading
         * could stall serve, but only its own user can connect (mode 0600). */
        int fl = fcntl(fd, F_GETFL);
        fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
        FILE *out = fdopen(fd, "w");
        if (!out) {
            close(fd);
            continue;
        }
        if (read_request(fd, req, sizeof(req)))
            control_answer(stack, req, out);
        else
            fprintf(out, "error: no request\n");
        fclose(out);
    }
}

/* ---- answers ---- */

static bool has_flag(const char *req, const char *flag)
{
    size_t fl = strlen(flag);
    for (const char *p = strstr(req, flag); p; p = strstr(p + 1, flag))
        if ((p == req || p[-1] == ' ') && (p[fl] == '\0' || p[fl] == ' '))
            return true;
    return false;
}

static void addr_port(char *buf, size_t len, const struct sockaddr_in *sin, bool star)
{
    char a[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &sin->sin_addr, a, sizeof(a));
    if (star && sin->sin_port == 0)
        snprintf(buf, len, "%s:*", a);
    else
        snprintf(buf, len, "%s:%u", a, ntohs(sin->sin_port));
}

static void ms3(char *buf, size_t len, uint32_t us)
{
    snprintf(buf, len, "%u.%03u", us / 1000, us % 1000);
}

/* The second line of `ss -i`: one connection's TCP_INFO. */
static void print_info(FILE *out, const struct ust_tcp_diag *d)
{
    const struct tcp_info *ti = &d->info;
    char rtt[16], var[16], ss[16];
    ms3(rtt, sizeof(rtt), ti->tcpi_rtt);
    ms3(var, sizeof(var), ti->tcpi_rttvar);
    if (ti->tcpi_snd_ssthresh >= 0x7fffffffu)
        snprintf(ss, sizeof(ss), "inf");
    else
        snprintf(ss, sizeof(ss), "%u", ti->tcpi_snd_ssthresh);
    fprintf(out, "\t %s", d->congestion);
    if (ti->tcpi_options & TCPI_OPT_TIMESTAMPS)
        fprintf(out, " ts");
    if (ti->tcpi_options & TCPI_OPT_SACK)
        fprintf(out, " sack");
    if (ti->tcpi_options & TCPI_OPT_WSCALE)
        fprintf(out, " wscale:%u,%u", ti->tcpi_snd_wscale, ti->tcpi_rcv_wscale);
    fprintf(out, " rto:%u rtt:%s/%s mss:%u cwnd:%u ssthresh:%s unacked:%u retrans:%u/%u"
                 " lost:%u sacked:%u rcv_space:%u%s\n",
            ti->tcpi_rto / 1000, rtt, var, ti->tcpi_snd_mss, ti->tcpi_snd_cwnd, ss,
            ti->tcpi_unacked, ti->tcpi_retransmits, ti->tcpi_total_retrans, ti->tcpi_lost,
            ti->tcpi_sacked, ti->tcpi_rcv_space, d->orphan ? " orphan" : "");
}

/* `ss`: established and closing connections; -l listeners only; -a both;
 * -i with TCP_INFO. */
static void answer_ss(struct ust_stack *stack, const char *req, FILE *out)
{
    bool all = has_flag(req, "-a"), listening = has_flag(req, "-l"), info = has_flag(req, "-i");
    struct ust_tcp_diag *d = calloc(DIAG_MAX, sizeof(*d));
    if (!d) {
        fprintf(out, "error: out of memory\n");
        return;
    }
    ssize_t n = ust_tcp_diag(stack, d, DIAG_MAX);
    fprintf(out, "%-11s %7s %7s %-21s %-21s\n", "State", "Recv-Q", "Send-Q",
            "Local Address:Port", "Peer Address:Port");
    size_t shown = n < 0 ? 0 : (size_t)n < DIAG_MAX ? (size_t)n : DIAG_MAX;
    for (size_t i = 0; i < shown; i++) {
        bool is_listen = d[i].info.tcpi_state == TCP_LISTEN;
        if (!all && is_listen != listening)
            continue;
        char l[32], r[32];
        addr_port(l, sizeof(l), &d[i].local, false);
        addr_port(r, sizeof(r), &d[i].remote, true);
        fprintf(out, "%-11s %7u %7u %-21s %-21s\n", ust_tcp_diag_state_name(d[i].info.tcpi_state),
                d[i].recv_q, d[i].send_q, l, r);
        if (info && !is_listen)
            print_info(out, &d[i]);
    }
    if (n > DIAG_MAX)
        fprintf(out, "(%zd more not shown)\n", n - DIAG_MAX);
    free(d);
}

/* `stat`: the stack's counters, the non-zero ones unless -a. */
static void answer_stat(struct ust_stack *stack, const char *req, FILE *out)
{
    bool all = has_flag(req, "-a");
    fprintf(out, "%-28s %20s\n", "#counter", "value");
    for (int i = 0; i < UST_STAT__COUNT; i++) {
        uint64_t v = ust_stat_get(stack, (enum ust_stat)i);
        if (v || all)
            fprintf(out, "%-28s %20llu\n", ust_stat_name((enum ust_stat)i),
                    (unsigned long long)v);
    }
    impair_stats_print(out);
}

void control_answer(struct ust_stack *stack, const char *req, FILE *out)
{
    if (strncmp(req, "ss", 2) == 0 && (req[2] == '\0' || req[2] == ' '))
        answer_ss(stack, req, out);
    else if (strncmp(req, "stat", 4) == 0 && (req[4] == '\0' || req[4] == ' '))
        answer_stat(stack, req, out);
    else
        fprintf(out, "error: unknown request '%s' (ss, stat)\n", req);
}

/* ---- client side ---- */

/* Whether a socket named serve-PID.sock belongs to a running process. */
static bool owner_alive(const char *name)
{
    long pid;
    if (sscanf(name, "serve-%ld.sock", &pid) != 1 || pid <= 0)
        return false;
    return kill((pid_t)pid, 0) == 0 || errno == EPERM;
}

/* The one running serve's socket in control_dir(); false after printing. */
static bool find_server(char *path, size_t len)
{
    char dir[256];
    control_dir(dir, sizeof(dir));
    DIR *dh = opendir(dir);
    int found = 0;
    if (dh) {
        struct dirent *e;
        while ((e = readdir(dh)) != NULL) {
            if (strncmp(e->d_name, "serve-", 6) != 0 || !owner_alive(e->d_name))
                continue;
            if (found++ == 0)
                snprintf(path, len, "%s/%s", dir, e->d_name);
            else
                fprintf(stderr, "%s%s/%s\n", found == 2 ? "ustack: several serve processes run; "
                                                          "pick one with --control:\n  " : "  ",
                        dir, e->d_name);
        }
        closedir(dh);
    }
    if (found == 0)
        fprintf(stderr, "ustack: no running `ustack serve` found in %s (give --control PATH)\n",
                dir);
    if (found == 2)
        fprintf(stderr, "  %s\n", path);
    return found == 1;
}

int control_request(const char *path, const char *request, FILE *out)
{
    char found[512];
    if (!path) {
        if (!find_server(found, sizeof(found)))
            return TOOL_EXIT_FAIL;
        path = found;
    }
    struct sockaddr_un sun;
    if (!make_addr(path, &sun))
        return TOOL_EXIT_FAIL;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
        fprintf(stderr, "ustack: cannot reach ustack serve at %s: %s\n", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return TOOL_EXIT_FAIL;
    }
    char line[REQ_MAX + 2];
    int len = snprintf(line, sizeof(line), "%s\n", request);
    if (len < 0 || (size_t)len >= sizeof(line) || write(fd, line, (size_t)len) != len) {
        fprintf(stderr, "ustack: cannot send the request to %s\n", path);
        close(fd);
        return TOOL_EXIT_FAIL;
    }
    char buf[4096];
    ssize_t r;
    size_t total = 0;
    while ((r = read(fd, buf, sizeof(buf))) > 0) {
        fwrite(buf, 1, (size_t)r, out);
        total += (size_t)r;
    }
    close(fd);
    if (r < 0 || total == 0) {
        fprintf(stderr, "ustack: no answer from %s\n", path);
        return TOOL_EXIT_FAIL;
    }
    return TOOL_EXIT_OK;
}
