/*
 * The incident record, its lifecycle state machine, SLA and escalation
 * figures, and its canonical text (see include/warden/incident.h and
 * docs/internals/INCIDENTS.md).
 *
 * Every mutating function validates everything first and only then writes:
 * a refused change leaves the record and the timeline entry as they were.
 * Pure: no I/O, no clock, no allocation; formats into caller buffers only.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "warden/incident.h"
#include "warden/timeutil.h"

#define MIN_NS (60LL * WD_NS_PER_S)
#define HOUR_NS (60LL * MIN_NS)

/* ---- names --------------------------------------------------------------- */

static const char *const status_names[WD_INC__COUNT] = {
    "open", "acknowledged", "investigating", "identified",
    "fixing", "monitoring", "resolved", "closed"};

static const char *const role_names[WD_IR__COUNT] = {
    "commander", "risk_officer", "technical_lead", "communications_lead", "sme"};

static const char *const kind_names[WD_TL__COUNT] = {
    "opened", "status", "note", "finding", "control", "approval", "check",
    "action", "severity", "role", "impact", "sla_breach", "escalation", "notify"};

static const char *const escalation_names[] = {"on_call", "senior_engineer", "management"};

static const char *const basis_names[] = {"blocked", "resolved", "criteria_met", "not_gated"};

#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

static const char *name_of(const char *const *names, size_t n, unsigned i)
{
    return i < n ? names[i] : "?";
}

static enum wd_status parse_name(const char *const *names, unsigned n, const char *s,
                                 unsigned *out)
{
    for (unsigned i = 0; s != NULL && i < n; i++) {
        if (strcmp(s, names[i]) == 0) {
            *out = i;
            return WD_OK;
        }
    }
    return WD_EINVAL;
}

/* The name and parse functions of an enum named by a table. */
#define NAMED_ENUM(fn, type, names)                                                         \
    const char *fn##_name(type v) { return name_of(names, COUNT_OF(names), (unsigned)v); } \
    enum wd_status fn##_parse(const char *s, type *out)                                     \
    {                                                                                       \
        unsigned i;                                                                         \
        enum wd_status st = parse_name(names, (unsigned)COUNT_OF(names), s, &i);            \
        if (st == WD_OK) {                                                                  \
            *out = (type)i;                                                                 \
        }                                                                                   \
        return st;                                                                          \
    }

NAMED_ENUM(wd_inc_status, enum wd_inc_status, status_names)
NAMED_ENUM(wd_inc_role, enum wd_inc_role, role_names)
NAMED_ENUM(wd_tl_kind, enum wd_tl_kind, kind_names)

const char *wd_escalation_name(enum wd_escalation e)
{
    return name_of(escalation_names, COUNT_OF(escalation_names), (unsigned)e);
}

const char *wd_resume_basis_name(enum wd_resume_basis b)
{
    return name_of(basis_names, COUNT_OF(basis_names), (unsigned)b);
}

/* ---- the transition table ------------------------------------------------ */

bool wd_inc_status_active(enum wd_inc_status s)
{
    return (unsigned)s <= (unsigned)WD_INC_MONITORING;
}

bool wd_inc_transition_allowed(enum wd_inc_status from, enum wd_inc_status to)
{
    if ((unsigned)from >= WD_INC__COUNT || (unsigned)to >= WD_INC__COUNT) {
        return false;
    }
    if (wd_inc_status_active(from)) {
        if (to > from && to <= WD_INC_RESOLVED) {
            return true; /* forward, skipping allowed */
        }
        /* A relapse: what was found, fixed or watched turns out not to be
         * the whole story. */
        return to == WD_INC_INVESTIGATING && from >= WD_INC_IDENTIFIED;
    }
    return from == WD_INC_RESOLVED && to == WD_INC_CLOSED;
}

/* Why from -> to is not in the table, in words. */
static const char *refusal_reason(enum wd_inc_status from, enum wd_inc_status to)
{
    if (from == to) {
        return "it is already there";
    }
    if (to == WD_INC_OPEN) {
        return "nothing returns to open";
    }
    if (from == WD_INC_RESOLVED) {
        return "a resolved incident only closes, after its review; a recurrence opens a new "
               "incident";
    }
    if (to == WD_INC_CLOSED) {
        return "only a resolved incident closes, after its review";
    }
    return "only identified, fixing and monitoring fall back, to investigating";
}

/* "a, b, c" of the statuses allowed from `from`, or "none". */
static void allowed_list(enum wd_inc_status from, char *buf, size_t cap)
{
    size_t len = 0;
    buf[0] = '\0';
    for (unsigned t = 0; t < WD_INC__COUNT; t++) {
        if (!wd_inc_transition_allowed(from, (enum wd_inc_status)t)) {
            continue;
        }
        int n = snprintf(buf + len, cap - len, "%s%s", len ? ", " : "", status_names[t]);
        if (n < 0 || (size_t)n >= cap - len) {
            break;
        }
        len += (size_t)n;
    }
    if (len == 0) {
        (void)snprintf(buf, cap, "none");
    }
}

/* ---- ids ----------------------------------------------------------------- */

