/* test_reader.c — CSV and JSON Lines readers: every input rule of SPEC section 4,
 * batches split across buffer boundaries, gzip, and the error paths. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <zlib.h>

#include "include/mtcr.h"
#include "runtime/arena.h"
#include "runtime/reader.h"

/* ---- helpers ---------------------------------------------------------------------- */

/* A growable text buffer for building inputs and collecting results. */
typedef struct {
    char *s;
    size_t n, cap;
} sbuf;

static void sb_addn(sbuf *b, const char *s, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        b->cap = (b->n + n + 1) * 2;
        b->s = realloc(b->s, b->cap);
        assert_non_null(b->s);
    }
    memcpy(b->s + b->n, s, n);
    b->n += n;
    b->s[b->n] = 0;
}

static void sb_add(sbuf *b, const char *s) { sb_addn(b, s, strlen(s)); }

static void sb_printf(sbuf *b, const char *fmt, ...)
{
    char tmp[4096];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    assert_true(n >= 0 && (size_t)n < sizeof tmp);
    sb_addn(b, tmp, (size_t)n);
}

/* One row rendered as text: "LINE 'cell' - 'cell'" with "-" for a missing cell,
 * a "!error!" after the line number when the row is bad, and a "$" after a cell
 * that was a JSON string. */
static void render_row(sbuf *out, const rd_batch *b, size_t r)
{
    sb_printf(out, "%llu", (unsigned long long)b->line[r]);
    if (b->error[r])
        sb_printf(out, " !%s!", b->error[r]);
    for (size_t c = 0; c < b->ncols; c++) {
        const rd_cell *cell = &b->cells[r * b->ncols + c];
        if (!cell->present) {
            assert_null(cell->p);
            assert_int_equal(cell->len, 0);
            sb_add(out, " -");
        } else {
            assert_non_null(cell->p);
            assert_true(cell->len > 0);
            sb_add(out, " '");
            sb_addn(out, cell->p, cell->len);
            sb_add(out, cell->json_string ? "'$" : "'");
        }
    }
}

/* Reads every row of r in batches of `max`, one rendered row per output line. */
static char *read_all(rd_reader *r, size_t max)
{
    sbuf out = {0};
    sb_add(&out, "");
    rd_batch b;
    long n;
    char *err = NULL;
    while ((n = rd_read_batch(r, &b, max, &err)) > 0) {
        assert_true((size_t)n <= max);
        assert_int_equal(b.nrows, (size_t)n);
        for (size_t i = 0; i < b.nrows; i++) {
            render_row(&out, &b, i);
            sb_add(&out, "\n");
        }
    }
    if (n < 0) {
        sb_printf(&out, "FAIL %s\n", err ? err : "(no message)");
        mtcr_xfree(err);
    } else {
        assert_null(err);
        /* end of input is sticky */
        assert_int_equal(rd_read_batch(r, &b, max, &err), 0);
    }
    return out.s;
}

static rd_reader *open_mem(const char *data, size_t len, rd_format fmt)
{
    char *err = NULL;
    rd_reader *r = rd_open_mem("t", data, len, fmt, &err);
    if (!r)
        fail_msg("open failed: %s", err ? err : "?");
    assert_null(err);
    return r;
}

/* Opens `data` as `fmt`, selects `names` (comma-separated, "" for none) and
 * returns every row rendered, read with batches of `max`. */
static char *run(const char *data, rd_format fmt, const char *names, size_t max)
{
    rd_reader *r = open_mem(data, strlen(data), fmt);
    const char *v[64];
    char buf[1024];
    size_t n = 0;
    snprintf(buf, sizeof buf, "%s", names);
    for (char *s = buf; *names && s; n++) {
        v[n] = s;
        s = strchr(s, ',');
        if (s)
            *s++ = 0;
    }
    assert_int_equal(rd_select(r, n, v), 0);
    char *out = read_all(r, max);
    rd_close(r);
    return out;
}

#define CHECK(data, fmt, names, expected)                 \
    do {                                                  \
        char *got_ = run((data), (fmt), (names), 1000);   \
        assert_string_equal(got_, (expected));            \
        free(got_);                                       \
        got_ = run((data), (fmt), (names), 1);            \
        assert_string_equal(got_, (expected));            \
        free(got_);                                       \
    } while (0)

static char *tmp_path(const char *suffix)
{
    static int seq;
    char *p = malloc(256);
    snprintf(p, 256, "/tmp/test_reader_%d_%d%s", (int)getpid(), seq++, suffix);
    return p;
}

