/*
 * `warden replay --kafka TOPICS --from T [--to T]` (docs/KAFKA.md, issue 7
 * point 6): history read back from the bus, the playbook's backfill,
 * without disturbing the live consumer group: a group-less consumer is
 * assigned the partitions (offsets for times), never joins the group and
 * commits nothing. The messages go through the event-time merge and then,
 * one by one, to the replay's own line handling (the same outputs as
 * `warden replay FILE`).
 */
#define _DEFAULT_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/kafka_run.h"
#include "core/jsmn_strict.h"
#include "kafka/kafka.h"
#include "warden/merge.h"

#define HELD_MAX 65536u
#define BATCH 512u
#define MAX_TP 1024u
#define TIMEOUT_MS 5000
#define IDLE_NS 10000000000LL /* nothing read and no end reached: the cluster is gone */
#define WAIT_ALL_NS (INT64_MAX / 4) /* all partitions are known: wait for each */

struct kreplay {
    struct wd_kafka *k;
    struct wd_merge *m;
    struct wd_kafka_msg *held;
    uint32_t *free_idx;
    uint32_t n_free;
    bool ended[MAX_TP]; /* by source */
    bool open[MAX_TP];
    size_t n_open, n_ended;
    int64_t last_progress_ns;
    jsmntok_t toks[WD_DECODE_MAX_TOKENS];
};

static uint32_t source_of(enum wd_kafka_topic t, int32_t p)
{
    return (uint32_t)p * WD_KT_INPUTS + (uint32_t)t;
}

