/*
 * `warden run` on Kafka: merge, checkpoints, the bus's health as events
 * (src/cli/kafka_run.h). The Kafka calls are src/kafka/kafka.c's; the
 * ordering is the pure merge's; this file only wires them to the daemon.
 */
#define _DEFAULT_SOURCE
#include "cli/kafka_run.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/jsmn_strict.h"
#include "kafka/kafka.h"
#include "store/store.h"
#include "warden/merge.h"
#include "warden/metrics.h"
#include "warden/serial.h"
#include "warden/timeutil.h"

#define HELD_MAX 65536u          /* messages the merge may hold */
#define BATCH 512u               /* messages read per poll */
#define CHECKPOINT_NS 100000000LL /* at most every 100 ms ... */
#define CHECKPOINT_EVENTS 20000u /* ... or this many events */
#define MAX_TP 1024u
/* Stopping is bounded (the cluster may be gone): a checkpoint waits at
 * most FLUSH_MS for its outputs, and after one put off the next is tried
 * RETRY_NS later; at the stop, a last flush of FLUSH_MS and at most
 * CLOSE_MS to flush again and leave the group. */
#define FLUSH_MS 1000
#define RETRY_NS 1000000000LL
#define CLOSE_MS 2000
#define SNAP_MAGIC 0x314f4b57u /* "WKO1": offsets, then the engine */

struct tp_pos {
    enum wd_kafka_topic topic;
    int32_t partition;
    int64_t next; /* the next offset to process; -1: none processed yet */
    int64_t read;   /* the latest offset read (polled); -1: none */
    int64_t eof_at; /* its end as last said by the bus; -1: not said */
    bool assigned;
    bool paused; /* holds its share of the merge: not fetched (flow) */
};

struct cli_kafka_run {
    struct cli_kafka_env env;
    struct wd_kafka *k;
    struct wd_merge *m;
    struct wd_kafka_msg *held; /* indexed by merge handle */
    uint32_t *free_idx;
    uint32_t n_free;
    struct tp_pos pos[MAX_TP];
    size_t n_pos;
    uint16_t pos_of[WD_MERGE_MAX_SOURCES]; /* merge source -> 1 + index in pos; 0: none */
    bool eof_said;     /* an end was said during the last poll */
    bool caught_up_said; /* "caught up" was said since the last assignment */
    uint64_t messages; /* read from the bus and processed, since the start */
    struct tp_pos restored[MAX_TP]; /* offsets from the snapshot */
    size_t n_restored;
    char key[200]; /* "kafka:GROUP" */
    FILE *mem;     /* the outputs are written here, then produced */
    char membuf[4 * 8192 + 512];
    char iobuf[8192]; /* mem's stdio buffer: flushed into membuf by sink */
    const char *cur_key; /* the message key of the event being processed */
    size_t cur_key_len;
    uint64_t since_checkpoint;
    int64_t last_checkpoint_ns;
    bool failed;
    bool closing; /* the last checkpoint is made: a revocation commits nothing */
    bool down_said;
    uint64_t failed_seen, ok_seen;
    int64_t lag_said;
    struct wd_kafka_lag_row lags[MAX_TP]; /* each assigned partition's, at the last tick */
    size_t n_lags;
    double max_wait_s, backlog_wait_s;
    uint64_t paused; /* partitions paused now */
    uint64_t synth_no;
    jsmntok_t toks[WD_DECODE_MAX_TOKENS];
};

/* ---- the outputs, produced ------------------------------------------------- */

