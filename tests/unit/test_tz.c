/*
 * Unit tests for src/core/tz.c (TZif and POSIX zones, local days) and the
 * loader in src/bus/tzload.c.
 *
 * The real zone files come from the system's tzdata (/usr/share/zoneinfo);
 * the expected instants and offsets were computed independently with
 * Python's zoneinfo and are written out literally. The tests read files
 * themselves so that the pure parser can be fed bytes, truncated and
 * corrupted at will.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bus/tzload.h"
#include "warden/timeutil.h"
#include "warden/tz.h"

#define ZONEINFO "/usr/share/zoneinfo"
#define HOUR_S 3600LL
#define HOUR_NS (3600LL * WD_NS_PER_S)

#define assert_i64(actual, expected)                                                      \
    do {                                                                                  \
        int64_t got_ = (actual), want_ = (expected);                                      \
        if (got_ != want_)                                                                \
            fail_msg("%s == %lld, expected %lld", #actual, (long long)got_,               \
                     (long long)want_);                                                   \
    } while (0)

/* ---- helpers ------------------------------------------------------------- */

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s (is tzdata installed?)", path);
    uint8_t *buf = malloc(1 << 20);
    assert_non_null(buf);
    *len = fread(buf, 1, 1 << 20, f);
    fclose(f);
    return buf;
}

/* A zone built by the pure parser from the system file. */
static struct wd_tz *file_zone(const char *name)
{
    char path[256];
    size_t len;
    struct wd_error err = {0};
    struct wd_tz *tz = NULL;
    snprintf(path, sizeof path, "%s/%s", ZONEINFO, name);
    uint8_t *buf = read_file(path, &len);
    enum wd_status st = wd_tz_from_tzif(buf, len, &tz, &err);
    free(buf);
    if (st != WD_OK)
        fail_msg("%s: %s", name, err.msg);
    return tz;
}

static struct wd_tz *posix_zone(const char *rule)
{
    struct wd_error err = {0};
    struct wd_tz *tz = NULL;
    if (wd_tz_from_posix(rule, strlen(rule), &tz, &err) != WD_OK)
        fail_msg("\"%s\": %s", rule, err.msg);
    return tz;
}

static enum wd_status posix_status(const char *rule)
{
    struct wd_error err = {0};
    struct wd_tz *tz = (struct wd_tz *)&err; /* must be reset to NULL */
    enum wd_status st = wd_tz_from_posix(rule, strlen(rule), &tz, &err);
    if (st != WD_OK) {
        assert_null(tz);
        assert_true(strlen(err.msg) > 0);
    }
    wd_tz_free(st == WD_OK ? tz : NULL);
    return st;
}

static int64_t utc_s(int64_t y, unsigned m, unsigned d, int64_t h)
{
    return wd_days_from_civil(y, m, d) * 86400 + h * HOUR_S;
}

/* Both zones give the same offset at every hour in [from, to), and on both
 * sides of every change that either of them has. */
static void assert_same_offsets(const struct wd_tz *a, const struct wd_tz *b, int64_t from,
                                int64_t to)
{
    int32_t prev = wd_tz_offset_s(a, from);
    for (int64_t t = from; t < to; t += HOUR_S) {
        int32_t oa = wd_tz_offset_s(a, t), ob = wd_tz_offset_s(b, t);
        if (oa != ob)
            fail_msg("offsets differ at %lld: %d vs %d", (long long)t, (int)oa, (int)ob);
        if (oa != prev) {
            /* Find the change to the second and compare around it. */
            int64_t lo = t - HOUR_S, hi = t;
            while (hi - lo > 1) {
                int64_t mid = lo + (hi - lo) / 2;
                if (wd_tz_offset_s(a, mid) == oa)
                    hi = mid;
                else
                    lo = mid;
            }
            assert_int_equal(wd_tz_offset_s(b, hi), oa);
            assert_int_equal(wd_tz_offset_s(b, hi - 1), prev);
        }
        prev = oa;
    }
}

/* A tiny TZif writer for synthetic files. version is 0 (v1 only) or '2'..'4'.
 * Every type gets the abbreviation "AAA". Returns the length written. */
struct tzif_spec {
    char version;
    size_t n;
    const int64_t *times;
    const uint8_t *idx;
    size_t ntypes;
    const int32_t *utoff;
    const char *footer; /* v2+ only; NULL writes no footer at all */
};

static size_t put32(uint8_t *b, size_t o, uint32_t v)
{
    b[o] = (uint8_t)(v >> 24);
    b[o + 1] = (uint8_t)(v >> 16);
    b[o + 2] = (uint8_t)(v >> 8);
    b[o + 3] = (uint8_t)v;
    return o + 4;
}

static size_t put_header(uint8_t *b, size_t o, char version, uint32_t timecnt, uint32_t typecnt,
                         uint32_t charcnt)
{
    memcpy(b + o, "TZif", 4);
    b[o + 4] = (uint8_t)version;
    memset(b + o + 5, 0, 15);
    o += 20;
    o = put32(b, o, 0); /* isutcnt */
    o = put32(b, o, 0); /* isstdcnt */
    o = put32(b, o, 0); /* leapcnt */
    o = put32(b, o, timecnt);
    o = put32(b, o, typecnt);
    return put32(b, o, charcnt);
}

static size_t put_block(uint8_t *b, size_t o, const struct tzif_spec *s, unsigned tsize)
{
    for (size_t i = 0; i < s->n; i++) {
        uint64_t u = (uint64_t)s->times[i];
        if (tsize == 8)
            o = put32(b, o, (uint32_t)(u >> 32));
        o = put32(b, o, (uint32_t)u);
    }
    for (size_t i = 0; i < s->n; i++)
        b[o++] = s->idx[i];
    for (size_t i = 0; i < s->ntypes; i++) {
        o = put32(b, o, (uint32_t)s->utoff[i]);
        b[o++] = 0;
        b[o++] = 0;
    }
    memcpy(b + o, "AAA", 4);
    return o + 4;
}

