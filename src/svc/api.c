/*
 * The API's request handling (api.h): authentication by bearer token,
 * role checks, routing, strict JSON request bodies (jsmn) and JSON
 * responses. The actions themselves are the service layer's. It must not
 * read a clock or touch a socket: the HTTP server does that.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/jsonout.h"
#include "notify/notify.h"
#include "store/store.h"
#include "svc/api.h"
#include "svc/incidents.h"
#include "svc/oncall.h"
#include "svc/states.h"

#include "core/jsmn_strict.h"

#define PREFIX "/api/v1/"
#define MAX_TOKENS 64
#define MAX_FIELDS 4
#define STR_MAX 1024

/* ---- responses ---------------------------------------------------------- */

/* A response document is a struct jw_mem (src/cli/jsonout.h). */
static int out_open(struct jw_mem *o) { return jw_mem_open(o) ? 0 : -1; }

static int finish(struct jw_mem *o, int status, struct wd_api_response *r)
{
    fputc('\n', o->f);
    jw_mem_close(o);
    r->status = status;
    r->body = o->buf;
    r->body_len = o->len;
    return status;
}

static int error(struct wd_api_response *r, int status, const char *fmt, ...) WD_PRINTF(3, 4);

static int error(struct wd_api_response *r, int status, const char *fmt, ...)
{
    char msg[768];
    struct jw_mem o;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (out_open(&o) != 0) {
        r->status = 500;
        return 500;
    }
    jw_obj_begin(&o.w);
    jw_key(&o.w, "error");
    jw_str(&o.w, msg);
    jw_obj_end(&o.w);
    return finish(&o, status, r);
}

static int svc_error(struct wd_api_response *r, enum wd_svc_code code, const char *msg)
{
    static const int http[] = {200, 400, 404, 409, 500, 403};
    return error(r, http[code], "%s", msg);
}

void wd_api_response_destroy(struct wd_api_response *r)
{
    free(r->body);
    r->body = NULL;
    r->body_len = 0;
}

/* ---- roles and tokens --------------------------------------------------- */

static const char *const role_names[] = {"", "viewer", "responder", "risk_officer", "admin"};

const char *wd_api_role_name(enum wd_api_role r)
{
    return (unsigned)r < sizeof role_names / sizeof role_names[0] ? role_names[r] : "?";
}

enum wd_api_role wd_api_role_parse(const char *s)
{
    for (size_t i = 1; s != NULL && i < sizeof role_names / sizeof role_names[0]; i++) {
        if (strcmp(s, role_names[i]) == 0) {
            return (enum wd_api_role)i;
        }
    }
    return WD_API_NONE;
}

/* Equal in time that depends only on the given token's length. */
static bool ct_equal(const char *given, size_t n, const char *known)
{
    size_t m = strlen(known);
    volatile unsigned char d = (unsigned char)(n != m);
    for (size_t i = 0; i < n; i++) {
        unsigned char k = i < m ? (unsigned char)known[i] : 0u;
        d |= (unsigned char)((unsigned char)given[i] ^ k);
    }
    return d == 0;
}

/* The token of "Bearer TOKEN" against every configured token (no early
 * exit): the match's index, or -1. */
static long authenticate(const struct wd_config *cfg, const char *authorization)
{
    static const char scheme[] = "bearer ";
    long found = -1;
    if (authorization == NULL || strncasecmp(authorization, scheme, sizeof scheme - 1) != 0) {
        return -1;
    }
    const char *t = authorization + sizeof scheme - 1;
    while (*t == ' ') {
        t++;
    }
    size_t n = strlen(t);
    if (n == 0 || n > WD_API_TOKEN_MAX) {
        return -1;
    }
    for (size_t i = 0; cfg != NULL && i < cfg->n_tokens; i++) {
        const struct wd_config_token *k = &cfg->tokens[i];
        bool eq = k->token != NULL && ct_equal(t, n, k->token);
        if (eq && found < 0) {
            found = (long)i;
        }
    }
    return found;
}

/* ---- request bodies ----------------------------------------------------- */

enum fkind { F_STR, F_UINT, F_BOOL };

struct field {
    const char *name;
    enum fkind kind;
    bool required;
};

struct val {
    bool present;
    char s[STR_MAX];
    uint32_t u;
    bool b;
};

