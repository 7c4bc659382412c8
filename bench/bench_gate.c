/*
 * Benchmark of the engine (include/warden/engine.h): how long the pre-trade
 * gate takes to decide one intent, and how much of the replay rate is left
 * once the engine runs behind the decoder instead of the bare book.
 *
 * Part 1, gate latency, in process. An engine is configured with realistic
 * limits (max_order_qty, max_order_notional, box_lim, max_gross_exposure,
 * max_orders_per_s, a 5% price collar, 200 allowed symbols, 4 known
 * sources) and the New York session zone; a setup (quotes for every
 * symbol, then an intent and its fill per symbol) gives it positions and
 * marks. N intents (JSON Lines generated here, all inside trading hours,
 * timestamps increasing, ~1% built to be rejected) are decoded up front
 * into an array of struct wd_event pointing into the in-memory text. Then,
 * per intent: a quote of its symbol, and of every symbol each 10 s of event
 * time (not timed: they keep the collar's quotes fresh, as a live feed
 * would), the intent through wd_engine_process (timed), and a cancel ack
 * for an accepted one (timed separately) so that open orders stay bounded.
 * Each timed call is bracketed by clock_gettime(CLOCK_MONOTONIC); the
 * median cost of an empty bracket is measured before each pass and
 * subtracted. A second pass per run times wd_engine_check_intent (the pure
 * query) on the same sequence. Every pass starts from a fresh engine; a
 * warm-up comes first; the table gives the median over runs of p50, p99,
 * p99.9, max and mean. The whole is done twice: sources without keys, then
 * sources with HMAC-SHA256 keys and signed intents (src/bus/hmac.h).
 *
 * Part 2, replay throughput. The session of bench_decode (gen.c: the same
 * mix, timeline and sizes; `seq` numbered per producer stream unless
 * --seq global asks for bench_decode's exact bytes) is replayed,
 * interleaved in each run after one warm-up pass of each: decode+book
 * (wd_decode_line + wd_book_apply, exactly as bench_decode) and
 * decode+engine (wd_decode_line + wd_engine_process, the emit callback only
 * counting), both over the same bytes. The ratio engine / book is taken
 * within each run and its median reported.
 *
 * This is a tool, not core code: it reads the clock, allocates outside the
 * timed regions and prints. It never gates the tests. Usage: bench_gate
 * --help; figures and method in docs/PERFORMANCE.md.
 */
#define _GNU_SOURCE /* memmem, for the broker filter */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bus/hmac.h"
#include "warden/book.h"
#include "warden/config.h"
#include "warden/decode.h"
#include "warden/engine.h"
#include "warden/fixed.h"
#include "warden/intern.h"
#include "warden/timeutil.h"
#include "warden/tz.h"

#include "gen.h"

#define MAX_RUNS 101u
#define CENT ((wd_fix)(WD_FIX_SCALE / 100)) /* one cent, fixed point */
#define OFF_LIST_SYMBOL "QQQQQ" /* 5 letters: never one of the 200 tickers */
#define N_SYM (BENCH_N_SYMBOLS + 1u) /* the market's symbols and the off-list one */
#define PREFETCH_AHEAD 8u

static void die(const char *what)
{
    fprintf(stderr, "bench_gate: %s\n", what);
    exit(1);
}

static int64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * WD_NS_PER_S + (int64_t)t.tv_nsec;
}

/* ---- latency histograms --------------------------------------------------- */

#define HIST_LINEAR 65536u /* 1 ns buckets below 65.5 us; beyond, exact values */

struct hist {
    uint32_t *c;
    uint64_t *over; /* samples >= HIST_LINEAR, sorted lazily */
    size_t n_over, cap_over;
    bool sorted;
    uint64_t n, sum, max;
};

static void hist_init(struct hist *h)
{
    memset(h, 0, sizeof *h);
    h->c = calloc(HIST_LINEAR, sizeof *h->c);
    if (h->c == NULL) {
        die("out of memory");
    }
}

static void hist_reset(struct hist *h)
{
    memset(h->c, 0, HIST_LINEAR * sizeof *h->c);
    h->n_over = 0;
    h->sorted = true;
    h->n = h->sum = h->max = 0;
}

static void hist_free(struct hist *h)
{
    free(h->c);
    free(h->over);
}

