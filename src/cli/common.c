/*
 * The offline session shared by the book subcommands: configuration, time
 * zone, decoder and book, and the loop that feeds an event file through
 * them. Malformed lines are reported on stderr with file, line, column and
 * reason, counted, and skipped: the rest of the file is processed exactly
 * as if they were absent. Also the offline engine replay shared by the
 * commands that need the gate and the detectors (audit, flatten, exposure,
 * rejects, latency).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bus/config_yaml.h"
#include "bus/jsonl.h"
#include "bus/tzload.h"
#include "cli/jsonout.h"
#include "svc/api.h"
#include "bus/hmac.h"
#include "cli/cli.h"
#include "store/store.h"
#include "warden/timeutil.h"

void cli_errorf(const char *fmt, ...)
{
    va_list ap;
    fputs("warden: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int cli_config_load(struct wd_config *cfg, const char *path)
{
    if (wd_config_init(cfg) != WD_OK) {
        cli_errorf("out of memory");
        return CLI_FAIL;
    }
    if (path == NULL) {
        return CLI_OK;
    }
    struct wd_config_report rep = {0};
    enum wd_status st = wd_config_load_file(path, cfg, &rep);
    for (size_t i = 0; i < rep.n; i++) {
        fprintf(stderr, "warden: %s:%llu:%llu: %s\n", path, (unsigned long long)rep.items[i].line,
                (unsigned long long)rep.items[i].column, rep.items[i].msg);
    }
    wd_config_report_free(&rep);
    if (st != WD_OK) {
        cli_errorf("configuration %s is not valid; nothing was run", path);
        return CLI_USAGE;
    }
    return CLI_OK;
}

int cli_tz_load(const struct wd_config *cfg, struct wd_tz **tz)
{
    struct wd_error err = {0};
    if (wd_tz_load(cfg->session.tz, tz, &err) != WD_OK) {
        cli_errorf("session.tz: %s", err.msg);
        return CLI_USAGE;
    }
    return CLI_OK;
}

int cli_session_open(struct cli_session *s, const char *config_path)
{
    struct wd_error err = {0};
    int rc;
    memset(s, 0, sizeof *s);
    s->cutoff_ns = INT64_MAX;
    if ((rc = cli_config_load(&s->cfg, config_path)) != CLI_OK ||
        (rc = cli_tz_load(&s->cfg, &s->tz)) != CLI_OK) {
        return rc;
    }
    if (wd_intern_init(&s->symbols, CLI_MAX_SYMBOLS) != WD_OK ||
        wd_intern_init(&s->accounts, CLI_MAX_ACCOUNTS) != WD_OK ||
        wd_decoder_new(&s->symbols, &s->accounts, &s->dec) != WD_OK) {
        cli_errorf("out of memory");
        return CLI_FAIL;
    }
    struct wd_account_capital *caps = NULL;
    if (s->cfg.n_accounts > 0) {
        caps = calloc(s->cfg.n_accounts, sizeof *caps);
        if (caps == NULL) {
            cli_errorf("out of memory");
            return CLI_FAIL;
        }
        for (size_t i = 0; i < s->cfg.n_accounts; i++) {
            caps[i].name = s->cfg.accounts[i].name;
            caps[i].capital = s->cfg.accounts[i].capital;
        }
    }
    struct wd_book_config bc = {
        .default_capital = s->cfg.capital,
        .accounts = caps,
        .n_accounts = s->cfg.n_accounts,
        .tz = s->tz,
    };
    enum wd_status st = wd_book_new(&bc, &s->symbols, &s->accounts, &s->book, &err);
    free(caps);
    if (st != WD_OK) {
        cli_errorf("%s", err.msg);
        return CLI_USAGE;
    }
    return CLI_OK;
}

void cli_session_close(struct cli_session *s)
{
    wd_book_free(s->book);
    wd_decoder_free(s->dec);
    wd_intern_destroy(&s->symbols);
    wd_intern_destroy(&s->accounts);
    wd_tz_free(s->tz);
    wd_config_destroy(&s->cfg);
    memset(s, 0, sizeof *s);
}

void cli_session_ensure_default_account(struct cli_session *s)
{
    if (wd_book_firm(s->book)->capital == 0 &&
        wd_book_open_account(s->book, wd_decoder_default_account(s->dec)) != WD_OK) {
        cli_errorf("cannot open the default account");
    }
}

static bool is_blank(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r') {
            return false;
        }
    }
    return true;
}

static void report_malformed(struct cli_session *s, uint64_t line, uint32_t column,
                             const char *msg)
{
    s->malformed++;
    if (s->malformed <= CLI_MAX_MALFORMED_SHOWN) {
        if (column > 0) {
            fprintf(stderr, "warden: %s:%llu:%u: malformed event skipped: %s\n",
                    s->source_name, (unsigned long long)line, column, msg);
        } else {
            fprintf(stderr, "warden: %s:%llu: malformed event skipped: %s\n", s->source_name,
                    (unsigned long long)line, msg);
        }
    } else if (s->malformed == CLI_MAX_MALFORMED_SHOWN + 1u) {
        fprintf(stderr, "warden: %s: more malformed events; only the count is reported now\n",
                s->source_name);
    }
}

static enum wd_status on_line(void *ctx, const struct wd_line *line)
{
    struct cli_session *s = ctx;
    struct wd_error err = {0};
    struct wd_event ev;
    if (line->overlong) {
        char msg[96];
        snprintf(msg, sizeof msg, "line too long (%zu bytes, max %d)", line->len,
                 WD_DECODE_MAX_LINE);
        report_malformed(s, line->no, 0, msg);
        return WD_OK;
    }
    if (is_blank(line->ptr, line->len)) {
        return WD_OK;
    }
    enum wd_status st = wd_decode_line(s->dec, line->ptr, line->len, &ev, &err);
    if (st == WD_ENOMEM) {
        return wd_error_set(NULL, WD_ENOMEM, "out of memory");
    }
    if (st != WD_OK) {
        report_malformed(s, line->no, err.column, err.msg);
        return WD_OK;
    }
    if (ev.ts_ns >= s->cutoff_ns) {
        s->ignored++;
        return WD_OK;
    }
    st = wd_book_apply(s->book, &ev, &err);
    if (st == WD_ENOMEM) {
        return st;
    }
    if (st != WD_OK) {
        report_malformed(s, line->no, 0, err.msg);
        return WD_OK;
    }
    s->events++;
    if (s->on_event != NULL) {
        s->on_event(s->event_ctx, &ev, s->events);
    }
    return WD_OK;
}

static void on_progress(void *ctx, uint64_t done)
{
    struct cli_session *s = ctx;
    if (!s->progress || s->progress_total == 0) {
        return;
    }
    int pct = (int)(done * 100u / s->progress_total);
    if (pct > 100) {
        pct = 100;
    }
    if (pct == s->progress_last) {
        return;
    }
    s->progress_last = pct;
    char bar[41];
    int filled = pct * 40 / 100;
    for (int i = 0; i < 40; i++) {
        bar[i] = i < filled ? '#' : '.';
    }
    bar[40] = '\0';
    fprintf(stderr, "\r[%s] %3d%%  %s", bar, pct, s->source_name);
    if (pct == 100) {
        fputc('\n', stderr);
    }
}

/* A bar only helps for inputs that take a while to read. */
#define PROGRESS_MIN_BYTES (64u << 20)

