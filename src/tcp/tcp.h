/* tcp/: the TCP engine (RFC 9293). Entry points used by other layers. */
#ifndef UST_TCP_TCP_H
#define UST_TCP_TCP_H

#include "core/fbuf.h"
#include "wire/wire.h"

struct ust_stack;

int ust_tcp_init(struct ust_stack *stack);
void ust_tcp_fini(struct ust_stack *stack);

#endif
