/*
 * Account handover (Kafka scale-out, issue 7 point 4): an engine saves the
 * state of some accounts (wd_engine_save_accounts), forgets them
 * (wd_engine_drop_accounts), another loads them (wd_engine_load_accounts).
 * Pinned: a split stream gives the same figures, positions, open orders
 * and gate decisions as one engine that saw it all; the giving engine's
 * firm is that of an engine that never saw the accounts; latches and PSR
 * windows travel; a second load replaces; a malformed record changes
 * nothing; a fill for a dropped account's order is one for an unknown
 * order.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "warden/book.h"
#include "warden/config.h"
#include "warden/engine.h"
#include "warden/fixed.h"
#include "warden/serial.h"
#include "warden/timeutil.h"
#include "warden/tz.h"

#include "recorder.h"

#define NS(s) ((int64_t)(s) * WD_NS_PER_S)

/* 10:00 + s seconds in New York on Monday 2025-11-17 (EST, UTC-5). */
static int64_t at(int s)
{
    return NS(wd_days_from_civil(2025, 11, 17) * 86400 + 15 * 3600 + s);
}

struct fx {
    struct wd_config cfg;
    struct wd_tz *tz;
};

static int fx_setup(void **state)
{
    static const char ny_rule[] = "EST5EDT,M3.2.0,M11.1.0";
    struct fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    assert_int_equal(wd_config_init(&f->cfg), WD_OK);
    f->cfg.detect.unknown_fills = false; /* bare fills build positions */
    f->cfg.limits.max_gross_exposure = wd_fix_from_int(2000);
    assert_int_equal(wd_tz_from_posix(ny_rule, strlen(ny_rule), &f->tz, NULL), WD_OK);
    *state = f;
    return 0;
}

static int fx_teardown(void **state)
{
    struct fx *f = *state;
    wd_config_destroy(&f->cfg);
    wd_tz_free(f->tz);
    free(f);
    return 0;
}

static void open_eng(struct fx *f, struct eng *g, uint32_t max_open_orders)
{
    struct wd_error err = {0};
    memset(g, 0, sizeof *g);
    struct wd_engine_opts o = {.cfg = &f->cfg,
                               .tz = f->tz,
                               .emit = on_output,
                               .emit_ctx = &g->out,
                               .incident_seq = store_seq,
                               .incident_seq_ctx = &g->out.store,
                               .max_open_orders = max_open_orders};
    if (wd_engine_new(&o, &g->e, &err) != WD_OK) {
        fail_msg("engine: %s", err.msg);
    }
    assert_int_equal(
        wd_decoder_new(wd_engine_symbols(g->e), wd_engine_accounts(g->e), &g->dec), WD_OK);
    g->out.quiet_detectors = true;
}

/* ---- the stream -------------------------------------------------------------------- */

/* One event: whose it is ('M' market data, 'A', 'B' an account's) and its
 * line. */
struct evt {
    char who;
    char line[300];
};

#define MAX_EVTS 64

struct stream {
    struct evt v[MAX_EVTS];
    size_t n, half; /* v[0, half) the first half */
};

static void add(struct stream *s, char who, const char *fmt, ...) WD_PRINTF(3, 4);
static void add(struct stream *s, char who, const char *fmt, ...)
{
    assert_true(s->n < MAX_EVTS);
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(s->v[s->n].line, sizeof s->v[s->n].line, fmt, ap);
    va_end(ap);
    assert_true(k > 0 && (size_t)k < sizeof s->v[s->n].line);
    s->v[s->n++].who = who;
}

static int T; /* the next event's second */

static void quote(struct stream *s, const char *sym, const char *bid, const char *ask)
{
    add(s, 'M', "{\"type\":\"quote\",\"ts\":%lld,\"symbol\":\"%s\",\"bid\":%s,\"ask\":%s}",
        (long long)at(T++), sym, bid, ask);
}