static size_t build_tzif(uint8_t *b, const struct tzif_spec *s)
{
    size_t o = 0;
    if (s->version == 0) {
        o = put_header(b, o, 0, (uint32_t)s->n, (uint32_t)s->ntypes, 4);
        return put_block(b, o, s, 4);
    }
    /* A minimal v1 block, as zic -b slim writes: one UT type. */
    static const int32_t ut[] = {0};
    static const struct tzif_spec v1 = {.ntypes = 1, .utoff = ut};
    o = put_header(b, o, s->version, 0, 1, 4);
    o = put_block(b, o, &v1, 4);
    o = put_header(b, o, s->version, (uint32_t)s->n, (uint32_t)s->ntypes, 4);
    o = put_block(b, o, s, 8);
    if (s->footer) {
        size_t fl = strlen(s->footer);
        b[o++] = '\n';
        memcpy(b + o, s->footer, fl);
        o += fl;
        b[o++] = '\n';
    }
    return o;
}

/* Offset of the v2 header and data block in a build_tzif v2 file. */
#define V2_HEADER_AT (44 + 6 + 4)
#define V2_DATA_AT (V2_HEADER_AT + 44)

static enum wd_status tzif_status(const uint8_t *b, size_t len, const char *want_in_msg)
{
    struct wd_error err = {0};
    struct wd_tz *tz = NULL;
    enum wd_status st = wd_tz_from_tzif(b, len, &tz, &err);
    if (st == WD_OK) {
        wd_tz_free(tz);
        return st;
    }
    assert_null(tz);
    if (want_in_msg && !strstr(err.msg, want_in_msg))
        fail_msg("message \"%s\" does not mention \"%s\"", err.msg, want_in_msg);
    return st;
}

/* ---- New York: file, rule, DST days -------------------------------------- */

static void test_tz_ny_file_offsets_winter_summer(void **state)
{
    (void)state;
    struct wd_tz *ny = file_zone("America/New_York");
    assert_int_equal(wd_tz_offset_s(ny, 1736942400), -18000); /* 2025-01-15T12Z */
    assert_int_equal(wd_tz_offset_s(ny, 1752580800), -14400); /* 2025-07-15T12Z */
    /* The changes of 2025, to the second. */
    assert_int_equal(wd_tz_offset_s(ny, 1741503599), -18000);
    assert_int_equal(wd_tz_offset_s(ny, 1741503600), -14400); /* 2025-03-09T07Z */
    assert_int_equal(wd_tz_offset_s(ny, 1762063199), -14400);
    assert_int_equal(wd_tz_offset_s(ny, 1762063200), -18000); /* 2025-11-02T06Z */
    /* Before standard time (1883) New York kept local mean time, -4:56:02. */
    assert_int_equal(wd_tz_offset_s(ny, utc_s(1800, 1, 1, 0)), -17762);
    wd_tz_free(ny);
}

static void test_tz_ny_posix_rule_matches_file_2024_2027(void **state)
{
    (void)state;
    struct wd_tz *file = file_zone("America/New_York");
    struct wd_tz *rule = posix_zone("EST5EDT,M3.2.0,M11.1.0");
    assert_int_equal(wd_tz_offset_s(rule, 1736942400), -18000);
    assert_int_equal(wd_tz_offset_s(rule, 1752580800), -14400);
    assert_int_equal(wd_tz_offset_s(rule, 1741503599), -18000);
    assert_int_equal(wd_tz_offset_s(rule, 1741503600), -14400);
    assert_int_equal(wd_tz_offset_s(rule, 1762063199), -14400);
    assert_int_equal(wd_tz_offset_s(rule, 1762063200), -18000);
    assert_same_offsets(file, rule, utc_s(2024, 1, 1, 0), utc_s(2028, 1, 1, 0));
    wd_tz_free(file);
    wd_tz_free(rule);
}

static void test_tz_posix_default_dst_rule_is_us(void **state)
{
    (void)state;
    struct wd_tz *a = posix_zone("EST5EDT");
    struct wd_tz *b = posix_zone("EST5EDT,M3.2.0/2,M11.1.0/02:00:00");
    assert_same_offsets(a, b, utc_s(2024, 1, 1, 0), utc_s(2028, 1, 1, 0));
    assert_int_equal(wd_tz_offset_s(a, 1752580800), -14400);
    wd_tz_free(a);
    wd_tz_free(b);
}

static void check_ny_dst_days(const struct wd_tz *ny)
{
    int64_t start, end;

    /* 2025-03-09: 23 hours, 05:00Z to 04:00Z next day. */
    assert_i64(wd_tz_local_day(ny, 1741521600LL * WD_NS_PER_S, &start, &end), 20156);
    assert_i64(start, 1741496400LL * WD_NS_PER_S);
    assert_i64(end, 1741579200LL * WD_NS_PER_S);
    assert_i64(end - start, 23 * HOUR_NS);
    assert_i64(wd_tz_day_start_ns(ny, 20156), 1741496400LL * WD_NS_PER_S);
    assert_i64(wd_tz_day_start_ns(ny, 20157), 1741579200LL * WD_NS_PER_S);

    /* 2025-11-02: 25 hours, 04:00Z to 05:00Z next day. */
    assert_i64(wd_tz_local_day(ny, 1762100000LL * WD_NS_PER_S, &start, &end), 20394);
    assert_i64(start, 1762056000LL * WD_NS_PER_S);
    assert_i64(end, 1762146000LL * WD_NS_PER_S);
    assert_i64(end - start, 25 * HOUR_NS);

    /* The edges: start belongs to the day, end to the next, end - 1ns not. */
    assert_i64(wd_tz_local_day(ny, 1762056000LL * WD_NS_PER_S, NULL, NULL), 20394);
    assert_i64(wd_tz_local_day(ny, 1762056000LL * WD_NS_PER_S - 1, NULL, NULL), 20393);
    assert_i64(wd_tz_local_day(ny, 1762146000LL * WD_NS_PER_S - 1, NULL, NULL), 20394);
    assert_i64(wd_tz_local_day(ny, 1762146000LL * WD_NS_PER_S, NULL, NULL), 20395);

    /* An ordinary day: 2025-11-16 is 24 hours from 05:00Z. */
    assert_i64(wd_tz_local_day(ny, 1763303400123000000LL, &start, &end), 20408);
    assert_i64(start, (1763269200LL) * WD_NS_PER_S);
    assert_i64(end - start, 24 * HOUR_NS);
}

