/*
 * The CLI driving a running warden (issue 6, point 5): with --url URL, or
 * WARDEN_URL, and WARDEN_TOKEN, status, halt, resume, incident ...,
 * positions, pnl, drawdown, oncall and silence ... (issue 8) send the API request (docs/API.md) instead
 * of opening the store, and print the answer: the offline table where the
 * JSON allows it, the API's JSON with --json. Each command asks
 * cli_remote_url after parsing its options and, when it answers a URL,
 * hands its options here.
 *
 * Exit codes: 0 a 2xx; 1 an API error (its message printed; 401/403 with a
 * hint about WARDEN_TOKEN) or no answer; 2 usage (an offline-only option).
 */
#ifndef WD_CLI_REMOTE_H
#define WD_CLI_REMOTE_H

#include <stdbool.h>

/* The daemon's base URL: url_opt (--url), else $WARDEN_URL; NULL (an empty
 * value too) when neither is given: the command works offline. */
const char *cli_remote_url(const char *url_opt);

/* An option that only makes sense offline: CLI_USAGE with a message when
 * it was given (value non-NULL), else CLI_OK. */
int cli_remote_offline_only(const char *cmd, const char *opt, const char *value);

/* GET status. */
int cli_remote_status(const char *url, bool json);

/* POST halt. */
int cli_remote_halt(const char *url, const char *scope, const char *reason, bool reduce_only,
                    bool json);

/* POST resume: an approval of role (risk_officer, cto) for scope. */
int cli_remote_resume(const char *url, const char *scope, const char *role, const char *reason,
                      bool json);

/* `incident SUB ARGS...` over the API: list, show, ack, assign, status,
 * note, check, approve, resolve. */
struct cli_remote_incident {
    const char *sub;
    char **args;
    int nargs;
    const char *role, *reason, *pnl;
    bool undo, all, json;
    const char *message; /* update --message */
};
int cli_remote_incident(const char *url, const struct cli_remote_incident *r);

/* GET oncall: who is on call now and next, the chain, the checklist. */
int cli_remote_oncall(const char *url, bool json);

/* `silence SUB ...` over the API: add (POST silences), list (GET
 * silences[?all=1]), remove ID (POST silences/ID/remove). */
struct cli_remote_silence {
    const char *sub;
    char **args;
    int nargs;
    const char *scenario, *scope, *until, *reason;
    bool all, json;
};
int cli_remote_silence(const char *url, const struct cli_remote_silence *r);

/* GET positions | pnl | drawdown (what): the running engine's figures,
 * printed as the daemon's JSON document (with or without --json). */
int cli_remote_live(const char *url, const char *what);

#endif /* WD_CLI_REMOTE_H */
