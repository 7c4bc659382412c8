/*
 * Time zones: TZif (RFC 8536) and POSIX TZ rules, parsed from bytes, and the
 * local-day arithmetic built on them.
 *
 * A zone is a sorted table of UTC transition instants, each with the UTC
 * offset in force from that instant on, plus an optional POSIX rule for
 * instants after the last transition (the TZif footer) or for all instants
 * (a zone built from a rule string). Local days are found by walking the
 * offset segments around local midnight, so days of 23 and 25 hours and days
 * whose midnight does not exist come out right.
 *
 * This file must stay pure: it never opens the zone file itself (the adapter
 * in src/bus/tzload.c does), never reads TZ or the clock, and it reads input
 * bytes only through bounds-checked helpers, so any byte string is safe to
 * hand to wd_tz_from_tzif.
 */
#include "warden/tz.h"

#include <stdlib.h>
#include <string.h>

#include "warden/timeutil.h"

/* RFC 8536 section 3.2: utoff must lie in [-89999, 93599] (-24:59:59 to
 * +25:59:59). POSIX offsets (at most 24:59:59, DST one hour more by default)
 * stay within the same bounds, so every offset is in this range. */
#define UTOFF_MIN (-89999)
#define UTOFF_MAX 93599

/* Bounds on a TZif data block: the table we allocate is at most this big.
 * Real files have a few hundred transitions and a dozen types. */
#define TZIF_MAX_TIMES 65536u
#define TZIF_MAX_TYPES 256u
#define TZIF_MAX_CHARS 65536u
#define TZIF_HEADER_LEN 44u

/* Longest zone abbreviation accepted in a POSIX rule. */
#define POSIX_NAME_MAX 255u
/* POSIX offsets go to 24 hours; rule times to 167 hours (TZif v3 allows
 * -167..167 so that "the day after" rules can be written). */
#define POSIX_OFFSET_MAX_H 24u
#define POSIX_TIME_MAX_H 167u

/* Instants further than this from the epoch (about a billion years) are
 * evaluated as if they were at this bound; it keeps the year arithmetic of
 * the rules far from int64 overflow. */
#define RULE_CLAMP_S ((int64_t)1 << 55)

/* Local midnight L is reached at some instant in [L - UTOFF_MAX, L - UTOFF_MIN]. */
#define DAY_WINDOW_S ((int64_t)UTOFF_MAX + 1)

enum rule_kind {
    RULE_JULIAN1, /* Jn: 1..365, February 29 never counted */
    RULE_DAY0,    /* n: 0..365, February 29 counted in leap years */
    RULE_MONTH    /* Mm.w.d: day d (0 = Sunday) of week w (5 = last) of month m */
};

struct rule_date {
    enum rule_kind kind;
    unsigned day;  /* RULE_JULIAN1 / RULE_DAY0 */
    unsigned mon;  /* RULE_MONTH: 1..12 */
    unsigned week; /* RULE_MONTH: 1..5 */
    unsigned wday; /* RULE_MONTH: 0..6 */
    int32_t time_s; /* local wall time of the change, may be < 0 or > 24h */
};

/* Offsets here are seconds east of UTC (the opposite of POSIX's sign). */
struct posix_tz {
    int32_t std_off;
    int32_t dst_off;
    int has_dst;
    struct rule_date start; /* into DST, in standard local time */
    struct rule_date end;   /* out of DST, in daylight local time */
};

struct tz_trans {
    int64_t at_s;    /* UTC instant of the change */
    int32_t utoff_s; /* offset in force from at_s on */
};

struct wd_tz {
    int32_t off_before; /* before the first transition (TZif type 0) */
    int has_rule;       /* rule applies from the last transition on */
    struct posix_tz rule;
    size_t n;
    struct tz_trans t[];
};

/* ---- POSIX TZ rules ------------------------------------------------------ */

struct pp {
    const char *s;
    size_t len;
    size_t pos;
    struct wd_error *err;
    const char *ctx; /* prefix for messages: "TZ rule" or "TZif footer" */
};

static enum wd_status pp_fail(struct pp *p, const char *what)
{
    enum wd_status st = wd_error_set(p->err, WD_EINVAL, "%s: %s at offset %zu", p->ctx, what, p->pos);
    if (p->err)
        p->err->column = (uint32_t)(p->pos + 1 > UINT32_MAX ? UINT32_MAX : p->pos + 1);
    return st;
}

