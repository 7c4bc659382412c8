/*
 * The metrics registry and its Prometheus text exposition
 * (include/warden/metrics.h, docs/METRICS.md).
 *
 * Pure: values come in through the setters, text goes out into a caller's
 * buffer; no clock, no I/O. Labelled series live in sorted, bounded tables
 * so that rendering walks them in a fixed order without sorting.
 */
#include "warden/metrics.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define NS_PER_S 1000000000.0

const int64_t wd_metrics_latency_bounds_ns[WD_METRICS_LATENCY_BOUNDS] = {
    5000000,   10000000,   25000000,   50000000,    100000000,   250000000,
    500000000, 1000000000, 2500000000, 5000000000, 10000000000,
};

/* What a series of the scope table has been given. */
enum { HAS_FIGURES = 1u << 0, HAS_PSR = 1u << 1, HAS_STATE = 1u << 2 };

/* Values of a series, by table: scopes use all of them, symbols v[0],
 * incidents count. */
enum { V_EQUITY = 0, V_PNL, V_DD, V_MAXDD, V_PSR, V_COUNT };

/* One label set and its values. k2 is "" for one-label tables. */
struct series {
    char k1[WD_METRICS_LABEL_MAX + 1];
    char k2[WD_METRICS_LABEL_MAX + 1];
    double v[V_COUNT];
    uint64_t count;
    enum wd_tstate state;
    unsigned has;
};

/* Series sorted by (k1, k2) in byte order. */
struct table {
    struct series *s; /* owned; cap elements, n used */
    uint32_t n, cap;
};

struct wd_metrics {
    struct table scopes, symbols, incidents;
    struct table partitions; /* Kafka: k1 topic, k2 partition; count the lag */
    struct wd_metrics_merge merge;
    uint64_t latency[WD_METRICS_LATENCY_BOUNDS + 1]; /* per bucket, not cumulative */
    uint64_t latency_count;
    uint64_t latency_sum_ns; /* saturates at UINT64_MAX */
    double rejection_ratio;
    uint64_t consumer_lag;
    uint64_t events_processed, events_malformed;
};

/* ---- label values ------------------------------------------------------------ */

/* Whether s is 1..WD_METRICS_LABEL_MAX bytes of well-formed UTF-8 (no
 * overlong forms, surrogates or code points past U+10FFFF). */
static bool label_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > WD_METRICS_LABEL_MAX) {
        return false;
    }
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        unsigned c = p[i];
        size_t len;
        unsigned min;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            len = 2, min = 0x80, c &= 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            len = 3, min = 0x800, c &= 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            len = 4, min = 0x10000, c &= 0x07;
        } else {
            return false;
        }
        if (n - i < len) {
            return false;
        }
        for (size_t k = 1; k < len; k++) {
            if ((p[i + k] & 0xc0) != 0x80) {
                return false;
            }
            c = (c << 6) | (p[i + k] & 0x3fu);
        }
        if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) {
            return false;
        }
        i += len;
    }
    return true;
}

static int key_cmp(const struct series *a, const char *k1, const char *k2)
{
    int c = strcmp(a->k1, k1);
    return c != 0 ? c : strcmp(a->k2, k2);
}

/* The series (k1, k2) of t, added (zeroed) if new. NULL with *st set:
 * WD_EFULL past WD_METRICS_MAX_SERIES, WD_ENOMEM. Labels are checked by
 * the caller. */
