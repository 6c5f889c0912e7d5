/* reader.c — record readers: CSV (RFC 4180) and JSON Lines, plain or gzip.
 *
 * Buffering.  The unconsumed input is the window buf[pos, end).  For a file, buf
 * is our own buffer, filled through zlib (which reads plain files transparently
 * and detects gzip by its magic bytes); for rd_open_mem it is the caller's data
 * and the window is a moving slice of it.  A batch never refills the window once
 * it holds rows, because unquoted cells point straight into it: a record that
 * runs past the window's end ends the batch early, and the next batch compacts
 * the partial record to the front and reads more.  Only when the very first
 * record of a batch does not fit is the window grown, up to RD_MAX_RECORD.
 *
 * Scratch.  Decoded text (CSV cells with "" escapes, JSON strings with escapes,
 * JSON keys with escapes) goes into one per-batch scratch buffer.  Decoding never
 * makes text longer than its raw bytes, and one batch never consumes more raw
 * bytes than the window holds, so a scratch of the window's size needs no bounds
 * checks and never moves during a batch.  In the steady state nothing is
 * allocated per record or per cell; row error messages (rare) go into an arena
 * reset at every batch.
 */
#include "reader.h"
#include "arena.h"
#include "value.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* The largest record accepted; a longer one is an I/O-level error (-1), so that a
 * missing closing quote cannot make the reader swallow a whole file. */
#define RD_MAX_RECORD ((size_t)64 << 20)
/* The window never grows beyond this: a full record plus its line end. */
#define RD_MAX_WINDOW (RD_MAX_RECORD + ((size_t)1 << 20))
/* File buffer: initial capacity; a batch starts by refilling when less than half
 * of it is unconsumed, so reads are >= 2 MiB. */
#define RD_FILE_BUF ((size_t)4 << 20)
/* Memory input: initial window size. */
#define RD_MEM_WINDOW ((size_t)4 << 20)

enum { RD_OK, RD_MORE, RD_EOF };

typedef struct {
    const char *p;
    uint32_t len;
} rd_span;

typedef struct {
    const char *name;
    uint32_t len;
    int32_t slot;
} rd_hent;

struct rd_reader {
    char *name;
    rd_format fmt;
    int seen_records; /* JSON Lines: the input has at least one non-blank line */

    /* input window: unconsumed bytes are buf[pos, end) */
    const char *buf;
    char *own;      /* file input: our buffer (buf == own) */
    size_t cap;     /* file input: capacity of own */
    size_t pos, end;
    size_t memlen;  /* memory input: total length */
    int eof;        /* end is the end of the input */
    int is_mem;
    gzFile gz;
    char *fail;     /* sticky I/O error */
    uint64_t line;  /* physical line number of buf[pos] */

    /* header */
    size_t nhdr;
    char **hdr;
    uint32_t *hdr_len;
    char *hdr_blk;    /* the header names' storage */
    uint8_t *hdr_plain; /* JSONL: the key has no '"', '\\' or control byte, so it can
                         * be matched against the raw input */

    /* projection */
    size_t nsel;
    char **sel;
    char *sel_blk;
    uint32_t *sel_len;
    int32_t *cmap;    /* per header column: selected slot, or -1 */
    int32_t *dupsrc;  /* per slot: an earlier slot of the same name, or -1 */
    size_t ndup;
    rd_hent *htab;    /* JSONL: selected names by hash */
    size_t hmask;

    /* per-batch storage */
    rd_cell *cells;
    size_t cells_cap;
    uint64_t *lines;
    const char **errors;
    size_t rows_cap;
    char *scratch;
    size_t scap, sused;
    ar_arena errs;

    /* JSONL: the keys of the record being parsed */
    rd_span *keys, *ksort;
    size_t kcap;
};

/* ---- messages --------------------------------------------------------------- */

static char *rd_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *rd_msg(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return NULL;
    char *s = mtcr_xmalloc((size_t)n + 1);
    if (!s)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

static void rd_set_err(char **err, char *msg)
{
    if (err)
        *err = msg;
    else
        mtcr_xfree(msg);
}

/* Row errors live until the next batch.  Out of memory gives a fixed message so
 * that the row is still reported as bad. */
static const char *rd_rowerr(rd_reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static const char *rd_rowerr(rd_reader *r, const char *fmt, ...)
{
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    const char *s = ar_strdup(&r->errs, tmp);
    return s ? s : "invalid record (out of memory while describing it)";
}

/* Shortens a name for a message: at most 60 bytes, never cutting a UTF-8 sequence. */
static int rd_short(const char *s, size_t n)
{
    if (n <= 60)
        return (int)n;
    size_t k = 57;
    while (k > 0 && ((unsigned char)s[k] & 0xC0) == 0x80)
        k--;
    return (int)k;
}

/* ---- window management ------------------------------------------------------- */

/* zlib's message without the "<fd:N>: " it puts in front (our name is in ours). */
static const char *rd_zmsg(gzFile gz, int *zerr)
{
    const char *m = gzerror(gz, zerr);
    if (m && strncmp(m, "<fd:", 4) == 0) {
        const char *c = strstr(m, ": ");
        if (c)
            m = c + 2;
    }
    return m && *m ? m : "decompression error";
}

/* Reads into own[end, cap).  0 on success (eof set at end of input), -1 on error. */
static int rd_fill(rd_reader *r)
{
    while (r->end < r->cap && !r->eof) {
        size_t want = r->cap - r->end;
        if (want > (1u << 30))
            want = 1u << 30;
        errno = 0;
        int got = gzread(r->gz, r->own + r->end, (unsigned)want);
        int saved = errno;
        if (got < 0) {
            int zerr;
            const char *m = rd_zmsg(r->gz, &zerr);
            r->fail = rd_msg("cannot read '%s': %s", r->name, zerr == Z_ERRNO && saved ? strerror(saved) : m);
            return -1;
        }
        r->end += (size_t)got;
        if ((size_t)got < want) {
            /* zlib reports a truncated gzip stream as a soft error at end of input. */
            int zerr;
            const char *m = rd_zmsg(r->gz, &zerr);
            if (zerr != Z_OK) {
                r->fail = rd_msg("cannot read '%s': %s%s", r->name,
                                 zerr == Z_BUF_ERROR ? "truncated gzip data: " : "", m);
                return -1;
            }
            r->eof = 1;
        }
    }
    return 0;
}

/* Keeps the scratch at least as large as the window: see the comment at the top. */
static int rd_scratch_fit(rd_reader *r)
{
    size_t need = r->end - r->pos + 16;
    if (r->scap >= need)
        return 0;
    size_t n = r->scap ? r->scap : 64 * 1024;
    while (n < need)
        n *= 2;
    char *s = mtcr_xrealloc(r->scratch, n);
    if (!s) {
        r->fail = rd_msg("out of memory reading '%s'", r->name);
        return -1;
    }
    r->scratch = s;
    r->scap = n;
    return 0;
}

/* Start of a batch: for a file, moves the unconsumed bytes to the front and
 * reads more when less than half the buffer is left; for memory, slides the
 * window.  No cell of an earlier batch may be used after this. */
static int rd_prepare(rd_reader *r)
{
    if (r->is_mem) {
        size_t w = r->end - r->pos;
        if (w < RD_MEM_WINDOW)
            w = RD_MEM_WINDOW;
        r->end = r->memlen - r->pos > w ? r->pos + w : r->memlen;
        r->eof = r->end == r->memlen;
    } else if (!r->eof && r->end - r->pos < r->cap / 2) {
        memmove(r->own, r->own + r->pos, r->end - r->pos);
        r->end -= r->pos;
        r->pos = 0;
        if (rd_fill(r) < 0)
            return -1;
    }
    return rd_scratch_fit(r);
}

/* The record at pos does not fit in the window and no row of the batch refers
 * to the window: make the window larger.  -1 (fail set) for a record longer
 * than RD_MAX_RECORD or an I/O error. */
static int rd_more(rd_reader *r)
{
    size_t have = r->end - r->pos;
    if (have > RD_MAX_RECORD) {
        r->fail = rd_msg("%s:%llu: record longer than %zu MiB (unterminated quote?)", r->name,
                         (unsigned long long)r->line, RD_MAX_RECORD >> 20);
        return -1;
    }
    if (r->is_mem) {
        size_t w = have * 2 > RD_MAX_WINDOW ? RD_MAX_WINDOW : have * 2;
        if (w < RD_MEM_WINDOW)
            w = RD_MEM_WINDOW;
        r->end = r->memlen - r->pos > w ? r->pos + w : r->memlen;
        r->eof = r->end == r->memlen;
    } else {
        memmove(r->own, r->own + r->pos, have);
        r->end = have;
        r->pos = 0;
        if (r->end == r->cap) {
            size_t n = r->cap * 2 > RD_MAX_WINDOW ? RD_MAX_WINDOW : r->cap * 2;
            char *b = mtcr_xrealloc(r->own, n);
            if (!b) {
                r->fail = rd_msg("out of memory reading '%s'", r->name);
                return -1;
            }
            r->own = b;
            r->buf = b;
            r->cap = n;
        }
        if (rd_fill(r) < 0)
            return -1;
    }
    return rd_scratch_fit(r);
}

/* ---- CSV ---------------------------------------------------------------------- */

/* Bytes that stop the scan of an unquoted cell.  The "selected" table also stops
 * at bytes >= 0x80 so that pure-ASCII cells skip UTF-8 validation. */
static const uint8_t csv_stop_all[256] = {[','] = 1, ['\n'] = 1, ['"'] = 1};
static const uint8_t csv_stop_sel[256] = {[','] = 1, ['\n'] = 1, ['"'] = 1, [0x80 ... 0xFF] = 1};

/* The first byte in [q, e) that is ',', '\n' or '"' (or >= 0x80 when `hi`), or e.
 * Sixteen bytes at a time where the window allows: cells are short, so most
 * scans end in the first block. */
static inline __attribute__((always_inline)) const char *csv_find(const char *q, const char *e, int hi)
{
#ifdef __SSE2__
    const __m128i comma = _mm_set1_epi8(','), nl = _mm_set1_epi8('\n'), quote = _mm_set1_epi8('"');
    while (e - q >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)q);
        __m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, comma), _mm_cmpeq_epi8(v, nl)),
                                 _mm_cmpeq_epi8(v, quote));
        unsigned mask = (unsigned)_mm_movemask_epi8(m);
        if (hi)
            mask |= (unsigned)_mm_movemask_epi8(v);
        if (mask)
            return q + __builtin_ctz(mask);
        q += 16;
    }
