/*
 * The metrics registry and its Prometheus text exposition: the exact text
 * for a registry with a few values, label escaping, cumulative histogram
 * buckets, counters that never go down, bounds and input checks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "warden/metrics.h"

static struct wd_metrics *fresh(void)
{
    struct wd_metrics *m = NULL;
    assert_int_equal(wd_metrics_new(&m), WD_OK);
    return m;
}

static void assert_render(const struct wd_metrics *m, const char *want)
{
    struct wd_render_buf b;
    wd_render_buf_init(&b, 0);
    assert_int_equal(wd_metrics_render(m, &b), WD_OK);
    assert_string_equal(b.data, want);
    wd_render_buf_destroy(&b);
}

static const char empty_text[] =
    "# HELP warden_equity Equity of a scope (cash plus marked positions).\n"
    "# TYPE warden_equity gauge\n"
    "# HELP warden_daily_pnl_ratio PnL of the trading day as a fraction of the equity at its "
    "open.\n"
    "# TYPE warden_daily_pnl_ratio gauge\n"
    "# HELP warden_drawdown_ratio Drawdown from the equity peak as a fraction of the peak.\n"
    "# TYPE warden_drawdown_ratio gauge\n"
    "# HELP warden_max_drawdown_ratio Largest drawdown seen, as a fraction.\n"
    "# TYPE warden_max_drawdown_ratio gauge\n"
    "# HELP warden_psr Probabilistic Sharpe ratio of a scope (0 to 1).\n"
    "# TYPE warden_psr gauge\n"
    "# HELP warden_trading_state Trading state of a scope: 1 for its current state, 0 for the "
    "others.\n"
    "# TYPE warden_trading_state gauge\n"
    "# HELP warden_intent_ack_latency_seconds Latency from an order intent to its "
    "acknowledgement.\n"
    "# TYPE warden_intent_ack_latency_seconds histogram\n"
    "warden_intent_ack_latency_seconds_bucket{le=\"0.005\"} 0\n"
    "warden_intent_ack_latency_seconds_bucket{le=\"0.01\"} 0\n"
    "warden_intent_ack_latency_seconds_bucket{le=\"0.025\"} 0\n"
    "warden_intent_ack_latency_seconds_bucket{le=\"0.05\"} 0\n"
    "warden_intent_ack_latency_seconds_bucket{le=\"0.1\"} 0\n"
    "warden_intent_ack_latency_seconds_bucket{le=\"0.25\"} 0\n"
    "warden_intent_ack_latency_seconds_bucket{le=\"0.5\"} 0\n"
    "warden_intent_ack_latency_seconds_bucket{le=\"1\"} 0\n"
    "warden_intent_ack_latency_seconds_bucket{le=\"2.5\"} 0\n"
    "warden_intent_ack_latency_seconds_bucket{le=\"5\"} 0\n"
    "warden_intent_ack_latency_seconds_bucket{le=\"10\"} 0\n"
    "warden_intent_ack_latency_seconds_bucket{le=\"+Inf\"} 0\n"
    "warden_intent_ack_latency_seconds_sum 0\n"
    "warden_intent_ack_latency_seconds_count 0\n"
    "# HELP warden_rejection_ratio Rejected order intents as a fraction of those decided, over "
    "the window.\n"
    "# TYPE warden_rejection_ratio gauge\n"
    "warden_rejection_ratio 0\n"
    "# HELP warden_market_data_staleness_seconds Seconds since the last market data of a "
    "symbol.\n"
    "# TYPE warden_market_data_staleness_seconds gauge\n"
    "# HELP warden_consumer_lag_messages Messages the event consumer is behind its input.\n"
    "# TYPE warden_consumer_lag_messages gauge\n"
    "warden_consumer_lag_messages 0\n"
    "# HELP warden_open_incidents Open incidents by severity and scenario.\n"
    "# TYPE warden_open_incidents gauge\n"
    "# HELP warden_events_processed_total Events processed.\n"
    "# TYPE warden_events_processed_total counter\n"
    "warden_events_processed_total 0\n"
    "# HELP warden_events_malformed_total Input lines refused as malformed or incomplete.\n"
    "# TYPE warden_events_malformed_total counter\n"
    "warden_events_malformed_total 0\n"
;

static void test_metrics_empty_registry_has_every_family(void **state)
{
    (void)state;
    struct wd_metrics *m = fresh();
    assert_render(m, empty_text);
    wd_metrics_free(m);
}

static void test_metrics_exact_text_with_values(void **state)
{
    (void)state;
    struct wd_metrics *m = fresh();
    /* Set out of order: the text is sorted by label value. */
    assert_int_equal(wd_metrics_set_figures(m, "firm", 1000000.5, -0.0125, 0.03, 0.1), WD_OK);
    assert_int_equal(wd_metrics_set_figures(m, "account:alpha", 250000, 0.1, 0, 0.25), WD_OK);
    assert_int_equal(wd_metrics_set_psr(m, "firm", 0.97), WD_OK);
    assert_int_equal(wd_metrics_set_state(m, "account:alpha", WD_TS_HALTED), WD_OK);
    assert_int_equal(wd_metrics_set_state(m, "firm", WD_TS_ACTIVE), WD_OK);
    assert_int_equal(wd_metrics_observe_latency(m, 3000000), WD_OK);     /* 0.003 s */
    assert_int_equal(wd_metrics_observe_latency(m, 5000000), WD_OK);     /* le is inclusive */
    assert_int_equal(wd_metrics_observe_latency(m, 200000000), WD_OK);   /* 0.2 s */
    assert_int_equal(wd_metrics_observe_latency(m, 12000000000), WD_OK); /* +Inf only */
    wd_metrics_set_rejection_ratio(m, 0.5);
    assert_int_equal(wd_metrics_set_staleness(m, "MSFT", 2.5), WD_OK);
    assert_int_equal(wd_metrics_set_staleness(m, "AAPL", 0.25), WD_OK);
    wd_metrics_set_consumer_lag(m, 42);
    assert_int_equal(wd_metrics_set_open_incidents(m, "P0", "kill_pnl", 1), WD_OK);
    assert_int_equal(wd_metrics_set_open_incidents(m, "P0", "kill_drawdown", 2), WD_OK);
    assert_int_equal(wd_metrics_set_events(m, 1234, 5), WD_OK);

    struct wd_render_buf b;
    wd_render_buf_init(&b, 0);
    assert_int_equal(wd_metrics_render(m, &b), WD_OK);
    static const char *const want[] = {
        "warden_equity{scope=\"account:alpha\"} 250000\n"
        "warden_equity{scope=\"firm\"} 1000000.5\n",
        "warden_daily_pnl_ratio{scope=\"account:alpha\"} 0.1\n"
        "warden_daily_pnl_ratio{scope=\"firm\"} -0.0125\n",
        "warden_drawdown_ratio{scope=\"account:alpha\"} 0\n"
        "warden_drawdown_ratio{scope=\"firm\"} 0.03\n",
        "warden_max_drawdown_ratio{scope=\"account:alpha\"} 0.25\n"
        "warden_max_drawdown_ratio{scope=\"firm\"} 0.1\n",
        "# TYPE warden_psr gauge\nwarden_psr{scope=\"firm\"} 0.97\n# HELP",
        "warden_trading_state{scope=\"account:alpha\",state=\"ACTIVE\"} 0\n"
        "warden_trading_state{scope=\"account:alpha\",state=\"RAMP_UP\"} 0\n"
        "warden_trading_state{scope=\"account:alpha\",state=\"REDUCE_ONLY\"} 0\n"
        "warden_trading_state{scope=\"account:alpha\",state=\"HALTED\"} 1\n"
        "warden_trading_state{scope=\"firm\",state=\"ACTIVE\"} 1\n"
        "warden_trading_state{scope=\"firm\",state=\"RAMP_UP\"} 0\n"
        "warden_trading_state{scope=\"firm\",state=\"REDUCE_ONLY\"} 0\n"
        "warden_trading_state{scope=\"firm\",state=\"HALTED\"} 0\n",
        "warden_intent_ack_latency_seconds_bucket{le=\"0.005\"} 2\n"
        "warden_intent_ack_latency_seconds_bucket{le=\"0.01\"} 2\n"
        "warden_intent_ack_latency_seconds_bucket{le=\"0.025\"} 2\n"
        "warden_intent_ack_latency_seconds_bucket{le=\"0.05\"} 2\n"
        "warden_intent_ack_latency_seconds_bucket{le=\"0.1\"} 2\n"
        "warden_intent_ack_latency_seconds_bucket{le=\"0.25\"} 3\n"
        "warden_intent_ack_latency_seconds_bucket{le=\"0.5\"} 3\n"
        "warden_intent_ack_latency_seconds_bucket{le=\"1\"} 3\n"
        "warden_intent_ack_latency_seconds_bucket{le=\"2.5\"} 3\n"
        "warden_intent_ack_latency_seconds_bucket{le=\"5\"} 3\n"
        "warden_intent_ack_latency_seconds_bucket{le=\"10\"} 3\n"
        "warden_intent_ack_latency_seconds_bucket{le=\"+Inf\"} 4\n"
        "warden_intent_ack_latency_seconds_sum 12.208\n"
        "warden_intent_ack_latency_seconds_count 4\n",
        "warden_rejection_ratio 0.5\n",
        "warden_market_data_staleness_seconds{symbol=\"AAPL\"} 0.25\n"
        "warden_market_data_staleness_seconds{symbol=\"MSFT\"} 2.5\n",
        "warden_consumer_lag_messages 42\n",
        "warden_open_incidents{severity=\"P0\",scenario=\"kill_drawdown\"} 2\n"
        "warden_open_incidents{severity=\"P0\",scenario=\"kill_pnl\"} 1\n",
        "warden_events_processed_total 1234\n",
        "warden_events_malformed_total 5\n",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        if (strstr(b.data, want[i]) == NULL) {
            fail_msg("missing:\n%s\nin:\n%s", want[i], b.data);
        }
    }
    /* Rendering twice gives the same bytes. */
    struct wd_render_buf b2;
    wd_render_buf_init(&b2, 0);
    assert_int_equal(wd_metrics_render(m, &b2), WD_OK);
    assert_string_equal(b.data, b2.data);
    wd_render_buf_destroy(&b2);
    wd_render_buf_destroy(&b);
    wd_metrics_free(m);
}

