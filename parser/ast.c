/* ast.c — building the syntax tree: the node constructors that the grammar
 * actions of parser.y call, the folding of clauses into declarations (where a
 * clause given twice is reported), the splitting of messages into text and
 * `{expr}` parts, and the two entry points ast_parse / ast_parse_expr.
 *
 * Conventions the tree follows where ast.h leaves room:
 *  - a qualified name in an expression (`mtcr.annex.x`, `item.number`) is a chain
 *    of AST_DOT over an AST_NAME; the parser does not tell modules from fields;
 *  - `x not in S` is AST_IN with op OP_NOT_IN; `x in S at D` puts D in `at`;
 *  - `under`, `contains`, `starts with`, comparisons and `??` are AST_BINARY;
 *  - `missing(x)` is AST_CALL named "missing"; `missing` alone is AST_MISSING;
 *  - parentheses leave no node;
 *  - `expect clear;` is EXPECT_SEVERITY with SEV_CLEAR;
 *  - a set member written `-5` is AST_UNARY OP_NEG over the literal;
 *  - a message's text parts are never empty; an empty message has no parts;
 *  - every severity word parses after `then` and `if unknown`; the checker
 *    rejects `then clear` and `then ignore`.
 */
#include "parser.h"
#include "lexer.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "runtime/value.h"

/* ---- diagnostics and nodes ------------------------------------------------------- */

diag_loc ax_loc(ax_ctx *c, const YYLTYPE *l)
{
    diag_loc d = {c->src, l->first_line, l->first_column};
    return d;
}

diag *ax_error(ax_ctx *c, diag_loc at, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return diag_add(c->diags, DIAG_ERROR, at, "%s", buf);
}

static void *ax_alloc(ax_ctx *c, size_t n)
{
    void *p = ar_alloc(c->arena, n);
    if (!p)
        c->oom = 1;
    return p;
}

ast_expr *ax_new(ax_ctx *c, ast_expr_kind k, diag_loc at)
{
    ast_expr *e = ax_alloc(c, sizeof *e);
    if (e) {
        e->kind = k;
        e->loc = at;
        e->op_loc = at;
    }
    return e;
}

/* ---- string escapes ------------------------------------------------------------ */

static int ax_hex(int ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

static size_t ax_utf8(unsigned long cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Escapes: \" \\ \n \t \u{X..} (1 to 6 hex digits, a Unicode scalar value, written
 * as UTF-8).  A bad escape is reported and its characters are kept as written, so
 * one mistake gives one error.  The output is never longer than the input. */
char *ax_decode(ax_ctx *c, const char *raw, size_t n, diag_loc at, int report, size_t *outlen)
{
    char *out = ax_alloc(c, n + 1);
    size_t k = 0;
    if (!out) {
        *outlen = 0;
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        if (raw[i] != '\\' || i + 1 >= n) {
            out[k++] = raw[i];
            continue;
        }
        diag_loc eat = at;
        eat.col += (int)i;
        char e = raw[i + 1];
        if (e == '"' || e == '\\') {
            out[k++] = e;
            i++;
        } else if (e == 'n') {
            out[k++] = '\n';
            i++;
        } else if (e == 't') {
            out[k++] = '\t';
            i++;
        } else if (e == 'u') {
            size_t j = i + 2;
            unsigned long cp = 0;
            int nd = 0;
            if (j < n && raw[j] == '{') {
                j++;
                while (j < n && ax_hex((unsigned char)raw[j]) >= 0 && nd < 7) {
                    cp = cp * 16 + (unsigned long)ax_hex((unsigned char)raw[j]);
                    j++;
                    nd++;
                }
            }
            if (nd == 0 || nd > 6 || j >= n || raw[j] != '}') {
                if (report) {
                    diag *d = ax_error(c, eat, "malformed \\u escape");
                    if (d)
                        diag_hint(d, "write \\u{XXXX} with 1 to 6 hex digits, e.g. \\u{7B} for '{'");
                }
                out[k++] = raw[i];
                continue;
            }
            if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
                if (report)
                    ax_error(c, eat, "\\u{%.*s} is not a Unicode character", nd, raw + i + 3);
                memcpy(out + k, raw + i, j + 1 - i);
                k += j + 1 - i;
            } else {
                k += ax_utf8(cp, out + k);
            }
            i = j;
        } else {
            if (report) {
                diag *d;
                if ((unsigned char)e >= 0x20 && (unsigned char)e < 0x7f)
                    d = ax_error(c, eat, "unknown escape '\\%c' in a string", e);
                else
                    d = ax_error(c, eat, "unknown escape in a string");
                if (d)
                    diag_hint(d, "the escapes are \\\" \\\\ \\n \\t \\u{XXXX}; write \\\\ for a backslash");
            }
            out[k++] = raw[i];
        }
    }
    out[k] = '\0';
    *outlen = k;
    return out;
}

/* ---- syntax errors ------------------------------------------------------------- */

void ax_token_text(ax_ctx *c, const char *what, char *buf, size_t n)
{
    size_t len = c->tok_len;
    const char *t = c->text + (c->tok_off < c->len ? c->tok_off : c->len);
    if (c->tok_off + len > c->len)
        len = c->len - c->tok_off;
    if (len > 40)
        snprintf(buf, n, "%s '%.40s...'", what, t);
    else
        snprintf(buf, n, "%s '%.*s'", what, (int)len, t);
}