enum wd_status wd_incident_id_format(int64_t day, uint32_t seq, char *buf, size_t cap)
{
    int64_t y;
    unsigned m, d;
    if (seq < 1u || seq > 9999u) {
        return WD_ERANGE;
    }
    wd_civil_from_days(day, &y, &m, &d);
    if (y < 0 || y > 9999) {
        return WD_ERANGE;
    }
    if (cap < WD_INCIDENT_ID_MAX) {
        return WD_EFULL;
    }
    (void)snprintf(buf, cap, "INC-%04lld%02u%02u-%03u", (long long)y, m, d, seq);
    return WD_OK;
}

static bool all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return false;
        }
    }
    return true;
}

static unsigned digits_value(const char *s, size_t n)
{
    unsigned v = 0;
    for (size_t i = 0; i < n; i++) {
        v = v * 10u + (unsigned)(s[i] - '0');
    }
    return v;
}

enum wd_status wd_incident_id_parse(const char *id, int64_t *day, uint32_t *seq)
{
    if (id == NULL) {
        return WD_EINVAL;
    }
    size_t len = strlen(id);
    /* INC- 8 digits - 3 or 4 digits */
    if ((len != 16 && len != 17) || strncmp(id, "INC-", 4) != 0 || id[12] != '-' ||
        !all_digits(id + 4, 8) || !all_digits(id + 13, len - 13)) {
        return WD_EINVAL;
    }
    unsigned y = digits_value(id + 4, 4), m = digits_value(id + 8, 2),
             d = digits_value(id + 10, 2), n = digits_value(id + 13, len - 13);
    if (m < 1 || m > 12 || d < 1 || d > 31 || n < 1 || (len == 17 && n < 1000)) {
        return WD_EINVAL;
    }
    int64_t days = wd_days_from_civil(y, m, d);
    int64_t ry;
    unsigned rm, rd;
    wd_civil_from_days(days, &ry, &rm, &rd);
    if (ry != (int64_t)y || rm != m || rd != d) {
        return WD_EINVAL; /* 2026-02-30 and the like */
    }
    if (day != NULL) {
        *day = days;
    }
    if (seq != NULL) {
        *seq = n;
    }
    return WD_OK;
}

/* ---- validation helpers ------------------------------------------------- */

/* A person's name: 1 .. WD_WHO_MAX-1 bytes, no control character. */
static enum wd_status check_name(const char *s, const char *what, struct wd_error *err)
{
    if (s == NULL || s[0] == '\0') {
        return wd_error_set(err, WD_EINVAL, "%s is empty: say who", what);
    }
    size_t n = strlen(s);
    if (n >= WD_WHO_MAX) {
        return wd_error_set(err, WD_ERANGE, "%s is %zu bytes long; at most %d are kept", what,
                            n, WD_WHO_MAX - 1);
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f) {
            return wd_error_set(err, WD_EINVAL, "%s has a control character", what);
        }
    }
    return WD_OK;
}

/* A free text of min_len .. cap-1 bytes (NULL counts as ""). */
static enum wd_status check_text(const char *s, const char *what, size_t min_len, size_t cap,
                                 struct wd_error *err)
{
    size_t n = s != NULL ? strlen(s) : 0;
    if (n < min_len) {
        return wd_error_set(err, WD_EINVAL, "%s is empty", what);
    }
    if (n >= cap) {
        return wd_error_set(err, WD_ERANGE, "%s is %zu bytes long; at most %zu are kept", what,
                            n, cap - 1);
    }
    return WD_OK;
}

/* Copies a string already checked to fit. */
static void copy(char *dst, size_t cap, const char *src)
{
    size_t n = src != NULL ? strlen(src) : 0;
    if (n >= cap) {
        n = cap - 1;
    }
    if (n > 0) {
        memcpy(dst, src, n);
    }
    dst[n] = '\0';
}

/* The checks every mutation of an existing record starts with. */
static enum wd_status begin(const struct wd_incident *inc, const char *who, int64_t now_ns,
                            bool closed_ok, struct wd_error *err)
{
    if (inc->status == WD_INC_CLOSED && !closed_ok) {
        return wd_error_set(err, WD_ESTATE, "incident %s is closed: nothing changes it any more",
                            inc->id);
    }
    enum wd_status st = check_name(who, "who acts", err);
    if (st != WD_OK) {
        return st;
    }
    if (now_ns < inc->updated_ns) {
        return wd_error_set(err, WD_EINVAL,
                            "incident %s changed last at %lld ns; a change dated %lld ns would "
                            "go back in time",
                            inc->id, (long long)inc->updated_ns, (long long)now_ns);
    }
    return WD_OK;
}

/* Fills *e (if non-NULL) and stamps the record's last change. */
static void WD_PRINTF(8, 9)
    record(struct wd_incident *inc, struct wd_timeline_entry *e, enum wd_tl_kind kind,
           const char *who, int64_t now_ns, const char *from, const char *to, const char *fmt,
           ...)
{
    inc->updated_ns = now_ns;
    if (e == NULL) {
        return;
    }
    memset(e, 0, sizeof *e);
    e->ts_ns = now_ns;
    copy(e->incident, sizeof e->incident, inc->id);
    e->kind = kind;
    copy(e->who, sizeof e->who, who);
    copy(e->from, sizeof e->from, from);
    copy(e->to, sizeof e->to, to);
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(e->text, sizeof e->text, fmt, ap);
    va_end(ap);
}

/* "5 min", "2 h": targets are whole minutes. */
static void format_span(int64_t ns, char *buf, size_t cap)
{
    if (ns % HOUR_NS == 0) {
        (void)snprintf(buf, cap, "%lld h", (long long)(ns / HOUR_NS));
    } else {
        (void)snprintf(buf, cap, "%lld min", (long long)(ns / MIN_NS));
    }
}

