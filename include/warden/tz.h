/*
 * Time zones, pure: the offset from UTC at an instant, and local days.
 *
 * A struct wd_tz is built from bytes (a TZif file the adapter read, see
 * src/bus/tzload.c) or from a POSIX TZ rule string such as
 * "EST5EDT,M3.2.0,M11.1.0"; the core never opens a file. Instants past the
 * last TZif transition follow the file's POSIX footer rule, so a zone is
 * right for any year, across every DST change.
 */
#ifndef WD_CORE_TZ_H
#define WD_CORE_TZ_H

#include <stddef.h>
#include <stdint.h>

#include "warden/status.h"

struct wd_tz;

/* Builds a zone from the bytes of a TZif file (version 1, 2, 3 or 4).
 * On success *out is a heap object the caller frees with wd_tz_free.
 * WD_EINVAL (with err) on a malformed file, WD_ENOMEM on allocation failure. */
enum wd_status wd_tz_from_tzif(const uint8_t *data, size_t len, struct wd_tz **out,
                               struct wd_error *err) WD_MUST_USE;

/* Builds a zone from a POSIX TZ rule ("UTC0", "EST5EDT,M3.2.0,M11.1.0",
 * "<+0330>-3:30", "CET-1CEST,M3.5.0,M10.5.0/3", Jn and n day forms).
 * s need not be NUL-terminated. */
enum wd_status wd_tz_from_posix(const char *s, size_t len, struct wd_tz **out,
                                struct wd_error *err) WD_MUST_USE;

/* No-op on NULL. */
void wd_tz_free(struct wd_tz *tz);

/* Offset of local time from UTC, in seconds (e.g. -18000 for EST), at the
 * instant utc_s (seconds since the epoch). */
int32_t wd_tz_offset_s(const struct wd_tz *tz, int64_t utc_s);

/* Local calendar day (days since 1970-01-01 of the local date) of the
 * instant ts_ns. If day_start_ns / day_end_ns are non-NULL they receive the
 * UTC instants [start, end) of that local day: start is local midnight (or
 * the first instant of the day where midnight does not exist), end is the
 * start of the next local day. Days are 23, 24 or 25 hours long around DST. */
int64_t wd_tz_local_day(const struct wd_tz *tz, int64_t ts_ns,
                        int64_t *day_start_ns, int64_t *day_end_ns);

/* The UTC instant (ns) at which local day `day` starts. */
int64_t wd_tz_day_start_ns(const struct wd_tz *tz, int64_t day);

#endif /* WD_CORE_TZ_H */
