/*
 * The CLI's remote path (remote.h): the options of a command into an API
 * request (src/bus/client.h), the answer's JSON (jsmn) back into the
 * records the offline tables print. The only place that knows both the
 * CLI's options and the API's routes and documents.
 */
#include "cli/remote.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bus/client.h"
#include "store/store.h"
#include "cli/cli.h"
#include "cli/jsonout.h"
#include "svc/api.h"
#include "warden/incident.h"
#include "warden/severity.h"
#include "warden/state.h"
#include "warden/timeutil.h"

#include "core/jsmn_strict.h"

#define API "/api/v1/"

const char *cli_remote_url(const char *url_opt)
{
    const char *u = url_opt != NULL ? url_opt : getenv("WARDEN_URL");
    return u != NULL && *u != '\0' ? u : NULL;
}

int cli_remote_offline_only(const char *cmd, const char *opt, const char *value)
{
    if (value == NULL) {
        return CLI_OK;
    }
    cli_errorf("%s: %s works offline only; with --url (or WARDEN_URL) the running warden's "
               "store and clock are used",
               cmd, opt);
    return CLI_USAGE;
}

/* ---- the answer's JSON ------------------------------------------------------- */

struct doc {
    char *text;
    size_t len;
    jsmntok_t *t;
    int n;
};

static void doc_free(struct doc *d)
{
    free(d->text);
    free(d->t);
    memset(d, 0, sizeof *d);
}

static bool doc_parse(struct doc *d)
{
    jsmn_parser p;
    jsmn_init(&p);
    int n = jsmn_parse(&p, d->text, d->len, NULL, 0);
    if (n < 1 || (d->t = calloc((size_t)n, sizeof *d->t)) == NULL) {
        return false;
    }
    jsmn_init(&p);
    d->n = jsmn_parse(&p, d->text, d->len, d->t, (unsigned)n);
    return d->n >= 1;
}

/* The index after value i (and everything nested in it). */
static int skip(const struct doc *d, int i)
{
    int end = d->t[i].end;
    i++;
    while (i < d->n && d->t[i].start < end) {
        i++;
    }
    return i;
}

/* The value of key in object obj, or -1. */
static int get(const struct doc *d, int obj, const char *key)
{
    if (obj < 0 || obj >= d->n || d->t[obj].type != JSMN_OBJECT) {
        return -1;
    }
    size_t kl = strlen(key);
    int i = obj + 1;
    for (int k = 0; k < d->t[obj].size && i + 1 < d->n; k++) {
        const jsmntok_t *kt = &d->t[i];
        if ((size_t)(kt->end - kt->start) == kl && memcmp(d->text + kt->start, key, kl) == 0) {
            return i + 1;
        }
        i = skip(d, i + 1);
    }
    return -1;
}

/* The string (or primitive's text) of key in obj into buf; "" if absent. */
static void str(const struct doc *d, int obj, const char *key, char *buf, size_t cap)
{
    int i = get(d, obj, key);
    buf[0] = '\0';
    if (i >= 0 && d->t[i].type != JSMN_OBJECT && d->t[i].type != JSMN_ARRAY &&
        !wd_api_json_unescape(d->text + d->t[i].start, (size_t)(d->t[i].end - d->t[i].start),
                              buf, cap)) {
        buf[0] = '\0';
    }
}

static int64_t num(const struct doc *d, int obj, const char *key)
{
    char b[32];
    str(d, obj, key, b, sizeof b);
    return strtoll(b, NULL, 10);
}

static bool boolean(const struct doc *d, int obj, const char *key)
{
    int i = get(d, obj, key);
    return i >= 0 && d->text[d->t[i].start] == 't';
}

/* ---- requests -------------------------------------------------------------------- */

/* One request. On a 2xx fills *d (parsed) and returns CLI_OK; else prints
 * what went wrong and returns CLI_FAIL. */