static void hist_add(struct hist *h, uint64_t v)
{
    h->n++;
    h->sum += v;
    if (v > h->max) {
        h->max = v;
    }
    if (v < HIST_LINEAR) {
        h->c[v]++;
        return;
    }
    if (h->n_over == h->cap_over) {
        size_t ncap = h->cap_over ? h->cap_over * 2u : 1024u;
        uint64_t *p = realloc(h->over, ncap * sizeof *p);
        if (p == NULL) {
            die("out of memory");
        }
        h->over = p;
        h->cap_over = ncap;
    }
    h->over[h->n_over++] = v;
    h->sorted = false;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* The nearest-rank percentile (q in (0, 1]); 0 for an empty histogram. */
static uint64_t hist_pct(struct hist *h, double q)
{
    if (h->n == 0) {
        return 0;
    }
    uint64_t rank = (uint64_t)((double)h->n * q);
    if ((double)rank < (double)h->n * q) {
        rank++;
    }
    if (rank < 1u) {
        rank = 1u;
    }
    uint64_t seen = 0;
    for (uint32_t v = 0; v < HIST_LINEAR; v++) {
        seen += h->c[v];
        if (seen >= rank) {
            return v;
        }
    }
    if (!h->sorted) {
        qsort(h->over, h->n_over, sizeof *h->over, cmp_u64);
        h->sorted = true;
    }
    return h->over[rank - seen - 1u];
}

struct lat {
    uint64_t n;
    double p50, p99, p999, max, mean;
};

static struct lat hist_lat(struct hist *h)
{
    struct lat l;
    l.n = h->n;
    l.p50 = (double)hist_pct(h, 0.50);
    l.p99 = (double)hist_pct(h, 0.99);
    l.p999 = (double)hist_pct(h, 0.999);
    l.max = (double)h->max;
    l.mean = h->n ? (double)h->sum / (double)h->n : 0.0;
    return l;
}

/* The cost of an empty clock_gettime bracket, measured like a timed call. */
static struct lat timer_overhead(struct hist *h)
{
    hist_reset(h);
    for (unsigned i = 0; i < 1000000u; i++) {
        int64_t t0 = now_ns();
        int64_t t1 = now_ns();
        hist_add(h, (uint64_t)(t1 - t0));
    }
    return hist_lat(h);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* n <= 2 * MAX_RUNS (the timer is measured twice per run). */
static double median(const double *v, unsigned n)
{
    double s[2u * MAX_RUNS];
    memcpy(s, v, n * sizeof *v);
    qsort(s, n, sizeof *s, cmp_double);
    return n % 2u ? s[n / 2u] : (s[n / 2u - 1u] + s[n / 2u]) / 2.0;
}

static double vmin(const double *v, unsigned n)
{
    double m = v[0];
    for (unsigned i = 1; i < n; i++) {
        m = v[i] < m ? v[i] : m;
    }
    return m;
}

static double vmax(const double *v, unsigned n)
{
    double m = v[0];
    for (unsigned i = 1; i < n; i++) {
        m = v[i] > m ? v[i] : m;
    }
    return m;
}

/* Median over runs of each statistic (they need not come from one run). */
static struct lat lat_median(const struct lat *runs, unsigned n)
{
    double a[5][2u * MAX_RUNS];
    for (unsigned i = 0; i < n; i++) {
        a[0][i] = runs[i].p50;
        a[1][i] = runs[i].p99;
        a[2][i] = runs[i].p999;
        a[3][i] = runs[i].max;
        a[4][i] = runs[i].mean;
    }
    struct lat m = {runs[0].n, median(a[0], n), median(a[1], n), median(a[2], n),
                    median(a[3], n), median(a[4], n)};
    return m;
}

/* ---- the engine's outputs ----------------------------------------------------- */

#define MAX_REASONS 32u

struct sink {
    uint64_t by_type[WD_OUT_LOG + 1];
    uint64_t accepts, rejects;
    bool last_accept;
    const char *last_reason;
};

static void sink_emit(void *ctx, const struct wd_output *o)
{
    struct sink *s = ctx;
    if ((unsigned)o->type <= (unsigned)WD_OUT_LOG) {
        s->by_type[o->type]++;
    }
    if (o->type == WD_OUT_DECISION) {
        s->last_accept = o->u.decision.accept;
        s->last_reason = o->u.decision.reason;
        if (o->u.decision.accept) {
            s->accepts++;
        } else {
            s->rejects++;
        }
    }
}

/* Decisions by reason code, counted outside the timed regions. */
struct reasons {
    const char *name[MAX_REASONS];
    uint64_t count[MAX_REASONS];
    unsigned n;
};

static void reasons_add(struct reasons *r, const char *reason)
{
    const char *name = reason[0] != '\0' ? reason : "accept";
    for (unsigned i = 0; i < r->n; i++) {
        if (strcmp(r->name[i], name) == 0) {
            r->count[i]++;
            return;
        }
    }
    if (r->n < MAX_REASONS) {
        r->name[r->n] = name;
        r->count[r->n++] = 1;
    }
}

/* ---- configuration and engine --------------------------------------------------- */

struct params {
    uint64_t intents, signed_intents, events, runs, days, seed;
    uint64_t max_per_s;   /* limits.max_orders_per_s */
    uint64_t intent_rate; /* intents per second of event time, all accounts */
    uint64_t reject_bp;   /* intents built to be rejected, per 10,000 */
    bool seq_global;      /* replay bench_decode's exact bytes (one seq counter) */
    bool broker_filter;   /* replay: the broker executes accepted orders only */
    bool json;
    int only; /* -1 all, 0 latency, 1 replay */
};

/* Keys of the signed sources: 32 bytes each, deterministic. */
static uint8_t source_key[BENCH_N_ACCOUNTS][32];

static void make_keys(void)
{
    for (unsigned i = 0; i < BENCH_N_ACCOUNTS; i++) {
        for (unsigned k = 0; k < 32u; k++) {
            source_key[i][k] = (uint8_t)(0xA5u ^ (i * 37u + k * 11u));
        }
    }
}

static void set_str(char **slot, const char *s)
{
    if (wd_config_set_str(slot, s, strlen(s)) != WD_OK) {
        die("out of memory");
    }
}

/* Realistic limits for a small equities book: a firm of 4 strategies with
 * 10M of capital, orders of at most 10,000 shares and 1M notional, 5M per
 * name, 50M gross per account, a 5% collar, 200 names. */
static void config_make(struct wd_config *cfg, const struct bench_market *m, bool keyed,
                        uint32_t max_per_s)
{
    if (wd_config_init(cfg) != WD_OK) {
        die("out of memory");
    }
    cfg->capital = wd_fix_from_int(10000000);
    cfg->limits.max_order_qty = wd_fix_from_int(10000);
    cfg->limits.max_order_notional = wd_fix_from_int(1000000);
    cfg->limits.box_lim = wd_fix_from_int(5000000);
    cfg->limits.max_gross_exposure = wd_fix_from_int(50000000);
    cfg->limits.max_orders_per_s = max_per_s;
    cfg->limits.price_collar = 0.05;
    cfg->limits.symbols = calloc(BENCH_N_SYMBOLS, sizeof *cfg->limits.symbols);
    cfg->limits.sources = calloc(BENCH_N_ACCOUNTS, sizeof *cfg->limits.sources);
    if (cfg->limits.symbols == NULL || cfg->limits.sources == NULL) {
        die("out of memory");
    }
    for (unsigned i = 0; i < BENCH_N_SYMBOLS; i++) {
        set_str(&cfg->limits.symbols[i], m->names[i]);
        cfg->limits.n_symbols++;
    }
    for (unsigned i = 0; i < BENCH_N_ACCOUNTS; i++) {
        struct wd_config_source *s = &cfg->limits.sources[i];
        cfg->limits.n_sources++;
        set_str(&s->name, bench_sources[i]);
        if (keyed) {
            static const char hex[] = "0123456789abcdef";
            char kh[65];
            for (unsigned k = 0; k < 32u; k++) {
                kh[2 * k] = hex[source_key[i][k] >> 4];
                kh[2 * k + 1] = hex[source_key[i][k] & 15u];
            }
            kh[64] = '\0';
            set_str(&s->key_hex, kh);
        }
    }
}

/* An engine, its decoder (for the name tables' order) and the ids of the
 * names the benchmark uses. */
struct world {
    struct wd_engine *e;
    struct wd_hmac_cache *hmac; /* keyed contexts, as warden replay keeps them */
    struct wd_decoder *dec;
    struct sink sink;
    uint64_t event_no;
    uint32_t acct[BENCH_N_ACCOUNTS];
    uint32_t sym[N_SYM];
    uint32_t dflt;
};

static void world_open(struct world *w, const struct wd_config *cfg, const struct wd_tz *tz,
                       const struct bench_market *m)
{
    struct wd_error err = {0};
    memset(w, 0, sizeof *w);
    struct wd_engine_opts o = {.cfg = cfg,
                               .tz = tz,
                               .emit = sink_emit,
                               .emit_ctx = &w->sink,
                               .hmac_verify = wd_hmac_sha256_verify,
                               .hmac_ctx = w->hmac = wd_hmac_cache_new()};
    if (w->hmac == NULL || wd_engine_new(&o, &w->e, &err) != WD_OK) {
        fprintf(stderr, "bench_gate: cannot create the engine: %s\n", err.msg);
        exit(1);
    }
    if (wd_decoder_new(wd_engine_symbols(w->e), wd_engine_accounts(w->e), &w->dec) != WD_OK) {
        die("cannot create the decoder");
    }
    w->dflt = wd_decoder_default_account(w->dec);
    for (unsigned a = 0; a < BENCH_N_ACCOUNTS; a++) {
        if (wd_intern_get(wd_engine_accounts(w->e), bench_accounts[a],
                          strlen(bench_accounts[a]), &w->acct[a]) != WD_OK) {
            die("cannot intern an account");
        }
    }
    for (unsigned s = 0; s < N_SYM; s++) {
        const char *name = s < BENCH_N_SYMBOLS ? m->names[s] : OFF_LIST_SYMBOL;
        if (wd_intern_get(wd_engine_symbols(w->e), name, strlen(name), &w->sym[s]) != WD_OK) {
            die("cannot intern a symbol");
        }
    }
}

static void world_close(struct world *w)
{
    wd_decoder_free(w->dec);
    wd_engine_free(w->e);
    wd_hmac_cache_free(w->hmac);
}

/* Pre-decoded events carry the interned ids of the first world; every
 * later world must give the same names the same ids. */
static void world_same_ids(const struct world *a, const struct world *b)
{
    if (a->dflt != b->dflt || memcmp(a->acct, b->acct, sizeof a->acct) != 0 ||
        memcmp(a->sym, b->sym, sizeof a->sym) != 0) {
        die("interned ids differ between engines");
    }
}

static void process(struct world *w, const struct wd_event *ev)
{
    struct wd_error err = {0};
    if (wd_engine_process(w->e, ev, ++w->event_no, &err) != WD_OK) {
        fprintf(stderr, "bench_gate: wd_engine_process: %s\n", err.msg);
        exit(1);
    }
}

static void quote_event(struct wd_event *q, const struct world *w, uint32_t sym, int64_t ts,
                        int64_t mid_cents)
{
    memset(q, 0, sizeof *q);
    q->type = WD_EV_QUOTE;
    q->ts_ns = ts;
    q->account = w->dflt;
    q->symbol = sym;
    q->u.quote.bid = (mid_cents - 1) * CENT;
    q->u.quote.ask = (mid_cents + 1) * CENT;
    q->u.quote.bid_size = wd_fix_from_int(500);
    q->u.quote.ask_size = wd_fix_from_int(500);
}

/* The events that open a session, as JSON Lines decoded by each world:
 * quotes for every symbol, then for each symbol an intent and its fill,
 * 100 ms apart, so that each account holds 50 names, long or short, 100 to
 * 500 shares, before the first timed intent (positions, marks and gross
 * exposure exist, and every fill matches an order the gate accepted). */
static void gen_setup(struct bench_buf *b, const struct bench_market *m, int64_t ts, bool keyed)
{
    char id[16], msg[256], sig[65];
    for (unsigned s = 0; s < BENCH_N_SYMBOLS; s++) {
        bench_put_str(b, "{\"type\":\"quote\",\"ts\":");
        bench_put_u64(b, (uint64_t)(ts + (int64_t)s));
        bench_put_kstr(b, "symbol", m->names[s]);
        bench_put_key(b, "bid");
        bench_put_dec(b, m->px_cents[s] - 1, 2);
        bench_put_key(b, "ask");
        bench_put_dec(b, m->px_cents[s] + 1, 2);
        bench_put_str(b, ",\"bid_size\":500,\"ask_size\":500}\n");
    }
    for (unsigned s = 0; s < BENCH_N_SYMBOLS; s++) {
        unsigned a = s % BENCH_N_ACCOUNTS;
        const char *side = (s / BENCH_N_ACCOUNTS) % 3u == 0 ? "SELL" : "BUY";
        uint64_t qty = 100u * (1u + s % 5u);
        int64_t t = ts + WD_NS_PER_S / 1000 + (int64_t)s * (WD_NS_PER_S / 10);
        snprintf(id, sizeof id, "s%u", s);
        bench_put_str(b, "{\"type\":\"intent\",\"ts\":");
        bench_put_u64(b, (uint64_t)t);
        bench_put_kstr(b, "account", bench_accounts[a]);
        bench_put_kstr(b, "id", id);
        bench_put_kstr(b, "symbol", m->names[s]);
        bench_put_kstr(b, "side", side);
        bench_put_key(b, "qty");
        bench_put_u64(b, qty);
        bench_put_kstr(b, "source", bench_sources[a]);
        bench_put_kstr(b, "order_type", "LMT");
        bench_put_key(b, "limit");
        bench_put_dec(b, m->px_cents[s], 2);
        if (keyed) {
            int len = snprintf(msg, sizeof msg, "%s|%s|%s|%llu|%s|%lld", id, m->names[s], side,
                               (unsigned long long)qty, bench_sources[a], (long long)t);
            if (len < 0 || (size_t)len >= sizeof msg ||
                !wd_hmac_sha256_hex(source_key[a], sizeof source_key[a], msg, (size_t)len,
                                    sig)) {
                die("cannot sign a setup intent");
            }
            bench_put_kstr(b, "sig", sig);
        }
        bench_put_str(b, "}\n{\"type\":\"fill\",\"ts\":");
        bench_put_u64(b, (uint64_t)(t + WD_NS_PER_S / 1000));
        bench_put_kstr(b, "account", bench_accounts[a]);
        bench_put_kstr(b, "id", id);
        bench_put_kstr(b, "symbol", m->names[s]);
        bench_put_kstr(b, "side", side);
        bench_put_key(b, "qty");
        bench_put_u64(b, qty);
        bench_put_key(b, "price");
        bench_put_dec(b, m->px_cents[s], 2);
        bench_put_str(b, ",\"commission\":0.01}\n");
    }
}

/* Decodes and processes the setup lines; every intent must be accepted. */
static void world_setup(struct world *w, const struct bench_buf *setup)
{
    const char *p = setup->p, *end = setup->p + setup->len;
    uint64_t accepts = w->sink.accepts;
    while (p < end) {
        struct wd_event ev;
        struct wd_error err = {0};
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (wd_decode_line(w->dec, p, len, &ev, &err) != WD_OK) {
            fprintf(stderr, "bench_gate: a setup line does not decode: %s\n", err.msg);
            exit(1);
        }
        process(w, &ev);
        p += len + 1u;
    }
    if (w->sink.accepts - accepts != BENCH_N_SYMBOLS || w->sink.rejects != 0 ||
        w->sink.by_type[WD_OUT_CONTROL] != 0) {
        die("the setup's intents were not all accepted, or the engine halted something");
    }
}

/* ---- the intents ------------------------------------------------------------------- */

enum intent_kind { IK_NORMAL, IK_BIG_QTY, IK_OFF_COLLAR, IK_OFF_LIST };

struct intent_meta {
    int32_t mid_cents; /* the quote to send before it */
    uint16_t sym;      /* market index, or BENCH_N_SYMBOLS: off-list (no quote) */
    uint8_t kind;
};

struct intents {
    int64_t open0; /* the first session's opening instant, where the setup goes */
    struct bench_buf text;
    struct wd_event *ev;
    struct intent_meta *meta;
    uint64_t n;
};

/* Local trading session [open, close) of local day `day`, in UTC ns. */
static void session_bounds(const struct wd_tz *tz, int64_t day, int64_t *open, int64_t *close)
{
    int64_t off = wd_tz_offset_s(tz, day * 86400 + 43200);
    *open = (day * 86400 + 570 * 60 - off) * WD_NS_PER_S;
    *close = (day * 86400 + 960 * 60 - off) * WD_NS_PER_S;
}

static int64_t next_weekday(int64_t day)
{
    do {
        day++;
    } while (wd_weekday_from_days(day) == 0 || wd_weekday_from_days(day) == 6);
    return day;
}

/* Generates n intent lines inside trading hours (Mon-Fri 09:30-16:00 New
 * York, from BENCH_START_NS), about intent_rate per second spread over the
 * 4 accounts; a reject_bp / 10,000 share is built to fail a check (qty over
 * the limit, a limit price outside the collar, a symbol not allowed). The
 * text is left in is->text, the per-intent quote in is->meta. */
static void gen_intents(struct intents *is, uint64_t n, bool keyed, const struct params *pp,
                        const struct wd_tz *tz, uint64_t seed)
{
    struct bench_rng r = {seed ? seed : 0x9E3779B97F4A7C15ULL};
    static struct bench_market m;
    bench_market_init(&m, &r);
    is->n = n;
    is->meta = calloc(n ? n : 1u, sizeof *is->meta);
    if (is->meta == NULL) {
        die("out of memory");
    }
    int64_t day = wd_tz_local_day(tz, BENCH_START_NS, NULL, NULL), open, close;
    session_bounds(tz, day, &open, &close);
    is->open0 = open;
    int64_t ts = open + 30 * WD_NS_PER_S; /* the setup comes first (20 s) */
    const int64_t min_gap = 5000;    /* room for the quote and the ack around it */
    int64_t mean_gap = WD_NS_PER_S / (int64_t)pp->intent_rate;
    if (mean_gap < 2 * min_gap) {
        mean_gap = 2 * min_gap;
    }
    char num[32], msg[256], sig[65];
    for (uint64_t i = 0; i < n; i++) {
        ts += min_gap + (int64_t)bench_rng_below(&r, (uint64_t)(2 * (mean_gap - min_gap)));
        if (ts >= close - WD_NS_PER_S) {
            day = next_weekday(day);
            session_bounds(tz, day, &open, &close);
            ts = open + 30 * WD_NS_PER_S;
        }
        unsigned a = (unsigned)bench_rng_below(&r, BENCH_N_ACCOUNTS);
        unsigned s = bench_pick_symbol(&r);
        /* Quotes move around a fixed centre, +/- 20 cents: no drift, so no
         * kill-switch fires however long the run. */
        int64_t mid = m.px_cents[s] + (int64_t)bench_rng_below(&r, 41) - 20;
        bool buy = bench_rng_below(&r, 2) != 0;
        uint64_t qty = 10u * (1u + bench_rng_below(&r, 50));
        bool lmt = bench_rng_below(&r, 2) != 0;
        /* A limit within 0.5% of the mid (well inside the 5% collar). */
        int64_t limit = mid + (mid * ((int64_t)bench_rng_below(&r, 101) - 50)) / 10000;
        enum intent_kind kind = IK_NORMAL;
        if (bench_rng_below(&r, 10000) < pp->reject_bp) {
            kind = (enum intent_kind)(1u + bench_rng_below(&r, 3));
        }
        if (kind == IK_BIG_QTY) {
            qty = 25000;
        } else if (kind == IK_OFF_COLLAR) {
            lmt = true;
            limit = mid + mid / 10;
        }
        const char *sym = kind == IK_OFF_LIST ? OFF_LIST_SYMBOL : m.names[s];
        is->meta[i].mid_cents = (int32_t)mid;
        is->meta[i].sym = (uint16_t)(kind == IK_OFF_LIST ? BENCH_N_SYMBOLS : s);
        is->meta[i].kind = (uint8_t)kind;

        struct bench_buf *b = &is->text;
        int nid = snprintf(num, sizeof num, "g%llu", (unsigned long long)(i + 1u));
        bench_put_str(b, "{\"type\":\"intent\",\"ts\":");
        bench_put_u64(b, (uint64_t)ts);
        bench_put_key(b, "seq");
        bench_put_u64(b, i + 1u);
        bench_put_kstr(b, "account", bench_accounts[a]);
        bench_put_kstr(b, "id", num);
        bench_put_kstr(b, "symbol", sym);
        bench_put_kstr(b, "side", buy ? "BUY" : "SELL");
        bench_put_key(b, "qty");
        bench_put_u64(b, qty);
        bench_put_kstr(b, "source", bench_sources[a]);
        if (lmt) {
            bench_put_kstr(b, "order_type", "LMT");
            bench_put_key(b, "limit");
            bench_put_dec(b, limit, 2);
        }
        if (keyed) {
            /* id|symbol|side|qty|source|ts, qty and ts as their JSON text. */
            int len = snprintf(msg, sizeof msg, "%.*s|%s|%s|%llu|%s|%lld", nid, num, sym,
                               buy ? "BUY" : "SELL", (unsigned long long)qty,
                               bench_sources[a], (long long)ts);
            if (len < 0 || (size_t)len >= sizeof msg ||
                !wd_hmac_sha256_hex(source_key[a], sizeof source_key[a], msg, (size_t)len,
                                    sig)) {
                die("cannot sign an intent");
            }
            bench_put_kstr(b, "sig", sig);
        }
        bench_put_str(b, "}\n");
    }
}

/* Decodes every line into is->ev with the first world's decoder: the
 * events point into is->text, which must not move from here on. */
static void decode_intents(struct intents *is, struct world *w)
{
    is->ev = calloc(is->n ? is->n : 1u, sizeof *is->ev);
    if (is->ev == NULL) {
        die("out of memory");
    }
    uint32_t n_sym = wd_intern_count(wd_engine_symbols(w->e));
    const char *p = is->text.p, *end = is->text.p + is->text.len;
    for (uint64_t i = 0; i < is->n; i++) {
        struct wd_error err = {0};
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (wd_decode_line(w->dec, p, len, &is->ev[i], &err) != WD_OK ||
            is->ev[i].type != WD_EV_INTENT) {
            fprintf(stderr, "bench_gate: generated intent %llu does not decode: %s\n",
                    (unsigned long long)(i + 1u), err.msg);
            exit(1);
        }
        p += len + 1u;
    }
    if (wd_intern_count(wd_engine_symbols(w->e)) != n_sym) {
        die("decoding intents interned a new symbol");
    }
}

static void intents_free(struct intents *is)
{
    free(is->text.p);
    free(is->ev);
    free(is->meta);
    memset(is, 0, sizeof *is);
}

/* ---- one latency pass ----------------------------------------------------------------- */

enum { H_PROC, H_ACC, H_REJ, H_ACK, H_CHECK, H__COUNT };
static const char *const h_names[H__COUNT] = {
    "wd_engine_process (intent)", "  accepted", "  rejected", "cancel ack (process)",
    "wd_engine_check_intent"};

struct pass_out {
    uint64_t accepts, rejects;
    uint64_t check; /* accept pattern, to compare passes and runs */
};

static void prefetch_intent(const struct intents *is, uint64_t i)
{
    const struct wd_event *ev = &is->ev[i];
    const char *line = ev->u.intent.ts_text.ptr - 22; /* {"type":"intent","ts": */
    __builtin_prefetch(ev);
    __builtin_prefetch((const char *)ev + 64);
    __builtin_prefetch((const char *)ev + 128);
    __builtin_prefetch(line);
    __builtin_prefetch(line + 64);
    __builtin_prefetch(line + 128);
    __builtin_prefetch(line + 192);
}

/* Intents [from, to) through world w, one quote of its symbol before each
 * and of every symbol each 10 s (untimed), and a cancel ack after each
 * accepted one. check_mode: time
 * wd_engine_check_intent, then process untimed; else time
 * wd_engine_process and the ack. ovh (ns) is subtracted from every sample.
 * hists may be NULL (warm-up), reasons too. */
static struct pass_out latency_pass(struct world *w, const struct intents *is,
                                    const struct bench_market *m, uint64_t from, uint64_t to,
                                    bool check_mode, struct hist *h, uint64_t ovh,
                                    struct reasons *reasons)
{
    struct pass_out out = {0, 0, 0};
    struct wd_event q, ack;
    int64_t next_refresh = 0;
    memset(&ack, 0, sizeof ack);
    ack.type = WD_EV_ACK;
    ack.u.ack.status = WD_ACK_CANCELLED;
    ack.u.ack.reason = (struct wd_str){"", 0};
    for (uint64_t i = from; i < to; i++) {
        const struct wd_event *ev = &is->ev[i];
        const struct intent_meta *mt = &is->meta[i];
        if (i + PREFETCH_AHEAD < to) {
            prefetch_intent(is, i + PREFETCH_AHEAD);
        }
        if (ev->ts_ns >= next_refresh) {
            /* Every 10 s of event time the whole market is quoted, so
             * that no symbol goes stale as it would not on a live feed. */
            for (unsigned s = 0; s < BENCH_N_SYMBOLS; s++) {
                quote_event(&q, w, w->sym[s], ev->ts_ns - 3000 + 10 * (int64_t)s,
                            m->px_cents[s]);
                process(w, &q);
            }
            next_refresh = ev->ts_ns + 10 * WD_NS_PER_S;
        }
        if (mt->sym < BENCH_N_SYMBOLS) {
            quote_event(&q, w, w->sym[mt->sym], ev->ts_ns - 1000, mt->mid_cents);
            process(w, &q);
        }
        uint64_t d;
        int64_t t0, t1;
        bool acc;
        if (check_mode) {
            t0 = now_ns();
            const char *r = wd_engine_check_intent(w->e, ev);
            t1 = now_ns();
            d = (uint64_t)(t1 - t0);
            if (h != NULL) {
                hist_add(&h[H_CHECK], d > ovh ? d - ovh : 0);
            }
            process(w, ev);
            acc = r[0] == '\0';
            if (acc != w->sink.last_accept) {
                die("wd_engine_check_intent and wd_engine_process disagree");
            }
        } else {
            struct wd_error err = {0};
            uint64_t no = ++w->event_no;
            t0 = now_ns();
            enum wd_status st = wd_engine_process(w->e, ev, no, &err);
            t1 = now_ns();
            if (st != WD_OK) {
                fprintf(stderr, "bench_gate: wd_engine_process: %s\n", err.msg);
                exit(1);
            }
            d = (uint64_t)(t1 - t0);
            d = d > ovh ? d - ovh : 0;
            acc = w->sink.last_accept;
            if (h != NULL) {
                hist_add(&h[H_PROC], d);
                hist_add(&h[acc ? H_ACC : H_REJ], d);
            }
        }
        if (reasons != NULL) {
            reasons_add(reasons, w->sink.last_reason);
        }
        if (acc) {
            out.accepts++;
            out.check = out.check * 31u + i;
            ack.ts_ns = ev->ts_ns + 1000;
            ack.account = ev->account;
            ack.u.ack.id = ev->u.intent.id;
            if (check_mode || h == NULL) {
                process(w, &ack);
            } else {
                struct wd_error err = {0};
                uint64_t no = ++w->event_no;
                t0 = now_ns();
                enum wd_status st = wd_engine_process(w->e, &ack, no, &err);
                t1 = now_ns();
                if (st != WD_OK) {
                    die("wd_engine_process failed on an ack");
                }
                d = (uint64_t)(t1 - t0);
                hist_add(&h[H_ACK], d > ovh ? d - ovh : 0);
            }
        } else {
            out.rejects++;
        }
    }
    return out;
}

/* ---- part 1: the latency of one variant ------------------------------------------------- */

struct variant_result {
    const char *name;
    uint64_t intents;
    struct lat lat[H__COUNT];        /* medians over runs */
    double p99_min[H__COUNT], p99_max[H__COUNT];
    struct lat timer;                /* median over passes */
    uint64_t accepts, rejects;       /* per run */
    struct reasons reasons;          /* of the first timed run */
    double gen_s;
};

static void run_variant(struct variant_result *vr, const char *name, bool keyed, uint64_t n,
                        const struct params *pp, const struct wd_tz *tz, bool quiet)
{
    struct bench_rng r = {pp->seed ? pp->seed : 0x9E3779B97F4A7C15ULL};
    static struct bench_market m;
    bench_market_init(&m, &r); /* the same prices gen_intents starts from */
    struct wd_config cfg;
    config_make(&cfg, &m, keyed, (uint32_t)pp->max_per_s);
    memset(vr, 0, sizeof *vr);
    vr->name = name;
    vr->intents = n;

    int64_t t0 = now_ns();
    struct intents is;
    memset(&is, 0, sizeof is);
    gen_intents(&is, n, keyed, pp, tz, pp->seed);
    struct world w0, ids;
    world_open(&w0, &cfg, tz, &m);
    decode_intents(&is, &w0);
    ids = w0; /* only its ids are used after w0 closes */
    vr->gen_s = (double)(now_ns() - t0) / 1e9;
    if (!quiet) {
        printf("  %s: %llu intents, %.1f MB of JSON Lines, generated, signed and decoded in "
               "%.1f s\n",
               name, (unsigned long long)n, (double)is.text.len / 1e6, vr->gen_s);
        fflush(stdout);
    }
    struct bench_buf setup = {NULL, 0, 0};
    gen_setup(&setup, &m, is.open0, keyed);

    /* Warm-up: the first world, up to 1M intents through both passes. */
    uint64_t warm = n < 1000000u ? n : 1000000u;
    world_setup(&w0, &setup);
    (void)latency_pass(&w0, &is, &m, 0, warm, false, NULL, 0, NULL);
    world_close(&w0);
    world_open(&w0, &cfg, tz, &m);
    world_same_ids(&ids, &w0);
    world_setup(&w0, &setup);
    (void)latency_pass(&w0, &is, &m, 0, warm, true, NULL, 0, NULL);
    world_close(&w0);

    struct hist h[H__COUNT], th;
    for (unsigned k = 0; k < H__COUNT; k++) {
        hist_init(&h[k]);
    }
    hist_init(&th);
    static struct lat per_run[H__COUNT][MAX_RUNS];
    static struct lat timers[2 * MAX_RUNS];
    unsigned runs = (unsigned)pp->runs;
    struct pass_out first = {0, 0, 0};
    for (unsigned run = 0; run < runs; run++) {
        for (unsigned mode = 0; mode < 2u; mode++) {
            struct world w;
            world_open(&w, &cfg, tz, &m);
            world_same_ids(&ids, &w);
            world_setup(&w, &setup);
            for (unsigned k = 0; k < H__COUNT; k++) {
                hist_reset(&h[k]);
            }
            timers[2u * run + mode] = timer_overhead(&th);
            uint64_t ovh = (uint64_t)timers[2u * run + mode].p50;
            struct pass_out po = latency_pass(&w, &is, &m, 0, n, mode == 1u, h, ovh,
                                              run == 0 && mode == 0 ? &vr->reasons : NULL);
            world_close(&w);
            if (run == 0 && mode == 0) {
                first = po;
            } else if (po.accepts != first.accepts || po.check != first.check) {
                die("the gate's decisions differ between passes or runs");
            }
            if (mode == 0) {
                per_run[H_PROC][run] = hist_lat(&h[H_PROC]);
                per_run[H_ACC][run] = hist_lat(&h[H_ACC]);
                per_run[H_REJ][run] = hist_lat(&h[H_REJ]);
                per_run[H_ACK][run] = hist_lat(&h[H_ACK]);
            } else {
                per_run[H_CHECK][run] = hist_lat(&h[H_CHECK]);
            }
        }
    }
    for (unsigned k = 0; k < H__COUNT; k++) {
        double p99[MAX_RUNS] = {0};
        for (unsigned run = 0; run < runs; run++) {
            p99[run] = per_run[k][run].p99;
        }
        vr->lat[k] = lat_median(per_run[k], runs);
        vr->p99_min[k] = vmin(p99, runs);
        vr->p99_max[k] = vmax(p99, runs);
    }
    vr->timer = lat_median(timers, 2u * runs);
    vr->accepts = first.accepts;
    vr->rejects = first.rejects;
    for (unsigned k = 0; k < H__COUNT; k++) {
        hist_free(&h[k]);
    }
    hist_free(&th);
    free(setup.p);
    intents_free(&is);
    wd_config_destroy(&cfg);
}

/* ---- part 2: replay throughput ------------------------------------------------------------ */

struct rpass {
    uint64_t ok;
    uint64_t check;
    uint64_t outputs[WD_OUT_LOG + 1];
    uint64_t accepts, rejects;
    double seconds;
};

/* decode+book, exactly as bench_decode's decode+book phase. */
static struct rpass replay_book(const char *data, size_t len, const struct wd_tz *tz)
{
    struct rpass r;
    memset(&r, 0, sizeof r);
    struct wd_intern symbols, accounts;
    struct wd_decoder *dec;
    struct wd_book *book;
    struct wd_error err = {0};
    if (wd_intern_init(&symbols, 100000u) != WD_OK || wd_intern_init(&accounts, 10000u) != WD_OK ||
        wd_decoder_new(&symbols, &accounts, &dec) != WD_OK) {
        die("cannot create the decoder");
    }
    struct wd_book_config bc = {.default_capital = 1000000LL * WD_FIX_SCALE, .tz = tz};
    if (wd_book_new(&bc, &symbols, &accounts, &book, &err) != WD_OK) {
        die("cannot create the book");
    }
    struct wd_event ev;
    int64_t t0 = now_ns();
    const char *p = data, *end = data + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        enum wd_status st = wd_decode_line(dec, p, n, &ev, &err);
        if (st == WD_OK) {
            st = wd_book_apply(book, &ev, &err);
        }
        if (st == WD_OK) {
            r.ok++;
            r.check += (uint64_t)ev.ts_ns ^ ev.symbol;
        }
        p += n + 1u;
    }
    r.seconds = (double)(now_ns() - t0) / 1e9;
    r.check ^= (uint64_t)wd_book_firm(book)->equity;
    wd_book_free(book);
    wd_decoder_free(dec);
    wd_intern_destroy(&accounts);
    wd_intern_destroy(&symbols);
    return r;
}

/* decode+engine: the same loop with wd_engine_process (which applies the
 * book itself) instead of wd_book_apply. */
static struct rpass replay_engine(const char *data, size_t len, const struct wd_config *cfg,
                                  const struct wd_tz *tz, struct reasons *reasons)
{
    struct rpass r;
    memset(&r, 0, sizeof r);
    struct sink sink;
    memset(&sink, 0, sizeof sink);
    struct wd_engine *e;
    struct wd_decoder *dec;
    struct wd_error err = {0};
    struct wd_engine_opts o = {.cfg = cfg,
                               .tz = tz,
                               .emit = sink_emit,
                               .emit_ctx = &sink,
                               .hmac_verify = wd_hmac_sha256_verify};
    if (wd_engine_new(&o, &e, &err) != WD_OK ||
        wd_decoder_new(wd_engine_symbols(e), wd_engine_accounts(e), &dec) != WD_OK) {
        die("cannot create the engine");
    }
    struct wd_event ev;
    uint64_t no = 0;
    int64_t t0 = now_ns();
    const char *p = data, *end = data + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        enum wd_status st = wd_decode_line(dec, p, n, &ev, &err);
        if (st == WD_OK) {
            uint64_t decided = sink.accepts + sink.rejects;
            st = wd_engine_process(e, &ev, ++no, &err);
            if (reasons != NULL && sink.accepts + sink.rejects != decided) {
                reasons_add(reasons, sink.last_reason);
            }
        }
        if (st == WD_OK) {
            r.ok++;
            r.check += (uint64_t)ev.ts_ns ^ ev.symbol;
        }
        p += n + 1u;
    }
    r.seconds = (double)(now_ns() - t0) / 1e9;
    r.check ^= (uint64_t)wd_book_firm(wd_engine_book(e))->equity;
    memcpy(r.outputs, sink.by_type, sizeof r.outputs);
    r.accepts = sink.accepts;
    r.rejects = sink.rejects;
    r.check ^= r.accepts * 0x9E3779B97F4A7C15ULL;
    wd_decoder_free(dec);
    wd_engine_free(e);
    return r;
}

