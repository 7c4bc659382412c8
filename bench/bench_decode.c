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
 * The generator lives in gen.c (shared with bench_gate, which replays the
 * same bytes through the engine).
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

#include "gen.h"

/* jsmn exactly as src/core/decode.c compiles it, for the baseline. */
#include "../src/core/jsmn_strict.h"

#define MAX_RUNS 101u

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
    bench_progname = "bench_decode";
    uint64_t n_events = 5000000u, runs = 5u, days = 5u, seed = 0x5EEDu;
    bool json = false, dump = false;
    int only = -1; /* a phase, or -1 for all */
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        bool ok = true;
        if (strcmp(arg, "--events") == 0) {
            ok = bench_parse_u64(val, 1u, 1000000000u, &n_events);
            i++;
        } else if (strcmp(arg, "--runs") == 0) {
            ok = bench_parse_u64(val, 1u, MAX_RUNS, &runs);
            i++;
        } else if (strcmp(arg, "--days") == 0) {
            ok = bench_parse_u64(val, 1u, 3650u, &days);
            i++;
        } else if (strcmp(arg, "--seed") == 0) {
            ok = bench_parse_u64(val, 0u, UINT64_MAX, &seed);
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

    struct bench_buf b = {NULL, 0, 0};
    double g0 = now_s();
    bench_gen_session(&b, n_events, (unsigned)days, seed);
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
