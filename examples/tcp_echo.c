/* TCP echo over ustack: a server thread accepts one connection and echoes
 * it; the client sends a few lines and reads them back. The calls are the
 * BSD socket API with a ust_ prefix and the stack as first argument. Runs on
 * the stack's loopback (127.0.0.1); for a TAP device, see udp_echo.c. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <ustack/ustack.h>

struct server {
    struct ust_stack *stack;
    int listener;
};

static void *echo_server(void *arg)
{
    struct server *s = arg;
    int conn = ust_accept(s->stack, s->listener, NULL, NULL);  /* blocks until a client */
    if (conn < 0)
        return NULL;
    char buf[4096];
    ssize_t n;
    while ((n = ust_recv(s->stack, conn, buf, sizeof(buf), 0)) > 0)  /* 0 = the client's FIN */
        ust_send(s->stack, conn, buf, (size_t)n, MSG_NOSIGNAL);
    ust_close(s->stack, conn);
    return NULL;
}

int main(void)
{
    struct ust_stack *stack = ust_stack_new(NULL);
    if (!stack || ust_stack_start(stack) < 0)
        return 1;
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons(7),
                                .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    struct server srv = { stack, ust_socket(stack, AF_INET, SOCK_STREAM, 0) };
    if (srv.listener < 0) {
        perror("ust_socket(SOCK_STREAM)");     /* EPROTONOSUPPORT: built without TCP */
        ust_stack_free(stack);
        return errno == EPROTONOSUPPORT ? 77 : 1;
    }
    if (ust_bind(stack, srv.listener, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
        ust_listen(stack, srv.listener, 16) < 0) {
        perror("bind/listen");
        return 1;
    }
    pthread_t t;
    pthread_create(&t, NULL, echo_server, &srv);

    int client = ust_socket(stack, AF_INET, SOCK_STREAM, 0);
    if (ust_connect(stack, client, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
        perror("ust_connect");
        return 1;
    }
    const char *lines[] = { "hello\n", "over ustack's own TCP\n", "bye\n" };
    size_t total = 0, got = 0;
    char back[256];
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
        ust_send(stack, client, lines[i], strlen(lines[i]), 0);
        total += strlen(lines[i]);
    }
    ust_shutdown(stack, client, SHUT_WR);       /* our FIN: the server stops after echoing */
    ssize_t n;
    while (got < sizeof(back) && (n = ust_recv(stack, client, back + got, sizeof(back) - got, 0)) > 0)
        got += (size_t)n;
    printf("echoed %zu of %zu bytes:\n%.*s", got, total, (int)got, back);
    ust_close(stack, client);
    pthread_join(t, NULL);
    ust_close(stack, srv.listener);
    ust_stack_free(stack);
    return got == total ? 0 : 1;
}
