/* cell.c — the out-of-line copy of pg_cell_parse (cell.h). */
#include "cell.h"

int pg_parse_cell(const pg_rules *rules, const pg_field *f, const char *s, size_t n, pg_val *out,
                  const char **why, char *whybuf)
{
    return pg_cell_parse(rules, f, s, n, out, why, whybuf);
}