static struct series *table_get(struct table *t, const char *k1, const char *k2,
                                enum wd_status *st)
{
    uint32_t lo = 0, hi = t->n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        int c = key_cmp(&t->s[mid], k1, k2);
        if (c == 0) {
            return &t->s[mid];
        }
        if (c < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    if (t->n >= WD_METRICS_MAX_SERIES) {
        *st = WD_EFULL;
        return NULL;
    }
    if (t->n == t->cap) {
        void *arr = t->s;
        *st = wd__array_grow(&arr, &t->cap, t->n + 1, sizeof *t->s);
        if (*st != WD_OK) {
            return NULL;
        }
        t->s = arr;
    }
    memmove(&t->s[lo + 1], &t->s[lo], (size_t)(t->n - lo) * sizeof *t->s);
    t->n++;
    struct series *s = &t->s[lo];
    memset(s, 0, sizeof *s);
    memcpy(s->k1, k1, strlen(k1) + 1);
    memcpy(s->k2, k2, strlen(k2) + 1);
    return s;
}

static struct series *scope_get(struct wd_metrics *m, const char *scope, enum wd_status *st)
{
    enum wd_scope_kind kind;
    const char *name;
    if (scope == NULL || !label_ok(scope) ||
        wd_scope_parse(scope, &kind, &name, NULL) != WD_OK) {
        *st = WD_EINVAL;
        return NULL;
    }
    return table_get(&m->scopes, scope, "", st);
}

/* ---- lifecycle ---------------------------------------------------------------- */

enum wd_status wd_metrics_new(struct wd_metrics **out)
{
    *out = calloc(1, sizeof **out);
    return *out != NULL ? WD_OK : WD_ENOMEM;
}

void wd_metrics_free(struct wd_metrics *m)
{
    if (m == NULL) {
        return;
    }
    free(m->scopes.s);
    free(m->symbols.s);
    free(m->incidents.s);
    free(m->partitions.s);
    free(m);
}

/* ---- setters ------------------------------------------------------------------ */

enum wd_status wd_metrics_set_figures(struct wd_metrics *m, const char *scope, double equity,
                                      double daily_pnl_ratio, double drawdown,
                                      double max_drawdown)
{
    enum wd_status st = WD_OK;
    struct series *s = scope_get(m, scope, &st);
    if (s == NULL) {
        return st;
    }
    s->v[V_EQUITY] = equity;
    s->v[V_PNL] = daily_pnl_ratio;
    s->v[V_DD] = drawdown;
    s->v[V_MAXDD] = max_drawdown;
    s->has |= HAS_FIGURES;
    return WD_OK;
}

enum wd_status wd_metrics_set_psr(struct wd_metrics *m, const char *scope, double psr)
{
    enum wd_status st = WD_OK;
    struct series *s = scope_get(m, scope, &st);
    if (s == NULL) {
        return st;
    }
    s->v[V_PSR] = psr;
    s->has |= HAS_PSR;
    return WD_OK;
}

enum wd_status wd_metrics_set_state(struct wd_metrics *m, const char *scope,
                                    enum wd_tstate state)
{
    if ((unsigned)state > (unsigned)WD_TS_HALTED) {
        return WD_EINVAL;
    }
    enum wd_status st = WD_OK;
    struct series *s = scope_get(m, scope, &st);
    if (s == NULL) {
        return st;
    }
    s->state = state;
    s->has |= HAS_STATE;
    return WD_OK;
}

enum wd_status wd_metrics_observe_latency(struct wd_metrics *m, int64_t latency_ns)
{
    if (latency_ns < 0) {
        return WD_ERANGE;
    }
    unsigned b = 0;
    while (b < WD_METRICS_LATENCY_BOUNDS && latency_ns > wd_metrics_latency_bounds_ns[b]) {
        b++;
    }
    m->latency[b]++;
    m->latency_count++;
    uint64_t sum;
    m->latency_sum_ns = __builtin_add_overflow(m->latency_sum_ns, (uint64_t)latency_ns, &sum)
                            ? UINT64_MAX
                            : sum;
    return WD_OK;
}

void wd_metrics_set_rejection_ratio(struct wd_metrics *m, double ratio)
{
    m->rejection_ratio = ratio;
}

void wd_metrics_set_consumer_lag(struct wd_metrics *m, uint64_t messages)
{
    m->consumer_lag = messages;
}

/* Sets two counters at once, or neither if either would go down. */
static enum wd_status set_pair(uint64_t *a, uint64_t va, uint64_t *b, uint64_t vb)
{
    if (va < *a || vb < *b) {
        return WD_ERANGE;
    }
    *a = va;
    *b = vb;
    return WD_OK;
}

enum wd_status wd_metrics_set_events(struct wd_metrics *m, uint64_t processed,
                                     uint64_t malformed)
{
    return set_pair(&m->events_processed, processed, &m->events_malformed, malformed);
}


enum wd_status wd_metrics_set_staleness(struct wd_metrics *m, const char *symbol,
                                        double seconds)
{
    if (symbol == NULL || !label_ok(symbol)) {
        return WD_EINVAL;
    }
    enum wd_status st = WD_OK;
    struct series *s = table_get(&m->symbols, symbol, "", &st);
    if (s == NULL) {
        return st;
    }
    s->v[0] = seconds;
    return WD_OK;
}

enum wd_status wd_metrics_set_open_incidents(struct wd_metrics *m, const char *severity,
                                             const char *scenario, uint64_t count)
{
    if (severity == NULL || scenario == NULL || !label_ok(severity) || !label_ok(scenario)) {
        return WD_EINVAL;
    }
    enum wd_status st = WD_OK;
    struct series *s = table_get(&m->incidents, severity, scenario, &st);
    if (s == NULL) {
        return st;
    }
    s->count = count;
    return WD_OK;
}

void wd_metrics_clear_incidents(struct wd_metrics *m)
{
    m->incidents.n = 0;
}

/* ---- Kafka (docs/KAFKA.md) ------------------------------------------------------ */

enum wd_status wd_metrics_set_partition_lag(struct wd_metrics *m, const char *topic,
                                            int32_t partition, uint64_t messages)
{
    char p[16];
    if (topic == NULL || !label_ok(topic) || partition < 0) {
        return WD_EINVAL;
    }
    (void)snprintf(p, sizeof p, "%d", (int)partition);
    enum wd_status st = WD_OK;
    struct series *s = table_get(&m->partitions, topic, p, &st);
    if (s == NULL) {
        return st;
    }
    s->count = messages;
    return WD_OK;
}

void wd_metrics_clear_partition_lag(struct wd_metrics *m)
{
    m->partitions.n = 0;
}

void wd_metrics_set_merge(struct wd_metrics *m, const struct wd_metrics_merge *merge)
{
    m->merge = *merge;
}

/* ---- exposition ------------------------------------------------------------------ */

/* One rendering: the buffer and its first failure (later writes skip). */
struct out {
    struct wd_render_buf *b;
    enum wd_status st;
};

static void put(struct out *o, const char *s)
{
    if (o->st == WD_OK) {
        o->st = wd_render_buf_put(o->b, s, strlen(s));
    }
}

/* The shortest of %.15g, %.16g, %.17g that reads back as v; Prometheus's
 * spelling of the non-finite values. */
static void put_double(struct out *o, double v)
{
    if (isnan(v)) {
        put(o, "NaN");
        return;
    }
    if (!isfinite(v)) {
        put(o, v > 0 ? "+Inf" : "-Inf");
        return;
    }
    char b[40];
    for (int prec = 15; prec <= 17; prec++) {
        (void)snprintf(b, sizeof b, "%.*g", prec, v);
        if (strtod(b, NULL) == v) {
            break;
        }
    }
    put(o, b);
}

static void put_u64(struct out *o, uint64_t v)
{
    char b[24];
    (void)snprintf(b, sizeof b, "%llu", (unsigned long long)v);
    put(o, b);
}

/* A label value with \, " and newline escaped (exposition format 0.0.4). */
static void put_label_value(struct out *o, const char *s)
{
    const char *run = s;
    for (const char *p = s;; p++) {
        const char *esc = *p == '\\' ? "\\\\" : *p == '"' ? "\\\"" : *p == '\n' ? "\\n" : NULL;
        if (esc == NULL && *p != '\0') {
            continue;
        }
        if (o->st == WD_OK && p > run) {
            o->st = wd_render_buf_put(o->b, run, (size_t)(p - run));
        }
        if (*p == '\0') {
            return;
        }
        put(o, esc);
        run = p + 1;
    }
}

static void header(struct out *o, const char *name, const char *type, const char *help)
{
    put(o, "# HELP ");
    put(o, name);
    put(o, " ");
    put(o, help);
    put(o, "\n# TYPE ");
    put(o, name);
    put(o, " ");
    put(o, type);
    put(o, "\n");
}

/* `name{l1="v1",l2="v2"} ` (labels whose name is NULL are left out). */
static void series_start(struct out *o, const char *name, const char *l1, const char *v1,
                         const char *l2, const char *v2)
{
    put(o, name);
    if (l1 != NULL) {
        put(o, "{");
        put(o, l1);
        put(o, "=\"");
        put_label_value(o, v1);
        if (l2 != NULL) {
            put(o, "\",");
            put(o, l2);
            put(o, "=\"");
            put_label_value(o, v2);
        }
        put(o, "\"}");
    }
    put(o, " ");
}

/* A gauge of the scope table: one series per scope that has `has`. */
static void scope_gauge(struct out *o, const struct table *t, const char *name,
                        const char *help, unsigned has, unsigned v)
{
    header(o, name, "gauge", help);
    for (uint32_t i = 0; i < t->n; i++) {
        const struct series *s = &t->s[i];
        if (s->has & has) {
            series_start(o, name, "scope", s->k1, NULL, NULL);
            put_double(o, s->v[v]);
            put(o, "\n");
        }
    }
}

static void trading_state(struct out *o, const struct table *t)
{
    static const char name[] = "warden_trading_state";
    header(o, name, "gauge",
           "Trading state of a scope: 1 for its current state, 0 for the others.");
    for (uint32_t i = 0; i < t->n; i++) {
        const struct series *s = &t->s[i];
        if (!(s->has & HAS_STATE)) {
            continue;
        }
        for (unsigned k = WD_TS_ACTIVE; k <= WD_TS_HALTED; k++) {
            series_start(o, name, "scope", s->k1, "state", wd_tstate_name((enum wd_tstate)k));
            put(o, s->state == (enum wd_tstate)k ? "1\n" : "0\n");
        }
    }
}

static void latency(struct out *o, const struct wd_metrics *m)
{
    static const char name[] = "warden_intent_ack_latency_seconds";
    header(o, name, "histogram", "Latency from an order intent to its acknowledgement.");
    uint64_t cum = 0;
    for (unsigned b = 0; b <= WD_METRICS_LATENCY_BOUNDS; b++) {
        cum += m->latency[b];
        put(o, name);
        put(o, "_bucket{le=\"");
        if (b < WD_METRICS_LATENCY_BOUNDS) {
            put_double(o, (double)wd_metrics_latency_bounds_ns[b] / NS_PER_S);
        } else {
            put(o, "+Inf");
        }
        put(o, "\"} ");
        put_u64(o, cum);
        put(o, "\n");
    }
    put(o, name);
    put(o, "_sum ");
    put_double(o, (double)m->latency_sum_ns / NS_PER_S);
    put(o, "\n");
    put(o, name);
    put(o, "_count ");
    put_u64(o, m->latency_count);
    put(o, "\n");
}

static void plain(struct out *o, const char *name, const char *type, const char *help,
                  uint64_t v)
{
    header(o, name, type, help);
    series_start(o, name, NULL, NULL, NULL, NULL);
    put_u64(o, v);
    put(o, "\n");
}

static void plain_gauge(struct out *o, const char *name, const char *help, double v)
{
    header(o, name, "gauge", help);
    series_start(o, name, NULL, NULL, NULL, NULL);
    put_double(o, v);
    put(o, "\n");
}

/* Kafka's series: the lag of each partition under the total's name (its
 * header is the total's, just above), and the merge's figures. Nothing
 * when the input is not Kafka. */
static void kafka(struct out *o, const struct wd_metrics *m)
{
    static const char lag[] = "warden_consumer_lag_messages";
    for (uint32_t i = 0; i < m->partitions.n; i++) {
        const struct series *s = &m->partitions.s[i];
        series_start(o, lag, "topic", s->k1, "partition", s->k2);
        put_u64(o, s->count);
        put(o, "\n");
    }
    if (!m->merge.on) {
        return;
    }
    plain(o, "warden_kafka_merge_held", "gauge",
          "Events the event-time merge holds now, waiting for a lagging partition.",
          m->merge.held);
    plain(o, "warden_kafka_merge_held_max", "gauge", "The most events the merge held at once.",
          m->merge.held_max);
    plain(o, "warden_kafka_merge_released_late_total", "counter",
          "Events the merge released after waiting its longest for a lagging partition.",
          m->merge.released_late);
    plain(o, "warden_kafka_partitions_paused", "gauge",
          "Partitions not fetched now: they hold their share of the merge while others catch up.",
          m->merge.paused);
    plain_gauge(o, "warden_kafka_merge_max_wait_seconds",
                "The longest the merge holds an event for a lagging partition.",
                m->merge.max_wait_seconds);
    plain_gauge(o, "warden_kafka_merge_backlog_wait_seconds",
                "The longest the merge holds an event for a partition known to have unread "
                "events.",
                m->merge.backlog_wait_seconds);
}

enum wd_status wd_metrics_render(const struct wd_metrics *m, struct wd_render_buf *out)
{
    struct out o = {out, WD_OK};
    size_t start = out->len;
    const struct table *sc = &m->scopes;

