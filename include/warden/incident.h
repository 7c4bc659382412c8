/*
 * The incident record and its lifecycle (issue 5; playbook "General Response
 * Process", "Post-Incident Review", "Escalation Procedures"; SPEC section 6).
 *
 * A struct wd_incident is plain, fixed-size data: the store persists it, the
 * CLI and dashboard show it. Every function here that changes a record
 * checks the change first, leaves the record untouched when it refuses, and
 * on success describes what it did in exactly one struct wd_timeline_entry
 * (who, when, what, from -> to) that the caller appends to the incident's
 * timeline. Approvals live in the store, not here; the record only says
 * whether the incident's own side of a resume (its recovery criteria) is met.
 *
 * Pure: no I/O, no clock, no allocation. Every time is an int64_t of
 * nanoseconds since the epoch given by the caller; a mutation dated before
 * the record's last change is refused, so the stamps of a record never go
 * backwards. See docs/internals/INCIDENTS.md.
 */
#ifndef WD_CORE_INCIDENT_H
#define WD_CORE_INCIDENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "warden/fixed.h"
#include "warden/severity.h"
#include "warden/state.h"
#include "warden/status.h"

/* ---- bounds -------------------------------------------------------------- */

#define WD_INCIDENT_DETAIL_MAX (WD_TEXT_MAX * 2) /* as the store's incident row */
#define WD_INCIDENT_SME_MAX 4
#define WD_INCIDENT_CRITERIA_MAX 8 /* the longest playbook checklist has 6 */
#define WD_INCIDENT_ACTION_MAX 32
#define WD_TIMELINE_TEXT_MAX 512
#define WD_TIMELINE_VALUE_MAX WD_WHO_MAX /* from/to of an entry */

/* An upper bound of wd_incident_canonical's length (every byte of every
 * string escaped as \u00XX), NUL included; tests/unit/test_incident.c checks
 * a record filled to every bound against it. */
#define WD_INCIDENT_CANONICAL_MAX (96u * 1024u)

/* ---- statuses and the lifecycle ----------------------------------------- */

/* In lifecycle order. open .. monitoring are the active statuses. */
enum wd_inc_status {
    WD_INC_OPEN = 0,
    WD_INC_ACKNOWLEDGED,
    WD_INC_INVESTIGATING,
    WD_INC_IDENTIFIED,
    WD_INC_FIXING,
    WD_INC_MONITORING,
    WD_INC_RESOLVED,
    WD_INC_CLOSED,
    WD_INC__COUNT
};

/* "open", "acknowledged", "investigating", "identified", "fixing",
 * "monitoring", "resolved", "closed"; static ("?" when out of range). */
const char *wd_inc_status_name(enum wd_inc_status s);
enum wd_status wd_inc_status_parse(const char *s, enum wd_inc_status *out) WD_MUST_USE;

/* open .. monitoring. */
bool wd_inc_status_active(enum wd_inc_status s);

/* The transition table, without the checklist gate (see INCIDENTS.md):
 *   - from an active status to any later status up to resolved (skipping
 *     allowed), except open and closed as targets;
 *   - identified, fixing, monitoring -> investigating (a relapse);
 *   - resolved -> closed (after the review);
 *   - nothing else: no move to the same status, nothing back to open,
 *     nothing out of closed, no other backward move. */
bool wd_inc_transition_allowed(enum wd_inc_status from, enum wd_inc_status to);

/* ---- roles --------------------------------------------------------------- */

/* The playbook's response team. Distinct from enum wd_role (state.h), which
 * names who approves a resume. */
enum wd_inc_role {
    WD_IR_COMMANDER = 0, /* Incident Commander */
    WD_IR_RISK_OFFICER,
    WD_IR_TECH_LEAD,     /* Technical Lead */
    WD_IR_COMMS_LEAD,    /* Communications Lead */
    WD_IR_SME,           /* Subject Matter Expert: a list of WD_INCIDENT_SME_MAX */
    WD_IR__COUNT
};

/* "commander", "risk_officer", "technical_lead", "communications_lead",
 * "sme"; static. */
const char *wd_inc_role_name(enum wd_inc_role r);
enum wd_status wd_inc_role_parse(const char *s, enum wd_inc_role *out) WD_MUST_USE;

/* ---- the record ---------------------------------------------------------- */

/* One recovery criterion of the scenario's playbook. The text is copied at
 * open, so that a later edit of the playbook does not rewrite history. */
