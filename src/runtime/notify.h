/* runtime/ helpers for the message queues: wall-clock reads and the
 * asynchronous notifications of mq_notify (a signal to this process, or a
 * new detached thread). Only runtime/ starts threads and reads clocks. */
#ifndef UST_RUNTIME_NOTIFY_H
#define UST_RUNTIME_NOTIFY_H

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

/* CLOCK_REALTIME and CLOCK_MONOTONIC in nanoseconds (0 before the epoch). */
uint64_t ust_rt_realtime_ns(void);
uint64_t ust_rt_monotonic_ns(void);

/* A notification to deliver (a copy of a struct sigevent). */
struct ust_rt_notify {
    int notify;                 /* SIGEV_NONE (nothing), SIGEV_SIGNAL, SIGEV_THREAD */
    int signo;
    union sigval value;
    void (*function)(union sigval);
    bool has_attr;
    pthread_attr_t attr;        /* copied from sigev_notify_attributes */
};

/* Delivers n: SIGEV_SIGNAL queues signo to this process with si_code
 * SI_MESGQ, si_pid/si_uid of the caller and si_value (rt_sigqueueinfo, as
 * the kernel does); SIGEV_THREAD runs function(value) in a new detached
 * thread. Call WITHOUT the stack lock: a handler may call back into ustack. */
void ust_rt_notify_deliver(const struct ust_rt_notify *n);
/* The kernel's mq notification signal to process pid: si_code SI_MESGQ
 * with the sender's pid and uid (ipc/mqueue.c __do_notify), sent with
 * rt_sigqueueinfo, which allows a negative si_code; to another process it
 * needs the permission to signal it (kill(2)). 0 or -errno. */
int ust_rt_send_mesgq(pid_t pid, int signo, union sigval value);

/* Absolute deadlines for the queues' timed calls. */
enum ust_rt_dl_clock { UST_DL_NONE, UST_DL_REALTIME, UST_DL_MONOTONIC };
struct ust_rt_deadline {
    enum ust_rt_dl_clock clock;  /* NONE: wait forever */
    uint64_t abs_ns;             /* on that clock */
};

/* True when the deadline has passed (never for UST_DL_NONE). */
bool ust_rt_deadline_passed(const struct ust_rt_deadline *d);
/* The CLOCK_MONOTONIC deadline for the next ust_rt_sleep. A CLOCK_REALTIME
 * deadline is converted afresh each time and slept at most 1 s at a time,
 * so a wall-clock step (either way) is noticed within a second, as POSIX
 * wants for mq_timedreceive; a CLOCK_MONOTONIC one is taken as it is. */
uint64_t ust_rt_deadline_sleep_until(const struct ust_rt_deadline *d);

#endif
