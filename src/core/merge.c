/*
 * The event-time merge (include/warden/merge.h): one FIFO per source over a
 * fixed pool of items, and at each pop a scan of the source heads for the
 * earliest one and for whether another source could still deliver
 * something earlier. The scan is over the open sources only (a few per
 * topic), so it is cheap beside decoding an event. No allocation after
 * wd_merge_new.
 */
#include "warden/merge.h"

#include <stdlib.h>

#define NIL UINT32_MAX

struct slot {
    struct wd_merge_item it;
    uint64_t seq;  /* push order */
    uint32_t next; /* in its source's FIFO, or the free list */
};

struct source {
    bool open;
    bool seen;      /* something was pushed since it opened */
    bool caught_up; /* nothing more to read for now */
    bool behind;    /* known to have unread items */
    int64_t last_ts; /* the latest time pushed (the source's watermark) */
    uint32_t head, tail, n;
};

struct wd_merge {
    struct slot *pool;
    uint32_t cap, free_head;
    int64_t max_wait_ns, backlog_wait_ns;
    uint64_t seq;
    struct source src[WD_MERGE_MAX_SOURCES];
    uint32_t n_src; /* sources[0, n_src) may be open */
    struct wd_merge_stats stats;
};

enum wd_status wd_merge_new(uint32_t max_items, int64_t max_wait_ns, int64_t backlog_wait_ns,
                            struct wd_merge **out)
{
    *out = NULL;
    if (max_items == 0 || max_wait_ns < 0 || backlog_wait_ns < 0) {
        return WD_EINVAL;
    }
    struct wd_merge *m = calloc(1, sizeof *m);
    if (m == NULL || (m->pool = calloc(max_items, sizeof *m->pool)) == NULL) {
        free(m);
        return WD_ENOMEM;
    }
    m->cap = max_items;
    m->max_wait_ns = max_wait_ns;
    m->backlog_wait_ns = backlog_wait_ns;
    for (uint32_t i = 0; i < max_items; i++) {
        m->pool[i].next = i + 1 < max_items ? i + 1 : NIL;
    }
    m->free_head = 0;
    for (uint32_t i = 0; i < WD_MERGE_MAX_SOURCES; i++) {
        m->src[i].head = m->src[i].tail = NIL;
    }
    *out = m;
    return WD_OK;
}

void wd_merge_free(struct wd_merge *m)
{
    if (m != NULL) {
        free(m->pool);
        free(m);
    }
}

enum wd_status wd_merge_open(struct wd_merge *m, uint32_t source)
{
    if (source >= WD_MERGE_MAX_SOURCES) {
        return WD_ERANGE;
    }
    struct source *s = &m->src[source];
    if (!s->open) {
        *s = (struct source){.open = true, .behind = true, .head = NIL, .tail = NIL};
        if (source >= m->n_src) {
            m->n_src = source + 1;
        }
    }
    return WD_OK;
}

static void unlink_head(struct wd_merge *m, struct source *s)
{
    uint32_t i = s->head;
    s->head = m->pool[i].next;
    if (s->head == NIL) {
        s->tail = NIL;
    }
    s->n--;
    m->pool[i].next = m->free_head;
    m->free_head = i;
    m->stats.held--;
}

void wd_merge_close(struct wd_merge *m, uint32_t source, void (*drop)(void *ctx, uint64_t handle),
                    void *ctx)
{
    if (source >= WD_MERGE_MAX_SOURCES || !m->src[source].open) {
        return;
    }
    struct source *s = &m->src[source];
    while (s->head != NIL) {
        uint64_t h = m->pool[s->head].it.handle;
        unlink_head(m, s);
        if (drop != NULL) {
            drop(ctx, h);
        }
    }
    *s = (struct source){.head = NIL, .tail = NIL};
}

enum wd_status wd_merge_push(struct wd_merge *m, uint32_t source, bool has_ts, int64_t ts_ns,
                             int64_t now_ns, uint64_t handle)
{
    if (wd_merge_open(m, source) != WD_OK) {
        return WD_ERANGE;
    }
    if (m->free_head == NIL) {
        return WD_EFULL;
    }
    struct source *s = &m->src[source];
    if (has_ts) {
        if (!s->seen || ts_ns > s->last_ts) {
            s->last_ts = ts_ns;
        }
        s->seen = true;
    } else {
        ts_ns = s->seen ? s->last_ts : INT64_MIN;
    }
    /* Within a source the order read is kept: an item earlier than the one
     * before it takes that one's time for the ordering. */
    if (s->tail != NIL && ts_ns < m->pool[s->tail].it.ts_ns) {
        ts_ns = m->pool[s->tail].it.ts_ns;
    }
    s->caught_up = false;
    s->behind = false; /* heard of: the caller says again if it is still behind */
    uint32_t i = m->free_head;
    m->free_head = m->pool[i].next;
    m->pool[i] = (struct slot){
        .it = {.handle = handle, .ts_ns = ts_ns, .arrived_ns = now_ns, .source = source},
        .seq = m->seq++,
        .next = NIL};
    if (s->tail == NIL) {
        s->head = i;
    } else {
        m->pool[s->tail].next = i;
    }
    s->tail = i;
    s->n++;
    if (++m->stats.held > m->stats.held_max) {
        m->stats.held_max = m->stats.held;
    }
    return WD_OK;
}

