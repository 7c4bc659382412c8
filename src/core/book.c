/*
 * The book (see include/warden/book.h for the contract and the identities
 * it keeps).
 *
 * Layout: accounts and symbols are dense arrays indexed by interned id;
 * positions live in one array, found by an open-addressing hash on
 * (account, symbol), and chained per symbol so that a new mark revalues
 * exactly the positions that hold it. Every change is computed in 128-bit
 * locals and range-checked before anything is stored, so an event that
 * would overflow leaves the book as it was. Pure: no I/O, no clock.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "warden/book.h"
#include "warden/timeutil.h"

#include "util.h"

#define DEFAULT_MAX_POSITIONS 1000000u
#define NO_POS UINT32_MAX

enum { HAS_QUOTE = 1, HAS_TRADE = 2, HAS_FILL = 4 };

struct sym_state {
    wd_fix mid, trade, fill;
    uint32_t flags;
    uint32_t holders; /* first position in this symbol, NO_POS if none */
};

struct acct_state {
    struct wd_figures f;
    bool present;
    bool had_fill;
    bool saw_account_event;
};

struct wd_book {
    wd_fix default_capital;
    const struct wd_tz *tz;
    uint32_t max_positions;
    struct wd_intern *symbols, *accounts; /* borrowed */

    struct acct_state *accts; /* by account id */
    uint32_t n_accts;
    wd_fix *saved_day_open;   /* by account id: day-open before the last roll */
    uint32_t n_saved;
    wd_fix *cfg_capital;      /* by account id: configured capital, or -1 */
    struct sym_state *syms;   /* by symbol id */
    uint32_t n_syms;

    struct wd_position *pos;
    uint32_t n_pos, cap_pos;
    uint32_t *pos_slots; /* position index + 1, 0 = empty */
    uint32_t pos_mask;

    struct wd_figures firm;
    int64_t day, day_start_ns, day_end_ns;
    uint32_t created_account; /* WD_NO_ID, or the account the current event created */
    bool created_position;    /* the current event created the last position */
    int64_t last_ts;
    uint64_t events;
    uint64_t changes; /* bumped with every figures' version: see wd_book_changes */
};

static bool fits(wd_i128 v) { return v <= INT64_MAX && v >= INT64_MIN; }

/* round(a * b / SCALE), half away from zero, in 128 bits. */
/* round(a * b / SCALE), half away from zero, exact. Splitting both
 * magnitudes at 10^8 (x = xh * 10^8 + xl) leaves only a 64-bit division by
 * the constant 10^8 (which compiles to a multiply), instead of a 128-bit
 * division call on every revaluation:
 *   a * b / 10^8 = ah*bh*10^8 + ah*bl + al*bh + al*bl / 10^8. */
static wd_i128 mul_round(wd_fix a, wd_fix b)
{
    const uint64_t S = (uint64_t)WD_FIX_SCALE;
    uint64_t ua = a < 0 ? (uint64_t)0 - (uint64_t)a : (uint64_t)a;
    uint64_t ub = b < 0 ? (uint64_t)0 - (uint64_t)b : (uint64_t)b;
    uint64_t ah = ua / S, al = ua % S, bh = ub / S, bl = ub % S;
    uint64_t low = al * bl; /* < 10^16 */
    wd_u128 q = (wd_u128)ah * bh * S + (wd_u128)ah * bl + (wd_u128)al * bh + low / S;
    if ((low % S) * 2u >= S) {
        q += 1u;
    }
    wd_i128 v = (wd_i128)q;
    return (a < 0) != (b < 0) ? -v : v;
}

double wd_figures_pnl_ratio(const struct wd_figures *f)
{
    if (f->day_open <= 0) {
        return 0.0;
    }
    return (double)((wd_i128)f->equity - f->day_open) / (double)f->day_open;
}

wd_fix wd_position_avg_cost(const struct wd_position *p)
{
    int64_t avg = 0;
    if (p->qty == 0 || wd_fix_muldiv(p->cost, WD_FIX_SCALE, p->qty, &avg) != WD_OK) {
        return 0;
    }
    return avg;
}

/* Recomputes equity, peak and drawdown after cash or mtm moved. */
static void refresh(struct wd_book *b, struct wd_figures *f)
{
    b->changes++;
    f->version++;
    f->equity = f->cash + f->mtm; /* range-checked by the caller */
    if (f->equity > f->peak) {
        f->peak = f->equity;
    }
    int64_t gap;
    if (f->peak <= 0) {
        f->drawdown = 0.0;
    } else if (!__builtin_sub_overflow(f->peak, f->equity, &gap)) {
        f->drawdown = (double)gap / (double)f->peak;
    } else {
        f->drawdown = (double)((wd_i128)f->peak - f->equity) / (double)f->peak;
    }
    if (f->drawdown > f->max_drawdown) {
        f->max_drawdown = f->drawdown;
    }
}

static void figures_init(struct wd_figures *f, wd_fix capital)
{
    memset(f, 0, sizeof *f);
    f->capital = f->cash = f->equity = f->day_open = f->peak = capital;
}

/* Whether figures_shift(f, delta) stays in range. */
static bool shift_fits(const struct wd_figures *f, wd_fix delta)
{
    return fits((wd_i128)f->capital + delta) && fits((wd_i128)f->cash + delta) &&
           fits((wd_i128)f->day_open + delta) && fits((wd_i128)f->peak + delta) &&
           fits((wd_i128)f->cash + delta + f->mtm);
}

/* Shifts every level figure by delta (a new account's capital joining the
 * firm, or an account's starting capital set by its first account event).
 * The caller checked shift_fits. */
static void figures_shift(struct wd_book *b, struct wd_figures *f, wd_fix delta)
{
    f->capital += delta;
    f->cash += delta;
    f->day_open += delta;
    f->peak += delta;
    refresh(b, f);
}

static enum wd_status ensure_symbol(struct wd_book *b, uint32_t sym)
{
    uint32_t old = b->n_syms;
    enum wd_status st = wd__array_grow((void **)&b->syms, &b->n_syms, sym + 1u, sizeof *b->syms);
    for (uint32_t i = old; st == WD_OK && i < b->n_syms; i++) {
        b->syms[i].holders = NO_POS;
    }
    return st;
}

static enum wd_status ensure_account_slot(struct wd_book *b, uint32_t acct)
{
    uint32_t old = b->n_accts, n2 = b->n_accts;
    enum wd_status st = wd__array_grow((void **)&b->accts, &b->n_accts, acct + 1u, sizeof *b->accts);
    if (st != WD_OK) {
        return st;
    }
    st = wd__array_grow((void **)&b->cfg_capital, &n2, b->n_accts, sizeof *b->cfg_capital);
    if (st != WD_OK) {
        return st;
    }
    for (uint32_t i = old; i < n2; i++) {
        b->cfg_capital[i] = -1;
    }
    return WD_OK;
}

/* The account's state, created (with its starting capital joining the
 * firm's figures) on first sight; b->created_account records a creation so
 * that a refused event can undo it. */
static enum wd_status get_account(struct wd_book *b, uint32_t id, struct acct_state **out)
{
    enum wd_status st = ensure_account_slot(b, id);
    if (st != WD_OK) {
        return st;
    }
    struct acct_state *a = &b->accts[id];
    if (!a->present) {
        b->created_account = id;
        wd_fix cap = b->cfg_capital[id] >= 0 ? b->cfg_capital[id] : b->default_capital;
        if (!shift_fits(&b->firm, cap)) {
            return WD_ERANGE;
        }
        figures_init(&a->f, cap);
        a->present = true;
        figures_shift(b, &b->firm, cap);
    }
    *out = a;
    return WD_OK;
}

