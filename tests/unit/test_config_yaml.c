/*
 * Unit tests for the YAML configuration loader (src/bus/config_yaml.c).
 *
 * They pin the values each key of SPEC section 8 loads to, the exact line and
 * message of each kind of problem, that every problem in a file is reported,
 * and that a file with any problem leaves the caller's config untouched.
 * Files are only written under a fresh mkdtemp directory, removed afterwards;
 * nothing here depends on the clock or the environment beyond
 * /usr/share/zoneinfo for session.tz.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "bus/config_yaml.h"
#include "warden/config.h"
#include "warden/fixed.h"
#include "warden/timeutil.h"

/* ------------------------------------------------------------------------ */
/* Helpers                                                                   */

struct fixture {
    struct wd_config cfg;
    struct wd_config_report rep;
};

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof *fx);
    if (fx == NULL || wd_config_init(&fx->cfg) != WD_OK) {
        return -1;
    }
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    wd_config_destroy(&fx->cfg);
    wd_config_report_free(&fx->rep);
    free(fx);
    return 0;
}

static enum wd_status load(struct fixture *fx, const char *yaml)
{
    wd_config_report_free(&fx->rep);
    return wd_config_load_buffer(yaml, strlen(yaml), "test.yaml", &fx->cfg, &fx->rep);
}

static void dump(const struct wd_config_report *rep)
{
    for (size_t i = 0; i < rep->n; i++) {
        print_message("  problem %zu: %llu:%llu: %s\n", i, (unsigned long long)rep->items[i].line,
                      (unsigned long long)rep->items[i].column, rep->items[i].msg);
    }
}

/* Asserts the load failed with exactly the given problems, in order. */
static void expect_problems(struct fixture *fx, const char *yaml, size_t n, ...)
{
    enum wd_status st = load(fx, yaml);
    if (st != WD_EINVAL || fx->rep.n != n) {
        print_message("status %d, %zu problems (expected %zu):\n", (int)st, fx->rep.n, n);
        dump(&fx->rep);
    }
    assert_int_equal(st, WD_EINVAL);
    assert_int_equal(fx->rep.n, n);
    va_list ap;
    va_start(ap, n);
    for (size_t i = 0; i < n; i++) {
        unsigned line = va_arg(ap, unsigned);
        const char *msg = va_arg(ap, const char *);
        if (fx->rep.items[i].line != line || strcmp(fx->rep.items[i].msg, msg) != 0) {
            dump(&fx->rep);
        }
        assert_int_equal(fx->rep.items[i].line, line);
        assert_string_equal(fx->rep.items[i].msg, msg);
    }
    va_end(ap);
}

static void expect_ok(struct fixture *fx, const char *yaml)
{
    enum wd_status st = load(fx, yaml);
    if (st != WD_OK) {
        dump(&fx->rep);
    }
    assert_int_equal(st, WD_OK);
    assert_int_equal(fx->rep.n, 0);
}

static void assert_defaults(const struct wd_config *c)
{
    assert_int_equal(c->capital, wd_fix_from_int(1000000));
    assert_int_equal(c->n_accounts, 0);
    assert_string_equal(c->session.tz, "America/New_York");
    assert_int_equal(c->session.open_min, 570);
    assert_int_equal(c->session.close_min, 960);
    assert_int_equal(c->session.days_mask, 0x3e);
    assert_int_equal(c->session.n_holidays, 0);
    assert_true(c->limits.kill_pnl == -0.05);
    assert_true(c->limits.max_dd == 0.15);
    assert_true(c->limits.psr.min == 0.05);
    assert_true(c->limits.psr.benchmark == 0.0);
    assert_int_equal(c->limits.psr.window, 60);
    assert_int_equal(c->limits.psr.min_obs, 30);
    assert_int_equal(c->limits.psr.interval_s, 86400);
    assert_int_equal(c->limits.max_order_qty, 0);
    assert_int_equal(c->limits.max_order_notional, 0);
    assert_int_equal(c->limits.box_lim, 0);
    assert_int_equal(c->limits.max_gross_exposure, 0);
    assert_int_equal(c->limits.max_orders_per_s, 0);
    assert_true(c->limits.price_collar == 0.0);
    assert_int_equal(c->limits.n_symbols, 0);
    assert_int_equal(c->limits.n_sources, 0);
    assert_true(c->ramp.fraction == 0.25);
    assert_int_equal(c->ramp.duration_s, 3600);
    assert_true(c->on_kill.cancel_all);
    assert_false(c->on_kill.flatten);
    assert_int_equal(c->detect.heartbeat_timeout_s, 30);
    assert_int_equal(c->detect.reject.window_orders, 100);
    assert_int_equal(c->detect.reject.window_s, 300);
    assert_true(c->detect.reject.open == 0.10);
    assert_true(c->detect.reject.close == 0.05);
    assert_int_equal(c->detect.latency.window_s, 300);
    assert_true(c->detect.latency.open_p95_ms == 1000.0);
    assert_true(c->detect.latency.close_p95_ms == 200.0);
    assert_int_equal(c->detect.staleness_s, 60);
    assert_true(c->detect.completeness.min == 0.95);
    assert_int_equal(c->detect.completeness.window_s, 300);
    assert_int_equal(c->detect.consumer_lag.open, 1000);
    assert_int_equal(c->detect.consumer_lag.close, 100);
    assert_string_equal(c->store.path, "./var/warden.db");
    assert_string_equal(c->http.metrics_listen, "127.0.0.1:8000");
    assert_string_equal(c->http.api_listen, "127.0.0.1:3000");
    assert_int_equal(c->n_tokens, 0);
    assert_false(c->has_kafka);
    assert_string_equal(c->kafka.brokers, "localhost:9092");
    assert_string_equal(c->kafka.group, "algo_trade_consumer");
    assert_string_equal(c->kafka.topic_market_events, "market_events");
    assert_string_equal(c->kafka.topic_order_intents, "order_intents");
    assert_string_equal(c->kafka.topic_exec_reports, "exec_reports");
    assert_string_equal(c->kafka.topic_system_events, "system_events");
    assert_string_equal(c->kafka.topic_risk_decisions, "risk_decisions");
    assert_string_equal(c->kafka.topic_control, "control");
    assert_string_equal(c->kafka.topic_incidents, "incidents");
    assert_string_equal(c->kafka.topic_state, "warden_state");
    assert_int_equal(c->kafka.backlog_wait_ms, 5000);
}

/* A temporary directory with files in it, removed by tmp_cleanup. */
struct tmpdir {
    char dir[64];
    char files[4][128];
    size_t n;
};

static void tmp_make(struct tmpdir *t)
{
    memset(t, 0, sizeof *t);
    snprintf(t->dir, sizeof t->dir, "/tmp/wd_cfg_test_XXXXXX");
    assert_non_null(mkdtemp(t->dir));
}

