/*
 * The YAML configuration loader: libyaml builds a node tree, a table-driven
 * walk checks it against the schema of SPEC section 8, and the values land in
 * a scratch copy of the caller's struct wd_config that replaces it only when
 * no problem was found.
 *
 * Every problem is recorded (with libyaml's line and column), never just the
 * first, and never printed: the caller decides how to show them. The walk is
 * bounded: lists and maps by WD_CONFIG_MAX_LIST, the input by
 * WD_CONFIG_FILE_MAX, and the work done on aliases by a budget, so a hostile
 * file cannot make it run for long. It must never echo a secret (a token or
 * an HMAC key) into a message, and must not leave the caller's config half
 * updated.
 */
#include "config_yaml.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yaml.h>

#include "tzload.h"
#include "warden/fixed.h"
#include "warden/severity.h"
#include "warden/timeutil.h"

#define PATH_BUF 256      /* a key path such as "limits.sources.strat_momo.key" */
#define QUOTE_MAX 40      /* bytes of a value echoed into a message */
#define NAME_LEN_MAX 128  /* account, source, symbol, token and group names */
#define MARKS_MAX 128     /* remembered positions of top-level leaf values */
#define NUM_BUF 64        /* longest number accepted, in characters */
/* Nodes visited per load. Aliases let a 1 MiB file name the same large list
 * many times; this caps the total work well above any honest file. */
#define WORK_BUDGET (1u << 22)

/* ------------------------------------------------------------------------ */
/* Loader state and problem reporting                                        */

struct loader {
    struct wd_config *cfg;          /* the scratch copy being filled */
    yaml_document_t *doc;
    struct wd_config_report *rep;   /* may be NULL */
    size_t first;                   /* rep->n when this load started */
    size_t n_problems;              /* found, even if not all were stored */
    bool truncated;                 /* more than WD_CONFIG_MAX_PROBLEMS */
    bool oom;
    size_t work;                    /* nodes visited, against WORK_BUDGET */
    bool over_budget;
    char base_dir[PATH_MAX];        /* for relative token_file; "" = cwd */
    struct {
        const void *field; /* address in *cfg */
        yaml_mark_t mark;
    } marks[MARKS_MAX];
    size_t n_marks;
};

static void problem_at(struct loader *ld, const yaml_mark_t *m, const char *fmt, ...)
    WD_PRINTF(3, 4);

/* A new entry at the end of the report, or NULL (ld->oom) out of memory. */
static struct wd_config_problem *push(struct loader *ld, const yaml_mark_t *m)
{
    struct wd_config_report *rep = ld->rep;
    if (rep->n == rep->cap) {
        size_t cap = rep->cap ? rep->cap * 2u : 8u;
        struct wd_config_problem *items = realloc(rep->items, cap * sizeof *items);
        if (items == NULL) {
            ld->oom = true;
            return NULL;
        }
        rep->items = items;
        rep->cap = cap;
    }
    struct wd_config_problem *it = &rep->items[rep->n++];
    it->line = m ? (uint64_t)m->line + 1u : 0u;
    it->column = m ? (uint64_t)m->column + 1u : 0u;
    it->msg[0] = '\0';
    return it;
}

static void problem_at(struct loader *ld, const yaml_mark_t *m, const char *fmt, ...)
{
    ld->n_problems++;
    if (ld->rep == NULL) {
        return;
    }
    if (ld->rep->n - ld->first >= WD_CONFIG_MAX_PROBLEMS - 1u) {
        ld->truncated = true; /* one slot stays free for the note */
        return;
    }
    struct wd_config_problem *it = push(ld, m);
    if (it == NULL) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(it->msg, sizeof it->msg, fmt, ap);
    va_end(ap);
}

/* Counts n units of work; false (and one problem) once the budget is spent. */
static bool spend(struct loader *ld, const yaml_node_t *at, size_t n)
{
    if (ld->over_budget) {
        return false;
    }
    ld->work += n;
    if (ld->work > WORK_BUDGET) {
        ld->over_budget = true;
        problem_at(ld, at ? &at->start_mark : NULL,
                   "the file is too complex: its aliases expand to more than %u values",
                   WORK_BUDGET);
        return false;
    }
    return true;
}

/* Remembers where a top-level value was set, for cross-field messages. */
static void remember(struct loader *ld, const void *field, const yaml_node_t *at)
{
    for (size_t i = 0; i < ld->n_marks; i++) {
        if (ld->marks[i].field == field) {
            ld->marks[i].mark = at->start_mark;
            return;
        }
    }
    if (ld->n_marks < MARKS_MAX) {
        ld->marks[ld->n_marks].field = field;
        ld->marks[ld->n_marks].mark = at->start_mark;
        ld->n_marks++;
    }
}

static const yaml_mark_t *mark_of(const struct loader *ld, const void *field)
{
    for (size_t i = 0; i < ld->n_marks; i++) {
        if (ld->marks[i].field == field) {
            return &ld->marks[i].mark;
        }
    }
    return NULL;
}

/* ------------------------------------------------------------------------ */
/* Node helpers                                                              */

static yaml_node_t *node_at(const struct loader *ld, int index)
{
    return yaml_document_get_node(ld->doc, index);
}

static const char *sval(const yaml_node_t *n)
{
    return (const char *)n->data.scalar.value;
}

static size_t slen(const yaml_node_t *n)
{
    return n->data.scalar.length;
}

