/*
 * On-call rotation and the escalation chain (issue 8, points 5 and 6;
 * playbook "On-Call Rotation", "Escalation Procedures"): who is primary and
 * secondary at an instant, when the next handoff is, which level of the
 * chain an incident has reached, and whom at that level to page now.
 *
 * Pure: no I/O, no clock, no allocation. The configuration is plain,
 * fixed-size data (so struct wd_config copies it by value); instants are
 * int64_t nanoseconds since the epoch given by the caller; local times
 * (handoff, hours of availability, override dates) are read in the zone the
 * caller passes (oncall.tz), so a handoff at 09:00 stays at 09:00 local
 * across a DST change. See docs/internals/ONCALL.md.
 */
#ifndef WD_CORE_ONCALL_H
#define WD_CORE_ONCALL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "warden/incident.h"
#include "warden/severity.h"
#include "warden/status.h"
#include "warden/tz.h"

/* ---- bounds -------------------------------------------------------------- */

#define WD_ONCALL_NAME_MAX 64     /* a person's or a level's name, NUL included */
#define WD_ONCALL_CHANNEL_MAX 16  /* "slack", "pagerduty", "webhook", "email", "sms" */
#define WD_ONCALL_ADDR_MAX 128    /* a phone number, an address, a channel name */
#define WD_ONCALL_TZ_MAX 64
#define WD_ONCALL_REASON_MAX 128
#define WD_ONCALL_CONTACTS_MAX 4  /* per engineer */
#define WD_ONCALL_ENGINEERS_MAX 16
#define WD_ONCALL_OVERRIDES_MAX 32
#define WD_ESC_LEVELS_MAX 5       /* L1 .. L5 */
#define WD_ESC_CONTACTS_MAX 8     /* per level */
/* Contacts paged at once: a level's, or an engineer's two shifts' */
#define WD_PAGE_TARGETS_MAX WD_ESC_CONTACTS_MAX

/* ---- configuration ------------------------------------------------------- */

/* Hours of availability in the on-call zone: on the days of days_mask (bit 0
 * Sunday .. bit 6 Saturday), from from_min to to_min minutes after local
 * midnight ([from, to); to 1440 = end of day). from > to is a window across
 * midnight (18:00-08:00), whose day is the day it starts on.
 * {0x7f, 0, 1440} is 24/7. */
struct wd_hours {
    uint8_t days_mask;
    int from_min, to_min; /* int: the loader's HH:MM parser writes an int */
};

/* One way to reach a person: a channel name of the notifier and the
 * address on it. */
struct wd_contact {
    char name[WD_ONCALL_NAME_MAX];       /* the person */
    char channel[WD_ONCALL_CHANNEL_MAX]; /* "sms", "email", "pagerduty", ... */
    char to[WD_ONCALL_ADDR_MAX];
    struct wd_hours hours;               /* the level's unless given */
};

struct wd_oncall_engineer {
    char name[WD_ONCALL_NAME_MAX];
    struct wd_contact contacts[WD_ONCALL_CONTACTS_MAX];
    uint32_t n_contacts;
};

/* A moment given in the configuration as a local date (00:00 of that date in
 * the on-call zone; as the end of a range, the end of that date) or as an
 * exact instant (RFC 3339). */
struct wd_oncall_when {
    bool is_day;
    int64_t value; /* days since the epoch, or ns since the epoch */
};

/* `person` is away during [from, until); `covered_by` takes each shift of
 * theirs in that time, or, when "", the rotation fills it (see
 * wd_oncall_at). A swap is two overrides. */
struct wd_oncall_override {
    char person[WD_ONCALL_NAME_MAX];
    char covered_by[WD_ONCALL_NAME_MAX];
    struct wd_oncall_when from, until;
    char reason[WD_ONCALL_REASON_MAX];
};

/* One level of the escalation chain. */
struct wd_esc_level {
    char name[WD_ONCALL_NAME_MAX]; /* "On-Call", "Senior Engineer", ... */
    bool rotation;                 /* its people are the rotation's primary, then secondary */
    struct wd_contact contacts[WD_ESC_CONTACTS_MAX];
    uint32_t n_contacts;
    struct wd_hours hours;         /* default of its contacts */
    uint8_t severities;            /* bit s for severity Ps it is paged for; 0x0f all */
};

struct wd_oncall_config {
    char tz[WD_ONCALL_TZ_MAX]; /* "": session.tz */
    uint8_t handoff_wday;      /* 0 Sunday .. 6 Saturday; default Sunday */
    int handoff_min;           /* minutes after local midnight; default 540 (09:00) */
    bool start_given;
    int64_t start_day;         /* local date of week 1's handoff (a handoff weekday) */
    struct wd_oncall_engineer engineers[WD_ONCALL_ENGINEERS_MAX]; /* the rotation, in order */
    uint32_t n_engineers;
    struct wd_oncall_override overrides[WD_ONCALL_OVERRIDES_MAX];
    uint32_t n_overrides;
    struct wd_esc_level levels[WD_ESC_LEVELS_MAX]; /* L1 first */
    uint32_t n_levels;
};

/* The playbook's defaults: handoff Sunday 09:00, no engineers, no
 * overrides, the five levels of its contact list without contacts:
 * L1 On-Call (the rotation, 24/7), L2 Senior Engineer (24/7), L3 Risk
 * Officer (market hours Mon-Fri 09:30-16:00), L4 CTO (24/7), L5 CEO (24/7,
 * P0 only: "critical only"). */
void wd_oncall_config_init(struct wd_oncall_config *c);

/* The first handoff weekday on or after 1970-01-01: the week count's origin
 * when start is not configured. */
int64_t wd_oncall_start_day(const struct wd_oncall_config *c);

