/*
 * The pure notification core (include/warden/notify.h): routes, the retry
 * schedule, the outcome of an answer, and each channel's exact bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "warden/notify.h"

#define BIT(c) (1u << (c))

static void configure(struct wd_notify_config *c)
{
    wd_notify_config_init(c);
    snprintf(c->slack.webhook_url, sizeof c->slack.webhook_url, "https://hooks.example/s");
    snprintf(c->pagerduty.routing_key, sizeof c->pagerduty.routing_key, "KEY");
    snprintf(c->email.smtp_url, sizeof c->email.smtp_url, "smtp://mail:25");
    snprintf(c->email.from, sizeof c->email.from, "warden@example.com");
    snprintf(c->email.to[0], sizeof c->email.to[0], "oncall@example.com");
    c->email.n_to = 1;
    snprintf(c->sms.url, sizeof c->sms.url, "https://sms.example/send");
    snprintf(c->sms.from, sizeof c->sms.from, "+15550000");
    snprintf(c->sms.to[0], sizeof c->sms.to[0], "+15550100");
    c->sms.n_to = 1;
}

static const struct wd_notification opened = {
    .kind = WD_NK_OPENED, .channel = WD_CH_SLACK, .incident = "INC-20251117-001",
    .severity = WD_P0, .scenario = "kill_pnl", .scope = "firm", .status = "open",
    .title = "Kill-switch activated: PnL breach", .text = "PnL=-5.20% < KILL_PNL=-5%",
    .recipient = "", .created_ns = 1763389800000000000LL};

static void expect_payload(const struct wd_notify_config *c, const struct wd_notification *n,
                           const char *want)
{
    struct wd_render_buf b;
    wd_render_buf_init(&b, 0);
    assert_int_equal(wd_notify_payload(c, n, &b), WD_OK);
    assert_string_equal(b.data, want);
    wd_render_buf_destroy(&b);
}

static void test_notify_routes_default_to_the_playbook(void **state)
{
    struct wd_notify_config c;
    (void)state;
    wd_notify_config_init(&c);
    assert_int_equal(wd_notify_route(&c, WD_P0), 0); /* nothing configured: nothing sent */
    configure(&c);
    assert_int_equal(wd_notify_route(&c, WD_P0),
                     BIT(WD_CH_PAGERDUTY) | BIT(WD_CH_SLACK) | BIT(WD_CH_SMS));
    assert_int_equal(wd_notify_route(&c, WD_P1), BIT(WD_CH_PAGERDUTY) | BIT(WD_CH_SLACK));
    assert_int_equal(wd_notify_route(&c, WD_P2), BIT(WD_CH_SLACK) | BIT(WD_CH_EMAIL));
    assert_int_equal(wd_notify_route(&c, WD_P3), BIT(WD_CH_SLACK) | BIT(WD_CH_EMAIL));
    assert_int_equal(c.update_every_s[WD_P0], 1800);
}

static void test_notify_routes_are_configurable(void **state)
{
    struct wd_notify_config c;
    const char *v[] = {"sms", "email"};
    size_t lens[] = {3, 5};
    char why[256];
    (void)state;
    configure(&c);
    assert_true(wd_notify_config_set(&c, "routes", 6, "P1", 2, v, lens, 2, true, why, sizeof why));
    assert_int_equal(wd_notify_route(&c, WD_P1), BIT(WD_CH_SMS) | BIT(WD_CH_EMAIL));
    const char *bad[] = {"teams"};
    size_t bl[] = {5};
    assert_false(wd_notify_config_set(&c, "routes", 6, "P1", 2, bad, bl, 1, true, why, sizeof why));
    assert_string_equal(why, "unknown channel 'teams' (slack, pagerduty, webhook, email, sms)");
}

static void test_notify_backoff_doubles_with_equal_jitter(void **state)
{
    struct wd_notify_config c;
    (void)state;
    wd_notify_config_init(&c); /* base 1000 ms, cap 300000 ms */
    assert_int_equal(wd_notify_backoff_ms(&c, 1, 0), 500);
    assert_int_equal(wd_notify_backoff_ms(&c, 1, 500), 1000);
    assert_int_equal(wd_notify_backoff_ms(&c, 1, 501), 500);
    assert_int_equal(wd_notify_backoff_ms(&c, 2, 0), 1000);
    assert_int_equal(wd_notify_backoff_ms(&c, 3, 7), 2007);
    assert_int_equal(wd_notify_backoff_ms(&c, 9, 0), 128000);
    assert_int_equal(wd_notify_backoff_ms(&c, 10, 0), 150000); /* capped at 300 s */
    assert_int_equal(wd_notify_backoff_ms(&c, 40, 150000), 300000);
}

