/* The control channel between `ustack serve` and `ustack ss` / `ustack stat`:
 * a Unix stream socket next to the serve process. A client connects, writes
 * one request line ("ss [-l|-a] [-i]" or "stat [-a]"), and reads the answer
 * as text until the server closes. Requests are answered between two turns
 * of serve's loop, so an answer is a consistent snapshot of the stack. */
#ifndef USTACK_TOOLS_CONTROL_H
#define USTACK_TOOLS_CONTROL_H

#include <stddef.h>
#include <stdio.h>

struct ust_stack;

/* The directory serve puts its socket in: /run/ustack as root, else
 * $XDG_RUNTIME_DIR/ustack or /tmp/ustack-UID. */
void control_dir(char *buf, size_t len);

/* serve side: listens on path (default: control_dir()/serve-PID.sock when
 * path is NULL; the chosen path is copied to out). -1 after printing why. */
int control_listen(const char *path, char *out, size_t outlen);
/* Answers every client waiting on lfd (non-blocking; returns at once when
 * there is none). */
void control_serve(int lfd, struct ust_stack *stack);
void control_close(int lfd, const char *path);

/* Writes the answer to one request line to out (used by control_serve). */
void control_answer(struct ust_stack *stack, const char *request, FILE *out);

/* client side: sends request to the serve process at path (NULL: the only
 * one running), copies the answer to out. Returns a tool exit status. */
int control_request(const char *path, const char *request, FILE *out);

#endif
