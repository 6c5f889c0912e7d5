/* test_parser.c — the lexer, the parser and the AST they build: the example of
 * LANGUAGE.md section 3, operator precedence, every literal and the tricky
 * lexing cases of section 2, contextual keywords, messages, and error reporting
 * (every syntax error of a file, with its line and column). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "include/mtcr.h"
#include "parser/ast.h"

/* ---- helpers ----------------------------------------------------------------------- */

typedef struct {
    diag_source src;
    ar_arena arena;
    diag_list diags;
    ast_file *file;
    char *text;
} parsed;

static parsed *parse(const char *text)
{
    parsed *p = calloc(1, sizeof *p);
    assert_non_null(p);
    p->text = strdup(text);
    p->src.name = "t.mtcr";
    p->src.text = p->text;
    p->src.len = strlen(text);
    ar_init(&p->arena, 4096);
    diag_init(&p->diags);
    p->file = ast_parse(&p->src, &p->arena, &p->diags);
    assert_non_null(p->file);
    return p;
}

static void done(parsed *p)
{
    diag_free(&p->diags);
    ar_free(&p->arena);
    free(p->text);
    free(p);
}

/* Parse and fail the test with the diagnostics when there are any. */
static parsed *parse_ok(const char *text)
{
    parsed *p = parse(text);
    for (size_t i = 0; i < p->diags.len; i++) {
        char *s = diag_format(&p->diags.items[i], 0);
        print_error("%s", s);
        mtcr_xfree(s);
    }
    assert_int_equal(p->diags.len, 0);
    return p;
}

/* "file:line:col: message" of diagnostic i */
static const char *dg(parsed *p, size_t i)
{
    static char buf[512];
    assert_true(i < p->diags.len);
    const diag *d = &p->diags.items[i];
    snprintf(buf, sizeof buf, "%d:%d: %s", d->loc.line, d->loc.col, d->message);
    return buf;
}

/* An expression tree as an S-expression. */
typedef struct {
    char p[4096];
    size_t n;
} sbuf;

static void sput(sbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(b->p + b->n, sizeof b->p - b->n, fmt, ap);
    va_end(ap);
    if (k > 0)
        b->n += (size_t)k < sizeof b->p - b->n ? (size_t)k : sizeof b->p - b->n - 1;
}

static void sx_rec(sbuf *b, const ast_expr *e)
{
    if (!e) {
        sput(b, "NULL");
        return;
    }
    switch (e->kind) {
    case AST_INT: sput(b, "i%lld", (long long)e->ival); break;
    case AST_NUMBER: sput(b, "n%.15g", e->dval); break;
    case AST_QTY: sput(b, "q(%.15g %s)", e->dval, e->unit); break;
    case AST_STRING:
        sput(b, "\"");
        for (size_t i = 0; i < e->len; i++) {
            unsigned char c = (unsigned char)e->str[i];
            if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\')
                sput(b, "\\x%02X", c);
            else
                sput(b, "%c", c);
        }
        sput(b, "\"");
        break;
    case AST_DATE: sput(b, "d%04d-%02d-%02d", e->year, e->month, e->day); break;
    case AST_CODE: sput(b, "c%s", e->str); break;
    case AST_BOOL: sput(b, e->ival ? "true" : "false"); break;
    case AST_MISSING: sput(b, "missing"); break;
    case AST_NAME: sput(b, "%s", e->str); break;
    case AST_DOT: sput(b, "(. "); sx_rec(b, e->lhs); sput(b, " %s)", e->str); break;
    case AST_UNARY: sput(b, "(%s ", e->op == OP_NEG ? "neg" : ast_op_name(e->op)); sx_rec(b, e->lhs); sput(b, ")"); break;
    case AST_BINARY:
        sput(b, "(%s ", ast_op_name(e->op));
        sx_rec(b, e->lhs);
        sput(b, " ");
        sx_rec(b, e->rhs);
        sput(b, ")");
        break;
    case AST_IN:
        sput(b, "(%s ", ast_op_name(e->op));
        sx_rec(b, e->lhs);
        sput(b, " ");
        sx_rec(b, e->rhs);
        if (e->at) {
            sput(b, " @ ");
            sx_rec(b, e->at);
        }
        sput(b, ")");
        break;
    case AST_RANGE: sput(b, "(.. "); sx_rec(b, e->lhs); sput(b, " "); sx_rec(b, e->rhs); sput(b, ")"); break;
    case AST_LIST:
        sput(b, "[");
        for (size_t i = 0; i < e->nitems; i++) {
            if (i)
                sput(b, " ");
            sx_rec(b, e->items[i]);
        }
        sput(b, "]");
        break;
    case AST_MATCHES: sput(b, "(matches "); sx_rec(b, e->lhs); sput(b, " /%s/%s)", e->str, e->icase ? "i" : ""); break;
    case AST_IF:
        sput(b, "(if ");
        sx_rec(b, e->cond);
        sput(b, " ");
        sx_rec(b, e->lhs);
        sput(b, " ");
        sx_rec(b, e->rhs);
        sput(b, ")");
        break;
    case AST_CALL:
        sput(b, "(call %s", e->str);
        for (size_t i = 0; i < e->nitems; i++) {
            sput(b, " ");
            sx_rec(b, e->items[i]);
        }
        sput(b, ")");
        break;
    }
}

static const char *sx(const ast_expr *e)
{
    static sbuf b;
    b.n = 0;
    b.p[0] = '\0';
    sx_rec(&b, e);
    return b.p;
}

/* The S-expression of `let x = TEXT;` (must parse without diagnostics). */
static void check_expr(const char *text, const char *want)
{
    char src[1024];
    snprintf(src, sizeof src, "module t;\nlet x = %s;\n", text);
    parsed *p = parse_ok(src);
    assert_int_equal(p->file->ndecls, 1);
    assert_int_equal(p->file->decls[0]->kind, DECL_LET);
    const char *got = sx(p->file->decls[0]->expr);
    if (strcmp(got, want) != 0)
        print_error("expression: %s\n     want: %s\n      got: %s\n", text, want, got);
    assert_string_equal(got, want);
    done(p);
}

/* The diagnostics of `let x = TEXT;`, joined with " | " (line 2 is the let). */
static void check_expr_error(const char *text, const char *want)
{
    char src[1024];
    snprintf(src, sizeof src, "module t;\nlet x = %s;\n", text);
    parsed *p = parse(src);
    char all[2048] = "";
    for (size_t i = 0; i < p->diags.len; i++) {
        if (i)
            strcat(all, " | ");
        strncat(all, dg(p, i), sizeof all - strlen(all) - 1);
    }
    if (strcmp(all, want) != 0)
        print_error("expression: %s\n     want: %s\n      got: %s\n", text, want, all);
    assert_string_equal(all, want);
    done(p);
}

static const ast_decl *decl_named(const ast_file *f, const char *name)
{
    for (size_t i = 0; i < f->ndecls; i++)
        if (f->decls[i]->name && strcmp(f->decls[i]->name, name) == 0)
            return f->decls[i];
    fail_msg("no declaration '%s'", name);
    return NULL;
}

/* ---- the example of LANGUAGE.md section 3 ------------------------------------------------ */

