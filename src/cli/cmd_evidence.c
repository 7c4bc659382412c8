/*
 * `warden evidence ID` (issue 5 point 8): the playbook's "preserve
 * evidence" as one deterministic .tar.gz per incident, under ID/:
 *   record.json, timeline.jsonl   the record (canonical) and its timeline
 *   report.md, incident.log       the Step 5 report and the Appendix log
 *   events.jsonl                  the input lines around the incident
 *   audit.txt, audit_chain.jsonl  the chain's verification and its entries
 *                                 for this incident, with the head entry
 *   config.yaml, VERSION          the configuration in force, the versions
 *   MANIFEST.sha256               sha256sum of every other file
 * It reads the store and writes only the archive: nothing in the store
 * changes. The documents are rendered as of the record's last change (not
 * the wall clock) so that an unchanged record gives the same bytes.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bus/hmac.h"
#include "bus/jsonl.h"
#include "bus/tar.h"
#include "cli/cli.h"
#include "cli/cmds.h"
#include "cli/jsonout.h"
#include "store/store.h"
#include "warden/incident.h"
#include "warden/render.h"
#include "warden/timeutil.h"

#ifndef WARDEN_VERSION
#define WARDEN_VERSION "dev"
#endif

static const char usage_text[] =
    "Usage: warden evidence ID [--events FILE] [--window DURATION] [--out PATH]\n"
    "                          [--config FILE] [--db PATH]\n"
    "\n"
    "Writes the incident's evidence as a .tar.gz (default evidence/ID.tar.gz):\n"
    "the record and timeline, the incident report and log, the events around\n"
    "it, the audit chain's verification and excerpt, the configuration in\n"
    "force, warden's version, and MANIFEST.sha256 (check with sha256sum -c).\n"
    "\n"
    "  --events FILE      event file: the lines whose ts lies from the opening\n"
    "                     minus the window to the resolution (else the last\n"
    "                     event) plus the window are kept, verbatim\n"
    "  --window DURATION  e.g. 90s, 15m, 2h, 1h30m, 1d (default 15m)\n"
    "  --out PATH         the archive to write (replaced if it exists)\n"
    "  --config FILE      the configuration in force (copied as is)\n"
    "  --db PATH          the store (default: the configured one)\n"
    "Exit status: 0 written, 1 no such incident or a write/read failure, 2 usage.\n";

#define WINDOW_MAX_NS (30LL * 86400 * 1000000000LL)
#define EV_FILES 10

struct ev_cmd {
    const char *id, *events, *window, *out, *config, *db;
    int64_t window_ns;
    struct wd_config cfg;
    struct wd_tz *tz;
    struct wd_store *store;
};

/* One file of the archive: data from malloc (or open_memstream). */
struct ev_file {
    char name[WD_INCIDENT_ID_MAX + 24];
    char *data;
    size_t len;
};

struct ev_archive {
    struct ev_file f[EV_FILES];
    size_t n;
};

/* Parses NUMBER UNIT [NUMBER UNIT ...] with units s, m, h, d, into ns;
 * at most 30 days. */
static int parse_window(const char *s, int64_t *ns)
{
    int64_t total = 0;
    const char *p = s;
    if (*p == '\0') {
        goto bad;
    }
    while (*p != '\0') {
        int64_t v = 0, unit;
        if (*p < '0' || *p > '9') {
            goto bad;
        }
        while (*p >= '0' && *p <= '9') {
            v = v * 10 + (*p++ - '0');
            if (v > 30LL * 86400) {
                goto bad;
            }
        }
        switch (*p++) {
        case 's': unit = 1; break;
        case 'm': unit = 60; break;
        case 'h': unit = 3600; break;
        case 'd': unit = 86400; break;
        default: goto bad;
        }
        total += v * unit * 1000000000LL;
        if (total > WINDOW_MAX_NS) {
            goto bad;
        }
    }
    *ns = total;
    return CLI_OK;
bad:
    cli_errorf("evidence: --window '%s': a duration such as 90s, 15m, 2h or 1h30m, at most 30d",
               s);
    return CLI_USAGE;
}

