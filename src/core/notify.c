/*
 * Notifications, the pure part (include/warden/notify.h): configuration
 * keys, routing, the retry schedule and each channel's payload bytes.
 * Nothing here sends, reads a clock or draws a random number: the sender
 * (src/notify/sender.c) does, and hands the results in.
 */
#include <stdio.h>
#include <string.h>

#include "warden/notify.h"
#include "warden/timeutil.h"

static const char *const channel_names[WD_CH__COUNT] = {"slack", "pagerduty", "webhook",
                                                        "email", "sms"};
static const char *const kind_names[WD_NK__COUNT] = {
    "opened", "acknowledged", "escalated", "resolved", "update", "reminder", "test"};

const char *wd_channel_name(enum wd_channel c)
{
    return (unsigned)c < WD_CH__COUNT ? channel_names[c] : "?";
}

enum wd_status wd_channel_parse(const char *s, size_t len, enum wd_channel *out)
{
    for (unsigned i = 0; i < WD_CH__COUNT; i++) {
        if (strlen(channel_names[i]) == len && memcmp(s, channel_names[i], len) == 0) {
            *out = (enum wd_channel)i;
            return WD_OK;
        }
    }
    return WD_EINVAL;
}

const char *wd_notify_kind_name(enum wd_notify_kind k)
{
    return (unsigned)k < WD_NK__COUNT ? kind_names[k] : "?";
}

enum wd_status wd_notify_kind_parse(const char *s, enum wd_notify_kind *out)
{
    for (unsigned i = 0; i < WD_NK__COUNT; i++) {
        if (strcmp(s, kind_names[i]) == 0) {
            *out = (enum wd_notify_kind)i;
            return WD_OK;
        }
    }
    return WD_EINVAL;
}

/* ---- configuration ------------------------------------------------------------ */

#define BIT(c) ((wd_channel_mask)(1u << (c)))

void wd_notify_config_init(struct wd_notify_config *c)
{
    memset(c, 0, sizeof *c);
    snprintf(c->pagerduty.url, sizeof c->pagerduty.url, "%s",
             "https://events.pagerduty.com/v2/enqueue");
    c->routes[WD_P0] = BIT(WD_CH_PAGERDUTY) | BIT(WD_CH_SLACK) | BIT(WD_CH_SMS);
    c->routes[WD_P1] = BIT(WD_CH_PAGERDUTY) | BIT(WD_CH_SLACK);
    c->routes[WD_P2] = BIT(WD_CH_SLACK) | BIT(WD_CH_EMAIL);
    c->routes[WD_P3] = BIT(WD_CH_SLACK) | BIT(WD_CH_EMAIL);
    for (int s = 0; s < 4; s++) {
        c->update_every_s[s] = wd_update_interval_ns((enum wd_severity)s) / WD_NS_PER_S;
    }
    c->timeout_ms = 10000;
    c->max_attempts = 10;
    c->backoff_base_ms = 1000;
    c->backoff_max_ms = 300000;
    c->failing_after = 3;
}

static bool eqn(const char *s, size_t n, const char *lit)
{
    return strlen(lit) == n && memcmp(s, lit, n) == 0;
}

static bool starts(const char *s, size_t n, const char *lit)
{
    size_t k = strlen(lit);
    return n > k && memcmp(s, lit, k) == 0;
}

/* Printable ASCII without spaces (URLs, keys, addresses). */
static bool token_ok(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f) {
            return false;
        }
    }
    return n > 0;
}

static bool set_text(char *dst, size_t cap, const char *v, size_t n, const char *what,
                     bool secret, char *why, size_t why_cap)
{
    if (n == 0) {
        snprintf(why, why_cap, "%s must not be empty", what);
        return false;
    }
    if (n >= cap) {
        snprintf(why, why_cap, "%s is too long (%zu bytes, at most %zu)", what, n, cap - 1);
        return false;
    }
    if (!token_ok(v, n)) {
        snprintf(why, why_cap, "%s must be printable ASCII without spaces%s", what,
                 secret ? " (value not shown: it is a secret)" : "");
        return false;
    }
    memcpy(dst, v, n);
    dst[n] = '\0';
    return true;
}

