/*
 * Trading-state actions shared by `warden halt|resume|status` and the API
 * (states.h). The store is the source of truth: a running warden, and
 * every later replay, read the states written here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"
#include "svc/states.h"

static void copy(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src);
}

static enum wd_svc_code check_scope(const char *scope, struct wd_svc_result *res)
{
    enum wd_scope_kind kind;
    const char *name;
    struct wd_error err = {0};
    if (scope == NULL || wd_scope_parse(scope, &kind, &name, &err) != WD_OK) {
        return wd__svc_set(res, WD_SVC_INVALID, "scope: %s",
                           scope == NULL ? "required" : err.msg);
    }
    return WD_SVC_OK;
}

void wd_svc_roles_text(unsigned mask, char *buf, size_t cap)
{
    buf[0] = '\0';
    if (mask & WD_ROLE_RISK_OFFICER) {
        snprintf(buf, cap, "risk_officer");
    }
    if (mask & WD_ROLE_CTO) {
        size_t n = strlen(buf);
        snprintf(buf + n, cap - n, "%scto", n ? " + " : "");
    }
}

enum wd_svc_code wd_svc_halt(struct wd_store *store, const char *scope, bool reduce_only,
                             const char *reason, const char *who, int64_t now_ns,
                             struct wd_scope_state *out, struct wd_svc_result *res)
{
    struct wd_error err = {0};
    struct wd_scope_state st;
    if (check_scope(scope, res) != WD_SVC_OK) {
        return WD_SVC_INVALID;
    }
    if (reason == NULL || reason[0] == '\0') {
        return wd__svc_set(res, WD_SVC_INVALID, "a reason is required (it goes on the record)");
    }
    if (who == NULL || who[0] == '\0') {
        return wd__svc_set(res, WD_SVC_INVALID, "who acts is required");
    }
    memset(&st, 0, sizeof st);
    copy(st.scope, sizeof st.scope, scope);
    st.state = reduce_only ? WD_TS_REDUCE_ONLY : WD_TS_HALTED;
    st.since_ns = now_ns;
    copy(st.reason, sizeof st.reason, reason);
    copy(st.by, sizeof st.by, who);
    copy(st.scenario, sizeof st.scenario, "manual");
    if (wd_store_put_state(store, &st, &err) != WD_OK) {
        return wd__svc_set(res, WD_SVC_STORE, "store: %s", err.msg);
    }
    if (out != NULL) {
        *out = st;
    }
    return wd__svc_set(res, WD_SVC_OK, "%s: %s by %s: %s", st.scope, wd_tstate_name(st.state),
                       st.by, st.reason);
}

static enum wd_svc_code rollback(struct wd_store *store, struct wd_svc_result *res,
                                 const struct wd_error *err)
{
    wd_store_rollback(store);
    return wd__svc_set(res, WD_SVC_STORE, "store: %s", err->msg);
}

enum wd_svc_code wd_svc_resume(struct wd_store *store, const char *scope, const char *role_name,
                               const char *reason, const char *who, int64_t now_ns,
                               struct wd_svc_resume *out, struct wd_svc_result *res)
{
    struct wd_error err = {0};
    struct wd_approval *list = NULL;
    size_t n = 0;
    enum wd_role role;
    struct wd_scope_state st;
    bool found = false;
    enum wd_svc_code code;
    memset(out, 0, sizeof *out);
    out->first_unticked = -1;
    if (check_scope(scope, res) != WD_SVC_OK) {
        return WD_SVC_INVALID;
    }
    if (who == NULL || who[0] == '\0' || role_name == NULL || reason == NULL ||
        reason[0] == '\0') {
        return wd__svc_set(res, WD_SVC_INVALID,
                           "who, role and reason are required (they go on the record)");
    }
    if (wd_role_parse(role_name, &role) != WD_OK) {
        return wd__svc_set(res, WD_SVC_INVALID, "role '%s': expected risk_officer or cto",
                           role_name);
    }
    out->role = role;
    if (wd_store_get_state(store, scope, &st, &found, &err) != WD_OK) {
        return wd__svc_set(res, WD_SVC_STORE, "store: %s", err.msg);
    }
    if (!found || (st.state != WD_TS_HALTED && st.state != WD_TS_REDUCE_ONLY)) {
        return wd__svc_set(res, WD_SVC_REFUSED, "%s is %s: nothing to resume", scope,
                           found ? wd_tstate_name(st.state) : "ACTIVE");
    }
    unsigned required = wd_resume_required_roles(st.scenario);
    if (!(required & role)) {
        char need[64];
        wd_svc_roles_text(required, need, sizeof need);
        return wd__svc_set(res, WD_SVC_REFUSED,
                           "a %s approval is not what resuming %s needs (%s)", role_name, scope,
                           need);
    }
    struct wd_approval a;
    memset(&a, 0, sizeof a);
    copy(a.scope, sizeof a.scope, scope);
    copy(a.who, sizeof a.who, who);
    a.role = role;
    copy(a.reason, sizeof a.reason, reason);
    copy(a.incident, sizeof a.incident, st.incident);
    copy(out->incident, sizeof out->incident, st.incident);
    a.ts_ns = now_ns;
    if (wd_store_begin(store, &err) != WD_OK || wd_store_add_approval(store, &a, &err) != WD_OK ||
        wd_store_list_approvals(store, scope, st.since_ns, &list, &n, &err) != WD_OK) {
        code = rollback(store, res, &err);
        goto out;
    }
    unsigned have = 0;
    for (size_t i = 0; i < n; i++) {
        have |= list[i].role;
    }
    /* The incident that halted the scope holds trading until its recovery
     * criteria are ticked (P0/P1): issue 5, the playbook's Recover step. */
    struct wd_incident inc;
    bool have_inc = false;
    enum wd_resume_basis basis = WD_RESUME_NOT_GATED;
    if (st.incident[0] != '\0' &&
        wd_store_incident_load(store, st.incident, &inc, &have_inc, &err) != WD_OK) {
        code = rollback(store, res, &err);
        goto out;
    }
    bool criteria_ok = !have_inc || wd_incident_may_resume(&inc, &basis);
    out->still_needed = required & ~have;
    if ((have & required) == required && !criteria_ok) {
        out->criteria_blocked = true;
        out->first_unticked = wd_incident_first_unticked(&inc);
        if (out->first_unticked >= 0) {
            copy(out->first_text, sizeof out->first_text, inc.criteria[out->first_unticked].text);
        }
    } else if ((have & required) == required) {
        struct wd_scope_state ns = st;
        ns.state = WD_TS_RAMP_UP;
        ns.since_ns = a.ts_ns;
        snprintf(ns.reason, sizeof ns.reason, "resumed with approval");
        copy(ns.by, sizeof ns.by, who);
        ns.ramp_until_ns = 0;
        if (wd_store_put_state(store, &ns, &err) != WD_OK) {
            code = rollback(store, res, &err);
            goto out;
        }
        out->resumed = true;
    }
    if (wd_store_commit(store, &err) != WD_OK) {
        code = rollback(store, res, &err);
        goto out;
    }
    code = wd__svc_set(res, WD_SVC_OK, "%s: approval by %s (%s) recorded", scope, who,
                       wd_role_name(role));
out:
    free(list);
    return code;
}

enum wd_svc_code wd_svc_scope_approvals(struct wd_store *store, const struct wd_scope_state *s,
                                        char *need, size_t need_cap, char *have,
                                        size_t have_cap, struct wd_svc_result *res)
{
    struct wd_approval *list = NULL;
    struct wd_error err = {0};
    size_t na = 0;
    unsigned got = 0;
    need[0] = '\0';
    have[0] = '\0';
    if (s->state != WD_TS_HALTED && s->state != WD_TS_REDUCE_ONLY) {
        return WD_SVC_OK;
    }
    unsigned req = wd_resume_required_roles(s->scenario);
    if (wd_store_list_approvals(store, s->scope, s->since_ns, &list, &na, &err) != WD_OK) {
        return wd__svc_set(res, WD_SVC_STORE, "store: %s", err.msg);
    }
    for (size_t k = 0; k < na; k++) {
        size_t len = strlen(have);
        got |= list[k].role;
        snprintf(have + len, have_cap - len, "%s%s (%s)", len ? ", " : "", list[k].who,
                 wd_role_name(list[k].role));
    }
    free(list);
    wd_svc_roles_text(req & ~got, need, need_cap);
    return WD_SVC_OK;
}
