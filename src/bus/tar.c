/*
 * The deterministic tar.gz writer (see tar.h): ustar headers built by hand,
 * the archive streamed through zlib's gzip writer (whose header carries no
 * time and no name, so it is deterministic too). It writes one file and
 * reads nothing; it must not depend on the process's umask, user or clock.
 */
#include "bus/tar.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* Writes v in octal, zero-padded to width-1 digits and a NUL. */
static void put_octal(unsigned char *field, size_t width, uint64_t v)
{
    field[width - 1] = '\0';
    for (size_t i = width - 1; i-- > 0;) {
        field[i] = (unsigned char)('0' + (v & 7u));
        v >>= 3;
    }
}

/* Splits name into prefix and name fields: *split is the length of the
 * prefix (0: none; else the position of the '/' that is dropped). */
static enum wd_status split_name(const char *name, size_t len, size_t *split,
                                 struct wd_error *err)
{
    if (len == 0) {
        return wd_error_set(err, WD_ERANGE, "tar: an empty member name");
    }
    if (len <= WD_TAR_NAME_MAX) {
        *split = 0;
        return WD_OK;
    }
    /* The leftmost '/' that leaves a name that fits: the name part as long
     * as possible, the prefix as short, as GNU tar and Python's tarfile do
     * (so that any tar reads the same path back). */
    for (size_t i = 1; i < len - 1 && i <= WD_TAR_PREFIX_MAX; i++) {
        if (name[i] == '/' && len - i - 1 <= WD_TAR_NAME_MAX) {
            *split = i;
            return WD_OK;
        }
    }
    return wd_error_set(err, WD_ERANGE,
                        "tar: member name of %zu bytes cannot be split into a ustar prefix"
                        " of at most %u and a name of at most %u",
                        len, WD_TAR_PREFIX_MAX, WD_TAR_NAME_MAX);
}

enum wd_status wd_tar_header(const char *name, uint64_t size, int64_t mtime_s,
                             unsigned char hdr[WD_TAR_BLOCK], struct wd_error *err)
{
    size_t len = strlen(name), split = 0;
    enum wd_status st = split_name(name, len, &split, err);
    if (st != WD_OK) {
        return st;
    }
    if (size > WD_TAR_SIZE_MAX) {
        return wd_error_set(err, WD_ERANGE, "tar: %s: %llu bytes, more than ustar holds", name,
                            (unsigned long long)size);
    }
    if (mtime_s < 0 || (uint64_t)mtime_s > WD_TAR_SIZE_MAX) {
        return wd_error_set(err, WD_ERANGE, "tar: mtime %lld out of the ustar range",
                            (long long)mtime_s);
    }
    memset(hdr, 0, WD_TAR_BLOCK);
    if (split == 0) {
        memcpy(hdr, name, len);
    } else {
        memcpy(hdr + 345, name, split);
        memcpy(hdr, name + split + 1, len - split - 1);
    }
    put_octal(hdr + 100, 8, 0644);
    put_octal(hdr + 108, 8, 0);
    put_octal(hdr + 116, 8, 0);
    put_octal(hdr + 124, 12, size);
    put_octal(hdr + 136, 12, (uint64_t)mtime_s);
    hdr[156] = '0';
    memcpy(hdr + 257, "ustar", 6); /* with its NUL */
    memcpy(hdr + 263, "00", 2);
    /* devmajor and devminor stay NUL: not a device (as Python's tarfile). */
    /* The checksum: the byte sum with the field itself as eight spaces,
     * written as six octal digits, a NUL and a space. */
    memset(hdr + 148, ' ', 8);
    unsigned sum = 0;
    for (size_t i = 0; i < WD_TAR_BLOCK; i++) {
        sum += hdr[i];
    }
    put_octal(hdr + 148, 7, sum);
    hdr[155] = ' ';
    return WD_OK;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const struct wd_tar_file *)a)->name, ((const struct wd_tar_file *)b)->name);
}

/* gzwrite takes an unsigned length: large buffers go in pieces. */
static int gz_put(gzFile gz, const void *data, size_t len)
{
    const unsigned char *p = data;
    while (len > 0) {
        unsigned chunk = len > (1u << 30) ? 1u << 30 : (unsigned)len;
        if (gzwrite(gz, p, chunk) != (int)chunk) {
            return -1;
        }
        p += chunk;
        len -= chunk;
    }
    return 0;
}

enum wd_status wd_tar_write_gz(const char *path, struct wd_tar_file *files, size_t n,
                               int64_t mtime_s, struct wd_error *err)
{
    static const unsigned char zeros[WD_TAR_BLOCK * 2];
    unsigned char hdr[WD_TAR_BLOCK];
    enum wd_status st = WD_OK;
    size_t tlen = strlen(path) + 5;
    char *tmp = malloc(tlen);
    gzFile gz = NULL;
    if (tmp == NULL) {
        return wd_error_set(err, WD_ENOMEM, "tar: out of memory");
    }
    snprintf(tmp, tlen, "%s.tmp", path);
    if (n > 1) {
        qsort(files, n, sizeof *files, by_name);
    }
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && strcmp(files[i - 1].name, files[i].name) == 0) {
            st = wd_error_set(err, WD_EINVAL, "tar: %s: two members of that name",
                              files[i].name);
            goto out;
        }
        if ((st = wd_tar_header(files[i].name, files[i].len, mtime_s, hdr, err)) != WD_OK) {
            goto out;
        }
    }
    errno = 0;
    gz = gzopen(tmp, "wb");
    if (gz == NULL) {
        st = wd_error_set(err, WD_EIO, "%s: cannot write it: %s", tmp,
                          errno != 0 ? strerror(errno) : "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        size_t pad = (WD_TAR_BLOCK - files[i].len % WD_TAR_BLOCK) % WD_TAR_BLOCK;
        if ((st = wd_tar_header(files[i].name, files[i].len, mtime_s, hdr, err)) != WD_OK) {
            goto out; /* checked above: cannot happen */
        }
        if (gz_put(gz, hdr, sizeof hdr) != 0 || gz_put(gz, files[i].data, files[i].len) != 0 ||
            gz_put(gz, zeros, pad) != 0) {
            goto write_failed;
        }
    }
    if (gz_put(gz, zeros, sizeof zeros) != 0) {
        goto write_failed;
    }
    errno = 0;
    int rc = gzclose(gz);
    gz = NULL;
    if (rc != Z_OK) {
        st = wd_error_set(err, WD_EIO, "%s: cannot write it: %s", tmp,
                          errno != 0 ? strerror(errno) : "zlib error");
        goto out;
    }
    if (rename(tmp, path) != 0) {
        st = wd_error_set(err, WD_EIO, "%s: cannot write it: %s", path, strerror(errno));
        goto out;
    }
    free(tmp);
    return WD_OK;

write_failed: {
    int zerr = 0;
    const char *zmsg = gzerror(gz, &zerr);
    st = wd_error_set(err, WD_EIO, "%s: cannot write it: %s", tmp,
                      zerr == Z_ERRNO ? strerror(errno) : zmsg);
}
out:
    if (gz != NULL) {
        (void)gzclose(gz);
    }
    if (st != WD_OK) {
        (void)remove(tmp);
    }
    free(tmp);
    return st;
}
