/* TCP timers: retransmission (RFC 6298) with exponential backoff and the
 * give-up counts of Linux (tcp_syn_retries, tcp_retries2), the persist timer
 * for zero windows (RFC 9293 3.8.6.1), delayed ACKs (RFC 9293 3.8.6.3,
 * RFC 1122 4.2.3.2) and TIME-WAIT (2 MSL). */
#include <errno.h>
#include <poll.h>

#include "core/stats.h"
#include "core/util.h"
#include "stack/stack_impl.h"
#include "tcp/tcp.h"
#include "tcp/tcp_trace.h"

static struct ust_timerwheel *wheel(struct ust_tcb *tcb)
{
    return &tcb->sk.stack->timers;
}

static uint64_t now_of(const struct ust_tcb *tcb)
{
    return tcb->sk.stack->now;
}

static uint64_t rto_max(const struct ust_tcb *tcb)
{
    return tcb->sk.stack->cfg.tcp_rto_max_ns;
}

/* ---- Retransmission ------------------------------------------------------ */

/* RFC 6298 section 2.2 / 2.3, with Linux's floor on the variance term. */
void ust_tcp_rtt_sample(struct ust_tcb *tcb, uint32_t rtt_us)
{
    if (rtt_us == 0)
        rtt_us = 1;

    if (tcb->srtt_us == 0) {
        tcb->srtt_us = rtt_us;
        tcb->rttvar_us = rtt_us / 2;
    } else {
        uint32_t delta = tcb->srtt_us > rtt_us ? tcb->srtt_us - rtt_us : rtt_us - tcb->srtt_us;
        tcb->rttvar_us = tcb->rttvar_us - tcb->rttvar_us / 4 + delta / 4;  /* beta = 1/4 */
        tcb->srtt_us = tcb->srtt_us - tcb->srtt_us / 8 + rtt_us / 8;        /* alpha = 1/8 */
    }
    uint64_t var = 4ull * tcb->rttvar_us * UST_NSEC_PER_USEC;
    uint64_t min = tcb->sk.stack->cfg.tcp_rto_min_ns;
    uint64_t rto = (uint64_t)tcb->srtt_us * UST_NSEC_PER_USEC + (var > min ? var : min);
    tcb->rto_ns = rto < rto_max(tcb) ? rto : rto_max(tcb);
}

static uint64_t backed_off_rto(const struct ust_tcb *tcb)
{
    uint64_t rto = tcb->rto_ns;
    for (unsigned i = 0; i < tcb->backoff && rto < rto_max(tcb); i++)
        rto *= 2;
    return rto < rto_max(tcb) ? rto : rto_max(tcb);
}

/* RFC 8985 7.2: a probe timeout of 2 SRTT (plus the peer's worst delayed
 * ACK when less than two full segments are out), only with SACK, outside loss
 * recovery, with no probe unanswered and no timeout backoff; never later
 * than the RTO (then the probe goes when the RTO would have fired, and the
 * timer is armed again for the RTO). Simpler than RFC 8985: no probe while
 * a single segment is out (its PTO would add the peer's delayed-ACK time
 * and come near the RTO anyway), so such a segment keeps the RFC 6298
 * timer as it is. 0 = no probe. */
static uint64_t tlp_pto(struct ust_tcb *tcb, uint64_t rto)
{
    if (tcb->tlp_out && ust_seq_ge(tcb->snd_una, tcb->tlp_high))
        tcb->tlp_out = false;
    if (!tcb->sack_ok || tcb->in_recovery || tcb->in_loss || tcb->tlp_out ||
        tcb->backoff > 0 || tcb->srtt_us == 0 || tcb->snd_max - tcb->snd_una <= tcb->mss ||
        (tcb->state != UST_TCP_ESTABLISHED && tcb->state != UST_TCP_CLOSE_WAIT))
        return 0;
    uint64_t pto = 2ull * tcb->srtt_us * UST_NSEC_PER_USEC;
    if (tcb->snd_max - tcb->snd_una < 2u * tcb->mss)
        pto += 200ull * UST_NSEC_PER_MSEC;  /* the peer may delay its ACK (WCDelAckT) */
    if (pto < 10ull * UST_NSEC_PER_MSEC)
        pto = 10ull * UST_NSEC_PER_MSEC;
    return pto < rto ? pto : rto;
}

