/*
 * `warden replay`: streams an event file through the engine (book, gate,
 * kill-switches, trading states) and writes one JSON line per output on
 * stdout (SPEC section 3), log lines on stderr, and a summary at the end.
 *
 * State is shared through the store: trading states are loaded at start and
 * every change is written before the next event is read (a halt survives a
 * crash); every --snapshot-every events, and at the end, the engine's state
 * is saved with the input position it corresponds to. A run killed midway
 * and started again on the same input resumes from that snapshot, so no
 * fill is counted twice; a file that grew since resumes where it stopped.
 */
#define _DEFAULT_SOURCE /* realpath */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bus/hmac.h"
#include "bus/jsonl.h"
#include "cli/cli.h"
#include "cli/cmds.h"
#include "cli/jsonout.h"
#include "cli/kafka_run.h"
#include "cli/outputs.h"
#include "store/store.h"
#include "warden/engine.h"
#include "warden/incident.h"
#include "warden/timeutil.h"

#define DEFAULT_SNAPSHOT_EVERY 100000u

struct replay {
    struct wd_config cfg;
    struct wd_tz *tz;
    struct wd_store *store;
    struct wd_engine *engine;
    struct wd_hmac_cache *hmac; /* keyed contexts for signed intents */
    struct wd_decoder *dec;
    const char *path;      /* the input; "-" for stdin */
    char key[PATH_MAX + 8]; /* snapshot key, "" for stdin */
    uint64_t skip_lines;   /* lines already consumed by an earlier run */
    uint64_t lines, offset, events;
    uint64_t snapshot_every, since_snapshot;
    uint64_t malformed;
    int64_t last_ts;
    struct cli_outputs out; /* JSON lines on stdout, persistence into the store */
    const char *logs;      /* --logs DIR, else beside the store: incident logs */
    char logs_buf[PATH_MAX];
    uint64_t crash_after;  /* test hook: SIGKILL self after this many events */
    struct wd_error err;
    const char *kafka, *from, *to; /* --kafka TOPICS --from T --to T (src/cli/kafka_replay.c) */
};

static void usage(FILE *out)
{
    fputs("Usage: warden replay [--config FILE] [--db PATH] [--restart] [--snapshot-every N]\n"
          "                     [--events] FILE\n"
          "       warden replay [--config FILE] [--db PATH] --kafka TOPIC[,TOPIC...]\n"
          "                     --from TIME [--to TIME]\n"
          "\n"
          "Streams events through the book, the pre-trade gate and the kill-switches,\n"
          "and writes one JSON line per output on stdout: decision (every intent:\n"
          "accept or reject with its reason), control (halt, cancel_all, flatten,\n"
          "resume), incident, alert; each with event_no and ts. Log lines in the\n"
          "playbook's wording and a summary go to stderr.\n"
          "\n"
          "Trading states are read from and written to the store, so a scope halted\n"
          "with `warden halt` is halted here too, and a kill-switch halt stays in\n"
          "force until `warden resume`. The engine's state is saved every N events\n"
          "and at the end, with the input position: replaying the same file again\n"
          "resumes where the last run stopped (after a crash, or when the file grew)\n"
          "and never counts a fill twice.\n"
          "\n"
          "Options:\n"
          "  -c, --config FILE        YAML configuration (limits, session, ...)\n"
          "      --db PATH            the store (default: store.path, ./var/warden.db)\n"
          "      --restart            forget this input's snapshot; replay from the start\n"
          "                           (trading states are kept)\n"
          "      --snapshot-every N   events between snapshots (default 100000)\n"
          "      --logs DIR           where each incident's log (the playbook's Appendix)\n"
          "                           is kept current: DIR/logs/ (default: beside the store)\n"
          "  -e, --events FILE        the input (also positional; '-' for stdin, no resume)\n"
          "      --kafka TOPICS       read history from the bus instead (the configuration's\n"
          "                           kafka section; input topics, comma-separated), in\n"
          "                           event-time order, with a group-less consumer: the\n"
          "                           live group is never joined or committed to; no resume\n"
          "      --from TIME          with --kafka: from the first message stamped at or after\n"
          "                           TIME (RFC 3339, or a date in session.tz); events stamped\n"
          "                           before it are skipped\n"
          "      --to TIME            with --kafka: events stamped at or after TIME are skipped\n"
          "                           (default: up to each partition's end at the start)\n"
          "  -h, --help               this help\n"
          "\n"
          "Same input and same store state give the same bytes out, every run.\n"
          "Exit status: 0 ok, 1 input or store failure, 2 usage or bad configuration.\n",
          out);
}