static int call(const char *url, const char *method, const char *path, const char *body,
                struct doc *d)
{
    struct wd_error err = {0};
    long status = 0;
    const char *token = getenv("WARDEN_TOKEN");
    memset(d, 0, sizeof *d);
    if (token != NULL && *token == '\0') {
        token = NULL;
    }
    if (wd_client_request(url, token, method, path, body, &status, &d->text, &d->len, &err) !=
        WD_OK) {
        cli_errorf("%s", err.msg);
        return CLI_FAIL;
    }
    bool parsed = doc_parse(d);
    if (status >= 200 && status < 300) {
        if (!parsed) {
            cli_errorf("%s %s: the answer is not JSON", method, path);
            doc_free(d);
            return CLI_FAIL;
        }
        return CLI_OK;
    }
    char msg[1024];
    if (parsed) {
        str(d, 0, "error", msg, sizeof msg);
    } else {
        snprintf(msg, sizeof msg, "%.200s", d->text);
    }
    cli_errorf("%s %s: HTTP %ld: %s", method, path, status, msg[0] ? msg : "(no message)");
    if (status == 401) {
        cli_errorf(token == NULL ? "hint: set WARDEN_TOKEN to an API token (the configuration's "
                                   "tokens:)"
                                 : "hint: WARDEN_TOKEN is not a token this warden knows");
    } else if (status == 403) {
        cli_errorf("hint: WARDEN_TOKEN's role is too low for this; use a token with the role "
                   "named above");
    }
    doc_free(d);
    return CLI_FAIL;
}

/* Prints the answer as is (the API's JSON, one line). */
static int print_raw(struct doc *d)
{
    fwrite(d->text, 1, d->len, stdout);
    if (d->len == 0 || d->text[d->len - 1] != '\n') {
        fputc('\n', stdout);
    }
    doc_free(d);
    return CLI_OK;
}

/* A request body: a JSON object written into memory (struct jw_mem). */
static bool body_open(struct jw_mem *b)
{
    if (!jw_mem_open(b)) {
        cli_errorf("out of memory");
        return false;
    }
    jw_obj_begin(&b->w);
    return true;
}

static void body_str(struct jw_mem *b, const char *key, const char *v)
{
    jw_key(&b->w, key);
    jw_str(&b->w, v);
}

/* Ends the object; b->buf holds it (free it). */
static void body_close(struct jw_mem *b)
{
    jw_obj_end(&b->w);
    jw_mem_close(b);
}

/* POSTs the body b (ended here, then freed) to path: call()'s answer. */
static int post(const char *url, const char *path, struct jw_mem *b, struct doc *d)
{
    body_close(b);
    int rc = call(url, "POST", path, b->buf, d);
    free(b->buf);
    return rc;
}

/* ---- status, halt, resume ----------------------------------------------------- */

int cli_remote_status(const char *url, bool json)
{
    struct doc d;
    if (call(url, "GET", API "status", NULL, &d) != CLI_OK) {
        return CLI_FAIL;
    }
    if (json) {
        return print_raw(&d);
    }
    int arr = get(&d, 0, "scopes");
    size_t n = arr >= 0 ? (size_t)d.t[arr].size : 0u;
    cli_status_header();
    for (int i = arr + 1, k = 0; arr >= 0 && k < d.t[arr].size; k++, i = skip(&d, i)) {
        struct wd_scope_state s;
        char state[32], need[64], have[160];
        memset(&s, 0, sizeof s);
        str(&d, i, "scope", s.scope, sizeof s.scope);
        str(&d, i, "state", state, sizeof state);
        if (wd_tstate_parse(state, &s.state) != WD_OK) {
            s.state = WD_TS_ACTIVE;
        }
        s.since_ns = num(&d, i, "since_ns");
        str(&d, i, "reason", s.reason, sizeof s.reason);
        str(&d, i, "by", s.by, sizeof s.by);
        str(&d, i, "scenario", s.scenario, sizeof s.scenario);
        str(&d, i, "incident", s.incident, sizeof s.incident);
        str(&d, i, "approvals_needed", need, sizeof need);
        str(&d, i, "approvals_given", have, sizeof have);
        cli_status_row(&s, need, have);
    }
    if (n == 0) {
        printf("(every scope ACTIVE)\n");
    }
    doc_free(&d);
    return CLI_OK;
}

