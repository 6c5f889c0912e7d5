/* test_check.c — the checker through the public API: name resolution (fields,
 * types, values, modules and imports), types and units, the language's special
 * errors (`== missing`, time-varying sets without `at`, let cycles, records
 * without id/date, commitments without `applies to`, `then` severities, message
 * interpolation), and how diagnostics are reported: exact line and column,
 * message, hint, line order, one report per mistake, and syntax errors shadowing
 * the name and type checks.  Each test writes its rule text to a temp directory
 * and compiles it with mtcr_compile / mtcr_compile_paths. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "mtcr.h"

#define TMP_PREFIX "mtcr-test-check"
#include "testutil.h"


static void make_subdir(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    assert_true(mkdir(path, 0700) == 0 || access(path, F_OK) == 0);
}

/* Compile text that must fail; returns its diagnostics (caller frees). */
static mtcr_diagnostics *must_fail(const char *name, const char *text)
{
    mtcr_diagnostics *d = NULL;
    mtcr_rules *r = compile_text(name, text, &d);
    if (r)
        dump(d);
    assert_null(r);
    assert_non_null(d);
    assert_true(mtcr_diagnostics_errors(d) > 0);
    return d;
}

/* Diagnostic i is an error at line:col in tmpdir/file whose message contains
 * `msg`; `hint` NULL: no hint; otherwise the exact hint. */
static void expect_at(const mtcr_diagnostics *d, size_t i, const char *file, int line, int col,
                      const char *msg, const char *hint)
{
    mtcr_diagnostic_info in;
    if (i >= mtcr_diagnostics_count(d))
        dump(d);
    assert_int_equal(mtcr_diagnostic_get(d, i, &in), 0);
    if (!strstr(in.message, msg) || in.line != line || in.column != col)
        dump(d);
    assert_int_equal(in.is_error, 1);
    assert_non_null(in.file);
    char path[512];
    snprintf(path, sizeof path, "%s/%s", tmpdir, file);
    assert_string_equal(in.file, path);
    assert_int_equal(in.line, line);
    assert_int_equal(in.column, col);
    assert_non_null(strstr(in.message, msg));
    if (hint) {
        assert_non_null(in.hint);
        assert_string_equal(in.hint, hint);
    } else {
        assert_null(in.hint);
    }
}

/* Diagnostic i has a hint that contains `hint_sub`. */
static void expect_hint_contains(const mtcr_diagnostics *d, size_t i, const char *hint_sub)
{
    mtcr_diagnostic_info in;
    assert_int_equal(mtcr_diagnostic_get(d, i, &in), 0);
    assert_non_null(in.hint);
    assert_non_null(strstr(in.hint, hint_sub));
}

/* How many diagnostics' messages contain `sub`. */
static size_t count_matching(const mtcr_diagnostics *d, const char *sub)
{
    size_t n = 0;
    for (size_t i = 0; i < mtcr_diagnostics_count(d); i++) {
        mtcr_diagnostic_info in;
        assert_int_equal(mtcr_diagnostic_get(d, i, &in), 0);
        if (strstr(in.message, sub))
            n++;
    }
    return n;
}

/* The shipment record most tests use (line 2 of each snippet). */
#define MOD "module m;\n"
#define SHIPMENT                                                                                   \
    "record shipment { id: string required; date: date required; exporter: country required; "   \
    "qty: int; name: string; payload: mass in kg; range: distance in km; }\n"

/* ---- positive ---------------------------------------------------------------------------- */

/* A correct file with every kind of declaration compiles without a single
 * diagnostic, warning or error. */
