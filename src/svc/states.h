/*
 * Trading-state actions (the service layer, see svc.h): halt a scope,
 * record an approval to resume it (resuming when the playbook's approvals
 * are all given and the halting incident's recovery criteria are ticked),
 * and what resuming a scope still needs. Who and when are arguments.
 */
#ifndef WD_SVC_STATES_H
#define WD_SVC_STATES_H

#include <stdbool.h>
#include <stdint.h>

#include "svc/svc.h"
#include "warden/incident.h"
#include "warden/state.h"

struct wd_store;

/* Sets scope (as wd_scope_parse accepts) HALTED, or REDUCE_ONLY with
 * reduce_only, by who at now_ns for reason (required), scenario "manual".
 * *out (optional) receives the state written. WD_SVC_INVALID: a bad scope
 * or an empty reason. */
enum wd_svc_code wd_svc_halt(struct wd_store *store, const char *scope, bool reduce_only,
                             const char *reason, const char *who, int64_t now_ns,
                             struct wd_scope_state *out, struct wd_svc_result *res);

/* What wd_svc_resume did. */
struct wd_svc_resume {
    enum wd_role role;      /* the approval recorded */
    bool resumed;           /* the scope went RAMP_UP */
    bool criteria_blocked;  /* approvals complete, but the incident's
                               recovery criteria are not all ticked */
    unsigned still_needed;  /* approvals (enum wd_role mask) still missing */
    char incident[WD_INCIDENT_ID_MAX]; /* the halting incident, or "" */
    int first_unticked;     /* criteria_blocked: its first unticked criterion
                               (0-based) */
    char first_text[WD_TEXT_MAX];
};

/* Records who's approval (role "risk_officer" or "cto") to resume scope,
 * for reason, at now_ns; when the approvals the playbook requires for the
 * scope's halt are all recorded since it halted, and the halting
 * incident's recovery criteria are met, sets the scope RAMP_UP. One
 * transaction. WD_SVC_INVALID: a bad scope, role, or empty reason;
 * WD_SVC_REFUSED: the scope is not halted, or role is not one its resume
 * needs. */
enum wd_svc_code wd_svc_resume(struct wd_store *store, const char *scope, const char *role,
                               const char *reason, const char *who, int64_t now_ns,
                               struct wd_svc_resume *out, struct wd_svc_result *res);

/* "risk_officer", "cto", "risk_officer + cto" or "" for a mask of roles. */
void wd_svc_roles_text(unsigned mask, char *buf, size_t cap);

/* For a HALTED or REDUCE_ONLY scope: the approvals still needed (need,
 * wd_svc_roles_text) and those given since it halted ("who (role), ...");
 * both "" otherwise. */
enum wd_svc_code wd_svc_scope_approvals(struct wd_store *store, const struct wd_scope_state *st,
                                        char *need, size_t need_cap, char *have,
                                        size_t have_cap, struct wd_svc_result *res);

#endif /* WD_SVC_STATES_H */
