/*
 * Loading a time zone by name: the I/O half of include/warden/tz.h.
 *
 * This adapter reads the TZif file for a zone name from $TZDIR (default
 * /usr/share/zoneinfo) and hands the bytes to the pure parser in
 * src/core/tz.c; a name that is not a file there is tried as a POSIX TZ rule.
 * It owns no state and keeps no cache: callers load a zone once at start-up.
 */
#ifndef WD_BUS_TZLOAD_H
#define WD_BUS_TZLOAD_H

#include "warden/status.h"
#include "warden/tz.h"

/* Largest zone file accepted; real TZif files are a few kilobytes. */
#define WD_TZ_FILE_MAX (256u * 1024u)

/* Loads the zone `name` (NUL-terminated): an IANA name such as
 * "America/New_York", "UTC" or "Europe/London", or a POSIX TZ rule such as
 * "EST5EDT,M3.2.0,M11.1.0". A leading ':' is ignored. Names are looked up as
 * $TZDIR/NAME (TZDIR unset or empty: /usr/share/zoneinfo); names that start
 * with '/' or contain a ".." component are never opened.
 *
 * On success *out is a heap object the caller frees with wd_tz_free.
 * Errors (err names the zone and the reason):
 *   WD_ENOTFOUND  no such zone file and not a valid POSIX rule either;
 *   WD_EINVAL     a malformed zone file, a malformed rule, or an unsafe name;
 *   WD_EIO        the file exists but could not be read (or is too large);
 *   WD_ENOMEM     out of memory. */
enum wd_status wd_tz_load(const char *name, struct wd_tz **out, struct wd_error *err) WD_MUST_USE;

#endif /* WD_BUS_TZLOAD_H */
