/*
 * The incident record and lifecycle (include/warden/incident.h): every one
 * of the 8x8 status pairs, the recovery-criteria gate on resolve for P0/P1
 * and not for P2/P3, severity only raised, the SLA and escalation figures on
 * their boundaries, the timeline entry of each mutation, refusals that
 * change nothing, and the canonical form pinned byte for byte.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "warden/incident.h"
#include "warden/timeutil.h"

#define S_NS 1000000000LL
#define MIN_NS (60 * S_NS)
#define HOUR_NS (60 * MIN_NS)
/* 2026-03-02T14:30:00Z */
#define T0 (1772461800LL * S_NS)

static struct wd_incident inc;
static struct wd_timeline_entry ent;
static struct wd_error err;

static void open_as(enum wd_scenario sc, enum wd_severity sev)
{
    struct wd_incident_opening o = {
        .id = "INC-20260302-001",
        .scenario = sc,
        .scope = "firm",
        .severity = sev,
        .title = "Daily PnL -5.4% breached kill_pnl -5%",
        .detail = "equity 946000 vs start 1000000",
        .who = "warden",
        .trading_halted = true,
        .pnl_open = -54000 * WD_FIX_SCALE,
    };
    memset(&ent, 0, sizeof ent);
    wd_error_clear(&err);
    assert_int_equal(wd_incident_open(&inc, &o, T0, &ent, &err), WD_OK);
}

static void tick_all(void)
{
    for (uint32_t i = 0; i < inc.n_criteria; i++) {
        assert_int_equal(wd_incident_check(&inc, i, true, "alice", T0 + MIN_NS, NULL, NULL),
                         WD_OK);
    }
}

/* Puts the incident in status s by the shortest allowed path. */
static void reach(enum wd_inc_status s)
{
    if (s == WD_INC_OPEN) {
        return;
    }
    enum wd_inc_status first = s == WD_INC_CLOSED ? WD_INC_RESOLVED : s;
    assert_int_equal(wd_incident_transition(&inc, first, "alice", T0 + MIN_NS, NULL, &err), WD_OK);
    if (s == WD_INC_CLOSED) {
        assert_int_equal(wd_incident_transition(&inc, s, "alice", T0 + MIN_NS, NULL, &err), WD_OK);
    }
}

/* ---- the transition table ------------------------------------------------ */

/* Rows: from; columns: to; in order open, acknowledged, investigating,
 * identified, fixing, monitoring, resolved, closed. */
static const bool allowed[WD_INC__COUNT][WD_INC__COUNT] = {
    /* open */          {0, 1, 1, 1, 1, 1, 1, 0},
    /* acknowledged */  {0, 0, 1, 1, 1, 1, 1, 0},
    /* investigating */ {0, 0, 0, 1, 1, 1, 1, 0},
    /* identified */    {0, 0, 1, 0, 1, 1, 1, 0},
    /* fixing */        {0, 0, 1, 0, 0, 1, 1, 0},
    /* monitoring */    {0, 0, 1, 0, 0, 0, 1, 0},
    /* resolved */      {0, 0, 0, 0, 0, 0, 0, 1},
    /* closed */        {0, 0, 0, 0, 0, 0, 0, 0},
};

static void test_incident_every_status_pair(void **state)
{
    (void)state;
    for (unsigned f = 0; f < WD_INC__COUNT; f++) {
        for (unsigned t = 0; t < WD_INC__COUNT; t++) {
            enum wd_inc_status from = (enum wd_inc_status)f, to = (enum wd_inc_status)t;
            /* P2: the checklist gate is tested on its own below. */
            open_as(WD_SC_HIGH_LATENCY, WD_P2);
            reach(from);
            assert_int_equal(inc.status, from);
            assert_int_equal(wd_inc_transition_allowed(from, to), allowed[f][t]);
            struct wd_incident before = inc;
            memset(&ent, 0x5a, sizeof ent);
            struct wd_timeline_entry untouched = ent;
            wd_error_clear(&err);
            enum wd_status st =
                wd_incident_transition(&inc, to, "bob", T0 + 2 * MIN_NS, &ent, &err);
            if (allowed[f][t]) {
                assert_int_equal(st, WD_OK);
                assert_int_equal(inc.status, to);
                assert_int_equal(ent.kind, WD_TL_STATUS);
                assert_int_equal(ent.ts_ns, T0 + 2 * MIN_NS);
                assert_string_equal(ent.who, "bob");
                assert_string_equal(ent.incident, "INC-20260302-001");
                assert_string_equal(ent.from, wd_inc_status_name(from));
                assert_string_equal(ent.to, wd_inc_status_name(to));
                assert_int_equal(inc.updated_ns, T0 + 2 * MIN_NS);
                /* The first move out of open stamps the acknowledgement. */
                assert_int_equal(inc.acknowledged_ns,
                                 from == WD_INC_OPEN ? T0 + 2 * MIN_NS : T0 + MIN_NS);
                assert_int_equal(inc.resolved_ns, to == WD_INC_RESOLVED ? T0 + 2 * MIN_NS
                                                  : from == WD_INC_RESOLVED ? T0 + MIN_NS
                                                                            : 0);
                assert_int_equal(inc.closed_ns, to == WD_INC_CLOSED ? T0 + 2 * MIN_NS : 0);
            } else {
                assert_int_equal(st, WD_ESTATE);
                assert_memory_equal(&inc, &before, sizeof inc);
                assert_memory_equal(&ent, &untouched, sizeof ent);
                /* The message names both statuses and what is allowed. */
                char both[64];
                snprintf(both, sizeof both, "from %s to %s", wd_inc_status_name(from),
                         wd_inc_status_name(to));
                if (from != WD_INC_CLOSED) {
                    assert_non_null(strstr(err.msg, both));
                    assert_non_null(strstr(err.msg, "allowed from"));
                } else {
                    assert_string_equal(err.msg, "incident INC-20260302-001 is closed: "
                                                 "nothing changes it any more");
                }
            }
        }
    }
}

static void test_incident_refusals_say_what_is_allowed(void **state)
{
    (void)state;
    open_as(WD_SC_HIGH_LATENCY, WD_P2);
    reach(WD_INC_MONITORING);
    assert_int_equal(wd_incident_transition(&inc, WD_INC_OPEN, "bob", T0 + MIN_NS, NULL, &err),
                     WD_ESTATE);
    assert_string_equal(err.msg, "incident INC-20260302-001 cannot go from monitoring to open "
                                 "(nothing returns to open); allowed from monitoring: "
                                 "investigating, resolved");
    assert_int_equal(wd_incident_transition(&inc, WD_INC_FIXING, "bob", T0 + MIN_NS, NULL, &err),
                     WD_ESTATE);
    assert_string_equal(err.msg, "incident INC-20260302-001 cannot go from monitoring to fixing "
                                 "(only identified, fixing and monitoring fall back, to "
                                 "investigating); allowed from monitoring: investigating, "
                                 "resolved");
    assert_int_equal(
        wd_incident_transition(&inc, WD_INC_MONITORING, "bob", T0 + MIN_NS, NULL, &err),
        WD_ESTATE);
    assert_string_equal(err.msg, "incident INC-20260302-001 cannot go from monitoring to "
                                 "monitoring (it is already there); allowed from monitoring: "
                                 "investigating, resolved");
    assert_int_equal(wd_incident_transition(&inc, WD_INC_CLOSED, "bob", T0 + MIN_NS, NULL, &err),
                     WD_ESTATE);
    assert_string_equal(err.msg, "incident INC-20260302-001 cannot go from monitoring to closed "
                                 "(only a resolved incident closes, after its review); allowed "
                                 "from monitoring: investigating, resolved");
    reach(WD_INC_RESOLVED);
    assert_int_equal(
        wd_incident_transition(&inc, WD_INC_INVESTIGATING, "bob", T0 + MIN_NS, NULL, &err),
        WD_ESTATE);
    assert_string_equal(err.msg, "incident INC-20260302-001 cannot go from resolved to "
                                 "investigating (a resolved incident only closes, after its "
                                 "review; a recurrence opens a new incident); allowed from "
                                 "resolved: closed");
    assert_int_equal(wd_incident_transition(&inc, (enum wd_inc_status)99, "bob", T0 + MIN_NS,
                                            NULL, &err),
                     WD_EINVAL);
}