int cli_remote_halt(const char *url, const char *scope, const char *reason, bool reduce_only,
                    bool json)
{
    struct jw_mem b;
    struct doc d;
    if (!body_open(&b)) {
        return CLI_FAIL;
    }
    body_str(&b, "scope", scope);
    body_str(&b, "reason", reason);
    jw_key(&b.w, "reduce_only");
    jw_bool(&b.w, reduce_only);
    if (post(url, API "halt", &b, &d) != CLI_OK) {
        return CLI_FAIL;
    }
    if (json) {
        return print_raw(&d);
    }
    char sc[WD_SCOPE_MAX], state[32], by[WD_WHO_MAX], why[WD_TEXT_MAX];
    str(&d, 0, "scope", sc, sizeof sc);
    str(&d, 0, "state", state, sizeof state);
    str(&d, 0, "by", by, sizeof by);
    str(&d, 0, "reason", why, sizeof why);
    printf("%s: %s by %s: %s\n", sc, state, by, why);
    doc_free(&d);
    return CLI_OK;
}

int cli_remote_resume(const char *url, const char *scope, const char *role, const char *reason,
                      bool json)
{
    struct jw_mem b;
    struct doc d;
    if (!body_open(&b)) {
        return CLI_FAIL;
    }
    body_str(&b, "scope", scope);
    body_str(&b, "role", role);
    body_str(&b, "reason", reason);
    if (post(url, API "resume", &b, &d) != CLI_OK) {
        return CLI_FAIL;
    }
    if (json) {
        return print_raw(&d);
    }
    char sc[WD_SCOPE_MAX], who[WD_WHO_MAX], r[32], need[64], blocked[WD_INCIDENT_ID_MAX];
    str(&d, 0, "scope", sc, sizeof sc);
    str(&d, 0, "approved_by", who, sizeof who);
    str(&d, 0, "role", r, sizeof r);
    str(&d, 0, "still_needed", need, sizeof need);
    str(&d, 0, "blocked_by_incident", blocked, sizeof blocked);
    printf("%s: approval by %s (%s) recorded\n", sc, who, r);
    if (blocked[0] != '\0') {
        printf("%s: still HALTED; incident %s's recovery criteria are not all ticked "
               "('warden incident show %s')\n",
               sc, blocked, blocked);
    } else if (boolean(&d, 0, "resumed")) {
        printf("%s: RAMP_UP, then ACTIVE\n", sc);
    } else {
        printf("%s: still HALTED; still needed: %s\n", sc, need);
    }
    doc_free(&d);
    return CLI_OK;
}

/* ---- incidents ------------------------------------------------------------------ */

/* An API incident record (docs/API.md) at obj into inc. */
static void record(const struct doc *d, int obj, struct wd_incident *inc)
{
    char b[64];
    memset(inc, 0, sizeof *inc);
    str(d, obj, "id", inc->id, sizeof inc->id);
    str(d, obj, "scenario", b, sizeof b);
    if (wd_scenario_parse(b, &inc->scenario) != WD_OK) {
        inc->scenario = (enum wd_scenario)0;
    }
    str(d, obj, "scope", inc->scope, sizeof inc->scope);
    str(d, obj, "severity", b, sizeof b);
    if (wd_severity_parse(b, &inc->severity) != WD_OK) {
        inc->severity = (enum wd_severity)0;
    }
    str(d, obj, "status", b, sizeof b);
    if (wd_inc_status_parse(b, &inc->status) != WD_OK) {
        inc->status = (enum wd_inc_status)0;
    }
    str(d, obj, "title", inc->title, sizeof inc->title);
    str(d, obj, "opened_by", inc->opened_by, sizeof inc->opened_by);
    str(d, obj, "commander", inc->commander, sizeof inc->commander);
    inc->opened_ns = num(d, obj, "opened_ns");
    inc->acknowledged_ns = num(d, obj, "acknowledged_ns");
    inc->resolved_ns = num(d, obj, "resolved_ns");
    int arr = get(d, obj, "criteria");
    for (int i = arr + 1, k = 0; arr >= 0 && k < d->t[arr].size &&
                                 inc->n_criteria < WD_INCIDENT_CRITERIA_MAX;
         k++, i = skip(d, i)) {
        struct wd_inc_check *c = &inc->criteria[inc->n_criteria++];
        str(d, i, "text", c->text, sizeof c->text);
        str(d, i, "who", c->who, sizeof c->who);
        c->done = boolean(d, i, "done");
    }
}

