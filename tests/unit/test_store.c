/*
 * Unit tests for the SQLite store adapter (src/store/store.c).
 *
 * They run real SQLite on files under a fresh mkdtemp directory, removed
 * afterwards, and pin what the rest of warden relies on: a halted scope is
 * still halted after the store is closed and reopened; every field comes
 * back exactly as written; state history, approvals, incidents and
 * snapshots behave as store.h says; nested transactions commit only at the
 * outermost level; a second process writing the same file waits for the
 * first instead of failing; long texts are truncated, never overflow. Raw
 * SQLite is used only to look behind the adapter (schema, row counts) or to
 * plant rows the adapter would never write.
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "store/store.h"
#include "warden/state.h"

/* ------------------------------------------------------------------------ */
/* Helpers                                                                   */

struct fixture {
    char dir[64];
    char path[128]; /* dir/var/warden.db: the parent does not exist yet */
};

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof *fx);
    if (fx == NULL)
        return -1;
    (void)snprintf(fx->dir, sizeof fx->dir, "/tmp/wd-store-XXXXXX");
    if (mkdtemp(fx->dir) == NULL) {
        free(fx);
        return -1;
    }
    (void)snprintf(fx->path, sizeof fx->path, "%s/var/warden.db", fx->dir);
    *state = fx;
    return 0;
}

/* Removes path and everything under it. */
static void remove_tree(const char *path)
{
    struct stat sb;
    if (lstat(path, &sb) != 0)
        return;
    if (S_ISDIR(sb.st_mode)) {
        DIR *d = opendir(path);
        if (d != NULL) {
            struct dirent *e;
            while ((e = readdir(d)) != NULL) {
                if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                    continue;
                char sub[512];
                (void)snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
                remove_tree(sub);
            }
            closedir(d);
        }
        (void)rmdir(path);
    } else {
        (void)unlink(path);
    }
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    remove_tree(fx->dir);
    free(fx);
    return 0;
}

static struct wd_store *open_ok(const char *path)
{
    struct wd_store *s = NULL;
    struct wd_error err = {0};
    enum wd_status st = wd_store_open(path, &s, &err);
    if (st != WD_OK)
        print_error("wd_store_open(%s): %s\n", path, err.msg);
    assert_int_equal(st, WD_OK);
    assert_non_null(s);
    return s;
}

static void copy(char *dst, size_t cap, const char *src)
{
    (void)snprintf(dst, cap, "%s", src);
}

static struct wd_scope_state make_state(const char *scope, enum wd_tstate ts, int64_t since)
{
    struct wd_scope_state st;
    memset(&st, 0, sizeof st);
    copy(st.scope, sizeof st.scope, scope);
    st.state = ts;
    st.since_ns = since;
    return st;
}

static void put_state_ok(struct wd_store *s, const struct wd_scope_state *st)
{
    struct wd_error err = {0};
    enum wd_status r = wd_store_put_state(s, st, &err);
    if (r != WD_OK)
        print_error("put_state: %s\n", err.msg);
    assert_int_equal(r, WD_OK);
}

static bool has_state(struct wd_store *s, const char *scope, struct wd_scope_state *out)
{
    struct wd_scope_state tmp;
    bool found = false;
    assert_int_equal(wd_store_get_state(s, scope, out != NULL ? out : &tmp, &found, NULL),
                     WD_OK);
    return found;
}

/* One integer from a query, through a separate raw connection. */
static int64_t raw_int(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *q = NULL;
    int64_t v = -1;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &q, NULL), SQLITE_OK);
    if (sqlite3_step(q) == SQLITE_ROW)
        v = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    sqlite3_close(db);
    return v;
}

static void raw_exec(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_busy_timeout(db, 5000), SQLITE_OK);
    int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        print_error("raw_exec: %s\n", sqlite3_errmsg(db));
    assert_int_equal(rc, SQLITE_OK);
    sqlite3_close(db);
}

/* ------------------------------------------------------------------------ */
/* Open, schema, durability                                                  */

