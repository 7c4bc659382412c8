/*
 * The P1/P2 detectors through the engine, on exact boundaries: each does
 * not fire one event before its threshold, fires on the crossing event,
 * stays open inside the hysteresis band, and closes past the recovery
 * threshold (rejection spike, intent->ack latency, consumer lag and kafka
 * heartbeat, broker heartbeat / timeout / market-data staleness, the last
 * only while the market is open), plus the severity raise for a broker
 * disconnect with open positions and the reject window's top reasons.
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
    if (eng_open(&f->g, &f->cfg, f->tz, NULL, &err) != WD_OK) {
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

static void test_detect_reject_spike_opens_and_recovers_with_hysteresis(void **state)
{
    struct fx *f = *state;
    start(f);
    int64_t t = ny(10, 0, 0, 0);
    int n = 0;
    for (int i = 0; i < 18; i++) {
        ack(f, t, n++, "accepted", NULL);
    }
    ack(f, t, n++, "rejected", "Insufficient buying power");
    ack(f, t, n++, "rejected", "Market closed");
    /* 2 of 20 = 10%: not above 10%. */
    last(f, 0);
    ack(f, t, n++, "rejected", "Insufficient buying power");
    /* 3 of 21 = 14.3%: opens on this very event. */
    const struct rec *i = last(f, 1);
    assert_int_equal(i->event_no, 21);
    assert_string_equal(i->scenario, "reject_spike");
    assert_string_equal(i->status, "open");
    assert_string_equal(i->severity, "P1");
    assert_string_equal(i->title, "High rejection rate detected");
    assert_string_equal(i->detail, "14.3% of the last 21 orders rejected (> 10%); top reasons: "
                                   "2 Insufficient buying power, 1 Market closed");
    /* Accepted acks dilute it: 3 of 60 = 5.0% is inside the band. */
    while (n < 60) {
        ack(f, t, n++, "accepted", NULL);
    }
    last(f, 1);
    /* 3 of 61 = 4.9%: below 5%, recovered on this event. */
    ack(f, t, n++, "accepted", NULL);
    i = last(f, 2);
    assert_int_equal(i->event_no, 61);
    assert_string_equal(i->status, "monitoring");
    assert_string_equal(i->title, "Rejection rate recovered");
}

static void test_detect_reject_window_drops_old_acks_by_time(void **state)
{
    struct fx *f = *state;
    f->cfg.detect.reject.window_s = 60;
    start(f);
    int64_t t = ny(10, 0, 0, 0);
    int n = 0;
    for (int i = 0; i < 20; i++) {
        ack(f, t, n++, "rejected", "Risk limit exceeded");
    }
    last(f, 1);
    /* 61 s later the rejections have left the window: one accepted ack
     * alone is 0% and not enough samples to keep it open -> closes. */
    ack(f, t + 61 * WD_NS_PER_S, n++, "accepted", NULL);
    const struct rec *i = last(f, 2);
    assert_string_equal(i->status, "monitoring");
}

static void intent_and_ack(struct fx *f, int n, int64_t ts, int64_t latency_ms)
{
    feed(f,
         "{\"type\":\"intent\",\"ts\":%lld,\"id\":\"o%d\",\"symbol\":\"XYZ\",\"side\":\"BUY\","
         "\"qty\":1,\"source\":\"s\"}",
         (long long)ts, n);
    feed(f, "{\"type\":\"ack\",\"ts\":%lld,\"id\":\"o%d\",\"status\":\"accepted\"}",
         (long long)(ts + latency_ms * 1000000), n);
}

static void test_detect_latency_p95_opens_above_1s_closes_below_200ms(void **state)
{
    struct fx *f = *state;
    start(f);
    int64_t t = ny(10, 0, 0, 0);
    int n = 0;
    for (; n < 20; n++) {
        intent_and_ack(f, n, t + n * WD_NS_PER_S, 50);
    }
    last(f, 0);
    /* 21 samples, 1 slow: the p95 (rank 20) is still 50 ms. */
    intent_and_ack(f, n, t + n * WD_NS_PER_S, 1500);
    n++;
    last(f, 0);
    /* 22 samples, 2 slow: rank ceil(20.9) = 21 is slow: opens here. */
    intent_and_ack(f, n, t + n * WD_NS_PER_S, 1500);
    n++;
    const struct rec *i = last(f, 1);
    assert_int_equal(i->event_no, 44);
    assert_string_equal(i->scenario, "high_latency");
    assert_string_equal(i->severity, "P2");
    assert_string_equal(i->title, "High latency detected");
    /* Fast acks push the two slow ones out of the top 5%: with n samples
     * the p95 is rank ceil(0.95 n), fast once ceil(0.95 n) <= n - 2, that
     * is from n = 40 on; 50 ms is below 200 ms: recovered there. */
    size_t before = count(f, WD_OUT_INCIDENT);
    for (int k = 0; k < 30 && count(f, WD_OUT_INCIDENT) == before; k++, n++) {
        intent_and_ack(f, n, t + n * WD_NS_PER_S, 50);
    }
    i = last(f, 2);
    assert_string_equal(i->status, "monitoring");
    /* 2 slow of 40: rank 38 is fast (39 would have been slow at n = 39:
     * ceil(37.05) = 38 = n - 1). Each sample is two events. */
    assert_int_equal(i->event_no, 2u * 40u);
}

