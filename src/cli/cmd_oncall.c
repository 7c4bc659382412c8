/*
 * `warden oncall [--at T]`, `warden oncall test-page` and `warden silence
 * add|list|remove` (issue 8, points 6 and 7): who is on call now and next
 * with the playbook's handoff checklist, a test page down the chain, and
 * silences. The decisions are the core's (warden/oncall.h), the records
 * the service layer's (svc/oncall.h); this file parses, prints tables or
 * --json, and sets the exit status.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus/tzload.h"
#include "cli/cli.h"
#include "cli/notify_cli.h"
#include "cli/cmds.h"
#include "cli/jsonout.h"
#include "cli/remote.h"
#include "store/store.h"
#include "svc/api.h"
#include "svc/oncall.h"
#include "warden/oncall.h"
#include "warden/timeutil.h"

static const char oncall_usage[] =
    "Usage: warden oncall [--at TIME] [--json] [--config FILE] [--db PATH]\n"
    "       warden oncall test-page [--as NAME] [--config FILE] [--db PATH]\n"
    "       warden oncall escalate [--at TIME] [--config FILE] [--db PATH]\n"
    "\n"
    "Who is primary and secondary on call now and after the next handoff (the\n"
    "weekly rotation of oncall.engineers, with its overrides), when the next\n"
    "handoff is (oncall.handoff, local time in oncall.tz), and the playbook's\n"
    "handoff checklist from the store: open incidents, system health (trading\n"
    "states, audit chain), access (an API token for each person on call) and\n"
    "when the alerting chain was last tested.\n"
    "\n"
    "test-page pages every level of the escalation chain (escalation.levels)\n"
    "with a test message, each to whoever of it is within hours now, and\n"
    "records the test (who, when, whom) in the store.\n"
    "\n"
    "escalate runs once what warden run does every second: each open incident\n"
    "reaches the level of the chain its age and acknowledgement call for, each\n"
    "level recorded on its timeline and paged once (with --at: as at TIME).\n"
    "\n"
    "  --at TIME    the instant to show (RFC 3339, or YYYY-MM-DD); default now\n"
    "  --as NAME    who runs the test (or WARDEN_AS, else $USER)\n"
    "  --json       one JSON object (with the chain's levels and whom each reaches)\n"
    "  --url URL    ask a running warden (or WARDEN_URL; WARDEN_TOKEN the bearer\n"
    "               token): GET /api/v1/oncall; test-page and escalate are offline only\n"
    "Exit status: 0 done, 1 a store failure or an API error, 2 usage. docs/ONCALL.md.\n";

static const char silence_usage[] =
    "Usage: warden silence add --scenario S [--scope SCOPE] --until TIME --reason R\n"
    "                          [--as NAME] [--role ROLE]\n"
    "       warden silence list [--all] [--json]\n"
    "       warden silence remove ID [--as NAME] [--role ROLE]\n"
    "       (each also takes --config FILE --db PATH)\n"
    "\n"
    "A silence holds back the notifications (pages, escalation pages) of the\n"
    "incidents of scenario S, in SCOPE or every scope, until TIME, during\n"
    "planned work. It never stops a halt and never the record: incidents still\n"
    "open, escalate and go on their timelines, and the silence is noted on the\n"
    "timeline of each active incident it matches. It expires by itself.\n"
    "Silencing a P0 scenario (kill_pnl, kill_drawdown, kill_psr,\n"
    "unauthorized_trading) needs the risk_officer role: --role risk_officer\n"
    "(recorded with --as, as for warden resume), or a risk_officer token\n"
    "through the API (POST /api/v1/silences).\n"
    "\n"
    "  --scenario S  a scenario name (docs/SCENARIOS.md)\n"
    "  --scope SCOPE firm, account:NAME or strategy:NAME; default every scope\n"
    "  --until TIME  RFC 3339, a date (end of that local day), or +30m, +2h, +1d\n"
    "  --reason R    why (required; on the record)\n"
    "  --as NAME     who (or WARDEN_AS, else $USER)\n"
    "  --role ROLE   the role you act in: responder, risk_officer or admin\n"
    "  --all         list removed and expired silences too\n"
    "  --json        one JSON object\n"
    "  --url URL     through a running warden's API (or WARDEN_URL; WARDEN_TOKEN the\n"
    "                bearer token): the token's name acts and its role decides\n"
    "                (--as and --role are ignored); --until is read by the daemon\n"
    "Exit status: 0 done, 1 refused (role, no such silence), a store failure or an\n"
    "API error, 2 usage.\n";

struct oc_cmd {
    const char *config, *db, *at, *as, *role, *scenario, *scope, *until, *reason;
    const char *url; /* --url: the running warden (cli_remote_url) */
    bool json, all, as_given;
    char **args;
    int nargs;
    struct wd_config cfg;
    struct wd_tz *tz;
    struct wd_store *store;
    int64_t now;
    struct cli_notify notify; /* test-page, escalate: pages go out through it */
};

