/*
 * Shared pieces of the warden CLI: option parsing helpers, and the offline
 * session that streams an event file through the decoder and the book
 * (reporting malformed lines on stderr), used by positions / pnl / drawdown.
 */
#ifndef WD_CLI_CLI_H
#define WD_CLI_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "bus/jsonl.h"
#include "warden/book.h"
#include "warden/config.h"
#include "warden/decode.h"
#include "warden/engine.h"
#include "warden/incident.h"
#include "warden/intern.h"
#include "warden/render.h"
#include "warden/tz.h"

/* Exit codes: 0 ok, 1 a runtime failure (unreadable input, ...), 2 usage. */
enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2 };

#define CLI_MAX_SYMBOLS 1000000u
#define CLI_MAX_ACCOUNTS 100000u
#define CLI_MAX_MALFORMED_SHOWN 100u

/* Called with every decoded event (event_no: its 1-based ordinal among the
 * valid events); the event is valid during the call. */
typedef void (*cli_event_fn)(void *ctx, const struct wd_event *ev, uint64_t event_no);

struct cli_session {
    struct wd_config cfg;
    struct wd_tz *tz;
    struct wd_intern symbols, accounts;
    struct wd_decoder *dec;
    struct wd_book *book;
    const char *source_name;
    int64_t cutoff_ns;   /* events at or after this are ignored (INT64_MAX: none) */
    uint64_t events;     /* valid events applied */
    uint64_t malformed;  /* lines skipped */
    uint64_t ignored;    /* events after the cutoff */
    bool progress;       /* draw a progress bar on stderr */
    uint64_t progress_total;
    int progress_last;
    cli_event_fn on_event; /* optional: each event the book applied; set after open */
    void *event_ctx;
};

/* Initialises cfg with the defaults and overlays the YAML file at path
 * (NULL: defaults only). Prints every problem; CLI_USAGE if invalid. */
int cli_config_load(struct wd_config *cfg, const char *path);

/* Loads the session time zone of cfg. */
int cli_tz_load(const struct wd_config *cfg, struct wd_tz **tz);

/* Loads the configuration (path may be NULL: defaults), the session time
 * zone, and creates the name tables, decoder and book. Prints the problem
 * on stderr and returns CLI_FAIL / CLI_USAGE on error. */
int cli_session_open(struct cli_session *s, const char *config_path);

/* Streams events from path ("-": stdin) through the book. */
int cli_session_run(struct cli_session *s, const char *path);

void cli_session_close(struct cli_session *s);

/* Ensures the account that unqualified events go to exists, so that a
 * session with no account-bearing event still reports its capital. */
void cli_session_ensure_default_account(struct cli_session *s);

struct wd_store;

/* Opens the store at db, or cfg->store.path when db is NULL. */
/* A whole decimal number 0 .. UINT32_MAX, nothing before or after. */
bool cli_parse_u32(const char *s, uint32_t *out);

int cli_open_store(const struct wd_config *cfg, const char *db, struct wd_store **out);

struct wd_engine;

/* Records in the audit trail every limit (limits.*) whose value differs
 * from the one last recorded, as changed by who (SPEC section 8: every
 * limit change is written to the audit trail). Source keys never are. */
int cli_record_limits(struct wd_store *store, const struct wd_config *cfg, const char *who);

/* Sets every trading state recorded in the store on the engine. */
int cli_load_states(struct wd_store *store, struct wd_engine *engine);

/* ---- offline engine replay ----------------------------------------------- */

/* An event file replayed through the engine (book, gate, detectors), the
 * trading states read from the store and nothing written back: what
 * audit, flatten, exposure, rejects and latency work on. Malformed lines
 * are counted and reported to the engine as data-quality findings. */
struct cli_replay {
    struct wd_config cfg;
    struct wd_tz *tz;
    struct wd_store *store;
    struct wd_engine *engine;
    struct wd_decoder *dec;
    const char *path;      /* events to read ("-": stdin); set before run */
    uint64_t events;       /* valid events processed */
    uint64_t malformed;    /* lines skipped */
    int64_t last_ts;       /* ts of the last event processed */
    cli_event_fn on_event; /* optional: each event, before the engine */
    void *event_ctx;
};

/* Configuration (path NULL: defaults), zone, store (db NULL: the
 * configured path; states only read), engine with emit(emit_ctx, ...)
 * (emit NULL: outputs ignored) and decoder. Prints the problem and returns
 * CLI_FAIL / CLI_USAGE on error; cli_replay_close is safe either way. */
int cli_replay_open(struct cli_replay *r, const char *config, const char *db, wd_emit_fn emit,
                    void *emit_ctx);

/* Reads r->path to the end, a line at a time through fn(ctx, line). */
int cli_replay_read(struct cli_replay *r, wd_line_fn fn, void *ctx);

/* Reads r->path to the end through the engine. */
int cli_replay_run(struct cli_replay *r);

