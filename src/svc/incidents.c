/*
 * Incident actions shared by `warden incident` and the API (incidents.h).
 * Each action: load the record, one pure lifecycle call, then save the
 * record and its timeline entry (and an approval, for approve) in one
 * store transaction, rolled back on any failure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"
#include "svc/incidents.h"
#include "warden/timeutil.h"

enum wd_status wd_svc_incident_seq(struct wd_store *s, int64_t day, uint32_t *seq,
                                   struct wd_error *err)
{
    char ymd[16];
    int64_t y;
    unsigned m, d;
    wd_civil_from_days(day, &y, &m, &d);
    snprintf(ymd, sizeof ymd, "%04lld%02u%02u", (long long)y, m, d);
    return wd_store_incident_seq(s, ymd, seq, err);
}

/* A refusal of the core, by its status. */
static enum wd_svc_code core_refused(struct wd_svc_result *res, const struct wd_error *err)
{
    enum wd_svc_code code;
    switch (err->status) {
    case WD_ESTATE:
    case WD_EFULL: code = WD_SVC_REFUSED; break;
    case WD_EINVAL:
    case WD_ERANGE:
    case WD_ENOTFOUND: code = WD_SVC_INVALID; break;
    default: code = WD_SVC_STORE; break;
    }
    return wd__svc_set(res, code, "%s", err->msg);
}

static enum wd_svc_code store_failed(struct wd_store *store, struct wd_svc_result *res,
                                     const struct wd_error *err)
{
    wd_store_rollback(store);
    return wd__svc_set(res, WD_SVC_STORE, "store: %s", err->msg);
}

/* Saves the record and its entries, then commits the transaction the
 * caller began (rolled back on failure). */
static enum wd_svc_code save_commit(struct wd_store *store, const struct wd_incident *inc,
                                    const char *who, const struct wd_timeline_entry *e,
                                    const struct wd_timeline_entry *e2,
                                    struct wd_svc_result *res)
{
    struct wd_error err = {0};
    if (wd_store_incident_save(store, inc, who, &err) != WD_OK ||
        wd_store_timeline_append(store, e, &err) != WD_OK ||
        (e2 != NULL && wd_store_timeline_append(store, e2, &err) != WD_OK) ||
        wd_store_commit(store, &err) != WD_OK) {
        return store_failed(store, res, &err);
    }
    return wd__svc_set(res, WD_SVC_OK, "%s", e->text);
}

/* An approval to resume the incident's scope: recorded as warden resume
 * records one (the store's approvals), and on the timeline. */
static enum wd_status approve(struct wd_store *store, struct wd_incident *inc,
                              const struct wd_svc_inc_change *ch, const char *who, int64_t now,
                              struct wd_timeline_entry *e, struct wd_error *err)
{
    struct wd_approval a;
    char text[WD_TIMELINE_TEXT_MAX];
    memset(&a, 0, sizeof a);
    if (ch->role == NULL || wd_role_parse(ch->role, &a.role) != WD_OK) {
        return wd_error_set(err, WD_EINVAL, "role '%s': risk_officer or cto",
                            ch->role ? ch->role : "");
    }
    if (ch->reason == NULL || ch->reason[0] == '\0') {
        return wd_error_set(err, WD_EINVAL, "approve: a reason is required");
    }
    snprintf(a.scope, sizeof a.scope, "%s", inc->scope);
    snprintf(a.who, sizeof a.who, "%s", who);
    snprintf(a.reason, sizeof a.reason, "%s", ch->reason);
    snprintf(a.incident, sizeof a.incident, "%s", inc->id);
    a.ts_ns = now;
    snprintf(text, sizeof text, "%s approves resuming %s: %s", ch->role, inc->scope, ch->reason);
    enum wd_status st = wd_incident_note(inc, WD_TL_APPROVAL, text, who, now, e, err);
    if (st != WD_OK) {
        return st;
    }
    st = wd_store_add_approval(store, &a, err);
    if (st != WD_OK) {
        err->status = WD_EIO;
    }
    return st;
}

