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
#define SNAP_MAGIC 0x314f4b57u  /* "WKO1": offsets, then the engine */
#define SNAP_MAGIC2 0x324f4b57u /* "WKO2": offsets, accounts' shards, then the engine */
/* Handover (issue 7 point 4): each shard's accounts go to the state topic
 * at most every HANDOVER_NS, and at each revocation and stop. */
#define HANDOVER_NS 1000000000LL
#define HANDOVER_MAGIC 0x31484b57u /* "WKH1" */
#define MAX_SHARDS (WD_MERGE_MAX_SOURCES / WD_KT_INPUTS)
#define STATE_READ_MS 10000
#define MAX_ACCOUNTS 1000000u
#define SHARD_NONE (-1)
#define SHARD_LEAVING (-2)

struct tp_pos {
    enum wd_kafka_topic topic;
    int32_t partition;
    int64_t next; /* the next offset to process; -1: none processed yet */
    int64_t read;   /* the latest offset read (polled); -1: none */
    int64_t eof_at; /* its end as last said by the bus; -1: not said */
    bool assigned;
    bool paused; /* holds its share of the merge: not fetched (flow) */
};

/* A shard: partition N of every input topic (co-partitioned inputs keyed
 * by account, the range assignor: one warden has all of them). */
struct shard {
    bool owned;
    bool dirty;                /* a message processed since its last record */
    int64_t rec[WD_KT_INPUTS]; /* the next offsets in its last durable record; -1 */
    int64_t start[WD_KT_INPUTS]; /* at an assignment: where to read from; -1 group's */
    int64_t pend[WD_KT_INPUTS];  /* offsets of the record being written */
    bool pending;
    void *got;                 /* at an assignment: its furthest record read back */
    size_t got_len;
    int64_t got_off[WD_KT_INPUTS]; /* that record's offsets */
};