static bool set_url(char *dst, size_t cap, const char *v, size_t n, bool smtp, char *why,
                    size_t why_cap)
{
    bool ok = smtp ? starts(v, n, "smtp://") || starts(v, n, "smtps://")
                   : starts(v, n, "http://") || starts(v, n, "https://");
    if (!ok) {
        snprintf(why, why_cap, "expected a URL starting with %s (value not shown: URLs "
                 "may carry credentials)",
                 smtp ? "smtp:// or smtps://" : "http:// or https://");
        return false;
    }
    return set_text(dst, cap, v, n, "the URL", true, why, why_cap);
}

/* A plain decimal integer in [lo, hi]. */
static bool parse_int(const char *v, size_t n, int64_t lo, int64_t hi, int64_t *out, char *why,
                      size_t why_cap)
{
    int64_t x = 0;
    bool ok = n > 0 && n <= 12;
    for (size_t i = 0; ok && i < n; i++) {
        ok = v[i] >= '0' && v[i] <= '9';
        x = x * 10 + (v[i] - '0');
    }
    if (!ok || x < lo || x > hi) {
        snprintf(why, why_cap, "expected a whole number between %lld and %lld, got '%.*s'",
                 (long long)lo, (long long)hi, (int)(n > 40 ? 40 : n), v);
        return false;
    }
    *out = x;
    return true;
}

static bool set_list(char (*dst)[WD_NOTIFY_ADDR_MAX], uint32_t *count,
                     const char *const *values, const size_t *lens, size_t n, char *why,
                     size_t why_cap)
{
    if (n == 0 || n > WD_NOTIFY_RECIPIENTS_MAX) {
        snprintf(why, why_cap, "expected 1 to %d recipients, got %zu", WD_NOTIFY_RECIPIENTS_MAX,
                 n);
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char what[32];
        snprintf(what, sizeof what, "recipient %zu", i + 1);
        if (!set_text(dst[i], WD_NOTIFY_ADDR_MAX, values[i], lens[i], what, false, why,
                      why_cap)) {
            return false;
        }
    }
    *count = (uint32_t)n;
    return true;
}

static bool severity_key(const char *k, size_t kn, int *sev, char *why, size_t why_cap)
{
    if (kn == 2 && k[0] == 'P' && k[1] >= '0' && k[1] <= '3') {
        *sev = k[1] - '0';
        return true;
    }
    snprintf(why, why_cap, "unknown severity '%.*s' (P0, P1, P2 or P3)", (int)(kn > 16 ? 16 : kn),
             k);
    return false;
}

static bool one(size_t n, bool was_list, char *why, size_t why_cap)
{
    if (n != 1 || was_list) {
        snprintf(why, why_cap, "expected a single value, not a list");
        return false;
    }
    return true;
}

static bool unknown(const char *k, size_t kn, const char *known, char *why, size_t why_cap)
{
    snprintf(why, why_cap, "unknown key '%.*s' (known: %s)", (int)(kn > 40 ? 40 : kn), k, known);
    return false;
}

