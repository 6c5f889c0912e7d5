/* test_diag.c — diagnostics: storage and counting, the exact text of
 * diag_format (location, quoted line, caret, hint, colour), ordering, and the
 * Levenshtein suggestions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "compiler/diag.h"
#include "include/mtcr.h"
#include "runtime/arena.h"

static const char text[] = "module t;\n"
                           "  rule one { when paylod >= 500 kg; then deny; }\n"
                           "\tlet\tx = y;\r\n"
                           "let s = \"caf\xC3\xA9\" + z;\n"
                           "last line without newline";
static const diag_source src = {"rules.mtcr", text, sizeof text - 1};

static char *fmt1(diag_level lv, int line, int col, const char *msg, const char *hint, int color)
{
    diag_list d;
    diag_init(&d);
    diag *g = diag_add(&d, lv, (diag_loc){&src, line, col}, "%s", msg);
    assert_non_null(g);
    if (hint)
        diag_hint(g, "%s", hint);
    char *s = diag_format(g, color);
    assert_non_null(s);
    diag_free(&d);
    return s;
}

static void expect_format(diag_level lv, int line, int col, const char *msg, const char *hint, int color,
                          const char *want)
{
    char *s = fmt1(lv, line, col, msg, hint, color);
    assert_string_equal(s, want);
    mtcr_xfree(s);
}

static void test_format_with_hint(void **state)
{
    (void)state;
    expect_format(DIAG_ERROR, 2, 19, "unknown name 'paylod'", "did you mean 'payload'?", 0,
                  "rules.mtcr:2:19: error: unknown name 'paylod'\n"
                  "    rule one { when paylod >= 500 kg; then deny; }\n"
                  "                    ^\n"
                  "  hint: did you mean 'payload'?\n");
}

static void test_format_without_hint_and_levels(void **state)
{
    (void)state;
    expect_format(DIAG_ERROR, 1, 1, "first column", NULL, 0,
                  "rules.mtcr:1:1: error: first column\n"
                  "  module t;\n"
                  "  ^\n");
    expect_format(DIAG_WARNING, 1, 9, "a warning", NULL, 0,
                  "rules.mtcr:1:9: warning: a warning\n"
                  "  module t;\n"
                  "          ^\n");
    expect_format(DIAG_NOTE, 1, 8, "a note", NULL, 0,
                  "rules.mtcr:1:8: note: a note\n"
                  "  module t;\n"
                  "         ^\n");
}

/* Tabs before the column are copied so the caret lines up with any tab width;
 * the '\r' of a CRLF line is not quoted. */
static void test_format_tabs_and_crlf(void **state)
{
    (void)state;
    expect_format(DIAG_ERROR, 3, 6, "at x", NULL, 0,
                  "rules.mtcr:3:6: error: at x\n"
                  "  \tlet\tx = y;\n"
                  "  \t   \t^\n");
}

/* A column after multi-byte UTF-8 counts bytes; the caret counts characters. */
static void test_format_utf8(void **state)
{
    (void)state;
    expect_format(DIAG_ERROR, 4, 19, "at z", NULL, 0,
                  "rules.mtcr:4:19: error: at z\n"
                  "  let s = \"caf\xC3\xA9\" + z;\n"
                  "                   ^\n");
}

static void test_format_edges(void **state)
{
    (void)state;
    /* the last line has no newline */
    expect_format(DIAG_ERROR, 5, 6, "end", NULL, 0,
                  "rules.mtcr:5:6: error: end\n"
                  "  last line without newline\n"
                  "       ^\n");
    /* a column just past the end of the line (end of file) */
    expect_format(DIAG_ERROR, 1, 10, "eol", NULL, 0,
                  "rules.mtcr:1:10: error: eol\n"
                  "  module t;\n"
                  "           ^\n");
    /* a line the file does not have: no quote */
    expect_format(DIAG_ERROR, 9, 1, "nowhere", "h", 0,
                  "rules.mtcr:9:1: error: nowhere\n"
                  "  hint: h\n");
    /* a file-level diagnostic (line 0): the name only */
    expect_format(DIAG_ERROR, 0, 0, "cannot read", NULL, 0, "rules.mtcr: error: cannot read\n");
}

