/*
 * The benchmarks' workload generator (see gen.h): deterministic JSON Lines
 * sessions in memory. Moved here unchanged from bench_decode.c so that
 * bench_gate replays the very same bytes; a change here changes every
 * benchmark's workload, so keep the output byte-identical (bench_decode
 * --dump | sha256sum before and after) or say so in docs/PERFORMANCE.md.
 */
#include <stdio.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "gen.h"

const char *bench_progname = "bench";

/* ---- deterministic generator ---------------------------------------------- */

uint64_t bench_rng_next(struct bench_rng *r)
{
    uint64_t x = r->s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    r->s = x;
    return x * 0x2545F4914F6CDD1DULL;
}

/* Uniform-ish in [0, n); n > 0. The modulo bias is irrelevant here. */
uint64_t bench_rng_below(struct bench_rng *r, uint64_t n)
{
    return (bench_rng_next(r) >> 11) % n;
}

void bench_buf_reserve(struct bench_buf *b, size_t extra)
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
        fprintf(stderr, "%s: out of memory (%zu bytes)\n", bench_progname, ncap);
        exit(1);
    }
    b->p = np;
    b->cap = ncap;
}

void bench_put_str(struct bench_buf *b, const char *s)
{
    size_t n = strlen(s);
    bench_buf_reserve(b, n);
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

void bench_put_u64(struct bench_buf *b, uint64_t v)
{
    char tmp[24];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v != 0);
    bench_buf_reserve(b, n);
    while (n > 0) {
        b->p[b->len++] = tmp[--n];
    }
}

/* v / 10^dec with exactly dec decimals, e.g. (18952, 2) -> "189.52". */
void bench_put_dec(struct bench_buf *b, int64_t v, unsigned dec)
{
    if (v < 0) {
        bench_put_str(b, "-");
        v = -v;
    }
    uint64_t scale = 1;
    for (unsigned i = 0; i < dec; i++) {
        scale *= 10u;
    }
    uint64_t u = (uint64_t)v;
    bench_put_u64(b, u / scale);
    if (dec > 0) {
        char frac[24];
        uint64_t f = u % scale;
        for (unsigned i = dec; i > 0; i--) {
            frac[i - 1u] = (char)('0' + f % 10u);
            f /= 10u;
        }
        frac[dec] = '\0';
        bench_put_str(b, ".");
        bench_put_str(b, frac);
    }
}

/* A key and the start of its value: ,"key": */
void bench_put_key(struct bench_buf *b, const char *key)
{
    bench_put_str(b, ",\"");
    bench_put_str(b, key);
    bench_put_str(b, "\":");
}

void bench_put_kstr(struct bench_buf *b, const char *key, const char *val)
{
    bench_put_key(b, key);
    bench_put_str(b, "\"");
    bench_put_str(b, val);
    bench_put_str(b, "\"");
}

void bench_market_init(struct bench_market *m, struct bench_rng *r)
{
    for (unsigned i = 0; i < BENCH_N_SYMBOLS; i++) {
        /* Distinct 4-letter tickers: i * 7919 is a bijection modulo 26^4. */
        uint32_t k = (i * 7919u + 12345u) % (26u * 26u * 26u * 26u);
        for (int c = 3; c >= 0; c--) {
            m->names[i][c] = (char)('A' + k % 26u);
            k /= 26u;
        }
        m->names[i][4] = '\0';
        m->px_cents[i] = 1000 + (int64_t)bench_rng_below(r, 49000); /* $10 .. $500 */
    }
}

/* A symbol, skewed so that a few names are much more active (roughly what
 * real feeds look like): half the traffic on the first 20 symbols. */
unsigned bench_pick_symbol(struct bench_rng *r)
{
    return bench_rng_below(r, 2) ? (unsigned)bench_rng_below(r, 20)
                                 : (unsigned)bench_rng_below(r, BENCH_N_SYMBOLS);
}

static void put_head(struct bench_buf *b, const char *type, int64_t ts, uint64_t seq)
{
    bench_put_str(b, "{\"type\":\"");
    bench_put_str(b, type);
    bench_put_str(b, "\",\"ts\":");
    bench_put_u64(b, (uint64_t)ts);
    bench_put_key(b, "seq");
    bench_put_u64(b, seq);
}

const char *const bench_accounts[BENCH_N_ACCOUNTS] = {"acct_momo", "acct_mr", "acct_arb",
                                                      "acct_mm"};
const char *const bench_sources[BENCH_N_ACCOUNTS] = {"strat_momo", "strat_mr", "strat_arb",
                                                     "strat_mm"};

