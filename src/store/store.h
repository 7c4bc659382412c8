/*
 * The durable store (SQLite): trading states, approvals, incidents, book
 * snapshots. Embedded default ./var/warden.db; WAL journal; state changes
 * are written with synchronous=FULL so that a halt survives a crash.
 *
 * This is an adapter: it translates SQLite results to enum wd_status once,
 * here, with the SQLite message in err. Every function is safe to call on
 * a store opened by another warden process at the same time (busy timeout).
 */
#ifndef WD_STORE_STORE_H
#define WD_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "warden/incident.h"
#include "warden/state.h"
#include "warden/status.h"

struct wd_store;

/* Opens (creating if needed, with its parent directory) the store at path,
 * applies the schema (versioned with PRAGMA user_version), WAL mode,
 * synchronous=FULL, a busy timeout. ":memory:" works for tests. */
enum wd_status wd_store_open(const char *path, struct wd_store **out,
                             struct wd_error *err) WD_MUST_USE;
void wd_store_close(struct wd_store *s); /* NULL: no-op */

/* The clock that stamps audit-chain entries (ts_ns): now(ctx), nanoseconds
 * since the Unix epoch. NULL restores the default, CLOCK_REALTIME. Tests
 * give a fake one. */
typedef int64_t (*wd_store_clock_fn)(void *ctx);
void wd_store_set_clock(struct wd_store *s, wd_store_clock_fn now, void *ctx);

/* Keys the audit chain: entries written and verified from now on are
 * hashed with HMAC-SHA256 under key (copied; at most 4096 bytes) instead
 * of plain SHA-256. len 0 removes the key. A chain must be written and
 * verified with the same key, from its first entry. WD_ERANGE, WD_ENOMEM. */
enum wd_status wd_store_set_chain_key(struct wd_store *s, const void *key, size_t len,
                                      struct wd_error *err) WD_MUST_USE;

/* Called by wd_store_timeline_append inside its transaction, after the
 * entry is written and before it commits: what the hook writes commits
 * with the entry, and a failure (not WD_OK, err set) rolls both back. The
 * notifications use it to queue a message in the same transaction as the
 * incident change that caused it (src/notify/notify.h). NULL removes it. */
typedef enum wd_status (*wd_store_timeline_hook_fn)(void *ctx, struct wd_store *s,
                                                    const struct wd_timeline_entry *e,
                                                    struct wd_error *err);
void wd_store_set_timeline_hook(struct wd_store *s, wd_store_timeline_hook_fn fn, void *ctx);

/* The context the hook fn was installed with; NULL when fn is not the
 * installed hook (none, or another). */
void *wd_store_timeline_hook_ctx(const struct wd_store *s, wd_store_timeline_hook_fn fn);

/* Internal (src/store/ only): the connection, for the store's other
 * files (outbox.c). */
struct sqlite3;
struct sqlite3 *wd__store_db(struct wd_store *s);

/* Explicit transactions (nestable by counting: only the outermost commits). */
enum wd_status wd_store_begin(struct wd_store *s, struct wd_error *err) WD_MUST_USE;
enum wd_status wd_store_commit(struct wd_store *s, struct wd_error *err) WD_MUST_USE;
void wd_store_rollback(struct wd_store *s);

/* ---- trading states ------------------------------------------------------ */

/* ---- audit chain -----------------------------------------------------------
 * Every mutating function below appends, in its own transaction, one entry
 * per row it changes to the hash-chained audit trail (docs/internals/
 * STORE.md, "Audit chain"): the row as stored after the change, or a
 * deletion marker, with who did it:
 *   put_state[_from]  state_history.append + scope_states.put; who: st->by
 *                     ("warden" for a replay's writes, origin non-empty, or
 *                     an empty by)
 *   add_approval      approvals.add; who: a->who
 *   add_incident[_as] incidents.add; who: "warden" (or the _as argument)
 *   put_incident      incidents.put; who: "warden"
 *   rewind            incidents.delete per incident deleted, scope_states.put
 *                     or .delete per scope changed; who: "warden"
 *   incident_save     incidents.put, incident_records.put, incident_roles,
 *                     incident_checklist, incident_actions .put or .delete,
 *                     for each row that changed; who: the argument
 *   timeline_append   incident_timeline.append; who: the entry's
 * Snapshots are not audited (they are a cache of the replay). */

