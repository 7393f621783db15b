/* tcp/: the TCP engine (RFC 9293). Entry points used by other layers.
 *
 * A connection is a struct ust_tcb (the Transmission Control Block of RFC
 * 9293 section 3.3.1) with the RFC's variable names. The engine is split by
 * what happens to a connection:
 *   tcp_pcb.c    create/free, the connection and listener tables, bind and
 *                ephemeral ports, ISN (RFC 6528), state changes
 *   tcp_input.c  segment arrival, in the order of RFC 9293 section 3.10.7
 *   tcp_output.c building and sending segments from the send ring
 *   tcp_timer.c  retransmission (RFC 6298), delayed ACK, persist, TIME_WAIT
 *   tcp_cc*.c    congestion control behind an ops table (NewReno)
 *   tcp_mem.c    memory bounds: socket memory in mem_limit, tcp_max_orphans
 *   tcp_user.c   the user calls of RFC 9293 section 3.10 (OPEN, SEND,
 *                RECEIVE, CLOSE, ABORT) as the socket layer needs them
 * All functions assume the stack lock; addresses and ports are host order;
 * results are >= 0 or a negative errno. */
#ifndef UST_TCP_TCP_H
#define UST_TCP_TCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/fbuf.h"
#include "core/htable.h"
#include "core/ring.h"
#include "core/timer.h"
#include "net/sk.h"
#include "wire/wire.h"

struct ust_stack;

int ust_tcp_init(struct ust_stack *stack);
void ust_tcp_fini(struct ust_stack *stack);
/* The stack is being freed: closing a socket frees its connection at once,
 * without a segment (the links may be gone). */
void ust_tcp_stop(struct ust_stack *stack);

/* IPv4 input hands a TCP segment here: fb->data at the TCP header, fb->len
 * the IP payload length. Takes ownership. */
void ust_tcp_input(struct ust_stack *stack, struct ust_fbuf *fb, const struct ust_ipv4_hdr *ih);

/* ICMP input reports an error about a segment we sent (RFC 5927): inner is
 * the quoted IPv4 header, l4 the quoted TCP bytes (at least 8). err is the
 * errno it maps to; mtu the next-hop MTU of "fragmentation needed" (else 0).
 * Hard error in SYN-SENT (connect fails); elsewhere a soft error reported
 * only if the connection times out; "fragmentation needed" lowers the MSS. */
void ust_tcp_icmp_error(struct ust_stack *stack, const struct ust_ipv4_hdr *inner,
                        const uint8_t *l4, size_t l4_len, int err, uint32_t mtu);

/* RFC 9293 Figure 5: the eleven states (plus LISTEN's children). */
enum ust_tcp_conn_state {
    UST_TCP_CLOSED = 0,
    UST_TCP_LISTEN,
    UST_TCP_SYN_SENT,
    UST_TCP_SYN_RECEIVED,
    UST_TCP_ESTABLISHED,
    UST_TCP_FIN_WAIT_1,
    UST_TCP_FIN_WAIT_2,
    UST_TCP_CLOSE_WAIT,
    UST_TCP_CLOSING,
    UST_TCP_LAST_ACK,
    UST_TCP_TIME_WAIT,
};
const char *ust_tcp_state_name(enum ust_tcp_conn_state s);

/* Sequence number comparisons modulo 2^32 (RFC 9293 section 3.4). */
static inline bool ust_seq_lt(uint32_t a, uint32_t b) { return (int32_t)(a - b) < 0; }
static inline bool ust_seq_le(uint32_t a, uint32_t b) { return (int32_t)(a - b) <= 0; }
static inline bool ust_seq_gt(uint32_t a, uint32_t b) { return (int32_t)(a - b) > 0; }
static inline bool ust_seq_ge(uint32_t a, uint32_t b) { return (int32_t)(a - b) >= 0; }

struct ust_tcb;

/* Congestion control algorithm (RFC 5681 and successors). */
struct ust_tcp_cc_ops {
    const char *name;
    void (*init)(struct ust_tcb *tcb);
    /* New data acknowledged outside loss recovery: grow cwnd. */
    void (*cong_avoid)(struct ust_tcb *tcb, uint32_t acked);
    /* The slow start threshold after a loss (RFC 5681 equation 4). */
    uint32_t (*ssthresh)(struct ust_tcb *tcb);
};
extern const struct ust_tcp_cc_ops ust_tcp_cc_newreno;
extern const struct ust_tcp_cc_ops ust_tcp_cc_cubic;
/* By name ("cubic", "reno"), NULL when unknown (TCP_CONGESTION). */
const struct ust_tcp_cc_ops *ust_tcp_cc_find(const char *name);

