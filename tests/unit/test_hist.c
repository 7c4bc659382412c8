/*
 * Unit tests for src/core/hist.c (include/warden/hist.h): the log-linear
 * latency histogram (bucket edges, exact small cases, clamping, record and
 * remove as exact inverses, merge, nearest-rank quantiles) and the sliding
 * event-time window (samples leave exactly when older than the window,
 * ring overflow evicts the oldest, late and out-of-range samples).
 *
 * Bucket values in the tables are worked out by hand in the comments. The
 * random tests compare against the exact nearest-rank quantile of the
 * sorted values, computed with integer arithmetic, on seeded data
 * (splitmix64; no rand()).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "warden/hist.h"

#define MS 1000000LL
#define SEC 1000000000LL
#define HOUR (3600LL * SEC)

/* cmocka 1.1's float asserts compare in float precision; this compares
 * doubles, with a message that prints both in full. */
#define assert_double_le(actual, limit)                                                   \
    do {                                                                                  \
        double got_ = (actual), lim_ = (limit);                                           \
        if (!(got_ <= lim_))                                                              \
            fail_msg("%s == %.17g, expected <= %.17g", #actual, got_, lim_);              \
    } while (0)

/* The quantile of h at q, which must succeed. */
static int64_t quantile(const struct wd_hist *h, double q)
{
    int64_t v = -1;
    assert_int_equal(wd_hist_quantile(h, q, &v), WD_OK);
    return v;
}

static void record(struct wd_hist *h, int64_t v)
{
    assert_int_equal(wd_hist_record(h, v), WD_OK);
}

/* Histograms must be bitwise equal: counters, group sums and totals. */
static void assert_hist_same(const struct wd_hist *a, const struct wd_hist *b)
{
    assert_int_equal(a->total, b->total);
    assert_int_equal(a->clamped, b->clamped);
    assert_memory_equal(a->groups, b->groups, sizeof a->groups);
    assert_memory_equal(a->counts, b->counts, WD_HIST_BUCKETS * sizeof *a->counts);
}

/* ---- seeded randomness ---------------------------------------------------- */

struct rng {
    uint64_t s;
};

static uint64_t rng_next(struct rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Uniform in (0, 1]: never 0, so log() and pow() stay finite. */
static double rng_unit(struct rng *r)
{
    return (double)((rng_next(r) >> 11) + 1u) * 0x1p-53;
}

/* Uniform integer in [lo, hi]; the modulo bias (< 2^-32 here) is harmless. */
static int64_t rng_range(struct rng *r, int64_t lo, int64_t hi)
{
    return lo + (int64_t)(rng_next(r) % (uint64_t)(hi - lo + 1));
}

/* Standard normal (Box-Muller, one of the pair). */
static double rng_normal(struct rng *r)
{
    double u1 = rng_unit(r), u2 = rng_unit(r);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

/* A double of nanoseconds as a value in [1 ns, 1 hour]. */
static int64_t to_ns(double x)
{
    if (!(x >= 1.0)) {
        return 1;
    }
    if (x >= (double)HOUR) {
        return HOUR;
    }
    return (int64_t)x;
}

enum dist { UNIFORM, LOGNORMAL, BIMODAL, HEAVY_TAIL, SMALL_TIES, NDIST };
static const char *const dist_name[NDIST] = {"uniform 1 ms..2 s", "log-normal",
                                             "bimodal 50 ms / 1.5 s", "heavy tail (Pareto)",
                                             "small values with ties"};

static int64_t draw(struct rng *r, enum dist d)
{
    switch (d) {
    case UNIFORM:
        return rng_range(r, 1 * MS, 2 * SEC);
    case LOGNORMAL: /* median 50 ms, sigma 1: p95 ~ 260 ms, p99 ~ 510 ms */
        return to_ns(50.0 * (double)MS * exp(1.0 * rng_normal(r)));
    case BIMODAL: /* 90% around 50 ms, 10% around 1.5 s: p95 sits in the slow mode */
        if (rng_next(r) % 10u != 0u) {
            return to_ns(50.0 * (double)MS + 5.0 * (double)MS * rng_normal(r));
        }
        return to_ns(1.5 * (double)SEC + 100.0 * (double)MS * rng_normal(r));
    case HEAVY_TAIL: /* Pareto, x_m = 1 ms, alpha = 1.1, capped at 1 hour */
        return to_ns((double)MS * pow(rng_unit(r), -1.0 / 1.1));
    case SMALL_TIES: /* 0..2000 ns: the exact region, its edge and many ties */
        return rng_range(r, 0, 2000);
    case NDIST:
        break;
    }
    fail();
    return 0;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The exact nearest-rank quantile q = per_mille / 1000 of sorted v[0..n):
 * the ceil(q n)-th smallest (at least the first), in integers. */
static int64_t exact_quantile(const int64_t *sorted, size_t n, unsigned per_mille)
{
    size_t rank = ((size_t)per_mille * n + 999u) / 1000u;
    return sorted[rank == 0 ? 0 : rank - 1];
}

/* ---- buckets ----------------------------------------------------------------- */

/*
 * Highest value of each value's bucket. Below 512 every value is its own
 * bucket. From 2^e up (e >= 9) the width is 2^(e-8), and the bucket of v
 * is [m 2^s, (m + 1) 2^s - 1] with s = e - 8 and m = floor(v / 2^s):
 *   512 .. 1023: s = 1: 512 -> [512, 513], 514 -> [514, 515], 1023 -> [1022, 1023]
 *   1024: s = 2 -> [1024, 1027]
 *   10^6: 2^19 <= v < 2^20, s = 11, m = floor(10^6 / 2048) = 488,
 *         upper = 489 * 2048 - 1 = 1001471
 *   10^9: 2^29 <= v < 2^30, s = 21, m = floor(10^9 / 2097152) = 476,
 *         upper = 477 * 2097152 - 1 = 1000341503
 *   2^41 - 1: s = 32, m = 511, upper = 512 * 2^32 - 1 = 2^41 - 1
 *   2^41: s = 33, m = 256, upper = 257 * 2^33 - 1 = 2207613190143
 *   1 hour = 3.6e12: s = 33, m = floor(3.6e12 / 8589934592) = 419,
 *         upper = 420 * 8589934592 - 1 = 3607772528639
 *   2^42 - 1 = WD_HIST_MAX_NS: s = 33, m = 511, upper = itself; above: clamped.
 */
static void test_hist_bucket_upper_table(void **state)
{
    static const struct {
        int64_t v, upper;
    } t[] = {
        {0, 0},
        {1, 1},
        {255, 255},
        {256, 256},
        {511, 511},
        {512, 513},
        {513, 513},
        {514, 515},
        {1023, 1023},
        {1024, 1027},
        {1027, 1027},
        {1028, 1031},
        {1000000, 1001471},
        {999424, 1001471},   /* 488 * 2048: the bucket's lower edge */
        {999423, 999423},    /* 488 * 2048 - 1: the previous bucket's upper edge */
        {1001472, 1003519},  /* 489 * 2048: the next bucket */
        {1000000000, 1000341503},
        {(INT64_C(1) << 41) - 1, (INT64_C(1) << 41) - 1},
        {INT64_C(1) << 41, 2207613190143},
        {HOUR, 3607772528639},
        {WD_HIST_MAX_NS, WD_HIST_MAX_NS},
        {WD_HIST_MAX_NS + 1, WD_HIST_MAX_NS},
        {INT64_MAX, WD_HIST_MAX_NS},
        {-1, 0},
        {INT64_MIN, 0},
    };
    (void)state;
    assert_int_equal(WD_HIST_MAX_NS, 4398046511103);
    assert_int_equal(WD_HIST_BUCKETS, 8960);
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        if (wd_hist_upper_ns(t[i].v) != t[i].upper) {
            fail_msg("wd_hist_upper_ns(%lld) == %lld, expected %lld", (long long)t[i].v,
                     (long long)wd_hist_upper_ns(t[i].v), (long long)t[i].upper);
        }
    }
}

/* Every bucket edge from 0 to WD_HIST_MAX_NS: the upper edge of a bucket
 * maps to itself, the next value starts a new bucket, each bucket is at
 * most 1/256 of its lower edge wide, and the buckets number exactly
 * WD_HIST_BUCKETS. */
static void test_hist_bucket_edges_are_contiguous(void **state)
{
    (void)state;
    int64_t lo = 0;
    uint32_t buckets = 0;
    for (;;) {
        int64_t up = wd_hist_upper_ns(lo);
        buckets++;
        assert_true(up >= lo);
        assert_int_equal(wd_hist_upper_ns(up), up);
        if (lo < 512) {
            assert_int_equal(up, lo); /* exact */
        } else {
            assert_true((up - lo + 1) * 256 <= lo); /* width <= lower / 256 */
        }
        if (up == WD_HIST_MAX_NS) {
            break;
        }
        assert_true(wd_hist_upper_ns(up + 1) > up);
        lo = up + 1;
    }
    assert_int_equal(buckets, WD_HIST_BUCKETS);
}

/* ---- exact small cases ----------------------------------------------------- */

static void test_hist_empty_has_no_quantile(void **state)
{
    struct wd_hist h;
    int64_t v = 42;
    (void)state;
    assert_int_equal(wd_hist_init(&h), WD_OK);
    assert_int_equal(wd_hist_count(&h), 0);
    assert_int_equal(wd_hist_quantile(&h, 0.5, &v), WD_ESTATE);
    assert_int_equal(v, 42);
    record(&h, 7);
    assert_int_equal(wd_hist_quantile(&h, -0.01, &v), WD_EINVAL);
    assert_int_equal(wd_hist_quantile(&h, 1.01, &v), WD_EINVAL);
    assert_int_equal(wd_hist_quantile(&h, (double)NAN, &v), WD_EINVAL);
    assert_int_equal(wd_hist_quantile(&h, (double)INFINITY, &v), WD_EINVAL);
    assert_int_equal(v, 42);
    wd_hist_destroy(&h);
    wd_hist_destroy(&h); /* zeroed: safe again */
}

static void test_hist_single_value(void **state)
{
    static const double qs[] = {0.0, 0.001, 0.5, 0.95, 0.99, 1.0};
    static const struct {
        int64_t v, reported;
    } t[] = {{0, 0}, {1, 1}, {300, 300}, {1000000, 1001471}, {1000000000, 1000341503}};
    struct wd_hist h;
    (void)state;
    assert_int_equal(wd_hist_init(&h), WD_OK);
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        wd_hist_reset(&h);
        record(&h, t[i].v);
        assert_int_equal(wd_hist_count(&h), 1);
        for (size_t k = 0; k < sizeof qs / sizeof qs[0]; k++) {
            assert_int_equal(quantile(&h, qs[k]), t[i].reported);
        }
    }
    wd_hist_destroy(&h);
}

/* 1000 copies of 1 s: every quantile is the bucket's upper edge,
 * 1000341503 ns (see the table), 0.034% above. */
static void test_hist_all_equal(void **state)
{
    struct wd_hist h;
    (void)state;
    assert_int_equal(wd_hist_init(&h), WD_OK);
    for (int i = 0; i < 1000; i++) {
        record(&h, SEC);
    }
    assert_int_equal(wd_hist_count(&h), 1000);
    assert_int_equal(quantile(&h, 0.0), 1000341503);
    assert_int_equal(quantile(&h, 0.5), 1000341503);
    assert_int_equal(quantile(&h, 0.95), 1000341503);
    assert_int_equal(quantile(&h, 1.0), 1000341503);
    wd_hist_destroy(&h);
}

/* Two values, nearest rank: ceil(2q) is 1 for q <= 0.5 and 2 above. */
static void test_hist_two_values(void **state)
{
    struct wd_hist h;
    (void)state;
    assert_int_equal(wd_hist_init(&h), WD_OK);
    record(&h, 300);
    record(&h, 100);
    assert_int_equal(quantile(&h, 0.0), 100);
    assert_int_equal(quantile(&h, 0.5), 100);
    assert_int_equal(quantile(&h, 0.5000001), 300);
    assert_int_equal(quantile(&h, 0.95), 300);
    assert_int_equal(quantile(&h, 1.0), 300);

    /* Across the first group edge (255 is group 0, 256 group 1). */
    wd_hist_reset(&h);
    record(&h, 256);
    record(&h, 255);
    assert_int_equal(quantile(&h, 0.5), 255);
    assert_int_equal(quantile(&h, 0.51), 256);

    /* 1 s and 1.5 s: 1.5e9 has s = 22, m = floor(1.5e9 / 4194304) = 357,
     * upper = 358 * 4194304 - 1 = 1501560831. */
    wd_hist_reset(&h);
    record(&h, SEC);
    record(&h, 1500 * MS);
    assert_int_equal(quantile(&h, 0.5), 1000341503);
    assert_int_equal(quantile(&h, 0.95), 1501560831);
    wd_hist_destroy(&h);
}

/* 1..100: in the exact region, so quantile q is exactly ceil(100 q). A q
 * of 0.95 or 0.07 is not exactly representable (0.07 * 100 evaluates to
 * 7.000000000000001), and must still give rank 95 and 7. */
static void test_hist_quantile_ranks(void **state)
{
    struct wd_hist h;
    (void)state;
    assert_int_equal(wd_hist_init(&h), WD_OK);
    for (int64_t v = 100; v >= 1; v--) {
        record(&h, v);
    }
    assert_int_equal(quantile(&h, 0.0), 1);
    assert_int_equal(quantile(&h, 0.001), 1);
    assert_int_equal(quantile(&h, 0.01), 1);
    assert_int_equal(quantile(&h, 0.07), 7);
    assert_int_equal(quantile(&h, 0.5), 50);
    assert_int_equal(quantile(&h, 0.501), 51);
    assert_int_equal(quantile(&h, 0.95), 95);
    assert_int_equal(quantile(&h, 0.9501), 96);
    assert_int_equal(quantile(&h, 0.99), 99);
    assert_int_equal(quantile(&h, 0.999), 100);
    assert_int_equal(quantile(&h, 1.0), 100);

    /* 1000 values: p95 is rank 950, p99.9 rank 999. */
    wd_hist_reset(&h);
    for (int64_t v = 1; v <= 1000; v++) {
        record(&h, v);
    }
    assert_int_equal(quantile(&h, 0.95), 951);  /* 950 -> [950, 951] */
    assert_int_equal(quantile(&h, 0.999), 999); /* 999 -> [998, 999] */
    assert_int_equal(quantile(&h, 0.3), 300);   /* exact region */
    wd_hist_destroy(&h);
}

/* Values at bucket edges: the lower and upper edge of one bucket report
 * the same upper edge; the next value reports the next bucket. */
static void test_hist_quantiles_at_bucket_edges(void **state)
{
    struct wd_hist h;
    (void)state;
    assert_int_equal(wd_hist_init(&h), WD_OK);
    record(&h, 511);
    record(&h, 512);
    record(&h, 513);
    record(&h, 514);
    assert_int_equal(quantile(&h, 0.25), 511);
    assert_int_equal(quantile(&h, 0.5), 513);
    assert_int_equal(quantile(&h, 0.75), 513);
    assert_int_equal(quantile(&h, 1.0), 515);

    /* 999423 | 999424 .. 1001471 | 1001472 */
    wd_hist_reset(&h);
    record(&h, 999423);
    record(&h, 999424);
    record(&h, 1001471);
    record(&h, 1001472);
    assert_int_equal(quantile(&h, 0.25), 999423);
    assert_int_equal(quantile(&h, 0.5), 1001471);
    assert_int_equal(quantile(&h, 0.75), 1001471);
    assert_int_equal(quantile(&h, 1.0), 1003519);
    wd_hist_destroy(&h);
}

/* Above WD_HIST_MAX_NS values count in the top bucket and in `clamped`; a
 * quantile landing on them reports WD_HIST_MAX_NS. One hour is not
 * clamped. Negative values are refused and change nothing. */
static void test_hist_clamps_huge_values(void **state)
{
    struct wd_hist h;
    (void)state;
    assert_int_equal(wd_hist_init(&h), WD_OK);
    record(&h, HOUR);
    assert_int_equal(wd_hist_clamped(&h), 0);
    assert_int_equal(quantile(&h, 1.0), 3607772528639);
    record(&h, WD_HIST_MAX_NS);
    assert_int_equal(wd_hist_clamped(&h), 0);
    record(&h, WD_HIST_MAX_NS + 1);
    record(&h, INT64_MAX);
    assert_int_equal(wd_hist_clamped(&h), 2);
    assert_int_equal(wd_hist_count(&h), 4);
    assert_int_equal(h.counts[WD_HIST_BUCKETS - 1], 3);
    assert_int_equal(quantile(&h, 0.25), 3607772528639);
    assert_int_equal(quantile(&h, 0.5), WD_HIST_MAX_NS);
    assert_int_equal(quantile(&h, 1.0), WD_HIST_MAX_NS);

    assert_int_equal(wd_hist_record(&h, -1), WD_ERANGE);
    assert_int_equal(wd_hist_record(&h, INT64_MIN), WD_ERANGE);
    assert_int_equal(wd_hist_count(&h), 4);
    assert_int_equal(wd_hist_clamped(&h), 2);
    wd_hist_destroy(&h);
}

/* ---- record / remove, reset, merge ----------------------------------------- */

static void test_hist_remove_is_inverse_of_record(void **state)
{
    struct wd_hist h, before;
    struct rng r = {20240601u};
    int64_t extra[500];
    (void)state;
    assert_int_equal(wd_hist_init(&h), WD_OK);
    assert_int_equal(wd_hist_init(&before), WD_OK);
    for (int i = 0; i < 2000; i++) {
        int64_t v = draw(&r, (enum dist)(i % (int)NDIST));
        record(&h, v);
        record(&before, v);
    }
    record(&h, INT64_MAX); /* one clamped value too */
    record(&before, INT64_MAX);
    for (size_t i = 0; i < 500; i++) {
        extra[i] = i % 50 == 0 ? WD_HIST_MAX_NS + (int64_t)i : draw(&r, (enum dist)(i % NDIST));
        record(&h, extra[i]);
    }
    assert_int_equal(wd_hist_count(&h), 2501);
    /* Remove in a different order from the recording. */
    for (size_t i = 500; i-- > 0;) {
        assert_int_equal(wd_hist_remove(&h, extra[i]), WD_OK);
    }
    assert_hist_same(&h, &before);

    /* Record then remove leaves no trace, even across the top bucket. */
    record(&h, 12345);
    assert_int_equal(wd_hist_remove(&h, 12345), WD_OK);
    assert_hist_same(&h, &before);
    wd_hist_destroy(&before);

    /* Removing what was never recorded is refused and changes nothing. */
    wd_hist_reset(&h);
    assert_int_equal(wd_hist_remove(&h, 5), WD_ESTATE);
    assert_int_equal(wd_hist_remove(&h, -5), WD_ERANGE);
    record(&h, WD_HIST_MAX_NS); /* top bucket, unclamped */
    assert_int_equal(wd_hist_remove(&h, INT64_MAX), WD_ESTATE); /* no clamped value */
    assert_int_equal(wd_hist_remove(&h, WD_HIST_MAX_NS), WD_OK);
    record(&h, INT64_MAX); /* top bucket, clamped */
    assert_int_equal(wd_hist_remove(&h, WD_HIST_MAX_NS), WD_ESTATE); /* no unclamped one */
    assert_int_equal(wd_hist_count(&h), 1);
    assert_int_equal(wd_hist_clamped(&h), 1);
    assert_int_equal(wd_hist_remove(&h, WD_HIST_MAX_NS + 7), WD_OK);
    assert_int_equal(wd_hist_count(&h), 0);
    assert_int_equal(wd_hist_clamped(&h), 0);

    /* A remove finds any value of the same bucket: 512 and 513 share one. */
    record(&h, 512);
    assert_int_equal(wd_hist_remove(&h, 513), WD_OK);
    assert_int_equal(wd_hist_remove(&h, 512), WD_ESTATE);
    wd_hist_destroy(&h);
}

static void test_hist_reset_empties(void **state)
{
    struct wd_hist h, fresh;
    (void)state;
    assert_int_equal(wd_hist_init(&h), WD_OK);
    assert_int_equal(wd_hist_init(&fresh), WD_OK);
    for (int64_t v = 0; v < 5000; v += 7) {
        record(&h, v * 1000);
    }
    record(&h, INT64_MAX);
    wd_hist_reset(&h);
    assert_hist_same(&h, &fresh);
    record(&h, 10);
    assert_int_equal(quantile(&h, 0.5), 10);
    wd_hist_destroy(&h);
    wd_hist_destroy(&fresh);
}

static void test_hist_merge(void **state)
{
    struct wd_hist a, b, all, one;
    struct rng r = {77u};
    int64_t v = 0;
    (void)state;
    assert_int_equal(wd_hist_init(&a), WD_OK);
    assert_int_equal(wd_hist_init(&b), WD_OK);
    assert_int_equal(wd_hist_init(&all), WD_OK);
    for (int i = 0; i < 3000; i++) {
        v = draw(&r, (enum dist)(i % (int)NDIST));
        record(i % 3 == 0 ? &a : &b, v);
        record(&all, v);
    }
    record(&b, INT64_MAX);
    record(&all, INT64_MAX);
    assert_int_equal(wd_hist_merge(&a, &b), WD_OK);
    assert_hist_same(&a, &all);

    /* Merging into itself doubles every count; quantiles stay. */
    int64_t p95 = quantile(&a, 0.95), p50 = quantile(&a, 0.5);
    assert_int_equal(wd_hist_merge(&a, &a), WD_OK);
    assert_int_equal(wd_hist_count(&a), 2 * 3001);
    assert_int_equal(wd_hist_clamped(&a), 2);
    assert_int_equal(quantile(&a, 0.95), p95);
    assert_int_equal(quantile(&a, 0.5), p50);

    /* Merging an empty histogram changes nothing. */
    wd_hist_reset(&b);
    assert_int_equal(wd_hist_merge(&all, &b), WD_OK);
    assert_int_equal(wd_hist_count(&all), 3001);

    /* A full histogram (UINT64_MAX zeros; consistent, if impractical to
     * reach by recording) refuses one more value and a merge that would
     * overflow its total, and stays as it was. */
    assert_int_equal(wd_hist_init(&one), WD_OK);
    record(&one, 3);
    wd_hist_reset(&b);
    b.counts[0] = UINT64_MAX;
    b.groups[0] = UINT64_MAX;
    b.total = UINT64_MAX;
    assert_int_equal(wd_hist_record(&b, 0), WD_EFULL);
    assert_int_equal(wd_hist_merge(&b, &one), WD_ERANGE);
    assert_true(b.total == UINT64_MAX && b.counts[0] == UINT64_MAX && b.counts[3] == 0);
    assert_int_equal(quantile(&b, 1.0), 0);
    assert_int_equal(wd_hist_merge(&one, &b), WD_ERANGE);
    assert_int_equal(wd_hist_count(&one), 1);

    wd_hist_destroy(&one);
    wd_hist_destroy(&a);
    wd_hist_destroy(&b);
    wd_hist_destroy(&all);
}

/* ---- accuracy on random data ------------------------------------------------ */

#define SEEDS 25
#define MAX_N 20000

static int64_t vals[MAX_N];

/*
 * For each distribution and seed, n values (n varies with the seed, 20 to
 * 19999) go into a histogram; p50, p95, p99 and p99.9 must equal the upper
 * edge of the exact quantile's bucket, lie in [x, x + x/256) (x exactly
 * below 512), and so within 1% of x. The worst relative errors are printed.
 */
static void test_hist_random_quantiles_within_one_percent(void **state)
{
    static const unsigned per_mille[] = {500, 950, 990, 999};
    enum { NQ = sizeof per_mille / sizeof per_mille[0] };
    struct wd_hist h;
    double worst[NQ] = {0};
    (void)state;
    assert_int_equal(wd_hist_init(&h), WD_OK);
    for (int d = 0; d < (int)NDIST; d++) {
        double worst_d[NQ] = {0};
        for (uint64_t seed = 1; seed <= SEEDS; seed++) {
            struct rng r = {seed * 1000003u + (uint64_t)d};
            size_t n = 20u + (size_t)(rng_next(&r) % (MAX_N - 20u));
            wd_hist_reset(&h);
            for (size_t i = 0; i < n; i++) {
                vals[i] = draw(&r, (enum dist)d);
                record(&h, vals[i]);
            }
            assert_int_equal(wd_hist_count(&h), n);
            assert_int_equal(wd_hist_clamped(&h), 0);
            qsort(vals, n, sizeof vals[0], cmp_i64);
            for (int k = 0; k < NQ; k++) {
                int64_t x = exact_quantile(vals, n, per_mille[k]);
                int64_t got = quantile(&h, per_mille[k] / 1000.0);
                if (got != wd_hist_upper_ns(x) || got < x ||
                    (x < 512 ? got != x : (got - x) * 256 >= x)) {
                    fail_msg("%s seed %llu n %zu q %u/1000: got %lld, exact %lld",
                             dist_name[d], (unsigned long long)seed, n, per_mille[k],
                             (long long)got, (long long)x);
                }
                double rel = (double)(got - x) / (double)x;
                assert_double_le(rel, 0.01);
                if (rel > worst_d[k]) {
                    worst_d[k] = rel;
                }
                if (rel > worst[k]) {
                    worst[k] = rel;
                }
            }
        }
        print_message("%-24s worst relative error: p50 %.4f%%  p95 %.4f%%  p99 %.4f%%  "
                      "p99.9 %.4f%%\n",
                      dist_name[d], 100.0 * worst_d[0], 100.0 * worst_d[1], 100.0 * worst_d[2],
                      100.0 * worst_d[3]);
    }
    print_message("%-24s worst relative error: p50 %.4f%%  p95 %.4f%%  p99 %.4f%%  "
                  "p99.9 %.4f%%\n",
                  "all", 100.0 * worst[0], 100.0 * worst[1], 100.0 * worst[2], 100.0 * worst[3]);
    /* The bound is 1/256 = 0.390625%. */
    for (int k = 0; k < NQ; k++) {
        assert_double_le(worst[k], 1.0 / 256.0);
    }
    wd_hist_destroy(&h);
}

/* ---- window ------------------------------------------------------------------- */

static int64_t wquantile(const struct wd_hist_window *w, double q)
{
    int64_t v = -1;
    assert_int_equal(wd_hist_window_quantile(w, q, &v), WD_OK);
    return v;
}

static void wadd(struct wd_hist_window *w, int64_t ts, int64_t v)
{
    assert_int_equal(wd_hist_window_add(w, ts, v), WD_OK);
}

static void test_hist_window_init_rejects_bad_arguments(void **state)
{
    struct wd_hist_window w;
    (void)state;
    assert_int_equal(wd_hist_window_init(&w, 0, 10), WD_EINVAL);
    assert_null(w.ring);
    assert_null(w.hist.counts);
    wd_hist_window_destroy(&w);
    assert_int_equal(wd_hist_window_init(&w, -SEC, 10), WD_EINVAL);
    assert_int_equal(wd_hist_window_init(&w, SEC, 0), WD_EINVAL);
    assert_int_equal(wd_hist_window_init(&w, SEC, WD_HIST_WINDOW_MAX_CAP + 1u), WD_EINVAL);
    wd_hist_window_destroy(&w);
    assert_int_equal(wd_hist_window_init(&w, SEC, 1), WD_OK);
    assert_int_equal(wd_hist_window_count(&w), 0);
    int64_t v = 9;
    assert_int_equal(wd_hist_window_quantile(&w, 0.95, &v), WD_ESTATE);
    assert_int_equal(v, 9);
    wd_hist_window_destroy(&w);
    wd_hist_window_destroy(&w);
}

/* Window 1 s: a sample at t stays through now = t + 1 s and leaves at
 * now = t + 1 s + 1 ns, whether now advances by expire or by add. */
static void test_hist_window_sample_leaves_exactly_after_window(void **state)
{
    struct wd_hist_window w;
    (void)state;
    assert_int_equal(wd_hist_window_init(&w, SEC, 16), WD_OK);
    wadd(&w, 1000, 7);
    assert_int_equal(wd_hist_window_expire(&w, 1000 + SEC - 1), 0);
    assert_int_equal(wd_hist_window_expire(&w, 1000 + SEC), 0);
    assert_int_equal(wd_hist_window_count(&w), 1);
    assert_int_equal(wquantile(&w, 0.5), 7);
    assert_int_equal(wd_hist_window_expire(&w, 1000 + SEC + 1), 1);
    assert_int_equal(wd_hist_window_count(&w), 0);
    assert_int_equal(wd_hist_count(&w.hist), 0);
    wd_hist_window_destroy(&w);

    assert_int_equal(wd_hist_window_init(&w, SEC, 16), WD_OK);
    wadd(&w, 0, 5);
    wadd(&w, SEC, 6); /* 5 is exactly one window old: stays */
    assert_int_equal(wd_hist_window_count(&w), 2);
    assert_int_equal(wquantile(&w, 0.0), 5);
    wadd(&w, SEC + 1, 7); /* now 5 is older than the window: leaves */
    assert_int_equal(wd_hist_window_count(&w), 2);
    assert_int_equal(wquantile(&w, 0.0), 6);
    assert_int_equal(wquantile(&w, 1.0), 7);
    /* A jump far ahead empties the window before the new sample enters. */
    wadd(&w, 100 * SEC, 8);
    assert_int_equal(wd_hist_window_count(&w), 1);
    assert_int_equal(wquantile(&w, 0.0), 8);
    assert_int_equal(wd_hist_window_overflowed(&w), 0);
    wd_hist_window_destroy(&w);
}

/* Ring of 4, window of an hour: the fifth and sixth samples push out the
 * first and second, counted as overflow. */
static void test_hist_window_ring_overflow_evicts_oldest(void **state)
{
    struct wd_hist_window w;
    (void)state;
    assert_int_equal(wd_hist_window_init(&w, HOUR, 4), WD_OK);
    for (int64_t i = 1; i <= 6; i++) {
        wadd(&w, i * SEC, 10 * i); /* 10, 20, ..., 60 */
    }
    assert_int_equal(wd_hist_window_count(&w), 4);
    assert_int_equal(wd_hist_window_overflowed(&w), 2);
    assert_int_equal(wquantile(&w, 0.0), 30);
    assert_int_equal(wquantile(&w, 1.0), 60);

    /* Decreasing values: the oldest evicted are the largest. */
    for (int64_t i = 7; i <= 12; i++) {
        wadd(&w, i * SEC, 10 * (13 - i)); /* 60, 50, ..., 10 */
    }
    assert_int_equal(wd_hist_window_overflowed(&w), 8);
    assert_int_equal(wquantile(&w, 0.0), 10);
    assert_int_equal(wquantile(&w, 1.0), 40);
    /* Expiry evicts without counting overflow. */
    assert_int_equal(wd_hist_window_expire(&w, HOUR + 12 * SEC), 3); /* 9, 10, 11 s */
    assert_int_equal(wd_hist_window_count(&w), 1);
    assert_int_equal(wquantile(&w, 0.5), 10);
    assert_int_equal(wd_hist_window_overflowed(&w), 8);
    wd_hist_window_destroy(&w);

    /* Capacity 1: every add replaces the previous sample. */
    assert_int_equal(wd_hist_window_init(&w, HOUR, 1), WD_OK);
    wadd(&w, 1, 100);
    wadd(&w, 2, 200);
    assert_int_equal(wd_hist_window_count(&w), 1);
    assert_int_equal(wquantile(&w, 0.0), 200);
    assert_int_equal(wd_hist_window_overflowed(&w), 1);
    wd_hist_window_destroy(&w);
}

/* A late sample (ts before now but inside the window) is stored at now; a
 * sample older than the window, or a negative value, is refused. */
static void test_hist_window_late_and_refused_samples(void **state)
{
    struct wd_hist_window w;
    (void)state;
    assert_int_equal(wd_hist_window_init(&w, SEC, 16), WD_OK);
    wadd(&w, 5 * SEC, 10);
    wadd(&w, 4500 * MS, 20); /* late: stored as 5 s */
    assert_int_equal(w.ring[1].ts_ns, 5 * SEC);
    wadd(&w, 4 * SEC, 30); /* exactly one window late: still in */
    assert_int_equal(wd_hist_window_count(&w), 3);
    assert_int_equal(wd_hist_window_add(&w, 4 * SEC - 1, 40), WD_ERANGE);
    assert_int_equal(wd_hist_window_add(&w, 5 * SEC, -1), WD_ERANGE);
    assert_int_equal(wd_hist_window_add(&w, 6 * SEC, -1), WD_ERANGE);
    assert_int_equal(w.now_ns, 5 * SEC); /* a refused sample does not move time */
    assert_int_equal(wd_hist_window_count(&w), 3);
    /* All three are stamped 5 s, so they leave together at 6 s + 1 ns. */
    assert_int_equal(wd_hist_window_expire(&w, 6 * SEC), 0);
    assert_int_equal(wd_hist_window_expire(&w, 6 * SEC + 1), 3);
    wd_hist_window_destroy(&w);
}

/* Time does not go back: an earlier expire or add changes nothing. */
static void test_hist_window_time_does_not_go_back(void **state)
{
    struct wd_hist_window w;
    (void)state;
    assert_int_equal(wd_hist_window_init(&w, SEC, 16), WD_OK);
    wadd(&w, 10 * SEC, 1);
    assert_int_equal(wd_hist_window_expire(&w, 11 * SEC), 0);
    assert_int_equal(wd_hist_window_expire(&w, 0), 0);
    assert_int_equal(w.now_ns, 11 * SEC);
    assert_int_equal(wd_hist_window_count(&w), 1);
    /* now is 11 s: a sample at 10 s is one window late, still accepted. */
    wadd(&w, 10 * SEC, 2);
    assert_int_equal(wd_hist_window_expire(&w, 12 * SEC), 1); /* the one at 10 s */
    assert_int_equal(wquantile(&w, 0.5), 2);
    wd_hist_window_destroy(&w);
}

/* now - window_ns saturates instead of overflowing at the int64 ends. */
static void test_hist_window_int64_limits(void **state)
{
    struct wd_hist_window w;
    (void)state;
    assert_int_equal(wd_hist_window_init(&w, SEC, 16), WD_OK);
    wadd(&w, INT64_MIN, 3);
    wadd(&w, INT64_MIN + SEC, 4);
    assert_int_equal(wd_hist_window_count(&w), 2);
    wadd(&w, INT64_MIN + SEC + 1, 5);
    assert_int_equal(wd_hist_window_count(&w), 2);
    assert_int_equal(wquantile(&w, 0.0), 4);
    wadd(&w, INT64_MAX, 6);
    assert_int_equal(wd_hist_window_count(&w), 1);
    assert_int_equal(wd_hist_window_expire(&w, INT64_MAX), 0);
    wd_hist_window_destroy(&w);

    /* The largest window: everything from INT64_MIN on fits until now
     * reaches 0 (INT64_MIN + INT64_MAX = -1). */
    assert_int_equal(wd_hist_window_init(&w, INT64_MAX, 16), WD_OK);
    wadd(&w, INT64_MIN, 1);
    assert_int_equal(wd_hist_window_expire(&w, -1), 0);
    assert_int_equal(wd_hist_window_expire(&w, 0), 1);
    wadd(&w, INT64_MAX, 2);
    wadd(&w, 0, 3);
    assert_int_equal(wd_hist_window_add(&w, -1, 4), WD_ERANGE);
    assert_int_equal(wd_hist_window_count(&w), 2);
    wd_hist_window_destroy(&w);
}

/*
 * A random stream against a model: samples arrive in time order with gaps
 * of 0..40 ms, sometimes in bursts of equal time, with expires in between.
 * The window (1 s, ring of 64) must hold exactly the samples with
 * ts >= now - 1 s among the last 64 arrivals (both sets are suffixes of
 * the stream); its histogram must be bitwise that of those samples, its
 * quantiles their exact quantiles' bucket edges, and its overflow count
 * the model's.
 */
#define WIN_STREAM 6000
static int64_t win_ts[WIN_STREAM], win_val[WIN_STREAM];

static void test_hist_window_matches_model(void **state)
{
    enum { CAP = 64 };
    struct wd_hist_window w;
    struct wd_hist ref;
    (void)state;
    assert_int_equal(wd_hist_init(&ref), WD_OK);
    for (uint64_t seed = 1; seed <= 20; seed++) {
        struct rng r = {seed * 7919u};
        size_t lo = 0;
        uint64_t overflowed = 0;
        int64_t now = 0;
        assert_int_equal(wd_hist_window_init(&w, SEC, CAP), WD_OK);
        for (size_t i = 0; i < WIN_STREAM; i++) {
            uint64_t dice = rng_next(&r) % 100u;
            if (dice < 10u) {
                /* An expire tick, possibly exactly at an edge. */
                now += dice < 5u ? rng_range(&r, 0, 40 * MS) : 0;
                if (dice < 2u && lo < i && win_ts[lo] != INT64_MIN &&
                    win_ts[lo] + SEC + (int64_t)dice > now) {
                    now = win_ts[lo] + SEC + (int64_t)dice; /* oldest's edge, or edge + 1 */
                }
                (void)wd_hist_window_expire(&w, now);
            } else {
                now += dice < 40u ? 0 : rng_range(&r, 0, 40 * MS);
                wadd(&w, now, win_val[i] = draw(&r, (enum dist)(seed % NDIST)));
            }
            win_ts[i] = dice < 10u ? INT64_MIN : now; /* INT64_MIN: no sample */
            /* The model: drop what is older than the window, then what the
             * ring cannot hold. */
            while (lo <= i && (win_ts[lo] == INT64_MIN || win_ts[lo] < now - SEC)) {
                lo++;
            }
            size_t live = 0;
            for (size_t j = lo; j <= i; j++) {
                live += win_ts[j] != INT64_MIN;
            }
            if (live > CAP) {
                while (win_ts[lo] == INT64_MIN) {
                    lo++;
                }
                lo++;
                overflowed++;
                live--;
            }
            assert_int_equal(wd_hist_window_count(&w), live);
            assert_int_equal(wd_hist_window_overflowed(&w), overflowed);
            if (i % 97 != 0 && i != WIN_STREAM - 1) {
                continue;
            }
            /* Full comparison at checkpoints. */
            static int64_t sorted[CAP];
            size_t m = 0;
            wd_hist_reset(&ref);
            for (size_t j = lo; j <= i; j++) {
                if (win_ts[j] != INT64_MIN) {
                    sorted[m++] = win_val[j];
                    record(&ref, win_val[j]);
                }
            }
            assert_hist_same(&w.hist, &ref);
            if (m == 0) {
                continue;
            }
            qsort(sorted, m, sizeof sorted[0], cmp_i64);
            assert_int_equal(wquantile(&w, 0.95), wd_hist_upper_ns(exact_quantile(sorted, m, 950)));
            assert_int_equal(wquantile(&w, 0.5), wd_hist_upper_ns(exact_quantile(sorted, m, 500)));
        }
        assert_true(overflowed > 0); /* the bursts did overflow the ring */
        wd_hist_window_destroy(&w);
    }
    wd_hist_destroy(&ref);
}

/*
 * The window at the P2-1 detector's scale, on random data: for each
 * distribution, 30,000 samples 20 ms apart into a 300 s window (ring of
 * 2^15), so once full it holds the last 15,001 samples (both ends of the
 * window inclusive). At checkpoints p50, p95 and p99 of the window must be
 * the upper edge of the bucket of the exact nearest-rank quantile of the
 * samples in it (sorted here), and so within 1% of it (1/256 in fact).
 */
#define WSTREAM 30000
#define WSTEP (20 * MS)
#define WFULL 15001

static int64_t wvals[WSTREAM], wsorted[WFULL];

static void test_hist_window_random_quantiles_within_one_percent(void **state)
{
    static const unsigned per_mille[] = {500, 950, 990};
    enum { NQ = sizeof per_mille / sizeof per_mille[0] };
    static struct wd_hist_window w;
    double worst[NQ] = {0};
    unsigned checks = 0;
    (void)state;
    for (int d = 0; d < (int)NDIST; d++) {
        struct rng r = {0x5eed0000u + (uint64_t)d};
        int64_t t0 = 1763389800 * SEC; /* 2025-11-17 14:30 UTC */
        assert_int_equal(wd_hist_window_init(&w, 300 * SEC, 1u << 15), WD_OK);
        for (size_t i = 0; i < WSTREAM; i++) {
            wadd(&w, t0 + (int64_t)i * WSTEP, wvals[i] = draw(&r, (enum dist)d));
            if (i + 1 < WFULL || (i + 1 != WFULL && (i + 1) % 2500 != 0)) {
                continue;
            }
            /* In the window: ts >= now - 300 s, the last 15,001 samples. */
            assert_int_equal(wd_hist_window_count(&w), WFULL);
            memcpy(wsorted, wvals + (i + 1 - WFULL), sizeof wsorted);
            qsort(wsorted, WFULL, sizeof wsorted[0], cmp_i64);
            for (int k = 0; k < NQ; k++) {
                int64_t x = exact_quantile(wsorted, WFULL, per_mille[k]);
                int64_t got = wquantile(&w, per_mille[k] / 1000.0);
                if (got != wd_hist_upper_ns(x) || got < x) {
                    fail_msg("%s sample %zu q %u/1000: got %lld, exact %lld", dist_name[d], i,
                             per_mille[k], (long long)got, (long long)x);
                }
                double rel = (double)(got - x) / (double)(x > 0 ? x : 1);
                assert_double_le(rel, 0.01);
                if (rel > worst[k]) {
                    worst[k] = rel;
                }
            }
            checks++;
        }
        assert_int_equal(wd_hist_window_overflowed(&w), 0);
        wd_hist_window_destroy(&w);
    }
    assert_int_equal(checks, NDIST * 7); /* at 15,001 (just full), 17,500, ..., 30,000 */
    print_message("window of %d samples, worst relative error: p50 %.4f%%  p95 %.4f%%  "
                  "p99 %.4f%%\n",
                  WFULL, 100.0 * worst[0], 100.0 * worst[1], 100.0 * worst[2]);
    for (int k = 0; k < NQ; k++) {
        assert_double_le(worst[k], 1.0 / 256.0);
    }
}

/*
 * The P2-1 detector's use: window 300 s, one ack every 100 ms, so at a
 * sample's arrival the window holds 3001 samples (both ends inclusive) and
 * p95 is rank ceil(0.95 * 3001) = 2851. Latency is 20 ms (reported
 * 20054015: s = 16, m = floor(2e7 / 65536) = 305, 306 * 65536 - 1) until
 * sample S, then 1.2 s for 60 s (reported 1203765247: s = 22,
 * m = floor(1.2e9 / 4194304) = 286, 287 * 4194304 - 1), then 20 ms again.
 * p95 > 1 s once 151 slow samples are in (3001 - 151 = 2850 fast < 2851):
 * at sample S + 150. It recovers below 200 ms once at most 150 slow ones
 * remain: the window [j - 3000, j] holds S + 600 - (j - 3000) of them, so
 * at j = S + 3450.
 */
static struct wd_hist_window p21;

static void test_hist_window_p2_1_breach_and_recovery(void **state)
{
    enum { S = 6000, L = 600, END = S + 4000 };
    int64_t breach_at = -1, recover_at = -1;
    (void)state;
    assert_int_equal(wd_hist_window_init(&p21, 300 * SEC, 100000), WD_OK);
    for (int64_t j = 0; j < END; j++) {
        int64_t lat = j >= S && j < S + L ? 1200 * MS : 20 * MS;
        int64_t now = 1700000000 * SEC + j * 100 * MS;
        wadd(&p21, now, lat);
        if (j < 3000) {
            continue;
        }
        assert_int_equal(wd_hist_window_count(&p21), 3001);
        int64_t p95 = wquantile(&p21, 0.95);
        assert_true(p95 == 20054015 || p95 == 1203765247);
        if (breach_at < 0 && p95 > SEC) {
            breach_at = j;
        }
        if (breach_at >= 0 && recover_at < 0 && p95 < 200 * MS) {
            recover_at = j;
        }
    }
    assert_int_equal(breach_at, S + 150);
    assert_int_equal(recover_at, S + 3450);
    assert_int_equal(wd_hist_window_overflowed(&p21), 0);
    wd_hist_window_destroy(&p21);
}

/* wd_hist_window_exceeds and wd_hist_window_exact_quantile against a model
 * of the window (the samples themselves, sorted): through adds, expiry,
 * ring overflow and a re-watch, with bounds on, around and between sample
 * values. */
#define WATCH_CAP 3000
static int64_t model_ts[4 * WATCH_CAP], model_val[4 * WATCH_CAP], sorted_buf[4 * WATCH_CAP];

static void check_window_watches(const struct wd_hist_window *w, const int64_t *ts,
                                 const int64_t *val, size_t n, const int64_t *bound)
{
    static const double qs[] = {0.0, 0.5, 0.95, 0.99, 1.0};
    assert_int_equal(wd_hist_window_count(w), n);
    for (size_t i = 0; i < n; i++) {
        sorted_buf[i] = val[i];
    }
    (void)ts;
    qsort(sorted_buf, n, sizeof *sorted_buf, cmp_i64);
    for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++) {
        int64_t exact = 0;
        if (n > 0) {
            size_t rank = (size_t)ceil(qs[i] * (double)n - 1e-9);
            rank = rank < 1 ? 1 : rank > n ? n : rank;
            exact = sorted_buf[rank - 1];
            int64_t got = -1;
            assert_int_equal(wd_hist_window_exact_quantile(w, qs[i], &got), WD_OK);
            assert_int_equal(got, exact);
        }
        for (unsigned k = 0; k < WD_HIST_WATCHES; k++) {
            bool want = n > 0 && exact > bound[k];
            if (wd_hist_window_exceeds(w, qs[i], k) != want) {
                fail_msg("bound %lld q %g n %zu exact %lld: exceeds says %d", (long long)bound[k],
                         qs[i], n, (long long)exact, !want);
            }
        }
    }
}

static void test_hist_window_watch_exact(void **state)
{
    (void)state;
    struct rng r = {20261127u};
    for (int d = 0; d < NDIST; d++) {
        struct wd_hist_window w;
        const int64_t win = 10 * SEC;
        assert_int_equal(wd_hist_window_init(&w, win, WATCH_CAP), WD_OK);
        int64_t probe = draw(&r, (enum dist)d);
        int64_t bound[WD_HIST_WATCHES] = {probe, probe - 1};
        wd_hist_window_watch(&w, 0, bound[0]);
        wd_hist_window_watch(&w, 1, bound[1]);
        size_t head = 0, n = 0; /* the model: model_*[head, head + n) */
        int64_t now = 0;
        for (int step = 0; step < 4 * WATCH_CAP; step++) {
            now += rng_range(&r, 0, 8 * MS); /* ~2,500 samples per window */
            int64_t v = rng_next(&r) % 2u ? draw(&r, (enum dist)d) : probe + rng_range(&r, -1, 1);
            v = v < 0 ? 0 : v;
            assert_int_equal(wd_hist_window_add(&w, now, v), WD_OK);
            while (n > 0 && model_ts[head] < now - win) {
                head++, n--;
            }
            if (n == WATCH_CAP) {
                head++, n--;
            }
            model_ts[head + n] = now;
            model_val[head + n] = v;
            n++;
            if (step % 97 == 0) {
                check_window_watches(&w, model_ts + head, model_val + head, n, bound);
            }
            if (step == 2 * WATCH_CAP) { /* move a watch while samples are in */
                bound[1] = probe + 1;
                wd_hist_window_watch(&w, 1, bound[1]);
                check_window_watches(&w, model_ts + head, model_val + head, n, bound);
            }
        }
        /* Everything expires. */
        (void)wd_hist_window_expire(&w, now + win + 1);
        check_window_watches(&w, model_ts, model_val, 0, bound);
        wd_hist_window_destroy(&w);
    }
}

static void test_hist_window_watch_edges(void **state)
{
    (void)state;
    struct wd_hist_window w;
    int64_t v = -1;
    assert_int_equal(wd_hist_window_init(&w, SEC, 8), WD_OK);
    assert_false(wd_hist_window_exceeds(&w, 0.5, 0)); /* not watching, empty */
    assert_int_equal(wd_hist_window_exact_quantile(&w, 0.5, &v), WD_ESTATE);
    wd_hist_window_watch(&w, 0, 1000 * MS);
    wd_hist_window_watch(&w, 1, 200 * MS - 1);
    assert_false(wd_hist_window_exceeds(&w, 0.95, 0)); /* empty */
    /* Exactly at the bound is not above it; 1 ns more is. */
    assert_int_equal(wd_hist_window_add(&w, 1, 1000 * MS), WD_OK);
    assert_false(wd_hist_window_exceeds(&w, 0.95, 0));
    assert_true(wd_hist_window_exceeds(&w, 0.95, 1));
    assert_int_equal(wd_hist_window_add(&w, 2, 1000 * MS + 1), WD_OK);
    assert_true(wd_hist_window_exceeds(&w, 0.95, 0));  /* rank 2 of 2 */
    assert_false(wd_hist_window_exceeds(&w, 0.5, 0));  /* rank 1 of 2 */
    assert_int_equal(wd_hist_window_exact_quantile(&w, 0.95, &v), WD_OK);
    assert_int_equal(v, 1000 * MS + 1);
    /* 199.999999 ms is below 200 ms, where the histogram reports more. */
    wd_hist_window_destroy(&w);
    assert_int_equal(wd_hist_window_init(&w, SEC, 8), WD_OK);
    wd_hist_window_watch(&w, 1, 200 * MS - 1);
    assert_int_equal(wd_hist_window_add(&w, 1, 200 * MS - 1), WD_OK);
    assert_false(wd_hist_window_exceeds(&w, 0.95, 1));
    assert_int_equal(wd_hist_window_quantile(&w, 0.95, &v), WD_OK);
    assert_true(v > 200 * MS - 1);
    assert_false(wd_hist_window_exceeds(&w, 0.95, WD_HIST_WATCHES)); /* no such slot */
    assert_false(wd_hist_window_exceeds(&w, 1.5, 1));                /* bad q */
    assert_int_equal(wd_hist_window_exact_quantile(&w, -0.1, &v), WD_EINVAL);
    wd_hist_window_destroy(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hist_bucket_upper_table),
        cmocka_unit_test(test_hist_bucket_edges_are_contiguous),
        cmocka_unit_test(test_hist_empty_has_no_quantile),
        cmocka_unit_test(test_hist_single_value),
        cmocka_unit_test(test_hist_all_equal),
        cmocka_unit_test(test_hist_two_values),
        cmocka_unit_test(test_hist_quantile_ranks),
        cmocka_unit_test(test_hist_quantiles_at_bucket_edges),
        cmocka_unit_test(test_hist_clamps_huge_values),
        cmocka_unit_test(test_hist_remove_is_inverse_of_record),
        cmocka_unit_test(test_hist_reset_empties),
        cmocka_unit_test(test_hist_merge),
        cmocka_unit_test(test_hist_random_quantiles_within_one_percent),
        cmocka_unit_test(test_hist_window_init_rejects_bad_arguments),
        cmocka_unit_test(test_hist_window_sample_leaves_exactly_after_window),
        cmocka_unit_test(test_hist_window_ring_overflow_evicts_oldest),
        cmocka_unit_test(test_hist_window_late_and_refused_samples),
        cmocka_unit_test(test_hist_window_time_does_not_go_back),
        cmocka_unit_test(test_hist_window_int64_limits),
        cmocka_unit_test(test_hist_window_matches_model),
        cmocka_unit_test(test_hist_window_watch_exact),
        cmocka_unit_test(test_hist_window_watch_edges),
        cmocka_unit_test(test_hist_window_random_quantiles_within_one_percent),
        cmocka_unit_test(test_hist_window_p2_1_breach_and_recovery),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