static void lag(struct fx *f, int64_t ts, long v)
{
    feed(f, "{\"type\":\"metric\",\"ts\":%lld,\"name\":\"consumer_lag\",\"value\":%ld}",
         (long long)ts, v);
}

static void test_detect_bus_lag_hysteresis_and_kafka_heartbeat(void **state)
{
    struct fx *f = *state;
    start(f);
    int64_t t = ny(10, 0, 0, 0);
    lag(f, t, 1000);
    last(f, 0);
    lag(f, t, 1001);
    const struct rec *i = last(f, 1);
    assert_int_equal(i->event_no, 2);
    assert_string_equal(i->scenario, "bus_failure");
    assert_string_equal(i->detail, "consumer lag 1001 > 1000");
    lag(f, t, 500);
    lag(f, t, 100);
    last(f, 1);
    lag(f, t, 99);
    i = last(f, 2);
    assert_string_equal(i->status, "monitoring");
    assert_string_equal(i->detail, "consumer lag 99 < 100");
    feed(f, "{\"type\":\"heartbeat\",\"ts\":%lld,\"component\":\"kafka\",\"status\":\"down\"}",
         (long long)t);
    i = last(f, 3);
    assert_string_equal(i->status, "open");
    assert_string_equal(i->detail, "kafka heartbeat down");
    feed(f, "{\"type\":\"heartbeat\",\"ts\":%lld,\"component\":\"kafka\",\"status\":\"up\"}",
         (long long)t);
    i = last(f, 4);
    assert_string_equal(i->status, "monitoring");
}

static void hb(struct fx *f, int64_t ts, const char *status)
{
    feed(f, "{\"type\":\"heartbeat\",\"ts\":%lld,\"component\":\"broker\",\"status\":\"%s\"}",
         (long long)ts, status);
}

static void test_detect_broker_heartbeat_timeout_and_down(void **state)
{
    struct fx *f = *state;
    start(f);
    int64_t t = ny(10, 0, 0, 0);
    hb(f, t, "up");
    /* Exactly 30 s without a heartbeat is not more than 30 s. */
    lag(f, t + 30 * WD_NS_PER_S, 0);
    last(f, 0);
    lag(f, t + 30 * WD_NS_PER_S + 1, 0);
    const struct rec *i = last(f, 1);
    assert_int_equal(i->event_no, 3);
    assert_string_equal(i->scenario, "broker_disconnect");
    assert_string_equal(i->severity, "P1");
    assert_string_equal(i->detail, "no broker heartbeat for 30s (> 30s)");
    hb(f, t + 31 * WD_NS_PER_S, "up");
    i = last(f, 2);
    assert_string_equal(i->status, "monitoring");
    hb(f, t + 32 * WD_NS_PER_S, "down");
    i = last(f, 3);
    assert_string_equal(i->status, "open");
    assert_string_equal(i->detail, "broker heartbeat down");
}

static void test_detect_broker_down_with_open_positions_is_p0(void **state)
{
    struct fx *f = *state;
    f->cfg.detect.unknown_fills = false; /* a desk trading by hand: bare fills are fine */
    start(f);
    int64_t t = ny(10, 0, 0, 0);
    feed(f,
         "{\"type\":\"fill\",\"ts\":%lld,\"id\":\"x\",\"symbol\":\"XYZ\",\"side\":\"BUY\","
         "\"qty\":10,\"price\":10}",
         (long long)t);
    hb(f, t, "down");
    const struct rec *i = last(f, 1);
    assert_string_equal(i->scenario, "broker_disconnect");
    assert_string_equal(i->severity, "P0");
}

static void quote(struct fx *f, int64_t ts)
{
    feed(f, "{\"type\":\"quote\",\"ts\":%lld,\"symbol\":\"XYZ\",\"bid\":9.99,\"ask\":10.01}",
         (long long)ts);
}

