/*
 * Probabilistic Sharpe Ratio (Bailey & Lopez de Prado, 2012) over a rolling
 * window of equity returns sampled at a fixed event-time interval.
 *
 *   PSR(SR*) = Phi( (SR - SR*) * sqrt(n - 1)
 *                   / sqrt(1 - g3 * SR + (g4 - 1) / 4 * SR^2) )
 *
 * SR is the per-period Sharpe ratio of the window's returns (mean over
 * sample standard deviation), g3 their skewness and g4 their raw (not
 * excess) kurtosis, both the population moment ratios; SR* the benchmark.
 * Pure: time comes in with each observation.
 */
#ifndef WD_CORE_PSR_H
#define WD_CORE_PSR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "warden/status.h"

#define WD_PSR_MAX_WINDOW 4096

struct wd_psr_stats {
    uint32_t n;      /* returns in the window */
    double mean, sd; /* sd: sample standard deviation (n - 1) */
    double sr;       /* mean / sd */
    double skew;     /* g3 = m3 / m2^1.5 (population moments) */
    double kurt;     /* g4 = m4 / m2^2, raw (3 for a normal distribution) */
    double psr;      /* in [0, 1]; NaN when undefined (n < 2, sd == 0, or
                        a non-positive variance term) */
};

/* Computes the statistics of returns r[0..n) against the benchmark SR*. */
void wd_psr_compute(const double *r, size_t n, double benchmark, struct wd_psr_stats *out);

/* The standard normal CDF. */
double wd_psr_norm_cdf(double x);

/* A rolling sampler: feed it (ts, equity) on every equity change; every
 * interval_ns of event time it takes the equity as a sample and the return
 * since the previous sample enters the window (oldest dropped past
 * `window`). The first sample is taken at the first observation. */
struct wd_psr_window {
    int64_t interval_ns;
    uint32_t window;       /* <= WD_PSR_MAX_WINDOW */
    int64_t next_sample_ns;
    bool has_last;
    double last_equity;
    double r[WD_PSR_MAX_WINDOW]; /* ring buffer of returns */
    uint32_t head, count;
};

enum wd_status wd_psr_window_init(struct wd_psr_window *w, int64_t interval_s,
                                  uint32_t window) WD_MUST_USE;

/* Observes equity at ts_ns. Returns true when a new return entered the
 * window (the caller then re-evaluates the PSR). Equity <= 0 ends the
 * series' meaning: such samples are taken but yield no return. */
bool wd_psr_window_observe(struct wd_psr_window *w, int64_t ts_ns, double equity);

/* Statistics of the current window. */
void wd_psr_window_stats(const struct wd_psr_window *w, double benchmark,
                         struct wd_psr_stats *out);

#endif /* WD_CORE_PSR_H */