static const char *tmp_write(struct tmpdir *t, const char *name, const char *data, size_t len)
{
    assert_true(t->n < 4);
    char *path = t->files[t->n++];
    char dir[sizeof t->dir];
    memcpy(dir, t->dir, sizeof dir); /* a copy: gcc's -Wrestrict cannot see they differ */
    snprintf(path, sizeof t->files[0], "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
    return path;
}

static void tmp_cleanup(struct tmpdir *t)
{
    for (size_t i = 0; i < t->n; i++) {
        unlink(t->files[i]);
    }
    rmdir(t->dir);
}

/* ------------------------------------------------------------------------ */
/* Valid files                                                               */

/* SPEC section 8, verbatim but for the "..." placeholders. */
static const char spec_example[] =
    "capital: 1000000\n"
    "session: {tz: America/New_York, open: \"09:30\", close: \"16:00\",\n"
    "          days: [Mon, Tue, Wed, Thu, Fri], holidays: [\"2025-11-27\"]}\n"
    "limits:\n"
    "  kill_pnl: -0.05\n"
    "  max_dd: 0.15\n"
    "  psr: {min: 0.05, benchmark: 0.0, window: 60, min_obs: 30, interval_s: 86400}  # daily "
    "returns: a decay detector\n"
    "  max_order_qty: 0            # 0 = no limit, for every numeric limit\n"
    "  max_order_notional: 0\n"
    "  box_lim: 0                  # max |position notional| per symbol\n"
    "  max_gross_exposure: 0       # sum of |position notional| + open-order notional\n"
    "  max_orders_per_s: 0\n"
    "  price_collar: 0             # reject a limit price this fraction away from mid;\n"
    "                              # with a collar set and no fresh quote, reject (fail closed)\n"
    "  symbols: []                 # empty: every symbol allowed\n"
    "  sources: {}                 # name: {key: hex}; empty: every source allowed\n"
    "ramp: {fraction: 0.25, duration_s: 3600}\n"
    "on_kill: {cancel_all: true, flatten: false}\n"
    "detect:\n"
    "  heartbeat_timeout_s: 30\n"
    "  reject: {window_orders: 100, window_s: 300, open: 0.10, close: 0.05}\n"
    "  latency: {window_s: 300, open_p95_ms: 1000, close_p95_ms: 200}\n"
    "  staleness_s: 60\n"
    "  completeness: {min: 0.95, window_s: 300}\n"
    "  consumer_lag: {open: 1000, close: 100}\n"
    "store: {path: ./var/warden.db}\n"
    "http: {metrics_listen: \"127.0.0.1:8000\", api_listen: \"127.0.0.1:3000\"}\n"
    "tokens:                       # bearer tokens for the API; token_file instead of token\n"
    "  - {name: alice, role: responder, token: \"alice-7f3c9a2e4b1d8e6f\"}\n"
    "kafka: {brokers: \"localhost:9092\", group: algo_trade_consumer,\n"
    "        topics: {market_events: market_events, order_intents: order_intents,\n"
    "                 exec_reports: exec_reports, system_events: system_events,\n"
    "                 risk_decisions: risk_decisions, control: control, incidents: "
    "incidents}}\n"
    "notify:\n"
    "  slack: {webhook_url: \"https://hooks.slack.com/services/T0000/B0000/XXXXXXXX\"}\n"
    "  pagerduty: {routing_key: \"R0123456789abcdef0123456789abcde\", url: "
    "\"https://events.pagerduty.com/v2/enqueue\"}\n"
    "  webhook: {url: \"https://hooks.example.com/warden\"}\n"
    "  email: {smtp_url: \"smtp://mail.example.com:587\", from: \"warden@example.com\", to: "
    "[\"oncall@example.com\"]}\n"
    "  sms: {url: \"https://sms.example.com/send\", to: [\"+15550100\"]}\n"
    "  routes: {P0: [pagerduty, slack, sms], P1: [pagerduty, slack], P2: [slack, email], P3: "
    "[slack, email]}\n";

static void test_config_yaml_spec_example_loads_exact_values(void **state)
{
    struct fixture *fx = *state;
    expect_ok(fx, spec_example);
    const struct wd_config *c = &fx->cfg;

    /* The example restates the defaults, plus a holiday, a token and Kafka. */
    assert_int_equal(c->session.n_holidays, 1);
    assert_int_equal(c->session.holidays[0], wd_days_from_civil(2025, 11, 27));
    assert_int_equal(c->n_tokens, 1);
    assert_string_equal(c->tokens[0].name, "alice");
    assert_string_equal(c->tokens[0].role, "responder");
    assert_string_equal(c->tokens[0].token, "alice-7f3c9a2e4b1d8e6f");
    assert_true(c->has_kafka);

    /* Everything else equals the defaults of SPEC section 6. */
    struct wd_config copy = *c;
    copy.session.n_holidays = 0;
    copy.n_tokens = 0;
    copy.has_kafka = false;
    assert_defaults(&copy);
}

/* Every key set to something other than its default. */
static void test_config_yaml_every_key_loads(void **state)
{
    struct fixture *fx = *state;
    expect_ok(fx, "capital: 2_500_000.5\n"
                  "accounts:\n"
                  "  acct1: {capital: 500000}\n"
                  "  \"acct 2\": {}\n"
                  "session:\n"
                  "  tz: Europe/London\n"
                  "  open: \"08:00\"\n"
                  "  close: \"24:00\"\n"
                  "  days: [sun, Saturday]\n"
                  "  holidays: [2025-12-25, \"2025-01-01\", 2025-12-25]\n"
                  "limits:\n"
                  "  kill_pnl: -0.02\n"
                  "  max_dd: .1\n"
                  "  psr: {min: 0.5, benchmark: -0.25, window: 120, min_obs: 120, "
                  "interval_s: 3600}\n"
                  "  max_order_qty: 1000\n"
                  "  max_order_notional: 1e6\n"
                  "  box_lim: 250000.125\n"
                  "  max_gross_exposure: 0.00000001\n"
                  "  max_orders_per_s: 50\n"
                  "  price_collar: 0.05\n"
                  "  symbols: [AAPL, MSFT, AAPL, BRK.B]\n"
                  "  sources:\n"
                  "    strat_momo: {key: 00112233445566778899AABBCCDDEEFF}\n"
                  "    strat_mr: {}\n"
                  "    manual: null\n"
                  "ramp: {fraction: 1, duration_s: 0}\n"
                  "on_kill: {cancel_all: no, flatten: Yes}\n"
                  "detect:\n"
                  "  heartbeat_timeout_s: 15\n"
                  "  reject: {window_orders: 50, window_s: 120, open: 0.2, close: 0.1}\n"
                  "  latency: {window_s: 60, open_p95_ms: 500.5, close_p95_ms: 100}\n"
                  "  staleness_s: 5\n"
                  "  completeness: {min: 0.9, window_s: 600}\n"
                  "  consumer_lag: {open: 5000, close: 0}\n"
                  "store: {path: /srv/warden/state.db}\n"
                  "http: {metrics_listen: \"0.0.0.0:9100\", api_listen: \"[::1]:3001\"}\n"
                  "tokens:\n"
                  "  - {name: alice, role: viewer, token: aaaaaaaaaaaaaaaa}\n"
                  "  - name: bob\n"
                  "    role: admin\n"
                  "    token: bbbbbbbbbbbbbbbbbbbb\n"
                  "kafka:\n"
                  "  brokers: \"k1:9092, k2:9092\"\n"
                  "  group: warden_prod\n"
                  "  topics: {market_events: md.v1, incidents: ops.incidents}\n");
    const struct wd_config *c = &fx->cfg;
    assert_int_equal(c->capital, 250000050000000LL);
    assert_int_equal(c->n_accounts, 2);
    assert_string_equal(c->accounts[0].name, "acct1");
    assert_int_equal(c->accounts[0].capital, wd_fix_from_int(500000));
    assert_string_equal(c->accounts[1].name, "acct 2");
    assert_int_equal(c->accounts[1].capital, 250000050000000LL); /* inherits capital */
    assert_string_equal(c->session.tz, "Europe/London");
    assert_int_equal(c->session.open_min, 480);
    assert_int_equal(c->session.close_min, 1440);
    assert_int_equal(c->session.days_mask, 0x41);
    assert_int_equal(c->session.n_holidays, 2);
    assert_int_equal(c->session.holidays[0], wd_days_from_civil(2025, 1, 1));
    assert_int_equal(c->session.holidays[1], wd_days_from_civil(2025, 12, 25));
    assert_true(c->limits.kill_pnl == -0.02);
    assert_true(c->limits.max_dd == 0.1);
    assert_true(c->limits.psr.min == 0.5);
    assert_true(c->limits.psr.benchmark == -0.25);
    assert_int_equal(c->limits.psr.window, 120);
    assert_int_equal(c->limits.psr.min_obs, 120);
    assert_int_equal(c->limits.psr.interval_s, 3600);
    assert_int_equal(c->limits.max_order_qty, wd_fix_from_int(1000));
    assert_int_equal(c->limits.max_order_notional, wd_fix_from_int(1000000));
    assert_int_equal(c->limits.box_lim, 25000012500000LL);
    assert_int_equal(c->limits.max_gross_exposure, 1);
    assert_int_equal(c->limits.max_orders_per_s, 50);
    assert_true(c->limits.price_collar == 0.05);
    assert_int_equal(c->limits.n_symbols, 3);
    assert_string_equal(c->limits.symbols[0], "AAPL");
    assert_string_equal(c->limits.symbols[1], "MSFT");
    assert_string_equal(c->limits.symbols[2], "BRK.B");
    assert_int_equal(c->limits.n_sources, 3);
    assert_string_equal(c->limits.sources[0].name, "strat_momo");
    assert_string_equal(c->limits.sources[0].key_hex, "00112233445566778899aabbccddeeff");
    assert_string_equal(c->limits.sources[1].name, "strat_mr");
    assert_null(c->limits.sources[1].key_hex);
    assert_string_equal(c->limits.sources[2].name, "manual");
    assert_null(c->limits.sources[2].key_hex);
    assert_true(c->ramp.fraction == 1.0);
    assert_int_equal(c->ramp.duration_s, 0);
    assert_false(c->on_kill.cancel_all);
    assert_true(c->on_kill.flatten);
    assert_int_equal(c->detect.heartbeat_timeout_s, 15);
    assert_int_equal(c->detect.reject.window_orders, 50);
    assert_int_equal(c->detect.reject.window_s, 120);
    assert_true(c->detect.reject.open == 0.2);
    assert_true(c->detect.reject.close == 0.1);
    assert_int_equal(c->detect.latency.window_s, 60);
    assert_true(c->detect.latency.open_p95_ms == 500.5);
    assert_true(c->detect.latency.close_p95_ms == 100.0);
    assert_int_equal(c->detect.staleness_s, 5);
    assert_true(c->detect.completeness.min == 0.9);
    assert_int_equal(c->detect.completeness.window_s, 600);
    assert_int_equal(c->detect.consumer_lag.open, 5000);
    assert_int_equal(c->detect.consumer_lag.close, 0);
    assert_string_equal(c->store.path, "/srv/warden/state.db");
    assert_string_equal(c->http.metrics_listen, "0.0.0.0:9100");
    assert_string_equal(c->http.api_listen, "[::1]:3001");
    assert_int_equal(c->n_tokens, 2);
    assert_string_equal(c->tokens[1].name, "bob");
    assert_string_equal(c->tokens[1].role, "admin");
    assert_string_equal(c->tokens[1].token, "bbbbbbbbbbbbbbbbbbbb");
    assert_true(c->has_kafka);
    assert_string_equal(c->kafka.brokers, "k1:9092, k2:9092");
    assert_string_equal(c->kafka.group, "warden_prod");
    assert_string_equal(c->kafka.topic_market_events, "md.v1");
    assert_string_equal(c->kafka.topic_order_intents, "order_intents");
    assert_string_equal(c->kafka.topic_incidents, "ops.incidents");
}

static void test_config_yaml_empty_input_keeps_defaults(void **state)
{
    struct fixture *fx = *state;
    static const char *const inputs[] = {
        "", "\n", "# only a comment\n", "---\n", "--- {}\n", "{}\n",
        "session:\nlimits: ~\ndetect: null\n", /* null sections are empty */
    };
    for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
        expect_ok(fx, inputs[i]);
        assert_defaults(&fx->cfg);
    }
}

