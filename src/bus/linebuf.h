/*
 * Incremental JSON Lines input for the daemon: bytes arrive from a pipe, a
 * socket or a growing file in pieces; each complete line is handed to a
 * callback with its 1-based number, as wd_jsonl_read_all does for a whole
 * file. A line longer than the bound is not buffered: the callback sees it
 * with overlong set (ptr NULL, len its full length). One buffer per input,
 * allocated once: no allocation per line.
 */
#ifndef WD_BUS_LINEBUF_H
#define WD_BUS_LINEBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bus/jsonl.h"
#include "warden/status.h"

struct wd_linebuf {
    char *buf;        /* owned; cap bytes */
    size_t len, cap;
    size_t max_line;
    uint64_t no;      /* lines handed out so far */
    uint64_t bytes;   /* bytes read so far (a followed file's offset) */
    bool skipping;    /* inside an overlong line */
    size_t skip_len;  /* its bytes so far */
};

/* WD_ENOMEM when the buffer cannot be allocated. */
enum wd_status wd_linebuf_init(struct wd_linebuf *b, size_t max_line) WD_MUST_USE;
void wd_linebuf_destroy(struct wd_linebuf *b);

/* Forgets a partial line and the byte count (a followed file truncated or
 * replaced); line numbers go on. */
void wd_linebuf_reset(struct wd_linebuf *b);

/* Reads what fd has now, calling fn for every complete line, until read
 * would block or returns 0 (then *eof is set) or max_bytes were read (0:
 * no bound, so that one busy input does not starve the others). WD_EIO
 * with err->msg on a read error; fn's status when it is not WD_OK. */
enum wd_status wd_linebuf_read(struct wd_linebuf *b, int fd, size_t max_bytes, wd_line_fn fn,
                               void *ctx, bool *eof, struct wd_error *err) WD_MUST_USE;

/* The input ended: a last line without its newline goes to fn. */
enum wd_status wd_linebuf_finish(struct wd_linebuf *b, wd_line_fn fn, void *ctx) WD_MUST_USE;

#endif /* WD_BUS_LINEBUF_H */
