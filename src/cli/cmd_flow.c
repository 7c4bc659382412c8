/*
 * `warden rejects` (P1-3 step 1: rejection rate and top reasons, the
 * playbook's `grep reject | sort | uniq -c | sort -rn`) and `warden latency`
 * (P2-1: intent->ack percentiles). Both replay the events through the engine
 * (trading states from the store, nothing written) so that the gate's
 * decisions are known; the counting is the core's (src/core/flow.c).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cmds.h"
#include "cli/jsonout.h"
#include "warden/flow.h"
#include "warden/timeutil.h"

/* Acks in the sliding window before its rate counts: the P1-3 detector's
 * minimum (docs/SCENARIOS.md). */
#define PEAK_MIN_ACKS 20u

static const char common_opts[] =
    "      --start T        count from T: RFC 3339 (2025-11-17T14:30:00Z) or a date\n"
    "                       YYYY-MM-DD (local midnight in session.tz)\n"
    "      --end T          count until T, exclusive (a date: through that day)\n"
    "  -e, --events FILE    JSON Lines events ('-' or none: stdin)\n"
    "  -c, --config FILE    YAML configuration (limits, detect, session)\n"
    "      --db PATH        store to read trading states from (default: store.path)\n"
    "  -j, --json           one JSON object instead of the tables\n"
    "  -h, --help           this help\n"
    "\n"
    "Every event is replayed through the engine (so the gate decides as it would\n"
    "have); only what happens inside the window is counted.\n"
    "Exit status: 0 ok, 1 input unreadable, 2 usage or bad config.\n";

static const char rejects_usage[] =
    "Usage: warden rejects [--events FILE | FILE] [--start T] [--end T] [--json]\n"
    "                      [--config FILE] [--db PATH]\n"
    "\n"
    "Rejection rate and top reasons (the playbook's P1-3 step 1, `sort | uniq -c |\n"
    "sort -rn`), two ways:\n"
    "  broker  acks with status rejected over acks accepted or rejected\n"
    "          (cancellations apart), by reason; and the highest rate over the\n"
    "          sliding window of the reject_spike detector (the last\n"
    "          detect.reject.window_orders acks within window_s, from 20 acks)\n"
    "  gate    intents warden's gate rejected over intents decided, by reason\n"
    "Reasons are sorted by count, most first, then by name.\n"
    "\n"
    "Options:\n";

static const char latency_usage[] =
    "Usage: warden latency [--events FILE | FILE] [--start T] [--end T] [--json]\n"
    "                      [--config FILE] [--db PATH]\n"
    "\n"
    "Intent->ack latency (the playbook's P2-1): the first ack of each intent id\n"
    "minus the intent's ts, as p50 / p95 / p99 / max and count, per account (the\n"
    "intent's) and for the firm. Percentiles come from an HDR histogram: never\n"
    "low, at most 1/256 (0.4%) high, never above the max, which is exact.\n"
    "Also: acks whose id no intent carried, intents the gate accepted that were\n"
    "never acked, and acks timed before their intent (no latency taken). A\n"
    "latency is counted when its ack is inside the window.\n"
    "\n"
    "Options:\n";

enum flow_cmd { CMD_REJECTS, CMD_LATENCY };

struct flow_run {
    struct cli_replay rp;
    struct wd_flow *flow;
    enum wd_status st; /* first error from the core */
};

static void flow_event(void *ctx, const struct wd_event *ev, uint64_t event_no)
{
    struct flow_run *r = ctx;
    (void)event_no;
    if (r->st != WD_OK) {
        return;
    }
    if (ev->type == WD_EV_INTENT) {
        r->st = wd_flow_intent(r->flow, ev);
    } else if (ev->type == WD_EV_ACK) {
        r->st = wd_flow_ack(r->flow, ev);
    }
}

static void flow_output(void *ctx, const struct wd_output *o)
{
    struct flow_run *r = ctx;
    if (o->type == WD_OUT_DECISION && r->st == WD_OK) {
        r->st = wd_flow_decision(r->flow, o->ts_ns, o->u.decision.id, o->u.decision.accept,
                                 o->u.decision.reason);
    }
}

/* ---- output ------------------------------------------------------------------ */