static void test_incident_ack_stamped_once_by_first_move(void **state)
{
    (void)state;
    open_as(WD_SC_HIGH_LATENCY, WD_P2);
    assert_int_equal(inc.acknowledged_ns, 0);
    assert_int_equal(
        wd_incident_transition(&inc, WD_INC_IDENTIFIED, "bob", T0 + 3 * MIN_NS, &ent, &err),
        WD_OK);
    assert_int_equal(inc.acknowledged_ns, T0 + 3 * MIN_NS);
    assert_string_equal(ent.text, "status open -> identified (acknowledged)");
    assert_int_equal(
        wd_incident_transition(&inc, WD_INC_INVESTIGATING, "bob", T0 + 9 * MIN_NS, &ent, &err),
        WD_OK);
    assert_string_equal(ent.text, "status identified -> investigating");
    assert_int_equal(inc.acknowledged_ns, T0 + 3 * MIN_NS);

    open_as(WD_SC_HIGH_LATENCY, WD_P2);
    assert_int_equal(
        wd_incident_transition(&inc, WD_INC_ACKNOWLEDGED, "bob", T0 + MIN_NS, &ent, &err), WD_OK);
    assert_string_equal(ent.text, "status open -> acknowledged");
}

/* ---- the checklist gate -------------------------------------------------- */

static void test_incident_p0_p1_resolve_needs_every_criterion(void **state)
{
    (void)state;
    static const struct {
        enum wd_scenario sc;
        enum wd_severity sev;
    } gated[] = {{WD_SC_KILL_PNL, WD_P0}, {WD_SC_UNAUTHORIZED, WD_P0},
                 {WD_SC_BROKER_DISCONNECT, WD_P1}, {WD_SC_MANUAL, WD_P1},
                 {WD_SC_HIGH_LATENCY, WD_P1}};
    for (size_t g = 0; g < sizeof gated / sizeof gated[0]; g++) {
        open_as(gated[g].sc, gated[g].sev);
        reach(WD_INC_MONITORING);
        for (uint32_t i = 0; i < inc.n_criteria; i++) {
            struct wd_incident before = inc;
            assert_int_equal(
                wd_incident_transition(&inc, WD_INC_RESOLVED, "bob", T0 + MIN_NS, &ent, &err),
                WD_ESTATE);
            assert_memory_equal(&inc, &before, sizeof inc);
            char want[512];
            snprintf(want, sizeof want,
                     "incident INC-20260302-001 is %s and cannot go from monitoring to resolved "
                     "while a recovery criterion is unticked: %u of %u, \"%s\"",
                     wd_severity_name(gated[g].sev), i + 1, inc.n_criteria,
                     inc.criteria[i].text);
            assert_string_equal(err.msg, want);
            enum wd_resume_basis why;
            assert_false(wd_incident_may_resume(&inc, &why));
            assert_int_equal(why, WD_RESUME_BLOCKED);
            assert_int_equal(wd_incident_first_unticked(&inc), (int)i);
            assert_int_equal(wd_incident_check(&inc, i, true, "carol", T0 + MIN_NS, NULL, &err),
                             WD_OK);
        }
        enum wd_resume_basis why;
        assert_true(wd_incident_may_resume(&inc, &why));
        assert_int_equal(why, WD_RESUME_CRITERIA_MET);
        assert_int_equal(wd_incident_first_unticked(&inc), -1);
        assert_int_equal(
            wd_incident_transition(&inc, WD_INC_RESOLVED, "bob", T0 + MIN_NS, &ent, &err), WD_OK);
        assert_true(wd_incident_may_resume(&inc, &why));
        assert_int_equal(why, WD_RESUME_RESOLVED);
        /* It was resolved on its criteria: they stay ticked. */
        assert_int_equal(wd_incident_check(&inc, 0, false, "bob", T0 + MIN_NS, NULL, &err),
                         WD_ESTATE);
        assert_int_equal(wd_incident_transition(&inc, WD_INC_CLOSED, "bob", T0 + MIN_NS, NULL,
                                                &err),
                         WD_OK);
        assert_true(wd_incident_may_resume(&inc, &why));
        assert_int_equal(why, WD_RESUME_RESOLVED);
    }
}

static void test_incident_p2_p3_resolve_without_criteria(void **state)
{
    (void)state;
    open_as(WD_SC_DATA_QUALITY, WD_P2);
    enum wd_resume_basis why;
    assert_true(wd_incident_may_resume(&inc, &why));
    assert_int_equal(why, WD_RESUME_NOT_GATED);
    assert_int_equal(wd_incident_transition(&inc, WD_INC_RESOLVED, "bob", T0 + MIN_NS, &ent, &err),
                     WD_OK);
    assert_int_equal(wd_incident_first_unticked(&inc), 0);
    /* Unticking stays possible where nothing was gated on it. */
    assert_int_equal(wd_incident_check(&inc, 1, true, "bob", T0 + MIN_NS, NULL, &err), WD_OK);
    assert_int_equal(wd_incident_check(&inc, 1, false, "bob", T0 + MIN_NS, NULL, &err), WD_OK);

    open_as(WD_SC_MANUAL, WD_P3);
    assert_int_equal(wd_incident_transition(&inc, WD_INC_RESOLVED, "bob", T0 + MIN_NS, &ent, &err),
                     WD_OK);
    assert_true(wd_incident_may_resume(&inc, &why));
    assert_int_equal(why, WD_RESUME_NOT_GATED);
}

static void test_incident_raised_to_p1_becomes_gated(void **state)
{
    (void)state;
    open_as(WD_SC_HIGH_LATENCY, WD_P2);
    assert_int_equal(wd_incident_raise(&inc, WD_P1, "bob", T0 + MIN_NS, &ent, &err), WD_OK);
    assert_false(wd_incident_may_resume(&inc, NULL));
    assert_int_equal(wd_incident_transition(&inc, WD_INC_RESOLVED, "bob", T0 + MIN_NS, NULL, &err),
                     WD_ESTATE);
    assert_string_equal(err.msg, "incident INC-20260302-001 is P1 and cannot go from open to "
                                 "resolved while a recovery criterion is unticked: 1 of 3, "
                                 "\"Latency p95 < 200ms\"");
}

/* ---- severity ------------------------------------------------------------ */

