/* A small C face of ustack's inter-process queue (src/ipc/shm_queue.h) for
 * boost_mq_kill.cpp, so that the same kill driver can run against ustack
 * (boost_mq_kill -q ustack). Compiled by bench/boost_kill.sh with gcc, with
 * src/ipc/shm_*.c; not part of the library build.
 *
 * Queues are POSIX-like (UST_SHMQ_PRIO), 8 slots of 64 bytes, kind "bench",
 * in /dev/shm. Timeouts are relative microseconds (< 0: do not wait), turned
 * into a CLOCK_MONOTONIC deadline here. Calls return 0 / a length, or a
 * negative errno. */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <time.h>

#include "ipc/shm_queue.h"
#include "ustack_shim.h"

#define KIND "bench"

static struct timespec deadline_in_us(long us)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += us / 1000000;
    ts.tv_nsec += (us % 1000000) * 1000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_nsec -= 1000000000L;
        ts.tv_sec++;
    }
    return ts;
}

struct ust_shmq *ushim_open(const char *name, int create, int *err)
{
    struct ust_shmq_attr a = { .maxmsg = 8, .msgsize = 64, .flags = UST_SHMQ_PRIO, .mode = 0600 };
    struct ust_shmq *q = NULL;
    int rc = ust_shmq_open(NULL, KIND, name, create ? O_CREAT | O_EXCL : 0,
                           UST_SHMQ_RD | UST_SHMQ_WR, create ? &a : NULL, &q);
    *err = rc;
    return rc == 0 ? q : NULL;
}

void ushim_close(struct ust_shmq *q)
{
    ust_shmq_close(q);
}

int ushim_unlink(const char *name)
{
    return ust_shmq_unlink(NULL, KIND, name);
}

int ushim_send(struct ust_shmq *q, const void *m, size_t len, unsigned prio, long timeout_us)
{
    if (timeout_us < 0)
        return ust_shmq_send(q, m, len, (int64_t)prio, UST_SHMQ_NONBLOCK, NULL);
    struct timespec d = deadline_in_us(timeout_us);
    return ust_shmq_send(q, m, len, (int64_t)prio, 0, &d);
}

long ushim_receive(struct ust_shmq *q, void *buf, size_t cap, long timeout_us)
{
    if (timeout_us < 0)
        return (long)ust_shmq_receive(q, buf, cap, NULL, NULL, UST_SHMQ_NONBLOCK, NULL);
    struct timespec d = deadline_in_us(timeout_us);
    return (long)ust_shmq_receive(q, buf, cap, NULL, NULL, 0, &d);
}

int ushim_info(struct ust_shmq *q, unsigned long *curmsgs, unsigned long *repairs)
{
    struct ust_shmq_info info;
    int rc = ust_shmq_getattr(q, &info);
    if (rc == 0) {
        *curmsgs = info.curmsgs;
        *repairs = info.repairs;
    }
    return rc;
}