void cli_replay_close(struct cli_replay *r);

/* ---- options of the offline report commands ------------------------------- */

/* Which options a report command takes besides --events, --config, --json
 * and --help. */
enum { CLI_OPT_WINDOW = 1u, CLI_OPT_DB = 2u };

struct cli_opts {
    const char *events; /* --events FILE, or FILE; "-" (stdin) when piped */
    const char *config; /* --config FILE; NULL: defaults */
    const char *db;     /* --db PATH; NULL: the configured store */
    const char *start;  /* --start T, unparsed (see cli_parse_time) */
    const char *end;    /* --end T */
    bool json;
};

/* Parses argv (argv[0] the command name) into o. usage is printed on
 * --help (then returns -1: exit 0) and after a bad option (CLI_USAGE). */
int cli_parse_opts(int argc, char **argv, const char *usage, unsigned flags, struct cli_opts *o);

/* After getopt: the events file from the one positional argument left at
 * optind (unless *events is set already), else stdin ("-") when it is not
 * a terminal. CLI_USAGE with a message otherwise. */
int cli_events_arg(int argc, char **argv, const char **events);

/* Parses the value of option `opt`: RFC 3339, or a date YYYY-MM-DD meaning
 * the start of that local day in tz (with is_end: the end of it, i.e. the
 * start of the next). Prints what is wrong and returns CLI_USAGE. */
int cli_parse_time(const char *opt, const char *arg, const struct wd_tz *tz, bool is_end,
                   int64_t *ns);

/* o->start / o->end into [*start, *end): INT64_MIN / INT64_MAX when
 * absent. CLI_USAGE with a message when unparsable or end <= start. */
int cli_window(const struct cli_opts *o, const struct wd_tz *tz, int64_t *start, int64_t *end);

/* Formats a duration as 45s, 1m05s, 2h03m00s (milliseconds shown when
 * not whole: 1m01.250s). */
void cli_fmt_duration(int64_t ns, char *buf, size_t cap);

/* Formats money with thousands separators and 2 decimals for tables. */
void cli_fmt_money(wd_fix v, char *buf, size_t cap);

/* The wall clock, ns since the epoch (UTC): when a person acts. */
int64_t cli_wall_ns(void);

/* ---- incident documents --------------------------------------------------- */

typedef enum wd_status (*cli_render_fn)(const struct wd_incident *inc,
                                        const struct wd_timeline_entry *entries, size_t n,
                                        int64_t now_ns, const struct wd_tz *tz,
                                        struct wd_render_buf *out);

/* Renders inc with its timeline (read from store) by fn, or with fn NULL
 * the message of kind, at now, into b. Prints what is wrong and returns
 * CLI_FAIL on error. */
int cli_render_incident(struct wd_store *store, const struct wd_tz *tz,
                        const struct wd_incident *inc, cli_render_fn fn, enum wd_msg_kind kind,
                        int64_t now, struct wd_render_buf *b);

/* Where incident logs go: logs (--logs DIR) when given, else the store's
 * directory (db, else cfg's store.path), so that logs/ sits beside the
 * store. buf (cap bytes) may hold the answer. */
const char *cli_logs_dir(const struct wd_config *cfg, const char *db, const char *logs, char *buf,
                         size_t cap);

/* Rewrites the playbook's incident log of inc under dir/logs/ (dir NULL:
 * the current directory). A failure is said on stderr, not fatal: the
 * store's record is the source of truth. */
void cli_write_incident_log(struct wd_store *store, const struct wd_tz *tz,
                            const struct wd_incident *inc, const char *dir, int64_t now);

struct jw;
/* One timeline entry as a JSON object: ts_ns, kind, who, from, to, text
 * (incident show --json, evidence's timeline.jsonl). */
void cli_json_timeline_entry(struct jw *w, const struct wd_timeline_entry *e);

/* ---- tables shared by the offline and the remote (cli/remote.h) paths ---- */

struct wd_scope_state;
/* `warden status`: the header, and one scope with the approvals its resume
 * needs and those given ("" when none). */
void cli_status_header(void);
void cli_status_row(const struct wd_scope_state *s, const char *need, const char *have);

struct wd_silence;
/* `warden silence list`: the header, and one silence as at now. */
void cli_silence_header(void);
void cli_silence_row(const struct wd_silence *s, int64_t now);

/* `warden incident list`: the header, and one incident with its SLA at
 * now; true when it is past an SLA. */
void cli_incident_header(void);
bool cli_incident_row(const struct wd_incident *inc, int64_t now);

/* `warden incident show`: the record's lines (title, times, roles, recovery
 * criteria) at now, and one timeline entry. */
void cli_incident_show_head(const struct wd_incident *inc, int64_t now);
void cli_timeline_row(const struct wd_timeline_entry *e);

/* Prints "warden: msg" on stderr. */
void cli_errorf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* WD_CLI_CLI_H */