#endif
    const uint8_t *stop = hi ? csv_stop_sel : csv_stop_all;
    while (q < e && !stop[(uint8_t)*q])
        q++;
    return q;
}

enum { CSV_E_NONE, CSV_E_STRAY, CSV_E_AFTER, CSV_E_UNTERM };

typedef struct {
    const char *cs, *ce; /* the cell's raw text, inside the quotes if quoted */
    const char *next;    /* first byte after the cell's terminator */
    uint32_t nl;         /* newlines consumed, the terminating one included */
    uint8_t quoted, esc, hi, last, err;
} csv_cellx;

/* Skips to just after the next newline, for recovery after a malformed cell.
 * RD_MORE if the line does not end inside the window. */
static int csv_skip_line(const char *p, const char *e, int eof, csv_cellx *o)
{
    const char *z = memchr(p, '\n', (size_t)(e - p));
    if (!z) {
        if (!eof)
            return RD_MORE;
        o->next = e;
    } else {
        o->next = z + 1;
        o->nl++;
    }
    o->last = 1;
    return RD_OK;
}

static uint32_t csv_count_nl(const char *p, const char *e)
{
    uint32_t n = 0;
    while ((p = memchr(p, '\n', (size_t)(e - p))) != NULL) {
        n++;
        p++;
    }
    return n;
}

/* Scans one cell starting at p (the window ends at e).  RD_MORE when the cell's
 * end is not inside the window and more input may follow.  For a selected cell
 * (`sel`), o->hi tells whether an unquoted cell has bytes >= 0x80. */
static inline __attribute__((always_inline)) int csv_scan(const char *p, const char *e, int eof, int sel,
                                                          csv_cellx *o)
{
    o->nl = 0;
    o->esc = o->hi = o->last = o->err = 0;
    if (p < e && *p == '"') {
        o->quoted = 1;
        const char *q = p + 1;
        o->cs = q;
        for (;;) {
            const char *z = memchr(q, '"', (size_t)(e - q));
            if (!z) {
                if (!eof)
                    return RD_MORE;
                o->ce = e;
                o->next = e;
                o->nl = csv_count_nl(o->cs, e);
                o->last = 1;
                o->err = CSV_E_UNTERM;
                return RD_OK;
            }
            if (z + 1 < e && z[1] == '"') {
                o->esc = 1;
                q = z + 2;
                continue;
            }
            o->ce = z;
            break;
        }
        o->nl = csv_count_nl(o->cs, o->ce);
        const char *a = o->ce + 1;
        if (a == e) {
            if (!eof)
                return RD_MORE;
            o->next = e;
            o->last = 1;
        } else if (*a == ',') {
            o->next = a + 1;
        } else if (*a == '\n') {
            o->next = a + 1;
            o->nl++;
            o->last = 1;
        } else if (*a == '\r' && (a + 1 == e || a[1] == '\n')) {
            if (a + 1 == e) {
                if (!eof)
                    return RD_MORE;
                o->next = e;
            } else {
                o->next = a + 2;
                o->nl++;
            }
            o->last = 1;
        } else {
            o->err = CSV_E_AFTER;
            return csv_skip_line(a, e, eof, o);
        }
        return RD_OK;
    }
    o->quoted = 0;
    o->cs = p;
    const char *q = p;
    int want_hi = sel;
    for (;;) {
        q = csv_find(q, e, want_hi);
        if (q == e) {
            if (!eof)
                return RD_MORE;
            /* the input ends without a line end */
            o->ce = q > p && q[-1] == '\r' ? q - 1 : q;
            o->next = e;
            o->last = 1;
            return RD_OK;
        }
        unsigned char c = (unsigned char)*q;
        if (c == ',') {
            o->ce = q;
            o->next = q + 1;
            return RD_OK;
        }
        if (c == '\n') {
            o->ce = q > p && q[-1] == '\r' ? q - 1 : q;
            o->next = q + 1;
            o->nl = 1;
            o->last = 1;
            return RD_OK;
        }
        if (c == '"') {
            o->ce = q;
            o->err = CSV_E_STRAY;
            return csv_skip_line(q, e, eof, o);
        }
        o->hi = 1;
        want_hi = 0;
        q++;
    }
}

