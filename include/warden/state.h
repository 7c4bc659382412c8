/*
 * Trading states and their scopes (SPEC section 5), as plain data.
 *
 * A scope is the whole firm, one account, or one strategy (an intent's
 * `source`), written "firm", "account:NAME" or "strategy:NAME". Each scope is
 * ACTIVE, HALTED, REDUCE_ONLY or RAMP_UP; an intent is subject to the firm's,
 * its account's and its strategy's states at once. Resuming a halted scope
 * needs the approvals the playbook names for the scenario that halted it.
 * Pure: no I/O; time is given.
 */
#ifndef WD_CORE_STATE_H
#define WD_CORE_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "warden/status.h"

enum wd_scope_kind { WD_SCOPE_FIRM = 0, WD_SCOPE_ACCOUNT, WD_SCOPE_STRATEGY };

/* Ordered by restriction: a higher value is more restrictive. */
enum wd_tstate { WD_TS_ACTIVE = 0, WD_TS_RAMP_UP, WD_TS_REDUCE_ONLY, WD_TS_HALTED };

#define WD_SCOPE_MAX 80 /* "strategy:" + a 64-byte name + NUL, rounded */
#define WD_TEXT_MAX 192
#define WD_WHO_MAX 64
#define WD_SCENARIO_MAX 32
#define WD_INCIDENT_ID_MAX 24 /* "INC-YYYYMMDD-NNNN" */

struct wd_scope_state {
    char scope[WD_SCOPE_MAX];          /* "firm", "account:NAME", "strategy:NAME" */
    enum wd_tstate state;
    int64_t since_ns;                  /* when it entered this state */
    char reason[WD_TEXT_MAX];          /* why (playbook wording for kills) */
    char by[WD_WHO_MAX];               /* "warden" when automatic, else a person */
    char scenario[WD_SCENARIO_MAX];    /* what halted it: kill_pnl, ..., manual */
    char incident[WD_INCIDENT_ID_MAX]; /* the incident that halted it, or "" */
    int64_t ramp_until_ns;             /* RAMP_UP: end of ramp-up; 0 until the
                                          first event after the resume */
};

/* "ACTIVE", "HALTED", "REDUCE_ONLY", "RAMP_UP"; static. */
const char *wd_tstate_name(enum wd_tstate s);

/* Parses a state name (case-sensitive, as printed). */
enum wd_status wd_tstate_parse(const char *s, enum wd_tstate *out) WD_MUST_USE;

/* Checks and normalises a scope string: "firm", "account:NAME",
 * "strategy:NAME" (NAME 1..64 bytes, printable, no spaces). On success
 * *kind is set and *name points into s (NULL for the firm). */
enum wd_status wd_scope_parse(const char *s, enum wd_scope_kind *kind, const char **name,
                              struct wd_error *err) WD_MUST_USE;

/* Roles in approvals. */
enum wd_role { WD_ROLE_RISK_OFFICER = 1u << 0, WD_ROLE_CTO = 1u << 1 };

/* "risk_officer", "cto"; parse accepts the same. */
const char *wd_role_name(enum wd_role r);
enum wd_status wd_role_parse(const char *s, enum wd_role *out) WD_MUST_USE;

/* The approvals (a mask of enum wd_role) the playbook requires to resume a
 * scope halted for `scenario`: Risk Officer, and Risk Officer + CTO after a
 * drawdown kill (P0-2). */
unsigned wd_resume_required_roles(const char *scenario);

#endif /* WD_CORE_STATE_H */
