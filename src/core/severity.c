/*
 * Scenarios, severities and the playbook's severity decision tree (see
 * include/warden/severity.h). The recovery criteria are the playbook's
 * checklists, word for word. Pure.
 */
#include <string.h>

#include "warden/severity.h"

static const char *const sev_names[] = {"P0", "P1", "P2", "P3"};

const char *wd_severity_name(enum wd_severity s)
{
    return (unsigned)s < 4u ? sev_names[s] : "?";
}

enum wd_status wd_severity_parse(const char *s, enum wd_severity *out)
{
    for (unsigned i = 0; i < 4u; i++) {
        if (strcmp(s, sev_names[i]) == 0) {
            *out = (enum wd_severity)i;
            return WD_OK;
        }
    }
    return WD_EINVAL;
}

enum wd_severity wd_severity_classify(const struct wd_severity_facts *f)
{
    if (f->trading_halted || f->money_at_risk) {
        return WD_P0;
    }
    if (f->major_function_broken) {
        return WD_P1;
    }
    if (f->degraded) {
        return WD_P2;
    }
    return WD_P3;
}

static const char *const kill_pnl_criteria[] = {
    "Root cause identified and documented",
    "Fix implemented and tested in staging",
    "Risk Officer approval obtained",
    "Monitoring enhanced to prevent recurrence",
    "Gradual restart plan approved",
    NULL};
static const char *const kill_dd_criteria[] = {
    "Drawdown reason understood", "Strategy validated or fixed", "Risk parameters reviewed",
    "Approval from Risk Officer + CTO", NULL};
static const char *const unauthorized_criteria[] = {
    "Security breach contained",     "All credentials rotated",
    "Unauthorized code removed",     "Audit trail preserved",
    "Regulatory reporting completed", "External security audit passed",
    NULL};
static const char *const broker_criteria[] = {"Connection restored", "Market data flowing",
                                              "Orders executing normally",
                                              "Monitoring confirms stability", NULL};
static const char *const bus_criteria[] = {"Kafka cluster healthy", "All topics available",
                                           "Consumer lag < 100 messages",
                                           "Data flowing end-to-end", NULL};
static const char *const reject_criteria[] = {
    "Rejection rate < 5%", "Root cause identified and fixed", "Account/risk limits adjusted",
    "Validation logic updated", NULL};
static const char *const latency_criteria[] = {"Latency p95 < 200ms",
                                               "Bottleneck identified and resolved",
                                               "Performance testing passed", NULL};
static const char *const dq_criteria[] = {"Data freshness < 60 seconds",
                                          "Data completeness > 95%", "Validation gates passing",
                                          "Root cause identified", NULL};
static const char *const manual_criteria[] = {"Root cause identified and documented",
                                              "Fix verified", NULL};

static const struct {
    const char *name;
    enum wd_severity sev;
    const char *playbook;
    const char *const *criteria;
} scenarios[WD_SC__COUNT] = {
    [WD_SC_KILL_PNL] = {"kill_pnl", WD_P0, "P0-1", kill_pnl_criteria},
    [WD_SC_KILL_DRAWDOWN] = {"kill_drawdown", WD_P0, "P0-2", kill_dd_criteria},
    /* The PSR kill-switch has no playbook section of its own: it is a
     * kill-switch, handled like the PnL breach. */
    [WD_SC_KILL_PSR] = {"kill_psr", WD_P0, "kill-switches", kill_pnl_criteria},
    [WD_SC_UNAUTHORIZED] = {"unauthorized_trading", WD_P0, "P0-3", unauthorized_criteria},
    [WD_SC_BROKER_DISCONNECT] = {"broker_disconnect", WD_P1, "P1-1", broker_criteria},
    [WD_SC_BUS_FAILURE] = {"bus_failure", WD_P1, "P1-2", bus_criteria},
    [WD_SC_REJECT_SPIKE] = {"reject_spike", WD_P1, "P1-3", reject_criteria},
    [WD_SC_HIGH_LATENCY] = {"high_latency", WD_P2, "P2-1", latency_criteria},
    [WD_SC_DATA_QUALITY] = {"data_quality", WD_P2, "P2-2", dq_criteria},
    [WD_SC_MANUAL] = {"manual", WD_P1, "any", manual_criteria},
};

const char *wd_scenario_name(enum wd_scenario sc)
{
    return (unsigned)sc < WD_SC__COUNT ? scenarios[sc].name : "?";
}

enum wd_status wd_scenario_parse(const char *s, enum wd_scenario *out)
{
    for (unsigned i = 0; i < WD_SC__COUNT; i++) {
        if (strcmp(s, scenarios[i].name) == 0) {
            *out = (enum wd_scenario)i;
            return WD_OK;
        }
    }
    return WD_EINVAL;
}

enum wd_severity wd_scenario_default_severity(enum wd_scenario sc)
{
    return (unsigned)sc < WD_SC__COUNT ? scenarios[sc].sev : WD_P3;
}

const char *wd_scenario_playbook(enum wd_scenario sc)
{
    return (unsigned)sc < WD_SC__COUNT ? scenarios[sc].playbook : "?";
}

enum wd_severity wd_severity_for(enum wd_scenario sc, const struct wd_severity_facts *f)
{
    enum wd_severity d = wd_scenario_default_severity(sc);
    enum wd_severity t = wd_severity_classify(f);
    return t < d ? t : d;
}

const char *const *wd_scenario_recovery_criteria(enum wd_scenario sc)
{
    static const char *const none[] = {NULL};
    return (unsigned)sc < WD_SC__COUNT ? scenarios[sc].criteria : none;
}
