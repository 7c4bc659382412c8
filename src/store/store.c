/*
 * The SQLite store adapter: trading states (and their history), approvals,
 * incidents and book snapshots, in one database file (docs/internals/STORE.md).
 *
 * This is the only file that talks to SQLite. Every SQLite result code is
 * translated here, once, into enum wd_status with the SQLite message and the
 * failed operation in struct wd_error; nothing here prints, reads the clock
 * or keeps global state. Texts are always bound with their length and read
 * back bounded into the callers' fixed-size fields, so a long or hostile
 * value in the file is truncated, never overflows. It must not interpret
 * what it stores (scopes, scenarios, incident ids are the core's business).
 */
#include "store/store.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <sqlite3.h>

#define BUSY_TIMEOUT_MS 5000
#define DIR_MODE 0750
#define STORE_PATH_MAX 4096

/* ---- schema ---------------------------------------------------------------
 * Migrations, in order: migration i brings the schema from user_version i to
 * i + 1. Never edit one that has shipped; append a new one instead. They run
 * in one transaction, together with the user_version update. */

static const char *const migrations[] = {
    /* 1: the initial schema. */
    "CREATE TABLE scope_states ("
    "  scope TEXT PRIMARY KEY NOT NULL,"
    "  state TEXT NOT NULL CHECK (state IN ('ACTIVE','RAMP_UP','REDUCE_ONLY','HALTED')),"
    "  since_ns INTEGER NOT NULL,"
    "  reason TEXT NOT NULL DEFAULT '',"
    "  by_who TEXT NOT NULL DEFAULT '',"
    "  scenario TEXT NOT NULL DEFAULT '',"
    "  incident TEXT NOT NULL DEFAULT '',"
    "  ramp_until_ns INTEGER NOT NULL DEFAULT 0"
    ") STRICT;"
    "CREATE TABLE state_history ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  scope TEXT NOT NULL,"
    "  state TEXT NOT NULL CHECK (state IN ('ACTIVE','RAMP_UP','REDUCE_ONLY','HALTED')),"
    "  since_ns INTEGER NOT NULL,"
    "  reason TEXT NOT NULL DEFAULT '',"
    "  by_who TEXT NOT NULL DEFAULT '',"
    "  scenario TEXT NOT NULL DEFAULT '',"
    "  incident TEXT NOT NULL DEFAULT '',"
    "  ramp_until_ns INTEGER NOT NULL DEFAULT 0"
    ") STRICT;"
    "CREATE INDEX state_history_scope ON state_history (scope, id);"
    "CREATE TRIGGER state_history_no_update BEFORE UPDATE ON state_history"
    "  BEGIN SELECT RAISE(ABORT, 'state_history is append-only'); END;"
    "CREATE TRIGGER state_history_no_delete BEFORE DELETE ON state_history"
    "  BEGIN SELECT RAISE(ABORT, 'state_history is append-only'); END;"
    "CREATE TABLE approvals ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  scope TEXT NOT NULL,"
    "  who TEXT NOT NULL,"
    "  role TEXT NOT NULL CHECK (role IN ('risk_officer','cto')),"
    "  reason TEXT NOT NULL DEFAULT '',"
    "  incident TEXT NOT NULL DEFAULT '',"
    "  ts_ns INTEGER NOT NULL"
    ") STRICT;"
    "CREATE INDEX approvals_scope_ts ON approvals (scope, ts_ns, id);"
    "CREATE TABLE incidents ("
    "  id TEXT PRIMARY KEY NOT NULL,"
    "  scenario TEXT NOT NULL,"
    "  severity TEXT NOT NULL,"
    "  scope TEXT NOT NULL DEFAULT '',"
    "  status TEXT NOT NULL,"
    "  title TEXT NOT NULL DEFAULT '',"
    "  detail TEXT NOT NULL DEFAULT '',"
    "  opened_ns INTEGER NOT NULL"
    ") STRICT;"
    "CREATE INDEX incidents_opened ON incidents (opened_ns, id);"
    "CREATE TABLE snapshots ("
    "  input_key TEXT PRIMARY KEY NOT NULL,"
    "  lines INTEGER NOT NULL,"
    "  offset INTEGER NOT NULL,"
    "  events INTEGER NOT NULL,"
    "  digest TEXT NOT NULL,"
    "  saved_ns INTEGER NOT NULL,"
    "  blob BLOB NOT NULL"
    ") STRICT;",
    /* 2: what wrote a state or opened an incident: the replayed input
     * ("file:/path", '' for a person or an unkeyed input) and its event
     * number, so that a resume from a snapshot can rewind what a killed
     * run wrote past it (wd_store_rewind). */
    "ALTER TABLE scope_states ADD COLUMN origin TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE scope_states ADD COLUMN origin_event INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE state_history ADD COLUMN origin TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE state_history ADD COLUMN origin_event INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE incidents ADD COLUMN origin TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE incidents ADD COLUMN origin_event INTEGER NOT NULL DEFAULT 0;",
};

#define SCHEMA_VERSION ((int)(sizeof migrations / sizeof migrations[0]))

/* ---- prepared statements ---------------------------------------------------
 * Prepared once at open, kept for the connection's life. `on_constraint` is
 * the status a constraint violation of that statement means to the caller. */

enum stmt_id {
    ST_BEGIN,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_STATE_PUT,
    ST_STATE_HISTORY,
    ST_STATE_GET,
    ST_STATE_ALL,
    ST_APPROVAL_ADD,
    ST_APPROVAL_LIST,
    ST_INCIDENT_ADD,
    ST_INCIDENT_PUT,
    ST_REWIND_INCIDENTS,
    ST_REWIND_STATES,
    ST_REWIND_STATES_DROP,
    ST_INCIDENT_SEQ,
    ST_INCIDENT_LIST,
    ST_SNAP_PUT,
    ST_SNAP_GET,
    ST_SNAP_DEL,
    ST_COUNT
};