static void test_incident_severity_raised_never_lowered(void **state)
{
    (void)state;
    open_as(WD_SC_DATA_QUALITY, WD_P2);
    assert_int_equal(wd_incident_raise(&inc, WD_P1, "bob", T0 + MIN_NS, &ent, &err), WD_OK);
    assert_int_equal(inc.severity, WD_P1);
    assert_int_equal(ent.kind, WD_TL_SEVERITY);
    assert_string_equal(ent.from, "P2");
    assert_string_equal(ent.to, "P1");
    assert_string_equal(ent.text, "severity raised P2 -> P1");

    struct wd_incident before = inc;
    assert_int_equal(wd_incident_raise(&inc, WD_P1, "bob", T0 + MIN_NS, &ent, &err), WD_ESTATE);
    assert_string_equal(err.msg, "incident INC-20260302-001 is P1: severity is only ever raised, "
                                 "and P1 is the same");
    assert_int_equal(wd_incident_raise(&inc, WD_P3, "bob", T0 + MIN_NS, &ent, &err), WD_ESTATE);
    assert_string_equal(err.msg, "incident INC-20260302-001 is P1: severity is only ever raised, "
                                 "and P3 is lower");
    assert_memory_equal(&inc, &before, sizeof inc);

    assert_int_equal(wd_incident_raise(&inc, WD_P0, "bob", T0 + MIN_NS, &ent, &err), WD_OK);
    assert_int_equal(wd_incident_raise(&inc, WD_P0, "bob", T0 + MIN_NS, &ent, &err), WD_ESTATE);
    assert_int_equal(wd_incident_raise(&inc, (enum wd_severity)7, "bob", T0 + MIN_NS, &ent, &err),
                     WD_EINVAL);

    /* Only while active. */
    open_as(WD_SC_DATA_QUALITY, WD_P2);
    reach(WD_INC_RESOLVED);
    assert_int_equal(wd_incident_raise(&inc, WD_P0, "bob", T0 + MIN_NS, &ent, &err), WD_ESTATE);
    assert_string_equal(err.msg, "incident INC-20260302-001 is resolved: severity changes only "
                                 "while it is active");
}

static void test_incident_open_refuses_a_severity_below_the_default(void **state)
{
    (void)state;
    struct wd_incident_opening o = {.id = "INC-20260302-007", .scenario = WD_SC_KILL_PNL,
                                    .scope = "account:U1", .severity = WD_P1, .title = "t",
                                    .who = "warden"};
    assert_int_equal(wd_incident_open(&inc, &o, T0, NULL, &err), WD_EINVAL);
    assert_string_equal(err.msg, "incident INC-20260302-007: a kill_pnl incident is at least P0 "
                                 "(the playbook's default); P1 would lower it");
    o.severity = WD_P0;
    assert_int_equal(wd_incident_open(&inc, &o, T0, NULL, &err), WD_OK);
    /* manual: any severity. */
    o.scenario = WD_SC_MANUAL;
    o.severity = WD_P3;
    assert_int_equal(wd_incident_open(&inc, &o, T0, NULL, &err), WD_OK);
    assert_int_equal(inc.n_criteria, 2);

    o.scope = "desk:x";
    assert_int_equal(wd_incident_open(&inc, &o, T0, NULL, &err), WD_EINVAL);
    o.scope = "firm";
    o.id = "INC-2026-001";
    assert_int_equal(wd_incident_open(&inc, &o, T0, NULL, &err), WD_EINVAL);
    assert_string_equal(err.msg, "incident id 'INC-2026-001' is not INC-YYYYMMDD-NNN");
    o.id = "INC-20260302-001";
    o.title = "";
    assert_int_equal(wd_incident_open(&inc, &o, T0, NULL, &err), WD_EINVAL);
    char longt[WD_TEXT_MAX + 1];
    memset(longt, 'x', WD_TEXT_MAX);
    longt[WD_TEXT_MAX] = '\0';
    o.title = longt;
    assert_int_equal(wd_incident_open(&inc, &o, T0, NULL, &err), WD_ERANGE);
    assert_string_equal(err.msg, "the title is 192 bytes long; at most 191 are kept");
    longt[WD_TEXT_MAX - 1] = '\0';
    assert_int_equal(wd_incident_open(&inc, &o, T0, NULL, &err), WD_OK);
    o.who = "";
    assert_int_equal(wd_incident_open(&inc, &o, T0, NULL, &err), WD_EINVAL);
    o.who = "warden";
    assert_int_equal(wd_incident_open(&inc, &o, 0, NULL, &err), WD_EINVAL);
}

static void test_incident_open_copies_the_playbook_checklist(void **state)
{
    (void)state;
    for (unsigned s = 0; s < WD_SC__COUNT; s++) {
        enum wd_scenario sc = (enum wd_scenario)s;
        open_as(sc, wd_scenario_default_severity(sc));
        const char *const *crit = wd_scenario_recovery_criteria(sc);
        uint32_t n = 0;
        while (crit[n] != NULL) {
            assert_true(n < WD_INCIDENT_CRITERIA_MAX);
            assert_string_equal(inc.criteria[n].text, crit[n]);
            assert_false(inc.criteria[n].done);
            n++;
        }
        assert_int_equal(inc.n_criteria, n);
        assert_int_equal(inc.status, WD_INC_OPEN);
        assert_int_equal(inc.opened_ns, T0);
        assert_int_equal(inc.updated_ns, T0);
    }
    open_as(WD_SC_KILL_PNL, WD_P0);
    assert_int_equal(ent.kind, WD_TL_OPENED);
    assert_int_equal(ent.ts_ns, T0);
    assert_string_equal(ent.who, "warden");
    assert_string_equal(ent.from, "");
    assert_string_equal(ent.to, "open");
    assert_string_equal(ent.text,
                        "opened P0 kill_pnl incident on firm: Daily PnL -5.4% breached kill_pnl -5%");
}

/* ---- timeline entries ---------------------------------------------------- */

static void expect_entry(enum wd_tl_kind kind, const char *who, int64_t ts, const char *from,
                         const char *to, const char *text)
{
    assert_int_equal(ent.kind, kind);
    assert_string_equal(ent.who, who);
    assert_int_equal(ent.ts_ns, ts);
    assert_string_equal(ent.incident, "INC-20260302-001");
    assert_string_equal(ent.from, from);
    assert_string_equal(ent.to, to);
    assert_string_equal(ent.text, text);
    assert_int_equal(inc.updated_ns, ts);
}