static int parse(struct oc_cmd *c, int argc, char **argv, const char *usage)
{
    enum { O_DB = 256, O_AT, O_AS, O_ROLE, O_SCENARIO, O_SCOPE, O_UNTIL, O_REASON, O_ALL, O_URL };
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'}, {"db", required_argument, NULL, O_DB},
        {"at", required_argument, NULL, O_AT},     {"as", required_argument, NULL, O_AS},
        {"role", required_argument, NULL, O_ROLE},
        {"scenario", required_argument, NULL, O_SCENARIO},
        {"scope", required_argument, NULL, O_SCOPE},
        {"until", required_argument, NULL, O_UNTIL},
        {"reason", required_argument, NULL, O_REASON},
        {"all", no_argument, NULL, O_ALL},         {"json", no_argument, NULL, 'j'},
        {"url", required_argument, NULL, O_URL},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0}};
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "c:jh", longopts, NULL)) != -1) {
        switch (ch) {
        case 'c': c->config = optarg; break;
        case O_DB: c->db = optarg; break;
        case O_AT: c->at = optarg; break;
        case O_AS: c->as = optarg; break;
        case O_ROLE: c->role = optarg; break;
        case O_SCENARIO: c->scenario = optarg; break;
        case O_SCOPE: c->scope = optarg; break;
        case O_UNTIL: c->until = optarg; break;
        case O_REASON: c->reason = optarg; break;
        case O_ALL: c->all = true; break;
        case O_URL: c->url = optarg; break;
        case 'j': c->json = true; break;
        case 'h': fputs(usage, stdout); return -1;
        default: fputs(usage, stderr); return CLI_USAGE;
        }
    }
    c->args = argv + optind;
    c->nargs = argc - optind;
    c->as_given = c->as != NULL;
    if (c->as == NULL) {
        c->as = getenv("WARDEN_AS");
    }
    if (c->as == NULL || c->as[0] == '\0') {
        c->as = getenv("USER");
    }
    if (c->as == NULL || c->as[0] == '\0') {
        c->as = "unknown";
    }
    return CLI_OK;
}

int cli_oncall_tz(const struct wd_config *cfg, struct wd_tz **tz)
{
    struct wd_error err = {0};
    if (cfg->oncall.tz[0] == '\0') {
        return cli_tz_load(cfg, tz);
    }
    if (wd_tz_load(cfg->oncall.tz, tz, &err) != WD_OK) {
        cli_errorf("oncall.tz: %s", err.msg);
        return CLI_FAIL;
    }
    return CLI_OK;
}

static int setup(struct oc_cmd *c)
{
    int rc;
    if ((rc = cli_config_load(&c->cfg, c->config)) != CLI_OK ||
        (rc = cli_oncall_tz(&c->cfg, &c->tz)) != CLI_OK ||
        (rc = cli_open_store(&c->cfg, c->db, &c->store)) != CLI_OK) {
        return rc;
    }
    c->now = cli_wall_ns();
    if (c->at != NULL && (rc = cli_parse_time("--at", c->at, c->tz, false, &c->now)) != CLI_OK) {
        return rc;
    }
    return CLI_OK;
}

