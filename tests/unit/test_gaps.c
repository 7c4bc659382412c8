/*
 * Trading hours as intervals (session.c) and missing market data per
 * symbol (gaps.c): session boundaries across weekends, holidays and DST;
 * bar slots missing in runs, at the window's edges and across a close;
 * quote silences judged against staleness only while the market is open;
 * configured symbols with no data; out-of-order events; the gap bound.
 * New York hours (09:30-16:00, EST: 14:30Z-21:00Z); 2025-11-17 is a Monday.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "warden/gaps.h"
#include "warden/session.h"
#include "warden/timeutil.h"

struct fx {
    struct wd_config cfg;
    struct wd_tz *tz;
    struct wd_gaps *g;
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

static int teardown(void **state)
{
    struct fx *f = *state;
    wd_gaps_free(f->g);
    wd_tz_free(f->tz);
    wd_config_destroy(&f->cfg);
    free(f);
    return 0;
}

static int64_t T(const char *s)
{
    int64_t ns = 0;
    assert_int_equal(wd_time_parse_rfc3339(s, strlen(s), &ns), WD_OK);
    return ns;
}

static void open_window(struct fx *f, const char *start, const char *end)
{
    struct wd_gaps_opts o = {.cfg = &f->cfg, .tz = f->tz, .start_ns = T(start),
                             .end_ns = end ? T(end) : INT64_MAX};
    assert_int_equal(wd_gaps_new(&o, &f->g), WD_OK);
}

static void bar(struct fx *f, uint32_t sym, const char *ts)
{
    struct wd_event ev = {.type = WD_EV_BAR, .ts_ns = T(ts), .symbol = sym};
    ev.u.bar.interval_s = 60;
    assert_int_equal(wd_gaps_add(f->g, &ev), WD_OK);
}

static void quote(struct fx *f, uint32_t sym, const char *ts)
{
    struct wd_event ev = {.type = WD_EV_QUOTE, .ts_ns = T(ts), .symbol = sym};
    assert_int_equal(wd_gaps_add(f->g, &ev), WD_OK);
}

static void assert_gap(const struct fx *f, size_t i, uint32_t sym, enum wd_gap_kind kind,
                       const char *start, const char *end)
{
    assert_true(i < wd_gaps_count(f->g));
    const struct wd_gap *g = wd_gaps_at(f->g, i);
    assert_int_equal(g->symbol, sym);
    assert_int_equal(g->kind, kind);
    assert_int_equal(g->start_ns, T(start));
    assert_int_equal(g->end_ns, T(end));
}

static void test_session_next_skips_weekend_holiday_and_follows_dst(void **state)
{
    struct fx *f = *state;
    int64_t o, c;
    /* Inside a session: that session. */
    assert_true(wd_session_next(&f->cfg, f->tz, T("2025-11-17T15:00:00Z"), INT64_MAX, &o, &c));
    assert_int_equal(o, T("2025-11-17T14:30:00Z"));
    assert_int_equal(c, T("2025-11-17T21:00:00Z"));
    /* At the close: the next day's. */
    assert_true(wd_session_next(&f->cfg, f->tz, T("2025-11-17T21:00:00Z"), INT64_MAX, &o, &c));
    assert_int_equal(o, T("2025-11-18T14:30:00Z"));
    /* Friday evening: Monday; with Monday a holiday, Tuesday. */
    assert_true(wd_session_next(&f->cfg, f->tz, T("2025-11-21T22:00:00Z"), INT64_MAX, &o, &c));
    assert_int_equal(o, T("2025-11-24T14:30:00Z"));
    int64_t hol = wd_days_from_civil(2025, 11, 24);
    f->cfg.session.holidays = &hol;
    f->cfg.session.n_holidays = 1;
    assert_true(wd_session_next(&f->cfg, f->tz, T("2025-11-21T22:00:00Z"), INT64_MAX, &o, &c));
    assert_int_equal(o, T("2025-11-25T14:30:00Z"));
    f->cfg.session.holidays = NULL;
    f->cfg.session.n_holidays = 0;
    /* Summer time: 09:30 EDT is 13:30Z. */
    assert_true(wd_session_next(&f->cfg, f->tz, T("2025-03-08T00:00:00Z"), INT64_MAX, &o, &c));
    assert_int_equal(o, T("2025-03-10T13:30:00Z"));
    assert_int_equal(c, T("2025-03-10T20:00:00Z"));
    /* Nothing before the limit; no session weekday at all. */
    assert_false(wd_session_next(&f->cfg, f->tz, T("2025-11-21T22:00:00Z"),
                                 T("2025-11-24T14:30:00Z"), &o, &c));
    f->cfg.session.days_mask = 0;
    assert_false(wd_session_next(&f->cfg, f->tz, 0, INT64_MAX, &o, &c));
}

