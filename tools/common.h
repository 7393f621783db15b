/* Helpers shared by the ustack subcommands: argument parsing, interface
 * setup, signal handling, counters, and the subcommand entry points. */
#ifndef USTACK_TOOLS_COMMON_H
#define USTACK_TOOLS_COMMON_H

#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <netinet/in.h>

#include <ustack/ustack.h>

/* Exit statuses: 0 success, 1 failure at run time, 2 bad usage (like ping(8)). */
#define TOOL_EXIT_OK 0
#define TOOL_EXIT_FAIL 1
#define TOOL_EXIT_USAGE 2

/* Subcommands (one file each). Each takes argv with argv[0] = its name. */
int cmd_serve(int argc, char **argv);
int cmd_ping(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_get(int argc, char **argv);
int cmd_ss(int argc, char **argv);
int cmd_stat(int argc, char **argv);
int cmd_trace(int argc, char **argv);
int cmd_ipcs(int argc, char **argv);
int cmd_ipcrm(int argc, char **argv);
int cmd_ipcmk(int argc, char **argv);
void usage_serve(FILE *out);
void usage_ping(FILE *out);
void usage_demo(FILE *out);
void usage_get(FILE *out);
void usage_ss(FILE *out);
void usage_stat(FILE *out);
void usage_trace(FILE *out);
void usage_ipcs(FILE *out);
void usage_ipcrm(FILE *out);
void usage_ipcmk(FILE *out);

/* Numbers and addresses. Each returns false on malformed input. */
bool parse_uint(const char *s, unsigned long min, unsigned long max, unsigned long *out);
bool parse_double(const char *s, double min, double max, double *out);
bool parse_ipv4(const char *s, struct in_addr *out);
/* "A.B.C.D/LEN". */
bool parse_ipv4_prefix(const char *s, struct in_addr *addr, int *prefix_len);
/* "A.B.C.D" into buf (at least INET_ADDRSTRLEN bytes); returns buf. */
const char *ipv4_str(struct in_addr a, char *buf);
/* "aa:bb:cc:dd:ee:ff" into buf (at least 18 bytes); returns buf. */
const char *mac_str(const uint8_t mac[6], char *buf);

/* Prints "ustack CMD: bad value for --OPTION: 'ARG'" (OPTION found by val in opts). */
void bad_value(const char *cmd, const struct option *opts, int val, const char *arg);

/* The interface options serve and ping share: --tap/--tun, --addr, --gw, --pcap. */
struct netif_opts {
    const char *tap;          /* TAP device name, or NULL */
    const char *tun;          /* TUN device name, or NULL */
    bool have_addr;
    struct in_addr addr;
    int prefix_len;
    bool have_gw;
    struct in_addr gw;
    const char *pcap;         /* capture file, or NULL */
    bool have_impair;         /* --impair given: impair[] applies */
    struct ust_link_params impair[2];   /* [UST_IMPAIR_RX], [UST_IMPAIR_TX] */
};

/* --impair SPEC, shared by every subcommand that opens a TAP or TUN: netem's
 * impairments inside ustack (ust_netif_set_impairment). Add the option entry
 * to the getopt table, call parse_impair for it, and print the help lines. */
#define NETIF_IMPAIR_OPT 'I'
#define NETIF_IMPAIR_OPTION { "impair", required_argument, NULL, NETIF_IMPAIR_OPT }
#define NETIF_IMPAIR_HELP                                                                     \
    "  --impair SPEC     impair the device inside ustack, like netem (for kernels\n"            \
    "                    without it): comma-separated KEY=VALUE, each for both\n"              \
    "                    directions or prefixed rx: (frames reaching ustack) or tx:\n"        \
    "                    (frames ustack sends). Keys: loss, dup, corrupt, reorder in\n"       \
    "                    percent ('3%%' or '3'); delay, jitter with ns|us|ms|s (default\n"    \
    "                    ms); rate with bit|kbit|mbit|gbit; limit = frames held (1000).\n"  \
    "                    Example: loss=3%%,delay=5ms,reorder=10%%. Reordered frames skip\n"  \
    "                    the delay. --pcap records what ustack sees: received frames\n"   \
    "                    after the impairment, sent frames before it. May be repeated.\n"
/* Parses one --impair SPEC into o (adding to earlier ones); false if malformed. */
bool parse_impair(const char *spec, struct netif_opts *o);

/* Checks the combination (exactly one of tap/tun when require_dev, an
 * address with a device); prints the problem and returns false if wrong. */
bool netif_opts_check(const struct netif_opts *o, bool require_dev);
/* Opens the TAP/TUN device of o (or picks loopback when there is none), sets
 * address, default route and capture. Returns the netif, or NULL after
 * printing why. */
struct ust_netif *netif_setup(struct ust_stack *stack, const struct netif_opts *o);

/* SIGINT/SIGTERM set tool_stop instead of killing the process, so the
 * subcommand can finish cleanly (print its summary, close the capture). */
extern volatile sig_atomic_t tool_stop;
void signals_install(void);
/* Block SIGINT/SIGTERM in the calling thread (and threads it starts), or
 * unblock them again: the stack thread must not take them. */
void signals_block(bool block);

/* Monotonic wall clock in ns (CLOCK_MONOTONIC). */
uint64_t mono_ns(void);

/* Prints the counters that are not zero, "Group.Name value" per line, like nstat,
 * then impair_stats_print. */
void stats_print(FILE *out, const struct ust_stack *stack);
/* The --impair counters of each direction ("impair rx: ..."), if --impair was used. */
void impair_stats_print(FILE *out);

#endif
