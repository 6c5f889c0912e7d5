/* test_writer.c — the output formats of `check` (SPEC 5) through mtcr_check_file:
 * JSON Lines (key order, "file" with several inputs, rejected records, empty
 * findings of clear records with --all, --explain evidence, JSON escaping of
 * quotes, backslashes, newlines and control characters in messages, ids, file
 * names and evidence), CSV (header, one row per finding, quoting, clear and
 * rejected rows, file column, no header), text (the plain lines, no colour);
 * a failing write callback, and a large output that arrives complete and in
 * input order.  Inputs are small CSV files written to a temp directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "mtcr.h"

#define TMP_PREFIX "mtcr-test-writer"
#include "testutil.h"


/* Two rules: `heavy` fires with a message that interpolates the free-text
 * `note` (so input text reaches the output), `far` fires with its title and
 * has its own citation. */
static const char *RULES =
    "module w;\n"
    "record shipment {\n"
    "  id: string required;\n"
    "  date: date required;\n"
    "  exporter: country required;\n"
    "  payload: mass in kg;\n"
    "  range: distance in km;\n"
    "  note: string;\n"
    "}\n"
    "commitment c \"test\" {\n"
    "  applies to shipment;\n"
    "  cite \"Cite, para. 1\";\n"
    "  rule heavy \"heavy\" {\n"
    "    when payload >= 500 kg;\n"
    "    then deny \"{payload} heavy: {note}\";\n"
    "  }\n"
    "  rule far \"far\" {\n"
    "    cite \"Cite, para. 2\";\n"
    "    when range >= 300 km;\n"
    "    then review;\n"
    "    if unknown ignore;\n"
    "  }\n"
    "}\n";

/* A1: both rules, a note with quotes, a comma and two backslashes;
 * A2: clear; A3: rejected (bad date); A4: payload missing -> unknown;
 * "A""5,x": an id with a quote and a comma, a note over two lines;
 * A6: starts on line 8 (the quoted newline above counts). */
static const char *INPUT =
    "id,date,exporter,payload,range,note\n"
    "A1,2015-01-01,FR,600,350,\"a \"\"quoted\"\", back\\\\slash\"\n"
    "A2,2015-01-01,FR,100,10,\n"
    "A3,2015-02-30,FR,1,1,\n"
    "A4,2015-01-01,FR,,,x\n"
    "\"A\"\"5,x\",2015-01-01,FR,700,,\"multi\nline\"\n"
    "A6,2015-01-01,DE,1,1000,\n";

typedef struct {
    char *buf;
    size_t len;
    size_t calls;
    size_t fail_at; /* 0: never fail; n: the n-th call fails (and every later one) */
} sink;

static int to_sink(void *ud, const char *data, size_t len)
{
    sink *s = ud;
    s->calls++;
    if (s->fail_at && s->calls >= s->fail_at)
        return -1;
    assert_true(len > 0);
    s->buf = realloc(s->buf, s->len + len + 1);
    assert_non_null(s->buf);
    memcpy(s->buf + s->len, data, len);
    s->len += len;
    s->buf[s->len] = 0;
    return 0;
}

/* Run mtcr_check_file and return the output (heap; "" for none). */
static char *check(const mtcr_rules *r, const mtcr_check_options *o, const char *path, mtcr_stats *st)
{
    sink s = {0};
    char *err = NULL;
    mtcr_stats *own = st ? NULL : mtcr_stats_new();
    int rc = mtcr_check_file(r, o, path, to_sink, &s, st ? st : own, &err);
    if (rc != 0)
        fprintf(stderr, "mtcr_check_file: %s\n", err ? err : "(no message)");
    assert_int_equal(rc, 0);
    assert_null(err);
    mtcr_stats_free(own);
    if (!s.buf)
        s.buf = calloc(1, 1);
    assert_int_equal(strlen(s.buf), s.len); /* no NUL inside */
    return s.buf;
}

static mtcr_check_options opts(mtcr_format f)
{
    mtcr_check_options o;
    memset(&o, 0, sizeof o);
    o.format = f;
    o.engine = MTCR_ENGINE_INTERP;
    o.threads = 1;
    return o;
}

