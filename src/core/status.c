/*
 * Status names and error-detail helpers. Formats into caller-owned memory
 * only; never prints.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "warden/status.h"

const char *wd_status_str(enum wd_status st)
{
    switch (st) {
    case WD_OK: return "ok";
    case WD_EINVAL: return "invalid input";
    case WD_ERANGE: return "out of range";
    case WD_ENOMEM: return "out of memory";
    case WD_EFULL: return "limit reached";
    case WD_ENOTFOUND: return "not found";
    case WD_EIO: return "I/O error";
    case WD_ESTATE: return "invalid in current state";
    }
    return "unknown status";
}

enum wd_status wd_error_setv(struct wd_error *err, enum wd_status st, const char *fmt,
                             va_list ap)
{
    if (err != NULL) {
        err->status = st;
        (void)vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    }
    return st;
}

enum wd_status wd_error_set(struct wd_error *err, enum wd_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    st = wd_error_setv(err, st, fmt, ap);
    va_end(ap);
    return st;
}

void wd_error_clear(struct wd_error *err)
{
    if (err != NULL) {
        memset(err, 0, sizeof *err);
    }
}
