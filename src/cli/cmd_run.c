/*
 * `warden run`: the daemon's event loop. One thread, one epoll set: the
 * input (stdin, a file followed like `tail -F`, or a unix stream socket
 * with several producers), a one-second timerfd that lets wall-clock time
 * pass in the engine (heartbeat timeouts, staleness, ramp-ups), and a
 * signalfd (SIGHUP reloads the configuration, SIGTERM / SIGINT stop).
 * Every event goes through the engine and its outputs exactly as in
 * `warden replay` (src/cli/outputs.c): JSON lines on stdout, states and
 * incidents in the store. Log lines on stderr are structured:
 * `time level component message key=value...`.
 *
 * It must not block on one input while another has data, and must not
 * stop when its input ends: only a signal stops it.
 */
#define _GNU_SOURCE /* SOCK_NONBLOCK, realpath, pthread_setaffinity_np */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <unistd.h>

#include "bus/hmac.h"
#include "bus/http.h"
#include "bus/linebuf.h"
#include "cli/cli.h"
#include "cli/cmds.h"
#include "cli/kafka_run.h"
#include "kafka/kafka.h"
#include "cli/notify_cli.h"
#include "cli/outputs.h"
#include "cli/serve.h"
#include "store/store.h"
#include "svc/api.h"
#include "svc/dashboard.h"
#include "svc/incidents.h"
#include "warden/engine.h"
#include "warden/timeutil.h"

#define MAX_CONNS 64
#define READ_SLICE (1u << 20) /* bytes per input per turn: no input starves another */
#define FOLLOW_POLL_MS 100    /* how often a followed file is looked at */
#define BATCH_LINES 512       /* lines processed under one hold of mu */
#define PIPE_BUF_WANTED (1 << 20) /* stdin's pipe capacity asked for */
#define METRICS_PUBLISH_NS (100LL * 1000000) /* metrics text renewed at most this often */

enum { TAG_SIGNAL = 1, TAG_TIMER, TAG_STDIN, TAG_LISTEN, TAG_KAFKA, TAG_CONN = 100 };
enum input_kind { IN_STDIN, IN_FILE, IN_UNIX, IN_KAFKA };

struct conn {
    int fd; /* -1: free */
    struct wd_linebuf lb;
    char name[PATH_MAX + 32];
};

struct run {
    /* What depends on the configuration: rebuilt on reload. */
    struct wd_config *cfg;
    struct wd_tz *tz;
    struct wd_engine *engine;
    struct wd_decoder *dec;

    struct wd_hmac_cache *hmac;
    struct wd_store *store;
    struct cli_outputs out;
    const char *config_path, *db, *input;
    const char *logs;
    char logs_buf[PATH_MAX];
    char who[WD_WHO_MAX];

    int ep, sfd, tfd;
    enum input_kind kind;
    /* stdin or the followed file */
    int in_fd;
    bool in_polled;  /* a regular file: read each turn, not through epoll */
    bool in_ended;
    bool in_waiting; /* the followed file does not exist (yet) */
    dev_t dev;
    ino_t ino;
    struct wd_linebuf lb;
    /* unix:PATH */
    const char *sock_path;
    int listen_fd;
    struct conn conns[MAX_CONNS];
    /* kafka (docs/KAFKA.md): src/cli/kafka_run.c */
    struct cli_kafka_run *kafka;
    /* Its lag at the last tick, for the API's thread (under mu): the
     * kafka run itself is the loop's alone. */
    struct cli_serve_lag lag;
    bool input_given;

    /* Serving (docs/METRICS.md, docs/API.md, docs/internals/DAEMON.md): the
     * metrics server and the API server run on libmicrohttpd's threads.
     * mu guards the engine, the store and the configuration between this
     * loop (each batch of up to BATCH_LINES lines, each tick and reload)
     * and the API's actions and live figures. The API's other reads go to
     * their own connection to the store (rstore, WAL: readers do not wait
     * for the writer) under read_mu, never holding mu, so that a flood of
     * reads cannot starve the events. The metrics registry is this loop's
     * (under mu); it renders it into mnext now and then and swaps it with
     * mtext under the metrics server's lock, so that a scrape copies the
     * last text and never waits for the registry. Lock order: mu, then
     * read_mu, then the metrics server's lock. */
    const char *metrics_listen, *api_listen; /* options; NULL: the configuration's */
    pthread_mutex_t mu, read_mu;
    bool in_batch;         /* this loop holds mu for the lines being read */
    uint32_t batch_lines;  /* lines in the current batch */
    struct wd_store *rstore; /* NULL: reads under mu through store */
    char store_path[PATH_MAX];
    struct wd_api api_read;
    struct cli_serve serve; /* serve.m NULL: metrics off */
    struct wd_http *mhttp, *ahttp;
    struct wd_render_buf mtext, mnext; /* the text served, the next one */
    bool metrics_dirty;                /* the registry changed since mtext */
    int64_t metrics_pub_ns;            /* when mtext was rendered */
    struct wd_api api;
    bool metrics_failed; /* said once */
    struct cli_notify notify; /* notifications (issue 8): hook + sender thread */

    int ingest_cpu; /* --ingest-cpu: the loop's CPU, the servers on the others; -1 none */
    struct cli_oncall_ticker oncall; /* issue 8: escalation each tick */

    const char *cur_name; /* the input of the line being processed */
    uint64_t events, malformed, ticks, reloads;
    int64_t last_ts;
    bool stop;
    int rc;
};