static const char example[] =
    "module mtcr.guidelines;\n"
    "\n"
    "import mtcr.annex;            // from -I paths, then the built-in standard library\n"
    "import \"local/extra.mtcr\";    // a file path, relative to this file\n"
    "\n"
    "const cat1_payload = 500 kg;  // the type is inferred; `const x: mass = 500 kg;` also works\n"
    "\n"
    "enum system_kind \"kind of delivery system\" {\n"
    "  ballistic_missile \"ballistic missile\",\n"
    "  cruise_missile    \"cruise missile\",\n"
    "  uav               \"unmanned aerial vehicle\"\n"
    "}\n"
    "\n"
    "enum category { I \"Category I\", II \"Category II\" }\n"
    "\n"
    "set partners of country \"MTCR partners\" {\n"
    "  CA, FR, DE, IT, JP, GB, US since 1987-04-16;\n"
    "  IN since 2016-06-27;\n"
    "  CZ since 1998-01-01 until 2099-01-01;     // since inclusive, until exclusive\n"
    "}\n"
    "\n"
    "set programs of string { \"Shaheen-II\", \"Ghauri\"; }\n"
    "set sanctioned of string normalized from \"entities.csv\" column \"name\";   // compile time\n"
    "\n"
    "record transfer \"a transfer of goods, software or technology\" {\n"
    "  id: string required;\n"
    "  date: date required;\n"
    "  exporter: country required;\n"
    "  importer: country required;\n"
    "  payload: mass in kg;              // bare input numbers are read as kg\n"
    "  range: distance in km column \"Range (km)\";   // reads the column with that header\n"
    "  item: code;\n"
    "}\n"
    "\n"
    "let category: category = if item.number in 1..2 then I\n"
    "                         else if item.number in 3..20 then II\n"
    "                         else missing;     // derived per record\n"
    "\n"
    "commitment guidelines \"MTCR Guidelines for Sensitive Missile-Relevant Transfers\" {\n"
    "  applies to transfer;                    // the record type this commitment judges\n"
    "  binds exporter in partners at date;     // who is bound, on the record's date\n"
    "  effective 1987-04-16;                   // records dated earlier are not judged\n"
    "  kind multilateral;\n"
    "  cite \"MTCR Guidelines\";\n"
    "\n"
    "  rule cat1_rare_occasions \"Category I transfers are authorised only on rare occasions\" {\n"
    "    cite \"Guidelines, para. 2\";\n"
    "    when category == I;\n"
    "    then deny \"Category I item {item} from {exporter} to {importer}\";\n"
    "    if unknown review \"cannot tell whether {item} is Category I\";\n"
    "  }\n"
    "  rule cat2_review \"Category II transfers are reviewed case by case\" {\n"
    "    when category == II;\n"
    "    then review;\n"
    "    if unknown ignore;\n"
    "  }\n"
    "}\n"
    "\n"
    "test \"a Category I missile from a partner is denied\" {\n"
    "  given transfer { id: \"t1\", date: 2015-03-01, exporter: FR, importer: IR,\n"
    "                   item: 1.A.1, payload: 600 kg, range: 350 km };\n"
    "  expect deny;                                    // the verdict equals deny\n"
    "  expect finding guidelines.cat1_rare_occasions;  // this rule fires\n"
    "  expect no finding guidelines.cat2_review;\n"
    "}\n";

static void test_example_header_and_simple_decls(void **state)
{
    (void)state;
    parsed *p = parse_ok(example);
    const ast_file *f = p->file;
    assert_string_equal(f->module, "mtcr.guidelines");
    assert_int_equal(f->module_loc.line, 1);
    assert_int_equal(f->nimports, 2);
    assert_string_equal(f->imports[0].module, "mtcr.annex");
    assert_null(f->imports[0].path);
    assert_int_equal(f->imports[0].loc.line, 3);
    assert_null(f->imports[1].module);
    assert_string_equal(f->imports[1].path, "local/extra.mtcr");

    assert_int_equal(f->ndecls, 10);
    static const ast_decl_kind kinds[] = {DECL_CONST, DECL_ENUM, DECL_ENUM, DECL_SET, DECL_SET, DECL_SET,
                                          DECL_RECORD, DECL_LET, DECL_COMMITMENT, DECL_TEST};
    static const char *const names[] = {"cat1_payload", "system_kind", "category", "partners", "programs",
                                        "sanctioned", "transfer", "category", "guidelines", NULL};
    for (size_t i = 0; i < 10; i++) {
        assert_int_equal(f->decls[i]->kind, kinds[i]);
        if (names[i])
            assert_string_equal(f->decls[i]->name, names[i]);
        else
            assert_null(f->decls[i]->name);
    }

    const ast_decl *c = f->decls[0];
    assert_null(c->type.name);
    assert_string_equal(sx(c->expr), "q(500 kg)");
    assert_int_equal(c->loc.line, 6);
    assert_int_equal(c->loc.col, 1);

    const ast_decl *e = f->decls[1];
    assert_string_equal(e->title, "kind of delivery system");
    assert_int_equal(e->nmembers, 3);
    assert_string_equal(e->members[0].name, "ballistic_missile");
    assert_string_equal(e->members[2].name, "uav");
    assert_string_equal(e->members[2].title, "unmanned aerial vehicle");
    assert_int_equal(e->members[1].loc.line, 10);
    assert_int_equal(e->members[1].loc.col, 3);
    assert_int_equal(f->decls[2]->nmembers, 2);
    assert_string_equal(f->decls[2]->members[1].title, "Category II");
    done(p);
}

static void test_example_sets_and_record(void **state)
{
    (void)state;
    parsed *p = parse_ok(example);
    const ast_decl *s = decl_named(p->file, "partners");
    assert_string_equal(s->type.name, "country");
    assert_string_equal(s->title, "MTCR partners");
    assert_int_equal(s->normalized, 0);
    assert_null(s->from_file);
    assert_int_equal(s->ngroups, 3);
    assert_int_equal(s->groups[0].nmembers, 7);
    assert_string_equal(sx(s->groups[0].members[0]), "CA");
    assert_string_equal(sx(s->groups[0].members[6]), "US");
    assert_string_equal(sx(s->groups[0].since), "d1987-04-16");
    assert_null(s->groups[0].until);
    assert_int_equal(s->groups[1].nmembers, 1);
    assert_string_equal(sx(s->groups[1].members[0]), "IN"); /* `IN` is not the keyword `in` */
    assert_string_equal(sx(s->groups[2].since), "d1998-01-01");
    assert_string_equal(sx(s->groups[2].until), "d2099-01-01");
    assert_int_equal(s->groups[2].loc.line, 19);

    const ast_decl *pr = decl_named(p->file, "programs");
    assert_int_equal(pr->ngroups, 1);
    assert_int_equal(pr->groups[0].nmembers, 2);
    assert_string_equal(sx(pr->groups[0].members[0]), "\"Shaheen-II\"");

    const ast_decl *sa = decl_named(p->file, "sanctioned");
    assert_int_equal(sa->normalized, 1);
    assert_string_equal(sa->from_file, "entities.csv");
    assert_string_equal(sa->from_column, "name");
    assert_int_equal(sa->ngroups, 0);
    assert_int_equal(sa->from_loc.line, 23);

    const ast_decl *r = decl_named(p->file, "transfer");
    assert_int_equal(r->kind, DECL_RECORD);
    assert_int_equal(r->nfields, 7);
    assert_string_equal(r->fields[0].name, "id");
    assert_string_equal(r->fields[0].type.name, "string");
    assert_int_equal(r->fields[0].required, 1);
    assert_int_equal(r->fields[4].required, 0);
    assert_string_equal(r->fields[4].unit, "kg");
    assert_int_equal(r->fields[4].unit_loc.line, 30);
    assert_int_equal(r->fields[4].unit_loc.col, 20);
    assert_string_equal(r->fields[5].unit, "km");
    assert_string_equal(r->fields[5].column, "Range (km)");
    assert_null(r->fields[6].unit);
    assert_null(r->fields[6].column);
    done(p);
}

