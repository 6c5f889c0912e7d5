/* program.h — the one program: what the compiler produces from checked rules and
 * what the interpreter (and, later, the code generator) reads.
 *
 * Shape.  A program belongs to one record type.  It is a straight-line list of
 * typed steps over registers; there are no jumps: the language is total and side
 * effect free, so `if`, `and` and `or` are evaluated as Kleene selections over
 * both operands (a division by zero or an overflow gives unknown, never a trap).
 * This keeps the interpreter a loop over steps and each step a loop over the rows
 * of a batch (column at a time), and makes the code generator a direct reading.
 *
 * Registers.  Register r holds one pg_val per row of the batch.  Registers
 * [0, nfields) are the record's fields, filled by the reader; [nfields,
 * nfields+nconsts) are constants, filled once when a batch is created; the rest
 * are temporaries written by exactly one step (SSA).
 *
 * Everything a program refers to is an index (registers, constants, sets,
 * regexes, rules), never a pointer, so it can be written out and loaded.
 */
#ifndef MTCR_PROGRAM_H
#define MTCR_PROGRAM_H

#include <regex.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "value.h"

/* One value of one row.  `known` is 0 for missing/unknown (three-valued logic). */
typedef struct {
    union {
        int64_t i;    /* bool (0/1), int, date (day number), enum member, country index */
        double d;     /* number, quantity (SI base unit) */
        uint64_t u;   /* code (packed, value.h) */
        const char *s;/* string (with len; not NUL-terminated) */
    };
    uint32_t len;
    uint8_t known;
} pg_val;

/* Value types as the program sees them (units are erased: quantities are numbers). */
typedef enum { PT_BOOL, PT_INT, PT_NUM, PT_STR, PT_DATE, PT_CODE, PT_ENUM } pg_type;

/* The step table (DESIGN 3).  X(NAME, operand-doc).  Every step writes `dst`.
 * Operands a, b, c are registers unless the doc says otherwise.  The interpreter's
 * dispatch, the disassembler's names and the code generator's switch are all
 * generated from this list; PG__COUNT catches drift. */
#define PG_STEPS(X)                                                                       \
    /* Kleene logic on bools */                                                           \
    X(NOT, "dst = not a")                                                                 \
    X(AND, "dst = a and b (false and unknown = false)")                                   \
    X(OR, "dst = a or b (true or unknown = true)")                                        \
    X(IS_TRUE, "dst = a is known and true (always known) — unless, binds")                \
    X(NOT_FALSE, "dst = a is not known-false (always known) — binds")                     \
    X(KNOWN, "dst = a is known (always known)")                                           \
    X(MISSING, "dst = a is missing (always known)")                                       \
    X(COALESCE, "dst = a when known, else b")                                             \
    X(SELECT, "dst = if a then b else c; unknown a gives unknown")                        \
    /* arithmetic: _I on int64 (overflow gives unknown), _N on doubles */                 \
    X(ADD_I, "dst = a + b") X(SUB_I, "dst = a - b") X(MUL_I, "dst = a * b")              \
    X(NEG_I, "dst = -a")                                                                  \
    X(ADD_N, "dst = a + b") X(SUB_N, "dst = a - b") X(MUL_N, "dst = a * b")              \
    X(DIV_N, "dst = a / b (b == 0 gives unknown)") X(NEG_N, "dst = -a")                  \
    X(I2N, "dst = (double) a")                                                            \
    /* comparisons: _I on int64 words (ints, dates, enums, bools, codes for EQ/NE) */     \
    X(EQ_I, "") X(NE_I, "") X(LT_I, "") X(LE_I, "") X(GT_I, "") X(GE_I, "")               \
    X(EQ_N, "") X(NE_N, "") X(LT_N, "") X(LE_N, "") X(GT_N, "") X(GE_N, "")               \
    X(EQ_S, "byte equality") X(NE_S, "")                                                  \
    X(CONTAINS, "ASCII case ignored") X(STARTS_WITH, "ASCII case ignored")                \
    X(MATCHES, "dst = a matches regex #b (b is a regex index)")                           \
    X(UNDER, "dst = code a under code b")                                                 \
    X(CODE_NUMBER, "dst = a.number (int)") X(CODE_KIND, "dst = a.kind (string)")          \
    X(IN_SET, "dst = a in set #b (b is a set index)")                                     \
    X(IN_SET_AT, "dst = a in set #b at date c")                                           \
    X(YEAR, "dst = year(a)") X(DAYS_BETWEEN, "dst = b - a in days")                       \
    X(LOWER, "dst = lower(a)") X(LEN, "dst = len(a) in bytes")                           \
    X(NORMALIZE, "dst = normalize(a)")                                                    \
    /* rules */                                                                           \
    X(RULE, "rule #dst: gate a (always known), when b, unless c (always known)")

