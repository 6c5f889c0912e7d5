/* api.c — the public C API (include/mtcr.h) over the compiler and the runtime. */
#include "../include/mtcr.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "../compiler/compiler.h"
#include "arena.h"
#include "program.h"
#include "reader.h"
#include "cell.h"
#include "writer.h"

/* Rows per batch: large enough that per-step dispatch is amortised, small enough
 * that the registers a step touches stay in cache (16 bytes x 256 per column). */
#define BATCH_ROWS 256

struct mtcr_rules {
    cm_compiled *c;
};

struct mtcr_diagnostics {
    diag_list list;
    cm_compiled *owner; /* keeps the sources the diagnostics point into alive */
};

struct mtcr_stats {
    uint64_t read, rejected, verdicts[5];
    size_t ncommitments, nstates;
    uint64_t *by_commitment; /* ncommitments x 5: findings */
    uint64_t *by_state;      /* nstates x 5: verdicts */
    const mtcr_rules *rules; /* the rules the per-commitment counts refer to */
    int state_enum;
};

void mtcr_free(void *p) { mtcr_xfree(p); }
const char *mtcr_version(void) { return MTCR_VERSION; }

static const char *const sev_names[] = {"clear", "notify", "review", "deny", "prohibit"};

const char *mtcr_severity_name(mtcr_severity s)
{
    return (unsigned)s < 5 ? sev_names[s] : "?";
}

int mtcr_severity_parse(const char *name)
{
    for (int i = 0; i < 5; i++)
        if (strcmp(name, sev_names[i]) == 0)
            return i;
    return -1;
}

/* ---- compiling ------------------------------------------------------------------------ */

static mtcr_diagnostics *take_diags(cm_compiled *c)
{
    mtcr_diagnostics *d = mtcr_xcalloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->list = c->diags; /* move */
    diag_init(&c->diags);
    d->owner = c;
    c->refs++;
    return d;
}

mtcr_rules *mtcr_compile_paths(const mtcr_options *opts, const char *const *paths, size_t npaths,
                               mtcr_diagnostics **diags)
{
    if (diags)
        *diags = NULL;
    cm_compiled *c = cm_compile(opts ? opts->include_dirs : NULL, opts ? opts->n_include_dirs : 0, paths,
                                npaths);
    if (!c)
        return NULL;
    size_t nerr = c->diags.nerrors;
    if (diags)
        *diags = take_diags(c);
    if (nerr) {
        cm_free(c);
        return NULL;
    }
    mtcr_rules *r = mtcr_xcalloc(1, sizeof *r);
    if (!r) {
        cm_free(c);
        return NULL;
    }
    r->c = c;
    return r;
}

mtcr_rules *mtcr_compile(const mtcr_options *opts, const char *path, mtcr_diagnostics **diags)
{
    return mtcr_compile_paths(opts, path ? &path : NULL, path ? 1 : 0, diags);
}

void mtcr_rules_free(mtcr_rules *r)
{
    if (!r)
        return;
    cm_free(r->c);
    mtcr_xfree(r);
}

size_t mtcr_diagnostics_count(const mtcr_diagnostics *d) { return d ? d->list.len : 0; }
size_t mtcr_diagnostics_errors(const mtcr_diagnostics *d) { return d ? d->list.nerrors : 0; }

int mtcr_diagnostic_get(const mtcr_diagnostics *d, size_t i, mtcr_diagnostic_info *out)
{
    if (!d || i >= d->list.len)
        return -1;
    const diag *g = &d->list.items[i];
    out->is_error = g->level == DIAG_ERROR;
    out->file = g->loc.src ? g->loc.src->name : NULL;
    out->line = g->loc.line;
    out->column = g->loc.col;
    out->message = g->message;
    out->hint = g->hint;
    return 0;
}

char *mtcr_diagnostic_format(const mtcr_diagnostics *d, size_t i, int color)
{
    if (!d || i >= d->list.len)
        return NULL;
    return diag_format(&d->list.items[i], color);
}

void mtcr_diagnostics_free(mtcr_diagnostics *d)
{
    if (!d)
        return;
    diag_free(&d->list);
    cm_free(d->owner);
    mtcr_xfree(d);
}

/* ---- schemas and rules --------------------------------------------------------------------- */

static const pg_rules *R(const mtcr_rules *r) { return &r->c->rules; }

