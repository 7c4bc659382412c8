/*
 * The detectors through the engine, on exact boundaries (issue 4, point 9).
 * For every scenario the engine detects (P1-3 rejection spike by rate, by
 * the 100-order window and by the 300 s window; P2-1 latency p95; P1-2
 * consumer lag and kafka heartbeat; P1-1 broker heartbeat, heartbeat
 * timeout and market-wide silence; P2-2 per-symbol staleness, sequence
 * gaps and malformed lines; P0-3 unauthorized fills) the tests pin, by
 * event_no: the event just before the threshold emits nothing; the
 * crossing event emits exactly the incident (scenario, severity, status,
 * scope); events inside the hysteresis band emit nothing; the event past
 * the recovery threshold emits the recovery once. Every output is
 * consumed in order (tests/unit/recorder.h), so an extra one fails.
 * Staleness outside market hours (weekend, holiday, before the open)
 * never fires. The kill-switches (P0-1, P0-2, PSR) are pinned the same
 * way in test_engine.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "warden/book.h"
#include "warden/detect.h"
#include "warden/engine.h"
#include "warden/serial.h"
#include "warden/timeutil.h"

#include "recorder.h"

struct fx {
    struct wd_config cfg;
    struct wd_tz *tz;
    struct eng g; /* the engine, its decoder and the recorded outputs */
    bool started;
};

static int setup(void **state)
{
    static const char ny[] = "EST5EDT,M3.2.0,M11.1.0";
    struct fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    assert_int_equal(wd_config_init(&f->cfg), WD_OK);
    assert_int_equal(wd_tz_from_posix(ny, strlen(ny), &f->tz, NULL), WD_OK);
    *state = f;
    return 0;
}

static void start(struct fx *f)
{
    struct wd_error err = {0};
    if (eng_open(&f->g, &f->cfg, f->tz, NULL, NULL, &err) != WD_OK) {
        fail_msg("engine: %s", err.msg);
    }
    f->started = true;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    if (f->started) {
        eng_close(&f->g);
    }
    wd_tz_free(f->tz);
    wd_config_destroy(&f->cfg);
    free(f);
    return 0;
}

static void feed(struct fx *f, const char *fmt, ...) WD_PRINTF(2, 3);
static void feed(struct fx *f, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    assert_true(n > 0 && (size_t)n < sizeof line);
    eng_process(&f->g, line);
}

/* Monday 2025-11-17 at h:m:s New York time (EST, UTC-5), plus ns. */
static int64_t ny(int h, int m, int s, int64_t ns)
{
    return (wd_days_from_civil(2025, 11, 17) * 86400 + (h + 5) * 3600 + m * 60 + s) * WD_NS_PER_S +
           ns;
}

/* How many outputs of a type were recorded so far, and the latest. */
static size_t count(const struct fx *f, enum wd_out_type type)
{
    size_t n = 0;
    for (size_t i = 0; i < f->g.out.n; i++) {
        n += f->g.out.v[i].type == type;
    }
    return n;
}

static const struct rec *latest(const struct fx *f, enum wd_out_type type)
{
    for (size_t i = f->g.out.n; i-- > 0;) {
        if (f->g.out.v[i].type == type) {
            return &f->g.out.v[i];
        }
    }
    fail_msg("no output of type %d recorded", (int)type);
    return NULL;
}

/* The latest alert as "scenario severity scope: detail". */
static const char *last_alert(const struct fx *f)
{
    static char buf[512];
    const struct rec *r = latest(f, WD_OUT_ALERT);
    snprintf(buf, sizeof buf, "%s %s %s: %s", r->scenario, r->severity, r->scope, r->detail);
    return buf;
}

/* The latest control as "action scope". */
static const char *last_control(const struct fx *f)
{
    static char buf[128];
    const struct rec *r = latest(f, WD_OUT_CONTROL);
    snprintf(buf, sizeof buf, "%s %s", r->action, r->scope);
    return buf;
}

/* Exactly expect_count incident outputs so far; the latest of them. */
static const struct rec *last(struct fx *f, size_t expect_count)
{
    size_t n = count(f, WD_OUT_INCIDENT);
    if (n != expect_count) {
        const struct rec *r = n ? latest(f, WD_OUT_INCIDENT) : NULL;
        fail_msg("%zu incident outputs, expected %zu (last: %s)", n, expect_count,
                 r ? describe(r) : "-");
    }
    return expect_count ? latest(f, WD_OUT_INCIDENT) : NULL;
}

static void ack(struct fx *f, int64_t ts, int n, const char *status, const char *reason)
{
    feed(f, "{\"type\":\"ack\",\"ts\":%lld,\"id\":\"a%d\",\"status\":\"%s\"%s%s%s}", (long long)ts,
         n, status, reason ? ",\"reason\":\"" : "", reason ? reason : "", reason ? "\"" : "");
}

static void lag(struct fx *f, int64_t ts, long v)
{
    feed(f, "{\"type\":\"metric\",\"ts\":%lld,\"name\":\"consumer_lag\",\"value\":%ld}",
         (long long)ts, v);
}

static void hb(struct fx *f, int64_t ts, const char *status)
{
    feed(f, "{\"type\":\"heartbeat\",\"ts\":%lld,\"component\":\"broker\",\"status\":\"%s\"}",
         (long long)ts, status);
}

static void quote(struct fx *f, int64_t ts)
{
    feed(f, "{\"type\":\"quote\",\"ts\":%lld,\"symbol\":\"XYZ\",\"bid\":9.99,\"ask\":10.01}",
         (long long)ts);
}

static void fill(struct fx *f, int64_t ts, const char *id, const char *sym, long qty)
{
    feed(f,
         "{\"type\":\"fill\",\"ts\":%lld,\"account\":\"A\",\"id\":\"%s\",\"symbol\":\"%s\","
         "\"side\":\"BUY\",\"qty\":%ld,\"price\":10}",
         (long long)ts, id, sym, qty);
}

static const struct wd_position *position(struct fx *f, const char *acct, const char *sym)
{
    uint32_t a, s;
    assert_int_equal(wd_intern_find(wd_engine_accounts(f->g.e), acct, strlen(acct), &a), WD_OK);
    assert_int_equal(wd_intern_find(wd_engine_symbols(f->g.e), sym, strlen(sym), &s), WD_OK);
    const struct wd_position *p = wd_book_find_position(wd_engine_book(f->g.e), a, s);
    assert_non_null(p);
    return p;
}

static void test_detect_unknown_fill_halts_and_marks_the_position(void **state)
{
    struct fx *f = *state;
    start(f);
    int64_t t = ny(10, 0, 0, 0);
    feed(f,
         "{\"type\":\"intent\",\"ts\":%lld,\"account\":\"A\",\"id\":\"ok1\","
         "\"symbol\":\"XYZ\",\"side\":\"BUY\",\"qty\":5,\"source\":\"s\"}",
         (long long)t);
    fill(f, t, "ok1", "XYZ", 5); /* known: fine */
    last(f, 0);
    fill(f, t, "ghost", "ABC", 7); /* never seen */
    const struct rec *i = last(f, 1);
    assert_int_equal(i->event_no, 3);
    assert_string_equal(i->scenario, "unauthorized_trading");
    assert_string_equal(i->severity, "P0");
    assert_string_equal(i->title, "Unauthorized trading detected");
    assert_string_equal(i->detail, "fill for order ghost, which warden never saw open");
    assert_int_equal(count(f, WD_OUT_CONTROL), 2);
    assert_string_equal(last_control(f), "cancel_all account:A");
    struct wd_scope_state st;
    wd_engine_get_state(f->g.e, "account:A", &st);
    assert_int_equal(st.state, WD_TS_HALTED);
    assert_string_equal(st.scenario, "unauthorized_trading");
    /* Only the offending position is marked for flatten --filter unauthorized. */
    assert_true(wd_engine_position_unauthorized(f->g.e, position(f, "A", "ABC")));
    assert_false(wd_engine_position_unauthorized(f->g.e, position(f, "A", "XYZ")));
    /* A second one while the account is halted for it: an alert, no new incident. */
    fill(f, t, "ghost2", "XYZ", 1);
    last(f, 1);
    assert_int_equal(count(f, WD_OUT_ALERT), 1);
    assert_string_equal(last_alert(f), "unauthorized_trading P0 account:A: fill for order ghost2, "
                                       "which warden never saw open");
    assert_true(wd_engine_position_unauthorized(f->g.e, position(f, "A", "XYZ")));
}

static void test_detect_fill_for_a_rejected_intent(void **state)
{
    struct fx *f = *state;
    start(f);
    /* 08:00 New York: outside trading hours, the gate rejects it... */
    int64_t t = ny(8, 0, 0, 0);
    feed(f,
         "{\"type\":\"intent\",\"ts\":%lld,\"account\":\"A\",\"id\":\"r1\","
         "\"symbol\":\"XYZ\",\"side\":\"BUY\",\"qty\":5,\"source\":\"s\"}",
         (long long)t);
    /* ...with a P0-3 alert (nothing moved yet). */
    assert_int_equal(count(f, WD_OUT_ALERT), 1);
    assert_string_equal(last_alert(f), "unauthorized_trading P0 firm: intent r1 blocked: "
                                       "unauthorized:hours (outside trading hours)");
    last(f, 0);
    /* ...and the broker fills it anyway. */
    fill(f, t + WD_NS_PER_S, "r1", "XYZ", 5);
    const struct rec *i = last(f, 1);
    assert_string_equal(i->detail,
                        "fill for intent r1, which the gate rejected (unauthorized:hours)");
}

/* An id the gate rejected and then accepted (a corrected resubmission) is
 * an authorized order: its fill is not P0-3. */