/* After a number, a word that is no unit gets a hint naming the closest unit. */
static void ax_unit_hint(ax_ctx *c, diag *d)
{
    size_t i = c->tok_off;
    if (!d || i == 0 || i > c->len)
        return;
    while (i > 0 && (c->text[i - 1] == ' ' || c->text[i - 1] == '\t'))
        i--;
    if (i == 0 || !(c->text[i - 1] >= '0' && c->text[i - 1] <= '9'))
        return;
    const char *names[64];
    size_t n = 0;
    for (const val_unit *u = val_units; u->name && n < 64; u++)
        names[n++] = u->name;
    char word[64];
    size_t wl = c->tok_len < sizeof word - 1 ? c->tok_len : sizeof word - 1;
    memcpy(word, c->text + c->tok_off, wl);
    word[wl] = '\0';
    const char *s = diag_suggest(word, names, n);
    if (s)
        diag_hint(d, "'%s' is not a unit; did you mean '%s'?", word, s);
    else
        diag_hint(d, "'%s' is not a unit (units: kg g t lb, m km mi nmi ft, Ns kNs MNs lbf_s, l ml m3 gal, "
                     "m/s km/h kn)", word);
}

/* When a ';' would fit and the unexpected token is the first on its line, the ';'
 * is most likely missing at the end of the previous line that holds code (blank
 * lines and // comments skipped): *at is the column just after that code. */
static int ax_missing_semicolon_at(ax_ctx *c, const YYLTYPE *l, diag_loc *at)
{
    if (c->expr_mode || c->tok_off > c->len)
        return 0;
    size_t ls = c->tok_off;
    while (ls > 0 && c->text[ls - 1] != '\n')
        ls--;
    for (size_t i = ls; i < c->tok_off; i++)
        if (c->text[i] != ' ' && c->text[i] != '\t')
            return 0;
    int line = l->first_line;
    while (ls > 0) {
        size_t e = ls - 1, s = e; /* the line [s, e) ends with the '\n' at e */
        while (s > 0 && c->text[s - 1] != '\n')
            s--;
        line--;
        size_t stop = e;
        int inq = 0;
        for (size_t i = s; i < e; i++) {
            char ch = c->text[i];
            if (ch == '"' && (i == s || c->text[i - 1] != '\\'))
                inq = !inq;
            else if (!inq && ch == '/' && i + 1 < e && c->text[i + 1] == '/') {
                stop = i;
                break;
            }
        }
        while (stop > s && (c->text[stop - 1] == ' ' || c->text[stop - 1] == '\t' || c->text[stop - 1] == '\r'))
            stop--;
        if (stop > s) {
            *at = (diag_loc){c->src, line, (int)(stop - s) + 1};
            return line > 0;
        }
        ls = s;
    }
    return 0;
}

void ax_syntax_error(ax_ctx *c, const YYLTYPE *l, const char *unexpected, const char *expected, int comparison,
                     const char *const *keywords, size_t nkeywords)
{
    diag *d;
    const char *un = unexpected;
    if (c->expr_mode && strcmp(unexpected, "end of file") == 0)
        un = "end of the {...} expression";
    diag_loc semi;
    if (strstr(expected, "';'") && strcmp(unexpected, "end of file") != 0 && ax_missing_semicolon_at(c, l, &semi)) {
        d = ax_error(c, semi, "expected ';' at the end of this line");
        if (d)
            diag_hint(d, "the next line starts with %s, which cannot continue this one", un);
        return;
    }
    if (expected[0])
        d = ax_error(c, ax_loc(c, l), "unexpected %s, expected %s", un, expected);
    else
        d = ax_error(c, ax_loc(c, l), "unexpected %s", un);
    if (strncmp(unexpected, "identifier ", 11) == 0) {
        ax_unit_hint(c, d);
        if (d && !d->hint && c->tok_len < 64) {
            char word[64];
            memcpy(word, c->text + c->tok_off, c->tok_len);
            word[c->tok_len] = '\0';
            const char *s = diag_suggest(word, keywords, nkeywords);
            if (s)
                diag_hint(d, "did you mean '%s'?", s);
        }
    } else if (comparison && d)
        diag_hint(d, "comparisons do not chain: write a < b and b < c");
}

void ax_parser_failure(ax_ctx *c, const YYLTYPE *l, const char *msg)
{
    if (strcmp(msg, "memory exhausted") == 0)
        ax_error(c, ax_loc(c, l), "the rules nest too deeply here (or memory ran out)");
    else
        ax_error(c, ax_loc(c, l), "%s", msg);
}

/* ---- lists --------------------------------------------------------------------- */

ax_seq ax_seq_one(ax_ctx *c, void *item)
{
    ax_seq s = {0};
    return ax_seq_add(c, s, item);
}

/* NULL items (from an allocation that failed) are left out. */
ax_seq ax_seq_add(ax_ctx *c, ax_seq s, void *item)
{
    if (!item)
        return s;
    ax_node *n = ax_alloc(c, sizeof *n);
    if (!n)
        return s;
    n->item = item;
    if (s.tail)
        s.tail->next = n;
    else
        s.head = n;
    s.tail = n;
    s.n++;
    return s;
}

