/*
 * Probabilistic Sharpe Ratio (Bailey & Lopez de Prado, 2012) and the rolling
 * sampler that feeds it equity returns on a fixed event-time grid.
 *
 * The PSR is a ratio of statistics, not money, so it is computed in doubles
 * (the book's figures stay in fixed point; see docs/internals/NUMBERS.md).
 * The moments use a two-pass computation (mean first, then central sums)
 * so that returns of 1e-4 around a mean of 1e-4 lose no digits to
 * cancellation, and a window of identical returns has a standard deviation
 * of exactly zero. Design notes: docs/internals/PSR.md.
 *
 * Pure: no I/O, no clock (time arrives with each observation), no
 * allocation; only sqrt, erfc and comparisons from libm.
 */
#include <assert.h>
#include <math.h>
#include <string.h>

#include "warden/psr.h"

/* Every product and sum below is rounded on its own, so that the figures
 * are the same bits on every IEEE 754 machine and a replay reproduces the
 * very event a kill-switch fired on. GCC in ISO mode (-std=c11) never fuses
 * a*b+c into an FMA; clang does by default, within an expression, unless
 * told not to. GCC does not know the pragma and would warn about it. */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

#define NS_PER_S 1000000000LL

/* The order-preserving bijection int64 -> uint64 (INT64_MIN -> 0), so that
 * grid arithmetic near either end of the time line cannot overflow. */
static uint64_t ts_to_ord(int64_t ts) { return (uint64_t)ts + (UINT64_C(1) << 63); }

static int64_t ts_from_ord(uint64_t u)
{
    if (u >= (UINT64_C(1) << 63))
        return (int64_t)(u - (UINT64_C(1) << 63));
    return (int64_t)u - INT64_MAX - 1;
}

/* The returns are buf[(head + i) mod cap] for i in [0, n): the chronological
 * order of the ring buffer, or a plain array with head 0 and cap n. The sums
 * run in that order, so the window's statistics are bit for bit those of
 * wd_psr_compute() on the same returns written out oldest first. */
static double at(const double *buf, size_t cap, size_t head, size_t i)
{
    size_t k = head + i;
    if (k >= cap)
        k -= cap;
    return buf[k];
}

static void stats_of(const double *buf, size_t cap, size_t head, size_t n, double benchmark,
                     struct wd_psr_stats *out)
{
    double sum = 0.0, s2 = 0.0, s3 = 0.0, s4 = 0.0;
    double mean, m2, m3, m4, sd, sr, skew, kurt, radicand, g3sr, sr2, z;
    double dn = (double)n;
    bool constant = true;
    double first;

    out->n = n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
    out->mean = out->sd = out->sr = out->skew = out->kurt = out->psr = (double)NAN;
    if (n == 0)
        return;

    /* Pass 1: the mean. Identical returns are recognised exactly: their
     * rounded mean may differ from them by an ulp, which would otherwise
     * leave a tiny non-zero deviation and an absurd Sharpe ratio. */
    first = at(buf, cap, head, 0);
    for (size_t i = 0; i < n; i++) {
        double x = at(buf, cap, head, i);
        sum += x;
        if (x != first)
            constant = false;
    }
    mean = constant ? first : sum / dn;
    out->mean = mean;
    if (n < 2)
        return;

    /* Pass 2: central sums about that mean. */
    if (!constant) {
        for (size_t i = 0; i < n; i++) {
            double d = at(buf, cap, head, i) - mean;
            double d2 = d * d;
            double d3 = d2 * d;
            double d4 = d2 * d2;
            s2 += d2;
            s3 += d3;
            s4 += d4;
        }
    }
    sd = sqrt(s2 / (double)(n - 1));
    out->sd = sd;
    if (!(sd > 0.0))
        return; /* constant returns (or deviations that underflow): undefined */

    /* Population central moments m_k = (1/n) sum (r - mean)^k. */
    m2 = s2 / dn;
    m3 = s3 / dn;
    m4 = s4 / dn;
    sr = mean / sd;
    skew = m3 / (m2 * sqrt(m2));
    kurt = m4 / (m2 * m2);
    out->sr = sr;
    out->skew = skew;
    out->kurt = kurt;

