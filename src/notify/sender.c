/*
 * The sender (notify.h): works the outbox off with libcurl's multi
 * interface, on its own thread and its own store connection, so that a
 * slow or hanging receiver never holds the event loop nor the other
 * channels. Each pass: lease the due rows (outbox.h keeps an incident's
 * messages in order per channel), start their transfers, and record each
 * outcome (outbox row + a WD_TL_NOTIFY timeline entry) as it completes.
 * Retries follow wd_notify_backoff_ms. Never logs a URL, key or body.
 */
#define _DEFAULT_SOURCE
#include <curl/curl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "notify/notify.h"
#include "store/outbox.h"
#include "store/store.h"

#define MAX_INFLIGHT 64
#define ANSWER_MAX 512        /* bytes of an answer kept for the record */
#define POLL_MS 1000          /* longest sleep without a wake-up */
#define REMINDER_EVERY_NS (1000000000LL) /* reminders checked each second */

struct xfer {
    CURL *easy;
    struct wd_outbox_row row;
    struct wd_render_buf body;
    size_t body_off;              /* email upload position */
    struct curl_slist *headers, *rcpt;
    char answer[ANSWER_MAX];
    size_t answer_len;
};

struct chan_stats {
    atomic_ullong sent, failed, attempts_failed;
    atomic_uint consecutive;
    atomic_bool failing;
};

struct wd_sender {
    pthread_t thread;
    bool started;
    pthread_mutex_t mu;           /* guards cfg, alerts, n_alerts */
    struct wd_notify_config cfg;
    /* Channels that started failing, for the daemon's loop to announce
     * (wd_sender_take_alerts): at most one per channel, the latest. */
    struct wd_sender_alert alerts[WD_CH__COUNT];
    bool alert_due[WD_CH__COUNT];
    const struct wd_tz *tz;
    struct wd_store *store;       /* NULL for the CLI's flush: borrowed there */
    bool own_store;
    CURLM *multi;
    atomic_bool stop;
    bool reminders;
    wd_sender_log_fn log;
    void *log_ctx;
    struct xfer *inflight[MAX_INFLIGHT];
    size_t n_inflight;
    uint64_t rng;
    struct chan_stats stats[WD_CH__COUNT];
};

static int64_t wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* xorshift64*: jitter only, not security. */
static uint32_t next_rand(struct wd_sender *s)
{
    s->rng ^= s->rng >> 12;
    s->rng ^= s->rng << 25;
    s->rng ^= s->rng >> 27;
    return (uint32_t)((s->rng * 2685821657736338717ULL) >> 32);
}