static void intent(struct stream *s, char who, const char *id, const char *sym, const char *side,
                   const char *qty, const char *limit)
{
    add(s, who,
        "{\"type\":\"intent\",\"ts\":%lld,\"account\":\"%c\",\"id\":\"%s\",\"symbol\":\"%s\","
        "\"side\":\"%s\",\"qty\":%s,\"source\":\"s1\",\"order_type\":\"LMT\",\"limit\":%s}",
        (long long)at(T++), who, id, sym, side, qty, limit);
}

static void ack(struct stream *s, char who, const char *id)
{
    add(s, who,
        "{\"type\":\"ack\",\"ts\":%lld,\"account\":\"%c\",\"id\":\"%s\",\"status\":\"accepted\"}",
        (long long)at(T++), who, id);
}

static void fill(struct stream *s, char who, const char *id, const char *sym, const char *side,
                 const char *qty, const char *price, const char *commission)
{
    add(s, who,
        "{\"type\":\"fill\",\"ts\":%lld,\"account\":\"%c\",\"id\":\"%s\",\"symbol\":\"%s\","
        "\"side\":\"%s\",\"qty\":%s,\"price\":%s,\"commission\":%s}",
        (long long)at(T++), who, id, sym, side, qty, price, commission);
}

/* Quotes, intents, acks, fills with commission and an account event for A
 * and B; the first half leaves A with two positions and an order partly
 * filled, the second fills more of it, opens and refuses orders by gross
 * exposure (so open notional decides), and gives B a drawdown larger than
 * any the firm saw in the first half. */
static void build(struct stream *s)
{
    memset(s, 0, sizeof *s);
    T = 0;
    quote(s, "AAPL", "99.99", "100.01");
    quote(s, "MSFT", "199.99", "200.01");
    add(s, 'A', "{\"type\":\"account\",\"ts\":%lld,\"account\":\"A\",\"equity\":50000}",
        (long long)at(T++));
    intent(s, 'A', "a1", "AAPL", "BUY", "10", "100");
    ack(s, 'A', "a1");
    fill(s, 'A', "a1", "AAPL", "BUY", "10", "100", "1");
    intent(s, 'B', "b1", "MSFT", "BUY", "5", "200");
    ack(s, 'B', "b1");
    fill(s, 'B', "b1", "MSFT", "BUY", "5", "200", "0"); /* B stays at its peak */
    intent(s, 'A', "a2", "AAPL", "SELL", "4", "101");
    ack(s, 'A', "a2");
    fill(s, 'A', "a2", "AAPL", "SELL", "1", "101", "0.1");
    quote(s, "AAPL", "101.99", "102.01");
    s->half = s->n;
    quote(s, "AAPL", "98.99", "99.01");
    fill(s, 'A', "a2", "AAPL", "SELL", "2", "99", "0.2");
    intent(s, 'A', "a3", "MSFT", "BUY", "3", "200");
    ack(s, 'A', "a3");
    fill(s, 'A', "a3", "MSFT", "BUY", "3", "200.5", "0.3");
    quote(s, "MSFT", "200.99", "201.01");
    intent(s, 'A', "a4", "MSFT", "BUY", "8", "201"); /* gross exposure: refused */
    intent(s, 'A', "a5", "MSFT", "BUY", "1", "201"); /* accepted */
    fill(s, 'B', "b9", "MSFT", "BUY", "100", "201", "0");
    quote(s, "MSFT", "149.99", "150.01");
    intent(s, 'A', "a6", "AAPL", "SELL", "1", "99");
}

/* Feeds events [from, to) whose owner is in `who` ("MAB", "MB", ...). */
static void run(struct eng *g, const struct stream *s, size_t from, size_t to, const char *who)
{
    for (size_t i = from; i < to; i++) {
        if (strchr(who, s->v[i].who) != NULL) {
            eng_process(g, s->v[i].line);
        }
    }
}

