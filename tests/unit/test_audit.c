/*
 * Unit tests for the store's tamper-evident audit chain (src/store/store.c,
 * docs/internals/STORE.md "Audit chain").
 *
 * Each test writes a known history through the store API on a temporary
 * file, with a fake clock, then tampers with the file the way an attacker
 * with the sqlite3 tool would (raw SQL, dropping the append-only triggers
 * first) and pins exactly which entry or row wd_store_audit_verify names.
 * One test recomputes a hash independently from the documented format, so
 * the format cannot drift without this file noticing.
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
#include <openssl/evp.h>
#include <sqlite3.h>

#include "store/store.h"
#include "warden/state.h"

#define STORE_FIXTURE_DIR "/tmp/wd-audit-XXXXXX"
#define STORE_FIXTURE_CLOCK 1000
#include "store_fixture.h"

static void raw_exec(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        print_error("raw_exec: %s\n", sqlite3_errmsg(db));
    assert_int_equal(rc, SQLITE_OK);
    sqlite3_close(db);
}

/* What an attacker does first: the append-only triggers go. */
static void tamper(const char *path, const char *sql)
{
    char buf[1024];
    (void)snprintf(buf, sizeof buf,
                   "DROP TRIGGER audit_chain_no_update; DROP TRIGGER audit_chain_no_delete;"
                   " DROP TRIGGER state_history_no_update; DROP TRIGGER state_history_no_delete;"
                   " %s",
                   sql);
    raw_exec(path, buf);
}

/* The first column of the first row of sql, as text (static buffer). */
static const char *raw_text(const char *path, const char *sql)
{
    static char out[2048];
    sqlite3 *db = NULL;
    sqlite3_stmt *q = NULL;
    out[0] = '\0';
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &q, NULL), SQLITE_OK);
    if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_text(q, 0) != NULL)
        (void)snprintf(out, sizeof out, "%s", (const char *)sqlite3_column_text(q, 0));
    sqlite3_finalize(q);
    sqlite3_close(db);
    return out;
}

static void copy(char *dst, size_t cap, const char *src) { (void)snprintf(dst, cap, "%s", src); }

static struct wd_scope_state make_state(const char *scope, enum wd_tstate ts, int64_t since,
                                        const char *by)
{
    struct wd_scope_state st;
    memset(&st, 0, sizeof st);
    copy(st.scope, sizeof st.scope, scope);
    st.state = ts;
    st.since_ns = since;
    copy(st.by, sizeof st.by, by);
    copy(st.reason, sizeof st.reason, "drill");
    copy(st.scenario, sizeof st.scenario, "manual");
    return st;
}

static struct wd_incident_row make_incident(const char *id, int64_t opened)
{
    struct wd_incident_row r;
    memset(&r, 0, sizeof r);
    copy(r.id, sizeof r.id, id);
    copy(r.scenario, sizeof r.scenario, "broker_disconnect");
    copy(r.severity, sizeof r.severity, "P1");
    copy(r.scope, sizeof r.scope, "firm");
    copy(r.status, sizeof r.status, "open");
    copy(r.title, sizeof r.title, "Broker disconnected");
    r.opened_ns = opened;
    return r;
}

static void approve(struct wd_store *s, const char *who, enum wd_role role, int64_t ts)
{
    struct wd_approval a;
    memset(&a, 0, sizeof a);
    copy(a.scope, sizeof a.scope, "firm");
    copy(a.who, sizeof a.who, who);
    a.role = role;
    copy(a.reason, sizeof a.reason, "checked");
    a.ts_ns = ts;
    assert_int_equal(wd_store_add_approval(s, &a, NULL), WD_OK);
}

/* The standard history, nine entries:
 *   1 state_history.append 1   2 scope_states.put firm   (alice halts)
 *   3 approvals.add 1          4 incidents.add INC-20251117-001
 *   5 state_history.append 2   6 scope_states.put firm   (alice resumes)
 *   7 limits.change            8 approvals.add 2
 *   9 incidents.put INC-20251117-002 (a replay) */