static bool is_plain(const yaml_node_t *n)
{
    return n->type == YAML_SCALAR_NODE && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

/* `key:`, `key: ~` and `key: null` (unquoted). */
static bool is_null(const yaml_node_t *n)
{
    if (n == NULL) {
        return true;
    }
    if (!is_plain(n)) {
        return false;
    }
    const char *s = sval(n);
    size_t len = slen(n);
    return len == 0 || (len == 1 && s[0] == '~') ||
           (len == 4 && (memcmp(s, "null", 4) == 0 || memcmp(s, "Null", 4) == 0 ||
                         memcmp(s, "NULL", 4) == 0));
}

static size_t n_items(const yaml_node_t *n)
{
    return (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
}

static size_t n_pairs(const yaml_node_t *n)
{
    return (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
}

static bool eq(const char *s, size_t len, const char *lit)
{
    return strlen(lit) == len && memcmp(s, lit, len) == 0;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_hex(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* Writes s (len bytes) between quote characters q into buf, with control
 * characters, q and '\\' escaped, cut after QUOTE_MAX bytes (on a UTF-8
 * character boundary) and marked with "..." if cut. */
static void quote(char *buf, size_t cap, const char *s, size_t len, char q)
{
    size_t o = 0, cut = len;
    bool more = false;
    if (cap < 8) {
        if (cap) {
            buf[0] = '\0';
        }
        return;
    }
    if (len > QUOTE_MAX) {
        cut = QUOTE_MAX;
        while (cut > 0 && ((unsigned char)s[cut] & 0xc0u) == 0x80u) {
            cut--;
        }
        more = true;
    }
    buf[o++] = q;
    for (size_t i = 0; i < cut && o + 6 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20u || c == 0x7fu) {
            o += (size_t)snprintf(buf + o, cap - o, "\\x%02x", c);
        } else if (c == (unsigned char)q || c == '\\') {
            buf[o++] = '\\';
            buf[o++] = (char)c;
        } else {
            buf[o++] = (char)c;
        }
    }
    buf[o++] = q;
    if (more && o + 4 < cap) {
        memcpy(buf + o, "...", 3);
        o += 3;
    }
    buf[o] = '\0';
}

/* What a node is, for "got ..." in messages. buf holds at least 96 bytes. */
static const char *describe(const yaml_node_t *n, char *buf, size_t cap)
{
    if (is_null(n)) {
        return "nothing";
    }
    switch (n->type) {
    case YAML_MAPPING_NODE:
        return "a mapping";
    case YAML_SEQUENCE_NODE:
        return "a list";
    case YAML_SCALAR_NODE:
        if (is_plain(n)) {
            quote(buf, cap, sval(n), slen(n), '"');
        } else {
            char q[80];
            quote(q, sizeof q, sval(n), slen(n), '"');
            snprintf(buf, cap, "the quoted string %s", q);
        }
        return buf;
    case YAML_NO_NODE:
    default:
        return "nothing";
    }
}

/* Like describe, for a value that should have been a string of some form:
 * a scalar is shown quoted whatever its style, since quoting is normal. */
static const char *describe_str(const yaml_node_t *n, char *buf, size_t cap)
{
    if (n != NULL && n->type == YAML_SCALAR_NODE && !is_null(n)) {
        quote(buf, cap, sval(n), slen(n), '"');
        return buf;
    }
    return describe(n, buf, cap);
}

/* Like describe, but never shows a scalar's text: the value may be a secret
 * written where a mapping was expected. */
static const char *describe_secret(const yaml_node_t *n, char *buf, size_t cap)
{
    if (n != NULL && n->type == YAML_SCALAR_NODE && !is_null(n)) {
        return "a string";
    }
    return describe(n, buf, cap);
}

static void join(char *out, const char *path, const char *key)
{
    if (path[0] == '\0') {
        snprintf(out, PATH_BUF, "%s", key);
    } else {
        snprintf(out, PATH_BUF, "%s.%s", path, key);
    }
}

/* "PATH: " or "" at the top level. */
static const char *prefix(const char *path, char *buf, size_t cap)
{
    if (path[0] == '\0') {
        return "";
    }
    snprintf(buf, cap, "%s: ", path);
    return buf;
}

/* ------------------------------------------------------------------------ */
/* Mapping keys: duplicates, unknown keys                                     */

struct keyref {
    const char *s;
    size_t len;
    size_t idx; /* position of the pair in the mapping */
};

static int cmp_keyref(const void *pa, const void *pb)
{
    const struct keyref *a = pa, *b = pb;
    size_t n = a->len < b->len ? a->len : b->len;
    int c = memcmp(a->s, b->s, n);
    if (c != 0) {
        return c;
    }
    if (a->len != b->len) {
        return a->len < b->len ? -1 : 1;
    }
    return a->idx < b->idx ? -1 : (a->idx > b->idx ? 1 : 0);
}

/* For each pair of map, the position of the first pair with the same scalar
 * key, or SIZE_MAX if it is the first (or its key is not a scalar). From
 * malloc(); NULL on an empty map or out of memory (ld->oom). Sorting keeps
 * this O(n log n) for maps of thousands of accounts. */
static size_t *first_dups(struct loader *ld, const yaml_node_t *map)
{
    size_t n = n_pairs(map), nk = 0;
    if (n == 0) {
        return NULL;
    }
    size_t *first = malloc(n * sizeof *first);
    struct keyref *refs = malloc(n * sizeof *refs);
    if (first == NULL || refs == NULL) {
        free(first);
        free(refs);
        ld->oom = true;
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        const yaml_node_t *k = node_at(ld, map->data.mapping.pairs.start[i].key);
        first[i] = SIZE_MAX;
        if (k != NULL && k->type == YAML_SCALAR_NODE) {
            refs[nk].s = sval(k);
            refs[nk].len = slen(k);
            refs[nk].idx = i;
            nk++;
        }
    }
    qsort(refs, nk, sizeof *refs, cmp_keyref);
    for (size_t i = 1; i < nk; i++) {
        if (refs[i].len == refs[i - 1].len && memcmp(refs[i].s, refs[i - 1].s, refs[i].len) == 0) {
            size_t f = first[refs[i - 1].idx];
            first[refs[i].idx] = f == SIZE_MAX ? refs[i - 1].idx : f;
        }
    }
    free(refs);
    return first;
}

/* Checks the key of pair i of map: a scalar, not a merge key, not a repeat.
 * On success *key / *klen point into the node; false (after a problem) if the
 * pair must be skipped. */
static bool take_key(struct loader *ld, const yaml_node_t *map, size_t i, const size_t *dups,
                     const char *path, const char **key, size_t *klen)
{
    char pre[PATH_BUF + 2], what[96];
    const yaml_node_t *k = node_at(ld, map->data.mapping.pairs.start[i].key);
    if (k == NULL) {
        return false;
    }
    if (k->type != YAML_SCALAR_NODE) {
        problem_at(ld, &k->start_mark, "%skeys must be plain names, got %s",
                   prefix(path, pre, sizeof pre), describe(k, what, sizeof what));
        return false;
    }
    if (is_plain(k) && eq(sval(k), slen(k), "<<")) {
        problem_at(ld, &k->start_mark,
                   "%smerge keys ('<<') are not supported; write the keys out",
                   prefix(path, pre, sizeof pre));
        return false;
    }
    if (dups != NULL && dups[i] != SIZE_MAX) {
        const yaml_node_t *fk = node_at(ld, map->data.mapping.pairs.start[dups[i]].key);
        quote(what, sizeof what, sval(k), slen(k), '\'');
        problem_at(ld, &k->start_mark, "%sduplicate key %s (first given at line %zu)",
                   prefix(path, pre, sizeof pre), what, fk ? fk->start_mark.line + 1u : 0u);
        return false;
    }
    *key = sval(k);
    *klen = slen(k);
    return true;
}

/* Edit distance counting a swap of two neighbours as one edit (optimal
 * string alignment), case-insensitive, for "did you mean". Strings longer
 * than 63 bytes get SIZE_MAX. */
static size_t distance(const char *a, size_t na, const char *b, size_t nb)
{
    size_t d[3][64]; /* rows i-2, i-1, i, indexed by i % 3 */
    if (na >= 64 || nb >= 64) {
        return SIZE_MAX;
    }
    for (size_t j = 0; j <= nb; j++) {
        d[0][j] = j;
    }
    for (size_t i = 1; i <= na; i++) {
        size_t *cur = d[i % 3], *prev = d[(i - 1) % 3], *prev2 = d[(i + 1) % 3];
        cur[0] = i;
        for (size_t j = 1; j <= nb; j++) {
            size_t cost = lower(a[i - 1]) == lower(b[j - 1]) ? 0u : 1u;
            size_t best = prev[j - 1] + cost;
            if (prev[j] + 1u < best) {
                best = prev[j] + 1u;
            }
            if (cur[j - 1] + 1u < best) {
                best = cur[j - 1] + 1u;
            }
            if (i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2]) &&
                lower(a[i - 2]) == lower(b[j - 1]) && prev2[j - 2] + 1u < best) {
                best = prev2[j - 2] + 1u;
            }
            cur[j] = best;
        }
    }
    return d[na % 3][nb];
}

/* ------------------------------------------------------------------------ */
/* The schema                                                                */

enum kind { K_END, K_FIX, K_DOUBLE, K_I64, K_U32, K_BOOL, K_STR, K_MAP, K_CUSTOM };

#define LO_OPEN 1u  /* lo is excluded */
#define HI_OPEN 2u  /* hi is excluded */
#define ALLOW_24 4u /* a time of day may be 24:00 (end of day) */

struct field;
typedef void (*custom_fn)(struct loader *ld, const struct field *f, void *base, yaml_node_t *v,
                          const char *path);
/* Checks a string value (a NUL-terminated copy the check may rewrite in
 * place); on failure writes the message (after "PATH: ") into why. */
typedef bool (*check_fn)(char *s, size_t len, char *why, size_t cap);

struct field {
    const char *key;
    enum kind kind;
    size_t off;          /* from the base the table is walked with */
    double lo, hi;       /* bounds of a number, in units */
    unsigned flags;
    const char *expect;  /* "a number between 0 and 1" */
    const struct field *sub; /* K_MAP */
    custom_fn fn;            /* K_CUSTOM */
    check_fn check;          /* K_STR, optional */
};

static void walk_map(struct loader *ld, yaml_node_t *map, const struct field *table, void *base,
                     const char *path);

static void *at_off(void *base, size_t off)
{
    return (char *)base + off;
}

static void unknown_key(struct loader *ld, const yaml_node_t *k, const struct field *table,
                        const char *path, const char *key, size_t klen)
{
    char pre[PATH_BUF + 2], q[96];
    const char *best = NULL;
    size_t best_d = SIZE_MAX;
    for (const struct field *f = table; f->kind != K_END; f++) {
        size_t flen = strlen(f->key);
        size_t d = distance(key, klen, f->key, flen);
        if (d < best_d && d <= 2u && d * 2u < flen) {
            best = f->key;
            best_d = d;
        }
    }
    quote(q, sizeof q, key, klen, '\'');
    if (best != NULL) {
        problem_at(ld, &k->start_mark, "%sunknown key %s (did you mean '%s'?)",
                   prefix(path, pre, sizeof pre), q, best);
    } else {
        problem_at(ld, &k->start_mark, "%sunknown key %s", prefix(path, pre, sizeof pre), q);
    }
}

static void bad_value(struct loader *ld, const struct field *f, const yaml_node_t *v,
                      const char *path, const char *got)
{
    problem_at(ld, &v->start_mark, "%s: expected %s, got %s", path, f->expect, got);
}

/* YAML 1.2 numbers plus '_' separators between integer digits:
 *   [-+]? ( digits ('.' digits*)? | '.' digits ) ( [eE] [-+]? digits )?
 * rewritten into buf in JSON form ("+.5" -> "0.5", "1_000" -> "1000",
 * "5." -> "5"), which both wd_fix_parse and strtod take. A leading zero
 * followed by digits is refused: YAML 1.1 reads "010" as octal 8. */
static bool number_text(const char *s, size_t len, char *buf, bool *is_int)
{
    size_t i = 0, o = 0, nint = 0;
    *is_int = true;
    if (len == 0 || len + 2u > NUM_BUF) {
        return false;
    }
    if (s[i] == '+' || s[i] == '-') {
        if (s[i] == '-') {
            buf[o++] = '-';
        }
        i++;
    }
    size_t int_start = o;
    while (i < len) {
        if (is_digit(s[i])) {
            buf[o++] = s[i];
        } else if (!(s[i] == '_' && o > int_start && i + 1 < len && is_digit(s[i + 1]))) {
            break;
        }
        i++;
    }
    nint = o - int_start;
    if (nint > 1 && buf[int_start] == '0') {
        return false;
    }
    if (i < len && s[i] == '.') {
        size_t nfrac = 0;
        *is_int = false;
        i++;
        if (nint == 0) {
            buf[o++] = '0';
        }
        buf[o++] = '.';
        while (i < len && is_digit(s[i])) {
            buf[o++] = s[i++];
            nfrac++;
        }
        if (nint == 0 && nfrac == 0) {
            return false;
        }
        if (nfrac == 0) {
            o--; /* "5." is 5 */
        }
    } else if (nint == 0) {
        return false;
    }
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        size_t nexp = 0;
        *is_int = false;
        buf[o++] = 'e';
        i++;
        if (i < len && (s[i] == '+' || s[i] == '-')) {
            buf[o++] = s[i++];
        }
        while (i < len && is_digit(s[i])) {
            buf[o++] = s[i++];
            nexp++;
        }
        if (nexp == 0) {
            return false;
        }
    }
    if (i != len) {
        return false;
    }
    buf[o] = '\0';
    return true;
}

/* The text of a number node in JSON form, or false after a problem. */
static bool number_node(struct loader *ld, const struct field *f, const yaml_node_t *v,
                        const char *path, char *buf, bool *is_int)
{
    char what[160];
    if (is_null(v) || v->type != YAML_SCALAR_NODE) {
        bad_value(ld, f, v, path, describe(v, what, sizeof what));
        return false;
    }
    if (!number_text(sval(v), slen(v), buf, is_int)) {
        bad_value(ld, f, v, path, describe(v, what, sizeof what));
        return false;
    }
    if (!is_plain(v)) {
        char q[96];
        quote(q, sizeof q, sval(v), slen(v), '"');
        snprintf(what, sizeof what, "the quoted string %s (write numbers without quotes)", q);
        bad_value(ld, f, v, path, what);
        return false;
    }
    return true;
}

static bool in_range(const struct field *f, double x)
{
    bool lo_ok = (f->flags & LO_OPEN) ? x > f->lo : x >= f->lo;
    bool hi_ok = (f->flags & HI_OPEN) ? x < f->hi : x <= f->hi;
    return lo_ok && hi_ok;
}

/* A plain-text rendering of a number node that passed number_text. */
static const char *num_got(const yaml_node_t *v, char *buf, size_t cap)
{
    snprintf(buf, cap, "%.*s", (int)slen(v), sval(v));
    return buf;
}

static void set_number(struct loader *ld, const struct field *f, void *base, yaml_node_t *v,
                       const char *path)
{
    char buf[NUM_BUF], got[NUM_BUF];
    bool is_int;
    if (!number_node(ld, f, v, path, buf, &is_int)) {
        return;
    }
    void *slot = at_off(base, f->off);
    switch (f->kind) {
    case K_DOUBLE: {
        double d = strtod(buf, NULL);
        if (!isfinite(d) || !in_range(f, d)) {
            bad_value(ld, f, v, path, num_got(v, got, sizeof got));
            return;
        }
        *(double *)slot = d;
        break;
    }
    case K_FIX: {
        wd_fix x;
        if (wd_fix_parse(buf, strlen(buf), &x) != WD_OK || !in_range(f, wd_fix_to_double(x))) {
            bad_value(ld, f, v, path, num_got(v, got, sizeof got));
            return;
        }
        *(wd_fix *)slot = x;
        break;
    }
    case K_I64:
    case K_U32: {
        /* Whole numbers only: "1e3" and "300.0" are refused rather than
         * guessed at. Bounds are far below 2^53, so the double compare is exact. */
        int64_t x = 0;
        bool ok = is_int;
        const char *p = buf;
        bool neg = *p == '-';
        if (neg) {
            p++;
        }
        for (; ok && *p; p++) {
            if (x > (INT64_MAX - 9) / 10) {
                ok = false;
                break;
            }
            x = x * 10 + (*p - '0');
        }
        if (neg) {
            x = -x;
        }
        if (!ok || !in_range(f, (double)x)) {
            bad_value(ld, f, v, path, num_got(v, got, sizeof got));
            return;
        }
        if (f->kind == K_I64) {
            *(int64_t *)slot = x;
        } else {
            *(uint32_t *)slot = (uint32_t)x;
        }
        break;
    }
    case K_END:
    case K_BOOL:
    case K_STR:
    case K_MAP:
    case K_CUSTOM:
    default:
        return;
    }
    if (base == ld->cfg) {
        remember(ld, slot, v);
    }
}

static void set_bool(struct loader *ld, const struct field *f, void *base, yaml_node_t *v,
                     const char *path)
{
    static const char *const yes[] = {"true", "yes", "on"};
    static const char *const no[] = {"false", "no", "off"};
    char what[128];
    if (v->type == YAML_SCALAR_NODE && is_plain(v) && slen(v) <= 5) {
        char w[6] = {0};
        for (size_t i = 0; i < slen(v); i++) {
            w[i] = lower(sval(v)[i]);
        }
        for (size_t i = 0; i < 3; i++) {
            if (strcmp(w, yes[i]) == 0 || strcmp(w, no[i]) == 0) {
                *(bool *)at_off(base, f->off) = strcmp(w, yes[i]) == 0;
                if (base == ld->cfg) {
                    remember(ld, at_off(base, f->off), v);
                }
                return;
            }
        }
    }
    bad_value(ld, f, v, path, describe(v, what, sizeof what));
}

/* A string value (any scalar style, not empty, no NUL), or false after a
 * problem. Never quotes the value itself: it may be a secret. */
static bool string_node(struct loader *ld, const struct field *f, const yaml_node_t *v,
                        const char *path, const char **s, size_t *len)
{
    char what[128];
    if (is_null(v) || v->type != YAML_SCALAR_NODE) {
        bad_value(ld, f, v, path, describe(v, what, sizeof what));
        return false;
    }
    if (slen(v) == 0) {
        bad_value(ld, f, v, path, "an empty string");
        return false;
    }
    if (memchr(sval(v), '\0', slen(v)) != NULL) {
        bad_value(ld, f, v, path, "a string with a NUL character in it");
        return false;
    }
    *s = sval(v);
    *len = slen(v);
    return true;
}

/* A checked, malloc'd copy of a string value, or NULL after a problem (or
 * out of memory). */
static char *string_copy(struct loader *ld, const struct field *f, const yaml_node_t *v,
                         const char *path)
{
    const char *s;
    size_t len;
    char *copy = NULL;
    if (!string_node(ld, f, v, path, &s, &len)) {
        return NULL;
    }
    if (wd_config_set_str(&copy, s, len) != WD_OK) {
        ld->oom = true;
        return NULL;
    }
    if (f->check != NULL) {
        char why[200];
        if (!f->check(copy, len, why, sizeof why)) {
            problem_at(ld, &v->start_mark, "%s: %s", path, why);
            free(copy);
            return NULL;
        }
    }
    return copy;
}

static void set_string(struct loader *ld, const struct field *f, void *base, yaml_node_t *v,
                       const char *path)
{
    char *copy = string_copy(ld, f, v, path);
    if (copy == NULL) {
        return;
    }
    char **slot = at_off(base, f->off);
    free(*slot);
    *slot = copy;
    if (base == ld->cfg) {
        remember(ld, slot, v);
    }
}

static void apply(struct loader *ld, const struct field *f, void *base, yaml_node_t *v,
                  const char *path)
{
    switch (f->kind) {
    case K_FIX:
    case K_DOUBLE:
    case K_I64:
    case K_U32:
        set_number(ld, f, base, v, path);
        break;
    case K_BOOL:
        set_bool(ld, f, base, v, path);
        break;
    case K_STR:
        set_string(ld, f, base, v, path);
        break;
    case K_MAP:
        walk_map(ld, v, f->sub, base, path);
        break;
    case K_CUSTOM:
        f->fn(ld, f, base, v, path);
        break;
    case K_END:
    default:
        break;
    }
}

/* Walks a mapping against table, writing into base. A null node is an empty
 * section. */
static void walk_map(struct loader *ld, yaml_node_t *map, const struct field *table, void *base,
                     const char *path)
{
    char what[128];
    if (is_null(map)) {
        return;
    }
    if (map->type != YAML_MAPPING_NODE) {
        if (path[0] == '\0') {
            problem_at(ld, &map->start_mark,
                       "the file must be a mapping of keys such as 'limits:', got %s",
                       describe(map, what, sizeof what));
        } else {
            problem_at(ld, &map->start_mark, "%s: expected a mapping of keys, got %s", path,
                       describe(map, what, sizeof what));
        }
        return;
    }
    size_t n = n_pairs(map);
    if (!spend(ld, map, n)) {
        return;
    }
    size_t *dups = first_dups(ld, map);
    for (size_t i = 0; i < n && !ld->oom; i++) {
        const char *key;
        size_t klen;
        if (!take_key(ld, map, i, dups, path, &key, &klen)) {
            continue;
        }
        const yaml_node_t *k = node_at(ld, map->data.mapping.pairs.start[i].key);
        yaml_node_t *v = node_at(ld, map->data.mapping.pairs.start[i].value);
        const struct field *f = table;
        while (f->kind != K_END && !eq(key, klen, f->key)) {
            f++;
        }
        if (f->kind == K_END) {
            unknown_key(ld, k, table, path, key, klen);
            continue;
        }
        char sub[PATH_BUF];
        join(sub, path, f->key);
        apply(ld, f, base, v, sub);
    }
    free(dups);
}

/* The value of key in map (NULL if absent or map is not a mapping). */
static const yaml_node_t *find_key(const struct loader *ld, const yaml_node_t *map,
                                   const char *key)
{
    if (map == NULL || map->type != YAML_MAPPING_NODE) {
        return NULL;
    }
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        const yaml_node_t *k = node_at(ld, p->key);
        if (k != NULL && k->type == YAML_SCALAR_NODE && eq(sval(k), slen(k), key)) {
            return node_at(ld, p->value);
        }
    }
    return NULL;
}