static void say(struct wd_sender *s, const char *level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void say(struct wd_sender *s, const char *level, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    if (s->log == NULL) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    s->log(s->log_ctx, level, line);
}

/* ---- one transfer ------------------------------------------------------------ */

static size_t on_answer(char *p, size_t size, size_t n, void *ctx)
{
    struct xfer *x = ctx;
    size_t len = size * n, room = sizeof x->answer - 1 - x->answer_len;
    size_t k = len < room ? len : room;
    memcpy(x->answer + x->answer_len, p, k);
    x->answer_len += k;
    x->answer[x->answer_len] = '\0';
    return len;
}

static size_t on_upload(char *buf, size_t size, size_t n, void *ctx)
{
    struct xfer *x = ctx;
    size_t left = x->body.len - x->body_off, k = size * n < left ? size * n : left;
    memcpy(buf, x->body.data + x->body_off, k);
    x->body_off += k;
    return k;
}

static void xfer_free(struct xfer *x)
{
    if (x == NULL) {
        return;
    }
    if (x->easy != NULL) {
        curl_easy_cleanup(x->easy);
    }
    curl_slist_free_all(x->headers);
    curl_slist_free_all(x->rcpt);
    wd_render_buf_destroy(&x->body);
    free(x);
}

/* The easy handle of row r under cfg; NULL and *why when it cannot be made. */
static struct xfer *xfer_new(const struct wd_notify_config *cfg, const struct wd_outbox_row *r,
                             char *why, size_t cap)
{
    struct xfer *x = calloc(1, sizeof *x);
    char hdr[WD_NOTIFY_SECRET_MAX + 64];
    if (x == NULL || (x->easy = curl_easy_init()) == NULL) {
        snprintf(why, cap, "out of memory");
        xfer_free(x);
        return NULL;
    }
    x->row = *r;
    wd_render_buf_init(&x->body, 1u << 20);
    struct wd_notification n = {.kind = r->kind,
                                .channel = r->channel,
                                .incident = r->incident,
                                .severity = r->severity,
                                .scenario = r->scenario,
                                .scope = r->scope,
                                .status = r->status,
                                .title = r->title,
                                .text = r->text,
                                .recipient = r->recipient,
                                .created_ns = r->created_ns};
    if (!wd_notify_channel_configured(cfg, r->channel)) {
        snprintf(why, cap, "the channel is no longer configured");
        xfer_free(x);
        return NULL;
    }
    if (wd_notify_payload(cfg, &n, &x->body) != WD_OK) {
        snprintf(why, cap, "cannot render the payload");
        xfer_free(x);
        return NULL;
    }
    CURL *e = x->easy;
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)cfg->timeout_ms);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)cfg->timeout_ms);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_answer);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(e, CURLOPT_PRIVATE, x);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "warden-notify/1");
    if (r->channel == WD_CH_EMAIL) {
        curl_easy_setopt(e, CURLOPT_URL, cfg->email.smtp_url);
        snprintf(hdr, sizeof hdr, "<%s>", cfg->email.from);
        curl_easy_setopt(e, CURLOPT_MAIL_FROM, hdr);
        if (r->recipient[0] != '\0') {
            snprintf(hdr, sizeof hdr, "<%s>", r->recipient);
            x->rcpt = curl_slist_append(x->rcpt, hdr);
        }
        for (uint32_t i = 0; r->recipient[0] == '\0' && i < cfg->email.n_to; i++) {
            snprintf(hdr, sizeof hdr, "<%s>", cfg->email.to[i]);
            x->rcpt = curl_slist_append(x->rcpt, hdr);
        }
        curl_easy_setopt(e, CURLOPT_MAIL_RCPT, x->rcpt);
        curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(e, CURLOPT_READFUNCTION, on_upload);
        curl_easy_setopt(e, CURLOPT_READDATA, x);
        curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t)x->body.len);
        curl_easy_setopt(e, CURLOPT_USE_SSL, (long)CURLUSESSL_TRY);
        if (cfg->email.username[0] != '\0') {
            curl_easy_setopt(e, CURLOPT_USERNAME, cfg->email.username);
            curl_easy_setopt(e, CURLOPT_PASSWORD, cfg->email.password);
        }
        return x;
    }
    const char *url = r->channel == WD_CH_SLACK       ? cfg->slack.webhook_url
                      : r->channel == WD_CH_PAGERDUTY ? cfg->pagerduty.url
                      : r->channel == WD_CH_WEBHOOK   ? cfg->webhook.url
                                                      : cfg->sms.url;
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, x->body.data);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)x->body.len);
    snprintf(hdr, sizeof hdr, "Content-Type: %s", wd_notify_content_type(r->channel));
    x->headers = curl_slist_append(x->headers, hdr);
    x->headers = curl_slist_append(x->headers, "Expect:");
    if (r->channel == WD_CH_WEBHOOK && cfg->webhook.auth_header[0] != '\0') {
        snprintf(hdr, sizeof hdr, "Authorization: %s", cfg->webhook.auth_header);
        x->headers = curl_slist_append(x->headers, hdr);
    }
    if (r->channel == WD_CH_SMS && cfg->sms.username[0] != '\0') {
        curl_easy_setopt(e, CURLOPT_USERNAME, cfg->sms.username);
        curl_easy_setopt(e, CURLOPT_PASSWORD, cfg->sms.password);
    }
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->headers);
    return x;
}

/* Printable ASCII of an answer, for the record (never the request). */
static void printable(char *s)
{
    for (; *s != '\0'; s++) {
        if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f) {
            *s = ' ';
        }
    }
}

/* Keeps a channel's failing alert for the daemon's loop (the loop writes
 * outputs; this thread never does). */
