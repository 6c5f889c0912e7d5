/* ast.h — the syntax tree that the parser builds and the checker reads.
 *
 * Contract: the parser only builds these nodes (thin grammar actions); it does no
 * name resolution and no typing.  Every node carries the location of its first
 * token.  All nodes, strings and arrays live in the arena of the ast_file; lists
 * are (pointer, count) pairs.  Literal text is already decoded (escapes applied,
 * `1_000` read as 1000, `3.33%` as 0.0333).
 */
#ifndef MTCR_AST_H
#define MTCR_AST_H

#include <stddef.h>
#include <stdint.h>

#include "../runtime/arena.h"
#include "../compiler/diag.h"

/* ---- expressions ---------------------------------------------------------- */

typedef enum {
    AST_INT,      /* ival */
    AST_NUMBER,   /* dval (percent literals already divided by 100) */
    AST_QTY,      /* dval in `unit` as written (not converted): 500 kg -> dval 500, unit "kg" */
    AST_STRING,   /* str, len (decoded) */
    AST_DATE,     /* year, month, day as written; validity is checked by the checker */
    AST_CODE,     /* str: the code as written, e.g. "2.A.1.c" */
    AST_BOOL,     /* ival 0/1 */
    AST_MISSING,  /* the keyword `missing` used as a value */
    AST_NAME,     /* str: an identifier (or contextual keyword used as one) */
    AST_DOT,      /* a.name: lhs, str = name; covers qualified names and .number/.kind */
    AST_UNARY,    /* op (OP_NEG, OP_NOT), lhs */
    AST_BINARY,   /* op, lhs, rhs — every binary operator except the ones below */
    AST_IN,       /* lhs in rhs [at at]; op is OP_IN or OP_NOT_IN; rhs is any expr,
                     AST_RANGE or AST_LIST (checked afterwards) */
    AST_RANGE,    /* lhs .. rhs (only as the right side of in) */
    AST_LIST,     /* [items] (only as the right side of in) */
    AST_MATCHES,  /* lhs matches /str/ (regex source with \/ already turned into /); icase */
    AST_IF,       /* if cond then lhs else rhs */
    AST_CALL,     /* str = built-in name, args */
} ast_expr_kind;

typedef enum {
    OP_NONE,
    OP_OR, OP_AND, OP_NOT,
    OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE,
    OP_IN, OP_NOT_IN, OP_UNDER, OP_CONTAINS, OP_STARTS_WITH,
    OP_COALESCE, /* ?? */
    OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_NEG,
} ast_op;

typedef struct ast_expr ast_expr;
struct ast_expr {
    ast_expr_kind kind;
    ast_op op;
    diag_loc loc;
    int64_t ival;
    double dval;
    const char *str; /* NUL-terminated; len also given because strings may hold NUL */
    size_t len;
    const char *unit; /* AST_QTY */
    int year, month, day; /* AST_DATE */
    int icase;            /* AST_MATCHES */
    ast_expr *lhs, *rhs, *cond, *at;
    ast_expr **items; /* AST_LIST items, AST_CALL args */
    size_t nitems;
    /* Where the operator stands (AST_BINARY, AST_IN, AST_RANGE: the
     * operator token, `not` for `not in`; AST_MATCHES: the regex literal; AST_UNARY, AST_IF, AST_CALL, AST_LIST:
     * same as loc) and, for AST_DOT, the name after the dot.  `loc` stays the
     * first token of the whole expression. */
    diag_loc op_loc;
};

/* A message of `then` / `if unknown`: literal text and `{expr}` parts in order. */
typedef struct {
    const char *text; /* decoded text of a text part, NULL for an expression part */
    size_t len;
    ast_expr *expr;
} ast_msg_part;

typedef struct {
    diag_loc loc;
    ast_msg_part *parts;
    size_t nparts;
} ast_message;

/* A (possibly dotted) name in a type or reference position: `mtcr.annex.transfer`,
 * `guidelines.cat1_rare_occasions`. */
typedef struct {
    diag_loc loc;
    const char *name; /* dotted text, e.g. "mtcr.annex.transfer" */
} ast_ref;

/* ---- declarations ---------------------------------------------------------- */

typedef enum {
    SEV_CLEAR, SEV_NOTIFY, SEV_REVIEW, SEV_DENY, SEV_PROHIBIT,
    SEV_IGNORE /* only in `if unknown ignore` */
} ast_severity;

