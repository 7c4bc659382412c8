/*
 * Benchmark of the event hot path: JSON Lines bytes -> struct wd_event ->
 * book, against a tokenize-only baseline over the very same bytes.
 *
 * It generates in memory a deterministic, realistic session (xorshift PRNG,
 * fixed seed): ~70% quotes, ~10% trades, ~8% intents, ~6% acks, ~5% fills,
 * ~1% heartbeats / account / metric events, over 200 symbols and 4
 * accounts, integer-nanosecond timestamps increasing over several days (so
 * the book rolls its local day). It then times, in the same run and
 * interleaved, three phases over the whole buffer:
 *   tokenize     memchr line split + jsmn (strict, 256 tokens), the floor
 *                any jsmn-based decoder pays
 *   decode       wd_decode_line on every line
 *   decode+book  wd_decode_line then wd_book_apply on every line
 * after one warm-up pass of each, and reports per phase the median, min and
 * max events/s over the runs and the ratio decode+book / tokenize.
 *
 * This is a tool, not core code: it reads the monotonic clock and prints.
 * It never gates the tests. Usage: bench_decode [--events N] [--runs R]
 * [--days D] [--seed S] [--only PHASE] [--json] [--dump] (--only times one
 * phase, for a profiler; --dump writes the session to stdout and measures
 * nothing).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "warden/book.h"
#include "warden/decode.h"
#include "warden/fixed.h"
#include "warden/intern.h"
#include "warden/tz.h"

/* jsmn exactly as src/core/decode.c compiles it, for the baseline. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wconversion"
#pragma GCC diagnostic ignored "-Wsign-conversion"
#pragma GCC diagnostic ignored "-Wnull-dereference"
#define JSMN_STATIC
#define JSMN_STRICT
#include <jsmn.h>
#pragma GCC diagnostic pop

#define N_SYMBOLS 200u
#define N_ACCOUNTS 4u
#define MAX_RUNS 101u
/* 2025-11-17T14:30:00Z, a Monday, 09:30 in New York. */
#define START_NS 1763389800000000000LL
#define NS_PER_DAY 86400000000000LL

/* ---- deterministic generator ---------------------------------------------- */

struct rng {
    uint64_t s;
};

/* xorshift64* (Vigna): fast, deterministic, good enough for a workload. */
static uint64_t rng_next(struct rng *r)
{
    uint64_t x = r->s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    r->s = x;
    return x * 0x2545F4914F6CDD1DULL;
}

/* Uniform-ish in [0, n); n > 0. The modulo bias is irrelevant here. */
static uint64_t rng_below(struct rng *r, uint64_t n)
{
    return (rng_next(r) >> 11) % n;
}

/* A growable output buffer. */
struct buf {
    char *p;
    size_t len, cap;
};

static void buf_reserve(struct buf *b, size_t extra)
{
    if (b->len + extra <= b->cap) {
        return;
    }
    size_t ncap = b->cap ? b->cap : (size_t)1 << 20;
    while (ncap < b->len + extra) {
        ncap *= 2u;
    }
    char *np = realloc(b->p, ncap);
    if (np == NULL) {
        fprintf(stderr, "bench_decode: out of memory (%zu bytes)\n", ncap);
        exit(1);
    }
    b->p = np;
    b->cap = ncap;
}

static void put_str(struct buf *b, const char *s)
{
    size_t n = strlen(s);
    buf_reserve(b, n);
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

static void put_u64(struct buf *b, uint64_t v)
{
    char tmp[24];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v != 0);
    buf_reserve(b, n);
    while (n > 0) {
        b->p[b->len++] = tmp[--n];
    }
}

/* v / 10^dec with exactly dec decimals, e.g. (18952, 2) -> "189.52". */
static void put_dec(struct buf *b, int64_t v, unsigned dec)
{
    if (v < 0) {
        put_str(b, "-");
        v = -v;
    }
    uint64_t scale = 1;
    for (unsigned i = 0; i < dec; i++) {
        scale *= 10u;
    }
    uint64_t u = (uint64_t)v;
    put_u64(b, u / scale);
    if (dec > 0) {
        char frac[24];
        uint64_t f = u % scale;
        for (unsigned i = dec; i > 0; i--) {
            frac[i - 1u] = (char)('0' + f % 10u);
            f /= 10u;
        }
        frac[dec] = '\0';
        put_str(b, ".");
        put_str(b, frac);
    }
}