typedef enum {
#define PG_ENUM(name, doc) PG_##name,
    PG_STEPS(PG_ENUM)
#undef PG_ENUM
    PG__COUNT
} pg_op;

extern const char *const pg_op_names[PG__COUNT];

typedef struct {
    uint16_t op;
    uint32_t dst, a, b, c;
} pg_step;

/* ---- sets ---------------------------------------------------------------------- */

/* A member is admitted on [since, until) (INT32_MIN/INT32_MAX when open). */
typedef struct {
    int32_t since, until;
} pg_interval;

typedef struct {
    pg_val key;       /* the member (strings already normalized for normalized sets) */
    uint32_t ivl, nivl; /* its intervals in pg_set.ivls */
} pg_member;

typedef struct {
    const char *name;
    pg_type type;
    int normalized;
    int time_varying;
    pg_member *members;
    size_t nmembers;
    pg_interval *ivls;
    size_t nivls;
    /* lookup: for PT_ENUM a direct table member index -> members index (or -1);
     * for strings an open-addressing hash of members indices (size a power of 2);
     * for other word types the members sorted by key.u */
    int32_t *table;
    size_t table_size;
} pg_set;

/* ---- messages and evidence ------------------------------------------------------ */

/* How to print a register's value (LANGUAGE 8). */
typedef struct {
    pg_type type;
    const val_unit *unit;   /* quantities: the unit to print in (NULL: not a quantity) */
    int enum_id;            /* PT_ENUM: index into pg_rules.enums */
} pg_fmt;

typedef struct {
    const char *text; size_t len; /* literal text part (NULL for a value part) */
    uint32_t reg;
    pg_fmt fmt;
} pg_msg_part;

typedef struct {
    pg_msg_part *parts;
    size_t nparts;
} pg_message;

typedef struct {
    const char *label;  /* field or let name, or the text of a comparison */
    uint32_t reg;
    pg_fmt fmt;
    int is_field;       /* a record field (listed in "insufficient data: ...") */
} pg_evidence;

/* ---- rules and programs ----------------------------------------------------------- */

typedef struct {
    const char *name;       /* "commitment.rule" */
    const char *short_name; /* "rule" */
    const char *title;
    const char *cite;
    int commitment;         /* index into pg_rules.commitments */
    int severity;           /* ast_severity of `then` */
    int unknown_severity;   /* of `if unknown`: SEV_IGNORE, or a severity */
    pg_message then_msg;    /* nparts 0: the title */
    pg_message unknown_msg; /* nparts 0 and default clause: "insufficient data: <missing fields>" */
    int unknown_default;    /* 1: no `if unknown` clause was written */
    pg_evidence *evidence;
    size_t nevidence;
} pg_rule;

typedef struct {
    const char *name, *title, *module, *cite, *kind;
    int record;       /* index into pg_rules.records */
} pg_commitment;

typedef struct {
    const char *name;     /* field name */
    const char *column;   /* header it is read from */
    pg_type type;
    int required;
    const char *type_name; /* "mass", "country", "system_kind", ... */
    const val_unit *unit;  /* quantities: unit of bare input numbers */
    val_dim dim;
    int enum_id;          /* PT_ENUM */
} pg_field;

typedef struct {
    const char *name;    /* enum name; "country" for countries */
    const char **members;
    const char **titles; /* may hold NULLs */
    size_t nmembers;
    int is_country;      /* the `country` enum: input is read as ISO codes */
    int16_t *country_map;/* is_country: val_countries index -> member index (-1 none) */
} pg_enum;

typedef struct {
    const char *name;    /* record type name */
    const char *module;
    pg_field *fields;
    size_t nfields;
    int state_field;     /* the first required country field, or -1 (summary by state) */
    /* the program */
    pg_step *steps;
    size_t nsteps;
    uint32_t nregs;      /* total registers */
    uint32_t nconsts;    /* registers [nfields, nfields+nconsts) are constants */
    pg_val *consts;
    int *rules;          /* indices of the rules this program evaluates, in order */
    size_t nrules;
} pg_record;

/* Everything compiled: what mtcr_rules wraps. */
typedef struct pg_rules {
    pg_record *records; size_t nrecords;
    pg_rule *rules; size_t nrules;
    pg_commitment *commitments; size_t ncommitments;
    pg_enum *enums; size_t nenums;
    pg_set *sets; size_t nsets;
    regex_t *regexes; size_t nregexes;
    void *arena;  /* ar_arena owning everything above except the compiled regexes */
} pg_rules;

/* ---- batches -------------------------------------------------------------------------- */