static void put_utf8(char *dst, size_t *k, unsigned long cp)
{
    if (cp < 0x80) {
        dst[(*k)++] = (char)cp;
    } else if (cp < 0x800) {
        dst[(*k)++] = (char)(0xC0 | (cp >> 6));
        dst[(*k)++] = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        dst[(*k)++] = (char)(0xE0 | (cp >> 12));
        dst[(*k)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        dst[(*k)++] = (char)(0x80 | (cp & 0x3F));
    } else {
        dst[(*k)++] = (char)(0xF0 | (cp >> 18));
        dst[(*k)++] = (char)(0x80 | ((cp >> 12) & 0x3F));
        dst[(*k)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        dst[(*k)++] = (char)(0x80 | (cp & 0x3F));
    }
}

static bool hex4(const char *s, unsigned long *v)
{
    *v = 0;
    for (int i = 0; i < 4; i++) {
        char c = s[i];
        unsigned d = c >= '0' && c <= '9'   ? (unsigned)(c - '0')
                     : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
                     : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10)
                                            : 16u;
        if (d == 16u) {
            return false;
        }
        *v = *v * 16u + d;
    }
    return true;
}

bool wd_api_json_unescape(const char *s, size_t n, char *dst, size_t cap)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (k + 5 > cap) {
            return false;
        }
        char c = s[i];
        if (c != '\\') {
            dst[k++] = c;
            continue;
        }
        if (++i >= n) {
            return false;
        }
        switch (s[i]) {
        case '"': dst[k++] = '"'; break;
        case '\\': dst[k++] = '\\'; break;
        case '/': dst[k++] = '/'; break;
        case 'b': dst[k++] = '\b'; break;
        case 'f': dst[k++] = '\f'; break;
        case 'n': dst[k++] = '\n'; break;
        case 'r': dst[k++] = '\r'; break;
        case 't': dst[k++] = '\t'; break;
        case 'u': {
            unsigned long cp, lo;
            if (i + 4 >= n || !hex4(s + i + 1, &cp) || cp == 0) {
                return false;
            }
            i += 4;
            if (cp >= 0xD800 && cp < 0xDC00) {
                if (i + 6 >= n || s[i + 1] != '\\' || s[i + 2] != 'u' ||
                    !hex4(s + i + 3, &lo) || lo < 0xDC00 || lo > 0xDFFF) {
                    return false;
                }
                i += 6;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            } else if (cp >= 0xDC00 && cp < 0xE000) {
                return false;
            }
            put_utf8(dst, &k, cp);
            break;
        }
        default: return false;
        }
    }
    dst[k] = '\0';
    return true;
}

/* Parses body as one JSON object with only the given fields (each at most
 * once, of its kind), the required ones present. An empty body is {}.
 * On failure writes the 400 response and returns false. */
static bool parse_body(const char *body, size_t len, const struct field *fields, size_t nf,
                       struct val *vals, struct wd_api_response *r)
{
    jsmn_parser p;
    jsmntok_t t[MAX_TOKENS];
    memset(vals, 0, sizeof *vals * nf);
    size_t start = 0;
    while (start < len && (body[start] == ' ' || body[start] == '\n' || body[start] == '\r' ||
                           body[start] == '\t')) {
        start++;
    }
    if (start == len) {
        body = "{}";
        len = 2;
    }
    jsmn_init(&p);
    int n = jsmn_parse(&p, body, len, t, MAX_TOKENS);
    if (n == JSMN_ERROR_NOMEM) {
        error(r, 400, "the request body has too many JSON values");
        return false;
    }
    if (n < 1 || t[0].type != JSMN_OBJECT || t[0].end != (int)len) {
        /* Trailing bytes after the object: only whitespace. */
        bool ok = n >= 1 && t[0].type == JSMN_OBJECT;
        for (size_t i = ok ? (size_t)t[0].end : 0; ok && i < len; i++) {
            ok = body[i] == ' ' || body[i] == '\n' || body[i] == '\r' || body[i] == '\t';
        }
        if (!ok) {
            error(r, 400, "the request body is not one JSON object");
            return false;
        }
    }
    int i = 1;
    for (int k = 0; k < t[0].size; k++) {
        const jsmntok_t *key = &t[i], *v = &t[i + 1];
        if (key->type != JSMN_STRING) {
            error(r, 400, "the request body is not one JSON object");
            return false;
        }
        int klen = key->end - key->start;
        size_t f = 0;
        while (f < nf && !((size_t)klen == strlen(fields[f].name) &&
                           memcmp(body + key->start, fields[f].name, (size_t)klen) == 0)) {
            f++;
        }
        if (f == nf) {
            char name[64];
            if (!wd_api_json_unescape(body + key->start, (size_t)klen, name, sizeof name)) {
                snprintf(name, sizeof name, "(too long)");
            }
            error(r, 400, "unknown field \"%s\"", name);
            return false;
        }
        if (vals[f].present) {
            error(r, 400, "field \"%s\" given twice", fields[f].name);
            return false;
        }
        const char *vs = body + v->start;
        size_t vn = (size_t)(v->end - v->start);
        bool ok = false;
        switch (fields[f].kind) {
        case F_STR:
            ok = v->type == JSMN_STRING &&
                 wd_api_json_unescape(vs, vn, vals[f].s, sizeof vals[f].s);
            break;
        case F_BOOL:
            ok = v->type == JSMN_PRIMITIVE && (vn == 4 || vn == 5) && (vs[0] == 't' || vs[0] == 'f');
            vals[f].b = vs[0] == 't';
            break;
        case F_UINT: {
            unsigned long x = 0;
            ok = v->type == JSMN_PRIMITIVE && vn > 0 && vn <= 9;
            for (size_t j = 0; ok && j < vn; j++) {
                ok = vs[j] >= '0' && vs[j] <= '9';
                x = x * 10u + (unsigned long)(vs[j] - '0');
            }
            vals[f].u = (uint32_t)x;
            break;
        }
        }
        if (!ok) {
            error(r, 400, "field \"%s\": expected %s", fields[f].name,
                  fields[f].kind == F_STR    ? "a string (at most 1023 bytes)"
                  : fields[f].kind == F_BOOL ? "true or false"
                                             : "a whole number");
            return false;
        }
        vals[f].present = true;
        i += 2;
    }
    for (size_t f = 0; f < nf; f++) {
        if (fields[f].required && !vals[f].present) {
            error(r, 400, "missing field \"%s\"", fields[f].name);
            return false;
        }
    }
    return true;
}

/* ---- JSON documents ----------------------------------------------------- */