static void test_clean_file_has_no_diagnostics(void **state)
{
    (void)state;
    const char *src =
        "module m;\n"
        "enum kind { missile \"missile\", drone \"unmanned aerial vehicle\" }\n"
        "set partners of country { FR, DE since 1990-01-01; IN since 2016-06-27; }\n"
        "set names of string normalized { \"Dalian Sunny Industries\"; }\n"
        "const heavy = 500 kg;\n"
        "const far: distance = 300 km;\n"
        "record shipment {\n"
        "  id: string required;\n"
        "  date: date required;\n"
        "  exporter: country required;\n"
        "  entity: string;\n"
        "  k: kind;\n"
        "  payload: mass in kg;\n"
        "  range: distance in km column \"Range (km)\";\n"
        "  item: code;\n"
        "  qty: int;\n"
        "}\n"
        "let cat1: bool = payload >= heavy and range >= far;\n"
        "let per_unit = payload / (qty ?? 1);\n"
        "commitment c \"a commitment\" {\n"
        "  applies to shipment;\n"
        "  binds exporter in partners at date;\n"
        "  effective 1987-04-16;\n"
        "  cite \"Test\";\n"
        "  rule heavy \"heavy and far\" {\n"
        "    when cat1 and k == missile;\n"
        "    then deny \"{payload} to {range} from {exporter} ({per_unit} each) {{ok}}\";\n"
        "    if unknown review \"cannot tell: {item}\";\n"
        "  }\n"
        "  rule listed {\n"
        "    when item under 2.A and entity in names and not missing(qty);\n"
        "    unless year(date) < 1990;\n"
        "    then notify;\n"
        "    if unknown ignore;\n"
        "  }\n"
        "}\n"
        "test \"heavy\" {\n"
        "  given shipment { id: \"t1\", date: 2015-03-01, exporter: FR, k: missile,\n"
        "                   payload: 600 kg, range: 350 km };\n"
        "  expect deny;\n"
        "  expect finding c.heavy;\n"
        "}\n";
    mtcr_diagnostics *d = NULL;
    mtcr_rules *r = compile_text("clean.mtcr", src, &d);
    if (!r || mtcr_diagnostics_count(d))
        dump(d);
    assert_non_null(r);
    assert_int_equal(mtcr_diagnostics_count(d), 0);
    assert_int_equal(mtcr_diagnostics_errors(d), 0);
    assert_int_equal(mtcr_rule_count(r), 2);
    assert_int_equal(mtcr_run_tests(r, NULL, NULL), 0);
    mtcr_diagnostics_free(d);
    mtcr_rules_free(r);
}

/* Qualified names across modules: a second file imported by its module name
 * through include_dirs; its record type, constant, set and commitment are used
 * qualified and unqualified. */
static void test_qualified_names_across_modules(void **state)
{
    (void)state;
    make_subdir("inc");
    make_subdir("inc/acme");
    write_tmp("inc/acme/defs.mtcr",
              "module acme.defs;\n"
              "const limit = 500 kg;\n"
              "set partners of country { FR, DE; }\n"
              "enum kind { missile \"missile\", drone \"drone\" }\n"
              "record cargo { id: string required; date: date required; exporter: country required;\n"
              "  payload: mass in kg; k: kind; }\n"
              "commitment base { applies to cargo; rule big { when payload > 10 t; then review; } }\n");
    char inc[512];
    snprintf(inc, sizeof inc, "%s/inc", tmpdir);
    const char *dirs[] = {inc};
    mtcr_options o = {dirs, 1};
    const char *p = write_tmp("uses.mtcr",
                              "module uses;\n"
                              "import acme.defs;\n"
                              "commitment c { applies to acme.defs.cargo;\n"
                              "  rule a { when payload >= acme.defs.limit and exporter in acme.defs.partners\n"
                              "           and k == missile; then deny; }\n"
                              "  rule b { when payload >= limit and k in [drone]; then review; }\n"
                              "}\n"
                              "commitment d { applies to cargo; rule x { when exporter in partners; then notify; } }\n");
    mtcr_diagnostics *d = NULL;
    mtcr_rules *r = mtcr_compile(&o, p, &d);
    if (!r || mtcr_diagnostics_count(d))
        dump(d);
    assert_non_null(r);
    assert_int_equal(mtcr_diagnostics_count(d), 0);
    mtcr_diagnostics_free(d);
    assert_true(mtcr_record_find(r, "acme.defs.cargo") >= 0);
    assert_int_equal(mtcr_record_find(r, "cargo"), mtcr_record_find(r, "acme.defs.cargo"));
    /* imported modules first, then declaration order */
    assert_int_equal(mtcr_rule_count(r), 4);
    const char *names[] = {"base.big", "c.a", "c.b", "d.x"};
    const char *modules[] = {"acme.defs", "uses", "uses", "uses"};
    for (size_t i = 0; i < 4; i++) {
        mtcr_rule_info ri;
        assert_int_equal(mtcr_rule_get(r, i, &ri), 0);
        assert_string_equal(ri.name, names[i]);
        assert_string_equal(ri.module, modules[i]);
        assert_string_equal(ri.record, "cargo");
    }
    mtcr_rules_free(r);

    /* without the include directory the module is not found */
    d = NULL;
    assert_null(mtcr_compile(NULL, p, &d));
    expect_at(d, 0, "uses.mtcr", 2, 1, "module 'acme.defs' not found",
              "looked for acme/defs.mtcr in the built-in standard library; add a search path with -I DIR");
    mtcr_diagnostics_free(d);
}

/* ---- names --------------------------------------------------------------------------------- */