static void test_session_open_ns_sums_the_overlaps(void **state)
{
    struct fx *f = *state;
    /* Mon 14:00Z..Tue 15:00Z: 6h30 on Monday and 30 min on Tuesday. */
    assert_int_equal(wd_session_open_ns(&f->cfg, f->tz, T("2025-11-17T14:00:00Z"),
                                        T("2025-11-18T15:00:00Z")),
                     (int64_t)(7 * 3600) * WD_NS_PER_S);
    /* A weekend: nothing. */
    assert_int_equal(wd_session_open_ns(&f->cfg, f->tz, T("2025-11-22T00:00:00Z"),
                                        T("2025-11-24T00:00:00Z")),
                     0);
}

static void test_gaps_missing_bars_in_a_row_are_one_gap(void **state)
{
    struct fx *f = *state;
    open_window(f, "2025-11-17T14:30:00Z", "2025-11-17T14:40:00Z");
    const char *ts[] = {"2025-11-17T14:30:00Z", "2025-11-17T14:31:00Z", "2025-11-17T14:32:05Z",
                        "2025-11-17T14:36:00Z", "2025-11-17T14:37:00Z", "2025-11-17T14:38:00Z",
                        "2025-11-17T14:39:00Z"};
    for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++) {
        bar(f, 0, ts[i]);
    }
    assert_int_equal(wd_gaps_finish(f->g, T("2025-11-17T14:40:00Z")), WD_OK);
    assert_int_equal(wd_gaps_count(f->g), 1);
    assert_gap(f, 0, 0, WD_GAP_BARS, "2025-11-17T14:33:00Z", "2025-11-17T14:36:00Z");
    struct wd_gap_stream s;
    assert_int_equal(wd_gaps_stream_count(f->g), 1);
    wd_gaps_stream(f->g, 0, &s);
    assert_int_equal(s.kind, WD_GAP_BARS);
    assert_int_equal(s.interval_s, 60);
    assert_int_equal(s.expected, 10);
    assert_int_equal(s.received, 7);
    assert_int_equal(s.gaps, 1);
    assert_int_equal(s.missing_ns, 180 * WD_NS_PER_S);
    assert_true(s.completeness == 0.7);
}

static void test_gaps_bars_at_the_window_edges_count_from_the_open(void **state)
{
    struct fx *f = *state;
    /* The window starts before the open: slots start at 14:30. */
    open_window(f, "2025-11-17T14:00:00Z", NULL);
    bar(f, 0, "2025-11-17T14:32:00Z");
    bar(f, 0, "2025-11-17T14:33:00Z");
    bar(f, 0, "2025-11-17T14:37:00Z");
    assert_int_equal(wd_gaps_finish(f->g, T("2025-11-17T14:39:30Z")), WD_OK);
    assert_int_equal(wd_gaps_count(f->g), 3);
    assert_gap(f, 0, 0, WD_GAP_BARS, "2025-11-17T14:30:00Z", "2025-11-17T14:32:00Z");
    assert_gap(f, 1, 0, WD_GAP_BARS, "2025-11-17T14:34:00Z", "2025-11-17T14:37:00Z");
    /* The last slot (14:39) began inside the window: missing up to the end. */
    assert_gap(f, 2, 0, WD_GAP_BARS, "2025-11-17T14:38:00Z", "2025-11-17T14:39:30Z");
    struct wd_gap_stream s;
    wd_gaps_stream(f->g, 0, &s);
    assert_int_equal(s.expected, 10);
    assert_int_equal(s.received, 3);
}