static void usage(FILE *out)
{
    fputs("Usage: warden run [--config FILE] [--db PATH] [--input -|FILE|unix:PATH]\n"
          "                  [--metrics-listen ADDR|off] [--api-listen ADDR|off]\n"
          "\n"
          "Runs warden as a service: reads events (JSON Lines) as they come, puts each\n"
          "through the pre-trade gate, the kill-switches and the detectors exactly as\n"
          "`warden replay` does (the same JSON lines on stdout, the same trading states\n"
          "and incident records in the store), and lets wall-clock time pass once a\n"
          "second (heartbeat timeouts, staleness, ramp-ups). When the input ends it keeps\n"
          "running until stopped.\n"
          "\n"
          "Inputs:\n"
          "  -                        stdin (default)\n"
          "  FILE                     followed as it grows, like `tail -F`: read from its\n"
          "                           start, then each new line; replaced or truncated\n"
          "                           (log rotation): read again from the start\n"
          "  unix:PATH                a unix stream socket at PATH; several producers may\n"
          "                           connect, each sending whole lines\n"
          "  kafka                    the configuration's kafka topics (the default when it\n"
          "                           has a kafka section): outputs are also produced to\n"
          "                           risk_decisions, control, incidents (docs/KAFKA.md)\n"
          "\n"
          "Signals:\n"
          "  SIGHUP                   reload --config: a valid file takes effect (limits\n"
          "                           changed go to the audit trail); an invalid one is\n"
          "                           refused, logged, and the old configuration stays\n"
          "  SIGTERM, SIGINT          stop reading, flush, exit 0\n"
          "\n"
          "Options:\n"
          "  -c, --config FILE        YAML configuration (limits, session, detect, ...)\n"
          "      --db PATH            the store (default: store.path, ./var/warden.db)\n"
          "  -i, --input SRC          where events come from (see above)\n"
          "      --logs DIR           where incident logs are kept (default: beside the store)\n"
          "      --metrics-listen ADDR  serve /metrics, /healthz, /readyz on HOST:PORT (default:\n"
          "                           http.metrics_listen, 127.0.0.1:8000); off: not served\n"
          "      --api-listen ADDR    serve the API /api/v1/ on HOST:PORT (default:\n"
          "                           http.api_listen, 127.0.0.1:3000); off: not served\n"
          "      --ingest-cpu N       pin the event loop to CPU N and the metrics and API\n"
          "                           servers to the other CPUs, so that a flood of\n"
          "                           requests cannot take the events' CPU (default: none)\n"
          "  -h, --help               this help\n"
          "\n"
          "Log lines on stderr: time level component message key=value...\n"
          "Exit status: 0 stopped by a signal, 1 store or input failure, 2 usage or bad\n"
          "configuration at start. See docs/RUN.md.\n",
          out);
}

/* ---- logging -------------------------------------------------------------- */

