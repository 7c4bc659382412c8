/*
 * JSON Lines reader (see jsonl.h). Reads with read(2) into one buffer of
 * at least 1 MiB; a line that straddles two reads is moved to the front of
 * the buffer before the next read. Never allocates after open.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bus/jsonl.h"

#define BLOCK (1u << 20)

enum wd_status wd_jsonl_open(struct wd_jsonl_reader *r, const char *path, size_t max_line,
                             struct wd_error *err)
{
    struct stat stbuf;
    memset(r, 0, sizeof *r);
    r->fd = -1;
    r->name = path;
    r->max_line = max_line;
    if (strcmp(path, "-") == 0) {
        r->fd = STDIN_FILENO;
        r->name = "<stdin>";
    } else {
        r->fd = open(path, O_RDONLY | O_CLOEXEC);
        if (r->fd < 0) {
            return wd_error_set(err, WD_EIO, "cannot open %s: %s", path, strerror(errno));
        }
        r->owns_fd = true;
    }
    if (fstat(r->fd, &stbuf) == 0 && S_ISREG(stbuf.st_mode)) {
        r->size = (uint64_t)stbuf.st_size;
    } else if (r->owns_fd && fstat(r->fd, &stbuf) == 0 && S_ISDIR(stbuf.st_mode)) {
        wd_jsonl_close(r);
        return wd_error_set(err, WD_EIO, "cannot read %s: is a directory", path);
    }
    r->cap = BLOCK + max_line + 1u;
    r->buf = malloc(r->cap);
    if (r->buf == NULL) {
        wd_jsonl_close(r);
        return wd_error_set(err, WD_ENOMEM, "out of memory");
    }
    return WD_OK;
}

void wd_jsonl_close(struct wd_jsonl_reader *r)
{
    if (r->owns_fd && r->fd >= 0) {
        (void)close(r->fd);
    }
    free(r->buf);
    r->buf = NULL;
    r->fd = -1;
    r->owns_fd = false;
}

enum wd_status wd_jsonl_read_all(struct wd_jsonl_reader *r, wd_line_fn fn, void *ctx,
                                 wd_progress_fn progress, struct wd_error *err)
{
    size_t have = 0;          /* bytes of a pending partial line at buf[0] */
    bool skipping = false;    /* inside an overlong line, discarding to '\n' */
    size_t skipped = 0;       /* its length so far */
    uint64_t line_no = 0, done = 0;
    enum wd_status st;

    for (;;) {
        ssize_t n = read(r->fd, r->buf + have, r->cap - have);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return wd_error_set(err, WD_EIO, "read error on %s: %s", r->name, strerror(errno));
        }
        done += (uint64_t)n;
        size_t end = have + (size_t)n;
        size_t pos = 0;
        while (pos < end) {
            char *nl = memchr(r->buf + pos, '\n', end - pos);
            if (nl == NULL) {
                break;
            }
            size_t len = (size_t)(nl - (r->buf + pos));
            line_no++;
            struct wd_line line = {r->buf + pos, len, line_no, false};
            if (skipping) {
                line = (struct wd_line){NULL, skipped + len, line_no, true};
                skipping = false;
                skipped = 0;
            } else if (len > r->max_line) {
                line = (struct wd_line){NULL, len, line_no, true};
            }
            if ((st = fn(ctx, &line)) != WD_OK) {
                return st;
            }
            pos += len + 1u;
        }
        /* Keep the partial line, unless it is already too long to matter. */
        size_t rest = end - pos;
        if (skipping || rest > r->max_line) {
            skipped += rest;
            skipping = true;
            rest = 0;
        } else {
            memmove(r->buf, r->buf + pos, rest);
        }
        have = rest;
        if (progress != NULL) {
            progress(ctx, done);
        }
        if (n == 0) {
            break;
        }
    }
    if (have > 0 || skipping) {
        line_no++;
        struct wd_line line = {r->buf, have, line_no, false};
        if (skipping) {
            line = (struct wd_line){NULL, skipped, line_no, true};
        }
        if ((st = fn(ctx, &line)) != WD_OK) {
            return st;
        }
    }
    return WD_OK;
}