/* ------------------------------------------------------------------------ */
/* String checks                                                             */

/* Account, source, symbol, token and group names: 1..128 bytes, no control
 * characters, no leading or trailing space. */
static bool check_name(char *s, size_t len, char *why, size_t cap)
{
    char q[96];
    quote(q, sizeof q, s, len, '"');
    if (len > NAME_LEN_MAX) {
        snprintf(why, cap, "a name must be at most %u bytes, got %zu", NAME_LEN_MAX, len);
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20u || c == 0x7fu) {
            snprintf(why, cap, "a name must not contain control characters, got %s", q);
            return false;
        }
    }
    if (s[0] == ' ' || s[len - 1] == ' ') {
        snprintf(why, cap, "a name must not start or end with a space, got %s", q);
        return false;
    }
    return true;
}

static bool check_role(char *s, size_t len, char *why, size_t cap)
{
    char q[96];
    if (eq(s, len, "viewer") || eq(s, len, "responder") || eq(s, len, "risk_officer") ||
        eq(s, len, "admin")) {
        return true;
    }
    quote(q, sizeof q, s, len, '"');
    snprintf(why, cap, "expected one of viewer, responder, risk_officer, admin, got %s", q);
    return false;
}

/* Never quotes s: it is a secret. */
static bool check_token(char *s, size_t len, char *why, size_t cap)
{
    for (size_t i = 0; i < len; i++) {
        if (s[i] <= ' ' || s[i] > '~') {
            snprintf(why, cap, "a token must be printable ASCII without spaces "
                               "(character %zu is not)", i + 1u);
            return false;
        }
    }
    if (len < WD_CONFIG_TOKEN_MIN) {
        snprintf(why, cap, "a token must be at least %u characters long, got %zu",
                 WD_CONFIG_TOKEN_MIN, len);
        return false;
    }
    return true;
}

/* HMAC keys: an even number (>= 32) of hex digits, stored lowercase. Never
 * quotes s: it is a secret. */
static bool check_hex_key(char *s, size_t len, char *why, size_t cap)
{
    for (size_t i = 0; i < len; i++) {
        if (!is_hex(s[i])) {
            snprintf(why, cap, "expected hex digits (0-9, a-f), character %zu is not one",
                     i + 1u);
            return false;
        }
        s[i] = lower(s[i]);
    }
    if (len % 2u != 0 || len < 32u) {
        snprintf(why, cap, "expected an even number of at least 32 hex digits, got %zu", len);
        return false;
    }
    return true;
}

/* host:port, host a name, an IPv4 address or a bracketed IPv6 address. */
static bool check_listen(char *s, size_t len, char *why, size_t cap)
{
    char q[96];
    size_t colon = len;
    quote(q, sizeof q, s, len, '"');
    for (size_t i = len; i > 0; i--) {
        if (s[i - 1] == ':') {
            colon = i - 1;
            break;
        }
    }
    if (colon == len) {
        snprintf(why, cap, "expected host:port such as \"127.0.0.1:8000\", got %s", q);
        return false;
    }
    size_t nport = len - colon - 1;
    unsigned long port = 0;
    bool ok = nport >= 1 && nport <= 5;
    for (size_t i = colon + 1; ok && i < len; i++) {
        ok = is_digit(s[i]);
        port = port * 10u + (unsigned long)(s[i] - '0');
    }
    if (!ok || port > 65535u) {
        snprintf(why, cap, "expected a port from 0 to 65535 after the last ':', got %s", q);
        return false;
    }
    if (colon == 0) {
        snprintf(why, cap, "expected host:port with a host (0.0.0.0 for every interface), "
                           "got %s", q);
        return false;
    }
    if (s[0] == '[') {
        ok = colon >= 3 && s[colon - 1] == ']';
        for (size_t i = 1; ok && i + 1 < colon; i++) {
            ok = is_hex(s[i]) || s[i] == ':' || s[i] == '.';
        }
        if (!ok) {
            snprintf(why, cap, "expected [IPv6]:port such as \"[::1]:8000\", got %s", q);
            return false;
        }
        return true;
    }
    for (size_t i = 0; i < colon; i++) {
        char c = s[i];
        if (c == ':') {
            snprintf(why, cap, "put an IPv6 address in brackets, as in \"[::1]:8000\", got %s",
                     q);
            return false;
        }
        if (!(is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '.' ||
              c == '-' || c == '_')) {
            snprintf(why, cap, "expected host:port such as \"127.0.0.1:8000\", got %s", q);
            return false;
        }
    }
    return true;
}

/* A comma-separated list of brokers ("host:port[,host:port...]"), entries
 * without spaces inside; spaces around the commas are allowed. */
static bool check_brokers(char *s, size_t len, char *why, size_t cap)
{
    char q[96];
    size_t i = 0;
    quote(q, sizeof q, s, len, '"');
    while (i <= len) {
        while (i < len && s[i] == ' ') {
            i++;
        }
        size_t start = i;
        while (i < len && s[i] != ',' && s[i] != ' ') {
            if ((unsigned char)s[i] < 0x20u) {
                snprintf(why, cap, "control character in the broker list %s", q);
                return false;
            }
            i++;
        }
        size_t end = i;
        while (i < len && s[i] == ' ') {
            i++;
        }
        if (end == start || (i < len && s[i] != ',')) {
            snprintf(why, cap, "expected a comma-separated list of host:port, got %s", q);
            return false;
        }
        i++; /* past the comma (or the end) */
    }
    return true;
}

/* Kafka topic names: 1..249 of [A-Za-z0-9._-], not "." or "..". */
static bool check_topic(char *s, size_t len, char *why, size_t cap)
{
    char q[96];
    bool ok = len <= 249 && !eq(s, len, ".") && !eq(s, len, "..");
    for (size_t i = 0; ok && i < len; i++) {
        char c = s[i];
        ok = is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '.' ||
             c == '_' || c == '-';
    }
    if (!ok) {
        quote(q, sizeof q, s, len, '"');
        snprintf(why, cap, "expected a Kafka topic name (letters, digits, '.', '_', '-'), "
                           "got %s", q);
    }
    return ok;
}

static bool check_path(char *s, size_t len, char *why, size_t cap)
{
    (void)s;
    if (len >= PATH_MAX) {
        snprintf(why, cap, "a path must be shorter than %d bytes, got %zu", PATH_MAX, len);
        return false;
    }
    return true;
}

