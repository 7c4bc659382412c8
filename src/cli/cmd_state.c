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
#include "store/store.h"
#include "warden/incident.h"
#include "warden/timeutil.h"

struct state_opts {
    const char *config, *db, *scope, *reason, *who, *role;
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

static void copy(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src);
}

static int parse(int argc, char **argv, struct state_opts *o, const char *usage_text)
{
    enum { OPT_DB = 256, OPT_AS, OPT_ROLE, OPT_REDUCE };
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'}, {"db", required_argument, NULL, OPT_DB},
        {"scope", required_argument, NULL, 's'},  {"reason", required_argument, NULL, 'r'},
        {"as", required_argument, NULL, OPT_AS},   {"role", required_argument, NULL, OPT_ROLE},
        {"reduce-only", no_argument, NULL, OPT_REDUCE}, {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0}};
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

static void roles_text(unsigned mask, char *buf, size_t cap)
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
    "      --db PATH       the store (default: store.path, ./var/warden.db)\n";

int cmd_halt(int argc, char **argv)
{
    struct state_opts o;
    struct wd_config cfg;
    struct wd_store *store = NULL;
    struct wd_error err = {0};
    int rc = parse(argc, argv, &o, halt_usage);
    if (rc != CLI_OK) {
        return rc < 0 ? CLI_OK : rc;
    }
    if (o.reason == NULL || *o.reason == '\0') {
        cli_errorf("halt: --reason is required (it goes on the record)");
        return CLI_USAGE;
    }
    if ((rc = open_store(&o, &cfg, &store)) != CLI_OK) {
        goto out;
    }
    struct wd_scope_state st;
    memset(&st, 0, sizeof st);
    copy(st.scope, sizeof st.scope, o.scope);
    st.state = o.reduce_only ? WD_TS_REDUCE_ONLY : WD_TS_HALTED;
    st.since_ns = cli_wall_ns();
    copy(st.reason, sizeof st.reason, o.reason);
    copy(st.by, sizeof st.by, actor(&o));
    copy(st.scenario, sizeof st.scenario, "manual");
    if (wd_store_put_state(store, &st, &err) != WD_OK) {
        cli_errorf("store: %s", err.msg);
        rc = CLI_FAIL;
        goto out;
    }
    printf("%s: %s by %s: %s\n", st.scope, wd_tstate_name(st.state), st.by, st.reason);
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
    "  -r, --reason TEXT   why it is safe to resume (required)\n";

int cmd_resume(int argc, char **argv)
{
    struct state_opts o;
    struct wd_config cfg;
    struct wd_store *store = NULL;
    struct wd_error err = {0};
    struct wd_approval *list = NULL;
    size_t n = 0;
    enum wd_role role;
    int rc = parse(argc, argv, &o, resume_usage);
    if (rc != CLI_OK) {
        return rc < 0 ? CLI_OK : rc;
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
    struct wd_scope_state st;
    bool found = false;
    if (wd_store_get_state(store, o.scope, &st, &found, &err) != WD_OK) {
        cli_errorf("store: %s", err.msg);
        rc = CLI_FAIL;
        goto out;
    }
    if (!found || (st.state != WD_TS_HALTED && st.state != WD_TS_REDUCE_ONLY)) {
        cli_errorf("resume: %s is %s: nothing to resume", o.scope,
                   found ? wd_tstate_name(st.state) : "ACTIVE");
        rc = CLI_USAGE;
        goto out;
    }
    unsigned required = wd_resume_required_roles(st.scenario);
    if (!(required & role)) {
        char need[64];
        roles_text(required, need, sizeof need);
        cli_errorf("resume: a %s approval is not what resuming %s needs (%s)", o.role, o.scope,
                   need);
        rc = CLI_USAGE;
        goto out;
    }
    struct wd_approval a;
    memset(&a, 0, sizeof a);
    copy(a.scope, sizeof a.scope, o.scope);
    copy(a.who, sizeof a.who, o.who);
    a.role = role;
    copy(a.reason, sizeof a.reason, o.reason);
    copy(a.incident, sizeof a.incident, st.incident);
    a.ts_ns = cli_wall_ns();
    if (wd_store_begin(store, &err) != WD_OK || wd_store_add_approval(store, &a, &err) != WD_OK ||
        wd_store_list_approvals(store, o.scope, st.since_ns, &list, &n, &err) != WD_OK) {
        wd_store_rollback(store);
        cli_errorf("store: %s", err.msg);
        rc = CLI_FAIL;
        goto out;
    }
    unsigned have = 0;
    for (size_t i = 0; i < n; i++) {
        have |= list[i].role;
    }
    printf("%s: approval by %s (%s) recorded\n", o.scope, a.who, wd_role_name(role));
    /* The incident that halted the scope holds trading until its recovery
     * criteria are ticked (P0/P1): issue 5, the playbook's Recover step. */
    struct wd_incident inc;
    bool have_inc = false;
    enum wd_resume_basis basis = WD_RESUME_NOT_GATED;
    if (st.incident[0] != '\0' &&
        wd_store_incident_load(store, st.incident, &inc, &have_inc, &err) != WD_OK) {
        wd_store_rollback(store);
        cli_errorf("store: %s", err.msg);
        rc = CLI_FAIL;
        goto out;
    }
    bool criteria_ok = !have_inc || wd_incident_may_resume(&inc, &basis);
    if ((have & required) == required && !criteria_ok) {
        int first = wd_incident_first_unticked(&inc);
        printf("%s: still HALTED; incident %s's recovery criteria are not all ticked "
               "(next: %u. %s; 'warden incident check %s N')\n",
               o.scope, inc.id, first >= 0 ? (unsigned)first + 1u : 0u,
               first >= 0 ? inc.criteria[first].text : "", inc.id);
    } else if ((have & required) == required) {
        struct wd_scope_state ns = st;
        ns.state = WD_TS_RAMP_UP;
        ns.since_ns = a.ts_ns;
        snprintf(ns.reason, sizeof ns.reason, "resumed with approval");
        copy(ns.by, sizeof ns.by, o.who);
        ns.ramp_until_ns = 0;
        if (wd_store_put_state(store, &ns, &err) != WD_OK) {
            wd_store_rollback(store);
            cli_errorf("store: %s", err.msg);
            rc = CLI_FAIL;
            goto out;
        }
        printf("%s: RAMP_UP (orders at %g of normal limits for %llds), then ACTIVE\n", o.scope,
               cfg.ramp.fraction, (long long)cfg.ramp.duration_s);
    } else {
        char need[64];
        roles_text(required & ~have, need, sizeof need);
        printf("%s: still HALTED; still needed: %s\n", o.scope, need);
    }
    if (wd_store_commit(store, &err) != WD_OK) {
        cli_errorf("store: %s", err.msg);
        rc = CLI_FAIL;
    }
out:
    free(list);
    wd_store_close(store);
    wd_config_destroy(&cfg);
    return rc;
}

/* ---- status -------------------------------------------------------------------------- */

static const char status_usage[] =
    "Usage: warden status [--json] [--config FILE] [--db PATH]\n"
    "\n"
    "The trading state of every scope that has one: state, since when, why, set\n"
    "by whom, the incident, and who can resume it (approvals required and given).\n"
    "Scopes never halted are ACTIVE and not listed.\n";

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
        printf("%-24s %-11s %-24s %-10s %-14s %s\n", "SCOPE", "STATE", "SINCE (UTC)", "BY",
               "SCENARIO", "REASON / RESUME");
    }
    for (size_t i = 0; i < n; i++) {
        const struct wd_scope_state *s = &states[i];
        char since[40], need[64] = "", have[160] = "";
        struct wd_approval *list = NULL;
        size_t na = 0;
        unsigned got = 0;
        wd_time_format_utc(s->since_ns, since, sizeof since);
        if (s->state == WD_TS_HALTED || s->state == WD_TS_REDUCE_ONLY) {
            unsigned req = wd_resume_required_roles(s->scenario);
            if (wd_store_list_approvals(store, s->scope, s->since_ns, &list, &na, &err) != WD_OK) {
                cli_errorf("store: %s", err.msg);
                rc = CLI_FAIL;
            }
            for (size_t k = 0; k < na; k++) {
                size_t len = strlen(have);
                got |= list[k].role;
                snprintf(have + len, sizeof have - len, "%s%s (%s)", len ? ", " : "",
                         list[k].who, wd_role_name(list[k].role));
            }
            roles_text(req & ~got, need, sizeof need);
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
            printf("%-24s %-11s %-24s %-10s %-14s %s\n", s->scope, wd_tstate_name(s->state), since,
                   s->by, s->scenario[0] ? s->scenario : "-", s->reason);
            if (need[0] != '\0') {
                printf("%-24s %-11s resume needs: %s%s%s\n", "", "", need,
                       have[0] ? "; given: " : "", have);
            }
        }
        free(list);
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
