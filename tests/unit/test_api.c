/* test_api.c — the public API end to end: compiling rule text (checker
 * diagnostics with locations and hints), evaluating batches (three-valued logic,
 * units, time-varying sets, lets, messages), checking files (record detection,
 * rejections, output formats), tests blocks, and allocation failure. */
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

#define TMP_PREFIX "mtcr-test-api"
#include "testutil.h"


/* A small self-contained rule set used by several tests. */
static const char *RULES =
    "module t;\n"
    "enum kind { missile \"missile\", drone \"unmanned aerial vehicle\" }\n"
    "set partners of country { FR, DE since 1990-01-01; IN since 2016-06-27; }\n"
    "set bad_entities of string normalized { \"Dalian Sunny Industries\"; }\n"
    "const heavy = 500 kg;\n"
    "record shipment {\n"
    "  id: string required;\n"
    "  date: date required;\n"
    "  exporter: country required;\n"
    "  importer: country required;\n"
    "  entity: string;\n"
    "  kind: kind;\n"
    "  payload: mass in kg;\n"
    "  range: distance in km column \"Range (km)\";\n"
    "  item: code;\n"
    "}\n"
    "let cat1: bool = payload >= heavy and range >= 300 km;\n"
    "commitment c \"test commitment\" {\n"
    "  applies to shipment;\n"
    "  binds exporter in partners at date;\n"
    "  effective 1987-04-16;\n"
    "  cite \"Test, para. 1\";\n"
    "  rule heavy \"heavy and far\" {\n"
    "    when cat1;\n"
    "    then deny \"{payload} to {range} from {exporter}\";\n"
    "  }\n"
    "  rule listed \"Item 2 subsystem\" {\n"
    "    when item under 2.A;\n"
    "    then review;\n"
    "    if unknown ignore;\n"
    "  }\n"
    "  rule entity \"listed entity\" {\n"
    "    cite \"Test, para. 2\";\n"
    "    when entity in bad_entities;\n"
    "    then prohibit;\n"
    "    if unknown ignore;\n"
    "  }\n"
    "}\n";

static void set(mtcr_batch *b, size_t row, const char *f, const char *v)
{
    assert_int_equal(mtcr_batch_set(b, row, f, v, strlen(v)), 0);
}

static void test_evaluate_batch(void **state)
{
    (void)state;
    mtcr_rules *r = compile_ok("t.mtcr", RULES);
    mtcr_batch *b = mtcr_batch_new(r, "shipment", 8);
    assert_non_null(b);
    const char *base[][4] = {{"s1", "2015-03-01", "FR", "IR"}, {"s2", "2015-03-01", "FR", "IR"},
                             {"s3", "2014-01-01", "IN", "IR"}, {"s4", "2017-01-01", "IN", "IR"},
                             {"s5", "2015-03-01", "fra", "IR"}, {"s6", "2015-03-01", "FR", "IR"}};
    for (size_t i = 0; i < 6; i++) {
        set(b, i, "id", base[i][0]);
        set(b, i, "date", base[i][1]);
        set(b, i, "exporter", base[i][2]);
        set(b, i, "importer", base[i][3]);
    }
    /* s1: exactly at both thresholds, written in tonnes and metres */
    set(b, 0, "payload", "0.5 t");
    set(b, 0, "range", "300000 m");
    /* s2: payload known, range missing: cat1 unknown -> default review */
    set(b, 1, "payload", "600");
    /* s3/s4: India before and after joining */
    set(b, 2, "payload", "600 kg");
    set(b, 2, "range", "350");
    set(b, 3, "payload", "600 kg");
    set(b, 3, "range", "350");
    /* s5: alpha-3 exporter; item under 2.A; sanctioned entity after normalize() */
    set(b, 4, "item", "2.A.1.c");
    set(b, 4, "entity", "DALIAN SUNNY INDUSTRIES CO.,LTD.");
    set(b, 4, "payload", "499.9");
    set(b, 4, "range", "2000");
    /* s6: a bad value rejects the row */
    assert_int_equal(mtcr_batch_set(b, 5, "payload", "300 km", 6), 1);
    assert_string_equal(mtcr_batch_row_error(b, 5), "payload: 300 km has unit 'km', a distance, but a mass is expected");
    assert_int_equal(mtcr_batch_set(b, 0, "nosuch", "x", 1), -1);

    assert_int_equal(mtcr_evaluate(r, b), 0);
    const mtcr_finding *f;
    assert_int_equal(mtcr_batch_verdict(b, 0), MTCR_DENY);
    assert_int_equal(mtcr_batch_findings(b, 0, &f), 1);
    assert_string_equal(f[0].message, "500 kg to 300 km from FR");
    assert_int_equal(mtcr_batch_verdict(b, 1), MTCR_REVIEW);
    assert_int_equal(mtcr_batch_findings(b, 1, &f), 1);
    assert_true(f[0].unknown);
    assert_string_equal(f[0].message, "insufficient data: range");
    assert_int_equal(mtcr_batch_verdict(b, 2), MTCR_CLEAR); /* not yet a partner */
    assert_int_equal(mtcr_batch_verdict(b, 3), MTCR_DENY);
    assert_int_equal(mtcr_batch_verdict(b, 4), MTCR_PROHIBIT);
    assert_int_equal(mtcr_batch_findings(b, 4, &f), 2);
    mtcr_rule_info ri;
    assert_int_equal(mtcr_rule_get(r, f[0].rule, &ri), 0);
    assert_string_equal(ri.name, "c.listed");
    assert_int_equal(mtcr_rule_get(r, f[1].rule, &ri), 0);
    assert_string_equal(ri.name, "c.entity");
    assert_string_equal(ri.cite, "Test, para. 2");
    assert_int_equal(mtcr_batch_verdict(b, 5), -1);
    mtcr_batch_free(b);
    mtcr_rules_free(r);
}