/* ---- comparisons ----------------------------------------------------------------------- */

static uint32_t id_of(struct wd_intern *t, const char *name)
{
    uint32_t id = WD_NO_ID;
    if (wd_intern_find(t, name, strlen(name), &id) != WD_OK) {
        return WD_NO_ID;
    }
    return id;
}

static const struct wd_figures *acct(struct eng *g, const char *name)
{
    uint32_t id = id_of(wd_engine_accounts(g->e), name);
    return id == WD_NO_ID ? NULL : wd_book_account(wd_engine_book(g->e), id);
}

static void assert_position_equal(struct eng *x, struct eng *y, const char *a, const char *sym)
{
    const struct wd_position *p = wd_book_find_position(
        wd_engine_book(x->e), id_of(wd_engine_accounts(x->e), a), id_of(wd_engine_symbols(x->e), sym));
    const struct wd_position *q = wd_book_find_position(
        wd_engine_book(y->e), id_of(wd_engine_accounts(y->e), a), id_of(wd_engine_symbols(y->e), sym));
    assert_non_null(p);
    assert_non_null(q);
    assert_int_equal(p->qty, q->qty);
    assert_int_equal(p->cost, q->cost);
    assert_int_equal(p->mtm, q->mtm);
    assert_int_equal(p->realized, q->realized);
}

/* The decisions (id, accept, reason, detail) of g's outputs from first. */
static void decisions(const struct eng *g, size_t first, char *buf, size_t cap)
{
    size_t len = 0;
    buf[0] = '\0';
    for (size_t i = first; i < g->out.n; i++) {
        const struct rec *r = &g->out.v[i];
        if (r->type == WD_OUT_DECISION) {
            int k = snprintf(buf + len, cap - len, "%s %d %s %s\n", r->id, r->accept, r->reason,
                             r->detail);
            assert_true(k > 0 && (size_t)k < cap - len);
            len += (size_t)k;
        }
    }
}

static bool is_a(void *ctx, const char *account)
{
    (void)ctx;
    return strcmp(account, "A") == 0;
}

static void save_a(struct eng *g, struct wd_wbuf *w)
{
    wd_wbuf_init(w);
    wd_engine_save_accounts(g->e, is_a, NULL, w);
    assert_int_equal(w->st, WD_OK);
}

static void load(struct eng *g, const struct wd_wbuf *w, size_t expect_n)
{
    struct wd_error err = {0};
    size_t n = 99;
    if (wd_engine_load_accounts(g->e, w->data, w->len, &n, &err) != WD_OK) {
        fail_msg("load: %s", err.msg);
    }
    assert_int_equal(n, expect_n);
}

/* ---- 1. split equivalence ---------------------------------------------------------------- */