size_t mtcr_record_count(const mtcr_rules *r) { return R(r)->nrecords; }

char *mtcr_disassemble(const mtcr_rules *r, size_t i)
{
    if (!r || i >= R(r)->nrecords)
        return NULL;
    pg_buf b = {0};
    pg_disassemble(&b, R(r), &R(r)->records[i]);
    pg_buf_putc(&b, '\0');
    if (b.oom) {
        mtcr_xfree(b.p);
        return NULL;
    }
    return b.p;
}

const char *mtcr_record_name(const mtcr_rules *r, size_t i)
{
    return i < R(r)->nrecords ? R(r)->records[i].name : NULL;
}

int mtcr_record_find(const mtcr_rules *r, const char *name)
{
    for (size_t i = 0; i < R(r)->nrecords; i++) {
        const pg_record *rec = &R(r)->records[i];
        if (strcmp(rec->name, name) == 0)
            return (int)i;
        size_t ml = rec->module ? strlen(rec->module) : 0;
        if (ml && strncmp(name, rec->module, ml) == 0 && name[ml] == '.' && strcmp(name + ml + 1, rec->name) == 0)
            return (int)i;
    }
    return -1;
}

size_t mtcr_record_field_count(const mtcr_rules *r, int record)
{
    return record >= 0 && (size_t)record < R(r)->nrecords ? R(r)->records[record].nfields : 0;
}

int mtcr_record_field(const mtcr_rules *r, int record, size_t i, mtcr_field_info *out)
{
    if (record < 0 || (size_t)record >= R(r)->nrecords || i >= R(r)->records[record].nfields)
        return -1;
    const pg_field *f = &R(r)->records[record].fields[i];
    out->name = f->name;
    out->column = f->column;
    out->type = f->type_name;
    out->unit = f->dim ? f->unit->name : NULL;
    out->required = f->required;
    return 0;
}

size_t mtcr_rule_count(const mtcr_rules *r) { return R(r)->nrules; }

int mtcr_rule_get(const mtcr_rules *r, size_t i, mtcr_rule_info *out)
{
    if (i >= R(r)->nrules)
        return -1;
    const pg_rule *ru = &R(r)->rules[i];
    const pg_commitment *c = &R(r)->commitments[ru->commitment];
    out->name = ru->name;
    out->commitment = c->name;
    out->module = c->module;
    out->title = ru->title;
    out->cite = ru->cite;
    out->severity = (mtcr_severity)ru->severity;
    out->record = c->record >= 0 ? R(r)->records[c->record].name : NULL;
    return 0;
}

/* ---- filling batches from text ----------------------------------------------------------------- */

/* The cold paths of fill_cell, out of line so the common case stays small. */
static __attribute__((noinline)) void fill_required_missing(pg_batch *bt, const pg_field *fd, pg_val *v,
                                                            size_t i)
{
    v->known = 0;
    v->len = 0;
    v->s = "";
    if (!bt->rejected[i]) {
        bt->rejected[i] = 1;
        bt->reject_why[i] = ar_printf(bt->scratch, "%s: a value is required", fd->name);
    }
}

static __attribute__((noinline)) void fill_reject(pg_batch *bt, const pg_field *fd, pg_val *v, size_t i,
                                                  const char *s, size_t n, const char *why)
{
    v->known = 0;
    if (!bt->rejected[i]) {
        bt->rejected[i] = 1;
        int shown = n > 80 ? 80 : (int)n;
        bt->reject_why[i] = ar_printf(bt->scratch, "%s: %.*s%s %s", fd->name, shown, s, n > 80 ? "..." : "",
                                      why ? why : "is not valid");
    }
}

/* Read one cell into field f of row i; a bad or missing required cell rejects the row
 * with `field: <text> <why>` (the first reason is kept).  Inline with the cell
 * parser (cell.h): it runs once per cell of every record. */
static inline __attribute__((always_inline)) void fill_cell(pg_batch *bt, size_t f, size_t i, const char *s,
                                                            size_t n, int present)
{
    const pg_field *fd = &bt->rec->fields[f];
    pg_val *v = &bt->regs[f][i];
    if (!present) {
        if (fd->required)
            fill_required_missing(bt, fd, v, i);
        else { /* the common case, inline: an empty optional cell */
            v->known = 0;
            v->len = 0;
            v->s = "";
        }
        return;
    }
    const char *why = NULL;
    char whybuf[160];
    if (pg_cell_parse(bt->rules, fd, s, n, v, &why, whybuf) != 0)
        fill_reject(bt, fd, v, i, s, n, why);
}

