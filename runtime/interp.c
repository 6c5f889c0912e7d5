/* interp.c — the interpreter of the one program (program.h), batches, sets,
 * message rendering and the disassembler.
 *
 * The interpreter runs one step at a time over every row of the batch (column at
 * a time): dispatch costs once per step per batch, not per row, and each step's
 * inner loop is simple enough for the C compiler to keep in registers.  This is
 * the hand-written hot path; keep the loops branch-light.
 */
#include "program.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "arena.h"

const char *const pg_op_names[PG__COUNT] = {
#define PG_NAME(name, doc) #name,
    PG_STEPS(PG_NAME)
#undef PG_NAME
};

_Static_assert(sizeof(pg_val) == 16, "pg_val is two words");

/* ---- batches ------------------------------------------------------------------ */

static int is_logic_step(int op)
{
    return op == PG_NOT || op == PG_AND || op == PG_OR || op == PG_IS_TRUE || op == PG_NOT_FALSE || op == PG_RULE;
}

/* Steps that compute a truth value directly as Kleene bytes (then widened to
 * pg_vals only when something reads those). */
static int makes_kleene(int op)
{
    switch (op) {
    case PG_NOT: case PG_AND: case PG_OR: case PG_IS_TRUE: case PG_NOT_FALSE: case PG_KNOWN: case PG_MISSING:
    case PG_EQ_I: case PG_NE_I: case PG_LT_I: case PG_LE_I: case PG_GT_I: case PG_GE_I:
    case PG_EQ_N: case PG_NE_N: case PG_LT_N: case PG_LE_N: case PG_GT_N: case PG_GE_N:
        return 1;
    default:
        return 0;
    }
}

static void kleene_from_val(uint8_t *t, const pg_val *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        t[i] = (uint8_t)(v[i].known ? (v[i].i != 0 ? 2 : 0) : 1);
}

static void val_from_kleene(pg_val *v, const uint8_t *t, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        v[i].known = t[i] != 1;
        v[i].i = t[i] == 2;
    }
}

/* A register a message or evidence shows: a truth value computed as bytes stays
 * bytes (pg_batch_value widens one row when it is printed); the rest are pg_vals. */
static void mark_shown(uint8_t *use, const uint8_t *kleene_made, uint32_t nregs, uint32_t r)
{
    if (r < nregs)
        use[r] |= kleene_made[r] ? PG_USE_KLEENE : PG_USE_VAL;
}

pg_val pg_batch_value(const pg_batch *b, uint32_t reg, size_t row)
{
    if (!(b->use[reg] & PG_USE_VAL) && b->kleene[reg]) {
        uint8_t t = b->kleene[reg][row];
        return (pg_val){.i = t == 2, .known = t != 1};
    }
    return b->regs[reg][row];
}

/* Which form of each register is read (pg_batch.use), and the Kleene columns. */
static int kleene_setup(pg_batch *b)
{
    const pg_record *rec = b->rec;
    const pg_rules *rules = b->rules;
    uint32_t nr = rec->nregs;
    b->use = mtcr_xcalloc(nr ? nr : 1, 1);
    b->kleene = mtcr_xcalloc(nr ? nr : 1, sizeof *b->kleene);
    b->kscratch = mtcr_xcalloc(b->cap, 1);
    if (!b->use || !b->kleene || !b->kscratch)
        return -1;
    uint8_t *made = mtcr_xcalloc(nr ? nr : 1, 1); /* registers written by a Kleene-byte step */
    if (!made)
        return -1;
    for (size_t si = 0; si < rec->nsteps; si++)
        if (makes_kleene(rec->steps[si].op) && rec->steps[si].dst < nr)
            made[rec->steps[si].dst] = 1;
    for (uint32_t r = 0; r < rec->nfields + rec->nconsts && r < nr; r++)
        b->use[r] |= PG_USE_VAL; /* fields and constants are filled as pg_vals */
    for (size_t si = 0; si < rec->nsteps; si++) {
        const pg_step *st = &rec->steps[si];
        uint32_t ops[3] = {st->a, st->b, st->c};
        for (int k = 0; k < 3; k++) {
            uint32_t r = ops[k];
            if (r >= nr)
                continue;
            /* set and regex operands (b of IN_SET, IN_SET_AT, MATCHES) are indices */
            if (k == 1 && (st->op == PG_IN_SET || st->op == PG_IN_SET_AT || st->op == PG_MATCHES))
                continue;
            b->use[r] |= is_logic_step(st->op) ? PG_USE_KLEENE : PG_USE_VAL;
        }
    }
    for (size_t k = 0; k < rec->nrules; k++) {
        const pg_rule *ru = &rules->rules[rec->rules[k]];
        const pg_message *ms[2] = {&ru->then_msg, &ru->unknown_msg};
        for (int m = 0; m < 2; m++)
            for (size_t p = 0; p < ms[m]->nparts; p++)
                if (!ms[m]->parts[p].text)
                    mark_shown(b->use, made, nr, ms[m]->parts[p].reg);
        for (size_t e = 0; e < ru->nevidence; e++)
            mark_shown(b->use, made, nr, ru->evidence[e].reg);
    }
    mtcr_xfree(made);
    for (uint32_t r = 0; r < nr; r++) {
        if (!b->use[r])
            b->use[r] = PG_USE_VAL; /* read by nobody: keep the pg_val, the plain form */
        if (b->use[r] & PG_USE_KLEENE) {
            b->kleene[r] = mtcr_xcalloc(b->cap, 1);
            if (!b->kleene[r])
                return -1;
        }
    }
    return 0;
}