    scope_gauge(&o, sc, "warden_equity", "Equity of a scope (cash plus marked positions).",
                HAS_FIGURES, V_EQUITY);
    scope_gauge(&o, sc, "warden_daily_pnl_ratio",
                "PnL of the trading day as a fraction of the equity at its open.", HAS_FIGURES,
                V_PNL);
    scope_gauge(&o, sc, "warden_drawdown_ratio",
                "Drawdown from the equity peak as a fraction of the peak.", HAS_FIGURES, V_DD);
    scope_gauge(&o, sc, "warden_max_drawdown_ratio", "Largest drawdown seen, as a fraction.",
                HAS_FIGURES, V_MAXDD);
    scope_gauge(&o, sc, "warden_psr", "Probabilistic Sharpe ratio of a scope (0 to 1).",
                HAS_PSR, V_PSR);
    trading_state(&o, sc);
    latency(&o, m);

    header(&o, "warden_rejection_ratio", "gauge",
           "Rejected order intents as a fraction of those decided, over the window.");
    put(&o, "warden_rejection_ratio ");
    put_double(&o, m->rejection_ratio);
    put(&o, "\n");

    static const char stale[] = "warden_market_data_staleness_seconds";
    header(&o, stale, "gauge", "Seconds since the last market data of a symbol.");
    for (uint32_t i = 0; i < m->symbols.n; i++) {
        series_start(&o, stale, "symbol", m->symbols.s[i].k1, NULL, NULL);
        put_double(&o, m->symbols.s[i].v[0]);
        put(&o, "\n");
    }

    plain(&o, "warden_consumer_lag_messages", "gauge",
          "Messages the event consumer is behind its input.", m->consumer_lag);
    kafka(&o, m);

    static const char inc[] = "warden_open_incidents";
    header(&o, inc, "gauge", "Open incidents by severity and scenario.");
    for (uint32_t i = 0; i < m->incidents.n; i++) {
        const struct series *s = &m->incidents.s[i];
        series_start(&o, inc, "severity", s->k1, "scenario", s->k2);
        put_u64(&o, s->count);
        put(&o, "\n");
    }

    plain(&o, "warden_events_processed_total", "counter", "Events processed.",
          m->events_processed);
    plain(&o, "warden_events_malformed_total", "counter",
          "Input lines refused as malformed or incomplete.", m->events_malformed);

    if (o.st != WD_OK) {
        out->len = start;
        if (out->data != NULL) {
            out->data[start] = '\0';
        }
    }
    return o.st;
}