/* ------------------------------------------------------------------------ */
/* Custom fields                                                              */

/* Common opening of a list field: a null node is an empty list; false after
 * a problem. */
static bool list_node(struct loader *ld, const yaml_node_t *v, const char *path,
                      const char *expect, size_t *n)
{
    char what[128];
    *n = 0;
    if (is_null(v)) {
        return true;
    }
    if (v->type != YAML_SEQUENCE_NODE) {
        problem_at(ld, &v->start_mark, "%s: expected %s, got %s", path, expect,
                   describe(v, what, sizeof what));
        return false;
    }
    *n = n_items(v);
    if (*n > WD_CONFIG_MAX_LIST) {
        problem_at(ld, &v->start_mark, "%s: at most %u entries are allowed, got %zu", path,
                   WD_CONFIG_MAX_LIST, *n);
        return false;
    }
    return spend(ld, v, *n);
}

static bool map_node(struct loader *ld, const yaml_node_t *v, const char *path,
                     const char *expect, size_t *n)
{
    char what[128];
    *n = 0;
    if (is_null(v)) {
        return true;
    }
    if (v->type != YAML_MAPPING_NODE) {
        problem_at(ld, &v->start_mark, "%s: expected %s, got %s", path, expect,
                   describe(v, what, sizeof what));
        return false;
    }
    *n = n_pairs(v);
    if (*n > WD_CONFIG_MAX_LIST) {
        problem_at(ld, &v->start_mark, "%s: at most %u entries are allowed, got %zu", path,
                   WD_CONFIG_MAX_LIST, *n);
        return false;
    }
    return spend(ld, v, *n);
}

/* "HH:MM" (or "H:MM") into minutes after midnight; close may be "24:00". */
static void time_fn(struct loader *ld, const struct field *f, void *base, yaml_node_t *v,
                    const char *path)
{
    char what[128];
    const char *s;
    size_t len;
    if (!string_node(ld, f, v, path, &s, &len)) {
        return;
    }
    int h = -1, m = -1;
    if ((len == 4 || len == 5) && s[len - 3] == ':' && is_digit(s[len - 2]) &&
        is_digit(s[len - 1]) && is_digit(s[0]) && (len == 4 || is_digit(s[1]))) {
        h = len == 4 ? s[0] - '0' : (s[0] - '0') * 10 + (s[1] - '0');
        m = (s[len - 2] - '0') * 10 + (s[len - 1] - '0');
    }
    bool ok = h >= 0 && m >= 0 && m <= 59 &&
              (h <= 23 || ((f->flags & ALLOW_24) && h == 24 && m == 0));
    if (!ok) {
        bad_value(ld, f, v, path, describe_str(v, what, sizeof what));
        return;
    }
    int *slot = at_off(base, f->off);
    *slot = h * 60 + m;
    remember(ld, slot, v);
}

static void tz_fn(struct loader *ld, const struct field *f, void *base, yaml_node_t *v,
                  const char *path)
{
    struct wd_error err = {0};
    struct wd_tz *tz = NULL;
    char *copy = string_copy(ld, f, v, path);
    if (copy == NULL) {
        return;
    }
    enum wd_status st = wd_tz_load(copy, &tz, &err);
    wd_tz_free(tz);
    if (st == WD_ENOMEM) {
        ld->oom = true;
        free(copy);
        return;
    }
    if (st != WD_OK) {
        problem_at(ld, &v->start_mark, "%s: %s", path, err.msg);
        free(copy);
        return;
    }
    char **slot = at_off(base, f->off);
    free(*slot);
    *slot = copy;
    remember(ld, slot, v);
}

/* A day name (Mon or Monday, any case) as 0 = Sunday .. 6, or -1. */
static int day_of(const yaml_node_t *it)
{
    static const char *const names[7][2] = {
        {"sun", "sunday"},   {"mon", "monday"}, {"tue", "tuesday"}, {"wed", "wednesday"},
        {"thu", "thursday"}, {"fri", "friday"}, {"sat", "saturday"},
    };
    char w[16] = {0};
    if (it == NULL || it->type != YAML_SCALAR_NODE || slen(it) >= sizeof w) {
        return -1;
    }
    for (size_t j = 0; j < slen(it); j++) {
        w[j] = lower(sval(it)[j]);
    }
    for (int d = 0; d < 7; d++) {
        if (strcmp(w, names[d][0]) == 0 || strcmp(w, names[d][1]) == 0) {
            return d;
        }
    }
    return -1;
}

static void days_fn(struct loader *ld, const struct field *f, void *base, yaml_node_t *v,
                    const char *path)
{
    size_t n;
    unsigned mask = 0;
    bool bad = false;
    (void)f;
    if (!list_node(ld, v, path, "a list of days such as [Mon, Tue, Wed, Thu, Fri]", &n)) {
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const yaml_node_t *it = node_at(ld, v->data.sequence.items.start[i]);
        char what[128];
        int day = day_of(it);
        if (day < 0) {
            problem_at(ld, it ? &it->start_mark : &v->start_mark,
                       "%s[%zu]: expected a day Mon, Tue, Wed, Thu, Fri, Sat or Sun, got %s",
                       path, i, describe_str(it, what, sizeof what));
            bad = true;
            continue;
        }
        mask |= 1u << day;
    }
    if (!bad && mask == 0) {
        problem_at(ld, &v->start_mark,
                   "%s: expected at least one trading day; with none the market never opens",
                   path);
        return;
    }
    struct wd_config *cfg = base;
    cfg->session.days_mask = (uint8_t)mask;
}

static int cmp_i64(const void *pa, const void *pb)
{
    int64_t a = *(const int64_t *)pa, b = *(const int64_t *)pb;
    return (a > b) - (a < b);
}

static void holidays_fn(struct loader *ld, const struct field *f, void *base, yaml_node_t *v,
                        const char *path)
{
    struct wd_config *cfg = base;
    size_t n, k = 0;
    int64_t *days = NULL;
    (void)f;
    if (!list_node(ld, v, path, "a list of dates such as [\"2025-11-27\"]", &n)) {
        return;
    }
    if (n > 0 && (days = malloc(n * sizeof *days)) == NULL) {
        ld->oom = true;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const yaml_node_t *it = node_at(ld, v->data.sequence.items.start[i]);
        char what[128];
        int64_t d;
        if (it == NULL || it->type != YAML_SCALAR_NODE ||
            wd_date_parse(sval(it), slen(it), &d) != WD_OK) {
            problem_at(ld, it ? &it->start_mark : &v->start_mark,
                       "%s[%zu]: expected a date YYYY-MM-DD, got %s", path, i,
                       describe_str(it, what, sizeof what));
            continue;
        }
        days[k++] = d;
    }
    if (k > 1) {
        qsort(days, k, sizeof *days, cmp_i64);
        size_t u = 1;
        for (size_t i = 1; i < k; i++) {
            if (days[i] != days[u - 1]) {
                days[u++] = days[i];
            }
        }
        k = u;
    }
    free(cfg->session.holidays);
    cfg->session.holidays = k ? days : NULL;
    cfg->session.n_holidays = k;
    if (k == 0) {
        free(days);
    }
}

static void free_strings(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i]);
    }
    free(v);
}

static void symbols_fn(struct loader *ld, const struct field *f, void *base, yaml_node_t *v,
                       const char *path)
{
    static const struct field sym = {.key = "symbol", .kind = K_STR, .expect = "a symbol",
                                     .check = check_name};
    struct wd_config *cfg = base;
    size_t n, k = 0;
    char **syms = NULL;
    (void)f;
    if (!list_node(ld, v, path, "a list of symbols such as [AAPL, MSFT]", &n)) {
        return;
    }
    if (n > 0 && (syms = calloc(n, sizeof *syms)) == NULL) {
        ld->oom = true;
        return;
    }
    for (size_t i = 0; i < n && !ld->oom; i++) {
        const yaml_node_t *it = node_at(ld, v->data.sequence.items.start[i]);
        char sub[PATH_BUF + 24];
        snprintf(sub, sizeof sub, "%s[%zu]", path, i);
        char *s = string_copy(ld, &sym, it, sub);
        if (s == NULL) {
            continue;
        }
        bool dup = false;
        for (size_t j = 0; j < k && !dup; j++) {
            dup = strcmp(syms[j], s) == 0;
        }
        if (dup) {
            free(s); /* a repeated symbol changes nothing */
        } else {
            syms[k++] = s;
        }
    }
    free_strings(cfg->limits.symbols, cfg->limits.n_symbols);
    cfg->limits.symbols = syms;
    cfg->limits.n_symbols = k;
}

static void free_sources(struct wd_config_source *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].name);
        free(v[i].key_hex);
    }
    free(v);
}

static const struct field source_fields[] = {
    {.key = "key", .kind = K_STR, .off = offsetof(struct wd_config_source, key_hex),
     .expect = "an HMAC-SHA256 key in hex", .check = check_hex_key},
    {.key = NULL, .kind = K_END},
};

static void sources_fn(struct loader *ld, const struct field *f, void *base, yaml_node_t *v,
                       const char *path)
{
    static const struct field name_field = {.key = "name", .kind = K_STR,
                                            .expect = "a source name", .check = check_name};
    struct wd_config *cfg = base;
    struct wd_config_source *srcs = NULL;
    size_t n, k = 0;
    (void)f;
    if (!map_node(ld, v, path, "a mapping of source names, such as {strat_momo: {key: HEX}}",
                  &n)) {
        return;
    }
    if (n > 0 && (srcs = calloc(n, sizeof *srcs)) == NULL) {
        ld->oom = true;
        return;
    }
    size_t *dups = first_dups(ld, v);
    for (size_t i = 0; i < n && !ld->oom; i++) {
        const char *key;
        size_t klen;
        if (!take_key(ld, v, i, dups, path, &key, &klen)) {
            continue;
        }
        yaml_node_t *k_node = node_at(ld, v->data.mapping.pairs.start[i].key);
        yaml_node_t *val = node_at(ld, v->data.mapping.pairs.start[i].value);
        char *name = string_copy(ld, &name_field, k_node, path);
        if (name == NULL) {
            continue;
        }
        char sub[PATH_BUF + 80];
        snprintf(sub, sizeof sub, "%s.%.64s", path, name);
        struct wd_config_source src = {.name = name, .key_hex = NULL};
        size_t before = ld->n_problems;
        if (val != NULL && val->type != YAML_MAPPING_NODE && !is_null(val)) {
            char what[96];
            problem_at(ld, &val->start_mark,
                       "%s: expected {key: HEX} for a signed source, or {} for an unsigned "
                       "one, got %s",
                       sub, describe_secret(val, what, sizeof what));
        } else {
            walk_map(ld, val, source_fields, &src, sub);
        }
        if (ld->n_problems != before) {
            free(src.name);
            free(src.key_hex);
            continue;
        }
        srcs[k++] = src;
    }
    free(dups);
    free_sources(cfg->limits.sources, cfg->limits.n_sources);
    cfg->limits.sources = srcs;
    cfg->limits.n_sources = k;
}

static void free_accounts(struct wd_config_account *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].name);
    }
    free(v);
}

/* An account's capital before the walk: "not given", resolved to the
 * top-level capital once the whole file is read. */
#define CAPITAL_UNSET INT64_MIN