/* ---- embedding batches ---------------------------------------------------------------------------- */

struct mtcr_batch {
    const mtcr_rules *rules;
    pg_batch *bt;
    ar_arena text; /* copies of the cell texts */
    uint8_t *set; /* rows x fields: set or not (unset required fields reject) */
    mtcr_finding *findings;
    size_t *nfind, *first; /* per row */
    pg_buf msgs;
};

mtcr_batch *mtcr_batch_new(const mtcr_rules *r, const char *record_type, size_t capacity)
{
    int rec = mtcr_record_find(r, record_type);
    if (rec < 0 || capacity == 0)
        return NULL;
    mtcr_batch *b = mtcr_xcalloc(1, sizeof *b);
    if (!b)
        return NULL;
    b->rules = r;
    b->bt = pg_batch_new(R(r), &R(r)->records[rec], capacity);
    b->set = mtcr_xcalloc(capacity, R(r)->records[rec].nfields + 1);
    b->nfind = mtcr_xcalloc(capacity, sizeof(size_t));
    b->first = mtcr_xcalloc(capacity, sizeof(size_t));
    if (!b->bt || !b->set || !b->nfind || !b->first) {
        mtcr_batch_free(b);
        return NULL;
    }
    ar_init(&b->text, 64 * 1024);
    return b;
}

void mtcr_batch_free(mtcr_batch *b)
{
    if (!b)
        return;
    pg_batch_free(b->bt);
    ar_free(&b->text);
    mtcr_xfree(b->set);
    mtcr_xfree(b->findings);
    mtcr_xfree(b->nfind);
    mtcr_xfree(b->first);
    mtcr_xfree(b->msgs.p);
    mtcr_xfree(b);
}

void mtcr_batch_clear(mtcr_batch *b)
{
    pg_batch_reset(b->bt);
    ar_reset(&b->text);
    memset(b->set, 0, b->bt->cap * (b->bt->rec->nfields + 1));
}

int mtcr_batch_set(mtcr_batch *b, size_t row, const char *field, const char *text, size_t len)
{
    if (row >= b->bt->cap)
        return -1;
    const pg_record *rec = b->bt->rec;
    size_t f = SIZE_MAX;
    for (size_t i = 0; i < rec->nfields; i++)
        if (strcmp(rec->fields[i].name, field) == 0)
            f = i;
    if (f == SIZE_MAX)
        return -1;
    if (row >= b->bt->nrows) {
        /* new rows start with every field missing */
        for (size_t r = b->bt->nrows; r <= row; r++)
            for (size_t k = 0; k < rec->nfields; k++)
                b->bt->regs[k][r].known = 0;
        b->bt->nrows = row + 1;
    }
    char *copy = ar_strndup(&b->text, text ? text : "", text ? len : 0);
    if (!copy)
        return -1;
    b->set[row * (rec->nfields + 1) + f] = 1;
    int was = b->bt->rejected[row];
    fill_cell(b->bt, f, row, copy, len, len > 0);
    if (len == 0 && rec->fields[f].required && !was) {
        /* an explicit empty required value rejects too (fill_cell did it) */
    }
    return b->bt->rejected[row] && !was ? 1 : 0;
}

const char *mtcr_batch_row_error(const mtcr_batch *b, size_t row)
{
    return row < b->bt->nrows && b->bt->rejected[row] ? b->bt->reject_why[row] : NULL;
}