void wd_api_json_incident_fields(struct jw *w, const struct wd_incident *inc)
{
    jw_key(w, "id");
    jw_str(w, inc->id);
    jw_key(w, "scenario");
    jw_str(w, wd_scenario_name(inc->scenario));
    jw_key(w, "scope");
    jw_str(w, inc->scope);
    jw_key(w, "severity");
    jw_str(w, wd_severity_name(inc->severity));
    jw_key(w, "status");
    jw_str(w, wd_inc_status_name(inc->status));
    jw_key(w, "title");
    jw_str(w, inc->title);
    jw_key(w, "opened_ns");
    jw_int(w, inc->opened_ns);
    jw_key(w, "acknowledged_ns");
    jw_int(w, inc->acknowledged_ns);
    jw_key(w, "resolved_ns");
    jw_int(w, inc->resolved_ns);
}

static void json_record(struct jw *w, const struct wd_incident *inc)
{
    jw_obj_begin(w);
    wd_api_json_incident_fields(w, inc);
    struct wd_incident_sla sla;
    wd_incident_sla(inc, inc->opened_ns, &sla); /* the due times do not depend on now */
    jw_key(w, "ack_due_ns");
    jw_int(w, sla.ack_due_ns);
    jw_key(w, "resolve_due_ns");
    jw_int(w, sla.resolve_target_ns != 0 ? sla.resolve_due_ns : 0);
    jw_key(w, "opened_by");
    jw_str(w, inc->opened_by);
    jw_key(w, "commander");
    jw_str(w, inc->commander);
    jw_key(w, "criteria");
    jw_arr_begin(w);
    for (uint32_t i = 0; i < inc->n_criteria; i++) {
        jw_obj_begin(w);
        jw_key(w, "text");
        jw_str(w, inc->criteria[i].text);
        jw_key(w, "done");
        jw_bool(w, inc->criteria[i].done);
        jw_key(w, "who");
        jw_str(w, inc->criteria[i].who);
        jw_obj_end(w);
    }
    jw_arr_end(w);
    jw_obj_end(w);
}

void wd_api_json_timeline_entry(struct jw *w, const struct wd_timeline_entry *e)
{
    jw_obj_begin(w);
    jw_key(w, "ts_ns");
    jw_int(w, e->ts_ns);
    jw_key(w, "kind");
    jw_str(w, wd_tl_kind_name(e->kind));
    jw_key(w, "who");
    jw_str(w, e->who);
    jw_key(w, "from");
    jw_str(w, e->from);
    jw_key(w, "to");
    jw_str(w, e->to);
    jw_key(w, "text");
    jw_str(w, e->text);
    jw_obj_end(w);
}

static void json_shift(struct jw *w, const char *key, const struct wd_oncall_shift *s)
{
    jw_key(w, key);
    jw_obj_begin(w);
    jw_key(w, "week");
    jw_int(w, s->week);
    jw_key(w, "primary");
    jw_str(w, s->primary ? s->primary : "");
    jw_key(w, "secondary");
    jw_str(w, s->secondary ? s->secondary : "");
    jw_key(w, "scheduled_primary");
    jw_str(w, s->sched_primary ? s->sched_primary : "");
    jw_key(w, "scheduled_secondary");
    jw_str(w, s->sched_secondary ? s->sched_secondary : "");
    jw_key(w, "start_ns");
    jw_int(w, s->start_ns);
    jw_key(w, "end_ns");
    jw_int(w, s->end_ns);
    jw_obj_end(w);
}

/* The escalation chain as it stands at st->at_ns: each level, the
 * severities it is paged for, and whom it reaches (names and channels; the
 * addresses stay in the configuration). */
static void json_chain(struct jw *w, const struct wd_oncall_config *c, const struct wd_tz *tz,
                       const struct wd_svc_oncall_status *st)
{
    jw_key(w, "chain");
    jw_arr_begin(w);
    for (uint32_t l = 0; l < c->n_levels; l++) {
        const struct wd_contact *to[2 * WD_ONCALL_CONTACTS_MAX + WD_ESC_CONTACTS_MAX];
        size_t n = wd_svc_level_contacts(c, l, &st->now, to, sizeof to / sizeof to[0]);
        jw_obj_begin(w);
        jw_key(w, "level");
        jw_int(w, (int64_t)l + 1);
        jw_key(w, "name");
        jw_str(w, c->levels[l].name);
        jw_key(w, "rotation");
        jw_bool(w, c->levels[l].rotation);
        jw_key(w, "severities");
        jw_arr_begin(w);
        for (int sev = WD_P0; sev <= WD_P3; sev++) {
            if (c->levels[l].severities & (1u << sev)) {
                jw_str(w, wd_severity_name((enum wd_severity)sev));
            }
        }
        jw_arr_end(w);
        jw_key(w, "contacts");
        jw_arr_begin(w);
        for (size_t i = 0; i < n; i++) {
            jw_obj_begin(w);
            jw_key(w, "name");
            jw_str(w, to[i]->name);
            jw_key(w, "channel");
            jw_str(w, to[i]->channel);
            jw_key(w, "available_now");
            jw_bool(w, wd_hours_contain(&to[i]->hours, tz, st->at_ns));
            jw_obj_end(w);
        }
        jw_arr_end(w);
        jw_obj_end(w);
    }
    jw_arr_end(w);
}

