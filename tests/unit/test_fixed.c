/*
 * Unit tests for src/core/fixed.c (include/warden/fixed.h): parsing JSON
 * number text straight into scale-10^8 fixed point (exact values, rounding
 * half away from zero past eight decimals, the WD_FIX_INPUT_MAX bound and
 * every syntax error JSON forbids), checked multiplication, mul-div and
 * addition with their rounding and overflow statuses, and decimal
 * formatting with and without rounding. Every expectation is an exact
 * integer or string written out literally; nothing here goes through a
 * double.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "warden/fixed.h"

/* cmocka 1.1 prints integers as unsigned; this shows signed values. */
#define assert_i64(actual, expected)                                                      \
    do {                                                                                  \
        int64_t got_ = (actual), want_ = (expected);                                      \
        if (got_ != want_)                                                                \
            fail_msg("%s == %lld, expected %lld", #actual, (long long)got_,               \
                     (long long)want_);                                                   \
    } while (0)

/* Parses s, requiring success, and returns the raw scaled value. */
static wd_fix parse_ok(const char *s)
{
    wd_fix v = -777;
    enum wd_status st = wd_fix_parse(s, strlen(s), &v);
    if (st != WD_OK)
        fail_msg("\"%s\" rejected with status %d", s, (int)st);
    return v;
}

/* Parses s expecting failure; the output must be left untouched. */
static enum wd_status parse_st(const char *s)
{
    wd_fix v = -777;
    enum wd_status st = wd_fix_parse(s, strlen(s), &v);
    if (st != WD_OK && v != -777)
        fail_msg("\"%s\" failed but wrote the output", s);
    return st;
}

static const char *fmt(wd_fix v, unsigned min_decimals, char *buf)
{
    size_t n = wd_fix_format(v, min_decimals, buf, 32);
    assert_int_equal(n, strlen(buf));
    return buf;
}

static const char *fmt_round(wd_fix v, unsigned decimals, char *buf)
{
    size_t n = wd_fix_format_round(v, decimals, buf, 32);
    assert_int_equal(n, strlen(buf));
    return buf;
}

/* ---- wd_fix_parse: values ------------------------------------------------ */

static void test_fix_parse_decimal_is_exact(void **state)
{
    (void)state;
    assert_i64(parse_ok("100.07"), 10007000000LL);
    assert_i64(parse_ok("0.1"), 10000000LL);
    assert_i64(parse_ok("0.3"), 30000000LL);
    assert_i64(parse_ok("1"), 100000000LL);
    assert_i64(parse_ok("0"), 0);
    assert_i64(parse_ok("-0"), 0);
    assert_i64(parse_ok("0.0"), 0);
    assert_i64(parse_ok("0.00000001"), 1);
    assert_i64(parse_ok("12345.6789"), 1234567890000LL);
    assert_i64(parse_ok("1.10000000000000000000"), 110000000LL);
}

static void test_fix_parse_negative(void **state)
{
    (void)state;
    assert_i64(parse_ok("-0.5"), -50000000LL);
    assert_i64(parse_ok("-100.07"), -10007000000LL);
    assert_i64(parse_ok("-0.00000001"), -1);
}

static void test_fix_parse_exponent(void **state)
{
    (void)state;
    assert_i64(parse_ok("1e2"), 10000000000LL);
    assert_i64(parse_ok("1E2"), 10000000000LL);
    assert_i64(parse_ok("1e+2"), 10000000000LL);
    assert_i64(parse_ok("1.5E-3"), 150000LL);
    assert_i64(parse_ok("-2.5e1"), -2500000000LL);
    assert_i64(parse_ok("0e400"), 0);
    assert_i64(parse_ok("1e-8"), 1);
    assert_i64(parse_ok("5e-9"), 1);
    assert_i64(parse_ok("4e-9"), 0);
    assert_i64(parse_ok("1e-400"), 0);
    assert_i64(parse_ok("12345e-2"), 12345000000LL);
}

static void test_fix_parse_rounds_half_away_from_zero(void **state)
{
    (void)state;
    assert_i64(parse_ok("0.000000005"), 1);
    assert_i64(parse_ok("0.000000004"), 0);
    assert_i64(parse_ok("0.0000000049999999999"), 0);
    assert_i64(parse_ok("-0.000000005"), -1);
    assert_i64(parse_ok("-0.000000004"), 0);
    assert_i64(parse_ok("0.000000015"), 2);
    assert_i64(parse_ok("0.000000025"), 3); /* not banker's rounding */
    assert_i64(parse_ok("123456789.123456789"), 12345678912345679LL);
    assert_i64(parse_ok("123456789.123456784"), 12345678912345678LL);
    assert_i64(parse_ok("-123456789.123456785"), -12345678912345679LL);
}