struct wd_inc_check {
    char text[WD_TEXT_MAX];
    bool done;
    char who[WD_WHO_MAX]; /* who ticked it; "" while unticked */
    int64_t when_ns;      /* when; 0 while unticked */
};

struct wd_inc_action {
    char text[WD_TEXT_MAX];
    char owner[WD_WHO_MAX];
    int64_t due_ns;           /* 0: no due date */
    bool done;
    char done_by[WD_WHO_MAX]; /* "" while not done */
    int64_t done_ns;          /* 0 while not done */
};

struct wd_incident {
    char id[WD_INCIDENT_ID_MAX]; /* INC-YYYYMMDD-NNN */
    enum wd_scenario scenario;
    char scope[WD_SCOPE_MAX];    /* "firm", "account:NAME", "strategy:NAME" */
    enum wd_severity severity;   /* only ever raised */
    char title[WD_TEXT_MAX];
    char detail[WD_INCIDENT_DETAIL_MAX];
    enum wd_inc_status status;
    char opened_by[WD_WHO_MAX];  /* "warden" for a detector, else a person */

    /* Roles; "" while unassigned. */
    char commander[WD_WHO_MAX];
    char risk_officer[WD_WHO_MAX];
    char tech_lead[WD_WHO_MAX];
    char comms_lead[WD_WHO_MAX];
    char smes[WD_INCIDENT_SME_MAX][WD_WHO_MAX];
    uint32_t n_smes;

    /* Times; 0 = not yet. acknowledged_ns is stamped by the first move out
     * of open, whatever its target. updated_ns is the last mutation's. */
    int64_t opened_ns, acknowledged_ns, resolved_ns, closed_ns, updated_ns;

    /* Impact. */
    bool trading_halted;      /* trading was halted when it opened */
    wd_fix pnl_open;          /* daily PnL when it opened */
    bool pnl_resolved_known;  /* pnl_resolved was recorded */
    wd_fix pnl_resolved;      /* daily PnL at resolution */

    /* The scenario's recovery criteria (wd_scenario_recovery_criteria). */
    struct wd_inc_check criteria[WD_INCIDENT_CRITERIA_MAX];
    uint32_t n_criteria;

    struct wd_inc_action actions[WD_INCIDENT_ACTION_MAX];
    uint32_t n_actions;

    /* Deadlines already announced on the timeline by wd_incident_tick. */
    bool ack_breach_noted, resolve_breach_noted;
    uint8_t escalation_noted; /* an enum wd_escalation */
};

/* ---- timeline entries ---------------------------------------------------- */

enum wd_tl_kind {
    WD_TL_OPENED = 0,  /* the incident opened */
    WD_TL_STATUS,      /* a lifecycle transition */
    WD_TL_NOTE,        /* a person's note */
    WD_TL_FINDING,     /* a detector fired again on the open incident */
    WD_TL_CONTROL,     /* a control action (halt, cancel_all, flatten, resume) */
    WD_TL_APPROVAL,    /* an approval recorded by the store */
    WD_TL_CHECK,       /* a recovery criterion ticked or unticked */
    WD_TL_ACTION,      /* an action item added, done or reopened */
    WD_TL_SEVERITY,    /* severity raised */
    WD_TL_ROLE,        /* a role assigned or released */
    WD_TL_IMPACT,      /* the PnL at resolution recorded */
    WD_TL_SLA_BREACH,  /* the acknowledgement or resolution target passed */
    WD_TL_ESCALATION,  /* an escalation threshold passed */
    WD_TL_NOTIFY,      /* a notification queued, held, attempted, delivered or given up */
    WD_TL__COUNT
};

/* "opened", "status", "note", "finding", "control", "approval", "check",
 * "action", "severity", "role", "impact", "sla_breach", "escalation", "notify";
 * static. */
const char *wd_tl_kind_name(enum wd_tl_kind k);
enum wd_status wd_tl_kind_parse(const char *s, enum wd_tl_kind *out) WD_MUST_USE;

/* One line of an incident's timeline, as a value: the caller persists it.
 * from/to are the changed value before and after ("" where not applicable:
 * a note has neither; an SME added has no from). */
struct wd_timeline_entry {
    int64_t ts_ns;
    char incident[WD_INCIDENT_ID_MAX];
    enum wd_tl_kind kind;
    char who[WD_WHO_MAX];
    char from[WD_TIMELINE_VALUE_MAX];
    char to[WD_TIMELINE_VALUE_MAX];
    char text[WD_TIMELINE_TEXT_MAX]; /* one human sentence; a note's own text */
};