/* Appends n events (one JSON object per line) to b: ~70% quotes, ~10%
 * trades, ~8% intents, ~6% acks, ~5% fills (of the latest intent), ~1%
 * heartbeats / account / metric events, over 200 symbols and 4 accounts,
 * integer-nanosecond timestamps increasing over `days` days. */
void bench_gen_session(struct bench_buf *b, uint64_t n, unsigned days, uint64_t seed)
{
    bench_gen_session_seq(b, n, days, seed, BENCH_SEQ_GLOBAL);
}

static void gen_session(struct bench_buf *b, uint64_t n, unsigned days, uint64_t seed,
                        enum bench_seq seq_mode, bool detectors);

void bench_gen_session_seq(struct bench_buf *b, uint64_t n, unsigned days, uint64_t seed,
                           enum bench_seq seq_mode)
{
    gen_session(b, n, days, seed, seq_mode, false);
}

void bench_gen_session_detectors(struct bench_buf *b, uint64_t n, unsigned days, uint64_t seed,
                                 enum bench_seq seq_mode)
{
    gen_session(b, n, days, seed, seq_mode, true);
}

static void gen_session(struct bench_buf *b, uint64_t n, unsigned days, uint64_t seed,
                        enum bench_seq seq_mode, bool detectors)
{
    struct bench_rng r = {seed ? seed : 0x9E3779B97F4A7C15ULL};
    static struct bench_market m;
    bench_market_init(&m, &r);
    /* Events flow during the New York session only (09:30-16:00, from
     * Monday BENCH_START_NS on, weekdays), as a real feed would: `trading`
     * is time within sessions, mapped to the wall clock below. */
    const int64_t session_ns = 23400LL * 1000000000LL; /* 6.5 hours */
    uint64_t mean_step = (uint64_t)days * (uint64_t)session_ns / (n ? n : 1u);
    if (mean_step < 1u) {
        mean_step = 1u;
    }
    int64_t trading = 0, ts = BENCH_START_NS;
    uint64_t next_order = 1, last_intent = 0;
    /* Fills follow the latest intent: same account, symbol and side. */
    unsigned last_sym = 0, last_acct = 0;
    const char *last_side = "BUY";
    /* Per-stream counters: market, intents, exec reports, system. */
    uint64_t sseq[4] = {0, 0, 0, 0};
#define SEQ(stream) (seq_mode == BENCH_SEQ_GLOBAL ? seq : ++sseq[(stream)])
    for (uint64_t seq = 1; seq <= n; seq++) {
        trading += 1 + (int64_t)bench_rng_below(&r, 2u * mean_step);
        {
            int64_t k = trading / session_ns; /* the k-th weekday session */
            ts = BENCH_START_NS + (k + 2 * (k / 5)) * BENCH_NS_PER_DAY + trading % session_ns;
        }
        unsigned s = bench_pick_symbol(&r);
        unsigned a = (unsigned)bench_rng_below(&r, BENCH_N_ACCOUNTS);
        uint64_t roll = bench_rng_below(&r, 10000);
        /* The price walks by a few cents on every market event. */
        int64_t px = m.px_cents[s] + (int64_t)bench_rng_below(&r, 5) - 2;
        if (px < 100) {
            px = 100;
        }
        m.px_cents[s] = px;
        if (roll < 7000) {
            put_head(b, "quote", ts, SEQ(0));
            bench_put_kstr(b, "symbol", m.names[s]);
            bench_put_key(b, "bid");
            bench_put_dec(b, px, 2);
            bench_put_key(b, "ask");
            bench_put_dec(b, px + 1 + (int64_t)bench_rng_below(&r, 3), 2);
            bench_put_key(b, "bid_size");
            bench_put_u64(b, 100u * (1u + bench_rng_below(&r, 20)));
            bench_put_key(b, "ask_size");
            bench_put_u64(b, 100u * (1u + bench_rng_below(&r, 20)));
        } else if (roll < 8000 && detectors && bench_rng_below(&r, 5) == 0) {
            put_head(b, "bar", ts, SEQ(0));
            bench_put_kstr(b, "symbol", m.names[s]);
            static const char *const ohlc[] = {"open", "high", "low", "close"};
            for (int k = 0; k < 4; k++) {
                bench_put_key(b, ohlc[k]);
                bench_put_dec(b, px, 2);
            }
            bench_put_key(b, "volume");
            bench_put_u64(b, 100u * (1u + bench_rng_below(&r, 100)));
            bench_put_key(b, "interval_s");
            bench_put_u64(b, 60u);
        } else if (roll < 8000) {
            put_head(b, "trade", ts, SEQ(0));
            bench_put_kstr(b, "symbol", m.names[s]);
            bench_put_key(b, "price");
            bench_put_dec(b, px, 2);
            bench_put_key(b, "size");
            bench_put_u64(b, 1u + bench_rng_below(&r, 1000));
        } else if (roll < 8800) {
            put_head(b, "intent", ts, SEQ(1));
            bench_put_kstr(b, "account", bench_accounts[a]);
            bench_put_key(b, "id");
            bench_put_str(b, "\"o");
            bench_put_u64(b, next_order);
            bench_put_str(b, "\"");
            last_intent = next_order++;
            last_sym = s;
            last_acct = a;
            last_side = bench_rng_below(&r, 2) ? "BUY" : "SELL";
            bench_put_kstr(b, "symbol", m.names[s]);
            bench_put_kstr(b, "side", last_side);
            bench_put_key(b, "qty");
            bench_put_u64(b, 10u * (1u + bench_rng_below(&r, 50)));
            bench_put_kstr(b, "source", bench_sources[a]);
            if (bench_rng_below(&r, 2)) {
                bench_put_kstr(b, "order_type", "LMT");
                bench_put_key(b, "limit");
                bench_put_dec(b, px, 2);
            }
        } else if (roll < 9400) {
            put_head(b, "ack", ts, SEQ(2));
            bench_put_kstr(b, "account", bench_accounts[a]);
            bench_put_key(b, "id");
            bench_put_str(b, "\"o");
            bench_put_u64(b, last_intent ? last_intent : 1u);
            bench_put_str(b, "\"");
            if (bench_rng_below(&r, 20) == 0) {
                bench_put_kstr(b, "status", "rejected");
                bench_put_kstr(b, "reason", "limit:max_order_qty");
            } else {
                bench_put_kstr(b, "status", bench_rng_below(&r, 10) ? "accepted" : "cancelled");
            }
        } else if (roll < 9900) {
            put_head(b, "fill", ts, SEQ(2));
            bench_put_kstr(b, "account", bench_accounts[last_acct]);
            bench_put_key(b, "id");
            bench_put_str(b, "\"o");
            bench_put_u64(b, last_intent ? last_intent : 1u);
            bench_put_str(b, "\"");
            bench_put_kstr(b, "symbol", m.names[last_sym]);
            bench_put_kstr(b, "side", last_side);
            bench_put_key(b, "qty");
            bench_put_u64(b, 10u * (1u + bench_rng_below(&r, 50)));
            bench_put_key(b, "price");
            bench_put_dec(b, m.px_cents[last_sym], 2);
            bench_put_key(b, "commission");
            bench_put_dec(b, 35 + (int64_t)bench_rng_below(&r, 100), 2);
            bench_put_key(b, "exec_id");
            bench_put_str(b, "\"x");
            bench_put_u64(b, seq);
            bench_put_str(b, "\"");
        } else if (roll < 9934) {
            static const char *const comps[] = {"md_feed", "oms", "risk_gw", "broker", "kafka"};
            put_head(b, "heartbeat", ts, SEQ(3));
            bench_put_kstr(b, "component", comps[bench_rng_below(&r, detectors ? 5u : 3u)]);
            bench_put_kstr(b, "status", "up");
        } else if (roll < 9967) {
            put_head(b, "account", ts, SEQ(3));
            bench_put_kstr(b, "account", bench_accounts[a]);
            bench_put_key(b, "equity");
            bench_put_dec(b, 100000000 + (int64_t)bench_rng_below(&r, 1000000), 2);
            bench_put_key(b, "cash");
            bench_put_dec(b, 50000000 + (int64_t)bench_rng_below(&r, 1000000), 2);
        } else if (detectors && bench_rng_below(&r, 2) == 0) {
            put_head(b, "metric", ts, SEQ(3));
            bench_put_kstr(b, "name", "consumer_lag");
            bench_put_key(b, "value");
            bench_put_u64(b, bench_rng_below(&r, 50) == 0 ? 1500u : bench_rng_below(&r, 150));
        } else {
            put_head(b, "metric", ts, SEQ(3));
            bench_put_kstr(b, "name", "order_latency_ms");
            bench_put_key(b, "value");
            bench_put_dec(b, 100 + (int64_t)bench_rng_below(&r, 5000), 3);
            bench_put_str(b, ",\"labels\":{\"venue\":\"XNAS\",\"path\":\"oms\"}");
        }
        bench_put_str(b, "}\n");
    }
#undef SEQ
}

bool bench_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
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