static void alert_due(struct wd_sender *s, enum wd_channel ch, unsigned consecutive,
                      const char *last)
{
    pthread_mutex_lock(&s->mu);
    struct wd_sender_alert *a = &s->alerts[ch];
    a->channel = ch;
    a->consecutive = consecutive;
    snprintf(a->last, sizeof a->last, "%s", last);
    s->alert_due[ch] = true;
    pthread_mutex_unlock(&s->mu);
}

/* Records the outcome of row r: outbox row, timeline, counters.
 * retry_after_s: the answer's Retry-After (0: none). */
static void record(struct wd_sender *s, struct wd_store *st, const struct wd_notify_config *cfg,
                   const struct wd_outbox_row *r, bool net_error, long code, const char *detail,
                   int64_t retry_after_s)
{
    struct wd_error err = {0};
    struct wd_timeline_entry e;
    struct chan_stats *cs = &s->stats[r->channel];
    const char *ch = wd_channel_name(r->channel);
    int64_t now = wall_ns();
    uint32_t attempt = r->attempts + 1;
    enum wd_notify_verdict v = wd_notify_classify(r->channel, net_error, code);
    enum wd_outbox_state state = WD_OB_SENT;
    int64_t next = 0, done = now;
    char what[64];
    if (net_error) {
        snprintf(what, sizeof what, "no answer");
    } else {
        snprintf(what, sizeof what, "%s %ld", r->channel == WD_CH_EMAIL ? "SMTP" : "HTTP", code);
    }
    memset(&e, 0, sizeof e);
    if (v == WD_NV_DELIVERED) {
        snprintf(e.text, sizeof e.text, "%s %s delivered (%s) on attempt %u", ch,
                 wd_notify_kind_name(r->kind), what, attempt);
        atomic_fetch_add(&cs->sent, 1);
        atomic_store(&cs->consecutive, 0);
        if (atomic_exchange(&cs->failing, false)) {
            say(s, "INFO", "notify channel recovered channel=%s", ch);
        }
    } else {
        atomic_fetch_add(&cs->attempts_failed, 1);
        unsigned c = atomic_fetch_add(&cs->consecutive, 1) + 1;
        if (c >= cfg->failing_after && !atomic_exchange(&cs->failing, true)) {
            say(s, "ERROR", "alert notify channel failing channel=%s consecutive_failures=%u "
                "last=\"%s\"", ch, c, what);
            alert_due(s, r->channel, c, what);
        }
        if (v == WD_NV_RETRY && attempt < cfg->max_attempts) {
            int64_t ms = wd_notify_retry_delay_ms(cfg, attempt, next_rand(s), retry_after_s);
            char ra[40] = "";
            if (retry_after_s > 0) {
                snprintf(ra, sizeof ra, " (Retry-After %llds)", (long long)retry_after_s);
            }
            state = WD_OB_PENDING;
            next = now + ms * 1000000LL;
            done = 0;
            snprintf(e.text, sizeof e.text,
                     "%s %s attempt %u failed (%s%s%.120s), retry in %lld ms%s", ch,
                     wd_notify_kind_name(r->kind), attempt, what, detail[0] ? ": " : "", detail,
                     (long long)ms, ra);
        } else {
            state = WD_OB_FAILED;
            atomic_fetch_add(&cs->failed, 1);
            snprintf(e.text, sizeof e.text, "%s %s given up after attempt %u (%s%s%.200s)", ch,
                     wd_notify_kind_name(r->kind), attempt, what, detail[0] ? ": " : "", detail);
            say(s, "ERROR", "notification given up channel=%s kind=%s incident=%s attempts=%u "
                "last=\"%s\"", ch, wd_notify_kind_name(r->kind), r->incident, attempt, what);
        }
    }
    if (wd_store_begin(st, &err) == WD_OK) {
        enum wd_status rc = wd_store_outbox_result(st, r->id, state, attempt, next, code,
                                                   detail, done, &err);
        if (rc == WD_OK && r->incident[0] != '\0') {
            e.ts_ns = now;
            e.kind = WD_TL_NOTIFY;
            snprintf(e.incident, sizeof e.incident, "%s", r->incident);
            snprintf(e.who, sizeof e.who, "warden");
            snprintf(e.from, sizeof e.from, "%s", wd_notify_kind_name(r->kind));
            snprintf(e.to, sizeof e.to, "%s", wd_outbox_state_name(state));
            rc = wd_store_timeline_append(st, &e, &err);
        }
        if (rc == WD_OK) {
            rc = wd_store_commit(st, &err);
        } else {
            wd_store_rollback(st);
        }
        if (rc == WD_OK) {
            return;
        }
    }
    /* The lease runs out and the row is tried again: a duplicate rather
     * than a loss. */
    say(s, "ERROR", "notify: cannot record an outcome id=%lld reason=\"%s\"", (long long)r->id,
        err.msg);
}

