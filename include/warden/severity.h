/*
 * Scenarios and severities (SPEC section 5, playbook "Assess & Classify").
 *
 * Every scenario of the playbook has a name (as written in outputs), a
 * default severity, and a recovery-criteria checklist; the severity
 * decision tree of the playbook is one function:
 *
 *   Is trading halted or money at risk?   -> P0
 *   Is major functionality broken?        -> P1
 *   Is performance degraded?              -> P2
 *   else                                  -> P3
 *
 * A finding's severity is its scenario's default, raised (never lowered)
 * when the decision tree says so. Pure.
 */
#ifndef WD_CORE_SEVERITY_H
#define WD_CORE_SEVERITY_H

#include <stdbool.h>
#include <stddef.h>

#include "warden/status.h"

enum wd_severity { WD_P0 = 0, WD_P1, WD_P2, WD_P3 };

enum wd_scenario {
    WD_SC_KILL_PNL = 0,
    WD_SC_KILL_DRAWDOWN,
    WD_SC_KILL_PSR,
    WD_SC_UNAUTHORIZED,
    WD_SC_BROKER_DISCONNECT,
    WD_SC_BUS_FAILURE,
    WD_SC_REJECT_SPIKE,
    WD_SC_HIGH_LATENCY,
    WD_SC_DATA_QUALITY,
    WD_SC_MANUAL,
    WD_SC__COUNT
};

/* What is known about the situation when a finding is classified. */
struct wd_severity_facts {
    bool trading_halted;         /* some scope is HALTED */
    bool money_at_risk;          /* open positions exposed to a move nobody can act on */
    bool major_function_broken;  /* an order, data or bus path is down */
    bool degraded;               /* slower or partial, still working */
};

/* "P0".."P3"; static. */
const char *wd_severity_name(enum wd_severity s);
enum wd_status wd_severity_parse(const char *s, enum wd_severity *out) WD_MUST_USE;

/* The playbook's decision tree. */
enum wd_severity wd_severity_classify(const struct wd_severity_facts *f);

/* kill_pnl, kill_drawdown, kill_psr, unauthorized_trading, broker_disconnect,
 * bus_failure, reject_spike, high_latency, data_quality, manual; static. */
const char *wd_scenario_name(enum wd_scenario sc);
enum wd_status wd_scenario_parse(const char *s, enum wd_scenario *out) WD_MUST_USE;

/* The scenario's default severity (SPEC section 5; manual: P1 unless chosen). */
enum wd_severity wd_scenario_default_severity(enum wd_scenario sc);

/* The playbook section ("P0-1", ..., "P2-2", "kill-switches", "any"); static. */
const char *wd_scenario_playbook(enum wd_scenario sc);

/* Default severity raised by the decision tree: the more severe of the two. */
enum wd_severity wd_severity_for(enum wd_scenario sc, const struct wd_severity_facts *f);

/* The scenario playbook's recovery criteria, as its checklist (NULL-terminated
 * array of static strings). */
const char *const *wd_scenario_recovery_criteria(enum wd_scenario sc);

#endif /* WD_CORE_SEVERITY_H */
