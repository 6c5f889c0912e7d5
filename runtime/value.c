/* value.c — parsing and formatting of input values (SPEC 4, LANGUAGE 4 and 5).
 *
 * These functions run for every cell of every record, so the common cases avoid
 * allocation, locale-dependent calls and strtod: numbers take an exact fast path
 * (see num_fast), countries a direct-index table, dates a fixed-width scan.
 * Results never depend on the process locale.
 *
 * The fast number path assumes IEEE-754 doubles evaluated in double precision with
 * round-to-nearest (FLT_EVAL_METHOD 0, as on x86-64 and AArch64).
 */
#include "runtime/value.h"

#include <float.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Tables generated into iso3166.c by tools/gen_countries.py. */
extern const int16_t val_iso_alpha2_index[26 * 26];
extern const int16_t val_iso_alpha3_index[26 * 26 * 26];

static inline int val_is_digit(unsigned char c) { return (unsigned)(c - '0') < 10u; }
static inline unsigned char val_lower(unsigned char c) { return (unsigned char)((unsigned)(c - 'A') < 26u ? c | 0x20 : c); }

/* ---- units ------------------------------------------------------------------ */

/* The first unit of each dimension is its default (SI) unit.  The exact factors
 * (fmant * 10^fexp, to the storage unit of value.h) are the definitions of
 * LANGUAGE 4; `factor` is the same rounded once to double. */
const val_unit val_units[] = {
    {"kg", DIM_MASS, 1.0, 1, 0},
    {"g", DIM_MASS, 1e-3, 1, -3},
    {"t", DIM_MASS, 1e3, 1, 3},
    {"lb", DIM_MASS, 0.45359237, 45359237, -8},
    {"m", DIM_DISTANCE, 1.0, 1, 0},
    {"km", DIM_DISTANCE, 1e3, 1, 3},
    {"mi", DIM_DISTANCE, 1609.344, 1609344, -3},
    {"nmi", DIM_DISTANCE, 1852.0, 1852, 0},
    {"ft", DIM_DISTANCE, 0.3048, 3048, -4},
    {"Ns", DIM_IMPULSE, 1.0, 1, 0},
    {"kNs", DIM_IMPULSE, 1e3, 1, 3},
    {"MNs", DIM_IMPULSE, 1e6, 1, 6},
    {"lbf_s", DIM_IMPULSE, 4.4482216152605, 44482216152605, -13},
    {"m3", DIM_VOLUME, 1e3, 1, 3},
    {"l", DIM_VOLUME, 1.0, 1, 0},
    {"ml", DIM_VOLUME, 1e-3, 1, -3},
    {"gal", DIM_VOLUME, 3.785411784, 3785411784, -9},
    {"m/s", DIM_SPEED, 3600.0, 3600, 0},
    {"km/h", DIM_SPEED, 1e3, 1000, 0},
    {"kn", DIM_SPEED, 1852.0, 1852, 0},
    {NULL, DIM_NONE, 0.0, 0, 0},
};

const val_unit *val_unit_lookup(const char *s, size_t n)
{
    if (n == 0)
        return NULL;
    for (const val_unit *u = val_units; u->name; u++) {
        if (u->name[0] != s[0])
            continue;
        /* the name's NUL ends the walk, so an embedded NUL in s never reads past it */
        size_t k = 1;
        while (k < n && u->name[k] != '\0' && u->name[k] == s[k])
            k++;
        if (k == n && u->name[n] == '\0')
            return u;
    }
    return NULL;
}

const val_unit *val_unit_base(val_dim d)
{
    if (d == DIM_NONE)
        return NULL;
    for (const val_unit *u = val_units; u->name; u++)
        if (u->dim == d)
            return u;
    return NULL;
}

const char *val_dim_name(val_dim d)
{
    switch (d) {
    case DIM_NONE: return "number";
    case DIM_MASS: return "mass";
    case DIM_DISTANCE: return "distance";
    case DIM_IMPULSE: return "impulse";
    case DIM_VOLUME: return "volume";
    case DIM_SPEED: return "speed";
    case DIM__COUNT: break;
    }
    return "unknown dimension";
}

