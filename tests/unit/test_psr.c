/*
 * Unit tests for src/core/psr.c (include/warden/psr.h): the Probabilistic
 * Sharpe Ratio of a sample of returns (mean, sample standard deviation,
 * Sharpe ratio, population skewness and raw kurtosis, PSR against a
 * benchmark), the standard normal CDF, the undefined cases (NaN), and the
 * rolling sampler that turns (ts, equity) observations into returns on a
 * fixed event-time grid.
 *
 * Every expected figure is a literal worked out by hand in the comments
 * (exact fractions and surds), with Phi(z) taken from a 40-digit reference
 * (mpmath.ncdf); the code under test is never used to produce an
 * expectation, except that the window's statistics must equal
 * wd_psr_compute() on the returns written out oldest first.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "warden/psr.h"

/* cmocka 1.1's assert_float_equal compares in float precision; this
 * compares doubles to a relative tolerance (absolute when the expected
 * value is zero) and prints both values in full. */
#define assert_close(actual, expected, tol)                                               \
    do {                                                                                  \
        double got_ = (actual), want_ = (expected), tol_ = (tol);                         \
        double err_ = fabs(got_ - want_);                                                 \
        double lim_ = want_ == 0.0 ? tol_ : tol_ * fabs(want_);                           \
        if (!(err_ <= lim_))                                                              \
            fail_msg("%s == %.17g, expected %.17g (error %.3g, allowed %.3g)", #actual,   \
                     got_, want_, err_, lim_);                                            \
    } while (0)

