/*
 * Calendar arithmetic and RFC 3339 timestamps.
 *
 * Everything here is a pure function of its arguments: day numbers and
 * nanoseconds since the Unix epoch in, civil dates and text out. It must not
 * read a clock, the environment or a file, and it formats only into buffers
 * the caller owns. The civil-date conversions are Howard Hinnant's
 * era-based algorithms, exact over the whole proleptic Gregorian calendar
 * for any year that fits in the int64 arithmetic below.
 */
#include "warden/timeutil.h"

#include <stdio.h>

int64_t wd_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    /* Count years from March so that the leap day is the last day of the
     * (shifted) year; eras are the 400-year Gregorian cycles. */
    y -= m <= 2;
    int64_t era = wd_floor_div(y, 400);
    int64_t yoe = y - era * 400;                                 /* [0, 399] */
    int64_t mp = (int64_t)((m + 9) % 12);                        /* March = 0 */
    int64_t doy = (153 * mp + 2) / 5 + (int64_t)d - 1;           /* [0, 365] */
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;         /* [0, 146096] */
    return era * 146097 + doe - 719468;
}

void wd_civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d)
{
    int64_t z = days + 719468;
    int64_t era = wd_floor_div(z, 146097);
    int64_t doe = z - era * 146097;                                   /* [0, 146096] */
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* [0, 399] */
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);            /* [0, 365] */
    int64_t mp = (5 * doy + 2) / 153;                                 /* [0, 11] */
    unsigned dd = (unsigned)(doy - (153 * mp + 2) / 5 + 1);           /* [1, 31] */
    unsigned mm = (unsigned)(mp < 10 ? mp + 3 : mp - 9);              /* [1, 12] */
    int64_t yy = yoe + era * 400 + (mm <= 2);
    if (y)
        *y = yy;
    if (m)
        *m = mm;
    if (d)
        *d = dd;
}

unsigned wd_weekday_from_days(int64_t days)
{
    /* 1970-01-01 was a Thursday (4). */
    int64_t r = (days + 4) % 7;
    return (unsigned)(r < 0 ? r + 7 : r);
}

