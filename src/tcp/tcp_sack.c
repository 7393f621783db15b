/* Selective acknowledgments: the receiver's SACK blocks (RFC 2018) built
 * from the out-of-order queue, and the sender's scoreboard with the RFC 6675
 * notions used by loss recovery in tcp_output.c: holes, IsLost, SetPipe
 * (pipe), HighRxt, and a log of the retransmissions sent in recovery that
 * finds a lost retransmission (as Linux does) before the timer would.
 * D-SACK blocks (RFC 2883, RFC 3708) are counted and otherwise ignored:
 * one below SND.UNA changes nothing; one inside a SACKed range adds
 * nothing new. */
#include "core/stats.h"
#include "stack/stack_impl.h"
#include "tcp/tcp.h"

/* RFC 6675 2: DupThresh; the most reordering adapts it to (segments). */
#define DUPTHRESH 3u
#define MAX_REORDERING 6u

unsigned ust_tcp_dupthresh(const struct ust_tcb *tcb)
{
    return tcb->reordering > DUPTHRESH ? tcb->reordering : DUPTHRESH;
}

/* Data below the highest SACKed octet arrived without a retransmission:
 * the network reordered it by (high - seq) / SMSS + 1 segments; DupThresh
 * grows to that (Linux tcp_check_sack_reordering; RFC 4653 in spirit), so
 * the same reordering does not start a needless recovery again. */
static void note_reordering(struct ust_tcb *tcb, uint32_t seq, uint32_t high)
{
    if (!ust_seq_gt(high, seq))
        return;
    uint32_t degree = (high - seq) / tcb->mss + 1;
    if (degree > MAX_REORDERING)
        degree = MAX_REORDERING;
    if (degree > ust_tcp_dupthresh(tcb)) {
        tcb->reordering = (uint8_t)degree;
        UST_INC(tcb->sk.stack, TCP, TCPSACKReorder);
    }
}

static bool rtx_overlaps(const struct ust_tcb *tcb, uint32_t s, uint32_t e)
{
    if (ust_seq_lt(s, tcb->high_rxt))
        return true;
    for (unsigned i = 0; i < tcb->nrtx; i++)
        if (ust_seq_lt(tcb->rtx[i].start, e) && ust_seq_lt(s, tcb->rtx[i].end))
            return true;
    return false;
}

/* May what arrives now be measured as reordering? Not after a timeout
 * (everything is being sent again) nor with a probe out (it may have
 * filled the hole). */
static bool reordering_measurable(const struct ust_tcb *tcb)
{
    return !tcb->in_loss && !tcb->tlp_out && tcb->mss > 0;
}

/* ---- Receiver ------------------------------------------------------------ */

void ust_tcp_sack_fill(const struct ust_tcb *tcb, struct ust_tcp_opts *o)
{
    struct ust_tcp_sack_block r[UST_TCP_MAX_SACK + 4];
    unsigned n = 0, first = 0;
    /* Contiguous ranges of the sorted queue. */
    for (const struct ust_fbuf *fb = tcb->ooo.head; fb; fb = fb->next) {
        uint32_t s = (uint32_t)fb->cb.raw[0], e = s + fb->len;
        if (n > 0 && ust_seq_le(s, r[n - 1].right)) {
            if (ust_seq_gt(e, r[n - 1].right))
                r[n - 1].right = e;
            continue;
        }
        if (n == sizeof(r) / sizeof(r[0]))
            break;
        r[n].left = s;
        r[n].right = e;
        n++;
    }
    if (n == 0)
        return;
    for (unsigned i = 0; i < n; i++)
        if (ust_seq_ge(tcb->last_ooo_seq, r[i].left) && ust_seq_lt(tcb->last_ooo_seq, r[i].right))
            first = i;
    o->present |= UST_TCPO_SACK;
    o->nsack = 0;
    o->sack[o->nsack++] = r[first];
    for (unsigned i = 0; i < n && o->nsack < UST_TCP_MAX_SACK; i++)
        if (i != first)
            o->sack[o->nsack++] = r[i];
}

