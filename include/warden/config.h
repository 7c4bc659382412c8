/*
 * warden's configuration as plain data (SPEC sections 6 and 8).
 *
 * wd_config_init fills every default from the playbook; an adapter
 * (src/bus/config_yaml.c) overlays a YAML file on top. The core only reads
 * this struct: it never parses files. Every numeric limit uses 0 for
 * "no limit". Strings are owned by the struct (freed by wd_config_destroy).
 */
#ifndef WD_CORE_CONFIG_H
#define WD_CORE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "warden/fixed.h"
#include "warden/oncall.h"
#include "warden/notify.h"
#include "warden/status.h"

#define WD_CONFIG_MAX_LIST 4096 /* entries in any list or map */

struct wd_config_account {
    char *name; /* owned */
    wd_fix capital;
};

struct wd_config_source {
    char *name;    /* owned */
    char *key_hex; /* owned; NULL: source known, unsigned */
};

/* A librdkafka property passed through as is (kafka.properties). */
struct wd_config_kv {
    char *key, *value; /* owned; the value may be a secret (sasl.password) */
};

struct wd_config_token {
    char *name, *role, *token; /* owned; token read from token_file if given */
};

struct wd_config {
    wd_fix capital; /* default 1,000,000 */
    struct wd_config_account *accounts;
    size_t n_accounts;

    struct {
        char *tz;              /* default "America/New_York" */
        int open_min, close_min; /* minutes after local midnight: 570, 960 */
        uint8_t days_mask;     /* bit 0 = Sunday .. bit 6 = Saturday; Mon-Fri */
        int64_t *holidays;     /* days since epoch, sorted */
        size_t n_holidays;
    } session;

    struct {
        double kill_pnl; /* -0.05 */
        double max_dd;   /* 0.15 */
        struct {
            double min, benchmark;      /* 0.05, 0.0 */
            uint32_t window, min_obs;   /* 60, 30 */
            int64_t interval_s;         /* 86400 */
        } psr;
        wd_fix max_order_qty, max_order_notional, box_lim, max_gross_exposure;
        uint32_t max_orders_per_s;
        double price_collar;
        char **symbols; /* owned; empty: every symbol allowed */
        size_t n_symbols;
        struct wd_config_source *sources; /* empty: every source allowed */
        size_t n_sources;
    } limits;

    struct {
        double fraction;     /* 0.25 */
        int64_t duration_s;  /* 3600 */
    } ramp;

    struct {
        bool cancel_all; /* true */
        bool flatten;    /* false */
    } on_kill;

    struct {
        int64_t heartbeat_timeout_s; /* 30 */
        struct {
            uint32_t window_orders; /* 100 */
            int64_t window_s;       /* 300 */
            double open, close;     /* 0.10, 0.05 */
        } reject;
        struct {
            int64_t window_s;                 /* 300 */
            double open_p95_ms, close_p95_ms; /* 1000, 200 */
        } latency;
        int64_t staleness_s; /* 60 */
        struct {
            double min;       /* 0.95 */
            int64_t window_s; /* 300 */
        } completeness;
        struct {
            int64_t open, close; /* 1000, 100 */
        } consumer_lag;
        bool unknown_fills; /* true: a fill for an order never seen is P0-3;
                               false where people also trade by hand */
    } detect;

    struct {
        char *path;           /* "./var/warden.db" */
        char *chain_key_file; /* NULL: the audit chain is unkeyed (docs/AUDIT.md) */
    } store;

    struct {
        char *metrics_listen; /* "127.0.0.1:8000" */
        char *api_listen;     /* "127.0.0.1:3000" */
    } http;

    struct wd_config_token *tokens;
    size_t n_tokens;

    bool has_kafka; /* a kafka section was given */
    struct {
        char *brokers, *group; /* "localhost:9092", "algo_trade_consumer" */
        char *topic_market_events, *topic_order_intents, *topic_exec_reports,
            *topic_system_events, *topic_risk_decisions, *topic_control, *topic_incidents,
            *topic_state; /* the accounts' handover records ("warden_state") */
        struct wd_config_kv *properties; /* librdkafka properties (security, tuning) */
        size_t n_properties;
        int64_t max_wait_ms; /* event-time merge: longest hold for a lagging topic (50) */
        int64_t backlog_wait_ms; /* ... for a partition known to have unread messages (5000) */
    } kafka;

    /* The on-call rotation and the escalation chain (oncall:, escalation:):
     * fixed-size, owns no memory. */
    struct wd_oncall_config oncall;
    /* Notification channels, routes and delivery (issue 8; fixed-size, no
     * owned memory: a struct copy copies it). Holds secrets: never logged. */
    struct wd_notify_config notify;
};

/* Fills cfg with the defaults. WD_ENOMEM. On failure cfg is still safe to
 * destroy. */
enum wd_status wd_config_init(struct wd_config *cfg) WD_MUST_USE;
void wd_config_destroy(struct wd_config *cfg);

/* Capital of the named account (its own, or the default). */
wd_fix wd_config_account_capital(const struct wd_config *cfg, const char *name);

/* Replaces *slot (owned string) with a copy of s (len bytes). */
enum wd_status wd_config_set_str(char **slot, const char *s, size_t len) WD_MUST_USE;

#endif /* WD_CORE_CONFIG_H */
