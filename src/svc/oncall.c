/*
 * On-call services (svc/oncall.h): escalation of open incidents, the
 * chain's test page, silences. The decisions are the core's
 * (warden/oncall.h); this file loads, records in one transaction per
 * change, and hands pages to wd_svc_page.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "svc/oncall.h"
#include "warden/timeutil.h"

static enum wd_svc_code store_failed(struct wd_store *s, struct wd_svc_result *res,
                                     const struct wd_error *err)
{
    wd_store_rollback(s);
    return wd__svc_set(res, WD_SVC_STORE, "store: %s", err->msg);
}

/* "silence #3 (until 2025-...Z, by alice)" for the timeline. */
static void silence_text(const struct wd_silence *sl, char *buf, size_t cap)
{
    char until[32];
    (void)wd_time_format_utc(sl->until_ns, until, sizeof until);
    (void)snprintf(buf, cap, "silence #%lld (until %s, by %s)", (long long)sl->id, until, sl->by);
}

/* Records level l of inc and pages it, in one transaction. */
static enum wd_svc_code escalate_to(struct wd_store *s, const struct wd_oncall_config *c,
                                    const struct wd_tz *tz, const struct wd_incident *inc,
                                    uint32_t l, const char *why, int64_t now,
                                    const struct wd_oncall_shift *shift, bool *added,
                                    struct wd_svc_result *res)
{
    struct wd_error err = {0};
    struct wd_page_plan plan;
    struct wd_escalation_row row;
    struct wd_timeline_entry e;
    struct wd_silence sl;
    bool silenced = false;
    char who[WD_TIMELINE_TEXT_MAX], held[160] = "";
    const struct wd_esc_level *lv = &c->levels[l - 1];

    wd_escalation_plan(c, tz, shift, l, inc->severity, now, &plan);
    (void)wd_page_plan_text(&plan, who, sizeof who);
    memset(&row, 0, sizeof row);
    memcpy(row.incident, inc->id, sizeof row.incident);
    row.level = l;
    row.ts_ns = now;
    (void)snprintf(row.level_name, sizeof row.level_name, "%s", lv->name);
    (void)snprintf(row.reason, sizeof row.reason, "%s", why);
    if (plan.n > 0 && plan.level != l) {
        (void)snprintf(row.paged, sizeof row.paged, "nobody at L%u within hours; L%u %.40s: %.380s", l,
                       plan.level, plan.level_name, who);
    } else {
        (void)snprintf(row.paged, sizeof row.paged, "%s", who);
    }
    if (wd_store_begin(s, &err) != WD_OK) {
        return wd__svc_set(res, WD_SVC_STORE, "store: %s", err.msg);
    }
    if (wd_store_silence_active(s, wd_scenario_name(inc->scenario), inc->scope, now, &sl,
                                &silenced, &err) != WD_OK ||
        wd_store_escalation_add(s, &row, added, &err) != WD_OK) {
        return store_failed(s, res, &err);
    }
    if (!*added) {
        wd_store_rollback(s); /* that level was recorded before */
        return WD_SVC_OK;
    }
    if (silenced) {
        char st[120];
        silence_text(&sl, st, sizeof st);
        (void)snprintf(held, sizeof held, "; page held back by %s", st);
    }
    memset(&e, 0, sizeof e);
    e.ts_ns = now;
    memcpy(e.incident, inc->id, sizeof e.incident);
    e.kind = WD_TL_ESCALATION;
    (void)snprintf(e.who, sizeof e.who, "warden");
    (void)snprintf(e.from, sizeof e.from, "L%u", l - 1);
    (void)snprintf(e.to, sizeof e.to, "L%u", l);
    (void)snprintf(e.text, sizeof e.text, "L%u %.40s (%.40s): paging %.280s%.120s", l, lv->name, why,
                   row.paged, held);
    if (wd_store_timeline_append(s, &e, &err) != WD_OK) {
        return store_failed(s, res, &err);
    }
    for (uint32_t i = 0; !silenced && i < plan.n; i++) {
        char text[WD_TIMELINE_TEXT_MAX];
        (void)snprintf(text, sizeof text, "%s %s %s: %.200s - escalated to L%u %.40s (%.40s)",
                       wd_severity_name(inc->severity), inc->id,
                       wd_scenario_name(inc->scenario), inc->title, l, lv->name, why);
        const struct wd_page p = {inc->id, wd_scenario_name(inc->scenario), inc->scope,
                                  inc->severity, plan.level, plan.level_name, plan.to[i], text,
                                  now};
        if (wd_svc_page(s, &p, &err) != WD_OK) {
            return store_failed(s, res, &err);
        }
    }
    if (wd_store_commit(s, &err) != WD_OK) {
        return wd__svc_set(res, WD_SVC_STORE, "store: %s", err.msg);
    }
    return WD_SVC_OK;
}