#define F_HEAVY(sev, msg, unknown)                                                                 \
    "{\"rule\":\"c.heavy\",\"commitment\":\"c\",\"module\":\"w\",\"severity\":\"" sev            \
    "\",\"message\":\"" msg "\",\"cite\":\"Cite, para. 1\",\"unknown\":" unknown
#define F_FAR                                                                                      \
    "{\"rule\":\"c.far\",\"commitment\":\"c\",\"module\":\"w\",\"severity\":\"review\","         \
    "\"message\":\"far\",\"cite\":\"Cite, para. 2\",\"unknown\":false"

/* ---- JSON Lines ------------------------------------------------------------------------------ */

/* Without --all: records with findings and rejected records, keys in the order
 * id, line, verdict, findings; finding keys rule, commitment, module, severity,
 * message, cite, unknown. */
static void test_jsonl_records(void **state)
{
    (void)state;
    mtcr_rules *r = compile_ok("w.mtcr", RULES);
    const char *in = write_tmp("in.csv", INPUT);
    mtcr_check_options o = opts(MTCR_FORMAT_JSONL);
    mtcr_stats *st = mtcr_stats_new();
    char *out = check(r, &o, in, st);
    const char *want =
        "{\"id\":\"A1\",\"line\":2,\"verdict\":\"deny\",\"findings\":["
        F_HEAVY("deny", "600 kg heavy: a \\\"quoted\\\", back\\\\\\\\slash", "false") "}," F_FAR "}]}\n"
        "{\"id\":\"A3\",\"line\":4,\"rejected\":true,\"error\":\"date: 2015-02-30 is not a valid date\"}\n"
        "{\"id\":\"A4\",\"line\":5,\"verdict\":\"review\",\"findings\":["
        F_HEAVY("review", "insufficient data: payload", "true") "}]}\n"
        "{\"id\":\"A\\\"5,x\",\"line\":6,\"verdict\":\"deny\",\"findings\":["
        F_HEAVY("deny", "700 kg heavy: multi\\nline", "false") "}]}\n"
        "{\"id\":\"A6\",\"line\":8,\"verdict\":\"review\",\"findings\":[" F_FAR "}]}\n";
    assert_string_equal(out, want);
    assert_int_equal(mtcr_stats_read(st), 6);
    assert_int_equal(mtcr_stats_rejected(st), 1);
    assert_int_equal(mtcr_stats_verdicts(st, MTCR_CLEAR), 1);
    assert_int_equal(mtcr_stats_verdicts(st, MTCR_REVIEW), 2);
    assert_int_equal(mtcr_stats_verdicts(st, MTCR_DENY), 2);
    free(out);
    mtcr_stats_free(st);
    mtcr_rules_free(r);
}

/* With --all a clear record is printed with "findings":[]. */
static void test_jsonl_all_prints_clear_records(void **state)
{
    (void)state;
    mtcr_rules *r = compile_ok("w.mtcr", RULES);
    const char *in = write_tmp("all.csv",
                               "id,date,exporter,payload,range,note\n"
                               "B1,2015-01-01,FR,1,1,\n"
                               "B2,2015-01-01,FR,1,1000,\n"
                               "B3,2015-01-01,FR,1,1,\n");
    mtcr_check_options o = opts(MTCR_FORMAT_JSONL);
    o.all = 1;
    char *out = check(r, &o, in, NULL);
    assert_string_equal(out,
                        "{\"id\":\"B1\",\"line\":2,\"verdict\":\"clear\",\"findings\":[]}\n"
                        "{\"id\":\"B2\",\"line\":3,\"verdict\":\"review\",\"findings\":[" F_FAR "}]}\n"
                        "{\"id\":\"B3\",\"line\":4,\"verdict\":\"clear\",\"findings\":[]}\n");
    free(out);
    /* without --all the clear ones are not printed */
    o.all = 0;
    out = check(r, &o, in, NULL);
    assert_string_equal(out, "{\"id\":\"B2\",\"line\":3,\"verdict\":\"review\",\"findings\":[" F_FAR "}]}\n");
    free(out);
    mtcr_rules_free(r);
}

/* Rejected records are always printed; without a readable id (empty, invalid
 * UTF-8) the object has no "id". */