int mtcr_evaluate(const mtcr_rules *r, mtcr_batch *b)
{
    pg_batch *bt = b->bt;
    const pg_record *rec = bt->rec;
    if (r != b->rules)
        return -1;
    /* required fields never set reject the row */
    for (size_t i = 0; i < bt->nrows; i++)
        for (size_t f = 0; f < rec->nfields; f++)
            if (rec->fields[f].required && !b->set[i * (rec->nfields + 1) + f] && !bt->rejected[i]) {
                bt->rejected[i] = 1;
                bt->reject_why[i] = ar_printf(bt->scratch, "%s: a value is required", rec->fields[f].name);
            }
    if (pg_interpret(bt))
        return -1;
    /* findings with rendered messages */
    size_t total = 0;
    for (size_t i = 0; i < bt->nrows; i++)
        for (size_t k = 0; k < rec->nrules; k++)
            total += bt->outcome[k * bt->cap + i] != PG_NONE;
    mtcr_xfree(b->findings);
    b->findings = mtcr_xcalloc(total + 1, sizeof *b->findings);
    if (!b->findings)
        return -1;
    b->msgs.len = 0;
    size_t *offs = mtcr_xcalloc(total + 1, sizeof(size_t));
    if (!offs)
        return -1;
    size_t n = 0;
    for (size_t i = 0; i < bt->nrows; i++) {
        b->first[i] = n;
        for (size_t k = 0; k < rec->nrules; k++) {
            int o = bt->outcome[k * bt->cap + i];
            if (o == PG_NONE)
                continue;
            const pg_rule *ru = &R(r)->rules[rec->rules[k]];
            mtcr_finding *f = &b->findings[n];
            f->rule = (size_t)rec->rules[k];
            f->unknown = o == PG_UNKNOWN;
            f->severity = (mtcr_severity)(o == PG_FIRED ? ru->severity : ru->unknown_severity);
            offs[n] = b->msgs.len;
            pg_render_message(&b->msgs, bt, ru, i, o == PG_UNKNOWN);
            pg_buf_putc(&b->msgs, 0);
            n++;
        }
        b->nfind[i] = n - b->first[i];
    }
    if (b->msgs.oom) {
        mtcr_xfree(offs);
        return -1;
    }
    for (size_t k = 0; k < n; k++)
        b->findings[k].message = b->msgs.p + offs[k];
    mtcr_xfree(offs);
    return 0;
}

int mtcr_batch_verdict(const mtcr_batch *b, size_t row)
{
    if (row >= b->bt->nrows || b->bt->rejected[row])
        return -1;
    return b->bt->verdict[row];
}

size_t mtcr_batch_findings(const mtcr_batch *b, size_t row, const mtcr_finding **out)
{
    if (row >= b->bt->nrows || !b->findings) {
        *out = NULL;
        return 0;
    }
    *out = b->findings + b->first[row];
    return b->nfind[row];
}

/* ---- stats ------------------------------------------------------------------------------------- */

mtcr_stats *mtcr_stats_new(void) { return mtcr_xcalloc(1, sizeof(mtcr_stats)); }

void mtcr_stats_free(mtcr_stats *s)
{
    if (!s)
        return;
    mtcr_xfree(s->by_commitment);
    mtcr_xfree(s->by_state);
    mtcr_xfree(s);
}

uint64_t mtcr_stats_read(const mtcr_stats *s) { return s->read; }
uint64_t mtcr_stats_rejected(const mtcr_stats *s) { return s->rejected; }
uint64_t mtcr_stats_verdicts(const mtcr_stats *s, mtcr_severity sev)
{
    return (unsigned)sev < 5 ? s->verdicts[sev] : 0;
}

static int stats_bind(mtcr_stats *s, const mtcr_rules *r)
{
    if (s->rules == r)
        return 0;
    if (s->rules) /* counts of another rule set: start over for the new one */
        return -1;
    s->rules = r;
    s->ncommitments = R(r)->ncommitments;
    s->by_commitment = mtcr_xcalloc(s->ncommitments * 5 + 1, sizeof(uint64_t));
    s->state_enum = -1;
    for (size_t i = 0; i < R(r)->nenums; i++)
        if (R(r)->enums[i].is_country)
            s->state_enum = (int)i;
    s->nstates = s->state_enum >= 0 ? R(r)->enums[s->state_enum].nmembers : 0;
    s->by_state = mtcr_xcalloc(s->nstates * 5 + 1, sizeof(uint64_t));
    return s->by_commitment && s->by_state ? 0 : -1;
}

static void pad(pg_buf *b, size_t have, size_t width)
{
    while (have++ < width)
        pg_buf_putc(b, ' ');
}

static void counts_line(pg_buf *b, const uint64_t *c5)
{
    for (int k = 4; k >= 1; k--) {
        if (!c5[k])
            continue;
        char tmp[48];
        snprintf(tmp, sizeof tmp, "  %s %llu", sev_names[k], (unsigned long long)c5[k]);
        pg_buf_puts(b, tmp);
    }
}