static void test_gaps_missing_bars_across_a_close_are_two_gaps(void **state)
{
    struct fx *f = *state;
    open_window(f, "2025-11-17T20:55:00Z", "2025-11-18T14:35:00Z");
    bar(f, 0, "2025-11-17T20:55:00Z");
    bar(f, 0, "2025-11-17T20:56:00Z");
    bar(f, 0, "2025-11-17T21:30:00Z"); /* after the close: no slot */
    bar(f, 0, "2025-11-18T14:33:00Z");
    bar(f, 0, "2025-11-18T14:34:00Z");
    assert_int_equal(wd_gaps_finish(f->g, T("2025-11-18T14:35:00Z")), WD_OK);
    assert_int_equal(wd_gaps_count(f->g), 2);
    assert_gap(f, 0, 0, WD_GAP_BARS, "2025-11-17T20:57:00Z", "2025-11-17T21:00:00Z");
    assert_gap(f, 1, 0, WD_GAP_BARS, "2025-11-18T14:30:00Z", "2025-11-18T14:33:00Z");
    struct wd_gap_stream s;
    wd_gaps_stream(f->g, 0, &s);
    assert_int_equal(s.expected, 10);
    assert_int_equal(s.received, 4);
    assert_int_equal(s.ignored, 1);
}

static void test_gaps_quote_silence_must_exceed_staleness(void **state)
{
    struct fx *f = *state;
    open_window(f, "2025-11-17T14:30:00Z", NULL);
    quote(f, 1, "2025-11-17T14:30:00Z");
    quote(f, 1, "2025-11-17T14:31:00Z"); /* 60 s: not more than 60 */
    quote(f, 1, "2025-11-17T14:32:01Z"); /* 61 s: a gap */
    assert_int_equal(wd_gaps_finish(f->g, T("2025-11-17T14:32:30Z")), WD_OK);
    assert_int_equal(wd_gaps_count(f->g), 1);
    assert_gap(f, 0, 1, WD_GAP_QUOTES, "2025-11-17T14:31:00Z", "2025-11-17T14:32:01Z");
    struct wd_gap_stream s;
    wd_gaps_stream(f->g, 0, &s);
    assert_int_equal(s.received, 3);
    assert_int_equal(s.open_ns, 150 * WD_NS_PER_S);
    assert_int_equal(s.missing_ns, 61 * WD_NS_PER_S);
}

static void test_gaps_quote_silence_outside_hours_does_not_count(void **state)
{
    struct fx *f = *state;
    open_window(f, "2025-11-21T20:00:00Z", NULL);
    quote(f, 1, "2025-11-21T20:00:00Z");
    quote(f, 1, "2025-11-21T20:59:30Z");
    /* Over the close and a weekend: 30 s before, 40 s after. */
    quote(f, 1, "2025-11-24T14:30:40Z");
    quote(f, 1, "2025-11-24T14:31:00Z");
    assert_int_equal(wd_gaps_finish(f->g, T("2025-11-24T14:31:00Z")), WD_OK);
    /* 20:00 -> 20:59:30 is a gap, the rest is not. */
    assert_int_equal(wd_gaps_count(f->g), 1);
    assert_gap(f, 0, 1, WD_GAP_QUOTES, "2025-11-21T20:00:00Z", "2025-11-21T20:59:30Z");
}

static void test_gaps_configured_symbol_without_data_is_silent_all_window(void **state)
{
    struct fx *f = *state;
    open_window(f, "2025-11-17T00:00:00Z", "2025-11-18T00:00:00Z");
    assert_int_equal(wd_gaps_expect(f->g, 3), WD_OK);
    assert_int_equal(wd_gaps_expect(f->g, 0), WD_OK);
    bar(f, 0, "2025-11-17T14:30:00Z"); /* symbol 0 has bars: no quotes stream for it */
    assert_int_equal(wd_gaps_finish(f->g, T("2025-11-18T00:00:00Z")), WD_OK);
    assert_int_equal(wd_gaps_stream_count(f->g), 2);
    assert_int_equal(wd_gaps_count(f->g), 2);
    assert_gap(f, 0, 0, WD_GAP_BARS, "2025-11-17T14:31:00Z", "2025-11-17T21:00:00Z");
    assert_gap(f, 1, 3, WD_GAP_QUOTES, "2025-11-17T14:30:00Z", "2025-11-17T21:00:00Z");
    struct wd_gap_stream s;
    wd_gaps_stream(f->g, 0, &s);
    assert_int_equal(s.expected, 390);
    assert_int_equal(s.received, 1);
    wd_gaps_stream(f->g, 1, &s);
    assert_int_equal(s.symbol, 3);
    assert_int_equal(s.received, 0);
    assert_true(s.completeness == 0.0);
}