static void test_handover_split_equals_one_engine(void **state)
{
    struct fx *f = *state;
    struct stream s;
    struct eng r, x, y, bonly;
    build(&s);
    open_eng(f, &r, 0);
    open_eng(f, &x, 0);
    open_eng(f, &y, 0);
    open_eng(f, &bonly, 0);

    run(&r, &s, 0, s.half, "MAB");
    run(&x, &s, 0, s.half, "MAB");
    struct wd_wbuf w;
    save_a(&x, &w);
    wd_engine_drop_accounts(x.e, is_a, NULL);
    assert_null(acct(&x, "A"));
    assert_int_equal(wd_engine_open_notional(x.e, id_of(wd_engine_accounts(x.e), "A")), 0);
    load(&y, &w, 1);

    size_t r_first = r.out.n, y_first = y.out.n;
    run(&r, &s, s.half, s.n, "MAB");
    run(&y, &s, s.half, s.n, "MA");
    run(&x, &s, s.half, s.n, "MB");
    run(&bonly, &s, 0, s.n, "MB");

    /* Y's A is R's A: figures, positions, open orders, decisions. */
    assert_figures_equal(acct(&y, "A"), acct(&r, "A"));
    assert_position_equal(&r, &y, "A", "AAPL");
    assert_position_equal(&r, &y, "A", "MSFT");
    wd_fix on_r = wd_engine_open_notional(r.e, id_of(wd_engine_accounts(r.e), "A"));
    assert_int_equal(on_r, wd_engine_open_notional(y.e, id_of(wd_engine_accounts(y.e), "A")));
    assert_true(on_r > 0); /* a2's last share and a5 are open */
    char dr[1024], dy[1024];
    decisions(&r, r_first, dr, sizeof dr);
    decisions(&y, y_first, dy, sizeof dy);
    assert_string_equal(dr, dy);
    assert_non_null(strstr(dr, "a4 0 limit:max_gross_exposure"));
    assert_non_null(strstr(dr, "a5 1"));
    /* Y alone holds A: its firm is A. */
    assert_int_equal(wd_book_firm(wd_engine_book(y.e))->equity, acct(&r, "A")->equity);

    /* X's firm is that of an engine that never saw A, and A is absent. */
    assert_figures_equal(wd_book_firm(wd_engine_book(x.e)), wd_book_firm(wd_engine_book(bonly.e)));
    assert_figures_equal(acct(&x, "B"), acct(&bonly, "B"));
    assert_null(acct(&x, "A"));
    assert_true(wd_book_firm(wd_engine_book(x.e))->max_drawdown > 0.0);

    wd_wbuf_free(&w);
    eng_close(&r);
    eng_close(&x);
    eng_close(&y);
    eng_close(&bonly);
}

/* ---- 2. latches and PSR windows travel ------------------------------------------------------- */

static void test_handover_latch_and_psr_travel(void **state)
{
    struct fx *f = *state;
    f->cfg.limits.max_gross_exposure = 0;
    f->cfg.limits.psr.interval_s = 1;
    f->cfg.limits.psr.window = 60;
    f->cfg.limits.psr.min_obs = 50; /* never fires here */
    struct eng x, y;
    open_eng(f, &x, 0);
    open_eng(f, &y, 0);
    static const char *const mids[] = {"100", "101", "99.5", "100.7", "98"};
    char line[300];
    int t = 0;
    snprintf(line, sizeof line,
             "{\"type\":\"fill\",\"ts\":%lld,\"account\":\"A\",\"id\":\"f1\",\"symbol\":\"AAPL\","
             "\"side\":\"BUY\",\"qty\":1000,\"price\":100}",
             (long long)at(t));
    eng_process(&x, line);
    for (size_t i = 0; i < sizeof mids / sizeof mids[0]; i++) {
        t += 2;
        snprintf(line, sizeof line,
                 "{\"type\":\"trade\",\"ts\":%lld,\"symbol\":\"AAPL\",\"price\":%s,\"size\":1}",
                 (long long)at(t), mids[i]);
        eng_process(&x, line);
    }
    double psr = wd_engine_psr(x.e, id_of(wd_engine_accounts(x.e), "A"));
    assert_true(psr == psr); /* not NaN */
    /* A 6% loss: the PnL switch fires once. */
    t += 2;
    size_t first = x.out.n;
    snprintf(line, sizeof line,
             "{\"type\":\"trade\",\"ts\":%lld,\"symbol\":\"AAPL\",\"price\":40,\"size\":1}",
             (long long)at(t));
    eng_process(&x, line);
    size_t incidents = 0;
    for (size_t i = first; i < x.out.n; i++) {
        incidents += x.out.v[i].type == WD_OUT_INCIDENT;
    }
    assert_int_equal(incidents, 1);
    psr = wd_engine_psr(x.e, id_of(wd_engine_accounts(x.e), "A"));

    struct wd_wbuf w;
    save_a(&x, &w);
    wd_engine_drop_accounts(x.e, is_a, NULL);
    load(&y, &w, 1);
    assert_true(wd_engine_psr(y.e, id_of(wd_engine_accounts(y.e), "A")) == psr);
    double gone = wd_engine_psr(x.e, id_of(wd_engine_accounts(x.e), "A"));
    assert_true(gone != gone); /* NaN: no window */

    /* A second breach in Y (the trading state not carried over: ACTIVE)
     * opens nothing: the latch came along. */
    first = y.out.n;
    snprintf(line, sizeof line,
             "{\"type\":\"trade\",\"ts\":%lld,\"symbol\":\"AAPL\",\"price\":39,\"size\":1}",
             (long long)at(t + 2));
    eng_process(&y, line);
    for (size_t i = first; i < y.out.n; i++) {
        if (y.out.v[i].type == WD_OUT_INCIDENT || y.out.v[i].type == WD_OUT_CONTROL) {
            fail_msg("second halt after handover: %s", describe(&y.out.v[i]));
        }
    }
    /* And the PSR window went on from the carried samples, as in X's copy. */
    struct eng z;
    open_eng(f, &z, 0);
    load(&z, &w, 1);
    eng_process(&z, line);
    assert_true(wd_engine_psr(y.e, id_of(wd_engine_accounts(y.e), "A")) ==
                wd_engine_psr(z.e, id_of(wd_engine_accounts(z.e), "A")));
    wd_wbuf_free(&w);
    eng_close(&x);
    eng_close(&y);
    eng_close(&z);
}