pg_batch *pg_batch_new(const pg_rules *rules, const pg_record *rec, size_t cap)
{
    if (cap == 0)
        cap = 1;
    pg_batch *b = mtcr_xcalloc(1, sizeof *b);
    if (!b)
        return NULL;
    b->rules = rules;
    b->rec = rec;
    b->cap = cap;
    b->regs = mtcr_xcalloc(rec->nregs ? rec->nregs : 1, sizeof *b->regs);
    pg_val *cells = mtcr_xcalloc((size_t)(rec->nregs ? rec->nregs : 1) * cap, sizeof(pg_val));
    b->rejected = mtcr_xcalloc(cap, 1);
    b->reject_why = mtcr_xcalloc(cap, sizeof *b->reject_why);
    b->verdict = mtcr_xcalloc(cap, 1);
    b->outcome = mtcr_xcalloc((rec->nrules ? rec->nrules : 1) * cap, 1);
    b->enabled = mtcr_xcalloc(rules->ncommitments ? rules->ncommitments : 1, 1);
    b->scratch = mtcr_xcalloc(1, sizeof(ar_arena));
    if (!b->regs || !cells || !b->rejected || !b->reject_why || !b->verdict || !b->outcome ||
        !b->enabled || !b->scratch) {
        mtcr_xfree(cells);
        if (b->regs)
            b->regs[0] = NULL;
        pg_batch_free(b);
        return NULL;
    }
    ar_init(b->scratch, 64 * 1024);
    for (uint32_t r = 0; r < rec->nregs; r++)
        b->regs[r] = cells + (size_t)r * cap;
    if (kleene_setup(b) != 0) {
        pg_batch_free(b);
        return NULL;
    }
    /* constants: the same value in every row, written once */
    for (uint32_t k = 0; k < rec->nconsts; k++) {
        pg_val *col = b->regs[rec->nfields + k];
        for (size_t i = 0; i < cap; i++)
            col[i] = rec->consts[k];
    }
    memset(b->enabled, 1, rules->ncommitments ? rules->ncommitments : 1);
    /* constants read as Kleene bytes: converted once */
    for (uint32_t k = 0; k < rec->nconsts; k++) {
        uint32_t r = (uint32_t)rec->nfields + k;
        if (b->kleene[r])
            kleene_from_val(b->kleene[r], b->regs[r], cap);
    }
    return b;
}

void pg_batch_free(pg_batch *b)
{
    if (!b)
        return;
    if (b->kleene && b->rec) {
        for (uint32_t r = 0; r < b->rec->nregs; r++)
            mtcr_xfree(b->kleene[r]);
    }
    mtcr_xfree(b->kleene);
    mtcr_xfree(b->use);
    mtcr_xfree(b->kscratch);
    if (b->regs)
        mtcr_xfree(b->regs[0]);
    mtcr_xfree(b->regs);
    mtcr_xfree(b->rejected);
    mtcr_xfree(b->reject_why);
    mtcr_xfree(b->verdict);
    mtcr_xfree(b->outcome);
    mtcr_xfree(b->enabled);
    if (b->scratch) {
        ar_free(b->scratch);
        mtcr_xfree(b->scratch);
    }
    mtcr_xfree(b);
}