void wd_merge_caught_up(struct wd_merge *m, uint32_t source)
{
    if (source < WD_MERGE_MAX_SOURCES && m->src[source].open) {
        m->src[source].caught_up = true;
        m->src[source].behind = false;
    }
}

void wd_merge_behind(struct wd_merge *m, uint32_t source, bool behind)
{
    if (source < WD_MERGE_MAX_SOURCES && m->src[source].open) {
        m->src[source].behind = behind;
        if (behind) {
            m->src[source].caught_up = false;
        }
    }
}

uint32_t wd_merge_held(const struct wd_merge *m, uint32_t source)
{
    return source < WD_MERGE_MAX_SOURCES && m->src[source].open ? m->src[source].n : 0;
}

/* The source whose head is earliest (ties: the lower source), NIL if none. */
static uint32_t earliest(const struct wd_merge *m)
{
    uint32_t best = NIL;
    for (uint32_t k = 0; k < m->n_src; k++) {
        const struct source *s = &m->src[k];
        if (s->open && s->head != NIL &&
            (best == NIL || m->pool[s->head].it.ts_ns < m->pool[m->src[best].head].it.ts_ns)) {
            best = k;
        }
    }
    return best;
}

/* How long an item read at arrived_ns with time ts may wait for another
 * source that could still deliver something earlier: 0 when none could,
 * else max_wait, or backlog_wait when one of them is behind. */
static int64_t wait_for(const struct wd_merge *m, uint32_t except, int64_t ts, bool *lags)
{
    int64_t w = 0;
    *lags = false;
    for (uint32_t k = 0; k < m->n_src; k++) {
        const struct source *s = &m->src[k];
        if (k != except && s->open && s->head == NIL && !s->caught_up &&
            (!s->seen || s->last_ts < ts)) {
            int64_t b = s->behind ? m->backlog_wait_ns : m->max_wait_ns;
            w = b > w ? b : w;
            *lags = true;
        }
    }
    return w;
}

static void take(struct wd_merge *m, uint32_t k, bool late, struct wd_merge_item *out)
{
    struct source *s = &m->src[k];
    const struct slot *sl = &m->pool[s->head];
    *out = sl->it;
    bool reordered = false;
    for (uint32_t j = 0; j < m->n_src && !reordered; j++) {
        reordered = j != k && m->src[j].head != NIL && m->pool[m->src[j].head].seq < sl->seq;
    }
    unlink_head(m, s);
    m->stats.released++;
    m->stats.released_late += late;
    m->stats.reordered += reordered;
}

/* The source whose head goes next (NIL: none held), when it is due (its
 * arrival plus the wait for a source that could still deliver something
 * earlier, saturated) and whether one could. Only the earliest head can go
 * next: another head's deadline passing releases nothing. */
static uint32_t next_head(const struct wd_merge *m, int64_t *due, bool *lags)
{
    uint32_t k = earliest(m);
    if (k != NIL) {
        const struct wd_merge_item *h = &m->pool[m->src[k].head].it;
        int64_t w = wait_for(m, k, h->ts_ns, lags);
        *due = h->arrived_ns > INT64_MAX - w ? INT64_MAX : h->arrived_ns + w;
    }
    return k;
}

bool wd_merge_pop(struct wd_merge *m, int64_t now_ns, struct wd_merge_item *out)
{
    int64_t due;
    bool lags;
    uint32_t k = next_head(m, &due, &lags);
    if (k == NIL || (lags && now_ns < due)) {
        return false;
    }
    take(m, k, lags, out);
    return true;
}

bool wd_merge_pop_any(struct wd_merge *m, struct wd_merge_item *out)
{
    uint32_t k = earliest(m);
    if (k == NIL) {
        return false;
    }
    take(m, k, false, out);
    return true;
}

int64_t wd_merge_deadline(const struct wd_merge *m)
{
    int64_t due;
    bool lags;
    return next_head(m, &due, &lags) == NIL ? INT64_MAX : due;
}

void wd_merge_get_stats(const struct wd_merge *m, struct wd_merge_stats *out)
{
    *out = m->stats;
}
