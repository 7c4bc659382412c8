/*
 * Unit tests for src/core/oncall.c: the weekly rotation with its handoff at
 * a local time (across the DST weekends of America/New_York and
 * Europe/London), overrides, the escalation level an incident has reached
 * and whom to page at it (hours of availability, falling through). The
 * clock is fake: every instant is written out; the expected UTC instants
 * were computed independently with Python's zoneinfo.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "bus/tzload.h"
#include "warden/oncall.h"
#include "warden/timeutil.h"

#define MIN_NS (60LL * WD_NS_PER_S)
#define HOUR_NS (3600LL * WD_NS_PER_S)

#define assert_i64(actual, expected)                                                      \
    do {                                                                                  \
        int64_t got_ = (actual), want_ = (expected);                                      \
        if (got_ != want_)                                                                \
            fail_msg("%s == %lld, expected %lld", #actual, (long long)got_,               \
                     (long long)want_);                                                   \
    } while (0)

static int64_t at(const char *rfc3339)
{
    int64_t ns = 0;
    assert_int_equal(wd_time_parse_rfc3339(rfc3339, strlen(rfc3339), &ns), WD_OK);
    return ns;
}

static int64_t day(const char *ymd)
{
    int64_t d = 0;
    assert_int_equal(wd_date_parse(ymd, strlen(ymd), &d), WD_OK);
    return d;
}

static struct wd_tz *zone(const char *name)
{
    struct wd_tz *tz = NULL;
    struct wd_error err = {0};
    if (wd_tz_load(name, &tz, &err) != WD_OK) {
        fail_msg("zone %s: %s", name, err.msg);
    }
    return tz;
}

static struct wd_tz *posix(const char *rule)
{
    struct wd_tz *tz = NULL;
    assert_int_equal(wd_tz_from_posix(rule, strlen(rule), &tz, NULL), WD_OK);
    return tz;
}

static void add_contact(struct wd_contact *c, const char *name, const char *channel,
                        const char *to, struct wd_hours h)
{
    snprintf(c->name, sizeof c->name, "%s", name);
    snprintf(c->channel, sizeof c->channel, "%s", channel);
    snprintf(c->to, sizeof c->to, "%s", to);
    c->hours = h;
}

static const struct wd_hours always = {0x7f, 0, 1440};

/* The playbook's example: A/B, B/C, C/A from Sunday 2025-03-02 09:00. */
static void three(struct wd_oncall_config *c)
{
    static const char *const names[] = {"alice", "bob", "carol"};
    wd_oncall_config_init(c);
    c->start_given = true;
    c->start_day = day("2025-03-02");
    for (uint32_t i = 0; i < 3; i++) {
        struct wd_oncall_engineer *e = &c->engineers[i];
        snprintf(e->name, sizeof e->name, "%s", names[i]);
        char to[32];
        snprintf(to, sizeof to, "+1555010%u", i);
        add_contact(&e->contacts[0], names[i], "sms", to, always);
        e->n_contacts = 1;
    }
    c->n_engineers = 3;
}

static void assert_shift(const struct wd_oncall_shift *s, const char *primary,
                         const char *secondary)
{
    assert_non_null(s->primary);
    assert_string_equal(s->primary, primary);
    if (secondary == NULL) {
        assert_null(s->secondary);
    } else {
        assert_non_null(s->secondary);
        assert_string_equal(s->secondary, secondary);
    }
}

/* ---- rotation ------------------------------------------------------------ */

static void test_oncall_playbook_rotation_weeks(void **state)
{
    (void)state;
    struct wd_oncall_config c;
    struct wd_oncall_shift s;
    struct wd_tz *tz = zone("America/New_York");
    three(&c);

    wd_oncall_at(&c, tz, at("2025-03-03T12:00:00Z"), &s);
    assert_i64(s.week, 0);
    assert_shift(&s, "alice", "bob");
    assert_i64(s.start_ns, at("2025-03-02T14:00:00Z")); /* 09:00 EST */
    wd_oncall_next(&c, tz, at("2025-03-03T12:00:00Z"), &s);
    assert_i64(s.week, 1);
    assert_shift(&s, "bob", "carol");
    wd_oncall_at(&c, tz, at("2025-03-17T00:00:00Z"), &s);
    assert_i64(s.week, 2);
    assert_shift(&s, "carol", "alice");
    wd_oncall_at(&c, tz, at("2025-03-24T00:00:00Z"), &s);
    assert_i64(s.week, 3);
    assert_shift(&s, "alice", "bob");
    /* Before the start the rotation runs backwards. */
    wd_oncall_at(&c, tz, at("2025-03-01T00:00:00Z"), &s);
    assert_i64(s.week, -1);
    assert_shift(&s, "carol", "alice");
    wd_tz_free(tz);
}

