/*
 * `warden gaps` (the playbook's find_data_gaps, P2-2 step 4: "What time
 * range is missing?"): the missing intervals of market data per symbol
 * between --start and --end, and a completeness summary per symbol. The
 * logic is the core's (src/core/gaps.c); this file reads, sorts and prints.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cmds.h"
#include "cli/jsonout.h"
#include "warden/gaps.h"
#include "warden/timeutil.h"

static const char usage_text[] =
    "Usage: warden gaps --start T [--end T] [--events FILE | FILE] [--config FILE] [--json]\n"
    "\n"
    "Missing market data per symbol between --start and --end (the playbook's\n"
    "find_data_gaps), in trading hours only (session.open-close on session.days,\n"
    "not on session.holidays, in session.tz):\n"
    "  bars    bars with interval_s are expected at open, open + interval, ...;\n"
    "          missing ones in a row are one gap [first missing bar start, next\n"
    "          bar start)\n"
    "  quotes  quotes, trades (and bars without interval_s): a silence longer than\n"
    "          detect.staleness_s (60 s) while the market is open is a gap\n"
    "Silence counts from --start. Then, per symbol: bars expected and received,\n"
    "or time covered, as a completeness ratio against detect.completeness.min\n"
    "(95%). Symbols in limits.symbols with no data at all are gaps too.\n"
    "Events must be in time order per symbol; others are counted as ignored.\n"
    "\n"
    "Options:\n"
    "      --start T        window start (required): RFC 3339 (2025-11-17T14:30:00Z)\n"
    "                       or a date YYYY-MM-DD, local midnight in session.tz\n"
    "      --end T          window end, exclusive (a date: through that day);\n"
    "                       default: the time of the last event (whose own data\n"
    "                       still counts)\n"
    "  -e, --events FILE    JSON Lines events ('-' or none: stdin)\n"
    "  -c, --config FILE    YAML configuration (session, detect.staleness_s, ...)\n"
    "  -j, --json           one JSON object instead of the tables\n"
    "  -h, --help           this help\n"
    "\n"
    "Exit status: 0 ok (gaps or not), 1 input unreadable, 2 usage or bad config.\n";

struct gaps_run {
    struct wd_gaps *g;
    int64_t last_ts;
    bool seen;
    enum wd_status st; /* first error from the core */
};

static void on_event(void *ctx, const struct wd_event *ev, uint64_t event_no)
{
    struct gaps_run *r = ctx;
    (void)event_no;
    if (!r->seen || ev->ts_ns > r->last_ts) {
        r->last_ts = ev->ts_ns;
        r->seen = true;
    }
    if (r->st == WD_OK) {
        r->st = wd_gaps_add(r->g, ev);
    }
}

/* Sorting by symbol name, then kind, then start. */
static const struct wd_intern *sort_names;

static int cmp_gap(const void *a, const void *b)
{
    const struct wd_gap *x = *(const struct wd_gap *const *)a;
    const struct wd_gap *y = *(const struct wd_gap *const *)b;
    int c = strcmp(wd_intern_name(sort_names, x->symbol), wd_intern_name(sort_names, y->symbol));
    if (c == 0) {
        c = (int)x->kind - (int)y->kind;
    }
    return c != 0 ? c : (x->start_ns > y->start_ns) - (x->start_ns < y->start_ns);
}

static int cmp_stream(const void *a, const void *b)
{
    const struct wd_gap_stream *x = a, *y = b;
    int c = strcmp(wd_intern_name(sort_names, x->symbol), wd_intern_name(sort_names, y->symbol));
    return c != 0 ? c : (int)x->kind - (int)y->kind;
}

static double seconds(int64_t ns) { return (double)ns / (double)WD_NS_PER_S; }

struct window {
    int64_t start, end;
    bool to_last; /* end is the last event's time, not --end */
};