static void window_text(const struct cli_opts *o, int64_t start, int64_t end)
{
    char a[40], b[40];
    if (o->start == NULL && o->end == NULL) {
        printf("over the whole input\n");
        return;
    }
    wd_time_format_utc(start, a, sizeof a);
    wd_time_format_utc(end, b, sizeof b);
    printf("from %s to %s (UTC, end exclusive)\n", o->start ? a : "the first event",
           o->end ? b : "the last event");
}

static void window_json(struct jw *w, const struct cli_opts *o, int64_t start, int64_t end)
{
    if (o->start != NULL) {
        jw_key(w, "start");
        jw_int(w, start);
    }
    if (o->end != NULL) {
        jw_key(w, "end");
        jw_int(w, end);
    }
}

/* The reasons of t, sorted; caller frees. */
static struct wd_tally_entry *sorted(const struct wd_tally *t, size_t *n)
{
    size_t cap = wd_tally_size(t);
    struct wd_tally_entry *v = calloc(cap ? cap : 1u, sizeof *v);
    *n = v != NULL ? wd_tally_sorted(t, v) : 0u;
    return v;
}

static void reasons_json(struct jw *w, const struct wd_tally *t)
{
    size_t n;
    struct wd_tally_entry *v = sorted(t, &n);
    jw_key(w, "reasons");
    jw_arr_begin(w);
    for (size_t i = 0; i < n; i++) {
        jw_obj_begin(w);
        jw_key(w, "count");
        jw_int(w, (int64_t)v[i].count);
        jw_key(w, "reason");
        /* The tally keeps reasons as raw JSON string content. */
        jw_str_raw(w, v[i].reason, strlen(v[i].reason));
        jw_obj_end(w);
    }
    jw_arr_end(w);
    free(v);
}

static void reasons_text(const struct wd_tally *t)
{
    size_t n;
    struct wd_tally_entry *v = sorted(t, &n);
    if (n > 0) {
        printf("  %7s  %s\n", "COUNT", "REASON");
    }
    for (size_t i = 0; i < n; i++) {
        printf("  %7" PRIu64 "  %s\n", v[i].count, v[i].reason);
    }
    free(v);
}

static void print_rejects(const struct flow_run *r, const struct cli_opts *o, int64_t start,
                          int64_t end)
{
    struct wd_flow_stats s;
    const struct wd_config *c = &r->rp.cfg;
    wd_flow_stats(r->flow, &s);
    if (o->json) {
        struct jw w;
        jw_init(&w, stdout);
        jw_obj_begin(&w);
        window_json(&w, o, start, end);
        jw_key(&w, "broker");
        jw_obj_begin(&w);
        jw_key(&w, "acks");
        jw_int(&w, (int64_t)s.acks);
        jw_key(&w, "accepted");
        jw_int(&w, (int64_t)s.acks_accepted);
        jw_key(&w, "rejected");
        jw_int(&w, (int64_t)s.acks_rejected);
        jw_key(&w, "cancelled");
        jw_int(&w, (int64_t)s.acks_cancelled);
        jw_key(&w, "rate");
        jw_double(&w, s.broker_rate);
        jw_key(&w, "peak_rate");
        jw_double(&w, s.peak_rate);
        if (s.peak_acks > 0) {
            jw_key(&w, "peak_ts");
            jw_int(&w, s.peak_ts_ns);
            jw_key(&w, "peak_acks");
            jw_int(&w, s.peak_acks);
        }
        jw_key(&w, "open_rate");
        jw_double(&w, c->detect.reject.open);
        reasons_json(&w, wd_flow_broker_reasons(r->flow));
        jw_obj_end(&w);
        jw_key(&w, "gate");
        jw_obj_begin(&w);
        jw_key(&w, "intents");
        jw_int(&w, (int64_t)s.decisions);
        jw_key(&w, "rejected");
        jw_int(&w, (int64_t)s.gate_rejected);
        jw_key(&w, "rate");
        jw_double(&w, s.gate_rate);
        reasons_json(&w, wd_flow_gate_reasons(r->flow));
        jw_obj_end(&w);
        jw_obj_end(&w);
        jw_finish(&w);
        return;
    }
    printf("Rejections ");
    window_text(o, start, end);
    printf("\nBroker: %" PRIu64 " rejected of %" PRIu64 " acks accepted or rejected = %.2f%%"
           " (%" PRIu64 " cancelled)\n",
           s.acks_rejected, s.acks_accepted + s.acks_rejected, s.broker_rate * 100.0,
           s.acks_cancelled);
    if (s.peak_acks > 0) {
        char ts[40];
        wd_time_format_utc(s.peak_ts_ns, ts, sizeof ts);
        printf("  peak %.2f%% over the last %u acks at %s (P1-3 opens above %g%%)\n",
               s.peak_rate * 100.0, s.peak_acks, ts, c->detect.reject.open * 100.0);
    } else {
        printf("  peak: fewer than %u acks in any %" PRId64 " s window\n", PEAK_MIN_ACKS,
               c->detect.reject.window_s);
    }
    reasons_text(wd_flow_broker_reasons(r->flow));
    printf("\nGate: %" PRIu64 " rejected of %" PRIu64 " intents = %.2f%%\n", s.gate_rejected,
           s.decisions, s.gate_rate * 100.0);
    reasons_text(wd_flow_gate_reasons(r->flow));
}