static void test_detect_rejected_then_accepted_id_is_authorized(void **state)
{
    struct fx *f = *state;
    start(f);
    feed(f,
         "{\"type\":\"intent\",\"ts\":%lld,\"account\":\"A\",\"id\":\"r1\","
         "\"symbol\":\"XYZ\",\"side\":\"BUY\",\"qty\":5,\"source\":\"s\"}",
         (long long)ny(8, 0, 0, 0));
    assert_int_equal(count(f, WD_OUT_ALERT), 1); /* blocked: unauthorized:hours */
    feed(f,
         "{\"type\":\"intent\",\"ts\":%lld,\"account\":\"A\",\"id\":\"r1\","
         "\"symbol\":\"XYZ\",\"side\":\"BUY\",\"qty\":5,\"source\":\"s\"}",
         (long long)ny(10, 0, 0, 0));
    fill(f, ny(10, 0, 1, 0), "r1", "XYZ", 5);
    last(f, 0);
    assert_int_equal(count(f, WD_OUT_ALERT), 1);
    assert_int_equal(count(f, WD_OUT_CONTROL), 0);
}

/* Feeds one line and returns how many alerts it produced, the latest in
 * *alert; forgets the recorded outputs (65,536 rejections would not fit). */
static size_t feed_alerts(struct fx *f, char *alert, size_t cap, const char *fmt, ...)
    WD_PRINTF(4, 5);
static size_t feed_alerts(struct fx *f, char *alert, size_t cap, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    assert_true(n > 0 && (size_t)n < sizeof line);
    f->g.out.n = 0;
    eng_process(&f->g, line);
    size_t alerts = count(f, WD_OUT_ALERT);
    if (alerts > 0) {
        snprintf(alert, cap, "%s", last_alert(f));
    }
    return alerts;
}

/* The last 65,536 rejected intents are remembered, the oldest forgotten
 * first (a fill for a forgotten one is still unauthorized, as an order
 * warden never saw open); ids accepted later leave the table from the
 * middle, and every other id is still found afterwards. */
static void test_detect_rejected_intents_remembered_up_to_65536(void **state)
{
    struct fx *f = *state;
    enum { CAP = 65536, EXTRA = 10, N = CAP + EXTRA };
    char alert[512], want[256];
    start(f);
    for (int k = 0; k < N; k++) {
        assert_int_equal(feed_alerts(f, alert, sizeof alert,
                                     "{\"type\":\"intent\",\"ts\":%lld,\"account\":\"A\","
                                     "\"id\":\"r%d\",\"symbol\":\"XYZ\",\"side\":\"BUY\","
                                     "\"qty\":1,\"source\":\"s\"}",
                                     (long long)ny(8, 0, 0, 0), k),
                         1);
    }
    /* Every 7th id among the remembered is resubmitted and accepted. */
    for (int k = EXTRA; k < N; k += 7) {
        assert_int_equal(feed_alerts(f, alert, sizeof alert,
                                     "{\"type\":\"intent\",\"ts\":%lld,\"account\":\"A\","
                                     "\"id\":\"r%d\",\"symbol\":\"XYZ\",\"side\":\"BUY\","
                                     "\"qty\":1,\"source\":\"s\"}",
                                     (long long)ny(10, 0, 0, 0), k),
                         0);
        assert_true(f->g.out.v[0].type == WD_OUT_DECISION && f->g.out.v[0].accept);
    }
    /* The oldest are forgotten: never seen open. The first such fill
     * halts the account; the later findings are alerts. */
    f->g.out.n = 0;
    fill(f, ny(10, 0, 1, 0), "r0", "XYZ", 1);
    assert_string_equal(last(f, 1)->detail, "fill for order r0, which warden never saw open");
    for (int k = 1; k < N; k++) {
        size_t n = feed_alerts(f, alert, sizeof alert,
                               "{\"type\":\"fill\",\"ts\":%lld,\"account\":\"A\",\"id\":\"r%d\","
                               "\"symbol\":\"XYZ\",\"side\":\"BUY\",\"qty\":1,\"price\":10}",
                               (long long)ny(10, 0, 1, 0), k);
        if (k >= EXTRA && (k - EXTRA) % 7 == 0) {
            assert_int_equal(n, 0); /* accepted: authorized */
            continue;
        }
        assert_int_equal(n, 1);
        if (k < EXTRA) {
            snprintf(want, sizeof want,
                     "unauthorized_trading P0 account:A: fill for order r%d, which warden never "
                     "saw open",
                     k);
        } else {
            snprintf(want, sizeof want,
                     "unauthorized_trading P0 account:A: fill for intent r%d, which the gate "
                     "rejected (unauthorized:hours)",
                     k);
        }
        assert_string_equal(alert, want);
    }
}

/* Remembered rejections survive a snapshot: after a restart, a fill for an
 * intent the gate rejected before is still recognised as such. */
static void test_detect_rejected_intents_survive_a_snapshot(void **state)
{
    struct fx *f = *state;
    start(f);
    feed(f,
         "{\"type\":\"intent\",\"ts\":%lld,\"account\":\"A\",\"id\":\"r1\","
         "\"symbol\":\"XYZ\",\"side\":\"BUY\",\"qty\":5,\"source\":\"s\"}",
         (long long)ny(8, 0, 0, 0));
    struct wd_wbuf w;
    wd_wbuf_init(&w);
    wd_engine_save(f->g.e, &w);
    assert_int_equal(w.st, WD_OK);
    eng_close(&f->g);
    start(f);
    assert_int_equal(wd_engine_load(f->g.e, w.data, w.len, NULL), WD_OK);
    wd_wbuf_free(&w);
    fill(f, ny(10, 0, 1, 0), "r1", "XYZ", 5);
    assert_string_equal(last(f, 1)->detail,
                        "fill for intent r1, which the gate rejected (unauthorized:hours)");
}

/* Fills beyond an order's quantity are unauthorized: a second fill of a
 * filled order (still waiting for its ack), and one fill larger than the
 * order. */
static void test_detect_fills_beyond_the_order_quantity(void **state)
{
    struct fx *f = *state;
    start(f);
    int64_t t = ny(10, 0, 0, 0);
    feed(f,
         "{\"type\":\"intent\",\"ts\":%lld,\"account\":\"A\",\"id\":\"a1\","
         "\"symbol\":\"XYZ\",\"side\":\"BUY\",\"qty\":100,\"source\":\"s\"}",
         (long long)t);
    fill(f, t + 1, "a1", "XYZ", 100);
    last(f, 0);
    fill(f, t + 2, "a1", "XYZ", 100);
    assert_string_equal(last(f, 1)->detail, "fill of 100 for order a1, beyond its open quantity 0");
    feed(f,
         "{\"type\":\"intent\",\"ts\":%lld,\"account\":\"B\",\"id\":\"b1\","
         "\"symbol\":\"XYZ\",\"side\":\"BUY\",\"qty\":100,\"source\":\"s\"}",
         (long long)t + 3);
    feed(f,
         "{\"type\":\"fill\",\"ts\":%lld,\"account\":\"B\",\"id\":\"b1\",\"symbol\":\"XYZ\","
         "\"side\":\"BUY\",\"qty\":150,\"price\":10}",
         (long long)t + 4);
    assert_string_equal(last(f, 2)->detail,
                        "fill of 150 for order b1, beyond its open quantity 100");
}

static void test_detect_unknown_fills_can_be_allowed(void **state)
{
    struct fx *f = *state;
    f->cfg.detect.unknown_fills = false;
    start(f);
    fill(f, ny(10, 0, 0, 0), "desk1", "XYZ", 5);
    last(f, 0);
    /* ...but a fill outside hours still is one. */
    fill(f, ny(17, 0, 0, 0), "desk2", "XYZ", 5);
    const struct rec *i = last(f, 1);
    assert_string_equal(i->detail, "fill for desk2 outside trading hours");
}

/* ---- strict expectations: every output of every event ------------------------------ */

/* The latest event emitted nothing: no incident, alert, control or state
 * change (a state change is an output too). */
#define QUIET(f) expect_none_(&(f)->g, __LINE__)

/* The outputs of a detector transition on the latest event, in order: one
 * `detect` log line starting with the title, then the incident, on the
 * firm scope, for this very event; nothing else. NULL title, severity or
 * detail prefix: not checked. Returns the incident. */
static const struct rec *expect_detector_(struct fx *f, const char *scenario,
                                          const char *severity, const char *status,
                                          const char *title, const char *detail_prefix,
                                          int line)
{
    const struct rec *log = take_(&f->g, WD_OUT_LOG, line);
    if (strcmp(log->component, "detect") != 0 ||
        (title != NULL && strncmp(log->message, title, strlen(title)) != 0)) {
        fail_msg("line %d: expected the detector's log line '%s...', got %s", line,
                 title ? title : "", describe(log));
    }
    const struct rec *r = take_(&f->g, WD_OUT_INCIDENT, line);
    if (strcmp(r->scenario, scenario) != 0 || strcmp(r->status, status) != 0 ||
        strcmp(r->scope, "firm") != 0 || (severity != NULL && strcmp(r->severity, severity) != 0) ||
        (title != NULL && strcmp(r->title, title) != 0) ||
        (detail_prefix != NULL && strncmp(r->detail, detail_prefix, strlen(detail_prefix)) != 0)) {
        fail_msg("line %d: expected incident %s %s %s firm '%s' '%s...', got %s [%s]", line,
                 scenario, severity ? severity : "*", status, title ? title : "*",
                 detail_prefix ? detail_prefix : "", describe(r), r->status);
    }
    expect_none_(&f->g, line);
    return r;
}

#define OPENED(f, sc, sev, title, detail)                                                     \
    expect_detector_((f), (sc), (sev), "open", (title), (detail), __LINE__)
