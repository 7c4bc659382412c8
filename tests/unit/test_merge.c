/*
 * The event-time merge (src/core/merge.c): exact release orders for
 * sources read at different paces, the bounded wait for a lagging source,
 * caught-up sources, closing a source, the bounds. Time is given, never
 * read: each test says what "now" is at every call.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "warden/merge.h"

#define MS 1000000LL
enum { MARKET = 0, INTENTS = 1, EXECS = 2, SYSTEM = 3 };

static struct wd_merge *mk2(uint32_t cap, int64_t wait_ms, int64_t backlog_ms)
{
    struct wd_merge *m = NULL;
    assert_int_equal(wd_merge_new(cap, wait_ms * MS, backlog_ms * MS, &m), WD_OK);
    return m;
}

/* The backlog wait equal to the wait: a source opened and not yet heard
 * of is waited for as any lagging one. */
static struct wd_merge *mk(uint32_t cap, int64_t wait_ms)
{
    return mk2(cap, wait_ms, wait_ms);
}

static void push(struct wd_merge *m, uint32_t src, int64_t ts, int64_t now, uint64_t h)
{
    assert_int_equal(wd_merge_push(m, src, true, ts, now, h), WD_OK);
}

/* Pops everything due at now into a string of handles ("3,1,2"). */
static const char *drain(struct wd_merge *m, int64_t now)
{
    static char buf[256];
    struct wd_merge_item it;
    size_t n = 0;
    buf[0] = '\0';
    while (wd_merge_pop(m, now, &it)) {
        n += (size_t)snprintf(buf + n, sizeof buf - n, "%s%llu", n ? "," : "",
                              (unsigned long long)it.handle);
    }
    return buf;
}

/* The case: the ack (exec_reports) is read before its intent
 * (order_intents lags). The ack is held; when the intent arrives it goes
 * first, and the ack follows: the engine sees intent then ack. */
static void test_merge_ack_read_before_its_intent_is_released_after_it(void **state)
{
    (void)state;
    struct wd_merge *m = mk(16, 100);
    assert_int_equal(wd_merge_open(m, INTENTS), WD_OK);
    push(m, EXECS, 2000, 0, 2); /* ack, ts 2000 */
    assert_string_equal(drain(m, 10 * MS), "");          /* intents may still hold ts < 2000 */
    push(m, INTENTS, 1000, 20 * MS, 1); /* the intent, ts 1000 */
    assert_string_equal(drain(m, 20 * MS), "1");         /* the intent: nothing can come earlier */
    /* The intents source was read up to 1000 < 2000: the ack waits for it,
     * at most 100 ms after it arrived (t=0). */
    assert_string_equal(drain(m, 99 * MS), "");
    assert_string_equal(drain(m, 100 * MS), "2");
    struct wd_merge_stats st;
    wd_merge_get_stats(m, &st);
    assert_int_equal(st.released, 2);
    assert_int_equal(st.released_late, 1);
    assert_int_equal(st.reordered, 1); /* the intent went before the ack read earlier */
    assert_int_equal(st.held, 0);
    assert_int_equal(st.held_max, 2);
    wd_merge_free(m);
}

/* A fill that halts and an intent stamped after it, read the other way
 * round: the fill goes first. */
static void test_merge_intent_after_a_fill_waits_for_the_fill(void **state)
{
    (void)state;
    struct wd_merge *m = mk(16, 50);
    assert_int_equal(wd_merge_open(m, EXECS), WD_OK);
    push(m, INTENTS, 5000, 0, 20); /* intent ts 5000 */
    assert_string_equal(drain(m, 1 * MS), "");
    push(m, EXECS, 4000, 2 * MS, 10); /* fill ts 4000 */
    push(m, EXECS, 6000, 2 * MS, 11); /* fill ts 6000: exec_reports is past 5000 */
    assert_string_equal(drain(m, 2 * MS), "10,20");
    /* 11 (ts 6000) waits for intents, read up to 5000, 50 ms from t=2. */
    assert_string_equal(drain(m, 51 * MS), "");
    assert_string_equal(drain(m, 52 * MS), "11");
    wd_merge_free(m);
}

/* Sources read at once interleave by time; ties go to the lower source
 * (intents before execs at the same nanosecond). */
static void test_merge_interleaves_by_time_ties_to_lower_source(void **state)
{
    (void)state;
    struct wd_merge *m = mk(16, 50);
    push(m, MARKET, 10, 0, 1);
    push(m, MARKET, 30, 0, 3);
    push(m, INTENTS, 20, 0, 2);
    push(m, INTENTS, 30, 0, 4);
    push(m, EXECS, 30, 0, 5);
    push(m, EXECS, 40, 0, 6);
    /* Each source still may deliver more: 6 (ts 40) waits for the others,
     * which were read up to 30. */
    assert_string_equal(drain(m, 0), "1,2,3,4,5");
    assert_string_equal(drain(m, 49 * MS), "");
    assert_string_equal(drain(m, 50 * MS), "6");
    wd_merge_free(m);
}

