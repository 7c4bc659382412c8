/*
 * What `warden run` serves besides its outputs: the metrics registry kept
 * up to date from the engine, the store and the event stream
 * (docs/METRICS.md), and the running engine's positions, pnl and drawdown
 * and the Kafka input's lag per partition for the API (wd_api.live,
 * docs/API.md).
 *
 * Two figures the engine does not give are computed here from the events
 * (cli_serve_event, called for every decoded event before the engine sees
 * it): the intent->ack latency (each intent's time kept by its id in a
 * direct-mapped table of CLI_SERVE_INTENTS slots; the first ack of that id
 * observes ack.ts - intent.ts; an intent whose slot is taken by a later one
 * before its ack is not observed) and each symbol's last market data time
 * (quotes, trades, bars), from which the staleness is measured at each tick
 * against the wall clock, and the consumer lag the trading system reports
 * (a `consumer_lag` metric event, SPEC section 2). The rejection ratio is over the last
 * CLI_SERVE_DECISIONS decisions of the gate.
 *
 * cli_serve_event only records (no lock needed beyond the caller's);
 * cli_serve_update hands the latencies recorded since the last update to
 * the registry, so the daemon updates once per batch of events, and must
 * update before the next event when cli_serve_full says so. Not
 * thread-safe: the daemon calls cli_serve_update / cli_serve_tick with its
 * loop lock held, and renders the registry itself (docs/internals/DAEMON.md).
 */
#ifndef WD_CLI_SERVE_H
#define WD_CLI_SERVE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "warden/engine.h"
#include "warden/event.h"
#include "warden/metrics.h"
#include "warden/status.h"

#include "cli/kafka_run.h"

#define CLI_SERVE_INTENTS 65536u  /* intent times kept for the latency (a power of 2) */
#define CLI_SERVE_DECISIONS 1000u /* decisions in the rejection ratio */
#define CLI_SERVE_PENDING 1024u   /* latencies observed between two updates */

struct wd_store;

struct cli_serve {
    struct wd_metrics *m; /* owned */
    struct cli_serve_intent {
        uint64_t hash; /* 0: free */
        int64_t ts_ns;
    } *intents;
    int64_t pending[CLI_SERVE_PENDING]; /* latencies observed since the last update */
    uint32_t pending_n;
    double consumer_lag; /* the last consumer_lag metric event's value; < 0 none */
    uint8_t ring[CLI_SERVE_DECISIONS]; /* 1: rejected */
    uint32_t ring_n, ring_i, ring_rejected;
    uint64_t accepted, rejected;       /* the outputs' totals already counted */
    int64_t *md_ts;                    /* last market data time by symbol id; 0 none */
    uint32_t md_cap;
    uint64_t book_changes;
    bool figures_set;
    uint64_t incidents_seen; /* the outputs' incident count at the last refresh */
};

/* A registry and empty tables. WD_ENOMEM. */
enum wd_status cli_serve_init(struct cli_serve *s) WD_MUST_USE;
void cli_serve_destroy(struct cli_serve *s);

/* Every decoded event, before the engine processes it (ctx: struct
 * cli_serve): intent times, ack latencies, market data times. */
void cli_serve_event(void *ctx, const struct wd_event *ev);

/* True when the next event's latency would find no room: update first. */
static inline bool cli_serve_full(const struct cli_serve *s)
{
    return s->pending_n == CLI_SERVE_PENDING;
}

/* After a batch of events: counters, latency, rejection ratio, and the figures and
 * states when they may have moved; the open incidents from the store when
 * the outputs announced one since the last refresh (incidents: their
 * count). WD_OK, or the registry's failure (WD_EFULL past its bounds). */
enum wd_status cli_serve_update(struct cli_serve *s, struct wd_engine *engine,
                                struct wd_store *store, uint64_t events, uint64_t malformed,
                                uint64_t accepted, uint64_t rejected,
                                uint64_t incidents) WD_MUST_USE;

/* After a tick (and an API action): figures and states, open incidents
 * from the store, staleness per symbol at now_ns. */
enum wd_status cli_serve_tick(struct cli_serve *s, struct wd_engine *engine,
                              struct wd_store *store, int64_t now_ns) WD_MUST_USE;

/* The API's live routes from the engine's book: "positions" (open
 * positions), "pnl" and "drawdown" (the firm's figures and each
 * account's), the same keys as `warden positions|pnl|drawdown --json`.
 * Returns the HTTP status (200; 404 for another `what`). */
int cli_serve_live(struct wd_engine *engine, const char *what, FILE *out);

/* The Kafka lag the daemon keeps for the API (GET kafka/lag): a copy of
 * the kafka run's rows at the last tick (cli_kafka_run_lag_rows), sorted
 * by topic then partition, taken on the loop's thread under its lock and
 * read by the API's thread under the same lock. */
struct cli_serve_lag {
    char group[256];
    struct wd_kafka_lag_row *rows; /* CLI_KAFKA_LAG_MAX, from malloc; NULL: no Kafka input */
    size_t n;
    struct cli_kafka_merge merge;
    int64_t updated_ns; /* the tick's time; 0: none yet */
};

/* Copies the run's rows and merge figures into l (rows allocated) at
 * now_ns and sorts them (topic, partition). The loop's thread, lock held. */
void cli_serve_lag_take(struct cli_serve_lag *l, const struct cli_kafka_run *k, int64_t now_ns);

/* GET kafka/lag: {group, partitions:[{topic, partition, position,
 * high_watermark, lag}] (null where unknown), total, open, close (the
 * bus_failure detector's thresholds), merge:{held, held_max,
 * released_late, paused, max_wait_ms, backlog_wait_ms}, updated (RFC 3339 of the last tick, null
 * before the first)}. l NULL or without rows: 404 with {"error":...},
 * Kafka is not configured. Returns the HTTP status. */
int cli_serve_kafka_lag(const struct cli_serve_lag *l, int64_t open, int64_t close, FILE *out);

#endif /* WD_CLI_SERVE_H */
