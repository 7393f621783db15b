/* ustack: a kernel's socket layer in user space. Include this one header
 * (and <ustack/diag.h> for socket diagnostics: it needs struct tcp_info,
 * which glibc shows only with _DEFAULT_SOURCE or _GNU_SOURCE). */
#ifndef USTACK_USTACK_H
#define USTACK_USTACK_H

#include <ustack/stack.h>
#include <ustack/stats.h>
#include <ustack/netif.h>
#include <ustack/socket.h>
#include <ustack/fd.h>
#include <ustack/poll.h>
#include <ustack/ipc.h>
#include <ustack/sim.h>
#include <ustack/trace.h>

#define USTACK_VERSION_MAJOR 0
#define USTACK_VERSION_MINOR 1
#define USTACK_VERSION_PATCH 0

#endif
