/*
 * The service layer shared by the CLI and the API (issue 6): the actions a
 * person takes on incidents and trading states, each one call that loads
 * what it needs from the store, runs the pure core (include/warden/), and
 * saves the result with its timeline entry in one transaction, or refuses
 * and says why. It prints nothing and reads no clock: who acts and when
 * are arguments, so that the CLI (--as, --at) and the API (the token's
 * name, the daemon's now) drive the same code.
 */
#ifndef WD_SVC_SVC_H
#define WD_SVC_SVC_H

#include "warden/status.h"

/* How an action ended; the API maps each to one HTTP status. */
enum wd_svc_code {
    WD_SVC_OK = 0,
    WD_SVC_INVALID,   /* an argument is malformed (400) */
    WD_SVC_NOT_FOUND, /* no such incident (404) */
    WD_SVC_REFUSED,   /* the lifecycle or the playbook refuses it now (409) */
    WD_SVC_STORE,     /* the store failed (500) */
    WD_SVC_FORBIDDEN  /* the acting role may not do this (403) */
};

/* Caller-owned outcome: code and, unless WD_SVC_OK, one sentence. */
struct wd_svc_result {
    enum wd_svc_code code;
    char msg[640]; /* room for a timeline entry's text (512) and a prefix */
};

/* Internal: records code and the formatted message in res (if non-NULL)
 * and returns code. */
enum wd_svc_code wd__svc_set(struct wd_svc_result *res, enum wd_svc_code code, const char *fmt,
                             ...) WD_PRINTF(3, 4);

#endif /* WD_SVC_SVC_H */