/* ---- ids ----------------------------------------------------------------- */

/* Writes INC-YYYYMMDD-NNN for local date `day` (days since the epoch) and
 * number seq (1..9999; three digits, four from 1000), as the engine numbers
 * them. WD_ERANGE: seq out of range or a year outside 0..9999; WD_EFULL:
 * cap < WD_INCIDENT_ID_MAX. */
enum wd_status wd_incident_id_format(int64_t day, uint32_t seq, char *buf,
                                     size_t cap) WD_MUST_USE;

/* Parses an id written by wd_incident_id_format (exactly that form: a valid
 * date, no extra leading zero). day and seq may be NULL. WD_EINVAL otherwise. */
enum wd_status wd_incident_id_parse(const char *id, int64_t *day, uint32_t *seq) WD_MUST_USE;

/* ---- opening and mutating ------------------------------------------------ */

/* What an incident opens with. Every string is borrowed for the call only. */
struct wd_incident_opening {
    const char *id;              /* INC-YYYYMMDD-NNN */
    enum wd_scenario scenario;
    const char *scope;           /* as wd_scope_parse accepts */
    enum wd_severity severity;   /* at least the scenario's default, except manual */
    const char *title;           /* 1 .. WD_TEXT_MAX-1 bytes */
    const char *detail;          /* 0 .. WD_INCIDENT_DETAIL_MAX-1 bytes; NULL = "" */
    const char *who;             /* who opens it: "warden" for a detector */
    bool trading_halted;
    wd_fix pnl_open;
};

/*
 * All the functions below share these rules.
 *   - `who` is the acting person (or "warden"): 1 .. WD_WHO_MAX-1 bytes, no
 *     control character. Texts are bounded as their fields; a longer one is
 *     refused (WD_ERANGE), never cut.
 *   - `now_ns` must be >= inc->updated_ns (WD_EINVAL otherwise).
 *   - On success the record has changed and *entry (if entry is non-NULL)
 *     describes the change; on failure neither inc nor *entry has changed
 *     and err (optional) says why in a full sentence.
 *   - Nothing changes a closed incident (WD_ESTATE), except marking its
 *     action items done: the review's follow-ups are finished after it.
 */

/* Initialises *inc as a new incident in status open, with the scenario's
 * recovery criteria unticked. WD_EINVAL: a bad id, scope, scenario or
 * severity, or a severity below the scenario's default (except manual);
 * WD_ERANGE: a text too long. */
enum wd_status wd_incident_open(struct wd_incident *inc, const struct wd_incident_opening *o,
                                int64_t now_ns, struct wd_timeline_entry *entry,
                                struct wd_error *err) WD_MUST_USE;

/* Moves inc to status `to` (see wd_inc_transition_allowed). The first move
 * out of open stamps acknowledged_ns, resolved stamps resolved_ns, closed
 * closed_ns. A P0/P1 cannot be resolved while a recovery criterion is
 * unticked. WD_ESTATE when refused; the message names both statuses, what is
 * allowed instead, or the first unticked criterion. */
enum wd_status wd_incident_transition(struct wd_incident *inc, enum wd_inc_status to,
                                      const char *who, int64_t now_ns,
                                      struct wd_timeline_entry *entry,
                                      struct wd_error *err) WD_MUST_USE;

/* Raises the severity to `to` (a smaller P number), in an active status
 * only. WD_ESTATE when `to` is not more severe than the current one. */
enum wd_status wd_incident_raise(struct wd_incident *inc, enum wd_severity to, const char *who,
                                 int64_t now_ns, struct wd_timeline_entry *entry,
                                 struct wd_error *err) WD_MUST_USE;

/* Assigns `name` to a role (replacing whoever held it), or adds an SME.
 * WD_ESTATE: the same person already holds it; WD_EFULL: the SME list is
 * full. */
enum wd_status wd_incident_assign(struct wd_incident *inc, enum wd_inc_role role,
                                  const char *name, const char *who, int64_t now_ns,
                                  struct wd_timeline_entry *entry,
                                  struct wd_error *err) WD_MUST_USE;

/* Releases a role (name must be its holder) or removes an SME by name.
 * WD_ENOTFOUND: name does not hold it. */
