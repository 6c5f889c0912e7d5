/* test_interp.c — the interpreter on hand-built programs: Kleene logic, unknown
 * from overflow and division by zero, selections, sets with dates, rule outcomes
 * and verdicts.  (End-to-end behaviour from rule text is in test_api.c and the
 * golden cases.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "runtime/arena.h"
#include "runtime/program.h"

#define U UINT32_MAX

/* A record with three int fields (r0..r2), constants r3.. and temporaries after. */
typedef struct {
    pg_rules rules;
    pg_record rec;
    pg_field fields[3];
    pg_step steps[32];
    pg_val consts[8];
    pg_rule rule[4];
    pg_commitment com[1];
    int rule_ids[4];
} fixture;

static void fx_init(fixture *f)
{
    memset(f, 0, sizeof *f);
    for (int i = 0; i < 3; i++) {
        f->fields[i].name = i == 0 ? "a" : i == 1 ? "b" : "c";
        f->fields[i].type = PT_INT;
    }
    f->rec.name = "r";
    f->rec.fields = f->fields;
    f->rec.nfields = 3;
    f->rec.steps = f->steps;
    f->rec.consts = f->consts;
    f->rec.rules = f->rule_ids;
    f->rules.records = &f->rec;
    f->rules.nrecords = 1;
    f->rules.rules = f->rule;
    f->rules.commitments = f->com;
    f->rules.ncommitments = 1;
    f->com[0].name = "c";
}

static void step(fixture *f, pg_op op, uint32_t dst, uint32_t a, uint32_t b, uint32_t c)
{
    f->steps[f->rec.nsteps++] = (pg_step){(uint16_t)op, dst, a, b, c};
}

static pg_val K(int64_t i) { return (pg_val){.i = i, .known = 1}; }
static pg_val UNK(void) { return (pg_val){.known = 0}; }

/* Truth values: 0 false, 1 true, 2 unknown. */
static pg_val tv(int t) { return t == 2 ? UNK() : K(t); }
static int as_tv(pg_val v) { return v.known ? (int)v.i : 2; }

static void test_kleene_tables(void **state)
{
    (void)state;
    fixture f;
    fx_init(&f);
    f.rec.nregs = 3 + 3;
    step(&f, PG_AND, 3, 0, 1, U);
    step(&f, PG_OR, 4, 0, 1, U);
    step(&f, PG_NOT, 5, 0, U, U);
    pg_batch *b = pg_batch_new(&f.rules, &f.rec, 9);
    assert_non_null(b);
    b->nrows = 9;
    for (int x = 0; x < 3; x++)
        for (int y = 0; y < 3; y++) {
            b->regs[0][x * 3 + y] = tv(x);
            b->regs[1][x * 3 + y] = tv(y);
        }
    assert_int_equal(pg_interpret(b), 0);
    /* rows: a, b -> and, or */
    static const int want_and[3][3] = {{0, 0, 0}, {0, 1, 2}, {0, 2, 2}};
    static const int want_or[3][3] = {{0, 1, 2}, {1, 1, 1}, {2, 1, 2}};
    static const int want_not[3] = {1, 0, 2};
    for (int x = 0; x < 3; x++)
        for (int y = 0; y < 3; y++) {
            assert_int_equal(as_tv(b->regs[3][x * 3 + y]), want_and[x][y]);
            assert_int_equal(as_tv(b->regs[4][x * 3 + y]), want_or[x][y]);
            assert_int_equal(as_tv(b->regs[5][x * 3 + y]), want_not[x]);
        }
    pg_batch_free(b);
}

/* Logic steps that read each other keep their values as Kleene bytes only; the
 * values read back through pg_batch_value, and chains agree with the tables. */
static int k_and(int x, int y) { return x == 0 || y == 0 ? 0 : x == 2 || y == 2 ? 2 : 1; }
static int k_or(int x, int y) { return x == 1 || y == 1 ? 1 : x == 2 || y == 2 ? 2 : 0; }

