/*
 * Unit tests for src/core/decode.c (include/warden/decode.h), the JSON
 * Lines event decoder of SPEC section 2. Valid lines of every event type are
 * decoded and each field is checked exactly (fixed-point values as raw
 * integers, string views by their bytes, interned ids); then the common
 * keys (ts as integer nanoseconds or RFC 3339 with an offset, the default
 * account, seq), tolerance (unknown keys with nested values, blanks, CRLF),
 * and one test per malformed line, each pinning WD_EINVAL, the exact
 * err.msg and, where the decoder points at a token, err.column. Finally a
 * rejected line must intern nothing, and a full name table gives WD_EFULL.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "warden/decode.h"

/* cmocka 1.1 prints integers as unsigned; this shows signed values. */
#define assert_i64(actual, expected)                                                      \
    do {                                                                                  \
        int64_t got_ = (actual), want_ = (expected);                                      \
        if (got_ != want_)                                                                \
            fail_msg("%s == %lld, expected %lld", #actual, (long long)got_,               \
                     (long long)want_);                                                   \
    } while (0)

/* A wd_str equals a C string, byte for byte. */
#define assert_str(s, expected)                                                           \
    do {                                                                                  \
        struct wd_str s_ = (s);                                                           \
        const char *e_ = (expected);                                                      \
        if (s_.len != strlen(e_) || memcmp(s_.ptr, e_, s_.len) != 0)                      \
            fail_msg("%s == \"%.*s\", expected \"%s\"", #s, (int)s_.len, s_.ptr, e_);     \
    } while (0)

struct fx {
    struct wd_intern symbols, accounts;
    struct wd_decoder *dec;
    struct wd_event ev;
    struct wd_error err;
};

static int fx_setup_max(void **state, uint32_t max_symbols, uint32_t max_accounts)
{
    static struct fx f;
    memset(&f, 0, sizeof f);
    if (wd_intern_init(&f.symbols, max_symbols) != WD_OK ||
        wd_intern_init(&f.accounts, max_accounts) != WD_OK ||
        wd_decoder_new(&f.symbols, &f.accounts, &f.dec) != WD_OK)
        return -1;
    *state = &f;
    return 0;
}

static int setup(void **state)
{
    return fx_setup_max(state, 1024, 64);
}

static int setup_two_symbols(void **state)
{
    return fx_setup_max(state, 2, 64);
}

static int setup_two_accounts(void **state)
{
    return fx_setup_max(state, 1024, 2);
}

static int teardown(void **state)
{
    struct fx *f = *state;
    wd_decoder_free(f->dec);
    wd_intern_destroy(&f->symbols);
    wd_intern_destroy(&f->accounts);
    return 0;
}

static enum wd_status decode_n(struct fx *f, const char *line, size_t len)
{
    memset(&f->ev, 0xa5, sizeof f->ev);
    memset(&f->err, 0, sizeof f->err);
    f->err.column = 12345;
    return wd_decode_line(f->dec, line, len, &f->ev, &f->err);
}

static enum wd_status decode(struct fx *f, const char *line)
{
    return decode_n(f, line, strlen(line));
}

/* Decodes line, requiring success; returns the event. */
static const struct wd_event *decode_ok(struct fx *f, const char *line)
{
    enum wd_status st = decode(f, line);
    if (st != WD_OK)
        fail_msg("rejected (%d, col %u: %s): %s", (int)st, (unsigned)f->err.column,
                 f->err.msg, line);
    return &f->ev;
}

/* 1-based column of the first byte of needle in line (which must hold it). */
static uint32_t col_of(const char *line, const char *needle)
{
    const char *p = strstr(line, needle);
    if (p == NULL)
        fail_msg("\"%s\" not in the line", needle);
    return (uint32_t)(p - line) + 1u;
}

/* Decodes line (len bytes) and requires WD_EINVAL with exactly msg and column. */
static void expect_reject_n(struct fx *f, const char *line, size_t len, const char *msg,
                            uint32_t column)
{
    enum wd_status st = decode_n(f, line, len);
    if (st != WD_EINVAL)
        fail_msg("status %d (%s), expected WD_EINVAL: %.*s", (int)st, f->err.msg,
                 (int)(len > 200 ? 200 : len), line);
    assert_int_equal(f->err.status, WD_EINVAL);
    assert_string_equal(f->err.msg, msg);
    if (f->err.column != column)
        fail_msg("column %u, expected %u (msg \"%s\")", (unsigned)f->err.column,
                 (unsigned)column, f->err.msg);
}

static void expect_reject(struct fx *f, const char *line, const char *msg, uint32_t column)
{
    expect_reject_n(f, line, strlen(line), msg, column);
}

static uint32_t sym_id(struct fx *f, const char *name)
{
    uint32_t id = WD_NO_ID;
    if (wd_intern_find(&f->symbols, name, strlen(name), &id) != WD_OK)
        fail_msg("symbol \"%s\" not interned", name);
    return id;
}

/* ---- valid events, one per type -------------------------------------------- */

static void test_decode_quote_with_sizes(void **state)
{
    struct fx *f = *state;
    const struct wd_event *ev = decode_ok(
        f, "{\"type\":\"quote\",\"ts\":1763280000000000000,\"symbol\":\"AAPL\","
           "\"bid\":189.5,\"ask\":189.52,\"bid_size\":300,\"ask_size\":0.5}");
    assert_int_equal(ev->type, WD_EV_QUOTE);
    assert_i64(ev->ts_ns, 1763280000000000000LL);
    assert_int_equal(ev->symbol, sym_id(f, "AAPL"));
    assert_string_equal(wd_intern_name(&f->symbols, ev->symbol), "AAPL");
    assert_int_equal(ev->account, wd_decoder_default_account(f->dec));
    assert_false(ev->has_seq);
    assert_i64(ev->u.quote.bid, 18950000000LL);
    assert_i64(ev->u.quote.ask, 18952000000LL);
    assert_i64(ev->u.quote.bid_size, 30000000000LL);
    assert_i64(ev->u.quote.ask_size, 50000000LL);
}

static void test_decode_quote_without_sizes(void **state)
{
    struct fx *f = *state;
    const struct wd_event *ev = decode_ok(
        f, "{\"type\":\"quote\",\"ts\":1,\"symbol\":\"EURUSD\",\"bid\":1.08715,\"ask\":1.0872}");
    assert_int_equal(ev->type, WD_EV_QUOTE);
    assert_i64(ev->ts_ns, 1);
    assert_string_equal(wd_intern_name(&f->symbols, ev->symbol), "EURUSD");
    assert_i64(ev->u.quote.bid, 108715000LL);
    assert_i64(ev->u.quote.ask, 108720000LL);
    assert_i64(ev->u.quote.bid_size, 0);
    assert_i64(ev->u.quote.ask_size, 0);
}

static void test_decode_trade(void **state)
{
    struct fx *f = *state;
    const struct wd_event *ev = decode_ok(
        f, "{\"type\":\"trade\",\"ts\":1763280000000000001,\"symbol\":\"MSFT\","
           "\"price\":412.01,\"size\":100}");
    assert_int_equal(ev->type, WD_EV_TRADE);
    assert_i64(ev->ts_ns, 1763280000000000001LL);
    assert_string_equal(wd_intern_name(&f->symbols, ev->symbol), "MSFT");
    assert_i64(ev->u.trade.price, 41201000000LL);
    assert_i64(ev->u.trade.size, 10000000000LL);
}

static void test_decode_bar_with_interval(void **state)
{
    struct fx *f = *state;
    const struct wd_event *ev = decode_ok(
        f, "{\"type\":\"bar\",\"ts\":60000000000,\"symbol\":\"AAPL\",\"open\":189.1,"
           "\"high\":190.25,\"low\":188.75,\"close\":189.9,\"volume\":12345,"
           "\"interval_s\":60}");
    assert_int_equal(ev->type, WD_EV_BAR);
    assert_i64(ev->ts_ns, 60000000000LL);
    assert_string_equal(wd_intern_name(&f->symbols, ev->symbol), "AAPL");
    assert_i64(ev->u.bar.open, 18910000000LL);
    assert_i64(ev->u.bar.high, 19025000000LL);
    assert_i64(ev->u.bar.low, 18875000000LL);
    assert_i64(ev->u.bar.close, 18990000000LL);
    assert_i64(ev->u.bar.volume, 1234500000000LL);
    assert_i64(ev->u.bar.interval_s, 60);
}

static void test_decode_bar_without_interval(void **state)
{
    struct fx *f = *state;
    const struct wd_event *ev = decode_ok(
        f, "{\"type\":\"bar\",\"ts\":1,\"symbol\":\"X\",\"open\":1,\"high\":1,\"low\":1,"
           "\"close\":1,\"volume\":0}");
    assert_int_equal(ev->type, WD_EV_BAR);
    assert_i64(ev->u.bar.volume, 0);
    assert_i64(ev->u.bar.interval_s, 0);
}

static void test_decode_intent_market(void **state)
{
    struct fx *f = *state;
    const struct wd_event *ev = decode_ok(
        f, "{\"type\":\"intent\",\"ts\":1763280000000000000,\"account\":\"acct1\","
           "\"id\":\"o17\",\"symbol\":\"AAPL\",\"side\":\"BUY\",\"qty\":100,"
           "\"source\":\"strat_momo\"}");
    assert_int_equal(ev->type, WD_EV_INTENT);
    assert_i64(ev->ts_ns, 1763280000000000000LL);
    assert_string_equal(wd_intern_name(&f->symbols, ev->symbol), "AAPL");
    assert_string_equal(wd_intern_name(&f->accounts, ev->account), "acct1");
    assert_int_not_equal(ev->account, wd_decoder_default_account(f->dec));
    assert_str(ev->u.intent.id, "o17");
    assert_int_equal(ev->u.intent.side, WD_SIDE_BUY);
    assert_i64(ev->u.intent.qty, 10000000000LL);
    assert_str(ev->u.intent.source, "strat_momo");
    assert_int_equal(ev->u.intent.order_type, WD_ORDER_MKT);
    assert_false(ev->u.intent.has_limit);
    assert_int_equal(ev->u.intent.sig.len, 0);
    assert_str(ev->u.intent.qty_text, "100");
    assert_str(ev->u.intent.ts_text, "1763280000000000000");
}

static void test_decode_intent_limit_with_sig(void **state)
{
    struct fx *f = *state;
    const struct wd_event *ev = decode_ok(
        f, "{\"type\":\"intent\",\"ts\":\"2025-11-16T14:30:00.123Z\",\"id\":\"o18\","
           "\"symbol\":\"TSLA\",\"side\":\"SELL\",\"qty\":2.50,\"source\":\"s2\","
           "\"order_type\":\"LMT\",\"limit\":250.25,"
           "\"sig\":\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"}");
    assert_int_equal(ev->type, WD_EV_INTENT);
    assert_i64(ev->ts_ns, 1763303400123000000LL);
    assert_string_equal(wd_intern_name(&f->symbols, ev->symbol), "TSLA");
    assert_int_equal(ev->account, wd_decoder_default_account(f->dec));
    assert_str(ev->u.intent.id, "o18");
    assert_int_equal(ev->u.intent.side, WD_SIDE_SELL);
    assert_i64(ev->u.intent.qty, 250000000LL);
    assert_str(ev->u.intent.source, "s2");
    assert_int_equal(ev->u.intent.order_type, WD_ORDER_LMT);
    assert_true(ev->u.intent.has_limit);
    assert_i64(ev->u.intent.limit, 25025000000LL);
    assert_str(ev->u.intent.sig,
               "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
    /* The signature texts: the JSON text, strings without their quotes. */
    assert_str(ev->u.intent.qty_text, "2.50");
    assert_str(ev->u.intent.ts_text, "2025-11-16T14:30:00.123Z");
}

static void test_decode_intent_explicit_mkt_and_numeric_id(void **state)
{
    struct fx *f = *state;
    const struct wd_event *ev = decode_ok(
        f, "{\"type\":\"intent\",\"ts\":5,\"id\":17,\"symbol\":\"AAPL\",\"side\":\"BUY\","
           "\"qty\":1,\"source\":\"s\",\"order_type\":\"MKT\"}");
    assert_int_equal(ev->u.intent.order_type, WD_ORDER_MKT);
    assert_false(ev->u.intent.has_limit);
    assert_str(ev->u.intent.id, "17");
}

static void test_decode_ack_accepted(void **state)
{
    struct fx *f = *state;
    const struct wd_event *ev =
        decode_ok(f, "{\"type\":\"ack\",\"ts\":10,\"id\":\"o17\",\"status\":\"accepted\"}");
    assert_int_equal(ev->type, WD_EV_ACK);
    assert_i64(ev->ts_ns, 10);
    assert_int_equal(ev->symbol, WD_NO_ID);
    assert_str(ev->u.ack.id, "o17");
    assert_int_equal(ev->u.ack.status, WD_ACK_ACCEPTED);
    assert_int_equal(ev->u.ack.reason.len, 0);
}

static void test_decode_ack_rejected_with_reason(void **state)
{
    struct fx *f = *state;
    const struct wd_event *ev = decode_ok(
        f, "{\"type\":\"ack\",\"ts\":11,\"id\":\"o18\",\"status\":\"rejected\","
           "\"reason\":\"insufficient margin\"}");
    assert_int_equal(ev->type, WD_EV_ACK);
    assert_str(ev->u.ack.id, "o18");
    assert_int_equal(ev->u.ack.status, WD_ACK_REJECTED);
    assert_str(ev->u.ack.reason, "insufficient margin");
}

static void test_decode_ack_cancelled_with_reason(void **state)
{
    struct fx *f = *state;
    const struct wd_event *ev = decode_ok(
        f, "{\"type\":\"ack\",\"ts\":12,\"id\":\"o19\",\"status\":\"cancelled\","
           "\"reason\":\"user\"}");
    assert_int_equal(ev->u.ack.status, WD_ACK_CANCELLED);
    assert_str(ev->u.ack.id, "o19");
    assert_str(ev->u.ack.reason, "user");
}

static void test_decode_fill_with_commission_and_exec_id(void **state)
{
    struct fx *f = *state;
    const struct wd_event *ev = decode_ok(
        f, "{\"type\":\"fill\",\"ts\":13,\"account\":\"acct1\",\"id\":\"o17\","
           "\"symbol\":\"AAPL\",\"side\":\"SELL\",\"qty\":40,\"price\":189.51,"
           "\"commission\":0.35,\"exec_id\":\"ex-9\"}");
    assert_int_equal(ev->type, WD_EV_FILL);
    assert_i64(ev->ts_ns, 13);
    assert_string_equal(wd_intern_name(&f->symbols, ev->symbol), "AAPL");
    assert_string_equal(wd_intern_name(&f->accounts, ev->account), "acct1");
    assert_str(ev->u.fill.id, "o17");
    assert_int_equal(ev->u.fill.side, WD_SIDE_SELL);
    assert_i64(ev->u.fill.qty, 4000000000LL);
    assert_i64(ev->u.fill.price, 18951000000LL);
    assert_i64(ev->u.fill.commission, 35000000LL);
    assert_str(ev->u.fill.exec_id, "ex-9");
}

static void test_decode_fill_without_optionals(void **state)
{
    struct fx *f = *state;
    const struct wd_event *ev = decode_ok(
        f, "{\"type\":\"fill\",\"ts\":14,\"id\":\"o17\",\"symbol\":\"AAPL\",\"side\":\"BUY\","
           "\"qty\":0.001,\"price\":60000}");
    assert_int_equal(ev->u.fill.side, WD_SIDE_BUY);
    assert_i64(ev->u.fill.qty, 100000LL);
    assert_i64(ev->u.fill.price, 6000000000000LL);
    assert_i64(ev->u.fill.commission, 0);
    assert_int_equal(ev->u.fill.exec_id.len, 0);
}

static void test_decode_heartbeat_up(void **state)
{
    struct fx *f = *state;
    const struct wd_event *ev = decode_ok(
        f, "{\"type\":\"heartbeat\",\"ts\":15,\"component\":\"gateway\",\"status\":\"up\","
           "\"detail\":\"all good\"}");
    assert_int_equal(ev->type, WD_EV_HEARTBEAT);
    assert_int_equal(ev->symbol, WD_NO_ID);
    assert_str(ev->u.heartbeat.component, "gateway");
    assert_int_equal(ev->u.heartbeat.status, WD_HB_UP);
    assert_str(ev->u.heartbeat.detail, "all good");
}

static void test_decode_heartbeat_down(void **state)
{
    struct fx *f = *state;
    const struct wd_event *ev = decode_ok(
        f, "{\"type\":\"heartbeat\",\"ts\":16,\"component\":\"md-feed\",\"status\":\"down\"}");
    assert_int_equal(ev->type, WD_EV_HEARTBEAT);
    assert_str(ev->u.heartbeat.component, "md-feed");
    assert_int_equal(ev->u.heartbeat.status, WD_HB_DOWN);
    assert_int_equal(ev->u.heartbeat.detail.len, 0);
}

static void test_decode_account_with_cash_and_buying_power(void **state)
{
    struct fx *f = *state;
    const struct wd_event *ev = decode_ok(
        f, "{\"type\":\"account\",\"ts\":17,\"account\":\"acct1\",\"equity\":1000000.5,"
           "\"cash\":-250.25,\"buying_power\":2000000}");
    assert_int_equal(ev->type, WD_EV_ACCOUNT);
    assert_int_equal(ev->symbol, WD_NO_ID);
    assert_string_equal(wd_intern_name(&f->accounts, ev->account), "acct1");
    assert_i64(ev->u.account.equity, 100000050000000LL);
    assert_true(ev->u.account.has_cash);
    assert_i64(ev->u.account.cash, -25025000000LL);
    assert_true(ev->u.account.has_buying_power);
    assert_i64(ev->u.account.buying_power, 200000000000000LL);
}

static void test_decode_account_equity_only(void **state)
{
    struct fx *f = *state;
    const struct wd_event *ev =
        decode_ok(f, "{\"type\":\"account\",\"ts\":18,\"equity\":-12.5}");
    assert_int_equal(ev->account, wd_decoder_default_account(f->dec));
    assert_i64(ev->u.account.equity, -1250000000LL);
    assert_false(ev->u.account.has_cash);
    assert_false(ev->u.account.has_buying_power);
}

static void test_decode_metric_with_labels(void **state)
{
    struct fx *f = *state;
    const struct wd_event *ev = decode_ok(
        f, "{\"type\":\"metric\",\"ts\":19,\"name\":\"order_latency_ms\",\"value\":12.25,"
           "\"labels\":{\"venue\":\"XNAS\",\"shard\":\"1\",\"n\":[1,2]}}");
    assert_int_equal(ev->type, WD_EV_METRIC);
    assert_int_equal(ev->symbol, WD_NO_ID);
    assert_str(ev->u.metric.name, "order_latency_ms");
    assert_true(ev->u.metric.value == 12.25);
    assert_str(ev->u.metric.labels, "{\"venue\":\"XNAS\",\"shard\":\"1\",\"n\":[1,2]}");
}

static void test_decode_metric_without_labels(void **state)
{
    struct fx *f = *state;
    const struct wd_event *ev =
        decode_ok(f, "{\"type\":\"metric\",\"ts\":20,\"name\":\"queue_depth\",\"value\":-3e2}");
    assert_str(ev->u.metric.name, "queue_depth");
    assert_true(ev->u.metric.value == -300.0);
    assert_int_equal(ev->u.metric.labels.len, 0);
}

/* ---- common keys and tolerance ------------------------------------------------ */

static void test_decode_ts_integer_nanoseconds(void **state)
{
    struct fx *f = *state;
    assert_i64(decode_ok(f, "{\"type\":\"heartbeat\",\"ts\":0,\"component\":\"c\","
                            "\"status\":\"up\"}")->ts_ns,
               0);
    assert_i64(decode_ok(f, "{\"type\":\"heartbeat\",\"ts\":9223372036854775807,"
                            "\"component\":\"c\",\"status\":\"up\"}")->ts_ns,
               INT64_MAX);
}

static void test_decode_ts_rfc3339_utc(void **state)
{
    struct fx *f = *state;
    const struct wd_event *ev =
        decode_ok(f, "{\"type\":\"heartbeat\",\"ts\":\"2025-11-16T14:30:00.123Z\","
                     "\"component\":\"c\",\"status\":\"up\"}");
    assert_i64(ev->ts_ns, 1763303400123000000LL);
}

static void test_decode_ts_rfc3339_with_offset(void **state)
{
    struct fx *f = *state;
    /* The same instant, written in UTC-5. */
    assert_i64(decode_ok(f, "{\"type\":\"heartbeat\",\"ts\":\"2025-11-16T09:30:00.123-05:00\","
                            "\"component\":\"c\",\"status\":\"up\"}")->ts_ns,
               1763303400123000000LL);
    /* 14:30 in UTC-5 is 19:30 UTC. */
    assert_i64(decode_ok(f, "{\"type\":\"heartbeat\",\"ts\":\"2025-11-16T14:30:00.123-05:00\","
                            "\"component\":\"c\",\"status\":\"up\"}")->ts_ns,
               1763321400123000000LL);
}

static void test_decode_account_defaults_to_default(void **state)
{
    struct fx *f = *state;
    uint32_t def = wd_decoder_default_account(f->dec);
    assert_string_equal(wd_intern_name(&f->accounts, def), "default");
    const struct wd_event *ev = decode_ok(
        f, "{\"type\":\"trade\",\"ts\":1,\"symbol\":\"A\",\"price\":1,\"size\":1}");
    assert_int_equal(ev->account, def);
    /* Naming "default" explicitly is the same account. */
    ev = decode_ok(f, "{\"type\":\"trade\",\"ts\":1,\"account\":\"default\",\"symbol\":\"A\","
                      "\"price\":1,\"size\":1}");
    assert_int_equal(ev->account, def);
    assert_int_equal(wd_intern_count(&f->accounts), 1);
}

static void test_decode_seq_parsed(void **state)
{
    struct fx *f = *state;
    const struct wd_event *ev = decode_ok(
        f, "{\"type\":\"heartbeat\",\"ts\":1,\"seq\":42,\"component\":\"c\",\"status\":\"up\"}");
    assert_true(ev->has_seq);
    assert_int_equal(ev->seq, 42);
    ev = decode_ok(f, "{\"type\":\"heartbeat\",\"ts\":1,\"seq\":0,\"component\":\"c\","
                      "\"status\":\"up\"}");
    assert_true(ev->has_seq);
    assert_int_equal(ev->seq, 0);
    ev = decode_ok(f, "{\"type\":\"heartbeat\",\"ts\":1,\"seq\":18446744073709551615,"
                      "\"component\":\"c\",\"status\":\"up\"}");
    assert_true(ev->has_seq);
    assert_true(ev->seq == UINT64_MAX);
    ev = decode_ok(f, "{\"type\":\"heartbeat\",\"ts\":1,\"component\":\"c\",\"status\":\"up\"}");
    assert_false(ev->has_seq);
    assert_int_equal(ev->seq, 0);
}

static void test_decode_unknown_keys_ignored(void **state)
{
    struct fx *f = *state;
    /* Unknown keys whose values nest objects and arrays holding known key
     * names: only top-level keys count. */
    const struct wd_event *ev = decode_ok(
        f, "{\"x\":{\"type\":\"quote\",\"symbol\":\"EVIL\",\"deep\":[1,{\"price\":-1},[]]},"
           "\"type\":\"trade\",\"arr\":[[\"price\",-1],{}],\"ts\":7,\"note\":\"hi\","
           "\"flag\":true,\"nil\":null,\"symbol\":\"MSFT\",\"price\":2,\"size\":3,"
           "\"trailer\":{\"ts\":\"bad\"}}");
    assert_int_equal(ev->type, WD_EV_TRADE);
    assert_i64(ev->ts_ns, 7);
    assert_string_equal(wd_intern_name(&f->symbols, ev->symbol), "MSFT");
    assert_i64(ev->u.trade.price, 200000000LL);
    assert_i64(ev->u.trade.size, 300000000LL);
    assert_int_equal(wd_intern_count(&f->symbols), 1);
}

static void test_decode_blanks_and_crlf_tolerated(void **state)
{
    struct fx *f = *state;
    const struct wd_event *ev = decode_ok(
        f, " \t {\"type\":\"trade\",\"ts\":1,\"symbol\":\"A\",\"price\":1,\"size\":2} \t\r");
    assert_int_equal(ev->type, WD_EV_TRADE);
    assert_i64(ev->u.trade.size, 200000000LL);
    ev = decode_ok(f, "{\"type\":\"trade\",\"ts\":1,\"symbol\":\"A\",\"price\":1,\"size\":3}\r");
    assert_i64(ev->u.trade.size, 300000000LL);
    /* Blanks between tokens are JSON whitespace. */
    ev = decode_ok(f, "{ \"type\" : \"trade\" ,\t\"ts\": 1 , \"symbol\" :\"A\", "
                      "\"price\":1 ,\"size\": 4 }");
    assert_i64(ev->u.trade.size, 400000000LL);
}

static void test_decode_string_fields_point_into_line(void **state)
{
    struct fx *f = *state;
    static const char line[] = "{\"type\":\"ack\",\"ts\":1,\"id\":\"o1\",\"status\":\"accepted\"}";
    const struct wd_event *ev = decode_ok(f, line);
    assert_ptr_equal(ev->u.ack.id.ptr, line + col_of(line, "o1") - 1);
}

/* ---- malformed lines ------------------------------------------------------------ */

static void test_decode_unterminated_object_rejected(void **state)
{
    struct fx *f = *state;
    static const char line[] = "{\"type\":\"trade\",\"ts\":1,\"symbol\":\"A\"";
    expect_reject(f, line, "bad JSON: truncated", (uint32_t)strlen(line) + 1u);
}

static void test_decode_garbage_rejected(void **state)
{
    struct fx *f = *state;
    expect_reject(f, "hello world", "bad JSON", 1);
    expect_reject(f, "{\"type\":\"trade\",\"ts\":1,'symbol':\"A\"}", "bad JSON", 24);
}

static void test_decode_trailing_data_after_object_rejected(void **state)
{
    struct fx *f = *state;
    static const char two[] =
        "{\"type\":\"heartbeat\",\"ts\":1,\"component\":\"c\",\"status\":\"up\"}{\"x\":1}";
    expect_reject(f, two, "bad JSON: trailing data after the object", col_of(two, "{\"x\""));
    static const char junk[] =
        "{\"type\":\"heartbeat\",\"ts\":1,\"component\":\"c\",\"status\":\"up\"} x";
    expect_reject(f, junk, "bad JSON", (uint32_t)strlen(junk));
}

static void test_decode_not_an_object_rejected(void **state)
{
    struct fx *f = *state;
    expect_reject(f, "[1,2]", "bad JSON: not an object", 1);
    expect_reject(f, "[{\"type\":\"heartbeat\"}]", "bad JSON: not an object", 1);
}

static void test_decode_missing_type_rejected(void **state)
{
    struct fx *f = *state;
    expect_reject(f, "{\"ts\":1,\"symbol\":\"A\",\"price\":1,\"size\":1}", "missing key 'type'",
                  0);
}

static void test_decode_missing_ts_rejected(void **state)
{
    struct fx *f = *state;
    expect_reject(f, "{\"type\":\"trade\",\"symbol\":\"A\",\"price\":1,\"size\":1}",
                  "missing key 'ts'", 0);
}

static void test_decode_quote_missing_symbol_rejected(void **state)
{
    struct fx *f = *state;
    expect_reject(f, "{\"type\":\"quote\",\"ts\":1,\"bid\":1,\"ask\":2}", "missing key 'symbol'",
                  0);
}

static void test_decode_intent_missing_id_rejected(void **state)
{
    struct fx *f = *state;
    expect_reject(f,
                  "{\"type\":\"intent\",\"ts\":1,\"symbol\":\"A\",\"side\":\"BUY\",\"qty\":1,"
                  "\"source\":\"s\"}",
                  "missing key 'id'", 0);
}

static void test_decode_missing_required_keys_per_type_rejected(void **state)
{
    static const struct {
        const char *line, *msg;
    } cases[] = {
        {"{\"type\":\"quote\",\"ts\":1,\"symbol\":\"A\",\"ask\":2}", "missing key 'bid'"},
        {"{\"type\":\"quote\",\"ts\":1,\"symbol\":\"A\",\"bid\":2}", "missing key 'ask'"},
        {"{\"type\":\"trade\",\"ts\":1,\"symbol\":\"A\",\"size\":2}", "missing key 'price'"},
        {"{\"type\":\"trade\",\"ts\":1,\"symbol\":\"A\",\"price\":2}", "missing key 'size'"},
        {"{\"type\":\"bar\",\"ts\":1,\"symbol\":\"A\",\"open\":1,\"high\":1,\"low\":1,"
         "\"close\":1}",
         "missing key 'volume'"},
        {"{\"type\":\"intent\",\"ts\":1,\"id\":\"o\",\"symbol\":\"A\",\"qty\":1,"
         "\"source\":\"s\"}",
         "missing key 'side'"},
        {"{\"type\":\"intent\",\"ts\":1,\"id\":\"o\",\"symbol\":\"A\",\"side\":\"BUY\","
         "\"source\":\"s\"}",
         "missing key 'qty'"},
        {"{\"type\":\"intent\",\"ts\":1,\"id\":\"o\",\"symbol\":\"A\",\"side\":\"BUY\","
         "\"qty\":1}",
         "missing key 'source'"},
        {"{\"type\":\"intent\",\"ts\":1,\"id\":\"o\",\"side\":\"BUY\",\"qty\":1,"
         "\"source\":\"s\"}",
         "missing key 'symbol'"},
        {"{\"type\":\"ack\",\"ts\":1,\"status\":\"accepted\"}", "missing key 'id'"},
        {"{\"type\":\"ack\",\"ts\":1,\"id\":\"o\"}", "missing key 'status'"},
        {"{\"type\":\"fill\",\"ts\":1,\"id\":\"o\",\"symbol\":\"A\",\"side\":\"BUY\","
         "\"qty\":1}",
         "missing key 'price'"},
        {"{\"type\":\"fill\",\"ts\":1,\"id\":\"o\",\"side\":\"BUY\",\"qty\":1,\"price\":1}",
         "missing key 'symbol'"},
        {"{\"type\":\"heartbeat\",\"ts\":1,\"status\":\"up\"}", "missing key 'component'"},
        {"{\"type\":\"heartbeat\",\"ts\":1,\"component\":\"c\"}", "missing key 'status'"},
        {"{\"type\":\"account\",\"ts\":1,\"cash\":1}", "missing key 'equity'"},
        {"{\"type\":\"metric\",\"ts\":1,\"value\":1}", "missing key 'name'"},
        {"{\"type\":\"metric\",\"ts\":1,\"name\":\"m\"}", "missing key 'value'"},
    };
    struct fx *f = *state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        expect_reject(f, cases[i].line, cases[i].msg, 0);
}

static void test_decode_qty_as_string_rejected(void **state)
{
    struct fx *f = *state;
    static const char line[] = "{\"type\":\"intent\",\"ts\":1,\"id\":\"o\",\"symbol\":\"A\","
                               "\"side\":\"BUY\",\"qty\":\"100\",\"source\":\"s\"}";
    expect_reject(f, line, "wrong type for 'qty': expected a number", col_of(line, "100"));
}

static void test_decode_bid_as_true_rejected(void **state)
{
    struct fx *f = *state;
    static const char line[] =
        "{\"type\":\"quote\",\"ts\":1,\"symbol\":\"A\",\"bid\":true,\"ask\":2}";
    expect_reject(f, line, "wrong type for 'bid': expected a number", col_of(line, "true"));
}

static void test_decode_side_as_number_rejected(void **state)
{
    struct fx *f = *state;
    static const char line[] = "{\"type\":\"fill\",\"ts\":1,\"id\":\"o\",\"symbol\":\"A\","
                               "\"side\":1,\"qty\":1,\"price\":1}";
    expect_reject(f, line, "wrong type for 'side': expected a string", col_of(line, "1,\"qty"));
}

static void test_decode_labels_as_array_rejected(void **state)
{
    struct fx *f = *state;
    static const char line[] =
        "{\"type\":\"metric\",\"ts\":1,\"name\":\"m\",\"value\":1,\"labels\":[\"a\",\"b\"]}";
    expect_reject(f, line, "wrong type for 'labels': expected an object", col_of(line, "["));
}

static void test_decode_intent_negative_qty_rejected(void **state)
{
    struct fx *f = *state;
    static const char line[] = "{\"type\":\"intent\",\"ts\":1,\"id\":\"o\",\"symbol\":\"A\","
                               "\"side\":\"BUY\",\"qty\":-5,\"source\":\"s\"}";
    expect_reject(f, line, "negative value for 'qty'", col_of(line, "-5"));
}

static void test_decode_fill_negative_qty_rejected(void **state)
{
    struct fx *f = *state;
    static const char line[] = "{\"type\":\"fill\",\"ts\":1,\"id\":\"o\",\"symbol\":\"A\","
                               "\"side\":\"SELL\",\"qty\":-0.5,\"price\":1}";
    expect_reject(f, line, "negative value for 'qty'", col_of(line, "-0.5"));
}

static void test_decode_zero_qty_rejected(void **state)
{
    struct fx *f = *state;
    static const char line[] = "{\"type\":\"intent\",\"ts\":1,\"id\":\"o\",\"symbol\":\"A\","
                               "\"side\":\"BUY\",\"qty\":0,\"source\":\"s\"}";
    expect_reject(f, line, "zero value for 'qty'", col_of(line, "0,\"source"));
    /* A quantity that rounds to zero at 8 decimals is zero too. */
    static const char tiny[] = "{\"type\":\"fill\",\"ts\":1,\"id\":\"o\",\"symbol\":\"A\","
                               "\"side\":\"BUY\",\"qty\":0.000000001,\"price\":1}";
    expect_reject(f, tiny, "zero value for 'qty'", col_of(tiny, "0.000000001"));
}

static void test_decode_unknown_side_rejected(void **state)
{
    struct fx *f = *state;
    static const char line[] = "{\"type\":\"intent\",\"ts\":1,\"id\":\"o\",\"symbol\":\"A\","
                               "\"side\":\"buy\",\"qty\":1,\"source\":\"s\"}";
    expect_reject(f, line, "unknown side 'buy' (expected BUY or SELL)", col_of(line, "buy"));
}

static void test_decode_unknown_type_rejected(void **state)
{
    struct fx *f = *state;
    static const char line[] = "{\"type\":\"order\",\"ts\":1}";
    expect_reject(f, line, "unknown event type 'order'", col_of(line, "order"));
    expect_reject(f, "{\"type\":1,\"ts\":1}", "wrong type for 'type': expected a string", 9);
}

static void test_decode_unknown_order_type_rejected(void **state)
{
    struct fx *f = *state;
    static const char line[] = "{\"type\":\"intent\",\"ts\":1,\"id\":\"o\",\"symbol\":\"A\","
                               "\"side\":\"BUY\",\"qty\":1,\"source\":\"s\",\"order_type\":\"STP\"}";
    expect_reject(f, line, "unknown order_type 'STP' (expected MKT or LMT)", col_of(line, "STP"));
}

static void test_decode_limit_order_without_limit_rejected(void **state)
{
    struct fx *f = *state;
    expect_reject(f,
                  "{\"type\":\"intent\",\"ts\":1,\"id\":\"o\",\"symbol\":\"A\",\"side\":\"BUY\","
                  "\"qty\":1,\"source\":\"s\",\"order_type\":\"LMT\"}",
                  "missing key 'limit'", 0);
}

static void test_decode_nan_literal_rejected(void **state)
{
    struct fx *f = *state;
    static const char line[] =
        "{\"type\":\"quote\",\"ts\":1,\"symbol\":\"A\",\"bid\":NaN,\"ask\":2}";
    expect_reject(f, line, "non-finite number (NaN/Infinity) is not JSON", col_of(line, "NaN"));
    static const char metric[] = "{\"type\":\"metric\",\"ts\":1,\"name\":\"m\",\"value\":NaN}";
    expect_reject(f, metric, "non-finite number (NaN/Infinity) is not JSON",
                  col_of(metric, "NaN"));
}

static void test_decode_infinity_literal_rejected(void **state)
{
    struct fx *f = *state;
    static const char line[] =
        "{\"type\":\"quote\",\"ts\":1,\"symbol\":\"A\",\"bid\":1,\"ask\":Infinity}";
    expect_reject(f, line, "non-finite number (NaN/Infinity) is not JSON",
                  col_of(line, "Infinity"));
}

static void test_decode_number_out_of_range_rejected(void **state)
{
    struct fx *f = *state;
    static const char line[] =
        "{\"type\":\"quote\",\"ts\":1,\"symbol\":\"A\",\"bid\":1e999,\"ask\":2}";
    expect_reject(f, line, "value of 'bid' is out of range", col_of(line, "1e999"));
    static const char metric[] = "{\"type\":\"metric\",\"ts\":1,\"name\":\"m\",\"value\":1e999}";
    expect_reject(f, metric, "value of 'value' is out of range", col_of(metric, "1e999"));
    static const char ts[] = "{\"type\":\"heartbeat\",\"ts\":9223372036854775808,"
                             "\"component\":\"c\",\"status\":\"up\"}";
    expect_reject(f, ts, "value of 'ts' is out of range", col_of(ts, "922"));
}

static void test_decode_line_over_max_rejected(void **state)
{
    struct fx *f = *state;
    static char line[WD_DECODE_MAX_LINE + 2];
    static const char head[] =
        "{\"type\":\"heartbeat\",\"ts\":1,\"component\":\"c\",\"status\":\"up\",\"pad\":\"";
    size_t hl = sizeof head - 1;
    /* Exactly WD_DECODE_MAX_LINE bytes: accepted, also with a trailing CR. */
    memcpy(line, head, hl);
    memset(line + hl, 'x', WD_DECODE_MAX_LINE - hl - 2);
    memcpy(line + WD_DECODE_MAX_LINE - 2, "\"}\r", 3);
    assert_int_equal(decode_n(f, line, WD_DECODE_MAX_LINE), WD_OK);
    assert_int_equal(decode_n(f, line, WD_DECODE_MAX_LINE + 1), WD_OK);
    /* One byte more. */
    memset(line + hl, 'x', WD_DECODE_MAX_LINE - hl - 1);
    memcpy(line + WD_DECODE_MAX_LINE - 1, "\"}", 2);
    expect_reject_n(f, line, WD_DECODE_MAX_LINE + 1, "line too long (8193 bytes, max 8192)", 0);
}

/* {"type":"heartbeat","ts":1,"component":"c","status":"up","x":[0,0,...]}
 * holds 11 tokens before the array's elements (the object, 5 keys, 4 values,
 * the array); n_elems more follow. Returns the line length; *col_of_257th is
 * the 1-based column of the first token past WD_DECODE_MAX_TOKENS. */
static size_t many_tokens_line(char *buf, size_t cap, int n_elems, uint32_t *col_of_257th)
{
    size_t n = (size_t)snprintf(buf, cap,
                                "{\"type\":\"heartbeat\",\"ts\":1,\"component\":\"c\","
                                "\"status\":\"up\",\"x\":[");
    *col_of_257th = 0;
    for (int i = 0; i < n_elems; i++) {
        if (11 + i + 1 == WD_DECODE_MAX_TOKENS + 1)
            *col_of_257th = (uint32_t)n + 1u;
        buf[n++] = '0';
        if (i + 1 < n_elems)
            buf[n++] = ',';
    }
    buf[n++] = ']';
    buf[n++] = '}';
    buf[n] = '\0';
    assert_true(n < cap);
    return n;
}

static void test_decode_too_many_tokens_rejected(void **state)
{
    struct fx *f = *state;
    static char line[4096];
    uint32_t col;
    /* 11 + 245 = 256 tokens: the most a line may hold. */
    size_t n = many_tokens_line(line, sizeof line, WD_DECODE_MAX_TOKENS - 11, &col);
    assert_int_equal(decode_n(f, line, n), WD_OK);
    n = many_tokens_line(line, sizeof line, WD_DECODE_MAX_TOKENS - 11 + 1, &col);
    assert_int_not_equal(col, 0);
    expect_reject_n(f, line, n, "too many JSON tokens (max 256)", col);
}

static void test_decode_duplicate_key_rejected(void **state)
{
    struct fx *f = *state;
    static const char line[] =
        "{\"type\":\"quote\",\"ts\":1,\"symbol\":\"A\",\"bid\":1,\"ask\":2,\"bid\":3}";
    expect_reject(f, line, "duplicate key 'bid'", col_of(line, "bid\":3"));
    static const char ts[] = "{\"ts\":1,\"type\":\"heartbeat\",\"ts\":2,\"component\":\"c\","
                             "\"status\":\"up\"}";
    expect_reject(f, ts, "duplicate key 'ts'", col_of(ts, "ts\":2"));
}

static void test_decode_negative_seq_rejected(void **state)
{
    struct fx *f = *state;
    static const char line[] =
        "{\"type\":\"heartbeat\",\"ts\":1,\"seq\":-1,\"component\":\"c\",\"status\":\"up\"}";
    expect_reject(f, line, "negative value for 'seq'", col_of(line, "-1"));
}

static void test_decode_symbol_with_escape_rejected(void **state)
{
    struct fx *f = *state;
    static const char line[] =
        "{\"type\":\"trade\",\"ts\":1,\"symbol\":\"A\\u0041PL\",\"price\":1,\"size\":1}";
    expect_reject(f, line, "value of 'symbol' has escapes or control characters",
                  col_of(line, "A\\u"));
    static const char quote[] =
        "{\"type\":\"trade\",\"ts\":1,\"symbol\":\"A\\\"B\",\"price\":1,\"size\":1}";
    expect_reject(f, quote, "value of 'symbol' has escapes or control characters",
                  col_of(quote, "A\\\"B"));
}

static void test_decode_empty_line_rejected(void **state)
{
    struct fx *f = *state;
    expect_reject(f, "", "empty line", 0);
    expect_reject(f, " \t \r", "empty line", 0);
}

static void test_decode_bad_ts_values_rejected(void **state)
{
    struct fx *f = *state;
    static const char text[] =
        "{\"type\":\"heartbeat\",\"ts\":\"yesterday\",\"component\":\"c\",\"status\":\"up\"}";
    expect_reject(f, text, "value of 'ts' is not an RFC 3339 time", col_of(text, "yesterday"));
    static const char neg[] =
        "{\"type\":\"heartbeat\",\"ts\":-1,\"component\":\"c\",\"status\":\"up\"}";
    expect_reject(f, neg, "negative value for 'ts'", col_of(neg, "-1"));
    static const char frac[] =
        "{\"type\":\"heartbeat\",\"ts\":1.5,\"component\":\"c\",\"status\":\"up\"}";
    expect_reject(f, frac, "value of 'ts' is not a valid integer", col_of(frac, "1.5"));
}

static void test_decode_symbol_too_long_rejected(void **state)
{
    struct fx *f = *state;
    static const char line[] =
        "{\"type\":\"trade\",\"ts\":1,\"symbol\":"
        "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\","
        "\"price\":1,\"size\":1}";
    expect_reject(f, line, "value of 'symbol' is too long (max 64 bytes)", col_of(line, "AAA"));
}

/* The column is a byte offset into the line as the caller passed it, so
 * that a reader can point at the offending byte; leading blanks that the
 * decoder skips still count. */
static void test_decode_column_counts_leading_blanks(void **state)
{
    struct fx *f = *state;
    static const char line[] =
        "  \t{\"type\":\"quote\",\"ts\":1,\"symbol\":\"A\",\"bid\":-1,\"ask\":2}";
    expect_reject(f, line, "negative value for 'bid'", col_of(line, "-1"));
}

/* SPEC section 2: one JSON object per line; anything that is not JSON is a
 * malformed line. The tokenizer is lax about separators and literals, so
 * the decoder must not accept what a JSON parser would reject, even inside
 * values of unknown keys. The exact wording is left to the decoder; it must
 * say "bad JSON". */
static void test_decode_invalid_json_syntax_rejected(void **state)
{
    static const char *const bad[] = {
        /* trailing comma in the object */
        "{\"type\":\"heartbeat\",\"ts\":1,\"component\":\"c\",\"status\":\"up\",}",
        /* leading comma */
        "{,\"type\":\"heartbeat\",\"ts\":1,\"component\":\"c\",\"status\":\"up\"}",
        /* two commas */
        "{\"type\":\"heartbeat\",,\"ts\":1,\"component\":\"c\",\"status\":\"up\"}",
        /* two colons */
        "{\"type\"::\"heartbeat\",\"ts\":1,\"component\":\"c\",\"status\":\"up\"}",
        /* empty array element */
        "{\"type\":\"heartbeat\",\"ts\":1,\"component\":\"c\",\"status\":\"up\","
        "\"x\":[1,,2]}",
        /* missing comma between array elements */
        "{\"type\":\"heartbeat\",\"ts\":1,\"component\":\"c\",\"status\":\"up\","
        "\"x\":[1 2]}",
        /* not a JSON literal */
        "{\"type\":\"heartbeat\",\"ts\":1,\"component\":\"c\",\"status\":\"up\","
        "\"x\":tru}",
        /* not a JSON number */
        "{\"type\":\"heartbeat\",\"ts\":1,\"component\":\"c\",\"status\":\"up\","
        "\"x\":-}",
        /* raw control character (a tab) inside a string */
        "{\"type\":\"heartbeat\",\"ts\":1,\"component\":\"c\",\"status\":\"up\","
        "\"x\":\"a\tb\"}",
        /* ... inside a fixed word the event does not read (an ack's side;
         * found by fuzz_decode) */
        "{\"type\":\"ack\",\"ts\":1,\"id\":\"o18\",\"status\":\"accepted\","
        "\"side\":\"H\x13LD\"}",
    };
    struct fx *f = *state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        enum wd_status st = decode(f, bad[i]);
        if (st != WD_EINVAL)
            fail_msg("status %d, expected WD_EINVAL: %s", (int)st, bad[i]);
        if (strncmp(f->err.msg, "bad JSON", 8) != 0)
            fail_msg("msg \"%s\" does not say bad JSON: %s", f->err.msg, bad[i]);
    }
}

/* ---- name tables -------------------------------------------------------------- */

static void test_decode_rejected_line_interns_nothing(void **state)
{
    static const char *const bad[] = {
        /* bad value, after both names were read */
        "{\"type\":\"quote\",\"ts\":1,\"account\":\"newacct\",\"symbol\":\"NEWSYM\","
        "\"bid\":-1,\"ask\":2}",
        /* unknown side */
        "{\"type\":\"fill\",\"ts\":1,\"account\":\"newacct\",\"id\":\"o\",\"symbol\":\"NEWSYM\","
        "\"side\":\"HOLD\",\"qty\":1,\"price\":1}",
        /* the symbol is fine, the account is not */
        "{\"type\":\"trade\",\"ts\":1,\"account\":\"new\\nacct\",\"symbol\":\"NEWSYM\","
        "\"price\":1,\"size\":1}",
        /* the account is fine, the symbol is not */
        "{\"type\":\"trade\",\"ts\":1,\"account\":\"newacct\",\"symbol\":\"NEW\\u0053YM\","
        "\"price\":1,\"size\":1}",
        /* duplicate key after the names */
        "{\"type\":\"trade\",\"ts\":1,\"account\":\"newacct\",\"symbol\":\"NEWSYM\","
        "\"price\":1,\"size\":1,\"size\":2}",
        /* trailing data */
        "{\"type\":\"trade\",\"ts\":1,\"account\":\"newacct\",\"symbol\":\"NEWSYM\","
        "\"price\":1,\"size\":1} {}",
        /* LMT without limit */
        "{\"type\":\"intent\",\"ts\":1,\"account\":\"newacct\",\"id\":\"o\","
        "\"symbol\":\"NEWSYM\",\"side\":\"BUY\",\"qty\":1,\"source\":\"s\","
        "\"order_type\":\"LMT\"}",
    };
    struct fx *f = *state;
    uint32_t id;
    (void)decode_ok(f, "{\"type\":\"trade\",\"ts\":1,\"account\":\"acct1\",\"symbol\":\"AAPL\","
                       "\"price\":1,\"size\":1}");
    assert_int_equal(wd_intern_count(&f->symbols), 1);
    assert_int_equal(wd_intern_count(&f->accounts), 2);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (decode(f, bad[i]) != WD_EINVAL)
            fail_msg("accepted: %s", bad[i]);
        assert_int_equal(wd_intern_count(&f->symbols), 1);
        assert_int_equal(wd_intern_count(&f->accounts), 2);
    }
    assert_int_equal(wd_intern_find(&f->symbols, "NEWSYM", 6, &id), WD_ENOTFOUND);
    assert_int_equal(wd_intern_find(&f->accounts, "newacct", 7, &id), WD_ENOTFOUND);
    /* The same names on a valid line are interned, with the next ids. */
    const struct wd_event *ev = decode_ok(
        f, "{\"type\":\"trade\",\"ts\":1,\"account\":\"newacct\",\"symbol\":\"NEWSYM\","
           "\"price\":1,\"size\":1}");
    assert_int_equal(ev->symbol, 1);
    assert_int_equal(ev->account, 2);
}