static int pp_peek(const struct pp *p)
{
    return p->pos < p->len ? (unsigned char)p->s[p->pos] : -1;
}

static int is_alpha(int c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static int is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static enum wd_status parse_name(struct pp *p)
{
    size_t n = 0;
    if (pp_peek(p) == '<') {
        p->pos++;
        for (;;) {
            int c = pp_peek(p);
            if (c < 0)
                return pp_fail(p, "unterminated '<' in zone name");
            if (c == '>')
                break;
            if (!is_alpha(c) && !is_digit(c) && c != '+' && c != '-')
                return pp_fail(p, "invalid character in quoted zone name");
            n++;
            p->pos++;
        }
        if (n < 3)
            return pp_fail(p, "quoted zone name shorter than 3 characters");
        p->pos++; /* '>' */
    } else {
        while (is_alpha(pp_peek(p))) {
            n++;
            p->pos++;
        }
        if (n < 3)
            return pp_fail(p, "expected a zone name of at least 3 letters");
    }
    if (n > POSIX_NAME_MAX)
        return pp_fail(p, "zone name too long");
    return WD_OK;
}

/* 1..max_digits decimal digits; value capped well below overflow. */
static int take_uint(struct pp *p, unsigned max_digits, unsigned *out)
{
    unsigned v = 0, n = 0;
    while (n < max_digits && is_digit(pp_peek(p))) {
        v = v * 10 + (unsigned)(pp_peek(p) - '0');
        p->pos++;
        n++;
    }
    if (n == 0)
        return -1;
    *out = v;
    return 0;
}

/* [+-]h[hh][:mm[:ss]] into signed seconds, as written (no sign flip). */
static enum wd_status parse_hms(struct pp *p, unsigned max_h, int32_t *out)
{
    int neg = 0;
    unsigned h, m = 0, s = 0;
    if (pp_peek(p) == '+' || pp_peek(p) == '-') {
        neg = pp_peek(p) == '-';
        p->pos++;
    }
    if (take_uint(p, 3, &h))
        return pp_fail(p, "expected hours");
    if (h > max_h || is_digit(pp_peek(p)))
        return pp_fail(p, "hours out of range");
    if (pp_peek(p) == ':') {
        p->pos++;
        if (take_uint(p, 2, &m) || m > 59)
            return pp_fail(p, "expected minutes 00..59");
        if (pp_peek(p) == ':') {
            p->pos++;
            if (take_uint(p, 2, &s) || s > 59)
                return pp_fail(p, "expected seconds 00..59");
        }
    }
    int32_t v = (int32_t)(h * 3600 + m * 60 + s);
    *out = neg ? -v : v;
    return WD_OK;
}

static enum wd_status parse_rule_date(struct pp *p, struct rule_date *r)
{
    unsigned a, b, c;
    int ch = pp_peek(p);
    memset(r, 0, sizeof *r);
    if (ch == 'J') {
        p->pos++;
        if (take_uint(p, 3, &a) || a < 1 || a > 365 || is_digit(pp_peek(p)))
            return pp_fail(p, "Jn day must be 1..365");
        r->kind = RULE_JULIAN1;
        r->day = a;
    } else if (ch == 'M') {
        p->pos++;
        if (take_uint(p, 2, &a) || a < 1 || a > 12 || is_digit(pp_peek(p)))
            return pp_fail(p, "Mm.w.d month must be 1..12");
        if (pp_peek(p) != '.')
            return pp_fail(p, "expected '.' after month");
        p->pos++;
        if (take_uint(p, 1, &b) || b < 1 || b > 5 || is_digit(pp_peek(p)))
            return pp_fail(p, "Mm.w.d week must be 1..5");
        if (pp_peek(p) != '.')
            return pp_fail(p, "expected '.' after week");
        p->pos++;
        if (take_uint(p, 1, &c) || c > 6 || is_digit(pp_peek(p)))
            return pp_fail(p, "Mm.w.d weekday must be 0..6");
        r->kind = RULE_MONTH;
        r->mon = a;
        r->week = b;
        r->wday = c;
    } else if (is_digit(ch)) {
        if (take_uint(p, 3, &a) || a > 365 || is_digit(pp_peek(p)))
            return pp_fail(p, "day number must be 0..365");
        r->kind = RULE_DAY0;
        r->day = a;
    } else {
        return pp_fail(p, "expected a rule date (Jn, n or Mm.w.d)");
    }
    r->time_s = 2 * 3600;
    if (pp_peek(p) == '/') {
        p->pos++;
        enum wd_status st = parse_hms(p, POSIX_TIME_MAX_H, &r->time_s);
        if (st != WD_OK)
            return st;
    }
    return WD_OK;
}

static enum wd_status parse_posix(struct pp *p, struct posix_tz *z)
{
    enum wd_status st;
    int32_t v;

    memset(z, 0, sizeof *z);
    if (p->len == 0)
        return pp_fail(p, "empty rule");
    if ((st = parse_name(p)) != WD_OK)
        return st;
    if ((st = parse_hms(p, POSIX_OFFSET_MAX_H, &v)) != WD_OK)
        return st;
    z->std_off = -v;
    z->dst_off = z->std_off;
    if (p->pos == p->len)
        return WD_OK;

    if ((st = parse_name(p)) != WD_OK)
        return st;
    z->has_dst = 1;
    z->dst_off = z->std_off + 3600;
    if (pp_peek(p) == '+' || pp_peek(p) == '-' || is_digit(pp_peek(p))) {
        if ((st = parse_hms(p, POSIX_OFFSET_MAX_H, &v)) != WD_OK)
            return st;
        z->dst_off = -v;
    }

    if (p->pos == p->len) {
        /* No rule given: the US rules since 2007, as tzcode does. */
        z->start = (struct rule_date){.kind = RULE_MONTH, .mon = 3, .week = 2, .wday = 0,
                                      .time_s = 7200};
        z->end = (struct rule_date){.kind = RULE_MONTH, .mon = 11, .week = 1, .wday = 0,
                                    .time_s = 7200};
        return WD_OK;
    }
    if (pp_peek(p) != ',')
        return pp_fail(p, "expected ',' before the DST start rule");
    p->pos++;
    if ((st = parse_rule_date(p, &z->start)) != WD_OK)
        return st;
    if (pp_peek(p) != ',')
        return pp_fail(p, "expected ',' before the DST end rule");
    p->pos++;
    if ((st = parse_rule_date(p, &z->end)) != WD_OK)
        return st;
    if (p->pos != p->len)
        return pp_fail(p, "unexpected trailing characters");
    return WD_OK;
}

static int is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned month_days(int64_t y, unsigned m)
{
    static const unsigned char len[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return (m == 2 && is_leap(y)) ? 29u : len[m - 1];
}

/* Days since the epoch of the rule's date in year y. */
static int64_t rule_day(const struct rule_date *r, int64_t y)
{
    switch (r->kind) {
    case RULE_JULIAN1: {
        int64_t doy = (int64_t)r->day - 1;
        if (is_leap(y) && r->day >= 60)
            doy++;
        return wd_days_from_civil(y, 1, 1) + doy;
    }
    case RULE_DAY0:
        return wd_days_from_civil(y, 1, 1) + (int64_t)r->day;
    case RULE_MONTH:
    default: {
        int64_t first = wd_days_from_civil(y, r->mon, 1);
        unsigned wd1 = wd_weekday_from_days(first);
        unsigned mday = 1 + (r->wday + 7 - wd1) % 7 + (r->week - 1) * 7;
        unsigned mlen = month_days(y, r->mon);
        while (mday > mlen)
            mday -= 7;
        return first + (int64_t)mday - 1;
    }
    }
}

/* UTC instants of the DST start and end in year y. */
static void rule_year(const struct posix_tz *z, int64_t y, int64_t *start, int64_t *end)
{
    *start = rule_day(&z->start, y) * 86400 + z->start.time_s - z->std_off;
    *end = rule_day(&z->end, y) * 86400 + z->end.time_s - z->dst_off;
}

static int64_t clamp_rule_time(int64_t t)
{
    if (t > RULE_CLAMP_S)
        return RULE_CLAMP_S;
    if (t < -RULE_CLAMP_S)
        return -RULE_CLAMP_S;
    return t;
}

static int64_t year_of(int64_t t)
{
    int64_t y;
    wd_civil_from_days(wd_floor_div(t, 86400), &y, NULL, NULL);
    return y;
}

/* The rule's state at t is set by the latest change at or before t. Rule
 * times can push a change up to a week into a neighbouring year, so two
 * years either side are considered. On a tie the later entry wins, which
 * makes "DST all year" rules (end of year y == start of y+1) stay in DST. */
static int32_t rule_offset(const struct posix_tz *z, int64_t t)
{
    if (!z->has_dst)
        return z->std_off;
    t = clamp_rule_time(t);
    int64_t y = year_of(t);
    int64_t best = 0;
    int found = 0, dst = 0;
    for (int64_t yy = y - 2; yy <= y + 2; yy++) {
        int64_t s, e;
        rule_year(z, yy, &s, &e);
        if (s <= t && (!found || s >= best)) {
            best = s;
            dst = 1;
            found = 1;
        }
        if (e <= t && (!found || e >= best)) {
            best = e;
            dst = 0;
            found = 1;
        }
    }
    return dst ? z->dst_off : z->std_off;
}

/* The first rule change strictly after t, or INT64_MAX. */
static int64_t rule_next(const struct posix_tz *z, int64_t t)
{
    if (!z->has_dst || t >= RULE_CLAMP_S)
        return INT64_MAX;
    t = clamp_rule_time(t);
    int64_t y = year_of(t);
    int64_t best = INT64_MAX;
    for (int64_t yy = y - 2; yy <= y + 3; yy++) {
        int64_t s, e;
        rule_year(z, yy, &s, &e);
        if (s > t && s < best)
            best = s;
        if (e > t && e < best)
            best = e;
    }
    return best;
}

static struct wd_tz *tz_alloc(size_t n)
{
    struct wd_tz *tz = calloc(1, sizeof *tz + n * sizeof tz->t[0]);
    if (tz)
        tz->n = n;
    return tz;
}

enum wd_status wd_tz_from_posix(const char *s, size_t len, struct wd_tz **out,
                                struct wd_error *err)
{
    struct pp p = {.s = s, .len = s ? len : 0, .pos = 0, .err = err, .ctx = "TZ rule"};
    struct posix_tz z;
    enum wd_status st;

    if (!out)
        return wd_error_set(err, WD_EINVAL, "TZ rule: no output pointer");
    *out = NULL;
    if ((st = parse_posix(&p, &z)) != WD_OK)
        return st;
    struct wd_tz *tz = tz_alloc(0);
    if (!tz)
        return wd_error_set(err, WD_ENOMEM, "TZ rule: out of memory");
    tz->has_rule = 1;
    tz->rule = z;
    tz->off_before = z.std_off;
    *out = tz;
    return WD_OK;
}

/* ---- TZif ---------------------------------------------------------------- */

struct tzif_counts {
    uint32_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
};

static uint32_t be32(const uint8_t *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | (uint32_t)b[3];
}

static int64_t be64s(const uint8_t *b)
{
    uint64_t u = (uint64_t)be32(b) << 32 | be32(b + 4);
    /* Two's complement without implementation-defined conversion. */
    return u <= (uint64_t)INT64_MAX ? (int64_t)u : -(int64_t)(~u) - 1;
}

static int32_t be32s(const uint8_t *b)
{
    uint32_t u = be32(b);
    return u <= (uint32_t)INT32_MAX ? (int32_t)u : -(int32_t)(~u) - 1;
}

/* Reads the 44-byte header at data[off]; *version is 1, 2, 3, ... */
static enum wd_status tzif_header(const uint8_t *data, size_t len, size_t off, unsigned *version,
                                  struct tzif_counts *c, struct wd_error *err)
{
    if (off > len || len - off < TZIF_HEADER_LEN)
        return wd_error_set(err, WD_EINVAL, "TZif: truncated header at offset %zu (file is %zu bytes)",
                            off, len);
    const uint8_t *h = data + off;
    if (memcmp(h, "TZif", 4) != 0)
        return wd_error_set(err, WD_EINVAL, "TZif: bad magic at offset %zu (not a TZif file)", off);
    if (h[4] == 0)
        *version = 1;
    else if (h[4] >= '2' && h[4] <= '9')
        *version = (unsigned)(h[4] - '0');
    else
        return wd_error_set(err, WD_EINVAL, "TZif: unknown version byte 0x%02x", (unsigned)h[4]);
    c->isutcnt = be32(h + 20);
    c->isstdcnt = be32(h + 24);
    c->leapcnt = be32(h + 28);
    c->timecnt = be32(h + 32);
    c->typecnt = be32(h + 36);
    c->charcnt = be32(h + 40);
    return WD_OK;
}

/* Size of a data block with time_size-byte times, or 0 if the counts exceed
 * our bounds (callers report that). All counts are capped first, so the sum
 * cannot overflow. */
static uint64_t tzif_block_len(const struct tzif_counts *c, unsigned time_size)
{
    if (c->timecnt > TZIF_MAX_TIMES || c->typecnt > TZIF_MAX_TYPES ||
        c->charcnt > TZIF_MAX_CHARS || c->leapcnt > TZIF_MAX_TIMES ||
        c->isstdcnt > TZIF_MAX_TYPES || c->isutcnt > TZIF_MAX_TYPES)
        return 0;
    return (uint64_t)c->timecnt * time_size + c->timecnt + (uint64_t)c->typecnt * 6 + c->charcnt +
           (uint64_t)c->leapcnt * (time_size + 4) + c->isstdcnt + c->isutcnt;
}

static enum wd_status tzif_block(const uint8_t *data, size_t len, size_t off,
                                 const struct tzif_counts *c, unsigned time_size,
                                 struct wd_tz **out, struct wd_error *err)
{
    if (c->typecnt == 0)
        return wd_error_set(err, WD_EINVAL, "TZif: typecnt is zero");
    if (c->charcnt == 0)
        return wd_error_set(err, WD_EINVAL, "TZif: charcnt is zero");
    uint64_t blen = tzif_block_len(c, time_size);
    if (blen == 0)
        return wd_error_set(err, WD_EINVAL,
                            "TZif: counts out of bounds (timecnt %u, typecnt %u, charcnt %u, "
                            "leapcnt %u)",
                            (unsigned)c->timecnt, (unsigned)c->typecnt, (unsigned)c->charcnt,
                            (unsigned)c->leapcnt);
    if (off > len || len - off < blen)
        return wd_error_set(err, WD_EINVAL,
                            "TZif: truncated data block at offset %zu (needs %llu bytes, %zu left)",
                            off, (unsigned long long)blen, off > len ? (size_t)0 : len - off);
    if (c->isutcnt != 0 && c->isutcnt != c->typecnt)
        return wd_error_set(err, WD_EINVAL, "TZif: isutcnt %u differs from typecnt %u",
                            (unsigned)c->isutcnt, (unsigned)c->typecnt);
    if (c->isstdcnt != 0 && c->isstdcnt != c->typecnt)
        return wd_error_set(err, WD_EINVAL, "TZif: isstdcnt %u differs from typecnt %u",
                            (unsigned)c->isstdcnt, (unsigned)c->typecnt);
    if (c->leapcnt != 0)
        return wd_error_set(err, WD_EINVAL,
                            "TZif: %u leap-second records (\"right/\" zones are not supported)",
                            (unsigned)c->leapcnt);

    const uint8_t *times = data + off;
    const uint8_t *idx = times + (size_t)c->timecnt * time_size;
    const uint8_t *types = idx + c->timecnt;
    const uint8_t *chars = types + (size_t)c->typecnt * 6;
    const uint8_t *isstd = chars + c->charcnt;
    const uint8_t *isut = isstd + c->isstdcnt;
    (void)chars;

    for (uint32_t i = 0; i < c->typecnt; i++) {
        const uint8_t *tt = types + (size_t)i * 6;
        int32_t utoff = be32s(tt);
        if (utoff < UTOFF_MIN || utoff > UTOFF_MAX)
            return wd_error_set(err, WD_EINVAL, "TZif: type %u has utoff %ld outside [%d, %d]",
                                (unsigned)i, (long)utoff, UTOFF_MIN, UTOFF_MAX);
        if (tt[4] > 1)
            return wd_error_set(err, WD_EINVAL, "TZif: type %u has isdst %u (must be 0 or 1)",
                                (unsigned)i, (unsigned)tt[4]);
        if (tt[5] >= c->charcnt)
            return wd_error_set(err, WD_EINVAL,
                                "TZif: type %u abbreviation index %u past charcnt %u", (unsigned)i,
                                (unsigned)tt[5], (unsigned)c->charcnt);
    }
    for (uint32_t i = 0; i < c->isstdcnt; i++)
        if (isstd[i] > 1)
            return wd_error_set(err, WD_EINVAL, "TZif: standard/wall indicator %u is not 0 or 1",
                                (unsigned)i);
    for (uint32_t i = 0; i < c->isutcnt; i++)
        if (isut[i] > 1 || (isut[i] == 1 && c->isstdcnt != 0 && isstd[i] != 1))
            return wd_error_set(err, WD_EINVAL, "TZif: UT/local indicator %u is inconsistent",
                                (unsigned)i);

    struct wd_tz *tz = tz_alloc(c->timecnt);
    if (!tz)
        return wd_error_set(err, WD_ENOMEM, "TZif: out of memory for %u transitions",
                            (unsigned)c->timecnt);
    tz->off_before = be32s(types);
    for (uint32_t i = 0; i < c->timecnt; i++) {
        const uint8_t *tp = times + (size_t)i * time_size;
        int64_t at = time_size == 8 ? be64s(tp) : (int64_t)be32s(tp);
        if (i > 0 && at <= tz->t[i - 1].at_s) {
            free(tz);
            return wd_error_set(err, WD_EINVAL,
                                "TZif: transition %u is not after transition %u", (unsigned)i,
                                (unsigned)(i - 1));
        }
        if (idx[i] >= c->typecnt) {
            free(tz);
            return wd_error_set(err, WD_EINVAL, "TZif: transition %u uses type %u of %u",
                                (unsigned)i, (unsigned)idx[i], (unsigned)c->typecnt);
        }
        tz->t[i].at_s = at;
        tz->t[i].utoff_s = be32s(types + (size_t)idx[i] * 6);
    }
    *out = tz;
    return WD_OK;
}

enum wd_status wd_tz_from_tzif(const uint8_t *data, size_t len, struct wd_tz **out,
                               struct wd_error *err)
{
    struct tzif_counts c1, c2;
    unsigned v1, v2;
    enum wd_status st;
    struct wd_tz *tz = NULL;

    if (!out)
        return wd_error_set(err, WD_EINVAL, "TZif: no output pointer");
    *out = NULL;
    if (!data)
        len = 0;
    if ((st = tzif_header(data, len, 0, &v1, &c1, err)) != WD_OK)
        return st;
    if (v1 == 1)
        return tzif_block(data, len, TZIF_HEADER_LEN, &c1, 4, out, err);

    /* Version 2+: the 32-bit block exists for old readers; skip it. */
    uint64_t skip = tzif_block_len(&c1, 4);
    if (skip == 0 && (c1.timecnt | c1.typecnt | c1.charcnt | c1.leapcnt | c1.isstdcnt |
                      c1.isutcnt) != 0)
        return wd_error_set(err, WD_EINVAL, "TZif: version 1 block counts out of bounds");
    if (len - TZIF_HEADER_LEN < skip)
        return wd_error_set(err, WD_EINVAL, "TZif: truncated version 1 data block");
    size_t off = TZIF_HEADER_LEN + (size_t)skip;
    if ((st = tzif_header(data, len, off, &v2, &c2, err)) != WD_OK)
        return st;
    if (v2 < 2)
        return wd_error_set(err, WD_EINVAL, "TZif: second header is not version 2 or later");
    off += TZIF_HEADER_LEN;
    if ((st = tzif_block(data, len, off, &c2, 8, &tz, err)) != WD_OK)
        return st;
    off += (size_t)tzif_block_len(&c2, 8);

    /* Footer: "\n" TZ-string "\n". Anything after it is ignored, as later
     * versions may append data. */
    if (off >= len || data[off] != '\n') {
        free(tz);
        return wd_error_set(err, WD_EINVAL, "TZif: missing footer at offset %zu", off);
    }
    off++;
    size_t flen = 0;
    while (off + flen < len && data[off + flen] != '\n')
        flen++;
    if (off + flen == len) {
        free(tz);
        return wd_error_set(err, WD_EINVAL, "TZif: footer at offset %zu is not terminated", off);
    }
    if (flen > 0) {
        /* The footer is ASCII text; the parser reads it as chars. */
        char buf[512];
        if (flen >= sizeof buf) {
            free(tz);
            return wd_error_set(err, WD_EINVAL, "TZif: footer longer than %zu bytes",
                                sizeof buf - 1);
        }
        memcpy(buf, data + off, flen);
        struct pp p = {.s = buf, .len = flen, .pos = 0, .err = err, .ctx = "TZif footer"};
        if ((st = parse_posix(&p, &tz->rule)) != WD_OK) {
            free(tz);
            return st;
        }
        tz->has_rule = 1;
    }
    *out = tz;
    return WD_OK;
}

void wd_tz_free(struct wd_tz *tz)
{
    free(tz);
}

/* ---- queries ------------------------------------------------------------- */

/* A NULL zone is read as UTC, so a missing zone cannot crash a caller. */
static const struct wd_tz utc_zone = {0};

int32_t wd_tz_offset_s(const struct wd_tz *tz, int64_t utc_s)
{
    if (!tz)
        tz = &utc_zone;
    if (tz->n == 0)
        return tz->has_rule ? rule_offset(&tz->rule, utc_s) : tz->off_before;
    if (utc_s < tz->t[0].at_s)
        return tz->off_before;
    if (utc_s >= tz->t[tz->n - 1].at_s && tz->has_rule)
        return rule_offset(&tz->rule, utc_s);
    /* Largest i with t[i].at_s <= utc_s; t[0] qualifies. */
    size_t lo = 0, hi = tz->n;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (tz->t[mid].at_s <= utc_s)
            lo = mid;
        else
            hi = mid;
    }
    return tz->t[lo].utoff_s;
}

/* The first instant after t at which the offset may change, or INT64_MAX.
 * The offset is constant on [t, result). */
static int64_t next_change(const struct wd_tz *tz, int64_t t)
{
    if (tz->n > 0 && t < tz->t[tz->n - 1].at_s) {
        size_t lo = 0, hi = tz->n - 1; /* first i with at_s > t lies in [lo, hi] */
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (tz->t[mid].at_s > t)
                hi = mid;
            else
                lo = mid + 1;
        }
        return tz->t[lo].at_s;
    }
    return tz->has_rule ? rule_next(&tz->rule, t) : INT64_MAX;
}