static void sink(void *ctx, const char *type)
{
    struct cli_kafka_run *k = ctx;
    struct wd_error err = {0};
    (void)fflush(k->mem); /* membuf holds the record only once flushed */
    long n = ftell(k->mem);
    rewind(k->mem);
    if (n <= 0) {
        return;
    }
    fwrite(k->membuf, 1, (size_t)n, stdout);
    enum wd_kafka_topic t = strcmp(type, "decision") == 0   ? WD_KT_DECISIONS
                            : strcmp(type, "control") == 0  ? WD_KT_CONTROL
                            : strcmp(type, "incident") == 0 ? WD_KT_INCIDENTS
                                                            : WD_KT_COUNT;
    if (t == WD_KT_COUNT) {
        return; /* alerts stay on stdout */
    }
    if (wd_kafka_produce(k->k, t, k->cur_key, k->cur_key_len, k->membuf, (size_t)n - 1u, &err) !=
        WD_OK) {
        fprintf(stderr, "warden: kafka: %s\n", err.msg);
    }
}

/* ---- positions and snapshots ------------------------------------------------- */

static struct tp_pos *find_pos(struct tp_pos *v, size_t n, enum wd_kafka_topic t, int32_t p)
{
    for (size_t i = 0; i < n; i++) {
        if (v[i].topic == t && v[i].partition == p) {
            return &v[i];
        }
    }
    return NULL;
}

static uint32_t source_of(enum wd_kafka_topic t, int32_t p)
{
    return (uint32_t)p * WD_KT_INPUTS + (uint32_t)t;
}

/* The position of an assigned partition (every one has a merge source). */
static struct tp_pos *pos_of(struct cli_kafka_run *k, enum wd_kafka_topic t, int32_t p)
{
    uint32_t s = source_of(t, p);
    return p >= 0 && s < WD_MERGE_MAX_SOURCES && k->pos_of[s] != 0 ? &k->pos[k->pos_of[s] - 1u]
                                                                    : NULL;
}

/* The assigned partitions' positions that are known, for a commit. */
static size_t positions(const struct cli_kafka_run *k, struct wd_kafka_tp *tps)
{
    size_t n = 0;
    for (size_t i = 0; i < k->n_pos; i++) {
        if (k->pos[i].assigned && k->pos[i].next >= 0) {
            tps[n++] = (struct wd_kafka_tp){.topic = k->pos[i].topic,
                                            .partition = k->pos[i].partition,
                                            .offset = k->pos[i].next};
        }
    }
    return n;
}

/* The engine's state and every known position, in one store row; then
 * the offsets to the group. Outputs queued before are delivered first: a
 * position is never durable ahead of the outputs of its events. */
static bool checkpoint(struct cli_kafka_run *k, int64_t now_ns, bool force, bool sync)
{
    static struct wd_kafka_tp tps[MAX_TP];
    struct wd_error err = {0};
    struct wd_wbuf w;
    if ((k->since_checkpoint == 0 && !force) || k->closing) {
        return true;
    }
    if (wd_kafka_flush(k->k, FLUSH_MS, &err) != WD_OK) {
        fprintf(stderr, "warden: kafka: checkpoint put off: %s\n", err.msg);
        k->last_checkpoint_ns = now_ns + RETRY_NS - CHECKPOINT_NS;
        return false;
    }
    k->env.lock(k->env.ctx);
    wd_wbuf_init(&w);
    wd_w_u32(&w, SNAP_MAGIC);
    wd_w_u32(&w, (uint32_t)k->n_pos);
    for (size_t i = 0; i < k->n_pos; i++) {
        wd_w_u8(&w, (uint8_t)k->pos[i].topic);
        wd_w_u32(&w, (uint32_t)k->pos[i].partition);
        wd_w_i64(&w, k->pos[i].next);
    }
    wd_engine_save(k->env.engine(k->env.ctx), &w);
    struct wd_snapshot snap = {.events = *k->env.events,
                               .saved_ns = *k->env.last_ts,
                               .blob = w.data,
                               .blob_len = w.len};
    enum wd_status st = w.st != WD_OK ? w.st
                                      : wd_store_put_snapshot(k->env.store, k->key, &snap, &err);
    k->env.unlock(k->env.ctx);
    wd_wbuf_free(&w);
    if (st != WD_OK) {
        fprintf(stderr, "warden: kafka: checkpoint failed: %s\n",
                err.msg[0] ? err.msg : wd_status_str(st));
        return false;
    }
    k->since_checkpoint = 0;
    k->last_checkpoint_ns = now_ns;
    size_t n = positions(k, tps);
    if (wd_kafka_commit(k->k, tps, n, sync, &err) != WD_OK) {
        fprintf(stderr, "warden: kafka: %s (the store has the offsets)\n", err.msg);
    }
    return true;
}

