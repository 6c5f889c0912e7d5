/* compiler.h — the compiler's internal interface: modules (module.c), checking and
 * lowering to the one program (check.c).
 *
 * Contract: cm_compile never prints and never fails on bad rules: it returns a
 * cm_compiled whose diags hold every error (rules.nrecords etc. are only
 * meaningful when diags.nerrors == 0).  NULL only on out of memory.
 */
#ifndef MTCR_COMPILER_H
#define MTCR_COMPILER_H

#include "../parser/ast.h"
#include "../runtime/arena.h"
#include "../runtime/program.h"
#include "diag.h"

/* ---- modules ---------------------------------------------------------------------- */

typedef struct cm_module cm_module;
struct cm_module {
    const char *name;      /* from `module x.y;` */
    ast_file *ast;
    const diag_source *src;
    const char *dir;       /* directory of the file ("" for the embedded copy) */
    int embedded;          /* 1: from the built-in standard library */
    cm_module **imports;   /* resolved, in import order (NULL entries for failed imports) */
    size_t nimports;
    int state;             /* 0 new, 1 loading, 2 done (import DFS) */
    int order;             /* position in declaration order */
};

typedef struct {
    const char *const *include_dirs;
    size_t ninclude;
    ar_arena *arena;
    diag_list *diags;
    cm_module **mods;      /* in declaration order: imports first */
    size_t nmods, capmods;
    cm_module **all;       /* every loaded module, any order (lookup by name) */
    size_t nall, capall;
} cm_loader;

/* Load the rule files and directories `paths` (npaths 0: the whole standard
 * library) with their imports, and always the `countries` module first. */
int cm_load(cm_loader *L, const char *const *paths, size_t npaths);
cm_module *cm_find_module(const cm_loader *L, const char *name);
/* Read a whole file into the arena (NUL-terminated).  NULL + errno on failure. */
char *cm_read_file(ar_arena *a, const char *path, size_t *len);

/* ---- compiled rule sets ---------------------------------------------------------------- */

typedef struct {
    ast_expect_kind kind;
    int sev;      /* EXPECT_SEVERITY */
    int rule;     /* EXPECT_FINDING / NO_FINDING: index in rules.rules */
    diag_loc loc;
} cm_expect;

typedef struct {
    const char *name;   /* name, title, or "test at file:line" */
    const char *file;
    int line;
    int record;         /* index in rules.records, -1 when the test has no given */
    size_t ngiven;
    int *given_field;   /* field index */
    const char **given_text; /* input text, NULL = missing */
    size_t *given_len;
    uint8_t *enabled;   /* per commitment */
    cm_expect *expects;
    size_t nexpects;
} cm_test;

typedef struct {
    ar_arena arena;     /* sources, ASTs, the program: everything */
    diag_list diags;
    pg_rules rules;
    cm_test *tests;
    size_t ntests;
    int refs;           /* holders; cm_free releases one and frees at zero (starts at 1) */
} cm_compiled;

cm_compiled *cm_compile(const char *const *include_dirs, size_t ninclude, const char *const *paths,
                        size_t npaths);
/* Release one reference; frees everything when the last holder lets go.  Diagnostics point
 * into the arena (source names and lines), so whoever keeps diagnostics keeps a reference. */
void cm_free(cm_compiled *c);

#endif
