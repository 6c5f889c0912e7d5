/* check.c — names, types and units, and lowering to the one program.
 *
 * One pass per record type: every commitment that applies to the record is
 * checked and lowered into that record's program; `let`s and `const`s are
 * lowered on first use in that program (memoised), so a `let` is checked in the
 * context of each record type whose rules use it (LANGUAGE 3).  Declarations no
 * program uses are still checked (against their module's single record type when
 * they read fields), so `lint` reports their errors too.  Diagnostics produced
 * twice (a let lowered for two records) are reported once.
 */
#include "compiler.h"

#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../runtime/reader.h"

/* ---- types ---------------------------------------------------------------------- */

typedef enum { TY_ERR, TY_BOOL, TY_INT, TY_NUM, TY_STR, TY_DATE, TY_CODE, TY_ENUM, TY_QTY, TY_MISSING } ty_kind;

typedef struct {
    ty_kind k;
    val_dim dim;           /* TY_QTY */
    int en;                /* TY_ENUM: enum id */
    const val_unit *unit;  /* TY_QTY: display unit */
} ty;

static const ty T_ERR = {TY_ERR, DIM_NONE, -1, NULL};

/* ---- declarations side tables ------------------------------------------------------ */

typedef struct {
    ast_decl *d;
    cm_module *m;
    int id; /* enum id, set id, record id, commitment id (by kind) */
} ck_decl;

typedef struct ck ck;
struct ck {
    cm_compiled *out;
    ar_arena *A;
    diag_list *D;
    cm_loader *L;
    ck_decl *decls;
    size_t ndecls;
    int country_enum; /* enum id of countries.country, -1 if missing */
    ar_vec enums, sets, records, commitments, rules, regexes; /* pg_* being built */
    ar_vec set_decls;   /* ck_decl* per set id */
    ar_vec record_decls;/* ck_decl* per record id */
    int *set_state;     /* per decl index: set id + 1 once built */
    ar_vec cycle_lets;  /* ast_decl* of lets already reported in a cycle (report each cycle once) */
};

/* ---- the per-record lowering context ----------------------------------------------- */

#define TEMP_BASE 0x40000000u
#define NOREG UINT32_MAX

typedef struct {
    uint8_t *fields; /* nfields flags: fields read */
    ar_vec lets;     /* ck_decl* read directly */
    ar_vec cmps;     /* {label, reg} comparisons read directly */
} frame;

typedef struct {
    const char *label;
    uint32_t reg;
} cmp_ev;

typedef struct {
    ast_decl *d;
    uint32_t reg;
    ty t;
    int state; /* 1 in progress, 2 done */
    uint8_t *fields;
} memo;

typedef struct {
    ck *c;
    int rec_id;          /* -1: no record (consts only) */
    pg_record *rec;
    ck_decl *rdecl;
    ar_vec steps, consts, memos;
    uint32_t ntemps;
    uint32_t *cse;       /* open-addressing table of step indices + 1 (0: empty), by (op, a, b, c) */
    size_t cse_cap, cse_len;
    frame *fr;           /* current evidence frame (NULL: none) */
    const char *use_ctx; /* "in let 'x', used at file:line:col" for field errors */
} lw;

/* ---- small helpers ------------------------------------------------------------------- */

