/* value.h — the runtime representation of values and the parsing of input text.
 *
 * Representation (DESIGN 8): dates are day numbers (days since 1970-01-01,
 * proleptic Gregorian), quantities doubles in SI base units (kg, m, N·s, m³, m/s),
 * codes packed into a uint64 so that `under` is a mask and a compare, countries and
 * enum members small integers, strings (pointer, length) into the input buffer.
 *
 * Contract: every parser takes (text, length) — text is NOT NUL-terminated — and
 * returns 0 on success or -1 with a short reason in *why (a static string, or one
 * written into the caller's buffer where noted).  Nothing allocates.
 */
#ifndef MTCR_VALUE_H
#define MTCR_VALUE_H

#include <stddef.h>
#include <stdint.h>

/* ---- units ------------------------------------------------------------------ */

typedef enum { DIM_NONE, DIM_MASS, DIM_DISTANCE, DIM_IMPULSE, DIM_VOLUME, DIM_SPEED, DIM__COUNT } val_dim;

/* Quantities are held as doubles in one storage unit per dimension: kg, m, N·s,
 * litre and metre per hour.  Every unit of LANGUAGE 4 is an exact decimal multiple
 * of these (1 lb = 0.45359237 kg, 1 km/h = 1000 m/h, 1 kn = 1852 m/h), so a value
 * converts with one rounding: the decimal as written times the exact factor,
 * rounded once to double (val_to_storage).  Thus 25000 ml == 25 l, 700 g == 0.7 kg. */
typedef struct {
    const char *name; /* as written in rules and input: "kg", "nmi", "m/s", "lbf_s" */
    val_dim dim;
    double factor;    /* value in the storage unit = value * factor, rounded (for estimates) */
    uint64_t fmant;   /* the exact factor is fmant * 10^fexp */
    int fexp;
} val_unit;

/* x, a value in unit u, in the storage unit: the shortest decimal of x times u's
 * exact factor, rounded once. */
double val_to_storage(double x, const val_unit *u);
/* A storage-unit value written in unit u: the shortest decimal that converts back
 * to exactly v (LANGUAGE 8).  Returns the length; buf holds >= 40 bytes. */
int val_format_in_unit(double v, const val_unit *u, char *buf);

/* The unit named exactly (s, n); NULL if none. */
const val_unit *val_unit_lookup(const char *s, size_t n);
/* The default unit of a dimension, where none is declared ("kg", "m", "Ns", "m3", "m/s"). */
const val_unit *val_unit_base(val_dim d);
const char *val_dim_name(val_dim d); /* "mass", "distance", ... */
/* All units, NULL-terminated by an entry with name NULL (for the lexer and docs). */
extern const val_unit val_units[];

/* ---- numbers ---------------------------------------------------------------- */

/* Integers: optional sign, decimal digits only.  Overflow is an error. */
int val_parse_int(const char *s, size_t n, int64_t *out, const char **why);
/* Numbers: optional sign, digits, optional .digits, optional exponent; also integers.
 * No leading/trailing spaces, no hex, no inf/nan. */
int val_parse_number(const char *s, size_t n, double *out, const char **why);
/* Quantities of dimension `dim`: a number, at most one space, and a unit of that
 * dimension ("190 nmi", "190nmi"); or a bare number read in `default_unit`.
 * A unit of another dimension is an error naming it ("unit 'km' is a distance, expected mass").
 * `why` is written into `whybuf` (size >= 96) for such errors. */
int val_parse_quantity(const char *s, size_t n, val_dim dim, const val_unit *default_unit,
                       double *si, const char **why, char *whybuf);

/* Shortest decimal that reads back exactly ("600", "0.5", "1100000", "1.1e+20");
 * returns the length written into buf (size >= 32). */
int val_format_double(double v, char *buf);

/* ---- booleans --------------------------------------------------------------- */

/* true/false/yes/no/y/n/1/0, ASCII case ignored. */
int val_parse_bool(const char *s, size_t n, int *out, const char **why);

/* ---- dates -------------------------------------------------------------------- */

/* Exactly YYYY-MM-DD, years 0001-9999, a real calendar day. */
int val_parse_date(const char *s, size_t n, int32_t *days, const char **why);
int32_t val_days_from_civil(int y, int m, int d);
void val_civil_from_days(int32_t days, int *y, int *m, int *d);
int val_valid_civil(int y, int m, int d);
/* Writes "YYYY-MM-DD" and a NUL into buf (size >= 11). */
void val_format_date(int32_t days, char *buf);

/* ---- codes -------------------------------------------------------------------- */

/* Packing: byte i (i = 0..6) holds segment i+1, byte 7 the number of segments.
 * Segment 1 is the item number (0..255), segment 2 the upper-case letter ('A'..'Z'),
 * later segments are a number 0..199 stored as n+1, or a lower-case letter stored as
 * 201 + (c - 'a').  So `a under b` is: nseg(a) >= nseg(b) and the first nseg(b)
 * bytes are equal. */
#define VAL_CODE_MAXSEG 7
int val_parse_code(const char *s, size_t n, uint64_t *out, const char **why);
int val_format_code(uint64_t code, char *buf); /* buf size >= 40; returns length */
static inline int val_code_nseg(uint64_t c) { return (int)(c >> 56); }
static inline int val_code_under(uint64_t a, uint64_t b)
{
    int nb = val_code_nseg(b);
    if (val_code_nseg(a) < nb)
        return 0;
    uint64_t mask = nb >= 7 ? 0x00FFFFFFFFFFFFFFull : ((1ull << (8 * nb)) - 1);
    return (a & mask) == (b & mask);
}
static inline int val_code_number(uint64_t c) { return (int)(c & 0xFF); }
static inline char val_code_kind(uint64_t c) { return (char)((c >> 8) & 0xFF); }

/* ---- countries (ISO 3166-1) ------------------------------------------------------ */

typedef struct {
    const char *alpha2, *alpha3, *name;
} val_country;

extern const val_country val_countries[]; /* every ISO 3166-1 entry, sorted by alpha2 */
extern const size_t val_ncountries;
/* Index into val_countries of an alpha-2 or alpha-3 code, any case; -1 if none. */
int val_country_lookup(const char *s, size_t n);

/* ---- strings ------------------------------------------------------------------- */

/* normalize() of LANGUAGE.md section 5.  Writes at most n bytes into out (which
 * may not alias s) and returns the length. */
size_t val_normalize(const char *s, size_t n, char *out);
/* ASCII-case-insensitive search / prefix test. */
int val_contains_ci(const char *hay, size_t nh, const char *needle, size_t nn);
int val_starts_with_ci(const char *s, size_t n, const char *prefix, size_t np);
/* 1 if s[0..n) is valid UTF-8 (no overlongs, no surrogates, <= U+10FFFF). */
int val_utf8_valid(const char *s, size_t n);

#endif