/* ---- opening ------------------------------------------------------------- */

enum wd_status wd_incident_open(struct wd_incident *inc, const struct wd_incident_opening *o,
                                int64_t now_ns, struct wd_timeline_entry *entry,
                                struct wd_error *err)
{
    enum wd_status st;
    if (o->id == NULL || wd_incident_id_parse(o->id, NULL, NULL) != WD_OK) {
        return wd_error_set(err, WD_EINVAL, "incident id '%s' is not INC-YYYYMMDD-NNN",
                            o->id != NULL ? o->id : "");
    }
    if ((unsigned)o->scenario >= WD_SC__COUNT) {
        return wd_error_set(err, WD_EINVAL, "incident %s: unknown scenario %u", o->id,
                            (unsigned)o->scenario);
    }
    if ((unsigned)o->severity > (unsigned)WD_P3) {
        return wd_error_set(err, WD_EINVAL, "incident %s: unknown severity %u", o->id,
                            (unsigned)o->severity);
    }
    enum wd_severity floor_sev = wd_scenario_default_severity(o->scenario);
    if (o->scenario != WD_SC_MANUAL && o->severity > floor_sev) {
        return wd_error_set(err, WD_EINVAL,
                            "incident %s: a %s incident is at least %s (the playbook's "
                            "default); %s would lower it",
                            o->id, wd_scenario_name(o->scenario), wd_severity_name(floor_sev),
                            wd_severity_name(o->severity));
    }
    enum wd_scope_kind kind;
    const char *scope_name;
    if (o->scope == NULL) {
        return wd_error_set(err, WD_EINVAL, "incident %s: no scope", o->id);
    }
    if ((st = wd_scope_parse(o->scope, &kind, &scope_name, err)) != WD_OK ||
        (st = check_text(o->scope, "the scope", 1, WD_SCOPE_MAX, err)) != WD_OK ||
        (st = check_text(o->title, "the title", 1, WD_TEXT_MAX, err)) != WD_OK ||
        (st = check_text(o->detail, "the detail", 0, WD_INCIDENT_DETAIL_MAX, err)) != WD_OK ||
        (st = check_name(o->who, "who opens it", err)) != WD_OK) {
        return st;
    }
    if (now_ns <= 0) {
        return wd_error_set(err, WD_EINVAL, "incident %s: opening time %lld ns is not after the "
                            "epoch", o->id, (long long)now_ns);
    }

    memset(inc, 0, sizeof *inc);
    copy(inc->id, sizeof inc->id, o->id);
    inc->scenario = o->scenario;
    copy(inc->scope, sizeof inc->scope, o->scope);
    inc->severity = o->severity;
    copy(inc->title, sizeof inc->title, o->title);
    copy(inc->detail, sizeof inc->detail, o->detail);
    inc->status = WD_INC_OPEN;
    copy(inc->opened_by, sizeof inc->opened_by, o->who);
    inc->opened_ns = now_ns;
    inc->trading_halted = o->trading_halted;
    inc->pnl_open = o->pnl_open;
    const char *const *crit = wd_scenario_recovery_criteria(o->scenario);
    for (uint32_t i = 0; crit[i] != NULL && i < WD_INCIDENT_CRITERIA_MAX; i++) {
        copy(inc->criteria[i].text, sizeof inc->criteria[i].text, crit[i]);
        inc->n_criteria = i + 1;
    }
    record(inc, entry, WD_TL_OPENED, o->who, now_ns, "", "open", "opened %s %s incident on %s: %s",
           wd_severity_name(inc->severity), wd_scenario_name(inc->scenario), inc->scope,
           inc->title);
    return WD_OK;
}

/* ---- lifecycle ----------------------------------------------------------- */

int wd_incident_first_unticked(const struct wd_incident *inc)
{
    for (uint32_t i = 0; i < inc->n_criteria && i < WD_INCIDENT_CRITERIA_MAX; i++) {
        if (!inc->criteria[i].done) {
            return (int)i;
        }
    }
    return -1;
}

static bool gated(enum wd_severity s)
{
    return s <= WD_P1;
}

enum wd_status wd_incident_transition(struct wd_incident *inc, enum wd_inc_status to,
                                      const char *who, int64_t now_ns,
                                      struct wd_timeline_entry *entry, struct wd_error *err)
{
    enum wd_status st = begin(inc, who, now_ns, false, err);
    if (st != WD_OK) {
        return st;
    }
    enum wd_inc_status from = inc->status;
    if ((unsigned)to >= WD_INC__COUNT) {
        return wd_error_set(err, WD_EINVAL, "incident %s: unknown status %u", inc->id,
                            (unsigned)to);
    }
    if (!wd_inc_transition_allowed(from, to)) {
        char allowed[128];
        allowed_list(from, allowed, sizeof allowed);
        return wd_error_set(err, WD_ESTATE,
                            "incident %s cannot go from %s to %s (%s); allowed from %s: %s",
                            inc->id, status_names[from], status_names[to],
                            refusal_reason(from, to), status_names[from], allowed);
    }
    if (to == WD_INC_RESOLVED && gated(inc->severity)) {
        int k = wd_incident_first_unticked(inc);
        if (k >= 0) {
            return wd_error_set(err, WD_ESTATE,
                                "incident %s is %s and cannot go from %s to resolved while a "
                                "recovery criterion is unticked: %d of %u, \"%s\"",
                                inc->id, wd_severity_name(inc->severity), status_names[from],
                                k + 1, inc->n_criteria, inc->criteria[k].text);
        }
    }

