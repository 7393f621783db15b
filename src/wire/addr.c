/* Printing IPv4 addresses. */
#include "wire/wire.h"

#include <stdio.h>

char *ust_ipv4_ntoa(uint32_t addr, char *buf)
{
    snprintf(buf, 16, "%u.%u.%u.%u", (unsigned)(addr >> 24), (unsigned)((addr >> 16) & 0xff),
             (unsigned)((addr >> 8) & 0xff), (unsigned)(addr & 0xff));
    return buf;
}