/* The first UTC second at which the local clock reads day*86400 or later.
 * That instant lies within a day and a bit of the naive answer, so the walk
 * visits only the few offset segments in that window. */
static int64_t day_start_s(const struct wd_tz *tz, int64_t day)
{
    int64_t midnight = day * 86400;
    int64_t t = midnight - DAY_WINDOW_S;
    for (;;) {
        int32_t off = wd_tz_offset_s(tz, t);
        int64_t next = next_change(tz, t);
        int64_t cand = midnight - off;
        if (cand < t)
            cand = t;
        if (cand < next)
            return cand;
        t = next;
    }
}

/* Days beyond this are saturated to the ends of the int64 range. */
#define DAY_LIMIT ((int64_t)1 << 40)

int64_t wd_tz_day_start_ns(const struct wd_tz *tz, int64_t day)
{
    if (!tz)
        tz = &utc_zone;
    if (day < -DAY_LIMIT)
        return INT64_MIN;
    if (day > DAY_LIMIT)
        return INT64_MAX;
    int64_t s = day_start_s(tz, day), ns;
    if (__builtin_mul_overflow(s, WD_NS_PER_S, &ns))
        return s < 0 ? INT64_MIN : INT64_MAX;
    return ns;
}

int64_t wd_tz_local_day(const struct wd_tz *tz, int64_t ts_ns, int64_t *day_start_ns,
                        int64_t *day_end_ns)
{
    int64_t s = wd_floor_div(ts_ns, WD_NS_PER_S);
    int64_t day = wd_floor_div(s + wd_tz_offset_s(tz, s), 86400);
    int64_t start = wd_tz_day_start_ns(tz, day);
    int64_t end = wd_tz_day_start_ns(tz, day + 1);

    /* Days are numbered so that they never go backwards: where a zone falls
     * back across midnight, the repeated hour belongs to the later day, as
     * the [start, end) the caller caches says. The loops are bounded for the
     * saturated ends of the range. */
    for (int i = 0; i < 4 && ts_ns < start && start != INT64_MIN; i++) {
        day--;
        end = start;
        start = wd_tz_day_start_ns(tz, day);
    }
    for (int i = 0; i < 4 && ts_ns >= end && end != INT64_MAX; i++) {
        day++;
        start = end;
        end = wd_tz_day_start_ns(tz, day + 1);
    }
    if (day_start_ns)
        *day_start_ns = start;
    if (day_end_ns)
        *day_end_ns = end;
    return day;
}
