/*
 * The store's on-call tables (schema 5, src/store/store.c): silences that
 * match by scenario and scope and expire by themselves, escalations written
 * once per level, the alerting chain's tests; every row in the audit chain,
 * which names a row edited behind warden's back. Real SQLite on a
 * temporary file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "store/store.h"

#define S_NS 1000000000LL

struct fx {
    char path[64];
    struct wd_store *s;
};

static int setup(void **state)
{
    struct fx *fx = calloc(1, sizeof *fx);
    struct wd_error err = {0};
    snprintf(fx->path, sizeof fx->path, "/tmp/wd_oncall_store_%d.db", (int)getpid());
    unlink(fx->path);
    if (wd_store_open(fx->path, &fx->s, &err) != WD_OK) {
        fail_msg("open: %s", err.msg);
    }
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fx *fx = *state;
    char p[96];
    wd_store_close(fx->s);
    unlink(fx->path);
    snprintf(p, sizeof p, "%s-wal", fx->path);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", fx->path);
    unlink(p);
    free(fx);
    return 0;
}

static struct wd_silence silence(const char *scenario, const char *scope, int64_t from,
                                 int64_t until)
{
    struct wd_silence sl;
    memset(&sl, 0, sizeof sl);
    snprintf(sl.scenario, sizeof sl.scenario, "%s", scenario);
    snprintf(sl.scope, sizeof sl.scope, "%s", scope);
    sl.starts_ns = from;
    sl.until_ns = until;
    snprintf(sl.reason, sizeof sl.reason, "broker maintenance");
    snprintf(sl.by, sizeof sl.by, "alice");
    return sl;
}

static void assert_intact(struct wd_store *s)
{
    struct wd_audit_report rep;
    struct wd_error err = {0};
    assert_int_equal(wd_store_audit_verify(s, &rep, &err), WD_OK);
    if (!rep.intact) {
        fail_msg("audit: %s", rep.msg);
    }
}

static void test_silence_matches_scenario_and_scope_until_it_expires(void **state)
{
    struct fx *fx = *state;
    struct wd_error err = {0};
    struct wd_silence a = silence("broker_disconnect", "", 100 * S_NS, 200 * S_NS);
    struct wd_silence b = silence("reject_spike", "account:alpha", 100 * S_NS, 300 * S_NS);
    struct wd_silence got;
    bool found;
    assert_int_equal(wd_store_silence_add(fx->s, &a, &err), WD_OK);
    assert_int_equal(wd_store_silence_add(fx->s, &b, &err), WD_OK);
    assert_int_equal(a.id, 1);
    assert_int_equal(b.id, 2);

    assert_int_equal(wd_store_silence_active(fx->s, "broker_disconnect", "account:beta",
                                             150 * S_NS, &got, &found, &err), WD_OK);
    assert_true(found);
    assert_int_equal(got.id, 1);
    assert_string_equal(got.reason, "broker maintenance");
    /* Before it starts, at its end (excluded), for another scenario. */
    assert_int_equal(wd_store_silence_active(fx->s, "broker_disconnect", "firm", 99 * S_NS, &got,
                                             &found, &err), WD_OK);
    assert_false(found);
    assert_int_equal(wd_store_silence_active(fx->s, "broker_disconnect", "firm", 200 * S_NS,
                                             &got, &found, &err), WD_OK);
    assert_false(found);
    assert_int_equal(wd_store_silence_active(fx->s, "reject_spike", "account:beta", 150 * S_NS,
                                             &got, &found, &err), WD_OK);
    assert_false(found);
    assert_int_equal(wd_store_silence_active(fx->s, "reject_spike", "account:alpha",
                                             150 * S_NS, &got, &found, &err), WD_OK);
    assert_true(found);
    assert_int_equal(got.id, 2);

    struct wd_silence *v = NULL;
    size_t n = 0;
    assert_int_equal(wd_store_silence_list(fx->s, false, 250 * S_NS, &v, &n, &err), WD_OK);
    assert_int_equal(n, 1); /* #1 expired by itself */
    assert_int_equal(v[0].id, 2);
    free(v);
    assert_int_equal(wd_store_silence_list(fx->s, true, 250 * S_NS, &v, &n, &err), WD_OK);
    assert_int_equal(n, 2);
    free(v);

    assert_int_equal(wd_store_silence_remove(fx->s, 2, "bob", 160 * S_NS, &err), WD_OK);
    assert_int_equal(wd_store_silence_active(fx->s, "reject_spike", "account:alpha",
                                             170 * S_NS, &got, &found, &err), WD_OK);
    assert_false(found);
    assert_int_equal(wd_store_silence_get(fx->s, 2, &got, &found, &err), WD_OK);
    assert_int_equal(got.removed_ns, 160 * S_NS);
    assert_string_equal(got.removed_by, "bob");
    assert_int_equal(wd_store_silence_remove(fx->s, 2, "bob", 170 * S_NS, &err), WD_ESTATE);
    assert_string_equal(err.msg, "silence #2 was already removed by bob");
    assert_int_equal(wd_store_silence_remove(fx->s, 9, "bob", 170 * S_NS, &err), WD_ENOTFOUND);
    struct wd_silence bad = silence("manual", "", 10 * S_NS, 10 * S_NS);
    assert_int_equal(wd_store_silence_add(fx->s, &bad, &err), WD_EINVAL);
    assert_intact(fx->s);
}

