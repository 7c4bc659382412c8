/*
 * The Kafka adapter over librdkafka (src/kafka/kafka.h). Configuration:
 * warden's own settings first (brokers, group, offsets kept by warden,
 * idempotence), then kafka.properties verbatim; librdkafka's refusal of a
 * property is reported with the property's configuration key. It must not
 * decide anything, block the loop (every call here takes timeout 0 unless
 * the caller asks), or print: health goes up through wd_kafka_get_health.
 */
#define _DEFAULT_SOURCE
#include "kafka/kafka.h"

#include "core/jsmn_strict.h"

#include <fcntl.h>
#include <librdkafka/rdkafka.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct wd_kafka {
    rd_kafka_t *c; /* consumer */
    rd_kafka_t *p; /* producer, or NULL */
    rd_kafka_queue_t *q;
    rd_kafka_topic_t *out[WD_KT_COUNT]; /* output topic handles */
    const char *names[WD_KT_COUNT];     /* borrowed from the configuration */
    char *name_buf[WD_KT_COUNT];        /* owned copies */
    bool group;
    char group_id[128];
    int pipe_fd[2];
    /* The assigned input partitions' own queues (group consumer): each is
     * read on its own, so a partition the owner holds is simply not read
     * (librdkafka stops fetching it once its queue is full) while the
     * others are. */
    struct part_q {
        rd_kafka_queue_t *q;
        int role;
        int32_t partition;
        bool held;
    } *pq;
    size_t n_pq, cap_pq, next_pq;
    struct wd_kafka_hooks hooks;
    struct wd_kafka_health health;
    /* The high watermarks of librdkafka's last statistics (on_stats). */
    struct stat_hi {
        int role;
        int32_t partition;
        int64_t hi;
    } stats[WD_KAFKA_STATS_MAX];
    size_t n_stats;
};

static const char *cfg_topic(const struct wd_config *cfg, enum wd_kafka_topic t)
{
    switch (t) {
    case WD_KT_MARKET: return cfg->kafka.topic_market_events;
    case WD_KT_INTENTS: return cfg->kafka.topic_order_intents;
    case WD_KT_EXECS: return cfg->kafka.topic_exec_reports;
    case WD_KT_SYSTEM: return cfg->kafka.topic_system_events;
    case WD_KT_DECISIONS: return cfg->kafka.topic_risk_decisions;
    case WD_KT_CONTROL: return cfg->kafka.topic_control;
    case WD_KT_INCIDENTS: return cfg->kafka.topic_incidents;
    case WD_KT_STATE: return cfg->kafka.topic_state;
    case WD_KT_COUNT: break;
    }
    return "";
}

const char *wd_kafka_topic_name(const struct wd_kafka *k, enum wd_kafka_topic t)
{
    return t < WD_KT_COUNT ? k->names[t] : "";
}

static int topic_role(const struct wd_kafka *k, const char *name)
{
    for (int t = 0; t < WD_KT_COUNT; t++) {
        if (strcmp(k->names[t], name) == 0) {
            return t;
        }
    }
    return -1;
}

/* Sets name=value; the message names key (the configuration's key). */
static enum wd_status set(rd_kafka_conf_t *conf, const char *key, const char *name,
                          const char *value, struct wd_error *err)
{
    char why[512];
    if (rd_kafka_conf_set(conf, name, value, why, sizeof why) != RD_KAFKA_CONF_OK) {
        return wd_error_set(err, WD_EINVAL, "%s: %s", key, why);
    }
    return WD_OK;
}

/* warden's settings, then the operator's properties. */
static enum wd_status base_conf(const struct wd_config *cfg, rd_kafka_conf_t *conf,
                                struct wd_error *err)
{
    if (set(conf, "kafka.brokers", "bootstrap.servers", cfg->kafka.brokers, err) != WD_OK) {
        return WD_EINVAL;
    }
    for (size_t i = 0; i < cfg->kafka.n_properties; i++) {
        char key[200];
        snprintf(key, sizeof key, "kafka.properties.%s", cfg->kafka.properties[i].key);
        if (set(conf, key, cfg->kafka.properties[i].key, cfg->kafka.properties[i].value, err) !=
            WD_OK) {
            return WD_EINVAL;
        }
    }
    return WD_OK;
}

enum wd_status wd_kafka_check_config(const struct wd_config *cfg, struct wd_error *err)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    enum wd_status st = base_conf(cfg, conf, err);
    rd_kafka_conf_destroy(conf);
    return st;
}

/* ---- callbacks (run inside wd_kafka_poll) ------------------------------ */

static void on_error(rd_kafka_t *rk, int code, const char *reason, void *opaque)
{
    struct wd_kafka *k = opaque;
    (void)rk;
    snprintf(k->health.last_error, sizeof k->health.last_error, "%s: %s",
             rd_kafka_err2name((rd_kafka_resp_err_t)code), reason);
    if (code == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN || code == RD_KAFKA_RESP_ERR__TRANSPORT) {
        k->health.brokers_down = code == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN ||
                                 k->health.brokers_down;
    }
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    struct wd_kafka *k = opaque;
    (void)rk;
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        k->health.produce_failed++;
        snprintf(k->health.last_error, sizeof k->health.last_error,
                 "Failed to send message to Kafka: %s", rd_kafka_err2str(m->err));
    } else {
        k->health.produce_ok++;
        k->health.brokers_down = false;
    }
}

