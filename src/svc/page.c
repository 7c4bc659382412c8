/*
 * The one place a page leaves warden (svc/oncall.h). Escalations and
 * `warden oncall test-page` decide who is paged and record it; this
 * function hands each page to the sender. It must not send by itself:
 * delivery (channels, retries, the outbox) is the notifier's.
 */
#include "svc/oncall.h"

enum wd_status wd_svc_page(struct wd_store *s, const struct wd_page *p, struct wd_error *err)
{
    (void)s;
    (void)p;
    (void)err;
    /* MERGE POINT (issue 8, notifier): enqueue p into the notify outbox
     * here, in the caller's transaction, with p->to->channel and
     * p->to->to as the recipient and p->text as the message. Until then
     * the page is only recorded by the caller (escalations row and the
     * incident's timeline, or the chain_tests row). */
    return WD_OK;
}
