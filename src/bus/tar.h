/*
 * A deterministic tar.gz writer for evidence archives (issue 5 point 8):
 * POSIX ustar headers, 512-byte blocks, two zero blocks at the end, through
 * zlib's gzip stream. Every member is a regular file with mode 0644, uid and
 * gid 0, no user or group name and one given mtime, written in byte order of
 * their names: the same files give the same archive, byte for byte.
 *
 * Only regular files, built in memory: this is for small archives of
 * rendered documents, not a general tar. Names longer than 100 bytes are
 * split at a '/' into the ustar prefix (at most 155 bytes) and name (at
 * most 100); a name that cannot be split so is refused.
 */
#ifndef WD_BUS_TAR_H
#define WD_BUS_TAR_H

#include <stddef.h>
#include <stdint.h>

#include "warden/status.h"

#define WD_TAR_BLOCK 512u
#define WD_TAR_NAME_MAX 100u   /* the name field */
#define WD_TAR_PREFIX_MAX 155u /* the prefix field */
/* The largest member: the size field holds 11 octal digits. */
#define WD_TAR_SIZE_MAX ((uint64_t)077777777777)

/* Writes the ustar header of a regular file into hdr: name (split into
 * prefix and name when longer than 100 bytes), size, mtime_s (seconds since
 * the epoch, 0 .. 8^11-1), mode 0644, uid/gid 0, checksum. WD_ERANGE (err
 * says why): an empty name, one that cannot be split, a size or mtime that
 * does not fit. */
enum wd_status wd_tar_header(const char *name, uint64_t size, int64_t mtime_s,
                             unsigned char hdr[WD_TAR_BLOCK], struct wd_error *err) WD_MUST_USE;

/* One member of an archive; both pointers borrowed for the call. */
struct wd_tar_file {
    const char *name;
    const void *data;
    size_t len;
};

/* Writes files[0..n) as a gzip-compressed tar to path (replaced if it
 * exists; written to path.tmp first and renamed, so a failure leaves no
 * half archive), sorted by name (files is reordered). Two members with the
 * same name are refused (WD_EINVAL). WD_EIO: path cannot be written (err
 * names it and why); WD_ERANGE: a header does not fit (as wd_tar_header);
 * WD_ENOMEM. */
enum wd_status wd_tar_write_gz(const char *path, struct wd_tar_file *files, size_t n,
                               int64_t mtime_s, struct wd_error *err) WD_MUST_USE;

#endif /* WD_BUS_TAR_H */