static void test_fix_parse_many_digits_round_correctly(void **state)
{
    (void)state;
    /* More significant digits than the parser keeps (30): the dropped
     * ones can only push a value that is already at half further up. */
    assert_i64(parse_ok("0.00000000500000000000000000000000000000000001"), 1);
    assert_i64(parse_ok("0.00000000499999999999999999999999999999999999"), 0);
    assert_i64(parse_ok("1.00000000000000000000000000000000000000000000001"), 100000000LL);
    assert_i64(parse_ok("9999999999.99999999"), 999999999999999999LL);
}

static void test_fix_parse_input_max_boundary(void **state)
{
    (void)state;
    assert_i64(parse_ok("10000000000"), WD_FIX_INPUT_MAX);
    assert_i64(parse_ok("-10000000000"), -WD_FIX_INPUT_MAX);
    assert_i64(parse_ok("1e10"), WD_FIX_INPUT_MAX);
    assert_i64(parse_ok("10000000000.00000000"), WD_FIX_INPUT_MAX);
    /* Rounds down onto the bound: accepted. */
    assert_i64(parse_ok("10000000000.000000004"), WD_FIX_INPUT_MAX);
    /* One unit (10^-8) over, either sign. */
    assert_int_equal(parse_st("10000000000.00000001"), WD_ERANGE);
    assert_int_equal(parse_st("-10000000000.00000001"), WD_ERANGE);
    /* Rounds up past the bound. */
    assert_int_equal(parse_st("10000000000.000000005"), WD_ERANGE);
    assert_int_equal(parse_st("10000000001"), WD_ERANGE);
    assert_int_equal(parse_st("1.00000000001e10"), WD_ERANGE);
}

static void test_fix_parse_huge_values_out_of_range(void **state)
{
    (void)state;
    assert_int_equal(parse_st("1e400"), WD_ERANGE);
    assert_int_equal(parse_st("-1e400"), WD_ERANGE);
    assert_int_equal(parse_st("1e999"), WD_ERANGE);
    assert_int_equal(parse_st("1e11"), WD_ERANGE);
    assert_int_equal(parse_st("92233720368547758070"), WD_ERANGE);
    assert_int_equal(parse_st("123456789012345678901234567890123456789012345678901234567890"),
                     WD_ERANGE);
    assert_int_equal(parse_st("1e99999999999999999999"), WD_ERANGE);
}

static void test_fix_parse_syntax_errors_rejected(void **state)
{
    static const char *const bad[] = {
        "01", "-01", "00", "1.", ".5", "+1", "1e", "1e+", "1E-", "-", "", "NaN", "nan",
        "inf", "Infinity", "-inf", " 1", "1 ", "1,", "1.2.3", "1e2e3", "0x10", "1..2",
        "--1", "1-", "e5", "true", "null", "\"1\"", "1.e5", "-.5",
    };
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        enum wd_status st = parse_st(bad[i]);
        if (st != WD_EINVAL)
            fail_msg("\"%s\" gave status %d, expected WD_EINVAL", bad[i], (int)st);
    }
}

static void test_fix_parse_reads_exactly_len_bytes(void **state)
{
    wd_fix v = 0;
    (void)state;
    /* Not NUL-terminated at len: the rest of the buffer is not read. */
    assert_int_equal(wd_fix_parse("12.5xyz", 4, &v), WD_OK);
    assert_i64(v, 1250000000LL);
    assert_int_equal(wd_fix_parse("12.5", 2, &v), WD_OK);
    assert_i64(v, 1200000000LL);
    assert_int_equal(wd_fix_parse("1.", 1, &v), WD_OK);
    assert_i64(v, 100000000LL);
    assert_int_equal(wd_fix_parse("1", 0, &v), WD_EINVAL);
}

/* ---- arithmetic ----------------------------------------------------------- */

static void test_fix_mul_exact_products(void **state)
{
    wd_fix r = 0;
    (void)state;
    assert_int_equal(wd_fix_mul(parse_ok("100.07"), parse_ok("3"), &r), WD_OK);
    assert_i64(r, 30021000000LL);
    assert_int_equal(wd_fix_mul(parse_ok("1.5"), parse_ok("-2.5"), &r), WD_OK);
    assert_i64(r, -375000000LL);
    assert_int_equal(wd_fix_mul(parse_ok("-1.5"), parse_ok("-2.5"), &r), WD_OK);
    assert_i64(r, 375000000LL);
    assert_int_equal(wd_fix_mul(0, parse_ok("-2.5"), &r), WD_OK);
    assert_i64(r, 0);
}