/* Recovery: the same incident again, status monitoring (docs/SCENARIOS.md). */
#define CLOSED(f, sc, sev, inc)                                                                \
    do {                                                                                      \
        const struct rec *r_ = expect_detector_((f), (sc), (sev), "monitoring", NULL, NULL,  \
                                                __LINE__);                                    \
        assert_string_equal(r_->id, (inc));                                                   \
    } while (0)

#define EVENT_NO(f) ((f)->g.event_no)

/* Detectors report; they never halt anything. */
static void assert_no_scope_changed(struct fx *f)
{
    assert_int_equal(wd_engine_state_count(f->g.e), 0);
}

/* ======================================================================================
 * P1-3 rejection spike: rejected / acknowledged over the last window_orders
 * (100) acks within window_s (300 s) > 10% opens, < 5% recovers, with at
 * least 20 acks in the window.
 * ====================================================================================== */

/* The rate crosses by rejections and recovers by dilution. */
static void test_threshold_reject_spike_by_rate(void **state)
{
    struct fx *f = *state;
    start(f);
    int64_t t = ny(10, 0, 0, 0);
    int n = 0;
    while (n < 18) {
        ack(f, t, n++, "accepted", NULL);
        QUIET(f);
    }
    ack(f, t, n++, "rejected", "Insufficient buying power"); /* 1 of 19 */
    QUIET(f);
    ack(f, t, n++, "rejected", "Market closed"); /* 2 of 20 = 10%: not above */
    QUIET(f);
    ack(f, t, n++, "rejected", "Insufficient buying power"); /* 3 of 21 = 14.3% */
    assert_int_equal(EVENT_NO(f), 21);
    const struct rec *o = OPENED(f, "reject_spike", "P1", "High rejection rate detected", NULL);
    assert_string_equal(o->detail, "14.3% of the last 21 orders rejected (> 10%); top reasons: "
                                   "2 Insufficient buying power, 1 Market closed");
    char inc[WD_INCIDENT_ID_MAX];
    copy_str(inc, sizeof inc, o->id);
    /* The band: 3 of 22 .. 3 of 60 (5.0%, not below 5%). */
    while (n < 60) {
        ack(f, t, n++, "accepted", NULL);
        QUIET(f);
    }
    ack(f, t, n++, "accepted", NULL); /* 3 of 61 = 4.9% */
    assert_int_equal(EVENT_NO(f), 61);
    CLOSED(f, "reject_spike", "P1", inc);
    /* Exactly once: further recovery says nothing. */
    for (int k = 0; k < 10; k++) {
        ack(f, t, n++, "accepted", NULL);
        QUIET(f);
    }
    assert_no_scope_changed(f);
}

/* The last 100 orders: at least 20 acks before any rate counts, and old
 * rejections leave by count. */
static void test_threshold_reject_spike_by_count_window(void **state)
{
    struct fx *f = *state;
    start(f);
    int64_t t = ny(10, 0, 0, 0);
    int n = 0;
    while (n < 11) {
        ack(f, t, n++, "rejected", "Risk limit exceeded");
        QUIET(f);
    }
    while (n < 19) { /* 11 of 19 = 58%, but 19 acks say nothing yet */
        ack(f, t, n++, "accepted", NULL);
        QUIET(f);
    }
    ack(f, t, n++, "accepted", NULL); /* 11 of 20 */
    assert_int_equal(EVENT_NO(f), 20);
    const struct rec *o = OPENED(f, "reject_spike", "P1", "High rejection rate detected", NULL);
    char inc[WD_INCIDENT_ID_MAX];
    copy_str(inc, sizeof inc, o->id);
    /* 11 of 100 at #100; then each ack pushes the oldest rejection out:
     * 10/100 at #101 .. 5/100 at #106, still not below 5%. */
    while (n < 106) {
        ack(f, t, n++, "accepted", NULL);
        QUIET(f);
    }
    ack(f, t, n++, "accepted", NULL); /* 4 of the last 100 */
    assert_int_equal(EVENT_NO(f), 107);
    CLOSED(f, "reject_spike", "P1", inc);
    ack(f, t, n++, "accepted", NULL);
    QUIET(f);
}

/* The last 300 s: an ack exactly 300 s old still counts, 1 ns more and it
 * has left. */
static void test_threshold_reject_spike_by_time_window(void **state)
{
    struct fx *f = *state;
    start(f);
    int64_t t = ny(10, 0, 0, 0);
    int n = 0;
    while (n < 17) {
        ack(f, t, n++, "accepted", NULL);
        QUIET(f);
    }
    ack(f, t, n++, "rejected", "Market closed");
    QUIET(f);
    ack(f, t, n++, "rejected", "Market closed"); /* 2 of 19: too few acks */
    QUIET(f);
    ack(f, t, n++, "rejected", "Market closed"); /* 3 of 20 = 15% */
    assert_int_equal(EVENT_NO(f), 20);
    const struct rec *o = OPENED(f, "reject_spike", "P1", "High rejection rate detected", NULL);
    char inc[WD_INCIDENT_ID_MAX];
    copy_str(inc, sizeof inc, o->id);
    while (n < 40) { /* 3 of 40 = 7.5%: inside the band */
        ack(f, t + 200 * WD_NS_PER_S, n++, "accepted", NULL);
        QUIET(f);
    }
    ack(f, t + 300 * WD_NS_PER_S, n++, "accepted", NULL); /* 3 of 41: all still in */
    QUIET(f);
    ack(f, t + 300 * WD_NS_PER_S + 1, n++, "accepted", NULL); /* the first 20 left: 0 of 22 */
    assert_int_equal(EVENT_NO(f), 42);
    CLOSED(f, "reject_spike", "P1", inc);
}

/* ======================================================================================
 * P2-1 high latency: p95 intent->ack over window_s (300 s) > 1 s opens,
 * < 200 ms recovers, with at least 20 acks.
 * ====================================================================================== */

/* One intent (accepted) and its ack latency_ms later; the next sample
 * starts at the ack, so event time only moves forward. Returns the ack's
 * time. */
static int64_t sample(struct fx *f, int n, int64_t ts, int64_t latency_ms)
{
    feed(f,
         "{\"type\":\"intent\",\"ts\":%lld,\"id\":\"o%d\",\"symbol\":\"XYZ\",\"side\":\"BUY\","
         "\"qty\":1,\"source\":\"s\"}",
         (long long)ts, n);
    expect_decision_(&f->g, "", __LINE__);
    ts += latency_ms * 1000000;
    feed(f, "{\"type\":\"ack\",\"ts\":%lld,\"id\":\"o%d\",\"status\":\"accepted\"}",
         (long long)ts, n);
    return ts;
}

/*
 * 20 fast samples (50 ms), then 2 slow (1.5 s): with n samples the p95 is
 * the ceil(0.95 n)-th smallest; 21 samples: rank 20, fast; 22: rank 21,
 * slow: opens on the 22nd ack (event 44). Then 18 samples of 500 ms (in
 * the band: the p95 is 1.5 s up to n = 39, 500 ms from n = 40). Then fast
 * ones: with 20 samples at or above 200 ms the p95 is fast once
 * ceil(0.95 n) <= n - 20, that is n >= 400: the 360th fast one (n = 399
 * has rank 380 = the first 500 ms sample). All within 31 s of event time.
 */
static void test_threshold_high_latency(void **state)
{
    struct fx *f = *state;
    start(f);
    int64_t t = ny(10, 0, 0, 0);
    int n = 0;
    for (; n < 20; n++) {
        t = sample(f, n, t, 50);
        QUIET(f);
    }
    t = sample(f, n++, t, 1500); /* 21 samples, 1 slow: p95 50 ms */
    QUIET(f);
    t = sample(f, n++, t, 1500); /* 22 samples, 2 slow */
    assert_int_equal(EVENT_NO(f), 44);
    const struct rec *o = OPENED(f, "high_latency", "P2", "High latency detected", NULL);
    char inc[WD_INCIDENT_ID_MAX];
    copy_str(inc, sizeof inc, o->id);
    for (; n < 40; n++) {
        t = sample(f, n, t, 500);
        QUIET(f);
    }
    for (; n < 399; n++) {
        t = sample(f, n, t, 50);
        QUIET(f);
    }
    t = sample(f, n++, t, 50);
    assert_int_equal(EVENT_NO(f), 800);
    CLOSED(f, "high_latency", "P2", inc);
    for (int k = 0; k < 5; k++) {
        t = sample(f, n++, t, 50);
        QUIET(f);
    }
    assert_no_scope_changed(f);
}

/* ======================================================================================
 * P1-2 bus failure: consumer_lag > 1000 opens, < 100 recovers; a kafka
 * heartbeat `down` opens, `up` recovers (when the lag is low too).
 * ====================================================================================== */

static void test_threshold_bus_consumer_lag(void **state)
{
    struct fx *f = *state;
    start(f);
    int64_t t = ny(10, 0, 0, 0);
    lag(f, t, 1000); /* #1: not above */
    QUIET(f);
    lag(f, t + 1, 1001); /* #2 */
    const struct rec *o = OPENED(f, "bus_failure", "P1", NULL, "consumer lag 1001 > 1000");
    char inc[WD_INCIDENT_ID_MAX];
    copy_str(inc, sizeof inc, o->id);
    lag(f, t + 2, 5000); /* #3..#5: above, then inside the band */
    QUIET(f);
    lag(f, t + 3, 500);
    QUIET(f);
    lag(f, t + 4, 100); /* not below 100 */
    QUIET(f);
    lag(f, t + 5, 99); /* #6 */
    assert_int_equal(EVENT_NO(f), 6);
    CLOSED(f, "bus_failure", "P1", inc);
    lag(f, t + 6, 0);
    QUIET(f);
    lag(f, t + 7, 1000); /* back up to the threshold: still nothing */
    QUIET(f);
    lag(f, t + 8, 1200); /* #9: a new crossing, a new incident */
    o = OPENED(f, "bus_failure", "P1", NULL, "consumer lag 1200 > 1000");
    assert_string_not_equal(o->id, inc);
    assert_no_scope_changed(f);
}

