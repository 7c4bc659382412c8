/*
 * The engine: events in, decisions and requested effects out (SPEC sections
 * 3, 4, 5). It owns the name tables and the book, runs the pre-trade gate on
 * every intent, evaluates the PnL, drawdown and PSR kill-switches after
 * every equity change, keeps the trading state of every scope, and reports
 * everything it decides through an output callback: decisions, control
 * actions, incidents, state changes (which the caller must persist before
 * acting on the next event) and log lines in the playbook's wording.
 *
 * Pure: no I/O, no clock. The same events give the same outputs.
 */
#ifndef WD_CORE_ENGINE_H
#define WD_CORE_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "warden/book.h"
#include "warden/config.h"
#include "warden/decode.h"
#include "warden/event.h"
#include "warden/intern.h"
#include "warden/serial.h"
#include "warden/state.h"
#include "warden/status.h"
#include "warden/tz.h"

enum wd_out_type {
    WD_OUT_DECISION, /* accept / reject of an intent */
    WD_OUT_CONTROL,  /* halt, cancel_all, flatten, reduce_only, resume */
    WD_OUT_INCIDENT, /* an incident opened (or updated) */
    WD_OUT_ALERT,    /* a finding that does not open an incident */
    WD_OUT_STATE,    /* a scope's trading state changed: persist it */
    WD_OUT_LOG       /* a human log line */
};

enum wd_log_level { WD_LOG_DEBUG, WD_LOG_INFO, WD_LOG_WARN, WD_LOG_ERROR, WD_LOG_CRIT };

/* One output. Pointers are valid only during the callback. */
struct wd_output {
    enum wd_out_type type;
    uint64_t event_no; /* 1-based ordinal of the input event that caused it */
    int64_t ts_ns;     /* that event's time */
    union {
        struct {
            struct wd_str id;
            bool accept;
            const char *reason; /* "" on accept */
            const char *detail; /* human explanation, "" on accept */
        } decision;
        struct {
            const char *action; /* halt, cancel_all, flatten, reduce_only, resume */
            const char *scope;
            const char *reason;
            const char *incident; /* "" if none */
        } control;
        struct {
            const char *id, *severity, *scenario, *status, *title, *detail, *scope;
        } incident;
        struct {
            const char *scenario, *severity, *detail, *scope;
        } alert;
        struct {
            const struct wd_scope_state *state;
        } state;
        struct {
            enum wd_log_level level;
            const char *component;
            const char *message;
        } log;
    } u;
};

typedef void (*wd_emit_fn)(void *ctx, const struct wd_output *out);

/* HMAC-SHA256 verification, provided by an adapter (the core links no
 * crypto library): true when sig_hex (lowercase hex) is the HMAC of msg
 * under key. Must compare in constant time. */
typedef bool (*wd_hmac_verify_fn)(void *ctx, const uint8_t *key, size_t key_len,
                                  const char *msg, size_t msg_len, const char *sig_hex,
                                  size_t sig_len);

/* The last incident number used on local date `day` (days since the epoch),
 * 0 if none: incidents are numbered INC-YYYYMMDD-NNN from there. Provided
 * by the store adapter; NULL numbers every day from 1. */
typedef uint32_t (*wd_incident_seq_fn)(void *ctx, int64_t day);

/* Whether an incident of (scenario, scope) is still active (not resolved
 * or closed), and then its id in id_out: a finding that would open an
 * incident announces that one again instead (one incident per scenario and
 * scope). Provided by the store adapter; NULL: each opening numbers a new
 * incident. */
typedef bool (*wd_incident_active_fn)(void *ctx, const char *scenario, const char *scope,
                                      char id_out[WD_INCIDENT_ID_MAX]);