int cli_session_run(struct cli_session *s, const char *path)
{
    struct wd_jsonl_reader r;
    struct wd_error err = {0};
    if (wd_jsonl_open(&r, path, 2u * WD_DECODE_MAX_LINE, &err) != WD_OK) {
        cli_errorf("%s", err.msg);
        return CLI_FAIL;
    }
    s->source_name = r.name;
    s->progress = r.size >= PROGRESS_MIN_BYTES && isatty(STDERR_FILENO);
    s->progress_total = r.size;
    s->progress_last = -1;
    enum wd_status st = wd_jsonl_read_all(&r, on_line, s, on_progress, &err);
    wd_jsonl_close(&r);
    if (st != WD_OK) {
        cli_errorf("%s", st == WD_ENOMEM ? "out of memory" : err.msg);
        return CLI_FAIL;
    }
    if (s->malformed > 0) {
        fprintf(stderr, "warden: %s: %llu events applied, %llu malformed lines skipped\n",
                s->source_name, (unsigned long long)s->events,
                (unsigned long long)s->malformed);
    }
    return CLI_OK;
}

/* ---- offline engine replay ------------------------------------------------ */

static enum wd_status replay_line(void *ctx, const struct wd_line *line)
{
    struct cli_replay *r = ctx;
    struct wd_event ev;
    struct wd_error err = {0};
    if (line->overlong || line->len == 0) {
        r->malformed += line->overlong ? 1u : 0u;
        return WD_OK;
    }
    enum wd_status st = wd_decode_line(r->dec, line->ptr, line->len, &ev, &err);
    if (st == WD_ENOMEM) {
        return st;
    }
    if (st != WD_OK) {
        r->malformed++;
        wd_engine_report_malformed(r->engine, line->no, err.msg);
        return WD_OK;
    }
    r->events++;
    r->last_ts = ev.ts_ns;
    if (r->on_event != NULL) {
        r->on_event(r->event_ctx, &ev, r->events);
    }
    return wd_engine_process(r->engine, &ev, r->events, &err);
}

