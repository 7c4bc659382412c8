/*
 * `warden incident list|show|open|ack|assign|status|note|check|approve|
 * action|resolve|close` (issue 5): responders drive the incident record in
 * the store. Each change goes through the pure lifecycle
 * (include/warden/incident.h), which refuses what the playbook does not
 * allow, and is saved with its timeline entry in one transaction (and so
 * in the audit chain). Times are the wall clock, or --at for a backfill or
 * a test.
 */
#include <getopt.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/cmds.h"
#include "cli/jsonout.h"
#include "cli/notify_cli.h"
#include "cli/remote.h"
#include "store/store.h"
#include "svc/api.h"
#include "svc/incidents.h"
#include "warden/incident.h"
#include "warden/render.h"
#include "warden/timeutil.h"

static const char usage_text[] =
    "Usage: warden incident COMMAND [ARGS] [--as NAME] [--json] [--at TIME]\n"
    "                       [--config FILE] [--db PATH]\n"
    "\n"
    "  list [--all]                    active incidents (all with --all), SLA status\n"
    "  show ID                         the record, checklist, actions and timeline\n"
    "  open --scenario S --scope SCOPE --title T [--severity P] [--detail D]\n"
    "                                  open one by hand (one per scenario and scope)\n"
    "  ack ID                          acknowledge (stops the response SLA)\n"
    "  assign ID --role ROLE NAME      commander, risk_officer, tech_lead,\n"
    "                                  comms_lead or sme\n"
    "  status ID STATUS                investigating, identified, fixing, monitoring\n"
    "  note ID TEXT                    a note on the timeline\n"
    "  check ID N [--undo]             tick (untick) recovery criterion N (1-based)\n"
    "  approve ID --role risk_officer|cto --reason R\n"
    "                                  an approval to resume the incident's scope\n"
    "  action ID add TEXT --owner NAME [--due DATE]\n"
    "  action ID done N [--undo]       action items of the review\n"
    "  resolve ID [--pnl X]            resolved (P0/P1: every criterion ticked);\n"
    "                                  --pnl: the day's PnL at resolution (warden pnl)\n"
    "  close ID                        closed, after the review\n"
    "  report ID                       the playbook's incident report (markdown)\n"
    "  message ID --kind initial|update|resolution\n"
    "                                  the playbook's communication template\n"
    "  review ID                       the post-incident review document\n"
    "  review --due                    reviews overdue (48 h) and follow-ups due (2 weeks)\n"
    "  update ID [--message M]         post the playbook's status update through the\n"
    "                                  incident's notification channels (docs/NOTIFICATIONS.md)\n"
    "\n"
    "With a notify section, a change that announces (open, ack, resolve, a raised\n"
    "severity) queues its notifications in the same transaction and sends them\n"
    "once; what fails stays queued for a running warden to retry.\n"
    "\n"
    "Every change also rewrites the incident log (the playbook's Appendix) as\n"
    "logs/incident_YYYYMMDD_HHMMSS.log beside the store, or under --logs DIR.\n"
    "\n"
    "  --as NAME    who acts (required for a change; or WARDEN_AS)\n"
    "  --at TIME    when (RFC 3339, or YYYY-MM-DD); default: now\n"
    "  --json       one JSON object\n"
    "  --url URL    through a running warden's API (or WARDEN_URL; WARDEN_TOKEN the\n"
    "               bearer token, whose name acts): list, show, ack, assign, status,\n"
    "               note, check, approve, resolve, update; --json prints the API's document\n"
    "Exit status: 0 done, 1 refused (bad id, transition) or a store failure, 2 usage.\n";

struct inc_cmd {
    const char *sub;
    const char *config, *db, *as, *at;
    const char *role, *owner, *due, *reason, *kind, *logs, *pnl;
    const char *scenario, *scope, *severity, *title, *detail;
    const char *url; /* --url */
    const char *message; /* update --message */
    struct cli_notify notify;
    bool json, all, undo, due_list;
    char **args; /* positional arguments after the subcommand */
    int nargs;
    struct wd_config cfg;
    struct wd_tz *tz;
    struct wd_store *store;
    int64_t now;
};

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    cli_errorf("%s (see 'warden incident --help')", msg);
    return CLI_USAGE;
}