/* ---- numbers ---------------------------------------------------------------- */

#define VAL_NUM_MAXLEN 64

/* The syntax of one number: [+-]? digit+ ('.' digit+)? ([eE] [+-]? digit+)?, and the
 * decimal value as w * 10^e10 when w holds every significant digit (exact == 1). */
typedef struct {
    uint64_t w;
    int64_t e10;
    int neg;
    int exact;
} val_scan;

/* Scans the longest number at the start of s[0..n); returns its length, 0 if s does
 * not start with a number.  A '.' or exponent marker without digits after it is not
 * part of the number. */
static size_t val_scan_number(const char *s, size_t n, val_scan *sc)
{
    size_t i = 0;
    sc->w = 0;
    sc->e10 = 0;
    sc->neg = 0;
    sc->exact = 1;
    if (i < n && (s[i] == '-' || s[i] == '+')) {
        sc->neg = s[i] == '-';
        i++;
    }
    if (i >= n || !val_is_digit((unsigned char)s[i]))
        return 0;
    int nsig = 0;      /* significant digits accumulated into w */
    int64_t dropped = 0; /* integer digits beyond the 19 that fit (they scale by 10) */
    for (; i < n && val_is_digit((unsigned char)s[i]); i++) {
        unsigned d = (unsigned)(s[i] - '0');
        if (nsig < 19) {
            sc->w = sc->w * 10 + d;
            if (sc->w)
                nsig++;
        } else {
            dropped++;
            if (d)
                sc->exact = 0;
        }
    }
    sc->e10 = dropped;
    if (i + 1 < n && s[i] == '.' && val_is_digit((unsigned char)s[i + 1])) {
        i++;
        for (; i < n && val_is_digit((unsigned char)s[i]); i++) {
            unsigned d = (unsigned)(s[i] - '0');
            if (nsig < 19) {
                sc->w = sc->w * 10 + d;
                if (sc->w)
                    nsig++;
                sc->e10--;
            } else if (d) {
                sc->exact = 0;
            }
        }
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        size_t j = i + 1;
        int eneg = 0;
        if (j < n && (s[j] == '-' || s[j] == '+')) {
            eneg = s[j] == '-';
            j++;
        }
        if (j < n && val_is_digit((unsigned char)s[j])) {
            int64_t e = 0;
            for (; j < n && val_is_digit((unsigned char)s[j]); j++)
                if (e < 100000000)
                    e = e * 10 + (s[j] - '0');
            sc->e10 += eneg ? -e : e;
            i = j;
        }
    }
    return i;
}