/* ---- statistics (statistics.interval.ms) ------------------------------ */

/* The token after the value starting at i (tokens are in text order). */
static int skip_value(const jsmntok_t *t, int n, int i)
{
    int end = t[i].end, j = i + 1;
    while (j < n && t[j].start < end) {
        j++;
    }
    return j;
}

static bool tok_is(const char *js, const jsmntok_t *t, const char *s)
{
    size_t n = strlen(s);
    return t->type == JSMN_STRING && (size_t)(t->end - t->start) == n &&
           memcmp(js + t->start, s, n) == 0;
}

/* The value of key in the object at obj, -1 if none. */
static int member(const char *js, const jsmntok_t *t, int n, int obj, const char *key)
{
    if (obj < 0 || t[obj].type != JSMN_OBJECT) {
        return -1;
    }
    for (int i = obj + 1; i + 1 < n && t[i].start < t[obj].end; i = skip_value(t, n, i + 1)) {
        if (tok_is(js, &t[i], key)) {
            return i + 1;
        }
    }
    return -1;
}

static int64_t tok_i64(const char *js, const jsmntok_t *t, int i)
{
    char buf[24];
    size_t len = i >= 0 ? (size_t)(t[i].end - t[i].start) : 0;
    if (i < 0 || t[i].type != JSMN_PRIMITIVE || len == 0 || len >= sizeof buf) {
        return -1;
    }
    memcpy(buf, js + t[i].start, len);
    buf[len] = '\0';
    return strtoll(buf, NULL, 10);
}

size_t wd__kafka_parse_stats(const char *json, size_t len, wd__kafka_stats_fn fn, void *ctx)
{
    jsmn_parser p;
    size_t found = 0;
    jsmn_init(&p);
    int n = jsmn_parse(&p, json, len, NULL, 0);
    jsmntok_t *t = n > 0 ? malloc((size_t)n * sizeof *t) : NULL;
    if (t == NULL) {
        return 0;
    }
    jsmn_init(&p);
    if (jsmn_parse(&p, json, len, t, (unsigned)n) == n) {
        int topics = member(json, t, n, 0, "topics");
        for (int i = topics + 1; topics >= 0 && i + 1 < n && t[i].start < t[topics].end;
             i = skip_value(t, n, i + 1)) {
            int parts = member(json, t, n, i + 1, "partitions");
            for (int j = parts + 1; parts >= 0 && j + 1 < n && t[j].start < t[parts].end;
                 j = skip_value(t, n, j + 1)) {
                int64_t part = tok_i64(json, t, member(json, t, n, j + 1, "partition"));
                int64_t hi = tok_i64(json, t, member(json, t, n, j + 1, "hi_offset"));
                if (part >= 0 && part <= INT32_MAX) { /* -1: librdkafka's internal one */
                    fn(ctx, json + t[i].start, (size_t)(t[i].end - t[i].start), (int32_t)part,
                       hi);
                    found++;
                }
            }
        }
    }
    free(t);
    return found;
}

static void stat_hi(void *ctx, const char *topic, size_t topic_len, int32_t partition,
                    int64_t hi)
{
    struct wd_kafka *k = ctx;
    for (int r = 0; r < WD_KT_INPUTS; r++) {
        if (strlen(k->names[r]) == topic_len && memcmp(k->names[r], topic, topic_len) == 0 &&
            k->n_stats < WD_KAFKA_STATS_MAX) {
            k->stats[k->n_stats++] = (struct stat_hi){.role = r, .partition = partition, .hi = hi};
        }
    }
}

/* librdkafka's statistics, every statistics.interval.ms: the high
 * watermark of each partition (hi_offset), for the lag when the fetches
 * have not cached one. 0: librdkafka frees json. */
static int on_stats(rd_kafka_t *rk, char *json, size_t len, void *opaque)
{
    struct wd_kafka *k = opaque;
    (void)rk;
    k->n_stats = 0;
    k->health.stats_seen++;
    (void)wd__kafka_parse_stats(json, len, stat_hi, k);
    return 0;
}

static int64_t stats_hi(const struct wd_kafka *k, const char *topic, int32_t partition)
{
    int role = topic_role(k, topic);
    for (size_t i = 0; i < k->n_stats; i++) {
        if (k->stats[i].role == role && k->stats[i].partition == partition) {
            return k->stats[i].hi;
        }
    }
    return -1;
}

/* The watermarks librdkafka cached from its fetches (-1: unknown); the
 * high one from its statistics when the fetches gave none. Returns hi. */
static int64_t cached_watermarks(const struct wd_kafka *k, const char *topic, int32_t partition,
                                 int64_t *lo, int64_t *hi)
{
    *lo = *hi = -1;
    if (rd_kafka_get_watermark_offsets(k->c, topic, partition, lo, hi) !=
            RD_KAFKA_RESP_ERR_NO_ERROR ||
        *hi < 0) {
        *hi = stats_hi(k, topic, partition);
    }
    return *hi;
}