static void test_gaps_out_of_order_and_duplicates_are_ignored(void **state)
{
    struct fx *f = *state;
    open_window(f, "2025-11-17T14:30:00Z", NULL);
    bar(f, 0, "2025-11-17T14:30:00Z");
    bar(f, 0, "2025-11-17T14:31:00Z");
    bar(f, 0, "2025-11-17T14:31:30Z"); /* same slot */
    bar(f, 0, "2025-11-17T14:30:00Z"); /* back in time */
    quote(f, 1, "2025-11-17T14:30:10Z");
    quote(f, 1, "2025-11-17T14:30:05Z");
    struct wd_event other = {.type = WD_EV_BAR, .ts_ns = T("2025-11-17T14:32:00Z"), .symbol = 0};
    other.u.bar.interval_s = 300; /* another cadence */
    assert_int_equal(wd_gaps_add(f->g, &other), WD_OK);
    assert_int_equal(wd_gaps_finish(f->g, T("2025-11-17T14:31:00Z")), WD_OK);
    assert_int_equal(wd_gaps_count(f->g), 0);
    struct wd_gap_stream s;
    wd_gaps_stream(f->g, 0, &s);
    assert_int_equal(s.received, 2);
    assert_int_equal(s.ignored, 3);
    wd_gaps_stream(f->g, 1, &s);
    assert_int_equal(s.received, 1);
    assert_int_equal(s.ignored, 1);
}

static void test_gaps_bound_and_bad_windows(void **state)
{
    struct fx *f = *state;
    struct wd_gaps *g = NULL;
    struct wd_gaps_opts o = {.cfg = &f->cfg, .tz = f->tz, .start_ns = 10, .end_ns = 10};
    assert_int_equal(wd_gaps_new(&o, &g), WD_EINVAL);
    assert_null(g);
    struct wd_gaps_opts o2 = {.cfg = &f->cfg, .tz = f->tz,
                              .start_ns = T("2025-11-17T14:30:00Z"), .end_ns = INT64_MAX,
                              .max_gaps = 1};
    assert_int_equal(wd_gaps_new(&o2, &f->g), WD_OK);
    bar(f, 0, "2025-11-17T14:31:00Z"); /* first gap: 14:30 */
    struct wd_event ev = {.type = WD_EV_BAR, .ts_ns = T("2025-11-17T14:33:00Z"), .symbol = 0};
    ev.u.bar.interval_s = 60;
    assert_int_equal(wd_gaps_add(f->g, &ev), WD_EFULL);
    /* finish: not before the start, not past the end given, only once */
    struct wd_gaps_opts o3 = {.cfg = &f->cfg, .tz = f->tz, .start_ns = 100, .end_ns = 200};
    assert_int_equal(wd_gaps_new(&o3, &g), WD_OK);
    assert_int_equal(wd_gaps_finish(g, 100), WD_EINVAL);
    assert_int_equal(wd_gaps_finish(g, 201), WD_EINVAL);
    assert_int_equal(wd_gaps_finish(g, 200), WD_OK);
    assert_int_equal(wd_gaps_finish(g, 200), WD_EINVAL);
    wd_gaps_free(g);
    wd_gaps_free(NULL);
}

int main(void)
{
#define TC(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        TC(test_session_next_skips_weekend_holiday_and_follows_dst),
        TC(test_session_open_ns_sums_the_overlaps),
        TC(test_gaps_missing_bars_in_a_row_are_one_gap),
        TC(test_gaps_bars_at_the_window_edges_count_from_the_open),
        TC(test_gaps_missing_bars_across_a_close_are_two_gaps),
        TC(test_gaps_quote_silence_must_exceed_staleness),
        TC(test_gaps_quote_silence_outside_hours_does_not_count),
        TC(test_gaps_configured_symbol_without_data_is_silent_all_window),
        TC(test_gaps_out_of_order_and_duplicates_are_ignored),
        TC(test_gaps_bound_and_bad_windows),
    };
#undef TC
    return cmocka_run_group_tests(tests, NULL, NULL);
}