    /* 1 - g3 SR + (g4 - 1)/4 SR^2 >= (1 - g3 SR / 2)^2 >= 0, because
     * population moments satisfy g4 >= g3^2 + 1; it reaches zero only for a
     * two-valued sample at one particular SR, so a non-positive value is
     * that limit blurred by rounding. NaN inputs land here too. */
    g3sr = skew * sr;
    sr2 = sr * sr;
    radicand = 1.0 - g3sr;
    radicand += (kurt - 1.0) / 4.0 * sr2;
    if (!(radicand > 0.0))
        return;
    z = (sr - benchmark) * sqrt((double)(n - 1));
    z /= sqrt(radicand);
    out->psr = wd_psr_norm_cdf(z);
}

void wd_psr_compute(const double *r, size_t n, double benchmark, struct wd_psr_stats *out)
{
    assert(out != NULL);
    assert(r != NULL || n == 0);
    stats_of(r, n, 0, n, benchmark, out);
}

double wd_psr_norm_cdf(double x)
{
    /* erfc keeps its relative accuracy far into the lower tail, where
     * 0.5 * (1 + erf(x / sqrt 2)) would cancel to zero (Phi(-10) ~ 7.6e-24). */
    static const double sqrt2 = 1.41421356237309504880;
    return 0.5 * erfc(-x / sqrt2);
}

enum wd_status wd_psr_window_init(struct wd_psr_window *w, int64_t interval_s, uint32_t window)
{
    assert(w != NULL);
    if (interval_s <= 0 || window < 2 || window > WD_PSR_MAX_WINDOW)
        return WD_EINVAL;
    if (interval_s > INT64_MAX / NS_PER_S)
        return WD_ERANGE;
    memset(w, 0, sizeof *w);
    w->interval_ns = interval_s * NS_PER_S;
    w->window = window;
    w->next_sample_ns = INT64_MIN;
    w->has_last = false;
    w->last_equity = 0.0;
    w->head = 0; /* index of the oldest return */
    w->count = 0;
    return WD_OK;
}

/* Moves next_sample_ns (a grid point at or before ts) to the first grid
 * point strictly after ts. A grid point past INT64_MAX saturates there:
 * the last representable nanosecond (2262-04-11) may then take one
 * off-grid sample, which is harmless. */
static void advance_grid(struct wd_psr_window *w, int64_t ts_ns)
{
    uint64_t iv = (uint64_t)w->interval_ns;
    uint64_t next = ts_to_ord(w->next_sample_ns);
    uint64_t steps = (ts_to_ord(ts_ns) - next) / iv + 1;
    uint64_t room = UINT64_MAX - next;

    if (steps > room / iv)
        w->next_sample_ns = INT64_MAX;
    else
        w->next_sample_ns = ts_from_ord(next + steps * iv);
}

bool wd_psr_window_observe(struct wd_psr_window *w, int64_t ts_ns, double equity)
{
    double prev;
    uint32_t slot;

    assert(w != NULL && w->window >= 2 && w->window <= WD_PSR_MAX_WINDOW);
    if (!w->has_last) {
        /* The first observation starts the grid: first_ts + k * interval. */
        w->has_last = true;
        w->last_equity = equity;
        w->next_sample_ns = ts_ns;
        advance_grid(w, ts_ns);
        return false;
    }
    if (ts_ns < w->next_sample_ns)
        return false;

    /* A sample. However many grid points the gap covers, the equity moved
     * once as far as we can tell, so it is one return. */
    prev = w->last_equity;
    w->last_equity = equity;
    advance_grid(w, ts_ns);
    if (!(equity > 0.0) || !(prev > 0.0) || !isfinite(equity) || !isfinite(prev))
        return false;

    if (w->count < w->window) {
        slot = w->head + w->count;
        if (slot >= w->window)
            slot -= w->window;
        w->count++;
    } else {
        slot = w->head; /* overwrite the oldest */
        w->head = w->head + 1 == w->window ? 0 : w->head + 1;
    }
    w->r[slot] = equity / prev - 1.0;
    return true;
}

void wd_psr_window_stats(const struct wd_psr_window *w, double benchmark,
                         struct wd_psr_stats *out)
{
    assert(w != NULL && out != NULL);
    stats_of(w->r, w->window, w->head, w->count, benchmark, out);
}
