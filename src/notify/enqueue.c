/*
 * Queueing notifications into the outbox (notify.h), always inside a store
 * transaction: the one of the incident change that caused them (through
 * the timeline hook) or their own. Sends nothing; sender.c does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "notify/notify.h"
#include "store/outbox.h"
#include "store/store.h"

/* Whether a silence or maintenance window (`warden silence add`,
 * docs/ONCALL.md) holds back notifications of this incident now: the one
 * place the outbox asks. A notification without an incident (a test page)
 * is never held. */
static enum wd_status silenced(struct wd_store *s, const struct wd_incident *inc, int64_t now_ns,
                               bool *held, struct wd_error *err)
{
    struct wd_silence sl;
    *held = false;
    if (inc == NULL) {
        return WD_OK;
    }
    return wd_store_silence_active(s, wd_scenario_name(inc->scenario), inc->scope, now_ns, &sl,
                                   held, err);
}

/* The playbook's template for kind (Communication Templates), or a line. */
static enum wd_status default_text(const struct wd_incident *inc, enum wd_notify_kind kind,
                                   const struct wd_tz *tz, int64_t now_ns,
                                   struct wd_render_buf *out)
{
    if (inc == NULL) {
        return wd_render_buf_putf(out, "This is a test notification from warden.");
    }
    switch (kind) {
    case WD_NK_OPENED: return wd_render_msg_initial(inc, NULL, 0, now_ns, tz, out);
    case WD_NK_UPDATE: return wd_render_msg_update(inc, NULL, 0, now_ns, tz, out);
    case WD_NK_RESOLVED:
        if (wd_render_msg_resolution(inc, NULL, 0, now_ns, tz, out) == WD_OK) {
            return WD_OK;
        }
        wd_render_buf_reset(out);
        break;
    default: break;
    }
    return wd_render_buf_putf(out, "%s %s is %s: %s", wd_severity_name(inc->severity), inc->id,
                              wd_inc_status_name(inc->status), inc->title);
}

static void copy(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src != NULL ? src : "");
}

enum wd_status wd_notify_enqueue(struct wd_store *s, const struct wd_notify_config *cfg,
                                 const struct wd_tz *tz, const struct wd_incident *inc,
                                 enum wd_notify_kind kind, const struct wd_notify_target *target,
                                 const char *text, int64_t now_ns, size_t *queued,
                                 struct wd_error *err)
{
    struct wd_render_buf body;
    struct wd_outbox_row *row = NULL;
    struct wd_timeline_entry e;
    enum wd_severity sev = inc != NULL ? inc->severity : WD_P3;
    wd_channel_mask mask = target != NULL && target->mask != 0
                               ? (wd_channel_mask)(target->mask & wd_notify_route_all(cfg))
                               : wd_notify_route(cfg, sev);
    size_t n = 0;
    bool held = false;
    char list[96] = "";
    enum wd_status st;