static void run_log(const char *level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void run_log(const char *level, const char *fmt, ...)
{
    char ts[40];
    va_list ap;
    wd_time_format_utc(cli_wall_ns(), ts, sizeof ts);
    fprintf(stderr, "%s %s run ", ts, level);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* ---- the configuration and what depends on it ----------------------------- */

struct built {
    struct wd_config *cfg;
    struct wd_tz *tz;
    struct wd_engine *engine;
    struct wd_decoder *dec;
};

static void built_free(struct built *b)
{
    wd_decoder_free(b->dec);
    wd_engine_free(b->engine);
    wd_tz_free(b->tz);
    if (b->cfg != NULL) {
        wd_config_destroy(b->cfg);
        free(b->cfg);
    }
    memset(b, 0, sizeof *b);
}

/* Loads the configuration at path (NULL: defaults) and makes a zone, an
 * engine wired to r's outputs and a decoder over its name tables. */
static int build(struct run *r, const char *path, struct built *b)
{
    struct wd_error err = {0};
    int rc;
    memset(b, 0, sizeof *b);
    if ((b->cfg = calloc(1, sizeof *b->cfg)) == NULL) {
        return CLI_FAIL;
    }
    if ((rc = cli_config_load(b->cfg, path)) != CLI_OK || (rc = cli_tz_load(b->cfg, &b->tz)) != CLI_OK) {
        return rc;
    }
    struct wd_engine_opts eo = {.cfg = b->cfg,
                                .tz = b->tz,
                                .hmac_verify = wd_hmac_sha256_verify,
                                .hmac_ctx = r->hmac};
    cli_outputs_wire(&r->out, &eo);
    if (wd_engine_new(&eo, &b->engine, &err) != WD_OK ||
        wd_decoder_new(wd_engine_symbols(b->engine), wd_engine_accounts(b->engine), &b->dec) !=
            WD_OK) {
        cli_errorf("%s", err.msg[0] ? err.msg : "out of memory");
        return CLI_USAGE;
    }
    return CLI_OK;
}

static void install(struct run *r, struct built *b)
{
    r->cfg = b->cfg;
    r->tz = b->tz;
    r->engine = b->engine;
    r->dec = b->dec;
    r->out.engine = b->engine;
    r->out.tz = b->tz;
    memset(b, 0, sizeof *b);
}

/* SIGHUP: a new engine under the new configuration, carrying over what the
 * events built (the book, open orders, quotes, kill-switch edges, PSR
 * windows: wd_engine_save / wd_engine_load) and every trading state. The
 * old one stays unless all of it worked. */
static void reload_locked(struct run *r)
{
    struct built nb, old;
    struct wd_wbuf w;
    struct wd_error err = {0};
    if (r->config_path == NULL) {
        run_log("WARN", "reload ignored: no --config file");
        return;
    }
    run_log("INFO", "reloading configuration config=%s", r->config_path);
    if (build(r, r->config_path, &nb) != CLI_OK) {
        built_free(&nb);
        run_log("ERROR", "configuration refused, the old one stays config=%s", r->config_path);
        return;
    }
    wd_wbuf_init(&w);
    wd_engine_save(r->engine, &w);
    if (w.st != WD_OK || wd_engine_load(nb.engine, w.data, w.len, &err) != WD_OK) {
        run_log("ERROR", "configuration refused, the old one stays config=%s reason=\"%s\"",
                r->config_path, w.st != WD_OK ? wd_status_str(w.st) : err.msg);
        wd_wbuf_free(&w);
        built_free(&nb);
        return;
    }
    wd_wbuf_free(&w);
    for (size_t i = 0; i < wd_engine_state_count(r->engine); i++) {
        if (wd_engine_set_state(nb.engine, wd_engine_state_at(r->engine, i), &err) != WD_OK) {
            run_log("ERROR", "configuration refused, the old one stays config=%s reason=\"%s\"",
                    r->config_path, err.msg);
            built_free(&nb);
            return;
        }
    }
    if (cli_record_limits(r->store, nb.cfg, r->who) != CLI_OK) {
        run_log("ERROR", "configuration refused: limits not recorded config=%s", r->config_path);
        built_free(&nb);
        return;
    }
    old = (struct built){.cfg = r->cfg, .tz = r->tz, .engine = r->engine, .dec = r->dec};
    pthread_mutex_lock(&r->read_mu);
    install(r, &nb);
    r->api.cfg = r->api_read.cfg = r->cfg;
    r->api.tz = r->api_read.tz = r->tz;
    pthread_mutex_unlock(&r->read_mu);
    built_free(&old);
    cli_notify_reload(&r->notify, r->store, r->cfg, r->tz);
    r->reloads++;
    run_log("INFO", "configuration reloaded config=%s kill_pnl=%.15g max_dd=%.15g "
            "heartbeat_timeout_s=%" PRId64 " states=%zu",
            r->config_path, r->cfg->limits.kill_pnl, r->cfg->limits.max_dd,
            (int64_t)r->cfg->detect.heartbeat_timeout_s, wd_engine_state_count(r->engine));
}

static void reload(struct run *r)
{
    pthread_mutex_lock(&r->mu);
    reload_locked(r);
    pthread_mutex_unlock(&r->mu);
}

/* ---- metrics ----------------------------------------------------------------- */

/* Renders the registry into mnext and swaps it in for the metrics server
 * when it changed and now (a tick, an API action) or METRICS_PUBLISH_NS
 * after the last time. mu held. */
static void metrics_publish(struct run *r, bool now)
{
    int64_t t = cli_wall_ns();
    if (!r->metrics_dirty || (!now && t - r->metrics_pub_ns < METRICS_PUBLISH_NS)) {
        return;
    }
    wd_render_buf_reset(&r->mnext);
    enum wd_status st = wd_metrics_render(r->serve.m, &r->mnext);
    if (st != WD_OK) {
        if (!r->metrics_failed) {
            r->metrics_failed = true;
            run_log("WARN", "metrics not rendered, the last text stays reason=\"%s\"",
                    wd_status_str(st));
        }
        return;
    }
    wd_http_lock(r->mhttp);
    struct wd_render_buf t_ = r->mtext;
    r->mtext = r->mnext;
    r->mnext = t_;
    wd_http_unlock(r->mhttp);
    r->metrics_dirty = false;
    r->metrics_pub_ns = t;
}

/* After a batch of events (tick false) or a tick / an API action (tick
 * true), with mu held: the registry, then its text when due. */
static void metrics_update(struct run *r, bool tick)
{
    if (r->mhttp == NULL) {
        return;
    }
    enum wd_status st = cli_serve_update(&r->serve, r->engine, r->store, r->events, r->malformed,
                                         r->out.accepted, r->out.rejected, r->out.incidents);
    if (st == WD_OK && tick) {
        st = cli_serve_tick(&r->serve, r->engine, r->store, cli_wall_ns());
    }
    r->metrics_dirty = true;
    if (st != WD_OK && !r->metrics_failed) {
        r->metrics_failed = true;
        run_log("WARN", "metrics not all updated reason=\"%s\"", wd_status_str(st));
    }
    metrics_publish(r, tick);
}

/* ---- events ---------------------------------------------------------------- */

/* Lines are processed in batches under one hold of mu (taken at a batch's
 * first line, given back after BATCH_LINES lines and when the input has no
 * more for now), the metrics updated once per batch. */
static void batch_end(struct run *r)
{
    if (!r->in_batch) {
        return;
    }
    if (r->batch_lines != 0) {
        metrics_update(r, false);
    }
    r->in_batch = false;
    pthread_mutex_unlock(&r->mu);
}

static enum wd_status on_line(void *ctx, const struct wd_line *line)
{
    struct run *r = ctx;
    struct wd_error err = {0};
    enum cli_line_result what;
    if (!r->in_batch) {
        pthread_mutex_lock(&r->mu);
        r->in_batch = true;
        r->batch_lines = 0;
    }
    if (r->serve.m != NULL && cli_serve_full(&r->serve)) {
        metrics_update(r, false);
    }
    enum wd_status st = cli_outputs_line(&r->out, r->dec, r->cur_name, line, &r->events,
                                         &r->malformed, &r->last_ts, &what, &err);
    if (what != CLI_LINE_BLANK) {
        r->batch_lines++;
    }
    if (r->batch_lines >= BATCH_LINES || st != WD_OK) {
        batch_end(r);
    }
    cli_notify_poke(&r->notify); /* what this line queued is committed */
    if (st != WD_OK) {
        run_log("ERROR", "event not processed, stopping input=%s line=%" PRIu64 " reason=\"%s\"",
                r->cur_name, line->no, err.msg);
        r->stop = true;
        r->rc = CLI_FAIL;
    }
    return st;
}

/* On-call (issue 8, docs/ONCALL.md): open incidents escalate down the
 * chain, each level recorded and paged once. A failure is logged and the
 * daemon goes on: escalation must not stop the event path. */
static void oncall_tick(struct run *r)
{
    char msg[640];
    uint32_t paged = 0;
    if (cli_oncall_tick(&r->oncall, r->store, r->cfg, r->tz, cli_wall_ns(), &paged, msg,
                        sizeof msg) != CLI_OK) {
        run_log("WARN", "escalation failed reason=\"%s\"", msg);
    } else if (paged > 0) {
        run_log("INFO", "escalation levels_paged=%u", paged);
    }
}

/* An incident the tick changed (wd_svc_incidents_tick): logged, and its
 * incident log rewritten. */
static void incident_ticked(void *ctx, const struct wd_incident *inc,
                            const struct wd_timeline_entry *e, size_t n)
{
    struct run *r = ctx;
    for (size_t i = 0; i < n; i++) {
        run_log("WARN", "incident %s id=%s severity=%s text=\"%s\"", wd_tl_kind_name(e[i].kind),
                inc->id, wd_severity_name(inc->severity), e[i].text);
    }
    cli_write_incident_log(r->store, r->tz, inc, r->out.logs, e[n - 1].ts_ns);
}

static void tick(struct run *r)
{
    struct wd_error err = {0};
    struct wd_svc_result res;
    int64_t now = cli_wall_ns();
    pthread_mutex_lock(&r->mu);
    cli_outputs_event_begin(&r->out);
    if (wd_engine_tick(r->engine, now, &err) != WD_OK || r->out.failed) {
        run_log("ERROR", "tick failed, stopping reason=\"%s\"",
                r->out.failed ? r->out.err.msg : err.msg);
        r->stop = true;
        r->rc = CLI_FAIL;
    }
    /* The incidents' deadlines and escalations (SPEC section 6). A store
     * failure here is logged and tried again at the next tick. */
    if (wd_svc_incidents_tick(r->store, now, incident_ticked, r, &res) != WD_SVC_OK) {
        run_log("ERROR", "incident deadlines not recorded reason=\"%s\"", res.msg);
    }
    if (!r->stop) {
        oncall_tick(r); /* after the deadlines: the chain's levels and pages */
    }
    (void)cli_notify_alerts(&r->notify, &r->out, r->events, now); /* the sender's, written here */
    r->ticks++;
    if (r->kafka != NULL && r->serve.m != NULL) {
        cli_kafka_run_metrics(r->kafka, r->serve.m); /* lag per partition, the merge */
    }
    if (r->kafka != NULL) {
        cli_serve_lag_take(&r->lag, r->kafka, now); /* for GET kafka/lag */
    }
    metrics_update(r, true);
    pthread_mutex_unlock(&r->mu);
    cli_notify_poke(&r->notify); /* and what the API changed */
    if (r->ticks == 1 && r->mhttp != NULL) {
        wd_http_set_ready(r->mhttp, true); /* the store is open, a tick has run */
    }
}

/* Reads a slice of fd through lb; *eof when it ended. false on failure. */
static bool read_input(struct run *r, int fd, struct wd_linebuf *lb, const char *name, bool *eof)
{
    struct wd_error err = {0};
    r->cur_name = name;
    enum wd_status st = wd_linebuf_read(lb, fd, READ_SLICE, on_line, r, eof, &err);
    batch_end(r);
    if (st == WD_EIO) {
        run_log("ERROR", "input failed input=%s reason=\"%s\"", name, err.msg);
        *eof = true;
    }
    return st == WD_OK || st == WD_EIO;
}

static void end_input(struct run *r, int fd, struct wd_linebuf *lb, const char *name)
{
    r->cur_name = name;
    enum wd_status st = r->stop ? WD_OK : wd_linebuf_finish(lb, on_line, r);
    batch_end(r);
    if (st != WD_OK) {
        return;
    }
    if (fd >= 0) {
        (void)epoll_ctl(r->ep, EPOLL_CTL_DEL, fd, NULL);
    }
}

/* ---- stdin ------------------------------------------------------------------ */

static void stdin_turn(struct run *r)
{
    bool eof = false;
    if (r->in_ended || !read_input(r, r->in_fd, &r->lb, "stdin", &eof) || !eof) {
        return;
    }
    end_input(r, r->in_polled ? -1 : r->in_fd, &r->lb, "stdin");
    r->in_ended = true;
    run_log("INFO", "input ended, still running input=stdin lines=%" PRIu64, r->lb.no);
}

/* ---- a followed file ---------------------------------------------------------- */

static void file_open(struct run *r)
{
    struct stat st;
    int fd = open(r->input, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) != 0) {
        if (!r->in_waiting) {
            run_log("WARN", "waiting for the input file input=%s reason=\"%s\"", r->input,
                    strerror(errno));
        }
        if (fd >= 0) {
            close(fd);
        }
        r->in_waiting = true;
        return;
    }
    r->in_fd = fd;
    r->dev = st.st_dev;
    r->ino = st.st_ino;
    r->in_waiting = false;
    wd_linebuf_reset(&r->lb);
    run_log("INFO", "following input=%s size=%lld", r->input, (long long)st.st_size);
}

/* Reads what was appended; once caught up, looks whether the file was
 * replaced (another inode at the path: read the old one to its end, then
 * the new one from its start) or truncated (read again from the start). */
static void file_turn(struct run *r, bool *more)
{
    struct stat st;
    bool eof = false;
    *more = false;
    if (r->in_fd < 0) {
        file_open(r);
        if (r->in_fd < 0) {
            return;
        }
    }
    if (!read_input(r, r->in_fd, &r->lb, r->input, &eof) || r->stop) {
        return;
    }
    if (!eof) {
        *more = true;
        return;
    }
    if (stat(r->input, &st) != 0) {
        return; /* moved away and not yet recreated: keep the old one */
    }
    if (st.st_dev != r->dev || st.st_ino != r->ino) {
        end_input(r, -1, &r->lb, r->input);
        close(r->in_fd);
        r->in_fd = -1;
        run_log("INFO", "input file replaced, reading the new one from its start input=%s",
                r->input);
        file_open(r);
        *more = r->in_fd >= 0;
    } else if ((uint64_t)st.st_size < r->lb.bytes) {
        run_log("INFO", "input file truncated, reading from its start input=%s size=%lld",
                r->input, (long long)st.st_size);
        if (lseek(r->in_fd, 0, SEEK_SET) != 0) {
            run_log("ERROR", "cannot seek input=%s reason=\"%s\"", r->input, strerror(errno));
        }
        wd_linebuf_reset(&r->lb);
        *more = true;
    }
}

/* ---- a unix socket -------------------------------------------------------------- */

static int listen_unix(struct run *r)
{
    struct sockaddr_un sa;
    struct stat st;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    if (strlen(r->sock_path) >= sizeof sa.sun_path) {
        cli_errorf("--input unix:%s: path too long", r->sock_path);
        return CLI_USAGE;
    }
    memcpy(sa.sun_path, r->sock_path, strlen(r->sock_path) + 1);
    if (lstat(r->sock_path, &st) == 0 && S_ISSOCK(st.st_mode)) {
        (void)unlink(r->sock_path); /* a stale socket of an earlier run */
    }
    r->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (r->listen_fd < 0 || bind(r->listen_fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
        listen(r->listen_fd, 16) != 0) {
        cli_errorf("--input unix:%s: %s", r->sock_path, strerror(errno));
        return CLI_FAIL;
    }
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = TAG_LISTEN};
    if (epoll_ctl(r->ep, EPOLL_CTL_ADD, r->listen_fd, &ev) != 0) {
        cli_errorf("epoll: %s", strerror(errno));
        return CLI_FAIL;
    }
    return CLI_OK;
}

static void accept_conns(struct run *r)
{
    for (;;) {
        int fd = accept(r->listen_fd, NULL, NULL);
        if (fd < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
                run_log("WARN", "accept failed reason=\"%s\"", strerror(errno));
            }
            return;
        }
        size_t i = 0;
        while (i < MAX_CONNS && r->conns[i].fd >= 0) {
            i++;
        }
        struct conn *c = &r->conns[i < MAX_CONNS ? i : 0];
        struct epoll_event ev = {.events = EPOLLIN, .data.u64 = TAG_CONN + i};
        if (i == MAX_CONNS || fcntl(fd, F_SETFL, O_NONBLOCK) != 0 ||
            wd_linebuf_init(&c->lb, 2u * WD_DECODE_MAX_LINE) != WD_OK) {
            run_log("WARN", "producer refused: too many or out of memory max=%d", MAX_CONNS);
            close(fd);
            continue;
        }
        if (epoll_ctl(r->ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
            wd_linebuf_destroy(&c->lb);
            close(fd);
            continue;
        }
        c->fd = fd;
        snprintf(c->name, sizeof c->name, "unix:%s#%zu", r->sock_path, i);
        run_log("INFO", "producer connected input=%s", c->name);
    }
}

static void conn_close(struct run *r, struct conn *c)
{
    (void)epoll_ctl(r->ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    c->fd = -1;
    wd_linebuf_destroy(&c->lb);
}

static void conn_turn(struct run *r, struct conn *c)
{
    bool eof = false;
    if (!read_input(r, c->fd, &c->lb, c->name, &eof) || !eof) {
        return;
    }
    end_input(r, -1, &c->lb, c->name);
    run_log("INFO", "producer disconnected input=%s lines=%" PRIu64, c->name, c->lb.no);
    conn_close(r, c);
}

/* ---- kafka (src/cli/kafka_run.c) ------------------------------------------------ */

static struct wd_engine *kafka_engine(void *ctx) { return ((struct run *)ctx)->engine; }
/* A checkpoint takes mu itself: the batch of lines holding it ends first. */
static void kafka_lock(void *ctx)
{
    struct run *r = ctx;
    batch_end(r);
    pthread_mutex_lock(&r->mu);
}
static void kafka_unlock(void *ctx) { pthread_mutex_unlock(&((struct run *)ctx)->mu); }

static enum wd_status kafka_line(void *ctx, const char *name, const struct wd_line *line)
{
    struct run *r = ctx;
    r->cur_name = name;
    return on_line(r, line);
}

static int kafka_states(void *ctx)
{
    struct run *r = ctx;
    return cli_load_states(r->store, r->engine);
}

static int kafka_start(struct run *r)
{
    struct cli_kafka_env env = {.store = r->store, .out = &r->out, .engine = kafka_engine,
                                .line = kafka_line, .lock = kafka_lock, .unlock = kafka_unlock,
                                .load_states = kafka_states, .events = &r->events,
                                .last_ts = &r->last_ts, .ctx = r};
    int rc = cli_kafka_run_new(r->cfg, &env, &r->kafka);
    if (rc != CLI_OK) {
        return rc;
    }
    if ((r->lag.rows = calloc(CLI_KAFKA_LAG_MAX, sizeof *r->lag.rows)) == NULL) {
        cli_errorf("out of memory");
        return CLI_FAIL;
    }
    snprintf(r->lag.group, sizeof r->lag.group, "%s", r->cfg->kafka.group);
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = TAG_KAFKA};
    if (epoll_ctl(r->ep, EPOLL_CTL_ADD, cli_kafka_run_fd(r->kafka), &ev) != 0) {
        cli_errorf("epoll: %s", strerror(errno));
        return CLI_FAIL;
    }
    run_log("INFO", "consuming kafka brokers=%s group=%s", r->cfg->kafka.brokers,
            r->cfg->kafka.group);
    return CLI_OK;
}

static void kafka_turn(struct run *r)
{
    bool ok = r->kafka == NULL || cli_kafka_run_turn(r->kafka, cli_wall_ns());
    batch_end(r);
    uint64_t msgs;
    size_t parts;
    if (ok && r->kafka != NULL && cli_kafka_run_caught_up(r->kafka, &msgs, &parts)) {
        run_log("INFO", "kafka caught up partitions=%zu messages=%" PRIu64 " events=%" PRIu64,
                parts, msgs, r->events);
    }
    if (!ok) {
        r->stop = true;
        r->rc = CLI_FAIL;
    }
}

static void kafka_tick(struct run *r)
{
    if (r->kafka != NULL) {
        (void)cli_kafka_run_tick(r->kafka, cli_wall_ns());
        batch_end(r);
    }
}

/* ---- the loop ------------------------------------------------------------------ */

static void on_signal(struct run *r)
{
    struct signalfd_siginfo si;
    while (read(r->sfd, &si, sizeof si) == (ssize_t)sizeof si) {
        if (si.ssi_signo == SIGHUP) {
            reload(r);
        } else {
            run_log("INFO", "stopping signal=%s", si.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM");
            r->stop = true;
        }
    }
}

static void loop(struct run *r)
{
    struct epoll_event evs[16];
    bool more = false;
    while (!r->stop) {
        int timeout = more ? 0 : (r->kind == IN_FILE || r->in_polled) && !r->in_ended
                                     ? FOLLOW_POLL_MS : -1;
        if (r->kafka != NULL) {
            timeout = cli_kafka_run_timeout_ms(r->kafka, cli_wall_ns());
        }
        int n = epoll_wait(r->ep, evs, 16, timeout);
        if (n < 0 && errno != EINTR) {
            run_log("ERROR", "epoll failed reason=\"%s\"", strerror(errno));
            r->rc = CLI_FAIL;
            return;
        }
        /* Signals first: SIGTERM stops reading at once. */
        for (int i = 0; i < n; i++) {
            if (evs[i].data.u64 == TAG_SIGNAL) {
                on_signal(r);
            }
        }
        for (int i = 0; i < n && !r->stop; i++) {
            uint64_t tag = evs[i].data.u64;
            if (tag == TAG_TIMER) {
                uint64_t expired;
                if (read(r->tfd, &expired, sizeof expired) == (ssize_t)sizeof expired) {
                    kafka_tick(r);
                    tick(r);
                }
            } else if (tag == TAG_STDIN) {
                stdin_turn(r);
            } else if (tag == TAG_LISTEN) {
                accept_conns(r);
            } else if (tag == TAG_KAFKA) {
                kafka_turn(r);
            } else if (tag >= TAG_CONN && tag < TAG_CONN + MAX_CONNS &&
                       r->conns[tag - TAG_CONN].fd >= 0) {
                conn_turn(r, &r->conns[tag - TAG_CONN]);
            }
        }
        more = false;
        if (!r->stop && r->kind == IN_KAFKA) {
            kafka_turn(r); /* held events whose wait is over */
        }
        if (!r->stop && r->kind == IN_FILE) {
            file_turn(r, &more);
        } else if (!r->stop && r->in_polled && !r->in_ended) {
            stdin_turn(r);
            more = !r->in_ended;
        }
        if (fflush(stdout) != 0) {
            run_log("ERROR", "cannot write output, stopping");
            r->rc = CLI_FAIL;
            return;
        }
    }
}

static int setup_loop(struct run *r)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    signal(SIGPIPE, SIG_IGN);
    struct itimerspec its = {.it_interval = {.tv_sec = 1}, .it_value = {.tv_sec = 1}};
    struct epoll_event sev = {.events = EPOLLIN, .data.u64 = TAG_SIGNAL};
    struct epoll_event tev = {.events = EPOLLIN, .data.u64 = TAG_TIMER};
    if (sigprocmask(SIG_BLOCK, &set, NULL) != 0 || (r->ep = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
        (r->sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) < 0 ||
        (r->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC)) < 0 ||
        timerfd_settime(r->tfd, 0, &its, NULL) != 0 ||
        epoll_ctl(r->ep, EPOLL_CTL_ADD, r->sfd, &sev) != 0 ||
        epoll_ctl(r->ep, EPOLL_CTL_ADD, r->tfd, &tev) != 0) {
        cli_errorf("event loop: %s", strerror(errno));
        return CLI_FAIL;
    }
    if (r->kind == IN_UNIX) {
        return listen_unix(r);
    }
    if (r->kind == IN_KAFKA) {
        return kafka_start(r);
    }
    if (wd_linebuf_init(&r->lb, 2u * WD_DECODE_MAX_LINE) != WD_OK) {
        cli_errorf("out of memory");
        return CLI_FAIL;
    }
    if (r->kind == IN_STDIN) {
        struct epoll_event iev = {.events = EPOLLIN, .data.u64 = TAG_STDIN};
        r->in_fd = STDIN_FILENO;
        if (epoll_ctl(r->ep, EPOLL_CTL_ADD, r->in_fd, &iev) != 0) {
            if (errno != EPERM) {
                cli_errorf("stdin: %s", strerror(errno));
                return CLI_FAIL;
            }
            r->in_polled = true; /* a regular file (a here-doc, `< FILE`) */
        } else {
            (void)fcntl(r->in_fd, F_SETFL, fcntl(r->in_fd, F_GETFL) | O_NONBLOCK);
            /* A pipe of 1 MiB rather than 64 KiB: a producer's burst is taken
             * in one turn, not in sixteen wake-ups (best effort: the limit is
             * /proc/sys/fs/pipe-max-size). */
            (void)fcntl(r->in_fd, F_SETPIPE_SZ, PIPE_BUF_WANTED);
        }
    }
    return CLI_OK;
}

static int parse_opts(int argc, char **argv, struct run *r)
{
    enum { OPT_DB = 256, OPT_LOGS, OPT_METRICS, OPT_API, OPT_CPU };
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'}, {"db", required_argument, NULL, OPT_DB},
        {"input", required_argument, NULL, 'i'},  {"logs", required_argument, NULL, OPT_LOGS},
        {"metrics-listen", required_argument, NULL, OPT_METRICS},
        {"api-listen", required_argument, NULL, OPT_API},
        {"ingest-cpu", required_argument, NULL, OPT_CPU},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0}};
    int c;
    uint32_t cpu;
    optind = 1;
    r->ingest_cpu = -1;
    while ((c = getopt_long(argc, argv, "c:i:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'c': r->config_path = optarg; break;
        case 'i': r->input = optarg; break;
        case OPT_DB: r->db = optarg; break;
        case OPT_LOGS: r->logs = optarg; break;
        case OPT_METRICS: r->metrics_listen = optarg; break;
        case OPT_API: r->api_listen = optarg; break;
        case OPT_CPU:
            if (!cli_parse_u32(optarg, &cpu) || cpu >= CPU_SETSIZE) {
                cli_errorf("run: --ingest-cpu '%s': not a CPU number", optarg);
                return CLI_USAGE;
            }
            r->ingest_cpu = (int)cpu;
            break;
        case 'h': usage(stdout); return -1;
        default: usage(stderr); return CLI_USAGE;
        }
    }
    if (optind < argc) {
        cli_errorf("run: unexpected argument '%s' (the input is --input)", argv[optind]);
        return CLI_USAGE;
    }
    r->input_given = r->input != NULL;
    if (r->input != NULL && strcmp(r->input, "kafka") == 0) {
        r->kind = IN_KAFKA;
    } else if (r->input == NULL || strcmp(r->input, "-") == 0) {
        r->input = "-";
        r->kind = IN_STDIN;
    } else if (strncmp(r->input, "unix:", 5) == 0 && r->input[5] != '\0') {
        r->kind = IN_UNIX;
        r->sock_path = r->input + 5;
    } else {
        r->kind = IN_FILE;
    }
    return CLI_OK;
}