static void print_json(const struct cli_session *s, const struct wd_gap *const *gv, size_t ng,
                       const struct wd_gap_stream *sv, size_t ns, const struct window *win)
{
    struct jw w;
    jw_init(&w, stdout);
    jw_obj_begin(&w);
    jw_key(&w, "start");
    jw_int(&w, win->start);
    jw_key(&w, "end");
    jw_int(&w, win->end);
    jw_key(&w, "end_is_last_event");
    jw_bool(&w, win->to_last);
    jw_key(&w, "tz");
    jw_str(&w, s->cfg.session.tz);
    jw_key(&w, "staleness_s");
    jw_int(&w, s->cfg.detect.staleness_s);
    jw_key(&w, "completeness_min");
    jw_double(&w, s->cfg.detect.completeness.min);
    jw_key(&w, "gaps");
    jw_arr_begin(&w);
    for (size_t i = 0; i < ng; i++) {
        jw_obj_begin(&w);
        jw_key(&w, "symbol");
        jw_str(&w, wd_intern_name(&s->symbols, gv[i]->symbol));
        jw_key(&w, "kind");
        jw_str(&w, wd_gap_kind_name(gv[i]->kind));
        jw_key(&w, "start");
        jw_int(&w, gv[i]->start_ns);
        jw_key(&w, "end");
        jw_int(&w, gv[i]->end_ns);
        jw_key(&w, "duration_s");
        jw_double(&w, seconds(gv[i]->end_ns - gv[i]->start_ns));
        jw_obj_end(&w);
    }
    jw_arr_end(&w);
    jw_key(&w, "symbols");
    jw_arr_begin(&w);
    for (size_t i = 0; i < ns; i++) {
        const struct wd_gap_stream *st = &sv[i];
        jw_obj_begin(&w);
        jw_key(&w, "symbol");
        jw_str(&w, wd_intern_name(&s->symbols, st->symbol));
        jw_key(&w, "kind");
        jw_str(&w, wd_gap_kind_name(st->kind));
        if (st->kind == WD_GAP_BARS) {
            jw_key(&w, "interval_s");
            jw_int(&w, st->interval_s);
            jw_key(&w, "expected");
            jw_int(&w, (int64_t)st->expected);
        }
        jw_key(&w, "received");
        jw_int(&w, (int64_t)st->received);
        jw_key(&w, "open_s");
        jw_double(&w, seconds(st->open_ns));
        jw_key(&w, "gaps");
        jw_int(&w, (int64_t)st->gaps);
        jw_key(&w, "missing_s");
        jw_double(&w, seconds(st->missing_ns));
        jw_key(&w, "completeness");
        jw_double(&w, st->completeness);
        jw_key(&w, "ok");
        jw_bool(&w, st->completeness >= s->cfg.detect.completeness.min);
        jw_key(&w, "ignored");
        jw_int(&w, (int64_t)st->ignored);
        jw_obj_end(&w);
    }
    jw_arr_end(&w);
    jw_obj_end(&w);
    jw_finish(&w);
}

static void print_table(const struct cli_session *s, const struct wd_gap *const *gv, size_t ng,
                        const struct wd_gap_stream *sv, size_t ns, const struct window *win)
{
    char a[40], b[40], d[40];
    const struct wd_config *c = &s->cfg;
    wd_time_format_utc(win->start, a, sizeof a);
    wd_time_format_utc(win->end, b, sizeof b);
    printf("Market data gaps from %s to %s (UTC, %s)\n", a, b,
           win->to_last ? "through the last event" : "end exclusive");
    printf("trading hours %02d:%02d-%02d:%02d %s; quotes stale after %" PRId64 " s\n\n",
           c->session.open_min / 60, c->session.open_min % 60, c->session.close_min / 60,
           c->session.close_min % 60, c->session.tz, c->detect.staleness_s);
    printf("%-10s %-7s %-24s  %-24s  %12s\n", "SYMBOL", "KIND", "START (UTC)", "END (UTC)",
           "DURATION");
    for (size_t i = 0; i < ng; i++) {
        wd_time_format_utc(gv[i]->start_ns, a, sizeof a);
        wd_time_format_utc(gv[i]->end_ns, b, sizeof b);
        cli_fmt_duration(gv[i]->end_ns - gv[i]->start_ns, d, sizeof d);
        printf("%-10s %-7s %-24s  %-24s  %12s\n", wd_intern_name(&s->symbols, gv[i]->symbol),
               wd_gap_kind_name(gv[i]->kind), a, b, d);
    }
    if (ng == 0) {
        printf("(no gaps)\n");
    }
    printf("\n%-10s %-7s %8s %9s %9s %5s %12s %9s  %s\n", "SYMBOL", "KIND", "INTERVAL",
           "EXPECTED", "RECEIVED", "GAPS", "MISSING", "COMPLETE", "STATUS");
    for (size_t i = 0; i < ns; i++) {
        const struct wd_gap_stream *st = &sv[i];
        char iv[24] = "-", ex[24] = "-";
        if (st->kind == WD_GAP_BARS) {
            snprintf(iv, sizeof iv, "%" PRId64 "s", st->interval_s);
            snprintf(ex, sizeof ex, "%" PRIu64, st->expected);
        }
        cli_fmt_duration(st->missing_ns, d, sizeof d);
        bool ok = st->completeness >= c->detect.completeness.min;
        printf("%-10s %-7s %8s %9s %9" PRIu64 " %5" PRIu64 " %12s %8.2f%%  %s",
               wd_intern_name(&s->symbols, st->symbol), wd_gap_kind_name(st->kind), iv, ex,
               st->received, st->gaps, d, st->completeness * 100.0, ok ? "ok" : "BELOW");
        if (!ok) {
            printf(" %g%%", c->detect.completeness.min * 100.0);
        }
        if (st->ignored > 0) {
            printf(" (%" PRIu64 " ignored)", st->ignored);
        }
        putchar('\n');
    }
    if (ns == 0) {
        printf("(no market data)\n");
    }
}