static void test_notify_retry_after_is_honoured_up_to_the_cap(void **state)
{
    struct wd_notify_config c;
    (void)state;
    wd_notify_config_init(&c);
    c.backoff_base_ms = 50;
    c.backoff_max_ms = 5000;
    assert_int_equal(wd_notify_retry_delay_ms(&c, 1, 7, 0), 32);     /* none: the backoff */
    assert_int_equal(wd_notify_retry_delay_ms(&c, 1, 7, -1), 32);
    assert_int_equal(wd_notify_retry_delay_ms(&c, 1, 7, 2), 2000);   /* longer: honoured */
    assert_int_equal(wd_notify_retry_delay_ms(&c, 1, 7, 5), 5000);   /* at the cap */
    assert_int_equal(wd_notify_retry_delay_ms(&c, 1, 7, 6), 5000);   /* over it: the cap */
    assert_int_equal(wd_notify_retry_delay_ms(&c, 1, 7, INT64_MAX), 5000);
    c.backoff_base_ms = 8000;
    c.backoff_max_ms = 8000;
    assert_int_equal(wd_notify_retry_delay_ms(&c, 1, 0, 1), 4000);   /* shorter: the backoff */
}

static void test_notify_reminder_one_per_interval(void **state)
{
    const int64_t s = 1000000000LL, a = 100 * s, every = 2 * s; /* anchor 100 s, every 2 s */
    (void)state;
    assert_false(wd_notify_reminder_due(a, every, 0, a));               /* just opened */
    assert_false(wd_notify_reminder_due(a, every, 0, a + every - 1));
    assert_true(wd_notify_reminder_due(a, every, 0, a + every));        /* the first */
    assert_false(wd_notify_reminder_due(a, every, a + every, a + every + 1)); /* sent */
    assert_false(wd_notify_reminder_due(a, every, a + 3 * s, a + 5 * s - 1)); /* late: */
    assert_true(wd_notify_reminder_due(a, every, a + 3 * s, a + 5 * s)); /* every after it */
    assert_true(wd_notify_reminder_due(a, every, a + 2 * s, a + 40 * s)); /* after a pause: one */
    assert_false(wd_notify_reminder_due(a, every, a + 40 * s, a + 41 * s)); /* not one per missed */
    assert_false(wd_notify_reminder_due(a, every, a - 5 * s, a + 1 * s)); /* before the anchor: none */
    assert_true(wd_notify_reminder_due(a, every, a - 5 * s, a + every));
    assert_false(wd_notify_reminder_due(a, every, 0, a - 3 * s));       /* clock behind the anchor */
    assert_false(wd_notify_reminder_due(a, 0, 0, a + 100 * s));         /* 0: never */
}

static void test_notify_classify_retries_only_what_may_pass(void **state)
{
    (void)state;
    assert_int_equal(wd_notify_classify(WD_CH_SLACK, false, 200), WD_NV_DELIVERED);
    assert_int_equal(wd_notify_classify(WD_CH_PAGERDUTY, false, 202), WD_NV_DELIVERED);
    assert_int_equal(wd_notify_classify(WD_CH_SLACK, true, 0), WD_NV_RETRY);
    assert_int_equal(wd_notify_classify(WD_CH_SLACK, false, 429), WD_NV_RETRY);
    assert_int_equal(wd_notify_classify(WD_CH_SLACK, false, 503), WD_NV_RETRY);
    assert_int_equal(wd_notify_classify(WD_CH_SLACK, false, 408), WD_NV_RETRY);
    assert_int_equal(wd_notify_classify(WD_CH_SLACK, false, 400), WD_NV_GIVE_UP);
    assert_int_equal(wd_notify_classify(WD_CH_SLACK, false, 404), WD_NV_GIVE_UP);
    assert_int_equal(wd_notify_classify(WD_CH_EMAIL, false, 250), WD_NV_DELIVERED);
    assert_int_equal(wd_notify_classify(WD_CH_EMAIL, false, 451), WD_NV_RETRY);
    assert_int_equal(wd_notify_classify(WD_CH_EMAIL, false, 550), WD_NV_GIVE_UP);
}

static void test_notify_slack_payload(void **state)
{
    struct wd_notify_config c;
    (void)state;
    configure(&c);
    expect_payload(&c, &opened,
                   "{\"text\":\"🚨 INCIDENT ALERT 🚨 P0 INC-20251117-001: Kill-switch activated: "
                   "PnL breach\",\"attachments\":[{\"color\":\"danger\",\"fields\":["
                   "{\"title\":\"Severity\",\"value\":\"P0\",\"short\":true},"
                   "{\"title\":\"Status\",\"value\":\"open\",\"short\":true},"
                   "{\"title\":\"Incident\",\"value\":\"INC-20251117-001\",\"short\":true},"
                   "{\"title\":\"Scope\",\"value\":\"firm\",\"short\":true}],"
                   "\"text\":\"PnL=-5.20% < KILL_PNL=-5%\",\"footer\":\"warden\","
                   "\"ts\":1763389800}]}");
}