static void write_history(struct wd_store *s)
{
    struct wd_scope_state st = make_state("firm", WD_TS_HALTED, 100, "alice");
    assert_int_equal(wd_store_put_state(s, &st, NULL), WD_OK);
    approve(s, "alice", WD_ROLE_RISK_OFFICER, 200);
    struct wd_incident_row i1 = make_incident("INC-20251117-001", 150);
    assert_int_equal(wd_store_add_incident(s, &i1, NULL), WD_OK);
    st.state = WD_TS_RAMP_UP;
    st.since_ns = 300;
    assert_int_equal(wd_store_put_state(s, &st, NULL), WD_OK);
    assert_int_equal(wd_store_record_limit_change(s, "carol", "limits.kill_pnl", "-0.05", "-0.04",
                                                  NULL),
                     WD_OK);
    approve(s, "bob", WD_ROLE_CTO, 400);
    struct wd_incident_row i2 = make_incident("INC-20251117-002", 500);
    assert_int_equal(wd_store_put_incident(s, &i2, "file:/in.jsonl", 7, NULL), WD_OK);
}

static struct wd_audit_report verify(struct fixture *fx)
{
    struct wd_audit_report rep;
    struct wd_error err = {0};
    struct wd_store *s = open_ok(fx);
    enum wd_status st = wd_store_audit_verify(s, &rep, &err);
    if (st != WD_OK)
        print_error("verify: %s\n", err.msg);
    assert_int_equal(st, WD_OK);
    wd_store_close(s);
    return rep;
}

static void written(struct fixture *fx)
{
    struct wd_store *s = open_ok(fx);
    write_history(s);
    wd_store_close(s);
}

static void assert_bad_entry(const struct wd_audit_report *rep, uint64_t seq, const char *why)
{
    if (rep->intact || rep->bad_seq != seq || strstr(rep->msg, why) == NULL)
        print_error("report: intact %d, bad_seq %llu, msg '%s'\n", rep->intact,
                    (unsigned long long)rep->bad_seq, rep->msg);
    assert_false(rep->intact);
    assert_int_equal(rep->bad_seq, seq);
    assert_string_equal(rep->table, "");
    assert_non_null(strstr(rep->msg, why));
}

static void assert_bad_row(const struct wd_audit_report *rep, const char *table, const char *key,
                           const char *why)
{
    if (rep->intact || strcmp(rep->table, table) != 0 || strcmp(rep->key, key) != 0 ||
        strstr(rep->msg, why) == NULL)
        print_error("report: intact %d, table '%s', key '%s', msg '%s'\n", rep->intact,
                    rep->table, rep->key, rep->msg);
    assert_false(rep->intact);
    assert_int_equal(rep->bad_seq, 0);
    assert_string_equal(rep->table, table);
    assert_string_equal(rep->key, key);
    assert_non_null(strstr(rep->msg, why));
}

/* ------------------------------------------------------------------------ */

static void test_audit_clean_store_verifies(void **state)
{
    struct fixture *fx = *state;
    written(fx);
    struct wd_audit_report rep = verify(fx);
    if (!rep.intact)
        print_error("%s\n", rep.msg);
    assert_true(rep.intact);
    assert_int_equal(rep.entries, 9);
    /* 1 scope, 2 history rows, 2 approvals, 2 incidents. */
    assert_int_equal(rep.rows, 7);
    assert_int_equal(rep.bad_seq, 0);
    assert_string_equal(rep.head_hash,
                        raw_text(fx->path, "SELECT hash FROM audit_chain WHERE seq = 9"));
    assert_string_equal(raw_text(fx->path, "SELECT group_concat(kind || ' ' || entity || ' ' ||"
                                           " who, ';') FROM (SELECT * FROM audit_chain ORDER BY"
                                           " seq)"),
                        "state_history.append 1 alice;scope_states.put firm alice;"
                        "approvals.add 1 alice;incidents.add INC-20251117-001 warden;"
                        "state_history.append 2 alice;scope_states.put firm alice;"
                        "limits.change limits.kill_pnl carol;approvals.add 2 bob;"
                        "incidents.put INC-20251117-002 warden");
    assert_string_equal(raw_text(fx->path, "SELECT payload FROM audit_chain WHERE seq = 7"),
                        "{\"key\":\"limits.kill_pnl\",\"old\":\"-0.05\",\"new\":\"-0.04\"}");
    /* An empty store verifies too, with no head. */
    struct wd_store *s = NULL;
    struct wd_audit_report empty;
    assert_int_equal(wd_store_open(":memory:", &s, NULL), WD_OK);
    assert_int_equal(wd_store_audit_verify(s, &empty, NULL), WD_OK);
    assert_true(empty.intact);
    assert_int_equal(empty.entries, 0);
    assert_string_equal(empty.head_hash, "");
    wd_store_close(s);
}