static const double val_pow10[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                     1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                     1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* Exact conversion when w and 10^|e10| are both exactly representable: then one IEEE
 * multiplication or division is the correctly rounded result, i.e. strtod's.
 * Returns 0 when the fast path does not apply. */
static int val_num_fast(const val_scan *sc, double *out)
{
    if (!sc->exact)
        return 0;
    if (sc->w == 0) {
        *out = sc->neg ? -0.0 : 0.0;
        return 1;
    }
    uint64_t w = sc->w;
    int64_t e = sc->e10;
    if (w > (1ull << 53))
        return 0;
    if (e > 22) {
        /* 12e22 is 120e21: move powers of ten into w while it stays exact */
        while (e > 22 && w <= (1ull << 53) / 10) {
            w *= 10;
            e--;
        }
        if (e > 22)
            return 0;
    }
    if (e < -22)
        return 0;
    double d = (double)w;
    d = e >= 0 ? d * val_pow10[e] : d / val_pow10[-e];
    *out = sc->neg ? -d : d;
    return 1;
}

/* strtod of text already checked against the number syntax, in the C locale so the
 * result does not depend on the host's LC_NUMERIC.  glibc returns its static C locale
 * object for newlocale(..., "C", 0), so this does not allocate there. */
static double val_num_slow(const char *s, size_t n)
{
    char buf[VAL_NUM_MAXLEN + 1];
    memcpy(buf, s, n);
    buf[n] = '\0';
    locale_t c = newlocale(LC_ALL_MASK, "C", (locale_t)0);
    double d = c ? strtod_l(buf, NULL, c) : strtod(buf, NULL);
    if (c)
        freelocale(c);
    return d;
}

/* s[0..n) is exactly one number (checked by the caller) described by sc. */
static int val_num_value(const char *s, size_t n, const val_scan *sc, double *out, const char **why)
{
    if (n > VAL_NUM_MAXLEN) {
        *why = "is too long for a number";
        return -1;
    }
    double d;
    if (!val_num_fast(sc, &d))
        d = val_num_slow(s, n);
    if (isinf(d)) {
        *why = "is out of range";
        return -1;
    }
    *out = d;
    return 0;
}

int val_parse_int(const char *s, size_t n, int64_t *out, const char **why)
{
    size_t i = 0;
    int neg = 0;
    if (n > 0 && (s[0] == '-' || s[0] == '+')) {
        neg = s[0] == '-';
        i = 1;
    }
    if (i >= n) {
        *why = "is not an integer";
        return -1;
    }
    uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    uint64_t v = 0;
    int over = 0;
    for (; i < n; i++) {
        unsigned d = (unsigned)((unsigned char)s[i] - '0');
        if (d >= 10) {
            *why = "is not an integer";
            return -1;
        }
        if (v > (limit - d) / 10)
            over = 1;
        else
            v = v * 10 + d;
    }
    if (over) {
        *why = "is out of range";
        return -1;
    }
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return 0;
}

int val_parse_number(const char *s, size_t n, double *out, const char **why)
{
    val_scan sc;
    size_t len = val_scan_number(s, n, &sc);
    if (len == 0 || len != n) {
        *why = n > VAL_NUM_MAXLEN ? "is too long for a number" : "is not a number";
        return -1;
    }
    return val_num_value(s, n, &sc, out, why);
}

/* Copies at most max bytes of s[0..n) into dst for a message, cut at a UTF-8
 * character boundary; returns the number copied. */
static size_t val_clip(const char *s, size_t n, size_t max)
{
    if (n <= max)
        return n;
    size_t k = max;
    while (k > 0 && ((unsigned char)s[k] & 0xC0) == 0x80)
        k--;
    return k;
}

static const char *val_article(val_dim d) { return d == DIM_IMPULSE ? "an" : "a"; }

static int val_storage_fast(uint64_t w, int64_t e10, int neg, const val_unit *u, double *out);

int val_parse_quantity(const char *s, size_t n, val_dim dim, const val_unit *default_unit,
                       double *si, const char **why, char *whybuf)
{
    val_scan sc;
    size_t len = val_scan_number(s, n, &sc);
    if (len == 0) {
        *why = "does not start with a number";
        return -1;
    }
    double v;
    if (val_num_value(s, len, &sc, &v, why) != 0)
        return -1;
    const val_unit *u;
    if (len == n) {
        u = default_unit ? default_unit : val_unit_base(dim);
        if (!u) {
            *why = "has no unit";
            return -1;
        }
    } else {
        size_t i = len;
        if (s[i] == ' ')
            i++;
        if (i >= n) {
            *why = "has a space but no unit after the number";
            return -1;
        }
        if (s[i] == ' ' || s[i] == '\t') {
            *why = "has more than one space before its unit";
            return -1;
        }
        u = val_unit_lookup(s + i, n - i);
        if (!u) {
            size_t k = val_clip(s + i, n - i, 24);
            snprintf(whybuf, 96, "has an unknown unit '%.*s%s'", (int)k, s + i, k < n - i ? "..." : "");
            *why = whybuf;
            return -1;
        }
        if (u->dim != dim) {
            snprintf(whybuf, 96, "has unit '%s', %s %s, but %s %s is expected", u->name, val_article(u->dim),
                     val_dim_name(u->dim), val_article(dim), val_dim_name(dim));
            *why = whybuf;
            return -1;
        }
    }
    double r;
    if (!(sc.exact && val_storage_fast(sc.w, sc.e10, sc.neg, u, &r)))
        r = val_to_storage(v, u);
    if (isinf(r)) {
        *why = "is out of range";
        return -1;
    }
    *si = r;
    return 0;
}

/* Writes the decimal digits of v (v < 10^20) ending at end; returns the start. */
static char *val_utoa_back(uint64_t v, char *end)
{
    do {
        *--end = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return end;
}

/* Reads back text written by %g in the C locale. */
static double val_readback(const char *s, size_t n)
{
    double d;
    const char *why;
    if (val_parse_number(s, n, &d, &why) == 0)
        return d;
    return NAN;
}

int val_format_double(double v, char *buf)
{
    if (isnan(v) || isinf(v)) {
        /* never a value of a record; written so that a message still reads */
        const char *t = isnan(v) ? "nan" : v < 0 ? "-inf" : "inf";
        strcpy(buf, t);
        return (int)strlen(t);
    }
    if (v == floor(v) && fabs(v) < 1e15) {
        /* integral: exact as an int64; -0 prints as "0" */
        char tmp[24], *end = tmp + sizeof tmp;
        int64_t i = (int64_t)v;
        char *p = val_utoa_back(i < 0 ? (uint64_t)-i : (uint64_t)i, end);
        if (i < 0)
            *--p = '-';
        size_t len = (size_t)(end - p);
        memcpy(buf, p, len);
        buf[len] = '\0';
        return (int)len;
    }
    /* Fixed notation with k fractional digits, for the smallest k at which the
     * decimal w / 10^k reads back as v (the parse of that text is the correctly
     * rounded quotient of two exact doubles, so the check is exact).  The range
     * is where %g would also write fixed notation. */
    double a = fabs(v);
    if (a >= 1e-4 && a < 1e15) {
        for (int k = 1; k <= 15; k++) {
            double scaled = nearbyint(a * val_pow10[k]);
            if (scaled > 9007199254740992.0)
                break;
            if (scaled / val_pow10[k] != a)
                continue;
            uint64_t w = (uint64_t)scaled;
            while (k > 1 && w % 10 == 0) { /* only if the product rounded onto a multiple of 10 */
                w /= 10;
                k--;
            }
            char tmp[40], *end = tmp + sizeof tmp;
            char *p = val_utoa_back(w, end);
            while (end - p <= k) /* a leading "0." and zeros for |v| < 1 */
                *--p = '0';
            size_t len = (size_t)(end - p), ip = len - (size_t)k;
            size_t o = 0;
            if (v < 0)
                buf[o++] = '-';
            memcpy(buf + o, p, ip);
            o += ip;
            buf[o++] = '.';
            memcpy(buf + o, p + ip, (size_t)k);
            o += (size_t)k;
            buf[o] = '\0';
            return (int)o;
        }
    }
    /* Any decimal of at most DBL_DIG (15) digits survives decimal -> double -> 15
     * digits, so if some decimal of <= 15 digits reads back as v, %.15g (which drops
     * trailing zeros) writes exactly that shortest one; otherwise try 16, then 17,
     * which always reads back.  The C locale keeps the decimal point a '.'. */
    locale_t c = newlocale(LC_ALL_MASK, "C", (locale_t)0);
    locale_t old = c ? uselocale(c) : (locale_t)0;
    int len = 0;
    for (int prec = DBL_DIG; prec <= 17; prec++) {
        len = snprintf(buf, 32, "%.*g", prec, v);
        if (prec == 17 || val_readback(buf, (size_t)len) == v)
            break;
    }
    if (c) {
        uselocale(old);
        freelocale(c);
    }
    return len;
}

/* ---- exact unit conversion ---------------------------------------------------- */

/* w * 10^e10 (w and the power exact in doubles) times u's factor with one rounding,
 * when that can be done in doubles: then the product w * fmant is exact and one
 * multiplication or division by an exact power of ten rounds once.  0: not here. */
static int val_storage_fast(uint64_t w, int64_t e10, int neg, const val_unit *u, double *out)
{
    if (w > (1ull << 53) || (u->fmant > 1 && w > (1ull << 53) / u->fmant))
        return 0;
    int64_t e = e10 + u->fexp;
    if (e > 22 || e < -22)
        return 0;
    double d = (double)(w * u->fmant);
    d = e >= 0 ? d * val_pow10[e] : d / val_pow10[-e];
    *out = neg ? -d : d;
    return 1;
}

double val_to_storage(double x, const val_unit *u)
{
    if (u->fmant == 1 && u->fexp == 0)
        return x;
    if (x == 0.0 || !isfinite(x))
        return x * u->factor;
    double r, ax = fabs(x);
    if (ax < 9007199254740992.0 && ax == floor(ax) && val_storage_fast((uint64_t)ax, 0, x < 0, u, &r))
        return r; /* the common case: a whole number of units */
    /* the shortest decimal of x (at most 17 significant digits: w holds them all) */
    char dec[40];
    int len = val_format_double(x, dec);
    val_scan sc;
    val_scan_number(dec, (size_t)len, &sc);
    if (sc.exact && val_storage_fast(sc.w, sc.e10, sc.neg, u, &r))
        return r;
    /* w * fmant is exact in 128 bits (10^19 * 10^14 < 2^128) */
    unsigned __int128 p = (unsigned __int128)sc.w * u->fmant;
    char digits[48], *end = digits + sizeof digits - 12, *q = end;
    do {
        *--q = (char)('0' + (int)(p % 10));
        p /= 10;
    } while (p);
    if (sc.neg)
        *--q = '-';
    snprintf(end, 12, "e%lld", (long long)(sc.e10 + u->fexp));
    /* strtod rounds correctly; the text is plain C-locale digits and 'e' */
    return strtod(q, NULL);
}

int val_format_in_unit(double v, const val_unit *u, char *buf)
{
    if (u->fmant == 1 && u->fexp == 0)
        return val_format_double(v, buf);
    double c = v / u->factor;
    if (!isfinite(c))
        return val_format_double(c, buf);
    /* usually c's own shortest decimal is short and converts back to v; a long one
     * (15+ digits) is rounding noise, and a shorter decimal is searched for below */
    int len = val_format_double(c, buf);
    int digits = 0;
    for (int i = 0; i < len && buf[i] != 'e'; i++)
        digits += buf[i] >= '0' && buf[i] <= '9';
    if (digits < 15 && val_to_storage(c, u) == v)
        return len;
    /* the shortest decimal near c that converts back to exactly v; else c's own
     * (the C locale keeps the decimal point a '.', as in val_format_double) */
    locale_t cl = newlocale(LC_ALL_MASK, "C", (locale_t)0);
    locale_t old = cl ? uselocale(cl) : (locale_t)0;
    char tmp[40];
    double best = c;
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, c);
        double back = strtod(tmp, NULL);
        if (val_to_storage(back, u) == v) {
            best = back;
            break;
        }
    }
    if (cl) {
        uselocale(old);
        freelocale(cl);
    }
    return val_format_double(best, buf);
}