/* ---- snapshots ---------------------------------------------------------------------- */

static int save_snapshot(struct replay *rp)
{
    struct wd_wbuf w;
    struct wd_snapshot snap;
    if (rp->key[0] == '\0') {
        return CLI_OK;
    }
    /* Everything said before the snapshot leaves the process first: after a
     * crash, outputs up to the snapshot are out, the rest come again. */
    if (fflush(stdout) != 0) {
        cli_errorf("snapshot: cannot write output");
        return CLI_FAIL;
    }
    memset(&snap, 0, sizeof snap);
    wd_wbuf_init(&w);
    wd_engine_save(rp->engine, &w);
    if (w.st != WD_OK) {
        wd_wbuf_free(&w);
        cli_errorf("snapshot: %s", wd_status_str(w.st));
        return CLI_FAIL;
    }
    if (!wd_input_digest(rp->path, rp->offset, snap.digest)) {
        wd_wbuf_free(&w);
        cli_errorf("snapshot: cannot read back %s", rp->path);
        return CLI_FAIL;
    }
    snap.lines = rp->lines;
    snap.offset = rp->offset;
    snap.events = rp->events;
    snap.saved_ns = rp->last_ts;
    snap.blob = w.data;
    snap.blob_len = w.len;
    enum wd_status st = wd_store_put_snapshot(rp->store, rp->key, &snap, &rp->err);
    wd_wbuf_free(&w);
    rp->since_snapshot = 0;
    if (st != WD_OK) {
        cli_errorf("snapshot: %s", rp->err.msg);
        return CLI_FAIL;
    }
    return CLI_OK;
}

/* Restores the engine from this input's snapshot when the input still
 * starts with the bytes it was taken from. *done is set when nothing was
 * appended since. */
static int resume(struct replay *rp, uint64_t size, bool *done)
{
    struct wd_snapshot snap;
    bool found = false;
    char digest[65];
    *done = false;
    if (rp->key[0] == '\0') {
        return CLI_OK;
    }
    memset(&snap, 0, sizeof snap);
    if (wd_store_get_snapshot(rp->store, rp->key, &snap, &found, &rp->err) != WD_OK) {
        cli_errorf("store: %s", rp->err.msg);
        return CLI_FAIL;
    }
    if (!found) {
        return CLI_OK;
    }
    int rc = CLI_OK;
    if (snap.offset > size || !wd_input_digest(rp->path, snap.offset, digest) ||
        strcmp(digest, snap.digest) != 0) {
        cli_errorf("%s changed since its snapshot (%" PRIu64
                   " events); replaying it from the start",
                   rp->path, snap.events);
        goto out;
    }
    if (wd_engine_load(rp->engine, snap.blob, snap.blob_len, &rp->err) != WD_OK) {
        cli_errorf("snapshot of %s: %s; use --restart", rp->path, rp->err.msg);
        rc = CLI_FAIL;
        goto out;
    }
    rp->skip_lines = snap.lines;
    rp->lines = 0;
    rp->offset = snap.offset;
    rp->events = snap.events;
    rp->last_ts = snap.saved_ns;
    if (snap.offset == size) {
        fprintf(stderr,
                "warden: %s: nothing new since the last run (%" PRIu64
                " events); --restart replays it from the start\n",
                rp->path, snap.events);
        *done = true;
    } else {
        fprintf(stderr, "warden: %s: resuming after line %" PRIu64 " (%" PRIu64 " events)\n",
                rp->path, snap.lines, snap.events);
    }
out:
    free(snap.blob);
    return rc;
}

/* ---- the event loop ------------------------------------------------------------------- */