static int inc_list(const char *url, const struct cli_remote_incident *r)
{
    struct doc d;
    if (r->nargs != 0) {
        cli_errorf("incident list [--all] (see 'warden incident --help')");
        return CLI_USAGE;
    }
    if (call(url, "GET", r->all ? API "incidents?all=1" : API "incidents", NULL, &d) != CLI_OK) {
        return CLI_FAIL;
    }
    if (r->json) {
        return print_raw(&d);
    }
    int64_t now = cli_wall_ns();
    int arr = get(&d, 0, "incidents");
    size_t n = 0, past_n = 0;
    cli_incident_header();
    for (int i = arr + 1, k = 0; arr >= 0 && k < d.t[arr].size; k++, i = skip(&d, i), n++) {
        struct wd_incident inc;
        record(&d, i, &inc);
        past_n += cli_incident_row(&inc, now) ? 1u : 0u;
    }
    fprintf(stderr, "warden: %zu incident%s%s, %zu past SLA\n", n, n == 1 ? "" : "s",
            r->all ? "" : " active", past_n);
    doc_free(&d);
    return CLI_OK;
}

static int inc_show(const char *url, const struct cli_remote_incident *r)
{
    struct doc rec, tl;
    char path[256];
    if (r->nargs != 1) {
        cli_errorf("incident show ID (see 'warden incident --help')");
        return CLI_USAGE;
    }
    snprintf(path, sizeof path, API "incidents/%s", r->args[0]);
    if (call(url, "GET", path, NULL, &rec) != CLI_OK) {
        return CLI_FAIL;
    }
    snprintf(path, sizeof path, API "incidents/%s/timeline", r->args[0]);
    if (call(url, "GET", path, NULL, &tl) != CLI_OK) {
        doc_free(&rec);
        return CLI_FAIL;
    }
    int arr = get(&tl, 0, "timeline");
    if (r->json) {
        printf("{\"record\":%.*s,\"timeline\":%.*s}\n", rec.t[0].end - rec.t[0].start,
               rec.text + rec.t[0].start, arr >= 0 ? tl.t[arr].end - tl.t[arr].start : 2,
               arr >= 0 ? tl.text + tl.t[arr].start : "[]");
    } else {
        struct wd_incident inc;
        record(&rec, 0, &inc);
        cli_incident_show_head(&inc, cli_wall_ns());
        printf("timeline:\n");
        for (int i = arr + 1, k = 0; arr >= 0 && k < tl.t[arr].size; k++, i = skip(&tl, i)) {
            struct wd_timeline_entry e;
            char kind[32];
            memset(&e, 0, sizeof e);
            e.ts_ns = num(&tl, i, "ts_ns");
            str(&tl, i, "kind", kind, sizeof kind);
            if (wd_tl_kind_parse(kind, &e.kind) != WD_OK) {
                e.kind = (enum wd_tl_kind)0;
            }
            str(&tl, i, "who", e.who, sizeof e.who);
            str(&tl, i, "text", e.text, sizeof e.text);
            cli_timeline_row(&e);
        }
    }
    doc_free(&rec);
    doc_free(&tl);
    return CLI_OK;
}

