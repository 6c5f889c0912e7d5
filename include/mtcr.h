/* mtcr.h — the one public header of libmtcr.
 *
 * libmtcr compiles rule files written in the mtcr rule language and evaluates
 * records (transfers, launches, ...) against them.  Contracts of the whole API:
 *  - no global state except the optional allocator hook, which a host sets once
 *    before any other call;
 *  - the library never prints, never exits and never aborts on bad input: every
 *    failure is returned (NULL, a negative status, or diagnostics with locations);
 *  - a compiled mtcr_rules is immutable and may be used from many threads at once;
 *    a mtcr_batch belongs to one thread at a time.
 */
#ifndef MTCR_H
#define MTCR_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define MTCR_API __attribute__((visibility("default")))
#else
#define MTCR_API
#endif

#define MTCR_VERSION "0.1.0"

/* ---- allocation ---------------------------------------------------------------- */

typedef struct mtcr_allocator {
    /* realloc(ud, NULL, n) allocates; realloc(ud, p, n) resizes; NULL = out of memory */
    void *(*realloc)(void *ud, void *p, size_t n);
    void (*free)(void *ud, void *p);
    void *ud;
} mtcr_allocator;

/* Route every allocation of the library through `a` (NULL: back to malloc). */
MTCR_API void mtcr_set_allocator(const mtcr_allocator *a);
/* Free a string returned by the library. */
MTCR_API void mtcr_free(void *p);
MTCR_API const char *mtcr_version(void);

/* ---- severities ------------------------------------------------------------------ */

typedef enum {
    MTCR_CLEAR = 0, MTCR_NOTIFY = 1, MTCR_REVIEW = 2, MTCR_DENY = 3, MTCR_PROHIBIT = 4
} mtcr_severity;

MTCR_API const char *mtcr_severity_name(mtcr_severity s);
/* -1 if `name` is not a severity */
MTCR_API int mtcr_severity_parse(const char *name);

/* ---- compiling rules ---------------------------------------------------------------- */

typedef struct mtcr_rules mtcr_rules;
typedef struct mtcr_diagnostics mtcr_diagnostics;

typedef struct mtcr_options {
    const char *const *include_dirs; /* -I, searched before the built-in standard library */
    size_t n_include_dirs;
} mtcr_options;

/* Compile the rule files or directories in `paths` (a directory: its .mtcr files,
 * recursively, sorted by path).  npaths == 0 compiles the built-in standard library.
 * Returns NULL when there are errors; *diags (if diags != NULL) receives every
 * diagnostic, errors and warnings, and must be freed with mtcr_diagnostics_free. */
MTCR_API mtcr_rules *mtcr_compile_paths(const mtcr_options *opts, const char *const *paths,
                                        size_t npaths, mtcr_diagnostics **diags);
/* One path (NULL: the standard library). */
MTCR_API mtcr_rules *mtcr_compile(const mtcr_options *opts, const char *path,
                                  mtcr_diagnostics **diags);
MTCR_API void mtcr_rules_free(mtcr_rules *r);

typedef struct mtcr_diagnostic_info {
    int is_error; /* 1 error, 0 warning/note */
    const char *file; /* NULL when not tied to a file */
    int line, column;
    const char *message;
    const char *hint; /* NULL when none */
} mtcr_diagnostic_info;

MTCR_API size_t mtcr_diagnostics_count(const mtcr_diagnostics *d);
MTCR_API size_t mtcr_diagnostics_errors(const mtcr_diagnostics *d);
MTCR_API int mtcr_diagnostic_get(const mtcr_diagnostics *d, size_t i, mtcr_diagnostic_info *out);
/* `file:line:col: error: message`, the source line, a caret and the hint;
 * heap string, free with mtcr_free. */
MTCR_API char *mtcr_diagnostic_format(const mtcr_diagnostics *d, size_t i, int color);
MTCR_API void mtcr_diagnostics_free(mtcr_diagnostics *d);

/* ---- schemas ------------------------------------------------------------------------- */

MTCR_API size_t mtcr_record_count(const mtcr_rules *r);
MTCR_API const char *mtcr_record_name(const mtcr_rules *r, size_t i); /* "transfer" */
/* The compiled program of record type i as readable text (one step per line),
 * for engineers and tests.  Heap string (mtcr_free); NULL on out of memory. */
MTCR_API char *mtcr_disassemble(const mtcr_rules *r, size_t i);
/* index of a record type by name (qualified or not), -1 if none */
MTCR_API int mtcr_record_find(const mtcr_rules *r, const char *name);

typedef struct mtcr_field_info {
    const char *name;
    const char *column;  /* the header that is read */
    const char *type;    /* "string", "mass", "country", "system_kind", ... */
    const char *unit;    /* unit of bare input numbers for quantities, else NULL */
    int required;
} mtcr_field_info;

MTCR_API size_t mtcr_record_field_count(const mtcr_rules *r, int record);
MTCR_API int mtcr_record_field(const mtcr_rules *r, int record, size_t i, mtcr_field_info *out);