static enum wd_status on_line(void *ctx, const struct wd_line *line)
{
    struct replay *rp = ctx;
    struct wd_error err = {0};
    if (line->no <= rp->skip_lines) {
        return WD_OK;
    }
    rp->lines = line->no;
    rp->offset += line->len + 1u;
    enum cli_line_result what;
    enum wd_status st = cli_outputs_line(&rp->out, rp->dec, rp->path, line, &rp->events,
                                         &rp->malformed, &rp->last_ts, &what, &err);
    if (st != WD_OK) {
        rp->err = err;
        return st;
    }
    if (what != CLI_LINE_EVENT) {
        return WD_OK;
    }
    if (++rp->since_snapshot >= rp->snapshot_every && save_snapshot(rp) != CLI_OK) {
        return WD_EIO;
    }
    if (rp->crash_after != 0 && rp->events >= rp->crash_after) {
        /* Test hook (WARDEN_CRASH_AFTER_EVENTS): die like `kill -9` would,
         * with whatever is buffered on stdout lost. */
        raise(SIGKILL);
    }
    return WD_OK;
}

static int parse_opts(int argc, char **argv, struct replay *rp, const char **config,
                      const char **db, bool *restart)
{
    enum { OPT_DB = 256, OPT_RESTART, OPT_SNAP, OPT_LOGS, OPT_KAFKA, OPT_FROM, OPT_TO };
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},  {"db", required_argument, NULL, OPT_DB},
        {"restart", no_argument, NULL, OPT_RESTART}, {"snapshot-every", required_argument, NULL, OPT_SNAP},
        {"events", required_argument, NULL, 'e'},  {"help", no_argument, NULL, 'h'},
        {"logs", required_argument, NULL, OPT_LOGS}, {"kafka", required_argument, NULL, OPT_KAFKA},
        {"from", required_argument, NULL, OPT_FROM}, {"to", required_argument, NULL, OPT_TO},
        {NULL, 0, NULL, 0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:e:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'c': *config = optarg; break;
        case 'e': rp->path = optarg; break;
        case OPT_DB: *db = optarg; break;
        case OPT_RESTART: *restart = true; break;
        case OPT_LOGS: rp->logs = optarg; break;
        case OPT_KAFKA: rp->kafka = optarg; break;
        case OPT_FROM: rp->from = optarg; break;
        case OPT_TO: rp->to = optarg; break;
        case OPT_SNAP: {
            char *endp;
            unsigned long long n = strtoull(optarg, &endp, 10);
            if (*optarg == '\0' || *endp != '\0' || n == 0) {
                cli_errorf("--snapshot-every: '%s' is not a positive number", optarg);
                return CLI_USAGE;
            }
            rp->snapshot_every = n;
            break;
        }
        case 'h': usage(stdout); return -1;
        default: usage(stderr); return CLI_USAGE;
        }
    }
    if (optind < argc) {
        if (rp->path != NULL || optind + 1 < argc) {
            cli_errorf("replay: unexpected argument '%s'", argv[optind]);
            return CLI_USAGE;
        }
        rp->path = argv[optind];
    }
    if (rp->kafka != NULL && (rp->path != NULL || rp->from == NULL)) {
        cli_errorf("replay: --kafka %s", rp->path != NULL ? "reads the bus: give no FILE"
                                                          : "needs --from TIME");
        return CLI_USAGE;
    }
    if (rp->kafka == NULL && (rp->from != NULL || rp->to != NULL)) {
        cli_errorf("replay: --from and --to go with --kafka");
        return CLI_USAGE;
    }
    if (rp->kafka != NULL) {
        rp->path = "kafka";
    }
    if (rp->path == NULL) {
        cli_errorf("replay: no events: give FILE (or '-' for stdin)");
        return CLI_USAGE;
    }
    return CLI_OK;
}

/* The audit chain's key: the whole file store.chain_key_file names, 16 to
 * WD_CHAIN_KEY_MAX bytes (a trailing newline is not part of it). */
#define WD_CHAIN_KEY_MIN 16
#define WD_CHAIN_KEY_MAX 4096

