/*
 * The daemon's metrics and live figures (src/cli/serve.h).
 */
#include "cli/serve.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli/jsonout.h"
#include "kafka/kafka.h"
#include "store/store.h"
#include "warden/book.h"
#include "warden/incident.h"
#include "warden/severity.h"
#include "warden/timeutil.h"

enum wd_status cli_serve_init(struct cli_serve *s)
{
    memset(s, 0, sizeof *s);
    s->consumer_lag = -1;
    s->intents = calloc(CLI_SERVE_INTENTS, sizeof *s->intents);
    if (s->intents == NULL || wd_metrics_new(&s->m) != WD_OK) {
        cli_serve_destroy(s);
        return WD_ENOMEM;
    }
    return WD_OK;
}

void cli_serve_destroy(struct cli_serve *s)
{
    wd_metrics_free(s->m);
    free(s->intents);
    free(s->md_ts);
    memset(s, 0, sizeof *s);
}

/* FNV-1a of the order id, never 0 (0 marks a free slot). */
static uint64_t id_hash(struct wd_str id)
{
    uint64_t h = 1469598103934665603u;
    for (uint32_t i = 0; i < id.len; i++) {
        h = (h ^ (unsigned char)id.ptr[i]) * 1099511628211u;
    }
    return h != 0 ? h : 1;
}

static void market_data(struct cli_serve *s, uint32_t symbol, int64_t ts)
{
    if (symbol == WD_NO_ID) {
        return;
    }
    if (symbol >= s->md_cap) {
        uint32_t cap = s->md_cap != 0 ? s->md_cap : 64;
        while (cap <= symbol) {
            cap *= 2;
        }
        int64_t *v = realloc(s->md_ts, cap * sizeof *v);
        if (v == NULL) {
            return; /* this symbol's staleness waits for memory */
        }
        memset(v + s->md_cap, 0, (cap - s->md_cap) * sizeof *v);
        s->md_ts = v;
        s->md_cap = cap;
    }
    if (ts > s->md_ts[symbol]) {
        s->md_ts[symbol] = ts;
    }
}

#define CONSUMER_LAG "consumer_lag"

void cli_serve_event(void *ctx, const struct wd_event *ev)
{
    struct cli_serve *s = ctx;
    if (ev->type == WD_EV_INTENT) {
        uint64_t h = id_hash(ev->u.intent.id);
        s->intents[h & (CLI_SERVE_INTENTS - 1)] = (struct cli_serve_intent){h, ev->ts_ns};
    } else if (ev->type == WD_EV_ACK) {
        uint64_t h = id_hash(ev->u.ack.id);
        struct cli_serve_intent *slot = &s->intents[h & (CLI_SERVE_INTENTS - 1)];
        if (slot->hash == h) {
            int64_t latency = ev->ts_ns - slot->ts_ns;
            slot->hash = 0;
            if (latency >= 0 && s->pending_n < CLI_SERVE_PENDING) {
                s->pending[s->pending_n++] = latency;
            }
        }
    } else if (ev->type == WD_EV_QUOTE || ev->type == WD_EV_TRADE || ev->type == WD_EV_BAR) {
        market_data(s, ev->symbol, ev->ts_ns);
    } else if (ev->type == WD_EV_METRIC && ev->u.metric.name.len == sizeof CONSUMER_LAG - 1 &&
               memcmp(ev->u.metric.name.ptr, CONSUMER_LAG, sizeof CONSUMER_LAG - 1) == 0 &&
               ev->u.metric.value >= 0) {
        s->consumer_lag = ev->u.metric.value; /* SPEC section 2: the consumer's own report */
    }
}

/* The decisions since the last call into the ring of the last N. */
static void decisions(struct cli_serve *s, uint64_t accepted, uint64_t rejected)
{
    for (int rej = 0; rej < 2; rej++) {
        uint64_t *seen = rej ? &s->rejected : &s->accepted;
        uint64_t now = rej ? rejected : accepted;
        uint64_t n = now - *seen;
        *seen = now;
        if (n > CLI_SERVE_DECISIONS) {
            n = CLI_SERVE_DECISIONS;
        }
        for (uint64_t k = 0; k < n; k++) {
            if (s->ring_n == CLI_SERVE_DECISIONS) {
                s->ring_rejected -= s->ring[s->ring_i];
            } else {
                s->ring_n++;
            }
            s->ring[s->ring_i] = (uint8_t)rej;
            s->ring_rejected += (uint32_t)rej;
            s->ring_i = (s->ring_i + 1) % CLI_SERVE_DECISIONS;
        }
    }
    wd_metrics_set_rejection_ratio(s->m, s->ring_n != 0 ? (double)s->ring_rejected / s->ring_n
                                                        : 0.0);
}