static void test_fix_mul_rounds_half_away_from_zero(void **state)
{
    wd_fix r = 0;
    (void)state;
    /* 0.00000001 * 0.5 = 0.000000005 -> 0.00000001 */
    assert_int_equal(wd_fix_mul(1, 50000000LL, &r), WD_OK);
    assert_i64(r, 1);
    assert_int_equal(wd_fix_mul(-1, 50000000LL, &r), WD_OK);
    assert_i64(r, -1);
    assert_int_equal(wd_fix_mul(1, -50000000LL, &r), WD_OK);
    assert_i64(r, -1);
    assert_int_equal(wd_fix_mul(-1, -50000000LL, &r), WD_OK);
    assert_i64(r, 1);
    /* 0.00000001 * 0.49999999 rounds to 0 */
    assert_int_equal(wd_fix_mul(1, 49999999LL, &r), WD_OK);
    assert_i64(r, 0);
    assert_int_equal(wd_fix_mul(-1, 49999999LL, &r), WD_OK);
    assert_i64(r, 0);
    /* 0.00000003 * 0.5 = 0.000000015 -> 0.00000002 */
    assert_int_equal(wd_fix_mul(3, 50000000LL, &r), WD_OK);
    assert_i64(r, 2);
    assert_int_equal(wd_fix_mul(-3, 50000000LL, &r), WD_OK);
    assert_i64(r, -2);
}

static void test_fix_mul_overflow_is_erange(void **state)
{
    wd_fix r = 42;
    (void)state;
    assert_int_equal(wd_fix_mul(WD_FIX_INPUT_MAX, WD_FIX_INPUT_MAX, &r), WD_ERANGE);
    assert_int_equal(wd_fix_mul(INT64_MAX, 2 * WD_FIX_ONE, &r), WD_ERANGE);
    assert_int_equal(wd_fix_mul(INT64_MIN, -WD_FIX_ONE, &r), WD_ERANGE);
    assert_int_equal(wd_fix_mul(-WD_FIX_INPUT_MAX, WD_FIX_INPUT_MAX, &r), WD_ERANGE);
    assert_i64(r, 42);
    /* The extremes themselves, times one, fit. */
    assert_int_equal(wd_fix_mul(INT64_MAX, WD_FIX_ONE, &r), WD_OK);
    assert_i64(r, INT64_MAX);
    assert_int_equal(wd_fix_mul(INT64_MIN, WD_FIX_ONE, &r), WD_OK);
    assert_i64(r, INT64_MIN);
}

static void test_fix_muldiv_rounds_half_away_from_zero(void **state)
{
    int64_t r = 0;
    (void)state;
    assert_int_equal(wd_fix_muldiv(1, 1, 3, &r), WD_OK);
    assert_i64(r, 0);
    assert_int_equal(wd_fix_muldiv(2, 1, 3, &r), WD_OK);
    assert_i64(r, 1);
    assert_int_equal(wd_fix_muldiv(-2, 1, 3, &r), WD_OK);
    assert_i64(r, -1);
    assert_int_equal(wd_fix_muldiv(1, 1, 2, &r), WD_OK);
    assert_i64(r, 1);
    assert_int_equal(wd_fix_muldiv(-1, 1, 2, &r), WD_OK);
    assert_i64(r, -1);
    assert_int_equal(wd_fix_muldiv(1, -1, 2, &r), WD_OK);
    assert_i64(r, -1);
    assert_int_equal(wd_fix_muldiv(1, 1, -2, &r), WD_OK);
    assert_i64(r, -1);
    assert_int_equal(wd_fix_muldiv(-1, 1, -2, &r), WD_OK);
    assert_i64(r, 1);
    assert_int_equal(wd_fix_muldiv(-1, -1, -2, &r), WD_OK);
    assert_i64(r, -1);
    assert_int_equal(wd_fix_muldiv(5, 1, 4, &r), WD_OK); /* 1.25 */
    assert_i64(r, 1);
    assert_int_equal(wd_fix_muldiv(7, 1, 4, &r), WD_OK); /* 1.75 */
    assert_i64(r, 2);
    assert_int_equal(wd_fix_muldiv(-7, 1, 4, &r), WD_OK);
    assert_i64(r, -2);
    /* A 128-bit intermediate: (10^18 * 10^18) / 10^18 */
    assert_int_equal(
        wd_fix_muldiv(1000000000000000000LL, 1000000000000000000LL, 1000000000000000000LL, &r),
        WD_OK);
    assert_i64(r, 1000000000000000000LL);
    /* Notional 100 shares at 100.07, in fixed: qty * price / SCALE. */
    assert_int_equal(wd_fix_muldiv(parse_ok("100"), parse_ok("100.07"), WD_FIX_SCALE, &r),
                     WD_OK);
    assert_i64(r, 1000700000000LL);
}

