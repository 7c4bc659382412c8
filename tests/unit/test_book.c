/*
 * The book (SPEC section 4) with exact expected numbers: average cost and
 * partial closes, flips through zero, commission, each mark fallback, the
 * day boundary at local midnight on DST-change days, both timestamp forms,
 * several accounts, starting capital from an account event, high-water-mark
 * drawdown, overflow leaving the book unchanged, and the identities
 * equity == cash + sum(qty * mark) == capital + realized + unrealized after
 * every event of a long pseudo-random session.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "warden/book.h"
#include "warden/decode.h"
#include "warden/fixed.h"
#include "warden/timeutil.h"
#include "warden/tz.h"

struct fx {
    struct wd_intern symbols, accounts;
    struct wd_decoder *dec;
    struct wd_book *book;
    struct wd_tz *tz;
};

/* cmocka 1.1's float assertion works in float precision: ours is double. */
#define assert_double_equal(a, b, eps) check_double((a), (b), (eps), __LINE__)
static void check_double(double a, double b, double eps, int line)
{
    if (!(fabs(a - b) <= eps)) {
        fail_msg("line %d: %.17g != %.17g (eps %g)", line, a, b, eps);
    }
}

static wd_fix F(const char *s)
{
    wd_fix v = 0;
    assert_int_equal(wd_fix_parse(s, strlen(s), &v), WD_OK);
    return v;
}

static void fx_open(struct fx *f, const struct wd_account_capital *accts, size_t n)
{
    static const char ny[] = "EST5EDT,M3.2.0,M11.1.0";
    memset(f, 0, sizeof *f);
    assert_int_equal(wd_tz_from_posix(ny, strlen(ny), &f->tz, NULL), WD_OK);
    assert_int_equal(wd_intern_init(&f->symbols, 1000), WD_OK);
    assert_int_equal(wd_intern_init(&f->accounts, 100), WD_OK);
    assert_int_equal(wd_decoder_new(&f->symbols, &f->accounts, &f->dec), WD_OK);
    struct wd_book_config bc = {.default_capital = wd_fix_from_int(1000000),
                                .accounts = accts,
                                .n_accounts = n,
                                .tz = f->tz};
    assert_int_equal(wd_book_new(&bc, &f->symbols, &f->accounts, &f->book, NULL), WD_OK);
}

static void fx_close(struct fx *f)
{
    wd_book_free(f->book);
    wd_decoder_free(f->dec);
    wd_intern_destroy(&f->symbols);
    wd_intern_destroy(&f->accounts);
    wd_tz_free(f->tz);
}

static enum wd_status apply(struct fx *f, const char *line)
{
    struct wd_event ev;
    struct wd_error err = {0};
    enum wd_status st = wd_decode_line(f->dec, line, strlen(line), &ev, &err);
    if (st != WD_OK) {
        fail_msg("decode failed: %s: %s", err.msg, line);
    }
    return wd_book_apply(f->book, &ev, &err);
}

static void ok(struct fx *f, const char *line) { assert_int_equal(apply(f, line), WD_OK); }

static const struct wd_figures *acct(struct fx *f, const char *name)
{
    uint32_t id;
    assert_int_equal(wd_intern_find(&f->accounts, name, strlen(name), &id), WD_OK);
    const struct wd_figures *fig = wd_book_account(f->book, id);
    assert_non_null(fig);
    return fig;
}

static const struct wd_position *pos(struct fx *f, const char *account, const char *symbol)
{
    for (size_t i = 0; i < wd_book_position_count(f->book); i++) {
        const struct wd_position *p = wd_book_position(f->book, i);
        if (strcmp(wd_intern_name(&f->accounts, p->account), account) == 0 &&
            strcmp(wd_intern_name(&f->symbols, p->symbol), symbol) == 0) {
            return p;
        }
    }
    fail_msg("no position %s/%s", account, symbol);
    return NULL;
}

#define T0 "1763303400000000000" /* 2025-11-16T14:30:00Z */

