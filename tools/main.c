/* The ustack command: dispatches to one subcommand per file
 * (serve.c, get.c, ping.c, demo.c, ss.c, trace.c, ipcs.c) and prints help. */
#include <stdio.h>
#include <string.h>

#include "common.h"

struct command {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv);
    void (*usage)(FILE *out);
};

static const struct command commands[] = {
    { "serve", "serve echo, discard, chargen (UDP, TCP) or HTTP on a TAP or TUN device", cmd_serve, usage_serve },
    { "get", "fetch a URL over HTTP/1.1 with ustack's TCP (over TAP or TUN)", cmd_get, usage_get },
    { "ping", "send ICMP echo requests from ustack (over TAP, TUN or loopback)", cmd_ping, usage_ping },
    { "demo", "two simulated hosts: ARP, ping and UDP, explained step by step", cmd_demo, usage_demo },
    { "ss", "list a running `ustack serve`'s TCP connections (like ss -tin)", cmd_ss, usage_ss },
    { "stat", "print a running `ustack serve`'s counters (like nstat)", cmd_stat, usage_stat },
    { "trace", "tell a TCP connection from a capture file, as the demo does", cmd_trace, usage_trace },
    { "ipcs", "list shared queues and FIFOs in /dev/shm: sizes, limits, holders", cmd_ipcs, usage_ipcs },
    { "ipcrm", "remove a shared queue or FIFO (IPC_RMID: waiters get EIDRM)", cmd_ipcrm, usage_ipcrm },
    { "ipcmk", "create a shared POSIX message queue (like ipcmk -Q)", cmd_ipcmk, usage_ipcmk },
};
#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *out)
{
    fprintf(out, "usage: ustack COMMAND [OPTIONS]\n"
                 "       ustack help COMMAND | ustack COMMAND --help\n\n"
                 "ustack %d.%d.%d, a TCP/IP stack in user space.\n\ncommands:\n",
            USTACK_VERSION_MAJOR, USTACK_VERSION_MINOR, USTACK_VERSION_PATCH);
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(out, "  %-6s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "  %-6s show help for a command\n", "help");
}

static const struct command *find_command(const char *name)
{
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

/* "ustack help [CMD]". */
static int help(int argc, char **argv)
{
    if (argc < 2) {
        usage(stdout);
        return TOOL_EXIT_OK;
    }
    const struct command *c = find_command(argv[1]);
    if (!c) {
        fprintf(stderr, "ustack: unknown command '%s'\n\n", argv[1]);
        usage(stderr);
        return TOOL_EXIT_USAGE;
    }
    c->usage(stdout);
    return TOOL_EXIT_OK;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return TOOL_EXIT_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) {
        usage(stdout);
        return TOOL_EXIT_OK;
    }
    if (strcmp(name, "--version") == 0) {
        printf("ustack %d.%d.%d\n", USTACK_VERSION_MAJOR, USTACK_VERSION_MINOR,
               USTACK_VERSION_PATCH);
        return TOOL_EXIT_OK;
    }
    if (strcmp(name, "help") == 0)
        return help(argc - 1, argv + 1);
    const struct command *c = find_command(name);
    if (!c) {
        fprintf(stderr, "ustack: unknown command '%s'\n\n", name);
        usage(stderr);
        return TOOL_EXIT_USAGE;
    }
    return c->run(argc - 1, argv + 1);
}