struct stmt_def {
    const char *op; /* names the operation in error messages */
    const char *sql;
    enum wd_status on_constraint;
};

#define STATE_COLS "scope, state, since_ns, reason, by_who, scenario, incident, ramp_until_ns"

static const struct stmt_def stmt_defs[ST_COUNT] = {
    [ST_BEGIN] = {"begin transaction", "BEGIN IMMEDIATE", WD_EIO},
    [ST_COMMIT] = {"commit", "COMMIT", WD_EIO},
    [ST_ROLLBACK] = {"rollback", "ROLLBACK", WD_EIO},
    [ST_STATE_PUT] = {"put state",
                      "INSERT INTO scope_states (" STATE_COLS ", origin, origin_event)"
                      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
                      " ON CONFLICT (scope) DO UPDATE SET state = excluded.state,"
                      " since_ns = excluded.since_ns, reason = excluded.reason,"
                      " by_who = excluded.by_who, scenario = excluded.scenario,"
                      " incident = excluded.incident, ramp_until_ns = excluded.ramp_until_ns,"
                      " origin = excluded.origin, origin_event = excluded.origin_event",
                      WD_EIO},
    [ST_STATE_HISTORY] = {"append state history",
                          "INSERT INTO state_history (" STATE_COLS ", origin, origin_event)"
                          " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                          WD_EIO},
    [ST_STATE_GET] = {"get state", "SELECT " STATE_COLS " FROM scope_states WHERE scope = ?1",
                      WD_EIO},
    [ST_STATE_ALL] = {"load states", "SELECT " STATE_COLS " FROM scope_states ORDER BY scope",
                      WD_EIO},
    [ST_APPROVAL_ADD] = {"add approval",
                         "INSERT INTO approvals (scope, who, role, reason, incident, ts_ns)"
                         " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                         WD_EIO},
    [ST_APPROVAL_LIST] = {"list approvals",
                          "SELECT id, scope, who, role, reason, incident, ts_ns FROM approvals"
                          " WHERE scope = ?1 AND ts_ns >= ?2 ORDER BY ts_ns, id",
                          WD_EIO},
    [ST_INCIDENT_ADD] = {"add incident",
                         "INSERT INTO incidents (id, scenario, severity, scope, status, title,"
                         " detail, opened_ns) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                         WD_ESTATE},
    /* "INC-" ?1 "-" NNN: the ids of one date sort between "INC-D-" and
     * "INC-D." ('.' follows '-'), so the primary key index finds them. */
    /* An incident announced again (a detector's recovery, a raised
     * severity) updates its record; where it opened stays. */
    [ST_INCIDENT_PUT] = {"put incident",
                         "INSERT INTO incidents (id, scenario, severity, scope, status, title,"
                         " detail, opened_ns, origin, origin_event)"
                         " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
                         " ON CONFLICT (id) DO UPDATE SET severity = excluded.severity,"
                         " status = excluded.status, title = excluded.title,"
                         " detail = excluded.detail",
                         WD_EIO},
    [ST_REWIND_INCIDENTS] = {"rewind incidents",
                             "DELETE FROM incidents WHERE origin = ?1 AND origin_event > ?2",
                             WD_EIO},
    /* Each scope last written past the point goes back to its latest
     * history entry that is not (a person's, another input's, or this
     * input's up to the point); with none, the scope row goes. */
    [ST_REWIND_STATES] = {"rewind states",
                          "UPDATE scope_states SET (state, since_ns, reason, by_who, scenario,"
                          " incident, ramp_until_ns, origin, origin_event) ="
                          " (SELECT h.state, h.since_ns, h.reason, h.by_who, h.scenario,"
                          " h.incident, h.ramp_until_ns, h.origin, h.origin_event"
                          " FROM state_history h WHERE h.scope = scope_states.scope"
                          " AND NOT (h.origin = ?1 AND h.origin_event > ?2)"
                          " ORDER BY h.id DESC LIMIT 1)"
                          " WHERE origin = ?1 AND origin_event > ?2 AND EXISTS"
                          " (SELECT 1 FROM state_history h WHERE h.scope = scope_states.scope"
                          " AND NOT (h.origin = ?1 AND h.origin_event > ?2))",
                          WD_EIO},
    [ST_REWIND_STATES_DROP] = {"rewind states",
                               "DELETE FROM scope_states WHERE origin = ?1 AND origin_event > ?2",
                               WD_EIO},
    [ST_INCIDENT_SEQ] = {"incident sequence",
                         "SELECT coalesce(max(CAST(substr(id, 14) AS INTEGER)), 0) FROM incidents"
                         " WHERE id > 'INC-' || ?1 || '-' AND id < 'INC-' || ?1 || '.'",
                         WD_EIO},
    [ST_INCIDENT_LIST] = {"list incidents",
                          "SELECT id, scenario, severity, scope, status, title, detail, opened_ns"
                          " FROM incidents ORDER BY opened_ns DESC, id DESC LIMIT ?1",
                          WD_EIO},
    [ST_SNAP_PUT] = {"put snapshot",
                     "INSERT INTO snapshots (input_key, lines, offset, events, digest, saved_ns,"
                     " blob) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
                     " ON CONFLICT (input_key) DO UPDATE SET lines = excluded.lines,"
                     " offset = excluded.offset, events = excluded.events,"
                     " digest = excluded.digest, saved_ns = excluded.saved_ns,"
                     " blob = excluded.blob",
                     WD_EIO},
    [ST_SNAP_GET] = {"get snapshot",
                     "SELECT lines, offset, events, digest, saved_ns, blob FROM snapshots"
                     " WHERE input_key = ?1",
                     WD_EIO},
    [ST_SNAP_DEL] = {"delete snapshot", "DELETE FROM snapshots WHERE input_key = ?1", WD_EIO},
};

struct wd_store {
    sqlite3 *db;
    sqlite3_stmt *stmt[ST_COUNT];
    unsigned depth; /* open wd_store_begin calls */
    bool doomed;    /* an inner rollback happened: the outermost end rolls back */
};

/* ---- error translation ---------------------------------------------------- */

/* The one place SQLite result codes become statuses. Must be called before
 * the statement is reset, while sqlite3_errmsg still describes rc. */
static enum wd_status db_fail(struct wd_store *s, int rc, const char *op,
                              enum wd_status on_constraint, struct wd_error *err)
{
    /* errmsg describes the connection's last error; a code that did not come
     * from the connection (a refused bind) is described by errstr. */
    const char *msg = s->db != NULL && sqlite3_extended_errcode(s->db) == rc
                          ? sqlite3_errmsg(s->db)
                          : sqlite3_errstr(rc);
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return wd_error_set(err, WD_EIO, "store: %s: database busy (waited %d ms): %s", op,
                            BUSY_TIMEOUT_MS, msg);
    case SQLITE_CONSTRAINT:
        return wd_error_set(err, on_constraint, "store: %s: %s", op, msg);
    case SQLITE_NOMEM:
        return wd_error_set(err, WD_ENOMEM, "store: %s: %s", op, msg);
    case SQLITE_TOOBIG:
        return wd_error_set(err, WD_ERANGE, "store: %s: %s", op, msg);
    default:
        return wd_error_set(err, WD_EIO, "store: %s: %s", op, msg);
    }
}

static enum wd_status stmt_fail(struct wd_store *s, enum stmt_id id, int rc,
                                struct wd_error *err)
{
    return db_fail(s, rc, stmt_defs[id].op, stmt_defs[id].on_constraint, err);
}

/* ---- binding and reading -------------------------------------------------- */

/* Hands the statement back clean: no pending step, no bindings kept. */
static sqlite3_stmt *stmt_release(struct wd_store *s, enum stmt_id id)
{
    sqlite3_stmt *st = s->stmt[id];
    (void)sqlite3_reset(st);
    (void)sqlite3_clear_bindings(st);
    return st;
}

/* Binds a field of a caller's struct: at most cap bytes, so a field that
 * lost its NUL is still read within bounds. Static: the statement runs and
 * is reset before the caller's memory can change. */
static int bind_field(sqlite3_stmt *st, int col, const char *field, size_t cap)
{
    return sqlite3_bind_text(st, col, field, (int)strnlen(field, cap), SQLITE_STATIC);
}

/* Binds a caller's NUL-terminated argument (a key, a scope). */
static int bind_str(sqlite3_stmt *st, int col, const char *str)
{
    size_t len = strnlen(str, STORE_PATH_MAX + 1);
    if (len > STORE_PATH_MAX)
        return SQLITE_TOOBIG;
    return sqlite3_bind_text(st, col, str, (int)len, SQLITE_STATIC);
}

/* Copies a text column into dst[cap], truncated to cap - 1 bytes on a UTF-8
 * character boundary, always NUL-terminated. NULL reads as "". */
static void read_text(sqlite3_stmt *st, int col, char *dst, size_t cap)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    int n = sqlite3_column_bytes(st, col);
    size_t len = (t != NULL && n > 0) ? (size_t)n : 0;

    if (len >= cap) {
        len = cap - 1;
        /* Do not cut a multi-byte character in two: back off continuation
         * bytes (10xxxxxx) so that the next byte starts a character. */
        while (len > 0 && (t[len] & 0xC0u) == 0x80u)
            len--;
    }
    if (len > 0)
        memcpy(dst, t, len);
    dst[len] = '\0';
}

/* Grows *arr (of elem-sized items, *cap of them) to hold at least need. */
static enum wd_status grow(void **arr, size_t *cap, size_t need, size_t elem,
                           struct wd_error *err)
{
    if (need <= *cap)
        return WD_OK;
    size_t ncap = *cap != 0 ? *cap : 8;
    while (ncap < need) {
        if (ncap > SIZE_MAX / 2)
            return wd_error_set(err, WD_ENOMEM, "store: result too large");
        ncap *= 2;
    }
    if (ncap > SIZE_MAX / elem)
        return wd_error_set(err, WD_ENOMEM, "store: result too large");
    void *p = realloc(*arr, ncap * elem);
    if (p == NULL)
        return wd_error_set(err, WD_ENOMEM, "store: out of memory for %zu rows", need);
    *arr = p;
    *cap = ncap;
    return WD_OK;
}

/* ---- open / close --------------------------------------------------------- */

/* Creates the directory holding path (one level) if it is missing. */
static enum wd_status make_parent_dir(const char *path, struct wd_error *err)
{
    char dir[STORE_PATH_MAX + 1];
    const char *slash = strrchr(path, '/');

    if (slash == NULL || slash == path)
        return WD_OK; /* the current directory or "/" */
    size_t len = (size_t)(slash - path);
    if (len > STORE_PATH_MAX)
        return wd_error_set(err, WD_EINVAL, "store %s: path too long", path);
    memcpy(dir, path, len);
    dir[len] = '\0';
    if (mkdir(dir, DIR_MODE) != 0 && errno != EEXIST) {
        int e = errno;
        return wd_error_set(err, WD_EIO, "store %s: cannot create directory %s: %s", path, dir,
                            strerror(e));
    }
    return WD_OK;
}

/* Runs a single-row PRAGMA (or any one-row query) and copies its first
 * column's text into out (may be NULL). */
static enum wd_status query_text(struct wd_store *s, const char *sql, char *out, size_t cap,
                                 struct wd_error *err)
{
    enum wd_status st = WD_OK;
    sqlite3_stmt *q = NULL;
    int rc = sqlite3_prepare_v2(s->db, sql, -1, &q, NULL);
    if (rc != SQLITE_OK) {
        st = db_fail(s, rc, sql, WD_EIO, err);
        goto out;
    }
    rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        if (out != NULL)
            read_text(q, 0, out, cap);
    } else if (rc != SQLITE_DONE) {
        st = db_fail(s, rc, sql, WD_EIO, err);
        goto out;
    } else if (out != NULL) {
        out[0] = '\0';
    }
out:
    sqlite3_finalize(q);
    return st;
}