static const struct field account_fields[] = {
    {.key = "capital", .kind = K_FIX, .off = offsetof(struct wd_config_account, capital),
     .lo = 0, .hi = 1e10, .flags = LO_OPEN, .expect = "an amount greater than 0"},
    {.key = NULL, .kind = K_END},
};

static void accounts_fn(struct loader *ld, const struct field *f, void *base, yaml_node_t *v,
                        const char *path)
{
    static const struct field name_field = {.key = "name", .kind = K_STR,
                                            .expect = "an account name", .check = check_name};
    struct wd_config *cfg = base;
    struct wd_config_account *accts = NULL;
    size_t n, k = 0;
    (void)f;
    if (!map_node(ld, v, path, "a mapping of account names, such as {acct1: {capital: 500000}}",
                  &n)) {
        return;
    }
    if (n > 0 && (accts = calloc(n, sizeof *accts)) == NULL) {
        ld->oom = true;
        return;
    }
    size_t *dups = first_dups(ld, v);
    for (size_t i = 0; i < n && !ld->oom; i++) {
        const char *key;
        size_t klen;
        if (!take_key(ld, v, i, dups, path, &key, &klen)) {
            continue;
        }
        yaml_node_t *k_node = node_at(ld, v->data.mapping.pairs.start[i].key);
        yaml_node_t *val = node_at(ld, v->data.mapping.pairs.start[i].value);
        char *name = string_copy(ld, &name_field, k_node, path);
        if (name == NULL) {
            continue;
        }
        char sub[PATH_BUF + 80];
        snprintf(sub, sizeof sub, "%s.%.64s", path, name);
        struct wd_config_account a = {.name = name, .capital = CAPITAL_UNSET};
        size_t before = ld->n_problems;
        walk_map(ld, val, account_fields, &a, sub);
        if (ld->n_problems != before) {
            free(a.name);
            continue;
        }
        accts[k++] = a;
    }
    free(dups);
    free_accounts(cfg->accounts, cfg->n_accounts);
    cfg->accounts = accts;
    cfg->n_accounts = k;
}

static void free_tokens(struct wd_config_token *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].name);
        free(v[i].role);
        free(v[i].token);
    }
    free(v);
}

enum read_result { READ_OK, READ_FAILED, READ_TOO_BIG };

/* Reads all of path (at most max bytes) into a malloc'd, NUL-terminated
 * buffer. On READ_FAILED *why holds the reason. Works on pipes too. */
static enum read_result read_all(const char *path, size_t max, char **out, size_t *out_len,
                                 char *why, size_t why_cap)
{
    enum read_result rr = READ_FAILED;
    size_t len = 0, cap = 4096;
    char *buf = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (strerror_r(errno, why, why_cap) != 0) {
            snprintf(why, why_cap, "errno %d", errno);
        }
        return READ_FAILED;
    }
    for (;;) {
        if (len + 1 >= cap || buf == NULL) {
            size_t ncap = buf == NULL ? cap : cap * 2u;
            if (ncap > max + 2u) {
                ncap = max + 2u;
            }
            char *nb = realloc(buf, ncap);
            if (nb == NULL) {
                snprintf(why, why_cap, "out of memory");
                goto out;
            }
            buf = nb;
            cap = ncap;
        }
        ssize_t r = read(fd, buf + len, cap - len - 1u);
        if (r < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (strerror_r(errno, why, why_cap) != 0) {
                snprintf(why, why_cap, "errno %d", errno);
            }
            goto out;
        }
        if (r == 0) {
            break;
        }
        len += (size_t)r;
        if (len > max) {
            rr = READ_TOO_BIG;
            goto out;
        }
    }
    buf[len] = '\0';
    *out = buf;
    *out_len = len;
    buf = NULL;
    rr = READ_OK;
out:
    free(buf);
    close(fd);
    return rr;
}

static void token_file_fn(struct loader *ld, const struct field *f, void *base, yaml_node_t *v,
                          const char *path)
{
    static const struct field file_field = {.key = "token_file", .kind = K_STR,
                                            .expect = "the path of a file holding the token",
                                            .check = check_path};
    struct wd_config_token *t = base;
    char full[PATH_MAX], why[160], q[96];
    char *file = string_copy(ld, &file_field, v, path);
    char *data = NULL;
    size_t len = 0;
    (void)f;
    if (file == NULL) {
        return;
    }
    int pn = file[0] == '/' || ld->base_dir[0] == '\0'
                 ? snprintf(full, sizeof full, "%s", file)
                 : snprintf(full, sizeof full, "%s/%s", ld->base_dir, file);
    quote(q, sizeof q, full, strlen(full), '"');
    if (pn < 0 || (size_t)pn >= sizeof full) {
        problem_at(ld, &v->start_mark, "%s: the path is too long", path);
        goto out;
    }
    switch (read_all(full, WD_CONFIG_TOKEN_FILE_MAX, &data, &len, why, sizeof why)) {
    case READ_OK:
        break;
    case READ_TOO_BIG:
        problem_at(ld, &v->start_mark, "%s: %s is larger than %u bytes", path, q,
                   WD_CONFIG_TOKEN_FILE_MAX);
        goto out;
    case READ_FAILED:
    default:
        problem_at(ld, &v->start_mark, "%s: cannot read %s: %s", path, q, why);
        goto out;
    }
    while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == '\r')) {
        data[--len] = '\0';
    }
    if (len == 0) {
        problem_at(ld, &v->start_mark, "%s: %s is empty", path, q);
        goto out;
    }
    if (!check_token(data, len, why, sizeof why)) {
        problem_at(ld, &v->start_mark, "%s: in %s, %s", path, q, why);
        goto out;
    }
    free(t->token);
    t->token = data;
    data = NULL;
out:
    if (data != NULL) {
        memset(data, 0, len); /* it held a secret */
    }
    free(data);
    free(file);
}

static const struct field token_fields[] = {
    {.key = "name", .kind = K_STR, .off = offsetof(struct wd_config_token, name),
     .expect = "a token name", .check = check_name},
    {.key = "role", .kind = K_STR, .off = offsetof(struct wd_config_token, role),
     .expect = "one of viewer, responder, risk_officer, admin", .check = check_role},
    {.key = "token", .kind = K_STR, .off = offsetof(struct wd_config_token, token),
     .expect = "a bearer token", .check = check_token},
    {.key = "token_file", .kind = K_CUSTOM, .fn = token_file_fn},
    {.key = NULL, .kind = K_END},
};

static void tokens_fn(struct loader *ld, const struct field *f, void *base, yaml_node_t *v,
                      const char *path)
{
    struct wd_config *cfg = base;
    struct wd_config_token *toks = NULL;
    size_t n, k = 0;
    (void)f;
    if (!list_node(ld, v, path, "a list of {name, role, token}", &n)) {
        return;
    }
    if (n > 0 && (toks = calloc(n, sizeof *toks)) == NULL) {
        ld->oom = true;
        return;
    }
    for (size_t i = 0; i < n && !ld->oom; i++) {
        yaml_node_t *it = node_at(ld, v->data.sequence.items.start[i]);
        char sub[PATH_BUF + 24], what[128];
        snprintf(sub, sizeof sub, "%s[%zu]", path, i);
        if (it == NULL || it->type != YAML_MAPPING_NODE) {
            problem_at(ld, it ? &it->start_mark : &v->start_mark,
                       "%s: expected a mapping {name, role, token}, got %s", sub,
                       describe_secret(it, what, sizeof what));
            continue;
        }
        struct wd_config_token t = {0};
        size_t before = ld->n_problems;
        const yaml_node_t *tok = find_key(ld, it, "token");
        const yaml_node_t *file = find_key(ld, it, "token_file");
        walk_map(ld, it, token_fields, &t, sub);
        if (find_key(ld, it, "name") == NULL) {
            problem_at(ld, &it->start_mark, "%s: missing 'name'", sub);
        }
        if (find_key(ld, it, "role") == NULL) {
            problem_at(ld, &it->start_mark,
                       "%s: missing 'role' (one of viewer, responder, risk_officer, admin)", sub);
        }
        if (tok != NULL && file != NULL) {
            problem_at(ld, &it->start_mark, "%s: give either 'token' or 'token_file', not both",
                       sub);
        } else if (tok == NULL && file == NULL) {
            problem_at(ld, &it->start_mark, "%s: missing 'token' (or 'token_file')", sub);
        }
        if (ld->n_problems == before) {
            for (size_t j = 0; j < k; j++) {
                if (strcmp(toks[j].name, t.name) == 0) {
                    problem_at(ld, &it->start_mark, "%s: the name '%.64s' is already used",
                               sub, t.name);
                } else if (strcmp(toks[j].token, t.token) == 0) {
                    problem_at(ld, &it->start_mark,
                               "%s: the same token is already given to '%.64s'", sub,
                               toks[j].name);
                }
            }
        }
        if (ld->n_problems != before) {
            free(t.name);
            free(t.role);
            free(t.token);
            continue;
        }
        toks[k++] = t;
    }
    free_tokens(cfg->tokens, cfg->n_tokens);
    cfg->tokens = toks;
    cfg->n_tokens = k;
}

static const struct field topic_fields[] = {
#define TOPIC(k, m)                                                                    \
    {.key = k, .kind = K_STR, .off = offsetof(struct wd_config, kafka.m),             \
     .expect = "a Kafka topic name", .check = check_topic}
    TOPIC("market_events", topic_market_events),
    TOPIC("order_intents", topic_order_intents),
    TOPIC("exec_reports", topic_exec_reports),
    TOPIC("system_events", topic_system_events),
    TOPIC("risk_decisions", topic_risk_decisions),
    TOPIC("control", topic_control),
    TOPIC("incidents", topic_incidents),
    TOPIC("state", topic_state),
#undef TOPIC
    {.key = NULL, .kind = K_END},
};

static void free_kvs(struct wd_config_kv *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].key);
        free(v[i].value);
    }
    free(v);
}

/* The properties warden sets itself from other keys, or relies on. */
static const char *const kafka_reserved[][2] = {
    {"bootstrap.servers", "kafka.brokers"},   {"metadata.broker.list", "kafka.brokers"},
    {"group.id", "kafka.group"},              {"enable.auto.commit", "warden (offsets are "
                                                "committed after the store)"},
    {"enable.auto.offset.store", "warden"},   {"enable.idempotence", "warden (always on)"},
};

/* kafka.properties: {librdkafka.property: value}, passed through as text.
 * Whether librdkafka knows a property is checked when warden starts (the
 * Kafka adapter); here only the shape. Values are never quoted back: they
 * may be passwords. */
