/* test_value.c — value parsing and formatting (runtime/value.c, runtime/iso3166.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/value.h"

/* ---- helpers -------------------------------------------------------------------- */

static int qty(const char *s, val_dim dim, const char *default_unit, double *out, const char **why,
               char *whybuf)
{
    const val_unit *du = default_unit ? val_unit_lookup(default_unit, strlen(default_unit)) : NULL;
    return val_parse_quantity(s, strlen(s), dim, du, out, why, whybuf);
}

static double qty_ok(const char *s, val_dim dim, const char *default_unit)
{
    double d = -12345;
    const char *why = NULL;
    char buf[96];
    int rc = qty(s, dim, default_unit, &d, &why, buf);
    if (rc != 0)
        fail_msg("quantity '%s' rejected: %s", s, why);
    return d;
}

static const char *qty_err(const char *s, val_dim dim, const char *default_unit)
{
    static char buf[96];
    double d = -12345;
    const char *why = NULL;
    int rc = qty(s, dim, default_unit, &d, &why, buf);
    if (rc == 0)
        fail_msg("quantity '%s' accepted as %g", s, d);
    assert_non_null(why);
    assert_true(d == -12345);
    return why;
}

static int num(const char *s, double *out)
{
    const char *why = NULL;
    int rc = val_parse_number(s, strlen(s), out, &why);
    if (rc != 0)
        assert_non_null(why);
    return rc;
}

/* The parse of s must be bit-identical to strtod's. */
static void assert_like_strtod(const char *s)
{
    double d;
    if (num(s, &d) != 0)
        fail_msg("'%s' rejected", s);
    double ref = strtod(s, NULL);
    if (memcmp(&d, &ref, sizeof d) != 0)
        fail_msg("'%s': got %.17g, strtod gives %.17g", s, d, ref);
}

static int32_t date_ok(const char *s)
{
    int32_t d = 0;
    const char *why = NULL;
    if (val_parse_date(s, strlen(s), &d, &why) != 0)
        fail_msg("date '%s' rejected", s);
    return d;
}

static void date_bad(const char *s, size_t n)
{
    int32_t d = 77;
    const char *why = NULL;
    assert_int_equal(val_parse_date(s, n, &d, &why), -1);
    assert_true(strcmp(why, "is not a valid date") == 0 || strcmp(why, "is not a date (expected YYYY-MM-DD)") == 0);
    assert_int_equal(d, 77);
}

static uint64_t code_ok(const char *s)
{
    uint64_t c = 0;
    const char *why = NULL;
    if (val_parse_code(s, strlen(s), &c, &why) != 0)
        fail_msg("code '%s' rejected: %s", s, why);
    return c;
}

static int code_bad(const char *s)
{
    uint64_t c = 0;
    const char *why = NULL;
    int rc = val_parse_code(s, strlen(s), &c, &why);
    if (rc == 0)
        fail_msg("code '%s' accepted", s);
    assert_non_null(why);
    return rc;
}

static const char *norm(const char *s)
{
    static char out[256];
    size_t n = strlen(s);
    assert_true(n < sizeof out);
    size_t len = val_normalize(s, n, out);
    assert_true(len <= n);
    out[len] = '\0';
    return out;
}

/* ---- units ------------------------------------------------------------------------ */

