/*
 * On-call rotation and escalation chain (include/warden/oncall.h): plain
 * arithmetic over the configuration, an incident record and an instant.
 * Local times go through the zone the caller gives, so every rule is right
 * across DST. Must not read a clock or allocate.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "warden/oncall.h"
#include "warden/timeutil.h"

#define MIN_NS (60LL * WD_NS_PER_S)

static void set_text(char *dst, size_t cap, const char *src)
{
    (void)snprintf(dst, cap, "%s", src);
}

static void level_init(struct wd_esc_level *l, const char *name, bool rotation,
                       struct wd_hours hours, uint8_t severities)
{
    memset(l, 0, sizeof *l);
    set_text(l->name, sizeof l->name, name);
    l->rotation = rotation;
    l->hours = hours;
    l->severities = severities;
}

void wd_oncall_config_init(struct wd_oncall_config *c)
{
    const struct wd_hours always = {0x7f, 0, 1440};
    const struct wd_hours market = {0x3e, 9 * 60 + 30, 16 * 60}; /* Mon-Fri 09:30-16:00 */
    memset(c, 0, sizeof *c);
    c->handoff_wday = 0;
    c->handoff_min = 9 * 60;
    level_init(&c->levels[0], "On-Call", true, always, 0x0f);
    level_init(&c->levels[1], "Senior Engineer", false, always, 0x0f);
    level_init(&c->levels[2], "Risk Officer", false, market, 0x0f);
    level_init(&c->levels[3], "CTO", false, always, 0x0f);
    level_init(&c->levels[4], "CEO", false, always, 0x01);
    c->n_levels = 5;
}

int64_t wd_oncall_start_day(const struct wd_oncall_config *c)
{
    if (c->start_given) {
        return c->start_day;
    }
    /* 1970-01-01 was a Thursday (4). */
    return ((int64_t)c->handoff_wday + 7 - 4) % 7;
}

const struct wd_oncall_engineer *wd_oncall_engineer(const struct wd_oncall_config *c,
                                                     const char *name)
{
    for (uint32_t i = 0; name != NULL && i < c->n_engineers; i++) {
        if (strcmp(c->engineers[i].name, name) == 0) {
            return &c->engineers[i];
        }
    }
    return NULL;
}

/* Formats one problem and hands it to fn. */
static void problem(wd_oncall_problem_fn fn, void *ctx, const void *field, size_t *n,
                    const char *fmt, ...) WD_PRINTF(5, 6);