static void test_metrics_label_values_are_escaped(void **state)
{
    (void)state;
    struct wd_metrics *m = fresh();
    assert_int_equal(wd_metrics_set_staleness(m, "a\"b\\c\nd", 1), WD_OK);
    assert_int_equal(wd_metrics_set_open_incidents(m, "P1", "x\"y", 3), WD_OK);
    assert_int_equal(wd_metrics_set_staleness(m, "caf\xc3\xa9", 1), WD_OK);
    struct wd_render_buf b;
    wd_render_buf_init(&b, 0);
    assert_int_equal(wd_metrics_render(m, &b), WD_OK);
    assert_non_null(strstr(b.data, "{symbol=\"a\\\"b\\\\c\\nd\"} 1\n"));
    assert_non_null(strstr(b.data, "{severity=\"P1\",scenario=\"x\\\"y\"} 3\n"));
    assert_non_null(strstr(b.data, "{symbol=\"caf\xc3\xa9\"} 1\n"));
    wd_render_buf_destroy(&b);
    wd_metrics_free(m);
}

static void test_metrics_numbers_round_trip_and_non_finite(void **state)
{
    (void)state;
    struct wd_metrics *m = fresh();
    assert_int_equal(wd_metrics_set_staleness(m, "A", 0.1 + 0.2), WD_OK);
    assert_int_equal(wd_metrics_set_staleness(m, "B", 1.0 / 0.0), WD_OK);
    assert_int_equal(wd_metrics_set_staleness(m, "C", -1.0 / 0.0), WD_OK);
    assert_int_equal(wd_metrics_set_staleness(m, "D", 0.0 / 0.0), WD_OK);
    assert_int_equal(wd_metrics_set_staleness(m, "E", 1e21), WD_OK);
    struct wd_render_buf b;
    wd_render_buf_init(&b, 0);
    assert_int_equal(wd_metrics_render(m, &b), WD_OK);
    assert_non_null(strstr(b.data, "{symbol=\"A\"} 0.30000000000000004\n"));
    assert_non_null(strstr(b.data, "{symbol=\"B\"} +Inf\n"));
    assert_non_null(strstr(b.data, "{symbol=\"C\"} -Inf\n"));
    assert_non_null(strstr(b.data, "{symbol=\"D\"} NaN\n"));
    assert_non_null(strstr(b.data, "{symbol=\"E\"} 1e+21\n"));
    wd_render_buf_destroy(&b);
    wd_metrics_free(m);
}

