/*
 * The output recorder shared by the engine-level unit tests (test_engine.c,
 * test_detect.c): every output the engine emits is copied (its pointers
 * live only during the callback) into a growing array, and the tests
 * consume the records in order with take_ / expect_* so that an unexpected
 * extra output fails a test as surely as a missing one. Also: an engine
 * with its decoder (struct eng), and a fake incident store that numbers
 * INC-YYYYMMDD-NNN the way the real one would.
 *
 * Header-only: every function is static inline so that a test file which
 * uses a few of them does not warn about the others. Include after
 * <cmocka.h>'s prerequisites (setjmp.h, stdarg.h, stddef.h).
 */
#ifndef WD_TESTS_UNIT_RECORDER_H
#define WD_TESTS_UNIT_RECORDER_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "warden/decode.h"
#include "warden/engine.h"
#include "warden/state.h"
#include "warden/timeutil.h"

static inline void copy_str(char *dst, size_t cap, const char *src)
{
    size_t n = src != NULL ? strlen(src) : 0;
    if (n >= cap) {
        fail_msg("string too long to record (%zu >= %zu): %s", n, cap, src);
    }
    if (n > 0) {
        memcpy(dst, src, n);
    }
    dst[n] = '\0';
}

static inline void copy_wstr(char *dst, size_t cap, struct wd_str s)
{
    if (s.len >= cap) {
        fail_msg("string too long to record (%u)", s.len);
    }
    if (s.len > 0) {
        memcpy(dst, s.ptr, s.len);
    }
    dst[s.len] = '\0';
}

/* ---- recording outputs -------------------------------------------------------- */

struct rec {
    enum wd_out_type type;
    uint64_t event_no;
    int64_t ts_ns;
    /* decision: id, accept, reason, detail; incident: id, ..., detail */
    char id[96];
    bool accept;
    char reason[WD_TEXT_MAX];
    char detail[320]; /* the engine's detector details run to 320 bytes */
    /* control: action, scope, reason, incident */
    char action[24];
    char scope[WD_SCOPE_MAX];
    char incident[WD_INCIDENT_ID_MAX];
    /* incident / alert */
    char severity[8];
    char scenario[WD_SCENARIO_MAX];
    char status[16];
    char title[WD_TEXT_MAX];
    /* state */
    struct wd_scope_state st;
    /* log */
    enum wd_log_level level;
    char component[32];
    char message[384];
};

/* What a store would remember: the last incident number of each day. */
struct inc_store {
    size_t n;
    int64_t day[64];
    uint32_t last[64];
};

struct sink {
    struct rec *v;
    size_t n, cap;
    struct inc_store store;
    bool quiet_detectors;     /* drop the P1/P2 detectors' outputs (tested elsewhere) */
    bool quiet_unauth_alerts; /* drop the P0-3 alerts of unauthorized:* rejections */
    const char *quiet_scenario; /* drop the incidents, alerts and detector logs of
                                   this scenario (NULL: keep all) */
};

static inline unsigned digits(const char *s, size_t n)
{
    unsigned v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            fail_msg("not an incident id digit: %s", s);
        }
        v = v * 10u + (unsigned)(s[i] - '0');
    }
    return v;
}

/* Notes an incident id INC-YYYYMMDD-NNN in the store. */
static inline void store_note(struct inc_store *s, const char *id)
{
    size_t len = strlen(id);
    if (len < 16 || memcmp(id, "INC-", 4) != 0 || id[12] != '-') {
        fail_msg("malformed incident id '%s'", id);
    }
    int64_t day = wd_days_from_civil(digits(id + 4, 4), digits(id + 8, 2), digits(id + 10, 2));
    uint32_t seq = digits(id + 13, len - 13);
    for (size_t i = 0; i < s->n; i++) {
        if (s->day[i] == day) {
            if (seq > s->last[i]) {
                s->last[i] = seq;
            }
            return;
        }
    }
    assert_true(s->n < 64);
    s->day[s->n] = day;
    s->last[s->n++] = seq;
}

static inline uint32_t store_seq(void *ctx, int64_t day)
{
    const struct inc_store *s = ctx;
    for (size_t i = 0; i < s->n; i++) {
        if (s->day[i] == day) {
            return s->last[i];
        }
    }
    return 0;
}

static inline bool from_detector(const struct wd_output *o)
{
    static const char *const sc[] = {"broker_disconnect", "bus_failure", "reject_spike",
                                     "high_latency", "data_quality"};
    if (o->type == WD_OUT_LOG) {
        return strcmp(o->u.log.component, "detect") == 0;
    }
    if (o->type == WD_OUT_INCIDENT) {
        for (size_t i = 0; i < sizeof sc / sizeof sc[0]; i++) {
            if (strcmp(o->u.incident.scenario, sc[i]) == 0) {
                return true;
            }
        }
    }
    return false;
}