    if (queued != NULL) {
        *queued = 0;
    }
    if ((st = silenced(s, inc, now_ns, &held, err)) != WD_OK) {
        return st;
    }
    wd_render_buf_init(&body, WD_NOTIFY_TEXT_MAX - 1);
    if ((row = calloc(1, sizeof *row)) == NULL) {
        return wd_error_set(err, WD_ENOMEM, "notify: out of memory");
    }
    st = text != NULL ? wd_render_buf_putf(&body, "%s", text)
                      : default_text(inc, kind, tz, now_ns, &body);
    if (st == WD_EFULL) {
        st = WD_OK; /* a long message is cut to the row's bound */
    }
    if (st != WD_OK) {
        wd_error_set(err, st, "notify: cannot render the %s message", wd_notify_kind_name(kind));
        goto out;
    }
    if (inc != NULL) {
        copy(row->incident, sizeof row->incident, inc->id);
        copy(row->scenario, sizeof row->scenario, wd_scenario_name(inc->scenario));
        copy(row->scope, sizeof row->scope, inc->scope);
        copy(row->status, sizeof row->status, wd_inc_status_name(inc->status));
        copy(row->title, sizeof row->title, inc->title);
    } else {
        copy(row->title, sizeof row->title, "test page");
    }
    copy(row->text, sizeof row->text, body.data);
    row->kind = kind;
    row->severity = sev;
    row->created_ns = now_ns;
    row->next_ns = now_ns;
    if ((st = wd_store_begin(s, err)) != WD_OK) {
        goto out;
    }
    for (unsigned ch = 0; ch < WD_CH__COUNT && st == WD_OK; ch++) {
        if (!(mask & (1u << ch)) || !wd_notify_channel_takes((enum wd_channel)ch, kind)) {
            continue;
        }
        row->channel = (enum wd_channel)ch;
        size_t k = strlen(list);
        snprintf(list + k, sizeof list - k, "%s%s", k ? ", " : "", wd_channel_name(row->channel));
        bool own_to = target != NULL && target->n_to > 0;
        size_t n_rcpt = ch == WD_CH_SMS ? (own_to ? target->n_to : cfg->sms.n_to)
                        : ch == WD_CH_EMAIL && own_to ? target->n_to
                                                      : 1;
        for (size_t i = 0; i < n_rcpt && st == WD_OK; i++) {
            const char *to = ch == WD_CH_SMS ? (own_to ? target->to[i] : cfg->sms.to[i])
                             : ch == WD_CH_EMAIL && own_to ? target->to[i]
                                                           : "";
            copy(row->recipient, sizeof row->recipient, to);
            st = wd_store_outbox_add(s, row, held, NULL, err);
            n++;
        }
    }
    if (st == WD_OK && inc != NULL && n > 0) {
        memset(&e, 0, sizeof e);
        e.ts_ns = now_ns;
        e.kind = WD_TL_NOTIFY;
        copy(e.incident, sizeof e.incident, inc->id);
        copy(e.who, sizeof e.who, "warden");
        copy(e.from, sizeof e.from, wd_notify_kind_name(kind));
        copy(e.to, sizeof e.to, held ? "held" : "queued");
        snprintf(e.text, sizeof e.text, "%s notification %s: %s%s",
                 wd_notify_kind_name(kind), held ? "held back by a silence" : "queued", list,
                 held ? " (not sent)" : "");
        st = wd_store_timeline_append(s, &e, err);
    }
    if (st != WD_OK) {
        wd_store_rollback(s);
        goto out;
    }
    st = wd_store_commit(s, err);
    if (st == WD_OK && queued != NULL) {
        *queued = held ? 0 : n;
    }
out:
    free(row);
    wd_render_buf_destroy(&body);
    return st;
}

bool wd_notify_kind_of_entry(const struct wd_timeline_entry *e, enum wd_notify_kind *out)
{
    switch (e->kind) {
    case WD_TL_OPENED: *out = WD_NK_OPENED; return true;
    case WD_TL_STATUS:
        if (strcmp(e->to, "acknowledged") == 0) {
            *out = WD_NK_ACKNOWLEDGED;
            return true;
        }
        if (strcmp(e->to, "resolved") == 0) {
            *out = WD_NK_RESOLVED;
            return true;
        }
        return false;
    case WD_TL_SEVERITY:
    case WD_TL_ESCALATION: *out = WD_NK_ESCALATED; return true;
    default: return false;
    }
}

static enum wd_status on_timeline(void *ctx, struct wd_store *s, const struct wd_timeline_entry *e,
                                  struct wd_error *err)
{
    struct wd_notify_hook *h = ctx;
    enum wd_notify_kind kind;
    struct wd_incident *inc;
    bool found = false;
    size_t n = 0;
    if (!wd_notify_kind_of_entry(e, &kind)) {
        return WD_OK;
    }
    if ((inc = malloc(sizeof *inc)) == NULL) {
        return wd_error_set(err, WD_ENOMEM, "notify: out of memory");
    }
    enum wd_status st = wd_store_incident_load(s, e->incident, inc, &found, err);
    if (st == WD_OK && found) {
        st = wd_notify_enqueue(s, h->cfg, h->tz, inc, kind, NULL,
                               kind == WD_NK_OPENED || kind == WD_NK_RESOLVED ? NULL : e->text,
                               e->ts_ns, &n, err);
    }
    free(inc);
    if (st == WD_OK && n > 0) {
        h->queued = 1;
    }
    return st;
}