/* ---- Sender scoreboard ----------------------------------------------------- */

static void recount(struct ust_tcb *tcb)
{
    uint32_t sum = 0;
    for (unsigned i = 0; i < tcb->nsb; i++)
        sum += tcb->sb[i].end - tcb->sb[i].start;
    tcb->sacked_bytes = sum;
}

/* Inserts [s, e) keeping the array sorted and disjoint (a merge of two
 * sorted sequences). */
static void insert_range(struct ust_tcb *tcb, uint32_t s, uint32_t e)
{
    struct ust_tcp_sackblk out[UST_TCP_SCOREBOARD + 1];
    unsigned n = 0, i = 0;
    bool placed = false;
    while (i < tcb->nsb || !placed) {
        struct ust_tcp_sackblk cur;
        if (!placed && (i == tcb->nsb || ust_seq_le(s, tcb->sb[i].start))) {
            cur.start = s;
            cur.end = e;
            placed = true;
        } else {
            cur = tcb->sb[i++];
        }
        if (n > 0 && ust_seq_le(cur.start, out[n - 1].end)) {
            if (ust_seq_gt(cur.end, out[n - 1].end))
                out[n - 1].end = cur.end;
        } else {
            out[n++] = cur;
        }
    }
    if (n > UST_TCP_SCOREBOARD)
        n = UST_TCP_SCOREBOARD;     /* forget the highest */
    for (i = 0; i < n; i++)
        tcb->sb[i] = out[i];
    tcb->nsb = n;
}

bool ust_tcp_sack_covers(const struct ust_tcb *tcb, uint32_t seq, uint32_t *end)
{
    for (unsigned i = 0; i < tcb->nsb; i++)
        if (ust_seq_ge(seq, tcb->sb[i].start) && ust_seq_lt(seq, tcb->sb[i].end)) {
            *end = tcb->sb[i].end;
            return true;
        }
    return false;
}

/* RFC 2883 4: a D-SACK is the first block, either below the cumulative ACK
 * or inside the second block. */
static bool is_dsack(const struct ust_tcp_opts *o, uint32_t ack)
{
    uint32_t s = o->sack[0].left, e = o->sack[0].right;
    if (ust_seq_le(e, ack))
        return true;
    return o->nsack > 1 && ust_seq_ge(s, o->sack[1].left) && ust_seq_le(e, o->sack[1].right);
}

/* A D-SACK for data at or after the start of the last recovery: one of its
 * retransmissions was needless; all of them, and the recovery was. */
static void dsack_undo(struct ust_tcb *tcb, uint32_t s, uint32_t e)
{
    if (!tcb->undo_ok || ust_seq_lt(s, tcb->undo_marker))
        return;
    tcb->undo_retrans -= (int32_t)((e - s + tcb->mss - 1) / tcb->mss);
    if (tcb->undo_retrans <= 0)
        ust_tcp_undo(tcb);
}

static void snapshot(struct ust_tcb *tcb);