static void finish(struct wd_sender *s, struct wd_store *st, const struct wd_notify_config *cfg,
                   struct xfer *x, CURLcode res)
{
    long code = 0;
    curl_off_t retry_after = 0; /* seconds; libcurl parses both forms of the header */
    curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &code);
    if (curl_easy_getinfo(x->easy, CURLINFO_RETRY_AFTER, &retry_after) != CURLE_OK) {
        retry_after = 0;
    }
    bool net = code == 0;
    char detail[ANSWER_MAX];
    if (res != CURLE_OK && net) {
        snprintf(detail, sizeof detail, "%s", curl_easy_strerror(res));
    } else {
        snprintf(detail, sizeof detail, "%s", x->answer);
        printable(detail);
    }
    record(s, st, cfg, &x->row, net, code, detail, (int64_t)retry_after);
}

/* ---- a pass --------------------------------------------------------------------- */

static bool inflight_has(const struct wd_sender *s, int64_t id)
{
    for (size_t i = 0; i < s->n_inflight; i++) {
        if (s->inflight[i]->row.id == id) {
            return true;
        }
    }
    return false;
}

/* Leases what is due and starts it. */
static void start_due(struct wd_sender *s, struct wd_store *st,
                      const struct wd_notify_config *cfg)
{
    struct wd_outbox_row *rows = NULL;
    size_t n = 0;
    struct wd_error err = {0};
    int64_t now = wall_ns();
    if (s->n_inflight >= MAX_INFLIGHT) {
        return;
    }
    /* The lease outlives the transfer's timeout: a crashed sender's rows
     * become due again after it. */
    if (wd_store_outbox_claim(st, now, now + (cfg->timeout_ms + 30000) * 1000000LL,
                              MAX_INFLIGHT - s->n_inflight, &rows, &n, &err) != WD_OK) {
        say(s, "WARN", "notify: cannot read the outbox reason=\"%s\"", err.msg);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        char why[128];
        if (inflight_has(s, rows[i].id)) {
            continue;
        }
        struct xfer *x = xfer_new(cfg, &rows[i], why, sizeof why);
        if (x == NULL) {
            record(s, st, cfg, &rows[i], false, 0, why, 0);
            continue;
        }
        curl_multi_add_handle(s->multi, x->easy);
        s->inflight[s->n_inflight++] = x;
    }
    free(rows);
}

/* Completes what curl finished. */
static void reap(struct wd_sender *s, struct wd_store *st, const struct wd_notify_config *cfg,
                 size_t *delivered)
{
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(s->multi, &left)) != NULL) {
        if (m->msg != CURLMSG_DONE) {
            continue;
        }
        struct xfer *x = NULL;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
        CURLcode res = m->data.result;
        curl_multi_remove_handle(s->multi, x->easy);
        long code = 0;
        curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &code);
        if (delivered != NULL && wd_notify_classify(x->row.channel, code == 0, code) ==
                                     WD_NV_DELIVERED) {
            (*delivered)++;
        }
        finish(s, st, cfg, x, res);
        for (size_t i = 0; i < s->n_inflight; i++) {
            if (s->inflight[i] == x) {
                s->inflight[i] = s->inflight[--s->n_inflight];
                break;
            }
        }
        xfer_free(x);
    }
}

