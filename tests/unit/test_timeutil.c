/*
 * Unit tests for src/core/timeutil.c: civil dates, weekdays, RFC 3339 and
 * date parsing and formatting. Expected numbers were computed independently
 * (Python's datetime) and are written out literally.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "warden/timeutil.h"

/* cmocka 1.1 prints integers as unsigned; this shows signed values. */
#define assert_i64(actual, expected)                                                      \
    do {                                                                                  \
        int64_t got_ = (actual), want_ = (expected);                                      \
        if (got_ != want_)                                                                \
            fail_msg("%s == %lld, expected %lld", #actual, (long long)got_,               \
                     (long long)want_);                                                   \
    } while (0)

static enum wd_status parse(const char *s, int64_t *ns)
{
    return wd_time_parse_rfc3339(s, strlen(s), ns);
}

/* Parses s, requiring success, and returns the instant. */
static int64_t parse_ok(const char *s)
{
    int64_t ns = -1;
    enum wd_status st = parse(s, &ns);
    if (st != WD_OK)
        fail_msg("\"%s\" rejected with status %d", s, (int)st);
    return ns;
}

static enum wd_status parse_st(const char *s)
{
    int64_t ns = 12345;
    enum wd_status st = parse(s, &ns);
    if (st != WD_OK && ns != 12345)
        fail_msg("\"%s\" failed but wrote the output", s);
    return st;
}

static void test_days_from_civil_known_dates(void **state)
{
    (void)state;
    assert_i64(wd_days_from_civil(1970, 1, 1), 0);
    assert_i64(wd_days_from_civil(2025, 11, 16), 20408);
    assert_i64(wd_days_from_civil(2000, 1, 1), 10957);
    assert_i64(wd_days_from_civil(2000, 3, 1), 11017);
    assert_i64(wd_days_from_civil(2038, 1, 19), 24855);
    assert_i64(wd_days_from_civil(2100, 3, 1), 47541);
    assert_i64(wd_days_from_civil(9999, 12, 31), 2932896);
    assert_i64(wd_days_from_civil(1969, 12, 31), -1);
    assert_i64(wd_days_from_civil(1600, 1, 1), -135140);
    assert_i64(wd_days_from_civil(1, 1, 1), -719162);
}

static void test_civil_from_days_known_dates(void **state)
{
    int64_t y;
    unsigned m, d;
    (void)state;
    wd_civil_from_days(20408, &y, &m, &d);
    assert_i64(y, 2025);
    assert_int_equal(m, 11);
    assert_int_equal(d, 16);
    wd_civil_from_days(-1, &y, &m, &d);
    assert_i64(y, 1969);
    assert_int_equal(m, 12);
    assert_int_equal(d, 31);
    wd_civil_from_days(19782, &y, &m, &d);
    assert_i64(y, 2024);
    assert_int_equal(m, 2);
    assert_int_equal(d, 29);
    wd_civil_from_days(-135140, &y, &m, &d);
    assert_i64(y, 1600);
    assert_int_equal(m, 1);
    assert_int_equal(d, 1);
    /* Any output pointer may be NULL. */
    wd_civil_from_days(0, NULL, &m, NULL);
    assert_int_equal(m, 1);
}

static void test_civil_round_trip_sweep(void **state)
{
    (void)state;
    /* Every day from 1600 to 2400 plus a sparse sweep far out: consecutive
     * days must be consecutive dates, and each must convert back. */
    int64_t py = 0;
    unsigned pm = 0, pd = 0;
    for (int64_t days = -135140; days <= 157000; days++) {
        int64_t y;
        unsigned m, d;
        wd_civil_from_days(days, &y, &m, &d);
        assert_i64(wd_days_from_civil(y, m, d), days);
        if (days > -135140 && d != 1) {
            assert_i64(y, py);
            assert_int_equal(m, pm);
            assert_int_equal(d, pd + 1);
        }
        py = y;
        pm = m;
        pd = d;
    }
    for (int64_t days = -400000000; days <= 400000000; days += 9973) {
        int64_t y;
        unsigned m, d;
        wd_civil_from_days(days, &y, &m, &d);
        assert_i64(wd_days_from_civil(y, m, d), days);
    }
}