void ust_tcp_sack_update(struct ust_tcb *tcb, const struct ust_tcp_opts *o)
{
    snapshot(tcb);
    if (!tcb->sack_ok || !(o->present & UST_TCPO_SACK) || o->nsack == 0)
        return;
    uint32_t high = ust_tcp_sack_high(tcb);
    bool measure = reordering_measurable(tcb) && tcb->nsb > 0;
    if (is_dsack(o, tcb->snd_una)) {
        UST_INC(tcb->sk.stack, TCP, TCPDSACKRecv);
        /* A needless retransmission: the network reorders more than
         * DupThresh allowed for (Linux widens its RACK window on D-SACK). */
        if (tcb->mss > 0 && ust_tcp_dupthresh(tcb) < MAX_REORDERING) {
            tcb->reordering = (uint8_t)(ust_tcp_dupthresh(tcb) + 1);
            UST_INC(tcb->sk.stack, TCP, TCPSACKReorder);
        }
        if (ust_seq_lt(o->sack[0].left, o->sack[0].right))
            dsack_undo(tcb, o->sack[0].left, o->sack[0].right);
    }
    for (unsigned i = 0; i < o->nsack && i < UST_TCP_MAX_SACK; i++) {
        uint32_t s = o->sack[i].left, e = o->sack[i].right;
        if (!ust_seq_lt(s, e) || ust_seq_gt(e, tcb->snd_max) || ust_seq_le(e, tcb->snd_una))
            continue;           /* invalid, or a D-SACK of old data */
        if (ust_seq_lt(s, tcb->snd_una))
            s = tcb->snd_una;
        uint32_t end;
        if (measure && ust_seq_lt(s, high) && !ust_tcp_sack_covers(tcb, s, &end) &&
            !rtx_overlaps(tcb, s, e))
            note_reordering(tcb, s, high);
        insert_range(tcb, s, e);
    }
    recount(tcb);
}

/* Called for every ACK before SND.UNA moves: what sack_clean compares with. */
static void snapshot(struct ust_tcb *tcb)
{
    tcb->sb_una = tcb->snd_una;
    tcb->sb_high_rxt = tcb->high_rxt;
    tcb->sb_snap_ok = reordering_measurable(tcb) && tcb->nrtx == 0;
}

/* Forgets retransmissions acknowledged, cumulatively or by SACK. */
static void rtx_clean(struct ust_tcb *tcb)
{
    unsigned k = 0;
    for (unsigned i = 0; i < tcb->nrtx; i++) {
        struct ust_tcp_rtxrec r = tcb->rtx[i];
        if (ust_seq_lt(r.start, tcb->snd_una))
            r.start = tcb->snd_una;
        uint32_t end;
        while (ust_seq_lt(r.start, r.end) && ust_tcp_sack_covers(tcb, r.start, &end))
            r.start = end;
        if (ust_seq_lt(r.start, r.end))
            tcb->rtx[k++] = r;
    }
    tcb->nrtx = k;
}

void ust_tcp_sack_clean(struct ust_tcb *tcb)
{
    /* SND.UNA passed a hole below SACKed data that was never sent again:
     * the original was only late. */
    if (tcb->sb_snap_ok && tcb->nsb > 0 && ust_seq_gt(tcb->snd_una, tcb->sb_una) &&
        ust_seq_le(tcb->sb_high_rxt, tcb->sb_una) && ust_seq_lt(tcb->sb_una, tcb->sb[0].start))
        note_reordering(tcb, tcb->sb_una, ust_tcp_sack_high(tcb));
    tcb->sb_snap_ok = false;
    unsigned k = 0;
    for (unsigned i = 0; i < tcb->nsb; i++) {
        struct ust_tcp_sackblk b = tcb->sb[i];
        if (ust_seq_le(b.end, tcb->snd_una))
            continue;
        if (ust_seq_lt(b.start, tcb->snd_una))
            b.start = tcb->snd_una;
        tcb->sb[k++] = b;
    }
    tcb->nsb = k;
    recount(tcb);
    rtx_clean(tcb);
}

void ust_tcp_sack_reset(struct ust_tcb *tcb)
{
    tcb->nsb = 0;
    tcb->sacked_bytes = 0;
}

bool ust_tcp_sack_next_hole(const struct ust_tcb *tcb, uint32_t from, uint32_t *start,
                            uint32_t *end)
{
    uint32_t pos = ust_seq_lt(from, tcb->snd_una) ? tcb->snd_una : from;
    for (unsigned i = 0; i < tcb->nsb; i++) {
        const struct ust_tcp_sackblk *b = &tcb->sb[i];
        if (ust_seq_lt(pos, b->start)) {
            *start = pos;
            *end = b->start;
            return true;
        }
        if (ust_seq_lt(pos, b->end))
            pos = b->end;
    }
    return false;
}