/* Messages print quantities in the field's declared unit (LANGUAGE 8), as the
 * shortest decimal that reads back: 1300 lb = 589.6700810 kg, 190 nmi = 351.88 km. */
static void test_units_print_in_declared_unit(void **state)
{
    (void)state;
    mtcr_rules *r = compile_text("u.mtcr", RULES, NULL);
    assert_non_null(r);
    mtcr_batch *b = mtcr_batch_new(r, "shipment", 1);
    set(b, 0, "id", "u1");
    set(b, 0, "date", "2015-03-01");
    set(b, 0, "exporter", "DE");
    set(b, 0, "importer", "IR");
    set(b, 0, "payload", "1300 lb");
    set(b, 0, "range", "190 nmi");
    assert_int_equal(mtcr_evaluate(r, b), 0);
    const mtcr_finding *f;
    assert_int_equal(mtcr_batch_findings(b, 0, &f), 1);
    assert_string_equal(f[0].message, "589.670081 kg to 351.88 km from DE");
    mtcr_batch_free(b);
    mtcr_rules_free(r);
}

/* Every diagnostic of a file, with line, column and hint. */
static void test_diagnostics(void **state)
{
    (void)state;
    const char *bad =
        "module bad;\n"
        "record r { id: string required; date: date required; payload: mass in kg; x: strin; }\n"
        "set s of country { FR since 2000-01-01; }\n"
        "let a: bool = b;\n"
        "let b: bool = a;\n"
        "commitment k {\n"
        "  applies to r;\n"
        "  rule one { when paylod >= 500 kg; then deny; }\n"
        "  rule two { when payload >= 300 km; then deny; }\n"
        "  rule three { when date in s; then review; }\n"
        "  rule four { when payload == missing; then review; }\n"
        "  rule five { when a; then review; }\n"
        "}\n";
    mtcr_diagnostics *d = NULL;
    mtcr_rules *r = compile_text("bad.mtcr", bad, &d);
    assert_null(r);
    size_t n = mtcr_diagnostics_count(d);
    int seen_type = 0, seen_field = 0, seen_dim = 0, seen_at = 0, seen_missing = 0, seen_cycle = 0;
    for (size_t i = 0; i < n; i++) {
        mtcr_diagnostic_info in;
        assert_int_equal(mtcr_diagnostic_get(d, i, &in), 0);
        if (strstr(in.message, "unknown type 'strin'")) {
            seen_type = 1;
            assert_int_equal(in.line, 2);
            assert_non_null(in.hint);
            assert_non_null(strstr(in.hint, "string"));
        }
        if (strstr(in.message, "paylod")) {
            seen_field = 1;
            assert_int_equal(in.line, 8);
            assert_int_equal(in.column, 19);
            assert_non_null(in.hint);
            assert_string_equal(in.hint, "did you mean 'payload'?");
        }
        if (strstr(in.message, "mass") && strstr(in.message, "distance")) {
            seen_dim = 1;
            assert_int_equal(in.line, 9);
        }
        if (strstr(in.message, "changes over time")) {
            seen_at = 1;
            assert_int_equal(in.line, 10);
        }
        if (strstr(in.message, "== missing")) {
            seen_missing = 1;
            assert_non_null(in.hint);
            assert_string_equal(in.hint, "write missing(payload)");
        }
        if (strstr(in.message, "depends on itself")) {
            seen_cycle++;
            assert_non_null(strstr(in.message, "a -> b -> a"));
        }
    }
    assert_true(seen_type);
    assert_true(seen_field);
    assert_true(seen_dim);
    assert_true(seen_missing);
    assert_int_equal(seen_cycle, 1); /* one cycle, reported once */
    (void)seen_at; /* `date in s`: set of country vs date is a type error reported first */
    char *text = mtcr_diagnostic_format(d, 0, 0);
    assert_non_null(text);
    assert_non_null(strstr(text, "bad.mtcr:2:"));
    assert_non_null(strchr(text, '^'));
    mtcr_free(text);
    mtcr_diagnostics_free(d);
}