enum wd_status wd_incident_unassign(struct wd_incident *inc, enum wd_inc_role role,
                                    const char *name, const char *who, int64_t now_ns,
                                    struct wd_timeline_entry *entry,
                                    struct wd_error *err) WD_MUST_USE;

/* Ticks (done) or unticks recovery criterion `index` (0-based), stamping who
 * and when (cleared on untick). WD_ENOTFOUND: no such criterion; WD_ESTATE:
 * already in that state, or unticking a criterion of a resolved P0/P1 (it
 * was resolved on it). */
enum wd_status wd_incident_check(struct wd_incident *inc, uint32_t index, bool done,
                                 const char *who, int64_t now_ns,
                                 struct wd_timeline_entry *entry,
                                 struct wd_error *err) WD_MUST_USE;

/* Adds an action item (text 1 .. WD_TEXT_MAX-1 bytes, owner a name as `who`,
 * due_ns 0 for none); *index (optional) receives its 0-based index.
 * WD_EFULL at WD_INCIDENT_ACTION_MAX. */
enum wd_status wd_incident_action_add(struct wd_incident *inc, const char *text,
                                      const char *owner, int64_t due_ns, const char *who,
                                      int64_t now_ns, uint32_t *index,
                                      struct wd_timeline_entry *entry,
                                      struct wd_error *err) WD_MUST_USE;

/* Marks action item `index` done (or not done again). WD_ENOTFOUND: no such
 * item; WD_ESTATE: already so. */
enum wd_status wd_incident_action_done(struct wd_incident *inc, uint32_t index, bool done,
                                       const char *who, int64_t now_ns,
                                       struct wd_timeline_entry *entry,
                                       struct wd_error *err) WD_MUST_USE;

/* Records the daily PnL at resolution (status resolved only; once). */
enum wd_status wd_incident_set_pnl_resolved(struct wd_incident *inc, wd_fix pnl,
                                            const char *who, int64_t now_ns,
                                            struct wd_timeline_entry *entry,
                                            struct wd_error *err) WD_MUST_USE;

/* A timeline entry that changes no field but the last-change time: kind is
 * WD_TL_NOTE, WD_TL_FINDING, WD_TL_CONTROL or WD_TL_APPROVAL (WD_EINVAL
 * otherwise); text 1 .. WD_TIMELINE_TEXT_MAX-1 bytes becomes the entry's
 * text. A detector firing again on an open incident calls this with
 * WD_TL_FINDING instead of opening a duplicate. */
enum wd_status wd_incident_note(struct wd_incident *inc, enum wd_tl_kind kind, const char *text,
                                const char *who, int64_t now_ns,
                                struct wd_timeline_entry *entry,
                                struct wd_error *err) WD_MUST_USE;

/* ---- SLA and escalation (data only: no notification here) ---------------- */

/* The playbook's response time for a severity, to acknowledge:
 * P0 5 min, P1 15 min, P2 1 h, P3 24 h. */
int64_t wd_sla_ack_target_ns(enum wd_severity s);

/* The playbook's expected resolution time for a scenario, its upper bound
 * (P0-1 4 h, P0-2 24 h, P0-3 5 days, P1-1 30 min, P1-2 30 min, P1-3 2 h,
 * P2-1 4 h, P2-2 2 h; kill_psr as P0-1); 0 for manual (the playbook gives
 * none). */
int64_t wd_sla_resolve_target_ns(enum wd_scenario sc);

struct wd_incident_sla {
    int64_t ack_target_ns;        /* for the current severity */
    int64_t ack_due_ns;           /* opened_ns + ack_target_ns */
    bool acknowledged;
    int64_t ack_remaining_ns;     /* due - (acknowledged_ns, else now); < 0 when past */
    bool ack_breached;            /* ack_remaining_ns < 0 */
    int64_t resolve_target_ns;    /* 0: no target (then the fields below are 0/false) */
    int64_t resolve_due_ns;       /* opened_ns + resolve_target_ns */
    bool resolved;
    int64_t resolve_remaining_ns; /* due - (resolved_ns, else now); < 0 when past */
    bool resolve_breached;
};

/* Fills *out for inc at now_ns. A deadline met exactly on time is not
 * breached; one nanosecond later is. Once acknowledged (resolved), the
 * remaining time is frozen at that moment. */
void wd_incident_sla(const struct wd_incident *inc, int64_t now_ns, struct wd_incident_sla *out);