/* ---- booleans --------------------------------------------------------------- */

/* Compares s[0..n) with a lower-case word of the same length, ignoring ASCII case. */
static int val_eq_lower(const char *s, const char *word, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (val_lower((unsigned char)s[i]) != (unsigned char)word[i])
            return 0;
    return 1;
}

int val_parse_bool(const char *s, size_t n, int *out, const char **why)
{
    int v = -1;
    switch (n) {
    case 1: {
        unsigned char c = val_lower((unsigned char)s[0]);
        v = c == 'y' || c == '1' ? 1 : c == 'n' || c == '0' ? 0 : -1;
        break;
    }
    case 2: v = val_eq_lower(s, "no", 2) ? 0 : -1; break;
    case 3: v = val_eq_lower(s, "yes", 3) ? 1 : -1; break;
    case 4: v = val_eq_lower(s, "true", 4) ? 1 : -1; break;
    case 5: v = val_eq_lower(s, "false", 5) ? 0 : -1; break;
    default: break;
    }
    if (v < 0) {
        *why = "is not a boolean (true/false, yes/no, y/n, 1/0)";
        return -1;
    }
    *out = v;
    return 0;
}

/* ---- dates -------------------------------------------------------------------- */

/* days_from_civil and civil_from_days: H. Hinnant, "chrono-Compatible Low-Level Date
 * Algorithms" (proleptic Gregorian, eras of 400 years). */