static void kafka(struct fx *f, int64_t ts, const char *status)
{
    feed(f, "{\"type\":\"heartbeat\",\"ts\":%lld,\"component\":\"kafka\",\"status\":\"%s\"}",
         (long long)ts, status);
}

/* The bus recovers only when both the lag and the kafka heartbeat do. */
static void test_threshold_bus_kafka_heartbeat_and_lag_together(void **state)
{
    struct fx *f = *state;
    start(f);
    int64_t t = ny(10, 0, 0, 0);
    kafka(f, t, "up"); /* #1 */
    QUIET(f);
    kafka(f, t + 1, "down"); /* #2 */
    const struct rec *o = OPENED(f, "bus_failure", "P1", NULL, "kafka heartbeat down");
    char inc[WD_INCIDENT_ID_MAX];
    copy_str(inc, sizeof inc, o->id);
    kafka(f, t + 2, "down"); /* #3 */
    QUIET(f);
    lag(f, t + 3, 2000); /* #4: lag high as well: same incident */
    QUIET(f);
    lag(f, t + 4, 50); /* #5: lag recovered, kafka still down */
    QUIET(f);
    lag(f, t + 5, 3000); /* #6: lag high again */
    QUIET(f);
    kafka(f, t + 6, "up"); /* #7: kafka back, lag still high */
    QUIET(f);
    lag(f, t + 7, 99); /* #8: both fine */
    assert_int_equal(EVENT_NO(f), 8);
    CLOSED(f, "bus_failure", "P1", inc);
    kafka(f, t + 8, "up");
    QUIET(f);
}

/* ======================================================================================
 * P1-1 broker disconnect: broker heartbeat `down`; or none for more than
 * heartbeat_timeout_s (30 s) after one was seen; or no market data at all
 * for more than staleness_s (60 s) while the market is open.
 * ====================================================================================== */

static void metric(struct fx *f, int64_t ts)
{
    feed(f, "{\"type\":\"metric\",\"ts\":%lld,\"name\":\"cpu\",\"value\":0.5}", (long long)ts);
}

static void test_threshold_broker_heartbeat_down_and_up(void **state)
{
    struct fx *f = *state;
    start(f);
    int64_t t = ny(10, 0, 0, 0);
    hb(f, t, "up"); /* #1 */
    QUIET(f);
    hb(f, t + WD_NS_PER_S, "down"); /* #2 */
    const struct rec *o =
        OPENED(f, "broker_disconnect", "P1", "Broker disconnected", "broker heartbeat down");
    char inc[WD_INCIDENT_ID_MAX];
    copy_str(inc, sizeof inc, o->id);
    hb(f, t + 2 * WD_NS_PER_S, "down"); /* #3, #4: still down */
    QUIET(f);
    metric(f, t + 3 * WD_NS_PER_S);
    QUIET(f);
    hb(f, t + 4 * WD_NS_PER_S, "up"); /* #5 */
    assert_int_equal(EVENT_NO(f), 5);
    CLOSED(f, "broker_disconnect", "P1", inc);
    hb(f, t + 5 * WD_NS_PER_S, "up");
    QUIET(f);
    assert_no_scope_changed(f);
}

static void test_threshold_broker_heartbeat_timeout(void **state)
{
    struct fx *f = *state;
    start(f);
    int64_t t = ny(10, 0, 0, 0);
    metric(f, t); /* #1: no heartbeat seen yet: nothing to time out */
    QUIET(f);
    hb(f, t, "up"); /* #2 */
    QUIET(f);
    metric(f, t + 30 * WD_NS_PER_S); /* #3: exactly 30 s is not more */
    QUIET(f);
    metric(f, t + 30 * WD_NS_PER_S + 1); /* #4 */
    const struct rec *o = OPENED(f, "broker_disconnect", "P1", "Broker disconnected",
                                 "no broker heartbeat for 30s (> 30s)");
    char inc[WD_INCIDENT_ID_MAX];
    copy_str(inc, sizeof inc, o->id);
    metric(f, t + 45 * WD_NS_PER_S); /* #5: still silent */
    QUIET(f);
    hb(f, t + 46 * WD_NS_PER_S, "up"); /* #6 */
    assert_int_equal(EVENT_NO(f), 6);
    CLOSED(f, "broker_disconnect", "P1", inc);
    metric(f, t + 76 * WD_NS_PER_S); /* #7: 30 s after that heartbeat */
    QUIET(f);
    metric(f, t + 76 * WD_NS_PER_S + 1); /* #8: a new timeout, a new incident */
    o = OPENED(f, "broker_disconnect", "P1", "Broker disconnected", "no broker heartbeat");
    assert_string_not_equal(o->id, inc);
}

/* No market data at all for more than 60 s while the market is open. The
 * per-symbol staleness of P2-2 (the same quote going stale) has its own
 * tests below; its outputs are left out here. */
static void test_threshold_broker_no_market_data(void **state)
{
    struct fx *f = *state;
    start(f);
    f->g.out.quiet_scenario = "data_quality";
    int64_t t = ny(10, 0, 0, 0);
    quote(f, t); /* #1 */
    QUIET(f);
    metric(f, t + 60 * WD_NS_PER_S); /* #2: exactly 60 s */
    QUIET(f);
    metric(f, t + 60 * WD_NS_PER_S + 1); /* #3 */
    const struct rec *o =
        OPENED(f, "broker_disconnect", "P1", "Broker disconnected",
               "no market data for 60s (> 60s) while the market is open");
    char inc[WD_INCIDENT_ID_MAX];
    copy_str(inc, sizeof inc, o->id);
    metric(f, t + 90 * WD_NS_PER_S); /* #4 */
    QUIET(f);
    quote(f, t + 91 * WD_NS_PER_S); /* #5: data flows again */
    assert_int_equal(EVENT_NO(f), 5);
    CLOSED(f, "broker_disconnect", "P1", inc);
    metric(f, t + 100 * WD_NS_PER_S);
    QUIET(f);
}

/* Positions open while the broker is unreachable: money at risk, P0. */
static void test_threshold_broker_down_with_open_positions_is_p0(void **state)
{
    struct fx *f = *state;
    f->cfg.detect.unknown_fills = false; /* a desk trading by hand: bare fills are fine */
    start(f);
    int64_t t = ny(10, 0, 0, 0);
    fill(f, t, "x", "XYZ", 10); /* #1 */
    QUIET(f);
    hb(f, t, "down"); /* #2 */
    const struct rec *o = OPENED(f, "broker_disconnect", "P0", "Broker disconnected", NULL);
    char inc[WD_INCIDENT_ID_MAX];
    copy_str(inc, sizeof inc, o->id);
    hb(f, t + 1, "down");
    QUIET(f);
    hb(f, t + 2, "up"); /* #4 */
    CLOSED(f, "broker_disconnect", NULL, inc);
}

/* ======================================================================================
 * P2-2 data quality: a symbol with no market data for more than
 * staleness_s (60 s) while the market is open; recovered when every
 * symbol is fresh. Sequence gaps and malformed lines are alerts.
 * ====================================================================================== */

static void sym_quote(struct fx *f, int64_t ts, const char *sym)
{
    feed(f, "{\"type\":\"quote\",\"ts\":%lld,\"symbol\":\"%s\",\"bid\":1,\"ask\":2}",
         (long long)ts, sym);
}

static void test_threshold_symbol_staleness(void **state)
{
    struct fx *f = *state;
    start(f);
    const int64_t s = WD_NS_PER_S;
    int64_t t = ny(10, 0, 0, 0);
    sym_quote(f, t, "BBB"); /* #1 */
    QUIET(f);
    sym_quote(f, t + s / 2, "CCC"); /* #2 */
    QUIET(f);
    for (int k = 1; k <= 5; k++) { /* #3..#7: AAA every 10 s */
        sym_quote(f, t + k * 10 * s, "AAA");
        QUIET(f);
    }
    sym_quote(f, t + 59 * s + 900000000, "AAA"); /* #8: BBB 59.9 s old */
    QUIET(f);
    sym_quote(f, t + 61 * s, "AAA"); /* #9: BBB 61 s, CCC 60.5 s */
    assert_int_equal(EVENT_NO(f), 9);
    const struct rec *o = OPENED(f, "data_quality", "P2", "Data quality gate failed",
                                 "Staleness > 60s: 2 symbols: BBB (61s), CCC (60s)");
    char inc[WD_INCIDENT_ID_MAX];
    copy_str(inc, sizeof inc, o->id);
    sym_quote(f, t + 70 * s, "BBB"); /* #10: CCC still stale */
    QUIET(f);
    sym_quote(f, t + 75 * s, "AAA"); /* #11 */
    QUIET(f);
    sym_quote(f, t + 80 * s, "CCC"); /* #12: every symbol fresh */
    assert_int_equal(EVENT_NO(f), 12);
    CLOSED(f, "data_quality", "P2", inc);
    sym_quote(f, t + 90 * s, "AAA");
    QUIET(f);
    assert_no_scope_changed(f);
}

/* A 60-second bar of symbol BAR, announcing its cadence. */
static void bar(struct fx *f, int64_t ts)
{
    feed(f,
         "{\"type\":\"bar\",\"ts\":%lld,\"symbol\":\"BAR\",\"open\":1,\"high\":1,\"low\":1,"
         "\"close\":1,\"volume\":10,\"interval_s\":60}",
         (long long)ts);
}