static int parse(struct inc_cmd *c, int argc, char **argv)
{
    enum { O_DB = 256, O_AS, O_AT, O_ROLE, O_OWNER, O_DUE, O_REASON, O_SCENARIO, O_SCOPE,
           O_SEVERITY, O_TITLE, O_DETAIL, O_ALL, O_UNDO, O_KIND, O_LOGS, O_PNL, O_URL, O_MESSAGE };
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'}, {"db", required_argument, NULL, O_DB},
        {"as", required_argument, NULL, O_AS},     {"at", required_argument, NULL, O_AT},
        {"role", required_argument, NULL, O_ROLE}, {"owner", required_argument, NULL, O_OWNER},
        {"due", required_argument, NULL, O_DUE},   {"reason", required_argument, NULL, O_REASON},
        {"scenario", required_argument, NULL, O_SCENARIO},
        {"scope", required_argument, NULL, O_SCOPE},
        {"severity", required_argument, NULL, O_SEVERITY},
        {"title", required_argument, NULL, O_TITLE},
        {"detail", required_argument, NULL, O_DETAIL},
        {"all", no_argument, NULL, O_ALL},         {"undo", no_argument, NULL, O_UNDO},
        {"message", required_argument, NULL, O_MESSAGE},
        {"kind", required_argument, NULL, O_KIND}, {"logs", required_argument, NULL, O_LOGS},
        {"pnl", required_argument, NULL, O_PNL},   {"url", required_argument, NULL, O_URL},
        {"json", no_argument, NULL, 'j'},          {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    int ch;
    optind = 2; /* argv[0] "incident", argv[1] the subcommand */
    while ((ch = getopt_long(argc, argv, "c:jh", longopts, NULL)) != -1) {
        switch (ch) {
        case 'c': c->config = optarg; break;
        case O_DB: c->db = optarg; break;
        case O_AS: c->as = optarg; break;
        case O_AT: c->at = optarg; break;
        case O_ROLE: c->role = optarg; break;
        case O_OWNER: c->owner = optarg; break;
        case O_DUE: c->due = optarg; break;
        case O_KIND: c->kind = optarg; break;
        case O_MESSAGE: c->message = optarg; break;
        case O_LOGS: c->logs = optarg; break;
        case O_PNL: c->pnl = optarg; break;
        case O_URL: c->url = optarg; break;
        case O_REASON: c->reason = optarg; break;
        case O_SCENARIO: c->scenario = optarg; break;
        case O_SCOPE: c->scope = optarg; break;
        case O_SEVERITY: c->severity = optarg; break;
        case O_TITLE: c->title = optarg; break;
        case O_DETAIL: c->detail = optarg; break;
        case O_ALL: c->all = true; break;
        case O_UNDO: c->undo = true; break;
        case 'j': c->json = true; break;
        case 'h': fputs(usage_text, stdout); return -1;
        default: fputs(usage_text, stderr); return CLI_USAGE;
        }
    }
    c->args = argv + optind;
    c->nargs = argc - optind;
    if (c->as == NULL) {
        c->as = getenv("WARDEN_AS");
    }
    return CLI_OK;
}

/* Needs exactly n positional arguments. */
static int want_args(const struct inc_cmd *c, int n, const char *form)
{
    if (c->nargs != n) {
        return usage_error("incident %s", form);
    }
    return CLI_OK;
}

/* Configuration, zone, store and the time of the action. */
static int setup(struct inc_cmd *c)
{
    int rc;
    if ((rc = cli_config_load(&c->cfg, c->config)) != CLI_OK ||
        (rc = cli_tz_load(&c->cfg, &c->tz)) != CLI_OK ||
        (rc = cli_open_store(&c->cfg, c->db, &c->store)) != CLI_OK) {
        return rc;
    }
    c->now = cli_wall_ns();
    if (c->at != NULL && (rc = cli_parse_time("--at", c->at, c->tz, false, &c->now)) != CLI_OK) {
        return rc;
    }
    cli_notify_attach(&c->notify, c->store, &c->cfg, c->tz);
    return CLI_OK;
}

/* `update ID [--message M]`: the status update through the channels. */
static int do_update(struct inc_cmd *c)
{
    if (want_args(c, 1, "update ID [--message M]") != CLI_OK) {
        return CLI_USAGE;
    }
    if (c->as == NULL || c->as[0] == '\0') {
        return usage_error("incident update: --as NAME is required (who acts)");
    }
    return cli_incident_update(&c->notify, c->store, &c->cfg, c->tz, c->args[0], c->message,
                               c->as, c->now);
}

static int load(struct inc_cmd *c, const char *id, struct wd_incident *inc)
{
    struct wd_error err = {0};
    bool found = false;
    if (wd_store_incident_load(c->store, id, inc, &found, &err) != WD_OK) {
        cli_errorf("store: %s", err.msg);
        return CLI_FAIL;
    }
    if (!found) {
        cli_errorf("incident %s: no such incident (see 'warden incident list --all')", id);
        return CLI_FAIL;
    }
    return CLI_OK;
}

static void fmt_time(int64_t ns, char *buf, size_t cap)
{
    if (ns == 0) {
        snprintf(buf, cap, "-");
    } else {
        wd_time_format_utc(ns, buf, cap);
    }
}

/* "ack due in 4m10s", "ack 2m00s past SLA", "acked", per the record. */
static void sla_text(const struct wd_incident *inc, int64_t now, char *buf, size_t cap,
                     bool *past)
{
    struct wd_incident_sla s;
    char d[40];
    wd_incident_sla(inc, now, &s);
    *past = s.ack_breached || s.resolve_breached;
    if (!s.acknowledged) {
        cli_fmt_duration(s.ack_remaining_ns < 0 ? -s.ack_remaining_ns : s.ack_remaining_ns, d,
                         sizeof d);
        snprintf(buf, cap, s.ack_remaining_ns < 0 ? "PAST SLA: ack %s late" : "ack due in %s",
                 d);
    } else if (s.resolve_target_ns > 0 && wd_inc_status_active(inc->status)) {
        cli_fmt_duration(s.resolve_remaining_ns < 0 ? -s.resolve_remaining_ns
                                                    : s.resolve_remaining_ns,
                         d, sizeof d);
        snprintf(buf, cap,
                 s.resolve_remaining_ns < 0 ? "PAST SLA: resolution %s late"
                                            : "resolve due in %s",
                 d);
    } else {
        snprintf(buf, cap, s.ack_breached ? "acknowledged late" : "acknowledged in time");
    }
}

static void json_record(struct jw *w, const struct wd_incident *inc, int64_t now)
{
    char sla[96];
    bool past;
    sla_text(inc, now, sla, sizeof sla, &past);
    jw_obj_begin(w);
    wd_api_json_incident_fields(w, inc);
    jw_key(w, "sla");
    jw_str(w, sla);
    jw_key(w, "past_sla");
    jw_bool(w, past);
    jw_obj_end(w);
}

void cli_incident_header(void)
{
    printf("%-17s %-3s %-13s %-20s %-20s %-24s %s\n", "ID", "SEV", "STATUS", "SCENARIO", "SCOPE",
           "OPENED (UTC)", "SLA");
}

bool cli_incident_row(const struct wd_incident *inc, int64_t now)
{
    char opened[40], sla[96];
    bool past;
    fmt_time(inc->opened_ns, opened, sizeof opened);
    sla_text(inc, now, sla, sizeof sla, &past);
    printf("%-17s %-3s %-13s %-20s %-20s %-24s %s\n", inc->id, wd_severity_name(inc->severity),
           wd_inc_status_name(inc->status), wd_scenario_name(inc->scenario), inc->scope, opened,
           sla);
    return past;
}

static int do_list(struct inc_cmd *c)
{
    struct wd_incident *v = NULL;
    size_t n = 0;
    struct wd_error err = {0};
    if (want_args(c, 0, "list [--all]") != CLI_OK) {
        return CLI_USAGE;
    }
    if (wd_store_incident_list_records(c->store, !c->all, &v, &n, &err) != WD_OK) {
        cli_errorf("store: %s", err.msg);
        return CLI_FAIL;
    }
    size_t past_n = 0;
    if (c->json) {
        struct jw w;
        jw_init(&w, stdout);
        jw_obj_begin(&w);
        jw_key(&w, "incidents");
        jw_arr_begin(&w);
        for (size_t i = 0; i < n; i++) {
            json_record(&w, &v[i], c->now);
        }
        jw_arr_end(&w);
        jw_obj_end(&w);
        fputc('\n', stdout);
    } else {
        cli_incident_header();
        for (size_t i = 0; i < n; i++) {
            past_n += cli_incident_row(&v[i], c->now) ? 1u : 0u;
        }
        fprintf(stderr, "warden: %zu incident%s%s, %zu past SLA\n", n, n == 1 ? "" : "s",
                c->all ? "" : " active", past_n);
    }
    free(v);
    return CLI_OK;
}

void cli_incident_show_head(const struct wd_incident *inc, int64_t now)
{
    char t1[40], sla[96];
    bool past;
    fmt_time(inc->opened_ns, t1, sizeof t1);
    sla_text(inc, now, sla, sizeof sla, &past);
    printf("%s  %s  %s  %s  %s\n%s\n", inc->id, wd_severity_name(inc->severity),
           wd_inc_status_name(inc->status), wd_scenario_name(inc->scenario), inc->scope,
           inc->title);
    if (inc->detail[0]) {
        printf("%s\n", inc->detail);
    }
    printf("opened %s by %s; %s\n", t1, inc->opened_by, sla);
    printf("roles: commander %s, risk officer %s, tech lead %s, comms lead %s\n",
           inc->commander[0] ? inc->commander : "-",
           inc->risk_officer[0] ? inc->risk_officer : "-",
           inc->tech_lead[0] ? inc->tech_lead : "-", inc->comms_lead[0] ? inc->comms_lead : "-");
    printf("recovery criteria:\n");
    for (uint32_t i = 0; i < inc->n_criteria; i++) {
        if (inc->criteria[i].done) {
            printf("  %u. [x] %s (%s)\n", i + 1u, inc->criteria[i].text, inc->criteria[i].who);
        } else {
            printf("  %u. [ ] %s\n", i + 1u, inc->criteria[i].text);
        }
    }
}

void cli_timeline_row(const struct wd_timeline_entry *e)
{
    char t1[40];
    fmt_time(e->ts_ns, t1, sizeof t1);
    printf("  %s  %-10s %-12s %s\n", t1, wd_tl_kind_name(e->kind), e->who, e->text);
}

static int do_show(struct inc_cmd *c)
{
    struct wd_incident inc;
    struct wd_timeline_entry *tl = NULL;
    size_t n = 0;
    struct wd_error err = {0};
    int rc;
    if ((rc = want_args(c, 1, "show ID")) != CLI_OK || (rc = load(c, c->args[0], &inc)) != CLI_OK) {
        return rc;
    }
    if (wd_store_timeline_list(c->store, inc.id, &tl, &n, &err) != WD_OK) {
        cli_errorf("store: %s", err.msg);
        return CLI_FAIL;
    }
    if (c->json) {
        static char buf[WD_INCIDENT_CANONICAL_MAX];
        (void)wd_incident_canonical(&inc, buf, sizeof buf);
        printf("{\"record\":%s,\"timeline\":[", buf);
        for (size_t i = 0; i < n; i++) {
            struct jw w;
            if (i > 0) {
                fputc(',', stdout);
            }
            jw_init(&w, stdout);
            cli_json_timeline_entry(&w, &tl[i]);
        }
        printf("]}\n");
        free(tl);
        return CLI_OK;
    }
    cli_incident_show_head(&inc, c->now);
    struct wd_approval *ap = NULL;
    size_t nap = 0;
    if (wd_store_list_approvals(c->store, inc.scope, inc.opened_ns, &ap, &nap, &err) != WD_OK) {
        cli_errorf("store: %s", err.msg);
        free(tl);
        return CLI_FAIL;
    }
    for (size_t i = 0, shown = 0; i < nap; i++) {
        if (strcmp(ap[i].incident, inc.id) != 0) {
            continue;
        }
        char when[40];
        fmt_time(ap[i].ts_ns, when, sizeof when);
        if (shown++ == 0) {
            printf("approvals:\n");
        }
        printf("  %s (%s) %s: %s\n", ap[i].who, wd_role_name(ap[i].role), when, ap[i].reason);
    }
    free(ap);
    if (inc.n_actions > 0) {
        printf("action items:\n");
    }
    for (uint32_t i = 0; i < inc.n_actions; i++) {
        char due[40];
        fmt_time(inc.actions[i].due_ns, due, sizeof due);
        printf("  %u. [%c] %s (owner %s, due %s)\n", i + 1u, inc.actions[i].done ? 'x' : ' ',
               inc.actions[i].text, inc.actions[i].owner, due);
    }
    printf("timeline:\n");
    for (size_t i = 0; i < n; i++) {
        cli_timeline_row(&tl[i]);
    }
    free(tl);
    return CLI_OK;
}

static void write_log(struct inc_cmd *c, const struct wd_incident *inc);

/* ---- changes ------------------------------------------------------------------ */

/* A 1-based number from the command line into a 0-based index (the
 * service checks it against the record). */
static int parse_index(const char *what, const char *s, uint32_t *out)
{
    uint32_t v;
    if (!cli_parse_u32(s, &v) || v == 0) {
        cli_errorf("incident: %s '%s': a number from 1", what, s);
        return CLI_USAGE;
    }
    *out = v - 1u;
    return CLI_OK;
}

/* The change a subcommand asks for, from its arguments and options. */
typedef int (*change_fn)(struct inc_cmd *c, struct wd_svc_inc_change *ch);

static int ch_ack(struct inc_cmd *c, struct wd_svc_inc_change *ch)
{
    (void)c;
    ch->op = WD_SVC_INC_ACK;
    return CLI_OK;
}

static int ch_resolve(struct inc_cmd *c, struct wd_svc_inc_change *ch)
{
    ch->op = WD_SVC_INC_RESOLVE;
    /* --pnl X: the day's PnL at resolution, for the impact. */
    if (c->pnl != NULL) {
        ch->with_pnl = true;
        if (wd_fix_parse(c->pnl, strlen(c->pnl), &ch->pnl) != WD_OK) {
            cli_errorf("incident resolve %s: --pnl '%s': not a number", c->args[0], c->pnl);
            return CLI_FAIL;
        }
    }
    return CLI_OK;
}

static int ch_close(struct inc_cmd *c, struct wd_svc_inc_change *ch)
{
    (void)c;
    ch->op = WD_SVC_INC_CLOSE;
    return CLI_OK;
}

static int ch_status(struct inc_cmd *c, struct wd_svc_inc_change *ch)
{
    ch->op = WD_SVC_INC_STATUS;
    ch->status = c->args[1];
    return CLI_OK;
}

static int ch_note(struct inc_cmd *c, struct wd_svc_inc_change *ch)
{
    ch->op = WD_SVC_INC_NOTE;
    ch->text = c->args[1];
    return CLI_OK;
}

static int ch_assign(struct inc_cmd *c, struct wd_svc_inc_change *ch)
{
    ch->op = WD_SVC_INC_ASSIGN;
    ch->role = c->role;
    ch->name = c->args[1];
    ch->undo = c->undo;
    return CLI_OK;
}

static int ch_check(struct inc_cmd *c, struct wd_svc_inc_change *ch)
{
    ch->op = WD_SVC_INC_CHECK;
    ch->undo = c->undo;
    return parse_index("criterion", c->args[1], &ch->index);
}

static int ch_action(struct inc_cmd *c, struct wd_svc_inc_change *ch)
{
    if (strcmp(c->args[1], "add") == 0) {
        ch->op = WD_SVC_INC_ACTION_ADD;
        ch->text = c->args[2];
        ch->owner = c->owner;
        if (c->owner == NULL) {
            return usage_error("incident action add: --owner NAME is required");
        }
        if (c->due != NULL && cli_parse_time("--due", c->due, c->tz, false, &ch->due_ns) != CLI_OK) {
            return CLI_USAGE;
        }
        return CLI_OK;
    }
    if (strcmp(c->args[1], "done") == 0) {
        ch->op = WD_SVC_INC_ACTION_DONE;
        ch->undo = c->undo;
        return parse_index("action", c->args[2], &ch->index);
    }
    return usage_error("incident action: 'add TEXT' or 'done N', not '%s'", c->args[1]);
}

static int ch_approve(struct inc_cmd *c, struct wd_svc_inc_change *ch)
{
    ch->op = WD_SVC_INC_APPROVE;
    ch->role = c->role;
    ch->reason = c->reason;
    return CLI_OK;
}

struct change {
    const char *sub;
    int nargs;
    const char *form;
    change_fn fn;
};

static const struct change changes[] = {
    {"ack", 1, "ack ID", ch_ack},
    {"resolve", 1, "resolve ID", ch_resolve},
    {"close", 1, "close ID", ch_close},
    {"status", 2, "status ID STATUS", ch_status},
    {"note", 2, "note ID TEXT", ch_note},
    {"assign", 2, "assign ID --role ROLE NAME", ch_assign},
    {"check", 2, "check ID N [--undo]", ch_check},
    {"approve", 1, "approve ID --role risk_officer|cto --reason R", ch_approve},
    {"action", 3, "action ID add TEXT --owner NAME | action ID done N", ch_action},
};

static void print_change(const struct inc_cmd *c, const struct wd_incident *inc,
                         const struct wd_timeline_entry *e)
{
    if (c->json) {
        struct jw w;
        jw_init(&w, stdout);
        json_record(&w, inc, c->now);
        fputc('\n', stdout);
        return;
    }
    printf("%s: %s\n", inc->id, e->text);
}

static int do_change(struct inc_cmd *c, const struct change *ch)
{
    struct wd_incident inc;
    struct wd_timeline_entry e;
    struct wd_svc_inc_change req;
    struct wd_svc_result res;
    int rc;
    if (c->nargs != ch->nargs) {
        return usage_error("incident %s", ch->form);
    }
    if (c->as == NULL || c->as[0] == '\0') {
        return usage_error("incident %s: --as NAME is required (who acts)", ch->sub);
    }
    memset(&req, 0, sizeof req);
    if ((rc = ch->fn(c, &req)) != CLI_OK) {
        return rc;
    }
    switch (wd_svc_incident_change(c->store, c->args[0], &req, c->as, c->now, &inc, &e, &res)) {
    case WD_SVC_OK:
        write_log(c, &inc);
        print_change(c, &inc, &e);
        cli_notify_flush(&c->notify, c->store, &c->cfg);
        return CLI_OK;
    case WD_SVC_NOT_FOUND:
        cli_errorf("incident %s: no such incident (see 'warden incident list --all')",
                   c->args[0]);
        return CLI_FAIL;
    case WD_SVC_STORE: cli_errorf("%s", res.msg); return CLI_FAIL;
    default: cli_errorf("incident %s %s: %s", ch->sub, c->args[0], res.msg); return CLI_FAIL;
    }
}

/* ---- open ------------------------------------------------------------------------- */

static int do_open(struct inc_cmd *c)
{
    struct wd_incident inc;
    struct wd_timeline_entry e;
    struct wd_svc_result res;
    char id[WD_INCIDENT_ID_MAX];
    const struct wd_svc_inc_open o = {.scenario = c->scenario, .scope = c->scope,
                                      .severity = c->severity, .title = c->title,
                                      .detail = c->detail};
    if (want_args(c, 0, "open --scenario S --scope SCOPE --title T") != CLI_OK) {
        return CLI_USAGE;
    }
    if (c->as == NULL || c->as[0] == '\0') {
        return usage_error("incident %s: --as NAME is required (who acts)", "open");
    }
    switch (wd_svc_incident_open(c->store, c->tz, &o, c->as, c->now, &inc, &e, id, &res)) {
    case WD_SVC_OK:
        write_log(c, &inc);
        print_change(c, &inc, &e);
        cli_notify_flush(&c->notify, c->store, &c->cfg);
        return CLI_OK;
    case WD_SVC_INVALID: return usage_error("incident open: %s", res.msg);
    case WD_SVC_REFUSED:
        cli_errorf("incident open: %s; add to it with 'warden incident note %s TEXT'", res.msg,
                   id);
        return CLI_FAIL;
    default: cli_errorf("%s", res.msg); return CLI_FAIL;
    }
}

/* ---- documents ------------------------------------------------------------------ */

static void write_log(struct inc_cmd *c, const struct wd_incident *inc)
{
    char buf[1024];
    cli_write_incident_log(c->store, c->tz, inc,
                           cli_logs_dir(&c->cfg, c->db, c->logs, buf, sizeof buf), c->now);
}

static int do_document(struct inc_cmd *c)
{
    struct wd_incident inc;
    struct wd_render_buf b;
    cli_render_fn fn = NULL;
    enum wd_msg_kind kind = WD_MSG_INITIAL;
    int rc;
    if (strcmp(c->sub, "message") == 0 &&
        (c->kind == NULL || wd_msg_kind_parse(c->kind, &kind) != WD_OK)) {
        return usage_error("incident message: --kind '%s': initial, update or resolution",
                           c->kind ? c->kind : "");
    }
    fn = strcmp(c->sub, "report") == 0   ? wd_render_report
         : strcmp(c->sub, "review") == 0 ? wd_render_review
                                         : NULL;
    if ((rc = want_args(c, 1, strcmp(c->sub, "message") == 0 ? "message ID --kind KIND" : "report ID | review ID")) !=
            CLI_OK ||
        (rc = load(c, c->args[0], &inc)) != CLI_OK) {
        return rc;
    }
    wd_render_buf_init(&b, 0);
    if ((rc = cli_render_incident(c->store, c->tz, &inc, fn, kind, c->now, &b)) == CLI_OK) {
        fwrite(b.data, 1, b.len, stdout);
    }
    wd_render_buf_destroy(&b);
    return rc;
}

/* `review --due`: reviews overdue and follow-ups due at --at (now). */
static int do_review_due(struct inc_cmd *c)
{
    struct wd_incident *v = NULL;
    size_t n = 0, shown = 0;
    struct wd_error err = {0};
    if (want_args(c, 0, "review --due") != CLI_OK) {
        return CLI_USAGE;
    }
    if (wd_store_incident_list_records(c->store, false, &v, &n, &err) != WD_OK) {
        cli_errorf("store: %s", err.msg);
        return CLI_FAIL;
    }
    for (size_t i = 0; i < n; i++) {
        struct wd_review_due d;
        char due[40], late[40];
        wd_review_due(&v[i], c->now, &d);
        if (d.review_overdue) {
            fmt_time(d.review_due_ns, due, sizeof due);
            cli_fmt_duration(c->now - d.review_due_ns, late, sizeof late);
            printf("%s  review overdue: due %s, %s late\n", v[i].id, due, late);
            shown++;
        } else if (d.followup_due) {
            fmt_time(d.followup_due_ns, due, sizeof due);
            printf("%s  two-week follow-up due since %s: %u action item%s open\n", v[i].id, due,
                   d.open_actions, d.open_actions == 1 ? "" : "s");
            shown++;
        }
    }
    fprintf(stderr, "warden: %zu review%s or follow-up%s due\n", shown, shown == 1 ? "" : "s",
            shown == 1 ? "" : "s");
    free(v);
    return CLI_OK;
}

int cmd_incident(int argc, char **argv)
{
    struct inc_cmd c;
    memset(&c, 0, sizeof c);
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(usage_text, argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_USAGE : CLI_OK;
    }
    c.sub = argv[1];
    /* `review --due` is a switch, `action add --due DATE` takes a date:
     * the review's is taken out before the options are parsed. */
    if (strcmp(c.sub, "review") == 0) {
        int k = 2;
        for (int i = 2; i < argc; i++) {
            if (strcmp(argv[i], "--due") == 0) {
                c.due_list = true;
            } else {
                argv[k++] = argv[i];
            }
        }
        argc = k;
    }
    int rc = parse(&c, argc, argv);
    if (rc != CLI_OK) {
        return rc < 0 ? CLI_OK : rc;
    }
    const char *url = cli_remote_url(c.url);
    if (url != NULL) {
        const struct cli_remote_incident r = {c.sub,  c.args, c.nargs, c.role, c.reason, c.pnl,
                                              c.undo, c.all,  c.json,  c.message};
        if ((rc = cli_remote_offline_only("incident", "--db", c.db)) != CLI_OK ||
            (rc = cli_remote_offline_only("incident", "--at", c.at)) != CLI_OK ||
            (rc = cli_remote_offline_only("incident", "--logs", c.logs)) != CLI_OK) {
            return rc;
        }
        return cli_remote_incident(url, &r);
    }
    const struct change *ch = NULL;
    for (size_t i = 0; i < sizeof changes / sizeof changes[0]; i++) {
        if (strcmp(c.sub, changes[i].sub) == 0) {
            ch = &changes[i];
        }
    }
    bool document = strcmp(c.sub, "report") == 0 || strcmp(c.sub, "message") == 0 ||
                    strcmp(c.sub, "review") == 0;
    bool update = strcmp(c.sub, "update") == 0;
    if (ch == NULL && !document && !update && strcmp(c.sub, "list") != 0 &&
        strcmp(c.sub, "show") != 0 && strcmp(c.sub, "open") != 0) {
        return usage_error("incident: unknown command '%s'", c.sub);
    }
    if ((rc = setup(&c)) == CLI_OK) {
        rc = ch != NULL                           ? do_change(&c, ch)
             : update                             ? do_update(&c)
             : c.due_list                         ? do_review_due(&c)
             : document                           ? do_document(&c)
             : strcmp(c.sub, "list") == 0         ? do_list(&c)
             : strcmp(c.sub, "show") == 0         ? do_show(&c)
                                                  : do_open(&c);
    }
    cli_notify_stop(&c.notify, c.store);
    wd_store_close(c.store);
    wd_tz_free(c.tz);
    wd_config_destroy(&c.cfg);
    return rc;
}