int32_t val_days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    int era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (unsigned)((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1);
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return (int32_t)(era * 146097 + (int)doe - 719468);
}

void val_civil_from_days(int32_t days, int *y, int *m, int *d)
{
    int64_t z = (int64_t)days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t yy = (int64_t)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yy + (*m <= 2));
}

static int val_month_days(int y, int m)
{
    static const unsigned char len[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))
        return 29;
    return len[m - 1];
}

int val_valid_civil(int y, int m, int d)
{
    return y >= 1 && y <= 9999 && m >= 1 && m <= 12 && d >= 1 && d <= val_month_days(y, m);
}

int val_parse_date(const char *s, size_t n, int32_t *days, const char **why)
{
    *why = "is not a date (expected YYYY-MM-DD)";
    if (n != 10 || s[4] != '-' || s[7] != '-')
        return -1;
    const unsigned char *u = (const unsigned char *)s;
    unsigned d0 = u[0] - '0', d1 = u[1] - '0', d2 = u[2] - '0', d3 = u[3] - '0';
    unsigned d5 = u[5] - '0', d6 = u[6] - '0', d8 = u[8] - '0', d9 = u[9] - '0';
    if ((d0 > 9) | (d1 > 9) | (d2 > 9) | (d3 > 9) | (d5 > 9) | (d6 > 9) | (d8 > 9) | (d9 > 9))
        return -1;
    int y = (int)(d0 * 1000 + d1 * 100 + d2 * 10 + d3);
    int m = (int)(d5 * 10 + d6);
    int d = (int)(d8 * 10 + d9);
    if (!val_valid_civil(y, m, d)) {
        *why = "is not a valid date";
        return -1;
    }
    *days = val_days_from_civil(y, m, d);
    return 0;
}