/* Completeness (P2-2): of the bars due in the last 300 s, fewer than 95%
 * came. Staleness is set far off so that only completeness speaks. */
static void test_threshold_bar_completeness(void **state)
{
    struct fx *f = *state;
    f->cfg.detect.staleness_s = 600;
    start(f);
    const int64_t m = 60 * WD_NS_PER_S;
    int64_t t = ny(10, 0, 0, 0);
    for (int k = 0; k < 5; k++) { /* #1..#5: 10:00..10:04, 5 of 5 */
        bar(f, t + k * m);
        QUIET(f);
    }
    /* 10:05 never comes. At 10:06 the window (10:01:00 + 1 ns .. 10:06)
     * holds 10:02, 10:03, 10:04, 10:06: 4 of 5 due. */
    bar(f, t + 6 * m);
    assert_int_equal(EVENT_NO(f), 6);
    const struct rec *o = OPENED(f, "data_quality", "P2", "Data quality gate failed",
                                 "Completeness < 95%: 1 symbol: BAR (4 of 5 bars, 80.0%)");
    char inc[WD_INCIDENT_ID_MAX];
    copy_str(inc, sizeof inc, o->id);
    for (int k = 7; k <= 9; k++) { /* #7..#9: the gap is still in the window */
        bar(f, t + k * m);
        QUIET(f);
    }
    bar(f, t + 10 * m); /* #10: 10:06..10:10, 5 of 5 */
    assert_int_equal(EVENT_NO(f), 10);
    CLOSED(f, "data_quality", "P2", inc);
    bar(f, t + 10 * m); /* a repeated bar adds nothing */
    QUIET(f);
    assert_no_scope_changed(f);
}

/* Bars are due from the open (and from a symbol's first bar): sparse
 * pre-market bars and a session that starts on time are complete. */
static void test_threshold_bar_completeness_counts_from_the_open(void **state)
{
    struct fx *f = *state;
    f->cfg.detect.staleness_s = 600;
    start(f);
    const int64_t m = 60 * WD_NS_PER_S;
    bar(f, ny(9, 0, 0, 0)); /* closed: nothing due */
    QUIET(f);
    bar(f, ny(9, 20, 0, 0));
    QUIET(f);
    for (int k = 0; k < 8; k++) { /* 09:30..09:37: complete since the open */
        bar(f, ny(9, 30, 0, 0) + k * m);
        QUIET(f);
    }
    /* After the close, missing bars are no finding. */
    bar(f, ny(16, 0, 0, 0));
    QUIET(f);
    bar(f, ny(16, 30, 0, 0));
    QUIET(f);
}

/* A symbol short of bars at the close is no finding overnight: the close
 * recovers the incident; a restart while it is open changes nothing. */
static void test_threshold_bar_completeness_close_and_restart(void **state)
{
    struct fx *f = *state;
    f->cfg.detect.staleness_s = 600;
    start(f);
    const int64_t m = 60 * WD_NS_PER_S;
    int64_t t = ny(10, 0, 0, 0);
    for (int k = 0; k < 5; k++) {
        bar(f, t + k * m);
    }
    bar(f, t + 6 * m);
    const struct rec *o = OPENED(f, "data_quality", "P2", "Data quality gate failed",
                                 "Completeness < 95%: 1 symbol: BAR (4 of 5 bars, 80.0%)");
    char inc[WD_INCIDENT_ID_MAX];
    copy_str(inc, sizeof inc, o->id);
    struct wd_wbuf w;
    wd_wbuf_init(&w);
    wd_engine_save(f->g.e, &w);
    assert_int_equal(w.st, WD_OK);
    eng_close(&f->g);
    start(f);
    assert_int_equal(wd_engine_load(f->g.e, w.data, w.len, NULL), WD_OK);
    wd_wbuf_free(&w);
    bar(f, t + 7 * m); /* still 4 of 5: nothing new after the restart */
    QUIET(f);
    bar(f, ny(16, 0, 0, 0)); /* the close */
    CLOSED(f, "data_quality", "P2", inc);
}

/* A snapshot keeps the bars seen: after a restart the gap is still found. */
static void test_threshold_bar_completeness_survives_a_snapshot(void **state)
{
    struct fx *f = *state;
    f->cfg.detect.staleness_s = 600;
    start(f);
    const int64_t m = 60 * WD_NS_PER_S;
    int64_t t = ny(10, 0, 0, 0);
    for (int k = 0; k < 5; k++) {
        bar(f, t + k * m);
    }
    QUIET(f);
    struct wd_wbuf w;
    wd_wbuf_init(&w);
    wd_engine_save(f->g.e, &w);
    assert_int_equal(w.st, WD_OK);
    eng_close(&f->g);
    start(f);
    assert_int_equal(wd_engine_load(f->g.e, w.data, w.len, NULL), WD_OK);
    wd_wbuf_free(&w);
    bar(f, t + 6 * m);
    OPENED(f, "data_quality", "P2", "Data quality gate failed",
           "Completeness < 95%: 1 symbol: BAR (4 of 5 bars, 80.0%)");
}

/* Market data at ts 0 (the epoch, which the decoder accepts) is data like
 * any other: the staleness list stays whole (it once looped forever). */
static void test_threshold_staleness_with_data_at_time_zero(void **state)
{
    struct fx *f = *state;
    start(f);
    sym_quote(f, 0, "AAA");
    sym_quote(f, 0, "AAA");
    sym_quote(f, 5, "AAA");
    QUIET(f);
    sym_quote(f, ny(9, 30, 0, 0), "BBB"); /* the open: AAA silent since then */
    QUIET(f);
    sym_quote(f, ny(9, 31, 0, 0), "BBB");
    QUIET(f);
    sym_quote(f, ny(9, 31, 0, 1), "BBB");
    OPENED(f, "data_quality", "P2", "Data quality gate failed",
           "Staleness > 60s: 1 symbol: AAA (60s)");
}

/* A session that starts while a symbol was stale the day before, with no
 * event in between while closed: the new session counts from its open. */
static void test_threshold_staleness_new_day_without_closed_events(void **state)
{
    struct fx *f = *state;
    start(f);
    int64_t t = ny(15, 0, 0, 0);
    sym_quote(f, t, "AAA");
    sym_quote(f, t + 61 * WD_NS_PER_S, "BBB");
    const struct rec *o = OPENED(f, "data_quality", "P2", "Data quality gate failed",
                                 "Staleness > 60s: 1 symbol: AAA (61s)");
    char inc[WD_INCIDENT_ID_MAX];
    copy_str(inc, sizeof inc, o->id);
    /* Tuesday 09:30:10: AAA silent 10 s since the open. */
    sym_quote(f, t + (int64_t)(86400 - 5 * 3600 - 1800 + 10) * WD_NS_PER_S, "BBB");
    CLOSED(f, "data_quality", "P2", inc);
}

/* A daemon's clock: heartbeat timeouts and staleness are found by a tick
 * when no event comes, at exactly the crossing instant. */
/* A tick at now: its outputs are checked like an event's (same event_no,
 * the tick's time). */
static void tick(struct fx *f, int64_t now)
{
    struct wd_error err = {0};
    f->g.event_first = f->g.out.n;
    if (now > f->g.ts) {
        f->g.ts = now;
    }
    assert_int_equal(wd_engine_tick(f->g.e, now, &err), WD_OK);
}

static void test_threshold_timeouts_on_ticks(void **state)
{
    struct fx *f = *state;
    start(f);
    int64_t t = ny(10, 0, 0, 0);
    hb(f, t, "up");
    sym_quote(f, t, "AAA");
    QUIET(f);
    tick(f, t - 5); /* the past: nothing */
    QUIET(f);
    tick(f, t + 30 * WD_NS_PER_S);
    QUIET(f);
    tick(f, t + 30 * WD_NS_PER_S + 1);
    OPENED(f, "broker_disconnect", "P1", "Broker disconnected", "no broker heartbeat for 30s");
    tick(f, t + 60 * WD_NS_PER_S + 1);
    OPENED(f, "data_quality", "P2", "Data quality gate failed", "Staleness > 60s: 1 symbol: AAA");
}

static void seq_quote(struct fx *f, int64_t ts, int seq)
{
    feed(f, "{\"type\":\"quote\",\"ts\":%lld,\"seq\":%d,\"symbol\":\"X\",\"bid\":1,\"ask\":2}",
         (long long)ts, seq);
}

/* One data_quality alert (P2, firm) on the latest event; nothing else. */
static void expect_dq_alert_(struct fx *f, const char *detail, int line)
{
    const struct rec *r = take_(&f->g, WD_OUT_ALERT, line);
    if (strcmp(r->scenario, "data_quality") != 0 || strcmp(r->severity, "P2") != 0 ||
        strcmp(r->scope, "firm") != 0 || strcmp(r->detail, detail) != 0) {
        fail_msg("line %d: expected data_quality P2 firm alert '%s', got %s", line, detail,
                 describe(r));
    }
    expect_none_(&f->g, line);
}
#define DQ_ALERT(f, detail) expect_dq_alert_((f), (detail), __LINE__)