/* Copies a quoted cell's text, turning each "" into ". */
static size_t csv_unescape(char *w, const char *s, const char *e)
{
    char *w0 = w;
    while (s < e) {
        const char *z = memchr(s, '"', (size_t)(e - s));
        if (!z) {
            memcpy(w, s, (size_t)(e - s));
            w += e - s;
            break;
        }
        memcpy(w, s, (size_t)(z - s + 1));
        w += z - s + 1;
        s = z + 2; /* z[1] is the second quote of the pair */
    }
    return (size_t)(w - w0);
}

static const char *csv_err_text(rd_reader *r, int err, size_t col)
{
    switch (err) {
    case CSV_E_STRAY:
        return rd_rowerr(r, "unexpected quote in cell %zu", col + 1);
    case CSV_E_AFTER:
        return rd_rowerr(r, "unexpected text after the closing quote in cell %zu", col + 1);
    default:
        return rd_rowerr(r, "unterminated quote in cell %zu", col + 1);
    }
}

/* Skips blank lines (empty or a lone CR) at pos.  RD_EOF at the end of input,
 * RD_MORE if a CR ends the window. */
static int rd_skip_blank_csv(rd_reader *r)
{
    const char *b = r->buf;
    size_t p = r->pos, e = r->end;
    uint64_t ln = r->line;
    int st = RD_OK;
    for (;;) {
        if (p == e) {
            st = r->eof ? RD_EOF : RD_MORE;
            break;
        }
        if (b[p] == '\n') {
            p++;
            ln++;
            continue;
        }
        if (b[p] == '\r') {
            if (p + 1 == e) {
                if (r->eof) {
                    p++;
                    continue;
                }
                st = RD_MORE;
                break;
            }
            if (b[p + 1] == '\n') {
                p += 2;
                ln++;
                continue;
            }
        }
        break;
    }
    r->pos = p;
    r->line = ln;
    return st;
}

/* Parses one record at pos into `cells` (nsel slots).  On RD_OK pos and line move
 * past it; on RD_MORE nothing is consumed but blank lines. */
#ifdef __SSE2__
/* The fast path of csv_record for a plain line: no '"', no '\r', no byte >= 0x80
 * before its '\n', and the '\n' at least 16 bytes before the window's end.  The
 * line is split at the commas of each 16-byte block (a bit mask, one step per
 * cell) instead of scanning cell by cell; this is most of a screening file.
 * Returns the number of cells and sets *next past the '\n', or 0 when the line is
 * not plain (the general path then reads it; nothing has been written but cells). */
static size_t csv_plain_line(const rd_reader *r, rd_cell *cells, const char *p, const char *e, const char **next)
{
    const __m128i comma = _mm_set1_epi8(','), nl = _mm_set1_epi8('\n'), quote = _mm_set1_epi8('"'),
                  cr = _mm_set1_epi8('\r');
    const int32_t *cmap = r->cmap;
    const size_t nmap = cmap ? r->nhdr : 0;
    size_t col = 0;
    const char *cs = p;
    for (const char *q = p; e - q >= 16; q += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)q);
        unsigned nlm = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, nl));
        unsigned bad = (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, cr))) |
                       (unsigned)_mm_movemask_epi8(v);
        unsigned lim = nlm ? (nlm & (0u - nlm)) - 1 : 0xFFFFu; /* the bytes before the line's end */
        if (bad & lim)
            return 0;
        unsigned cm = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, comma)) & lim;
        for (;;) {
            const char *ce;
            if (cm) {
                ce = q + __builtin_ctz(cm);
                cm &= cm - 1;
            } else if (nlm) {
                ce = q + __builtin_ctz(nlm);
            } else
                break;
            int32_t slot = col < nmap ? cmap[col] : -1;
            if (slot >= 0 && ce > cs)
                cells[slot] = (rd_cell){cs, (uint32_t)(ce - cs), 1, 0};
            col++;
            cs = ce + 1;
            if (*ce == '\n') {
                *next = cs;
                return col;
            }
        }
    }
    return 0;
}
#endif

static int csv_record(rd_reader *r, rd_cell *cells, uint64_t *line, const char **error)
{
    int st = rd_skip_blank_csv(r);
    if (st != RD_OK)
        return st;
#ifdef __SSE2__
    {
        const char *next;
        for (size_t i = 0; i < r->nsel; i++)
            cells[i] = (rd_cell){0};
        size_t ncol = csv_plain_line(r, cells, r->buf + r->pos, r->buf + r->end, &next);
        if (ncol) {
            *line = r->line;
            *error = ncol == r->nhdr ? NULL : rd_rowerr(r, "expected %zu cells, found %zu", r->nhdr, ncol);
            r->line++;
            r->pos = (size_t)(next - r->buf);
            return RD_OK;
        }
    }
#endif
    const char *p = r->buf + r->pos, *e = r->buf + r->end;
    const int eof = r->eof;
    const size_t nmap = r->nhdr, nsel = r->nsel;
    const int32_t *cmap = r->cmap;
    size_t smark = r->sused;
    const char *err = NULL;
    uint64_t nl = 0;
    size_t col = 0;
    csv_cellx c;

    for (size_t i = 0; i < nsel; i++)
        cells[i] = (rd_cell){0};
    for (;;) {
        int32_t slot = col < nmap && cmap ? cmap[col] : -1;
        if (csv_scan(p, e, eof, slot >= 0, &c) == RD_MORE) {
            r->sused = smark;
            return RD_MORE;
        }
        nl += c.nl;
        p = c.next;
        if (c.err) {
            if (!err)
                err = csv_err_text(r, c.err, col);
        } else if (slot >= 0 && c.ce > c.cs) {
            rd_cell *cell = &cells[slot];
            if (c.esc) {
                char *w = r->scratch + r->sused;
                size_t n = csv_unescape(w, c.cs, c.ce);
                r->sused += n;
                cell->p = w;
                cell->len = (uint32_t)n;
            } else {
                cell->p = c.cs;
                cell->len = (uint32_t)(c.ce - c.cs);
            }
            cell->present = 1;
            if ((c.hi || c.quoted) && !val_utf8_valid(cell->p, cell->len) && !err)
                err = rd_rowerr(r, "%.*s: invalid UTF-8", rd_short(r->sel[slot], r->sel_len[slot]),
                                r->sel[slot]);
        }
        col++;
        if (c.last)
            break;
    }
    if (!err && col != r->nhdr)
        err = rd_rowerr(r, "expected %zu cells, found %zu", r->nhdr, col);
    *line = r->line;
    *error = err;
    r->line += nl;
    r->pos = (size_t)(p - r->buf);
    return RD_OK;
}

/* Reads the header row: the first non-blank row.  Duplicate names are kept in the list; rd_select binds a name to its
 * first occurrence. */
