/*
 * Unit tests for the incident record in the store (schema 4,
 * src/store/store.c, docs/internals/STORE.md "Incident records"): the whole
 * struct wd_incident saved and loaded, the append-only timeline, the dedup
 * lookup, listing, a replay's minimal row read as a record, and the audit
 * chain over the new tables (raw SQL tampering named exactly).
 * Real SQLite on a temporary file, a fake clock for chain entries.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "store/store.h"
#include "warden/incident.h"
#include "warden/severity.h"

#define STORE_FIXTURE_DIR "/tmp/wd-increc-XXXXXX"
#define STORE_FIXTURE_CLOCK 5000
#include "store_fixture.h"

/* Runs sql on its own connection; returns the SQLite code, errmsg in msg. */
static int raw_run(const char *path, const char *sql, char *msg, size_t cap)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    if (msg != NULL)
        (void)snprintf(msg, cap, "%s", sqlite3_errmsg(db));
    sqlite3_close(db);
    return rc;
}

static int64_t raw_int(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *q = NULL;
    int64_t v = -1;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &q, NULL), SQLITE_OK);
    if (sqlite3_step(q) == SQLITE_ROW)
        v = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    sqlite3_close(db);
    return v;
}

static void copy(char *dst, size_t cap, const char *src) { (void)snprintf(dst, cap, "%s", src); }

/* The minimal row a replay writes. */
static struct wd_incident_row make_row(const char *id, const char *scenario, const char *status,
                                       int64_t opened)
{
    struct wd_incident_row row;
    memset(&row, 0, sizeof row);
    copy(row.id, sizeof row.id, id);
    copy(row.scenario, sizeof row.scenario, scenario);
    copy(row.severity, sizeof row.severity, "P1");
    copy(row.scope, sizeof row.scope, "firm");
    copy(row.status, sizeof row.status, status);
    copy(row.title, sizeof row.title, "Broker disconnected");
    copy(row.detail, sizeof row.detail, "no heartbeat for 30 s");
    row.opened_ns = opened;
    return row;
}

/* A record with every field set to a distinct value. */
static void full_record(struct wd_incident *inc, const char *id)
{
    memset(inc, 0, sizeof *inc);
    copy(inc->id, sizeof inc->id, id);
    inc->scenario = WD_SC_KILL_DRAWDOWN;
    copy(inc->scope, sizeof inc->scope, "account:acme");
    inc->severity = WD_P0;
    copy(inc->title, sizeof inc->title, "Drawdown kill: \"acme\" at -12%");
    copy(inc->detail, sizeof inc->detail, "peak 1000000, now 880000\nline two\ttab");
    inc->status = WD_INC_FIXING;
    copy(inc->opened_by, sizeof inc->opened_by, "warden");
    copy(inc->commander, sizeof inc->commander, "alice");
    copy(inc->risk_officer, sizeof inc->risk_officer, "rita");
    copy(inc->tech_lead, sizeof inc->tech_lead, "tom");
    copy(inc->comms_lead, sizeof inc->comms_lead, "carla");
    copy(inc->smes[0], sizeof inc->smes[0], "sam");
    copy(inc->smes[1], sizeof inc->smes[1], "sofia");
    inc->n_smes = 2;
    inc->opened_ns = 1000;
    inc->acknowledged_ns = 1100;
    inc->resolved_ns = 0;
    inc->closed_ns = 0;
    inc->updated_ns = 1900;
    inc->trading_halted = true;
    inc->pnl_open = -12000025000000LL; /* -120000.25 */
    inc->pnl_resolved_known = true;
    inc->pnl_resolved = -13000000000001LL;
    copy(inc->criteria[0].text, sizeof inc->criteria[0].text, "Root cause identified");
    inc->criteria[0].done = true;
    copy(inc->criteria[0].who, sizeof inc->criteria[0].who, "tom");
    inc->criteria[0].when_ns = 1500;
    copy(inc->criteria[1].text, sizeof inc->criteria[1].text, "Fix tested in staging");
    copy(inc->criteria[2].text, sizeof inc->criteria[2].text, "CTO approval");
    inc->n_criteria = 3;
    copy(inc->actions[0].text, sizeof inc->actions[0].text, "Add a drawdown pre-alert");
    copy(inc->actions[0].owner, sizeof inc->actions[0].owner, "tom");
    inc->actions[0].due_ns = 99000;
    inc->actions[0].done = true;
    copy(inc->actions[0].done_by, sizeof inc->actions[0].done_by, "tom");
    inc->actions[0].done_ns = 1800;
    copy(inc->actions[1].text, sizeof inc->actions[1].text, "Review limits");
    copy(inc->actions[1].owner, sizeof inc->actions[1].owner, "rita");
    inc->n_actions = 2;
    inc->ack_breach_noted = true;
    inc->resolve_breach_noted = false;
    inc->escalation_noted = WD_ESC_SENIOR_ENGINEER;
}