void pg_batch_reset(pg_batch *b)
{
    b->nrows = 0;
    memset(b->rejected, 0, b->cap);
    memset(b->reject_why, 0, b->cap * sizeof *b->reject_why);
    ar_reset(b->scratch);
}

/* ---- sets ----------------------------------------------------------------------- */

static uint32_t str_hash(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

/* Index into s->members of the member equal to v, or -1. */
static long set_find(const pg_set *s, const pg_val *v)
{
    switch (s->type) {
    case PT_ENUM:
        if (v->i < 0 || (size_t)v->i >= s->table_size)
            return -1;
        return s->table[v->i];
    case PT_STR: {
        if (!s->table_size)
            return -1;
        char stackbuf[256];
        const char *p = v->s;
        size_t n = v->len;
        if (s->normalized) {
            char *out = stackbuf;
            if (n > sizeof stackbuf) {
                out = mtcr_xmalloc(n);
                if (!out)
                    return -1;
            }
            n = val_normalize(v->s, v->len, out);
            p = out;
        }
        size_t mask = s->table_size - 1;
        long found = -1;
        for (size_t h = str_hash(p, n) & mask;; h = (h + 1) & mask) {
            int32_t m = s->table[h];
            if (m < 0)
                break;
            const pg_val *k = &s->members[m].key;
            if (k->len == n && memcmp(k->s, p, n) == 0) {
                found = m;
                break;
            }
        }
        if (p != v->s && p != stackbuf)
            mtcr_xfree((void *)p);
        return found;
    }
    default: {
        size_t lo = 0, hi = s->nmembers;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            uint64_t k = s->members[mid].key.u;
            if (k == v->u)
                return (long)mid;
            if (k < v->u)
                lo = mid + 1;
            else
                hi = mid;
        }
        return -1;
    }
    }
}

int pg_set_contains(const pg_set *s, const pg_val *v, int with_date, int32_t date)
{
    long m = set_find(s, v);
    if (m < 0)
        return 0;
    if (!with_date)
        return 1;
    const pg_member *mem = &s->members[m];
    for (uint32_t k = 0; k < mem->nivl; k++) {
        const pg_interval *iv = &s->ivls[mem->ivl + k];
        if (date >= iv->since && date < iv->until)
            return 1;
    }
    return 0;
}

/* ---- the interpreter ---------------------------------------------------------------- */

