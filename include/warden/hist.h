/*
 * A bounded-memory latency histogram (HdrHistogram style) and a sliding
 * event-time window over it, for quantile detectors such as P2-1
 * ("p95 intent->ack over window_s > 1 s, recovered < 200 ms").
 *
 * Values are non-negative int64 nanoseconds. Buckets are log-linear: each
 * power of two [2^e, 2^(e+1)) is cut into WD_HIST_SUB_COUNT equal buckets,
 * so every value below 2 * WD_HIST_SUB_COUNT (512 ns) has a bucket of its
 * own and every larger one shares a bucket no wider than 1/256 of its
 * lower edge. A quantile reports the highest value of the bucket holding
 * the exact nearest-rank quantile, so it never under-reports and
 * over-reports by less than 1/256 (0.39%). Values above WD_HIST_MAX_NS
 * (about 73 minutes) are counted in the top bucket and in `clamped`.
 * Layout and the error arithmetic: docs/internals/HISTOGRAM.md.
 *
 * Pure: no I/O, no clock (time comes in as arguments), and no allocation
 * after init. Not thread-safe; one owner at a time.
 */
#ifndef WD_CORE_HIST_H
#define WD_CORE_HIST_H

#include <stdbool.h>
#include <stdint.h>

#include "warden/status.h"

#define WD_HIST_SUB_BITS 8                            /* log2 of buckets per power of two */
#define WD_HIST_SUB_COUNT (1 << WD_HIST_SUB_BITS)     /* 256 */
#define WD_HIST_MAX_BITS 42                           /* values below 2^42 ns are kept */
#define WD_HIST_MAX_NS ((INT64_C(1) << WD_HIST_MAX_BITS) - 1) /* 4398046511103 ns, ~73.3 min */
/* Buckets come in groups of WD_HIST_SUB_COUNT: group 0 is [0, 256), group
 * 1 is [256, 512), and group g >= 1 is [2^(g+7), 2^(g+8)) in 256 buckets
 * of width 2^(g-1). The last group ends at WD_HIST_MAX_NS. */
#define WD_HIST_GROUPS (WD_HIST_MAX_BITS - WD_HIST_SUB_BITS + 1) /* 35 */
#define WD_HIST_BUCKETS (WD_HIST_GROUPS * WD_HIST_SUB_COUNT)      /* 8960 */

/* Caller-owned; fields are read-only outside src/core/hist.c. */
struct wd_hist {
    uint64_t *counts;                 /* owned: WD_HIST_BUCKETS counters, calloc()ed
                                         once in wd_hist_init, freed in destroy */
    uint64_t groups[WD_HIST_GROUPS]; /* sum of counts[] per group (quantile index) */
    uint64_t total;                   /* values currently recorded */
    uint64_t clamped;                 /* of which above WD_HIST_MAX_NS (top bucket) */
};

/* Allocates the counters (WD_HIST_BUCKETS * 8 = 71,680 bytes) and starts
 * empty. WD_ENOMEM leaves h zeroed; wd_hist_destroy is safe either way. */
enum wd_status wd_hist_init(struct wd_hist *h) WD_MUST_USE;

/* Frees the counters and zeroes h. Safe on a zeroed or destroyed h. */
void wd_hist_destroy(struct wd_hist *h);

/* Forgets every value; keeps the memory. */
void wd_hist_reset(struct wd_hist *h);

/* Counts one value. Values above WD_HIST_MAX_NS go into the top bucket and
 * `clamped`. WD_ERANGE: value_ns < 0. WD_EFULL: total would pass
 * UINT64_MAX. On error nothing changes. */
enum wd_status wd_hist_record(struct wd_hist *h, int64_t value_ns) WD_MUST_USE;

/* The exact inverse of wd_hist_record(h, value_ns): after a record and a
 * remove of the same value, h is bit-for-bit what it was. WD_ERANGE:
 * value_ns < 0. WD_ESTATE: no recorded value shares value_ns's bucket
 * (for a value above WD_HIST_MAX_NS: no clamped value; for a value in the
 * top bucket: no unclamped one). On error nothing changes. */
enum wd_status wd_hist_remove(struct wd_hist *h, int64_t value_ns) WD_MUST_USE;

/* Adds every count of src to dst (dst == src doubles it). WD_ERANGE: the
 * total would pass UINT64_MAX; dst is then unchanged. */
enum wd_status wd_hist_merge(struct wd_hist *dst, const struct wd_hist *src) WD_MUST_USE;

/* The nearest-rank q-quantile, q in [0, 1]: with n values, the rank is
 * r = ceil(q * n) clamped to [1, n] (q * n within 1e-12 of an integer counts
 * as that integer, so q = 0.95 of 100 values is rank 95 despite binary
 * rounding), and *out_ns is the highest value of the bucket holding the
 * r-th smallest recorded value x: x <= *out_ns < x + x / 256, and
 * *out_ns == x below 512 ns. A clamped x reports WD_HIST_MAX_NS.
 * WD_EINVAL: q outside [0, 1] or NaN. WD_ESTATE: the histogram is empty.
 * *out_ns is written only on WD_OK. */