/* ---- serving ------------------------------------------------------------------- */

/* A scrape, on the metrics server's thread with its lock held: the last
 * text the loop published. */
static enum wd_status render_metrics(void *ctx, struct wd_render_buf *out)
{
    struct run *r = ctx;
    enum wd_status st =
        wd_render_buf_put(out, r->mtext.data != NULL ? r->mtext.data : "", r->mtext.len);
    return st == WD_OK ? cli_notify_metrics(&r->notify, out) : st; /* atomics: no lock */
}

static int live(void *ctx, const char *what, FILE *out)
{
    struct run *r = ctx; /* called from api_handle, mu held */
    if (strcmp(what, "kafka/lag") == 0) {
        return cli_serve_kafka_lag(&r->lag, r->cfg->detect.consumer_lag.open,
                                   r->cfg->detect.consumer_lag.close, out);
    }
    return cli_serve_live(r->engine, what, out);
}

/* The API's requests, on libmicrohttpd's thread: reads of the store on
 * rstore under read_mu; actions and live figures under mu, as the loop's
 * events are. An action that succeeded may have changed a trading state in
 * the store: the engine takes the stored states again, so that its gate
 * follows a halt or a resume from the next event. */
static void api_handle(void *ctx, const struct wd_http_request *q, struct wd_http_reply *p)
{
    struct run *r = ctx;
    struct wd_api_response resp;
    if (wd_dashboard_match(q->method, q->path)) {
        /* The page is static and public: no lock, no token (its script
         * sends the token with each API call). */
        size_t n;
        const char *page = wd_dashboard_page(&n);
        p->body = malloc(n);
        p->status = p->body != NULL ? 200 : 500;
        p->content_type = WD_DASHBOARD_CONTENT_TYPE;
        if (p->body != NULL) {
            memcpy(p->body, page, n);
            p->body_len = n;
        }
        return;
    }
    int status;
    if (r->rstore != NULL && wd_api_reads_store_only(q->method, q->path)) {
        pthread_mutex_lock(&r->read_mu);
        status = wd_api_handle(&r->api_read, q->method, q->path, q->authorization, q->body,
                               q->body_len, cli_wall_ns(), &resp);
        pthread_mutex_unlock(&r->read_mu);
    } else {
        char msg[320];
        pthread_mutex_lock(&r->mu);
        r->api.oncall_tz = cli_oncall_ticker_tz(&r->oncall, r->cfg, r->tz, msg, sizeof msg);
        status = wd_api_handle(&r->api, q->method, q->path, q->authorization, q->body,
                               q->body_len, cli_wall_ns(), &resp);
        bool acted = strcmp(q->method, "POST") == 0 && status >= 200 && status < 300;
        if (acted) {
            if (cli_load_states(r->store, r->engine) != CLI_OK) {
                run_log("ERROR", "trading states not reloaded after an API action path=%s",
                        q->path);
            }
            metrics_update(r, true);
        }
        pthread_mutex_unlock(&r->mu);
        if (acted) {
            /* What it queued (a status update, a page) is committed: send
             * it now rather than at the next tick. */
            wd_sender_wake(r->notify.sender);
        }
    }
    p->status = status;
    p->content_type = "application/json";
    p->www_authenticate = resp.www_authenticate;
    p->body = resp.body;
    p->body_len = resp.body_len;
}

