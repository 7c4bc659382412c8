/*
 * Sending notifications (issue 8; docs/NOTIFICATIONS.md, docs/internals/
 * NOTIFY.md). Two halves:
 *
 *   - queueing (enqueue.c): wd_notify_enqueue puts messages into the
 *     store's outbox (src/store/outbox.h) inside the caller's transaction;
 *     wd_notify_attach makes every incident change that must be announced
 *     (opened, acknowledged, escalated, resolved) queue its messages in the
 *     same transaction as the change, through the store's timeline hook;
 *   - sending (sender.c): a thread with its own store connection and a
 *     libcurl multi handle works the outbox off, never blocking the event
 *     loop; retries with backoff and jitter; every attempt on the
 *     incident's timeline; a channel that keeps failing is reported.
 *
 * Nothing here logs a secret (URLs, keys, passwords): logs and timeline
 * entries name the channel only.
 */
#ifndef WD_NOTIFY_NOTIFY_H
#define WD_NOTIFY_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "warden/incident.h"
#include "warden/notify.h"
#include "warden/render.h"
#include "warden/status.h"
#include "warden/tz.h"

struct wd_store;

/* ---- queueing --------------------------------------------------------------- */

/* Who gets one notification. mask 0: the incident's route by severity
 * (wd_notify_route). to/n_to (optional): the addresses (email) or numbers
 * (sms) to use instead of the configuration's `to`, e.g. the contacts of
 * an escalation level or of the on-call engineer (issue 8 points 5, 6);
 * the other channels ignore them. Strings are borrowed for the call. */
struct wd_notify_target {
    wd_channel_mask mask;
    const char *const *to;
    size_t n_to;
};

/*
 * THE entry point for anything that must notify (the escalation chain, the
 * on-call test page, status updates): queues one outbox row per channel of
 * target (per number for sms) that takes `kind`, in a transaction nested in
 * the caller's, with a WD_TL_NOTIFY entry on the incident's timeline that
 * lists the channels. inc NULL: a notification without an incident (a test
 * page; severity P3 route unless target->mask is given). text: the human
 * message (NULL: the playbook's template for the kind, rendered from inc).
 * Channels not configured are skipped. A notification held back by a
 * silence (`warden silence`; silenced() in enqueue.c asks
 * wd_store_silence_active) is queued as `held` and never
 * sent. *queued (optional) receives the number of rows queued to send.
 * Returns the store's status; nothing is queued on failure.
 */
enum wd_status wd_notify_enqueue(struct wd_store *s, const struct wd_notify_config *cfg,
                                 const struct wd_tz *tz, const struct wd_incident *inc,
                                 enum wd_notify_kind kind, const struct wd_notify_target *target,
                                 const char *text, int64_t now_ns, size_t *queued,
                                 struct wd_error *err) WD_MUST_USE;

/* The timeline kinds that notify and as what: opened -> opened; status to
 * acknowledged -> acknowledged; status to resolved -> resolved; severity
 * raised and escalation -> escalated. false for every other entry. */
bool wd_notify_kind_of_entry(const struct wd_timeline_entry *e, enum wd_notify_kind *out);

/* What wd_notify_attach needs; owned by the caller, must outlive the store
 * handle's use (or wd_notify_detach). cfg may be swapped on reload while
 * no store call runs. */
struct wd_notify_hook {
    const struct wd_notify_config *cfg;
    const struct wd_tz *tz;
    volatile int queued; /* set when a row was queued: wake the sender */
};

/* Installs the store's timeline hook: each entry that notifies
 * (wd_notify_kind_of_entry) queues the incident's messages in the same
 * transaction. A store without it (warden replay) queues nothing. */
void wd_notify_attach(struct wd_store *s, struct wd_notify_hook *h);
void wd_notify_detach(struct wd_store *s);

/* A page to one person (issue 8 points 5, 6: an escalation level's contact,
 * the on-call test page) through the notifier attached to s (wd_notify_
 * attach), in the caller's transaction: channel ("sms", "email", ...) at
 * address `to`, text the message; inc the incident (kind escalated) or
 * NULL (kind test). A store without a notifier queues nothing (WD_OK:
 * the caller's record of the page is all there is). WD_EINVAL: channel
 * is not a notification channel. */
enum wd_status wd_notify_page(struct wd_store *s, const struct wd_incident *inc,
                              const char *channel, const char *to, const char *text,
                              int64_t now_ns, size_t *queued, struct wd_error *err) WD_MUST_USE;