char *mtcr_stats_format(const mtcr_rules *r, const mtcr_stats *s, int detailed, int color)
{
    pg_buf b = {0};
    char tmp[256];
    uint64_t verdicts = 0;
    for (int k = 0; k < 5; k++)
        verdicts += s->verdicts[k];
    snprintf(tmp, sizeof tmp, "%s%llu record%s read: %llu verdict%s, %llu rejected%s\n", color ? "\033[1m" : "",
             (unsigned long long)s->read, s->read == 1 ? "" : "s", (unsigned long long)verdicts,
             verdicts == 1 ? "" : "s", (unsigned long long)s->rejected, color ? "\033[0m" : "");
    pg_buf_puts(&b, tmp);
    snprintf(tmp, sizeof tmp, "  prohibit %llu, deny %llu, review %llu, notify %llu, clear %llu\n",
             (unsigned long long)s->verdicts[4], (unsigned long long)s->verdicts[3],
             (unsigned long long)s->verdicts[2], (unsigned long long)s->verdicts[1],
             (unsigned long long)s->verdicts[0]);
    pg_buf_puts(&b, tmp);
    if (detailed && r && s->rules == r) {
        pg_buf_puts(&b, "findings by commitment:\n");
        int any = 0;
        for (size_t i = 0; i < s->ncommitments; i++) {
            const uint64_t *c5 = s->by_commitment + i * 5;
            if (!(c5[1] | c5[2] | c5[3] | c5[4]))
                continue;
            any = 1;
            const pg_commitment *c = &R(r)->commitments[i];
            pg_buf_puts(&b, "  ");
            pg_buf_puts(&b, c->name);
            pad(&b, strlen(c->name), 24);
            counts_line(&b, c5);
            if (c->title) {
                pg_buf_puts(&b, "   (");
                pg_buf_puts(&b, c->title);
                pg_buf_putc(&b, ')');
            }
            pg_buf_putc(&b, '\n');
        }
        if (!any)
            pg_buf_puts(&b, "  (none)\n");
        pg_buf_puts(&b, "verdicts by state:\n");
        any = 0;
        for (size_t i = 0; i < s->nstates; i++) {
            const uint64_t *c5 = s->by_state + i * 5;
            if (!(c5[0] | c5[1] | c5[2] | c5[3] | c5[4]))
                continue;
            any = 1;
            const pg_enum *e = &R(r)->enums[s->state_enum];
            pg_buf_puts(&b, "  ");
            pg_buf_puts(&b, e->members[i]);
            pad(&b, strlen(e->members[i]), 4);
            counts_line(&b, c5);
            if (c5[0]) {
                snprintf(tmp, sizeof tmp, "  clear %llu", (unsigned long long)c5[0]);
                pg_buf_puts(&b, tmp);
            }
            if (e->titles[i]) {
                pg_buf_puts(&b, "   (");
                pg_buf_puts(&b, e->titles[i]);
                pg_buf_putc(&b, ')');
            }
            pg_buf_putc(&b, '\n');
        }
        if (!any)
            pg_buf_puts(&b, "  (none)\n");
    }
    if (b.oom) {
        mtcr_xfree(b.p);
        return NULL;
    }
    return b.p;
}

/* ---- checking files ------------------------------------------------------------------------------- */

static char *heap_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *heap_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *p = n >= 0 ? mtcr_xmalloc((size_t)n + 1) : NULL;
    if (!p)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

static int has_column(rd_reader *rd, const char *name)
{
    for (size_t i = 0; i < rd_ncolumns(rd); i++)
        if (strcmp(rd_column(rd, i), name) == 0)
            return 1;
    return 0;
}

/* The required columns of record rec missing from the header, as "a, b" (heap), or NULL. */
static char *missing_required(const pg_record *rec, rd_reader *rd)
{
    pg_buf b = {0};
    for (size_t f = 0; f < rec->nfields; f++)
        if (rec->fields[f].required && !has_column(rd, rec->fields[f].column)) {
            if (b.len)
                pg_buf_puts(&b, ", ");
            pg_buf_puts(&b, rec->fields[f].column);
        }
    return b.p;
}