static void test_example_let_commitment_test(void **state)
{
    (void)state;
    parsed *p = parse_ok(example);
    const ast_decl *l = p->file->decls[7];
    assert_int_equal(l->kind, DECL_LET);
    assert_string_equal(l->type.name, "category");
    assert_string_equal(sx(l->expr), "(if (in (. item number) (.. i1 i2)) I "
                                     "(if (in (. item number) (.. i3 i20)) II missing))");

    const ast_decl *c = decl_named(p->file, "guidelines");
    assert_string_equal(c->title, "MTCR Guidelines for Sensitive Missile-Relevant Transfers");
    assert_string_equal(c->applies_to.name, "transfer");
    assert_int_equal(c->applies_to.loc.line, 40);
    assert_int_equal(c->applies_to.loc.col, 14);
    assert_string_equal(sx(c->binds), "(in exporter partners @ date)");
    assert_string_equal(sx(c->effective), "d1987-04-16");
    assert_null(c->until);
    assert_int_equal(c->ckind, KIND_MULTILATERAL);
    assert_string_equal(c->cite, "MTCR Guidelines");
    assert_int_equal(c->nrules, 2);

    const ast_rule *r = &c->rules[0];
    assert_string_equal(r->name, "cat1_rare_occasions");
    assert_string_equal(r->title, "Category I transfers are authorised only on rare occasions");
    assert_string_equal(r->cite, "Guidelines, para. 2");
    assert_string_equal(sx(r->when), "(== category I)");
    assert_null(r->unless);
    assert_int_equal(r->then_sev, SEV_DENY);
    assert_non_null(r->then_msg);
    /* "Category I item {item} from {exporter} to {importer}" */
    assert_int_equal(r->then_msg->nparts, 6);
    assert_string_equal(r->then_msg->parts[0].text, "Category I item ");
    assert_null(r->then_msg->parts[0].expr);
    assert_null(r->then_msg->parts[1].text);
    assert_string_equal(sx(r->then_msg->parts[1].expr), "item");
    assert_string_equal(r->then_msg->parts[2].text, " from ");
    assert_int_equal(r->then_msg->parts[2].len, 6);
    assert_string_equal(sx(r->then_msg->parts[3].expr), "exporter");
    assert_string_equal(sx(r->then_msg->parts[5].expr), "importer");
    /* the {item} of line 49 starts at column 33 */
    assert_int_equal(r->then_msg->parts[1].expr->loc.line, 49);
    assert_int_equal(r->then_msg->parts[1].expr->loc.col, 33);
    assert_int_equal(r->has_if_unknown, 1);
    assert_int_equal(r->unknown_sev, SEV_REVIEW);
    assert_int_equal(r->if_unknown_loc.line, 50);
    assert_int_equal(r->unknown_msg->nparts, 3);
    assert_string_equal(r->unknown_msg->parts[2].text, " is Category I");

    const ast_rule *r2 = &c->rules[1];
    assert_string_equal(r2->name, "cat2_review");
    assert_int_equal(r2->then_sev, SEV_REVIEW);
    assert_null(r2->then_msg);
    assert_null(r2->cite);
    assert_int_equal(r2->has_if_unknown, 1);
    assert_int_equal(r2->unknown_sev, SEV_IGNORE);
    assert_null(r2->unknown_msg);

    const ast_decl *t = p->file->decls[9];
    assert_int_equal(t->kind, DECL_TEST);
    assert_null(t->name);
    assert_string_equal(t->title, "a Category I missile from a partner is denied");
    assert_string_equal(t->given_record.name, "transfer");
    assert_int_equal(t->ngiven, 7);
    assert_string_equal(t->given[0].name, "id");
    assert_string_equal(sx(t->given[0].value), "\"t1\"");
    assert_string_equal(sx(t->given[1].value), "d2015-03-01");
    assert_string_equal(sx(t->given[4].value), "c1.A.1");
    assert_string_equal(sx(t->given[5].value), "q(600 kg)");
    assert_string_equal(t->given[6].name, "range");
    assert_int_equal(t->given[6].loc.line, 61);
    assert_int_equal(t->nexpects, 3);
    assert_int_equal(t->expects[0].kind, EXPECT_SEVERITY);
    assert_int_equal(t->expects[0].sev, SEV_DENY);
    assert_int_equal(t->expects[1].kind, EXPECT_FINDING);
    assert_string_equal(t->expects[1].rule.name, "guidelines.cat1_rare_occasions");
    assert_int_equal(t->expects[2].kind, EXPECT_NO_FINDING);
    assert_string_equal(t->expects[2].rule.name, "guidelines.cat2_review");
    assert_int_equal(t->expects[2].loc.line, 64);
    done(p);
}

/* ---- expressions ------------------------------------------------------------------ */

static void test_precedence(void **state)
{
    (void)state;
    check_expr("a or b and not c == d", "(or a (and b (not (== c d))))");
    check_expr("x ?? y + 1", "(?? x (+ y i1))");
    check_expr("-a.number", "(neg (. a number))");
    check_expr("a + b * c - d / e", "(- (+ a (* b c)) (/ d e))");
    check_expr("a - b - c", "(- (- a b) c)");
    check_expr("a ?? b ?? c", "(?? (?? a b) c)");
    check_expr("a and b or c and d", "(or (and a b) (and c d))");
    check_expr("not not a", "(not (not a))");
    check_expr("(a + b) * c", "(* (+ a b) c)");
    check_expr("a ?? b < c ?? d", "(< (?? a b) (?? c d))");
    check_expr("- - 5", "(neg (neg i5))");
    check_expr("mtcr.annex.cat1.kind", "(. (. (. mtcr annex) cat1) kind)");
    check_expr("x <= 3 and y >= 4 and z != 5 and w > 6", "(and (and (and (<= x i3) (>= y i4)) (!= z i5)) (> w i6))");
}