static void test_notify_pagerduty_payloads(void **state)
{
    struct wd_notify_config c;
    struct wd_notification n = opened;
    (void)state;
    configure(&c);
    n.channel = WD_CH_PAGERDUTY;
    expect_payload(&c, &n,
                   "{\"routing_key\":\"KEY\",\"event_action\":\"trigger\",\"dedup_key\":"
                   "\"INC-20251117-001\",\"payload\":{\"summary\":\"🚨 INCIDENT ALERT 🚨 P0 "
                   "INC-20251117-001: Kill-switch activated: PnL breach\",\"source\":\"warden\","
                   "\"severity\":\"critical\",\"timestamp\":\"2025-11-17T14:30:00.000Z\","
                   "\"component\":\"firm\",\"group\":\"kill_pnl\",\"class\":\"opened\","
                   "\"custom_details\":{\"incident\":\"INC-20251117-001\",\"status\":\"open\","
                   "\"text\":\"PnL=-5.20% < KILL_PNL=-5%\"}}}");
    n.kind = WD_NK_ACKNOWLEDGED;
    expect_payload(&c, &n, "{\"routing_key\":\"KEY\",\"event_action\":\"acknowledge\","
                           "\"dedup_key\":\"INC-20251117-001\"}");
    n.kind = WD_NK_RESOLVED;
    expect_payload(&c, &n, "{\"routing_key\":\"KEY\",\"event_action\":\"resolve\","
                           "\"dedup_key\":\"INC-20251117-001\"}");
    assert_string_equal(wd_notify_pd_severity(WD_P1), "error");
    assert_string_equal(wd_notify_pd_severity(WD_P2), "warning");
    assert_string_equal(wd_notify_pd_severity(WD_P3), "info");
    struct wd_render_buf b;
    wd_render_buf_init(&b, 0);
    n.kind = WD_NK_UPDATE;
    assert_int_equal(wd_notify_payload(&c, &n, &b), WD_EINVAL);
    wd_render_buf_destroy(&b);
}

static void test_notify_webhook_email_sms_payloads(void **state)
{
    struct wd_notify_config c;
    struct wd_notification n = opened;
    (void)state;
    configure(&c);
    n.channel = WD_CH_WEBHOOK;
    expect_payload(&c, &n,
                   "{\"kind\":\"opened\",\"incident\":\"INC-20251117-001\",\"severity\":\"P0\","
                   "\"scenario\":\"kill_pnl\",\"scope\":\"firm\",\"status\":\"open\",\"title\":"
                   "\"Kill-switch activated: PnL breach\",\"headline\":\"🚨 INCIDENT ALERT 🚨 P0 "
                   "INC-20251117-001: Kill-switch activated: PnL breach\",\"text\":"
                   "\"PnL=-5.20% < KILL_PNL=-5%\",\"created_ns\":1763389800000000000}");
    n.channel = WD_CH_SMS;
    n.recipient = "+15550100";
    n.kind = WD_NK_RESOLVED;
    expect_payload(&c, &n,
                   "To=%2B15550100&From=%2B15550000&Body=%E2%9C%85+INCIDENT+RESOLVED+P0+"
                   "INC-20251117-001%3A+Kill-switch+activated%3A+PnL+breach");
    n.channel = WD_CH_EMAIL;
    n.recipient = "";
    n.kind = WD_NK_OPENED;
    n.text = "line 1\nline 2";
    expect_payload(&c, &n,
                   "From: warden@example.com\r\nTo: oncall@example.com\r\nSubject: "
                   "=?UTF-8?B?8J+aqCBJTkNJREVOVCBBTEVSVCDwn5qoIFAwIElOQy0yMDI1MTExNy0wMDE6IEtpbGwtc3dp"
                   "dGNoIGFjdGl2YXRlZDogUG5MIGJyZWFjaA==?=\r\n"
                   "Date: Mon, 17 Nov 2025 14:30:00 +0000\r\n"
                   "Message-ID: <INC-20251117-001.opened.1763389800000000000@warden>\r\n"
                   "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
                   "Content-Transfer-Encoding: 8bit\r\n\r\nline 1\r\nline 2\r\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_notify_routes_default_to_the_playbook),
        cmocka_unit_test(test_notify_routes_are_configurable),
        cmocka_unit_test(test_notify_backoff_doubles_with_equal_jitter),
        cmocka_unit_test(test_notify_retry_after_is_honoured_up_to_the_cap),
        cmocka_unit_test(test_notify_reminder_one_per_interval),
        cmocka_unit_test(test_notify_classify_retries_only_what_may_pass),
        cmocka_unit_test(test_notify_slack_payload),
        cmocka_unit_test(test_notify_pagerduty_payloads),
        cmocka_unit_test(test_notify_webhook_email_sms_payloads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