/* ---- a broker that only executes accepted orders ------------------------------------------ *
 * The generator's broker acknowledges and fills every intent, including
 * those the gate rejects; the first such fill is unauthorized trading
 * (P0-3), which halts the account, and every later intent of the account
 * is rejected `halted`: the replay then measures an incident, not trading.
 * filter_rejected() drops the acks and fills of rejected intents, repeating
 * until the engine rejects no further intent whose execution is still in
 * the session, so the replayed session is the one a real broker behind
 * warden would have produced. */

#define RSET_BITS 22u

struct rset {
    uint64_t *slots; /* id hashes, 0 = empty */
    size_t n;
};

static uint64_t id_hash(const char *p, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) {
        h = (h ^ (uint8_t)p[i]) * 1099511628211ULL;
    }
    return h | 1u;
}

static void rset_add(struct rset *r, uint64_t h)
{
    size_t mask = ((size_t)1 << RSET_BITS) - 1u, i = (size_t)h & mask;
    while (r->slots[i] != 0 && r->slots[i] != h) {
        i = (i + 1u) & mask;
    }
    if (r->slots[i] == 0 && r->n + 1u < mask / 2u) {
        r->slots[i] = h;
        r->n++;
    }
}

static bool rset_has(const struct rset *r, uint64_t h)
{
    size_t mask = ((size_t)1 << RSET_BITS) - 1u, i = (size_t)h & mask;
    while (r->slots[i] != 0) {
        if (r->slots[i] == h) {
            return true;
        }
        i = (i + 1u) & mask;
    }
    return false;
}