static void test_unknown_field_did_you_mean(void **state)
{
    (void)state;
    mtcr_diagnostics *d = must_fail("field.mtcr", MOD SHIPMENT
                                    "commitment c {\n"
                                    "  applies to shipment;\n"
                                    "  rule r1 { when paylod >= 500 kg; then deny; }\n"
                                    "}\n");
    assert_int_equal(mtcr_diagnostics_count(d), 1);
    expect_at(d, 0, "field.mtcr", 5, 18, "record 'shipment' has no field 'paylod'",
              "did you mean 'payload'?");
    expect_at(d, 0, "field.mtcr", 5, 18, "(in rule 'c.r1')", "did you mean 'payload'?");
    mtcr_diagnostics_free(d);
}

static void test_unknown_type_did_you_mean(void **state)
{
    (void)state;
    mtcr_diagnostics *d = must_fail("type.mtcr", MOD
                                    "record shipment {\n"
                                    "  id: string required;\n"
                                    "  date: date required;\n"
                                    "  payload: mas in kg;\n"
                                    "  who: contry;\n"
                                    "}\n");
    assert_int_equal(mtcr_diagnostics_count(d), 2);
    expect_at(d, 0, "type.mtcr", 5, 12, "unknown type 'mas'", "did you mean 'mass'?");
    expect_at(d, 1, "type.mtcr", 6, 8, "unknown type 'contry'", "did you mean 'country'?");
    mtcr_diagnostics_free(d);
}

/* A name that is neither a field nor a declaration; in a constant it is an
 * "unknown name" (with a suggestion when one is close). */
static void test_unknown_name(void **state)
{
    (void)state;
    mtcr_diagnostics *d = must_fail("name.mtcr", MOD SHIPMENT
                                    "const limit = 5;\n"
                                    "const k = foo + 1;\n"
                                    "const j = limt * 2;\n");
    assert_int_equal(mtcr_diagnostics_count(d), 2);
    expect_at(d, 0, "name.mtcr", 4, 11, "unknown name 'foo'", NULL);
    expect_at(d, 1, "name.mtcr", 5, 11, "unknown name 'limt'", "did you mean 'limit'?");
    mtcr_diagnostics_free(d);
}

/* Constants are expressions of literals and constants: they do not need a
 * record type to be checked, so a module that declares no record still gets
 * its constants' errors (lint of a module of constants and sets). */
static void test_const_checked_in_module_without_records(void **state)
{
    (void)state;
    mtcr_diagnostics *d = NULL;
    mtcr_rules *r = compile_text("consts.mtcr",
                                 "module consts;\n"
                                 "const k = foo + 1;\n"
                                 "const j: mass = 3;\n",
                                 &d);
    if (r)
        dump(d);
    assert_null(r);
    assert_int_equal(mtcr_diagnostics_count(d), 2);
    expect_at(d, 0, "consts.mtcr", 2, 11, "unknown name 'foo'", NULL);
    expect_at(d, 1, "consts.mtcr", 3, 17, "const 'j' is declared mass but its value is int", NULL);
    mtcr_diagnostics_free(d);
    mtcr_rules_free(r);
}

static void test_duplicate_declaration(void **state)
{
    (void)state;
    mtcr_diagnostics *d = must_fail("dup.mtcr", MOD SHIPMENT
                                    "const k = 1;\n"
                                    "const k = 2;\n"
                                    "record shipment { id: string required; date: date required; }\n"
                                    "commitment c { applies to shipment;\n"
                                    "  rule r1 { when qty > 1; then deny; }\n"
                                    "  rule r1 { when qty > 2; then deny; }\n"
                                    "}\n");
    assert_int_equal(mtcr_diagnostics_count(d), 3);
    expect_at(d, 0, "dup.mtcr", 4, 1, "'k' is already declared in module 'm'",
              "the first declaration is at line 3");
    expect_at(d, 1, "dup.mtcr", 5, 1, "'shipment' is already declared in module 'm'",
              "the first declaration is at line 2");
    expect_at(d, 2, "dup.mtcr", 8, 3, "rule 'r1' is already declared in commitment 'c'", NULL);
    mtcr_diagnostics_free(d);
}

/* Commitment names are unique across everything loaded, not only per module. */
static void test_duplicate_commitment_across_files(void **state)
{
    (void)state;
    char a[512], b[512];
    snprintf(a, sizeof a, "%s", write_tmp("dupa.mtcr", MOD SHIPMENT
                                          "commitment c { applies to shipment; rule x { when qty > 1; then deny; } }\n"));
    snprintf(b, sizeof b, "%s", write_tmp("dupb.mtcr",
                                          "module n;\n"
                                          "import m;\n"
                                          "commitment c { applies to shipment; rule y { when qty > 2; then deny; } }\n"));
    const char *paths[] = {a, b};
    mtcr_diagnostics *d = NULL;
    assert_null(mtcr_compile_paths(NULL, paths, 2, &d));
    assert_int_equal(mtcr_diagnostics_count(d), 1);
    mtcr_diagnostic_info in;
    assert_int_equal(mtcr_diagnostic_get(d, 0, &in), 0);
    assert_non_null(strstr(in.message, "commitment 'c' is already declared"));
    assert_non_null(in.hint);
    assert_non_null(strstr(in.hint, "commitment names are unique across all modules"));
    mtcr_diagnostics_free(d);
}