static int ascii_lower(int c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

int pg_interpret(pg_batch *bt)
{
    const pg_record *rec = bt->rec;
    const pg_rules *rules = bt->rules;
    const size_t n = bt->nrows;
    pg_val *const *R = bt->regs;
    memset(bt->verdict, 0, n);
    for (size_t f = 0; f < rec->nfields; f++) /* fields the logic steps read as bytes */
        if (bt->kleene[f])
            kleene_from_val(bt->kleene[f], R[f], n);

    for (size_t si = 0; si < rec->nsteps; si++) {
        const pg_step *st = &rec->steps[si];
        pg_val *d = st->op == PG_RULE ? NULL : R[st->dst];
        const pg_val *a = st->a != UINT32_MAX && st->a < rec->nregs ? R[st->a] : NULL;
        const pg_val *b = st->b != UINT32_MAX && st->b < rec->nregs ? R[st->b] : NULL;
        const pg_val *c = st->c != UINT32_MAX && st->c < rec->nregs ? R[st->c] : NULL;

        if (makes_kleene(st->op)) {
            /* truth values as Kleene bytes (0 false, 1 unknown, 2 true): false and
             * unknown is false, true or unknown is true, so AND is min, OR max */
            uint8_t *restrict o = bt->kleene[st->dst] ? bt->kleene[st->dst] : bt->kscratch;
            const uint8_t *restrict ka = st->a < rec->nregs ? bt->kleene[st->a] : NULL;
            const uint8_t *restrict kb = st->b < rec->nregs ? bt->kleene[st->b] : NULL;
#define KEACH for (size_t i = 0; i < n; i++)
#define KCMP(field, op)                                                                    \
    KEACH {                                                                                \
        unsigned k = a[i].known & b[i].known;                                              \
        o[i] = (uint8_t)(k ? 2u * (a[i].field op b[i].field) : 1u);                        \
    }                                                                                      \
    break;
            switch ((pg_op)st->op) {
            case PG_NOT: KEACH o[i] = (uint8_t)(2 - ka[i]); break;
            case PG_AND: KEACH o[i] = ka[i] < kb[i] ? ka[i] : kb[i]; break;
            case PG_OR: KEACH o[i] = ka[i] > kb[i] ? ka[i] : kb[i]; break;
            case PG_IS_TRUE: KEACH o[i] = (uint8_t)(ka[i] == 2 ? 2 : 0); break;
            case PG_NOT_FALSE: KEACH o[i] = (uint8_t)(ka[i] != 0 ? 2 : 0); break;
            case PG_KNOWN: KEACH o[i] = (uint8_t)(a[i].known ? 2 : 0); break;
            case PG_MISSING: KEACH o[i] = (uint8_t)(a[i].known ? 0 : 2); break;
            case PG_EQ_I: KCMP(i, ==)
            case PG_NE_I: KCMP(i, !=)
            case PG_LT_I: KCMP(i, <)
            case PG_LE_I: KCMP(i, <=)
            case PG_GT_I: KCMP(i, >)
            case PG_GE_I: KCMP(i, >=)
            case PG_EQ_N: KCMP(d, ==)
            case PG_NE_N: KCMP(d, !=)
            case PG_LT_N: KCMP(d, <)
            case PG_LE_N: KCMP(d, <=)
            case PG_GT_N: KCMP(d, >)
            case PG_GE_N: KCMP(d, >=)
            default: break;
            }
#undef KCMP
#undef KEACH
            if (bt->use[st->dst] & PG_USE_VAL)
                val_from_kleene(d, o, n);
            continue;
        }

#define EACH for (size_t i = 0; i < n; i++)
#define BOTH_KNOWN (a[i].known & b[i].known)
/* binary op on known operands, unknown otherwise */
#define BIN(field, expr)                                                                   \
    EACH {                                                                                 \
        d[i].known = BOTH_KNOWN;                                                           \
        d[i].field = (expr);                                                               \
    }                                                                                      \
    break;

        switch ((pg_op)st->op) {
        case PG_NOT: case PG_AND: case PG_OR: case PG_IS_TRUE: case PG_NOT_FALSE: case PG_KNOWN: case PG_MISSING:
            break; /* computed above as Kleene bytes */
        case PG_COALESCE:
            EACH d[i] = a[i].known ? a[i] : b[i];
            break;
        case PG_SELECT:
            EACH {
                if (!a[i].known)
                    d[i].known = 0;
                else
                    d[i] = a[i].i ? b[i] : c[i];
            }
            break;
        case PG_ADD_I:
            EACH {
                int64_t r;
                int ovf = __builtin_add_overflow(a[i].i, b[i].i, &r);
                d[i].i = r;
                d[i].known = BOTH_KNOWN & !ovf;
            }
            break;
        case PG_SUB_I:
            EACH {
                int64_t r;
                int ovf = __builtin_sub_overflow(a[i].i, b[i].i, &r);
                d[i].i = r;
                d[i].known = BOTH_KNOWN & !ovf;
            }
            break;
        case PG_MUL_I:
            EACH {
                int64_t r;
                int ovf = __builtin_mul_overflow(a[i].i, b[i].i, &r);
                d[i].i = r;
                d[i].known = BOTH_KNOWN & !ovf;
            }
            break;
        case PG_NEG_I:
            EACH {
                d[i].known = a[i].known && a[i].i != INT64_MIN;
                d[i].i = a[i].i == INT64_MIN ? 0 : -a[i].i;
            }
            break;
        case PG_ADD_N: BIN(d, a[i].d + b[i].d)
        case PG_SUB_N: BIN(d, a[i].d - b[i].d)
        case PG_MUL_N: BIN(d, a[i].d * b[i].d)
        case PG_DIV_N:
            EACH {
                d[i].known = BOTH_KNOWN && b[i].d != 0.0;
                d[i].d = b[i].d != 0.0 ? a[i].d / b[i].d : 0.0;
            }
            break;
        case PG_NEG_N:
            EACH {
                d[i].known = a[i].known;
                d[i].d = -a[i].d;
            }
            break;
        case PG_I2N:
            EACH {
                d[i].known = a[i].known;
                d[i].d = (double)a[i].i;
            }
            break;
        case PG_EQ_I: case PG_NE_I: case PG_LT_I: case PG_LE_I: case PG_GT_I: case PG_GE_I:
        case PG_EQ_N: case PG_NE_N: case PG_LT_N: case PG_LE_N: case PG_GT_N: case PG_GE_N:
            break; /* computed above as Kleene bytes */
        case PG_EQ_S:
            EACH {
                d[i].known = BOTH_KNOWN;
                d[i].i = a[i].len == b[i].len && (a[i].len == 0 || memcmp(a[i].s, b[i].s, a[i].len) == 0);
            }
            break;
        case PG_NE_S:
            EACH {
                d[i].known = BOTH_KNOWN;
                d[i].i = !(a[i].len == b[i].len && (a[i].len == 0 || memcmp(a[i].s, b[i].s, a[i].len) == 0));
            }
            break;
        case PG_CONTAINS:
            EACH {
                d[i].known = BOTH_KNOWN;
                d[i].i = d[i].known && val_contains_ci(a[i].s, a[i].len, b[i].s, b[i].len);
            }
            break;
        case PG_STARTS_WITH:
            EACH {
                d[i].known = BOTH_KNOWN;
                d[i].i = d[i].known && val_starts_with_ci(a[i].s, a[i].len, b[i].s, b[i].len);
            }
            break;
        case PG_MATCHES: {
            const regex_t *re = &rules->regexes[st->b];
            EACH {
                d[i].known = a[i].known;
                if (!a[i].known) {
                    d[i].i = 0;
                    continue;
                }
                regmatch_t m[1];
                m[0].rm_so = 0;
                m[0].rm_eo = a[i].len;
                d[i].i = regexec(re, a[i].len ? a[i].s : "", 1, m, REG_STARTEND) == 0;
            }
            break;
        }
        case PG_UNDER:
            EACH {
                d[i].known = BOTH_KNOWN;
                d[i].i = val_code_under(a[i].u, b[i].u);
            }
            break;
        case PG_CODE_NUMBER:
            EACH {
                d[i].known = a[i].known;
                d[i].i = val_code_number(a[i].u);
            }
            break;
        case PG_CODE_KIND: {
            static const char letters[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
            EACH {
                char k = val_code_kind(a[i].u);
                d[i].known = a[i].known && k >= 'A' && k <= 'Z';
                d[i].s = d[i].known ? letters + (k - 'A') : letters;
                d[i].len = 1;
            }
            break;
        }
        case PG_IN_SET: {
            const pg_set *s = &rules->sets[st->b];
            EACH {
                d[i].known = a[i].known;
                d[i].i = a[i].known && pg_set_contains(s, &a[i], 0, 0);
            }
            break;
        }
        case PG_IN_SET_AT: {
            const pg_set *s = &rules->sets[st->b];
            EACH {
                d[i].known = a[i].known & c[i].known;
                d[i].i = d[i].known && pg_set_contains(s, &a[i], 1, (int32_t)c[i].i);
            }
            break;
        }
        case PG_YEAR:
            EACH {
                int y, m, dd;
                val_civil_from_days((int32_t)a[i].i, &y, &m, &dd);
                d[i].known = a[i].known;
                d[i].i = y;
            }
            break;
        case PG_DAYS_BETWEEN: BIN(i, b[i].i - a[i].i)
        case PG_LEN:
            EACH {
                d[i].known = a[i].known;
                d[i].i = a[i].len;
            }
            break;
        case PG_LOWER:
        case PG_NORMALIZE:
            EACH {
                d[i].known = a[i].known;
                d[i].len = 0;
                d[i].s = "";
                if (!a[i].known || a[i].len == 0)
                    continue;
                char *out = ar_alloc(bt->scratch, a[i].len);
                if (!out)
                    return -1;
                if (st->op == PG_LOWER) {
                    for (uint32_t k = 0; k < a[i].len; k++)
                        out[k] = (char)ascii_lower((unsigned char)a[i].s[k]);
                    d[i].len = a[i].len;
                } else {
                    d[i].len = (uint32_t)val_normalize(a[i].s, a[i].len, out);
                }
                d[i].s = out;
            }
            break;
        case PG_RULE: {
            size_t k = st->dst; /* position of the rule in rec->rules */
            const pg_rule *rule = &rules->rules[rec->rules[k]];
            uint8_t *restrict out = bt->outcome + k * bt->cap;
            if (!bt->enabled[rule->commitment]) {
                memset(out, PG_NONE, n);
                break;
            }
            const uint8_t sev = (uint8_t)rule->severity;
            const uint8_t usev = rule->unknown_severity == PG_SEV_IGNORE ? 0 : (uint8_t)rule->unknown_severity;
            const uint8_t uc = rule->unknown_severity != PG_SEV_IGNORE; /* an unknown `when` is a finding */
            const uint8_t *restrict rej = bt->rejected;
            uint8_t *restrict vd = (uint8_t *)bt->verdict; /* severities 0..4 */
            const uint8_t *restrict ka = bt->kleene[st->a], *restrict kb = bt->kleene[st->b];
            const uint8_t *restrict kc = c ? bt->kleene[st->c] : NULL;
            /* branch-free: most rows do not fire, and which ones do is data.  The gate
             * and `unless` are always known; `when` may be unknown (1). */
#define RULE_ROWS(EXEMPT)                                                                  \
    EACH {                                                                                 \
        uint8_t gate = (uint8_t)((ka[i] == 2) & (rej[i] == 0) & !(EXEMPT));                \
        uint8_t fired = (uint8_t)(gate & (kb[i] == 2));                                    \
        uint8_t unk = (uint8_t)(gate & (kb[i] == 1) & uc);                                 \
        out[i] = (uint8_t)(fired | (unk << 1)); /* PG_FIRED 1, PG_UNKNOWN 2 */             \
        uint8_t s = (uint8_t)((fired ? sev : 0) | (unk ? usev : 0));                       \
        vd[i] = vd[i] > s ? vd[i] : s;                                                     \
    }
            if (kc)
                RULE_ROWS(kc[i] == 2)
            else
                RULE_ROWS(0)
#undef RULE_ROWS
            break;
        }
        case PG__COUNT:
            break;
        }
        if (st->op != PG_RULE && bt->kleene[st->dst]) /* a truth value the logic steps read */
            kleene_from_val(bt->kleene[st->dst], d, n);
#undef EACH
#undef BIN
#undef BOTH_KNOWN
    }
    return 0;
}

/* ---- formatting -------------------------------------------------------------------------- */

int pg_buf_reserve(pg_buf *b, size_t n)
{
    if (b->oom)
        return -1;
    if (b->len + n + 1 <= b->cap)
        return 0;
    size_t nc = b->cap ? b->cap * 2 : 256;
    while (nc < b->len + n + 1)
        nc *= 2;
    char *np = mtcr_xrealloc(b->p, nc);
    if (!np) {
        b->oom = 1;
        return -1;
    }
    b->p = np;
    b->cap = nc;
    return 0;
}

void pg_buf_u64(pg_buf *b, uint64_t v)
{
    char tmp[24];
    size_t i = sizeof tmp;
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    pg_buf_put(b, tmp + i, sizeof tmp - i);
}

void pg_buf_fmt_val(pg_buf *b, const pg_rules *rules, const pg_fmt *f, const pg_val *v)
{
    char tmp[64];
    if (!v->known) {
        pg_buf_putc(b, '?');
        return;
    }
    switch (f->type) {
    case PT_BOOL:
        pg_buf_puts(b, v->i ? "true" : "false");
        break;
    case PT_INT:
        snprintf(tmp, sizeof tmp, "%lld", (long long)v->i);
        pg_buf_puts(b, tmp);
        break;
    case PT_NUM:
        if (f->unit) {
            val_format_in_unit(v->d, f->unit, tmp);
            pg_buf_puts(b, tmp);
            pg_buf_putc(b, ' ');
            pg_buf_puts(b, f->unit->name);
        } else {
            val_format_double(v->d, tmp);
            pg_buf_puts(b, tmp);
        }
        break;
    case PT_STR:
        pg_buf_put(b, v->s, v->len);
        break;
    case PT_DATE:
        val_format_date((int32_t)v->i, tmp);
        pg_buf_puts(b, tmp);
        break;
    case PT_CODE:
        val_format_code(v->u, tmp);
        pg_buf_puts(b, tmp);
        break;
    case PT_ENUM: {
        const pg_enum *e = &rules->enums[f->enum_id];
        if (v->i >= 0 && (size_t)v->i < e->nmembers)
            pg_buf_puts(b, e->members[v->i]);
        else
            pg_buf_putc(b, '?');
        break;
    }
    }
}

static void render_parts(pg_buf *b, const pg_batch *bt, const pg_message *m, size_t row)
{
    for (size_t i = 0; i < m->nparts; i++) {
        const pg_msg_part *p = &m->parts[i];
        if (p->text)
            pg_buf_put(b, p->text, p->len);
        else
        {
            pg_val v = pg_batch_value(bt, p->reg, row);
            pg_buf_fmt_val(b, bt->rules, &p->fmt, &v);
        }
    }
}

void pg_render_message(pg_buf *b, const pg_batch *bt, const pg_rule *r, size_t row, int unknown)
{
    if (!unknown) {
        if (r->then_msg.nparts)
            render_parts(b, bt, &r->then_msg, row);
        else
            pg_buf_puts(b, r->title ? r->title : r->name);
        return;
    }
    if (r->unknown_msg.nparts) {
        render_parts(b, bt, &r->unknown_msg, row);
        return;
    }
    if (!r->unknown_default) {
        /* `if unknown review;` without a message: the title, marked as undecided */
        pg_buf_puts(b, "insufficient data: ");
        pg_buf_puts(b, r->title ? r->title : r->name);
        return;
    }
    /* the default clause: name the missing fields that `when` reads */
    pg_buf_puts(b, "insufficient data: ");
    int any = 0;
    for (size_t i = 0; i < r->nevidence; i++) {
        const pg_evidence *e = &r->evidence[i];
        if (!e->is_field || pg_batch_value(bt, e->reg, row).known)
            continue;
        if (any)
            pg_buf_puts(b, ", ");
        pg_buf_puts(b, e->label);
        any = 1;
    }
    if (!any)
        pg_buf_puts(b, "the condition could not be evaluated");
}

void pg_disassemble(pg_buf *b, const pg_rules *rules, const pg_record *rec)
{
    char line[256];
    snprintf(line, sizeof line, "record %s: %zu fields, %u constants, %u registers, %zu steps\n",
             rec->name, rec->nfields, rec->nconsts, rec->nregs, rec->nsteps);
    pg_buf_puts(b, line);
    for (size_t i = 0; i < rec->nfields; i++) {
        snprintf(line, sizeof line, "  r%zu = field %s\n", i, rec->fields[i].name);
        pg_buf_puts(b, line);
    }
    if (rec->nconsts) {
        snprintf(line, sizeof line, "  r%zu..r%zu = constants\n", rec->nfields, rec->nfields + rec->nconsts - 1);
        pg_buf_puts(b, line);
    }
    for (size_t i = 0; i < rec->nsteps; i++) {
        const pg_step *s = &rec->steps[i];
        if (s->op == PG_RULE)
            snprintf(line, sizeof line, s->c == UINT32_MAX ? "  RULE %s gate r%u when r%u\n" : "  RULE %s gate r%u when r%u unless r%u\n",
                     rules->rules[rec->rules[s->dst]].name, s->a, s->b, s->c);
        else if (s->op == PG_IN_SET || s->op == PG_IN_SET_AT)
            snprintf(line, sizeof line, s->op == PG_IN_SET_AT ? "  r%u = %s r%u, set %s, at r%u\n" : "  r%u = %s r%u, set %s\n",
                     s->dst, pg_op_names[s->op], s->a, rules->sets[s->b].name, s->c);
        else {
            int w = snprintf(line, sizeof line, "  r%u = %s r%u", s->dst, pg_op_names[s->op], s->a);
            if (s->b != UINT32_MAX && w > 0 && (size_t)w < sizeof line)
                w += snprintf(line + w, sizeof line - (size_t)w, ", r%u", s->b);
            if (s->c != UINT32_MAX && w > 0 && (size_t)w < sizeof line)
                w += snprintf(line + w, sizeof line - (size_t)w, ", r%u", s->c);
            if (w > 0 && (size_t)w < sizeof line - 1)
                snprintf(line + w, sizeof line - (size_t)w, "\n");
        }
        pg_buf_puts(b, line);
    }
}

void pg_rules_free(pg_rules *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->nregexes; i++)
        regfree(&r->regexes[i]);
    if (r->arena) {
        ar_free(r->arena);
        mtcr_xfree(r->arena);
    }
}
