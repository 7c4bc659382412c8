/*
 * Calendar arithmetic and RFC 3339 timestamps, all pure.
 *
 * Time in warden is int64_t nanoseconds since the Unix epoch, UTC, and it
 * only ever comes in with events or ticks: nothing here reads a clock.
 * Days are counted since 1970-01-01 (day 0), proleptic Gregorian, with floor
 * division for instants before the epoch.
 */
#ifndef WD_CORE_TIMEUTIL_H
#define WD_CORE_TIMEUTIL_H

#include <stddef.h>
#include <stdint.h>

#include "warden/status.h"

#define WD_NS_PER_S 1000000000LL
#define WD_NS_PER_DAY (86400LL * WD_NS_PER_S)

/* Days since 1970-01-01 of the civil date y-m-d (m 1..12, d 1..31). */
int64_t wd_days_from_civil(int64_t y, unsigned m, unsigned d);

/* Inverse of wd_days_from_civil. */
void wd_civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d);

/* 0 = Sunday .. 6 = Saturday. */
unsigned wd_weekday_from_days(int64_t days);

/* floor(a / b) for b > 0. */
static inline int64_t wd_floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Parses an RFC 3339 date-time: YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM),
 * 't'/' ' accepted for 'T' and 'z' for 'Z', any number of fraction digits
 * (truncated past nanoseconds), leap second 60 folded onto :59.999999999.
 * WD_EINVAL on any syntax or field-range error, WD_ERANGE before 1970 or
 * past int64 nanoseconds. */
enum wd_status wd_time_parse_rfc3339(const char *s, size_t len, int64_t *ns) WD_MUST_USE;

/* Parses YYYY-MM-DD into days since the epoch. */
enum wd_status wd_date_parse(const char *s, size_t len, int64_t *days) WD_MUST_USE;

/* Formats ns as UTC "YYYY-MM-DDTHH:MM:SS.mmmZ" (milliseconds). Returns the
 * length written, excluding the NUL; cap >= 32 is always enough. */
size_t wd_time_format_utc(int64_t ns, char *buf, size_t cap);

/* Formats a day number as "YYYY-MM-DD"; cap >= 16 is enough. */
size_t wd_date_format(int64_t days, char *buf, size_t cap);

#endif /* WD_CORE_TIMEUTIL_H */