/* Two records are equal when their canonical texts are (every field). */
static void assert_same_record(const struct wd_incident *a, const struct wd_incident *b)
{
    char *ca = malloc(WD_INCIDENT_CANONICAL_MAX), *cb = malloc(WD_INCIDENT_CANONICAL_MAX);
    assert_non_null(ca);
    assert_non_null(cb);
    (void)wd_incident_canonical(a, ca, WD_INCIDENT_CANONICAL_MAX);
    (void)wd_incident_canonical(b, cb, WD_INCIDENT_CANONICAL_MAX);
    assert_string_equal(ca, cb);
    free(ca);
    free(cb);
}

static void save_ok(struct wd_store *s, const struct wd_incident *inc, const char *who)
{
    struct wd_error err = {0};
    enum wd_status st = wd_store_incident_save(s, inc, who, &err);
    if (st != WD_OK)
        print_error("save: %s\n", err.msg);
    assert_int_equal(st, WD_OK);
}

static void load_ok(struct wd_store *s, const char *id, struct wd_incident *out)
{
    struct wd_error err = {0};
    bool found = false;
    enum wd_status st = wd_store_incident_load(s, id, out, &found, &err);
    if (st != WD_OK)
        print_error("load: %s\n", err.msg);
    assert_int_equal(st, WD_OK);
    assert_true(found);
}

static void append_ok(struct wd_store *s, const char *id, enum wd_tl_kind kind, int64_t ts,
                      const char *who, const char *from, const char *to, const char *text)
{
    struct wd_timeline_entry e;
    struct wd_error err = {0};
    memset(&e, 0, sizeof e);
    e.ts_ns = ts;
    copy(e.incident, sizeof e.incident, id);
    e.kind = kind;
    copy(e.who, sizeof e.who, who);
    copy(e.from, sizeof e.from, from);
    copy(e.to, sizeof e.to, to);
    copy(e.text, sizeof e.text, text);
    enum wd_status st = wd_store_timeline_append(s, &e, &err);
    if (st != WD_OK)
        print_error("append: %s\n", err.msg);
    assert_int_equal(st, WD_OK);
}

static struct wd_audit_report verify(struct wd_store *s)
{
    struct wd_audit_report rep;
    struct wd_error err = {0};
    enum wd_status st = wd_store_audit_verify(s, &rep, &err);
    if (st != WD_OK)
        print_error("verify: %s\n", err.msg);
    assert_int_equal(st, WD_OK);
    return rep;
}

static void assert_intact(struct wd_store *s)
{
    struct wd_audit_report rep = verify(s);
    if (!rep.intact)
        print_error("report: %s\n", rep.msg);
    assert_true(rep.intact);
}

static void assert_bad_row(struct wd_store *s, const char *table, const char *key,
                           const char *why)
{
    struct wd_audit_report rep = verify(s);
    if (rep.intact || strcmp(rep.table, table) != 0 || strcmp(rep.key, key) != 0 ||
        strstr(rep.msg, why) == NULL)
        print_error("report: intact %d, table '%s', key '%s', msg '%s'\n", rep.intact,
                    rep.table, rep.key, rep.msg);
    assert_false(rep.intact);
    assert_int_equal(rep.bad_seq, 0);
    assert_string_equal(rep.table, table);
    assert_string_equal(rep.key, key);
    assert_non_null(strstr(rep.msg, why));
}