static int csv_header(rd_reader *r, char **err)
{
    for (;;) {
        int st = rd_skip_blank_csv(r);
        if (st == RD_EOF)
            return 0;
        if (st == RD_MORE) {
            if (rd_more(r) < 0)
                goto fail;
            continue;
        }
        const char *p = r->buf + r->pos, *e = r->buf + r->end;
        size_t n = 0, ncap = 0, bytes = 0;
        rd_span *names = NULL;
        csv_cellx c;
        uint64_t nl = 0;
        int more = 0;
        r->sused = 0;
        for (;;) {
            if (csv_scan(p, e, r->eof, 0, &c) == RD_MORE) {
                more = 1;
                break;
            }
            if (c.err) {
                mtcr_xfree(names);
                rd_set_err(err, rd_msg("%s:%llu: invalid header: %s", r->name, (unsigned long long)r->line,
                                       c.err == CSV_E_STRAY   ? "unexpected quote"
                                       : c.err == CSV_E_AFTER ? "unexpected text after a closing quote"
                                                              : "unterminated quote"));
                return -1;
            }
            if (n == ncap) {
                ncap = ncap ? ncap * 2 : 32;
                rd_span *nn = mtcr_xrealloc(names, ncap * sizeof *nn);
                if (!nn) {
                    mtcr_xfree(names);
                    goto oom;
                }
                names = nn;
            }
            if (c.esc) {
                char *w = r->scratch + r->sused;
                size_t k = csv_unescape(w, c.cs, c.ce);
                r->sused += k;
                names[n] = (rd_span){w, (uint32_t)k};
            } else {
                names[n] = (rd_span){c.cs, (uint32_t)(c.ce - c.cs)};
            }
            bytes += names[n].len + 1;
            n++;
            nl += c.nl;
            p = c.next;
            if (c.last)
                break;
        }
        if (more) {
            mtcr_xfree(names);
            if (rd_more(r) < 0)
                goto fail;
            continue;
        }
        r->hdr = mtcr_xcalloc(n ? n : 1, sizeof *r->hdr);
        r->hdr_len = mtcr_xcalloc(n ? n : 1, sizeof *r->hdr_len);
        char *blk = r->hdr_blk = mtcr_xmalloc(bytes ? bytes : 1);
        if (!r->hdr || !r->hdr_len || !blk) {
            mtcr_xfree(names);
            goto oom;
        }
        for (size_t i = 0; i < n; i++) {
            memcpy(blk, names[i].p, names[i].len);
            blk[names[i].len] = 0;
            r->hdr[i] = blk;
            r->hdr_len[i] = names[i].len;
            blk += names[i].len + 1;
        }
        r->nhdr = n;
        mtcr_xfree(names);
        r->line += nl;
        r->pos = (size_t)(p - r->buf);
        r->sused = 0;
        return 0;
    }
oom:
    rd_set_err(err, rd_msg("out of memory reading '%s'", r->name));
    return -1;
fail:
    rd_set_err(err, r->fail);
    r->fail = NULL;
    return -1;
}

/* ---- JSON Lines ------------------------------------------------------------------ */

/* Bytes that stop the scan of a JSON string: the closing quote, a backslash, raw
 * control characters (invalid) and, for selected values, bytes >= 0x80. */
static const uint8_t js_stop_all[256] = {[0x00 ... 0x1F] = 1, ['"'] = 1, ['\\'] = 1};
static const uint8_t js_stop_sel[256] = {[0x00 ... 0x1F] = 1, ['"'] = 1, ['\\'] = 1, [0x80 ... 0xFF] = 1};

/* The first byte in [p, e) that is '"', '\\', a control character (or >= 0x80
 * when `hi`), or e. */
static inline __attribute__((always_inline)) const char *js_find(const char *p, const char *e, int hi)
{
#ifdef __SSE2__
    const __m128i quote = _mm_set1_epi8('"'), bs = _mm_set1_epi8('\\'), c1f = _mm_set1_epi8(0x1F);
    while (e - p >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
        __m128i ctl = _mm_cmpeq_epi8(_mm_max_epu8(v, c1f), c1f); /* v <= 0x1F, unsigned */
        __m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bs)), ctl);
        unsigned mask = (unsigned)_mm_movemask_epi8(m);
        if (hi)
            mask |= (unsigned)_mm_movemask_epi8(v);
        if (mask)
            return p + __builtin_ctz(mask);
        p += 16;
    }
#endif
    const uint8_t *stop = hi ? js_stop_sel : js_stop_all;
    while (p < e && !stop[(uint8_t)*p])
        p++;
    return p;
}

static inline int js_is_ws(char c) { return c == ' ' || c == '\t' || c == '\r'; }

static inline const char *js_ws(const char *p, const char *e)
{
    while (p < e && js_is_ws(*p))
        p++;
    return p;
}

static int js_hex4(const char *p, const char *e, uint32_t *out)
{
    if (e - p < 4)
        return -1;
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned char c = (unsigned char)p[i];
        uint32_t d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            d = c - 'A' + 10;
        else
            return -1;
        v = v * 16 + d;
    }
    *out = v;
    return 0;
}

static char *js_put_utf8(char *w, uint32_t cp)
{
    if (cp < 0x80) {
        *w++ = (char)cp;
    } else if (cp < 0x800) {
        *w++ = (char)(0xC0 | (cp >> 6));
        *w++ = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        *w++ = (char)(0xE0 | (cp >> 12));
        *w++ = (char)(0x80 | ((cp >> 6) & 0x3F));
        *w++ = (char)(0x80 | (cp & 0x3F));
    } else {
        *w++ = (char)(0xF0 | (cp >> 18));
        *w++ = (char)(0x80 | ((cp >> 12) & 0x3F));
        *w++ = (char)(0x80 | ((cp >> 6) & 0x3F));
        *w++ = (char)(0x80 | (cp & 0x3F));
    }
    return w;
}

typedef struct {
    const char *p;    /* decoded text (into the window if no escapes, else scratch) */
    uint32_t len;
    uint8_t hi;       /* raw bytes >= 0x80 seen (selected strings only) */
    const char *next; /* after the closing quote; on error, where it was found */
    const char *why;  /* error reason */
} js_str;

/* Scans a JSON string whose opening quote is at p[-1], validating every escape
 * (lone surrogates included); with `decode`, decodes it (into r's scratch if it
 * has escapes).  0, or -1 with o->why and o->next at the offending byte. */
static int js_string(rd_reader *r, const char *p, const char *e, int decode, js_str *o)
{
    const char *run = p;
    char *w0 = NULL, *w = NULL;
    int want_hi = decode;
    o->hi = 0;
    for (;;) {
        p = js_find(p, e, want_hi);
        if (p == e) {
            o->next = p;
            o->why = "unterminated string";
            return -1;
        }
        unsigned char c = (unsigned char)*p;
        if (c == '"') {
            if (w) {
                memcpy(w, run, (size_t)(p - run));
                w += p - run;
                o->p = w0;
                o->len = (uint32_t)(w - w0);
                r->sused += (size_t)(w - w0);
            } else {
                o->p = run;
                o->len = (uint32_t)(p - run);
            }
            o->next = p + 1;
            return 0;
        }
        if (c >= 0x80) {
            o->hi = 1;
            want_hi = 0;
            p++;
            continue;
        }
        if (c < 0x20) {
            o->next = p;
            o->why = "control character in string";
            return -1;
        }
        /* backslash */
        if (decode) {
            if (!w)
                w = w0 = r->scratch + r->sused;
            memcpy(w, run, (size_t)(p - run));
            w += p - run;
        }
        if (p + 1 == e) {
            o->next = p;
            o->why = "unterminated string";
            return -1;
        }
        char d = p[1], out;
        switch (d) {
        case '"': out = '"'; break;
        case '\\': out = '\\'; break;
        case '/': out = '/'; break;
        case 'b': out = '\b'; break;
        case 'f': out = '\f'; break;
        case 'n': out = '\n'; break;
        case 'r': out = '\r'; break;
        case 't': out = '\t'; break;
        case 'u': {
            uint32_t cp, lo;
            if (js_hex4(p + 2, e, &cp) < 0) {
                o->next = p;
                o->why = "invalid \\u escape";
                return -1;
            }
            const char *after = p + 6;
            if (cp >= 0xDC00 && cp <= 0xDFFF) {
                o->next = p;
                o->why = "lone surrogate in \\u escape";
                return -1;
            }
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                if (e - after < 2 || after[0] != '\\' || after[1] != 'u' || js_hex4(after + 2, e, &lo) < 0 ||
                    lo < 0xDC00 || lo > 0xDFFF) {
                    o->next = p;
                    o->why = "lone surrogate in \\u escape";
                    return -1;
                }
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                after += 6;
            }
            if (decode)
                w = js_put_utf8(w, cp);
            p = run = after;
            continue;
        }
        default:
            o->next = p;
            o->why = "invalid escape";
            return -1;
        }
        if (decode)
            *w++ = out;
        p = run = p + 2;
    }
}