/* CUBIC's per-connection state (RFC 9438 4.1), in segments and ns. */
struct ust_tcp_cubic {
    double w_max, w_last_max, k, w_est, bytes_frac;
    uint64_t epoch_start;
};

/* An out-of-order segment's place: its sequence number in fb->cb.raw[0]. */

/* The sender's SACK scoreboard (RFC 6675): sorted, disjoint ranges above
 * SND.UNA the peer reported holding. Bounded; when full the highest range
 * is forgotten (it only costs a needless retransmission). */
#define UST_TCP_SCOREBOARD 16
struct ust_tcp_sackblk {
    uint32_t start, end;            /* [start, end) */
};
/* A retransmission sent during SACK recovery, remembered so that its loss
 * is seen (Linux tcp_mark_lost_retrans): data sent after it (at or above
 * sent_max) SACKed while it is not means it was lost too. Bounded; a
 * retransmission not remembered is left to the timer. */
#define UST_TCP_RTXLOG 32
struct ust_tcp_rtxrec {
    uint32_t start, end;            /* [start, end) */
    uint32_t sent_max;              /* SND.MAX when it was sent */
    bool lost;                      /* to be sent again */
};

/* The receiver's urgent byte (tcb->urg_state, Linux urg_data). */
enum {
    UST_TCP_URG_NONE = 0,           /* none announced, or read past */
    UST_TCP_URG_PENDING,            /* rcv_up announced; valid once the byte is in the ring */
    UST_TCP_URG_READ,               /* taken by recv(MSG_OOB); still skipped inline */
};

struct ust_tcb {
    struct ust_sk sk;               /* addresses, options, the file's wait queue */
    struct ust_hnode node;          /* in tcp.ehash (connected) or tcp.lhash (LISTEN) */
    struct ust_hnode bnode;         /* in tcp.bhash while it owns a local port */
    bool in_ehash, in_lhash, in_bhash;
    struct ust_tcb *tw_prev, *tw_next;  /* tcp.tw_oldest list while in TIME-WAIT */
    enum ust_tcp_conn_state state;
    bool orphan;                    /* no descriptor any more (closed by the user) */
    bool orphan_counted;            /* counted in tcp.orphans (tcp_mem.c) */
    struct ust_tcb *orph_prev, *orph_next;  /* tcp.orph_oldest list while counted */
    size_t mem_charged;             /* bytes of ring storage charged to mem_limit (tcp_mem.c) */
    /* Linux last_oow_ack_time: when an ACK last answered an invalid
     * segment (tcp_invalid_ratelimit), valid when oow_acked. */
    uint64_t last_oow_ack;
    bool oow_acked;

    /* Send sequence variables (RFC 9293 section 3.3.1). */
    uint32_t iss;                   /* initial send sequence number */
    uint32_t snd_una;               /* oldest unacknowledged */
    uint32_t snd_nxt;               /* next to send */
    uint32_t snd_max;               /* highest sequence sent + 1 */
    uint32_t snd_wnd;               /* peer's window, scaled */
    uint32_t snd_wl1, snd_wl2;      /* seq and ack of the last window update */
    uint32_t max_snd_wnd;           /* largest window the peer offered */
    uint32_t snd_buf_seq;           /* sequence number of the send ring's first byte */
    /* Receive sequence variables. */
    uint32_t irs;
    uint32_t rcv_nxt;
    uint32_t rcv_wnd;               /* window last advertised */
    uint32_t rcv_adv;               /* right edge advertised: never moves left */

    /* Options (RFC 7323, RFC 9293 3.7.1). */
    uint16_t mss;                   /* effective send MSS */
    uint16_t rcv_mss;               /* what we announced */
    uint16_t user_mss;              /* TCP_MAXSEG; 0 = none */
    uint8_t snd_wscale, rcv_wscale;
    bool wscale_ok, ts_ok, sack_ok;
    uint32_t ts_recent;             /* TS.Recent */
    uint32_t last_ack_sent;         /* RFC 7323 Last.ACK.sent: ACK field we last sent */
    uint32_t ts_offset;             /* random per connection */