struct wd_engine_opts {
    const struct wd_config *cfg; /* borrowed; must outlive the engine */
    const struct wd_tz *tz;      /* borrowed; the session time zone */
    wd_emit_fn emit;
    void *emit_ctx;
    wd_hmac_verify_fn hmac_verify; /* required when a source has a key */
    void *hmac_ctx;
    wd_incident_seq_fn incident_seq;
    void *incident_seq_ctx;
    wd_incident_active_fn incident_active;
    void *incident_active_ctx;
    uint32_t max_open_orders;    /* 0: default 1,000,000 */
};

struct wd_engine;

enum wd_status wd_engine_new(const struct wd_engine_opts *opts, struct wd_engine **out,
                             struct wd_error *err) WD_MUST_USE;
void wd_engine_free(struct wd_engine *e);

/* The engine's name tables (for a decoder) and book (read-only use). */
struct wd_intern *wd_engine_symbols(struct wd_engine *e);
struct wd_intern *wd_engine_accounts(struct wd_engine *e);
const struct wd_book *wd_engine_book(const struct wd_engine *e);

/* The probabilistic Sharpe ratio the PSR kill-switch last computed for an
 * account (its id in wd_engine_accounts) or, with account UINT32_MAX, the
 * firm: in [0, 1]; NaN while undefined (no window yet, fewer than two
 * samples, no variance). */
double wd_engine_psr(const struct wd_engine *e, uint32_t account);

/* Processes one decoded event. Outputs go to the emit callback before this
 * returns. WD_OK even when the event was refused by the book (an output
 * log line says why); WD_ENOMEM / WD_EFULL on resource exhaustion. */
enum wd_status wd_engine_process(struct wd_engine *e, const struct wd_event *ev,
                                 uint64_t event_no, struct wd_error *err) WD_MUST_USE;

/* Lets time pass without an event (a daemon's wall clock): at now_ns the
 * time-based findings are looked at again — heartbeat timeouts and market
 * silence (P1-1), per-symbol staleness (P2-2), ramp-ups ending, PSR
 * samples due. Outputs carry the last event's event_no and now_ns. A
 * now_ns not past the last event's time changes nothing. */
enum wd_status wd_engine_tick(struct wd_engine *e, int64_t now_ns,
                              struct wd_error *err) WD_MUST_USE;

/* Sets a scope's state from outside the event stream: loaded from the store
 * at start, or ordered by a person (warden halt / resume). Emits no output.
 * WD_EINVAL for a malformed scope, WD_EFULL when too many scopes. */
enum wd_status wd_engine_set_state(struct wd_engine *e, const struct wd_scope_state *st,
                                   struct wd_error *err) WD_MUST_USE;

/* The current state of a scope (ACTIVE with empty fields if never set). */
void wd_engine_get_state(const struct wd_engine *e, const char *scope, struct wd_scope_state *out);

/* A number that changes whenever a scope's state changes (by an event, a
 * tick or wd_engine_set_state): a caller that copies the states elsewhere
 * (the Kafka handover) knows when to copy them again. */
uint64_t wd_engine_states_version(const struct wd_engine *e);

/* Every scope with a recorded state, in creation order. */
size_t wd_engine_state_count(const struct wd_engine *e);
const struct wd_scope_state *wd_engine_state_at(const struct wd_engine *e, size_t i);

/* A malformed input line (P2-2 data quality): counted, and reported as a
 * data_quality alert with the line number and reason; event_no and ts of
 * the alert are those of the last event processed. */
void wd_engine_report_malformed(struct wd_engine *e, uint64_t line, const char *reason);
uint64_t wd_engine_malformed_count(const struct wd_engine *e);

/* Whether an unauthorized fill (P0-3) built or grew position p, which
 * `warden flatten --filter unauthorized` then closes. */
bool wd_engine_position_unauthorized(const struct wd_engine *e, const struct wd_position *p);

/* Appends a snapshot of the engine's event-derived state to w: the book,
 * open orders, quotes, kill-switch edges and PSR windows. Trading states
 * are not included: the store keeps them, and they are set with
 * wd_engine_set_state. Per-second order-rate windows restart empty. */