void val_format_date(int32_t days, char *buf)
{
    int y, m, d;
    val_civil_from_days(days, &y, &m, &d);
    if (y < 1 || y > 9999) {
        /* no date outside years 0001-9999 is ever parsed; keep the width */
        memcpy(buf, "\?\?\?\?-\?\?-\?\?", 11);
        return;
    }
    buf[0] = (char)('0' + y / 1000);
    buf[1] = (char)('0' + y / 100 % 10);
    buf[2] = (char)('0' + y / 10 % 10);
    buf[3] = (char)('0' + y % 10);
    buf[4] = '-';
    buf[5] = (char)('0' + m / 10);
    buf[6] = (char)('0' + m % 10);
    buf[7] = '-';
    buf[8] = (char)('0' + d / 10);
    buf[9] = (char)('0' + d % 10);
    buf[10] = '\0';
}

/* ---- codes -------------------------------------------------------------------- */

/* Reads a number without leading zeros at s[*i..n) into *v; 0 if there is none. */
static int val_code_num(const char *s, size_t n, size_t *i, unsigned *v)
{
    size_t j = *i;
    unsigned x = 0;
    if (j >= n || !val_is_digit((unsigned char)s[j]))
        return 0;
    if (s[j] == '0' && j + 1 < n && val_is_digit((unsigned char)s[j + 1]))
        return 0;
    for (; j < n && val_is_digit((unsigned char)s[j]); j++) {
        x = x * 10 + (unsigned)(s[j] - '0');
        if (x > 9999)
            return 0;
    }
    *i = j;
    *v = x;
    return 1;
}