static void ignore_output(void *ctx, const struct wd_output *o)
{
    (void)ctx;
    (void)o;
}

int cli_replay_open(struct cli_replay *r, const char *config, const char *db, wd_emit_fn emit,
                    void *emit_ctx)
{
    struct wd_error err = {0};
    int rc;
    if ((rc = cli_config_load(&r->cfg, config)) != CLI_OK ||
        (rc = cli_tz_load(&r->cfg, &r->tz)) != CLI_OK ||
        (rc = cli_open_store(&r->cfg, db, &r->store)) != CLI_OK) {
        return rc;
    }
    struct wd_engine_opts eo = {.cfg = &r->cfg,
                                .tz = r->tz,
                                .emit = emit != NULL ? emit : ignore_output,
                                .emit_ctx = emit_ctx,
                                .hmac_verify = wd_hmac_sha256_verify};
    if (wd_engine_new(&eo, &r->engine, &err) != WD_OK ||
        wd_decoder_new(wd_engine_symbols(r->engine), wd_engine_accounts(r->engine), &r->dec) !=
            WD_OK) {
        cli_errorf("%s", err.msg[0] ? err.msg : "out of memory");
        return CLI_USAGE;
    }
    return cli_load_states(r->store, r->engine);
}

int cli_replay_read(struct cli_replay *r, wd_line_fn fn, void *ctx)
{
    struct wd_jsonl_reader rd;
    struct wd_error err = {0};
    if (wd_jsonl_open(&rd, r->path, 2u * WD_DECODE_MAX_LINE, &err) != WD_OK) {
        cli_errorf("%s", err.msg);
        return CLI_FAIL;
    }
    enum wd_status st = wd_jsonl_read_all(&rd, fn, ctx, NULL, &err);
    wd_jsonl_close(&rd);
    if (st != WD_OK) {
        cli_errorf("%s", err.msg[0] ? err.msg : wd_status_str(st));
        return CLI_FAIL;
    }
    return CLI_OK;
}

int cli_replay_run(struct cli_replay *r) { return cli_replay_read(r, replay_line, r); }

void cli_replay_close(struct cli_replay *r)
{
    wd_decoder_free(r->dec);
    wd_engine_free(r->engine);
    wd_store_close(r->store);
    wd_tz_free(r->tz);
    wd_config_destroy(&r->cfg);
    memset(r, 0, sizeof *r);
}

/* ---- options of the offline report commands ------------------------------ */