static void test_jsonl_rejected_records(void **state)
{
    (void)state;
    mtcr_rules *r = compile_ok("w.mtcr", RULES);
    const char *in = write_tmp("rej.csv",
                               "id,date,exporter,payload,range,note\n"
                               "R1,2015-01-01,FR,600\n"
                               ",2015-01-01,FR,1,1,\n"
                               "\xff\xfe,2015-01-01,FR,1,1,\n"
                               "R4,2015-01-01,ZZ,1,1,\n"
                               "R5,2015-01-01,FR,3 km,1,\n");
    mtcr_check_options o = opts(MTCR_FORMAT_JSONL);
    mtcr_stats *st = mtcr_stats_new();
    char *out = check(r, &o, in, st);
    assert_string_equal(
        out,
        "{\"id\":\"R1\",\"line\":2,\"rejected\":true,\"error\":\"expected 6 cells, found 4\"}\n"
        "{\"line\":3,\"rejected\":true,\"error\":\"id: a value is required\"}\n"
        "{\"line\":4,\"rejected\":true,\"error\":\"id: invalid UTF-8\"}\n"
        "{\"id\":\"R4\",\"line\":5,\"rejected\":true,\"error\":\"exporter: ZZ is not an ISO 3166-1 country code\"}\n"
        "{\"id\":\"R5\",\"line\":6,\"rejected\":true,"
        "\"error\":\"payload: 3 km has unit 'km', a distance, but a mass is expected\"}\n");
    assert_int_equal(mtcr_stats_read(st), 5);
    assert_int_equal(mtcr_stats_rejected(st), 5);
    free(out);
    mtcr_stats_free(st);
    mtcr_rules_free(r);
}

/* with_file (several inputs): "file" right after "id" in every object,
 * rejected ones too; the file name is JSON-escaped. */
static void test_jsonl_with_file(void **state)
{
    (void)state;
    mtcr_rules *r = compile_ok("w.mtcr", RULES);
    char p1[512], p2[512];
    snprintf(p1, sizeof p1, "%s",
             write_tmp("one.csv", "id,date,exporter,payload,range,note\nF1,2015-01-01,FR,1,1000,\n"));
    snprintf(p2, sizeof p2, "%s",
             write_tmp("tw\"o.csv", "id,date,exporter,payload,range,note\nF2,2015-01-01,FR,1,1,\n"
                                    "F3,2015-13-01,FR,1,1,\n"));
    mtcr_check_options o = opts(MTCR_FORMAT_JSONL);
    o.with_file = 1;
    o.all = 1;
    char *a = check(r, &o, p1, NULL);
    char *b = check(r, &o, p2, NULL);
    char want[2048];
    snprintf(want, sizeof want,
             "{\"id\":\"F1\",\"file\":\"%s/one.csv\",\"line\":2,\"verdict\":\"review\",\"findings\":[" F_FAR "}]}\n",
             tmpdir);
    assert_string_equal(a, want);
    snprintf(want, sizeof want,
             "{\"id\":\"F2\",\"file\":\"%s/tw\\\"o.csv\",\"line\":2,\"verdict\":\"clear\",\"findings\":[]}\n"
             "{\"id\":\"F3\",\"file\":\"%s/tw\\\"o.csv\",\"line\":3,\"rejected\":true,"
             "\"error\":\"date: 2015-13-01 is not a valid date\"}\n",
             tmpdir, tmpdir);
    assert_string_equal(b, want);
    free(a);
    free(b);
    mtcr_rules_free(r);
}

/* --explain: each finding ends with "evidence", the values its `when` read and
 * the truth of each comparison, as messages print them ("?" when missing). */
