/* diag.c — diagnostics as values: storage, rendering, ordering, suggestions.
 *
 * Rendering (the layout the CLI prints, one '\n' after every line):
 *
 *     file:line:col: error: message
 *       <the source line>
 *       <caret under the column>
 *       hint: <hint>
 *
 * The quoted line, the caret and the hint are indented by two spaces.  The caret
 * line copies every tab of the source line before the column, so the caret stays
 * aligned whatever the terminal's tab width; a UTF-8 character counts as one
 * display column.  Without a location the first line is `error: message`.
 */
#include "diag.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "../runtime/arena.h"

void diag_init(diag_list *d)
{
    memset(d, 0, sizeof *d);
}

void diag_free(diag_list *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->len; i++) {
        mtcr_xfree(d->items[i].message);
        mtcr_xfree(d->items[i].hint);
    }
    mtcr_xfree(d->items);
    memset(d, 0, sizeof *d);
}

/* A heap string from a format; NULL on out of memory or a bad format. */
static char *dg_vprintf(const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return NULL;
    char *s = mtcr_xmalloc((size_t)n + 1);
    if (!s)
        return NULL;
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    return s;
}

/* An error is counted even when it cannot be stored, so a caller that only looks
 * at nerrors never mistakes a failed compile for a clean one. */
diag *diag_add(diag_list *d, diag_level level, diag_loc loc, const char *fmt, ...)
{
    if (level == DIAG_ERROR)
        d->nerrors++;
    if (d->len == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 16;
        diag *items = mtcr_xrealloc(d->items, cap * sizeof *items);
        if (!items) {
            d->oom = 1;
            return NULL;
        }
        d->items = items;
        d->cap = cap;
    }
    va_list ap;
    va_start(ap, fmt);
    char *msg = dg_vprintf(fmt, ap);
    va_end(ap);
    if (!msg) {
        d->oom = 1;
        return NULL;
    }
    diag *dg = &d->items[d->len++];
    dg->level = level;
    dg->loc = loc;
    dg->message = msg;
    dg->hint = NULL;
    return dg;
}

/* A hint that cannot be stored is dropped: the diagnostic itself still stands. */
void diag_hint(diag *dg, const char *fmt, ...)
{
    if (!dg)
        return;
    va_list ap;
    va_start(ap, fmt);
    char *h = dg_vprintf(fmt, ap);
    va_end(ap);
    mtcr_xfree(dg->hint);
    dg->hint = h;
}

/* ---- rendering -------------------------------------------------------------------- */

typedef struct {
    char *p;
    size_t len, cap;
    int oom;
} dg_buf;

