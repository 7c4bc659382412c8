/*
 * Order-flow statistics (flow.c): the reason tally's order and bounds,
 * broker and gate rejection rates, the peak rate over a sliding window,
 * intent->ack latency percentiles overall and per account, and the
 * bookkeeping around it: acks with no intent, intents never acked (only
 * those the gate let through), later acks, acks before their intent, ids
 * reused before their ack, and the time window.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "warden/flow.h"
#include "warden/timeutil.h"

#define MS 1000000LL

static struct wd_str S(const char *s) { return (struct wd_str){s, (uint32_t)strlen(s)}; }

static void intent(struct wd_flow *f, const char *id, int64_t ts, uint32_t account)
{
    struct wd_event ev = {.type = WD_EV_INTENT, .ts_ns = ts, .account = account};
    ev.u.intent.id = S(id);
    assert_int_equal(wd_flow_intent(f, &ev), WD_OK);
}

static void decide(struct wd_flow *f, const char *id, int64_t ts, const char *reason)
{
    assert_int_equal(wd_flow_decision(f, ts, S(id), reason[0] == '\0', reason), WD_OK);
}

static void ack(struct wd_flow *f, const char *id, int64_t ts, enum wd_ack_status st,
                const char *reason)
{
    struct wd_event ev = {.type = WD_EV_ACK, .ts_ns = ts};
    ev.u.ack.id = S(id);
    ev.u.ack.status = st;
    ev.u.ack.reason = S(reason);
    assert_int_equal(wd_flow_ack(f, &ev), WD_OK);
}

static struct wd_flow *new_flow(int64_t start, int64_t end)
{
    struct wd_flow_opts o = {.start_ns = start, .end_ns = end, .reject_window_orders = 4,
                             .reject_window_s = 300, .reject_min_acks = 2};
    struct wd_flow *f = NULL;
    assert_int_equal(wd_flow_new(&o, &f), WD_OK);
    return f;
}

static void test_tally_orders_by_count_then_reason_other_last(void **state)
{
    (void)state;
    struct wd_tally t;
    assert_int_equal(wd_tally_init(&t, 3), WD_OK);
    const char *in[] = {"Market closed", "Insufficient buying power", "Market closed", "",
                        "Risk limit", "Invalid order", "Insufficient buying power",
                        "Invalid order"};
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
        assert_int_equal(wd_tally_add(&t, S(in[i])), WD_OK);
    }
    struct wd_tally_entry e[8];
    assert_int_equal(wd_tally_size(&t), 4);
    assert_int_equal(wd_tally_sorted(&t, e), 4);
    /* 2, 2 by name, then 1 "(none)", then the two reasons past the bound. */
    assert_string_equal(e[0].reason, "Insufficient buying power");
    assert_int_equal(e[0].count, 2);
    assert_string_equal(e[1].reason, "Market closed");
    assert_int_equal(e[1].count, 2);
    assert_string_equal(e[2].reason, WD_TALLY_NONE);
    assert_int_equal(e[2].count, 1);
    assert_string_equal(e[3].reason, WD_TALLY_OTHER);
    assert_int_equal(e[3].count, 3);
    assert_int_equal(t.total, 8);
    wd_tally_destroy(&t);
}

static void test_tally_cuts_long_reasons_outside_escapes(void **state)
{
    (void)state;
    struct wd_tally t;
    assert_int_equal(wd_tally_init(&t, 10), WD_OK);
    /* 58 x's, then an escape that would straddle byte 61. */
    char r[128];
    memset(r, 'x', 58);
    memcpy(r + 58, "\\u00e9 and more text", 20);
    assert_int_equal(wd_tally_add(&t, (struct wd_str){r, 78}), WD_OK);
    struct wd_tally_entry e[1];
    assert_int_equal(wd_tally_sorted(&t, e), 1);
    assert_int_equal(strlen(e[0].reason), 61);
    assert_memory_equal(e[0].reason + 58, "...", 3);
    wd_tally_destroy(&t);
}