    const char *ack_note = "";
    if (from == WD_INC_OPEN) {
        inc->acknowledged_ns = now_ns;
        ack_note = to == WD_INC_ACKNOWLEDGED ? "" : " (acknowledged)";
    }
    if (to == WD_INC_RESOLVED) {
        inc->resolved_ns = now_ns;
    } else if (to == WD_INC_CLOSED) {
        inc->closed_ns = now_ns;
    }
    inc->status = to;
    record(inc, entry, WD_TL_STATUS, who, now_ns, status_names[from], status_names[to],
           "status %s -> %s%s", status_names[from], status_names[to], ack_note);
    return WD_OK;
}

enum wd_status wd_incident_raise(struct wd_incident *inc, enum wd_severity to, const char *who,
                                 int64_t now_ns, struct wd_timeline_entry *entry,
                                 struct wd_error *err)
{
    enum wd_status st = begin(inc, who, now_ns, false, err);
    if (st != WD_OK) {
        return st;
    }
    if ((unsigned)to > (unsigned)WD_P3) {
        return wd_error_set(err, WD_EINVAL, "incident %s: unknown severity %u", inc->id,
                            (unsigned)to);
    }
    if (!wd_inc_status_active(inc->status)) {
        return wd_error_set(err, WD_ESTATE,
                            "incident %s is %s: severity changes only while it is active",
                            inc->id, status_names[inc->status]);
    }
    if (to >= inc->severity) {
        return wd_error_set(err, WD_ESTATE,
                            "incident %s is %s: severity is only ever raised, and %s is %s",
                            inc->id, wd_severity_name(inc->severity), wd_severity_name(to),
                            to == inc->severity ? "the same" : "lower");
    }
    const char *from = wd_severity_name(inc->severity);
    inc->severity = to;
    record(inc, entry, WD_TL_SEVERITY, who, now_ns, from, wd_severity_name(to),
           "severity raised %s -> %s", from, wd_severity_name(to));
    return WD_OK;
}

/* ---- roles --------------------------------------------------------------- */

/* The single-holder role's field, NULL for SMEs. */
static char *role_field(struct wd_incident *inc, enum wd_inc_role role)
{
    switch (role) {
    case WD_IR_COMMANDER: return inc->commander;
    case WD_IR_RISK_OFFICER: return inc->risk_officer;
    case WD_IR_TECH_LEAD: return inc->tech_lead;
    case WD_IR_COMMS_LEAD: return inc->comms_lead;
    case WD_IR_SME:
    case WD_IR__COUNT: break;
    }
    return NULL;
}

static int find_sme(const struct wd_incident *inc, const char *name)
{
    for (uint32_t i = 0; i < inc->n_smes && i < WD_INCIDENT_SME_MAX; i++) {
        if (strcmp(inc->smes[i], name) == 0) {
            return (int)i;
        }
    }
    return -1;
}

static enum wd_status role_args(const struct wd_incident *inc, enum wd_inc_role role,
                                const char *name, const char *who, int64_t now_ns,
                                struct wd_error *err)
{
    enum wd_status st = begin(inc, who, now_ns, false, err);
    if (st != WD_OK) {
        return st;
    }
    if ((unsigned)role >= WD_IR__COUNT) {
        return wd_error_set(err, WD_EINVAL, "incident %s: unknown role %u", inc->id,
                            (unsigned)role);
    }
    return check_name(name, "the role holder", err);
}

enum wd_status wd_incident_assign(struct wd_incident *inc, enum wd_inc_role role,
                                  const char *name, const char *who, int64_t now_ns,
                                  struct wd_timeline_entry *entry, struct wd_error *err)
{
    enum wd_status st = role_args(inc, role, name, who, now_ns, err);
    if (st != WD_OK) {
        return st;
    }
    const char *rname = role_names[role];
    if (role == WD_IR_SME) {
        if (find_sme(inc, name) >= 0) {
            return wd_error_set(err, WD_ESTATE, "incident %s: %s is already an SME", inc->id,
                                name);
        }
        if (inc->n_smes >= WD_INCIDENT_SME_MAX) {
            return wd_error_set(err, WD_EFULL,
                                "incident %s already has %d SMEs: remove one first", inc->id,
                                WD_INCIDENT_SME_MAX);
        }
        copy(inc->smes[inc->n_smes], WD_WHO_MAX, name);
        inc->n_smes++;
        record(inc, entry, WD_TL_ROLE, who, now_ns, "", name, "sme added: %s", name);
        return WD_OK;
    }
    char *field = role_field(inc, role);
    if (strcmp(field, name) == 0) {
        return wd_error_set(err, WD_ESTATE, "incident %s: %s is already the %s", inc->id, name,
                            rname);
    }
    char old[WD_WHO_MAX];
    copy(old, sizeof old, field);
    copy(field, WD_WHO_MAX, name);
    if (old[0] == '\0') {
        record(inc, entry, WD_TL_ROLE, who, now_ns, "", name, "%s assigned: %s", rname, name);
    } else {
        record(inc, entry, WD_TL_ROLE, who, now_ns, old, name, "%s reassigned: %s -> %s", rname,
               old, name);
    }
    return WD_OK;
}