static void test_tests_and_in(void **state)
{
    (void)state;
    check_expr("x in S", "(in x S)");
    check_expr("x not in S", "(not in x S)");
    check_expr("not x in S", "(not (in x S))");
    check_expr("exporter in partners at date", "(in exporter partners @ date)");
    check_expr("x in m.S at d + 1", "(in x (. m S) @ (+ d i1))");
    check_expr("x in 1..2", "(in x (.. i1 i2))");
    check_expr("x not in lo - 1..hi + 1", "(not in x (.. (- lo i1) (+ hi i1)))");
    check_expr("x in [a, b, 3]", "(in x [a b i3])");
    check_expr("x in [a, b,]", "(in x [a b])");
    check_expr("x in []", "(in x [])");
    check_expr("item under 2.A.1", "(under item c2.A.1)");
    check_expr("end_use contains \"missile\"", "(contains end_use \"missile\")");
    check_expr("name starts with \"Dalian\"", "(starts with name \"Dalian\")");
    check_expr("a ?? b in S", "(in (?? a b) S)");
    check_expr("x matches /ab+c/", "(matches x /ab+c/)");
    check_expr("x matches /a\\/b/i and y", "(and (matches x /a/b/i) y)");
    check_expr("x matches\n   /a\\.b/", "(matches x /a\\.b/)");
}

static void test_if_and_calls(void **state)
{
    (void)state;
    check_expr("if a then 1 else 2", "(if a i1 i2)");
    check_expr("if a then 1 else if b then 2 else 3", "(if a i1 (if b i2 i3))");
    check_expr("(if a then 1 else 2) + 1", "(+ (if a i1 i2) i1)");
    check_expr("if if a then b else c then x else y", "(if (if a b c) x y)");
    check_expr("known(x) and missing(y)", "(and (call known x) (call missing y))");
    check_expr("days_between(a, b) > 30", "(> (call days_between a b) i30)");
    check_expr("year(date)", "(call year date)");
    check_expr("normalize(lower(s))", "(call normalize (call lower s))");
    check_expr("f()", "(call f)");
    check_expr("len(s).kind", "(. (call len s) kind)");
    check_expr("x == missing", "(== x missing)");
    /* an if as an operand needs parentheses; comparisons do not chain */
    check_expr_error("1 + if a then 1 else 2", "2:13: unexpected 'if', expected an expression");
    check_expr_error("a < b < c", "2:15: unexpected '<', expected ';'");
    parsed *p = parse("module t;\nlet x = a < b < c;\n");
    assert_string_equal(p->diags.items[0].hint, "comparisons do not chain: write a < b and b < c");
    done(p);
    check_expr_error("f(a b)", "2:13: unexpected identifier 'b', expected ',' or ')'");
    check_expr_error("if a then 1", "2:20: unexpected ';', expected 'else'");
}

/* ---- literals and lexing --------------------------------------------------------------- */

static void test_literals(void **state)
{
    (void)state;
    check_expr("42", "i42");
    check_expr("1_000_000", "i1000000");
    check_expr("0.5", "n0.5");
    check_expr("1.1e6", "n1100000");
    check_expr("2E-3", "n0.002");
    check_expr("1e+2", "n100");
    check_expr("3.33%", "n0.0333");
    check_expr("50%", "n0.5");
    check_expr("\"text\"", "\"text\"");
    check_expr("\"\"", "\"\"");
    check_expr("2002-08-25", "d2002-08-25");
    check_expr("2015-02-30", "d2015-02-30"); /* validity is the checker's job */
    check_expr("2.A.1.c", "c2.A.1.c");
    check_expr("19.A.3", "c19.A.3");
    check_expr("1.A", "c1.A");
    check_expr("true", "true");
    check_expr("false", "false");
    check_expr("missing", "missing");
    check_expr("9223372036854775807", "i9223372036854775807");
    check_expr("-9223372036854775807", "(neg i9223372036854775807)");

    /* 3.33% is the double nearest to 0.0333, not 3.33 / 100 */
    parsed *p = parse_ok("module t; let x = 3.33%;");
    assert_true(p->file->decls[0]->expr->dval == 0.0333);
    assert_int_equal(p->file->decls[0]->expr->kind, AST_NUMBER);
    done(p);
}

static void test_quantities(void **state)
{
    (void)state;
    check_expr("500 kg", "q(500 kg)");
    check_expr("500kg", "q(500 kg)");
    check_expr("500\t kg", "q(500 kg)");
    check_expr("1.1e6 Ns", "q(1100000 Ns)");
    check_expr("499.9 kg", "q(499.9 kg)");
    check_expr("1_300 lb", "q(1300 lb)");
    check_expr("10 m/s", "q(10 m/s)");
    check_expr("10m/s", "q(10 m/s)");
    check_expr("90 km/h", "q(90 km/h)");
    check_expr("10 m / s", "(/ q(10 m) s)");
    check_expr("10 m/sec", "(/ q(10 m) sec)");
    check_expr("190 nmi", "q(190 nmi)");
    check_expr("1 mi", "q(1 mi)");
    check_expr("3 m3", "q(3 m3)");
    check_expr("2 lbf_s", "q(2 lbf_s)");
    check_expr("5 kn", "q(5 kn)");
    check_expr("payload >= 300 km", "(>= payload q(300 km))");
    check_expr("x * 2 kg", "(* x q(2 kg))");
    /* a word that is no unit is given back: `3..20 then` is a range, then `then` */
    check_expr("if x in 3..20 then 1 else 2", "(if (in x (.. i3 i20)) i1 i2)");
    check_expr("if x > 3 then 1 else 2", "(if (> x i3) i1 i2)");
    check_expr("1e5", "n100000");
    /* tokens that look at the next byte, at the very end of the input */
    static const char *const at_end[][2] = {
        {"10 m/s", "q(10 m/s)"}, {"2.A.1.c", "c2.A.1.c"}, {"5 kg", "q(5 kg)"}, {"x matches /a/i", "(matches x /a/i)"},
    };
    for (size_t i = 0; i < sizeof at_end / sizeof *at_end; i++) {
        diag_source src = {"e", at_end[i][0], strlen(at_end[i][0])};
        ar_arena a;
        ar_init(&a, 1024);
        diag_list d;
        diag_init(&d);
        ast_expr *e = ast_parse_expr(&src, src.text, src.len, (diag_loc){&src, 1, 1}, &a, &d);
        assert_int_equal(d.len, 0);
        assert_string_equal(sx(e), at_end[i][1]);
        diag_free(&d);
        ar_free(&a);
    }
}

static void test_codes_and_ranges(void **state)
{
    (void)state;
    check_expr("19.A.1.kind", "(. c19.A.1 kind)");
    check_expr("19.A.1.number == 19", "(== (. c19.A.1 number) i19)");
    check_expr("2.A.1.c.kind", "(. c2.A.1.c kind)");
    check_expr("1.5", "n1.5");
    check_expr("x in 1..2", "(in x (.. i1 i2))");
    check_expr("x in 0.5..1.5", "(in x (.. n0.5 n1.5))");
    check_expr("x in 1 .. 2", "(in x (.. i1 i2))");
    check_expr("x in 2000-01-01..2010-12-31", "(in x (.. d2000-01-01 d2010-12-31))");
    check_expr("x in 1 kg..2 kg", "(in x (.. q(1 kg) q(2 kg)))");
}