    /* Congestion control (RFC 5681, RFC 6582). */
    const struct ust_tcp_cc_ops *cc;
    uint32_t cwnd, ssthresh;
    uint32_t bytes_acked;           /* appropriate byte counting in congestion avoidance */
    struct ust_tcp_cubic cubic;
    unsigned dupacks;
    bool in_recovery;
    uint32_t recover;               /* RFC 6582 "recover" (RFC 6675 RecoveryPoint) */
    struct ust_tcp_sackblk sb[UST_TCP_SCOREBOARD];
    unsigned nsb;
    uint32_t sacked_bytes;
    uint32_t high_rxt;              /* RFC 6675 HighRxt */
    uint32_t rescue_rxt;            /* RFC 6675 RescueRxt, valid when rescue_set */
    bool rescue_set;
    bool in_loss;                   /* after a timeout, until SND.UNA reaches recover */
    struct ust_tcp_rtxrec rtx[UST_TCP_RTXLOG];
    unsigned nrtx;
    /* Undoing a needless window reduction (RFC 3522 Eifel with timestamps,
     * RFC 3708 / Linux with D-SACK): the window before the recovery, its
     * start, the TSval of its first retransmission, and how many of its
     * retransmissions no D-SACK has shown needless yet. */
    uint32_t prior_cwnd, prior_ssthresh;
    uint32_t undo_marker, undo_tsval;
    int32_t undo_retrans;
    bool undo_ok, undone;
    /* Tail loss probe (RFC 8985 7): rtx_timer is the probe timer when
     * tlp_armed; one probe at a time, until SND.UNA passes tlp_high. */
    bool tlp_armed, tlp_out, tlp_probe;
    uint32_t tlp_high;
    /* Reordering seen (Linux tp->reordering): DupThresh, in segments; 0 =
     * the standard 3. ACK-time snapshot for its detection (tcp_sack.c). */
    uint8_t reordering;
    bool sb_snap_ok;
    uint32_t sb_una, sb_high_rxt;
    uint32_t last_ooo_seq;          /* receiver: latest out-of-order arrival (first SACK block) */

    /* Round-trip time (RFC 6298). Microseconds. */
    uint32_t srtt_us, rttvar_us;
    uint64_t rto_ns;
    bool rtt_timing;                /* a segment is being timed (Karn) */
    uint32_t rtt_seq;
    uint64_t rtt_start;
    unsigned backoff;               /* consecutive timeouts */
    unsigned retransmits;           /* same, for TCP_INFO */
    uint32_t total_retrans;

    /* Timers. */
    struct ust_timer rtx_timer;     /* retransmission, or persist when probing */
    bool persist;                   /* rtx_timer acts as the persist timer */
    unsigned probes_out;            /* window probes no ACK answered */
    struct ust_timer ka_timer;      /* keepalive (RFC 1122 4.2.3.6) */
    uint32_t keepidle_s, keepintvl_s, keepcnt;  /* TCP_KEEPIDLE/INTVL/CNT; 0 = stack default */
    unsigned ka_probes;
    uint64_t last_rcv;              /* when the last segment arrived */
    uint32_t user_timeout_ms;       /* TCP_USER_TIMEOUT; 0 = count retries */
    uint64_t rtx_since;             /* first unanswered retransmission timeout */
    int soft_err;                   /* last ICMP soft error (RFC 5927) */
    struct ust_timer delack_timer;
    struct ust_timer tw_timer;      /* TIME_WAIT, keepalive */
    struct ust_timer cork_timer;    /* TCP_CORK / MSG_MORE ceiling (200 ms, as Linux) */
    uint32_t bytes_unacked;         /* received since our last ACK */
    uint16_t rcv_mss_est;           /* largest segment seen (Linux rcv_mss) */
    uint32_t snd_sml;               /* end of the last small segment sent (Minshall) */
    bool ack_now;

    /* Buffers: rings allocated on first use (core/ring.h). */
    struct ust_ring snd, rcv;
    struct ust_fbq ooo;             /* out-of-order segments sorted by sequence */
    size_t ooo_bytes;               /* payload queued out of order */
    size_t ooo_truesize;            /* the buffers holding it (ust_fbuf_truesize) */