static size_t to_tps(const struct wd_kafka *k, const rd_kafka_topic_partition_list_t *l,
                     struct wd_kafka_tp *tps)
{
    size_t n = 0;
    for (int i = 0; i < l->cnt; i++) {
        int role = topic_role(k, l->elems[i].topic);
        if (role >= 0) {
            tps[n++] = (struct wd_kafka_tp){.topic = (enum wd_kafka_topic)role,
                                            .partition = l->elems[i].partition,
                                            .offset = -1};
        }
    }
    return n;
}

static void drop_partition_queues(struct wd_kafka *k)
{
    for (size_t i = 0; i < k->n_pq; i++) {
        rd_kafka_queue_io_event_enable(k->pq[i].q, -1, NULL, 0);
        rd_kafka_queue_destroy(k->pq[i].q);
    }
    k->n_pq = 0;
}

/* After an assignment: each input partition's messages stay on its own
 * queue (not forwarded to the consumer's), which wakes the same pipe. */
static void take_partition_queues(struct wd_kafka *k, const rd_kafka_topic_partition_list_t *l)
{
    if ((size_t)l->cnt > k->cap_pq) {
        struct part_q *v = realloc(k->pq, (size_t)l->cnt * sizeof *v);
        if (v == NULL) {
            return; /* they stay forwarded: read from the consumer's queue */
        }
        k->pq = v;
        k->cap_pq = (size_t)l->cnt;
    }
    for (int i = 0; i < l->cnt; i++) {
        int role = topic_role(k, l->elems[i].topic);
        rd_kafka_queue_t *q = role >= 0 && role < WD_KT_INPUTS
                                  ? rd_kafka_queue_get_partition(k->c, l->elems[i].topic,
                                                                 l->elems[i].partition)
                                  : NULL;
        if (q == NULL) {
            continue;
        }
        rd_kafka_queue_forward(q, NULL);
        rd_kafka_queue_io_event_enable(q, k->pipe_fd[1], "1", 1);
        k->pq[k->n_pq++] = (struct part_q){.q = q, .role = role,
                                           .partition = l->elems[i].partition};
    }
}

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t code,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    struct wd_kafka *k = opaque;
    struct wd_kafka_tp *tps = calloc((size_t)parts->cnt + 1u, sizeof *tps);
    size_t n = tps != NULL ? to_tps(k, parts, tps) : 0;
    if (code == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        if (tps != NULL && k->hooks.assigned != NULL) {
            k->hooks.assigned(k->hooks.ctx, tps, n);
            /* The owner's durable offsets; the rest from the group. */
            for (size_t i = 0; i < n; i++) {
                if (tps[i].offset >= 0) {
                    rd_kafka_topic_partition_t *e = rd_kafka_topic_partition_list_find(
                        parts, k->names[tps[i].topic], tps[i].partition);
                    if (e != NULL) {
                        e->offset = tps[i].offset;
                    }
                }
            }
        }
        drop_partition_queues(k);
        if (rd_kafka_assign(rk, parts) == RD_KAFKA_RESP_ERR_NO_ERROR) {
            take_partition_queues(k, parts);
        }
    } else {
        if (tps != NULL && k->hooks.revoked != NULL) {
            k->hooks.revoked(k->hooks.ctx, tps, n);
        }
        drop_partition_queues(k);
        (void)rd_kafka_assign(rk, NULL);
    }
    free(tps);
}

/* ---- lifecycle ------------------------------------------------------------ */