void wd_api_json_oncall(struct jw *w, const struct wd_config *cfg, const struct wd_tz *tz,
                        const struct wd_svc_oncall_status *st)
{
    const char *on_call[2] = {st->now.primary, st->now.secondary};
    jw_obj_begin(w);
    jw_key(w, "at_ns");
    jw_int(w, st->at_ns);
    jw_key(w, "tz");
    jw_str(w, st->tz);
    json_shift(w, "now", &st->now);
    json_shift(w, "next", &st->next);
    jw_key(w, "next_handoff_ns");
    jw_int(w, st->now.end_ns);
    json_chain(w, &cfg->oncall, tz, st);
    jw_key(w, "checklist");
    jw_obj_begin(w);
    jw_key(w, "open_incidents");
    jw_arr_begin(w);
    for (size_t i = 0; i < st->n_open; i++) {
        jw_obj_begin(w);
        jw_key(w, "id");
        jw_str(w, st->open[i].id);
        jw_key(w, "severity");
        jw_str(w, wd_severity_name(st->open[i].severity));
        jw_key(w, "status");
        jw_str(w, wd_inc_status_name(st->open[i].status));
        jw_key(w, "title");
        jw_str(w, st->open[i].title);
        jw_obj_end(w);
    }
    jw_arr_end(w);
    jw_key(w, "scopes_not_active");
    jw_arr_begin(w);
    for (size_t i = 0; i < st->n_states; i++) {
        if (st->states[i].state != WD_TS_ACTIVE) {
            jw_obj_begin(w);
            jw_key(w, "scope");
            jw_str(w, st->states[i].scope);
            jw_key(w, "state");
            jw_str(w, wd_tstate_name(st->states[i].state));
            jw_obj_end(w);
        }
    }
    jw_arr_end(w);
    jw_key(w, "audit_intact");
    jw_bool(w, st->audit_intact);
    jw_key(w, "access");
    jw_arr_begin(w);
    for (int i = 0; i < 2; i++) {
        if (on_call[i] == NULL) {
            continue;
        }
        const struct wd_config_token *t = wd_svc_token_of(cfg, on_call[i]);
        jw_obj_begin(w);
        jw_key(w, "name");
        jw_str(w, on_call[i]);
        jw_key(w, "api_role");
        jw_str(w, t ? t->role : "");
        jw_obj_end(w);
    }
    jw_arr_end(w);
    jw_key(w, "chain_tested_ns");
    jw_int(w, st->tested ? st->last_test.ts_ns : 0);
    jw_key(w, "chain_tested_by");
    jw_str(w, st->tested ? st->last_test.by : "");
    jw_key(w, "chain_tested_this_week");
    jw_bool(w, st->tested_this_week);
    jw_obj_end(w);
    jw_obj_end(w);
}

void wd_api_json_silence(struct jw *w, const struct wd_silence *s)
{
    jw_obj_begin(w);
    jw_key(w, "id");
    jw_int(w, s->id);
    jw_key(w, "scenario");
    jw_str(w, s->scenario);
    jw_key(w, "scope");
    jw_str(w, s->scope);
    jw_key(w, "starts_ns");
    jw_int(w, s->starts_ns);
    jw_key(w, "until_ns");
    jw_int(w, s->until_ns);
    jw_key(w, "reason");
    jw_str(w, s->reason);
    jw_key(w, "by");
    jw_str(w, s->by);
    jw_key(w, "role");
    jw_str(w, s->role);
    jw_key(w, "removed_ns");
    jw_int(w, s->removed_ns);
    jw_key(w, "removed_by");
    jw_str(w, s->removed_by);
    jw_obj_end(w);
}

/* ---- routes ------------------------------------------------------------- */

struct req {
    struct wd_api *api;
    const char *who; /* the token's name */
    enum wd_api_role role;
    const char *body;
    size_t body_len;
    int64_t now;
    struct wd_api_response *r;
};

static int need(struct req *q, enum wd_api_role role, const char *what)
{
    if (q->role >= role) {
        return 0;
    }
    error(q->r, 403, "%s needs the %s role (or higher); token '%s' has %s", what,
          wd_api_role_name(role), q->who, wd_api_role_name(q->role));
    return -1;
}

/* The role an approval of kind role_name needs: a Risk Officer's needs
 * risk_officer, the CTO's needs admin (docs/API.md). */
static enum wd_api_role approval_role(const char *role_name)
{
    return strcmp(role_name, "cto") == 0 ? WD_API_ADMIN : WD_API_RISK_OFFICER;
}

static int get_status(struct req *q)
{
    struct wd_scope_state *states = NULL;
    size_t n = 0;
    struct wd_error err = {0};
    struct jw_mem o;
    if (wd_store_load_states(q->api->store, &states, &n, &err) != WD_OK || out_open(&o) != 0) {
        free(states);
        return error(q->r, 500, "store: %s", err.msg);
    }
    jw_obj_begin(&o.w);
    jw_key(&o.w, "scopes");
    jw_arr_begin(&o.w);
    for (size_t i = 0; i < n; i++) {
        char needed[64], given[160];
        struct wd_svc_result res;
        (void)wd_svc_scope_approvals(q->api->store, &states[i], needed, sizeof needed, given,
                                     sizeof given, &res);
        jw_obj_begin(&o.w);
        jw_key(&o.w, "scope");
        jw_str(&o.w, states[i].scope);
        jw_key(&o.w, "state");
        jw_str(&o.w, wd_tstate_name(states[i].state));
        jw_key(&o.w, "since_ns");
        jw_int(&o.w, states[i].since_ns);
        jw_key(&o.w, "reason");
        jw_str(&o.w, states[i].reason);
        jw_key(&o.w, "by");
        jw_str(&o.w, states[i].by);
        jw_key(&o.w, "incident");
        jw_str(&o.w, states[i].incident);
        jw_key(&o.w, "approvals_needed");
        jw_str(&o.w, needed);
        jw_key(&o.w, "approvals_given");
        jw_str(&o.w, given);
        jw_obj_end(&o.w);
    }
    jw_arr_end(&o.w);
    jw_obj_end(&o.w);
    free(states);
    return finish(&o, 200, q->r);
}

