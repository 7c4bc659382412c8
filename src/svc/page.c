/*
 * The one place a page leaves warden (svc/oncall.h). Escalations and
 * `warden oncall test-page` decide who is paged and record it; this
 * function hands each page to the notifier attached to the store
 * (wd_notify_page: an outbox row in the caller's transaction, sent by the
 * notifier's sender). It does not send by itself.
 */
#include <stdio.h>

#include "notify/notify.h"
#include "store/store.h"
#include "svc/oncall.h"

enum wd_status wd_svc_page(struct wd_store *s, const struct wd_page *p, struct wd_error *err)
{
    struct wd_incident inc;
    bool found = false;
    if (p->incident[0] != '\0') {
        enum wd_status st = wd_store_incident_load(s, p->incident, &inc, &found, err);
        if (st != WD_OK) {
            return st;
        }
        if (!found) {
            return wd_error_set(err, WD_EINVAL, "page: no incident %s", p->incident);
        }
    }
    return wd_notify_page(s, found ? &inc : NULL, p->to->channel, p->to->to, p->text,
                          p->now_ns, NULL, err);
}