    /* User side. */
    bool nodelay;                   /* TCP_NODELAY */
    bool cork;                      /* TCP_CORK: hold partial segments */
    bool more;                      /* the last send had MSG_MORE: same, until the next */
    bool push_now;                  /* one output round ignoring cork and Nagle */
    bool shut_wr;                   /* FIN queued after the data (shutdown/close) */
    bool shut_rd;
    bool fin_rcvd;                  /* peer's FIN consumed (EOF after the data) */
    bool reset;                     /* connection reset: sends fail */
    bool done;                      /* reached CLOSED after a connection (both directions shut) */
    bool connect_pending;           /* non-blocking connect in progress */
    int linger;                     /* SO_LINGER: -1 off, else seconds */
    uint32_t rcvlowat;              /* SO_RCVLOWAT: bytes (>= 1) before POLLIN/recv returns */

    /* Urgent data (RFC 9293 3.8.5 and 3.10.7.4 "sixth", RFC 6093; Linux
     * snd_up, urg_seq, urg_data). The pointer means the byte AFTER the
     * last urgent one, as Linux and RFC 6093 say. */
    bool snd_urg;                   /* send(MSG_OOB) was used: URG while SND.UNA < snd_up */
    uint32_t snd_up;                /* SND.UP: sequence just past the last urgent byte */
    uint8_t urg_state;              /* UST_TCP_URG_*: the receiver's urgent byte */
    uint32_t rcv_up;                /* sequence of that byte (RCV.UP - 1) */

    /* Listening (LISTEN) and children. */
    struct ust_tcb *parent;         /* the listener that made this child */
    struct ust_tcb *acc_next;       /* accept queue linkage */
    struct ust_tcb *acc_head, *acc_tail;
    unsigned acc_len, syn_len;      /* accept queue, half-open children */
    unsigned backlog;
    uint64_t reuseport_id;          /* SO_REUSEPORT listener: its weight key (net/port.c) */
};

/* ---- tcp_pcb.c ---------------------------------------------------------- */

/* A new socket's connection block (CLOSED), waking wq. NULL on no memory. */
struct ust_tcb *ust_tcb_new(struct ust_stack *stack, struct ust_waitq *wq);
/* Unhashes, cancels the timers and frees (the last step of any path). */
void ust_tcb_free(struct ust_tcb *tcb);
/* bind(2): -EINVAL if bound, -EADDRNOTAVAIL, -EADDRINUSE (port 0: ephemeral). */
int ust_tcp_bind(struct ust_tcb *tcb, uint32_t addr, uint16_t port);
void ust_tcp_set_state(struct ust_tcb *tcb, enum ust_tcp_conn_state s);
/* Enters CLOSED: leaves the tables, stops timers, wakes the user; frees an
 * orphan. The caller must not touch tcb afterwards when it was an orphan. */
void ust_tcp_done(struct ust_tcb *tcb);
struct ust_tcb *ust_tcp_lookup(struct ust_stack *stack, uint32_t laddr, uint16_t lport,
                               uint32_t raddr, uint16_t rport);
struct ust_tcb *ust_tcp_lookup_listener(struct ust_stack *stack, uint32_t laddr, uint16_t lport);
/* SO_REUSEPORT: the member of l's group that takes a SYN from saddr:sport
 * (l itself when it has no group). */
struct ust_tcb *ust_tcp_reuseport_select(struct ust_tcb *l, uint32_t saddr, uint16_t sport);
void ust_tcp_ehash_insert(struct ust_tcb *tcb);
void ust_tcp_lhash_insert(struct ust_tcb *tcb);
/* A child shares its listener's port (sk.lport already set). */
void ust_tcp_bhash_inherit(struct ust_tcb *child);
/* A port for connect: -EAGAIN when none is free. */
int ust_tcp_autobind(struct ust_tcb *tcb);
uint32_t ust_tcp_isn(struct ust_stack *stack, uint32_t laddr, uint16_t lport, uint32_t raddr,
                     uint16_t rport);
/* The MSS for our SYN from the route's MTU. */
uint16_t ust_tcp_route_mss(struct ust_stack *stack, uint32_t raddr);
/* Wakes the user's wait queue with events. */
void ust_tcp_wake(struct ust_tcb *tcb, uint32_t events);
/* Sets buffer sizes and window scale before the handshake. */
void ust_tcp_init_buffers(struct ust_tcb *tcb);

