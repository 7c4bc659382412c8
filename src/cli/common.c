/*
 * The offline session shared by the book subcommands: configuration, time
 * zone, decoder and book, and the loop that feeds an event file through
 * them. Malformed lines are reported on stderr with file, line, column and
 * reason, counted, and skipped: the rest of the file is processed exactly
 * as if they were absent. Also the offline engine replay shared by the
 * commands that need the gate and the detectors (audit, flatten, exposure,
 * rejects, latency).
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bus/config_yaml.h"
#include "bus/jsonl.h"
#include "bus/tzload.h"
#include "bus/hmac.h"
#include "cli/cli.h"
#include "store/store.h"

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
                                .emit = emit,
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