static void test_unit_table(void **state)
{
    (void)state;
    size_t count = 0;
    for (const val_unit *u = val_units; u->name; u++) {
        count++;
        assert_ptr_equal(val_unit_lookup(u->name, strlen(u->name)), u);
        assert_true(u->dim > DIM_NONE && u->dim < DIM__COUNT);
    }
    assert_int_equal(count, 20);
    assert_string_equal(val_unit_base(DIM_MASS)->name, "kg");
    assert_string_equal(val_unit_base(DIM_DISTANCE)->name, "m");
    assert_string_equal(val_unit_base(DIM_IMPULSE)->name, "Ns");
    assert_string_equal(val_unit_base(DIM_VOLUME)->name, "m3");
    assert_string_equal(val_unit_base(DIM_SPEED)->name, "m/s");
    assert_null(val_unit_base(DIM_NONE));
    /* every unit's rounded factor is its exact decimal factor, rounded once */
    for (const val_unit *u = val_units; u->name; u++) {
        char dec[64];
        snprintf(dec, sizeof dec, "%llue%d", (unsigned long long)u->fmant, u->fexp);
        assert_true(strtod(dec, NULL) == u->factor);
    }
    /* conversions are exact as written: equal decimals give equal values */
    const val_unit *ml = val_unit_lookup("ml", 2), *l = val_unit_lookup("l", 1), *g = val_unit_lookup("g", 1),
                   *kg = val_unit_lookup("kg", 2), *lb = val_unit_lookup("lb", 2), *kmh = val_unit_lookup("km/h", 4),
                   *ms = val_unit_lookup("m/s", 3), *kn = val_unit_lookup("kn", 2), *nmi = val_unit_lookup("nmi", 3),
                   *m = val_unit_lookup("m", 1), *km = val_unit_lookup("km", 2), *m3 = val_unit_lookup("m3", 2);
    assert_true(val_to_storage(25000, ml) == val_to_storage(25, l));
    assert_true(val_to_storage(0.025, m3) == val_to_storage(25, l));
    assert_true(val_to_storage(700, g) == val_to_storage(0.7, kg));
    assert_true(val_to_storage(0.1, kg) == val_to_storage(100, g));
    assert_true(val_to_storage(1300, lb) == 589.670081);
    assert_true(val_to_storage(-1300, lb) == -589.670081);
    assert_true(val_to_storage(1, ms) == val_to_storage(3.6, kmh));
    assert_true(val_to_storage(1, kn) == val_to_storage(1.852, kmh));
    assert_true(val_to_storage(190, nmi) == val_to_storage(351.88, km));
    assert_true(val_to_storage(351880, m) == val_to_storage(351.88, km));
    assert_true(val_to_storage(0, lb) == 0.0);
    /* printing in a unit gives the shortest decimal that converts back exactly */
    char buf[64];
    val_format_in_unit(val_to_storage(1, ms), kmh, buf);
    assert_string_equal(buf, "3.6");
    val_format_in_unit(val_to_storage(2, ms), kmh, buf);
    assert_string_equal(buf, "7.2");
    val_format_in_unit(val_to_storage(700, g), kg, buf);
    assert_string_equal(buf, "0.7");
    val_format_in_unit(val_to_storage(0.7, kg), g, buf);
    assert_string_equal(buf, "700");
    val_format_in_unit(val_to_storage(1300, lb), lb, buf);
    assert_string_equal(buf, "1300");
    val_format_in_unit(val_to_storage(0.1, lb), lb, buf);
    assert_string_equal(buf, "0.1");
    val_format_in_unit(val_to_storage(25, l), ml, buf);
    assert_string_equal(buf, "25000");
    assert_string_equal(val_dim_name(DIM_MASS), "mass");
    assert_string_equal(val_dim_name(DIM_DISTANCE), "distance");
    assert_string_equal(val_dim_name(DIM_IMPULSE), "impulse");
    assert_string_equal(val_dim_name(DIM_VOLUME), "volume");
    assert_string_equal(val_dim_name(DIM_SPEED), "speed");
    /* lookup is by exact (s, n): no prefixes, no case folding */
    assert_null(val_unit_lookup("kgs", 3));
    assert_null(val_unit_lookup("KG", 2));
    assert_null(val_unit_lookup("", 0));
    assert_string_equal(val_unit_lookup("kgs", 2)->name, "kg");
    assert_string_equal(val_unit_lookup("nmi", 3)->name, "nmi");
    assert_int_equal(val_unit_lookup("t", 1)->dim, DIM_MASS);
    assert_int_equal(val_unit_lookup("m", 1)->dim, DIM_DISTANCE);
    assert_int_equal(val_unit_lookup("m3", 2)->dim, DIM_VOLUME);
}

static void test_quantity_units(void **state)
{
    (void)state;
    /* mass */
    assert_true(qty_ok("500 kg", DIM_MASS, "kg") == 500.0);
    assert_true(qty_ok("500kg", DIM_MASS, "kg") == 500.0);
    assert_true(qty_ok("500", DIM_MASS, "kg") == 500.0);
    assert_true(qty_ok("1500 g", DIM_MASS, "kg") == 1.5);
    assert_true(qty_ok("2 t", DIM_MASS, "kg") == 2000.0);
    assert_true(qty_ok("0.5t", DIM_MASS, "kg") == 500.0);
    assert_true(qty_ok("1300 lb", DIM_MASS, "kg") == 589.670081);
    assert_true(qty_ok("1 lb", DIM_MASS, "kg") == 0.45359237);
    assert_true(qty_ok("3", DIM_MASS, "t") == 3000.0);
    assert_true(qty_ok("3", DIM_MASS, NULL) == 3.0); /* no default: the default unit */
    /* distance */
    assert_true(qty_ok("190 nmi", DIM_DISTANCE, "km") == 351880.0);
    assert_true(qty_ok("190nmi", DIM_DISTANCE, "km") == 351880.0);
    assert_true(qty_ok("300 km", DIM_DISTANCE, "km") == 300000.0);
    assert_true(qty_ok("300", DIM_DISTANCE, "km") == 300000.0);
    assert_true(qty_ok("12 m", DIM_DISTANCE, "km") == 12.0);
    assert_true(qty_ok("1 mi", DIM_DISTANCE, "km") == 1609.344);
    assert_true(qty_ok("100 mi", DIM_DISTANCE, "km") == 160934.4);
    assert_true(qty_ok("1000 ft", DIM_DISTANCE, "km") == 304.8);
    assert_true(qty_ok("1 ft", DIM_DISTANCE, "km") == 0.3048);
    /* impulse */
    assert_true(qty_ok("1.1e6 Ns", DIM_IMPULSE, "Ns") == 1100000.0);
    assert_true(qty_ok("1.1e6", DIM_IMPULSE, "Ns") == 1100000.0);
    assert_true(qty_ok("1100 kNs", DIM_IMPULSE, "Ns") == 1100000.0);
    assert_true(qty_ok("1.1 MNs", DIM_IMPULSE, "Ns") == 1100000.0);
    assert_true(qty_ok("2 lbf_s", DIM_IMPULSE, "Ns") == 8.896443230521);
    /* volume (held in litres) */
    assert_true(qty_ok("20 l", DIM_VOLUME, "l") == 20.0);
    assert_true(qty_ok("20", DIM_VOLUME, "l") == 20.0);
    assert_true(qty_ok("500 ml", DIM_VOLUME, "l") == 0.5);
    assert_true(qty_ok("2 m3", DIM_VOLUME, "l") == 2000.0);
    assert_true(qty_ok("1 gal", DIM_VOLUME, "l") == 3.785411784);
    assert_true(qty_ok("10 gal", DIM_VOLUME, "l") == 37.85411784);
    assert_true(qty_ok("25000 ml", DIM_VOLUME, "l") == qty_ok("25 l", DIM_VOLUME, "l"));
    /* speed (held in metres per hour, so that km/h and kn are exact) */
    assert_true(qty_ok("10 m/s", DIM_SPEED, "m/s") == 36000.0);
    assert_true(qty_ok("36 km/h", DIM_SPEED, "m/s") == 36000.0);
    assert_true(qty_ok("100 kn", DIM_SPEED, "m/s") == 185200.0);
    assert_true(qty_ok("3600 kn", DIM_SPEED, "m/s") == 3600 * 1852.0);
    /* signs, zero, exponents */
    assert_true(qty_ok("-3 kg", DIM_MASS, "kg") == -3.0);
    assert_true(qty_ok("0 km", DIM_DISTANCE, "km") == 0.0);
    assert_true(qty_ok("2E-3 t", DIM_MASS, "kg") == 2.0);
    assert_true(qty_ok("5e3kg", DIM_MASS, "kg") == 5000.0);
}