static void test_strings_and_escapes(void **state)
{
    (void)state;
    check_expr("\"a\\\"b\"", "\"a\\x22b\"");
    check_expr("\"a\\\\b\"", "\"a\\x5Cb\"");
    check_expr("\"a\\nb\\tc\"", "\"a\\x0Ab\\x09c\"");
    check_expr("\"\\u{7B}\\u{41}\"", "\"{A\"");
    check_expr("\"\\u{E9}\"", "\"\\xC3\\xA9\"");
    check_expr("\"\\u{20AC}\"", "\"\\xE2\\x82\\xAC\"");
    check_expr("\"\\u{1F600}\"", "\"\\xF0\\x9F\\x98\\x80\"");
    check_expr("\"{braces} are text here\"", "\"{braces} are text here\"");
    check_expr("\"caf\xC3\xA9\"", "\"caf\\xC3\\xA9\"");

    /* a NUL written as \u{0} is kept, with the length */
    parsed *p = parse_ok("module t; let x = \"a\\u{0}b\";");
    const ast_expr *e = p->file->decls[0]->expr;
    assert_int_equal(e->len, 3);
    assert_memory_equal(e->str, "a\0b", 3);
    done(p);

    check_expr_error("\"bad \\q\"", "2:14: unknown escape '\\q' in a string");
    check_expr_error("\"\\u{D800}\"", "2:10: \\u{D800} is not a Unicode character");
    check_expr_error("\"\\u{110000}\"", "2:10: \\u{110000} is not a Unicode character");
    check_expr_error("\"\\u{}\"", "2:10: malformed \\u escape");
    check_expr_error("\"\\u41\"", "2:10: malformed \\u escape");
    check_expr_error(".5 + 1", "2:9: '.5' is not a number");
    check_expr_error("x in 0..5", "");
}

static void test_contextual_keywords(void **state)
{
    (void)state;
    parsed *p = parse_ok("module t;\n"
                         "record r { id: string required; kind: string; from: country; at: date;\n"
                         "  column: string column \"column\"; required: bool required; }\n"
                         "set s of string { since, until, given; }\n"
                         "set s2 of string { since since 2000-01-01; until, since until 2001-01-01; }\n"
                         "commitment c { applies to starts; binds from == kind; }\n"
                         "let starts = kind starts with from;\n"
                         "enum kind { no, clear, deny }\n");
    const ast_file *f = p->file;
    const ast_decl *r = f->decls[0];
    assert_int_equal(r->nfields, 6);
    assert_string_equal(r->fields[1].name, "kind");
    assert_string_equal(r->fields[2].name, "from");
    assert_string_equal(r->fields[3].name, "at");
    assert_string_equal(r->fields[4].name, "column");
    assert_string_equal(r->fields[4].column, "column");
    assert_string_equal(r->fields[5].name, "required");
    assert_int_equal(r->fields[5].required, 1);

    const ast_decl *s = f->decls[1];
    assert_int_equal(s->ngroups, 1);
    assert_int_equal(s->groups[0].nmembers, 3);
    assert_string_equal(sx(s->groups[0].members[0]), "since");
    assert_string_equal(sx(s->groups[0].members[1]), "until");
    assert_null(s->groups[0].since);

    const ast_decl *s2 = f->decls[2];
    assert_int_equal(s2->ngroups, 2);
    assert_string_equal(sx(s2->groups[0].members[0]), "since");
    assert_string_equal(sx(s2->groups[0].since), "d2000-01-01");
    assert_int_equal(s2->groups[1].nmembers, 2);
    assert_string_equal(sx(s2->groups[1].members[1]), "since");
    assert_null(s2->groups[1].since);
    assert_string_equal(sx(s2->groups[1].until), "d2001-01-01");

    const ast_decl *c = f->decls[3];
    assert_string_equal(c->applies_to.name, "starts");
    assert_string_equal(sx(c->binds), "(== from kind)");
    assert_string_equal(f->decls[4]->name, "starts");
    assert_string_equal(sx(f->decls[4]->expr), "(starts with kind from)");
    assert_string_equal(f->decls[5]->name, "kind");
    assert_string_equal(f->decls[5]->members[1].name, "clear");
    done(p);
}

static void test_set_groups_trailing_comma(void **state)
{
    (void)state;
    parsed *p = parse_ok("module t;\n"
                         "set a of country { FR, DE, since 2000-01-01; }\n"
                         "set b of country { FR, until 2000-01-01; GB; }\n"
                         "set c of int { 1, -2, 3; }\n"
                         "set d of code { 1.A.1, 2.A.1.c; }\n"
                         "set e of country {}\n");
    const ast_file *f = p->file;
    assert_int_equal(f->decls[0]->groups[0].nmembers, 2);
    assert_string_equal(sx(f->decls[0]->groups[0].since), "d2000-01-01");
    assert_int_equal(f->decls[1]->ngroups, 2);
    assert_int_equal(f->decls[1]->groups[0].nmembers, 1);
    assert_string_equal(sx(f->decls[1]->groups[0].until), "d2000-01-01");
    assert_string_equal(sx(f->decls[2]->groups[0].members[1]), "(neg i2)");
    assert_string_equal(sx(f->decls[3]->groups[0].members[1]), "c2.A.1.c");
    assert_int_equal(f->decls[4]->ngroups, 0);
    done(p);
}

static void test_tests_and_expects(void **state)
{
    (void)state;
    parsed *p = parse_ok("module t;\n"
                         "test named \"title\" {\n"
                         "  expect clear;\n"
                         "  expect rejected;\n"
                         "  expect prohibit;\n"
                         "  given m.transfer { kind: \"x\", date: \"2015-02-30\", payload: missing, n: -3, };\n"
                         "}\n"
                         "test { }\n"
                         "test only_name { expect notify; expect finding c.r; expect finding c.r; }\n");
    const ast_decl *t = p->file->decls[0];
    assert_string_equal(t->name, "named");
    assert_string_equal(t->title, "title");
    assert_int_equal(t->nexpects, 3);
    assert_int_equal(t->expects[0].kind, EXPECT_SEVERITY);
    assert_int_equal(t->expects[0].sev, SEV_CLEAR);
    assert_int_equal(t->expects[1].kind, EXPECT_REJECTED);
    assert_int_equal(t->expects[2].sev, SEV_PROHIBIT);
    assert_string_equal(t->given_record.name, "m.transfer");
    assert_int_equal(t->ngiven, 4);
    assert_string_equal(t->given[0].name, "kind");
    assert_string_equal(sx(t->given[1].value), "\"2015-02-30\"");
    assert_string_equal(sx(t->given[2].value), "missing");
    assert_string_equal(sx(t->given[3].value), "(neg i3)");
    const ast_decl *t2 = p->file->decls[1];
    assert_null(t2->name);
    assert_null(t2->title);
    assert_null(t2->given_record.name);
    assert_int_equal(t2->nexpects, 0);
    const ast_decl *t3 = p->file->decls[2];
    assert_string_equal(t3->name, "only_name");
    assert_null(t3->title);
    assert_int_equal(t3->nexpects, 3); /* expect may repeat */
    done(p);
}

