/*
 * The notification outbox (issue 8 point 3; docs/internals/NOTIFY.md): one
 * row per message to one channel (and, for SMS, one number), written in the
 * transaction of the incident change that caused it, and worked off by the
 * sender. A row is pending until it is delivered (sent), given up
 * (failed: a 4xx other than 408/429, or max_attempts reached) or held back
 * by a silence (held).
 *
 * Ordering: a row is due only when no older row of the same (incident,
 * channel, recipient) is still pending, so an incident's messages reach a
 * receiver in the order they were queued, whatever the retries.
 * Concurrency: wd_store_outbox_claim leases rows (lease_ns) in a write
 * transaction, so two senders on one store (the daemon and an offline
 * `warden incident update`) never send the same row at once.
 *
 * The outbox is not in the audit chain (like snapshots, it is delivery
 * bookkeeping); each attempt and outcome is on the incident's timeline,
 * which is. Secrets are never stored here: payloads are rendered at send
 * time from the configuration.
 */
#ifndef WD_STORE_OUTBOX_H
#define WD_STORE_OUTBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "warden/incident.h"
#include "warden/notify.h"
#include "warden/status.h"

struct wd_store;

/* Schema 5 (appended to store.c's migrations[]). */
#define WD_OUTBOX_MIGRATION                                                                  \
    "DROP TRIGGER incident_timeline_no_update;"                                              \
    "DROP TRIGGER incident_timeline_no_delete;"                                              \
    "CREATE TABLE incident_timeline_v5 ("                                                    \
    "  incident TEXT NOT NULL,"                                                              \
    "  seq INTEGER NOT NULL,"                                                                \
    "  ts_ns INTEGER NOT NULL,"                                                              \
    "  who TEXT NOT NULL,"                                                                   \
    "  kind TEXT NOT NULL CHECK (kind IN ('opened','status','note','finding','control',"     \
    "    'approval','check','action','severity','role','impact','sla_breach','escalation',"  \
    "    'notify')),"                                                                        \
    "  from_value TEXT NOT NULL DEFAULT '',"                                                 \
    "  to_value TEXT NOT NULL DEFAULT '',"                                                   \
    "  text TEXT NOT NULL DEFAULT '',"                                                       \
    "  PRIMARY KEY (incident, seq)"                                                          \
    ") STRICT;"                                                                              \
    "INSERT INTO incident_timeline_v5 SELECT incident, seq, ts_ns, who, kind, from_value,"   \
    "  to_value, text FROM incident_timeline;"                                               \
    "DROP TABLE incident_timeline;"                                                          \
    "ALTER TABLE incident_timeline_v5 RENAME TO incident_timeline;"                          \
    "CREATE TRIGGER incident_timeline_no_update BEFORE UPDATE ON incident_timeline"          \
    "  BEGIN SELECT RAISE(ABORT, 'incident_timeline is append-only'); END;"                  \
    "CREATE TRIGGER incident_timeline_no_delete BEFORE DELETE ON incident_timeline"          \
    "  BEGIN SELECT RAISE(ABORT, 'incident_timeline is append-only'); END;"                  \
    "CREATE TABLE notify_outbox ("                                                           \
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"                                                \
    "  incident TEXT NOT NULL DEFAULT '',"                                                   \
    "  channel TEXT NOT NULL CHECK (channel IN ('slack','pagerduty','webhook','email','sms')),"\
    "  kind TEXT NOT NULL CHECK (kind IN ('opened','acknowledged','escalated','resolved',"   \
    "    'update','reminder','test')),"                                                      \
    "  recipient TEXT NOT NULL DEFAULT '',"                                                  \
    "  severity TEXT NOT NULL CHECK (severity IN ('P0','P1','P2','P3')),"                    \
    "  scenario TEXT NOT NULL DEFAULT '',"                                                   \
    "  scope TEXT NOT NULL DEFAULT '',"                                                      \
    "  status TEXT NOT NULL DEFAULT '',"                                                     \
    "  title TEXT NOT NULL DEFAULT '',"                                                      \
    "  text TEXT NOT NULL DEFAULT '',"                                                       \
    "  created_ns INTEGER NOT NULL,"                                                         \
    "  state TEXT NOT NULL DEFAULT 'pending'"                                                \
    "    CHECK (state IN ('pending','sent','failed','held')),"                               \
    "  attempts INTEGER NOT NULL DEFAULT 0,"                                                 \
    "  next_ns INTEGER NOT NULL DEFAULT 0,"                                                  \
    "  lease_ns INTEGER NOT NULL DEFAULT 0,"                                                 \
    "  last_code INTEGER NOT NULL DEFAULT 0,"                                                \
    "  last_error TEXT NOT NULL DEFAULT '',"                                                 \
    "  done_ns INTEGER NOT NULL DEFAULT 0"                                                   \
    ") STRICT;"                                                                              \
    "CREATE INDEX notify_outbox_due ON notify_outbox (state, next_ns);"                      \
    "CREATE INDEX notify_outbox_order ON notify_outbox (incident, channel, recipient, state, id);"

