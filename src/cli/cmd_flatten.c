/*
 * `warden flatten` (the playbook's close_all_positions.py --confirm, and
 * close_positions.py --filter unauthorized): runs the events through the
 * engine (book, gate, detectors; trading states read from the store, nothing
 * written), then prints one closing intent per open position, with source
 * `warden` (which the gate lets through, reducing only). With
 * --filter unauthorized, only the positions that unauthorized fills built.
 * Without --confirm it prints the plan and emits nothing.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "cli/cmds.h"
#include "cli/jsonout.h"
#include "store/store.h"
#include "warden/engine.h"
#include "warden/timeutil.h"

static const char usage_text[] =
    "Usage: warden flatten --events FILE [--filter unauthorized] [--confirm]\n"
    "                      [--config FILE] [--db PATH]\n"
    "\n"
    "Closes positions: replays FILE through the engine (trading states from the\n"
    "store, nothing written back), then, with --confirm, prints one closing\n"
    "intent per open position on stdout as JSON Lines (source \"warden\", the\n"
    "opposite side, the whole quantity, ts of the last event), ready for the\n"
    "order path. The gate accepts warden's intents while halted, and only if\n"
    "they reduce a position. Without --confirm the plan is printed on stderr\n"
    "and nothing is emitted.\n"
    "\n"
    "  --filter unauthorized   only positions built by unauthorized fills (P0-3)\n"
    "  --confirm               emit the intents (the playbook's --confirm)\n";

int cmd_flatten(int argc, char **argv)
{
    enum { OPT_DB = 256, OPT_FILTER, OPT_CONFIRM };
    static const struct option longopts[] = {
        {"events", required_argument, NULL, 'e'}, {"config", required_argument, NULL, 'c'},
        {"db", required_argument, NULL, OPT_DB},    {"filter", required_argument, NULL, OPT_FILTER},
        {"confirm", no_argument, NULL, OPT_CONFIRM}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    const char *config = NULL, *db = NULL;
    bool only_unauth = false, confirm = false;
    struct cli_replay fl = {0};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "e:c:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'e': fl.path = optarg; break;
        case 'c': config = optarg; break;
        case OPT_DB: db = optarg; break;
        case OPT_FILTER:
            if (strcmp(optarg, "unauthorized") != 0) {
                cli_errorf("flatten: --filter '%s': the only filter is 'unauthorized'", optarg);
                return CLI_USAGE;
            }
            only_unauth = true;
            break;
        case OPT_CONFIRM: confirm = true; break;
        case 'h': fputs(usage_text, stdout); return CLI_OK;
        default: fputs(usage_text, stderr); return CLI_USAGE;
        }
    }
    if (fl.path == NULL && optind < argc) {
        fl.path = argv[optind++];
    }
    if (fl.path == NULL || optind < argc) {
        fputs(usage_text, stderr);
        return CLI_USAGE;
    }

    int rc;
    if ((rc = cli_replay_open(&fl, config, db, NULL, NULL)) != CLI_OK ||
        (rc = cli_replay_run(&fl)) != CLI_OK) {
        goto out;
    }

    const struct wd_book *book = wd_engine_book(fl.engine);
    const struct wd_intern *accts = wd_engine_accounts(fl.engine);
    const struct wd_intern *syms = wd_engine_symbols(fl.engine);
    size_t planned = 0;
    for (size_t i = 0; i < wd_book_position_count(book); i++) {
        const struct wd_position *p = wd_book_position(book, i);
        if (p->qty == 0 || (only_unauth && !wd_engine_position_unauthorized(fl.engine, p))) {
            continue;
        }
        char qty[40];
        const char *side = p->qty > 0 ? "SELL" : "BUY";
        wd_fix_format(p->qty < 0 ? -p->qty : p->qty, 0, qty, sizeof qty);
        planned++;
        if (!confirm) {
            fprintf(stderr, "would %s %s %s in account %s\n", side, qty,
                    wd_intern_name(syms, p->symbol), wd_intern_name(accts, p->account));
            continue;
        }
        /* The quantity as a JSON number; ids say what they are for. */
        printf("{\"type\":\"intent\",\"ts\":%" PRId64 ",\"account\":", fl.last_ts);
        jw_write_escaped(stdout, wd_intern_name(accts, p->account));
        printf(",\"id\":\"warden-flatten-%" PRId64 "-%zu\",\"symbol\":", fl.last_ts, planned);
        jw_write_escaped(stdout, wd_intern_name(syms, p->symbol));
        printf(",\"side\":\"%s\",\"qty\":%s,\"order_type\":\"MKT\",\"source\":\"warden\"}\n", side,
               qty);
    }
    fprintf(stderr, "warden: flatten: %zu position%s %s%s\n", planned, planned == 1 ? "" : "s",
            only_unauth ? "built by unauthorized fills " : "",
            confirm ? "closed by the intents above" : "to close; add --confirm to emit the intents");
