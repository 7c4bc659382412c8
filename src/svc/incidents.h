/*
 * Incident actions (the service layer, see svc.h): open, and every change
 * a responder makes to a record (ack, assign, status, note, check,
 * approve, action add/done, resolve, close). Each loads the record, makes
 * one pure lifecycle call (include/warden/incident.h) and saves the record
 * with its timeline entry in one store transaction, so the change is in
 * the audit chain under `who`. Nothing is printed; the incident log file
 * is the caller's (the CLI writes it, the daemon will too).
 */
#ifndef WD_SVC_INCIDENTS_H
#define WD_SVC_INCIDENTS_H

#include <stdbool.h>
#include <stdint.h>

#include "svc/svc.h"
#include "warden/fixed.h"
#include "warden/incident.h"
#include "warden/tz.h"

struct wd_store;

/* The highest incident number used on local day `day` (days since the
 * epoch): the store's INC-YYYYMMDD-NNN sequence for that date. */
enum wd_status wd_svc_incident_seq(struct wd_store *s, int64_t day, uint32_t *seq,
                                   struct wd_error *err) WD_MUST_USE;

enum wd_svc_inc_op {
    WD_SVC_INC_ACK = 0,
    WD_SVC_INC_RESOLVE,
    WD_SVC_INC_CLOSE,
    WD_SVC_INC_STATUS,      /* status */
    WD_SVC_INC_NOTE,        /* text */
    WD_SVC_INC_ASSIGN,      /* role (an incident role), name; undo releases */
    WD_SVC_INC_CHECK,       /* index (0-based); undo unticks */
    WD_SVC_INC_APPROVE,     /* role (risk_officer or cto), reason */
    WD_SVC_INC_ACTION_ADD,  /* text, owner, due_ns (0: none) */
    WD_SVC_INC_ACTION_DONE  /* index (0-based); undo reopens */
};

/* One change; strings are borrowed for the call. */
struct wd_svc_inc_change {
    enum wd_svc_inc_op op;
    const char *status;
    const char *text;
    const char *role;
    const char *name;
    const char *reason;
    const char *owner;
    int64_t due_ns;
    uint32_t index;
    bool undo;
    bool with_pnl; /* resolve: record pnl as the day's PnL at resolution */
    wd_fix pnl;
};

/* Applies ch to incident id as who at now_ns. On WD_SVC_OK *out (optional)
 * is the saved record and *entry (optional) the change's timeline entry.
 * Otherwise nothing is saved and res says why: WD_SVC_NOT_FOUND (no such
 * incident), WD_SVC_INVALID (a bad argument: status, role, index, text),
 * WD_SVC_REFUSED (the lifecycle's message, e.g. a refused transition),
 * WD_SVC_STORE. */
enum wd_svc_code wd_svc_incident_change(struct wd_store *store, const char *id,
                                        const struct wd_svc_inc_change *ch, const char *who,
                                        int64_t now_ns, struct wd_incident *out,
                                        struct wd_timeline_entry *entry,
                                        struct wd_svc_result *res);

/* What a person opens an incident with; strings borrowed. */
struct wd_svc_inc_open {
    const char *scenario; /* required */
    const char *scope;    /* NULL: "firm" */
    const char *severity; /* NULL: the scenario's default */
    const char *title;    /* required */
    const char *detail;   /* optional */
};

/* Opens an incident numbered INC-<local date of now_ns in tz>-NNN, one per
 * (scenario, scope) while it is not resolved: WD_SVC_REFUSED with the
 * active one's id in *existing (WD_INCIDENT_ID_MAX bytes, optional) then. */
enum wd_svc_code wd_svc_incident_open(struct wd_store *store, const struct wd_tz *tz,
                                      const struct wd_svc_inc_open *o, const char *who,
                                      int64_t now_ns, struct wd_incident *out,
                                      struct wd_timeline_entry *entry, char *existing,
                                      struct wd_svc_result *res);

/* Called with each incident a tick changed, after its commit: the saved
 * record and its new entries (oldest first). */
typedef void (*wd_svc_tick_fn)(void *ctx, const struct wd_incident *inc,
                               const struct wd_timeline_entry *entries, size_t n);

/* Lets wall-clock time pass on every active incident (wd_incident_tick):
 * the acknowledgement and resolution deadlines passed and the escalations
 * reached by now_ns go on its timeline, by "warden", each incident saved
 * with its entries in one transaction, once per deadline (the record keeps
 * which were announced). fn (optional) hears of each incident changed. On
 * a store failure the incidents already saved stay saved, the one being
 * saved is rolled back, and res says why. */
enum wd_svc_code wd_svc_incidents_tick(struct wd_store *store, int64_t now_ns, wd_svc_tick_fn fn,
                                       void *ctx, struct wd_svc_result *res);

#endif /* WD_SVC_INCIDENTS_H */