static enum wd_svc_code escalate_record(struct wd_store *s, const struct wd_oncall_config *c,
                                        const struct wd_tz *tz, const struct wd_incident *inc,
                                        int64_t now, uint32_t *paged, struct wd_svc_result *res)
{
    struct wd_error err = {0};
    struct wd_oncall_shift shift;
    char why[64];
    uint32_t have = 0;
    uint32_t target = wd_escalation_target(c, inc, now, why, sizeof why);
    if (target == 0) {
        return wd__svc_set(res, WD_SVC_OK, "%s is not active", inc->id);
    }
    if (wd_store_escalation_level(s, inc->id, &have, &err) != WD_OK) {
        return wd__svc_set(res, WD_SVC_STORE, "store: %s", err.msg);
    }
    wd_oncall_at(c, tz, now, &shift);
    for (uint32_t l = have + 1; l <= target; l++) {
        bool added = false;
        char reason[64];
        wd_escalation_reason(inc, l, now, reason, sizeof reason);
        enum wd_svc_code code = escalate_to(s, c, tz, inc, l, reason[0] != '\0' ? reason : why,
                                            now, &shift, &added, res);
        if (code != WD_SVC_OK) {
            return code;
        }
        *paged += added ? 1u : 0u;
    }
    return wd__svc_set(res, WD_SVC_OK, "%s at L%u", inc->id, target > have ? target : have);
}

enum wd_svc_code wd_svc_escalate(struct wd_store *s, const struct wd_oncall_config *c,
                                 const struct wd_tz *tz, const char *id, int64_t now_ns,
                                 uint32_t *paged, struct wd_svc_result *res)
{
    struct wd_error err = {0};
    bool found = false;
    uint32_t n = 0;
    struct wd_incident *inc = malloc(sizeof *inc);
    if (inc == NULL) {
        return wd__svc_set(res, WD_SVC_STORE, "out of memory");
    }
    enum wd_svc_code code;
    if (wd_store_incident_load(s, id, inc, &found, &err) != WD_OK) {
        code = wd__svc_set(res, WD_SVC_STORE, "store: %s", err.msg);
    } else if (!found) {
        code = wd__svc_set(res, WD_SVC_NOT_FOUND, "incident %s: no such incident", id);
    } else {
        code = escalate_record(s, c, tz, inc, now_ns, &n, res);
    }
    free(inc);
    if (paged != NULL) {
        *paged = n;
    }
    return code;
}

enum wd_svc_code wd_svc_escalate_all(struct wd_store *s, const struct wd_oncall_config *c,
                                     const struct wd_tz *tz, int64_t now_ns, uint32_t *paged,
                                     struct wd_svc_result *res)
{
    struct wd_error err = {0};
    struct wd_incident *v = NULL;
    size_t n = 0;
    uint32_t total = 0;
    enum wd_svc_code code = WD_SVC_OK;
    if (wd_store_incident_list_records(s, true, &v, &n, &err) != WD_OK) {
        return wd__svc_set(res, WD_SVC_STORE, "store: %s", err.msg);
    }
    for (size_t i = 0; i < n && code == WD_SVC_OK; i++) {
        code = escalate_record(s, c, tz, &v[i], now_ns, &total, res);
    }
    free(v);
    if (paged != NULL) {
        *paged = total;
    }
    return code == WD_SVC_OK ? wd__svc_set(res, WD_SVC_OK, "%u levels paged", total) : code;
}