struct rsink {
    struct rset *set;
};

static void rsink_emit(void *ctx, const struct wd_output *o)
{
    struct rsink *s = ctx;
    if (o->type == WD_OUT_DECISION && !o->u.decision.accept) {
        rset_add(s->set, id_hash(o->u.decision.id.ptr, o->u.decision.id.len));
    }
}

/* The id of an ack or fill line, or NULL. */
static const char *exec_id(const char *line, size_t n, size_t *len)
{
    if (memmem(line, n, "\"type\":\"ack\"", 12) == NULL &&
        memmem(line, n, "\"type\":\"fill\"", 13) == NULL) {
        return NULL;
    }
    const char *k = memmem(line, n, "\"id\":\"", 6);
    if (k == NULL) {
        return NULL;
    }
    k += 6;
    const char *q = memchr(k, '"', (size_t)(line + n - k));
    if (q == NULL) {
        return NULL;
    }
    *len = (size_t)(q - k);
    return k;
}

static void filter_rejected(struct bench_buf *b, const struct wd_config *cfg,
                            const struct wd_tz *tz, unsigned *passes, size_t *dropped)
{
    struct rset set = {calloc((size_t)1 << RSET_BITS, sizeof(uint64_t)), 0};
    if (set.slots == NULL) {
        die("out of memory");
    }
    *dropped = 0;
    for (*passes = 1; *passes <= 6; (*passes)++) {
        size_t before = set.n;
        struct rsink rs = {&set};
        struct wd_engine *e;
        struct wd_decoder *dec;
        struct wd_error err = {0};
        struct wd_engine_opts o = {.cfg = cfg, .tz = tz, .emit = rsink_emit, .emit_ctx = &rs,
                                   .hmac_verify = wd_hmac_sha256_verify};
        if (wd_engine_new(&o, &e, &err) != WD_OK ||
            wd_decoder_new(wd_engine_symbols(e), wd_engine_accounts(e), &dec) != WD_OK) {
            die("cannot create the engine");
        }
        struct wd_event ev;
        uint64_t no = 0;
        const char *p = b->p, *end = b->p + b->len;
        while (p < end) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
            if (wd_decode_line(dec, p, n, &ev, &err) == WD_OK &&
                wd_engine_process(e, &ev, ++no, &err) != WD_OK) {
                die("the engine failed while filtering the session");
            }
            p += n + 1u;
        }
        wd_decoder_free(dec);
        wd_engine_free(e);
        /* Drop the executions of every intent rejected so far. */
        size_t w = 0;
        p = b->p;
        while (p < end) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
            size_t idn;
            const char *id = exec_id(p, n, &idn);
            if (id != NULL && rset_has(&set, id_hash(id, idn))) {
                (*dropped)++;
            } else {
                memmove(b->p + w, p, n + 1u);
                w += n + 1u;
            }
            p += n + 1u;
        }
        b->len = w;
        if (set.n == before) {
            break;
        }
    }
    free(set.slots);
}