static double ms(int64_t ns) { return (double)ns / 1e6; }

static void latency_json(struct jw *w, const struct wd_flow_latency *l)
{
    jw_key(w, "count");
    jw_int(w, (int64_t)l->count);
    jw_key(w, "p50_ms");
    jw_double(w, ms(l->p50_ns));
    jw_key(w, "p95_ms");
    jw_double(w, ms(l->p95_ns));
    jw_key(w, "p99_ms");
    jw_double(w, ms(l->p99_ns));
    jw_key(w, "max_ms");
    jw_double(w, ms(l->max_ns));
}

static void latency_row(const char *name, const struct wd_flow_latency *l)
{
    if (l->count == 0) {
        printf("%-14s %8s %12s %12s %12s %12s\n", name, "0", "-", "-", "-", "-");
        return;
    }
    printf("%-14s %8" PRIu64 " %12.3f %12.3f %12.3f %12.3f\n", name, l->count, ms(l->p50_ns),
           ms(l->p95_ns), ms(l->p99_ns), ms(l->max_ns));
}

struct acct_ref {
    uint32_t id;
    const char *name;
};

static int cmp_acct(const void *a, const void *b)
{
    return strcmp(((const struct acct_ref *)a)->name, ((const struct acct_ref *)b)->name);
}

static void print_latency(const struct flow_run *r, const struct cli_opts *o, int64_t start,
                          int64_t end)
{
    struct wd_flow_stats s;
    const struct wd_config *c = &r->rp.cfg;
    const struct wd_intern *names = wd_engine_accounts(r->rp.engine);
    wd_flow_stats(r->flow, &s);
    uint32_t slots = wd_flow_account_slots(r->flow);
    struct acct_ref *v = calloc(slots ? slots : 1u, sizeof *v);
    size_t n = 0;
    struct wd_flow_latency l;
    for (uint32_t id = 0; v != NULL && id < slots; id++) {
        if (wd_flow_account_latency(r->flow, id, &l)) {
            v[n++] = (struct acct_ref){id, wd_intern_name(names, id)};
        }
    }
    qsort(v, n, sizeof *v, cmp_acct);
    if (o->json) {
        struct jw w;
        jw_init(&w, stdout);
        jw_obj_begin(&w);
        window_json(&w, o, start, end);
        latency_json(&w, &s.latency);
        jw_key(&w, "accounts");
        jw_obj_begin(&w);
        for (size_t i = 0; i < n; i++) {
            (void)wd_flow_account_latency(r->flow, v[i].id, &l);
            jw_key(&w, v[i].name);
            jw_obj_begin(&w);
            latency_json(&w, &l);
            jw_obj_end(&w);
        }
        jw_obj_end(&w);
        jw_key(&w, "acks_without_intent");
        jw_int(&w, (int64_t)s.acks_without_intent);
        jw_key(&w, "never_acked");
        jw_int(&w, (int64_t)s.never_acked);
        jw_key(&w, "acks_before_intent");
        jw_int(&w, (int64_t)s.negative);
        jw_key(&w, "untracked");
        jw_int(&w, (int64_t)s.untracked);
        jw_key(&w, "open_p95_ms");
        jw_double(&w, c->detect.latency.open_p95_ms);
        jw_obj_end(&w);
        jw_finish(&w);
        free(v);
        return;
    }
    printf("Intent->ack latency ");
    window_text(o, start, end);
    printf("(milliseconds; percentiles at most 0.4%% high, max exact)\n\n");
    printf("%-14s %8s %12s %12s %12s %12s\n", "ACCOUNT", "COUNT", "P50", "P95", "P99", "MAX");
    for (size_t i = 0; i < n; i++) {
        (void)wd_flow_account_latency(r->flow, v[i].id, &l);
        latency_row(v[i].name, &l);
    }
    latency_row("FIRM", &s.latency);
    printf("\n%" PRIu64 " ack%s without an intent; %" PRIu64 " intent%s accepted by the gate "
           "never acked",
           s.acks_without_intent, s.acks_without_intent == 1 ? "" : "s", s.never_acked,
           s.never_acked == 1 ? "" : "s");
    if (s.negative > 0) {
        printf("; %" PRIu64 " ack%s timed before the intent", s.negative,
               s.negative == 1 ? "" : "s");
    }
    if (s.untracked > 0) {
        printf("; %" PRIu64 " with an id too long to track", s.untracked);
    }
    printf("\nP2-1 (high_latency) opens when the p95 over %" PRId64 " s exceeds %g ms",
           c->detect.latency.window_s, c->detect.latency.open_p95_ms);
    if (s.latency.count > 0) {
        printf("; the firm's p95 above is %s that",
               ms(s.latency.p95_ns) > c->detect.latency.open_p95_ms ? "OVER" : "under");
    }
    printf("\n");
    free(v);
}