static void dg_put(dg_buf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 128;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = mtcr_xrealloc(b->p, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void dg_puts(dg_buf *b, const char *s)
{
    dg_put(b, s, strlen(s));
}

static void dg_printf(dg_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void dg_printf(dg_buf *b, const char *fmt, ...)
{
    char tmp[64];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0)
        dg_put(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

static const char *dg_level_name(diag_level l)
{
    switch (l) {
    case DIAG_WARNING: return "warning";
    case DIAG_NOTE: return "note";
    case DIAG_ERROR: break;
    }
    return "error";
}

static const char *dg_level_color(diag_level l)
{
    switch (l) {
    case DIAG_WARNING: return "\033[1;35m";
    case DIAG_NOTE: return "\033[1;36m";
    case DIAG_ERROR: break;
    }
    return "\033[1;31m";
}

/* The bytes of line `line` (1-based) of src without its '\n' or "\r\n"; 0 if the
 * file has fewer lines. */
static int dg_find_line(const diag_source *src, int line, const char **start, size_t *len)
{
    if (!src->text || line < 1)
        return 0;
    const char *p = src->text, *end = src->text + src->len;
    for (int l = 1; l < line; l++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            return 0;
        p = nl + 1;
    }
    if (p == end && line > 1 && p[-1] == '\n')
        return 0; /* past the last line: nothing to quote */
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
    if (n > 0 && p[n - 1] == '\r')
        n--;
    *start = p;
    *len = n;
    return 1;
}

char *diag_format(const diag *dg, int color)
{
    dg_buf b = {0};
    const diag_source *src = dg->loc.src;
    if (src) {
        if (color)
            dg_puts(&b, "\033[1m");
        dg_puts(&b, src->name ? src->name : "<input>");
        if (dg->loc.line > 0) {
            dg_printf(&b, ":%d", dg->loc.line);
            if (dg->loc.col > 0)
                dg_printf(&b, ":%d", dg->loc.col);
        }
        dg_puts(&b, ": ");
        if (color)
            dg_puts(&b, "\033[0m");
    }
    if (color)
        dg_puts(&b, dg_level_color(dg->level));
    dg_puts(&b, dg_level_name(dg->level));
    dg_puts(&b, ":");
    if (color)
        dg_puts(&b, "\033[0m\033[1m");
    dg_puts(&b, " ");
    dg_puts(&b, dg->message ? dg->message : "");
    if (color)
        dg_puts(&b, "\033[0m");
    dg_puts(&b, "\n");

    const char *line;
    size_t n;
    if (src && dg->loc.line > 0 && dg_find_line(src, dg->loc.line, &line, &n)) {
        dg_puts(&b, "  ");
        dg_put(&b, line, n);
        dg_puts(&b, "\n  ");
        size_t col = dg->loc.col > 0 ? (size_t)dg->loc.col - 1 : 0;
        for (size_t i = 0; i < col; i++) {
            unsigned char c = i < n ? (unsigned char)line[i] : ' ';
            if (c == '\t')
                dg_put(&b, "\t", 1);
            else if ((c & 0xC0) != 0x80)
                dg_put(&b, " ", 1);
        }
        if (color)
            dg_puts(&b, "\033[1;32m");
        dg_puts(&b, "^");
        if (color)
            dg_puts(&b, "\033[0m");
        dg_puts(&b, "\n");
    }
    if (dg->hint) {
        dg_puts(&b, "  ");
        if (color)
            dg_puts(&b, "\033[1;36m");
        dg_puts(&b, "hint:");
        if (color)
            dg_puts(&b, "\033[0m");
        dg_puts(&b, " ");
        dg_puts(&b, dg->hint);
        dg_puts(&b, "\n");
    }
    if (b.oom) {
        mtcr_xfree(b.p);
        return NULL;
    }
    return b.p;
}

/* ---- ordering -------------------------------------------------------------------- */

/* Files keep the order in which they first appear in the list (the load order);
 * within a file, diagnostics go by line and column.  Diagnostics without a
 * location count as one more "file". */
typedef struct {
    size_t file, idx;
} dg_key;

static int dg_same_file(const diag_source *a, const diag_source *b)
{
    if (a == b)
        return 1;
    if (!a || !b || !a->name || !b->name)
        return 0;
    return strcmp(a->name, b->name) == 0;
}

static int dg_before(const diag_list *d, const dg_key *ka, const dg_key *kb)
{
    if (ka->file != kb->file)
        return ka->file < kb->file;
    const diag *a = &d->items[ka->idx], *b = &d->items[kb->idx];
    if (a->loc.line != b->loc.line)
        return a->loc.line < b->loc.line;
    if (a->loc.col != b->loc.col)
        return a->loc.col < b->loc.col;
    return ka->idx < kb->idx;
}

void diag_sort(diag_list *d)
{
    size_t n = d->len;
    if (n < 2)
        return;
    dg_key *k = mtcr_xmalloc(n * sizeof *k);
    dg_key *tmp = mtcr_xmalloc(n * sizeof *tmp);
    diag *out = mtcr_xmalloc(n * sizeof *out);
    if (!k || !tmp || !out) {
        mtcr_xfree(k);
        mtcr_xfree(tmp);
        mtcr_xfree(out);
        d->oom = 1;
        return; /* unsorted is still correct, only less readable */
    }
    for (size_t i = 0; i < n; i++) {
        size_t f = i;
        for (size_t j = 0; j < i; j++)
            if (dg_same_file(d->items[j].loc.src, d->items[i].loc.src)) {
                f = k[j].file;
                break;
            }
        k[i].file = f;
        k[i].idx = i;
    }
    /* bottom-up merge sort: stable, O(n log n) */
    for (size_t w = 1; w < n; w *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * w) {
            size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
            size_t i = lo, j = mid, o = lo;
            while (i < mid && j < hi)
                tmp[o++] = dg_before(d, &k[j], &k[i]) ? k[j++] : k[i++];
            while (i < mid)
                tmp[o++] = k[i++];
            while (j < hi)
                tmp[o++] = k[j++];
        }
        memcpy(k, tmp, n * sizeof *k);
    }
    for (size_t i = 0; i < n; i++)
        out[i] = d->items[k[i].idx];
    memcpy(d->items, out, n * sizeof *out);
    mtcr_xfree(k);
    mtcr_xfree(tmp);
    mtcr_xfree(out);
}

/* ---- suggestions -------------------------------------------------------------------- */

/* Levenshtein distance of a and b, or a value > limit as soon as it must exceed
 * limit.  Names longer than 255 bytes are never suggested (nor suggested for). */
static size_t dg_distance(const char *a, size_t la, const char *b, size_t lb, size_t limit)
{
    size_t row[256];
    if (la > 255 || lb > 255)
        return limit + 1;
    if ((la > lb ? la - lb : lb - la) > limit)
        return limit + 1;
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag_prev = row[0], best = i;
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t v = diag_prev + (a[i - 1] != b[j - 1]);
            if (up + 1 < v)
                v = up + 1;
            if (row[j - 1] + 1 < v)
                v = row[j - 1] + 1;
            row[j] = v;
            diag_prev = up;
            if (v < best)
                best = v;
        }
        if (best > limit)
            return limit + 1;
    }
    return row[lb];
}

const char *diag_suggest(const char *name, const char *const *candidates, size_t n)
{
    if (!name || !candidates)
        return NULL;
    size_t len = strlen(name);
    size_t limit = len / 3 > 1 ? len / 3 : 1;
    const char *best = NULL;
    size_t bestd = limit + 1;
    for (size_t i = 0; i < n; i++) {
        const char *c = candidates[i];
        if (!c)
            continue;
        size_t d = dg_distance(name, len, c, strlen(c), limit);
        if (d < bestd) {
            bestd = d;
            best = c;
        }
    }
    return best;
}