/* 2025-03-09 is the spring-forward Sunday in New York (02:00 EST -> 03:00
 * EDT): the handoff is at 09:00 EDT = 13:00Z, not 168 h after the last one
 * (14:00Z); that week is 167 hours long. */
static void test_oncall_handoff_local_0900_on_spring_forward_sunday(void **state)
{
    (void)state;
    struct wd_oncall_config c;
    struct wd_oncall_shift s;
    struct wd_tz *tz = zone("America/New_York");
    three(&c);

    wd_oncall_at(&c, tz, at("2025-03-09T12:59:59Z"), &s);
    assert_shift(&s, "alice", "bob");
    assert_i64(s.end_ns, at("2025-03-09T13:00:00Z"));
    assert_i64(s.end_ns - s.start_ns, 167 * HOUR_NS);
    wd_oncall_next(&c, tz, at("2025-03-09T12:59:59Z"), &s);
    assert_i64(s.start_ns, at("2025-03-09T13:00:00Z"));
    assert_shift(&s, "bob", "carol");

    wd_oncall_at(&c, tz, at("2025-03-09T13:00:00Z"), &s);
    assert_i64(s.week, 1);
    assert_shift(&s, "bob", "carol");
    assert_i64(s.end_ns, at("2025-03-16T13:00:00Z"));
    wd_tz_free(tz);
}

/* 2025-11-02, fall back in New York: week 34 (bob/carol) runs from
 * 2025-10-26 09:00 EDT (13:00Z) to 2025-11-02 09:00 EST (14:00Z), 169 h. */
static void test_oncall_handoff_local_0900_on_fall_back_sunday(void **state)
{
    (void)state;
    struct wd_oncall_config c;
    struct wd_oncall_shift s;
    struct wd_tz *tz = zone("America/New_York");
    three(&c);

    wd_oncall_at(&c, tz, at("2025-11-02T13:30:00Z"), &s); /* 08:30 EST */
    assert_i64(s.week, 34);
    assert_shift(&s, "bob", "carol");
    assert_i64(s.start_ns, at("2025-10-26T13:00:00Z"));
    assert_i64(s.end_ns, at("2025-11-02T14:00:00Z"));
    assert_i64(s.end_ns - s.start_ns, 169 * HOUR_NS);
    wd_oncall_at(&c, tz, at("2025-11-02T14:00:00Z"), &s);
    assert_i64(s.week, 35);
    assert_shift(&s, "carol", "alice");
    wd_tz_free(tz);
}

/* Europe/London as a POSIX rule (pure, no file): BST starts 2025-03-30
 * 01:00Z and ends 2025-10-26 01:00Z, both Sundays. */
static void test_oncall_handoff_europe_london_both_changes(void **state)
{
    (void)state;
    struct wd_oncall_config c;
    struct wd_oncall_shift s;
    struct wd_tz *tz = posix("GMT0BST,M3.5.0/1,M10.5.0");
    three(&c);
    c.start_day = day("2025-03-23");

    wd_oncall_at(&c, tz, at("2025-03-30T07:59:59Z"), &s);
    assert_i64(s.week, 0);
    assert_i64(s.start_ns, at("2025-03-23T09:00:00Z"));
    assert_i64(s.end_ns, at("2025-03-30T08:00:00Z")); /* 09:00 BST */
    wd_oncall_at(&c, tz, at("2025-03-30T08:00:00Z"), &s);
    assert_i64(s.week, 1);
    assert_shift(&s, "bob", "carol");

    /* 2025-10-26: 31 weeks after 2025-03-23; 09:00 GMT = 09:00Z. */
    wd_oncall_at(&c, tz, at("2025-10-26T08:59:59Z"), &s);
    assert_i64(s.week, 30);
    assert_i64(s.end_ns, at("2025-10-26T09:00:00Z"));
    assert_i64(s.end_ns - s.start_ns, 169 * HOUR_NS);
    wd_oncall_at(&c, tz, at("2025-10-26T09:00:00Z"), &s);
    assert_i64(s.week, 31);
    assert_shift(&s, "bob", "carol"); /* 31 mod 3 = 1 */
    wd_tz_free(tz);
}