static void test_incident_every_mutation_writes_one_entry(void **state)
{
    (void)state;
    int64_t t = T0;
    open_as(WD_SC_KILL_PNL, WD_P0);

    assert_int_equal(wd_incident_assign(&inc, WD_IR_COMMANDER, "alice", "alice", ++t, &ent, &err),
                     WD_OK);
    expect_entry(WD_TL_ROLE, "alice", t, "", "alice", "commander assigned: alice");
    assert_int_equal(wd_incident_assign(&inc, WD_IR_COMMANDER, "dave", "alice", ++t, &ent, &err),
                     WD_OK);
    expect_entry(WD_TL_ROLE, "alice", t, "alice", "dave", "commander reassigned: alice -> dave");
    assert_string_equal(inc.commander, "dave");
    assert_int_equal(
        wd_incident_assign(&inc, WD_IR_RISK_OFFICER, "rita", "dave", ++t, &ent, &err), WD_OK);
    assert_int_equal(wd_incident_assign(&inc, WD_IR_TECH_LEAD, "tom", "dave", ++t, &ent, &err),
                     WD_OK);
    assert_int_equal(wd_incident_assign(&inc, WD_IR_COMMS_LEAD, "pam", "dave", ++t, &ent, &err),
                     WD_OK);
    expect_entry(WD_TL_ROLE, "dave", t, "", "pam", "communications_lead assigned: pam");
    assert_int_equal(wd_incident_unassign(&inc, WD_IR_COMMS_LEAD, "pam", "dave", ++t, &ent, &err),
                     WD_OK);
    expect_entry(WD_TL_ROLE, "dave", t, "pam", "", "communications_lead released: pam");
    assert_string_equal(inc.comms_lead, "");

    for (int i = 0; i < WD_INCIDENT_SME_MAX; i++) {
        char name[16];
        snprintf(name, sizeof name, "sme%d", i);
        assert_int_equal(wd_incident_assign(&inc, WD_IR_SME, name, "dave", ++t, &ent, &err),
                         WD_OK);
    }
    expect_entry(WD_TL_ROLE, "dave", t, "", "sme3", "sme added: sme3");
    assert_int_equal(wd_incident_assign(&inc, WD_IR_SME, "sme9", "dave", t, &ent, &err), WD_EFULL);
    assert_int_equal(wd_incident_assign(&inc, WD_IR_SME, "sme1", "dave", t, &ent, &err),
                     WD_ESTATE);
    assert_int_equal(wd_incident_unassign(&inc, WD_IR_SME, inc.smes[1], "dave", ++t, &ent, &err),
                     WD_OK);
    expect_entry(WD_TL_ROLE, "dave", t, "sme1", "", "sme removed: sme1");
    assert_int_equal(inc.n_smes, 3);
    assert_string_equal(inc.smes[0], "sme0");
    assert_string_equal(inc.smes[1], "sme2");
    assert_string_equal(inc.smes[2], "sme3");
    assert_string_equal(inc.smes[3], "");
    assert_int_equal(wd_incident_unassign(&inc, WD_IR_SME, "sme1", "dave", t, &ent, &err),
                     WD_ENOTFOUND);
    assert_int_equal(wd_incident_unassign(&inc, WD_IR_TECH_LEAD, "bob", "dave", t, &ent, &err),
                     WD_ENOTFOUND);
    assert_string_equal(err.msg, "incident INC-20260302-001: the technical_lead is tom, not bob");

    assert_int_equal(wd_incident_transition(&inc, WD_INC_INVESTIGATING, "dave", ++t, &ent, &err),
                     WD_OK);
    expect_entry(WD_TL_STATUS, "dave", t, "open", "investigating",
                 "status open -> investigating (acknowledged)");

    assert_int_equal(wd_incident_check(&inc, 1, true, "tom", ++t, &ent, &err), WD_OK);
    expect_entry(WD_TL_CHECK, "tom", t, "unticked", "ticked",
                 "criterion 2 ticked: Fix implemented and tested in staging");
    assert_string_equal(inc.criteria[1].who, "tom");
    assert_int_equal(inc.criteria[1].when_ns, t);
    assert_int_equal(wd_incident_check(&inc, 1, true, "tom", t, &ent, &err), WD_ESTATE);
    assert_string_equal(err.msg, "incident INC-20260302-001: criterion 2 (\"Fix implemented and "
                                 "tested in staging\") is already ticked");
    assert_int_equal(wd_incident_check(&inc, 1, false, "rita", ++t, &ent, &err), WD_OK);
    expect_entry(WD_TL_CHECK, "rita", t, "ticked", "unticked",
                 "criterion 2 unticked: Fix implemented and tested in staging");
    assert_string_equal(inc.criteria[1].who, "");
    assert_int_equal(inc.criteria[1].when_ns, 0);
    assert_int_equal(wd_incident_check(&inc, 5, true, "tom", t, &ent, &err), WD_ENOTFOUND);
    assert_string_equal(err.msg, "incident INC-20260302-001 has 5 recovery criteria; there is "
                                 "no criterion 6");

    uint32_t k = 99;
    int64_t due = T0 + 7 * 24 * HOUR_NS;
    assert_int_equal(wd_incident_action_add(&inc, "Add property-based tests for signals",
                                            "dev-team", due, "dave", ++t, &k, &ent, &err),
                     WD_OK);
    assert_int_equal(k, 0);
    expect_entry(WD_TL_ACTION, "dave", t, "", "open",
                 "action 1 added: Add property-based tests for signals (owner dev-team, due "
                 "2026-03-09T14:30:00.000Z)");
    assert_int_equal(
        wd_incident_action_add(&inc, "Update the playbook", "sre", 0, "dave", ++t, &k, &ent, &err),
        WD_OK);
    assert_int_equal(k, 1);
    expect_entry(WD_TL_ACTION, "dave", t, "", "open",
                 "action 2 added: Update the playbook (owner sre, due none)");
    assert_int_equal(wd_incident_action_done(&inc, 0, true, "pam", ++t, &ent, &err), WD_OK);
    expect_entry(WD_TL_ACTION, "pam", t, "open", "done",
                 "action 1 done: Add property-based tests for signals");
    assert_string_equal(inc.actions[0].done_by, "pam");
    assert_int_equal(inc.actions[0].done_ns, t);
    assert_int_equal(wd_incident_action_done(&inc, 0, false, "pam", ++t, &ent, &err), WD_OK);
    expect_entry(WD_TL_ACTION, "pam", t, "done", "open",
                 "action 1 reopened: Add property-based tests for signals");
    assert_int_equal(wd_incident_action_done(&inc, 2, true, "pam", t, &ent, &err), WD_ENOTFOUND);

    static const enum wd_tl_kind note_kinds[] = {WD_TL_NOTE, WD_TL_FINDING, WD_TL_CONTROL,
                                                 WD_TL_APPROVAL};
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(
            wd_incident_note(&inc, note_kinds[i], "PnL ratio -0.061", "warden", ++t, &ent, &err),
            WD_OK);
        expect_entry(note_kinds[i], "warden", t, "", "", "PnL ratio -0.061");
    }
    assert_int_equal(wd_incident_note(&inc, WD_TL_STATUS, "x", "warden", t, &ent, &err),
                     WD_EINVAL);
    assert_int_equal(wd_incident_note(&inc, WD_TL_NOTE, "", "warden", t, &ent, &err), WD_EINVAL);

    assert_int_equal(wd_incident_raise(&inc, WD_P0, "dave", t, &ent, &err), WD_ESTATE);

    assert_int_equal(wd_incident_set_pnl_resolved(&inc, 0, "rita", t, &ent, &err), WD_ESTATE);
    tick_all();
    t = T0 + MIN_NS;
    assert_int_equal(wd_incident_transition(&inc, WD_INC_RESOLVED, "dave", ++t, &ent, &err),
                     WD_OK);
    expect_entry(WD_TL_STATUS, "dave", t, "investigating", "resolved",
                 "status investigating -> resolved");
    assert_int_equal(wd_incident_set_pnl_resolved(&inc, -51234 * WD_FIX_SCALE + 50000000, "rita",
                                                  ++t, &ent, &err),
                     WD_OK);
    expect_entry(WD_TL_IMPACT, "rita", t, "", "-51233.50",
                 "PnL at resolution -51233.50 (at open -54000.00)");
    assert_true(inc.pnl_resolved_known);
    assert_int_equal(wd_incident_set_pnl_resolved(&inc, 0, "rita", t, &ent, &err), WD_ESTATE);

    assert_int_equal(wd_incident_transition(&inc, WD_INC_CLOSED, "dave", ++t, &ent, &err), WD_OK);
    expect_entry(WD_TL_STATUS, "dave", t, "resolved", "closed", "status resolved -> closed");
    /* Closed: only the review's follow-ups move. */
    struct wd_incident before = inc;
    assert_int_equal(wd_incident_note(&inc, WD_TL_NOTE, "late", "dave", t, &ent, &err),
                     WD_ESTATE);
    assert_int_equal(wd_incident_assign(&inc, WD_IR_SME, "x", "dave", t, &ent, &err), WD_ESTATE);
    assert_int_equal(wd_incident_check(&inc, 0, false, "dave", t, &ent, &err), WD_ESTATE);
    assert_int_equal(wd_incident_action_add(&inc, "a", "b", 0, "dave", t, NULL, &ent, &err),
                     WD_ESTATE);
    assert_memory_equal(&inc, &before, sizeof inc);
    assert_int_equal(wd_incident_action_done(&inc, 1, true, "sre", ++t, &ent, &err), WD_OK);
    expect_entry(WD_TL_ACTION, "sre", t, "open", "done", "action 2 done: Update the playbook");
}