static diag *err(ck *c, diag_loc loc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static diag *err(ck *c, diag_loc loc, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    /* the same error at the same place (a let lowered for two records) once */
    for (size_t i = 0; i < c->D->len; i++) {
        diag *o = &c->D->items[i];
        if (o->loc.src == loc.src && o->loc.line == loc.line && o->loc.col == loc.col &&
            strcmp(o->message, buf) == 0)
            return NULL;
    }
    return diag_add(c->D, DIAG_ERROR, loc, "%s", buf);
}

static const char *ty_name(ck *c, ty t)
{
    switch (t.k) {
    case TY_ERR: return "<error>";
    case TY_BOOL: return "bool";
    case TY_INT: return "int";
    case TY_NUM: return "number";
    case TY_STR: return "string";
    case TY_DATE: return "date";
    case TY_CODE: return "code";
    case TY_ENUM: return ((pg_enum *)c->enums.data)[t.en].name;
    case TY_QTY: return val_dim_name(t.dim);
    case TY_MISSING: return "missing";
    }
    return "?";
}

static pg_type pt_of(ty t)
{
    switch (t.k) {
    case TY_BOOL: return PT_BOOL;
    case TY_INT: return PT_INT;
    case TY_NUM: case TY_QTY: return PT_NUM;
    case TY_STR: return PT_STR;
    case TY_DATE: return PT_DATE;
    case TY_CODE: return PT_CODE;
    case TY_ENUM: return PT_ENUM;
    default: return PT_BOOL;
    }
}

static pg_fmt fmt_of(ty t)
{
    pg_fmt f = {pt_of(t), NULL, t.k == TY_ENUM ? t.en : 0};
    if (t.k == TY_QTY)
        f.unit = t.unit ? t.unit : val_unit_base(t.dim);
    return f;
}

static int ty_same(ty a, ty b)
{
    if (a.k != b.k)
        return 0;
    if (a.k == TY_QTY)
        return a.dim == b.dim;
    if (a.k == TY_ENUM)
        return a.en == b.en;
    return 1;
}

static int is_numeric(ty t) { return t.k == TY_INT || t.k == TY_NUM; }

/* ---- declaration lookup ---------------------------------------------------------------- */

static int is_type_decl(const ast_decl *d) { return d->kind == DECL_ENUM || d->kind == DECL_RECORD; }
static int is_value_decl(const ast_decl *d)
{
    return d->kind == DECL_CONST || d->kind == DECL_LET || d->kind == DECL_SET;
}

/* A declaration named `name` in module m, in the type or value namespace. */
static ck_decl *lookup_in(ck *c, const cm_module *m, const char *name, int types)
{
    for (size_t i = 0; i < c->ndecls; i++) {
        ck_decl *k = &c->decls[i];
        if (k->m != m || !k->d->name || strcmp(k->d->name, name) != 0)
            continue;
        if (types ? is_type_decl(k->d) : is_value_decl(k->d))
            return k;
    }
    return NULL;
}

/* Modules visible from m: m, its direct imports, and countries. */
static size_t visible_modules(ck *c, const cm_module *m, const cm_module **out, size_t max)
{
    size_t n = 0;
    out[n++] = m;
    for (size_t i = 0; i < m->nimports && n < max; i++) {
        const cm_module *t = m->imports[i];
        int seen = 0;
        for (size_t k = 0; k < n; k++)
            seen |= out[k] == t;
        if (t && !seen)
            out[n++] = t;
    }
    const cm_module *co = cm_find_module(c->L, "countries");
    int seen = 0;
    for (size_t k = 0; k < n; k++)
        seen |= out[k] == co;
    if (co && !seen && n < max)
        out[n++] = co;
    return n;
}

#define MAXVIS 256

/* An unqualified name: the module's own declaration, else the single one among
 * its visible modules; several is an ambiguity error listing them. */
static ck_decl *lookup_visible(ck *c, const cm_module *m, const char *name, int types, diag_loc loc,
                               int *ambiguous)
{
    *ambiguous = 0;
    ck_decl *own = lookup_in(c, m, name, types);
    if (own)
        return own;
    const cm_module *vis[MAXVIS];
    size_t nv = visible_modules(c, m, vis, MAXVIS);
    ck_decl *found = NULL;
    char list[512] = "";
    int count = 0;
    for (size_t i = 1; i < nv; i++) {
        ck_decl *k = lookup_in(c, vis[i], name, types);
        if (!k)
            continue;
        count++;
        if (!found)
            found = k;
        size_t l = strlen(list);
        snprintf(list + l, sizeof list - l, "%s%s.%s", l ? ", " : "", vis[i]->name, name);
    }
    if (count > 1) {
        *ambiguous = 1;
        diag *d = err(c, loc, "'%s' is ambiguous: %s", name, list);
        if (d)
            diag_hint(d, "qualify the name with its module");
        return NULL;
    }
    return found;
}

/* Is `name` declared in m or a module visible from m?  (No diagnostics.) */
static int lookup_visible_quiet(ck *c, const cm_module *m, const char *name)
{
    const cm_module *vis[MAXVIS];
    size_t nv = visible_modules(c, m, vis, MAXVIS);
    for (size_t i = 0; i < nv; i++)
        if (lookup_in(c, vis[i], name, 0) || lookup_in(c, vis[i], name, 1))
            return 1;
    return 0;
}

static int field_index(const pg_record *r, const char *name)
{
    for (size_t i = 0; r && i < r->nfields; i++)
        if (strcmp(r->fields[i].name, name) == 0)
            return (int)i;
    return -1;
}

/* A visible module named exactly `name`. */
static const cm_module *visible_module_named(ck *c, const cm_module *m, const char *name)
{
    const cm_module *vis[MAXVIS];
    size_t nv = visible_modules(c, m, vis, MAXVIS);
    for (size_t i = 0; i < nv; i++)
        if (vis[i]->name && strcmp(vis[i]->name, name) == 0)
            return vis[i];
    return NULL;
}

/* Member index of `name` in enum e, or -1. */
static int enum_member(ck *c, int e, const char *name)
{
    const pg_enum *en = &((pg_enum *)c->enums.data)[e];
    for (size_t i = 0; i < en->nmembers; i++)
        if (strcmp(en->members[i], name) == 0)
            return (int)i;
    return -1;
}

/* Enums visible from m that have a member `name`. */
static int enum_members_visible(ck *c, const cm_module *m, const char *name, int *ens, int max)
{
    const cm_module *vis[MAXVIS];
    size_t nv = visible_modules(c, m, vis, MAXVIS);
    int n = 0;
    for (size_t i = 0; i < c->ndecls; i++) {
        ck_decl *k = &c->decls[i];
        if (k->d->kind != DECL_ENUM || k->id < 0)
            continue;
        int vis_ok = 0;
        for (size_t j = 0; j < nv; j++)
            vis_ok |= vis[j] == k->m;
        if (vis_ok && enum_member(c, k->id, name) >= 0 && n < max)
            ens[n++] = k->id;
    }
    return n;
}

/* ---- type names ---------------------------------------------------------------------------- */

static int builtin_type(const char *name, ty *out)
{
    static const struct {
        const char *n;
        ty_kind k;
        val_dim dim;
    } tab[] = {
        {"bool", TY_BOOL, DIM_NONE},       {"int", TY_INT, DIM_NONE},
        {"number", TY_NUM, DIM_NONE},      {"string", TY_STR, DIM_NONE},
        {"date", TY_DATE, DIM_NONE},       {"code", TY_CODE, DIM_NONE},
        {"mass", TY_QTY, DIM_MASS},        {"distance", TY_QTY, DIM_DISTANCE},
        {"impulse", TY_QTY, DIM_IMPULSE},  {"volume", TY_QTY, DIM_VOLUME},
        {"speed", TY_QTY, DIM_SPEED},
    };
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
        if (strcmp(tab[i].n, name) == 0) {
            *out = (ty){tab[i].k, tab[i].dim, -1, NULL};
            return 1;
        }
    return 0;
}

/* Resolve a (possibly qualified) type name to a type declaration. */
static ck_decl *resolve_type_decl(ck *c, const cm_module *m, const ast_ref *r)
{
    const char *dot = strrchr(r->name, '.');
    int amb;
    if (dot) {
        char *mod = ar_strndup(c->A, r->name, (size_t)(dot - r->name));
        const cm_module *t = mod ? visible_module_named(c, m, mod) : NULL;
        if (!t) {
            err(c, r->loc, "unknown module '%s' in '%s'", mod ? mod : "?", r->name);
            return NULL;
        }
        ck_decl *k = lookup_in(c, t, dot + 1, 1);
        if (!k)
            err(c, r->loc, "module '%s' has no type '%s'", t->name, dot + 1);
        return k;
    }
    ck_decl *k = lookup_visible(c, m, r->name, 1, r->loc, &amb);
    return k;
}

static const char *const builtin_type_names[] = {"bool", "int", "number", "string", "date", "code",
                                                 "mass", "distance", "impulse", "volume", "speed",
                                                 "country"};

static ty resolve_type(ck *c, const cm_module *m, const ast_ref *r)
{
    ty t;
    if (builtin_type(r->name, &t))
        return t;
    ck_decl *k = resolve_type_decl(c, m, r);
    if (k && k->d->kind == DECL_ENUM && k->id >= 0)
        return (ty){TY_ENUM, DIM_NONE, k->id, NULL};
    if (k && k->d->kind == DECL_RECORD) {
        err(c, r->loc, "'%s' is a record type, not a value type", r->name);
        return T_ERR;
    }
    if (!k && !strchr(r->name, '.')) {
        int amb;
        lookup_visible(c, m, r->name, 1, r->loc, &amb);
        if (amb)
            return T_ERR;
        diag *d = err(c, r->loc, "unknown type '%s'", r->name);
        const char *s = diag_suggest(r->name, builtin_type_names,
                                     sizeof builtin_type_names / sizeof builtin_type_names[0]);
        if (d && s)
            diag_hint(d, "did you mean '%s'?", s);
    }
    return T_ERR;
}

/* ---- emitting ------------------------------------------------------------------------------- */

static size_t cse_hash(pg_op op, uint32_t a, uint32_t b, uint32_t cc)
{
    uint64_t h = ((uint64_t)op * 0x9E3779B97F4A7C15ull) ^ ((uint64_t)a * 0xC2B2AE3D27D4EB4Full) ^
                 ((uint64_t)b * 0x165667B19E3779F9ull) ^ ((uint64_t)cc * 0x27D4EB2F165667C5ull);
    return (size_t)(h ^ (h >> 29));
}

/* Append a step, or reuse the register of an identical earlier one: steps are pure
 * and the program is straight-line SSA, so the same (op, a, b, c) always gives the
 * same value (common subexpressions of rules and lets are computed once; the
 * standard library's programs shrink by about a tenth). */
static uint32_t emit(lw *w, pg_op op, uint32_t a, uint32_t b, uint32_t cc)
{
    if (w->cse_len * 2 >= w->cse_cap) { /* grow and rehash (load factor <= 1/2) */
        size_t ncap = w->cse_cap ? w->cse_cap * 2 : 256;
        uint32_t *nt = mtcr_xcalloc(ncap, sizeof *nt);
        if (!nt)
            return NOREG;
        const pg_step *st = w->steps.data;
        for (size_t i = 0; i < w->cse_cap; i++) {
            if (!w->cse[i])
                continue;
            const pg_step *s = &st[w->cse[i] - 1];
            size_t h = cse_hash((pg_op)s->op, s->a, s->b, s->c) & (ncap - 1);
            while (nt[h])
                h = (h + 1) & (ncap - 1);
            nt[h] = w->cse[i];
        }
        mtcr_xfree(w->cse);
        w->cse = nt;
        w->cse_cap = ncap;
    }
    size_t h = cse_hash(op, a, b, cc) & (w->cse_cap - 1);
    for (; w->cse[h]; h = (h + 1) & (w->cse_cap - 1)) {
        const pg_step *s = &((const pg_step *)w->steps.data)[w->cse[h] - 1];
        if (s->op == op && s->a == a && s->b == b && s->c == cc)
            return s->dst;
    }
    pg_step *s = ar_vec_push(&w->steps);
    if (!s)
        return NOREG;
    s->op = (uint16_t)op;
    s->dst = TEMP_BASE + w->ntemps++;
    s->a = a;
    s->b = b;
    s->c = cc;
    w->cse[h] = (uint32_t)w->steps.len; /* index + 1 */
    w->cse_len++;
    return s->dst;
}

static uint32_t kconst(lw *w, pg_val v)
{
    pg_val *vs = w->consts.data;
    for (size_t i = 0; i < w->consts.len; i++)
        if (vs[i].known == v.known && vs[i].len == v.len && vs[i].u == v.u)
            return (uint32_t)(w->rec->nfields + i);
    pg_val *slot = ar_vec_push(&w->consts);
    if (!slot)
        return NOREG;
    *slot = v;
    return (uint32_t)(w->rec->nfields + w->consts.len - 1);
}

static uint32_t kbool(lw *w, int b) { return kconst(w, (pg_val){.i = b, .known = 1}); }

typedef struct {
    uint32_t reg;
    ty t;
} rv;

static const rv RV_ERR = {NOREG, {TY_ERR, DIM_NONE, -1, NULL}};

/* ---- compile-time values (set members, given values, dates of clauses) ----------------------- */

static int check_date(ck *c, const ast_expr *e, int32_t *days)
{
    if (!val_valid_civil(e->year, e->month, e->day)) {
        err(c, e->loc, "%04d-%02d-%02d is not a valid date", e->year, e->month, e->day);
        return -1;
    }
    *days = val_days_from_civil(e->year, e->month, e->day);
    return 0;
}

static int const_value(ck *c, const cm_module *m, const ast_expr *e, ty expect, pg_val *out, ty *t,
                       int depth);

/* A literal's value and type.  Returns 1 if e is a literal, 0 if not, -1 on error. */
static int literal(ck *c, const ast_expr *e, pg_val *v, ty *t)
{
    memset(v, 0, sizeof *v);
    v->known = 1;
    switch (e->kind) {
    case AST_INT:
        v->i = e->ival;
        *t = (ty){TY_INT, DIM_NONE, -1, NULL};
        return 1;
    case AST_NUMBER:
        v->d = e->dval;
        *t = (ty){TY_NUM, DIM_NONE, -1, NULL};
        return 1;
    case AST_QTY: {
        const val_unit *u = val_unit_lookup(e->unit, strlen(e->unit));
        if (!u) {
            err(c, e->loc, "unknown unit '%s'", e->unit);
            return -1;
        }
        v->d = val_to_storage(e->dval, u);
        *t = (ty){TY_QTY, u->dim, -1, u};
        return 1;
    }
    case AST_STRING:
        v->s = e->str;
        v->len = (uint32_t)e->len;
        *t = (ty){TY_STR, DIM_NONE, -1, NULL};
        return 1;
    case AST_DATE: {
        int32_t d;
        if (check_date(c, e, &d))
            return -1;
        v->i = d;
        *t = (ty){TY_DATE, DIM_NONE, -1, NULL};
        return 1;
    }
    case AST_CODE: {
        const char *why;
        if (val_parse_code(e->str, strlen(e->str), &v->u, &why) != 0) {
            err(c, e->loc, "%s %s", e->str, why);
            return -1;
        }
        *t = (ty){TY_CODE, DIM_NONE, -1, NULL};
        return 1;
    }
    case AST_BOOL:
        v->i = e->ival;
        *t = (ty){TY_BOOL, DIM_NONE, -1, NULL};
        return 1;
    default:
        return 0;
    }
}

static const char *expr_label(ck *c, const ast_expr *e);

/* Evaluate a constant expression (literals, enum members, consts, unary minus). */
static int const_value(ck *c, const cm_module *m, const ast_expr *e, ty expect, pg_val *out, ty *t,
                       int depth)
{
    if (depth > 64) {
        err(c, e->loc, "constants nest too deeply (a cycle?)");
        return -1;
    }
    int r = literal(c, e, out, t);
    if (r)
        return r < 0 ? -1 : 0;
    if (e->kind == AST_MISSING) {
        if (expect.k == TY_ERR) {
            err(c, e->loc, "'missing' has no type here");
            return -1;
        }
        memset(out, 0, sizeof *out);
        *t = expect;
        return 0;
    }
    if (e->kind == AST_UNARY && e->op == OP_NEG) {
        if (const_value(c, m, e->lhs, expect, out, t, depth + 1))
            return -1;
        if (t->k == TY_INT)
            out->i = -out->i;
        else if (t->k == TY_NUM || t->k == TY_QTY)
            out->d = -out->d;
        else {
            err(c, e->loc, "'-' needs a number, not %s", ty_name(c, *t));
            return -1;
        }
        return 0;
    }
    if (e->kind == AST_NAME) {
        if (expect.k == TY_ENUM) {
            int mi = enum_member(c, expect.en, e->str);
            if (mi >= 0) {
                memset(out, 0, sizeof *out);
                out->i = mi;
                out->known = 1;
                *t = expect;
                return 0;
            }
        }
        int amb;
        ck_decl *k = lookup_visible(c, m, e->str, 0, e->loc, &amb);
        if (amb)
            return -1;
        if (k && k->d->kind == DECL_CONST) {
            ty at = T_ERR;
            if (k->d->type.name)
                at = resolve_type(c, k->m, &k->d->type);
            return const_value(c, k->m, k->d->expr, at.k != TY_ERR ? at : expect, out, t, depth + 1);
        }
        int ens[8];
        int ne = enum_members_visible(c, m, e->str, ens, 8);
        if (ne == 1 && !k) {
            memset(out, 0, sizeof *out);
            out->i = enum_member(c, ens[0], e->str);
            out->known = 1;
            *t = (ty){TY_ENUM, DIM_NONE, ens[0], NULL};
            return 0;
        }
        if (ne > 1) {
            err(c, e->loc, "'%s' is a member of several enums; write it where the enum type is known",
                e->str);
            return -1;
        }
        if (expect.k == TY_ENUM && !k) {
            const pg_enum *en = &((pg_enum *)c->enums.data)[expect.en];
            if (en->is_country) {
                diag *d = err(c, e->loc, "'%s' is not a country code", e->str);
                if (d)
                    diag_hint(d, "countries are ISO 3166-1 alpha-2 codes in rules: FR, CN, KP");
            } else {
                diag *d = err(c, e->loc, "'%s' is not a member of %s", e->str, en->name);
                const char *near = diag_suggest(e->str, en->members, en->nmembers);
                if (d && near)
                    diag_hint(d, "did you mean '%s'?", near);
            }
            return -1;
        }
        err(c, e->loc, "'%s' is not a constant", e->str);
        return -1;
    }
    err(c, e->loc, "expected a constant value here, found '%s'", expr_label(c, e));
    return -1;
}

/* ---- expression text (evidence labels) ------------------------------------------------------- */

static void label_rec(pg_buf *b, const ast_expr *e, int paren)
{
    char tmp[64];
    switch (e->kind) {
    case AST_INT: snprintf(tmp, sizeof tmp, "%lld", (long long)e->ival); pg_buf_puts(b, tmp); break;
    case AST_NUMBER: val_format_double(e->dval, tmp); pg_buf_puts(b, tmp); break;
    case AST_QTY: val_format_double(e->dval, tmp); pg_buf_puts(b, tmp); pg_buf_putc(b, ' '); pg_buf_puts(b, e->unit); break;
    case AST_STRING: pg_buf_putc(b, '"'); pg_buf_put(b, e->str, e->len); pg_buf_putc(b, '"'); break;
    case AST_DATE: snprintf(tmp, sizeof tmp, "%04d-%02d-%02d", e->year, e->month, e->day); pg_buf_puts(b, tmp); break;
    case AST_CODE: case AST_NAME: pg_buf_puts(b, e->str); break;
    case AST_BOOL: pg_buf_puts(b, e->ival ? "true" : "false"); break;
    case AST_MISSING: pg_buf_puts(b, "missing"); break;
    case AST_DOT: label_rec(b, e->lhs, 1); pg_buf_putc(b, '.'); pg_buf_puts(b, e->str); break;
    case AST_UNARY:
        if (paren) pg_buf_putc(b, '(');
        pg_buf_puts(b, e->op == OP_NOT ? "not " : "-");
        label_rec(b, e->lhs, 1);
        if (paren) pg_buf_putc(b, ')');
        break;
    case AST_BINARY:
    case AST_IN:
    case AST_MATCHES:
        if (paren) pg_buf_putc(b, '(');
        label_rec(b, e->lhs, 1);
        pg_buf_putc(b, ' ');
        pg_buf_puts(b, e->kind == AST_MATCHES ? "matches" : ast_op_name(e->op));
        pg_buf_putc(b, ' ');
        if (e->kind == AST_MATCHES) {
            pg_buf_putc(b, '/');
            pg_buf_puts(b, e->str);
            pg_buf_puts(b, e->icase ? "/i" : "/");
        } else {
            label_rec(b, e->rhs, 1);
        }
        if (e->kind == AST_IN && e->at) {
            pg_buf_puts(b, " at ");
            label_rec(b, e->at, 1);
        }
        if (paren) pg_buf_putc(b, ')');
        break;
    case AST_RANGE: label_rec(b, e->lhs, 1); pg_buf_puts(b, ".."); label_rec(b, e->rhs, 1); break;
    case AST_LIST:
        pg_buf_putc(b, '[');
        for (size_t i = 0; i < e->nitems; i++) {
            if (i) pg_buf_puts(b, ", ");
            label_rec(b, e->items[i], 0);
        }
        pg_buf_putc(b, ']');
        break;
    case AST_IF:
        pg_buf_puts(b, "(if ");
        label_rec(b, e->cond, 0);
        pg_buf_puts(b, " then ");
        label_rec(b, e->lhs, 0);
        pg_buf_puts(b, " else ");
        label_rec(b, e->rhs, 0);
        pg_buf_putc(b, ')');
        break;
    case AST_CALL:
        pg_buf_puts(b, e->str);
        pg_buf_putc(b, '(');
        for (size_t i = 0; i < e->nitems; i++) {
            if (i) pg_buf_puts(b, ", ");
            label_rec(b, e->items[i], 0);
        }
        pg_buf_putc(b, ')');
        break;
    }
}

static const char *expr_label(ck *c, const ast_expr *e)
{
    pg_buf b = {0};
    label_rec(&b, e, 0);
    const char *s = b.p ? ar_strdup(c->A, b.p) : "?";
    mtcr_xfree(b.p);
    return s ? s : "?";
}

/* ---- sets ------------------------------------------------------------------------------------ */

static uint32_t str_hash(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

static int cmp_member_u(const void *a, const void *b)
{
    uint64_t x = ((const pg_member *)a)->key.u, y = ((const pg_member *)b)->key.u;
    return x < y ? -1 : x > y;
}

typedef struct {
    pg_val key;
    int32_t since, until;
} raw_member;

/* Finish a set from raw members: merge equal keys, build the lookup table. */
static int build_set(ck *c, pg_set *s, raw_member *raw, size_t n, const pg_enum *en)
{
    s->members = ar_alloc(c->A, (n ? n : 1) * sizeof *s->members);
    s->ivls = ar_alloc(c->A, (n ? n : 1) * sizeof *s->ivls);
    if (!s->members || !s->ivls)
        return -1;
    /* group intervals by key: O(n^2) merge is fine at compile time for sets of
     * a few hundred members, but keep string sets linear-ish via sorting by key */
    size_t nm = 0, ni = 0;
    uint8_t *used = mtcr_xcalloc(n ? n : 1, 1);
    if (!used)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (used[i])
            continue;
        pg_member *m = &s->members[nm++];
        m->key = raw[i].key;
        m->ivl = (uint32_t)ni;
        for (size_t j = i; j < n; j++) {
            if (used[j])
                continue;
            int same = s->type == PT_STR
                           ? raw[j].key.len == raw[i].key.len &&
                                 memcmp(raw[j].key.s, raw[i].key.s, raw[i].key.len) == 0
                           : raw[j].key.u == raw[i].key.u;
            if (!same)
                continue;
            used[j] = 1;
            s->ivls[ni].since = raw[j].since;
            s->ivls[ni].until = raw[j].until;
            ni++;
            m->nivl++;
        }
    }
    mtcr_xfree(used);
    s->nmembers = nm;
    s->nivls = ni;
    if (s->type == PT_ENUM) {
        s->table_size = en->nmembers;
        s->table = ar_alloc(c->A, (en->nmembers ? en->nmembers : 1) * sizeof *s->table);
        if (!s->table)
            return -1;
        for (size_t i = 0; i < en->nmembers; i++)
            s->table[i] = -1;
        for (size_t i = 0; i < nm; i++)
            s->table[s->members[i].key.i] = (int32_t)i;
    } else if (s->type == PT_STR) {
        size_t sz = 16;
        while (sz < nm * 2)
            sz *= 2;
        s->table_size = sz;
        s->table = ar_alloc(c->A, sz * sizeof *s->table);
        if (!s->table)
            return -1;
        for (size_t i = 0; i < sz; i++)
            s->table[i] = -1;
        for (size_t i = 0; i < nm; i++) {
            size_t h = str_hash(s->members[i].key.s, s->members[i].key.len) & (sz - 1);
            while (s->table[h] >= 0)
                h = (h + 1) & (sz - 1);
            s->table[h] = (int32_t)i;
        }
    } else {
        qsort(s->members, nm, sizeof *s->members, cmp_member_u);
    }
    return 0;
}

static int set_of(ck *c, ck_decl *k, ty *elem);

/* The set id of a set declaration, built on first use; -1 on error. */
static int set_of(ck *c, ck_decl *k, ty *elem)
{
    ast_decl *d = k->d;
    ty et = resolve_type(c, k->m, &d->type);
    *elem = et;
    if (k->id >= 0)
        return k->id;
    if (k->id == -2)
        return -1; /* failed before */
    k->id = -2;
    if (et.k == TY_ERR)
        return -1;
    if (et.k == TY_BOOL || et.k == TY_MISSING) {
        err(c, d->loc, "a set of %s is not allowed", ty_name(c, et));
        return -1;
    }
    if (d->normalized && et.k != TY_STR) {
        err(c, d->loc, "only a set of string can be normalized");
        return -1;
    }
    pg_set s = {0};
    s.name = ar_printf(c->A, "%s.%s", k->m->name ? k->m->name : "?", d->name);
    s.type = pt_of(et);
    s.normalized = d->normalized;
    ar_vec raw;
    ar_vec_init(&raw, sizeof(raw_member));
    int bad = 0;
    if (d->from_file) {
        if (k->m->embedded) {
            err(c, d->from_loc, "'from' files are not supported in the built-in standard library");
            bad = 1;
        } else if (et.k != TY_STR) {
            err(c, d->from_loc, "a set read 'from' a file must be a set of string");
            bad = 1;
        } else {
            const char *path = d->from_file[0] == '/' ? d->from_file
                                                      : ar_printf(c->A, "%s%s", k->m->dir, d->from_file);
            char *e = NULL;
            rd_reader *r = rd_open(path, RD_CSV, &e);
            if (!r) {
                err(c, d->from_loc, "%s", e ? e : "cannot open file");
                mtcr_xfree(e);
                bad = 1;
            } else {
                size_t col = SIZE_MAX;
                for (size_t i = 0; i < rd_ncolumns(r); i++)
                    if (strcmp(rd_column(r, i), d->from_column) == 0)
                        col = i;
                if (col == SIZE_MAX) {
                    err(c, d->from_loc, "'%s' has no column '%s'", path, d->from_column);
                    bad = 1;
                } else {
                    const char *names[1] = {d->from_column};
                    rd_select(r, 1, names);
                    rd_batch b;
                    long got;
                    while ((got = rd_read_batch(r, &b, 1024, &e)) > 0) {
                        for (long i = 0; i < got; i++) {
                            if (b.error[i]) {
                                err(c, d->from_loc, "%s:%llu: %s", path, (unsigned long long)b.line[i],
                                    b.error[i]);
                                bad = 1;
                                continue;
                            }
                            const rd_cell *cell = &b.cells[i];
                            if (!cell->present)
                                continue;
                            raw_member *rm = ar_vec_push(&raw);
                            if (!rm) {
                                bad = 1;
                                break;
                            }
                            char *txt = ar_alloc(c->A, cell->len + 1);
                            size_t n = cell->len;
                            if (txt && d->normalized)
                                n = val_normalize(cell->p, cell->len, txt);
                            else if (txt)
                                memcpy(txt, cell->p, n);
                            rm->key.s = txt;
                            rm->key.len = (uint32_t)n;
                            rm->key.known = 1;
                            rm->since = INT32_MIN;
                            rm->until = INT32_MAX;
                        }
                    }
                    if (got < 0) {
                        err(c, d->from_loc, "%s", e ? e : "read error");
                        mtcr_xfree(e);
                        bad = 1;
                    }
                }
                rd_close(r);
            }
        }
    }
    for (size_t g = 0; g < d->ngroups; g++) {
        const ast_set_group *gr = &d->groups[g];
        int32_t since = INT32_MIN, until = INT32_MAX;
        if (gr->since && check_date(c, gr->since, &since))
            bad = 1;
        if (gr->until && check_date(c, gr->until, &until))
            bad = 1;
        if (gr->since || gr->until)
            s.time_varying = 1;
        if (gr->since && gr->until && until <= since) {
            err(c, gr->until->loc, "'until' must be after 'since'");
            bad = 1;
        }
        for (size_t i = 0; i < gr->nmembers; i++) {
            pg_val v;
            ty t;
            if (const_value(c, k->m, gr->members[i], et, &v, &t, 0)) {
                bad = 1;
                continue;
            }
            if (!ty_same(t, et) && !(et.k == TY_NUM && t.k == TY_INT)) {
                err(c, gr->members[i]->loc, "a member of set '%s' must be a %s, not %s", d->name,
                    ty_name(c, et), ty_name(c, t));
                bad = 1;
                continue;
            }
            if (et.k == TY_NUM && t.k == TY_INT)
                v.d = (double)v.i;
            if (!v.known) {
                err(c, gr->members[i]->loc, "'missing' cannot be a member of a set");
                bad = 1;
                continue;
            }
            if (et.k == TY_STR && d->normalized) {
                char *txt = ar_alloc(c->A, v.len + 1);
                if (!txt)
                    return -1;
                v.len = (uint32_t)val_normalize(v.s, v.len, txt);
                v.s = txt;
            }
            raw_member *rm = ar_vec_push(&raw);
            if (!rm)
                return -1;
            rm->key = v;
            rm->since = since;
            rm->until = until;
        }
    }
    if (!bad) {
        const pg_enum *en = et.k == TY_ENUM ? &((pg_enum *)c->enums.data)[et.en] : NULL;
        if (build_set(c, &s, raw.data, raw.len, en)) {
            ar_vec_free(&raw);
            return -1;
        }
    }
    ar_vec_free(&raw);
    if (bad)
        return -1;
    pg_set *slot = ar_vec_push(&c->sets);
    if (!slot)
        return -1;
    *slot = s;
    k->id = (int)(c->sets.len - 1);
    return k->id;
}

/* ---- expressions ------------------------------------------------------------------------------ */

static rv lower(lw *w, const cm_module *m, const ast_expr *e, ty expect);

static void note_field(lw *w, int f)
{
    if (w->fr)
        w->fr->fields[f] = 1;
}

static rv lower_let(lw *w, ck_decl *k, diag_loc use)
{
    ck *c = w->c;
    memo *ms = w->memos.data;
    for (size_t i = 0; i < w->memos.len; i++) {
        if (ms[i].d != k->d)
            continue;
        if (ms[i].state == 1) {
            /* the lets in progress from this one on form the cycle: name it once */
            ast_decl **seen = c->cycle_lets.data;
            for (size_t j = 0; j < c->cycle_lets.len; j++)
                if (seen[j] == k->d)
                    return RV_ERR;
            char chain[512];
            size_t off = 0;
            chain[0] = 0;
            for (size_t j = i; j < w->memos.len; j++) {
                memo *mj = &((memo *)w->memos.data)[j];
                if (mj->state != 1)
                    continue;
                ast_decl **slot = ar_vec_push(&c->cycle_lets);
                if (slot)
                    *slot = mj->d;
                if (off < sizeof chain)
                    off += (size_t)snprintf(chain + off, sizeof chain - off, "%s -> ", mj->d->name);
            }
            if (off < sizeof chain)
                snprintf(chain + off, sizeof chain - off, "%s", k->d->name);
            diag *d = err(c, use, "let '%s' depends on itself: %s", k->d->name, chain);
            if (d)
                diag_hint(d, "a let may use other lets, but not in a cycle");
            return RV_ERR;
        }
        if (w->fr) {
            for (size_t f = 0; f < w->rec->nfields; f++)
                w->fr->fields[f] |= ms[i].fields[f];
            ck_decl **slot = ar_vec_push(&w->fr->lets);
            if (slot)
                *slot = k;
        }
        return (rv){ms[i].reg, ms[i].t};
    }
    size_t idx = w->memos.len;
    memo *me = ar_vec_push(&w->memos);
    if (!me)
        return RV_ERR;
    me->d = k->d;
    me->state = 1;
    me->fields = ar_alloc(c->A, w->rec->nfields + 1);
    frame fr = {me->fields, {0}, {0}};
    ar_vec_init(&fr.lets, sizeof(ck_decl *));
    ar_vec_init(&fr.cmps, sizeof(cmp_ev));
    frame *outer = w->fr;
    const char *outer_ctx = w->use_ctx;
    w->fr = &fr;
    /* field errors inside the let name the let and where it is used */
    if (!outer_ctx)
        w->use_ctx = ar_printf(c->A, "in let '%s', used at %s:%d:%d", k->d->name,
                               use.src ? use.src->name : "?", use.line, use.col);
    else
        w->use_ctx = ar_printf(c->A, "in let '%s', used %s", k->d->name, outer_ctx);
    ty at = T_ERR;
    if (k->d->type.name)
        at = resolve_type(c, k->m, &k->d->type);
    rv r = lower(w, k->m, k->d->expr, at);
    if (r.t.k != TY_ERR && at.k != TY_ERR) {
        if (at.k == TY_NUM && r.t.k == TY_INT) {
            r.reg = emit(w, PG_I2N, r.reg, NOREG, NOREG);
            r.t = at;
        } else if (!ty_same(at, r.t)) {
            err(c, k->d->expr->loc, "let '%s' is declared %s but its value is %s", k->d->name,
                ty_name(c, at), ty_name(c, r.t));
            r = RV_ERR;
        }
    }
    if (r.t.k == TY_MISSING) {
        err(c, k->d->expr->loc, "'missing' has no type here; annotate the let");
        r = RV_ERR;
    }
    w->fr = outer;
    w->use_ctx = outer_ctx;
    ar_vec_free(&fr.lets);
    ar_vec_free(&fr.cmps);
    me = &((memo *)w->memos.data)[idx];
    me->state = 2;
    me->reg = r.reg;
    me->t = r.t;
    if (outer) {
        for (size_t f = 0; f < w->rec->nfields; f++)
            outer->fields[f] |= me->fields[f];
        ck_decl **slot = ar_vec_push(&outer->lets);
        if (slot)
            *slot = k;
    }
    return r;
}

static rv lower_const_decl(lw *w, ck_decl *k, diag_loc use)
{
    /* consts are lowered like lets but may not read fields: a const with no
     * record context is checked with rec_id -1 */
    memo *ms = w->memos.data;
    for (size_t i = 0; i < w->memos.len; i++)
        if (ms[i].d == k->d) {
            if (ms[i].state == 1) {
                err(w->c, use, "'%s' depends on itself (a cycle of constants)", k->d->name);
                return RV_ERR;
            }
            return (rv){ms[i].reg, ms[i].t};
        }
    size_t idx = w->memos.len;
    memo *me = ar_vec_push(&w->memos);
    if (!me)
        return RV_ERR;
    me->d = k->d;
    me->state = 1;
    me->fields = ar_alloc(w->c->A, w->rec->nfields + 1);
    int saved_rec = w->rec_id;
    frame *outer = w->fr;
    w->fr = NULL;
    w->rec_id = -1; /* no fields */
    ty at = T_ERR;
    if (k->d->type.name)
        at = resolve_type(w->c, k->m, &k->d->type);
    rv r = lower(w, k->m, k->d->expr, at);
    if (r.t.k != TY_ERR && at.k != TY_ERR) {
        if (at.k == TY_NUM && r.t.k == TY_INT) {
            r.reg = emit(w, PG_I2N, r.reg, NOREG, NOREG);
            r.t = at;
        } else if (!ty_same(at, r.t)) {
            err(w->c, k->d->expr->loc, "const '%s' is declared %s but its value is %s", k->d->name,
                ty_name(w->c, at), ty_name(w->c, r.t));
            r = RV_ERR;
        }
    }
    w->rec_id = saved_rec;
    w->fr = outer;
    me = &((memo *)w->memos.data)[idx];
    me->state = 2;
    me->reg = r.reg;
    me->t = r.t;
    return r;
}

/* A value name in module m: field, const, let, enum member (LANGUAGE 3 names). */
static rv lower_name(lw *w, const cm_module *m, const char *name, diag_loc loc, ty expect,
                     int allow_set, int *set_id, ty *set_elem)
{
    ck *c = w->c;
    if (expect.k == TY_ENUM) {
        int mi = enum_member(c, expect.en, name);
        if (mi >= 0)
            return (rv){kconst(w, (pg_val){.i = mi, .known = 1}), expect};
    }
    int field = w->rec_id >= 0 ? field_index(w->rec, name) : -1;
    int amb;
    ck_decl *k = lookup_visible(c, m, name, 0, loc, &amb);
    if (amb)
        return RV_ERR;
    int ens[8];
    int ne = enum_members_visible(c, m, name, ens, 8);
    if ((field >= 0 || k) && ne > 0) {
        diag *d = err(c, loc, "'%s' is ambiguous: it names a %s and a member of enum '%s'", name,
                      field >= 0 ? "field" : "declaration", ((pg_enum *)c->enums.data)[ens[0]].name);
        if (d)
            diag_hint(d, "rename one of them, or compare with a value of the enum's type");
        return RV_ERR;
    }
    if (field >= 0 && k) {
        err(c, loc, "'%s' is ambiguous: a field of record '%s' and a %s of module '%s'", name,
            w->rec->name, k->d->kind == DECL_LET ? "let" : k->d->kind == DECL_SET ? "set" : "const",
            k->m->name);
        return RV_ERR;
    }
    if (field >= 0) {
        note_field(w, field);
        const pg_field *f = &w->rec->fields[field];
        ty t;
        switch (f->type) {
        case PT_BOOL: t = (ty){TY_BOOL, DIM_NONE, -1, NULL}; break;
        case PT_INT: t = (ty){TY_INT, DIM_NONE, -1, NULL}; break;
        case PT_NUM: t = f->dim ? (ty){TY_QTY, f->dim, -1, f->unit} : (ty){TY_NUM, DIM_NONE, -1, NULL}; break;
        case PT_STR: t = (ty){TY_STR, DIM_NONE, -1, NULL}; break;
        case PT_DATE: t = (ty){TY_DATE, DIM_NONE, -1, NULL}; break;
        case PT_CODE: t = (ty){TY_CODE, DIM_NONE, -1, NULL}; break;
        default: t = (ty){TY_ENUM, DIM_NONE, f->enum_id, NULL}; break;
        }
        return (rv){(uint32_t)field, t};
    }
    if (k) {
        switch (k->d->kind) {
        case DECL_LET:
            if (w->rec_id < 0) {
                err(c, loc, "a constant cannot use the let '%s'", name);
                return RV_ERR;
            }
            return lower_let(w, k, loc);
        case DECL_CONST:
            return lower_const_decl(w, k, loc);
        case DECL_SET:
            if (allow_set) {
                *set_id = set_of(c, k, set_elem);
                if (*set_id < 0)
                    return RV_ERR;
                return (rv){NOREG, *set_elem};
            }
            err(c, loc, "set '%s' can only be used on the right of 'in'", name);
            return RV_ERR;
        default:
            break;
        }
    }
    if (ne == 1) {
        ty t = {TY_ENUM, DIM_NONE, ens[0], NULL};
        return (rv){kconst(w, (pg_val){.i = enum_member(c, ens[0], name), .known = 1}), t};
    }
    if (ne > 1) {
        diag *d = err(c, loc, "'%s' is a member of several enums", name);
        if (d)
            diag_hint(d, "compare it with a value of the enum's type, or use it where the type is known");
        return RV_ERR;
    }
    /* unknown: suggest among fields and visible values */
    ar_vec cand;
    ar_vec_init(&cand, sizeof(const char *));
    if (w->rec_id < 0 && field_index(w->rec, name) >= 0) { /* a constant reading a field */
        err(c, loc, "a constant cannot read the field '%s'", name);
        ar_vec_free(&cand);
        return RV_ERR;
    }
    if (w->rec_id >= 0)
        for (size_t i = 0; i < w->rec->nfields; i++) {
            const char **s = ar_vec_push(&cand);
            if (s)
                *s = w->rec->fields[i].name;
        }
    const cm_module *vis[MAXVIS];
    size_t nv = visible_modules(c, m, vis, MAXVIS);
    for (size_t i = 0; i < c->ndecls; i++) {
        ck_decl *kk = &c->decls[i];
        if (!is_value_decl(kk->d))
            continue;
        for (size_t j = 0; j < nv; j++)
            if (vis[j] == kk->m) {
                const char **s = ar_vec_push(&cand);
                if (s)
                    *s = kk->d->name;
            }
    }
    const char *sug = diag_suggest(name, cand.data, cand.len);
    diag *d;
    if (w->rec_id >= 0 && w->use_ctx && !k) {
        /* perhaps a field of another record type: say which record lacks it */
        d = err(c, loc, "record '%s' has no field '%s' (%s)", w->rec->name, name, w->use_ctx);
    } else if (w->rec_id >= 0) {
        d = err(c, loc, "unknown name '%s': not a field of record '%s' nor a declaration in scope",
                name, w->rec->name);
    } else {
        d = err(c, loc, "unknown name '%s'", name);
    }
    if (d && sug)
        diag_hint(d, "did you mean '%s'?", sug);
    ar_vec_free(&cand);
    return RV_ERR;
}

/* Numeric widening for a pair of operands; returns the common type or TY_ERR. */
static ty unify_num(lw *w, rv *a, rv *b)
{
    if (a->t.k == TY_INT && b->t.k == TY_NUM) {
        a->reg = emit(w, PG_I2N, a->reg, NOREG, NOREG);
        a->t = b->t;
    } else if (a->t.k == TY_NUM && b->t.k == TY_INT) {
        b->reg = emit(w, PG_I2N, b->reg, NOREG, NOREG);
        b->t = a->t;
    }
    return a->t;
}

static void record_cmp(lw *w, const ast_expr *e, uint32_t reg)
{
    if (!w->fr || !w->fr->cmps.elem)
        return;
    cmp_ev *ce = ar_vec_push(&w->fr->cmps);
    if (ce) {
        ce->label = expr_label(w->c, e);
        ce->reg = reg;
    }
}

/* Lower a pair of operands so that `missing` takes the other side's type and a
 * bare enum member name on either side is read in the other side's enum. */
static int lower_pair(lw *w, const cm_module *m, const ast_expr *l, const ast_expr *r, rv *a, rv *b)
{
    ty none = T_ERR;
    if (l->kind == AST_MISSING || (l->kind == AST_NAME && r->kind != AST_NAME && r->kind != AST_MISSING)) {
        /* right first when the left may need its type */
        *b = lower(w, m, r, none);
        if (b->t.k == TY_ERR)
            return -1;
        *a = lower(w, m, l, b->t);
    } else {
        *a = lower(w, m, l, none);
        if (a->t.k == TY_ERR)
            return -1;
        *b = lower(w, m, r, a->t);
    }
    return a->t.k == TY_ERR || b->t.k == TY_ERR ? -1 : 0;
}

/* The texts of a comparison's two sides, for messages: e is the comparison, an
 * `in` over a range, or one item of an `in [...]` list. */
static void cmp_labels(ck *c, const ast_expr *e, const char **l, const char **r)
{
    if ((e->kind == AST_BINARY || e->kind == AST_IN) && e->lhs && e->rhs) {
        *l = expr_label(c, e->lhs);
        *r = expr_label(c, e->rhs);
    } else {
        *l = "the value";
        *r = expr_label(c, e);
    }
}

static rv cmp_op(lw *w, const ast_expr *e, ast_op op, rv a, rv b)
{
    ck *c = w->c;
    const char *la, *lb;
    cmp_labels(c, e, &la, &lb);
    static const pg_op opsI[] = {PG_EQ_I, PG_NE_I, PG_LT_I, PG_LE_I, PG_GT_I, PG_GE_I};
    static const pg_op opsN[] = {PG_EQ_N, PG_NE_N, PG_LT_N, PG_LE_N, PG_GT_N, PG_GE_N};
    int k = op - OP_EQ;
    ty tb = {TY_BOOL, DIM_NONE, -1, NULL};
    if (is_numeric(a.t) && is_numeric(b.t)) {
        ty t = unify_num(w, &a, &b);
        return (rv){emit(w, t.k == TY_INT ? opsI[k] : opsN[k], a.reg, b.reg, NOREG), tb};
    }
    if (a.t.k == TY_QTY && b.t.k == TY_QTY) {
        if (a.t.dim != b.t.dim) {
            err(c, e->loc, "cannot compare a %s (%s) with a %s (%s)", val_dim_name(a.t.dim), la,
                val_dim_name(b.t.dim), lb);
            return RV_ERR;
        }
        return (rv){emit(w, opsN[k], a.reg, b.reg, NOREG), tb};
    }
    if ((a.t.k == TY_QTY && is_numeric(b.t)) || (b.t.k == TY_QTY && is_numeric(a.t))) {
        val_dim dim = a.t.k == TY_QTY ? a.t.dim : b.t.dim;
        diag *d = err(c, e->loc, "cannot compare a %s (%s) with a bare number (%s)", val_dim_name(dim),
                      a.t.k == TY_QTY ? la : lb, a.t.k == TY_QTY ? lb : la);
        static const char *const examples[DIM__COUNT] = {"", "500 kg", "300 km", "1.1e6 Ns", "20 l", "300 m/s"};
        if (d)
            diag_hint(d, "write the number with a unit, e.g. %s", examples[dim]);
        return RV_ERR;
    }
    if (!ty_same(a.t, b.t)) {
        diag *d = err(c, e->loc, "cannot compare %s (%s) with %s (%s)", ty_name(c, a.t), la, ty_name(c, b.t), lb);
        const ast_expr *str = e->kind != AST_BINARY ? (e->kind == AST_STRING ? e : NULL)
                              : a.t.k == TY_STR ? e->lhs : b.t.k == TY_STR ? e->rhs : NULL;
        ty other = a.t.k == TY_STR ? b.t : a.t;
        if (d && str && str->kind == AST_STRING && other.k == TY_ENUM)
            diag_hint(d, "%s values are names, not strings: write %.*s without quotes", ty_name(c, other),
                      (int)str->len, str->str);
        return RV_ERR;
    }
    int ordered = op == OP_LT || op == OP_LE || op == OP_GT || op == OP_GE;
    switch (a.t.k) {
    case TY_DATE:
        return (rv){emit(w, opsI[k], a.reg, b.reg, NOREG), tb};
    case TY_BOOL:
    case TY_ENUM:
    case TY_CODE:
        if (ordered) {
            err(c, e->loc, "'%s' is not defined on %s; only == and != are", ast_op_name(op), ty_name(c, a.t));
            return RV_ERR;
        }
        return (rv){emit(w, opsI[k], a.reg, b.reg, NOREG), tb};
    case TY_STR:
        if (ordered) {
            err(c, e->loc, "'%s' is not defined on strings", ast_op_name(op));
            return RV_ERR;
        }
        return (rv){emit(w, op == OP_EQ ? PG_EQ_S : PG_NE_S, a.reg, b.reg, NOREG), tb};
    default:
        err(c, e->loc, "cannot compare %s values", ty_name(c, a.t));
        return RV_ERR;
    }
}

static rv arith(lw *w, const ast_expr *e, ast_op op, rv a, rv b)
{
    ck *c = w->c;
    static const pg_op opI[] = {PG_ADD_I, PG_SUB_I, PG_MUL_I};
    static const pg_op opN[] = {PG_ADD_N, PG_SUB_N, PG_MUL_N, PG_DIV_N};
    int k = op == OP_ADD ? 0 : op == OP_SUB ? 1 : op == OP_MUL ? 2 : 3;
    ty tn = {TY_NUM, DIM_NONE, -1, NULL};
    if (is_numeric(a.t) && is_numeric(b.t)) {
        if (op == OP_DIV) {
            if (a.t.k == TY_INT)
                a = (rv){emit(w, PG_I2N, a.reg, NOREG, NOREG), tn};
            if (b.t.k == TY_INT)
                b = (rv){emit(w, PG_I2N, b.reg, NOREG, NOREG), tn};
            return (rv){emit(w, PG_DIV_N, a.reg, b.reg, NOREG), tn};
        }
        ty t = unify_num(w, &a, &b);
        return (rv){emit(w, t.k == TY_INT ? opI[k] : opN[k], a.reg, b.reg, NOREG), t};
    }
    if (a.t.k == TY_QTY && b.t.k == TY_QTY) {
        if (a.t.dim != b.t.dim) {
            err(c, e->loc, "cannot %s a %s and a %s", op == OP_ADD ? "add" : op == OP_SUB ? "subtract" : op == OP_MUL ? "multiply" : "divide",
                val_dim_name(a.t.dim), val_dim_name(b.t.dim));
            return RV_ERR;
        }
        if (op == OP_ADD || op == OP_SUB)
            return (rv){emit(w, opN[k], a.reg, b.reg, NOREG), a.t};
        if (op == OP_DIV)
            return (rv){emit(w, PG_DIV_N, a.reg, b.reg, NOREG), tn};
        err(c, e->loc, "cannot multiply a %s by a %s", val_dim_name(a.t.dim), val_dim_name(b.t.dim));
        return RV_ERR;
    }
    if (a.t.k == TY_QTY && is_numeric(b.t) && (op == OP_MUL || op == OP_DIV)) {
        if (b.t.k == TY_INT)
            b = (rv){emit(w, PG_I2N, b.reg, NOREG, NOREG), tn};
        return (rv){emit(w, opN[k], a.reg, b.reg, NOREG), a.t};
    }
    if (b.t.k == TY_QTY && is_numeric(a.t) && op == OP_MUL) {
        if (a.t.k == TY_INT)
            a = (rv){emit(w, PG_I2N, a.reg, NOREG, NOREG), tn};
        return (rv){emit(w, PG_MUL_N, a.reg, b.reg, NOREG), b.t};
    }
    if ((a.t.k == TY_QTY && is_numeric(b.t)) || (b.t.k == TY_QTY && is_numeric(a.t))) {
        diag *d = err(c, e->loc, "cannot %s a %s and a bare number", op == OP_ADD ? "add" : "subtract",
                      val_dim_name(a.t.k == TY_QTY ? a.t.dim : b.t.dim));
        if (d)
            diag_hint(d, "write the number with a unit");
        return RV_ERR;
    }
    err(c, e->loc, "'%s' needs numbers or quantities, not %s and %s", ast_op_name(op), ty_name(c, a.t),
        ty_name(c, b.t));
    return RV_ERR;
}

static rv want_bool(lw *w, const ast_expr *e, rv r, const char *what)
{
    if (r.t.k == TY_ERR)
        return r;
    if (r.t.k != TY_BOOL) {
        err(w->c, e->loc, "%s must be a bool, not %s", what, ty_name(w->c, r.t));
        return RV_ERR;
    }
    return r;
}

static rv lower_in(lw *w, const cm_module *m, const ast_expr *e)
{
    ck *c = w->c;
    ty tb = {TY_BOOL, DIM_NONE, -1, NULL};
    const ast_expr *rhs = e->rhs;
    rv r = RV_ERR;
    if (rhs->kind == AST_RANGE) {
        if (e->at) {
            err(c, e->at->loc, "'at' applies to sets, not ranges");
            return RV_ERR;
        }
        rv x = lower(w, m, e->lhs, T_ERR);
        if (x.t.k == TY_ERR)
            return RV_ERR;
        rv lo = lower(w, m, rhs->lhs, x.t), hi = lower(w, m, rhs->rhs, x.t);
        if (lo.t.k == TY_ERR || hi.t.k == TY_ERR)
            return RV_ERR;
        if (x.t.k == TY_STR || x.t.k == TY_BOOL || x.t.k == TY_ENUM || x.t.k == TY_CODE) {
            err(c, rhs->loc, "a range needs ordered values (numbers, quantities, dates), not %s",
                ty_name(c, x.t));
            return RV_ERR;
        }
        rv ge = cmp_op(w, e, OP_GE, x, lo), le = cmp_op(w, e, OP_LE, x, hi);
        if (ge.t.k == TY_ERR || le.t.k == TY_ERR)
            return RV_ERR;
        r = (rv){emit(w, PG_AND, ge.reg, le.reg, NOREG), tb};
    } else if (rhs->kind == AST_LIST) {
        if (e->at) {
            err(c, e->at->loc, "'at' applies to sets, not lists");
            return RV_ERR;
        }
        rv x = lower(w, m, e->lhs, T_ERR);
        if (x.t.k == TY_ERR)
            return RV_ERR;
        uint32_t acc = NOREG;
        for (size_t i = 0; i < rhs->nitems; i++) {
            rv it = lower(w, m, rhs->items[i], x.t);
            if (it.t.k == TY_ERR)
                return RV_ERR;
            rv eq = cmp_op(w, rhs->items[i], OP_EQ, x, it);
            if (eq.t.k == TY_ERR)
                return RV_ERR;
            acc = acc == NOREG ? eq.reg : emit(w, PG_OR, acc, eq.reg, NOREG);
        }
        if (acc == NOREG)
            acc = kbool(w, 0);
        r = (rv){acc, tb};
    } else if (rhs->kind == AST_NAME || rhs->kind == AST_DOT) {
        int set_id = -1;
        ty elem = T_ERR;
        const cm_module *sm = m;
        const char *sname = rhs->str;
        if (rhs->kind == AST_DOT) {
            /* module-qualified set name */
            pg_buf b = {0};
            label_rec(&b, rhs->lhs, 0);
            sm = b.p ? visible_module_named(c, m, b.p) : NULL;
            mtcr_xfree(b.p);
            if (!sm) {
                err(c, rhs->loc, "the right side of 'in' must be a set, a list [...] or a range lo..hi");
                return RV_ERR;
            }
        }
        int amb;
        ck_decl *k = lookup_visible(c, sm, sname, 0, rhs->loc, &amb);
        if (amb)
            return RV_ERR;
        if (!k || k->d->kind != DECL_SET) {
            diag *d = err(c, rhs->loc, "'%s' is not a set", sname);
            if (d && !k)
                diag_hint(d, "declare it with `set %s of TYPE { ... }`, or write a list [a, b]", sname);
            return RV_ERR;
        }
        set_id = set_of(c, k, &elem);
        if (set_id < 0)
            return RV_ERR;
        rv x = lower(w, m, e->lhs, elem);
        if (x.t.k == TY_ERR)
            return RV_ERR;
        if (elem.k == TY_NUM && x.t.k == TY_INT)
            x = (rv){emit(w, PG_I2N, x.reg, NOREG, NOREG), elem};
        if (!ty_same(x.t, elem)) {
            err(c, e->loc, "set '%s' holds %s values, but the left side is %s", sname, ty_name(c, elem),
                ty_name(c, x.t));
            return RV_ERR;
        }
        const pg_set *s = &((pg_set *)c->sets.data)[set_id];
        if (e->at) {
            rv d = lower(w, m, e->at, T_ERR);
            if (d.t.k == TY_ERR)
                return RV_ERR;
            if (d.t.k != TY_DATE) {
                err(c, e->at->loc, "'at' needs a date, not %s", ty_name(c, d.t));
                return RV_ERR;
            }
            r = (rv){emit(w, PG_IN_SET_AT, x.reg, (uint32_t)set_id, d.reg), tb};
        } else {
            if (s->time_varying) {
                diag *d = err(c, rhs->loc, "set '%s' changes over time (since/until); say when", sname);
                if (d)
                    diag_hint(d, "test it at a date: %s in %s at date", expr_label(c, e->lhs), sname);
                return RV_ERR;
            }
            r = (rv){emit(w, PG_IN_SET, x.reg, (uint32_t)set_id, NOREG), tb};
        }
    } else {
        err(c, rhs->loc, "the right side of 'in' must be a set, a list [...] or a range lo..hi");
        return RV_ERR;
    }
    if (e->op == OP_NOT_IN)
        r.reg = emit(w, PG_NOT, r.reg, NOREG, NOREG);
    record_cmp(w, e, r.reg);
    return r;
}

static rv lower_call(lw *w, const cm_module *m, const ast_expr *e)
{
    ck *c = w->c;
    static const char *const names[] = {"known", "missing", "year", "days_between", "lower", "len", "normalize"};
    static const int arity[] = {1, 1, 1, 2, 1, 1, 1};
    int which = -1;
    for (int i = 0; i < 7; i++)
        if (strcmp(e->str, names[i]) == 0)
            which = i;
    if (which < 0) {
        diag *d = err(c, e->loc, "unknown function '%s'", e->str);
        const char *s = diag_suggest(e->str, names, 7);
        if (d)
            diag_hint(d, s ? "did you mean '%s'?" : "the built-in forms are known, missing, year, days_between, lower, len, normalize%s", s ? s : "");
        return RV_ERR;
    }
    if ((int)e->nitems != arity[which]) {
        err(c, e->loc, "%s() takes %d argument%s, not %zu", e->str, arity[which], arity[which] > 1 ? "s" : "",
            e->nitems);
        return RV_ERR;
    }
    rv a = lower(w, m, e->items[0], T_ERR);
    if (a.t.k == TY_ERR)
        return RV_ERR;
    ty tb = {TY_BOOL, DIM_NONE, -1, NULL}, ti = {TY_INT, DIM_NONE, -1, NULL}, ts = {TY_STR, DIM_NONE, -1, NULL};
    if (a.t.k == TY_MISSING) {
        err(c, e->items[0]->loc, "'missing' has no type here");
        return RV_ERR;
    }
    switch (which) {
    case 0: return (rv){emit(w, PG_KNOWN, a.reg, NOREG, NOREG), tb};
    case 1: return (rv){emit(w, PG_MISSING, a.reg, NOREG, NOREG), tb};
    case 2:
        if (a.t.k != TY_DATE) break;
        return (rv){emit(w, PG_YEAR, a.reg, NOREG, NOREG), ti};
    case 3: {
        rv b = lower(w, m, e->items[1], T_ERR);
        if (b.t.k == TY_ERR)
            return RV_ERR;
        if (a.t.k != TY_DATE || b.t.k != TY_DATE) {
            err(c, e->loc, "days_between() takes two dates");
            return RV_ERR;
        }
        return (rv){emit(w, PG_DAYS_BETWEEN, a.reg, b.reg, NOREG), ti};
    }
    case 4:
        if (a.t.k != TY_STR) break;
        return (rv){emit(w, PG_LOWER, a.reg, NOREG, NOREG), ts};
    case 5:
        if (a.t.k != TY_STR) break;
        return (rv){emit(w, PG_LEN, a.reg, NOREG, NOREG), ti};
    case 6:
        if (a.t.k != TY_STR) break;
        return (rv){emit(w, PG_NORMALIZE, a.reg, NOREG, NOREG), ts};
    }
    err(c, e->items[0]->loc, "%s() needs a %s, not %s", e->str, which == 2 ? "date" : "string", ty_name(c, a.t));
    return RV_ERR;
}

/* Flatten a chain of AST_DOT over an AST_NAME into identifiers; 0 if the base is not a name. */
/* "a.b.c" from the first n names (heap, mtcr_xfree; NULL on out of memory). */
static char *join_ids(const char *const *ids, size_t n)
{
    pg_buf b = {0};
    for (size_t i = 0; i < n; i++) {
        if (i)
            pg_buf_putc(&b, '.');
        pg_buf_puts(&b, ids[i]);
    }
    return b.oom ? (mtcr_xfree(b.p), NULL) : b.p;
}

static size_t flatten_dots(const ast_expr *e, const char **ids, diag_loc *locs, size_t max)
{
    const ast_expr *chain[64];
    size_t n = 0;
    while (e->kind == AST_DOT && n < 63) {
        chain[n++] = e;
        e = e->lhs;
    }
    if (e->kind != AST_NAME || n + 1 > max)
        return 0;
    size_t k = 0;
    ids[k] = e->str;
    locs[k++] = e->loc;
    while (n > 0) {
        n--;
        ids[k] = chain[n]->str;
        locs[k++] = chain[n]->op_loc.line ? chain[n]->op_loc : chain[n]->loc; /* the name after the dot */
    }
    return k;
}

static rv postfix(lw *w, rv base, const char *name, diag_loc loc)
{
    ck *c = w->c;
    if (base.t.k == TY_ERR)
        return base;
    if (strcmp(name, "number") == 0 || strcmp(name, "kind") == 0) {
        if (base.t.k != TY_CODE) {
            err(c, loc, "'.%s' applies to codes, not %s", name, ty_name(c, base.t));
            return RV_ERR;
        }
        if (name[0] == 'n')
            return (rv){emit(w, PG_CODE_NUMBER, base.reg, NOREG, NOREG), (ty){TY_INT, DIM_NONE, -1, NULL}};
        return (rv){emit(w, PG_CODE_KIND, base.reg, NOREG, NOREG), (ty){TY_STR, DIM_NONE, -1, NULL}};
    }
    diag *d = err(c, loc, "unknown '.%s': only .number and .kind (on codes) follow a value", name);
    if (d && base.t.k == TY_CODE) {
        static const char *const pf[] = {"number", "kind"};
        const char *s = diag_suggest(name, pf, 2);
        if (s)
            diag_hint(d, "did you mean '.%s'?", s);
    }
    return RV_ERR;
}

static rv lower_dot(lw *w, const cm_module *m, const ast_expr *e, ty expect)
{
    ck *c = w->c;
    const char *ids[64];
    diag_loc locs[64];
    size_t n = flatten_dots(e, ids, locs, 64);
    if (n == 0) /* (expr).name */
        return postfix(w, lower(w, m, e->lhs, T_ERR), e->str, e->op_loc.line ? e->op_loc : e->loc);
    /* the longest prefix naming a visible module qualifies the next name */
    for (size_t j = n - 1; j >= 1; j--) {
        char *prefix = join_ids(ids, j);
        const cm_module *qm = prefix ? visible_module_named(c, m, prefix) : NULL;
        mtcr_xfree(prefix);
        if (!qm)
            continue;
        ck_decl *k = lookup_in(c, qm, ids[j], 0);
        rv r;
        if (!k) {
            err(c, locs[j], "module '%s' has no value '%s'", qm->name, ids[j]);
            return RV_ERR;
        }
        int dummy;
        ty te;
        r = lower_name(w, qm, ids[j], locs[j], expect, 0, &dummy, &te);
        for (size_t i = j + 1; i < n; i++)
            r = postfix(w, r, ids[i], locs[i]);
        return r;
    }
    /* a prefix naming a module that is loaded but not imported here, when the first
     * name is not something visible: say so rather than "no field 'acme'" */
    if (!lookup_visible_quiet(c, m, ids[0]) && !(w->rec_id >= 0 && field_index(w->rec, ids[0]) >= 0)) {
        for (size_t j = n - 1; j >= 1; j--) {
            char *prefix = join_ids(ids, j);
            const cm_module *lm = prefix ? cm_find_module(c->L, prefix) : NULL;
            mtcr_xfree(prefix);
            if (!lm)
                continue;
            diag *d = err(c, locs[0], "module '%s' is not imported by module '%s'", lm->name, m->name ? m->name : "?");
            if (d)
                diag_hint(d, "add `import %s;` to use %s.%s", lm->name, lm->name, ids[j]);
            return RV_ERR;
        }
    }
    int dummy;
    ty te;
    rv r = lower_name(w, m, ids[0], locs[0], T_ERR, 0, &dummy, &te);
    for (size_t i = 1; i < n; i++)
        r = postfix(w, r, ids[i], locs[i]);
    return r;
}

static rv lower(lw *w, const cm_module *m, const ast_expr *e, ty expect)
{
    ck *c = w->c;
    ty tb = {TY_BOOL, DIM_NONE, -1, NULL};
    pg_val v;
    ty t;
    int lit = literal(c, e, &v, &t);
    if (lit < 0)
        return RV_ERR;
    if (lit > 0)
        return (rv){kconst(w, v), t};
    switch (e->kind) {
    case AST_MISSING:
        if (expect.k == TY_ERR || expect.k == TY_MISSING)
            return (rv){NOREG, {TY_MISSING, DIM_NONE, -1, NULL}};
        return (rv){kconst(w, (pg_val){.known = 0}), expect};
    case AST_NAME: {
        int dummy;
        ty te;
        return lower_name(w, m, e->str, e->loc, expect, 0, &dummy, &te);
    }
    case AST_DOT:
        return lower_dot(w, m, e, expect);
    case AST_UNARY: {
        if (e->op == OP_NOT) {
            rv a = want_bool(w, e->lhs, lower(w, m, e->lhs, tb), "the operand of 'not'");
            if (a.t.k == TY_ERR)
                return a;
            return (rv){emit(w, PG_NOT, a.reg, NOREG, NOREG), tb};
        }
        rv a = lower(w, m, e->lhs, expect);
        if (a.t.k == TY_ERR)
            return a;
        if (a.t.k == TY_INT)
            return (rv){emit(w, PG_NEG_I, a.reg, NOREG, NOREG), a.t};
        if (a.t.k == TY_NUM || a.t.k == TY_QTY)
            return (rv){emit(w, PG_NEG_N, a.reg, NOREG, NOREG), a.t};
        err(c, e->loc, "'-' needs a number or a quantity, not %s", ty_name(c, a.t));
        return RV_ERR;
    }
    case AST_BINARY: {
        if (e->op == OP_AND || e->op == OP_OR) {
            rv a = want_bool(w, e->lhs, lower(w, m, e->lhs, tb), e->op == OP_AND ? "each side of 'and'" : "each side of 'or'");
            rv b = want_bool(w, e->rhs, lower(w, m, e->rhs, tb), e->op == OP_AND ? "each side of 'and'" : "each side of 'or'");
            if (a.t.k == TY_ERR || b.t.k == TY_ERR)
                return RV_ERR;
            return (rv){emit(w, e->op == OP_AND ? PG_AND : PG_OR, a.reg, b.reg, NOREG), tb};
        }
        if ((e->op == OP_EQ || e->op == OP_NE) &&
            (e->lhs->kind == AST_MISSING || e->rhs->kind == AST_MISSING)) {
            const ast_expr *other = e->lhs->kind == AST_MISSING ? e->rhs : e->lhs;
            diag *d = err(c, e->loc, "'%s missing' never holds: missing is not a value to compare with",
                          ast_op_name(e->op));
            if (d)
                diag_hint(d, "write %s(%s)", e->op == OP_EQ ? "missing" : "known", expr_label(c, other));
            return RV_ERR;
        }
        rv a, b;
        if (lower_pair(w, m, e->lhs, e->rhs, &a, &b))
            return RV_ERR;
        if (a.t.k == TY_MISSING || b.t.k == TY_MISSING) {
            err(c, e->loc, "'missing' has no type here");
            return RV_ERR;
        }
        switch (e->op) {
        case OP_EQ: case OP_NE: case OP_LT: case OP_LE: case OP_GT: case OP_GE: {
            rv r = cmp_op(w, e, e->op, a, b);
            if (r.t.k != TY_ERR)
                record_cmp(w, e, r.reg);
            return r;
        }
        case OP_ADD: case OP_SUB: case OP_MUL: case OP_DIV:
            return arith(w, e, e->op, a, b);
        case OP_COALESCE:
            if (is_numeric(a.t) && is_numeric(b.t))
                unify_num(w, &a, &b);
            if (!ty_same(a.t, b.t)) {
                err(c, e->loc, "both sides of '?\?' must have the same type, not %s and %s", ty_name(c, a.t),
                    ty_name(c, b.t));
                return RV_ERR;
            }
            return (rv){emit(w, PG_COALESCE, a.reg, b.reg, NOREG), a.t};
        case OP_UNDER:
            if (a.t.k != TY_CODE || b.t.k != TY_CODE) {
                err(c, e->loc, "'under' compares codes, not %s and %s", ty_name(c, a.t), ty_name(c, b.t));
                return RV_ERR;
            }
            {
                rv r = {emit(w, PG_UNDER, a.reg, b.reg, NOREG), tb};
                record_cmp(w, e, r.reg);
                return r;
            }
        case OP_CONTAINS: case OP_STARTS_WITH:
            if (a.t.k != TY_STR || b.t.k != TY_STR) {
                err(c, e->loc, "'%s' needs strings, not %s and %s", ast_op_name(e->op), ty_name(c, a.t),
                    ty_name(c, b.t));
                return RV_ERR;
            }
            {
                rv r = {emit(w, e->op == OP_CONTAINS ? PG_CONTAINS : PG_STARTS_WITH, a.reg, b.reg, NOREG), tb};
                record_cmp(w, e, r.reg);
                return r;
            }
        default:
            err(c, e->loc, "unexpected operator '%s'", ast_op_name(e->op));
            return RV_ERR;
        }
    }
    case AST_IN:
        return lower_in(w, m, e);
    case AST_RANGE:
    case AST_LIST:
        err(c, e->loc, "a %s may only stand on the right of 'in'", e->kind == AST_RANGE ? "range" : "list");
        return RV_ERR;
    case AST_MATCHES: {
        rv a = lower(w, m, e->lhs, T_ERR);
        if (a.t.k == TY_ERR)
            return a;
        if (a.t.k != TY_STR) {
            err(c, e->loc, "'matches' needs a string, not %s", ty_name(c, a.t));
            return RV_ERR;
        }
        /* regexes are compiled once per rule set, shared by every record program */
        regex_t re;
        int rc = regcomp(&re, e->str, REG_EXTENDED | REG_NOSUB | (e->icase ? REG_ICASE : 0));
        if (rc != 0) {
            char msg[256];
            regerror(rc, &re, msg, sizeof msg);
            err(c, e->op_loc.line ? e->op_loc : e->loc, "invalid regular expression /%s/: %s", e->str, msg);
            return RV_ERR;
        }
        regex_t *slot = ar_vec_push(&c->regexes);
        if (!slot) {
            regfree(&re);
            return RV_ERR;
        }
        *slot = re;
        rv r = {emit(w, PG_MATCHES, a.reg, (uint32_t)(c->regexes.len - 1), NOREG), tb};
        record_cmp(w, e, r.reg);
        return r;
    }
    case AST_IF: {
        rv cnd = want_bool(w, e->cond, lower(w, m, e->cond, tb), "the condition of 'if'");
        if (cnd.t.k == TY_ERR)
            return RV_ERR;
        rv a, b;
        if (e->lhs->kind == AST_MISSING) {
            b = lower(w, m, e->rhs, expect);
            if (b.t.k == TY_ERR)
                return RV_ERR;
            a = lower(w, m, e->lhs, b.t);
        } else {
            a = lower(w, m, e->lhs, expect);
            if (a.t.k == TY_ERR)
                return RV_ERR;
            b = lower(w, m, e->rhs, a.t.k == TY_MISSING ? expect : a.t);
        }
        if (a.t.k == TY_ERR || b.t.k == TY_ERR)
            return RV_ERR;
        if (a.t.k == TY_MISSING && b.t.k == TY_MISSING)
            return (rv){NOREG, a.t};
        if (is_numeric(a.t) && is_numeric(b.t))
            unify_num(w, &a, &b);
        if (!ty_same(a.t, b.t)) {
            err(c, e->loc, "the branches of 'if' have different types: %s and %s", ty_name(c, a.t),
                ty_name(c, b.t));
            return RV_ERR;
        }
        return (rv){emit(w, PG_SELECT, cnd.reg, a.reg, b.reg), a.t};
    }
    case AST_CALL:
        return lower_call(w, m, e);
    default:
        err(c, e->loc, "unexpected expression");
        return RV_ERR;
    }
}

/* ---- messages ------------------------------------------------------------------------------ */

static int lower_message(lw *w, const cm_module *m, const ast_message *am, pg_message *out)
{
    out->nparts = 0;
    out->parts = NULL;
    if (!am || am->nparts == 0)
        return 0;
    out->parts = ar_alloc(w->c->A, am->nparts * sizeof *out->parts);
    if (!out->parts)
        return -1;
    frame *saved = w->fr;
    w->fr = NULL;
    int bad = 0;
    for (size_t i = 0; i < am->nparts; i++) {
        pg_msg_part *p = &out->parts[out->nparts++];
        if (am->parts[i].text || !am->parts[i].expr) {
            p->text = am->parts[i].text ? am->parts[i].text : "";
            p->len = am->parts[i].text ? am->parts[i].len : 0;
            continue;
        }
        rv r = lower(w, m, am->parts[i].expr, T_ERR);
        if (r.t.k == TY_ERR) {
            bad = 1;
            continue;
        }
        if (r.t.k == TY_MISSING) {
            err(w->c, am->parts[i].expr->loc, "'missing' has no type here");
            bad = 1;
            continue;
        }
        p->reg = r.reg;
        p->fmt = fmt_of(r.t);
    }
    w->fr = saved;
    return bad ? -1 : 0;
}

/* ---- records, enums, commitments --------------------------------------------------------------- */

static int build_enum(ck *c, ck_decl *k)
{
    ast_decl *d = k->d;
    pg_enum e = {0};
    e.name = d->name;
    e.nmembers = d->nmembers;
    e.members = ar_alloc(c->A, (d->nmembers + 1) * sizeof *e.members);
    e.titles = ar_alloc(c->A, (d->nmembers + 1) * sizeof *e.titles);
    if (!e.members || !e.titles)
        return -1;
    for (size_t i = 0; i < d->nmembers; i++) {
        e.members[i] = d->members[i].name;
        e.titles[i] = d->members[i].title;
        for (size_t j = 0; j < i; j++)
            if (strcmp(d->members[j].name, d->members[i].name) == 0) {
                err(c, d->members[i].loc, "duplicate member '%s' in enum '%s'", d->members[i].name, d->name);
                break;
            }
    }
    if (k->m->name && strcmp(k->m->name, "countries") == 0 && strcmp(d->name, "country") == 0) {
        e.is_country = 1;
        e.country_map = ar_alloc(c->A, (val_ncountries + 1) * sizeof *e.country_map);
        if (!e.country_map)
            return -1;
        for (size_t i = 0; i < val_ncountries; i++) {
            e.country_map[i] = -1;
            for (size_t j = 0; j < d->nmembers; j++)
                if (strcmp(d->members[j].name, val_countries[i].alpha2) == 0)
                    e.country_map[i] = (int16_t)j;
        }
    }
    pg_enum *slot = ar_vec_push(&c->enums);
    if (!slot)
        return -1;
    *slot = e;
    k->id = (int)(c->enums.len - 1);
    if (e.is_country)
        c->country_enum = k->id;
    return 0;
}

static int build_record(ck *c, ck_decl *k)
{
    ast_decl *d = k->d;
    pg_record r = {0};
    r.name = d->name;
    r.module = k->m->name;
    r.nfields = d->nfields;
    r.fields = ar_alloc(c->A, (d->nfields + 1) * sizeof *r.fields);
    if (!r.fields)
        return -1;
    r.state_field = -1;
    int has_id = 0, has_date = 0;
    for (size_t i = 0; i < d->nfields; i++) {
        const ast_field *af = &d->fields[i];
        pg_field *f = &r.fields[i];
        f->name = af->name;
        f->column = af->column ? af->column : af->name;
        f->required = af->required;
        f->type_name = af->type.name;
        for (size_t j = 0; j < i; j++) {
            if (strcmp(d->fields[j].name, af->name) == 0)
                err(c, af->loc, "duplicate field '%s' in record '%s'", af->name, d->name);
            else if (strcmp(r.fields[j].column, f->column) == 0)
                err(c, af->loc, "fields '%s' and '%s' read the same column '%s'", r.fields[j].name, af->name,
                    f->column);
        }
        ty t = resolve_type(c, k->m, &af->type);
        f->type = pt_of(t);
        f->enum_id = t.k == TY_ENUM ? t.en : 0;
        f->dim = t.k == TY_QTY ? t.dim : DIM_NONE;
        if (t.k == TY_QTY) {
            f->unit = val_unit_base(t.dim);
            if (af->unit) {
                const val_unit *u = val_unit_lookup(af->unit, strlen(af->unit));
                if (!u)
                    err(c, af->unit_loc, "unknown unit '%s'", af->unit);
                else if (u->dim != t.dim)
                    err(c, af->unit_loc, "unit '%s' is a %s unit, but field '%s' is a %s", af->unit,
                        val_dim_name(u->dim), af->name, val_dim_name(t.dim));
                else
                    f->unit = u;
            }
        } else if (af->unit && t.k != TY_ERR) {
            err(c, af->unit_loc, "only quantity fields take a unit ('%s' is %s)", af->name, ty_name(c, t));
        }
        if (t.k == TY_ENUM && t.en == c->country_enum && af->required && r.state_field < 0)
            r.state_field = (int)i;
        if (strcmp(af->name, "id") == 0) {
            has_id = 1;
            if (t.k != TY_STR || !af->required)
                err(c, af->loc, "the field 'id' must be declared `id: string required;`");
        }
        if (strcmp(af->name, "date") == 0) {
            has_date = 1;
            if (t.k != TY_DATE || !af->required)
                err(c, af->loc, "the field 'date' must be declared `date: date required;`");
        }
    }
    if (!has_id || !has_date) {
        diag *dg = err(c, d->loc, "record '%s' lacks the field%s %s", d->name, !has_id && !has_date ? "s" : "",
                       !has_id && !has_date ? "'id' and 'date'" : !has_id ? "'id'" : "'date'");
        if (dg)
            diag_hint(dg, "every record type declares `id: string required;` and `date: date required;`");
    }
    pg_record *slot = ar_vec_push(&c->records);
    if (!slot)
        return -1;
    *slot = r;
    k->id = (int)(c->records.len - 1);
    ck_decl **ds = ar_vec_push(&c->record_decls);
    if (ds)
        *ds = k;
    return 0;
}

static const char *ckind_name(ast_ckind k)
{
    switch (k) {
    case KIND_MULTILATERAL: return "multilateral";
    case KIND_BILATERAL: return "bilateral";
    case KIND_UNILATERAL: return "unilateral";
    case KIND_NATIONAL: return "national";
    default: return "";
    }
}

/* ---- lowering a record's program -------------------------------------------------------------- */

/* rec_id -1: no record type (consts only); the record then has no fields. */
static void lw_init(lw *w, ck *c, int rec_id)
{
    static pg_record no_record;
    memset(w, 0, sizeof *w);
    w->c = c;
    w->rec_id = rec_id;
    w->rec = rec_id >= 0 ? &((pg_record *)c->records.data)[rec_id] : &no_record;
    w->rdecl = rec_id >= 0 ? ((ck_decl **)c->record_decls.data)[rec_id] : NULL;
    ar_vec_init(&w->steps, sizeof(pg_step));
    ar_vec_init(&w->consts, sizeof(pg_val));
    ar_vec_init(&w->memos, sizeof(memo));
}

static void lw_free(lw *w)
{
    mtcr_xfree(w->cse);
    w->cse = NULL;
    w->cse_cap = w->cse_len = 0;
    ar_vec_free(&w->steps);
    ar_vec_free(&w->consts);
    ar_vec_free(&w->memos);
}

static uint32_t remap(const lw *w, uint32_t r)
{
    if (r == NOREG || r < TEMP_BASE)
        return r;
    return (uint32_t)(w->rec->nfields + w->consts.len + (r - TEMP_BASE));
}

/* Move the built program into the record, numbering temporaries after constants. */
static int lw_finish(lw *w, ar_vec *rule_ids)
{
    ck *c = w->c;
    pg_record *rec = w->rec;
    rec->nconsts = (uint32_t)w->consts.len;
    rec->nregs = (uint32_t)(rec->nfields + w->consts.len + w->ntemps);
    rec->consts = ar_alloc(c->A, (w->consts.len + 1) * sizeof(pg_val));
    rec->steps = ar_alloc(c->A, (w->steps.len + 1) * sizeof(pg_step));
    rec->rules = ar_alloc(c->A, (rule_ids->len + 1) * sizeof(int));
    if (!rec->consts || !rec->steps || !rec->rules)
        return -1;
    if (w->consts.len)
        memcpy(rec->consts, w->consts.data, w->consts.len * sizeof(pg_val));
    if (rule_ids->len)
        memcpy(rec->rules, rule_ids->data, rule_ids->len * sizeof(int));
    rec->nrules = rule_ids->len;
    pg_step *st = w->steps.data;
    for (size_t i = 0; i < w->steps.len; i++) {
        pg_step s = st[i];
        if (s.op != PG_RULE)
            s.dst = remap(w, s.dst);
        s.a = remap(w, s.a);
        if (s.op != PG_MATCHES && s.op != PG_IN_SET && s.op != PG_IN_SET_AT)
            s.b = remap(w, s.b);
        s.c = remap(w, s.c);
        rec->steps[i] = s;
    }
    rec->nsteps = w->steps.len;
    /* registers referenced by this record's rules' messages and evidence */
    for (size_t k = 0; k < rec->nrules; k++) {
        pg_rule *r = &((pg_rule *)c->rules.data)[rec->rules[k]];
        pg_message *ms[2] = {&r->then_msg, &r->unknown_msg};
        for (int j = 0; j < 2; j++)
            for (size_t p = 0; p < ms[j]->nparts; p++)
                if (!ms[j]->parts[p].text)
                    ms[j]->parts[p].reg = remap(w, ms[j]->parts[p].reg);
        for (size_t e = 0; e < r->nevidence; e++)
            r->evidence[e].reg = remap(w, r->evidence[e].reg);
    }
    return 0;
}

static int lower_commitment_rules(lw *w, ck_decl *cd, int commitment_id, ar_vec *rule_ids)
{
    ck *c = w->c;
    ast_decl *d = cd->d;
    const cm_module *m = cd->m;
    ty tb = {TY_BOOL, DIM_NONE, -1, NULL};
    /* the gate: binds (unknown counts as bound) and the effective window on `date` */
    int date_field = -1;
    for (size_t i = 0; i < w->rec->nfields; i++)
        if (strcmp(w->rec->fields[i].name, "date") == 0)
            date_field = (int)i;
    uint32_t gate = kbool(w, 1);
    if (d->binds) {
        w->use_ctx = ar_printf(c->A, "in the binds clause of commitment '%s'", d->name);
        rv b = want_bool(w, d->binds, lower(w, m, d->binds, tb), "'binds'");
        w->use_ctx = NULL;
        if (b.t.k != TY_ERR)
            gate = emit(w, PG_NOT_FALSE, b.reg, NOREG, NOREG);
    }
    int32_t day;
    if (d->effective && date_field >= 0 && check_date(c, d->effective, &day) == 0) {
        uint32_t ge = emit(w, PG_GE_I, (uint32_t)date_field, kconst(w, (pg_val){.i = day, .known = 1}), NOREG);
        gate = emit(w, PG_AND, gate, ge, NOREG);
    }
    if (d->until && date_field >= 0 && check_date(c, d->until, &day) == 0) {
        uint32_t lt = emit(w, PG_LT_I, (uint32_t)date_field, kconst(w, (pg_val){.i = day, .known = 1}), NOREG);
        gate = emit(w, PG_AND, gate, lt, NOREG);
    }
    for (size_t ri = 0; ri < d->nrules; ri++) {
        const ast_rule *ar = &d->rules[ri];
        int rule_id = -1;
        pg_rule *rules = c->rules.data;
        for (size_t k = 0; k < c->rules.len; k++)
            if (rules[k].commitment == commitment_id && strcmp(rules[k].short_name, ar->name) == 0)
                rule_id = (int)k;
        if (rule_id < 0)
            continue;
        pg_rule *pr = &((pg_rule *)c->rules.data)[rule_id];
        frame fr;
        fr.fields = ar_alloc(c->A, w->rec->nfields + 1);
        ar_vec_init(&fr.lets, sizeof(ck_decl *));
        ar_vec_init(&fr.cmps, sizeof(cmp_ev));
        w->fr = &fr;
        w->use_ctx = ar_printf(c->A, "in rule '%s.%s'", d->name, ar->name);
        rv when = RV_ERR;
        if (ar->when)
            when = want_bool(w, ar->when, lower(w, m, ar->when, tb), "'when'");
        w->fr = NULL;
        rv unless = {NOREG, tb};
        if (ar->unless) {
            unless = want_bool(w, ar->unless, lower(w, m, ar->unless, tb), "'unless'");
            if (unless.t.k != TY_ERR)
                unless.reg = emit(w, PG_IS_TRUE, unless.reg, NOREG, NOREG);
        }
        w->use_ctx = NULL;
        pg_message then_msg, unk_msg;
        int bad = when.t.k == TY_ERR || unless.t.k == TY_ERR;
        bad |= lower_message(w, m, ar->then_msg, &then_msg) != 0;
        bad |= lower_message(w, m, ar->unknown_msg, &unk_msg) != 0;
        if (!bad) {
            pr = &((pg_rule *)c->rules.data)[rule_id];
            pr->then_msg = then_msg;
            pr->unknown_msg = unk_msg;
            /* evidence: fields read (in record order), lets read, comparisons */
            size_t nf = 0;
            for (size_t f = 0; f < w->rec->nfields; f++)
                nf += fr.fields[f];
            size_t total = nf + fr.lets.len + fr.cmps.len;
            pr->evidence = ar_alloc(c->A, (total + 1) * sizeof *pr->evidence);
            if (!pr->evidence)
                return -1;
            size_t ne = 0;
            for (size_t f = 0; f < w->rec->nfields; f++) {
                if (!fr.fields[f])
                    continue;
                const pg_field *pf = &w->rec->fields[f];
                pg_evidence *ev = &pr->evidence[ne++];
                ev->label = pf->name;
                ev->reg = (uint32_t)f;
                ev->is_field = 1;
                ev->fmt = (pg_fmt){pf->type, NULL, pf->enum_id};
                if (pf->dim)
                    ev->fmt.unit = pf->unit;
            }
            ck_decl **lets = fr.lets.data;
            for (size_t i = 0; i < fr.lets.len; i++) {
                int dup = 0;
                for (size_t j = 0; j < i; j++)
                    dup |= lets[j] == lets[i];
                if (dup)
                    continue;
                memo *ms = w->memos.data;
                for (size_t j = 0; j < w->memos.len; j++)
                    if (ms[j].d == lets[i]->d && ms[j].t.k != TY_ERR) {
                        pg_evidence *ev = &pr->evidence[ne++];
                        ev->label = lets[i]->d->name;
                        ev->reg = ms[j].reg;
                        ev->fmt = fmt_of(ms[j].t);
                    }
            }
            cmp_ev *cmps = fr.cmps.data;
            for (size_t i = 0; i < fr.cmps.len; i++) {
                pg_evidence *ev = &pr->evidence[ne++];
                ev->label = cmps[i].label;
                ev->reg = cmps[i].reg;
                ev->fmt = (pg_fmt){PT_BOOL, NULL, 0};
            }
            pr->nevidence = ne;
            pg_step *s = ar_vec_push(&w->steps);
            if (!s)
                return -1;
            s->op = PG_RULE;
            s->dst = (uint32_t)rule_ids->len;
            s->a = gate;
            s->b = when.reg;
            s->c = ar->unless ? unless.reg : NOREG;
            int *slot = ar_vec_push(rule_ids);
            if (!slot)
                return -1;
            *slot = rule_id;
        }
        ar_vec_free(&fr.lets);
        ar_vec_free(&fr.cmps);
    }
    return 0;
}

/* ---- tests ----------------------------------------------------------------------------------- */

static const char *value_text(ck *c, pg_val v, ty t)
{
    char tmp[64];
    switch (t.k) {
    case TY_BOOL: return v.i ? "true" : "false";
    case TY_INT: snprintf(tmp, sizeof tmp, "%lld", (long long)v.i); break;
    case TY_NUM: val_format_double(v.d, tmp); break;
    case TY_QTY: {
        /* written in the default unit; reads back exactly */
        val_format_in_unit(v.d, val_unit_base(t.dim), tmp);
        return ar_printf(c->A, "%s %s", tmp, val_unit_base(t.dim)->name);
    }
    case TY_STR: return ar_strndup(c->A, v.s, v.len);
    case TY_DATE: val_format_date((int32_t)v.i, tmp); break;
    case TY_CODE: val_format_code(v.u, tmp); break;
    case TY_ENUM: return ((pg_enum *)c->enums.data)[t.en].members[v.i];
    default: return "";
    }
    return ar_strdup(c->A, tmp);
}

static ty field_ty(ck *c, const pg_field *f)
{
    switch (f->type) {
    case PT_BOOL: return (ty){TY_BOOL, DIM_NONE, -1, NULL};
    case PT_INT: return (ty){TY_INT, DIM_NONE, -1, NULL};
    case PT_NUM: return f->dim ? (ty){TY_QTY, f->dim, -1, f->unit} : (ty){TY_NUM, DIM_NONE, -1, NULL};
    case PT_STR: return (ty){TY_STR, DIM_NONE, -1, NULL};
    case PT_DATE: return (ty){TY_DATE, DIM_NONE, -1, NULL};
    case PT_CODE: return (ty){TY_CODE, DIM_NONE, -1, NULL};
    default: return (ty){TY_ENUM, DIM_NONE, f->enum_id, NULL};
    }
    (void)c;
}

static int build_test(ck *c, ck_decl *k, ar_vec *tests)
{
    ast_decl *d = k->d;
    cm_test t = {0};
    t.file = d->loc.src ? d->loc.src->name : "?";
    t.line = d->loc.line;
    t.name = d->title ? d->title : d->name ? d->name : ar_printf(c->A, "test at %s:%d", t.file, t.line);
    t.record = -1;
    int bad = 0;
    if (d->given_record.name) {
        ck_decl *rk = resolve_type_decl(c, k->m, &d->given_record);
        if (!rk || rk->d->kind != DECL_RECORD) {
            if (rk || !strchr(d->given_record.name, '.'))
                err(c, d->given_record.loc, "'%s' is not a record type", d->given_record.name);
            return 0;
        }
        t.record = rk->id;
        const pg_record *rec = &((pg_record *)c->records.data)[rk->id];
        t.ngiven = d->ngiven;
        t.given_field = ar_alloc(c->A, (d->ngiven + 1) * sizeof(int));
        t.given_text = ar_alloc(c->A, (d->ngiven + 1) * sizeof(char *));
        t.given_len = ar_alloc(c->A, (d->ngiven + 1) * sizeof(size_t));
        if (!t.given_field || !t.given_text || !t.given_len)
            return -1;
        for (size_t i = 0; i < d->ngiven; i++) {
            const ast_given_field *g = &d->given[i];
            int f = -1;
            for (size_t j = 0; j < rec->nfields; j++)
                if (strcmp(rec->fields[j].name, g->name) == 0)
                    f = (int)j;
            for (size_t j = 0; j < i; j++)
                if (strcmp(d->given[j].name, g->name) == 0) {
                    err(c, g->loc, "field '%s' is given twice", g->name);
                    bad = 1;
                }
            if (f < 0) {
                const char **names = ar_alloc(c->A, (rec->nfields + 1) * sizeof(char *));
                for (size_t j = 0; names && j < rec->nfields; j++)
                    names[j] = rec->fields[j].name;
                diag *dg = err(c, g->loc, "record '%s' has no field '%s'", rec->name, g->name);
                const char *s = names ? diag_suggest(g->name, names, rec->nfields) : NULL;
                if (dg && s)
                    diag_hint(dg, "did you mean '%s'?", s);
                bad = 1;
                continue;
            }
            t.given_field[i] = f;
            if (g->value->kind == AST_STRING) {
                t.given_text[i] = g->value->str; /* input text, parsed as a cell would be */
                t.given_len[i] = g->value->len;
                continue;
            }
            if (g->value->kind == AST_MISSING) {
                t.given_text[i] = NULL;
                continue;
            }
            ty ft = field_ty(c, &rec->fields[f]);
            pg_val v;
            ty vt;
            if (const_value(c, k->m, g->value, ft, &v, &vt, 0)) {
                bad = 1;
                continue;
            }
            if (ft.k == TY_NUM && vt.k == TY_INT) {
                v.d = (double)v.i;
                vt = ft;
            }
            if (!ty_same(ft, vt)) {
                err(c, g->value->loc, "field '%s' is %s, but the value given is %s", g->name, ty_name(c, ft),
                    ty_name(c, vt));
                bad = 1;
                continue;
            }
            t.given_text[i] = v.known ? value_text(c, v, vt) : NULL;
            t.given_len[i] = t.given_text[i] ? strlen(t.given_text[i]) : 0;
        }
    }
    t.enabled = ar_alloc(c->A, c->commitments.len + 1);
    if (!t.enabled)
        return -1;
    pg_commitment *cs = c->commitments.data;
    for (size_t i = 0; i < c->commitments.len; i++) {
        int on = cs[i].module && k->m->name && strcmp(cs[i].module, k->m->name) == 0;
        for (size_t j = 0; j < k->m->nimports && !on; j++)
            on = k->m->imports[j] && k->m->imports[j]->name && cs[i].module &&
                 strcmp(k->m->imports[j]->name, cs[i].module) == 0;
        t.enabled[i] = (uint8_t)on;
    }
    t.nexpects = d->nexpects;
    t.expects = ar_alloc(c->A, (d->nexpects + 1) * sizeof *t.expects);
    if (!t.expects)
        return -1;
    for (size_t i = 0; i < d->nexpects; i++) {
        const ast_expect *x = &d->expects[i];
        cm_expect *o = &t.expects[i];
        o->kind = x->kind;
        o->sev = x->sev;
        o->loc = x->loc;
        o->rule = -1;
        if (x->kind == EXPECT_FINDING || x->kind == EXPECT_NO_FINDING) {
            pg_rule *rs = c->rules.data;
            for (size_t j = 0; j < c->rules.len; j++)
                if (strcmp(rs[j].name, x->rule.name) == 0)
                    o->rule = (int)j;
            if (o->rule < 0) {
                const char **names = ar_alloc(c->A, (c->rules.len + 1) * sizeof(char *));
                for (size_t j = 0; names && j < c->rules.len; j++)
                    names[j] = rs[j].name;
                diag *dg = err(c, x->rule.loc, "unknown rule '%s'", x->rule.name);
                const char *s = names ? diag_suggest(x->rule.name, names, c->rules.len) : NULL;
                if (dg && s)
                    diag_hint(dg, "did you mean '%s'?", s);
                else if (dg) {
                    /* list the rules of the commitment named, when there is one */
                    const char *dot = strchr(x->rule.name, '.');
                    pg_buf lst = {0};
                    size_t shown = 0;
                    for (size_t j = 0; dot && j < c->rules.len; j++) {
                        const char *rn = rs[j].name;
                        if (strncmp(rn, x->rule.name, (size_t)(dot - x->rule.name) + 1) != 0)
                            continue;
                        if (shown++ < 8) {
                            if (shown > 1)
                                pg_buf_puts(&lst, ", ");
                            pg_buf_puts(&lst, rn);
                        }
                    }
                    if (shown)
                        diag_hint(dg, "the rules of '%.*s' are: %s%s", (int)(dot - x->rule.name), x->rule.name, lst.p,
                                  shown > 8 ? ", ..." : "");
                    else
                        diag_hint(dg, "name a rule as commitment.rule");
                    mtcr_xfree(lst.p);
                }
                bad = 1;
            } else if (t.record >= 0 &&
                       ((pg_commitment *)c->commitments.data)[rs[o->rule].commitment].record != t.record) {
                err(c, x->rule.loc, "rule '%s' does not apply to record '%s'", x->rule.name,
                    ((pg_record *)c->records.data)[t.record].name);
                bad = 1;
            }
        }
    }
    if (t.record < 0) {
        err(c, d->loc, "test '%s' has no `given` record", t.name);
        bad = 1;
    }
    if (d->nexpects == 0) {
        diag *dg = err(c, d->loc, "test '%s' expects nothing", t.name);
        if (dg)
            diag_hint(dg, "add `expect deny;`, `expect clear;`, `expect finding C.R;` ...");
        bad = 1;
    }
    if (bad)
        return 0;
    cm_test *slot = ar_vec_push(tests);
    if (!slot)
        return -1;
    *slot = t;
    return 0;
}

/* ---- the driver -------------------------------------------------------------------------------- */

static int collect_decls(ck *c)
{
    size_t n = 0;
    for (size_t i = 0; i < c->L->nmods; i++)
        if (c->L->mods[i]->ast)
            n += c->L->mods[i]->ast->ndecls;
    c->decls = ar_alloc(c->A, (n + 1) * sizeof *c->decls);
    if (!c->decls)
        return -1;
    for (size_t i = 0; i < c->L->nmods; i++) {
        cm_module *m = c->L->mods[i];
        if (!m->ast)
            continue;
        if (!m->ast->module) {
            diag *d = err(c, (diag_loc){m->src, 1, 1}, "a rule file starts with `module NAME;`");
            (void)d;
        }
        for (size_t j = 0; j < m->ast->ndecls; j++) {
            ast_decl *d = m->ast->decls[j];
            /* duplicate names within a namespace of the module */
            if (d->name && d->kind != DECL_TEST && d->kind != DECL_COMMITMENT) {
                for (size_t k = 0; k < c->ndecls; k++) {
                    ck_decl *o = &c->decls[k];
                    if (o->m == m && o->d->name && strcmp(o->d->name, d->name) == 0 &&
                        is_type_decl(o->d) == is_type_decl(d) && o->d->kind != DECL_TEST &&
                        o->d->kind != DECL_COMMITMENT) {
                        diag *dg = err(c, d->loc, "'%s' is already declared in module '%s'", d->name,
                                       m->name ? m->name : "?");
                        if (dg)
                            diag_hint(dg, "the first declaration is at line %d", o->d->loc.line);
                        break;
                    }
                }
            }
            if (d->kind == DECL_COMMITMENT) {
                for (size_t k = 0; k < c->ndecls; k++) {
                    ck_decl *o = &c->decls[k];
                    if (o->d->kind == DECL_COMMITMENT && strcmp(o->d->name, d->name) == 0) {
                        diag *dg = err(c, d->loc, "commitment '%s' is already declared", d->name);
                        if (dg)
                            diag_hint(dg, "commitment names are unique across all modules; the other is at %s:%d",
                                      o->d->loc.src ? o->d->loc.src->name : "?", o->d->loc.line);
                        break;
                    }
                }
            }
            c->decls[c->ndecls++] = (ck_decl){d, m, -1};
        }
    }
    return 0;
}

/* Unused lets and consts: check them against the module's record types (the
 * first one that has every field they read), so lint reports their errors. */
static void check_unused(ck *c, ar_vec *used_lets)
{
    for (size_t i = 0; i < c->ndecls; i++) {
        ck_decl *k = &c->decls[i];
        if (k->d->kind != DECL_LET && k->d->kind != DECL_CONST)
            continue;
        int used = 0;
        ast_decl **u = used_lets->data;
        for (size_t j = 0; j < used_lets->len; j++)
            used |= u[j] == k->d;
        if (used)
            continue;
        if (c->records.len == 0) {
            /* no record type anywhere: a const needs none (a let would read fields) */
            if (k->d->kind != DECL_CONST)
                continue;
            lw w;
            lw_init(&w, c, -1);
            lower_const_decl(&w, k, k->d->loc);
            lw_free(&w);
            continue;
        }
        /* pick the record: one of this module's, else the first visible */
        int rid = 0;
        ck_decl **rds = c->record_decls.data;
        for (size_t r = 0; r < c->record_decls.len; r++)
            if (rds[r]->m == k->m) {
                rid = (int)r;
                break;
            }
        lw w;
        lw_init(&w, c, rid);
        if (k->d->kind == DECL_LET)
            lower_let(&w, k, k->d->loc);
        else
            lower_const_decl(&w, k, k->d->loc);
        lw_free(&w);
    }
}

cm_compiled *cm_compile(const char *const *include_dirs, size_t ninclude, const char *const *paths,
                        size_t npaths)
{
    cm_compiled *out = mtcr_xcalloc(1, sizeof *out);
    if (!out)
        return NULL;
    out->refs = 1;
    ar_init(&out->arena, 256 * 1024);
    diag_init(&out->diags);
    ck c = {0};
    c.out = out;
    c.A = &out->arena;
    c.D = &out->diags;
    c.country_enum = -1;
    cm_loader L = {0};
    L.include_dirs = include_dirs;
    L.ninclude = ninclude;
    L.arena = c.A;
    L.diags = c.D;
    c.L = &L;
    ar_vec_init(&c.enums, sizeof(pg_enum));
    ar_vec_init(&c.sets, sizeof(pg_set));
    ar_vec_init(&c.records, sizeof(pg_record));
    ar_vec_init(&c.commitments, sizeof(pg_commitment));
    ar_vec_init(&c.rules, sizeof(pg_rule));
    ar_vec_init(&c.regexes, sizeof(regex_t));
    ar_vec_init(&c.record_decls, sizeof(ck_decl *));
    ar_vec_init(&c.cycle_lets, sizeof(ast_decl *));
    ar_vec tests, used_lets;
    ar_vec_init(&tests, sizeof(cm_test));
    ar_vec_init(&used_lets, sizeof(ast_decl *));
    int oom = 0;

    if (cm_load(&L, paths, npaths)) {
        oom = 1;
        goto done;
    }
    /* Syntax errors stop here: checking a recovered, partial tree would only add
     * follow-on errors about declarations the author did write. */
    if (c.D->nerrors)
        goto done;
    if (collect_decls(&c)) {
        oom = 1;
        goto done;
    }
    /* enums first (types of everything else), then records */
    for (size_t i = 0; i < c.ndecls && !oom; i++)
        if (c.decls[i].d->kind == DECL_ENUM)
            oom = build_enum(&c, &c.decls[i]) != 0;
    for (size_t i = 0; i < c.ndecls && !oom; i++)
        if (c.decls[i].d->kind == DECL_RECORD)
            oom = build_record(&c, &c.decls[i]) != 0;
    /* commitments and their rules, in declaration order */
    for (size_t i = 0; i < c.ndecls && !oom; i++) {
        ck_decl *k = &c.decls[i];
        if (k->d->kind != DECL_COMMITMENT)
            continue;
        ast_decl *d = k->d;
        pg_commitment pc = {d->name, d->title, k->m->name, d->cite, ckind_name(d->ckind), -1};
        if (!d->applies_to.name) {
            diag *dg = err(&c, d->loc, "commitment '%s' lacks `applies to RECORD;`", d->name);
            if (dg)
                diag_hint(dg, "say which record type it judges, e.g. `applies to transfer;`");
        } else {
            size_t errs_before = c.D->nerrors;
            ck_decl *rk = resolve_type_decl(&c, k->m, &d->applies_to);
            if (rk && rk->d->kind == DECL_RECORD)
                pc.record = rk->id;
            else if (!rk && c.D->nerrors > errs_before) {
                /* already reported (an ambiguous or unknown qualified name) */
            } else if (rk || !strchr(d->applies_to.name, '.')) {
                const char **names = ar_alloc(c.A, (c.record_decls.len + 1) * sizeof(char *));
                ck_decl **rds = c.record_decls.data;
                for (size_t r = 0; names && r < c.record_decls.len; r++)
                    names[r] = rds[r]->d->name;
                diag *dg = err(&c, d->applies_to.loc, "'%s' is not a record type", d->applies_to.name);
                const char *s = names ? diag_suggest(d->applies_to.name, names, c.record_decls.len) : NULL;
                if (dg && s)
                    diag_hint(dg, "did you mean '%s'?", s);
            }
        }
        if (d->effective && d->until) {
            int32_t a, b;
            if (!check_date(&c, d->effective, &a) && !check_date(&c, d->until, &b) && b <= a)
                err(&c, d->until->loc, "'until' must be after 'effective'");
        }
        pg_commitment *slot = ar_vec_push(&c.commitments);
        if (!slot) {
            oom = 1;
            break;
        }
        *slot = pc;
        k->id = (int)(c.commitments.len - 1);
        for (size_t r = 0; r < d->nrules; r++) {
            const ast_rule *ar = &d->rules[r];
            for (size_t q = 0; q < r; q++)
                if (strcmp(d->rules[q].name, ar->name) == 0)
                    err(&c, ar->loc, "rule '%s' is already declared in commitment '%s'", ar->name, d->name);
            if (!ar->when)
                err(&c, ar->loc, "rule '%s' lacks a `when` clause", ar->name);
            if (!ar->then_loc.line)
                err(&c, ar->loc, "rule '%s' lacks a `then` clause", ar->name);
            else if (ar->then_sev == SEV_CLEAR || ar->then_sev == SEV_IGNORE) {
                diag *dg = err(&c, ar->then_loc, "`then %s` is not a finding", ar->then_sev == SEV_CLEAR ? "clear" : "ignore");
                if (dg)
                    diag_hint(dg, "a rule's `then` takes notify, review, deny or prohibit");
            }
            pg_rule pr = {0};
            pr.name = ar_printf(c.A, "%s.%s", d->name, ar->name);
            pr.short_name = ar->name;
            pr.title = ar->title ? ar->title : ar->name;
            pr.cite = ar->cite ? ar->cite : d->cite ? d->cite : "";
            pr.commitment = k->id;
            pr.severity = ar->then_sev;
            pr.unknown_default = !ar->has_if_unknown;
            pr.unknown_severity = ar->has_if_unknown ? (int)ar->unknown_sev : SEV_REVIEW;
            if (ar->has_if_unknown && ar->unknown_sev == SEV_CLEAR)
                err(&c, ar->if_unknown_loc, "`if unknown` takes notify, review, deny, prohibit or ignore");
            pg_rule *rs = ar_vec_push(&c.rules);
            if (!rs) {
                oom = 1;
                break;
            }
            *rs = pr;
        }
    }
    /* one program per record type */
    for (size_t rid = 0; rid < c.records.len && !oom; rid++) {
        lw w;
        lw_init(&w, &c, (int)rid);
        ar_vec rule_ids;
        ar_vec_init(&rule_ids, sizeof(int));
        for (size_t i = 0; i < c.ndecls && !oom; i++) {
            ck_decl *k = &c.decls[i];
            if (k->d->kind != DECL_COMMITMENT || k->id < 0)
                continue;
            if (((pg_commitment *)c.commitments.data)[k->id].record != (int)rid)
                continue;
            oom = lower_commitment_rules(&w, k, k->id, &rule_ids) != 0;
        }
        memo *ms = w.memos.data;
        for (size_t i = 0; i < w.memos.len; i++) {
            ast_decl **u = ar_vec_push(&used_lets);
            if (u)
                *u = ms[i].d;
        }
        if (!oom)
            oom = lw_finish(&w, &rule_ids) != 0;
        ar_vec_free(&rule_ids);
        lw_free(&w);
    }
    /* sets never used are still checked */
    for (size_t i = 0; i < c.ndecls && !oom; i++)
        if (c.decls[i].d->kind == DECL_SET && c.decls[i].id == -1) {
            ty e;
            set_of(&c, &c.decls[i], &e);
        }
    if (!oom)
        check_unused(&c, &used_lets);
    for (size_t i = 0; i < c.ndecls && !oom; i++)
        if (c.decls[i].d->kind == DECL_TEST)
            oom = build_test(&c, &c.decls[i], &tests) != 0;

done:
    /* move everything into the arena so the compiled rules are one allocation tree */
    {
        pg_rules *R = &out->rules;
#define MOVE(vec, field, nfield, type)                                                            \
    do {                                                                                          \
        R->field = ar_alloc(c.A, (vec.len + 1) * sizeof(type));                                   \
        if (R->field && vec.len)                                                                  \
            memcpy(R->field, vec.data, vec.len * sizeof(type));                                   \
        R->nfield = R->field ? vec.len : 0;                                                       \
        ar_vec_free(&vec);                                                                        \
    } while (0)
        MOVE(c.enums, enums, nenums, pg_enum);
        MOVE(c.sets, sets, nsets, pg_set);
        MOVE(c.records, records, nrecords, pg_record);
        MOVE(c.commitments, commitments, ncommitments, pg_commitment);
        MOVE(c.rules, rules, nrules, pg_rule);
        MOVE(c.regexes, regexes, nregexes, regex_t);
#undef MOVE
        out->tests = ar_alloc(c.A, (tests.len + 1) * sizeof(cm_test));
        if (out->tests && tests.len)
            memcpy(out->tests, tests.data, tests.len * sizeof(cm_test));
        out->ntests = out->tests ? tests.len : 0;
        ar_vec_free(&tests);
        ar_vec_free(&used_lets);
        ar_vec_free(&c.record_decls);
        ar_vec_free(&c.cycle_lets);
        mtcr_xfree(L.mods);
        mtcr_xfree(L.all);
    }
    if (oom)
        diag_add(&out->diags, DIAG_ERROR, (diag_loc){0}, "out of memory while compiling the rules");
    diag_sort(&out->diags);
    return out;
}

void cm_free(cm_compiled *c)
{
    if (!c || --c->refs > 0)
        return;
    for (size_t i = 0; i < c->rules.nregexes; i++)
        regfree(&c->rules.regexes[i]);
    c->rules.nregexes = 0;
    diag_free(&c->diags);
    ar_free(&c->arena);
    mtcr_xfree(c);
}