static void problem(wd_oncall_problem_fn fn, void *ctx, const void *field, size_t *n,
                    const char *fmt, ...)
{
    char msg[WD_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    (*n)++;
    if (fn != NULL) {
        fn(ctx, field, msg);
    }
}

size_t wd_oncall_config_check(const struct wd_oncall_config *c, wd_oncall_problem_fn fn,
                              void *ctx)
{
    size_t n = 0;
    if (c->start_given && wd_weekday_from_days(c->start_day) != c->handoff_wday) {
        char d[16];
        (void)wd_date_format(c->start_day, d, sizeof d);
        problem(fn, ctx, &c->start_day, &n,
                "oncall.start: %s is not a handoff day (oncall.handoff.day)", d);
    }
    for (uint32_t i = 0; i < c->n_engineers; i++) {
        for (uint32_t j = 0; j < i; j++) {
            if (strcmp(c->engineers[i].name, c->engineers[j].name) == 0) {
                problem(fn, ctx, &c->engineers[i], &n,
                        "oncall.engineers[%u]: '%s' is already engineers[%u]", i,
                        c->engineers[i].name, j);
            }
        }
    }
    for (uint32_t i = 0; i < c->n_overrides; i++) {
        const struct wd_oncall_override *o = &c->overrides[i];
        if (wd_oncall_engineer(c, o->person) == NULL) {
            problem(fn, ctx, o, &n, "oncall.overrides[%u].person: '%s' is not in oncall.engineers",
                    i, o->person);
        }
        if (o->covered_by[0] != '\0' && wd_oncall_engineer(c, o->covered_by) == NULL) {
            problem(fn, ctx, o, &n,
                    "oncall.overrides[%u].covered_by: '%s' is not in oncall.engineers", i,
                    o->covered_by);
        }
        if (strcmp(o->person, o->covered_by) == 0) {
            problem(fn, ctx, o, &n,
                    "oncall.overrides[%u].covered_by: '%s' cannot cover for themselves", i,
                    o->person);
        }
        /* Ends of one kind compare without a zone; mixed kinds (a date and
         * a time) are left to the zone's reading. */
        if (o->from.is_day == o->until.is_day &&
            (o->from.is_day ? o->until.value < o->from.value
                            : o->until.value <= o->from.value)) {
            problem(fn, ctx, o, &n, "oncall.overrides[%u].until: the range ends before it starts",
                    i);
        }
    }
    return n;
}

/* ---- time ---------------------------------------------------------------- */

int64_t wd_local_to_utc_ns(const struct wd_tz *tz, int64_t day, int minute)
{
    int64_t local = day * 86400 + (int64_t)minute * 60;
    /* The offsets a day before and after stand for the two sides of any
     * change near this time (zones change at most once in two days). */
    int32_t before = wd_tz_offset_s(tz, local - 86400);
    int32_t after = wd_tz_offset_s(tz, local + 86400);
    int64_t best = 0;
    bool found = false;
    const int32_t offs[2] = {before, after};
    for (int i = 0; i < 2; i++) {
        int64_t u = local - offs[i];
        if (wd_tz_offset_s(tz, u) == offs[i] && (!found || u < best)) {
            best = u;
            found = true;
        }
    }
    if (!found) {
        best = local - before; /* in a gap: as far past the change as it was meant before it */
    }
    return best * WD_NS_PER_S;
}

int64_t wd_oncall_when_ns(const struct wd_tz *tz, const struct wd_oncall_when *w, bool as_end)
{
    if (!w->is_day) {
        return w->value;
    }
    return wd_tz_day_start_ns(tz, as_end ? w->value + 1 : w->value);
}

/* Local weekday and minute of the day of an instant. */
static void local_clock(const struct wd_tz *tz, int64_t now_ns, unsigned *wday, int *minute)
{
    int64_t s = wd_floor_div(now_ns, WD_NS_PER_S);
    int64_t local = s + wd_tz_offset_s(tz, s);
    int64_t day = wd_floor_div(local, 86400);
    *wday = wd_weekday_from_days(day);
    *minute = (int)((local - day * 86400) / 60);
}

bool wd_hours_contain(const struct wd_hours *h, const struct wd_tz *tz, int64_t now_ns)
{
    unsigned wday;
    int m;
    local_clock(tz, now_ns, &wday, &m);
    if (h->from_min <= h->to_min) {
        return (h->days_mask & (1u << wday)) != 0 && m >= h->from_min && m < h->to_min;
    }
    /* Across midnight: the evening part on its own day, the morning part
     * on the day after. */
    unsigned yday = (wday + 6u) % 7u;
    return ((h->days_mask & (1u << wday)) != 0 && m >= h->from_min) ||
           ((h->days_mask & (1u << yday)) != 0 && m < h->to_min);
}

/* ---- the rotation -------------------------------------------------------- */

static int64_t handoff_ns(const struct wd_oncall_config *c, const struct wd_tz *tz, int64_t day)
{
    return wd_local_to_utc_ns(tz, day, c->handoff_min);
}

static int64_t mod(int64_t a, int64_t n)
{
    int64_t r = a % n;
    return r < 0 ? r + n : r;
}

/* The override active at t for person, or NULL (the first listed wins). */
static const struct wd_oncall_override *away(const struct wd_oncall_config *c,
                                             const struct wd_tz *tz, const char *person,
                                             int64_t t)
{
    for (uint32_t i = 0; person != NULL && i < c->n_overrides; i++) {
        const struct wd_oncall_override *o = &c->overrides[i];
        if (strcmp(o->person, person) == 0 && t >= wd_oncall_when_ns(tz, &o->from, false) &&
            t < wd_oncall_when_ns(tz, &o->until, true)) {
            return o;
        }
    }
    return NULL;
}

/* The first engineer after index `after` in rotation order who is not away
 * at t and is not `not`; NULL if none. */
static const char *next_available(const struct wd_oncall_config *c, const struct wd_tz *tz,
                                  int64_t after, const char *not, int64_t t)
{
    int64_t n = c->n_engineers;
    for (int64_t k = 1; k <= n; k++) {
        const char *name = c->engineers[mod(after + k, n)].name;
        if ((not == NULL || strcmp(name, not) != 0) && away(c, tz, name, t) == NULL) {
            return name;
        }
    }
    return NULL;
}

static void shift_of_week(const struct wd_oncall_config *c, const struct wd_tz *tz,
                          int64_t week, int64_t t, struct wd_oncall_shift *out)
{
    int64_t start = wd_oncall_start_day(c);
    int64_t n = c->n_engineers;
    memset(out, 0, sizeof *out);
    out->week = week;
    out->start_ns = handoff_ns(c, tz, start + 7 * week);
    out->end_ns = handoff_ns(c, tz, start + 7 * (week + 1));
    if (n == 0) {
        return;
    }
    int64_t pi = mod(week, n), si = mod(week + 1, n);
    out->sched_primary = c->engineers[pi].name;
    out->sched_secondary = n > 1 ? c->engineers[si].name : NULL;
    out->primary = out->sched_primary;
    out->secondary = out->sched_secondary;

    out->primary_override = away(c, tz, out->primary, t);
    if (out->primary_override != NULL) {
        const struct wd_oncall_override *o = out->primary_override;
        if (o->covered_by[0] != '\0') {
            out->primary = o->covered_by;
        } else {
            /* The secondary steps up; if away too, the next one free. */
            out->primary = out->secondary != NULL && away(c, tz, out->secondary, t) == NULL
                               ? out->secondary
                               : next_available(c, tz, pi, NULL, t);
        }
    }
    if (out->secondary != NULL) {
        out->secondary_override = away(c, tz, out->secondary, t);
        const struct wd_oncall_override *o = out->secondary_override;
        if (o != NULL && o->covered_by[0] != '\0') {
            out->secondary = o->covered_by;
        } else if (o != NULL || (out->primary != NULL && strcmp(out->secondary, out->primary) == 0)) {
            out->secondary = next_available(c, tz, si, out->primary, t);
        }
    }
}

static int64_t week_at(const struct wd_oncall_config *c, const struct wd_tz *tz, int64_t t)
{
    int64_t start = wd_oncall_start_day(c);
    int64_t day = wd_tz_local_day(tz, t, NULL, NULL);
    int64_t week = wd_floor_div(day - start, 7);
    if (t < handoff_ns(c, tz, start + 7 * week)) {
        week--; /* the handoff day, before the handoff time */
    }
    return week;
}

void wd_oncall_at(const struct wd_oncall_config *c, const struct wd_tz *tz, int64_t now_ns,
                  struct wd_oncall_shift *out)
{
    shift_of_week(c, tz, week_at(c, tz, now_ns), now_ns, out);
}

void wd_oncall_next(const struct wd_oncall_config *c, const struct wd_tz *tz, int64_t now_ns,
                    struct wd_oncall_shift *out)
{
    int64_t week = week_at(c, tz, now_ns) + 1;
    int64_t start = handoff_ns(c, tz, wd_oncall_start_day(c) + 7 * week);
    shift_of_week(c, tz, week, start, out);
}

/* ---- escalation ---------------------------------------------------------- */

static void span_text(int64_t ns, char *buf, size_t cap)
{
    int64_t m = ns / MIN_NS;
    if (m % 1440 == 0) {
        (void)snprintf(buf, cap, "%lldd", (long long)(m / 1440));
    } else if (m % 60 == 0) {
        (void)snprintf(buf, cap, "%lldh", (long long)(m / 60));
    } else {
        (void)snprintf(buf, cap, "%lldm", (long long)m);
    }
}

uint32_t wd_escalation_target(const struct wd_oncall_config *c, const struct wd_incident *inc,
                              int64_t now_ns, char *why, size_t cap)
{
    char span[24], tmp[2];
    if (why == NULL || cap == 0) {
        why = tmp;
        cap = sizeof tmp;
    }
    if (!wd_inc_status_active(inc->status) || c->n_levels == 0) {
        (void)snprintf(why, cap, "not active");
        return 0;
    }
    uint32_t level = 1;
    (void)snprintf(why, cap, "opened");
    int64_t elapsed = now_ns - inc->opened_ns;
    int64_t target = wd_sla_ack_target_ns(inc->severity);
    if (inc->acknowledged_ns == 0 && elapsed > target) {
        uint32_t cap_level = inc->severity == WD_P0 ? 4 : 2;
        int64_t k = (elapsed - 1) / target;
        uint32_t l = k >= (int64_t)cap_level ? cap_level : (uint32_t)(1 + k);
        if (l > level) {
            level = l;
            span_text(target * (l - 1), span, sizeof span);
            (void)snprintf(why, cap, "not acknowledged within %s", span);
        }
    }
    int64_t unresolved = wd_incident_duration_ns(inc, now_ns);
    uint32_t by_time = unresolved > WD_ESCALATE_MANAGEMENT_NS ? 3
                       : unresolved > WD_ESCALATE_SENIOR_NS   ? 2
                                                              : 1;
    if (by_time > level) {
        level = by_time;
        span_text(by_time == 3 ? WD_ESCALATE_MANAGEMENT_NS : WD_ESCALATE_SENIOR_NS, span,
                  sizeof span);
        (void)snprintf(why, cap, "unresolved for more than %s", span);
    }
    return level > c->n_levels ? c->n_levels : level;
}

void wd_escalation_reason(const struct wd_incident *inc, uint32_t level, int64_t now_ns,
                          char *why, size_t cap)
{
    char span[24];
    int64_t ack_at = INT64_MAX, time_at = INT64_MAX; /* after opening, when each rule reached it */
    if (cap == 0) {
        return;
    }
    if (level <= 1) {
        (void)snprintf(why, cap, "opened");
        return;
    }
    int64_t target = wd_sla_ack_target_ns(inc->severity);
    uint32_t ack_cap = inc->severity == WD_P0 ? 4 : 2;
    int64_t elapsed = now_ns - inc->opened_ns;
    if (inc->acknowledged_ns == 0 && level <= ack_cap && elapsed > target * (int64_t)(level - 1)) {
        ack_at = target * (int64_t)(level - 1);
    }
    int64_t by_time = level == 2 ? WD_ESCALATE_SENIOR_NS
                      : level == 3 ? WD_ESCALATE_MANAGEMENT_NS
                                   : INT64_MAX;
    if (by_time != INT64_MAX && wd_incident_duration_ns(inc, now_ns) > by_time) {
        time_at = by_time;
    }
    if (ack_at == INT64_MAX && time_at == INT64_MAX) {
        why[0] = '\0';
    } else if (ack_at <= time_at) {
        span_text(ack_at, span, sizeof span);
        (void)snprintf(why, cap, "not acknowledged within %s", span);
    } else {
        span_text(time_at, span, sizeof span);
        (void)snprintf(why, cap, "unresolved for more than %s", span);
    }
}

/* The contacts of `list` within hours at now_ns, appended to out. */
static void add_available(const struct wd_contact *list, uint32_t n, const struct wd_tz *tz,
                          int64_t now_ns, struct wd_page_plan *out)
{
    for (uint32_t i = 0; i < n && out->n < WD_PAGE_TARGETS_MAX; i++) {
        if (wd_hours_contain(&list[i].hours, tz, now_ns)) {
            out->to[out->n++] = &list[i];
        }
    }
}

void wd_escalation_plan(const struct wd_oncall_config *c, const struct wd_tz *tz,
                        const struct wd_oncall_shift *shift, uint32_t level,
                        enum wd_severity sev, int64_t now_ns, struct wd_page_plan *out)
{
    memset(out, 0, sizeof *out);
    for (uint32_t l = level < 1 ? 1 : level; l <= c->n_levels; l++) {
        const struct wd_esc_level *lv = &c->levels[l - 1];
        if ((lv->severities & (1u << (unsigned)sev)) == 0) {
            continue;
        }
        if (lv->rotation && shift != NULL) {
            const char *who[2] = {shift->primary, shift->secondary};
            for (int i = 0; i < 2 && out->n == 0; i++) {
                const struct wd_oncall_engineer *e = wd_oncall_engineer(c, who[i]);
                if (e != NULL) {
                    add_available(e->contacts, e->n_contacts, tz, now_ns, out);
                }
            }
        }
        add_available(lv->contacts, lv->n_contacts, tz, now_ns, out);
        if (out->n > 0) {
            out->level = l;
            out->level_name = lv->name;
            return;
        }
    }
}

size_t wd_page_plan_text(const struct wd_page_plan *p, char *buf, size_t cap)
{
    size_t len = 0;
    if (cap == 0) {
        return 0;
    }
    buf[0] = '\0';
    if (p->n == 0) {
        (void)snprintf(buf, cap, "nobody");
        return strlen(buf);
    }
    for (uint32_t i = 0; i < p->n && len + 1 < cap; i++) {
        int w = snprintf(buf + len, cap - len, "%s%s %s:%s", i ? ", " : "", p->to[i]->name,
                         p->to[i]->channel, p->to[i]->to);
        if (w < 0) {
            break;
        }
        len += (size_t)w;
    }
    return len < cap ? len : cap - 1;
}