/* ---- tcp_output.c ------------------------------------------------------- */

/* Sends what the windows, Nagle and the queued FIN allow. */
void ust_tcp_output(struct ust_tcb *tcb);
/* A bare ACK now (also window updates and challenge ACKs). */
void ust_tcp_send_ack(struct ust_tcb *tcb);
void ust_tcp_send_syn(struct ust_tcb *tcb);     /* SYN or SYN-ACK by state */
/* Retransmits one segment from seq (snd_una for fast retransmit). */
void ust_tcp_retransmit_one(struct ust_tcb *tcb, uint32_t seq);
/* RFC 6675 5: entering SACK loss recovery (cwnd already reduced): the
 * first segment presumed lost goes now, whatever pipe says. */
void ust_tcp_sack_recovery_start(struct ust_tcb *tcb);
/* RFC 8985 7.3: the probe, one segment of new data if the windows let it
 * go (beyond cwnd), else the last segment sent again. */
void ust_tcp_send_tlp(struct ust_tcb *tcb);
/* A RST for this connection (abort, close with unread data). */
void ust_tcp_send_rst_conn(struct ust_tcb *tcb);
/* A RST in reply to a segment with no connection (RFC 9293 3.10.7.1). */
void ust_tcp_send_rst_reply(struct ust_stack *stack, uint32_t saddr, uint32_t daddr,
                            const struct ust_tcp_hdr *th, uint32_t seg_len);
/* Window we advertise (unscaled bytes), receiver SWS avoidance applied. */
uint32_t ust_tcp_rcv_window(struct ust_tcb *tcb);
/* Sequence number just past the queued data (where the FIN goes). */
static inline uint32_t ust_tcp_snd_end(const struct ust_tcb *tcb)
{
    return tcb->snd_buf_seq + (uint32_t)ust_ring_used(&tcb->snd);
}
uint32_t ust_tcp_ts_now(const struct ust_tcb *tcb);

/* ---- tcp_sack.c (RFC 2018, RFC 6675) ------------------------------------- */

/* Receiver: SACK blocks describing the out-of-order queue, the one with the
 * latest arrival first (RFC 2018 4). */
void ust_tcp_sack_fill(const struct ust_tcb *tcb, struct ust_tcp_opts *o);
/* Sender: takes the blocks of an arriving ACK into the scoreboard. */
void ust_tcp_sack_update(struct ust_tcb *tcb, const struct ust_tcp_opts *o);
/* Sender: forgets what SND.UNA passed. */
void ust_tcp_sack_clean(struct ust_tcb *tcb);
void ust_tcp_sack_reset(struct ust_tcb *tcb);
/* The first hole at or after `from` below the highest SACKed byte (lost
 * by RFC 6675's rule), or false. */
bool ust_tcp_sack_next_hole(const struct ust_tcb *tcb, uint32_t from, uint32_t *start,
                            uint32_t *end);
/* RFC 6675 "pipe": bytes believed in the network (SetPipe). */
uint32_t ust_tcp_sack_pipe(const struct ust_tcb *tcb);
/* RFC 6675 IsLost(seq): DupThresh discontiguous SACKed ranges, or more
 * than (DupThresh - 1) * SMSS SACKed bytes, above seq. */
bool ust_tcp_sack_is_lost(const struct ust_tcb *tcb, uint32_t seq);
/* DupThresh (RFC 5681, RFC 6675): 3, more once reordering was seen. */
unsigned ust_tcp_dupthresh(const struct ust_tcb *tcb);
/* Loss recovery should start: IsLost(SND.UNA), or the tail loss probe
 * was SACKed while the data before it is still missing. */
bool ust_tcp_sack_loss_detected(const struct ust_tcb *tcb);
/* The highest SACKed sequence number + 1 (SND.UNA when none). */
uint32_t ust_tcp_sack_high(const struct ust_tcb *tcb);
/* SACKed bytes in [from, to). */
uint32_t ust_tcp_sack_bytes_in(const struct ust_tcb *tcb, uint32_t from, uint32_t to);
/* The SACKed range holding seq: true and *end its end. */
bool ust_tcp_sack_covers(const struct ust_tcb *tcb, uint32_t seq, uint32_t *end);
/* Retransmissions in SACK recovery: remember one; mark lost those that
 * later data overtook (returns how many); the lowest lost one. */