/* ---- 3. replace, never sum ---------------------------------------------------------------- */

static void test_handover_load_twice_replaces(void **state)
{
    struct fx *f = *state;
    struct stream s;
    struct eng x, y;
    build(&s);
    open_eng(f, &x, 0);
    open_eng(f, &y, 0);
    run(&x, &s, 0, s.half, "MAB");
    run(&y, &s, 0, s.half, "MB");
    struct wd_wbuf w, once, twice;
    save_a(&x, &w);
    load(&y, &w, 1);
    wd_wbuf_init(&once);
    wd_engine_save(y.e, &once);
    struct wd_figures firm1 = *wd_book_firm(wd_engine_book(y.e));
    load(&y, &w, 1);
    wd_wbuf_init(&twice);
    wd_engine_save(y.e, &twice);
    assert_figures_equal(wd_book_firm(wd_engine_book(y.e)), &firm1);
    assert_figures_equal(acct(&y, "A"), acct(&x, "A"));
    /* The firm's levels are X's (its drawdown history is its own). */
    const struct wd_figures *fy = wd_book_firm(wd_engine_book(y.e));
    const struct wd_figures *fx = wd_book_firm(wd_engine_book(x.e));
    assert_int_equal(fy->capital, fx->capital);
    assert_int_equal(fy->cash, fx->cash);
    assert_int_equal(fy->equity, fx->equity);
    assert_int_equal(fy->gross, fx->gross);
    assert_int_equal(fy->commission, fx->commission);
    assert_int_equal(fy->day_open, fx->day_open);
    assert_int_equal(fy->peak, fx->peak);
    assert_int_equal(wd_engine_open_notional(y.e, id_of(wd_engine_accounts(y.e), "A")),
                     wd_engine_open_notional(x.e, id_of(wd_engine_accounts(x.e), "A")));
    assert_int_equal(once.len, twice.len);
    wd_wbuf_free(&w);
    wd_wbuf_free(&once);
    wd_wbuf_free(&twice);
    eng_close(&x);
    eng_close(&y);
}

/* ---- 4. malformed records change nothing --------------------------------------------------- */

static void snapshot(struct eng *g, struct wd_wbuf *w)
{
    wd_wbuf_init(w);
    wd_engine_save(g->e, w);
    assert_int_equal(w->st, WD_OK);
}