static void teardown(struct oc_cmd *c)
{
    wd_store_close(c->store);
    wd_tz_free(c->tz);
    wd_config_destroy(&c->cfg);
}

static void fmt_time(int64_t ns, char *buf, size_t cap)
{
    if (ns == 0) {
        snprintf(buf, cap, "never");
    } else {
        (void)wd_time_format_utc(ns, buf, cap);
    }
}

/* ---- warden oncall --------------------------------------------------------- */

static void print_shift(const char *what, const struct wd_oncall_shift *s)
{
    char a[32], b[32];
    fmt_time(s->start_ns, a, sizeof a);
    fmt_time(s->end_ns, b, sizeof b);
    printf("%-5s week %lld  %s .. %s\n", what, (long long)s->week, a, b);
    printf("      primary   %s", s->primary ? s->primary : "(nobody: no oncall.engineers)");
    if (s->primary_override != NULL) {
        printf("  (for %s: %s)", s->sched_primary, s->primary_override->reason[0]
                                                        ? s->primary_override->reason
                                                        : "override");
    }
    printf("\n      secondary %s", s->secondary ? s->secondary : "(nobody)");
    if (s->secondary_override != NULL) {
        printf("  (for %s: %s)", s->sched_secondary, s->secondary_override->reason[0]
                                                          ? s->secondary_override->reason
                                                          : "override");
    }
    printf("\n");
}

/* The escalation chain at st->at_ns: each level and whom it reaches now. */
static void print_chain(const struct wd_oncall_config *oc, const struct wd_tz *tz,
                        const struct wd_svc_oncall_status *st)
{
    printf("\nescalation chain:\n");
    for (uint32_t l = 0; l < oc->n_levels; l++) {
        const struct wd_contact *to[2 * WD_ONCALL_CONTACTS_MAX + WD_ESC_CONTACTS_MAX];
        size_t n = wd_svc_level_contacts(oc, l, &st->now, to, sizeof to / sizeof to[0]);
        printf("  L%u %s%s:", l + 1, oc->levels[l].name,
               oc->levels[l].rotation ? " (the rotation)" : "");
        for (size_t i = 0; i < n; i++) {
            printf("%s %s %s%s", i == 0 ? "" : ",", to[i]->name, to[i]->channel,
                   wd_hours_contain(&to[i]->hours, tz, st->at_ns) ? "" : " (off hours)");
        }
        printf("%s\n", n == 0 ? " (no contacts)" : "");
    }
}