enum wd_outbox_state { WD_OB_PENDING = 0, WD_OB_SENT, WD_OB_FAILED, WD_OB_HELD };

/* "pending", "sent", "failed", "held"; static. */
const char *wd_outbox_state_name(enum wd_outbox_state s);

#define WD_OUTBOX_ERROR_MAX 256

/* One row, fixed-size (texts cut at a UTF-8 boundary when read back). */
struct wd_outbox_row {
    int64_t id;
    char incident[WD_INCIDENT_ID_MAX]; /* "" for a test page */
    enum wd_channel channel;
    enum wd_notify_kind kind;
    char recipient[WD_NOTIFY_ADDR_MAX];
    enum wd_severity severity;
    char scenario[32];
    char scope[WD_SCOPE_MAX];
    char status[24];
    char title[WD_TEXT_MAX];
    char text[WD_NOTIFY_TEXT_MAX];
    int64_t created_ns;
    enum wd_outbox_state state;
    uint32_t attempts;
    int64_t next_ns;
    long last_code;
    char last_error[WD_OUTBOX_ERROR_MAX];
    int64_t done_ns;
};

/* Adds r (state, attempts, codes ignored: a new row is pending, or held
 * when held is true) due at r->next_ns. *id (optional) receives its id.
 * In the caller's transaction if there is one. */
enum wd_status wd_store_outbox_add(struct wd_store *s, const struct wd_outbox_row *r, bool held,
                                   int64_t *id, struct wd_error *err) WD_MUST_USE;

/* Leases up to max due rows (pending, next_ns <= now_ns, lease_ns <=
 * now_ns, the oldest pending of their (incident, channel, recipient)),
 * oldest first, until lease_until_ns. *out from malloc (free()), *n rows. */
enum wd_status wd_store_outbox_claim(struct wd_store *s, int64_t now_ns, int64_t lease_until_ns,
                                     size_t max, struct wd_outbox_row **out, size_t *n,
                                     struct wd_error *err) WD_MUST_USE;

/* Records an attempt's outcome on row id: its new state (pending: retry at
 * next_ns), attempts, the answer's code and a short error text; the lease
 * ends. done_ns stamps a final state. */
enum wd_status wd_store_outbox_result(struct wd_store *s, int64_t id, enum wd_outbox_state st,
                                      uint32_t attempts, int64_t next_ns, long code,
                                      const char *error, int64_t done_ns,
                                      struct wd_error *err) WD_MUST_USE;

/* The rows of an incident ("" : test pages; NULL: every row), by id. */
enum wd_status wd_store_outbox_list(struct wd_store *s, const char *incident,
                                    struct wd_outbox_row **out, size_t *n,
                                    struct wd_error *err) WD_MUST_USE;

/* Rows pending, and the earliest next_ns among them (0 when none). */
enum wd_status wd_store_outbox_pending(struct wd_store *s, size_t *n, int64_t *next_ns,
                                       struct wd_error *err) WD_MUST_USE;

#endif /* WD_STORE_OUTBOX_H */