/* The one core call of ch on the loaded record. */
static enum wd_status apply(struct wd_store *store, struct wd_incident *inc,
                            const struct wd_svc_inc_change *ch, const char *who, int64_t now,
                            struct wd_timeline_entry *e, struct wd_error *err)
{
    enum wd_inc_status to;
    enum wd_inc_role role;
    switch (ch->op) {
    case WD_SVC_INC_ACK: return wd_incident_transition(inc, WD_INC_ACKNOWLEDGED, who, now, e, err);
    case WD_SVC_INC_RESOLVE: return wd_incident_transition(inc, WD_INC_RESOLVED, who, now, e, err);
    case WD_SVC_INC_CLOSE: return wd_incident_transition(inc, WD_INC_CLOSED, who, now, e, err);
    case WD_SVC_INC_STATUS:
        if (ch->status == NULL || wd_inc_status_parse(ch->status, &to) != WD_OK) {
            return wd_error_set(err, WD_EINVAL,
                                "'%s' is not a status (open, acknowledged, investigating, "
                                "identified, fixing, monitoring, resolved, closed)",
                                ch->status ? ch->status : "");
        }
        return wd_incident_transition(inc, to, who, now, e, err);
    case WD_SVC_INC_NOTE:
        return wd_incident_note(inc, WD_TL_NOTE, ch->text ? ch->text : "", who, now, e, err);
    case WD_SVC_INC_ASSIGN:
        if (ch->role == NULL || wd_inc_role_parse(ch->role, &role) != WD_OK) {
            return wd_error_set(err, WD_EINVAL,
                                "role '%s': one of commander, risk_officer, tech_lead, "
                                "comms_lead, sme",
                                ch->role ? ch->role : "");
        }
        if (ch->name == NULL) {
            return wd_error_set(err, WD_EINVAL, "assign: a name is required");
        }
        return ch->undo ? wd_incident_unassign(inc, role, ch->name, who, now, e, err)
                        : wd_incident_assign(inc, role, ch->name, who, now, e, err);
    case WD_SVC_INC_CHECK:
        if (ch->index >= inc->n_criteria) {
            return wd_error_set(err, WD_EINVAL,
                                "no such recovery criterion %u (the checklist has %u)",
                                ch->index + 1u, inc->n_criteria);
        }
        return wd_incident_check(inc, ch->index, !ch->undo, who, now, e, err);
    case WD_SVC_INC_APPROVE: return approve(store, inc, ch, who, now, e, err);
    case WD_SVC_INC_ACTION_ADD:
        if (ch->owner == NULL || ch->owner[0] == '\0') {
            return wd_error_set(err, WD_EINVAL, "action add: an owner is required");
        }
        return wd_incident_action_add(inc, ch->text ? ch->text : "", ch->owner, ch->due_ns, who,
                                      now, NULL, e, err);
    case WD_SVC_INC_ACTION_DONE:
        if (ch->index >= inc->n_actions) {
            return wd_error_set(err, WD_EINVAL, "no such action item %u (there are %u)",
                                ch->index + 1u, inc->n_actions);
        }
        return wd_incident_action_done(inc, ch->index, !ch->undo, who, now, e, err);
    }
    return wd_error_set(err, WD_EINVAL, "unknown incident action");
}

enum wd_svc_code wd_svc_incident_change(struct wd_store *store, const char *id,
                                        const struct wd_svc_inc_change *ch, const char *who,
                                        int64_t now_ns, struct wd_incident *out,
                                        struct wd_timeline_entry *entry,
                                        struct wd_svc_result *res)
{
    struct wd_incident inc;
    struct wd_timeline_entry e, e2;
    struct wd_error err = {0};
    bool found = false;
    if (who == NULL || who[0] == '\0') {
        return wd__svc_set(res, WD_SVC_INVALID, "who acts is required");
    }
    if (wd_store_incident_load(store, id, &inc, &found, &err) != WD_OK) {
        return wd__svc_set(res, WD_SVC_STORE, "store: %s", err.msg);
    }
    if (!found) {
        return wd__svc_set(res, WD_SVC_NOT_FOUND, "incident %s: no such incident", id);
    }
    memset(&e, 0, sizeof e);
    if (wd_store_begin(store, &err) != WD_OK) {
        return wd__svc_set(res, WD_SVC_STORE, "store: %s", err.msg);
    }
    if (apply(store, &inc, ch, who, now_ns, &e, &err) != WD_OK) {
        wd_store_rollback(store);
        return core_refused(res, &err);
    }
    bool with_pnl = ch->op == WD_SVC_INC_RESOLVE && ch->with_pnl;
    if (with_pnl && wd_incident_set_pnl_resolved(&inc, ch->pnl, who, now_ns, &e2, &err) != WD_OK) {
        wd_store_rollback(store);
        return core_refused(res, &err);
    }
    enum wd_svc_code code = save_commit(store, &inc, who, &e, with_pnl ? &e2 : NULL, res);
    if (code == WD_SVC_OK) {
        if (out != NULL) {
            *out = inc;
        }
        if (entry != NULL) {
            *entry = e;
        }
    }
    return code;
}