/* The changes the API takes: name, positional arguments, the form. */
static const struct {
    const char *sub;
    int nargs;
    const char *form;
} changes[] = {
    {"ack", 1, "ack ID"},
    {"assign", 2, "assign ID --role ROLE NAME"},
    {"status", 2, "status ID STATUS"},
    {"note", 2, "note ID TEXT"},
    {"check", 2, "check ID N [--undo]"},
    {"approve", 1, "approve ID --role risk_officer|cto --reason R"},
    {"resolve", 1, "resolve ID [--pnl X]"},
    {"update", 1, "update ID [--message M]"},
};

/* The body of change sub from r's arguments and options; false after a
 * usage message. */
static bool change_body(const struct cli_remote_incident *r, struct jw_mem *b)
{
    const char *sub = r->sub;
    if (strcmp(sub, "assign") == 0) {
        if (r->role == NULL) {
            cli_errorf("incident assign: --role ROLE is required");
            return false;
        }
        body_str(b, "role", r->role);
        body_str(b, "name", r->args[1]);
    } else if (strcmp(sub, "status") == 0) {
        body_str(b, "status", r->args[1]);
    } else if (strcmp(sub, "note") == 0) {
        body_str(b, "text", r->args[1]);
    } else if (strcmp(sub, "check") == 0) {
        uint32_t v;
        if (!cli_parse_u32(r->args[1], &v) || v == 0) {
            cli_errorf("incident: criterion '%s': a number from 1", r->args[1]);
            return false;
        }
        jw_key(&b->w, "index");
        jw_int(&b->w, (int64_t)v);
        jw_key(&b->w, "done");
        jw_bool(&b->w, !r->undo);
    } else if (strcmp(sub, "approve") == 0) {
        if (r->role == NULL || r->reason == NULL) {
            cli_errorf("incident approve: --role and --reason are required");
            return false;
        }
        body_str(b, "role", r->role);
        body_str(b, "reason", r->reason);
    } else if (strcmp(sub, "resolve") == 0 && r->pnl != NULL) {
        body_str(b, "pnl", r->pnl);
    } else if (strcmp(sub, "update") == 0 && r->message != NULL) {
        body_str(b, "message", r->message);
    }
    return true;
}

static int inc_change(const char *url, const struct cli_remote_incident *r, size_t c)
{
    struct jw_mem b;
    struct doc d;
    char path[256];
    if (r->nargs != changes[c].nargs) {
        cli_errorf("incident %s (see 'warden incident --help')", changes[c].form);
        return CLI_USAGE;
    }
    if (!body_open(&b)) {
        return CLI_FAIL;
    }
    if (!change_body(r, &b)) {
        body_close(&b);
        free(b.buf);
        return CLI_USAGE;
    }
    snprintf(path, sizeof path, API "incidents/%s/%s", r->args[0], r->sub);
    if (post(url, path, &b, &d) != CLI_OK) {
        return CLI_FAIL;
    }
    if (r->json) {
        return print_raw(&d);
    }
    char id[WD_INCIDENT_ID_MAX], text[WD_TEXT_MAX];
    if (strcmp(r->sub, "update") == 0) {
        int64_t n = num(&d, 0, "queued");
        str(&d, 0, "id", id, sizeof id);
        printf("%s: status update posted, %lld notification%s queued\n", id, (long long)n,
               n == 1 ? "" : "s");
        doc_free(&d);
        return CLI_OK;
    }
    str(&d, get(&d, 0, "incident"), "id", id, sizeof id);
    str(&d, get(&d, 0, "entry"), "text", text, sizeof text);
    printf("%s: %s\n", id, text);
    doc_free(&d);
    return CLI_OK;
}

int cli_remote_incident(const char *url, const struct cli_remote_incident *r)
{
    if (strcmp(r->sub, "list") == 0) {
        return inc_list(url, r);
    }
    if (strcmp(r->sub, "show") == 0) {
        return inc_show(url, r);
    }
    for (size_t c = 0; c < sizeof changes / sizeof changes[0]; c++) {
        if (strcmp(r->sub, changes[c].sub) == 0) {
            return inc_change(url, r, c);
        }
    }
    cli_errorf("incident %s: not available through the API; run it offline (without --url "
               "and WARDEN_URL) on the store",
               r->sub);
    return CLI_USAGE;
}

