/* writer.c — the text, JSON Lines and CSV formats of SPEC 5. */
#include "writer.h"
#include "arena.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

static const char *const sev_names[] = {"clear", "notify", "review", "deny", "prohibit"};
static const char *const sev_colors[] = {"\033[32m", "\033[36m", "\033[33m", "\033[31m", "\033[1;31m"};

/* Bytes that JSON strings must escape: controls, '"' and '\\'. */
static const uint8_t json_special[256] = {
    [0 ... 0x1f] = 1, ['"'] = 1, ['\\'] = 1,
};

/* Does any of the 8 bytes of v need escaping?  Word-at-a-time (SWAR) test for a
 * byte < 0x20, '"' or '\\'; it may say yes for a clean word after a real hit
 * (borrows), never no for a dirty one.  Messages are mostly clean text, and this
 * skips them 8 bytes per step. */
static inline int json_dirty8(uint64_t v)
{
    const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
    uint64_t q = v ^ (ones * '"'), bs = v ^ (ones * '\\');
    uint64_t t = ((v - ones * 0x20) & ~v) | ((q - ones) & ~q) | ((bs - ones) & ~bs);
    return (t & high) != 0;
}

void wr_json_escape(pg_buf *b, const char *s, size_t n)
{
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        if ((i & 7) == 0) {
            while (i + 8 <= n) {
                uint64_t v;
                memcpy(&v, s + i, 8);
                if (json_dirty8(v))
                    break;
                i += 8;
            }
            if (i >= n)
                break;
        }
        unsigned char c = (unsigned char)s[i];
        if (!json_special[c])
            continue;
        pg_buf_put(b, s + start, i - start);
        start = i + 1;
        char esc[8];
        switch (c) {
        case '"': pg_buf_put(b, "\\\"", 2); break;
        case '\\': pg_buf_put(b, "\\\\", 2); break;
        case '\n': pg_buf_put(b, "\\n", 2); break;
        case '\r': pg_buf_put(b, "\\r", 2); break;
        case '\t': pg_buf_put(b, "\\t", 2); break;
        default:
            snprintf(esc, sizeof esc, "\\u%04x", c);
            pg_buf_puts(b, esc);
        }
    }
    pg_buf_put(b, s + start, n - start);
}

static void json_str(pg_buf *b, const char *s, size_t n)
{
    pg_buf_putc(b, '"');
    wr_json_escape(b, s, n);
    pg_buf_putc(b, '"');
}

static void csv_cell(pg_buf *b, const char *s, size_t n)
{
    int quote = 0;
    for (size_t i = 0; i < n && !quote; i++)
        quote = s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r';
    if (!quote) {
        pg_buf_put(b, s, n);
        return;
    }
    pg_buf_putc(b, '"');
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"')
            pg_buf_putc(b, '"');
        pg_buf_putc(b, s[i]);
    }
    pg_buf_putc(b, '"');
}

void wr_begin(wr_ctx *w)
{
    if (w->fmt == MTCR_FORMAT_CSV && !w->header_done)
        pg_buf_puts(&w->out, w->with_file ? "file,id,line,verdict,rule,severity,message\n"
                                          : "id,line,verdict,rule,severity,message\n");
    w->header_done = 1;
}

int wr_flush(wr_ctx *w)
{
    if (w->failed)
        return -1;
    if (w->out.oom) {
        w->failed = 1;
        return -1;
    }
    if (w->out.len && w->write(w->ud, w->out.p, w->out.len) != 0) {
        w->failed = 1;
        return -1;
    }
    w->out.len = 0;
    return 0;
}

int wr_finish(wr_ctx *w)
{
    int rc = wr_flush(w);
    mtcr_xfree(w->out.p);
    mtcr_xfree(w->msg.p);
    mtcr_xfree(w->fixed.p);
    mtcr_xfree(w->fixed_at);
    w->out = w->msg = w->fixed = (pg_buf){0};
    w->fixed_at = NULL;
    w->fixed_for = NULL;
    return rc;
}

