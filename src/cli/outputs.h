/*
 * The engine's outputs as `warden replay` and `warden run` both give them:
 * one JSON line per decision, control, incident and alert on a FILE (SPEC
 * section 3), log lines on stderr, and what must be durable written to the
 * store before the next event: trading states, incident records and their
 * timelines (control actions included). Shared so that the daemon and the
 * offline replay cannot drift apart.
 */
#ifndef WD_CLI_OUTPUTS_H
#define WD_CLI_OUTPUTS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cli/jsonout.h"
#include "warden/engine.h"
#include "warden/incident.h"
#include "warden/status.h"
#include "warden/tz.h"

struct wd_store;

struct cli_outputs {
    FILE *out;                /* the JSON lines; borrowed */
    struct wd_store *store;   /* borrowed */
    const struct wd_tz *tz;   /* borrowed: incident logs */
    struct wd_engine *engine; /* borrowed; set once the engine exists */
    const char *key;          /* the input's key for states and incidents ("" none); borrowed */
    const char *logs;         /* where incident logs go (see cli_logs_dir); borrowed */
    struct jw w;
    uint64_t accepted, rejected, controls, incidents, states, alerts;
    int failed;               /* a store write failed: the caller stops */
    struct wd_error err;      /* what failed */
    /* Control actions of this event whose incident is announced after them
     * (a kill: halt, cancel_all, then the incident), for its timeline. */
    struct cli_pending_control {
        char incident[WD_INCIDENT_ID_MAX];
        char text[WD_TIMELINE_TEXT_MAX];
        uint64_t event_no;
        int64_t ts_ns;
    } pending[8];
    size_t n_pending;
    /* Optional: every decoded event, before the engine processes it (the
     * daemon's metrics: latency, market data times). */
    void (*on_event)(void *ctx, const struct wd_event *ev);
    void *on_event_ctx;
    /* Optional (Kafka): the input event's position, added to each line as
     * `partition` and `offset` when offset >= 0; and a sink called after
     * each line is written to out, with its type ("decision", ...). */
    int32_t partition;
    int64_t offset;
    const char *type; /* of the line being written */
    void (*sink)(void *ctx, const char *type);
    void *sink_ctx;
};

/* Sets o up to write to out and persist into store. key and logs must
 * outlive o (key may be filled in later: it is read at each write). */
void cli_outputs_init(struct cli_outputs *o, FILE *out, struct wd_store *store,
                      const struct wd_tz *tz, const char *key, const char *logs);

/* Points the engine options' emit, incident_seq and incident_active
 * callbacks at o. */
void cli_outputs_wire(struct cli_outputs *o, struct wd_engine_opts *eo);

/* Before each event (or tick): controls wait for their incident only
 * within one event. */
void cli_outputs_event_begin(struct cli_outputs *o);

/* The emit callback (ctx: struct cli_outputs). */
void cli_outputs_emit(void *ctx, const struct wd_output *out);

struct wd_line;
struct wd_decoder;

/* What cli_outputs_line did with a line. */
enum cli_line_result { CLI_LINE_BLANK, CLI_LINE_MALFORMED, CLI_LINE_EVENT };

/* One input line (from input `name`, for messages) through the decoder and
 * the engine, as replay and run both read them: a blank line is skipped; a
 * malformed or overlong one is counted in *malformed, said on stderr (the
 * first CLI_MAX_MALFORMED_SHOWN) and reported to the engine; an event is
 * numbered ++*events, its time put in *last_ts, and processed. WD_OK, or
 * the engine's failure (WD_ENOMEM, WD_EFULL), or WD_EIO when a store write
 * failed; err says which. */
enum wd_status cli_outputs_line(struct cli_outputs *o, struct wd_decoder *dec, const char *name,
                                const struct wd_line *line, uint64_t *events, uint64_t *malformed,
                                int64_t *last_ts, enum cli_line_result *what,
                                struct wd_error *err);

#endif /* WD_CLI_OUTPUTS_H */
