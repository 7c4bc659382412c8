/*
 * Streaming JSON writer (see jsonout.h). Numbers: fixed-point values are
 * written exactly (no float round trip); doubles with 12 significant
 * digits, non-finite ones as null since JSON has no NaN.
 */
#include <math.h>

#include "cli/jsonout.h"

void jw_init(struct jw *w, FILE *out)
{
    w->out = out;
    w->depth = 0;
    w->need_comma[0] = false;
}

/* Before any value: a comma if a sibling came before (keys handle their own). */
static void before_value(struct jw *w)
{
    if (w->need_comma[w->depth]) {
        fputc(',', w->out);
    }
    w->need_comma[w->depth] = true;
}

static void open_(struct jw *w, char c)
{
    before_value(w);
    fputc(c, w->out);
    if (w->depth + 1 < JW_MAX_DEPTH) {
        w->depth++;
    }
    w->need_comma[w->depth] = false;
}

static void close_(struct jw *w, char c)
{
    fputc(c, w->out);
    if (w->depth > 0) {
        w->depth--;
    }
}

void jw_obj_begin(struct jw *w) { open_(w, '{'); }
void jw_obj_end(struct jw *w) { close_(w, '}'); }
void jw_arr_begin(struct jw *w) { open_(w, '['); }
void jw_arr_end(struct jw *w) { close_(w, ']'); }

void jw_write_escaped(FILE *out, const char *s)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        switch (*p) {
        case '"': fputs("\\\"", out); break;
        case '\\': fputs("\\\\", out); break;
        case '\n': fputs("\\n", out); break;
        case '\r': fputs("\\r", out); break;
        case '\t': fputs("\\t", out); break;
        default:
            if (*p < 0x20) {
                fprintf(out, "\\u%04x", *p);
            } else {
                fputc(*p, out);
            }
        }
    }
    fputc('"', out);
}

void jw_key(struct jw *w, const char *key)
{
    before_value(w);
    jw_write_escaped(w->out, key);
    fputc(':', w->out);
    /* The value that follows must not add a comma. */
    w->need_comma[w->depth] = false;
}

void jw_str(struct jw *w, const char *s)
{
    before_value(w);
    jw_write_escaped(w->out, s);
}

void jw_str_raw(struct jw *w, const char *s, size_t n)
{
    before_value(w);
    fputc('"', w->out);
    fwrite(s, 1, n, w->out);
    fputc('"', w->out);
}

void jw_fix(struct jw *w, wd_fix v)
{
    char buf[40];
    before_value(w);
    wd_fix_format(v, 0, buf, sizeof buf);
    fputs(buf, w->out);
}

void jw_double(struct jw *w, double v)
{
    before_value(w);
    if (isfinite(v)) {
        fprintf(w->out, "%.12g", v);
    } else {
        fputs("null", w->out);
    }
}

void jw_int(struct jw *w, int64_t v)
{
    before_value(w);
    fprintf(w->out, "%lld", (long long)v);
}

void jw_bool(struct jw *w, bool v)
{
    before_value(w);
    fputs(v ? "true" : "false", w->out);
}

void jw_null(struct jw *w)
{
    before_value(w);
    fputs("null", w->out);
}

void jw_finish(struct jw *w)
{
    fputc('\n', w->out);
    fflush(w->out);
}

bool jw_mem_open(struct jw_mem *m)
{
    m->buf = NULL;
    m->len = 0;
    m->f = open_memstream(&m->buf, &m->len);
    if (m->f == NULL) {
        return false;
    }
    jw_init(&m->w, m->f);
    return true;
}

void jw_mem_close(struct jw_mem *m)
{
    fclose(m->f);
    m->f = NULL;
}