enum wd_status wd_book_new(const struct wd_book_config *cfg, struct wd_intern *symbols,
                           struct wd_intern *accounts, struct wd_book **out,
                           struct wd_error *err)
{
    enum wd_status st;
    struct wd_book *b = calloc(1, sizeof *b);
    if (b == NULL) {
        return wd_error_set(err, WD_ENOMEM, "out of memory");
    }
    b->default_capital = cfg->default_capital;
    b->tz = cfg->tz;
    b->max_positions = cfg->max_positions ? cfg->max_positions : DEFAULT_MAX_POSITIONS;
    b->symbols = symbols;
    b->accounts = accounts;
    b->day = INT64_MIN;
    b->created_account = WD_NO_ID;
    b->day_start_ns = INT64_MAX; /* forces the first day computation */
    b->day_end_ns = INT64_MIN;
    b->pos_mask = 1023u;
    b->pos_slots = calloc(b->pos_mask + 1u, sizeof *b->pos_slots);
    if (b->pos_slots == NULL) {
        st = wd_error_set(err, WD_ENOMEM, "out of memory");
        goto fail;
    }
    if (cfg->default_capital <= 0) {
        st = wd_error_set(err, WD_ERANGE, "capital must be > 0");
        goto fail;
    }
    figures_init(&b->firm, 0);
    for (size_t i = 0; i < cfg->n_accounts; i++) {
        uint32_t id;
        const char *name = cfg->accounts[i].name;
        if (cfg->accounts[i].capital <= 0) {
            st = wd_error_set(err, WD_ERANGE, "capital of account '%s' must be > 0", name);
            goto fail;
        }
        st = wd_intern_get(accounts, name, strlen(name), &id);
        if (st == WD_OK) {
            st = ensure_account_slot(b, id);
        }
        if (st != WD_OK) {
            wd_error_set(err, st, "account '%s': %s", name, wd_status_str(st));
            goto fail;
        }
        b->cfg_capital[id] = cfg->accounts[i].capital;
    }
    /* Listed accounts exist from the start, so the firm's starting capital
     * is their sum before any event. */
    for (size_t i = 0; i < cfg->n_accounts; i++) {
        uint32_t id;
        struct acct_state *a;
        if (wd_intern_find(accounts, cfg->accounts[i].name, strlen(cfg->accounts[i].name), &id) !=
                WD_OK ||
            (st = get_account(b, id, &a)) != WD_OK) {
            st = wd_error_set(err, WD_ERANGE, "accounts' total capital is out of range");
            goto fail;
        }
    }
    *out = b;
    return WD_OK;
fail:
    wd_book_free(b);
    return st;
}

void wd_book_free(struct wd_book *b)
{
    if (b == NULL) {
        return;
    }
    free(b->accts);
    free(b->saved_day_open);
    free(b->cfg_capital);
    free(b->syms);
    free(b->pos);
    free(b->pos_slots);
    free(b);
}

static uint32_t pos_hash(uint32_t acct, uint32_t sym)
{
    uint64_t k = ((uint64_t)acct << 32) | sym;
    k *= 0x9E3779B97F4A7C15ull;
    return (uint32_t)(k >> 32);
}

static uint32_t find_slot(const struct wd_book *b, uint32_t acct, uint32_t sym)
{
    uint32_t i = pos_hash(acct, sym) & b->pos_mask;
    for (;;) {
        uint32_t v = b->pos_slots[i];
        if (v == 0 || (b->pos[v - 1u].account == acct && b->pos[v - 1u].symbol == sym)) {
            return i;
        }
        i = (i + 1u) & b->pos_mask;
    }
}

static enum wd_status grow_pos_slots(struct wd_book *b)
{
    uint32_t ncap = (b->pos_mask + 1u) * 2u;
    uint32_t *ns = calloc(ncap, sizeof *ns);
    if (ns == NULL) {
        return WD_ENOMEM;
    }
    free(b->pos_slots);
    b->pos_slots = ns;
    b->pos_mask = ncap - 1u;
    for (uint32_t p = 0; p < b->n_pos; p++) {
        ns[find_slot(b, b->pos[p].account, b->pos[p].symbol)] = p + 1u;
    }
    return WD_OK;
}

/* The position of (acct, sym), created flat if new. */
static enum wd_status get_position(struct wd_book *b, uint32_t acct, uint32_t sym,
                                   struct wd_position **out)
{
    uint32_t slot = find_slot(b, acct, sym);
    if (b->pos_slots[slot] != 0) {
        *out = &b->pos[b->pos_slots[slot] - 1u];
        return WD_OK;
    }
    if (b->n_pos >= b->max_positions) {
        return WD_EFULL;
    }
    if ((uint64_t)(b->n_pos + 1u) * 2u > b->pos_mask + 1u) {
        enum wd_status st = grow_pos_slots(b);
        if (st != WD_OK) {
            return st;
        }
        slot = find_slot(b, acct, sym);
    }
    if (b->n_pos == b->cap_pos) {
        uint32_t ncap = b->cap_pos ? b->cap_pos * 2u : 256u;
        struct wd_position *np = realloc(b->pos, (size_t)ncap * sizeof *np);
        if (np == NULL) {
            return WD_ENOMEM;
        }
        b->pos = np;
        b->cap_pos = ncap;
    }
    struct wd_position *p = &b->pos[b->n_pos];
    memset(p, 0, sizeof *p);
    p->account = acct;
    p->symbol = sym;
    p->next_holder = b->syms[sym].holders;
    b->syms[sym].holders = b->n_pos;
    b->pos_slots[slot] = ++b->n_pos;
    b->created_position = true;
    *out = p;
    return WD_OK;
}

static bool sym_mark(const struct sym_state *s, wd_fix *mark)
{
    if (s->flags & HAS_QUOTE) {
        *mark = s->mid;
    } else if (s->flags & HAS_TRADE) {
        *mark = s->trade;
    } else if (s->flags & HAS_FILL) {
        *mark = s->fill;
    } else {
        return false;
    }
    return true;
}

/* Revalues every position in sym at `mark`: checks all sums first, then
 * commits, so an overflow changes nothing. */
#define REVALUE_CACHE 32