typedef enum { KIND_NONE, KIND_MULTILATERAL, KIND_BILATERAL, KIND_UNILATERAL, KIND_NATIONAL } ast_ckind;

typedef struct {
    diag_loc loc;
    const char *name;
    const char *title; /* NULL when absent */
} ast_member;

typedef struct {
    diag_loc loc;
    ast_expr **members;
    size_t nmembers;
    ast_expr *since, *until; /* AST_DATE or NULL */
} ast_set_group;

typedef struct {
    diag_loc loc;
    const char *name;
    ast_ref type;         /* type name as written */
    const char *unit;     /* `in UNIT`, NULL when absent */
    diag_loc unit_loc;
    const char *column;   /* `column "Header"`, NULL when absent */
    int required;
} ast_field;

typedef struct {
    diag_loc loc;
    const char *name;
    const char *title;
    const char *cite;
    ast_expr *when, *unless;
    ast_severity then_sev;
    diag_loc then_loc;        /* the `then` keyword (line 0: no `then`) */
    ast_message *then_msg;    /* NULL: default message */
    int has_if_unknown;
    diag_loc if_unknown_loc;
    ast_severity unknown_sev; /* SEV_IGNORE allowed */
    ast_message *unknown_msg;
} ast_rule;

typedef struct {
    diag_loc loc;
    const char *name;
    ast_expr *value;
} ast_given_field;

typedef enum {
    EXPECT_SEVERITY, /* expect deny;  (sev; SEV_CLEAR for `expect clear`) */
    EXPECT_FINDING,  /* expect finding C.R; */
    EXPECT_NO_FINDING,
    EXPECT_REJECTED,
} ast_expect_kind;

typedef struct {
    diag_loc loc;
    ast_expect_kind kind;
    ast_severity sev;
    ast_ref rule; /* for FINDING / NO_FINDING */
} ast_expect;

typedef enum {
    DECL_CONST, DECL_ENUM, DECL_SET, DECL_RECORD, DECL_LET, DECL_COMMITMENT, DECL_TEST,
} ast_decl_kind;

typedef struct ast_decl ast_decl;
struct ast_decl {
    ast_decl_kind kind;
    diag_loc loc;
    const char *name;  /* NULL for an unnamed test */
    const char *title; /* NULL when absent */

    /* const, let: optional annotation and the expression */
    ast_ref type; /* type.name NULL when absent; also the element type of a set */
    ast_expr *expr;

    /* enum */
    ast_member *members;
    size_t nmembers;

    /* set */
    int normalized;
    ast_set_group *groups;
    size_t ngroups;
    const char *from_file;   /* `from "file.csv" column "c"`: NULL when literal */
    const char *from_column;
    diag_loc from_loc;

    /* record */
    ast_field *fields;
    size_t nfields;

    /* commitment */
    ast_ref applies_to; /* name NULL when missing (the checker reports it) */
    ast_expr *binds;
    ast_expr *effective, *until; /* AST_DATE or NULL */
    const char *cite;
    ast_ckind ckind;
    ast_rule *rules;
    size_t nrules;

    /* test */
    ast_ref given_record; /* name NULL when the test has no given */
    ast_given_field *given;
    size_t ngiven;
    ast_expect *expects;
    size_t nexpects;
};

typedef struct {
    diag_loc loc;
    const char *module; /* dotted module name, for `import a.b;` */
    const char *path;   /* file path, for `import "x.mtcr";` (exactly one of the two is set) */
} ast_import;

/* One parsed source file. */
typedef struct {
    const diag_source *src;
    const char *module; /* NULL if the file lacks `module x;` (reported as an error) */
    diag_loc module_loc;
    ast_import *imports;
    size_t nimports;
    ast_decl **decls;
    size_t ndecls;
} ast_file;

/* Parse one source file.  Every syntax error is appended to `diags` (the parser
 * recovers at the next declaration).  Returns the file (possibly partial) or
 * NULL on out of memory.  The tree lives in `arena`. */
ast_file *ast_parse(const diag_source *src, ar_arena *arena, diag_list *diags);

/* Parse a single expression (used for `{expr}` parts of messages, with
 * locations offset to where the text stands in the source).  NULL on error
 * (diagnostics appended). */
ast_expr *ast_parse_expr(const diag_source *src, const char *text, size_t len, diag_loc at,
                         ar_arena *arena, diag_list *diags);

const char *ast_op_name(ast_op op);           /* "+", "and", "starts with", ... */
const char *ast_severity_name(ast_severity s); /* "deny", "ignore", ... */

#endif
