/*
 * Trading states by hand: `warden halt` (the playbook's emergency_halt),
 * `warden resume` (gated on the approvals the playbook names), and
 * `warden status` (state per scope, why, since when, who can resume).
 * They act on the store, so every later `warden replay` (and, later, the
 * running daemon) sees the change.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/cmds.h"
#include "cli/jsonout.h"
#include "cli/remote.h"
#include "store/store.h"
#include "svc/states.h"
#include "warden/incident.h"
#include "warden/timeutil.h"

struct state_opts {
    const char *config, *db, *scope, *reason, *who, *role;
    const char *url; /* the running warden (cli_remote_url), or NULL: offline */
    bool json, reduce_only;
};

/* Who acts: --as, else the login name. */
static const char *actor(const struct state_opts *o)
{
    if (o->who != NULL) {
        return o->who;
    }
    const char *u = getenv("USER");
    return u != NULL && *u != '\0' ? u : "unknown";
}

static int parse(int argc, char **argv, struct state_opts *o, const char *usage_text)
{
    enum { OPT_DB = 256, OPT_AS, OPT_ROLE, OPT_REDUCE, OPT_URL };
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'}, {"db", required_argument, NULL, OPT_DB},
        {"scope", required_argument, NULL, 's'},  {"reason", required_argument, NULL, 'r'},
        {"as", required_argument, NULL, OPT_AS},   {"role", required_argument, NULL, OPT_ROLE},
        {"reduce-only", no_argument, NULL, OPT_REDUCE}, {"json", no_argument, NULL, 'j'},
        {"url", required_argument, NULL, OPT_URL}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    int c;
    memset(o, 0, sizeof *o);
    o->scope = "firm";
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:s:r:jh", longopts, NULL)) != -1) {
        switch (c) {
        case 'c': o->config = optarg; break;
        case OPT_DB: o->db = optarg; break;
        case 's': o->scope = optarg; break;
        case 'r': o->reason = optarg; break;
        case OPT_AS: o->who = optarg; break;
        case OPT_ROLE: o->role = optarg; break;
        case OPT_REDUCE: o->reduce_only = true; break;
        case OPT_URL: o->url = optarg; break;
        case 'j': o->json = true; break;
        case 'h': fputs(usage_text, stdout); return -1;
        default: fputs(usage_text, stderr); return CLI_USAGE;
        }
    }
    if (optind < argc) {
        cli_errorf("%s: unexpected argument '%s'", argv[0], argv[optind]);
        return CLI_USAGE;
    }
    enum wd_scope_kind kind;
    const char *name;
    struct wd_error err = {0};
    if (wd_scope_parse(o->scope, &kind, &name, &err) != WD_OK) {
        cli_errorf("--scope: %s", err.msg);
        return CLI_USAGE;
    }
    /* Through the API the store is the daemon's, the actor the token's name. */
    if ((o->url = cli_remote_url(o->url)) != NULL) {
        int rc = cli_remote_offline_only(argv[0], "--db", o->db);
        if (rc == CLI_OK && o->who != NULL) {
            cli_errorf("%s: --as is ignored with --url: the API records the token's name",
                       argv[0]);
        }
        return rc;
    }
    return CLI_OK;
}

/* Opens config and store for a state command. */
static int open_store(const struct state_opts *o, struct wd_config *cfg, struct wd_store **st)
{
    int rc = cli_config_load(cfg, o->config);
    if (rc == CLI_OK) {
        rc = cli_open_store(cfg, o->db, st);
    }
    return rc;
}

/* ---- halt ---------------------------------------------------------------------------- */

static const char halt_usage[] =
    "Usage: warden halt [--scope SCOPE] --reason TEXT [--as NAME] [--reduce-only]\n"
    "                   [--config FILE] [--db PATH]\n"
    "\n"
    "Halts trading in a scope (the playbook's emergency_halt): every intent of the\n"
    "scope is rejected with reason `halted` by every warden that shares the store,\n"
    "until `warden resume` with the approvals the playbook requires. With\n"
    "--reduce-only the scope goes REDUCE_ONLY instead: only intents that shrink a\n"
    "position pass.\n"
    "\n"
    "  -s, --scope SCOPE   firm (default), account:NAME or strategy:SOURCE\n"
    "  -r, --reason TEXT   why (required; recorded with who and when)\n"
    "      --as NAME       who halts (default: $USER)\n"
    "      --reduce-only   REDUCE_ONLY instead of HALTED\n"
    "      --db PATH       the store (default: store.path, ./var/warden.db)\n"
    "      --url URL       act on a running warden through its API (or WARDEN_URL;\n"
    "                      WARDEN_TOKEN the bearer token, whose name goes on the record)\n";