/* A JSON number at p; returns its end, or NULL if the syntax is wrong. */
static const char *js_number(const char *p, const char *e)
{
    if (p < e && *p == '-')
        p++;
    if (p < e && *p == '0') {
        p++;
    } else if (p < e && *p >= '1' && *p <= '9') {
        while (p < e && *p >= '0' && *p <= '9')
            p++;
    } else {
        return NULL;
    }
    if (p < e && *p == '.') {
        p++;
        if (p == e || *p < '0' || *p > '9')
            return NULL;
        while (p < e && *p >= '0' && *p <= '9')
            p++;
    }
    if (p < e && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < e && (*p == '+' || *p == '-'))
            p++;
        if (p == e || *p < '0' || *p > '9')
            return NULL;
        while (p < e && *p >= '0' && *p <= '9')
            p++;
    }
    if (p < e && ((*p >= '0' && *p <= '9') || *p == '.' || *p == 'e' || *p == 'E' || *p == '+' || *p == '-'))
        return NULL;
    return p;
}

/* Skips a nested array or object at p (its opening bracket), validating it as
 * JSON.  Returns its end, or NULL with *why and *at. */
static const char *js_skip_nested(rd_reader *r, const char *p, const char *e, const char **why, const char **at)
{
    /* stack of open brackets; its size bounds the depth */
    char stack[512];
    size_t depth = 0;
    /* state: 0 expect value (or close if just opened), 1 expect ',' or close,
     * 2 expect key (object) */
    int expect_value = 1, just_opened = 0;
    for (;;) {
        p = js_ws(p, e);
        if (p == e) {
            *at = p;
            *why = "unexpected end of line";
            return NULL;
        }
        char c = *p;
        if (expect_value) {
            if (just_opened && (c == ']' || c == '}')) {
                if ((c == ']') != (stack[depth - 1] == '[')) {
                    *at = p;
                    *why = "mismatched bracket";
                    return NULL;
                }
                depth--;
                p++;
                if (depth == 0)
                    return p;
                expect_value = 0;
                just_opened = 0;
                continue;
            }
            if (just_opened && stack[depth - 1] == '{') {
                /* first key of an object */
                goto key;
            }
            just_opened = 0;
            if (c == '[' || c == '{') {
                if (depth == sizeof stack) {
                    *at = p;
                    *why = "nesting too deep";
                    return NULL;
                }
                stack[depth++] = c;
                p++;
                just_opened = 1;
                continue;
            }
            if (c == '"') {
                js_str s;
                if (js_string(r, p + 1, e, 0, &s) < 0) {
                    *at = s.next;
                    *why = s.why;
                    return NULL;
                }
                p = s.next;
            } else if (c == 't' && e - p >= 4 && memcmp(p, "true", 4) == 0) {
                p += 4;
            } else if (c == 'f' && e - p >= 5 && memcmp(p, "false", 5) == 0) {
                p += 5;
            } else if (c == 'n' && e - p >= 4 && memcmp(p, "null", 4) == 0) {
                p += 4;
            } else {
                const char *q = js_number(p, e);
                if (!q) {
                    *at = p;
                    *why = "expected a value";
                    return NULL;
                }
                p = q;
            }
            expect_value = 0;
            continue;
        }
        /* after a value */
        if (c == ',') {
            p++;
            if (stack[depth - 1] == '{') {
                p = js_ws(p, e);
                goto key;
            }
            expect_value = 1;
            continue;
        }
        if (c == ']' || c == '}') {
            if ((c == ']') != (stack[depth - 1] == '[')) {
                *at = p;
                *why = "mismatched bracket";
                return NULL;
            }
            depth--;
            p++;
            if (depth == 0)
                return p;
            continue;
        }
        *at = p;
        *why = stack[depth - 1] == '[' ? "expected ',' or ']'" : "expected ',' or '}'";
        return NULL;
    key:
        just_opened = 0;
        if (p == e || *p != '"') {
            *at = p;
            *why = "expected a key";
            return NULL;
        }
        {
            js_str s;
            if (js_string(r, p + 1, e, 0, &s) < 0) {
                *at = s.next;
                *why = s.why;
                return NULL;
            }
            p = js_ws(s.next, e);
        }
        if (p == e || *p != ':') {
            *at = p;
            *why = "expected ':'";
            return NULL;
        }
        p++;
        expect_value = 1;
    }
}

/* memcmp(a, b, n) == 0 for the short strings of keys, without a library call. */
static inline int rd_eq(const char *a, const char *b, size_t n)
{
    while (n >= 8) {
        uint64_t x, y;
        memcpy(&x, a, 8);
        memcpy(&y, b, 8);
        if (x != y)
            return 0;
        a += 8;
        b += 8;
        n -= 8;
    }
    while (n--)
        if (*a++ != *b++)
            return 0;
    return 1;
}

static uint32_t rd_hash(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

static int32_t js_lookup(const rd_reader *r, const char *k, uint32_t n)
{
    if (!r->htab)
        return -1;
    size_t i = rd_hash(k, n) & r->hmask;
    for (;;) {
        const rd_hent *h = &r->htab[i];
        if (!h->name)
            return -1;
        if (h->len == n && memcmp(h->name, k, n) == 0)
            return h->slot;
        i = (i + 1) & r->hmask;
    }
}

static int js_span_cmp(const void *a, const void *b)
{
    const rd_span *x = a, *y = b;
    uint32_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->p, y->p, n);
    if (c)
        return c;
    return x->len < y->len ? -1 : x->len > y->len;
}

/* Records the k-th key of the current record; -1 on out of memory. */
static int js_key_push(rd_reader *r, size_t k, const char *p, uint32_t n)
{
    if (k == r->kcap) {
        size_t c = r->kcap ? r->kcap * 2 : 64;
        rd_span *a = mtcr_xrealloc(r->keys, c * sizeof *a);
        if (!a)
            return -1;
        r->keys = a;
        rd_span *b = mtcr_xrealloc(r->ksort, c * sizeof *b);
        if (!b)
            return -1;
        r->ksort = b;
        r->kcap = c;
    }
    r->keys[k] = (rd_span){p, n};
    return 0;
}