static enum wd_status user_version(struct wd_store *s, int *version, struct wd_error *err)
{
    char buf[24];
    enum wd_status st = query_text(s, "PRAGMA user_version", buf, sizeof buf, err);
    if (st != WD_OK)
        return st;
    char *end = NULL;
    errno = 0;
    long v = strtol(buf, &end, 10);
    if (errno != 0 || end == buf || *end != '\0' || v < 0 || v > INT_MAX)
        return wd_error_set(err, WD_EIO, "store: unreadable user_version '%s'", buf);
    *version = (int)v;
    return WD_OK;
}

static enum wd_status exec_sql(struct wd_store *s, const char *sql, const char *op,
                               struct wd_error *err)
{
    int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return db_fail(s, rc, op, WD_EIO, err);
    return WD_OK;
}

/* Brings the schema to SCHEMA_VERSION. The version is read again inside the
 * write transaction, so two processes opening a new file at once migrate it
 * once. */
static enum wd_status migrate(struct wd_store *s, struct wd_error *err)
{
    enum wd_status st;
    int version = 0;
    char sql[48];

    st = user_version(s, &version, err);
    if (st != WD_OK)
        return st;
    if (version == SCHEMA_VERSION)
        return WD_OK;
    if (version > SCHEMA_VERSION)
        goto too_new;