static void test_detect_market_data_staleness_only_while_open(void **state)
{
    struct fx *f = *state;
    start(f);
    int64_t t = ny(10, 0, 0, 0);
    quote(f, t);
    lag(f, t + 60 * WD_NS_PER_S, 0);
    last(f, 0);
    lag(f, t + 60 * WD_NS_PER_S + 1, 0);
    const struct rec *i = last(f, 1);
    assert_string_equal(i->detail, "no market data for 60s (> 60s) while the market is open");
    quote(f, t + 61 * WD_NS_PER_S);
    last(f, 2);
    /* After the close, silence is normal. */
    quote(f, ny(15, 59, 30, 0));
    lag(f, ny(17, 0, 0, 0), 0);
    last(f, 2);
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

static void test_detect_sequence_gaps_are_data_quality_alerts(void **state)
{
    struct fx *f = *state;
    start(f);
    int64_t t = ny(10, 0, 0, 0);
    for (int sq = 1; sq <= 3; sq++) {
        feed(f, "{\"type\":\"quote\",\"ts\":%lld,\"seq\":%d,\"symbol\":\"X\",\"bid\":1,"
                "\"ask\":2}", (long long)t, sq);
    }
    assert_int_equal(count(f, WD_OUT_ALERT), 0);
    feed(f, "{\"type\":\"quote\",\"ts\":%lld,\"seq\":7,\"symbol\":\"X\",\"bid\":1,"
            "\"ask\":2}", (long long)t);
    assert_int_equal(count(f, WD_OUT_ALERT), 1);
    assert_string_equal(last_alert(f), "data_quality P2 firm: sequence gap on market_events: "
                                       "expected 4, got 7 (3 missing)");
    /* Another stream keeps its own numbering. */
    feed(f, "{\"type\":\"metric\",\"ts\":%lld,\"seq\":1,\"name\":\"m\",\"value\":1}",
         (long long)t);
    assert_int_equal(count(f, WD_OUT_ALERT), 1);
    feed(f, "{\"type\":\"quote\",\"ts\":%lld,\"seq\":7,\"symbol\":\"X\",\"bid\":1,"
            "\"ask\":2}", (long long)t);
    assert_string_equal(last_alert(f), "data_quality P2 firm: sequence went back on "
                                       "market_events: 7 after 7 (duplicate or reordered)");
    wd_engine_report_malformed(f->g.e, 42, "missing key 'symbol'");
    assert_string_equal(last_alert(f), "data_quality P2 firm: malformed event at line 42 "
                                       "skipped: missing key 'symbol' (1 so far)");
    assert_int_equal(wd_engine_malformed_count(f->g.e), 1);
}

static void test_detect_symbol_staleness_opens_and_recovers(void **state)
{
    struct fx *f = *state;
    f->cfg.detect.staleness_s = 60;
    start(f);
    int64_t t = ny(10, 0, 0, 0);
    /* Two symbols; AAA keeps quoting every 10 s, BBB stops after t. */
    feed(f, "{\"type\":\"quote\",\"ts\":%lld,\"symbol\":\"BBB\",\"bid\":1,\"ask\":2}",
         (long long)t);
    for (int k = 0; k <= 6; k++) {
        feed(f, "{\"type\":\"quote\",\"ts\":%lld,\"symbol\":\"AAA\",\"bid\":1,\"ask\":2}",
             (long long)(t + k * 10 * WD_NS_PER_S));
    }
    last(f, 0); /* BBB is exactly 60 s old: not more */
    feed(f, "{\"type\":\"quote\",\"ts\":%lld,\"symbol\":\"AAA\",\"bid\":1,\"ask\":2}",
         (long long)(t + 61 * WD_NS_PER_S));
    const struct rec *i = last(f, 1);
    assert_string_equal(i->scenario, "data_quality");
    assert_string_equal(i->title, "Data quality gate failed");
    assert_string_equal(i->detail, "Staleness > 60s: 1 symbol: BBB (61s)");
    feed(f, "{\"type\":\"quote\",\"ts\":%lld,\"symbol\":\"BBB\",\"bid\":1,\"ask\":2}",
         (long long)(t + 63 * WD_NS_PER_S));
    i = last(f, 2);
    assert_string_equal(i->status, "monitoring");
    /* After the close nothing is stale. */
    feed(f, "{\"type\":\"quote\",\"ts\":%lld,\"symbol\":\"AAA\",\"bid\":1,\"ask\":2}",
         (long long)ny(16, 30, 0, 0));
    last(f, 2);
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
        T(test_detect_reject_spike_opens_and_recovers_with_hysteresis),
        T(test_detect_reject_window_drops_old_acks_by_time),
        T(test_detect_latency_p95_opens_above_1s_closes_below_200ms),
        T(test_detect_bus_lag_hysteresis_and_kafka_heartbeat),
        T(test_detect_broker_heartbeat_timeout_and_down),
        T(test_detect_broker_down_with_open_positions_is_p0),
        T(test_detect_market_data_staleness_only_while_open),
        T(test_detect_unknown_fill_halts_and_marks_the_position),
        T(test_detect_fill_for_a_rejected_intent),
        T(test_detect_unknown_fills_can_be_allowed),
        T(test_detect_sequence_gaps_are_data_quality_alerts),
        T(test_detect_symbol_staleness_opens_and_recovers),
        cmocka_unit_test(test_detect_reject_top_reasons_order),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