static void *thread_main(void *arg)
{
    struct wd_sender *s = arg;
    int64_t next_reminders = 0;
    while (!atomic_load(&s->stop)) {
        struct wd_notify_config cfg;
        int running = 0;
        pthread_mutex_lock(&s->mu);
        cfg = s->cfg;
        pthread_mutex_unlock(&s->mu);
        int64_t now = wall_ns();
        if (s->reminders && now >= next_reminders) {
            struct wd_error err = {0};
            size_t k = 0;
            if (wd_notify_reminders(s->store, &cfg, s->tz, now, &k, &err) != WD_OK) {
                say(s, "WARN", "notify: reminders not checked reason=\"%s\"", err.msg);
            } else if (k > 0) {
                say(s, "INFO", "notify: status update reminders queued count=%zu", k);
            }
            next_reminders = now + REMINDER_EVERY_NS;
        }
        start_due(s, s->store, &cfg);
        curl_multi_perform(s->multi, &running);
        reap(s, s->store, &cfg, NULL);
        /* Sleep until curl has work, a wake-up, or the next due retry. */
        size_t pending = 0;
        int64_t next_ns = 0;
        struct wd_error err = {0};
        long wait = POLL_MS;
        if (wd_store_outbox_pending(s->store, &pending, &next_ns, &err) == WD_OK &&
            pending > s->n_inflight && next_ns > 0) {
            int64_t ms = (next_ns - wall_ns()) / 1000000LL;
            wait = ms < 0 ? 0 : ms < wait ? (long)ms : wait;
        }
        curl_multi_poll(s->multi, NULL, 0, (int)(wait > 0 ? wait : 1), NULL);
        memset(&cfg, 0, sizeof cfg); /* it held secrets */
    }
    return NULL;
}

enum wd_status wd_sender_start(const struct wd_sender_opts *o, struct wd_sender **out,
                               struct wd_error *err)
{
    struct wd_sender *s = calloc(1, sizeof *s);
    if (s == NULL) {
        return wd_error_set(err, WD_ENOMEM, "notify: out of memory");
    }
    pthread_mutex_init(&s->mu, NULL);
    s->cfg = *o->cfg;
    s->tz = o->tz;
    s->log = o->log;
    s->log_ctx = o->log_ctx;
    s->reminders = o->reminders;
    s->rng = (uint64_t)wall_ns() ^ ((uint64_t)getpid() << 32) ^ 0x9e3779b97f4a7c15ULL;
    if (wd_store_open(o->db_path, &s->store, err) != WD_OK) {
        wd_sender_stop(s);
        return err != NULL ? err->status : WD_EIO;
    }
    s->own_store = true;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || (s->multi = curl_multi_init()) == NULL) {
        wd_sender_stop(s);
        return wd_error_set(err, WD_EIO, "notify: libcurl cannot start");
    }
    /* The thread takes no signal: the daemon handles them (signalfd). */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    int prc = pthread_create(&s->thread, NULL, thread_main, s);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (prc != 0) {
        wd_sender_stop(s);
        return wd_error_set(err, WD_EIO, "notify: cannot start the sender thread");
    }
    s->started = true;
    *out = s;
    return WD_OK;
}

void wd_sender_wake(struct wd_sender *s)
{
    if (s != NULL && s->multi != NULL) {
        curl_multi_wakeup(s->multi);
    }
}

size_t wd_sender_take_alerts(struct wd_sender *s, struct wd_sender_alert *out, size_t cap)
{
    size_t n = 0;
    if (s == NULL) {
        return 0;
    }
    pthread_mutex_lock(&s->mu);
    for (unsigned ch = 0; ch < WD_CH__COUNT && n < cap; ch++) {
        if (s->alert_due[ch]) {
            out[n++] = s->alerts[ch];
            s->alert_due[ch] = false;
        }
    }
    pthread_mutex_unlock(&s->mu);
    return n;
}

void wd_sender_set_config(struct wd_sender *s, const struct wd_notify_config *cfg)
{
    if (s == NULL) {
        return;
    }
    pthread_mutex_lock(&s->mu);
    s->cfg = *cfg;
    pthread_mutex_unlock(&s->mu);
    wd_sender_wake(s);
}

