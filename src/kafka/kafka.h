/*
 * The Kafka adapter (librdkafka): a consumer of the four input topics in
 * the configured group (or group-less, for a replay that must not disturb
 * the live group), and an idempotent producer of the three output topics,
 * keyed by account. librdkafka's codes are translated here, once; nothing
 * above this file includes rdkafka.h.
 *
 * It decides nothing and stores nothing: it hands messages up, reports the
 * bus's health (brokers down, deliveries failed, lag per partition) and
 * commits the offsets its owner says are durable. Not thread-safe: one
 * owner thread (librdkafka's own threads stay inside librdkafka; its
 * callbacks run in the owner's calls to wd_kafka_poll).
 */
#ifndef WD_KAFKA_KAFKA_H
#define WD_KAFKA_KAFKA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "warden/config.h"
#include "warden/status.h"

/* The topics, by role. Inputs first: the index is the merge's priority
 * for equal times (an intent before its ack). */
enum wd_kafka_topic {
    WD_KT_MARKET,
    WD_KT_INTENTS,
    WD_KT_EXECS,
    WD_KT_SYSTEM,
    WD_KT_DECISIONS,
    WD_KT_CONTROL,
    WD_KT_INCIDENTS,
    WD_KT_STATE, /* the accounts' handover records (kafka_run.c), produced and read back */
    WD_KT_COUNT
};
#define WD_KT_INPUTS 4

/* A topic partition and an offset (the next to read, for a position). */
struct wd_kafka_tp {
    enum wd_kafka_topic topic;
    int32_t partition;
    int64_t offset; /* < 0: none known (wd_kafka_assign: from the start) */
};
#define WD_KAFKA_FROM_START (-2)

/* One message read. payload and key are borrowed until wd_kafka_release. */
struct wd_kafka_msg {
    enum wd_kafka_topic topic;
    int32_t partition;
    int64_t offset;
    const char *payload;
    size_t len;
    const char *key;
    size_t key_len;
    void *raw; /* for wd_kafka_release */
};

/* What the owner is told, in its calls to wd_kafka_poll. */
struct wd_kafka_hooks {
    /* Partitions assigned (a rebalance, or the start): the owner may set
     * each one's offset (where to start: its durable position) before they
     * are consumed; offset < 0 keeps the group's committed one. */
    void (*assigned)(void *ctx, struct wd_kafka_tp *tps, size_t n);
    /* Partitions about to be taken away: the owner makes its state
     * durable and commits (wd_kafka_commit) now; what it held of them
     * is to be dropped. */
    void (*revoked)(void *ctx, const struct wd_kafka_tp *tps, size_t n);
    /* The end of a partition was reached (nothing more to read now): end
     * is its next offset. Said during wd_kafka_poll, before the owner has
     * seen the messages of the same batch (all below end). */
    void (*caught_up)(void *ctx, enum wd_kafka_topic topic, int32_t partition, int64_t end);
    void *ctx;
};

/* The bus's own health (playbook P1-2), as the adapter last saw it. */
struct wd_kafka_health {
    bool brokers_down;          /* librdkafka said all brokers are down */
    uint64_t produce_failed;    /* deliveries that failed, total */
    uint64_t produce_ok;        /* deliveries acknowledged, total */
    uint64_t consumed;          /* messages read, total */
    uint64_t stats_seen;        /* librdkafka statistics received */
    char last_error[160];       /* librdkafka's words, "" if none */
};

struct wd_kafka;

/* Checks the configuration's kafka section against librdkafka (every
 * property of kafka.properties must be one librdkafka accepts with that
 * value). WD_EINVAL with "kafka.properties.NAME: why" in err. */
enum wd_status wd_kafka_check_config(const struct wd_config *cfg,
                                     struct wd_error *err) WD_MUST_USE;

/* A consumer and a producer on cfg->kafka. group false: a group-less
 * consumer (wd_kafka_assign only; nothing committed). produce false: no
 * producer. WD_EINVAL (configuration, with err), WD_EIO. */
enum wd_status wd_kafka_new(const struct wd_config *cfg, bool group, bool produce,
                            const struct wd_kafka_hooks *hooks, struct wd_kafka **out,
                            struct wd_error *err) WD_MUST_USE;
/* Flushes the producer (at most half of timeout_ms) and drops what is
 * still queued, leaves the group (serving the revoked hook) within what is
 * left of timeout_ms, frees. Bounded even when the cluster is gone; what
 * was not committed is read again by the next consumer. NULL: no-op. */
void wd_kafka_free(struct wd_kafka *k, int timeout_ms);

/* Subscribes the group to the four input topics. */
enum wd_status wd_kafka_subscribe(struct wd_kafka *k, struct wd_error *err) WD_MUST_USE;
/* Group-less: reads exactly these partitions from their offsets. */
enum wd_status wd_kafka_assign(struct wd_kafka *k, const struct wd_kafka_tp *tps, size_t n,
                               struct wd_error *err) WD_MUST_USE;

/* A file descriptor that becomes readable when messages or events wait
 * (an epoll source); wd_kafka_poll drains it. -1 on failure. */
int wd_kafka_fd(struct wd_kafka *k);

/* Reads up to max messages without blocking (timeout_ms 0) into msgs,
 * serving callbacks (hooks, deliveries, errors) first. Returns how many. */