/* Choose the record type (SPEC 3 --record).  -1 with *error set when none or several. */
static int choose_record(const mtcr_rules *r, const char *want, rd_reader *rd, char **error)
{
    const pg_rules *P = R(r);
    if (want) {
        int k = mtcr_record_find(r, want);
        if (k < 0) {
            pg_buf b = {0};
            for (size_t i = 0; i < P->nrecords; i++) {
                if (i)
                    pg_buf_puts(&b, ", ");
                pg_buf_puts(&b, P->records[i].name);
            }
            *error = heap_printf("unknown record type '%s' (the rules declare: %s)", want, b.p ? b.p : "none");
            mtcr_xfree(b.p);
            return -1;
        }
        /* JSON Lines name their keys per record: a record without a required key
         * is rejected on its own, so only a CSV header is held to the schema */
        char *miss = rd_get_format(rd) == RD_JSONL ? NULL : missing_required(&P->records[k], rd);
        if (miss) {
            *error = heap_printf("%s: missing required column%s for record '%s': %s", rd_name(rd),
                                 strchr(miss, ',') ? "s" : "", P->records[k].name, miss);
            mtcr_xfree(miss);
            return -1;
        }
        return k;
    }
    int found = -1, count = 0;
    pg_buf names = {0}, why = {0};
    for (size_t i = 0; i < P->nrecords; i++) {
        char *miss = missing_required(&P->records[i], rd);
        if (!miss) {
            if (count++)
                pg_buf_puts(&names, ", ");
            pg_buf_puts(&names, P->records[i].name);
            found = (int)i;
        } else {
            pg_buf_puts(&why, "\n  ");
            pg_buf_puts(&why, P->records[i].name);
            pg_buf_puts(&why, " lacks: ");
            pg_buf_puts(&why, miss);
            mtcr_xfree(miss);
        }
    }
    if (count == 1) {
        mtcr_xfree(names.p);
        mtcr_xfree(why.p);
        return found;
    }
    int jsonl = rd_get_format(rd) == RD_JSONL;
    if (count == 0 && jsonl && rd_ncolumns(rd) == 0)
        *error = heap_printf("%s: no line is a valid JSON object, so the record type cannot be told; "
                             "name it with --record", rd_name(rd));
    else if (count == 0)
        *error = heap_printf("%s: no record type has all its required %s%s", rd_name(rd),
                             jsonl ? "keys in the first valid object" : "columns in the header",
                             why.p ? why.p : " (the rules declare no record type)");
    else
        *error = heap_printf("%s: several record types match the %s: %s; choose one with --record",
                             rd_name(rd), jsonl ? "first valid object" : "header", names.p);
    mtcr_xfree(names.p);
    mtcr_xfree(why.p);
    return -1;
}

static void count_row(mtcr_stats *st, const pg_batch *bt, size_t i)
{
    st->read++;
    if (bt->rejected[i]) {
        st->rejected++;
        return;
    }
    int v = bt->verdict[i];
    st->verdicts[v]++;
    const pg_record *rec = bt->rec;
    /* verdict clear <=> no finding (no rule has severity clear; see wr_wants) */
    for (size_t k = 0; v > 0 && k < rec->nrules; k++) {
        int o = bt->outcome[k * bt->cap + i];
        if (o == PG_NONE)
            continue;
        const pg_rule *ru = &bt->rules->rules[rec->rules[k]];
        int s = o == PG_FIRED ? ru->severity : ru->unknown_severity;
        st->by_commitment[(size_t)ru->commitment * 5 + s]++;
    }
    if (rec->state_field >= 0 && st->nstates) {
        const pg_val *sv = &bt->regs[rec->state_field][i];
        if (sv->known && (size_t)sv->i < st->nstates)
            st->by_state[(size_t)sv->i * 5 + v]++;
    }
}

/* The writer for one input of check_file, its csv header (if any) already begun. */
static void writer_start(wr_ctx *w, const mtcr_check_options *o, const char *path, mtcr_write_fn write,
                         void *ud)
{
    memset(w, 0, sizeof *w);
    w->fmt = o->format;
    w->all = o->all;
    w->explain = o->explain;
    w->color = o->color;
    w->with_file = o->with_file;
    w->file = strcmp(path, "-") == 0 ? "<stdin>" : path;
    w->write = write;
    w->ud = ud;
    w->header_done = o->no_header;
    wr_begin(w);
}