static void test_fix_muldiv_overflow_is_erange(void **state)
{
    int64_t r = 42;
    (void)state;
    assert_int_equal(wd_fix_muldiv(INT64_MAX, INT64_MAX, 1, &r), WD_ERANGE);
    assert_int_equal(wd_fix_muldiv(INT64_MIN, -1, 1, &r), WD_ERANGE);
    assert_int_equal(wd_fix_muldiv(INT64_MIN, 1, -1, &r), WD_ERANGE);
    assert_int_equal(wd_fix_muldiv(INT64_MAX, 2, 1, &r), WD_ERANGE);
    assert_i64(r, 42);
    assert_int_equal(wd_fix_muldiv(INT64_MAX, INT64_MAX, INT64_MAX, &r), WD_OK);
    assert_i64(r, INT64_MAX);
    assert_int_equal(wd_fix_muldiv(INT64_MIN, 1, 1, &r), WD_OK);
    assert_i64(r, INT64_MIN);
}

static void test_fix_add_checks_overflow(void **state)
{
    wd_fix r = 0;
    (void)state;
    assert_int_equal(wd_fix_add(parse_ok("100.07"), parse_ok("-0.07"), &r), WD_OK);
    assert_i64(r, 10000000000LL);
    assert_int_equal(wd_fix_add(INT64_MAX, INT64_MIN, &r), WD_OK);
    assert_i64(r, -1);
    assert_int_equal(wd_fix_add(INT64_MAX - 1, 1, &r), WD_OK);
    assert_i64(r, INT64_MAX);
    assert_int_equal(wd_fix_add(INT64_MAX, 1, &r), WD_ERANGE);
    assert_int_equal(wd_fix_add(INT64_MIN, -1, &r), WD_ERANGE);
    assert_int_equal(wd_fix_add(INT64_MAX, INT64_MAX, &r), WD_ERANGE);
}

/* ---- formatting ----------------------------------------------------------- */

static void test_fix_format_trims_zeros_to_min_decimals(void **state)
{
    char b[32];
    (void)state;
    assert_string_equal(fmt(10007000000LL, 0, b), "100.07");
    assert_string_equal(fmt(10007000000LL, 2, b), "100.07");
    assert_string_equal(fmt(10007000000LL, 4, b), "100.0700");
    assert_string_equal(fmt(10000000000LL, 0, b), "100");
    assert_string_equal(fmt(10000000000LL, 2, b), "100.00");
    assert_string_equal(fmt(10000000000LL, 8, b), "100.00000000");
    assert_string_equal(fmt(150000000LL, 0, b), "1.5");
    assert_string_equal(fmt(150000000LL, 1, b), "1.5");
    assert_string_equal(fmt(1, 0, b), "0.00000001");
    assert_string_equal(fmt(123456789LL, 0, b), "1.23456789");
    assert_string_equal(fmt(123456789LL, 8, b), "1.23456789");
    /* min_decimals past 8 is clamped to 8. */
    assert_string_equal(fmt(100000000LL, 12, b), "1.00000000");
}

static void test_fix_format_zero_and_negatives(void **state)
{
    char b[32];
    (void)state;
    assert_string_equal(fmt(0, 0, b), "0");
    assert_string_equal(fmt(0, 2, b), "0.00");
    assert_string_equal(fmt(-50000000LL, 0, b), "-0.5");
    assert_string_equal(fmt(-1, 0, b), "-0.00000001");
    assert_string_equal(fmt(-10007000000LL, 3, b), "-100.070");
    assert_string_equal(fmt(-200000000LL, 0, b), "-2");
    assert_string_equal(fmt(INT64_MAX, 0, b), "92233720368.54775807");
    assert_string_equal(fmt(INT64_MIN, 0, b), "-92233720368.54775808");
}