/* Starts one server on listen ("off": none), logging where. */
static int serve_start(const char *what, const char *listen,
                       struct wd_http_config *hc, struct wd_http **out)
{
    struct wd_error err = {0};
    if (strcmp(listen, "off") == 0) {
        return CLI_OK;
    }
    hc->listen = listen;
    enum wd_status st = wd_http_new(hc, out, &err);
    if (st != WD_OK) {
        cli_errorf("%s: %s", what, err.msg);
        return st == WD_EINVAL ? CLI_USAGE : CLI_FAIL;
    }
    return CLI_OK;
}

/* Where a server listens, its port the bound one ("off" when not served). */
static const char *where(const struct wd_http *s, const char *listen, char *buf, size_t cap)
{
    if (s == NULL) {
        return "off";
    }
    snprintf(buf, cap, "%.*s:%u", (int)(strrchr(listen, ':') - listen), listen,
             (unsigned)wd_http_port(s));
    return buf;
}

/* --ingest-cpu N: before the servers start (their threads inherit the
 * calling thread's CPUs), this thread on every allowed CPU but N
 * (loop false); once they run, this thread (the loop) on N alone. */
static int pin(struct run *r, bool loop)
{
    cpu_set_t set;
    size_t cpu = (size_t)r->ingest_cpu;
    if (r->ingest_cpu < 0) {
        return CLI_OK;
    }
    if (loop) {
        CPU_ZERO(&set);
        CPU_SET(cpu, &set);
    } else if (sched_getaffinity(0, sizeof set, &set) != 0 || !CPU_ISSET(cpu, &set)) {
        cli_errorf("run: --ingest-cpu %d: not a CPU this process may run on (%d allowed)",
                   r->ingest_cpu, CPU_COUNT(&set));
        return CLI_USAGE;
    } else if (CPU_COUNT(&set) > 1) {
        CPU_CLR(cpu, &set);
    }
    int e = pthread_setaffinity_np(pthread_self(), sizeof set, &set);
    if (e != 0) {
        cli_errorf("run: --ingest-cpu %d: %s", r->ingest_cpu, strerror(e));
        return CLI_FAIL;
    }
    return CLI_OK;
}