static bool set_channel(struct wd_notify_config *c, enum wd_channel ch, const char *k,
                        size_t kn, const char *v, size_t vn, char *why, size_t cap)
{
    switch (ch) {
    case WD_CH_SLACK:
        if (eqn(k, kn, "webhook_url")) {
            return set_url(c->slack.webhook_url, sizeof c->slack.webhook_url, v, vn, false, why,
                           cap);
        }
        if (eqn(k, kn, "channel")) {
            return set_text(c->slack.channel, sizeof c->slack.channel, v, vn, "channel", false,
                            why, cap);
        }
        return unknown(k, kn, "webhook_url, webhook_url_file, channel", why, cap);
    case WD_CH_PAGERDUTY:
        if (eqn(k, kn, "routing_key")) {
            return set_text(c->pagerduty.routing_key, sizeof c->pagerduty.routing_key, v, vn,
                            "routing_key", true, why, cap);
        }
        if (eqn(k, kn, "url")) {
            return set_url(c->pagerduty.url, sizeof c->pagerduty.url, v, vn, false, why, cap);
        }
        return unknown(k, kn, "routing_key, routing_key_file, url", why, cap);
    case WD_CH_WEBHOOK:
        if (eqn(k, kn, "url")) {
            return set_url(c->webhook.url, sizeof c->webhook.url, v, vn, false, why, cap);
        }
        if (eqn(k, kn, "auth_header")) {
            /* A header value may hold a space ("Bearer X"): only controls are refused. */
            if (vn == 0 || vn >= sizeof c->webhook.auth_header) {
                snprintf(why, cap, "auth_header must be 1 to %zu bytes",
                         sizeof c->webhook.auth_header - 1);
                return false;
            }
            for (size_t i = 0; i < vn; i++) {
                if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f) {
                    snprintf(why, cap, "auth_header holds a control character (value not "
                             "shown: it is a secret)");
                    return false;
                }
            }
            memcpy(c->webhook.auth_header, v, vn);
            c->webhook.auth_header[vn] = '\0';
            return true;
        }
        return unknown(k, kn, "url, url_file, auth_header, auth_header_file", why, cap);
    case WD_CH_EMAIL:
        if (eqn(k, kn, "smtp_url")) {
            return set_url(c->email.smtp_url, sizeof c->email.smtp_url, v, vn, true, why, cap);
        }
        if (eqn(k, kn, "username")) {
            return set_text(c->email.username, sizeof c->email.username, v, vn, "username",
                            false, why, cap);
        }
        if (eqn(k, kn, "password")) {
            return set_text(c->email.password, sizeof c->email.password, v, vn, "password",
                            true, why, cap);
        }
        if (eqn(k, kn, "from")) {
            return set_text(c->email.from, sizeof c->email.from, v, vn, "from", false, why, cap);
        }
        return unknown(k, kn, "smtp_url, username, password, password_file, from, to", why,
                       cap);
    case WD_CH_SMS:
        if (eqn(k, kn, "url")) {
            return set_url(c->sms.url, sizeof c->sms.url, v, vn, false, why, cap);
        }
        if (eqn(k, kn, "username")) {
            return set_text(c->sms.username, sizeof c->sms.username, v, vn, "username", false,
                            why, cap);
        }
        if (eqn(k, kn, "password")) {
            return set_text(c->sms.password, sizeof c->sms.password, v, vn, "password", true,
                            why, cap);
        }
        if (eqn(k, kn, "from")) {
            return set_text(c->sms.from, sizeof c->sms.from, v, vn, "from", false, why, cap);
        }
        return unknown(k, kn, "url, url_file, username, password, password_file, from, to",
                       why, cap);
    case WD_CH__COUNT: break;
    }
    return false;
}

static bool set_route(struct wd_notify_config *c, const char *k, size_t kn,
                      const char *const *values, const size_t *lens, size_t n, char *why,
                      size_t cap)
{
    int sev;
    wd_channel_mask m = 0;
    if (!severity_key(k, kn, &sev, why, cap)) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        enum wd_channel ch;
        if (wd_channel_parse(values[i], lens[i], &ch) != WD_OK) {
            snprintf(why, cap, "unknown channel '%.*s' (slack, pagerduty, webhook, email, sms)",
                     (int)(lens[i] > 32 ? 32 : lens[i]), values[i]);
            return false;
        }
        m |= BIT(ch);
    }
    c->routes[sev] = m;
    return true;
}

static bool set_delivery(struct wd_notify_config *c, const char *k, size_t kn, const char *v,
                         size_t vn, char *why, size_t cap)
{
    int64_t x;
    if (eqn(k, kn, "timeout_ms")) {
        if (!parse_int(v, vn, 100, 600000, &x, why, cap)) {
            return false;
        }
        c->timeout_ms = x;
    } else if (eqn(k, kn, "max_attempts")) {
        if (!parse_int(v, vn, 1, 1000, &x, why, cap)) {
            return false;
        }
        c->max_attempts = (uint32_t)x;
    } else if (eqn(k, kn, "backoff_base_ms")) {
        if (!parse_int(v, vn, 1, 3600000, &x, why, cap)) {
            return false;
        }
        c->backoff_base_ms = x;
    } else if (eqn(k, kn, "backoff_max_ms")) {
        if (!parse_int(v, vn, 1, 86400000, &x, why, cap)) {
            return false;
        }
        c->backoff_max_ms = x;
    } else if (eqn(k, kn, "failing_after")) {
        if (!parse_int(v, vn, 1, 1000, &x, why, cap)) {
            return false;
        }
        c->failing_after = (uint32_t)x;
    } else {
        return unknown(k, kn, "timeout_ms, max_attempts, backoff_base_ms, backoff_max_ms, "
                       "failing_after", why, cap);
    }
    return true;
}