static int do_status(struct oc_cmd *c)
{
    struct wd_svc_oncall_status st;
    struct wd_svc_result res;
    char a[32], b[32];
    if (wd_svc_oncall_status(c->store, &c->cfg, c->tz, c->now, &st, &res) != WD_SVC_OK) {
        cli_errorf("%s", res.msg);
        return CLI_FAIL;
    }
    if (c->json) {
        struct jw w;
        jw_init(&w, stdout);
        wd_api_json_oncall(&w, &c->cfg, c->tz, &st);
        jw_finish(&w);
        wd_svc_oncall_status_destroy(&st);
        return CLI_OK;
    }
    const char *on_call[2] = {st.now.primary, st.now.secondary};
    fmt_time(c->now, a, sizeof a);
    printf("on call at %s (%s)\n", a, st.tz);
    print_shift("now", &st.now);
    print_shift("next", &st.next);
    fmt_time(st.now.end_ns, b, sizeof b);
    printf("next handoff: %s\n\nhandoff checklist:\n", b);
    printf("  [%c] review open incidents: %zu open\n", st.n_open == 0 ? 'x' : ' ', st.n_open);
    for (size_t i = 0; i < st.n_open; i++) {
        printf("        %s %s %s: %s\n", st.open[i].id, wd_severity_name(st.open[i].severity),
               wd_inc_status_name(st.open[i].status), st.open[i].title);
    }
    size_t not_active = 0;
    for (size_t i = 0; i < st.n_states; i++) {
        not_active += st.states[i].state != WD_TS_ACTIVE;
    }
    printf("  [%c] check system health: %zu scope%s not ACTIVE, audit chain %s\n",
           not_active == 0 && st.audit_intact ? 'x' : ' ', not_active,
           not_active == 1 ? "" : "s",
           st.audit_intact ? "intact" : "BROKEN (warden audit verify)");
    for (size_t i = 0; i < st.n_states; i++) {
        if (st.states[i].state != WD_TS_ACTIVE) {
            printf("        %s %s: %s\n", st.states[i].scope, wd_tstate_name(st.states[i].state),
                   st.states[i].reason);
        }
    }
    bool access = true;
    for (int i = 0; i < 2; i++) {
        access = access && (on_call[i] == NULL || wd_svc_token_of(&c->cfg, on_call[i]) != NULL);
    }
    printf("  [%c] verify access:", access ? 'x' : ' ');
    for (int i = 0; i < 2; i++) {
        if (on_call[i] != NULL) {
            const struct wd_config_token *t = wd_svc_token_of(&c->cfg, on_call[i]);
            printf(" %s %s%s", on_call[i], t ? "has an API token as " : "has no API token",
                   t ? t->role : "");
            printf(i == 0 && on_call[1] != NULL ? ";" : "");
        }
    }
    fmt_time(st.tested ? st.last_test.ts_ns : 0, a, sizeof a);
    printf("\n  [%c] test alerting chain: last tested %s%s%s%s\n", st.tested_this_week ? 'x' : ' ',
           a, st.tested ? " by " : "", st.tested ? st.last_test.by : "",
           st.tested_this_week ? "" : " (not since this week's handoff: warden oncall test-page)");
    print_chain(&c->cfg.oncall, c->tz, &st);
    wd_svc_oncall_status_destroy(&st);
    return CLI_OK;
}

static int do_escalate(struct oc_cmd *c)
{
    struct wd_svc_result res;
    uint32_t paged = 0;
    if (wd_svc_escalate_all(c->store, &c->cfg.oncall, c->tz, c->now, &paged, &res) !=
        WD_SVC_OK) {
        cli_errorf("%s", res.msg);
        return CLI_FAIL;
    }
    printf("%u level%s newly reached and paged\n", paged, paged == 1 ? "" : "s");
    return CLI_OK;
}

static int do_test_page(struct oc_cmd *c)
{
    char summary[WD_TIMELINE_TEXT_MAX];
    struct wd_svc_result res;
    if (wd_svc_test_page(c->store, &c->cfg.oncall, c->tz, c->as, c->now, summary,
                         sizeof summary, &res) != WD_SVC_OK) {
        cli_errorf("%s", res.msg);
        return CLI_FAIL;
    }
    printf("test page sent down the chain: %s\n%s\n", summary, res.msg);
    return CLI_OK;
}

/* With --url or WARDEN_URL: the options that only make sense offline are
 * usage errors (--as and --role are ignored: the token names who acts and
 * its role); the URL, or NULL to work offline. *rc CLI_USAGE on a refusal. */
static const char *remote(const struct oc_cmd *c, const char *cmd, int *rc)
{
    const char *url = cli_remote_url(c->url);
    *rc = CLI_OK;
    if (url == NULL) {
        return NULL;
    }
    if ((*rc = cli_remote_offline_only(cmd, "--db", c->db)) != CLI_OK ||
        (*rc = cli_remote_offline_only(cmd, "--at", c->at)) != CLI_OK) {
        return url;
    }
    if (c->as_given || c->role != NULL) {
        cli_errorf("%s: --as and --role are ignored with --url: the API records the token's "
                   "name and takes its role",
                   cmd);
    }
    return url;
}

