/*
 * Incremental line splitting over a bounded buffer (see linebuf.h). Reads
 * with read(2) only; the caller owns the descriptor and its mode.
 */
#include "bus/linebuf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define READ_CHUNK 65536u

enum wd_status wd_linebuf_init(struct wd_linebuf *b, size_t max_line)
{
    memset(b, 0, sizeof *b);
    b->max_line = max_line;
    b->cap = max_line + READ_CHUNK; /* a partial line plus a full read */
    b->buf = malloc(b->cap);
    return b->buf != NULL ? WD_OK : WD_ENOMEM;
}

void wd_linebuf_destroy(struct wd_linebuf *b)
{
    free(b->buf);
    memset(b, 0, sizeof *b);
}

void wd_linebuf_reset(struct wd_linebuf *b)
{
    b->len = 0;
    b->bytes = 0;
    b->skipping = false;
    b->skip_len = 0;
}

static enum wd_status emit(struct wd_linebuf *b, const char *p, size_t n, wd_line_fn fn, void *ctx)
{
    struct wd_line l = {.ptr = p, .len = n, .no = ++b->no, .overlong = false};
    if (b->skipping || n > b->max_line) {
        l.ptr = NULL;
        l.len = b->skip_len + n;
        l.overlong = true;
        b->skipping = false;
        b->skip_len = 0;
    }
    return fn(ctx, &l);
}

/* Hands out every complete line in the buffer and keeps the rest; a rest
 * longer than a line may be is dropped and counted as an overlong line. */
static enum wd_status drain(struct wd_linebuf *b, wd_line_fn fn, void *ctx)
{
    size_t start = 0;
    enum wd_status st = WD_OK;
    while (start < b->len) {
        const char *nl = memchr(b->buf + start, '\n', b->len - start);
        if (nl == NULL) {
            break;
        }
        size_t n = (size_t)(nl - (b->buf + start));
        st = emit(b, b->buf + start, n, fn, ctx);
        start += n + 1u;
        if (st != WD_OK) {
            break;
        }
    }
    memmove(b->buf, b->buf + start, b->len - start);
    b->len -= start;
    if (b->len > b->max_line) {
        b->skipping = true;
        b->skip_len += b->len;
        b->len = 0;
    }
    return st;
}

enum wd_status wd_linebuf_read(struct wd_linebuf *b, int fd, size_t max_bytes, wd_line_fn fn,
                               void *ctx, bool *eof, struct wd_error *err)
{
    size_t done = 0;
    *eof = false;
    while (max_bytes == 0 || done < max_bytes) {
        ssize_t n = read(fd, b->buf + b->len, b->cap - b->len);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                return WD_OK;
            }
            if (err != NULL) {
                snprintf(err->msg, sizeof err->msg, "read: %s", strerror(errno));
            }
            return WD_EIO;
        }
        if (n == 0) {
            *eof = true;
            return WD_OK;
        }
        b->len += (size_t)n;
        b->bytes += (uint64_t)n;
        done += (size_t)n;
        enum wd_status st = drain(b, fn, ctx);
        if (st != WD_OK) {
            return st;
        }
    }
    return WD_OK;
}

enum wd_status wd_linebuf_finish(struct wd_linebuf *b, wd_line_fn fn, void *ctx)
{
    if (b->len == 0 && !b->skipping) {
        return WD_OK;
    }
    size_t n = b->len;
    b->len = 0;
    return emit(b, b->buf, n, fn, ctx);
}