static void test_commitment_clauses(void **state)
{
    (void)state;
    parsed *p = parse_ok("module t;\n"
                         "commitment c {\n"
                         "  rule r { unless x; then notify \"n\"; when y; cite \"C\"; }\n"
                         "  kind national; until 2030-01-01; effective 2000-01-01;\n"
                         "  rule s { when z; then prohibit; }\n"
                         "  applies to m.rec;\n"
                         "}\n"
                         "const k: mass = 5 kg;\n");
    const ast_decl *c = p->file->decls[0];
    assert_null(c->title);
    assert_int_equal(c->ckind, KIND_NATIONAL);
    assert_string_equal(sx(c->until), "d2030-01-01");
    assert_string_equal(sx(c->effective), "d2000-01-01");
    assert_string_equal(c->applies_to.name, "m.rec");
    assert_null(c->binds);
    assert_null(c->cite);
    assert_int_equal(c->nrules, 2);
    assert_string_equal(sx(c->rules[0].unless), "x");
    assert_string_equal(sx(c->rules[0].when), "y");
    assert_int_equal(c->rules[0].then_sev, SEV_NOTIFY);
    assert_int_equal(c->rules[0].then_msg->nparts, 1);
    assert_string_equal(c->rules[0].then_msg->parts[0].text, "n");
    assert_string_equal(c->rules[0].cite, "C");
    assert_int_equal(c->rules[0].has_if_unknown, 0);
    assert_int_equal(c->rules[1].then_sev, SEV_PROHIBIT);
    assert_int_equal(c->rules[1].loc.line, 5);
    assert_int_equal(c->rules[1].loc.col, 3);
    assert_string_equal(p->file->decls[1]->type.name, "mass");
    done(p);
}

/* ---- messages ------------------------------------------------------------------------ */

static const ast_message *then_msg(parsed *p)
{
    assert_true(p->file->ndecls >= 1);
    assert_int_equal(p->file->decls[0]->nrules, 1);
    return p->file->decls[0]->rules[0].then_msg;
}

static parsed *rule_with(const char *then)
{
    char src[1024];
    snprintf(src, sizeof src, "module t;\ncommitment c { rule r { when x;\n    %s\n} }\n", then);
    return parse(src);
}

static void test_messages(void **state)
{
    (void)state;
    parsed *p = rule_with("then deny \"{payload * 2} kg\";");
    assert_int_equal(p->diags.len, 0);
    const ast_message *m = then_msg(p);
    assert_int_equal(m->loc.line, 3);
    assert_int_equal(m->loc.col, 15);
    assert_int_equal(m->nparts, 2);
    assert_string_equal(sx(m->parts[0].expr), "(* payload i2)");
    assert_int_equal(m->parts[0].expr->loc.line, 3);
    assert_int_equal(m->parts[0].expr->loc.col, 17);
    assert_int_equal(m->parts[0].expr->op_loc.col, 25);
    assert_string_equal(m->parts[1].text, " kg");
    done(p);

    /* {{ }} are braces; \u{7B} writes a '{' that opens nothing */

    p = rule_with("then deny \"{{literal}} \\u{7B}x}} {a.b}\";");
    assert_int_equal(p->diags.len, 0);
    m = then_msg(p);
    assert_int_equal(m->nparts, 2);
    assert_string_equal(m->parts[0].text, "{literal} {x} ");
    assert_string_equal(sx(m->parts[1].expr), "(. a b)");
    assert_int_equal(m->parts[1].expr->loc.col, 39);
    done(p);

    /* escapes are text: \" and \\ do not end or open anything */
    p = rule_with("then deny \"say \\\"{x}\\\" \\\\{y}\";");
    assert_int_equal(p->diags.len, 0);
    m = then_msg(p);
    assert_int_equal(m->nparts, 4);
    assert_string_equal(m->parts[0].text, "say \"");
    assert_string_equal(sx(m->parts[1].expr), "x");
    assert_string_equal(m->parts[2].text, "\" \\");
    assert_string_equal(sx(m->parts[3].expr), "y");
    done(p);

    /* if unknown messages interpolate too; the empty message has no parts */
    p = parse("module t;\ncommitment c { rule r { when x; then deny \"\"; if unknown review \"{missing(x)}!\"; } }\n");
    assert_int_equal(p->diags.len, 0);
    const ast_rule *r = &p->file->decls[0]->rules[0];
    assert_non_null(r->then_msg);
    assert_int_equal(r->then_msg->nparts, 0);
    assert_int_equal(r->unknown_msg->nparts, 2);
    assert_string_equal(sx(r->unknown_msg->parts[0].expr), "(call missing x)");
    assert_string_equal(r->unknown_msg->parts[1].text, "!");
    done(p);

    /* elsewhere braces are plain text */
    p = parse_ok("module t;\ncommitment c { cite \"{not} {{interpolated\"; rule r { when x; cite \"{y}\"; then deny; } }\n");
    assert_string_equal(p->file->decls[0]->cite, "{not} {{interpolated");
    assert_string_equal(p->file->decls[0]->rules[0].cite, "{y}");
    done(p);
}

static void test_message_errors(void **state)
{
    (void)state;
    parsed *p = rule_with("then deny \"a {x + } b\";");
    assert_int_equal(p->diags.len, 1);
    assert_string_equal(dg(p, 0), "3:23: unexpected end of the {...} expression, expected an expression");
    done(p);

    p = rule_with("then deny \"a {x\";");
    assert_int_equal(p->diags.len, 1);
    assert_string_equal(dg(p, 0), "3:18: '{' in a message is never closed");
    assert_string_equal(p->diags.items[0].hint, "write {{ for a literal '{'");
    done(p);

    p = rule_with("then deny \"a } b {}\";");
    assert_int_equal(p->diags.len, 2);
    assert_string_equal(dg(p, 0), "3:18: '}' in a message closes no '{'");
    assert_string_equal(dg(p, 1), "3:22: empty {} in a message");
    done(p);

    p = rule_with("then deny \"{\\\"s\\\"}\";");
    assert_int_equal(p->diags.len, 1);
    assert_string_equal(dg(p, 0), "3:17: a {...} in a message holds an expression without strings");
    done(p);

    p = rule_with("then deny \"{a {b}}\";");
    assert_true(p->diags.len >= 1);
    assert_string_equal(dg(p, 0), "3:19: '{' inside a {...} of a message");
    done(p);

    p = rule_with("then deny \"{x $ y}\";");
    assert_true(p->diags.len >= 1);
    assert_string_equal(dg(p, 0), "3:19: unexpected character '$'");
    done(p);
}

/* ---- errors --------------------------------------------------------------------------- */

static void test_several_syntax_errors(void **state)
{
    (void)state;
    parsed *p = parse("module t;\n"                                   /* 1 */
                      "const a = 1\n"                                 /* 2: missing ';' */
                      "const b = 2;\n"                                /* 3 */
                      "enum e { x y }\n"                              /* 4: missing ',' */
                      "record r {\n"                                  /* 5 */
                      "  id: string required\n"                       /* 6: missing ';' */
                      "  date: date required;\n"                      /* 7 */
                      "}\n"                                           /* 8 */
                      "commitment c {\n"                              /* 9 */
                      "  applies to r;\n"                             /* 10 */
                      "  rule one { when a == ; then deny; }\n"       /* 11: no right side */
                      "  rule two { when b then deny; }\n"            /* 12: missing ';' */
                      "}\n"                                           /* 13 */
                      "let ok = 3;\n");                               /* 14 */
    assert_int_equal(p->diags.len, 5);
    assert_int_equal(p->diags.nerrors, 5);
    assert_string_equal(dg(p, 0), "2:12: expected ';' at the end of this line");
    assert_string_equal(dg(p, 1), "4:12: unexpected identifier 'y', expected string, '}' or ','");
    assert_string_equal(dg(p, 2), "6:22: expected ';' at the end of this line");
    assert_string_equal(dg(p, 3), "11:24: unexpected ';', expected an expression");
    assert_string_equal(dg(p, 4), "12:21: unexpected 'then', expected ';'");
    /* the parts around the errors are still there */
    assert_string_equal(p->file->decls[0]->name, "b");
    const ast_decl *c = decl_named(p->file, "c");
    assert_int_equal(c->nrules, 2);
    assert_int_equal(c->rules[0].then_sev, SEV_DENY);
    assert_int_equal(c->rules[1].then_sev, SEV_DENY);
    assert_string_equal(c->applies_to.name, "r");
    assert_string_equal(decl_named(p->file, "ok")->name, "ok");
    assert_int_equal(decl_named(p->file, "r")->nfields, 1);
    done(p);
}