struct replay_result {
    bool seq_global;
    uint64_t events;
    size_t bytes;
    double book[3], engine[3]; /* median, min, max events/s */
    double ratio_median, ratio_min, ratio_max; /* per-run engine / book */
    double ratio_of_medians;
    struct rpass eng; /* outputs of the warm-up pass */
    struct reasons reasons;
};

static void run_replay(struct replay_result *rr, const struct params *pp,
                       const struct wd_tz *tz, bool quiet)
{
    memset(rr, 0, sizeof rr[0]);
    struct bench_buf b = {NULL, 0, 0};
    int64_t g0 = now_ns();
    bench_gen_session_detectors(&b, pp->events, (unsigned)pp->days, pp->seed,
                                pp->seq_global ? BENCH_SEQ_GLOBAL : BENCH_SEQ_PER_STREAM);
    rr->events = pp->events;
    rr->seq_global = pp->seq_global;
    rr->bytes = b.len;
    struct bench_rng r = {pp->seed ? pp->seed : 0x9E3779B97F4A7C15ULL};
    static struct bench_market m;
    bench_market_init(&m, &r); /* the session's ticker names */
    struct wd_config cfg;
    config_make(&cfg, &m, false, (uint32_t)pp->max_per_s);
    unsigned passes = 0;
    size_t dropped = 0;
    if (pp->broker_filter) {
        filter_rejected(&b, &cfg, tz, &passes, &dropped);
        rr->events = pp->events - dropped;
        rr->bytes = b.len;
    }
    if (!quiet) {
        printf("  session: %llu events, %.1f MB (%.1f bytes/event), generated in %.2f s\n",
               (unsigned long long)rr->events, (double)b.len / 1e6,
               (double)b.len / (double)rr->events, (double)(now_ns() - g0) / 1e9);
        if (pp->broker_filter) {
            printf("  broker executes accepted orders only: %zu acks/fills of rejected intents "
                   "dropped in %u passes\n", dropped, passes);
        }
        fflush(stdout);
    }
    struct rpass wb = replay_book(b.p, b.len, tz);
    rr->eng = replay_engine(b.p, b.len, &cfg, tz, &rr->reasons);
    if (wb.ok != rr->events || rr->eng.ok != rr->events) {
        die("the generated session is not fully accepted");
    }
    unsigned runs = (unsigned)pp->runs;
    double book[MAX_RUNS] = {0}, eng[MAX_RUNS] = {0}, ratio[MAX_RUNS] = {0};
    for (unsigned run = 0; run < runs; run++) {
        struct rpass pb = replay_book(b.p, b.len, tz);
        struct rpass pe = replay_engine(b.p, b.len, &cfg, tz, NULL);
        if (pb.check != wb.check || pe.check != rr->eng.check) {
            die("a replay pass is not deterministic");
        }
        book[run] = (double)rr->events / pb.seconds;
        eng[run] = (double)rr->events / pe.seconds;
        ratio[run] = eng[run] / book[run];
    }
    rr->book[0] = median(book, runs);
    rr->book[1] = vmin(book, runs);
    rr->book[2] = vmax(book, runs);
    rr->engine[0] = median(eng, runs);
    rr->engine[1] = vmin(eng, runs);
    rr->engine[2] = vmax(eng, runs);
    rr->ratio_median = median(ratio, runs);
    rr->ratio_min = vmin(ratio, runs);
    rr->ratio_max = vmax(ratio, runs);
    rr->ratio_of_medians = rr->engine[0] / rr->book[0];
    wd_config_destroy(&cfg);
    free(b.p);
}