static void test_book_partial_close_realizes_against_avg_cost(void **state)
{
    (void)state;
    struct fx f;
    fx_open(&f, NULL, 0);
    ok(&f, "{\"type\":\"fill\",\"ts\":" T0 ",\"id\":\"o1\",\"symbol\":\"AAPL\",\"side\":\"BUY\","
           "\"qty\":100,\"price\":100}");
    ok(&f, "{\"type\":\"fill\",\"ts\":" T0 ",\"id\":\"o2\",\"symbol\":\"AAPL\",\"side\":\"BUY\","
           "\"qty\":100,\"price\":110}");
    /* 200 @ 105 average; sell 50 @ 120 realizes 50 * 15 = 750. */
    ok(&f, "{\"type\":\"fill\",\"ts\":" T0 ",\"id\":\"o3\",\"symbol\":\"AAPL\",\"side\":\"SELL\","
           "\"qty\":50,\"price\":120}");
    const struct wd_position *p = pos(&f, "default", "AAPL");
    assert_int_equal(p->qty, F("150"));
    assert_int_equal(wd_position_avg_cost(p), F("105"));
    assert_int_equal(p->cost, F("15750"));
    const struct wd_figures *a = acct(&f, "default");
    assert_int_equal(a->realized, F("750"));
    /* Mark = last fill price 120 (no quote, no trade): 150 * 15 unrealized. */
    assert_int_equal(a->mtm, F("18000"));
    assert_int_equal(wd_figures_unrealized(a), F("2250"));
    assert_int_equal(a->cash, F("1000000") - F("21000") + F("6000"));
    assert_int_equal(a->equity, F("1003000"));
    assert_int_equal(a->equity, a->capital + a->realized + wd_figures_unrealized(a));
    fx_close(&f);
}

static void test_book_flip_through_zero_realizes_old_and_opens_rest(void **state)
{
    (void)state;
    struct fx f;
    fx_open(&f, NULL, 0);
    ok(&f, "{\"type\":\"fill\",\"ts\":" T0 ",\"id\":\"o1\",\"symbol\":\"MSFT\",\"side\":\"BUY\","
           "\"qty\":100,\"price\":100}");
    ok(&f, "{\"type\":\"fill\",\"ts\":" T0 ",\"id\":\"o2\",\"symbol\":\"MSFT\",\"side\":\"SELL\","
           "\"qty\":150,\"price\":90}");
    const struct wd_position *p = pos(&f, "default", "MSFT");
    assert_int_equal(p->qty, F("-50"));
    assert_int_equal(wd_position_avg_cost(p), F("90"));
    assert_int_equal(p->cost, F("-4500"));
    const struct wd_figures *a = acct(&f, "default");
    assert_int_equal(a->realized, F("-1000"));
    assert_int_equal(a->cash, F("1003500"));
    assert_int_equal(wd_figures_unrealized(a), 0);
    assert_int_equal(a->equity, F("999000"));
    /* Cover the short partly at 80: realizes 20 * 10 = 200. */
    ok(&f, "{\"type\":\"fill\",\"ts\":" T0 ",\"id\":\"o3\",\"symbol\":\"MSFT\",\"side\":\"BUY\","
           "\"qty\":20,\"price\":80}");
    assert_int_equal(p->qty, F("-30"));
    assert_int_equal(a->realized, F("-800"));
    assert_int_equal(wd_position_avg_cost(p), F("90"));
    /* Close exactly: no cost left behind, whatever the rounding. */
    ok(&f, "{\"type\":\"fill\",\"ts\":" T0 ",\"id\":\"o4\",\"symbol\":\"MSFT\",\"side\":\"BUY\","
           "\"qty\":30,\"price\":85}");
    assert_int_equal(p->qty, 0);
    assert_int_equal(p->cost, 0);
    assert_int_equal(a->realized, F("-650"));
    assert_int_equal(a->equity, F("999350"));
    assert_int_equal(a->cash, a->equity);
    fx_close(&f);
}