enum wd_svc_code wd_svc_test_page(struct wd_store *s, const struct wd_oncall_config *c,
                                  const struct wd_tz *tz, const char *who, int64_t now_ns,
                                  char *summary, size_t cap, struct wd_svc_result *res)
{
    struct wd_error err = {0};
    struct wd_oncall_shift shift;
    struct wd_chain_test t;
    size_t len = 0;
    char text[160];
    memset(&t, 0, sizeof t);
    t.ts_ns = now_ns;
    (void)snprintf(t.by, sizeof t.by, "%s", who);
    (void)snprintf(text, sizeof text,
                   "warden test page from %s: the alerting chain is being tested, no action "
                   "needed",
                   who);
    wd_oncall_at(c, tz, now_ns, &shift);
    if (wd_store_begin(s, &err) != WD_OK) {
        return wd__svc_set(res, WD_SVC_STORE, "store: %s", err.msg);
    }
    for (uint32_t l = 1; l <= c->n_levels; l++) {
        struct wd_page_plan plan;
        char line[WD_TIMELINE_TEXT_MAX];
        wd_escalation_plan(c, tz, &shift, l, WD_P0, now_ns, &plan);
        if (plan.level != l) {
            plan.n = 0; /* this level only: nobody of it within hours */
        }
        (void)wd_page_plan_text(&plan, line, sizeof line);
        int w = snprintf(t.paged + len, sizeof t.paged - len, "%sL%u %s: %s", l > 1 ? "; " : "",
                         l, c->levels[l - 1].name, plan.n > 0 ? line : "nobody within hours");
        len = w < 0 ? len : len + (size_t)w;
        if (len >= sizeof t.paged) {
            len = sizeof t.paged - 1;
        }
        for (uint32_t i = 0; i < plan.n; i++) {
            const struct wd_page p = {"",   "", "", WD_P0, l, plan.level_name, plan.to[i],
                                      text, now_ns};
            if (wd_svc_page(s, &p, &err) != WD_OK) {
                return store_failed(s, res, &err);
            }
        }
    }
    if (wd_store_chain_test_add(s, &t, &err) != WD_OK) {
        return store_failed(s, res, &err);
    }
    if (wd_store_commit(s, &err) != WD_OK) {
        return wd__svc_set(res, WD_SVC_STORE, "store: %s", err.msg);
    }
    (void)snprintf(summary, cap, "%s", t.paged);
    return wd__svc_set(res, WD_SVC_OK, "chain test #%lld recorded", (long long)t.id);
}

/* The role rule: silencing a P0 scenario is the Risk Officer's call. */
static enum wd_svc_code may_silence(const char *scenario, const char *role,
                                    struct wd_svc_result *res)
{
    enum wd_scenario sc;
    if (scenario == NULL || wd_scenario_parse(scenario, &sc) != WD_OK) {
        return wd__svc_set(res, WD_SVC_INVALID, "scenario '%s': not a scenario (see docs/SCENARIOS.md)",
                           scenario ? scenario : "");
    }
    if (wd_scenario_default_severity(sc) == WD_P0 &&
        (role == NULL || (strcmp(role, "risk_officer") != 0 && strcmp(role, "admin") != 0))) {
        return wd__svc_set(res, WD_SVC_FORBIDDEN,
                           "silencing %s (a P0 scenario) needs the risk_officer role; given %s",
                           scenario, role != NULL && role[0] != '\0' ? role : "none");
    }
    return WD_SVC_OK;
}

/* A note on the timeline of every active incident sl matches. */
static enum wd_status note_matching(struct wd_store *s, const struct wd_silence *sl,
                                    const char *who, int64_t now, const char *what,
                                    struct wd_error *err)
{
    struct wd_incident *v = NULL;
    size_t n = 0;
    char st[120];
    enum wd_status r = wd_store_incident_list_records(s, true, &v, &n, err);
    silence_text(sl, st, sizeof st);
    for (size_t i = 0; r == WD_OK && i < n; i++) {
        if (strcmp(wd_scenario_name(v[i].scenario), sl->scenario) != 0 ||
            (sl->scope[0] != '\0' && strcmp(v[i].scope, sl->scope) != 0)) {
            continue;
        }
        struct wd_timeline_entry e;
        memset(&e, 0, sizeof e);
        e.ts_ns = now;
        memcpy(e.incident, v[i].id, sizeof e.incident);
        e.kind = WD_TL_NOTE;
        (void)snprintf(e.who, sizeof e.who, "%s", who);
        (void)snprintf(e.text, sizeof e.text, "%s %s: notifications %s; reason: %.200s", st,
                       what, strcmp(what, "added") == 0 ? "held back" : "resume", sl->reason);
        r = wd_store_timeline_append(s, &e, err);
    }
    free(v);
    return r;
}