static void test_kleene_chains(void **state)
{
    (void)state;
    fixture f;
    fx_init(&f);
    f.rec.nregs = 3 + 5;
    step(&f, PG_AND, 3, 0, 1, U);   /* a and b */
    step(&f, PG_OR, 4, 3, 2, U);    /* (a and b) or c */
    step(&f, PG_NOT, 5, 4, U, U);   /* not ((a and b) or c) */
    step(&f, PG_IS_TRUE, 6, 5, U, U);
    step(&f, PG_NOT_FALSE, 7, 4, U, U);
    pg_batch *b = pg_batch_new(&f.rules, &f.rec, 27);
    assert_non_null(b);
    assert_false(b->use[3] & PG_USE_VAL); /* read by logic steps only */
    assert_true(b->use[3] & PG_USE_KLEENE);
    b->nrows = 27;
    for (int r = 0; r < 27; r++) {
        b->regs[0][r] = tv(r / 9);
        b->regs[1][r] = tv(r / 3 % 3);
        b->regs[2][r] = tv(r % 3);
    }
    assert_int_equal(pg_interpret(b), 0);
    for (int r = 0; r < 27; r++) {
        int x = r / 9, y = r / 3 % 3, z = r % 3; /* 0 false, 1 true, 2 unknown (tv) */
        int ab = k_and(x, y), o = k_or(ab, z), n = o == 2 ? 2 : !o;
        assert_int_equal(as_tv(pg_batch_value(b, 3, (size_t)r)), ab);
        assert_int_equal(as_tv(pg_batch_value(b, 4, (size_t)r)), o);
        assert_int_equal(as_tv(pg_batch_value(b, 5, (size_t)r)), n);
        assert_int_equal(as_tv(b->regs[6][r]), n == 1);        /* is_true: always known */
        assert_int_equal(as_tv(b->regs[7][r]), o != 0);        /* not_false */
    }
    pg_batch_free(b);
}

static void test_unknown_from_overflow_and_division(void **state)
{
    (void)state;
    fixture f;
    fx_init(&f);
    f.rec.nregs = 3 + 5;
    step(&f, PG_ADD_I, 3, 0, 1, U);
    step(&f, PG_MUL_I, 4, 0, 1, U);
    step(&f, PG_I2N, 5, 0, U, U);
    step(&f, PG_I2N, 6, 1, U, U);
    step(&f, PG_DIV_N, 7, 5, 6, U);
    pg_batch *b = pg_batch_new(&f.rules, &f.rec, 3);
    b->nrows = 3;
    b->regs[0][0] = K(INT64_MAX); b->regs[1][0] = K(1);
    b->regs[0][1] = K(6);         b->regs[1][1] = K(0);
    b->regs[0][2] = K(6);         b->regs[1][2] = K(3);
    assert_int_equal(pg_interpret(b), 0);
    assert_false(b->regs[3][0].known);            /* INT64_MAX + 1 overflows */
    assert_true(b->regs[3][1].known);
    assert_int_equal(b->regs[3][1].i, 6);
    assert_true(b->regs[4][2].known);
    assert_int_equal(b->regs[4][2].i, 18);
    assert_false(b->regs[7][1].known);            /* 6 / 0 */
    assert_true(b->regs[7][2].known);
    assert_true(b->regs[7][2].d == 2.0);
    pg_batch_free(b);
}

static void test_select_coalesce_known(void **state)
{
    (void)state;
    fixture f;
    fx_init(&f);
    f.rec.nregs = 3 + 4;
    step(&f, PG_SELECT, 3, 0, 1, 2);
    step(&f, PG_COALESCE, 4, 1, 2, U);
    step(&f, PG_KNOWN, 5, 1, U, U);
    step(&f, PG_NOT_FALSE, 6, 0, U, U);
    pg_batch *b = pg_batch_new(&f.rules, &f.rec, 3);
    b->nrows = 3;
    b->regs[0][0] = K(1);  b->regs[1][0] = K(10); b->regs[2][0] = K(20);
    b->regs[0][1] = K(0);  b->regs[1][1] = UNK(); b->regs[2][1] = K(20);
    b->regs[0][2] = UNK(); b->regs[1][2] = K(10); b->regs[2][2] = K(20);
    assert_int_equal(pg_interpret(b), 0);
    assert_int_equal(b->regs[3][0].i, 10);
    assert_int_equal(b->regs[3][1].i, 20);
    assert_false(b->regs[3][2].known);  /* if unknown then ... gives unknown */
    assert_int_equal(b->regs[4][0].i, 10);
    assert_int_equal(b->regs[4][1].i, 20); /* missing ?? 20 */
    assert_int_equal(as_tv(b->regs[5][1]), 0);
    assert_int_equal(as_tv(b->regs[6][1]), 0); /* binds false: not bound */
    assert_int_equal(as_tv(b->regs[6][2]), 1); /* binds unknown counts as bound */
    pg_batch_free(b);
}