static void test_flow_broker_and_gate_rates_by_reason(void **state)
{
    (void)state;
    struct wd_flow *f = new_flow(INT64_MIN, INT64_MAX);
    const char *ids[] = {"o1", "o2", "o3", "o4", "o5", "o6", "o7", "o8"};
    for (int i = 0; i < 8; i++) {
        intent(f, ids[i], i * 1000 * MS, 0);
        decide(f, ids[i], i * 1000 * MS, i == 6 ? "limit:box_lim" : i == 7 ? "halted" : "");
    }
    ack(f, "o1", 1 * MS, WD_ACK_ACCEPTED, "");
    ack(f, "o2", 1000 * MS + 2 * MS, WD_ACK_REJECTED, "Market closed");
    ack(f, "o3", 2000 * MS + 3 * MS, WD_ACK_REJECTED, "Market closed");
    ack(f, "o4", 3000 * MS + 4 * MS, WD_ACK_ACCEPTED, "");
    ack(f, "o5", 4000 * MS + 5 * MS, WD_ACK_CANCELLED, "");
    struct wd_flow_stats s;
    wd_flow_stats(f, &s);
    assert_int_equal(s.intents, 8);
    assert_int_equal(s.decisions, 8);
    assert_int_equal(s.gate_rejected, 2);
    assert_true(s.gate_rate == 0.25);
    assert_int_equal(s.acks, 5);
    assert_int_equal(s.acks_rejected, 2);
    assert_int_equal(s.acks_cancelled, 1);
    assert_true(s.broker_rate == 0.5); /* 2 of 4: the cancel is not a verdict */
    /* Peak over the last 4 acks, from 2 acks on: 1/2 at o2, 2/3 at o3. */
    assert_true(s.peak_rate == 2.0 / 3.0);
    assert_int_equal(s.peak_ts_ns, 2003 * MS);
    assert_int_equal(s.peak_acks, 3);
    /* o6 accepted and never acked; o7, o8 rejected by the gate: not expected. */
    assert_int_equal(s.never_acked, 1);
    struct wd_tally_entry e[4];
    assert_int_equal(wd_tally_sorted(wd_flow_broker_reasons(f), e), 1);
    assert_string_equal(e[0].reason, "Market closed");
    assert_int_equal(e[0].count, 2);
    assert_int_equal(wd_tally_sorted(wd_flow_gate_reasons(f), e), 2);
    assert_string_equal(e[0].reason, "halted");
    assert_string_equal(e[1].reason, "limit:box_lim");
    wd_flow_free(f);
}

static void test_flow_latency_percentiles_overall_and_per_account(void **state)
{
    (void)state;
    struct wd_flow *f = new_flow(INT64_MIN, INT64_MAX);
    char id[16];
    /* account 1: 100 intents acked after 1..100 ms; account 2: one after 2 s. */
    for (int i = 1; i <= 100; i++) {
        snprintf(id, sizeof id, "a%d", i);
        intent(f, id, i * 10000 * MS, 1);
        ack(f, id, i * 10000 * MS + i * MS, WD_ACK_ACCEPTED, "");
    }
    intent(f, "b1", 0, 2);
    ack(f, "b1", 2000 * MS, WD_ACK_ACCEPTED, "");
    struct wd_flow_stats s;
    wd_flow_stats(f, &s);
    assert_int_equal(s.latency.count, 101);
    /* ranks 51, 96, 100 of 1..100 ms and 2000 ms */
    assert_int_equal(s.latency.p50_ns, wd_hist_upper_ns(51 * MS));
    assert_int_equal(s.latency.p95_ns, wd_hist_upper_ns(96 * MS));
    assert_int_equal(s.latency.p99_ns, wd_hist_upper_ns(100 * MS));
    assert_int_equal(s.latency.max_ns, 2000 * MS);
    struct wd_flow_latency l;
    assert_true(wd_flow_account_latency(f, 1, &l));
    assert_int_equal(l.count, 100);
    assert_int_equal(l.p50_ns, wd_hist_upper_ns(50 * MS));
    assert_int_equal(l.p95_ns, wd_hist_upper_ns(95 * MS));
    assert_int_equal(l.max_ns, 100 * MS);
    assert_int_equal(l.p99_ns, wd_hist_upper_ns(99 * MS));
    assert_true(wd_flow_account_latency(f, 2, &l));
    assert_int_equal(l.count, 1);
    assert_int_equal(l.p99_ns, 2000 * MS); /* the bucket's top, clamped to the max */
    assert_false(wd_flow_account_latency(f, 0, &l));
    assert_false(wd_flow_account_latency(f, 7, &l));
    wd_flow_free(f);
}