void wd_engine_save(const struct wd_engine *e, struct wd_wbuf *w);

/* Restores a snapshot written by wd_engine_save into a new engine (before
 * any event). WD_EINVAL: not a valid snapshot; discard the engine then. */
enum wd_status wd_engine_load(struct wd_engine *e, const void *data, size_t len,
                              struct wd_error *err) WD_MUST_USE;

/* ---- account handover (Kafka scale-out, docs/KAFKA.md) ------------------------------
 *
 * When a partition moves from instance X to instance Y, X saves the state
 * of the partition's accounts and drops them, Y loads it: no fill lost or
 * counted twice. Rules in docs/internals/ENGINE.md, "Account handover". */

/* Which accounts: true for the account named `account` (NUL-terminated,
 * valid during the call). */
typedef bool (*wd_account_pred)(void *ctx, const char *account);

/* Appends the event-derived state of every account for which
 * want(ctx, name) is true (and that the engine knows, i.e. the book has it
 * present): its figures (capital, cash, realized, commission, mtm, gross,
 * cost, equity, day-open, peak, drawdowns), its positions (with their
 * open-order quantities and unauthorized marks), its open orders, its
 * kill-switch latches and PSR window, and the marks of the symbols it
 * holds. Stamped with the book's day. Trading states are not included (the
 * caller carries them); order-rate windows restart empty; the rejected-
 * intent ring has no account and is not moved. Names, not interned ids.
 * On allocation failure w->st becomes WD_ENOMEM. */
void wd_engine_save_accounts(const struct wd_engine *e, wd_account_pred want, void *ctx,
                             struct wd_wbuf *w);

/* Forgets those accounts as if they had never been seen: their figures
 * leave the firm's (the firm's peak loses the account's peak), their
 * positions are flat and zero (kept as tombstones: wd_book_position still
 * lists them, with an absent account), their open orders are gone (a
 * later fill or ack for one is one for an order the engine never saw),
 * their latches re-armed and PSR windows empty, their order-rate windows
 * empty. The firm's figures stay the sum of the remaining accounts; the
 * firm's own latches, PSR window and drawdown history stay. Their trading
 * states stay (the caller decides). wd_book_account gives NULL for them
 * until they appear again (an event, or a load). */
void wd_engine_drop_accounts(struct wd_engine *e, wd_account_pred want, void *ctx);

/* Loads accounts written by wd_engine_save_accounts (by this or another
 * engine with the same configuration): each replaces that account's state
 * here (as if dropped first), and the firm's figures take it in (peak:
 * plus the account's). Positions are valued at this engine's marks (a
 * symbol with none here takes the record's). Day: an engine with no day
 * yet or an earlier one rolls to the record's day first; an engine on a
 * later day sets the accounts' day-open to their equity at load (as if the
 * day had rolled). *n gets the number of accounts loaded. All or nothing:
 * WD_EINVAL for a malformed record (truncated, garbage, figures that do
 * not add up, an order id open here for another account), WD_ERANGE for
 * figures that would overflow here, WD_EFULL (too many positions, orders
 * or names) and WD_ENOMEM leave the engine's state unchanged (on WD_ENOMEM
 * its name tables and side tables may have grown). */
enum wd_status wd_engine_load_accounts(struct wd_engine *e, const void *data, size_t len,
                                       size_t *n, struct wd_error *err) WD_MUST_USE;

/* The notional of an account's open orders (sum of remaining qty x order
 * price, saturated at INT64_MAX): what max_gross_exposure counts besides
 * the positions. 0 for an unknown account. */
wd_fix wd_engine_open_notional(const struct wd_engine *e, uint32_t account);

/* Gate decision for one intent as a pure query (no state change): the
 * reason code, "" when it would be accepted. For benchmarks and tests. */
const char *wd_engine_check_intent(struct wd_engine *e, const struct wd_event *ev);

#endif /* WD_CORE_ENGINE_H */