/* Unqualified names declared by two imported modules: an error listing both. */
static void test_ambiguous_value_name(void **state)
{
    (void)state;
    write_tmp("amb1.mtcr", "module amb1;\nconst limit = 500 kg;\n");
    write_tmp("amb2.mtcr", "module amb2;\nconst limit = 600 kg;\n");
    mtcr_diagnostics *d = must_fail("amb.mtcr", MOD
                                    "import \"amb1.mtcr\";\n"
                                    "import \"amb2.mtcr\";\n"
                                    "record shipment { id: string required; date: date required; payload: mass in kg; }\n"
                                    "commitment c { applies to shipment;\n"
                                    "  rule a { when payload >= limit; then deny; }\n"
                                    "  rule b { when payload >= amb2.limit; then deny; }\n"
                                    "}\n");
    assert_int_equal(mtcr_diagnostics_count(d), 1);
    expect_at(d, 0, "amb.mtcr", 6, 28, "'limit' is ambiguous: amb1.limit, amb2.limit",
              "qualify the name with its module");
    mtcr_diagnostics_free(d);
}

/* An ambiguous record type is one mistake: reported once, with the candidates
 * (not again as "is not a record type" with a hint suggesting the same name). */
static void test_ambiguous_record_type_reported_once(void **state)
{
    (void)state;
    write_tmp("ramb1.mtcr", "module ramb1;\nrecord cargo { id: string required; date: date required; }\n");
    write_tmp("ramb2.mtcr", "module ramb2;\nrecord cargo { id: string required; date: date required; }\n");
    mtcr_diagnostics *d = must_fail("ramb.mtcr", MOD
                                    "import \"ramb1.mtcr\";\n"
                                    "import \"ramb2.mtcr\";\n"
                                    "commitment c { applies to cargo; rule a { when true; then notify; } }\n");
    if (mtcr_diagnostics_count(d) != 1)
        dump(d);
    expect_at(d, 0, "ramb.mtcr", 4, 27, "'cargo' is ambiguous: ramb1.cargo, ramb2.cargo",
              "qualify the name with its module");
    assert_int_equal(mtcr_diagnostics_count(d), 1);
    mtcr_diagnostics_free(d);
}

/* import of a module that is nowhere, and of a file that does not exist */
static void test_unknown_import(void **state)
{
    (void)state;
    mtcr_diagnostics *d = must_fail("imp.mtcr", MOD
                                    "import nosuch.mod;\n"
                                    "import \"nofile.mtcr\";\n"
                                    "record shipment { id: string required; date: date required; }\n");
    assert_int_equal(mtcr_diagnostics_count(d), 2);
    expect_at(d, 0, "imp.mtcr", 2, 1, "module 'nosuch.mod' not found",
              "looked for nosuch/mod.mtcr in the built-in standard library; add a search path with -I DIR");
    expect_at(d, 1, "imp.mtcr", 3, 1, "cannot read '", NULL);
    expect_at(d, 1, "imp.mtcr", 3, 1, "nofile.mtcr': No such file or directory", NULL);
    mtcr_diagnostics_free(d);

    /* with search paths, the hint says they were searched */
    const char *dirs[] = {tmpdir};
    mtcr_options o = {dirs, 1};
    d = NULL;
    const char *p = write_tmp("imp2.mtcr", MOD "import nosuch.mod;\n");
    assert_null(mtcr_compile(&o, p, &d));
    assert_int_equal(mtcr_diagnostics_count(d), 1);
    expect_hint_contains(d, 0, "-I directories");
    mtcr_diagnostics_free(d);
}

/* A qualified name from a module that is loaded (given on the command line)
 * but not imported by this module: the error says so, instead of treating
 * the module's first word as a field name. The unqualified name is simply
 * unknown. */