    st = exec_sql(s, "BEGIN IMMEDIATE", "begin migration", err);
    if (st != WD_OK)
        return st;
    st = user_version(s, &version, err);
    if (st != WD_OK)
        goto fail;
    if (version > SCHEMA_VERSION) {
        (void)sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        goto too_new;
    }
    for (int i = version; i < SCHEMA_VERSION; i++) {
        char op[32];
        (void)snprintf(op, sizeof op, "migration %d", i + 1);
        st = exec_sql(s, migrations[i], op, err);
        if (st != WD_OK)
            goto fail;
    }
    (void)snprintf(sql, sizeof sql, "PRAGMA user_version = %d", SCHEMA_VERSION);
    st = exec_sql(s, sql, "set user_version", err);
    if (st != WD_OK)
        goto fail;
    st = exec_sql(s, "COMMIT", "commit migration", err);
    if (st != WD_OK)
        goto fail;
    return WD_OK;

fail:
    (void)sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return st;
too_new:
    return wd_error_set(err, WD_ESTATE,
                        "store: schema version %d is newer than this warden's (%d)", version,
                        SCHEMA_VERSION);
}

static enum wd_status configure(struct wd_store *s, const char *path, struct wd_error *err)
{
    enum wd_status st;
    char mode[16];

    (void)sqlite3_extended_result_codes(s->db, 1);
    int rc = sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
    if (rc != SQLITE_OK)
        return db_fail(s, rc, "busy timeout", WD_EIO, err);
    st = query_text(s, "PRAGMA journal_mode = WAL", mode, sizeof mode, err);
    if (st != WD_OK)
        return st;
    /* An in-memory database keeps journal_mode "memory"; a file must be WAL. */
    if (strcmp(path, ":memory:") != 0 && strcmp(mode, "wal") != 0)
        return wd_error_set(err, WD_EIO, "store %s: cannot enable WAL (journal_mode %s)", path,
                            mode);
    st = exec_sql(s, "PRAGMA synchronous = FULL", "synchronous=FULL", err);
    if (st != WD_OK)
        return st;
    return exec_sql(s, "PRAGMA foreign_keys = ON", "foreign_keys=ON", err);
}

static enum wd_status prepare_all(struct wd_store *s, struct wd_error *err)
{
    for (int i = 0; i < ST_COUNT; i++) {
        int rc = sqlite3_prepare_v3(s->db, stmt_defs[i].sql, -1, SQLITE_PREPARE_PERSISTENT,
                                    &s->stmt[i], NULL);
        if (rc != SQLITE_OK)
            return db_fail(s, rc, stmt_defs[i].op, WD_EIO, err);
    }
    return WD_OK;
}

enum wd_status wd_store_open(const char *path, struct wd_store **out, struct wd_error *err)
{
    enum wd_status st;
    struct wd_store *s = NULL;

    *out = NULL;
    if (path == NULL || path[0] == '\0')
        return wd_error_set(err, WD_EINVAL, "store: empty path");
    if (strnlen(path, STORE_PATH_MAX + 1) > STORE_PATH_MAX)
        return wd_error_set(err, WD_EINVAL, "store: path longer than %d bytes",
                            STORE_PATH_MAX);
    if (strcmp(path, ":memory:") != 0) {
        st = make_parent_dir(path, err);
        if (st != WD_OK)
            return st;
    }
    s = calloc(1, sizeof *s);
    if (s == NULL)
        return wd_error_set(err, WD_ENOMEM, "store %s: out of memory", path);