static int report(struct cli_session *s, const struct cli_opts *o, struct gaps_run *r,
                  const struct window *win)
{
    size_t ng = wd_gaps_count(r->g), ns = wd_gaps_stream_count(r->g);
    const struct wd_gap **gv = calloc(ng ? ng : 1u, sizeof *gv);
    struct wd_gap_stream *sv = calloc(ns ? ns : 1u, sizeof *sv);
    if (gv == NULL || sv == NULL) {
        free(gv);
        free(sv);
        cli_errorf("out of memory");
        return CLI_FAIL;
    }
    for (size_t i = 0; i < ng; i++) {
        gv[i] = wd_gaps_at(r->g, i);
    }
    for (size_t i = 0; i < ns; i++) {
        wd_gaps_stream(r->g, i, &sv[i]);
    }
    sort_names = &s->symbols;
    qsort(gv, ng, sizeof *gv, cmp_gap);
    qsort(sv, ns, sizeof *sv, cmp_stream);
    if (o->json) {
        print_json(s, gv, ng, sv, ns, win);
    } else {
        print_table(s, gv, ng, sv, ns, win);
    }
    fprintf(stderr, "warden: gaps: %" PRIu64 " events, %zu gap%s in %zu symbol stream%s\n",
            s->events, ng, ng == 1 ? "" : "s", ns, ns == 1 ? "" : "s");
    free(gv);
    free(sv);
    return CLI_OK;
}

/* The configured symbols must have data even if the input never names them. */
static enum wd_status expect_configured(struct cli_session *s, struct wd_gaps *g)
{
    for (size_t i = 0; i < s->cfg.limits.n_symbols; i++) {
        const char *name = s->cfg.limits.symbols[i];
        uint32_t id;
        enum wd_status st = wd_intern_get(&s->symbols, name, strlen(name), &id);
        if (st == WD_OK) {
            st = wd_gaps_expect(g, id);
        }
        if (st != WD_OK) {
            return st;
        }
    }
    return WD_OK;
}

int cmd_gaps(int argc, char **argv)
{
    struct cli_opts o;
    struct cli_session s;
    struct gaps_run r = {0};
    int64_t start, end;
    int rc = cli_parse_opts(argc, argv, usage_text, CLI_OPT_WINDOW, &o);
    if (rc != CLI_OK) {
        return rc < 0 ? CLI_OK : rc;
    }
    if (o.start == NULL) {
        cli_errorf("gaps: --start is required (RFC 3339 time, or a date YYYY-MM-DD)");
        return CLI_USAGE;
    }
    if ((rc = cli_session_open(&s, o.config)) != CLI_OK ||
        (rc = cli_window(&o, s.tz, &start, &end)) != CLI_OK) {
        goto out;
    }
    struct wd_gaps_opts go = {.cfg = &s.cfg, .tz = s.tz, .start_ns = start, .end_ns = end};
    if (wd_gaps_new(&go, &r.g) != WD_OK || expect_configured(&s, r.g) != WD_OK) {
        cli_errorf("out of memory");
        rc = CLI_FAIL;
        goto out;
    }
    s.on_event = on_event;
    s.event_ctx = &r;
    if ((rc = cli_session_run(&s, o.events)) != CLI_OK) {
        goto out;
    }
    if (end == INT64_MAX) {
        if (!r.seen || r.last_ts <= start) {
            cli_errorf("gaps: no event after --start %s: give --end", o.start);
            rc = CLI_USAGE;
            goto out;
        }
        end = r.last_ts;
    }
    if (r.st == WD_OK) {
        r.st = wd_gaps_finish(r.g, end);
    }
    if (r.st != WD_OK) {
        cli_errorf("gaps: %s", r.st == WD_EFULL ? "more than 1,000,000 gaps: narrow the window"
                                                : wd_status_str(r.st));
        rc = CLI_FAIL;
        goto out;
    }
    struct window win = {start, end, o.end == NULL};
    rc = report(&s, &o, &r, &win);
    if (rc == CLI_OK && (fflush(stdout) != 0 || ferror(stdout))) {
        cli_errorf("cannot write output");
        rc = CLI_FAIL;
    }
out:
    wd_gaps_free(r.g);
    cli_session_close(&s);
    return rc;
}
