/*
 * Log-linear latency histogram and its sliding event-time window (see
 * include/warden/hist.h and docs/internals/HISTOGRAM.md). Pure: memory is
 * allocated in the init functions only; recording, removing, merging and
 * quantiles touch no allocator, no clock and no I/O.
 */
#include <assert.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "warden/hist.h"

#define SUB ((uint64_t)WD_HIST_SUB_COUNT)
#define TOP_BUCKET ((uint32_t)WD_HIST_BUCKETS - 1u)

_Static_assert(WD_HIST_BUCKETS < 65536, "bucket index fits 16 bits");
_Static_assert(WD_HIST_MAX_BITS < 63, "top bucket's upper edge fits int64");

/*
 * Bucket of v (0 <= v <= WD_HIST_MAX_NS). With e = floor(log2 v) and
 * s = e - SUB_BITS (the width of v's bucket is 2^s), the index is
 * s * 256 + (v >> s): v >> s lies in [256, 512), so each power of two gets
 * the 256 indices after the previous one. Below 512, s would be <= 0 and
 * the index is v itself (width 1, exact).
 */
static uint32_t bucket_of(uint64_t v)
{
    if (v < 2u * SUB) {
        return (uint32_t)v;
    }
    unsigned e = 63u - (unsigned)__builtin_clzll(v);
    unsigned s = e - WD_HIST_SUB_BITS;
    return (uint32_t)(((uint64_t)s << WD_HIST_SUB_BITS) + (v >> s));
}

/* The highest value of bucket i: the inverse of bucket_of at the top edge. */
static int64_t bucket_upper(uint32_t i)
{
    if (i < 2u * SUB) {
        return (int64_t)i;
    }
    unsigned s = (i >> WD_HIST_SUB_BITS) - 1u;
    uint64_t mant = (uint64_t)i - ((uint64_t)s << WD_HIST_SUB_BITS); /* in [256, 512) */
    return (int64_t)(((mant + 1u) << s) - 1u);
}

/* Bucket of a non-negative value, clamping above WD_HIST_MAX_NS. */
static uint32_t bucket_clamped(int64_t value_ns)
{
    return value_ns > WD_HIST_MAX_NS ? TOP_BUCKET : bucket_of((uint64_t)value_ns);
}

int64_t wd_hist_upper_ns(int64_t value_ns)
{
    if (value_ns < 0) {
        return 0;
    }
    return bucket_upper(bucket_clamped(value_ns));
}

enum wd_status wd_hist_init(struct wd_hist *h)
{
    memset(h, 0, sizeof *h);
    h->counts = calloc(WD_HIST_BUCKETS, sizeof *h->counts);
    return h->counts == NULL ? WD_ENOMEM : WD_OK;
}

void wd_hist_destroy(struct wd_hist *h)
{
    free(h->counts);
    memset(h, 0, sizeof *h);
}

void wd_hist_reset(struct wd_hist *h)
{
    memset(h->counts, 0, WD_HIST_BUCKETS * sizeof *h->counts);
    memset(h->groups, 0, sizeof h->groups);
    h->total = 0;
    h->clamped = 0;
}

enum wd_status wd_hist_record(struct wd_hist *h, int64_t value_ns)
{
    if (value_ns < 0) {
        return WD_ERANGE;
    }
    if (h->total == UINT64_MAX) {
        return WD_EFULL;
    }
    uint32_t i = bucket_clamped(value_ns);
    h->counts[i]++;
    h->groups[i >> WD_HIST_SUB_BITS]++;
    h->total++;
    if (value_ns > WD_HIST_MAX_NS) {
        h->clamped++;
    }
    return WD_OK;
}

enum wd_status wd_hist_remove(struct wd_hist *h, int64_t value_ns)
{
    if (value_ns < 0) {
        return WD_ERANGE;
    }
    uint32_t i = bucket_clamped(value_ns);
    bool clamp = value_ns > WD_HIST_MAX_NS;
    /* The top bucket holds clamped and unclamped values; removing one kind
     * must find one of that kind, or `clamped` would stop being exact. */
    uint64_t avail = clamp ? h->clamped
                           : (i == TOP_BUCKET ? h->counts[i] - h->clamped : h->counts[i]);
    if (avail == 0) {
        return WD_ESTATE;
    }
    h->counts[i]--;
    h->groups[i >> WD_HIST_SUB_BITS]--;
    h->total--;
    if (clamp) {
        h->clamped--;
    }
    return WD_OK;
}