/* A key and the start of its value: ,"key": */
static void put_key(struct buf *b, const char *key)
{
    put_str(b, ",\"");
    put_str(b, key);
    put_str(b, "\":");
}

static void put_kstr(struct buf *b, const char *key, const char *val)
{
    put_key(b, key);
    put_str(b, "\"");
    put_str(b, val);
    put_str(b, "\"");
}

struct market {
    char names[N_SYMBOLS][8];
    int64_t px_cents[N_SYMBOLS];
};

static void market_init(struct market *m, struct rng *r)
{
    for (unsigned i = 0; i < N_SYMBOLS; i++) {
        /* Distinct 4-letter tickers: i * 7919 is a bijection modulo 26^4. */
        uint32_t k = (i * 7919u + 12345u) % (26u * 26u * 26u * 26u);
        for (int c = 3; c >= 0; c--) {
            m->names[i][c] = (char)('A' + k % 26u);
            k /= 26u;
        }
        m->names[i][4] = '\0';
        m->px_cents[i] = 1000 + (int64_t)rng_below(r, 49000); /* $10 .. $500 */
    }
}

/* A symbol, skewed so that a few names are much more active (roughly what
 * real feeds look like): half the traffic on the first 20 symbols. */
static unsigned pick_symbol(struct rng *r)
{
    return rng_below(r, 2) ? (unsigned)rng_below(r, 20) : (unsigned)rng_below(r, N_SYMBOLS);
}

static void put_head(struct buf *b, const char *type, int64_t ts, uint64_t seq)
{
    put_str(b, "{\"type\":\"");
    put_str(b, type);
    put_str(b, "\",\"ts\":");
    put_u64(b, (uint64_t)ts);
    put_key(b, "seq");
    put_u64(b, seq);
}

static const char *const accounts[N_ACCOUNTS] = {"acct_momo", "acct_mr", "acct_arb", "acct_mm"};
static const char *const sources[N_ACCOUNTS] = {"strat_momo", "strat_mr", "strat_arb", "strat_mm"};