static void test_threshold_sequence_gaps_and_malformed_lines(void **state)
{
    struct fx *f = *state;
    start(f);
    int64_t t = ny(10, 0, 0, 0);
    for (int sq = 1; sq <= 3; sq++) { /* #1..#3 */
        seq_quote(f, t, sq);
        QUIET(f);
    }
    seq_quote(f, t, 7); /* #4 */
    assert_int_equal(EVENT_NO(f), 4);
    DQ_ALERT(f, "sequence gap on market_events: expected 4, got 7 (3 missing)");
    seq_quote(f, t, 8); /* #5: numbering goes on from 7 */
    QUIET(f);
    /* Another stream keeps its own numbering. */
    feed(f, "{\"type\":\"metric\",\"ts\":%lld,\"seq\":1,\"name\":\"m\",\"value\":1}",
         (long long)t);
    QUIET(f);
    seq_quote(f, t, 8); /* #7 */
    DQ_ALERT(f, "sequence went back on market_events: 8 after 8 (duplicate or reordered)");
    seq_quote(f, t, 9);
    QUIET(f);
    /* A malformed line: an alert carrying the last event's number. */
    wd_engine_report_malformed(f->g.e, 42, "missing key 'symbol'");
    const struct rec *r = take_(&f->g, WD_OUT_ALERT, __LINE__);
    assert_int_equal(r->event_no, 8);
    assert_string_equal(r->detail, "malformed event at line 42 skipped: missing key 'symbol' "
                                   "(1 so far)");
    QUIET(f);
    assert_int_equal(wd_engine_malformed_count(f->g.e), 1);
    wd_engine_report_malformed(f->g.e, 43, "not JSON");
    r = take_(&f->g, WD_OUT_ALERT, __LINE__);
    assert_string_equal(r->detail, "malformed event at line 43 skipped: not JSON (2 so far)");
    QUIET(f);
    assert_int_equal(wd_engine_malformed_count(f->g.e), 2);
    assert_int_equal(count(f, WD_OUT_INCIDENT), 0);
    assert_no_scope_changed(f);
}

/* ======================================================================================
 * Staleness outside market hours: weekend, holiday, before 09:30 New York.
 * ====================================================================================== */

/* The UTC instant of a New York wall time in November 2025 (EST). */
static int64_t ny_on(unsigned day, int h, int m, int s)
{
    return (wd_days_from_civil(2025, 11, day) * 86400 + (h + 5) * 3600 + m * 60 + s) *
           WD_NS_PER_S;
}

/* A fresh engine sees a quote for BBB, then only heartbeats-free metrics
 * for ten minutes: stale symbol and no market data at all. Returns the
 * number of outputs (0: nothing fired). */
static size_t silence_after_quote(struct fx *f, int64_t t0, int64_t until)
{
    struct wd_error err = {0};
    struct eng g;
    if (eng_open(&g, &f->cfg, f->tz, NULL, NULL, &err) != WD_OK) {
        fail_msg("engine: %s", err.msg);
    }
    char line[256];
    snprintf(line, sizeof line,
             "{\"type\":\"quote\",\"ts\":%lld,\"symbol\":\"BBB\",\"bid\":1,\"ask\":2}",
             (long long)t0);
    eng_process(&g, line);
    for (int64_t ts = t0 + 30 * WD_NS_PER_S; ts <= until; ts += 30 * WD_NS_PER_S) {
        snprintf(line, sizeof line, "{\"type\":\"metric\",\"ts\":%lld,\"name\":\"cpu\","
                 "\"value\":1}", (long long)ts);
        eng_process(&g, line);
    }
    size_t n = g.out.n;
    eng_close(&g);
    return n;
}

static void test_threshold_staleness_outside_market_hours(void **state)
{
    struct fx *f = *state;
    f->cfg.session.holidays = calloc(1, sizeof *f->cfg.session.holidays);
    assert_non_null(f->cfg.session.holidays);
    assert_int_equal(wd_date_parse("2025-11-27", 10, &f->cfg.session.holidays[0]), WD_OK);
    f->cfg.session.n_holidays = 1;
    static const struct {
        const char *what;
        unsigned day;
        int h, m, s;
        int until_h, until_m, until_s;
    } quiet[] = {
        {"Saturday", 22, 11, 0, 0, 11, 10, 0},
        {"Sunday", 23, 11, 0, 0, 11, 10, 0},
        {"Thanksgiving (holiday)", 27, 11, 0, 0, 11, 10, 0},
        {"Monday before the open", 17, 9, 19, 59, 9, 29, 59},
        {"Monday after the close", 17, 16, 0, 0, 16, 10, 0},
        {"Monday pre-market, data at 08:00", 17, 8, 0, 0, 9, 29, 30},
    };
    for (size_t i = 0; i < sizeof quiet / sizeof quiet[0]; i++) {
        size_t n = silence_after_quote(f, ny_on(quiet[i].day, quiet[i].h, quiet[i].m, quiet[i].s),
                                       ny_on(quiet[i].day, quiet[i].until_h, quiet[i].until_m,
                                             quiet[i].until_s));
        if (n != 0) {
            fail_msg("%s: %zu outputs, expected none", quiet[i].what, n);
        }
    }
    /* The same silence in session fires both (P1-1 and P2-2): the quiet
     * cases above are quiet because of the hours, not the script. */
    size_t n = silence_after_quote(f, ny_on(26, 11, 0, 0), ny_on(26, 11, 10, 0));
    assert_int_equal(n, 4); /* two log lines, two incidents */
}

/* ======================================================================================
 * P0-3 unauthorized trading: a fill for an order warden never saw, for an
 * intent the gate rejected, or leaving a position over box_lim halts the
 * account (cancel_all) with one P0 incident; further findings while it is
 * halted for it are alerts; a person's resume re-arms it.
 * ====================================================================================== */

static void intent_a(struct fx *f, int64_t ts, const char *id, const char *qty)
{
    feed(f,
         "{\"type\":\"intent\",\"ts\":%lld,\"account\":\"A\",\"id\":\"%s\","
         "\"symbol\":\"XYZ\",\"side\":\"BUY\",\"qty\":%s,\"source\":\"s\"}",
         (long long)ts, id, qty);
}

/* The outputs of a P0-3 finding on the latest event: log, account halted,
 * halt and cancel_all, the incident. Returns the incident id. */
static const char *expect_unauthorized_(struct fx *f, const char *detail, int line)
{
    const struct rec *log = take_(&f->g, WD_OUT_LOG, line);
    if (strncmp(log->message, "Unauthorized trading detected", 29) != 0) {
        fail_msg("line %d: expected the P0-3 log line, got %s", line, describe(log));
    }
    const struct wd_scope_state *st = expect_state_(&f->g, "account:A", WD_TS_HALTED, line);
    assert_string_equal(st->scenario, "unauthorized_trading");
    const struct rec *c = take_(&f->g, WD_OUT_CONTROL, line);
    assert_string_equal(c->action, "halt");
    assert_string_equal(c->scope, "account:A");
    c = take_(&f->g, WD_OUT_CONTROL, line);
    assert_string_equal(c->action, "cancel_all");
    assert_string_equal(c->scope, "account:A");
    const struct rec *r = take_(&f->g, WD_OUT_INCIDENT, line);
    if (strcmp(r->scenario, "unauthorized_trading") != 0 || strcmp(r->severity, "P0") != 0 ||
        strcmp(r->status, "open") != 0 || strcmp(r->scope, "account:A") != 0 ||
        strcmp(r->detail, detail) != 0 || strcmp(r->id, st->incident) != 0 ||
        strcmp(r->id, c->incident) != 0) {
        fail_msg("line %d: expected P0 unauthorized_trading open account:A '%s', got %s", line,
                 detail, describe(r));
    }
    expect_none_(&f->g, line);
    return r->id;
}
#define UNAUTHORIZED(f, detail) expect_unauthorized_((f), (detail), __LINE__)

static void test_threshold_unauthorized_fill_never_seen(void **state)
{
    struct fx *f = *state;
    start(f);
    int64_t t = ny(10, 0, 0, 0);
    intent_a(f, t, "ok1", "5"); /* #1 */
    expect_decision_(&f->g, "", __LINE__);
    fill(f, t, "ok1", "XYZ", 5); /* #2: known: fine */
    QUIET(f);
    fill(f, t, "ghost", "ABC", 7); /* #3: never seen */
    assert_int_equal(EVENT_NO(f), 3);
    char inc[WD_INCIDENT_ID_MAX];
    copy_str(inc, sizeof inc,
             UNAUTHORIZED(f, "fill for order ghost, which warden never saw open"));
    /* Halted for it: a second one is an alert, not a second incident. */
    fill(f, t, "ghost2", "XYZ", 1); /* #4 */
    const struct rec *a = take_(&f->g, WD_OUT_ALERT, __LINE__);
    assert_string_equal(a->scenario, "unauthorized_trading");
    assert_string_equal(a->severity, "P0");
    assert_string_equal(a->scope, "account:A");
    QUIET(f);
    /* The Risk Officer resumes (outside the event stream: no output). */
    struct wd_scope_state st;
    memset(&st, 0, sizeof st);
    copy_str(st.scope, sizeof st.scope, "account:A");
    st.state = WD_TS_ACTIVE;
    copy_str(st.by, sizeof st.by, "risk_officer");
    assert_int_equal(wd_engine_set_state(f->g.e, &st, NULL), WD_OK);
    QUIET(f);
    intent_a(f, t + WD_NS_PER_S, "ok2", "1"); /* #5 */
    expect_decision_(&f->g, "", __LINE__);
    fill(f, t + WD_NS_PER_S, "ok2", "XYZ", 1); /* #6 */
    QUIET(f);
    fill(f, t + WD_NS_PER_S, "ghost3", "XYZ", 1); /* #7: a new finding, a new incident */
    assert_int_equal(EVENT_NO(f), 7);
    assert_string_not_equal(UNAUTHORIZED(f, "fill for order ghost3, which warden never saw open"),
                            inc);
}

