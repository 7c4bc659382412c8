/*
 * The engine's outputs, shared by `warden replay` and `warden run`: JSON
 * lines on the output FILE, log lines on stderr, trading states, incident
 * records and timelines into the store before the next event is read (a
 * halt survives a crash). No engine or input handling here.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "bus/jsonl.h"
#include "cli/outputs.h"
#include "warden/decode.h"
#include "store/store.h"
#include "svc/incidents.h"
#include "warden/incident.h"
#include "warden/timeutil.h"

static const char *const level_names[] = {"DEBUG", "INFO", "WARN", "ERROR", "CRIT"};

static void head(struct cli_outputs *op, const char *type, const struct wd_output *o)
{
    jw_obj_begin(&op->w);
    jw_key(&op->w, "type");
    jw_str(&op->w, type);
    jw_key(&op->w, "event_no");
    jw_int(&op->w, (int64_t)o->event_no);
    jw_key(&op->w, "ts");
    jw_int(&op->w, o->ts_ns);
    if (op->offset >= 0) {
        jw_key(&op->w, "partition");
        jw_int(&op->w, op->partition);
        jw_key(&op->w, "offset");
        jw_int(&op->w, op->offset);
    }
    op->type = type;
}

static void kv(struct cli_outputs *op, const char *k, const char *v)
{
    jw_key(&op->w, k);
    jw_str(&op->w, v);
}

static void end(struct cli_outputs *op)
{
    jw_obj_end(&op->w);
    fputc('\n', op->out);
    jw_init(&op->w, op->out); /* each line is its own document */
    if (op->sink != NULL) {
        op->sink(op->sink_ctx, op->type);
    }
}

/* States and incidents are written as this input's, at the event that
 * caused them: a resume can take back what a killed run wrote past its
 * snapshot (wd_store_rewind). */
static void persist_state(struct cli_outputs *op, const struct wd_scope_state *st, uint64_t event_no)
{
    if (wd_store_put_state_from(op->store, st, op->key, event_no, &op->err) != WD_OK) {
        op->failed = 1;
    }
    op->states++;
}

/* The day's PnL of an incident's scope now ("firm" or "account:NAME"), for
 * the record's impact; 0 when the scope has no figures. */
static wd_fix scope_pnl(struct cli_outputs *op, const char *scope)
{
    const struct wd_book *b = wd_engine_book(op->engine);
    const struct wd_figures *f = NULL;
    uint32_t id;
    if (strcmp(scope, "firm") == 0) {
        f = wd_book_firm(b);
    } else if (strncmp(scope, "account:", 8) == 0 &&
               wd_intern_find(wd_engine_accounts(op->engine), scope + 8, strlen(scope + 8),
                              &id) == WD_OK) {
        f = wd_book_account(b, id);
    }
    return f != NULL ? (wd_fix)((wd_i128)f->equity - f->day_open) : 0;
}

/* Saves one change of the record with its timeline entry, in one
 * transaction. An opening first writes the incident's row as this input's
 * at this event (what a resume's rewind takes back). */
static void record_change(struct cli_outputs *op, const struct wd_incident *inc,
                          const struct wd_timeline_entry *e, uint64_t event_no, bool opening)
{
    struct wd_incident_row row;
    memset(&row, 0, sizeof row);
    if (opening) {
        snprintf(row.id, sizeof row.id, "%s", inc->id);
        snprintf(row.scenario, sizeof row.scenario, "%s", wd_scenario_name(inc->scenario));
        snprintf(row.severity, sizeof row.severity, "%s", wd_severity_name(inc->severity));
        snprintf(row.scope, sizeof row.scope, "%s", inc->scope);
        snprintf(row.status, sizeof row.status, "%s", wd_inc_status_name(inc->status));
        snprintf(row.title, sizeof row.title, "%s", inc->title);
        snprintf(row.detail, sizeof row.detail, "%s", inc->detail);
        row.opened_ns = inc->opened_ns;
    }
    if (wd_store_begin(op->store, &op->err) != WD_OK ||
        (opening &&
         wd_store_put_incident(op->store, &row, op->key, event_no, &op->err) != WD_OK) ||
        wd_store_incident_save(op->store, inc, "warden", &op->err) != WD_OK ||
        wd_store_timeline_append(op->store, e, &op->err) != WD_OK ||
        wd_store_commit(op->store, &op->err) != WD_OK) {
        wd_store_rollback(op->store);
        op->failed = 1;
        return;
    }
    cli_write_incident_log(op->store, op->tz, inc, op->logs, inc->updated_ns);
}