/* Skips blank (whitespace-only) lines at pos. */
static int rd_skip_blank_js(rd_reader *r)
{
    const char *b = r->buf;
    size_t p = r->pos, e = r->end;
    uint64_t ln = r->line;
    for (;;) {
        size_t q = p;
        while (q < e && js_is_ws(b[q]))
            q++;
        if (q == e) {
            r->pos = p;
            r->line = ln;
            if (!r->eof)
                return RD_MORE;
            r->pos = e;
            return RD_EOF;
        }
        if (b[q] != '\n') {
            r->pos = p;
            r->line = ln;
            return RD_OK;
        }
        p = q + 1;
        ln++;
    }
}

/* Parses one JSON Lines record at pos into `cells`.  The keys of the record are
 * left in r->keys (count in *nkeys) for the header.  Same return values as
 * csv_record. */
static int js_record(rd_reader *r, rd_cell *cells, uint64_t *line, const char **error, size_t *nkeys)
{
    int st = rd_skip_blank_js(r);
    if (st != RD_OK)
        return st;
    const char *b = r->buf + r->pos, *e0 = r->buf + r->end;
    const char *e = memchr(b, '\n', (size_t)(e0 - b));
    const char *next;
    if (e) {
        next = e + 1;
    } else {
        if (!r->eof)
            return RD_MORE;
        e = next = e0;
    }
    const size_t nsel = r->nsel;
    const char *err = NULL;
    const char *why = NULL, *at = NULL;
    int fast = 1;   /* every key so far is the header's key at the same position */
    int nested = 0; /* err is about a nested value, which a syntax error outranks */
    size_t k = 0;
    const char *p = b;

    for (size_t i = 0; i < nsel; i++)
        cells[i] = (rd_cell){0};
    p = js_ws(p, e);
    if (*p != '{') {
        err = "the line is not a JSON object";
        goto done;
    }
    p = js_ws(p + 1, e);
    if (p < e && *p == '}') {
        p++;
        goto tail;
    }
    for (;; k++) {
        if (p == e || *p != '"') {
            at = p;
            why = "expected a key";
            goto bad;
        }
        js_str ks;
        int32_t slot;
        size_t hl = k < r->nhdr ? r->hdr_len[k] : 0;
        if (fast && k < r->nhdr && r->hdr_plain[k] && (size_t)(e - p) > hl + 1 && p[1 + hl] == '"' &&
            rd_eq(p + 1, r->hdr[k], hl)) {
            /* the expected key, written without escapes: no need to scan it */
            ks.p = p + 1;
            ks.len = (uint32_t)hl;
            ks.next = p + 2 + hl;
            slot = r->cmap ? r->cmap[k] : -1;
        } else {
            if (js_string(r, p + 1, e, 1, &ks) < 0) {
                at = ks.next;
                why = ks.why;
                goto bad;
            }
            if (fast && k < r->nhdr && hl == ks.len && rd_eq(r->hdr[k], ks.p, ks.len)) {
                slot = r->cmap ? r->cmap[k] : -1;
            } else {
                fast = 0;
                slot = js_lookup(r, ks.p, ks.len);
            }
        }
        if (js_key_push(r, k, ks.p, ks.len) < 0) {
            err = "out of memory";
            goto done;
        }
        p = js_ws(ks.next, e);
        if (p == e || *p != ':') {
            at = p;
            why = "expected ':'";
            goto bad;
        }
        p = js_ws(p + 1, e);
        if (p == e) {
            at = p;
            why = "expected a value";
            goto bad;
        }
        rd_cell *cell = slot >= 0 ? &cells[slot] : NULL;
        switch (*p) {
        case '"': {
            js_str vs;
            if (js_string(r, p + 1, e, cell != NULL, &vs) < 0) {
                at = vs.next;
                why = vs.why;
                goto bad;
            }
            p = vs.next;
            if (cell && vs.len) {
                cell->p = vs.p;
                cell->len = vs.len;
                cell->present = 1;
                cell->json_string = 1;
                if (vs.hi && !val_utf8_valid(vs.p, vs.len) && !err)
                    err = rd_rowerr(r, "%.*s: invalid UTF-8", rd_short(r->sel[slot], r->sel_len[slot]),
                                    r->sel[slot]);
            } else if (cell) {
                *cell = (rd_cell){0};
            }
            break;
        }
        case 't':
        case 'f':
        case 'n': {
            const char *lit = *p == 't' ? "true" : *p == 'f' ? "false" : "null";
            size_t n = strlen(lit);
            if ((size_t)(e - p) < n || memcmp(p, lit, n) != 0 ||
                ((size_t)(e - p) > n && (unsigned char)p[n] >= 'a' && (unsigned char)p[n] <= 'z')) {
                at = p;
                why = "expected a value";
                goto bad;
            }
            if (cell) {
                if (*p == 'n')
                    *cell = (rd_cell){0};
                else
                    *cell = (rd_cell){.p = p, .len = (uint32_t)n, .present = 1};
            }
            p += n;
            break;
        }
        case '[':
        case '{': {
            if (!err) {
                err = rd_rowerr(r, "%.*s: arrays and objects are not allowed", rd_short(ks.p, ks.len), ks.p);
                nested = 1;
            }
            const char *q = js_skip_nested(r, p, e, &why, &at);
            if (!q)
                goto bad;
            if (cell)
                *cell = (rd_cell){0};
            p = q;
            break;
        }
        default: {
            const char *q = js_number(p, e);
            if (!q) {
                at = p;
                why = "expected a value";
                goto bad;
            }
            if (cell)
                *cell = (rd_cell){.p = p, .len = (uint32_t)(q - p), .present = 1};
            p = q;
            break;
        }
        }
        p = js_ws(p, e);
        if (p < e && *p == ',') {
            p = js_ws(p + 1, e);
            continue;
        }
        if (p < e && *p == '}') {
            p++;
            k++;
            break;
        }
        at = p;
        why = "expected ',' or '}'";
        goto bad;
    }
tail:
    p = js_ws(p, e);
    if (p != e) {
        at = p;
        why = "unexpected text after the object";
        goto bad;
    }
    if (!fast && k > 1 && !err) {
        memcpy(r->ksort, r->keys, k * sizeof *r->keys);
        qsort(r->ksort, k, sizeof *r->ksort, js_span_cmp);
        for (size_t i = 1; i < k; i++)
            if (js_span_cmp(&r->ksort[i - 1], &r->ksort[i]) == 0) {
                err = rd_rowerr(r, "duplicate key '%.*s'", rd_short(r->ksort[i].p, r->ksort[i].len),
                                r->ksort[i].p);
                break;
            }
    }
    goto done;
bad:
    if (!err || nested)
        err = rd_rowerr(r, "invalid JSON at column %zu: %s", (size_t)(at - b) + 1, why);
done:
    if (nkeys)
        *nkeys = k;
    *line = r->line;
    *error = err;
    r->line++;
    r->pos = (size_t)(next - r->buf);
    return RD_OK;
}

/* The header of JSON Lines: the keys of the first object, duplicates dropped.  The
 * record itself is not consumed. */