static void properties_fn(struct loader *ld, const struct field *f, void *base, yaml_node_t *v,
                          const char *path)
{
    struct wd_config *cfg = base;
    struct wd_config_kv *kvs = NULL;
    size_t n, k = 0;
    (void)f;
    if (!map_node(ld, v, path, "a mapping of librdkafka properties, such as "
                               "{security.protocol: SASL_SSL}", &n)) {
        return;
    }
    if (n > 0 && (kvs = calloc(n, sizeof *kvs)) == NULL) {
        ld->oom = true;
        return;
    }
    size_t *dups = first_dups(ld, v);
    for (size_t i = 0; i < n && !ld->oom; i++) {
        const char *key;
        size_t klen;
        char what[96];
        if (!take_key(ld, v, i, dups, path, &key, &klen)) {
            continue;
        }
        yaml_node_t *val = node_at(ld, v->data.mapping.pairs.start[i].value);
        bool reserved = false;
        for (size_t r = 0; r < sizeof kafka_reserved / sizeof kafka_reserved[0]; r++) {
            if (eq(key, klen, kafka_reserved[r][0])) {
                problem_at(ld, &val->start_mark, "%s.%.64s: set by %s, not here", path, key,
                           kafka_reserved[r][1]);
                reserved = true;
            }
        }
        if (reserved) {
            continue;
        }
        if (val == NULL || val->type != YAML_SCALAR_NODE || is_null(val)) {
            problem_at(ld, val != NULL ? &val->start_mark : &v->start_mark,
                       "%s.%.64s: expected a value (text, number or true/false), got %s", path,
                       key, describe_secret(val, what, sizeof what));
            continue;
        }
        struct wd_config_kv kv = {0};
        if (wd_config_set_str(&kv.key, key, klen) != WD_OK ||
            wd_config_set_str(&kv.value, sval(val), slen(val)) != WD_OK) {
            free(kv.key);
            ld->oom = true;
            break;
        }
        kvs[k++] = kv;
    }
    free(dups);
    free_kvs(cfg->kafka.properties, cfg->kafka.n_properties);
    cfg->kafka.properties = kvs;
    cfg->kafka.n_properties = k;
}

static const struct field kafka_fields[] = {
    {.key = "brokers", .kind = K_STR, .off = offsetof(struct wd_config, kafka.brokers),
     .expect = "a list of brokers such as \"localhost:9092\"", .check = check_brokers},
    {.key = "group", .kind = K_STR, .off = offsetof(struct wd_config, kafka.group),
     .expect = "a consumer group name", .check = check_name},
    {.key = "topics", .kind = K_MAP, .sub = topic_fields},
    {.key = "properties", .kind = K_CUSTOM, .fn = properties_fn},
    {.key = "max_wait_ms", .kind = K_I64, .off = offsetof(struct wd_config, kafka.max_wait_ms),
     .lo = 0, .hi = 60000, .expect = "a whole number of milliseconds from 0 to 60000"},
    {.key = "backlog_wait_ms", .kind = K_I64,
     .off = offsetof(struct wd_config, kafka.backlog_wait_ms), .lo = 0, .hi = 600000,
     .expect = "a whole number of milliseconds from 0 to 600000"},
    {.key = NULL, .kind = K_END},
};

static void kafka_fn(struct loader *ld, const struct field *f, void *base, yaml_node_t *v,
                     const char *path)
{
    struct wd_config *cfg = base;
    (void)f;
    cfg->has_kafka = true;
    walk_map(ld, v, kafka_fields, base, path);
}

/* What a channel section lacks to be able to send, or NULL. */
static const char *notify_missing(const struct wd_notify_config *n, enum wd_channel ch)
{
    switch (ch) {
    case WD_CH_SLACK: return n->slack.webhook_url[0] ? NULL : "'webhook_url' (or 'webhook_url_file')";
    case WD_CH_PAGERDUTY:
        return n->pagerduty.routing_key[0] ? NULL : "'routing_key' (or 'routing_key_file')";
    case WD_CH_WEBHOOK: return n->webhook.url[0] ? NULL : "'url' (or 'url_file')";
    case WD_CH_EMAIL:
        return !n->email.smtp_url[0] ? "'smtp_url'"
               : !n->email.from[0]   ? "'from'"
               : n->email.n_to == 0  ? "'to'"
                                     : NULL;
    case WD_CH_SMS:
        return !n->sms.url[0] ? "'url' (or 'url_file')" : n->sms.n_to == 0 ? "'to'" : NULL;
    case WD_CH__COUNT: break;
    }
    return NULL;
}

/* The contents of a `*_file` key (a secret kept out of the configuration
 * file), relative to the configuration's directory, without its trailing
 * newline. NULL after a problem. Malloc'd; the caller wipes and frees it. */
static char *notify_secret_file(struct loader *ld, const yaml_node_t *v, const char *path,
                                size_t *len)
{
    static const struct field file_field = {.key = "file", .kind = K_STR,
                                            .expect = "the path of a file holding the value",
                                            .check = check_path};
    char full[PATH_MAX], why[160], q[96];
    char *data = NULL;
    char *file = string_copy(ld, &file_field, v, path);
    if (file == NULL) {
        return NULL;
    }
    int pn = file[0] == '/' || ld->base_dir[0] == '\0'
                 ? snprintf(full, sizeof full, "%s", file)
                 : snprintf(full, sizeof full, "%s/%s", ld->base_dir, file);
    free(file);
    quote(q, sizeof q, full, strlen(full), '"');
    if (pn < 0 || (size_t)pn >= sizeof full) {
        problem_at(ld, &v->start_mark, "%s: the path is too long", path);
        return NULL;
    }
    switch (read_all(full, WD_CONFIG_TOKEN_FILE_MAX, &data, len, why, sizeof why)) {
    case READ_OK: break;
    case READ_TOO_BIG:
        problem_at(ld, &v->start_mark, "%s: %s is larger than %u bytes", path, q,
                   WD_CONFIG_TOKEN_FILE_MAX);
        return NULL;
    case READ_FAILED:
    default: problem_at(ld, &v->start_mark, "%s: cannot read %s: %s", path, q, why); return NULL;
    }
    while (*len > 0 && (data[*len - 1] == '\n' || data[*len - 1] == '\r')) {
        data[--*len] = '\0';
    }
    return data;
}

/* One key of a notify section: its scalar or list of scalars, or a
 * `*_file` key's file, handed to wd_notify_config_set. */
static void notify_key(struct loader *ld, const char *sec, size_t seclen, const char *key,
                       size_t klen, const yaml_node_t *v, const char *path)
{
    const char *vals[32];
    size_t lens[32], n = 0;
    char why[256], what[128];
    char *secret = NULL;
    size_t secret_len = 0;
    bool list = false;
    if (v == NULL) {
        return;
    }
    bool is_file = klen > 5 && memcmp(key + klen - 5, "_file", 5) == 0 &&
                   !eq(sec, seclen, "routes") && !eq(sec, seclen, "update_every_s") &&
                   !eq(sec, seclen, "delivery");
    if (is_file) {
        if ((secret = notify_secret_file(ld, v, path, &secret_len)) == NULL) {
            return;
        }
        vals[0] = secret;
        lens[0] = secret_len;
        n = 1;
        klen -= 5;
    } else if (v->type == YAML_SCALAR_NODE) {
        vals[0] = sval(v);
        lens[0] = slen(v);
        n = 1;
    } else if (v->type == YAML_SEQUENCE_NODE) {
        list = true;
        if (!spend(ld, v, n_items(v))) {
            return;
        }
        if (n_items(v) > sizeof vals / sizeof vals[0]) {
            problem_at(ld, &v->start_mark, "%s: at most %zu items, got %zu", path,
                       sizeof vals / sizeof vals[0], n_items(v));
            return;
        }
        for (size_t i = 0; i < n_items(v); i++) {
            const yaml_node_t *it = node_at(ld, v->data.sequence.items.start[i]);
            if (it == NULL || it->type != YAML_SCALAR_NODE) {
                problem_at(ld, it ? &it->start_mark : &v->start_mark,
                           "%s[%zu]: expected a string, got %s", path, i,
                           describe(it, what, sizeof what));
                return;
            }
            vals[n] = sval(it);
            lens[n++] = slen(it);
        }
    } else {
        problem_at(ld, &v->start_mark, "%s: expected a string or a list of strings, got %s",
                   path, describe_secret(v, what, sizeof what));
        return;
    }
    if (!wd_notify_config_set(&ld->cfg->notify, sec, seclen, key, klen, vals, lens, n, list,
                              why, sizeof why)) {
        problem_at(ld, &v->start_mark, "%s: %s", path, why);
    }
    if (secret != NULL) {
        memset(secret, 0, secret_len); /* it held a secret */
        free(secret);
    }
}

/* The notify section (docs/NOTIFICATIONS.md): channels, routes,
 * update_every_s and delivery, each a mapping of keys to strings or lists
 * of strings, checked and stored by the core (wd_notify_config_set). A
 * channel given without what it needs to send is a problem. */
static void notify_fn(struct loader *ld, const struct field *f, void *base, yaml_node_t *v,
                      const char *path)
{
    size_t n;
    (void)f;
    (void)base;
    if (!map_node(ld, v, path, "a mapping of channels such as {slack: {webhook_url: URL}}",
                  &n)) {
        return;
    }
    size_t *dups = first_dups(ld, v);
    for (size_t i = 0; i < n && !ld->oom; i++) {
        const char *key;
        size_t klen;
        enum wd_channel ch;
        if (!take_key(ld, v, i, dups, path, &key, &klen)) {
            continue;
        }
        const yaml_node_t *sec = node_at(ld, v->data.mapping.pairs.start[i].value);
        char sub[PATH_BUF];
        size_t m;
        snprintf(sub, sizeof sub, "%s.%.*s", path, (int)(klen > 64 ? 64 : klen), key);
        bool is_channel = wd_channel_parse(key, klen, &ch) == WD_OK;
        if (!is_channel && !eq(key, klen, "routes") && !eq(key, klen, "update_every_s") &&
            !eq(key, klen, "delivery")) {
            problem_at(ld, &node_at(ld, v->data.mapping.pairs.start[i].key)->start_mark,
                       "%s: unknown key (slack, pagerduty, webhook, email, sms, routes, "
                       "update_every_s, delivery)", sub);
            continue;
        }
        if (!map_node(ld, sec, sub, "a mapping", &m)) {
            continue;
        }
        size_t before = ld->n_problems;
        size_t *cdups = first_dups(ld, sec);
        for (size_t j = 0; j < m && !ld->oom; j++) {
            const char *ck;
            size_t cklen;
            if (!take_key(ld, sec, j, cdups, sub, &ck, &cklen)) {
                continue;
            }
            char sub2[PATH_BUF + 80];
            snprintf(sub2, sizeof sub2, "%s.%.64s", sub, ck);
            notify_key(ld, key, klen, ck, cklen, node_at(ld, sec->data.mapping.pairs.start[j].value),
                       sub2);
        }
        free(cdups);
        const char *missing = is_channel ? notify_missing(&ld->cfg->notify, ch) : NULL;
        if (missing != NULL && ld->n_problems == before) {
            problem_at(ld, &sec->start_mark, "%s: missing %s", sub, missing);
        }
    }
    free(dups);
}

/* The oncall: and escalation: sections (issue 8), in their own file. */
#include "config_oncall.inc"

/* ------------------------------------------------------------------------ */
/* The tables                                                                */

#define OFF(m) offsetof(struct wd_config, m)
#define NUM(k_, kind_, m, lo_, hi_, fl, ex)                                                \
    {.key = k_, .kind = kind_, .off = OFF(m), .lo = lo_, .hi = hi_, .flags = fl, .expect = ex}
#define SECONDS(k_, m, lo_, hi_, ex) NUM(k_, K_I64, m, lo_, hi_, 0, ex)

static const struct field session_fields[] = {
    {.key = "tz", .kind = K_CUSTOM, .off = OFF(session.tz), .fn = tz_fn,
     .expect = "a time zone name such as America/New_York", .check = check_path},
    {.key = "open", .kind = K_CUSTOM, .off = OFF(session.open_min), .fn = time_fn,
     .expect = "a time HH:MM from 00:00 to 23:59"},
    {.key = "close", .kind = K_CUSTOM, .off = OFF(session.close_min), .fn = time_fn,
     .flags = ALLOW_24, .expect = "a time HH:MM from 00:01 to 24:00"},
    {.key = "days", .kind = K_CUSTOM, .fn = days_fn},
    {.key = "holidays", .kind = K_CUSTOM, .fn = holidays_fn},
    {.key = NULL, .kind = K_END},
};