/* ---- on-call and silences (issue 8) ----------------------------------------------- */

static void fmt_ns(int64_t ns, char *buf, size_t cap)
{
    if (ns == 0) {
        snprintf(buf, cap, "never");
    } else {
        (void)wd_time_format_utc(ns, buf, cap);
    }
}

static void remote_shift(const struct doc *d, const char *key)
{
    int o = get(d, 0, key);
    char p[64], sec[64], sp[64], ss[64], a[32], b[32];
    str(d, o, "primary", p, sizeof p);
    str(d, o, "secondary", sec, sizeof sec);
    str(d, o, "scheduled_primary", sp, sizeof sp);
    str(d, o, "scheduled_secondary", ss, sizeof ss);
    fmt_ns(num(d, o, "start_ns"), a, sizeof a);
    fmt_ns(num(d, o, "end_ns"), b, sizeof b);
    printf("%-5s week %lld  %s .. %s\n", key, (long long)num(d, o, "week"), a, b);
    printf("      primary   %s", p[0] ? p : "(nobody: no oncall.engineers)");
    if (strcmp(p, sp) != 0) {
        printf("  (for %s)", sp);
    }
    printf("\n      secondary %s", sec[0] ? sec : "(nobody)");
    if (strcmp(sec, ss) != 0) {
        printf("  (for %s)", ss);
    }
    printf("\n");
}

int cli_remote_oncall(const char *url, bool json)
{
    struct doc d;
    char tz[64], a[32];
    if (call(url, "GET", API "oncall", NULL, &d) != CLI_OK) {
        return CLI_FAIL;
    }
    if (json) {
        return print_raw(&d);
    }
    str(&d, 0, "tz", tz, sizeof tz);
    fmt_ns(num(&d, 0, "at_ns"), a, sizeof a);
    printf("on call at %s (%s)\n", a, tz);
    remote_shift(&d, "now");
    remote_shift(&d, "next");
    fmt_ns(num(&d, 0, "next_handoff_ns"), a, sizeof a);
    printf("next handoff: %s\n", a);
    int ck = get(&d, 0, "checklist"), open = get(&d, ck, "open_incidents");
    int na = get(&d, ck, "scopes_not_active");
    printf("\nhandoff checklist (warden oncall --json for all of it):\n");
    printf("  open incidents: %d; scopes not ACTIVE: %d; audit chain %s\n",
           open >= 0 ? d.t[open].size : 0, na >= 0 ? d.t[na].size : 0,
           boolean(&d, ck, "audit_intact") ? "intact" : "BROKEN");
    fmt_ns(num(&d, ck, "chain_tested_ns"), a, sizeof a);
    printf("  alerting chain last tested %s%s\n", a,
           boolean(&d, ck, "chain_tested_this_week") ? "" : " (not since this week's handoff)");
    printf("\nescalation chain:\n");
    int arr = get(&d, 0, "chain");
    for (int i = arr + 1, k = 0; arr >= 0 && k < d.t[arr].size; k++, i = skip(&d, i)) {
        char name[64];
        str(&d, i, "name", name, sizeof name);
        printf("  L%lld %s%s:", (long long)num(&d, i, "level"), name,
               boolean(&d, i, "rotation") ? " (the rotation)" : "");
        int cs = get(&d, i, "contacts");
        for (int j = cs + 1, m = 0; cs >= 0 && m < d.t[cs].size; m++, j = skip(&d, j)) {
            char who[64], ch[16];
            str(&d, j, "name", who, sizeof who);
            str(&d, j, "channel", ch, sizeof ch);
            printf("%s %s %s%s", m == 0 ? "" : ",", who, ch,
                   boolean(&d, j, "available_now") ? "" : " (off hours)");
        }
        printf("%s\n", cs < 0 || d.t[cs].size == 0 ? " (no contacts)" : "");
    }
    doc_free(&d);
    return CLI_OK;
}