static void test_tz_ny_day_bounds_on_dst_days(void **state)
{
    (void)state;
    struct wd_tz *file = file_zone("America/New_York");
    struct wd_tz *rule = posix_zone("EST5EDT,M3.2.0,M11.1.0");
    check_ny_dst_days(file);
    check_ny_dst_days(rule);
    wd_tz_free(file);
    wd_tz_free(rule);
}

/* Every 15 minutes of 2024..2026: the day contains the instant, has a sane
 * length, and its bounds agree with wd_tz_day_start_ns and with the days on
 * either side. */
static void test_tz_local_day_invariants_sweep(void **state)
{
    (void)state;
    const char *zones[] = {"America/New_York", "America/Sao_Paulo", "Australia/Lord_Howe",
                           "Asia/Kolkata", "Europe/London"};
    for (size_t z = 0; z < sizeof zones / sizeof zones[0]; z++) {
        struct wd_tz *tz = file_zone(zones[z]);
        int64_t prev_day = INT64_MIN, short_days = 0, long_days = 0;
        for (int64_t ns = utc_s(2024, 1, 1, 0) * WD_NS_PER_S;
             ns < utc_s(2027, 1, 1, 0) * WD_NS_PER_S; ns += 15 * 60 * WD_NS_PER_S) {
            int64_t start, end;
            int64_t day = wd_tz_local_day(tz, ns, &start, &end);
            assert_true(start <= ns && ns < end);
            int64_t len = end - start;
            assert_true(len >= 23 * HOUR_NS && len <= 25 * HOUR_NS);
            if (len < 24 * HOUR_NS)
                short_days += day != prev_day;
            if (len > 24 * HOUR_NS)
                long_days += day != prev_day;
            assert_i64(wd_tz_day_start_ns(tz, day), start);
            assert_i64(wd_tz_day_start_ns(tz, day + 1), end);
            assert_i64(wd_tz_local_day(tz, start, NULL, NULL), day);
            assert_i64(wd_tz_local_day(tz, end, NULL, NULL), day + 1);
            if (prev_day != INT64_MIN)
                assert_true(day == prev_day || day == prev_day + 1);
            prev_day = day;
        }
        if (z == 0) { /* New York: one short and one long day a year */
            assert_i64(short_days, 3);
            assert_i64(long_days, 3);
        }
        if (z == 3) { /* Kolkata: no DST */
            assert_i64(short_days, 0);
            assert_i64(long_days, 0);
        }
        wd_tz_free(tz);
    }
}

/* ---- midnight that does not exist ---------------------------------------- */

static void check_sao_paulo_2018(const struct wd_tz *sp)
{
    int64_t start, end;
    /* 2018-11-04: clocks went from 00:00 -03 to 01:00 -02, so the day starts
     * at 01:00 local = 03:00Z and is 23 hours long. */
    assert_i64(wd_tz_day_start_ns(sp, 17839), 1541300400LL * WD_NS_PER_S);
    assert_i64(wd_tz_local_day(sp, 1541300400LL * WD_NS_PER_S, &start, &end), 17839);
    assert_i64(start, 1541300400LL * WD_NS_PER_S);
    assert_i64(end, 1541383200LL * WD_NS_PER_S);
    assert_i64(end - start, 23 * HOUR_NS);
    assert_i64(wd_tz_local_day(sp, 1541300400LL * WD_NS_PER_S - 1, &start, &end), 17838);
    assert_i64(end, 1541300400LL * WD_NS_PER_S);
    assert_i64(end - start, 24 * HOUR_NS);
    assert_int_equal(wd_tz_offset_s(sp, 1541300399), -10800);
    assert_int_equal(wd_tz_offset_s(sp, 1541300400), -7200);
}

static void test_tz_sao_paulo_day_without_midnight(void **state)
{
    (void)state;
    struct wd_tz *file = file_zone("America/Sao_Paulo");
    /* The Brazilian rule of 2018, written as a POSIX string. */
    struct wd_tz *rule = posix_zone("<-03>3<-02>,M11.1.0/0,M2.3.0/0");
    check_sao_paulo_2018(file);
    check_sao_paulo_2018(rule);
    /* Brazil abolished DST in 2019; the file's footer is "<-03>3". */
    assert_int_equal(wd_tz_offset_s(file, utc_s(2030, 1, 15, 12)), -10800);
    wd_tz_free(file);
    wd_tz_free(rule);
}

/* ---- far future: the footer rule ----------------------------------------- */

static void test_tz_far_future_uses_footer(void **state)
{
    (void)state;
    struct wd_tz *ny = file_zone("America/New_York");
    int64_t start, end;
    assert_int_equal(wd_tz_offset_s(ny, 4103697600), -18000); /* 2100-01-15T12Z */
    assert_int_equal(wd_tz_offset_s(ny, 4118126400), -14400); /* 2100-07-01T12Z */
    assert_int_equal(wd_tz_offset_s(ny, 4108690799), -18000);
    assert_int_equal(wd_tz_offset_s(ny, 4108690800), -14400); /* 2100-03-14T07Z */
    assert_int_equal(wd_tz_offset_s(ny, 4129250399), -14400);
    assert_int_equal(wd_tz_offset_s(ny, 4129250400), -18000); /* 2100-11-07T06Z */
    assert_int_equal(wd_tz_offset_s(ny, 16740907200), -14400); /* 2500-07-01T12Z */
    /* 2100-03-14 (day 47554) is 23 hours long. */
    assert_i64(wd_tz_local_day(ny, 4108690800LL * WD_NS_PER_S, &start, &end), 47554);
    assert_i64(end - start, 23 * HOUR_NS);
    /* Every hour of 2090..2110 agrees with the rule string itself. */
    struct wd_tz *rule = posix_zone("EST5EDT,M3.2.0,M11.1.0");
    assert_same_offsets(ny, rule, utc_s(2090, 1, 1, 0), utc_s(2110, 1, 1, 0));
    wd_tz_free(rule);
    wd_tz_free(ny);
}

