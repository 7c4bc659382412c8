/*
 * The metrics registry and its Prometheus text exposition (format 0.0.4),
 * the figures behind `GET /metrics` (SPEC, metrics :8000; issue 6 point 2).
 *
 * The registry holds a fixed set of metric families (docs/METRICS.md): the
 * caller sets their values (from the book, the states, the incidents, its
 * own counters) and wd_metrics_render writes them as text. Series appear
 * once their value is first set; labelled series are kept in byte order of
 * their label values, so the same values always give the same bytes.
 *
 * Pure: nothing here reads a clock or does I/O; the text goes into a
 * caller's struct wd_render_buf. Not thread-safe: one owner at a time (the
 * HTTP adapter serialises the daemon and the scrapes with its lock).
 * Every table is bounded (WD_METRICS_MAX_SERIES per family, WD_EFULL past
 * it) and label values are at most WD_METRICS_LABEL_MAX bytes of UTF-8.
 */
#ifndef WD_CORE_METRICS_H
#define WD_CORE_METRICS_H

#include <stdbool.h>
#include <stdint.h>

#include "warden/render.h"
#include "warden/state.h"
#include "warden/status.h"

#define WD_METRICS_MAX_SERIES 4096 /* label sets per family */
#define WD_METRICS_LABEL_MAX 128   /* bytes of one label value */

/* The finite upper bounds of the intent->ack latency histogram buckets, in
 * nanoseconds, ascending (the exposition writes them in seconds: 0.005,
 * 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10); a last bucket, +Inf,
 * follows. A bucket counts the values <= its bound (cumulative). */
#define WD_METRICS_LATENCY_BOUNDS 11
extern const int64_t wd_metrics_latency_bounds_ns[WD_METRICS_LATENCY_BOUNDS];

struct wd_metrics;

/* A new, empty registry (from malloc; free with wd_metrics_free). The
 * unlabelled series (rejection ratio, consumer lag, latency histogram,
 * counters) exist from the start, at 0. WD_ENOMEM. */
enum wd_status wd_metrics_new(struct wd_metrics **out) WD_MUST_USE;

/* Frees m and everything it holds. NULL is a no-op. */
void wd_metrics_free(struct wd_metrics *m);

/* ---- per scope ("firm", "account:NAME", "strategy:NAME") ------------------
 * scope is checked with wd_scope_parse (WD_EINVAL if malformed). Setting a
 * value of a new scope adds the scope (WD_EFULL past the bound, WD_ENOMEM);
 * on error nothing changes. Ratios are fractions (0.05 is 5%); equity is in
 * the account currency. */
enum wd_status wd_metrics_set_figures(struct wd_metrics *m, const char *scope, double equity,
                                      double daily_pnl_ratio, double drawdown,
                                      double max_drawdown) WD_MUST_USE;

/* The probabilistic Sharpe ratio of the scope, in [0, 1]. */
enum wd_status wd_metrics_set_psr(struct wd_metrics *m, const char *scope,
                                  double psr) WD_MUST_USE;

/* The trading state of the scope: rendered as one series per state,
 * `warden_trading_state{scope="...",state="HALTED"} 1` and 0 for the other
 * three (WD_EINVAL for a value outside enum wd_tstate). */
enum wd_status wd_metrics_set_state(struct wd_metrics *m, const char *scope,
                                    enum wd_tstate state) WD_MUST_USE;

/* ---- unlabelled ------------------------------------------------------------ */

/* One intent->ack latency (WD_ERANGE if negative; nothing changes). */
enum wd_status wd_metrics_observe_latency(struct wd_metrics *m, int64_t latency_ns) WD_MUST_USE;

/* Rejected / (accepted + rejected) intents over the detector's window. */
void wd_metrics_set_rejection_ratio(struct wd_metrics *m, double ratio);

/* Messages the consumer is behind its input (Kafka lag; 0 for a file). */
void wd_metrics_set_consumer_lag(struct wd_metrics *m, uint64_t messages);

/* Counters are totals since the process (or the store) started, set by the
 * owner of the count. WD_ERANGE if a total would go down (a counter never
 * decreases); nothing changes then. */
enum wd_status wd_metrics_set_events(struct wd_metrics *m, uint64_t processed,
                                     uint64_t malformed) WD_MUST_USE;

/* ---- labelled by a name ------------------------------------------------------ */

/* Seconds since the last market data of symbol (a non-empty UTF-8 label
 * value, WD_EINVAL otherwise). */
enum wd_status wd_metrics_set_staleness(struct wd_metrics *m, const char *symbol,
                                        double seconds) WD_MUST_USE;

/* Open incidents of a severity ("P0".."P3") and scenario. A pair set once
 * stays (at 0 when none is open) until wd_metrics_clear_incidents, which
 * the caller may call before setting the current counts afresh. */
enum wd_status wd_metrics_set_open_incidents(struct wd_metrics *m, const char *severity,
                                             const char *scenario, uint64_t count) WD_MUST_USE;
void wd_metrics_clear_incidents(struct wd_metrics *m);

/* ---- Kafka (docs/KAFKA.md) ------------------------------------------------------- */

/* Messages behind on one input topic partition: a series of
 * warden_consumer_lag_messages labelled topic and partition (the
 * unlabelled series stays the total). WD_EINVAL for a bad topic label or
 * a negative partition. Like the incidents, the owner clears them and sets
 * the assigned partitions afresh (a revoked one goes away). */
enum wd_status wd_metrics_set_partition_lag(struct wd_metrics *m, const char *topic,
                                            int32_t partition, uint64_t messages) WD_MUST_USE;
void wd_metrics_clear_partition_lag(struct wd_metrics *m);

/* The event-time merge's figures (include/warden/merge.h); rendered once
 * on is set. */
struct wd_metrics_merge {
    bool on;
    uint64_t held, held_max, released_late;
    uint64_t paused; /* partitions paused now (flow control while catching up) */
    double max_wait_seconds, backlog_wait_seconds;
};
void wd_metrics_set_merge(struct wd_metrics *m, const struct wd_metrics_merge *merge);

/* ---- exposition --------------------------------------------------------------- */

/* Appends the Prometheus text exposition (version 0.0.4) of every family
 * to out: `# HELP`, `# TYPE`, then its series, in the order of
 * docs/METRICS.md. Label values are escaped (\\, \", \n); numbers are the
 * shortest decimal that reads back as the same double (NaN, +Inf, -Inf as
 * Prometheus spells them). On error (WD_EFULL past out->max, WD_ENOMEM)
 * out is back at its length before the call. */
enum wd_status wd_metrics_render(const struct wd_metrics *m, struct wd_render_buf *out) WD_MUST_USE;

/* The Content-Type of that text. */
#define WD_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

#endif /* WD_CORE_METRICS_H */