out:
    cli_replay_close(&fl);
    return rc;
}

/* ---- audit ----------------------------------------------------------------------- */

static const char audit_usage[] =
    "Usage: warden audit --events FILE [--today] [--json] [--config FILE] [--db PATH]\n"
    "       warden audit verify [--json] [--config FILE] [--db PATH]\n"
    "\n"
    "verify: checks the store's tamper-evident audit chain (every entry linked\n"
    "to the one before, every hash recomputed) and that the trading states,\n"
    "their history, approvals and incidents in the store are exactly what the\n"
    "chain records. Exit 0 when intact, 1 when not, naming the first bad entry\n"
    "or row (docs/AUDIT.md).\n"
    "\n"
    "The playbook's audit_trades: replays FILE through the engine (trading\n"
    "states from the store, nothing written) and lists every anomaly with its\n"
    "reason: rejected intents (gate reason), unauthorized trading (fills never\n"
    "seen, fills for rejected intents, forbidden symbols, out of hours, over a\n"
    "limit), kill-switches, detector incidents and data-quality alerts.\n"
    "--today: only the last local day of the input. --json: JSON Lines.\n";

struct audit {
    struct cli_replay rp;
    int64_t from_ns; /* --today: outputs before this are not shown */
    bool json;
    uint64_t shown;
};

static void audit_output(void *ctx, const struct wd_output *o)
{
    struct audit *fl = ctx;
    char ts[40];
    if (o->ts_ns < fl->from_ns) {
        return;
    }
    const char *kind = NULL, *what = "", *why = "", *extra = "";
    char idbuf[80];
    switch (o->type) {
    case WD_OUT_DECISION:
        if (o->u.decision.accept) {
            return;
        }
        kind = "reject";
        snprintf(idbuf, sizeof idbuf, "intent %.*s", (int)o->u.decision.id.len,
                 o->u.decision.id.ptr);
        what = idbuf;
        why = o->u.decision.reason;
        extra = o->u.decision.detail;
        break;
    case WD_OUT_INCIDENT:
        kind = "incident";
        what = o->u.incident.scenario;
        why = o->u.incident.status;
        extra = o->u.incident.detail;
        break;
    case WD_OUT_ALERT:
        kind = "alert";
        what = o->u.alert.scenario;
        why = o->u.alert.severity;
        extra = o->u.alert.detail;
        break;
    default:
        return;
    }
    fl->shown++;
    if (fl->json) {
        struct jw w;
        jw_init(&w, stdout);
        jw_obj_begin(&w);
        jw_key(&w, "kind");
        jw_str(&w, kind);
        jw_key(&w, "event_no");
        jw_int(&w, (int64_t)o->event_no);
        jw_key(&w, "ts");
        jw_int(&w, o->ts_ns);
        jw_key(&w, "what");
        jw_str(&w, what);
        jw_key(&w, "why");
        jw_str(&w, why);
        jw_key(&w, "detail");
        jw_str(&w, extra);
        jw_obj_end(&w);
        fputc('\n', stdout);
        return;
    }
    wd_time_format_utc(o->ts_ns, ts, sizeof ts);
    printf("%s  #%-8" PRIu64 " %-8s %-24s %-26s %s\n", ts, o->event_no, kind, what, why, extra);
}

static enum wd_status find_last_ts(void *ctx, const struct wd_line *line)
{
    struct cli_replay *fl = ctx;
    struct wd_event ev;
    if (!line->overlong && line->len > 0 &&
        wd_decode_line(fl->dec, line->ptr, line->len, &ev, NULL) == WD_OK && ev.ts_ns > fl->last_ts) {
        fl->last_ts = ev.ts_ns;
    }
    return WD_OK;
}

/* `warden audit verify`: wd_store_audit_verify on the store, its report on
 * stdout; exit 0 intact, 1 not (or unreadable). */
