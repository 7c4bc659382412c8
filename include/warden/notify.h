/*
 * Notifications (issue 8; playbook "Detect & Alert", "Communication
 * Templates"): the channels, their configuration, routing by severity, the
 * retry schedule, and the exact bytes each channel is sent.
 *
 * Pure: no I/O, no clock, no randomness. The adapter (src/notify/) keeps
 * the outbox in the store and does the sending; it gives this module the
 * time and a random number where one is needed, so that every payload and
 * every retry delay here is a function of its inputs (tests/unit/
 * test_notify.c pins them). Secrets live only in struct wd_notify_config,
 * which is never written to the store nor to a log.
 */
#ifndef WD_CORE_NOTIFY_H
#define WD_CORE_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "warden/render.h"
#include "warden/severity.h"
#include "warden/status.h"

#define WD_NOTIFY_URL_MAX 512
#define WD_NOTIFY_SECRET_MAX 256
#define WD_NOTIFY_ADDR_MAX 128      /* an email address, a phone number */
#define WD_NOTIFY_RECIPIENTS_MAX 8  /* per channel */
#define WD_NOTIFY_TEXT_MAX 4096     /* a notification's human text */

/* ---- channels and kinds ----------------------------------------------------- */

enum wd_channel {
    WD_CH_SLACK = 0,
    WD_CH_PAGERDUTY,
    WD_CH_WEBHOOK,
    WD_CH_EMAIL,
    WD_CH_SMS,
    WD_CH__COUNT
};

/* "slack", "pagerduty", "webhook", "email", "sms"; static ("?" out of range). */
const char *wd_channel_name(enum wd_channel c);
enum wd_status wd_channel_parse(const char *s, size_t len, enum wd_channel *out) WD_MUST_USE;

/* What a notification announces. PagerDuty sends only opened/escalated
 * (trigger), acknowledged (acknowledge) and resolved (resolve); the other
 * kinds go to every other channel of the route. */
enum wd_notify_kind {
    WD_NK_OPENED = 0,    /* the incident opened */
    WD_NK_ACKNOWLEDGED,  /* first move out of open */
    WD_NK_ESCALATED,     /* severity raised or an escalation threshold passed */
    WD_NK_RESOLVED,
    WD_NK_UPDATE,        /* a status update (`warden incident update`) */
    WD_NK_REMINDER,      /* the next status update is due */
    WD_NK_TEST,          /* a test page (no incident) */
    WD_NK__COUNT
};

/* "opened", "acknowledged", "escalated", "resolved", "update", "reminder",
 * "test"; static. */
const char *wd_notify_kind_name(enum wd_notify_kind k);
enum wd_status wd_notify_kind_parse(const char *s, enum wd_notify_kind *out) WD_MUST_USE;

/* ---- configuration ------------------------------------------------------------ */

/* A bit per channel (1u << WD_CH_x). */
typedef uint8_t wd_channel_mask;

struct wd_notify_config {
    /* A channel is configured when its required keys are set: slack
     * webhook_url; pagerduty routing_key (url has a default); webhook url;
     * email smtp_url, from and at least one to; sms url and at least one to. */
    struct {
        char webhook_url[WD_NOTIFY_URL_MAX]; /* secret: the URL is the credential */
        char channel[WD_NOTIFY_ADDR_MAX];    /* optional "#incidents" */
    } slack;
    struct {
        char routing_key[WD_NOTIFY_SECRET_MAX]; /* secret */
        char url[WD_NOTIFY_URL_MAX]; /* https://events.pagerduty.com/v2/enqueue */
    } pagerduty;
    struct {
        char url[WD_NOTIFY_URL_MAX];            /* secret (may carry a token) */
        char auth_header[WD_NOTIFY_SECRET_MAX]; /* optional "Authorization: ..." value; secret */
    } webhook;
    struct {
        char smtp_url[WD_NOTIFY_URL_MAX]; /* smtp://host:port or smtps:// */
        char username[WD_NOTIFY_ADDR_MAX];
        char password[WD_NOTIFY_SECRET_MAX]; /* secret */
        char from[WD_NOTIFY_ADDR_MAX];
        char to[WD_NOTIFY_RECIPIENTS_MAX][WD_NOTIFY_ADDR_MAX];
        uint32_t n_to;
    } email;
    struct {
        char url[WD_NOTIFY_URL_MAX];         /* the provider's form POST endpoint */
        char username[WD_NOTIFY_ADDR_MAX];   /* HTTP basic auth (e.g. an account SID) */
        char password[WD_NOTIFY_SECRET_MAX]; /* secret */
        char from[WD_NOTIFY_ADDR_MAX];       /* optional sender number */
        char to[WD_NOTIFY_RECIPIENTS_MAX][WD_NOTIFY_ADDR_MAX];
        uint32_t n_to;
    } sms;

    /* Routes: channels per severity (P0..P3). Playbook defaults:
     * P0 pagerduty+slack+sms, P1 pagerduty+slack, P2/P3 slack+email. A
     * routed channel that is not configured is skipped (and said once by
     * `warden config check`). */
    wd_channel_mask routes[4];

    /* Status-update reminder interval per severity, in seconds; 0: none.
     * Default: wd_update_interval_ns (P0 30 min, P1 1 h, P2 4 h, P3 24 h). */
    int64_t update_every_s[4];

    /* Delivery. */
    int64_t timeout_ms;       /* per attempt (connect + answer): 10000 */
    uint32_t max_attempts;    /* then failed for good: 10 */
    int64_t backoff_base_ms;  /* first retry delay before jitter: 1000 */
    int64_t backoff_max_ms;   /* cap of a retry delay: 300000 (5 min) */
    uint32_t failing_after;   /* consecutive failed attempts that mark a channel failing: 3 */
};