#define assert_nan(actual)                                                                \
    do {                                                                                  \
        double got_ = (actual);                                                           \
        if (!isnan(got_))                                                                 \
            fail_msg("%s == %.17g, expected NaN", #actual, got_);                         \
    } while (0)

/* Bitwise-equal doubles (so 0.0 is not -0.0); any NaN equals any NaN. */
#define assert_same(actual, expected)                                                     \
    do {                                                                                  \
        double got_ = (actual), want_ = (expected);                                       \
        if (!(isnan(got_) && isnan(want_)) && memcmp(&got_, &want_, sizeof got_) != 0)    \
            fail_msg("%s == %.17g, expected exactly %.17g", #actual, got_, want_);        \
    } while (0)

#define REL 1e-12

/* NAN and INFINITY are floats; clang's -Wdouble-promotion flags their use. */
#define DNAN ((double)NAN)
#define DINF ((double)INFINITY)

/* One day of event time, and an arbitrary start (2023-11-14T22:13:20Z). */
#define DAY_S 86400
#define DAY_NS (86400LL * 1000000000LL)
#define T0 1700000000000000000LL

/* The window is 32 KiB; keep it off the stack. */
static struct wd_psr_window win;

static void assert_stats_same(const struct wd_psr_stats *got, const struct wd_psr_stats *want)
{
    assert_int_equal(got->n, want->n);
    assert_same(got->mean, want->mean);
    assert_same(got->sd, want->sd);
    assert_same(got->sr, want->sr);
    assert_same(got->skew, want->skew);
    assert_same(got->kurt, want->kurt);
    assert_same(got->psr, want->psr);
}

/* The window's statistics must be exactly those of the expected returns. */
static void assert_window_holds(const double *expected, size_t n, double benchmark)
{
    struct wd_psr_stats got, want;
    wd_psr_window_stats(&win, benchmark, &got);
    wd_psr_compute(expected, n, benchmark, &want);
    assert_stats_same(&got, &want);
}

/* ---- wd_psr_compute: hand-computed figures ------------------------------ */

/*
 * r = {0.01, -0.02, 0.03, 0.00, 0.01}, n = 5. In units of 10^-3:
 *   r      = 10, -20, 30, 0, 10        sum = 30, mean = 6      -> 0.006
 *   d      = 4, -26, 24, -6, 4         (r - mean)
 *   d^2    = 16, 676, 576, 36, 16      S2 = 1320  (x 10^-6)
 *   d^3    = 64, -17576, 13824, -216, 64          S3 = -3840   (x 10^-9)
 *   d^4    = 256, 456976, 331776, 1296, 256       S4 = 790560  (x 10^-12)
 * sample variance S2/(n-1) = 330 -> sd = sqrt(330) x 10^-3 = sqrt(0.00033)
 *   = 0.018165902124584950
 * SR = 6 / sqrt(330) = sqrt(36/330) = sqrt(6/55) = 0.33028912953790818
 * population moments: m2 = 1320/5 = 264, m3 = -3840/5 = -768,
 *   m4 = 790560/5 = 158112
 * g3 = -768 / 264^1.5 = -(32/11) / sqrt(264) = -16 / (11 sqrt(66))
 *   = -0.17904216869721125
 * g4 = 158112 / 264^2 = 158112 / 69696 = 549/242 = 2.2685950413223140
 * radicand = 1 - g3 SR + (g4 - 1)/4 SR^2
 *   g3 SR = -96 / (11 sqrt(66 * 330)) = -96 / (11 * 66 sqrt(5))
 *         = -16 / (121 sqrt(5)) = -16 sqrt(5)/605
 *   (g4 - 1)/4 SR^2 = (307/968)(6/55) = 921/26620
 *   radicand = 1 + 16 sqrt(5)/605 + 921/26620 = (27541 + 704 sqrt(5)) / 26620
 *            = 1.0937337286310989
 * SR* = 0:   z = SR sqrt(4) / sqrt(radicand) = 0.63163832551951817
 *            PSR = Phi(z) = 0.73618838145517321
 * SR* = 0.1: z = (SR - 0.1) * 2 / sqrt(radicand) = 0.44040032552744658
 *            PSR = Phi(z) = 0.67017640540618905
 */
static const double five[5] = {0.01, -0.02, 0.03, 0.00, 0.01};

static void test_psr_five_returns_moments(void **state)
{
    struct wd_psr_stats st;
    (void)state;
    wd_psr_compute(five, 5, 0.0, &st);
    assert_int_equal(st.n, 5);
    assert_close(st.mean, 0.006, REL);
    assert_close(st.sd, 0.018165902124584950, REL);
    assert_close(st.sd * st.sd, 0.00033, REL);
    assert_close(st.sr, 0.33028912953790818, REL);
    assert_close(st.sr * st.sr, 6.0 / 55.0, REL);
    assert_close(st.skew, -0.17904216869721125, REL);
    assert_close(st.kurt, 549.0 / 242.0, REL);
    assert_close(st.kurt, 2.2685950413223140, REL);
}

static void test_psr_five_returns_against_zero(void **state)
{
    struct wd_psr_stats st;
    (void)state;
    wd_psr_compute(five, 5, 0.0, &st);
    assert_close(st.psr, 0.73618838145517321, REL);
}

static void test_psr_five_returns_against_benchmark(void **state)
{
    struct wd_psr_stats st;
    (void)state;
    wd_psr_compute(five, 5, 0.1, &st);
    /* The benchmark moves only the PSR. */
    assert_close(st.sr, 0.33028912953790818, REL);
    assert_close(st.psr, 0.67017640540618905, REL);
    /* A benchmark equal to SR gives z = 0: Phi(0) = 1/2 exactly. */
    wd_psr_compute(five, 5, st.sr, &st);
    assert_same(st.psr, 0.5);
}

/*
 * r = {-1/32, 0, 1/32, 1/16}: binary fractions, so every step is exact.
 * In units u = 1/64: r = -2, 0, 2, 4, mean = 1 (= 0.015625),
 * d = -3, -1, 1, 3: symmetric, so S3 = -27 - 1 + 1 + 27 = 0 and g3 = 0
 * exactly. S2 = 20, S4 = 81 + 1 + 1 + 81 = 164.
 * sd = sqrt(20/3) u = 0.040343576522993926
 * SR = 1 / sqrt(20/3) = sqrt(3/20) = sqrt(0.15) = 0.38729833462074169
 * m2 = 5, m4 = 41 -> g4 = 41/25 = 1.64
 * radicand = 1 - 0 + (0.64/4)(0.15) = 1.024
 * z = sqrt(0.15) sqrt(3) / sqrt(1.024) = sqrt(225/512) = 15 / (16 sqrt(2))
 *   = 0.66291260736238830, PSR = Phi(z) = 0.74630673660896900
 */
static void test_psr_symmetric_sample_has_zero_skew(void **state)
{
    static const double r[4] = {-0.03125, 0.0, 0.03125, 0.0625};
    struct wd_psr_stats st;
    (void)state;
    wd_psr_compute(r, 4, 0.0, &st);
    assert_int_equal(st.n, 4);
    assert_same(st.mean, 0.015625);
    assert_same(st.skew, 0.0);
    assert_close(st.sd, 0.040343576522993926, REL);
    assert_close(st.sr, 0.38729833462074169, REL);
    assert_close(st.kurt, 1.64, REL);
    assert_close(st.psr, 0.74630673660896900, REL);
}

/* Two returns: d = -h, +h, so g3 = 0, g4 = h^4 / (h^2)^2 = 1 and the
 * radicand is exactly 1. {0.0, 0.5}: mean 0.25, sd = sqrt(0.125)
 * = 0.35355339059327376, SR = 0.25 / sqrt(0.125) = 1/sqrt(2), z = SR,
 * PSR = Phi(1/sqrt(2)) = 0.76024993890652327. */
static void test_psr_two_returns_are_enough(void **state)
{
    static const double r[2] = {0.0, 0.5};
    struct wd_psr_stats st;
    (void)state;
    wd_psr_compute(r, 2, 0.0, &st);
    assert_int_equal(st.n, 2);
    assert_same(st.mean, 0.25);
    assert_close(st.sd, 0.35355339059327376, REL);
    assert_close(st.sr, 0.70710678118654752, REL);
    assert_same(st.skew, 0.0);
    assert_same(st.kurt, 1.0);
    assert_close(st.psr, 0.76024993890652327, REL);
}

/* Losing strategies get a small PSR: negating the five returns negates mean,
 * SR and g3 (g3 SR is unchanged, so is the radicand) and z, and
 * Phi(-z) = 1 - Phi(z) = 1 - 0.73618838145517321 = 0.26381161854482679. */
static void test_psr_negated_returns_mirror(void **state)
{
    double r[5];
    struct wd_psr_stats st;
    (void)state;
    for (size_t i = 0; i < 5; i++)
        r[i] = -five[i];
    wd_psr_compute(r, 5, 0.0, &st);
    assert_close(st.mean, -0.006, REL);
    assert_close(st.sr, -0.33028912953790818, REL);
    assert_close(st.skew, 0.17904216869721125, REL);
    assert_close(st.kurt, 2.2685950413223140, REL);
    assert_close(st.psr, 0.26381161854482679, REL);
}

/* ---- wd_psr_compute: undefined cases ------------------------------------ */

static void test_psr_no_returns_is_nan(void **state)
{
    struct wd_psr_stats st;
    (void)state;
    wd_psr_compute(NULL, 0, 0.0, &st);
    assert_int_equal(st.n, 0);
    assert_nan(st.mean);
    assert_nan(st.sd);
    assert_nan(st.sr);
    assert_nan(st.skew);
    assert_nan(st.kurt);
    assert_nan(st.psr);
}

static void test_psr_one_return_is_nan(void **state)
{
    static const double r[1] = {0.02};
    struct wd_psr_stats st;
    (void)state;
    wd_psr_compute(r, 1, 0.0, &st);
    assert_int_equal(st.n, 1);
    assert_same(st.mean, 0.02); /* the mean of one return is defined */
    assert_nan(st.sd);
    assert_nan(st.sr);
    assert_nan(st.skew);
    assert_nan(st.kurt);
    assert_nan(st.psr);
}

/* 0.1 is not a binary fraction: the rounded sum 0.1 + 0.1 + 0.1 divided by
 * 3 need not be 0.1, yet identical returns must have sd == 0 exactly, not
 * an ulp-sized sd and an SR of 10^15. */
static void test_psr_constant_returns_are_nan(void **state)
{
    static const double r3[3] = {0.1, 0.1, 0.1};
    static const double r7[7] = {0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01};
    static const double z4[4] = {0.0, 0.0, 0.0, 0.0};
    struct wd_psr_stats st;
    (void)state;
    wd_psr_compute(r3, 3, 0.0, &st);
    assert_same(st.mean, 0.1);
    assert_same(st.sd, 0.0);
    assert_nan(st.sr);
    assert_nan(st.skew);
    assert_nan(st.kurt);
    assert_nan(st.psr);
    wd_psr_compute(r7, 7, 0.0, &st);
    assert_same(st.mean, 0.01);
    assert_same(st.sd, 0.0);
    assert_nan(st.psr);
    wd_psr_compute(z4, 4, 0.0, &st);
    assert_same(st.sd, 0.0);
    assert_nan(st.psr);
}

/*
 * A non-positive radicand. With population moments g4 >= g3^2 + 1, so
 * 1 - g3 SR + (g4 - 1)/4 SR^2 >= (1 - g3 SR/2)^2 >= 0: zero only for a
 * two-valued sample at SR = 2/g3. Three returns L and one U (p = 1/4 at U):
 * g3 = (1 - 2p)/sqrt(p(1 - p)) = 2/sqrt(3), g4 = g3^2 + 1 = 7/3, and
 * SR = 2/g3 = sqrt(3) when U/L = (3 + 2 sqrt(3)) / (2 sqrt(3) - 1).
 * With L = 1/64 the double U = 0.040989213722373331 gives SR, g3, g4 within
 * a few ulps of sqrt(3), 2/sqrt(3), 7/3, and the rounded radicand comes out
 * at -6.7e-16 (every operation rounded once, no FMA); the next double up,
 * U = 0.040989213722373338, gives a radicand of exactly 0, where z would be
 * +inf and the PSR a spurious 1. Both are undefined.
 */
static void test_psr_nonpositive_radicand_is_nan(void **state)
{
    static const double neg[4] = {0.015625, 0.015625, 0.015625, 0.040989213722373331};
    static const double zero[4] = {0.015625, 0.015625, 0.015625, 0.040989213722373338};
    struct wd_psr_stats st;
    (void)state;
    wd_psr_compute(neg, 4, 0.0, &st);
    assert_close(st.sr, 1.7320508075688773, 1e-13);
    assert_close(st.skew, 1.1547005383792515, 1e-13);
    assert_close(st.kurt, 2.3333333333333333, 1e-13);
    assert_nan(st.psr);
    wd_psr_compute(zero, 4, 0.0, &st);
    assert_close(st.sr, 1.7320508075688773, 1e-13);
    assert_close(st.skew, 1.1547005383792515, 1e-13);
    assert_close(st.kurt, 2.3333333333333333, 1e-13);
    assert_nan(st.psr);
}

static void test_psr_nan_return_propagates(void **state)
{
    double r[3] = {0.01, 0.02, 0.0};
    struct wd_psr_stats st;
    (void)state;
    r[1] = DNAN;
    wd_psr_compute(r, 3, 0.0, &st);
    assert_nan(st.mean);
    assert_nan(st.psr);
}

/* ---- wd_psr_norm_cdf ---------------------------------------------------- */

/* Reference values: mpmath.ncdf at 40 digits. */
static void test_psr_norm_cdf_table(void **state)
{
    (void)state;
    assert_same(wd_psr_norm_cdf(0.0), 0.5);
    assert_close(wd_psr_norm_cdf(1.959963984540054), 0.975, 1e-15);
    assert_close(wd_psr_norm_cdf(-1.959963984540054), 0.025, 1e-14);
    assert_close(wd_psr_norm_cdf(-1.0), 0.15865525393145707, 1e-15);
    assert_close(wd_psr_norm_cdf(1.0), 0.84134474606854295, 1e-15);
    assert_close(wd_psr_norm_cdf(3.0), 0.99865010196836991, 1e-15);
    /* The lower tail keeps its relative accuracy (erfc, not 1 + erf). */
    assert_close(wd_psr_norm_cdf(-10.0), 7.6198530241605261e-24, 1e-13);
    assert_same(wd_psr_norm_cdf(DINF), 1.0);
    assert_same(wd_psr_norm_cdf(-DINF), 0.0);
    assert_nan(wd_psr_norm_cdf(DNAN));
}

/* ---- the rolling sampler ------------------------------------------------ */

static void test_psr_window_init_rejects_bad_arguments(void **state)
{
    (void)state;
    assert_int_equal(wd_psr_window_init(&win, 0, 60), WD_EINVAL);
    assert_int_equal(wd_psr_window_init(&win, -86400, 60), WD_EINVAL);
    assert_int_equal(wd_psr_window_init(&win, INT64_MIN, 60), WD_EINVAL);
    assert_int_equal(wd_psr_window_init(&win, DAY_S, 0), WD_EINVAL);
    assert_int_equal(wd_psr_window_init(&win, DAY_S, 1), WD_EINVAL);
    assert_int_equal(wd_psr_window_init(&win, DAY_S, WD_PSR_MAX_WINDOW + 1), WD_EINVAL);
    assert_int_equal(wd_psr_window_init(&win, DAY_S, UINT32_MAX), WD_EINVAL);
    /* interval_s * 10^9 must fit in int64: INT64_MAX / 10^9 = 9223372036. */
    assert_int_equal(wd_psr_window_init(&win, 9223372037LL, 60), WD_ERANGE);
    assert_int_equal(wd_psr_window_init(&win, INT64_MAX, 60), WD_ERANGE);

    assert_int_equal(wd_psr_window_init(&win, 9223372036LL, 60), WD_OK);
    assert_true(win.interval_ns == 9223372036000000000LL);
    assert_int_equal(wd_psr_window_init(&win, 1, 2), WD_OK);
    assert_int_equal(wd_psr_window_init(&win, DAY_S, WD_PSR_MAX_WINDOW), WD_OK);
    assert_true(win.interval_ns == DAY_NS);
    assert_int_equal(win.window, WD_PSR_MAX_WINDOW);
    assert_int_equal(win.count, 0);
    assert_false(win.has_last);
}

/*
 * Equity 64 -> 80 -> 60 -> 90 -> 45 sampled daily: the ratios 1.25, 0.75,
 * 1.5, 0.5 are exact in binary, so the returns are exactly 0.25, -0.25,
 * 0.5, -0.5. Observations between grid points change the equity but take
 * no sample; the first observation at or after the grid point does.
 */
static void test_psr_window_samples_on_daily_grid(void **state)
{
    static const double want[4] = {0.25, -0.25, 0.5, -0.5};
    struct wd_psr_stats st;
    (void)state;
    assert_int_equal(wd_psr_window_init(&win, DAY_S, 60), WD_OK);

    assert_false(wd_psr_window_observe(&win, T0, 64.0)); /* first sample */
    assert_true(win.has_last);
    assert_true(win.next_sample_ns == T0 + DAY_NS);
    assert_false(wd_psr_window_observe(&win, T0 + 3600LL * 1000000000LL, 1000.0));
    assert_false(wd_psr_window_observe(&win, T0 + DAY_NS - 1, 2000.0));
    assert_int_equal(win.count, 0);

    /* Exactly on the grid point: 80 / 64 - 1 = 0.25. */
    assert_true(wd_psr_window_observe(&win, T0 + DAY_NS, 80.0));
    assert_true(win.next_sample_ns == T0 + 2 * DAY_NS);
    assert_int_equal(win.count, 1);
    wd_psr_window_stats(&win, 0.0, &st);
    assert_int_equal(st.n, 1);
    assert_same(st.mean, 0.25);
    assert_nan(st.psr);

    /* The same instant again, and one just after: no new sample. */
    assert_false(wd_psr_window_observe(&win, T0 + DAY_NS, 81.0));
    assert_false(wd_psr_window_observe(&win, T0 + DAY_NS + 1, 82.0));

    /* Late within day 2: that observation is the sample, 60 / 80 - 1. */
    assert_true(wd_psr_window_observe(&win, T0 + 2 * DAY_NS + 5, 60.0));
    assert_true(win.next_sample_ns == T0 + 3 * DAY_NS);
    assert_true(wd_psr_window_observe(&win, T0 + 3 * DAY_NS, 90.0));
    assert_true(wd_psr_window_observe(&win, T0 + 4 * DAY_NS + DAY_NS / 2, 45.0));
    assert_true(win.next_sample_ns == T0 + 5 * DAY_NS);
    assert_int_equal(win.count, 4);
    assert_window_holds(want, 4, 0.0);

    /* Their statistics, by hand: mean 0, so SR = 0 and z = 0 for SR* = 0;
     * S2 = 0.0625 + 0.0625 + 0.25 + 0.25 = 0.625, sd = sqrt(0.625 / 3)
     * = 0.45643546458763842; PSR = Phi(0) = 0.5. */
    wd_psr_window_stats(&win, 0.0, &st);
    assert_int_equal(st.n, 4);
    assert_same(st.mean, 0.0);
    assert_close(st.sd, 0.45643546458763842, REL);
    assert_same(st.sr, 0.0);
    assert_same(st.psr, 0.5);
}

/* A gap of several intervals yields ONE return, and the grid stays
 * anchored at the first observation: the next sample is due at the first
 * grid point strictly after the late observation. */
static void test_psr_window_skipped_days_give_one_return(void **state)
{
    static const double want[2] = {0.25, 0.5};
    (void)state;
    assert_int_equal(wd_psr_window_init(&win, DAY_S, 60), WD_OK);
    assert_false(wd_psr_window_observe(&win, T0, 64.0));
    /* 3.5 days later: grid points T0+1d, +2d, +3d were all missed. */
    assert_true(wd_psr_window_observe(&win, T0 + 3 * DAY_NS + DAY_NS / 2, 80.0));
    assert_int_equal(win.count, 1);
    assert_true(win.next_sample_ns == T0 + 4 * DAY_NS);
    assert_false(wd_psr_window_observe(&win, T0 + 4 * DAY_NS - 1, 100.0));
    assert_true(wd_psr_window_observe(&win, T0 + 4 * DAY_NS, 120.0)); /* 120/80 */
    assert_int_equal(win.count, 2);
    assert_window_holds(want, 2, 0.0);

    /* Exactly on a later grid point: T0 + 10d, one return, next T0 + 11d. */
    assert_true(wd_psr_window_observe(&win, T0 + 10 * DAY_NS, 60.0)); /* 60/120 */
    assert_true(win.next_sample_ns == T0 + 11 * DAY_NS);
    assert_int_equal(win.count, 3);
}

/* Equity alternately x1.5 and x2, both exact in binary: 64, 96, 192, 288,
 * 576, 864, 1728 gives returns 0.5, 1, 0.5, 1, 0.5, 1. A window of 3 keeps
 * the last three, oldest first: after k returns it holds rets[k-3 .. k). */
static void test_psr_window_evicts_oldest(void **state)
{
    static const double eq[7] = {64.0, 96.0, 192.0, 288.0, 576.0, 864.0, 1728.0};
    static const double rets[6] = {0.5, 1.0, 0.5, 1.0, 0.5, 1.0};
    (void)state;
    assert_int_equal(wd_psr_window_init(&win, DAY_S, 3), WD_OK);
    assert_false(wd_psr_window_observe(&win, T0, eq[0]));
    for (int k = 1; k < 7; k++) {
        assert_true(wd_psr_window_observe(&win, T0 + k * DAY_NS, eq[k]));
        size_t have = k < 3 ? (size_t)k : 3;
        assert_int_equal(win.count, have);
        assert_window_holds(rets + (size_t)k - have, have, 0.0);
    }
}

/* Eviction order over a full maximum window that wraps several times,
 * with returns that all differ (so any misordering changes the bits of
 * the sums). Equity follows e_k = e_{k-1} * (1 + x_k) and the expected
 * returns are recomputed the same way, with the same rounding. */
static void test_psr_window_max_window_wraps_in_order(void **state)
{
    enum { N = 3 * WD_PSR_MAX_WINDOW + 17 };
    static double rets[N];
    double eq = 1000.0;
    (void)state;
    assert_int_equal(wd_psr_window_init(&win, 60, WD_PSR_MAX_WINDOW), WD_OK);
    assert_false(wd_psr_window_observe(&win, T0, eq));
    for (int k = 0; k < N; k++) {
        /* A deterministic wiggle in (-0.02, 0.02). */
        double x = 0.02 * sin((double)k * 0.7) * (1.0 - (double)(k % 7) / 10.0);
        double next = eq * (1.0 + x);
        rets[k] = next / eq - 1.0;
        eq = next;
        assert_true(wd_psr_window_observe(&win, T0 + (int64_t)(k + 1) * 60000000000LL, eq));
    }
    assert_int_equal(win.count, WD_PSR_MAX_WINDOW);
    assert_window_holds(rets + N - WD_PSR_MAX_WINDOW, WD_PSR_MAX_WINDOW, 0.0);
    assert_window_holds(rets + N - WD_PSR_MAX_WINDOW, WD_PSR_MAX_WINDOW, 0.05);
}

/* A sample with equity <= 0 yields no return, and becomes the last
 * sample, so the next sample (whose previous is <= 0) yields none either;
 * the one after that is measured from a positive equity again. */
static void test_psr_window_nonpositive_equity(void **state)
{
    static const double want[3] = {0.25, 0.5, -0.5};
    (void)state;
    assert_int_equal(wd_psr_window_init(&win, DAY_S, 60), WD_OK);
    assert_false(wd_psr_window_observe(&win, T0, 64.0));
    assert_true(wd_psr_window_observe(&win, T0 + 1 * DAY_NS, 80.0));   /* 0.25 */
    assert_false(wd_psr_window_observe(&win, T0 + 2 * DAY_NS, 0.0));   /* e <= 0 */
    assert_true(win.last_equity == 0.0);
    assert_true(win.next_sample_ns == T0 + 3 * DAY_NS); /* the grid moved on */
    assert_false(wd_psr_window_observe(&win, T0 + 3 * DAY_NS, 32.0));  /* prev 0 */
    assert_true(wd_psr_window_observe(&win, T0 + 4 * DAY_NS, 48.0));   /* 0.5 */
    assert_false(wd_psr_window_observe(&win, T0 + 5 * DAY_NS, -10.0)); /* e < 0 */
    assert_false(wd_psr_window_observe(&win, T0 + 6 * DAY_NS, 10.0));  /* prev < 0 */
    assert_true(wd_psr_window_observe(&win, T0 + 7 * DAY_NS, 5.0));    /* -0.5 */
    /* Not a number is no equity either. */
    assert_false(wd_psr_window_observe(&win, T0 + 8 * DAY_NS, DNAN));
    assert_false(wd_psr_window_observe(&win, T0 + 9 * DAY_NS, 5.0));
    assert_false(wd_psr_window_observe(&win, T0 + 10 * DAY_NS, DINF));
    assert_int_equal(win.count, 3);
    assert_window_holds(want, 3, 0.0);
}

/* A first observation with equity <= 0 still starts the grid. */
static void test_psr_window_first_sample_nonpositive(void **state)
{
    static const double want[1] = {-0.75};
    (void)state;
    assert_int_equal(wd_psr_window_init(&win, DAY_S, 2), WD_OK);
    assert_false(wd_psr_window_observe(&win, T0, -5.0));
    assert_true(win.next_sample_ns == T0 + DAY_NS);
    assert_false(wd_psr_window_observe(&win, T0 + DAY_NS, 64.0));
    assert_true(wd_psr_window_observe(&win, T0 + 2 * DAY_NS, 16.0)); /* 16/64 - 1 */
    assert_window_holds(want, 1, 0.0);
}

/* Out-of-order (earlier) observations take no sample. */
static void test_psr_window_ignores_earlier_timestamps(void **state)
{
    (void)state;
    assert_int_equal(wd_psr_window_init(&win, DAY_S, 60), WD_OK);
    assert_false(wd_psr_window_observe(&win, T0, 64.0));
    assert_false(wd_psr_window_observe(&win, T0 - DAY_NS, 80.0));
    assert_true(win.next_sample_ns == T0 + DAY_NS);
    assert_true(win.last_equity == 64.0);
}

/* The grid arithmetic must not overflow at either end of the int64 time
 * line (the sanitizer build turns an overflow into a failure). */
static void test_psr_window_grid_at_int64_limits(void **state)
{
    (void)state;
    assert_int_equal(wd_psr_window_init(&win, DAY_S, 60), WD_OK);
    assert_false(wd_psr_window_observe(&win, INT64_MIN, 64.0));
    assert_true(win.next_sample_ns == INT64_MIN + DAY_NS);
    /* Across the whole line in one step: the next grid point is past
     * INT64_MAX, so it saturates there. */
    assert_true(wd_psr_window_observe(&win, INT64_MAX - 1, 80.0));
    assert_true(win.next_sample_ns == INT64_MAX);
    assert_false(wd_psr_window_observe(&win, INT64_MAX - 1, 96.0));

    /* The largest interval from just below zero. */
    assert_int_equal(wd_psr_window_init(&win, 9223372036LL, 2), WD_OK);
    assert_false(wd_psr_window_observe(&win, -1, 64.0));
    assert_true(win.next_sample_ns == 9223372036000000000LL - 1);
    assert_true(wd_psr_window_observe(&win, 9223372036000000000LL - 1, 80.0));
    assert_true(win.next_sample_ns == INT64_MAX); /* -1 + 2 * interval > INT64_MAX */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_psr_five_returns_moments),
        cmocka_unit_test(test_psr_five_returns_against_zero),
        cmocka_unit_test(test_psr_five_returns_against_benchmark),
        cmocka_unit_test(test_psr_symmetric_sample_has_zero_skew),
        cmocka_unit_test(test_psr_two_returns_are_enough),
        cmocka_unit_test(test_psr_negated_returns_mirror),
        cmocka_unit_test(test_psr_no_returns_is_nan),
        cmocka_unit_test(test_psr_one_return_is_nan),
        cmocka_unit_test(test_psr_constant_returns_are_nan),
        cmocka_unit_test(test_psr_nonpositive_radicand_is_nan),
        cmocka_unit_test(test_psr_nan_return_propagates),
        cmocka_unit_test(test_psr_norm_cdf_table),
        cmocka_unit_test(test_psr_window_init_rejects_bad_arguments),
        cmocka_unit_test(test_psr_window_samples_on_daily_grid),
        cmocka_unit_test(test_psr_window_skipped_days_give_one_return),
        cmocka_unit_test(test_psr_window_evicts_oldest),
        cmocka_unit_test(test_psr_window_max_window_wraps_in_order),
        cmocka_unit_test(test_psr_window_nonpositive_equity),
        cmocka_unit_test(test_psr_window_first_sample_nonpositive),
        cmocka_unit_test(test_psr_window_ignores_earlier_timestamps),
        cmocka_unit_test(test_psr_window_grid_at_int64_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
