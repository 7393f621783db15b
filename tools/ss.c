/* ustack ss and ustack stat: ask a running `ustack serve` (over its control
 * socket, control.c) for its TCP connections, as `ss -tin` shows the
 * kernel's, and for its counters, as `nstat -az` does. */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "common.h"
#include "control.h"

void usage_ss(FILE *out)
{
    char dir[256];
    control_dir(dir, sizeof(dir));
    fprintf(out,
            "usage: ustack ss [-l | -a] [-i] [--control PATH]\n\n"
            "Lists the TCP connections of a running `ustack serve`, like `ss -tn`:\n"
            "state, Recv-Q and Send-Q (for a listener: accept queue and backlog),\n"
            "local and peer address.\n\n"
            "  -l, --listening   listeners only (default: every other connection)\n"
            "  -a, --all         listeners and connections\n"
            "  -i, --info        also each connection's TCP_INFO: congestion control,\n"
            "                    options, rto, rtt/rttvar (ms), mss, cwnd, ssthresh,\n"
            "                    unacked, retransmits (current/total), lost, sacked\n"
            "  -t, -n            accepted for `ss -tin` habits (always TCP, numeric)\n"
            "  --control PATH    the serve's control socket (default: the only\n"
            "                    serve-PID.sock in %s)\n", dir);
}

void usage_stat(FILE *out)
{
    char dir[256];
    control_dir(dir, sizeof(dir));
    fprintf(out,
            "usage: ustack stat [-a] [--control PATH]\n\n"
            "Prints the counters of a running `ustack serve`, like `nstat -az`: IP, ICMP,\n"
            "UDP and TCP (segments in and out, retransmissions, checksum errors, SYN\n"
            "cookies, drops by reason), then the --impair counters if any.\n\n"
            "  -a, --all         also the counters that are zero\n"
            "  --control PATH    the serve's control socket (default: the only\n"
            "                    serve-PID.sock in %s)\n", dir);
}

static int run(int argc, char **argv, bool is_ss)
{
    static const struct option longopts[] = {
        { "listening", no_argument, NULL, 'l' }, { "all", no_argument, NULL, 'a' },
        { "info", no_argument, NULL, 'i' },      { "control", required_argument, NULL, 'c' },
        { "help", no_argument, NULL, 'h' },      { NULL, 0, NULL, 0 },
    };
    void (*usage)(FILE *) = is_ss ? usage_ss : usage_stat;
    const char *path = NULL;
    bool all = false, listening = false, info = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, is_ss ? "laitnh" : "ah", longopts, NULL)) != -1) {
        switch (c) {
        case 'l': listening = true; break;
        case 'a': all = true; break;
        case 'i': info = true; break;
        case 't': case 'n': break;
        case 'c': path = optarg; break;
        case 'h': usage(stdout); return TOOL_EXIT_OK;
        default: usage(stderr); return TOOL_EXIT_USAGE;
        }
    }
    if (optind < argc || (!is_ss && (listening || info))) {
        fprintf(stderr, "ustack %s: unexpected argument '%s'\n\n", is_ss ? "ss" : "stat",
                optind < argc ? argv[optind] : "-l/-i");
        usage(stderr);
        return TOOL_EXIT_USAGE;
    }
    char req[64];
    snprintf(req, sizeof(req), "%s%s%s%s", is_ss ? "ss" : "stat", all ? " -a" : "",
             listening ? " -l" : "", info ? " -i" : "");
    return control_request(path, req, stdout);
}

int cmd_ss(int argc, char **argv)
{
    return run(argc, argv, true);
}

int cmd_stat(int argc, char **argv)
{
    return run(argc, argv, false);
}