static int is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned month_days(int64_t y, unsigned m)
{
    static const unsigned char len[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && is_leap(y))
        return 29;
    return len[m - 1];
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Reads exactly n decimal digits at s[*pos]; 0 on success. */
static int take_digits(const char *s, size_t len, size_t *pos, size_t n, unsigned *out)
{
    unsigned v = 0;
    if (len - *pos < n)
        return -1;
    for (size_t i = 0; i < n; i++) {
        char c = s[*pos + i];
        if (!is_digit(c))
            return -1;
        v = v * 10 + (unsigned)(c - '0');
    }
    *pos += n;
    *out = v;
    return 0;
}

static int take_char(const char *s, size_t len, size_t *pos, char want)
{
    if (*pos >= len || s[*pos] != want)
        return -1;
    (*pos)++;
    return 0;
}

/* YYYY-MM-DD with range checks; shared by the date and date-time parsers. */
static int take_date(const char *s, size_t len, size_t *pos, int64_t *days)
{
    unsigned y, m, d;
    if (take_digits(s, len, pos, 4, &y) || take_char(s, len, pos, '-') ||
        take_digits(s, len, pos, 2, &m) || take_char(s, len, pos, '-') ||
        take_digits(s, len, pos, 2, &d))
        return -1;
    if (m < 1 || m > 12 || d < 1 || d > month_days(y, m))
        return -1;
    *days = wd_days_from_civil(y, m, d);
    return 0;
}

enum wd_status wd_time_parse_rfc3339(const char *s, size_t len, int64_t *ns)
{
    size_t pos = 0;
    int64_t days;
    unsigned hh, mi, ss;
    int64_t frac = 0;

    if (!s || !ns)
        return WD_EINVAL;
    if (take_date(s, len, &pos, &days))
        return WD_EINVAL;
    if (pos >= len || (s[pos] != 'T' && s[pos] != 't' && s[pos] != ' '))
        return WD_EINVAL;
    pos++;
    if (take_digits(s, len, &pos, 2, &hh) || take_char(s, len, &pos, ':') ||
        take_digits(s, len, &pos, 2, &mi) || take_char(s, len, &pos, ':') ||
        take_digits(s, len, &pos, 2, &ss))
        return WD_EINVAL;
    if (hh > 23 || mi > 59 || ss > 60)
        return WD_EINVAL;

    if (pos < len && s[pos] == '.') {
        size_t ndig = 0;
        pos++;
        while (pos < len && is_digit(s[pos])) {
            /* Digits past the ninth are checked but dropped (truncation). */
            if (ndig < 9)
                frac = frac * 10 + (s[pos] - '0');
            ndig++;
            pos++;
        }
        if (ndig == 0)
            return WD_EINVAL;
        for (size_t i = ndig; i < 9; i++)
            frac *= 10;
    }

    int64_t off_s = 0;
    if (pos >= len)
        return WD_EINVAL;
    if (s[pos] == 'Z' || s[pos] == 'z') {
        pos++;
    } else if (s[pos] == '+' || s[pos] == '-') {
        int neg = s[pos] == '-';
        unsigned oh, om;
        pos++;
        if (take_digits(s, len, &pos, 2, &oh) || take_char(s, len, &pos, ':') ||
            take_digits(s, len, &pos, 2, &om))
            return WD_EINVAL;
        if (oh > 23 || om > 59)
            return WD_EINVAL;
        off_s = (int64_t)oh * 3600 + om * 60;
        if (neg)
            off_s = -off_s;
    } else {
        return WD_EINVAL;
    }
    if (pos != len)
        return WD_EINVAL;

    /* A leap second cannot be represented in epoch time; it is folded onto
     * the last nanosecond of the preceding second so that order is kept. */
    if (ss == 60) {
        ss = 59;
        frac = WD_NS_PER_S - 1;
    }

    /* Years are at most 9999, so the seconds cannot overflow; the
     * nanoseconds can (int64 ends in 2262). */
    int64_t secs = days * 86400 + (int64_t)hh * 3600 + mi * 60 + ss - off_s;
    if (secs < 0)
        return WD_ERANGE;
    int64_t out;
    if (__builtin_mul_overflow(secs, WD_NS_PER_S, &out) ||
        __builtin_add_overflow(out, frac, &out))
        return WD_ERANGE;
    *ns = out;
    return WD_OK;
}

enum wd_status wd_date_parse(const char *s, size_t len, int64_t *days)
{
    size_t pos = 0;
    int64_t d;
    if (!s || !days)
        return WD_EINVAL;
    if (take_date(s, len, &pos, &d) || pos != len)
        return WD_EINVAL;
    *days = d;
    return WD_OK;
}

/* snprintf's return value clipped to what actually landed in buf. */
static size_t written(int n, size_t cap)
{
    if (n < 0 || cap == 0)
        return 0;
    return (size_t)n < cap ? (size_t)n : cap - 1;
}

size_t wd_time_format_utc(int64_t ns, char *buf, size_t cap)
{
    /* The remainder is taken directly: secs * WD_NS_PER_S overflows near
     * INT64_MIN. */
    int64_t secs = wd_floor_div(ns, WD_NS_PER_S);
    int64_t rem = ns % WD_NS_PER_S;
    if (rem < 0)
        rem += WD_NS_PER_S;
    int64_t ms = rem / 1000000;
    int64_t days = wd_floor_div(secs, 86400);
    int64_t sod = secs - days * 86400;
    int64_t y;
    unsigned m, d;

    if (!buf)
        return 0;
    wd_civil_from_days(days, &y, &m, &d);
    int n = snprintf(buf, cap, "%04lld-%02u-%02uT%02d:%02d:%02d.%03dZ", (long long)y, m, d,
                     (int)(sod / 3600), (int)(sod / 60 % 60), (int)(sod % 60), (int)ms);
    return written(n, cap);
}

size_t wd_date_format(int64_t days, char *buf, size_t cap)
{
    int64_t y;
    unsigned m, d;
    if (!buf)
        return 0;
    wd_civil_from_days(days, &y, &m, &d);
    int n = snprintf(buf, cap, "%04lld-%02u-%02u", (long long)y, m, d);
    return written(n, cap);
}