static int parse(struct ev_cmd *c, int argc, char **argv)
{
    enum { O_EVENTS = 256, O_WINDOW, O_OUT, O_DB };
    static const struct option longopts[] = {
        {"events", required_argument, NULL, O_EVENTS}, {"window", required_argument, NULL, O_WINDOW},
        {"out", required_argument, NULL, O_OUT},       {"config", required_argument, NULL, 'c'},
        {"db", required_argument, NULL, O_DB},         {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
        switch (ch) {
        case O_EVENTS: c->events = optarg; break;
        case O_WINDOW: c->window = optarg; break;
        case O_OUT: c->out = optarg; break;
        case 'c': c->config = optarg; break;
        case O_DB: c->db = optarg; break;
        case 'h': fputs(usage_text, stdout); return -1;
        default: fputs(usage_text, stderr); return CLI_USAGE;
        }
    }
    if (argc - optind != 1) {
        cli_errorf("evidence: one incident id expected (see 'warden evidence --help')");
        return CLI_USAGE;
    }
    c->id = argv[optind];
    c->window_ns = 15LL * 60 * 1000000000LL;
    if (c->window != NULL && parse_window(c->window, &c->window_ns) != CLI_OK) {
        return CLI_USAGE;
    }
    if (c->events != NULL && strcmp(c->events, "-") == 0) {
        cli_errorf("evidence: --events must be a file (it is read twice), not stdin");
        return CLI_USAGE;
    }
    return CLI_OK;
}

/* A new archive member written through a memory stream; NULL when out of
 * memory or full. */
static FILE *member(struct ev_archive *a, const char *id, const char *name)
{
    if (a->n == EV_FILES) {
        return NULL;
    }
    struct ev_file *f = &a->f[a->n];
    snprintf(f->name, sizeof f->name, "%s/%s", id, name);
    FILE *out = open_memstream(&f->data, &f->len);
    if (out != NULL) {
        a->n++;
    }
    return out;
}

/* Closes a member's stream; CLI_FAIL if a write to it failed. */
static int member_done(FILE *out)
{
    bool bad = out == NULL || ferror(out);
    if (out != NULL && fclose(out) != 0) {
        bad = true;
    }
    if (bad) {
        cli_errorf("evidence: out of memory");
        return CLI_FAIL;
    }
    return CLI_OK;
}

/* ---- events ------------------------------------------------------------------ */

/* The line's "ts" (integer ns or an RFC 3339 string), found by a light
 * scan for the first "ts" key: enough to place a line in time, including
 * a line the decoder would refuse for another reason. */
static bool line_ts(const char *p, size_t len, int64_t *ts)
{
    const char *end = p + len;
    for (const char *k = p; k + 4 <= end; k++) {
        if (memcmp(k, "\"ts\"", 4) != 0) {
            continue;
        }
        const char *v = k + 4;
        while (v < end && (*v == ' ' || *v == '\t')) {
            v++;
        }
        if (v == end || *v != ':') {
            continue;
        }
        v++;
        while (v < end && (*v == ' ' || *v == '\t')) {
            v++;
        }
        if (v < end && *v == '"') {
            const char *q = memchr(v + 1, '"', (size_t)(end - v - 1));
            return q != NULL && wd_time_parse_rfc3339(v + 1, (size_t)(q - v - 1), ts) == WD_OK;
        }
        bool neg = v < end && *v == '-';
        int64_t n = 0;
        const char *d = v + (neg ? 1 : 0), *d0 = d;
        for (; d < end && *d >= '0' && *d <= '9'; d++) {
            if (n > (INT64_MAX - 9) / 10) {
                return false;
            }
            n = n * 10 + (*d - '0');
        }
        if (d == d0 || (d < end && (*d == '.' || *d == 'e' || *d == 'E'))) {
            return false;
        }
        *ts = neg ? -n : n;
        return true;
    }
    return false;
}

struct ev_scan {
    bool keep_pass;      /* second pass: write the lines kept */
    int64_t lo, hi;      /* the window, inclusive */
    bool any_ts;         /* first pass: some line had a ts */
    int64_t last_ts;     /* first pass: the latest ts */
    bool prev_in;        /* the last line with a ts was in the window */
    FILE *out;
    uint64_t kept, kept_untimed, overlong;
};

static enum wd_status scan_line(void *ctx, const struct wd_line *line)
{
    struct ev_scan *s = ctx;
    int64_t ts;
    if (line->overlong) {
        s->overlong++;
        return WD_OK;
    }
    bool has = line_ts(line->ptr, line->len, &ts);
    if (!s->keep_pass) {
        if (has && (!s->any_ts || ts > s->last_ts)) {
            s->last_ts = ts;
        }
        s->any_ts = s->any_ts || has;
        return WD_OK;
    }
    /* A line without a readable ts is kept when it sits among kept lines
     * (the last line with a ts before it was in the window). */
    bool keep = has ? ts >= s->lo && ts <= s->hi : s->prev_in;
    if (has) {
        s->prev_in = keep;
    }
    if (keep) {
        s->kept++;
        s->kept_untimed += has ? 0u : 1u;
        fwrite(line->ptr, 1, line->len, s->out);
        fputc('\n', s->out);
    }
    return WD_OK;
}

static int read_events(const char *path, struct ev_scan *s)
{
    struct wd_jsonl_reader r;
    struct wd_error err = {0};
    if (wd_jsonl_open(&r, path, 2u * WD_DECODE_MAX_LINE, &err) != WD_OK) {
        cli_errorf("evidence: %s", err.msg);
        return CLI_FAIL;
    }
    enum wd_status st = wd_jsonl_read_all(&r, scan_line, s, NULL, &err);
    wd_jsonl_close(&r);
    if (st != WD_OK) {
        cli_errorf("evidence: %s: %s", path, err.msg);
        return CLI_FAIL;
    }
    return CLI_OK;
}

/* events.jsonl: the lines of --events in [opened - window, end + window],
 * end the resolution, else the last event, else now. */
static int add_events(struct ev_cmd *c, const struct wd_incident *inc, struct ev_archive *a)
{
    struct ev_scan s = {0};
    FILE *out = member(a, inc->id, "events.jsonl");
    int rc = CLI_OK;
    if (out == NULL) {
        return member_done(out);
    }
    if (c->events != NULL && (rc = read_events(c->events, &s)) == CLI_OK) {
        int64_t end = inc->resolved_ns != 0 ? inc->resolved_ns
                      : s.any_ts            ? s.last_ts
                                            : cli_wall_ns();
        if (end < inc->opened_ns) {
            end = inc->opened_ns;
        }
        s.keep_pass = true;
        s.lo = inc->opened_ns - c->window_ns;
        s.hi = end + c->window_ns;
        s.out = out;
        rc = read_events(c->events, &s);
        char lo[40], hi[40];
        wd_time_format_utc(s.lo, lo, sizeof lo);
        wd_time_format_utc(s.hi, hi, sizeof hi);
        fprintf(stderr,
                "warden: events %s .. %s: %" PRIu64 " lines kept (%" PRIu64
                " without a readable ts)\n",
                lo, hi, s.kept, s.kept_untimed);
        if (s.overlong > 0) {
            cli_errorf("evidence: %" PRIu64 " lines longer than %u bytes were not kept",
                       s.overlong, 2u * WD_DECODE_MAX_LINE);
        }
    }
    int rc2 = member_done(out);
    return rc != CLI_OK ? rc : rc2;
}

/* ---- the record, documents, audit, configuration ------------------------------- */

static int add_record(const struct wd_incident *inc, const struct wd_timeline_entry *tl,
                      size_t n, struct ev_archive *a)
{
    static char buf[WD_INCIDENT_CANONICAL_MAX];
    FILE *out = member(a, inc->id, "record.json");
    if (out != NULL) {
        (void)wd_incident_canonical(inc, buf, sizeof buf);
        fprintf(out, "%s\n", buf);
    }
    if (member_done(out) != CLI_OK || (out = member(a, inc->id, "timeline.jsonl")) == NULL) {
        return member_done(NULL);
    }
    for (size_t i = 0; i < n; i++) {
        struct jw w;
        jw_init(&w, out);
        cli_json_timeline_entry(&w, &tl[i]);
        fputc('\n', out);
    }
    return member_done(out);
}

typedef enum wd_status (*render_fn)(const struct wd_incident *inc,
                                    const struct wd_timeline_entry *entries, size_t n,
                                    int64_t now_ns, const struct wd_tz *tz,
                                    struct wd_render_buf *out);

static int add_document(const struct ev_cmd *c, const struct wd_incident *inc,
                        const struct wd_timeline_entry *tl, size_t n, int64_t now,
                        render_fn fn, const char *name, struct ev_archive *a)
{
    struct wd_render_buf b;
    wd_render_buf_init(&b, 0);
    enum wd_status st = fn(inc, tl, n, now, c->tz, &b);
    if (st != WD_OK) {
        wd_render_buf_destroy(&b);
        cli_errorf("evidence: %s: cannot render it: %s", name, wd_status_str(st));
        return CLI_FAIL;
    }
    FILE *out = member(a, inc->id, name);
    if (out != NULL && b.len > 0) {
        fwrite(b.data, 1, b.len, out);
    }
    wd_render_buf_destroy(&b);
    return member_done(out);
}

static enum wd_status chain_line(void *ctx, const struct wd_chain_entry *e)
{
    FILE *out = ctx;
    fprintf(out, "{\"seq\":%" PRId64 ",\"ts_ns\":%" PRId64 ",\"who\":", e->seq, e->ts_ns);
    jw_write_escaped(out, e->who);
    fputs(",\"kind\":", out);
    jw_write_escaped(out, e->kind);
    fputs(",\"entity\":", out);
    jw_write_escaped(out, e->entity);
    /* The payload is the canonical JSON the hash covers: kept verbatim. */
    fprintf(out, ",\"payload\":%s,\"prev_hash\":", e->payload);
    jw_write_escaped(out, e->prev_hash);
    fputs(",\"hash\":", out);
    jw_write_escaped(out, e->hash);
    fputs("}\n", out);
    return WD_OK;
}

static int add_audit(struct ev_cmd *c, const struct wd_incident *inc, struct ev_archive *a)
{
    struct wd_audit_report rep;
    struct wd_error err = {0};
    if (wd_store_audit_verify(c->store, &rep, &err) != WD_OK) {
        cli_errorf("evidence: audit verify: %s", err.msg);
        return CLI_FAIL;
    }
    FILE *out = member(a, inc->id, "audit.txt");
    if (out != NULL) {
        fprintf(out, "audit chain: %s\n", rep.intact ? "intact" : "BROKEN");
        fprintf(out, "entries checked: %" PRIu64 "\n", rep.entries);
        fprintf(out, "rows compared: %" PRIu64 "\n", rep.rows);
        fprintf(out, "head hash: %s\n", rep.head_hash[0] ? rep.head_hash : "-");
        if (rep.bad_seq != 0) {
            fprintf(out, "first bad entry: %" PRIu64 "\n", rep.bad_seq);
        }
        if (rep.table[0] != '\0') {
            fprintf(out, "first bad row: %s %s\n", rep.table, rep.key);
        }
        fprintf(out, "%s\n", rep.msg);
    }
    if (member_done(out) != CLI_OK || (out = member(a, inc->id, "audit_chain.jsonl")) == NULL) {
        return member_done(NULL);
    }
    if (wd_store_chain_excerpt(c->store, inc->id, chain_line, out, &err) != WD_OK) {
        (void)member_done(out);
        cli_errorf("evidence: audit chain: %s", err.msg);
        return CLI_FAIL;
    }
    if (!rep.intact) {
        cli_errorf("evidence: the audit chain does not verify: %s", rep.msg);
    }
    return member_done(out);
}

/* config.yaml: the file given, byte for byte; VERSION. */
static int add_config(const struct ev_cmd *c, const char *id, struct ev_archive *a)
{
    FILE *out = member(a, id, "config.yaml");
    if (out != NULL && c->config == NULL) {
        fputs("# No --config was given: warden's embedded defaults were in force.\n", out);
    } else if (out != NULL) {
        FILE *in = fopen(c->config, "rb");
        char buf[8192];
        size_t k;
        if (in == NULL) {
            (void)member_done(out);
            cli_errorf("evidence: %s: cannot read it", c->config);
            return CLI_FAIL;
        }
        while ((k = fread(buf, 1, sizeof buf, in)) > 0) {
            fwrite(buf, 1, k, out);
        }
        bool bad = ferror(in) != 0;
        fclose(in);
        if (bad) {
            (void)member_done(out);
            cli_errorf("evidence: %s: cannot read it", c->config);
            return CLI_FAIL;
        }
    }
    if (member_done(out) != CLI_OK || (out = member(a, id, "VERSION")) == NULL) {
        return member_done(NULL);
    }
    fprintf(out, "warden %s\nstore schema %d\n", WARDEN_VERSION, wd_store_schema_version());
    return member_done(out);
}

static int by_name(const void *x, const void *y)
{
    return strcmp(((const struct ev_file *)x)->name, ((const struct ev_file *)y)->name);
}

/* MANIFEST.sha256: "HASH  NAME" per file, names relative to ID/, sorted. */
static int add_manifest(const char *id, struct ev_archive *a)
{
    qsort(a->f, a->n, sizeof a->f[0], by_name);
    size_t n = a->n, skip = strlen(id) + 1;
    FILE *out = member(a, id, "MANIFEST.sha256");
    for (size_t i = 0; out != NULL && i < n; i++) {
        char hex[65];
        if (!wd_sha256_hex(a->f[i].data != NULL ? a->f[i].data : "", a->f[i].len, hex)) {
            (void)member_done(out);
            cli_errorf("evidence: SHA-256 failed");
            return CLI_FAIL;
        }
        fprintf(out, "%s  %s\n", hex, a->f[i].name + skip);
    }
    return member_done(out);
}

static int write_archive(const struct ev_cmd *c, const struct wd_incident *inc,
                         struct ev_archive *a)
{
    char def[WD_INCIDENT_ID_MAX + 24];
    const char *path = c->out;
    struct wd_tar_file files[EV_FILES];
    struct wd_error err = {0};
    if (path == NULL) {
        (void)mkdir("evidence", 0755);
        snprintf(def, sizeof def, "evidence/%s.tar.gz", inc->id);
        path = def;
    }
    for (size_t i = 0; i < a->n; i++) {
        files[i] = (struct wd_tar_file){a->f[i].name, a->f[i].data, a->f[i].len};
    }
    if (wd_tar_write_gz(path, files, a->n, inc->opened_ns / 1000000000LL, &err) != WD_OK) {
        cli_errorf("evidence: %s", err.msg);
        return CLI_FAIL;
    }
    printf("%s\n", path);
    fprintf(stderr, "warden: %s: evidence of %s, %zu files\n", path, inc->id, a->n);
    return CLI_OK;
}

static int run(struct ev_cmd *c)
{
    struct wd_incident inc;
    struct wd_timeline_entry *tl = NULL;
    struct ev_archive a;
    size_t n = 0;
    bool found = false;
    struct wd_error err = {0};
    int rc;
    memset(&a, 0, sizeof a);
    if ((rc = cli_config_load(&c->cfg, c->config)) != CLI_OK ||
        (rc = cli_tz_load(&c->cfg, &c->tz)) != CLI_OK ||
        (rc = cli_open_store(&c->cfg, c->db, &c->store)) != CLI_OK) {
        return rc;
    }
    if (wd_store_incident_load(c->store, c->id, &inc, &found, &err) != WD_OK ||
        (found && wd_store_timeline_list(c->store, inc.id, &tl, &n, &err) != WD_OK)) {
        cli_errorf("store: %s", err.msg);
        return CLI_FAIL;
    }
    if (!found) {
        cli_errorf("evidence: %s: no such incident (see 'warden incident list --all')", c->id);
        return CLI_FAIL;
    }
    /* As of the record's last change: the same record, the same bytes. */
    int64_t as_of = inc.updated_ns > inc.opened_ns ? inc.updated_ns : inc.opened_ns;
    for (size_t i = 0; i < n; i++) {
        as_of = tl[i].ts_ns > as_of ? tl[i].ts_ns : as_of;
    }
    if ((rc = add_record(&inc, tl, n, &a)) == CLI_OK &&
        (rc = add_document(c, &inc, tl, n, as_of, wd_render_report, "report.md", &a)) ==
            CLI_OK &&
        (rc = add_document(c, &inc, tl, n, as_of, wd_render_log, "incident.log", &a)) ==
            CLI_OK &&
        (rc = add_events(c, &inc, &a)) == CLI_OK && (rc = add_audit(c, &inc, &a)) == CLI_OK &&
        (rc = add_config(c, inc.id, &a)) == CLI_OK && (rc = add_manifest(inc.id, &a)) == CLI_OK) {
        rc = write_archive(c, &inc, &a);
    }
    for (size_t i = 0; i < a.n; i++) {
        free(a.f[i].data);
    }
    free(tl);
    return rc;
}

int cmd_evidence(int argc, char **argv)
{
    struct ev_cmd c;
    memset(&c, 0, sizeof c);
    int rc = parse(&c, argc, argv);
    if (rc != CLI_OK) {
        return rc < 0 ? CLI_OK : rc;
    }
    rc = run(&c);
    wd_store_close(c.store);
    wd_tz_free(c.tz);
    wd_config_destroy(&c.cfg);
    return rc;
}