/* At start: the engine and the positions of the last checkpoint; what the
 * events after it wrote is taken back, as for a replay's resume. */
static int restore(struct cli_kafka_run *k)
{
    struct wd_snapshot snap;
    struct wd_error err = {0};
    bool found = false;
    memset(&snap, 0, sizeof snap);
    if (wd_store_get_snapshot(k->env.store, k->key, &snap, &found, &err) != WD_OK) {
        cli_errorf("store: %s", err.msg);
        return CLI_FAIL;
    }
    if (found) {
        struct wd_rbuf r;
        wd_rbuf_init(&r, snap.blob, snap.blob_len);
        uint32_t n = wd_r_u32(&r) == SNAP_MAGIC ? wd_r_u32(&r) : UINT32_MAX;
        for (uint32_t i = 0; i < n && i < MAX_TP && !r.bad; i++) {
            k->restored[i].topic = (enum wd_kafka_topic)(wd_r_u8(&r) % WD_KT_INPUTS);
            k->restored[i].partition = (int32_t)wd_r_u32(&r);
            k->restored[i].next = wd_r_i64(&r);
            k->n_restored = i + 1;
        }
        if (n > MAX_TP || r.bad ||
            wd_engine_load(k->env.engine(k->env.ctx), r.data + r.pos, r.len - r.pos, &err) !=
                WD_OK) {
            cli_errorf("store: the Kafka checkpoint %s cannot be read (%s): it is damaged or "
                       "from another warden version; start on a fresh store (--db), which "
                       "reads the group's committed offsets",
                       k->key, err.msg[0] ? err.msg : "bad offsets");
            free(snap.blob);
            return CLI_FAIL;
        }
        *k->env.events = snap.events;
        *k->env.last_ts = snap.saved_ns;
        fprintf(stderr, "warden: %s: resuming after event %" PRIu64 " (%zu partitions)\n",
                k->key, snap.events, k->n_restored);
    }
    free(snap.blob);
    if (wd_store_rewind(k->env.store, k->key, *k->env.events, &err) != WD_OK) {
        cli_errorf("store: %s", err.msg);
        return CLI_FAIL;
    }
    return k->env.load_states(k->env.ctx);
}

/* ---- rebalances ---------------------------------------------------------------- */

static void on_assigned(void *ctx, struct wd_kafka_tp *tps, size_t n)
{
    struct cli_kafka_run *k = ctx;
    for (size_t i = 0; i < n; i++) {
        struct tp_pos *r = find_pos(k->restored, k->n_restored, tps[i].topic, tps[i].partition);
        struct tp_pos *p = find_pos(k->pos, k->n_pos, tps[i].topic, tps[i].partition);
        if (p == NULL && k->n_pos < MAX_TP) {
            p = &k->pos[k->n_pos++];
            *p = (struct tp_pos){.topic = tps[i].topic, .partition = tps[i].partition, .next = -1};
        }
        uint32_t src = source_of(tps[i].topic, tps[i].partition);
        if (p == NULL || wd_merge_open(k->m, src) != WD_OK) {
            continue;
        }
        k->pos_of[src] = (uint16_t)(p - k->pos + 1);
        p->assigned = true;
        k->paused -= p->paused ? 1u : 0u;
        p->paused = false;
        p->read = p->eof_at = -1;
        k->caught_up_said = false;
        if (r != NULL && r->next >= 0) {
            tps[i].offset = p->next = r->next; /* our durable position wins */
        }
        if (tps[i].offset >= 0) {
            fprintf(stderr, "warden: kafka: assigned %s/%" PRId32 " from offset %" PRId64
                            " (the store's checkpoint)\n",
                    wd_kafka_topic_name(k->k, tps[i].topic), tps[i].partition, tps[i].offset);
        } else {
            fprintf(stderr, "warden: kafka: assigned %s/%" PRId32 " from the group's offset\n",
                    wd_kafka_topic_name(k->k, tps[i].topic), tps[i].partition);
        }
    }
    char ts[40];
    wd_time_format_utc(cli_wall_ns(), ts, sizeof ts);
    fprintf(stderr, "%s INFO run kafka assigned partitions=%zu\n", ts, n);
}

