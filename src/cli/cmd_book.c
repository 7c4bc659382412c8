/*
 * The playbook's first scripts as subcommands over an event file:
 * check_positions -> `warden positions`, calculate_pnl -> `warden pnl`,
 * calculate_drawdown -> `warden drawdown`. Each prints a table, or one
 * JSON object with --json; figures are as of the end of the input, or of
 * the local day given with --date.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cmds.h"
#include "cli/jsonout.h"
#include "cli/remote.h"
#include "warden/timeutil.h"

enum book_cmd { CMD_POSITIONS, CMD_PNL, CMD_DRAWDOWN };

struct book_opts {
    const char *events;
    const char *config;
    const char *url; /* the running warden (cli_remote_url), or NULL: offline */
    bool json;
    bool has_date;
    int64_t date_day;
};

static const char *const usage_text[] = {
    [CMD_POSITIONS] =
        "Usage: warden positions [--events FILE | FILE] [--config FILE] [--json]\n"
        "\n"
        "Open positions per account and symbol, as of the end of the input\n"
        "(the playbook's check_positions): quantity, average cost, mark and\n"
        "unrealized PnL. The mark is the mid of the last quote, else the last\n"
        "trade price, else the last fill price.\n",
    [CMD_PNL] =
        "Usage: warden pnl [--events FILE | FILE] [--date YYYY-MM-DD] [--config FILE] [--json]\n"
        "\n"
        "Equity, realized, unrealized and total PnL, and the daily PnL ratio\n"
        "(the playbook's calculate_pnl), per account and for the firm.\n"
        "total = realized + unrealized = equity - starting capital; the daily\n"
        "ratio is (equity - day-open equity) / day-open equity of the last day,\n"
        "days starting at local midnight in session.tz (America/New_York).\n"
        "With --date, figures are as of the end of that local day: later\n"
        "events are ignored.\n",
    [CMD_DRAWDOWN] =
        "Usage: warden drawdown [--events FILE | FILE] [--config FILE] [--json]\n"
        "\n"
        "Peak equity (high-water mark, from the starting capital), equity,\n"
        "current drawdown (peak - equity) / peak and the largest drawdown seen\n"
        "(the playbook's calculate_drawdown), per account and for the firm.\n",
};

static const char common_opts_text[] =
    "\nOptions:\n"
    "  -e, --events FILE   JSON Lines events to read ('-' or none: stdin)\n"
    "  -c, --config FILE   YAML configuration (capital, accounts, session.tz)\n"
    "  -j, --json          one JSON object on stdout instead of a table\n"
    "      --url URL       the running warden's figures through its API (or\n"
    "                      WARDEN_URL, with WARDEN_TOKEN): its JSON document\n"
    "  -h, --help          this help\n"
    "\nMalformed lines are reported on stderr (file:line:column: reason) and\n"
    "skipped. Exit status: 0 ok, 1 input unreadable, 2 usage or bad config.\n";

static void usage(enum book_cmd cmd, FILE *out)
{
    fputs(usage_text[cmd], out);
    if (cmd == CMD_PNL) {
        fputs("  -d, --date DAY      figures as of the end of local day DAY\n", out);
    }
    fputs(common_opts_text, out);
}