/* A caught-up source (end of its partition) holds nobody back; a push
 * makes it a source to wait for again. */
static void test_merge_caught_up_source_does_not_hold_back(void **state)
{
    (void)state;
    struct wd_merge *m = mk(16, 1000);
    assert_int_equal(wd_merge_open(m, SYSTEM), WD_OK);
    push(m, MARKET, 100, 0, 1);
    assert_string_equal(drain(m, 0), "");
    wd_merge_caught_up(m, SYSTEM);
    assert_string_equal(drain(m, 0), "1");
    push(m, SYSTEM, 50, 0, 2);
    push(m, MARKET, 200, 0, 3);
    assert_string_equal(drain(m, 0), "2"); /* system read up to 50 < 200: 3 waits */
    wd_merge_caught_up(m, SYSTEM);
    assert_string_equal(drain(m, 0), "3");
    wd_merge_free(m);
}

/* max_wait 0: arrival order across sources, nothing is ever held. */
static void test_merge_zero_wait_is_arrival_order(void **state)
{
    (void)state;
    struct wd_merge *m = mk(16, 0);
    assert_int_equal(wd_merge_open(m, INTENTS), WD_OK);
    push(m, EXECS, 2000, 0, 1);
    assert_string_equal(drain(m, 0), "1");
    push(m, INTENTS, 1000, 0, 2);
    assert_string_equal(drain(m, 0), "2");
    wd_merge_free(m);
}

/* Within a source the read order is kept, whatever the times say; an item
 * without a time keeps its place. */
static void test_merge_keeps_order_within_a_source(void **state)
{
    (void)state;
    struct wd_merge *m = mk(16, 10);
    push(m, MARKET, 300, 0, 1);
    push(m, MARKET, 100, 0, 2); /* out of order in its partition */
    assert_int_equal(wd_merge_push(m, MARKET, false, 0, 0, 3), WD_OK); /* malformed */
    push(m, MARKET, 400, 0, 4);
    assert_string_equal(drain(m, 0), "1,2,3,4");
    struct wd_merge_item it;
    assert_false(wd_merge_pop_any(m, &it));
    wd_merge_free(m);
}

static uint64_t dropped[8];
static size_t n_dropped;
static void on_drop(void *ctx, uint64_t h)
{
    (void)ctx;
    dropped[n_dropped++] = h;
}

/* A revoked partition: its held items are handed back in order, and the
 * merge no longer waits for it. */
static void test_merge_close_drops_and_stops_waiting(void **state)
{
    (void)state;
    struct wd_merge *m = mk(16, 1000);
    push(m, INTENTS, 500, 0, 1);
    push(m, INTENTS, 600, 0, 2);
    push(m, EXECS, 100, 0, 3);
    push(m, MARKET, 700, 0, 4);
    /* 3 (ts 100) is due: every other source holds a later item. Then 1
     * (ts 500) waits for execs, read up to 100 only. */
    assert_string_equal(drain(m, 0), "3");
    n_dropped = 0;
    wd_merge_close(m, INTENTS, on_drop, NULL);
    assert_int_equal(n_dropped, 2);
    assert_int_equal(dropped[0], 1);
    assert_int_equal(dropped[1], 2);
    assert_string_equal(drain(m, 0), "");    /* 4 still waits for execs */
    wd_merge_close(m, EXECS, NULL, NULL);
    assert_string_equal(drain(m, 0), "4");
    wd_merge_free(m);
}

/* The bounds: a full merge refuses (the caller pops first); pop_any takes
 * the earliest whether due or not; the deadline is the oldest arrival +
 * max_wait. */
static void test_merge_bounds_and_deadline(void **state)
{
    (void)state;
    struct wd_merge *m = mk(2, 30);
    struct wd_merge_item it;
    assert_int_equal(wd_merge_deadline(m), INT64_MAX);
    assert_int_equal(wd_merge_open(m, SYSTEM), WD_OK);
    push(m, MARKET, 20, 5 * MS, 1);
    push(m, EXECS, 10, 7 * MS, 2);
    assert_int_equal(wd_merge_push(m, MARKET, true, 30, 8 * MS, 3), WD_EFULL);
    assert_int_equal(wd_merge_push(m, WD_MERGE_MAX_SOURCES, true, 30, 8 * MS, 3), WD_ERANGE);
    /* The earliest head (EXECS, ts 10, read at 7 ms) goes next: its
     * deadline, not MARKET's earlier one (35 ms), which would wake the
     * caller with nothing due. */
    assert_int_equal(wd_merge_deadline(m), 37 * MS);
    assert_string_equal(drain(m, 36 * MS), ""); /* waits for SYSTEM */
    assert_true(wd_merge_pop_any(m, &it));
    assert_int_equal(it.handle, 2);
    assert_int_equal(it.ts_ns, 10);
    assert_int_equal(it.source, EXECS);
    assert_int_equal(it.arrived_ns, 7 * MS);
    assert_string_equal(drain(m, 35 * MS), "1");
    struct wd_merge *bad = NULL;
    assert_int_equal(wd_merge_new(0, 0, 0, &bad), WD_EINVAL);
    assert_int_equal(wd_merge_new(1, -1, 0, &bad), WD_EINVAL);
    assert_int_equal(wd_merge_new(1, 0, -1, &bad), WD_EINVAL);
    assert_null(bad);
    wd_merge_free(m);
    wd_merge_free(NULL);
}