static void put_back(void *ctx, uint64_t h)
{
    struct cli_kafka_run *k = ctx;
    wd_kafka_release(&k->held[h]);
    k->free_idx[k->n_free++] = (uint32_t)h;
}

static void set_paused(struct cli_kafka_run *k, const struct wd_kafka_tp *tps, size_t n,
                       bool pause);

static void on_revoked(void *ctx, const struct wd_kafka_tp *tps, size_t n)
{
    struct cli_kafka_run *k = ctx;
    static struct wd_kafka_tp paused[MAX_TP];
    size_t np = 0;
    /* Not left paused for whoever gets them next (librdkafka keeps an
     * application's pause on the partition). */
    for (size_t i = 0; i < n; i++) {
        struct tp_pos *p = find_pos(k->pos, k->n_pos, tps[i].topic, tps[i].partition);
        if (p != NULL && p->paused) {
            paused[np++] = tps[i];
        }
    }
    set_paused(k, paused, np, false);
    /* Held messages of these partitions are dropped: their new owner reads
     * them again from the offsets committed here. */
    for (size_t i = 0; i < n; i++) {
        wd_merge_close(k->m, source_of(tps[i].topic, tps[i].partition), put_back, k);
    }
    (void)checkpoint(k, k->last_checkpoint_ns, true, true);
    for (size_t i = 0; i < n; i++) {
        struct tp_pos *p = find_pos(k->pos, k->n_pos, tps[i].topic, tps[i].partition);
        if (p != NULL) {
            p->assigned = false;
        }
    }
    fprintf(stderr, "warden: kafka: %zu partitions revoked\n", n);
}

/* Said during the poll, before the batch's earlier messages of the same
 * partition are pushed (a push makes a source not caught up): the end is
 * applied to the merge after the batch, unless a message at or past it was
 * read (apply_ends). */
static void on_caught_up(void *ctx, enum wd_kafka_topic t, int32_t p, int64_t end)
{
    struct cli_kafka_run *k = ctx;
    struct tp_pos *pos = pos_of(k, t, p);
    if (pos != NULL && pos->assigned) {
        pos->eof_at = end;
        k->eof_said = true;
    }
}

static void apply_ends(struct cli_kafka_run *k)
{
    for (size_t i = 0; i < k->n_pos; i++) {
        struct tp_pos *p = &k->pos[i];
        if (p->assigned && p->eof_at >= 0) {
            if (p->read < p->eof_at) {
                wd_merge_caught_up(k->m, source_of(p->topic, p->partition));
            } else {
                p->eof_at = -1; /* read past it: not at the end any more */
            }
        }
    }
    k->eof_said = false;
}

/* Pauses or resumes partitions, and says so on the positions. */
static void set_paused(struct cli_kafka_run *k, const struct wd_kafka_tp *tps, size_t n,
                       bool pause)
{
    struct wd_error err = {0};
    if (n == 0) {
        return;
    }
    if (wd_kafka_pause(k->k, tps, n, pause, &err) != WD_OK) {
        fprintf(stderr, "warden: %s\n", err.msg);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        struct tp_pos *p = find_pos(k->pos, k->n_pos, tps[i].topic, tps[i].partition);
        if (p != NULL && p->paused != pause) {
            p->paused = pause;
            k->paused = pause ? k->paused + 1u : k->paused - 1u;
        }
    }
}

