/*
 * Renders the playbook's documents and messages from an incident record
 * (include/warden/render.h, docs/INCIDENT-DOCUMENTS.md).
 *
 * Pure: text goes into a caller's struct wd_render_buf, time comes in as
 * now_ns, the zone as a struct wd_tz. Everything the record does not know is
 * written as a bracketed placeholder; nothing here guesses a root cause,
 * a fix or a lesson.
 */
#include "warden/render.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "warden/fixed.h"
#include "warden/severity.h"
#include "warden/timeutil.h"

#define MIN_NS (60LL * WD_NS_PER_S)
#define HOUR_NS (60LL * MIN_NS)
#define NAMES_MAX 32 /* responders listed; more are counted */

/* ---- the buffer ----------------------------------------------------------- */

void wd_render_buf_init(struct wd_render_buf *b, size_t max)
{
    b->data = NULL;
    b->len = b->cap = 0;
    b->max = max != 0 ? max : WD_RENDER_MAX_DEFAULT;
}

void wd_render_buf_destroy(struct wd_render_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void wd_render_buf_reset(struct wd_render_buf *b)
{
    b->len = 0;
    if (b->data != NULL) {
        b->data[0] = '\0';
    }
}

/* One rendering: the buffer, where this call started (to roll back on
 * failure), the first failure (later writes are skipped), and the inputs. */
struct ctx {
    struct wd_render_buf *b;
    size_t start;
    enum wd_status st;
    const struct wd_incident *inc;
    const struct wd_timeline_entry *e;
    size_t n;
    int64_t now;
    const struct wd_tz *tz;
    int64_t open_day; /* local day of opened_ns */
};

enum wd_status wd_render_buf_reserve(struct wd_render_buf *b, size_t more)
{
    if (more > b->max || b->len > b->max - more) {
        return WD_EFULL;
    }
    size_t need = b->len + more + 1;
    if (need <= b->cap) {
        return WD_OK;
    }
    size_t cap = b->cap != 0 ? b->cap : 256;
    while (cap < need) {
        cap *= 2;
    }
    char *p = realloc(b->data, cap);
    if (p == NULL) {
        return WD_ENOMEM;
    }
    b->data = p;
    b->cap = cap;
    return WD_OK;
}

enum wd_status wd_render_buf_put(struct wd_render_buf *b, const char *s, size_t n)
{
    enum wd_status st = wd_render_buf_reserve(b, n);
    if (st == WD_OK) {
        memcpy(b->data + b->len, s, n);
        b->len += n;
        b->data[b->len] = '\0';
    }
    return st;
}

enum wd_status wd_render_buf_vputf(struct wd_render_buf *b, const char *fmt, va_list ap)
{
    va_list again;
    va_copy(again, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    enum wd_status st = n < 0 ? WD_EINVAL : wd_render_buf_reserve(b, (size_t)n);
    if (st == WD_OK) {
        (void)vsnprintf(b->data + b->len, (size_t)n + 1, fmt, again);
        b->len += (size_t)n;
    }
    va_end(again);
    return st;
}

enum wd_status wd_render_buf_putf(struct wd_render_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    enum wd_status st = wd_render_buf_vputf(b, fmt, ap);
    va_end(ap);
    return st;
}

static void put(struct ctx *c, const char *s, size_t n)
{
    if (c->st == WD_OK) {
        c->st = wd_render_buf_put(c->b, s, n);
    }
}

static void raw(struct ctx *c, const char *s)
{
    put(c, s, strlen(s));
}

static void WD_PRINTF(2, 3) putf(struct ctx *c, const char *fmt, ...)
{
    if (c->st != WD_OK) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    c->st = wd_render_buf_vputf(c->b, fmt, ap);
    va_end(ap);
}

/* A record's text on one line: control bytes become spaces; in a table cell
 * ('cell') a '|' is escaped so that it does not split the cell. */
static void text_as(struct ctx *c, const char *s, bool cell)
{
    for (const char *p = s; *p != '\0'; p++) {
        unsigned char ch = (unsigned char)*p;
        if (ch < 0x20 || ch == 0x7f) {
            put(c, " ", 1);
        } else if (cell && ch == '|') {
            put(c, "\\|", 2);
        } else {
            put(c, p, 1);
        }
    }
}

static void text(struct ctx *c, const char *s)
{
    text_as(c, s, false);
}

/* A name, or the placeholder when the field is empty. */
static void name_or(struct ctx *c, const char *s, const char *none)
{
    if (s[0] != '\0') {
        text(c, s);
    } else {
        raw(c, none);
    }
}

/* ---- times ------------------------------------------------------------------ */

struct lt {
    int64_t y, day;
    unsigned mo, d;
    int h, mi, s;
    int32_t off_s;
};

static void to_local(const struct wd_tz *tz, int64_t ns, struct lt *t)
{
    int64_t secs = wd_floor_div(ns, WD_NS_PER_S);
    t->off_s = tz != NULL ? wd_tz_offset_s(tz, secs) : 0;
    int64_t ls = secs + t->off_s;
    t->day = wd_floor_div(ls, 86400);
    int64_t sod = ls - t->day * 86400;
    wd_civil_from_days(t->day, &t->y, &t->mo, &t->d);
    t->h = (int)(sod / 3600);
    t->mi = (int)(sod / 60 % 60);
    t->s = (int)(sod % 60);
}

/* "YYYY-MM-DD HH:MM:SS UTC-05:00" in the session zone ("UTC" at offset 0). */
static void put_datetime(struct ctx *c, int64_t ns)
{
    struct lt t;
    to_local(c->tz, ns, &t);
    putf(c, "%04lld-%02u-%02u %02d:%02d:%02d UTC", (long long)t.y, t.mo, t.d, t.h, t.mi, t.s);
    if (t.off_s != 0) {
        int32_t a = t.off_s < 0 ? -t.off_s : t.off_s;
        putf(c, "%c%02d:%02d", t.off_s < 0 ? '-' : '+', (int)(a / 3600), (int)(a / 60 % 60));
    }
}

/* "YYYY-MM-DD HH:MM UTC", as the messages write it. */
static void put_utc(struct ctx *c, int64_t ns)
{
    struct lt t;
    to_local(NULL, ns, &t);
    putf(c, "%04lld-%02u-%02u %02d:%02d UTC", (long long)t.y, t.mo, t.d, t.h, t.mi);
}

/* A timeline time: "HH:MM" on the local day the incident opened, else
 * "YYYY-MM-DD HH:MM". */
static void put_when(struct ctx *c, int64_t ns)
{
    struct lt t;
    to_local(c->tz, ns, &t);
    if (t.day != c->open_day) {
        putf(c, "%04lld-%02u-%02u ", (long long)t.y, t.mo, t.d);
    }
    putf(c, "%02d:%02d", t.h, t.mi);
}

/* A due date: "YYYY-MM-DD" at local midnight, else "YYYY-MM-DD HH:MM". */
static void put_due(struct ctx *c, int64_t ns)
{
    struct lt t;
    to_local(c->tz, ns, &t);
    putf(c, "%04lld-%02u-%02u", (long long)t.y, t.mo, t.d);
    if (t.h != 0 || t.mi != 0 || t.s != 0) {
        putf(c, " %02d:%02d", t.h, t.mi);
    }
}

/* "X hours Y minutes" (whole minutes, cut down), as the resolution template. */
static void put_span(struct ctx *c, int64_t ns)
{
    long long m = ns > 0 ? (long long)(ns / MIN_NS) : 0;
    long long h = m / 60;
    m %= 60;
    if (h > 0) {
        putf(c, "%lld hour%s", h, h == 1 ? "" : "s");
        if (m == 0) {
            return;
        }
        raw(c, " ");
    }
    putf(c, "%lld minute%s", m, m == 1 ? "" : "s");
}

static void put_money(struct ctx *c, wd_fix v)
{
    char b[40];
    size_t n = wd_fix_format(v, 2, b, sizeof b);
    put(c, b, n);
}

/* ---- facts shared by the documents ------------------------------------------ */

static bool is_resolved(const struct wd_incident *inc)
{
    return inc->status == WD_INC_RESOLVED || inc->status == WD_INC_CLOSED;
}

static const char *status_title(enum wd_inc_status s)
{
    static const char *const t[WD_INC__COUNT] = {"Open",     "Acknowledged", "Investigating",
                                                 "Identified", "Fixing",     "Monitoring",
                                                 "Resolved", "Closed"};
    return (unsigned)s < WD_INC__COUNT ? t[s] : "?";
}

/* The first status entry that moved the incident to `to`, or NULL. */
static const struct wd_timeline_entry *find_status(const struct ctx *c, const char *to)
{
    for (size_t i = 0; i < c->n; i++) {
        if (c->e[i].kind == WD_TL_STATUS && strcmp(c->e[i].to, to) == 0) {
            return &c->e[i];
        }
    }
    return NULL;
}

/* "X at open, Y at resolution"; the second part once resolved (a
 * placeholder when it was not recorded). */
static void put_pnl(struct ctx *c)
{
    const struct wd_incident *inc = c->inc;
    put_money(c, inc->pnl_open);
    raw(c, " at open");
    if (inc->pnl_resolved_known) {
        raw(c, ", ");
        put_money(c, inc->pnl_resolved);
        raw(c, " at resolution");
    } else if (is_resolved(inc)) {
        raw(c, ", [not recorded] at resolution");
    }
}

/* "Trading halted; daily PnL X at open, Y at resolution". */
static void put_impact(struct ctx *c)
{
    const struct wd_incident *inc = c->inc;
    raw(c, inc->trading_halted ? "Trading halted" : "Trading not halted");
    raw(c, "; daily PnL ");
    put_pnl(c);
}

/* "1 hour 35 minutes", or "... so far (not resolved)". */
static void put_duration(struct ctx *c)
{
    put_span(c, wd_incident_duration_ns(c->inc, c->now));
    if (!is_resolved(c->inc)) {
        raw(c, " so far (not resolved)");
    }
}

/* "<open> to <resolved>" in the session zone. */
static void put_start_end(struct ctx *c)
{
    put_datetime(c, c->inc->opened_ns);
    raw(c, " to ");
    if (is_resolved(c->inc)) {
        put_datetime(c, c->inc->resolved_ns);
    } else {
        raw(c, "[not resolved; status ");
        raw(c, wd_inc_status_name(c->inc->status));
        raw(c, " as of ");
        put_datetime(c, c->now);
        raw(c, "]");
    }
}

/* "2026-03-02 09:34:00 UTC-05:00 (4 minutes after opening; P0 target 5
 * minutes: met)". */
static void put_ack(struct ctx *c)
{
    const struct wd_incident *inc = c->inc;
    if (inc->acknowledged_ns == 0) {
        raw(c, "[not acknowledged yet]");
        return;
    }
    struct wd_incident_sla sla;
    wd_incident_sla(inc, c->now, &sla);
    put_datetime(c, inc->acknowledged_ns);
    raw(c, " (");
    put_span(c, inc->acknowledged_ns - inc->opened_ns);
    putf(c, " after opening; %s target ", wd_severity_name(inc->severity));
    put_span(c, sla.ack_target_ns);
    raw(c, sla.ack_breached ? ": missed)" : ": met)");
}

/* One timeline line: pre, the time, mid, "text (by who)", a newline. */
static void put_entry(struct ctx *c, const char *pre, const struct wd_timeline_entry *e,
                      const char *mid)
{
    raw(c, pre);
    put_when(c, e->ts_ns);
    raw(c, mid);
    text(c, e->text);
    raw(c, " (by ");
    text(c, e->who);
    raw(c, ")\n");
}

/* "- [ ] text (Owner: X, Due: D)" and its done form. */
static void put_action_items(struct ctx *c)
{
    const struct wd_incident *inc = c->inc;
    if (inc->n_actions == 0) {
        raw(c, "- [none recorded]\n");
    }
    for (uint32_t i = 0; i < inc->n_actions; i++) {
        const struct wd_inc_action *a = &inc->actions[i];
        raw(c, a->done ? "- [x] " : "- [ ] ");
        text(c, a->text);
        raw(c, " (Owner: ");
        text(c, a->owner);
        raw(c, ", Due: ");
        if (a->due_ns != 0) {
            put_due(c, a->due_ns);
        } else {
            raw(c, "[none set]");
        }
        if (a->done) {
            raw(c, "; done by ");
            text(c, a->done_by);
            raw(c, " ");
            put_due(c, a->done_ns);
        }
        raw(c, ")\n");
    }
}

static void put_criteria(struct ctx *c)
{
    const struct wd_incident *inc = c->inc;
    if (inc->n_criteria == 0) {
        raw(c, "- [none: the scenario has no recovery criteria]\n");
    }
    for (uint32_t i = 0; i < inc->n_criteria; i++) {
        const struct wd_inc_check *k = &inc->criteria[i];
        raw(c, k->done ? "- [x] " : "- [ ] ");
        text(c, k->text);
        if (k->done) {
            raw(c, " (ticked by ");
            text(c, k->who);
            raw(c, " at ");
            put_when(c, k->when_ns);
            raw(c, ")");
        }
        raw(c, "\n");
    }
}

/* The people on the incident: role holders, then whoever acted on the
 * timeline, each once, in that order; "warden" (the detector) excluded. */
struct names {
    const char *v[NAMES_MAX];
    size_t n, more;
};

static void names_add(struct names *ns, const char *s)
{
    if (s[0] == '\0' || strcmp(s, "warden") == 0) {
        return;
    }
    for (size_t i = 0; i < ns->n; i++) {
        if (strcmp(ns->v[i], s) == 0) {
            return;
        }
    }
    if (ns->n < NAMES_MAX) {
        ns->v[ns->n++] = s;
    } else {
        ns->more++; /* may count a name twice past the bound: said as "others" */
    }
}

static void responders(const struct ctx *c, struct names *ns)
{
    const struct wd_incident *inc = c->inc;
    memset(ns, 0, sizeof *ns);
    names_add(ns, inc->commander);
    names_add(ns, inc->risk_officer);
    names_add(ns, inc->tech_lead);
    names_add(ns, inc->comms_lead);
    for (uint32_t i = 0; i < inc->n_smes && i < WD_INCIDENT_SME_MAX; i++) {
        names_add(ns, inc->smes[i]);
    }
    for (size_t i = 0; i < c->n; i++) {
        names_add(ns, c->e[i].who);
    }
}

/* Writes the names joined by sep, each after prefix ("@" in messages). */
static void put_names(struct ctx *c, const struct names *ns, const char *prefix,
                      const char *sep)
{
    if (ns->n == 0) {
        raw(c, "[nobody recorded]");
        return;
    }
    for (size_t i = 0; i < ns->n; i++) {
        if (i > 0) {
            raw(c, sep);
        }
        raw(c, prefix);
        text(c, ns->v[i]);
    }
    if (ns->more > 0) {
        raw(c, " and others");
    }
}

/* ---- the frame of every renderer ----------------------------------------- */

typedef void (*body_fn)(struct ctx *c);

static enum wd_status render(body_fn body, const struct wd_incident *inc,
                             const struct wd_timeline_entry *entries, size_t n, int64_t now_ns,
                             const struct wd_tz *tz, struct wd_render_buf *out)
{
    if (inc == NULL || out == NULL || (entries == NULL && n > 0)) {
        return WD_EINVAL;
    }
    for (size_t i = 0; i < n; i++) {
        if (strcmp(entries[i].incident, inc->id) != 0) {
            return WD_EINVAL;
        }
    }
    struct ctx c = {.b = out, .start = out->len, .st = WD_OK, .inc = inc, .e = entries,
                    .n = n, .now = now_ns, .tz = tz};
    struct lt t;
    to_local(tz, inc->opened_ns, &t);
    c.open_day = t.day;
    body(&c);
    if (c.st != WD_OK) {
        out->len = c.start;
        if (out->data != NULL) {
            out->data[out->len] = '\0';
        }
    }
    return c.st;
}

/* ---- the incident report (playbook Step 5) -------------------------------- */

static void role_line(struct ctx *c, const char *label, const char *who)
{
    putf(c, "- **%s:** ", label);
    name_or(c, who, "[unassigned]");
    raw(c, "\n");
}

static void report_body(struct ctx *c)
{
    const struct wd_incident *inc = c->inc;
    struct lt t;
    to_local(c->tz, inc->opened_ns, &t);
    putf(c, "# Incident Report - %04lld-%02u-%02u\n\n", (long long)t.y, t.mo, t.d);

    raw(c, "## Summary\n- **Incident:** ");
    text(c, inc->id);
    raw(c, ": ");
    text(c, inc->title);
    putf(c, "\n- **Scenario:** %s (playbook %s), scope ", wd_scenario_name(inc->scenario),
         wd_scenario_playbook(inc->scenario));
    text(c, inc->scope);
    raw(c, "\n- **Date/Time:** ");
    put_start_end(c);
    putf(c, "\n- **Severity:** %s\n- **Status:** %s\n- **Duration:** ",
         wd_severity_name(inc->severity), wd_inc_status_name(inc->status));
    put_duration(c);
    raw(c, "\n- **Impact:** ");
    put_impact(c);
    raw(c, "\n- **Detail:** ");
    name_or(c, inc->detail, "[none recorded]");
    raw(c, "\n- **Opened by:** ");
    text(c, inc->opened_by);
    raw(c, "\n- **Acknowledged:** ");
    put_ack(c);
    raw(c, "\n");
    role_line(c, "Incident Commander", inc->commander);
    role_line(c, "Risk Officer", inc->risk_officer);
    role_line(c, "Technical Lead", inc->tech_lead);
    role_line(c, "Communications Lead", inc->comms_lead);
    raw(c, "- **SMEs:** ");
    for (uint32_t i = 0; i < inc->n_smes && i < WD_INCIDENT_SME_MAX; i++) {
        raw(c, i > 0 ? ", " : "");
        text(c, inc->smes[i]);
    }
    raw(c, inc->n_smes == 0 ? "[none]\n" : "\n");

    raw(c, "\n## Timeline\n");
    if (c->n == 0) {
        raw(c, "- [no timeline entries recorded]\n");
    }
    for (size_t i = 0; i < c->n; i++) {
        put_entry(c, "- ", &c->e[i], " - ");
    }

    raw(c, "\n## Root Cause\n[Not recorded in warden: the responders describe it here.]\n");
    const struct wd_timeline_entry *idf = find_status(c, "identified");
    if (idf != NULL) {
        raw(c, "\nThe incident moved to identified at ");
        put_when(c, idf->ts_ns);
        raw(c, " (by ");
        text(c, idf->who);
        raw(c, ").\n");
    }

    raw(c, "\n## Resolution\n");
    if (is_resolved(inc)) {
        const struct wd_timeline_entry *r = find_status(c, "resolved");
        raw(c, "Resolved at ");
        put_datetime(c, inc->resolved_ns);
        if (r != NULL) {
            raw(c, " (by ");
            text(c, r->who);
            raw(c, ")");
        }
        raw(c, ".\n");
    } else {
        putf(c, "[Not resolved yet: status %s as of ", wd_inc_status_name(inc->status));
        put_datetime(c, c->now);
        raw(c, ".]\n");
    }
    putf(c, "\nRecovery criteria (playbook %s):\n", wd_scenario_playbook(inc->scenario));
    put_criteria(c);
    raw(c, "\nControl actions and approvals:\n");
    size_t shown = 0;
    for (size_t i = 0; i < c->n; i++) {
        if (c->e[i].kind == WD_TL_CONTROL || c->e[i].kind == WD_TL_APPROVAL) {
            put_entry(c, "- ", &c->e[i], " - ");
            shown++;
        }
    }
    if (shown == 0) {
        raw(c, "- [none recorded]\n");
    }
    raw(c, "\n[What was done: the responders describe it here.]\n");

    raw(c, "\n## Action Items\n");
    put_action_items(c);
}

enum wd_status wd_render_report(const struct wd_incident *inc,
                                const struct wd_timeline_entry *entries, size_t n,
                                int64_t now_ns, const struct wd_tz *tz,
                                struct wd_render_buf *out)
{
    return render(report_body, inc, entries, n, now_ns, tz, out);
}

/* ---- the incident log (playbook Appendix) --------------------------------- */

static void team_member(struct ctx *c, size_t *k, const char *label, const char *who)
{
    if (who[0] == '\0') {
        return;
    }
    raw(c, (*k)++ > 0 ? ", " : "");
    raw(c, label);
    raw(c, " ");
    text(c, who);
}

static void log_body(struct ctx *c)
{
    const struct wd_incident *inc = c->inc;
    raw(c, "=== INCIDENT LOG ===\nIncident: ");
    text(c, inc->id);
    raw(c, "\nTitle: ");
    text(c, inc->title);
    raw(c, "\nDate: ");
    put_datetime(c, inc->opened_ns);
    putf(c, "\nSeverity: %s\nStatus: %s (as of ", wd_severity_name(inc->severity),
         wd_inc_status_name(inc->status));
    put_datetime(c, c->now);
    raw(c, ")\nIC: ");
    name_or(c, inc->commander, "[unassigned]");
    raw(c, "\nTeam: ");
    size_t k = 0;
    team_member(c, &k, "Risk Officer", inc->risk_officer);
    team_member(c, &k, "Technical Lead", inc->tech_lead);
    team_member(c, &k, "Communications Lead", inc->comms_lead);
    for (uint32_t i = 0; i < inc->n_smes && i < WD_INCIDENT_SME_MAX; i++) {
        team_member(c, &k, "SME", inc->smes[i]);
    }
    raw(c, k == 0 ? "[none assigned]\n" : "\n");

    raw(c, "\n=== TIMELINE ===\n");
    if (c->n == 0) {
        raw(c, "[no timeline entries recorded]\n");
    }
    for (size_t i = 0; i < c->n; i++) {
        put_entry(c, "[", &c->e[i], "] ");
    }

    raw(c, "\n=== ACTIONS TAKEN ===\n");
    size_t a = 0;
    for (size_t i = 0; i < c->n; i++) {
        enum wd_tl_kind kd = c->e[i].kind;
        if (kd == WD_TL_CONTROL || kd == WD_TL_APPROVAL || kd == WD_TL_CHECK) {
            putf(c, "%zu. ", ++a);
            put_entry(c, "[", &c->e[i], "] ");
        }
    }
    if (a == 0) {
        raw(c, "[none recorded]\n");
    }

    raw(c, "\n=== IMPACT ===\nTrading: ");
    raw(c, inc->trading_halted ? "Halted" : "Normal");
    raw(c, "\nPnL: ");
    put_pnl(c);
    raw(c, "\nDuration: ");
    put_duration(c);
    raw(c, "\n\n=== ROOT CAUSE ===\n"
           "[Not recorded in warden: the responders describe it here.]\n"
           "\n=== LESSONS LEARNED ===\n"
           "1. [Lesson: from the post-incident review]\n"
           "\n=== ACTION ITEMS ===\n");
    put_action_items(c);
}

enum wd_status wd_render_log(const struct wd_incident *inc,
                             const struct wd_timeline_entry *entries, size_t n,
                             int64_t now_ns, const struct wd_tz *tz,
                             struct wd_render_buf *out)
{
    return render(log_body, inc, entries, n, now_ns, tz, out);
}

size_t wd_render_log_name(const struct wd_incident *inc, const struct wd_tz *tz, char *buf,
                          size_t cap)
{
    struct lt t;
    to_local(tz, inc->opened_ns, &t);
    int n = snprintf(buf, cap, "logs/incident_%04lld%02u%02u_%02d%02d%02d.log", (long long)t.y,
                     t.mo, t.d, t.h, t.mi, t.s);
    return n < 0 ? 0 : (size_t)n;
}

/* ---- review deadlines -------------------------------------------------------- */

void wd_review_due(const struct wd_incident *inc, int64_t now_ns, struct wd_review_due *out)
{
    memset(out, 0, sizeof *out);
    for (uint32_t i = 0; i < inc->n_actions && i < WD_INCIDENT_ACTION_MAX; i++) {
        out->open_actions += inc->actions[i].done ? 0u : 1u;
    }
    if (is_resolved(inc)) {
        out->review_due_ns = inc->resolved_ns + WD_REVIEW_DEADLINE_NS;
    }
    if (inc->status == WD_INC_RESOLVED) {
        out->review_needed = true;
        out->review_overdue = now_ns > out->review_due_ns;
    }
    if (inc->status == WD_INC_CLOSED) {
        out->followup_due_ns = inc->closed_ns + WD_FOLLOWUP_AFTER_NS;
        out->followup_due = now_ns >= out->followup_due_ns && out->open_actions > 0;
    }
}

/* ---- the post-incident review ------------------------------------------------ */

static bool is_event(enum wd_tl_kind k)
{
    return k == WD_TL_OPENED || k == WD_TL_FINDING || k == WD_TL_SLA_BREACH ||
           k == WD_TL_ESCALATION;
}

static void review_body(struct ctx *c)
{
    const struct wd_incident *inc = c->inc;
    struct wd_review_due due;
    wd_review_due(inc, c->now, &due);
    struct lt t;
    to_local(c->tz, inc->opened_ns, &t);
    putf(c, "# Post-Incident Review - %04lld-%02u-%02u\n\n", (long long)t.y, t.mo, t.d);

    raw(c, "- **Incident:** ");
    text(c, inc->id);
    raw(c, ": ");
    text(c, inc->title);
    raw(c, "\n- **Review due by:** ");
    if (due.review_due_ns != 0) {
        put_datetime(c, due.review_due_ns);
        raw(c, " (within 48 hours of resolution)");
        if (inc->status == WD_INC_CLOSED) {
            raw(c, "; held: incident closed ");
            put_datetime(c, inc->closed_ns);
        } else if (due.review_overdue) {
            raw(c, "; OVERDUE as of ");
            put_datetime(c, c->now);
        }
    } else {
        raw(c, "[not set: the incident is not resolved yet; due 48 hours after resolution]");
    }
    raw(c, "\n- **Follow-up meeting:** ");
    if (due.followup_due_ns != 0) {
        put_datetime(c, due.followup_due_ns);
        putf(c, " (2 weeks after the review; %u action item%s open)", due.open_actions,
             due.open_actions == 1 ? "" : "s");
    } else {
        raw(c, "[2 weeks after the review]");
    }
    raw(c, "\n\n**Required Attendees:**\n- Incident Commander: ");
    name_or(c, inc->commander, "[unassigned]");
    raw(c, "\n- Technical Lead: ");
    name_or(c, inc->tech_lead, "[unassigned]");
    if (inc->severity <= WD_P1) {
        raw(c, "\n- Risk Officer: ");
        name_or(c, inc->risk_officer, "[unassigned]");
    }
    raw(c, "\n- Engineering Manager: [name]\n- All responders: ");
    struct names ns;
    responders(c, &ns);
    put_names(c, &ns, "", ", ");

    raw(c, "\n\n## Incident Summary\n- **Date/Time:** ");
    put_start_end(c);
    putf(c, "\n- **Severity:** %s\n- **Duration:** ", wd_severity_name(inc->severity));
    put_duration(c);
    raw(c, "\n- **Impact:** ");
    put_impact(c);
    raw(c, "; [customers affected: not recorded]\n- **Acknowledged:** ");
    put_ack(c);

    raw(c, "\n\n## What Went Well\n- [to be filled in at the review]\n"
           "\n## What Went Poorly\n- [to be filled in at the review]\n"
           "\n## Timeline\n| Time | Event | Action Taken |\n|------|-------|--------------|\n");
    for (size_t i = 0; i < c->n; i++) {
        const struct wd_timeline_entry *e = &c->e[i];
        raw(c, "| ");
        put_when(c, e->ts_ns);
        raw(c, " | ");
        if (is_event(e->kind)) {
            text_as(c, e->text, true);
            raw(c, " | |\n");
        } else {
            raw(c, "| ");
            text_as(c, e->text, true);
            raw(c, " (by ");
            text_as(c, e->who, true);
            raw(c, ") |\n");
        }
    }
    if (c->n == 0) {
        raw(c, "| | [no timeline entries recorded] | |\n");
    }

    raw(c, "\n## Root Cause Analysis (5 Whys)\n1. Why did this happen (");
    text(c, inc->title);
    raw(c, ")? → [answer]\n"
           "2. Why? → [answer]\n"
           "3. Why? → [answer]\n"
           "4. Why? → [answer]\n"
           "5. Why? → [answer]\n"
           "\n**Root Cause:** [to be agreed at the review]\n"
           "\n## Action Items\n");
    put_action_items(c);
    raw(c, "\n## Lessons Learned\n- [to be filled in at the review]\n");
}

enum wd_status wd_render_review(const struct wd_incident *inc,
                                const struct wd_timeline_entry *entries, size_t n,
                                int64_t now_ns, const struct wd_tz *tz,
                                struct wd_render_buf *out)
{
    return render(review_body, inc, entries, n, now_ns, tz, out);
}

/* ---- communication templates ------------------------------------------------- */

int64_t wd_update_interval_ns(enum wd_severity s)
{
    switch (s) {
    case WD_P0:
        return 30 * MIN_NS;
    case WD_P1:
        return HOUR_NS;
    case WD_P2:
        return 4 * HOUR_NS;
    case WD_P3:
    default:
        return 24 * HOUR_NS;
    }
}

int64_t wd_render_next_update_ns(const struct wd_incident *inc, int64_t now_ns)
{
    if (is_resolved(inc)) {
        return 0;
    }
    return now_ns + wd_update_interval_ns(inc->severity);
}

static void put_next_update(struct ctx *c)
{
    int64_t next = wd_render_next_update_ns(c->inc, c->now);
    raw(c, "Next update in: ");
    if (next == 0) {
        raw(c, "none (the incident is resolved)\n");
        return;
    }
    put_span(c, next - c->now);
    raw(c, " (by ");
    put_utc(c, next);
    raw(c, ")\n");
}

/* The message's "Impact:" value: trading halted, else the playbook's
 * description of the severity. */
static const char *impact_word(const struct wd_incident *inc)
{
    static const char *const d[] = {"Money at risk or security breach",
                                    "Major functionality broken, trading impaired",
                                    "Degraded performance, partial functionality",
                                    "Minor issues, no trading impact"};
    if (inc->trading_halted) {
        return "Trading halted";
    }
    return (unsigned)inc->severity < 4u ? d[inc->severity] : "?";
}

static void initial_body(struct ctx *c)
{
    const struct wd_incident *inc = c->inc;
    putf(c, "🚨 INCIDENT ALERT 🚨\n\nSeverity: %s\nStatus: %s\nImpact: %s\nStart Time: ",
         wd_severity_name(inc->severity), status_title(inc->status), impact_word(inc));
    put_utc(c, inc->opened_ns);
    raw(c, "\n\nIncident Commander: ");
    if (inc->commander[0] != '\0') {
        raw(c, "@");
        text(c, inc->commander);
    } else {
        raw(c, "[unassigned]");
    }
    /* The war room is named for the id's date (the session's local date). */
    int64_t day = 0;
    char date[16] = "";
    if (wd_incident_id_parse(inc->id, &day, NULL) == WD_OK) {
        struct lt t;
        to_local(NULL, day * WD_NS_PER_DAY, &t);
        (void)snprintf(date, sizeof date, "%04lld%02u%02u", (long long)t.y, t.mo, t.d);
    }
    putf(c, "\nWar Room: #incident-%s-", date);
    for (const char *p = wd_scenario_name(inc->scenario); *p != '\0'; p++) {
        put(c, *p == '_' ? "-" : p, 1);
    }
    raw(c, "\n\nDetails:\n");
    text(c, inc->id);
    raw(c, ": ");
    text(c, inc->title);
    raw(c, "\n");
    if (inc->detail[0] != '\0') {
        text(c, inc->detail);
        raw(c, "\n");
    }
    raw(c, "\n");
    put_next_update(c);
}

static void update_body(struct ctx *c)
{
    const struct wd_incident *inc = c->inc;
    putf(c, "📊 INCIDENT UPDATE\n\nStatus: %s\nTime Elapsed: ", status_title(inc->status));
    put_span(c, wd_incident_duration_ns(inc, c->now));
    raw(c, "\n\nProgress:\n");
    enum wd_inc_status s = inc->status;
    if (s >= WD_INC_IDENTIFIED) {
        raw(c, "✅ Root cause identified: [description not recorded in warden]\n");
    } else {
        raw(c, "🔄 Root cause: not identified yet\n");
    }
    if (s == WD_INC_FIXING) {
        raw(c, "🔄 Fix in progress: [what is being done: not recorded in warden]\n");
    } else if (s == WD_INC_MONITORING) {
        raw(c, "✅ Fix deployed: monitoring\n");
    } else if (s >= WD_INC_RESOLVED) {
        raw(c, "✅ Fix deployed\n");
    } else {
        raw(c, "⏳ Fix: not started\n");
    }
    struct wd_incident_sla sla;
    wd_incident_sla(inc, c->now, &sla);
    if (is_resolved(inc)) {
        raw(c, "✅ Resolved at ");
        put_utc(c, inc->resolved_ns);
    } else if (sla.resolve_target_ns == 0) {
        raw(c, "⏳ ETA for resolution: unknown (the playbook gives no expected resolution time "
               "for this scenario)");
    } else {
        raw(c, "⏳ ETA for resolution: ");
        if (sla.resolve_remaining_ns >= 0) {
            put_span(c, sla.resolve_remaining_ns);
        } else {
            raw(c, "overdue by ");
            put_span(c, -sla.resolve_remaining_ns);
        }
        putf(c, " (playbook %s expects resolution within ", wd_scenario_playbook(inc->scenario));
        put_span(c, sla.resolve_target_ns);
        raw(c, ")");
    }
    raw(c, "\n");
    for (size_t i = c->n; i-- > 0;) {
        if (c->e[i].kind == WD_TL_NOTE) {
            raw(c, "📝 Latest note (");
            put_utc(c, c->e[i].ts_ns);
            raw(c, ", ");
            text(c, c->e[i].who);
            raw(c, "): ");
            text(c, c->e[i].text);
            raw(c, "\n");
            break;
        }
    }
    putf(c, "\nImpact:\n- Trading: %s when the incident opened\n- PnL: ",
         inc->trading_halted ? "Halted" : "Normal");
    put_pnl(c);
    raw(c, "\n- Data: [not recorded in warden]\n\n");
    put_next_update(c);
}

static void resolution_body(struct ctx *c)
{
    const struct wd_incident *inc = c->inc;
    putf(c, "✅ INCIDENT RESOLVED\n\nSeverity: %s\nDuration: ", wd_severity_name(inc->severity));
    put_span(c, wd_incident_duration_ns(inc, c->now));
    raw(c, "\nImpact: ");
    put_impact(c);
    raw(c, "\n\nResolution:\n");
    text(c, inc->id);
    raw(c, " resolved at ");
    put_utc(c, inc->resolved_ns);
    const struct wd_timeline_entry *r = find_status(c, "resolved");
    if (r != NULL) {
        raw(c, " by ");
        text(c, r->who);
    }
    uint32_t met = 0;
    for (uint32_t i = 0; i < inc->n_criteria && i < WD_INCIDENT_CRITERIA_MAX; i++) {
        met += inc->criteria[i].done ? 1u : 0u;
    }
    putf(c, ". Recovery criteria met: %u of %u.\n[What was done to fix: not recorded in warden]\n",
         met, inc->n_criteria);
    raw(c, "\nRoot Cause:\n[Not recorded in warden: see the post-incident review]\n"
           "\nFollow-Up:\n- Post-incident review scheduled for [date] (due by ");
    put_utc(c, inc->resolved_ns + WD_REVIEW_DEADLINE_NS);
    struct wd_review_due due;
    wd_review_due(inc, c->now, &due);
    raw(c, ", 48 hours after resolution)\n- Action items tracked in warden: `warden incident show ");
    text(c, inc->id);
    putf(c, "` (%u of %u open)\n- Documentation updated: [links]\n\nThanks to: ", due.open_actions,
         inc->n_actions);
    struct names ns;
    responders(c, &ns);
    put_names(c, &ns, "@", " ");
    raw(c, "\n");
}

enum wd_status wd_render_msg_initial(const struct wd_incident *inc,
                                     const struct wd_timeline_entry *entries, size_t n,
                                     int64_t now_ns, const struct wd_tz *tz,
                                     struct wd_render_buf *out)
{
    return render(initial_body, inc, entries, n, now_ns, tz, out);
}

enum wd_status wd_render_msg_update(const struct wd_incident *inc,
                                    const struct wd_timeline_entry *entries, size_t n,
                                    int64_t now_ns, const struct wd_tz *tz,
                                    struct wd_render_buf *out)
{
    return render(update_body, inc, entries, n, now_ns, tz, out);
}

enum wd_status wd_render_msg_resolution(const struct wd_incident *inc,
                                        const struct wd_timeline_entry *entries, size_t n,
                                        int64_t now_ns, const struct wd_tz *tz,
                                        struct wd_render_buf *out)
{
    if (inc != NULL && !is_resolved(inc)) {
        return WD_ESTATE;
    }
    return render(resolution_body, inc, entries, n, now_ns, tz, out);
}

static const char *const msg_kind_names[WD_MSG__COUNT] = {"initial", "update", "resolution"};

const char *wd_msg_kind_name(enum wd_msg_kind k)
{
    return (unsigned)k < WD_MSG__COUNT ? msg_kind_names[k] : "?";
}

enum wd_status wd_msg_kind_parse(const char *s, enum wd_msg_kind *out)
{
    for (unsigned i = 0; s != NULL && i < WD_MSG__COUNT; i++) {
        if (strcmp(s, msg_kind_names[i]) == 0) {
            *out = (enum wd_msg_kind)i;
            return WD_OK;
        }
    }
    return WD_EINVAL;
}

enum wd_status wd_render_message(enum wd_msg_kind k, const struct wd_incident *inc,
                                 const struct wd_timeline_entry *entries, size_t n,
                                 int64_t now_ns, const struct wd_tz *tz,
                                 struct wd_render_buf *out)
{
    switch (k) {
    case WD_MSG_INITIAL:
        return wd_render_msg_initial(inc, entries, n, now_ns, tz, out);
    case WD_MSG_UPDATE:
        return wd_render_msg_update(inc, entries, n, now_ns, tz, out);
    case WD_MSG_RESOLUTION:
        return wd_render_msg_resolution(inc, entries, n, now_ns, tz, out);
    case WD_MSG__COUNT:
    default:
        return WD_EINVAL;
    }
}
