/*
 * The book: positions, cash, PnL, equity, daily PnL and drawdown, per
 * account and for the firm (SPEC section 4).
 *
 * Exact fixed-point throughout (fixed.h). Each position keeps its signed
 * quantity and its cost basis (the money paid for the open quantity); the
 * average cost is cost / qty. Reducing a position realizes
 * -(notional) - (cost * closed / qty); the same amounts move cash, so
 *     cash   = capital + realized - sum(cost)
 *     equity = cash + sum(round(qty * mark)) = capital + realized + unrealized
 * hold exactly after every event (docs/internals/BOOK.md).
 *
 * Pure: time comes from event timestamps, the session time zone is given;
 * no I/O. Memory grows only when a new account, symbol or position appears,
 * up to the configured bounds.
 */
#ifndef WD_CORE_BOOK_H
#define WD_CORE_BOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "warden/event.h"
#include "warden/fixed.h"
#include "warden/intern.h"
#include "warden/serial.h"
#include "warden/status.h"
#include "warden/tz.h"

/* Figures of one account, or of the firm (the sums over accounts, with its
 * own peak and drawdown history). */
struct wd_figures {
    wd_fix capital;    /* starting capital */
    wd_fix cash;       /* capital + realized - open cost */
    wd_fix realized;   /* realized PnL, net of commission */
    wd_fix commission; /* total commission paid */
    wd_fix mtm;        /* sum of round(qty * mark) over open positions */
    wd_fix gross;      /* sum of |round(qty * mark)|: gross position exposure */
    wd_fix cost;       /* sum of cost basis over open positions */
    wd_fix equity;     /* cash + mtm */
    wd_fix day_open;   /* equity before the first event of the current day */
    wd_fix peak;       /* high-water mark, from the starting capital */
    double drawdown;     /* (peak - equity) / peak */
    double max_drawdown; /* largest drawdown seen */
    uint64_t version;    /* bumped whenever any figure above changes (not saved) */
};

/* unrealized = mtm - cost; total = realized + unrealized. */
static inline wd_fix wd_figures_unrealized(const struct wd_figures *f) { return f->mtm - f->cost; }

/* (equity - day_open) / day_open; 0 when day_open <= 0. */
double wd_figures_pnl_ratio(const struct wd_figures *f);

struct wd_position {
    uint32_t account, symbol; /* interned ids */
    wd_fix qty;               /* signed: > 0 long, < 0 short */
    wd_fix cost;              /* signed cost basis of the open quantity */
    wd_fix mtm;               /* round(qty * mark) at the last revaluation */
    wd_fix realized;          /* realized on this position, net of commission */
    uint32_t next_holder;     /* internal: next position in the same symbol */
};

/* Average cost (price units) of a position; 0 when flat. */
wd_fix wd_position_avg_cost(const struct wd_position *p);

/* A configured starting capital for one named account. */
struct wd_account_capital {
    const char *name; /* borrowed for the duration of wd_book_new */
    wd_fix capital;
};

struct wd_book_config {
    wd_fix default_capital;                     /* for accounts not listed */
    const struct wd_account_capital *accounts; /* listed accounts, created up front */
    size_t n_accounts;
    const struct wd_tz *tz;                     /* borrowed; session time zone */
    uint32_t max_positions;                     /* 0: default (1,000,000) */
};

struct wd_book;

/* symbols and accounts are the name tables the decoder interns into;
 * borrowed, they must outlive the book, as must cfg->tz. */
enum wd_status wd_book_new(const struct wd_book_config *cfg, struct wd_intern *symbols,
                           struct wd_intern *accounts, struct wd_book **out,
                           struct wd_error *err) WD_MUST_USE;
void wd_book_free(struct wd_book *b);

/* Applies one decoded event: day boundary, then fills move positions and
 * cash, quotes / trades / fills move marks and equity, the first `account`
 * event before any fill sets that account's starting capital. Intents,
 * acks, bars, heartbeats and metrics change nothing here but the day.
 * WD_ERANGE: the event would overflow a figure; WD_EFULL: too many
 * positions. On any error the event is as if absent: figures, day and
 * accounts and positions are as they were (the name tables may have
 * grown). */
enum wd_status wd_book_apply(struct wd_book *b, const struct wd_event *ev,
                             struct wd_error *err) WD_MUST_USE;

/* Creates account id (with its starting capital) if the book has not seen
 * it yet; a no-op otherwise. */
enum wd_status wd_book_open_account(struct wd_book *b, uint32_t account) WD_MUST_USE;

const struct wd_figures *wd_book_firm(const struct wd_book *b);

/* Figures of account id, or NULL if the book has not seen that account
 * (accounts appear through configuration, fills, intents, acks and
 * account events; market data belongs to no account). */
const struct wd_figures *wd_book_account(const struct wd_book *b, uint32_t account);

/* Number of account ids the book can be asked about (some may be NULL). */
uint32_t wd_book_account_slots(const struct wd_book *b);

/* A counter that moves whenever any account's or the firm's figures may
 * have changed (their `version`s): equal values mean no figure moved in
 * between. */