/* ---- other zones and rule forms ------------------------------------------ */

static void test_tz_footers_match_files(void **state)
{
    (void)state;
    static const struct {
        const char *zone, *rule;
    } cases[] = {
        {"Europe/London", "GMT0BST,M3.5.0/1,M10.5.0"},
        {"Europe/Paris", "CET-1CEST,M3.5.0,M10.5.0/3"},
        {"Australia/Sydney", "AEST-10AEDT,M10.1.0,M4.1.0/3"},   /* southern */
        {"Asia/Jerusalem", "IST-2IDT,M3.4.4/26,M10.5.0"},       /* time > 24h */
        {"America/Nuuk", "<-02>2<-01>,M3.5.0/-1,M10.5.0/0"},     /* negative time */
        {"Australia/Lord_Howe", "<+1030>-10:30<+11>-11,M10.1.0,M4.1.0"}, /* 30 min DST */
        {"Asia/Kolkata", "IST-5:30"},
        {"UTC", "UTC0"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct wd_tz *file = file_zone(cases[i].zone);
        struct wd_tz *rule = posix_zone(cases[i].rule);
        assert_same_offsets(file, rule, utc_s(2024, 1, 1, 0), utc_s(2028, 1, 1, 0));
        wd_tz_free(file);
        wd_tz_free(rule);
    }
}

static void test_tz_posix_southern_and_unusual_times(void **state)
{
    (void)state;
    struct wd_tz *syd = posix_zone("AEST-10AEDT,M10.1.0,M4.1.0/3");
    assert_int_equal(wd_tz_offset_s(syd, 1736942400), 39600); /* January: summer */
    assert_int_equal(wd_tz_offset_s(syd, 1752580800), 36000);
    assert_int_equal(wd_tz_offset_s(syd, 1743868799), 39600);
    assert_int_equal(wd_tz_offset_s(syd, 1743868800), 36000); /* 2025-04-05T16Z */
    assert_int_equal(wd_tz_offset_s(syd, 1759593599), 36000);
    assert_int_equal(wd_tz_offset_s(syd, 1759593600), 39600); /* 2025-10-04T16Z */
    wd_tz_free(syd);

    struct wd_tz *jer = posix_zone("IST-2IDT,M3.4.4/26,M10.5.0");
    assert_int_equal(wd_tz_offset_s(jer, 1743119999), 7200);
    assert_int_equal(wd_tz_offset_s(jer, 1743120000), 10800); /* 2025-03-28T00Z */
    wd_tz_free(jer);

    struct wd_tz *nuuk = posix_zone("<-02>2<-01>,M3.5.0/-1,M10.5.0/0");
    assert_int_equal(wd_tz_offset_s(nuuk, 1743296399), -7200);
    assert_int_equal(wd_tz_offset_s(nuuk, 1743296400), -3600); /* 2025-03-30T01Z */
    assert_int_equal(wd_tz_offset_s(nuuk, 1761440399), -3600);
    assert_int_equal(wd_tz_offset_s(nuuk, 1761440400), -7200); /* 2025-10-26T01Z */
    wd_tz_free(nuuk);

    struct wd_tz *cet = posix_zone("CET-1CEST,M3.5.0,M10.5.0/3");
    assert_int_equal(wd_tz_offset_s(cet, 1743296399), 3600);
    assert_int_equal(wd_tz_offset_s(cet, 1743296400), 7200);
    assert_int_equal(wd_tz_offset_s(cet, 1761440399), 7200);
    assert_int_equal(wd_tz_offset_s(cet, 1761440400), 3600);
    wd_tz_free(cet);
}

static void test_tz_posix_offsets_and_names(void **state)
{
    (void)state;
    static const struct {
        const char *rule;
        int32_t winter, summer;
    } cases[] = {
        {"UTC0", 0, 0},
        {"<+0330>-3:30", 12600, 12600},
        {"IST-5:30", 19800, 19800},
        {"<-03>3", -10800, -10800},
        {"<+0545>-05:45", 20700, 20700},
        {"XXX+5", -18000, -18000},
        {"XXX-14", 50400, 50400},
        {"XXX1:02:03", -3723, -3723},
        {"NZST-12NZDT-13,M9.5.0,M4.1.0/3", 46800, 43200}, /* explicit DST offset */
        {"AAA5BBB3,M3.2.0,M11.1.0", -18000, -10800},
        {"EST5EDT4,0/0,J365/25", -14400, -14400}, /* DST all year */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct wd_tz *tz = posix_zone(cases[i].rule);
        if (wd_tz_offset_s(tz, 1736942400) != cases[i].winter ||
            wd_tz_offset_s(tz, 1752580800) != cases[i].summer)
            fail_msg("%s: %d/%d, expected %d/%d", cases[i].rule,
                     (int)wd_tz_offset_s(tz, 1736942400), (int)wd_tz_offset_s(tz, 1752580800),
                     (int)cases[i].winter, (int)cases[i].summer);
        wd_tz_free(tz);
    }
    /* DST all year holds across the new year too. */
    struct wd_tz *always = posix_zone("EST5EDT4,0/0,J365/25");
    for (int64_t t = utc_s(2024, 12, 30, 0); t < utc_s(2025, 1, 3, 0); t += 60)
        assert_int_equal(wd_tz_offset_s(always, t), -14400);
    wd_tz_free(always);
    /* s need not be NUL-terminated: len bounds it. */
    struct wd_tz *tz = NULL;
    assert_int_equal(wd_tz_from_posix("EST5EDT,M3.2.0,M11.1.0garbage", 22, &tz, NULL), WD_OK);
    assert_int_equal(wd_tz_offset_s(tz, 1752580800), -14400);
    wd_tz_free(tz);
}

static void test_tz_posix_julian_day_forms(void **state)
{
    (void)state;
    /* Jn never counts February 29: J60 is March 1 even in 2024. */
    struct wd_tz *j = posix_zone("AAA5BBB,J60/2,J300/2");
    assert_int_equal(wd_tz_offset_s(j, 1709276399), -18000);
    assert_int_equal(wd_tz_offset_s(j, 1709276400), -14400); /* 2024-03-01T07Z */
    assert_int_equal(wd_tz_offset_s(j, 1730008799), -14400);
    assert_int_equal(wd_tz_offset_s(j, 1730008800), -18000); /* 2024-10-27T06Z */
    wd_tz_free(j);
    /* n counts from 0 and includes February 29: day 59 is Feb 29 in 2024
     * and Mar 1 in 2025. */
    struct wd_tz *n = posix_zone("AAA5BBB,59/2,299/2");
    assert_int_equal(wd_tz_offset_s(n, 1709189999), -18000);
    assert_int_equal(wd_tz_offset_s(n, 1709190000), -14400); /* 2024-02-29T07Z */
    assert_int_equal(wd_tz_offset_s(n, 1740812399), -18000);
    assert_int_equal(wd_tz_offset_s(n, 1740812400), -14400); /* 2025-03-01T07Z */
    wd_tz_free(n);
}

static void test_tz_posix_invalid(void **state)
{
    (void)state;
    assert_int_equal(posix_status(""), WD_EINVAL);
    assert_int_equal(posix_status("EST"), WD_EINVAL);                 /* no offset */
    assert_int_equal(posix_status("E5"), WD_EINVAL);                  /* name too short */
    assert_int_equal(posix_status("5EST"), WD_EINVAL);                /* no name */
    assert_int_equal(posix_status("<EST5"), WD_EINVAL);               /* unterminated < */
    assert_int_equal(posix_status("<E>5"), WD_EINVAL);                /* quoted too short */
    assert_int_equal(posix_status("<E$T>5"), WD_EINVAL);              /* bad char in <> */
    assert_int_equal(posix_status("EST25"), WD_EINVAL);               /* hours > 24 */
    assert_int_equal(posix_status("EST5:60"), WD_EINVAL);             /* minutes 60 */
    assert_int_equal(posix_status("EST5:30:60"), WD_EINVAL);          /* seconds 60 */
    assert_int_equal(posix_status("EST5:"), WD_EINVAL);               /* dangling colon */
    assert_int_equal(posix_status("EST+"), WD_EINVAL);                /* sign, no hours */
    assert_int_equal(posix_status("EST5E"), WD_EINVAL);               /* DST name short */
    assert_int_equal(posix_status("EST5EDT;"), WD_EINVAL);            /* junk after name */
    assert_int_equal(posix_status("EST5EDT,M3.2.0"), WD_EINVAL);      /* no end rule */
    assert_int_equal(posix_status("EST5EDT,M3.2.0,"), WD_EINVAL);     /* empty end rule */
    assert_int_equal(posix_status("EST5EDT,M13.1.0,M11.1.0"), WD_EINVAL); /* month 13 */
    assert_int_equal(posix_status("EST5EDT,M0.1.0,M11.1.0"), WD_EINVAL);  /* month 0 */
    assert_int_equal(posix_status("EST5EDT,M3.6.0,M11.1.0"), WD_EINVAL);  /* week 6 */
    assert_int_equal(posix_status("EST5EDT,M3.0.0,M11.1.0"), WD_EINVAL);  /* week 0 */
    assert_int_equal(posix_status("EST5EDT,M3.2.7,M11.1.0"), WD_EINVAL);  /* weekday 7 */
    assert_int_equal(posix_status("EST5EDT,M3.2,M11.1.0"), WD_EINVAL);    /* no weekday */
    assert_int_equal(posix_status("EST5EDT,J0,J300"), WD_EINVAL);         /* J0 */
    assert_int_equal(posix_status("EST5EDT,J366,J300"), WD_EINVAL);       /* J366 */
    assert_int_equal(posix_status("EST5EDT,366,300"), WD_EINVAL);         /* n 366 */
    assert_int_equal(posix_status("EST5EDT,M3.2.0/168,M11.1.0"), WD_EINVAL); /* time 168h */
    assert_int_equal(posix_status("EST5EDT,M3.2.0/,M11.1.0"), WD_EINVAL);    /* empty time */
    assert_int_equal(posix_status("EST5EDT,X,M11.1.0"), WD_EINVAL);          /* bad form */
    assert_int_equal(posix_status("EST5EDT,M3.2.0,M11.1.0,"), WD_EINVAL);    /* trailing */
    assert_int_equal(posix_status("EST5EDT,M3.2.0,M11.1.0 "), WD_EINVAL);    /* trailing */
    assert_int_equal(posix_status("EST5EDT,M3.2.0,M11.1.0/2x"), WD_EINVAL);  /* trailing */
    assert_int_equal(posix_status("EST5EDT,M3.2.0,M11.1.0"), WD_OK);          /* control */
    assert_int_equal(wd_tz_from_posix("EST5", 4, NULL, NULL), WD_EINVAL);     /* no out */
    /* An embedded NUL is just a bad character. */
    struct wd_tz *tz = NULL;
    assert_int_equal(wd_tz_from_posix("EST5\0EDT", 8, &tz, NULL), WD_EINVAL);
    assert_null(tz);
}

/* ---- TZif structure ------------------------------------------------------ */

static void test_tz_tzif_synthetic_files(void **state)
{
    (void)state;
    uint8_t buf[512];
    struct wd_tz *tz = NULL;
    static const int64_t times[] = {1000000000, 1100000000};
    static const uint8_t idx[] = {1, 0};
    static const int32_t utoff[] = {3600, 7200};

    /* v1 only: two transitions, no footer; the last type holds forever. */
    struct tzif_spec s = {.version = 0, .n = 2, .times = times, .idx = idx, .ntypes = 2,
                          .utoff = utoff};
    size_t len = build_tzif(buf, &s);
    assert_int_equal(wd_tz_from_tzif(buf, len, &tz, NULL), WD_OK);
    assert_int_equal(wd_tz_offset_s(tz, 999999999), 3600); /* type 0 before */
    assert_int_equal(wd_tz_offset_s(tz, 1000000000), 7200);
    assert_int_equal(wd_tz_offset_s(tz, 1100000000), 3600);
    assert_int_equal(wd_tz_offset_s(tz, 4000000000), 3600);
    wd_tz_free(tz);

    /* v2 with transitions and a DST footer that takes over after them. */
    s.version = '2';
    s.footer = "EST5EDT,M3.2.0,M11.1.0";
    len = build_tzif(buf, &s);
    assert_int_equal(wd_tz_from_tzif(buf, len, &tz, NULL), WD_OK);
    assert_int_equal(wd_tz_offset_s(tz, 1000000000), 7200);
    assert_int_equal(wd_tz_offset_s(tz, 1752580800), -14400);
    wd_tz_free(tz);

    /* v3 with no transitions at all: the footer alone decides. */
    struct tzif_spec f = {.version = '3', .ntypes = 1, .utoff = (const int32_t[]){-18000},
                          .footer = "EST5EDT,M3.2.0,M11.1.0"};
    len = build_tzif(buf, &f);
    assert_int_equal(wd_tz_from_tzif(buf, len, &tz, NULL), WD_OK);
    assert_int_equal(wd_tz_offset_s(tz, 1736942400), -18000);
    assert_int_equal(wd_tz_offset_s(tz, 1752580800), -14400);
    assert_int_equal(wd_tz_offset_s(tz, -1000000000), -14400); /* 1938-04-24, summer */
    wd_tz_free(tz);

    /* Empty footer and no transitions: fixed at type 0. Trailing bytes after
     * the footer are ignored. */
    f.footer = "";
    f.utoff = (const int32_t[]){19800};
    len = build_tzif(buf, &f);
    buf[len++] = 'x';
    assert_int_equal(wd_tz_from_tzif(buf, len, &tz, NULL), WD_OK);
    assert_int_equal(wd_tz_offset_s(tz, 1752580800), 19800);
    wd_tz_free(tz);
}

static void test_tz_tzif_malformed(void **state)
{
    (void)state;
    uint8_t good[512], b[512];
    static const int64_t times[] = {1000000000, 1100000000};
    static const uint8_t idx[] = {1, 0};
    static const int32_t utoff[] = {3600, 7200};
    struct tzif_spec s = {.version = '2', .n = 2, .times = times, .idx = idx, .ntypes = 2,
                          .utoff = utoff, .footer = "XXX-1"};
    size_t len = build_tzif(good, &s);
    assert_int_equal(tzif_status(good, len, NULL), WD_OK);

    /* Layout of the v2 block: times (16), indices (2), types (12), "AAA\0". */
    const size_t idx_at = V2_DATA_AT + 16, types_at = idx_at + 2;

    assert_int_equal(tzif_status(good, 0, "truncated header"), WD_EINVAL);
    assert_int_equal(tzif_status(NULL, 100, "truncated header"), WD_EINVAL);
    assert_int_equal(tzif_status(good, 43, "truncated header"), WD_EINVAL);
    assert_int_equal(tzif_status(good, V2_HEADER_AT + 10, "truncated header"), WD_EINVAL);
    assert_int_equal(tzif_status(good, V2_DATA_AT + 20, "truncated data block"), WD_EINVAL);
    assert_int_equal(tzif_status(good, len - 1, "not terminated"), WD_EINVAL);
    assert_int_equal(tzif_status(good, len - 7, "missing footer"), WD_EINVAL);

    memcpy(b, good, len);
    b[0] = 'X';
    assert_int_equal(tzif_status(b, len, "bad magic"), WD_EINVAL);

    memcpy(b, good, len);
    b[4] = '1';
    assert_int_equal(tzif_status(b, len, "version"), WD_EINVAL);

    memcpy(b, good, len);
    b[V2_HEADER_AT + 4] = 0;
    assert_int_equal(tzif_status(b, len, "second header"), WD_EINVAL);

    memcpy(b, good, len);
    b[idx_at] = 2; /* type index past typecnt */
    assert_int_equal(tzif_status(b, len, "uses type 2"), WD_EINVAL);

    memcpy(b, good, len);
    memcpy(b + V2_DATA_AT + 8, b + V2_DATA_AT, 8); /* equal transition times */
    assert_int_equal(tzif_status(b, len, "not after"), WD_EINVAL);

    memcpy(b, good, len);
    put32(b, types_at, 100000); /* utoff beyond +25:59:59 */
    assert_int_equal(tzif_status(b, len, "utoff"), WD_EINVAL);

    memcpy(b, good, len);
    b[types_at + 4] = 2; /* isdst */
    assert_int_equal(tzif_status(b, len, "isdst"), WD_EINVAL);

    memcpy(b, good, len);
    b[types_at + 5] = 4; /* abbreviation index == charcnt */
    assert_int_equal(tzif_status(b, len, "abbreviation"), WD_EINVAL);

    memcpy(b, good, len);
    put32(b, V2_HEADER_AT + 36, 0); /* typecnt 0 */
    assert_int_equal(tzif_status(b, len, "typecnt is zero"), WD_EINVAL);

    memcpy(b, good, len);
    put32(b, V2_HEADER_AT + 32, 0xffffffffu); /* absurd timecnt */
    assert_int_equal(tzif_status(b, len, "out of bounds"), WD_EINVAL);

    memcpy(b, good, len);
    put32(b, 32, 0x7fffffffu); /* absurd v1 timecnt */
    assert_int_equal(tzif_status(b, len, "version 1"), WD_EINVAL);

    memcpy(b, good, len);
    put32(b, V2_HEADER_AT + 20, 1); /* isutcnt neither 0 nor typecnt */
    assert_int_equal(tzif_status(b, len, "isutcnt"), WD_EINVAL);

    memcpy(b, good, len);
    put32(b, V2_HEADER_AT + 28, 1); /* leap-second records (room made for one) */
    memset(b + len, 0, 12);
    assert_int_equal(tzif_status(b, len + 12, "leap"), WD_EINVAL);

    memcpy(b, good, len);
    b[len - 3] = '@'; /* footer "XXX-1" -> "XXX@1" */
    assert_int_equal(tzif_status(b, len, "footer"), WD_EINVAL);
}

static void test_tz_tzif_truncated_real_file_rejected(void **state)
{
    (void)state;
    size_t len;
    uint8_t *buf = read_file(ZONEINFO "/America/New_York", &len);
    assert_true(len > 1000);
    struct wd_error err = {0};
    struct wd_tz *tz = NULL;
    assert_int_equal(wd_tz_from_tzif(buf, len / 2, &tz, &err), WD_EINVAL);
    assert_null(tz);
    assert_non_null(strstr(err.msg, "truncated"));
    assert_int_equal(err.status, WD_EINVAL);
    free(buf);
}

/* Every proper prefix of a real file is rejected, never read past. Run under
 * the asan preset this is the out-of-bounds check. */
static void test_tz_tzif_truncated_prefix_sweep(void **state)
{
    (void)state;
    const char *zones[] = {ZONEINFO "/America/New_York", ZONEINFO "/Europe/London",
                           ZONEINFO "/UTC"};
    for (size_t z = 0; z < sizeof zones / sizeof zones[0]; z++) {
        size_t len;
        uint8_t *full = read_file(zones[z], &len);
        for (size_t n = 0; n < len; n++) {
            /* An exact-size copy so that any over-read hits the redzone. */
            uint8_t *p = malloc(n ? n : 1);
            assert_non_null(p);
            memcpy(p, full, n);
            struct wd_tz *tz = NULL;
            struct wd_error err = {0};
            if (wd_tz_from_tzif(p, n, &tz, &err) != WD_EINVAL)
                fail_msg("%s: prefix of %zu bytes accepted", zones[z], n);
            assert_null(tz);
            free(p);
        }
        free(full);
    }
}

/* Single-byte corruptions of a real file either are rejected or give a zone
 * whose queries are all safe to run. */
static void test_tz_tzif_corruption_sweep(void **state)
{
    (void)state;
    size_t len;
    uint8_t *full = read_file(ZONEINFO "/America/New_York", &len);
    uint8_t *p = malloc(len);
    assert_non_null(p);
    static const uint8_t masks[] = {0x01, 0x10, 0x80, 0xff};
    size_t accepted = 0;
    for (size_t i = 0; i < len; i++) {
        for (size_t k = 0; k < sizeof masks; k++) {
            memcpy(p, full, len);
            p[i] ^= masks[k];
            struct wd_tz *tz = NULL;
            enum wd_status st = wd_tz_from_tzif(p, len, &tz, NULL);
            if (st != WD_OK) {
                assert_int_equal(st, WD_EINVAL);
                assert_null(tz);
                continue;
            }
            accepted++;
            int64_t start, end;
            (void)wd_tz_offset_s(tz, 1752580800);
            (void)wd_tz_offset_s(tz, INT64_MIN);
            (void)wd_tz_offset_s(tz, INT64_MAX);
            int64_t day = wd_tz_local_day(tz, 1763303400123000000LL, &start, &end);
            assert_true(start <= 1763303400123000000LL && 1763303400123000000LL < end);
            assert_i64(wd_tz_day_start_ns(tz, day), start);
            (void)wd_tz_local_day(tz, 4108690800LL * WD_NS_PER_S, NULL, NULL);
            wd_tz_free(tz);
        }
    }
    /* Corrupted v1 data and abbreviation text are skipped, so many survive. */
    assert_true(accepted > 0);
    free(p);
    free(full);
}

/* ---- odd inputs ---------------------------------------------------------- */

static void test_tz_utc_and_extremes(void **state)
{
    (void)state;
    struct wd_tz *utc = posix_zone("UTC0");
    int64_t start, end;
    assert_i64(wd_tz_local_day(utc, 0, &start, &end), 0);
    assert_i64(start, 0);
    assert_i64(end, WD_NS_PER_DAY);
    assert_i64(wd_tz_local_day(utc, -1, &start, &end), -1);
    assert_i64(start, -WD_NS_PER_DAY);
    assert_i64(end, 0);
    assert_i64(wd_tz_day_start_ns(utc, 20408), 20408 * WD_NS_PER_DAY);

    /* The ends of the int64 range saturate instead of overflowing. */
    struct wd_tz *ny = file_zone("America/New_York");
    int64_t day = wd_tz_local_day(ny, INT64_MAX, &start, &end);
    assert_true(day > 106000 && start < INT64_MAX);
    assert_i64(end, INT64_MAX);
    day = wd_tz_local_day(ny, INT64_MIN, &start, &end);
    assert_true(day < -106000);
    assert_i64(wd_tz_day_start_ns(ny, INT64_MAX), INT64_MAX);
    assert_i64(wd_tz_day_start_ns(ny, INT64_MIN), INT64_MIN);
    assert_i64(wd_tz_day_start_ns(ny, 200000), INT64_MAX);
    (void)wd_tz_offset_s(ny, INT64_MAX);
    (void)wd_tz_offset_s(ny, INT64_MIN);
    struct wd_tz *rule = posix_zone("AEST-10AEDT,M10.1.0,M4.1.0/3");
    (void)wd_tz_offset_s(rule, INT64_MAX);
    (void)wd_tz_offset_s(rule, INT64_MIN);
    (void)wd_tz_local_day(rule, INT64_MAX, NULL, NULL);
    (void)wd_tz_local_day(rule, INT64_MIN, NULL, NULL);

    /* NULL frees are no-ops; a NULL zone reads as UTC. */
    wd_tz_free(NULL);
    assert_int_equal(wd_tz_offset_s(NULL, 1752580800), 0);
    assert_i64(wd_tz_local_day(NULL, WD_NS_PER_DAY, NULL, NULL), 1);
    wd_tz_free(rule);
    wd_tz_free(ny);
    wd_tz_free(utc);
}

/* ---- the loader ---------------------------------------------------------- */

static enum wd_status load_status(const char *name, struct wd_error *err)
{
    struct wd_tz *tz = NULL;
    enum wd_status st = wd_tz_load(name, &tz, err);
    if (st != WD_OK)
        assert_null(tz);
    wd_tz_free(tz);
    return st;
}

static void test_tz_load_by_name(void **state)
{
    (void)state;
    struct wd_error err = {0};
    struct wd_tz *tz = NULL;

    unsetenv("TZDIR");
    assert_int_equal(wd_tz_load("America/New_York", &tz, &err), WD_OK);
    assert_int_equal(wd_tz_offset_s(tz, 1736942400), -18000);
    assert_int_equal(wd_tz_offset_s(tz, 1752580800), -14400);
    wd_tz_free(tz);

    assert_int_equal(wd_tz_load("UTC", &tz, &err), WD_OK);
    assert_int_equal(wd_tz_offset_s(tz, 1752580800), 0);
    wd_tz_free(tz);

    assert_int_equal(wd_tz_load(":Europe/London", &tz, &err), WD_OK);
    assert_int_equal(wd_tz_offset_s(tz, 1752580800), 3600);
    wd_tz_free(tz);

    /* Not a file name: a POSIX rule. */
    assert_int_equal(wd_tz_load("EST5EDT,M3.2.0,M11.1.0", &tz, &err), WD_OK);
    assert_int_equal(wd_tz_offset_s(tz, 1752580800), -14400);
    wd_tz_free(tz);

    /* File-like, but no such file: tried as a rule. */
    assert_int_equal(wd_tz_load("Foo5", &tz, &err), WD_OK);
    assert_int_equal(wd_tz_offset_s(tz, 1752580800), -18000);
    wd_tz_free(tz);

    /* $TZDIR is honoured. */
    setenv("TZDIR", "/nonexistent-zoneinfo", 1);
    assert_int_equal(load_status("America/New_York", &err), WD_ENOTFOUND);
    assert_non_null(strstr(err.msg, "/nonexistent-zoneinfo/America/New_York"));
    setenv("TZDIR", ZONEINFO, 1);
    assert_int_equal(load_status("America/New_York", &err), WD_OK);
    unsetenv("TZDIR");
}

static void test_tz_load_errors(void **state)
{
    (void)state;
    struct wd_error err = {0};

    assert_int_equal(load_status("No/Such_Zone", &err), WD_ENOTFOUND);
    assert_non_null(strstr(err.msg, "No/Such_Zone"));
    assert_int_equal(load_status("America", &err), WD_ENOTFOUND); /* a directory */
    assert_int_equal(load_status("../etc/passwd", &err), WD_EINVAL);
    assert_non_null(strstr(err.msg, "../etc/passwd"));
    assert_int_equal(load_status("America/../../../etc/passwd", &err), WD_EINVAL);
    assert_int_equal(load_status("/etc/passwd", &err), WD_EINVAL);
    assert_int_equal(load_status("", &err), WD_EINVAL);
    assert_int_equal(load_status(NULL, &err), WD_EINVAL);
    assert_int_equal(load_status("EST5EDT,M13.1.0,M11.1.0", &err), WD_EINVAL);
    assert_non_null(strstr(err.msg, "EST5EDT,M13.1.0,M11.1.0"));
    assert_non_null(strstr(err.msg, "month"));
    /* A file that is not TZif: the message names the zone and the reason. */
    assert_int_equal(load_status("iso3166.tab", &err), WD_EINVAL);
    assert_non_null(strstr(err.msg, "iso3166.tab"));
    assert_non_null(strstr(err.msg, "magic"));
    assert_int_equal(wd_tz_load("UTC", NULL, NULL), WD_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tz_ny_file_offsets_winter_summer),
        cmocka_unit_test(test_tz_ny_posix_rule_matches_file_2024_2027),
        cmocka_unit_test(test_tz_posix_default_dst_rule_is_us),
        cmocka_unit_test(test_tz_ny_day_bounds_on_dst_days),
        cmocka_unit_test(test_tz_local_day_invariants_sweep),
        cmocka_unit_test(test_tz_sao_paulo_day_without_midnight),
        cmocka_unit_test(test_tz_far_future_uses_footer),
        cmocka_unit_test(test_tz_footers_match_files),
        cmocka_unit_test(test_tz_posix_southern_and_unusual_times),
        cmocka_unit_test(test_tz_posix_offsets_and_names),
        cmocka_unit_test(test_tz_posix_julian_day_forms),
        cmocka_unit_test(test_tz_posix_invalid),
        cmocka_unit_test(test_tz_tzif_synthetic_files),
        cmocka_unit_test(test_tz_tzif_malformed),
        cmocka_unit_test(test_tz_tzif_truncated_real_file_rejected),
        cmocka_unit_test(test_tz_tzif_truncated_prefix_sweep),
        cmocka_unit_test(test_tz_tzif_corruption_sweep),
        cmocka_unit_test(test_tz_utc_and_extremes),
        cmocka_unit_test(test_tz_load_by_name),
        cmocka_unit_test(test_tz_load_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