int wr_wants(const wr_ctx *w, const pg_batch *bt, size_t row)
{
    if (bt->rejected[row] || w->all)
        return 1;
    /* a finding makes the verdict at least notify, except a clear-severity one,
     * which the checker does not allow: so verdict > clear <=> some finding */
    return bt->verdict[row] > 0;
}

/* The severity a rule's outcome gives. */
static int outcome_sev(const pg_rule *r, int o)
{
    return o == PG_FIRED ? r->severity : r->unknown_severity;
}

/* One evidence value as text (LANGUAGE 8), in the writer's scratch buffer. */
static const pg_buf *evidence_text(wr_ctx *w, const pg_batch *bt, const pg_evidence *ev, size_t row)
{
    pg_val v = pg_batch_value(bt, ev->reg, row);
    w->msg.len = 0;
    pg_buf_fmt_val(&w->msg, bt->rules, &ev->fmt, &v);
    return &w->msg;
}

/* The JSON of a finding around its message depends only on the rule and the
 * outcome, so it is escaped once per rule set, not once per finding (the
 * writer is on the hot path when many records have findings). */
static int json_fixed(wr_ctx *w, const pg_rules *rules)
{
    if (w->fixed_for == rules)
        return 0;
    mtcr_xfree(w->fixed_at);
    w->fixed.len = 0;
    w->fixed_at = mtcr_xmalloc((rules->nrules * 4 + 1) * sizeof(size_t));
    if (!w->fixed_at)
        return -1;
    pg_buf *f = &w->fixed;
    for (size_t k = 0; k < rules->nrules; k++) {
        const pg_rule *r = &rules->rules[k];
        const pg_commitment *c = &rules->commitments[r->commitment];
        for (int unknown = 0; unknown < 2; unknown++) {
            int sev = unknown ? r->unknown_severity : r->severity;
            w->fixed_at[k * 4 + unknown * 2] = f->len;
            pg_buf_puts(f, "{\"rule\":");
            json_str(f, r->name, strlen(r->name));
            pg_buf_puts(f, ",\"commitment\":");
            json_str(f, c->name, strlen(c->name));
            pg_buf_puts(f, ",\"module\":");
            json_str(f, c->module ? c->module : "", c->module ? strlen(c->module) : 0);
            pg_buf_puts(f, ",\"severity\":\"");
            pg_buf_puts(f, (unsigned)sev < 5 ? sev_names[sev] : "clear");
            pg_buf_puts(f, "\",\"message\":");
            w->fixed_at[k * 4 + unknown * 2 + 1] = f->len;
            pg_buf_puts(f, ",\"cite\":");
            json_str(f, r->cite, strlen(r->cite));
            pg_buf_puts(f, unknown ? ",\"unknown\":true" : ",\"unknown\":false");
        }
    }
    w->fixed_at[rules->nrules * 4] = f->len;
    if (f->oom) {
        mtcr_xfree(w->fixed_at);
        w->fixed_at = NULL;
        return -1;
    }
    w->fixed_for = rules;
    return 0;
}

/* fixed text number `part` (0 pre, 1 post) of rule k's outcome */
static void put_fixed(wr_ctx *w, size_t k, int unknown, int part)
{
    size_t i = k * 4 + (size_t)unknown * 2 + (size_t)part;
    pg_buf_put(&w->out, w->fixed.p + w->fixed_at[i], w->fixed_at[i + 1] - w->fixed_at[i]);
}