    int rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (rc != SQLITE_OK) {
        const char *msg = s->db != NULL ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc);
        st = wd_error_set(err, (rc & 0xff) == SQLITE_NOMEM ? WD_ENOMEM : WD_EIO,
                          "store %s: open: %s", path, msg);
        goto fail;
    }
    st = configure(s, path, err);
    if (st != WD_OK)
        goto fail;
    st = migrate(s, err);
    if (st != WD_OK)
        goto fail;
    st = prepare_all(s, err);
    if (st != WD_OK)
        goto fail;
    *out = s;
    return WD_OK;

fail:
    /* Errors past sqlite3_open_v2 name only the operation: add the path. */
    if (err != NULL && s->db != NULL && strncmp(err->msg, "store: ", 7) == 0) {
        char inner[WD_ERROR_MSG_MAX];
        memcpy(inner, err->msg + 7, sizeof inner - 7);
        inner[sizeof inner - 8] = '\0';
        (void)wd_error_set(err, st, "store %s: %s", path, inner);
    }
    wd_store_close(s);
    return st;
}

void wd_store_close(struct wd_store *s)
{
    if (s == NULL)
        return;
    if (s->depth > 0 && s->db != NULL)
        (void)sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(s->stmt[i]);
    /* Every statement is finalized, so close cannot be refused as busy. */
    (void)sqlite3_close(s->db);
    free(s);
}

/* ---- transactions --------------------------------------------------------- */

static enum wd_status run_simple(struct wd_store *s, enum stmt_id id, struct wd_error *err)
{
    int rc = sqlite3_step(s->stmt[id]);
    enum wd_status st = rc == SQLITE_DONE ? WD_OK : stmt_fail(s, id, rc, err);
    (void)stmt_release(s, id);
    return st;
}

enum wd_status wd_store_begin(struct wd_store *s, struct wd_error *err)
{
    if (s->depth == UINT_MAX)
        return wd_error_set(err, WD_EFULL, "store: transactions nested too deeply");
    if (s->depth == 0) {
        /* IMMEDIATE takes the write lock now (waiting up to the busy
         * timeout), so a transaction never fails half-way for a lock. */
        enum wd_status st = run_simple(s, ST_BEGIN, err);
        if (st != WD_OK)
            return st;
        s->doomed = false;
    }
    s->depth++;
    return WD_OK;
}

enum wd_status wd_store_commit(struct wd_store *s, struct wd_error *err)
{
    if (s->depth == 0)
        return wd_error_set(err, WD_ESTATE, "store: commit without a transaction");
    s->depth--;
    if (s->depth > 0)
        return WD_OK;
    if (s->doomed) {
        s->doomed = false;
        (void)run_simple(s, ST_ROLLBACK, NULL);
        return wd_error_set(err, WD_ESTATE,
                            "store: commit: rolled back (an inner transaction failed)");
    }
    enum wd_status st = run_simple(s, ST_COMMIT, err);
    if (st != WD_OK && !sqlite3_get_autocommit(s->db)) {
        /* Nothing is left half-done: the transaction is abandoned whole. */
        (void)run_simple(s, ST_ROLLBACK, NULL);
    }
    return st;
}

void wd_store_rollback(struct wd_store *s)
{
    if (s == NULL || s->depth == 0)
        return;
    s->depth--;
    if (s->depth > 0) {
        s->doomed = true;
        return;
    }
    s->doomed = false;
    if (!sqlite3_get_autocommit(s->db))
        (void)run_simple(s, ST_ROLLBACK, NULL);
}

/* ---- trading states ------------------------------------------------------- */