enum wd_status wd_kafka_new(const struct wd_config *cfg, bool group, bool produce,
                            const struct wd_kafka_hooks *hooks, struct wd_kafka **out,
                            struct wd_error *err)
{
    char why[512];
    struct wd_kafka *k = calloc(1, sizeof *k);
    rd_kafka_conf_t *cc = rd_kafka_conf_new(), *pc = NULL;
    *out = NULL;
    if (k == NULL) {
        rd_kafka_conf_destroy(cc);
        return wd_error_set(err, WD_ENOMEM, "kafka: out of memory");
    }
    k->pipe_fd[0] = k->pipe_fd[1] = -1;
    k->group = group;
    snprintf(k->group_id, sizeof k->group_id, "%s", cfg->kafka.group);
    if (hooks != NULL) {
        k->hooks = *hooks;
    }
    for (int t = 0; t < WD_KT_COUNT; t++) {
        k->names[t] = k->name_buf[t] = strdup(cfg_topic(cfg, (enum wd_kafka_topic)t));
        if (k->name_buf[t] == NULL) {
            goto oom;
        }
    }
    if (base_conf(cfg, cc, err) != WD_OK ||
        set(cc, "kafka.group", "group.id",
            group ? cfg->kafka.group : "warden-groupless", err) != WD_OK ||
        set(cc, "warden", "enable.auto.commit", "false", err) != WD_OK ||
        set(cc, "warden", "enable.auto.offset.store", "false", err) != WD_OK ||
        set(cc, "warden", "enable.partition.eof", "true", err) != WD_OK) {
        goto fail;
    }
    /* Co-partitioned topics (keyed by account, same partition count):
     * range gives one instance the same partition numbers of every topic,
     * so an account's events all reach one warden. */
    if (rd_kafka_conf_get(cc, "partition.assignment.strategy", why, &(size_t){sizeof why}) ==
            RD_KAFKA_CONF_OK &&
        strcmp(why, "range,roundrobin") == 0 &&
        set(cc, "warden", "partition.assignment.strategy", "range", err) != WD_OK) {
        goto fail;
    }
    if (cfg->kafka.n_properties == 0 || rd_kafka_conf_get(cc, "auto.offset.reset", why,
                                                          &(size_t){sizeof why}) != RD_KAFKA_CONF_OK ||
        strcmp(why, "largest") == 0) {
        /* A new group reads its topics from the start (the playbook's
         * backfill), unless the operator says otherwise. */
        (void)rd_kafka_conf_set(cc, "auto.offset.reset", "earliest", why, sizeof why);
    }
    if (produce) {
        /* Its own configuration: consumer settings would make librdkafka
         * warn. */
        pc = rd_kafka_conf_new();
        if (base_conf(cfg, pc, err) != WD_OK ||
            set(pc, "warden", "enable.idempotence", "true", err) != WD_OK) {
            goto fail;
        }
        (void)rd_kafka_conf_set(pc, "linger.ms", "5", why, sizeof why);
        rd_kafka_conf_set_opaque(pc, k);
        rd_kafka_conf_set_dr_msg_cb(pc, on_delivery);
        rd_kafka_conf_set_error_cb(pc, on_error);
    }
    if (rd_kafka_conf_get(cc, "statistics.interval.ms", why, &(size_t){sizeof why}) ==
            RD_KAFKA_CONF_OK &&
        strcmp(why, "0") == 0) {
        /* Once a second unless the operator says otherwise (0 there too:
         * the default is 0, so the operator's 0 cannot be told apart). */
        (void)rd_kafka_conf_set(cc, "statistics.interval.ms", "1000", why, sizeof why);
    }
    if (group && rd_kafka_conf_get(cc, "queued.max.messages.kbytes", why,
                                   &(size_t){sizeof why}) == RD_KAFKA_CONF_OK &&
        strcmp(why, "65536") == 0) {
        /* Each partition has its own queue (take_partition_queues), and
         * librdkafka's bound then applies to each: 2 MB of prefetch a
         * partition unless the operator says otherwise (64 MB each would
         * take gigabytes while catching up over a hundred partitions). */
        (void)rd_kafka_conf_set(cc, "queued.max.messages.kbytes", "2048", why, sizeof why);
    }
    rd_kafka_conf_set_stats_cb(cc, on_stats);
    rd_kafka_conf_set_opaque(cc, k);
    rd_kafka_conf_set_error_cb(cc, on_error);
    if (group) {
        rd_kafka_conf_set_rebalance_cb(cc, on_rebalance);
    }
    if ((k->c = rd_kafka_new(RD_KAFKA_CONSUMER, cc, why, sizeof why)) == NULL) {
        wd_error_set(err, WD_EINVAL, "kafka: consumer: %s", why);
        goto fail;
    }
    cc = NULL;
    if (pc != NULL) {
        if ((k->p = rd_kafka_new(RD_KAFKA_PRODUCER, pc, why, sizeof why)) == NULL) {
            wd_error_set(err, WD_EINVAL, "kafka: producer: %s", why);
            goto fail;
        }
        pc = NULL;
        for (int t = WD_KT_DECISIONS; t < WD_KT_COUNT; t++) {
            if ((k->out[t] = rd_kafka_topic_new(k->p, k->names[t], NULL)) == NULL) {
                wd_error_set(err, WD_EIO, "kafka: topic %s: %s", k->names[t],
                             rd_kafka_err2str(rd_kafka_last_error()));
                goto fail;
            }
        }
    }
    (void)rd_kafka_poll_set_consumer(k->c);
    k->q = rd_kafka_queue_get_consumer(k->c);
    if (k->q == NULL || pipe(k->pipe_fd) != 0 ||
        fcntl(k->pipe_fd[0], F_SETFL, O_NONBLOCK) != 0 ||
        fcntl(k->pipe_fd[1], F_SETFL, O_NONBLOCK) != 0) {
        wd_error_set(err, WD_EIO, "kafka: cannot make the consumer's event pipe");
        goto fail;
    }
    (void)fcntl(k->pipe_fd[0], F_SETFD, FD_CLOEXEC);
    (void)fcntl(k->pipe_fd[1], F_SETFD, FD_CLOEXEC);
    rd_kafka_queue_io_event_enable(k->q, k->pipe_fd[1], "1", 1);
    *out = k;
    return WD_OK;
oom:
    wd_error_set(err, WD_ENOMEM, "kafka: out of memory");
fail:
    if (cc != NULL) {
        rd_kafka_conf_destroy(cc);
    }
    if (pc != NULL) {
        rd_kafka_conf_destroy(pc);
    }
    wd_kafka_free(k, 0);
    return err != NULL && err->status != WD_OK ? err->status : WD_EINVAL;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Leaves the group, serving its revocation (the rebalance callback) on a
 * queue of our own, but never longer than until deadline_ms: with the
 * cluster gone, rd_kafka_consumer_close would wait for a coordinator that
 * does not answer. What is not committed then is read again next time
 * (the store has the positions). */
static void close_consumer(struct wd_kafka *k, int64_t deadline_ms)
{
    rd_kafka_queue_t *cq = rd_kafka_queue_new(k->c);
    rd_kafka_error_t *e = cq != NULL ? rd_kafka_consumer_close_queue(k->c, cq) : NULL;
    if (cq != NULL && e == NULL) {
        while (!rd_kafka_consumer_closed(k->c)) {
            int64_t left = deadline_ms - mono_ms();
            if (left <= 0) {
                break;
            }
            (void)rd_kafka_queue_poll_callback(cq, left < 100 ? (int)left : 100);
        }
    }
    if (e != NULL) {
        rd_kafka_error_destroy(e);
    }
    if (cq != NULL) {
        rd_kafka_queue_destroy(cq);
    }
}

void wd_kafka_free(struct wd_kafka *k, int timeout_ms)
{
    if (k == NULL) {
        return;
    }
    int64_t deadline = mono_ms() + (timeout_ms > 0 ? timeout_ms : 0);
    if (k->p != NULL) {
        (void)rd_kafka_flush(k->p, timeout_ms > 0 ? timeout_ms / 2 : 0);
        /* What is still queued is dropped, not waited for: its input
         * events are past the last checkpoint and produce it again. */
        (void)rd_kafka_purge(k->p, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    }
    drop_partition_queues(k);
    free(k->pq);
    if (k->q != NULL) {
        rd_kafka_queue_io_event_enable(k->q, -1, NULL, 0);
        rd_kafka_queue_destroy(k->q);
    }
    if (k->c != NULL) {
        if (k->group) {
            close_consumer(k, deadline);
        }
        rd_kafka_destroy_flags(k->c, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
    }
    for (int t = 0; t < WD_KT_COUNT; t++) {
        if (k->out[t] != NULL) {
            rd_kafka_topic_destroy(k->out[t]);
        }
        free(k->name_buf[t]);
    }
    if (k->p != NULL) {
        rd_kafka_destroy(k->p);
    }
    for (int i = 0; i < 2; i++) {
        if (k->pipe_fd[i] >= 0) {
            close(k->pipe_fd[i]);
        }
    }
    free(k);
}

enum wd_status wd_kafka_subscribe(struct wd_kafka *k, struct wd_error *err)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(WD_KT_INPUTS);
    for (int t = 0; t < WD_KT_INPUTS; t++) {
        rd_kafka_topic_partition_list_add(l, k->names[t], RD_KAFKA_PARTITION_UA);
    }
    rd_kafka_resp_err_t e = rd_kafka_subscribe(k->c, l);
    rd_kafka_topic_partition_list_destroy(l);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return wd_error_set(err, WD_EIO, "kafka: subscribe: %s", rd_kafka_err2str(e));
    }
    return WD_OK;
}

static rd_kafka_topic_partition_list_t *to_list(const struct wd_kafka *k,
                                                const struct wd_kafka_tp *tps, size_t n)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new((int)n + 1);
    for (size_t i = 0; i < n; i++) {
        rd_kafka_topic_partition_list_add(l, k->names[tps[i].topic], tps[i].partition)->offset =
            tps[i].offset >= 0 ? tps[i].offset : RD_KAFKA_OFFSET_BEGINNING;
    }
    return l;
}