/* After each read (issue 7 point 2 while a backlog is caught up):
 * - a partition is behind when its log end (as librdkafka last fetched
 *   it) is past what was read: the merge waits for it up to
 *   backlog_wait_ms, not max_wait_ms, so that a fill fetched early does
 *   not go before its intent still unread on another partition;
 * - a partition holding its share of the merge (the pool over the
 *   assigned partitions) is paused until it holds half of that, so that
 *   the merge never fills up with the partitions librdkafka happens to
 *   fetch first and librdkafka fetches the others. */
static void flow(struct cli_kafka_run *k)
{
    static struct wd_kafka_tp to_pause[MAX_TP], to_resume[MAX_TP];
    size_t np = 0, nr = 0, assigned = 0;
    for (size_t i = 0; i < k->n_pos; i++) {
        assigned += k->pos[i].assigned ? 1u : 0u;
    }
    uint32_t share = (HELD_MAX - BATCH) / (uint32_t)(assigned > 0 ? assigned : 1u);
    for (size_t i = 0; i < k->n_pos; i++) {
        struct tp_pos *p = &k->pos[i];
        if (!p->assigned) {
            continue;
        }
        uint32_t src = source_of(p->topic, p->partition);
        uint32_t held = wd_merge_held(k->m, src);
        struct wd_kafka_tp tp = {.topic = p->topic, .partition = p->partition, .offset = -1};
        if (!p->paused && held >= share) {
            to_pause[np++] = tp;
        } else if (p->paused && held <= share / 2u) {
            to_resume[nr++] = tp;
        }
        bool at_end = p->eof_at >= 0 && p->read < p->eof_at;
        if (p->read >= 0 && !at_end) {
            int64_t high = wd_kafka_high(k->k, p->topic, p->partition);
            wd_merge_behind(k->m, src, high > p->read + 1);
        }
    }
    set_paused(k, to_pause, np, true);
    set_paused(k, to_resume, nr, false);
}

bool cli_kafka_run_caught_up(struct cli_kafka_run *k, uint64_t *messages, size_t *partitions)
{
    struct wd_merge_stats ms;
    size_t n = 0;
    if (k->caught_up_said) {
        return false;
    }
    for (size_t i = 0; i < k->n_pos; i++) {
        const struct tp_pos *p = &k->pos[i];
        if (p->assigned) {
            if (p->eof_at < 0 || p->read >= p->eof_at) {
                return false;
            }
            n++;
        }
    }
    wd_merge_get_stats(k->m, &ms);
    if (n == 0 || ms.held > 0) {
        return false;
    }
    k->caught_up_said = true;
    *messages = k->messages;
    *partitions = n;
    return true;
}

/* ---- events ------------------------------------------------------------------------ */

bool cli_kafka_event_ts(void *tok_buf, const char *s, size_t len, int64_t *ts)
{
    jsmntok_t *toks = tok_buf;
    jsmn_parser p;
    if (len > WD_DECODE_MAX_LINE) {
        return false;
    }
    jsmn_init(&p);
    int n = jsmn_parse(&p, s, len, toks, WD_DECODE_MAX_TOKENS);
    if (n < 1 || toks[0].type != JSMN_OBJECT) {
        return false;
    }
    for (int i = 1; i + 1 < n;) {
        const jsmntok_t *key = &toks[i], *val = &toks[i + 1];
        if (key->end - key->start == 2 && memcmp(s + key->start, "ts", 2) == 0) {
            const char *v = s + val->start;
            size_t vl = (size_t)(val->end - val->start);
            if (val->type == JSMN_STRING) {
                return wd_time_parse_rfc3339(v, vl, ts) == WD_OK;
            }
            char *end;
            char buf[32];
            if (val->type != JSMN_PRIMITIVE || vl == 0 || vl >= sizeof buf) {
                return false;
            }
            memcpy(buf, v, vl);
            buf[vl] = '\0';
            long long x = strtoll(buf, &end, 10);
            *ts = x;
            return *end == '\0';
        }
        /* Skip the value and everything inside it. */
        int end = val->end, j = i + 2;
        while (j < n && toks[j].start < end) {
            j++;
        }
        i = j;
    }
    return false;
}

