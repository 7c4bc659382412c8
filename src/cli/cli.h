/*
 * Shared pieces of the warden CLI: option parsing helpers, and the offline
 * session that streams an event file through the decoder and the book
 * (reporting malformed lines on stderr), used by positions / pnl / drawdown.
 */
#ifndef WD_CLI_CLI_H
#define WD_CLI_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "warden/book.h"
#include "warden/config.h"
#include "warden/decode.h"
#include "warden/intern.h"
#include "warden/tz.h"

/* Exit codes: 0 ok, 1 a runtime failure (unreadable input, ...), 2 usage. */
enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2 };

#define CLI_MAX_SYMBOLS 1000000u
#define CLI_MAX_ACCOUNTS 100000u
#define CLI_MAX_MALFORMED_SHOWN 100u

struct cli_session {
    struct wd_config cfg;
    struct wd_tz *tz;
    struct wd_intern symbols, accounts;
    struct wd_decoder *dec;
    struct wd_book *book;
    const char *source_name;
    int64_t cutoff_ns;   /* events at or after this are ignored (INT64_MAX: none) */
    uint64_t events;     /* valid events applied */
    uint64_t malformed;  /* lines skipped */
    uint64_t ignored;    /* events after the cutoff */
    bool progress;       /* draw a progress bar on stderr */
    uint64_t progress_total;
    int progress_last;
};

/* Initialises cfg with the defaults and overlays the YAML file at path
 * (NULL: defaults only). Prints every problem; CLI_USAGE if invalid. */
int cli_config_load(struct wd_config *cfg, const char *path);

/* Loads the session time zone of cfg. */
int cli_tz_load(const struct wd_config *cfg, struct wd_tz **tz);

/* Loads the configuration (path may be NULL: defaults), the session time
 * zone, and creates the name tables, decoder and book. Prints the problem
 * on stderr and returns CLI_FAIL / CLI_USAGE on error. */
int cli_session_open(struct cli_session *s, const char *config_path);

/* Streams events from path ("-": stdin) through the book. */
int cli_session_run(struct cli_session *s, const char *path);

void cli_session_close(struct cli_session *s);

/* Ensures the account that unqualified events go to exists, so that a
 * session with no account-bearing event still reports its capital. */
void cli_session_ensure_default_account(struct cli_session *s);

struct wd_store;

/* Opens the store at db, or cfg->store.path when db is NULL. */
int cli_open_store(const struct wd_config *cfg, const char *db, struct wd_store **out);

struct wd_engine;

/* Sets every trading state recorded in the store on the engine. */
int cli_load_states(struct wd_store *store, struct wd_engine *engine);

/* Formats money with thousands separators and 2 decimals for tables. */
void cli_fmt_money(wd_fix v, char *buf, size_t cap);

/* Prints "warden: msg" on stderr. */
void cli_errorf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* WD_CLI_CLI_H */