bool wd_notify_config_set(struct wd_notify_config *c, const char *section, size_t slen,
                          const char *key, size_t klen, const char *const *values,
                          const size_t *lens, size_t n, bool was_list, char *why,
                          size_t why_cap)
{
    enum wd_channel ch;
    if (eqn(section, slen, "routes")) {
        return set_route(c, key, klen, values, lens, n, why, why_cap);
    }
    if (eqn(section, slen, "update_every_s")) {
        int sev;
        int64_t x;
        if (!severity_key(key, klen, &sev, why, why_cap) || !one(n, was_list, why, why_cap) ||
            !parse_int(values[0], lens[0], 0, 7 * 86400, &x, why, why_cap)) {
            return false;
        }
        c->update_every_s[sev] = x;
        return true;
    }
    if (eqn(section, slen, "delivery")) {
        return one(n, was_list, why, why_cap) &&
               set_delivery(c, key, klen, values[0], lens[0], why, why_cap);
    }
    if (wd_channel_parse(section, slen, &ch) != WD_OK) {
        snprintf(why, why_cap, "unknown section '%.*s' (slack, pagerduty, webhook, email, sms, "
                 "routes, update_every_s, delivery)", (int)(slen > 32 ? 32 : slen), section);
        return false;
    }
    if (eqn(key, klen, "to") && (ch == WD_CH_EMAIL || ch == WD_CH_SMS)) {
        return ch == WD_CH_EMAIL
                   ? set_list(c->email.to, &c->email.n_to, values, lens, n, why, why_cap)
                   : set_list(c->sms.to, &c->sms.n_to, values, lens, n, why, why_cap);
    }
    return one(n, was_list, why, why_cap) &&
           set_channel(c, ch, key, klen, values[0], lens[0], why, why_cap);
}

bool wd_notify_channel_configured(const struct wd_notify_config *c, enum wd_channel ch)
{
    switch (ch) {
    case WD_CH_SLACK: return c->slack.webhook_url[0] != '\0';
    case WD_CH_PAGERDUTY: return c->pagerduty.routing_key[0] != '\0' && c->pagerduty.url[0];
    case WD_CH_WEBHOOK: return c->webhook.url[0] != '\0';
    case WD_CH_EMAIL:
        return c->email.smtp_url[0] != '\0' && c->email.from[0] != '\0' && c->email.n_to > 0;
    case WD_CH_SMS: return c->sms.url[0] != '\0' && c->sms.n_to > 0;
    case WD_CH__COUNT: break;
    }
    return false;
}

wd_channel_mask wd_notify_route(const struct wd_notify_config *c, enum wd_severity s)
{
    wd_channel_mask m = 0;
    if ((unsigned)s > WD_P3) {
        return 0;
    }
    for (unsigned ch = 0; ch < WD_CH__COUNT; ch++) {
        if ((c->routes[s] & BIT(ch)) && wd_notify_channel_configured(c, (enum wd_channel)ch)) {
            m |= BIT(ch);
        }
    }
    return m;
}

wd_channel_mask wd_notify_route_all(const struct wd_notify_config *c)
{
    wd_channel_mask m = 0;
    for (unsigned ch = 0; ch < WD_CH__COUNT; ch++) {
        if (wd_notify_channel_configured(c, (enum wd_channel)ch)) {
            m |= BIT(ch);
        }
    }
    return m;
}

bool wd_notify_channel_takes(enum wd_channel ch, enum wd_notify_kind k)
{
    if (ch != WD_CH_PAGERDUTY) {
        return (unsigned)k < WD_NK__COUNT;
    }
    return k == WD_NK_OPENED || k == WD_NK_ACKNOWLEDGED || k == WD_NK_ESCALATED ||
           k == WD_NK_RESOLVED || k == WD_NK_TEST;
}

/* ---- outcome and schedule ------------------------------------------------------- */