static int js_header(rd_reader *r, char **err)
{
    /* Lines that yield no key (not an object, or broken before the first key) are
     * passed over: they are still read, and rejected, by rd_read_batch.  The header
     * is the keys of the first line that has some. */
    size_t start = r->pos, skip = 0;
    uint64_t start_line = r->line, skip_lines = 0;
    for (;;) {
        r->pos = start + skip;
        r->line = start_line + skip_lines;
        uint64_t l;
        const char *e = NULL;
        size_t nk = 0;
        r->sused = 0;
        int st = js_record(r, NULL, &l, &e, &nk);
        if (st == RD_EOF) {
            r->seen_records = skip > 0;
            r->pos = start;
            r->line = start_line;
            return 0;
        }
        if (st == RD_MORE) {
            r->pos = start; /* keep the passed-over lines in the window */
            if (rd_more(r) < 0) {
                rd_set_err(err, r->fail);
                r->fail = NULL;
                return -1;
            }
            start = r->pos;
            continue;
        }
        if (e && nk == 0) { /* not an object (or broken before its first key) */
            skip = r->pos - start;
            skip_lines = r->line - start_line;
            continue;
        }
        r->seen_records = 1;
        r->pos = start;
        r->line = start_line;
        size_t bytes = 0;
        for (size_t i = 0; i < nk; i++)
            bytes += r->keys[i].len + 1;
        r->hdr = mtcr_xcalloc(nk ? nk : 1, sizeof *r->hdr);
        r->hdr_len = mtcr_xcalloc(nk ? nk : 1, sizeof *r->hdr_len);
        r->hdr_plain = mtcr_xcalloc(nk ? nk : 1, 1);
        char *blk = r->hdr_blk = mtcr_xmalloc(bytes ? bytes : 1);
        if (!r->hdr || !r->hdr_len || !r->hdr_plain || !blk) {
            rd_set_err(err, rd_msg("out of memory reading '%s'", r->name));
            return -1;
        }
        /* a set of the names kept so far, so that a huge first object stays linear */
        size_t hsize = 16;
        while (hsize < 2 * nk)
            hsize *= 2;
        size_t *seen = mtcr_xcalloc(hsize, sizeof *seen); /* index + 1; 0 = empty */
        if (!seen) {
            rd_set_err(err, rd_msg("out of memory reading '%s'", r->name));
            return -1;
        }
        size_t n = 0;
        for (size_t i = 0; i < nk; i++) {
            const rd_span *k = &r->keys[i];
            size_t h = rd_hash(k->p, k->len) & (hsize - 1);
            while (seen[h] && !(r->hdr_len[seen[h] - 1] == k->len && memcmp(r->hdr[seen[h] - 1], k->p, k->len) == 0))
                h = (h + 1) & (hsize - 1);
            if (seen[h])
                continue;
            seen[h] = n + 1;
            memcpy(blk, k->p, k->len);
            blk[k->len] = 0;
            r->hdr[n] = blk;
            r->hdr_len[n] = k->len;
            r->hdr_plain[n] = 1;
            for (size_t c = 0; c < k->len; c++)
                if (k->p[c] == '"' || k->p[c] == '\\' || (unsigned char)k->p[c] < 0x20)
                    r->hdr_plain[n] = 0;
            blk += k->len + 1;
            n++;
        }
        mtcr_xfree(seen);
        r->nhdr = n;
        r->sused = 0;
        ar_reset(&r->errs);
        return 0;
    }
}

/* ---- opening ------------------------------------------------------------------ */

static int rd_name_is_json(const char *name)
{
    size_t n = strlen(name);
    if (n >= 3 && strcmp(name + n - 3, ".gz") == 0)
        n -= 3;
    static const char *const ext[] = {".jsonl", ".ndjson", ".json"};
    for (size_t i = 0; i < 3; i++) {
        size_t m = strlen(ext[i]);
        if (n >= m && strncmp(name + n - m, ext[i], m) == 0)
            return 1;
    }
    return 0;
}

/* RD_AUTO: the first byte that is not whitespace decides. */
static int rd_sniff(rd_reader *r, rd_format *fmt)
{
    for (;;) {
        size_t p = r->pos;
        while (p < r->end && (js_is_ws(r->buf[p]) || r->buf[p] == '\n'))
            p++;
        if (p < r->end) {
            *fmt = r->buf[p] == '{' ? RD_JSONL : RD_CSV;
            return 0;
        }
        if (r->eof) {
            *fmt = RD_CSV;
            return 0;
        }
        if (rd_more(r) < 0)
            return -1;
    }
}

static rd_reader *rd_new(const char *name, char **err)
{
    rd_reader *r = mtcr_xcalloc(1, sizeof *r);
    if (!r || !(r->name = mtcr_xmalloc(strlen(name) + 1))) {
        mtcr_xfree(r);
        rd_set_err(err, rd_msg("out of memory opening '%s'", name));
        return NULL;
    }
    strcpy(r->name, name);
    r->line = 1;
    ar_init(&r->errs, 4096);
    return r;
}

/* Common to both opens once the first window is available (a full buffer or the
 * whole input, so at least 3 bytes unless the input is shorter).  A UTF-8 BOM
 * is dropped in both formats. */
static rd_reader *rd_start(rd_reader *r, rd_format fmt, char **err)
{
    if (r->end - r->pos >= 3 && memcmp(r->buf + r->pos, "\xEF\xBB\xBF", 3) == 0)
        r->pos += 3;
    if (fmt == RD_AUTO) {
        if (rd_name_is_json(r->name)) {
            fmt = RD_JSONL;
        } else if (rd_sniff(r, &fmt) < 0) {
            rd_set_err(err, r->fail);
            r->fail = NULL;
            rd_close(r);
            return NULL;
        }
    }
    r->fmt = fmt;
    if (rd_scratch_fit(r) < 0) {
        rd_set_err(err, r->fail);
        r->fail = NULL;
        rd_close(r);
        return NULL;
    }
    if (fmt == RD_JSONL) {
        if (js_header(r, err) < 0) {
            rd_close(r);
            return NULL;
        }
    } else if (csv_header(r, err) < 0) {
        rd_close(r);
        return NULL;
    }
    return r;
}

rd_reader *rd_open_mem(const char *name, const char *data, size_t len, rd_format fmt, char **err)
{
    if (err)
        *err = NULL;
    rd_reader *r = rd_new(name ? name : "<memory>", err);
    if (!r)
        return NULL;
    r->is_mem = 1;
    r->buf = data ? data : "";
    r->memlen = data ? len : 0;
    r->end = r->memlen > RD_MEM_WINDOW ? RD_MEM_WINDOW : r->memlen;
    r->eof = r->end == r->memlen;
    return rd_start(r, fmt, err);
}

rd_reader *rd_open(const char *path, rd_format fmt, char **err)
{
    if (err)
        *err = NULL;
    int fd;
    if (strcmp(path, "-") == 0) {
        /* gzclose closes its descriptor; standard input stays open for the host */
        fd = dup(0);
    } else {
        fd = open(path, O_RDONLY | O_CLOEXEC);
    }
    if (fd < 0) {
        rd_set_err(err, rd_msg("cannot open '%s': %s", path, strerror(errno)));
        return NULL;
    }
    rd_reader *r = rd_new(path, err);
    if (!r) {
        close(fd);
        return NULL;
    }
    r->gz = gzdopen(fd, "rb");
    r->own = mtcr_xmalloc(RD_FILE_BUF);
    if (!r->gz || !r->own) {
        if (!r->gz)
            close(fd);
        rd_set_err(err, rd_msg("out of memory opening '%s'", path));
        rd_close(r);
        return NULL;
    }
    gzbuffer(r->gz, 1u << 20);
    r->buf = r->own;
    r->cap = RD_FILE_BUF;
    if (rd_fill(r) < 0) {
        rd_set_err(err, r->fail);
        r->fail = NULL;
        rd_close(r);
        return NULL;
    }
    return rd_start(r, fmt, err);
}