static void test_incident_refused_mutations_change_nothing(void **state)
{
    (void)state;
    open_as(WD_SC_KILL_PNL, WD_P0);
    assert_int_equal(wd_incident_note(&inc, WD_TL_NOTE, "n", "bob", T0 + HOUR_NS, NULL, &err),
                     WD_OK);
    struct wd_incident before = inc;
    memset(&ent, 0x33, sizeof ent);
    struct wd_timeline_entry untouched = ent;

    /* Back in time. */
    assert_int_equal(wd_incident_note(&inc, WD_TL_NOTE, "n", "bob", T0 + HOUR_NS - 1, &ent, &err),
                     WD_EINVAL);
    assert_string_equal(err.msg, "incident INC-20260302-001 changed last at 1772465400000000000 "
                                 "ns; a change dated 1772465399999999999 ns would go back in "
                                 "time");
    assert_int_equal(
        wd_incident_transition(&inc, WD_INC_FIXING, "bob", T0 + HOUR_NS - 1, &ent, &err),
        WD_EINVAL);
    /* Nobody, or a bad name. */
    assert_int_equal(wd_incident_transition(&inc, WD_INC_FIXING, "", T0 + HOUR_NS, &ent, &err),
                     WD_EINVAL);
    assert_int_equal(wd_incident_transition(&inc, WD_INC_FIXING, NULL, T0 + HOUR_NS, &ent, &err),
                     WD_EINVAL);
    assert_int_equal(
        wd_incident_transition(&inc, WD_INC_FIXING, "b\nob", T0 + HOUR_NS, &ent, &err),
        WD_EINVAL);
    char longw[WD_WHO_MAX + 1];
    memset(longw, 'w', WD_WHO_MAX);
    longw[WD_WHO_MAX] = '\0';
    assert_int_equal(wd_incident_transition(&inc, WD_INC_FIXING, longw, T0 + HOUR_NS, &ent, &err),
                     WD_ERANGE);
    assert_int_equal(wd_incident_assign(&inc, WD_IR_COMMANDER, longw, "bob", T0 + HOUR_NS, &ent,
                                        &err),
                     WD_ERANGE);
    assert_int_equal(wd_incident_assign(&inc, (enum wd_inc_role)9, "x", "bob", T0 + HOUR_NS, &ent,
                                        &err),
                     WD_EINVAL);
    char longn[WD_TIMELINE_TEXT_MAX + 1];
    memset(longn, 'n', WD_TIMELINE_TEXT_MAX);
    longn[WD_TIMELINE_TEXT_MAX] = '\0';
    assert_int_equal(wd_incident_note(&inc, WD_TL_NOTE, longn, "bob", T0 + HOUR_NS, &ent, &err),
                     WD_ERANGE);
    assert_int_equal(
        wd_incident_action_add(&inc, "x", "o", -1, "bob", T0 + HOUR_NS, NULL, &ent, &err),
        WD_EINVAL);
    assert_memory_equal(&inc, &before, sizeof inc);
    assert_memory_equal(&ent, &untouched, sizeof ent);

    /* The action list is bounded. */
    for (int i = 0; i < WD_INCIDENT_ACTION_MAX; i++) {
        assert_int_equal(
            wd_incident_action_add(&inc, "x", "o", 0, "bob", T0 + HOUR_NS, NULL, NULL, &err),
            WD_OK);
    }
    before = inc;
    assert_int_equal(
        wd_incident_action_add(&inc, "x", "o", 0, "bob", T0 + HOUR_NS, NULL, &ent, &err),
        WD_EFULL);
    assert_string_equal(err.msg, "incident INC-20260302-001 already has 32 action items");
    assert_memory_equal(&inc, &before, sizeof inc);
}

/* ---- SLA and escalation -------------------------------------------------- */

static void test_incident_ack_sla_on_its_boundary(void **state)
{
    (void)state;
    static const struct {
        enum wd_scenario sc;
        enum wd_severity sev;
        int64_t target;
    } cases[] = {{WD_SC_KILL_PNL, WD_P0, 5 * MIN_NS},
                 {WD_SC_BUS_FAILURE, WD_P1, 15 * MIN_NS},
                 {WD_SC_HIGH_LATENCY, WD_P2, HOUR_NS},
                 {WD_SC_MANUAL, WD_P3, 24 * HOUR_NS}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        open_as(cases[i].sc, cases[i].sev);
        struct wd_incident_sla s;
        assert_int_equal(wd_sla_ack_target_ns(cases[i].sev), cases[i].target);
        int64_t due = T0 + cases[i].target;
        /* Just inside: due exactly now. */
        wd_incident_sla(&inc, due, &s);
        assert_int_equal(s.ack_target_ns, cases[i].target);
        assert_int_equal(s.ack_due_ns, due);
        assert_false(s.acknowledged);
        assert_int_equal(s.ack_remaining_ns, 0);
        assert_false(s.ack_breached);
        wd_incident_sla(&inc, due - 1, &s);
        assert_int_equal(s.ack_remaining_ns, 1);
        assert_false(s.ack_breached);
        /* Just past. */
        wd_incident_sla(&inc, due + 1, &s);
        assert_int_equal(s.ack_remaining_ns, -1);
        assert_true(s.ack_breached);

        /* Acknowledged exactly on time: frozen, never breached. */
        assert_int_equal(
            wd_incident_transition(&inc, WD_INC_ACKNOWLEDGED, "bob", due, NULL, &err), WD_OK);
        wd_incident_sla(&inc, due + 10 * HOUR_NS, &s);
        assert_true(s.acknowledged);
        assert_int_equal(s.ack_remaining_ns, 0);
        assert_false(s.ack_breached);

        /* Acknowledged one nanosecond late: breached for good. */
        open_as(cases[i].sc, cases[i].sev);
        assert_int_equal(
            wd_incident_transition(&inc, WD_INC_INVESTIGATING, "bob", due + 1, NULL, &err),
            WD_OK);
        wd_incident_sla(&inc, due + 10 * HOUR_NS, &s);
        assert_int_equal(s.ack_remaining_ns, -1);
        assert_true(s.ack_breached);
    }
}