static enum wd_status figures(struct cli_serve *s, struct wd_engine *engine)
{
    const struct wd_book *b = wd_engine_book(engine);
    const struct wd_intern *accounts = wd_engine_accounts(engine);
    enum wd_status st = WD_OK;
    char scope[WD_SCOPE_MAX + 16];
    if (s->figures_set && wd_book_changes(b) == s->book_changes) {
        goto states;
    }
    s->book_changes = wd_book_changes(b);
    s->figures_set = true;
    for (uint32_t id = 0; id <= wd_book_account_slots(b) && st == WD_OK; id++) {
        const struct wd_figures *f = id == 0 ? wd_book_firm(b) : wd_book_account(b, id - 1);
        if (f == NULL) {
            continue;
        }
        if (id == 0) {
            snprintf(scope, sizeof scope, "firm");
        } else {
            snprintf(scope, sizeof scope, "account:%s", wd_intern_name(accounts, id - 1));
        }
        st = wd_metrics_set_figures(s->m, scope, wd_fix_to_double(f->equity),
                                    wd_figures_pnl_ratio(f), f->drawdown, f->max_drawdown);
        double psr = wd_engine_psr(engine, id == 0 ? UINT32_MAX : id - 1);
        if (st == WD_OK && !isnan(psr)) {
            st = wd_metrics_set_psr(s->m, scope, psr);
        }
        if (st == WD_EINVAL) {
            st = WD_OK; /* an account name that makes no scope: not shown */
        }
    }
states:
    for (size_t i = 0; i < wd_engine_state_count(engine) && st == WD_OK; i++) {
        const struct wd_scope_state *ss = wd_engine_state_at(engine, i);
        st = wd_metrics_set_state(s->m, ss->scope, ss->state);
    }
    if (st == WD_OK) {
        struct wd_scope_state firm;
        wd_engine_get_state(engine, "firm", &firm);
        st = wd_metrics_set_state(s->m, "firm", firm.state);
    }
    return st;
}

static enum wd_status incidents(struct cli_serve *s, struct wd_store *store)
{
    struct wd_incident *v = NULL;
    size_t n = 0;
    struct wd_error err = {0};
    uint64_t count[4][WD_SC__COUNT];
    enum wd_status st = wd_store_incident_list_records(store, true, &v, &n, &err);
    if (st != WD_OK) {
        return WD_OK; /* the store said why elsewhere; the last counts stay */
    }
    memset(count, 0, sizeof count);
    for (size_t i = 0; i < n; i++) {
        if ((unsigned)v[i].severity < 4 && (unsigned)v[i].scenario < WD_SC__COUNT) {
            count[v[i].severity][v[i].scenario]++;
        }
    }
    free(v);
    wd_metrics_clear_incidents(s->m);
    for (unsigned sev = 0; sev < 4 && st == WD_OK; sev++) {
        for (unsigned sc = 0; sc < WD_SC__COUNT && st == WD_OK; sc++) {
            if (count[sev][sc] != 0) {
                st = wd_metrics_set_open_incidents(s->m, wd_severity_name((enum wd_severity)sev),
                                                   wd_scenario_name((enum wd_scenario)sc),
                                                   count[sev][sc]);
            }
        }
    }
    return st;
}

enum wd_status cli_serve_update(struct cli_serve *s, struct wd_engine *engine,
                                struct wd_store *store, uint64_t events, uint64_t malformed,
                                uint64_t accepted, uint64_t rejected, uint64_t incidents_total)
{
    enum wd_status st = wd_metrics_set_events(s->m, events, malformed);
    for (uint32_t i = 0; i < s->pending_n && st == WD_OK; i++) {
        st = wd_metrics_observe_latency(s->m, s->pending[i]);
    }
    s->pending_n = 0;
    if (s->consumer_lag >= 0) {
        wd_metrics_set_consumer_lag(s->m, (uint64_t)s->consumer_lag);
    }
    if (st != WD_OK) {
        return st;
    }
    decisions(s, accepted, rejected);
    if ((st = figures(s, engine)) == WD_OK && incidents_total != s->incidents_seen) {
        s->incidents_seen = incidents_total;
        st = incidents(s, store);
    }
    return st;
}