/* Severities as stored in rules and verdicts (same numbering as ast_severity). */
enum { PG_SEV_CLEAR = 0, PG_SEV_NOTIFY, PG_SEV_REVIEW, PG_SEV_DENY, PG_SEV_PROHIBIT, PG_SEV_IGNORE };

/* Outcomes of a rule on a row. */
enum { PG_NONE = 0, PG_FIRED = 1, PG_UNKNOWN = 2 };

typedef struct pg_batch {
    const pg_rules *rules;
    const pg_record *rec;
    size_t cap, nrows;
    pg_val **regs;        /* nregs columns of cap values */
    uint8_t *rejected;    /* per row */
    const char **reject_why; /* per row, when rejected */
    int8_t *verdict;      /* per row: max severity of findings (SEV_CLEAR if none) */
    uint8_t *outcome;     /* rec->nrules * cap: outcome[k * cap + row] */
    uint8_t *enabled;     /* per commitment (index into rules->commitments): 1 evaluates */
    /* Kleene bytes.  A register that the logic steps (NOT, AND, OR, IS_TRUE,
     * NOT_FALSE, RULE) read is also kept as one byte per row, 0 false, 1 unknown,
     * 2 true, so that those steps are min, max and 2 - x over byte vectors (the
     * compiler vectorizes them).  use[r] says which forms of register r are read:
     * PG_USE_VAL (the pg_val column: any other step, messages, evidence, the API)
     * and PG_USE_KLEENE (kleene[r], else NULL).  A truth value that only messages
     * and evidence show is kept as bytes alone (pg_batch_value reads either). */
    uint8_t *use;
    uint8_t **kleene;
    uint8_t *kscratch;    /* cap bytes: the result of a logic step nobody reads as bytes */
    void *scratch;        /* ar_arena for strings made during evaluation (lower, normalize) */
} pg_batch;

enum { PG_USE_VAL = 1, PG_USE_KLEENE = 2 };

/* Allocate a batch for record type `rec` (constants filled).  NULL on OOM. */
pg_batch *pg_batch_new(const pg_rules *rules, const pg_record *rec, size_t cap);
void pg_batch_free(pg_batch *b);
/* The value of register `reg` in `row` after pg_interpret, in either form it is kept
 * in (messages and evidence read registers through this). */
pg_val pg_batch_value(const pg_batch *b, uint32_t reg, size_t row);
/* Prepare for new rows: forget rows, reset scratch. */
void pg_batch_reset(pg_batch *b);

/* Run the program over rows [0, nrows) that are not rejected.  Returns 0, -1 on OOM. */
int pg_interpret(pg_batch *b);

/* Set membership (shared by the interpreter and, later, generated code). */
int pg_set_contains(const pg_set *s, const pg_val *v, int with_date, int32_t date);

/* Format a value for messages and evidence (LANGUAGE 8); appends to a growing buffer. */
typedef struct {
    char *p;
    size_t len, cap;
    int oom;
} pg_buf;
/* Grow b so that n more bytes (and a NUL) fit; sets b->oom and returns -1 on failure. */
int pg_buf_reserve(pg_buf *b, size_t n);
/* Appends keep b->p NUL-terminated.  Inline: the writers call these per value, and
 * the fast path (room left) is a copy and an add. */
static inline void pg_buf_put(pg_buf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap && pg_buf_reserve(b, n) != 0)
        return;
    if (n)
        memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}
static inline void pg_buf_putc(pg_buf *b, char c)
{
    if (b->len + 2 > b->cap && pg_buf_reserve(b, 1) != 0)
        return;
    b->p[b->len++] = c;
    b->p[b->len] = 0;
}
static inline void pg_buf_puts(pg_buf *b, const char *s) { pg_buf_put(b, s, strlen(s)); }
/* Append the decimal digits of v. */
void pg_buf_u64(pg_buf *b, uint64_t v);
void pg_buf_fmt_val(pg_buf *b, const pg_rules *rules, const pg_fmt *f, const pg_val *v);
/* Render a rule's message for one row into b (the then or the unknown message). */
void pg_render_message(pg_buf *b, const pg_batch *bt, const pg_rule *r, size_t row, int unknown);
/* Disassemble a program (for tests and `--dump`). */
void pg_disassemble(pg_buf *b, const pg_rules *rules, const pg_record *rec);

/* Parse one input cell into a field's representation.  Strings point into `s`
 * (which must outlive the batch).  Returns 0, or -1 with the reason for
 * `field: <text> <why>` in *why (static or written into whybuf, >= 128 bytes). */
int pg_parse_cell(const pg_rules *rules, const pg_field *f, const char *s, size_t n, pg_val *out,
                  const char **why, char *whybuf);

void pg_rules_free(pg_rules *r);

#endif