int mtcr_check_file(const mtcr_rules *r, const mtcr_check_options *o, const char *path, mtcr_write_fn write,
                    void *ud, mtcr_stats *stats, char **error)
{
    *error = NULL;
    if (stats && stats_bind(stats, r)) {
        *error = heap_printf("out of memory (or statistics shared between rule sets)");
        return -1;
    }
    char *e = NULL;
    rd_reader *rd = rd_open(path, RD_AUTO, &e);
    if (!rd) {
        *error = e ? e : heap_printf("cannot open '%s'", path);
        return -1;
    }
    if (!rd_has_records(rd)) { /* empty input: 0 records (a csv output still gets its header) */
        rd_close(rd);
        wr_ctx w;
        writer_start(&w, o, path, write, ud);
        if (wr_finish(&w) != 0) {
            *error = heap_printf("cannot write the output");
            return -1;
        }
        return 0;
    }
    int rec_id = choose_record(r, o->record, rd, error);
    if (rec_id < 0) {
        rd_close(rd);
        return -1;
    }
    const pg_record *rec = &R(r)->records[rec_id];
    const char **cols = mtcr_xcalloc(rec->nfields + 1, sizeof(char *));
    pg_batch *bt = pg_batch_new(R(r), rec, BATCH_ROWS);
    if (!cols || !bt) {
        mtcr_xfree(cols);
        pg_batch_free(bt);
        rd_close(rd);
        *error = heap_printf("out of memory");
        return -1;
    }
    for (size_t f = 0; f < rec->nfields; f++)
        cols[f] = rec->fields[f].column;
    if (rd_select(rd, rec->nfields, cols) < 0) {
        mtcr_xfree(cols);
        pg_batch_free(bt);
        rd_close(rd);
        *error = heap_printf("out of memory");
        return -1;
    }
    int id_field = -1;
    for (size_t f = 0; f < rec->nfields; f++)
        if (strcmp(rec->fields[f].name, "id") == 0)
            id_field = (int)f;
    wr_ctx w;
    writer_start(&w, o, path, write, ud);
    int rc = 0;
    rd_batch b;
    long n;
    while ((n = rd_read_batch(rd, &b, BATCH_ROWS, &e)) > 0) {
        pg_batch_reset(bt);
        bt->nrows = (size_t)n;
        for (long i = 0; i < n; i++)
            if (b.error[i]) {
                bt->rejected[i] = 1;
                bt->reject_why[i] = b.error[i];
            }
        /* row by row: the reader's cells are row-major, and reading them in order
         * is what keeps this loop out of the cache-miss profile */
        for (long i = 0; i < n; i++) {
            const rd_cell *row = &b.cells[(size_t)i * b.ncols];
            for (size_t f = 0; f < rec->nfields; f++)
                fill_cell(bt, f, (size_t)i, row[f].p, row[f].len, row[f].present);
        }
        if (pg_interpret(bt)) {
            *error = heap_printf("out of memory");
            rc = -1;
            break;
        }
        for (long i = 0; i < n; i++) {
            if (stats)
                count_row(stats, bt, (size_t)i);
            if (!wr_wants(&w, bt, (size_t)i))
                continue;
            const rd_cell *idc = id_field >= 0 ? &b.cells[(size_t)i * b.ncols + id_field] : NULL;
            /* an id that is not valid UTF-8 could not be read: it is not printed */
            int has_id = idc && idc->present && (!b.error[i] || val_utf8_valid(idc->p, idc->len));
            wr_record(&w, bt, (size_t)i, b.line[i], has_id ? idc->p : NULL, has_id ? idc->len : 0,
                      bt->rejected[i] ? bt->reject_why[i] : NULL);
        }
        if (w.failed)
            break;
    }
    if (n < 0 && rc == 0) {
        *error = e ? e : heap_printf("%s: read error", path);
        rc = -1;
    }
    if (wr_finish(&w) != 0 && rc == 0) {
        *error = heap_printf("cannot write the output");
        rc = -1;
    }
    mtcr_xfree(cols);
    pg_batch_free(bt);
    rd_close(rd);
    return rc;
}

/* ---- tests ------------------------------------------------------------------------------------------ */