enum wd_status wd_hist_merge(struct wd_hist *dst, const struct wd_hist *src)
{
    uint64_t total;
    /* Every counter is at most its total, so if the totals add, all do. */
    if (__builtin_add_overflow(dst->total, src->total, &total)) {
        return WD_ERANGE;
    }
    for (uint32_t i = 0; i < WD_HIST_BUCKETS; i++) {
        dst->counts[i] += src->counts[i];
    }
    for (uint32_t g = 0; g < WD_HIST_GROUPS; g++) {
        dst->groups[g] += src->groups[g];
    }
    dst->clamped += src->clamped;
    dst->total = total;
    return WD_OK;
}

/*
 * The nearest rank ceil(q * n) in [1, n]. q is a double (0.95 is really
 * 0.94999999999999995559), so q * n can land a few ulps off the integer the
 * caller meant; a product within 1e-12 (relative) of an integer is taken
 * as that integer. Only a q with more than ~12 significant digits could
 * be misread by that, and it would move the rank by one.
 */
static uint64_t rank_of(double q, uint64_t n)
{
    double nd = (double)n;
    double x = q * nd;
    double k = round(x);
    if (fabs(x - k) <= 1e-12 * x) {
        x = k;
    }
    x = ceil(x);
    if (x <= 1.0) {
        return 1;
    }
    if (x >= nd) { /* also keeps the conversion below in range */
        return n;
    }
    return (uint64_t)x;
}

enum wd_status wd_hist_quantile(const struct wd_hist *h, double q, int64_t *out_ns)
{
    if (!(q >= 0.0 && q <= 1.0)) {
        return WD_EINVAL;
    }
    if (h->total == 0) {
        return WD_ESTATE;
    }
    uint64_t rank = rank_of(q, h->total);
    uint64_t seen = 0;
    /* Find the group, then the bucket: at most 35 + 256 steps. Both loops
     * stop in range because the counts sum to total >= rank. */
    uint32_t g = 0;
    while (seen + h->groups[g] < rank) {
        seen += h->groups[g];
        g++;
    }
    uint32_t i = g << WD_HIST_SUB_BITS;
    while (seen + h->counts[i] < rank) {
        seen += h->counts[i];
        i++;
    }
    assert(i < WD_HIST_BUCKETS && (i >> WD_HIST_SUB_BITS) == g);
    *out_ns = bucket_upper(i);
    return WD_OK;
}

/* ---- sliding window ------------------------------------------------------ */

enum wd_status wd_hist_window_init(struct wd_hist_window *w, int64_t window_ns, uint32_t cap)
{
    enum wd_status st;
    memset(w, 0, sizeof *w);
    if (window_ns <= 0 || cap == 0 || cap > WD_HIST_WINDOW_MAX_CAP) {
        return WD_EINVAL;
    }
    st = wd_hist_init(&w->hist);
    if (st != WD_OK) {
        goto fail_hist;
    }
    w->ring = malloc((size_t)cap * sizeof *w->ring);
    if (w->ring == NULL) {
        st = WD_ENOMEM;
        goto fail_ring;
    }
    w->cap = cap;
    w->window_ns = window_ns;
    w->now_ns = INT64_MIN;
    return WD_OK;

fail_ring:
    wd_hist_destroy(&w->hist);
fail_hist:
    memset(w, 0, sizeof *w);
    return st;
}

void wd_hist_window_destroy(struct wd_hist_window *w)
{
    wd_hist_destroy(&w->hist);
    free(w->ring);
    memset(w, 0, sizeof *w);
}

/* Oldest time still inside the window at now: now - window_ns, saturating
 * at INT64_MIN (nothing is older than that). */
static int64_t cutoff(const struct wd_hist_window *w)
{
    int64_t c;
    if (__builtin_sub_overflow(w->now_ns, w->window_ns, &c)) {
        return INT64_MIN;
    }
    return c;
}

/* Adds d (+1 or -1) to the counters of the bounds value is above. */
static void watch_count(struct wd_hist_window *w, int64_t value_ns, int d)
{
    for (unsigned k = 0; k < WD_HIST_WATCHES; k++) {
        if (w->watching[k] && value_ns > w->watch_bound[k]) {
            w->watch_above[k] += (uint32_t)d;
        }
    }
}

static void evict_oldest(struct wd_hist_window *w)
{
    const struct wd_hist_sample *s = &w->ring[w->head];
    watch_count(w, s->value_ns, -1);
    enum wd_status st = wd_hist_remove(&w->hist, s->value_ns);
    /* Every ring sample was recorded in hist, so it can be removed. */
    assert(st == WD_OK);
    (void)st;
    w->head = w->head + 1u == w->cap ? 0u : w->head + 1u;
    w->count--;
}