static void test_name_from_module_not_imported(void **state)
{
    (void)state;
    char a[512], b[512];
    make_subdir("ni");
    make_subdir("ni/acme");
    snprintf(a, sizeof a, "%s", write_tmp("ni/acme/defs.mtcr", "module acme.defs;\nconst limit = 500 kg;\n"));
    snprintf(b, sizeof b, "%s",
             write_tmp("ni/user.mtcr", MOD
                       "record shipment { id: string required; date: date required; payload: mass in kg; }\n"
                       "commitment c { applies to shipment;\n"
                       "  rule a { when payload >= limit; then deny; }\n"
                       "  rule b { when payload >= acme.defs.limit; then deny; }\n"
                       "}\n"));
    const char *paths[] = {b, a};
    mtcr_diagnostics *d = NULL;
    mtcr_rules *r = mtcr_compile_paths(NULL, paths, 2, &d);
    assert_null(r);
    if (mtcr_diagnostics_count(d) != 2)
        dump(d);
    assert_int_equal(mtcr_diagnostics_count(d), 2);
    expect_at(d, 0, "ni/user.mtcr", 4, 28, "'limit'", NULL);
    mtcr_diagnostic_info in;
    assert_int_equal(mtcr_diagnostic_get(d, 1, &in), 0);
    assert_int_equal(in.line, 5);
    assert_int_equal(in.column, 28);
    /* it names the module and tells to import it */
    if (!strstr(in.message, "acme.defs") ||
        !(strstr(in.message, "import") || (in.hint && strstr(in.hint, "import acme.defs"))))
        dump(d);
    assert_non_null(strstr(in.message, "acme.defs"));
    assert_true(strstr(in.message, "not imported") || (in.hint && strstr(in.hint, "import acme.defs")));
    mtcr_diagnostics_free(d);

    /* a qualified record type of a module that is not loaded at all */
    d = must_fail("ni2.mtcr", MOD "commitment c { applies to acme.defs.cargo; rule a { when true; then notify; } }\n");
    assert_int_equal(mtcr_diagnostics_count(d), 1);
    expect_at(d, 0, "ni2.mtcr", 2, 27, "unknown module 'acme.defs' in 'acme.defs.cargo'", NULL);
    mtcr_diagnostics_free(d);
}

/* ---- types and units ------------------------------------------------------------------------ */

static void test_type_mismatch_in_comparison(void **state)
{
    (void)state;
    mtcr_diagnostics *d = must_fail("cmp.mtcr", MOD SHIPMENT
                                    "commitment c { applies to shipment;\n"
                                    "  rule a { when name == 3; then deny; }\n"
                                    "  rule b { when qty > \"many\"; then deny; }\n"
                                    "  rule c2 { when exporter == \"FR\"; then deny; }\n"
                                    "}\n");
    assert_int_equal(mtcr_diagnostics_count(d), 3);
    expect_at(d, 0, "cmp.mtcr", 4, 17, "cannot compare string (name) with int (3)", NULL);
    expect_at(d, 1, "cmp.mtcr", 5, 17, "cannot compare int (qty) with string (\"many\")", NULL);
    expect_at(d, 2, "cmp.mtcr", 6, 18, "cannot compare country (exporter) with string (\"FR\")",
              "country values are names, not strings: write FR without quotes");
    mtcr_diagnostics_free(d);
}

static void test_unit_dimension_mismatch(void **state)
{
    (void)state;
    mtcr_diagnostics *d = must_fail("dim.mtcr", MOD SHIPMENT
                                    "commitment c { applies to shipment;\n"
                                    "  rule a { when payload >= 300 km; then deny; }\n"
                                    "  rule b { when payload >= range; then deny; }\n"
                                    "}\n");
    assert_int_equal(mtcr_diagnostics_count(d), 2);
    expect_at(d, 0, "dim.mtcr", 4, 17, "cannot compare a mass (payload) with a distance (300 km)", NULL);
    expect_at(d, 1, "dim.mtcr", 5, 17, "cannot compare a mass (payload) with a distance (range)", NULL);
    mtcr_diagnostics_free(d);
}

static void test_arithmetic_on_incompatible_units(void **state)
{
    (void)state;
    mtcr_diagnostics *d = must_fail("arith.mtcr", MOD SHIPMENT
                                    "let s = payload + range;\n"
                                    "commitment c { applies to shipment;\n"
                                    "  rule a { when payload - range > 1 kg; then deny; }\n"
                                    "}\n");
    assert_int_equal(mtcr_diagnostics_count(d), 2);
    expect_at(d, 0, "arith.mtcr", 3, 9, "cannot add a mass and a distance", NULL);
    expect_at(d, 1, "arith.mtcr", 5, 17, "a mass and a distance", NULL);
    mtcr_diagnostics_free(d);
}