bool ust_tcp_tlp_rearm(struct ust_tcb *tcb)
{
    if (tcb->persist || tcb->snd_una == tcb->snd_max)
        return false;
    uint64_t pto = tlp_pto(tcb, backed_off_rto(tcb));
    if (!pto)
        return false;
    tcb->tlp_armed = true;
    ust_timer_set(wheel(tcb), &tcb->rtx_timer, now_of(tcb) + pto);
    return true;
}

/* RFC 6298 5.1-5.3: running while data (or SYN/FIN) is outstanding. */
void ust_tcp_rearm_rtx(struct ust_tcb *tcb)
{
    if (tcb->snd_una == tcb->snd_max) {
        if (!tcb->persist && ust_timer_pending(&tcb->rtx_timer)) {
            ust_timer_cancel(wheel(tcb), &tcb->rtx_timer);
            ust_tcp_trace_timer(tcb, tcb->tlp_armed ? UST_TIMER_LOSS_PROBE : UST_TIMER_RTO,
                                UST_TIMER_STOP, 0);
        }
        tcb->tlp_armed = false;
        return;
    }
    tcb->persist = false;
    uint64_t rto = backed_off_rto(tcb), pto = tlp_pto(tcb, rto);
    tcb->tlp_armed = pto != 0;
    ust_timer_set(wheel(tcb), &tcb->rtx_timer, now_of(tcb) + (pto ? pto : rto));
    ust_tcp_trace_timer(tcb, pto ? UST_TIMER_LOSS_PROBE : UST_TIMER_RTO, UST_TIMER_SET,
                        pto ? pto : rto);
}

void ust_tcp_start_persist(struct ust_tcb *tcb)
{
    if (ust_timer_pending(&tcb->rtx_timer))
        return;
    tcb->persist = true;
    ust_timer_set(wheel(tcb), &tcb->rtx_timer, now_of(tcb) + backed_off_rto(tcb));
    ust_tcp_trace_timer(tcb, UST_TIMER_PERSIST, UST_TIMER_SET, backed_off_rto(tcb));
}

static void give_up(struct ust_tcb *tcb)
{
    struct ust_stack *stack = tcb->sk.stack;
    UST_INC(stack, TCP, TCPAbortOnTimeout);
    if (tcb->state == UST_TCP_SYN_SENT || tcb->state == UST_TCP_SYN_RECEIVED)
        UST_INC(stack, TCP, AttemptFails);
    /* Linux tcp_write_err: a soft ICMP error explains the timeout best. */
    tcb->sk.err = tcb->soft_err ? tcb->soft_err : ETIMEDOUT;
    tcb->reset = true;
    ust_tcp_done(tcb);
}

/* RFC 6298 5.4-5.6 and RFC 5681 (3.1 equation 4): go back to SND.UNA with a
 * one-segment window and a doubled RTO. */