static void test_config_yaml_overlay_keeps_keys_not_given(void **state)
{
    struct fixture *fx = *state;
    expect_ok(fx, "limits: {max_dd: 0.2, symbols: [AAPL]}\n");
    expect_ok(fx, "limits: {kill_pnl: -0.03}\n");
    assert_true(fx->cfg.limits.max_dd == 0.2);
    assert_true(fx->cfg.limits.kill_pnl == -0.03);
    assert_int_equal(fx->cfg.limits.n_symbols, 1);
    /* A list that is given replaces the earlier one whole. */
    expect_ok(fx, "limits: {symbols: []}\n");
    assert_int_equal(fx->cfg.limits.n_symbols, 0);
    assert_null(fx->cfg.limits.symbols);
}

static void test_config_yaml_yaml_number_forms(void **state)
{
    struct fixture *fx = *state;
    expect_ok(fx, "capital: 1.5e6\nlimits: {max_dd: +0.25, max_order_qty: 1_000, "
                  "max_orders_per_s: 7, price_collar: 5.e-2}\n"
                  "detect: {latency: {open_p95_ms: 2E3}}\n");
    assert_int_equal(fx->cfg.capital, wd_fix_from_int(1500000));
    assert_true(fx->cfg.limits.max_dd == 0.25);
    assert_int_equal(fx->cfg.limits.max_order_qty, wd_fix_from_int(1000));
    assert_true(fx->cfg.detect.latency.open_p95_ms == 2000.0);
    assert_int_equal(fx->cfg.limits.max_orders_per_s, 7);
    assert_true(fx->cfg.limits.price_collar == 0.05);
    /* Whole-number keys take whole numbers only. */
    expect_problems(fx, "limits: {max_orders_per_s: 7.}\ndetect: {staleness_s: 1e2}\n", 2,
                    1u, "limits.max_orders_per_s: expected a whole number >= 0 (0 = no limit), "
                        "got 7.",
                    2u, "detect.staleness_s: expected a whole number of seconds from 1 to "
                        "86400, got 1e2");
}