static void test_leap_years(void **state)
{
    (void)state;
    /* February length shows up as the gap between Feb 28 and Mar 1. */
    assert_i64(wd_days_from_civil(2024, 3, 1) - wd_days_from_civil(2024, 2, 28), 2);
    assert_i64(wd_days_from_civil(2023, 3, 1) - wd_days_from_civil(2023, 2, 28), 1);
    assert_i64(wd_days_from_civil(2000, 3, 1) - wd_days_from_civil(2000, 2, 28), 2);
    assert_i64(wd_days_from_civil(1900, 3, 1) - wd_days_from_civil(1900, 2, 28), 1);
    assert_i64(wd_days_from_civil(2100, 3, 1) - wd_days_from_civil(2100, 2, 28), 1);
    assert_i64(wd_days_from_civil(2025, 1, 1) - wd_days_from_civil(2024, 1, 1), 366);
    assert_i64(wd_days_from_civil(2026, 1, 1) - wd_days_from_civil(2025, 1, 1), 365);
    assert_i64(wd_days_from_civil(2400, 1, 1) - wd_days_from_civil(2000, 1, 1), 146097);

    int64_t days;
    assert_int_equal(wd_date_parse("2024-02-29", 10, &days), WD_OK);
    assert_i64(days, 19782);
    assert_int_equal(wd_date_parse("2000-02-29", 10, &days), WD_OK);
    assert_int_equal(wd_date_parse("2023-02-29", 10, &days), WD_EINVAL);
    assert_int_equal(wd_date_parse("1900-02-29", 10, &days), WD_EINVAL);
    assert_int_equal(wd_date_parse("2100-02-29", 10, &days), WD_EINVAL);
    assert_int_equal(parse_st("2024-02-29T00:00:00Z"), WD_OK);
    assert_int_equal(parse_st("2025-02-29T00:00:00Z"), WD_EINVAL);
}

static void test_weekday(void **state)
{
    (void)state;
    assert_int_equal(wd_weekday_from_days(0), 4);      /* 1970-01-01 Thursday */
    assert_int_equal(wd_weekday_from_days(-1), 3);     /* 1969-12-31 Wednesday */
    assert_int_equal(wd_weekday_from_days(20408), 0);  /* 2025-11-16 Sunday */
    assert_int_equal(wd_weekday_from_days(10957), 6);  /* 2000-01-01 Saturday */
    assert_int_equal(wd_weekday_from_days(47541), 1);  /* 2100-03-01 Monday */
    assert_int_equal(wd_weekday_from_days(-135140), 6); /* 1600-01-01 Saturday */
    assert_int_equal(wd_weekday_from_days(-719162), 1); /* 0001-01-01 Monday */
}

static void test_floor_div(void **state)
{
    (void)state;
    assert_i64(wd_floor_div(7, 2), 3);
    assert_i64(wd_floor_div(-7, 2), -4);
    assert_i64(wd_floor_div(-8, 2), -4);
    assert_i64(wd_floor_div(0, 5), 0);
    assert_i64(wd_floor_div(-1, WD_NS_PER_S), -1);
}

static void test_rfc3339_valid(void **state)
{
    (void)state;
    assert_i64(parse_ok("2025-11-16T14:30:00.123Z"), 1763303400123000000LL);
    assert_i64(parse_ok("2025-11-16T14:30:00Z"), 1763303400000000000LL);
    assert_i64(parse_ok("2025-11-16T09:30:00-05:00"), 1763303400000000000LL);
    assert_i64(parse_ok("2025-11-16T20:00:00+05:30"), 1763303400000000000LL);
    assert_i64(parse_ok("2025-11-17T00:00:00+09:30"), 1763303400000000000LL);
    assert_i64(parse_ok("2025-11-16t14:30:00z"), 1763303400000000000LL);
    assert_i64(parse_ok("2025-11-16 14:30:00+00:00"), 1763303400000000000LL);
    assert_i64(parse_ok("2025-11-16T14:30:00-00:00"), 1763303400000000000LL);
    assert_i64(parse_ok("1970-01-01T00:00:00Z"), 0);
    assert_i64(parse_ok("1970-01-01T00:00:00.000000001Z"), 1);
    assert_i64(parse_ok("1969-12-31T19:00:00-05:00"), 0);
    /* Fractions of any length: scaled up when short, truncated when long. */
    assert_i64(parse_ok("2025-11-16T14:30:00.1Z"), 1763303400100000000LL);
    assert_i64(parse_ok("2025-11-16T14:30:00.123456Z"), 1763303400123456000LL);
    assert_i64(parse_ok("2025-11-16T14:30:00.123456789Z"), 1763303400123456789LL);
    assert_i64(parse_ok("2025-11-16T14:30:00.1234567899999Z"), 1763303400123456789LL);
    assert_i64(parse_ok("2025-11-16T14:30:00.999999999999999999999999Z"),
               1763303400999999999LL);
    /* A leap second folds onto the last nanosecond of :59. */
    assert_i64(parse_ok("2016-12-31T23:59:60Z"), 1483228799999999999LL);
    assert_i64(parse_ok("2016-12-31T23:59:60.5Z"), 1483228799999999999LL);
    /* The last representable nanosecond. */
    assert_i64(parse_ok("2262-04-11T23:47:16.854775807Z"), INT64_MAX);
    /* len bounds the input: trailing bytes beyond it are not read. */
    int64_t ns = 0;
    assert_int_equal(wd_time_parse_rfc3339("2025-11-16T14:30:00Zjunk", 20, &ns), WD_OK);
    assert_i64(ns, 1763303400000000000LL);
}