static const struct field psr_fields[] = {
    NUM("min", K_DOUBLE, limits.psr.min, 0, 1, HI_OPEN, "a probability >= 0 and < 1"),
    NUM("benchmark", K_DOUBLE, limits.psr.benchmark, -10, 10, 0,
        "a Sharpe ratio per interval from -10 to 10"),
    NUM("window", K_U32, limits.psr.window, 2, 100000, 0, "a whole number from 2 to 100000"),
    NUM("min_obs", K_U32, limits.psr.min_obs, 2, 100000, 0, "a whole number from 2 to 100000"),
    SECONDS("interval_s", limits.psr.interval_s, 1, 31622400,
            "a whole number of seconds from 1 to 31622400"),
    {.key = NULL, .kind = K_END},
};

#define LIMIT(k_, m) NUM(k_, K_FIX, limits.m, 0, 1e10, 0, "a number >= 0 (0 = no limit)")

static const struct field limits_fields[] = {
    NUM("kill_pnl", K_DOUBLE, limits.kill_pnl, -1, 0, LO_OPEN | HI_OPEN,
        "a number between -1 and 0"),
    NUM("max_dd", K_DOUBLE, limits.max_dd, 0, 1, LO_OPEN | HI_OPEN, "a number between 0 and 1"),
    {.key = "psr", .kind = K_MAP, .sub = psr_fields},
    LIMIT("max_order_qty", max_order_qty),
    LIMIT("max_order_notional", max_order_notional),
    LIMIT("box_lim", box_lim),
    LIMIT("max_gross_exposure", max_gross_exposure),
    NUM("max_orders_per_s", K_U32, limits.max_orders_per_s, 0, 1e9, 0,
        "a whole number >= 0 (0 = no limit)"),
    NUM("price_collar", K_DOUBLE, limits.price_collar, 0, 1, HI_OPEN,
        "a number >= 0 and < 1 (0 = no collar)"),
    {.key = "symbols", .kind = K_CUSTOM, .fn = symbols_fn},
    {.key = "sources", .kind = K_CUSTOM, .fn = sources_fn},
    {.key = NULL, .kind = K_END},
};

static const struct field ramp_fields[] = {
    NUM("fraction", K_DOUBLE, ramp.fraction, 0, 1, LO_OPEN, "a number > 0 and <= 1"),
    SECONDS("duration_s", ramp.duration_s, 0, 2592000,
            "a whole number of seconds from 0 to 2592000"),
    {.key = NULL, .kind = K_END},
};

static const struct field on_kill_fields[] = {
    {.key = "cancel_all", .kind = K_BOOL, .off = OFF(on_kill.cancel_all),
     .expect = "true or false"},
    {.key = "flatten", .kind = K_BOOL, .off = OFF(on_kill.flatten), .expect = "true or false"},
    {.key = NULL, .kind = K_END},
};

#define WINDOW_S(m) SECONDS("window_s", m, 1, 86400, "a whole number of seconds from 1 to 86400")

static const struct field reject_fields[] = {
    NUM("window_orders", K_U32, detect.reject.window_orders, 1, 1000000, 0,
        "a whole number from 1 to 1000000"),
    WINDOW_S(detect.reject.window_s),
    NUM("open", K_DOUBLE, detect.reject.open, 0, 1, LO_OPEN, "a ratio > 0 and <= 1"),
    NUM("close", K_DOUBLE, detect.reject.close, 0, 1, HI_OPEN, "a ratio >= 0 and < 1"),
    {.key = NULL, .kind = K_END},
};

static const struct field latency_fields[] = {
    WINDOW_S(detect.latency.window_s),
    NUM("open_p95_ms", K_DOUBLE, detect.latency.open_p95_ms, 0, 3600000, LO_OPEN,
        "a number of milliseconds > 0 and <= 3600000"),
    NUM("close_p95_ms", K_DOUBLE, detect.latency.close_p95_ms, 0, 3600000, HI_OPEN,
        "a number of milliseconds >= 0 and < 3600000"),
    {.key = NULL, .kind = K_END},
};

static const struct field completeness_fields[] = {
    NUM("min", K_DOUBLE, detect.completeness.min, 0, 1, 0, "a ratio from 0 to 1"),
    WINDOW_S(detect.completeness.window_s),
    {.key = NULL, .kind = K_END},
};

static const struct field lag_fields[] = {
    NUM("open", K_I64, detect.consumer_lag.open, 1, 1e12, 0,
        "a whole number of messages from 1 to 1000000000000"),
    NUM("close", K_I64, detect.consumer_lag.close, 0, 1e12, 0,
        "a whole number of messages from 0 to 1000000000000"),
    {.key = NULL, .kind = K_END},
};

static const struct field detect_fields[] = {
    SECONDS("heartbeat_timeout_s", detect.heartbeat_timeout_s, 1, 86400,
            "a whole number of seconds from 1 to 86400"),
    {.key = "reject", .kind = K_MAP, .sub = reject_fields},
    {.key = "latency", .kind = K_MAP, .sub = latency_fields},
    SECONDS("staleness_s", detect.staleness_s, 1, 86400,
            "a whole number of seconds from 1 to 86400"),
    {.key = "completeness", .kind = K_MAP, .sub = completeness_fields},
    {.key = "consumer_lag", .kind = K_MAP, .sub = lag_fields},
    {.key = "unknown_fills", .kind = K_BOOL, .off = OFF(detect.unknown_fills),
     .expect = "true or false"},
    {.key = NULL, .kind = K_END},
};

static const struct field store_fields[] = {
    {.key = "path", .kind = K_STR, .off = OFF(store.path), .expect = "a file path",
     .check = check_path},
    {.key = "chain_key_file", .kind = K_STR, .off = OFF(store.chain_key_file),
     .expect = "a file path", .check = check_path},
    {.key = NULL, .kind = K_END},
};

static const struct field http_fields[] = {
    {.key = "metrics_listen", .kind = K_STR, .off = OFF(http.metrics_listen),
     .expect = "host:port", .check = check_listen},
    {.key = "api_listen", .kind = K_STR, .off = OFF(http.api_listen), .expect = "host:port",
     .check = check_listen},
    {.key = NULL, .kind = K_END},
};

static const struct field top_fields[] = {
    NUM("capital", K_FIX, capital, 0, 1e10, LO_OPEN, "an amount greater than 0"),
    {.key = "accounts", .kind = K_CUSTOM, .fn = accounts_fn},
    {.key = "session", .kind = K_MAP, .sub = session_fields},
    {.key = "limits", .kind = K_MAP, .sub = limits_fields},
    {.key = "ramp", .kind = K_MAP, .sub = ramp_fields},
    {.key = "on_kill", .kind = K_MAP, .sub = on_kill_fields},
    {.key = "detect", .kind = K_MAP, .sub = detect_fields},
    {.key = "store", .kind = K_MAP, .sub = store_fields},
    {.key = "http", .kind = K_MAP, .sub = http_fields},
    {.key = "tokens", .kind = K_CUSTOM, .fn = tokens_fn},
    {.key = "kafka", .kind = K_CUSTOM, .fn = kafka_fn},
    {.key = "notify", .kind = K_CUSTOM, .fn = notify_fn},
    {.key = "oncall", .kind = K_CUSTOM, .fn = oncall_fn},
    {.key = "escalation", .kind = K_CUSTOM, .fn = escalation_fn},
    {.key = NULL, .kind = K_END},
};

/* ------------------------------------------------------------------------ */
/* Cross-field checks                                                        */

/* The later of two remembered places (the one the operator most likely
 * just edited), or whichever exists. */
static const yaml_mark_t *either(const struct loader *ld, const void *a, const void *b)
{
    const yaml_mark_t *ma = mark_of(ld, a), *mb = mark_of(ld, b);
    if (ma == NULL) {
        return mb;
    }
    if (mb == NULL) {
        return ma;
    }
    return mb->index > ma->index ? mb : ma;
}

static void finish(struct loader *ld)
{
    struct wd_config *c = ld->cfg;
    oncall_finish(ld);
    for (size_t i = 0; i < c->n_accounts; i++) {
        if (c->accounts[i].capital == CAPITAL_UNSET) {
            c->accounts[i].capital = c->capital;
        }
    }
    if (c->session.close_min <= c->session.open_min) {
        problem_at(ld, either(ld, &c->session.open_min, &c->session.close_min),
                   "session.close (%02d:%02d) must be after session.open (%02d:%02d); "
                   "sessions that cross midnight are not supported",
                   c->session.close_min / 60, c->session.close_min % 60,
                   c->session.open_min / 60, c->session.open_min % 60);
    }
    if (c->limits.psr.min_obs > c->limits.psr.window) {
        problem_at(ld, either(ld, &c->limits.psr.window, &c->limits.psr.min_obs),
                   "limits.psr.min_obs (%u) must not exceed limits.psr.window (%u)",
                   (unsigned)c->limits.psr.min_obs, (unsigned)c->limits.psr.window);
    }
    /* Hysteresis: an alert opens above `open` and clears below `close`; with
     * close >= open it would flap on every sample. */
    if (!(c->detect.reject.close < c->detect.reject.open)) {
        problem_at(ld, either(ld, &c->detect.reject.open, &c->detect.reject.close),
                   "detect.reject.close (%g) must be below detect.reject.open (%g)",
                   c->detect.reject.close, c->detect.reject.open);
    }
    if (!(c->detect.latency.close_p95_ms < c->detect.latency.open_p95_ms)) {
        problem_at(ld, either(ld, &c->detect.latency.open_p95_ms, &c->detect.latency.close_p95_ms),
                   "detect.latency.close_p95_ms (%g) must be below detect.latency.open_p95_ms "
                   "(%g)",
                   c->detect.latency.close_p95_ms, c->detect.latency.open_p95_ms);
    }
    if (!(c->detect.consumer_lag.close < c->detect.consumer_lag.open)) {
        problem_at(ld, either(ld, &c->detect.consumer_lag.open, &c->detect.consumer_lag.close),
                   "detect.consumer_lag.close (%lld) must be below detect.consumer_lag.open "
                   "(%lld)",
                   (long long)c->detect.consumer_lag.close,
                   (long long)c->detect.consumer_lag.open);
    }
}

/* ------------------------------------------------------------------------ */
/* Copying a config (the scratch starts as a deep copy of the caller's)       */

/* Every owned string of struct wd_config outside the arrays. A field added
 * to the struct that owns memory must be added here (tests/unit/
 * test_config_yaml.c pins the struct's size to catch that). */
static const size_t owned_strings[] = {
    OFF(session.tz),
    OFF(store.path),
    OFF(store.chain_key_file),
    OFF(http.metrics_listen),
    OFF(http.api_listen),
    OFF(kafka.brokers),
    OFF(kafka.group),
    OFF(kafka.topic_market_events),
    OFF(kafka.topic_order_intents),
    OFF(kafka.topic_exec_reports),
    OFF(kafka.topic_system_events),
    OFF(kafka.topic_risk_decisions),
    OFF(kafka.topic_control),
    OFF(kafka.topic_incidents),
    OFF(kafka.topic_state),
};

