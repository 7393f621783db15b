/* ustack demo's pictures (demo.h): a time-sequence graph in the style of
 * tcptrace and Wireshark's Stevens graph - each data segment a vertical bar
 * from its first to its last byte, retransmissions and losses in red, the
 * ACK line, the receive window's right edge and SACK blocks - then cwnd and
 * ssthresh, then the smoothed RTT and the RTO, all on one time axis. Written
 * as a standalone SVG (--svg) or inside one self-contained HTML page
 * (--html) with the narrative. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "demo.h"

struct seg_pt { uint64_t t; uint32_t start, end; bool rexmit, lost; };
struct ack_pt { uint64_t t; uint32_t ack, win; uint8_t nsack; uint32_t sack[4][2]; };
struct cc_pt { uint64_t t; uint32_t cwnd, ssthresh, mss; };
struct rtt_pt { uint64_t t; uint32_t srtt_us, rto_us; };

#define VEC(type) struct { type *v; size_t n, cap; }

struct plot {
    VEC(struct seg_pt) seg;
    VEC(struct ack_pt) ack;
    VEC(struct cc_pt) cc;
    VEC(struct rtt_pt) rtt;
    char title[160];
    uint64_t t0;                /* time 0 of the axis */
};

/* Appends one element; on no memory the point is skipped (a picture with a
 * gap is better than no demo). */
#define VEC_PUSH(vec, val)                                                         \
    do {                                                                           \
        if ((vec).n == (vec).cap) {                                                \
            size_t cap_ = (vec).cap ? 2 * (vec).cap : 256;                         \
            void *p_ = realloc((vec).v, cap_ * sizeof(*(vec).v));                  \
            if (!p_)                                                               \
                break;                                                             \
            (vec).v = p_;                                                          \
            (vec).cap = cap_;                                                      \
        }                                                                          \
        (vec).v[(vec).n++] = (val);                                                \
    } while (0)

struct plot *plot_new(void)
{
    return calloc(1, sizeof(struct plot));
}

void plot_free(struct plot *p)
{
    if (!p)
        return;
    free(p->seg.v);
    free(p->ack.v);
    free(p->cc.v);
    free(p->rtt.v);
    free(p);
}

void plot_title(struct plot *p, const char *title)
{
    snprintf(p->title, sizeof(p->title), "%s", title);
}

void plot_origin(struct plot *p, uint64_t t0)
{
    p->t0 = t0;
}

void plot_data(struct plot *p, uint64_t t, uint32_t start, uint32_t end, bool rexmit, bool lost)
{
    struct seg_pt s = { t - p->t0, start, end, rexmit, lost };
    VEC_PUSH(p->seg, s);
}

void plot_ack(struct plot *p, uint64_t t, uint32_t ack, uint32_t win, const uint32_t (*sack)[2],
              unsigned nsack)
{
    struct ack_pt a = { .t = t - p->t0, .ack = ack, .win = win, .nsack = (uint8_t)(nsack > 4 ? 4 : nsack) };
    for (unsigned i = 0; i < a.nsack; i++) {
        a.sack[i][0] = sack[i][0];
        a.sack[i][1] = sack[i][1];
    }
    VEC_PUSH(p->ack, a);
}

void plot_cc(struct plot *p, uint64_t t, uint32_t cwnd, uint32_t ssthresh, uint32_t mss)
{
    struct cc_pt c = { t - p->t0, cwnd, ssthresh, mss };
    VEC_PUSH(p->cc, c);
}

void plot_rtt(struct plot *p, uint64_t t, uint32_t srtt_us, uint32_t rto_us)
{
    struct rtt_pt r = { t - p->t0, srtt_us, rto_us };
    VEC_PUSH(p->rtt, r);
}

/* ---- Drawing ---- */

#define WIDTH 960
#define LEFT 80
#define RIGHT 24
#define PANEL_GAP 56

struct axis {
    double lo, hi;              /* data range */
    double px0, px1;            /* pixel range (y: px0 is the bottom) */
};

static double map(const struct axis *a, double v)
{
    double span = a->hi > a->lo ? a->hi - a->lo : 1;
    return a->px0 + (v - a->lo) / span * (a->px1 - a->px0);
}

/* A "nice" tick step (1, 2 or 5 times a power of ten) for about n ticks. */
static double tick_step(double span, int n)
{
    if (span <= 0)
        return 1;
    double raw = span / n, mag = pow(10, floor(log10(raw))), f = raw / mag;
    return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * mag;
}

struct frame {
    FILE *f;
    struct axis x, y;
    double top, bottom;
};

/* Axes, grid, tick labels and titles of one panel. yscale divides y values
 * for the labels (e.g. 1024 for KiB). */