static void **ax_ptrs(ax_ctx *c, const ax_seq *s, size_t *n)
{
    *n = 0;
    if (!s->n)
        return NULL;
    void **a = ax_alloc(c, s->n * sizeof *a);
    if (!a)
        return NULL;
    for (ax_node *p = s->head; p; p = p->next)
        a[(*n)++] = p->item;
    return a;
}

/* ---- file ---------------------------------------------------------------------- */

void ax_set_module(ax_ctx *c, const ast_ref *name, diag_loc at)
{
    if (c->file) {
        c->file->module = name->name;
        c->file->module_loc = at;
    }
}

void ax_add_import(ax_ctx *c, ast_import *im)
{
    c->imports = ax_seq_add(c, c->imports, im);
}

void ax_add_decl(ax_ctx *c, ast_decl *d)
{
    c->decls = ax_seq_add(c, c->decls, d);
}

ast_import *ax_import(ax_ctx *c, const char *module, const char *path, diag_loc at)
{
    if (!module && !path)
        return NULL;
    ast_import *im = ax_alloc(c, sizeof *im);
    if (im) {
        im->loc = at;
        im->module = module;
        im->path = path;
    }
    return im;
}

ast_ref ax_ref(ax_ctx *c, const ast_ref *prefix, const ax_str *name, diag_loc at)
{
    ast_ref r = {at, NULL};
    if (!name->s)
        return r;
    if (!prefix) {
        r.name = name->s;
        return r;
    }
    if (!prefix->name)
        return r;
    size_t a = strlen(prefix->name);
    char *s = ax_alloc(c, a + 1 + name->len + 1);
    if (!s)
        return r;
    memcpy(s, prefix->name, a);
    s[a] = '.';
    memcpy(s + a + 1, name->s, name->len + 1);
    r.name = s;
    return r;
}

ax_str ax_str_join(ax_ctx *c, const ax_str *a, const char *sep, const ax_str *b)
{
    ax_str r = {0};
    if (!a->s || !b->s)
        return r;
    size_t ls = strlen(sep);
    char *s = ax_alloc(c, a->len + ls + b->len + 1);
    if (!s)
        return r;
    memcpy(s, a->s, a->len);
    memcpy(s + a->len, sep, ls);
    memcpy(s + a->len + ls, b->s, b->len + 1);
    r.s = s;
    r.len = a->len + ls + b->len;
    return r;
}

/* ---- declarations -------------------------------------------------------------- */

static ast_decl *ax_decl(ax_ctx *c, ast_decl_kind k, const ax_str *name, const ax_str *title, diag_loc at)
{
    ast_decl *d = ax_alloc(c, sizeof *d);
    if (d) {
        d->kind = k;
        d->loc = at;
        d->name = name ? name->s : NULL;
        d->title = title ? title->s : NULL;
    }
    return d;
}

ast_decl *ax_decl_value(ax_ctx *c, ast_decl_kind k, const ax_str *name, const ast_ref *type, ast_expr *e,
                        diag_loc at)
{
    ast_decl *d = ax_decl(c, k, name, NULL, at);
    if (d) {
        if (type)
            d->type = *type;
        d->expr = e;
    }
    return d;
}

ast_member *ax_member(ax_ctx *c, const ax_str *name, const ax_str *title, diag_loc at)
{
    ast_member *m = ax_alloc(c, sizeof *m);
    if (m) {
        m->loc = at;
        m->name = name->s;
        m->title = title->s;
    }
    return m;
}

ast_decl *ax_decl_enum(ax_ctx *c, const ax_str *name, const ax_str *title, const ax_seq *members, diag_loc at)
{
    ast_decl *d = ax_decl(c, DECL_ENUM, name, title, at);
    if (!d || !members->n)
        return d;
    d->members = ax_alloc(c, members->n * sizeof *d->members);
    if (!d->members)
        return d;
    for (ax_node *p = members->head; p; p = p->next)
        d->members[d->nmembers++] = *(ast_member *)p->item;
    return d;
}

ast_set_group *ax_group_tail(ax_ctx *c, ast_expr *since, ast_expr *until)
{
    ast_set_group *g = ax_alloc(c, sizeof *g);
    if (g) {
        g->since = since;
        g->until = until;
    }
    return g;
}

ast_set_group *ax_group(ax_ctx *c, const ax_seq *members, ast_set_group *tail, diag_loc at)
{
    if (!tail)
        return NULL;
    tail->loc = at;
    tail->members = (ast_expr **)ax_ptrs(c, members, &tail->nmembers);
    return tail;
}

static ast_decl *ax_set_common(ax_ctx *c, const ax_str *name, const ast_ref *type, int normalized,
                               const ax_str *title, diag_loc at)
{
    ast_decl *d = ax_decl(c, DECL_SET, name, title, at);
    if (d) {
        d->type = *type;
        d->normalized = normalized;
    }
    return d;
}

ast_decl *ax_decl_set(ax_ctx *c, const ax_str *name, const ast_ref *type, int normalized, const ax_str *title,
                      const ax_seq *groups, diag_loc at)
{
    ast_decl *d = ax_set_common(c, name, type, normalized, title, at);
    if (!d || !groups->n)
        return d;
    d->groups = ax_alloc(c, groups->n * sizeof *d->groups);
    if (!d->groups)
        return d;
    for (ax_node *p = groups->head; p; p = p->next)
        d->groups[d->ngroups++] = *(ast_set_group *)p->item;
    return d;
}