/* The value of configuration key as the last limits.change entry recorded
 * it (*found false when none did). */
enum wd_status wd_store_limit_in_force(struct wd_store *s, const char *key, char *value,
                                       size_t cap, bool *found,
                                       struct wd_error *err) WD_MUST_USE;

/* Appends a limits.change entry: configuration key (e.g.
 * "limits.kill_pnl") changed from old_value to new_value by who, all texts
 * as the configuration spells them. WD_EINVAL for an empty key. */
enum wd_status wd_store_record_limit_change(struct wd_store *s, const char *who,
                                            const char *key, const char *old_value,
                                            const char *new_value,
                                            struct wd_error *err) WD_MUST_USE;

struct wd_audit_report {
    bool intact;          /* the chain and the tables agree */
    uint64_t entries;     /* chain entries checked good */
    uint64_t rows;        /* table rows compared */
    char head_hash[65];   /* the last entry's hash ("" with no entry, or when
                             the chain is broken): keep it elsewhere to detect
                             a truncated tail */
    uint64_t bad_seq;     /* the first bad chain entry, 0 if none */
    char table[24];       /* the first table whose rows differ, "" if none */
    char key[WD_SCOPE_MAX]; /* that row's key (scope, id), "" if none */
    char msg[320];        /* one line: what is wrong, or the summary */
};

/* Checks the whole chain (seq 1, 2, ... without a gap, each prev_hash the
 * hash of the entry before, each hash recomputed under the store's key),
 * then rebuilds from its payloads what scope_states, state_history,
 * approvals and incidents must hold and compares the tables with it row by
 * row in key order. Stops at the first problem: rep->bad_seq for a chain
 * entry, or rep->table and rep->key for a row that differs, is missing or
 * is extra; rep->msg says which and why. A tampered store is WD_OK with
 * rep->intact false; a failure to read it is an error status. Reads in one
 * transaction. */
enum wd_status wd_store_audit_verify(struct wd_store *s, struct wd_audit_report *rep,
                                     struct wd_error *err) WD_MUST_USE;

/* Upserts the scope's current state and appends it to the state history,
 * as set by a person or an unkeyed input (origin ''). */
enum wd_status wd_store_put_state(struct wd_store *s, const struct wd_scope_state *st,
                                  struct wd_error *err) WD_MUST_USE;

/* The same, as set by event origin_event of the input keyed origin (a
 * replay): wd_store_rewind can take it back. */
enum wd_status wd_store_put_state_from(struct wd_store *s, const struct wd_scope_state *st,
                                       const char *origin, uint64_t origin_event,
                                       struct wd_error *err) WD_MUST_USE;

/* Takes back what events after after_event of input origin wrote, for a
 * resume from the snapshot taken there (a killed run may have gone further
 * before it died): incidents they opened are deleted; each scope they set
 * goes back to its latest history entry written otherwise (a person's,
 * another input's, or this input's up to after_event), or is removed when
 * there is none. The state history keeps every entry. One transaction. */
enum wd_status wd_store_rewind(struct wd_store *s, const char *origin, uint64_t after_event,
                               struct wd_error *err) WD_MUST_USE;

/* The scope's current state; *found false (and *out untouched) if none. */
enum wd_status wd_store_get_state(struct wd_store *s, const char *scope,
                                  struct wd_scope_state *out, bool *found,
                                  struct wd_error *err) WD_MUST_USE;

/* Every scope's current state, sorted by scope; *out from malloc (caller
 * frees), *n entries. */
enum wd_status wd_store_load_states(struct wd_store *s, struct wd_scope_state **out, size_t *n,
                                    struct wd_error *err) WD_MUST_USE;

/* ---- approvals ------------------------------------------------------------ */