static enum wd_status revalue(struct wd_book *b, uint32_t sym, wd_fix mark)
{
    wd_i128 firm_delta = 0, gross_delta = 0;
    wd_fix cache[REVALUE_CACHE]; /* the first holders' new values, computed once */
    uint32_t k = 0;
    for (uint32_t i = b->syms[sym].holders; i != NO_POS; i = b->pos[i].next_holder, k++) {
        const struct wd_position *p = &b->pos[i];
        const struct wd_figures *f = &b->accts[p->account].f;
        if (p->qty == 0 && p->mtm == 0) {
            continue; /* flat and already valued at nothing */
        }
        wd_i128 m = mul_round(p->qty, mark);
        if (k < REVALUE_CACHE) {
            cache[k] = fits(m) ? (wd_fix)m : 0;
        }
        wd_i128 d = m - p->mtm;
        wd_i128 g = (m < 0 ? -m : m) - (p->mtm < 0 ? -(wd_i128)p->mtm : p->mtm);
        if (!fits(m) || !fits(f->mtm + d) || !fits(f->cash + (f->mtm + d)) ||
            !fits(f->gross + g)) {
            return WD_ERANGE;
        }
        firm_delta += d;
        gross_delta += g;
    }
    if (!fits(b->firm.mtm + firm_delta) || !fits(b->firm.cash + (b->firm.mtm + firm_delta)) ||
        !fits(b->firm.gross + gross_delta)) {
        return WD_ERANGE;
    }
    k = 0;
    for (uint32_t i = b->syms[sym].holders; i != NO_POS; i = b->pos[i].next_holder, k++) {
        struct wd_position *p = &b->pos[i];
        struct wd_figures *f = &b->accts[p->account].f;
        if (p->qty == 0 && p->mtm == 0) {
            continue;
        }
        wd_fix m = k < REVALUE_CACHE ? cache[k] : (wd_fix)mul_round(p->qty, mark);
        if (m != p->mtm) {
            f->mtm = (wd_fix)((wd_i128)f->mtm + m - p->mtm);
            f->gross = (wd_fix)((wd_i128)f->gross + (m < 0 ? -(wd_i128)m : m) -
                                (p->mtm < 0 ? -(wd_i128)p->mtm : p->mtm));
            p->mtm = m;
            refresh(b, f);
        }
    }
    b->firm.gross = (wd_fix)(b->firm.gross + gross_delta);
    if (firm_delta != 0) {
        b->firm.mtm = (wd_fix)(b->firm.mtm + firm_delta);
        refresh(b, &b->firm);
    }
    return WD_OK;
}

static enum wd_status set_mark(struct wd_book *b, uint32_t sym, unsigned kind, wd_fix price)
{
    struct sym_state *s = &b->syms[sym];
    wd_fix old_mark = 0, new_mark = 0;
    bool had = sym_mark(s, &old_mark);
    struct sym_state saved = *s;
    if (kind == HAS_QUOTE) {
        s->mid = price;
    } else if (kind == HAS_TRADE) {
        s->trade = price;
    } else {
        s->fill = price;
    }
    s->flags |= kind;
    (void)sym_mark(s, &new_mark);
    if (had && new_mark == old_mark) {
        return WD_OK;
    }
    enum wd_status st = revalue(b, sym, new_mark);
    if (st != WD_OK) {
        *s = saved;
    }
    return st;
}

/* What a day roll replaced, so that a refused event can put it back. */
struct day_undo {
    bool rolled;
    int64_t day, start_ns, end_ns;
    wd_fix firm_day_open;
};

/* Room for every account's day-open before a roll (which a refused event
 * puts back). */
static enum wd_status reserve_day_undo(struct wd_book *b)
{
    if (b->n_saved < b->n_accts) {
        wd_fix *ns = realloc(b->saved_day_open, (size_t)b->n_accts * sizeof *ns);
        if (ns == NULL) {
            return WD_ENOMEM;
        }
        b->saved_day_open = ns;
        b->n_saved = b->n_accts;
    }
    return WD_OK;
}

/* Moves the local day forward when ts enters a later one: every account's
 * and the firm's day-open equity becomes its equity before this event. */
static enum wd_status roll_day(struct wd_book *b, int64_t ts, struct day_undo *u)
{
    enum wd_status st;
    u->rolled = false;
    if (ts >= b->day_start_ns && ts < b->day_end_ns) {
        return WD_OK;
    }
    int64_t start, end;
    int64_t day = wd_tz_local_day(b->tz, ts, &start, &end);
    if (day <= b->day && b->day != INT64_MIN) {
        return WD_OK; /* an out-of-order event from an earlier day */
    }
    if ((st = reserve_day_undo(b)) != WD_OK) {
        return st;
    }
    *u = (struct day_undo){true, b->day, b->day_start_ns, b->day_end_ns, b->firm.day_open};
    b->day = day;
    b->day_start_ns = start;
    b->day_end_ns = end;
    for (uint32_t i = 0; i < b->n_accts; i++) {
        if (b->accts[i].present) {
            b->saved_day_open[i] = b->accts[i].f.day_open;
            b->accts[i].f.day_open = b->accts[i].f.equity;
            b->accts[i].f.version++;
        }
    }
    b->firm.day_open = b->firm.equity;
    b->firm.version++;
    b->changes++;
    return WD_OK;
}

static void unroll_day(struct wd_book *b, const struct day_undo *u)
{
    if (!u->rolled) {
        return;
    }
    b->day = u->day;
    b->day_start_ns = u->start_ns;
    b->day_end_ns = u->end_ns;
    for (uint32_t i = 0; i < b->n_accts && i < b->n_saved; i++) {
        if (b->accts[i].present) {
            b->accts[i].f.day_open = b->saved_day_open[i];
            b->accts[i].f.version--; /* roll_day bumped it once */
        }
    }
    b->firm.day_open = u->firm_day_open;
}

/* Removes the position a refused event created. It is the newest, so no
 * later insertion probed past its hash slot and it heads its symbol's
 * holder chain: clearing both undoes it exactly. */
static void uncreate_position(struct wd_book *b)
{
    if (!b->created_position) {
        return;
    }
    struct wd_position *p = &b->pos[b->n_pos - 1u];
    b->pos_slots[find_slot(b, p->account, p->symbol)] = 0;
    b->syms[p->symbol].holders = p->next_holder;
    b->n_pos--;
    b->created_position = false;
}

/* Removes the account a refused event created: its capital leaves the
 * firm's figures again. */
static void uncreate_account(struct wd_book *b)
{
    if (b->created_account == WD_NO_ID) {
        return;
    }
    struct acct_state *a = &b->accts[b->created_account];
    figures_shift(b, &b->firm, -a->f.capital);
    memset(a, 0, sizeof *a);
    b->created_account = WD_NO_ID;
}