enum wd_status wd_incident_unassign(struct wd_incident *inc, enum wd_inc_role role,
                                    const char *name, const char *who, int64_t now_ns,
                                    struct wd_timeline_entry *entry, struct wd_error *err)
{
    enum wd_status st = role_args(inc, role, name, who, now_ns, err);
    if (st != WD_OK) {
        return st;
    }
    const char *rname = role_names[role];
    if (role == WD_IR_SME) {
        int k = find_sme(inc, name);
        if (k < 0) {
            return wd_error_set(err, WD_ENOTFOUND, "incident %s: %s is not an SME", inc->id,
                                name);
        }
        char old[WD_WHO_MAX];
        copy(old, sizeof old, name); /* name may point into the list */
        memmove(inc->smes[k], inc->smes[k + 1],
                (size_t)(inc->n_smes - (uint32_t)k - 1u) * WD_WHO_MAX);
        inc->n_smes--;
        memset(inc->smes[inc->n_smes], 0, WD_WHO_MAX);
        record(inc, entry, WD_TL_ROLE, who, now_ns, old, "", "sme removed: %s", old);
        return WD_OK;
    }
    char *field = role_field(inc, role);
    if (strcmp(field, name) != 0) {
        return wd_error_set(err, WD_ENOTFOUND, "incident %s: the %s is %s, not %s", inc->id,
                            rname, field[0] ? field : "unassigned", name);
    }
    char old[WD_WHO_MAX];
    copy(old, sizeof old, field);
    memset(field, 0, WD_WHO_MAX);
    record(inc, entry, WD_TL_ROLE, who, now_ns, old, "", "%s released: %s", rname, old);
    return WD_OK;
}

/* ---- checklist, actions, impact, notes ----------------------------------- */

/* Marks a criterion or action item done by who at now_ns, or not done (who
 * and when cleared). by has WD_WHO_MAX bytes. */
static void stamp(bool *flag, char *by, int64_t *when_ns, bool done, const char *who,
                  int64_t now_ns)
{
    *flag = done;
    if (done) {
        copy(by, WD_WHO_MAX, who);
        *when_ns = now_ns;
    } else {
        memset(by, 0, WD_WHO_MAX);
        *when_ns = 0;
    }
}

enum wd_status wd_incident_check(struct wd_incident *inc, uint32_t index, bool done,
                                 const char *who, int64_t now_ns,
                                 struct wd_timeline_entry *entry, struct wd_error *err)
{
    enum wd_status st = begin(inc, who, now_ns, false, err);
    if (st != WD_OK) {
        return st;
    }
    if (index >= inc->n_criteria) {
        return wd_error_set(err, WD_ENOTFOUND,
                            "incident %s has %u recovery criteria; there is no criterion %u",
                            inc->id, inc->n_criteria, index + 1u);
    }
    struct wd_inc_check *c = &inc->criteria[index];
    if (c->done == done) {
        return wd_error_set(err, WD_ESTATE, "incident %s: criterion %u (\"%s\") is already %s",
                            inc->id, index + 1u, c->text, done ? "ticked" : "unticked");
    }
    if (!done && inc->status == WD_INC_RESOLVED && gated(inc->severity)) {
        return wd_error_set(err, WD_ESTATE,
                            "incident %s is a resolved %s: it was resolved on criterion %u "
                            "(\"%s\"), which stays ticked; a recurrence opens a new incident",
                            inc->id, wd_severity_name(inc->severity), index + 1u, c->text);
    }
    stamp(&c->done, c->who, &c->when_ns, done, who, now_ns);
    record(inc, entry, WD_TL_CHECK, who, now_ns, done ? "unticked" : "ticked",
           done ? "ticked" : "unticked", "criterion %u %s: %s", index + 1u,
           done ? "ticked" : "unticked", c->text);
    return WD_OK;
}

enum wd_status wd_incident_action_add(struct wd_incident *inc, const char *text,
                                      const char *owner, int64_t due_ns, const char *who,
                                      int64_t now_ns, uint32_t *index,
                                      struct wd_timeline_entry *entry, struct wd_error *err)
{
    enum wd_status st = begin(inc, who, now_ns, false, err);
    if (st != WD_OK || (st = check_text(text, "the action", 1, WD_TEXT_MAX, err)) != WD_OK ||
        (st = check_name(owner, "the action's owner", err)) != WD_OK) {
        return st;
    }
    if (due_ns < 0) {
        return wd_error_set(err, WD_EINVAL, "incident %s: due date %lld ns is before the epoch",
                            inc->id, (long long)due_ns);
    }
    if (inc->n_actions >= WD_INCIDENT_ACTION_MAX) {
        return wd_error_set(err, WD_EFULL, "incident %s already has %d action items", inc->id,
                            WD_INCIDENT_ACTION_MAX);
    }
    uint32_t k = inc->n_actions;
    struct wd_inc_action *a = &inc->actions[k];
    memset(a, 0, sizeof *a);
    copy(a->text, sizeof a->text, text);
    copy(a->owner, sizeof a->owner, owner);
    a->due_ns = due_ns;
    inc->n_actions = k + 1u;
    if (index != NULL) {
        *index = k;
    }
    char due[32] = "none";
    if (due_ns != 0) {
        (void)wd_time_format_utc(due_ns, due, sizeof due);
    }
    record(inc, entry, WD_TL_ACTION, who, now_ns, "", "open",
           "action %u added: %s (owner %s, due %s)", k + 1u, a->text, a->owner, due);
    return WD_OK;
}