static bool process(struct cli_kafka_run *k, uint64_t h)
{
    struct wd_kafka_msg *msg = &k->held[h];
    char name[300];
    snprintf(name, sizeof name, "kafka:%s/%" PRId32, wd_kafka_topic_name(k->k, msg->topic),
             msg->partition);
    struct wd_line line = {.ptr = msg->payload, .len = msg->len,
                           .no = (uint64_t)msg->offset + 1u,
                           .overlong = msg->len > WD_DECODE_MAX_LINE};
    if (line.overlong) {
        line.ptr = NULL;
    }
    k->env.out->partition = msg->partition;
    k->env.out->offset = msg->offset;
    k->cur_key = msg->key;
    k->cur_key_len = msg->key_len;
    enum wd_status st = k->env.line(k->env.ctx, name, &line);
    k->env.out->offset = -1;
    k->cur_key = NULL;
    k->cur_key_len = 0;
    struct tp_pos *p = pos_of(k, msg->topic, msg->partition);
    if (p != NULL) {
        p->next = msg->offset + 1;
    }
    put_back(k, h);
    k->since_checkpoint++;
    k->messages++;
    return st == WD_OK;
}

bool cli_kafka_run_turn(struct cli_kafka_run *k, int64_t now_ns)
{
    static struct wd_kafka_msg batch[BATCH];
    struct wd_merge_item it;
    size_t n;
    do {
        n = wd_kafka_poll(k->k, batch, BATCH, 0);
        for (size_t i = 0; i < n && !k->failed; i++) {
            int64_t ts = 0;
            bool has_ts = cli_kafka_event_ts(k->toks, batch[i].payload, batch[i].len, &ts);
            if (k->n_free == 0 && wd_merge_pop_any(k->m, &it)) {
                k->failed |= !process(k, it.handle); /* full: the earliest goes now */
            }
            struct tp_pos *p = pos_of(k, batch[i].topic, batch[i].partition);
            if (p != NULL && batch[i].offset > p->read) {
                p->read = batch[i].offset;
            }
            uint32_t h = k->free_idx[--k->n_free];
            k->held[h] = batch[i];
            if (wd_merge_push(k->m, source_of(batch[i].topic, batch[i].partition), has_ts, ts,
                              now_ns, h) != WD_OK) {
                k->held[h].raw = batch[i].raw;
                put_back(k, h); /* a partition past the bound: said once at assignment */
            }
        }
        if (k->eof_said) {
            apply_ends(k);
        }
        flow(k);
        while (!k->failed && wd_merge_pop(k->m, now_ns, &it)) {
            k->failed |= !process(k, it.handle);
        }
    } while (n == BATCH && !k->failed);
    if (k->paused > 0) {
        flow(k); /* what was released may let a paused partition go again */
    }
    if (k->since_checkpoint >= CHECKPOINT_EVENTS ||
        (k->since_checkpoint > 0 && now_ns - k->last_checkpoint_ns >= CHECKPOINT_NS)) {
        (void)checkpoint(k, now_ns, false, false);
    }
    return !k->failed;
}

int cli_kafka_run_timeout_ms(const struct cli_kafka_run *k, int64_t now_ns)
{
    int64_t d = wd_merge_deadline(k->m);
    if (d == INT64_MAX) {
        return k->since_checkpoint > 0 ? (int)(CHECKPOINT_NS / 1000000) : -1;
    }
    return d <= now_ns ? 0 : (int)((d - now_ns) / 1000000 + 1);
}

/* A system event made by warden about the bus, through the same path as
 * the bus's own events. */
static bool synth(struct cli_kafka_run *k, const char *json)
{
    struct wd_line line = {.ptr = json, .len = strlen(json), .no = ++k->synth_no};
    return k->env.line(k->env.ctx, "kafka:health", &line) == WD_OK;
}