enum wd_status cli_serve_tick(struct cli_serve *s, struct wd_engine *engine,
                              struct wd_store *store, int64_t now_ns)
{
    const struct wd_intern *symbols = wd_engine_symbols(engine);
    enum wd_status st = figures(s, engine);
    if (st == WD_OK) {
        st = incidents(s, store);
    }
    for (uint32_t id = 0; id < s->md_cap && id < wd_intern_count(symbols) && st == WD_OK; id++) {
        if (s->md_ts[id] != 0) {
            double age = now_ns > s->md_ts[id] ? (double)(now_ns - s->md_ts[id]) / 1e9 : 0.0;
            st = wd_metrics_set_staleness(s->m, wd_intern_name(symbols, id), age);
        }
    }
    return st;
}

/* ---- the API's live routes ------------------------------------------------------ */

/* The pnl or drawdown keys of one set of figures (as `warden pnl|drawdown
 * --json` name them). */
static void live_figures(struct jw *w, bool pnl, const struct wd_figures *f)
{
    const struct live_key {
        const char *key;
        bool ratio; /* d, else v */
        wd_fix v;
        double d;
    } pnl_keys[] = {{"equity", false, f->equity, 0},
                    {"realized", false, f->realized, 0},
                    {"unrealized", false, wd_figures_unrealized(f), 0},
                    {"total", false, f->realized + wd_figures_unrealized(f), 0},
                    {"pnl_ratio", true, 0, wd_figures_pnl_ratio(f)},
                    {"capital", false, f->capital, 0},
                    {"commission", false, f->commission, 0}},
      dd_keys[] = {{"peak_equity", false, f->peak, 0},
                   {"equity", false, f->equity, 0},
                   {"drawdown", true, 0, f->drawdown},
                   {"max_drawdown", true, 0, f->max_drawdown}};
    size_t n = pnl ? sizeof pnl_keys / sizeof pnl_keys[0] : sizeof dd_keys / sizeof dd_keys[0];
    for (size_t i = 0; i < n; i++) {
        const struct live_key *k = pnl ? &pnl_keys[i] : &dd_keys[i];
        jw_key(w, k->key);
        if (k->ratio) {
            jw_double(w, k->d);
        } else {
            jw_fix(w, k->v);
        }
    }
}

int cli_serve_live(struct wd_engine *engine, const char *what, FILE *out)
{
    const struct wd_book *b = wd_engine_book(engine);
    const struct wd_intern *accounts = wd_engine_accounts(engine);
    const struct wd_intern *symbols = wd_engine_symbols(engine);
    bool positions = strcmp(what, "positions") == 0, pnl = strcmp(what, "pnl") == 0;
    struct jw w;
    if (!positions && !pnl && strcmp(what, "drawdown") != 0) {
        fputs("{\"error\":\"no such figure\"}\n", out);
        return 404;
    }
    jw_init(&w, out);
    jw_obj_begin(&w);
    if (positions) {
        jw_key(&w, "positions");
        jw_arr_begin(&w);
        for (size_t i = 0; i < wd_book_position_count(b); i++) {
            const struct wd_position *p = wd_book_position(b, i);
            wd_fix mark = 0;
            if (p->qty == 0) {
                continue;
            }
            (void)wd_book_mark(b, p->symbol, &mark);
            jw_obj_begin(&w);
            jw_key(&w, "account");
            jw_str(&w, wd_intern_name(accounts, p->account));
            jw_key(&w, "symbol");
            jw_str(&w, wd_intern_name(symbols, p->symbol));
            jw_key(&w, "qty");
            jw_fix(&w, p->qty);
            jw_key(&w, "avg_cost");
            jw_fix(&w, wd_position_avg_cost(p));
            jw_key(&w, "mark");
            jw_fix(&w, mark);
            jw_key(&w, "unrealized");
            jw_fix(&w, p->mtm - p->cost);
            jw_obj_end(&w);
        }
        jw_arr_end(&w);
    } else {
        char day[32] = "(no events)";
        if (wd_book_day(b) != INT64_MIN) {
            wd_date_format(wd_book_day(b), day, sizeof day);
        }
        jw_key(&w, "as_of");
        jw_str(&w, day);
        live_figures(&w, pnl, wd_book_firm(b));
        jw_key(&w, "accounts");
        jw_obj_begin(&w);
        for (uint32_t id = 0; id < wd_book_account_slots(b); id++) {
            const struct wd_figures *f = wd_book_account(b, id);
            if (f != NULL) {
                jw_key(&w, wd_intern_name(accounts, id));
                jw_obj_begin(&w);
                live_figures(&w, pnl, f);
                jw_obj_end(&w);
            }
        }
        jw_obj_end(&w);
    }
    jw_obj_end(&w);
    jw_finish(&w);
    return 200;
}