static void test_flow_unmatched_late_negative_and_reused_ids(void **state)
{
    (void)state;
    struct wd_flow *f = new_flow(INT64_MIN, INT64_MAX);
    ack(f, "ghost", 5 * MS, WD_ACK_ACCEPTED, "");       /* no intent */
    intent(f, "o1", 10 * MS, 0);
    ack(f, "o1", 12 * MS, WD_ACK_ACCEPTED, "");
    ack(f, "o1", 50 * MS, WD_ACK_CANCELLED, "");        /* a later ack: no latency */
    intent(f, "o2", 100 * MS, 0);
    ack(f, "o2", 90 * MS, WD_ACK_ACCEPTED, "");         /* before its intent */
    intent(f, "o3", 200 * MS, 0);
    intent(f, "o3", 300 * MS, 0);                       /* reused before any ack */
    ack(f, "o3", 301 * MS, WD_ACK_ACCEPTED, "");
    struct wd_flow_stats s;
    wd_flow_stats(f, &s);
    assert_int_equal(s.acks_without_intent, 1);
    assert_int_equal(s.negative, 1);
    assert_int_equal(s.never_acked, 1); /* the first o3 */
    assert_int_equal(s.latency.count, 2);
    assert_int_equal(s.latency.max_ns, 2 * MS);
    wd_flow_free(f);
}

static void test_flow_counts_only_inside_the_window(void **state)
{
    (void)state;
    struct wd_flow *f = new_flow(100 * MS, 200 * MS);
    intent(f, "early", 50 * MS, 0);
    decide(f, "early", 50 * MS, "halted");
    ack(f, "early", 150 * MS, WD_ACK_REJECTED, "late");   /* ack inside: counted */
    intent(f, "in", 120 * MS, 0);
    decide(f, "in", 120 * MS, "");
    ack(f, "in", 250 * MS, WD_ACK_ACCEPTED, "");          /* ack after the window */
    intent(f, "last", 199 * MS, 0);
    decide(f, "last", 199 * MS, "");
    struct wd_flow_stats s;
    wd_flow_stats(f, &s);
    assert_int_equal(s.intents, 2);
    assert_int_equal(s.decisions, 2);
    assert_int_equal(s.gate_rejected, 0);
    assert_int_equal(s.acks, 1);
    assert_int_equal(s.acks_rejected, 1);
    assert_int_equal(s.latency.count, 1);
    assert_int_equal(s.latency.max_ns, 100 * MS);
    assert_int_equal(s.never_acked, 1); /* "last"; "in" was acked after the window */
    wd_flow_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tally_orders_by_count_then_reason_other_last),
        cmocka_unit_test(test_tally_cuts_long_reasons_outside_escapes),
        cmocka_unit_test(test_flow_broker_and_gate_rates_by_reason),
        cmocka_unit_test(test_flow_latency_percentiles_overall_and_per_account),
        cmocka_unit_test(test_flow_unmatched_late_negative_and_reused_ids),
        cmocka_unit_test(test_flow_counts_only_inside_the_window),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
