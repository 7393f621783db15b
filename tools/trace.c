/* ustack trace FILE.pcap: the demo's side-by-side narrative rebuilt from a
 * TCP capture, any capture (Linux's tcpdump or tshark, ustack's --pcap).
 * The first TCP connection in the file (or the one on --port) is told:
 * A is the host that sent the SYN, B its peer. Segments come from the
 * capture; the states each side passes through are inferred from them as
 * RFC 9293's Figure 5 says (so they are what the capture point saw, a
 * little before or after the host itself). Retransmissions are segments
 * that repeat sequence numbers already seen. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "narrate.h"
#include "wire/wire.h"

/* pcap link types (https://www.tcpdump.org/linktypes.html). */
#define LINKTYPE_ETHERNET 1
#define LINKTYPE_RAW 101
#define LINKTYPE_LINUX_SLL 113
#define LINKTYPE_IPV4 228
#define LINKTYPE_LINUX_SLL2 276

#define MAX_FRAME 262144

enum st {
    S_CLOSED, S_LISTEN, S_SYN_SENT, S_SYN_RECEIVED, S_ESTABLISHED, S_FIN_WAIT_1, S_FIN_WAIT_2,
    S_CLOSE_WAIT, S_CLOSING, S_LAST_ACK, S_TIME_WAIT,
};

static const char *const st_name[] = {
    "CLOSED", "LISTEN", "SYN-SENT", "SYN-RECEIVED", "ESTABLISHED", "FIN-WAIT-1", "FIN-WAIT-2",
    "CLOSE-WAIT", "CLOSING", "LAST-ACK", "TIME-WAIT",
};

struct end {
    uint32_t addr;
    uint16_t port;
    enum st state;
    bool have_isn;
    uint32_t isn;               /* relative numbers count from here */
    uint32_t snd_max;           /* highest sequence sent + 1 */
    bool fin_sent;
    uint32_t fin_seq;
    uint64_t bytes, segs, rexmits;
};

struct tracer {
    bool found;
    struct end e[2];            /* [0] = A, [1] = B */
    struct narrator nr;
    uint64_t t_first, t_last;
    unsigned long frames, other;
    uint16_t want_port;         /* --port, or 0 */
};

struct pcap_file {
    FILE *f;
    bool swap, nsec;
    uint32_t linktype;
};

static uint32_t rd32(const uint8_t *p, bool swap)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return swap ? __builtin_bswap32(v) : v;
}

static int pcap_open(struct pcap_file *pf, const char *path)
{
    uint8_t gh[24];
    pf->f = fopen(path, "rb");
    if (!pf->f) {
        fprintf(stderr, "ustack trace: %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (fread(gh, 1, sizeof(gh), pf->f) != sizeof(gh)) {
        fprintf(stderr, "ustack trace: %s: too short for a pcap file\n", path);
        return -1;
    }
    uint32_t magic;
    memcpy(&magic, gh, 4);
    pf->swap = magic == 0xd4c3b2a1u || magic == 0x4d3cb2a1u;
    uint32_t m = pf->swap ? __builtin_bswap32(magic) : magic;
    if (m != 0xa1b2c3d4u && m != 0xa1b23c4du) {
        fprintf(stderr, "ustack trace: %s: not a pcap file (pcapng? convert it with "
                        "`editcap -F pcap IN OUT`)\n", path);
        return -1;
    }
    pf->nsec = m == 0xa1b23c4du;
    pf->linktype = rd32(gh + 20, pf->swap) & 0x0fffffffu;
    return 0;
}

/* The next frame: 1, 0 at the end, -1 on a broken file. */
static int pcap_next(struct pcap_file *pf, uint8_t *buf, size_t *len, uint64_t *t_ns)
{
    uint8_t rh[16];
    size_t n = fread(rh, 1, sizeof(rh), pf->f);
    if (n == 0)
        return 0;
    if (n != sizeof(rh))
        return -1;
    uint32_t caplen = rd32(rh + 8, pf->swap);
    if (caplen > MAX_FRAME)
        return -1;
    if (fread(buf, 1, caplen, pf->f) != caplen)
        return -1;
    *len = caplen;
    uint64_t frac = rd32(rh + 4, pf->swap);
    *t_ns = (uint64_t)rd32(rh, pf->swap) * 1000000000ull + (pf->nsec ? frac : frac * 1000);
    return 1;
}

/* Where the IPv4 header starts in a frame of this link type, or -1. */
static long ip_offset(uint32_t linktype, const uint8_t *p, size_t len)
{
    struct ust_eth_hdr eh;
    switch (linktype) {
    case LINKTYPE_ETHERNET: {
        int hl = ust_eth_parse(p, len, &eh);
        if (hl < 0)
            return -1;
        size_t off = (size_t)hl;
        uint16_t type = eh.type;
        if (type == 0x8100 && len >= off + 4) {     /* one VLAN tag */
            type = (uint16_t)(p[off + 2] << 8 | p[off + 3]);
            off += 4;
        }
        return type == 0x0800 ? (long)off : -1;
    }
    case LINKTYPE_RAW:
    case LINKTYPE_IPV4:
        return len > 0 && (p[0] >> 4) == 4 ? 0 : -1;
    case LINKTYPE_LINUX_SLL:
        return len >= 16 && p[14] == 0x08 && p[15] == 0x00 ? 16 : -1;
    case LINKTYPE_LINUX_SLL2:
        return len >= 20 && p[0] == 0x08 && p[1] == 0x00 ? 20 : -1;
    default:
        return -1;
    }
}

/* Sequence number comparisons modulo 2^32 (RFC 9293 3.4). */
static bool seq_lt(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b) < 0;
}