static void draw_frame(const struct frame *fr, const char *title, const char *ylabel,
                       double yscale)
{
    FILE *f = fr->f;
    fprintf(f, "<text x=\"%d\" y=\"%.1f\" class=\"ptitle\">%s</text>\n", LEFT, fr->top - 10, title);
    fprintf(f, "<rect x=\"%d\" y=\"%.1f\" width=\"%d\" height=\"%.1f\" class=\"frame\"/>\n", LEFT,
            fr->top, WIDTH - LEFT - RIGHT, fr->bottom - fr->top);
    double xs = tick_step(fr->x.hi - fr->x.lo, 8);
    for (double v = ceil(fr->x.lo / xs) * xs; v <= fr->x.hi + 1e-9; v += xs) {
        double x = map(&fr->x, v);
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"grid\"/>\n", x,
                fr->top, x, fr->bottom);
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" class=\"tick\" text-anchor=\"middle\">%g</text>\n",
                x, fr->bottom + 16, v);
    }
    double ys = tick_step((fr->y.hi - fr->y.lo) / yscale, 5) * yscale;
    for (double v = ceil(fr->y.lo / ys) * ys; v <= fr->y.hi + 1e-9; v += ys) {
        double y = map(&fr->y, v);
        fprintf(f, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" class=\"grid\"/>\n", LEFT, y,
                WIDTH - RIGHT, y);
        fprintf(f, "<text x=\"%d\" y=\"%.1f\" class=\"tick\" text-anchor=\"end\">%g</text>\n",
                LEFT - 6, y + 4, v / yscale);
    }
    fprintf(f, "<text x=\"%d\" y=\"%.1f\" class=\"tick\" transform=\"rotate(-90 %d %.1f)\" "
               "text-anchor=\"middle\">%s</text>\n",
            18, (fr->top + fr->bottom) / 2, 18, (fr->top + fr->bottom) / 2, ylabel);
    fprintf(f, "<text x=\"%d\" y=\"%.1f\" class=\"tick\" text-anchor=\"end\">time since connect() (ms)</text>\n",
            WIDTH - RIGHT, fr->bottom + 32);
}

static void legend(FILE *f, double x, double y, const char *cls, const char *label)
{
    fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"%s\"/>"
               "<text x=\"%.1f\" y=\"%.1f\" class=\"tick\">%s</text>\n",
            x, y, x + 18, y, cls, x + 22, y + 4, label);
}

static double t_ms(uint64_t t)
{
    return (double)t / NS_PER_MS;
}

/* A step line: horizontal to each new x, then vertical to the new value. */
static void step_line(FILE *f, const char *cls, const double *xs, const double *ys, size_t n)
{
    if (n == 0)
        return;
    fprintf(f, "<polyline class=\"%s\" points=\"", cls);
    for (size_t i = 0; i < n; i++) {
        if (i)
            fprintf(f, "%.1f,%.1f ", xs[i], ys[i - 1]);
        fprintf(f, "%.1f,%.1f ", xs[i], ys[i]);
    }
    fprintf(f, "\"/>\n");
}

static void time_range(const struct plot *p, double *lo, double *hi)
{
    *lo = 1e300;
    *hi = -1e300;
#define RANGE(vec)                                          \
    for (size_t i = 0; i < (vec).n; i++) {                  \
        double t = t_ms((vec).v[i].t);                      \
        *lo = t < *lo ? t : *lo;                            \
        *hi = t > *hi ? t : *hi;                            \
    }
    RANGE(p->seg)
    RANGE(p->ack)
#undef RANGE
    if (*lo > *hi)
        *lo = *hi = 0;
    if (*hi - *lo < 1)
        *hi = *lo + 1;
}