static void test_oncall_handoff_other_weekday_and_time(void **state)
{
    (void)state;
    struct wd_oncall_config c;
    struct wd_oncall_shift s;
    struct wd_tz *tz = zone("America/New_York");
    three(&c);
    c.start_given = false; /* weeks counted from 1970's first Monday */
    c.handoff_wday = 1;
    c.handoff_min = 17 * 60 + 30;
    assert_i64(wd_oncall_start_day(&c), day("1970-01-05"));
    wd_oncall_at(&c, tz, at("2025-03-12T00:00:00Z"), &s);
    assert_i64(s.start_ns, at("2025-03-10T21:30:00Z")); /* Monday 17:30 EDT */
    assert_i64(s.end_ns, at("2025-03-17T21:30:00Z"));
    wd_tz_free(tz);
}

static void test_local_to_utc_gap_and_repeat(void **state)
{
    (void)state;
    struct wd_tz *tz = posix("EST5EDT,M3.2.0,M11.1.0");
    /* 02:30 does not exist on 2025-03-09: read as 03:30 EDT. */
    assert_i64(wd_local_to_utc_ns(tz, day("2025-03-09"), 150), at("2025-03-09T07:30:00Z"));
    /* 01:30 happens twice on 2025-11-02: the first (EDT). */
    assert_i64(wd_local_to_utc_ns(tz, day("2025-11-02"), 90), at("2025-11-02T05:30:00Z"));
    assert_i64(wd_local_to_utc_ns(tz, day("2025-11-02"), 540), at("2025-11-02T14:00:00Z"));
    wd_tz_free(tz);
}

/* ---- overrides ----------------------------------------------------------- */

static void add_override(struct wd_oncall_config *c, const char *person, const char *cover,
                         const char *from, const char *until)
{
    struct wd_oncall_override *o = &c->overrides[c->n_overrides++];
    memset(o, 0, sizeof *o);
    snprintf(o->person, sizeof o->person, "%s", person);
    snprintf(o->covered_by, sizeof o->covered_by, "%s", cover);
    o->from = (struct wd_oncall_when){true, day(from)};
    o->until = (struct wd_oncall_when){true, day(until)};
}

static void test_oncall_absence_secondary_steps_up(void **state)
{
    (void)state;
    struct wd_oncall_config c;
    struct wd_oncall_shift s;
    struct wd_tz *tz = zone("America/New_York");
    three(&c);
    add_override(&c, "alice", "", "2025-03-04", "2025-03-05");

    wd_oncall_at(&c, tz, at("2025-03-04T04:59:59Z"), &s); /* Mar 3 23:59:59 EST */
    assert_shift(&s, "alice", "bob");
    assert_null(s.primary_override);
    wd_oncall_at(&c, tz, at("2025-03-04T05:00:00Z"), &s);
    assert_shift(&s, "bob", "carol");
    assert_string_equal(s.sched_primary, "alice");
    assert_ptr_equal(s.primary_override, &c.overrides[0]);
    /* The range's last day is included, to its end. */
    wd_oncall_at(&c, tz, at("2025-03-06T04:59:59Z"), &s);
    assert_shift(&s, "bob", "carol");
    wd_oncall_at(&c, tz, at("2025-03-06T05:00:00Z"), &s);
    assert_shift(&s, "alice", "bob");
    wd_tz_free(tz);
}