size_t wd_kafka_poll(struct wd_kafka *k, struct wd_kafka_msg *msgs, size_t max, int timeout_ms);
void wd_kafka_release(struct wd_kafka_msg *m);

/* Queues one output (copied). key may be NULL. WD_EIO when librdkafka
 * refuses it at once (queue full: it is retried after a poll). */
enum wd_status wd_kafka_produce(struct wd_kafka *k, enum wd_kafka_topic topic, const char *key,
                                size_t key_len, const char *payload, size_t len,
                                struct wd_error *err) WD_MUST_USE;
/* Waits up to timeout_ms for every queued output to be delivered. WD_EIO
 * if some are still queued. */
enum wd_status wd_kafka_flush(struct wd_kafka *k, int timeout_ms, struct wd_error *err) WD_MUST_USE;

/* Holds (hold true) or releases an assigned input partition of the group
 * consumer: a held partition is not read by wd_kafka_poll (flow control:
 * one far ahead of the others waits while they are read). librdkafka
 * keeps fetching it until its own queue of it is full (queued.min.messages,
 * queued.max.messages.kbytes), then stops; nothing is fetched twice.
 * false when the partition has no queue of its own (then it is read
 * from the consumer's queue, never held). */
bool wd_kafka_hold(struct wd_kafka *k, enum wd_kafka_topic topic, int32_t partition, bool hold);

/* In the revoked hook: whether the assignment was lost (the group threw
 * this consumer out: its partitions may be others' already), not given
 * back. */
bool wd_kafka_assignment_lost(struct wd_kafka *k);

/* The high watermark (log end) of an input partition as librdkafka last
 * learnt it from a fetch (no request), else from its statistics; -1 when
 * unknown. */
int64_t wd_kafka_high(const struct wd_kafka *k, enum wd_kafka_topic topic, int32_t partition);

/* Commits these next-to-read offsets for the group (synchronously when
 * sync). Nothing for a group-less consumer. */
enum wd_status wd_kafka_commit(struct wd_kafka *k, const struct wd_kafka_tp *tps, size_t n,
                               bool sync, struct wd_error *err) WD_MUST_USE;

/* Lag per assigned partition: fn(row: topic, partition, position, high
 * watermark, lag) with position the next offset to read (-1 if not yet
 * known: the committed one then) and lag = high - position (-1 unknown).
 * Uses the watermarks librdkafka cached from its fetches; query true asks
 * the brokers (blocking, up to timeout_ms per partition). */
struct wd_kafka_lag_row {
    char topic[128];
    int32_t partition;
    int64_t position, high, lag; /* -1: unknown */
};
typedef void (*wd_kafka_lag_fn)(void *ctx, const struct wd_kafka_lag_row *row);
size_t wd_kafka_lag(struct wd_kafka *k, bool query, int timeout_ms, wd_kafka_lag_fn fn,
                    void *ctx);

/* The group's lag without joining it (for `warden kafka lag`): for every
 * partition of the four input topics, fn(row: topic, partition, the
 * group's committed offset as position (-1: none), the log-end offset as
 * high, lag (-1 unknown: no committed offset)), asked of the brokers (each call up to timeout_ms).
 * k must be made with group true and not subscribed. WD_EIO with err. */
enum wd_status wd_kafka_group_lag(struct wd_kafka *k, int timeout_ms, wd_kafka_lag_fn fn,
                                  void *ctx, struct wd_error *err) WD_MUST_USE;

/* The first offset of each partition of topic whose message time is at or
 * after ts_ms (offsets for times); tps gets one entry per partition, at
 * most cap. WD_EIO. */
enum wd_status wd_kafka_offsets_for_time(struct wd_kafka *k, const char *topic, int64_t ts_ms,
                                         struct wd_kafka_tp *tps, size_t cap, size_t *n,
                                         int timeout_ms, struct wd_error *err) WD_MUST_USE;

void wd_kafka_get_health(const struct wd_kafka *k, struct wd_kafka_health *out);

/* Internal (for the tests): reads librdkafka's statistics JSON and calls
 * fn(topic, partition, hi_offset) for each partition of each topic (not
 * librdkafka's internal partition -1); returns how many. */
#define WD_KAFKA_STATS_MAX 1024
typedef void (*wd__kafka_stats_fn)(void *ctx, const char *topic, size_t topic_len,
                                   int32_t partition, int64_t hi);
size_t wd__kafka_parse_stats(const char *json, size_t len, wd__kafka_stats_fn fn, void *ctx);

/* Reads the state topic (kafka.topics.state) from its start to its end as
 * the call starts and calls fn for each message in each partition's
 * order; at most timeout_ms. k: group-less, used for nothing else (its
 * assignment is replaced). A topic that does not exist has nothing:
 * WD_OK. WD_EIO when the cluster does not answer or the end is not
 * reached in time (err says which). */
typedef void (*wd_kafka_state_fn)(void *ctx, const char *key, size_t key_len, const void *value,
                                  size_t len);
enum wd_status wd_kafka_read_state(struct wd_kafka *k, int timeout_ms, wd_kafka_state_fn fn,
                                   void *ctx, struct wd_error *err) WD_MUST_USE;

/* The configured name of a topic role. */
const char *wd_kafka_topic_name(const struct wd_kafka *k, enum wd_kafka_topic t);

#endif /* WD_KAFKA_KAFKA_H */