/* An incident output becomes the incident record (issue 5): an opening
 * opens the record; the same incident announced again (the engine asks the
 * store for the active one of its scenario and scope) is a finding on its
 * timeline, raising its severity, and back to investigating if it was
 * being monitored; a detector's recovery moves an acknowledged one to
 * monitoring (an unacknowledged one only notes it). What the
 * lifecycle refuses (a person closed it meanwhile, a replay of events
 * older than its last change) is reported and leaves the record as is. */
static void persist_incident(struct cli_outputs *op, const struct wd_output *o)
{
    struct wd_incident inc;
    struct wd_timeline_entry e;
    struct wd_error why = {0};
    bool found = false;
    enum wd_scenario sc;
    enum wd_severity sev;
    const char *id = o->u.incident.id;
    bool recovery = strcmp(o->u.incident.status, "monitoring") == 0;
    if (wd_scenario_parse(o->u.incident.scenario, &sc) != WD_OK ||
        wd_severity_parse(o->u.incident.severity, &sev) != WD_OK) {
        return; /* the engine only says what it knows */
    }
    if (wd_store_incident_load(op->store, id, &inc, &found, &op->err) != WD_OK) {
        op->failed = 1;
        return;
    }
    if (!found) {
        struct wd_incident_opening req = {.id = id,
                                          .scenario = sc,
                                          .scope = o->u.incident.scope,
                                          .severity = sev,
                                          .title = o->u.incident.title,
                                          .detail = o->u.incident.detail,
                                          .who = "warden",
                                          .trading_halted = sc == WD_SC_KILL_PNL ||
                                                            sc == WD_SC_KILL_DRAWDOWN ||
                                                            sc == WD_SC_KILL_PSR ||
                                                            sc == WD_SC_UNAUTHORIZED,
                                          .pnl_open = scope_pnl(op, o->u.incident.scope)};
        if (wd_incident_open(&inc, &req, o->ts_ns, &e, &why) != WD_OK) {
            goto refused;
        }
        record_change(op, &inc, &e, o->event_no, true);
        return;
    }
    if (!wd_inc_status_active(inc.status)) {
        fprintf(stderr, "warden: incident %s is %s: finding not recorded: %s\n", id,
                wd_inc_status_name(inc.status), o->u.incident.detail);
        return;
    }
    if (sev < inc.severity) {
        if (wd_incident_raise(&inc, sev, "warden", o->ts_ns, &e, &why) != WD_OK) {
            goto refused;
        }
        record_change(op, &inc, &e, o->event_no, false);
    }
    if (recovery && inc.status == WD_INC_OPEN) {
        /* Nobody has acknowledged it: a machine's recovery does not (the
         * response SLA keeps running); it goes on the timeline. */
        if (wd_incident_note(&inc, WD_TL_FINDING, o->u.incident.detail, "warden", o->ts_ns, &e,
                             &why) != WD_OK) {
            goto refused;
        }
        record_change(op, &inc, &e, o->event_no, false);
        return;
    }
    if (recovery) {
        if (inc.status != WD_INC_MONITORING) {
            if (wd_incident_transition(&inc, WD_INC_MONITORING, "warden", o->ts_ns, &e, &why) !=
                WD_OK) {
                goto refused;
            }
            record_change(op, &inc, &e, o->event_no, false);
        }
        return;
    }
    if (inc.status == WD_INC_MONITORING) {
        if (wd_incident_transition(&inc, WD_INC_INVESTIGATING, "warden", o->ts_ns, &e, &why) !=
            WD_OK) {
            goto refused;
        }
        record_change(op, &inc, &e, o->event_no, false);
    }
    if (wd_incident_note(&inc, WD_TL_FINDING, o->u.incident.detail, "warden", o->ts_ns, &e,
                         &why) != WD_OK) {
        goto refused;
    }
    record_change(op, &inc, &e, o->event_no, false);
    return;
refused:
    fprintf(stderr, "warden: incident %s: %s\n", id, why.msg);
}