static void retransmit_timeout(struct ust_tcb *tcb)
{
    struct ust_stack *stack = tcb->sk.stack;
    bool syn = tcb->state == UST_TCP_SYN_SENT || tcb->state == UST_TCP_SYN_RECEIVED;
    unsigned limit = syn ? stack->cfg.tcp_syn_retries : stack->cfg.tcp_retries2;
    if (tcb->backoff == 0)
        tcb->rtx_since = stack->now;
    /* Linux tcp_out_of_resources: an orphan found beyond tcp_max_orphans
     * (sooner after an ICMP error) or holding data under memory pressure. */
    if (tcb->orphan_counted && ust_tcp_check_oom(tcb, tcb->soft_err ? 1 : 0)) {
        ust_tcp_abort_on_memory(tcb);
        return;
    }
    /* TCP_USER_TIMEOUT replaces the count with a time bound. */
    bool expired = tcb->user_timeout_ms
                       ? stack->now - tcb->rtx_since >= tcb->user_timeout_ms * UST_NSEC_PER_MSEC
                       : tcb->backoff >= limit;
    if (expired) {
        give_up(tcb);
        return;
    }
    UST_INC(stack, TCP, TCPTimeouts);
    tcb->backoff++;
    tcb->retransmits++;
    tcb->rtt_timing = false;                    /* Karn */
    /* Our SYN is not acknowledged yet (SND.UNA before the send ring; also
     * FIN-WAIT-1 or CLOSING entered from SYN-RECEIVED by close()): the SYN
     * or SYN-ACK goes again, as the head of Linux's retransmission queue,
     * never a byte from before the ring. */
    if (syn || ust_seq_lt(tcb->snd_una, tcb->snd_buf_seq)) {
        ust_tcp_send_syn(tcb);
        ust_tcp_rearm_rtx(tcb);
        return;
    }
    if (tcb->snd_una == tcb->snd_max)
        return;
    tcb->ssthresh = tcb->cc->ssthresh(tcb);
    tcb->cwnd = tcb->mss;
    ust_tcp_trace_cc(tcb, UST_CC_RTO);
    tcb->in_recovery = false;
    tcb->dupacks = 0;
    tcb->recover = tcb->snd_max;
    tcb->snd_nxt = tcb->snd_una;
    tcb->high_rxt = tcb->snd_una;
    tcb->in_loss = true;
    tcb->undo_ok = false;
    tcb->tlp_out = false;
    tcb->reordering = 0;        /* a timeout: DupThresh was too high (Linux) */
    ust_tcp_rtx_reset(tcb);
    /* RFC 6675 5.1 (and RFC 2018 errata 1610): the SACK information is kept
     * and used while resending, as Linux does; a second timeout in a row
     * forgets it, in case the receiver reneged. */
    if (tcb->backoff > 1)
        ust_tcp_sack_reset(tcb);
    ust_tcp_output(tcb);
    ust_tcp_rearm_rtx(tcb);
}

/* RFC 9293 3.8.6.1: probe a zero window; backoff like the RTO. Linux probes
 * with an old sequence number and no data, which the peer must ACK with its
 * current window. */
static void persist_timeout(struct ust_tcb *tcb)
{
    tcb->persist = false;
    if (ust_ring_used(&tcb->snd) == 0 || tcb->snd_wnd > 0 || tcb->snd_una != tcb->snd_max)
        return;
    /* Linux tcp_probe_timer: give up after tcp_retries2 unanswered probes,
     * or an orphan after tcp_orphan_retries (8) backoffs. */
    if (tcb->probes_out >= tcb->sk.stack->cfg.tcp_retries2 || (tcb->orphan && tcb->backoff >= 8)) {
        give_up(tcb);
        return;
    }
    if (tcb->orphan_counted && ust_tcp_check_oom(tcb, 0)) {
        ust_tcp_abort_on_memory(tcb);
        return;
    }
    UST_INC(tcb->sk.stack, TCP, TCPZeroWindowProbes);
    tcb->probes_out++;
    if (tcb->backoff < 15)
        tcb->backoff++;
    ust_tcp_retransmit_one(tcb, tcb->snd_una - 1);
    ust_tcp_start_persist(tcb);
}

static void rtx_fired(void *ctx, struct ust_timer *t)
{
    (void)ctx;
    struct ust_tcb *tcb = ust_container_of(t, struct ust_tcb, rtx_timer);
    ust_tcp_trace_timer(tcb, tcb->persist     ? UST_TIMER_PERSIST
                             : tcb->tlp_armed ? UST_TIMER_LOSS_PROBE
                                              : UST_TIMER_RTO,
                        UST_TIMER_FIRE, 0);
    if (tcb->persist) {
        persist_timeout(tcb);
    } else if (tcb->tlp_armed) {
        tcb->tlp_armed = false;         /* RFC 8985 7.3: probe, then the RTO */
        if (!tcb->in_recovery && !tcb->in_loss)
            ust_tcp_send_tlp(tcb);
        ust_tcp_rearm_rtx(tcb);
    } else {
        retransmit_timeout(tcb);
    }
}

/* ---- Delayed ACK --------------------------------------------------------- */

