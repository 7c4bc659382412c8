/*
 * Status codes and error details shared by every warden module.
 *
 * Fallible functions return enum wd_status (WD_OK == 0) and may fill an
 * optional caller-owned struct wd_error with a human message and the place
 * (line, column/offset) the problem was found. There is no global error state.
 */
#ifndef WD_STATUS_H
#define WD_STATUS_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define WD_MUST_USE __attribute__((warn_unused_result))
#define WD_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))

enum wd_status {
    WD_OK = 0,
    WD_EINVAL,    /* malformed input */
    WD_ERANGE,    /* a value out of its representable or allowed range */
    WD_ENOMEM,    /* allocation failed */
    WD_EFULL,     /* a configured bound (table size, line size) was reached */
    WD_ENOTFOUND, /* a named thing does not exist */
    WD_EIO,       /* an adapter's I/O failed (never returned by the core) */
    WD_ESTATE     /* the operation is not valid in the current state */
};

#define WD_ERROR_MSG_MAX 256

/* Caller-owned error details. line is 1-based (0: not applicable). */
struct wd_error {
    enum wd_status status;
    uint64_t line;
    uint32_t column;
    char msg[WD_ERROR_MSG_MAX];
};

/* Static, never NULL. */
const char *wd_status_str(enum wd_status st);

/* Records st and a formatted message in err (if err is non-NULL); returns st
 * so that callers can write `return wd_error_set(err, WD_EINVAL, "...")`. */
enum wd_status wd_error_set(struct wd_error *err, enum wd_status st,
                            const char *fmt, ...) WD_PRINTF(3, 4);

/* va_list form of wd_error_set. */
enum wd_status wd_error_setv(struct wd_error *err, enum wd_status st, const char *fmt,
                             va_list ap) WD_PRINTF(3, 0);

void wd_error_clear(struct wd_error *err);

#endif /* WD_STATUS_H */