static int audit_verify(int argc, char **argv)
{
    enum { OPT_DB = 256 };
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'}, {"db", required_argument, NULL, OPT_DB},
        {"json", no_argument, NULL, 'j'},         {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    const char *config = NULL, *db = NULL;
    bool json = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:jh", longopts, NULL)) != -1) {
        switch (c) {
        case 'c': config = optarg; break;
        case OPT_DB: db = optarg; break;
        case 'j': json = true; break;
        case 'h': fputs(audit_usage, stdout); return CLI_OK;
        default: fputs(audit_usage, stderr); return CLI_USAGE;
        }
    }
    if (optind < argc) {
        fputs(audit_usage, stderr);
        return CLI_USAGE;
    }
    struct wd_config cfg;
    int rc = cli_config_load(&cfg, config);
    if (rc != CLI_OK) {
        return rc;
    }
    struct wd_store *store = NULL;
    struct wd_audit_report rep;
    struct wd_error err = {0};
    struct stat sb;
    const char *path = db != NULL ? db : cfg.store.path;
    /* Opening creates a missing store: an empty one would verify. */
    if (stat(path, &sb) != 0) {
        cli_errorf("audit verify: no store at %s", path);
        rc = CLI_FAIL;
        goto out;
    }
    if ((rc = cli_open_store(&cfg, db, &store)) != CLI_OK) {
        goto out;
    }
    if (wd_store_audit_verify(store, &rep, &err) != WD_OK) {
        cli_errorf("audit verify: %s", err.msg);
        rc = CLI_FAIL;
        goto out;
    }
    if (json) {
        struct jw w;
        jw_init(&w, stdout);
        jw_obj_begin(&w);
        jw_key(&w, "intact");
        jw_bool(&w, rep.intact);
        jw_key(&w, "entries");
        jw_int(&w, (int64_t)rep.entries);
        jw_key(&w, "rows");
        jw_int(&w, (int64_t)rep.rows);
        jw_key(&w, "head_hash");
        jw_str(&w, rep.head_hash);
        jw_key(&w, "bad_seq");
        jw_int(&w, (int64_t)rep.bad_seq);
        jw_key(&w, "table");
        jw_str(&w, rep.table);
        jw_key(&w, "key");
        jw_str(&w, rep.key);
        jw_key(&w, "message");
        jw_str(&w, rep.msg);
        jw_obj_end(&w);
        fputc('\n', stdout);
    } else if (rep.intact) {
        printf("audit chain %s\n", rep.msg);
        if (rep.entries > 0) {
            printf("head: entry %" PRIu64 " %s\n", rep.entries, rep.head_hash);
        }
    } else {
        printf("audit chain BROKEN: %s\n", rep.msg);
    }
    rc = rep.intact ? CLI_OK : CLI_FAIL;
out:
    wd_store_close(store);
    wd_config_destroy(&cfg);
    return rc;
}

int cmd_audit(int argc, char **argv)
{
    enum { OPT_DB = 256, OPT_TODAY };
    static const struct option longopts[] = {
        {"events", required_argument, NULL, 'e'}, {"config", required_argument, NULL, 'c'},
        {"db", required_argument, NULL, OPT_DB},    {"today", no_argument, NULL, OPT_TODAY},
        {"json", no_argument, NULL, 'j'},           {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    const char *config = NULL, *db = NULL;
    bool today = false;
    struct audit fl = {0};
    int c;
    if (argc > 1 && strcmp(argv[1], "verify") == 0) {
        return audit_verify(argc - 1, argv + 1);
    }
    optind = 1;
    while ((c = getopt_long(argc, argv, "e:c:jh", longopts, NULL)) != -1) {
        switch (c) {
        case 'e': fl.rp.path = optarg; break;
        case 'c': config = optarg; break;
        case OPT_DB: db = optarg; break;
        case OPT_TODAY: today = true; break;
        case 'j': fl.json = true; break;
        case 'h': fputs(audit_usage, stdout); return CLI_OK;
        default: fputs(audit_usage, stderr); return CLI_USAGE;
        }
    }
    if (fl.rp.path == NULL && optind < argc) {
        fl.rp.path = argv[optind++];
    }
    if (fl.rp.path == NULL || optind < argc) {
        fputs(audit_usage, stderr);
        return CLI_USAGE;
    }
    int rc;
    if ((rc = cli_replay_open(&fl.rp, config, db, audit_output, &fl)) != CLI_OK) {
        goto out;
    }
    if (today) {
        /* A first pass finds the input's last local day. */
        if ((rc = cli_replay_read(&fl.rp, find_last_ts, &fl.rp)) != CLI_OK) {
            goto out;
        }
        int64_t start;
        (void)wd_tz_local_day(fl.rp.tz, fl.rp.last_ts, &start, NULL);
        fl.from_ns = start;
        fl.rp.last_ts = 0;
    } else {
        fl.from_ns = INT64_MIN;
    }
    if (!fl.json) {
        printf("%-24s  %-9s %-8s %-24s %-26s %s\n", "TIME (UTC)", "EVENT", "KIND", "WHAT", "WHY",
               "DETAIL");
    }
    if ((rc = cli_replay_run(&fl.rp)) != CLI_OK) {
        goto out;
    }
    fprintf(stderr, "warden: audit: %" PRIu64 " events, %" PRIu64 " anomalies%s\n", fl.rp.events,
            fl.shown, today ? " on the last day" : "");
out:
    cli_replay_close(&fl.rp);
    return rc;
}
