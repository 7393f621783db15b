/* Scatter/gather lists: checks and copies at an offset (see iov.h). */
#include "core/iov.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

int ust_iov_check(const struct iovec *iov, size_t cnt, size_t *len)
{
    if (cnt > UST_IOV_MAX)
        return -EINVAL;
    if (cnt && !iov)
        return -EFAULT;
    size_t total = 0;
    for (size_t i = 0; i < cnt; i++) {
        size_t l = iov[i].iov_len;
        if ((ssize_t)l < 0)
            return -EINVAL;
        if (l && !iov[i].iov_base)
            return -EFAULT;
        if (l > UST_IOV_MAX_BYTES - total)
            l = UST_IOV_MAX_BYTES - total;
        total += l;
    }
    *len = total;
    return 0;
}

struct ust_iov_pos ust_iov_seek(const struct iovec *iov, size_t cnt, size_t off)
{
    struct ust_iov_pos p = { 0, off };
    while (p.idx < cnt && p.off >= iov[p.idx].iov_len) {
        p.off -= iov[p.idx].iov_len;
        p.idx++;
    }
    return p;
}

/* Copies n bytes between buf and the list at off: into the list when
 * to_list, out of it otherwise. Returns the bytes copied. */
static size_t iov_copy(const struct iovec *iov, size_t cnt, size_t off, unsigned char *buf,
                       size_t n, bool to_list)
{
    size_t done = 0;
    struct ust_iov_pos p = ust_iov_seek(iov, cnt, off);
    for (; p.idx < cnt && done < n; p.idx++, p.off = 0) {
        size_t k = iov[p.idx].iov_len - p.off;
        if (k > n - done)
            k = n - done;
        unsigned char *piece = (unsigned char *)iov[p.idx].iov_base + p.off;
        if (k && to_list)
            memcpy(piece, buf + done, k);
        else if (k)
            memcpy(buf + done, piece, k);
        done += k;
    }
    return done;
}

size_t ust_iov_to(const struct iovec *iov, size_t cnt, size_t off, const void *src, size_t n)
{
    return iov_copy(iov, cnt, off, (unsigned char *)(uintptr_t)src, n, true);
}

size_t ust_iov_from(const struct iovec *iov, size_t cnt, size_t off, void *dst, size_t n)
{
    return iov_copy(iov, cnt, off, dst, n, false);
}