static int bind_state(sqlite3_stmt *q, const struct wd_scope_state *st)
{
    int rc = bind_field(q, 1, st->scope, sizeof st->scope);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(q, 2, wd_tstate_name(st->state), -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(q, 3, st->since_ns);
    if (rc == SQLITE_OK)
        rc = bind_field(q, 4, st->reason, sizeof st->reason);
    if (rc == SQLITE_OK)
        rc = bind_field(q, 5, st->by, sizeof st->by);
    if (rc == SQLITE_OK)
        rc = bind_field(q, 6, st->scenario, sizeof st->scenario);
    if (rc == SQLITE_OK)
        rc = bind_field(q, 7, st->incident, sizeof st->incident);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(q, 8, st->ramp_until_ns);
    return rc;
}

/* Runs an INSERT/UPDATE/DELETE whose parameters are bound; releases it. */
static enum wd_status run_write(struct wd_store *s, enum stmt_id id, int bind_rc,
                                struct wd_error *err)
{
    int rc = bind_rc == SQLITE_OK ? sqlite3_step(s->stmt[id]) : bind_rc;
    enum wd_status st = rc == SQLITE_DONE ? WD_OK : stmt_fail(s, id, rc, err);
    (void)stmt_release(s, id);
    return st;
}

enum wd_status wd_store_put_state(struct wd_store *s, const struct wd_scope_state *st,
                                  struct wd_error *err)
{
    return wd_store_put_state_from(s, st, "", 0, err);
}

/* Binds a state and where it came from (parameters 1-10). */
static int bind_state_from(sqlite3_stmt *q, const struct wd_scope_state *st, const char *origin,
                           uint64_t origin_event)
{
    int rc = bind_state(q, st);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(q, 9, origin, -1, SQLITE_TRANSIENT);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(q, 10, (sqlite3_int64)origin_event);
    return rc;
}

enum wd_status wd_store_put_state_from(struct wd_store *s, const struct wd_scope_state *st,
                                       const char *origin, uint64_t origin_event,
                                       struct wd_error *err)
{
    enum wd_status r;

    if (st->scope[0] == '\0')
        return wd_error_set(err, WD_EINVAL, "store: put state: empty scope");
    if ((unsigned)st->state > (unsigned)WD_TS_HALTED)
        return wd_error_set(err, WD_EINVAL, "store: put state: invalid state %d",
                            (int)st->state);
    r = wd_store_begin(s, err);
    if (r != WD_OK)
        return r;
    r = run_write(s, ST_STATE_PUT,
                  bind_state_from(s->stmt[ST_STATE_PUT], st, origin, origin_event), err);
    if (r != WD_OK)
        goto fail;
    r = run_write(s, ST_STATE_HISTORY,
                  bind_state_from(s->stmt[ST_STATE_HISTORY], st, origin, origin_event), err);
    if (r != WD_OK)
        goto fail;
    return wd_store_commit(s, err);

fail:
    wd_store_rollback(s);
    return r;
}

/* Reads a row of STATE_COLS. */
static enum wd_status read_state(sqlite3_stmt *q, struct wd_scope_state *out,
                                 struct wd_error *err)
{
    struct wd_scope_state v;
    char name[16];

    memset(&v, 0, sizeof v);
    read_text(q, 0, v.scope, sizeof v.scope);
    read_text(q, 1, name, sizeof name);
    if (wd_tstate_parse(name, &v.state) != WD_OK)
        return wd_error_set(err, WD_EIO, "store: scope %s has an unknown state '%s'", v.scope,
                            name);
    v.since_ns = sqlite3_column_int64(q, 2);
    read_text(q, 3, v.reason, sizeof v.reason);
    read_text(q, 4, v.by, sizeof v.by);
    read_text(q, 5, v.scenario, sizeof v.scenario);
    read_text(q, 6, v.incident, sizeof v.incident);
    v.ramp_until_ns = sqlite3_column_int64(q, 7);
    *out = v;
    return WD_OK;
}

enum wd_status wd_store_get_state(struct wd_store *s, const char *scope,
                                  struct wd_scope_state *out, bool *found,
                                  struct wd_error *err)
{
    enum wd_status r = WD_OK;
    sqlite3_stmt *q = s->stmt[ST_STATE_GET];

    *found = false;
    int rc = bind_str(q, 1, scope);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        r = read_state(q, out, err);
        *found = r == WD_OK;
    } else if (rc != SQLITE_DONE) {
        r = stmt_fail(s, ST_STATE_GET, rc, err);
    }
    (void)stmt_release(s, ST_STATE_GET);
    return r;
}

enum wd_status wd_store_load_states(struct wd_store *s, struct wd_scope_state **out, size_t *n,
                                    struct wd_error *err)
{
    enum wd_status r = WD_OK;
    sqlite3_stmt *q = s->stmt[ST_STATE_ALL];
    struct wd_scope_state *arr = NULL;
    size_t len = 0, cap = 0;
    int rc;

    *out = NULL;
    *n = 0;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        r = grow((void **)&arr, &cap, len + 1, sizeof *arr, err);
        if (r != WD_OK)
            goto out;
        r = read_state(q, &arr[len], err);
        if (r != WD_OK)
            goto out;
        len++;
    }
    if (rc != SQLITE_DONE) {
        r = stmt_fail(s, ST_STATE_ALL, rc, err);
        goto out;
    }
    *out = arr;
    *n = len;
    arr = NULL;
out:
    (void)stmt_release(s, ST_STATE_ALL);
    free(arr);
    return r;
}

/* ---- approvals ------------------------------------------------------------- */

enum wd_status wd_store_add_approval(struct wd_store *s, struct wd_approval *a,
                                     struct wd_error *err)
{
    sqlite3_stmt *q = s->stmt[ST_APPROVAL_ADD];

    if (a->role != WD_ROLE_RISK_OFFICER && a->role != WD_ROLE_CTO)
        return wd_error_set(err, WD_EINVAL, "store: add approval: invalid role %d",
                            (int)a->role);
    int rc = bind_field(q, 1, a->scope, sizeof a->scope);
    if (rc == SQLITE_OK)
        rc = bind_field(q, 2, a->who, sizeof a->who);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(q, 3, wd_role_name(a->role), -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = bind_field(q, 4, a->reason, sizeof a->reason);
    if (rc == SQLITE_OK)
        rc = bind_field(q, 5, a->incident, sizeof a->incident);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(q, 6, a->ts_ns);
    enum wd_status r = run_write(s, ST_APPROVAL_ADD, rc, err);
    /* Only this connection's INSERT can have set the row id in between. */
    if (r == WD_OK)
        a->id = sqlite3_last_insert_rowid(s->db);
    return r;
}

enum wd_status wd_store_list_approvals(struct wd_store *s, const char *scope, int64_t since_ns,
                                       struct wd_approval **out, size_t *n,
                                       struct wd_error *err)
{
    enum wd_status r = WD_OK;
    sqlite3_stmt *q = s->stmt[ST_APPROVAL_LIST];
    struct wd_approval *arr = NULL;
    size_t len = 0, cap = 0;
    char role[16];