static void test_format_no_location(void **state)
{
    (void)state;
    diag_list d;
    diag_init(&d);
    diag *g = diag_add(&d, DIAG_ERROR, (diag_loc){NULL, 0, 0}, "no rule files given (%d)", 0);
    diag_hint(g, "pass -r %s", "DIR");
    char *s = diag_format(g, 0);
    assert_string_equal(s, "error: no rule files given (0)\n  hint: pass -r DIR\n");
    mtcr_xfree(s);
    diag_free(&d);

    /* a source without text still names the file and position */
    diag_source notext = {"x.mtcr", NULL, 0};
    diag one = {DIAG_ERROR, {&notext, 3, 4}, "m", NULL};
    s = diag_format(&one, 0);
    assert_string_equal(s, "x.mtcr:3:4: error: m\n");
    mtcr_xfree(s);
}

static void test_format_color(void **state)
{
    (void)state;
    expect_format(DIAG_ERROR, 1, 3, "msg", "hint text", 1,
                  "\033[1mrules.mtcr:1:3: \033[0m\033[1;31merror:\033[0m\033[1m msg\033[0m\n"
                  "  module t;\n"
                  "    \033[1;32m^\033[0m\n"
                  "  \033[1;36mhint:\033[0m hint text\n");
    /* without colour there is no escape byte anywhere */
    char *s = fmt1(DIAG_WARNING, 1, 3, "msg", "h", 0);
    assert_null(strchr(s, '\033'));
    mtcr_xfree(s);
}

static void test_add_and_count(void **state)
{
    (void)state;
    diag_list d;
    diag_init(&d);
    for (int i = 0; i < 100; i++)
        assert_non_null(diag_add(&d, i % 2 ? DIAG_WARNING : DIAG_ERROR, (diag_loc){&src, i, 1}, "m%d", i));
    assert_int_equal(d.len, 100);
    assert_int_equal(d.nerrors, 50);
    assert_string_equal(d.items[99].message, "m99");
    assert_null(d.items[0].hint);
    diag_hint(&d.items[3], "first");
    diag_hint(&d.items[3], "second %s", "replaces");
    assert_string_equal(d.items[3].hint, "second replaces");
    diag_hint(NULL, "ignored");
    diag_free(&d);
    assert_int_equal(d.len, 0);
    assert_null(d.items);
    diag_free(&d); /* twice is harmless */
}

static void test_sort(void **state)
{
    (void)state;
    diag_source other = {"b.mtcr", "x\n", 2};
    diag_source same_name = {"rules.mtcr", text, sizeof text - 1};
    diag_list d;
    diag_init(&d);
    diag_add(&d, DIAG_ERROR, (diag_loc){&src, 5, 2}, "a5:2");
    diag_add(&d, DIAG_ERROR, (diag_loc){&other, 1, 1}, "b1:1");
    diag_add(&d, DIAG_ERROR, (diag_loc){&src, 2, 9}, "a2:9");
    diag_add(&d, DIAG_ERROR, (diag_loc){&same_name, 2, 3}, "a2:3");
    diag_add(&d, DIAG_ERROR, (diag_loc){&src, 2, 9}, "a2:9 second");
    diag_add(&d, DIAG_ERROR, (diag_loc){NULL, 0, 0}, "none");
    diag_add(&d, DIAG_ERROR, (diag_loc){&other, 0, 0}, "b file");
    diag_sort(&d);
    const char *want[] = {"a2:3", "a2:9", "a2:9 second", "a5:2", "b file", "b1:1", "none"};
    assert_int_equal(d.len, 7);
    for (size_t i = 0; i < 7; i++)
        assert_string_equal(d.items[i].message, want[i]);
    diag_free(&d);

    diag_init(&d);
    diag_sort(&d); /* empty */
    assert_int_equal(d.len, 0);
}