void wd_sender_stop(struct wd_sender *s)
{
    if (s == NULL) {
        return;
    }
    atomic_store(&s->stop, true);
    if (s->started) {
        wd_sender_wake(s);
        pthread_join(s->thread, NULL);
    }
    for (size_t i = 0; i < s->n_inflight; i++) {
        const struct wd_outbox_row *r = &s->inflight[i]->row;
        struct wd_error err = {0};
        curl_multi_remove_handle(s->multi, s->inflight[i]->easy);
        /* Abandoned, not failed: the lease is released (attempts and the
         * last outcome unchanged), so that the next start sends it at
         * once instead of after the lease (timeout + 30 s), and the
         * incident's later messages are not held behind it. */
        if (s->own_store &&
            wd_store_outbox_result(s->store, r->id, WD_OB_PENDING, r->attempts, r->next_ns,
                                   r->last_code, r->last_error, 0, &err) != WD_OK) {
            say(s, "WARN", "notify: lease not released id=%lld reason=\"%s\"", (long long)r->id,
                err.msg);
        }
        xfer_free(s->inflight[i]);
    }
    if (s->multi != NULL) {
        curl_multi_cleanup(s->multi);
    }
    if (s->own_store) {
        wd_store_close(s->store);
    }
    memset(&s->cfg, 0, sizeof s->cfg);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

enum wd_status wd_sender_metrics(struct wd_sender *s, struct wd_render_buf *out)
{
    static const struct {
        const char *name, *type, *help;
    } fam[4] = {
        {"warden_notifications_sent_total", "counter", "Notifications delivered, per channel."},
        {"warden_notifications_failed_total", "counter",
         "Notifications given up (a 4xx answer, or every attempt failed), per channel."},
        {"warden_notification_attempts_failed_total", "counter",
         "Delivery attempts that failed (retried or not), per channel."},
        {"warden_notify_channel_failing", "gauge",
         "1 while a channel's last delivery.failing_after attempts all failed."},
    };
    for (int f = 0; f < 4; f++) {
        enum wd_status st = wd_render_buf_putf(out, "# HELP %s %s\n# TYPE %s %s\n", fam[f].name,
                                               fam[f].help, fam[f].name, fam[f].type);
        for (unsigned ch = 0; st == WD_OK && ch < WD_CH__COUNT; ch++) {
            struct chan_stats *cs = s != NULL ? &s->stats[ch] : NULL;
            unsigned long long v = cs == NULL ? 0
                                   : f == 0   ? atomic_load(&cs->sent)
                                   : f == 1   ? atomic_load(&cs->failed)
                                   : f == 2   ? atomic_load(&cs->attempts_failed)
                                              : (unsigned long long)atomic_load(&cs->failing);
            st = wd_render_buf_putf(out, "%s{channel=\"%s\"} %llu\n", fam[f].name,
                                    wd_channel_name((enum wd_channel)ch), v);
        }
        if (st != WD_OK) {
            return st;
        }
    }
    return WD_OK;
}

enum wd_status wd_notify_flush(struct wd_store *st, const struct wd_notify_config *cfg,
                               size_t *sent, size_t *left, struct wd_error *err)
{
    struct wd_sender *s = calloc(1, sizeof *s);
    size_t delivered = 0, pending = 0;
    int64_t next = 0;
    if (s == NULL) {
        return wd_error_set(err, WD_ENOMEM, "notify: out of memory");
    }
    s->cfg = *cfg;
    s->rng = (uint64_t)wall_ns() ^ 0x9e3779b97f4a7c15ULL;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || (s->multi = curl_multi_init()) == NULL) {
        free(s);
        return wd_error_set(err, WD_EIO, "notify: libcurl cannot start");
    }
    start_due(s, st, cfg);
    while (s->n_inflight > 0) {
        int running = 0;
        curl_multi_perform(s->multi, &running);
        reap(s, st, cfg, &delivered);
        if (s->n_inflight > 0) {
            curl_multi_poll(s->multi, NULL, 0, 100, NULL);
        }
    }
    curl_multi_cleanup(s->multi);
    memset(&s->cfg, 0, sizeof s->cfg);
    free(s);
    enum wd_status r = wd_store_outbox_pending(st, &pending, &next, err);
    if (sent != NULL) {
        *sent = delivered;
    }
    if (left != NULL) {
        *left = pending;
    }
    return r;
}