/* SPEC section 6: unresolved for more than 30 min -> Senior Engineer, more
 * than 2 h -> management. */
enum wd_escalation { WD_ESC_ON_CALL = 0, WD_ESC_SENIOR_ENGINEER, WD_ESC_MANAGEMENT };

#define WD_ESCALATE_SENIOR_NS (30LL * 60 * 1000000000LL)
#define WD_ESCALATE_MANAGEMENT_NS (2LL * 3600 * 1000000000LL)

/* "on_call", "senior_engineer", "management"; static. */
const char *wd_escalation_name(enum wd_escalation e);

/* The level reached by an incident unresolved for (resolved_ns, else now)
 * - opened_ns: > 30 min senior engineer, > 2 h management. */
enum wd_escalation wd_incident_escalation_level(const struct wd_incident *inc, int64_t now_ns);

/* Announces the next deadline passed and not yet announced, in this order:
 * acknowledgement SLA, senior-engineer escalation, management escalation,
 * resolution SLA. Returns true and fills *entry (WD_TL_SLA_BREACH or
 * WD_TL_ESCALATION, who "warden") when it marked one; false, changing
 * nothing, when there is none, the incident is not active, or now_ns is
 * before its last change. Call until it returns false. */
bool wd_incident_tick(struct wd_incident *inc, int64_t now_ns, struct wd_timeline_entry *entry);

/* (resolved_ns, else now) - opened_ns. */
int64_t wd_incident_duration_ns(const struct wd_incident *inc, int64_t now_ns);

/* ---- resuming ------------------------------------------------------------ */

enum wd_resume_basis {
    WD_RESUME_BLOCKED = 0,  /* P0/P1 not resolved, a criterion unticked */
    WD_RESUME_RESOLVED,     /* P0/P1 resolved (or closed) */
    WD_RESUME_CRITERIA_MET, /* P0/P1 not resolved, every criterion ticked */
    WD_RESUME_NOT_GATED     /* P2/P3: the incident does not hold trading */
};

/* "blocked", "resolved", "criteria_met", "not_gated"; static. */
const char *wd_resume_basis_name(enum wd_resume_basis b);

/* Whether the incident's side of a resume is met, and why (why optional).
 * The approvals the playbook names are checked by the store, not here. */
bool wd_incident_may_resume(const struct wd_incident *inc, enum wd_resume_basis *why);

/* Index of the first unticked recovery criterion, or -1 when all are ticked. */
int wd_incident_first_unticked(const struct wd_incident *inc);

/* ---- canonical form ------------------------------------------------------ */

/*
 * Writes the canonical text of every field of inc into buf (NUL-terminated
 * when cap > 0) and returns its length without the NUL, like snprintf: when
 * the result is >= cap the text was cut, and a buffer of
 * WD_INCIDENT_CANONICAL_MAX bytes is always enough. The store hashes it into
 * the audit chain, so it is deterministic and unambiguous:
 *
 *   - one line of JSON, no whitespace, keys in the fixed order below;
 *   - strings: '"' and '\\' escaped with a backslash, bytes below 0x20 and
 *     0x7f as \u00XX (lowercase hex), every other byte as is;
 *   - times and counts as decimal integers; money as a JSON string holding
 *     the exact decimal (wd_fix_format, no trailing zeros, no exponent);
 *     an unknown PnL as null; enums by name; booleans true/false.
 *
 *   {"v":1,"id":S,"scenario":S,"scope":S,"severity":S,"title":S,"detail":S,
 *    "status":S,"opened_by":S,"opened_ns":N,"acknowledged_ns":N,
 *    "resolved_ns":N,"closed_ns":N,"updated_ns":N,
 *    "roles":{"commander":S,"risk_officer":S,"technical_lead":S,
 *             "communications_lead":S,"smes":[S,...]},
 *    "impact":{"trading_halted":B,"pnl_open":M,"pnl_resolved":M|null},
 *    "criteria":[{"text":S,"done":B,"who":S,"when_ns":N},...],
 *    "actions":[{"text":S,"owner":S,"due_ns":N,"done":B,"done_by":S,
 *                "done_ns":N},...],
 *    "noted":{"ack_breach":B,"resolve_breach":B,"escalation":S}}
 *
 * (shown wrapped; the real text has no blank or newline outside strings).
 */
size_t wd_incident_canonical(const struct wd_incident *inc, char *buf, size_t cap);

#endif /* WD_CORE_INCIDENT_H */