static void test_book_commission_reduces_cash_and_realized(void **state)
{
    (void)state;
    struct fx f;
    fx_open(&f, NULL, 0);
    ok(&f, "{\"type\":\"fill\",\"ts\":" T0 ",\"id\":\"o1\",\"symbol\":\"X\",\"side\":\"BUY\","
           "\"qty\":100,\"price\":10,\"commission\":1.5}");
    const struct wd_figures *a = acct(&f, "default");
    assert_int_equal(a->realized, F("-1.5"));
    assert_int_equal(a->cash, F("998998.5"));
    assert_int_equal(a->equity, F("999998.5"));
    ok(&f, "{\"type\":\"fill\",\"ts\":" T0 ",\"id\":\"o2\",\"symbol\":\"X\",\"side\":\"SELL\","
           "\"qty\":100,\"price\":11,\"commission\":1.25}");
    assert_int_equal(a->realized, F("97.25"));
    assert_int_equal(a->commission, F("2.75"));
    assert_int_equal(a->cash, F("1000097.25"));
    assert_int_equal(a->equity, F("1000097.25"));
    fx_close(&f);
}

static void test_book_mark_falls_back_quote_then_trade_then_fill(void **state)
{
    (void)state;
    struct fx f;
    wd_fix m;
    fx_open(&f, NULL, 0);
    uint32_t sym;
    ok(&f, "{\"type\":\"fill\",\"ts\":" T0 ",\"id\":\"o1\",\"symbol\":\"XYZ\",\"side\":\"BUY\","
           "\"qty\":10,\"price\":20}");
    assert_int_equal(wd_intern_find(&f.symbols, "XYZ", 3, &sym), WD_OK);
    assert_true(wd_book_mark(f.book, sym, &m));
    assert_int_equal(m, F("20")); /* only a fill so far */
    ok(&f, "{\"type\":\"trade\",\"ts\":" T0 ",\"symbol\":\"XYZ\",\"price\":21,\"size\":5}");
    assert_true(wd_book_mark(f.book, sym, &m));
    assert_int_equal(m, F("21")); /* a trade beats a fill */
    assert_int_equal(wd_figures_unrealized(acct(&f, "default")), F("10"));
    ok(&f, "{\"type\":\"quote\",\"ts\":" T0 ",\"symbol\":\"XYZ\",\"bid\":21.9,\"ask\":22.1}");
    assert_true(wd_book_mark(f.book, sym, &m));
    assert_int_equal(m, F("22")); /* a quote's mid beats both */
    assert_int_equal(wd_figures_unrealized(acct(&f, "default")), F("20"));
    ok(&f, "{\"type\":\"trade\",\"ts\":" T0 ",\"symbol\":\"XYZ\",\"price\":25,\"size\":5}");
    ok(&f, "{\"type\":\"fill\",\"ts\":" T0 ",\"id\":\"o2\",\"symbol\":\"XYZ\",\"side\":\"BUY\","
           "\"qty\":10,\"price\":30}");
    assert_true(wd_book_mark(f.book, sym, &m));
    assert_int_equal(m, F("22")); /* the last quote still rules */
    assert_int_equal(acct(&f, "default")->mtm, F("440"));
    assert_int_equal(wd_figures_unrealized(acct(&f, "default")), F("-60"));
    /* A symbol with nothing has no mark. */
    ok(&f, "{\"type\":\"intent\",\"ts\":" T0 ",\"id\":\"o9\",\"symbol\":\"NEW\",\"side\":\"BUY\","
           "\"qty\":1,\"source\":\"s\"}");
    assert_int_equal(wd_intern_find(&f.symbols, "NEW", 3, &sym), WD_OK);
    assert_false(wd_book_mark(f.book, sym, &m));
    fx_close(&f);
}

static void test_book_quote_mid_rounds_half_away_from_zero(void **state)
{
    (void)state;
    struct fx f;
    wd_fix m;
    uint32_t sym;
    fx_open(&f, NULL, 0);
    ok(&f, "{\"type\":\"quote\",\"ts\":" T0 ",\"symbol\":\"P\",\"bid\":0.00000001,"
           "\"ask\":0.00000002}");
    assert_int_equal(wd_intern_find(&f.symbols, "P", 1, &sym), WD_OK);
    assert_true(wd_book_mark(f.book, sym, &m));
    assert_int_equal(m, 2); /* 1.5e-8 rounds to 2e-8 */
    fx_close(&f);
}

