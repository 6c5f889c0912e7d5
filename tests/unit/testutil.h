/* testutil.h — helpers of the API tests: a per-test-program temporary directory
 * for rule files and inputs (the API reads from paths), compiling a rule text,
 * and printing diagnostics.  Include after <cmocka.h>; use setup/teardown as
 * cmocka group fixtures.  TMP_PREFIX names the directory. */
#ifndef MTCR_TEST_UTIL_H
#define MTCR_TEST_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mtcr.h"

#ifndef TMP_PREFIX
#define TMP_PREFIX "mtcr-test"
#endif

static char tmpdir[256];

/* Write `len` bytes to tmpdir/name; returns the path (a static buffer: copy it to
 * keep it across calls). */
static __attribute__((unused)) const char *write_tmp_n(const char *name, const char *text, size_t len)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    fclose(f);
    return path;
}

static __attribute__((unused)) const char *write_tmp(const char *name, const char *text) { return write_tmp_n(name, text, strlen(text)); }

/* Compile one rule text written to tmpdir/name (the built-in library is imported from). */
static __attribute__((unused)) mtcr_rules *compile_text(const char *name, const char *text, mtcr_diagnostics **d)
{
    return mtcr_compile(NULL, write_tmp(name, text), d);
}

/* Print every diagnostic (cmocka shows it when the test then fails). */
static __attribute__((unused)) void dump(const mtcr_diagnostics *d)
{
    for (size_t i = 0; i < mtcr_diagnostics_count(d); i++) {
        char *s = mtcr_diagnostic_format(d, i, 0);
        fprintf(stderr, "%s", s ? s : "(null)\n");
        mtcr_free(s);
    }
}

/* Compile a rule text that must compile (its diagnostics are printed if not). */
static __attribute__((unused)) mtcr_rules *compile_ok(const char *name, const char *text)
{
    mtcr_diagnostics *d = NULL;
    mtcr_rules *r = compile_text(name, text, &d);
    if (!r)
        dump(d);
    assert_non_null(r);
    mtcr_diagnostics_free(d);
    return r;
}

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/" TMP_PREFIX "-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

#endif