static int serve(struct run *r)
{
    int rc;
    if ((rc = pin(r, false)) != CLI_OK) {
        return rc;
    }
    const char *ml = r->metrics_listen, *al = r->api_listen;
    if (strcmp(ml, "off") != 0) {
        if (cli_serve_init(&r->serve) != WD_OK) {
            cli_errorf("out of memory");
            return CLI_FAIL;
        }
        r->out.on_event = cli_serve_event;
        r->out.on_event_ctx = &r->serve;
        wd_render_buf_init(&r->mtext, WD_HTTP_RESPONSE_MAX_DEFAULT);
        wd_render_buf_init(&r->mnext, WD_HTTP_RESPONSE_MAX_DEFAULT);
    }
    struct wd_http_config mc = {.render = render_metrics, .ctx = r};
    if ((rc = serve_start("metrics", ml, &mc, &r->mhttp)) != CLI_OK) {
        return rc;
    }
    if (r->mhttp != NULL) {
        pthread_mutex_lock(&r->mu);
        metrics_update(r, true);
        pthread_mutex_unlock(&r->mu);
    }
    r->api = (struct wd_api){
        .store = r->store, .cfg = r->cfg, .tz = r->tz, .live = live, .live_ctx = r};
    if (strcmp(al, "off") != 0 && r->store_path[0] != '\0' &&
        strcmp(r->store_path, ":memory:") != 0) {
        int rc2 = cli_open_store(r->cfg, r->store_path, &r->rstore);
        if (rc2 != CLI_OK) {
            return rc2;
        }
        r->api_read = r->api;
        r->api_read.store = r->rstore;
    }
    struct wd_http_config ac = {.handler = api_handle, .ctx = r, .max_body = WD_API_BODY_MAX};
    if ((rc = serve_start("api", al, &ac, &r->ahttp)) != CLI_OK) {
        return rc;
    }
    return pin(r, true);
}