static void test_incident_resolve_targets_from_the_playbook(void **state)
{
    (void)state;
    static const int64_t want[WD_SC__COUNT] = {
        [WD_SC_KILL_PNL] = 4 * HOUR_NS,           [WD_SC_KILL_DRAWDOWN] = 24 * HOUR_NS,
        [WD_SC_KILL_PSR] = 4 * HOUR_NS,           [WD_SC_UNAUTHORIZED] = 120 * HOUR_NS,
        [WD_SC_BROKER_DISCONNECT] = 30 * MIN_NS,  [WD_SC_BUS_FAILURE] = 30 * MIN_NS,
        [WD_SC_REJECT_SPIKE] = 2 * HOUR_NS,       [WD_SC_HIGH_LATENCY] = 4 * HOUR_NS,
        [WD_SC_DATA_QUALITY] = 2 * HOUR_NS,       [WD_SC_MANUAL] = 0,
    };
    for (unsigned s = 0; s < WD_SC__COUNT; s++) {
        assert_int_equal(wd_sla_resolve_target_ns((enum wd_scenario)s), want[s]);
    }
    struct wd_incident_sla s;
    open_as(WD_SC_BROKER_DISCONNECT, WD_P1);
    wd_incident_sla(&inc, T0 + 30 * MIN_NS, &s);
    assert_int_equal(s.resolve_due_ns, T0 + 30 * MIN_NS);
    assert_int_equal(s.resolve_remaining_ns, 0);
    assert_false(s.resolve_breached);
    wd_incident_sla(&inc, T0 + 30 * MIN_NS + 1, &s);
    assert_int_equal(s.resolve_remaining_ns, -1);
    assert_true(s.resolve_breached);
    tick_all();
    assert_int_equal(
        wd_incident_transition(&inc, WD_INC_RESOLVED, "bob", T0 + 20 * MIN_NS, NULL, &err), WD_OK);
    wd_incident_sla(&inc, T0 + 50 * MIN_NS, &s);
    assert_true(s.resolved);
    assert_int_equal(s.resolve_remaining_ns, 10 * MIN_NS);
    assert_false(s.resolve_breached);
    assert_int_equal(wd_incident_duration_ns(&inc, T0 + 50 * MIN_NS), 20 * MIN_NS);

    open_as(WD_SC_MANUAL, WD_P1);
    wd_incident_sla(&inc, T0 + 1000 * HOUR_NS, &s);
    assert_int_equal(s.resolve_target_ns, 0);
    assert_int_equal(s.resolve_due_ns, 0);
    assert_false(s.resolve_breached);
    assert_int_equal(wd_incident_duration_ns(&inc, T0 + 3 * MIN_NS), 3 * MIN_NS);
}

static void test_incident_escalation_on_its_boundaries(void **state)
{
    (void)state;
    open_as(WD_SC_KILL_PNL, WD_P0);
    assert_int_equal(wd_incident_escalation_level(&inc, T0), WD_ESC_ON_CALL);
    assert_int_equal(wd_incident_escalation_level(&inc, T0 + 30 * MIN_NS), WD_ESC_ON_CALL);
    assert_int_equal(wd_incident_escalation_level(&inc, T0 + 30 * MIN_NS + 1),
                     WD_ESC_SENIOR_ENGINEER);
    assert_int_equal(wd_incident_escalation_level(&inc, T0 + 2 * HOUR_NS),
                     WD_ESC_SENIOR_ENGINEER);
    assert_int_equal(wd_incident_escalation_level(&inc, T0 + 2 * HOUR_NS + 1), WD_ESC_MANAGEMENT);
    assert_string_equal(wd_escalation_name(WD_ESC_MANAGEMENT), "management");

    /* Resolved after 40 minutes: the level it reached, for good. */
    tick_all();
    assert_int_equal(
        wd_incident_transition(&inc, WD_INC_RESOLVED, "bob", T0 + 40 * MIN_NS, NULL, &err), WD_OK);
    assert_int_equal(wd_incident_escalation_level(&inc, T0 + 10 * HOUR_NS),
                     WD_ESC_SENIOR_ENGINEER);
}

static void test_incident_tick_announces_each_deadline_once(void **state)
{
    (void)state;
    open_as(WD_SC_BROKER_DISCONNECT, WD_P1);
    assert_false(wd_incident_tick(&inc, T0 + 15 * MIN_NS, &ent));
    assert_true(wd_incident_tick(&inc, T0 + 15 * MIN_NS + 1, &ent));
    expect_entry(WD_TL_SLA_BREACH, "warden", T0 + 15 * MIN_NS + 1, "", "ack_breached",
                 "acknowledgement SLA breached: a P1 is acknowledged within 15 min, due "
                 "2026-03-02T14:45:00.000Z");
    assert_true(inc.ack_breach_noted);
    assert_false(wd_incident_tick(&inc, T0 + 30 * MIN_NS, &ent));

    /* At 3 h everything at once: one entry per call, in order. */
    int64_t t = T0 + 3 * HOUR_NS;
    assert_true(wd_incident_tick(&inc, t, &ent));
    expect_entry(WD_TL_ESCALATION, "warden", t, "on_call", "senior_engineer",
                 "unresolved for more than 30 min: escalate to a senior engineer");
    assert_true(wd_incident_tick(&inc, t, &ent));
    expect_entry(WD_TL_ESCALATION, "warden", t, "senior_engineer", "management",
                 "unresolved for more than 2 h: escalate to management");
    assert_true(wd_incident_tick(&inc, t, &ent));
    expect_entry(WD_TL_SLA_BREACH, "warden", t, "", "resolve_breached",
                 "resolution target passed: broker_disconnect (P1-1) is expected resolved "
                 "within 30 min, due 2026-03-02T15:00:00.000Z");
    struct wd_incident before = inc;
    assert_false(wd_incident_tick(&inc, t + HOUR_NS, &ent));
    assert_memory_equal(&inc, &before, sizeof inc);
    assert_false(wd_incident_tick(&inc, t - 1, &ent));

    /* Nothing is announced for a resolved incident. */
    open_as(WD_SC_HIGH_LATENCY, WD_P2);
    reach(WD_INC_RESOLVED);
    assert_false(wd_incident_tick(&inc, T0 + 100 * HOUR_NS, &ent));
}

/* ---- ids and names ------------------------------------------------------- */

static void test_incident_ids(void **state)
{
    (void)state;
    char id[WD_INCIDENT_ID_MAX];
    int64_t day;
    uint32_t seq;
    assert_int_equal(wd_incident_id_format(20514, 7, id, sizeof id), WD_OK);
    assert_string_equal(id, "INC-20260302-007");
    assert_int_equal(wd_incident_id_parse(id, &day, &seq), WD_OK);
    assert_int_equal(day, 20514);
    assert_int_equal(seq, 7);
    assert_int_equal(wd_incident_id_format(20514, 1234, id, sizeof id), WD_OK);
    assert_string_equal(id, "INC-20260302-1234");
    assert_int_equal(wd_incident_id_parse(id, &day, &seq), WD_OK);
    assert_int_equal(seq, 1234);
    assert_int_equal(wd_incident_id_format(20514, 0, id, sizeof id), WD_ERANGE);
    assert_int_equal(wd_incident_id_format(20514, 10000, id, sizeof id), WD_ERANGE);
    assert_int_equal(wd_incident_id_format(20514, 1, id, 8), WD_EFULL);
    static const char *const bad[] = {
        "INC-20260302-01",   "INC-20260302-0001", "INC-20260230-001", "INC-20261301-001",
        "INC-20260302-000",  "inc-20260302-001",  "INC-2026030-0001", "INC-20260302-00a",
        "INC-20260302-12345", "INC-20260302_001", "", "INC-20260302-001 "};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(wd_incident_id_parse(bad[i], NULL, NULL), WD_EINVAL);
    }
    assert_int_equal(wd_incident_id_parse(NULL, NULL, NULL), WD_EINVAL);
}