rd_format rd_get_format(const rd_reader *r) { return r->fmt; }
const char *rd_name(const rd_reader *r) { return r->name; }
size_t rd_ncolumns(const rd_reader *r) { return r->nhdr; }
int rd_has_records(const rd_reader *r) { return r->fmt == RD_JSONL ? r->seen_records : r->nhdr > 0; }
const char *rd_column(const rd_reader *r, size_t i) { return i < r->nhdr ? r->hdr[i] : NULL; }

/* ---- projection ------------------------------------------------------------------- */

static void rd_free_sel(rd_reader *r)
{
    mtcr_xfree(r->sel_blk);
    r->sel_blk = NULL;
    mtcr_xfree(r->sel);
    mtcr_xfree(r->sel_len);
    mtcr_xfree(r->cmap);
    mtcr_xfree(r->dupsrc);
    mtcr_xfree(r->htab);
    r->sel = NULL;
    r->sel_len = NULL;
    r->cmap = NULL;
    r->dupsrc = NULL;
    r->htab = NULL;
    r->nsel = r->ndup = 0;
}

/* A name selected twice fills both slots from the same cell; a header name that
 * occurs twice binds to its first occurrence (the later columns are skipped). */
int rd_select(rd_reader *r, size_t n, const char *const *names)
{
    rd_free_sel(r);
    size_t bytes = 0;
    for (size_t i = 0; i < n; i++)
        bytes += strlen(names[i]) + 1;
    size_t hsize = 8;
    while (hsize < 2 * n)
        hsize *= 2;
    r->sel = mtcr_xcalloc(n ? n : 1, sizeof *r->sel);
    r->sel_len = mtcr_xcalloc(n ? n : 1, sizeof *r->sel_len);
    r->dupsrc = mtcr_xcalloc(n ? n : 1, sizeof *r->dupsrc);
    r->cmap = mtcr_xcalloc(r->nhdr ? r->nhdr : 1, sizeof *r->cmap);
    r->htab = mtcr_xcalloc(hsize, sizeof *r->htab);
    char *blk = r->sel_blk = mtcr_xmalloc(bytes ? bytes : 1);
    if (!r->sel || !r->sel_len || !r->dupsrc || !r->cmap || !r->htab || !blk) {
        rd_free_sel(r);
        return -1;
    }
    r->hmask = hsize - 1;
    for (size_t j = 0; j < r->nhdr; j++)
        r->cmap[j] = -1;
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(names[i]);
        memcpy(blk, names[i], len + 1);
        r->sel[i] = blk;
        r->sel_len[i] = (uint32_t)len;
        blk += len + 1;
        int32_t prev = js_lookup(r, r->sel[i], (uint32_t)len);
        r->dupsrc[i] = prev;
        if (prev >= 0) {
            r->ndup++;
            continue;
        }
        size_t h = rd_hash(r->sel[i], len) & r->hmask;
        while (r->htab[h].name)
            h = (h + 1) & r->hmask;
        r->htab[h] = (rd_hent){r->sel[i], (uint32_t)len, (int32_t)i};
        for (size_t j = 0; j < r->nhdr; j++)
            if (r->hdr_len[j] == len && memcmp(r->hdr[j], r->sel[i], len) == 0) {
                r->cmap[j] = (int32_t)i;
                break;
            }
    }
    r->nsel = n;
    return 0;
}

/* ---- batches ------------------------------------------------------------------------ */

static int rd_batch_fit(rd_reader *r, size_t max)
{
    if (max > r->rows_cap) {
        uint64_t *l = mtcr_xrealloc(r->lines, max * sizeof *l);
        if (!l)
            return -1;
        r->lines = l;
        const char **e = mtcr_xrealloc(r->errors, max * sizeof *e);
        if (!e)
            return -1;
        r->errors = e;
        r->rows_cap = max;
    }
    if (r->nsel && max > SIZE_MAX / sizeof(rd_cell) / r->nsel)
        return -1;
    size_t nc = max * r->nsel;
    if (nc > r->cells_cap) {
        rd_cell *c = mtcr_xrealloc(r->cells, nc * sizeof *c);
        if (!c)
            return -1;
        r->cells = c;
        r->cells_cap = nc;
    }
    return 0;
}

long rd_read_batch(rd_reader *r, rd_batch *b, size_t max, char **err)
{
    if (err)
        *err = NULL;
    b->nrows = 0;
    b->ncols = r->nsel;
    b->cells = r->cells;
    b->line = r->lines;
    b->error = r->errors;
    if (r->fail) {
        rd_set_err(err, rd_msg("%s", r->fail));
        return -1;
    }
    if (max > LONG_MAX)
        max = LONG_MAX;
    if (rd_batch_fit(r, max) < 0) {
        rd_set_err(err, rd_msg("out of memory reading '%s'", r->name));
        return -1;
    }
    ar_reset(&r->errs);
    r->sused = 0;
    if (rd_prepare(r) < 0) {
        rd_set_err(err, rd_msg("%s", r->fail));
        return -1;
    }
    const size_t nsel = r->nsel;
    const int jsonl = r->fmt == RD_JSONL;
    size_t n = 0;
    while (n < max) {
        rd_cell *cells = r->cells + n * nsel;
        int st = jsonl ? js_record(r, cells, &r->lines[n], &r->errors[n], NULL)
                       : csv_record(r, cells, &r->lines[n], &r->errors[n]);
        if (st == RD_OK) {
            if (r->ndup)
                for (size_t i = 0; i < nsel; i++)
                    if (r->dupsrc[i] >= 0)
                        cells[i] = cells[r->dupsrc[i]];
            n++;
            continue;
        }
        if (st == RD_EOF)
            break;
        /* RD_MORE: the rows read so far pin the window; only an empty batch may grow it */
        if (n > 0)
            break;
        r->sused = 0;
        if (rd_more(r) < 0) {
            rd_set_err(err, rd_msg("%s", r->fail));
            return -1;
        }
    }
    b->nrows = n;
    b->cells = r->cells;
    b->line = r->lines;
    b->error = r->errors;
    return (long)n;
}

void rd_close(rd_reader *r)
{
    if (!r)
        return;
    if (r->gz)
        gzclose_r(r->gz);
    rd_free_sel(r);
    mtcr_xfree(r->hdr_blk);
    mtcr_xfree(r->hdr_plain);
    mtcr_xfree(r->hdr);
    mtcr_xfree(r->hdr_len);
    mtcr_xfree(r->own);
    mtcr_xfree(r->cells);
    mtcr_xfree(r->lines);
    mtcr_xfree(r->errors);
    mtcr_xfree(r->scratch);
    mtcr_xfree(r->keys);
    mtcr_xfree(r->ksort);
    mtcr_xfree(r->fail);
    ar_free(&r->errs);
    mtcr_xfree(r->name);
    mtcr_xfree(r);
}