/* Commitments and rules, in declaration order (imported modules first). */
MTCR_API size_t mtcr_rule_count(const mtcr_rules *r);
typedef struct mtcr_rule_info {
    const char *name;       /* "guidelines.cat1_rare_occasions" */
    const char *commitment; /* "guidelines" */
    const char *module;     /* "mtcr.guidelines" */
    const char *title;
    const char *cite;
    mtcr_severity severity;
    const char *record;     /* the record type the commitment applies to */
} mtcr_rule_info;
MTCR_API int mtcr_rule_get(const mtcr_rules *r, size_t i, mtcr_rule_info *out);

/* ---- evaluating batches ------------------------------------------------------------------ */

typedef struct mtcr_batch mtcr_batch;

/* A batch of up to `capacity` records of `record_type`.  NULL if the type is unknown. */
MTCR_API mtcr_batch *mtcr_batch_new(const mtcr_rules *r, const char *record_type, size_t capacity);
MTCR_API void mtcr_batch_free(mtcr_batch *b);
/* Forget all rows. */
MTCR_API void mtcr_batch_clear(mtcr_batch *b);
/* Set a field of row `row` (rows 0..capacity-1; the batch holds max(row)+1 rows)
 * from input text (same syntax as a CSV cell; len 0 = missing).  Returns 0; -1 if the
 * field is unknown; 1 if the text is invalid (the row is then rejected; see
 * mtcr_batch_row_error). The text is copied. */
MTCR_API int mtcr_batch_set(mtcr_batch *b, size_t row, const char *field, const char *text, size_t len);
MTCR_API const char *mtcr_batch_row_error(const mtcr_batch *b, size_t row);

typedef struct mtcr_finding {
    size_t rule;           /* index for mtcr_rule_get */
    mtcr_severity severity;
    int unknown;           /* 1: the `if unknown` clause gave this finding */
    const char *message;   /* interpolated; valid until the next evaluation of the batch */
} mtcr_finding;

/* Evaluate every row of the batch.  Returns 0, or -1 on out of memory.  Per row:
 * mtcr_batch_verdict (-1 for a rejected row) and its findings. */
MTCR_API int mtcr_evaluate(const mtcr_rules *r, mtcr_batch *b);
MTCR_API int mtcr_batch_verdict(const mtcr_batch *b, size_t row);
MTCR_API size_t mtcr_batch_findings(const mtcr_batch *b, size_t row, const mtcr_finding **out);

/* ---- checking files (what `mtcr-rules check` does) ---------------------------------------- */

typedef enum { MTCR_FORMAT_TEXT, MTCR_FORMAT_JSONL, MTCR_FORMAT_CSV } mtcr_format;
typedef enum { MTCR_ENGINE_AUTO, MTCR_ENGINE_INTERP, MTCR_ENGINE_JIT } mtcr_engine;

/* Output goes to the host through this callback, in large buffered chunks.  A
 * non-zero return stops the check with an error. */
typedef int (*mtcr_write_fn)(void *ud, const char *data, size_t len);

typedef struct mtcr_check_options {
    const char *record;      /* record type; NULL: detect from the header */
    mtcr_format format;
    int all;                 /* print clear records too */
    int explain;             /* attach evidence */
    int color;               /* text format: ANSI colours */
    int with_file;           /* jsonl: add "file"; csv: a file column (several inputs) */
    int no_header;           /* csv: omit the header line (later inputs of one output) */
    mtcr_engine engine;
    int threads;             /* 0: number of cores */
} mtcr_check_options;

typedef struct mtcr_stats mtcr_stats;
MTCR_API mtcr_stats *mtcr_stats_new(void);
MTCR_API void mtcr_stats_free(mtcr_stats *s);
MTCR_API uint64_t mtcr_stats_read(const mtcr_stats *s);
MTCR_API uint64_t mtcr_stats_rejected(const mtcr_stats *s);
MTCR_API uint64_t mtcr_stats_verdicts(const mtcr_stats *s, mtcr_severity sev);
/* The summary: records read, rejected, counts by verdict; with `detailed`, counts by
 * commitment and by state.  Heap string (mtcr_free). */
MTCR_API char *mtcr_stats_format(const mtcr_rules *r, const mtcr_stats *s, int detailed, int color);

/* Check one input file ("-" = standard input; CSV or JSON Lines, gzip or not) and
 * write the records to `write`.  `stats` may be NULL (no counts kept); one stats
 * object may collect several files of the same rules.  Status: 0 done (stats
 * updated; records may have been rejected); -1 an error before any record was
 * evaluated or an I/O error —
 * *error is a heap message (mtcr_free), e.g. a missing required column or an
 * ambiguous record type. */
MTCR_API int mtcr_check_file(const mtcr_rules *r, const mtcr_check_options *o, const char *path,
                             mtcr_write_fn write, void *ud, mtcr_stats *stats, char **error);

/* ---- tests (what `mtcr-rules test` does) ----------------------------------------------------- */

typedef struct mtcr_test_result {
    const char *name;    /* the test's name or title, or "file:line" */
    const char *file;
    int line;
    int passed;
    const char *failure; /* why it failed, NULL when passed */
} mtcr_test_result;

/* Run every test block of the files the rules were compiled from (the standard
 * library's tests when it was compiled as the default).  Calls `each` once per
 * test; returns the number of failed tests, or -1 on out of memory. */
MTCR_API long mtcr_run_tests(const mtcr_rules *r, void (*each)(void *ud, const mtcr_test_result *),
                             void *ud);

#ifdef __cplusplus
}
#endif
#endif