/* The engineer named name, or NULL. */
const struct wd_oncall_engineer *wd_oncall_engineer(const struct wd_oncall_config *c,
                                                     const char *name);

/* Cross-field checks after loading: a start date that is not a handoff
 * weekday, an engineer listed twice, an override naming someone not in the
 * rotation or covering for themselves, a range that ends before it starts.
 * Each problem goes to fn (optional) with the address of the field it is
 * about (in c) and a message naming it ("oncall.overrides[2].person: ...");
 * returns the number of problems (0: valid). */
typedef void (*wd_oncall_problem_fn)(void *ctx, const void *field, const char *msg);
size_t wd_oncall_config_check(const struct wd_oncall_config *c, wd_oncall_problem_fn fn,
                              void *ctx);

/* ---- time ---------------------------------------------------------------- */

/* The UTC instant (ns) of local time `minute` (0..1439) on local date `day`
 * in tz. A local time skipped by a DST change reads as the same wall-clock
 * distance past the change (02:30 on a spring-forward night is 03:30); a
 * repeated one is its first occurrence. */
int64_t wd_local_to_utc_ns(const struct wd_tz *tz, int64_t day, int minute);

/* The instant a configured moment stands for; as_end: a date means the end
 * of that date (the start of the next). */
int64_t wd_oncall_when_ns(const struct wd_tz *tz, const struct wd_oncall_when *w, bool as_end);

/* Whether hours h include the instant now_ns in tz. */
bool wd_hours_contain(const struct wd_hours *h, const struct wd_tz *tz, int64_t now_ns);

/* ---- the rotation -------------------------------------------------------- */

/* Who is on call during one rotation week. Names point into the
 * configuration (borrowed for its life); NULL when nobody. */
struct wd_oncall_shift {
    int64_t week;            /* 0 = the week that starts on start_day; may be negative */
    int64_t start_ns, end_ns; /* the handoffs that open and close it */
    const char *primary, *secondary;             /* after overrides, at the instant asked */
    const char *sched_primary, *sched_secondary; /* as the rotation schedules them */
    const struct wd_oncall_override *primary_override, *secondary_override; /* or NULL */
};

/* The shift in force at now_ns. The rotation: week k has primary
 * engineers[k mod n] and secondary engineers[(k + 1) mod n] (the
 * playbook's A/B, B/C, C/A for three). An override active at now_ns for
 * the scheduled primary puts its covered_by in, or else the secondary
 * steps up; for the secondary, covered_by or else the next engineer in
 * rotation order who is neither away nor the primary. With no engineers
 * both are NULL; with one, secondary is NULL. */
void wd_oncall_at(const struct wd_oncall_config *c, const struct wd_tz *tz, int64_t now_ns,
                  struct wd_oncall_shift *out);

/* The shift after the one in force at now_ns (overrides as at its start). */
void wd_oncall_next(const struct wd_oncall_config *c, const struct wd_tz *tz, int64_t now_ns,
                    struct wd_oncall_shift *out);

/* ---- escalation ---------------------------------------------------------- */

/* The level (1-based: 1 = L1) the chain says incident inc has reached at
 * now_ns, 0 when it is no longer active (resolved, closed). The highest of:
 *   - L1 as soon as it is open;
 *   - not acknowledged: one level more for each acknowledgement SLA period
 *     (P0 5 min, P1 15 min, P2 1 h, P3 24 h) passed without it, up to L4
 *     for a P0 (the playbook's "CTO + Risk Officer") and L2 otherwise;
 *   - unresolved for more than 30 min: L2 (Senior Engineer); for more than
 *     2 h: L3 (management), as the playbook says;
 * capped at the number of configured levels. why (optional, cap bytes)
 * receives the rule that decided it, one clause ("not acknowledged within
 * 5m" / "unresolved for more than 30m" / "opened"). */
uint32_t wd_escalation_target(const struct wd_oncall_config *c, const struct wd_incident *inc,
                              int64_t now_ns, char *why, size_t cap);

/* The rule that took inc to `level` (1-based) first, as of now_ns, in
 * wd_escalation_target's words: "opened" for L1; for a higher level the
 * earlier of "not acknowledged within N" (level - 1 acknowledgement SLA
 * periods, up to L4 for a P0 and L2 otherwise) and "unresolved for more
 * than 30m" (L2) / "2h" (L3) that has passed; "" when none has. Each level
 * of a jump (L1 to L3 in one tick) gets its own reason. */
void wd_escalation_reason(const struct wd_incident *inc, uint32_t level, int64_t now_ns,
                          char *why, size_t cap);

/* Whom to page for level `level` (1-based) of an incident of severity sev
 * at now_ns: the contacts of the first level from `level` up whose
 * severities include sev and who have a contact within hours (a rotation
 * level: the primary's contacts within hours, else the secondary's). */
struct wd_page_plan {
    uint32_t level;        /* the level paged: >= the one asked; 0 when nobody anywhere */
    const char *level_name;
    uint32_t n;
    const struct wd_contact *to[WD_PAGE_TARGETS_MAX]; /* borrowed from the configuration */
};

/* Fills *out as above (shift: the rotation at now_ns, for a rotation
 * level). When no level from `level` up has anyone available, out->level
 * is 0 and out->n 0: the caller records that nobody could be paged. */
void wd_escalation_plan(const struct wd_oncall_config *c, const struct wd_tz *tz,
                        const struct wd_oncall_shift *shift, uint32_t level,
                        enum wd_severity sev, int64_t now_ns, struct wd_page_plan *out);

/* Writes "alice sms:+15550100, alice email:a@x" (who and how, never more
 * than cap - 1 bytes; "nobody" for an empty plan). */
size_t wd_page_plan_text(const struct wd_page_plan *p, char *buf, size_t cap);

#endif /* WD_CORE_ONCALL_H */