static uint32_t evict_expired(struct wd_hist_window *w)
{
    int64_t c = cutoff(w);
    uint32_t n = 0;
    while (w->count > 0 && w->ring[w->head].ts_ns < c) {
        evict_oldest(w);
        n++;
    }
    return n;
}

enum wd_status wd_hist_window_add(struct wd_hist_window *w, int64_t ts_ns, int64_t value_ns)
{
    if (value_ns < 0) {
        return WD_ERANGE;
    }
    if (ts_ns > w->now_ns) {
        w->now_ns = ts_ns;
        (void)evict_expired(w);
    } else if (ts_ns < cutoff(w)) {
        return WD_ERANGE;
    }
    if (w->count == w->cap) {
        evict_oldest(w);
        w->overflowed++;
    }
    /* Cannot fail: value_ns >= 0 and total <= cap < UINT64_MAX. */
    enum wd_status st = wd_hist_record(&w->hist, value_ns);
    if (st != WD_OK) {
        return st;
    }
    uint64_t tail = (uint64_t)w->head + w->count;
    if (tail >= w->cap) {
        tail -= w->cap;
    }
    w->ring[tail] = (struct wd_hist_sample){.ts_ns = w->now_ns, .value_ns = value_ns};
    w->count++;
    watch_count(w, value_ns, 1);
    return WD_OK;
}

uint32_t wd_hist_window_expire(struct wd_hist_window *w, int64_t now_ns)
{
    if (now_ns <= w->now_ns) {
        return 0;
    }
    w->now_ns = now_ns;
    return evict_expired(w);
}

enum wd_status wd_hist_window_quantile(const struct wd_hist_window *w, double q, int64_t *out_ns)
{
    return wd_hist_quantile(&w->hist, q, out_ns);
}

void wd_hist_window_watch(struct wd_hist_window *w, unsigned k, int64_t bound_ns)
{
    if (k >= WD_HIST_WATCHES) {
        return;
    }
    w->watching[k] = true;
    w->watch_bound[k] = bound_ns;
    w->watch_above[k] = 0;
    for (uint32_t i = 0, p = w->head; i < w->count; i++, p = p + 1u == w->cap ? 0u : p + 1u) {
        w->watch_above[k] += w->ring[p].value_ns > bound_ns ? 1u : 0u;
    }
}

bool wd_hist_window_exceeds(const struct wd_hist_window *w, double q, unsigned k)
{
    if (k >= WD_HIST_WATCHES || !w->watching[k] || w->count == 0 || !(q >= 0.0 && q <= 1.0)) {
        return false;
    }
    /* The rank-th smallest sample is above the bound exactly when fewer
     * than rank samples are at or below it. */
    return w->count - w->watch_above[k] < rank_of(q, w->count);
}

/* The k-th smallest (0-based) of v[0..n), reordering v (Hoare's select). */
static int64_t select_kth(int64_t *v, size_t n, size_t k)
{
    size_t lo = 0, hi = n - 1u;
    while (lo < hi) {
        int64_t pivot = v[lo + (hi - lo) / 2u];
        size_t i = lo, j = hi;
        while (i <= j) {
            while (v[i] < pivot) {
                i++;
            }
            while (v[j] > pivot) {
                j--;
            }
            if (i <= j) {
                int64_t t = v[i];
                v[i] = v[j];
                v[j] = t;
                i++;
                if (j == 0) {
                    break;
                }
                j--;
            }
        }
        if (k <= j) {
            hi = j;
        } else if (k >= i) {
            lo = i;
        } else {
            return v[k];
        }
    }
    return v[k];
}

enum wd_status wd_hist_window_exact_quantile(const struct wd_hist_window *w, double q,
                                             int64_t *out_ns)
{
    if (!(q >= 0.0 && q <= 1.0)) {
        return WD_EINVAL;
    }
    if (w->count == 0) {
        return WD_ESTATE;
    }
    int64_t *v = malloc((size_t)w->count * sizeof *v);
    if (v == NULL) {
        return WD_ENOMEM;
    }
    for (uint32_t i = 0, p = w->head; i < w->count; i++, p = p + 1u == w->cap ? 0u : p + 1u) {
        v[i] = w->ring[p].value_ns;
    }
    *out_ns = select_kth(v, w->count, (size_t)rank_of(q, w->count) - 1u);
    free(v);
    return WD_OK;
}
