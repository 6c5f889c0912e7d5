/* parser.y — the grammar of the rule language (LANGUAGE.md sections 3, 5, 10).
 *
 * Pure (reentrant) LALR(1) parser with locations.  Actions only build nodes,
 * through the ax_* constructors of parser/ast.c; they resolve no names and check
 * no types.  Every node, string and list lives in the arena of the parse, so a
 * value dropped during error recovery leaks nothing and no %destructor is needed.
 *
 * Two entry points share the grammar: the lexer first returns START_FILE (a whole
 * file) or START_EXPR (one expression: the `{expr}` parts of messages).
 *
 * Error recovery: every list of items (declarations, commitment clauses, rule
 * clauses, test clauses, record fields, set groups, given fields) has an
 * `items error` alternative.  After an error the parser pops back to the nearest
 * such list and skips tokens until one can start the next item or close the list,
 * so a missing ';' loses nothing and every later declaration is still parsed.
 */

%define api.pure full
%define api.prefix {mtcr_yy}
%define parse.error custom
%define parse.lac full
%locations
%param {void *scanner}
%parse-param {struct ax_ctx *ctx}

%code requires {
#include <stddef.h>
#include "parser/ast.h"

/* Strings and words as the lexer hands them over.  For a string token, s/len is
 * the decoded text and raw/rawlen the text between the quotes as written (a
 * message is split on the raw text, LANGUAGE.md section 2). */
typedef struct ax_str {
    const char *s;
    size_t len;
    const char *raw;
    size_t rawlen;
} ax_str;

/* Arena-allocated singly linked list, built left to right. */
typedef struct ax_node {
    void *item;
    struct ax_node *next;
} ax_node;
typedef struct {
    ax_node *head, *tail;
    size_t n;
} ax_seq;

/* One clause of a commitment, rule, test or record field, folded into its
 * declaration by ast.c (which reports clauses given twice). */
typedef enum {
    AXC_APPLIES, AXC_BINDS, AXC_EFFECTIVE, AXC_UNTIL, AXC_CITE, AXC_KIND, AXC_RULE,
    AXC_WHEN, AXC_UNLESS, AXC_THEN, AXC_IF_UNKNOWN,
    AXC_GIVEN, AXC_EXPECT,
    AXC_UNIT, AXC_COLUMN, AXC_REQUIRED,
} ax_clause_kind;

typedef struct ax_clause {
    ax_clause_kind kind;
    diag_loc loc;
    ast_expr *expr;
    ast_ref ref;
    const char *str;
    int ival;
    diag_loc loc2;
    ast_message *msg;
    ast_rule *rule;
    ax_seq list;
    ast_expect *expect;
} ax_clause;

struct ax_ctx;
}

