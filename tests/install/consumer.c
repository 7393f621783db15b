/* Built against an installed libustack, by pkg-config and by CMake's
 * find_package: proves `make install` gives a usable library. */
#include <ustack/ustack.h>

#include <stdio.h>

int main(void)
{
    struct ust_stack *stack = ust_stack_new(NULL);
    if (!stack)
        return 1;
    int fd = ust_socket(stack, AF_INET, SOCK_DGRAM, 0);
    int ok = fd >= 0 && ust_close(stack, fd) == 0;
    ust_stack_free(stack);
    puts(ok ? "consumer: ok" : "consumer: failed");
    return ok ? 0 : 1;
}