/* The documented format, recomputed here: SHA-256 over prev_hash followed
 * by {"seq":..,"ts_ns":..,"who":..,"kind":..,"entity":..,"payload":..}. */
static void test_audit_hash_follows_the_documented_format(void **state)
{
    struct fixture *fx = *state;
    struct wd_store *s = open_ok(fx);
    struct wd_scope_state st = make_state("firm", WD_TS_HALTED, 100, "alice");
    copy(st.reason, sizeof st.reason, "q\"b\\n\nc\x01\x7f \xC3\xA9");
    assert_int_equal(wd_store_put_state(s, &st, NULL), WD_OK);
    wd_store_close(s);

    const char *payload = "{\"scope\":\"firm\",\"state\":\"HALTED\",\"since_ns\":100,"
                          "\"reason\":\"q\\\"b\\\\n\\u000ac\\u0001\\u007f \xC3\xA9\","
                          "\"by_who\":\"alice\",\"scenario\":\"manual\",\"incident\":\"\","
                          "\"ramp_until_ns\":0,\"origin\":\"\",\"origin_event\":0}";
    assert_string_equal(raw_text(fx->path, "SELECT payload FROM audit_chain WHERE seq = 2"),
                        payload);
    char prev[65];
    copy(prev, sizeof prev, raw_text(fx->path, "SELECT hash FROM audit_chain WHERE seq = 1"));
    assert_string_equal(raw_text(fx->path, "SELECT prev_hash FROM audit_chain WHERE seq = 1"),
                        "0000000000000000000000000000000000000000000000000000000000000000");
    assert_string_equal(raw_text(fx->path, "SELECT prev_hash FROM audit_chain WHERE seq = 2"),
                        prev);
    char msg[1024];
    int n = snprintf(msg, sizeof msg,
                     "%s{\"seq\":2,\"ts_ns\":1002,\"who\":\"alice\",\"kind\":\"scope_states.put\","
                     "\"entity\":\"firm\",\"payload\":%s}",
                     prev, payload);
    unsigned char md[32];
    unsigned int mdlen = 0;
    assert_int_equal(EVP_Digest(msg, (size_t)n, md, &mdlen, EVP_sha256(), NULL), 1);
    char hex[65];
    for (int i = 0; i < 32; i++)
        (void)snprintf(hex + 2 * i, 3, "%02x", md[i]);
    assert_string_equal(raw_text(fx->path, "SELECT hash FROM audit_chain WHERE seq = 2"), hex);
    assert_string_equal(raw_text(fx->path, "SELECT ts_ns FROM audit_chain WHERE seq = 2"),
                        "1002");
}

static void test_audit_edited_payload_names_its_entry(void **state)
{
    struct fixture *fx = *state;
    written(fx);
    tamper(fx->path, "UPDATE audit_chain SET payload = replace(payload, 'open', 'resolved')"
                     " WHERE seq = 4");
    struct wd_audit_report rep = verify(fx);
    assert_bad_entry(&rep, 4, "entry 4: hash does not match its contents");
    assert_int_equal(rep.entries, 3);
}

static void test_audit_edited_hash_names_its_entry(void **state)
{
    struct fixture *fx = *state;
    written(fx);
    tamper(fx->path, "UPDATE audit_chain SET hash = replace(hash, substr(hash, 1, 1),"
                     " CASE substr(hash, 1, 1) WHEN '0' THEN '1' ELSE '0' END) WHERE seq = 6");
    struct wd_audit_report rep = verify(fx);
    assert_bad_entry(&rep, 6, "entry 6: hash does not match its contents");
}