int cmd_run(int argc, char **argv)
{
    struct run r;
    struct built b;
    int rc;
    static char outbuf[1 << 16];

    memset(&r, 0, sizeof r);
    memset(&b, 0, sizeof b);
    pthread_mutex_init(&r.mu, NULL);
    pthread_mutex_init(&r.read_mu, NULL);
    r.ep = r.sfd = r.tfd = r.in_fd = r.listen_fd = -1;
    for (size_t i = 0; i < MAX_CONNS; i++) {
        r.conns[i].fd = -1;
    }
    if ((rc = parse_opts(argc, argv, &r)) != CLI_OK) {
        return rc < 0 ? CLI_OK : rc;
    }
    setvbuf(stdout, outbuf, _IOFBF, sizeof outbuf);
    const char *user = getenv("USER");
    snprintf(r.who, sizeof r.who, "%s", user != NULL && user[0] != '\0' ? user : "warden");
    if ((r.hmac = wd_hmac_cache_new()) == NULL) {
        cli_errorf("out of memory");
        rc = CLI_FAIL;
        goto out;
    }
    /* The outputs first (the engine is wired to them), the store once the
     * configuration says where it is. */
    cli_outputs_init(&r.out, stdout, NULL, NULL, "", NULL);
    if ((rc = build(&r, r.config_path, &b)) != CLI_OK) {
        goto out;
    }
    install(&r, &b);
    if (!r.input_given && r.cfg->has_kafka) {
        r.kind = IN_KAFKA;
        r.input = "kafka";
    }
    snprintf(r.store_path, sizeof r.store_path, "%s", r.db != NULL ? r.db : r.cfg->store.path);
    if ((rc = cli_open_store(r.cfg, r.db, &r.store)) != CLI_OK ||
        (rc = cli_record_limits(r.store, r.cfg, r.who)) != CLI_OK ||
        (rc = cli_load_states(r.store, r.engine)) != CLI_OK) {
        goto out;
    }
    r.out.store = r.store;
    cli_notify_attach(&r.notify, r.store, r.cfg, r.tz);
    if ((rc = cli_notify_start(&r.notify, r.cfg, r.tz, r.db)) != CLI_OK) {
        goto out;
    }
    if (r.metrics_listen == NULL) {
        r.metrics_listen = r.cfg->http.metrics_listen != NULL ? r.cfg->http.metrics_listen
                                                               : WD_HTTP_LISTEN_DEFAULT;
    }
    if (r.api_listen == NULL) {
        r.api_listen = r.cfg->http.api_listen != NULL ? r.cfg->http.api_listen
                                                       : "127.0.0.1:3000";
    }
    r.out.logs = cli_logs_dir(r.cfg, r.db, r.logs, r.logs_buf, sizeof r.logs_buf);
    if ((rc = setup_loop(&r)) != CLI_OK || (rc = serve(&r)) != CLI_OK) {
        goto out;
    }
    char mbuf[300], abuf[300];
    run_log("INFO", "started config=%s store=%s input=%s pid=%ld metrics=%s api=%s",
            r.config_path != NULL ? r.config_path : "(defaults)",
            r.store_path, r.input, (long)getpid(),
            where(r.mhttp, r.metrics_listen, mbuf, sizeof mbuf),
            where(r.ahttp, r.api_listen, abuf, sizeof abuf));
    loop(&r);
    rc = r.rc;
    run_log("INFO", "stopped events=%" PRIu64 " malformed=%" PRIu64 " decisions=%" PRIu64
            " controls=%" PRIu64 " incidents=%" PRIu64 " alerts=%" PRIu64
            " state_changes=%" PRIu64 " ticks=%" PRIu64 " reloads=%" PRIu64,
            r.events, r.malformed, r.out.accepted + r.out.rejected, r.out.controls,
            r.out.incidents, r.out.alerts, r.out.states, r.ticks, r.reloads);
out:
    /* Kafka first: its last checkpoint reads the engine and the store. */
    cli_kafka_run_free(r.kafka);
    r.kafka = NULL;
    /* The servers first: no request may touch what is freed below. */
    wd_http_free(r.ahttp);
    wd_http_free(r.mhttp);
    free(r.lag.rows);
    cli_notify_stop(&r.notify, r.store);
    if (r.serve.m != NULL) {
        cli_serve_destroy(&r.serve);
        wd_render_buf_destroy(&r.mtext);
        wd_render_buf_destroy(&r.mnext);
    }
    if (fflush(stdout) != 0 && rc == CLI_OK) {
        cli_errorf("cannot write output");
        rc = CLI_FAIL;
    }
    for (size_t i = 0; i < MAX_CONNS; i++) {
        if (r.conns[i].fd >= 0) {
            conn_close(&r, &r.conns[i]);
        }
    }
    if (r.listen_fd >= 0) {
        close(r.listen_fd);
        (void)unlink(r.sock_path);
    }
    if (r.kind == IN_FILE && r.in_fd >= 0) {
        close(r.in_fd);
    }
    wd_linebuf_destroy(&r.lb);
    if (r.ep >= 0) {
        close(r.ep);
    }
    if (r.sfd >= 0) {
        close(r.sfd);
    }
    if (r.tfd >= 0) {
        close(r.tfd);
    }
    built_free(&b);
    b = (struct built){.cfg = r.cfg, .tz = r.tz, .engine = r.engine, .dec = r.dec};
    built_free(&b);
    wd_hmac_cache_free(r.hmac);
    cli_oncall_ticker_destroy(&r.oncall);
    wd_store_close(r.rstore);
    wd_store_close(r.store);
    pthread_mutex_destroy(&r.read_mu);
    pthread_mutex_destroy(&r.mu);
    return rc;
}