static void assert_unchanged(struct eng *g, const struct wd_wbuf *before)
{
    struct wd_wbuf now;
    snapshot(g, &now);
    assert_int_equal(now.len, before->len);
    assert_memory_equal(now.data, before->data, now.len);
    wd_wbuf_free(&now);
}

static void test_handover_malformed_changes_nothing(void **state)
{
    struct fx *f = *state;
    struct stream s;
    struct eng x, y;
    build(&s);
    open_eng(f, &x, 0);
    open_eng(f, &y, 0);
    run(&x, &s, 0, s.half, "MAB");
    run(&y, &s, 0, 1, "M"); /* y knows AAPL only */
    run(&y, &s, 6, 9, "B");
    struct wd_wbuf w, before;
    save_a(&x, &w);
    snapshot(&y, &before);
    size_t n;
    struct wd_error err;
    for (size_t len = 0; len < w.len; len++) {
        n = 7;
        memset(&err, 0, sizeof err);
        enum wd_status st = wd_engine_load_accounts(y.e, w.data, len, &n, &err);
        if (st != WD_EINVAL) {
            fail_msg("length %zu of %zu: status %d (%s)", len, w.len, (int)st, err.msg);
        }
        assert_true(err.msg[0] != '\0');
        assert_int_equal(n, 0);
        assert_unchanged(&y, &before);
    }
    /* Garbage after a valid header. */
    uint8_t *g = malloc(w.len);
    assert_non_null(g);
    uint64_t seed = 0x9E3779B97F4A7C15ull;
    for (int round = 0; round < 200; round++) {
        memcpy(g, w.data, 8);
        for (size_t i = 8; i < w.len; i++) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            g[i] = (uint8_t)(seed >> 56);
        }
        assert_int_equal(wd_engine_load_accounts(y.e, g, w.len, &n, NULL), WD_EINVAL);
    }
    assert_unchanged(&y, &before);
    free(g);

    /* An order id of the record open here for B. */
    char line[300];
    snprintf(line, sizeof line,
             "{\"type\":\"intent\",\"ts\":%lld,\"account\":\"B\",\"id\":\"a2\",\"symbol\":"
             "\"AAPL\",\"side\":\"BUY\",\"qty\":1,\"source\":\"s1\",\"order_type\":\"LMT\","
             "\"limit\":100}",
             (long long)at(100));
    eng_process(&y, line);
    wd_wbuf_free(&before);
    snapshot(&y, &before);
    memset(&err, 0, sizeof err);
    assert_int_equal(wd_engine_load_accounts(y.e, w.data, w.len, &n, &err), WD_EINVAL);
    assert_non_null(strstr(err.msg, "a2 is open here for account B"));
    assert_unchanged(&y, &before);

    /* Too many open orders: WD_EFULL, nothing changed. */
    struct eng z;
    open_eng(f, &z, 1);
    eng_process(&z, line);
    struct wd_wbuf zb;
    snapshot(&z, &zb);
    memset(&err, 0, sizeof err);
    /* (z's one open order is B's a2, which A's record also holds: EINVAL
     * first; a record without a clash hits the bound.) */
    assert_int_equal(wd_engine_load_accounts(z.e, w.data, w.len, &n, &err), WD_EINVAL);
    eng_close(&z);
    open_eng(f, &z, 1);
    snprintf(line, sizeof line,
             "{\"type\":\"intent\",\"ts\":%lld,\"account\":\"B\",\"id\":\"b7\",\"symbol\":"
             "\"AAPL\",\"side\":\"BUY\",\"qty\":1,\"source\":\"s1\",\"order_type\":\"LMT\","
             "\"limit\":100}",
             (long long)at(100));
    eng_process(&z, line);
    wd_wbuf_free(&zb);
    snapshot(&z, &zb);
    memset(&err, 0, sizeof err);
    assert_int_equal(wd_engine_load_accounts(z.e, w.data, w.len, &n, &err), WD_EFULL);
    assert_true(err.msg[0] != '\0');
    assert_unchanged(&z, &zb);
    wd_wbuf_free(&zb);
    eng_close(&z);

    wd_wbuf_free(&w);
    wd_wbuf_free(&before);
    eng_close(&x);
    eng_close(&y);
}