static void test_book_new_mark_revalues_every_holder(void **state)
{
    (void)state;
    struct fx f;
    fx_open(&f, NULL, 0);
    ok(&f, "{\"type\":\"fill\",\"ts\":" T0 ",\"account\":\"A\",\"id\":\"a1\",\"symbol\":\"S\","
           "\"side\":\"BUY\",\"qty\":10,\"price\":50}");
    ok(&f, "{\"type\":\"fill\",\"ts\":" T0 ",\"account\":\"B\",\"id\":\"b1\",\"symbol\":\"S\","
           "\"side\":\"SELL\",\"qty\":4,\"price\":50}");
    ok(&f, "{\"type\":\"quote\",\"ts\":" T0 ",\"symbol\":\"S\",\"bid\":54.9,\"ask\":55.1}");
    assert_int_equal(wd_figures_unrealized(acct(&f, "A")), F("50"));
    assert_int_equal(wd_figures_unrealized(acct(&f, "B")), F("-20"));
    const struct wd_figures *firm = wd_book_firm(f.book);
    assert_int_equal(firm->capital, F("2000000"));
    assert_int_equal(firm->equity, F("2000030"));
    fx_close(&f);
}

static void test_book_several_accounts_sum_to_firm(void **state)
{
    (void)state;
    struct fx f;
    const struct wd_account_capital caps[] = {{"alpha", 500000LL * WD_FIX_SCALE},
                                              {"beta", 250000LL * WD_FIX_SCALE}};
    fx_open(&f, caps, 2);
    const struct wd_figures *firm = wd_book_firm(f.book);
    /* Listed accounts exist before any event. */
    assert_int_equal(firm->capital, F("750000"));
    assert_int_equal(firm->equity, F("750000"));
    ok(&f, "{\"type\":\"fill\",\"ts\":" T0 ",\"account\":\"alpha\",\"id\":\"a1\",\"symbol\":\"S\","
           "\"side\":\"BUY\",\"qty\":100,\"price\":10}");
    ok(&f, "{\"type\":\"fill\",\"ts\":" T0 ",\"account\":\"beta\",\"id\":\"b1\",\"symbol\":\"S\","
           "\"side\":\"BUY\",\"qty\":100,\"price\":10}");
    ok(&f, "{\"type\":\"trade\",\"ts\":" T0 ",\"symbol\":\"S\",\"price\":9,\"size\":1}");
    assert_int_equal(acct(&f, "alpha")->equity, F("499900"));
    assert_int_equal(acct(&f, "beta")->equity, F("249900"));
    assert_int_equal(firm->equity, F("749800"));
    /* An unlisted account joins with the default capital. */
    ok(&f, "{\"type\":\"fill\",\"ts\":" T0 ",\"account\":\"gamma\",\"id\":\"g1\",\"symbol\":\"S\","
           "\"side\":\"SELL\",\"qty\":10,\"price\":9}");
    assert_int_equal(acct(&f, "gamma")->capital, F("1000000"));
    assert_int_equal(firm->capital, F("1750000"));
    assert_int_equal(firm->equity, F("1749800"));
    assert_int_equal(firm->realized, acct(&f, "alpha")->realized + acct(&f, "beta")->realized +
                                         acct(&f, "gamma")->realized);
    /* Market data belongs to no account: it never creates one. */
    uint32_t id;
    assert_int_equal(wd_intern_find(&f.accounts, "default", 7, &id), WD_OK);
    assert_null(wd_book_account(f.book, id));
    fx_close(&f);
}

static void test_book_account_event_sets_capital_only_before_fills(void **state)
{
    (void)state;
    struct fx f;
    fx_open(&f, NULL, 0);
    ok(&f, "{\"type\":\"account\",\"ts\":" T0 ",\"account\":\"A\",\"equity\":250000}");
    assert_int_equal(acct(&f, "A")->capital, F("250000"));
    assert_int_equal(acct(&f, "A")->peak, F("250000"));
    assert_int_equal(acct(&f, "A")->day_open, F("250000"));
    assert_int_equal(wd_book_firm(f.book)->capital, F("250000"));
    /* A later account event does not move the baseline. */
    ok(&f, "{\"type\":\"account\",\"ts\":" T0 ",\"account\":\"A\",\"equity\":300000}");
    assert_int_equal(acct(&f, "A")->capital, F("250000"));
    /* Nor does one that comes after the account's first fill. */
    ok(&f, "{\"type\":\"fill\",\"ts\":" T0 ",\"account\":\"B\",\"id\":\"b1\",\"symbol\":\"S\","
           "\"side\":\"BUY\",\"qty\":1,\"price\":10}");
    ok(&f, "{\"type\":\"account\",\"ts\":" T0 ",\"account\":\"B\",\"equity\":5}");
    assert_int_equal(acct(&f, "B")->capital, F("1000000"));
    fx_close(&f);
}