static void add_lag(void *ctx, const struct wd_kafka_lag_row *row)
{
    struct cli_kafka_run *k = ctx;
    if (k->n_lags < MAX_TP) {
        k->lags[k->n_lags++] = *row;
    }
}

bool cli_kafka_run_tick(struct cli_kafka_run *k, int64_t now_ns)
{
    struct wd_kafka_health h;
    char json[400];
    bool ok = true;
    wd_kafka_get_health(k->k, &h);
    /* Down: all brokers down, or a delivery failed and none succeeded
     * since. Up again: a message read or delivered. */
    bool produce_failing = h.produce_failed > k->failed_seen && h.produce_ok == k->ok_seen;
    bool down = h.brokers_down || produce_failing;
    if (down != k->down_said) {
        char detail[160];
        size_t j = 0;
        for (size_t i = 0; h.last_error[i] != '\0' && j + 1 < sizeof detail; i++) {
            char c = h.last_error[i];
            detail[j++] = c == '"' || c == '\\' || (unsigned char)c < 0x20 ? ' ' : c;
        }
        detail[j] = '\0';
        snprintf(json, sizeof json,
                 "{\"type\":\"heartbeat\",\"ts\":%" PRId64
                 ",\"component\":\"kafka\",\"status\":\"%s\",\"detail\":\"%s\"}",
                 now_ns, down ? "down" : "up", down ? detail : "");
        ok = synth(k, json);
        k->down_said = down;
    }
    if (!produce_failing) {
        k->failed_seen = h.produce_failed;
    }
    k->ok_seen = h.produce_ok;
    struct { int64_t total; } s = {0};
    k->n_lags = 0;
    (void)wd_kafka_lag(k->k, false, 0, add_lag, k);
    for (size_t i = 0; i < k->n_lags; i++) {
        s.total += k->lags[i].lag > 0 ? k->lags[i].lag : 0;
    }
    if (s.total != k->lag_said) {
        snprintf(json, sizeof json,
                 "{\"type\":\"metric\",\"ts\":%" PRId64 ",\"name\":\"consumer_lag\",\"value\":%" PRId64
                 "}",
                 now_ns, s.total);
        ok = synth(k, json) && ok;
        k->lag_said = s.total;
    }
    return ok;
}

void cli_kafka_run_metrics(const struct cli_kafka_run *k, struct wd_metrics *m)
{
    struct wd_merge_stats ms;
    wd_metrics_clear_partition_lag(m);
    for (size_t i = 0; i < k->n_lags; i++) {
        if (k->lags[i].lag >= 0 &&
            wd_metrics_set_partition_lag(m, k->lags[i].topic, k->lags[i].partition,
                                         (uint64_t)k->lags[i].lag) != WD_OK) {
            break; /* past the registry's bound: the total still counts them */
        }
    }
    wd_merge_get_stats(k->m, &ms);
    wd_metrics_set_merge(m, &(struct wd_metrics_merge){.on = true,
                                                       .held = ms.held,
                                                       .held_max = ms.held_max,
                                                       .released_late = ms.released_late,
                                                       .paused = k->paused,
                                                       .max_wait_seconds = k->max_wait_s,
                                                       .backlog_wait_seconds = k->backlog_wait_s});
}

/* ---- lifecycle ---------------------------------------------------------------------- */