enum wd_status wd_incident_action_done(struct wd_incident *inc, uint32_t index, bool done,
                                       const char *who, int64_t now_ns,
                                       struct wd_timeline_entry *entry, struct wd_error *err)
{
    enum wd_status st = begin(inc, who, now_ns, true, err);
    if (st != WD_OK) {
        return st;
    }
    if (index >= inc->n_actions) {
        return wd_error_set(err, WD_ENOTFOUND,
                            "incident %s has %u action items; there is no action %u", inc->id,
                            inc->n_actions, index + 1u);
    }
    struct wd_inc_action *a = &inc->actions[index];
    if (a->done == done) {
        return wd_error_set(err, WD_ESTATE, "incident %s: action %u (\"%s\") is already %s",
                            inc->id, index + 1u, a->text, done ? "done" : "open");
    }
    stamp(&a->done, a->done_by, &a->done_ns, done, who, now_ns);
    record(inc, entry, WD_TL_ACTION, who, now_ns, done ? "open" : "done", done ? "done" : "open",
           "action %u %s: %s", index + 1u, done ? "done" : "reopened", a->text);
    return WD_OK;
}

enum wd_status wd_incident_set_pnl_resolved(struct wd_incident *inc, wd_fix pnl,
                                            const char *who, int64_t now_ns,
                                            struct wd_timeline_entry *entry,
                                            struct wd_error *err)
{
    enum wd_status st = begin(inc, who, now_ns, false, err);
    if (st != WD_OK) {
        return st;
    }
    if (inc->status != WD_INC_RESOLVED) {
        return wd_error_set(err, WD_ESTATE,
                            "incident %s is %s: the PnL at resolution is recorded once it is "
                            "resolved",
                            inc->id, status_names[inc->status]);
    }
    if (inc->pnl_resolved_known) {
        return wd_error_set(err, WD_ESTATE,
                            "incident %s: the PnL at resolution is already recorded", inc->id);
    }
    char open_s[32], res_s[32];
    (void)wd_fix_format(inc->pnl_open, 2, open_s, sizeof open_s);
    (void)wd_fix_format(pnl, 2, res_s, sizeof res_s);
    inc->pnl_resolved_known = true;
    inc->pnl_resolved = pnl;
    record(inc, entry, WD_TL_IMPACT, who, now_ns, "", res_s,
           "PnL at resolution %s (at open %s)", res_s, open_s);
    return WD_OK;
}

enum wd_status wd_incident_note(struct wd_incident *inc, enum wd_tl_kind kind, const char *text,
                                const char *who, int64_t now_ns,
                                struct wd_timeline_entry *entry, struct wd_error *err)
{
    enum wd_status st = begin(inc, who, now_ns, false, err);
    if (st != WD_OK) {
        return st;
    }
    if (kind != WD_TL_NOTE && kind != WD_TL_FINDING && kind != WD_TL_CONTROL &&
        kind != WD_TL_APPROVAL) {
        return wd_error_set(err, WD_EINVAL,
                            "incident %s: a %s entry is written by the change it records, not "
                            "as a note (note, finding, control, approval)",
                            inc->id, wd_tl_kind_name(kind));
    }
    if ((st = check_text(text, "the note", 1, WD_TIMELINE_TEXT_MAX, err)) != WD_OK) {
        return st;
    }
    record(inc, entry, kind, who, now_ns, "", "", "%s", text);
    return WD_OK;
}

/* ---- SLA and escalation -------------------------------------------------- */

int64_t wd_sla_ack_target_ns(enum wd_severity s)
{
    switch (s) {
    case WD_P0: return 5 * MIN_NS;
    case WD_P1: return 15 * MIN_NS;
    case WD_P2: return HOUR_NS;
    case WD_P3: return 24 * HOUR_NS;
    }
    return 24 * HOUR_NS;
}

int64_t wd_sla_resolve_target_ns(enum wd_scenario sc)
{
    /* The upper bound of each playbook's "Expected Resolution Time". */
    switch (sc) {
    case WD_SC_KILL_PNL:
    case WD_SC_KILL_PSR: return 4 * HOUR_NS;          /* P0-1: 1-4 hours */
    case WD_SC_KILL_DRAWDOWN: return 24 * HOUR_NS;    /* P0-2: 4-24 hours */
    case WD_SC_UNAUTHORIZED: return 5 * 24 * HOUR_NS; /* P0-3: 1-5 days for full resolution */
    case WD_SC_BROKER_DISCONNECT: return 30 * MIN_NS; /* P1-1: 5-30 minutes */
    case WD_SC_BUS_FAILURE: return 30 * MIN_NS;       /* P1-2: 10-30 minutes */
    case WD_SC_REJECT_SPIKE: return 2 * HOUR_NS;      /* P1-3: 30 minutes - 2 hours */
    case WD_SC_HIGH_LATENCY: return 4 * HOUR_NS;      /* P2-1: 1-4 hours */
    case WD_SC_DATA_QUALITY: return 2 * HOUR_NS;      /* P2-2: 30 minutes - 2 hours */
    case WD_SC_MANUAL:
    case WD_SC__COUNT: break;
    }
    return 0;
}

static int64_t sat_add(int64_t a, int64_t b)
{
    int64_t r;
    return __builtin_add_overflow(a, b, &r) ? (b > 0 ? INT64_MAX : INT64_MIN) : r;
}