    *out = NULL;
    *n = 0;
    int rc = bind_str(q, 1, scope);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(q, 2, since_ns);
    if (rc == SQLITE_OK) {
        while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
            r = grow((void **)&arr, &cap, len + 1, sizeof *arr, err);
            if (r != WD_OK)
                goto out;
            struct wd_approval *a = &arr[len];
            memset(a, 0, sizeof *a);
            a->id = sqlite3_column_int64(q, 0);
            read_text(q, 1, a->scope, sizeof a->scope);
            read_text(q, 2, a->who, sizeof a->who);
            read_text(q, 3, role, sizeof role);
            if (wd_role_parse(role, &a->role) != WD_OK) {
                r = wd_error_set(err, WD_EIO, "store: approval %lld has an unknown role '%s'",
                                 (long long)a->id, role);
                goto out;
            }
            read_text(q, 4, a->reason, sizeof a->reason);
            read_text(q, 5, a->incident, sizeof a->incident);
            a->ts_ns = sqlite3_column_int64(q, 6);
            len++;
        }
    }
    if (rc != SQLITE_DONE) {
        r = stmt_fail(s, ST_APPROVAL_LIST, rc, err);
        goto out;
    }
    *out = arr;
    *n = len;
    arr = NULL;
out:
    (void)stmt_release(s, ST_APPROVAL_LIST);
    free(arr);
    return r;
}

/* ---- incidents ------------------------------------------------------------ */

static int bind_incident(sqlite3_stmt *q, const struct wd_incident_row *r)
{
    int rc = bind_field(q, 1, r->id, sizeof r->id);
    if (rc == SQLITE_OK)
        rc = bind_field(q, 2, r->scenario, sizeof r->scenario);
    if (rc == SQLITE_OK)
        rc = bind_field(q, 3, r->severity, sizeof r->severity);
    if (rc == SQLITE_OK)
        rc = bind_field(q, 4, r->scope, sizeof r->scope);
    if (rc == SQLITE_OK)
        rc = bind_field(q, 5, r->status, sizeof r->status);
    if (rc == SQLITE_OK)
        rc = bind_field(q, 6, r->title, sizeof r->title);
    if (rc == SQLITE_OK)
        rc = bind_field(q, 7, r->detail, sizeof r->detail);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(q, 8, r->opened_ns);
    return rc;
}

enum wd_status wd_store_add_incident(struct wd_store *s, const struct wd_incident_row *r,
                                     struct wd_error *err)
{
    if (r->id[0] == '\0')
        return wd_error_set(err, WD_EINVAL, "store: add incident: empty id");
    return run_write(s, ST_INCIDENT_ADD, bind_incident(s->stmt[ST_INCIDENT_ADD], r), err);
}

enum wd_status wd_store_put_incident(struct wd_store *s, const struct wd_incident_row *r,
                                     const char *origin, uint64_t origin_event,
                                     struct wd_error *err)
{
    sqlite3_stmt *q = s->stmt[ST_INCIDENT_PUT];
    if (r->id[0] == '\0')
        return wd_error_set(err, WD_EINVAL, "store: put incident: empty id");
    int rc = bind_incident(q, r);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(q, 9, origin, -1, SQLITE_TRANSIENT);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(q, 10, (sqlite3_int64)origin_event);
    return run_write(s, ST_INCIDENT_PUT, rc, err);
}

/* Binds the (origin, after_event) pair of the rewind statements. */
static int bind_point(sqlite3_stmt *q, const char *origin, uint64_t after_event)
{
    int rc = sqlite3_bind_text(q, 1, origin, -1, SQLITE_TRANSIENT);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(q, 2, (sqlite3_int64)after_event);
    return rc;
}

enum wd_status wd_store_rewind(struct wd_store *s, const char *origin, uint64_t after_event,
                               struct wd_error *err)
{
    static const enum stmt_id steps[] = {ST_REWIND_INCIDENTS, ST_REWIND_STATES,
                                         ST_REWIND_STATES_DROP};
    if (origin[0] == '\0')
        return wd_error_set(err, WD_EINVAL, "store: rewind: empty origin");
    enum wd_status r = wd_store_begin(s, err);
    if (r != WD_OK)
        return r;
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        r = run_write(s, steps[i], bind_point(s->stmt[steps[i]], origin, after_event), err);
        if (r != WD_OK) {
            wd_store_rollback(s);
            return r;
        }
    }
    return wd_store_commit(s, err);
}

enum wd_status wd_store_incident_seq(struct wd_store *s, const char *yyyymmdd, uint32_t *seq,
                                     struct wd_error *err)
{
    enum wd_status r = WD_OK;
    sqlite3_stmt *q = s->stmt[ST_INCIDENT_SEQ];

    *seq = 0;
    for (int i = 0; i < 8; i++) {
        if (yyyymmdd[i] < '0' || yyyymmdd[i] > '9')
            return wd_error_set(err, WD_EINVAL, "store: incident sequence: bad date '%.16s'",
                                yyyymmdd);
    }
    if (yyyymmdd[8] != '\0')
        return wd_error_set(err, WD_EINVAL, "store: incident sequence: bad date '%.16s'",
                            yyyymmdd);
    int rc = sqlite3_bind_text(q, 1, yyyymmdd, 8, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        sqlite3_int64 v = sqlite3_column_int64(q, 0);
        if (v < 0 || v > (sqlite3_int64)UINT32_MAX)
            r = wd_error_set(err, WD_ERANGE, "store: incident sequence %lld out of range",
                             (long long)v);
        else
            *seq = (uint32_t)v;
    } else {
        r = stmt_fail(s, ST_INCIDENT_SEQ, rc == SQLITE_DONE ? SQLITE_ERROR : rc, err);
    }
    (void)stmt_release(s, ST_INCIDENT_SEQ);
    return r;
}