static int64_t chain_len(struct fixture *fx)
{
    return raw_int(fx->path, "SELECT count(*) FROM audit_chain");
}

/* ------------------------------------------------------------------------ */

static void test_increc_save_load_round_trip_every_field(void **state)
{
    struct fixture *fx = *state;
    struct wd_store *s = open_ok(fx);
    struct wd_incident *inc = malloc(sizeof *inc), *got = malloc(sizeof *got);
    assert_non_null(inc);
    assert_non_null(got);
    full_record(inc, "INC-20260302-001");
    save_ok(s, inc, "alice");
    load_ok(s, inc->id, got);
    assert_same_record(inc, got);
    /* Field by field where the canonical text is not the point. */
    assert_int_equal(got->pnl_open, -12000025000000LL);
    assert_int_equal(got->pnl_resolved, -13000000000001LL);
    assert_string_equal(got->smes[1], "sofia");
    assert_int_equal(got->escalation_noted, WD_ESC_SENIOR_ENGINEER);
    /* 1 incidents + 1 record + 6 roles + 3 criteria + 2 actions. */
    assert_int_equal(chain_len(fx), 13);

    /* Saving the same record again changes no row and chains nothing. */
    save_ok(s, inc, "alice");
    assert_int_equal(chain_len(fx), 13);

    /* One criterion ticked, an SME gone, the commander released, the PnL
     * at resolution unknown again: exactly those rows change. */
    inc->criteria[1].done = true;
    copy(inc->criteria[1].who, sizeof inc->criteria[1].who, "rita");
    inc->criteria[1].when_ns = 2000;
    inc->n_smes = 1;
    memset(inc->smes[1], 0, sizeof inc->smes[1]);
    inc->commander[0] = '\0';
    inc->pnl_resolved_known = false;
    inc->pnl_resolved = 0;
    inc->updated_ns = 2000;
    save_ok(s, inc, "rita");
    assert_int_equal(chain_len(fx), 13 + 4); /* record, check #1, 2 role deletions */
    load_ok(s, inc->id, got);
    assert_same_record(inc, got);
    assert_int_equal(raw_int(fx->path, "SELECT count(*) FROM audit_chain WHERE who = 'rita'"
                                       " AND kind = 'incident_roles.delete'"),
                     2);
    assert_intact(s);

    struct wd_error err = {0};
    bool found = true;
    assert_int_equal(wd_store_incident_load(s, "INC-20260302-999", got, &found, &err), WD_OK);
    assert_false(found);
    free(inc);
    free(got);
    wd_store_close(s);
}

static void test_increc_save_refuses_another_incidents_id(void **state)
{
    struct fixture *fx = *state;
    struct wd_store *s = open_ok(fx);
    struct wd_incident *inc = malloc(sizeof *inc);
    assert_non_null(inc);
    full_record(inc, "INC-20260302-001");
    save_ok(s, inc, "alice");
    int64_t before = chain_len(fx);
    inc->scenario = WD_SC_KILL_PNL;
    struct wd_error err = {0};
    assert_int_equal(wd_store_incident_save(s, inc, "alice", &err), WD_ESTATE);
    assert_non_null(strstr(err.msg, "another incident's id"));
    copy(inc->id, sizeof inc->id, "INC-2026-1");
    assert_int_equal(wd_store_incident_save(s, inc, "alice", &err), WD_EINVAL);
    copy(inc->id, sizeof inc->id, "INC-20260302-002");
    assert_int_equal(wd_store_incident_save(s, inc, "", &err), WD_EINVAL);
    inc->n_criteria = WD_INCIDENT_CRITERIA_MAX + 1;
    assert_int_equal(wd_store_incident_save(s, inc, "alice", &err), WD_EINVAL);
    assert_int_equal(chain_len(fx), before);
    free(inc);
    wd_store_close(s);
}