enum wd_svc_code wd_svc_silence_add(struct wd_store *s, const char *scenario, const char *scope,
                                    int64_t until_ns, const char *reason, const char *who,
                                    const char *role, int64_t now_ns, struct wd_silence *out,
                                    struct wd_svc_result *res)
{
    struct wd_error err = {0};
    struct wd_silence sl;
    enum wd_svc_code code = may_silence(scenario, role, res);
    if (code != WD_SVC_OK) {
        return code;
    }
    enum wd_scope_kind kind;
    const char *name;
    if (scope != NULL && scope[0] != '\0' && wd_scope_parse(scope, &kind, &name, NULL) != WD_OK) {
        return wd__svc_set(res, WD_SVC_INVALID,
                           "scope '%s': expected firm, account:NAME or strategy:NAME", scope);
    }
    if (reason == NULL || reason[0] == '\0') {
        return wd__svc_set(res, WD_SVC_INVALID, "a reason is required (it goes on the record)");
    }
    if (until_ns <= now_ns) {
        return wd__svc_set(res, WD_SVC_INVALID, "--until must be in the future");
    }
    memset(&sl, 0, sizeof sl);
    (void)snprintf(sl.scenario, sizeof sl.scenario, "%s", scenario);
    (void)snprintf(sl.scope, sizeof sl.scope, "%s", scope != NULL ? scope : "");
    sl.starts_ns = now_ns;
    sl.until_ns = until_ns;
    if (strlen(reason) >= sizeof sl.reason || strlen(who) >= sizeof sl.by) {
        return wd__svc_set(res, WD_SVC_INVALID, "the reason or the name is too long");
    }
    (void)snprintf(sl.reason, sizeof sl.reason, "%s", reason);
    (void)snprintf(sl.by, sizeof sl.by, "%s", who);
    (void)snprintf(sl.role, sizeof sl.role, "%s", role != NULL ? role : "");
    if (wd_store_begin(s, &err) != WD_OK || wd_store_silence_add(s, &sl, &err) != WD_OK ||
        note_matching(s, &sl, who, now_ns, "added", &err) != WD_OK) {
        return store_failed(s, res, &err);
    }
    if (wd_store_commit(s, &err) != WD_OK) {
        return wd__svc_set(res, WD_SVC_STORE, "store: %s", err.msg);
    }
    if (out != NULL) {
        *out = sl;
    }
    return wd__svc_set(res, WD_SVC_OK, "silence #%lld added", (long long)sl.id);
}

enum wd_svc_code wd_svc_silence_remove(struct wd_store *s, int64_t id, const char *who,
                                       const char *role, int64_t now_ns,
                                       struct wd_svc_result *res)
{
    struct wd_error err = {0};
    struct wd_silence sl;
    bool found = false;
    if (wd_store_silence_get(s, id, &sl, &found, &err) != WD_OK) {
        return wd__svc_set(res, WD_SVC_STORE, "store: %s", err.msg);
    }
    if (!found) {
        return wd__svc_set(res, WD_SVC_NOT_FOUND, "no silence #%lld", (long long)id);
    }
    enum wd_svc_code code = may_silence(sl.scenario, role, res);
    if (code != WD_SVC_OK) {
        return code;
    }
    if (wd_store_begin(s, &err) != WD_OK) {
        return wd__svc_set(res, WD_SVC_STORE, "store: %s", err.msg);
    }
    enum wd_status r = wd_store_silence_remove(s, id, who, now_ns, &err);
    if (r == WD_ESTATE || r == WD_ENOTFOUND) {
        wd_store_rollback(s);
        return wd__svc_set(res, r == WD_ESTATE ? WD_SVC_REFUSED : WD_SVC_NOT_FOUND, "%s",
                           err.msg);
    }
    if (r != WD_OK || note_matching(s, &sl, who, now_ns, "removed", &err) != WD_OK) {
        return store_failed(s, res, &err);
    }
    if (wd_store_commit(s, &err) != WD_OK) {
        return wd__svc_set(res, WD_SVC_STORE, "store: %s", err.msg);
    }
    return wd__svc_set(res, WD_SVC_OK, "silence #%lld removed", (long long)id);
}

/* ---- `warden oncall`, GET /api/v1/oncall ------------------------------------- */