static enum wd_status apply_fill(struct wd_book *b, const struct wd_event *ev,
                                 struct wd_error *err)
{
    const struct wd_ev_fill *fl = &ev->u.fill;
    struct acct_state *a;
    struct wd_position *p;
    enum wd_status st;
    if ((st = get_account(b, ev->account, &a)) != WD_OK ||
        (st = get_position(b, ev->account, ev->symbol, &p)) != WD_OK) {
        return wd_error_set(err, st, "fill: %s", wd_status_str(st));
    }
    wd_i128 q = (wd_i128)fl->qty * fl->side;
    wd_i128 n = mul_round((wd_fix)q, fl->price); /* signed notional: cash -= n */
    wd_i128 new_qty = p->qty + q;
    wd_i128 new_cost, realized;
    if (p->qty == 0 || (p->qty > 0) == (q > 0)) {
        new_cost = p->cost + n; /* opening or adding */
        realized = 0;
    } else if (new_qty == 0 || (new_qty > 0) == (p->qty > 0)) {
        /* Reducing (or closing exactly): release the closed fraction of the
         * cost basis; the whole of it when closing. */
        int64_t released = p->cost;
        if (new_qty != 0 && wd_fix_muldiv(p->cost, (int64_t)-q, p->qty, &released) != WD_OK) {
            return wd_error_set(err, WD_ERANGE, "fill: cost basis out of range");
        }
        new_cost = p->cost - released;
        realized = -n - released;
    } else {
        /* Flipping through zero: close the old quantity at the fill price,
         * open the rest; the two notionals add up to n exactly. */
        wd_i128 n_close = mul_round(-p->qty, fl->price);
        realized = -n_close - p->cost;
        new_cost = n - n_close;
    }
    realized -= fl->commission;
    wd_i128 cash = (wd_i128)a->f.cash - n - fl->commission;
    wd_i128 fcash = (wd_i128)b->firm.cash - n - fl->commission;
    if (!fits(n) || !fits(new_qty) || !fits(new_cost) || !fits(cash) || !fits(fcash) ||
        !fits(a->f.realized + realized) || !fits(b->firm.realized + realized) ||
        !fits((wd_i128)a->f.cost - p->cost + new_cost) ||
        !fits((wd_i128)b->firm.cost - p->cost + new_cost) || !fits(p->realized + realized) ||
        !fits((wd_i128)b->firm.commission + fl->commission)) {
        return wd_error_set(err, WD_ERANGE, "fill: a figure would overflow");
    }
    /* The mark may move with this fill (when the symbol has no quote or
     * trade); revalue after the position changed. Save what revalue could
     * need to undo. */
    struct wd_position saved_p = *p;
    struct wd_figures saved_a = a->f, saved_firm = b->firm;
    a->f.cash = (wd_fix)cash;
    b->firm.cash = (wd_fix)fcash;
    a->f.realized += (wd_fix)realized;
    b->firm.realized += (wd_fix)realized;
    a->f.commission += fl->commission;
    b->firm.commission += fl->commission;
    a->f.cost = (wd_fix)((wd_i128)a->f.cost - p->cost + new_cost);
    b->firm.cost = (wd_fix)((wd_i128)b->firm.cost - p->cost + new_cost);
    p->realized += (wd_fix)realized;
    p->qty = (wd_fix)new_qty;
    p->cost = (wd_fix)new_cost;
    a->had_fill = true;
    /* Revalue this position at the (possibly new) mark. */
    struct sym_state *s = &b->syms[ev->symbol];
    struct sym_state saved_s = *s;
    s->fill = fl->price;
    s->flags |= HAS_FILL;
    wd_fix mark;
    (void)sym_mark(s, &mark);
    st = revalue(b, ev->symbol, mark);
    if (st == WD_OK) {
        /* revalue refreshes only what moved; cash moved for sure. */
        refresh(b, &a->f);
        refresh(b, &b->firm);
        return WD_OK;
    }
    *s = saved_s;
    *p = saved_p;
    a->f = saved_a;
    b->firm = saved_firm;
    return wd_error_set(err, st, "fill: a figure would overflow");
}

static enum wd_status apply_account(struct wd_book *b, const struct wd_event *ev,
                                    struct wd_error *err)
{
    struct acct_state *a;
    enum wd_status st = get_account(b, ev->account, &a);
    if (st != WD_OK) {
        return wd_error_set(err, st, "account: %s", wd_status_str(st));
    }
    if (a->saw_account_event || a->had_fill) {
        a->saw_account_event = true;
        return WD_OK;
    }
    wd_fix equity = ev->u.account.equity;
    if (equity <= 0) {
        return wd_error_set(err, WD_ERANGE,
                            "account: equity must be > 0 to set the starting capital");
    }
    wd_fix delta = equity - a->f.capital;
    if (!shift_fits(&a->f, delta) || !shift_fits(&b->firm, delta)) {
        return wd_error_set(err, WD_ERANGE, "account: firm capital would overflow");
    }
    a->saw_account_event = true;
    /* The starting capital is the baseline: peak and day-open move with it,
     * and the drawdown history restarts from it. */
    figures_shift(b, &a->f, delta);
    a->f.peak = a->f.equity;
    a->f.drawdown = a->f.max_drawdown = 0.0;
    figures_shift(b, &b->firm, delta);
    return WD_OK;
}

enum wd_status wd_book_apply(struct wd_book *b, const struct wd_event *ev, struct wd_error *err)
{
    enum wd_status st = WD_OK;
    struct day_undo undo = {0};
    struct acct_state *a;
    if (ev->symbol != WD_NO_ID && (st = ensure_symbol(b, ev->symbol)) != WD_OK) {
        return wd_error_set(err, st, "out of memory");
    }
    b->created_account = WD_NO_ID;
    b->created_position = false;
    uint64_t firm_version = b->firm.version;
    /* The day rolls before the event is applied: day-open equity is the
     * equity before the first event of the day. */
    if ((st = roll_day(b, ev->ts_ns, &undo)) != WD_OK) {
        return wd_error_set(err, st, "out of memory");
    }
    switch (ev->type) {
    case WD_EV_QUOTE: {
        wd_i128 sum = (wd_i128)ev->u.quote.bid + ev->u.quote.ask;
        wd_i128 mid = sum / 2 + (sum % 2); /* half away from zero; both > 0 */
        st = set_mark(b, ev->symbol, HAS_QUOTE, (wd_fix)mid);
        if (st != WD_OK) {
            wd_error_set(err, st, "quote: revaluation would overflow");
        }
        break;
    }
    case WD_EV_TRADE:
        st = set_mark(b, ev->symbol, HAS_TRADE, ev->u.trade.price);
        if (st != WD_OK) {
            wd_error_set(err, st, "trade: revaluation would overflow");
        }
        break;
    case WD_EV_FILL:
        st = apply_fill(b, ev, err);
        break;
    case WD_EV_ACCOUNT:
        st = apply_account(b, ev, err);
        break;
    case WD_EV_INTENT:
    case WD_EV_ACK:
        if ((st = get_account(b, ev->account, &a)) != WD_OK) {
            wd_error_set(err, st, "%s: %s", wd_event_type_name(ev->type), wd_status_str(st));
        }
        break;
    default:
        break;
    }
    if (st != WD_OK) {
        /* A refused event is as if absent: no account, no position, no
         * new day, and the firm's figures exactly as they were. */
        uncreate_position(b);
        uncreate_account(b);
        unroll_day(b, &undo);
        b->firm.version = firm_version;
        return st;
    }
    b->events++;
    if (ev->ts_ns > b->last_ts) {
        b->last_ts = ev->ts_ns;
    }
    return WD_OK;
}

enum wd_status wd_book_open_account(struct wd_book *b, uint32_t account)
{
    struct acct_state *a;
    return get_account(b, account, &a);
}

const struct wd_figures *wd_book_firm(const struct wd_book *b) { return &b->firm; }

const struct wd_figures *wd_book_account(const struct wd_book *b, uint32_t account)
{
    if (account >= b->n_accts || !b->accts[account].present) {
        return NULL;
    }
    return &b->accts[account].f;
}

uint32_t wd_book_account_slots(const struct wd_book *b) { return b->n_accts; }

uint64_t wd_book_changes(const struct wd_book *b) { return b->changes; }

size_t wd_book_position_count(const struct wd_book *b) { return b->n_pos; }

const struct wd_position *wd_book_position(const struct wd_book *b, size_t i)
{
    return i < b->n_pos ? &b->pos[i] : NULL;
}

const struct wd_position *wd_book_find_position(const struct wd_book *b, uint32_t account,
                                                uint32_t symbol)
{
    uint32_t v = b->pos_slots[find_slot(b, account, symbol)];
    return v == 0 ? NULL : &b->pos[v - 1u];
}

uint32_t wd_book_position_index(const struct wd_book *b, const struct wd_position *p)
{
    return (uint32_t)(p - b->pos);
}

bool wd_book_mark(const struct wd_book *b, uint32_t symbol, wd_fix *mark)
{
    if (symbol >= b->n_syms) {
        return false;
    }
    return sym_mark(&b->syms[symbol], mark);
}

int64_t wd_book_day(const struct wd_book *b) { return b->day; }