int cmd_oncall(int argc, char **argv)
{
    struct oc_cmd c;
    memset(&c, 0, sizeof c);
    int rc = parse(&c, argc, argv, oncall_usage);
    if (rc != CLI_OK) {
        return rc < 0 ? CLI_OK : rc;
    }
    bool test = c.nargs == 1 && strcmp(c.args[0], "test-page") == 0;
    bool esc = c.nargs == 1 && strcmp(c.args[0], "escalate") == 0;
    if (c.nargs > 0 && !test && !esc) {
        cli_errorf("oncall: unknown argument '%s' (see 'warden oncall --help')", c.args[0]);
        return CLI_USAGE;
    }
    const char *url = remote(&c, "oncall", &rc);
    if (url != NULL) {
        if (rc == CLI_OK && (test || esc)) {
            cli_errorf("oncall %s: not available through the API; run it offline (without "
                       "--url and WARDEN_URL) on the store",
                       c.args[0]);
            rc = CLI_USAGE;
        }
        return rc != CLI_OK ? rc : cli_remote_oncall(url, c.json);
    }
    if ((rc = setup(&c)) == CLI_OK) {
        if (test || esc) {
            cli_notify_attach(&c.notify, c.store, &c.cfg, c.tz);
        }
        rc = test ? do_test_page(&c) : esc ? do_escalate(&c) : do_status(&c);
        if (rc == CLI_OK && (test || esc)) {
            cli_notify_flush(&c.notify, c.store, &c.cfg); /* once; says what failed */
        }
        cli_notify_stop(&c.notify, c.store);
    }
    teardown(&c);
    return rc;
}

/* ---- the daemon's tick ------------------------------------------------------ */

const struct wd_tz *cli_oncall_ticker_tz(struct cli_oncall_ticker *t, const struct wd_config *cfg,
                                         const struct wd_tz *session_tz, char *msg, size_t cap)
{
    struct wd_error err = {0};
    if (cfg->oncall.tz[0] == '\0') {
        return session_tz;
    }
    /* The zone is loaded once, and again only when a reload names another. */
    if (t->tz == NULL || strcmp(t->name, cfg->oncall.tz) != 0) {
        wd_tz_free(t->tz);
        t->tz = NULL;
        if (wd_tz_load(cfg->oncall.tz, &t->tz, &err) != WD_OK) {
            snprintf(msg, cap, "oncall.tz: %s", err.msg);
            return NULL;
        }
        snprintf(t->name, sizeof t->name, "%s", cfg->oncall.tz);
    }
    return t->tz;
}

int cli_oncall_tick(struct cli_oncall_ticker *t, struct wd_store *store,
                    const struct wd_config *cfg, const struct wd_tz *session_tz, int64_t now_ns,
                    uint32_t *paged, char *msg, size_t cap)
{
    struct wd_svc_result res;
    const struct wd_tz *tz = cli_oncall_ticker_tz(t, cfg, session_tz, msg, cap);
    *paged = 0;
    if (tz == NULL) {
        return CLI_FAIL;
    }
    if (wd_svc_escalate_all(store, &cfg->oncall, tz, now_ns, paged, &res) != WD_SVC_OK) {
        snprintf(msg, cap, "%s", res.msg);
        return CLI_FAIL;
    }
    return CLI_OK;
}

void cli_oncall_ticker_destroy(struct cli_oncall_ticker *t)
{
    wd_tz_free(t->tz);
    t->tz = NULL;
}

/* ---- warden silence -------------------------------------------------------- */

/* --until: a time, a date (the end of that local day), or +N[mhd]. */
static int parse_until(const struct oc_cmd *c, int64_t *until)
{
    struct wd_svc_result res;
    if (wd_svc_silence_until(c->until, c->tz, c->now, until, &res) != WD_SVC_OK) {
        cli_errorf("--until %s", res.msg);
        return CLI_USAGE;
    }
    return CLI_OK;
}

static int silence_code(enum wd_svc_code code, const struct wd_svc_result *res)
{
    if (code == WD_SVC_OK) {
        return CLI_OK;
    }
    cli_errorf("silence: %s", res->msg);
    return code == WD_SVC_INVALID ? CLI_USAGE : CLI_FAIL;
}