ast_decl *ax_decl_set_file(ax_ctx *c, const ax_str *name, const ast_ref *type, int normalized,
                           const ax_str *title, const ax_str *file, const ax_str *column, diag_loc from_at,
                           diag_loc at)
{
    ast_decl *d = ax_set_common(c, name, type, normalized, title, at);
    if (d) {
        d->from_file = file->s;
        d->from_column = column->s;
        d->from_loc = from_at;
    }
    return d;
}

static const char *ax_clause_name(ax_clause_kind k)
{
    switch (k) {
    case AXC_APPLIES: return "applies to";
    case AXC_BINDS: return "binds";
    case AXC_EFFECTIVE: return "effective";
    case AXC_UNTIL: return "until";
    case AXC_CITE: return "cite";
    case AXC_KIND: return "kind";
    case AXC_RULE: return "rule";
    case AXC_WHEN: return "when";
    case AXC_UNLESS: return "unless";
    case AXC_THEN: return "then";
    case AXC_IF_UNKNOWN: return "if unknown";
    case AXC_GIVEN: return "given";
    case AXC_EXPECT: return "expect";
    case AXC_UNIT: return "in";
    case AXC_COLUMN: return "column";
    case AXC_REQUIRED: return "required";
    }
    return "clause";
}

/* Clauses that may stand once: the first one wins, a repeat is reported at its
 * own location with the line of the first. */
typedef struct {
    const ax_clause *first[AXC_REQUIRED + 1];
} ax_once;

static int ax_first(ax_ctx *c, ax_once *o, const ax_clause *cl, const char *what, const char *name)
{
    if (!o->first[cl->kind]) {
        o->first[cl->kind] = cl;
        return 1;
    }
    diag *d = ax_error(c, cl->loc, "'%s' is given twice in %s '%s'", ax_clause_name(cl->kind), what,
                       name ? name : "");
    if (d)
        diag_hint(d, "the first is at %d:%d; a %s has at most one '%s'", o->first[cl->kind]->loc.line,
                  o->first[cl->kind]->loc.col, what, ax_clause_name(cl->kind));
    return 0;
}

static ax_clause *ax_clause_new(ax_ctx *c, ax_clause_kind k, diag_loc at)
{
    ax_clause *cl = ax_alloc(c, sizeof *cl);
    if (cl) {
        cl->kind = k;
        cl->loc = at;
    }
    return cl;
}

ax_clause *ax_clause_str(ax_ctx *c, ax_clause_kind k, const char *s, diag_loc at)
{
    ax_clause *cl = ax_clause_new(c, k, at);
    if (cl)
        cl->str = s;
    return cl;
}

ax_clause *ax_clause_ref(ax_ctx *c, ax_clause_kind k, const ast_ref *r, diag_loc at)
{
    ax_clause *cl = ax_clause_new(c, k, at);
    if (cl)
        cl->ref = *r;
    return cl;
}

ax_clause *ax_clause_expr(ax_ctx *c, ax_clause_kind k, ast_expr *e, diag_loc at)
{
    ax_clause *cl = ax_clause_new(c, k, at);
    if (cl)
        cl->expr = e;
    return cl;
}

ax_clause *ax_clause_int(ax_ctx *c, ax_clause_kind k, int v, diag_loc at)
{
    ax_clause *cl = ax_clause_new(c, k, at);
    if (cl)
        cl->ival = v;
    return cl;
}

ax_clause *ax_clause_sev(ax_ctx *c, ax_clause_kind k, int sev, const ax_str *msg, const YYLTYPE *msg_at,
                         diag_loc at)
{
    ax_clause *cl = ax_clause_new(c, k, at);
    if (cl) {
        cl->ival = sev;
        if (msg)
            cl->msg = ax_message(c, msg, msg_at);
    }
    return cl;
}

ast_field *ax_field(ax_ctx *c, const ax_str *name, const ast_ref *type, const ax_seq *opts, diag_loc at)
{
    ast_field *f = ax_alloc(c, sizeof *f);
    if (!f)
        return NULL;
    f->loc = at;
    f->name = name->s;
    f->type = *type;
    ax_once once = {{0}};
    for (ax_node *p = opts->head; p; p = p->next) {
        const ax_clause *cl = p->item;
        if (!ax_first(c, &once, cl, "field", name->s))
            continue;
        switch (cl->kind) {
        case AXC_UNIT:
            f->unit = cl->str;
            f->unit_loc = cl->loc2;
            break;
        case AXC_COLUMN: f->column = cl->str; break;
        case AXC_REQUIRED: f->required = 1; break;
        default: break;
        }
    }
    return f;
}

ast_decl *ax_decl_record(ax_ctx *c, const ax_str *name, const ax_str *title, const ax_seq *fields, diag_loc at)
{
    ast_decl *d = ax_decl(c, DECL_RECORD, name, title, at);
    if (!d || !fields->n)
        return d;
    d->fields = ax_alloc(c, fields->n * sizeof *d->fields);
    if (!d->fields)
        return d;
    for (ax_node *p = fields->head; p; p = p->next)
        d->fields[d->nfields++] = *(ast_field *)p->item;
    return d;
}

