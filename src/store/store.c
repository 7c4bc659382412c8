/*
 * The SQLite store adapter: trading states (and their history), approvals,
 * incidents and book snapshots, in one database file (docs/internals/STORE.md).
 *
 * This is the only file that talks to SQLite. Every SQLite result code is
 * translated here, once, into enum wd_status with the SQLite message and the
 * failed operation in struct wd_error; nothing here prints or keeps global
 * state, and the only clock read is the one behind wd_store_set_clock that
 * stamps audit-chain entries (CLOCK_REALTIME unless a caller substitutes
 * one). Texts are always bound with their length and read
 * back bounded into the callers' fixed-size fields, so a long or hostile
 * value in the file is truncated, never overflows. It must not interpret
 * what it stores (scopes, scenarios, incident ids are the core's business).
 */
#include "store/store.h"
#include "store/outbox.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sqlite3.h>

#include "warden/incident.h"
#include "warden/severity.h"

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
    /* 3: the tamper-evident audit trail: one hash-chained entry per
     * mutation of scope_states, state_history, approvals and incidents (and
     * per limit change). Append-only, like state_history. The rows a store
     * already held are chained as "baseline" entries in the same
     * transaction (adopt_existing). */
    "CREATE TABLE audit_chain ("
    "  seq INTEGER PRIMARY KEY NOT NULL,"
    "  ts_ns INTEGER NOT NULL,"
    "  who TEXT NOT NULL,"
    "  kind TEXT NOT NULL,"
    "  entity TEXT NOT NULL,"
    "  payload TEXT NOT NULL,"
    "  prev_hash TEXT NOT NULL,"
    "  hash TEXT NOT NULL"
    ") STRICT;"
    "CREATE TRIGGER audit_chain_no_update BEFORE UPDATE ON audit_chain"
    "  BEGIN SELECT RAISE(ABORT, 'audit_chain is append-only'); END;"
    "CREATE TRIGGER audit_chain_no_delete BEFORE DELETE ON audit_chain"
    "  BEGIN SELECT RAISE(ABORT, 'audit_chain is append-only'); END;",
    /* 4: the whole incident record (include/warden/incident.h) beside the
     * incidents row, which keeps its columns (and so its chain payloads):
     * incident_records holds the record's other scalars, one row per
     * incident saved whole (an incident without one is a replay's minimal
     * row); roles, checklist and action items are child rows keyed
     * (incident, pos); the timeline is append-only, like state_history.
     * Every one of them is audited (audit_tables). */
    "CREATE TABLE incident_records ("
    "  id TEXT PRIMARY KEY NOT NULL,"
    "  opened_by TEXT NOT NULL DEFAULT '',"
    "  acknowledged_ns INTEGER NOT NULL DEFAULT 0,"
    "  resolved_ns INTEGER NOT NULL DEFAULT 0,"
    "  closed_ns INTEGER NOT NULL DEFAULT 0,"
    "  updated_ns INTEGER NOT NULL DEFAULT 0,"
    "  trading_halted INTEGER NOT NULL DEFAULT 0 CHECK (trading_halted IN (0, 1)),"
    "  pnl_open_e8 INTEGER NOT NULL DEFAULT 0,"
    "  pnl_resolved_known INTEGER NOT NULL DEFAULT 0 CHECK (pnl_resolved_known IN (0, 1)),"
    "  pnl_resolved_e8 INTEGER NOT NULL DEFAULT 0,"
    "  ack_breach_noted INTEGER NOT NULL DEFAULT 0 CHECK (ack_breach_noted IN (0, 1)),"
    "  resolve_breach_noted INTEGER NOT NULL DEFAULT 0 CHECK (resolve_breach_noted IN (0, 1)),"
    "  escalation_noted TEXT NOT NULL DEFAULT 'on_call'"
    "    CHECK (escalation_noted IN ('on_call','senior_engineer','management'))"
    ") STRICT;"
    "CREATE TABLE incident_roles ("
    "  incident TEXT NOT NULL,"
    "  pos INTEGER NOT NULL,"
    "  role TEXT NOT NULL CHECK (role IN ('commander','risk_officer','technical_lead',"
    "    'communications_lead','sme')),"
    "  name TEXT NOT NULL,"
    "  PRIMARY KEY (incident, pos)"
    ") STRICT;"
    "CREATE TABLE incident_checklist ("
    "  incident TEXT NOT NULL,"
    "  pos INTEGER NOT NULL,"
    "  text TEXT NOT NULL,"
    "  done INTEGER NOT NULL DEFAULT 0 CHECK (done IN (0, 1)),"
    "  who TEXT NOT NULL DEFAULT '',"
    "  when_ns INTEGER NOT NULL DEFAULT 0,"
    "  PRIMARY KEY (incident, pos)"
    ") STRICT;"
    "CREATE TABLE incident_actions ("
    "  incident TEXT NOT NULL,"
    "  pos INTEGER NOT NULL,"
    "  text TEXT NOT NULL,"
    "  owner TEXT NOT NULL DEFAULT '',"
    "  due_ns INTEGER NOT NULL DEFAULT 0,"
    "  done INTEGER NOT NULL DEFAULT 0 CHECK (done IN (0, 1)),"
    "  done_by TEXT NOT NULL DEFAULT '',"
    "  done_ns INTEGER NOT NULL DEFAULT 0,"
    "  PRIMARY KEY (incident, pos)"
    ") STRICT;"
    "CREATE TABLE incident_timeline ("
    "  incident TEXT NOT NULL,"
    "  seq INTEGER NOT NULL,"
    "  ts_ns INTEGER NOT NULL,"
    "  who TEXT NOT NULL,"
    "  kind TEXT NOT NULL CHECK (kind IN ('opened','status','note','finding','control',"
    "    'approval','check','action','severity','role','impact','sla_breach','escalation')),"
    "  from_value TEXT NOT NULL DEFAULT '',"
    "  to_value TEXT NOT NULL DEFAULT '',"
    "  text TEXT NOT NULL DEFAULT '',"
    "  PRIMARY KEY (incident, seq)"
    ") STRICT;"
    "CREATE TRIGGER incident_timeline_no_update BEFORE UPDATE ON incident_timeline"
    "  BEGIN SELECT RAISE(ABORT, 'incident_timeline is append-only'); END;"
    "CREATE TRIGGER incident_timeline_no_delete BEFORE DELETE ON incident_timeline"
    "  BEGIN SELECT RAISE(ABORT, 'incident_timeline is append-only'); END;"
    "CREATE INDEX incidents_scenario_scope ON incidents (scenario, scope, status);",
    /* 5 (issue 8): on-call. Silences hold back notifications of a scenario
     * (in a scope, or every scope: '') until until_ns; removing one stamps
     * removed_ns, the row stays. escalations: one row per level of the
     * chain an incident reached, written once (the key refuses a second).
     * chain_tests: each `warden oncall test-page`. All audited. */
    "CREATE TABLE silences ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  scenario TEXT NOT NULL,"
    "  scope TEXT NOT NULL DEFAULT '',"
    "  starts_ns INTEGER NOT NULL,"
    "  until_ns INTEGER NOT NULL CHECK (until_ns > starts_ns),"
    "  reason TEXT NOT NULL,"
    "  by_who TEXT NOT NULL,"
    "  role TEXT NOT NULL DEFAULT '',"
    "  removed_ns INTEGER NOT NULL DEFAULT 0,"
    "  removed_by TEXT NOT NULL DEFAULT ''"
    ") STRICT;"
    "CREATE INDEX silences_scenario ON silences (scenario, until_ns);"
    "CREATE TABLE escalations ("
    "  incident TEXT NOT NULL,"
    "  level INTEGER NOT NULL CHECK (level BETWEEN 1 AND 5),"
    "  ts_ns INTEGER NOT NULL,"
    "  level_name TEXT NOT NULL,"
    "  reason TEXT NOT NULL,"
    "  paged TEXT NOT NULL,"
    "  PRIMARY KEY (incident, level)"
    ") STRICT;"
    "CREATE TABLE chain_tests ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  ts_ns INTEGER NOT NULL,"
    "  by_who TEXT NOT NULL,"
    "  paged TEXT NOT NULL"
    ") STRICT;",
    /* 6: notifications (issue 8): the outbox (src/store/outbox.c) and the
     * timeline kind 'notify' (each delivery attempt), by rebuilding
     * incident_timeline with its rows and triggers as they were. */
    WD_OUTBOX_MIGRATION,
};

/* The migration that creates audit_chain (1-based version it brings). */
#define CHAIN_SCHEMA_VERSION 3

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
    ST_LIMIT_IN_FORCE,
    ST_INCIDENT_LIST,
    ST_SNAP_PUT,
    ST_SNAP_GET,
    ST_SNAP_DEL,
    ST_CHAIN_HEAD,
    ST_CHAIN_APPEND,
    ST_ROW_STATE,
    ST_ROW_HISTORY,
    ST_ROW_APPROVAL,
    ST_ROW_INCIDENT,
    ST_REWIND_WHICH_INCIDENTS,
    ST_REWIND_WHICH_STATES,
    ST_ROW_RECORD,
    ST_ROW_ROLE,
    ST_ROW_CHECK,
    ST_ROW_ACTION,
    ST_ROW_TIMELINE,
    ST_INC_GET,
    ST_INC_SAVE,
    ST_REC_PUT,
    ST_ROLE_PUT,
    ST_CHECK_PUT,
    ST_ACTION_PUT,
    ST_ROLE_LIST,
    ST_CHECK_LIST,
    ST_ACTION_LIST,
    ST_ROLE_DEL,
    ST_RECORD_DEL,
    ST_CHECK_DEL,
    ST_ACTION_DEL,
    ST_TL_NEXT,
    ST_TL_APPEND,
    ST_TL_LIST,
    ST_INC_ACTIVE,
    ST_INC_IDS,
    ST_SILENCE_ADD,
    ST_SILENCE_REMOVE,
    ST_SILENCE_LIST,
    ST_SILENCE_ACTIVE,
    ST_ROW_SILENCE,
    ST_ESC_ADD,
    ST_ESC_LEVEL,
    ST_ROW_ESCALATION,
    ST_CHAIN_TEST_ADD,
    ST_CHAIN_TEST_LAST,
    ST_ROW_CHAIN_TEST,
    ST_COUNT
};

struct stmt_def {
    const char *op; /* names the operation in error messages */
    const char *sql;
    enum wd_status on_constraint;
};

#define STATE_COLS "scope, state, since_ns, reason, by_who, scenario, incident, ramp_until_ns"

/* The columns of each audited table as its chain payload holds them, in
 * this order, the row's key first (docs/internals/STORE.md, "Audit chain"). */
#define AUDIT_STATE_COLS STATE_COLS ", origin, origin_event"
#define AUDIT_HISTORY_COLS "id, " STATE_COLS ", origin, origin_event"
#define AUDIT_APPROVAL_COLS "id, scope, who, role, reason, incident, ts_ns"
#define AUDIT_INCIDENT_COLS                                                                  \
    "id, scenario, severity, scope, status, title, detail, opened_ns, origin, origin_event"
#define AUDIT_RECORD_COLS                                                                    \
    "id, opened_by, acknowledged_ns, resolved_ns, closed_ns, updated_ns, trading_halted,"   \
    " pnl_open_e8, pnl_resolved_known, pnl_resolved_e8, ack_breach_noted,"                 \
    " resolve_breach_noted, escalation_noted"
#define AUDIT_ROLE_COLS "incident, pos, role, name"
#define AUDIT_CHECK_COLS "incident, pos, text, done, who, when_ns"
#define AUDIT_ACTION_COLS "incident, pos, text, owner, due_ns, done, done_by, done_ns"
#define AUDIT_TIMELINE_COLS "incident, seq, ts_ns, who, kind, from_value, to_value, text"
#define AUDIT_SILENCE_COLS                                                                   \
    "id, scenario, scope, starts_ns, until_ns, reason, by_who, role, removed_ns, removed_by"
#define AUDIT_ESCALATION_COLS "incident, level, ts_ns, level_name, reason, paged"
#define AUDIT_CHAIN_TEST_COLS "id, ts_ns, by_who, paged"

/* The child rows of an incident (schema 4) are keyed (incident, pos) or
 * (incident, seq); their chain entity is the text "<incident>#<n>", which
 * these expressions build and split (incident ids hold no '#'). */