void ust_tcp_schedule_ack(struct ust_tcb *tcb, uint32_t len, bool now)
{
    /* RFC 9293 3.8.6.3: at least every second full-sized segment, "full"
     * meaning the largest the peer sends (Linux's rcv_mss estimate). */
    if (len > tcb->rcv_mss_est)
        tcb->rcv_mss_est = (uint16_t)(len < tcb->rcv_mss ? len : tcb->rcv_mss);
    tcb->bytes_unacked += len;
    if (now || tcb->bytes_unacked >= 2u * tcb->rcv_mss_est) {
        tcb->ack_now = true;
        return;
    }
    if (!ust_timer_pending(&tcb->delack_timer)) {
        ust_timer_set(wheel(tcb), &tcb->delack_timer,
                      now_of(tcb) + tcb->sk.stack->cfg.tcp_delack_ns);
        ust_tcp_trace_timer(tcb, UST_TIMER_DELACK, UST_TIMER_SET, tcb->sk.stack->cfg.tcp_delack_ns);
    }
}

void ust_tcp_ack_sent(struct ust_tcb *tcb)
{
    tcb->last_ack_sent = tcb->rcv_nxt;      /* RFC 7323 4.3 Last.ACK.sent */
    tcb->ack_now = false;
    tcb->bytes_unacked = 0;
    ust_timer_cancel(wheel(tcb), &tcb->delack_timer);
}

static void delack_fired(void *ctx, struct ust_timer *t)
{
    (void)ctx;
    struct ust_tcb *tcb = ust_container_of(t, struct ust_tcb, delack_timer);
    ust_tcp_trace_timer(tcb, UST_TIMER_DELACK, UST_TIMER_FIRE, 0);
    ust_tcp_send_ack(tcb);
}

/* The TCP_CORK / MSG_MORE ceiling passed: what was held goes now. */
static void cork_fired(void *ctx, struct ust_timer *t)
{
    (void)ctx;
    struct ust_tcb *tcb = ust_container_of(t, struct ust_tcb, cork_timer);
    tcb->push_now = true;
    ust_tcp_output(tcb);
    tcb->push_now = false;
}

/* ---- TIME-WAIT and orphan FIN-WAIT-2 -------------------------------------- */

void ust_tcp_enter_time_wait(struct ust_tcb *tcb)
{
    struct ust_stack *stack = tcb->sk.stack;
    ust_tcp_set_state(tcb, UST_TCP_TIME_WAIT);
    /* Nothing more goes out or comes in: the ring storage goes (Linux
     * keeps only a small timewait sock), unless the user has yet to read. */
    if (ust_ring_used(&tcb->snd) == 0)
        ust_tcp_ring_free(tcb, &tcb->snd);
    if (ust_ring_used(&tcb->rcv) == 0)
        ust_tcp_ring_free(tcb, &tcb->rcv);
    /* Bounded: under pressure the oldest TIME-WAIT block goes early. */
    while (stack->tcp.tw_count > stack->cfg.tcp_max_tw_buckets &&
           stack->tcp.tw_oldest != tcb)
        ust_tcp_done(stack->tcp.tw_oldest);
    ust_timer_cancel(wheel(tcb), &tcb->rtx_timer);
    ust_timer_cancel(wheel(tcb), &tcb->delack_timer);
    ust_timer_set(wheel(tcb), &tcb->tw_timer, now_of(tcb) + tcb->sk.stack->cfg.tcp_timewait_ns);
    ust_tcp_trace_timer(tcb, UST_TIMER_TIME_WAIT, UST_TIMER_SET, tcb->sk.stack->cfg.tcp_timewait_ns);
    ust_tcp_wake(tcb, POLLIN | POLLOUT | POLLHUP);
}

static void tw_fired(void *ctx, struct ust_timer *t)
{
    (void)ctx;
    struct ust_tcb *tcb = ust_container_of(t, struct ust_tcb, tw_timer);
    ust_tcp_trace_timer(tcb, UST_TIMER_TIME_WAIT, UST_TIMER_FIRE, 0);
    /* TIME-WAIT over, or an orphan stuck in FIN-WAIT-2 (tcp_fin_timeout). */
    if (tcb->state == UST_TCP_TIME_WAIT || tcb->state == UST_TCP_FIN_WAIT_2)
        ust_tcp_done(tcb);
}