static void draw_sequence(FILE *f, const struct plot *p, double top, double height, double t0,
                          double t1)
{
    double ymax = 1;
    for (size_t i = 0; i < p->seg.n; i++)
        ymax = p->seg.v[i].end > ymax ? p->seg.v[i].end : ymax;
    for (size_t i = 0; i < p->ack.n; i++)
        ymax = p->ack.v[i].win > ymax ? p->ack.v[i].win : ymax;
    struct frame fr = { f, { t0, t1, LEFT, WIDTH - RIGHT }, { 0, ymax * 1.02, top + height, top },
                        top, top + height };
    draw_frame(&fr, "Time-sequence graph (A sends, B acknowledges)", "sequence (KiB)", 1024);
    size_t n = p->ack.n;
    double *xs = malloc((n + 1) * sizeof(double)), *ya = malloc((n + 1) * sizeof(double)),
           *yw = malloc((n + 1) * sizeof(double));
    if (xs && ya && yw) {
        for (size_t i = 0; i < n; i++) {
            xs[i] = map(&fr.x, t_ms(p->ack.v[i].t));
            ya[i] = map(&fr.y, p->ack.v[i].ack);
            yw[i] = map(&fr.y, p->ack.v[i].win);
        }
        step_line(f, "win", xs, yw, n);
        step_line(f, "ackl", xs, ya, n);
    }
    free(xs);
    free(ya);
    free(yw);
    for (size_t i = 0; i < p->ack.n; i++) {
        const struct ack_pt *a = &p->ack.v[i];
        double x = map(&fr.x, t_ms(a->t));
        for (unsigned k = 0; k < a->nsack; k++)
            fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"sack\"/>\n",
                    x, map(&fr.y, a->sack[k][0]), x, map(&fr.y, a->sack[k][1]));
    }
    for (size_t i = 0; i < p->seg.n; i++) {
        const struct seg_pt *s = &p->seg.v[i];
        double x = map(&fr.x, t_ms(s->t)), y0 = map(&fr.y, s->start), y1 = map(&fr.y, s->end);
        const char *cls = s->rexmit ? "rexmit" : "data";
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"%s\"/>\n", x, y0,
                x, y1, cls);
        if (s->rexmit)
            fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" class=\"rexmitdot\"/>\n", x, y1);
        if (s->lost)
            fprintf(f, "<path d=\"M%.1f %.1fl6 6m0 -6l-6 6\" class=\"lostx\"/>\n", x - 3, y1 - 3);
    }
    double lx = LEFT + 10, ly = top + 16;
    legend(f, lx, ly, "data", "data segment");
    legend(f, lx + 130, ly, "rexmit", "retransmission");
    fprintf(f, "<path d=\"M%.1f %.1fl6 6m0 -6l-6 6\" class=\"lostx\"/><text x=\"%.1f\" "
               "y=\"%.1f\" class=\"tick\">lost on the link</text>\n",
            lx + 270, ly - 3, lx + 282, ly + 4);
    legend(f, lx + 400, ly, "ackl", "ACK");
    legend(f, lx + 460, ly, "win", "receive window");
    legend(f, lx + 590, ly, "sack", "SACK block");
}

static void draw_cc(FILE *f, const struct plot *p, double top, double height, double t0, double t1)
{
    double ymax = 1;
    for (size_t i = 0; i < p->cc.n; i++) {
        const struct cc_pt *c = &p->cc.v[i];
        double w = (double)c->cwnd / c->mss;
        ymax = w > ymax ? w : ymax;
        if (c->ssthresh != UINT32_MAX && (double)c->ssthresh / c->mss > ymax)
            ymax = (double)c->ssthresh / c->mss;
    }
    struct frame fr = { f, { t0, t1, LEFT, WIDTH - RIGHT }, { 0, ymax * 1.1, top + height, top },
                        top, top + height };
    draw_frame(&fr, "Congestion window (A)", "segments", 1);
    size_t n = p->cc.n, m = 0;
    double *xs = malloc((n + 1) * sizeof(double)), *yc = malloc((n + 1) * sizeof(double));
    double *xs2 = malloc((n + 1) * sizeof(double)), *ys = malloc((n + 1) * sizeof(double));
    if (xs && yc && xs2 && ys) {
        for (size_t i = 0; i < n; i++) {
            const struct cc_pt *c = &p->cc.v[i];
            xs[i] = map(&fr.x, t_ms(c->t));
            yc[i] = map(&fr.y, (double)c->cwnd / c->mss);
            if (c->ssthresh != UINT32_MAX) {
                xs2[m] = xs[i];
                ys[m++] = map(&fr.y, (double)c->ssthresh / c->mss);
            }
        }
        step_line(f, "ssthresh", xs2, ys, m);
        step_line(f, "cwnd", xs, yc, n);
    }
    free(xs);
    free(yc);
    free(xs2);
    free(ys);
    legend(f, LEFT + 10, top + 16, "cwnd", "cwnd");
    legend(f, LEFT + 80, top + 16, "ssthresh", "ssthresh");
}

static void draw_rtt(FILE *f, const struct plot *p, double top, double height, double t0,
                     double t1)
{
    double ymax = 1;
    for (size_t i = 0; i < p->rtt.n; i++) {
        double r = p->rtt.v[i].rto_us / 1000.0;
        ymax = r > ymax ? r : ymax;
    }
    struct frame fr = { f, { t0, t1, LEFT, WIDTH - RIGHT }, { 0, ymax * 1.1, top + height, top },
                        top, top + height };
    draw_frame(&fr, "Round-trip time (A)", "ms", 1);
    size_t n = p->rtt.n;
    double *xs = malloc((n + 1) * sizeof(double)), *yr = malloc((n + 1) * sizeof(double)),
           *yo = malloc((n + 1) * sizeof(double));
    if (xs && yr && yo) {
        for (size_t i = 0; i < n; i++) {
            xs[i] = map(&fr.x, t_ms(p->rtt.v[i].t));
            yr[i] = map(&fr.y, p->rtt.v[i].srtt_us / 1000.0);
            yo[i] = map(&fr.y, p->rtt.v[i].rto_us / 1000.0);
        }
        step_line(f, "rto", xs, yo, n);
        step_line(f, "srtt", xs, yr, n);
    }
    free(xs);
    free(yr);
    free(yo);
    legend(f, LEFT + 10, top + 16, "srtt", "smoothed RTT");
    legend(f, LEFT + 140, top + 16, "rto", "RTO");
}