static void test_increc_timeline_oldest_first_and_append_only(void **state)
{
    struct fixture *fx = *state;
    struct wd_store *s = open_ok(fx);
    append_ok(s, "INC-20260302-001", WD_TL_OPENED, 100, "warden", "", "open", "opened");
    append_ok(s, "INC-20260302-002", WD_TL_OPENED, 150, "warden", "", "open", "other");
    append_ok(s, "INC-20260302-001", WD_TL_STATUS, 200, "alice", "open", "acknowledged",
              "acknowledged by alice");
    /* Same ts: append order decides. */
    append_ok(s, "INC-20260302-001", WD_TL_NOTE, 200, "bob", "", "", "broker says \"soon\"");

    struct wd_timeline_entry *tl = NULL;
    size_t n = 0;
    assert_int_equal(wd_store_timeline_list(s, "INC-20260302-001", &tl, &n, NULL), WD_OK);
    assert_int_equal(n, 3);
    assert_int_equal(tl[0].kind, WD_TL_OPENED);
    assert_int_equal(tl[0].ts_ns, 100);
    assert_string_equal(tl[1].who, "alice");
    assert_string_equal(tl[1].from, "open");
    assert_string_equal(tl[1].to, "acknowledged");
    assert_string_equal(tl[1].text, "acknowledged by alice");
    assert_int_equal(tl[2].kind, WD_TL_NOTE);
    assert_string_equal(tl[2].text, "broker says \"soon\"");
    assert_string_equal(tl[2].incident, "INC-20260302-001");
    free(tl);
    assert_int_equal(raw_int(fx->path, "SELECT group_concat(seq) FROM incident_timeline"
                                       " WHERE incident = 'INC-20260302-002'"),
                     1);

    char msg[256];
    assert_int_not_equal(raw_run(fx->path, "UPDATE incident_timeline SET text = 'x'", msg,
                                 sizeof msg),
                         SQLITE_OK);
    assert_non_null(strstr(msg, "incident_timeline is append-only"));
    assert_int_not_equal(raw_run(fx->path, "DELETE FROM incident_timeline", msg, sizeof msg),
                         SQLITE_OK);
    assert_non_null(strstr(msg, "incident_timeline is append-only"));

    struct wd_timeline_entry bad;
    memset(&bad, 0, sizeof bad);
    copy(bad.incident, sizeof bad.incident, "INC-20260302-001");
    copy(bad.who, sizeof bad.who, "x");
    bad.kind = WD_TL__COUNT;
    assert_int_equal(wd_store_timeline_append(s, &bad, NULL), WD_EINVAL);
    assert_int_equal(wd_store_timeline_list(s, "INC-20260302-404", &tl, &n, NULL), WD_OK);
    assert_int_equal(n, 0);
    free(tl);
    assert_intact(s);
    wd_store_close(s);
}

/* A mutation's save and its timeline entry commit together or not at all. */
static void test_increc_save_and_append_in_one_transaction(void **state)
{
    struct fixture *fx = *state;
    struct wd_store *s = open_ok(fx);
    struct wd_incident *inc = malloc(sizeof *inc), *got = malloc(sizeof *got);
    assert_non_null(inc);
    assert_non_null(got);
    full_record(inc, "INC-20260302-001");

    assert_int_equal(wd_store_begin(s, NULL), WD_OK);
    save_ok(s, inc, "alice");
    append_ok(s, inc->id, WD_TL_OPENED, 1000, "warden", "", "open", "opened");
    wd_store_rollback(s);
    bool found = true;
    assert_int_equal(wd_store_incident_load(s, inc->id, got, &found, NULL), WD_OK);
    assert_false(found);
    assert_int_equal(chain_len(fx), 0);

    assert_int_equal(wd_store_begin(s, NULL), WD_OK);
    save_ok(s, inc, "alice");
    append_ok(s, inc->id, WD_TL_OPENED, 1000, "warden", "", "open", "opened");
    assert_int_equal(wd_store_commit(s, NULL), WD_OK);
    load_ok(s, inc->id, got);
    assert_same_record(inc, got);
    assert_int_equal(raw_int(fx->path, "SELECT count(*) FROM incident_timeline"), 1);
    assert_intact(s);
    free(inc);
    free(got);
    wd_store_close(s);
}