static void test_quantity_errors(void **state)
{
    (void)state;
    assert_string_equal(qty_err("300 km", DIM_MASS, "kg"), "has unit 'km', a distance, but a mass is expected");
    assert_string_equal(qty_err("3 kg", DIM_DISTANCE, "km"), "has unit 'kg', a mass, but a distance is expected");
    assert_string_equal(qty_err("3 Ns", DIM_SPEED, "m/s"), "has unit 'Ns', an impulse, but a speed is expected");
    assert_string_equal(qty_err("3 m", DIM_IMPULSE, "Ns"), "has unit 'm', a distance, but an impulse is expected");
    assert_string_equal(qty_err("500 kgs", DIM_MASS, "kg"), "has an unknown unit 'kgs'");
    assert_string_equal(qty_err("500 KG", DIM_MASS, "kg"), "has an unknown unit 'KG'");
    assert_string_equal(qty_err("5 m / s", DIM_SPEED, "m/s"), "has an unknown unit 'm / s'");
    /* a long unknown unit is clipped to fit the buffer */
    const char *w = qty_err("5 aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                            DIM_MASS, "kg");
    assert_true(strlen(w) < 96);
    assert_non_null(strstr(w, "has an unknown unit 'aaaa"));
    /* spacing: at most one space, and it must be followed by a unit */
    qty_err("190  nmi", DIM_DISTANCE, "km");
    qty_err("190\tnmi", DIM_DISTANCE, "km");
    qty_err("190 ", DIM_DISTANCE, "km");
    qty_err(" 190 nmi", DIM_DISTANCE, "km");
    qty_err("190 nmi ", DIM_DISTANCE, "km");
    /* no number */
    qty_err("kg", DIM_MASS, "kg");
    qty_err("", DIM_MASS, "kg");
    qty_err("-", DIM_MASS, "kg");
    qty_err(".5 kg", DIM_MASS, "kg");
    qty_err("1. kg", DIM_MASS, "kg");
    qty_err("1e kg", DIM_MASS, "kg");
    /* overflow after conversion */
    assert_string_equal(qty_err("1e308 t", DIM_MASS, "kg"), "is out of range");
    assert_string_equal(qty_err("1e309", DIM_MASS, "kg"), "is out of range");
}

/* ---- numbers ---------------------------------------------------------------------- */

static void test_parse_int(void **state)
{
    (void)state;
    int64_t v = 0;
    const char *why = NULL;
    assert_int_equal(val_parse_int("42", 2, &v, &why), 0);
    assert_int_equal(v, 42);
    assert_int_equal(val_parse_int("-7", 2, &v, &why), 0);
    assert_int_equal(v, -7);
    assert_int_equal(val_parse_int("+7", 2, &v, &why), 0);
    assert_int_equal(v, 7);
    assert_int_equal(val_parse_int("0", 1, &v, &why), 0);
    assert_int_equal(v, 0);
    assert_int_equal(val_parse_int("007", 3, &v, &why), 0);
    assert_int_equal(v, 7);
    assert_int_equal(val_parse_int("9223372036854775807", 19, &v, &why), 0);
    assert_true(v == INT64_MAX);
    assert_int_equal(val_parse_int("-9223372036854775808", 20, &v, &why), 0);
    assert_true(v == INT64_MIN);
    /* the length bounds the text: "123" of "12345" */
    assert_int_equal(val_parse_int("12345", 3, &v, &why), 0);
    assert_int_equal(v, 123);

    v = 99;
    assert_int_equal(val_parse_int("9223372036854775808", 19, &v, &why), -1);
    assert_string_equal(why, "is out of range");
    assert_int_equal(val_parse_int("-9223372036854775809", 20, &v, &why), -1);
    assert_string_equal(why, "is out of range");
    assert_int_equal(val_parse_int("99999999999999999999999", 23, &v, &why), -1);
    assert_string_equal(why, "is out of range");
    assert_int_equal(v, 99);
    const char *bad[] = {"", "-", "+", "1.0", "1e3", " 1", "1 ", "0x10", "1_000", "--1", "12a"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        why = NULL;
        assert_int_equal(val_parse_int(bad[i], strlen(bad[i]), &v, &why), -1);
        assert_string_equal(why, "is not an integer");
    }
    assert_int_equal(v, 99);
}

static void test_parse_number_syntax(void **state)
{
    (void)state;
    double d = 0;
    assert_int_equal(num("0.5", &d), 0);
    assert_true(d == 0.5);
    assert_int_equal(num("-3", &d), 0);
    assert_true(d == -3.0);
    assert_int_equal(num("+3", &d), 0);
    assert_true(d == 3.0);
    assert_int_equal(num("1.2e6", &d), 0);
    assert_true(d == 1200000.0);
    assert_int_equal(num("2E-3", &d), 0);
    assert_true(d == 0.002);
    assert_int_equal(num("1e+3", &d), 0);
    assert_true(d == 1000.0);
    assert_int_equal(num("-0", &d), 0);
    assert_true(d == 0.0 && signbit(d));
    assert_int_equal(num("0e999999", &d), 0);
    assert_true(d == 0.0);
    assert_int_equal(num("1e-400", &d), 0); /* underflows to zero like strtod */
    assert_true(d == 0.0);

    const char *bad[] = {"",    "-",    ".5",  "1.",   "1e",   "1e+",  "e5",  " 1",  "1 ",
                         "1,5", "0x10", "inf", "nan",  "1..2", "1.2.3", "--1", "1e5e5", "1_000",
                         "5kg", "1 kg"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *why = NULL;
        d = 42;
        if (val_parse_number(bad[i], strlen(bad[i]), &d, &why) == 0)
            fail_msg("'%s' accepted", bad[i]);
        assert_string_equal(why, "is not a number");
        assert_true(d == 42);
    }
    const char *why = NULL;
    assert_int_equal(val_parse_number("1e309", 5, &d, &why), -1);
    assert_string_equal(why, "is out of range");
    assert_int_equal(val_parse_number("-1e309", 6, &d, &why), -1);
    assert_string_equal(why, "is out of range");
    char longnum[80];
    memset(longnum, '1', 65);
    longnum[65] = '\0';
    assert_int_equal(val_parse_number(longnum, 65, &d, &why), -1);
    assert_string_equal(why, "is too long for a number");
    longnum[64] = '\0';
    assert_like_strtod(longnum);
    /* not NUL-terminated: only n bytes are read */
    assert_int_equal(val_parse_number("12.5xyz", 4, &d, &why), 0);
    assert_true(d == 12.5);
}

static void test_parse_number_hard(void **state)
{
    (void)state;
    const char *hard[] = {
        "0.1", "0.2", "0.3", "1e22", "1e23", "9007199254740993", "9007199254740992", "9007199254740991",
        "2.2250738585072014e-308", "2.2250738585072011e-308", "4.9e-324", "2.4703282292062327e-324",
        "1.7976931348623157e308", "123456789012345678", "12345678901234567890123", "0.000001",
        "1e-22", "1e-23", "8.98846567431158e307", "3.14159265358979323846264338327950288",
        "0.30000000000000004", "1.0000000000000002", "0.9999999999999999", "100000000000000000000000",
        "7.0e-10", "5e-324", "12e22", "1.5e30", "123456789e-30", "0000000000000000000000000000001.5",
        "0.0000000000000000000000000000001", "1.00000000000000000000000000001", "99999999999999999",
        "4503599627370497.5", "1e21", "600", "1100000", "0.0333", "-2.5e-5", "17976931348623157e292",
    };
    for (size_t i = 0; i < sizeof hard / sizeof hard[0]; i++)
        assert_like_strtod(hard[i]);
}

static void test_parse_number_random(void **state)
{
    (void)state;
    srand(20240521);
    char s[64];
    for (int k = 0; k < 5000; k++) {
        size_t len = 0;
        if (rand() % 4 == 0)
            s[len++] = '-';
        int ndig = 1 + rand() % 20;
        int point = rand() % (ndig + 1); /* digits before the point (0: no point) */
        s[len++] = (char)('1' + rand() % 9);
        for (int i = 1; i < ndig; i++) {
            if (i == point)
                s[len++] = '.';
            s[len++] = (char)('0' + rand() % 10);
        }
        if (rand() % 2) {
            len += (size_t)snprintf(s + len, sizeof s - len, "e%d", rand() % 80 - 40);
        }
        s[len] = '\0';
        assert_like_strtod(s);
    }
    /* the shortest representations of random doubles, and their 17-digit forms */
    for (int k = 0; k < 3000; k++) {
        uint64_t bits = 0;
        for (int i = 0; i < 4; i++)
            bits = (bits << 16) ^ (uint64_t)(rand() & 0xFFFF);
        double v;
        memcpy(&v, &bits, sizeof v);
        if (!isfinite(v))
            continue;
        snprintf(s, sizeof s, "%.17g", v);
        assert_like_strtod(s);
        snprintf(s, sizeof s, "%.15g", v);
        assert_like_strtod(s);
        snprintf(s, sizeof s, "%.6f", fmod(fabs(v), 1e9));
        assert_like_strtod(s);
    }
}

static void test_format_double(void **state)
{
    (void)state;
    char buf[32];
    struct {
        double v;
        const char *s;
    } cases[] = {
        {600, "600"},         {1100000, "1100000"}, {0.5, "0.5"},     {0.0333, "0.0333"}, {-3, "-3"},
        {0, "0"},             {-0.0, "0"},          {0.1, "0.1"},     {1e20, "1e+20"},    {-2.5, "-2.5"},
        {351880, "351880"},   {1e-7, "1e-07"},      {123.456, "123.456"},
        {999999999999999, "999999999999999"},       {0.1 + 0.2, "0.30000000000000004"},
        {1.0 / 3.0, "0.3333333333333333"}, {-0.0333, "-0.0333"},
        {0.0001, "0.0001"},   {0.00012, "0.00012"}, {1e-5, "1e-05"},  {12.75, "12.75"},
        {123456789.125, "123456789.125"},           {1e15 + 0.5, "1000000000000000.5"},
        {99999999999999.98, "99999999999999.98"},   {2.5e15, "2.5e+15"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int len = val_format_double(cases[i].v, buf);
        assert_string_equal(buf, cases[i].s);
        assert_int_equal(len, (int)strlen(cases[i].s));
    }
    /* round trips: the text reads back as the same double */
    srand(7);
    double special[] = {DBL_MAX, DBL_MIN, 4.9e-324, 1e15, 1e15 + 1, -1e300, 1300 * 0.45359237,
                        100 * (1852.0 / 3600.0), 0.003785411784, 1e22, 1e23};
    for (size_t i = 0; i < sizeof special / sizeof special[0]; i++) {
        int len = val_format_double(special[i], buf);
        double back;
        assert_int_equal(num(buf, &back), 0);
        assert_true(back == special[i]);
        assert_int_equal(len, (int)strlen(buf));
    }
    /* short decimals, as measurements are written: the output has exactly as many
     * significant digits as the shortest %.Ng that reads back */
    for (int k = 0; k < 20000; k++) {
        double v = (double)(rand() % 2000000 - 1000000) / (double)(rand() % 2 ? 1000 : 7);
        v *= pow(10, rand() % 12 - 6);
        if (v == floor(v))
            continue;
        char ref[40];
        int prec = 1;
        for (; prec <= 17; prec++) {
            snprintf(ref, sizeof ref, "%.*g", prec, v);
            if (strtod(ref, NULL) == v)
                break;
        }
        val_format_double(v, buf);
        double back;
        if (num(buf, &back) != 0 || back != v)
            fail_msg("%.17g formatted as %s", v, buf);
        int digits = 0, lead = 1;
        for (const char *p = buf; *p && *p != 'e'; p++) {
            if (*p >= '1' && *p <= '9')
                lead = 0;
            digits += !lead && *p >= '0' && *p <= '9';
        }
        if (digits != prec)
            fail_msg("%.17g formatted as %s, shortest is %s", v, buf, ref);
    }
    for (int k = 0; k < 3000; k++) {
        uint64_t bits = 0;
        for (int i = 0; i < 4; i++)
            bits = (bits << 16) ^ (uint64_t)(rand() & 0xFFFF);
        double v;
        memcpy(&v, &bits, sizeof v);
        if (!isfinite(v))
            continue;
        int len = val_format_double(v, buf);
        assert_true(len > 0 && len < 32);
        double back;
        if (num(buf, &back) != 0)
            fail_msg("formatted '%s' does not parse", buf);
        assert_true(back == v);
        /* shortest: one digit fewer no longer reads back (when not integral) */
        if (v != floor(v)) {
            char shorter[400];
            int digits = 0;
            int lead = 1; /* leading zeros are not significant */
            for (const char *p = buf; *p && *p != 'e'; p++) {
                if (*p >= '1' && *p <= '9')
                    lead = 0;
                digits += !lead && *p >= '0' && *p <= '9';
            }
            if (digits > 1) {
                snprintf(shorter, sizeof shorter, "%.*g", digits - 1, v);
                if (strtod(shorter, NULL) == v)
                    fail_msg("%.17g formatted as %s, but %s reads back", v, buf, shorter);
            }
        }
    }
}

/* ---- booleans --------------------------------------------------------------------- */

static void test_parse_bool(void **state)
{
    (void)state;
    const char *yes[] = {"true", "TRUE", "True", "tRuE", "yes", "YES", "Yes", "y", "Y", "1"};
    const char *no[] = {"false", "FALSE", "False", "no", "NO", "No", "n", "N", "0"};
    const char *bad[] = {"", "t", "f", "2", "truee", "tru", "yes ", " no", "ja", "-1", "01", "falsey", "nope"};
    int v;
    const char *why;
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        v = -1;
        assert_int_equal(val_parse_bool(yes[i], strlen(yes[i]), &v, &why), 0);
        assert_int_equal(v, 1);
    }
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++) {
        v = -1;
        assert_int_equal(val_parse_bool(no[i], strlen(no[i]), &v, &why), 0);
        assert_int_equal(v, 0);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        v = -1;
        why = NULL;
        if (val_parse_bool(bad[i], strlen(bad[i]), &v, &why) == 0)
            fail_msg("'%s' accepted as a boolean", bad[i]);
        assert_string_equal(why, "is not a boolean (true/false, yes/no, y/n, 1/0)");
        assert_int_equal(v, -1);
    }
    /* an embedded NUL is not the end of the text */
    assert_int_equal(val_parse_bool("y\0", 2, &v, &why), -1);
    assert_int_equal(val_parse_bool("yes", 1, &v, &why), 0);
    assert_int_equal(v, 1);
}