enum wd_status wd_kafka_assign(struct wd_kafka *k, const struct wd_kafka_tp *tps, size_t n,
                               struct wd_error *err)
{
    rd_kafka_topic_partition_list_t *l = to_list(k, tps, n);
    rd_kafka_resp_err_t e = rd_kafka_assign(k->c, l);
    rd_kafka_topic_partition_list_destroy(l);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return wd_error_set(err, WD_EIO, "kafka: assign: %s", rd_kafka_err2str(e));
    }
    return WD_OK;
}

int wd_kafka_fd(struct wd_kafka *k)
{
    return k->pipe_fd[0];
}

/* librdkafka's messages to ours: ends of partitions go to the hook,
 * errors to the health; returns how many msgs got. */
static size_t take_raw(struct wd_kafka *k, rd_kafka_message_t **raw, ssize_t got,
                       struct wd_kafka_msg *msgs)
{
    size_t n = 0;
    for (ssize_t i = 0; i < got; i++) {
        rd_kafka_message_t *m = raw[i];
        int role = m->rkt != NULL ? topic_role(k, rd_kafka_topic_name(m->rkt)) : -1;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            if (role >= 0 && k->hooks.caught_up != NULL) {
                k->hooks.caught_up(k->hooks.ctx, (enum wd_kafka_topic)role, m->partition,
                                  m->offset);
            }
            rd_kafka_message_destroy(m);
            continue;
        }
        if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR || role < 0) {
            snprintf(k->health.last_error, sizeof k->health.last_error, "%s",
                     rd_kafka_message_errstr(m));
            rd_kafka_message_destroy(m);
            continue;
        }
        k->health.consumed++;
        k->health.brokers_down = false;
        msgs[n++] = (struct wd_kafka_msg){.topic = (enum wd_kafka_topic)role,
                                          .partition = m->partition,
                                          .offset = m->offset,
                                          .payload = m->payload,
                                          .len = m->len,
                                          .key = m->key,
                                          .key_len = m->key_len,
                                          .raw = m};
    }
    return n;
}