static int parse_opts(enum book_cmd cmd, int argc, char **argv, struct book_opts *o)
{
    static const struct option longopts[] = {
        {"events", required_argument, NULL, 'e'}, {"config", required_argument, NULL, 'c'},
        {"json", no_argument, NULL, 'j'},         {"date", required_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},         {"url", required_argument, NULL, 'u'},
        {NULL, 0, NULL, 0}};
    int c;
    memset(o, 0, sizeof *o);
    optind = 1;
    while ((c = getopt_long(argc, argv, "e:c:jd:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'e': o->events = optarg; break;
        case 'c': o->config = optarg; break;
        case 'j': o->json = true; break;
        case 'u': o->url = optarg; break;
        case 'd':
            if (cmd != CMD_PNL) {
                cli_errorf("%s: --date is only for pnl", argv[0]);
                return CLI_USAGE;
            }
            if (wd_date_parse(optarg, strlen(optarg), &o->date_day) != WD_OK) {
                cli_errorf("--date: '%s' is not a date (expected YYYY-MM-DD)", optarg);
                return CLI_USAGE;
            }
            o->has_date = true;
            break;
        case 'h': usage(cmd, stdout); return -1;
        default: usage(cmd, stderr); return CLI_USAGE;
        }
    }
    /* Through the API the figures are the running engine's, not a file's. */
    if ((o->url = cli_remote_url(o->url)) != NULL) {
        int rc = cli_remote_offline_only(argv[0], "--events", o->events);
        if (rc == CLI_OK && optind < argc) {
            rc = cli_remote_offline_only(argv[0], "an events file", argv[optind]);
        }
        return rc != CLI_OK ? rc : cli_remote_offline_only(argv[0], "--date",
                                                            o->has_date ? "" : NULL);
    }
    return cli_events_arg(argc, argv, &o->events);
}

/* Present accounts, sorted by name. Caller frees. */
struct acct_ref {
    uint32_t id;
    const char *name;
};

static int cmp_acct(const void *a, const void *b)
{
    return strcmp(((const struct acct_ref *)a)->name, ((const struct acct_ref *)b)->name);
}

static struct acct_ref *sorted_accounts(const struct cli_session *s, size_t *n)
{
    uint32_t slots = wd_book_account_slots(s->book);
    struct acct_ref *v = calloc(slots ? slots : 1u, sizeof *v);
    *n = 0;
    if (v == NULL) {
        return NULL;
    }
    for (uint32_t id = 0; id < slots; id++) {
        if (wd_book_account(s->book, id) != NULL) {
            v[(*n)++] = (struct acct_ref){id, wd_intern_name(&s->accounts, id)};
        }
    }
    qsort(v, *n, sizeof *v, cmp_acct);
    return v;
}

struct pos_ref {
    const struct wd_position *p;
    const char *account, *symbol;
};

static int cmp_pos(const void *a, const void *b)
{
    const struct pos_ref *x = a, *y = b;
    int c = strcmp(x->account, y->account);
    return c != 0 ? c : strcmp(x->symbol, y->symbol);
}

/* ---- positions ------------------------------------------------------------ */

static void print_positions(const struct cli_session *s, bool json)
{
    size_t n = wd_book_position_count(s->book), k = 0;
    struct pos_ref *v = calloc(n ? n : 1u, sizeof *v);
    if (v == NULL) {
        cli_errorf("out of memory");
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const struct wd_position *p = wd_book_position(s->book, i);
        if (p->qty != 0) {
            v[k++] = (struct pos_ref){p, wd_intern_name(&s->accounts, p->account),
                                      wd_intern_name(&s->symbols, p->symbol)};
        }
    }
    qsort(v, k, sizeof *v, cmp_pos);
    if (json) {
        struct jw w;
        jw_init(&w, stdout);
        jw_obj_begin(&w);
        jw_key(&w, "positions");
        jw_arr_begin(&w);
        for (size_t i = 0; i < k; i++) {
            wd_fix mark = 0;
            (void)wd_book_mark(s->book, v[i].p->symbol, &mark);
            jw_obj_begin(&w);
            jw_key(&w, "account");
            jw_str(&w, v[i].account);
            jw_key(&w, "symbol");
            jw_str(&w, v[i].symbol);
            jw_key(&w, "qty");
            jw_fix(&w, v[i].p->qty);
            jw_key(&w, "avg_cost");
            jw_fix(&w, wd_position_avg_cost(v[i].p));
            jw_key(&w, "mark");
            jw_fix(&w, mark);
            jw_key(&w, "unrealized");
            jw_fix(&w, v[i].p->mtm - v[i].p->cost);
            jw_obj_end(&w);
        }
        jw_arr_end(&w);
        jw_obj_end(&w);
        jw_finish(&w);
    } else {
        printf("%-12s %-10s %14s %14s %14s %16s\n", "ACCOUNT", "SYMBOL", "QTY", "AVG COST",
               "MARK", "UNREALIZED");
        for (size_t i = 0; i < k; i++) {
            char q[40], avg[40], mk[40], un[48];
            wd_fix mark = 0;
            (void)wd_book_mark(s->book, v[i].p->symbol, &mark);
            wd_fix_format(v[i].p->qty, 0, q, sizeof q);
            wd_fix_format_round(wd_position_avg_cost(v[i].p), 4, avg, sizeof avg);
            wd_fix_format_round(mark, 4, mk, sizeof mk);
            cli_fmt_money(v[i].p->mtm - v[i].p->cost, un, sizeof un);
            printf("%-12s %-10s %14s %14s %14s %16s\n", v[i].account, v[i].symbol, q, avg, mk,
                   un);
        }
        if (k == 0) {
            printf("(no open positions)\n");
        }
    }
    free(v);
}

/* ---- pnl -------------------------------------------------------------------- */

/* The daily ratio of the reporting day: 0 when the book never reached it
 * (no event on that day leaves equity where the previous day closed). */
static double day_ratio(const struct cli_session *s, const struct book_opts *o,
                        const struct wd_figures *f)
{
    if (o->has_date && wd_book_day(s->book) != o->date_day) {
        return 0.0;
    }
    return wd_figures_pnl_ratio(f);
}

static void json_pnl_fields(struct jw *w, const struct cli_session *s,
                            const struct book_opts *o, const struct wd_figures *f)
{
    jw_key(w, "equity");
    jw_fix(w, f->equity);
    jw_key(w, "realized");
    jw_fix(w, f->realized);
    jw_key(w, "unrealized");
    jw_fix(w, wd_figures_unrealized(f));
    jw_key(w, "total");
    jw_fix(w, f->realized + wd_figures_unrealized(f));
    jw_key(w, "pnl_ratio");
    jw_double(w, day_ratio(s, o, f));
    jw_key(w, "capital");
    jw_fix(w, f->capital);
    jw_key(w, "commission");
    jw_fix(w, f->commission);
}

static void json_dd_fields(struct jw *w, const struct wd_figures *f)
{
    jw_key(w, "peak_equity");
    jw_fix(w, f->peak);
    jw_key(w, "equity");
    jw_fix(w, f->equity);
    jw_key(w, "drawdown");
    jw_double(w, f->drawdown);
    jw_key(w, "max_drawdown");
    jw_double(w, f->max_drawdown);
}

static void report_day(const struct cli_session *s, const struct book_opts *o, char *buf,
                       size_t cap)
{
    int64_t day = o->has_date ? o->date_day : wd_book_day(s->book);
    if (day == INT64_MIN) {
        snprintf(buf, cap, "(no events)");
    } else {
        wd_date_format(day, buf, cap);
    }
}

static void print_figures(const struct cli_session *s, const struct book_opts *o,
                          enum book_cmd cmd)
{
    size_t n;
    struct acct_ref *accts = sorted_accounts(s, &n);
    const struct wd_figures *firm = wd_book_firm(s->book);
    char day[32];
    if (accts == NULL) {
        cli_errorf("out of memory");
        return;
    }
    report_day(s, o, day, sizeof day);
    if (o->json) {
        struct jw w;
        jw_init(&w, stdout);
        jw_obj_begin(&w);
        jw_key(&w, "as_of");
        jw_str(&w, day);
        if (cmd == CMD_PNL) {
            json_pnl_fields(&w, s, o, firm);
        } else {
            json_dd_fields(&w, firm);
        }
        jw_key(&w, "accounts");
        jw_obj_begin(&w);
        for (size_t i = 0; i < n; i++) {
            const struct wd_figures *f = wd_book_account(s->book, accts[i].id);
            jw_key(&w, accts[i].name);
            jw_obj_begin(&w);
            if (cmd == CMD_PNL) {
                json_pnl_fields(&w, s, o, f);
            } else {
                json_dd_fields(&w, f);
            }
            jw_obj_end(&w);
        }
        jw_obj_end(&w);
        jw_obj_end(&w);
        jw_finish(&w);
        free(accts);
        return;
    }
    printf("As of %s (%s)\n\n", day, s->cfg.session.tz);
    if (cmd == CMD_PNL) {
        printf("%-12s %18s %16s %16s %16s %10s\n", "ACCOUNT", "EQUITY", "REALIZED",
               "UNREALIZED", "TOTAL", "DAILY PNL");
    } else {
        printf("%-12s %18s %18s %10s %10s\n", "ACCOUNT", "PEAK EQUITY", "EQUITY", "DRAWDOWN",
               "MAX DD");
    }
    for (size_t i = 0; i <= n; i++) {
        const struct wd_figures *f = i < n ? wd_book_account(s->book, accts[i].id) : firm;
        const char *name = i < n ? accts[i].name : "FIRM";
        char a[48], b[48], c[48], d[48];
        if (i == n && n > 1) {
            printf("%.*s\n", cmd == CMD_PNL ? 93 : 72,
                   "----------------------------------------------------------------------"
                   "-----------------------");
        } else if (i == n) {
            break; /* one account: the firm is the same line */
        }
        if (cmd == CMD_PNL) {
            cli_fmt_money(f->equity, a, sizeof a);
            cli_fmt_money(f->realized, b, sizeof b);
            cli_fmt_money(wd_figures_unrealized(f), c, sizeof c);
            cli_fmt_money(f->realized + wd_figures_unrealized(f), d, sizeof d);
            printf("%-12s %18s %16s %16s %16s %9.2f%%\n", name, a, b, c, d,
                   day_ratio(s, o, f) * 100.0);
        } else {
            cli_fmt_money(f->peak, a, sizeof a);
            cli_fmt_money(f->equity, b, sizeof b);
            printf("%-12s %18s %18s %9.2f%% %9.2f%%\n", name, a, b, f->drawdown * 100.0,
                   f->max_drawdown * 100.0);
        }
    }
    free(accts);
}

static int run_book_cmd(enum book_cmd cmd, int argc, char **argv)
{
    struct book_opts o;
    struct cli_session s;
    int rc = parse_opts(cmd, argc, argv, &o);
    if (rc != CLI_OK) {
        return rc < 0 ? CLI_OK : rc;
    }
    if (o.url != NULL) {
        static const char *const what[] = {"positions", "pnl", "drawdown"};
        return cli_remote_live(o.url, what[cmd]);
    }
    rc = cli_session_open(&s, o.config);
    if (rc == CLI_OK && o.has_date) {
        s.cutoff_ns = wd_tz_day_start_ns(s.tz, o.date_day + 1);
    }
    if (rc == CLI_OK) {
        rc = cli_session_run(&s, o.events);
    }
    if (rc == CLI_OK) {
        cli_session_ensure_default_account(&s);
        if (cmd == CMD_POSITIONS) {
            print_positions(&s, o.json);
        } else {
            print_figures(&s, &o, cmd);
        }
        if (fflush(stdout) != 0 || ferror(stdout)) {
            cli_errorf("cannot write output");
            rc = CLI_FAIL;
        }
    }
    cli_session_close(&s);
    return rc;
}

int cmd_positions(int argc, char **argv) { return run_book_cmd(CMD_POSITIONS, argc, argv); }
int cmd_pnl(int argc, char **argv) { return run_book_cmd(CMD_PNL, argc, argv); }
int cmd_drawdown(int argc, char **argv) { return run_book_cmd(CMD_DRAWDOWN, argc, argv); }
