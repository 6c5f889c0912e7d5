/* reader.h — record readers: CSV (RFC 4180) and JSON Lines, plain or gzip.
 *
 * Contract:
 *  - rd_open reads the header (CSV: first row; JSON Lines: the keys of the first
 *    valid object, lines before it are still records) and nothing else;
 *    rd_column lists it.
 *  - rd_select sets the projection: the fields the caller wants, by column name.
 *    Only these cells are decoded; the others are skipped without copying.
 *  - rd_read_batch fills up to `max` rows.  Cell text is decoded (CSV quotes
 *    unescaped, JSON escapes applied) and stays valid until the next
 *    rd_read_batch or rd_close.  A row that cannot be read as a whole (wrong
 *    number of cells, invalid JSON, an array or object value, invalid UTF-8 in a
 *    selected cell) is still returned, with `error` set and whatever cells could
 *    be read (so its id can be printed); reading goes on after it.
 *  - Blank lines are skipped and not counted as records; `line` is the 1-based
 *    physical line where the record starts.
 *  - Nothing prints; I/O errors are returned as -1 with a message.
 */
#ifndef MTCR_READER_H
#define MTCR_READER_H

#include <stddef.h>
#include <stdint.h>

typedef enum { RD_AUTO, RD_CSV, RD_JSONL } rd_format;

typedef struct {
    const char *p;  /* decoded text (not NUL-terminated); NULL when missing */
    uint32_t len;
    uint8_t present; /* 0: empty cell, absent key, JSON null or "" — the value is missing */
    uint8_t json_string; /* JSON Lines only: the value was a JSON string (not number/bool) */
} rd_cell;

typedef struct {
    size_t nrows;    /* rows in this batch */
    size_t ncols;    /* selected columns (rd_select's n) */
    rd_cell *cells;  /* nrows * ncols, row-major: cells[r * ncols + c] */
    uint64_t *line;  /* start line of each row */
    const char **error; /* per row: NULL, or why the row as a whole is bad ("expected 18 cells, found 17") */
} rd_batch;

typedef struct rd_reader rd_reader;

/* Open `path` ("-" = standard input).  Gzip is detected by its magic bytes, not by
 * the name.  Format RD_AUTO: JSON Lines if the name ends in .jsonl/.ndjson/.json
 * (before any .gz) or the first non-blank byte is '{', else CSV.  On error returns
 * NULL and a heap message in *err (free with mtcr_xfree). */
rd_reader *rd_open(const char *path, rd_format fmt, char **err);
/* Same, over a memory buffer (not copied; must outlive the reader). */
rd_reader *rd_open_mem(const char *name, const char *data, size_t len, rd_format fmt, char **err);

rd_format rd_get_format(const rd_reader *r);
const char *rd_name(const rd_reader *r);

/* Header columns (CSV) or first object's keys (JSONL).  An empty input has 0. */
size_t rd_ncolumns(const rd_reader *r);
/* Does the input hold any record?  CSV: a header row; JSON Lines: a non-blank line
 * (whose keys may still be none when no line is a valid object). */
int rd_has_records(const rd_reader *r);
const char *rd_column(const rd_reader *r, size_t i);

/* Select the columns to decode, by name; names[i] absent from the header gives
 * missing cells in column i.  0 or -1 on out of memory. */
int rd_select(rd_reader *r, size_t n, const char *const *names);

/* Read up to `max` rows into b (storage owned by the reader).  Returns the number
 * of rows (0 at end of input) or -1 on an I/O or decompression error (*err set,
 * heap). */
long rd_read_batch(rd_reader *r, rd_batch *b, size_t max, char **err);

void rd_close(rd_reader *r);

#endif