struct cli_kafka_run {
    struct cli_kafka_env env;
    struct wd_kafka *k;
    struct wd_kafka *reader; /* group-less: reads the state topic back */
    struct wd_intern accts;  /* the message keys (accounts) seen */
    bool accts_ok;
    int32_t *acct_shard;     /* by id in accts: the shard it came on; SHARD_NONE */
    uint32_t n_acct_shard;
    struct shard shards[MAX_SHARDS];
    int64_t last_handover_ns;
    bool unrecorded; /* a shard is dirty: a handover is due HANDOVER_NS after the last */
    uint64_t states_seen; /* wd_engine_states_version at the last look */
    bool assigned_once;
    char group[128];
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

/* What the group may have for a commit: for each assigned partition, the
 * offset of its shard's last durable handover record (never further: a
 * warden that gets the shard after a crash reads from the record's
 * offsets, or the group's when it finds none). */
static size_t positions(const struct cli_kafka_run *k, struct wd_kafka_tp *tps)
{
    size_t n = 0;
    for (size_t i = 0; i < k->n_pos; i++) {
        const struct tp_pos *p = &k->pos[i];
        int64_t off = p->partition >= 0 && p->partition < MAX_SHARDS
                          ? k->shards[p->partition].rec[p->topic]
                          : -1;
        if (p->assigned && off >= 0) {
            tps[n++] = (struct wd_kafka_tp){.topic = p->topic, .partition = p->partition,
                                            .offset = off};
        }
    }
    return n;
}

/* ---- accounts and their shards (the handover) ------------------------------ */

/* The account a message is keyed by came on partition `shard`. */
static void note_account(struct cli_kafka_run *k, const char *key, size_t len, int32_t shard)
{
    uint32_t id;
    if (key == NULL || len == 0 || shard < 0 || shard >= MAX_SHARDS ||
        wd_intern_get(&k->accts, key, len, &id) != WD_OK) {
        return; /* unkeyed, or a key no account can have: not handed over */
    }
    if (id >= k->n_acct_shard) {
        uint32_t n = k->n_acct_shard ? k->n_acct_shard * 2u : 64u;
        while (n <= id) {
            n *= 2u;
        }
        int32_t *v = realloc(k->acct_shard, n * sizeof *v);
        if (v == NULL) {
            return;
        }
        for (uint32_t i = k->n_acct_shard; i < n; i++) {
            v[i] = SHARD_NONE;
        }
        k->acct_shard = v;
        k->n_acct_shard = n;
    }
    k->acct_shard[id] = shard;
}

static int32_t shard_of(const struct cli_kafka_run *k, const char *name)
{
    uint32_t id;
    return wd_intern_find(&k->accts, name, strlen(name), &id) == WD_OK && id < k->n_acct_shard
               ? k->acct_shard[id]
               : SHARD_NONE;
}

/* Which accounts: those of one shard, or (shard SHARD_NONE) those of the
 * shards not owned. */
struct which {
    const struct cli_kafka_run *k;
    int32_t shard;
};

/* Whether an account on shard s (SHARD_NONE: none known) is one of q. */
static bool shard_in(const struct which *q, int32_t s)
{
    if (q->shard == SHARD_NONE) {
        return s >= 0 && !q->k->shards[s].owned;
    }
    return s == q->shard;
}

static bool account_in(void *ctx, const char *name)
{
    const struct which *q = ctx;
    return shard_in(q, shard_of(q->k, name));
}

/* Forgets the accounts of q (engine and map); under the lock. */
static void drop_accounts(struct cli_kafka_run *k, const struct which *q)
{
    struct which w = *q;
    wd_engine_drop_accounts(k->env.engine(k->env.ctx), account_in, &w);
    for (uint32_t id = 0; id < k->n_acct_shard && id < wd_intern_count(&k->accts); id++) {
        if (shard_in(q, k->acct_shard[id])) {
            k->acct_shard[id] = SHARD_NONE;
        }
    }
}

static void w_state(struct wd_wbuf *w, const struct wd_scope_state *st)
{
    wd_w_bytes(w, st->scope, strlen(st->scope));
    wd_w_u8(w, (uint8_t)st->state);
    wd_w_i64(w, st->since_ns);
    wd_w_bytes(w, st->reason, strlen(st->reason));
    wd_w_bytes(w, st->by, strlen(st->by));
    wd_w_bytes(w, st->scenario, strlen(st->scenario));
    wd_w_bytes(w, st->incident, strlen(st->incident));
    wd_w_i64(w, st->ramp_until_ns);
}

static bool r_text(struct wd_rbuf *r, char *out, size_t cap)
{
    size_t n;
    const char *p = wd_r_bytes(r, cap - 1u, &n);
    if (p == NULL || r->bad) {
        return false;
    }
    memcpy(out, p, n);
    out[n] = '\0';
    return true;
}

static bool r_state(struct wd_rbuf *r, struct wd_scope_state *st)
{
    memset(st, 0, sizeof *st);
    if (!r_text(r, st->scope, sizeof st->scope)) {
        return false;
    }
    st->state = (enum wd_tstate)wd_r_u8(r);
    st->since_ns = wd_r_i64(r);
    bool ok = r_text(r, st->reason, sizeof st->reason) && r_text(r, st->by, sizeof st->by) &&
              r_text(r, st->scenario, sizeof st->scenario) &&
              r_text(r, st->incident, sizeof st->incident);
    st->ramp_until_ns = wd_r_i64(r);
    return ok && !r->bad && wd_tstate_name(st->state) != NULL;
}

/* One shard's record: its partitions' next offsets, its accounts' names,
 * their trading states, then the engine's part (wd_engine_save_accounts);
 * the offsets go to sh->pend. Under the lock. */
static void put_record(struct cli_kafka_run *k, int32_t n, struct wd_wbuf *w)
{
    struct wd_engine *e = k->env.engine(k->env.ctx);
    struct which q = {k, n};
    struct shard *sh = &k->shards[n];
    uint32_t count = 0;
    wd_w_u32(w, HANDOVER_MAGIC);
    wd_w_u32(w, (uint32_t)n);
    for (int t = 0; t < WD_KT_INPUTS; t++) {
        const struct tp_pos *p = find_pos(k->pos, k->n_pos, (enum wd_kafka_topic)t, n);
        sh->pend[t] = p != NULL && p->next >= 0 ? p->next : sh->rec[t];
        wd_w_i64(w, sh->pend[t]);
    }
    uint32_t n_names = wd_intern_count(&k->accts);
    for (uint32_t id = 0; id < n_names && id < k->n_acct_shard; id++) {
        count += k->acct_shard[id] == n ? 1u : 0u;
    }
    wd_w_u32(w, count);
    for (uint32_t id = 0; id < n_names && id < k->n_acct_shard; id++) {
        if (k->acct_shard[id] == n) {
            const char *name = wd_intern_name(&k->accts, id);
            wd_w_bytes(w, name, strlen(name));
        }
    }
    count = 0;
    for (size_t i = 0; i < wd_engine_state_count(e); i++) {
        const struct wd_scope_state *st = wd_engine_state_at(e, i);
        count += strncmp(st->scope, "account:", 8) == 0 && account_in(&q, st->scope + 8);
    }
    wd_w_u32(w, count);
    for (size_t i = 0; i < wd_engine_state_count(e); i++) {
        const struct wd_scope_state *st = wd_engine_state_at(e, i);
        if (strncmp(st->scope, "account:", 8) == 0 && account_in(&q, st->scope + 8)) {
            w_state(w, st);
        }
    }
    wd_engine_save_accounts(e, account_in, &q, w);
}

/* Produces the records of the owned shards that are dirty (all owned
 * ones with all true); they are durable once the producer is flushed.
 * Under the lock. How many. */
static size_t produce_records(struct cli_kafka_run *k, bool all)
{
    struct wd_error err = {0};
    size_t n = 0;
    for (int32_t i = 0; i < MAX_SHARDS; i++) {
        struct shard *sh = &k->shards[i];
        sh->pending = false;
        if (!sh->owned || !(sh->dirty || all)) {
            continue;
        }
        struct wd_wbuf w;
        char key[160];
        int kl = snprintf(key, sizeof key, "%s/%" PRId32, k->group, i);
        wd_wbuf_init(&w);
        put_record(k, i, &w);
        if (w.st != WD_OK ||
            wd_kafka_produce(k->k, WD_KT_STATE, key, (size_t)kl, (const char *)w.data, w.len,
                             &err) != WD_OK) {
            fprintf(stderr, "warden: kafka: handover record of shard %" PRId32 ": %s\n", i,
                    w.st != WD_OK ? wd_status_str(w.st) : err.msg);
        } else {
            sh->pending = true;
            n++;
        }
        wd_wbuf_free(&w);
    }
    return n;
}

/* The records produced are durable: their offsets may be committed. */
static void records_durable(struct cli_kafka_run *k)
{
    k->unrecorded = false;
    for (int32_t i = 0; i < MAX_SHARDS; i++) {
        struct shard *sh = &k->shards[i];
        if (sh->pending) {
            memcpy(sh->rec, sh->pend, sizeof sh->rec);
            sh->dirty = sh->pending = false;
        }
        k->unrecorded = k->unrecorded || (sh->owned && sh->dirty);
    }
}

/* ---- records read back at an assignment ------------------------------------- */

/* A record's head: its shard and offsets. false: not a record this warden
 * writes. */
static bool record_head(struct wd_rbuf *r, int32_t *shard, int64_t off[WD_KT_INPUTS])
{
    if (wd_r_u32(r) != HANDOVER_MAGIC) {
        return false;
    }
    *shard = (int32_t)wd_r_u32(r);
    for (int t = 0; t < WD_KT_INPUTS; t++) {
        off[t] = wd_r_i64(r);
    }
    return !r->bad && *shard >= 0 && *shard < MAX_SHARDS;
}

static void got_record(void *ctx, const char *key, size_t key_len, const void *value, size_t len)
{
    struct cli_kafka_run *k = ctx;
    size_t gl = strlen(k->group);
    char digits[16];
    if (key == NULL || key_len <= gl + 1u || key_len - gl - 1u >= sizeof digits ||
        memcmp(key, k->group, gl) != 0 || key[gl] != '/') {
        return; /* another group's */
    }
    memcpy(digits, key + gl + 1, key_len - gl - 1u);
    digits[key_len - gl - 1u] = '\0';
    char *end;
    long n = strtol(digits, &end, 10);
    if (*end != '\0' || n < 0 || n >= MAX_SHARDS || !k->shards[n].owned) {
        return;
    }
    struct shard *sh = &k->shards[n];
    struct wd_rbuf r;
    int32_t in;
    int64_t off[WD_KT_INPUTS];
    wd_rbuf_init(&r, value, len);
    if (!record_head(&r, &in, off) || in != (int32_t)n) {
        fprintf(stderr, "warden: kafka: a record under %.*s is not a handover record of this "
                        "shard: skipped\n",
                (int)key_len, key);
        return;
    }
    /* The furthest wins (the later one at equal offsets): a late delivery
     * of an older record does not take a shard back in time. */
    for (int t = 0; sh->got != NULL && t < WD_KT_INPUTS; t++) {
        if (off[t] < sh->got_off[t]) {
            return;
        }
    }
    void *copy = malloc(len + 1u);
    if (copy == NULL) {
        k->failed = true;
        fprintf(stderr, "warden: kafka: ERROR out of memory reading the handover records\n");
        return;
    }
    memcpy(copy, value, len);
    free(sh->got);
    sh->got = copy;
    sh->got_len = len;
    memcpy(sh->got_off, off, sizeof off);
}

/* Takes shard n's record read back when it is at least as far as what
 * this warden has of the shard (local[t]: -1 none): its accounts replace
 * ours, the others of the shard are dropped, their trading states are set
 * and stored, and its offsets are where to read from. false (nothing
 * changed) when ours is further, or the record cannot be read. Under the
 * lock. */
static bool take_record(struct cli_kafka_run *k, int32_t n, const int64_t local[WD_KT_INPUTS])
{
    struct shard *sh = &k->shards[n];
    struct wd_rbuf r;
    struct wd_error err = {0};
    int64_t off[WD_KT_INPUTS];
    bool newer = true, further = false, ours = false;
    int32_t in;
    wd_rbuf_init(&r, sh->got, sh->got_len);
    (void)record_head(&r, &in, off); /* checked by got_record */
    for (int t = 0; t < WD_KT_INPUTS; t++) {
        newer = newer && off[t] >= local[t];
        further = further || off[t] > local[t];
        ours = ours || local[t] >= 0;
    }
    /* At equal offsets our checkpoint wins: the store has what a person
     * changed after the record (a halt, with no message since). */
    if (!newer || (ours && !further)) {
        fprintf(stderr, "warden: kafka: shard %" PRId32 ": this warden's checkpoint is at "
                        "least as far as the handover record: kept\n", n);
        return false;
    }
    uint32_t n_names = wd_r_u32(&r);
    size_t names_at = r.pos;
    for (uint32_t i = 0; i < n_names && !r.bad; i++) {
        size_t len;
        (void)wd_r_bytes(&r, WD_INTERN_NAME_MAX, &len);
    }
    uint32_t n_states = wd_r_u32(&r);
    size_t states_at = r.pos;
    struct wd_scope_state st;
    for (uint32_t i = 0; i < n_states && !r.bad; i++) {
        if (!r_state(&r, &st)) {
            r.bad = true;
        }
    }
    size_t loaded = 0;
    struct wd_engine *e = k->env.engine(k->env.ctx);
    if (r.bad || n_names > MAX_ACCOUNTS ||
        wd_engine_load_accounts(e, r.data + r.pos, r.len - r.pos, &loaded, &err) != WD_OK) {
        /* Starting the shard without its accounts would lose them (and
         * the next record would make it so): stop instead. */
        fprintf(stderr, "warden: kafka: ERROR the handover record of shard %" PRId32
                        " cannot be loaded (%s): stopping rather than start the shard "
                        "without its accounts\n",
                n, err.msg[0] ? err.msg : "malformed");
        k->failed = true;
        sh->owned = false; /* no record or commit of it at the stop */
        return false;
    }
    /* Ours of the shard leave, then the record's are the shard's. */
    for (uint32_t id = 0; id < k->n_acct_shard && id < wd_intern_count(&k->accts); id++) {
        if (k->acct_shard[id] == n) {
            k->acct_shard[id] = SHARD_LEAVING;
        }
    }
    r.pos = names_at;
    for (uint32_t i = 0; i < n_names; i++) {
        size_t len;
        const char *name = wd_r_bytes(&r, WD_INTERN_NAME_MAX, &len);
        note_account(k, name, len, n);
    }
    struct which leaving = {k, SHARD_LEAVING};
    drop_accounts(k, &leaving);
    r.pos = states_at;
    for (uint32_t i = 0; i < n_states && r_state(&r, &st); i++) {
        if (wd_engine_set_state(e, &st, &err) != WD_OK ||
            wd_store_put_state(k->env.store, &st, &err) != WD_OK) {
            fprintf(stderr, "warden: kafka: shard %" PRId32 ": state of %s: %s\n", n, st.scope,
                    err.msg);
        }
    }
    memcpy(sh->start, off, sizeof off);
    memcpy(sh->rec, off, sizeof off);
    sh->dirty = false;
    fprintf(stderr, "warden: kafka: shard %" PRId32 ": %zu accounts and %" PRIu32
                    " trading states handed over\n",
            n, loaded, n_states);
    return true;
}

/* The engine's state and every known position, in one store row; then
 * the offsets to the group. Outputs queued before are delivered first: a
 * position is never durable ahead of the outputs of its events. */
static bool checkpoint(struct cli_kafka_run *k, int64_t now_ns, bool force, bool sync)
{
    static struct wd_kafka_tp tps[MAX_TP];
    struct wd_error err = {0};
    struct wd_kafka_health h0, h1;
    struct wd_wbuf w;
    /* The shards' handover records, at most every HANDOVER_NS (and when
     * forced: a revocation, the stop), go out with the outputs. */
    bool hand = force || now_ns - k->last_handover_ns >= HANDOVER_NS;
    if ((k->since_checkpoint == 0 && !force && !(hand && k->unrecorded)) || k->closing) {
        return true;
    }
    wd_kafka_get_health(k->k, &h0);
    if (hand) {
        k->env.lock(k->env.ctx);
        (void)produce_records(k, false);
        k->env.unlock(k->env.ctx);
    }
    if (hand) {
        k->last_handover_ns = now_ns; /* tried: the next try a second later */
    }
    if (wd_kafka_flush(k->k, FLUSH_MS, &err) != WD_OK) {
        fprintf(stderr, "warden: kafka: checkpoint put off: %s\n", err.msg);
        k->last_checkpoint_ns = now_ns + RETRY_NS - CHECKPOINT_NS;
        return false;
    }
    wd_kafka_get_health(k->k, &h1);
    k->env.lock(k->env.ctx);
    wd_wbuf_init(&w);
    wd_w_u32(&w, SNAP_MAGIC2);
    wd_w_u32(&w, (uint32_t)k->n_pos);
    for (size_t i = 0; i < k->n_pos; i++) {
        wd_w_u8(&w, (uint8_t)k->pos[i].topic);
        wd_w_u32(&w, (uint32_t)k->pos[i].partition);
        wd_w_i64(&w, k->pos[i].next);
    }
    uint32_t n_acc = wd_intern_count(&k->accts) < k->n_acct_shard ? wd_intern_count(&k->accts)
                                                                   : k->n_acct_shard;
    wd_w_u32(&w, n_acc);
    for (uint32_t id = 0; id < n_acc; id++) {
        const char *name = wd_intern_name(&k->accts, id);
        wd_w_bytes(&w, name, strlen(name));
        wd_w_u32(&w, (uint32_t)k->acct_shard[id]);
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
    if (!hand) {
        return true;
    }
    /* A delivery failed meanwhile (it may be a record): the records are
     * made again next time, and nothing more is committed. */
    if (h1.produce_failed != h0.produce_failed) {
        fprintf(stderr, "warden: kafka: handover records not delivered: offsets not committed\n");
        return true;
    }
    records_durable(k);
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
        uint32_t magic = wd_r_u32(&r);
        uint32_t n = magic == SNAP_MAGIC || magic == SNAP_MAGIC2 ? wd_r_u32(&r) : UINT32_MAX;
        for (uint32_t i = 0; i < n && i < MAX_TP && !r.bad; i++) {
            k->restored[i].topic = (enum wd_kafka_topic)(wd_r_u8(&r) % WD_KT_INPUTS);
            k->restored[i].partition = (int32_t)wd_r_u32(&r);
            k->restored[i].next = wd_r_i64(&r);
            k->n_restored = i + 1;
        }
        /* WKO2: the accounts' shards (a WKO1 snapshot has none: its
         * accounts are not handed over until a message names them). */
        uint32_t n_acc = magic == SNAP_MAGIC2 && n <= MAX_TP ? wd_r_u32(&r) : 0;
        for (uint32_t i = 0; i < n_acc && i < MAX_ACCOUNTS && !r.bad; i++) {
            size_t len;
            const char *name = wd_r_bytes(&r, WD_INTERN_NAME_MAX, &len);
            int32_t shard = (int32_t)wd_r_u32(&r);
            if (!r.bad) {
                note_account(k, name, len, shard);
            }
        }
        if (n > MAX_TP || n_acc > MAX_ACCOUNTS || r.bad ||
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

/* The shards of a new assignment: their handover records read back;
 * each shard starts from its record when the record is at least as far as
 * this warden's own checkpoint of it (a restart of the same warden keeps
 * its fresher checkpoint), else from that checkpoint, else from the
 * group's offsets. At the first assignment, the accounts of the
 * checkpoint whose shards went to others are dropped. */
static void take_shards(struct cli_kafka_run *k, const struct wd_kafka_tp *tps, size_t n)
{
    struct wd_error err = {0};
    for (size_t i = 0; i < n; i++) {
        if (tps[i].partition >= 0 && tps[i].partition < MAX_SHARDS) {
            struct shard *sh = &k->shards[tps[i].partition];
            sh->owned = true;
            for (int t = 0; t < WD_KT_INPUTS; t++) {
                sh->start[t] = -1;
            }
        }
    }
    enum wd_status st = WD_EIO;
    int64_t t0 = cli_wall_ns();
    int attempt = 0;
    for (; attempt < 3 && st != WD_OK; attempt++) {
        if (attempt > 0) {
            fprintf(stderr, "warden: kafka: handover records: %s: trying again\n", err.msg);
        }
        st = wd_kafka_read_state(k->reader, STATE_READ_MS, got_record, k, &err);
    }
    char ts[40];
    wd_time_format_utc(cli_wall_ns(), ts, sizeof ts);
    fprintf(stderr, "%s INFO run kafka handover records read ms=%" PRId64 " tries=%d\n", ts,
            (cli_wall_ns() - t0) / 1000000, attempt);
    if (st != WD_OK) {
        /* Without the records the shards would start without the state
         * of accounts another warden had, and their next records would
         * make that loss permanent: stop (a supervisor restarts warden). */
        fprintf(stderr, "warden: kafka: ERROR the handover records cannot be read (%s): "
                        "stopping rather than start shards without their accounts\n",
                err.msg);
        k->failed = true;
        for (int32_t i = 0; i < MAX_SHARDS; i++) {
            k->shards[i].owned = false; /* no record or commit of them at the stop */
        }
        return;
    }
    k->env.lock(k->env.ctx);
    if (!k->assigned_once) {
        struct which others = {k, SHARD_NONE};
        drop_accounts(k, &others);
    }
    for (int32_t s = 0; s < MAX_SHARDS; s++) {
        struct shard *sh = &k->shards[s];
        int64_t local[WD_KT_INPUTS];
        if (!sh->owned) {
            continue;
        }
        for (int t = 0; t < WD_KT_INPUTS; t++) {
            const struct tp_pos *r =
                find_pos(k->restored, k->n_restored, (enum wd_kafka_topic)t, s);
            local[t] = r != NULL ? r->next : -1;
        }
        if (sh->got == NULL || !take_record(k, s, local)) {
            memcpy(sh->start, local, sizeof local); /* ours (or the group's: -1) */
            for (int t = 0; t < WD_KT_INPUTS; t++) {
                sh->rec[t] = -1; /* nothing is committed before a record is durable */
            }
            /* Recorded at the next handover, even with no new message. */
            sh->dirty = local[0] >= 0 || local[1] >= 0 || local[2] >= 0 || local[3] >= 0;
            k->unrecorded = k->unrecorded || sh->dirty;
        }
        free(sh->got);
        sh->got = NULL;
    }
    k->env.unlock(k->env.ctx);
    k->assigned_once = true;
    k->n_restored = 0; /* a later assignment: the state went with the records */
}

static void on_assigned(void *ctx, struct wd_kafka_tp *tps, size_t n)
{
    struct cli_kafka_run *k = ctx;
    take_shards(k, tps, n);
    for (size_t i = 0; i < n; i++) {
        int32_t part = tps[i].partition;
        struct tp_pos *p = find_pos(k->pos, k->n_pos, tps[i].topic, part);
        if (p == NULL && k->n_pos < MAX_TP) {
            p = &k->pos[k->n_pos++];
            *p = (struct tp_pos){.topic = tps[i].topic, .partition = part, .next = -1};
        }
        uint32_t src = source_of(tps[i].topic, part);
        if (p == NULL || part < 0 || part >= MAX_SHARDS || wd_merge_open(k->m, src) != WD_OK) {
            fprintf(stderr, "warden: kafka: ERROR %s/%" PRId32 ": warden reads partitions 0 to "
                            "%d of at most %u assigned partitions: stopping\n",
                    wd_kafka_topic_name(k->k, tps[i].topic), part, MAX_SHARDS - 1, MAX_TP);
            k->failed = true;
            continue;
        }
        k->pos_of[src] = (uint16_t)(p - k->pos + 1);
        p->assigned = true;
        k->paused -= p->paused ? 1u : 0u;
        p->paused = false;
        p->read = p->eof_at = -1;
        k->caught_up_said = false;
        p->next = k->shards[part].start[tps[i].topic];
        if (p->next >= 0) {
            tps[i].offset = p->next; /* a durable position wins over the group's */
            fprintf(stderr, "warden: kafka: assigned %s/%" PRId32 " from offset %" PRId64 "\n",
                    wd_kafka_topic_name(k->k, tps[i].topic), part, tps[i].offset);
        } else {
            fprintf(stderr, "warden: kafka: assigned %s/%" PRId32 " from the group's offset\n",
                    wd_kafka_topic_name(k->k, tps[i].topic), part);
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

static void on_revoked(void *ctx, const struct wd_kafka_tp *tps, size_t n)
{
    struct cli_kafka_run *k = ctx;
    /* Held messages of these partitions are dropped: their new owner reads
     * them again from the offsets of the handover records. */
    for (size_t i = 0; i < n; i++) {
        wd_merge_close(k->m, source_of(tps[i].topic, tps[i].partition), put_back, k);
    }
    /* The shards' records (and the offsets committed with them) hand
     * their accounts over; the checkpoint still has them, for a restart
     * of this warden if a record could not be delivered. Then they are
     * forgotten here. An assignment lost (this warden was thrown out of
     * the group: others may own the shards already) writes and commits
     * nothing. */
    if (wd_kafka_assignment_lost(k->k)) {
        fprintf(stderr, "warden: kafka: ERROR the assignment was lost (this warden left the "
                        "group unasked): its shards are not handed over from here\n");
    } else {
        (void)checkpoint(k, k->last_checkpoint_ns, true, true);
    }
    if (!k->closing) {
        k->env.lock(k->env.ctx);
        for (size_t i = 0; i < n; i++) {
            int32_t part = tps[i].partition;
            if (part >= 0 && part < MAX_SHARDS && k->shards[part].owned) {
                struct which q = {k, part};
                drop_accounts(k, &q);
                k->shards[part].owned = false;
            }
        }
        k->env.unlock(k->env.ctx);
    }
    for (size_t i = 0; i < n; i++) {
        struct tp_pos *p = find_pos(k->pos, k->n_pos, tps[i].topic, tps[i].partition);
        if (p != NULL) {
            k->paused -= p->paused ? 1u : 0u; /* its queue goes with the assignment */
            p->paused = false;
            p->assigned = false;
            p->next = -1; /* its state went with the record */
        }
        if (tps[i].partition >= 0 && tps[i].partition < MAX_SHARDS) {
            k->shards[tps[i].partition].owned = false;
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

/* After each read (issue 7 point 2 while a backlog is caught up):
 * - a partition is behind when its log end (as librdkafka last fetched
 *   it) is past what was read: the merge waits for it up to
 *   backlog_wait_ms, not max_wait_ms, so that a fill fetched early does
 *   not go before its intent still unread on another partition;
 * - a partition holding its share of the merge (the pool over the
 *   assigned partitions) is held (not read: wd_kafka_hold) until it holds
 *   half of that, so that the merge never fills up with the partitions
 *   librdkafka happens to fetch first, and the others are read.
 * (behind false: the holds only.) Returns how many partitions it read again: their queues may hold
 * messages already, which wake nobody (librdkafka signals a queue only
 * when something arrives in it empty), so the caller reads again now. */
static size_t flow(struct cli_kafka_run *k, bool behind)
{
    size_t assigned = 0, released = 0;
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
        bool hold = p->paused ? held > share / 2u : held >= share;
        if (hold != p->paused && wd_kafka_hold(k->k, p->topic, p->partition, hold)) {
            p->paused = hold;
            k->paused = hold ? k->paused + 1u : k->paused - 1u;
            released += hold ? 0u : 1u;
        }
        /* Every source, not only those holding nothing: one emptied by
         * the pops that follow must say whether more of it is unread. */
        bool at_end = p->eof_at >= 0 && p->read < p->eof_at;
        if (behind && p->read >= 0 && !at_end) {
            int64_t high = wd_kafka_high(k->k, p->topic, p->partition);
            wd_merge_behind(k->m, src, high > p->read + 1);
        }
    }
    return released;
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
    note_account(k, msg->key, msg->key_len, msg->partition);
    if (msg->partition >= 0 && msg->partition < MAX_SHARDS) {
        k->shards[msg->partition].dirty = true;
        k->unrecorded = true;
    }
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
    size_t n, released;
    do {
        n = wd_kafka_poll(k->k, batch, BATCH, 0);
        for (size_t i = 0; i < n; i++) {
            struct tp_pos *p = pos_of(k, batch[i].topic, batch[i].partition);
            if (k->failed || p == NULL || !p->assigned) {
                wd_kafka_release(&batch[i]); /* stopping, or no longer ours */
                continue;
            }
            int64_t ts = 0;
            bool has_ts = cli_kafka_event_ts(k->toks, batch[i].payload, batch[i].len, &ts);
            if (k->n_free == 0 && wd_merge_pop_any(k->m, &it)) {
                k->failed |= !process(k, it.handle); /* full: the earliest goes now */
            }
            if (batch[i].offset > p->read) {
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
        (void)flow(k, true);
        while (!k->failed && wd_merge_pop(k->m, now_ns, &it)) {
            k->failed |= !process(k, it.handle);
        }
        /* What was popped may let a paused partition be read again. */
        released = k->paused > 0 ? flow(k, false) : 0;
    } while ((n == BATCH || released > 0) && !k->failed);
    if (k->since_checkpoint >= CHECKPOINT_EVENTS ||
        (k->since_checkpoint > 0 && now_ns - k->last_checkpoint_ns >= CHECKPOINT_NS) ||
        (k->unrecorded && now_ns - k->last_handover_ns >= HANDOVER_NS)) {
        (void)checkpoint(k, now_ns, false, false);
    }
    return !k->failed;
}

int cli_kafka_run_timeout_ms(const struct cli_kafka_run *k, int64_t now_ns)
{
    int64_t d = wd_merge_deadline(k->m);
    if (k->since_checkpoint > 0 && k->last_checkpoint_ns + CHECKPOINT_NS < d) {
        d = k->last_checkpoint_ns + CHECKPOINT_NS;
    }
    if (k->unrecorded && k->last_handover_ns + HANDOVER_NS < d) {
        d = k->last_handover_ns + HANDOVER_NS; /* a handover is due then */
    }
    if (d == INT64_MAX) {
        return -1;
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
    /* A trading state changed without a message (a person's halt or
     * resume through the API, a tick): the owned shards' records are made
     * again (a state of an account the record would carry). */
    k->env.lock(k->env.ctx);
    uint64_t v = wd_engine_states_version(k->env.engine(k->env.ctx));
    k->env.unlock(k->env.ctx);
    if (v != k->states_seen) {
        k->states_seen = v;
        for (int32_t i = 0; i < MAX_SHARDS; i++) {
            k->shards[i].dirty = k->shards[i].dirty || k->shards[i].owned;
            k->unrecorded = k->unrecorded || k->shards[i].owned;
        }
    }
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
    snprintf(k->group, sizeof k->group, "%s", cfg->kafka.group);
    if (wd_intern_init(&k->accts, MAX_ACCOUNTS) != WD_OK) {
        cli_errorf("kafka: out of memory");
        goto fail;
    }
    k->accts_ok = true;
    for (int32_t i = 0; i < MAX_SHARDS; i++) {
        for (int t = 0; t < WD_KT_INPUTS; t++) {
            k->shards[i].rec[t] = k->shards[i].start[t] = -1;
        }
    }
    if ((rc = restore(k)) != CLI_OK) {
        goto fail;
    }
    struct wd_kafka_hooks hooks = {.assigned = on_assigned,
                                   .revoked = on_revoked,
                                   .caught_up = on_caught_up,
                                   .ctx = k};
    enum wd_status st = wd_kafka_new(cfg, false, false, NULL, &k->reader, &err);
    if (st == WD_OK) {
        st = wd_kafka_new(cfg, true, true, &hooks, &k->k, &err);
    }
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
    wd_kafka_free(k->reader, 0);
    for (int32_t i = 0; i < MAX_SHARDS; i++) {
        free(k->shards[i].got);
    }
    if (k->accts_ok) {
        wd_intern_destroy(&k->accts);
    }
    free(k->acct_shard);
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