static void test_incident_names_round_trip(void **state)
{
    (void)state;
    for (unsigned i = 0; i < WD_INC__COUNT; i++) {
        enum wd_inc_status s;
        assert_int_equal(wd_inc_status_parse(wd_inc_status_name((enum wd_inc_status)i), &s),
                         WD_OK);
        assert_int_equal(s, i);
        assert_int_equal(wd_inc_status_active((enum wd_inc_status)i), i <= WD_INC_MONITORING);
    }
    for (unsigned i = 0; i < WD_IR__COUNT; i++) {
        enum wd_inc_role r;
        assert_int_equal(wd_inc_role_parse(wd_inc_role_name((enum wd_inc_role)i), &r), WD_OK);
        assert_int_equal(r, i);
    }
    for (unsigned i = 0; i < WD_TL__COUNT; i++) {
        enum wd_tl_kind k;
        assert_int_equal(wd_tl_kind_parse(wd_tl_kind_name((enum wd_tl_kind)i), &k), WD_OK);
        assert_int_equal(k, i);
    }
    enum wd_inc_status s;
    assert_int_equal(wd_inc_status_parse("Resolved", &s), WD_EINVAL);
    assert_string_equal(wd_inc_status_name((enum wd_inc_status)8), "?");
    assert_string_equal(wd_resume_basis_name(WD_RESUME_CRITERIA_MET), "criteria_met");
}

/* ---- canonical form ------------------------------------------------------ */

/* A record with something in every field. */
static void build_full(void)
{
    struct wd_incident_opening o = {
        .id = "INC-20260302-001",
        .scenario = WD_SC_BROKER_DISCONNECT,
        .scope = "account:U1",
        .severity = WD_P1,
        .title = "Broker \"down\" 45s",
        .detail = "line1\nline2\t\\",
        .who = "warden",
        .trading_halted = true,
        .pnl_open = -1250 * WD_FIX_SCALE - 25000000,
    };
    assert_int_equal(wd_incident_open(&inc, &o, T0, NULL, &err), WD_OK);
    assert_int_equal(wd_incident_assign(&inc, WD_IR_COMMANDER, "alice", "alice", T0 + 60 * S_NS,
                                        NULL, &err),
                     WD_OK);
    assert_int_equal(wd_incident_assign(&inc, WD_IR_SME, "ibkr-bob", "alice", T0 + 60 * S_NS,
                                        NULL, &err),
                     WD_OK);
    assert_int_equal(wd_incident_transition(&inc, WD_INC_INVESTIGATING, "alice", T0 + 120 * S_NS,
                                            NULL, &err),
                     WD_OK);
    assert_int_equal(wd_incident_check(&inc, 0, true, "alice", T0 + 180 * S_NS, NULL, &err),
                     WD_OK);
    assert_int_equal(wd_incident_action_add(&inc, "Alert on heartbeat gaps", "sre",
                                            T0 + 48 * HOUR_NS, "alice", T0 + 240 * S_NS, NULL,
                                            NULL, &err),
                     WD_OK);
}

static const char pinned[] =
    "{\"v\":1,\"id\":\"INC-20260302-001\",\"scenario\":\"broker_disconnect\","
    "\"scope\":\"account:U1\",\"severity\":\"P1\",\"title\":\"Broker \\\"down\\\" 45s\","
    "\"detail\":\"line1\\u000aline2\\u0009\\\\\",\"status\":\"investigating\","
    "\"opened_by\":\"warden\",\"opened_ns\":1772461800000000000,"
    "\"acknowledged_ns\":1772461920000000000,\"resolved_ns\":0,\"closed_ns\":0,"
    "\"updated_ns\":1772462040000000000,"
    "\"roles\":{\"commander\":\"alice\",\"risk_officer\":\"\",\"technical_lead\":\"\","
    "\"communications_lead\":\"\",\"smes\":[\"ibkr-bob\"]},"
    "\"impact\":{\"trading_halted\":true,\"pnl_open\":\"-1250.25\",\"pnl_resolved\":null},"
    "\"criteria\":[{\"text\":\"Connection restored\",\"done\":true,\"who\":\"alice\","
    "\"when_ns\":1772461980000000000},{\"text\":\"Market data flowing\",\"done\":false,"
    "\"who\":\"\",\"when_ns\":0},{\"text\":\"Orders executing normally\",\"done\":false,"
    "\"who\":\"\",\"when_ns\":0},{\"text\":\"Monitoring confirms stability\",\"done\":false,"
    "\"who\":\"\",\"when_ns\":0}],"
    "\"actions\":[{\"text\":\"Alert on heartbeat gaps\",\"owner\":\"sre\","
    "\"due_ns\":1772634600000000000,\"done\":false,\"done_by\":\"\",\"done_ns\":0}],"
    "\"noted\":{\"ack_breach\":false,\"resolve_breach\":false,\"escalation\":\"on_call\"}}";

static void test_incident_canonical_pinned(void **state)
{
    (void)state;
    build_full();
    char buf[WD_INCIDENT_CANONICAL_MAX];
    size_t n = wd_incident_canonical(&inc, buf, sizeof buf);
    assert_string_equal(buf, pinned);
    assert_int_equal(n, strlen(pinned));
    /* Like snprintf: cut but NUL-terminated, and the full length returned. */
    char small[16];
    assert_int_equal(wd_incident_canonical(&inc, small, sizeof small), n);
    assert_string_equal(small, "{\"v\":1,\"id\":\"IN");
    assert_int_equal(wd_incident_canonical(&inc, NULL, 0), n);
}

/* Each changes exactly one field of the record built by build_full. */
static void mut_id(struct wd_incident *x) { x->id[15] = '2'; }
static void mut_scenario(struct wd_incident *x) { x->scenario = WD_SC_BUS_FAILURE; }
static void mut_scope(struct wd_incident *x) { memcpy(x->scope, "account:U2", 11); }
static void mut_severity(struct wd_incident *x) { x->severity = WD_P0; }
static void mut_title(struct wd_incident *x) { x->title[0] = 'b'; }
static void mut_detail(struct wd_incident *x) { x->detail[0] = '\0'; }
static void mut_status(struct wd_incident *x) { x->status = WD_INC_FIXING; }
static void mut_opened_by(struct wd_incident *x) { x->opened_by[0] = 'W'; }
static void mut_commander(struct wd_incident *x) { x->commander[0] = '\0'; }
static void mut_risk(struct wd_incident *x) { memcpy(x->risk_officer, "alice", 6); }
static void mut_tech(struct wd_incident *x) { memcpy(x->tech_lead, "alice", 6); }
static void mut_comms(struct wd_incident *x) { memcpy(x->comms_lead, "alice", 6); }
static void mut_sme(struct wd_incident *x) { x->smes[0][0] = 'I'; }
static void mut_n_smes(struct wd_incident *x) { x->n_smes = 0; }
static void mut_opened(struct wd_incident *x) { x->opened_ns++; }
static void mut_ack(struct wd_incident *x) { x->acknowledged_ns++; }
static void mut_resolved(struct wd_incident *x) { x->resolved_ns = 1; }
static void mut_closed(struct wd_incident *x) { x->closed_ns = 1; }
static void mut_updated(struct wd_incident *x) { x->updated_ns++; }
static void mut_halted(struct wd_incident *x) { x->trading_halted = false; }
static void mut_pnl_open(struct wd_incident *x) { x->pnl_open++; }
static void mut_pnl_known(struct wd_incident *x) { x->pnl_resolved_known = true; }
static void mut_crit_text(struct wd_incident *x) { x->criteria[1].text[0] = 'm'; }
static void mut_crit_done(struct wd_incident *x) { x->criteria[1].done = true; }
static void mut_crit_who(struct wd_incident *x) { x->criteria[0].who[0] = 'A'; }
static void mut_crit_when(struct wd_incident *x) { x->criteria[0].when_ns++; }
static void mut_n_crit(struct wd_incident *x) { x->n_criteria--; }
static void mut_act_text(struct wd_incident *x) { x->actions[0].text[0] = 'a'; }
static void mut_act_owner(struct wd_incident *x) { x->actions[0].owner[0] = 'S'; }
static void mut_act_due(struct wd_incident *x) { x->actions[0].due_ns--; }
static void mut_act_done(struct wd_incident *x) { x->actions[0].done = true; }
static void mut_act_by(struct wd_incident *x) { memcpy(x->actions[0].done_by, "x", 2); }
static void mut_act_when(struct wd_incident *x) { x->actions[0].done_ns = 5; }
static void mut_n_act(struct wd_incident *x) { x->n_actions = 0; }
static void mut_ack_noted(struct wd_incident *x) { x->ack_breach_noted = true; }
static void mut_res_noted(struct wd_incident *x) { x->resolve_breach_noted = true; }
static void mut_esc_noted(struct wd_incident *x) { x->escalation_noted = 1; }