static void test_escalation_recorded_once_per_level(void **state)
{
    struct fx *fx = *state;
    struct wd_error err = {0};
    struct wd_escalation_row e;
    bool added;
    uint32_t level;
    memset(&e, 0, sizeof e);
    snprintf(e.incident, sizeof e.incident, "INC-20250309-001");
    e.level = 2;
    e.ts_ns = 5 * S_NS;
    snprintf(e.level_name, sizeof e.level_name, "Senior Engineer");
    snprintf(e.reason, sizeof e.reason, "unresolved for more than 30m");
    snprintf(e.paged, sizeof e.paged, "dana sms:+15550110");
    assert_int_equal(wd_store_escalation_level(fx->s, e.incident, &level, &err), WD_OK);
    assert_int_equal(level, 0);
    assert_int_equal(wd_store_escalation_add(fx->s, &e, &added, &err), WD_OK);
    assert_true(added);
    e.ts_ns = 6 * S_NS;
    assert_int_equal(wd_store_escalation_add(fx->s, &e, &added, &err), WD_OK);
    assert_false(added);
    assert_int_equal(wd_store_escalation_level(fx->s, e.incident, &level, &err), WD_OK);
    assert_int_equal(level, 2);

    struct wd_chain_test t = {0}, last;
    bool found;
    assert_int_equal(wd_store_chain_test_last(fx->s, &last, &found, &err), WD_OK);
    assert_false(found);
    t.ts_ns = 7 * S_NS;
    snprintf(t.by, sizeof t.by, "carol");
    snprintf(t.paged, sizeof t.paged, "L1 On-Call: alice sms:+15550100");
    assert_int_equal(wd_store_chain_test_add(fx->s, &t, &err), WD_OK);
    assert_int_equal(wd_store_chain_test_last(fx->s, &last, &found, &err), WD_OK);
    assert_true(found);
    assert_int_equal(last.ts_ns, 7 * S_NS);
    assert_string_equal(last.by, "carol");
    assert_intact(fx->s);
}

static void test_oncall_rows_edited_behind_wardens_back_are_named(void **state)
{
    struct fx *fx = *state;
    struct wd_error err = {0};
    struct wd_silence a = silence("kill_pnl", "firm", 100 * S_NS, 200 * S_NS);
    struct wd_escalation_row e;
    bool added;
    memset(&e, 0, sizeof e);
    snprintf(e.incident, sizeof e.incident, "INC-20250309-002");
    e.level = 3;
    assert_int_equal(wd_store_silence_add(fx->s, &a, &err), WD_OK);
    assert_int_equal(wd_store_escalation_add(fx->s, &e, &added, &err), WD_OK);
    assert_intact(fx->s);

    sqlite3 *db;
    assert_int_equal(sqlite3_open(fx->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "UPDATE silences SET until_ns = 999000000000", NULL, NULL,
                                  NULL), SQLITE_OK);
    struct wd_audit_report rep;
    assert_int_equal(wd_store_audit_verify(fx->s, &rep, &err), WD_OK);
    assert_false(rep.intact);
    assert_string_equal(rep.table, "silences");
    assert_string_equal(rep.key, "1");
    assert_int_equal(sqlite3_exec(db,
                                  "UPDATE silences SET until_ns = 200000000000;"
                                  "DELETE FROM escalations",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(wd_store_audit_verify(fx->s, &rep, &err), WD_OK);
    assert_false(rep.intact);
    assert_string_equal(rep.table, "escalations");
    assert_string_equal(rep.key, "INC-20250309-002#3");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_silence_matches_scenario_and_scope_until_it_expires,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_escalation_recorded_once_per_level, setup, teardown),
        cmocka_unit_test_setup_teardown(test_oncall_rows_edited_behind_wardens_back_are_named,
                                        setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
