/*
 * The API's request handling (src/svc/api.c) over a real SQLite store in a
 * temporary directory: routes, roles (401 vs 403 at each boundary), strict
 * bodies, and that an action is recorded under the token's name.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#define STORE_FIXTURE_DIR "/tmp/wd_api_XXXXXX"
#define STORE_FIXTURE_CLOCK 1763373600000000000
#include "store_fixture.h"
#include "svc/api.h"
#include "svc/incidents.h"

#define NOW 1763373600000000000 /* 2025-11-17T10:00:00Z */

struct t {
    struct wd_store *store;
    struct wd_config cfg;
    struct wd_tz *tz;
    struct wd_api api;
    struct wd_api_response r;
};

static void add_token(struct wd_config *cfg, const char *name, const char *role, const char *tok)
{
    cfg->tokens = realloc(cfg->tokens, (cfg->n_tokens + 1) * sizeof *cfg->tokens);
    assert_non_null(cfg->tokens);
    cfg->tokens[cfg->n_tokens].name = strdup(name);
    cfg->tokens[cfg->n_tokens].role = strdup(role);
    cfg->tokens[cfg->n_tokens].token = strdup(tok);
    cfg->n_tokens++;
}

static void t_open(struct t *t, struct fixture *fx)
{
    memset(t, 0, sizeof *t);
    t->store = open_ok(fx);
    assert_int_equal(wd_config_init(&t->cfg), WD_OK);
    add_token(&t->cfg, "vera", "viewer", "viewer-token-0001");
    add_token(&t->cfg, "carol", "responder", "responder-token-01");
    add_token(&t->cfg, "rita", "risk_officer", "risk-token-000001");
    add_token(&t->cfg, "cto", "admin", "admin-token-000001");
    assert_int_equal(wd_tz_from_posix("UTC0", 4, &t->tz, NULL), WD_OK);
    t->api = (struct wd_api){.store = t->store, .cfg = &t->cfg, .tz = t->tz};
}

static void t_close(struct t *t)
{
    wd_api_response_destroy(&t->r);
    wd_store_close(t->store);
    wd_config_destroy(&t->cfg);
    wd_tz_free(t->tz);
}

/* One request; returns the status, the body in t->r. */
static int req(struct t *t, const char *method, const char *path, const char *tok,
               const char *body)
{
    char auth[128];
    wd_api_response_destroy(&t->r);
    if (tok != NULL) {
        snprintf(auth, sizeof auth, "Bearer %s", tok);
    }
    return wd_api_handle(&t->api, method, path, tok ? auth : NULL, body,
                         body ? strlen(body) : 0, NOW + 1000, &t->r);
}

#define VIEWER "viewer-token-0001"
#define RESP "responder-token-01"
#define RISK "risk-token-000001"
#define ADMIN "admin-token-000001"

static void open_incident(struct t *t)
{
    struct wd_svc_result res;
    const struct wd_svc_inc_open o = {.scenario = "broker_disconnect", .scope = "firm", .title = "lost"};
    assert_int_equal(wd_svc_incident_open(t->store, t->tz, &o, "warden", NOW, NULL, NULL, NULL,
                                          &res),
                     WD_SVC_OK);
}

static void test_api_401_and_403_are_distinct(void **state)
{
    struct t t;
    t_open(&t, *state);
    assert_int_equal(req(&t, "GET", "/api/v1/status", NULL, NULL), 401);
    assert_non_null(t.r.www_authenticate);
    assert_int_equal(req(&t, "GET", "/api/v1/status", "nope-nope-nope-nope", NULL), 401);
    assert_string_equal(t.r.body, "{\"error\":\"unknown token\"}\n");
    assert_int_equal(req(&t, "GET", "/api/v1/status", VIEWER, NULL), 200);
    assert_string_equal(t.r.body, "{\"scopes\":[]}\n");
    /* viewer < responder: halt */
    assert_int_equal(req(&t, "POST", "/api/v1/halt", VIEWER, "{\"reason\":\"x\"}"), 403);
    assert_string_equal(t.r.body, "{\"error\":\"halting needs the responder role (or higher); "
                                  "token 'vera' has viewer\"}\n");
    assert_null(t.r.www_authenticate);
    /* responder < risk_officer: resume */
    assert_int_equal(req(&t, "POST", "/api/v1/resume", RESP,
                         "{\"role\":\"risk_officer\",\"reason\":\"ok\"}"), 403);
    /* risk_officer < admin: the CTO's approval */
    assert_int_equal(req(&t, "POST", "/api/v1/resume", RISK, "{\"role\":\"cto\",\"reason\":\"ok\"}"),
                     403);
    assert_non_null(strstr(t.r.body, "needs the admin role"));
    t_close(&t);
}

