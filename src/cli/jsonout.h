/*
 * A small streaming JSON writer for the CLI's --json output: objects,
 * arrays, escaped strings, exact fixed-point numbers and doubles. Writes to
 * a FILE; commas and nesting are tracked so callers cannot emit bad JSON
 * by forgetting one.
 */
#ifndef WD_CLI_JSONOUT_H
#define WD_CLI_JSONOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "warden/fixed.h"

#define JW_MAX_DEPTH 16

struct jw {
    FILE *out;
    int depth;
    bool need_comma[JW_MAX_DEPTH];
};

void jw_init(struct jw *w, FILE *out);
void jw_obj_begin(struct jw *w);
void jw_obj_end(struct jw *w);
void jw_arr_begin(struct jw *w);
void jw_arr_end(struct jw *w);
void jw_key(struct jw *w, const char *key);
void jw_str(struct jw *w, const char *s);
/* A string whose bytes are already JSON string content (escapes intact),
 * such as a field taken from an input line: written between quotes as is. */
void jw_str_raw(struct jw *w, const char *s, size_t n);
void jw_fix(struct jw *w, wd_fix v);
void jw_double(struct jw *w, double v);
void jw_int(struct jw *w, int64_t v);
void jw_bool(struct jw *w, bool v);
void jw_null(struct jw *w);
/* Ends the document with a newline. */
void jw_finish(struct jw *w);

/* Writes s as a JSON string (with quotes) to out. */
void jw_write_escaped(FILE *out, const char *s);

/* A JSON document written into memory (open_memstream): jw writes to f;
 * after jw_mem_close, buf holds len bytes (NUL-terminated; free it). */
struct jw_mem {
    FILE *f;
    char *buf;
    size_t len;
    struct jw w;
};

/* false when out of memory (then nothing to free). */
bool jw_mem_open(struct jw_mem *m);
void jw_mem_close(struct jw_mem *m);

#endif /* WD_CLI_JSONOUT_H */