static int silence_add(struct oc_cmd *c)
{
    struct wd_svc_result res;
    struct wd_silence sl;
    int64_t until;
    int rc;
    if (c->scenario == NULL || c->until == NULL || c->reason == NULL) {
        cli_errorf("silence add: --scenario, --until and --reason are required");
        return CLI_USAGE;
    }
    if ((rc = parse_until(c, &until)) != CLI_OK) {
        return rc;
    }
    rc = silence_code(wd_svc_silence_add(c->store, c->scenario, c->scope, until, c->reason,
                                         c->as, c->role, c->now, &sl, &res),
                      &res);
    if (rc == CLI_OK) {
        char t[32];
        fmt_time(sl.until_ns, t, sizeof t);
        printf("silence #%lld: %s in %s held back until %s (by %s)\n", (long long)sl.id,
               sl.scenario, sl.scope[0] ? sl.scope : "every scope", t, sl.by);
    }
    return rc;
}

void cli_silence_header(void)
{
    printf("%-4s %-22s %-20s %-24s %-10s %s\n", "ID", "SCENARIO", "SCOPE", "UNTIL", "BY",
           "REASON");
}

void cli_silence_row(const struct wd_silence *s, int64_t now)
{
    char t[32];
    fmt_time(s->until_ns, t, sizeof t);
    const char *state = s->removed_ns != 0 ? " [removed]" : s->until_ns <= now ? " [expired]" : "";
    printf("%-4lld %-22s %-20s %-24s %-10s %s%s\n", (long long)s->id, s->scenario,
           s->scope[0] ? s->scope : "(every)", t, s->by, s->reason, state);
}

static int silence_list(struct oc_cmd *c)
{
    struct wd_error err = {0};
    struct wd_silence *v = NULL;
    size_t n = 0;
    if (wd_store_silence_list(c->store, c->all, c->now, &v, &n, &err) != WD_OK) {
        cli_errorf("store: %s", err.msg);
        return CLI_FAIL;
    }
    if (c->json) {
        struct jw w;
        jw_init(&w, stdout);
        jw_obj_begin(&w);
        jw_key(&w, "silences");
        jw_arr_begin(&w);
        for (size_t i = 0; i < n; i++) {
            wd_api_json_silence(&w, &v[i]);
        }
        jw_arr_end(&w);
        jw_obj_end(&w);
        jw_finish(&w);
    } else {
        cli_silence_header();
        for (size_t i = 0; i < n; i++) {
            cli_silence_row(&v[i], c->now);
        }
    }
    free(v);
    return CLI_OK;
}

static int silence_remove(struct oc_cmd *c)
{
    struct wd_svc_result res;
    char *end = NULL;
    long long id = c->nargs == 1 ? strtoll(c->args[0], &end, 10) : 0;
    if (c->nargs != 1 || end == c->args[0] || *end != '\0' || id <= 0) {
        cli_errorf("silence remove: expected one silence ID (see 'warden silence list')");
        return CLI_USAGE;
    }
    int rc = silence_code(wd_svc_silence_remove(c->store, id, c->as, c->role, c->now, &res),
                          &res);
    if (rc == CLI_OK) {
        printf("%s\n", res.msg);
    }
    return rc;
}

int cmd_silence(int argc, char **argv)
{
    struct oc_cmd c;
    memset(&c, 0, sizeof c);
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(silence_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_USAGE : CLI_OK;
    }
    const char *sub = argv[1];
    int rc = parse(&c, argc - 1, argv + 1, silence_usage);
    if (rc != CLI_OK) {
        return rc < 0 ? CLI_OK : rc;
    }
    int (*fn)(struct oc_cmd *) = strcmp(sub, "add") == 0      ? silence_add
                                 : strcmp(sub, "list") == 0   ? silence_list
                                 : strcmp(sub, "remove") == 0 ? silence_remove
                                                              : NULL;
    if (fn == NULL) {
        cli_errorf("silence: unknown command '%s' (add, list or remove)", sub);
        return CLI_USAGE;
    }
    const char *url = remote(&c, "silence", &rc);
    if (url != NULL) {
        const struct cli_remote_silence r = {sub,     c.args,  c.nargs, c.scenario, c.scope,
                                             c.until, c.reason, c.all,  c.json};
        return rc != CLI_OK ? rc : cli_remote_silence(url, &r);
    }
    if ((rc = setup(&c)) == CLI_OK) {
        rc = fn(&c);
    }
    teardown(&c);
    return rc;
}