static void test_api_halt_resume_status(void **state)
{
    struct t t;
    t_open(&t, *state);
    assert_int_equal(req(&t, "POST", "/api/v1/halt", RESP, "{\"scope\":\"firm\",\"reason\":\"drill\"}"),
                     200);
    assert_string_equal(t.r.body, "{\"scope\":\"firm\",\"state\":\"HALTED\",\"since_ns\":"
                                  "1763373600000001000,\"by\":\"carol\",\"reason\":\"drill\"}\n");
    assert_int_equal(req(&t, "GET", "/api/v1/status", VIEWER, NULL), 200);
    assert_string_equal(t.r.body,
                        "{\"scopes\":[{\"scope\":\"firm\",\"state\":\"HALTED\",\"since_ns\":"
                        "1763373600000001000,\"reason\":\"drill\",\"by\":\"carol\",\"incident\":"
                        "\"\",\"approvals_needed\":\"risk_officer\",\"approvals_given\":\"\"}]}\n");
    assert_int_equal(req(&t, "POST", "/api/v1/resume", RISK,
                         "{\"scope\":\"firm\",\"role\":\"risk_officer\",\"reason\":\"ok\"}"),
                     200);
    assert_string_equal(t.r.body, "{\"scope\":\"firm\",\"approved_by\":\"rita\",\"role\":"
                                  "\"risk_officer\",\"resumed\":true,\"still_needed\":\"\","
                                  "\"blocked_by_incident\":\"\"}\n");
    /* nothing to resume now: 409 */
    assert_int_equal(req(&t, "POST", "/api/v1/resume", RISK,
                         "{\"role\":\"risk_officer\",\"reason\":\"ok\"}"), 409);
    assert_int_equal(req(&t, "GET", "/api/v1/audit/verify", VIEWER, NULL), 200);
    assert_non_null(strstr(t.r.body, "\"intact\":true"));
    t_close(&t);
}

static void test_api_bodies_are_strict(void **state)
{
    struct t t;
    t_open(&t, *state);
    assert_int_equal(req(&t, "POST", "/api/v1/halt", RESP, "{\"reason\":"), 400);
    assert_int_equal(req(&t, "POST", "/api/v1/halt", RESP, "{\"reason\":\"x\",\"colour\":\"red\"}"),
                     400);
    assert_string_equal(t.r.body, "{\"error\":\"unknown field \\\"colour\\\"\"}\n");
    assert_int_equal(req(&t, "POST", "/api/v1/halt", RESP, "{}"), 400);
    assert_string_equal(t.r.body, "{\"error\":\"missing field \\\"reason\\\"\"}\n");
    assert_int_equal(req(&t, "POST", "/api/v1/halt", RESP, "{\"reason\":1}"), 400);
    assert_int_equal(req(&t, "POST", "/api/v1/halt", RESP, "[1] "), 400);
    char *big = malloc(WD_API_BODY_MAX + 2);
    assert_non_null(big);
    memset(big, ' ', WD_API_BODY_MAX + 1);
    big[WD_API_BODY_MAX + 1] = '\0';
    assert_int_equal(req(&t, "POST", "/api/v1/halt", RESP, big), 413);
    free(big);
    assert_int_equal(req(&t, "GET", "/api/v1/nothing", VIEWER, NULL), 404);
    assert_int_equal(req(&t, "GET", "/api/v1/positions", VIEWER, NULL), 503);
    /* The Kafka lag is the running daemon's too: under its lock, not a
     * read of the store. */
    assert_int_equal(req(&t, "GET", "/api/v1/kafka/lag", VIEWER, NULL), 503);
    assert_false(wd_api_reads_store_only("GET", "/api/v1/kafka/lag"));
    assert_true(wd_api_reads_store_only("GET", "/api/v1/kafka"));
    t_close(&t);
}