enum wd_notify_verdict wd_notify_classify(enum wd_channel ch, bool net_error, long status)
{
    if (net_error) {
        return WD_NV_RETRY;
    }
    if (ch == WD_CH_EMAIL) {
        /* SMTP: 2xx/3xx accepted, 4xx transient, 5xx permanent. */
        if (status >= 200 && status < 400) {
            return WD_NV_DELIVERED;
        }
        return status >= 400 && status < 500 ? WD_NV_RETRY : WD_NV_GIVE_UP;
    }
    if (status >= 200 && status < 300) {
        return WD_NV_DELIVERED;
    }
    if (status == 408 || status == 429 || (status >= 500 && status < 600)) {
        return WD_NV_RETRY;
    }
    return WD_NV_GIVE_UP;
}

int64_t wd_notify_backoff_ms(const struct wd_notify_config *c, uint32_t attempt, uint32_t rnd)
{
    int64_t d = c->backoff_base_ms > 0 ? c->backoff_base_ms : 1;
    for (uint32_t i = 1; i < attempt && d < c->backoff_max_ms; i++) {
        d *= 2;
    }
    if (d > c->backoff_max_ms) {
        d = c->backoff_max_ms;
    }
    int64_t half = d / 2;
    return half + (int64_t)(rnd % (uint64_t)(half + 1));
}

int64_t wd_notify_retry_delay_ms(const struct wd_notify_config *c, uint32_t attempt, uint32_t rnd,
                                 int64_t retry_after_s)
{
    int64_t d = wd_notify_backoff_ms(c, attempt, rnd);
    int64_t cap = c->backoff_max_ms > 0 ? c->backoff_max_ms : 1;
    if (retry_after_s <= 0) {
        return d;
    }
    /* Seconds beyond the cap are the cap (no overflow for a huge answer). */
    int64_t ra = retry_after_s > cap / 1000 ? cap : retry_after_s * 1000;
    return ra > d ? ra : d;
}

bool wd_notify_reminder_due(int64_t anchor_ns, int64_t every_ns, int64_t last_ns, int64_t now_ns)
{
    int64_t from = last_ns > anchor_ns ? last_ns : anchor_ns;
    return every_ns > 0 && now_ns >= from && now_ns - from >= every_ns;
}

/* ---- payloads ------------------------------------------------------------------- */

#define PUT(b, lit) wd_render_buf_put((b), (lit), sizeof(lit) - 1)

#define TRY(x)                                                                               \
    do {                                                                                     \
        enum wd_status st_ = (x);                                                            \
        if (st_ != WD_OK)                                                                    \
            return st_;                                                                      \
    } while (0)

const char *wd_notify_pd_severity(enum wd_severity s)
{
    static const char *const names[4] = {"critical", "error", "warning", "info"};
    return (unsigned)s <= WD_P3 ? names[s] : "info";
}

const char *wd_notify_slack_color(const struct wd_notification *n)
{
    if (n->kind == WD_NK_RESOLVED) {
        return "good";
    }
    switch (n->severity) {
    case WD_P0: return "danger";
    case WD_P1: return "warning";
    default: return "#439FE0";
    }
}

/* A JSON string: '"' and '\' escaped, controls as \n, \t, \r or \u00XX;
 * every other byte (UTF-8) as is. */
static enum wd_status json_str(struct wd_render_buf *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    TRY(PUT(b, "\""));
    for (const char *p = s; *p != '\0'; p++) {
        unsigned char ch = (unsigned char)*p;
        char esc[7];
        size_t n = 0;
        if (ch == '"' || ch == '\\') {
            esc[n++] = '\\';
            esc[n++] = (char)ch;
        } else if (ch == '\n') {
            esc[n++] = '\\';
            esc[n++] = 'n';
        } else if (ch == '\t') {
            esc[n++] = '\\';
            esc[n++] = 't';
        } else if (ch == '\r') {
            esc[n++] = '\\';
            esc[n++] = 'r';
        } else if (ch < 0x20 || ch == 0x7f) {
            memcpy(esc, "\\u00", 4);
            n = 4;
            esc[n++] = hex[ch >> 4];
            esc[n++] = hex[ch & 15];
        } else {
            esc[n++] = (char)ch;
        }
        TRY(wd_render_buf_put(b, esc, n));
    }
    return PUT(b, "\"");
}