enum wd_status wd_store_list_incidents(struct wd_store *s, size_t limit,
                                       struct wd_incident_row **out, size_t *n,
                                       struct wd_error *err)
{
    enum wd_status r = WD_OK;
    sqlite3_stmt *q = s->stmt[ST_INCIDENT_LIST];
    struct wd_incident_row *arr = NULL;
    size_t len = 0, cap = 0;

    *out = NULL;
    *n = 0;
    if (limit == 0)
        return WD_OK;
    sqlite3_int64 lim = limit > (size_t)INT64_MAX ? INT64_MAX : (sqlite3_int64)limit;
    int rc = sqlite3_bind_int64(q, 1, lim);
    if (rc == SQLITE_OK) {
        while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
            r = grow((void **)&arr, &cap, len + 1, sizeof *arr, err);
            if (r != WD_OK)
                goto out;
            struct wd_incident_row *row = &arr[len];
            memset(row, 0, sizeof *row);
            read_text(q, 0, row->id, sizeof row->id);
            read_text(q, 1, row->scenario, sizeof row->scenario);
            read_text(q, 2, row->severity, sizeof row->severity);
            read_text(q, 3, row->scope, sizeof row->scope);
            read_text(q, 4, row->status, sizeof row->status);
            read_text(q, 5, row->title, sizeof row->title);
            read_text(q, 6, row->detail, sizeof row->detail);
            row->opened_ns = sqlite3_column_int64(q, 7);
            len++;
        }
    }
    if (rc != SQLITE_DONE) {
        r = stmt_fail(s, ST_INCIDENT_LIST, rc, err);
        goto out;
    }
    *out = arr;
    *n = len;
    arr = NULL;
out:
    (void)stmt_release(s, ST_INCIDENT_LIST);
    free(arr);
    return r;
}

/* ---- snapshots ------------------------------------------------------------- */

enum wd_status wd_store_put_snapshot(struct wd_store *s, const char *input_key,
                                     const struct wd_snapshot *snap, struct wd_error *err)
{
    sqlite3_stmt *q = s->stmt[ST_SNAP_PUT];

    /* SQLite integers are signed 64-bit; larger counts cannot be stored. */
    if (snap->lines > (uint64_t)INT64_MAX || snap->offset > (uint64_t)INT64_MAX ||
        snap->events > (uint64_t)INT64_MAX)
        return wd_error_set(err, WD_ERANGE, "store: put snapshot: count above 2^63");
    if (snap->blob_len > (size_t)INT_MAX || (snap->blob_len > 0 && snap->blob == NULL))
        return wd_error_set(err, WD_ERANGE, "store: put snapshot: blob of %zu bytes",
                            snap->blob_len);
    int rc = bind_str(q, 1, input_key);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(q, 2, (sqlite3_int64)snap->lines);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(q, 3, (sqlite3_int64)snap->offset);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(q, 4, (sqlite3_int64)snap->events);
    if (rc == SQLITE_OK)
        rc = bind_field(q, 5, snap->digest, sizeof snap->digest);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(q, 6, snap->saved_ns);
    if (rc == SQLITE_OK) {
        /* A NULL pointer would bind SQL NULL; an empty blob is zeroblob(0). */
        rc = snap->blob_len == 0
                 ? sqlite3_bind_zeroblob(q, 7, 0)
                 : sqlite3_bind_blob(q, 7, snap->blob, (int)snap->blob_len, SQLITE_STATIC);
    }
    return run_write(s, ST_SNAP_PUT, rc, err);
}

enum wd_status wd_store_get_snapshot(struct wd_store *s, const char *input_key,
                                     struct wd_snapshot *snap, bool *found,
                                     struct wd_error *err)
{
    enum wd_status r = WD_OK;
    sqlite3_stmt *q = s->stmt[ST_SNAP_GET];

    *found = false;
    int rc = bind_str(q, 1, input_key);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        struct wd_snapshot v;
        memset(&v, 0, sizeof v);
        sqlite3_int64 lines = sqlite3_column_int64(q, 0);
        sqlite3_int64 offset = sqlite3_column_int64(q, 1);
        sqlite3_int64 events = sqlite3_column_int64(q, 2);
        if (lines < 0 || offset < 0 || events < 0) {
            r = wd_error_set(err, WD_EIO, "store: snapshot %.64s has a negative count",
                             input_key);
            goto out;
        }
        v.lines = (uint64_t)lines;
        v.offset = (uint64_t)offset;
        v.events = (uint64_t)events;
        read_text(q, 3, v.digest, sizeof v.digest);
        v.saved_ns = sqlite3_column_int64(q, 4);
        const void *b = sqlite3_column_blob(q, 5);
        int blen = sqlite3_column_bytes(q, 5);
        v.blob_len = (b != NULL && blen > 0) ? (size_t)blen : 0;
        /* One spare byte: never a zero-size malloc, blob non-NULL on success. */
        v.blob = malloc(v.blob_len + 1);
        if (v.blob == NULL) {
            r = wd_error_set(err, WD_ENOMEM, "store: snapshot of %zu bytes", v.blob_len);
            goto out;
        }
        if (v.blob_len > 0)
            memcpy(v.blob, b, v.blob_len);
        *snap = v;
        *found = true;
    } else if (rc != SQLITE_DONE) {
        r = stmt_fail(s, ST_SNAP_GET, rc, err);
    }
out:
    (void)stmt_release(s, ST_SNAP_GET);
    return r;
}

enum wd_status wd_store_delete_snapshot(struct wd_store *s, const char *input_key,
                                        struct wd_error *err)
{
    return run_write(s, ST_SNAP_DEL, bind_str(s->stmt[ST_SNAP_DEL], 1, input_key), err);
}