static int get_incidents(struct req *q, bool all)
{
    struct wd_incident *v = NULL;
    size_t n = 0;
    struct wd_error err = {0};
    struct jw_mem o;
    if (wd_store_incident_list_records(q->api->store, !all, &v, &n, &err) != WD_OK ||
        out_open(&o) != 0) {
        free(v);
        return error(q->r, 500, "store: %s", err.msg);
    }
    jw_obj_begin(&o.w);
    jw_key(&o.w, "incidents");
    jw_arr_begin(&o.w);
    for (size_t i = 0; i < n; i++) {
        json_record(&o.w, &v[i]);
    }
    jw_arr_end(&o.w);
    jw_obj_end(&o.w);
    free(v);
    return finish(&o, 200, q->r);
}

static int get_incident(struct req *q, const char *id, bool timeline)
{
    struct wd_incident inc;
    struct wd_timeline_entry *tl = NULL;
    size_t n = 0;
    struct wd_error err = {0};
    bool found = false;
    struct jw_mem o;
    if (wd_store_incident_load(q->api->store, id, &inc, &found, &err) != WD_OK) {
        return error(q->r, 500, "store: %s", err.msg);
    }
    if (!found) {
        return error(q->r, 404, "incident %s: no such incident", id);
    }
    if ((timeline && wd_store_timeline_list(q->api->store, id, &tl, &n, &err) != WD_OK) ||
        out_open(&o) != 0) {
        free(tl);
        return error(q->r, 500, "store: %s", err.msg);
    }
    if (timeline) {
        jw_obj_begin(&o.w);
        jw_key(&o.w, "timeline");
        jw_arr_begin(&o.w);
        for (size_t i = 0; i < n; i++) {
            wd_api_json_timeline_entry(&o.w, &tl[i]);
        }
        jw_arr_end(&o.w);
        jw_obj_end(&o.w);
    } else {
        json_record(&o.w, &inc);
    }
    free(tl);
    return finish(&o, 200, q->r);
}

static int get_audit(struct req *q)
{
    struct wd_audit_report rep;
    struct wd_error err = {0};
    struct jw_mem o;
    memset(&rep, 0, sizeof rep);
    if (wd_store_audit_verify(q->api->store, &rep, &err) != WD_OK || out_open(&o) != 0) {
        return error(q->r, 500, "store: %s", err.msg);
    }
    jw_obj_begin(&o.w);
    jw_key(&o.w, "intact");
    jw_bool(&o.w, rep.intact);
    jw_key(&o.w, "entries");
    jw_int(&o.w, (int64_t)rep.entries);
    jw_key(&o.w, "rows");
    jw_int(&o.w, (int64_t)rep.rows);
    jw_key(&o.w, "head_hash");
    jw_str(&o.w, rep.head_hash);
    jw_key(&o.w, "message");
    jw_str(&o.w, rep.msg);
    jw_obj_end(&o.w);
    return finish(&o, 200, q->r);
}

static int post_update(struct req *q, const char *id);