ax_clause *ax_rule(ax_ctx *c, const ax_str *name, const ax_str *title, const ax_seq *items, diag_loc at)
{
    ax_clause *cl = ax_clause_new(c, AXC_RULE, at);
    ast_rule *r = ax_alloc(c, sizeof *r);
    if (!cl || !r)
        return NULL;
    cl->rule = r;
    r->loc = at;
    r->name = name->s;
    r->title = title->s;
    r->then_sev = SEV_CLEAR; /* no `then`: the checker reports it */
    ax_once once = {{0}};
    for (ax_node *p = items->head; p; p = p->next) {
        const ax_clause *it = p->item;
        if (!ax_first(c, &once, it, "rule", name->s))
            continue;
        switch (it->kind) {
        case AXC_WHEN: r->when = it->expr; break;
        case AXC_UNLESS: r->unless = it->expr; break;
        case AXC_CITE: r->cite = it->str; break;
        case AXC_THEN:
            r->then_loc = it->loc;
            r->then_sev = (ast_severity)it->ival;
            r->then_msg = it->msg;
            break;
        case AXC_IF_UNKNOWN:
            r->has_if_unknown = 1;
            r->if_unknown_loc = it->loc;
            r->unknown_sev = (ast_severity)it->ival;
            r->unknown_msg = it->msg;
            break;
        default: break;
        }
    }
    return cl;
}

ast_decl *ax_decl_commitment(ax_ctx *c, const ax_str *name, const ax_str *title, const ax_seq *items,
                             diag_loc at)
{
    ast_decl *d = ax_decl(c, DECL_COMMITMENT, name, title, at);
    if (!d)
        return NULL;
    size_t nrules = 0;
    for (ax_node *p = items->head; p; p = p->next)
        nrules += ((ax_clause *)p->item)->kind == AXC_RULE;
    if (nrules) {
        d->rules = ax_alloc(c, nrules * sizeof *d->rules);
        if (!d->rules)
            return d;
    }
    ax_once once = {{0}};
    for (ax_node *p = items->head; p; p = p->next) {
        const ax_clause *it = p->item;
        if (it->kind == AXC_RULE) {
            d->rules[d->nrules++] = *it->rule;
            continue;
        }
        if (!ax_first(c, &once, it, "commitment", name->s))
            continue;
        switch (it->kind) {
        case AXC_APPLIES: d->applies_to = it->ref; break;
        case AXC_BINDS: d->binds = it->expr; break;
        case AXC_EFFECTIVE: d->effective = it->expr; break;
        case AXC_UNTIL: d->until = it->expr; break;
        case AXC_CITE: d->cite = it->str; break;
        case AXC_KIND: d->ckind = (ast_ckind)it->ival; break;
        default: break;
        }
    }
    return d;
}

ast_given_field *ax_given(ax_ctx *c, const ax_str *name, ast_expr *value, diag_loc at)
{
    ast_given_field *g = ax_alloc(c, sizeof *g);
    if (g) {
        g->loc = at;
        g->name = name->s;
        g->value = value;
    }
    return g;
}

ax_clause *ax_clause_given(ax_ctx *c, const ast_ref *record, const ax_seq *fields, diag_loc at)
{
    ax_clause *cl = ax_clause_new(c, AXC_GIVEN, at);
    if (cl) {
        cl->ref = *record;
        cl->list = *fields;
    }
    return cl;
}

ax_clause *ax_clause_expect(ax_ctx *c, ast_expect_kind k, int sev, const ast_ref *rule, diag_loc at,
                            diag_loc what_at)
{
    if (k == EXPECT_SEVERITY && sev == SEV_IGNORE) {
        diag *d = ax_error(c, what_at, "'ignore' is not a verdict");
        if (d)
            diag_hint(d, "expect clear, notify, review, deny or prohibit");
        return NULL;
    }
    ax_clause *cl = ax_clause_new(c, AXC_EXPECT, at);
    ast_expect *x = ax_alloc(c, sizeof *x);
    if (!cl || !x)
        return NULL;
    cl->expect = x;
    x->loc = at;
    x->kind = k;
    x->sev = (ast_severity)sev;
    if (rule)
        x->rule = *rule;
    return cl;
}

ast_decl *ax_decl_test(ax_ctx *c, const ax_str *name, const ax_str *title, const ax_seq *items, diag_loc at)
{
    ast_decl *d = ax_decl(c, DECL_TEST, name, title, at);
    if (!d)
        return NULL;
    size_t nexp = 0;
    for (ax_node *p = items->head; p; p = p->next)
        nexp += ((ax_clause *)p->item)->kind == AXC_EXPECT;
    if (nexp) {
        d->expects = ax_alloc(c, nexp * sizeof *d->expects);
        if (!d->expects)
            return d;
    }
    ax_once once = {{0}};
    const char *tname = name->s ? name->s : title->s;
    for (ax_node *p = items->head; p; p = p->next) {
        const ax_clause *it = p->item;
        if (it->kind == AXC_EXPECT) {
            d->expects[d->nexpects++] = *it->expect;
            continue;
        }
        if (!ax_first(c, &once, it, "test", tname))
            continue;
        d->given_record = it->ref;
        if (!it->list.n)
            continue;
        d->given = ax_alloc(c, it->list.n * sizeof *d->given);
        if (!d->given)
            return d;
        for (ax_node *q = it->list.head; q; q = q->next) {
            const ast_given_field *g = q->item;
            int dup = 0;
            for (size_t i = 0; i < d->ngiven && !dup; i++)
                if (d->given[i].name && g->name && strcmp(d->given[i].name, g->name) == 0) {
                    diag *e = ax_error(c, g->loc, "field '%s' is given twice", g->name);
                    if (e)
                        diag_hint(e, "the first is on line %d", d->given[i].loc.line);
                    dup = 1;
                }
            if (!dup)
                d->given[d->ngiven++] = *g;
        }
    }
    return d;
}

