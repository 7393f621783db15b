/* What the event trace costs: one bulk TCP transfer between two simulated
 * hosts (one thread, virtual time, no impairment), timed in CPU seconds.
 * bench/trace_overhead.sh builds it twice - trace points compiled in
 * (USTACK_TRACE=ON, the default) and compiled out - and compares:
 *   trace_overhead [-m MIB] [-t]
 *   -m MIB   bytes to move (default 256)
 *   -t       tracing on, every kind, into a callback that counts events
 * Prints "MiB/s-of-CPU events". Not a test: see bench/README.md. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <ustack/ustack.h>

static void count(void *arg, const struct ust_trace_event *ev)
{
    (void)ev;
    (*(unsigned long long *)arg)++;
}

static double cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int die(const char *what)
{
    fprintf(stderr, "trace_overhead: %s: %s\n", what, strerror(errno));
    return 1;
}

int main(int argc, char **argv)
{
    unsigned long long mib = 256, events = 0;
    int c;
    bool trace = false;
    while ((c = getopt(argc, argv, "m:th")) != -1) {
        switch (c) {
        case 'm': mib = strtoull(optarg, NULL, 10); break;
        case 't': trace = true; break;
        default:
            fprintf(stderr, "usage: trace_overhead [-m MIB] [-t]\n");
            return 2;
        }
    }
    struct ust_sim *sim = ust_sim_new(1);
    struct ust_stack *a = ust_sim_add_host(sim, "A", NULL), *b = ust_sim_add_host(sim, "B", NULL);
    struct ust_link_params lp = { .delay_ns = 10000 };
    struct ust_sim_link *link = ust_sim_link_new(sim, a, b, &lp, &lp);
    if (!sim || !a || !b || !link)
        return die("simulator");
    struct in_addr ia = { htonl(0x0a000001) }, ib = { htonl(0x0a000002) };
    ust_netif_set_ipv4(ust_sim_link_netif(link, 0), ia, 24);
    ust_netif_set_ipv4(ust_sim_link_netif(link, 1), ib, 24);
    if (trace) {
        ust_trace_set(a, UST_TRACE_ALL, count, &events);
        ust_trace_set(b, UST_TRACE_ALL, count, &events);
    }
    int lfd = ust_socket(b, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in sb = { .sin_family = AF_INET, .sin_port = htons(5001), .sin_addr = ib };
    if (lfd < 0 || ust_bind(b, lfd, (struct sockaddr *)&sb, sizeof(sb)) < 0 || ust_listen(b, lfd, 8) < 0)
        return die("listen");
    int cfd = ust_socket(a, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (cfd < 0 || (ust_connect(a, cfd, (struct sockaddr *)&sb, sizeof(sb)) < 0 && errno != EINPROGRESS))
        return die("connect");
    int sfd = -1;
    static char buf[256 * 1024];
    memset(buf, 'x', sizeof(buf));
    unsigned long long total = mib << 20, sent = 0, got = 0;
    double t0 = cpu_seconds();
    while (got < total) {
        ust_sim_run_until(sim, ust_sim_now(sim) + 20000);
        if (sfd < 0)
            sfd = ust_accept4(b, lfd, NULL, NULL, SOCK_NONBLOCK);
        while (sent < total) {
            size_t n = total - sent < sizeof(buf) ? (size_t)(total - sent) : sizeof(buf);
            ssize_t r = ust_send(a, cfd, buf, n, 0);
            if (r <= 0)
                break;
            sent += (unsigned long long)r;
        }
        for (ssize_t r; sfd >= 0 && (r = ust_recv(b, sfd, buf, sizeof(buf), 0)) > 0;)
            got += (unsigned long long)r;
        if (ust_sim_now(sim) > 3600ull * 1000000000ull)
            return die("no progress");
    }
    double secs = cpu_seconds() - t0;
    printf("%.1f %llu\n", (double)mib / secs, events);
    ust_sim_free(sim);
    return 0;
}