/* ---- the Kafka lag (GET kafka/lag) ------------------------------------------ */

static int lag_row_cmp(const void *a, const void *b)
{
    const struct wd_kafka_lag_row *x = a, *y = b;
    int c = strcmp(x->topic, y->topic);
    return c != 0 ? c : (x->partition > y->partition) - (x->partition < y->partition);
}

void cli_serve_lag_take(struct cli_serve_lag *l, const struct cli_kafka_run *k, int64_t now_ns)
{
    if (l->rows == NULL) {
        return; /* not allocated: the API says it has none */
    }
    l->n = cli_kafka_run_lag_rows(k, l->rows, CLI_KAFKA_LAG_MAX, &l->merge);
    qsort(l->rows, l->n, sizeof *l->rows, lag_row_cmp);
    l->updated_ns = now_ns;
}

/* An offset or a lag; -1 (unknown) as null. */
static void lag_int(struct jw *w, const char *key, int64_t v)
{
    jw_key(w, key);
    if (v < 0) {
        jw_null(w);
    } else {
        jw_int(w, v);
    }
}

int cli_serve_kafka_lag(const struct cli_serve_lag *l, int64_t open, int64_t close, FILE *out)
{
    struct jw w;
    int64_t total = 0;
    jw_init(&w, out);
    jw_obj_begin(&w);
    if (l == NULL || l->rows == NULL) {
        jw_key(&w, "error");
        jw_str(&w, "Kafka is not configured: warden run reads no Kafka topics (no kafka "
                   "section in the configuration, or --input other than kafka)");
        jw_obj_end(&w);
        return 404;
    }
    jw_key(&w, "group");
    jw_str(&w, l->group);
    jw_key(&w, "partitions");
    jw_arr_begin(&w);
    for (size_t i = 0; i < l->n; i++) {
        const struct wd_kafka_lag_row *r = &l->rows[i];
        jw_obj_begin(&w);
        jw_key(&w, "topic");
        jw_str(&w, r->topic);
        jw_key(&w, "partition");
        jw_int(&w, r->partition);
        lag_int(&w, "position", r->position);
        lag_int(&w, "high_watermark", r->high);
        lag_int(&w, "lag", r->lag);
        jw_obj_end(&w);
        total += r->lag > 0 ? r->lag : 0;
    }
    jw_arr_end(&w);
    jw_key(&w, "total");
    jw_int(&w, total);
    jw_key(&w, "open");
    jw_int(&w, open);
    jw_key(&w, "close");
    jw_int(&w, close);
    jw_key(&w, "merge");
    jw_obj_begin(&w);
    jw_key(&w, "held");
    jw_int(&w, (int64_t)l->merge.held);
    jw_key(&w, "held_max");
    jw_int(&w, (int64_t)l->merge.held_max);
    jw_key(&w, "released_late");
    jw_int(&w, (int64_t)l->merge.released_late);
    jw_key(&w, "paused");
    jw_int(&w, (int64_t)l->merge.paused);
    jw_key(&w, "max_wait_ms");
    jw_int(&w, l->merge.max_wait_ms);
    jw_key(&w, "backlog_wait_ms");
    jw_int(&w, l->merge.backlog_wait_ms);
    jw_obj_end(&w);
    jw_key(&w, "updated");
    if (l->updated_ns > 0) {
        char ts[40];
        wd_time_format_utc(l->updated_ns, ts, sizeof ts);
        jw_str(&w, ts);
    } else {
        jw_null(&w);
    }
    jw_obj_end(&w);
    return 200;
}