/* An API silence (docs/API.md) at obj into s. */
static void silence_record(const struct doc *d, int obj, struct wd_silence *s)
{
    memset(s, 0, sizeof *s);
    s->id = num(d, obj, "id");
    str(d, obj, "scenario", s->scenario, sizeof s->scenario);
    str(d, obj, "scope", s->scope, sizeof s->scope);
    s->starts_ns = num(d, obj, "starts_ns");
    s->until_ns = num(d, obj, "until_ns");
    str(d, obj, "reason", s->reason, sizeof s->reason);
    str(d, obj, "by", s->by, sizeof s->by);
    str(d, obj, "role", s->role, sizeof s->role);
    s->removed_ns = num(d, obj, "removed_ns");
    str(d, obj, "removed_by", s->removed_by, sizeof s->removed_by);
}

static int silence_list(const char *url, const struct cli_remote_silence *r)
{
    struct doc d;
    if (call(url, "GET", r->all ? API "silences?all=1" : API "silences", NULL, &d) != CLI_OK) {
        return CLI_FAIL;
    }
    if (r->json) {
        return print_raw(&d);
    }
    int64_t now = cli_wall_ns();
    int arr = get(&d, 0, "silences");
    cli_silence_header();
    for (int i = arr + 1, k = 0; arr >= 0 && k < d.t[arr].size; k++, i = skip(&d, i)) {
        struct wd_silence s;
        silence_record(&d, i, &s);
        cli_silence_row(&s, now);
    }
    doc_free(&d);
    return CLI_OK;
}

static int silence_add(const char *url, const struct cli_remote_silence *r)
{
    struct jw_mem b;
    struct doc d;
    if (r->scenario == NULL || r->until == NULL || r->reason == NULL) {
        cli_errorf("silence add: --scenario, --until and --reason are required");
        return CLI_USAGE;
    }
    if (!body_open(&b)) {
        return CLI_FAIL;
    }
    body_str(&b, "scenario", r->scenario);
    if (r->scope != NULL) {
        body_str(&b, "scope", r->scope);
    }
    body_str(&b, "until", r->until);
    body_str(&b, "reason", r->reason);
    if (post(url, API "silences", &b, &d) != CLI_OK) {
        return CLI_FAIL;
    }
    if (r->json) {
        return print_raw(&d);
    }
    struct wd_silence s;
    char t[32];
    silence_record(&d, 0, &s);
    fmt_ns(s.until_ns, t, sizeof t);
    printf("silence #%lld: %s in %s held back until %s (by %s)\n", (long long)s.id, s.scenario,
           s.scope[0] ? s.scope : "every scope", t, s.by);
    doc_free(&d);
    return CLI_OK;
}

static int silence_remove(const char *url, const struct cli_remote_silence *r)
{
    struct doc d;
    char path[96], msg[128];
    uint32_t id;
    if (r->nargs != 1 || !cli_parse_u32(r->args[0], &id) || id == 0) {
        cli_errorf("silence remove: expected one silence ID (see 'warden silence list')");
        return CLI_USAGE;
    }
    snprintf(path, sizeof path, API "silences/%u/remove", id);
    if (call(url, "POST", path, "{}", &d) != CLI_OK) {
        return CLI_FAIL;
    }
    if (r->json) {
        return print_raw(&d);
    }
    str(&d, 0, "message", msg, sizeof msg);
    printf("%s\n", msg);
    doc_free(&d);
    return CLI_OK;
}

int cli_remote_silence(const char *url, const struct cli_remote_silence *r)
{
    if (strcmp(r->sub, "list") == 0) {
        return silence_list(url, r);
    }
    return strcmp(r->sub, "add") == 0 ? silence_add(url, r) : silence_remove(url, r);
}

/* ---- the running engine's figures ------------------------------------------------ */

int cli_remote_live(const char *url, const char *what)
{
    struct doc d;
    char path[64];
    snprintf(path, sizeof path, API "%s", what);
    if (call(url, "GET", path, NULL, &d) != CLI_OK) {
        return CLI_FAIL;
    }
    return print_raw(&d);
}