static void test_oncall_swap_and_secondary_absence(void **state)
{
    (void)state;
    struct wd_oncall_config c;
    struct wd_oncall_shift s;
    struct wd_tz *tz = zone("America/New_York");
    three(&c);
    add_override(&c, "alice", "carol", "2025-03-03", "2025-03-04"); /* carol covers */
    add_override(&c, "bob", "", "2025-03-05", "2025-03-05");       /* bob away */

    wd_oncall_at(&c, tz, at("2025-03-03T15:00:00Z"), &s);
    assert_shift(&s, "carol", "bob");
    wd_oncall_at(&c, tz, at("2025-03-05T15:00:00Z"), &s);
    assert_shift(&s, "alice", "carol");
    assert_ptr_equal(s.secondary_override, &c.overrides[1]);
    /* The next week as it will be at its handoff: bob is back by then. */
    wd_oncall_next(&c, tz, at("2025-03-05T15:00:00Z"), &s);
    assert_shift(&s, "bob", "carol");
    wd_tz_free(tz);
}

struct problems {
    size_t n;
    const void *field[4];
    char msg[4][WD_ERROR_MSG_MAX];
};

static void collect(void *ctx, const void *field, const char *msg)
{
    struct problems *p = ctx;
    if (p->n < 4) {
        p->field[p->n] = field;
        snprintf(p->msg[p->n], sizeof p->msg[p->n], "%s", msg);
    }
    p->n++;
}

static void test_oncall_config_check_names_the_field(void **state)
{
    (void)state;
    struct wd_oncall_config c;
    struct problems p = {0};
    three(&c);
    assert_int_equal(wd_oncall_config_check(&c, collect, &p), 0);
    add_override(&c, "alice", "", "2025-03-04", "2025-03-05");
    add_override(&c, "zed", "", "2025-03-04", "2025-03-05");
    add_override(&c, "bob", "bob", "2025-03-06", "2025-03-05");
    c.start_day = day("2025-03-03");
    assert_int_equal(wd_oncall_config_check(&c, collect, &p), 4);
    assert_ptr_equal(p.field[0], &c.start_day);
    assert_string_equal(p.msg[0],
                        "oncall.start: 2025-03-03 is not a handoff day (oncall.handoff.day)");
    assert_ptr_equal(p.field[1], &c.overrides[1]);
    assert_string_equal(p.msg[1], "oncall.overrides[1].person: 'zed' is not in oncall.engineers");
    assert_string_equal(p.msg[2], "oncall.overrides[2].covered_by: 'bob' cannot cover for themselves");
    assert_string_equal(p.msg[3], "oncall.overrides[2].until: the range ends before it starts");
    memset(&p, 0, sizeof p);
    c.n_overrides = 0;
    c.start_day = day("2025-03-02");
    snprintf(c.engineers[2].name, sizeof c.engineers[2].name, "alice");
    assert_int_equal(wd_oncall_config_check(&c, collect, &p), 1);
    assert_ptr_equal(p.field[0], &c.engineers[2]);
    assert_string_equal(p.msg[0], "oncall.engineers[2]: 'alice' is already engineers[0]");
}

/* ---- escalation ---------------------------------------------------------- */

static void incident(struct wd_incident *inc, enum wd_severity sev, int64_t opened)
{
    memset(inc, 0, sizeof *inc);
    snprintf(inc->id, sizeof inc->id, "INC-20250309-001");
    inc->severity = sev;
    inc->scenario = sev == WD_P0 ? WD_SC_KILL_PNL : WD_SC_BROKER_DISCONNECT;
    inc->status = WD_INC_OPEN;
    inc->opened_ns = opened;
    inc->updated_ns = opened;
}

static void test_escalation_unacknowledged_p0_climbs_one_level_per_sla(void **state)
{
    (void)state;
    struct wd_oncall_config c;
    struct wd_incident inc;
    char why[64];
    int64_t t0 = at("2025-03-04T15:00:00Z");
    wd_oncall_config_init(&c);
    incident(&inc, WD_P0, t0);

    assert_int_equal(wd_escalation_target(&c, &inc, t0, why, sizeof why), 1);
    assert_string_equal(why, "opened");
    assert_int_equal(wd_escalation_target(&c, &inc, t0 + 5 * MIN_NS, why, sizeof why), 1);
    assert_int_equal(wd_escalation_target(&c, &inc, t0 + 5 * MIN_NS + 1, why, sizeof why), 2);
    assert_string_equal(why, "not acknowledged within 5m");
    assert_int_equal(wd_escalation_target(&c, &inc, t0 + 10 * MIN_NS + 1, why, sizeof why), 3);
    assert_string_equal(why, "not acknowledged within 10m");
    assert_int_equal(wd_escalation_target(&c, &inc, t0 + 15 * MIN_NS + 1, why, sizeof why), 4);
    /* Capped at L4 (CTO): the CEO is not paged for a missed ack. */
    assert_int_equal(wd_escalation_target(&c, &inc, t0 + 5 * HOUR_NS, why, sizeof why), 4);
    assert_string_equal(why, "not acknowledged within 15m");
}

