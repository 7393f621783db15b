/* Clocks and mq_notify delivery for ipc/ (see notify.h). */
#include "runtime/notify.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/util.h"
#include "runtime/runtime.h"

#define UST_RT_REALTIME_SLICE_NS UST_NSEC_PER_SEC

static uint64_t clock_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    if (ts.tv_sec < 0)
        return 0;
    return (uint64_t)ts.tv_sec * UST_NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

uint64_t ust_rt_realtime_ns(void)
{
    return clock_ns(CLOCK_REALTIME);
}

uint64_t ust_rt_monotonic_ns(void)
{
    return clock_ns(CLOCK_MONOTONIC);
}

bool ust_rt_deadline_passed(const struct ust_rt_deadline *d)
{
    switch (d->clock) {
    case UST_DL_REALTIME:
        return ust_rt_realtime_ns() >= d->abs_ns;
    case UST_DL_MONOTONIC:
        return ust_rt_monotonic_ns() >= d->abs_ns;
    default:
        return false;
    }
}

uint64_t ust_rt_deadline_sleep_until(const struct ust_rt_deadline *d)
{
    if (d->clock == UST_DL_MONOTONIC)
        return d->abs_ns;
    if (d->clock != UST_DL_REALTIME)
        return UST_RT_FOREVER;
    uint64_t rt = ust_rt_realtime_ns(), mono = ust_rt_monotonic_ns();
    uint64_t left = d->abs_ns > rt ? d->abs_ns - rt : 0;
    if (left > UST_RT_REALTIME_SLICE_NS)
        left = UST_RT_REALTIME_SLICE_NS;
    return mono + left;
}

int ust_rt_send_mesgq(pid_t pid, int signo, union sigval value)
{
    siginfo_t si;
    memset(&si, 0, sizeof(si));
    si.si_signo = signo;
    si.si_code = SI_MESGQ;
    si.si_pid = getpid();
    si.si_uid = getuid();
    si.si_value = value;
    return syscall(SYS_rt_sigqueueinfo, pid, signo, &si) == 0 ? 0 : -errno;
}

/* The notification signal to ourselves (rt_sigqueueinfo to oneself may
 * carry any si_code). */
static void deliver_signal(const struct ust_rt_notify *n)
{
    if (ust_rt_send_mesgq(getpid(), n->signo, n->value) != 0 && n->signo != 0)
        kill(getpid(), n->signo);
}

struct notify_thread_arg {
    void (*function)(union sigval);
    union sigval value;
};

static void *notify_thread(void *p)
{
    struct notify_thread_arg a;
    memcpy(&a, p, sizeof(a));
    free(p);
    a.function(a.value);
    return NULL;
}

static void deliver_thread(const struct ust_rt_notify *n)
{
    if (!n->function)
        return;
    struct notify_thread_arg *a = malloc(sizeof(*a));
    if (!a)
        return;
    a->function = n->function;
    a->value = n->value;
    pthread_attr_t attr;
    if (n->has_attr)
        attr = n->attr;
    else
        pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_t t;
    if (pthread_create(&t, &attr, notify_thread, a) != 0)
        free(a);
    if (!n->has_attr)
        pthread_attr_destroy(&attr);
}

void ust_rt_notify_deliver(const struct ust_rt_notify *n)
{
    if (n->notify == SIGEV_SIGNAL)
        deliver_signal(n);
    else if (n->notify == SIGEV_THREAD)
        deliver_thread(n);
}