static void test_metrics_refuses_bad_input_and_keeps_state(void **state)
{
    (void)state;
    struct wd_metrics *m = fresh();
    assert_int_equal(wd_metrics_set_psr(m, "desk:x", 1), WD_EINVAL);
    assert_int_equal(wd_metrics_set_psr(m, "", 1), WD_EINVAL);
    assert_int_equal(wd_metrics_set_state(m, "firm", (enum wd_tstate)7), WD_EINVAL);
    assert_int_equal(wd_metrics_set_staleness(m, "", 1), WD_EINVAL);
    assert_int_equal(wd_metrics_set_staleness(m, "\xc3(", 1), WD_EINVAL);     /* bad UTF-8 */
    assert_int_equal(wd_metrics_set_staleness(m, "\xc0\xaf", 1), WD_EINVAL); /* overlong */
    char longname[WD_METRICS_LABEL_MAX + 2];
    memset(longname, 'x', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    assert_int_equal(wd_metrics_set_staleness(m, longname, 1), WD_EINVAL);
    assert_int_equal(wd_metrics_observe_latency(m, -1), WD_ERANGE);
    assert_int_equal(wd_metrics_set_events(m, 10, 2), WD_OK);
    assert_int_equal(wd_metrics_set_events(m, 11, 1), WD_ERANGE); /* malformed went down */
    struct wd_render_buf b;
    wd_render_buf_init(&b, 0);
    assert_int_equal(wd_metrics_render(m, &b), WD_OK);
    assert_non_null(strstr(b.data, "\nwarden_events_processed_total 10\n"));
    assert_non_null(strstr(b.data, "\nwarden_events_malformed_total 2\n"));
    assert_non_null(strstr(b.data, "# TYPE warden_psr gauge\n# HELP"));
    assert_non_null(strstr(b.data, "_count 0\n"));
    wd_render_buf_destroy(&b);
    wd_metrics_free(m);
}

static void test_metrics_tables_are_bounded(void **state)
{
    (void)state;
    struct wd_metrics *m = fresh();
    char sym[16];
    for (int i = 0; i < WD_METRICS_MAX_SERIES; i++) {
        (void)snprintf(sym, sizeof sym, "S%05d", i);
        assert_int_equal(wd_metrics_set_staleness(m, sym, 1), WD_OK);
    }
    assert_int_equal(wd_metrics_set_staleness(m, "S00000", 2), WD_OK); /* existing: fine */
    assert_int_equal(wd_metrics_set_staleness(m, "T", 1), WD_EFULL);
    wd_metrics_clear_incidents(m);
    wd_metrics_free(m);
}

static void test_metrics_render_past_the_bound_leaves_the_buffer(void **state)
{
    (void)state;
    struct wd_metrics *m = fresh();
    struct wd_render_buf b;
    wd_render_buf_init(&b, 64);
    assert_int_equal(wd_render_buf_put(&b, "kept", 4), WD_OK);
    assert_int_equal(wd_metrics_render(m, &b), WD_EFULL);
    assert_int_equal(b.len, 4);
    assert_string_equal(b.data, "kept");
    wd_render_buf_destroy(&b);
    wd_metrics_free(m);
}

static void test_metrics_cleared_incidents_disappear(void **state)
{
    (void)state;
    struct wd_metrics *m = fresh();
    assert_int_equal(wd_metrics_set_open_incidents(m, "P2", "stale_data", 1), WD_OK);
    wd_metrics_clear_incidents(m);
    assert_int_equal(wd_metrics_set_open_incidents(m, "P1", "latency", 0), WD_OK);
    struct wd_render_buf b;
    wd_render_buf_init(&b, 0);
    assert_int_equal(wd_metrics_render(m, &b), WD_OK);
    assert_null(strstr(b.data, "stale_data"));
    assert_non_null(strstr(b.data, "warden_open_incidents{severity=\"P1\",scenario=\"latency\"} 0\n"));
    wd_render_buf_destroy(&b);
    wd_metrics_free(m);
}

/* Kafka: the lag of each partition under the total's family, in (topic,
 * partition) order; the merge's figures; a revoked partition goes away. */
static void test_metrics_kafka_partition_lag_and_merge(void **state)
{
    (void)state;
    struct wd_metrics *m = fresh();
    wd_metrics_set_consumer_lag(m, 12);
    assert_int_equal(wd_metrics_set_partition_lag(m, "order_intents", 1, 5), WD_OK);
    assert_int_equal(wd_metrics_set_partition_lag(m, "exec_reports", 0, 7), WD_OK);
    assert_int_equal(wd_metrics_set_partition_lag(m, "order_intents", 0, 0), WD_OK);
    assert_int_equal(wd_metrics_set_partition_lag(m, "", 0, 1), WD_EINVAL);
    assert_int_equal(wd_metrics_set_partition_lag(m, "x", -1, 1), WD_EINVAL);
    wd_metrics_set_merge(m, &(struct wd_metrics_merge){.on = true, .held = 3, .held_max = 9,
                                                       .released_late = 2, .paused = 4,
                                                       .max_wait_seconds = 0.05,
                                                       .backlog_wait_seconds = 5});
    struct wd_render_buf b;
    wd_render_buf_init(&b, 0);
    assert_int_equal(wd_metrics_render(m, &b), WD_OK);
    assert_non_null(strstr(
        b.data, "# TYPE warden_consumer_lag_messages gauge\n"
                "warden_consumer_lag_messages 12\n"
                "warden_consumer_lag_messages{topic=\"exec_reports\",partition=\"0\"} 7\n"
                "warden_consumer_lag_messages{topic=\"order_intents\",partition=\"0\"} 0\n"
                "warden_consumer_lag_messages{topic=\"order_intents\",partition=\"1\"} 5\n"
                "# HELP warden_kafka_merge_held "));
    assert_non_null(strstr(b.data, "\nwarden_kafka_merge_held 3\n"));
    assert_non_null(strstr(b.data, "\nwarden_kafka_merge_held_max 9\n"));
    assert_non_null(strstr(b.data, "\nwarden_kafka_merge_released_late_total 2\n"));
    assert_non_null(strstr(b.data, "# TYPE warden_kafka_merge_max_wait_seconds gauge\n"
                                   "warden_kafka_merge_max_wait_seconds 0.05\n"));
    assert_non_null(strstr(b.data, "\nwarden_kafka_partitions_paused 4\n"));
    assert_non_null(strstr(b.data, "# TYPE warden_kafka_merge_backlog_wait_seconds gauge\n"
                                   "warden_kafka_merge_backlog_wait_seconds 5\n"));
    wd_render_buf_destroy(&b);
    wd_metrics_clear_partition_lag(m);
    assert_int_equal(wd_metrics_set_partition_lag(m, "order_intents", 1, 4), WD_OK);
    wd_render_buf_init(&b, 0);
    assert_int_equal(wd_metrics_render(m, &b), WD_OK);
    assert_null(strstr(b.data, "exec_reports"));
    assert_non_null(strstr(b.data, "partition=\"1\"} 4\n"));
    wd_render_buf_destroy(&b);
    wd_metrics_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_metrics_empty_registry_has_every_family),
        cmocka_unit_test(test_metrics_exact_text_with_values),
        cmocka_unit_test(test_metrics_label_values_are_escaped),
        cmocka_unit_test(test_metrics_numbers_round_trip_and_non_finite),
        cmocka_unit_test(test_metrics_refuses_bad_input_and_keeps_state),
        cmocka_unit_test(test_metrics_tables_are_bounded),
        cmocka_unit_test(test_metrics_render_past_the_bound_leaves_the_buffer),
        cmocka_unit_test(test_metrics_cleared_incidents_disappear),
        cmocka_unit_test(test_metrics_kafka_partition_lag_and_merge),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