/* A jump of several levels in one tick: each level says the rule that
 * reached it first, not the last one's. */
static void test_escalation_reason_per_level(void **state)
{
    (void)state;
    struct wd_incident inc;
    char why[64];
    int64_t t0 = at("2025-03-04T15:00:00Z");
    incident(&inc, WD_P0, t0);
    int64_t now = t0 + 31 * MIN_NS; /* a P0 nobody acknowledged for 31 min */
    wd_escalation_reason(&inc, 1, now, why, sizeof why);
    assert_string_equal(why, "opened");
    wd_escalation_reason(&inc, 2, now, why, sizeof why);
    assert_string_equal(why, "not acknowledged within 5m");
    wd_escalation_reason(&inc, 3, now, why, sizeof why);
    assert_string_equal(why, "not acknowledged within 10m");
    wd_escalation_reason(&inc, 4, now, why, sizeof why);
    assert_string_equal(why, "not acknowledged within 15m");
    wd_escalation_reason(&inc, 5, now, why, sizeof why);
    assert_string_equal(why, ""); /* no rule takes a P0 to L5 */

    /* A P1 unacknowledged for 2 h 1 min: L2 by its SLA (15 min, before
     * the 30 min rule), L3 by the 2 h rule. */
    incident(&inc, WD_P1, t0);
    now = t0 + 2 * HOUR_NS + MIN_NS;
    wd_escalation_reason(&inc, 2, now, why, sizeof why);
    assert_string_equal(why, "not acknowledged within 15m");
    wd_escalation_reason(&inc, 3, now, why, sizeof why);
    assert_string_equal(why, "unresolved for more than 2h");
    /* Acknowledged in time: L2 only by the 30 min rule. */
    inc.acknowledged_ns = t0 + MIN_NS;
    wd_escalation_reason(&inc, 2, now, why, sizeof why);
    assert_string_equal(why, "unresolved for more than 30m");
    wd_escalation_reason(&inc, 2, t0 + 30 * MIN_NS, why, sizeof why);
    assert_string_equal(why, ""); /* exactly 30 min is not more than 30 min */
}

static void test_escalation_by_duration_once_acknowledged(void **state)
{
    (void)state;
    struct wd_oncall_config c;
    struct wd_incident inc;
    char why[64];
    int64_t t0 = at("2025-03-04T15:00:00Z");
    wd_oncall_config_init(&c);
    incident(&inc, WD_P0, t0);
    inc.status = WD_INC_INVESTIGATING;
    inc.acknowledged_ns = t0 + 3 * MIN_NS;

    assert_int_equal(wd_escalation_target(&c, &inc, t0 + 30 * MIN_NS, why, sizeof why), 1);
    assert_int_equal(wd_escalation_target(&c, &inc, t0 + 30 * MIN_NS + 1, why, sizeof why), 2);
    assert_string_equal(why, "unresolved for more than 30m");
    assert_int_equal(wd_escalation_target(&c, &inc, t0 + 2 * HOUR_NS, why, sizeof why), 2);
    assert_int_equal(wd_escalation_target(&c, &inc, t0 + 2 * HOUR_NS + 1, why, sizeof why), 3);
    assert_string_equal(why, "unresolved for more than 2h");
    inc.status = WD_INC_RESOLVED;
    inc.resolved_ns = t0 + 3 * HOUR_NS;
    assert_int_equal(wd_escalation_target(&c, &inc, t0 + 4 * HOUR_NS, why, sizeof why), 0);

    /* A P2 not acknowledged: L2 after its hour, no further by the SLA. */
    incident(&inc, WD_P2, t0);
    assert_int_equal(wd_escalation_target(&c, &inc, t0 + HOUR_NS + 1, why, sizeof why), 2);
    assert_string_equal(why, "not acknowledged within 1h");
    assert_int_equal(wd_escalation_target(&c, &inc, t0 + 2 * HOUR_NS + 1, why, sizeof why), 3);
    assert_string_equal(why, "unresolved for more than 2h");
    /* Only as many levels as configured. */
    c.n_levels = 2;
    assert_int_equal(wd_escalation_target(&c, &inc, t0 + 3 * HOUR_NS, why, sizeof why), 2);
}