/* Appends n events (one JSON object per line) to b. */
static void generate(struct buf *b, uint64_t n, unsigned days, uint64_t seed)
{
    struct rng r = {seed ? seed : 0x9E3779B97F4A7C15ULL};
    static struct market m;
    market_init(&m, &r);
    uint64_t mean_step = (uint64_t)days * (uint64_t)NS_PER_DAY / (n ? n : 1u);
    if (mean_step < 1u) {
        mean_step = 1u;
    }
    int64_t ts = START_NS;
    uint64_t next_order = 1, last_intent = 0;
    /* Fills follow the latest intent: same account, symbol and side. */
    unsigned last_sym = 0, last_acct = 0;
    const char *last_side = "BUY";
    for (uint64_t seq = 1; seq <= n; seq++) {
        ts += 1 + (int64_t)rng_below(&r, 2u * mean_step);
        unsigned s = pick_symbol(&r);
        unsigned a = (unsigned)rng_below(&r, N_ACCOUNTS);
        uint64_t roll = rng_below(&r, 10000);
        /* The price walks by a few cents on every market event. */
        int64_t px = m.px_cents[s] + (int64_t)rng_below(&r, 5) - 2;
        if (px < 100) {
            px = 100;
        }
        m.px_cents[s] = px;
        if (roll < 7000) {
            put_head(b, "quote", ts, seq);
            put_kstr(b, "symbol", m.names[s]);
            put_key(b, "bid");
            put_dec(b, px, 2);
            put_key(b, "ask");
            put_dec(b, px + 1 + (int64_t)rng_below(&r, 3), 2);
            put_key(b, "bid_size");
            put_u64(b, 100u * (1u + rng_below(&r, 20)));
            put_key(b, "ask_size");
            put_u64(b, 100u * (1u + rng_below(&r, 20)));
        } else if (roll < 8000) {
            put_head(b, "trade", ts, seq);
            put_kstr(b, "symbol", m.names[s]);
            put_key(b, "price");
            put_dec(b, px, 2);
            put_key(b, "size");
            put_u64(b, 1u + rng_below(&r, 1000));
        } else if (roll < 8800) {
            put_head(b, "intent", ts, seq);
            put_kstr(b, "account", accounts[a]);
            put_key(b, "id");
            put_str(b, "\"o");
            put_u64(b, next_order);
            put_str(b, "\"");
            last_intent = next_order++;
            last_sym = s;
            last_acct = a;
            last_side = rng_below(&r, 2) ? "BUY" : "SELL";
            put_kstr(b, "symbol", m.names[s]);
            put_kstr(b, "side", last_side);
            put_key(b, "qty");
            put_u64(b, 10u * (1u + rng_below(&r, 50)));
            put_kstr(b, "source", sources[a]);
            if (rng_below(&r, 2)) {
                put_kstr(b, "order_type", "LMT");
                put_key(b, "limit");
                put_dec(b, px, 2);
            }
        } else if (roll < 9400) {
            put_head(b, "ack", ts, seq);
            put_kstr(b, "account", accounts[a]);
            put_key(b, "id");
            put_str(b, "\"o");
            put_u64(b, last_intent ? last_intent : 1u);
            put_str(b, "\"");
            if (rng_below(&r, 20) == 0) {
                put_kstr(b, "status", "rejected");
                put_kstr(b, "reason", "limit:max_order_qty");
            } else {
                put_kstr(b, "status", rng_below(&r, 10) ? "accepted" : "cancelled");
            }
        } else if (roll < 9900) {
            put_head(b, "fill", ts, seq);
            put_kstr(b, "account", accounts[last_acct]);
            put_key(b, "id");
            put_str(b, "\"o");
            put_u64(b, last_intent ? last_intent : 1u);
            put_str(b, "\"");
            put_kstr(b, "symbol", m.names[last_sym]);
            put_kstr(b, "side", last_side);
            put_key(b, "qty");
            put_u64(b, 10u * (1u + rng_below(&r, 50)));
            put_key(b, "price");
            put_dec(b, m.px_cents[last_sym], 2);
            put_key(b, "commission");
            put_dec(b, 35 + (int64_t)rng_below(&r, 100), 2);
            put_key(b, "exec_id");
            put_str(b, "\"x");
            put_u64(b, seq);
            put_str(b, "\"");
        } else if (roll < 9934) {
            static const char *const comps[] = {"md_feed", "oms", "risk_gw"};
            put_head(b, "heartbeat", ts, seq);
            put_kstr(b, "component", comps[rng_below(&r, 3)]);
            put_kstr(b, "status", "up");
        } else if (roll < 9967) {
            put_head(b, "account", ts, seq);
            put_kstr(b, "account", accounts[a]);
            put_key(b, "equity");
            put_dec(b, 100000000 + (int64_t)rng_below(&r, 1000000), 2);
            put_key(b, "cash");
            put_dec(b, 50000000 + (int64_t)rng_below(&r, 1000000), 2);
        } else {
            put_head(b, "metric", ts, seq);
            put_kstr(b, "name", "order_latency_ms");
            put_key(b, "value");
            put_dec(b, 100 + (int64_t)rng_below(&r, 5000), 3);
            put_str(b, ",\"labels\":{\"venue\":\"XNAS\",\"path\":\"oms\"}");
        }
        put_str(b, "}\n");
    }
}

/* ---- the three phases -------------------------------------------------- */

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* What a pass returns, so that the compiler cannot drop the work and so
 * that the phases can be cross-checked. */
struct pass {
    uint64_t lines, ok;
    uint64_t check; /* a phase-specific checksum */
    double seconds;
};