static enum wd_status json_kv(struct wd_render_buf *b, const char *k, const char *v, bool comma)
{
    TRY(wd_render_buf_putf(b, "%s\"%s\":", comma ? "," : "", k));
    return json_str(b, v);
}

enum wd_status wd_notify_headline(const struct wd_notification *n, struct wd_render_buf *out)
{
    const char *sev = wd_severity_name(n->severity);
    switch (n->kind) {
    case WD_NK_OPENED:
        return wd_render_buf_putf(out, "🚨 INCIDENT ALERT 🚨 %s %s: %s", sev, n->incident,
                                  n->title);
    case WD_NK_ACKNOWLEDGED:
        return wd_render_buf_putf(out, "👀 %s %s acknowledged: %s", sev, n->incident, n->title);
    case WD_NK_ESCALATED:
        return wd_render_buf_putf(out, "⬆️ %s %s escalated: %s", sev, n->incident, n->title);
    case WD_NK_RESOLVED:
        return wd_render_buf_putf(out, "✅ INCIDENT RESOLVED %s %s: %s", sev, n->incident,
                                  n->title);
    case WD_NK_UPDATE:
        return wd_render_buf_putf(out, "📊 INCIDENT UPDATE %s %s: %s", sev, n->incident,
                                  n->title);
    case WD_NK_REMINDER:
        return wd_render_buf_putf(out, "⏰ %s %s: status update due: %s", sev, n->incident,
                                  n->title);
    case WD_NK_TEST: return wd_render_buf_putf(out, "🧪 warden test notification: %s", n->title);
    case WD_NK__COUNT: break;
    }
    return WD_EINVAL;
}

static enum wd_status headline_json(struct wd_render_buf *b, const char *key,
                                    const struct wd_notification *n, bool comma)
{
    struct wd_render_buf h;
    wd_render_buf_init(&h, WD_NOTIFY_TEXT_MAX);
    enum wd_status st = wd_notify_headline(n, &h);
    if (st == WD_OK) {
        st = json_kv(b, key, h.data, comma);
    }
    wd_render_buf_destroy(&h);
    return st;
}

static enum wd_status slack_field(struct wd_render_buf *b, const char *title, const char *v,
                                  bool comma)
{
    TRY(wd_render_buf_putf(b, "%s{\"title\":", comma ? "," : ""));
    TRY(json_str(b, title));
    TRY(PUT(b, ",\"value\":"));
    TRY(json_str(b, v));
    return PUT(b, ",\"short\":true}");
}

static enum wd_status slack(const struct wd_notify_config *c, const struct wd_notification *n,
                            struct wd_render_buf *b)
{
    TRY(PUT(b, "{"));
    if (c->slack.channel[0] != '\0') {
        TRY(json_kv(b, "channel", c->slack.channel, false));
        TRY(PUT(b, ","));
    }
    TRY(headline_json(b, "text", n, false));
    TRY(wd_render_buf_putf(b, ",\"attachments\":[{\"color\":\"%s\",\"fields\":[",
                           wd_notify_slack_color(n)));
    TRY(slack_field(b, "Severity", wd_severity_name(n->severity), false));
    TRY(slack_field(b, "Status", n->status, true));
    TRY(slack_field(b, "Incident", n->incident, true));
    TRY(slack_field(b, "Scope", n->scope, true));
    TRY(PUT(b, "]"));
    TRY(json_kv(b, "text", n->text, true));
    TRY(wd_render_buf_putf(b, ",\"footer\":\"warden\",\"ts\":%lld}]}",
                           (long long)(n->created_ns / WD_NS_PER_S)));
    return WD_OK;
}