static void test_rfc3339_invalid(void **state)
{
    (void)state;
    assert_int_equal(parse_st(""), WD_EINVAL);
    assert_int_equal(parse_st("2025-11-16"), WD_EINVAL);
    assert_int_equal(parse_st("2025-11-16T14:30:00"), WD_EINVAL);        /* no zone */
    assert_int_equal(parse_st("2025-11-16T14:30Z"), WD_EINVAL);          /* no seconds */
    assert_int_equal(parse_st("2025-11-16X14:30:00Z"), WD_EINVAL);       /* separator */
    assert_int_equal(parse_st("2025-11-16T14:30:00.Z"), WD_EINVAL);      /* empty fraction */
    assert_int_equal(parse_st("2025-11-16T14:30:00,5Z"), WD_EINVAL);     /* comma fraction */
    assert_int_equal(parse_st("2025-13-16T14:30:00Z"), WD_EINVAL);       /* month 13 */
    assert_int_equal(parse_st("2025-00-16T14:30:00Z"), WD_EINVAL);       /* month 0 */
    assert_int_equal(parse_st("2025-11-00T14:30:00Z"), WD_EINVAL);       /* day 0 */
    assert_int_equal(parse_st("2025-11-31T14:30:00Z"), WD_EINVAL);       /* Nov 31 */
    assert_int_equal(parse_st("2025-04-31T14:30:00Z"), WD_EINVAL);       /* Apr 31 */
    assert_int_equal(parse_st("2025-01-32T14:30:00Z"), WD_EINVAL);       /* Jan 32 */
    assert_int_equal(parse_st("2025-11-16T24:00:00Z"), WD_EINVAL);       /* hour 24 */
    assert_int_equal(parse_st("2025-11-16T14:60:00Z"), WD_EINVAL);       /* minute 60 */
    assert_int_equal(parse_st("2025-11-16T14:30:61Z"), WD_EINVAL);       /* second 61 */
    assert_int_equal(parse_st("2025-11-16T14:30:00+24:00"), WD_EINVAL);  /* offset hour */
    assert_int_equal(parse_st("2025-11-16T14:30:00+05:60"), WD_EINVAL);  /* offset minute */
    assert_int_equal(parse_st("2025-11-16T14:30:00+0500"), WD_EINVAL);   /* offset colon */
    assert_int_equal(parse_st("2025-11-16T14:30:00+05"), WD_EINVAL);     /* offset short */
    assert_int_equal(parse_st("2025-11-16T14:30:00ZZ"), WD_EINVAL);      /* trailing */
    assert_int_equal(parse_st("2025-11-16T14:30:00Z "), WD_EINVAL);      /* trailing space */
    assert_int_equal(parse_st(" 2025-11-16T14:30:00Z"), WD_EINVAL);      /* leading space */
    assert_int_equal(parse_st("25-11-16T14:30:00Z"), WD_EINVAL);         /* 2-digit year */
    assert_int_equal(parse_st("+2025-11-16T14:30:00Z"), WD_EINVAL);      /* signed year */
    assert_int_equal(parse_st("2025-1-16T14:30:00Z"), WD_EINVAL);        /* 1-digit month */
    assert_int_equal(parse_st("2025-11-16T4:30:00Z"), WD_EINVAL);        /* 1-digit hour */
    assert_int_equal(parse_st("2025/11/16T14:30:00Z"), WD_EINVAL);       /* slashes */
    assert_int_equal(parse_st("2025-11-16T14:30:0aZ"), WD_EINVAL);       /* letter */
    assert_int_equal(parse_st("2025-11-16T14:30:00.12a3Z"), WD_EINVAL);  /* letter in fraction */
    assert_int_equal(wd_time_parse_rfc3339("2025-11-16T14:30:00Z", 19, &(int64_t){0}),
                     WD_EINVAL); /* cut by len */
    assert_int_equal(wd_time_parse_rfc3339(NULL, 0, &(int64_t){0}), WD_EINVAL);
}