static void test_error_format_and_kgs(void **state)
{
    (void)state;
    parsed *p = parse("module t;\nconst a = 500 kgs;\n");
    assert_int_equal(p->diags.len, 1);
    assert_string_equal(dg(p, 0), "2:15: unexpected identifier 'kgs', expected ';'");
    char *s = diag_format(&p->diags.items[0], 0);
    assert_string_equal(s, "t.mtcr:2:15: error: unexpected identifier 'kgs', expected ';'\n"
                           "  const a = 500 kgs;\n"
                           "                ^\n"
                           "  hint: 'kgs' is not a unit; did you mean 'kg'?\n");
    mtcr_xfree(s);
    done(p);

    check_expr_error("10 foo", "2:12: unexpected identifier 'foo', expected ';'");
    check_expr_error("a b", "2:11: unexpected identifier 'b', expected ';'");
}

static void test_keyword_suggestions(void **state)
{
    (void)state;
    parsed *p = parse("module t;\n"
                      "comitment c {\n"
                      "  applies to r;\n"
                      "}\n"
                      "commitment d { rule r { whn x; then dny; } }\n"
                      "test { expect finding c.r; expect prohibt; expect denied; }\n");
    assert_int_equal(p->diags.len, 5);
    assert_string_equal(dg(p, 0), "2:1: unexpected identifier 'comitment'");
    assert_string_equal(p->diags.items[0].hint, "did you mean 'commitment'?");
    assert_string_equal(dg(p, 1), "5:25: unexpected identifier 'whn', expected 'if', 'then', 'cite', 'when', 'unless' or '}'");
    assert_string_equal(p->diags.items[1].hint, "did you mean 'when'?");
    assert_string_equal(dg(p, 2), "5:37: unexpected identifier 'dny', expected 'ignore', 'clear', 'notify', "
                                  "'review', 'deny' or 'prohibit'");
    assert_string_equal(p->diags.items[2].hint, "did you mean 'deny'?");
    assert_string_equal(dg(p, 3), "6:35: unexpected identifier 'prohibt'");
    assert_string_equal(p->diags.items[3].hint, "did you mean 'prohibit'?");
    /* too far from every keyword: no hint */
    assert_string_equal(dg(p, 4), "6:51: unexpected identifier 'denied'");
    assert_null(p->diags.items[4].hint);
    done(p);
}

static void test_lexical_errors(void **state)
{
    (void)state;
    parsed *p = parse("module t;\n"
                      "let a = 1. ;\n"
                      "let b = x # 2;\n"
                      "let c = x matches //;\n"
                      "let d = \"open\n"
                      "let e = x && y;\n"
                      "let f = \xE2\x80\x9Cq\xE2\x80\x9D;\n"
                      "let g = x matches /abc\n"
                      "let h = 99999999999999999999;\n"
                      "let i = 1;\n"
                      "/* not closed\n");
    const char *want[] = {
        "2:9: '1.' is not a number",
        "3:11: unexpected character '#'",
        "3:13: unexpected integer '2', expected ';'",
        "4:19: empty regular expression",
        "5:9: unterminated string",
        "5:14: expected ';' at the end of this line",
        "6:11: unexpected character '&'",
        "6:12: unexpected character '&'",
        "6:14: unexpected identifier 'y', expected ';'",
        "7:9: unexpected character '\xE2\x80\x9C'",
        "7:13: unexpected character '\xE2\x80\x9D'",
        "8:19: unterminated regular expression",
        "8:23: expected ';' at the end of this line",
        "9:9: integer 99999999999999999999 is too large",
        "11:1: unterminated comment: '/*' without '*/'",
    };
    size_t n = sizeof want / sizeof *want;
    for (size_t i = 0; i < p->diags.len && i < n; i++)
        assert_string_equal(dg(p, i), want[i]);
    assert_int_equal(p->diags.len, n);
    assert_non_null(decl_named(p->file, "i"));
    done(p);
}

static void test_duplicate_clauses(void **state)
{
    (void)state;
    parsed *p = parse("module t;\n"
                      "commitment c {\n"
                      "  applies to r; cite \"a\";\n"
                      "  rule x { when a; when b; then deny; cite \"1\"; cite \"2\"; then review; }\n"
                      "  applies to s;\n"
                      "}\n"
                      "record r { id: string required required; n: int column \"a\" in kg column \"b\"; }\n"
                      "test { given r { id: \"1\" }; given r { id: \"2\" }; expect deny; expect deny; }\n"
                      "test { given r { id: \"1\", id: \"2\" }; expect ignore; }\n");
    const char *want[] = {
        "4:20: 'when' is given twice in rule 'x'",
        "4:49: 'cite' is given twice in rule 'x'",
        "4:59: 'then' is given twice in rule 'x'",
        "5:3: 'applies to' is given twice in commitment 'c'",
        "7:32: 'required' is given twice in field 'id'",
        "7:66: 'column' is given twice in field 'n'",
        "8:29: 'given' is given twice in test ''",
        "9:27: field 'id' is given twice",
        "9:45: 'ignore' is not a verdict",
    };
    size_t n = sizeof want / sizeof *want;
    diag_sort(&p->diags);
    for (size_t i = 0; i < p->diags.len && i < n; i++)
        assert_string_equal(dg(p, i), want[i]);
    assert_int_equal(p->diags.len, n);
    assert_string_equal(p->diags.items[0].hint, "the first is at 4:12; a rule has at most one 'when'");
    const ast_decl *c = p->file->decls[0];
    assert_string_equal(c->applies_to.name, "r"); /* the first one stands */
    assert_string_equal(sx(c->rules[0].when), "a");
    assert_int_equal(c->rules[0].then_sev, SEV_DENY);
    assert_string_equal(c->rules[0].cite, "1");
    assert_int_equal(p->file->decls[2]->nexpects, 2);
    assert_int_equal(p->file->decls[3]->ngiven, 1);
    done(p);
}