/* ---- dates ------------------------------------------------------------------------ */

static void test_dates(void **state)
{
    (void)state;
    assert_int_equal(date_ok("1970-01-01"), 0);
    assert_int_equal(date_ok("1970-01-02"), 1);
    assert_int_equal(date_ok("1969-12-31"), -1);
    assert_int_equal(date_ok("2000-03-01"), 11017);
    assert_int_equal(date_ok("2002-08-25"), 11924);
    assert_int_equal(date_ok("0001-01-01"), -719162);
    assert_int_equal(date_ok("9999-12-31"), 2932896);
    assert_int_equal(date_ok("2016-02-29") + 1, date_ok("2016-03-01"));
    assert_int_equal(date_ok("2000-02-29") + 1, date_ok("2000-03-01"));
    assert_int_equal(date_ok("2015-02-28") + 1, date_ok("2015-03-01"));
    assert_int_equal(date_ok("2015-12-31") + 1, date_ok("2016-01-01"));
    assert_int_equal(date_ok("2016-01-01") - date_ok("2015-01-01"), 365);
    assert_int_equal(date_ok("2017-01-01") - date_ok("2016-01-01"), 366);

    date_bad("0000-01-01", 10);
    date_bad("2015-02-29", 10);
    date_bad("2015-02-30", 10);
    date_bad("1900-02-29", 10);
    date_bad("2100-02-29", 10);
    date_bad("2015-13-01", 10);
    date_bad("2015-00-10", 10);
    date_bad("2015-01-00", 10);
    date_bad("2015-01-32", 10);
    date_bad("2015-04-31", 10);
    date_bad("2015-1-01", 9);
    date_bad("2015-01-1", 9);
    date_bad("15-01-01", 8);
    date_bad("2015-01-011", 11);
    date_bad("12015-01-01", 11);
    date_bad("", 0);
    date_bad("2015/01/01", 10);
    date_bad("2015-01-0a", 10);
    date_bad("+015-01-01", 10);
    date_bad("2015-01-0:", 10); /* ':' and '?' are just past the digits */
    date_bad("2015-0?-01", 10);
    date_bad("201:-01-01", 10);
    date_bad("2015-01-/1", 10);
    date_bad("2015-01-01T00:00", 16);
    date_bad(" 2015-01-01", 11);
    date_bad("2015-01-01", 9);

    assert_true(val_valid_civil(2016, 2, 29));
    assert_false(val_valid_civil(2015, 2, 29));
    assert_false(val_valid_civil(10000, 1, 1));
    assert_false(val_valid_civil(0, 1, 1));
    assert_true(val_valid_civil(2000, 2, 29));
    assert_int_equal(val_days_from_civil(1970, 1, 1), 0);
    assert_int_equal(val_days_from_civil(2002, 8, 25), 11924);

    /* round trip over the whole supported range */
    char buf[16];
    int y, m, d;
    int32_t lo = val_days_from_civil(1, 1, 1), hi = val_days_from_civil(9999, 12, 31);
    for (int32_t day = lo; day <= hi; day += (day > -1000 && day < 30000) ? 1 : 97) {
        val_civil_from_days(day, &y, &m, &d);
        assert_true(val_valid_civil(y, m, d));
        assert_int_equal(val_days_from_civil(y, m, d), day);
        val_format_date(day, buf);
        assert_int_equal(strlen(buf), 10);
        int32_t back = date_ok(buf);
        assert_int_equal(back, day);
    }
    val_format_date(lo, buf);
    assert_string_equal(buf, "0001-01-01");
    val_format_date(hi, buf);
    assert_string_equal(buf, "9999-12-31");
    val_format_date(date_ok("2016-02-29"), buf);
    assert_string_equal(buf, "2016-02-29");
    val_civil_from_days(-1, &y, &m, &d);
    assert_int_equal(y, 1969);
    assert_int_equal(m, 12);
    assert_int_equal(d, 31);
    /* out of range keeps the width */
    val_format_date(hi + 1, buf);
    assert_int_equal(strlen(buf), 10);
}