size_t wd_svc_level_contacts(const struct wd_oncall_config *c, uint32_t l,
                             const struct wd_oncall_shift *shift,
                             const struct wd_contact **out, size_t cap)
{
    const struct wd_esc_level *lv = &c->levels[l];
    size_t n = 0;
    if (!lv->rotation) {
        for (uint32_t i = 0; i < lv->n_contacts && n < cap; i++) {
            out[n++] = &lv->contacts[i];
        }
        return n;
    }
    const char *people[2] = {shift->primary, shift->secondary};
    for (int p = 0; p < 2; p++) {
        const struct wd_oncall_engineer *e = wd_oncall_engineer(c, people[p]);
        for (uint32_t i = 0; e != NULL && i < e->n_contacts && n < cap; i++) {
            out[n++] = &e->contacts[i];
        }
    }
    return n;
}

const struct wd_config_token *wd_svc_token_of(const struct wd_config *cfg, const char *name)
{
    for (size_t i = 0; name != NULL && i < cfg->n_tokens; i++) {
        if (strcmp(cfg->tokens[i].name, name) == 0) {
            return &cfg->tokens[i];
        }
    }
    return NULL;
}

enum wd_svc_code wd_svc_oncall_status(struct wd_store *s, const struct wd_config *cfg,
                                      const struct wd_tz *tz, int64_t at_ns,
                                      struct wd_svc_oncall_status *out,
                                      struct wd_svc_result *res)
{
    struct wd_error err = {0};
    struct wd_audit_report audit;
    memset(out, 0, sizeof *out);
    out->at_ns = at_ns;
    out->tz = cfg->oncall.tz[0] != '\0' ? cfg->oncall.tz : cfg->session.tz;
    wd_oncall_at(&cfg->oncall, tz, at_ns, &out->now);
    wd_oncall_next(&cfg->oncall, tz, at_ns, &out->next);
    if (wd_store_incident_list_records(s, true, &out->open, &out->n_open, &err) != WD_OK ||
        wd_store_load_states(s, &out->states, &out->n_states, &err) != WD_OK ||
        wd_store_audit_verify(s, &audit, &err) != WD_OK ||
        wd_store_chain_test_last(s, &out->last_test, &out->tested, &err) != WD_OK) {
        wd_svc_oncall_status_destroy(out);
        return wd__svc_set(res, WD_SVC_STORE, "store: %s", err.msg);
    }
    out->audit_intact = audit.intact;
    out->tested_this_week = out->tested && out->last_test.ts_ns >= out->now.start_ns;
    return wd__svc_set(res, WD_SVC_OK, "on call at %lld", (long long)at_ns);
}

void wd_svc_oncall_status_destroy(struct wd_svc_oncall_status *st)
{
    free(st->open);
    free(st->states);
    st->open = NULL;
    st->states = NULL;
    st->n_open = st->n_states = 0;
}

enum wd_svc_code wd_svc_silence_until(const char *s, const struct wd_tz *tz, int64_t now_ns,
                                      int64_t *until_ns, struct wd_svc_result *res)
{
    size_t n = strlen(s);
    int64_t day;
    if (s[0] == '+') {
        char *end = NULL;
        long long k = strtoll(s + 1, &end, 10);
        int64_t unit = end && strcmp(end, "m") == 0   ? 60
                       : end && strcmp(end, "h") == 0 ? 3600
                       : end && strcmp(end, "d") == 0 ? 86400
                                                      : 0;
        if (unit != 0 && k > 0 && k <= 366 * 24 * 60 && end != s + 1 && s[1] >= '0' &&
            s[1] <= '9') {
            *until_ns = now_ns + (int64_t)k * unit * WD_NS_PER_S;
            return wd__svc_set(res, WD_SVC_OK, "until %s", s);
        }
    } else if (n == 10 && wd_date_parse(s, n, &day) == WD_OK) {
        *until_ns = wd_tz_day_start_ns(tz, day + 1);
        return wd__svc_set(res, WD_SVC_OK, "until %s", s);
    } else if (wd_time_parse_rfc3339(s, n, until_ns) == WD_OK) {
        return wd__svc_set(res, WD_SVC_OK, "until %s", s);
    }
    return wd__svc_set(res, WD_SVC_INVALID,
                       "'%.64s' is not a time: expected RFC 3339 (2025-11-17T14:30:00Z), a date "
                       "YYYY-MM-DD (the end of that local day) or +N followed by m, h or d "
                       "(such as +2h)",
                       s);
}
