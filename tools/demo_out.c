/* The demo's output (demo.h): each piece of text has a class, printed with
 * an ANSI colour on a terminal (plain when piped or with --color never),
 * and kept as HTML for --html. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "demo.h"

static struct {
    bool color, quiet, keep;
    char *html;
    size_t html_len;
    FILE *html_f;               /* open_memstream over html */
    bool progress_shown;
} out;

static const char *const ansi[DP__N] = {
    [DP_TITLE] = "\033[1m",       [DP_TIME] = "\033[2m",      [DP_CALL] = "\033[1;36m",
    [DP_STATE] = "\033[1;33m",    [DP_QUEUE] = "\033[35m",    [DP_BUF] = "\033[34m",
    [DP_TIMER] = "\033[33m",      [DP_CC] = "\033[1;35m",     [DP_SEG_AB] = "\033[32m",
    [DP_SEG_BA] = "\033[36m",     [DP_LOST] = "\033[1;31m",   [DP_REXMIT] = "\033[31m",
    [DP_NOTE] = "\033[2m",        [DP_SUMMARY] = "\033[1m",
};

static const char *const css[DP__N] = {
    [DP_PLAIN] = "", [DP_TITLE] = "title", [DP_TIME] = "time", [DP_CALL] = "call",
    [DP_STATE] = "state", [DP_QUEUE] = "queue", [DP_BUF] = "buf", [DP_TIMER] = "timer",
    [DP_CC] = "cc", [DP_SEG_AB] = "ab", [DP_SEG_BA] = "ba", [DP_LOST] = "lost",
    [DP_REXMIT] = "rexmit", [DP_NOTE] = "note", [DP_SUMMARY] = "summary",
};

void dp_init(const struct demo_opts *o)
{
    memset(&out, 0, sizeof(out));
    out.color = o->color < 0 ? isatty(STDOUT_FILENO) && getenv("NO_COLOR") == NULL : o->color;
    out.quiet = o->quiet;
    out.keep = o->html != NULL;
    if (out.keep)
        out.html_f = open_memstream(&out.html, &out.html_len);
}

static void html_escaped(const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<': fputs("&lt;", out.html_f); break;
        case '>': fputs("&gt;", out.html_f); break;
        case '&': fputs("&amp;", out.html_f); break;
        default: fputc(*s, out.html_f); break;
        }
    }
}

void dp(enum dp_class c, const char *fmt, ...)
{
    char stackbuf[512], *text = stackbuf;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(stackbuf, sizeof(stackbuf), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof(stackbuf)) {
        text = malloc((size_t)n + 1);
        if (!text)
            return;
        va_start(ap, fmt);
        vsnprintf(text, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    if (!out.quiet || c == DP_SUMMARY) {
        dp_progress_end();
        if (out.color && ansi[c])
            printf("%s%s\033[0m", ansi[c], text);
        else
            fputs(text, stdout);
    }
    if (out.html_f) {
        if (css[c][0])
            fprintf(out.html_f, "<span class=\"%s\">", css[c]);
        html_escaped(text);
        if (css[c][0])
            fputs("</span>", out.html_f);
    }
    if (text != stackbuf)
        free(text);
}

char *dp_html(void)
{
    if (!out.html_f)
        return NULL;
    fflush(out.html_f);
    return strdup(out.html ? out.html : "");
}

void dp_progress(double frac, const char *label)
{
    if (out.quiet || !isatty(STDERR_FILENO))
        return;
    fflush(stdout);
    int width = 40, done = (int)(frac * width + 0.5);
    if (done > width)
        done = width;
    fprintf(stderr, "\r  [%.*s%*s] %3d%% %s", done, "########################################",
            width - done, "", (int)(frac * 100 + 0.5), label);
    out.progress_shown = true;
}

void dp_progress_end(void)
{
    if (!out.progress_shown)
        return;
    fprintf(stderr, "\r%*s\r", 79, "");
    out.progress_shown = false;
}

void dp_fini(void)
{
    dp_progress_end();
    if (out.html_f)
        fclose(out.html_f);
    free(out.html);
    memset(&out, 0, sizeof(out));
}