static void test_time_varying_set(void **state)
{
    (void)state;
    fixture f;
    fx_init(&f);
    pg_member mem[2] = {{K(5), 0, 1}, {K(9), 1, 2}};
    pg_interval iv[3] = {{100, 200}, {INT32_MIN, 50}, {300, INT32_MAX}};
    pg_set set = {.name = "s", .type = PT_INT, .time_varying = 1, .members = mem, .nmembers = 2,
                  .ivls = iv, .nivls = 3};
    f.rules.sets = &set;
    f.rules.nsets = 1;
    f.rec.nregs = 3 + 2;
    step(&f, PG_IN_SET_AT, 3, 0, 0, 1);
    step(&f, PG_IN_SET, 4, 0, 0, U);
    pg_batch *b = pg_batch_new(&f.rules, &f.rec, 6);
    b->nrows = 6;
    int64_t who[6] = {5, 5, 5, 9, 9, 7};
    int64_t when[6] = {99, 100, 200, 49, 300, 150};
    int want[6] = {0, 1, 0, 1, 1, 0};
    for (int i = 0; i < 6; i++) {
        b->regs[0][i] = K(who[i]);
        b->regs[1][i] = K(when[i]);
    }
    assert_int_equal(pg_interpret(b), 0);
    for (int i = 0; i < 6; i++) {
        assert_int_equal(as_tv(b->regs[3][i]), want[i]); /* since inclusive, until exclusive */
        assert_int_equal(as_tv(b->regs[4][i]), who[i] != 7);
    }
    pg_batch_free(b);
}

static void test_rule_outcomes_and_verdict(void **state)
{
    (void)state;
    fixture f;
    fx_init(&f);
    /* r0 = gate, r1 = when, r2 = unless (already IS_TRUE'd) */
    f.rule[0] = (pg_rule){.name = "c.deny", .commitment = 0, .severity = PG_SEV_DENY,
                          .unknown_severity = PG_SEV_REVIEW};
    f.rule[1] = (pg_rule){.name = "c.quiet", .commitment = 0, .severity = PG_SEV_NOTIFY,
                          .unknown_severity = PG_SEV_IGNORE};
    f.rule_ids[0] = 0;
    f.rule_ids[1] = 1;
    f.rec.nrules = 2;
    f.rec.nregs = 3;
    step(&f, PG_RULE, 0, 0, 1, 2);
    step(&f, PG_RULE, 1, 0, 1, U);
    pg_batch *b = pg_batch_new(&f.rules, &f.rec, 5);
    b->nrows = 5;
    /* gate, when, unless */
    int rows[5][3] = {{1, 1, 0}, {1, 2, 0}, {0, 1, 0}, {1, 1, 1}, {1, 0, 0}};
    for (int i = 0; i < 5; i++) {
        b->regs[0][i] = K(rows[i][0]);
        b->regs[1][i] = tv(rows[i][1]);
        b->regs[2][i] = K(rows[i][2]);
    }
    b->rejected[4] = 1;
    assert_int_equal(pg_interpret(b), 0);
    assert_int_equal(b->outcome[0 * b->cap + 0], PG_FIRED);
    assert_int_equal(b->outcome[0 * b->cap + 1], PG_UNKNOWN);
    assert_int_equal(b->outcome[1 * b->cap + 1], PG_NONE); /* if unknown ignore */
    assert_int_equal(b->outcome[0 * b->cap + 2], PG_NONE); /* not bound */
    assert_int_equal(b->outcome[0 * b->cap + 3], PG_NONE); /* unless */
    assert_int_equal(b->outcome[1 * b->cap + 3], PG_FIRED); /* the other rule has no unless */
    assert_int_equal(b->outcome[0 * b->cap + 4], PG_NONE); /* rejected rows are not judged */
    assert_int_equal(b->verdict[0], PG_SEV_DENY);
    assert_int_equal(b->verdict[1], PG_SEV_REVIEW);
    assert_int_equal(b->verdict[2], PG_SEV_CLEAR);
    assert_int_equal(b->verdict[3], PG_SEV_NOTIFY);
    /* a disabled commitment gives no findings (tests scope commitments this way) */
    b->enabled[0] = 0;
    assert_int_equal(pg_interpret(b), 0);
    assert_int_equal(b->verdict[0], PG_SEV_CLEAR);
    pg_batch_free(b);
}