static void test_book_both_ts_forms_give_the_same_book(void **state)
{
    (void)state;
    struct fx a, b;
    fx_open(&a, NULL, 0);
    fx_open(&b, NULL, 0);
    ok(&a, "{\"type\":\"fill\",\"ts\":1763303400123000000,\"id\":\"o1\",\"symbol\":\"S\","
           "\"side\":\"BUY\",\"qty\":1,\"price\":10}");
    ok(&b, "{\"type\":\"fill\",\"ts\":\"2025-11-16T09:30:00.123-05:00\",\"id\":\"o1\","
           "\"symbol\":\"S\",\"side\":\"BUY\",\"qty\":1,\"price\":10}");
    assert_int_equal(wd_book_last_ts(a.book), 1763303400123000000LL);
    assert_int_equal(wd_book_last_ts(b.book), 1763303400123000000LL);
    assert_int_equal(wd_book_day(a.book), wd_book_day(b.book));
    assert_memory_equal(wd_book_firm(a.book), wd_book_firm(b.book), sizeof(struct wd_figures));
    fx_close(&a);
    fx_close(&b);
}

/* 2025-03-09 in New York is 23 hours long: it starts at 05:00Z (EST) and
 * the next day starts at 04:00Z (EDT). */
static void test_book_day_boundary_on_dst_spring_forward(void **state)
{
    (void)state;
    struct fx f;
    fx_open(&f, NULL, 0);
    ok(&f, "{\"type\":\"fill\",\"ts\":\"2025-03-08T20:00:00Z\",\"id\":\"o1\",\"symbol\":\"S\","
           "\"side\":\"BUY\",\"qty\":1000,\"price\":100}");
    const struct wd_figures *a = acct(&f, "default");
    assert_int_equal(wd_book_day(f.book), wd_days_from_civil(2025, 3, 8));
    ok(&f, "{\"type\":\"quote\",\"ts\":\"2025-03-09T04:59:59Z\",\"symbol\":\"S\",\"bid\":99,"
           "\"ask\":99}");
    /* Still Saturday 23:59:59 local: the day has not turned. */
    assert_int_equal(wd_book_day(f.book), wd_days_from_civil(2025, 3, 8));
    assert_int_equal(a->day_open, F("1000000"));
    assert_int_equal(a->equity, F("999000"));
    ok(&f, "{\"type\":\"quote\",\"ts\":\"2025-03-09T05:00:00Z\",\"symbol\":\"S\",\"bid\":98,"
           "\"ask\":98}");
    assert_int_equal(wd_book_day(f.book), wd_days_from_civil(2025, 3, 9));
    assert_int_equal(a->day_open, F("999000")); /* equity before the day's first event */
    assert_int_equal(a->equity, F("998000"));
    assert_double_equal(wd_figures_pnl_ratio(a), -1000.0 / 999000.0, 1e-15);
    /* 03:59Z on the 10th is 23:59 EDT on the 9th: same day. A fixed UTC-5
     * offset would have turned the day an hour early. */
    ok(&f, "{\"type\":\"quote\",\"ts\":\"2025-03-10T03:59:00Z\",\"symbol\":\"S\",\"bid\":97,"
           "\"ask\":97}");
    assert_int_equal(wd_book_day(f.book), wd_days_from_civil(2025, 3, 9));
    assert_int_equal(a->day_open, F("999000"));
    ok(&f, "{\"type\":\"quote\",\"ts\":\"2025-03-10T04:00:00Z\",\"symbol\":\"S\",\"bid\":96,"
           "\"ask\":96}");
    assert_int_equal(wd_book_day(f.book), wd_days_from_civil(2025, 3, 10));
    assert_int_equal(a->day_open, F("997000"));
    assert_int_equal(a->equity, F("996000"));
    fx_close(&f);
}

