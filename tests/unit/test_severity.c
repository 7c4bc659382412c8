/*
 * Scenarios and the severity decision tree: every branch of the tree, every
 * scenario's default severity and playbook section (SPEC section 5), and
 * raising (never lowering) a default.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "warden/severity.h"

static void test_severity_tree_every_branch(void **state)
{
    (void)state;
    struct wd_severity_facts f = {0};
    assert_int_equal(wd_severity_classify(&f), WD_P3);
    f.degraded = true;
    assert_int_equal(wd_severity_classify(&f), WD_P2);
    f.major_function_broken = true;
    assert_int_equal(wd_severity_classify(&f), WD_P1);
    f.money_at_risk = true;
    assert_int_equal(wd_severity_classify(&f), WD_P0);
    f = (struct wd_severity_facts){.trading_halted = true};
    assert_int_equal(wd_severity_classify(&f), WD_P0);
}

static void test_severity_scenario_defaults_match_the_spec(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        const char *sev;
        const char *playbook;
    } want[WD_SC__COUNT] = {
        {"kill_pnl", "P0", "P0-1"},          {"kill_drawdown", "P0", "P0-2"},
        {"kill_psr", "P0", "kill-switches"}, {"unauthorized_trading", "P0", "P0-3"},
        {"broker_disconnect", "P1", "P1-1"}, {"bus_failure", "P1", "P1-2"},
        {"reject_spike", "P1", "P1-3"},      {"high_latency", "P2", "P2-1"},
        {"data_quality", "P2", "P2-2"},      {"manual", "P1", "any"},
    };
    for (unsigned i = 0; i < WD_SC__COUNT; i++) {
        enum wd_scenario sc;
        assert_string_equal(wd_scenario_name((enum wd_scenario)i), want[i].name);
        assert_string_equal(wd_severity_name(wd_scenario_default_severity((enum wd_scenario)i)),
                            want[i].sev);
        assert_string_equal(wd_scenario_playbook((enum wd_scenario)i), want[i].playbook);
        assert_int_equal(wd_scenario_parse(want[i].name, &sc), WD_OK);
        assert_int_equal(sc, i);
        assert_non_null(wd_scenario_recovery_criteria((enum wd_scenario)i)[0]);
    }
    enum wd_scenario sc;
    assert_int_equal(wd_scenario_parse("kill-pnl", &sc), WD_EINVAL);
}

static void test_severity_raised_never_lowered(void **state)
{
    (void)state;
    struct wd_severity_facts calm = {0};
    struct wd_severity_facts risk = {.money_at_risk = true};
    struct wd_severity_facts broken = {.major_function_broken = true};
    /* A broker disconnect is P1; with open positions exposed, P0. */
    assert_int_equal(wd_severity_for(WD_SC_BROKER_DISCONNECT, &calm), WD_P1);
    assert_int_equal(wd_severity_for(WD_SC_BROKER_DISCONNECT, &risk), WD_P0);
    /* High latency is P2, P1 when an order path is broken too. */
    assert_int_equal(wd_severity_for(WD_SC_HIGH_LATENCY, &calm), WD_P2);
    assert_int_equal(wd_severity_for(WD_SC_HIGH_LATENCY, &broken), WD_P1);
    /* A P0 scenario stays P0 whatever the facts. */
    assert_int_equal(wd_severity_for(WD_SC_KILL_PNL, &calm), WD_P0);
}

static void test_severity_names_parse_back(void **state)
{
    (void)state;
    enum wd_severity s;
    assert_int_equal(wd_severity_parse("P2", &s), WD_OK);
    assert_int_equal(s, WD_P2);
    assert_int_equal(wd_severity_parse("p2", &s), WD_EINVAL);
    assert_int_equal(wd_severity_parse("P4", &s), WD_EINVAL);
}

static void test_severity_recovery_criteria_are_the_playbooks(void **state)
{
    (void)state;
    const char *const *c = wd_scenario_recovery_criteria(WD_SC_KILL_DRAWDOWN);
    assert_string_equal(c[0], "Drawdown reason understood");
    assert_string_equal(c[3], "Approval from Risk Officer + CTO");
    assert_null(c[4]);
    c = wd_scenario_recovery_criteria(WD_SC_BUS_FAILURE);
    assert_string_equal(c[2], "Consumer lag < 100 messages");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_severity_tree_every_branch),
        cmocka_unit_test(test_severity_scenario_defaults_match_the_spec),
        cmocka_unit_test(test_severity_raised_never_lowered),
        cmocka_unit_test(test_severity_names_parse_back),
        cmocka_unit_test(test_severity_recovery_criteria_are_the_playbooks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