struct wd_approval {
    int64_t id;                        /* assigned by the store */
    char scope[WD_SCOPE_MAX];
    char who[WD_WHO_MAX];
    enum wd_role role;
    char reason[WD_TEXT_MAX];
    char incident[WD_INCIDENT_ID_MAX]; /* the halt it approves the end of, or "" */
    int64_t ts_ns;
};

/* Records an approval; a->id receives its row id. */
enum wd_status wd_store_add_approval(struct wd_store *s, struct wd_approval *a,
                                     struct wd_error *err) WD_MUST_USE;

/* Approvals for scope at or after since_ns, oldest first; *out from malloc. */
enum wd_status wd_store_list_approvals(struct wd_store *s, const char *scope, int64_t since_ns,
                                       struct wd_approval **out, size_t *n,
                                       struct wd_error *err) WD_MUST_USE;

/* ---- incidents (the minimal record; Step 4 extends it) -------------------- */

struct wd_incident_row {
    char id[WD_INCIDENT_ID_MAX]; /* INC-YYYYMMDD-NNN */
    char scenario[WD_SCENARIO_MAX];
    char severity[4];            /* P0..P3 */
    char scope[WD_SCOPE_MAX];
    char status[24];             /* open, ... */
    char title[WD_TEXT_MAX];
    char detail[WD_TEXT_MAX * 2];
    int64_t opened_ns;
};

/* Inserts an incident; WD_ESTATE if the id exists. */
enum wd_status wd_store_add_incident(struct wd_store *s, const struct wd_incident_row *r,
                                     struct wd_error *err) WD_MUST_USE;

/* The same, opened by who (a person; add_incident says "warden"). */
enum wd_status wd_store_add_incident_as(struct wd_store *s, const struct wd_incident_row *r,
                                        const char *who, struct wd_error *err) WD_MUST_USE;

/* Inserts an incident opened by event origin_event of input origin, or,
 * when the id exists (the incident announced again: recovered, severity
 * raised), updates its severity, status, title and detail. */
enum wd_status wd_store_put_incident(struct wd_store *s, const struct wd_incident_row *r,
                                     const char *origin, uint64_t origin_event,
                                     struct wd_error *err) WD_MUST_USE;

/* The highest NNN used for incidents of date "YYYYMMDD" (0 if none). */
enum wd_status wd_store_incident_seq(struct wd_store *s, const char *yyyymmdd, uint32_t *seq,
                                     struct wd_error *err) WD_MUST_USE;

/* Incidents, newest first, at most limit; *out from malloc. */
enum wd_status wd_store_list_incidents(struct wd_store *s, size_t limit,
                                       struct wd_incident_row **out, size_t *n,
                                       struct wd_error *err) WD_MUST_USE;

/* ---- the incident record (schema 4) -----------------------------------------
 * The whole struct wd_incident (include/warden/incident.h) and its timeline.
 * The incidents row above holds the shared columns; a record saved whole
 * adds its other fields and child rows (docs/internals/STORE.md). An
 * incident with only the minimal row (a replay's) loads as a record with
 * the row's status (open, or monitoring after a recovery), opened by
 * "warden" at opened_ns, and its scenario's recovery criteria unticked.
 * Each function runs in its own transaction, nested in the caller's when
 * there is one (wd_store_begin), so that the save of a mutation and the
 * append of its timeline entry can commit together. */

/* Upserts the whole record: the incidents row, its incident_records row
 * and its roles, checklist and action items (rows no longer in the record
 * are deleted), in one transaction. Only the rows that change are written,
 * each with an audit-chain entry (<table>.put / .delete) by who.
 * WD_EINVAL: a bad id, an enum or count out of range, an empty who;
 * WD_ESTATE: the id is another incident's (scenario or scope differ). */
enum wd_status wd_store_incident_save(struct wd_store *s, const struct wd_incident *inc,
                                      const char *who, struct wd_error *err) WD_MUST_USE;

/* Loads incident id into *out; *found false (and *out untouched) when there
 * is none. WD_EIO: a stored value does not parse (names the row). */
enum wd_status wd_store_incident_load(struct wd_store *s, const char *id,
                                      struct wd_incident *out, bool *found,
                                      struct wd_error *err) WD_MUST_USE;