static void test_missing_module_and_recovery_at_eof(void **state)
{
    (void)state;
    /* no `module` line: the checker reports it; the declarations still parse */
    parsed *p = parse_ok("const a = 1;\nlet b = a;\n");
    assert_null(p->file->module);
    assert_int_equal(p->file->ndecls, 2);
    done(p);

    p = parse("module t\nconst a = 1;\n");
    assert_int_equal(p->diags.len, 1);
    assert_string_equal(dg(p, 0), "1:9: expected ';' at the end of this line");
    assert_string_equal(p->file->module, "t");
    assert_int_equal(p->file->ndecls, 1);
    done(p);

    p = parse("module t;\ncommitment c { rule r { when x;");
    assert_int_equal(p->diags.len, 1);
    assert_string_equal(dg(p, 0), "2:32: unexpected end of file, expected 'if', 'then', 'cite', 'when', 'unless' or '}'");
    done(p);

    p = parse("");
    assert_int_equal(p->diags.len, 0);
    assert_int_equal(p->file->ndecls, 0);
    done(p);
}

static void test_locations(void **state)
{
    (void)state;
    parsed *p = parse_ok("module t;\n"
                         "let x =\n"
                         "\t  a.b + c in S at d;\n");
    const ast_expr *e = p->file->decls[0]->expr;
    assert_int_equal(e->kind, AST_IN);
    assert_int_equal(e->loc.line, 3);
    assert_int_equal(e->loc.col, 4); /* bytes: the tab is one column */
    assert_int_equal(e->op_loc.col, 12);
    const ast_expr *add = e->lhs;
    assert_int_equal(add->loc.col, 4);
    assert_int_equal(add->op_loc.col, 8);
    assert_int_equal(add->lhs->kind, AST_DOT);
    assert_int_equal(add->lhs->loc.col, 4);
    assert_int_equal(add->lhs->op_loc.col, 6);
    assert_int_equal(e->at->loc.col, 20);
    assert_ptr_equal(e->loc.src, &p->src);
    done(p);
}

static void test_expr_entry_point(void **state)
{
    (void)state;
    diag_source src = {"m.mtcr", "xx {a + 1} yy", 13};
    ar_arena a;
    ar_init(&a, 1024);
    diag_list d;
    diag_init(&d);
    diag_loc at = {&src, 7, 20};
    ast_expr *e = ast_parse_expr(&src, src.text + 4, 5, at, &a, &d);
    assert_non_null(e);
    assert_string_equal(sx(e), "(+ a i1)");
    assert_int_equal(e->loc.line, 7);
    assert_int_equal(e->loc.col, 20);
    assert_int_equal(e->op_loc.col, 22);
    assert_int_equal(d.len, 0);
    e = ast_parse_expr(&src, "a +", 3, at, &a, &d);
    assert_null(e);
    assert_int_equal(d.len, 1);
    assert_int_equal(d.items[0].loc.col, 23);
    diag_free(&d);
    ar_free(&a);
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(ast_op_name(OP_OR), "or");
    assert_string_equal(ast_op_name(OP_NOT_IN), "not in");
    assert_string_equal(ast_op_name(OP_STARTS_WITH), "starts with");
    assert_string_equal(ast_op_name(OP_COALESCE), "??");
    assert_string_equal(ast_op_name(OP_LE), "<=");
    assert_string_equal(ast_op_name(OP_NEG), "-");
    assert_string_equal(ast_op_name((ast_op)999), "?");
    assert_string_equal(ast_severity_name(SEV_CLEAR), "clear");
    assert_string_equal(ast_severity_name(SEV_PROHIBIT), "prohibit");
    assert_string_equal(ast_severity_name(SEV_IGNORE), "ignore");
}

/* The standard library parses without a diagnostic (when run from the checkout). */
static void test_stdlib_parses(void **state)
{
    (void)state;
    static const char *const files[] = {"stdlib/mtcr/annex.mtcr", "stdlib/mtcr/guidelines.mtcr",
                                        "stdlib/mtcr/partners.mtcr", "stdlib/countries.mtcr",
                                        "stdlib/hcoc.mtcr", "stdlib/china/pledge2000.mtcr",
                                        "stdlib/sanctions/us.mtcr"};
    FILE *probe = fopen(files[0], "rb");
    if (!probe)
        skip();
    fclose(probe);
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        FILE *f = fopen(files[i], "rb");
        assert_non_null(f);
        char *buf = malloc(1 << 20);
        assert_non_null(buf);
        size_t n = fread(buf, 1, (1 << 20) - 1, f);
        fclose(f);
        buf[n] = '\0';
        parsed *p = parse_ok(buf);
        assert_non_null(p->file->module);
        assert_true(p->file->ndecls > 0);
        done(p);
        free(buf);
    }
}

/* ---- out of memory ------------------------------------------------------------------- */

static long fail_at, nalloc;

static void *oom_realloc(void *ud, void *p, size_t n)
{
    (void)ud;
    if (++nalloc == fail_at)
        return NULL;
    return realloc(p, n);
}

static void oom_free(void *ud, void *p)
{
    (void)ud;
    free(p);
}

/* Failing each allocation in turn gives NULL or a whole tree, never a crash or a
 * leak (the sanitizer build checks the leaks). */
static void test_out_of_memory(void **state)
{
    (void)state;
    static const char text[] = "module t;\nconst a = 500 kg;\nset s of string { \"x\" since 2000-01-01; }\n"
                               "commitment c { applies to r; rule x { when a > 1 kg; then deny \"{a} and {s}\"; } }\n";
    mtcr_allocator al = {oom_realloc, oom_free, NULL};
    int succeeded = 0;
    for (fail_at = 1; fail_at < 400 && !succeeded; fail_at++) {
        nalloc = 0;
        mtcr_set_allocator(&al);
        diag_source src = {"t.mtcr", text, sizeof text - 1};
        ar_arena a;
        ar_init(&a, 256);
        diag_list d;
        diag_init(&d);
        ast_file *f = ast_parse(&src, &a, &d);
        if (f && d.len == 0 && !d.oom && nalloc < fail_at) {
            succeeded = 1;
            assert_int_equal(f->ndecls, 3);
            assert_int_equal(f->decls[2]->rules[0].then_msg->nparts, 3);
        }
        diag_free(&d);
        ar_free(&a);
        mtcr_set_allocator(NULL);
    }
    assert_true(succeeded);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_example_header_and_simple_decls),
        cmocka_unit_test(test_example_sets_and_record),
        cmocka_unit_test(test_example_let_commitment_test),
        cmocka_unit_test(test_precedence),
        cmocka_unit_test(test_tests_and_in),
        cmocka_unit_test(test_if_and_calls),
        cmocka_unit_test(test_literals),
        cmocka_unit_test(test_quantities),
        cmocka_unit_test(test_codes_and_ranges),
        cmocka_unit_test(test_strings_and_escapes),
        cmocka_unit_test(test_contextual_keywords),
        cmocka_unit_test(test_set_groups_trailing_comma),
        cmocka_unit_test(test_tests_and_expects),
        cmocka_unit_test(test_commitment_clauses),
        cmocka_unit_test(test_messages),
        cmocka_unit_test(test_message_errors),
        cmocka_unit_test(test_several_syntax_errors),
        cmocka_unit_test(test_error_format_and_kgs),
        cmocka_unit_test(test_keyword_suggestions),
        cmocka_unit_test(test_lexical_errors),
        cmocka_unit_test(test_duplicate_clauses),
        cmocka_unit_test(test_missing_module_and_recovery_at_eof),
        cmocka_unit_test(test_locations),
        cmocka_unit_test(test_expr_entry_point),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_stdlib_parses),
        cmocka_unit_test(test_out_of_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