static struct pass run_tokenize(const char *data, size_t len)
{
    static jsmntok_t toks[WD_DECODE_MAX_TOKENS];
    struct pass r = {0, 0, 0, 0.0};
    double t0 = now_s();
    const char *p = data, *end = data + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        jsmn_parser jp;
        jsmn_init(&jp);
        int nt = jsmn_parse(&jp, p, n, toks, WD_DECODE_MAX_TOKENS);
        r.lines++;
        if (nt > 0) {
            r.ok++;
            r.check += (uint64_t)nt + (uint64_t)toks[nt - 1].end;
        }
        p += n + 1u;
    }
    r.seconds = now_s() - t0;
    return r;
}

/* Everything a decode pass needs, created before the clock starts so that
 * each run starts from the same empty state. */
struct pipeline {
    struct wd_intern symbols, accounts;
    struct wd_decoder *dec;
    struct wd_book *book;
};

static void pipeline_open(struct pipeline *pl, const struct wd_tz *tz)
{
    struct wd_error err;
    memset(&err, 0, sizeof err);
    if (wd_intern_init(&pl->symbols, 100000u) != WD_OK ||
        wd_intern_init(&pl->accounts, 10000u) != WD_OK ||
        wd_decoder_new(&pl->symbols, &pl->accounts, &pl->dec) != WD_OK) {
        fprintf(stderr, "bench_decode: cannot create the decoder\n");
        exit(1);
    }
    struct wd_book_config cfg = {
        .default_capital = 1000000LL * WD_FIX_SCALE,
        .accounts = NULL,
        .n_accounts = 0,
        .tz = tz,
        .max_positions = 0,
    };
    if (wd_book_new(&cfg, &pl->symbols, &pl->accounts, &pl->book, &err) != WD_OK) {
        fprintf(stderr, "bench_decode: cannot create the book: %s\n", err.msg);
        exit(1);
    }
}

static void pipeline_close(struct pipeline *pl)
{
    wd_book_free(pl->book);
    wd_decoder_free(pl->dec);
    wd_intern_destroy(&pl->accounts);
    wd_intern_destroy(&pl->symbols);
}

static struct pass run_decode(const char *data, size_t len, const struct wd_tz *tz,
                              bool with_book, struct wd_error *first_err)
{
    struct pipeline pl;
    pipeline_open(&pl, tz);
    struct pass r = {0, 0, 0, 0.0};
    struct wd_event ev;
    struct wd_error err;
    memset(&err, 0, sizeof err);
    double t0 = now_s();
    const char *p = data, *end = data + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        r.lines++;
        enum wd_status st = wd_decode_line(pl.dec, p, n, &ev, &err);
        if (st == WD_OK && with_book) {
            st = wd_book_apply(pl.book, &ev, &err);
        }
        if (st == WD_OK) {
            r.ok++;
            r.check += (uint64_t)ev.ts_ns ^ ev.symbol;
        } else if (first_err != NULL && first_err->status == WD_OK) {
            *first_err = err;
            first_err->status = st;
            first_err->line = r.lines;
        }
        p += n + 1u;
    }
    r.seconds = now_s() - t0;
    if (with_book) {
        /* Fold the final equity in, so the book's work is observable. */
        r.check ^= (uint64_t)wd_book_firm(pl.book)->equity;
    }
    pipeline_close(&pl);
    return r;
}

enum { PH_TOKENIZE, PH_DECODE, PH_BOOK, PH__COUNT };
static const char *const phase_names[PH__COUNT] = {"tokenize", "decode", "decode+book"};

static struct pass run_phase(unsigned ph, const char *data, size_t len, const struct wd_tz *tz,
                             struct wd_error *first_err)
{
    if (ph == PH_TOKENIZE) {
        return run_tokenize(data, len);
    }
    return run_decode(data, len, tz, ph == PH_BOOK, first_err);
}

/* ---- statistics and output -------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

struct stats {
    double median, min, max; /* events per second */
};

static struct stats summarize(const double *rates, unsigned n)
{
    double sorted[MAX_RUNS];
    memcpy(sorted, rates, n * sizeof *rates);
    qsort(sorted, n, sizeof *sorted, cmp_double);
    struct stats s;
    s.min = sorted[0];
    s.max = sorted[n - 1u];
    s.median = n % 2u ? sorted[n / 2u] : (sorted[n / 2u - 1u] + sorted[n / 2u]) / 2.0;
    return s;
}