int64_t wd_book_last_ts(const struct wd_book *b) { return b->last_ts; }

uint64_t wd_book_events(const struct wd_book *b) { return b->events; }

/* ---- snapshots --------------------------------------------------------------------- */

#define BOOK_MAGIC 0x4b424457u /* "WDBK" */
#define BOOK_VERSION 1u

static void save_figures(struct wd_wbuf *w, const struct wd_figures *f)
{
    wd_w_i64(w, f->capital);
    wd_w_i64(w, f->cash);
    wd_w_i64(w, f->realized);
    wd_w_i64(w, f->commission);
    wd_w_i64(w, f->mtm);
    wd_w_i64(w, f->gross);
    wd_w_i64(w, f->cost);
    wd_w_i64(w, f->equity);
    wd_w_i64(w, f->day_open);
    wd_w_i64(w, f->peak);
    wd_w_f64(w, f->drawdown);
    wd_w_f64(w, f->max_drawdown);
}

static void load_figures(struct wd_rbuf *r, struct wd_figures *f)
{
    f->capital = wd_r_i64(r);
    f->cash = wd_r_i64(r);
    f->realized = wd_r_i64(r);
    f->commission = wd_r_i64(r);
    f->mtm = wd_r_i64(r);
    f->gross = wd_r_i64(r);
    f->cost = wd_r_i64(r);
    f->equity = wd_r_i64(r);
    f->day_open = wd_r_i64(r);
    f->peak = wd_r_i64(r);
    f->drawdown = wd_r_f64(r);
    f->max_drawdown = wd_r_f64(r);
}

static void save_name(struct wd_wbuf *w, const struct wd_intern *t, uint32_t id)
{
    const char *n = wd_intern_name(t, id);
    wd_w_bytes(w, n, strlen(n));
}

/* One account's entry: name, figures, flags. */
static void save_account(struct wd_wbuf *w, const struct wd_book *b, uint32_t id)
{
    const struct acct_state *a = &b->accts[id];
    save_name(w, b->accounts, id);
    save_figures(w, &a->f);
    wd_w_u8(w, (uint8_t)((a->had_fill ? 1u : 0u) | (a->saw_account_event ? 2u : 0u)));
}

/* One symbol's marks: name, mid, trade, fill, which of them it has. */
static void save_symbol(struct wd_wbuf *w, const struct wd_book *b, uint32_t sym)
{
    const struct sym_state *sy = &b->syms[sym];
    save_name(w, b->symbols, sym);
    wd_w_i64(w, sy->mid);
    wd_w_i64(w, sy->trade);
    wd_w_i64(w, sy->fill);
    wd_w_u8(w, (uint8_t)sy->flags);
}

static void save_position(struct wd_wbuf *w, const struct wd_book *b, const struct wd_position *p)
{
    save_name(w, b->accounts, p->account);
    save_name(w, b->symbols, p->symbol);
    wd_w_i64(w, p->qty);
    wd_w_i64(w, p->cost);
    wd_w_i64(w, p->mtm);
    wd_w_i64(w, p->realized);
}

/* Whether the sections below take account id: present, and wanted (want
 * NULL: every present account). */
static bool taken(const struct wd_book *b, const bool *want, uint32_t id)
{
    return id < b->n_accts && b->accts[id].present && (want == NULL || want[id]);
}

/* The accounts, symbols and positions sections, shared by the whole
 * snapshot (want NULL: every present account, every symbol with a mark)
 * and the account handover (want[id] for id < n_accts: those accounts and
 * the marks of the symbols they hold). The positions of absent accounts
 * (dropped ones, all zero) are never written. */
static void save_sections(const struct wd_book *b, const bool *want, struct wd_wbuf *w)
{
    uint32_t n = 0, nsym = b->n_syms < wd_intern_count(b->symbols) ? b->n_syms
                                                                      : wd_intern_count(b->symbols);
    uint8_t *held = NULL;
    if (want != NULL && nsym > 0 && (held = calloc(nsym, 1)) == NULL) {
        w->st = WD_ENOMEM;
        return;
    }
    for (uint32_t i = 0; i < b->n_accts; i++) {
        n += taken(b, want, i) ? 1u : 0u;
    }
    wd_w_u32(w, n);
    for (uint32_t i = 0; i < b->n_accts; i++) {
        if (taken(b, want, i)) {
            save_account(w, b, i);
        }
    }
    uint32_t np = 0;
    for (uint32_t i = 0; i < b->n_pos; i++) {
        if (taken(b, want, b->pos[i].account)) {
            np++;
            if (held != NULL && b->pos[i].symbol < nsym) {
                held[b->pos[i].symbol] = 1;
            }
        }
    }
    n = 0;
    for (uint32_t i = 0; i < nsym; i++) {
        n += b->syms[i].flags != 0 && (want == NULL || held[i]) ? 1u : 0u;
    }
    wd_w_u32(w, n);
    for (uint32_t i = 0; i < nsym; i++) {
        if (b->syms[i].flags != 0 && (want == NULL || held[i])) {
            save_symbol(w, b, i);
        }
    }
    free(held);
    wd_w_u32(w, np);
    for (uint32_t i = 0; i < b->n_pos; i++) {
        if (taken(b, want, b->pos[i].account)) {
            save_position(w, b, &b->pos[i]);
        }
    }
}

void wd_book_save(const struct wd_book *b, struct wd_wbuf *w)
{
    wd_w_u32(w, BOOK_MAGIC);
    wd_w_u32(w, BOOK_VERSION);
    save_figures(w, &b->firm);
    wd_w_i64(w, b->day);
    wd_w_i64(w, b->day_start_ns);
    wd_w_i64(w, b->day_end_ns);
    wd_w_i64(w, b->last_ts);
    wd_w_u64(w, b->events);
    save_sections(b, NULL, w);
}

static enum wd_status load_name(struct wd_rbuf *r, struct wd_intern *t, uint32_t *id)
{
    size_t n;
    const char *p = wd_r_bytes(r, WD_INTERN_NAME_MAX, &n);
    if (r->bad) {
        return WD_EINVAL;
    }
    return wd_intern_get(t, p, n, id);
}

/* A symbol's marks as save_symbol wrote them (after its name). */
static void load_marks(struct wd_rbuf *r, struct sym_state *sy)
{
    sy->mid = wd_r_i64(r);
    sy->trade = wd_r_i64(r);
    sy->fill = wd_r_i64(r);
    sy->flags = wd_r_u8(r) & (HAS_QUOTE | HAS_TRADE | HAS_FILL);
}

/* A position's figures as save_position wrote them (after its names). */
static void load_position_values(struct wd_rbuf *r, struct wd_position *p)
{
    p->qty = wd_r_i64(r);
    p->cost = wd_r_i64(r);
    p->mtm = wd_r_i64(r);
    p->realized = wd_r_i64(r);
}