size_t wd_kafka_poll(struct wd_kafka *k, struct wd_kafka_msg *msgs, size_t max, int timeout_ms)
{
    char drain[64];
    rd_kafka_message_t *raw[512];
    while (read(k->pipe_fd[0], drain, sizeof drain) > 0) {
    }
    if (k->p != NULL) {
        (void)rd_kafka_poll(k->p, 0); /* delivery reports */
    }
    if (max > sizeof raw / sizeof raw[0]) {
        max = sizeof raw / sizeof raw[0];
    }
    /* The consumer's queue: rebalances and errors (served here), and the
     * messages of partitions without a queue of their own. */
    ssize_t got = rd_kafka_consume_batch_queue(k->q, k->n_pq > 0 ? 0 : timeout_ms, raw, max);
    size_t n = take_raw(k, raw, got, msgs);
    /* Then the partitions not held, in turn from a rotating start. */
    size_t np = k->n_pq;
    for (size_t j = 0; j < np && n < max; j++) {
        struct part_q *p = &k->pq[(k->next_pq + j) % np];
        if (!p->held) {
            got = rd_kafka_consume_batch_queue(p->q, 0, raw, max - n);
            n += take_raw(k, raw, got, msgs + n);
        }
    }
    k->next_pq = np > 0 ? (k->next_pq + 1u) % np : 0;
    return n;
}

bool wd_kafka_hold(struct wd_kafka *k, enum wd_kafka_topic topic, int32_t partition, bool hold)
{
    for (size_t i = 0; i < k->n_pq; i++) {
        if (k->pq[i].role == (int)topic && k->pq[i].partition == partition) {
            k->pq[i].held = hold;
            return true;
        }
    }
    return false;
}

void wd_kafka_release(struct wd_kafka_msg *m)
{
    if (m->raw != NULL) {
        rd_kafka_message_destroy(m->raw);
        m->raw = NULL;
    }
}

enum wd_status wd_kafka_produce(struct wd_kafka *k, enum wd_kafka_topic topic, const char *key,
                                size_t key_len, const char *payload, size_t len,
                                struct wd_error *err)
{
    if (k->p == NULL || topic < WD_KT_DECISIONS || topic >= WD_KT_COUNT) {
        return wd_error_set(err, WD_ESTATE, "kafka: no producer for this topic");
    }
    for (int attempt = 0; attempt < 2; attempt++) {
        if (rd_kafka_produce(k->out[topic], RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY,
                             (void *)(uintptr_t)payload, len, key, key_len, NULL) == 0) {
            return WD_OK;
        }
        if (rd_kafka_last_error() != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            break;
        }
        (void)rd_kafka_poll(k->p, 100); /* room for it: deliveries drain the queue */
    }
    k->health.produce_failed++;
    return wd_error_set(err, WD_EIO, "Failed to send message to Kafka: %s",
                        rd_kafka_err2str(rd_kafka_last_error()));
}

enum wd_status wd_kafka_flush(struct wd_kafka *k, int timeout_ms, struct wd_error *err)
{
    if (k->p == NULL) {
        return WD_OK;
    }
    rd_kafka_resp_err_t e = rd_kafka_flush(k->p, timeout_ms);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return wd_error_set(err, WD_EIO, "kafka: flush: %d outputs still queued (%s)",
                            rd_kafka_outq_len(k->p), rd_kafka_err2str(e));
    }
    return WD_OK;
}

enum wd_status wd_kafka_commit(struct wd_kafka *k, const struct wd_kafka_tp *tps, size_t n,
                               bool sync, struct wd_error *err)
{
    if (!k->group || n == 0) {
        return WD_OK;
    }
    rd_kafka_topic_partition_list_t *l = to_list(k, tps, n);
    rd_kafka_resp_err_t e = rd_kafka_commit(k->c, l, sync ? 0 : 1);
    rd_kafka_topic_partition_list_destroy(l);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR && e != RD_KAFKA_RESP_ERR__NO_OFFSET) {
        return wd_error_set(err, WD_EIO, "kafka: commit: %s", rd_kafka_err2str(e));
    }
    return WD_OK;
}

static void lag_row(wd_kafka_lag_fn fn, void *ctx, const char *topic, int32_t partition,
                    int64_t pos, int64_t high, int64_t lag)
{
    struct wd_kafka_lag_row r = {.partition = partition, .position = pos, .high = high, .lag = lag};
    snprintf(r.topic, sizeof r.topic, "%s", topic);
    fn(ctx, &r);
}

