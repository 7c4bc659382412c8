/*
 * JSON Lines input: reads a file or stdin in large blocks and hands each
 * line to a callback, with its 1-based line number. No per-line allocation:
 * lines are views into the reader's buffer, valid during the callback.
 * Lines longer than the bound are not buffered; the callback sees them with
 * overlong set (ptr NULL, len their full length) so they can be reported.
 */
#ifndef WD_BUS_JSONL_H
#define WD_BUS_JSONL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "warden/status.h"

struct wd_line {
    const char *ptr; /* NULL when overlong */
    size_t len;      /* without the newline */
    uint64_t no;     /* 1-based line number */
    bool overlong;
};

/* Return WD_OK to go on; anything else stops the read and is returned. */
typedef enum wd_status (*wd_line_fn)(void *ctx, const struct wd_line *line);

/* Called after each block with bytes consumed so far. May be NULL. */
typedef void (*wd_progress_fn)(void *ctx, uint64_t bytes_done);

struct wd_jsonl_reader {
    int fd;
    bool owns_fd;
    const char *name;   /* for messages; borrowed */
    uint64_t size;      /* file size when a regular file, else 0 */
    size_t max_line;
    char *buf;          /* owned */
    size_t cap;
};

/* Opens path ("-" for stdin). max_line bounds a line's length in bytes.
 * WD_EIO with err->msg on failure. */
enum wd_status wd_jsonl_open(struct wd_jsonl_reader *r, const char *path, size_t max_line,
                             struct wd_error *err) WD_MUST_USE;

/* Reads to the end, calling fn for every line (a last line without a
 * newline included). WD_EIO on a read error. */
enum wd_status wd_jsonl_read_all(struct wd_jsonl_reader *r, wd_line_fn fn, void *ctx,
                                 wd_progress_fn progress, struct wd_error *err) WD_MUST_USE;

void wd_jsonl_close(struct wd_jsonl_reader *r);

#endif /* WD_BUS_JSONL_H */
