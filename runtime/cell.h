/* cell.h — reading one input cell into a field's value (SPEC 4): the one place
 * where CSV cells, JSON values, mtcr_batch_set and test `given` strings become
 * pg_vals, so every input path accepts exactly the same text.
 *
 * The parser is inline (always): check's per-cell loop (api.c) compiles it in
 * place, which saves a call and a dispatch per cell of every record (measured
 * with bench/quick.sh and cachegrind).  pg_parse_cell in cell.c is the
 * out-of-line copy for everyone else. */
#ifndef MTCR_CELL_H
#define MTCR_CELL_H

#include "program.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int pg_enum_lookup(const pg_enum *e, const char *s, size_t n)
{
    for (size_t i = 0; i < e->nmembers; i++) {
        const char *m = e->members[i];
        if (strlen(m) == n && strncasecmp(m, s, n) == 0)
            return (int)i;
    }
    for (size_t i = 0; i < e->nmembers; i++) {
        const char *t = e->titles[i];
        if (t && strlen(t) == n && strncasecmp(t, s, n) == 0)
            return (int)i;
    }
    return -1;
}

/* The literal forms of LANGUAGE 1 that plain number parsing does not take (the
 * input follows the literal syntax, SPEC 4): digit groups `1_000_000` (a `_`
 * between two digits) and, for numbers, a percent `3.33%` = 0.0333, whose
 * decimal exponent moves by two so the value is the double nearest the written
 * one.  Rewrites s into buf (size >= 64) as a plain number and returns its length,
 * or 0 when s has neither form or is not made of number characters. */
static size_t pg_literal_form(const char *s, size_t n, int allow_percent, char *buf, size_t size)
{
    int percent = allow_percent && n > 1 && s[n - 1] == '%';
    if (percent)
        n--;
    if (!percent && !memchr(s, '_', n))
        return 0;
    size_t k = 0;
    long exp = 0;
    int has_exp = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '_') {
            if (i == 0 || i + 1 >= n || s[i - 1] < '0' || s[i - 1] > '9' || s[i + 1] < '0' || s[i + 1] > '9')
                return 0;
            continue;
        }
        if (percent && (c == 'e' || c == 'E')) {
            char *end;
            char tmp[32];
            size_t m = n - i - 1 < sizeof tmp - 1 ? n - i - 1 : sizeof tmp - 1;
            memcpy(tmp, s + i + 1, m);
            tmp[m] = '\0';
            exp = strtol(tmp, &end, 10);
            if (end == tmp || *end || m == 0)
                return 0;
            has_exp = 1;
            break;
        }
        if (k + 24 >= size)
            return 0;
        buf[k++] = c;
    }
    if (percent) {
        (void)has_exp;
        int w = snprintf(buf + k, size - k, "e%ld", exp - 2);
        if (w < 0 || (size_t)w >= size - k)
            return 0;
        k += (size_t)w;
    }
    return k;
}

static inline __attribute__((always_inline)) int pg_cell_parse(const pg_rules *rules, const pg_field *f,
                                                                const char *s, size_t n, pg_val *out,
                                                                const char **why, char *whybuf)
{
    out->known = 1;
    out->len = 0;
    if ((f->type == PT_INT || f->type == PT_NUM) && n > 0 && (s[n - 1] == '%' || memchr(s, '_', n))) {
        char lit[128];
        size_t m = pg_literal_form(s, n, f->type == PT_NUM && f->dim == DIM_NONE, lit, sizeof lit);
        if (m) {
            int rc = pg_parse_cell(rules, f, lit, m, out, why, whybuf); /* the rewritten text, out of line */
            if (rc != 0 && s[n - 1] == '%' && f->type == PT_INT)
                *why = "is a percentage, not an integer";
            return rc;
        }
        if (f->type == PT_INT && s[n - 1] == '%') {
            *why = "is a percentage, not an integer";
            return -1;
        }
    }
    switch (f->type) {
    case PT_STR:
        out->s = s;
        out->len = (uint32_t)n;
        return 0;
    case PT_BOOL: {
        int v;
        if (val_parse_bool(s, n, &v, why) != 0)
            return -1;
        out->i = v;
        return 0;
    }
    case PT_INT:
        return val_parse_int(s, n, &out->i, why);
    case PT_NUM:
        if (f->dim != DIM_NONE)
            return val_parse_quantity(s, n, f->dim, f->unit, &out->d, why, whybuf);
        return val_parse_number(s, n, &out->d, why);
    case PT_DATE: {
        int32_t d;
        if (val_parse_date(s, n, &d, why) != 0)
            return -1;
        out->i = d;
        return 0;
    }
    case PT_CODE:
        return val_parse_code(s, n, &out->u, why);
    case PT_ENUM: {
        const pg_enum *e = &rules->enums[f->enum_id];
        if (e->is_country) {
            int c = val_country_lookup(s, n);
            int m = c >= 0 ? e->country_map[c] : -1;
            if (m < 0) {
                *why = "is not an ISO 3166-1 country code";
                return -1;
            }
            out->i = m;
            return 0;
        }
        int m = pg_enum_lookup(e, s, n);
        if (m < 0) {
            /* name the members when they fit the message buffer (>= 128 bytes) */
            int w = snprintf(whybuf, 128, "is not a %s (", e->name);
            for (size_t i = 0; i < e->nmembers && w > 0 && w < 100; i++)
                w += snprintf(whybuf + w, 128 - (size_t)w, "%s%s", i ? ", " : "", e->members[i]);
            if (w > 0 && w < 100)
                snprintf(whybuf + w, 128 - (size_t)w, ")");
            else
                snprintf(whybuf, 128, "is not a %s (expected a member name or title)", e->name);
            *why = whybuf;
            return -1;
        }
        out->i = m;
        return 0;
    }
    }
    *why = "has an unsupported type";
    return -1;
}

#endif
