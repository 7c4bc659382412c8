/*
 * libFuzzer harness for the event decoder and the book.
 *
 * The input is split into lines; each line goes through wd_decode_line and,
 * when it decodes, through wd_book_apply, so that decoded values also drive
 * positions, marks, cash and equity. The name tables and the position table
 * are bounded very small so that the WD_EFULL paths run too. After every
 * line the harness checks invariants that the decoder and the book promise
 * (see decode.h and book.h) and calls abort() when one does not hold, which
 * libFuzzer and the replay driver (replay.c) report as a crash.
 *
 * Each input starts from fresh tables, decoder and book, so that an input
 * reproduces on its own. Every line is copied into a heap buffer of exactly
 * its length, so that AddressSanitizer catches any read past the end of the
 * line. This file must not print on success and must not keep state between
 * inputs other than the (immutable) session time zone.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "warden/book.h"
#include "warden/decode.h"
#include "warden/fixed.h"
#include "warden/intern.h"
#include "warden/tz.h"

/* Small bounds, so that a handful of lines reaches them. The account table
 * also holds "default" and the configured account below. */
#define FUZZ_MAX_SYMBOLS 8u
#define FUZZ_MAX_ACCOUNTS 5u
#define FUZZ_MAX_POSITIONS 12u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Reports a broken invariant and aborts: libFuzzer saves the input. */
#define CHECK(cond)                                                                      \
    do {                                                                                 \
        if (!(cond)) {                                                                   \
            fprintf(stderr, "fuzz_decode: invariant failed at %s:%d: %s (line %zu)\n",  \
                    __FILE__, __LINE__, #cond, line_no);                                 \
            abort();                                                                     \
        }                                                                                \
    } while (0)

/* The session zone has DST, so the day boundary moves with the season. */
static const struct wd_tz *session_tz(void)
{
    static struct wd_tz *tz;
    if (tz == NULL) {
        static const char rule[] = "EST5EDT,M3.2.0,M11.1.0";
        if (wd_tz_from_posix(rule, sizeof rule - 1u, &tz, NULL) != WD_OK) {
            fprintf(stderr, "fuzz_decode: cannot build the session time zone\n");
            abort();
        }
    }
    return tz;
}

/* A string field of an event points into the line, or is empty. */
static int str_in_line(struct wd_str s, const char *line, size_t len)
{
    if (s.len == 0) {
        return 1;
    }
    return s.ptr >= line && s.len <= len && (size_t)(s.ptr - line) <= len - s.len;
}

static int fix_in_input_range(wd_fix v)
{
    return v >= -WD_FIX_INPUT_MAX && v <= WD_FIX_INPUT_MAX;
}

/* ---- an independent strict JSON check (RFC 8259 syntax) -----------------
 * The decoder promises to reject bad JSON; this recursive-descent validator
 * is the oracle. Bytes >= 0x80 inside strings are accepted as they are
 * (UTF-8 validity is not checked). */

struct jcur {
    const char *s;
    size_t n, i;
    int depth;
};

static void j_ws(struct jcur *c)
{
    while (c->i < c->n && (c->s[c->i] == ' ' || c->s[c->i] == '\t' || c->s[c->i] == '\r' ||
                           c->s[c->i] == '\n')) {
        c->i++;
    }
}

static int j_digit(const struct jcur *c)
{
    return c->i < c->n && c->s[c->i] >= '0' && c->s[c->i] <= '9';
}

static int j_lit(struct jcur *c, const char *lit)
{
    size_t k = strlen(lit);
    if (c->n - c->i < k || memcmp(c->s + c->i, lit, k) != 0) {
        return 0;
    }
    c->i += k;
    return 1;
}

static int j_string(struct jcur *c)
{
    if (c->i >= c->n || c->s[c->i] != '"') {
        return 0;
    }
    c->i++;
    while (c->i < c->n) {
        unsigned char ch = (unsigned char)c->s[c->i++];
        if (ch == '"') {
            return 1;
        }
        if (ch < 0x20) {
            return 0;
        }
        if (ch == '\\') {
            if (c->i >= c->n) {
                return 0;
            }
            ch = (unsigned char)c->s[c->i++];
            if (ch == 'u') {
                for (int k = 0; k < 4; k++, c->i++) {
                    if (c->i >= c->n || strchr("0123456789abcdefABCDEF", c->s[c->i]) == NULL ||
                        c->s[c->i] == '\0') {
                        return 0;
                    }
                }
            } else if (strchr("\"\\/bfnrt", ch) == NULL || ch == '\0') {
                return 0;
            }
        }
    }
    return 0;
}

static int j_number(struct jcur *c)
{
    if (c->i < c->n && c->s[c->i] == '-') {
        c->i++;
    }
    if (!j_digit(c)) {
        return 0;
    }
    if (c->s[c->i] == '0') {
        c->i++;
    } else {
        while (j_digit(c)) {
            c->i++;
        }
    }
    if (c->i < c->n && c->s[c->i] == '.') {
        c->i++;
        if (!j_digit(c)) {
            return 0;
        }
        while (j_digit(c)) {
            c->i++;
        }
    }
    if (c->i < c->n && (c->s[c->i] == 'e' || c->s[c->i] == 'E')) {
        c->i++;
        if (c->i < c->n && (c->s[c->i] == '+' || c->s[c->i] == '-')) {
            c->i++;
        }
        if (!j_digit(c)) {
            return 0;
        }
        while (j_digit(c)) {
            c->i++;
        }
    }
    return 1;
}

static int j_value(struct jcur *c)
{
    j_ws(c);
    if (c->i >= c->n || ++c->depth > 10000) {
        return 0;
    }
    int ok;
    char ch = c->s[c->i];
    if (ch == '{' || ch == '[') {
        char close = ch == '{' ? '}' : ']';
        c->i++;
        j_ws(c);
        if (c->i < c->n && c->s[c->i] == close) {
            c->i++;
            ok = 1;
        } else {
            for (;;) {
                if (ch == '{') {
                    j_ws(c);
                    if (!j_string(c)) {
                        return 0;
                    }
                    j_ws(c);
                    if (c->i >= c->n || c->s[c->i] != ':') {
                        return 0;
                    }
                    c->i++;
                }
                if (!j_value(c)) {
                    return 0;
                }
                j_ws(c);
                if (c->i < c->n && c->s[c->i] == ',') {
                    c->i++;
                    continue;
                }
                if (c->i < c->n && c->s[c->i] == close) {
                    c->i++;
                    break;
                }
                return 0;
            }
            ok = 1;
        }
    } else if (ch == '"') {
        ok = j_string(c);
    } else if (ch == 't') {
        ok = j_lit(c, "true");
    } else if (ch == 'f') {
        ok = j_lit(c, "false");
    } else if (ch == 'n') {
        ok = j_lit(c, "null");
    } else {
        ok = j_number(c);
    }
    c->depth--;
    return ok;
}

/* 1 if the line is exactly one JSON value, with optional whitespace. */
static int json_valid(const char *s, size_t n)
{
    struct jcur c = {s, n, 0, 0};
    if (!j_value(&c)) {
        return 0;
    }
    j_ws(&c);
    return c.i == n;
}

/* Checks that can be switched off (comma-separated names in the environment
 * variable WD_FUZZ_SKIP), so that a known, already reported bug does not
 * stop a long run from finding others:
 *   json       an accepted line is valid JSON
 *   unchanged  a failed wd_book_apply leaves the book as it was */
enum { SKIP_JSON = 1, SKIP_UNCHANGED = 2 };

static unsigned skipped_checks(void)
{
    static int init;
    static unsigned skip;
    if (!init) {
        const char *v = getenv("WD_FUZZ_SKIP");
        init = 1;
        if (v != NULL) {
            skip |= strstr(v, "json") != NULL ? SKIP_JSON : 0u;
            skip |= strstr(v, "unchanged") != NULL ? SKIP_UNCHANGED : 0u;
        }
    }
    return skip;
}

/* What the decoder promises about an event it accepted. */
static void check_event(const struct wd_event *ev, const char *line, size_t len,
                        const struct wd_intern *symbols, const struct wd_intern *accounts,
                        size_t line_no)
{
    CHECK(ev->type > WD_EV_NONE && ev->type < WD_EV__COUNT);
    CHECK(ev->ts_ns >= 0);
    CHECK(ev->account < wd_intern_count(accounts));
    CHECK(ev->symbol == WD_NO_ID || ev->symbol < wd_intern_count(symbols));
    switch (ev->type) {
    case WD_EV_QUOTE:
        CHECK(ev->symbol != WD_NO_ID);
        CHECK(ev->u.quote.bid > 0 && ev->u.quote.bid <= WD_FIX_INPUT_MAX);
        CHECK(ev->u.quote.ask > 0 && ev->u.quote.ask <= WD_FIX_INPUT_MAX);
        CHECK(ev->u.quote.bid_size >= 0 && ev->u.quote.bid_size <= WD_FIX_INPUT_MAX);
        CHECK(ev->u.quote.ask_size >= 0 && ev->u.quote.ask_size <= WD_FIX_INPUT_MAX);
        break;
    case WD_EV_TRADE:
        CHECK(ev->symbol != WD_NO_ID);
        CHECK(ev->u.trade.price > 0 && ev->u.trade.price <= WD_FIX_INPUT_MAX);
        CHECK(ev->u.trade.size > 0 && ev->u.trade.size <= WD_FIX_INPUT_MAX);
        break;
    case WD_EV_BAR:
        CHECK(ev->symbol != WD_NO_ID);
        CHECK(ev->u.bar.open > 0 && ev->u.bar.high > 0 && ev->u.bar.low > 0 &&
              ev->u.bar.close > 0 && ev->u.bar.volume >= 0);
        CHECK(ev->u.bar.interval_s >= 0);
        break;
    case WD_EV_INTENT: {
        const struct wd_ev_intent *in = &ev->u.intent;
        CHECK(ev->symbol != WD_NO_ID);
        CHECK(in->side == WD_SIDE_BUY || in->side == WD_SIDE_SELL);
        CHECK(in->order_type == WD_ORDER_MKT || in->order_type == WD_ORDER_LMT);
        CHECK(in->qty > 0 && in->qty <= WD_FIX_INPUT_MAX);
        CHECK(in->order_type != WD_ORDER_LMT || (in->has_limit && in->limit > 0));
        CHECK(!in->has_limit || (in->limit > 0 && in->limit <= WD_FIX_INPUT_MAX));
        CHECK(in->id.len > 0 && in->source.len > 0);
        CHECK(in->qty_text.len > 0 && in->ts_text.len > 0);
        CHECK(str_in_line(in->id, line, len) && str_in_line(in->source, line, len) &&
              str_in_line(in->sig, line, len) && str_in_line(in->qty_text, line, len) &&
              str_in_line(in->ts_text, line, len));
        break;
    }
    case WD_EV_ACK:
        CHECK(ev->u.ack.status == WD_ACK_ACCEPTED || ev->u.ack.status == WD_ACK_REJECTED ||
              ev->u.ack.status == WD_ACK_CANCELLED);
        CHECK(ev->u.ack.id.len > 0);
        CHECK(str_in_line(ev->u.ack.id, line, len) && str_in_line(ev->u.ack.reason, line, len));
        break;
    case WD_EV_FILL: {
        const struct wd_ev_fill *f = &ev->u.fill;
        CHECK(ev->symbol != WD_NO_ID);
        CHECK(f->side == WD_SIDE_BUY || f->side == WD_SIDE_SELL);
        CHECK(f->qty > 0 && f->qty <= WD_FIX_INPUT_MAX);
        CHECK(f->price > 0 && f->price <= WD_FIX_INPUT_MAX);
        CHECK(f->commission >= 0 && f->commission <= WD_FIX_INPUT_MAX);
        CHECK(f->id.len > 0);
        CHECK(str_in_line(f->id, line, len) && str_in_line(f->exec_id, line, len));
        break;
    }
    case WD_EV_HEARTBEAT:
        CHECK(ev->u.heartbeat.status == WD_HB_UP || ev->u.heartbeat.status == WD_HB_DOWN);
        CHECK(ev->u.heartbeat.component.len > 0);
        CHECK(str_in_line(ev->u.heartbeat.component, line, len) &&
              str_in_line(ev->u.heartbeat.detail, line, len));
        break;
    case WD_EV_ACCOUNT:
        CHECK(fix_in_input_range(ev->u.account.equity));
        CHECK(!ev->u.account.has_cash || fix_in_input_range(ev->u.account.cash));
        CHECK(!ev->u.account.has_buying_power ||
              fix_in_input_range(ev->u.account.buying_power));
        break;
    case WD_EV_METRIC:
        CHECK(ev->u.metric.name.len > 0);
        CHECK(isfinite(ev->u.metric.value));
        CHECK(str_in_line(ev->u.metric.name, line, len) &&
              str_in_line(ev->u.metric.labels, line, len));
        CHECK(ev->u.metric.labels.len == 0 ||
              (ev->u.metric.labels.ptr[0] == '{' &&
               ev->u.metric.labels.ptr[ev->u.metric.labels.len - 1u] == '}'));
        break;
    default:
        CHECK(0);
    }
}

/* Sums over accounts and positions, in 128 bits so that a bad book cannot
 * hide behind an overflow here. */
struct sums {
    wd_i128 capital, cash, realized, commission, mtm, cost, gross, equity, day_open;
};

static void add_figures(struct sums *s, const struct wd_figures *f)
{
    s->capital += f->capital;
    s->cash += f->cash;
    s->realized += f->realized;
    s->commission += f->commission;
    s->mtm += f->mtm;
    s->cost += f->cost;
    s->gross += f->gross;
    s->equity += f->equity;
    s->day_open += f->day_open;
}

/* The identities of book.h, for one account or the firm. */
static void check_figures(const struct wd_figures *f, size_t line_no)
{
    CHECK((wd_i128)f->equity == (wd_i128)f->cash + f->mtm);
    CHECK((wd_i128)f->cash == (wd_i128)f->capital + f->realized - f->cost);
    CHECK(f->commission >= 0);
    CHECK(f->peak >= f->equity);
    CHECK(!isnan(f->drawdown) && !isnan(f->max_drawdown));
    CHECK(f->max_drawdown >= f->drawdown);
    CHECK(f->peak <= 0 || f->drawdown >= 0.0);
}

/* The whole book: every account, the firm as the sum of the accounts, and
 * every position valued at its symbol's mark. */
static void check_book(const struct wd_book *b, size_t line_no)
{
    struct sums acc, pos;
    memset(&acc, 0, sizeof acc);
    memset(&pos, 0, sizeof pos);
    uint32_t slots = wd_book_account_slots(b);
    for (uint32_t id = 0; id < slots; id++) {
        const struct wd_figures *f = wd_book_account(b, id);
        if (f == NULL) {
            continue;
        }
        check_figures(f, line_no);
        add_figures(&acc, f);
        /* Per-account sums over its positions. */
        wd_i128 mtm = 0, cost = 0, realized = 0, gross = 0;
        for (size_t i = 0; i < wd_book_position_count(b); i++) {
            const struct wd_position *p = wd_book_position(b, i);
            if (p->account == id) {
                mtm += p->mtm;
                cost += p->cost;
                realized += p->realized;
                gross += p->mtm < 0 ? -(wd_i128)p->mtm : p->mtm;
            }
        }
        CHECK(mtm == f->mtm);
        CHECK(gross == f->gross);
        CHECK(cost == f->cost);
        CHECK(realized == f->realized);
    }
    const struct wd_figures *firm = wd_book_firm(b);
    check_figures(firm, line_no);
    CHECK(acc.capital == firm->capital);
    CHECK(acc.cash == firm->cash);
    CHECK(acc.realized == firm->realized);
    CHECK(acc.commission == firm->commission);
    CHECK(acc.mtm == firm->mtm);
    CHECK(acc.cost == firm->cost);
    CHECK(acc.gross == firm->gross);
    CHECK(acc.equity == firm->equity);
    CHECK(acc.day_open == firm->day_open);

    CHECK(wd_book_position_count(b) <= FUZZ_MAX_POSITIONS);
    for (size_t i = 0; i < wd_book_position_count(b); i++) {
        const struct wd_position *p = wd_book_position(b, i);
        CHECK(p != NULL);
        CHECK(wd_book_account(b, p->account) != NULL);
        /* A flat position has no cost and no value. */
        CHECK(p->qty != 0 || (p->cost == 0 && p->mtm == 0));
        /* An open position is valued at its symbol's mark (a fill sets
         * one); a position without a mark can only be flat. */
        wd_fix mark, want;
        if (wd_book_mark(b, p->symbol, &mark)) {
            CHECK(wd_fix_mul(p->qty, mark, &want) == WD_OK);
            CHECK(want == p->mtm);
        } else {
            CHECK(p->qty == 0 && p->mtm == 0);
        }
        for (size_t j = 0; j < i; j++) {
            const struct wd_position *q = wd_book_position(b, j);
            CHECK(q->account != p->account || q->symbol != p->symbol);
        }
    }
}

/* Everything an event may change, for "on any error the event is as if
 * absent" (book.h, wd_book_apply): figures, day, accounts, positions. */
struct snapshot {
    struct wd_figures firm;
    struct wd_figures accts[FUZZ_MAX_ACCOUNTS];
    bool present[FUZZ_MAX_ACCOUNTS];
    struct wd_position pos[FUZZ_MAX_POSITIONS];
    size_t n_pos;
    uint64_t events;
    int64_t day, last_ts;
};

static void take_snapshot(const struct wd_book *b, struct snapshot *s)
{
    memset(s, 0, sizeof *s);
    s->firm = *wd_book_firm(b);
    for (uint32_t id = 0; id < FUZZ_MAX_ACCOUNTS; id++) {
        const struct wd_figures *f = id < wd_book_account_slots(b) ? wd_book_account(b, id)
                                                                    : NULL;
        s->present[id] = f != NULL;
        if (f != NULL) {
            s->accts[id] = *f;
        }
    }
    s->n_pos = wd_book_position_count(b);
    for (size_t i = 0; i < s->n_pos && i < FUZZ_MAX_POSITIONS; i++) {
        s->pos[i] = *wd_book_position(b, i);
    }
    s->events = wd_book_events(b);
    s->day = wd_book_day(b);
    s->last_ts = wd_book_last_ts(b);
}

static int same_figures(const struct wd_figures *a, const struct wd_figures *b)
{
    return a->capital == b->capital && a->cash == b->cash && a->realized == b->realized &&
           a->commission == b->commission && a->mtm == b->mtm && a->cost == b->cost &&
           a->gross == b->gross && a->equity == b->equity && a->day_open == b->day_open &&
           a->peak == b->peak &&
           memcmp(&a->drawdown, &b->drawdown, sizeof a->drawdown) == 0 &&
           memcmp(&a->max_drawdown, &b->max_drawdown, sizeof a->max_drawdown) == 0;
}

/* Field by field: struct padding is not part of the state. */
static int same_snapshot(const struct snapshot *a, const struct snapshot *b)
{
    if (!same_figures(&a->firm, &b->firm) || a->n_pos != b->n_pos || a->events != b->events ||
        a->day != b->day || a->last_ts != b->last_ts) {
        return 0;
    }
    for (size_t id = 0; id < FUZZ_MAX_ACCOUNTS; id++) {
        if (a->present[id] != b->present[id] ||
            (a->present[id] && !same_figures(&a->accts[id], &b->accts[id]))) {
            return 0;
        }
    }
    for (size_t i = 0; i < a->n_pos && i < FUZZ_MAX_POSITIONS; i++) {
        const struct wd_position *p = &a->pos[i], *q = &b->pos[i];
        if (p->account != q->account || p->symbol != q->symbol || p->qty != q->qty ||
            p->cost != q->cost || p->mtm != q->mtm || p->realized != q->realized) {
            return 0;
        }
    }
    return 1;
}

/* Runs one line through the decoder and the book and checks both. */
static void run_line(struct wd_decoder *dec, struct wd_book *book, struct wd_intern *symbols,
                     struct wd_intern *accounts, const uint8_t *bytes, size_t len,
                     size_t line_no)
{
    /* An exact-size copy: ASan flags any read past the line. */
    char *line = malloc(len > 0 ? len : 1u);
    CHECK(line != NULL);
    if (len > 0) {
        memcpy(line, bytes, len);
    }
    struct wd_event ev;
    struct wd_error err;
    memset(&err, 0, sizeof err);
    uint32_t n_sym = wd_intern_count(symbols), n_acct = wd_intern_count(accounts);

    enum wd_status st = wd_decode_line(dec, line, len, &ev, &err);
    CHECK(st == WD_OK || st == WD_EINVAL || st == WD_EFULL || st == WD_ENOMEM);
    CHECK(wd_intern_count(symbols) <= FUZZ_MAX_SYMBOLS);
    CHECK(wd_intern_count(accounts) <= FUZZ_MAX_ACCOUNTS);
    if (st != WD_OK) {
        CHECK(err.msg[0] != '\0');
        CHECK(memchr(err.msg, '\0', sizeof err.msg) != NULL);
        CHECK(err.column <= len + 1u);
    }
    if (st == WD_EINVAL) {
        /* A rejected line leaves no trace in the name tables, and the
         * verdict does not depend on whether details are asked for. */
        CHECK(wd_intern_count(symbols) == n_sym && wd_intern_count(accounts) == n_acct);
        CHECK(wd_decode_line(dec, line, len, &ev, NULL) == WD_EINVAL);
    }
    if (st == WD_OK) {
        check_event(&ev, line, len, symbols, accounts, line_no);
        CHECK((skipped_checks() & SKIP_JSON) || json_valid(line, len));

        struct snapshot before, after;
        take_snapshot(book, &before);
        memset(&err, 0, sizeof err);
        enum wd_status bst = wd_book_apply(book, &ev, &err);
        CHECK(bst == WD_OK || bst == WD_ERANGE || bst == WD_EFULL || bst == WD_ENOMEM);
        if (bst != WD_OK) {
            CHECK(err.msg[0] != '\0');
            take_snapshot(book, &after);
            CHECK((skipped_checks() & SKIP_UNCHANGED) || same_snapshot(&before, &after));
        } else {
            CHECK(wd_book_events(book) == before.events + 1u);
            CHECK(wd_book_last_ts(book) >= ev.ts_ns);
        }
        check_book(book, line_no);
    }
    free(line);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t line_no = 0; /* for CHECK messages */
    struct wd_intern symbols, accounts;
    struct wd_decoder *dec = NULL;
    struct wd_book *book = NULL;

    CHECK(wd_intern_init(&symbols, FUZZ_MAX_SYMBOLS) == WD_OK);
    CHECK(wd_intern_init(&accounts, FUZZ_MAX_ACCOUNTS) == WD_OK);
    CHECK(wd_decoder_new(&symbols, &accounts, &dec) == WD_OK);

    /* One configured account with its own capital, the rest default. */
    static const struct wd_account_capital listed[] = {
        {"acct_cfg", 250000LL * WD_FIX_SCALE},
    };
    struct wd_book_config cfg = {
        .default_capital = 1000000LL * WD_FIX_SCALE,
        .accounts = listed,
        .n_accounts = sizeof listed / sizeof listed[0],
        .tz = session_tz(),
        .max_positions = FUZZ_MAX_POSITIONS,
    };
    struct wd_error err;
    memset(&err, 0, sizeof err);
    CHECK(wd_book_new(&cfg, &symbols, &accounts, &book, &err) == WD_OK);
    check_book(book, line_no);

    size_t start = 0;
    while (start < size) {
        const uint8_t *nl = memchr(data + start, '\n', size - start);
        size_t end = nl != NULL ? (size_t)(nl - data) : size;
        line_no++;
        run_line(dec, book, &symbols, &accounts, data + start, end - start, line_no);
        start = end + 1u;
    }

    wd_book_free(book);
    wd_decoder_free(dec);
    wd_intern_destroy(&accounts);
    wd_intern_destroy(&symbols);
    return 0;
}