enum wd_status wd_hist_quantile(const struct wd_hist *h, double q, int64_t *out_ns) WD_MUST_USE;

/* The value a quantile reports for value_ns: the highest value of its
 * bucket (WD_HIST_MAX_NS above that; 0 for a negative value). */
int64_t wd_hist_upper_ns(int64_t value_ns);

static inline uint64_t wd_hist_count(const struct wd_hist *h) { return h->total; }
static inline uint64_t wd_hist_clamped(const struct wd_hist *h) { return h->clamped; }

/* ---- sliding event-time window ------------------------------------------ */

#define WD_HIST_WATCHES 2 /* bounds a window can watch (see wd_hist_window_watch) */

#define WD_HIST_WINDOW_MAX_CAP (UINT32_C(1) << 22) /* samples; 64 MiB of ring */

struct wd_hist_sample {
    int64_t ts_ns;    /* event time the sample entered (see add) */
    int64_t value_ns;
};

/* The samples of the last window_ns of event time, at most cap of them, in
 * a ring (oldest at head) and in a histogram that holds exactly the ring's
 * samples. "Now" is the newest time passed to add or expire; a sample
 * stays while ts_ns >= now - window_ns, that is until now passes
 * ts_ns + window_ns. Caller-owned; fields read-only outside hist.c. */
struct wd_hist_window {
    struct wd_hist hist;
    struct wd_hist_sample *ring; /* owned: cap samples, malloc()ed once in init */
    uint32_t cap, head, count;
    int64_t window_ns;
    int64_t now_ns;              /* INT64_MIN until the first add or expire */
    uint64_t overflowed;         /* samples evicted early because the ring was full */
    int64_t watch_bound[WD_HIST_WATCHES]; /* see wd_hist_window_watch */
    uint32_t watch_above[WD_HIST_WATCHES]; /* samples now in the window above it */
    bool watching[WD_HIST_WATCHES];
};

/* window_ns > 0; 1 <= cap <= WD_HIST_WINDOW_MAX_CAP (WD_EINVAL otherwise).
 * Memory: 71,680 + 16 * cap bytes, all allocated here. WD_ENOMEM leaves w
 * zeroed; wd_hist_window_destroy is safe either way. */
enum wd_status wd_hist_window_init(struct wd_hist_window *w, int64_t window_ns,
                                   uint32_t cap) WD_MUST_USE;

/* Frees the ring and the histogram and zeroes w. Safe on a zeroed w. */
void wd_hist_window_destroy(struct wd_hist_window *w);

/* Adds a sample observed at event time ts_ns. A ts_ns past now advances
 * now to it and first expires what fell out of the window. A late ts_ns
 * (before now, but not before now - window_ns) is stored as now, which
 * keeps the ring in time order; it then stays up to now - ts_ns longer
 * than its own time would. If the ring is still full, the oldest sample
 * is evicted and counted in `overflowed`. WD_ERANGE: value_ns < 0, or
 * ts_ns < now - window_ns (already outside the window); nothing changes. */
enum wd_status wd_hist_window_add(struct wd_hist_window *w, int64_t ts_ns,
                                  int64_t value_ns) WD_MUST_USE;

/* Advances now to now_ns (an earlier now_ns changes nothing: time does not
 * go back) and evicts the samples older than now - window_ns. Returns how
 * many left. Call it before reading a quantile on a tick without samples. */
uint32_t wd_hist_window_expire(struct wd_hist_window *w, int64_t now_ns);

/* wd_hist_quantile over the samples now in the window (no expiry here). */
enum wd_status wd_hist_window_quantile(const struct wd_hist_window *w, double q,
                                       int64_t *out_ns) WD_MUST_USE;

/* Watches bound_ns in slot k (< WD_HIST_WATCHES): from now on the window
 * keeps the number of its samples above bound_ns (exact values, not
 * buckets), so that wd_hist_window_exceeds answers in O(1). Counts the
 * samples present once. */
void wd_hist_window_watch(struct wd_hist_window *w, unsigned k, int64_t bound_ns);

/* Whether the exact nearest-rank q-quantile of the window's samples (the
 * rank of wd_hist_quantile, over the values themselves) is above the bound
 * watched in slot k. false when the window is empty, q is outside [0, 1],
 * or slot k watches nothing. wd_hist_window_quantile may differ from the
 * exact quantile by the bucket width (< 0.4%); this test does not. */
bool wd_hist_window_exceeds(const struct wd_hist_window *w, double q, unsigned k);

/* The exact nearest-rank q-quantile of the window's samples (what
 * wd_hist_window_exceeds compares): O(count), allocating a scratch copy;
 * for reports, not for every sample. WD_EINVAL: q outside [0, 1];
 * WD_ESTATE: empty; WD_ENOMEM. */
enum wd_status wd_hist_window_exact_quantile(const struct wd_hist_window *w, double q,
                                             int64_t *out_ns) WD_MUST_USE;

static inline uint32_t wd_hist_window_count(const struct wd_hist_window *w) { return w->count; }
static inline uint64_t wd_hist_window_overflowed(const struct wd_hist_window *w)
{
    return w->overflowed;
}

#endif /* WD_CORE_HIST_H */