static void test_time_varying_set_needs_at(void **state)
{
    (void)state;
    const char *src = "module tv;\n"
                      "record r { id: string required; date: date required; who: country required; }\n"
                      "set s of country { FR since 2000-01-01; }\n"
                      "commitment k { applies to r; rule x { when who in s; then review; } }\n";
    mtcr_diagnostics *d = NULL;
    assert_null(compile_text("tv.mtcr", src, &d));
    mtcr_diagnostic_info in;
    assert_int_equal(mtcr_diagnostics_errors(d), 1);
    assert_int_equal(mtcr_diagnostic_get(d, 0, &in), 0);
    assert_int_equal(in.line, 4);
    assert_non_null(strstr(in.message, "changes over time"));
    assert_non_null(strstr(in.hint, "who in s at date"));
    mtcr_diagnostics_free(d);
}

typedef struct {
    char *buf;
    size_t len;
} sink;

static int to_sink(void *ud, const char *data, size_t len)
{
    sink *s = ud;
    s->buf = realloc(s->buf, s->len + len + 1);
    memcpy(s->buf + s->len, data, len);
    s->len += len;
    s->buf[s->len] = 0;
    return 0;
}

static void test_check_file_jsonl(void **state)
{
    (void)state;
    mtcr_rules *r = compile_text("c.mtcr", RULES, NULL);
    assert_non_null(r);
    const char *csv = write_tmp("in.csv",
                                "id,date,exporter,importer,payload,Range (km),extra\r\n"
                                "a1,2015-03-01,FR,IR,600,350,x\r\n"
                                "\r\n"
                                "a2,2015-02-30,FR,IR,600,350,x\r\n"
                                "a3,2015-03-01,FR,IR,,350,x\r\n"
                                "a4,2015-03-01,FR,IR,1,2,x\r\n");
    mtcr_check_options o = {0};
    o.format = MTCR_FORMAT_JSONL;
    sink s = {0};
    mtcr_stats *st = mtcr_stats_new();
    char *err = NULL;
    assert_int_equal(mtcr_check_file(r, &o, csv, to_sink, &s, st, &err), 0);
    assert_null(err);
    const char *want =
        "{\"id\":\"a1\",\"line\":2,\"verdict\":\"deny\",\"findings\":[{\"rule\":\"c.heavy\",\"commitment\":\"c\","
        "\"module\":\"t\",\"severity\":\"deny\",\"message\":\"600 kg to 350 km from FR\",\"cite\":\"Test, para. 1\","
        "\"unknown\":false}]}\n"
        "{\"id\":\"a2\",\"line\":4,\"rejected\":true,\"error\":\"date: 2015-02-30 is not a valid date\"}\n"
        "{\"id\":\"a3\",\"line\":5,\"verdict\":\"review\",\"findings\":[{\"rule\":\"c.heavy\",\"commitment\":\"c\","
        "\"module\":\"t\",\"severity\":\"review\",\"message\":\"insufficient data: payload\",\"cite\":\"Test, para. 1\","
        "\"unknown\":true}]}\n";
    assert_string_equal(s.buf, want);
    assert_int_equal(mtcr_stats_read(st), 4);
    assert_int_equal(mtcr_stats_rejected(st), 1);
    assert_int_equal(mtcr_stats_verdicts(st, MTCR_CLEAR), 1);
    assert_int_equal(mtcr_stats_verdicts(st, MTCR_DENY), 1);
    assert_int_equal(mtcr_stats_verdicts(st, MTCR_REVIEW), 1);
    free(s.buf);

    /* a missing required column is an error before any record */
    const char *bad = write_tmp("bad.csv", "id,date,importer\nx,2015-01-01,FR\n");
    s = (sink){0};
    assert_int_equal(mtcr_check_file(r, &o, bad, to_sink, &s, st, &err), -1);
    assert_non_null(err);
    assert_non_null(strstr(err, "exporter"));
    assert_null(s.buf);
    mtcr_free(err);
    mtcr_stats_free(st);
    mtcr_rules_free(r);
}