uint64_t wd_book_changes(const struct wd_book *b);

/* Positions in creation order, including flat ones (qty == 0) and the
 * zero tombstones of dropped accounts (whose account is then absent). */
size_t wd_book_position_count(const struct wd_book *b);
const struct wd_position *wd_book_position(const struct wd_book *b, size_t i);

/* The position of (account, symbol), or NULL if there has never been one. */
const struct wd_position *wd_book_find_position(const struct wd_book *b, uint32_t account,
                                                uint32_t symbol);

/* The index of position p (from wd_book_find_position / wd_book_position):
 * stable for the book's life, positions are never removed. */
uint32_t wd_book_position_index(const struct wd_book *b, const struct wd_position *p);

/* Current mark of symbol (quote mid, else last trade, else last fill);
 * false when the symbol has none. */
bool wd_book_mark(const struct wd_book *b, uint32_t symbol, wd_fix *mark);

/* Local day (days since epoch, session time zone) of the latest event;
 * INT64_MIN before the first event. */
int64_t wd_book_day(const struct wd_book *b);

/* Timestamp of the latest event applied (ns); 0 before the first. */
int64_t wd_book_last_ts(const struct wd_book *b);

/* Events applied so far. */
uint64_t wd_book_events(const struct wd_book *b);

/* Appends the book's state (figures, positions, marks, day) to w. Names
 * are written as strings, so a snapshot does not depend on interned ids.
 * The tombstones of dropped accounts are not written. */
void wd_book_save(const struct wd_book *b, struct wd_wbuf *w);

/* Replaces the book's state with one written by wd_book_save, interning
 * its names. Accounts listed in the configuration but absent from the
 * snapshot are opened afresh. WD_EINVAL: not a valid snapshot; the book is
 * then in an unspecified state and must be discarded. */
enum wd_status wd_book_load(struct wd_book *b, struct wd_rbuf *r,
                            struct wd_error *err) WD_MUST_USE;

/* ---- account handover (wd_engine_save_accounts / _drop_accounts / _load_accounts) ----
 *
 * Rules (docs/internals/ENGINE.md, "Account handover"): a dropped account
 * is absent (wd_book_account gives NULL) and its positions stay as zero
 * tombstones (qty, cost, mtm, realized all 0), reused if it comes back;
 * the firm's level figures lose the account's, and the firm's peak loses
 * the account's peak (raised to the firm's equity if that would put it
 * below). A load adds them back the same way. */

/* Appends the book part of an account record: this book's day, then the
 * figures of the present accounts with want[id] (want has
 * wd_book_account_slots entries), all their positions (flat ones too) and
 * the marks of the symbols they hold. Names, not ids. On allocation
 * failure w->st becomes WD_ENOMEM. */
void wd_book_save_accounts(const struct wd_book *b, const bool *want, struct wd_wbuf *w);

/* Forgets account id as if never seen (see above). A no-op if absent. */
void wd_book_drop_account(struct wd_book *b, uint32_t account);

struct wd_book_record_sums;

/* What checking the book part of an account record found: its names in
 * scratch tables (the ids are the record's own), its day. Caller-owned. */
struct wd_book_record {
    struct wd_intern accounts, symbols; /* the record's names, in record order */
    struct wd_intern positions;         /* "account:symbol" by record ids */
    int64_t day, day_start_ns, day_end_ns;
    uint32_t new_positions;             /* positions this book would have to create */
    struct wd_book_record_sums *sums;   /* internal, by record account id */
};

enum wd_status wd_book_record_init(struct wd_book_record *rec) WD_MUST_USE;
void wd_book_record_destroy(struct wd_book_record *rec);

/* Reads and checks the book part of an account record at r, changing
 * nothing in b: WD_EINVAL (malformed: bad names, repeats, figures that do
 * not hold the book's identities or do not add up to their positions, a
 * bad day), WD_ERANGE (a figure would overflow here), WD_EFULL (more
 * positions or names than allowed), WD_ENOMEM. */
enum wd_status wd_book_check_accounts(const struct wd_book *b, struct wd_rbuf *r,
                                      struct wd_book_record *rec,
                                      struct wd_error *err) WD_MUST_USE;

/* Interns the checked record's names and makes room for its positions:
 * WD_ENOMEM (or WD_EFULL) leaves the figures, accounts and positions as
 * they were (the name tables may have grown). */
enum wd_status wd_book_reserve_accounts(struct wd_book *b,
                                        const struct wd_book_record *rec) WD_MUST_USE;

/* Loads the checked and reserved book part at r (the same bytes the check
 * read): each account replaces this book's state for it; positions are
 * revalued at this book's marks (a symbol it has no mark for takes the
 * record's); the day rule: a book with no day or an earlier one first
 * rolls to the record's day, a book on a later day sets the accounts'
 * day-open to their equity now. Cannot fail. */
void wd_book_load_accounts(struct wd_book *b, struct wd_rbuf *r, const struct wd_book_record *rec);

#endif /* WD_CORE_BOOK_H */
