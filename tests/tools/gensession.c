/*
 * Generates a deterministic JSON Lines trading session for tests: quotes on
 * a handful of symbols drifting down (so that a kill-switch fires part-way),
 * intents from three strategies, acks and fills, over several days.
 *
 * usage: gensession EVENTS [SEED] > session.jsonl
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static uint64_t rng = 88172645463325252ull;

static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

int main(int argc, char **argv)
{
    static const char *const syms[] = {"AAPL", "MSFT", "NVDA", "SPY", "QQQ"};
    static const char *const accts[] = {"alpha", "beta", "gamma"};
    static const char *const srcs[] = {"strat_momo", "strat_meanrev", "strat_arb"};
    long price[5] = {19000, 41000, 14500, 59000, 50000}; /* cents */
    if (argc < 2) {
        fprintf(stderr, "usage: gensession EVENTS [SEED]\n");
        return 2;
    }
    uint64_t n = strtoull(argv[1], NULL, 10);
    if (argc > 2) {
        rng ^= strtoull(argv[2], NULL, 10) * 0x9E3779B97F4A7C15ull;
    }
    /* 2025-11-17 14:30:00Z (09:30 New York), one event every 10 ms of the
     * session, sessions on consecutive weekdays. */
    int64_t day0 = 1763389800LL * 1000000000LL;
    int64_t step = 10000000LL;
    uint64_t per_day = 6u * 3600u * 100u;
    uint64_t oid = 0, pending = 0;
    int pend_acct = 0, pend_sym = 0, pend_side = 1;
    long pend_qty = 0;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t d = i / per_day;
        int64_t ts = day0 + (int64_t)(d + (d / 5u) * 2u) * 86400LL * 1000000000LL +
                     (int64_t)(i % per_day) * step;
        uint64_t r = next();
        int s = (int)(r % 5u);
        if (pending != 0 && (r >> 8) % 3u == 0) {
            /* the ack, then the fill of the pending order */
            printf("{\"type\":\"ack\",\"ts\":%" PRId64 ",\"account\":\"%s\",\"id\":\"o%" PRIu64
                   "\",\"status\":\"accepted\"}\n",
                   ts, accts[pend_acct], pending);
            if (++i >= n) {
                break;
            }
            printf("{\"type\":\"fill\",\"ts\":%" PRId64 ",\"account\":\"%s\",\"id\":\"o%" PRIu64
                   "\",\"symbol\":\"%s\",\"side\":\"%s\",\"qty\":%ld,\"price\":%ld.%02ld,"
                   "\"commission\":0.%02ld}\n",
                   ts + 1000, accts[pend_acct], pending, syms[pend_sym],
                   pend_side > 0 ? "BUY" : "SELL", pend_qty, price[pend_sym] / 100,
                   price[pend_sym] % 100, (long)(pend_qty % 100));
            pending = 0;
            continue;
        }
        if ((r >> 16) % 10u == 0 && pending == 0) {
            pend_acct = (int)((r >> 24) % 3u);
            pend_sym = s;
            pend_side = (r >> 30) & 1u ? 1 : -1;
            pend_qty = 10 + (long)((r >> 32) % 200u);
            pending = ++oid;
            printf("{\"type\":\"intent\",\"ts\":%" PRId64 ",\"account\":\"%s\",\"id\":\"o%" PRIu64
                   "\",\"symbol\":\"%s\",\"side\":\"%s\",\"qty\":%ld,\"source\":\"%s\"}\n",
                   ts, accts[pend_acct], pending, syms[s], pend_side > 0 ? "BUY" : "SELL",
                   pend_qty, srcs[pend_acct]);
            continue;
        }
        /* A slow downward drift with noise. */
        long move = (long)((r >> 40) % 7u) - 3 - ((r >> 50) % 4u == 0 ? 1 : 0);
        price[s] += move;
        if (price[s] < 100) {
            price[s] = 100;
        }
        printf("{\"type\":\"quote\",\"ts\":%" PRId64 ",\"symbol\":\"%s\",\"bid\":%ld.%02ld,"
               "\"ask\":%ld.%02ld}\n",
               ts, syms[s], (price[s] - 1) / 100, (price[s] - 1) % 100, (price[s] + 1) / 100,
               (price[s] + 1) % 100);
    }
    return 0;
}