static void test_audit_deleted_entry_is_named_missing(void **state)
{
    struct fixture *fx = *state;
    written(fx);
    tamper(fx->path, "DELETE FROM audit_chain WHERE seq = 5");
    struct wd_audit_report rep = verify(fx);
    assert_bad_entry(&rep, 5, "entry 5 is missing: the chain goes from 4 to 6");
}

static void test_audit_swapped_entries_break_the_links(void **state)
{
    struct fixture *fx = *state;
    written(fx);
    tamper(fx->path, "UPDATE audit_chain SET seq = -3 WHERE seq = 3;"
                     " UPDATE audit_chain SET seq = 3 WHERE seq = 5;"
                     " UPDATE audit_chain SET seq = 5 WHERE seq = -3;");
    struct wd_audit_report rep = verify(fx);
    assert_bad_entry(&rep, 3, "entry 3: prev_hash does not match the hash of the entry before");
}

/* The last entry gone with the row it records: the row is then extra. */
static void test_audit_deleted_last_entry_leaves_an_extra_row(void **state)
{
    struct fixture *fx = *state;
    written(fx);
    tamper(fx->path, "DELETE FROM audit_chain WHERE seq = 9");
    struct wd_audit_report rep = verify(fx);
    assert_bad_row(&rep, "incidents", "INC-20251117-002", "not in the audit chain");
    assert_int_equal(rep.entries, 8);
}

static void test_audit_edited_state_row_is_named(void **state)
{
    struct fixture *fx = *state;
    written(fx);
    tamper(fx->path, "UPDATE scope_states SET state = 'ACTIVE' WHERE scope = 'firm'");
    struct wd_audit_report rep = verify(fx);
    assert_bad_row(&rep, "scope_states", "firm", "differs from entry 6");
}

static void test_audit_edited_history_row_is_named(void **state)
{
    struct fixture *fx = *state;
    written(fx);
    tamper(fx->path, "UPDATE state_history SET by_who = 'mallory' WHERE id = 2");
    struct wd_audit_report rep = verify(fx);
    assert_bad_row(&rep, "state_history", "2", "differs from entry 5");
}

static void test_audit_deleted_approval_is_named(void **state)
{
    struct fixture *fx = *state;
    written(fx);
    tamper(fx->path, "DELETE FROM approvals WHERE id = 1");
    struct wd_audit_report rep = verify(fx);
    assert_bad_row(&rep, "approvals", "1", "missing: entry 3 records it");
}

static void test_audit_extra_incident_is_named(void **state)
{
    struct fixture *fx = *state;
    written(fx);
    tamper(fx->path, "INSERT INTO incidents (id, scenario, severity, scope, status, opened_ns)"
                     " VALUES ('INC-20251117-0015', 'manual', 'P3', 'firm', 'open', 1)");
    struct wd_audit_report rep = verify(fx);
    /* Between -001 and -002 in key order: named, and the rows after it are
     * not reached. */
    assert_bad_row(&rep, "incidents", "INC-20251117-0015", "not in the audit chain");
}

/* Rows are matched by key, not by position: a row deleted and inserted
 * again exactly as it was verifies. */
static void test_audit_rows_compared_by_key_not_position(void **state)
{
    struct fixture *fx = *state;
    written(fx);
    tamper(fx->path, "CREATE TEMP TABLE t AS SELECT * FROM incidents;"
                     " DELETE FROM incidents;"
                     " INSERT INTO incidents SELECT * FROM t ORDER BY id DESC;");
    struct wd_audit_report rep = verify(fx);
    assert_true(rep.intact);
}