/* The defaults above; every channel unconfigured. */
void wd_notify_config_init(struct wd_notify_config *c);

/* Sets one key of the `notify:` section from text, for the configuration
 * adapter: section is a channel name, "routes", "update_every_s" or
 * "delivery"; values are the scalar (n == 1) or the list's items. A
 * `*_file` key is read by the adapter and given here without the suffix.
 * false when refused, with a sentence in why (which never quotes a secret). */
bool wd_notify_config_set(struct wd_notify_config *c, const char *section, size_t slen,
                          const char *key, size_t klen, const char *const *values,
                          const size_t *lens, size_t n, bool was_list, char *why,
                          size_t why_cap);

/* Whether channel ch has what it needs to send. */
bool wd_notify_channel_configured(const struct wd_notify_config *c, enum wd_channel ch);

/* The configured channels of severity s's route. */
wd_channel_mask wd_notify_route(const struct wd_notify_config *c, enum wd_severity s);

/* Every configured channel. */
wd_channel_mask wd_notify_route_all(const struct wd_notify_config *c);

/* Whether ch sends a notification of kind k at all (PagerDuty: opened,
 * acknowledged, escalated, resolved, test; the others: every kind). */
bool wd_notify_channel_takes(enum wd_channel ch, enum wd_notify_kind k);

/* ---- delivery outcome and retry schedule ---------------------------------- */

enum wd_notify_verdict {
    WD_NV_DELIVERED = 0, /* 2xx (SMTP: accepted) */
    WD_NV_RETRY,         /* network error, timeout, 408, 429, 5xx */
    WD_NV_GIVE_UP        /* any other answer: the request itself is wrong */
};

/* From the transport: net_error true when no answer came (connection
 * refused, timeout, TLS, DNS); otherwise the HTTP status (SMTP: the
 * reply code, 2xx/3xx accepted, 4xx retried, 5xx given up). */
enum wd_notify_verdict wd_notify_classify(enum wd_channel ch, bool net_error, long status);

/* The delay before attempt `attempt` + 1 (attempt >= 1 failed), in ms:
 * d = min(backoff_max_ms, backoff_base_ms * 2^(attempt-1)), then equal
 * jitter: d/2 + (rnd mod (d/2 + 1)). So attempt 1 waits 0.5..1 s, attempt
 * 2 1..2 s, attempt 3 2..4 s with the defaults. */
int64_t wd_notify_backoff_ms(const struct wd_notify_config *c, uint32_t attempt, uint32_t rnd);

/* The delay actually waited before attempt `attempt` + 1: the backoff
 * (wd_notify_backoff_ms), or the receiver's Retry-After (retry_after_s > 0,
 * seconds, as answered with a 429 or 503) when that is longer; never more
 * than backoff_max_ms. retry_after_s <= 0: no Retry-After. */
int64_t wd_notify_retry_delay_ms(const struct wd_notify_config *c, uint32_t attempt, uint32_t rnd,
                                 int64_t retry_after_s);

/* Status-update reminders (update_every_s): due when every_ns has passed
 * since the anchor (the incident's opening, or its last status update)
 * and since the last reminder after it (last_ns; any value < anchor_ns:
 * none). So reminders are never closer than every_ns, and after a pause
 * one is due, not one per missed interval; a check that runs each second
 * sends them every_ns to every_ns + 1 s apart. every_ns <= 0: never. */
bool wd_notify_reminder_due(int64_t anchor_ns, int64_t every_ns, int64_t last_ns, int64_t now_ns);

/* ---- payloads ----------------------------------------------------------------- */

/* Everything a payload is made of, captured when the notification was
 * queued (the outbox row): the payload is rendered from it at each attempt
 * with the configuration's current secrets. Strings are borrowed. */
struct wd_notification {
    enum wd_notify_kind kind;
    enum wd_channel channel;
    const char *incident;  /* "INC-..."; "" for a test */
    enum wd_severity severity;
    const char *scenario;  /* "kill_pnl" ... */
    const char *scope;
    const char *status;    /* the incident's status when queued */
    const char *title;
    const char *text;      /* the human message (the playbook's template) */
    const char *recipient; /* sms: the number; email: one address, "" = the config's to */
    int64_t created_ns;    /* when it was queued */
};

/* PagerDuty severity of P0..P3: "critical", "error", "warning", "info". */
const char *wd_notify_pd_severity(enum wd_severity s);

/* Slack attachment color: P0 "danger", P1 "warning", P2/P3 "#439FE0";
 * resolved "good". */
const char *wd_notify_slack_color(const struct wd_notification *n);

/* The one-line headline of a notification, e.g.
 * "🚨 P0 INC-20251117-001 opened: Kill-switch activated: PnL breach". */
enum wd_status wd_notify_headline(const struct wd_notification *n,
                                  struct wd_render_buf *out) WD_MUST_USE;

/* The request body of n for its channel (the config supplies the routing
 * key, the sender, recipients): JSON for slack, pagerduty and webhook; an
 * RFC 5322 message (CRLF lines) for email; application/x-www-form-urlencoded
 * for sms. The bytes are documented in docs/NOTIFICATIONS.md and pinned by
 * the tests. WD_EINVAL: a PagerDuty notification of a kind it does not
 * take; WD_EFULL/WD_ENOMEM from the buffer. */
enum wd_status wd_notify_payload(const struct wd_notify_config *c,
                                 const struct wd_notification *n,
                                 struct wd_render_buf *out) WD_MUST_USE;

/* The Content-Type of a channel's payload. */
const char *wd_notify_content_type(enum wd_channel ch);

#endif /* WD_CORE_NOTIFY_H */