/* Appends e to its incident's timeline (e->incident), numbered after the
 * incident's last entry, with an audit-chain entry by e->who. The
 * timeline is append-only (triggers refuse UPDATE and DELETE). WD_EINVAL:
 * a bad incident id, kind, or an empty who. */
enum wd_status wd_store_timeline_append(struct wd_store *s, const struct wd_timeline_entry *e,
                                        struct wd_error *err) WD_MUST_USE;

/* The incident's timeline, oldest first (in append order); *out from
 * malloc (caller frees; NULL when empty), *n entries. */
enum wd_status wd_store_timeline_list(struct wd_store *s, const char *id,
                                      struct wd_timeline_entry **out, size_t *n,
                                      struct wd_error *err) WD_MUST_USE;

/* The incident of (scenario, scope) that is neither resolved nor closed,
 * for dedup: its id in id, *found true. Should there be several (written
 * behind warden's back), the newest. */
enum wd_status wd_store_incident_find_active(struct wd_store *s, enum wd_scenario scenario,
                                             const char *scope, char id[WD_INCIDENT_ID_MAX],
                                             bool *found, struct wd_error *err) WD_MUST_USE;

/* Every incident as a record (only those neither resolved nor closed with
 * active_only), newest first (opened_ns, then id); *out from malloc
 * (caller frees; NULL when none), *n records. */
enum wd_status wd_store_incident_list_records(struct wd_store *s, bool active_only,
                                              struct wd_incident **out, size_t *n,
                                              struct wd_error *err) WD_MUST_USE;

/* ---- snapshots -------------------------------------------------------------
 * One snapshot per input key (e.g. "file:/abs/path"): the serialized engine
 * state after the input's first `events` lines, with a digest identifying
 * that prefix of the input. Replacing is atomic. */

struct wd_snapshot {
    uint64_t lines;         /* input lines consumed (1-based count) */
    uint64_t offset;        /* bytes consumed */
    uint64_t events;        /* events applied */
    char digest[65];        /* hex SHA-256 of the consumed bytes' identity, caller-defined */
    int64_t saved_ns;       /* event time of the last applied event */
    void *blob;             /* from malloc on get; borrowed on put */
    size_t blob_len;
};

enum wd_status wd_store_put_snapshot(struct wd_store *s, const char *input_key,
                                     const struct wd_snapshot *snap,
                                     struct wd_error *err) WD_MUST_USE;

/* *found false if there is none for input_key; on success snap->blob is
 * from malloc (caller frees). */
enum wd_status wd_store_get_snapshot(struct wd_store *s, const char *input_key,
                                     struct wd_snapshot *snap, bool *found,
                                     struct wd_error *err) WD_MUST_USE;

enum wd_status wd_store_delete_snapshot(struct wd_store *s, const char *input_key,
                                        struct wd_error *err) WD_MUST_USE;

/* ---- evidence (read-only) ------------------------------------------------- */

/* The schema version (PRAGMA user_version) wd_store_open brings a store to. */
int wd_store_schema_version(void);

/* One audit-chain row as stored; the strings are borrowed for the callback
 * (payload is the canonical JSON text, or "null" for a deletion). */
struct wd_chain_entry {
    int64_t seq, ts_ns;
    const char *who, *kind, *entity, *payload, *prev_hash, *hash;
};

/* Return WD_OK to go on; anything else stops the walk and is returned. */
typedef enum wd_status (*wd_chain_fn)(void *ctx, const struct wd_chain_entry *e);

/* Calls fn, in seq order, with every chain entry whose entity is `entity`
 * or starts with `entity#` (an incident's rows: the incident, its record,
 * its child rows and timeline), and with the last entry (the head) whether
 * it matches or not. Reads only (one statement); checks nothing: that is
 * wd_store_audit_verify's job. WD_EIO on a read failure. */
enum wd_status wd_store_chain_excerpt(struct wd_store *s, const char *entity, wd_chain_fn fn,
                                      void *ctx, struct wd_error *err) WD_MUST_USE;

