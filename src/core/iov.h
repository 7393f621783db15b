/* Scatter/gather lists (struct iovec, as readv/writev and sendmsg/recvmsg
 * take them): copying a byte range in or out at an offset, so a protocol
 * copies the caller's pieces straight into (or out of) its own buffer once.
 * The list is assumed checked (ust_iov_check): bases valid for their
 * lengths, total fits in size_t. */
#ifndef UST_CORE_IOV_H
#define UST_CORE_IOV_H

#include <stddef.h>
#include <sys/uio.h>

/* Linux's UIO_MAXIOV: the most pieces one call accepts. */
#define UST_IOV_MAX 1024
/* Linux's MAX_RW_COUNT (INT_MAX & PAGE_MASK): one call moves at most this. */
#define UST_IOV_MAX_BYTES ((size_t)0x7ffff000)

/* Linux import_iovec's checks: -EINVAL for more than UST_IOV_MAX pieces or
 * a negative (as ssize_t) length, -EFAULT for a NULL list or base with a
 * length. Lengths past UST_IOV_MAX_BYTES in total are cut down as Linux
 * does: *len is the total that will be moved (the list itself is unchanged;
 * callers move at most *len). */
int ust_iov_check(const struct iovec *iov, size_t cnt, size_t *len);

/* Copies n bytes from src into the list, starting `off` bytes into it;
 * returns the bytes copied (less when the list ends). */
size_t ust_iov_to(const struct iovec *iov, size_t cnt, size_t off, const void *src, size_t n);
/* Copies n bytes out of the list, starting `off` bytes into it, to dst. */
size_t ust_iov_from(const struct iovec *iov, size_t cnt, size_t off, void *dst, size_t n);

/* Walks the list from a byte offset: the piece holding it and the offset
 * inside that piece (both past the end when off >= the total). */
struct ust_iov_pos {
    size_t idx, off;
};
struct ust_iov_pos ust_iov_seek(const struct iovec *iov, size_t cnt, size_t off);

#endif
