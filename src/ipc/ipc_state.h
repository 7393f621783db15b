/* Members of struct ust_stack owned by ipc/ (FIFO and message queue
 * namespaces, limits). Owner: ipc/. */
#ifndef UST_IPC_IPC_STATE_H
#define UST_IPC_IPC_STATE_H

#include <stdint.h>

struct ust_ipc_state {
    uint32_t nobjects;          /* named objects alive */
};

#endif