static int64_t sat_sub(int64_t a, int64_t b)
{
    int64_t r;
    return __builtin_sub_overflow(a, b, &r) ? (b < 0 ? INT64_MAX : INT64_MIN) : r;
}

static bool is_resolved(const struct wd_incident *inc)
{
    return inc->status == WD_INC_RESOLVED || inc->status == WD_INC_CLOSED;
}

void wd_incident_sla(const struct wd_incident *inc, int64_t now_ns, struct wd_incident_sla *out)
{
    memset(out, 0, sizeof *out);
    out->ack_target_ns = wd_sla_ack_target_ns(inc->severity);
    out->ack_due_ns = sat_add(inc->opened_ns, out->ack_target_ns);
    out->acknowledged = inc->acknowledged_ns != 0;
    out->ack_remaining_ns =
        sat_sub(out->ack_due_ns, out->acknowledged ? inc->acknowledged_ns : now_ns);
    out->ack_breached = out->ack_remaining_ns < 0;
    out->resolved = is_resolved(inc);
    out->resolve_target_ns = wd_sla_resolve_target_ns(inc->scenario);
    if (out->resolve_target_ns != 0) {
        out->resolve_due_ns = sat_add(inc->opened_ns, out->resolve_target_ns);
        out->resolve_remaining_ns =
            sat_sub(out->resolve_due_ns, out->resolved ? inc->resolved_ns : now_ns);
        out->resolve_breached = out->resolve_remaining_ns < 0;
    }
}

int64_t wd_incident_duration_ns(const struct wd_incident *inc, int64_t now_ns)
{
    return sat_sub(is_resolved(inc) ? inc->resolved_ns : now_ns, inc->opened_ns);
}

enum wd_escalation wd_incident_escalation_level(const struct wd_incident *inc, int64_t now_ns)
{
    int64_t d = wd_incident_duration_ns(inc, now_ns);
    if (d > WD_ESCALATE_MANAGEMENT_NS) {
        return WD_ESC_MANAGEMENT;
    }
    if (d > WD_ESCALATE_SENIOR_NS) {
        return WD_ESC_SENIOR_ENGINEER;
    }
    return WD_ESC_ON_CALL;
}

bool wd_incident_tick(struct wd_incident *inc, int64_t now_ns, struct wd_timeline_entry *entry)
{
    if (!wd_inc_status_active(inc->status) || now_ns < inc->updated_ns) {
        return false;
    }
    struct wd_incident_sla sla;
    char span[24], due[32];
    wd_incident_sla(inc, now_ns, &sla);
    if (sla.ack_breached && !inc->ack_breach_noted) {
        inc->ack_breach_noted = true;
        format_span(sla.ack_target_ns, span, sizeof span);
        (void)wd_time_format_utc(sla.ack_due_ns, due, sizeof due);
        record(inc, entry, WD_TL_SLA_BREACH, "warden", now_ns, "", "ack_breached",
               "acknowledgement SLA breached: a %s is acknowledged within %s, due %s",
               wd_severity_name(inc->severity), span, due);
        return true;
    }
    enum wd_escalation level = wd_incident_escalation_level(inc, now_ns);
    if ((unsigned)level > inc->escalation_noted) {
        enum wd_escalation from = (enum wd_escalation)inc->escalation_noted;
        enum wd_escalation to = (enum wd_escalation)(inc->escalation_noted + 1u);
        inc->escalation_noted = (uint8_t)to;
        format_span(to == WD_ESC_MANAGEMENT ? WD_ESCALATE_MANAGEMENT_NS : WD_ESCALATE_SENIOR_NS,
                    span, sizeof span);
        record(inc, entry, WD_TL_ESCALATION, "warden", now_ns, wd_escalation_name(from),
               wd_escalation_name(to), "unresolved for more than %s: escalate to %s", span,
               to == WD_ESC_MANAGEMENT ? "management" : "a senior engineer");
        return true;
    }
    if (sla.resolve_breached && !inc->resolve_breach_noted) {
        inc->resolve_breach_noted = true;
        format_span(sla.resolve_target_ns, span, sizeof span);
        (void)wd_time_format_utc(sla.resolve_due_ns, due, sizeof due);
        record(inc, entry, WD_TL_SLA_BREACH, "warden", now_ns, "", "resolve_breached",
               "resolution target passed: %s (%s) is expected resolved within %s, due %s",
               wd_scenario_name(inc->scenario), wd_scenario_playbook(inc->scenario), span, due);
        return true;
    }
    return false;
}

/* ---- resuming ------------------------------------------------------------ */

bool wd_incident_may_resume(const struct wd_incident *inc, enum wd_resume_basis *why)
{
    enum wd_resume_basis b;
    if (!gated(inc->severity)) {
        b = WD_RESUME_NOT_GATED;
    } else if (is_resolved(inc)) {
        b = WD_RESUME_RESOLVED;
    } else if (wd_incident_first_unticked(inc) < 0) {
        b = WD_RESUME_CRITERIA_MET;
    } else {
        b = WD_RESUME_BLOCKED;
    }
    if (why != NULL) {
        *why = b;
    }
    return b != WD_RESUME_BLOCKED;
}

/* ---- canonical form ------------------------------------------------------ */

struct out {
    char *buf;
    size_t cap, len;
};