/* Catching up a backlog: the exec reports' partition is fetched first,
 * the intents' not yet. An intents source never heard of since it opened,
 * or said behind (its log end past what was read), is waited for up to
 * backlog_wait, not max_wait: the fill does not go before its intent. */
static void test_merge_behind_source_is_waited_for_up_to_backlog_wait(void **state)
{
    (void)state;
    struct wd_merge *m = mk2(16, 50, 5000);
    assert_int_equal(wd_merge_open(m, INTENTS), WD_OK); /* behind until heard of */
    push(m, EXECS, 2000, 0, 2);                           /* the fill, ts 2000 */
    assert_int_equal(wd_merge_deadline(m), 5000 * MS);
    assert_string_equal(drain(m, 50 * MS), "");
    assert_string_equal(drain(m, 4999 * MS), "");
    push(m, INTENTS, 1000, 4999 * MS, 1); /* the intent arrives */
    /* Heard of, and no longer said behind: the ordinary wait (the intents
     * were read up to 1000 < 2000), counted from the fill's arrival, is
     * over: the intent, then the fill. */
    assert_string_equal(drain(m, 4999 * MS), "1,2");
    /* Said behind again (read 1000, its log end further): 5 s again. */
    wd_merge_behind(m, INTENTS, true);
    push(m, EXECS, 3000, 6000 * MS, 3);
    assert_int_equal(wd_merge_held(m, EXECS), 1);
    assert_int_equal(wd_merge_held(m, INTENTS), 0);
    assert_string_equal(drain(m, 6100 * MS), "");
    assert_int_equal(wd_merge_deadline(m), 11000 * MS);
    wd_merge_behind(m, INTENTS, false);
    assert_int_equal(wd_merge_deadline(m), 6050 * MS);
    assert_string_equal(drain(m, 6100 * MS), "3");
    struct wd_merge_stats st;
    wd_merge_get_stats(m, &st);
    assert_int_equal(st.released, 3);
    assert_int_equal(st.released_late, 2);
    wd_merge_free(m);
}

/* A behind source that says it is at its end, or was told not behind
 * before it delivered anything, is not waited for beyond max_wait; one at
 * its end not at all; an unknown source is never held in. */
static void test_merge_behind_cleared_by_caught_up_or_caller(void **state)
{
    (void)state;
    struct wd_merge *m = mk2(16, 50, 5000);
    assert_int_equal(wd_merge_open(m, INTENTS), WD_OK);
    assert_int_equal(wd_merge_open(m, SYSTEM), WD_OK);
    wd_merge_caught_up(m, SYSTEM);
    wd_merge_behind(m, INTENTS, false);
    push(m, EXECS, 2000, 0, 7);
    assert_int_equal(wd_merge_deadline(m), 50 * MS);
    assert_string_equal(drain(m, 49 * MS), "");
    assert_string_equal(drain(m, 50 * MS), "7");
    wd_merge_caught_up(m, INTENTS);
    push(m, EXECS, 2100, 60 * MS, 8);
    assert_int_equal(wd_merge_deadline(m), 60 * MS);
    assert_string_equal(drain(m, 60 * MS), "8");
    /* Behind set on a source at its end: it is no longer at its end. */
    wd_merge_behind(m, SYSTEM, true);
    push(m, EXECS, 2200, 70 * MS, 9);
    assert_string_equal(drain(m, 4000 * MS), "");
    assert_string_equal(drain(m, 5070 * MS), "9");
    wd_merge_behind(m, 999, true); /* not open: nothing */
    assert_int_equal(wd_merge_held(m, 999), 0);
    assert_int_equal(wd_merge_held(m, WD_MERGE_MAX_SOURCES), 0);
    wd_merge_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_merge_ack_read_before_its_intent_is_released_after_it),
        cmocka_unit_test(test_merge_intent_after_a_fill_waits_for_the_fill),
        cmocka_unit_test(test_merge_interleaves_by_time_ties_to_lower_source),
        cmocka_unit_test(test_merge_caught_up_source_does_not_hold_back),
        cmocka_unit_test(test_merge_zero_wait_is_arrival_order),
        cmocka_unit_test(test_merge_keeps_order_within_a_source),
        cmocka_unit_test(test_merge_close_drops_and_stops_waiting),
        cmocka_unit_test(test_merge_bounds_and_deadline),
        cmocka_unit_test(test_merge_behind_source_is_waited_for_up_to_backlog_wait),
        cmocka_unit_test(test_merge_behind_cleared_by_caught_up_or_caller),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
