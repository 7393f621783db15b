/* Selective acknowledgments: the receiver's SACK blocks (RFC 2018) built
 * from the out-of-order queue, and the sender's scoreboard with the RFC 6675
 * notions used by loss recovery in tcp_output.c (holes, HighRxt, pipe).
 * D-SACK blocks (RFC 2883, below SND.UNA) are tolerated and ignored. */
#include "tcp/tcp.h"

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

void ust_tcp_sack_update(struct ust_tcb *tcb, const struct ust_tcp_opts *o)
{
    if (!tcb->sack_ok || !(o->present & UST_TCPO_SACK))
        return;
    for (unsigned i = 0; i < o->nsack && i < UST_TCP_MAX_SACK; i++) {
        uint32_t s = o->sack[i].left, e = o->sack[i].right;
        if (!ust_seq_lt(s, e) || ust_seq_gt(e, tcb->snd_max) || ust_seq_le(e, tcb->snd_una))
            continue;           /* invalid, or a D-SACK of old data */
        if (ust_seq_lt(s, tcb->snd_una))
            s = tcb->snd_una;
        insert_range(tcb, s, e);
    }
    recount(tcb);
}

void ust_tcp_sack_clean(struct ust_tcb *tcb)
{
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

/* RFC 6675 SetPipe, simplified: outstanding bytes, minus SACKed ones, minus
 * holes below the highest SACK block not yet retransmitted (lost). */
uint32_t ust_tcp_sack_pipe(const struct ust_tcb *tcb)
{
    uint32_t out = tcb->snd_max - tcb->snd_una;
    uint32_t lost = 0, s, e, from = tcb->high_rxt;
    while (ust_tcp_sack_next_hole(tcb, from, &s, &e)) {
        lost += e - s;
        from = e;
    }
    uint32_t gone = tcb->sacked_bytes + lost;
    return out > gone ? out - gone : 0;
}