void ust_tcp_rtx_record(struct ust_tcb *tcb, uint32_t start, uint32_t end);
unsigned ust_tcp_rtx_detect_lost(struct ust_tcb *tcb);
bool ust_tcp_rtx_next_lost(const struct ust_tcb *tcb, uint32_t *start, uint32_t *end);
void ust_tcp_rtx_reset(struct ust_tcb *tcb);
/* Entering a recovery (before cwnd shrinks): remember what to undo. */
void ust_tcp_undo_start(struct ust_tcb *tcb);
/* The recovery turned out needless: the window before it comes back. */
void ust_tcp_undo(struct ust_tcb *tcb);
/* RFC 3522: an ACK echoing a TSval older than the first retransmission
 * shows the original arrived. */
bool ust_tcp_undo_eifel(const struct ust_tcb *tcb, const struct ust_tcp_opts *o);

/* ---- tcp_syncookie.c (RFC 4987) ------------------------------------------- */

/* The cookie ISN for a SYN; *mss_out the MSS it encodes (<= mss). */
uint32_t ust_tcp_cookie_make(struct ust_stack *stack, uint32_t laddr, uint16_t lport,
                             uint32_t raddr, uint16_t rport, uint32_t peer_isn, uint16_t mss,
                             uint16_t *mss_out);
/* Whether cookie (ACK - 1) is ours and young; *mss the MSS it carries. */
bool ust_tcp_cookie_check(struct ust_stack *stack, uint32_t laddr, uint16_t lport,
                          uint32_t raddr, uint16_t rport, uint32_t peer_isn, uint32_t cookie,
                          uint16_t *mss);
/* The ts_offset that makes the SYN-ACK's TSval carry the options. */
uint32_t ust_tcp_cookie_ts_offset(uint32_t now_ts, uint32_t offset, uint8_t wscale, bool wscale_ok,
                                  bool sack_ok);
void ust_tcp_cookie_ts_decode(uint32_t tsecr, uint8_t *wscale, bool *wscale_ok, bool *sack_ok);
/* Per-connection timestamp offset: a keyed hash of the 4-tuple (so a
 * connection made from a cookie finds its clock again). */
uint32_t ust_tcp_ts_offset(struct ust_stack *stack, uint32_t laddr, uint16_t lport,
                           uint32_t raddr, uint16_t rport);

/* ---- tcp_timer.c -------------------------------------------------------- */

void ust_tcp_timers_init(struct ust_tcb *tcb);
void ust_tcp_timers_cancel(struct ust_tcb *tcb);
/* (Re)arms the retransmission timer for the current RTO, or stops it when
 * nothing is outstanding. */
void ust_tcp_rearm_rtx(struct ust_tcb *tcb);
/* New data went out: (re)starts the tail loss probe timer (RFC 8985 7.2)
 * when a probe applies; false (timer untouched) otherwise. */
bool ust_tcp_tlp_rearm(struct ust_tcb *tcb);
void ust_tcp_start_persist(struct ust_tcb *tcb);
/* Schedules an ACK: now for every second full segment or when asked, else
 * after the delayed-ACK timeout. */
void ust_tcp_schedule_ack(struct ust_tcb *tcb, uint32_t len, bool now);
/* Send buffer autotuning (Linux tcp_sndbuf_expand): room for two
 * congestion windows unless SO_SNDBUF fixed the size. */
void ust_tcp_sndbuf_expand(struct ust_tcb *tcb);
void ust_tcp_ack_sent(struct ust_tcb *tcb);
/* RFC 6298 section 2: a new RTT sample in microseconds. */
void ust_tcp_rtt_sample(struct ust_tcb *tcb, uint32_t rtt_us);
void ust_tcp_enter_time_wait(struct ust_tcb *tcb);
/* (Re)arms or stops the keepalive timer after SO_KEEPALIVE/TCP_KEEP* change
 * or the connection is established. */
void ust_tcp_keepalive_update(struct ust_tcb *tcb);
/* Corked data (TCP_CORK / MSG_MORE) goes out at the latest this long
 * after it was first held (tcp(7): a 200 ms ceiling). */
#define UST_TCP_CORK_CEILING_NS (200ull * 1000000ull)

/* ---- tcp_mem.c: memory bounds (mem_limit, tcp_max_orphans) -------------- */