#define CHILD_KEY(n) "incident || '#' || " n
#define CHILD_WHERE(n)                                                                       \
    " WHERE incident = substr(?1, 1, instr(?1, '#') - 1)"                                   \
    " AND " n " = CAST(substr(?1, instr(?1, '#') + 1) AS INTEGER)"

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
                         " detail = excluded.detail"
                         /* Only the same incident: another one that got the id
                          * (two processes numbering the same day) changes
                          * nothing, and the caller hears of it. */
                         " WHERE incidents.origin = excluded.origin"
                         " AND incidents.scenario = excluded.scenario"
                         " AND incidents.scope = excluded.scope",
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
    [ST_LIMIT_IN_FORCE] = {"limit in force",
                           "SELECT json_extract(payload, '$.new') FROM audit_chain"
                           " WHERE kind = 'limits.change' AND entity = ?1"
                           " ORDER BY seq DESC LIMIT 1",
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
    [ST_CHAIN_HEAD] = {"audit chain head",
                       "SELECT seq, hash FROM audit_chain ORDER BY seq DESC LIMIT 1", WD_EIO},
    [ST_CHAIN_APPEND] = {"append audit entry",
                         "INSERT INTO audit_chain (seq, ts_ns, who, kind, entity, payload,"
                         " prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                         WD_EIO},
    [ST_ROW_STATE] = {"audit state",
                      "SELECT " AUDIT_STATE_COLS " FROM scope_states WHERE scope = ?1", WD_EIO},
    [ST_ROW_HISTORY] = {"audit state history",
                        "SELECT " AUDIT_HISTORY_COLS " FROM state_history WHERE id = ?1",
                        WD_EIO},
    [ST_ROW_APPROVAL] = {"audit approval",
                         "SELECT " AUDIT_APPROVAL_COLS " FROM approvals WHERE id = ?1", WD_EIO},
    [ST_ROW_INCIDENT] = {"audit incident",
                         "SELECT " AUDIT_INCIDENT_COLS " FROM incidents WHERE id = ?1", WD_EIO},
    [ST_REWIND_WHICH_INCIDENTS] = {"rewind incidents",
                                   "SELECT id FROM incidents"
                                   " WHERE origin = ?1 AND origin_event > ?2 ORDER BY id",
                                   WD_EIO},
    [ST_REWIND_WHICH_STATES] = {"rewind states",
                                "SELECT scope FROM scope_states"
                                " WHERE origin = ?1 AND origin_event > ?2 ORDER BY scope",
                                WD_EIO},
    [ST_ROW_RECORD] = {"audit incident record",
                       "SELECT " AUDIT_RECORD_COLS " FROM incident_records WHERE id = ?1", WD_EIO},
    [ST_ROW_ROLE] = {"audit incident role",
                     "SELECT " AUDIT_ROLE_COLS " FROM incident_roles" CHILD_WHERE("pos"), WD_EIO},
    [ST_ROW_CHECK] = {"audit incident checklist",
                      "SELECT " AUDIT_CHECK_COLS " FROM incident_checklist" CHILD_WHERE("pos"),
                      WD_EIO},
    [ST_ROW_ACTION] = {"audit incident action",
                       "SELECT " AUDIT_ACTION_COLS " FROM incident_actions" CHILD_WHERE("pos"),
                       WD_EIO},
    [ST_ROW_TIMELINE] = {"audit incident timeline",
                         "SELECT " AUDIT_TIMELINE_COLS " FROM incident_timeline"
                         CHILD_WHERE("seq"),
                         WD_EIO},
    [ST_INC_GET] = {"load incident",
                    "SELECT scenario, severity, scope, status, title, detail, opened_ns"
                    " FROM incidents WHERE id = ?1",
                    WD_EIO},
    /* A save writes the shared columns; where it came from stays. An
     * unchanged row is not rewritten (and so not chained again). */
    [ST_INC_SAVE] = {"save incident",
                     "INSERT INTO incidents (id, scenario, severity, scope, status, title,"
                     " detail, opened_ns) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
                     " ON CONFLICT (id) DO UPDATE SET severity = excluded.severity,"
                     " status = excluded.status, title = excluded.title,"
                     " detail = excluded.detail, opened_ns = excluded.opened_ns"
                     " WHERE (incidents.severity, incidents.status, incidents.title,"
                     " incidents.detail, incidents.opened_ns) IS NOT (excluded.severity,"
                     " excluded.status, excluded.title, excluded.detail, excluded.opened_ns)",
                     WD_EIO},
    [ST_REC_PUT] = {"save incident record",
                    "INSERT INTO incident_records (" AUDIT_RECORD_COLS ")"
                    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"
                    " ON CONFLICT (id) DO UPDATE SET (" AUDIT_RECORD_COLS ") ="
                    " (excluded.id, excluded.opened_by, excluded.acknowledged_ns,"
                    " excluded.resolved_ns, excluded.closed_ns, excluded.updated_ns,"
                    " excluded.trading_halted, excluded.pnl_open_e8,"
                    " excluded.pnl_resolved_known, excluded.pnl_resolved_e8,"
                    " excluded.ack_breach_noted, excluded.resolve_breach_noted,"
                    " excluded.escalation_noted)"
                    " WHERE (" AUDIT_RECORD_COLS ") IS NOT"
                    " (excluded.id, excluded.opened_by, excluded.acknowledged_ns,"
                    " excluded.resolved_ns, excluded.closed_ns, excluded.updated_ns,"
                    " excluded.trading_halted, excluded.pnl_open_e8,"
                    " excluded.pnl_resolved_known, excluded.pnl_resolved_e8,"
                    " excluded.ack_breach_noted, excluded.resolve_breach_noted,"
                    " excluded.escalation_noted)",
                    WD_EIO},
    [ST_ROLE_PUT] = {"save incident role",
                     "INSERT INTO incident_roles (" AUDIT_ROLE_COLS ") VALUES (?1, ?2, ?3, ?4)"
                     " ON CONFLICT (incident, pos) DO UPDATE SET (role, name) ="
                     " (excluded.role, excluded.name)"
                     " WHERE (role, name) IS NOT (excluded.role, excluded.name)",
                     WD_EIO},
    [ST_CHECK_PUT] = {"save incident checklist",
                      "INSERT INTO incident_checklist (" AUDIT_CHECK_COLS ")"
                      " VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
                      " ON CONFLICT (incident, pos) DO UPDATE SET (text, done, who, when_ns) ="
                      " (excluded.text, excluded.done, excluded.who, excluded.when_ns)"
                      " WHERE (text, done, who, when_ns) IS NOT"
                      " (excluded.text, excluded.done, excluded.who, excluded.when_ns)",
                      WD_EIO},
    [ST_ACTION_PUT] = {"save incident action",
                       "INSERT INTO incident_actions (" AUDIT_ACTION_COLS ")"
                       " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
                       " ON CONFLICT (incident, pos) DO UPDATE SET"
                       " (text, owner, due_ns, done, done_by, done_ns) ="
                       " (excluded.text, excluded.owner, excluded.due_ns, excluded.done,"
                       " excluded.done_by, excluded.done_ns)"
                       " WHERE (text, owner, due_ns, done, done_by, done_ns) IS NOT"
                       " (excluded.text, excluded.owner, excluded.due_ns, excluded.done,"
                       " excluded.done_by, excluded.done_ns)",
                       WD_EIO},
    [ST_ROLE_LIST] = {"load incident roles",
                      "SELECT " AUDIT_ROLE_COLS " FROM incident_roles WHERE incident = ?1"
                      " ORDER BY pos",
                      WD_EIO},
    [ST_CHECK_LIST] = {"load incident checklist",
                       "SELECT " AUDIT_CHECK_COLS " FROM incident_checklist WHERE incident = ?1"
                       " ORDER BY pos",
                       WD_EIO},
    [ST_ACTION_LIST] = {"load incident actions",
                        "SELECT " AUDIT_ACTION_COLS " FROM incident_actions WHERE incident = ?1"
                        " ORDER BY pos",
                        WD_EIO},
    [ST_RECORD_DEL] = {"rewind incident record", "DELETE FROM incident_records WHERE id = ?1",
                       WD_EIO},
    [ST_ROLE_DEL] = {"save incident roles",
                     "DELETE FROM incident_roles WHERE incident = ?1 AND pos = ?2", WD_EIO},
    [ST_CHECK_DEL] = {"save incident checklist",
                      "DELETE FROM incident_checklist WHERE incident = ?1 AND pos = ?2", WD_EIO},
    [ST_ACTION_DEL] = {"save incident actions",
                       "DELETE FROM incident_actions WHERE incident = ?1 AND pos = ?2", WD_EIO},
    [ST_TL_NEXT] = {"append timeline",
                    "SELECT coalesce(max(seq), 0) + 1 FROM incident_timeline WHERE incident = ?1",
                    WD_EIO},
    [ST_TL_APPEND] = {"append timeline",
                      "INSERT INTO incident_timeline (" AUDIT_TIMELINE_COLS ")"
                      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                      WD_EIO},
    [ST_TL_LIST] = {"list timeline",
                    "SELECT " AUDIT_TIMELINE_COLS " FROM incident_timeline WHERE incident = ?1"
                    " ORDER BY seq",
                    WD_EIO},
    /* Not resolved nor closed: the active statuses, and whatever else a
     * minimal row says (it reads back as open). */
    [ST_INC_ACTIVE] = {"find active incident",
                       "SELECT id FROM incidents WHERE scenario = ?1 AND scope = ?2"
                       " AND status NOT IN ('resolved', 'closed')"
                       " ORDER BY opened_ns DESC, id DESC LIMIT 1",
                       WD_EIO},
    [ST_INC_IDS] = {"list incident records",
                    "SELECT id FROM incidents"
                    " WHERE ?1 = 0 OR status NOT IN ('resolved', 'closed')"
                    " ORDER BY opened_ns DESC, id DESC",
                    WD_EIO},
    /* On-call (schema 5). */
    [ST_SILENCE_ADD] = {"add silence",
                        "INSERT INTO silences (scenario, scope, starts_ns, until_ns, reason,"
                        " by_who, role) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                        WD_EIO},
    [ST_SILENCE_REMOVE] = {"remove silence",
                           "UPDATE silences SET removed_ns = ?2, removed_by = ?3"
                           " WHERE id = ?1 AND removed_ns = 0",
                           WD_EIO},
    [ST_SILENCE_LIST] = {"list silences",
                         "SELECT " AUDIT_SILENCE_COLS " FROM silences"
                         " WHERE ?1 = 1 OR (removed_ns = 0 AND until_ns > ?2) ORDER BY id",
                         WD_EIO},
    [ST_SILENCE_ACTIVE] = {"find silence",
                           "SELECT " AUDIT_SILENCE_COLS " FROM silences"
                           " WHERE scenario = ?1 AND (scope = '' OR scope = ?2)"
                           " AND starts_ns <= ?3 AND until_ns > ?3 AND removed_ns = 0"
                           " ORDER BY until_ns DESC, id DESC LIMIT 1",
                           WD_EIO},
    [ST_ROW_SILENCE] = {"audit silence",
                        "SELECT " AUDIT_SILENCE_COLS " FROM silences WHERE id = ?1", WD_EIO},
    [ST_ESC_ADD] = {"add escalation",
                    "INSERT INTO escalations (" AUDIT_ESCALATION_COLS ")"
                    " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    WD_ESTATE},
    [ST_ESC_LEVEL] = {"escalation level",
                      "SELECT coalesce(max(level), 0) FROM escalations WHERE incident = ?1",
                      WD_EIO},
    [ST_ROW_ESCALATION] = {"audit escalation",
                           "SELECT " AUDIT_ESCALATION_COLS " FROM escalations"
                           CHILD_WHERE("level"),
                           WD_EIO},
    [ST_CHAIN_TEST_ADD] = {"record chain test",
                           "INSERT INTO chain_tests (ts_ns, by_who, paged) VALUES (?1, ?2, ?3)",
                           WD_EIO},
    [ST_CHAIN_TEST_LAST] = {"last chain test",
                            "SELECT " AUDIT_CHAIN_TEST_COLS " FROM chain_tests"
                            " ORDER BY id DESC LIMIT 1",
                            WD_EIO},
    [ST_ROW_CHAIN_TEST] = {"audit chain test",
                           "SELECT " AUDIT_CHAIN_TEST_COLS " FROM chain_tests WHERE id = ?1",
                           WD_EIO},
};

struct wd_store {
    sqlite3 *db;
    sqlite3_stmt *stmt[ST_COUNT];
    unsigned depth; /* open wd_store_begin calls */
    bool doomed;    /* an inner rollback happened: the outermost end rolls back */
    wd_store_clock_fn now; /* stamps audit entries */
    void *now_ctx;
    unsigned char *chain_key; /* from malloc, or NULL: entries hashed unkeyed */
    size_t chain_key_len;
    wd_store_timeline_hook_fn tl_hook; /* see wd_store_set_timeline_hook */
    void *tl_hook_ctx;
};

void wd_store_set_timeline_hook(struct wd_store *s, wd_store_timeline_hook_fn fn, void *ctx)
{
    s->tl_hook = fn;
    s->tl_hook_ctx = ctx;
}

void *wd_store_timeline_hook_ctx(const struct wd_store *s, wd_store_timeline_hook_fn fn)
{
    return s->tl_hook == fn ? s->tl_hook_ctx : NULL;
}

sqlite3 *wd__store_db(struct wd_store *s)
{
    return s->db;
}

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

/* Runs an INSERT/UPDATE/DELETE whose parameters are bound; releases it. */
static enum wd_status run_write(struct wd_store *s, enum stmt_id id, int bind_rc,
                                struct wd_error *err)
{
    int rc = bind_rc == SQLITE_OK ? sqlite3_step(s->stmt[id]) : bind_rc;
    enum wd_status st = rc == SQLITE_DONE ? WD_OK : stmt_fail(s, id, rc, err);
    (void)stmt_release(s, id);
    return st;
}

/* ---- audit chain -----------------------------------------------------------
 * Every mutation of an audited table appends one entry to audit_chain, in
 * the mutation's transaction: the row as it is after the change, in a
 * canonical JSON text, hash-chained to the entry before. The format is
 * specified in docs/internals/STORE.md ("Audit chain"); an independent
 * verifier must be able to recompute every hash from that text alone. */

#define CHAIN_HASH_HEX 64
#define CHAIN_TEXT_MAX ((size_t)1 << 20) /* one canonical entry, at most */
#define CHAIN_KEY_MAX 4096

static const char zero_hash[CHAIN_HASH_HEX + 1] =
    "0000000000000000000000000000000000000000000000000000000000000000";

/* The audited tables, in the order verification compares them. The key is
 * the first column of each list; its SQL type decides how keys sort. */
enum audit_tbl {
    AT_STATES,
    AT_HISTORY,
    AT_APPROVALS,
    AT_INCIDENTS,
    AT_RECORDS,
    AT_ROLES,
    AT_CHECKLIST,
    AT_ACTIONS,
    AT_TIMELINE,
    AT_SILENCES,
    AT_ESCALATIONS,
    AT_CHAIN_TESTS,
    AT_COUNT
};

struct audit_table {
    const char *name;  /* the table, and the kind prefix of its entries */
    const char *key;   /* its key: a column, or an expression of columns */
    bool int_key;      /* INTEGER key (else TEXT) */
    const char *cols;  /* the payload's columns */
    enum stmt_id row;  /* SELECT cols ... WHERE key = ?1 */
    int schema;        /* the schema version that created the table */
};

static const struct audit_table audit_tables[AT_COUNT] = {
    [AT_STATES] = {"scope_states", "scope", false, AUDIT_STATE_COLS, ST_ROW_STATE, 1},
    [AT_HISTORY] = {"state_history", "id", true, AUDIT_HISTORY_COLS, ST_ROW_HISTORY, 1},
    [AT_APPROVALS] = {"approvals", "id", true, AUDIT_APPROVAL_COLS, ST_ROW_APPROVAL, 1},
    [AT_INCIDENTS] = {"incidents", "id", false, AUDIT_INCIDENT_COLS, ST_ROW_INCIDENT, 1},
    [AT_RECORDS] = {"incident_records", "id", false, AUDIT_RECORD_COLS, ST_ROW_RECORD, 4},
    [AT_ROLES] = {"incident_roles", CHILD_KEY("pos"), false, AUDIT_ROLE_COLS, ST_ROW_ROLE, 4},
    [AT_CHECKLIST] = {"incident_checklist", CHILD_KEY("pos"), false, AUDIT_CHECK_COLS,
                      ST_ROW_CHECK, 4},
    [AT_ACTIONS] = {"incident_actions", CHILD_KEY("pos"), false, AUDIT_ACTION_COLS,
                    ST_ROW_ACTION, 4},
    [AT_TIMELINE] = {"incident_timeline", CHILD_KEY("seq"), false, AUDIT_TIMELINE_COLS,
                     ST_ROW_TIMELINE, 4},
    [AT_SILENCES] = {"silences", "id", true, AUDIT_SILENCE_COLS, ST_ROW_SILENCE, 5},
    [AT_ESCALATIONS] = {"escalations", CHILD_KEY("level"), false, AUDIT_ESCALATION_COLS,
                        ST_ROW_ESCALATION, 5},
    [AT_CHAIN_TESTS] = {"chain_tests", "id", true, AUDIT_CHAIN_TEST_COLS, ST_ROW_CHAIN_TEST, 5},
};

/* A growable text, bounded by CHAIN_TEXT_MAX; a failed append sets oom
 * or toobig and later appends do nothing. */
struct sbuf {
    char *p;
    size_t len, cap;
    bool oom, toobig;
};

static void sb_putn(struct sbuf *b, const char *src, size_t n)
{
    if (b->oom || b->toobig)
        return;
    if (n > CHAIN_TEXT_MAX - b->len) {
        b->toobig = true;
        return;
    }
    if (b->len + n + 1 > b->cap) {
        size_t ncap = b->cap != 0 ? b->cap : 512;
        while (ncap < b->len + n + 1)
            ncap *= 2;
        char *np = realloc(b->p, ncap);
        if (np == NULL) {
            b->oom = true;
            return;
        }
        b->p = np;
        b->cap = ncap;
    }
    if (n > 0)
        memcpy(b->p + b->len, src, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_puts(struct sbuf *b, const char *src) { sb_putn(b, src, strlen(src)); }

static void sb_int(struct sbuf *b, int64_t v)
{
    char num[24];
    int n = snprintf(num, sizeof num, "%lld", (long long)v);
    sb_putn(b, num, (size_t)n);
}

/* A JSON string: '"' and '\' escaped with a backslash, bytes 0x00-0x1F
 * and 0x7F as \u00XX (lowercase hex), every other byte as it is (UTF-8
 * passes through unchanged, and so do invalid sequences). */
static void sb_json_str(struct sbuf *b, const char *src, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t run = 0;
    sb_putn(b, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)src[i];
        if (c != '"' && c != '\\' && c >= 0x20 && c != 0x7F)
            continue;
        sb_putn(b, src + run, i - run);
        run = i + 1;
        if (c == '"' || c == '\\') {
            char esc[2] = {'\\', (char)c};
            sb_putn(b, esc, 2);
        } else {
            char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            sb_putn(b, esc, 6);
        }
    }
    sb_putn(b, src + run, n - run);
    sb_putn(b, "\"", 1);
}

static enum wd_status sb_status(const struct sbuf *b, const char *what, struct wd_error *err)
{
    if (b->oom)
        return wd_error_set(err, WD_ENOMEM, "store: %s: out of memory", what);
    if (b->toobig)
        return wd_error_set(err, WD_ERANGE, "store: %s: longer than %zu bytes", what,
                            CHAIN_TEXT_MAX);
    return WD_OK;
}

/* The current row of q from column first on as a canonical payload:
 * {"col":value,...} in the SELECT's column order; INTEGER as decimal, TEXT as a JSON string, NULL
 * as null (the audited tables hold neither REAL nor BLOB values). */
static void row_json(sqlite3_stmt *q, int first, struct sbuf *b)
{
    int n = sqlite3_column_count(q);
    sb_putn(b, "{", 1);
    for (int i = first; i < n; i++) {
        if (i > first)
            sb_putn(b, ",", 1);
        const char *name = sqlite3_column_name(q, i);
        sb_json_str(b, name, strlen(name));
        sb_putn(b, ":", 1);
        switch (sqlite3_column_type(q, i)) {
        case SQLITE_INTEGER: sb_int(b, sqlite3_column_int64(q, i)); break;
        case SQLITE_NULL: sb_puts(b, "null"); break;
        default: {
            const char *t = (const char *)sqlite3_column_text(q, i);
            int len = sqlite3_column_bytes(q, i);
            sb_json_str(b, t != NULL ? t : "", t != NULL && len > 0 ? (size_t)len : 0);
        }
        }
    }
    sb_putn(b, "}", 1);
}

/* A text and its length (texts read from the file may hold NULs). */
struct text {
    const char *p;
    size_t n;
};

static struct text cstr(const char *p) { return (struct text){p, strlen(p)}; }

static struct text col_text(sqlite3_stmt *q, int col)
{
    const char *t = (const char *)sqlite3_column_text(q, col);
    int n = sqlite3_column_bytes(q, col);
    return (struct text){t != NULL ? t : "", t != NULL && n > 0 ? (size_t)n : 0};
}

/* A copy of t from malloc, NUL-terminated; NULL when out of memory. */
static char *dup_text(struct text t)
{
    char *p = malloc(t.n + 1);
    if (p != NULL) {
        memcpy(p, t.p, t.n);
        p[t.n] = '\0';
    }
    return p;
}

/* What is hashed: prev_hash (64 hex digits) immediately followed by the
 * canonical entry {"seq":..,"ts_ns":..,"who":..,"kind":..,"entity":..,
 * "payload":PAYLOAD}, PAYLOAD inserted verbatim (it is JSON already). */
static void chain_message(struct sbuf *b, struct text prev, int64_t seq, int64_t ts_ns,
                          struct text who, struct text kind, struct text entity,
                          struct text payload)
{
    b->len = 0;
    sb_putn(b, prev.p, prev.n);
    sb_puts(b, "{\"seq\":");
    sb_int(b, seq);
    sb_puts(b, ",\"ts_ns\":");
    sb_int(b, ts_ns);
    sb_puts(b, ",\"who\":");
    sb_json_str(b, who.p, who.n);
    sb_puts(b, ",\"kind\":");
    sb_json_str(b, kind.p, kind.n);
    sb_puts(b, ",\"entity\":");
    sb_json_str(b, entity.p, entity.n);
    sb_puts(b, ",\"payload\":");
    sb_putn(b, payload.p, payload.n);
    sb_puts(b, "}");
}

/* Lowercase hex SHA-256 of msg, or HMAC-SHA256 under the store's key. */
static bool chain_digest(const struct wd_store *s, const char *msg, size_t len,
                         char out[CHAIN_HASH_HEX + 1])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    bool ok;
    if (s->chain_key != NULL)
        ok = HMAC(EVP_sha256(), s->chain_key, (int)s->chain_key_len,
                  (const unsigned char *)msg, len, md, &n) != NULL;
    else
        ok = EVP_Digest(msg, len, md, &n, EVP_sha256(), NULL) == 1;
    if (!ok || n != 32)
        return false;
    for (unsigned i = 0; i < 32; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[CHAIN_HASH_HEX] = '\0';
    return true;
}

static int64_t wall_clock_ns(void *ctx)
{
    (void)ctx;
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
        return 0;
    return (int64_t)ts.tv_sec * 1000000000 + (int64_t)ts.tv_nsec;
}

void wd_store_set_clock(struct wd_store *s, wd_store_clock_fn now, void *ctx)
{
    s->now = now != NULL ? now : wall_clock_ns;
    s->now_ctx = now != NULL ? ctx : NULL;
}

enum wd_status wd_store_set_chain_key(struct wd_store *s, const void *key, size_t len,
                                      struct wd_error *err)
{
    if (len > CHAIN_KEY_MAX)
        return wd_error_set(err, WD_ERANGE, "store: chain key of %zu bytes (at most %d)", len,
                            CHAIN_KEY_MAX);
    unsigned char *copy = NULL;
    if (len > 0) {
        copy = malloc(len);
        if (copy == NULL)
            return wd_error_set(err, WD_ENOMEM, "store: chain key: out of memory");
        memcpy(copy, key, len);
    }
    if (s->chain_key != NULL) {
        OPENSSL_cleanse(s->chain_key, s->chain_key_len);
        free(s->chain_key);
    }
    s->chain_key = copy;
    s->chain_key_len = len;
    return WD_OK;
}

/* Appends one entry after the chain's head. Must run inside a write
 * transaction (the head read and the insert are then one step). */
static enum wd_status chain_append(struct wd_store *s, struct text who, struct text kind,
                                   struct text entity, struct text payload,
                                   struct wd_error *err)
{
    enum wd_status r = WD_OK;
    char prev[CHAIN_HASH_HEX + 1], hash[CHAIN_HASH_HEX + 1];
    struct sbuf b = {0};
    int64_t seq = 1;

    sqlite3_stmt *q = s->stmt[ST_CHAIN_HEAD];
    int rc = sqlite3_step(q);
    memcpy(prev, zero_hash, sizeof prev);
    if (rc == SQLITE_ROW) {
        seq = sqlite3_column_int64(q, 0) + 1;
        read_text(q, 1, prev, sizeof prev);
    } else if (rc != SQLITE_DONE) {
        r = stmt_fail(s, ST_CHAIN_HEAD, rc, err);
    }
    (void)stmt_release(s, ST_CHAIN_HEAD);
    if (r != WD_OK)
        return r;

    int64_t ts = s->now(s->now_ctx);
    chain_message(&b, cstr(prev), seq, ts, who, kind, entity, payload);
    r = sb_status(&b, "audit entry", err);
    if (r == WD_OK && !chain_digest(s, b.p, b.len, hash))
        r = wd_error_set(err, WD_EIO, "store: audit entry: SHA-256 failed");
    free(b.p);
    if (r != WD_OK)
        return r;

    q = s->stmt[ST_CHAIN_APPEND];
    rc = sqlite3_bind_int64(q, 1, seq);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(q, 2, ts);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(q, 3, who.p, (int)who.n, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(q, 4, kind.p, (int)kind.n, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(q, 5, entity.p, (int)entity.n, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(q, 6, payload.p, (int)payload.n, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(q, 7, prev, CHAIN_HASH_HEX, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(q, 8, hash, CHAIN_HASH_HEX, SQLITE_STATIC);
    return run_write(s, ST_CHAIN_APPEND, rc, err);
}

/* A caller's bounded field as a text (at most cap bytes, up to its NUL). */
static struct text field_text(const char *field, size_t cap)
{
    return (struct text){field, strnlen(field, cap)};
}

/* Appends the entry for one row of table t, keyed key (its text; an
 * INTEGER key is bound as a number): the row as stored now, with kind
 * "<table>.<verb>", or "<table>.delete" and payload null when it is gone. */
static enum wd_status chain_row(struct wd_store *s, enum audit_tbl t, struct text key,
                                struct text who, const char *verb, struct wd_error *err)
{
    const struct audit_table *at = &audit_tables[t];
    sqlite3_stmt *q = s->stmt[at->row];
    struct sbuf payload = {0};
    char kind[48];
    enum wd_status r = WD_OK;
    int rc;

    if (at->int_key) {
        char num[24];
        char *end = NULL;
        (void)snprintf(num, sizeof num, "%.*s", (int)(key.n < 23 ? key.n : 23), key.p);
        errno = 0;
        long long v = strtoll(num, &end, 10);
        rc = errno != 0 || end == num || *end != '\0' ? SQLITE_MISMATCH
                                                      : sqlite3_bind_int64(q, 1, v);
    } else {
        rc = sqlite3_bind_text(q, 1, key.p, (int)key.n, SQLITE_STATIC);
    }
    if (rc == SQLITE_OK)
        rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        row_json(q, 0, &payload);
        r = sb_status(&payload, "audit payload", err);
    } else if (rc == SQLITE_DONE) {
        verb = "delete";
        sb_puts(&payload, "null");
        r = sb_status(&payload, "audit payload", err);
    } else {
        r = stmt_fail(s, at->row, rc, err);
    }
    (void)stmt_release(s, at->row);
    if (r == WD_OK) {
        (void)snprintf(kind, sizeof kind, "%s.%s", at->name, verb);
        r = chain_append(s, who, cstr(kind), key, (struct text){payload.p, payload.len}, err);
    }
    free(payload.p);
    return r;
}

/* The chain entry of a row just inserted with an INTEGER key. */
static enum wd_status chain_rowid(struct wd_store *s, enum audit_tbl t, int64_t id,
                                  struct text who, const char *verb, struct wd_error *err)
{
    char num[24];
    int n = snprintf(num, sizeof num, "%lld", (long long)id);
    return chain_row(s, t, (struct text){num, (size_t)n}, who, verb, err);
}

enum wd_status wd_store_record_limit_change(struct wd_store *s, const char *who,
                                            const char *key, const char *old_value,
                                            const char *new_value, struct wd_error *err)
{
    struct sbuf b = {0};
    if (key == NULL || key[0] == '\0')
        return wd_error_set(err, WD_EINVAL, "store: limit change: empty key");
    sb_puts(&b, "{\"key\":");
    sb_json_str(&b, key, strlen(key));
    sb_puts(&b, ",\"old\":");
    sb_json_str(&b, old_value, strlen(old_value));
    sb_puts(&b, ",\"new\":");
    sb_json_str(&b, new_value, strlen(new_value));
    sb_puts(&b, "}");
    enum wd_status r = sb_status(&b, "limit change", err);
    if (r == WD_OK)
        r = wd_store_begin(s, err);
    if (r == WD_OK) {
        r = chain_append(s, field_text(who, WD_WHO_MAX), cstr("limits.change"), cstr(key),
                         (struct text){b.p, b.len}, err);
        if (r == WD_OK)
            r = wd_store_commit(s, err);
        else
            wd_store_rollback(s);
    }
    free(b.p);
    return r;
}

/* Chains every row the tables already hold, as "<table>.baseline" entries
 * by "warden" (the migration that creates the chain, in its transaction),
 * so that a store made before the chain verifies. */
static enum wd_status adopt_existing(struct wd_store *s, struct wd_error *err)
{
    enum wd_status r = WD_OK;
    for (int t = 0; t < AT_COUNT && r == WD_OK; t++) {
        const struct audit_table *at = &audit_tables[t];
        char sql[256], kind[48];
        if (at->schema > CHAIN_SCHEMA_VERSION)
            continue; /* created later, empty until then */
        sqlite3_stmt *q = NULL;
        (void)snprintf(sql, sizeof sql, "SELECT %s FROM %s ORDER BY %s", at->cols, at->name,
                       at->key);
        (void)snprintf(kind, sizeof kind, "%s.baseline", at->name);
        int rc = sqlite3_prepare_v2(s->db, sql, -1, &q, NULL);
        if (rc != SQLITE_OK)
            return db_fail(s, rc, "audit baseline", WD_EIO, err);
        while (r == WD_OK && (rc = sqlite3_step(q)) == SQLITE_ROW) {
            struct sbuf payload = {0};
            row_json(q, 0, &payload);
            r = sb_status(&payload, "audit baseline", err);
            if (r == WD_OK)
                r = chain_append(s, cstr("warden"), cstr(kind), col_text(q, 0),
                                 (struct text){payload.p, payload.len}, err);
            free(payload.p);
        }
        if (r == WD_OK && rc != SQLITE_DONE)
            r = db_fail(s, rc, "audit baseline", WD_EIO, err);
        sqlite3_finalize(q);
    }
    return r;
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

/* Prepares statement id unless it is already (the migration that creates
 * the chain prepares the chain's own statements early). */
static enum wd_status prepare_one(struct wd_store *s, enum stmt_id id, struct wd_error *err)
{
    if (s->stmt[id] != NULL)
        return WD_OK;
    int rc = sqlite3_prepare_v3(s->db, stmt_defs[id].sql, -1, SQLITE_PREPARE_PERSISTENT,
                                &s->stmt[id], NULL);
    if (rc != SQLITE_OK)
        return db_fail(s, rc, stmt_defs[id].op, WD_EIO, err);
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
        if (st == WD_OK && i + 1 == CHAIN_SCHEMA_VERSION) {
            st = prepare_one(s, ST_CHAIN_HEAD, err);
            if (st == WD_OK)
                st = prepare_one(s, ST_CHAIN_APPEND, err);
            if (st == WD_OK)
                st = adopt_existing(s, err);
        }
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
        enum wd_status st = prepare_one(s, (enum stmt_id)i, err);
        if (st != WD_OK)
            return st;
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
    wd_store_set_clock(s, NULL, NULL);

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
    if (s->chain_key != NULL) {
        OPENSSL_cleanse(s->chain_key, s->chain_key_len);
        free(s->chain_key);
    }
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

/* Leaves a transaction opened by wd_store_begin whose first write failed
 * and wrote nothing (SQLite undoes a failed statement): unlike a rollback,
 * it does not doom a caller's enclosing transaction. Returns r. */
static enum wd_status undo_begin(struct wd_store *s, enum wd_status r)
{
    if (s->depth == 1)
        wd_store_rollback(s);
    else if (s->depth > 1)
        s->depth--;
    return r;
}

/* Runs write statement id (parameters bound: bind_rc) and appends the
 * chain entry of the row of table t it wrote, in one transaction: the row
 * keyed key, or with key.p NULL the row it inserted, whose rowid goes to
 * *rowid. */
static enum wd_status write_audited(struct wd_store *s, enum stmt_id id, int bind_rc,
                                    enum audit_tbl t, struct text key, struct text who,
                                    const char *verb, int64_t *rowid, struct wd_error *err)
{
    enum wd_status r = wd_store_begin(s, err);
    if (r != WD_OK) {
        (void)stmt_release(s, id);
        return r;
    }
    r = run_write(s, id, bind_rc, err);
    if (r != WD_OK)
        return undo_begin(s, r);
    if (id == ST_INCIDENT_PUT && sqlite3_changes(s->db) == 0)
        return undo_begin(s, wd_error_set(err, WD_ESTATE,
                                          "store: put incident: %.*s is another incident's id"
                                          " (scenario, scope or input differ)",
                                          (int)key.n, key.p));
    if (key.p != NULL) {
        r = chain_row(s, t, key, who, verb, err);
    } else {
        /* Only this connection's INSERT can have set the row id in between. */
        *rowid = sqlite3_last_insert_rowid(s->db);
        r = chain_rowid(s, t, *rowid, who, verb, err);
    }
    if (r != WD_OK) {
        wd_store_rollback(s);
        return r;
    }
    return wd_store_commit(s, err);
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
    /* A replay's writes are warden's; otherwise whoever set the state. */
    struct text who = origin[0] != '\0' || st->by[0] == '\0' ? cstr("warden")
                                                              : field_text(st->by, sizeof st->by);
    r = chain_rowid(s, AT_HISTORY, sqlite3_last_insert_rowid(s->db), who, "append", err);
    if (r != WD_OK)
        goto fail;
    r = chain_row(s, AT_STATES, field_text(st->scope, sizeof st->scope), who, "put", err);
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
    int64_t id = 0;
    enum wd_status r = write_audited(s, ST_APPROVAL_ADD, rc, AT_APPROVALS, (struct text){NULL, 0},
                                     field_text(a->who, sizeof a->who), "add", &id, err);
    if (r == WD_OK)
        a->id = id;
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
    return wd_store_add_incident_as(s, r, "warden", err);
}

enum wd_status wd_store_add_incident_as(struct wd_store *s, const struct wd_incident_row *r,
                                        const char *who, struct wd_error *err)
{
    if (r->id[0] == '\0')
        return wd_error_set(err, WD_EINVAL, "store: add incident: empty id");
    return write_audited(s, ST_INCIDENT_ADD, bind_incident(s->stmt[ST_INCIDENT_ADD], r),
                         AT_INCIDENTS, field_text(r->id, sizeof r->id),
                         field_text(who, WD_WHO_MAX), "add", NULL, err);
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
    return write_audited(s, ST_INCIDENT_PUT, rc, AT_INCIDENTS, field_text(r->id, sizeof r->id),
                         cstr("warden"), "put", NULL, err);
}

/* Texts from malloc, each NUL-terminated. */
struct keys {
    char **v;
    size_t n, cap;
};

static void keys_free(struct keys *k)
{
    for (size_t i = 0; i < k->n; i++)
        free(k->v[i]);
    free(k->v);
}

static int bind_point(sqlite3_stmt *q, const char *origin, uint64_t after_event);

/* The first column of every row statement id returns for the point. */
static enum wd_status list_keys(struct wd_store *s, enum stmt_id id, const char *origin,
                                uint64_t after_event, struct keys *out, struct wd_error *err)
{
    enum wd_status r = WD_OK;
    sqlite3_stmt *q = s->stmt[id];
    int rc = bind_point(q, origin, after_event);
    while (rc == SQLITE_OK || rc == SQLITE_ROW) {
        if ((rc = sqlite3_step(q)) != SQLITE_ROW)
            break;
        r = grow((void **)&out->v, &out->cap, out->n + 1, sizeof *out->v, err);
        if (r != WD_OK)
            break;
        out->v[out->n] = dup_text(col_text(q, 0));
        if (out->v[out->n] == NULL) {
            r = wd_error_set(err, WD_ENOMEM, "store: rewind: out of memory");
            break;
        }
        out->n++;
    }
    if (r == WD_OK && rc != SQLITE_DONE)
        r = stmt_fail(s, id, rc, err);
    (void)stmt_release(s, id);
    return r;
}

/* Binds the (origin, after_event) pair of the rewind statements. */
static int bind_point(sqlite3_stmt *q, const char *origin, uint64_t after_event)
{
    int rc = sqlite3_bind_text(q, 1, origin, -1, SQLITE_TRANSIENT);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(q, 2, (sqlite3_int64)after_event);
    return rc;
}

static enum wd_status drop_record(struct wd_store *s, const char *id, struct wd_error *err);

enum wd_status wd_store_rewind(struct wd_store *s, const char *origin, uint64_t after_event,
                               struct wd_error *err)
{
    static const enum stmt_id steps[] = {ST_REWIND_INCIDENTS, ST_REWIND_STATES,
                                         ST_REWIND_STATES_DROP};
    struct keys incidents = {0}, scopes = {0};
    if (origin[0] == '\0')
        return wd_error_set(err, WD_EINVAL, "store: rewind: empty origin");
    enum wd_status r = wd_store_begin(s, err);
    if (r != WD_OK)
        return r;
    /* The rows it is about to change or delete, for the audit chain. */
    r = list_keys(s, ST_REWIND_WHICH_INCIDENTS, origin, after_event, &incidents, err);
    if (r == WD_OK)
        r = list_keys(s, ST_REWIND_WHICH_STATES, origin, after_event, &scopes, err);
    for (size_t i = 0; r == WD_OK && i < sizeof steps / sizeof steps[0]; i++)
        r = run_write(s, steps[i], bind_point(s->stmt[steps[i]], origin, after_event), err);
    for (size_t i = 0; r == WD_OK && i < incidents.n; i++) {
        r = chain_row(s, AT_INCIDENTS, cstr(incidents.v[i]), cstr("warden"), "delete", err);
        if (r == WD_OK)
            r = drop_record(s, incidents.v[i], err);
    }
    for (size_t i = 0; r == WD_OK && i < scopes.n; i++)
        r = chain_row(s, AT_STATES, cstr(scopes.v[i]), cstr("warden"), "put", err);
    keys_free(&incidents);
    keys_free(&scopes);
    if (r != WD_OK) {
        wd_store_rollback(s);
        return r;
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

enum wd_status wd_store_limit_in_force(struct wd_store *s, const char *key, char *value,
                                       size_t cap, bool *found, struct wd_error *err)
{
    enum wd_status r = WD_OK;
    sqlite3_stmt *q = s->stmt[ST_LIMIT_IN_FORCE];
    *found = false;
    int rc = sqlite3_bind_text(q, 1, key, -1, SQLITE_TRANSIENT);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        read_text(q, 0, value, cap);
        *found = true;
    } else if (rc != SQLITE_DONE) {
        r = stmt_fail(s, ST_LIMIT_IN_FORCE, rc, err);
    }
    (void)stmt_release(s, ST_LIMIT_IN_FORCE);
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

/* ---- the incident record (schema 4) ---------------------------------------- */

/* Child rows of an incident: where they are, how they are written. */
struct child_table {
    enum audit_tbl tbl;
    enum stmt_id put;  /* the upsert (incident ?1, pos ?2, then the columns) */
    enum stmt_id list; /* SELECT cols WHERE incident = ?1 ORDER BY pos (pos is column 1) */
    enum stmt_id del;  /* DELETE WHERE incident = ?1 AND pos = ?2 */
};

static const struct child_table child_roles = {AT_ROLES, ST_ROLE_PUT, ST_ROLE_LIST,
                                               ST_ROLE_DEL};
static const struct child_table child_checklist = {AT_CHECKLIST, ST_CHECK_PUT, ST_CHECK_LIST,
                                                   ST_CHECK_DEL};
static const struct child_table child_actions = {AT_ACTIONS, ST_ACTION_PUT, ST_ACTION_LIST,
                                                 ST_ACTION_DEL};

/* Roles as rows: the four single roles at positions 0..3, SMEs from 4. */
#define ROLE_POS_SME 4

/* The chain entity of child row n of incident id: "<id>#<n>". */
static struct text child_key(char *buf, size_t cap, struct text id, int64_t n)
{
    int len = snprintf(buf, cap, "%.*s#%lld", (int)id.n, id.p, (long long)n);
    return (struct text){buf, len > 0 && (size_t)len < cap ? (size_t)len : 0};
}

/* Runs upsert statement id (bound: bind_rc) and, when it changed the row,
 * appends the row's chain entry. Inside the caller's transaction. */
static enum wd_status put_changed(struct wd_store *s, enum stmt_id id, int bind_rc,
                                  enum audit_tbl t, struct text key, struct text who,
                                  struct wd_error *err)
{
    enum wd_status r = run_write(s, id, bind_rc, err);
    if (r == WD_OK && sqlite3_changes(s->db) > 0)
        r = chain_row(s, t, key, who, "put", err);
    return r;
}

/* Deletes (and chains the deletion of) the child rows of incident id whose
 * position is not in keep (bit pos; positions past 63 are never kept). */
static enum wd_status prune_children(struct wd_store *s, const struct child_table *c,
                                     struct text id, uint64_t keep, struct text who,
                                     struct wd_error *err)
{
    enum wd_status r = WD_OK;
    int64_t *gone = NULL;
    size_t n = 0, cap = 0;
    sqlite3_stmt *q = s->stmt[c->list];
    int rc = sqlite3_bind_text(q, 1, id.p, (int)id.n, SQLITE_STATIC);
    while (rc == SQLITE_OK || rc == SQLITE_ROW) {
        if ((rc = sqlite3_step(q)) != SQLITE_ROW)
            break;
        int64_t pos = sqlite3_column_int64(q, 1);
        if (pos >= 0 && pos < 64 && (keep & ((uint64_t)1 << pos)) != 0)
            continue;
        r = grow((void **)&gone, &cap, n + 1, sizeof *gone, err);
        if (r != WD_OK)
            break;
        gone[n++] = pos;
    }
    if (r == WD_OK && rc != SQLITE_DONE)
        r = stmt_fail(s, c->list, rc, err);
    (void)stmt_release(s, c->list);
    for (size_t i = 0; r == WD_OK && i < n; i++) {
        char buf[WD_INCIDENT_ID_MAX + 24];
        sqlite3_stmt *d = s->stmt[c->del];
        rc = sqlite3_bind_text(d, 1, id.p, (int)id.n, SQLITE_STATIC);
        if (rc == SQLITE_OK)
            rc = sqlite3_bind_int64(d, 2, gone[i]);
        r = run_write(s, c->del, rc, err);
        if (r == WD_OK)
            r = chain_row(s, c->tbl, child_key(buf, sizeof buf, id, gone[i]), who, "delete",
                          err);
    }
    free(gone);
    return r;
}

/* Deletes (and chains the deletion of) incident id's record row and its
 * roles, checklist and action rows: a rewind took the incident back. Its
 * timeline is append-only and stays: what the killed run wrote, honestly. */
static enum wd_status drop_record(struct wd_store *s, const char *id, struct wd_error *err)
{
    static const struct child_table *const children[] = {&child_roles, &child_checklist,
                                                         &child_actions};
    struct text key = cstr(id), who = cstr("warden");
    enum wd_status r = WD_OK;
    for (size_t i = 0; r == WD_OK && i < sizeof children / sizeof children[0]; i++)
        r = prune_children(s, children[i], key, 0, who, err);
    if (r == WD_OK)
        r = run_write(s, ST_RECORD_DEL,
                      sqlite3_bind_text(s->stmt[ST_RECORD_DEL], 1, id, -1, SQLITE_STATIC), err);
    if (r == WD_OK && sqlite3_changes(s->db) > 0)
        r = chain_row(s, AT_RECORDS, key, who, "delete", err);
    return r;
}

static enum wd_status check_record(const struct wd_incident *inc, const char *who,
                                   struct wd_error *err)
{
    if (wd_incident_id_parse(inc->id, NULL, NULL) != WD_OK)
        return wd_error_set(err, WD_EINVAL, "store: save incident: bad id '%.*s'",
                            (int)strnlen(inc->id, sizeof inc->id), inc->id);
    if ((unsigned)inc->scenario >= (unsigned)WD_SC__COUNT ||
        (unsigned)inc->severity > (unsigned)WD_P3 ||
        (unsigned)inc->status >= (unsigned)WD_INC__COUNT ||
        inc->escalation_noted > (uint8_t)WD_ESC_MANAGEMENT)
        return wd_error_set(err, WD_EINVAL, "store: save incident %s: an enum out of range",
                            inc->id);
    if (inc->n_smes > WD_INCIDENT_SME_MAX || inc->n_criteria > WD_INCIDENT_CRITERIA_MAX ||
        inc->n_actions > WD_INCIDENT_ACTION_MAX)
        return wd_error_set(err, WD_EINVAL, "store: save incident %s: a count out of range",
                            inc->id);
    if (who == NULL || who[0] == '\0')
        return wd_error_set(err, WD_EINVAL, "store: save incident %s: empty who", inc->id);
    return WD_OK;
}

/* WD_ESTATE when id is stored as another (scenario, scope). */
static enum wd_status check_same_incident(struct wd_store *s, const struct wd_incident *inc,
                                          struct text id, struct wd_error *err)
{
    enum wd_status r = WD_OK;
    sqlite3_stmt *q = s->stmt[ST_INC_GET];
    int rc = sqlite3_bind_text(q, 1, id.p, (int)id.n, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        struct text sc = col_text(q, 0), scope = col_text(q, 2);
        struct text want_sc = cstr(wd_scenario_name(inc->scenario));
        struct text want_scope = field_text(inc->scope, sizeof inc->scope);
        if (sc.n != want_sc.n || memcmp(sc.p, want_sc.p, sc.n) != 0 || scope.n != want_scope.n ||
            memcmp(scope.p, want_scope.p, scope.n) != 0)
            r = wd_error_set(err, WD_ESTATE,
                             "store: save incident: %.*s is another incident's id"
                             " (scenario or scope differ)",
                             (int)id.n, id.p);
    } else if (rc != SQLITE_DONE) {
        r = stmt_fail(s, ST_INC_GET, rc, err);
    }
    (void)stmt_release(s, ST_INC_GET);
    return r;
}

static int bind_incident_main(sqlite3_stmt *q, const struct wd_incident *inc)
{
    int rc = bind_field(q, 1, inc->id, sizeof inc->id);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(q, 2, wd_scenario_name(inc->scenario), -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(q, 3, wd_severity_name(inc->severity), -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = bind_field(q, 4, inc->scope, sizeof inc->scope);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(q, 5, wd_inc_status_name(inc->status), -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = bind_field(q, 6, inc->title, sizeof inc->title);
    if (rc == SQLITE_OK)
        rc = bind_field(q, 7, inc->detail, sizeof inc->detail);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(q, 8, inc->opened_ns);
    return rc;
}

static int bind_record(sqlite3_stmt *q, const struct wd_incident *inc)
{
    int rc = bind_field(q, 1, inc->id, sizeof inc->id);
    if (rc == SQLITE_OK)
        rc = bind_field(q, 2, inc->opened_by, sizeof inc->opened_by);
    const int64_t ints[] = {inc->acknowledged_ns, inc->resolved_ns, inc->closed_ns,
                            inc->updated_ns, inc->trading_halted, inc->pnl_open,
                            inc->pnl_resolved_known, inc->pnl_resolved_known ? inc->pnl_resolved : 0,
                            inc->ack_breach_noted, inc->resolve_breach_noted};
    for (int i = 0; rc == SQLITE_OK && i < (int)(sizeof ints / sizeof ints[0]); i++)
        rc = sqlite3_bind_int64(q, 3 + i, ints[i]);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(q, 13,
                               wd_escalation_name((enum wd_escalation)inc->escalation_noted), -1,
                               SQLITE_STATIC);
    return rc;
}

static enum wd_status save_role(struct wd_store *s, struct text id, int pos,
                                enum wd_inc_role role, const char *name, struct text who,
                                uint64_t *keep, struct wd_error *err)
{
    char buf[WD_INCIDENT_ID_MAX + 24];
    if (name[0] == '\0')
        return WD_OK; /* unassigned: no row */
    sqlite3_stmt *q = s->stmt[ST_ROLE_PUT];
    int rc = sqlite3_bind_text(q, 1, id.p, (int)id.n, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(q, 2, pos);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(q, 3, wd_inc_role_name(role), -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = bind_field(q, 4, name, WD_WHO_MAX);
    *keep |= (uint64_t)1 << pos;
    return put_changed(s, ST_ROLE_PUT, rc, AT_ROLES, child_key(buf, sizeof buf, id, pos), who,
                       err);
}

static enum wd_status save_roles(struct wd_store *s, const struct wd_incident *inc,
                                 struct text id, struct text who, struct wd_error *err)
{
    const char *const single[ROLE_POS_SME] = {inc->commander, inc->risk_officer,
                                              inc->tech_lead, inc->comms_lead};
    uint64_t keep = 0;
    enum wd_status r = WD_OK;
    for (int i = 0; r == WD_OK && i < ROLE_POS_SME; i++)
        r = save_role(s, id, i, (enum wd_inc_role)i, single[i], who, &keep, err);
    for (uint32_t i = 0; r == WD_OK && i < inc->n_smes; i++)
        r = save_role(s, id, ROLE_POS_SME + (int)i, WD_IR_SME, inc->smes[i], who, &keep, err);
    if (r == WD_OK)
        r = prune_children(s, &child_roles, id, keep, who, err);
    return r;
}

/* Binds item i of a list (parameters 3 on; 1 and 2 are incident and pos). */
typedef int (*item_binder)(sqlite3_stmt *q, const struct wd_incident *inc, uint32_t i);

static int bind_check(sqlite3_stmt *q, const struct wd_incident *inc, uint32_t i)
{
    const struct wd_inc_check *c = &inc->criteria[i];
    int rc = bind_field(q, 3, c->text, sizeof c->text);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(q, 4, c->done);
    if (rc == SQLITE_OK)
        rc = bind_field(q, 5, c->who, sizeof c->who);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(q, 6, c->when_ns);
    return rc;
}

static int bind_action(sqlite3_stmt *q, const struct wd_incident *inc, uint32_t i)
{
    const struct wd_inc_action *a = &inc->actions[i];
    int rc = bind_field(q, 3, a->text, sizeof a->text);
    if (rc == SQLITE_OK)
        rc = bind_field(q, 4, a->owner, sizeof a->owner);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(q, 5, a->due_ns);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(q, 6, a->done);
    if (rc == SQLITE_OK)
        rc = bind_field(q, 7, a->done_by, sizeof a->done_by);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(q, 8, a->done_ns);
    return rc;
}

/* Items 0..n-1 of a list at positions 0..n-1; rows past n deleted. */
static enum wd_status save_list(struct wd_store *s, const struct wd_incident *inc,
                                const struct child_table *c, uint32_t n, item_binder bind,
                                struct text id, struct text who, struct wd_error *err)
{
    enum wd_status r = WD_OK;
    for (uint32_t i = 0; r == WD_OK && i < n; i++) {
        char buf[WD_INCIDENT_ID_MAX + 24];
        sqlite3_stmt *q = s->stmt[c->put];
        int rc = sqlite3_bind_text(q, 1, id.p, (int)id.n, SQLITE_STATIC);
        if (rc == SQLITE_OK)
            rc = sqlite3_bind_int64(q, 2, i);
        if (rc == SQLITE_OK)
            rc = bind(q, inc, i);
        r = put_changed(s, c->put, rc, c->tbl, child_key(buf, sizeof buf, id, i), who, err);
    }
    if (r == WD_OK)
        r = prune_children(s, c, id, ((uint64_t)1 << n) - 1, who, err);
    return r;
}

enum wd_status wd_store_incident_save(struct wd_store *s, const struct wd_incident *inc,
                                      const char *who, struct wd_error *err)
{
    enum wd_status r = check_record(inc, who, err);
    if (r != WD_OK)
        return r;
    struct text id = field_text(inc->id, sizeof inc->id);
    struct text w = field_text(who, WD_WHO_MAX);
    r = wd_store_begin(s, err);
    if (r != WD_OK)
        return r;
    r = check_same_incident(s, inc, id, err);
    if (r != WD_OK)
        return undo_begin(s, r);
    r = put_changed(s, ST_INC_SAVE, bind_incident_main(s->stmt[ST_INC_SAVE], inc), AT_INCIDENTS,
                    id, w, err);
    if (r == WD_OK)
        r = put_changed(s, ST_REC_PUT, bind_record(s->stmt[ST_REC_PUT], inc), AT_RECORDS, id, w,
                        err);
    if (r == WD_OK)
        r = save_roles(s, inc, id, w, err);
    if (r == WD_OK)
        r = save_list(s, inc, &child_checklist, inc->n_criteria, bind_check, id, w, err);
    if (r == WD_OK)
        r = save_list(s, inc, &child_actions, inc->n_actions, bind_action, id, w, err);
    if (r != WD_OK) {
        wd_store_rollback(s);
        return r;
    }
    return wd_store_commit(s, err);
}

/* ---- loading a record ---- */

/* The shared columns (ST_INC_GET's row) into inc. */
static enum wd_status read_incident_main(sqlite3_stmt *q, struct wd_incident *inc,
                                         struct wd_error *err)
{
    char name[WD_SCENARIO_MAX];
    read_text(q, 0, name, sizeof name);
    if (wd_scenario_parse(name, &inc->scenario) != WD_OK)
        return wd_error_set(err, WD_EIO, "store: incident %s has an unknown scenario '%s'",
                            inc->id, name);
    read_text(q, 1, name, sizeof name);
    if (wd_severity_parse(name, &inc->severity) != WD_OK)
        return wd_error_set(err, WD_EIO, "store: incident %s has an unknown severity '%s'",
                            inc->id, name);
    read_text(q, 2, inc->scope, sizeof inc->scope);
    read_text(q, 3, name, sizeof name);
    if (wd_inc_status_parse(name, &inc->status) != WD_OK)
        return wd_error_set(err, WD_EIO, "store: incident %s has an unknown status '%s'",
                            inc->id, name);
    read_text(q, 4, inc->title, sizeof inc->title);
    read_text(q, 5, inc->detail, sizeof inc->detail);
    inc->opened_ns = sqlite3_column_int64(q, 6);
    return WD_OK;
}

/* An incident with only its minimal row: opened by warden, unchanged since,
 * its scenario's recovery criteria unticked. */
static void minimal_record(struct wd_incident *inc)
{
    const char *const *crit = wd_scenario_recovery_criteria(inc->scenario);
    (void)snprintf(inc->opened_by, sizeof inc->opened_by, "warden");
    inc->updated_ns = inc->opened_ns;
    for (size_t i = 0; crit != NULL && crit[i] != NULL && i < WD_INCIDENT_CRITERIA_MAX; i++) {
        (void)snprintf(inc->criteria[i].text, sizeof inc->criteria[i].text, "%s", crit[i]);
        inc->n_criteria++;
    }
}

/* The incident_records row (AUDIT_RECORD_COLS) into inc. */
static enum wd_status read_record(sqlite3_stmt *q, struct wd_incident *inc,
                                  struct wd_error *err)
{
    char esc[24];
    read_text(q, 1, inc->opened_by, sizeof inc->opened_by);
    inc->acknowledged_ns = sqlite3_column_int64(q, 2);
    inc->resolved_ns = sqlite3_column_int64(q, 3);
    inc->closed_ns = sqlite3_column_int64(q, 4);
    inc->updated_ns = sqlite3_column_int64(q, 5);
    inc->trading_halted = sqlite3_column_int64(q, 6) != 0;
    inc->pnl_open = sqlite3_column_int64(q, 7);
    inc->pnl_resolved_known = sqlite3_column_int64(q, 8) != 0;
    inc->pnl_resolved = sqlite3_column_int64(q, 9);
    inc->ack_breach_noted = sqlite3_column_int64(q, 10) != 0;
    inc->resolve_breach_noted = sqlite3_column_int64(q, 11) != 0;
    read_text(q, 12, esc, sizeof esc);
    for (int e = WD_ESC_ON_CALL; e <= WD_ESC_MANAGEMENT; e++) {
        if (strcmp(esc, wd_escalation_name((enum wd_escalation)e)) == 0) {
            inc->escalation_noted = (uint8_t)e;
            return WD_OK;
        }
    }
    return wd_error_set(err, WD_EIO, "store: incident %s has an unknown escalation '%s'",
                        inc->id, esc);
}

/* One child row (pos is column 1) into inc. */
typedef enum wd_status (*child_reader)(sqlite3_stmt *q, int64_t pos, struct wd_incident *inc,
                                       struct wd_error *err);

static enum wd_status read_role(sqlite3_stmt *q, int64_t pos, struct wd_incident *inc,
                                struct wd_error *err)
{
    char *single[ROLE_POS_SME] = {inc->commander, inc->risk_officer, inc->tech_lead,
                                  inc->comms_lead};
    char role[24];
    enum wd_inc_role want = pos < ROLE_POS_SME ? (enum wd_inc_role)pos : WD_IR_SME;
    read_text(q, 2, role, sizeof role);
    if (pos < 0 || pos >= ROLE_POS_SME + WD_INCIDENT_SME_MAX ||
        strcmp(role, wd_inc_role_name(want)) != 0 ||
        (pos >= ROLE_POS_SME && pos != ROLE_POS_SME + (int64_t)inc->n_smes))
        return wd_error_set(err, WD_EIO, "store: incident %s: role row %lld ('%s') out of place",
                            inc->id, (long long)pos, role);
    if (pos < ROLE_POS_SME) {
        read_text(q, 3, single[pos], WD_WHO_MAX);
    } else {
        read_text(q, 3, inc->smes[inc->n_smes], sizeof inc->smes[0]);
        inc->n_smes++;
    }
    return WD_OK;
}

static enum wd_status read_check(sqlite3_stmt *q, int64_t pos, struct wd_incident *inc,
                                 struct wd_error *err)
{
    if (pos != (int64_t)inc->n_criteria || pos >= WD_INCIDENT_CRITERIA_MAX)
        return wd_error_set(err, WD_EIO, "store: incident %s: checklist row %lld out of place",
                            inc->id, (long long)pos);
    struct wd_inc_check *c = &inc->criteria[inc->n_criteria++];
    read_text(q, 2, c->text, sizeof c->text);
    c->done = sqlite3_column_int64(q, 3) != 0;
    read_text(q, 4, c->who, sizeof c->who);
    c->when_ns = sqlite3_column_int64(q, 5);
    return WD_OK;
}

static enum wd_status read_action(sqlite3_stmt *q, int64_t pos, struct wd_incident *inc,
                                  struct wd_error *err)
{
    if (pos != (int64_t)inc->n_actions || pos >= WD_INCIDENT_ACTION_MAX)
        return wd_error_set(err, WD_EIO, "store: incident %s: action row %lld out of place",
                            inc->id, (long long)pos);
    struct wd_inc_action *a = &inc->actions[inc->n_actions++];
    read_text(q, 2, a->text, sizeof a->text);
    read_text(q, 3, a->owner, sizeof a->owner);
    a->due_ns = sqlite3_column_int64(q, 4);
    a->done = sqlite3_column_int64(q, 5) != 0;
    read_text(q, 6, a->done_by, sizeof a->done_by);
    a->done_ns = sqlite3_column_int64(q, 7);
    return WD_OK;
}

static enum wd_status read_children(struct wd_store *s, enum stmt_id list, struct text id,
                                    child_reader read, struct wd_incident *inc,
                                    struct wd_error *err)
{
    enum wd_status r = WD_OK;
    sqlite3_stmt *q = s->stmt[list];
    int rc = sqlite3_bind_text(q, 1, id.p, (int)id.n, SQLITE_STATIC);
    while (r == WD_OK && (rc == SQLITE_OK || rc == SQLITE_ROW)) {
        if ((rc = sqlite3_step(q)) == SQLITE_ROW)
            r = read(q, sqlite3_column_int64(q, 1), inc, err);
    }
    if (r == WD_OK && rc != SQLITE_DONE)
        r = stmt_fail(s, list, rc, err);
    (void)stmt_release(s, list);
    return r;
}

/* Loads into *v (zeroed first); *found false when the id has no row. */
static enum wd_status load_record(struct wd_store *s, struct text id, struct wd_incident *v,
                                  bool *found, struct wd_error *err)
{
    enum wd_status r = WD_OK;
    bool has_record = false;

    memset(v, 0, sizeof *v);
    *found = false;
    (void)snprintf(v->id, sizeof v->id, "%.*s", (int)id.n, id.p);
    sqlite3_stmt *q = s->stmt[ST_INC_GET];
    int rc = sqlite3_bind_text(q, 1, id.p, (int)id.n, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        r = read_incident_main(q, v, err);
        *found = r == WD_OK;
    } else if (rc != SQLITE_DONE) {
        r = stmt_fail(s, ST_INC_GET, rc, err);
    }
    (void)stmt_release(s, ST_INC_GET);
    if (r != WD_OK || !*found)
        return r;

    q = s->stmt[ST_ROW_RECORD];
    rc = sqlite3_bind_text(q, 1, id.p, (int)id.n, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        has_record = true;
        r = read_record(q, v, err);
    } else if (rc != SQLITE_DONE) {
        r = stmt_fail(s, ST_ROW_RECORD, rc, err);
    }
    (void)stmt_release(s, ST_ROW_RECORD);
    if (r == WD_OK && !has_record) {
        minimal_record(v);
        return WD_OK;
    }
    if (r == WD_OK)
        r = read_children(s, ST_ROLE_LIST, id, read_role, v, err);
    if (r == WD_OK)
        r = read_children(s, ST_CHECK_LIST, id, read_check, v, err);
    if (r == WD_OK)
        r = read_children(s, ST_ACTION_LIST, id, read_action, v, err);
    if (r != WD_OK)
        *found = false;
    return r;
}

/* Loads and reads in one read transaction, so that the rows of a record
 * are seen at one point in time. */
static enum wd_status read_begin(struct wd_store *s, bool *own, struct wd_error *err)
{
    *own = s->depth == 0;
    return *own ? exec_sql(s, "BEGIN", "read incident", err) : WD_OK;
}

static void read_end(struct wd_store *s, bool own)
{
    if (own)
        (void)sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
}

enum wd_status wd_store_incident_load(struct wd_store *s, const char *id,
                                      struct wd_incident *out, bool *found,
                                      struct wd_error *err)
{
    bool own = false;
    *found = false;
    if (id == NULL || strnlen(id, WD_INCIDENT_ID_MAX) >= WD_INCIDENT_ID_MAX)
        return WD_OK; /* longer than any id: none */
    struct wd_incident *v = malloc(sizeof *v);
    if (v == NULL)
        return wd_error_set(err, WD_ENOMEM, "store: load incident: out of memory");
    enum wd_status r = read_begin(s, &own, err);
    if (r == WD_OK) {
        r = load_record(s, cstr(id), v, found, err);
        read_end(s, own);
    }
    if (r == WD_OK && *found)
        memcpy(out, v, sizeof *v);
    free(v);
    return r;
}

enum wd_status wd_store_incident_list_records(struct wd_store *s, bool active_only,
                                              struct wd_incident **out, size_t *n,
                                              struct wd_error *err)
{
    struct keys ids = {0};
    struct wd_incident *arr = NULL;
    size_t len = 0;
    bool own = false;
    int rc;

    *out = NULL;
    *n = 0;
    enum wd_status r = read_begin(s, &own, err);
    if (r != WD_OK)
        return r;
    sqlite3_stmt *q = s->stmt[ST_INC_IDS];
    rc = sqlite3_bind_int(q, 1, active_only ? 1 : 0);
    while (r == WD_OK && (rc == SQLITE_OK || rc == SQLITE_ROW)) {
        if ((rc = sqlite3_step(q)) != SQLITE_ROW)
            break;
        r = grow((void **)&ids.v, &ids.cap, ids.n + 1, sizeof *ids.v, err);
        if (r == WD_OK && (ids.v[ids.n] = dup_text(col_text(q, 0))) == NULL)
            r = wd_error_set(err, WD_ENOMEM, "store: list incident records: out of memory");
        if (r == WD_OK)
            ids.n++;
    }
    if (r == WD_OK && rc != SQLITE_DONE)
        r = stmt_fail(s, ST_INC_IDS, rc, err);
    (void)stmt_release(s, ST_INC_IDS);
    if (r == WD_OK && ids.n > 0) {
        size_t cap = 0;
        r = grow((void **)&arr, &cap, ids.n, sizeof *arr, err);
    }
    for (size_t i = 0; r == WD_OK && i < ids.n; i++) {
        bool found = false;
        r = load_record(s, cstr(ids.v[i]), &arr[len], &found, err);
        if (r == WD_OK && found)
            len++;
    }
    read_end(s, own);
    keys_free(&ids);
    if (r != WD_OK) {
        free(arr);
        return r;
    }
    *out = arr;
    *n = len;
    return WD_OK;
}

enum wd_status wd_store_incident_find_active(struct wd_store *s, enum wd_scenario scenario,
                                             const char *scope, char id[WD_INCIDENT_ID_MAX],
                                             bool *found, struct wd_error *err)
{
    enum wd_status r = WD_OK;
    sqlite3_stmt *q = s->stmt[ST_INC_ACTIVE];

    *found = false;
    if ((unsigned)scenario >= (unsigned)WD_SC__COUNT)
        return wd_error_set(err, WD_EINVAL, "store: find active incident: bad scenario %d",
                            (int)scenario);
    int rc = sqlite3_bind_text(q, 1, wd_scenario_name(scenario), -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = bind_str(q, 2, scope);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        read_text(q, 0, id, WD_INCIDENT_ID_MAX);
        *found = true;
    } else if (rc != SQLITE_DONE) {
        r = stmt_fail(s, ST_INC_ACTIVE, rc, err);
    }
    (void)stmt_release(s, ST_INC_ACTIVE);
    return r;
}

/* ---- the timeline ---- */

enum wd_status wd_store_timeline_append(struct wd_store *s, const struct wd_timeline_entry *e,
                                        struct wd_error *err)
{
    char buf[WD_INCIDENT_ID_MAX + 24];
    int64_t seq = 0;

    if (wd_incident_id_parse(e->incident, NULL, NULL) != WD_OK)
        return wd_error_set(err, WD_EINVAL, "store: append timeline: bad incident id '%.*s'",
                            (int)strnlen(e->incident, sizeof e->incident), e->incident);
    if ((unsigned)e->kind >= (unsigned)WD_TL__COUNT)
        return wd_error_set(err, WD_EINVAL, "store: append timeline: bad kind %d",
                            (int)e->kind);
    if (e->who[0] == '\0')
        return wd_error_set(err, WD_EINVAL, "store: append timeline: empty who");
    struct text id = field_text(e->incident, sizeof e->incident);
    enum wd_status r = wd_store_begin(s, err);
    if (r != WD_OK)
        return r;
    sqlite3_stmt *q = s->stmt[ST_TL_NEXT];
    int rc = sqlite3_bind_text(q, 1, id.p, (int)id.n, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(q);
    if (rc == SQLITE_ROW)
        seq = sqlite3_column_int64(q, 0);
    else
        r = stmt_fail(s, ST_TL_NEXT, rc == SQLITE_DONE ? SQLITE_ERROR : rc, err);
    (void)stmt_release(s, ST_TL_NEXT);
    if (r != WD_OK)
        return undo_begin(s, r);

    q = s->stmt[ST_TL_APPEND];
    rc = sqlite3_bind_text(q, 1, id.p, (int)id.n, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(q, 2, seq);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(q, 3, e->ts_ns);
    if (rc == SQLITE_OK)
        rc = bind_field(q, 4, e->who, sizeof e->who);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(q, 5, wd_tl_kind_name(e->kind), -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = bind_field(q, 6, e->from, sizeof e->from);
    if (rc == SQLITE_OK)
        rc = bind_field(q, 7, e->to, sizeof e->to);
    if (rc == SQLITE_OK)
        rc = bind_field(q, 8, e->text, sizeof e->text);
    r = run_write(s, ST_TL_APPEND, rc, err);
    if (r != WD_OK)
        return undo_begin(s, r);
    r = chain_row(s, AT_TIMELINE, child_key(buf, sizeof buf, id, seq),
                  field_text(e->who, sizeof e->who), "append", err);
    if (r == WD_OK && s->tl_hook != NULL)
        r = s->tl_hook(s->tl_hook_ctx, s, e, err); /* same transaction: notifications */
    if (r != WD_OK) {
        wd_store_rollback(s);
        return r;
    }
    return wd_store_commit(s, err);
}

enum wd_status wd_store_timeline_list(struct wd_store *s, const char *id,
                                      struct wd_timeline_entry **out, size_t *n,
                                      struct wd_error *err)
{
    enum wd_status r = WD_OK;
    sqlite3_stmt *q = s->stmt[ST_TL_LIST];
    struct wd_timeline_entry *arr = NULL;
    size_t len = 0, cap = 0;
    char kind[24];

    *out = NULL;
    *n = 0;
    int rc = bind_str(q, 1, id);
    while (r == WD_OK && (rc == SQLITE_OK || rc == SQLITE_ROW)) {
        if ((rc = sqlite3_step(q)) != SQLITE_ROW)
            break;
        r = grow((void **)&arr, &cap, len + 1, sizeof *arr, err);
        if (r != WD_OK)
            break;
        struct wd_timeline_entry *e = &arr[len];
        memset(e, 0, sizeof *e);
        read_text(q, 0, e->incident, sizeof e->incident);
        e->ts_ns = sqlite3_column_int64(q, 2);
        read_text(q, 3, e->who, sizeof e->who);
        read_text(q, 4, kind, sizeof kind);
        if (wd_tl_kind_parse(kind, &e->kind) != WD_OK) {
            r = wd_error_set(err, WD_EIO, "store: timeline of %s: entry %lld has an unknown"
                             " kind '%s'",
                             e->incident, (long long)sqlite3_column_int64(q, 1), kind);
            break;
        }
        read_text(q, 5, e->from, sizeof e->from);
        read_text(q, 6, e->to, sizeof e->to);
        read_text(q, 7, e->text, sizeof e->text);
        len++;
    }
    if (r == WD_OK && rc != SQLITE_DONE)
        r = stmt_fail(s, ST_TL_LIST, rc, err);
    (void)stmt_release(s, ST_TL_LIST);
    if (r != WD_OK) {
        free(arr);
        return r;
    }
    *out = arr;
    *n = len;
    return WD_OK;
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

/* ---- audit verification ---------------------------------------------------- */

/* What the chain says one row of an audited table is now. */
struct expect {
    int tbl;
    int64_t ikey;     /* INTEGER keys */
    char *key;        /* from malloc: the entity text */
    int64_t seq;      /* the latest entry for the row */
    char *payload;    /* from malloc; NULL: deleted */
};

struct expects {
    struct expect *v;
    size_t n, cap;
};

static void expects_free(struct expects *e)
{
    for (size_t i = 0; i < e->n; i++) {
        free(e->v[i].key);
        free(e->v[i].payload);
    }
    free(e->v);
}

static int key_cmp(int tbl, int64_t ia, const char *a, int64_t ib, const char *b)
{
    if (audit_tables[tbl].int_key)
        return ia < ib ? -1 : ia > ib;
    return strcmp(a, b);
}

static int expect_cmp(const void *pa, const void *pb)
{
    const struct expect *a = pa, *b = pb;
    if (a->tbl != b->tbl)
        return a->tbl < b->tbl ? -1 : 1;
    int c = key_cmp(a->tbl, a->ikey, a->key, b->ikey, b->key);
    if (c != 0)
        return c;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static void report_entry(struct wd_audit_report *rep, int64_t seq, const char *fmt, ...)
    WD_PRINTF(3, 4);

static void report_entry(struct wd_audit_report *rep, int64_t seq, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    rep->intact = false;
    rep->bad_seq = seq > 0 ? (uint64_t)seq : 0;
    (void)vsnprintf(rep->msg, sizeof rep->msg, fmt, ap);
    va_end(ap);
}

/* Parses "<table>.<verb>"; -1 for a kind with no table (limits.change),
 * -2 for an unknown kind. */
static int kind_table(struct text kind, bool *deleted)
{
    static const char *const other[] = {"limits.change"};
    for (size_t i = 0; i < sizeof other / sizeof other[0]; i++) {
        if (kind.n == strlen(other[i]) && memcmp(kind.p, other[i], kind.n) == 0)
            return -1;
    }
    for (int t = 0; t < AT_COUNT; t++) {
        size_t ln = strlen(audit_tables[t].name);
        if (kind.n > ln + 1 && memcmp(kind.p, audit_tables[t].name, ln) == 0 &&
            kind.p[ln] == '.') {
            static const char *const verbs[] = {"put", "add", "append", "baseline", "delete"};
            struct text verb = {kind.p + ln + 1, kind.n - ln - 1};
            for (size_t v = 0; v < sizeof verbs / sizeof verbs[0]; v++) {
                if (verb.n == strlen(verbs[v]) && memcmp(verb.p, verbs[v], verb.n) == 0) {
                    *deleted = v == 4;
                    return t;
                }
            }
        }
    }
    return -2;
}

/* Walks the chain: seq continuity, links, hashes; collects what it says
 * each audited row is. Stops at the first bad entry (rep->intact false). */
static enum wd_status walk_chain(struct wd_store *s, struct wd_audit_report *rep,
                                 struct expects *ex, struct wd_error *err)
{
    enum wd_status r = WD_OK;
    sqlite3_stmt *q = NULL;
    struct sbuf b = {0};
    char prev[CHAIN_HASH_HEX + 1], hash[CHAIN_HASH_HEX + 1];
    int64_t want = 1;
    int rc = sqlite3_prepare_v2(s->db,
                                "SELECT seq, ts_ns, who, kind, entity, payload, prev_hash, hash"
                                " FROM audit_chain ORDER BY seq",
                                -1, &q, NULL);
    if (rc != SQLITE_OK)
        return db_fail(s, rc, "audit verify", WD_EIO, err);
    memcpy(prev, zero_hash, sizeof prev);
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        int64_t seq = sqlite3_column_int64(q, 0);
        struct text who = col_text(q, 2), kind = col_text(q, 3), entity = col_text(q, 4),
                    payload = col_text(q, 5), prev_hash = col_text(q, 6),
                    stored = col_text(q, 7);
        if (seq > want) {
            report_entry(rep, want,
                         "entry %lld is missing: the chain goes from %lld to %lld"
                         " (deleted)",
                         (long long)want, (long long)(want - 1), (long long)seq);
            goto out;
        }
        if (seq != want) {
            report_entry(rep, want, "entry %lld: found seq %lld in its place", (long long)want,
                         (long long)seq);
            goto out;
        }
        if (prev_hash.n != CHAIN_HASH_HEX || memcmp(prev_hash.p, prev, CHAIN_HASH_HEX) != 0) {
            report_entry(rep, seq,
                         want == 1 ? "entry %lld: prev_hash is not the genesis value (64 zeros)"
                                   : "entry %lld: prev_hash does not match the hash of the entry"
                                     " before it (entries reordered, removed or rewritten)",
                         (long long)seq);
            goto out;
        }
        chain_message(&b, prev_hash, seq, sqlite3_column_int64(q, 1), who, kind, entity,
                      payload);
        r = sb_status(&b, "audit verify", err);
        if (r != WD_OK)
            goto out;
        if (!chain_digest(s, b.p, b.len, hash)) {
            r = wd_error_set(err, WD_EIO, "store: audit verify: SHA-256 failed");
            goto out;
        }
        if (stored.n != CHAIN_HASH_HEX || memcmp(stored.p, hash, CHAIN_HASH_HEX) != 0) {
            report_entry(rep, seq,
                         "entry %lld: hash does not match its contents (the entry or its hash"
                         " was edited, or the chain key is not the one it was written with)",
                         (long long)seq);
            goto out;
        }
        bool deleted = false;
        int t = kind_table(kind, &deleted);
        if (t == -2) {
            report_entry(rep, seq, "entry %lld: unknown kind '%.40s'", (long long)seq,
                         kind.p);
            goto out;
        }
        if (t >= 0) {
            r = grow((void **)&ex->v, &ex->cap, ex->n + 1, sizeof *ex->v, err);
            if (r != WD_OK)
                goto out;
            struct expect *e = &ex->v[ex->n];
            memset(e, 0, sizeof *e);
            e->tbl = t;
            e->seq = seq;
            e->key = dup_text(entity);
            e->payload = deleted ? NULL : dup_text(payload);
            if (e->key == NULL || (!deleted && e->payload == NULL)) {
                free(e->key);
                free(e->payload);
                r = wd_error_set(err, WD_ENOMEM, "store: audit verify: out of memory");
                goto out;
            }
            e->ikey = audit_tables[t].int_key ? strtoll(e->key, NULL, 10) : 0;
            ex->n++;
        }
        memcpy(prev, hash, sizeof prev);
        rep->entries = (uint64_t)want;
        want++;
    }
    if (rc != SQLITE_DONE)
        r = db_fail(s, rc, "audit verify", WD_EIO, err);
    else if (rep->entries > 0)
        memcpy(rep->head_hash, prev, sizeof rep->head_hash);
out:
    free(b.p);
    sqlite3_finalize(q);
    return r;
}

static void report_row(struct wd_audit_report *rep, int tbl, const char *key, const char *fmt,
                       ...) WD_PRINTF(4, 5);

static void report_row(struct wd_audit_report *rep, int tbl, const char *key, const char *fmt,
                       ...)
{
    va_list ap;
    char what[192];
    va_start(ap, fmt);
    (void)vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    rep->intact = false;
    (void)snprintf(rep->table, sizeof rep->table, "%s", audit_tables[tbl].name);
    (void)snprintf(rep->key, sizeof rep->key, "%s", key);
    (void)snprintf(rep->msg, sizeof rep->msg, "%s row %.80s: %s", audit_tables[tbl].name, key,
                   what);
}

/* Compares table tbl, row by row in key order, with the rows the chain
 * says it holds (ex[lo..hi), sorted by key, one per key). */
static enum wd_status compare_table(struct wd_store *s, int tbl, const struct expect *ex,
                                    size_t n, struct wd_audit_report *rep, struct wd_error *err)
{
    const struct audit_table *at = &audit_tables[tbl];
    enum wd_status r = WD_OK;
    sqlite3_stmt *q = NULL;
    struct sbuf b = {0};
    char sql[512];
    size_t i = 0;
    /* The key first (column 0), then the payload's columns. */
    (void)snprintf(sql, sizeof sql, "SELECT %s, %s FROM %s ORDER BY 1", at->key, at->cols,
                   at->name);
    int rc = sqlite3_prepare_v2(s->db, sql, -1, &q, NULL);
    if (rc != SQLITE_OK)
        return db_fail(s, rc, "audit verify", WD_EIO, err);
    for (;;) {
        while (i < n && ex[i].payload == NULL)
            i++; /* deleted: must not be in the table (an extra row if it is) */
        rc = sqlite3_step(q);
        if (rc != SQLITE_ROW)
            break;
        rep->rows++;
        int64_t ikey = sqlite3_column_int64(q, 0);
        char *key = dup_text(col_text(q, 0));
        if (key == NULL) {
            r = wd_error_set(err, WD_ENOMEM, "store: audit verify: out of memory");
            goto out;
        }
        int c = i < n ? key_cmp(tbl, ikey, key, ex[i].ikey, ex[i].key) : -1;
        if (c > 0) {
            report_row(rep, tbl, ex[i].key,
                       "missing: entry %lld records it (deleted behind warden's back)",
                       (long long)ex[i].seq);
        } else if (c < 0) {
            report_row(rep, tbl, key, "not in the audit chain (inserted behind warden's back)");
        } else {
            b.len = 0;
            row_json(q, 1, &b);
            r = sb_status(&b, "audit verify", err);
            if (r == WD_OK && strcmp(b.p, ex[i].payload) != 0)
                report_row(rep, tbl, key,
                           "differs from entry %lld (edited behind warden's back)",
                           (long long)ex[i].seq);
            i++;
        }
        free(key);
        if (r != WD_OK || !rep->intact)
            goto out;
    }
    if (rc != SQLITE_DONE) {
        r = db_fail(s, rc, "audit verify", WD_EIO, err);
        goto out;
    }
    if (i < n)
        report_row(rep, tbl, ex[i].key,
                   "missing: entry %lld records it (deleted behind warden's back)",
                   (long long)ex[i].seq);
out:
    free(b.p);
    sqlite3_finalize(q);
    return r;
}

enum wd_status wd_store_audit_verify(struct wd_store *s, struct wd_audit_report *rep,
                                     struct wd_error *err)
{
    struct expects ex = {0};
    bool own_txn = s->depth == 0;
    enum wd_status r;

    memset(rep, 0, sizeof *rep);
    rep->intact = true;
    /* One read transaction: the chain and the tables are seen at one
     * point in time, whatever other writers do meanwhile (WAL). */
    if (own_txn && (r = exec_sql(s, "BEGIN", "audit verify", err)) != WD_OK)
        return r;
    r = walk_chain(s, rep, &ex, err);
    if (r != WD_OK || !rep->intact)
        goto out;
    /* The latest entry of each row says what it is now. */
    if (ex.n > 1)
        qsort(ex.v, ex.n, sizeof *ex.v, expect_cmp);
    size_t w = 0;
    for (size_t i = 0; i < ex.n; i++) {
        if (w > 0 && ex.v[w - 1].tbl == ex.v[i].tbl &&
            key_cmp(ex.v[i].tbl, ex.v[w - 1].ikey, ex.v[w - 1].key, ex.v[i].ikey,
                    ex.v[i].key) == 0) {
            free(ex.v[w - 1].key);
            free(ex.v[w - 1].payload);
            ex.v[w - 1] = ex.v[i];
        } else {
            ex.v[w++] = ex.v[i];
        }
    }
    ex.n = w;
    size_t lo = 0;
    for (int t = 0; t < AT_COUNT && r == WD_OK && rep->intact; t++) {
        size_t hi = lo;
        while (hi < ex.n && ex.v[hi].tbl == t)
            hi++;
        r = compare_table(s, t, hi > lo ? ex.v + lo : NULL, hi - lo, rep, err);
        lo = hi;
    }
out:
    if (own_txn)
        (void)sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
    expects_free(&ex);
    if (r != WD_OK)
        rep->intact = false;
    else if (rep->intact)
        (void)snprintf(rep->msg, sizeof rep->msg,
                       "intact: %llu entries, %llu rows of scope_states, state_history,"
                       " approvals, incidents and the incident records as the chain"
                       " records them",
                       (unsigned long long)rep->entries, (unsigned long long)rep->rows);
    return r;
}

/* ---- evidence (read-only) --------------------------------------------------- */

int wd_store_schema_version(void) { return SCHEMA_VERSION; }

enum wd_status wd_store_chain_excerpt(struct wd_store *s, const char *entity, wd_chain_fn fn,
                                      void *ctx, struct wd_error *err)
{
    sqlite3_stmt *q = NULL;
    enum wd_status r = WD_OK;
    /* One statement, so one read transaction: the head is the head of the
     * entries listed. substr and length count characters on both sides. */
    int rc = sqlite3_prepare_v2(s->db,
                                "SELECT seq, ts_ns, who, kind, entity, payload, prev_hash, hash"
                                " FROM audit_chain WHERE entity = ?1"
                                " OR substr(entity, 1, length(?1) + 1) = ?1 || '#'"
                                " OR seq = (SELECT max(seq) FROM audit_chain) ORDER BY seq",
                                -1, &q, NULL);
    if (rc != SQLITE_OK)
        return db_fail(s, rc, "audit chain excerpt", WD_EIO, err);
    rc = sqlite3_bind_text(q, 1, entity, -1, SQLITE_STATIC);
    if (rc != SQLITE_OK) {
        r = db_fail(s, rc, "audit chain excerpt", WD_EIO, err);
        goto out;
    }
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        struct wd_chain_entry e = {
            .seq = sqlite3_column_int64(q, 0),
            .ts_ns = sqlite3_column_int64(q, 1),
            .who = col_text(q, 2).p,
            .kind = col_text(q, 3).p,
            .entity = col_text(q, 4).p,
            .payload = col_text(q, 5).p,
            .prev_hash = col_text(q, 6).p,
            .hash = col_text(q, 7).p,
        };
        if ((r = fn(ctx, &e)) != WD_OK)
            goto out;
    }
    if (rc != SQLITE_DONE)
        r = db_fail(s, rc, "audit chain excerpt", WD_EIO, err);
out:
    sqlite3_finalize(q);
    return r;
}

/* ---- on-call: silences, escalations, chain tests (schema 5) ----------------- */

static void read_silence(sqlite3_stmt *q, struct wd_silence *out)
{
    memset(out, 0, sizeof *out);
    out->id = sqlite3_column_int64(q, 0);
    read_text(q, 1, out->scenario, sizeof out->scenario);
    read_text(q, 2, out->scope, sizeof out->scope);
    out->starts_ns = sqlite3_column_int64(q, 3);
    out->until_ns = sqlite3_column_int64(q, 4);
    read_text(q, 5, out->reason, sizeof out->reason);
    read_text(q, 6, out->by, sizeof out->by);
    read_text(q, 7, out->role, sizeof out->role);
    out->removed_ns = sqlite3_column_int64(q, 8);
    read_text(q, 9, out->removed_by, sizeof out->removed_by);
}

enum wd_status wd_store_silence_add(struct wd_store *s, struct wd_silence *sl,
                                    struct wd_error *err)
{
    sqlite3_stmt *q = s->stmt[ST_SILENCE_ADD];
    if (sl->until_ns <= sl->starts_ns)
        return wd_error_set(err, WD_EINVAL, "store: add silence: it ends before it starts");
    int rc = bind_field(q, 1, sl->scenario, sizeof sl->scenario);
    if (rc == SQLITE_OK)
        rc = bind_field(q, 2, sl->scope, sizeof sl->scope);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(q, 3, sl->starts_ns);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(q, 4, sl->until_ns);
    if (rc == SQLITE_OK)
        rc = bind_field(q, 5, sl->reason, sizeof sl->reason);
    if (rc == SQLITE_OK)
        rc = bind_field(q, 6, sl->by, sizeof sl->by);
    if (rc == SQLITE_OK)
        rc = bind_field(q, 7, sl->role, sizeof sl->role);
    return write_audited(s, ST_SILENCE_ADD, rc, AT_SILENCES, (struct text){NULL, 0},
                         field_text(sl->by, sizeof sl->by), "add", &sl->id, err);
}

/* One row of a single-row query already bound: *found, and read by fn. */
static enum wd_status one_row(struct wd_store *s, enum stmt_id id, int rc, bool *found,
                              void (*fn)(sqlite3_stmt *q, void *out), void *out,
                              struct wd_error *err)
{
    enum wd_status r = WD_OK;
    sqlite3_stmt *q = s->stmt[id];
    *found = false;
    if (rc == SQLITE_OK)
        rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        *found = true;
        fn(q, out);
    } else if (rc != SQLITE_DONE) {
        r = stmt_fail(s, id, rc, err);
    }
    (void)stmt_release(s, id);
    return r;
}

static void read_silence_cb(sqlite3_stmt *q, void *out) { read_silence(q, out); }

enum wd_status wd_store_silence_get(struct wd_store *s, int64_t id, struct wd_silence *out,
                                    bool *found, struct wd_error *err)
{
    int rc = sqlite3_bind_int64(s->stmt[ST_ROW_SILENCE], 1, id);
    return one_row(s, ST_ROW_SILENCE, rc, found, read_silence_cb, out, err);
}

enum wd_status wd_store_silence_remove(struct wd_store *s, int64_t id, const char *who,
                                       int64_t now_ns, struct wd_error *err)
{
    char key[24];
    int n = snprintf(key, sizeof key, "%lld", (long long)id);
    enum wd_status r = wd_store_begin(s, err);
    if (r != WD_OK)
        return r;
    struct wd_silence cur;
    bool found;
    r = wd_store_silence_get(s, id, &cur, &found, err);
    if (r == WD_OK && !found)
        r = wd_error_set(err, WD_ENOTFOUND, "no silence #%lld", (long long)id);
    else if (r == WD_OK && cur.removed_ns != 0)
        r = wd_error_set(err, WD_ESTATE, "silence #%lld was already removed by %s",
                         (long long)id, cur.removed_by);
    if (r != WD_OK)
        return undo_begin(s, r);
    sqlite3_stmt *q = s->stmt[ST_SILENCE_REMOVE];
    int rc = sqlite3_bind_int64(q, 1, id);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(q, 2, now_ns);
    if (rc == SQLITE_OK)
        rc = bind_str(q, 3, who);
    r = write_audited(s, ST_SILENCE_REMOVE, rc, AT_SILENCES, (struct text){key, (size_t)n},
                      cstr(who), "put", NULL, err);
    if (r != WD_OK) {
        wd_store_rollback(s);
        return r;
    }
    return wd_store_commit(s, err);
}

enum wd_status wd_store_silence_list(struct wd_store *s, bool all, int64_t now_ns,
                                     struct wd_silence **out, size_t *n, struct wd_error *err)
{
    enum wd_status r = WD_OK;
    sqlite3_stmt *q = s->stmt[ST_SILENCE_LIST];
    struct wd_silence *arr = NULL;
    size_t len = 0, cap = 0;
    *out = NULL;
    *n = 0;
    int rc = sqlite3_bind_int(q, 1, all ? 1 : 0);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(q, 2, now_ns);
    while (rc == SQLITE_OK && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        if ((r = grow((void **)&arr, &cap, len + 1, sizeof *arr, err)) != WD_OK)
            goto out;
        read_silence(q, &arr[len++]);
        rc = SQLITE_OK;
    }
    if (rc != SQLITE_DONE) {
        r = stmt_fail(s, ST_SILENCE_LIST, rc, err);
        goto out;
    }
    *out = arr;
    *n = len;
    arr = NULL;
out:
    (void)stmt_release(s, ST_SILENCE_LIST);
    free(arr);
    return r;
}

enum wd_status wd_store_silence_active(struct wd_store *s, const char *scenario,
                                       const char *scope, int64_t now_ns, struct wd_silence *out,
                                       bool *found, struct wd_error *err)
{
    sqlite3_stmt *q = s->stmt[ST_SILENCE_ACTIVE];
    int rc = bind_str(q, 1, scenario);
    if (rc == SQLITE_OK)
        rc = bind_str(q, 2, scope);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(q, 3, now_ns);
    return one_row(s, ST_SILENCE_ACTIVE, rc, found, read_silence_cb, out, err);
}

enum wd_status wd_store_escalation_add(struct wd_store *s, const struct wd_escalation_row *e,
                                       bool *added, struct wd_error *err)
{
    char key[WD_INCIDENT_ID_MAX + 16];
    int n = snprintf(key, sizeof key, "%.*s#%u", (int)strnlen(e->incident, sizeof e->incident),
                     e->incident, e->level);
    sqlite3_stmt *q = s->stmt[ST_ESC_ADD];
    *added = false;
    int rc = bind_field(q, 1, e->incident, sizeof e->incident);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(q, 2, e->level);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(q, 3, e->ts_ns);
    if (rc == SQLITE_OK)
        rc = bind_field(q, 4, e->level_name, sizeof e->level_name);
    if (rc == SQLITE_OK)
        rc = bind_field(q, 5, e->reason, sizeof e->reason);
    if (rc == SQLITE_OK)
        rc = bind_field(q, 6, e->paged, sizeof e->paged);
    enum wd_status r = write_audited(s, ST_ESC_ADD, rc, AT_ESCALATIONS,
                                     (struct text){key, (size_t)n}, cstr("warden"), "add", NULL,
                                     err);
    if (r == WD_ESTATE) {
        wd_error_clear(err);
        return WD_OK; /* that level was reached before: once per level */
    }
    *added = r == WD_OK;
    return r;
}

enum wd_status wd_store_escalation_level(struct wd_store *s, const char *incident,
                                         uint32_t *level, struct wd_error *err)
{
    sqlite3_stmt *q = s->stmt[ST_ESC_LEVEL];
    enum wd_status r = WD_OK;
    *level = 0;
    int rc = bind_str(q, 1, incident);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(q);
    if (rc == SQLITE_ROW)
        *level = (uint32_t)sqlite3_column_int64(q, 0);
    else
        r = stmt_fail(s, ST_ESC_LEVEL, rc, err);
    (void)stmt_release(s, ST_ESC_LEVEL);
    return r;
}

enum wd_status wd_store_chain_test_add(struct wd_store *s, struct wd_chain_test *t,
                                       struct wd_error *err)
{
    sqlite3_stmt *q = s->stmt[ST_CHAIN_TEST_ADD];
    int rc = sqlite3_bind_int64(q, 1, t->ts_ns);
    if (rc == SQLITE_OK)
        rc = bind_field(q, 2, t->by, sizeof t->by);
    if (rc == SQLITE_OK)
        rc = bind_field(q, 3, t->paged, sizeof t->paged);
    return write_audited(s, ST_CHAIN_TEST_ADD, rc, AT_CHAIN_TESTS, (struct text){NULL, 0},
                         field_text(t->by, sizeof t->by), "add", &t->id, err);
}

static void read_chain_test(sqlite3_stmt *q, void *out)
{
    struct wd_chain_test *t = out;
    memset(t, 0, sizeof *t);
    t->id = sqlite3_column_int64(q, 0);
    t->ts_ns = sqlite3_column_int64(q, 1);
    read_text(q, 2, t->by, sizeof t->by);
    read_text(q, 3, t->paged, sizeof t->paged);
}

enum wd_status wd_store_chain_test_last(struct wd_store *s, struct wd_chain_test *out,
                                        bool *found, struct wd_error *err)
{
    return one_row(s, ST_CHAIN_TEST_LAST, SQLITE_OK, found, read_chain_test, out, err);
}