/* A control action on its incident's timeline (issue 5: every control
 * action is on it). Returns false when the record does not exist yet. */
static bool control_on_timeline(struct cli_outputs *op, const char *id, const char *text,
                                uint64_t event_no, int64_t ts_ns)
{
    struct wd_incident inc;
    struct wd_timeline_entry e;
    struct wd_error why = {0};
    bool found = false;
    if (wd_store_incident_load(op->store, id, &inc, &found, &op->err) != WD_OK) {
        op->failed = 1;
        return true;
    }
    if (!found) {
        return false;
    }
    if (wd_incident_note(&inc, WD_TL_CONTROL, text, "warden", ts_ns, &e, &why) != WD_OK) {
        fprintf(stderr, "warden: incident %s: %s\n", id, why.msg);
        return true;
    }
    record_change(op, &inc, &e, event_no, false);
    return true;
}

static void control_output(struct cli_outputs *op, const struct wd_output *o)
{
    char text[WD_TIMELINE_TEXT_MAX];
    if (o->u.control.incident[0] == '\0') {
        return;
    }
    snprintf(text, sizeof text, "%s %s: %s", o->u.control.action, o->u.control.scope,
             o->u.control.reason);
    if (!control_on_timeline(op, o->u.control.incident, text, o->event_no, o->ts_ns) &&
        op->n_pending < sizeof op->pending / sizeof op->pending[0]) {
        struct cli_pending_control *p = &op->pending[op->n_pending++];
        snprintf(p->incident, sizeof p->incident, "%s", o->u.control.incident);
        snprintf(p->text, sizeof p->text, "%s", text);
        p->event_no = o->event_no;
        p->ts_ns = o->ts_ns;
    }
}

/* After incident id is recorded: the control actions that came before it. */
static void flush_controls(struct cli_outputs *op, const char *id)
{
    size_t k = 0;
    for (size_t i = 0; i < op->n_pending; i++) {
        struct cli_pending_control *p = &op->pending[i];
        if (strcmp(p->incident, id) == 0) {
            (void)control_on_timeline(op, id, p->text, p->event_no, p->ts_ns);
        } else {
            op->pending[k++] = *p;
        }
    }
    op->n_pending = k;
}

/* The store's active incident of (scenario, scope), for the engine. */
static bool active_incident(void *ctx, const char *scenario, const char *scope,
                            char id_out[WD_INCIDENT_ID_MAX])
{
    struct cli_outputs *op = ctx;
    enum wd_scenario sc;
    bool found = false;
    if (wd_scenario_parse(scenario, &sc) != WD_OK) {
        return false;
    }
    if (wd_store_incident_find_active(op->store, sc, scope, id_out, &found, &op->err) != WD_OK) {
        op->failed = 1;
        return false;
    }
    return found;
}

void cli_outputs_emit(void *ctx, const struct wd_output *o)
{
    struct cli_outputs *op = ctx;
    switch (o->type) {
    case WD_OUT_DECISION:
        head(op, "decision", o);
        jw_key(&op->w, "id");
        jw_str_raw(&op->w, o->u.decision.id.ptr, o->u.decision.id.len);
        kv(op, "verdict", o->u.decision.accept ? "accept" : "reject");
        kv(op, "reason", o->u.decision.reason);
        if (!o->u.decision.accept) {
            kv(op, "detail", o->u.decision.detail);
        }
        end(op);
        if (o->u.decision.accept) {
            op->accepted++;
        } else {
            op->rejected++;
        }
        break;
    case WD_OUT_CONTROL:
        head(op, "control", o);
        kv(op, "action", o->u.control.action);
        kv(op, "scope", o->u.control.scope);
        kv(op, "reason", o->u.control.reason);
        kv(op, "incident", o->u.control.incident);
        end(op);
        op->controls++;
        control_output(op, o);
        break;
    case WD_OUT_INCIDENT:
        /* Recorded before it is announced. */
        persist_incident(op, o);
        flush_controls(op, o->u.incident.id);
        head(op, "incident", o);
        kv(op, "id", o->u.incident.id);
        kv(op, "severity", o->u.incident.severity);
        kv(op, "scenario", o->u.incident.scenario);
        kv(op, "status", o->u.incident.status);
        kv(op, "title", o->u.incident.title);
        kv(op, "detail", o->u.incident.detail);
        kv(op, "scope", o->u.incident.scope);
        end(op);
        op->incidents++;
        break;
    case WD_OUT_ALERT:
        head(op, "alert", o);
        kv(op, "scenario", o->u.alert.scenario);
        kv(op, "severity", o->u.alert.severity);
        kv(op, "detail", o->u.alert.detail);
        kv(op, "scope", o->u.alert.scope);
        end(op);
        op->alerts++;
        break;
    case WD_OUT_STATE:
        persist_state(op, o->u.state.state, o->event_no);
        break;
    case WD_OUT_LOG: {
        char ts[40];
        wd_time_format_utc(o->ts_ns, ts, sizeof ts);
        fprintf(stderr, "%s %s %s %s event_no=%" PRIu64 "\n", ts,
                level_names[o->u.log.level], o->u.log.component, o->u.log.message,
                o->event_no);
        break;
    }
    }
}