static enum wd_status pagerduty(const struct wd_notify_config *c,
                                const struct wd_notification *n, struct wd_render_buf *b)
{
    const char *action;
    char ts[40];
    switch (n->kind) {
    case WD_NK_OPENED:
    case WD_NK_ESCALATED:
    case WD_NK_TEST: action = "trigger"; break;
    case WD_NK_ACKNOWLEDGED: action = "acknowledge"; break;
    case WD_NK_RESOLVED: action = "resolve"; break;
    default: return WD_EINVAL;
    }
    TRY(PUT(b, "{"));
    TRY(json_kv(b, "routing_key", c->pagerduty.routing_key, false));
    TRY(json_kv(b, "event_action", action, true));
    if (n->kind == WD_NK_TEST) {
        TRY(wd_render_buf_putf(b, ",\"dedup_key\":\"warden-test-%lld\"",
                               (long long)n->created_ns));
    } else {
        TRY(json_kv(b, "dedup_key", n->incident, true));
    }
    if (strcmp(action, "trigger") == 0) {
        wd_time_format_utc(n->created_ns, ts, sizeof ts);
        TRY(PUT(b, ",\"payload\":{"));
        TRY(headline_json(b, "summary", n, false));
        TRY(json_kv(b, "source", "warden", true));
        TRY(json_kv(b, "severity", wd_notify_pd_severity(n->severity), true));
        TRY(json_kv(b, "timestamp", ts, true));
        TRY(json_kv(b, "component", n->scope, true));
        TRY(json_kv(b, "group", n->scenario, true));
        TRY(json_kv(b, "class", wd_notify_kind_name(n->kind), true));
        TRY(PUT(b, ",\"custom_details\":{"));
        TRY(json_kv(b, "incident", n->incident, false));
        TRY(json_kv(b, "status", n->status, true));
        TRY(json_kv(b, "text", n->text, true));
        TRY(PUT(b, "}}"));
    }
    return PUT(b, "}");
}

static enum wd_status webhook(const struct wd_notification *n, struct wd_render_buf *b)
{
    TRY(PUT(b, "{"));
    TRY(json_kv(b, "kind", wd_notify_kind_name(n->kind), false));
    TRY(json_kv(b, "incident", n->incident, true));
    TRY(json_kv(b, "severity", wd_severity_name(n->severity), true));
    TRY(json_kv(b, "scenario", n->scenario, true));
    TRY(json_kv(b, "scope", n->scope, true));
    TRY(json_kv(b, "status", n->status, true));
    TRY(json_kv(b, "title", n->title, true));
    TRY(headline_json(b, "headline", n, true));
    TRY(json_kv(b, "text", n->text, true));
    return wd_render_buf_putf(b, ",\"created_ns\":%lld}", (long long)n->created_ns);
}

static enum wd_status base64(struct wd_render_buf *b, const unsigned char *s, size_t n)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)s[i] << 16;
        size_t k = n - i;
        if (k > 1) {
            v |= (uint32_t)s[i + 1] << 8;
        }
        if (k > 2) {
            v |= s[i + 2];
        }
        char q[4] = {tab[(v >> 18) & 63], tab[(v >> 12) & 63], k > 1 ? tab[(v >> 6) & 63] : '=',
                     k > 2 ? tab[v & 63] : '='};
        TRY(wd_render_buf_put(b, q, 4));
    }
    return WD_OK;
}