/* POST incidents/{id}/{action}; update is the status update (below). */
static int post_incident(struct req *q, const char *id, const char *action)
{
    static const struct field f_none[] = {{"", F_STR, false}};
    static const struct field f_assign[] = {{"role", F_STR, true}, {"name", F_STR, true}};
    static const struct field f_status[] = {{"status", F_STR, true}};
    static const struct field f_note[] = {{"text", F_STR, true}};
    static const struct field f_check[] = {{"index", F_UINT, true}, {"done", F_BOOL, false}};
    static const struct field f_approve[] = {{"role", F_STR, true}, {"reason", F_STR, true}};
    static const struct field f_resolve[] = {{"pnl", F_STR, false}};
    static const struct {
        const char *name;
        enum wd_svc_inc_op op;
        const struct field *fields;
        size_t nf;
    } acts[] = {
        {"ack", WD_SVC_INC_ACK, f_none, 0},
        {"assign", WD_SVC_INC_ASSIGN, f_assign, 2},
        {"status", WD_SVC_INC_STATUS, f_status, 1},
        {"note", WD_SVC_INC_NOTE, f_note, 1},
        {"check", WD_SVC_INC_CHECK, f_check, 2},
        {"approve", WD_SVC_INC_APPROVE, f_approve, 2},
        {"resolve", WD_SVC_INC_RESOLVE, f_resolve, 1},
    };
    struct val v[MAX_FIELDS];
    struct wd_svc_inc_change ch;
    struct wd_svc_result res;
    struct wd_incident inc;
    struct wd_timeline_entry e;
    size_t a = 0;
    while (a < sizeof acts / sizeof acts[0] && strcmp(acts[a].name, action) != 0) {
        a++;
    }
    if (a == sizeof acts / sizeof acts[0]) {
        return strcmp(action, "update") == 0
                   ? post_update(q, id)
                   : error(q->r, 404, "no such route: POST incidents/{id}/%s", action);
    }
    if (need(q, WD_API_RESPONDER, "acting on an incident") != 0 ||
        !parse_body(q->body, q->body_len, acts[a].fields, acts[a].nf, v, q->r)) {
        return q->r->status;
    }
    memset(&ch, 0, sizeof ch);
    ch.op = acts[a].op;
    switch (ch.op) {
    case WD_SVC_INC_ASSIGN: ch.role = v[0].s; ch.name = v[1].s; break;
    case WD_SVC_INC_STATUS: ch.status = v[0].s; break;
    case WD_SVC_INC_NOTE: ch.text = v[0].s; break;
    case WD_SVC_INC_CHECK:
        if (v[0].u == 0) {
            return error(q->r, 400, "field \"index\": criteria are numbered from 1");
        }
        ch.index = v[0].u - 1u;
        ch.undo = v[1].present && !v[1].b;
        break;
    case WD_SVC_INC_APPROVE:
        ch.role = v[0].s;
        ch.reason = v[1].s;
        if (need(q, approval_role(ch.role), "this approval") != 0) {
            return q->r->status;
        }
        break;
    case WD_SVC_INC_RESOLVE:
        if (v[0].present) {
            ch.with_pnl = true;
            if (wd_fix_parse(v[0].s, strlen(v[0].s), &ch.pnl) != WD_OK) {
                return error(q->r, 400, "field \"pnl\": not a number");
            }
        }
        break;
    default: break;
    }
    enum wd_svc_code code =
        wd_svc_incident_change(q->api->store, id, &ch, q->who, q->now, &inc, &e, &res);
    if (code != WD_SVC_OK) {
        return svc_error(q->r, code, res.msg);
    }
    struct jw_mem o;
    if (out_open(&o) != 0) {
        return error(q->r, 500, "out of memory");
    }
    jw_obj_begin(&o.w);
    jw_key(&o.w, "incident");
    json_record(&o.w, &inc);
    jw_key(&o.w, "entry");
    wd_api_json_timeline_entry(&o.w, &e);
    jw_obj_end(&o.w);
    return finish(&o, 200, q->r);
}

static int post_halt(struct req *q)
{
    static const struct field f[] = {
        {"scope", F_STR, false}, {"reason", F_STR, true}, {"reduce_only", F_BOOL, false}};
    struct val v[MAX_FIELDS];
    struct wd_svc_result res;
    struct wd_scope_state st;
    struct jw_mem o;
    if (need(q, WD_API_RESPONDER, "halting") != 0 || !parse_body(q->body, q->body_len, f, 3, v, q->r)) {
        return q->r->status;
    }
    enum wd_svc_code code = wd_svc_halt(q->api->store, v[0].present ? v[0].s : "firm",
                                        v[2].present && v[2].b, v[1].s, q->who, q->now, &st, &res);
    if (code != WD_SVC_OK) {
        return svc_error(q->r, code, res.msg);
    }
    if (out_open(&o) != 0) {
        return error(q->r, 500, "out of memory");
    }
    jw_obj_begin(&o.w);
    jw_key(&o.w, "scope");
    jw_str(&o.w, st.scope);
    jw_key(&o.w, "state");
    jw_str(&o.w, wd_tstate_name(st.state));
    jw_key(&o.w, "since_ns");
    jw_int(&o.w, st.since_ns);
    jw_key(&o.w, "by");
    jw_str(&o.w, st.by);
    jw_key(&o.w, "reason");
    jw_str(&o.w, st.reason);
    jw_obj_end(&o.w);
    return finish(&o, 200, q->r);
}

static int post_resume(struct req *q)
{
    static const struct field f[] = {
        {"scope", F_STR, false}, {"role", F_STR, true}, {"reason", F_STR, true}};
    struct val v[MAX_FIELDS];
    struct wd_svc_result res;
    struct wd_svc_resume rs;
    struct jw_mem o;
    char needed[64];
    if (need(q, WD_API_RISK_OFFICER, "a resume approval") != 0 ||
        !parse_body(q->body, q->body_len, f, 3, v, q->r) ||
        need(q, approval_role(v[1].s), "this approval") != 0) {
        return q->r->status;
    }
    const char *scope = v[0].present ? v[0].s : "firm";
    enum wd_svc_code code =
        wd_svc_resume(q->api->store, scope, v[1].s, v[2].s, q->who, q->now, &rs, &res);
    if (code != WD_SVC_OK) {
        return svc_error(q->r, code, res.msg);
    }
    if (out_open(&o) != 0) {
        return error(q->r, 500, "out of memory");
    }
    wd_svc_roles_text(rs.still_needed, needed, sizeof needed);
    jw_obj_begin(&o.w);
    jw_key(&o.w, "scope");
    jw_str(&o.w, scope);
    jw_key(&o.w, "approved_by");
    jw_str(&o.w, q->who);
    jw_key(&o.w, "role");
    jw_str(&o.w, wd_role_name(rs.role));
    jw_key(&o.w, "resumed");
    jw_bool(&o.w, rs.resumed);
    jw_key(&o.w, "still_needed");
    jw_str(&o.w, needed);
    jw_key(&o.w, "blocked_by_incident");
    jw_str(&o.w, rs.criteria_blocked ? rs.incident : "");
    jw_obj_end(&o.w);
    return finish(&o, 200, q->r);
}