/* The chain of the playbook with people: senior engineer dana (08:00-20:00
 * every day), risk officer erin (market hours), cto frank (24/7). */
static void chain(struct wd_oncall_config *c)
{
    const struct wd_hours day_shift = {0x7f, 8 * 60, 20 * 60};
    three(c);
    add_contact(&c->levels[1].contacts[0], "dana", "sms", "+15550110", day_shift);
    add_contact(&c->levels[1].contacts[1], "dana", "email", "senior@example.com", day_shift);
    c->levels[1].n_contacts = 2;
    add_contact(&c->levels[2].contacts[0], "erin", "email", "risk@example.com",
                c->levels[2].hours);
    c->levels[2].n_contacts = 1;
    add_contact(&c->levels[3].contacts[0], "frank", "pagerduty", "cto", always);
    c->levels[3].n_contacts = 1;
    add_contact(&c->levels[4].contacts[0], "grace", "sms", "+15550199", always);
    c->levels[4].n_contacts = 1;
}

/* A P1 opened at 01:45 EST on the spring-forward night, acknowledged at
 * once. 30 real minutes later (03:15 EDT on the wall clock) it escalates to
 * L2; dana is not within her hours at 03:15, erin neither on a Sunday, so
 * the CTO is paged. At 08:30 EDT (12:30Z, which would be 07:30 on the old
 * offset) dana is within her hours. */
static void test_escalation_across_spring_forward_night(void **state)
{
    (void)state;
    struct wd_oncall_config c;
    struct wd_incident inc;
    struct wd_oncall_shift s;
    struct wd_page_plan p;
    char why[64], text[256];
    struct wd_tz *tz = zone("America/New_York");
    int64_t t0 = at("2025-03-09T06:45:00Z");
    chain(&c);
    incident(&inc, WD_P1, t0);
    inc.status = WD_INC_ACKNOWLEDGED;
    inc.acknowledged_ns = t0 + MIN_NS;

    int64_t t = at("2025-03-09T07:15:00Z");
    assert_int_equal(wd_escalation_target(&c, &inc, t, why, sizeof why), 1);
    assert_int_equal(wd_escalation_target(&c, &inc, t + 1, why, sizeof why), 2);
    wd_oncall_at(&c, tz, t + 1, &s);
    wd_escalation_plan(&c, tz, &s, 2, inc.severity, t + 1, &p);
    assert_int_equal(p.level, 4);
    assert_string_equal(p.level_name, "CTO");
    (void)wd_page_plan_text(&p, text, sizeof text);
    assert_string_equal(text, "frank pagerduty:cto");

    /* L1 at that moment: the rotation's primary (alice, week 0). */
    wd_escalation_plan(&c, tz, &s, 1, inc.severity, t + 1, &p);
    assert_int_equal(p.level, 1);
    (void)wd_page_plan_text(&p, text, sizeof text);
    assert_string_equal(text, "alice sms:+15550100");

    wd_oncall_at(&c, tz, at("2025-03-09T12:30:00Z"), &s);
    wd_escalation_plan(&c, tz, &s, 2, inc.severity, at("2025-03-09T12:30:00Z"), &p);
    assert_int_equal(p.level, 2);
    (void)wd_page_plan_text(&p, text, sizeof text);
    assert_string_equal(text, "dana sms:+15550110, dana email:senior@example.com");
    /* 11:59Z is 07:59 EDT: not yet. */
    wd_escalation_plan(&c, tz, &s, 2, inc.severity, at("2025-03-09T11:59:00Z"), &p);
    assert_int_equal(p.level, 4);
    wd_tz_free(tz);
}

/* Fall back: 2025-11-02. An unacknowledged P0 opened at 01:50 EDT (05:50Z)
 * climbs by real minutes while the wall clock repeats 01:00-02:00. */
