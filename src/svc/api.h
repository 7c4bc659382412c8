/*
 * The API's request handling (issue 6, points 3 and 4), independent of the
 * HTTP library: src/bus/http.c hands each request's method, path,
 * Authorization header and body to wd_api_handle and sends back the
 * status and JSON body it gets. Routes under /api/v1/ (docs/API.md); every
 * action goes through the service layer (svc/incidents.h, svc/states.h)
 * under the bearer token's name, so the audit trail names who did it.
 * No I/O but the store's; no clock: `now` is the caller's.
 */
#ifndef WD_SVC_API_H
#define WD_SVC_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "warden/config.h"
#include "warden/tz.h"

struct wd_store;

/* Request bodies larger than this are refused with 413. */
#define WD_API_BODY_MAX (64u * 1024u)
/* Longer bearer tokens are refused (401) without comparing. */
#define WD_API_TOKEN_MAX 512u

/* Roles, in order: each includes the ones before it. */
enum wd_api_role { WD_API_NONE = 0, WD_API_VIEWER, WD_API_RESPONDER, WD_API_RISK_OFFICER,
                   WD_API_ADMIN };

/* "viewer", "responder", "risk_officer", "admin" (NULL-safe parse: NONE). */
const char *wd_api_role_name(enum wd_api_role r);
enum wd_api_role wd_api_role_parse(const char *s);

/* What only the running engine knows (positions, pnl, drawdown, and the
 * Kafka input's lag, "kafka/lag"): the daemon sets this to write `what`'s
 * JSON document to out and return the HTTP status (200; an error document
 * {"error":...} with its status, e.g. 404 for kafka/lag without Kafka).
 * Unset, those routes answer 503. */
typedef int (*wd_api_live_fn)(void *ctx, const char *what, FILE *out);

struct wd_api {
    struct wd_store *store;      /* borrowed, open for the handler's life */
    const struct wd_config *cfg; /* borrowed: the tokens; swap on reload */
    const struct wd_tz *tz;      /* borrowed: the session zone (incident ids) */
    const struct wd_tz *oncall_tz; /* borrowed, optional: oncall.tz's zone (NULL: tz) for
                                      GET oncall; the daemon sets it under its lock */
    wd_api_live_fn live;         /* optional */
    void *live_ctx;
};

struct wd_api_response {
    int status;                   /* HTTP status */
    char *body;                   /* from malloc (JSON, newline-terminated); free with
                                     wd_api_response_destroy */
    size_t body_len;
    const char *www_authenticate; /* static; non-NULL on 401: send as WWW-Authenticate */
};

/* True when the request (method, path with an optional query) only reads
 * the store: every GET but the live routes (positions, pnl, drawdown,
 * kafka/lag) and
 * oncall (which reads the on-call zone, oncall_tz, that the daemon keeps). A
 * server may handle such requests on a connection to the store of their
 * own, without the lock that guards the engine (docs/internals/DAEMON.md). */
bool wd_api_reads_store_only(const char *method, const char *path);

/* Handles one request. method "GET"/"POST"; path with an optional query
 * ("?all=1"); authorization the Authorization header's value (NULL when
 * absent); body/body_len the request body (body_len may exceed
 * WD_API_BODY_MAX: 413); now the request time in ns since the epoch.
 * Fills *out (always a JSON body; errors as {"error":"..."}) and returns
 * out->status. */
int wd_api_handle(struct wd_api *api, const char *method, const char *path,
                  const char *authorization, const char *body, size_t body_len, int64_t now,
                  struct wd_api_response *out);

void wd_api_response_destroy(struct wd_api_response *r);

struct jw;
struct wd_timeline_entry;
struct wd_incident;
/* One timeline entry as a JSON object: ts_ns, kind, who, from, to, text
 * (the API's timeline, incident show --json, evidence's timeline.jsonl). */
void wd_api_json_timeline_entry(struct jw *w, const struct wd_timeline_entry *e);

/* The summary keys of an incident (id, scenario, scope, severity, status,
 * title, opened/acknowledged/resolved times) into the object being written:
 * the API's record and the CLI's list/change output start with them. */
void wd_api_json_incident_fields(struct jw *w, const struct wd_incident *inc);

struct wd_config;
struct wd_silence;
struct wd_svc_oncall_status;
/* `warden oncall --json` and GET oncall: {at_ns, tz, now, next,
 * next_handoff_ns, chain:[{level,name,rotation,severities,contacts:[{name,
 * channel,available_now}]}], checklist:{...}} (docs/ONCALL.md); tz the
 * on-call zone (hours of availability). */
void wd_api_json_oncall(struct jw *w, const struct wd_config *cfg, const struct wd_tz *tz,
                        const struct wd_svc_oncall_status *st);

/* One silence: {id, scenario, scope, starts_ns, until_ns, reason, by, role,
 * removed_ns, removed_by} (`warden silence list --json`, GET silences). */
void wd_api_json_silence(struct jw *w, const struct wd_silence *s);

/* The JSON string content s[0..n) (between the quotes) unescaped into dst
 * (cap bytes, NUL ended); false if it does not fit, has a bad escape or a
 * NUL. The API's request bodies and the CLI's reading of its answers. */
bool wd_api_json_unescape(const char *s, size_t n, char *dst, size_t cap);

#endif /* WD_SVC_API_H */