static void test_eq_missing(void **state)
{
    (void)state;
    mtcr_diagnostics *d = must_fail("eqm.mtcr", MOD SHIPMENT
                                    "commitment c { applies to shipment;\n"
                                    "  rule a { when payload == missing; then review; }\n"
                                    "}\n");
    assert_int_equal(mtcr_diagnostics_count(d), 1);
    expect_at(d, 0, "eqm.mtcr", 4, 17, "'== missing' never holds", "write missing(payload)");
    mtcr_diagnostics_free(d);
}

static void test_time_varying_set_without_at(void **state)
{
    (void)state;
    mtcr_diagnostics *d = must_fail("tv.mtcr", MOD SHIPMENT
                                    "set partners of country { FR, DE since 1990-01-01; }\n"
                                    "set fixed of country { FR, DE; }\n"
                                    "commitment c { applies to shipment;\n"
                                    "  rule a { when exporter in partners; then deny; }\n"
                                    "  rule b { when exporter in partners at date and exporter in fixed; then deny; }\n"
                                    "}\n");
    assert_int_equal(mtcr_diagnostics_count(d), 1);
    expect_at(d, 0, "tv.mtcr", 6, 29, "set 'partners' changes over time",
              "test it at a date: exporter in partners at date");
    mtcr_diagnostics_free(d);
}

/* A cycle of lets is one error naming the whole chain, reported once however
 * many rules use the lets. */
static void test_let_cycle(void **state)
{
    (void)state;
    mtcr_diagnostics *d = must_fail("cyc.mtcr", MOD SHIPMENT
                                    "let a: bool = b;\n"
                                    "let b: bool = a;\n"
                                    "commitment c { applies to shipment;\n"
                                    "  rule x { when a; then deny; }\n"
                                    "  rule y { when b; then deny; }\n"
                                    "  rule z { when a and b; then deny; }\n"
                                    "}\n");
    assert_int_equal(count_matching(d, "depends on itself"), 1);
    assert_int_equal(mtcr_diagnostics_count(d), 1);
    expect_at(d, 0, "cyc.mtcr", 4, 15, "let 'a' depends on itself: a -> b -> a",
              "a let may use other lets, but not in a cycle");
    mtcr_diagnostics_free(d);

    d = must_fail("cyc3.mtcr", MOD SHIPMENT
                  "let a: bool = b;\n"
                  "let b: bool = c or qty > 1;\n"
                  "let c: bool = a;\n");
    assert_int_equal(count_matching(d, "depends on itself"), 1);
    assert_int_equal(count_matching(d, "a -> b -> c -> a"), 1);
    mtcr_diagnostics_free(d);
}

static void test_let_declared_type_differs(void **state)
{
    (void)state;
    mtcr_diagnostics *d = must_fail("lett.mtcr", MOD SHIPMENT
                                    "let l: mass = range;\n"
                                    "let y: bool = 1;\n"
                                    "const z: int = \"s\";\n");
    assert_int_equal(mtcr_diagnostics_count(d), 3);
    expect_at(d, 0, "lett.mtcr", 3, 15, "let 'l' is declared mass but its value is distance", NULL);
    expect_at(d, 1, "lett.mtcr", 4, 15, "let 'y' is declared bool but its value is int", NULL);
    expect_at(d, 2, "lett.mtcr", 5, 16, "const 'z' is declared int but its value is string", NULL);
    mtcr_diagnostics_free(d);
}

/* ---- declarations ------------------------------------------------------------------------------ */

static void test_record_lacks_id_or_date(void **state)
{
    (void)state;
    static const char *const H =
        "every record type declares `id: string required;` and `date: date required;`";
    mtcr_diagnostics *d = must_fail("rec.mtcr", MOD
                                    "record a { id: string required; qty: int; }\n"
                                    "record b { date: date required; qty: int; }\n"
                                    "record c { id: int required; date: string required; }\n"
                                    "record e { id: string; date: date required; }\n");
    assert_int_equal(mtcr_diagnostics_count(d), 5);
    expect_at(d, 0, "rec.mtcr", 2, 1, "record 'a' lacks the field 'date'", H);
    expect_at(d, 1, "rec.mtcr", 3, 1, "record 'b' lacks the field 'id'", H);
    expect_at(d, 2, "rec.mtcr", 4, 12, "the field 'id' must be declared `id: string required;`", NULL);
    expect_at(d, 3, "rec.mtcr", 4, 30, "the field 'date' must be declared `date: date required;`", NULL);
    expect_at(d, 4, "rec.mtcr", 5, 12, "the field 'id' must be declared `id: string required;`", NULL);
    mtcr_diagnostics_free(d);
}

