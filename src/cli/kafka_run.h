/*
 * `warden run` on Kafka (issue 7): the input side of the daemon when the
 * configuration has a kafka section or --input kafka. Messages of the four
 * input topics go through the event-time merge (include/warden/merge.h)
 * and then, one by one, through the daemon's own line handling (the same
 * engine, outputs and store as every other input); each output line is
 * also produced to its topic, keyed by the input's account.
 *
 * Durability (issue 7 point 3): at each checkpoint the engine's state and
 * the next offset of every assigned partition are written to the store in
 * one row (the snapshot of input "kafka:GROUP"); only then are those
 * offsets committed to the group. At start the snapshot is loaded, what
 * events after it wrote is taken back (wd_store_rewind), and the
 * partitions are read from its offsets: a fill is counted once, whatever
 * the moment warden was killed.
 */
#ifndef WD_CLI_KAFKA_RUN_H
#define WD_CLI_KAFKA_RUN_H

#include <stdbool.h>
#include <stdint.h>

#include "bus/jsonl.h"
#include "cli/outputs.h"
#include "warden/config.h"
#include "warden/engine.h"

struct wd_store;

/* What the daemon lends. */
struct cli_kafka_env {
    struct wd_store *store;
    struct cli_outputs *out;
    /* The current engine (a reload replaces it). */
    struct wd_engine *(*engine)(void *ctx);
    /* One line through the daemon's handling (input name for messages). */
    enum wd_status (*line)(void *ctx, const char *name, const struct wd_line *line);
    /* The daemon's lock around engine and store (a checkpoint reads both). */
    void (*lock)(void *ctx);
    void (*unlock)(void *ctx);
    /* Trading states again from the store (after a rewind). */
    int (*load_states)(void *ctx);
    uint64_t *events; /* the daemon's event counter (event_no) */
    int64_t *last_ts;
    void *ctx;
};

struct cli_kafka_run;

/* Restores from the store, subscribes. CLI_OK, CLI_USAGE (configuration:
 * said on stderr), CLI_FAIL. */
int cli_kafka_run_new(const struct wd_config *cfg, const struct cli_kafka_env *env,
                      struct cli_kafka_run **out);
/* A last checkpoint and commit, leaves the group. NULL: no-op. */
void cli_kafka_run_free(struct cli_kafka_run *k);

int cli_kafka_run_fd(struct cli_kafka_run *k);
/* Reads what is there, releases what the merge says is due, checkpoints
 * when one is due. false when an event failed (the daemon stops). */
bool cli_kafka_run_turn(struct cli_kafka_run *k, int64_t now_ns);
/* Milliseconds until the merge's next deadline (-1: none). */
/* True once after each assignment, when every assigned partition is at
 * its end (nothing more to read) and the merge holds nothing: then
 * *messages is the count of bus messages processed since the start and
 * *partitions the count assigned. */
bool cli_kafka_run_caught_up(struct cli_kafka_run *k, uint64_t *messages, size_t *partitions);

int cli_kafka_run_timeout_ms(const struct cli_kafka_run *k, int64_t now_ns);
/* Once a second: the bus's health and its total lag as system events (the
 * bus_failure detector; the daemon's metrics take the lag from its
 * `consumer_lag` event like any other). */
bool cli_kafka_run_tick(struct cli_kafka_run *k, int64_t now_ns);

/* The event time of a message for the merge: its top-level "ts"
 * (nanoseconds or RFC 3339), parsed with toks (jsmntok_t[WD_DECODE_MAX_TOKENS]). false when it has none or is over WD_DECODE_MAX_LINE (the
 * decoder will say why the line is malformed). */
bool cli_kafka_event_ts(void *toks, const char *s, size_t len, int64_t *ts);

/* `warden replay --kafka TOPICS --from T [--to T]` (src/cli/kafka_replay.c):
 * reads the comma-separated input topics (their configured names) with a
 * group-less consumer (assigned, never joining or committing to the
 * group), each partition from the first message the broker stamped at or
 * after from_ns to its end as the replay starts; merges them in event
 * time (waiting for every partition, since all of them are known) and
 * gives each message whose event time is in [from_ns, to_ns) to fn as a
 * line, with out->partition and out->offset set. CLI_OK, CLI_USAGE (a
 * topic not configured), CLI_FAIL (the cluster, or fn failed: said). */
int cli_kafka_replay(const struct wd_config *cfg, const char *topics, int64_t from_ns,
                     int64_t to_ns, struct cli_outputs *out, wd_line_fn fn, void *ctx);

/* Into the metrics registry (the caller holds its lock): the lag of each
 * assigned partition at the last tick (warden_consumer_lag_messages{topic,
 * partition}) and the merge's held count, most held, late releases and
 * max wait. */
struct wd_metrics;
void cli_kafka_run_metrics(const struct cli_kafka_run *k, struct wd_metrics *m);

/* The lag rows of the last tick (cli_kafka_run_tick) copied into out (at
 * most max; CLI_KAFKA_LAG_MAX holds every assigned partition), and, when
 * merge is not NULL, the merge's figures now (those of
 * cli_kafka_run_metrics) with its waits in milliseconds.
 * Returns the count copied. Like every call here, on the loop's thread
 * only: the daemon keeps the copy for the API's thread under its lock. */
#define CLI_KAFKA_LAG_MAX 1024u
struct wd_kafka_lag_row;
struct cli_kafka_merge {
    uint64_t held, held_max, released_late, paused; /* paused: partitions, now */
    int64_t max_wait_ms, backlog_wait_ms;
};
size_t cli_kafka_run_lag_rows(const struct cli_kafka_run *k, struct wd_kafka_lag_row *out,
                              size_t max, struct cli_kafka_merge *merge);

#endif /* WD_CLI_KAFKA_RUN_H */