static bool dup_str(char **dst, const char *src)
{
    *dst = NULL;
    return src == NULL || wd_config_set_str(dst, src, strlen(src)) == WD_OK;
}

/* On failure (WD_ENOMEM) dst is still safe to wd_config_destroy. */
static enum wd_status config_copy(struct wd_config *dst, const struct wd_config *src)
{
    const size_t n_str = sizeof owned_strings / sizeof owned_strings[0];
    *dst = *src;
    /* Detach every owned pointer first, so a partial copy can be destroyed. */
    for (size_t i = 0; i < n_str; i++) {
        *(char **)at_off(dst, owned_strings[i]) = NULL;
    }
    dst->accounts = NULL;
    dst->n_accounts = 0;
    dst->session.holidays = NULL;
    dst->session.n_holidays = 0;
    dst->limits.symbols = NULL;
    dst->limits.n_symbols = 0;
    dst->limits.sources = NULL;
    dst->limits.n_sources = 0;
    dst->tokens = NULL;
    dst->n_tokens = 0;
    dst->kafka.properties = NULL;
    dst->kafka.n_properties = 0;

    for (size_t i = 0; i < n_str; i++) {
        const char *s = *(char *const *)((const char *)src + owned_strings[i]);
        if (!dup_str(at_off(dst, owned_strings[i]), s)) {
            return WD_ENOMEM;
        }
    }
    if (src->n_accounts > 0) {
        if ((dst->accounts = calloc(src->n_accounts, sizeof *dst->accounts)) == NULL) {
            return WD_ENOMEM;
        }
        dst->n_accounts = src->n_accounts;
        for (size_t i = 0; i < src->n_accounts; i++) {
            dst->accounts[i].capital = src->accounts[i].capital;
            if (!dup_str(&dst->accounts[i].name, src->accounts[i].name)) {
                return WD_ENOMEM;
            }
        }
    }
    if (src->session.n_holidays > 0) {
        size_t bytes = src->session.n_holidays * sizeof *src->session.holidays;
        if ((dst->session.holidays = malloc(bytes)) == NULL) {
            return WD_ENOMEM;
        }
        memcpy(dst->session.holidays, src->session.holidays, bytes);
        dst->session.n_holidays = src->session.n_holidays;
    }
    if (src->limits.n_symbols > 0) {
        if ((dst->limits.symbols = calloc(src->limits.n_symbols, sizeof(char *))) == NULL) {
            return WD_ENOMEM;
        }
        dst->limits.n_symbols = src->limits.n_symbols;
        for (size_t i = 0; i < src->limits.n_symbols; i++) {
            if (!dup_str(&dst->limits.symbols[i], src->limits.symbols[i])) {
                return WD_ENOMEM;
            }
        }
    }
    if (src->limits.n_sources > 0) {
        if ((dst->limits.sources = calloc(src->limits.n_sources, sizeof *dst->limits.sources)) ==
            NULL) {
            return WD_ENOMEM;
        }
        dst->limits.n_sources = src->limits.n_sources;
        for (size_t i = 0; i < src->limits.n_sources; i++) {
            if (!dup_str(&dst->limits.sources[i].name, src->limits.sources[i].name) ||
                !dup_str(&dst->limits.sources[i].key_hex, src->limits.sources[i].key_hex)) {
                return WD_ENOMEM;
            }
        }
    }
    if (src->kafka.n_properties > 0) {
        if ((dst->kafka.properties = calloc(src->kafka.n_properties,
                                            sizeof *dst->kafka.properties)) == NULL) {
            return WD_ENOMEM;
        }
        dst->kafka.n_properties = src->kafka.n_properties;
        for (size_t i = 0; i < src->kafka.n_properties; i++) {
            if (!dup_str(&dst->kafka.properties[i].key, src->kafka.properties[i].key) ||
                !dup_str(&dst->kafka.properties[i].value, src->kafka.properties[i].value)) {
                return WD_ENOMEM;
            }
        }
    }
    if (src->n_tokens > 0) {
        if ((dst->tokens = calloc(src->n_tokens, sizeof *dst->tokens)) == NULL) {
            return WD_ENOMEM;
        }
        dst->n_tokens = src->n_tokens;
        for (size_t i = 0; i < src->n_tokens; i++) {
            if (!dup_str(&dst->tokens[i].name, src->tokens[i].name) ||
                !dup_str(&dst->tokens[i].role, src->tokens[i].role) ||
                !dup_str(&dst->tokens[i].token, src->tokens[i].token)) {
                return WD_ENOMEM;
            }
        }
    }
    return WD_OK;
}

/* ------------------------------------------------------------------------ */
/* Entry points                                                              */

/* libyaml's reader errors carry a byte offset, not a mark. */
static yaml_mark_t mark_from_offset(const char *data, size_t len, size_t offset)
{
    yaml_mark_t m = {0, 0, 0};
    for (size_t i = 0; i < offset && i < len; i++) {
        if (data[i] == '\n') {
            m.line++;
            m.column = 0;
        } else {
            m.column++;
        }
    }
    m.index = offset;
    return m;
}

static void syntax_problem(struct loader *ld, const yaml_parser_t *p, const char *data, size_t len)
{
    yaml_mark_t m = p->problem_mark;
    const char *what = p->problem ? p->problem : "malformed YAML";
    if (p->error == YAML_MEMORY_ERROR) {
        ld->oom = true;
        return;
    }
    if (p->error == YAML_READER_ERROR) {
        m = mark_from_offset(data, len, p->problem_offset);
        problem_at(ld, &m, "not valid UTF-8 text: %s", what);
        return;
    }
    if (p->context != NULL) {
        problem_at(ld, &m, "YAML syntax error: %s (%s at line %zu)", what, p->context,
                   p->context_mark.line + 1u);
    } else {
        problem_at(ld, &m, "YAML syntax error: %s", what);
    }
}

static int cmp_problem(const struct wd_config_problem *a, const struct wd_config_problem *b)
{
    if (a->line != b->line) {
        return a->line < b->line ? -1 : 1;
    }
    if (a->column != b->column) {
        return a->column < b->column ? -1 : 1;
    }
    return 0;
}

/* Stable insertion sort of the problems this load added (at most
 * WD_CONFIG_MAX_PROBLEMS), then the "too many" note at the end. */
static void sort_problems(struct loader *ld)
{
    struct wd_config_report *rep = ld->rep;
    if (rep == NULL) {
        return;
    }
    for (size_t i = ld->first + 1; i < rep->n; i++) {
        struct wd_config_problem tmp = rep->items[i];
        size_t j = i;
        while (j > ld->first && cmp_problem(&rep->items[j - 1], &tmp) > 0) {
            rep->items[j] = rep->items[j - 1];
            j--;
        }
        rep->items[j] = tmp;
    }
    if (ld->truncated) {
        size_t shown = rep->n - ld->first;
        struct wd_config_problem *it = push(ld, NULL);
        if (it != NULL) {
            snprintf(it->msg, sizeof it->msg,
                     "too many problems: %zu found, only the first %zu are listed",
                     ld->n_problems, shown);
        }
    }
}

static void set_base_dir(struct loader *ld, const char *name)
{
    const char *slash = name ? strrchr(name, '/') : NULL;
    ld->base_dir[0] = '\0';
    if (slash == NULL) {
        return;
    }
    size_t n = (size_t)(slash - name);
    if (n == 0) {
        n = 1; /* "/warden.yaml" lives in "/" */
    }
    if (n < sizeof ld->base_dir) {
        memcpy(ld->base_dir, name, n);
        ld->base_dir[n] = '\0';
    }
}

enum wd_status wd_config_load_buffer(const char *data, size_t len, const char *name_for_messages,
                                     struct wd_config *cfg, struct wd_config_report *rep)
{
    struct loader *ld = calloc(1, sizeof *ld); /* ~8 KiB: kept off the stack */
    struct wd_config scratch;
    yaml_parser_t parser;
    yaml_document_t doc, doc2;
    enum wd_status st = WD_ENOMEM;
    const char *name = name_for_messages ? name_for_messages : "the configuration";

    if (ld == NULL) {
        return WD_ENOMEM;
    }
    if (data == NULL) {
        len = 0; /* NULL is an empty input */
        data = "";
    }
    ld->rep = rep;
    ld->first = rep ? rep->n : 0;
    set_base_dir(ld, name_for_messages);

    if (len > WD_CONFIG_FILE_MAX) {
        problem_at(ld, NULL, "%s is larger than %u bytes", name, WD_CONFIG_FILE_MAX);
        free(ld);
        return WD_EINVAL;
    }
    if (config_copy(&scratch, cfg) != WD_OK) {
        wd_config_destroy(&scratch);
        free(ld);
        return WD_ENOMEM;
    }
    ld->cfg = &scratch;
    if (!yaml_parser_initialize(&parser)) {
        wd_config_destroy(&scratch);
        free(ld);
        return WD_ENOMEM;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)data, len);

    if (!yaml_parser_load(&parser, &doc)) {
        syntax_problem(ld, &parser, data, len);
        goto done;
    }
    ld->doc = &doc;
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (root != NULL) {
        walk_map(ld, root, top_fields, &scratch, "");
    }
    if (!yaml_parser_load(&parser, &doc2)) {
        syntax_problem(ld, &parser, data, len);
    } else {
        const yaml_node_t *root2 = yaml_document_get_root_node(&doc2);
        if (root2 != NULL) {
            problem_at(ld, &root2->start_mark,
                       "only one YAML document is allowed; remove the second '---'");
        }
        yaml_document_delete(&doc2);
    }
    if (!ld->oom) {
        finish(ld);
    }
    yaml_document_delete(&doc);

done:
    yaml_parser_delete(&parser);
    sort_problems(ld);
    if (ld->oom) {
        st = WD_ENOMEM;
    } else if (ld->n_problems > 0) {
        st = WD_EINVAL;
    } else {
        st = WD_OK;
    }
    if (st == WD_OK) {
        wd_config_destroy(cfg);
        *cfg = scratch;
    } else {
        wd_config_destroy(&scratch);
    }
    free(ld);
    return st;
}

enum wd_status wd_config_load_file(const char *path, struct wd_config *cfg,
                                   struct wd_config_report *rep)
{
    char why[160];
    char *data = NULL;
    size_t len = 0;
    struct loader note = {0};
    note.rep = rep;
    note.first = rep ? rep->n : 0;

    if (path == NULL || path[0] == '\0') {
        problem_at(&note, NULL, "no configuration file given");
        return WD_EIO;
    }
    switch (read_all(path, WD_CONFIG_FILE_MAX, &data, &len, why, sizeof why)) {
    case READ_OK:
        break;
    case READ_TOO_BIG:
        problem_at(&note, NULL, "%s is larger than %u bytes", path, WD_CONFIG_FILE_MAX);
        return note.oom ? WD_ENOMEM : WD_EINVAL;
    case READ_FAILED:
    default:
        problem_at(&note, NULL, "cannot read %s: %s", path, why);
        return note.oom ? WD_ENOMEM : WD_EIO;
    }
    enum wd_status st = wd_config_load_buffer(data, len, path, cfg, rep);
    free(data);
    return st;
}

void wd_config_report_free(struct wd_config_report *rep)
{
    if (rep == NULL) {
        return;
    }
    free(rep->items);
    rep->items = NULL;
    rep->n = 0;
    rep->cap = 0;
}
