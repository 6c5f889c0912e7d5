/* diag.h — diagnostics as values: location, message, hint.
 *
 * Contract: nothing here prints.  diag_format renders one diagnostic the way the
 * CLI shows it (`file:line:col: error: message`, the source line, a caret, an
 * optional `hint:` line) into a string the caller owns.
 */
#ifndef MTCR_DIAG_H
#define MTCR_DIAG_H

#include <stddef.h>

/* A source file's text, kept alive for the whole compile so that diagnostics
 * can quote the line. */
typedef struct {
    const char *name; /* path as given, or "<stdlib>/mtcr/annex.mtcr" */
    const char *text;
    size_t len;
} diag_source;

typedef struct {
    const diag_source *src; /* NULL: no location (command-line level) */
    int line;               /* 1-based */
    int col;                /* 1-based, in bytes */
} diag_loc;

typedef enum { DIAG_ERROR, DIAG_WARNING, DIAG_NOTE } diag_level;

typedef struct {
    diag_level level;
    diag_loc loc;
    char *message; /* heap (mtcr_xmalloc) */
    char *hint;    /* NULL or heap */
} diag;

typedef struct {
    diag *items;
    size_t len, cap;
    size_t nerrors;
    int oom; /* set when a diagnostic itself could not be stored */
} diag_list;

void diag_init(diag_list *d);
void diag_free(diag_list *d);

/* Append a diagnostic; `hint` may be NULL.  Returns the stored diagnostic or NULL on out of memory. */
diag *diag_add(diag_list *d, diag_level level, diag_loc loc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void diag_hint(diag *dg, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Render as text (heap string, caller frees with mtcr_xfree). */
char *diag_format(const diag *dg, int color);

/* Sort by file, line, column (stable) so a file's errors read top to bottom. */
void diag_sort(diag_list *d);

/* Levenshtein-based suggestion: the candidate closest to `name` within a small
 * distance, or NULL. */
const char *diag_suggest(const char *name, const char *const *candidates, size_t n);

#endif