/* ------------------------------------------------------------------------ */
/* One problem of each kind, with its exact line and message                  */

static void test_config_yaml_not_a_number(void **state)
{
    struct fixture *fx = *state;
    expect_problems(fx, "limits:\n  max_dd: abc\n", 1,
                    2u, "limits.max_dd: expected a number between 0 and 1, got \"abc\"");
    assert_int_equal(fx->rep.items[0].column, 11);
    expect_problems(fx, "capital: 1,000,000\n", 1,
                    1u, "capital: expected an amount greater than 0, got \"1,000,000\"");
    expect_problems(fx, "limits: {max_dd: .inf}\n", 1,
                    1u, "limits.max_dd: expected a number between 0 and 1, got \".inf\"");
    expect_problems(fx, "limits: {max_order_qty: 010}\n", 1,
                    1u, "limits.max_order_qty: expected a number >= 0 (0 = no limit), got \"010\"");
    expect_problems(fx, "limits:\n  max_dd:\n", 1,
                    2u, "limits.max_dd: expected a number between 0 and 1, got nothing");
    expect_problems(fx, "limits:\n  max_dd: [0.1]\n", 1,
                    2u, "limits.max_dd: expected a number between 0 and 1, got a list");
}

static void test_config_yaml_quoted_number_is_an_error(void **state)
{
    struct fixture *fx = *state;
    expect_problems(fx, "limits:\n  max_dd: \"0.15\"\n", 1, 2u,
                    "limits.max_dd: expected a number between 0 and 1, got the quoted string "
                    "\"0.15\" (write numbers without quotes)");
    expect_problems(fx, "capital: '1000000'\n", 1, 1u,
                    "capital: expected an amount greater than 0, got the quoted string "
                    "\"1000000\" (write numbers without quotes)");
}

static void test_config_yaml_out_of_range(void **state)
{
    struct fixture *fx = *state;
    expect_problems(fx,
                    "capital: 0\n"
                    "limits:\n"
                    "  kill_pnl: 0.05\n"
                    "  max_dd: 1.5\n"
                    "  price_collar: 1\n"
                    "  max_order_notional: -5\n"
                    "  psr: {window: 1.5, interval_s: 0}\n"
                    "ramp: {fraction: 0}\n"
                    "detect: {heartbeat_timeout_s: 99999999999999999999}\n",
                    9,
                    1u, "capital: expected an amount greater than 0, got 0",
                    3u, "limits.kill_pnl: expected a number between -1 and 0, got 0.05",
                    4u, "limits.max_dd: expected a number between 0 and 1, got 1.5",
                    5u, "limits.price_collar: expected a number >= 0 and < 1 (0 = no collar), got 1",
                    6u, "limits.max_order_notional: expected a number >= 0 (0 = no limit), got -5",
                    7u, "limits.psr.window: expected a whole number from 2 to 100000, got 1.5",
                    7u, "limits.psr.interval_s: expected a whole number of seconds from 1 to "
                        "31622400, got 0",
                    8u, "ramp.fraction: expected a number > 0 and <= 1, got 0",
                    9u, "detect.heartbeat_timeout_s: expected a whole number of seconds from 1 "
                        "to 86400, got 99999999999999999999");
}

static void test_config_yaml_bad_boolean(void **state)
{
    struct fixture *fx = *state;
    expect_problems(fx, "on_kill:\n  cancel_all: maybe\n  flatten: \"true\"\n", 2,
                    2u, "on_kill.cancel_all: expected true or false, got \"maybe\"",
                    3u, "on_kill.flatten: expected true or false, got the quoted string \"true\"");
}

static void test_config_yaml_unknown_key_suggests_the_closest(void **state)
{
    struct fixture *fx = *state;
    expect_problems(fx,
                    "limts:\n"
                    "  max_dd: 0.1\n"
                    "limits:\n"
                    "  max_ddd: 0.1\n"
                    "  frobnicate: 1\n"
                    "detect: {reject: {opne: 0.2}}\n"
                    "<<: {capital: 1}\n",
                    5,
                    1u, "unknown key 'limts' (did you mean 'limits'?)",
                    4u, "limits: unknown key 'max_ddd' (did you mean 'max_dd'?)",
                    5u, "limits: unknown key 'frobnicate'",
                    6u, "detect.reject: unknown key 'opne' (did you mean 'open'?)",
                    7u, "merge keys ('<<') are not supported; write the keys out");
    assert_int_equal(fx->rep.items[0].column, 1);
    assert_int_equal(fx->rep.items[1].column, 3);
}

static void test_config_yaml_duplicate_key(void **state)
{
    struct fixture *fx = *state;
    expect_problems(fx,
                    "capital: 1\n"
                    "limits: {max_dd: 0.1}\n"
                    "capital: 2\n"
                    "accounts:\n"
                    "  a: {capital: 1}\n"
                    "  a: {capital: 2}\n",
                    2,
                    3u, "duplicate key 'capital' (first given at line 1)",
                    6u, "accounts: duplicate key 'a' (first given at line 5)");
}

static void test_config_yaml_wrong_shape(void **state)
{
    struct fixture *fx = *state;
    expect_problems(fx,
                    "limits: [1, 2]\n"
                    "session: {days: Mon}\n"
                    "accounts: [a, b]\n"
                    "tokens: {name: x}\n"
                    "store: {path: [a]}\n",
                    5,
                    1u, "limits: expected a mapping of keys, got a list",
                    2u, "session.days: expected a list of days such as [Mon, Tue, Wed, Thu, "
                        "Fri], got \"Mon\"",
                    3u, "accounts: expected a mapping of account names, such as {acct1: "
                        "{capital: 500000}}, got a list",
                    4u, "tokens: expected a list of {name, role, token}, got a mapping",
                    5u, "store.path: expected a file path, got a list");
    expect_problems(fx, "- capital: 1\n", 1,
                    1u, "the file must be a mapping of keys such as 'limits:', got a list");
    expect_problems(fx, "capital: 1\n---\ncapital: 2\n", 1,
                    3u, "only one YAML document is allowed; remove the second '---'");
}

