/*
 * Order-flow statistics over a time window, for the playbook's P1-3 and
 * P2-1 checks done by hand: `warden rejects` (rejection rate and top
 * reasons, the `sort | uniq -c | sort -rn` view) and `warden latency`
 * (intent->ack percentiles).
 *
 * Fed in input order with intents, the gate's decision on each, and acks:
 *  - broker rejections: acks with status rejected over acks accepted or
 *    rejected (cancellations are counted apart, as the P1-3 detector does),
 *    by reason, and the highest rate over a sliding window of the last
 *    `reject_window_orders` acks within `reject_window_s`;
 *  - gate rejections: rejected decisions over decisions, by reason;
 *  - latency: the first ack of an intent id minus the intent's ts, in an
 *    HDR histogram (percentiles at most 1/256 high, see hist.h), overall and
 *    per account (the intent's); acks with no known intent; intents the
 *    gate accepted that were never acked.
 * What is counted is what happens inside [start, end): acks and latencies
 * by the ack's ts, intents and decisions by theirs.
 *
 * Pure: no I/O, no clock. Memory: one record per distinct intent id (up to
 * max_orders), one histogram (72 KiB) per account with a latency.
 */
#ifndef WD_CORE_FLOW_H
#define WD_CORE_FLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "warden/event.h"
#include "warden/hist.h"
#include "warden/intern.h"
#include "warden/status.h"

/* ---- a bounded count by reason ---------------------------------------------- */

#define WD_TALLY_OTHER "(other reasons)" /* where reasons past the bound go */
#define WD_TALLY_NONE "(none)"           /* an empty reason */

struct wd_tally {
    struct wd_intern names; /* reasons as raw JSON string content, at most 64 bytes
                               (longer ones cut, ending in "...") */
    uint64_t *counts;       /* owned, by name id */
    uint32_t n_counts;
    uint32_t max_reasons;
    uint64_t other, total;
};

struct wd_tally_entry {
    const char *reason; /* owned by the tally */
    uint64_t count;
};

/* max_reasons >= 1 distinct reasons are kept; more are counted in `other`. */
enum wd_status wd_tally_init(struct wd_tally *t, uint32_t max_reasons) WD_MUST_USE;
void wd_tally_destroy(struct wd_tally *t);

/* Counts one occurrence of reason (raw JSON string content; empty: "(none)").
 * WD_ENOMEM (nothing counted). */
enum wd_status wd_tally_add(struct wd_tally *t, struct wd_str reason) WD_MUST_USE;

/* The reasons, by count descending, then reason ascending (bytewise), the
 * "(other reasons)" bucket last when not empty. out must hold
 * wd_tally_size(t) entries; returns how many were written. */
size_t wd_tally_size(const struct wd_tally *t);
size_t wd_tally_sorted(const struct wd_tally *t, struct wd_tally_entry *out);

/* ---- order flow ----------------------------------------------------------------- */

struct wd_flow_opts {
    int64_t start_ns, end_ns;      /* the window; INT64_MIN / INT64_MAX: open */
    uint32_t max_orders;           /* distinct intent ids remembered; 0: 10,000,000 */
    uint32_t max_reasons;          /* per tally; 0: 1,000 */
    uint32_t reject_window_orders; /* sliding window for the peak broker reject rate */
    int64_t reject_window_s;       /* (detect.reject); 0: no peak */
    uint32_t reject_min_acks;      /* acks in the sliding window before a rate counts */
};

struct wd_flow_latency {
    uint64_t count;
    int64_t p50_ns, p95_ns, p99_ns; /* never below the exact nearest-rank value, at
                                       most 1/256 above it, and never above max */
    int64_t max_ns;                 /* exact */
};

struct wd_flow_stats {
    uint64_t intents, decisions, gate_rejected;
    uint64_t acks, acks_accepted, acks_rejected, acks_cancelled;
    double broker_rate; /* acks_rejected / (acks_accepted + acks_rejected); 0 if none */
    double gate_rate;   /* gate_rejected / decisions; 0 if none */
    double peak_rate;   /* highest sliding-window broker rate; 0 if never measured */
    int64_t peak_ts_ns; /* when it was reached (first time) */
    uint32_t peak_acks; /* acks in the window then */
    uint64_t acks_without_intent; /* acks whose id no intent carried */
    uint64_t never_acked;         /* intents the gate accepted, with no ack by the end */
    uint64_t untracked;           /* intents not tracked (id over 64 bytes, or past
                                     max_orders), and acks with such an id */
    uint64_t negative;            /* acks timed before their intent: no latency taken */
    struct wd_flow_latency latency;
};

struct wd_flow;

enum wd_status wd_flow_new(const struct wd_flow_opts *opts, struct wd_flow **out) WD_MUST_USE;
void wd_flow_free(struct wd_flow *f);

/* An intent event. WD_ENOMEM. Past max_orders distinct ids, or with an id
 * over 64 bytes, the intent is counted but not tracked (`untracked`). */
enum wd_status wd_flow_intent(struct wd_flow *f, const struct wd_event *ev) WD_MUST_USE;

/* The gate's decision on the intent with id, at ts_ns; reason "" on accept. */
enum wd_status wd_flow_decision(struct wd_flow *f, int64_t ts_ns, struct wd_str id, bool accept,
                                const char *reason) WD_MUST_USE;

/* An ack event. WD_ENOMEM. */
enum wd_status wd_flow_ack(struct wd_flow *f, const struct wd_event *ev) WD_MUST_USE;

/* The figures so far (never_acked as if the input ended now). */
void wd_flow_stats(const struct wd_flow *f, struct wd_flow_stats *out);

/* Broker rejections (acks) and gate rejections (decisions) by reason. */
const struct wd_tally *wd_flow_broker_reasons(const struct wd_flow *f);
const struct wd_tally *wd_flow_gate_reasons(const struct wd_flow *f);

/* Latency of the intents of one account (interned id); false when it has
 * none in the window. */
bool wd_flow_account_latency(const struct wd_flow *f, uint32_t account,
                             struct wd_flow_latency *out);

/* Account ids that may have a latency: 0 .. this - 1. */
uint32_t wd_flow_account_slots(const struct wd_flow *f);

#endif /* WD_CORE_FLOW_H */