/* 2025-11-02 is 25 hours long: 04:00Z (EDT midnight) to 05:00Z on the 3rd. */
static void test_book_day_boundary_on_dst_fall_back(void **state)
{
    (void)state;
    struct fx f;
    fx_open(&f, NULL, 0);
    ok(&f, "{\"type\":\"fill\",\"ts\":\"2025-11-01T18:00:00Z\",\"id\":\"o1\",\"symbol\":\"S\","
           "\"side\":\"BUY\",\"qty\":10,\"price\":100}");
    ok(&f, "{\"type\":\"trade\",\"ts\":\"2025-11-02T04:00:00Z\",\"symbol\":\"S\",\"price\":110,"
           "\"size\":1}");
    assert_int_equal(wd_book_day(f.book), wd_days_from_civil(2025, 11, 2));
    assert_int_equal(acct(&f, "default")->day_open, F("1000000"));
    ok(&f, "{\"type\":\"trade\",\"ts\":\"2025-11-03T04:30:00Z\",\"symbol\":\"S\",\"price\":120,"
           "\"size\":1}");
    /* 04:30Z on the 3rd is 23:30 EST on the 2nd. */
    assert_int_equal(wd_book_day(f.book), wd_days_from_civil(2025, 11, 2));
    ok(&f, "{\"type\":\"trade\",\"ts\":\"2025-11-03T05:00:00Z\",\"symbol\":\"S\",\"price\":90,"
           "\"size\":1}");
    assert_int_equal(wd_book_day(f.book), wd_days_from_civil(2025, 11, 3));
    assert_int_equal(acct(&f, "default")->day_open, F("1000200"));
    assert_int_equal(acct(&f, "default")->equity, F("999900"));
    fx_close(&f);
}

static void test_book_drawdown_uses_high_water_mark_across_days(void **state)
{
    (void)state;
    struct fx f;
    fx_open(&f, NULL, 0);
    ok(&f, "{\"type\":\"fill\",\"ts\":\"2025-11-17T15:00:00Z\",\"id\":\"o1\",\"symbol\":\"S\","
           "\"side\":\"BUY\",\"qty\":10000,\"price\":100}");
    const struct wd_figures *a = acct(&f, "default");
    assert_int_equal(a->peak, F("1000000"));
    assert_double_equal(a->drawdown, 0.0, 0.0);
    ok(&f, "{\"type\":\"trade\",\"ts\":\"2025-11-17T16:00:00Z\",\"symbol\":\"S\",\"price\":125,"
           "\"size\":1}");
    assert_int_equal(a->peak, F("1250000"));
    ok(&f, "{\"type\":\"trade\",\"ts\":\"2025-11-17T17:00:00Z\",\"symbol\":\"S\",\"price\":100,"
           "\"size\":1}");
    assert_double_equal(a->drawdown, 0.2, 1e-15);
    /* The next day does not reset the peak. */
    ok(&f, "{\"type\":\"trade\",\"ts\":\"2025-11-18T15:00:00Z\",\"symbol\":\"S\",\"price\":110,"
           "\"size\":1}");
    assert_int_equal(a->peak, F("1250000"));
    assert_double_equal(a->drawdown, 150000.0 / 1250000.0, 1e-15);
    assert_double_equal(a->max_drawdown, 0.2, 1e-15);
    fx_close(&f);
}

static void test_book_overflowing_fill_changes_nothing(void **state)
{
    (void)state;
    struct fx f;
    fx_open(&f, NULL, 0);
    ok(&f, "{\"type\":\"fill\",\"ts\":" T0 ",\"id\":\"o1\",\"symbol\":\"S\",\"side\":\"BUY\","
           "\"qty\":10,\"price\":10}");
    struct wd_figures before = *wd_book_firm(f.book);
    struct wd_position pbefore = *pos(&f, "default", "S");
    /* 1e10 * 1e10 = 1e20: far past the int64 range at scale 1e8. */
    assert_int_equal(apply(&f, "{\"type\":\"fill\",\"ts\":" T0 ",\"id\":\"o2\",\"symbol\":\"S\","
                               "\"side\":\"BUY\",\"qty\":10000000000,\"price\":10000000000}"),
                     WD_ERANGE);
    assert_memory_equal(&before, wd_book_firm(f.book), sizeof before);
    assert_memory_equal(&pbefore, pos(&f, "default", "S"), sizeof pbefore);
    /* A quote that would overflow the revaluation is refused too. */
    ok(&f, "{\"type\":\"fill\",\"ts\":" T0 ",\"id\":\"o3\",\"symbol\":\"S\",\"side\":\"BUY\","
           "\"qty\":1000000000,\"price\":1}");
    before = *wd_book_firm(f.book);
    assert_int_equal(apply(&f, "{\"type\":\"quote\",\"ts\":" T0 ",\"symbol\":\"S\","
                               "\"bid\":10000000000,\"ask\":10000000000}"),
                     WD_ERANGE);
    assert_memory_equal(&before, wd_book_firm(f.book), sizeof before);
    fx_close(&f);
}

