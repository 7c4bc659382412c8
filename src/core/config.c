/*
 * Configuration defaults (SPEC section 6) and ownership helpers. Pure data:
 * parsing files is the adapter's job (src/bus/config_yaml.c).
 */
#include <stdlib.h>
#include <string.h>

#include "warden/config.h"

enum wd_status wd_config_set_str(char **slot, const char *s, size_t len)
{
    char *p = malloc(len + 1u);
    if (p == NULL) {
        return WD_ENOMEM;
    }
    memcpy(p, s, len);
    p[len] = '\0';
    free(*slot);
    *slot = p;
    return WD_OK;
}

static enum wd_status set(char **slot, const char *s)
{
    return wd_config_set_str(slot, s, strlen(s));
}

enum wd_status wd_config_init(struct wd_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->capital = wd_fix_from_int(1000000);
    cfg->session.open_min = 9 * 60 + 30;
    cfg->session.close_min = 16 * 60;
    cfg->session.days_mask = 0x3e; /* Mon..Fri */
    cfg->limits.kill_pnl = -0.05;
    cfg->limits.max_dd = 0.15;
    cfg->limits.psr.min = 0.05;
    cfg->limits.psr.benchmark = 0.0;
    cfg->limits.psr.window = 60;
    cfg->limits.psr.min_obs = 30;
    cfg->limits.psr.interval_s = 86400;
    cfg->ramp.fraction = 0.25;
    cfg->ramp.duration_s = 3600;
    cfg->on_kill.cancel_all = true;
    cfg->on_kill.flatten = false;
    cfg->detect.heartbeat_timeout_s = 30;
    cfg->detect.reject.window_orders = 100;
    cfg->detect.reject.window_s = 300;
    cfg->detect.reject.open = 0.10;
    cfg->detect.reject.close = 0.05;
    cfg->detect.latency.window_s = 300;
    cfg->detect.latency.open_p95_ms = 1000.0;
    cfg->detect.latency.close_p95_ms = 200.0;
    cfg->detect.staleness_s = 60;
    cfg->detect.completeness.min = 0.95;
    cfg->detect.completeness.window_s = 300;
    cfg->detect.consumer_lag.open = 1000;
    cfg->detect.consumer_lag.close = 100;
    wd_notify_config_init(&cfg->notify);
    cfg->detect.unknown_fills = true;
    wd_oncall_config_init(&cfg->oncall);
    cfg->kafka.max_wait_ms = 50;
    cfg->kafka.backlog_wait_ms = 5000;
    if (set(&cfg->session.tz, "America/New_York") != WD_OK ||
        set(&cfg->store.path, "./var/warden.db") != WD_OK ||
        set(&cfg->http.metrics_listen, "127.0.0.1:8000") != WD_OK ||
        set(&cfg->http.api_listen, "127.0.0.1:3000") != WD_OK ||
        set(&cfg->kafka.brokers, "localhost:9092") != WD_OK ||
        set(&cfg->kafka.group, "algo_trade_consumer") != WD_OK ||
        set(&cfg->kafka.topic_market_events, "market_events") != WD_OK ||
        set(&cfg->kafka.topic_order_intents, "order_intents") != WD_OK ||
        set(&cfg->kafka.topic_exec_reports, "exec_reports") != WD_OK ||
        set(&cfg->kafka.topic_system_events, "system_events") != WD_OK ||
        set(&cfg->kafka.topic_risk_decisions, "risk_decisions") != WD_OK ||
        set(&cfg->kafka.topic_control, "control") != WD_OK ||
        set(&cfg->kafka.topic_incidents, "incidents") != WD_OK ||
        set(&cfg->kafka.topic_state, "warden_state") != WD_OK) {
        return WD_ENOMEM;
    }
    return WD_OK;
}

void wd_config_destroy(struct wd_config *cfg)
{
    for (size_t i = 0; i < cfg->n_accounts; i++) {
        free(cfg->accounts[i].name);
    }
    free(cfg->accounts);
    free(cfg->session.tz);
    free(cfg->session.holidays);
    for (size_t i = 0; i < cfg->limits.n_symbols; i++) {
        free(cfg->limits.symbols[i]);
    }
    free(cfg->limits.symbols);
    for (size_t i = 0; i < cfg->limits.n_sources; i++) {
        free(cfg->limits.sources[i].name);
        free(cfg->limits.sources[i].key_hex);
    }
    free(cfg->limits.sources);
    free(cfg->store.path);
    free(cfg->store.chain_key_file);
    free(cfg->http.metrics_listen);
    free(cfg->http.api_listen);
    for (size_t i = 0; i < cfg->n_tokens; i++) {
        free(cfg->tokens[i].name);
        free(cfg->tokens[i].role);
        free(cfg->tokens[i].token);
    }
    free(cfg->tokens);
    free(cfg->kafka.brokers);
    free(cfg->kafka.group);
    free(cfg->kafka.topic_market_events);
    free(cfg->kafka.topic_order_intents);
    free(cfg->kafka.topic_exec_reports);
    free(cfg->kafka.topic_system_events);
    free(cfg->kafka.topic_risk_decisions);
    free(cfg->kafka.topic_control);
    free(cfg->kafka.topic_incidents);
    free(cfg->kafka.topic_state);
    for (size_t i = 0; i < cfg->kafka.n_properties; i++) {
        free(cfg->kafka.properties[i].key);
        free(cfg->kafka.properties[i].value);
    }
    free(cfg->kafka.properties);
    memset(cfg, 0, sizeof *cfg);
}

wd_fix wd_config_account_capital(const struct wd_config *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->n_accounts; i++) {
        if (strcmp(cfg->accounts[i].name, name) == 0) {
            return cfg->accounts[i].capital;
        }
    }
    return cfg->capital;
}