static uint32_t incident_seq(void *ctx, int64_t day)
{
    struct cli_outputs *op = ctx;
    uint32_t seq = 0;
    if (wd_svc_incident_seq(op->store, day, &seq, &op->err) != WD_OK) {
        op->failed = 1;
    }
    return seq;
}

void cli_outputs_init(struct cli_outputs *o, FILE *out, struct wd_store *store,
                      const struct wd_tz *tz, const char *key, const char *logs)
{
    memset(o, 0, sizeof *o);
    o->out = out;
    o->store = store;
    o->tz = tz;
    o->key = key;
    o->logs = logs;
    o->offset = -1;
    jw_init(&o->w, out);
}

void cli_outputs_wire(struct cli_outputs *o, struct wd_engine_opts *eo)
{
    eo->emit = cli_outputs_emit;
    eo->emit_ctx = o;
    eo->incident_seq = incident_seq;
    eo->incident_seq_ctx = o;
    eo->incident_active = active_incident;
    eo->incident_active_ctx = o;
}

void cli_outputs_event_begin(struct cli_outputs *o)
{
    o->n_pending = 0;
}

enum wd_status cli_outputs_line(struct cli_outputs *o, struct wd_decoder *dec, const char *name,
                                const struct wd_line *line, uint64_t *events, uint64_t *malformed,
                                int64_t *last_ts, enum cli_line_result *what,
                                struct wd_error *err)
{
    struct wd_event ev;
    *what = CLI_LINE_MALFORMED;
    if (line->overlong) {
        (*malformed)++;
        fprintf(stderr, "warden: %s:%" PRIu64 ": malformed event skipped: line too long (%zu bytes, max %d)\n",
                name, line->no, line->len, WD_DECODE_MAX_LINE);
        wd_engine_report_malformed(o->engine, line->no, "line too long");
        return WD_OK;
    }
    size_t k = 0;
    while (k < line->len && (line->ptr[k] == ' ' || line->ptr[k] == '\t' || line->ptr[k] == '\r')) {
        k++;
    }
    if (k == line->len) {
        *what = CLI_LINE_BLANK;
        return WD_OK;
    }
    enum wd_status st = wd_decode_line(dec, line->ptr, line->len, &ev, err);
    if (st == WD_ENOMEM) {
        return st;
    }
    if (st != WD_OK) {
        (*malformed)++;
        if (*malformed <= CLI_MAX_MALFORMED_SHOWN) {
            fprintf(stderr, "warden: %s:%" PRIu64 ":%u: malformed event skipped: %s\n", name,
                    line->no, err->column, err->msg);
        }
        wd_engine_report_malformed(o->engine, line->no, err->msg);
        return WD_OK;
    }
    *what = CLI_LINE_EVENT;
    (*events)++;
    *last_ts = ev.ts_ns;
    if (o->on_event != NULL) {
        o->on_event(o->on_event_ctx, &ev);
    }
    cli_outputs_event_begin(o);
    st = wd_engine_process(o->engine, &ev, *events, err);
    if (st != WD_OK) {
        return st;
    }
    if (o->failed) {
        *err = o->err;
        return WD_EIO;
    }
    return WD_OK;
}