/* ---- on-call, silences, status updates (issue 8) ------------------------- */

static int get_oncall(struct req *q)
{
    struct wd_svc_oncall_status st;
    struct wd_svc_result res;
    struct jw_mem o;
    const struct wd_tz *tz = q->api->oncall_tz != NULL ? q->api->oncall_tz : q->api->tz;
    if (wd_svc_oncall_status(q->api->store, q->api->cfg, tz, q->now, &st, &res) != WD_SVC_OK) {
        return svc_error(q->r, res.code, res.msg);
    }
    if (out_open(&o) != 0) {
        wd_svc_oncall_status_destroy(&st);
        return error(q->r, 500, "out of memory");
    }
    wd_api_json_oncall(&o.w, q->api->cfg, tz, &st);
    wd_svc_oncall_status_destroy(&st);
    return finish(&o, 200, q->r);
}

static int get_silences(struct req *q, bool all)
{
    struct wd_silence *v = NULL;
    size_t n = 0;
    struct wd_error err = {0};
    struct jw_mem o;
    if (wd_store_silence_list(q->api->store, all, q->now, &v, &n, &err) != WD_OK ||
        out_open(&o) != 0) {
        free(v);
        return error(q->r, 500, "store: %s", err.msg);
    }
    jw_obj_begin(&o.w);
    jw_key(&o.w, "silences");
    jw_arr_begin(&o.w);
    for (size_t i = 0; i < n; i++) {
        wd_api_json_silence(&o.w, &v[i]);
    }
    jw_arr_end(&o.w);
    jw_obj_end(&o.w);
    free(v);
    return finish(&o, 200, q->r);
}

/* A refusal of the service layer; the role rule's (FORBIDDEN) as a 403
 * that names the token, like need()'s. */
static int silence_error(struct req *q, const struct wd_svc_result *res)
{
    if (res->code == WD_SVC_FORBIDDEN) {
        return error(q->r, 403, "%s (token '%s')", res->msg, q->who);
    }
    return svc_error(q->r, res->code, res->msg);
}

static int post_silence_add(struct req *q)
{
    static const struct field f[] = {{"scenario", F_STR, true},
                                     {"scope", F_STR, false},
                                     {"until", F_STR, true},
                                     {"reason", F_STR, true}};
    struct val v[MAX_FIELDS];
    struct wd_svc_result res;
    struct wd_silence sl;
    struct jw_mem o;
    int64_t until;
    if (need(q, WD_API_RESPONDER, "silencing") != 0 ||
        !parse_body(q->body, q->body_len, f, 4, v, q->r)) {
        return q->r->status;
    }
    if (wd_svc_silence_until(v[2].s, q->api->tz, q->now, &until, &res) != WD_SVC_OK) {
        return error(q->r, 400, "field \"until\": %s", res.msg);
    }
    if (wd_svc_silence_add(q->api->store, v[0].s, v[1].present ? v[1].s : NULL, until, v[3].s,
                           q->who, wd_api_role_name(q->role), q->now, &sl, &res) != WD_SVC_OK) {
        return silence_error(q, &res);
    }
    if (out_open(&o) != 0) {
        return error(q->r, 500, "out of memory");
    }
    wd_api_json_silence(&o.w, &sl);
    return finish(&o, 200, q->r);
}

static int post_silence_remove(struct req *q, const char *id_text)
{
    static const struct field f_none[] = {{"", F_STR, false}};
    struct val v[1];
    struct wd_svc_result res;
    struct jw_mem o;
    char *end = NULL;
    if (need(q, WD_API_RESPONDER, "removing a silence") != 0) {
        return q->r->status;
    }
    long long id = strtoll(id_text, &end, 10);
    if (end == id_text || *end != '\0' || id <= 0 || id_text[0] < '1' || id_text[0] > '9') {
        return error(q->r, 404, "silence '%s': no such silence (ids are whole numbers from 1)",
                     id_text);
    }
    if (!parse_body(q->body, q->body_len, f_none, 0, v, q->r)) {
        return q->r->status;
    }
    if (wd_svc_silence_remove(q->api->store, id, q->who, wd_api_role_name(q->role), q->now,
                              &res) != WD_SVC_OK) {
        return silence_error(q, &res);
    }
    if (out_open(&o) != 0) {
        return error(q->r, 500, "out of memory");
    }
    jw_obj_begin(&o.w);
    jw_key(&o.w, "id");
    jw_int(&o.w, id);
    jw_key(&o.w, "removed_by");
    jw_str(&o.w, q->who);
    jw_key(&o.w, "message");
    jw_str(&o.w, res.msg);
    jw_obj_end(&o.w);
    return finish(&o, 200, q->r);
}

/* POST incidents/{id}/update: the playbook's status update through the
 * incident's channels (queued in the outbox; the daemon's sender sends). */