/* ---- on-call: silences, escalations, chain tests (issue 8, schema 5) ------
 * Audited like the rest: silences.add (who: by), silences.put on removal
 * (who: the remover), escalations.add (who: "warden"; entity
 * "<incident>#<level>", so an incident's evidence excerpt has them),
 * chain_tests.add (who: by). docs/internals/ONCALL.md. */

struct wd_silence {
    int64_t id;                     /* assigned by the store */
    char scenario[WD_SCENARIO_MAX]; /* a scenario name */
    char scope[WD_SCOPE_MAX];       /* "": every scope */
    int64_t starts_ns, until_ns;    /* holds back in [starts, until) */
    char reason[WD_TEXT_MAX];
    char by[WD_WHO_MAX];
    char role[16];                  /* the role it was set under ("" none given) */
    int64_t removed_ns;             /* 0: not removed */
    char removed_by[WD_WHO_MAX];
};

/* Records a silence; sl->id receives its id. WD_EINVAL: until <= starts. */
enum wd_status wd_store_silence_add(struct wd_store *s, struct wd_silence *sl,
                                    struct wd_error *err) WD_MUST_USE;

/* Ends silence id now (the row stays, stamped removed_ns / removed_by).
 * WD_ENOTFOUND: no such id; WD_ESTATE: already removed. */
enum wd_status wd_store_silence_remove(struct wd_store *s, int64_t id, const char *who,
                                       int64_t now_ns, struct wd_error *err) WD_MUST_USE;

enum wd_status wd_store_silence_get(struct wd_store *s, int64_t id, struct wd_silence *out,
                                    bool *found, struct wd_error *err) WD_MUST_USE;

/* Silences not removed and not yet expired at now_ns (every one with all),
 * oldest first; *out from malloc. */
enum wd_status wd_store_silence_list(struct wd_store *s, bool all, int64_t now_ns,
                                     struct wd_silence **out, size_t *n,
                                     struct wd_error *err) WD_MUST_USE;

/* For the sender: whether a notification about an incident of `scenario`
 * in `scope` must be held back at now_ns. *found true and *out the silence
 * (the one lasting longest) when one holds it: same scenario, its scope ""
 * or equal, starts_ns <= now_ns < until_ns, not removed. Silences expire
 * by themselves: nothing needs to delete them. Reads only. */
enum wd_status wd_store_silence_active(struct wd_store *s, const char *scenario,
                                       const char *scope, int64_t now_ns, struct wd_silence *out,
                                       bool *found, struct wd_error *err) WD_MUST_USE;

struct wd_escalation_row {
    char incident[WD_INCIDENT_ID_MAX];
    uint32_t level;                  /* 1..5 */
    int64_t ts_ns;
    char level_name[64];
    char reason[WD_TEXT_MAX];
    char paged[WD_TIMELINE_TEXT_MAX]; /* "alice sms:+1555..., ..." or "nobody" */
};

/* Records that incident reached level; *added false (WD_OK) when that level
 * was recorded before: each level is reached, and paged, once. */
enum wd_status wd_store_escalation_add(struct wd_store *s, const struct wd_escalation_row *e,
                                       bool *added, struct wd_error *err) WD_MUST_USE;

/* The highest level recorded for incident, 0 for none. */
enum wd_status wd_store_escalation_level(struct wd_store *s, const char *incident,
                                         uint32_t *level, struct wd_error *err) WD_MUST_USE;

struct wd_chain_test {
    int64_t id;
    int64_t ts_ns;
    char by[WD_WHO_MAX];
    char paged[WD_TIMELINE_TEXT_MAX];
};

/* Records a test page of the alerting chain; t->id receives its id. */
enum wd_status wd_store_chain_test_add(struct wd_store *s, struct wd_chain_test *t,
                                       struct wd_error *err) WD_MUST_USE;
/* The last one (*found false when the chain was never tested). */
enum wd_status wd_store_chain_test_last(struct wd_store *s, struct wd_chain_test *out,
                                        bool *found, struct wd_error *err) WD_MUST_USE;

#endif /* WD_STORE_STORE_H */