static void test_config_yaml_session_errors(void **state)
{
    struct fixture *fx = *state;
    expect_problems(fx,
                    "session:\n"
                    "  open: \"9:3\"\n"
                    "  close: \"24:30\"\n"
                    "  days: [Mon, Funday]\n"
                    "  holidays: [\"2025-02-30\", 20251225]\n",
                    5,
                    2u, "session.open: expected a time HH:MM from 00:00 to 23:59, got \"9:3\"",
                    3u, "session.close: expected a time HH:MM from 00:01 to 24:00, got "
                        "\"24:30\"",
                    4u, "session.days[1]: expected a day Mon, Tue, Wed, Thu, Fri, Sat or Sun, "
                        "got \"Funday\"",
                    5u, "session.holidays[0]: expected a date YYYY-MM-DD, got \"2025-02-30\"",
                    5u, "session.holidays[1]: expected a date YYYY-MM-DD, got \"20251225\"");
}

/* The reason after the prefix comes from the zone loader (src/bus/tzload.c). */
static void test_config_yaml_unknown_time_zone(void **state)
{
    struct fixture *fx = *state;
    static const char prefix[] = "session.tz: time zone \"America/New_Yrok\": ";
    assert_int_equal(load(fx, "capital: 1\nsession:\n  tz: America/New_Yrok\n"), WD_EINVAL);
    assert_int_equal(fx->rep.n, 1);
    assert_int_equal(fx->rep.items[0].line, 3);
    assert_int_equal(fx->rep.items[0].column, 7);
    assert_memory_equal(fx->rep.items[0].msg, prefix, sizeof prefix - 1);
    expect_ok(fx, "session: {tz: UTC}\n");
    assert_string_equal(fx->cfg.session.tz, "UTC");
}

static void test_config_yaml_session_close_must_follow_open(void **state)
{
    struct fixture *fx = *state;
    expect_problems(fx, "# overnight\nsession: {open: \"18:00\"}\n", 1,
                    2u, "session.close (16:00) must be after session.open (18:00); sessions "
                        "that cross midnight are not supported");
    expect_problems(fx, "session:\n  days: []\n", 1,
                    2u, "session.days: expected at least one trading day; with none the market "
                        "never opens");
}

static void test_config_yaml_hysteresis_close_below_open(void **state)
{
    struct fixture *fx = *state;
    expect_problems(fx,
                    "detect:\n"
                    "  reject: {open: 0.04}\n"
                    "  latency:\n"
                    "    close_p95_ms: 1000\n"
                    "  consumer_lag: {close: 2000, open: 1500}\n"
                    "limits: {psr: {min_obs: 61}}\n",
                    4,
                    2u, "detect.reject.close (0.05) must be below detect.reject.open (0.04)",
                    4u, "detect.latency.close_p95_ms (1000) must be below "
                        "detect.latency.open_p95_ms (1000)",
                    5u, "detect.consumer_lag.close (2000) must be below detect.consumer_lag.open "
                        "(1500)",
                    6u, "limits.psr.min_obs (61) must not exceed limits.psr.window (60)");
}

static void test_config_yaml_source_keys_checked_never_echoed(void **state)
{
    struct fixture *fx = *state;
    expect_problems(fx,
                    "limits:\n"
                    "  sources:\n"
                    "    a: {key: 0011223344556677889900112233445}\n"
                    "    b: {key: 00112233}\n"
                    "    c: {key: 0011223344556677889900112233445z}\n"
                    "    d: deadbeefdeadbeefdeadbeefdeadbeef\n"
                    "    e: {kye: 00}\n",
                    5,
                    3u, "limits.sources.a.key: expected an even number of at least 32 hex "
                        "digits, got 31",
                    4u, "limits.sources.b.key: expected an even number of at least 32 hex "
                        "digits, got 8",
                    5u, "limits.sources.c.key: expected hex digits (0-9, a-f), character 32 is "
                        "not one",
                    6u, "limits.sources.d: expected {key: HEX} for a signed source, or {} for "
                        "an unsigned one, got a string",
                    7u, "limits.sources.e: unknown key 'kye' (did you mean 'key'?)");
    for (size_t i = 0; i < fx->rep.n; i++) {
        assert_null(strstr(fx->rep.items[i].msg, "0011223344"));
        assert_null(strstr(fx->rep.items[i].msg, "deadbeef"));
    }
}

static void test_config_yaml_token_errors(void **state)
{
    struct fixture *fx = *state;
    expect_problems(fx,
                    "tokens:\n"
                    "  - {name: a, role: trader, token: aaaaaaaaaaaaaaaa}\n"
                    "  - {name: b, role: viewer, token: short-secret}\n"
                    "  - {name: c, role: viewer}\n"
                    "  - {name: d, role: admin, token: dddddddddddddddd, token_file: x}\n"
                    "  - {role: admin, token: eeeeeeeeeeeeeeee}\n"
                    "  - {name: f, role: admin, token: ffffffffffffffff}\n"
                    "  - {name: f, role: admin, token: gggggggggggggggg}\n"
                    "  - {name: h, role: admin, token: ffffffffffffffff}\n"
                    "  - hunter2-hunter2-hunter2\n",
                    9,
                    2u, "tokens[0].role: expected one of viewer, responder, risk_officer, admin, "
                        "got \"trader\"",
                    3u, "tokens[1].token: a token must be at least 16 characters long, got 12",
                    4u, "tokens[2]: missing 'token' (or 'token_file')",
                    5u, "tokens[3]: give either 'token' or 'token_file', not both",
                    5u, "tokens[3].token_file: cannot read \"x\": No such file or directory",
                    6u, "tokens[4]: missing 'name'",
                    8u, "tokens[6]: the name 'f' is already used",
                    9u, "tokens[7]: the same token is already given to 'f'",
                    10u, "tokens[8]: expected a mapping {name, role, token}, got a string");
    for (size_t i = 0; i < fx->rep.n; i++) {
        assert_null(strstr(fx->rep.items[i].msg, "short-secret"));
        assert_null(strstr(fx->rep.items[i].msg, "hunter2"));
        assert_null(strstr(fx->rep.items[i].msg, "ffffffff"));
    }
}

static void test_config_yaml_listen_and_kafka_errors(void **state)
{
    struct fixture *fx = *state;
    expect_problems(fx,
                    "http:\n"
                    "  metrics_listen: \"8000\"\n"
                    "  api_listen: \"::1:3000\"\n"
                    "kafka:\n"
                    "  brokers: \"a:9092,,b:9092\"\n"
                    "  group: \"\"\n"
                    "  topics: {control: \"bad topic\", audit: x}\n",
                    6,
                    2u, "http.metrics_listen: expected host:port such as \"127.0.0.1:8000\", "
                        "got \"8000\"",
                    3u, "http.api_listen: put an IPv6 address in brackets, as in "
                        "\"[::1]:8000\", got \"::1:3000\"",
                    5u, "kafka.brokers: expected a comma-separated list of host:port, got "
                        "\"a:9092,,b:9092\"",
                    6u, "kafka.group: expected a consumer group name, got an empty string",
                    7u, "kafka.topics.control: expected a Kafka topic name (letters, digits, "
                        "'.', '_', '-'), got \"bad topic\"",
                    7u, "kafka.topics: unknown key 'audit'");
    expect_problems(fx, "http: {api_listen: \"127.0.0.1:65536\"}\nstore: {path: \"\"}\n", 2,
                    1u, "http.api_listen: expected a port from 0 to 65535 after the last ':', "
                        "got \"127.0.0.1:65536\"",
                    2u, "store.path: expected a file path, got an empty string");
}