/* ---- expressions --------------------------------------------------------------- */

static diag_loc ax_first_loc(const ast_expr *a, diag_loc fallback)
{
    return a ? a->loc : fallback;
}

ast_expr *ax_if(ax_ctx *c, ast_expr *cond, ast_expr *a, ast_expr *b, diag_loc at)
{
    ast_expr *e = ax_new(c, AST_IF, at);
    if (e) {
        e->cond = cond;
        e->lhs = a;
        e->rhs = b;
    }
    return e;
}

ast_expr *ax_binary(ax_ctx *c, int op, ast_expr *a, ast_expr *b, diag_loc op_at)
{
    ast_expr *e = ax_new(c, AST_BINARY, ax_first_loc(a, op_at));
    if (e) {
        e->op = (ast_op)op;
        e->lhs = a;
        e->rhs = b;
        e->op_loc = op_at;
    }
    return e;
}

ast_expr *ax_unary(ax_ctx *c, int op, ast_expr *a, diag_loc at)
{
    ast_expr *e = ax_new(c, AST_UNARY, at);
    if (e) {
        e->op = (ast_op)op;
        e->lhs = a;
    }
    return e;
}

/* `S at D` on the right of `in` is carried by an AST_IN with OP_NONE until ax_in
 * takes it apart. */
ast_expr *ax_at(ax_ctx *c, ast_expr *set, ast_expr *date, diag_loc at)
{
    ast_expr *e = ax_new(c, AST_IN, ax_first_loc(set, at));
    if (e) {
        e->op = OP_NONE;
        e->lhs = set;
        e->at = date;
        e->op_loc = at;
    }
    return e;
}

ast_expr *ax_in(ax_ctx *c, int op, ast_expr *a, ast_expr *rhs, diag_loc op_at)
{
    ast_expr *e = ax_new(c, AST_IN, ax_first_loc(a, op_at));
    if (!e)
        return NULL;
    e->op = (ast_op)op;
    e->lhs = a;
    e->op_loc = op_at;
    if (rhs && rhs->kind == AST_IN && rhs->op == OP_NONE) {
        e->rhs = rhs->lhs;
        e->at = rhs->at;
    } else {
        e->rhs = rhs;
    }
    return e;
}

ast_expr *ax_range(ax_ctx *c, ast_expr *lo, ast_expr *hi, diag_loc op_at)
{
    ast_expr *e = ax_new(c, AST_RANGE, ax_first_loc(lo, op_at));
    if (e) {
        e->lhs = lo;
        e->rhs = hi;
        e->op_loc = op_at;
    }
    return e;
}

ast_expr *ax_list(ax_ctx *c, const ax_seq *items, diag_loc at)
{
    ast_expr *e = ax_new(c, AST_LIST, at);
    if (e)
        e->items = (ast_expr **)ax_ptrs(c, items, &e->nitems);
    return e;
}

ast_expr *ax_matches(ax_ctx *c, ast_expr *a, ast_expr *re, diag_loc op_at)
{
    (void)c; /* the lexer already made the node */
    if (!re)
        return NULL;
    (void)op_at;
    re->lhs = a;
    re->op_loc = re->loc; /* the regex literal itself (errors in the pattern point there) */
    re->loc = ax_first_loc(a, op_at);
    return re;
}

ast_expr *ax_dot(ax_ctx *c, ast_expr *a, const ax_str *name, diag_loc name_at)
{
    ast_expr *e = ax_new(c, AST_DOT, ax_first_loc(a, name_at));
    if (e) {
        e->lhs = a;
        e->str = name->s;
        e->len = name->len;
        e->op_loc = name_at;
    }
    return e;
}

ast_expr *ax_name(ax_ctx *c, const ax_str *name, diag_loc at)
{
    ast_expr *e = ax_new(c, AST_NAME, at);
    if (e) {
        e->str = name->s;
        e->len = name->len;
    }
    return e;
}

ast_expr *ax_leaf(ax_ctx *c, ast_expr_kind k, diag_loc at)
{
    return ax_new(c, k, at);
}

ast_expr *ax_call(ax_ctx *c, const char *name, const ax_seq *args, diag_loc at)
{
    ast_expr *e = ax_new(c, AST_CALL, at);
    if (e) {
        e->str = name;
        e->len = name ? strlen(name) : 0;
        e->items = (ast_expr **)ax_ptrs(c, args, &e->nitems);
    }
    return e;
}

ast_expr *ax_string(ax_ctx *c, const ax_str *s, diag_loc at)
{
    ast_expr *e = ax_new(c, AST_STRING, at);
    if (e) {
        e->str = s->s ? s->s : "";
        e->len = s->len;
    }
    return e;
}

