/*
 * The notifications as the CLI and the daemon use them (cli_notify.h):
 * attach the store's hook when a channel is configured, run the sender
 * thread in `warden run`, flush once after an offline change, and
 * `warden incident update`. The logic is in src/notify/; this is wiring.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/notify_cli.h"
#include "cli/outputs.h"
#include "warden/timeutil.h"

static bool enabled(const struct wd_config *cfg)
{
    return wd_notify_route_all(&cfg->notify) != 0;
}

static void log_line(void *ctx, const char *level, const char *line)
{
    char ts[40];
    (void)ctx;
    wd_time_format_utc(cli_wall_ns(), ts, sizeof ts);
    fprintf(stderr, "%s %s notify %s\n", ts, level, line);
}

void cli_notify_attach(struct cli_notify *n, struct wd_store *store, const struct wd_config *cfg,
                       const struct wd_tz *tz)
{
    memset(n, 0, sizeof *n);
    if (!enabled(cfg)) {
        return;
    }
    n->hook.cfg = &cfg->notify;
    n->hook.tz = tz;
    n->on = true;
    wd_notify_attach(store, &n->hook);
}

int cli_notify_start(struct cli_notify *n, const struct wd_config *cfg, const struct wd_tz *tz,
                     const char *db)
{
    struct wd_error err = {0};
    if (!n->on) {
        return CLI_OK;
    }
    const struct wd_sender_opts o = {.db_path = db != NULL ? db : cfg->store.path,
                                     .cfg = &cfg->notify,
                                     .tz = tz,
                                     .log = log_line,
                                     .reminders = true};
    if (wd_sender_start(&o, &n->sender, &err) != WD_OK) {
        cli_errorf("notifications: %s", err.msg);
        return CLI_FAIL;
    }
    return CLI_OK;
}

void cli_notify_poke(struct cli_notify *n)
{
    if (n->on && n->hook.queued) {
        n->hook.queued = 0;
        wd_sender_wake(n->sender);
    }
}

void cli_notify_reload(struct cli_notify *n, struct wd_store *store, const struct wd_config *cfg,
                       const struct wd_tz *tz)
{
    if (!n->on) {
        return;
    }
    n->hook.cfg = &cfg->notify;
    n->hook.tz = tz;
    wd_notify_attach(store, &n->hook);
    wd_sender_set_config(n->sender, &cfg->notify);
}

enum wd_status cli_notify_metrics(struct cli_notify *n, struct wd_render_buf *out)
{
    return wd_sender_metrics(n->sender, out); /* without a sender: every channel at 0 */
}

size_t cli_notify_alerts(struct cli_notify *n, struct cli_outputs *out, uint64_t event_no,
                         int64_t now_ns)
{
    struct wd_sender_alert a[WD_CH__COUNT];
    size_t k = wd_sender_take_alerts(n->sender, a, WD_CH__COUNT);
    for (size_t i = 0; i < k; i++) {
        char scope[40], detail[200];
        const char *ch = wd_channel_name(a[i].channel);
        snprintf(scope, sizeof scope, "notify:%s", ch);
        snprintf(detail, sizeof detail,
                 "Notification channel failing: %s, %u attempts in a row failed (last: %s)", ch,
                 a[i].consecutive, a[i].last);
        const struct wd_output o = {.type = WD_OUT_ALERT,
                                    .event_no = event_no,
                                    .ts_ns = now_ns,
                                    .u.alert = {.scenario = "notify_channel_failing",
                                                .severity = "P1",
                                                .detail = detail,
                                                .scope = scope}};
        cli_outputs_emit(out, &o);
    }
    return k;
}

void cli_notify_stop(struct cli_notify *n, struct wd_store *store)
{
    wd_sender_stop(n->sender);
    n->sender = NULL;
    if (n->on && store != NULL) {
        wd_notify_detach(store);
    }
    n->on = false;
}

void cli_notify_flush(struct cli_notify *n, struct wd_store *store, const struct wd_config *cfg)
{
    struct wd_error err = {0};
    size_t sent = 0, left = 0;
    if (!n->on || !n->hook.queued) {
        return;
    }
    n->hook.queued = 0;
    if (wd_notify_flush(store, &cfg->notify, &sent, &left, &err) != WD_OK) {
        fprintf(stderr, "warden: notifications queued, not sent now: %s\n", err.msg);
        return;
    }
    fprintf(stderr, "warden: notifications: %zu delivered, %zu still queued%s\n", sent, left,
            left > 0 ? " (a running warden retries them)" : "");
}

int cli_incident_update(struct cli_notify *n, struct wd_store *store, const struct wd_config *cfg,
                        const struct wd_tz *tz, const char *id, const char *message,
                        const char *who, int64_t now)
{
    struct wd_error err = {0};
    size_t queued = 0;
    if (wd_notify_status_update(store, &cfg->notify, tz, id, message, who, now, &queued, &err) !=
        WD_OK) {
        cli_errorf("incident update %s: %s", id, err.msg);
        return err.status == WD_EIO || err.status == WD_ENOMEM ? CLI_FAIL : CLI_FAIL;
    }
    printf("%s: status update posted, %zu notification%s queued\n", id, queued,
           queued == 1 ? "" : "s");
    if (queued > 0) {
        n->hook.queued = 1;
        cli_notify_flush(n, store, cfg);
    }
    return CLI_OK;
}