size_t wd_kafka_lag(struct wd_kafka *k, bool query, int timeout_ms, wd_kafka_lag_fn fn, void *ctx)
{
    rd_kafka_topic_partition_list_t *l = NULL;
    size_t n = 0;
    if (rd_kafka_assignment(k->c, &l) != RD_KAFKA_RESP_ERR_NO_ERROR || l == NULL) {
        return 0;
    }
    (void)rd_kafka_position(k->c, l);
    if (query && k->group) {
        rd_kafka_topic_partition_list_t *c = rd_kafka_topic_partition_list_copy(l);
        if (rd_kafka_committed(k->c, c, timeout_ms) == RD_KAFKA_RESP_ERR_NO_ERROR) {
            for (int i = 0; i < l->cnt; i++) {
                if (l->elems[i].offset < 0) {
                    l->elems[i].offset = c->elems[i].offset;
                }
            }
        }
        rd_kafka_topic_partition_list_destroy(c);
    }
    for (int i = 0; i < l->cnt; i++) {
        int64_t lo = -1, hi = -1, pos = l->elems[i].offset >= 0 ? l->elems[i].offset : -1;
        if (!query || rd_kafka_query_watermark_offsets(k->c, l->elems[i].topic,
                                                       l->elems[i].partition, &lo, &hi,
                                                       timeout_ms) != RD_KAFKA_RESP_ERR_NO_ERROR ||
            hi < 0) {
            (void)cached_watermarks(k, l->elems[i].topic, l->elems[i].partition, &lo, &hi);
        }
        int64_t lag = hi >= 0 && pos >= 0 ? (hi > pos ? hi - pos : 0) : hi >= 0 && lo >= 0 ? hi - lo : -1;
        lag_row(fn, ctx, l->elems[i].topic, l->elems[i].partition, pos, hi, lag);
        n++;
    }
    rd_kafka_topic_partition_list_destroy(l);
    return n;
}

bool wd_kafka_assignment_lost(struct wd_kafka *k)
{
    return k->group && rd_kafka_assignment_lost(k->c) != 0;
}

int64_t wd_kafka_high(const struct wd_kafka *k, enum wd_kafka_topic topic, int32_t partition)
{
    int64_t lo, hi;
    return topic < WD_KT_INPUTS ? cached_watermarks(k, k->names[topic], partition, &lo, &hi) : -1;
}

/* Adds every partition of topic to l (offset set to offset), from the
 * cluster's metadata. WD_EIO. */
static enum wd_status add_partitions(struct wd_kafka *k, const char *topic, int64_t offset,
                                     rd_kafka_topic_partition_list_t *l, int timeout_ms,
                                     struct wd_error *err)
{
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_topic_t *t = rd_kafka_topic_new(k->c, topic, NULL);
    rd_kafka_resp_err_t e = rd_kafka_metadata(k->c, 0, t, &md, timeout_ms);
    rd_kafka_topic_destroy(t);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR || md->topic_cnt != 1 || md->topics[0].err != 0) {
        if (md != NULL) {
            e = md->topic_cnt == 1 ? md->topics[0].err : e;
            rd_kafka_metadata_destroy(md);
        }
        return wd_error_set(err,
                            e == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ? WD_ENOTFOUND : WD_EIO,
                            "kafka: topic %s: %s", topic, rd_kafka_err2str(e));
    }
    for (int i = 0; i < md->topics[0].partition_cnt; i++) {
        rd_kafka_topic_partition_list_add(l, topic, md->topics[0].partitions[i].id)->offset =
            offset;
    }
    rd_kafka_metadata_destroy(md);
    return WD_OK;
}

enum wd_status wd_kafka_offsets_for_time(struct wd_kafka *k, const char *topic, int64_t ts_ms,
                                         struct wd_kafka_tp *tps, size_t cap, size_t *n,
                                         int timeout_ms, struct wd_error *err)
{
    int role = topic_role(k, topic);
    *n = 0;
    if (role < 0 || role >= WD_KT_INPUTS) {
        return wd_error_set(err, WD_EINVAL,
                            "kafka: %s is not one of the input topics of the configuration",
                            topic);
    }
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(16);
    if (add_partitions(k, topic, ts_ms, l, timeout_ms, err) != WD_OK) {
        rd_kafka_topic_partition_list_destroy(l);
        return WD_EIO;
    }
    rd_kafka_resp_err_t e = rd_kafka_offsets_for_times(k->c, l, timeout_ms);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        rd_kafka_topic_partition_list_destroy(l);
        return wd_error_set(err, WD_EIO, "kafka: offsets for times on %s: %s", topic,
                            rd_kafka_err2str(e));
    }
    for (int i = 0; i < l->cnt && *n < cap; i++) {
        /* -1 (OFFSET_END): no message at or after the time. */
        tps[(*n)++] = (struct wd_kafka_tp){.topic = (enum wd_kafka_topic)role,
                                          .partition = l->elems[i].partition,
                                          .offset = l->elems[i].offset};
    }
    rd_kafka_topic_partition_list_destroy(l);
    return WD_OK;
}

enum wd_status wd_kafka_group_lag(struct wd_kafka *k, int timeout_ms, wd_kafka_lag_fn fn,
                                  void *ctx, struct wd_error *err)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(16);
    enum wd_status st = WD_OK;
    for (int t = 0; t < WD_KT_INPUTS && st == WD_OK; t++) {
        st = add_partitions(k, k->names[t], RD_KAFKA_OFFSET_INVALID, l, timeout_ms, err);
    }
    rd_kafka_resp_err_t e = st == WD_OK ? rd_kafka_committed(k->c, l, timeout_ms)
                                        : RD_KAFKA_RESP_ERR_NO_ERROR;
    if (st == WD_OK && e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        st = wd_error_set(err, WD_EIO, "kafka: the committed offsets of group %s: %s",
                          k->group_id, rd_kafka_err2str(e));
    }
    for (int i = 0; i < l->cnt && st == WD_OK; i++) {
        rd_kafka_topic_partition_t *p = &l->elems[i];
        int64_t lo = -1, hi = -1, pos = p->err == 0 && p->offset >= 0 ? p->offset : -1;
        e = rd_kafka_query_watermark_offsets(k->c, p->topic, p->partition, &lo, &hi, timeout_ms);
        if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
            st = wd_error_set(err, WD_EIO, "kafka: the end of %s/%" PRId32 ": %s", p->topic,
                              p->partition, rd_kafka_err2str(e));
            break;
        }
        lag_row(fn, ctx, p->topic, p->partition, pos, hi, pos >= 0 ? (hi > pos ? hi - pos : 0) : -1);
    }
    rd_kafka_topic_partition_list_destroy(l);
    return st;
}