static bool seq_ge(uint32_t a, uint32_t b)
{
    return !seq_lt(a, b);
}

/* ---- Inferring the states (RFC 9293 Figure 5) ---- */

static void set_state(struct tracer *t, int host, enum st s, uint64_t time)
{
    struct end *e = &t->e[host];
    if (e->state == s)
        return;
    struct nr_event ev = { .host = host };
    ev.ev.kind = UST_TRACE_STATE;
    ev.ev.time_ns = time - t->t_first;
    ev.ev.u.state.from = st_name[e->state];
    ev.ev.u.state.to = st_name[s];
    e->state = s;
    nr_tell(&t->nr, &ev);
}

/* What a segment from host h tells about both ends' states. */
static void infer(struct tracer *t, int h, const struct ust_tcp_hdr *th, uint32_t len,
                  uint64_t time)
{
    struct end *me = &t->e[h], *peer = &t->e[!h];
    uint8_t f = th->flags;
    if (f & UST_TCP_RST) {
        set_state(t, h, S_CLOSED, time);
        set_state(t, !h, S_CLOSED, time);
        return;
    }
    if ((f & UST_TCP_SYN) && !(f & UST_TCP_ACK)) {
        set_state(t, h, S_SYN_SENT, time);
        if (peer->state == S_CLOSED)
            set_state(t, !h, S_LISTEN, time);
        return;
    }
    if ((f & UST_TCP_SYN) && (f & UST_TCP_ACK)) {
        set_state(t, h, S_SYN_RECEIVED, time);
        set_state(t, !h, S_ESTABLISHED, time);      /* the SYN-ACK reaches SYN-SENT */
        return;
    }
    /* The peer's FIN acknowledged by this segment? */
    if ((f & UST_TCP_ACK) && peer->fin_sent && seq_ge(th->ack, peer->fin_seq + 1)) {
        if (peer->state == S_FIN_WAIT_1)
            set_state(t, !h, S_FIN_WAIT_2, time);
        else if (peer->state == S_CLOSING)
            set_state(t, !h, S_TIME_WAIT, time);
        else if (peer->state == S_LAST_ACK)
            set_state(t, !h, S_CLOSED, time);
    }
    if ((f & UST_TCP_ACK) && me->state == S_SYN_RECEIVED)
        set_state(t, h, S_ESTABLISHED, time);
    if ((f & UST_TCP_ACK) && peer->state == S_SYN_RECEIVED && !(f & UST_TCP_SYN))
        set_state(t, !h, S_ESTABLISHED, time);
    if (f & UST_TCP_FIN) {
        if (!me->fin_sent) {
            me->fin_sent = true;
            me->fin_seq = th->seq + len;
        }
        if (me->state == S_ESTABLISHED || me->state == S_SYN_RECEIVED)
            set_state(t, h, S_FIN_WAIT_1, time);
        else if (me->state == S_CLOSE_WAIT)
            set_state(t, h, S_LAST_ACK, time);
        if (peer->state == S_ESTABLISHED)
            set_state(t, !h, S_CLOSE_WAIT, time);
        else if (peer->state == S_FIN_WAIT_1)
            set_state(t, !h, S_CLOSING, time);
        else if (peer->state == S_FIN_WAIT_2)
            set_state(t, !h, S_TIME_WAIT, time);
    }
}

/* ---- One segment ---- */

static int which_end(const struct tracer *t, uint32_t src, uint16_t sport)
{
    for (int i = 0; i < 2; i++)
        if (t->e[i].addr == src && t->e[i].port == sport)
            return i;
    return -1;
}