/* ---- codes ------------------------------------------------------------------------ */

static void test_codes(void **state)
{
    (void)state;
    const char *good[] = {"1.A",   "1.A.1",  "2.A.1.c",     "19.A.3",       "20.A.1.b", "0.Z",
                          "255.B", "9.A.199", "2.A.1.c.2.z", "3.B.10.a.0.1", "12.E.1"};
    char buf[40];
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        uint64_t c = code_ok(good[i]);
        int len = val_format_code(c, buf);
        assert_string_equal(buf, good[i]);
        assert_int_equal(len, (int)strlen(good[i]));
    }
    uint64_t c = code_ok("2.A.1.c");
    assert_int_equal(val_code_nseg(c), 4);
    assert_int_equal(val_code_number(c), 2);
    assert_int_equal(val_code_kind(c), 'A');
    /* packing as documented in value.h */
    assert_true(c == ((4ull << 56) | ((uint64_t)(201 + 2) << 24) | ((uint64_t)(1 + 1) << 16) |
                      ((uint64_t)'A' << 8) | 2));
    c = code_ok("19.B.3");
    assert_int_equal(val_code_number(c), 19);
    assert_int_equal(val_code_kind(c), 'B');
    assert_int_equal(val_code_nseg(c), 3);
    assert_int_equal(val_code_nseg(code_ok("1.A")), 2);

    assert_true(val_code_under(code_ok("2.A.1.c"), code_ok("2.A.1")));
    assert_true(val_code_under(code_ok("2.A.1"), code_ok("2.A.1")));
    assert_true(val_code_under(code_ok("2.A.1.c"), code_ok("2.A")));
    assert_false(val_code_under(code_ok("2.A.10"), code_ok("2.A.1")));
    assert_false(val_code_under(code_ok("2.A.1"), code_ok("2.A.1.c")));
    assert_false(val_code_under(code_ok("2.B.1"), code_ok("2.A")));
    assert_false(val_code_under(code_ok("12.A.1"), code_ok("1.A")));
    assert_false(val_code_under(code_ok("2.A.0"), code_ok("2.A.a")));
    assert_true(val_code_under(code_ok("1.A.1.a.1.a.1"), code_ok("1.A.1.a.1.a.1")));
    assert_true(val_code_under(code_ok("1.A.1.a.1.a.1"), code_ok("1.A.1.a.1.a")));
    assert_false(val_code_under(code_ok("1.A.1.a.1.a.2"), code_ok("1.A.1.a.1.a.1")));
    assert_true(code_ok("2.A.1") != code_ok("2.A.1.c"));

    const char *bad[] = {"2.a.1",  "A.1",    "2.A.1.cc", "2.A.1.c.1.2.3.4", "256.A", "2.A.200", "2",
                         "2.",     "2.A.",   "2.A..1",   ".A",              "2.AB",  "2.A.1C",  "",
                         "01.A",   "2.A.01", " 2.A",     "2.A ",            "2.A.-1", "2,A",    "-2.A",
                         "2.A.1.c.", "2.A.é"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(code_bad(bad[i]), -1);
    const char *why;
    assert_int_equal(val_parse_code("2.A.1.cc", 8, &c, &why), -1);
    assert_string_equal(why, "is not a valid control-list code");
    /* seven segments are the most */
    code_ok("1.A.1.a.1.a.1");
    code_bad("1.A.1.a.1.a.1.a");
    /* only n bytes are read */
    c = 0;
    assert_int_equal(val_parse_code("2.A.1.c", 5, &c, &why), 0);
    assert_true(c == code_ok("2.A.1"));
}