static void test_decode_symbol_table_full(void **state)
{
    struct fx *f = *state;
    uint32_t id;
    assert_int_equal(decode_ok(f, "{\"type\":\"trade\",\"ts\":1,\"symbol\":\"A\",\"price\":1,"
                                  "\"size\":1}")->symbol,
                     0);
    assert_int_equal(decode_ok(f, "{\"type\":\"trade\",\"ts\":1,\"symbol\":\"B\",\"price\":1,"
                                  "\"size\":1}")->symbol,
                     1);
    assert_int_equal(
        decode(f, "{\"type\":\"trade\",\"ts\":1,\"symbol\":\"C\",\"price\":1,\"size\":1}"),
        WD_EFULL);
    assert_int_equal(f->err.status, WD_EFULL);
    assert_string_equal(f->err.msg, "too many distinct symbol names");
    assert_int_equal(wd_intern_count(&f->symbols), 2);
    assert_int_equal(wd_intern_find(&f->symbols, "C", 1, &id), WD_ENOTFOUND);
    /* Known symbols still decode; events without a symbol are unaffected. */
    assert_int_equal(decode_ok(f, "{\"type\":\"trade\",\"ts\":1,\"symbol\":\"A\",\"price\":1,"
                                  "\"size\":1}")->symbol,
                     0);
    assert_int_equal(
        decode_ok(f, "{\"type\":\"heartbeat\",\"ts\":1,\"component\":\"c\",\"status\":\"up\"}")
            ->symbol,
        WD_NO_ID);
    /* A malformed line naming a new symbol is still WD_EINVAL, not WD_EFULL. */
    assert_int_equal(
        decode(f, "{\"type\":\"trade\",\"ts\":1,\"symbol\":\"D\",\"price\":-1,\"size\":1}"),
        WD_EINVAL);
}

