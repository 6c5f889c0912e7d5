/* cell.c — the out-of-line copy of pg_cell_parse (cell.h). */
#include "cell.h"

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
            break;
        }
        if (k + 24 >= size)
            return 0;
        buf[k++] = c;
    }
    if (percent) {
        int w = snprintf(buf + k, size - k, "e%ld", exp - 2);
        if (w < 0 || (size_t)w >= size - k)
            return 0;
        k += (size_t)w;
    }
    return k;
}

int pg_parse_cell(const pg_rules *rules, const pg_field *f, const char *s, size_t n, pg_val *out,
                  const char **why, char *whybuf)
{
    return pg_cell_parse(rules, f, s, n, out, why, whybuf);
}

int pg_parse_cell_literal(const pg_rules *rules, const pg_field *f, const char *s, size_t n, pg_val *out,
                          const char **why, char *whybuf, int rc)
{
    if (n == 0 || (s[n - 1] != '%' && !memchr(s, '_', n)))
        return rc;
    char lit[128];
    size_t m = pg_literal_form(s, n, f->type == PT_NUM && f->dim == DIM_NONE, lit, sizeof lit);
    if (m)
        rc = pg_cell_plain(rules, f, lit, m, out, why, whybuf);
    if (rc != 0 && f->type == PT_INT && s[n - 1] == '%')
        *why = "is a percentage, not an integer";
    return rc;
}