static void write_file(const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static void write_gz(const char *path, const char *data, size_t len)
{
    gzFile g = gzopen(path, "wb6");
    assert_non_null(g);
    size_t off = 0;
    while (off < len) {
        unsigned chunk = len - off > (1u << 20) ? (1u << 20) : (unsigned)(len - off);
        assert_int_equal(gzwrite(g, data + off, chunk), (int)chunk);
        off += chunk;
    }
    assert_int_equal(gzclose(g), Z_OK);
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    sbuf b = {0};
    char tmp[65536];
    size_t n;
    sb_add(&b, "");
    while ((n = fread(tmp, 1, sizeof tmp, f)) > 0)
        sb_addn(&b, tmp, n);
    fclose(f);
    *len = b.n;
    return b.s;
}

/* ---- CSV ----------------------------------------------------------------------------- */

static void csv_basic_projection(void **st)
{
    (void)st;
    const char *in = "id,name,qty\nA1,Alpha,3\nA2,Beta,40\n";
    rd_reader *r = open_mem(in, strlen(in), RD_CSV);
    assert_int_equal(rd_get_format(r), RD_CSV);
    assert_string_equal(rd_name(r), "t");
    assert_int_equal(rd_ncolumns(r), 3);
    assert_string_equal(rd_column(r, 0), "id");
    assert_string_equal(rd_column(r, 1), "name");
    assert_string_equal(rd_column(r, 2), "qty");
    assert_null(rd_column(r, 3));
    rd_close(r);
    /* selection order differs from the header; 'range' is not in the header */
    CHECK(in, RD_CSV, "qty,range,id", "2 '3' - 'A1'\n3 '40' - 'A2'\n");
    /* no selection: rows are still counted */
    CHECK(in, RD_CSV, "", "2\n3\n");
}

static void csv_bom_crlf(void **st)
{
    (void)st;
    const char *in = "\xEF\xBB\xBFid,v\r\n1,a\r\n2,\r\n3,c";
    rd_reader *r = open_mem(in, strlen(in), RD_AUTO);
    assert_int_equal(rd_get_format(r), RD_CSV);
    assert_string_equal(rd_column(r, 0), "id");
    assert_string_equal(rd_column(r, 1), "v");
    rd_close(r);
    CHECK(in, RD_CSV, "id,v", "2 '1' 'a'\n3 '2' -\n4 '3' 'c'\n");
    /* a quoted last cell before CRLF, and a file ending in a bare CR */
    CHECK("id,v\r\n1,\"x\"\r\n2,y\r", RD_CSV, "v,id", "2 'x' '1'\n3 'y' '2'\n");
}

static void csv_quoting(void **st)
{
    (void)st;
    const char *in = "id,text,n\n"
                     "1,\"a, b\",2\n"
                     "2,\"say \"\"hi\"\"\",3\n"
                     "3,\"two\nlines\",4\n"
                     "4,\"crlf\r\ninside\",5\n"
                     "5,\"\"\"\",6\n"
                     "6,\"\",7\n"
                     "7,\"\"\"a,\"\"\nb\"\"\",8\n"
                     "8,plain,\"9\"\n";
    CHECK(in, RD_CSV, "id,text,n",
          "2 '1' 'a, b' '2'\n"
          "3 '2' 'say \"hi\"' '3'\n"
          "4 '3' 'two\nlines' '4'\n"
          "6 '4' 'crlf\r\ninside' '5'\n"
          "8 '5' '\"' '6'\n"
          "9 '6' - '7'\n"
          "10 '7' '\"a,\"\nb\"' '8'\n"
          "12 '8' 'plain' '9'\n");
    /* quoted header names with escapes */
    rd_reader *r = open_mem("\"a,b\",\"c\"\"d\"\n1,2\n", 17, RD_CSV);
    assert_int_equal(rd_ncolumns(r), 2);
    assert_string_equal(rd_column(r, 0), "a,b");
    assert_string_equal(rd_column(r, 1), "c\"d");
    rd_close(r);
}

static void csv_blank_lines_and_empty_cells(void **st)
{
    (void)st;
    const char *in = "\n"
                     "id,a,b\n"
                     "\n"
                     "1,,x\n"
                     "\r\n"
                     "\n"
                     "2, y ,\n"
                     "3,\"\",\t\n"
                     "\n\n";
    CHECK(in, RD_CSV, "id,a,b", "4 '1' - 'x'\n7 '2' ' y ' -\n8 '3' - '\t'\n");
    /* a line of spaces is not blank: it is a row with one cell */
    CHECK("id,a\n  \n1,2\n", RD_CSV, "id,a", "2 !expected 2 cells, found 1! '  ' -\n3 '1' '2'\n");
}

static void csv_wrong_cell_count(void **st)
{
    (void)st;
    const char *in = "id,a,b\n1,x\n2,x,y,z\n3,p,q\n4\n";
    CHECK(in, RD_CSV, "id,b",
          "2 !expected 3 cells, found 2! '1' -\n"
          "3 !expected 3 cells, found 4! '2' 'y'\n"
          "4 '3' 'q'\n"
          "5 !expected 3 cells, found 1! '4' -\n");
    /* a single-column file: a trailing comma makes two cells */
    CHECK("id\nA\nB,\n", RD_CSV, "id", "2 'A'\n3 !expected 1 cells, found 2! 'B'\n");
}

static void csv_quote_errors(void **st)
{
    (void)st;
    const char *in = "id,a,b\n"
                     "1,ab\"c,x\n"
                     "2,\"ab\"c,x\n"
                     "3,ok,y\n"
                     "4,\"ab\" ,x\n"
                     "5,z,\"unterminated\nmore\n";
    CHECK(in, RD_CSV, "id,a,b",
          "2 !unexpected quote in cell 2! '1' - -\n"
          "3 !unexpected text after the closing quote in cell 2! '2' - -\n"
          "4 '3' 'ok' 'y'\n"
          "5 !unexpected text after the closing quote in cell 2! '4' - -\n"
          "6 !unterminated quote in cell 3! '5' 'z' -\n");
    /* a bad header fails the open */
    char *err = NULL;
    assert_null(rd_open_mem("h.csv", "id,a\"b\n1,2\n", 11, RD_CSV, &err));
    assert_non_null(err);
    assert_string_equal(err, "h.csv:1: invalid header: unexpected quote");
    mtcr_xfree(err);
}

static void csv_invalid_utf8(void **st)
{
    (void)st;
    const char *in = "id,name,note\n"
                     "1,Ma\xC3\xAFs,\xFF\n"
                     "2,bad\xC3(,x\n"
                     "3,\"q\xE2\x82\",x\n"
                     "4,\"\xE2\x82\xAC, ok\",x\n"
                     "5,\xED\xA0\x80,x\n";
    /* 'note' is not selected: its invalid byte is not an error */
    CHECK(in, RD_CSV, "id,name",
          "2 '1' 'Ma\xC3\xAFs'\n"
          "3 !name: invalid UTF-8! '2' 'bad\xC3('\n"
          "4 !name: invalid UTF-8! '3' 'q\xE2\x82'\n"
          "5 '4' '\xE2\x82\xAC, ok'\n"
          "6 !name: invalid UTF-8! '5' '\xED\xA0\x80'\n");
}

static void csv_empty_and_header_only(void **st)
{
    (void)st;
    CHECK("", RD_CSV, "id", "");
    CHECK("", RD_AUTO, "id", "");
    CHECK("id,a\n", RD_CSV, "id", "");
    CHECK("id,a", RD_CSV, "id", "");
    CHECK("id,a\r\n\r\n\n", RD_CSV, "id", "");
    CHECK("\xEF\xBB\xBF", RD_CSV, "id", "");
    rd_reader *r = open_mem("", 0, RD_CSV);
    assert_int_equal(rd_ncolumns(r), 0);
    rd_close(r);
    r = open_mem(NULL, 0, RD_AUTO);
    assert_int_equal(rd_ncolumns(r), 0);
    rd_close(r);
}

static void csv_duplicate_names(void **st)
{
    (void)st;
    /* duplicate header name: the first occurrence wins */
    CHECK("id,v,v\n1,first,second\n", RD_CSV, "v,id", "2 'first' '1'\n");
    /* the same name selected twice fills both slots */
    CHECK("id,v\n1,x\n", RD_CSV, "v,id,v", "2 'x' '1' 'x'\n");
    /* header names match exactly: no trimming, case matters */
    CHECK("id, v,V\n1,a,b\n", RD_CSV, "v,V, v", "2 - 'b' 'a'\n");
}

/* Rows with varied shapes, some spanning lines; returns the input and the
 * expected rendering for selection "id,text,n". */
static void gen_csv(size_t rows, sbuf *in, sbuf *want)
{
    sb_add(in, "pad1,id,pad2,text,n,pad3\n");
    sb_add(want, "");
    uint64_t line = 2;
    for (size_t i = 0; i < rows; i++) {
        if (i % 97 == 5) {
            sb_add(in, "\n");
            line++;
        }
        switch (i % 5) {
        case 0:
            sb_printf(in, "xxxxxxxxxxxxxxxxxxxx,R%zu,yyyy,plain text %zu,%zu,zzzzzzzzzzzzzzzzzzzzzzzzzzz\n", i, i, i * 7);
            sb_printf(want, "%llu 'R%zu' 'plain text %zu' '%zu'\n", (unsigned long long)line, i, i, i * 7);
            line++;
            break;
        case 1:
            sb_printf(in, "x,R%zu,\"q,\"\"q\"\"\",\"multi\nline %zu\",%zu,\"\"\r\n", i, i, i);
            sb_printf(want, "%llu 'R%zu' 'multi\nline %zu' '%zu'\n", (unsigned long long)line, i, i, i);
            line += 2;
            break;
        case 2:
            sb_printf(in, ",R%zu,,\"esc \"\"%zu\"\"\",,\n", i, i);
            sb_printf(want, "%llu 'R%zu' 'esc \"%zu\"' -\n", (unsigned long long)line, i, i);
            line++;
            break;
        case 3:
            sb_printf(in, "a,R%zu,b,\xC3\xA9t\xC3\xA9 %zu,%zu\n", i, i, i);
            sb_printf(want, "%llu !expected 6 cells, found 5! 'R%zu' '\xC3\xA9t\xC3\xA9 %zu' '%zu'\n",
                      (unsigned long long)line, i, i, i);
            line++;
            break;
        default:
            sb_printf(in, "\"a\nb\nc\",R%zu,,t%zu,%zu,\r\n", i, i, i);
            sb_printf(want, "%llu 'R%zu' 't%zu' '%zu'\n", (unsigned long long)line, i, i, i);
            line += 3;
            break;
        }
    }
}

static void check_reader_against(rd_reader *r, const char *want, size_t max)
{
    const char *names[] = {"id", "text", "n"};
    assert_int_equal(rd_select(r, 3, names), 0);
    char *got = read_all(r, max);
    if (strcmp(got, want) != 0) {
        size_t i = 0;
        while (got[i] && got[i] == want[i])
            i++;
        fail_msg("mismatch at byte %zu: got '%.80s' want '%.80s'", i, got + i, want + i);
    }
    free(got);
}

static void csv_batches_across_boundaries(void **st)
{
    (void)st;
    sbuf in = {0}, want = {0};
    gen_csv(250000, &in, &want); /* about 10 MB: several windows and file buffers */
    assert_true(in.n > (9u << 20));
    size_t maxes[] = {1, 7, 1000, 100000};
    for (size_t k = 0; k < 4; k++) {
        rd_reader *r = open_mem(in.s, in.n, RD_CSV);
        check_reader_against(r, want.s, maxes[k]);
        rd_close(r);
    }
    char *path = tmp_path(".csv");
    write_file(path, in.s, in.n);
    for (size_t k = 0; k < 4; k += 2) {
        char *err = NULL;
        rd_reader *r = rd_open(path, RD_AUTO, &err);
        assert_non_null(r);
        assert_int_equal(rd_get_format(r), RD_CSV);
        check_reader_against(r, want.s, maxes[k]);
        rd_close(r);
    }
    unlink(path);
    free(path);
    free(in.s);
    free(want.s);
}

static void csv_large_record(void **st)
{
    (void)st;
    /* one cell larger than the initial window and file buffer */
    size_t big = (size_t)9 << 20;
    sbuf in = {0};
    sb_add(&in, "id,text,n\n1,small,1\n2,\"");
    char *blob = malloc(big);
    memset(blob, 'x', big);
    for (size_t i = 1000; i < big; i += 100000)
        blob[i] = '\n';
    sb_addn(&in, blob, big);
    sb_add(&in, "\",2\n3,after,3\n");
    size_t nl = 0;
    for (size_t i = 0; i < big; i++)
        nl += blob[i] == '\n';
    char *path = tmp_path(".csv");
    write_file(path, in.s, in.n);
    for (int file = 0; file < 2; file++) {
        char *err = NULL;
        rd_reader *r = file ? rd_open(path, RD_CSV, &err) : open_mem(in.s, in.n, RD_CSV);
        assert_non_null(r);
        const char *names[] = {"id", "text"};
        assert_int_equal(rd_select(r, 2, names), 0);
        rd_batch b;
        size_t seen = 0;
        long n;
        while ((n = rd_read_batch(r, &b, 10, &err)) > 0) {
            for (size_t i = 0; i < b.nrows; i++, seen++) {
                const rd_cell *c = &b.cells[i * 2];
                assert_null(b.error[i]);
                if (seen == 1) {
                    assert_int_equal(b.line[i], 3);
                    assert_int_equal(c[1].len, big);
                    assert_memory_equal(c[1].p, blob, big);
                } else if (seen == 2) {
                    assert_int_equal(b.line[i], 4 + nl);
                    assert_memory_equal(c[1].p, "after", 5);
                }
            }
        }
        assert_int_equal(n, 0);
        assert_int_equal(seen, 3);
        rd_close(r);
    }
    unlink(path);
    free(path);
    free(blob);
    free(in.s);
}

static void csv_record_too_long(void **st)
{
    (void)st;
    /* an unterminated quote early in a large input: beyond 64 MiB it is a hard error */
    size_t big = (size_t)66 << 20;
    char *in = malloc(big);
    const char *head = "id,text\n1,ok\n2,\"open";
    memcpy(in, head, strlen(head));
    memset(in + strlen(head), 'y', big - strlen(head));
    rd_reader *r = open_mem(in, big, RD_CSV);
    const char *names[] = {"id"};
    assert_int_equal(rd_select(r, 1, names), 0);
    char *got = read_all(r, 100);
    assert_string_equal(got, "2 '1'\nFAIL t:3: record longer than 64 MiB (unterminated quote?)\n");
    free(got);
    /* the error is sticky */
    rd_batch b;
    char *err = NULL;
    assert_int_equal(rd_read_batch(r, &b, 100, &err), -1);
    assert_non_null(err);
    mtcr_xfree(err);
    rd_close(r);
    free(in);
}

/* ---- files and gzip -------------------------------------------------------------------- */

static void open_missing_file(void **st)
{
    (void)st;
    char *err = NULL;
    assert_null(rd_open("/nonexistent/dir/x.csv", RD_AUTO, &err));
    assert_non_null(err);
    assert_string_equal(err, "cannot open '/nonexistent/dir/x.csv': No such file or directory");
    mtcr_xfree(err);
    /* a directory opens but cannot be read */
    assert_null(rd_open("/tmp", RD_CSV, &err));
    assert_non_null(err);
    assert_non_null(strstr(err, "cannot read '/tmp'"));
    mtcr_xfree(err);
}

static void gzip_roundtrip(void **st)
{
    (void)st;
    sbuf in = {0}, want = {0};
    gen_csv(250000, &in, &want);
    /* the name does not end in .gz: gzip is found by its magic bytes */
    char *path = tmp_path(".csv");
    write_gz(path, in.s, in.n);
    size_t zlen;
    char *z = slurp(path, &zlen);
    assert_true(zlen < in.n);
    assert_int_equal((unsigned char)z[0], 0x1f);
    assert_int_equal((unsigned char)z[1], 0x8b);
    char *err = NULL;
    rd_reader *r = rd_open(path, RD_AUTO, &err);
    assert_non_null(r);
    assert_int_equal(rd_get_format(r), RD_CSV);
    assert_int_equal(rd_ncolumns(r), 6);
    check_reader_against(r, want.s, 4096);
    rd_close(r);

    /* truncated: the rows that could be read, then -1 */
    write_file(path, z, zlen / 2);
    r = rd_open(path, RD_CSV, &err);
    assert_non_null(r);
    const char *names[] = {"id"};
    assert_int_equal(rd_select(r, 1, names), 0);
    rd_batch b;
    long n, total = 0;
    while ((n = rd_read_batch(r, &b, 1000, &err)) > 0)
        total += n;
    assert_int_equal(n, -1);
    assert_non_null(err);
    assert_non_null(strstr(err, "truncated gzip"));
    assert_non_null(strstr(err, path));
    assert_null(strstr(err, "<fd:"));
    assert_true(total > 0 && total < 250000);
    mtcr_xfree(err);
    rd_close(r);

    /* truncated inside the header's block: the open fails */
    write_file(path, z, 30);
    assert_null(rd_open(path, RD_CSV, &err));
    assert_non_null(err);
    assert_non_null(strstr(err, "truncated gzip"));
    mtcr_xfree(err);

    unlink(path);
    free(path);
    free(z);
    free(in.s);
    free(want.s);
}

static void gzip_jsonl_by_name(void **st)
{
    (void)st;
    const char *in = "{\"id\":\"a\",\"n\":1}\n{\"id\":\"b\",\"n\":2}\n";
    char *path = tmp_path(".jsonl.gz");
    write_gz(path, in, strlen(in));
    char *err = NULL;
    rd_reader *r = rd_open(path, RD_AUTO, &err);
    assert_non_null(r);
    assert_int_equal(rd_get_format(r), RD_JSONL);
    assert_int_equal(rd_ncolumns(r), 2);
    const char *names[] = {"n", "id"};
    assert_int_equal(rd_select(r, 2, names), 0);
    char *got = read_all(r, 10);
    assert_string_equal(got, "1 '1' 'a'$\n2 '2' 'b'$\n");
    free(got);
    rd_close(r);
    unlink(path);
    free(path);

    /* a plain file named .ndjson whose first line is not an object is still JSON Lines */
    path = tmp_path(".ndjson");
    write_file(path, "[1]\n", 4);
    r = rd_open(path, RD_AUTO, &err);
    assert_non_null(r);
    assert_int_equal(rd_get_format(r), RD_JSONL);
    rd_close(r);
    unlink(path);
    free(path);
}

/* ---- JSON Lines ------------------------------------------------------------------------- */

static void jsonl_value_kinds(void **st)
{
    (void)st;
    const char *in = "{\"id\": \"A1\", \"range\": 300, \"ok\": true, \"no\": false, \"x\": null, \"e\": \"\"}\n"
                     "{\"id\":\"A2\",\"range\":-1.5e3,\"ok\":false,\"no\":true}\r\n"
                     "{\"range\":0.25,\"id\":\"A3\",\"zzz\":\"skip\"}\n"
                     "  {  }  \n";
    rd_reader *r = open_mem(in, strlen(in), RD_AUTO);
    assert_int_equal(rd_get_format(r), RD_JSONL);
    assert_int_equal(rd_ncolumns(r), 6);
    const char *hdr[] = {"id", "range", "ok", "no", "x", "e"};
    for (size_t i = 0; i < 6; i++)
        assert_string_equal(rd_column(r, i), hdr[i]);
    rd_close(r);
    CHECK(in, RD_JSONL, "id,range,ok,no,x,e,absent",
          "1 'A1'$ '300' 'true' 'false' - - -\n"
          "2 'A2'$ '-1.5e3' 'false' 'true' - - -\n"
          "3 'A3'$ '0.25' - - - - -\n"
          "4 - - - - - - -\n");
}

static void jsonl_escapes(void **st)
{
    (void)st;
    const char *in = "{\"id\":\"1\",\"s\":\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\te\"}\n"
                     "{\"id\":\"2\",\"s\":\"\\u00e9\\u20AC\\u0041\"}\n"
                     "{\"id\":\"3\",\"s\":\"\\ud83d\\ude80 rocket\"}\n"
                     "{\"id\":\"4\",\"s\":\"raw \xF0\x9F\x9A\x80 ok\"}\n"
                     "{\"id\":\"5\",\"s\":\"\\ud83d alone\"}\n"
                     "{\"id\":\"6\",\"s\":\"\\ude80\"}\n"
                     "{\"id\":\"7\",\"s\":\"bad \\x\"}\n"
                     "{\"id\":\"8\",\"s\":\"\\u12G4\"}\n"
                     "{\"id\":\"9\",\"s\":\"bad \xC3\"}\n"
                     "{\"i\\u0064\":\"10\",\"\\u0073\":\"key escapes\"}\n"
                     "{\"id\":\"11\",\"s\":\"tab\there\"}\n";
    CHECK(in, RD_JSONL, "id,s",
          "1 '1'$ 'a\"b\\c/d\b\f\n\r\te'$\n"
          "2 '2'$ '\xC3\xA9\xE2\x82\xAC" "A'$\n"
          "3 '3'$ '\xF0\x9F\x9A\x80 rocket'$\n"
          "4 '4'$ 'raw \xF0\x9F\x9A\x80 ok'$\n"
          "5 !invalid JSON at column 16: lone surrogate in \\u escape! '5'$ -\n"
          "6 !invalid JSON at column 16: lone surrogate in \\u escape! '6'$ -\n"
          "7 !invalid JSON at column 20: invalid escape! '7'$ -\n"
          "8 !invalid JSON at column 16: invalid \\u escape! '8'$ -\n"
          "9 !s: invalid UTF-8! '9'$ 'bad \xC3'$\n"
          "10 '10'$ 'key escapes'$\n"
          "11 !invalid JSON at column 20: control character in string! '11'$ -\n");
    /* escapes are validated in keys that are not selected too */
    CHECK("{\"id\":\"1\",\"other\":\"\\q\"}\n", RD_JSONL, "id",
          "1 !invalid JSON at column 20: invalid escape! '1'$\n");
}

static void jsonl_numbers(void **st)
{
    (void)st;
    const char *in = "{\"id\":\"a\",\"n\":0}\n"
                     "{\"id\":\"b\",\"n\":-0.0}\n"
                     "{\"id\":\"c\",\"n\":1E+9}\n"
                     "{\"id\":\"d\",\"n\":01}\n"
                     "{\"id\":\"e\",\"n\":1.}\n"
                     "{\"id\":\"f\",\"n\":.5}\n"
                     "{\"id\":\"g\",\"n\":+1}\n"
                     "{\"id\":\"h\",\"n\":1e}\n"
                     "{\"id\":\"i\",\"n\":\"12\"}\n"
                     "{\"id\":\"j\",\"n\":tru}\n"
                     "{\"id\":\"k\",\"n\":nulls}\n";
    CHECK(in, RD_JSONL, "id,n",
          "1 'a'$ '0'\n"
          "2 'b'$ '-0.0'\n"
          "3 'c'$ '1E+9'\n"
          "4 !invalid JSON at column 15: expected a value! 'd'$ -\n"
          "5 !invalid JSON at column 15: expected a value! 'e'$ -\n"
          "6 !invalid JSON at column 15: expected a value! 'f'$ -\n"
          "7 !invalid JSON at column 15: expected a value! 'g'$ -\n"
          "8 !invalid JSON at column 15: expected a value! 'h'$ -\n"
          "9 'i'$ '12'$\n"
          "10 !invalid JSON at column 15: expected a value! 'j'$ -\n"
          "11 !invalid JSON at column 15: expected a value! 'k'$ -\n");
}

static void jsonl_nested_rejected(void **st)
{
    (void)st;
    const char *in = "{\"list\":[1,{\"a\":[]},\"]\"],\"id\":\"a\",\"n\":1}\n"
                     "{\"n\":2,\"obj\":{\"k\":{\"deep\":[true,null]}},\"id\":\"b\"}\n"
                     "{\"id\":\"c\",\"n\":{}}\n"
                     "{\"id\":\"d\",\"bad\":[1,,2]}\n"
                     "{\"id\":\"e\",\"n\":3}\n";
    CHECK(in, RD_JSONL, "id,n",
          "1 !list: arrays and objects are not allowed! 'a'$ '1'\n"
          "2 !obj: arrays and objects are not allowed! 'b'$ '2'\n"
          "3 !n: arrays and objects are not allowed! 'c'$ -\n"
          "4 !invalid JSON at column 20: expected a value! 'd'$ -\n"
          "5 'e'$ '3'\n");
}

static void jsonl_invalid_json(void **st)
{
    (void)st;
    const char *in = "{\"id\":\"a\",\"x\" 1}\n"
                     "{\"id\":\"b\",\"x\":1,}\n"
                     "{\"id\":\"c\",\"x\":1\n"
                     "{\"id\":\"d\"} extra\n"
                     "[1,2]\n"
                     "\"just a string\"\n"
                     "{\"id\":\"e\",\"x\":\"unterminated}\n"
                     "{id:\"f\"}\n"
                     "{\"id\":\"g\"}\n";
    CHECK(in, RD_JSONL, "id,x",
          "1 !invalid JSON at column 15: expected ':'! 'a'$ -\n"
          "2 !invalid JSON at column 17: expected a key! 'b'$ '1'\n"
          "3 !invalid JSON at column 16: expected ',' or '}'! 'c'$ '1'\n"
          "4 !invalid JSON at column 12: unexpected text after the object! 'd'$ -\n"
          "5 !the line is not a JSON object! - -\n"
          "6 !the line is not a JSON object! - -\n"
          "7 !invalid JSON at column 29: unterminated string! 'e'$ -\n"
          "8 !invalid JSON at column 2: expected a key! - -\n"
          "9 'g'$ -\n");
}

static void jsonl_duplicate_keys(void **st)
{
    (void)st;
    const char *in = "{\"id\":\"a\",\"x\":1}\n"
                     "{\"id\":\"b\",\"x\":1,\"x\":2}\n"
                     "{\"x\":3,\"id\":\"c\",\"y\":1,\"y\":2}\n"
                     "{\"x\":4,\"id\":\"d\",\"\\u0078\":5}\n"
                     "{\"x\":5,\"id\":\"e\"}\n";
    CHECK(in, RD_JSONL, "id",
          "1 'a'$\n"
          "2 !duplicate key 'x'! 'b'$\n"
          "3 !duplicate key 'y'! 'c'$\n"
          "4 !duplicate key 'x'! 'd'$\n"
          "5 'e'$\n");
    /* duplicates in the first object: listed once in the header, the record is bad */
    const char *dup = "{\"a\":1,\"b\":2,\"a\":3}\n";
    rd_reader *r = open_mem(dup, strlen(dup), RD_JSONL);
    assert_int_equal(rd_ncolumns(r), 2);
    assert_string_equal(rd_column(r, 0), "a");
    assert_string_equal(rd_column(r, 1), "b");
    rd_close(r);
    CHECK(dup, RD_JSONL, "b", "1 !duplicate key 'a'! '2'\n");
}

static void jsonl_blank_lines_and_header(void **st)
{
    (void)st;
    const char *in = "\n   \n\t\r\n{\"id\":\"a\",\"k\":1}\n\n \n{\"k\":2,\"id\":\"b\",\"new\":\"n\"}\n   ";
    rd_reader *r = open_mem(in, strlen(in), RD_AUTO);
    assert_int_equal(rd_get_format(r), RD_JSONL);
    /* the header is the first object's keys; the object is not consumed */
    assert_int_equal(rd_ncolumns(r), 2);
    assert_string_equal(rd_column(r, 0), "id");
    assert_string_equal(rd_column(r, 1), "k");
    rd_close(r);
    CHECK(in, RD_JSONL, "new,id,k", "4 - 'a'$ '1'\n7 'n'$ 'b'$ '2'\n");
    CHECK("\n  \n", RD_JSONL, "id", "");
    CHECK("{}\n", RD_JSONL, "id", "1 -\n");
    /* a BOM before the first object */
    CHECK("\xEF\xBB\xBF{\"id\":\"a\"}\n", RD_AUTO, "id", "1 'a'$\n");
    /* lines with no key before the first object are records too (rejected); the
     * header is the keys of the first line that has some */
    const char *late = "garbage\n[1]\n{\"id\":\"a\",\"k\":1}\n";
    r = open_mem(late, strlen(late), RD_JSONL);
    assert_int_equal(rd_ncolumns(r), 2);
    assert_string_equal(rd_column(r, 1), "k");
    assert_true(rd_has_records(r));
    rd_close(r);
    CHECK(late, RD_JSONL, "id,k",
          "1 !the line is not a JSON object! - -\n2 !the line is not a JSON object! - -\n3 'a'$ '1'\n");
    r = open_mem("nothing valid\n", 14, RD_JSONL);
    assert_int_equal(rd_ncolumns(r), 0);
    assert_true(rd_has_records(r));
    rd_close(r);
    r = open_mem("\n \n", 3, RD_JSONL);
    assert_false(rd_has_records(r));
    rd_close(r);
}

static void jsonl_keys_with_escapes(void **st)
{
    (void)st;
    /* header keys holding a quote, a backslash or a control character cannot be
     * matched against the raw bytes; they must still be found in every record */
    const char *in = "{\"a\\\"b\":1,\"c\\\\\":2,\"t\\tx\":3,\"id\":\"x\"}\n"
                     "{\"a\\\"b\":4,\"c\\\\\":5,\"t\\tx\":6,\"id\":\"y\"}\n"
                     "{\"a\\u0022b\":7,\"c\\\\\":8,\"t\\u0009x\":9,\"id\":\"z\"}\n";
    rd_reader *r = open_mem(in, strlen(in), RD_JSONL);
    assert_int_equal(rd_ncolumns(r), 4);
    assert_string_equal(rd_column(r, 0), "a\"b");
    assert_string_equal(rd_column(r, 1), "c\\");
    assert_string_equal(rd_column(r, 2), "t\tx");
    const char *names[] = {"id", "a\"b", "c\\", "t\tx"};
    assert_int_equal(rd_select(r, 4, names), 0);
    char *got = read_all(r, 10);
    assert_string_equal(got, "1 'x'$ '1' '2' '3'\n2 'y'$ '4' '5' '6'\n3 'z'$ '7' '8' '9'\n");
    free(got);
    rd_close(r);
}

static void jsonl_wide_first_object(void **st)
{
    (void)st;
    /* 30000 keys, every one twice: the header lists each once, in order */
    sbuf in = {0};
    sb_add(&in, "{");
    for (int rep = 0; rep < 2; rep++)
        for (int i = 0; i < 30000; i++)
            sb_printf(&in, "%s\"k%d\":%d", rep || i ? "," : "", i, i);
    sb_add(&in, "}\n");
    rd_reader *r = open_mem(in.s, in.n, RD_JSONL);
    assert_int_equal(rd_ncolumns(r), 30000);
    assert_string_equal(rd_column(r, 0), "k0");
    assert_string_equal(rd_column(r, 29999), "k29999");
    const char *names[] = {"k29999"};
    assert_int_equal(rd_select(r, 1, names), 0);
    char *got = read_all(r, 10);
    assert_string_equal(got, "1 !duplicate key 'k0'! '29999'\n");
    free(got);
    rd_close(r);
    free(in.s);
}

static void jsonl_batches_across_boundaries(void **st)
{
    (void)st;
    sbuf in = {0}, want = {0};
    sb_add(&want, "");
    uint64_t line = 1;
    for (size_t i = 0; i < 60000; i++) {
        if (i % 101 == 3) {
            sb_add(&in, "  \n");
            line++;
        }
        if (i % 3 == 0) {
            sb_printf(&in, "{\"id\":\"R%zu\",\"pad\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\","
                           "\"n\":%zu,\"s\":\"esc\\\"%zu\\u00e9\"}\n", i, i, i);
            sb_printf(&want, "%llu 'R%zu'$ '%zu' 'esc\"%zu\xC3\xA9'$\n", (unsigned long long)line, i, i, i);
        } else if (i % 3 == 1) {
            sb_printf(&in, "{\"s\":\"plain %zu\",\"n\":%zu.5,\"id\":\"R%zu\",\"arr\":[1,2,3]}\r\n", i, i, i);
            sb_printf(&want, "%llu !arr: arrays and objects are not allowed! 'R%zu'$ '%zu.5' 'plain %zu'$\n",
                      (unsigned long long)line, i, i, i);
        } else {
            sb_printf(&in, "{\"id\":\"R%zu\",\"pad\":null,\"n\":null}\n", i);
            sb_printf(&want, "%llu 'R%zu'$ - -\n", (unsigned long long)line, i);
        }
        line++;
    }
    const char *names[] = {"id", "n", "s"};
    size_t maxes[] = {1, 13, 70000};
    for (size_t k = 0; k < 3; k++) {
        rd_reader *r = open_mem(in.s, in.n, RD_JSONL);
        assert_int_equal(rd_select(r, 3, names), 0);
        char *got = read_all(r, maxes[k]);
        assert_string_equal(got, want.s);
        free(got);
        rd_close(r);
    }
    char *path = tmp_path(".data");
    write_gz(path, in.s, in.n);
    char *err = NULL;
    rd_reader *r = rd_open(path, RD_AUTO, &err);
    assert_non_null(r);
    assert_int_equal(rd_get_format(r), RD_JSONL);
    assert_int_equal(rd_select(r, 3, names), 0);
    char *got = read_all(r, 500);
    assert_string_equal(got, want.s);
    free(got);
    rd_close(r);
    unlink(path);
    free(path);
    free(in.s);
    free(want.s);
}

static void select_again_between_batches(void **st)
{
    (void)st;
    const char *in = "id,a,b\n1,x,y\n2,p,q\n";
    rd_reader *r = open_mem(in, strlen(in), RD_CSV);
    const char *n1[] = {"a"};
    assert_int_equal(rd_select(r, 1, n1), 0);
    rd_batch b;
    char *err = NULL;
    assert_int_equal(rd_read_batch(r, &b, 1, &err), 1);
    assert_int_equal(b.ncols, 1);
    assert_memory_equal(b.cells[0].p, "x", 1);
    const char *n2[] = {"b", "id", "a"};
    assert_int_equal(rd_select(r, 3, n2), 0);
    assert_int_equal(rd_read_batch(r, &b, 5, &err), 1);
    assert_int_equal(b.ncols, 3);
    assert_int_equal(b.line[0], 3);
    assert_memory_equal(b.cells[0].p, "q", 1);
    assert_memory_equal(b.cells[1].p, "2", 1);
    assert_memory_equal(b.cells[2].p, "p", 1);
    assert_int_equal(rd_read_batch(r, &b, 5, &err), 0);
    rd_close(r);
}

/* An allocator that fails from the n-th allocation on. */
static long alloc_left;
static void *failing_realloc(void *ud, void *p, size_t n)
{
    (void)ud;
    if (alloc_left-- <= 0)
        return NULL;
    return realloc(p, n);
}
static void failing_free(void *ud, void *p)
{
    (void)ud;
    free(p);
}

static void out_of_memory_is_an_error(void **st)
{
    (void)st;
    const char *csv = "id,a\n1,\"x\"\"y\"\n2\n";
    const char *js = "{\"id\":\"1\",\"a\":\"\\u00e9\"}\n{\"a\":1,\"id\":\"2\",\"a\":2}\n";
    const char *names[] = {"id", "a", "id"};
    mtcr_allocator fa = {failing_realloc, failing_free, NULL};
    for (int fmt = 0; fmt < 2; fmt++) {
        int succeeded = 0;
        for (long n = 0; n < 200 && !succeeded; n++) {
            alloc_left = n;
            mtcr_set_allocator(&fa);
            const char *in = fmt ? js : csv;
            char *err = NULL;
            rd_reader *r = rd_open_mem("m", in, strlen(in), fmt ? RD_JSONL : RD_CSV, &err);
            long got = -2;
            if (r && rd_select(r, 3, names) == 0) {
                rd_batch b;
                long k;
                got = 0;
                while ((k = rd_read_batch(r, &b, 8, &err)) > 0)
                    got += k;
                if (k < 0)
                    got = -1;
            }
            rd_close(r);
            mtcr_set_allocator(NULL);
            if (got == 2)
                succeeded = 1;
            else
                assert_true(got == -1 || got == -2);
            mtcr_xfree(err);
        }
        assert_true(succeeded);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(csv_basic_projection),
        cmocka_unit_test(csv_bom_crlf),
        cmocka_unit_test(csv_quoting),
        cmocka_unit_test(csv_blank_lines_and_empty_cells),
        cmocka_unit_test(csv_wrong_cell_count),
        cmocka_unit_test(csv_quote_errors),
        cmocka_unit_test(csv_invalid_utf8),
        cmocka_unit_test(csv_empty_and_header_only),
        cmocka_unit_test(csv_duplicate_names),
        cmocka_unit_test(csv_batches_across_boundaries),
        cmocka_unit_test(csv_large_record),
        cmocka_unit_test(csv_record_too_long),
        cmocka_unit_test(open_missing_file),
        cmocka_unit_test(gzip_roundtrip),
        cmocka_unit_test(gzip_jsonl_by_name),
        cmocka_unit_test(jsonl_value_kinds),
        cmocka_unit_test(jsonl_escapes),
        cmocka_unit_test(jsonl_numbers),
        cmocka_unit_test(jsonl_nested_rejected),
        cmocka_unit_test(jsonl_invalid_json),
        cmocka_unit_test(jsonl_duplicate_keys),
        cmocka_unit_test(jsonl_blank_lines_and_header),
        cmocka_unit_test(jsonl_keys_with_escapes),
        cmocka_unit_test(jsonl_wide_first_object),
        cmocka_unit_test(jsonl_batches_across_boundaries),
        cmocka_unit_test(select_again_between_batches),
        cmocka_unit_test(out_of_memory_is_an_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