/* ---- output ------------------------------------------------------------------------------- */

static const char *const out_names[WD_OUT_LOG + 1] = {"decision", "control", "incident",
                                                      "alert",    "state",   "log"};

static void print_reasons(const struct reasons *rs, const char *indent)
{
    for (unsigned i = 0; i < rs->n; i++) {
        printf("%s%-28s %12llu\n", indent, rs->name[i], (unsigned long long)rs->count[i]);
    }
}

static void print_variant_text(const struct variant_result *vr)
{
    printf("\n%s sources: %llu intents per run; medians over runs, ns (timer overhead "
           "subtracted)\n",
           vr->name, (unsigned long long)vr->intents);
    printf("%-28s %10s %7s %7s %8s %9s %7s %15s\n", "call", "samples", "p50", "p99", "p99.9",
           "max", "mean", "p99 min..max");
    for (unsigned k = 0; k < H__COUNT; k++) {
        const struct lat *l = &vr->lat[k];
        printf("%-28s %10llu %7.0f %7.0f %8.0f %9.0f %7.1f %7.0f..%-7.0f\n", h_names[k],
               (unsigned long long)l->n, l->p50, l->p99, l->p999, l->max, l->mean,
               vr->p99_min[k], vr->p99_max[k]);
    }
    printf("timer (clock_gettime pair, raw): p50 %.0f ns, p99 %.0f ns, p99.9 %.0f ns\n",
           vr->timer.p50, vr->timer.p99, vr->timer.p999);
    printf("decisions per run: %llu accepted, %llu rejected:\n",
           (unsigned long long)vr->accepts, (unsigned long long)vr->rejects);
    print_reasons(&vr->reasons, "  ");
    printf("target p99 < 1000 ns for wd_engine_process: %s (p99 %.0f ns)\n",
           vr->lat[H_PROC].p99 < 1000.0 ? "met" : "MISSED", vr->lat[H_PROC].p99);
}