static void test_escalation_across_fall_back_night(void **state)
{
    (void)state;
    struct wd_oncall_config c;
    struct wd_incident inc;
    struct wd_oncall_shift s;
    struct wd_page_plan p;
    struct wd_tz *tz = zone("America/New_York");
    int64_t t0 = at("2025-11-02T05:50:00Z");
    chain(&c);
    incident(&inc, WD_P0, t0);
    /* 06:05:00.000000001Z is 01:05 EST, the second 01:05 of the night. */
    assert_int_equal(wd_escalation_target(&c, &inc, at("2025-11-02T06:05:00Z") + 1, NULL, 0), 4);
    wd_oncall_at(&c, tz, at("2025-11-02T06:05:00Z"), &s);
    wd_escalation_plan(&c, tz, &s, 2, inc.severity, at("2025-11-02T06:05:00Z"), &p);
    assert_int_equal(p.level, 4); /* dana off, erin off: the CTO */
    /* The CEO level is for P0 only: a P1 falling past the CTO finds nobody. */
    c.levels[3].n_contacts = 0;
    wd_escalation_plan(&c, tz, &s, 2, WD_P0, at("2025-11-02T06:05:00Z"), &p);
    assert_int_equal(p.level, 5);
    wd_escalation_plan(&c, tz, &s, 2, WD_P1, at("2025-11-02T06:05:00Z"), &p);
    assert_int_equal(p.level, 0);
    assert_int_equal(p.n, 0);
    char text[32];
    (void)wd_page_plan_text(&p, text, sizeof text);
    assert_string_equal(text, "nobody");
    wd_tz_free(tz);
}

static void test_escalation_plan_rotation_falls_to_secondary(void **state)
{
    (void)state;
    struct wd_oncall_config c;
    struct wd_oncall_shift s;
    struct wd_page_plan p;
    char text[128];
    struct wd_tz *tz = zone("America/New_York");
    chain(&c);
    /* alice only reachable on weekdays 09:00-17:00. */
    c.engineers[0].contacts[0].hours = (struct wd_hours){0x3e, 9 * 60, 17 * 60};
    int64_t t = at("2025-03-08T15:00:00Z"); /* Saturday 10:00 EST */
    wd_oncall_at(&c, tz, t, &s);
    assert_shift(&s, "alice", "bob");
    wd_escalation_plan(&c, tz, &s, 1, WD_P2, t, &p);
    assert_int_equal(p.level, 1);
    (void)wd_page_plan_text(&p, text, sizeof text);
    assert_string_equal(text, "bob sms:+15550101");
    /* Across midnight: 18:00-08:00. */
    const struct wd_hours night = {0x02, 18 * 60, 8 * 60}; /* starting Mondays */
    assert_true(wd_hours_contain(&night, tz, at("2025-03-10T23:30:00Z")));  /* Mon 19:30 */
    assert_true(wd_hours_contain(&night, tz, at("2025-03-11T11:59:00Z")));  /* Tue 07:59 */
    assert_false(wd_hours_contain(&night, tz, at("2025-03-11T12:00:00Z"))); /* Tue 08:00 */
    assert_false(wd_hours_contain(&night, tz, at("2025-03-11T23:30:00Z"))); /* Tue 19:30 */
    wd_tz_free(tz);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_oncall_playbook_rotation_weeks),
        cmocka_unit_test(test_oncall_handoff_local_0900_on_spring_forward_sunday),
        cmocka_unit_test(test_oncall_handoff_local_0900_on_fall_back_sunday),
        cmocka_unit_test(test_oncall_handoff_europe_london_both_changes),
        cmocka_unit_test(test_oncall_handoff_other_weekday_and_time),
        cmocka_unit_test(test_local_to_utc_gap_and_repeat),
        cmocka_unit_test(test_oncall_absence_secondary_steps_up),
        cmocka_unit_test(test_oncall_swap_and_secondary_absence),
        cmocka_unit_test(test_oncall_config_check_names_the_field),
        cmocka_unit_test(test_escalation_unacknowledged_p0_climbs_one_level_per_sla),
        cmocka_unit_test(test_escalation_reason_per_level),
        cmocka_unit_test(test_escalation_by_duration_once_acknowledged),
        cmocka_unit_test(test_escalation_across_spring_forward_night),
        cmocka_unit_test(test_escalation_across_fall_back_night),
        cmocka_unit_test(test_escalation_plan_rotation_falls_to_secondary),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
