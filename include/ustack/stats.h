/* Per-stack counters, in the spirit of Linux's /proc/net/snmp and nstat.
 *
 * Every counter has a name "Group.Name" (e.g. "Ip.InReceives"). The list is an
 * X-macro so code, tools and docs share one table. */
#ifndef USTACK_STATS_H
#define USTACK_STATS_H

#include <stdint.h>

struct ust_stack;

#define UST_STATS(X)                                                            \
    /* Link layer */                                                            \
    X(ETH, InFrames)       X(ETH, OutFrames)      X(ETH, InTruncated)           \
    X(ETH, InUnknownType)  X(ETH, InNotForUs)     X(ETH, OutDrops)              \
    /* ARP (RFC 826) */                                                         \
    X(ARP, InRequests)     X(ARP, InReplies)      X(ARP, InErrors)              \
    X(ARP, OutRequests)    X(ARP, OutReplies)     X(ARP, OutGratuitous)         \
    X(ARP, PendingDrops)   X(ARP, ResolveFailed)  X(ARP, CacheEvictions)        \
    /* IPv4 (RFC 791, RFC 1122 section 3), names as in /proc/net/snmp */        \
    X(IP, InReceives)      X(IP, InHdrErrors)     X(IP, InCsumErrors)           \
    X(IP, InAddrErrors)    X(IP, InTruncatedPkts) X(IP, InUnknownProtos)        \
    X(IP, InDiscards)      X(IP, InDelivers)      X(IP, InMartians)             \
    X(IP, OutRequests)     X(IP, OutDiscards)     X(IP, OutNoRoutes)            \
    X(IP, ReasmTimeout)    X(IP, ReasmReqds)      X(IP, ReasmOKs)               \
    X(IP, ReasmFails)      X(IP, ReasmOverlaps)   X(IP, FragOKs)                \
    X(IP, FragFails)       X(IP, FragCreates)                                   \
    /* ICMP (RFC 792) */                                                        \
    X(ICMP, InMsgs)        X(ICMP, InErrors)      X(ICMP, InCsumErrors)         \
    X(ICMP, InEchos)       X(ICMP, InEchoReps)    X(ICMP, InDestUnreachs)       \
    X(ICMP, OutMsgs)       X(ICMP, OutEchos)      X(ICMP, OutEchoReps)          \
    X(ICMP, OutDestUnreachs) X(ICMP, OutRateLimited)                            \
    /* UDP (RFC 768) */                                                         \
    X(UDP, InDatagrams)    X(UDP, NoPorts)        X(UDP, InErrors)              \
    X(UDP, InCsumErrors)   X(UDP, RcvbufErrors)   X(UDP, OutDatagrams)          \
    X(UDP, SndbufErrors)                                                        \
    /* TCP (RFC 9293), names as in /proc/net/snmp and netstat */               \
    X(TCP, ActiveOpens)    X(TCP, PassiveOpens)   X(TCP, AttemptFails)          \
    X(TCP, EstabResets)    X(TCP, CurrEstab)      X(TCP, InSegs)                \
    X(TCP, OutSegs)        X(TCP, RetransSegs)    X(TCP, InErrs)                \
    X(TCP, OutRsts)        X(TCP, InCsumErrors)   X(TCP, ListenOverflows)       \
    X(TCP, ListenDrops)    X(TCP, TCPTimeouts)    X(TCP, TCPFastRetrans)        \
    X(TCP, TCPChallengeACK) X(TCP, TCPOFOQueue)   X(TCP, TCPOFODrop)            \
    X(TCP, TCPZeroWindowProbes) X(TCP, TCPAbortOnData) X(TCP, TCPAbortOnTimeout) \
    X(TCP, SyncookiesSent) X(TCP, SyncookiesRecv) X(TCP, SyncookiesFailed)      \
    X(TCP, PAWSEstab)                                                           \
    /* hostile-input defences (Linux's names; MEM.SockAllocFails is ours) */    \
    X(TCP, TCPACKSkippedSeq) X(TCP, TCPACKSkippedPAWS) X(TCP, TCPACKSkippedTimeWait) \
    X(TCP, TCPAbortOnMemory) X(TCP, TCPRcvQDrop)                                \
    /* loss recovery (RFC 6675, RFC 6582, RFC 2883), Linux's names */           \
    X(TCP, TCPSackRecovery) X(TCP, TCPRenoRecovery) X(TCP, TCPLostRetransmit)   \
    X(TCP, TCPDSACKRecv)   X(TCP, TCPSACKRescue)  X(TCP, TCPFullUndo)           \
    X(TCP, TCPLossProbes)  X(TCP, TCPSACKReorder)                               \
    /* Memory */                                                                \
    X(MEM, FbufAllocFails) X(MEM, SockAllocFails)

enum ust_stat {
#define UST_STAT_ENUM_(grp, name) UST_STAT_##grp##_##name,
    UST_STATS(UST_STAT_ENUM_)
#undef UST_STAT_ENUM_
    UST_STAT__COUNT
};

/* Current value of one counter. */
uint64_t ust_stat_get(const struct ust_stack *stack, enum ust_stat which);
/* "Ip.InReceives" style name of a counter; NULL when out of range. */
const char *ust_stat_name(enum ust_stat which);

#endif