static void test_jsonl_explain_evidence(void **state)
{
    (void)state;
    mtcr_rules *r = compile_ok("w.mtcr", RULES);
    const char *in = write_tmp("ex.csv",
                               "id,date,exporter,payload,range,note\n"
                               "X1,2015-01-01,FR,0.6 t,350,n\n"
                               "X2,2015-01-01,FR,,1,\n");
    mtcr_check_options o = opts(MTCR_FORMAT_JSONL);
    o.explain = 1;
    char *out = check(r, &o, in, NULL);
    assert_string_equal(
        out,
        "{\"id\":\"X1\",\"line\":2,\"verdict\":\"deny\",\"findings\":["
        F_HEAVY("deny", "600 kg heavy: n", "false")
        ",\"evidence\":{\"payload\":\"600 kg\",\"payload >= 500 kg\":\"true\"}},"
        F_FAR ",\"evidence\":{\"range\":\"350 km\",\"range >= 300 km\":\"true\"}}]}\n"
        "{\"id\":\"X2\",\"line\":3,\"verdict\":\"review\",\"findings\":["
        F_HEAVY("review", "insufficient data: payload", "true")
        ",\"evidence\":{\"payload\":\"?\",\"payload >= 500 kg\":\"?\"}}]}\n");
    free(out);
    mtcr_rules_free(r);
}

/* Reference JSON string escaping: '"' and '\\' escaped, \n \r \t short,
 * other bytes below 0x20 as \u00XX; everything else as is. */
static void json_ref(char *out, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            *out++ = '\\';
            *out++ = (char)c;
        } else if (c == '\n') {
            out += sprintf(out, "\\n");
        } else if (c == '\r') {
            out += sprintf(out, "\\r");
        } else if (c == '\t') {
            out += sprintf(out, "\\t");
        } else if (c < 0x20) {
            out += sprintf(out, "\\u%04x", c);
        } else {
            *out++ = (char)c;
        }
    }
    *out = 0;
}

/* Quotes, backslashes, newlines and control characters, in ids and in
 * messages, at every offset of a long message (the escaper scans words). */
static void test_jsonl_escaping(void **state)
{
    (void)state;
    mtcr_rules *r = compile_ok("w.mtcr", RULES);
    mtcr_check_options o = opts(MTCR_FORMAT_JSONL);

    /* control characters in the id and the message (CSV cells hold them as is) */
    const char *in = write_tmp("ctl.csv",
                               "id,date,exporter,payload,range,note\n"
                               "C\x01\t1,2015-01-01,FR,600,,\"x\x01y\x1fz\tw\rv\x7f\xc3\xa9\\\"\"\"\n");
    char *out = check(r, &o, in, NULL);
    assert_string_equal(out, "{\"id\":\"C\\u0001\\t1\",\"line\":2,\"verdict\":\"deny\",\"findings\":["
                             F_HEAVY("deny", "600 kg heavy: x\\u0001y\\u001fz\\tw\\rv\x7f\xc3\xa9\\\\\\\"", "false")
                             "}]}\n");
    free(out);

    /* one special byte at each offset 0..40 of a 41-byte note, for each special */
    static const char specials[] = {'"', '\\', '\n', '\r', '\t', 0x01, 0x08, 0x0c, 0x1b, 0x1f};
    char csv[64 * 1024];
    char want[256 * 1024];
    size_t cl = (size_t)snprintf(csv, sizeof csv, "id,date,exporter,payload,range,note\n");
    size_t wl = 0;
    int line = 2;
    for (size_t k = 0; k < sizeof specials; k++)
        for (int off = 0; off <= 40; off++) {
            char note[64];
            memset(note, 'a' + (off % 26), 41);
            note[41] = 0;
            note[off] = specials[k];
            /* the CSV cell: quoted, with "" for a quote */
            cl += (size_t)snprintf(csv + cl, sizeof csv - cl, "e%zu_%d,2015-01-01,FR,600,,\"", k, off);
            for (const char *p = note; *p; p++) {
                if (*p == '"')
                    csv[cl++] = '"';
                csv[cl++] = *p;
            }
            cl += (size_t)snprintf(csv + cl, sizeof csv - cl, "\"\n");
            char msg[128], esc[512];
            snprintf(msg, sizeof msg, "600 kg heavy: %s", note);
            json_ref(esc, msg);
            wl += (size_t)snprintf(want + wl, sizeof want - wl,
                                   "{\"id\":\"e%zu_%d\",\"line\":%d,\"verdict\":\"deny\",\"findings\":["
                                   "{\"rule\":\"c.heavy\",\"commitment\":\"c\",\"module\":\"w\","
                                   "\"severity\":\"deny\",\"message\":\"%s\",\"cite\":\"Cite, para. 1\","
                                   "\"unknown\":false}]}\n",
                                   k, off, line, esc);
            line += specials[k] == '\n' ? 2 : 1;
        }
    in = write_tmp_n("sweep.csv", csv, cl);
    out = check(r, &o, in, NULL);
    assert_string_equal(out, want);
    free(out);
    mtcr_rules_free(r);

    /* escapes written in the rule's message text and in the title */
    r = compile_ok("w.mtcr", "module w;\n"
                 "record shipment { id: string required; date: date required; exporter: country required; }\n"
                 "commitment c { applies to shipment; cite \"say \\\"C\\\"\";\n"
                 "  rule t \"ti\\\\tle \\\"x\\\"\" { when true; then notify; }\n"
                 "  rule m { when true; then notify \"a\\tb\\nc \\\\ \\\"d\\\" \\u{1} {{e}}\"; }\n"
                 "}\n");
    in = write_tmp("lit.csv", "id,date,exporter\nL1,2015-01-01,FR\n");
    out = check(r, &o, in, NULL);
    assert_string_equal(out,
                        "{\"id\":\"L1\",\"line\":2,\"verdict\":\"notify\",\"findings\":["
                        "{\"rule\":\"c.t\",\"commitment\":\"c\",\"module\":\"w\",\"severity\":\"notify\","
                        "\"message\":\"ti\\\\tle \\\"x\\\"\",\"cite\":\"say \\\"C\\\"\",\"unknown\":false},"
                        "{\"rule\":\"c.m\",\"commitment\":\"c\",\"module\":\"w\",\"severity\":\"notify\","
                        "\"message\":\"a\\tb\\nc \\\\ \\\"d\\\" \\u0001 {e}\",\"cite\":\"say \\\"C\\\"\","
                        "\"unknown\":false}]}\n");
    free(out);
    mtcr_rules_free(r);
}