/* ---- the commands --------------------------------------------------------------- */

static int run_flow_cmd(enum flow_cmd cmd, int argc, char **argv)
{
    struct cli_opts o;
    struct flow_run r;
    int64_t start, end;
    memset(&r, 0, sizeof r);
    const char *usage = cmd == CMD_REJECTS ? rejects_usage : latency_usage;
    char help[4096];
    snprintf(help, sizeof help, "%s%s", usage, common_opts);
    int rc = cli_parse_opts(argc, argv, help, CLI_OPT_WINDOW | CLI_OPT_DB, &o);
    if (rc != CLI_OK) {
        return rc < 0 ? CLI_OK : rc;
    }
    r.rp.path = o.events;
    r.rp.on_event = flow_event;
    r.rp.event_ctx = &r;
    if ((rc = cli_replay_open(&r.rp, o.config, o.db, flow_output, &r)) != CLI_OK ||
        (rc = cli_window(&o, r.rp.tz, &start, &end)) != CLI_OK) {
        goto out;
    }
    const struct wd_config *c = &r.rp.cfg;
    struct wd_flow_opts fo = {.start_ns = start,
                              .end_ns = end,
                              .reject_window_orders = c->detect.reject.window_orders,
                              .reject_window_s = c->detect.reject.window_s,
                              .reject_min_acks = PEAK_MIN_ACKS};
    if (wd_flow_new(&fo, &r.flow) != WD_OK) {
        cli_errorf("out of memory");
        rc = CLI_FAIL;
        goto out;
    }
    if ((rc = cli_replay_run(&r.rp)) != CLI_OK) {
        goto out;
    }
    if (r.st != WD_OK) {
        cli_errorf("%s: %s", argv[0], wd_status_str(r.st));
        rc = CLI_FAIL;
        goto out;
    }
    if (cmd == CMD_REJECTS) {
        print_rejects(&r, &o, start, end);
    } else {
        print_latency(&r, &o, start, end);
    }
    if (r.rp.malformed > 0) {
        fprintf(stderr, "warden: %s: %" PRIu64 " malformed lines skipped\n", argv[0],
                r.rp.malformed);
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        cli_errorf("cannot write output");
        rc = CLI_FAIL;
    }
out:
    wd_flow_free(r.flow);
    cli_replay_close(&r.rp);
    return rc;
}

int cmd_rejects(int argc, char **argv) { return run_flow_cmd(CMD_REJECTS, argc, argv); }
int cmd_latency(int argc, char **argv) { return run_flow_cmd(CMD_LATENCY, argc, argv); }
