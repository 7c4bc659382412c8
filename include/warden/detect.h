/*
 * Detector building blocks (playbook "Detect & Alert"), driven by event
 * time: a hysteresis latch, the order-rejection window of P1-3 (with the
 * top reasons, the playbook's `sort | uniq -c` view), and the intent->ack
 * latency window of P2-1. The engine feeds them and turns their transitions
 * into incident and alert outputs. Pure; memory fixed at init.
 */
#ifndef WD_CORE_DETECT_H
#define WD_CORE_DETECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "warden/event.h"
#include "warden/hist.h"
#include "warden/status.h"

/* ---- hysteresis -------------------------------------------------------------- */

/* Opens when the measured value goes above `open`, closes only when it goes
 * below `close` (close < open): a value inside the band changes nothing. */
struct wd_hyst {
    bool open;
    int64_t since_ns; /* when it last opened or closed */
};

enum wd_hyst_step { WD_HYST_SAME = 0, WD_HYST_OPENED, WD_HYST_CLOSED };

enum wd_hyst_step wd_hyst_update(struct wd_hyst *h, double value, double open, double close,
                                 int64_t ts_ns);

/* ---- rejections (P1-3) ---------------------------------------------------------- */

#define WD_REJECT_REASONS 32     /* distinct reasons tracked; more fold into "other" */
#define WD_REJECT_REASON_MAX 64  /* bytes of a reason kept */

struct wd_reject_reason {
    char text[WD_REJECT_REASON_MAX + 1];
    uint32_t count; /* rejections with this reason in the window */
};

struct wd_reject_window {
    uint32_t cap;          /* window_orders */
    int64_t window_ns;     /* window_s */
    int64_t *ts;           /* ring of ack times */
    uint8_t *reason;       /* ring: 0 accepted/cancelled, 1 + reason index if rejected */
    uint32_t head, count;  /* head: oldest */
    uint32_t rejected;
    uint32_t n_reasons;
    struct wd_reject_reason reasons[WD_REJECT_REASONS + 1]; /* last: "other" */
};

enum wd_status wd_reject_init(struct wd_reject_window *w, uint32_t window_orders,
                              int64_t window_s) WD_MUST_USE;
void wd_reject_destroy(struct wd_reject_window *w);

/* One acknowledgement at ts: rejected or not, with its reason (raw JSON
 * string content; empty when none). Older entries leave the window by
 * count (window_orders) and by time (window_s). */
void wd_reject_add(struct wd_reject_window *w, int64_t ts_ns, bool rejected, struct wd_str reason);

/* Drops entries older than now - window_s. */
void wd_reject_expire(struct wd_reject_window *w, int64_t now_ns);

/* rejected / acknowledged in the window (0 when empty). */
double wd_reject_ratio(const struct wd_reject_window *w);

/* Writes "N reason, N reason, ..." (most frequent first, ties by first
 * seen, at most k) into buf. */
void wd_reject_top(const struct wd_reject_window *w, unsigned k, char *buf, size_t cap);

#endif /* WD_CORE_DETECT_H */