/* ---- CSV ----------------------------------------------------------------------------------------- */

static void test_csv_rows(void **state)
{
    (void)state;
    mtcr_rules *r = compile_ok("w.mtcr", RULES);
    const char *in = write_tmp("in.csv", INPUT);
    mtcr_check_options o = opts(MTCR_FORMAT_CSV);
    o.all = 1;
    char *out = check(r, &o, in, NULL);
    assert_string_equal(out,
                        "id,line,verdict,rule,severity,message\n"
                        "A1,2,deny,c.heavy,deny,\"600 kg heavy: a \"\"quoted\"\", back\\\\slash\"\n"
                        "A1,2,deny,c.far,review,far\n"
                        "A2,3,clear,,,\n"
                        "A3,4,rejected,,,date: 2015-02-30 is not a valid date\n"
                        "A4,5,review,c.heavy,review,insufficient data: payload\n"
                        "\"A\"\"5,x\",6,deny,c.heavy,deny,\"700 kg heavy: multi\nline\"\n"
                        "A6,8,review,c.far,review,far\n");
    free(out);

    /* without --all: no row for the clear record; errors with commas are quoted;
     * a rejected record without a readable id has an empty id cell */
    o.all = 0;
    in = write_tmp("rej.csv", "id,date,exporter,payload,range,note\n"
                              "R1,2015-01-01,FR,600\n"
                              ",2015-01-01,FR,1,1,\n"
                              "R3,2015-01-01,FR,1,1,\n"
                              "R4,2015-01-01,FR,\"1,5\",1,\n"
                              "R5,2015-01-01,FR,1,1,\"a,\"\"b\"\"\rc\"\n"
                              "R6,2015-01-01,FR,999,1,\"a,\"\"b\"\"\rc\"\n");
    out = check(r, &o, in, NULL);
    assert_string_equal(out,
                        "id,line,verdict,rule,severity,message\n"
                        "R1,2,rejected,,,\"expected 6 cells, found 4\"\n"
                        ",3,rejected,,,id: a value is required\n"
                        "R4,5,rejected,,,\"payload: 1,5 has an unknown unit ',5'\"\n"
                        "R6,7,deny,c.heavy,deny,\"999 kg heavy: a,\"\"b\"\"\rc\"\n");
    free(out);

    /* a header-only input: the header, no rows */
    in = write_tmp("hdr.csv", "id,date,exporter,payload,range,note\n");
    out = check(r, &o, in, NULL);
    assert_string_equal(out, "id,line,verdict,rule,severity,message\n");
    free(out);

    /* an empty input: the header too; and stats may be NULL */
    in = write_tmp("empty.csv", "");
    out = check(r, &o, in, NULL);
    assert_string_equal(out, "id,line,verdict,rule,severity,message\n");
    free(out);
    sink s = {0};
    char *err = NULL;
    assert_int_equal(mtcr_check_file(r, &o, write_tmp("nostats.csv", INPUT), to_sink, &s, NULL, &err), 0);
    assert_null(err);
    assert_non_null(s.buf);
    assert_non_null(strstr(s.buf, "id,line,verdict"));
    free(s.buf);
    mtcr_rules_free(r);
}

