/*
 * Event-time merge of several sources (issue 7 point 2): the Kafka topics
 * (one source per topic partition) each consumed at its own pace are put
 * back into event-time order, so that an ack or a fill read before its
 * intent is not taken for an unauthorized trade, and a halt decided from a
 * fill applies to every intent stamped after it.
 *
 * Items are pushed per source in the order they were read and popped in
 * event-time order. The head with the earliest time is released when no
 * other source can still deliver something earlier: every other source has
 * an item queued, or is caught up (it said so: nothing more to read now),
 * or has already been read past that time. Otherwise it waits, but at most
 * max_wait after it arrived: a lagging source delays the others by a
 * bounded time, never indefinitely. A source known to have unread items
 * (behind: its log end is past what was read, or nothing has been heard
 * of it since it opened) is waited for longer, at most backlog_wait: while
 * a backlog is caught up, the sources are fetched unevenly, and max_wait
 * (tens of milliseconds, for a live topic a little late) would let an
 * ack or fill go before an intent still unread. Ties go to the lower
 * source number.
 *
 * Pure: the caller gives the time (now_ns) at each call; no clock, no I/O.
 * The item payload is the caller's (an opaque handle). Bounded: at most
 * max_items held (WD_EFULL past it) and WD_MERGE_MAX_SOURCES sources.
 */
#ifndef WD_CORE_MERGE_H
#define WD_CORE_MERGE_H

#include <stdbool.h>
#include <stdint.h>

#include "warden/status.h"

#define WD_MERGE_MAX_SOURCES 1024

struct wd_merge_item {
    uint64_t handle;    /* the caller's */
    int64_t ts_ns;      /* event time; for an item without one, its source's last time */
    int64_t arrived_ns; /* when it was pushed */
    uint32_t source;
};

struct wd_merge_stats {
    uint64_t released;       /* items popped */
    uint64_t released_late;  /* of which after waiting max_wait (or backlog_wait) for a
                                lagging source */
    uint64_t reordered;      /* of which popped before an item pushed earlier */
    uint64_t held;           /* items held now */
    uint64_t held_max;       /* the most held at once */
};

struct wd_merge;

/* A merge holding at most max_items (>= 1), waiting at most max_wait_ns
 * (>= 0; 0: arrival order across sources) for a lagging source and at
 * most backlog_wait_ns (>= 0) for one behind. From malloc; WD_EINVAL,
 * WD_ENOMEM. */
enum wd_status wd_merge_new(uint32_t max_items, int64_t max_wait_ns, int64_t backlog_wait_ns,
                            struct wd_merge **out) WD_MUST_USE;
void wd_merge_free(struct wd_merge *m); /* NULL: no-op */

/* Opens source (< WD_MERGE_MAX_SOURCES): from now on the merge waits for
 * it. Opening an open source changes nothing. WD_ERANGE. */
enum wd_status wd_merge_open(struct wd_merge *m, uint32_t source) WD_MUST_USE;

/* Closes source: its held items are handed to drop (in order; may be NULL)
 * and the merge no longer waits for it (a partition revoked). */
void wd_merge_close(struct wd_merge *m, uint32_t source, void (*drop)(void *ctx, uint64_t handle),
                    void *ctx);

/* Queues an item read from source (opened by this call if it was not).
 * has_ts false: an item without a time (a malformed line) keeps its place
 * within its source. WD_EFULL when max_items are held (pop first),
 * WD_ERANGE for a bad source. */
enum wd_status wd_merge_push(struct wd_merge *m, uint32_t source, bool has_ts, int64_t ts_ns,
                             int64_t now_ns, uint64_t handle) WD_MUST_USE;

/* The source has nothing more to read for now (end of its partition):
 * while it holds no item it does not hold the others back. A push clears
 * it. */
void wd_merge_caught_up(struct wd_merge *m, uint32_t source);

/* Whether the source is behind (the caller knows it has unread items: its
 * log end is past what was read). A source opened is behind until it
 * delivers an item or says it is caught up. A source holding items is
 * never waited for, behind or not. */
void wd_merge_behind(struct wd_merge *m, uint32_t source, bool behind);

/* Items held of one source (for flow control: the caller pauses a source
 * that holds too many, so that the others can be read). */
uint32_t wd_merge_held(const struct wd_merge *m, uint32_t source);

/* Pops the next item due at now_ns into *out; false when none is due. */
bool wd_merge_pop(struct wd_merge *m, int64_t now_ns, struct wd_merge_item *out);

/* Pops the earliest item whether due or not (shutting down, or full);
 * false when empty. */
bool wd_merge_pop_any(struct wd_merge *m, struct wd_merge_item *out);

/* When the next item becomes due at the latest (the earliest held item's
 * arrival + max_wait or backlog_wait, or its arrival when nothing holds it
 * back); INT64_MAX when nothing is held. */
int64_t wd_merge_deadline(const struct wd_merge *m);

void wd_merge_get_stats(const struct wd_merge *m, struct wd_merge_stats *out);

#endif /* WD_CORE_MERGE_H */