static void test_suggest(void **state)
{
    (void)state;
    const char *const fields[] = {"payload", "range", "importer", "exporter", "date", "id"};
    assert_string_equal(diag_suggest("paylod", fields, 6), "payload");
    assert_string_equal(diag_suggest("Payload", fields, 6), "payload");
    assert_null(diag_suggest("rnage", fields, 6)); /* a swap is 2 edits; 5 letters allow 1 */
    assert_string_equal(diag_suggest("imprter", fields, 6), "importer");
    assert_string_equal(diag_suggest("exportr", fields, 6), "exporter");
    assert_string_equal(diag_suggest("dat", fields, 6), "date");
    assert_string_equal(diag_suggest("ix", fields, 6), "id");
    assert_null(diag_suggest("weight", fields, 6));
    assert_null(diag_suggest("xy", fields, 6));
    assert_null(diag_suggest("", fields, 6)); /* "" is 2 edits from "id" */
    /* the closest wins, the first among equals */
    const char *const units[] = {"kg", "km", "g", "t"};
    assert_string_equal(diag_suggest("kgs", units, 4), "kg");
    assert_string_equal(diag_suggest("kx", units, 4), "kg");
    const char *const two[] = {"abcdef", "abcxef", NULL};
    assert_string_equal(diag_suggest("abcdxf", two, 3), "abcdef");
    assert_null(diag_suggest("anything", NULL, 0));
    assert_null(diag_suggest(NULL, fields, 6));
    /* the limit is max(1, len/3): 9 letters allow 3 edits, not 4 */
    const char *const longer[] = {"abcdefghi"};
    assert_string_equal(diag_suggest("abcdefXYZ", longer, 1), "abcdefghi");
    assert_null(diag_suggest("abcdeWXYZ", longer, 1));
}

/* ---- out of memory -------------------------------------------------------------- */

static long fail_at, nalloc;

static void *oom_realloc(void *ud, void *p, size_t n)
{
    (void)ud;
    if (++nalloc == fail_at)
        return NULL;
    return realloc(p, n);
}

static void oom_free(void *ud, void *p)
{
    (void)ud;
    free(p);
}

static void test_out_of_memory(void **state)
{
    (void)state;
    mtcr_allocator al = {oom_realloc, oom_free, NULL};
    for (fail_at = 1; fail_at <= 4; fail_at++) {
        nalloc = 0;
        mtcr_set_allocator(&al);
        diag_list d;
        diag_init(&d);
        diag *g = diag_add(&d, DIAG_ERROR, (diag_loc){&src, 1, 1}, "message");
        if (g)
            diag_hint(g, "hint");
        char *s = g ? diag_format(g, 0) : NULL;
        mtcr_set_allocator(NULL);
        /* the error is counted even when it could not be stored */
        assert_int_equal(d.nerrors, 1);
        if (fail_at <= 2) {
            assert_null(g);
            assert_int_equal(d.oom, 1);
            assert_int_equal(d.len, 0);
        } else if (fail_at == 3) {
            assert_non_null(g);
            assert_null(g->hint); /* the hint is dropped, the diagnostic stays */
        } else {
            assert_null(s);
        }
        mtcr_xfree(s);
        diag_free(&d);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_with_hint),
        cmocka_unit_test(test_format_without_hint_and_levels),
        cmocka_unit_test(test_format_tabs_and_crlf),
        cmocka_unit_test(test_format_utf8),
        cmocka_unit_test(test_format_edges),
        cmocka_unit_test(test_format_no_location),
        cmocka_unit_test(test_format_color),
        cmocka_unit_test(test_add_and_count),
        cmocka_unit_test(test_sort),
        cmocka_unit_test(test_suggest),
        cmocka_unit_test(test_out_of_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