/* Several inputs: a `file` column first (quoted when the name needs it), and
 * no_header for the inputs after the first. */
static void test_csv_with_file_and_no_header(void **state)
{
    (void)state;
    mtcr_rules *r = compile_ok("w.mtcr", RULES);
    char p1[512], p2[512];
    snprintf(p1, sizeof p1, "%s",
             write_tmp("a.csv", "id,date,exporter,payload,range,note\nF1,2015-01-01,FR,1,1000,\n"));
    snprintf(p2, sizeof p2, "%s",
             write_tmp("b,c.csv", "id,date,exporter,payload,range,note\nF2,2015-01-01,FR,1,1,\n"
                                  "F3,2015-01-01,FR,1,1\n"));
    mtcr_check_options o = opts(MTCR_FORMAT_CSV);
    o.with_file = 1;
    o.all = 1;
    char *a = check(r, &o, p1, NULL);
    o.no_header = 1;
    char *b = check(r, &o, p2, NULL);
    char want[2048];
    snprintf(want, sizeof want,
             "file,id,line,verdict,rule,severity,message\n"
             "%s/a.csv,F1,2,review,c.far,review,far\n",
             tmpdir);
    assert_string_equal(a, want);
    snprintf(want, sizeof want,
             "\"%s/b,c.csv\",F2,2,clear,,,\n"
             "\"%s/b,c.csv\",F3,3,rejected,,,\"expected 6 cells, found 5\"\n",
             tmpdir, tmpdir);
    assert_string_equal(b, want);
    free(a);
    free(b);

    /* no_header without with_file */
    o.with_file = 0;
    b = check(r, &o, p1, NULL);
    assert_string_equal(b, "F1,2,review,c.far,review,far\n");
    free(b);
    mtcr_rules_free(r);
}

/* ---- text ------------------------------------------------------------------------------------------- */

static void test_text_lines(void **state)
{
    (void)state;
    mtcr_rules *r = compile_ok("w.mtcr", RULES);
    const char *in = write_tmp("t.csv", "id,date,exporter,payload,range,note\n"
                                        "T1,2015-01-01,FR,600,350,n\n"
                                        "T2,2015-01-01,FR,1,1,\n"
                                        "T3,2015-02-30,FR,1,1,\n"
                                        ",2015-01-01,FR,1,1,\n"
                                        "T5,2015-01-01,FR,,1,\n");
    char path[512];
    snprintf(path, sizeof path, "%s", in);
    mtcr_check_options o = opts(MTCR_FORMAT_TEXT);
    o.all = 1;
    char *out = check(r, &o, path, NULL);
    char want[4096];
    snprintf(want, sizeof want,
             "%1$s:2  T1  DENY\n"
             "    deny     c.heavy: 600 kg heavy: n  [Cite, para. 1]\n"
             "    review   c.far: far  [Cite, para. 2]\n"
             "%1$s:3  T2  CLEAR\n"
             "%1$s:4  T3  REJECTED  date: 2015-02-30 is not a valid date\n"
             "%1$s:5  (no id)  REJECTED  id: a value is required\n"
             "%1$s:6  T5  REVIEW\n"
             "    review   c.heavy: insufficient data: payload  [Cite, para. 1]\n",
             path);
    assert_string_equal(out, want);
    assert_null(strchr(out, '\033'));
    free(out);

    /* --explain adds an evidence line under each finding */
    o.all = 0;
    o.explain = 1;
    out = check(r, &o, path, NULL);
    snprintf(want, sizeof want,
             "%1$s:2  T1  DENY\n"
             "    deny     c.heavy: 600 kg heavy: n  [Cite, para. 1]\n"
             "              evidence: payload = 600 kg, payload >= 500 kg is true\n"
             "    review   c.far: far  [Cite, para. 2]\n"
             "              evidence: range = 350 km, range >= 300 km is true\n"
             "%1$s:4  T3  REJECTED  date: 2015-02-30 is not a valid date\n"
             "%1$s:5  (no id)  REJECTED  id: a value is required\n"
             "%1$s:6  T5  REVIEW\n"
             "    review   c.heavy: insufficient data: payload  [Cite, para. 1]\n"
             "              evidence: payload = ?, payload >= 500 kg is ?\n",
             path);
    assert_string_equal(out, want);
    free(out);

    /* with colour there are escape sequences, and the same text without them */
    o.explain = 0;
    o.color = 1;
    out = check(r, &o, path, NULL);
    assert_non_null(strchr(out, '\033'));
    char *plain = malloc(strlen(out) + 1);
    size_t n = 0;
    for (const char *p = out; *p; p++) {
        if (*p == '\033') {
            while (*p && *p != 'm')
                p++;
            continue;
        }
        plain[n++] = *p;
    }
    plain[n] = 0;
    o.color = 0;
    char *nocolor = check(r, &o, path, NULL);
    assert_string_equal(plain, nocolor);
    free(plain);
    free(nocolor);
    free(out);
    mtcr_rules_free(r);
}