static void test_decode_account_table_full(void **state)
{
    struct fx *f = *state;
    /* "default" takes one of the two slots. */
    assert_int_equal(wd_intern_count(&f->accounts), 1);
    (void)decode_ok(f, "{\"type\":\"account\",\"ts\":1,\"account\":\"a1\",\"equity\":1}");
    assert_int_equal(
        decode(f, "{\"type\":\"account\",\"ts\":1,\"account\":\"a2\",\"equity\":1}"), WD_EFULL);
    assert_string_equal(f->err.msg, "too many distinct account names");
    assert_int_equal(wd_intern_count(&f->accounts), 2);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_decode_quote_with_sizes),
        T(test_decode_quote_without_sizes),
        T(test_decode_trade),
        T(test_decode_bar_with_interval),
        T(test_decode_bar_without_interval),
        T(test_decode_intent_market),
        T(test_decode_intent_limit_with_sig),
        T(test_decode_intent_explicit_mkt_and_numeric_id),
        T(test_decode_ack_accepted),
        T(test_decode_ack_rejected_with_reason),
        T(test_decode_ack_cancelled_with_reason),
        T(test_decode_fill_with_commission_and_exec_id),
        T(test_decode_fill_without_optionals),
        T(test_decode_heartbeat_up),
        T(test_decode_heartbeat_down),
        T(test_decode_account_with_cash_and_buying_power),
        T(test_decode_account_equity_only),
        T(test_decode_metric_with_labels),
        T(test_decode_metric_without_labels),
        T(test_decode_ts_integer_nanoseconds),
        T(test_decode_ts_rfc3339_utc),
        T(test_decode_ts_rfc3339_with_offset),
        T(test_decode_account_defaults_to_default),
        T(test_decode_seq_parsed),
        T(test_decode_unknown_keys_ignored),
        T(test_decode_blanks_and_crlf_tolerated),
        T(test_decode_string_fields_point_into_line),
        T(test_decode_unterminated_object_rejected),
        T(test_decode_garbage_rejected),
        T(test_decode_trailing_data_after_object_rejected),
        T(test_decode_not_an_object_rejected),
        T(test_decode_missing_type_rejected),
        T(test_decode_missing_ts_rejected),
        T(test_decode_quote_missing_symbol_rejected),
        T(test_decode_intent_missing_id_rejected),
        T(test_decode_missing_required_keys_per_type_rejected),
        T(test_decode_qty_as_string_rejected),
        T(test_decode_bid_as_true_rejected),
        T(test_decode_side_as_number_rejected),
        T(test_decode_labels_as_array_rejected),
        T(test_decode_intent_negative_qty_rejected),
        T(test_decode_fill_negative_qty_rejected),
        T(test_decode_zero_qty_rejected),
        T(test_decode_unknown_side_rejected),
        T(test_decode_unknown_type_rejected),
        T(test_decode_unknown_order_type_rejected),
        T(test_decode_limit_order_without_limit_rejected),
        T(test_decode_nan_literal_rejected),
        T(test_decode_infinity_literal_rejected),
        T(test_decode_number_out_of_range_rejected),
        T(test_decode_line_over_max_rejected),
        T(test_decode_too_many_tokens_rejected),
        T(test_decode_duplicate_key_rejected),
        T(test_decode_negative_seq_rejected),
        T(test_decode_symbol_with_escape_rejected),
        T(test_decode_empty_line_rejected),
        T(test_decode_bad_ts_values_rejected),
        T(test_decode_symbol_too_long_rejected),
        T(test_decode_column_counts_leading_blanks),
        T(test_decode_invalid_json_syntax_rejected),
        T(test_decode_rejected_line_interns_nothing),
        cmocka_unit_test_setup_teardown(test_decode_symbol_table_full, setup_two_symbols,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_decode_account_table_full, setup_two_accounts,
                                        teardown),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