enum wd_svc_code wd_svc_incident_open(struct wd_store *store, const struct wd_tz *tz,
                                      const struct wd_svc_inc_open *op, const char *who,
                                      int64_t now_ns, struct wd_incident *out,
                                      struct wd_timeline_entry *entry, char *existing,
                                      struct wd_svc_result *res)
{
    struct wd_incident inc;
    struct wd_timeline_entry e;
    struct wd_error err = {0};
    struct wd_incident_opening o = {0};
    char id[WD_INCIDENT_ID_MAX];
    bool found = false;
    if (who == NULL || who[0] == '\0') {
        return wd__svc_set(res, WD_SVC_INVALID, "who acts is required");
    }
    if (op->scenario == NULL || wd_scenario_parse(op->scenario, &o.scenario) != WD_OK) {
        return wd__svc_set(res, WD_SVC_INVALID, "scenario '%s' is not a scenario (see docs/SCENARIOS.md)",
                   op->scenario ? op->scenario : "");
    }
    o.severity = wd_scenario_default_severity(o.scenario);
    if (op->severity != NULL && wd_severity_parse(op->severity, &o.severity) != WD_OK) {
        return wd__svc_set(res, WD_SVC_INVALID, "severity '%s': P0, P1, P2 or P3", op->severity);
    }
    if (op->title == NULL) {
        return wd__svc_set(res, WD_SVC_INVALID, "a title is required");
    }
    o.scope = op->scope != NULL ? op->scope : "firm";
    o.title = op->title;
    o.detail = op->detail;
    o.who = who;
    /* One incident per (scenario, scope) while it is not resolved. */
    if (wd_store_incident_find_active(store, o.scenario, o.scope, id, &found, &err) != WD_OK) {
        return wd__svc_set(res, WD_SVC_STORE, "store: %s", err.msg);
    }
    if (found) {
        if (existing != NULL) {
            snprintf(existing, WD_INCIDENT_ID_MAX, "%s", id);
        }
        return wd__svc_set(res, WD_SVC_REFUSED, "%s is already open for %s on %s", id,
                   wd_scenario_name(o.scenario), o.scope);
    }
    int64_t day = wd_tz_local_day(tz, now_ns, NULL, NULL);
    uint32_t seq = 0;
    if (wd_store_begin(store, &err) != WD_OK ||
        wd_svc_incident_seq(store, day, &seq, &err) != WD_OK ||
        wd_incident_id_format(day, seq + 1u, id, sizeof id) != WD_OK) {
        wd_store_rollback(store);
        return wd__svc_set(res, WD_SVC_STORE, "store: %s",
                   err.msg[0] ? err.msg : "cannot number the incident");
    }
    o.id = id;
    if (wd_incident_open(&inc, &o, now_ns, &e, &err) != WD_OK) {
        wd_store_rollback(store);
        return core_refused(res, &err);
    }
    enum wd_svc_code code = save_commit(store, &inc, who, &e, NULL, res);
    if (code == WD_SVC_OK && out != NULL) {
        *out = inc;
    }
    if (code == WD_SVC_OK && entry != NULL) {
        *entry = e;
    }
    return code;
}

/* The most entries one tick can add: every deadline wd_incident_tick
 * announces (ack SLA, senior engineer, management, resolution SLA). */
#define TICK_ENTRIES_MAX 8

enum wd_svc_code wd_svc_incidents_tick(struct wd_store *store, int64_t now_ns, wd_svc_tick_fn fn,
                                       void *ctx, struct wd_svc_result *res)
{
    struct wd_incident *v = NULL;
    size_t n = 0;
    struct wd_error err = {0};
    enum wd_svc_code code = wd__svc_set(res, WD_SVC_OK, "no deadline passed");
    if (wd_store_incident_list_records(store, true, &v, &n, &err) != WD_OK) {
        return wd__svc_set(res, WD_SVC_STORE, "store: %s", err.msg);
    }
    for (size_t i = 0; i < n && code == WD_SVC_OK; i++) {
        struct wd_timeline_entry e[TICK_ENTRIES_MAX];
        size_t k = 0;
        while (k < TICK_ENTRIES_MAX && wd_incident_tick(&v[i], now_ns, &e[k])) {
            k++;
        }
        if (k == 0) {
            continue;
        }
        enum wd_status st = wd_store_begin(store, &err);
        if (st == WD_OK) {
            st = wd_store_incident_save(store, &v[i], "warden", &err);
        }
        for (size_t j = 0; j < k && st == WD_OK; j++) {
            st = wd_store_timeline_append(store, &e[j], &err);
        }
        if (st == WD_OK) {
            st = wd_store_commit(store, &err);
        }
        if (st != WD_OK) {
            code = store_failed(store, res, &err);
            break;
        }
        if (fn != NULL) {
            fn(ctx, &v[i], e, k);
        }
    }
    free(v);
    return code;
}