/* ---- countries -------------------------------------------------------------------- */

static int country(const char *s) { return val_country_lookup(s, strlen(s)); }

static void test_countries(void **state)
{
    (void)state;
    assert_int_equal(val_ncountries, 249);
    for (size_t i = 1; i < val_ncountries; i++)
        assert_true(strcmp(val_countries[i - 1].alpha2, val_countries[i].alpha2) < 0);
    for (size_t i = 0; i < val_ncountries; i++) {
        assert_int_equal(strlen(val_countries[i].alpha2), 2);
        assert_int_equal(strlen(val_countries[i].alpha3), 3);
        assert_true(strlen(val_countries[i].name) > 0);
        assert_int_equal(country(val_countries[i].alpha2), (int)i);
        assert_int_equal(country(val_countries[i].alpha3), (int)i);
    }
    int cn = country("CN");
    assert_true(cn >= 0);
    assert_string_equal(val_countries[cn].alpha3, "CHN");
    assert_string_equal(val_countries[cn].name, "China");
    assert_int_equal(country("cn"), cn);
    assert_int_equal(country("Cn"), cn);
    assert_int_equal(country("CHN"), cn);
    assert_int_equal(country("chn"), cn);
    assert_int_equal(country("Chn"), cn);
    assert_string_equal(val_countries[country("ir")].name, "Iran");
    assert_string_equal(val_countries[country("KOR")].name, "South Korea");
    assert_string_equal(val_countries[country("prk")].alpha2, "KP");
    assert_string_equal(val_countries[country("GB")].alpha3, "GBR");
    assert_string_equal(val_countries[0].alpha2, "AD");
    assert_string_equal(val_countries[val_ncountries - 1].alpha2, "ZW");

    const char *bad[] = {"", "C", "XX", "QQ", "UK", "XXX", "CHNA", "C1", "1N", "C N", "ZZZ", "@A", "[A", "`a", "{a", "CH\xc3"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (country(bad[i]) != -1)
            fail_msg("'%s' found as a country", bad[i]);
    assert_int_equal(val_country_lookup("CNX", 2), cn); /* only n bytes */
}

/* ---- strings ---------------------------------------------------------------------- */

static void test_normalize(void **state)
{
    (void)state;
    assert_string_equal(norm("DALIAN SUNNY INDUSTRIES CO.,LTD."), "dalian sunny industries");
    assert_string_equal(norm("Dalian Sunny Industries"), "dalian sunny industries");
    assert_string_equal(norm("Dalian Sunny Industries Trading Co., Ltd."), "dalian sunny industries trading");
    assert_string_equal(norm("Co"), "co");
    assert_string_equal(norm("  Ltd  "), "ltd");
    assert_string_equal(norm("Co Ltd"), "co");
    assert_string_equal(norm("  --  "), "");
    assert_string_equal(norm(""), "");
    assert_string_equal(norm("Acme GmbH"), "acme");
    assert_string_equal(norm("Acme Corporation Limited"), "acme");
    assert_string_equal(norm("Acme Company, Inc."), "acme");
    assert_string_equal(norm("Acme LLC JSC corp"), "acme");
    assert_string_equal(norm("Ltd Acme"), "ltd acme");
    assert_string_equal(norm("Acme Cos"), "acme cos");
    assert_string_equal(norm("Acme Co-op"), "acme co op");
    assert_string_equal(norm("Acme Incorporated"), "acme incorporated");
    assert_string_equal(norm("A.B.C. Trading"), "a b c trading");
    assert_string_equal(norm("Rocket_Works\t\n42"), "rocket works 42");
    assert_string_equal(norm("Müller GmbH"), "m\xc3\xbcller");
    assert_string_equal(norm("\xc3\x89TS Co"), "\xc3\x89ts");
    assert_string_equal(norm("Ä Ö"), "\xc3\x84 \xc3\x96");
    /* the result is never longer than the input, and out may be exactly n bytes */
    char out[3];
    assert_int_equal(val_normalize("A.B", 3, out), 3);
    assert_memory_equal(out, "a b", 3);
    assert_int_equal(val_normalize("x co", 2, out), 1); /* only n bytes are read */
}

static void test_contains_starts(void **state)
{
    (void)state;
    const char *h = "Shahab-3 Missile Program";
    size_t nh = strlen(h);
    assert_true(val_contains_ci(h, nh, "missile", 7));
    assert_true(val_contains_ci(h, nh, "SHAHAB", 6));
    assert_true(val_contains_ci(h, nh, "program", 7));
    assert_true(val_contains_ci(h, nh, "", 0));
    assert_true(val_contains_ci(h, nh, h, nh));
    assert_false(val_contains_ci(h, nh, "programs", 8));
    assert_false(val_contains_ci(h, nh, "shahab-4", 8));
    assert_false(val_contains_ci("", 0, "a", 1));
    assert_true(val_contains_ci("aaab", 4, "AAB", 3));
    assert_false(val_contains_ci("-3", 2, "\r3", 2)); /* '-' and '\r' differ only in bit 0x20 */
    assert_true(val_starts_with_ci(h, nh, "shahab", 6));
    assert_true(val_starts_with_ci(h, nh, "", 0));
    assert_false(val_starts_with_ci(h, nh, "missile", 7));
    assert_false(val_starts_with_ci("ab", 2, "abc", 3));
    assert_false(val_starts_with_ci("[x", 2, "{x", 2));
    assert_true(val_starts_with_ci("\xc3\xa9t\xc3\xa9", 5, "\xc3\xa9T", 3));
}

static void test_utf8(void **state)
{
    (void)state;
    struct {
        const char *s;
        int ok;
    } cases[] = {
        {"", 1},
        {"plain ascii text that is longer than eight bytes", 1},
        {"Caf\xc3\xa9", 1},
        {"\xe2\x82\xac", 1},              /* U+20AC */
        {"\xf0\x9f\x9a\x80", 1},          /* U+1F680, 4 bytes */
        {"\xf4\x8f\xbf\xbf", 1},          /* U+10FFFF */
        {"\xed\x9f\xbf", 1},              /* U+D7FF */
        {"\xee\x80\x80", 1},              /* U+E000 */
        {"\xc2\x80", 1},                  /* U+0080 */
        {"\xc0\xaf", 0},                  /* overlong '/' */
        {"\xc1\xbf", 0},                  /* overlong */
        {"\xe0\x80\xaf", 0},              /* overlong 3-byte */
        {"\xe0\x9f\xbf", 0},              /* overlong 3-byte */
        {"\xf0\x8f\xbf\xbf", 0},          /* overlong 4-byte */
        {"\xed\xa0\x80", 0},              /* surrogate U+D800 */
        {"\xed\xbf\xbf", 0},              /* surrogate U+DFFF */
        {"\xf4\x90\x80\x80", 0},          /* U+110000 */
        {"\xf5\x80\x80\x80", 0},
        {"\xff", 0},
        {"\x80", 0},                      /* lone continuation */
        {"abc\xc3", 0},                   /* truncated */
        {"\xe2\x82", 0},                  /* truncated */
        {"\xf0\x9f\x9a", 0},              /* truncated */
        {"\xe2\x28\xa1", 0},              /* bad continuation */
        {"\xf0\x9f\x9a\x28", 0},
        {"0123456789abcdef\xc3\xa9xyz0123456789", 1},
        {"0123456789abcdef0123456789\x80", 0}, /* bad byte after the 8-byte loop */
        {"01234567\xc3", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (val_utf8_valid(cases[i].s, strlen(cases[i].s)) != cases[i].ok)
            fail_msg("case %zu: expected %d", i, cases[i].ok);
    /* NUL bytes are valid UTF-8; the length, not a terminator, bounds the text */
    assert_true(val_utf8_valid("a\0b", 3));
    assert_true(val_utf8_valid("\xc3\xa9\xc3", 2));
    assert_false(val_utf8_valid("\xc3\xa9\xc3", 3));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unit_table),        cmocka_unit_test(test_quantity_units),
        cmocka_unit_test(test_quantity_errors),   cmocka_unit_test(test_parse_int),
        cmocka_unit_test(test_parse_number_syntax), cmocka_unit_test(test_parse_number_hard),
        cmocka_unit_test(test_parse_number_random), cmocka_unit_test(test_format_double),
        cmocka_unit_test(test_parse_bool),        cmocka_unit_test(test_dates),
        cmocka_unit_test(test_codes),             cmocka_unit_test(test_countries),
        cmocka_unit_test(test_normalize),         cmocka_unit_test(test_contains_starts),
        cmocka_unit_test(test_utf8),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