static int post_update(struct req *q, const char *id)
{
    static const struct field f[] = {{"message", F_STR, false}};
    struct val v[1];
    struct wd_error err = {0};
    struct jw_mem o;
    size_t queued = 0;
    if (need(q, WD_API_RESPONDER, "a status update") != 0 ||
        !parse_body(q->body, q->body_len, f, 1, v, q->r)) {
        return q->r->status;
    }
    enum wd_status st = wd_notify_status_update(q->api->store, &q->api->cfg->notify, q->api->tz,
                                                id, v[0].present ? v[0].s : NULL, q->who,
                                                q->now, &queued, &err);
    if (st != WD_OK) {
        return error(q->r, st == WD_ENOTFOUND ? 404 : st == WD_ESTATE ? 409 : 500, "%s", err.msg);
    }
    if (out_open(&o) != 0) {
        return error(q->r, 500, "out of memory");
    }
    jw_obj_begin(&o.w);
    jw_key(&o.w, "id");
    jw_str(&o.w, id);
    jw_key(&o.w, "by");
    jw_str(&o.w, q->who);
    jw_key(&o.w, "queued");
    jw_int(&o.w, (int64_t)queued);
    jw_obj_end(&o.w);
    return finish(&o, 200, q->r);
}

static int live(struct req *q, const char *what)
{
    struct jw_mem o;
    if (q->api->live == NULL) {
        return error(q->r, 503, "%s needs the running engine (warden run)", what);
    }
    if (out_open(&o) != 0) {
        return error(q->r, 500, "out of memory");
    }
    int status = q->api->live(q->api->live_ctx, what, o.f);
    return finish(&o, status, q->r);
}

/* The live routes' names (the engine's figures, through api->live). */
static bool live_route(const char *route, size_t n)
{
    static const char *const names[] = {"positions", "pnl", "drawdown", "kafka/lag"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strlen(names[i]) == n && memcmp(route, names[i], n) == 0) {
            return true;
        }
    }
    return false;
}

bool wd_api_reads_store_only(const char *method, const char *path)
{
    if (strcmp(method, "GET") != 0) {
        return false;
    }
    if (strncmp(path, PREFIX, sizeof PREFIX - 1) != 0) {
        return true; /* a 401, 403 or 404: no engine either */
    }
    const char *p = path + sizeof PREFIX - 1;
    size_t n = strcspn(p, "?");
    /* oncall reads the on-call zone the daemon's loop keeps (wd_api.oncall_tz). */
    return !live_route(p, n) && !(n == 6 && memcmp(p, "oncall", 6) == 0);
}

int wd_api_handle(struct wd_api *api, const char *method, const char *path,
                  const char *authorization, const char *body, size_t body_len, int64_t now,
                  struct wd_api_response *out)
{
    char route[256];
    struct req q = {.api = api, .body = body, .body_len = body_len, .now = now, .r = out};
    memset(out, 0, sizeof *out);
    long tok = authenticate(api->cfg, authorization);
    if (tok < 0) {
        out->www_authenticate = "Bearer realm=\"warden\"";
        return error(out, 401,
                     authorization == NULL ? "an Authorization: Bearer TOKEN header is required"
                                           : "unknown token");
    }
    q.who = api->cfg->tokens[tok].name;
    q.role = wd_api_role_parse(api->cfg->tokens[tok].role);
    if (need(&q, WD_API_VIEWER, "the API") != 0) {
        return out->status;
    }
    if (body_len > WD_API_BODY_MAX) {
        return error(out, 413, "the request body is larger than %u bytes", WD_API_BODY_MAX);
    }
    if (strncmp(path, PREFIX, sizeof PREFIX - 1) != 0) {
        return error(out, 404, "no such route: %s", path);
    }
    const char *p = path + sizeof PREFIX - 1;
    const char *qs = strchr(p, '?');
    size_t plen = qs != NULL ? (size_t)(qs - p) : strlen(p);
    if (plen >= sizeof route) {
        return error(out, 404, "no such route");
    }
    memcpy(route, p, plen);
    route[plen] = '\0';
    bool get = strcmp(method, "GET") == 0, post = strcmp(method, "POST") == 0;
    if (!get && !post) {
        return error(out, 405, "method %s: only GET and POST", method);
    }
    if (get) {
        if (strcmp(route, "status") == 0) {
            return get_status(&q);
        }
        if (strcmp(route, "incidents") == 0) {
            return get_incidents(&q, qs != NULL && strcmp(qs, "?all=1") == 0);
        }
        if (strcmp(route, "audit/verify") == 0) {
            return get_audit(&q);
        }
        if (strcmp(route, "oncall") == 0) {
            return get_oncall(&q);
        }
        if (strcmp(route, "silences") == 0) {
            return get_silences(&q, qs != NULL && strcmp(qs, "?all=1") == 0);
        }
        if (live_route(route, strlen(route))) {
            return live(&q, route);
        }
    } else if (strcmp(route, "halt") == 0) {
        return post_halt(&q);
    } else if (strcmp(route, "resume") == 0) {
        return post_resume(&q);
    } else if (strcmp(route, "silences") == 0) {
        return post_silence_add(&q);
    } else if (strncmp(route, "silences/", 9) == 0) {
        char *sid = route + 9, *sub = strchr(sid, '/');
        if (sub != NULL && strcmp(sub, "/remove") == 0) {
            *sub = '\0';
            return post_silence_remove(&q, sid);
        }
    }
    if (strncmp(route, "incidents/", 10) == 0) {
        char *id = route + 10;
        char *sub = strchr(id, '/');
        if (sub != NULL) {
            *sub++ = '\0';
        }
        if (get && sub == NULL) {
            return get_incident(&q, id, false);
        }
        if (get && strcmp(sub, "timeline") == 0) {
            return get_incident(&q, id, true);
        }
        if (post && sub != NULL && strchr(sub, '/') == NULL) {
            return post_incident(&q, id, sub);
        }
    }
    return error(out, 404, "no such route: %s %s", method, path);
}