void wd_notify_attach(struct wd_store *s, struct wd_notify_hook *h)
{
    wd_store_set_timeline_hook(s, on_timeline, h);
}

enum wd_status wd_notify_page(struct wd_store *s, const struct wd_incident *inc,
                              const char *channel, const char *to, const char *text,
                              int64_t now_ns, size_t *queued, struct wd_error *err)
{
    struct wd_notify_hook *h = wd_store_timeline_hook_ctx(s, on_timeline);
    enum wd_channel ch;
    size_t n = 0;
    if (queued != NULL) {
        *queued = 0;
    }
    if (h == NULL) {
        return WD_OK; /* no notifier on this store: the caller's record is all */
    }
    if (wd_channel_parse(channel, strlen(channel), &ch) != WD_OK) {
        return wd_error_set(err, WD_EINVAL, "page: '%s' is not a notification channel", channel);
    }
    const char *const list[1] = {to};
    const struct wd_notify_target target = {(wd_channel_mask)(1u << ch), list, 1};
    enum wd_status st = wd_notify_enqueue(s, h->cfg, h->tz, inc,
                                          inc != NULL ? WD_NK_ESCALATED : WD_NK_TEST, &target,
                                          text, now_ns, &n, err);
    if (st == WD_OK && n != 0) {
        h->queued = 1; /* wake the sender (the daemon) or flush (the CLI) */
    }
    if (queued != NULL) {
        *queued = n;
    }
    return st;
}

void wd_notify_detach(struct wd_store *s)
{
    wd_store_set_timeline_hook(s, NULL, NULL);
}

enum wd_status wd_notify_status_update(struct wd_store *s, const struct wd_notify_config *cfg,
                                       const struct wd_tz *tz, const char *id,
                                       const char *message, const char *who, int64_t now_ns,
                                       size_t *queued, struct wd_error *err)
{
    struct wd_incident *inc = malloc(sizeof *inc);
    struct wd_timeline_entry e;
    struct wd_render_buf msg;
    bool found = false;
    char note[WD_TIMELINE_TEXT_MAX];
    enum wd_status st;
    if (inc == NULL) {
        return wd_error_set(err, WD_ENOMEM, "notify: out of memory");
    }
    wd_render_buf_init(&msg, WD_NOTIFY_TEXT_MAX - 1);
    if ((st = wd_store_incident_load(s, id, inc, &found, err)) != WD_OK) {
        goto out;
    }
    if (!found) {
        st = wd_error_set(err, WD_ENOTFOUND, "incident %s: no such incident", id);
        goto out;
    }
    snprintf(note, sizeof note, "status update posted%s%s", message ? ": " : "",
             message ? message : "");
    if ((st = wd_store_begin(s, err)) != WD_OK) {
        goto out;
    }
    st = wd_incident_note(inc, WD_TL_NOTE, note, who, now_ns, &e, err);
    if (st == WD_OK) {
        st = wd_render_msg_update(inc, NULL, 0, now_ns, tz, &msg);
        if (st == WD_OK && message != NULL) {
            st = wd_render_buf_putf(&msg, "\nUpdate from %s: %s\n", who, message);
        }
        if (st == WD_EFULL) {
            st = WD_OK;
        }
        if (st != WD_OK) {
            wd_error_set(err, st, "notify: cannot render the status update");
        }
    }
    if (st == WD_OK) {
        st = wd_store_incident_save(s, inc, who, err);
    }
    if (st == WD_OK) {
        st = wd_store_timeline_append(s, &e, err);
    }
    if (st == WD_OK) {
        st = wd_notify_enqueue(s, cfg, tz, inc, WD_NK_UPDATE, NULL, msg.data, now_ns, queued,
                               err);
    }
    if (st != WD_OK) {
        wd_store_rollback(s);
        goto out;
    }
    st = wd_store_commit(s, err);
out:
    wd_render_buf_destroy(&msg);
    free(inc);
    return st;
}