static int64_t mono_ns(void)
{
    struct timespec ts;
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void on_caught_up(void *ctx, enum wd_kafka_topic t, int32_t p, int64_t end)
{
    (void)end; /* the loop below stops once every partition ended, then drains the merge */
    struct kreplay *r = ctx;
    uint32_t s = source_of(t, p);
    if (s < MAX_TP && r->open[s] && !r->ended[s]) {
        r->ended[s] = true;
        r->n_ended++;
        r->last_progress_ns = mono_ns();
    }
    wd_merge_caught_up(r->m, s);
}

/* Assigns the partitions of each topic from the first message at or
 * after from_ns; a partition with none is not read. */
static int assign(struct kreplay *r, const struct wd_config *cfg, const char *topics,
                  int64_t from_ns)
{
    static struct wd_kafka_tp tps[MAX_TP], got[MAX_TP], earliest[MAX_TP];
    struct wd_error err = {0};
    size_t n = 0;
    char name[256];
    for (const char *p = topics; *p != '\0';) {
        size_t len = strcspn(p, ",");
        size_t m = 0;
        snprintf(name, sizeof name, "%.*s", (int)len, p);
        p += len + (p[len] == ',');
        enum wd_status st = wd_kafka_offsets_for_time(r->k, name, from_ns / 1000000, got,
                                                      MAX_TP, &m, TIMEOUT_MS, &err);
        if (st != WD_OK) {
            cli_errorf("replay: --kafka %s: %s", name, err.msg);
            return st == WD_EINVAL ? CLI_USAGE : CLI_FAIL;
        }
        /* None at or after the time: asked again for time 0, a broker
         * that looks offsets up by time gives the partition's first one
         * (or none: it is empty). One that still says none cannot look
         * them up (librdkafka's mock cluster): the partition is read from
         * its start, and the events before from_ns are skipped. */
        size_t e = 0;
        for (size_t i = 0; i < m && e == 0; i++) {
            if (got[i].offset < 0 &&
                wd_kafka_offsets_for_time(r->k, name, 0, earliest, MAX_TP, &e, TIMEOUT_MS,
                                          &err) != WD_OK) {
                e = 0;
                break;
            }
        }
        for (size_t i = 0; i < m && i < e; i++) {
            if (got[i].offset < 0 && earliest[i].offset < 0) {
                got[i].offset = WD_KAFKA_FROM_START;
                fprintf(stderr, "warden: replay: %s/%" PRId32 ": the broker does not look offsets "
                                "up by time: read from its start\n",
                        name, got[i].partition);
            }
        }
        for (size_t i = 0; i < m && n < MAX_TP; i++) {
            uint32_t s = source_of(got[i].topic, got[i].partition);
            if (got[i].offset == -1 || s >= MAX_TP || r->open[s]) {
                continue; /* nothing at or after the time, or given twice */
            }
            if (wd_merge_open(r->m, s) != WD_OK) {
                continue;
            }
            r->open[s] = true;
            r->n_open++;
            tps[n++] = got[i];
            if (got[i].offset >= 0) {
                fprintf(stderr, "warden: replay: %s/%" PRId32 " from offset %" PRId64 "\n", name,
                        got[i].partition, got[i].offset);
            }
        }
    }
    (void)cfg;
    if (wd_kafka_assign(r->k, tps, n, &err) != WD_OK) {
        cli_errorf("replay: %s", err.msg);
        return CLI_FAIL;
    }
    return CLI_OK;
}

static void put_back(struct kreplay *r, uint64_t h)
{
    wd_kafka_release(&r->held[h]);
    r->free_idx[r->n_free++] = (uint32_t)h;
}

/* One message to fn, when its event time is in the window. */
static enum wd_status deliver(struct kreplay *r, uint64_t h, int64_t ts, bool has_ts,
                              int64_t from_ns, int64_t to_ns, struct cli_outputs *out,
                              wd_line_fn fn, void *ctx)
{
    struct wd_kafka_msg *msg = &r->held[h];
    enum wd_status st = WD_OK;
    if (!has_ts || (ts >= from_ns && ts < to_ns)) {
        struct wd_line line = {.ptr = msg->payload, .len = msg->len,
                               .no = (uint64_t)msg->offset + 1u,
                               .overlong = msg->len > WD_DECODE_MAX_LINE};
        if (line.overlong) {
            line.ptr = NULL;
        }
        out->partition = msg->partition;
        out->offset = msg->offset;
        st = fn(ctx, &line);
        out->offset = -1;
    }
    put_back(r, h);
    return st;
}

static int run(struct kreplay *r, int64_t from_ns, int64_t to_ns, struct cli_outputs *out,
               wd_line_fn fn, void *ctx)
{
    static struct wd_kafka_msg batch[BATCH];
    static int64_t ts_of[HELD_MAX];
    static bool has_of[HELD_MAX];
    struct wd_merge_item it;
    enum wd_status st = WD_OK;
    r->last_progress_ns = mono_ns();
    while (st == WD_OK && r->n_ended < r->n_open) {
        size_t n = wd_kafka_poll(r->k, batch, BATCH, 100);
        if (n > 0) {
            r->last_progress_ns = mono_ns();
        } else if (mono_ns() - r->last_progress_ns > IDLE_NS) {
            struct wd_kafka_health h;
            wd_kafka_get_health(r->k, &h);
            cli_errorf("replay: kafka: nothing read for 10 s and %zu of %zu partitions not at "
                       "their end (%s)",
                       r->n_open - r->n_ended, r->n_open, h.last_error[0] ? h.last_error : "no error said");
            return CLI_FAIL;
        }
        for (size_t i = 0; i < n && st == WD_OK; i++) {
            if (r->n_free == 0 && wd_merge_pop_any(r->m, &it)) {
                st = deliver(r, it.handle, ts_of[it.handle], has_of[it.handle], from_ns, to_ns,
                             out, fn, ctx);
            }
            uint32_t h = r->free_idx[--r->n_free];
            r->held[h] = batch[i];
            has_of[h] = cli_kafka_event_ts(r->toks, batch[i].payload, batch[i].len, &ts_of[h]);
            if (wd_merge_push(r->m, source_of(batch[i].topic, batch[i].partition), has_of[h],
                              ts_of[h], 0, h) != WD_OK) {
                put_back(r, h);
            }
        }
        while (st == WD_OK && wd_merge_pop(r->m, 0, &it)) {
            st = deliver(r, it.handle, ts_of[it.handle], has_of[it.handle], from_ns, to_ns, out,
                         fn, ctx);
        }
    }
    while (st == WD_OK && wd_merge_pop_any(r->m, &it)) {
        st = deliver(r, it.handle, ts_of[it.handle], has_of[it.handle], from_ns, to_ns, out, fn,
                     ctx);
    }
    return st == WD_OK ? CLI_OK : CLI_FAIL;
}

int cli_kafka_replay(const struct wd_config *cfg, const char *topics, int64_t from_ns,
                     int64_t to_ns, struct cli_outputs *out, wd_line_fn fn, void *ctx)
{
    struct wd_error err = {0};
    struct wd_merge_item it;
    struct kreplay *r = calloc(1, sizeof *r);
    int rc = CLI_FAIL;
    if (r == NULL || (r->held = calloc(HELD_MAX, sizeof *r->held)) == NULL ||
        (r->free_idx = calloc(HELD_MAX, sizeof *r->free_idx)) == NULL ||
        wd_merge_new(HELD_MAX, WAIT_ALL_NS, WAIT_ALL_NS, &r->m) != WD_OK) {
        cli_errorf("replay: out of memory");
        goto out;
    }
    for (uint32_t i = 0; i < HELD_MAX; i++) {
        r->free_idx[i] = HELD_MAX - 1u - i;
    }
    r->n_free = HELD_MAX;
    struct wd_kafka_hooks hooks = {.caught_up = on_caught_up, .ctx = r};
    enum wd_status st = wd_kafka_new(cfg, false, false, &hooks, &r->k, &err);
    if (st != WD_OK) {
        cli_errorf("replay: %s", err.msg);
        rc = st == WD_EINVAL ? CLI_USAGE : CLI_FAIL;
        goto out;
    }
    if ((rc = assign(r, cfg, topics, from_ns)) == CLI_OK) {
        rc = run(r, from_ns, to_ns, out, fn, ctx);
    }
out:
    if (r != NULL) {
        while (r->m != NULL && wd_merge_pop_any(r->m, &it)) {
            put_back(r, it.handle);
        }
        wd_kafka_free(r->k, 0);
        wd_merge_free(r->m);
        free(r->held);
        free(r->free_idx);
        free(r);
    }
    return rc;
}