/* The first segment decides the connection: its SYN sender (or, with no
 * SYN, its sender) is A. */
static bool pick(struct tracer *t, const struct ust_ipv4_hdr *ih, const struct ust_tcp_hdr *th)
{
    if (t->want_port && th->sport != t->want_port && th->dport != t->want_port)
        return false;
    bool synack = (th->flags & UST_TCP_SYN) && (th->flags & UST_TCP_ACK);
    int a = synack ? 1 : 0;   /* a SYN-ACK first: its receiver is the client */
    t->e[a].addr = ih->src;
    t->e[a].port = th->sport;
    t->e[!a].addr = ih->dst;
    t->e[!a].port = th->dport;
    t->found = true;
    return true;
}

static void segment(struct tracer *t, const struct ust_ipv4_hdr *ih, const struct ust_tcp_hdr *th,
                    uint32_t len, uint64_t time)
{
    if (!t->found && !pick(t, ih, th))
        return;
    int h = which_end(t, ih->src, th->sport);
    if (h < 0 || t->e[!h].addr != ih->dst || t->e[!h].port != th->dport) {
        t->other++;
        return;
    }
    if (!t->t_first)
        t->t_first = time;
    t->t_last = time;
    struct end *me = &t->e[h];
    if (!me->have_isn) {
        me->have_isn = true;
        me->isn = (th->flags & UST_TCP_SYN) ? th->seq : th->seq - 1;
        me->snd_max = me->isn;
    }
    if (th->flags & UST_TCP_SYN) {
        t->nr.wscale[h] = (th->opts.present & UST_TCPO_WSCALE) ? (int8_t)th->opts.wscale : 0;
        if (!(th->opts.present & UST_TCPO_WSCALE))
            t->nr.wscale[!h] = 0;
    }
    uint32_t seg_len = len + ((th->flags & UST_TCP_SYN) ? 1u : 0u) + ((th->flags & UST_TCP_FIN) ? 1u : 0u);
    bool rexmit = seg_len && seq_lt(th->seq, me->snd_max) && me->segs > 0;
    if (seq_lt(me->snd_max, th->seq + seg_len))
        me->snd_max = th->seq + seg_len;
    me->segs++;
    me->bytes += len;
    me->rexmits += rexmit;

    infer(t, h, th, len, time);
    struct nr_event e = { .host = h };
    struct ust_trace_event *ev = &e.ev;
    ev->kind = UST_TRACE_SEG_OUT;
    ev->time_ns = time - t->t_first;
    ev->u.seg.seq = th->seq;
    ev->u.seg.ack = th->ack;
    ev->u.seg.iss = me->isn;
    ev->u.seg.irs = t->e[!h].have_isn ? t->e[!h].isn : th->ack - 1;
    ev->u.seg.wnd = th->win;
    ev->u.seg.len = len;
    ev->u.seg.flags = th->flags;
    ev->u.seg.retransmit = rexmit;
    ev->u.seg.mss = (th->opts.present & UST_TCPO_MSS) ? th->opts.mss : 0;
    ev->u.seg.wscale = (th->opts.present & UST_TCPO_WSCALE) ? (int8_t)th->opts.wscale : -1;
    ev->u.seg.sack_permitted = (th->opts.present & UST_TCPO_SACK_PERM) != 0;
    ev->u.seg.has_ts = (th->opts.present & UST_TCPO_TIMESTAMP) != 0;
    ev->u.seg.nsack = (th->opts.present & UST_TCPO_SACK) ? th->opts.nsack : 0;
    for (unsigned i = 0; i < ev->u.seg.nsack && i < 4; i++) {
        ev->u.seg.sack[i][0] = th->opts.sack[i].left;
        ev->u.seg.sack[i][1] = th->opts.sack[i].right;
    }
    nr_tell(&t->nr, &e);
}

static void frame(struct tracer *t, uint32_t linktype, const uint8_t *p, size_t len, uint64_t time)
{
    long off = ip_offset(linktype, p, len);
    struct ust_ipv4_hdr ih;
    struct ust_tcp_hdr th;
    if (off < 0)
        return;
    p += off;
    len -= (size_t)off;
    int ihl = ust_ipv4_parse(p, len, &ih);
    /* Only whole TCP segments: first fragments would need reassembly. */
    if (ihl < 0 || ih.proto != UST_IPPROTO_TCP || (ih.frag & (UST_IP_MF | UST_IP_OFFMASK)))
        return;
    size_t l4 = (ih.total_len < len ? ih.total_len : len) - (size_t)ihl;
    int thl = ust_tcp_parse(p + ihl, l4, &th);
    if (thl < 0)
        return;
    t->frames++;
    segment(t, &ih, &th, (uint32_t)(l4 - (size_t)thl), time);
}