static void json_record(wr_ctx *w, const pg_batch *bt, size_t row, uint64_t line, const char *id,
                        size_t idlen, const char *reject)
{
    pg_buf *b = &w->out;
    pg_buf_putc(b, '{');
    if (id) {
        pg_buf_puts(b, "\"id\":");
        json_str(b, id, idlen);
        pg_buf_putc(b, ',');
    }
    if (w->with_file) {
        pg_buf_puts(b, "\"file\":");
        json_str(b, w->file, strlen(w->file));
        pg_buf_putc(b, ',');
    }
    pg_buf_puts(b, "\"line\":");
    pg_buf_u64(b, line);
    if (reject) {
        pg_buf_puts(b, ",\"rejected\":true,\"error\":");
        json_str(b, reject, strlen(reject));
        pg_buf_puts(b, "}\n");
        return;
    }
    const pg_rules *rules = bt->rules;
    const pg_record *rec = bt->rec;
    pg_buf_puts(b, ",\"verdict\":\"");
    pg_buf_puts(b, sev_names[bt->verdict[row]]);
    pg_buf_puts(b, "\",\"findings\":[");
    if (json_fixed(w, rules) != 0) {
        b->oom = 1;
        return;
    }
    int first = 1;
    pg_buf *msg = &w->msg;
    for (size_t k = 0; k < rec->nrules; k++) {
        int o = bt->outcome[k * bt->cap + row];
        if (o == PG_NONE)
            continue;
        size_t ri = (size_t)rec->rules[k];
        const pg_rule *r = &rules->rules[ri];
        int unknown = o == PG_UNKNOWN;
        if (!first)
            pg_buf_putc(b, ',');
        first = 0;
        put_fixed(w, ri, unknown, 0);
        msg->len = 0;
        pg_render_message(msg, bt, r, row, unknown);
        json_str(b, msg->p ? msg->p : "", msg->len);
        put_fixed(w, ri, unknown, 1);
        if (w->explain) {
            pg_buf_puts(b, ",\"evidence\":{");
            for (size_t e = 0; e < r->nevidence; e++) {
                const pg_evidence *ev = &r->evidence[e];
                if (e)
                    pg_buf_putc(b, ',');
                json_str(b, ev->label, strlen(ev->label));
                pg_buf_putc(b, ':');
                const pg_buf *v = evidence_text(w, bt, ev, row);
                json_str(b, v->p ? v->p : "", v->len);
            }
            pg_buf_putc(b, '}');
        }
        pg_buf_putc(b, '}');
    }
    pg_buf_puts(b, "]}\n");
}

static void csv_record(wr_ctx *w, const pg_batch *bt, size_t row, uint64_t line, const char *id,
                       size_t idlen, const char *reject)
{
    pg_buf *b = &w->out;
#define PREFIX()                                                                                   \
    do {                                                                                           \
        if (w->with_file) {                                                                        \
            csv_cell(b, w->file, strlen(w->file));                                                 \
            pg_buf_putc(b, ',');                                                                   \
        }                                                                                          \
        if (id)                                                                                    \
            csv_cell(b, id, idlen);                                                                \
        pg_buf_putc(b, ',');                                                                       \
        pg_buf_u64(b, line);                                                                          \
        pg_buf_putc(b, ',');                                                                       \
    } while (0)
    if (reject) {
        PREFIX();
        pg_buf_puts(b, "rejected,,,");
        csv_cell(b, reject, strlen(reject));
        pg_buf_putc(b, '\n');
        return;
    }
    const pg_rules *rules = bt->rules;
    const pg_record *rec = bt->rec;
    int any = 0;
    pg_buf *msg = &w->msg;
    for (size_t k = 0; k < rec->nrules; k++) {
        int o = bt->outcome[k * bt->cap + row];
        if (o == PG_NONE)
            continue;
        const pg_rule *r = &rules->rules[rec->rules[k]];
        any = 1;
        PREFIX();
        pg_buf_puts(b, sev_names[bt->verdict[row]]);
        pg_buf_putc(b, ',');
        pg_buf_puts(b, r->name);
        pg_buf_putc(b, ',');
        pg_buf_puts(b, sev_names[outcome_sev(r, o)]);
        pg_buf_putc(b, ',');
        msg->len = 0;
        pg_render_message(msg, bt, r, row, o == PG_UNKNOWN);
        csv_cell(b, msg->p ? msg->p : "", msg->len);
        pg_buf_putc(b, '\n');
    }
    if (!any) {
        PREFIX();
        pg_buf_puts(b, "clear,,,\n");
    }
#undef PREFIX
}

/* Text output goes to terminals: control bytes from the data (ESC, CR, newlines in
 * a quoted cell...) are shown as \xNN, never sent, so input cannot move the cursor
 * or recolour the screen. */
