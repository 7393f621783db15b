/* NewReno congestion control (RFC 5681, RFC 6582): slow start below
 * ssthresh, then congestion avoidance growing cwnd by one MSS per window
 * (appropriate byte counting, RFC 3465), ssthresh = max(FlightSize/2, 2*MSS)
 * on a loss. The fast retransmit / fast recovery steps that every algorithm
 * shares are in tcp_input.c; algorithms plug in through struct
 * ust_tcp_cc_ops. */
#include "tcp/tcp.h"

/* RFC 6928: IW = min(10*MSS, max(2*MSS, 14600)). */
static void newreno_init(struct ust_tcb *tcb)
{
    uint32_t iw = 10u * tcb->mss;
    uint32_t cap = 2u * tcb->mss > 14600u ? 2u * tcb->mss : 14600u;
    tcb->cwnd = iw < cap ? iw : cap;
    tcb->ssthresh = UINT32_MAX;
    tcb->bytes_acked = 0;
}

/* RFC 5681 3.1: slow start adds min(acked, SMSS) per ACK; congestion
 * avoidance adds SMSS once a cwnd's worth has been acknowledged. */
static void newreno_cong_avoid(struct ust_tcb *tcb, uint32_t acked)
{
    if (tcb->cwnd < tcb->ssthresh) {
        tcb->cwnd += acked < tcb->mss ? acked : tcb->mss;
        return;
    }
    tcb->bytes_acked += acked;
    if (tcb->bytes_acked >= tcb->cwnd) {
        tcb->bytes_acked -= tcb->cwnd;
        tcb->cwnd += tcb->mss;
    }
}

/* RFC 5681 equation 4. */
static uint32_t newreno_ssthresh(struct ust_tcb *tcb)
{
    uint32_t flight = tcb->snd_max - tcb->snd_una;
    uint32_t half = flight / 2;
    return half > 2u * tcb->mss ? half : 2u * tcb->mss;
}

const struct ust_tcp_cc_ops ust_tcp_cc_newreno = {
    .name = "reno",
    .init = newreno_init,
    .cong_avoid = newreno_cong_avoid,
    .ssthresh = newreno_ssthresh,
};