static void test_audit_keyed_chain_needs_its_key(void **state)
{
    struct fixture *fx = *state;
    struct wd_store *s = open_ok(fx);
    assert_int_equal(wd_store_set_chain_key(s, "k1-secret", 9, NULL), WD_OK);
    write_history(s);
    struct wd_audit_report rep;
    assert_int_equal(wd_store_audit_verify(s, &rep, NULL), WD_OK);
    assert_true(rep.intact);
    assert_int_equal(rep.entries, 9);

    assert_int_equal(wd_store_set_chain_key(s, "k2-secret", 9, NULL), WD_OK);
    assert_int_equal(wd_store_audit_verify(s, &rep, NULL), WD_OK);
    assert_bad_entry(&rep, 1, "entry 1: hash does not match its contents");

    assert_int_equal(wd_store_set_chain_key(s, NULL, 0, NULL), WD_OK);
    assert_int_equal(wd_store_audit_verify(s, &rep, NULL), WD_OK);
    assert_bad_entry(&rep, 1, "entry 1: hash does not match its contents");
    wd_store_close(s);

    /* A key longer than 4096 bytes is refused. */
    char big[5000];
    memset(big, 'k', sizeof big);
    s = open_ok(fx);
    assert_int_equal(wd_store_set_chain_key(s, big, sizeof big, NULL), WD_ERANGE);
    wd_store_close(s);
}

static void test_audit_rewind_is_chained_and_verifies(void **state)
{
    struct fixture *fx = *state;
    struct wd_store *s = open_ok(fx);
    const char *in = "file:/in.jsonl";
    struct wd_scope_state st = make_state("firm", WD_TS_HALTED, 50, "warden");
    assert_int_equal(wd_store_put_state_from(s, &st, in, 50, NULL), WD_OK);      /* 1, 2 */
    st.since_ns = 120;
    assert_int_equal(wd_store_put_state_from(s, &st, in, 120, NULL), WD_OK);     /* 3, 4 */
    struct wd_scope_state a = make_state("account:a", WD_TS_HALTED, 130, "warden");
    assert_int_equal(wd_store_put_state_from(s, &a, in, 130, NULL), WD_OK);      /* 5, 6 */
    struct wd_incident_row i1 = make_incident("INC-20251117-001", 140);
    assert_int_equal(wd_store_put_incident(s, &i1, in, 140, NULL), WD_OK);       /* 7 */

    assert_int_equal(wd_store_rewind(s, in, 100, NULL), WD_OK); /* 8, 9, 10 */
    struct wd_audit_report rep;
    assert_int_equal(wd_store_audit_verify(s, &rep, NULL), WD_OK);
    if (!rep.intact)
        print_error("%s\n", rep.msg);
    assert_true(rep.intact);
    assert_int_equal(rep.entries, 10);
    wd_store_close(s);
    assert_string_equal(raw_text(fx->path, "SELECT group_concat(kind || ' ' || entity || ' ' ||"
                                           " who || ' ' || payload, ';') FROM (SELECT * FROM"
                                           " audit_chain WHERE seq > 7 ORDER BY seq)"),
                        "incidents.delete INC-20251117-001 warden null;"
                        "scope_states.delete account:a warden null;"
                        "scope_states.put firm warden {\"scope\":\"firm\",\"state\":\"HALTED\","
                        "\"since_ns\":50,\"reason\":\"drill\",\"by_who\":\"warden\","
                        "\"scenario\":\"manual\",\"incident\":\"\",\"ramp_until_ns\":0,"
                        "\"origin\":\"file:/in.jsonl\",\"origin_event\":50}");
    /* A row the rewind deleted, put back behind warden's back: extra. */
    tamper(fx->path, "INSERT INTO incidents (id, scenario, severity, scope, status, opened_ns)"
                     " VALUES ('INC-20251117-001', 'manual', 'P3', 'firm', 'open', 1)");
    rep = verify(fx);
    assert_bad_row(&rep, "incidents", "INC-20251117-001", "not in the audit chain");
}