/* ---- the write callback ------------------------------------------------------------------------------ */

/* A callback that fails makes mtcr_check_file return -1 with a message; after
 * the failure it is not called again. */
static void test_write_failure(void **state)
{
    (void)state;
    mtcr_rules *r = compile_ok("w.mtcr", RULES);
    const char *in = write_tmp("in.csv", INPUT);
    mtcr_check_options o = opts(MTCR_FORMAT_JSONL);
    mtcr_stats *st = mtcr_stats_new();
    sink s = {0};
    s.fail_at = 1;
    char *err = NULL;
    assert_int_equal(mtcr_check_file(r, &o, in, to_sink, &s, st, &err), -1);
    assert_non_null(err);
    assert_true(strlen(err) > 0);
    assert_int_equal(s.calls, 1);
    assert_null(s.buf);
    mtcr_free(err);

    /* a large output failing at its second chunk: nothing more is written */
    size_t cap = 300 * 4000 + 100;
    char *csv = malloc(cap);
    size_t cl = (size_t)snprintf(csv, cap, "id,date,exporter,payload,range,note\n");
    for (int i = 0; i < 4000; i++)
        cl += (size_t)snprintf(csv + cl, cap - cl, "w%d,2015-01-01,FR,600,350,%0200d\n", i, i);
    in = write_tmp_n("big.csv", csv, cl);
    free(csv);
    for (int f = 0; f < 3; f++) {
        o.format = f == 0 ? MTCR_FORMAT_JSONL : f == 1 ? MTCR_FORMAT_CSV : MTCR_FORMAT_TEXT;
        s = (sink){0};
        s.fail_at = 2;
        err = NULL;
        assert_int_equal(mtcr_check_file(r, &o, in, to_sink, &s, st, &err), -1);
        assert_non_null(err);
        assert_int_equal(s.calls, 2);
        assert_non_null(s.buf); /* the first chunk arrived */
        free(s.buf);
        mtcr_free(err);
    }
    mtcr_stats_free(st);
    mtcr_rules_free(r);
}

/* 5000 records (deny, clear, rejected mixed): every one arrives, in input
 * order, whatever the batching and the chunking of the output. */
