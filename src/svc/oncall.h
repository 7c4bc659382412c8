/*
 * On-call services (issue 8, points 5 to 7), shared by the CLI, the API and
 * the daemon's tick: escalating open incidents down the configured chain,
 * testing the chain, and silences. Each loads what it needs from the store,
 * asks the pure core (include/warden/oncall.h) who and when, and records
 * the outcome (escalations, chain tests, silences, timeline entries) in one
 * transaction. It prints nothing and reads no clock.
 *
 * Every page leaves warden through wd_svc_page (src/svc/page.c), the one
 * place to connect to the notifier's outbox.
 */
#ifndef WD_SVC_ONCALL_H
#define WD_SVC_ONCALL_H

#include <stdbool.h>
#include <stdint.h>

#include "store/store.h"
#include "svc/svc.h"
#include "warden/config.h"
#include "warden/oncall.h"
#include "warden/tz.h"

/* One page to one contact. Strings borrowed for the call. */
struct wd_page {
    const char *incident;           /* "" for a test page */
    const char *scenario, *scope;   /* the incident's ("" for a test) */
    enum wd_severity severity;
    uint32_t level;                 /* 1-based level of the chain */
    const char *level_name;
    const struct wd_contact *to;    /* who, on which channel, at which address */
    const char *text;               /* one human sentence */
    int64_t now_ns;                 /* when it is paged */
};

/* Hands one page to the notifier attached to the store (wd_notify_page:
 * queued in the caller's transaction, a silence holding it back). The
 * caller has recorded the page (escalation row and timeline entry, or
 * chain test row); a store without a notifier queues nothing. */
enum wd_status wd_svc_page(struct wd_store *s, const struct wd_page *p,
                           struct wd_error *err) WD_MUST_USE;

/* Escalates incident id at now_ns: every level from the highest recorded
 * (0 none) up to wd_escalation_target's is recorded once (escalations row
 * + an `escalation` timeline entry naming the level, the rule and who is
 * paged), and paged through wd_svc_page unless a silence holds the
 * incident's notifications back (the entry then names the silence).
 * *paged (optional) receives the number of levels newly reached. A
 * resolved or closed incident is left alone. */
enum wd_svc_code wd_svc_escalate(struct wd_store *s, const struct wd_oncall_config *c,
                                 const struct wd_tz *tz, const char *id, int64_t now_ns,
                                 uint32_t *paged, struct wd_svc_result *res);

/* wd_svc_escalate for every active incident: the daemon's tick. */
enum wd_svc_code wd_svc_escalate_all(struct wd_store *s, const struct wd_oncall_config *c,
                                     const struct wd_tz *tz, int64_t now_ns, uint32_t *paged,
                                     struct wd_svc_result *res);

/* Pages every level of the chain with a test message, each to whoever of
 * it is within hours now, and records the test (chain_tests) as who.
 * summary (cap bytes) receives "L1 On-Call: alice sms:+1555...; L2 ...". */
enum wd_svc_code wd_svc_test_page(struct wd_store *s, const struct wd_oncall_config *c,
                                  const struct wd_tz *tz, const char *who, int64_t now_ns,
                                  char *summary, size_t cap, struct wd_svc_result *res);

/* Who is on call at at_ns and the playbook's handoff checklist, as
 * `warden oncall` and GET /api/v1/oncall show it (docs/ONCALL.md). */
struct wd_svc_oncall_status {
    int64_t at_ns;
    const char *tz;                 /* the on-call zone's name (borrowed from the config) */
    struct wd_oncall_shift now, next; /* borrowed from the config */
    struct wd_incident *open;       /* from malloc: the active incidents */
    size_t n_open;
    struct wd_scope_state *states;  /* from malloc: every stored trading state */
    size_t n_states;
    bool audit_intact;
    bool tested, tested_this_week;  /* the alerting chain: ever, since this shift began */
    struct wd_chain_test last_test; /* when tested */
};

/* Fills *out for cfg (its oncall section and tokens) at at_ns, the zone tz
 * being oncall.tz's (or the session's). WD_SVC_STORE on a store failure
 * (nothing to free then); otherwise free with wd_svc_oncall_status_destroy. */
enum wd_svc_code wd_svc_oncall_status(struct wd_store *s, const struct wd_config *cfg,
                                      const struct wd_tz *tz, int64_t at_ns,
                                      struct wd_svc_oncall_status *out,
                                      struct wd_svc_result *res);
void wd_svc_oncall_status_destroy(struct wd_svc_oncall_status *st);

/* The contacts of level l (0-based) of the chain as they stand in shift:
 * a rotation level's are the primary's, then the secondary's; another's
 * its configured ones. Up to cap into out (borrowed from c); the count. */
size_t wd_svc_level_contacts(const struct wd_oncall_config *c, uint32_t l,
                             const struct wd_oncall_shift *shift,
                             const struct wd_contact **out, size_t cap);

/* The API token configured for name, or NULL ("verify access" in the
 * handoff checklist). */
const struct wd_config_token *wd_svc_token_of(const struct wd_config *cfg, const char *name);

/* A silence's end as `silence add --until` and POST /api/v1/silences take
 * it: RFC 3339; a date YYYY-MM-DD (the end of that local day in tz); or
 * +N followed by m, h or d, from now_ns. WD_SVC_INVALID with what is
 * expected in res->msg otherwise. */
enum wd_svc_code wd_svc_silence_until(const char *s, const struct wd_tz *tz, int64_t now_ns,
                                      int64_t *until_ns, struct wd_svc_result *res);

/* Adds a silence of scenario (in scope; NULL or "" every scope) from now
 * until until_ns, as who with role (NULL: none declared). A scenario whose
 * severity is P0 needs role risk_officer or admin: WD_SVC_FORBIDDEN
 * otherwise. Each active incident it matches gets a note on its timeline.
 * *out (optional) the stored silence. */
enum wd_svc_code wd_svc_silence_add(struct wd_store *s, const char *scenario, const char *scope,
                                    int64_t until_ns, const char *reason, const char *who,
                                    const char *role, int64_t now_ns, struct wd_silence *out,
                                    struct wd_svc_result *res);

/* Ends silence id now (same role rule as adding it), noted on the matching
 * active incidents' timelines. WD_SVC_NOT_FOUND, WD_SVC_REFUSED (already
 * removed), WD_SVC_FORBIDDEN (the role). */
enum wd_svc_code wd_svc_silence_remove(struct wd_store *s, int64_t id, const char *who,
                                       const char *role, int64_t now_ns,
                                       struct wd_svc_result *res);

#endif /* WD_SVC_ONCALL_H */
