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

/* The literal forms (`1_000`, `3.33%`) of an int or number cell the plain parse
 * refused: in cell.c, out of line, since they are rare.  Returns the parse of
 * the rewritten text, or `rc` (and *why unchanged) when s has neither form. */
int pg_parse_cell_literal(const pg_rules *rules, const pg_field *f, const char *s, size_t n, pg_val *out,
                          const char **why, char *whybuf, int rc);

static inline __attribute__((always_inline)) int pg_cell_plain(const pg_rules *rules, const pg_field *f,
                                                                const char *s, size_t n, pg_val *out,
                                                                const char **why, char *whybuf)
{
    out->known = 1;
    out->len = 0;
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

static inline __attribute__((always_inline)) int pg_cell_parse(const pg_rules *rules, const pg_field *f,
                                                                const char *s, size_t n, pg_val *out,
                                                                const char **why, char *whybuf)
{
    int rc = pg_cell_plain(rules, f, s, n, out, why, whybuf);
    if (rc == 0 || (f->type != PT_INT && f->type != PT_NUM))
        return rc;
    return pg_parse_cell_literal(rules, f, s, n, out, why, whybuf, rc);
}

#endif