static void test_tests_blocks(void **state)
{
    (void)state;
    char *src = malloc(strlen(RULES) + 1024);
    strcpy(src, RULES);
    strcat(src, "test \"heavy from a partner\" {\n"
                "  given shipment { id: \"t1\", date: 2015-03-01, exporter: FR, importer: IR,\n"
                "                   payload: 500 kg, range: 300 km };\n"
                "  expect deny; expect finding c.heavy; expect no finding c.listed;\n"
                "}\n"
                "test \"a wrong expectation\" {\n"
                "  given shipment { id: \"t2\", date: 2015-03-01, exporter: FR, importer: IR, payload: 499.9 kg,\n"
                "                   range: 300 km };\n"
                "  expect deny;\n"
                "}\n"
                "test bad_date {\n"
                "  given shipment { id: \"t3\", date: \"2015-02-30\", exporter: FR, importer: IR };\n"
                "  expect rejected;\n"
                "}\n");
    mtcr_diagnostics *d = NULL;
    mtcr_rules *r = compile_text("tt.mtcr", src, &d);
    free(src);
    assert_non_null(r);
    mtcr_diagnostics_free(d);
    assert_int_equal(mtcr_run_tests(r, NULL, NULL), 1);
    mtcr_rules_free(r);
}

/* Allocation failure anywhere in a compile and an evaluation is an error, not a crash. */
static long alloc_budget = -1;
static void *limited_realloc(void *ud, void *p, size_t n)
{
    (void)ud;
    if (alloc_budget == 0)
        return NULL;
    if (alloc_budget > 0)
        alloc_budget--;
    return realloc(p, n);
}
static void limited_free(void *ud, void *p)
{
    (void)ud;
    free(p);
}

static void test_out_of_memory(void **state)
{
    (void)state;
    const char *p = write_tmp("oom.mtcr", RULES);
    mtcr_allocator a = {limited_realloc, limited_free, NULL};
    mtcr_set_allocator(&a);
    int failures = 0;
    for (long budget = 0; budget < 4000; budget += 7) {
        alloc_budget = budget;
        mtcr_diagnostics *d = NULL;
        mtcr_rules *r = mtcr_compile(NULL, p, &d);
        if (!r)
            failures++;
        mtcr_rules_free(r);
        mtcr_diagnostics_free(d);
    }
    alloc_budget = -1;
    mtcr_set_allocator(NULL);
    assert_true(failures > 0);
    /* and with enough memory it compiles */
    mtcr_rules *r = mtcr_compile(NULL, p, NULL);
    assert_non_null(r);
    mtcr_rules_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_evaluate_batch),
        cmocka_unit_test(test_units_print_in_declared_unit),
        cmocka_unit_test(test_diagnostics),
        cmocka_unit_test(test_time_varying_set_needs_at),
        cmocka_unit_test(test_check_file_jsonl),
        cmocka_unit_test(test_tests_blocks),
        cmocka_unit_test(test_out_of_memory),
    };
    return cmocka_run_group_tests_name("api", tests, setup, teardown);
}