static void test_config_yaml_kafka_section_turns_kafka_on(void **state)
{
    struct fixture *fx = *state;
    expect_ok(fx, "capital: 5\n");
    assert_false(fx->cfg.has_kafka);
    expect_ok(fx, "kafka: {}\n");
    assert_true(fx->cfg.has_kafka);
    assert_string_equal(fx->cfg.kafka.brokers, "localhost:9092");
}

static void test_config_yaml_notify_shape(void **state)
{
    struct fixture *fx = *state;
    expect_ok(fx, "notify:\n"
                  "  slack: {webhook_url: \"https://hooks.slack.com/services/x\", channel: ops}\n"
                  "  routes: {P2: [slack]}\n");
    assert_string_equal(fx->cfg.notify.slack.webhook_url, "https://hooks.slack.com/services/x");
    assert_string_equal(fx->cfg.notify.slack.channel, "ops");
    assert_int_equal(fx->cfg.notify.routes[2], 1u << WD_CH_SLACK);
    expect_problems(fx,
                    "notify:\n"
                    "  slack: \"https://hooks.slack.com/services/x\"\n"
                    "  sms: {url: \"https://sms.example/send\", to: [{number: 1}]}\n"
                    "  routes: {P0: {pagerduty: 1}}\n"
                    "  teams: {url: x}\n",
                    4,
                    2u, "notify.slack: expected a mapping, got the quoted string "
                        "\"https://hooks.slack.com/services/x\"",
                    3u, "notify.sms.to[0]: expected a string, got a mapping",
                    4u, "notify.routes.P0: expected a string or a list of strings, got a mapping",
                    5u, "notify.teams: unknown key (slack, pagerduty, webhook, email, sms, routes, "
                        "update_every_s, delivery)");
}

/* Every notify key is checked, with its line, and no secret is echoed; a
 * section that lacks a required key says so (once it has no other problem). */
static void test_config_yaml_notify_errors(void **state)
{
    struct fixture *fx = *state;
    expect_problems(fx,
                    "notify:\n"
                    "  slack: {webhook_url: \"ftp://secret-token@x\"}\n"
                    "  pagerduty: {routing_key: \"has space\"}\n"
                    "  email: {smtp_url: \"smtp://mail:25\", from: w@x, to: [a@x], port: 25}\n"
                    "  routes: {P0: [pagerduty, pager]}\n"
                    "  update_every_s: {P4: 10}\n"
                    "  delivery: {max_attempts: 0}\n"
                    "  webhook: {url_file: /nonexistent/warden-webhook}\n",
                    7,
                    2u, "notify.slack.webhook_url: expected a URL starting with http:// or "
                        "https:// (value not shown: URLs may carry credentials)",
                    3u, "notify.pagerduty.routing_key: routing_key must be printable ASCII "
                        "without spaces (value not shown: it is a secret)",
                    4u, "notify.email.port: unknown key 'port' (known: smtp_url, username, "
                        "password, password_file, from, to)",
                    5u, "notify.routes.P0: unknown channel 'pager' (slack, pagerduty, webhook, "
                        "email, sms)",
                    6u, "notify.update_every_s.P4: unknown severity 'P4' (P0, P1, P2 or P3)",
                    7u, "notify.delivery.max_attempts: expected a whole number between 1 and "
                        "1000, got '0'",
                    8u, "notify.webhook.url_file: cannot read \"/nonexistent/warden-webhook\": "
                        "No such file or directory");
    expect_problems(fx, "notify:\n  email: {smtp_url: \"smtp://mail:25\", to: [a@x]}\n", 1,
                    2u, "notify.email: missing 'from'");
}

static void test_config_yaml_syntax_error_has_its_line(void **state)
{
    struct fixture *fx = *state;
    expect_problems(fx, "capital: 1\nlimits:\n  max_dd: [0.1\n  kill_pnl: -0.1\n", 1,
                    4u, "YAML syntax error: did not find expected ',' or ']' (while parsing a "
                        "flow sequence at line 3)");
    expect_problems(fx, "capital: 1\n\tlimits: 2\n", 1,
                    2u, "YAML syntax error: found a tab character that violates indentation "
                        "(while scanning a plain scalar at line 1)");
    expect_problems(fx, "capital: \"\xff\"\n", 1,
                    1u, "not valid UTF-8 text: invalid leading UTF-8 octet");
}

/* ------------------------------------------------------------------------ */
/* All problems, and nothing changed                                          */

static const char many_errors[] =
    "capital: lots\n"                  /* 1 */
    "limits:\n"                        /* 2 */
    "  max_dd: \"0.2\"\n"              /* 3 */
    "  symbols: [AAPL, [MSFT]]\n"      /* 4 */
    "sesion: {tz: UTC}\n"              /* 5 */
    "ramp: {fraction: 2}\n"            /* 6 */
    "on_kill: {flatten: 1}\n"          /* 7 */
    "http: {api_listen: localhost}\n"; /* 8 */

static void test_config_yaml_every_problem_is_reported_in_line_order(void **state)
{
    struct fixture *fx = *state;
    expect_problems(fx, many_errors, 7,
                    1u, "capital: expected an amount greater than 0, got \"lots\"",
                    3u, "limits.max_dd: expected a number between 0 and 1, got the quoted "
                        "string \"0.2\" (write numbers without quotes)",
                    4u, "limits.symbols[1]: expected a symbol, got a list",
                    5u, "unknown key 'sesion' (did you mean 'session'?)",
                    6u, "ramp.fraction: expected a number > 0 and <= 1, got 2",
                    7u, "on_kill.flatten: expected true or false, got \"1\"",
                    8u, "http.api_listen: expected host:port such as \"127.0.0.1:8000\", got "
                        "\"localhost\"");
}

static void test_config_yaml_error_leaves_config_unchanged(void **state)
{
    struct fixture *fx = *state;
    expect_ok(fx, "capital: 42\nlimits: {symbols: [AAPL], max_dd: 0.3}\n"
                  "tokens: [{name: a, role: admin, token: aaaaaaaaaaaaaaaa}]\n");
    struct wd_config before; /* shallow: pointers must not move either */
    memcpy(&before, &fx->cfg, sizeof before);
    expect_problems(fx,
                    "capital: 7\n"
                    "limits: {symbols: [MSFT, GOOG], max_dd: 0.4, kill_pnl: 3}\n"
                    "store: {path: /elsewhere}\n"
                    "tokens: []\n"
                    "kafka: {}\n",
                    1, 2u, "limits.kill_pnl: expected a number between -1 and 0, got 3");
    assert_memory_equal(&before, &fx->cfg, sizeof before);
    assert_int_equal(fx->cfg.capital, wd_fix_from_int(42));
    assert_string_equal(fx->cfg.limits.symbols[0], "AAPL");
    assert_string_equal(fx->cfg.store.path, "./var/warden.db");
    assert_string_equal(fx->cfg.tokens[0].token, "aaaaaaaaaaaaaaaa");
    assert_false(fx->cfg.has_kafka);
}