static void test_rfc3339_out_of_range(void **state)
{
    (void)state;
    assert_int_equal(parse_st("1969-12-31T23:59:59Z"), WD_ERANGE);
    assert_int_equal(parse_st("1969-12-31T23:59:59.999999999Z"), WD_ERANGE);
    assert_int_equal(parse_st("1970-01-01T00:30:00+01:00"), WD_ERANGE);
    assert_int_equal(parse_st("0000-01-01T00:00:00Z"), WD_ERANGE);
    assert_int_equal(parse_st("2262-04-11T23:47:16.854775808Z"), WD_ERANGE);
    assert_int_equal(parse_st("2262-04-11T23:47:17Z"), WD_ERANGE);
    assert_int_equal(parse_st("9999-12-31T23:59:59Z"), WD_ERANGE);
}

static void test_date_parse(void **state)
{
    int64_t days = 0;
    (void)state;
    assert_int_equal(wd_date_parse("2025-11-16", 10, &days), WD_OK);
    assert_i64(days, 20408);
    assert_int_equal(wd_date_parse("1969-12-31", 10, &days), WD_OK);
    assert_i64(days, -1);
    assert_int_equal(wd_date_parse("2025-11-16T", 11, &days), WD_EINVAL);
    assert_int_equal(wd_date_parse("2025-11-1", 9, &days), WD_EINVAL);
    assert_int_equal(wd_date_parse("2025-11-31", 10, &days), WD_EINVAL);
    assert_int_equal(wd_date_parse("2025-11-16", 9, &days), WD_EINVAL);
    assert_int_equal(wd_date_parse("", 0, &days), WD_EINVAL);
}

static void test_format_utc(void **state)
{
    char buf[32];
    (void)state;
    assert_int_equal(wd_time_format_utc(1763303400123000000LL, buf, sizeof buf), 24);
    assert_string_equal(buf, "2025-11-16T14:30:00.123Z");
    assert_int_equal(wd_time_format_utc(1763303400123999999LL, buf, sizeof buf), 24);
    assert_string_equal(buf, "2025-11-16T14:30:00.123Z"); /* truncated, not rounded */
    wd_time_format_utc(0, buf, sizeof buf);
    assert_string_equal(buf, "1970-01-01T00:00:00.000Z");
    wd_time_format_utc(-1, buf, sizeof buf);
    assert_string_equal(buf, "1969-12-31T23:59:59.999Z");
    wd_time_format_utc(INT64_MAX, buf, sizeof buf);
    assert_string_equal(buf, "2262-04-11T23:47:16.854Z");
    wd_time_format_utc(INT64_MIN, buf, sizeof buf);
    assert_string_equal(buf, "1677-09-21T00:12:43.145Z");
    /* A short buffer is truncated and still terminated. */
    char small[11];
    assert_int_equal(wd_time_format_utc(0, small, sizeof small), 10);
    assert_string_equal(small, "1970-01-01");
    assert_int_equal(wd_time_format_utc(0, small, 0), 0);
}

static void test_format_parse_round_trip(void **state)
{
    char buf[32];
    (void)state;
    for (int64_t ns = 0; ns < 4102444800000000000LL; ns += 987654321987654LL) {
        int64_t ms_ns = ns - ns % 1000000;
        size_t n = wd_time_format_utc(ns, buf, sizeof buf);
        assert_int_equal(n, 24);
        int64_t back = -1;
        assert_int_equal(wd_time_parse_rfc3339(buf, n, &back), WD_OK);
        assert_i64(back, ms_ns);
    }
}

static void test_date_format(void **state)
{
    char buf[16];
    (void)state;
    assert_int_equal(wd_date_format(20408, buf, sizeof buf), 10);
    assert_string_equal(buf, "2025-11-16");
    wd_date_format(-1, buf, sizeof buf);
    assert_string_equal(buf, "1969-12-31");
    wd_date_format(19782, buf, sizeof buf);
    assert_string_equal(buf, "2024-02-29");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_days_from_civil_known_dates),
        cmocka_unit_test(test_civil_from_days_known_dates),
        cmocka_unit_test(test_civil_round_trip_sweep),
        cmocka_unit_test(test_leap_years),
        cmocka_unit_test(test_weekday),
        cmocka_unit_test(test_floor_div),
        cmocka_unit_test(test_rfc3339_valid),
        cmocka_unit_test(test_rfc3339_invalid),
        cmocka_unit_test(test_rfc3339_out_of_range),
        cmocka_unit_test(test_date_parse),
        cmocka_unit_test(test_format_utc),
        cmocka_unit_test(test_format_parse_round_trip),
        cmocka_unit_test(test_date_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
