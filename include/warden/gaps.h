/*
 * Missing market data per symbol over a time window: the playbook's
 * find_data_gaps (P2-2 step 4, "What time range is missing?"), behind
 * `warden gaps`.
 *
 * Two kinds of stream per symbol:
 *  - bars: bars with interval_s set a cadence. While the market is open,
 *    bars are expected at open, open + interval, ... (slots starting before
 *    the close). A run of missing slots is one gap, from the first missing
 *    slot's start to the next bar's start (clipped to the close and to the
 *    window). A bar belongs to the slot its ts falls in.
 *  - quotes: quotes, trades and bars without interval_s (or with one over
 *    a day). A silence longer
 *    than detect.staleness_s (strictly) while the market is open is a gap;
 *    time outside trading hours never counts, and each session is judged
 *    on its own (a silence over a close is two pieces).
 * The window is [start, end). Silence is measured from the window start,
 * so a symbol whose data starts late has a gap at the beginning.
 *
 * Events must come in time order per symbol stream; an earlier one (or a
 * second bar in the same slot, or a bar outside trading hours) is counted
 * in `ignored` and changes nothing else.
 *
 * Pure: no I/O, no clock. Memory grows with the number of symbols and of
 * gaps found, up to max_gaps.
 */
#ifndef WD_CORE_GAPS_H
#define WD_CORE_GAPS_H

#include <stddef.h>
#include <stdint.h>

#include "warden/config.h"
#include "warden/event.h"
#include "warden/status.h"
#include "warden/tz.h"

enum wd_gap_kind { WD_GAP_BARS = 0, WD_GAP_QUOTES = 1 };

/* "bars" / "quotes"; static. */
const char *wd_gap_kind_name(enum wd_gap_kind k);

struct wd_gap {
    uint32_t symbol; /* interned id */
    enum wd_gap_kind kind;
    int64_t start_ns, end_ns; /* [start, end) */
};

/* One symbol stream's summary over the window. */
struct wd_gap_stream {
    uint32_t symbol;
    enum wd_gap_kind kind;
    int64_t interval_s;  /* bars: the cadence (that of the symbol's first bar); quotes: 0 */
    uint64_t expected;   /* bars: slots in trading hours in the window; quotes: 0 */
    uint64_t received;   /* bars: slots with a bar; quotes: events in the window */
    int64_t open_ns;     /* trading time inside the window */
    uint64_t gaps;       /* gaps found */
    int64_t missing_ns;  /* their total duration */
    uint64_t ignored;    /* out of order, duplicate bars, bars outside hours */
    double completeness; /* bars: received / expected; quotes: 1 - missing / open;
                            1 when there was nothing to expect */
};

#define WD_GAPS_DEFAULT_MAX 1000000u

struct wd_gaps_opts {
    const struct wd_config *cfg; /* borrowed: session hours, detect.staleness_s */
    const struct wd_tz *tz;      /* borrowed: session time zone */
    int64_t start_ns;            /* window start */
    int64_t end_ns;              /* window end; INT64_MAX: open-ended, the end is given to
                                    wd_gaps_finish (events at that instant then count) */
    uint32_t max_gaps;           /* 0: WD_GAPS_DEFAULT_MAX */
};

struct wd_gaps;

/* WD_EINVAL: end <= start. WD_ENOMEM. opts->cfg and tz must outlive g. */
enum wd_status wd_gaps_new(const struct wd_gaps_opts *opts, struct wd_gaps **out) WD_MUST_USE;
void wd_gaps_free(struct wd_gaps *g);

/* A symbol that must have market data (limits.symbols): without any event
 * it is one quotes stream, silent the whole window. */
enum wd_status wd_gaps_expect(struct wd_gaps *g, uint32_t symbol) WD_MUST_USE;

/* One decoded event: quotes, trades and bars are taken (a stream is opened
 * for their symbol even when they lie outside the window), every other
 * type is ignored. WD_ENOMEM; WD_EFULL when more than max_gaps gaps.
 * After an error g is good only for wd_gaps_free. */
enum wd_status wd_gaps_add(struct wd_gaps *g, const struct wd_event *ev) WD_MUST_USE;

/* Ends the window at end_ns (<= the end given at creation, > start;
 * WD_EINVAL otherwise) and closes every stream: the trailing silences and
 * missing bars become gaps. Call once, after the last event. WD_ENOMEM,
 * WD_EFULL as for wd_gaps_add. */
enum wd_status wd_gaps_finish(struct wd_gaps *g, int64_t end_ns) WD_MUST_USE;

/* The gaps found, per stream in time order, streams in order of first
 * appearance. Valid until the next call that changes g. */
size_t wd_gaps_count(const struct wd_gaps *g);
const struct wd_gap *wd_gaps_at(const struct wd_gaps *g, size_t i);

/* The streams, in order of first appearance (after wd_gaps_finish). */
size_t wd_gaps_stream_count(const struct wd_gaps *g);
void wd_gaps_stream(const struct wd_gaps *g, size_t i, struct wd_gap_stream *out);

#endif /* WD_CORE_GAPS_H */