static bool parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    char *end;
    errno = 0;
    if (s == NULL || *s == '\0' || *s == '-') {
        return false;
    }
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max) {
        return false;
    }
    *out = (uint64_t)v;
    return true;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: bench_decode [--events N] [--runs R] [--days D] [--seed S]\n"
            "                    [--only tokenize|decode|decode+book] [--json] [--dump]\n"
            "  --events N  events in the generated session (default 5000000)\n"
            "  --runs R    timed runs per phase after one warm-up (default 5, max %u)\n"
            "  --days D    days the session spans (default 5)\n"
            "  --seed S    PRNG seed (default fixed)\n"
            "  --only P    time only phase P (for profiling; no ratios)\n"
            "  --json      print the figures as one JSON object\n"
            "  --dump      write the generated session to stdout, measure nothing\n",
            MAX_RUNS);
}


int main(int argc, char **argv)
{
    uint64_t n_events = 5000000u, runs = 5u, days = 5u, seed = 0x5EEDu;
    bool json = false, dump = false;
    int only = -1; /* a phase, or -1 for all */
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        bool ok = true;
        if (strcmp(arg, "--events") == 0) {
            ok = parse_u64(val, 1u, 1000000000u, &n_events);
            i++;
        } else if (strcmp(arg, "--runs") == 0) {
            ok = parse_u64(val, 1u, MAX_RUNS, &runs);
            i++;
        } else if (strcmp(arg, "--days") == 0) {
            ok = parse_u64(val, 1u, 3650u, &days);
            i++;
        } else if (strcmp(arg, "--seed") == 0) {
            ok = parse_u64(val, 0u, UINT64_MAX, &seed);
            i++;
        } else if (strcmp(arg, "--only") == 0) {
            ok = false;
            for (int ph = 0; ph < PH__COUNT; ph++) {
                if (val != NULL && strcmp(val, phase_names[ph]) == 0) {
                    only = ph;
                    ok = true;
                }
            }
            i++;
        } else if (strcmp(arg, "--json") == 0) {
            json = true;
        } else if (strcmp(arg, "--dump") == 0) {
            dump = true;
        } else if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            usage(stdout);
            return 0;
        } else {
            ok = false;
        }
        if (!ok) {
            fprintf(stderr, "bench_decode: bad argument '%s%s%s'\n", arg, val ? " " : "",
                    val ? val : "");
            usage(stderr);
            return 2;
        }
    }

    struct wd_tz *tz = NULL;
    static const char rule[] = "EST5EDT,M3.2.0,M11.1.0";
    if (wd_tz_from_posix(rule, sizeof rule - 1u, &tz, NULL) != WD_OK) {
        fprintf(stderr, "bench_decode: cannot build the time zone %s\n", rule);
        return 1;
    }

    struct buf b = {NULL, 0, 0};
    double g0 = now_s();
    generate(&b, n_events, (unsigned)days, seed);
    double gen_s = now_s() - g0;
    if (dump) {
        int rc = fwrite(b.p, 1, b.len, stdout) == b.len && fflush(stdout) == 0 ? 0 : 1;
        free(b.p);
        wd_tz_free(tz);
        return rc;
    }
    if (!json) {
        printf("bench_decode: %llu events, %.1f MB (%.1f bytes/event), generated in %.2f s\n",
               (unsigned long long)n_events, (double)b.len / 1e6,
               (double)b.len / (double)n_events, gen_s);
        fflush(stdout);
    }

    /* Warm-up: touches every page and every branch once, and checks that
     * the generated session is entirely valid. */
    struct wd_error first_err;
    memset(&first_err, 0, sizeof first_err);
    uint64_t checks[PH__COUNT] = {0, 0, 0};
    for (unsigned ph = 0; ph < PH__COUNT; ph++) {
        if (only >= 0 && ph != (unsigned)only) {
            continue;
        }
        struct pass w = run_phase(ph, b.p, b.len, tz, &first_err);
        if (w.ok != n_events) {
            fprintf(stderr,
                    "bench_decode: generated session not fully accepted by phase %s (%llu of "
                    "%llu)",
                    phase_names[ph], (unsigned long long)w.ok, (unsigned long long)n_events);
            if (first_err.status != WD_OK) {
                fprintf(stderr, "; first error at line %llu: %s: %s",
                        (unsigned long long)first_err.line, wd_status_str(first_err.status),
                        first_err.msg);
            }
            fprintf(stderr, "\n");
            return 1;
        }
        checks[ph] = w.check;
    }

    static double rates[PH__COUNT][MAX_RUNS];
    for (unsigned r = 0; r < runs; r++) {
        /* Interleaved, so that drift in the machine's speed hits every
         * phase alike. */
        for (unsigned ph = 0; ph < PH__COUNT; ph++) {
            if (only >= 0 && ph != (unsigned)only) {
                continue;
            }
            struct pass p = run_phase(ph, b.p, b.len, tz, NULL);
            if (p.check != checks[ph] || p.ok != n_events) {
                fprintf(stderr, "bench_decode: phase %s is not deterministic\n",
                        phase_names[ph]);
                return 1;
            }
            rates[ph][r] = (double)n_events / p.seconds;
        }
    }

    struct stats st[PH__COUNT];
    for (unsigned ph = 0; ph < PH__COUNT; ph++) {
        st[ph] = summarize(rates[ph], (unsigned)runs);
    }
    bool all = only < 0;
    double ratio_book = all ? st[PH_BOOK].median / st[PH_TOKENIZE].median : 0.0;
    double ratio_dec = all ? st[PH_DECODE].median / st[PH_TOKENIZE].median : 0.0;
    double mb = (double)b.len / 1e6;

    if (json) {
        printf("{\"events\":%llu,\"bytes\":%zu,\"runs\":%llu,\"days\":%llu,\"seed\":%llu,"
               "\"phases\":[",
               (unsigned long long)n_events, b.len, (unsigned long long)runs,
               (unsigned long long)days, (unsigned long long)seed);
        const char *sep = "";
        for (unsigned ph = 0; ph < PH__COUNT; ph++) {
            if (!all && ph != (unsigned)only) {
                continue;
            }
            printf("%s{\"name\":\"%s\",\"median_events_per_s\":%.0f,\"min_events_per_s\":%.0f,"
                   "\"max_events_per_s\":%.0f,\"median_ns_per_event\":%.1f,"
                   "\"median_mb_per_s\":%.1f}",
                   sep, phase_names[ph], st[ph].median, st[ph].min, st[ph].max,
                   1e9 / st[ph].median, mb * st[ph].median / (double)n_events);
            sep = ",";
        }
        if (all) {
            printf("],\"ratio_decode_vs_tokenize\":%.3f,"
                   "\"ratio_decode_book_vs_tokenize\":%.3f}\n",
                   ratio_dec, ratio_book);
        } else {
            printf("]}\n");
        }
    } else {
        printf("%llu timed runs per phase after one warm-up; events/s over the same %.1f MB\n\n",
               (unsigned long long)runs, mb);
        printf("%-12s %14s %14s %14s %10s %10s\n", "phase", "median ev/s", "min ev/s",
               "max ev/s", "ns/event", "MB/s");
        for (unsigned ph = 0; ph < PH__COUNT; ph++) {
            if (!all && ph != (unsigned)only) {
                continue;
            }
            printf("%-12s %14.0f %14.0f %14.0f %10.1f %10.1f\n", phase_names[ph],
                   st[ph].median, st[ph].min, st[ph].max, 1e9 / st[ph].median,
                   mb * st[ph].median / (double)n_events);
        }
        if (all) {
            printf("\nratio decode / tokenize:        %5.1f%%\n", 100.0 * ratio_dec);
            printf("ratio decode+book / tokenize:   %5.1f%%   (target >= 50%%)\n",
                   100.0 * ratio_book);
            printf("decode+book median:             %5.2f M events/s (target >= 3.00)\n",
                   st[PH_BOOK].median / 1e6);
        }
    }
    free(b.p);
    wd_tz_free(tz);
    return 0;
}