/* ---- 5. a dropped account's order is unknown --------------------------------------------- */

/* The outputs of one event, as text without event numbers. */
static void outputs(const struct eng *g, size_t first, char *buf, size_t cap)
{
    size_t len = 0;
    buf[0] = '\0';
    for (size_t i = first; i < g->out.n; i++) {
        struct rec r = g->out.v[i];
        r.event_no = 0;
        int k = snprintf(buf + len, cap - len, "%s\n", describe(&r));
        assert_true(k > 0 && (size_t)k < cap - len);
        len += (size_t)k;
    }
}

static void test_handover_fill_for_dropped_order_is_unknown(void **state)
{
    struct fx *f = *state;
    f->cfg.detect.unknown_fills = true;
    struct stream s;
    struct eng x, fresh;
    build(&s);
    open_eng(f, &x, 0);
    open_eng(f, &fresh, 0);
    run(&x, &s, 0, s.half, "MAB");
    run(&fresh, &s, 0, s.half, "MB");
    wd_engine_drop_accounts(x.e, is_a, NULL);
    /* a2 (3 still open for A) fills after the drop. */
    char line[300], ox[2048], of[2048];
    snprintf(line, sizeof line,
             "{\"type\":\"fill\",\"ts\":%lld,\"account\":\"A\",\"id\":\"a2\",\"symbol\":\"AAPL\","
             "\"side\":\"SELL\",\"qty\":1,\"price\":102}",
             (long long)at(200));
    size_t fx0 = x.out.n, ff0 = fresh.out.n;
    eng_process(&x, line);
    eng_process(&fresh, line);
    outputs(&x, fx0, ox, sizeof ox);
    outputs(&fresh, ff0, of, sizeof of);
    assert_string_equal(ox, of);
    assert_non_null(strstr(ox, "fill for order a2, which warden never saw open"));
    assert_non_null(strstr(ox, "unauthorized_trading"));
    /* A is back as a new account, short the one share. */
    assert_figures_equal(acct(&x, "A"), acct(&fresh, "A"));
    assert_int_equal(acct(&x, "A")->capital, f->cfg.capital);
    eng_close(&x);
    eng_close(&fresh);
}

/* The states' version moves with every change of a scope's state (what
 * the Kafka handover watches to write records after a person's halt) and
 * not otherwise. */
static void test_handover_states_version_moves_with_states(void **state)
{
    struct fx *f = *state;
    struct eng g;
    struct wd_error err = {0};
    struct stream s;
    build(&s);
    open_eng(f, &g, 0);
    uint64_t v0 = wd_engine_states_version(g.e);
    run(&g, &s, 0, s.half, "MB"); /* B trades within its limits: no state changes */
    assert_int_equal(wd_engine_states_version(g.e), v0);
    struct wd_scope_state st = {.scope = "account:A", .state = WD_TS_HALTED, .by = "olga",
                                .reason = "desk review", .scenario = "manual"};
    assert_int_equal(wd_engine_set_state(g.e, &st, &err), WD_OK);
    assert_int_equal(wd_engine_states_version(g.e), v0 + 1u);
    st.state = WD_TS_ACTIVE;
    assert_int_equal(wd_engine_set_state(g.e, &st, &err), WD_OK);
    assert_int_equal(wd_engine_states_version(g.e), v0 + 2u);
    eng_close(&g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_handover_split_equals_one_engine, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_handover_latch_and_psr_travel, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_handover_load_twice_replaces, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_handover_malformed_changes_nothing, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_handover_fill_for_dropped_order_is_unknown,
                                        fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_handover_states_version_moves_with_states,
                                        fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
