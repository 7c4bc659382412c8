/*
 * The benchmarks' workload generator, shared by bench_decode and
 * bench_gate: a deterministic PRNG, a growable byte buffer with the few
 * JSON writers the generators need, the 200-symbol market and the
 * realistic JSON Lines session that bench_decode has always timed.
 *
 * Bench-only code: it allocates freely and exits the process on
 * out-of-memory (with bench_progname in the message). It must never be
 * linked into warden_core or the daemon, and it must stay deterministic:
 * the same (n, days, seed) give the same bytes, so figures taken on
 * different days compare like with like.
 */
#ifndef WD_BENCH_GEN_H
#define WD_BENCH_GEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BENCH_N_SYMBOLS 200u
#define BENCH_N_ACCOUNTS 4u
/* 2025-11-17T14:30:00Z, a Monday, 09:30 in New York. */
#define BENCH_START_NS 1763389800000000000LL
#define BENCH_NS_PER_DAY 86400000000000LL

/* The program name used in fatal messages ("bench" unless set). */
extern const char *bench_progname;

/* xorshift64* (Vigna): fast, deterministic, good enough for a workload. */
struct bench_rng {
    uint64_t s; /* never 0 */
};

uint64_t bench_rng_next(struct bench_rng *r);

/* Uniform-ish in [0, n); n > 0. The modulo bias is irrelevant here. */
uint64_t bench_rng_below(struct bench_rng *r, uint64_t n);

/* A growable output buffer; p is from realloc, the caller frees it. */
struct bench_buf {
    char *p;
    size_t len, cap;
};

void bench_buf_reserve(struct bench_buf *b, size_t extra);
void bench_put_str(struct bench_buf *b, const char *s);
void bench_put_u64(struct bench_buf *b, uint64_t v);
/* v / 10^dec with exactly dec decimals, e.g. (18952, 2) -> "189.52". */
void bench_put_dec(struct bench_buf *b, int64_t v, unsigned dec);
/* A key and the start of its value: ,"key": */
void bench_put_key(struct bench_buf *b, const char *key);
/* ,"key":"val" */
void bench_put_kstr(struct bench_buf *b, const char *key, const char *val);

/* 200 distinct 4-letter tickers and a starting price for each. */
struct bench_market {
    char names[BENCH_N_SYMBOLS][8];
    int64_t px_cents[BENCH_N_SYMBOLS];
};

/* Names depend only on the index (not on r); prices are drawn from r. */
void bench_market_init(struct bench_market *m, struct bench_rng *r);

/* A symbol index, skewed: half the traffic on the first 20 symbols. */
unsigned bench_pick_symbol(struct bench_rng *r);

/* The accounts and their strategies (an intent of account i has source i). */
extern const char *const bench_accounts[BENCH_N_ACCOUNTS];
extern const char *const bench_sources[BENCH_N_ACCOUNTS];

/* How the session numbers `seq`: one counter over every line (what
 * bench_decode has always generated), or one per producer stream as the
 * engine's data-quality detector reads them (market: quote, trade;
 * intents; exec reports: ack, fill; system: the rest). */
enum bench_seq { BENCH_SEQ_GLOBAL, BENCH_SEQ_PER_STREAM };

/* Appends n events of the realistic mixed session (one JSON object per
 * line, see bench_decode.c) spanning `days` days from BENCH_START_NS to b.
 * seed 0 uses a fixed non-zero seed. bench_gen_session numbers seq
 * globally. */
void bench_gen_session(struct bench_buf *b, uint64_t n, unsigned days, uint64_t seed);
void bench_gen_session_seq(struct bench_buf *b, uint64_t n, unsigned days, uint64_t seed,
                           enum bench_seq seq_mode);

/* The same session with the feeds every detector reads (bench_gate's
 * replay): a fifth of the trades become 60-second bars (`interval_s`, for
 * completeness), the heartbeats include `broker` and `kafka`, and half the
 * metrics are `consumer_lag` (below 150, with a spike to 1500 one time in
 * fifty). Same event count; lines differ from bench_gen_session_seq's. */
void bench_gen_session_detectors(struct bench_buf *b, uint64_t n, unsigned days, uint64_t seed,
                                 enum bench_seq seq_mode);

/* A whole number in [min, max] from a command-line argument. */
bool bench_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);

#endif /* WD_BENCH_GEN_H */