/* An entry that queued (or held, or with no channel, was) an `update` or
 * a `reminder`: not a delivery outcome, whose `to` is the row's state. */
static bool queued_as(const struct wd_timeline_entry *e, const char *kind)
{
    return e->kind == WD_TL_NOTIFY && strcmp(e->from, kind) == 0 &&
           (strcmp(e->to, "queued") == 0 || strcmp(e->to, "held") == 0 || e->to[0] == '\0');
}

/* The reminders' cadence of inc: *anchor its opening or the last status
 * update queued; *last the last reminder queued since (0: none). */
static enum wd_status last_update(struct wd_store *s, const struct wd_incident *inc,
                                  int64_t *anchor, int64_t *last, struct wd_error *err)
{
    struct wd_timeline_entry *tl = NULL;
    size_t n = 0;
    enum wd_status st = wd_store_timeline_list(s, inc->id, &tl, &n, err);
    *anchor = inc->opened_ns;
    *last = 0;
    for (size_t i = 0; st == WD_OK && i < n; i++) {
        if (queued_as(&tl[i], "update") && tl[i].ts_ns > *anchor) {
            *anchor = tl[i].ts_ns;
        }
    }
    for (size_t i = 0; st == WD_OK && i < n; i++) {
        if (queued_as(&tl[i], "reminder") && tl[i].ts_ns >= *anchor && tl[i].ts_ns > *last) {
            *last = tl[i].ts_ns;
        }
    }
    free(tl);
    return st;
}

enum wd_status wd_notify_reminders(struct wd_store *s, const struct wd_notify_config *cfg,
                                   const struct wd_tz *tz, int64_t now_ns, size_t *n,
                                   struct wd_error *err)
{
    struct wd_incident *list = NULL;
    size_t count = 0, done = 0;
    enum wd_status st = wd_store_incident_list_records(s, true, &list, &count, err);
    for (size_t i = 0; st == WD_OK && i < count; i++) {
        const struct wd_incident *inc = &list[i];
        int64_t every = cfg->update_every_s[inc->severity] * 1000000000LL, anchor = 0, last = 0;
        if (every <= 0) {
            continue;
        }
        if ((st = last_update(s, inc, &anchor, &last, err)) != WD_OK) {
            break;
        }
        if (!wd_notify_reminder_due(anchor, every, last, now_ns)) {
            continue;
        }
        if (last < anchor) {
            last = anchor;
        }
        char text[WD_TIMELINE_TEXT_MAX];
        snprintf(text, sizeof text,
                 "The next status update for %s (%s) is due: post it with `warden incident "
                 "update %s --message ...`; the last one went out %lld min ago.",
                 inc->id, wd_severity_name(inc->severity), inc->id,
                 (long long)((now_ns - last) / 60000000000LL));
        size_t q = 0;
        if ((st = wd_store_begin(s, err)) != WD_OK) {
            break;
        }
        st = wd_notify_enqueue(s, cfg, tz, inc, WD_NK_REMINDER, NULL, text, now_ns, &q, err);
        if (st == WD_OK && q == 0) {
            /* No channel takes it: the timeline entry is the reminder (and
             * restarts the cadence). */
            struct wd_timeline_entry e;
            memset(&e, 0, sizeof e);
            e.ts_ns = now_ns;
            e.kind = WD_TL_NOTIFY;
            copy(e.incident, sizeof e.incident, inc->id);
            copy(e.who, sizeof e.who, "warden");
            copy(e.from, sizeof e.from, "reminder");
            copy(e.text, sizeof e.text, text);
            st = wd_store_timeline_append(s, &e, err);
        }
        if (st != WD_OK) {
            wd_store_rollback(s);
            break;
        }
        if ((st = wd_store_commit(s, err)) == WD_OK) {
            done++;
        }
    }
    free(list);
    if (n != NULL) {
        *n = done;
    }
    return st;
}
