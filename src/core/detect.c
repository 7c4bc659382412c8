/*
 * Detector building blocks (see include/warden/detect.h). Pure, event-time
 * driven, no allocation after init.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "warden/detect.h"
#include "warden/timeutil.h"

enum wd_hyst_step wd_hyst_update(struct wd_hyst *h, double value, double open, double close,
                                 int64_t ts_ns)
{
    if (!h->open && value > open) {
        h->open = true;
        h->since_ns = ts_ns;
        return WD_HYST_OPENED;
    }
    if (h->open && value < close) {
        h->open = false;
        h->since_ns = ts_ns;
        return WD_HYST_CLOSED;
    }
    return WD_HYST_SAME;
}

enum wd_status wd_reject_init(struct wd_reject_window *w, uint32_t window_orders, int64_t window_s)
{
    memset(w, 0, sizeof *w);
    if (window_orders == 0 || window_s <= 0 || window_s > INT64_MAX / WD_NS_PER_S) {
        return WD_EINVAL;
    }
    w->cap = window_orders;
    w->window_ns = window_s * WD_NS_PER_S;
    w->ts = calloc(window_orders, sizeof *w->ts);
    w->reason = calloc(window_orders, sizeof *w->reason);
    if (w->ts == NULL || w->reason == NULL) {
        wd_reject_destroy(w);
        return WD_ENOMEM;
    }
    snprintf(w->reasons[WD_REJECT_REASONS].text, sizeof w->reasons[0].text, "other");
    return WD_OK;
}

void wd_reject_destroy(struct wd_reject_window *w)
{
    free(w->ts);
    free(w->reason);
    w->ts = NULL;
    w->reason = NULL;
}

static void drop_oldest(struct wd_reject_window *w)
{
    uint8_t r = w->reason[w->head];
    if (r != 0) {
        w->rejected--;
        w->reasons[r - 1u].count--;
    }
    w->head = (w->head + 1u) % w->cap;
    w->count--;
}

void wd_reject_expire(struct wd_reject_window *w, int64_t now_ns)
{
    while (w->count > 0 && w->ts[w->head] < now_ns - w->window_ns) {
        drop_oldest(w);
    }
}

/* The index of a reason (folded into "other" past the table). */
static uint8_t reason_index(struct wd_reject_window *w, struct wd_str reason)
{
    size_t n = reason.len > WD_REJECT_REASON_MAX ? WD_REJECT_REASON_MAX : reason.len;
    const char *p = reason.len > 0 ? reason.ptr : "(no reason)";
    if (reason.len == 0) {
        n = strlen(p);
    }
    for (uint32_t i = 0; i < w->n_reasons; i++) {
        if (strlen(w->reasons[i].text) == n && memcmp(w->reasons[i].text, p, n) == 0) {
            return (uint8_t)i;
        }
    }
    /* Reuse a slot no rejection in the window refers to any more. */
    for (uint32_t i = 0; i < w->n_reasons; i++) {
        if (w->reasons[i].count == 0) {
            memcpy(w->reasons[i].text, p, n);
            w->reasons[i].text[n] = '\0';
            return (uint8_t)i;
        }
    }
    if (w->n_reasons < WD_REJECT_REASONS) {
        uint32_t i = w->n_reasons++;
        memcpy(w->reasons[i].text, p, n);
        w->reasons[i].text[n] = '\0';
        return (uint8_t)i;
    }
    return WD_REJECT_REASONS;
}

void wd_reject_add(struct wd_reject_window *w, int64_t ts_ns, bool rejected, struct wd_str reason)
{
    wd_reject_expire(w, ts_ns);
    if (w->count == w->cap) {
        drop_oldest(w);
    }
    uint32_t slot = (w->head + w->count) % w->cap;
    uint8_t r = 0;
    if (rejected) {
        uint8_t idx = reason_index(w, reason);
        w->reasons[idx].count++;
        w->rejected++;
        r = (uint8_t)(idx + 1u);
    }
    w->ts[slot] = ts_ns;
    w->reason[slot] = r;
    w->count++;
}

double wd_reject_ratio(const struct wd_reject_window *w)
{
    return w->count == 0 ? 0.0 : (double)w->rejected / (double)w->count;
}

void wd_reject_top(const struct wd_reject_window *w, unsigned k, char *buf, size_t cap)
{
    bool used[WD_REJECT_REASONS + 1] = {false};
    size_t len = 0;
    buf[0] = '\0';
    for (unsigned n = 0; n < k; n++) {
        int best = -1;
        for (uint32_t i = 0; i <= WD_REJECT_REASONS; i++) {
            if (!used[i] && w->reasons[i].count > 0 &&
                (best < 0 || w->reasons[i].count > w->reasons[best].count)) {
                best = (int)i;
            }
        }
        if (best < 0) {
            break;
        }
        used[best] = true;
        int wrote = snprintf(buf + len, cap - len, "%s%u %s", len ? ", " : "",
                             w->reasons[best].count, w->reasons[best].text);
        if (wrote < 0 || (size_t)wrote >= cap - len) {
            break;
        }
        len += (size_t)wrote;
    }
}
