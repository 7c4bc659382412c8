/*
 * The oncall: and escalation: sections of the YAML configuration
 * (src/bus/config_oncall.inc): the example file loads into exactly the
 * playbook's rotation and chain, and every kind of mistake is reported
 * with its line, column and the key's path, nothing applied.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bus/config_yaml.h"
#include "warden/config.h"
#include "warden/timeutil.h"

static void test_config_oncall_example_file(void **state)
{
    (void)state;
    struct wd_config cfg;
    struct wd_config_report rep = {0};
    char path[512];
    const char *src = getenv("WD_SOURCE_DIR");
    snprintf(path, sizeof path, "%s/examples/warden.yaml", src ? src : ".");
    assert_int_equal(wd_config_init(&cfg), WD_OK);
    assert_int_equal(wd_config_load_file(path, &cfg, &rep), WD_OK);
    const struct wd_oncall_config *c = &cfg.oncall;
    assert_string_equal(c->tz, "America/New_York");
    assert_int_equal(c->handoff_wday, 0);
    assert_int_equal(c->handoff_min, 540);
    assert_true(c->start_given);
    assert_int_equal(c->start_day, wd_days_from_civil(2025, 11, 2));
    assert_int_equal(c->n_engineers, 3);
    assert_string_equal(c->engineers[0].name, "alice");
    assert_int_equal(c->engineers[0].n_contacts, 2);
    assert_string_equal(c->engineers[0].contacts[1].name, "alice");
    assert_string_equal(c->engineers[0].contacts[1].channel, "email");
    assert_string_equal(c->engineers[0].contacts[1].to, "alice@example.com");
    assert_int_equal(c->engineers[0].contacts[1].hours.to_min, 1440);
    assert_string_equal(c->engineers[2].name, "carol");
    assert_int_equal(c->n_overrides, 1);
    assert_string_equal(c->overrides[0].person, "bob");
    assert_string_equal(c->overrides[0].covered_by, "carol");
    assert_true(c->overrides[0].until.is_day);
    assert_int_equal(c->overrides[0].until.value, wd_days_from_civil(2025, 12, 26));
    assert_int_equal(c->n_levels, 5);
    assert_true(c->levels[0].rotation);
    assert_string_equal(c->levels[2].name, "Risk Officer");
    /* The level's hours became its contact's. */
    assert_int_equal(c->levels[2].contacts[0].hours.days_mask, 0x3e);
    assert_int_equal(c->levels[2].contacts[0].hours.from_min, 570);
    assert_int_equal(c->levels[2].contacts[0].hours.to_min, 960);
    assert_int_equal(c->levels[4].severities, 0x01);
    assert_string_equal(c->levels[3].contacts[0].channel, "pagerduty");
    wd_config_report_free(&rep);
    wd_config_destroy(&cfg);
}

static void test_config_oncall_defaults_without_sections(void **state)
{
    (void)state;
    struct wd_config cfg;
    assert_int_equal(wd_config_init(&cfg), WD_OK);
    assert_int_equal(wd_config_load_buffer("capital: 5\n", 11, "t.yaml", &cfg, NULL), WD_OK);
    assert_int_equal(cfg.oncall.n_engineers, 0);
    assert_int_equal(cfg.oncall.n_levels, 5);
    assert_string_equal(cfg.oncall.levels[1].name, "Senior Engineer");
    assert_int_equal(cfg.oncall.levels[2].hours.from_min, 570);
    wd_config_destroy(&cfg);
}