static void test_threshold_unauthorized_fill_for_rejected_intent(void **state)
{
    struct fx *f = *state;
    f->cfg.limits.max_order_qty = wd_fix_from_int(100);
    start(f);
    int64_t t = ny(10, 0, 0, 0);
    intent_a(f, t, "ok1", "100"); /* #1: at the limit */
    expect_decision_(&f->g, "", __LINE__);
    intent_a(f, t, "r1", "101"); /* #2: over it */
    expect_decision_(&f->g, "limit:max_order_qty", __LINE__);
    fill(f, t + 1, "ok1", "XYZ", 100); /* #3 */
    QUIET(f);
    fill(f, t + 2, "r1", "XYZ", 101); /* #4: the broker filled it anyway */
    assert_int_equal(EVENT_NO(f), 4);
    UNAUTHORIZED(f, "fill for intent r1, which the gate rejected (limit:max_order_qty)");
}

/* A fill that leaves the position's notional over box_lim; exactly at it
 * is not over. */
static void test_threshold_unauthorized_fill_over_box_lim(void **state)
{
    struct fx *f = *state;
    f->cfg.limits.box_lim = wd_fix_from_int(1000);
    start(f);
    int64_t t = ny(10, 0, 0, 0);
    feed(f, "{\"type\":\"quote\",\"ts\":%lld,\"symbol\":\"XYZ\",\"bid\":9.89,\"ask\":9.91}",
         (long long)t); /* #1 */
    QUIET(f);
    intent_a(f, t, "b1", "101"); /* #2: 101 x 9.90 = 999.90 */
    expect_decision_(&f->g, "", __LINE__);
    fill(f, t + 1, "b1", "XYZ", 100); /* #3: 100 x 10 = 1000: at the limit */
    QUIET(f);
    fill(f, t + 2, "b1", "XYZ", 1); /* #4: 101 x 10 = 1010 */
    assert_int_equal(EVENT_NO(f), 4);
    UNAUTHORIZED(f, "position in XYZ worth 1010.00 over box_lim 1000.00");
}

/* ======================================================================================
 * Engine against SPEC: these fail on the engine as it is (see
 * engine-bugs.patch's description); kept out of the committed suite.
 * ====================================================================================== */

/* SPEC 5: recovered when rejected / acked < 5%. Fewer than 20 acks in the
 * window tell no rate: the incident neither recovers nor opens then, even
 * when every ack left in the window is a rejection. */
static void test_detect_reject_spike_recovers_on_too_few_acks(void **state)
{
    struct fx *f = *state;
    f->cfg.detect.reject.window_s = 60;
    start(f);
    int64_t t = ny(10, 0, 0, 0);
    int n = 0;
    while (n < 19) {
        ack(f, t, n++, "rejected", "Risk limit exceeded");
        QUIET(f);
    }
    ack(f, t, n++, "rejected", "Risk limit exceeded"); /* 20 of 20 */
    OPENED(f, "reject_spike", "P1", "High rejection rate detected", NULL);
    /* 61 s later the 20 have left; the one new ack is a rejection: 100%. */
    ack(f, t + 61 * WD_NS_PER_S, n++, "rejected", "Risk limit exceeded");
    QUIET(f); /* not "recovered": the rate is 100%, not below 5% */
}

/* SPEC 5 / playbook P2-1: opens when p95 > 1 s. A p95 of exactly 1 s is
 * not above, although the histogram reports its bucket's top (1000.34 ms):
 * the engine compares the exact p95 (the window's watched bounds). */
/* A fill that overtakes its ack (an exec-report stream out of order) does
 * not lose the order's intent->ack latency: the order waits for its ack. */
static void test_detect_latency_measured_when_the_fill_comes_first(void **state)
{
    struct fx *f = *state;
    f->cfg.detect.unknown_fills = true;
    start(f);
    int64_t t = ny(10, 0, 0, 0);
    for (int k = 1; k <= 20; k++) {
        int64_t at = t + (int64_t)k * 5 * WD_NS_PER_S;
        feed(f,
             "{\"type\":\"intent\",\"ts\":%lld,\"id\":\"o%d\",\"symbol\":\"XYZ\",\"side\":\"BUY\","
             "\"qty\":1,\"source\":\"s\"}",
             (long long)at, k);
        feed(f,
             "{\"type\":\"fill\",\"ts\":%lld,\"id\":\"o%d\",\"symbol\":\"XYZ\",\"side\":\"BUY\","
             "\"qty\":1,\"price\":10}",
             (long long)(at + WD_NS_PER_S / 2), k);
        feed(f, "{\"type\":\"ack\",\"ts\":%lld,\"id\":\"o%d\",\"status\":\"accepted\"}",
             (long long)(at + 2 * WD_NS_PER_S), k);
    }
    /* The 20th ack: 20 samples of 2 s (the intents' decisions before it are
     * not what this test is about). */
    assert_int_equal(EVENT_NO(f), 60);
    f->g.next = f->g.event_first;
    OPENED(f, "high_latency", "P2", "High latency detected",
           "p95 intent->ack latency 2000.0 ms > 1000 ms over 20 acks");
    /* The orders ended with their acks: a fill now is one warden never saw. */
    feed(f,
         "{\"type\":\"fill\",\"ts\":%lld,\"id\":\"o1\",\"symbol\":\"XYZ\",\"side\":\"BUY\","
         "\"qty\":1,\"price\":10}",
         (long long)(t + 200 * WD_NS_PER_S));
    assert_int_equal(count(f, WD_OUT_INCIDENT), 2);
    assert_string_equal(latest(f, WD_OUT_INCIDENT)->detail,
                        "fill for order o1, which warden never saw open");
}

/* Filled orders waiting for an ack that never comes make room when the
 * open-order table is full. */
static void test_detect_unacked_fills_do_not_fill_the_order_table(void **state)
{
    struct fx *f = *state;
    struct wd_error err = {0};
    struct eng *g = &f->g;
    memset(g, 0, sizeof *g);
    struct wd_engine_opts o = {.cfg = &f->cfg, .tz = f->tz, .emit = on_output,
                               .emit_ctx = &g->out, .max_open_orders = 4};
    assert_int_equal(wd_engine_new(&o, &g->e, &err), WD_OK);
    assert_int_equal(wd_decoder_new(wd_engine_symbols(g->e), wd_engine_accounts(g->e), &g->dec),
                     WD_OK);
    f->started = true;
    int64_t t = ny(10, 0, 0, 0);
    for (int k = 1; k <= 6; k++) {
        feed(f,
             "{\"type\":\"intent\",\"ts\":%lld,\"id\":\"o%d\",\"symbol\":\"XYZ\",\"side\":\"BUY\","
             "\"qty\":1,\"source\":\"s\"}",
             (long long)(t + k), k);
        const struct rec *d = latest(f, WD_OUT_DECISION);
        if (!d->accept) {
            fail_msg("intent o%d rejected: %s (%s)", k, d->reason, d->detail);
        }
        feed(f,
             "{\"type\":\"fill\",\"ts\":%lld,\"id\":\"o%d\",\"symbol\":\"XYZ\",\"side\":\"BUY\","
             "\"qty\":1,\"price\":10}",
             (long long)(t + k), k);
    }
    /* Four open (not yet filled) orders do fill it. */
    for (int k = 7; k <= 11; k++) {
        feed(f,
             "{\"type\":\"intent\",\"ts\":%lld,\"id\":\"o%d\",\"symbol\":\"XYZ\",\"side\":\"BUY\","
             "\"qty\":1,\"source\":\"s\"}",
             (long long)(t + k), k);
    }
    const struct rec *d = latest(f, WD_OUT_DECISION);
    assert_false(d->accept);
    assert_string_equal(d->reason, "limit:open_orders");
}

/* The store's active incident for (scenario, scope): broker_disconnect on
 * the firm is INC-20251116-042, still open from the day before. */
static bool active_incident(void *ctx, const char *scenario, const char *scope,
                            char id_out[WD_INCIDENT_ID_MAX])
{
    unsigned *calls = ctx;
    (*calls)++;
    if (strcmp(scenario, "broker_disconnect") == 0 && strcmp(scope, "firm") == 0) {
        snprintf(id_out, WD_INCIDENT_ID_MAX, "INC-20251116-042");
        return true;
    }
    return false;
}

/* One incident per (scenario, scope): a finding whose incident is still
 * active announces that incident again instead of numbering a new one. */
static void test_detect_finding_goes_to_the_active_incident(void **state)
{
    struct fx *f = *state;
    struct wd_error err = {0};
    struct eng *g = &f->g;
    unsigned calls = 0;
    memset(g, 0, sizeof *g);
    struct wd_engine_opts o = {.cfg = &f->cfg, .tz = f->tz, .emit = on_output,
                               .emit_ctx = &g->out, .incident_active = active_incident,
                               .incident_active_ctx = &calls};
    assert_int_equal(wd_engine_new(&o, &g->e, &err), WD_OK);
    assert_int_equal(wd_decoder_new(wd_engine_symbols(g->e), wd_engine_accounts(g->e), &g->dec),
                     WD_OK);
    f->started = true;
    int64_t t = ny(10, 0, 0, 0);
    hb(f, t, "down");
    const struct rec *r = OPENED(f, "broker_disconnect", "P1", "Broker disconnected", NULL);
    assert_string_equal(r->id, "INC-20251116-042");
    assert_int_equal(calls, 1);
    /* Another scenario, nothing active: a new number. */
    lag(f, t + 1, 5000);
    r = OPENED(f, "bus_failure", "P1", NULL, NULL);
    assert_string_equal(r->id, "INC-20251117-001");
    assert_int_equal(calls, 2);
}