static const char svg_style[] =
    "text{font-family:sans-serif;font-size:12px;fill:#222}"
    ".ptitle{font-size:14px;font-weight:bold}.tick{font-size:11px;fill:#444}"
    ".frame{fill:#fcfcfc;stroke:#888}.grid{stroke:#e4e4e4}"
    ".data{stroke:#1f4e9c;stroke-width:2}.rexmit{stroke:#d62728;stroke-width:3}"
    ".rexmitdot{fill:none;stroke:#d62728;stroke-width:1.5}"
    ".lostx{stroke:#d62728;stroke-width:1.5;fill:none}"
    ".ackl{stroke:#2ca02c;stroke-width:1.2;fill:none}.win{stroke:#e6a700;stroke-width:1.2;fill:none}"
    ".sack{stroke:#9467bd;stroke-width:3;opacity:.7}"
    ".cwnd{stroke:#1f4e9c;stroke-width:1.5;fill:none}"
    ".ssthresh{stroke:#d62728;stroke-width:1.2;stroke-dasharray:5 3;fill:none}"
    ".srtt{stroke:#2ca02c;stroke-width:1.5;fill:none}"
    ".rto{stroke:#e6a700;stroke-width:1.2;stroke-dasharray:5 3;fill:none}";

static void write_svg(const struct plot *p, FILE *f)
{
    const double h_seq = 420, h_cc = 170, h_rtt = 170, top = 44;
    double height = top + h_seq + PANEL_GAP + h_cc + PANEL_GAP + h_rtt + 48;
    double t0, t1;
    time_range(p, &t0, &t1);
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%.0f\" "
               "viewBox=\"0 0 %d %.0f\">\n",
            WIDTH, height, WIDTH, height);
    fprintf(f, "<style>%s</style>\n", svg_style);
    fprintf(f, "<rect width=\"100%%\" height=\"100%%\" fill=\"#ffffff\"/>\n");
    fprintf(f, "<text x=\"%d\" y=\"22\" class=\"ptitle\">", LEFT);
    for (const char *s = p->title; *s; s++) {
        if (*s == '<' || *s == '>' || *s == '&')
            fprintf(f, "&#%d;", *s);
        else
            fputc(*s, f);
    }
    fprintf(f, "</text>\n");
    draw_sequence(f, p, top + 20, h_seq, t0, t1);
    draw_cc(f, p, top + 20 + h_seq + PANEL_GAP, h_cc, t0, t1);
    draw_rtt(f, p, top + 20 + h_seq + 2 * PANEL_GAP + h_cc, h_rtt, t0, t1);
    fprintf(f, "</svg>\n");
}

int plot_write_svg(const struct plot *p, const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    write_svg(p, f);
    return fclose(f) == 0 ? 0 : -1;
}

static const char html_style[] =
    "body{font-family:sans-serif;margin:24px;color:#222;background:#fff}"
    "pre{font-size:12px;line-height:1.35;background:#fbfbf8;border:1px solid #ddd;"
    "padding:12px;overflow-x:auto}"
    ".title,.summary{font-weight:bold}.time,.note{color:#777}.call{color:#00838f;font-weight:bold}"
    ".state{color:#b8860b;font-weight:bold}.queue{color:#8e44ad}.buf{color:#1f4e9c}"
    ".timer{color:#b8860b}.cc{color:#8e44ad;font-weight:bold}.ab{color:#2e7d32}.ba{color:#00838f}"
    ".lost{color:#d62728;font-weight:bold}.rexmit{color:#d62728}";

int plot_write_html(const struct plot *p, const char *path, const char *narrative_html)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
               "<title>ustack demo</title><style>%s</style></head><body>\n"
               "<h1>ustack demo</h1>\n<p>Two simulated hosts and what their stacks did, "
               "step by step. The plots come from host A's TCP connection in part 2.</p>\n",
            html_style);
    if (p) {
        fprintf(f, "<h2>Plots</h2>\n<div class=\"plots\">\n");
        write_svg(p, f);
        fprintf(f, "</div>\n");
    }
    fprintf(f, "<h2>Narrative</h2>\n<pre>%s</pre>\n</body></html>\n",
            narrative_html ? narrative_html : "");
    return fclose(f) == 0 ? 0 : -1;
}