int val_parse_code(const char *s, size_t n, uint64_t *out, const char **why)
{
    *why = "is not a valid control-list code";
    size_t i = 0;
    unsigned item;
    if (!val_code_num(s, n, &i, &item))
        return -1;
    if (item > 255) {
        *why = "is out of range";
        return -1;
    }
    if (i + 2 > n || s[i] != '.' || (unsigned char)(s[i + 1] - 'A') >= 26u)
        return -1;
    uint64_t c = (uint64_t)item | ((uint64_t)(unsigned char)s[i + 1] << 8);
    i += 2;
    int nseg = 2;
    while (i < n) {
        if (s[i] != '.' || i + 1 >= n || nseg >= VAL_CODE_MAXSEG)
            return -1;
        i++;
        unsigned b;
        unsigned char ch = (unsigned char)s[i];
        if ((unsigned)(ch - 'a') < 26u) {
            b = 201 + (ch - 'a');
            i++;
        } else {
            unsigned v;
            if (!val_code_num(s, n, &i, &v))
                return -1;
            if (v > 199) {
                *why = "is out of range";
                return -1;
            }
            b = v + 1;
        }
        if (i < n && s[i] != '.')
            return -1;
        c |= (uint64_t)b << (8 * nseg);
        nseg++;
    }
    *out = c | ((uint64_t)nseg << 56);
    return 0;
}

int val_format_code(uint64_t code, char *buf)
{
    int nseg = val_code_nseg(code);
    if (nseg > VAL_CODE_MAXSEG)
        nseg = VAL_CODE_MAXSEG;
    char tmp[8], *end = tmp + sizeof tmp;
    char *p = val_utoa_back(code & 0xFF, end);
    size_t len = (size_t)(end - p);
    memcpy(buf, p, len);
    if (nseg >= 2) {
        buf[len++] = '.';
        buf[len++] = (char)((code >> 8) & 0xFF);
    }
    for (int k = 2; k < nseg; k++) {
        unsigned b = (unsigned)((code >> (8 * k)) & 0xFF);
        buf[len++] = '.';
        if (b >= 201 && b <= 226) {
            buf[len++] = (char)('a' + (b - 201));
        } else {
            p = val_utoa_back(b ? b - 1 : 0, end);
            memcpy(buf + len, p, (size_t)(end - p));
            len += (size_t)(end - p);
        }
    }
    buf[len] = '\0';
    return (int)len;
}

/* ---- countries (ISO 3166-1) ------------------------------------------------------ */

int val_country_lookup(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    if (n == 2) {
        unsigned a = (u[0] | 0x20u) - 'a', b = (u[1] | 0x20u) - 'a';
        if (a >= 26 || b >= 26)
            return -1;
        return val_iso_alpha2_index[a * 26 + b];
    }
    if (n == 3) {
        unsigned a = (u[0] | 0x20u) - 'a', b = (u[1] | 0x20u) - 'a', c = (u[2] | 0x20u) - 'a';
        if (a >= 26 || b >= 26 || c >= 26)
            return -1;
        return val_iso_alpha3_index[(a * 26 + b) * 26 + c];
    }
    return -1;
}

/* ---- strings ------------------------------------------------------------------- */


/* A last word that normalize() drops (LANGUAGE 5). */
static int val_is_suffix_word(const char *w, size_t n)
{
    /* by length first: normalize() runs on every name a normalized set is asked about */
    switch (n) {
    case 2: return memcmp(w, "co", 2) == 0;
    case 3: return memcmp(w, "ltd", 3) == 0 || memcmp(w, "inc", 3) == 0 || memcmp(w, "llc", 3) == 0 ||
                   memcmp(w, "jsc", 3) == 0;
    case 4: return memcmp(w, "corp", 4) == 0 || memcmp(w, "gmbh", 4) == 0;
    case 7: return memcmp(w, "company", 7) == 0 || memcmp(w, "limited", 7) == 0;
    case 11: return memcmp(w, "corporation", 11) == 0;
    default: return 0;
    }
}

/* normalize()'s view of a byte: 0 for an ASCII separator, else the byte itself
 * with ASCII letters lowered (bytes >= 0x80, parts of UTF-8 letters, are kept). */