/* Whether o belongs to scenario sc: its incident or alert, or a detector
 * log line whose message starts with one of the scenario's titles. */
static inline bool quiet_scenario_output(const char *sc, const struct wd_output *o)
{
    if (o->type == WD_OUT_INCIDENT) {
        return strcmp(o->u.incident.scenario, sc) == 0;
    }
    if (o->type == WD_OUT_ALERT) {
        return strcmp(o->u.alert.scenario, sc) == 0;
    }
    if (o->type == WD_OUT_LOG && strcmp(o->u.log.component, "detect") == 0 &&
        strcmp(sc, "data_quality") == 0) {
        return strncmp(o->u.log.message, "Data quality ", 13) == 0;
    }
    return false;
}

static inline void on_output(void *ctx, const struct wd_output *o)
{
    struct sink *s = ctx;
    if (s->quiet_detectors && from_detector(o)) {
        return;
    }
    if (s->quiet_unauth_alerts && o->type == WD_OUT_ALERT &&
        strcmp(o->u.alert.scenario, "unauthorized_trading") == 0) {
        return;
    }
    if (s->quiet_scenario != NULL && quiet_scenario_output(s->quiet_scenario, o)) {
        return;
    }
    if (s->n == s->cap) {
        s->cap = s->cap != 0 ? s->cap * 2u : 64u;
        s->v = realloc(s->v, s->cap * sizeof *s->v);
        assert_non_null(s->v);
    }
    struct rec *r = &s->v[s->n++];
    memset(r, 0, sizeof *r);
    r->type = o->type;
    r->event_no = o->event_no;
    r->ts_ns = o->ts_ns;
    switch (o->type) {
    case WD_OUT_DECISION:
        copy_wstr(r->id, sizeof r->id, o->u.decision.id);
        r->accept = o->u.decision.accept;
        copy_str(r->reason, sizeof r->reason, o->u.decision.reason);
        copy_str(r->detail, sizeof r->detail, o->u.decision.detail);
        break;
    case WD_OUT_CONTROL:
        copy_str(r->action, sizeof r->action, o->u.control.action);
        copy_str(r->scope, sizeof r->scope, o->u.control.scope);
        copy_str(r->reason, sizeof r->reason, o->u.control.reason);
        copy_str(r->incident, sizeof r->incident, o->u.control.incident);
        break;
    case WD_OUT_INCIDENT:
        copy_str(r->id, sizeof r->id, o->u.incident.id);
        copy_str(r->severity, sizeof r->severity, o->u.incident.severity);
        copy_str(r->scenario, sizeof r->scenario, o->u.incident.scenario);
        copy_str(r->status, sizeof r->status, o->u.incident.status);
        copy_str(r->title, sizeof r->title, o->u.incident.title);
        copy_str(r->detail, sizeof r->detail, o->u.incident.detail);
        copy_str(r->scope, sizeof r->scope, o->u.incident.scope);
        store_note(&s->store, r->id);
        break;
    case WD_OUT_ALERT:
        copy_str(r->scenario, sizeof r->scenario, o->u.alert.scenario);
        copy_str(r->severity, sizeof r->severity, o->u.alert.severity);
        copy_str(r->detail, sizeof r->detail, o->u.alert.detail);
        copy_str(r->scope, sizeof r->scope, o->u.alert.scope);
        break;
    case WD_OUT_STATE:
        r->st = *o->u.state.state;
        break;
    case WD_OUT_LOG:
        r->level = o->u.log.level;
        copy_str(r->component, sizeof r->component, o->u.log.component);
        copy_str(r->message, sizeof r->message, o->u.log.message);
        break;
    default:
        fail_msg("unknown output type %d", (int)o->type);
    }
}

static inline const char *describe(const struct rec *r)
{
    static char buf[1200];
    switch (r->type) {
    case WD_OUT_DECISION:
        snprintf(buf, sizeof buf, "decision #%llu %s %s '%s' (%s)",
                 (unsigned long long)r->event_no, r->id, r->accept ? "accept" : "reject",
                 r->reason, r->detail);
        break;
    case WD_OUT_CONTROL:
        snprintf(buf, sizeof buf, "control #%llu %s %s '%s' %s", (unsigned long long)r->event_no,
                 r->action, r->scope, r->reason, r->incident);
        break;
    case WD_OUT_INCIDENT:
        snprintf(buf, sizeof buf, "incident #%llu %s %s %s %s '%s'",
                 (unsigned long long)r->event_no, r->id, r->severity, r->scenario, r->scope,
                 r->detail);
        break;
    case WD_OUT_ALERT:
        snprintf(buf, sizeof buf, "alert #%llu %s %s '%s'", (unsigned long long)r->event_no,
                 r->scenario, r->scope, r->detail);
        break;
    case WD_OUT_STATE:
        snprintf(buf, sizeof buf, "state #%llu %s %s '%s'", (unsigned long long)r->event_no,
                 r->st.scope, wd_tstate_name(r->st.state), r->st.reason);
        break;
    case WD_OUT_LOG:
        snprintf(buf, sizeof buf, "log #%llu %s '%s'", (unsigned long long)r->event_no,
                 r->component, r->message);
        break;
    default:
        snprintf(buf, sizeof buf, "output of type %d", (int)r->type);
    }
    return buf;
}