long mtcr_run_tests(const mtcr_rules *r, void (*each)(void *ud, const mtcr_test_result *), void *ud)
{
    const cm_compiled *c = r->c;
    long failed = 0;
    pg_buf why = {0};
    for (size_t ti = 0; ti < c->ntests; ti++) {
        const cm_test *t = &c->tests[ti];
        const pg_record *rec = &c->rules.records[t->record];
        pg_batch *bt = pg_batch_new(&c->rules, rec, 1);
        if (!bt) {
            mtcr_xfree(why.p);
            return -1;
        }
        bt->nrows = 1;
        memcpy(bt->enabled, t->enabled, c->rules.ncommitments);
        uint8_t *given = mtcr_xcalloc(rec->nfields + 1, 1);
        if (!given) {
            pg_batch_free(bt);
            mtcr_xfree(why.p);
            return -1;
        }
        for (size_t g = 0; g < t->ngiven; g++) {
            int f = t->given_field[g];
            given[f] = 1;
            fill_cell(bt, (size_t)f, 0, t->given_text[g] ? t->given_text[g] : "", t->given_len[g],
                      t->given_text[g] != NULL && t->given_len[g] > 0);
        }
        for (size_t f = 0; f < rec->nfields; f++)
            if (!given[f])
                fill_cell(bt, f, 0, "", 0, 0);
        mtcr_xfree(given);
        int ok = pg_interpret(bt) == 0;
        why.len = 0;
        if (why.p)
            why.p[0] = 0;
        for (size_t x = 0; x < t->nexpects && ok; x++) {
            const cm_expect *ex = &t->expects[x];
            char tmp[512];
            if (ex->kind == EXPECT_REJECTED) {
                if (!bt->rejected[0]) {
                    snprintf(tmp, sizeof tmp, "line %d: expected the record to be rejected, but it was read (verdict %s)",
                             ex->loc.line, sev_names[bt->verdict[0]]);
                    pg_buf_puts(&why, tmp);
                    ok = 0;
                }
                continue;
            }
            if (bt->rejected[0]) {
                snprintf(tmp, sizeof tmp, "line %d: the record was rejected: %s", ex->loc.line, bt->reject_why[0]);
                pg_buf_puts(&why, tmp);
                ok = 0;
                continue;
            }
            if (ex->kind == EXPECT_SEVERITY) {
                if (bt->verdict[0] != ex->sev) {
                    snprintf(tmp, sizeof tmp, "line %d: expected verdict %s, got %s", ex->loc.line,
                             sev_names[ex->sev], sev_names[bt->verdict[0]]);
                    pg_buf_puts(&why, tmp);
                    ok = 0;
                }
                continue;
            }
            size_t k = SIZE_MAX;
            for (size_t q = 0; q < rec->nrules; q++)
                if (rec->rules[q] == ex->rule)
                    k = q;
            int fired = k != SIZE_MAX && bt->outcome[k * bt->cap] != PG_NONE;
            if (ex->kind == EXPECT_FINDING && !fired) {
                snprintf(tmp, sizeof tmp, "line %d: expected a finding of %s, there is none", ex->loc.line,
                         c->rules.rules[ex->rule].name);
                pg_buf_puts(&why, tmp);
                ok = 0;
            } else if (ex->kind == EXPECT_NO_FINDING && fired) {
                snprintf(tmp, sizeof tmp, "line %d: expected no finding of %s, but it %s", ex->loc.line,
                         c->rules.rules[ex->rule].name,
                         bt->outcome[k * bt->cap] == PG_UNKNOWN ? "gave its if-unknown finding" : "fired");
                pg_buf_puts(&why, tmp);
                ok = 0;
            }
        }
        if (ok == 0 && why.len == 0)
            pg_buf_puts(&why, "evaluation failed (out of memory)");
        if (!ok && !bt->rejected[0]) {
            /* say what the record did get, to make the failure readable */
            pg_buf_puts(&why, "; findings:");
            int any = 0;
            for (size_t q = 0; q < rec->nrules; q++) {
                int o = bt->outcome[q * bt->cap];
                if (o == PG_NONE)
                    continue;
                const pg_rule *ru = &c->rules.rules[rec->rules[q]];
                pg_buf_putc(&why, ' ');
                pg_buf_puts(&why, ru->name);
                pg_buf_putc(&why, '(');
                pg_buf_puts(&why, sev_names[o == PG_FIRED ? ru->severity : ru->unknown_severity]);
                pg_buf_putc(&why, ')');
                any = 1;
            }
            if (!any)
                pg_buf_puts(&why, " none");
        }
        mtcr_test_result res = {t->name, t->file, t->line, ok, ok ? NULL : (why.p ? why.p : "failed")};
        if (!ok)
            failed++;
        if (each)
            each(ud, &res);
        pg_batch_free(bt);
    }
    mtcr_xfree(why.p);
    return failed;
}