/* The chain is append-only for SQL that keeps the triggers. */
static void test_audit_chain_refuses_update_and_delete(void **state)
{
    struct fixture *fx = *state;
    written(fx);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(fx->path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    assert_int_not_equal(sqlite3_exec(db, "UPDATE audit_chain SET who = 'x'", NULL, NULL, NULL),
                         SQLITE_OK);
    assert_non_null(strstr(sqlite3_errmsg(db), "audit_chain is append-only"));
    assert_int_not_equal(sqlite3_exec(db, "DELETE FROM audit_chain", NULL, NULL, NULL),
                         SQLITE_OK);
    sqlite3_close(db);
    assert_true(verify(fx).intact);
}

/* A store made before the chain (schema 2) gets its rows chained as
 * baseline entries when it is upgraded, and verifies. */
static void test_audit_upgrade_chains_existing_rows(void **state)
{
    struct fixture *fx = *state;
    written(fx);
    /* A schema-2 store has neither the chain nor the schema-4 and -5 tables. */
    raw_exec(fx->path, "DROP TABLE audit_chain; DROP TABLE incident_records;"
                       " DROP TABLE incident_roles; DROP TABLE incident_checklist;"
                       " DROP TABLE incident_actions; DROP TABLE incident_timeline;"
                       " DROP INDEX incidents_scenario_scope; DROP TABLE notify_outbox;"
                       " DROP TABLE silences; DROP TABLE escalations; DROP TABLE chain_tests;"
                       " PRAGMA user_version = 2;");
    struct wd_audit_report rep = verify(fx);
    if (!rep.intact)
        print_error("%s\n", rep.msg);
    assert_true(rep.intact);
    assert_int_equal(rep.entries, 7);
    assert_string_equal(raw_text(fx->path, "SELECT group_concat(kind || ' ' || entity, ';') FROM"
                                           " (SELECT * FROM audit_chain ORDER BY seq)"),
                        "scope_states.baseline firm;state_history.baseline 1;"
                        "state_history.baseline 2;approvals.baseline 1;approvals.baseline 2;"
                        "incidents.baseline INC-20251117-001;incidents.baseline INC-20251117-002");
}

/* A refused write inside a caller's transaction leaves it usable, and a
 * write that fails leaves no chain entry behind. */
static void test_audit_refused_write_leaves_no_entry(void **state)
{
    struct fixture *fx = *state;
    struct wd_store *s = open_ok(fx);
    struct wd_incident_row i1 = make_incident("INC-20251117-001", 1);
    assert_int_equal(wd_store_begin(s, NULL), WD_OK);
    assert_int_equal(wd_store_add_incident(s, &i1, NULL), WD_OK);
    assert_int_equal(wd_store_add_incident(s, &i1, NULL), WD_ESTATE);
    approve(s, "alice", WD_ROLE_RISK_OFFICER, 2);
    assert_int_equal(wd_store_commit(s, NULL), WD_OK);
    struct wd_audit_report rep;
    assert_int_equal(wd_store_audit_verify(s, &rep, NULL), WD_OK);
    assert_true(rep.intact);
    assert_int_equal(rep.entries, 2);
    assert_int_equal(wd_store_record_limit_change(s, "x", "", "a", "b", NULL), WD_EINVAL);
    wd_store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_audit_clean_store_verifies, setup, teardown),
        cmocka_unit_test_setup_teardown(test_audit_hash_follows_the_documented_format, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_audit_edited_payload_names_its_entry, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_audit_edited_hash_names_its_entry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_audit_deleted_entry_is_named_missing, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_audit_swapped_entries_break_the_links, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_audit_deleted_last_entry_leaves_an_extra_row, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_audit_edited_state_row_is_named, setup, teardown),
        cmocka_unit_test_setup_teardown(test_audit_edited_history_row_is_named, setup, teardown),
        cmocka_unit_test_setup_teardown(test_audit_deleted_approval_is_named, setup, teardown),
        cmocka_unit_test_setup_teardown(test_audit_extra_incident_is_named, setup, teardown),
        cmocka_unit_test_setup_teardown(test_audit_rows_compared_by_key_not_position, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_audit_keyed_chain_needs_its_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_audit_rewind_is_chained_and_verifies, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_audit_chain_refuses_update_and_delete, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_audit_upgrade_chains_existing_rows, setup, teardown),
        cmocka_unit_test_setup_teardown(test_audit_refused_write_leaves_no_entry, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
