/* Incrementing the per-stack counters of <ustack/stats.h>. */
#ifndef UST_CORE_STATS_H
#define UST_CORE_STATS_H

#include <ustack/stats.h>

/* UST_INC(stack, IP, InReceives) */
#define UST_INC(stack, grp, name) ((stack)->stats[UST_STAT_##grp##_##name]++)
#define UST_ADD(stack, grp, name, n) ((stack)->stats[UST_STAT_##grp##_##name] += (n))

#endif