struct who {
    bool carol, rita;
};

static enum wd_status chain_who(void *ctx, const struct wd_chain_entry *e)
{
    struct who *w = ctx;
    w->carol |= strcmp(e->who, "carol") == 0;
    w->rita |= strcmp(e->who, "rita") == 0;
    return WD_OK;
}

static void test_api_incident_actions_carry_the_token_name(void **state)
{
    struct t t;
    t_open(&t, *state);
    open_incident(&t);
    const char *id = "/api/v1/incidents/INC-20251117-001";
    assert_int_equal(req(&t, "GET", "/api/v1/incidents/INC-20251117-009", VIEWER, NULL), 404);
    assert_int_equal(req(&t, "POST", "/api/v1/incidents/INC-20251117-001/ack", VIEWER, NULL), 403);
    assert_int_equal(req(&t, "POST", "/api/v1/incidents/INC-20251117-001/ack", RESP, NULL), 200);
    assert_non_null(strstr(t.r.body, "\"entry\":{\"ts_ns\":1763373600000001000,\"kind\":\"status\","
                                     "\"who\":\"carol\",\"from\":\"open\",\"to\":\"acknowledged\""));
    /* A refused transition: 409 with the lifecycle's message. */
    assert_int_equal(req(&t, "POST", "/api/v1/incidents/INC-20251117-001/status", RESP,
                         "{\"status\":\"open\"}"), 409);
    assert_non_null(strstr(t.r.body, "{\"error\":\""));
    assert_int_equal(req(&t, "POST", "/api/v1/incidents/INC-20251117-001/note", RESP,
                         "{\"text\":\"looking \\u00e9\"}"), 200);
    assert_int_equal(req(&t, "POST", "/api/v1/incidents/INC-20251117-001/check", RESP,
                         "{\"index\":1,\"done\":true}"), 200);
    assert_int_equal(req(&t, "POST", "/api/v1/incidents/INC-20251117-001/approve", RESP,
                         "{\"role\":\"risk_officer\",\"reason\":\"r\"}"), 403);
    assert_int_equal(req(&t, "POST", "/api/v1/incidents/INC-20251117-001/approve", RISK,
                         "{\"role\":\"risk_officer\",\"reason\":\"r\"}"), 200);
    assert_int_equal(req(&t, "GET", "/api/v1/incidents/INC-20251117-001/timeline", VIEWER, NULL),
                     200);
    assert_non_null(strstr(t.r.body, "\"kind\":\"note\",\"who\":\"carol\",\"from\":\"\",\"to\":"
                                     "\"\",\"text\":\"looking \xc3\xa9\"}"));
    assert_int_equal(req(&t, "GET", id, VIEWER, NULL), 200);
    assert_non_null(strstr(t.r.body, "\"id\":\"INC-20251117-001\""));
    assert_int_equal(req(&t, "GET", "/api/v1/incidents?all=1", VIEWER, NULL), 200);
    assert_non_null(strstr(t.r.body, "{\"incidents\":[{\"id\":\"INC-20251117-001\""));
    /* The audit chain names the token's holder. */
    struct who w = {false, false};
    struct wd_error err = {0};
    assert_int_equal(wd_store_chain_excerpt(t.store, "INC-20251117-001", chain_who, &w, &err),
                     WD_OK);
    assert_true(w.carol);
    assert_true(w.rita);
    t_close(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_api_401_and_403_are_distinct, setup, teardown),
        cmocka_unit_test_setup_teardown(test_api_halt_resume_status, setup, teardown),
        cmocka_unit_test_setup_teardown(test_api_bodies_are_strict, setup, teardown),
        cmocka_unit_test_setup_teardown(test_api_incident_actions_carry_the_token_name, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