enum wd_status wd_book_load(struct wd_book *b, struct wd_rbuf *r, struct wd_error *err)
{
    enum wd_status st;
    uint32_t n, id, sym;
    if (wd_r_u32(r) != BOOK_MAGIC || wd_r_u32(r) != BOOK_VERSION) {
        return wd_error_set(err, WD_EINVAL, "not a book snapshot (magic or version)");
    }
    /* Start from nothing: no account, position or mark. */
    for (uint32_t i = 0; i < b->n_accts; i++) {
        memset(&b->accts[i], 0, sizeof b->accts[i]);
    }
    for (uint32_t i = 0; i < b->n_syms; i++) {
        memset(&b->syms[i], 0, sizeof b->syms[i]);
        b->syms[i].holders = NO_POS;
    }
    memset(b->pos_slots, 0, (size_t)(b->pos_mask + 1u) * sizeof *b->pos_slots);
    b->n_pos = 0;
    load_figures(r, &b->firm);
    b->day = wd_r_i64(r);
    b->day_start_ns = wd_r_i64(r);
    b->day_end_ns = wd_r_i64(r);
    b->last_ts = wd_r_i64(r);
    b->events = wd_r_u64(r);
    n = wd_r_u32(r);
    for (uint32_t k = 0; k < n && !r->bad; k++) {
        if ((st = load_name(r, b->accounts, &id)) != WD_OK ||
            (st = ensure_account_slot(b, id)) != WD_OK) {
            goto bad;
        }
        struct acct_state *a = &b->accts[id];
        load_figures(r, &a->f);
        uint8_t fl = wd_r_u8(r);
        a->present = true;
        a->had_fill = (fl & 1u) != 0;
        a->saw_account_event = (fl & 2u) != 0;
    }
    n = wd_r_u32(r);
    for (uint32_t k = 0; k < n && !r->bad; k++) {
        if ((st = load_name(r, b->symbols, &sym)) != WD_OK ||
            (st = ensure_symbol(b, sym)) != WD_OK) {
            goto bad;
        }
        load_marks(r, &b->syms[sym]);
    }
    n = wd_r_u32(r);
    for (uint32_t k = 0; k < n && !r->bad; k++) {
        struct wd_position *p;
        if ((st = load_name(r, b->accounts, &id)) != WD_OK ||
            (st = load_name(r, b->symbols, &sym)) != WD_OK ||
            (st = ensure_symbol(b, sym)) != WD_OK ||
            (st = get_position(b, id, sym, &p)) != WD_OK) {
            goto bad;
        }
        load_position_values(r, p);
        if (id >= b->n_accts || !b->accts[id].present) {
            st = WD_EINVAL;
            goto bad;
        }
    }
    if (r->bad) {
        st = WD_EINVAL;
        goto bad;
    }
    /* Accounts configured since the snapshot was taken join now. */
    for (uint32_t i = 0; i < b->n_accts; i++) {
        struct acct_state *a;
        if (b->cfg_capital[i] >= 0 && !b->accts[i].present &&
            (st = get_account(b, i, &a)) != WD_OK) {
            goto bad;
        }
    }
    b->created_account = WD_NO_ID;
    b->created_position = false;
    return WD_OK;
bad:
    return wd_error_set(err, st == WD_OK ? WD_EINVAL : st, "book snapshot is damaged (%s)",
                        wd_status_str(st));
}

/* ---- account handover ---------------------------------------------------------------- */

/* The book part of an account record (wd_engine_save_accounts):
 *     day, day_start_ns, day_end_ns      the saving book's day
 *     accounts, symbols, positions       save_sections, for the wanted accounts
 * Loading is in three steps so that it is all or nothing: check (reads,
 * changes nothing: EINVAL, EFULL), reserve (interns names, grows tables:
 * ENOMEM, nothing visible), load (cannot fail). */

void wd_book_save_accounts(const struct wd_book *b, const bool *want, struct wd_wbuf *w)
{
    wd_w_i64(w, b->day);
    wd_w_i64(w, b->day_start_ns);
    wd_w_i64(w, b->day_end_ns);
    save_sections(b, want, w);
}

/* f -= g over the level figures, in 128 bits (both are sums over accounts
 * of figures that fit, so the difference does); peak moves with them. */
static void figures_sub(struct wd_figures *f, const struct wd_figures *g, int sign)
{
    f->capital = (wd_fix)((wd_i128)f->capital + sign * (wd_i128)g->capital);
    f->cash = (wd_fix)((wd_i128)f->cash + sign * (wd_i128)g->cash);
    f->realized = (wd_fix)((wd_i128)f->realized + sign * (wd_i128)g->realized);
    f->commission = (wd_fix)((wd_i128)f->commission + sign * (wd_i128)g->commission);
    f->mtm = (wd_fix)((wd_i128)f->mtm + sign * (wd_i128)g->mtm);
    f->gross = (wd_fix)((wd_i128)f->gross + sign * (wd_i128)g->gross);
    f->cost = (wd_fix)((wd_i128)f->cost + sign * (wd_i128)g->cost);
    f->day_open = (wd_fix)((wd_i128)f->day_open + sign * (wd_i128)g->day_open);
    f->peak = (wd_fix)((wd_i128)f->peak + sign * (wd_i128)g->peak);
}

void wd_book_drop_account(struct wd_book *b, uint32_t account)
{
    if (account >= b->n_accts || !b->accts[account].present) {
        return;
    }
    struct acct_state *a = &b->accts[account];
    figures_sub(&b->firm, &a->f, -1);
    refresh(b, &b->firm);
    for (uint32_t i = 0; i < b->n_pos; i++) {
        struct wd_position *p = &b->pos[i];
        if (p->account == account) {
            p->qty = p->cost = p->mtm = p->realized = 0;
        }
    }
    memset(a, 0, sizeof *a);
}

enum wd_status wd_book_record_init(struct wd_book_record *rec)
{
    memset(rec, 0, sizeof *rec);
    if (wd_intern_init(&rec->accounts, 100000u) != WD_OK ||
        wd_intern_init(&rec->symbols, 1000000u) != WD_OK ||
        wd_intern_init(&rec->positions, DEFAULT_MAX_POSITIONS) != WD_OK) {
        wd_book_record_destroy(rec);
        return WD_ENOMEM;
    }
    return WD_OK;
}

void wd_book_record_destroy(struct wd_book_record *rec)
{
    wd_intern_destroy(&rec->accounts);
    wd_intern_destroy(&rec->symbols);
    wd_intern_destroy(&rec->positions);
    free(rec->sums);
    rec->sums = NULL;
}

/* A name read from r into t (a record's scratch table): WD_EINVAL for a bad
 * or repeated one (*id then undefined). */
static enum wd_status record_name(struct wd_rbuf *r, struct wd_intern *t, const char **p,
                                  size_t *n, uint32_t *id)
{
    *p = wd_r_bytes(r, WD_INTERN_NAME_MAX, n);
    if (r->bad || *n == 0) {
        return WD_EINVAL;
    }
    uint32_t before = wd_intern_count(t);
    enum wd_status st = wd_intern_get(t, *p, *n, id);
    if (st == WD_OK && wd_intern_count(t) == before) {
        return WD_EINVAL; /* twice in one record */
    }
    return st == WD_EFULL ? WD_EINVAL : st;
}

/* The key of a position in a record's positions table. */
static void pos_key(uint32_t acct, uint32_t sym, char *buf, size_t cap, size_t *n)
{
    int k = snprintf(buf, cap, "%u:%u", acct, sym);
    *n = k > 0 ? (size_t)k : 0u;
}

/* Per record account: what the check computed. */
struct wd_book_record_sums {
    wd_i128 mtm, cost, gross, realized; /* over its positions, as recorded */
    wd_i128 new_mtm, new_gross;          /* revalued at this book's marks */
    struct wd_figures f;                 /* as recorded */
};

/* The mark a loaded position of sym is valued at: this book's, else the
 * record's (rec_sym: the record's marks). */
