/* UDP echo over ustack. The calls are POSIX's with a ust_ prefix and the
 * stack as first argument; constants and struct sockaddr_in are the system's.
 * It runs anywhere on the stack's loopback (127.0.0.1). To serve on a TAP
 * device instead, add before the sockets:
 *     struct ust_netif *tap = ust_tap_open(stack, "tap0", 0);
 *     ust_netif_set_ipv4(tap, (struct in_addr){ htonl(0x0a000002) }, 24);  // 10.0.0.2/24 */
#include <stdio.h>
#include <ustack/ustack.h>

int main(void)
{
    struct ust_stack *stack = ust_stack_new(NULL);     /* one host, loopback included */
    if (!stack || ust_stack_start(stack) < 0)          /* its thread; calls may now block */
        return 1;
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons(7),
                                .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    int server = ust_socket(stack, AF_INET, SOCK_DGRAM, 0);
    ust_bind(stack, server, (struct sockaddr *)&addr, sizeof(addr));

    int client = ust_socket(stack, AF_INET, SOCK_DGRAM, 0);
    ust_sendto(stack, client, "hello", 5, 0, (struct sockaddr *)&addr, sizeof(addr));

    char buf[2048];                                    /* the server: echo one datagram */
    struct sockaddr_in peer;
    socklen_t len = sizeof(peer);
    ssize_t n = ust_recvfrom(stack, server, buf, sizeof(buf), 0, (struct sockaddr *)&peer, &len);
    if (n < 0) {
        perror("ust_recvfrom");                        /* errno is set as Linux would */
        return 1;
    }
    ust_sendto(stack, server, buf, (size_t)n, 0, (struct sockaddr *)&peer, len);

    n = ust_recv(stack, client, buf, sizeof(buf), 0);  /* the client gets it back */
    printf("echoed %zd bytes: %.*s\n", n, (int)(n > 0 ? n : 0), buf);
    ust_close(stack, client);
    ust_close(stack, server);
    ust_stack_free(stack);
    return n == 5 ? 0 : 1;
}