ast_expr *ax_bool(ax_ctx *c, int v, diag_loc at)
{
    ast_expr *e = ax_new(c, AST_BOOL, at);
    if (e)
        e->ival = v;
    return e;
}

/* ---- messages ---------------------------------------------------------------------- */

typedef struct {
    char *p;
    size_t len, cap;
} ax_text;

static int ax_text_put(ax_ctx *c, ax_text *t, const char *s, size_t n)
{
    if (t->len + n > t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        while (cap < t->len + n)
            cap *= 2;
        char *p = mtcr_xrealloc(t->p, cap);
        if (!p) {
            c->oom = 1;
            return -1;
        }
        t->p = p;
        t->cap = cap;
    }
    memcpy(t->p + t->len, s, n);
    t->len += n;
    return 0;
}

/* The pending text (raw, with `{{`/`}}` already made single) becomes a decoded
 * text part.  Its escapes were reported when the string was lexed. */
static void ax_flush_text(ax_ctx *c, ax_text *t, ax_seq *parts, diag_loc at)
{
    if (t->len == 0)
        return;
    ast_msg_part *p = ax_alloc(c, sizeof *p);
    if (p)
        p->text = ax_decode(c, t->p, t->len, at, 0, &p->len);
    *parts = ax_seq_add(c, *parts, p);
    t->len = 0;
}

/* Split a message on its raw text (LANGUAGE.md section 2): backslash escapes are
 * text whose braces open nothing, `{{` and `}}` are braces, `{expr}` is parsed
 * again as an expression with locations pointing into the string. */
ast_message *ax_message(ax_ctx *c, const ax_str *s, const YYLTYPE *at)
{
    ast_message *m = ax_alloc(c, sizeof *m);
    if (!m || !s->raw)
        return m;
    diag_loc loc = ax_loc(c, at);
    m->loc = loc;
    const char *raw = s->raw;
    size_t n = s->rawlen;
    ax_text t = {0};
    ax_seq parts = {0};
#define AX_AT(i) ((diag_loc){loc.src, loc.line, loc.col + 1 + (int)(i)})
    size_t i = 0;
    while (i < n) {
        char ch = raw[i];
        if (ch == '\\') {
            size_t j = i + 2;
            if (i + 2 < n && raw[i + 1] == 'u' && raw[i + 2] == '{') {
                const char *close = memchr(raw + i + 3, '}', n - (i + 3));
                if (close)
                    j = (size_t)(close - raw) + 1;
            }
            if (j > n)
                j = n;
            ax_text_put(c, &t, raw + i, j - i);
            i = j;
        } else if (ch == '{' && i + 1 < n && raw[i + 1] == '{') {
            ax_text_put(c, &t, "{", 1);
            i += 2;
        } else if (ch == '}' && i + 1 < n && raw[i + 1] == '}') {
            ax_text_put(c, &t, "}", 1);
            i += 2;
        } else if (ch == '}') {
            diag *d = ax_error(c, AX_AT(i), "'}' in a message closes no '{'");
            if (d)
                diag_hint(d, "write }} for a literal '}'");
            ax_text_put(c, &t, "}", 1);
            i++;
        } else if (ch == '{') {
            size_t j = i + 1;
            while (j < n && raw[j] != '}' && raw[j] != '{' && raw[j] != '"' && raw[j] != '\\')
                j++;
            if (j >= n || raw[j] != '}') {
                diag *d;
                if (j < n && raw[j] == '{')
                    d = ax_error(c, AX_AT(j), "'{' inside a {...} of a message");
                else if (j < n)
                    d = ax_error(c, AX_AT(j), "a {...} in a message holds an expression without strings");
                else
                    d = ax_error(c, AX_AT(i), "'{' in a message is never closed");
                if (d)
                    diag_hint(d, "write {{ for a literal '{'");
                /* skip the broken part up to its matching '}' so that one mistake
                 * gives one error */
                size_t k = i;
                int depth = 0;
                while (k < n) {
                    if (raw[k] == '\\') {
                        k += 2;
                        continue;
                    }
                    if (raw[k] == '{')
                        depth++;
                    else if (raw[k] == '}' && --depth == 0)
                        break;
                    k++;
                }
                i = k < n ? k + 1 : n;
                continue;
            }
            size_t b = i + 1, e = j;
            while (b < e && (raw[b] == ' ' || raw[b] == '\t'))
                b++;
            if (b == e) {
                diag *d = ax_error(c, AX_AT(i), "empty {} in a message");
                if (d)
                    diag_hint(d, "put an expression inside, e.g. {item}, or write {{}} for literal braces");
            } else {
                ax_flush_text(c, &t, &parts, loc);
                ast_expr *x = ast_parse_expr(c->src, raw + i + 1, j - i - 1, AX_AT(i + 1), c->arena, c->diags);
                if (x) {
                    ast_msg_part *p = ax_alloc(c, sizeof *p);
                    if (p)
                        p->expr = x;
                    parts = ax_seq_add(c, parts, p);
                }
            }
            i = j + 1;
        } else {
            size_t j = i + 1;
            while (j < n && raw[j] != '\\' && raw[j] != '{' && raw[j] != '}')
                j++;
            ax_text_put(c, &t, raw + i, j - i);
            i = j;
        }
    }
#undef AX_AT
    ax_flush_text(c, &t, &parts, loc);
    mtcr_xfree(t.p);
    if (parts.n) {
        m->parts = ax_alloc(c, parts.n * sizeof *m->parts);
        if (m->parts)
            for (ax_node *p = parts.head; p; p = p->next)
                m->parts[m->nparts++] = *(ast_msg_part *)p->item;
    }
    return m;
}