static void test_book_refused_event_is_as_if_absent(void **state)
{
    (void)state;
    struct fx f;
    fx_open(&f, NULL, 0);
    ok(&f, "{\"type\":\"fill\",\"ts\":\"2025-11-17T15:00:00Z\",\"account\":\"a\",\"id\":\"o1\","
           "\"symbol\":\"S\",\"side\":\"BUY\",\"qty\":10,\"price\":10}");
    const struct wd_figures firm = *wd_book_firm(f.book);
    size_t npos = wd_book_position_count(f.book);
    int64_t day = wd_book_day(f.book);
    /* A new account, a new symbol and a new day, and a fill that overflows. */
    assert_int_equal(apply(&f, "{\"type\":\"fill\",\"ts\":\"2025-11-18T15:00:00Z\","
                               "\"account\":\"b\",\"id\":\"o2\",\"symbol\":\"T\",\"side\":\"BUY\","
                               "\"qty\":10000000000,\"price\":10000000000}"),
                     WD_ERANGE);
    assert_memory_equal(&firm, wd_book_firm(f.book), sizeof firm);
    assert_int_equal(wd_book_position_count(f.book), npos);
    assert_int_equal(wd_book_day(f.book), day);
    assert_int_equal(wd_book_events(f.book), 1);
    uint32_t id;
    assert_int_equal(wd_intern_find(&f.accounts, "b", 1, &id), WD_OK);
    assert_null(wd_book_account(f.book, id));
    /* An account event that cannot set the capital is refused the same way. */
    assert_int_equal(apply(&f, "{\"type\":\"account\",\"ts\":\"2025-11-18T15:00:00Z\","
                               "\"account\":\"c\",\"equity\":-5}"),
                     WD_ERANGE);
    assert_memory_equal(&firm, wd_book_firm(f.book), sizeof firm);
    /* The next good event on the new day rolls it normally. */
    ok(&f, "{\"type\":\"fill\",\"ts\":\"2025-11-18T15:00:00Z\",\"account\":\"b\",\"id\":\"o3\","
           "\"symbol\":\"T\",\"side\":\"BUY\",\"qty\":1,\"price\":10}");
    assert_int_equal(wd_book_day(f.book), wd_days_from_civil(2025, 11, 18));
    assert_int_equal(wd_book_firm(f.book)->capital, F("2000000"));
    assert_int_equal(wd_book_position_count(f.book), npos + 1u);
    fx_close(&f);
}