static void test_config_oncall_every_problem_with_its_line(void **state)
{
    (void)state;
    static const char yaml[] =
        "oncall:\n"                                                          /* 1 */
        "  tz: Mars/Olympus\n"                                               /* 2 */
        "  handoff: {day: Sundae, time: \"9:61\"}\n"                         /* 3 */
        "  start: \"2025-11-03\"\n"                                          /* 4 */
        "  engineers:\n"                                                     /* 5 */
        "    - name: alice\n"                                                /* 6 */
        "      contacts: [{channel: pager, to: \"+1\"}]\n"                   /* 7 */
        "    - {contacts: []}\n"                                             /* 8 */
        "    - alice\n" /* 9: accepted: engineers[0] was refused for its contact */
        "  overrides:\n"                                                     /* 10 */
        "    - {person: zed, from: \"2025-12-24\", until: \"2025-12-26\"}\n" /* 11 */
        "    - {person: alice, from: tomorrow, until: \"2025-12-26\"}\n"     /* 12 */
        "    - {person: alice, from: \"2025-12-24\"}\n"                      /* 13 */
        "escalation:\n"                                                      /* 14 */
        "  levels:\n"                                                        /* 15 */
        "    - name: On-Call\n"                                              /* 16 */
        "      rotation: maybe\n"                                            /* 17 */
        "      hours: {days: [Mon], from: \"09:00\", to: \"09:00\"}\n"       /* 18 */
        "    - contacts: [{channel: sms, to: \"+1\"}]\n"                     /* 19 */
        "      severities: [P5]\n"                                           /* 20 */
        "      hours: sometimes\n";                                          /* 21 */
    static const char *const want[] = {
        "2:7 oncall.tz: time zone \"Mars/Olympus\": no zone file "
        "/usr/share/zoneinfo/Mars/Olympus, and not a POSIX TZ rule (TZ rule: expected hours "
        "at offset 4)",
        "3:18 oncall.handoff.day: expected a day Mon, Tue, Wed, Thu, Fri, Sat or Sun, got "
        "\"Sundae\"",
        "3:32 oncall.handoff.time: expected a time HH:MM, got \"9:61\"",
        "4:10 oncall.start: 2025-11-03 is not a handoff day (oncall.handoff.day)",
        "7:28 oncall.engineers[0].contacts[0].channel: expected slack, pagerduty, webhook, "
        "email or sms, got \"pager\"",
        "8:7 oncall.engineers[1]: name is required",
        "11:7 oncall.overrides[0].person: 'zed' is not in oncall.engineers",
        "12:29 oncall.overrides[1].from: expected a date YYYY-MM-DD or an RFC 3339 time, got "
        "\"tomorrow\"",
        "13:7 oncall.overrides[2]: person, from and until are required",
        "17:17 escalation.levels[0].rotation: expected true or false, got \"maybe\"",
        "18:14 escalation.levels[0].hours: from and to are the same time: an empty window",
        "19:18 escalation.levels[1].contacts[0]: name, channel and to are required",
        "20:20 escalation.levels[1].severities[0]: expected P0, P1, P2 or P3, got \"P5\"",
        "21:14 escalation.levels[1].hours: expected 24/7 or {days: [Mon, ...], from: \"HH:MM\", "
        "to: \"HH:MM\"}, got \"sometimes\"",
    };
    struct wd_config cfg;
    struct wd_config_report rep = {0};
    assert_int_equal(wd_config_init(&cfg), WD_OK);
    assert_int_equal(wd_config_load_buffer(yaml, sizeof yaml - 1, "t.yaml", &cfg, &rep),
                     WD_EINVAL);
    for (size_t i = 0; i < rep.n; i++) {
        print_message("%llu:%llu %s\n", (unsigned long long)rep.items[i].line,
                      (unsigned long long)rep.items[i].column, rep.items[i].msg);
    }
    assert_int_equal(rep.n, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < rep.n; i++) {
        char got[400];
        snprintf(got, sizeof got, "%llu:%llu %s", (unsigned long long)rep.items[i].line,
                 (unsigned long long)rep.items[i].column, rep.items[i].msg);
        assert_string_equal(got, want[i]);
    }
    /* Nothing applied. */
    assert_int_equal(cfg.oncall.n_engineers, 0);
    assert_string_equal(cfg.oncall.levels[0].name, "On-Call");
    wd_config_report_free(&rep);
    wd_config_destroy(&cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_oncall_example_file),
        cmocka_unit_test(test_config_oncall_defaults_without_sections),
        cmocka_unit_test(test_config_oncall_every_problem_with_its_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