static void put(struct out *o, const char *s, size_t n)
{
    if (o->len < o->cap) {
        size_t room = o->cap - o->len;
        memcpy(o->buf + o->len, s, n < room ? n : room);
    }
    o->len += n;
}

static void raw(struct out *o, const char *s)
{
    put(o, s, strlen(s));
}

static void str(struct out *o, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    put(o, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        if (*p == '"' || *p == '\\') {
            char esc[2] = {'\\', (char)*p};
            put(o, esc, 2);
        } else if (*p < 0x20 || *p == 0x7f) {
            char esc[6] = {'\\', 'u', '0', '0', hex[*p >> 4], hex[*p & 15]};
            put(o, esc, 6);
        } else {
            put(o, (const char *)p, 1);
        }
    }
    put(o, "\"", 1);
}

static void i64(struct out *o, int64_t v)
{
    char b[24];
    int n = snprintf(b, sizeof b, "%lld", (long long)v);
    put(o, b, (size_t)n);
}

static void money(struct out *o, wd_fix v)
{
    char b[40];
    size_t n = wd_fix_format(v, 0, b + 1, sizeof b - 2);
    b[0] = '"';
    b[n + 1] = '"';
    put(o, b, n + 2);
}

/* A key (with its leading punctuation, as written) and its value. */
static void kstr(struct out *o, const char *key, const char *v)
{
    raw(o, key);
    str(o, v);
}

static void ki64(struct out *o, const char *key, int64_t v)
{
    raw(o, key);
    i64(o, v);
}

static void kbool(struct out *o, const char *key, bool v)
{
    raw(o, key);
    raw(o, v ? "true" : "false");
}

size_t wd_incident_canonical(const struct wd_incident *inc, char *buf, size_t cap)
{
    struct out o = {buf, cap, 0};
    kstr(&o, "{\"v\":1,\"id\":", inc->id);
    kstr(&o, ",\"scenario\":", wd_scenario_name(inc->scenario));
    kstr(&o, ",\"scope\":", inc->scope);
    kstr(&o, ",\"severity\":", wd_severity_name(inc->severity));
    kstr(&o, ",\"title\":", inc->title);
    kstr(&o, ",\"detail\":", inc->detail);
    kstr(&o, ",\"status\":", wd_inc_status_name(inc->status));
    kstr(&o, ",\"opened_by\":", inc->opened_by);
    ki64(&o, ",\"opened_ns\":", inc->opened_ns);
    ki64(&o, ",\"acknowledged_ns\":", inc->acknowledged_ns);
    ki64(&o, ",\"resolved_ns\":", inc->resolved_ns);
    ki64(&o, ",\"closed_ns\":", inc->closed_ns);
    ki64(&o, ",\"updated_ns\":", inc->updated_ns);

    kstr(&o, ",\"roles\":{\"commander\":", inc->commander);
    kstr(&o, ",\"risk_officer\":", inc->risk_officer);
    kstr(&o, ",\"technical_lead\":", inc->tech_lead);
    kstr(&o, ",\"communications_lead\":", inc->comms_lead);
    raw(&o, ",\"smes\":[");
    for (uint32_t i = 0; i < inc->n_smes && i < WD_INCIDENT_SME_MAX; i++) {
        kstr(&o, i > 0 ? "," : "", inc->smes[i]);
    }
    raw(&o, "]}");

    kbool(&o, ",\"impact\":{\"trading_halted\":", inc->trading_halted);
    raw(&o, ",\"pnl_open\":");
    money(&o, inc->pnl_open);
    raw(&o, ",\"pnl_resolved\":");
    if (inc->pnl_resolved_known) {
        money(&o, inc->pnl_resolved);
    } else {
        raw(&o, "null");
    }
    raw(&o, "}");

    raw(&o, ",\"criteria\":[");
    for (uint32_t i = 0; i < inc->n_criteria && i < WD_INCIDENT_CRITERIA_MAX; i++) {
        const struct wd_inc_check *c = &inc->criteria[i];
        kstr(&o, i > 0 ? ",{\"text\":" : "{\"text\":", c->text);
        kbool(&o, ",\"done\":", c->done);
        kstr(&o, ",\"who\":", c->who);
        ki64(&o, ",\"when_ns\":", c->when_ns);
        raw(&o, "}");
    }
    raw(&o, "]");

    raw(&o, ",\"actions\":[");
    for (uint32_t i = 0; i < inc->n_actions && i < WD_INCIDENT_ACTION_MAX; i++) {
        const struct wd_inc_action *a = &inc->actions[i];
        kstr(&o, i > 0 ? ",{\"text\":" : "{\"text\":", a->text);
        kstr(&o, ",\"owner\":", a->owner);
        ki64(&o, ",\"due_ns\":", a->due_ns);
        kbool(&o, ",\"done\":", a->done);
        kstr(&o, ",\"done_by\":", a->done_by);
        ki64(&o, ",\"done_ns\":", a->done_ns);
        raw(&o, "}");
    }
    raw(&o, "]");

    kbool(&o, ",\"noted\":{\"ack_breach\":", inc->ack_breach_noted);
    kbool(&o, ",\"resolve_breach\":", inc->resolve_breach_noted);
    kstr(&o, ",\"escalation\":", wd_escalation_name((enum wd_escalation)inc->escalation_noted));
    raw(&o, "}}");

    if (cap > 0) {
        buf[o.len < cap ? o.len : cap - 1] = '\0';
    }
    return o.len;
}