static void test_detect_latency_p95_exactly_1s_does_not_open(void **state)
{
    struct fx *f = *state;
    start(f);
    int64_t t = ny(10, 0, 0, 0);
    int n = 0;
    for (; n < 20; n++) {
        t = sample(f, n, t, 50);
        QUIET(f);
    }
    t = sample(f, n++, t, 1000);
    QUIET(f);
    t = sample(f, n++, t, 1000); /* 22 samples: p95 = rank 21 = exactly 1000 ms */
    QUIET(f);
}

/* ...and recovers when p95 < 200 ms: a p95 of 199.9 ms is below, though
 * the histogram would report 200.28 ms (its bucket's top). */
static void test_detect_latency_p95_just_below_200ms_recovers(void **state)
{
    struct fx *f = *state;
    start(f);
    int64_t t = ny(10, 0, 0, 0);
    int n = 0;
    for (; n < 20; n++) {
        t = sample(f, n, t, 50);
        QUIET(f);
    }
    t = sample(f, n++, t, 1500);
    QUIET(f);
    t = sample(f, n++, t, 1500);
    const struct rec *o = OPENED(f, "high_latency", "P2", "High latency detected", NULL);
    char inc[WD_INCIDENT_ID_MAX];
    copy_str(inc, sizeof inc, o->id);
    /* 199.9 ms samples: with 2 slow ones the p95 is the 199.9 ms one from
     * n = 40 on (rank 38 = n - 2), the 18th of them, event 80. */
    for (; n < 39; n++) {
        feed(f,
             "{\"type\":\"intent\",\"ts\":%lld,\"id\":\"o%d\",\"symbol\":\"XYZ\",\"side\":\"BUY\","
             "\"qty\":1,\"source\":\"s\"}",
             (long long)t, n);
        expect_decision_(&f->g, "", __LINE__);
        t += 199900000;
        feed(f, "{\"type\":\"ack\",\"ts\":%lld,\"id\":\"o%d\",\"status\":\"accepted\"}",
             (long long)t, n);
        QUIET(f);
    }
    feed(f,
         "{\"type\":\"intent\",\"ts\":%lld,\"id\":\"o%d\",\"symbol\":\"XYZ\",\"side\":\"BUY\","
         "\"qty\":1,\"source\":\"s\"}",
         (long long)t, n);
    expect_decision_(&f->g, "", __LINE__);
    t += 199900000;
    feed(f, "{\"type\":\"ack\",\"ts\":%lld,\"id\":\"o%d\",\"status\":\"accepted\"}",
         (long long)t, n);
    assert_int_equal(EVENT_NO(f), 80);
    CLOSED(f, "high_latency", "P2", inc);
}

/* SPEC 5: staleness > 60 s. A symbol whose last data is 60 s + 1 ns old
 * is stale on that very event (the sweep runs when the earliest deadline
 * has passed, not once a second). */
static void test_detect_symbol_staleness_fires_on_the_crossing_event(void **state)
{
    struct fx *f = *state;
    start(f);
    int64_t t = ny(10, 0, 0, 0);
    sym_quote(f, t, "BBB"); /* #1 */
    QUIET(f);
    sym_quote(f, t + 60 * WD_NS_PER_S, "AAA"); /* #2: BBB exactly 60 s old */
    QUIET(f);
    sym_quote(f, t + 60 * WD_NS_PER_S + 1, "AAA"); /* #3: 60 s + 1 ns */
    OPENED(f, "data_quality", "P2", "Data quality gate failed", "Staleness > 60s");
}

/* severity.h: a finding's severity is raised, never lowered. A broker
 * disconnect opened as P0 (positions open) recovers as P0: the same
 * incident id, the same severity. */
static void test_detect_broker_recovery_keeps_the_incident_severity(void **state)
{
    struct fx *f = *state;
    f->cfg.detect.unknown_fills = false;
    start(f);
    int64_t t = ny(10, 0, 0, 0);
    fill(f, t, "x", "XYZ", 10);
    QUIET(f);
    hb(f, t, "down");
    const struct rec *o = OPENED(f, "broker_disconnect", "P0", "Broker disconnected", NULL);
    char inc[WD_INCIDENT_ID_MAX];
    copy_str(inc, sizeof inc, o->id);
    hb(f, t + 1, "up");
    CLOSED(f, "broker_disconnect", "P0", inc);
}

/* SPEC 5: "no market data for stale_s while the market is open", P2-2
 * "staleness > 60 s while the market is open": the silence that counts is
 * the silence while open. Data last seen pre-market at 08:00: at 09:30:00
 * the market has been open for 0 s, not 90 minutes: neither detector fires
 * before 60 s + 1 ns after the open. */
static void test_detect_market_silence_counts_from_the_open(void **state)
{
    struct fx *f = *state;
    start(f);
    f->g.out.quiet_scenario = "data_quality";
    quote(f, ny(8, 0, 0, 0)); /* #1 */
    QUIET(f);
    metric(f, ny(9, 29, 59, 0)); /* #2: closed */
    QUIET(f);
    metric(f, ny(9, 30, 0, 0)); /* #3: open, 0 s of silence while open */
    QUIET(f);
    metric(f, ny(9, 31, 0, 0)); /* #4: exactly 60 s */
    QUIET(f);
    metric(f, ny(9, 31, 0, 1)); /* #5 */
    OPENED(f, "broker_disconnect", "P1", "Broker disconnected", "no market data");
}

static void test_detect_symbol_staleness_counts_from_the_open(void **state)
{
    struct fx *f = *state;
    start(f);
    sym_quote(f, ny(8, 0, 0, 0), "BBB"); /* #1: pre-market */
    QUIET(f);
    sym_quote(f, ny(9, 30, 0, 0), "AAA"); /* #2: open; BBB silent 0 s while open */
    QUIET(f);
    sym_quote(f, ny(9, 30, 30, 0), "AAA");
    QUIET(f);
    sym_quote(f, ny(9, 31, 0, 0), "AAA"); /* #4: exactly 60 s */
    QUIET(f);
    sym_quote(f, ny(9, 31, 1, 0), "AAA"); /* #5 */
    OPENED(f, "data_quality", "P2", "Data quality gate failed", "Staleness > 60s");
}

static void test_detect_reject_top_reasons_order(void **state)
{
    (void)state;
    struct wd_reject_window w;
    char buf[128];
    assert_int_equal(wd_reject_init(&w, 10, 300), WD_OK);
    wd_reject_add(&w, 1, true, (struct wd_str){"B", 1});
    wd_reject_add(&w, 1, true, (struct wd_str){"A", 1});
    wd_reject_add(&w, 1, true, (struct wd_str){"A", 1});
    wd_reject_add(&w, 1, false, (struct wd_str){"", 0});
    wd_reject_add(&w, 1, true, (struct wd_str){"", 0});
    wd_reject_top(&w, 2, buf, sizeof buf);
    assert_string_equal(buf, "2 A, 1 B");
    wd_reject_top(&w, 5, buf, sizeof buf);
    assert_string_equal(buf, "2 A, 1 B, 1 (no reason)");
    /* The count window: 10 acks, the oldest leave first. */
    for (int i = 0; i < 9; i++) {
        wd_reject_add(&w, 2, false, (struct wd_str){"", 0});
    }
    assert_int_equal(w.count, 10);
    assert_int_equal(w.rejected, 1); /* only the "(no reason)" one is left */
    wd_reject_destroy(&w);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_detect_unknown_fill_halts_and_marks_the_position),
        T(test_detect_fill_for_a_rejected_intent),
        T(test_detect_fills_beyond_the_order_quantity),
        T(test_detect_rejected_then_accepted_id_is_authorized),
        T(test_detect_rejected_intents_remembered_up_to_65536),
        T(test_detect_rejected_intents_survive_a_snapshot),
        T(test_detect_unknown_fills_can_be_allowed),
        T(test_threshold_reject_spike_by_rate),
        T(test_threshold_reject_spike_by_count_window),
        T(test_threshold_reject_spike_by_time_window),
        T(test_threshold_high_latency),
        T(test_threshold_bus_consumer_lag),
        T(test_threshold_bus_kafka_heartbeat_and_lag_together),
        T(test_threshold_broker_heartbeat_down_and_up),
        T(test_threshold_timeouts_on_ticks),
        T(test_threshold_broker_heartbeat_timeout),
        T(test_threshold_broker_no_market_data),
        T(test_threshold_broker_down_with_open_positions_is_p0),
        T(test_threshold_symbol_staleness),
        T(test_threshold_staleness_with_data_at_time_zero),
        T(test_threshold_staleness_new_day_without_closed_events),
        T(test_threshold_bar_completeness),
        T(test_threshold_bar_completeness_counts_from_the_open),
        T(test_threshold_bar_completeness_survives_a_snapshot),
        T(test_threshold_bar_completeness_close_and_restart),
        T(test_threshold_sequence_gaps_and_malformed_lines),
        T(test_threshold_staleness_outside_market_hours),
        T(test_threshold_unauthorized_fill_never_seen),
        T(test_threshold_unauthorized_fill_for_rejected_intent),
        T(test_threshold_unauthorized_fill_over_box_lim),
        T(test_detect_reject_spike_recovers_on_too_few_acks),
        T(test_detect_latency_measured_when_the_fill_comes_first),
        T(test_detect_unacked_fills_do_not_fill_the_order_table),
        T(test_detect_finding_goes_to_the_active_incident),
        T(test_detect_latency_p95_exactly_1s_does_not_open),
        T(test_detect_latency_p95_just_below_200ms_recovers),
        T(test_detect_symbol_staleness_fires_on_the_crossing_event),
        T(test_detect_broker_recovery_keeps_the_incident_severity),
        T(test_detect_market_silence_counts_from_the_open),
        T(test_detect_symbol_staleness_counts_from_the_open),
        cmocka_unit_test(test_detect_reject_top_reasons_order),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
