/* Socket diagnostics: a snapshot of a stack's TCP connections and listeners,
 * in the spirit of Linux's inet_diag (what `ss -tin` reads).
 *
 *     struct ust_tcp_diag d[64];
 *     ssize_t n = ust_tcp_diag(stack, d, 64);   // n may exceed 64
 *
 * Every connection block the stack holds is reported: listeners, connections
 * being opened (SYN-SENT, SYN-RECEIVED children not yet accepted), open ones,
 * and closing ones that no descriptor refers to any more (FIN-WAIT, LAST-ACK,
 * TIME-WAIT). A socket that is only bound, or not even that, is not reported.
 * The order is unspecified. */
#ifndef USTACK_DIAG_H
#define USTACK_DIAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#ifndef TCP_INFO
#error "<ustack/diag.h> needs struct tcp_info: compile with _DEFAULT_SOURCE or _GNU_SOURCE"
#endif

struct ust_stack;

struct ust_tcp_diag {
    struct sockaddr_in local;   /* bound address and port (0.0.0.0 = any) */
    struct sockaddr_in remote;  /* peer; zero for a listener */
    /* LISTEN: connections waiting in the accept queue, and the backlog.
     * Otherwise: bytes received and not yet read, and bytes sent (or queued)
     * and not yet acknowledged - ss's Recv-Q and Send-Q. */
    uint32_t recv_q, send_q;
    uint32_t syn_q;             /* LISTEN: half-open children (SYN queue) */
    bool orphan;                /* no descriptor: closed by the user */
    char congestion[16];        /* TCP_CONGESTION name, e.g. "cubic" */
    struct tcp_info info;       /* what TCP_INFO gives; info.tcpi_state is Linux's
                                 * numbering (TCP_ESTABLISHED, TCP_LISTEN...) */
};

/* Copies up to max entries into out and returns how many blocks there are in
 * all (more than max when out was too small; call again with a bigger
 * array). -1 with EINVAL when out is NULL and max is not 0. */
ssize_t ust_tcp_diag(struct ust_stack *stack, struct ust_tcp_diag *out, size_t max);

/* The name ss prints for a tcp_info state (Linux numbering): "ESTAB",
 * "SYN-SENT", "LISTEN", "TIME-WAIT"...; "UNKNOWN" for anything else. */
const char *ust_tcp_diag_state_name(int tcpi_state);

#endif