static void test_commitment_lacks_applies_to(void **state)
{
    (void)state;
    mtcr_diagnostics *d = must_fail("app.mtcr", MOD SHIPMENT
                                    "commitment k {\n"
                                    "  rule x { when qty > 1; then deny; }\n"
                                    "}\n");
    assert_int_equal(mtcr_diagnostics_count(d), 1);
    expect_at(d, 0, "app.mtcr", 3, 1, "commitment 'k' lacks `applies to RECORD;`",
              "say which record type it judges, e.g. `applies to transfer;`");
    mtcr_diagnostics_free(d);
}

/* `then` takes notify..prohibit: a word that is no severity is a syntax error
 * at the word; `clear` and `ignore` are severities that are not findings. */
static void test_invalid_then_severity(void **state)
{
    (void)state;
    mtcr_diagnostics *d = must_fail("sev.mtcr", MOD SHIPMENT
                                    "commitment k { applies to shipment;\n"
                                    "  rule x { when qty > 1; then block; }\n"
                                    "}\n");
    assert_int_equal(mtcr_diagnostics_count(d), 1);
    expect_at(d, 0, "sev.mtcr", 4, 31, "unexpected identifier 'block'", NULL);
    mtcr_diagnostics_free(d);

    d = must_fail("sev2.mtcr", MOD SHIPMENT
                  "commitment k { applies to shipment;\n"
                  "  rule x { when qty > 1; then clear; }\n"
                  "  rule y { when qty > 2; then ignore; }\n"
                  "  rule z { when qty > 3; then deny; if unknown clear; }\n"
                  "}\n");
    assert_int_equal(mtcr_diagnostics_count(d), 3);
    expect_at(d, 0, "sev2.mtcr", 4, 26, "`then clear` is not a finding",
              "a rule's `then` takes notify, review, deny or prohibit");
    expect_at(d, 1, "sev2.mtcr", 5, 26, "`then ignore` is not a finding",
              "a rule's `then` takes notify, review, deny or prohibit");
    expect_at(d, 2, "sev2.mtcr", 6, 37, "`if unknown` takes notify, review, deny, prohibit or ignore", NULL);
    mtcr_diagnostics_free(d);
}

/* An unknown name inside `{...}` of a message points at the name inside the
 * string (escapes and `{{` counted as written in the source). */
static void test_message_interpolation_unknown_field(void **state)
{
    (void)state;
    mtcr_diagnostics *d = must_fail("msg.mtcr", MOD SHIPMENT
                                    "commitment k { applies to shipment;\n"
                                    "  rule x { when qty > 1; then deny \"too many: {qtyy} units\"; }\n"
                                    "  rule y { when qty > 1; then deny \"a {qty} b {qty + nme}\"; if unknown review \"x {zz}\"; }\n"
                                    "  rule w { when qty > 1; then deny \"a\\n\\u{7B}x {{ {qtyz}\"; }\n"
                                    "}\n");
    assert_int_equal(mtcr_diagnostics_count(d), 4);
    expect_at(d, 0, "msg.mtcr", 4, 48, "unknown name 'qtyy'", "did you mean 'qty'?");
    expect_at(d, 1, "msg.mtcr", 5, 54, "unknown name 'nme'", "did you mean 'name'?");
    expect_at(d, 2, "msg.mtcr", 5, 83, "unknown name 'zz'", NULL);
    expect_at(d, 3, "msg.mtcr", 6, 52, "unknown name 'qtyz'", "did you mean 'qty'?");
    mtcr_diagnostics_free(d);
}

/* ---- reporting ----------------------------------------------------------------------------------- */

/* Every error of a file, sorted by line and column although the checker meets
 * them in another order (rules before the lets they use, records last). */
static void test_several_errors_in_line_order(void **state)
{
    (void)state;
    mtcr_diagnostics *d = must_fail("many.mtcr", MOD
                                    "commitment c { applies to shipment;\n"
                                    "  rule x { when late; then deny; }\n"
                                    "  rule w { when payload > 3 km; then deny; }\n"
                                    "  rule v { when qtty > 1; then deny; }\n"
                                    "}\n"
                                    "let late: bool = payload > 1 ft;\n"
                                    "const bad: int = \"s\";\n"
                                    "const z = 3;\n"
                                    "const z = 4;\n" SHIPMENT);
    assert_int_equal(mtcr_diagnostics_count(d), 5);
    assert_int_equal(mtcr_diagnostics_errors(d), 5);
    expect_at(d, 0, "many.mtcr", 4, 17, "cannot compare a mass (payload) with a distance (3 km)", NULL);
    expect_at(d, 1, "many.mtcr", 5, 17, "record 'shipment' has no field 'qtty'", "did you mean 'qty'?");
    expect_at(d, 2, "many.mtcr", 7, 18, "cannot compare a mass (payload) with a distance (1 ft)", NULL);
    expect_at(d, 3, "many.mtcr", 8, 18, "const 'bad' is declared int but its value is string", NULL);
    expect_at(d, 4, "many.mtcr", 10, 1, "'z' is already declared in module 'm'",
              "the first declaration is at line 9");
    mtcr_diagnostics_free(d);
}