int cli_parse_opts(int argc, char **argv, const char *usage, unsigned flags, struct cli_opts *o)
{
    enum { OPT_DB = 256, OPT_START, OPT_END };
    static const struct option longopts[] = {
        {"events", required_argument, NULL, 'e'}, {"config", required_argument, NULL, 'c'},
        {"json", no_argument, NULL, 'j'},         {"help", no_argument, NULL, 'h'},
        {"db", required_argument, NULL, OPT_DB},  {"start", required_argument, NULL, OPT_START},
        {"end", required_argument, NULL, OPT_END}, {NULL, 0, NULL, 0}};
    int c;
    memset(o, 0, sizeof *o);
    optind = 1;
    while ((c = getopt_long(argc, argv, "e:c:jh", longopts, NULL)) != -1) {
        switch (c) {
        case 'e': o->events = optarg; break;
        case 'c': o->config = optarg; break;
        case 'j': o->json = true; break;
        case 'h': fputs(usage, stdout); return -1;
        case OPT_DB:
        case OPT_START:
        case OPT_END: {
            bool ok = (c == OPT_DB ? flags & CLI_OPT_DB : flags & CLI_OPT_WINDOW) != 0;
            const char *name = c == OPT_DB ? "--db" : c == OPT_START ? "--start" : "--end";
            if (!ok) {
                cli_errorf("%s: %s is not an option of this command (see 'warden %s --help')",
                           argv[0], name, argv[0]);
                return CLI_USAGE;
            }
            *(c == OPT_DB ? &o->db : c == OPT_START ? &o->start : &o->end) = optarg;
            break;
        }
        default: fputs(usage, stderr); return CLI_USAGE;
        }
    }
    return cli_events_arg(argc, argv, &o->events);
}

int cli_events_arg(int argc, char **argv, const char **events)
{
    if (optind < argc) {
        if (*events != NULL || optind + 1 < argc) {
            cli_errorf("%s: unexpected argument '%s'", argv[0], argv[optind]);
            return CLI_USAGE;
        }
        *events = argv[optind];
    }
    if (*events == NULL) {
        if (isatty(STDIN_FILENO)) {
            cli_errorf("%s: no events: give --events FILE, or pipe events on stdin", argv[0]);
            return CLI_USAGE;
        }
        *events = "-";
    }
    return CLI_OK;
}

int cli_parse_time(const char *opt, const char *arg, const struct wd_tz *tz, bool is_end,
                   int64_t *ns)
{
    size_t n = strlen(arg);
    int64_t day;
    if (n == 10 && wd_date_parse(arg, n, &day) == WD_OK) {
        *ns = wd_tz_day_start_ns(tz, is_end ? day + 1 : day);
        return CLI_OK;
    }
    if (wd_time_parse_rfc3339(arg, n, ns) == WD_OK) {
        return CLI_OK;
    }
    cli_errorf("%s: '%s' is not a time (expected RFC 3339 such as 2025-11-17T14:30:00Z, "
               "or a date YYYY-MM-DD: a local day in session.tz)",
               opt, arg);
    return CLI_USAGE;
}

int cli_window(const struct cli_opts *o, const struct wd_tz *tz, int64_t *start, int64_t *end)
{
    int rc;
    *start = INT64_MIN;
    *end = INT64_MAX;
    if ((o->start != NULL && (rc = cli_parse_time("--start", o->start, tz, false, start)) != 0) ||
        (o->end != NULL && (rc = cli_parse_time("--end", o->end, tz, true, end)) != 0)) {
        return rc;
    }
    if (*end <= *start) {
        cli_errorf("--end %s is not after --start %s", o->end, o->start);
        return CLI_USAGE;
    }
    return CLI_OK;
}

void cli_fmt_duration(int64_t ns, char *buf, size_t cap)
{
    int64_t ms = ns / 1000000, s = ms / 1000 % 60, m = ms / 60000 % 60, h = ms / 3600000;
    char frac[8] = "";
    if (ms % 1000 != 0) {
        snprintf(frac, sizeof frac, ".%03" PRId64, ms % 1000);
    }
    if (h > 0) {
        snprintf(buf, cap, "%" PRId64 "h%02" PRId64 "m%02" PRId64 "%ss", h, m, s, frac);
    } else if (m > 0) {
        snprintf(buf, cap, "%" PRId64 "m%02" PRId64 "%ss", m, s, frac);
    } else {
        snprintf(buf, cap, "%" PRId64 "%ss", s, frac);
    }
}