static void test_config_yaml_too_many_problems_are_capped(void **state)
{
    struct fixture *fx = *state;
    size_t cap = 300 * 24 + 64, o = 0;
    char *buf = malloc(cap);
    assert_non_null(buf);
    o += (size_t)snprintf(buf + o, cap - o, "limits:\n  symbols:\n");
    for (int i = 0; i < 300; i++) {
        o += (size_t)snprintf(buf + o, cap - o, "    - [x%d]\n", i);
    }
    assert_int_equal(load(fx, buf), WD_EINVAL);
    assert_int_equal(fx->rep.n, WD_CONFIG_MAX_PROBLEMS);
    assert_string_equal(fx->rep.items[WD_CONFIG_MAX_PROBLEMS - 1].msg,
                        "too many problems: 300 found, only the first 199 are listed");
    assert_int_equal(fx->rep.items[0].line, 3);
    free(buf);
}

/* ------------------------------------------------------------------------ */
/* Bounds                                                                    */

static void test_config_yaml_list_longer_than_the_bound(void **state)
{
    struct fixture *fx = *state;
    size_t n = WD_CONFIG_MAX_LIST + 1u, cap = n * 8u + 64u, o = 0;
    char *buf = malloc(cap);
    assert_non_null(buf);
    o += (size_t)snprintf(buf + o, cap - o, "limits:\n  symbols: [");
    for (size_t i = 0; i < n; i++) {
        o += (size_t)snprintf(buf + o, cap - o, "%sS%zu", i ? "," : "", i);
    }
    snprintf(buf + o, cap - o, "]\n");
    expect_problems(fx, buf, 1, 2u, "limits.symbols: at most 4096 entries are allowed, got 4097");
    free(buf);
}

/* notify's values are walked loosely; a list named by many aliases would be
 * walked once per alias. A work budget stops that. */
static char *alias_file(int n_aliases, int list_len)
{
    size_t cap = 2 * (size_t)list_len + (size_t)n_aliases * 24 + 256, o = 0;
    char *buf = malloc(cap);
    assert_non_null(buf);
    o += (size_t)snprintf(buf + o, cap - o, "notify:\n  slack: {list: &l [");
    for (int i = 0; i < list_len; i++) {
        o += (size_t)snprintf(buf + o, cap - o, "%s1", i ? "," : "");
    }
    o += (size_t)snprintf(buf + o, cap - o, "]}\n  sms: {");
    for (int k = 0; k < n_aliases; k++) {
        o += (size_t)snprintf(buf + o, cap - o, "%sk%d: *l", k ? ", " : "", k);
    }
    snprintf(buf + o, cap - o, "}\n");
    return buf;
}

/* Whether a load of yaml reported the alias budget problem (line 2). */
static bool over_budget(struct fixture *fx, const char *yaml)
{
    (void)load(fx, yaml);
    for (size_t i = 0; i < fx->rep.n; i++) {
        if (strcmp(fx->rep.items[i].msg, "the file is too complex: its aliases expand to more "
                                          "than 4194304 values") == 0) {
            /* Reported where the list is defined: an alias has its anchor's place. */
            assert_int_equal(fx->rep.items[i].line, 2);
            return true;
        }
    }
    return false;
}

/* The notify section refuses such lists (each alias is a problem of its
 * own, 200 at most are kept); what is pinned here is that the expansion is
 * counted and stopped, before that cap. */
static void test_config_yaml_alias_expansion_is_bounded(void **state)
{
    struct fixture *fx = *state;
    char *buf = alias_file(10, 50000); /* 550 thousand values: within the budget */
    assert_false(over_budget(fx, buf));
    free(buf);
    buf = alias_file(2000, 50000); /* 100 million values */
    assert_true(over_budget(fx, buf));
    free(buf);
}

static void test_config_yaml_input_larger_than_1mib(void **state)
{
    struct fixture *fx = *state;
    size_t len = WD_CONFIG_FILE_MAX + 1u;
    char *buf = malloc(len);
    assert_non_null(buf);
    memset(buf, '#', len);
    assert_int_equal(wd_config_load_buffer(buf, len, "big.yaml", &fx->cfg, &fx->rep), WD_EINVAL);
    assert_int_equal(fx->rep.n, 1);
    assert_int_equal(fx->rep.items[0].line, 0);
    assert_string_equal(fx->rep.items[0].msg, "big.yaml is larger than 1048576 bytes");
    free(buf);
}

/* ------------------------------------------------------------------------ */
/* Files                                                                      */

static void test_config_yaml_missing_file_is_eio(void **state)
{
    struct fixture *fx = *state;
    assert_int_equal(wd_config_load_file("/nonexistent/warden.yaml", &fx->cfg, &fx->rep), WD_EIO);
    assert_int_equal(fx->rep.n, 1);
    assert_int_equal(fx->rep.items[0].line, 0);
    assert_string_equal(fx->rep.items[0].msg,
                        "cannot read /nonexistent/warden.yaml: No such file or directory");
    assert_defaults(&fx->cfg);
}

static void test_config_yaml_token_file_is_read_relative_to_the_config(void **state)
{
    struct fixture *fx = *state;
    struct tmpdir t;
    static const char token[] = "s3cr3t-t0ken-0123456789abcdef\r\n\n";
    static const char good[] = "tokens:\n"
                               "  - {name: carol, role: risk_officer, token_file: carol.token}\n";
    static const char bad[] = "tokens:\n"
                              "  - {name: carol, role: risk_officer, token_file: carol.token}\n"
                              "  - {name: dave, role: viewer, token_file: missing.token}\n"
                              "  - {name: erin, role: viewer, token_file: empty.token}\n";
    char want[512];
    tmp_make(&t);
    tmp_write(&t, "carol.token", token, sizeof token - 1);
    tmp_write(&t, "empty.token", "\n", 1);
    const char *good_path = tmp_write(&t, "good.yaml", good, sizeof good - 1);
    const char *bad_path = tmp_write(&t, "bad.yaml", bad, sizeof bad - 1);

    /* The token is read, its trailing newlines trimmed. */
    assert_int_equal(wd_config_load_file(good_path, &fx->cfg, &fx->rep), WD_OK);
    assert_int_equal(fx->rep.n, 0);
    assert_int_equal(fx->cfg.n_tokens, 1);
    assert_string_equal(fx->cfg.tokens[0].name, "carol");
    assert_string_equal(fx->cfg.tokens[0].role, "risk_officer");
    assert_string_equal(fx->cfg.tokens[0].token, "s3cr3t-t0ken-0123456789abcdef");

    assert_int_equal(wd_config_load_file(bad_path, &fx->cfg, &fx->rep), WD_EINVAL);
    if (fx->rep.n != 2) {
        dump(&fx->rep);
    }
    assert_int_equal(fx->rep.n, 2);
    snprintf(want, sizeof want,
             "tokens[1].token_file: cannot read \"%s/missing.token\": No such file or directory",
             t.dir);
    assert_int_equal(fx->rep.items[0].line, 3);
    assert_string_equal(fx->rep.items[0].msg, want);
    snprintf(want, sizeof want, "tokens[2].token_file: \"%s/empty.token\" is empty", t.dir);
    assert_int_equal(fx->rep.items[1].line, 4);
    assert_string_equal(fx->rep.items[1].msg, want);
    assert_int_equal(fx->cfg.n_tokens, 1); /* unchanged */
    assert_string_equal(fx->cfg.tokens[0].name, "carol");
    tmp_cleanup(&t);
}