static void print_lat_json(const char *name, const struct lat *l, double p99min, double p99max)
{
    printf("{\"name\":\"%s\",\"samples\":%llu,\"p50_ns\":%.0f,\"p99_ns\":%.0f,"
           "\"p999_ns\":%.0f,\"max_ns\":%.0f,\"mean_ns\":%.1f,\"p99_min_ns\":%.0f,"
           "\"p99_max_ns\":%.0f}",
           name, (unsigned long long)l->n, l->p50, l->p99, l->p999, l->max, l->mean, p99min,
           p99max);
}

static void print_reasons_json(const struct reasons *rs)
{
    printf("{");
    for (unsigned i = 0; i < rs->n; i++) {
        printf("%s\"%s\":%llu", i ? "," : "", rs->name[i], (unsigned long long)rs->count[i]);
    }
    printf("}");
}

static void print_variant_json(const struct variant_result *vr)
{
    static const char *const keys[H__COUNT] = {"process", "process_accepted",
                                               "process_rejected", "cancel_ack", "check_intent"};
    printf("{\"sources\":\"%s\",\"intents\":%llu,\"accepts\":%llu,\"rejects\":%llu,"
           "\"timer_p50_ns\":%.0f,\"timer_p99_ns\":%.0f,\"reasons\":",
           vr->name, (unsigned long long)vr->intents, (unsigned long long)vr->accepts,
           (unsigned long long)vr->rejects, vr->timer.p50, vr->timer.p99);
    print_reasons_json(&vr->reasons);
    printf(",\"calls\":[");
    for (unsigned k = 0; k < H__COUNT; k++) {
        if (k) {
            printf(",");
        }
        print_lat_json(keys[k], &vr->lat[k], vr->p99_min[k], vr->p99_max[k]);
    }
    printf("]}");
}

static void print_replay_text(const struct replay_result *rr, unsigned runs)
{
    printf("\nreplay: %llu events, %.1f MB, seq %s, %u timed runs per phase after one "
           "warm-up, interleaved\n",
           (unsigned long long)rr->events, (double)rr->bytes / 1e6,
           rr->seq_global ? "global (bench_decode's bytes)" : "per stream", runs);
    printf("%-14s %14s %14s %14s %10s\n", "phase", "median ev/s", "min ev/s", "max ev/s",
           "ns/event");
    printf("%-14s %14.0f %14.0f %14.0f %10.1f\n", "decode+book", rr->book[0], rr->book[1],
           rr->book[2], 1e9 / rr->book[0]);
    printf("%-14s %14.0f %14.0f %14.0f %10.1f\n", "decode+engine", rr->engine[0],
           rr->engine[1], rr->engine[2], 1e9 / rr->engine[0]);
    printf("engine cost over the book: %.1f ns/event\n", 1e9 / rr->engine[0] - 1e9 / rr->book[0]);
    printf("ratio decode+engine / decode+book: %.1f%% (median of per-run ratios; "
           "%.1f%%..%.1f%%; ratio of medians %.1f%%)   (target >= 80%%): %s\n",
           100.0 * rr->ratio_median, 100.0 * rr->ratio_min, 100.0 * rr->ratio_max,
           100.0 * rr->ratio_of_medians, rr->ratio_median >= 0.80 ? "met" : "MISSED");
    printf("engine outputs per pass:");
    for (unsigned t = 0; t <= (unsigned)WD_OUT_LOG; t++) {
        printf(" %s %llu%s", out_names[t], (unsigned long long)rr->eng.outputs[t],
               t < (unsigned)WD_OUT_LOG ? "," : "\n");
    }
    printf("decisions: %llu accepted, %llu rejected:\n", (unsigned long long)rr->eng.accepts,
           (unsigned long long)rr->eng.rejects);
    print_reasons(&rr->reasons, "  ");
}