/* With a syntax error, every syntax error of the file is reported and the
 * name and type checks are not run (intended, docs/cli.md). */
static void test_syntax_error_skips_name_checks(void **state)
{
    (void)state;
    mtcr_diagnostics *d = must_fail("syn.mtcr", MOD
                                    "record shipment { id: string required; date: date required; qty: int }\n"
                                    "let a = qty +;\n"
                                    "commitment k { applies to shipment;\n"
                                    "  rule x { when zzz > 1 then deny; }\n"
                                    "  rule y { when nosuch > 1; then deny; }\n"
                                    "}\n");
    assert_int_equal(mtcr_diagnostics_count(d), 3);
    expect_at(d, 0, "syn.mtcr", 2, 70, "unexpected '}'", NULL);
    expect_at(d, 1, "syn.mtcr", 3, 14, "unexpected ';', expected an expression", NULL);
    expect_at(d, 2, "syn.mtcr", 5, 25, "unexpected 'then', expected ';'", NULL);
    assert_int_equal(count_matching(d, "zzz"), 0);
    assert_int_equal(count_matching(d, "nosuch"), 0);
    mtcr_diagnostics_free(d);

    /* a missing `;` is reported at the end of the line that lacks it */
    d = must_fail("semi.mtcr", MOD "const a = 1\nconst b = 2;\n");
    assert_int_equal(mtcr_diagnostics_count(d), 1);
    expect_at(d, 0, "semi.mtcr", 2, 12, "expected ';' at the end of this line",
              "the next line starts with 'const', which cannot continue this one");
    mtcr_diagnostics_free(d);
}

/* The formatted diagnostic: `file:line:col: error: message`, the source line,
 * a caret under the column, the hint. */
static void test_diagnostic_format(void **state)
{
    (void)state;
    mtcr_diagnostics *d = must_fail("fmt.mtcr", MOD SHIPMENT
                                    "commitment c { applies to shipment;\n"
                                    "  rule one { when paylod >= 500 kg; then deny; }\n"
                                    "}\n");
    char *s = mtcr_diagnostic_format(d, 0, 0);
    assert_non_null(s);
    char want[1024];
    snprintf(want, sizeof want,
             "%s/fmt.mtcr:4:19: error: record 'shipment' has no field 'paylod' (in rule 'c.one')\n"
             "    rule one { when paylod >= 500 kg; then deny; }\n"
             "                    ^\n"
             "  hint: did you mean 'payload'?\n",
             tmpdir);
    assert_string_equal(s, want);
    mtcr_free(s);
    assert_null(mtcr_diagnostic_format(d, 1, 0));
    mtcr_diagnostic_info in;
    assert_int_equal(mtcr_diagnostic_get(d, 1, &in), -1);
    mtcr_diagnostics_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clean_file_has_no_diagnostics),
        cmocka_unit_test(test_qualified_names_across_modules),
        cmocka_unit_test(test_unknown_field_did_you_mean),
        cmocka_unit_test(test_unknown_type_did_you_mean),
        cmocka_unit_test(test_unknown_name),
        cmocka_unit_test(test_const_checked_in_module_without_records),
        cmocka_unit_test(test_duplicate_declaration),
        cmocka_unit_test(test_duplicate_commitment_across_files),
        cmocka_unit_test(test_ambiguous_value_name),
        cmocka_unit_test(test_ambiguous_record_type_reported_once),
        cmocka_unit_test(test_unknown_import),
        cmocka_unit_test(test_name_from_module_not_imported),
        cmocka_unit_test(test_type_mismatch_in_comparison),
        cmocka_unit_test(test_unit_dimension_mismatch),
        cmocka_unit_test(test_arithmetic_on_incompatible_units),
        cmocka_unit_test(test_eq_missing),
        cmocka_unit_test(test_time_varying_set_without_at),
        cmocka_unit_test(test_let_cycle),
        cmocka_unit_test(test_let_declared_type_differs),
        cmocka_unit_test(test_record_lacks_id_or_date),
        cmocka_unit_test(test_commitment_lacks_applies_to),
        cmocka_unit_test(test_invalid_then_severity),
        cmocka_unit_test(test_message_interpolation_unknown_field),
        cmocka_unit_test(test_several_errors_in_line_order),
        cmocka_unit_test(test_syntax_error_skips_name_checks),
        cmocka_unit_test(test_diagnostic_format),
    };
    return cmocka_run_group_tests_name("check", tests, setup, teardown);
}