int cli_kafka_run_new(const struct wd_config *cfg, const struct cli_kafka_env *env,
                      struct cli_kafka_run **out)
{
    struct wd_error err = {0};
    struct cli_kafka_run *k = calloc(1, sizeof *k);
    int rc = CLI_FAIL;
    *out = NULL;
    if (k == NULL || (k->held = calloc(HELD_MAX, sizeof *k->held)) == NULL ||
        (k->free_idx = calloc(HELD_MAX, sizeof *k->free_idx)) == NULL ||
        wd_merge_new(HELD_MAX, cfg->kafka.max_wait_ms * 1000000LL,
                     cfg->kafka.backlog_wait_ms * 1000000LL, &k->m) != WD_OK ||
        (k->mem = fmemopen(k->membuf, sizeof k->membuf, "w")) == NULL) {
        cli_errorf("kafka: out of memory");
        goto fail;
    }
    /* Buffered: unbuffered, each character of an output was a call into
     * fmemopen's cookie (most of the time of an event with an output). */
    setvbuf(k->mem, k->iobuf, _IOFBF, sizeof k->iobuf);
    k->env = *env;
    k->lag_said = -1;
    k->max_wait_s = (double)cfg->kafka.max_wait_ms / 1000.0;
    k->backlog_wait_s = (double)cfg->kafka.backlog_wait_ms / 1000.0;
    for (uint32_t i = 0; i < HELD_MAX; i++) {
        k->free_idx[i] = HELD_MAX - 1u - i;
    }
    k->n_free = HELD_MAX;
    snprintf(k->key, sizeof k->key, "kafka:%s", cfg->kafka.group);
    if ((rc = restore(k)) != CLI_OK) {
        goto fail;
    }
    struct wd_kafka_hooks hooks = {.assigned = on_assigned,
                                   .revoked = on_revoked,
                                   .caught_up = on_caught_up,
                                   .ctx = k};
    enum wd_status st = wd_kafka_new(cfg, true, true, &hooks, &k->k, &err);
    if (st == WD_OK) {
        st = wd_kafka_subscribe(k->k, &err);
    }
    if (st != WD_OK) {
        cli_errorf("%s", err.msg);
        rc = st == WD_EINVAL ? CLI_USAGE : CLI_FAIL;
        goto fail;
    }
    k->env.out->out = k->mem;
    jw_init(&k->env.out->w, k->mem);
    k->env.out->sink = sink;
    k->env.out->sink_ctx = k;
    k->env.out->key = k->key;
    *out = k;
    return CLI_OK;
fail:
    cli_kafka_run_free(k);
    return rc;
}

void cli_kafka_run_free(struct cli_kafka_run *k)
{
    struct wd_merge_item it;
    if (k == NULL) {
        return;
    }
    if (k->k != NULL) {
        /* What the merge holds is not processed: it is read again next
         * time, from the offsets of this last checkpoint. */
        while (k->m != NULL && wd_merge_pop_any(k->m, &it)) {
            put_back(k, it.handle);
        }
        /* The commit is not waited for: the store has the offsets, and
         * leaving the group (bounded) sends it if the cluster is there. */
        (void)checkpoint(k, 0, true, false);
        k->closing = true;
        k->env.out->sink = NULL;
        k->env.out->out = stdout;
        jw_init(&k->env.out->w, stdout);
        wd_kafka_free(k->k, CLOSE_MS);
    }
    wd_merge_free(k->m);
    if (k->mem != NULL) {
        fclose(k->mem);
    }
    free(k->held);
    free(k->free_idx);
    free(k);
}

int cli_kafka_run_fd(struct cli_kafka_run *k)
{
    return wd_kafka_fd(k->k);
}

_Static_assert(CLI_KAFKA_LAG_MAX == MAX_TP, "every assigned partition's lag fits");

size_t cli_kafka_run_lag_rows(const struct cli_kafka_run *k, struct wd_kafka_lag_row *out,
                              size_t max, struct cli_kafka_merge *merge)
{
    size_t n = k->n_lags < max ? k->n_lags : max;
    memcpy(out, k->lags, n * sizeof *out);
    if (merge != NULL) {
        struct wd_merge_stats ms;
        wd_merge_get_stats(k->m, &ms);
        *merge = (struct cli_kafka_merge){.held = ms.held,
                                          .held_max = ms.held_max,
                                          .released_late = ms.released_late,
                                          .paused = k->paused,
                                          .max_wait_ms = (int64_t)(k->max_wait_s * 1000.0 + 0.5),
                                          .backlog_wait_ms =
                                              (int64_t)(k->backlog_wait_s * 1000.0 + 0.5)};
    }
    return n;
}