static void print_replay_json(const struct replay_result *rr)
{
    printf("{\"events\":%llu,\"bytes\":%zu,\"seq\":\"%s\",\"decode_book\":{\"median_events_per_s\":%.0f,"
           "\"min_events_per_s\":%.0f,\"max_events_per_s\":%.0f},"
           "\"decode_engine\":{\"median_events_per_s\":%.0f,\"min_events_per_s\":%.0f,"
           "\"max_events_per_s\":%.0f},\"ratio_engine_vs_book\":%.3f,"
           "\"ratio_min\":%.3f,\"ratio_max\":%.3f,\"ratio_of_medians\":%.3f,\"outputs\":{",
           (unsigned long long)rr->events, rr->bytes, rr->seq_global ? "global" : "stream",
           rr->book[0], rr->book[1], rr->book[2],
           rr->engine[0], rr->engine[1], rr->engine[2], rr->ratio_median, rr->ratio_min,
           rr->ratio_max, rr->ratio_of_medians);
    for (unsigned t = 0; t <= (unsigned)WD_OUT_LOG; t++) {
        printf("%s\"%s\":%llu", t ? "," : "", out_names[t],
               (unsigned long long)rr->eng.outputs[t]);
    }
    printf("},\"reasons\":");
    print_reasons_json(&rr->reasons);
    printf("}");
}

/* ---- command line ---------------------------------------------------------------------------- */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: bench_gate [--intents N] [--signed-intents N] [--events N] [--runs R]\n"
            "                  [--days D] [--seed S] [--max-orders-per-s N] [--intent-rate N]\n"
            "                  [--reject-bp N] [--seq stream|global] [--only latency|replay]\n"
            "                  [--json]\n"
            "  --intents N         intents per latency run, unsigned sources (default 10000000)\n"
            "  --signed-intents N  intents per latency run, HMAC-signed sources (default 10000000;\n"
            "                      0 skips the signed variant)\n"
            "  --events N          events in the replayed session (default 5000000)\n"
            "  --runs R            timed runs after one warm-up (default 5, max %u)\n"
            "  --days D            days the replayed session spans (default 5)\n"
            "  --seed S            PRNG seed (default fixed, bench_decode's)\n"
            "  --max-orders-per-s N  limits.max_orders_per_s (default 100)\n"
            "  --intent-rate N     intents per second of event time, all accounts (default 200)\n"
            "  --reject-bp N       intents built to be rejected, per 10,000 (default 100)\n"
            "  --seq M             replay: seq numbered per producer stream (default), or\n"
            "                      global: bench_decode's exact bytes, one counter\n"
            "  --broker M          replay: 'accepted' (default) executes only the orders the\n"
            "                      engine accepts; 'all' fills every intent (a broken broker)\n"
            "  --only P            run only part P\n"
            "  --json              print the figures as one JSON object\n",
            MAX_RUNS);
}

int main(int argc, char **argv)
{
    struct params pp = {.intents = 10000000u,
                        .signed_intents = 10000000u,
                        .events = 5000000u,
                        .runs = 5u,
                        .days = 5u,
                        .seed = 0x5EEDu,
                        .max_per_s = 100u,
                        .intent_rate = 200u,
                        .reject_bp = 100u,
                        .seq_global = false,
                        .broker_filter = true,
                        .json = false,
                        .only = -1};
    bench_progname = "bench_gate";
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        bool ok = true;
        if (strcmp(arg, "--intents") == 0) {
            ok = bench_parse_u64(val, 1u, 200000000u, &pp.intents);
            i++;
        } else if (strcmp(arg, "--signed-intents") == 0) {
            ok = bench_parse_u64(val, 0u, 200000000u, &pp.signed_intents);
            i++;
        } else if (strcmp(arg, "--events") == 0) {
            ok = bench_parse_u64(val, 1u, 1000000000u, &pp.events);
            i++;
        } else if (strcmp(arg, "--runs") == 0) {
            ok = bench_parse_u64(val, 1u, MAX_RUNS, &pp.runs);
            i++;
        } else if (strcmp(arg, "--days") == 0) {
            ok = bench_parse_u64(val, 1u, 3650u, &pp.days);
            i++;
        } else if (strcmp(arg, "--seed") == 0) {
            ok = bench_parse_u64(val, 0u, UINT64_MAX, &pp.seed);
            i++;
        } else if (strcmp(arg, "--max-orders-per-s") == 0) {
            ok = bench_parse_u64(val, 0u, 1000000u, &pp.max_per_s);
            i++;
        } else if (strcmp(arg, "--intent-rate") == 0) {
            ok = bench_parse_u64(val, 1u, 50000u, &pp.intent_rate);
            i++;
        } else if (strcmp(arg, "--reject-bp") == 0) {
            ok = bench_parse_u64(val, 0u, 10000u, &pp.reject_bp);
            i++;
        } else if (strcmp(arg, "--seq") == 0) {
            ok = val != NULL && (strcmp(val, "stream") == 0 || strcmp(val, "global") == 0);
            if (ok) {
                pp.seq_global = strcmp(val, "global") == 0;
            }
            i++;
        } else if (strcmp(arg, "--broker") == 0) {
            ok = val != NULL && (strcmp(val, "accepted") == 0 || strcmp(val, "all") == 0);
            if (ok) {
                pp.broker_filter = strcmp(val, "accepted") == 0;
            }
            i++;
        } else if (strcmp(arg, "--only") == 0) {
            ok = val != NULL && (strcmp(val, "latency") == 0 || strcmp(val, "replay") == 0);
            if (ok) {
                pp.only = strcmp(val, "latency") == 0 ? 0 : 1;
            }
            i++;
        } else if (strcmp(arg, "--json") == 0) {
            pp.json = true;
        } else if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            usage(stdout);
            return 0;
        } else {
            ok = false;
        }
        if (!ok) {
            fprintf(stderr, "bench_gate: bad argument '%s%s%s'\n", arg, val ? " " : "",
                    val ? val : "");
            usage(stderr);
            return 2;
        }
    }

    struct wd_tz *tz = NULL;
    static const char rule[] = "EST5EDT,M3.2.0,M11.1.0";
    if (wd_tz_from_posix(rule, sizeof rule - 1u, &tz, NULL) != WD_OK) {
        die("cannot build the time zone");
    }
    make_keys();

    static struct variant_result vr[2];
    unsigned n_vr = 0;
    static struct replay_result rr;
    if (!pp.json) {
        printf("bench_gate: %llu timed runs after one warm-up (fresh engine per pass)\n",
               (unsigned long long)pp.runs);
        fflush(stdout);
    }
    if (pp.only != 1) {
        run_variant(&vr[n_vr++], "unsigned", false, pp.intents, &pp, tz, pp.json);
        if (!pp.json) {
            print_variant_text(&vr[0]);
            fflush(stdout);
        }
        if (pp.signed_intents > 0) {
            run_variant(&vr[n_vr++], "signed", true, pp.signed_intents, &pp, tz, pp.json);
            if (!pp.json) {
                print_variant_text(&vr[1]);
                fflush(stdout);
            }
        }
    }
    if (pp.only != 0) {
        run_replay(&rr, &pp, tz, pp.json);
        if (!pp.json) {
            print_replay_text(&rr, (unsigned)pp.runs);
        }
    }
    if (pp.json) {
        printf("{\"runs\":%llu,\"max_orders_per_s\":%llu,\"intent_rate\":%llu,"
               "\"reject_bp\":%llu,\"latency\":[",
               (unsigned long long)pp.runs, (unsigned long long)pp.max_per_s,
               (unsigned long long)pp.intent_rate, (unsigned long long)pp.reject_bp);
        for (unsigned i = 0; i < n_vr; i++) {
            if (i) {
                printf(",");
            }
            print_variant_json(&vr[i]);
        }
        printf("],\"replay\":");
        if (pp.only != 0) {
            print_replay_json(&rr);
        } else {
            printf("null");
        }
        printf("}\n");
    }
    wd_tz_free(tz);
    return 0;
}