static inline bool state_equal(const struct wd_scope_state *a, const struct wd_scope_state *b)
{
    return strcmp(a->scope, b->scope) == 0 && a->state == b->state &&
           a->since_ns == b->since_ns && strcmp(a->reason, b->reason) == 0 &&
           strcmp(a->by, b->by) == 0 && strcmp(a->scenario, b->scenario) == 0 &&
           strcmp(a->incident, b->incident) == 0 && a->ramp_until_ns == b->ramp_until_ns;
}

static inline bool rec_equal(const struct rec *a, const struct rec *b)
{
    return a->type == b->type && a->event_no == b->event_no && a->ts_ns == b->ts_ns &&
           strcmp(a->id, b->id) == 0 && a->accept == b->accept &&
           strcmp(a->reason, b->reason) == 0 && strcmp(a->detail, b->detail) == 0 &&
           strcmp(a->action, b->action) == 0 && strcmp(a->scope, b->scope) == 0 &&
           strcmp(a->incident, b->incident) == 0 && strcmp(a->severity, b->severity) == 0 &&
           strcmp(a->scenario, b->scenario) == 0 && strcmp(a->status, b->status) == 0 &&
           strcmp(a->title, b->title) == 0 && state_equal(&a->st, &b->st) &&
           a->level == b->level && strcmp(a->component, b->component) == 0 &&
           strcmp(a->message, b->message) == 0;
}

/* ---- one engine with its decoder and recorder -------------------------------- */

struct eng {
    struct wd_engine *e;
    struct wd_decoder *dec;
    struct sink out;
    size_t next;        /* first output not yet checked */
    size_t event_first; /* first output of the latest event */
    uint64_t event_no;
    int64_t ts;
    char last_id[96];     /* id of the latest intent */
    char pre_reason[64];  /* wd_engine_check_intent before processing it */
    bool has_pre;
};

static inline enum wd_status eng_open(struct eng *g, const struct wd_config *cfg,
                                      const struct wd_tz *tz, wd_hmac_verify_fn verify,
                                      void *hmac_ctx, struct wd_error *err)
{
    memset(g, 0, sizeof *g);
    struct wd_engine_opts o = {.cfg = cfg,
                               .tz = tz,
                               .emit = on_output,
                               .emit_ctx = &g->out,
                               .hmac_verify = verify,
                               .hmac_ctx = hmac_ctx,
                               .incident_seq = store_seq,
                               .incident_seq_ctx = &g->out.store};
    enum wd_status st = wd_engine_new(&o, &g->e, err);
    if (st != WD_OK) {
        return st;
    }
    assert_int_equal(
        wd_decoder_new(wd_engine_symbols(g->e), wd_engine_accounts(g->e), &g->dec), WD_OK);
    return WD_OK;
}

static inline void eng_close(struct eng *g)
{
    wd_decoder_free(g->dec);
    wd_engine_free(g->e);
    free(g->out.v);
    memset(g, 0, sizeof *g);
}

static inline void eng_process(struct eng *g, const char *line)
{
    struct wd_event ev;
    struct wd_error err = {0};
    if (wd_decode_line(g->dec, line, strlen(line), &ev, &err) != WD_OK) {
        fail_msg("decode failed: %s: %s", err.msg, line);
    }
    g->has_pre = false;
    if (ev.type == WD_EV_INTENT) {
        copy_wstr(g->last_id, sizeof g->last_id, ev.u.intent.id);
        copy_str(g->pre_reason, sizeof g->pre_reason, wd_engine_check_intent(g->e, &ev));
        g->has_pre = true;
    }
    g->event_no++;
    g->ts = ev.ts_ns;
    g->event_first = g->out.n;
    if (wd_engine_process(g->e, &ev, g->event_no, &err) != WD_OK) {
        fail_msg("process failed: %s: %s", err.msg, line);
    }
}

/* ---- expectations ------------------------------------------------------------------ */