static void test_incident_canonical_changes_with_any_field(void **state)
{
    (void)state;
    static void (*const muts[])(struct wd_incident *) = {
        mut_id,        mut_scenario,  mut_scope,     mut_severity,  mut_title,
        mut_detail,    mut_status,    mut_opened_by, mut_commander, mut_risk,
        mut_tech,      mut_comms,     mut_sme,       mut_n_smes,    mut_opened,
        mut_ack,       mut_resolved,  mut_closed,    mut_updated,   mut_halted,
        mut_pnl_open,  mut_pnl_known, mut_crit_text, mut_crit_done, mut_crit_who,
        mut_crit_when, mut_n_crit,    mut_act_text,  mut_act_owner, mut_act_due,
        mut_act_done,  mut_act_by,    mut_act_when,  mut_n_act,     mut_ack_noted,
        mut_res_noted, mut_esc_noted};
    enum { N = sizeof muts / sizeof muts[0] };
    static char texts[N][4096];
    build_full();
    const struct wd_incident base = inc;
    for (size_t i = 0; i < N; i++) {
        struct wd_incident x = base;
        muts[i](&x);
        assert_true(wd_incident_canonical(&x, texts[i], sizeof texts[i]) < sizeof texts[i]);
        if (strcmp(texts[i], pinned) == 0) {
            fail_msg("mutation %zu left the canonical form unchanged", i);
        }
        for (size_t j = 0; j < i; j++) {
            if (strcmp(texts[i], texts[j]) == 0) {
                fail_msg("mutations %zu and %zu give the same canonical form", j, i);
            }
        }
    }
    /* pnl_resolved is shown once known; then its value matters. */
    struct wd_incident x = base, y = base;
    x.pnl_resolved_known = y.pnl_resolved_known = true;
    y.pnl_resolved = 1;
    char a[4096], b[4096];
    (void)wd_incident_canonical(&x, a, sizeof a);
    (void)wd_incident_canonical(&y, b, sizeof b);
    assert_string_not_equal(a, b);
    assert_non_null(strstr(b, "\"pnl_resolved\":\"0.00000001\""));
}

static void test_incident_canonical_fits_its_bound(void **state)
{
    (void)state;
    /* Every string full of bytes that escape to six. */
    struct wd_incident x;
    memset(&x, 0x01, sizeof x);
#define FILL(f) (memset((f), 0x01, sizeof(f) - 1), (f)[sizeof(f) - 1] = '\0')
    FILL(x.id);
    FILL(x.scope);
    FILL(x.title);
    FILL(x.detail);
    FILL(x.opened_by);
    FILL(x.commander);
    FILL(x.risk_officer);
    FILL(x.tech_lead);
    FILL(x.comms_lead);
    for (int i = 0; i < WD_INCIDENT_SME_MAX; i++) {
        FILL(x.smes[i]);
    }
    for (int i = 0; i < WD_INCIDENT_CRITERIA_MAX; i++) {
        FILL(x.criteria[i].text);
        FILL(x.criteria[i].who);
        x.criteria[i].when_ns = INT64_MIN;
    }
    for (int i = 0; i < WD_INCIDENT_ACTION_MAX; i++) {
        FILL(x.actions[i].text);
        FILL(x.actions[i].owner);
        FILL(x.actions[i].done_by);
        x.actions[i].due_ns = x.actions[i].done_ns = INT64_MIN;
    }
#undef FILL
    x.scenario = WD_SC_UNAUTHORIZED;
    x.severity = WD_P0;
    x.status = WD_INC_INVESTIGATING;
    x.n_smes = WD_INCIDENT_SME_MAX;
    x.n_criteria = WD_INCIDENT_CRITERIA_MAX;
    x.n_actions = WD_INCIDENT_ACTION_MAX;
    x.opened_ns = x.acknowledged_ns = x.resolved_ns = x.closed_ns = x.updated_ns = INT64_MIN;
    x.pnl_open = x.pnl_resolved = INT64_MIN;
    x.trading_halted = x.pnl_resolved_known = true;
    x.escalation_noted = WD_ESC_MANAGEMENT;
    static char buf[WD_INCIDENT_CANONICAL_MAX];
    size_t n = wd_incident_canonical(&x, buf, sizeof buf);
    assert_true(n < WD_INCIDENT_CANONICAL_MAX);
    assert_int_equal(strlen(buf), n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_incident_every_status_pair),
        cmocka_unit_test(test_incident_refusals_say_what_is_allowed),
        cmocka_unit_test(test_incident_ack_stamped_once_by_first_move),
        cmocka_unit_test(test_incident_p0_p1_resolve_needs_every_criterion),
        cmocka_unit_test(test_incident_p2_p3_resolve_without_criteria),
        cmocka_unit_test(test_incident_raised_to_p1_becomes_gated),
        cmocka_unit_test(test_incident_severity_raised_never_lowered),
        cmocka_unit_test(test_incident_open_refuses_a_severity_below_the_default),
        cmocka_unit_test(test_incident_open_copies_the_playbook_checklist),
        cmocka_unit_test(test_incident_every_mutation_writes_one_entry),
        cmocka_unit_test(test_incident_refused_mutations_change_nothing),
        cmocka_unit_test(test_incident_ack_sla_on_its_boundary),
        cmocka_unit_test(test_incident_resolve_targets_from_the_playbook),
        cmocka_unit_test(test_incident_escalation_on_its_boundaries),
        cmocka_unit_test(test_incident_tick_announces_each_deadline_once),
        cmocka_unit_test(test_incident_ids),
        cmocka_unit_test(test_incident_names_round_trip),
        cmocka_unit_test(test_incident_canonical_pinned),
        cmocka_unit_test(test_incident_canonical_changes_with_any_field),
        cmocka_unit_test(test_incident_canonical_fits_its_bound),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