static bool handover_mark(const struct wd_book *b, uint32_t sym, const struct sym_state *rec_sym,
                          wd_fix *mark)
{
    if (sym != WD_NO_ID && sym < b->n_syms && sym_mark(&b->syms[sym], mark)) {
        return true;
    }
    return sym_mark(rec_sym, mark);
}

/* Whether the recorded figures hold the book's identities. */
static bool figures_sane(const struct wd_figures *f)
{
    return f->capital > 0 && f->commission >= 0 && f->gross >= 0 && f->peak >= f->equity &&
           (wd_i128)f->equity == (wd_i128)f->cash + f->mtm &&
           (wd_i128)f->cash == (wd_i128)f->capital + f->realized - f->cost &&
           f->drawdown >= 0.0 && f->max_drawdown >= f->drawdown && isfinite(f->max_drawdown);
}

static enum wd_status count_new_names(const struct wd_intern *mine, const struct wd_intern *rec)
{
    uint32_t fresh = 0, id;
    for (uint32_t i = 0; i < wd_intern_count(rec); i++) {
        const char *n = wd_intern_name(rec, i);
        fresh += wd_intern_find(mine, n, strlen(n), &id) == WD_OK ? 0u : 1u;
    }
    return (uint64_t)wd_intern_count(mine) + fresh > mine->max_names ? WD_EFULL : WD_OK;
}

enum wd_status wd_book_check_accounts(const struct wd_book *b, struct wd_rbuf *r,
                                      struct wd_book_record *rec, struct wd_error *err)
{
    enum wd_status st = WD_OK;
    const char *np;
    size_t nn;
    uint32_t rid, sid, n;
    rec->day = wd_r_i64(r);
    rec->day_start_ns = wd_r_i64(r);
    rec->day_end_ns = wd_r_i64(r);
    if (rec->day != INT64_MIN) {
        int64_t s, e;
        if (r->bad || rec->day_start_ns >= rec->day_end_ns ||
            wd_tz_local_day(b->tz, rec->day_start_ns, &s, &e) != rec->day ||
            s != rec->day_start_ns || e != rec->day_end_ns) {
            return wd_error_set(err, WD_EINVAL, "account record: bad day");
        }
    }
    n = wd_r_u32(r);
    if (r->bad || n > r->len) {
        return wd_error_set(err, WD_EINVAL, "account record: truncated");
    }
    rec->sums = calloc(n ? n : 1u, sizeof *rec->sums);
    if (rec->sums == NULL) {
        return wd_error_set(err, WD_ENOMEM, "out of memory");
    }
    for (uint32_t k = 0; k < n; k++) {
        if ((st = record_name(r, &rec->accounts, &np, &nn, &rid)) != WD_OK) {
            return wd_error_set(err, st, "account record: bad or repeated account #%u", k + 1u);
        }
        load_figures(r, &rec->sums[rid].f);
        if (wd_r_u8(r) > 3u || r->bad || !figures_sane(&rec->sums[rid].f)) {
            return wd_error_set(err, WD_EINVAL, "account record: account %.*s: bad figures",
                                (int)nn, np);
        }
    }
    n = wd_r_u32(r);
    if (r->bad || n > r->len) {
        return wd_error_set(err, WD_EINVAL, "account record: truncated");
    }
    struct sym_state *marks = calloc(n ? n : 1u, sizeof *marks);
    if (marks == NULL) {
        return wd_error_set(err, WD_ENOMEM, "out of memory");
    }
    for (uint32_t k = 0; k < n && st == WD_OK; k++) {
        if ((st = record_name(r, &rec->symbols, &np, &nn, &sid)) != WD_OK) {
            wd_error_set(err, st, "account record: bad or repeated symbol #%u", k + 1u);
            break;
        }
        uint8_t fl = 0;
        load_marks(r, &marks[sid]);
        fl = (uint8_t)marks[sid].flags;
        if (r->bad || fl == 0 || marks[sid].mid < 0 || marks[sid].trade < 0 ||
            marks[sid].fill < 0) {
            st = wd_error_set(err, WD_EINVAL, "account record: symbol %.*s: bad marks", (int)nn,
                              np);
        }
    }
    n = st == WD_OK ? wd_r_u32(r) : 0u;
    if (st == WD_OK && (r->bad || n > r->len)) {
        st = wd_error_set(err, WD_EINVAL, "account record: truncated");
    }
    for (uint32_t k = 0; k < n && st == WD_OK; k++) {
        const char *ap, *sp;
        size_t an, sn, kn;
        char key[32];
        uint32_t pid, mine_a, mine_s;
        struct wd_position p;
        ap = wd_r_bytes(r, WD_INTERN_NAME_MAX, &an);
        sp = wd_r_bytes(r, WD_INTERN_NAME_MAX, &sn);
        load_position_values(r, &p);
        if (r->bad || wd_intern_find(&rec->accounts, ap, an, &rid) != WD_OK ||
            wd_intern_find(&rec->symbols, sp, sn, &sid) != WD_OK) {
            st = wd_error_set(err, WD_EINVAL, "account record: position #%u: unknown account or "
                                              "symbol", k + 1u);
            break;
        }
        pos_key(rid, sid, key, sizeof key, &kn);
        uint32_t before = wd_intern_count(&rec->positions);
        if ((st = wd_intern_get(&rec->positions, key, kn, &pid)) != WD_OK ||
            wd_intern_count(&rec->positions) == before) {
            st = wd_error_set(err, st == WD_ENOMEM ? WD_ENOMEM : WD_EINVAL,
                              "account record: position %.*s %.*s twice", (int)an, ap, (int)sn, sp);
            break;
        }
        /* Existing here (a tombstone, or the account's own) or new. */
        if (wd_intern_find(b->accounts, ap, an, &mine_a) != WD_OK ||
            wd_intern_find(b->symbols, sp, sn, &mine_s) != WD_OK ||
            wd_book_find_position(b, mine_a, mine_s) == NULL) {
            rec->new_positions++;
            mine_s = wd_intern_find(b->symbols, sp, sn, &mine_s) == WD_OK ? mine_s : WD_NO_ID;
        }
        wd_fix mark = 0;
        wd_i128 m = 0;
        if (handover_mark(b, mine_s, &marks[sid], &mark)) {
            m = mul_round(p.qty, mark);
        }
        struct wd_book_record_sums *s = &rec->sums[rid];
        s->mtm += p.mtm;
        s->cost += p.cost;
        s->gross += p.mtm < 0 ? -(wd_i128)p.mtm : p.mtm;
        s->realized += p.realized;
        s->new_mtm += m;
        s->new_gross += m < 0 ? -m : m;
        if (!fits(m) || (p.qty == 0 && (p.cost != 0 || p.mtm != 0))) {
            st = wd_error_set(err, WD_EINVAL, "account record: position %.*s %.*s: bad figures",
                              (int)an, ap, (int)sn, sp);
        }
    }
    free(marks);
    if (st != WD_OK) {
        return st;
    }
    /* The positions add up to their accounts' figures; revalued here, the
     * accounts and the firm stay in range. */
    wd_i128 firm[9] = {b->firm.capital, b->firm.cash,     b->firm.realized,
                       b->firm.commission, b->firm.mtm,   b->firm.gross,
                       b->firm.cost,    b->firm.day_open, b->firm.peak};
    for (uint32_t i = 0; i < wd_intern_count(&rec->accounts); i++) {
        const struct wd_book_record_sums *s = &rec->sums[i];
        const struct wd_figures *f = &s->f;
        const char *name = wd_intern_name(&rec->accounts, i);
        if (s->mtm != f->mtm || s->cost != f->cost || s->gross != f->gross ||
            s->realized != f->realized) {
            return wd_error_set(err, WD_EINVAL,
                                "account record: account %s: positions do not add up", name);
        }
        wd_i128 eq = (wd_i128)f->cash + s->new_mtm;
        if (!fits(s->new_mtm) || !fits(s->new_gross) || !fits(eq)) {
            return wd_error_set(err, WD_ERANGE, "account record: account %s out of range here",
                                name);
        }
        const struct wd_figures *old = NULL;
        if (wd_intern_find(b->accounts, name, strlen(name), &rid) == WD_OK) {
            old = wd_book_account(b, rid);
        }
        const wd_fix add[9] = {f->capital, f->cash, f->realized, f->commission, (wd_fix)s->new_mtm,
                               (wd_fix)s->new_gross, f->cost, f->day_open, f->peak};
        const wd_fix sub[9] = {old ? old->capital : 0,    old ? old->cash : 0,
                               old ? old->realized : 0,   old ? old->commission : 0,
                               old ? old->mtm : 0,        old ? old->gross : 0,
                               old ? old->cost : 0,       old ? old->day_open : 0,
                               old ? old->peak : 0};
        for (int k = 0; k < 9; k++) {
            firm[k] += (wd_i128)add[k] - sub[k];
        }
        /* An equity above the recorded peak raises it, and a later day's
         * open is the equity: both within eq, which fits. */
        firm[7] += eq > f->day_open ? eq - f->day_open : 0;
        firm[8] += eq > f->peak ? eq - f->peak : 0;
    }
    for (int k = 0; k < 9; k++) {
        if (!fits(firm[k]) || !fits(firm[1] + firm[4])) {
            return wd_error_set(err, WD_ERANGE, "account record: the firm's figures would "
                                                "overflow");
        }
    }
    if ((uint64_t)b->n_pos + rec->new_positions > b->max_positions) {
        return wd_error_set(err, WD_EFULL, "account record: %u more positions than the %u "
                            "allowed", (unsigned)(b->n_pos + rec->new_positions - b->max_positions),
                            b->max_positions);
    }
    if (count_new_names(b->accounts, &rec->accounts) != WD_OK ||
        count_new_names(b->symbols, &rec->symbols) != WD_OK) {
        return wd_error_set(err, WD_EFULL, "account record: too many account or symbol names");
    }
    return WD_OK;
}