static void test_fix_format_truncates_to_capacity(void **state)
{
    char b[8];
    (void)state;
    memset(b, 'x', sizeof b);
    assert_int_equal(wd_fix_format(10007000000LL, 2, b, 4), 3);
    assert_string_equal(b, "100");
    assert_int_equal(b[4], 'x');
    assert_int_equal(wd_fix_format(10007000000LL, 2, b, 0), 0);
    assert_int_equal(b[0], '1');
}

static void test_fix_format_round_half_away_from_zero(void **state)
{
    char b[32];
    (void)state;
    assert_string_equal(fmt_round(parse_ok("100.075"), 2, b), "100.08");
    assert_string_equal(fmt_round(parse_ok("-100.075"), 2, b), "-100.08");
    assert_string_equal(fmt_round(parse_ok("100.07499999"), 2, b), "100.07");
    assert_string_equal(fmt_round(parse_ok("100.07"), 2, b), "100.07");
    assert_string_equal(fmt_round(parse_ok("100"), 2, b), "100.00");
    assert_string_equal(fmt_round(parse_ok("0.5"), 0, b), "1");
    assert_string_equal(fmt_round(parse_ok("-0.5"), 0, b), "-1");
    assert_string_equal(fmt_round(parse_ok("0.49999999"), 0, b), "0");
    assert_string_equal(fmt_round(parse_ok("2.5"), 0, b), "3");
    assert_string_equal(fmt_round(parse_ok("9.995"), 2, b), "10.00");
    assert_string_equal(fmt_round(parse_ok("1.23456789"), 8, b), "1.23456789");
    assert_string_equal(fmt_round(parse_ok("1.5"), 8, b), "1.50000000");
    assert_string_equal(fmt_round(parse_ok("1.23456789"), 4, b), "1.2346");
    /* decimals past 8 are clamped to 8. */
    assert_string_equal(fmt_round(parse_ok("1.5"), 9, b), "1.50000000");
}

static void test_fix_format_round_never_prints_negative_zero(void **state)
{
    char b[32];
    (void)state;
    assert_string_equal(fmt_round(parse_ok("-0.004"), 2, b), "0.00");
    assert_string_equal(fmt_round(parse_ok("-0.49999999"), 0, b), "0");
    assert_string_equal(fmt_round(-1, 7, b), "0.0000000");
}

/* Rounding the largest representable values up must not overflow: the
 * result is not a wd_fix any more, but it is still a decimal string. Kept
 * last: under UBSan a signed overflow here aborts the executable. */
static void test_fix_format_round_extremes_do_not_overflow(void **state)
{
    char b[32];
    (void)state;
    assert_string_equal(fmt_round(INT64_MAX, 8, b), "92233720368.54775807");
    assert_string_equal(fmt_round(INT64_MIN, 8, b), "-92233720368.54775808");
    assert_string_equal(fmt_round(INT64_MAX, 0, b), "92233720369");
    assert_string_equal(fmt_round(INT64_MIN, 0, b), "-92233720369");
    assert_string_equal(fmt_round(INT64_MAX, 2, b), "92233720368.55");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fix_parse_decimal_is_exact),
        cmocka_unit_test(test_fix_parse_negative),
        cmocka_unit_test(test_fix_parse_exponent),
        cmocka_unit_test(test_fix_parse_rounds_half_away_from_zero),
        cmocka_unit_test(test_fix_parse_many_digits_round_correctly),
        cmocka_unit_test(test_fix_parse_input_max_boundary),
        cmocka_unit_test(test_fix_parse_huge_values_out_of_range),
        cmocka_unit_test(test_fix_parse_syntax_errors_rejected),
        cmocka_unit_test(test_fix_parse_reads_exactly_len_bytes),
        cmocka_unit_test(test_fix_mul_exact_products),
        cmocka_unit_test(test_fix_mul_rounds_half_away_from_zero),
        cmocka_unit_test(test_fix_mul_overflow_is_erange),
        cmocka_unit_test(test_fix_muldiv_rounds_half_away_from_zero),
        cmocka_unit_test(test_fix_muldiv_overflow_is_erange),
        cmocka_unit_test(test_fix_add_checks_overflow),
        cmocka_unit_test(test_fix_format_trims_zeros_to_min_decimals),
        cmocka_unit_test(test_fix_format_zero_and_negatives),
        cmocka_unit_test(test_fix_format_truncates_to_capacity),
        cmocka_unit_test(test_fix_format_round_half_away_from_zero),
        cmocka_unit_test(test_fix_format_round_never_prints_negative_zero),
        cmocka_unit_test(test_fix_format_round_extremes_do_not_overflow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