static const unsigned char val_norm_map[256] = {
#define D(c) [c] = c
#define L(c) [c] = (c) + 32, [(c) + 32] = (c) + 32
    D('0'), D('1'), D('2'), D('3'), D('4'), D('5'), D('6'), D('7'), D('8'), D('9'),
    L('A'), L('B'), L('C'), L('D'), L('E'), L('F'), L('G'), L('H'), L('I'), L('J'), L('K'), L('L'), L('M'),
    L('N'), L('O'), L('P'), L('Q'), L('R'), L('S'), L('T'), L('U'), L('V'), L('W'), L('X'), L('Y'), L('Z'),
#undef D
#undef L
#define H(c) [c] = c
#define H8(c) H(c), H(c + 1), H(c + 2), H(c + 3), H(c + 4), H(c + 5), H(c + 6), H(c + 7)
#define H64(c) H8(c), H8(c + 8), H8(c + 16), H8(c + 24), H8(c + 32), H8(c + 40), H8(c + 48), H8(c + 56)
    H64(0x80), H64(0xC0),
#undef H
#undef H8
#undef H64
};

size_t val_normalize(const char *s, size_t n, char *out)
{
    size_t len = 0;
    size_t last_space = SIZE_MAX; /* where the last separator space was written */
    int gap = 0; /* a run of separators is pending since the last kept byte */
    for (size_t i = 0; i < n; i++) {
        unsigned char t = val_norm_map[(unsigned char)s[i]];
        if (!t) {
            gap = 1;
            continue;
        }
        if (gap && len > 0) {
            last_space = len;
            out[len++] = ' ';
        }
        gap = 0;
        out[len++] = (char)t;
    }
    /* drop trailing legal-form words while more than one word remains */
    while (last_space != SIZE_MAX && val_is_suffix_word(out + last_space + 1, len - last_space - 1)) {
        len = last_space;
        char *sp = memrchr(out, ' ', len);
        last_space = sp ? (size_t)(sp - out) : SIZE_MAX;
    }
    return len;
}

int val_starts_with_ci(const char *s, size_t n, const char *prefix, size_t np)
{
    if (np > n)
        return 0;
    for (size_t i = 0; i < np; i++)
        if (val_lower((unsigned char)s[i]) != val_lower((unsigned char)prefix[i]))
            return 0;
    return 1;
}

int val_contains_ci(const char *hay, size_t nh, const char *needle, size_t nn)
{
    if (nn == 0)
        return 1;
    if (nn > nh)
        return 0;
    unsigned char f = val_lower((unsigned char)needle[0]);
    unsigned char F = (unsigned char)((unsigned)(f - 'a') < 26u ? f - 32 : f);
    for (size_t i = 0; i + nn <= nh; i++) {
        unsigned char c = (unsigned char)hay[i];
        if ((c == f || c == F) && val_starts_with_ci(hay + i + 1, nn - 1, needle + 1, nn - 1))
            return 1;
    }
    return 0;
}

int val_utf8_valid(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        /* ASCII runs eight bytes at a time */
        while (i + 8 <= n) {
            uint64_t w;
            memcpy(&w, u + i, 8);
            if (w & 0x8080808080808080ull)
                break;
            i += 8;
        }
        if (i >= n)
            break;
        unsigned char c = u[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t need;
        unsigned char lo = 0x80, hi = 0xBF; /* range of the first continuation byte */
        if (c >= 0xC2 && c <= 0xDF) {
            need = 1;
        } else if (c >= 0xE0 && c <= 0xEF) {
            need = 2;
            if (c == 0xE0)
                lo = 0xA0; /* overlong */
            else if (c == 0xED)
                hi = 0x9F; /* surrogates */
        } else if (c >= 0xF0 && c <= 0xF4) {
            need = 3;
            if (c == 0xF0)
                lo = 0x90; /* overlong */
            else if (c == 0xF4)
                hi = 0x8F; /* above U+10FFFF */
        } else {
            return 0;
        }
        if (n - i <= need)
            return 0;
        if (u[i + 1] < lo || u[i + 1] > hi)
            return 0;
        for (size_t k = 2; k <= need; k++)
            if ((u[i + k] & 0xC0) != 0x80)
                return 0;
        i += need + 1;
    }
    return 1;
}