int cmd_halt(int argc, char **argv)
{
    struct state_opts o;
    struct wd_config cfg;
    struct wd_store *store = NULL;
    int rc = parse(argc, argv, &o, halt_usage);
    if (rc != CLI_OK) {
        return rc < 0 ? CLI_OK : rc;
    }
    if (o.reason == NULL || *o.reason == '\0') {
        cli_errorf("halt: --reason is required (it goes on the record)");
        return CLI_USAGE;
    }
    if (o.url != NULL) {
        return cli_remote_halt(o.url, o.scope, o.reason, o.reduce_only, o.json);
    }
    if ((rc = open_store(&o, &cfg, &store)) != CLI_OK) {
        goto out;
    }
    struct wd_svc_result res;
    if (wd_svc_halt(store, o.scope, o.reduce_only, o.reason, actor(&o), cli_wall_ns(), NULL,
                    &res) != WD_SVC_OK) {
        cli_errorf("%s", res.msg);
        rc = CLI_FAIL;
        goto out;
    }
    printf("%s\n", res.msg);
out:
    wd_store_close(store);
    wd_config_destroy(&cfg);
    return rc;
}

/* ---- resume -------------------------------------------------------------------------- */

static const char resume_usage[] =
    "Usage: warden resume [--scope SCOPE] --as NAME --role ROLE --reason TEXT\n"
    "                     [--config FILE] [--db PATH]\n"
    "\n"
    "Records an approval to resume a halted scope; when the approvals the playbook\n"
    "requires are all recorded, the scope goes RAMP_UP (orders capped at\n"
    "ramp.fraction of the limits for ramp.duration_s of event time, starting at the\n"
    "next event), then ACTIVE. Required: the Risk Officer; the Risk Officer and\n"
    "the CTO after a drawdown kill (playbook P0-2). Each approval is recorded with\n"
    "who, role, when and why.\n"
    "\n"
    "  -s, --scope SCOPE   firm (default), account:NAME or strategy:SOURCE\n"
    "      --as NAME       who approves (required)\n"
    "      --role ROLE     risk_officer or cto (required)\n"
    "  -r, --reason TEXT   why it is safe to resume (required)\n"
    "      --url URL       through a running warden's API (or WARDEN_URL, with\n"
    "                      WARDEN_TOKEN; the token's name approves: --as not needed)\n";

int cmd_resume(int argc, char **argv)
{
    struct state_opts o;
    struct wd_config cfg;
    struct wd_store *store = NULL;
    struct wd_svc_result res;
    struct wd_svc_resume r;
    enum wd_role role;
    int rc = parse(argc, argv, &o, resume_usage);
    if (rc != CLI_OK) {
        return rc < 0 ? CLI_OK : rc;
    }
    if (o.url != NULL) {
        if (o.role == NULL || o.reason == NULL || *o.reason == '\0') {
            cli_errorf("resume: --role and --reason are required (they go on the record)");
            return CLI_USAGE;
        }
        return cli_remote_resume(o.url, o.scope, o.role, o.reason, o.json);
    }
    if (o.who == NULL || o.role == NULL || o.reason == NULL || *o.reason == '\0') {
        cli_errorf("resume: --as, --role and --reason are required (they go on the record)");
        return CLI_USAGE;
    }
    if (wd_role_parse(o.role, &role) != WD_OK) {
        cli_errorf("resume: --role '%s': expected risk_officer or cto", o.role);
        return CLI_USAGE;
    }
    if ((rc = open_store(&o, &cfg, &store)) != CLI_OK) {
        goto out;
    }
    switch (wd_svc_resume(store, o.scope, o.role, o.reason, o.who, cli_wall_ns(), &r, &res)) {
    case WD_SVC_OK: break;
    case WD_SVC_STORE: cli_errorf("%s", res.msg); rc = CLI_FAIL; goto out;
    default: cli_errorf("resume: %s", res.msg); rc = CLI_USAGE; goto out;
    }
    printf("%s\n", res.msg);
    if (r.criteria_blocked) {
        printf("%s: still HALTED; incident %s's recovery criteria are not all ticked "
               "(next: %u. %s; 'warden incident check %s N')\n",
               o.scope, r.incident, r.first_unticked >= 0 ? (unsigned)r.first_unticked + 1u : 0u,
               r.first_text, r.incident);
    } else if (r.resumed) {
        printf("%s: RAMP_UP (orders at %g of normal limits for %llds), then ACTIVE\n", o.scope,
               cfg.ramp.fraction, (long long)cfg.ramp.duration_s);
    } else {
        char need[64];
        wd_svc_roles_text(r.still_needed, need, sizeof need);
        printf("%s: still HALTED; still needed: %s\n", o.scope, need);
    }
out:
    wd_store_close(store);
    wd_config_destroy(&cfg);
    return rc;
}