/* ---- status updates ------------------------------------------------------------ */

/* `warden incident update ID`: the playbook's "Status Update" message
 * (wd_render_msg_update; message, when given, is added as the progress
 * line) sent through the incident's channels, with a note on its timeline
 * ("status update posted: ..."), in one transaction. WD_ENOTFOUND: no such
 * incident; WD_ESTATE: it is closed. */
enum wd_status wd_notify_status_update(struct wd_store *s, const struct wd_notify_config *cfg,
                                       const struct wd_tz *tz, const char *id,
                                       const char *message, const char *who, int64_t now_ns,
                                       size_t *queued, struct wd_error *err) WD_MUST_USE;

/* Status-update reminders: for each active incident whose severity has an
 * update_every_s, when that long has passed since it opened or since its
 * last update or reminder, queues a `reminder` notification and says so on
 * its timeline. *n (optional): reminders queued. */
enum wd_status wd_notify_reminders(struct wd_store *s, const struct wd_notify_config *cfg,
                                   const struct wd_tz *tz, int64_t now_ns, size_t *n,
                                   struct wd_error *err) WD_MUST_USE;

/* ---- sending ------------------------------------------------------------------- */

struct wd_sender;

/* The sender's report of a channel that starts or stops failing, and of
 * each outcome: one line, no secret. level "INFO", "WARN", "ERROR". */
typedef void (*wd_sender_log_fn)(void *ctx, const char *level, const char *line);

struct wd_sender_opts {
    const char *db_path;                 /* its own connection to the store; copied */
    const struct wd_notify_config *cfg;  /* copied */
    const struct wd_tz *tz;              /* borrowed, for reminder texts; may be NULL */
    wd_sender_log_fn log;                /* optional */
    void *log_ctx;
    bool reminders;                      /* queue status-update reminders (the daemon) */
};

/* Starts the sender thread. WD_EIO (the store cannot be opened, the thread
 * not started), WD_ENOMEM. */
enum wd_status wd_sender_start(const struct wd_sender_opts *o, struct wd_sender **out,
                               struct wd_error *err) WD_MUST_USE;

/* Asks the thread to look at the outbox now (after a change committed).
 * Cheap, callable from any thread. NULL is a no-op. */
void wd_sender_wake(struct wd_sender *s);

/* A channel that started failing (its last delivery.failing_after attempts
 * all failed): raised once per failing spell, kept by the sender thread
 * until the daemon's loop takes it and writes the alert output. */
struct wd_sender_alert {
    enum wd_channel channel;
    unsigned consecutive; /* failed attempts in a row when it was raised */
    char last[64];        /* the last outcome: "HTTP 503", "no answer" */
};

/* Moves the alerts raised since the last call into out (at most cap, one
 * per channel: WD_CH__COUNT is always enough); returns how many. Callable
 * from any thread; NULL: 0. */
size_t wd_sender_take_alerts(struct wd_sender *s, struct wd_sender_alert *out, size_t cap);

/* Replaces the configuration (SIGHUP) for the next attempts. */
void wd_sender_set_config(struct wd_sender *s, const struct wd_notify_config *cfg);

/* Stops the thread (in-flight transfers are abandoned; their rows stay
 * pending, their leases released, and are resumed at once by the next
 * start) and frees s. NULL: no-op. */
void wd_sender_stop(struct wd_sender *s);

/* Appends the notification metrics in Prometheus text format:
 * warden_notifications_sent_total{channel}, warden_notifications_failed_total
 * {channel} (given up), warden_notification_attempts_failed_total{channel},
 * warden_notify_channel_failing{channel} (1 while failing); s NULL (no sender):
 * every channel at 0. */
enum wd_status wd_sender_metrics(struct wd_sender *s, struct wd_render_buf *out) WD_MUST_USE;

/* One synchronous pass for the CLI (offline `warden incident update`):
 * sends what is due now on the store s, waiting at most the configured
 * timeout per transfer; what fails stays queued (retried by a running
 * warden). *sent, *left (optional): delivered, still pending. */
enum wd_status wd_notify_flush(struct wd_store *s, const struct wd_notify_config *cfg,
                               size_t *sent, size_t *left, struct wd_error *err) WD_MUST_USE;

#endif /* WD_NOTIFY_NOTIFY_H */