uint32_t ust_tcp_sack_high(const struct ust_tcb *tcb)
{
    return tcb->nsb ? tcb->sb[tcb->nsb - 1].end : tcb->snd_una;
}

uint32_t ust_tcp_sack_bytes_in(const struct ust_tcb *tcb, uint32_t from, uint32_t to)
{
    uint32_t n = 0;
    for (unsigned i = 0; i < tcb->nsb; i++) {
        uint32_t s = tcb->sb[i].start, e = tcb->sb[i].end;
        if (ust_seq_lt(s, from))
            s = from;
        if (ust_seq_gt(e, to))
            e = to;
        if (ust_seq_lt(s, e))
            n += e - s;
    }
    return n;
}

/* DupThresh is ust_tcp_dupthresh: 3 unless reordering was seen. */
bool ust_tcp_sack_is_lost(const struct ust_tcb *tcb, uint32_t seq)
{
    uint32_t bytes = 0, blocks = 0, end;
    if (ust_tcp_sack_covers(tcb, seq, &end))
        return false;
    for (unsigned i = 0; i < tcb->nsb; i++)
        if (ust_seq_gt(tcb->sb[i].start, seq)) {
            bytes += tcb->sb[i].end - tcb->sb[i].start;
            blocks++;
        }
    unsigned dupthresh = ust_tcp_dupthresh(tcb);
    return blocks >= dupthresh || bytes > (dupthresh - 1u) * tcb->mss;
}

bool ust_tcp_sack_loss_detected(const struct ust_tcb *tcb)
{
    if (ust_tcp_sack_is_lost(tcb, tcb->snd_una))
        return true;
    /* The tail loss probe, sent 2 SRTT after the data below it, arrived
     * and that data did not: lost (RFC 8985 7.4, as RACK would mark it). */
    return tcb->tlp_out && tcb->nsb > 0 && ust_seq_ge(ust_tcp_sack_high(tcb), tcb->tlp_high);
}

/* Bytes of [s, e) in retransmissions known lost again. */
static uint32_t lost_rtx_bytes(const struct ust_tcb *tcb, uint32_t s, uint32_t e)
{
    uint32_t n = 0;
    for (unsigned i = 0; i < tcb->nrtx; i++) {
        if (!tcb->rtx[i].lost)
            continue;
        uint32_t a = tcb->rtx[i].start, b = tcb->rtx[i].end;
        if (ust_seq_lt(a, s))
            a = s;
        if (ust_seq_gt(b, e))
            b = e;
        if (ust_seq_lt(a, b))
            n += b - a;
    }
    return n;
}

/* SetPipe's sum over the unSACKed range [s, e): one per octet not lost,
 * one more per octet retransmitted (below HighRxt) and not lost again. */
static uint32_t range_pipe(const struct ust_tcb *tcb, uint32_t s, uint32_t e, bool lost)
{
    uint32_t n = lost ? 0 : e - s;
    if (ust_seq_lt(s, tcb->high_rxt)) {
        uint32_t re = ust_seq_lt(tcb->high_rxt, e) ? tcb->high_rxt : e;
        n += (re - s) - lost_rtx_bytes(tcb, s, re);
    }
    return n;
}

/* RFC 6675 4, SetPipe: the holes below the highest SACK block are lost or
 * not by IsLost (the same for every octet of a hole: they have the same
 * SACKed data above), the data above it never is. */
uint32_t ust_tcp_sack_pipe(const struct ust_tcb *tcb)
{
    uint32_t pipe = 0, pos = tcb->snd_una;
    for (unsigned i = 0; i < tcb->nsb; i++) {
        const struct ust_tcp_sackblk *b = &tcb->sb[i];
        if (ust_seq_lt(pos, b->start))
            pipe += range_pipe(tcb, pos, b->start, ust_tcp_sack_is_lost(tcb, pos));
        if (ust_seq_lt(pos, b->end))
            pos = b->end;
    }
    if (ust_seq_lt(pos, tcb->snd_max))
        pipe += range_pipe(tcb, pos, tcb->snd_max, false);
    return pipe;
}