void wd_kafka_get_health(const struct wd_kafka *k, struct wd_kafka_health *out)
{
    *out = k->health;
}

/* ---- the state topic, read back ------------------------------------------- */

struct state_read {
    int64_t *end; /* by partition: the end as the read started */
    bool *done;   /* by partition: read to that end (or said at its end) */
    int32_t n;
};

static void state_eof(void *ctx, enum wd_kafka_topic t, int32_t p, int64_t end)
{
    struct state_read *sr = ctx;
    (void)end;
    if (t == WD_KT_STATE && p >= 0 && p < sr->n) {
        sr->done[p] = true;
    }
}

static bool state_done(const struct state_read *sr)
{
    for (int32_t i = 0; i < sr->n; i++) {
        if (!sr->done[i]) {
            return false;
        }
    }
    return true;
}

enum wd_status wd_kafka_read_state(struct wd_kafka *k, int timeout_ms, wd_kafka_state_fn fn,
                                   void *ctx, struct wd_error *err)
{
    struct state_read sr = {0};
    struct wd_kafka_hooks saved = k->hooks;
    struct wd_kafka_msg msgs[64];
    int64_t deadline = mono_ms() + timeout_ms;
    enum wd_status st;
    const char *topic = k->names[WD_KT_STATE];
    k->hooks = (struct wd_kafka_hooks){.caught_up = state_eof, .ctx = &sr};
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(8);
    st = add_partitions(k, topic, RD_KAFKA_OFFSET_BEGINNING, l, timeout_ms, err);
    if (st == WD_ENOTFOUND) {
        st = WD_OK; /* nothing handed over yet */
        goto out;
    }
    if (st != WD_OK) {
        goto out;
    }
    sr.n = l->cnt;
    sr.end = calloc((size_t)l->cnt + 1u, sizeof *sr.end);
    sr.done = calloc((size_t)l->cnt + 1u, sizeof *sr.done);
    if (sr.end == NULL || sr.done == NULL) {
        st = wd_error_set(err, WD_ENOMEM, "kafka: out of memory");
        goto out;
    }
    for (int i = 0; i < l->cnt; i++) {
        int64_t lo = -1, hi = -1;
        int32_t p = l->elems[i].partition;
        if (p < 0 || p >= sr.n ||
            rd_kafka_query_watermark_offsets(k->c, topic, p, &lo, &hi, timeout_ms) !=
                RD_KAFKA_RESP_ERR_NO_ERROR) {
            st = wd_error_set(err, WD_EIO, "kafka: %s/%" PRId32 ": no log end offset", topic, p);
            goto out;
        }
        sr.end[p] = hi;
        sr.done[p] = hi <= lo; /* empty */
    }
    if (rd_kafka_assign(k->c, l) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        st = wd_error_set(err, WD_EIO, "kafka: %s: cannot be assigned", topic);
        goto out;
    }
    while (!state_done(&sr)) {
        int64_t left = deadline - mono_ms();
        if (left <= 0) {
            st = wd_error_set(err, WD_EIO, "kafka: %s: not read to its end within %d ms", topic,
                              timeout_ms);
            goto out;
        }
        size_t n = wd_kafka_poll(k, msgs, sizeof msgs / sizeof msgs[0], left < 100 ? (int)left : 100);
        for (size_t i = 0; i < n; i++) {
            int32_t p = msgs[i].partition;
            /* By the end as the read started (the end of a partition is
             * said before the messages of the same batch are seen). */
            if (msgs[i].topic == WD_KT_STATE && p >= 0 && p < sr.n && msgs[i].offset < sr.end[p]) {
                fn(ctx, msgs[i].key, msgs[i].key_len, msgs[i].payload, msgs[i].len);
                sr.done[p] = sr.done[p] || msgs[i].offset + 1 >= sr.end[p];
            }
            wd_kafka_release(&msgs[i]);
        }
    }
out:
    (void)rd_kafka_assign(k->c, NULL);
    /* What was fetched and not read is dropped with the assignment. */
    for (size_t n; (n = wd_kafka_poll(k, msgs, sizeof msgs / sizeof msgs[0], 0)) > 0;) {
        for (size_t i = 0; i < n; i++) {
            wd_kafka_release(&msgs[i]);
        }
    }
    rd_kafka_topic_partition_list_destroy(l);
    free(sr.end);
    free(sr.done);
    k->hooks = saved;
    return st;
}