static void test_increc_find_active_across_statuses(void **state)
{
    struct fixture *fx = *state;
    struct wd_store *s = open_ok(fx);
    struct wd_incident *inc = malloc(sizeof *inc);
    assert_non_null(inc);
    static const struct {
        enum wd_inc_status status;
        bool found;
    } cases[] = {
        {WD_INC_OPEN, true},         {WD_INC_ACKNOWLEDGED, true}, {WD_INC_INVESTIGATING, true},
        {WD_INC_IDENTIFIED, true},   {WD_INC_FIXING, true},       {WD_INC_MONITORING, true},
        {WD_INC_RESOLVED, false},    {WD_INC_CLOSED, false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char id[WD_INCIDENT_ID_MAX], scope[WD_SCOPE_MAX], got[WD_INCIDENT_ID_MAX];
        bool found = !cases[i].found;
        (void)snprintf(id, sizeof id, "INC-20260302-%03zu", i + 1);
        (void)snprintf(scope, sizeof scope, "strategy:s%zu", i);
        full_record(inc, id);
        copy(inc->scope, sizeof inc->scope, scope);
        inc->status = cases[i].status;
        save_ok(s, inc, "alice");
        assert_int_equal(
            wd_store_incident_find_active(s, WD_SC_KILL_DRAWDOWN, scope, got, &found, NULL),
            WD_OK);
        assert_int_equal(found, cases[i].found);
        if (found)
            assert_string_equal(got, id);
        /* Another scenario of the same scope is another incident. */
        assert_int_equal(wd_store_incident_find_active(s, WD_SC_KILL_PNL, scope, got, &found,
                                                       NULL),
                         WD_OK);
        assert_false(found);
    }
    /* A resolved incident and a newer open one of the same (scenario,
     * scope): the open one. */
    char got[WD_INCIDENT_ID_MAX];
    bool found = false;
    full_record(inc, "INC-20260303-001");
    copy(inc->scope, sizeof inc->scope, "strategy:s6");
    inc->opened_ns = 5000;
    inc->status = WD_INC_OPEN;
    save_ok(s, inc, "warden");
    assert_int_equal(wd_store_incident_find_active(s, WD_SC_KILL_DRAWDOWN, "strategy:s6", got,
                                                   &found, NULL),
                     WD_OK);
    assert_true(found);
    assert_string_equal(got, "INC-20260303-001");
    free(inc);
    wd_store_close(s);
}

static void test_increc_list_newest_first_and_active_only(void **state)
{
    struct fixture *fx = *state;
    struct wd_store *s = open_ok(fx);
    struct wd_incident *inc = malloc(sizeof *inc);
    assert_non_null(inc);
    const char *ids[] = {"INC-20260302-001", "INC-20260302-002", "INC-20260302-003"};
    const enum wd_inc_status st[] = {WD_INC_OPEN, WD_INC_RESOLVED, WD_INC_MONITORING};
    const int64_t opened[] = {300, 100, 200};
    for (size_t i = 0; i < 3; i++) {
        full_record(inc, ids[i]);
        inc->status = st[i];
        inc->opened_ns = opened[i];
        save_ok(s, inc, "alice");
    }
    struct wd_incident *all = NULL;
    size_t n = 0;
    assert_int_equal(wd_store_incident_list_records(s, false, &all, &n, NULL), WD_OK);
    assert_int_equal(n, 3);
    assert_string_equal(all[0].id, "INC-20260302-001");
    assert_string_equal(all[1].id, "INC-20260302-003");
    assert_string_equal(all[2].id, "INC-20260302-002");
    assert_int_equal(all[2].status, WD_INC_RESOLVED);
    assert_int_equal(all[1].n_actions, 2);
    free(all);
    assert_int_equal(wd_store_incident_list_records(s, true, &all, &n, NULL), WD_OK);
    assert_int_equal(n, 2);
    assert_string_equal(all[0].id, "INC-20260302-001");
    assert_string_equal(all[1].id, "INC-20260302-003");
    free(all);
    free(inc);
    wd_store_close(s);
}

/* What a replay writes (wd_store_put_incident) reads back as a record. */
static void test_increc_minimal_replay_row_loads_as_record(void **state)
{
    struct fixture *fx = *state;
    struct wd_store *s = open_ok(fx);
    struct wd_incident_row row = make_row("INC-20260302-001", "broker_disconnect", "open", 777);
    assert_int_equal(wd_store_put_incident(s, &row, "file:/in.jsonl", 3, NULL), WD_OK);

    struct wd_incident *got = malloc(sizeof *got);
    assert_non_null(got);
    load_ok(s, row.id, got);
    assert_int_equal(got->scenario, WD_SC_BROKER_DISCONNECT);
    assert_int_equal(got->severity, WD_P1);
    assert_int_equal(got->status, WD_INC_OPEN);
    assert_string_equal(got->scope, "firm");
    assert_string_equal(got->title, "Broker disconnected");
    assert_string_equal(got->detail, "no heartbeat for 30 s");
    assert_string_equal(got->opened_by, "warden");
    assert_int_equal(got->opened_ns, 777);
    assert_int_equal(got->updated_ns, 777);
    assert_int_equal(got->acknowledged_ns, 0);
    assert_false(got->pnl_resolved_known);
    assert_int_equal(got->n_smes, 0);
    assert_int_equal(got->n_actions, 0);
    const char *const *crit = wd_scenario_recovery_criteria(WD_SC_BROKER_DISCONNECT);
    uint32_t want = 0;
    while (crit[want] != NULL)
        want++;
    assert_true(want > 0);
    assert_int_equal(got->n_criteria, want);
    for (uint32_t i = 0; i < want; i++) {
        assert_string_equal(got->criteria[i].text, crit[i]);
        assert_false(got->criteria[i].done);
        assert_string_equal(got->criteria[i].who, "");
        assert_int_equal(got->criteria[i].when_ns, 0);
    }

    /* The detector's recovery: monitoring. */
    copy(row.status, sizeof row.status, "monitoring");
    assert_int_equal(wd_store_put_incident(s, &row, "file:/in.jsonl", 9, NULL), WD_OK);
    load_ok(s, row.id, got);
    assert_int_equal(got->status, WD_INC_MONITORING);
    char id[WD_INCIDENT_ID_MAX];
    bool found = false;
    assert_int_equal(wd_store_incident_find_active(s, WD_SC_BROKER_DISCONNECT, "firm", id,
                                                   &found, NULL),
                     WD_OK);
    assert_true(found);
    assert_string_equal(id, "INC-20260302-001");

    /* Saved whole, the minimal row becomes a record and stays verifiable. */
    got->criteria[0].done = true;
    copy(got->criteria[0].who, sizeof got->criteria[0].who, "tom");
    got->criteria[0].when_ns = 900;
    got->updated_ns = 900;
    save_ok(s, got, "tom");
    struct wd_incident *again = malloc(sizeof *again);
    assert_non_null(again);
    load_ok(s, row.id, again);
    assert_same_record(got, again);
    assert_intact(s);
    free(again);
    free(got);
    wd_store_close(s);
}

static void write_two_with_timelines(struct wd_store *s)
{
    struct wd_incident *inc = malloc(sizeof *inc);
    assert_non_null(inc);
    full_record(inc, "INC-20260302-001");
    save_ok(s, inc, "alice");
    full_record(inc, "INC-20260302-002");
    copy(inc->scope, sizeof inc->scope, "firm");
    save_ok(s, inc, "alice");
    for (int i = 1; i <= 3; i++) {
        append_ok(s, "INC-20260302-001", WD_TL_NOTE, 100 * i, "bob", "", "", "note");
        append_ok(s, "INC-20260302-002", WD_TL_NOTE, 100 * i, "bob", "", "", "note");
    }
    free(inc);
}

static void test_increc_audit_names_edited_checklist_row(void **state)
{
    struct fixture *fx = *state;
    struct wd_store *s = open_ok(fx);
    write_two_with_timelines(s);
    assert_intact(s);
    /* Entry of INC-20260302-001's criterion 1: the 10th of its save
     * (incidents, record, 6 roles, criteria 0 and 1). */
    assert_int_equal(raw_int(fx->path, "SELECT seq FROM audit_chain"
                                       " WHERE entity = 'INC-20260302-001#1'"
                                       " AND kind = 'incident_checklist.put'"),
                     10);
    assert_int_equal(raw_run(fx->path,
                             "UPDATE incident_checklist SET done = 1, who = 'mallory'"
                             " WHERE incident = 'INC-20260302-001' AND pos = 1",
                             NULL, 0),
                     SQLITE_OK);
    assert_bad_row(s, "incident_checklist", "INC-20260302-001#1", "differs from entry 10");
    wd_store_close(s);
}

static void test_increc_audit_names_deleted_timeline_row(void **state)
{
    struct fixture *fx = *state;
    struct wd_store *s = open_ok(fx);
    write_two_with_timelines(s);
    int64_t seq = raw_int(fx->path, "SELECT seq FROM audit_chain"
                                    " WHERE entity = 'INC-20260302-002#2'"
                                    " AND kind = 'incident_timeline.append'");
    assert_true(seq > 0);
    assert_int_equal(raw_run(fx->path,
                             "DROP TRIGGER incident_timeline_no_delete;"
                             " DELETE FROM incident_timeline"
                             " WHERE incident = 'INC-20260302-002' AND seq = 2",
                             NULL, 0),
                     SQLITE_OK);
    char why[64];
    (void)snprintf(why, sizeof why, "missing: entry %lld records it", (long long)seq);
    assert_bad_row(s, "incident_timeline", "INC-20260302-002#2", why);
    wd_store_close(s);
}

static void test_increc_audit_names_edited_record_and_action(void **state)
{
    struct fixture *fx = *state;
    struct wd_store *s = open_ok(fx);
    write_two_with_timelines(s);
    assert_int_equal(raw_run(fx->path,
                             "UPDATE incident_actions SET owner = 'nobody'"
                             " WHERE incident = 'INC-20260302-002' AND pos = 0",
                             NULL, 0),
                     SQLITE_OK);
    assert_bad_row(s, "incident_actions", "INC-20260302-002#0", "differs from entry");
    assert_int_equal(raw_run(fx->path,
                             "UPDATE incident_records SET pnl_open_e8 = 0"
                             " WHERE id = 'INC-20260302-001'",
                             NULL, 0),
                     SQLITE_OK);
    /* Tables are compared in order: the record comes before the actions. */
    assert_bad_row(s, "incident_records", "INC-20260302-001", "differs from entry 2");
    assert_int_equal(raw_run(fx->path,
                             "INSERT INTO incident_roles VALUES ('INC-20260302-001', 6,"
                             " 'sme', 'mallory'); UPDATE incident_records SET pnl_open_e8 ="
                             " -12000025000000 WHERE id = 'INC-20260302-001';",
                             NULL, 0),
                     SQLITE_OK);
    assert_bad_row(s, "incident_roles", "INC-20260302-001#6", "not in the audit chain");
    wd_store_close(s);
}

/* A store at schema 3 (chain written, no record tables) upgrades and
 * still verifies: the older payloads of incidents are unchanged. */
/* A resume's rewind takes back an incident a killed replay opened past the
 * snapshot: its row, record, roles, checklist and actions go (and the chain
 * says so: the store still verifies); one opened before the point stays. */
static void test_increc_rewind_drops_the_whole_record(void **state)
{
    struct fixture *fx = *state;
    struct wd_store *s = open_ok(fx);
    struct wd_error err = {0};
    const char *in = "file:/data/in.jsonl";
    struct wd_incident_row before = make_row("INC-20260302-001", "broker_disconnect", "open", 10);
    struct wd_incident_row after = make_row("INC-20260302-002", "kill_drawdown", "open", 20);
    copy(after.scope, sizeof after.scope, "account:acme");
    copy(after.severity, sizeof after.severity, "P0");
    assert_int_equal(wd_store_put_incident(s, &before, in, 50, &err), WD_OK);
    assert_int_equal(wd_store_put_incident(s, &after, in, 130, &err), WD_OK);
    struct wd_incident inc;
    full_record(&inc, "INC-20260302-002");
    save_ok(s, &inc, "warden");
    append_ok(s, "INC-20260302-002", WD_TL_NOTE, 2000, "alice", "", "", "a note");
    assert_int_equal(wd_store_rewind(s, in, 100, &err), WD_OK);
    bool found = true;
    assert_int_equal(wd_store_incident_load(s, "INC-20260302-002", &inc, &found, &err), WD_OK);
    assert_false(found);
    assert_int_equal(wd_store_incident_load(s, "INC-20260302-001", &inc, &found, &err), WD_OK);
    assert_true(found);
    assert_intact(s);
    wd_store_close(s);
    assert_int_equal(raw_int(fx->path, "SELECT count(*) FROM incident_records"), 0);
    assert_int_equal(raw_int(fx->path, "SELECT count(*) FROM incident_roles"), 0);
    assert_int_equal(raw_int(fx->path, "SELECT count(*) FROM incident_checklist"), 0);
    assert_int_equal(raw_int(fx->path, "SELECT count(*) FROM incident_actions"), 0);
    assert_int_equal(raw_int(fx->path, "SELECT count(*) FROM incident_timeline"), 1);
}

static void test_increc_upgrade_from_schema_3_verifies(void **state)
{
    struct fixture *fx = *state;
    struct wd_store *s = open_ok(fx);
    struct wd_incident_row row = make_row("INC-20260302-001", "bus_failure", "open", 10);
    assert_int_equal(wd_store_add_incident(s, &row, NULL), WD_OK);
    wd_store_close(s);
    assert_int_equal(raw_run(fx->path,
                             "DROP TABLE incident_records; DROP TABLE incident_roles;"
                             " DROP TABLE incident_checklist; DROP TABLE incident_actions;"
                             " DROP TABLE incident_timeline; DROP INDEX incidents_scenario_scope;"
                             " DROP TABLE notify_outbox; DROP TABLE silences;"
                             " DROP TABLE escalations; DROP TABLE chain_tests;"
                             " PRAGMA user_version = 3;",
                             NULL, 0),
                     SQLITE_OK);
    s = open_ok(fx);
    assert_int_equal(raw_int(fx->path, "PRAGMA user_version"), wd_store_schema_version());
    assert_intact(s);
    struct wd_incident *got = malloc(sizeof *got);
    assert_non_null(got);
    load_ok(s, row.id, got);
    assert_int_equal(got->scenario, WD_SC_BUS_FAILURE);
    got->status = WD_INC_ACKNOWLEDGED;
    got->acknowledged_ns = 20;
    got->updated_ns = 20;
    save_ok(s, got, "alice");
    append_ok(s, row.id, WD_TL_STATUS, 20, "alice", "open", "acknowledged", "ack");
    assert_intact(s);
    free(got);
    wd_store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_increc_save_load_round_trip_every_field, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_increc_save_refuses_another_incidents_id, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_increc_timeline_oldest_first_and_append_only, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_increc_save_and_append_in_one_transaction, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_increc_find_active_across_statuses, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_increc_list_newest_first_and_active_only, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_increc_minimal_replay_row_loads_as_record, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_increc_audit_names_edited_checklist_row, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_increc_audit_names_deleted_timeline_row, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_increc_audit_names_edited_record_and_action, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_increc_rewind_drops_the_whole_record, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_increc_upgrade_from_schema_3_verifies, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
