/*
 * Trading-state names, scope strings and the resume-approval policy of the
 * playbook (see include/warden/state.h). Pure.
 */
#include <string.h>

#include "warden/intern.h"
#include "warden/state.h"

static const char *const state_names[] = {"ACTIVE", "RAMP_UP", "REDUCE_ONLY", "HALTED"};

const char *wd_tstate_name(enum wd_tstate s)
{
    return (unsigned)s < sizeof state_names / sizeof state_names[0] ? state_names[s] : "?";
}

enum wd_status wd_tstate_parse(const char *s, enum wd_tstate *out)
{
    for (unsigned i = 0; i < sizeof state_names / sizeof state_names[0]; i++) {
        if (strcmp(s, state_names[i]) == 0) {
            *out = (enum wd_tstate)i;
            return WD_OK;
        }
    }
    return WD_EINVAL;
}

enum wd_status wd_scope_parse(const char *s, enum wd_scope_kind *kind, const char **name,
                              struct wd_error *err)
{
    static const struct {
        const char *prefix;
        enum wd_scope_kind kind;
    } kinds[] = {{"account:", WD_SCOPE_ACCOUNT}, {"strategy:", WD_SCOPE_STRATEGY}};
    if (strcmp(s, "firm") == 0) {
        *kind = WD_SCOPE_FIRM;
        *name = NULL;
        return WD_OK;
    }
    for (unsigned i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        size_t pl = strlen(kinds[i].prefix);
        if (strncmp(s, kinds[i].prefix, pl) != 0) {
            continue;
        }
        const char *n = s + pl;
        size_t len = strlen(n);
        if (len == 0 || len > WD_INTERN_NAME_MAX) {
            return wd_error_set(err, WD_EINVAL, "scope '%s': the name must be 1 to %d bytes", s,
                                WD_INTERN_NAME_MAX);
        }
        for (size_t k = 0; k < len; k++) {
            unsigned char c = (unsigned char)n[k];
            if (c <= 0x20 || c == 0x7f || c == '"' || c == '\\') {
                return wd_error_set(err, WD_EINVAL,
                                    "scope '%s': the name has a blank, quote or control character",
                                    s);
            }
        }
        *kind = kinds[i].kind;
        *name = n;
        return WD_OK;
    }
    return wd_error_set(err, WD_EINVAL,
                        "scope '%s': expected firm, account:NAME or strategy:NAME", s);
}

const char *wd_role_name(enum wd_role r)
{
    switch (r) {
    case WD_ROLE_RISK_OFFICER: return "risk_officer";
    case WD_ROLE_CTO: return "cto";
    }
    return "?";
}

enum wd_status wd_role_parse(const char *s, enum wd_role *out)
{
    if (strcmp(s, "risk_officer") == 0) {
        *out = WD_ROLE_RISK_OFFICER;
    } else if (strcmp(s, "cto") == 0) {
        *out = WD_ROLE_CTO;
    } else {
        return WD_EINVAL;
    }
    return WD_OK;
}

unsigned wd_resume_required_roles(const char *scenario)
{
    /* Playbook P0-2: "Approval from Risk Officer + CTO" after a drawdown
     * kill; every other halt: "DO NOT RESTART without Risk Officer
     * approval". */
    if (strcmp(scenario, "kill_drawdown") == 0) {
        return WD_ROLE_RISK_OFFICER | WD_ROLE_CTO;
    }
    return WD_ROLE_RISK_OFFICER;
}