%code provides {
#include <setjmp.h>

#ifndef YYSTYPE
#define YYSTYPE MTCR_YYSTYPE
#endif
#ifndef YYLTYPE
#define YYLTYPE MTCR_YYLTYPE
#endif

/* The state of one parse, shared by the parser, the scanner (as its extra data)
 * and the node constructors of ast.c. */
typedef struct ax_ctx {
    const diag_source *src;
    ar_arena *arena;
    diag_list *diags;
    const char *text; /* the bytes being scanned (the file, or one `{expr}`) */
    size_t len;
    size_t pos_off;   /* text[pos_off] stands at pos_line:pos_col of src */
    int pos_line, pos_col;
    int start_tok;    /* START_FILE / START_EXPR, returned by the first yylex */
    int lex_done;     /* an unterminated comment ended the input */
    size_t tok_off, tok_len; /* the last token returned, for error messages */
    int oom;
    jmp_buf *fatal;   /* where the scanner's fatal errors (out of memory) go */
    int in_setup;     /* the scanner's buffer is being set up: allocations are recorded */
    int nsetup;
    void *setup_allocs[4]; /* what flex allocated during setup, freed if setup fails */
    int expr_mode;    /* parsing one `{expr}` of a message */
    ast_file *file;
    ax_seq imports, decls;
    ast_expr *expr;   /* START_EXPR result */
} ax_ctx;

/* ---- used by the scanner ---- */
diag_loc ax_loc(ax_ctx *c, const YYLTYPE *l);
diag *ax_error(ax_ctx *c, diag_loc at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
ast_expr *ax_new(ax_ctx *c, ast_expr_kind k, diag_loc at);
/* Decode the escapes of raw string text; errors (when `report`) point into the
 * text, whose first byte stands at `at`.  Never NULL unless out of memory. */
char *ax_decode(ax_ctx *c, const char *raw, size_t n, diag_loc at, int report, size_t *outlen);
void ax_token_text(ax_ctx *c, const char *what, char *buf, size_t n);
/* `comparison`: the unexpected token is a comparison operator (they do not chain). */
void ax_syntax_error(ax_ctx *c, const YYLTYPE *l, const char *unexpected, const char *expected,
                     int comparison, const char *const *keywords, size_t nkeywords);
void ax_parser_failure(ax_ctx *c, const YYLTYPE *l, const char *msg);

/* ---- grammar actions ---- */
ax_seq ax_seq_one(ax_ctx *c, void *item);
ax_seq ax_seq_add(ax_ctx *c, ax_seq s, void *item);
void ax_set_module(ax_ctx *c, const ast_ref *name, diag_loc at);
void ax_add_import(ax_ctx *c, ast_import *im);
void ax_add_decl(ax_ctx *c, ast_decl *d);
ast_import *ax_import(ax_ctx *c, const char *module, const char *path, diag_loc at);
ast_ref ax_ref(ax_ctx *c, const ast_ref *prefix, const ax_str *name, diag_loc at);
ax_str ax_str_join(ax_ctx *c, const ax_str *a, const char *sep, const ax_str *b);
ast_decl *ax_decl_value(ax_ctx *c, ast_decl_kind k, const ax_str *name, const ast_ref *type,
                        ast_expr *e, diag_loc at);
ast_decl *ax_decl_enum(ax_ctx *c, const ax_str *name, const ax_str *title, const ax_seq *members,
                       diag_loc at);
ast_member *ax_member(ax_ctx *c, const ax_str *name, const ax_str *title, diag_loc at);
ast_decl *ax_decl_set(ax_ctx *c, const ax_str *name, const ast_ref *type, int normalized,
                      const ax_str *title, const ax_seq *groups, diag_loc at);
ast_decl *ax_decl_set_file(ax_ctx *c, const ax_str *name, const ast_ref *type, int normalized,
                           const ax_str *title, const ax_str *file, const ax_str *column,
                           diag_loc from_at, diag_loc at);
ast_set_group *ax_group_tail(ax_ctx *c, ast_expr *since, ast_expr *until);
ast_set_group *ax_group(ax_ctx *c, const ax_seq *members, ast_set_group *tail, diag_loc at);
ast_decl *ax_decl_record(ax_ctx *c, const ax_str *name, const ax_str *title, const ax_seq *fields,
                         diag_loc at);
ast_field *ax_field(ax_ctx *c, const ax_str *name, const ast_ref *type, const ax_seq *opts, diag_loc at);
ast_message *ax_message(ax_ctx *c, const ax_str *s, const YYLTYPE *at);
ast_decl *ax_decl_commitment(ax_ctx *c, const ax_str *name, const ax_str *title, const ax_seq *items,
                             diag_loc at);
ax_clause *ax_rule(ax_ctx *c, const ax_str *name, const ax_str *title, const ax_seq *items, diag_loc at);
ast_decl *ax_decl_test(ax_ctx *c, const ax_str *name, const ax_str *title, const ax_seq *items,
                       diag_loc at);
ax_clause *ax_clause_str(ax_ctx *c, ax_clause_kind k, const char *s, diag_loc at);
ax_clause *ax_clause_ref(ax_ctx *c, ax_clause_kind k, const ast_ref *r, diag_loc at);
ax_clause *ax_clause_expr(ax_ctx *c, ax_clause_kind k, ast_expr *e, diag_loc at);
ax_clause *ax_clause_int(ax_ctx *c, ax_clause_kind k, int v, diag_loc at);
ax_clause *ax_clause_sev(ax_ctx *c, ax_clause_kind k, int sev, const ax_str *msg, const YYLTYPE *msg_at,
                         diag_loc at);
ax_clause *ax_clause_given(ax_ctx *c, const ast_ref *record, const ax_seq *fields, diag_loc at);
ax_clause *ax_clause_expect(ax_ctx *c, ast_expect_kind k, int sev, const ast_ref *rule, diag_loc at,
                            diag_loc what_at);
ast_given_field *ax_given(ax_ctx *c, const ax_str *name, ast_expr *value, diag_loc at);
ast_expr *ax_if(ax_ctx *c, ast_expr *cond, ast_expr *a, ast_expr *b, diag_loc at);
ast_expr *ax_binary(ax_ctx *c, int op, ast_expr *a, ast_expr *b, diag_loc op_at);
ast_expr *ax_unary(ax_ctx *c, int op, ast_expr *a, diag_loc at);
ast_expr *ax_in(ax_ctx *c, int op, ast_expr *a, ast_expr *rhs, diag_loc op_at);
ast_expr *ax_at(ax_ctx *c, ast_expr *set, ast_expr *date, diag_loc at);
ast_expr *ax_range(ax_ctx *c, ast_expr *lo, ast_expr *hi, diag_loc op_at);
ast_expr *ax_list(ax_ctx *c, const ax_seq *items, diag_loc at);
ast_expr *ax_matches(ax_ctx *c, ast_expr *a, ast_expr *re, diag_loc op_at);
ast_expr *ax_dot(ax_ctx *c, ast_expr *a, const ax_str *name, diag_loc name_at);
ast_expr *ax_name(ax_ctx *c, const ax_str *name, diag_loc at);
ast_expr *ax_leaf(ax_ctx *c, ast_expr_kind k, diag_loc at);
ast_expr *ax_call(ax_ctx *c, const char *name, const ax_seq *args, diag_loc at);
ast_expr *ax_string(ax_ctx *c, const ax_str *s, diag_loc at);
ast_expr *ax_bool(ax_ctx *c, int v, diag_loc at);
}

%code {
#include <stdio.h>
#include <string.h>
#include "lexer.h"

#define L(l) ax_loc(ctx, &(l))
static void yyerror(YYLTYPE *loc, void *scanner, struct ax_ctx *ctx, const char *msg);
/* Deep nesting is an error, not a deep C stack in the checker later. */
#define YYMAXDEPTH 2000
#define YYMALLOC mtcr_xmalloc
#define YYFREE mtcr_xfree
}

%union {
    ast_expr *expr;
    ax_str str;
    ax_seq seq;
    ax_clause *cl;
    ast_ref ref;
    int ival;
    ast_decl *decl;
    ast_import *imp;
    ast_set_group *grp;
    ast_field *fld;
}

%token START_FILE START_EXPR

/* reserved keywords */
%token MODULE "module" IMPORT "import" CONST "const" ENUM "enum" SET "set" RECORD "record"
%token LET "let" IF "if" THEN "then" ELSE "else" MISSING "missing" COMMITMENT "commitment"
%token RULE "rule" TEST "test" IN "in" NOT "not" AND "and" OR "or" UNDER "under"
%token MATCHES "matches" CONTAINS "contains" TRUE "true" FALSE "false"

/* contextual keywords: tokens of their own, identifiers through `ident` */
%token <str> OF "of" FROM "from" COLUMN "column" REQUIRED "required" SINCE "since"
%token <str> UNTIL "until" AT "at" APPLIES "applies" TO "to" BINDS "binds"
%token <str> EFFECTIVE "effective" CITE "cite" KIND "kind" MULTILATERAL "multilateral"
%token <str> BILATERAL "bilateral" UNILATERAL "unilateral" NATIONAL "national"
%token <str> WHEN "when" UNLESS "unless" UNKNOWN "unknown" IGNORE "ignore" GIVEN "given"
%token <str> EXPECT "expect" FINDING "finding" NO "no" CLEAR "clear" NOTIFY "notify"
%token <str> REVIEW "review" DENY "deny" PROHIBIT "prohibit" REJECTED "rejected"
%token <str> STARTS "starts" WITH "with" NORMALIZED "normalized"

/* literals (the lexer builds their nodes) */
%token <str> IDENT "identifier" STRING "string"
%token <expr> INT "integer" NUMBER "number" QTY "quantity" DATE "date"
%token <expr> CODE "control-list code" REGEX "regular expression"

%token EQ "==" NE "!=" LE "<=" GE ">=" COALESCE "??" DOTDOT ".."

%type <str> ident title_opt name_opt
%type <ref> tref dotted
%type <expr> expr or_expr and_expr not_expr cmp_expr coal_expr add_expr mul_expr unary
%type <expr> postfix primary literal in_rhs set_member
%type <seq> args arglist list_items members groups fields field_opts enum_members enum_list
%type <seq> citems ritems titems given_fields given_list
%type <cl> citem ritem titem field_opt rule
%type <fld> field
%type <grp> group
%type <ival> severity ckind normalized_opt cmpop
%type <str> unit
%type <decl> decl
%type <imp> import
%type <grp> group_tail

%start start

%%

start
    : START_FILE file
    | START_EXPR expr                  { ctx->expr = $2; }
    ;

file
    : header items
    ;

header
    : %empty
    | MODULE dotted ';'                { ax_set_module(ctx, &$2, L(@1)); }
    | MODULE dotted error              { ax_set_module(ctx, &$2, L(@1)); }
    | MODULE error
    ;

items
    : %empty
    | items import                     { ax_add_import(ctx, $2); }
    | items decl                       { ax_add_decl(ctx, $2); }
    | items error
    ;

import
    : kw_import dotted ';'                { $$ = ax_import(ctx, $2.name, NULL, L(@1)); }
    | kw_import STRING ';'                { $$ = ax_import(ctx, NULL, $2.s, L(@1)); }
    ;

/* ---- names ------------------------------------------------------------------- */

ident
    : IDENT | OF | FROM | COLUMN | REQUIRED | SINCE | UNTIL | AT | APPLIES | TO | BINDS
    | EFFECTIVE | CITE | KIND | MULTILATERAL | BILATERAL | UNILATERAL | NATIONAL | WHEN
    | UNLESS | UNKNOWN | IGNORE | GIVEN | EXPECT | FINDING | NO | CLEAR | NOTIFY | REVIEW
    | DENY | PROHIBIT | REJECTED | STARTS | WITH | NORMALIZED
    ;

dotted
    : ident                            { $$ = ax_ref(ctx, NULL, &$1, L(@1)); }
    | dotted '.' ident                 { $$ = ax_ref(ctx, &$1, &$3, $1.loc); }
    ;

tref
    : dotted
    ;

title_opt
    : %empty                           { $$ = (ax_str){0}; }
    | STRING
    ;

name_opt
    : %empty                           { $$ = (ax_str){0}; }
    | ident
    ;

/* ---- declarations ------------------------------------------------------------ */

decl
    : kw_const ident ':' tref '=' expr ';' { $$ = ax_decl_value(ctx, DECL_CONST, &$2, &$4, $6, L(@1)); }
    | kw_const ident '=' expr ';'          { $$ = ax_decl_value(ctx, DECL_CONST, &$2, NULL, $4, L(@1)); }
    | kw_let ident ':' tref '=' expr ';'   { $$ = ax_decl_value(ctx, DECL_LET, &$2, &$4, $6, L(@1)); }
    | kw_let ident '=' expr ';'            { $$ = ax_decl_value(ctx, DECL_LET, &$2, NULL, $4, L(@1)); }
    | kw_enum ident title_opt '{' enum_members '}'
                                        { $$ = ax_decl_enum(ctx, &$2, &$3, &$5, L(@1)); }
    | kw_set ident OF tref normalized_opt title_opt '{' groups '}'
                                        { $$ = ax_decl_set(ctx, &$2, &$4, $5, &$6, &$8, L(@1)); }
    | kw_set ident OF tref normalized_opt title_opt FROM STRING COLUMN STRING ';'
                                        { $$ = ax_decl_set_file(ctx, &$2, &$4, $5, &$6, &$8, &$10, L(@7), L(@1)); }
    | kw_record ident title_opt '{' fields '}'
                                        { $$ = ax_decl_record(ctx, &$2, &$3, &$5, L(@1)); }
    | kw_commitment ident title_opt '{' citems '}'
                                        { $$ = ax_decl_commitment(ctx, &$2, &$3, &$5, L(@1)); }
    | kw_test name_opt title_opt '{' titems '}'
                                        { $$ = ax_decl_test(ctx, &$2, &$3, &$5, L(@1)); }
    ;

enum_members
    : %empty                           { $$ = (ax_seq){0}; }
    | enum_list
    | enum_list ','
    ;

enum_list
    : ident title_opt                  { $$ = ax_seq_one(ctx, ax_member(ctx, &$1, &$2, L(@1))); }
    | enum_list ',' ident title_opt    { $$ = ax_seq_add(ctx, $1, ax_member(ctx, &$3, &$4, L(@3))); }
    ;

normalized_opt
    : %empty                           { $$ = 0; }
    | NORMALIZED                       { $$ = 1; }
    ;

/* A group ends with ';'.  Spelling out the optional trailing comma lets a member
 * be called `since` or `until` (LALR(1) sees the date after the keyword). */
groups
    : %empty                           { $$ = (ax_seq){0}; }
    | groups group                     { $$ = ax_seq_add(ctx, $1, $2); }
    | groups error                     { $$ = $1; }
    ;

group
    : members group_tail               { $$ = ax_group(ctx, &$1, $2, L(@1)); }
    | members ',' group_tail           { $$ = ax_group(ctx, &$1, $3, L(@1)); }
    ;

group_tail
    : ';'                              { $$ = ax_group_tail(ctx, NULL, NULL); }
    | SINCE DATE ';'                   { $$ = ax_group_tail(ctx, $2, NULL); }
    | UNTIL DATE ';'                   { $$ = ax_group_tail(ctx, NULL, $2); }
    | SINCE DATE UNTIL DATE ';'        { $$ = ax_group_tail(ctx, $2, $4); }
    ;

members
    : set_member                       { $$ = ax_seq_one(ctx, $1); }
    | members ',' set_member           { $$ = ax_seq_add(ctx, $1, $3); }
    ;

set_member
    : literal
    | ident                            { $$ = ax_name(ctx, &$1, L(@1)); }
    | '-' literal                      { $$ = ax_unary(ctx, OP_NEG, $2, L(@1)); }
    ;

fields
    : %empty                           { $$ = (ax_seq){0}; }
    | fields field                     { $$ = ax_seq_add(ctx, $1, $2); }
    | fields error                     { $$ = $1; }
    ;

field
    : ident ':' tref field_opts ';'    { $$ = ax_field(ctx, &$1, &$3, &$4, L(@1)); }
    ;

field_opts
    : %empty                           { $$ = (ax_seq){0}; }
    | field_opts field_opt             { $$ = ax_seq_add(ctx, $1, $2); }
    ;

field_opt
    : IN unit                          { $$ = ax_clause_str(ctx, AXC_UNIT, $2.s, L(@1)); if ($$) $$->loc2 = L(@2); }
    | COLUMN STRING                    { $$ = ax_clause_str(ctx, AXC_COLUMN, $2.s, L(@1)); }
    | REQUIRED                         { $$ = ax_clause_str(ctx, AXC_REQUIRED, NULL, L(@1)); }
    ;

/* `m/s` and `km/h` after `in` are three tokens: the lexer only joins them after a number. */
unit
    : ident
    | ident '/' ident                  { $$ = ax_str_join(ctx, &$1, "/", &$3); }
    ;

/* ---- commitments and rules ------------------------------------------------------ */

citems
    : %empty                           { $$ = (ax_seq){0}; }
    | citems citem                     { $$ = ax_seq_add(ctx, $1, $2); }
    | citems error                     { $$ = $1; }
    ;

citem
    : kw_applies TO tref ';'              { $$ = ax_clause_ref(ctx, AXC_APPLIES, &$3, L(@1)); }
    | kw_binds expr ';'                   { $$ = ax_clause_expr(ctx, AXC_BINDS, $2, L(@1)); }
    | kw_effective DATE ';'               { $$ = ax_clause_expr(ctx, AXC_EFFECTIVE, $2, L(@1)); }
    | kw_until DATE ';'                   { $$ = ax_clause_expr(ctx, AXC_UNTIL, $2, L(@1)); }
    | kw_cite STRING ';'                  { $$ = ax_clause_str(ctx, AXC_CITE, $2.s, L(@1)); }
    | kw_kind ckind ';'                   { $$ = ax_clause_int(ctx, AXC_KIND, $2, L(@1)); }
    | rule
    ;

ckind
    : MULTILATERAL                     { $$ = KIND_MULTILATERAL; }
    | BILATERAL                        { $$ = KIND_BILATERAL; }
    | UNILATERAL                       { $$ = KIND_UNILATERAL; }
    | NATIONAL                         { $$ = KIND_NATIONAL; }
    ;

rule
    : kw_rule ident title_opt '{' ritems '}'  { $$ = ax_rule(ctx, &$2, &$3, &$5, L(@1)); }
    ;

ritems
    : %empty                           { $$ = (ax_seq){0}; }
    | ritems ritem                     { $$ = ax_seq_add(ctx, $1, $2); }
    | ritems error                     { $$ = $1; }
    ;

ritem
    : kw_when expr ';'                    { $$ = ax_clause_expr(ctx, AXC_WHEN, $2, L(@1)); }
    | kw_unless expr ';'                  { $$ = ax_clause_expr(ctx, AXC_UNLESS, $2, L(@1)); }
    | kw_cite STRING ';'                  { $$ = ax_clause_str(ctx, AXC_CITE, $2.s, L(@1)); }
    | kw_then severity ';'                { $$ = ax_clause_sev(ctx, AXC_THEN, $2, NULL, NULL, L(@1)); }
    | kw_then severity STRING ';'         { $$ = ax_clause_sev(ctx, AXC_THEN, $2, &$3, &@3, L(@1)); }
    | kw_if UNKNOWN severity ';'          { $$ = ax_clause_sev(ctx, AXC_IF_UNKNOWN, $3, NULL, NULL, L(@1)); }
    | kw_if UNKNOWN severity STRING ';'   { $$ = ax_clause_sev(ctx, AXC_IF_UNKNOWN, $3, &$4, &@4, L(@1)); }
    ;

/* Every severity word is accepted here; which one a clause allows (`then ignore`,
 * `then clear`, `expect ignore`) is reported with a precise message later. */
severity
    : CLEAR                            { $$ = SEV_CLEAR; }
    | NOTIFY                           { $$ = SEV_NOTIFY; }
    | REVIEW                           { $$ = SEV_REVIEW; }
    | DENY                             { $$ = SEV_DENY; }
    | PROHIBIT                         { $$ = SEV_PROHIBIT; }
    | IGNORE                           { $$ = SEV_IGNORE; }
    ;

/* ---- tests ----------------------------------------------------------------------- */

titems
    : %empty                           { $$ = (ax_seq){0}; }
    | titems titem                     { $$ = ax_seq_add(ctx, $1, $2); }
    | titems error                     { $$ = $1; }
    ;

titem
    : kw_given tref '{' given_fields '}' ';'  { $$ = ax_clause_given(ctx, &$2, &$4, L(@1)); }
    | kw_expect severity ';'              { $$ = ax_clause_expect(ctx, EXPECT_SEVERITY, $2, NULL, L(@1), L(@2)); }
    | kw_expect FINDING tref ';'          { $$ = ax_clause_expect(ctx, EXPECT_FINDING, 0, &$3, L(@1), L(@2)); }
    | kw_expect NO FINDING tref ';'       { $$ = ax_clause_expect(ctx, EXPECT_NO_FINDING, 0, &$4, L(@1), L(@2)); }
    | kw_expect REJECTED ';'              { $$ = ax_clause_expect(ctx, EXPECT_REJECTED, 0, NULL, L(@1), L(@2)); }
    ;

given_fields
    : %empty                           { $$ = (ax_seq){0}; }
    | given_list
    | given_list ','
    ;

given_list
    : ident ':' expr                   { $$ = ax_seq_one(ctx, ax_given(ctx, &$1, $3, L(@1))); }
    | given_list ',' ident ':' expr    { $$ = ax_seq_add(ctx, $1, ax_given(ctx, &$3, $5, L(@3))); }
    ;

/* ---- expressions (LANGUAGE.md section 5, loosest first) -------------------------- */

expr
    : IF expr THEN expr ELSE expr      { $$ = ax_if(ctx, $2, $4, $6, L(@1)); }
    | or_expr
    ;

or_expr
    : or_expr OR and_expr              { $$ = ax_binary(ctx, OP_OR, $1, $3, L(@2)); }
    | and_expr
    ;

and_expr
    : and_expr AND not_expr            { $$ = ax_binary(ctx, OP_AND, $1, $3, L(@2)); }
    | not_expr
    ;

not_expr
    : NOT not_expr                     { $$ = ax_unary(ctx, OP_NOT, $2, L(@1)); }
    | cmp_expr
    ;

/* Comparisons and tests do not chain: each side is a `??` expression. */
cmp_expr
    : coal_expr
    | coal_expr cmpop coal_expr        { $$ = ax_binary(ctx, $2, $1, $3, L(@2)); }
    | coal_expr UNDER coal_expr        { $$ = ax_binary(ctx, OP_UNDER, $1, $3, L(@2)); }
    | coal_expr CONTAINS coal_expr     { $$ = ax_binary(ctx, OP_CONTAINS, $1, $3, L(@2)); }
    | coal_expr STARTS WITH coal_expr  { $$ = ax_binary(ctx, OP_STARTS_WITH, $1, $4, L(@2)); }
    | coal_expr IN in_rhs              { $$ = ax_in(ctx, OP_IN, $1, $3, L(@2)); }
    | coal_expr NOT IN in_rhs          { $$ = ax_in(ctx, OP_NOT_IN, $1, $4, L(@2)); }
    | coal_expr MATCHES REGEX          { $$ = ax_matches(ctx, $1, $3, L(@2)); }
    ;

cmpop
    : EQ                               { $$ = OP_EQ; }
    | NE                               { $$ = OP_NE; }
    | '<'                              { $$ = OP_LT; }
    | LE                               { $$ = OP_LE; }
    | '>'                              { $$ = OP_GT; }
    | GE                               { $$ = OP_GE; }
    ;

/* The right side of `in`: a set (any additive expression, checked later), a set
 * at a date, an inclusive range or a list.  ax_in takes the AT node apart. */
in_rhs
    : add_expr
    | add_expr AT add_expr             { $$ = ax_at(ctx, $1, $3, L(@2)); }
    | add_expr DOTDOT add_expr         { $$ = ax_range(ctx, $1, $3, L(@2)); }
    | '[' list_items ']'               { $$ = ax_list(ctx, &$2, L(@1)); }
    ;

list_items
    : %empty                           { $$ = (ax_seq){0}; }
    | args
    | args ','
    ;

args
    : expr                             { $$ = ax_seq_one(ctx, $1); }
    | args ',' expr                    { $$ = ax_seq_add(ctx, $1, $3); }
    ;

coal_expr
    : coal_expr COALESCE add_expr      { $$ = ax_binary(ctx, OP_COALESCE, $1, $3, L(@2)); }
    | add_expr
    ;

add_expr
    : add_expr '+' mul_expr            { $$ = ax_binary(ctx, OP_ADD, $1, $3, L(@2)); }
    | add_expr '-' mul_expr            { $$ = ax_binary(ctx, OP_SUB, $1, $3, L(@2)); }
    | mul_expr
    ;

mul_expr
    : mul_expr '*' unary               { $$ = ax_binary(ctx, OP_MUL, $1, $3, L(@2)); }
    | mul_expr '/' unary               { $$ = ax_binary(ctx, OP_DIV, $1, $3, L(@2)); }
    | unary
    ;

unary
    : '-' unary                        { $$ = ax_unary(ctx, OP_NEG, $2, L(@1)); }
    | postfix
    ;

/* One rule covers qualified names (`mtcr.annex.x`) and `.number` / `.kind`. */
postfix
    : primary
    | postfix '.' ident                { $$ = ax_dot(ctx, $1, &$3, L(@3)); }
    ;

primary
    : literal
    | ident                            { $$ = ax_name(ctx, &$1, L(@1)); }
    | MISSING                          { $$ = ax_leaf(ctx, AST_MISSING, L(@1)); }
    | '(' expr ')'                     { $$ = $2; }
    | ident '(' arglist ')'            { $$ = ax_call(ctx, $1.s, &$3, L(@1)); }
    | MISSING '(' arglist ')'          { $$ = ax_call(ctx, "missing", &$3, L(@1)); }
    ;

arglist
    : %empty                           { $$ = (ax_seq){0}; }
    | args
    ;

literal
    : INT | NUMBER | QTY | DATE | CODE
    | STRING                           { $$ = ax_string(ctx, &$1, L(@1)); }
    | TRUE                             { $$ = ax_bool(ctx, 1, L(@1)); }
    | FALSE                            { $$ = ax_bool(ctx, 0, L(@1)); }
    ;

/* The first token of a declaration or clause ends error recovery (yyerrok): an
 * error right after a resynchronisation is reported too, not swallowed by
 * bison's three-token rule. */
kw_const         : CONST       { yyerrok; } ;
kw_let           : LET         { yyerrok; } ;
kw_enum          : ENUM        { yyerrok; } ;
kw_set           : SET         { yyerrok; } ;
kw_record        : RECORD      { yyerrok; } ;
kw_commitment    : COMMITMENT  { yyerrok; } ;
kw_test          : TEST        { yyerrok; } ;
kw_import        : IMPORT      { yyerrok; } ;
kw_applies       : APPLIES     { yyerrok; } ;
kw_binds         : BINDS       { yyerrok; } ;
kw_effective     : EFFECTIVE   { yyerrok; } ;
kw_until         : UNTIL       { yyerrok; } ;
kw_cite          : CITE        { yyerrok; } ;
kw_kind          : KIND        { yyerrok; } ;
kw_rule          : RULE        { yyerrok; } ;
kw_when          : WHEN        { yyerrok; } ;
kw_unless        : UNLESS      { yyerrok; } ;
kw_then          : THEN        { yyerrok; } ;
kw_if            : IF          { yyerrok; } ;
kw_given         : GIVEN       { yyerrok; } ;
kw_expect        : EXPECT      { yyerrok; } ;

%%

/* Syntax errors read "unexpected identifier 'kgs', expected ';'": keywords and
 * punctuation in quotes, literals by kind, identifiers with their text.  A
 * contextual keyword is an identifier too, so when `identifier` is expected the
 * keywords are not listed one by one. */
static int ax_is_literal_sym(yysymbol_kind_t s)
{
    switch (s) {
    case YYSYMBOL_IDENT: case YYSYMBOL_STRING: case YYSYMBOL_INT: case YYSYMBOL_NUMBER:
    case YYSYMBOL_QTY: case YYSYMBOL_DATE: case YYSYMBOL_CODE: case YYSYMBOL_REGEX:
    case YYSYMBOL_YYEOF: case YYSYMBOL_YYUNDEF: case YYSYMBOL_YYerror:
        return 1;
    default:
        return 0;
    }
}

static int ax_is_contextual_sym(yysymbol_kind_t s)
{
    return s >= YYSYMBOL_OF && s <= YYSYMBOL_NORMALIZED;
}

/* Whether s is one of the (up to five) character tokens, named as bison names them. */
static int ax_sym_in(yysymbol_kind_t s, const char *a, const char *b, const char *c, const char *d, const char *e)
{
    const char *name = yysymbol_name(s);
    const char *set[5] = {a, b, c, d, e};
    for (int i = 0; i < 5; i++)
        if (set[i] && strcmp(name, set[i]) == 0)
            return 1;
    return 0;
}

static void ax_sym_text(char *buf, size_t n, yysymbol_kind_t s)
{
    const char *name = yysymbol_name(s);
    if (ax_is_literal_sym(s) || name[0] == '\'')
        snprintf(buf, n, "%s", s == YYSYMBOL_YYEOF ? "end of file" : name);
    else
        snprintf(buf, n, "'%s'", name);
}

static int yyreport_syntax_error(const yypcontext_t *yyctx, void *scanner, struct ax_ctx *ctx)
{
    (void)scanner;
    enum { MAXEXP = 64, SHOW = 6 };
    yysymbol_kind_t exp[MAXEXP];
    int n = yypcontext_expected_tokens(yyctx, exp, MAXEXP);
    int has_ident = 0, has_int = 0;
    for (int i = 0; i < n; i++) {
        has_ident |= exp[i] == YYSYMBOL_IDENT;
        has_int |= exp[i] == YYSYMBOL_INT;
    }
    yysymbol_kind_t show[SHOW];
    int ns = 0, too_many = n == 0;
    for (int i = 0; i < n && !too_many; i++) {
        if (has_ident && ax_is_contextual_sym(exp[i]))
            continue;
        if (ns == SHOW)
            too_many = 1;
        else
            show[ns++] = exp[i];
    }
    char unexpected[160];
    yysymbol_kind_t la = yypcontext_token(yyctx);
    if (la == YYSYMBOL_IDENT)
        ax_token_text(ctx, "identifier", unexpected, sizeof unexpected);
    else if (la == YYSYMBOL_INT || la == YYSYMBOL_NUMBER || la == YYSYMBOL_QTY)
        ax_token_text(ctx, yysymbol_name(la), unexpected, sizeof unexpected);
    else
        ax_sym_text(unexpected, sizeof unexpected, la);

    /* After a complete expression every operator is expected too; naming the
     * closing punctuation alone reads better ("expected ';'"). */
    if (too_many && !(has_ident && has_int)) {
        ns = 0;
        for (int i = 0; i < n && ns < SHOW; i++)
            if (ax_sym_in(exp[i], "';'", "','", "')'", "']'", "'}'") || exp[i] == YYSYMBOL_THEN ||
                exp[i] == YYSYMBOL_ELSE)
                show[ns++] = exp[i];
        too_many = ns == 0;
    }
    char expected[400];
    size_t off = 0;
    expected[0] = '\0';
    if (too_many && has_ident && has_int)
        snprintf(expected, sizeof expected, "an expression");
    else if (!too_many) {
        for (int i = 0; i < ns; i++) {
            char t[64];
            ax_sym_text(t, sizeof t, show[i]);
            int w = snprintf(expected + off, sizeof expected - off, "%s%s",
                             i == 0 ? "" : i == ns - 1 ? " or " : ", ", t);
            if (w < 0 || (size_t)w >= sizeof expected - off)
                break;
            off += (size_t)w;
        }
    }
    /* a comparison operator where `and` would fit: right after a complete comparison */
    int after_expr = 0;
    for (int i = 0; i < n; i++)
        after_expr |= exp[i] == YYSYMBOL_AND;
    int chained = after_expr && (la == YYSYMBOL_EQ || la == YYSYMBOL_NE || la == YYSYMBOL_LE ||
                                 la == YYSYMBOL_GE || ax_sym_in(la, "'<'", "'>'", NULL, NULL, NULL));
    /* the keywords that would fit here, to suggest one for a misspelled word */
    const char *kw[MAXEXP];
    size_t nkw = 0;
    for (int i = 0; i < n; i++) {
        const char *name = yysymbol_name(exp[i]);
        if (!ax_is_literal_sym(exp[i]) && name[0] >= 'a' && name[0] <= 'z')
            kw[nkw++] = name;
    }
    ax_syntax_error(ctx, yypcontext_location(yyctx), unexpected, expected, chained, kw, nkw);
    return 0;
}

static void yyerror(YYLTYPE *loc, void *scanner, struct ax_ctx *ctx, const char *msg)
{
    (void)scanner;
    ax_parser_failure(ctx, loc, msg);
}