static void test_config_yaml_example_file_loads(void **state)
{
    struct fixture *fx = *state;
    const char *src = getenv("WD_SOURCE_DIR");
    char path[1024];
    if (src == NULL) {
        skip();
    }
    snprintf(path, sizeof path, "%s/examples/warden.yaml", src);
    enum wd_status st = wd_config_load_file(path, &fx->cfg, &fx->rep);
    if (st != WD_OK) {
        dump(&fx->rep);
    }
    assert_int_equal(st, WD_OK);
    assert_int_equal(fx->cfg.session.n_holidays, 1);
    assert_false(fx->cfg.has_kafka); /* the example leaves Kafka commented out */
}

/* kafka.properties pass librdkafka's own settings through (security);
 * the properties warden sets itself are refused with the key that sets
 * them, and a value is never echoed (it may be a password). */
static void test_config_yaml_kafka_properties_and_max_wait(void **state)
{
    struct fixture *fx = *state;
    expect_ok(fx, "kafka:\n"
                  "  max_wait_ms: 250\n"
                  "  backlog_wait_ms: 0\n"
                  "  topics: {state: ops.warden_state}\n"
                  "  properties: {security.protocol: SASL_SSL, sasl.password: \"s3cr3t\",\n"
                  "               statistics.interval.ms: 1000}\n");
    assert_true(fx->cfg.has_kafka);
    assert_int_equal(fx->cfg.kafka.max_wait_ms, 250);
    assert_int_equal(fx->cfg.kafka.backlog_wait_ms, 0);
    assert_string_equal(fx->cfg.kafka.topic_state, "ops.warden_state");
    assert_int_equal(fx->cfg.kafka.n_properties, 3);
    assert_string_equal(fx->cfg.kafka.properties[0].key, "security.protocol");
    assert_string_equal(fx->cfg.kafka.properties[0].value, "SASL_SSL");
    assert_string_equal(fx->cfg.kafka.properties[1].value, "s3cr3t");
    assert_string_equal(fx->cfg.kafka.properties[2].value, "1000");
    expect_problems(fx,
                    "kafka:\n"
                    "  properties:\n"
                    "    group.id: other\n"
                    "    sasl.password: [s3cr3t]\n"
                    "  max_wait_ms: 60001\n"
                    "  backlog_wait_ms: -1\n",
                    4, 3u, "kafka.properties.group.id: set by kafka.group, not here",
                    4u, "kafka.properties.sasl.password: expected a value (text, number or "
                        "true/false), got a list",
                    5u, "kafka.max_wait_ms: expected a whole number of milliseconds from 0 "
                        "to 60000, got 60001",
                    6u, "kafka.backlog_wait_ms: expected a whole number of milliseconds from 0 "
                        "to 600000, got -1");
    /* The refused file changed nothing; the defaults are 50 ms, none. */
    assert_int_equal(fx->cfg.kafka.max_wait_ms, 250);
    struct wd_config d;
    assert_int_equal(wd_config_init(&d), WD_OK);
    assert_int_equal(d.kafka.max_wait_ms, 50);
    assert_int_equal(d.kafka.n_properties, 0);
    wd_config_destroy(&d);
}

/* The loader deep-copies struct wd_config field by field (config_copy in
 * src/bus/config_yaml.c). If this fails, a field was added: add it there if
 * it owns memory, then update the size here. */
static void test_config_struct_layout_is_the_one_the_loader_copies(void **state)
{
    (void)state;
#if defined(__x86_64__) || defined(__aarch64__)
    /* + store.chain_key_file, kafka.properties, kafka.max_wait_ms, + oncall,
     * + kafka.topic_state, kafka.backlog_wait_ms,
     * + notify (both fixed-size: no memory) */
    assert_int_equal(sizeof(struct wd_config),
                     496 + sizeof(struct wd_oncall_config) + sizeof(struct wd_notify_config));
#else
    skip();
#endif
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
        T(test_config_yaml_spec_example_loads_exact_values),
        T(test_config_yaml_every_key_loads),
        T(test_config_yaml_empty_input_keeps_defaults),
        T(test_config_yaml_overlay_keeps_keys_not_given),
        T(test_config_yaml_yaml_number_forms),
        T(test_config_yaml_not_a_number),
        T(test_config_yaml_quoted_number_is_an_error),
        T(test_config_yaml_out_of_range),
        T(test_config_yaml_bad_boolean),
        T(test_config_yaml_unknown_key_suggests_the_closest),
        T(test_config_yaml_duplicate_key),
        T(test_config_yaml_wrong_shape),
        T(test_config_yaml_session_errors),
        T(test_config_yaml_unknown_time_zone),
        T(test_config_yaml_session_close_must_follow_open),
        T(test_config_yaml_hysteresis_close_below_open),
        T(test_config_yaml_source_keys_checked_never_echoed),
        T(test_config_yaml_token_errors),
        T(test_config_yaml_listen_and_kafka_errors),
        T(test_config_yaml_kafka_section_turns_kafka_on),
        T(test_config_yaml_notify_shape),
        T(test_config_yaml_notify_errors),
        T(test_config_yaml_syntax_error_has_its_line),
        T(test_config_yaml_every_problem_is_reported_in_line_order),
        T(test_config_yaml_error_leaves_config_unchanged),
        T(test_config_yaml_too_many_problems_are_capped),
        T(test_config_yaml_list_longer_than_the_bound),
        T(test_config_yaml_alias_expansion_is_bounded),
        T(test_config_yaml_input_larger_than_1mib),
        T(test_config_yaml_missing_file_is_eio),
        T(test_config_yaml_token_file_is_read_relative_to_the_config),
        T(test_config_yaml_example_file_loads),
        T(test_config_struct_layout_is_the_one_the_loader_copies),
        T(test_config_yaml_kafka_properties_and_max_wait),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