/* ---- status -------------------------------------------------------------------------- */

void cli_status_header(void)
{
    printf("%-24s %-11s %-24s %-10s %-14s %s\n", "SCOPE", "STATE", "SINCE (UTC)", "BY",
           "SCENARIO", "REASON / RESUME");
}

void cli_status_row(const struct wd_scope_state *s, const char *need, const char *have)
{
    char since[40];
    wd_time_format_utc(s->since_ns, since, sizeof since);
    printf("%-24s %-11s %-24s %-10s %-14s %s\n", s->scope, wd_tstate_name(s->state), since,
           s->by, s->scenario[0] ? s->scenario : "-", s->reason);
    if (need[0] != '\0') {
        printf("%-24s %-11s resume needs: %s%s%s\n", "", "", need, have[0] ? "; given: " : "",
               have);
    }
}

static const char status_usage[] =
    "Usage: warden status [--json] [--config FILE] [--db PATH]\n"
    "\n"
    "The trading state of every scope that has one: state, since when, why, set\n"
    "by whom, the incident, and who can resume it (approvals required and given).\n"
    "Scopes never halted are ACTIVE and not listed.\n"
    "\n"
    "      --url URL       ask a running warden through its API (or WARDEN_URL,\n"
    "                      with WARDEN_TOKEN); --json then prints the API's document\n";

int cmd_status(int argc, char **argv)
{
    struct state_opts o;
    struct wd_config cfg;
    struct wd_store *store = NULL;
    struct wd_error err = {0};
    struct wd_scope_state *states = NULL;
    size_t n = 0;
    int rc = parse(argc, argv, &o, status_usage);
    if (rc != CLI_OK) {
        return rc < 0 ? CLI_OK : rc;
    }
    if (o.url != NULL) {
        return cli_remote_status(o.url, o.json);
    }
    if ((rc = open_store(&o, &cfg, &store)) != CLI_OK) {
        goto out;
    }
    if (wd_store_load_states(store, &states, &n, &err) != WD_OK) {
        cli_errorf("store: %s", err.msg);
        rc = CLI_FAIL;
        goto out;
    }
    struct jw w;
    jw_init(&w, stdout);
    if (o.json) {
        jw_obj_begin(&w);
        jw_key(&w, "scopes");
        jw_arr_begin(&w);
    } else {
        cli_status_header();
    }
    for (size_t i = 0; i < n; i++) {
        const struct wd_scope_state *s = &states[i];
        char since[40], need[64] = "", have[160] = "";
        struct wd_svc_result res;
        wd_time_format_utc(s->since_ns, since, sizeof since);
        if (wd_svc_scope_approvals(store, s, need, sizeof need, have, sizeof have, &res) !=
            WD_SVC_OK) {
            cli_errorf("%s", res.msg);
            rc = CLI_FAIL;
        }
        if (o.json) {
            jw_obj_begin(&w);
            jw_key(&w, "scope");
            jw_str(&w, s->scope);
            jw_key(&w, "state");
            jw_str(&w, wd_tstate_name(s->state));
            jw_key(&w, "since");
            jw_str(&w, since);
            jw_key(&w, "reason");
            jw_str(&w, s->reason);
            jw_key(&w, "by");
            jw_str(&w, s->by);
            jw_key(&w, "scenario");
            jw_str(&w, s->scenario);
            jw_key(&w, "incident");
            jw_str(&w, s->incident);
            jw_key(&w, "approvals_needed");
            jw_str(&w, need);
            jw_key(&w, "approvals_given");
            jw_str(&w, have);
            jw_obj_end(&w);
        } else {
            cli_status_row(s, need, have);
        }
    }
    if (o.json) {
        jw_arr_end(&w);
        jw_obj_end(&w);
        jw_finish(&w);
    } else if (n == 0) {
        printf("(every scope ACTIVE)\n");
    }
out:
    free(states);
    wd_store_close(store);
    wd_config_destroy(&cfg);
    return rc;
}