/* ---- entry points ------------------------------------------------------------------ */

/* Run the scanner and parser over c->text.  -1 when the scanner could not be set
 * up (out of memory, or an input beyond what flex can buffer).  The scanner
 * reads a copy that ends with the two NUL bytes flex needs; positions are taken
 * from c->text, whose bytes are the same. */
static int ax_run(ax_ctx *c)
{
    yyscan_t sc;
    if (c->len > (size_t)INT_MAX - 2) {
        diag_loc at = {c->src, 0, 0};
        ax_error(c, at, "the file is too large to parse (%zu bytes)", c->len);
        return -1;
    }
    char *buf = mtcr_xmalloc(c->len + 2);
    if (!buf) {
        c->oom = 1;
        return -1;
    }
    if (c->len)
        memcpy(buf, c->text, c->len);
    buf[c->len] = buf[c->len + 1] = '\0';
    if (mtcr_yylex_init_extra(c, &sc) != 0) {
        mtcr_xfree(buf);
        c->oom = 1;
        return -1;
    }
    jmp_buf jb;
    c->fatal = &jb;
    c->in_setup = 1;
    c->nsetup = 0;
    if (setjmp(jb) != 0) {
        /* only the buffer stack can fail after the buffer state was made, and
         * then the state is not on the stack: free what flex had allocated */
        for (int i = 0; i < c->nsetup; i++)
            mtcr_xfree(c->setup_allocs[i]);
        mtcr_yylex_destroy(sc);
        mtcr_xfree(buf);
        c->fatal = NULL;
        return -1;
    }
    mtcr_yy_scan_buffer(buf, c->len + 2, sc);
    c->in_setup = 0;
    int r = mtcr_yyparse(sc, c);
    mtcr_yylex_destroy(sc);
    mtcr_xfree(buf);
    c->fatal = NULL;
    return r;
}

static void ax_ctx_init(ax_ctx *c, const diag_source *src, const char *text, size_t len, int line, int col,
                        ar_arena *arena, diag_list *diags)
{
    memset(c, 0, sizeof *c);
    c->src = src;
    c->arena = arena;
    c->diags = diags;
    c->text = text;
    c->len = text ? len : 0;
    c->pos_line = line;
    c->pos_col = col;
}

ast_file *ast_parse(const diag_source *src, ar_arena *arena, diag_list *diags)
{
    ax_ctx c;
    ax_ctx_init(&c, src, src->text, src->len, 1, 1, arena, diags);
    c.start_tok = START_FILE;
    c.file = ax_alloc(&c, sizeof *c.file);
    if (!c.file)
        return NULL;
    c.file->src = src;
    ax_run(&c);
    if (c.oom)
        return NULL;
    ast_file *f = c.file;
    if (c.imports.n) {
        f->imports = ax_alloc(&c, c.imports.n * sizeof *f->imports);
        if (!f->imports)
            return NULL;
        for (ax_node *p = c.imports.head; p; p = p->next)
            f->imports[f->nimports++] = *(ast_import *)p->item;
    }
    f->decls = (ast_decl **)ax_ptrs(&c, &c.decls, &f->ndecls);
    return c.oom ? NULL : f;
}

ast_expr *ast_parse_expr(const diag_source *src, const char *text, size_t len, diag_loc at, ar_arena *arena,
                         diag_list *diags)
{
    ax_ctx c;
    ax_ctx_init(&c, src, text, len, at.line > 0 ? at.line : 1, at.col > 0 ? at.col : 1, arena, diags);
    c.start_tok = START_EXPR;
    c.expr_mode = 1;
    size_t before = diags->nerrors;
    int r = ax_run(&c);
    if (r != 0 || c.oom || diags->nerrors != before)
        return NULL;
    return c.expr;
}

/* ---- names ------------------------------------------------------------------------- */

const char *ast_op_name(ast_op op)
{
    switch (op) {
    case OP_NONE: break;
    case OP_OR: return "or";
    case OP_AND: return "and";
    case OP_NOT: return "not";
    case OP_EQ: return "==";
    case OP_NE: return "!=";
    case OP_LT: return "<";
    case OP_LE: return "<=";
    case OP_GT: return ">";
    case OP_GE: return ">=";
    case OP_IN: return "in";
    case OP_NOT_IN: return "not in";
    case OP_UNDER: return "under";
    case OP_CONTAINS: return "contains";
    case OP_STARTS_WITH: return "starts with";
    case OP_COALESCE: return "??";
    case OP_ADD: return "+";
    case OP_SUB: return "-";
    case OP_MUL: return "*";
    case OP_DIV: return "/";
    case OP_NEG: return "-";
    }
    return "?";
}

const char *ast_severity_name(ast_severity s)
{
    switch (s) {
    case SEV_CLEAR: return "clear";
    case SEV_NOTIFY: return "notify";
    case SEV_REVIEW: return "review";
    case SEV_DENY: return "deny";
    case SEV_PROHIBIT: return "prohibit";
    case SEV_IGNORE: return "ignore";
    }
    return "?";
}