/* ---- The command ---- */

void usage_trace(FILE *out)
{
    fprintf(out,
            "usage: ustack trace [--port N] [--color auto|always|never] FILE.pcap\n\n"
            "Tells the first TCP connection of a capture (tcpdump -w, tshark -w -F pcap,\n"
            "ustack --pcap) the way `ustack demo` does: A (the host that sent the SYN)\n"
            "on the left, B on the right, the segments crossing in the middle, and the\n"
            "states of RFC 9293's Figure 5 inferred from the segments. Reads the classic\n"
            "pcap format with Ethernet, raw IP or Linux cooked (SLL, SLL2) frames.\n\n"
            "  --port N     the connection with port N at either end\n"
            "  --color C    auto (on a terminal), always or never\n");
}

static void summary(const struct tracer *t, const char *path)
{
    char a[16], b[16];
    dp(DP_SUMMARY, "\n%s: %lu TCP segments of this connection", path,
       (unsigned long)(t->e[0].segs + t->e[1].segs));
    if (t->other)
        dp(DP_SUMMARY, " (%lu of other connections left out)", t->other);
    dp(DP_SUMMARY, ", %.3f s\n", (double)(t->t_last - t->t_first) / 1e9);
    for (int i = 0; i < 2; i++)
        dp(DP_SUMMARY, "  %s %s:%u sent %" PRIu64 " segments, %" PRIu64 " bytes of data, %" PRIu64
                       " retransmitted; ends in %s\n",
           i ? "B" : "A", ust_ipv4_ntoa(t->e[i].addr, i ? b : a), t->e[i].port, t->e[i].segs,
           t->e[i].bytes, t->e[i].rexmits, st_name[t->e[i].state]);
}

int cmd_trace(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "port", required_argument, NULL, 'p' }, { "color", required_argument, NULL, 'c' },
        { "help", no_argument, NULL, 'h' },       { NULL, 0, NULL, 0 },
    };
    struct demo_opts o = { .color = -1 };
    struct tracer t;
    memset(&t, 0, sizeof(t));
    t.nr.wscale[0] = t.nr.wscale[1] = -1;
    unsigned long port = 0;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        bool ok = true;
        switch (c) {
        case 'p': ok = parse_uint(optarg, 1, 65535, &port); break;
        case 'c':
            o.color = strcmp(optarg, "always") == 0 ? 1 : strcmp(optarg, "never") == 0 ? 0 : -1;
            ok = o.color >= 0 || strcmp(optarg, "auto") == 0;
            break;
        case 'h': usage_trace(stdout); return TOOL_EXIT_OK;
        default: usage_trace(stderr); return TOOL_EXIT_USAGE;
        }
        if (!ok) {
            bad_value("trace", longopts, c, optarg);
            usage_trace(stderr);
            return TOOL_EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "ustack trace: one capture file is needed\n\n");
        usage_trace(stderr);
        return TOOL_EXIT_USAGE;
    }
    t.want_port = (uint16_t)port;
    const char *path = argv[optind];
    struct pcap_file pf = { 0 };
    if (pcap_open(&pf, path) < 0) {
        if (pf.f)
            fclose(pf.f);
        return TOOL_EXIT_FAIL;
    }
    uint8_t *buf = malloc(MAX_FRAME);
    if (!buf) {
        fclose(pf.f);
        return TOOL_EXIT_FAIL;
    }
    dp_init(&o);
    char hdr[200];
    snprintf(hdr, sizeof(hdr), "%-*s %-*s%-*s%s\n", NR_W_TIME, "time", NR_W_SIDE, "A",
             NR_W_WIRE, "wire (as captured)", "B");
    dp(DP_TITLE, "%s", hdr);
    size_t len;
    uint64_t time;
    int r;
    while ((r = pcap_next(&pf, buf, &len, &time)) == 1)
        frame(&t, pf.linktype, buf, len, time);
    int status = TOOL_EXIT_OK;
    if (r < 0) {
        fprintf(stderr, "ustack trace: %s: truncated or broken record\n", path);
        status = TOOL_EXIT_FAIL;
    }
    if (!t.found) {
        fprintf(stderr, "ustack trace: %s: no TCP segment%s (link type %u)\n", path,
                t.want_port ? " on that port" : "", pf.linktype);
        status = TOOL_EXIT_FAIL;
    } else {
        summary(&t, path);
    }
    free(buf);
    fclose(pf.f);
    dp_fini();
    fflush(stdout);
    return status;
}