static void test_large_output_complete_in_order(void **state)
{
    (void)state;
    mtcr_rules *r = compile_ok("w.mtcr", RULES);
    const int N = 5000;
    size_t cap = (size_t)N * 80 + 100;
    char *csv = malloc(cap);
    size_t wcap = (size_t)N * 300 + 100;
    char *want = malloc(wcap);
    char *want_csv = malloc(wcap);
    size_t cl = (size_t)snprintf(csv, cap, "id,date,exporter,payload,range,note\n");
    size_t wl = 0;
    size_t wc = (size_t)snprintf(want_csv, wcap, "id,line,verdict,rule,severity,message\n");
    int rejected = 0, denied = 0;
    for (int i = 1; i <= N; i++) {
        int line = i + 1;
        if (i % 97 == 0) {
            cl += (size_t)snprintf(csv + cl, cap - cl, "r%d,2015-02-30,FR,600,,n%d\n", i, i);
            wl += (size_t)snprintf(want + wl, wcap - wl,
                                   "{\"id\":\"r%d\",\"line\":%d,\"rejected\":true,"
                                   "\"error\":\"date: 2015-02-30 is not a valid date\"}\n",
                                   i, line);
            wc += (size_t)snprintf(want_csv + wc, wcap - wc,
                                   "r%d,%d,rejected,,,date: 2015-02-30 is not a valid date\n", i, line);
            rejected++;
        } else if (i % 2 == 0) {
            cl += (size_t)snprintf(csv + cl, cap - cl, "r%d,2015-01-01,FR,%d,,n%d\n", i, 500 + i, i);
            wl += (size_t)snprintf(want + wl, wcap - wl,
                                   "{\"id\":\"r%d\",\"line\":%d,\"verdict\":\"deny\",\"findings\":["
                                   "{\"rule\":\"c.heavy\",\"commitment\":\"c\",\"module\":\"w\","
                                   "\"severity\":\"deny\",\"message\":\"%d kg heavy: n%d\","
                                   "\"cite\":\"Cite, para. 1\",\"unknown\":false}]}\n",
                                   i, line, 500 + i, i);
            wc += (size_t)snprintf(want_csv + wc, wcap - wc, "r%d,%d,deny,c.heavy,deny,%d kg heavy: n%d\n",
                                   i, line, 500 + i, i);
            denied++;
        } else {
            cl += (size_t)snprintf(csv + cl, cap - cl, "r%d,2015-01-01,FR,1,,n%d\n", i, i);
            wl += (size_t)snprintf(want + wl, wcap - wl,
                                   "{\"id\":\"r%d\",\"line\":%d,\"verdict\":\"clear\",\"findings\":[]}\n", i,
                                   line);
            wc += (size_t)snprintf(want_csv + wc, wcap - wc, "r%d,%d,clear,,,\n", i, line);
        }
    }
    const char *in = write_tmp_n("large.csv", csv, cl);
    free(csv);
    mtcr_check_options o = opts(MTCR_FORMAT_JSONL);
    o.all = 1;
    mtcr_stats *st = mtcr_stats_new();
    char *out = check(r, &o, in, st);
    assert_int_equal(strlen(out), wl);
    assert_string_equal(out, want);
    assert_int_equal(mtcr_stats_read(st), N);
    assert_int_equal(mtcr_stats_rejected(st), rejected);
    assert_int_equal(mtcr_stats_verdicts(st, MTCR_DENY), denied);
    assert_int_equal(mtcr_stats_verdicts(st, MTCR_CLEAR), N - rejected - denied);
    free(out);
    mtcr_stats_free(st);

    /* the same through several threads, and as CSV */
    o.threads = 4;
    o.engine = MTCR_ENGINE_AUTO;
    out = check(r, &o, in, NULL);
    assert_string_equal(out, want);
    free(out);
    o.format = MTCR_FORMAT_CSV;
    out = check(r, &o, in, NULL);
    assert_int_equal(strlen(out), wc);
    assert_string_equal(out, want_csv);
    free(out);
    free(want);
    free(want_csv);
    mtcr_rules_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jsonl_records),
        cmocka_unit_test(test_jsonl_all_prints_clear_records),
        cmocka_unit_test(test_jsonl_rejected_records),
        cmocka_unit_test(test_jsonl_with_file),
        cmocka_unit_test(test_jsonl_explain_evidence),
        cmocka_unit_test(test_jsonl_escaping),
        cmocka_unit_test(test_csv_rows),
        cmocka_unit_test(test_csv_with_file_and_no_header),
        cmocka_unit_test(test_text_lines),
        cmocka_unit_test(test_write_failure),
        cmocka_unit_test(test_large_output_complete_in_order),
    };
    return cmocka_run_group_tests_name("writer", tests, setup, teardown);
}