static void test_store_open_creates_dir_and_schema(void **state)
{
    struct fixture *fx = *state;
    struct stat sb;
    char var[160];
    (void)snprintf(var, sizeof var, "%s/var", fx->dir);
    assert_int_not_equal(stat(var, &sb), 0);

    struct wd_store *s = open_ok(fx->path);
    assert_int_equal(stat(var, &sb), 0);
    assert_true(S_ISDIR(sb.st_mode));
    assert_int_equal(stat(fx->path, &sb), 0);

    assert_true(raw_int(fx->path, "PRAGMA user_version") >= 1);
    assert_int_equal(raw_int(fx->path, "SELECT count(*) FROM sqlite_schema WHERE type = 'table'"
                                       " AND name IN ('scope_states', 'state_history',"
                                       " 'approvals', 'incidents', 'snapshots')"),
                     5);
    /* WAL is a property of the file: a fresh connection sees it. */
    sqlite3 *db = NULL;
    sqlite3_stmt *q = NULL;
    assert_int_equal(sqlite3_open_v2(fx->path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &q, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(q, 0), "wal");
    sqlite3_finalize(q);
    sqlite3_close(db);
    wd_store_close(s);
}

static void test_store_reopen_keeps_schema_version(void **state)
{
    struct fixture *fx = *state;
    wd_store_close(open_ok(fx->path));
    int64_t v = raw_int(fx->path, "PRAGMA user_version");
    wd_store_close(open_ok(fx->path));
    assert_int_equal(raw_int(fx->path, "PRAGMA user_version"), v);
}

static void test_store_newer_schema_is_refused(void **state)
{
    struct fixture *fx = *state;
    wd_store_close(open_ok(fx->path));
    raw_exec(fx->path, "PRAGMA user_version = 999");
    struct wd_store *s = NULL;
    struct wd_error err = {0};
    assert_int_equal(wd_store_open(fx->path, &s, &err), WD_ESTATE);
    assert_null(s);
    assert_non_null(strstr(err.msg, "999"));
    assert_non_null(strstr(err.msg, fx->path));
}

static void test_store_halt_survives_reopen(void **state)
{
    struct fixture *fx = *state;
    struct wd_store *s = open_ok(fx->path);
    struct wd_scope_state st = make_state("firm", WD_TS_HALTED, 1763280000000000000);
    copy(st.reason, sizeof st.reason, "Kill-switch activated: PnL breach");
    copy(st.by, sizeof st.by, "warden");
    copy(st.scenario, sizeof st.scenario, "kill_pnl");
    copy(st.incident, sizeof st.incident, "INC-20251116-001");
    put_state_ok(s, &st);
    wd_store_close(s);

    s = open_ok(fx->path);
    struct wd_scope_state got;
    assert_true(has_state(s, "firm", &got));
    assert_int_equal(got.state, WD_TS_HALTED);
    assert_string_equal(got.scenario, "kill_pnl");
    assert_string_equal(got.incident, "INC-20251116-001");
    wd_store_close(s);
}

static void test_store_memory_database_works(void **state)
{
    (void)state;
    struct wd_store *s = open_ok(":memory:");
    struct wd_scope_state st = make_state("account:acme", WD_TS_REDUCE_ONLY, 5);
    put_state_ok(s, &st);
    assert_true(has_state(s, "account:acme", NULL));
    wd_store_close(s);
    wd_store_close(NULL);
}

static void test_store_uncreatable_path_fails_with_eio(void **state)
{
    (void)state;
    const char *path = "/nonexistent-wd-store-test/var/warden.db";
    struct wd_store *s = (struct wd_store *)&s; /* must be reset to NULL */
    struct wd_error err = {0};
    assert_int_equal(wd_store_open(path, &s, &err), WD_EIO);
    assert_null(s);
    assert_int_equal(err.status, WD_EIO);
    assert_non_null(strstr(err.msg, path));
}

static void test_store_unopenable_file_fails_with_eio(void **state)
{
    struct fixture *fx = *state;
    /* The path exists but is a directory: SQLite cannot open it. */
    char path[160];
    (void)snprintf(path, sizeof path, "%s/adir", fx->dir);
    assert_int_equal(mkdir(path, 0700), 0);
    struct wd_store *s = NULL;
    struct wd_error err = {0};
    assert_int_equal(wd_store_open(path, &s, &err), WD_EIO);
    assert_null(s);
    assert_non_null(strstr(err.msg, path));
}

/* ------------------------------------------------------------------------ */
/* Trading states                                                            */

static void assert_state_equal(const struct wd_scope_state *a, const struct wd_scope_state *b)
{
    assert_string_equal(a->scope, b->scope);
    assert_int_equal(a->state, b->state);
    assert_int_equal(a->since_ns, b->since_ns);
    assert_string_equal(a->reason, b->reason);
    assert_string_equal(a->by, b->by);
    assert_string_equal(a->scenario, b->scenario);
    assert_string_equal(a->incident, b->incident);
    assert_int_equal(a->ramp_until_ns, b->ramp_until_ns);
}

static void test_store_state_round_trip_every_field(void **state)
{
    struct fixture *fx = *state;
    struct wd_store *s = open_ok(fx->path);
    struct wd_scope_state a = make_state("strategy:momo", WD_TS_RAMP_UP, INT64_MIN);
    copy(a.reason, sizeof a.reason, "resumed after review \xC3\xA9t\xC3\xA9 'quoted' \"x\"");
    copy(a.by, sizeof a.by, "alice");
    copy(a.scenario, sizeof a.scenario, "kill_drawdown");
    copy(a.incident, sizeof a.incident, "INC-20251117-003");
    a.ramp_until_ns = INT64_MAX;
    struct wd_scope_state b = make_state("account:acme", WD_TS_REDUCE_ONLY, 42);
    struct wd_scope_state c = make_state("firm", WD_TS_ACTIVE, -7);
    copy(c.by, sizeof c.by, "warden");
    put_state_ok(s, &a);
    put_state_ok(s, &b);
    put_state_ok(s, &c);

    struct wd_scope_state got;
    memset(&got, 0xAB, sizeof got);
    assert_true(has_state(s, "strategy:momo", &got));
    assert_state_equal(&got, &a);

    /* Missing: found false and the output untouched. */
    struct wd_scope_state untouched;
    memset(&untouched, 0x5A, sizeof untouched);
    memcpy(&got, &untouched, sizeof got);
    bool found = true;
    assert_int_equal(wd_store_get_state(s, "strategy:none", &got, &found, NULL), WD_OK);
    assert_false(found);
    assert_memory_equal(&got, &untouched, sizeof got);

    /* An update replaces the current state. */
    b.state = WD_TS_HALTED;
    b.since_ns = 43;
    copy(b.scenario, sizeof b.scenario, "manual");
    put_state_ok(s, &b);
    wd_store_close(s);

    s = open_ok(fx->path);
    struct wd_scope_state *all = NULL;
    size_t n = 0;
    assert_int_equal(wd_store_load_states(s, &all, &n, NULL), WD_OK);
    assert_int_equal(n, 3);
    /* Sorted by scope. */
    assert_state_equal(&all[0], &b);
    assert_state_equal(&all[1], &c);
    assert_state_equal(&all[2], &a);
    free(all);
    wd_store_close(s);
}

static void test_store_load_states_empty(void **state)
{
    struct fixture *fx = *state;
    struct wd_store *s = open_ok(fx->path);
    struct wd_scope_state *all = (struct wd_scope_state *)&all;
    size_t n = 99;
    assert_int_equal(wd_store_load_states(s, &all, &n, NULL), WD_OK);
    assert_int_equal(n, 0);
    free(all);
    wd_store_close(s);
}

static void test_store_history_grows_on_every_put(void **state)
{
    struct fixture *fx = *state;
    struct wd_store *s = open_ok(fx->path);
    struct wd_scope_state st = make_state("firm", WD_TS_ACTIVE, 1);
    put_state_ok(s, &st);
    st.state = WD_TS_HALTED;
    st.since_ns = 2;
    put_state_ok(s, &st);
    put_state_ok(s, &st); /* the same state again is still a record */
    st.state = WD_TS_RAMP_UP;
    st.since_ns = 3;
    put_state_ok(s, &st);
    wd_store_close(s);

    assert_int_equal(raw_int(fx->path, "SELECT count(*) FROM state_history"), 4);
    assert_int_equal(raw_int(fx->path, "SELECT count(*) FROM scope_states"), 1);
    assert_int_equal(raw_int(fx->path, "SELECT group_concat(since_ns, '') FROM"
                                       " (SELECT since_ns FROM state_history ORDER BY id)"),
                     1223);
    /* Append-only: the history refuses edits. */
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(fx->path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    assert_int_not_equal(sqlite3_exec(db, "DELETE FROM state_history", NULL, NULL, NULL),
                         SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(raw_int(fx->path, "SELECT count(*) FROM state_history"), 4);
}

static void test_store_put_state_rejects_bad_input(void **state)
{
    struct fixture *fx = *state;
    struct wd_store *s = open_ok(fx->path);
    struct wd_error err = {0};
    struct wd_scope_state st = make_state("", WD_TS_HALTED, 1);
    assert_int_equal(wd_store_put_state(s, &st, &err), WD_EINVAL);
    st = make_state("firm", (enum wd_tstate)17, 1);
    assert_int_equal(wd_store_put_state(s, &st, &err), WD_EINVAL);
    assert_false(has_state(s, "firm", NULL));
    wd_store_close(s);
}

/* ------------------------------------------------------------------------ */
/* Approvals                                                                 */

static struct wd_approval make_approval(const char *scope, const char *who, enum wd_role role,
                                        int64_t ts)
{
    struct wd_approval a;
    memset(&a, 0, sizeof a);
    copy(a.scope, sizeof a.scope, scope);
    copy(a.who, sizeof a.who, who);
    a.role = role;
    copy(a.reason, sizeof a.reason, "recovery criteria met");
    copy(a.incident, sizeof a.incident, "INC-20251117-001");
    a.ts_ns = ts;
    return a;
}

static void test_store_approvals_since_ordered_and_filtered(void **state)
{
    struct fixture *fx = *state;
    struct wd_store *s = open_ok(fx->path);
    struct wd_approval ap[] = {
        make_approval("firm", "carol", WD_ROLE_CTO, 300),
        make_approval("firm", "bob", WD_ROLE_RISK_OFFICER, 100),
        make_approval("account:acme", "bob", WD_ROLE_RISK_OFFICER, 200),
        make_approval("firm", "dave", WD_ROLE_RISK_OFFICER, 200),
        make_approval("firm", "erin", WD_ROLE_CTO, 200),
    };
    int64_t last = 0;
    for (size_t i = 0; i < sizeof ap / sizeof ap[0]; i++) {
        ap[i].id = -1;
        assert_int_equal(wd_store_add_approval(s, &ap[i], NULL), WD_OK);
        assert_true(ap[i].id > last);
        last = ap[i].id;
    }

    struct wd_approval *out = NULL;
    size_t n = 0;
    assert_int_equal(wd_store_list_approvals(s, "firm", 200, &out, &n, NULL), WD_OK);
    /* Oldest first; equal times in insertion order; bob's (100) and the
     * account's are excluded. */
    assert_int_equal(n, 3);
    assert_string_equal(out[0].who, "dave");
    assert_int_equal(out[0].id, ap[3].id);
    assert_int_equal(out[0].role, WD_ROLE_RISK_OFFICER);
    assert_string_equal(out[1].who, "erin");
    assert_int_equal(out[1].role, WD_ROLE_CTO);
    assert_string_equal(out[2].who, "carol");
    assert_string_equal(out[2].scope, "firm");
    assert_string_equal(out[2].reason, "recovery criteria met");
    assert_string_equal(out[2].incident, "INC-20251117-001");
    assert_int_equal(out[2].ts_ns, 300);
    free(out);

    assert_int_equal(wd_store_list_approvals(s, "firm", 301, &out, &n, NULL), WD_OK);
    assert_int_equal(n, 0);
    free(out);
    assert_int_equal(wd_store_list_approvals(s, "account:acme", INT64_MIN, &out, &n, NULL),
                     WD_OK);
    assert_int_equal(n, 1);
    assert_int_equal(out[0].id, ap[2].id);
    free(out);

    struct wd_approval bad = make_approval("firm", "mallory", (enum wd_role)4, 1);
    assert_int_equal(wd_store_add_approval(s, &bad, NULL), WD_EINVAL);
    wd_store_close(s);
}

/* ------------------------------------------------------------------------ */
/* Incidents                                                                 */

static struct wd_incident_row make_incident(const char *id, int64_t opened)
{
    struct wd_incident_row r;
    memset(&r, 0, sizeof r);
    copy(r.id, sizeof r.id, id);
    copy(r.scenario, sizeof r.scenario, "kill_pnl");
    copy(r.severity, sizeof r.severity, "P0");
    copy(r.scope, sizeof r.scope, "firm");
    copy(r.status, sizeof r.status, "open");
    copy(r.title, sizeof r.title, "Kill-switch activated: PnL breach");
    copy(r.detail, sizeof r.detail, "PnL=-5.20% < KILL_PNL=-5%");
    r.opened_ns = opened;
    return r;
}

static void test_store_incidents_add_dup_seq_list(void **state)
{
    struct fixture *fx = *state;
    struct wd_store *s = open_ok(fx->path);
    const char *ids[] = {"INC-20251117-001", "INC-20251117-003", "INC-20251116-007",
                         "INC-20251117-002", "INC-20251118-001"};
    const int64_t opened[] = {10, 30, 5, 20, 40};
    for (size_t i = 0; i < 5; i++) {
        struct wd_incident_row r = make_incident(ids[i], opened[i]);
        assert_int_equal(wd_store_add_incident(s, &r, NULL), WD_OK);
    }

    struct wd_error err = {0};
    struct wd_incident_row dup = make_incident("INC-20251117-003", 99);
    assert_int_equal(wd_store_add_incident(s, &dup, &err), WD_ESTATE);
    assert_int_equal(err.status, WD_ESTATE);
    assert_non_null(strstr(err.msg, "add incident"));

    uint32_t seq = 99;
    assert_int_equal(wd_store_incident_seq(s, "20251117", &seq, NULL), WD_OK);
    assert_int_equal(seq, 3);
    assert_int_equal(wd_store_incident_seq(s, "20251116", &seq, NULL), WD_OK);
    assert_int_equal(seq, 7);
    assert_int_equal(wd_store_incident_seq(s, "20251119", &seq, NULL), WD_OK);
    assert_int_equal(seq, 0);
    assert_int_equal(wd_store_incident_seq(s, "2025111", &seq, NULL), WD_EINVAL);
    assert_int_equal(wd_store_incident_seq(s, "2025-11-1", &seq, NULL), WD_EINVAL);

    struct wd_incident_row *out = NULL;
    size_t n = 0;
    assert_int_equal(wd_store_list_incidents(s, 3, &out, &n, NULL), WD_OK);
    assert_int_equal(n, 3);
    assert_string_equal(out[0].id, "INC-20251118-001");
    assert_string_equal(out[1].id, "INC-20251117-003");
    assert_string_equal(out[2].id, "INC-20251117-002");
    /* The duplicate did not overwrite the original. */
    assert_int_equal(out[1].opened_ns, 30);
    assert_string_equal(out[1].scenario, "kill_pnl");
    assert_string_equal(out[1].severity, "P0");
    assert_string_equal(out[1].scope, "firm");
    assert_string_equal(out[1].status, "open");
    assert_string_equal(out[1].title, "Kill-switch activated: PnL breach");
    assert_string_equal(out[1].detail, "PnL=-5.20% < KILL_PNL=-5%");
    free(out);

    assert_int_equal(wd_store_list_incidents(s, 100, &out, &n, NULL), WD_OK);
    assert_int_equal(n, 5);
    assert_string_equal(out[4].id, "INC-20251116-007");
    free(out);
    wd_store_close(s);
}

/* An incident announced again updates its record; where it opened stays. */
static void test_store_put_incident_upserts(void **state)
{
    struct fixture *fx = *state;
    struct wd_store *s = open_ok(fx->path);
    struct wd_incident_row r = make_incident("INC-20251117-001", 10);
    assert_int_equal(wd_store_put_incident(s, &r, "file:/in", 5, NULL), WD_OK);
    copy(r.status, sizeof r.status, "monitoring");
    copy(r.severity, sizeof r.severity, "P1");
    copy(r.detail, sizeof r.detail, "recovered");
    r.opened_ns = 99;
    assert_int_equal(wd_store_put_incident(s, &r, "file:/in", 9, NULL), WD_OK);
    struct wd_incident_row *out = NULL;
    size_t n = 0;
    assert_int_equal(wd_store_list_incidents(s, 10, &out, &n, NULL), WD_OK);
    assert_int_equal(n, 1);
    assert_string_equal(out[0].status, "monitoring");
    assert_string_equal(out[0].severity, "P1");
    assert_string_equal(out[0].detail, "recovered");
    assert_int_equal(out[0].opened_ns, 10);
    free(out);
    /* Another incident with the same id (another input, or scenario) is
     * refused and changes nothing. */
    struct wd_incident_row other = make_incident("INC-20251117-001", 20);
    copy(other.status, sizeof other.status, "open");
    struct wd_error err = {0};
    assert_int_equal(wd_store_put_incident(s, &other, "file:/other", 7, &err), WD_ESTATE);
    assert_non_null(strstr(err.msg, "INC-20251117-001 is another incident's id"));
    copy(other.scenario, sizeof other.scenario, "data_quality");
    assert_int_equal(wd_store_put_incident(s, &other, "file:/in", 7, &err), WD_ESTATE);
    assert_int_equal(wd_store_list_incidents(s, 10, &out, &n, NULL), WD_OK);
    assert_int_equal(n, 1);
    assert_string_equal(out[0].status, "monitoring");
    free(out);
    wd_store_close(s);
    assert_int_equal(raw_int(fx->path, "SELECT origin_event FROM incidents"), 5);
}

/* A resume from the snapshot at event 100 of an input takes back what a
 * killed run wrote past it, and nothing else. */
static void test_store_rewind_takes_back_past_the_point(void **state)
{
    struct fixture *fx = *state;
    struct wd_store *s = open_ok(fx->path);
    struct wd_error err = {0};
    const char *in = "file:/data/in.jsonl";
    /* firm: halted at event 50, then (past the point) reason changed at 120. */
    struct wd_scope_state st = make_state("firm", WD_TS_HALTED, 50);
    copy(st.reason, sizeof st.reason, "Kill-switch activated: PnL breach");
    assert_int_equal(wd_store_put_state_from(s, &st, in, 50, NULL), WD_OK);
    copy(st.reason, sizeof st.reason, "Kill-switch activated: Max Drawdown breach");
    st.since_ns = 120;
    assert_int_equal(wd_store_put_state_from(s, &st, in, 120, NULL), WD_OK);
    /* account:a: first set past the point: goes away. */
    struct wd_scope_state a = make_state("account:a", WD_TS_HALTED, 130);
    assert_int_equal(wd_store_put_state_from(s, &a, in, 130, NULL), WD_OK);
    /* account:b: halted by a person after the point: stays. */
    struct wd_scope_state b = make_state("account:b", WD_TS_HALTED, 140);
    put_state_ok(s, &b);
    /* account:c: this input past the point, over a person's earlier halt. */
    struct wd_scope_state c = make_state("account:c", WD_TS_REDUCE_ONLY, 20);
    put_state_ok(s, &c);
    c.state = WD_TS_HALTED;
    c.since_ns = 150;
    assert_int_equal(wd_store_put_state_from(s, &c, in, 150, NULL), WD_OK);
    /* account:d: another input past event 100: not this input's. */
    struct wd_scope_state d = make_state("account:d", WD_TS_HALTED, 160);
    assert_int_equal(wd_store_put_state_from(s, &d, "file:/other", 160, NULL), WD_OK);
    /* Incidents: opened at 50 and updated at 120 (kept), opened at 130 (goes). */
    struct wd_incident_row i1 = make_incident("INC-20251117-001", 50);
    assert_int_equal(wd_store_put_incident(s, &i1, in, 50, NULL), WD_OK);
    copy(i1.status, sizeof i1.status, "monitoring");
    assert_int_equal(wd_store_put_incident(s, &i1, in, 120, NULL), WD_OK);
    struct wd_incident_row i2 = make_incident("INC-20251117-002", 130);
    assert_int_equal(wd_store_put_incident(s, &i2, in, 130, NULL), WD_OK);

    assert_int_equal(wd_store_rewind(s, in, 100, &err), WD_OK);

    struct wd_scope_state got;
    assert_true(has_state(s, "firm", &got));
    assert_int_equal(got.state, WD_TS_HALTED);
    assert_int_equal(got.since_ns, 50);
    assert_string_equal(got.reason, "Kill-switch activated: PnL breach");
    assert_false(has_state(s, "account:a", NULL));
    assert_true(has_state(s, "account:b", &got));
    assert_int_equal(got.since_ns, 140);
    assert_true(has_state(s, "account:c", &got));
    assert_int_equal(got.state, WD_TS_REDUCE_ONLY);
    assert_int_equal(got.since_ns, 20);
    assert_true(has_state(s, "account:d", &got));
    uint32_t seq = 0;
    assert_int_equal(wd_store_incident_seq(s, "20251117", &seq, NULL), WD_OK);
    assert_int_equal(seq, 1);
    /* The history keeps every entry. */
    wd_store_close(s);
    assert_int_equal(raw_int(fx->path, "SELECT count(*) FROM state_history"), 7);
    /* An empty origin (a person) is no input: refused. */
    s = open_ok(fx->path);
    assert_int_equal(wd_store_rewind(s, "", 100, &err), WD_EINVAL);
    wd_store_close(s);
}

/* A store made by the first schema gains the origin columns on open, its
 * rows kept as a person's. */
static void test_store_upgrades_schema_1(void **state)
{
    struct fixture *fx = *state;
    sqlite3 *db = NULL;
    char var[160];
    (void)snprintf(var, sizeof var, "%s/var", fx->dir);
    assert_int_equal(mkdir(var, 0700), 0);
    assert_int_equal(sqlite3_open(fx->path, &db), SQLITE_OK);
    assert_int_equal(
        sqlite3_exec(db,
                     "CREATE TABLE scope_states (scope TEXT PRIMARY KEY NOT NULL, state TEXT NOT"
                     " NULL, since_ns INTEGER NOT NULL, reason TEXT NOT NULL DEFAULT '', by_who"
                     " TEXT NOT NULL DEFAULT '', scenario TEXT NOT NULL DEFAULT '', incident TEXT"
                     " NOT NULL DEFAULT '', ramp_until_ns INTEGER NOT NULL DEFAULT 0) STRICT;"
                     "CREATE TABLE state_history (id INTEGER PRIMARY KEY AUTOINCREMENT, scope TEXT"
                     " NOT NULL, state TEXT NOT NULL, since_ns INTEGER NOT NULL, reason TEXT NOT"
                     " NULL DEFAULT '', by_who TEXT NOT NULL DEFAULT '', scenario TEXT NOT NULL"
                     " DEFAULT '', incident TEXT NOT NULL DEFAULT '', ramp_until_ns INTEGER NOT"
                     " NULL DEFAULT 0) STRICT;"
                     "CREATE TABLE approvals (id INTEGER PRIMARY KEY AUTOINCREMENT, scope TEXT NOT"
                     " NULL, who TEXT NOT NULL, role TEXT NOT NULL, reason TEXT NOT NULL DEFAULT"
                     " '', incident TEXT NOT NULL DEFAULT '', ts_ns INTEGER NOT NULL) STRICT;"
                     "CREATE TABLE incidents (id TEXT PRIMARY KEY NOT NULL, scenario TEXT NOT NULL,"
                     " severity TEXT NOT NULL, scope TEXT NOT NULL DEFAULT '', status TEXT NOT"
                     " NULL, title TEXT NOT NULL DEFAULT '', detail TEXT NOT NULL DEFAULT '',"
                     " opened_ns INTEGER NOT NULL) STRICT;"
                     "CREATE TABLE snapshots (input_key TEXT PRIMARY KEY NOT NULL, lines INTEGER"
                     " NOT NULL, offset INTEGER NOT NULL, events INTEGER NOT NULL, digest TEXT NOT"
                     " NULL, saved_ns INTEGER NOT NULL, blob BLOB NOT NULL) STRICT;"
                     "INSERT INTO scope_states (scope, state, since_ns) VALUES ('firm', 'HALTED',"
                     " 7);"
                     "PRAGMA user_version = 1;",
                     NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(db);
    struct wd_store *s = open_ok(fx->path);
    struct wd_scope_state got;
    assert_true(has_state(s, "firm", &got));
    assert_int_equal(got.state, WD_TS_HALTED);
    wd_store_close(s);
    assert_int_equal(raw_int(fx->path, "PRAGMA user_version"), 5);
    assert_int_equal(raw_int(fx->path, "SELECT origin_event FROM scope_states"), 0);
}

/* ------------------------------------------------------------------------ */
/* Snapshots                                                                 */

static void test_store_snapshot_put_replace_get_delete(void **state)
{
    struct fixture *fx = *state;
    struct wd_store *s = open_ok(fx->path);
    const char key[] = "file:/data/events.jsonl";
    unsigned char blob1[] = {0x00, 0x01, 0x00, 0xFF, 'a', 0x00, 0x00};
    unsigned char blob2[300];
    for (size_t i = 0; i < sizeof blob2; i++)
        blob2[i] = (unsigned char)(i % 3 == 0 ? 0 : i);

    struct wd_snapshot snap;
    memset(&snap, 0, sizeof snap);
    snap.lines = 10;
    snap.offset = 1234;
    snap.events = 9;
    copy(snap.digest, sizeof snap.digest,
         "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    snap.saved_ns = 1763280000000000000;
    snap.blob = blob1;
    snap.blob_len = sizeof blob1;
    assert_int_equal(wd_store_put_snapshot(s, key, &snap, NULL), WD_OK);

    struct wd_snapshot got;
    bool found = false;
    assert_int_equal(wd_store_get_snapshot(s, key, &got, &found, NULL), WD_OK);
    assert_true(found);
    assert_int_equal(got.lines, 10);
    assert_int_equal(got.offset, 1234);
    assert_int_equal(got.events, 9);
    assert_string_equal(got.digest, snap.digest);
    assert_int_equal(got.saved_ns, snap.saved_ns);
    assert_int_equal(got.blob_len, sizeof blob1);
    assert_memory_equal(got.blob, blob1, sizeof blob1);
    free(got.blob);

    /* Replace: one row per key, the new values. */
    snap.lines = (uint64_t)INT64_MAX;
    snap.offset = 99999;
    snap.events = 77;
    snap.blob = blob2;
    snap.blob_len = sizeof blob2;
    assert_int_equal(wd_store_put_snapshot(s, key, &snap, NULL), WD_OK);
    wd_store_close(s);
    assert_int_equal(raw_int(fx->path, "SELECT count(*) FROM snapshots"), 1);

    s = open_ok(fx->path);
    assert_int_equal(wd_store_get_snapshot(s, key, &got, &found, NULL), WD_OK);
    assert_true(found);
    assert_int_equal(got.lines, (uint64_t)INT64_MAX);
    assert_int_equal(got.offset, 99999);
    assert_int_equal(got.events, 77);
    assert_int_equal(got.blob_len, sizeof blob2);
    assert_memory_equal(got.blob, blob2, sizeof blob2);
    free(got.blob);

    /* Empty blob. */
    snap.blob = NULL;
    snap.blob_len = 0;
    assert_int_equal(wd_store_put_snapshot(s, "stdin", &snap, NULL), WD_OK);
    assert_int_equal(wd_store_get_snapshot(s, "stdin", &got, &found, NULL), WD_OK);
    assert_true(found);
    assert_int_equal(got.blob_len, 0);
    assert_non_null(got.blob);
    free(got.blob);

    /* Counts SQLite cannot hold are refused. */
    snap.events = (uint64_t)INT64_MAX + 1u;
    assert_int_equal(wd_store_put_snapshot(s, key, &snap, NULL), WD_ERANGE);

    assert_int_equal(wd_store_delete_snapshot(s, key, NULL), WD_OK);
    memset(&got, 0, sizeof got);
    found = true;
    assert_int_equal(wd_store_get_snapshot(s, key, &got, &found, NULL), WD_OK);
    assert_false(found);
    assert_null(got.blob);
    /* Deleting what is not there is fine. */
    assert_int_equal(wd_store_delete_snapshot(s, key, NULL), WD_OK);
    wd_store_close(s);
}

/* ------------------------------------------------------------------------ */
/* Transactions and concurrency                                              */

static void test_store_nested_commit_only_at_outermost(void **state)
{
    struct fixture *fx = *state;
    struct wd_store *s = open_ok(fx->path);
    struct wd_store *reader = open_ok(fx->path);
    struct wd_scope_state a = make_state("firm", WD_TS_HALTED, 1);
    struct wd_scope_state b = make_state("account:acme", WD_TS_HALTED, 2);

    assert_int_equal(wd_store_begin(s, NULL), WD_OK);
    put_state_ok(s, &a);
    assert_int_equal(wd_store_begin(s, NULL), WD_OK);
    put_state_ok(s, &b);
    assert_int_equal(wd_store_commit(s, NULL), WD_OK);
    /* The inner commit published nothing. */
    assert_false(has_state(reader, "firm", NULL));
    assert_false(has_state(reader, "account:acme", NULL));
    assert_true(has_state(s, "account:acme", NULL)); /* own writes are visible */
    assert_int_equal(wd_store_commit(s, NULL), WD_OK);
    assert_true(has_state(reader, "firm", NULL));
    assert_true(has_state(reader, "account:acme", NULL));

    struct wd_error err = {0};
    assert_int_equal(wd_store_commit(s, &err), WD_ESTATE);
    wd_store_close(reader);
    wd_store_close(s);
}

static void test_store_rollback_discards(void **state)
{
    struct fixture *fx = *state;
    struct wd_store *s = open_ok(fx->path);
    struct wd_scope_state a = make_state("firm", WD_TS_HALTED, 1);
    struct wd_scope_state b = make_state("account:acme", WD_TS_HALTED, 2);

    /* Outermost rollback. */
    assert_int_equal(wd_store_begin(s, NULL), WD_OK);
    put_state_ok(s, &a);
    wd_store_rollback(s);
    assert_false(has_state(s, "firm", NULL));

    /* An inner rollback dooms the whole transaction. */
    assert_int_equal(wd_store_begin(s, NULL), WD_OK);
    put_state_ok(s, &a);
    assert_int_equal(wd_store_begin(s, NULL), WD_OK);
    put_state_ok(s, &b);
    wd_store_rollback(s);
    struct wd_error err = {0};
    assert_int_equal(wd_store_commit(s, &err), WD_ESTATE);
    assert_non_null(strstr(err.msg, "rolled back"));
    assert_false(has_state(s, "firm", NULL));
    assert_false(has_state(s, "account:acme", NULL));

    /* Rollback without a transaction is a no-op; the store still works. */
    wd_store_rollback(s);
    put_state_ok(s, &a);
    wd_store_close(s);
    assert_int_equal(raw_int(fx->path, "SELECT count(*) FROM state_history"), 1);

    /* Closing with a transaction open discards it. */
    s = open_ok(fx->path);
    assert_int_equal(wd_store_begin(s, NULL), WD_OK);
    put_state_ok(s, &b);
    wd_store_close(s);
    s = open_ok(fx->path);
    assert_false(has_state(s, "account:acme", NULL));
    assert_true(has_state(s, "firm", NULL));
    wd_store_close(s);
}

static void test_store_two_connections_one_process(void **state)
{
    struct fixture *fx = *state;
    struct wd_store *w = open_ok(fx->path);
    struct wd_store *r = open_ok(fx->path);
    struct wd_scope_state a = make_state("firm", WD_TS_HALTED, 1);
    put_state_ok(w, &a);
    assert_true(has_state(r, "firm", NULL));

    /* WAL: a reader is not blocked by an open write transaction and sees
     * the last committed state. */
    assert_int_equal(wd_store_begin(w, NULL), WD_OK);
    a.state = WD_TS_RAMP_UP;
    put_state_ok(w, &a);
    struct wd_scope_state got;
    assert_true(has_state(r, "firm", &got));
    assert_int_equal(got.state, WD_TS_HALTED);
    assert_int_equal(wd_store_commit(w, NULL), WD_OK);
    assert_true(has_state(r, "firm", &got));
    assert_int_equal(got.state, WD_TS_RAMP_UP);

    /* And the other way round. */
    struct wd_scope_state b = make_state("strategy:x", WD_TS_REDUCE_ONLY, 2);
    put_state_ok(r, &b);
    assert_true(has_state(w, "strategy:x", NULL));
    wd_store_close(r);
    wd_store_close(w);
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* The child: waits until the parent holds the write lock, opens its own
 * connection, tells the parent, writes. Exit code 0 on success. It touches
 * no SQLite object of the parent's: the fork happens before any is made. */
static void child_writer(const char *path, int from_parent, int to_parent)
{
    char c;
    struct wd_store *s = NULL;
    if (read(from_parent, &c, 1) != 1)
        _exit(10);
    if (wd_store_open(path, &s, NULL) != WD_OK)
        _exit(11);
    if (write(to_parent, "o", 1) != 1)
        _exit(12);
    struct wd_scope_state st = make_state("strategy:child", WD_TS_HALTED, 2);
    if (wd_store_put_state(s, &st, NULL) != WD_OK)
        _exit(13);
    wd_store_close(s);
    _exit(0);
}

static void test_store_forked_writer_waits_for_lock(void **state)
{
    struct fixture *fx = *state;
    int p2c[2], c2p[2];
    assert_int_equal(pipe(p2c), 0);
    assert_int_equal(pipe(c2p), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(p2c[1]);
        close(c2p[0]);
        child_writer(fx->path, p2c[0], c2p[1]);
    }
    close(p2c[0]);
    close(c2p[1]);

    struct wd_store *s = open_ok(fx->path);
    assert_int_equal(wd_store_begin(s, NULL), WD_OK);
    struct wd_scope_state st = make_state("firm", WD_TS_HALTED, 1);
    put_state_ok(s, &st);
    assert_int_equal(write(p2c[1], "g", 1), 1);
    char c = 0;
    assert_int_equal(read(c2p[0], &c, 1), 1);
    /* The child is about to write (or already waiting); hold the lock a
     * while so that it must wait through its busy timeout. */
    sleep_ms(300);
    assert_int_equal(wd_store_commit(s, NULL), WD_OK);

    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    close(p2c[1]);
    close(c2p[0]);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);

    assert_true(has_state(s, "firm", NULL));
    assert_true(has_state(s, "strategy:child", NULL));
    wd_store_close(s);
    /* The child's write came after the parent's commit. */
    assert_int_equal(raw_int(fx->path, "SELECT scope = 'firm' FROM state_history"
                                       " ORDER BY id LIMIT 1"),
                     1);
    assert_int_equal(raw_int(fx->path, "SELECT count(*) FROM state_history"), 2);
}

/* ------------------------------------------------------------------------ */
/* Bounds                                                                    */

static void test_store_long_texts_truncated_safely(void **state)
{
    struct fixture *fx = *state;
    struct wd_store *s = open_ok(fx->path);
    wd_store_close(s);

    /* Plant a row with texts far longer than the fields, and a two-byte
     * character straddling the reason field's last byte. */
    char sql[4096];
    char reason[600];
    memset(reason, 'r', sizeof reason);
    reason[WD_TEXT_MAX - 2] = '\xC3';
    reason[WD_TEXT_MAX - 1] = '\xA9';
    reason[sizeof reason - 1] = '\0';
    (void)snprintf(sql, sizeof sql,
                   "INSERT INTO scope_states (scope, state, since_ns, reason, by_who, scenario,"
                   " incident, ramp_until_ns) VALUES ('firm', 'HALTED', 7, '%s',"
                   " printf('%%.500c', 'b'), printf('%%.500c', 's'), printf('%%.500c', 'i'), 9)",
                   reason);
    raw_exec(fx->path, sql);

    s = open_ok(fx->path);
    struct wd_scope_state got;
    memset(&got, 0x7F, sizeof got);
    assert_true(has_state(s, "firm", &got));
    /* The cut character is dropped whole, not split. */
    assert_int_equal(strlen(got.reason), WD_TEXT_MAX - 2);
    assert_int_equal(strspn(got.reason, "r"), WD_TEXT_MAX - 2);
    assert_int_equal(strlen(got.by), WD_WHO_MAX - 1);
    assert_int_equal(strspn(got.by, "b"), WD_WHO_MAX - 1);
    assert_int_equal(strlen(got.scenario), WD_SCENARIO_MAX - 1);
    assert_int_equal(strlen(got.incident), WD_INCIDENT_ID_MAX - 1);
    assert_int_equal(got.since_ns, 7);
    assert_int_equal(got.ramp_until_ns, 9);

    /* Fields that lost their NUL are read within their size only. */
    struct wd_scope_state full = make_state("account:full", WD_TS_HALTED, 1);
    memset(full.reason, 'x', sizeof full.reason);
    memset(full.by, 'y', sizeof full.by);
    memset(full.scenario, 'z', sizeof full.scenario);
    memset(full.incident, 'w', sizeof full.incident);
    put_state_ok(s, &full);
    assert_true(has_state(s, "account:full", &got));
    assert_int_equal(strlen(got.reason), WD_TEXT_MAX - 1);
    assert_int_equal(strspn(got.reason, "x"), WD_TEXT_MAX - 1);
    assert_int_equal(strlen(got.by), WD_WHO_MAX - 1);
    assert_int_equal(strlen(got.scenario), WD_SCENARIO_MAX - 1);
    assert_int_equal(strlen(got.incident), WD_INCIDENT_ID_MAX - 1);

    /* A long incident detail and a long snapshot digest. */
    struct wd_incident_row row = make_incident("INC-20251117-001", 1);
    memset(row.detail, 'd', sizeof row.detail);
    memset(row.severity, 'P', sizeof row.severity);
    assert_int_equal(wd_store_add_incident(s, &row, NULL), WD_OK);
    struct wd_incident_row *out = NULL;
    size_t n = 0;
    assert_int_equal(wd_store_list_incidents(s, 1, &out, &n, NULL), WD_OK);
    assert_int_equal(n, 1);
    assert_int_equal(strlen(out[0].detail), sizeof row.detail - 1);
    assert_int_equal(strlen(out[0].severity), sizeof row.severity - 1);
    free(out);
    wd_store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_store_open_creates_dir_and_schema, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_reopen_keeps_schema_version, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_newer_schema_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_halt_survives_reopen, setup, teardown),
        cmocka_unit_test(test_store_memory_database_works),
        cmocka_unit_test(test_store_uncreatable_path_fails_with_eio),
        cmocka_unit_test_setup_teardown(test_store_unopenable_file_fails_with_eio, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_store_state_round_trip_every_field, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_load_states_empty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_history_grows_on_every_put, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_put_state_rejects_bad_input, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_approvals_since_ordered_and_filtered, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_store_incidents_add_dup_seq_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_put_incident_upserts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_rewind_takes_back_past_the_point, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_store_upgrades_schema_1, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_snapshot_put_replace_get_delete, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_store_nested_commit_only_at_outermost, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_store_rollback_discards, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_two_connections_one_process, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_forked_writer_waits_for_lock, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_long_texts_truncated_safely, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
