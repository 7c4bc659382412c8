/*
 * The evidence archive's tar writer (src/bus/tar.h): ustar headers byte for
 * byte against ones Python's tarfile wrote for the same member (USTAR
 * format, mode 0644, uid/gid 0, no owner names), long names split into the
 * ustar prefix as GNU tar and tarfile split them or refused, and whole
 * archives read back through zlib: sorted members, padding, the two zero
 * blocks, the same bytes twice, refusals that leave nothing behind.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include <cmocka.h>

#include "bus/tar.h"

/* Sets the bytes of field at off to the literal s (n bytes, NULs included). */
static void put(unsigned char *h, size_t off, const char *s, size_t n) { memcpy(h + off, s, n); }

/* A header as tarfile.TarInfo.tobuf(USTAR_FORMAT) writes it. */
static void expected_header(unsigned char h[WD_TAR_BLOCK], const char *name, const char *prefix,
                            const char *size, const char *mtime, const char *chksum)
{
    memset(h, 0, WD_TAR_BLOCK);
    put(h, 0, name, strlen(name));
    put(h, 100, "0000644", 8);
    put(h, 108, "0000000", 8);
    put(h, 116, "0000000", 8);
    put(h, 124, size, 12);
    put(h, 136, mtime, 12);
    put(h, 148, chksum, 8);
    h[156] = '0';
    put(h, 257, "ustar", 6);
    put(h, 263, "00", 2);
    put(h, 345, prefix, strlen(prefix));
}

static void test_tar_header_matches_tarfile_for_a_small_file(void **state)
{
    (void)state;
    unsigned char got[WD_TAR_BLOCK], want[WD_TAR_BLOCK];
    struct wd_error err = {0};
    expected_header(want, "INC-1/a.txt", "", "00000000005", "15106634160", "007531\0 ");
    assert_int_equal(wd_tar_header("INC-1/a.txt", 5, 1763391600, got, &err), WD_OK);
    assert_memory_equal(got, want, WD_TAR_BLOCK);
}

static void test_tar_long_name_goes_to_the_ustar_prefix(void **state)
{
    (void)state;
    char name[200], d[61], e[61];
    unsigned char got[WD_TAR_BLOCK], want[WD_TAR_BLOCK];
    struct wd_error err = {0};
    memset(d, 'd', 60);
    d[60] = '\0';
    memset(e, 'e', 60);
    e[60] = '\0';
    snprintf(name, sizeof name, "%s/%s/f.txt", d, e);
    /* tarfile: the shortest prefix that leaves a name of at most 100. */
    char tail[80];
    snprintf(tail, sizeof tail, "%s/f.txt", e);
    expected_header(want, tail, d, "00000000000", "00000000000", "036434\0 ");
    assert_int_equal(wd_tar_header(name, 0, 0, got, &err), WD_OK);
    assert_memory_equal(got, want, WD_TAR_BLOCK);
}

static void test_tar_name_of_exactly_100_bytes_fills_the_field(void **state)
{
    (void)state;
    char name[101];
    unsigned char got[WD_TAR_BLOCK];
    memset(name, 'n', 100);
    name[100] = '\0';
    assert_int_equal(wd_tar_header(name, 1, 1, got, NULL), WD_OK);
    assert_memory_equal(got, name, 100);
    assert_int_equal(got[100], '0'); /* the mode field follows, no NUL */
    assert_int_equal(got[345], 0);   /* no prefix */
}

static void test_tar_unsplittable_names_are_refused(void **state)
{
    (void)state;
    char name[400];
    unsigned char got[WD_TAR_BLOCK];
    struct wd_error err = {0};
    /* 101 bytes without a '/'. */
    memset(name, 'x', 101);
    name[101] = '\0';
    assert_int_equal(wd_tar_header(name, 1, 1, got, &err), WD_ERANGE);
    assert_non_null(strstr(err.msg, "cannot be split"));
    /* A prefix that would need 156 bytes. */
    memset(name, 'p', 156);
    snprintf(name + 156, sizeof name - 156, "/%s", "short");
    assert_int_equal(wd_tar_header(name, 1, 1, got, &err), WD_ERANGE);
    /* A last component of 101 bytes. */
    memset(name, 'q', 110);
    name[3] = '/';
    name[110] = '\0';
    assert_int_equal(wd_tar_header(name, 1, 1, got, &err), WD_ERANGE);
    assert_int_equal(wd_tar_header("", 1, 1, got, &err), WD_ERANGE);
    assert_int_equal(wd_tar_header("a", 1, -1, got, &err), WD_ERANGE);
}