static int set_chain_key(const struct wd_config *cfg, struct wd_store *s)
{
    const char *path = cfg->store.chain_key_file;
    unsigned char key[WD_CHAIN_KEY_MAX + 2];
    struct wd_error err = {0};
    if (path == NULL) {
        return CLI_OK;
    }
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        cli_errorf("store.chain_key_file %s: %s", path, strerror(errno));
        return CLI_USAGE;
    }
    size_t n = fread(key, 1, sizeof key, f);
    bool failed = ferror(f) != 0;
    fclose(f);
    if (n > 0 && key[n - 1] == '\n') {
        n--;
    }
    if (failed || n < WD_CHAIN_KEY_MIN || n > WD_CHAIN_KEY_MAX) {
        cli_errorf("store.chain_key_file %s: %s", path,
                   failed ? "cannot read it"
                          : "a key is 16 to 4096 bytes (e.g. `openssl rand -hex 32 > FILE`)");
        return CLI_USAGE;
    }
    enum wd_status st = wd_store_set_chain_key(s, key, n, &err);
    memset(key, 0, sizeof key);
    if (st != WD_OK) {
        cli_errorf("store.chain_key_file %s: %s", path, err.msg);
        return CLI_FAIL;
    }
    return CLI_OK;
}

int cli_open_store(const struct wd_config *cfg, const char *db, struct wd_store **out)
{
    struct wd_error err = {0};
    const char *path = db != NULL ? db : cfg->store.path;
    if (wd_store_open(path, out, &err) != WD_OK) {
        cli_errorf("store %s: %s", path, err.msg);
        return CLI_FAIL;
    }
    int rc = set_chain_key(cfg, *out);
    if (rc != CLI_OK) {
        wd_store_close(*out);
        *out = NULL;
    }
    return rc;
}

/* One limit's value as the audit trail records it. */
struct limit_text {
    const char *key;
    char value[512];
};

/* The list of names, as many as fit, and how many there are. */
static void names_text(char *buf, size_t cap, size_t n, const char *(*name)(const struct wd_config *, size_t),
                       const struct wd_config *cfg)
{
    size_t len = (size_t)snprintf(buf, cap, "%zu", n);
    for (size_t i = 0; i < n && len + 64 < cap; i++) {
        int w = snprintf(buf + len, cap - len, "%s%s", i == 0 ? ": " : ", ", name(cfg, i));
        len += w > 0 ? (size_t)w : 0u;
    }
}

static const char *symbol_name(const struct wd_config *c, size_t i) { return c->limits.symbols[i]; }

static const char *source_name(const struct wd_config *c, size_t i)
{
    return c->limits.sources[i].key_hex != NULL ? "(keyed)" : c->limits.sources[i].name;
}

int cli_record_limits(struct wd_store *store, const struct wd_config *cfg, const char *who)
{
    struct limit_text l[12];
    size_t n = 0;
    struct wd_error err = {0};
#define LIMIT_D(k, v) (l[n].key = (k), snprintf(l[n].value, sizeof l[n].value, "%.15g", (v)), n++)
#define LIMIT_F(k, v) (l[n].key = (k), wd_fix_format((v), 0, l[n].value, sizeof l[n].value), n++)
    LIMIT_D("limits.kill_pnl", cfg->limits.kill_pnl);
    LIMIT_D("limits.max_dd", cfg->limits.max_dd);
    LIMIT_D("limits.psr.min", cfg->limits.psr.min);
    LIMIT_F("limits.max_order_qty", cfg->limits.max_order_qty);
    LIMIT_F("limits.max_order_notional", cfg->limits.max_order_notional);
    LIMIT_F("limits.box_lim", cfg->limits.box_lim);
    LIMIT_F("limits.max_gross_exposure", cfg->limits.max_gross_exposure);
    LIMIT_D("limits.max_orders_per_s", (double)cfg->limits.max_orders_per_s);
    LIMIT_D("limits.price_collar", cfg->limits.price_collar);
    l[n].key = "limits.symbols";
    names_text(l[n].value, sizeof l[n].value, cfg->limits.n_symbols, symbol_name, cfg);
    n++;
    /* Source names only: a key never goes into the trail. */
    l[n].key = "limits.sources";
    names_text(l[n].value, sizeof l[n].value, cfg->limits.n_sources, source_name, cfg);
    n++;
#undef LIMIT_D
#undef LIMIT_F
    for (size_t i = 0; i < n; i++) {
        char old[512];
        bool found = false;
        if (wd_store_limit_in_force(store, l[i].key, old, sizeof old, &found, &err) != WD_OK ||
            ((!found || strcmp(old, l[i].value) != 0) &&
             wd_store_record_limit_change(store, who, l[i].key, found ? old : "",
                                          l[i].value, &err) != WD_OK)) {
            cli_errorf("store: %s", err.msg);
            return CLI_FAIL;
        }
    }
    return CLI_OK;
}