enum wd_status wd_book_reserve_accounts(struct wd_book *b, const struct wd_book_record *rec)
{
    enum wd_status st = WD_OK;
    uint32_t id;
    for (uint32_t i = 0; i < wd_intern_count(&rec->accounts) && st == WD_OK; i++) {
        const char *n = wd_intern_name(&rec->accounts, i);
        if ((st = wd_intern_get(b->accounts, n, strlen(n), &id)) == WD_OK) {
            st = ensure_account_slot(b, id);
        }
    }
    for (uint32_t i = 0; i < wd_intern_count(&rec->symbols) && st == WD_OK; i++) {
        const char *n = wd_intern_name(&rec->symbols, i);
        if ((st = wd_intern_get(b->symbols, n, strlen(n), &id)) == WD_OK) {
            st = ensure_symbol(b, id);
        }
    }
    if (st != WD_OK) {
        return st;
    }
    /* A day roll at load needs its undo room; new positions their slots. */
    if ((st = reserve_day_undo(b)) != WD_OK) {
        return st;
    }
    uint32_t need = b->n_pos + rec->new_positions;
    while ((uint64_t)need * 2u > b->pos_mask + 1u) {
        if ((st = grow_pos_slots(b)) != WD_OK) {
            return st;
        }
    }
    if (need > b->cap_pos) {
        struct wd_position *np = realloc(b->pos, (size_t)need * sizeof *np);
        if (np == NULL) {
            return WD_ENOMEM;
        }
        b->pos = np;
        b->cap_pos = need;
    }
    return WD_OK;
}

/* Reads a name the reserve step interned: its id in t. */
static uint32_t known_name(struct wd_rbuf *r, const struct wd_intern *t)
{
    size_t n;
    uint32_t id = WD_NO_ID;
    const char *p = wd_r_bytes(r, WD_INTERN_NAME_MAX, &n);
    return wd_intern_find(t, p, n, &id) == WD_OK ? id : WD_NO_ID; /* always found */
}

void wd_book_load_accounts(struct wd_book *b, struct wd_rbuf *r, const struct wd_book_record *rec)
{
    struct day_undo undo;
    uint32_t n, id, sym;
    (void)wd_r_i64(r);
    (void)wd_r_i64(r);
    (void)wd_r_i64(r);
    /* A book behind the record's day moves to it first, as if an event of
     * that day had come (its own accounts' day-open become their equity);
     * a book already past it treats the accounts as rolled (below). */
    if (rec->day != INT64_MIN && (b->day == INT64_MIN || b->day < rec->day)) {
        (void)roll_day(b, rec->day_start_ns, &undo); /* room reserved: cannot fail */
    }
    bool rolled_here = rec->day != INT64_MIN && b->day > rec->day;
    n = wd_r_u32(r);
    for (uint32_t k = 0; k < n; k++) {
        id = known_name(r, b->accounts);
        wd_book_drop_account(b, id); /* replaced, never summed */
        struct acct_state *a = &b->accts[id];
        load_figures(r, &a->f);
        uint8_t fl = wd_r_u8(r);
        a->present = true;
        a->had_fill = (fl & 1u) != 0;
        a->saw_account_event = (fl & 2u) != 0;
        a->f.mtm = a->f.gross = 0; /* revalued with the positions below */
    }
    n = wd_r_u32(r);
    for (uint32_t k = 0; k < n; k++) {
        struct sym_state rs;
        sym = known_name(r, b->symbols);
        load_marks(r, &rs);
        struct sym_state *s = &b->syms[sym];
        if (s->flags == 0) { /* this book has no mark for it: the record's */
            s->mid = rs.mid;
            s->trade = rs.trade;
            s->fill = rs.fill;
            s->flags = rs.flags;
        }
    }
    n = wd_r_u32(r);
    for (uint32_t k = 0; k < n; k++) {
        struct wd_position *p;
        id = known_name(r, b->accounts);
        sym = known_name(r, b->symbols);
        (void)get_position(b, id, sym, &p); /* room reserved: cannot fail */
        load_position_values(r, p);
        wd_fix mark = 0;
        (void)sym_mark(&b->syms[sym], &mark);
        p->mtm = (wd_fix)mul_round(p->qty, mark); /* checked to fit */
        struct wd_figures *f = &b->accts[id].f;
        f->mtm += p->mtm;
        f->gross += p->mtm < 0 ? -p->mtm : p->mtm;
    }
    for (uint32_t i = 0; i < wd_intern_count(&rec->accounts); i++) {
        const char *name = wd_intern_name(&rec->accounts, i);
        if (wd_intern_find(b->accounts, name, strlen(name), &id) != WD_OK) {
            continue; /* never: reserved */
        }
        struct wd_figures *f = &b->accts[id].f;
        f->equity = f->cash + f->mtm;
        if (rolled_here) {
            f->day_open = f->equity;
        }
        refresh(b, f);
        figures_sub(&b->firm, f, +1);
    }
    refresh(b, &b->firm);
    b->created_account = WD_NO_ID;
    b->created_position = false;
}