/* Reads the whole gzip file at path into a malloc'd buffer. */
static unsigned char *gunzip(const char *path, size_t *len)
{
    gzFile gz = gzopen(path, "rb");
    assert_non_null(gz);
    size_t cap = 1 << 16;
    unsigned char *buf = malloc(cap);
    assert_non_null(buf);
    int n = gzread(gz, buf, (unsigned)cap);
    assert_true(n >= 0 && (size_t)n < cap);
    gzclose(gz);
    *len = (size_t)n;
    return buf;
}

static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    unsigned char *buf = malloc(1 << 16);
    assert_non_null(buf);
    *len = fread(buf, 1, 1 << 16, f);
    fclose(f);
    return buf;
}

static void test_tar_archive_is_sorted_padded_and_deterministic(void **state)
{
    (void)state;
    char dir[] = "/tmp/wd_tar_XXXXXX", path[64];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/a.tar.gz", dir);
    struct wd_tar_file files[] = {
        {"X/b.txt", "bee\n", 4},
        {"X/a.txt", "", 0},
        {"X/c.bin", NULL, 0},
    };
    unsigned char big[600];
    memset(big, 'z', sizeof big);
    files[2].data = big;
    files[2].len = sizeof big;
    struct wd_error err = {0};
    assert_int_equal(wd_tar_write_gz(path, files, 3, 1000, &err), WD_OK);

    size_t len;
    unsigned char *tar = gunzip(path, &len);
    /* a: header; b: header + 1 block; c: header + 2 blocks; 2 zero blocks. */
    assert_int_equal(len, WD_TAR_BLOCK * (1 + 2 + 3 + 2));
    assert_string_equal((char *)tar, "X/a.txt");
    assert_string_equal((char *)tar + WD_TAR_BLOCK, "X/b.txt");
    assert_memory_equal(tar + 2 * WD_TAR_BLOCK, "bee\n\0\0", 6);
    assert_string_equal((char *)tar + 3 * WD_TAR_BLOCK, "X/c.bin");
    assert_memory_equal(tar + 3 * WD_TAR_BLOCK + 124, "00000001130", 12);
    assert_memory_equal(tar + 4 * WD_TAR_BLOCK, big, sizeof big);
    for (size_t i = 4 * WD_TAR_BLOCK + sizeof big; i < len; i++) {
        assert_int_equal(tar[i], 0);
    }
    free(tar);

    /* The same members in another order: the same bytes. */
    size_t l1, l2;
    unsigned char *first = slurp(path, &l1);
    struct wd_tar_file again[] = {files[2], files[0], files[1]};
    assert_int_equal(wd_tar_write_gz(path, again, 3, 1000, &err), WD_OK);
    unsigned char *second = slurp(path, &l2);
    assert_int_equal(l1, l2);
    assert_memory_equal(first, second, l1);
    free(first);
    free(second);

    /* Refusals leave neither the archive nor its temporary file. */
    struct wd_tar_file dup[] = {{"X/a", "1", 1}, {"X/a", "2", 1}};
    char path2[80], tmp2[90];
    snprintf(path2, sizeof path2, "%s/dup.tar.gz", dir);
    snprintf(tmp2, sizeof tmp2, "%s.tmp", path2);
    assert_int_equal(wd_tar_write_gz(path2, dup, 2, 0, &err), WD_EINVAL);
    assert_int_not_equal(access(path2, F_OK), 0);
    assert_int_not_equal(access(tmp2, F_OK), 0);
    snprintf(path2, sizeof path2, "%s/no/such/dir.tar.gz", dir);
    assert_int_equal(wd_tar_write_gz(path2, files, 1, 0, &err), WD_EIO);
    assert_non_null(strstr(err.msg, "cannot write it"));

    unlink(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tar_header_matches_tarfile_for_a_small_file),
        cmocka_unit_test(test_tar_long_name_goes_to_the_ustar_prefix),
        cmocka_unit_test(test_tar_name_of_exactly_100_bytes_fills_the_field),
        cmocka_unit_test(test_tar_unsplittable_names_are_refused),
        cmocka_unit_test(test_tar_archive_is_sorted_padded_and_deterministic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