static void text_put(pg_buf *b, const char *s, size_t n)
{
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != 0x7f)
            continue;
        pg_buf_put(b, s + start, i - start);
        char esc[8];
        snprintf(esc, sizeof esc, "\\x%02x", c);
        pg_buf_puts(b, esc);
        start = i + 1;
    }
    pg_buf_put(b, s + start, n - start);
}

static void text_record(wr_ctx *w, const pg_batch *bt, size_t row, uint64_t line, const char *id,
                        size_t idlen, const char *reject)
{
    pg_buf *b = &w->out;
    const char *reset = w->color ? "\033[0m" : "";
    char head[64];
    snprintf(head, sizeof head, ":%llu", (unsigned long long)line);
    pg_buf_puts(b, w->file);
    pg_buf_puts(b, head);
    pg_buf_puts(b, "  ");
    if (id)
        text_put(b, id, idlen);
    else
        pg_buf_puts(b, "(no id)");
    pg_buf_puts(b, "  ");
    if (reject) {
        pg_buf_puts(b, w->color ? "\033[1;35mREJECTED\033[0m  " : "REJECTED  ");
        text_put(b, reject, strlen(reject));
        pg_buf_putc(b, '\n');
        return;
    }
    int v = bt->verdict[row];
    if (w->color)
        pg_buf_puts(b, sev_colors[v]);
    for (const char *p = sev_names[v]; *p; p++)
        pg_buf_putc(b, (char)(*p - 32));
    pg_buf_puts(b, reset);
    pg_buf_putc(b, '\n');
    const pg_rules *rules = bt->rules;
    const pg_record *rec = bt->rec;
    pg_buf *msg = &w->msg;
    for (size_t k = 0; k < rec->nrules; k++) {
        int o = bt->outcome[k * bt->cap + row];
        if (o == PG_NONE)
            continue;
        const pg_rule *r = &rules->rules[rec->rules[k]];
        int s = outcome_sev(r, o);
        char sev[16];
        snprintf(sev, sizeof sev, "%-9s", sev_names[s]);
        pg_buf_puts(b, "    ");
        if (w->color)
            pg_buf_puts(b, sev_colors[s]);
        pg_buf_puts(b, sev);
        pg_buf_puts(b, reset);
        pg_buf_puts(b, r->name);
        pg_buf_puts(b, ": ");
        msg->len = 0;
        pg_render_message(msg, bt, r, row, o == PG_UNKNOWN);
        text_put(b, msg->p ? msg->p : "", msg->len);
        if (r->cite[0]) {
            pg_buf_puts(b, w->color ? "  \033[2m[" : "  [");
            pg_buf_puts(b, r->cite);
            pg_buf_puts(b, "]");
            pg_buf_puts(b, reset);
        }
        pg_buf_putc(b, '\n');
        if (w->explain && r->nevidence) {
            pg_buf_puts(b, "              evidence: ");
            for (size_t e = 0; e < r->nevidence; e++) {
                const pg_evidence *ev = &r->evidence[e];
                if (e)
                    pg_buf_puts(b, ", ");
                pg_buf_puts(b, ev->label);
                pg_buf_puts(b, ev->fmt.type == PT_BOOL && !ev->is_field ? " is " : " = ");
                const pg_buf *v = evidence_text(w, bt, ev, row);
                text_put(b, v->p ? v->p : "", v->len);
            }
            pg_buf_putc(b, '\n');
        }
    }
}

void wr_record(wr_ctx *w, const pg_batch *bt, size_t row, uint64_t line, const char *id, size_t idlen,
               const char *reject)
{
    if (w->failed)
        return;
    switch (w->fmt) {
    case MTCR_FORMAT_JSONL: json_record(w, bt, row, line, id, idlen, reject); break;
    case MTCR_FORMAT_CSV: csv_record(w, bt, row, line, id, idlen, reject); break;
    default: text_record(w, bt, row, line, id, idlen, reject); break;
    }
    if (w->out.len >= WR_FLUSH)
        wr_flush(w);
}
