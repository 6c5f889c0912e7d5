/* writer.h — output of `check` (SPEC 5): text, JSON Lines, CSV.
 *
 * Contract: the writer formats into one growing buffer and hands it to the
 * host's write callback in chunks of at least WR_FLUSH bytes (and at the end);
 * it never prints.  A failed callback makes every later call a no-op and
 * wr_finish return -1.
 */
#ifndef MTCR_WRITER_H
#define MTCR_WRITER_H

#include "../include/mtcr.h"
#include "program.h"

#define WR_FLUSH (256 * 1024)

typedef struct {
    mtcr_format fmt;
    int all, explain, color, with_file;
    const char *file;     /* input name for "file" and the text format */
    mtcr_write_fn write;
    void *ud;
    pg_buf out;
    int failed;
    int header_done;      /* csv: set to omit the header */
    /* scratch and caches, owned (wr_finish frees them) */
    pg_buf msg;           /* one message or value being rendered */
    pg_buf fixed;         /* jsonl: per rule and outcome, the escaped text before and after the message */
    size_t *fixed_at;     /* per rule: 4 offsets into fixed (fired pre, fired post, unknown pre, unknown post), +1 end */
    const pg_rules *fixed_for;
} wr_ctx;

/* One record: a rejected one (reject != NULL) or an evaluated row of bt.
 * `id` may be NULL when the id cell could not be read. */
void wr_record(wr_ctx *w, const pg_batch *bt, size_t row, uint64_t line, const char *id, size_t idlen,
               const char *reject);
/* Does a row print?  (rejected: always; findings: always; clear: with --all) */
int wr_wants(const wr_ctx *w, const pg_batch *bt, size_t row);
/* Start the output: the csv header unless header_done is set already. */
void wr_begin(wr_ctx *w);
int wr_flush(wr_ctx *w);
int wr_finish(wr_ctx *w);

/* JSON string body escaping (no quotes added). */
void wr_json_escape(pg_buf *b, const char *s, size_t n);

#endif