void cli_fmt_money(wd_fix v, char *buf, size_t cap)
{
    char raw[40];
    size_t n = wd_fix_format_round(v, 2, raw, sizeof raw);
    /* Insert thousands separators into the integer part. */
    size_t start = raw[0] == '-' ? 1u : 0u;
    size_t dot = start;
    while (dot < n && raw[dot] != '.') {
        dot++;
    }
    size_t o = 0;
    for (size_t i = 0; i < n && o + 1 < cap; i++) {
        if (i > start && i < dot && (dot - i) % 3 == 0 && o + 2 < cap) {
            buf[o++] = ',';
        }
        buf[o++] = raw[i];
    }
    if (cap > 0) {
        buf[o < cap ? o : cap - 1] = '\0';
    }
}

int64_t cli_wall_ns(void)
{
    struct timespec t;
    (void)clock_gettime(CLOCK_REALTIME, &t);
    return (int64_t)t.tv_sec * WD_NS_PER_S + t.tv_nsec;
}

int cli_render_incident(struct wd_store *store, const struct wd_tz *tz,
                        const struct wd_incident *inc, cli_render_fn fn, enum wd_msg_kind kind,
                        int64_t now, struct wd_render_buf *b)
{
    struct wd_timeline_entry *tl = NULL;
    size_t n = 0;
    struct wd_error err = {0};
    if (wd_store_timeline_list(store, inc->id, &tl, &n, &err) != WD_OK) {
        cli_errorf("store: %s", err.msg);
        return CLI_FAIL;
    }
    enum wd_status st = fn != NULL ? fn(inc, tl, n, now, tz, b)
                                   : wd_render_message(kind, inc, tl, n, now, tz, b);
    free(tl);
    if (st != WD_OK) {
        cli_errorf("incident %s: cannot render it: %s", inc->id,
                   st == WD_ESTATE ? "not resolved yet" : wd_status_str(st));
        return CLI_FAIL;
    }
    return CLI_OK;
}

void cli_write_incident_log(struct wd_store *store, const struct wd_tz *tz,
                            const struct wd_incident *inc, const char *dir, int64_t now)
{
    struct wd_render_buf b;
    char name[96], path[1200];
    wd_render_buf_init(&b, 0);
    if (cli_render_incident(store, tz, inc, wd_render_log, WD_MSG_INITIAL, now, &b) != CLI_OK) {
        wd_render_buf_destroy(&b);
        return;
    }
    dir = dir != NULL ? dir : ".";
    (void)wd_render_log_name(inc, tz, name, sizeof name); /* "logs/incident_..." */
    (void)mkdir(dir, 0755); /* the directory and its logs/, as needed */
    snprintf(path, sizeof path, "%s/logs", dir);
    (void)mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    bool ok = f != NULL && fwrite(b.data, 1, b.len, f) == b.len;
    if (f != NULL && fclose(f) != 0) {
        ok = false;
    }
    if (!ok) {
        cli_errorf("incident log %s: cannot write it", path);
    }
    wd_render_buf_destroy(&b);
}

void cli_json_timeline_entry(struct jw *w, const struct wd_timeline_entry *e)
{
    wd_api_json_timeline_entry(w, e);
}

const char *cli_logs_dir(const struct wd_config *cfg, const char *db, const char *logs, char *buf,
                         size_t cap)
{
    if (logs != NULL) {
        return logs;
    }
    const char *store = db != NULL ? db : cfg->store.path;
    const char *slash = store != NULL ? strrchr(store, '/') : NULL;
    if (slash == NULL || strcmp(store, ":memory:") == 0) {
        return ".";
    }
    snprintf(buf, cap, "%.*s", (int)(slash - store), store);
    return buf[0] != '\0' ? buf : "/";
}

bool cli_parse_u32(const char *s, uint32_t *out)
{
    char *end;
    if (*s < '0' || *s > '9') {
        return false; /* strtoul would take a sign or spaces */
    }
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end != '\0' || errno != 0 || v > UINT32_MAX) {
        return false;
    }
    *out = (uint32_t)v;
    return true;
}