/* RFC 5322 Date: "Mon, 17 Nov 2025 14:30:00 +0000". */
static enum wd_status mail_date(struct wd_render_buf *b, int64_t ns)
{
    static const char *const wd[7] = {"Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"};
    static const char *const mon[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    int64_t secs = wd_floor_div(ns, WD_NS_PER_S);
    int64_t days = wd_floor_div(secs, 86400);
    int64_t sod = secs - days * 86400;
    int64_t y;
    unsigned m, d;
    wd_civil_from_days(days, &y, &m, &d);
    int64_t w = days % 7;
    if (w < 0) {
        w += 7;
    }
    return wd_render_buf_putf(b, "%s, %02u %s %04lld %02d:%02d:%02d +0000", wd[w], d,
                              mon[m - 1], (long long)y, (int)(sod / 3600), (int)(sod / 60 % 60),
                              (int)(sod % 60));
}

static enum wd_status email(const struct wd_notify_config *c, const struct wd_notification *n,
                            struct wd_render_buf *b)
{
    struct wd_render_buf h;
    bool ascii = true;
    enum wd_status st;
    TRY(wd_render_buf_putf(b, "From: %s\r\nTo: ", c->email.from));
    if (n->recipient[0] != '\0') {
        TRY(wd_render_buf_putf(b, "%s", n->recipient));
    }
    for (uint32_t i = 0; n->recipient[0] == '\0' && i < c->email.n_to; i++) {
        TRY(wd_render_buf_putf(b, "%s%s", i ? ", " : "", c->email.to[i]));
    }
    TRY(PUT(b, "\r\nSubject: "));
    wd_render_buf_init(&h, WD_NOTIFY_TEXT_MAX);
    st = wd_notify_headline(n, &h);
    for (size_t i = 0; st == WD_OK && i < h.len; i++) {
        ascii = ascii && (unsigned char)h.data[i] >= 0x20 && (unsigned char)h.data[i] < 0x7f;
    }
    if (st == WD_OK && ascii) {
        st = wd_render_buf_put(b, h.data, h.len);
    } else if (st == WD_OK) {
        /* RFC 2047: the emoji and any non-ASCII title, base64 in UTF-8. */
        st = PUT(b, "=?UTF-8?B?");
        if (st == WD_OK) {
            st = base64(b, (const unsigned char *)h.data, h.len);
        }
        if (st == WD_OK) {
            st = PUT(b, "?=");
        }
    }
    wd_render_buf_destroy(&h);
    TRY(st);
    TRY(PUT(b, "\r\nDate: "));
    TRY(mail_date(b, n->created_ns));
    TRY(wd_render_buf_putf(b, "\r\nMessage-ID: <%s.%s.%lld@warden>\r\n",
                           n->incident[0] ? n->incident : "test", wd_notify_kind_name(n->kind),
                           (long long)n->created_ns));
    TRY(PUT(b, "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
                             "Content-Transfer-Encoding: 8bit\r\n\r\n"));
    for (const char *p = n->text; *p != '\0'; p++) {
        if (*p == '\n') {
            TRY(PUT(b, "\r\n"));
        } else if (*p != '\r') {
            TRY(wd_render_buf_put(b, p, 1));
        }
    }
    return PUT(b, "\r\n");
}

/* application/x-www-form-urlencoded: unreserved bytes as is, space as '+',
 * everything else %XX. */
static enum wd_status form_value(struct wd_render_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
            ch == '-' || ch == '_' || ch == '.' || ch == '~') {
            TRY(wd_render_buf_put(b, (const char *)&s[i], 1));
        } else if (ch == ' ') {
            TRY(PUT(b, "+"));
        } else {
            char e[3] = {'%', hex[ch >> 4], hex[ch & 15]};
            TRY(wd_render_buf_put(b, e, 3));
        }
    }
    return WD_OK;
}

static enum wd_status sms(const struct wd_notify_config *c, const struct wd_notification *n,
                          struct wd_render_buf *b)
{
    struct wd_render_buf h;
    TRY(PUT(b, "To="));
    TRY(form_value(b, n->recipient, strlen(n->recipient)));
    if (c->sms.from[0] != '\0') {
        TRY(PUT(b, "&From="));
        TRY(form_value(b, c->sms.from, strlen(c->sms.from)));
    }
    TRY(PUT(b, "&Body="));
    wd_render_buf_init(&h, WD_NOTIFY_TEXT_MAX);
    enum wd_status st = wd_notify_headline(n, &h);
    if (st == WD_OK) {
        st = form_value(b, h.data, h.len);
    }
    wd_render_buf_destroy(&h);
    return st;
}

enum wd_status wd_notify_payload(const struct wd_notify_config *c,
                                 const struct wd_notification *n, struct wd_render_buf *out)
{
    switch (n->channel) {
    case WD_CH_SLACK: return slack(c, n, out);
    case WD_CH_PAGERDUTY: return pagerduty(c, n, out);
    case WD_CH_WEBHOOK: return webhook(n, out);
    case WD_CH_EMAIL: return email(c, n, out);
    case WD_CH_SMS: return sms(c, n, out);
    case WD_CH__COUNT: break;
    }
    return WD_EINVAL;
}

const char *wd_notify_content_type(enum wd_channel ch)
{
    switch (ch) {
    case WD_CH_EMAIL: return "message/rfc822";
    case WD_CH_SMS: return "application/x-www-form-urlencoded";
    default: return "application/json";
    }
}