/* Charges n bytes of socket memory (a connection block, ring storage)
 * against mem_limit, which frame buffers share. When it does not fit,
 * orphans go first: the oldest are reset until it fits (never `self`,
 * which may be NULL). 0, or -ENOBUFS (MEM.SockAllocFails). */
int ust_tcp_mem_charge(struct ust_stack *stack, struct ust_tcb *self, size_t n);
void ust_tcp_mem_uncharge(struct ust_stack *stack, size_t n);
/* Whether n more bytes fit with room to spare (no memory pressure after):
 * buffer autotuning grows only then (Linux tcp_should_expand_sndbuf). */
bool ust_tcp_mem_may_grow(const struct ust_stack *stack, size_t n);
/* The send and receive rings, with their storage charged: a write that
 * would allocate it and does not fit takes nothing (returns 0). */
size_t ust_tcp_ring_write(struct ust_tcb *tcb, struct ust_ring *r, const void *src, size_t n);
/* ust_ring_resize through the charge: -EBUSY, -ENOBUFS. */
int ust_tcp_ring_resize(struct ust_tcb *tcb, struct ust_ring *r, size_t cap);
/* Frees the storage; the ring keeps its capacity (allocated again on use). */
void ust_tcp_ring_free(struct ust_tcb *tcb, struct ust_ring *r);
/* Keeps tcp.orphans right after tcb->orphan or tcb->state changed: an
 * orphan counts in FIN-WAIT-1/2, CLOSING and LAST-ACK. */
void ust_tcp_orphan_update(struct ust_tcb *tcb);
/* Linux tcp_check_oom for an orphan: more orphans than tcp_max_orphans
 * (the count shifted left by `shift`, so that backed-off ones go sooner),
 * or the stack's memory near mem_limit while it holds send data. */
bool ust_tcp_check_oom(const struct ust_tcb *tcb, unsigned shift);
/* Resets an orphan for lack of resources (TCPAbortOnMemory). Frees it. */
void ust_tcp_abort_on_memory(struct ust_tcb *tcb);

/* ---- tcp_user.c: what the socket layer calls ---------------------------- */

int ust_tcp_connect(struct ust_tcb *tcb, uint32_t addr, uint16_t port);
int ust_tcp_listen(struct ust_tcb *tcb, int backlog);
/* The next established child, or -EAGAIN (-EINVAL if not listening). */
int ust_tcp_accept(struct ust_tcb *tcb, struct ust_tcb **child);
/* Copies into the send ring: bytes taken, -EAGAIN when full, -EPIPE,
 * -ENOTCONN, -ECONNRESET... */
ssize_t ust_tcp_send(struct ust_tcb *tcb, const void *buf, size_t len, int flags);
/* Copies out of the receive ring: bytes, 0 at EOF, -EAGAIN, -ENOTCONN... */
ssize_t ust_tcp_recv(struct ust_tcb *tcb, void *buf, size_t len, int flags);
int ust_tcp_shutdown(struct ust_tcb *tcb, int how);
/* connect(AF_UNSPEC), Linux tcp_disconnect: abort (RST if synchronized) and
 * return to a fresh CLOSED socket that may connect or listen again. */
int ust_tcp_disconnect(struct ust_tcb *tcb);
/* The descriptor went: FIN handshake in the background, or RST when data
 * was unread or SO_LINGER 0 asks for it. */
void ust_tcp_close(struct ust_tcb *tcb);
uint32_t ust_tcp_poll(struct ust_tcb *tcb);
/* TCP_CORK (Linux tcp_sock_set_cork): clearing it sends what was held
 * (past Nagle too when TCP_NODELAY is on). */
void ust_tcp_set_cork(struct ust_tcb *tcb, bool on);
size_t ust_tcp_inq(const struct ust_tcb *tcb);
/* SO_RCVLOWAT in effect: never more than half the receive buffer, so the
 * window cannot close before the mark is reached. */
uint32_t ust_tcp_rcvlowat(const struct ust_tcb *tcb);
size_t ust_tcp_outq(const struct ust_tcb *tcb);
/* A struct tcp_info (netinet/tcp.h) for TCP_INFO. */
struct tcp_info;
void ust_tcp_get_info(const struct ust_tcb *tcb, struct tcp_info *ti);

#endif