static uint64_t rng_state = 88172645463325252ull;
static uint64_t xorshift(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* After every event of a long random session: equity == cash + sum of
 * round(qty * mark) recomputed from scratch == capital + realized +
 * unrealized, for each account and for the firm. */
static void test_book_identities_hold_after_every_event(void **state)
{
    (void)state;
    static const char *const accts[] = {"a", "b", "c"};
    static const char *const syms[] = {"S0", "S1", "S2", "S3", "S4"};
    struct fx f;
    char line[512];
    fx_open(&f, NULL, 0);
    int64_t ts = 1763303400000000000LL;
    for (int i = 0; i < 20000; i++) {
        uint64_t r = xorshift();
        const char *sym = syms[r % 5];
        ts += (int64_t)(r % 3600) * WD_NS_PER_S;
        /* Prices with up to 4 decimals, quantities with up to 3. */
        long px = 5000 + (long)(xorshift() % 20000);
        long qty = 1 + (long)(xorshift() % 50000);
        switch ((r >> 8) % 4) {
        case 0:
        case 1:
            snprintf(line, sizeof line,
                     "{\"type\":\"fill\",\"ts\":%lld,\"account\":\"%s\",\"id\":\"o%d\","
                     "\"symbol\":\"%s\",\"side\":\"%s\",\"qty\":%ld.%03ld,\"price\":%ld.%04ld,"
                     "\"commission\":0.%02ld}",
                     (long long)ts, accts[(r >> 16) % 3], i, sym, (r >> 20) & 1 ? "BUY" : "SELL",
                     qty / 1000, qty % 1000, px / 100, (px % 100) * 97 % 10000, (long)(r % 100));
            break;
        case 2:
            snprintf(line, sizeof line,
                     "{\"type\":\"quote\",\"ts\":%lld,\"symbol\":\"%s\",\"bid\":%ld.%04ld,"
                     "\"ask\":%ld.%04ld}",
                     (long long)ts, sym, px / 100, (px % 100) * 31 % 10000, px / 100 + 1,
                     (px % 100) * 53 % 10000);
            break;
        default:
            snprintf(line, sizeof line,
                     "{\"type\":\"trade\",\"ts\":%lld,\"symbol\":\"%s\",\"price\":%ld.%04ld,"
                     "\"size\":1}",
                     (long long)ts, sym, px / 100, (px % 100) * 7 % 10000);
            break;
        }
        ok(&f, line);
        struct wd_figures sum = {0};
        wd_fix firm_mtm = 0, firm_gross = 0;
        for (uint32_t id = 0; id < wd_book_account_slots(f.book); id++) {
            const struct wd_figures *a = wd_book_account(f.book, id);
            if (a == NULL) {
                continue;
            }
            wd_fix mtm = 0, cost = 0, gross = 0;
            for (size_t k = 0; k < wd_book_position_count(f.book); k++) {
                const struct wd_position *p = wd_book_position(f.book, k);
                wd_fix mark, v;
                if (p->account != id || p->qty == 0) {
                    continue;
                }
                assert_true(wd_book_mark(f.book, p->symbol, &mark));
                assert_int_equal(wd_fix_mul(p->qty, mark, &v), WD_OK);
                assert_int_equal(p->mtm, v);
                mtm += v;
                gross += v < 0 ? -v : v;
                cost += p->cost;
            }
            assert_int_equal(a->mtm, mtm);
            assert_int_equal(a->gross, gross);
            assert_int_equal(a->cost, cost);
            assert_int_equal(a->equity, a->cash + mtm);
            assert_int_equal(a->equity, a->capital + a->realized + (mtm - cost));
            sum.capital += a->capital;
            sum.cash += a->cash;
            sum.realized += a->realized;
            firm_mtm += mtm;
            firm_gross += gross;
        }
        const struct wd_figures *firm = wd_book_firm(f.book);
        assert_int_equal(firm->capital, sum.capital);
        assert_int_equal(firm->cash, sum.cash);
        assert_int_equal(firm->realized, sum.realized);
        assert_int_equal(firm->mtm, firm_mtm);
        assert_int_equal(firm->gross, firm_gross);
        assert_int_equal(firm->equity, firm->cash + firm_mtm);
    }
    fx_close(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_book_partial_close_realizes_against_avg_cost),
        cmocka_unit_test(test_book_flip_through_zero_realizes_old_and_opens_rest),
        cmocka_unit_test(test_book_commission_reduces_cash_and_realized),
        cmocka_unit_test(test_book_mark_falls_back_quote_then_trade_then_fill),
        cmocka_unit_test(test_book_quote_mid_rounds_half_away_from_zero),
        cmocka_unit_test(test_book_new_mark_revalues_every_holder),
        cmocka_unit_test(test_book_several_accounts_sum_to_firm),
        cmocka_unit_test(test_book_account_event_sets_capital_only_before_fills),
        cmocka_unit_test(test_book_both_ts_forms_give_the_same_book),
        cmocka_unit_test(test_book_day_boundary_on_dst_spring_forward),
        cmocka_unit_test(test_book_day_boundary_on_dst_fall_back),
        cmocka_unit_test(test_book_drawdown_uses_high_water_mark_across_days),
        cmocka_unit_test(test_book_overflowing_fill_changes_nothing),
        cmocka_unit_test(test_book_refused_event_is_as_if_absent),
        cmocka_unit_test(test_book_identities_hold_after_every_event),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