/* ---- Keepalive (RFC 1122 4.2.3.6) ------------------------------------------ */

static bool ka_applies(const struct ust_tcb *tcb)
{
    return tcb->sk.keepalive &&
           (tcb->state == UST_TCP_ESTABLISHED || tcb->state == UST_TCP_CLOSE_WAIT ||
            tcb->state == UST_TCP_FIN_WAIT_1 || tcb->state == UST_TCP_FIN_WAIT_2);
}

static uint64_t ka_idle_ns(const struct ust_tcb *tcb)
{
    uint32_t s = tcb->keepidle_s ? tcb->keepidle_s : tcb->sk.stack->cfg.tcp_keepalive_time;
    return (uint64_t)s * UST_NSEC_PER_SEC;
}

void ust_tcp_keepalive_update(struct ust_tcb *tcb)
{
    if (!ka_applies(tcb)) {
        ust_timer_cancel(wheel(tcb), &tcb->ka_timer);
        return;
    }
    tcb->ka_probes = 0;
    ust_timer_set(wheel(tcb), &tcb->ka_timer, tcb->last_rcv + ka_idle_ns(tcb));
}

/* Idle for TCP_KEEPIDLE: probe with an old sequence number (the peer must
 * ACK it) every TCP_KEEPINTVL; TCP_KEEPCNT unanswered probes: ETIMEDOUT.
 * Not while data is outstanding: the retransmission timer watches then. */
static void ka_fired(void *ctx, struct ust_timer *t)
{
    (void)ctx;
    struct ust_tcb *tcb = ust_container_of(t, struct ust_tcb, ka_timer);
    ust_tcp_trace_timer(tcb, UST_TIMER_KEEPALIVE, UST_TIMER_FIRE, 0);
    struct ust_stack *stack = tcb->sk.stack;
    if (!ka_applies(tcb))
        return;
    uint64_t intvl = (uint64_t)(tcb->keepintvl_s ? tcb->keepintvl_s
                                                 : stack->cfg.tcp_keepalive_intvl) * UST_NSEC_PER_SEC;
    unsigned cnt = tcb->keepcnt ? tcb->keepcnt : stack->cfg.tcp_keepalive_probes;
    if (tcb->snd_una != tcb->snd_max || ust_ring_used(&tcb->snd) > 0) {
        ust_timer_set(wheel(tcb), &tcb->ka_timer, now_of(tcb) + ka_idle_ns(tcb));
        return;
    }
    uint64_t idle = now_of(tcb) - tcb->last_rcv;
    if (idle < ka_idle_ns(tcb) && tcb->ka_probes == 0) {
        ust_timer_set(wheel(tcb), &tcb->ka_timer, tcb->last_rcv + ka_idle_ns(tcb));
        return;
    }
    if (tcb->ka_probes >= cnt) {
        give_up(tcb);
        return;
    }
    tcb->ka_probes++;
    ust_tcp_retransmit_one(tcb, tcb->snd_una - 1);
    ust_timer_set(wheel(tcb), &tcb->ka_timer, now_of(tcb) + intvl);
}

void ust_tcp_timers_init(struct ust_tcb *tcb)
{
    ust_timer_init(&tcb->ka_timer, ka_fired);
    ust_timer_init(&tcb->rtx_timer, rtx_fired);
    ust_timer_init(&tcb->delack_timer, delack_fired);
    ust_timer_init(&tcb->tw_timer, tw_fired);
    ust_timer_init(&tcb->cork_timer, cork_fired);
}

void ust_tcp_timers_cancel(struct ust_tcb *tcb)
{
    ust_timer_cancel(wheel(tcb), &tcb->rtx_timer);
    ust_timer_cancel(wheel(tcb), &tcb->delack_timer);
    ust_timer_cancel(wheel(tcb), &tcb->tw_timer);
    ust_timer_cancel(wheel(tcb), &tcb->ka_timer);
    ust_timer_cancel(wheel(tcb), &tcb->cork_timer);
    tcb->persist = false;
}