/* ---- Lost retransmissions --------------------------------------------------- */

void ust_tcp_rtx_record(struct ust_tcb *tcb, uint32_t start, uint32_t end)
{
    for (unsigned i = 0; i < tcb->nrtx; i++)
        if (tcb->rtx[i].start == start) {      /* sent again */
            tcb->rtx[i].end = end;
            tcb->rtx[i].sent_max = tcb->snd_max;
            tcb->rtx[i].lost = false;
            return;
        }
    if (tcb->nrtx == UST_TCP_RTXLOG)
        return;                 /* the timer covers it */
    tcb->rtx[tcb->nrtx++] = (struct ust_tcp_rtxrec){
        .start = start, .end = end, .sent_max = tcb->snd_max, .lost = false,
    };
}

/* A retransmission still unacknowledged while data sent after it was
 * SACKed was lost as well (Linux tcp_mark_lost_retrans; RFC 6675 would
 * wait for the timer). It goes out again ahead of the other holes. */
unsigned ust_tcp_rtx_detect_lost(struct ust_tcb *tcb)
{
    uint32_t high = ust_tcp_sack_high(tcb);
    unsigned n = 0;
    rtx_clean(tcb);
    for (unsigned i = 0; i < tcb->nrtx; i++) {
        struct ust_tcp_rtxrec *r = &tcb->rtx[i];
        if (!r->lost && tcb->nsb > 0 &&
            ust_seq_ge(high, r->sent_max + (ust_tcp_dupthresh(tcb) - 2u) * tcb->mss)) {
            r->lost = true;
            n++;
            UST_INC(tcb->sk.stack, TCP, TCPLostRetransmit);
        }
    }
    return n;
}

bool ust_tcp_rtx_next_lost(const struct ust_tcb *tcb, uint32_t *start, uint32_t *end)
{
    bool found = false;
    for (unsigned i = 0; i < tcb->nrtx; i++)
        if (tcb->rtx[i].lost && (!found || ust_seq_lt(tcb->rtx[i].start, *start))) {
            *start = tcb->rtx[i].start;
            *end = tcb->rtx[i].end;
            found = true;
        }
    return found;
}

void ust_tcp_rtx_reset(struct ust_tcb *tcb)
{
    tcb->nrtx = 0;
}

/* ---- Undo ------------------------------------------------------------------ */

void ust_tcp_undo_start(struct ust_tcb *tcb)
{
    tcb->prior_cwnd = tcb->cwnd;
    tcb->prior_ssthresh = tcb->ssthresh;
    tcb->undo_marker = tcb->snd_una;
    tcb->undo_tsval = ust_tcp_ts_now(tcb);
    tcb->undo_retrans = 0;
    tcb->undo_ok = true;
    tcb->undone = false;
}

void ust_tcp_undo(struct ust_tcb *tcb)
{
    if (!tcb->undo_ok)
        return;
    if (tcb->cwnd < tcb->prior_cwnd)
        tcb->cwnd = tcb->prior_cwnd;
    if (tcb->ssthresh < tcb->prior_ssthresh)
        tcb->ssthresh = tcb->prior_ssthresh;
    tcb->undo_ok = false;
    tcb->undone = true;
    UST_INC(tcb->sk.stack, TCP, TCPFullUndo);
    /* The data thought lost was only late, behind what was SACKed. */
    if (tcb->mss > 0)
        note_reordering(tcb, tcb->undo_marker, ust_tcp_sack_high(tcb));
}

bool ust_tcp_undo_eifel(const struct ust_tcb *tcb, const struct ust_tcp_opts *o)
{
    return tcb->undo_ok && tcb->ts_ok && (o->present & UST_TCPO_TIMESTAMP) && o->tsecr != 0 &&
           ust_seq_lt(o->tsecr, tcb->undo_tsval);
}