static void test_strings_and_codes(void **state)
{
    (void)state;
    fixture f;
    fx_init(&f);
    f.fields[0].type = PT_STR;
    f.fields[1].type = PT_STR;
    f.fields[2].type = PT_CODE;
    f.rec.nregs = 3 + 1 + 6;
    uint64_t c2a1;
    const char *why;
    assert_int_equal(val_parse_code("2.A.1", 5, &c2a1, &why), 0);
    f.consts[0] = (pg_val){.u = c2a1, .known = 1};
    f.rec.nconsts = 1;
    step(&f, PG_CONTAINS, 4, 0, 1, U);
    step(&f, PG_STARTS_WITH, 5, 0, 1, U);
    step(&f, PG_EQ_S, 6, 0, 1, U);
    step(&f, PG_UNDER, 7, 2, 3, U);
    step(&f, PG_NORMALIZE, 8, 0, U, U);
    step(&f, PG_CODE_NUMBER, 9, 2, U, U);
    pg_batch *b = pg_batch_new(&f.rules, &f.rec, 2);
    b->nrows = 2;
    b->regs[0][0] = (pg_val){.s = "DALIAN Sunny Co., Ltd.", .len = 22, .known = 1};
    b->regs[1][0] = (pg_val){.s = "sunny", .len = 5, .known = 1};
    assert_int_equal(val_parse_code("2.A.1.c", 7, &b->regs[2][0].u, &why), 0);
    b->regs[2][0].known = 1;
    b->regs[0][1] = (pg_val){.s = "Sunny", .len = 5, .known = 1};
    b->regs[1][1] = (pg_val){.s = "sunny", .len = 5, .known = 1};
    assert_int_equal(val_parse_code("2.A.10", 6, &b->regs[2][1].u, &why), 0);
    b->regs[2][1].known = 1;
    assert_int_equal(pg_interpret(b), 0);
    assert_int_equal(as_tv(b->regs[4][0]), 1);
    assert_int_equal(as_tv(b->regs[5][0]), 0);
    assert_int_equal(as_tv(b->regs[5][1]), 1); /* starts with ignores ASCII case */
    assert_int_equal(as_tv(b->regs[6][1]), 0); /* == is exact */
    assert_int_equal(as_tv(b->regs[7][0]), 1); /* 2.A.1.c under 2.A.1 */
    assert_int_equal(as_tv(b->regs[7][1]), 0); /* 2.A.10 not under 2.A.1 */
    assert_int_equal((int)b->regs[8][0].len, (int)strlen("dalian sunny"));
    assert_memory_equal(b->regs[8][0].s, "dalian sunny", 12);
    assert_int_equal(b->regs[9][0].i, 2);
    pg_batch_free(b);
}

static void test_disassembler_names_every_step(void **state)
{
    (void)state;
    for (int i = 0; i < PG__COUNT; i++) {
        assert_non_null(pg_op_names[i]);
        assert_true(strlen(pg_op_names[i]) > 0);
    }
    assert_string_equal(pg_op_names[PG_IN_SET_AT], "IN_SET_AT");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kleene_tables),
        cmocka_unit_test(test_kleene_chains),
        cmocka_unit_test(test_unknown_from_overflow_and_division),
        cmocka_unit_test(test_select_coalesce_known),
        cmocka_unit_test(test_time_varying_set),
        cmocka_unit_test(test_rule_outcomes_and_verdict),
        cmocka_unit_test(test_strings_and_codes),
        cmocka_unit_test(test_disassembler_names_every_step),
    };
    return cmocka_run_group_tests_name("interp", tests, NULL, NULL);
}
