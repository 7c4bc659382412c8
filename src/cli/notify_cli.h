/*
 * Notifications in the CLI (issue 8): the wiring of src/notify/ into
 * `warden run` (the sender thread, a wake-up after each change, metrics,
 * reload) and into the offline `warden incident` commands (queue in the
 * change's transaction, then one synchronous send). With no channel
 * configured every function is a no-op.
 */
#ifndef WD_CLI_NOTIFY_CLI_H
#define WD_CLI_NOTIFY_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include "notify/notify.h"
#include "warden/config.h"

struct wd_store;
struct cli_outputs;

struct cli_notify {
    struct wd_notify_hook hook;
    struct wd_sender *sender; /* warden run only */
    bool on;                  /* a channel is configured: the hook is attached */
};

/* Attaches the store's hook when cfg configures a channel (cfg and tz must
 * outlive the attachment). */
void cli_notify_attach(struct cli_notify *n, struct wd_store *store, const struct wd_config *cfg,
                       const struct wd_tz *tz);

/* warden run: starts the sender on its own connection to the store at db
 * (NULL: cfg->store.path). CLI_FAIL said on stderr. */
int cli_notify_start(struct cli_notify *n, const struct wd_config *cfg, const struct wd_tz *tz,
                     const char *db);

/* After a change committed: wakes the sender if something was queued. */
void cli_notify_poke(struct cli_notify *n);

/* After a reload: the new configuration's channels and secrets. */
void cli_notify_reload(struct cli_notify *n, struct wd_store *store, const struct wd_config *cfg,
                       const struct wd_tz *tz);

/* Appends the notification metrics (every channel at 0 without a sender). */
enum wd_status cli_notify_metrics(struct cli_notify *n, struct wd_render_buf *out) WD_MUST_USE;

/* warden run's loop, at each tick: writes an `alert` output (SPEC section
 * 3: scenario notify_channel_failing, severity P1, scope notify:CHANNEL,
 * detail) for each channel the sender found failing since the last call,
 * with event_no and ts as given (the last event's ordinal, now). Returns
 * how many were written. */
size_t cli_notify_alerts(struct cli_notify *n, struct cli_outputs *out, uint64_t event_no,
                         int64_t now_ns);

/* Stops the sender, detaches the hook. */
void cli_notify_stop(struct cli_notify *n, struct wd_store *store);

/* Offline: sends what the last change queued, once; says the outcome on
 * stderr. */
void cli_notify_flush(struct cli_notify *n, struct wd_store *store, const struct wd_config *cfg);

/* `warden incident update ID [--message M]`. */
int cli_incident_update(struct cli_notify *n, struct wd_store *store, const struct wd_config *cfg,
                        const struct wd_tz *tz, const char *id, const char *message,
                        const char *who, int64_t now);

#endif /* WD_CLI_NOTIFY_CLI_H */