static inline const struct rec *take_(struct eng *g, enum wd_out_type type, int line)
{
    if (g->next >= g->out.n) {
        fail_msg("line %d: expected an output of type %d after event #%llu, got none", line,
                 (int)type, (unsigned long long)g->event_no);
    }
    const struct rec *r = &g->out.v[g->next++];
    if (r->type != type) {
        fail_msg("line %d: expected an output of type %d, got %s", line, (int)type, describe(r));
    }
    if (r->event_no != g->event_no || r->ts_ns != g->ts) {
        fail_msg("line %d: output of event #%llu ts %lld, expected #%llu ts %lld: %s", line,
                 (unsigned long long)r->event_no, (long long)r->ts_ns,
                 (unsigned long long)g->event_no, (long long)g->ts, describe(r));
    }
    return r;
}

static inline void expect_none_(struct eng *g, int line)
{
    if (g->next < g->out.n) {
        fail_msg("line %d: unexpected output: %s", line, describe(&g->out.v[g->next]));
    }
}

static inline bool event_changed_state(const struct eng *g)
{
    for (size_t i = g->event_first; i < g->out.n; i++) {
        if (g->out.v[i].type == WD_OUT_STATE) {
            return true;
        }
    }
    return false;
}

/* The decision on the latest intent: reason "" for accept. Then nothing
 * else. Returns the record for further checks. */
static inline const struct rec *expect_decision_(struct eng *g, const char *reason, int line)
{
    const struct rec *r = take_(g, WD_OUT_DECISION, line);
    if (strcmp(r->id, g->last_id) != 0) {
        fail_msg("line %d: decision for '%s', expected '%s'", line, r->id, g->last_id);
    }
    if (r->accept != (reason[0] == '\0') || strcmp(r->reason, reason) != 0) {
        fail_msg("line %d: expected %s '%s', got %s", line, reason[0] ? "reject" : "accept",
                 reason, describe(r));
    }
    if (r->accept && r->detail[0] != '\0') {
        fail_msg("line %d: an accept carries no detail: %s", line, describe(r));
    }
    if (!r->accept && r->detail[0] == '\0') {
        fail_msg("line %d: a reject says why: %s", line, describe(r));
    }
    /* The pure query agrees with the decision (unless a ramp-up moved on
     * at the start of this very event). */
    if (g->has_pre && !event_changed_state(g) && strcmp(g->pre_reason, r->reason) != 0) {
        fail_msg("line %d: wd_engine_check_intent said '%s', the decision '%s'", line,
                 g->pre_reason, r->reason);
    }
    expect_none_(g, line);
    return r;
}

static inline void expect_log_(struct eng *g, enum wd_log_level lvl, const char *component,
                        const char *msg, int line)
{
    const struct rec *r = take_(g, WD_OUT_LOG, line);
    if (r->level != lvl || strcmp(r->component, component) != 0 || strcmp(r->message, msg) != 0) {
        fail_msg("line %d: expected log %d %s '%s', got level %d %s", line, (int)lvl, component,
                 msg, (int)r->level, describe(r));
    }
}

static inline void expect_control_(struct eng *g, const char *action, const char *scope,
                            const char *reason, const char *incident, int line)
{
    const struct rec *r = take_(g, WD_OUT_CONTROL, line);
    if (strcmp(r->action, action) != 0 || strcmp(r->scope, scope) != 0 ||
        strcmp(r->reason, reason) != 0 || strcmp(r->incident, incident) != 0) {
        fail_msg("line %d: expected control %s %s '%s' %s, got %s", line, action, scope, reason,
                 incident, describe(r));
    }
}

static inline const struct wd_scope_state *expect_state_(struct eng *g, const char *scope,
                                                  enum wd_tstate st, int line)
{
    const struct rec *r = take_(g, WD_OUT_STATE, line);
    if (strcmp(r->st.scope, scope) != 0 || r->st.state != st) {
        fail_msg("line %d: expected state %s %s, got %s", line, scope, wd_tstate_name(st),
                 describe(r));
    }
    return &r->st;
}


/* Every figure of a and b equal (not the version), exactly; neither NULL. */
static inline void assert_figures_equal(const struct wd_figures *a, const struct wd_figures *b)
{
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(a->capital, b->capital);
    assert_int_equal(a->cash, b->cash);
    assert_int_equal(a->realized, b->realized);
    assert_int_equal(a->commission, b->commission);
    assert_int_equal(a->mtm, b->mtm);
    assert_int_equal(a->gross, b->gross);
    assert_int_equal(a->cost, b->cost);
    assert_int_equal(a->equity, b->equity);
    assert_int_equal(a->day_open, b->day_open);
    assert_int_equal(a->peak, b->peak);
    assert_true(a->drawdown == b->drawdown);
    assert_true(a->max_drawdown == b->max_drawdown);
}

#endif /* WD_TESTS_UNIT_RECORDER_H */