int cli_load_states(struct wd_store *store, struct wd_engine *engine)
{
    struct wd_error err = {0};
    struct wd_scope_state *states = NULL;
    size_t n = 0;
    if (wd_store_load_states(store, &states, &n, &err) != WD_OK) {
        cli_errorf("store: %s", err.msg);
        return CLI_FAIL;
    }
    for (size_t i = 0; i < n; i++) {
        if (wd_engine_set_state(engine, &states[i], &err) != WD_OK) {
            cli_errorf("store: state of %s: %s (ignored)", states[i].scope, err.msg);
        }
    }
    free(states);
    return CLI_OK;
}

int cmd_replay(int argc, char **argv)
{
    struct replay rp;
    const char *config = NULL, *db = NULL;
    bool restart = false, done = false;
    struct wd_jsonl_reader reader = {.fd = -1};
    struct wd_error err = {0};
    int rc;
    static char outbuf[1 << 16];

    memset(&rp, 0, sizeof rp);
    rp.snapshot_every = DEFAULT_SNAPSHOT_EVERY;
    if ((rc = parse_opts(argc, argv, &rp, &config, &db, &restart)) != CLI_OK) {
        return rc < 0 ? CLI_OK : rc;
    }
    setvbuf(stdout, outbuf, _IOFBF, sizeof outbuf);
    const char *crash = getenv("WARDEN_CRASH_AFTER_EVENTS");
    if (crash != NULL) {
        rp.crash_after = strtoull(crash, NULL, 10);
    }
    if ((rc = cli_config_load(&rp.cfg, config)) != CLI_OK || (rc = cli_tz_load(&rp.cfg, &rp.tz)) != CLI_OK ||
        (rc = cli_open_store(&rp.cfg, db, &rp.store)) != CLI_OK) {
        goto out;
    }
    /* The limits this run enforces, into the audit trail where they differ
     * from the last ones recorded: who ran it with which configuration. */
    const char *user = getenv("USER");
    char who[WD_WHO_MAX];
    snprintf(who, sizeof who, "%s", user != NULL && user[0] != '\0' ? user : "warden");
    if ((rc = cli_record_limits(rp.store, &rp.cfg, who)) != CLI_OK) {
        goto out;
    }
    rp.logs = cli_logs_dir(&rp.cfg, db, rp.logs, rp.logs_buf, sizeof rp.logs_buf);
    cli_outputs_init(&rp.out, stdout, rp.store, rp.tz, rp.key, rp.logs);
    struct wd_engine_opts eo = {.cfg = &rp.cfg,
                                .tz = rp.tz,
                                .hmac_verify = wd_hmac_sha256_verify,
                                .hmac_ctx = rp.hmac = wd_hmac_cache_new()};
    cli_outputs_wire(&rp.out, &eo);
    if (rp.hmac == NULL || wd_engine_new(&eo, &rp.engine, &err) != WD_OK ||
        wd_decoder_new(wd_engine_symbols(rp.engine), wd_engine_accounts(rp.engine), &rp.dec) !=
            WD_OK) {
        cli_errorf("%s", err.msg[0] ? err.msg : "out of memory");
        rc = CLI_USAGE;
        goto out;
    }
    rp.out.engine = rp.engine;
    if (rp.kafka != NULL) {
        /* From the bus (src/cli/kafka_replay.c): no snapshot, no resume. */
        int64_t from = 0, to = INT64_MAX;
        if ((rc = cli_parse_time("--from", rp.from, rp.tz, false, &from)) != CLI_OK ||
            (rp.to != NULL && (rc = cli_parse_time("--to", rp.to, rp.tz, false, &to)) != CLI_OK) ||
            (rc = cli_load_states(rp.store, rp.engine)) != CLI_OK ||
            (rc = cli_kafka_replay(&rp.cfg, rp.kafka, from, to, &rp.out, on_line, &rp)) != CLI_OK) {
            if (rp.err.msg[0] != '\0') {
                cli_errorf("%s", rp.err.msg);
            }
            goto out;
        }
        goto summary;
    }
    if (wd_jsonl_open(&reader, rp.path, 2u * WD_DECODE_MAX_LINE, &err) != WD_OK) {
        cli_errorf("%s", err.msg);
        rc = CLI_FAIL;
        goto out;
    }
    if (strcmp(rp.path, "-") != 0 && reader.size > 0) {
        char real[PATH_MAX];
        if (realpath(rp.path, real) != NULL) {
            snprintf(rp.key, sizeof rp.key, "file:%s", real);
        }
    }
    if (restart && rp.key[0] != '\0' &&
        wd_store_delete_snapshot(rp.store, rp.key, &err) != WD_OK) {
        cli_errorf("store: %s", err.msg);
        rc = CLI_FAIL;
        goto out;
    }
    if ((rc = resume(&rp, reader.size, &done)) != CLI_OK || done) {
        goto out;
    }
    /* What this input's earlier run wrote past the point we start from (its
     * snapshot, or the start: a run killed before its first snapshot, a
     * changed input, --restart) is taken back: those events run again. A
     * person's changes stay. */
    if (rp.key[0] != '\0' && wd_store_rewind(rp.store, rp.key, rp.events, &err) != WD_OK) {
        cli_errorf("store: %s", err.msg);
        rc = CLI_FAIL;
        goto out;
    }
    /* Durable trading states (as rewound by a resume) before any event: a
     * halted scope is halted from event 1. */
    if ((rc = cli_load_states(rp.store, rp.engine)) != CLI_OK) {
        goto out;
    }
    enum wd_status st = wd_jsonl_read_all(&reader, on_line, &rp, NULL, &err);
    if (rp.offset > reader.size && reader.size > 0) {
        rp.offset = reader.size; /* a last line without its newline */
    }
    if (st != WD_OK) {
        cli_errorf("%s", rp.err.msg[0] ? rp.err.msg : err.msg);
        rc = CLI_FAIL;
        goto out;
    }
    if ((rc = save_snapshot(&rp)) != CLI_OK) {
        goto out;
    }
summary:;
    const struct wd_figures *firm = wd_book_firm(wd_engine_book(rp.engine));
    char eq[40], re[40], co[40];
    wd_fix_format(firm->equity, 2, eq, sizeof eq);
    wd_fix_format(firm->realized, 2, re, sizeof re);
    wd_fix_format(firm->commission, 2, co, sizeof co);
    fprintf(stderr,
            "warden: %s: %" PRIu64 " events; intents %" PRIu64 " accepted, %" PRIu64
            " rejected; %" PRIu64 " controls, %" PRIu64 " incidents, %" PRIu64
            " state changes; %" PRIu64 " malformed lines skipped\n"
            "warden: firm equity %s, realized %s, commission paid %s\n",
            rp.path, rp.events, rp.out.accepted, rp.out.rejected, rp.out.controls, rp.out.incidents,
            rp.out.states,
            rp.malformed, eq, re, co);
out:
    if (fflush(stdout) != 0 && rc == CLI_OK) {
        cli_errorf("cannot write output");
        rc = CLI_FAIL;
    }
    if (reader.buf != NULL) {
        wd_jsonl_close(&reader);
    }
    wd_decoder_free(rp.dec);
    wd_engine_free(rp.engine);
    wd_hmac_cache_free(rp.hmac);
    wd_store_close(rp.store);
    wd_tz_free(rp.tz);
    wd_config_destroy(&rp.cfg);
    return rc;
}
