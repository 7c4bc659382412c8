/*
 * Time zone loading: finds and reads a zone's TZif file, then builds the zone
 * with the pure parser (src/core/tz.c).
 *
 * This is the only place a zone file is opened. It translates errno into
 * warden statuses once, here, and never writes anywhere: problems go back to
 * the caller in struct wd_error, naming the zone and the reason. It must not
 * cache zones or consult TZ; which zone to load is always the caller's input.
 */
#include "tzload.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ZONE_NAME_MAX 255u
#define DEFAULT_TZDIR "/usr/share/zoneinfo"

/* Characters that appear in IANA zone names ("America/Port-au-Prince",
 * "Etc/GMT+5", "EST5EDT"). A POSIX rule always has something else in it
 * (',', '<', ':') or is also a valid file name, so the file is tried first. */
static int zone_name_like(const char *name)
{
    for (const char *p = name; *p; p++) {
        char c = *p;
        int ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                 c == '/' || c == '_' || c == '-' || c == '+' || c == '.';
        if (!ok)
            return 0;
    }
    return 1;
}

enum read_result { READ_OK, READ_MISSING, READ_FAILED };

/* Reads all of path into a malloc'd buffer. READ_MISSING when there is no
 * regular file there; READ_FAILED with *why set for anything else. */
static enum read_result read_zone_file(const char *path, uint8_t **buf_out, size_t *len_out,
                                       char *why, size_t why_cap)
{
    enum read_result rr = READ_FAILED;
    uint8_t *buf = NULL;
    size_t len = 0;
    struct stat sb;

    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return READ_MISSING;
        if (strerror_r(errno, why, why_cap) != 0)
            snprintf(why, why_cap, "errno %d", errno);
        return READ_FAILED;
    }
    if (fstat(fd, &sb) != 0) {
        if (strerror_r(errno, why, why_cap) != 0)
            snprintf(why, why_cap, "errno %d", errno);
        goto out;
    }
    if (!S_ISREG(sb.st_mode)) {
        rr = READ_MISSING; /* a directory such as "America" is not a zone */
        goto out;
    }
    if (sb.st_size < 0 || (uint64_t)sb.st_size > WD_TZ_FILE_MAX) {
        snprintf(why, why_cap, "file larger than %u bytes", WD_TZ_FILE_MAX);
        goto out;
    }
    /* One byte of slack detects a file that grew since fstat. */
    size_t cap = (size_t)sb.st_size + 1;
    buf = malloc(cap);
    if (!buf) {
        snprintf(why, why_cap, "out of memory");
        goto out;
    }
    for (;;) {
        ssize_t n = read(fd, buf + len, cap - len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (strerror_r(errno, why, why_cap) != 0)
                snprintf(why, why_cap, "errno %d", errno);
            goto out;
        }
        if (n == 0)
            break;
        len += (size_t)n;
        if (len == cap) {
            snprintf(why, why_cap, "file changed while being read");
            goto out;
        }
    }
    *buf_out = buf;
    *len_out = len;
    buf = NULL;
    rr = READ_OK;
out:
    free(buf);
    close(fd);
    return rr;
}

enum wd_status wd_tz_load(const char *name, struct wd_tz **out, struct wd_error *err)
{
    struct wd_error sub = {0};
    enum wd_status st;
    char path[PATH_MAX];
    int tried_file = 0;

    if (!out)
        return wd_error_set(err, WD_EINVAL, "time zone: no output pointer");
    *out = NULL;
    if (!name || !*name)
        return wd_error_set(err, WD_EINVAL, "time zone: empty name");
    if (name[0] == ':')
        name++;
    size_t n = strlen(name);
    if (n == 0 || n > ZONE_NAME_MAX)
        return wd_error_set(err, WD_EINVAL, "time zone \"%.64s\": name is empty or longer than %u",
                            name, ZONE_NAME_MAX);
    if (name[0] == '/' || strstr(name, "..") != NULL)
        return wd_error_set(err, WD_EINVAL,
                            "time zone \"%s\": absolute paths and \"..\" are not allowed", name);

    if (zone_name_like(name)) {
        const char *dir = getenv("TZDIR");
        if (!dir || !*dir)
            dir = DEFAULT_TZDIR;
        int pn = snprintf(path, sizeof path, "%s/%s", dir, name);
        if (pn < 0 || (size_t)pn >= sizeof path)
            return wd_error_set(err, WD_EINVAL, "time zone \"%s\": path too long", name);

        uint8_t *buf = NULL;
        size_t len = 0;
        char why[128] = "";
        switch (read_zone_file(path, &buf, &len, why, sizeof why)) {
        case READ_OK:
            st = wd_tz_from_tzif(buf, len, out, &sub);
            free(buf);
            if (st != WD_OK)
                return wd_error_set(err, st, "time zone \"%s\" (%s): %s", name, path, sub.msg);
            return WD_OK;
        case READ_FAILED:
            return wd_error_set(err, WD_EIO, "time zone \"%s\": cannot read %s: %s", name, path,
                                why);
        case READ_MISSING:
        default:
            tried_file = 1;
            break;
        }
    }

    st = wd_tz_from_posix(name, n, out, &sub);
    if (st == WD_OK)
        return WD_OK;
    if (st == WD_EINVAL && tried_file)
        return wd_error_set(err, WD_ENOTFOUND,
                            "time zone \"%s\": no zone file %s, and not a POSIX TZ rule (%s)",
                            name, path, sub.msg);
    return wd_error_set(err, st, "time zone \"%s\": %s", name, sub.msg);
}
