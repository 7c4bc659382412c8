/*
 * JSON Lines event decoder (SPEC section 2) over jsmn.
 *
 * One pass of jsmn (strict mode) tokenizes the line into a fixed token
 * array; one pass over the top-level keys records where each known key's
 * value is; then the event type's required and optional keys are checked
 * and converted. Nothing is interned until the whole line has been
 * validated, so a rejected line leaves no trace. Pure: no I/O, no clock, no
 * allocation per line.
 */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "warden/decode.h"
#include "warden/timeutil.h"

#include "jsmn_strict.h"

/* Every key the decoder knows. Unknown keys are ignored. */
enum key {
    K_TYPE, K_TS, K_ACCOUNT, K_SEQ, K_SYMBOL,
    K_BID, K_ASK, K_BID_SIZE, K_ASK_SIZE,
    K_PRICE, K_SIZE,
    K_OPEN, K_HIGH, K_LOW, K_CLOSE, K_VOLUME, K_INTERVAL_S,
    K_ID, K_SIDE, K_QTY, K_SOURCE, K_ORDER_TYPE, K_LIMIT, K_SIG,
    K_STATUS, K_REASON, K_COMMISSION, K_EXEC_ID,
    K_COMPONENT, K_DETAIL,
    K_EQUITY, K_CASH, K_BUYING_POWER,
    K_NAME, K_VALUE, K_LABELS,
    K__COUNT
};

#define KB(k) (1ull << (k))

/* String values that are compared with fixed words or checked as names by
 * their readers (which reject anything else, control characters too). */
#define LITERAL_KEYS (KB(K_TYPE) | KB(K_SIDE) | KB(K_STATUS) | KB(K_ORDER_TYPE) | \
                      KB(K_SYMBOL) | KB(K_ACCOUNT))

static const char *const key_names[K__COUNT] = {
    "type", "ts", "account", "seq", "symbol",
    "bid", "ask", "bid_size", "ask_size",
    "price", "size",
    "open", "high", "low", "close", "volume", "interval_s",
    "id", "side", "qty", "source", "order_type", "limit", "sig",
    "status", "reason", "commission", "exec_id",
    "component", "detail",
    "equity", "cash", "buying_power",
    "name", "value", "labels",
};

struct wd_decoder {
    struct wd_intern *symbols; /* borrowed */
    struct wd_intern *accounts; /* borrowed */
    uint32_t default_account;
    const char *line;
    int16_t at[K__COUNT]; /* token index of each key's value, -1 if absent */
    uint64_t prims;       /* known keys whose primitive value is not yet checked */
    uint64_t words;       /* known keys whose string value (a fixed word) is not scanned */
    jsmntok_t toks[WD_DECODE_MAX_TOKENS];
};

enum wd_status wd_decoder_new(struct wd_intern *symbols, struct wd_intern *accounts,
                              struct wd_decoder **out)
{
    struct wd_decoder *d = calloc(1, sizeof *d);
    if (d == NULL) {
        return WD_ENOMEM;
    }
    d->symbols = symbols;
    d->accounts = accounts;
    enum wd_status st = wd_intern_get(accounts, "default", 7, &d->default_account);
    if (st != WD_OK) {
        free(d);
        return st;
    }
    *out = d;
    return WD_OK;
}

void wd_decoder_free(struct wd_decoder *d)
{
    free(d);
}

uint32_t wd_decoder_default_account(const struct wd_decoder *d)
{
    return d->default_account;
}

const char *wd_event_type_name(enum wd_event_type t)
{
    static const char *const names[WD_EV__COUNT] = {
        "none", "quote", "trade", "bar", "intent", "ack", "fill",
        "heartbeat", "account", "metric"};
    return (unsigned)t < WD_EV__COUNT ? names[t] : "?";
}

/* Maps a key to its enum value, or K__COUNT when unknown. Dispatch on the
 * length first: most candidates are eliminated without touching memory. */
static enum key lookup_key(const char *s, size_t n)
{
#define KEY(k) if (memcmp(s, key_names[k], n) == 0) return k
    switch (n) {
    case 2: KEY(K_TS); KEY(K_ID); break;
    case 3: KEY(K_SEQ); KEY(K_BID); KEY(K_ASK); KEY(K_LOW); KEY(K_QTY); KEY(K_SIG); break;
    case 4: KEY(K_TYPE); KEY(K_SIZE); KEY(K_OPEN); KEY(K_HIGH); KEY(K_SIDE); KEY(K_CASH);
            KEY(K_NAME); break;
    case 5: KEY(K_PRICE); KEY(K_CLOSE); KEY(K_LIMIT); KEY(K_VALUE); break;
    case 6: KEY(K_SYMBOL); KEY(K_VOLUME); KEY(K_SOURCE); KEY(K_STATUS); KEY(K_REASON);
            KEY(K_DETAIL); KEY(K_EQUITY); KEY(K_LABELS); break;
    case 7: KEY(K_ACCOUNT); KEY(K_EXEC_ID); break;
    case 8: KEY(K_BID_SIZE); KEY(K_ASK_SIZE); break;
    case 9: KEY(K_COMPONENT); break;
    case 10: KEY(K_INTERVAL_S); KEY(K_ORDER_TYPE); KEY(K_COMMISSION); break;
    case 12: KEY(K_BUYING_POWER); break;
    default: break;
    }
#undef KEY
    return K__COUNT;
}

static enum wd_status fail(struct wd_error *err, const jsmntok_t *t, const char *fmt, ...)
    WD_PRINTF(3, 4);

/* Records an invalid-event reason and the 1-based column of token t. */
static enum wd_status fail(struct wd_error *err, const jsmntok_t *t, const char *fmt, ...)
{
    va_list ap;
    if (err != NULL) {
        err->column = t != NULL ? (uint32_t)t->start + 1u : 0u;
    }
    va_start(ap, fmt);
    enum wd_status st = wd_error_setv(err, WD_EINVAL, fmt, ap);
    va_end(ap);
    return st;
}

static const jsmntok_t *tok(const struct wd_decoder *d, enum key k)
{
    return d->at[k] < 0 ? NULL : &d->toks[d->at[k]];
}

static struct wd_str tok_str(const struct wd_decoder *d, const jsmntok_t *t)
{
    return (struct wd_str){d->line + t->start, (uint32_t)(t->end - t->start)};
}

/* Length of a token's text for messages, at most 32 bytes. */
static int clip(const jsmntok_t *t)
{
    int n = t->end - t->start;
    return n > 32 ? 32 : n;
}

static int tok_eq(const struct wd_decoder *d, const jsmntok_t *t, const char *lit)
{
    size_t n = strlen(lit);
    return (size_t)(t->end - t->start) == n && memcmp(d->line + t->start, lit, n) == 0;
}

/* A required or optional string value. */
static enum wd_status get_string(const struct wd_decoder *d, enum key k, int required,
                                 struct wd_str *out, struct wd_error *err)
{
    const jsmntok_t *t = tok(d, k);
    if (t == NULL) {
        *out = (struct wd_str){"", 0};
        return required ? fail(err, NULL, "missing key '%s'", key_names[k]) : WD_OK;
    }
    if (t->type != JSMN_STRING) {
        return fail(err, t, "wrong type for '%s': expected a string", key_names[k]);
    }
    *out = tok_str(d, t);
    if (required && out->len == 0) {
        return fail(err, t, "empty value for '%s'", key_names[k]);
    }
    return WD_OK;
}

/* A name (symbol, account): a non-empty string without escapes, bounded. */
static enum wd_status get_name(const struct wd_decoder *d, enum key k, int required,
                               struct wd_str *out, struct wd_error *err)
{
    enum wd_status st = get_string(d, k, required, out, err);
    const jsmntok_t *t = tok(d, k);
    if (st != WD_OK || t == NULL) {
        return st;
    }
    if (t != NULL && out->len == 0) {
        return fail(err, t, "empty value for '%s'", key_names[k]);
    }
    if (out->len > WD_INTERN_NAME_MAX) {
        return fail(err, t, "value of '%s' is too long (max 64 bytes)", key_names[k]);
    }
    for (uint32_t i = 0; i < out->len; i++) {
        unsigned char c = (unsigned char)out->ptr[i];
        if (c == '\\' || c < 0x20) {
            return fail(err, t, "value of '%s' has escapes or control characters",
                        key_names[k]);
        }
    }
    return WD_OK;
}

/* Names a JSON literal that is not a finite number, for a clearer message. */
static int is_non_finite_text(const char *s, size_t n)
{
    if (n > 0 && (s[0] == '-' || s[0] == '+')) {
        s++;
        n--;
    }
    return (n >= 3 && (memcmp(s, "NaN", 3) == 0 || memcmp(s, "nan", 3) == 0 ||
                       memcmp(s, "inf", 3) == 0 || memcmp(s, "Inf", 3) == 0));
}

static enum wd_status get_fix(const struct wd_decoder *d, enum key k, int required,
                              wd_fix *out, struct wd_error *err)
{
    const jsmntok_t *t = tok(d, k);
    if (t == NULL) {
        *out = 0;
        return required ? fail(err, NULL, "missing key '%s'", key_names[k]) : WD_OK;
    }
    if (t->type != JSMN_PRIMITIVE) {
        return fail(err, t, "wrong type for '%s': expected a number", key_names[k]);
    }
    switch (wd_fix_parse(d->line + t->start, (size_t)(t->end - t->start), out)) {
    case WD_OK:
        return WD_OK;
    case WD_ERANGE:
        return fail(err, t, "value of '%s' is out of range", key_names[k]);
    default:
        if (tok_eq(d, t, "true") || tok_eq(d, t, "false") || tok_eq(d, t, "null")) {
            return fail(err, t, "wrong type for '%s': expected a number", key_names[k]);
        }
        return fail(err, t, "value of '%s' is not a number", key_names[k]);
    }
}

/* A positive quantity or price. */
static enum wd_status get_positive(const struct wd_decoder *d, enum key k, int required,
                                   wd_fix *out, struct wd_error *err)
{
    enum wd_status st = get_fix(d, k, required, out, err);
    if (st == WD_OK && tok(d, k) != NULL && *out <= 0) {
        return fail(err, tok(d, k), *out < 0 ? "negative value for '%s'" : "zero value for '%s'",
                    key_names[k]);
    }
    return st;
}

static enum wd_status get_nonneg(const struct wd_decoder *d, enum key k, wd_fix *out,
                                 struct wd_error *err)
{
    enum wd_status st = get_fix(d, k, 0, out, err);
    if (st == WD_OK && *out < 0) {
        return fail(err, tok(d, k), "negative value for '%s'", key_names[k]);
    }
    return st;
}

/* A non-negative JSON integer (no fraction, no exponent). */
static enum wd_status get_uint(const struct wd_decoder *d, enum key k, uint64_t max,
                               uint64_t *out, struct wd_error *err)
{
    const jsmntok_t *t = tok(d, k);
    if (t->type != JSMN_PRIMITIVE) {
        return fail(err, t, "wrong type for '%s': expected an integer", key_names[k]);
    }
    const char *s = d->line + t->start;
    size_t n = (size_t)(t->end - t->start);
    uint64_t v = 0;
    if (n == 0 || (s[0] == '0' && n > 1)) {
        return fail(err, t, "value of '%s' is not a valid integer", key_names[k]);
    }
    for (size_t i = 0; i < n; i++) {
        unsigned dgt = (unsigned)(unsigned char)s[i] - '0';
        if (dgt > 9u) {
            if (s[i] == '-') {
                return fail(err, t, "negative value for '%s'", key_names[k]);
            }
            return fail(err, t, "value of '%s' is not a valid integer", key_names[k]);
        }
        /* Up to 19 digits cannot overflow 64 bits: test only past that. */
        if (i >= 19 && (v > (UINT64_MAX - dgt) / 10u)) {
            return fail(err, t, "value of '%s' is out of range", key_names[k]);
        }
        v = v * 10u + dgt;
    }
    if (v > max) {
        return fail(err, t, "value of '%s' is out of range", key_names[k]);
    }
    *out = v;
    return WD_OK;
}

static enum wd_status get_ts(const struct wd_decoder *d, struct wd_event *ev,
                             struct wd_str *text, struct wd_error *err)
{
    const jsmntok_t *t = tok(d, K_TS);
    if (t == NULL) {
        return fail(err, NULL, "missing key '%s'", "ts");
    }
    *text = tok_str(d, t);
    if (t->type == JSMN_STRING) {
        if (wd_time_parse_rfc3339(text->ptr, text->len, &ev->ts_ns) != WD_OK) {
            return fail(err, t, "value of '%s' is not an RFC 3339 time", "ts");
        }
        return WD_OK;
    }
    uint64_t ns;
    enum wd_status st = get_uint(d, K_TS, (uint64_t)INT64_MAX, &ns, err);
    if (st == WD_OK) {
        ev->ts_ns = (int64_t)ns;
    }
    return st;
}

static enum wd_status get_side(const struct wd_decoder *d, enum wd_side *side,
                               struct wd_error *err)
{
    struct wd_str s = {"", 0};
    enum wd_status st = get_string(d, K_SIDE, 1, &s, err);
    if (st != WD_OK) {
        return st;
    }
    if (s.len == 3 && memcmp(s.ptr, "BUY", 3) == 0) {
        *side = WD_SIDE_BUY;
    } else if (s.len == 4 && memcmp(s.ptr, "SELL", 4) == 0) {
        *side = WD_SIDE_SELL;
    } else {
        return fail(err, tok(d, K_SIDE), "unknown side '%.*s' (expected BUY or SELL)",
                    (int)(s.len > 32 ? 32 : s.len), s.ptr);
    }
    return WD_OK;
}

/* An order id: a string, or a number kept as its text. */
static enum wd_status get_id(const struct wd_decoder *d, struct wd_str *out,
                             struct wd_error *err)
{
    const jsmntok_t *t = tok(d, K_ID);
    if (t != NULL && t->end - t->start > WD_INTERN_NAME_MAX) {
        return fail(err, t, "value of 'id' is too long (max %d bytes)", WD_INTERN_NAME_MAX);
    }
    if (t != NULL && t->type == JSMN_PRIMITIVE) {
        wd_fix ignored;
        if (wd_fix_parse(d->line + t->start, (size_t)(t->end - t->start), &ignored) != WD_OK) {
            return fail(err, t, "wrong type for '%s': expected a string", "id");
        }
        *out = tok_str(d, t);
        return WD_OK;
    }
    return get_string(d, K_ID, 1, out, err);
}

static enum wd_status decode_quote(const struct wd_decoder *d, struct wd_event *ev,
                                   struct wd_error *err)
{
    struct wd_ev_quote *q = &ev->u.quote;
    enum wd_status st;
    if ((st = get_positive(d, K_BID, 1, &q->bid, err)) != WD_OK ||
        (st = get_positive(d, K_ASK, 1, &q->ask, err)) != WD_OK ||
        (st = get_nonneg(d, K_BID_SIZE, &q->bid_size, err)) != WD_OK ||
        (st = get_nonneg(d, K_ASK_SIZE, &q->ask_size, err)) != WD_OK) {
        return st;
    }
    return WD_OK;
}

static enum wd_status decode_trade(const struct wd_decoder *d, struct wd_event *ev,
                                   struct wd_error *err)
{
    enum wd_status st;
    if ((st = get_positive(d, K_PRICE, 1, &ev->u.trade.price, err)) != WD_OK ||
        (st = get_positive(d, K_SIZE, 1, &ev->u.trade.size, err)) != WD_OK) {
        return st;
    }
    return WD_OK;
}

static enum wd_status decode_bar(const struct wd_decoder *d, struct wd_event *ev,
                                 struct wd_error *err)
{
    struct wd_ev_bar *b = &ev->u.bar;
    enum wd_status st;
    if ((st = get_positive(d, K_OPEN, 1, &b->open, err)) != WD_OK ||
        (st = get_positive(d, K_HIGH, 1, &b->high, err)) != WD_OK ||
        (st = get_positive(d, K_LOW, 1, &b->low, err)) != WD_OK ||
        (st = get_positive(d, K_CLOSE, 1, &b->close, err)) != WD_OK ||
        (st = get_fix(d, K_VOLUME, 1, &b->volume, err)) != WD_OK) {
        return st;
    }
    if (b->volume < 0) {
        return fail(err, tok(d, K_VOLUME), "negative value for '%s'", "volume");
    }
    b->interval_s = 0;
    if (tok(d, K_INTERVAL_S) != NULL) {
        uint64_t iv;
        if ((st = get_uint(d, K_INTERVAL_S, 366u * 86400u, &iv, err)) != WD_OK) {
            return st;
        }
        if (iv == 0) {
            return fail(err, tok(d, K_INTERVAL_S), "zero value for '%s'", "interval_s");
        }
        b->interval_s = (int64_t)iv;
    }
    return WD_OK;
}

static enum wd_status decode_intent(const struct wd_decoder *d, struct wd_event *ev,
                                    struct wd_error *err)
{
    struct wd_ev_intent *in = &ev->u.intent;
    enum wd_status st;
    if ((st = get_id(d, &in->id, err)) != WD_OK ||
        (st = get_side(d, &in->side, err)) != WD_OK ||
        (st = get_positive(d, K_QTY, 1, &in->qty, err)) != WD_OK ||
        (st = get_string(d, K_SOURCE, 1, &in->source, err)) != WD_OK ||
        (st = get_string(d, K_SIG, 0, &in->sig, err)) != WD_OK) {
        return st;
    }
    in->qty_text = tok_str(d, tok(d, K_QTY));
    in->order_type = WD_ORDER_MKT;
    const jsmntok_t *ot = tok(d, K_ORDER_TYPE);
    if (ot != NULL) {
        if (ot->type != JSMN_STRING) {
            return fail(err, ot, "wrong type for '%s': expected a string", "order_type");
        }
        if (tok_eq(d, ot, "LMT")) {
            in->order_type = WD_ORDER_LMT;
        } else if (!tok_eq(d, ot, "MKT")) {
            return fail(err, ot, "unknown order_type '%.*s' (expected MKT or LMT)",
                    clip(ot), d->line + ot->start);
        }
    }
    in->has_limit = tok(d, K_LIMIT) != NULL;
    if ((st = get_positive(d, K_LIMIT, in->order_type == WD_ORDER_LMT, &in->limit, err)) !=
        WD_OK) {
        return st;
    }
    return WD_OK;
}

static enum wd_status decode_ack(const struct wd_decoder *d, struct wd_event *ev,
                                 struct wd_error *err)
{
    struct wd_ev_ack *a = &ev->u.ack;
    enum wd_status st;
    struct wd_str status;
    if ((st = get_id(d, &a->id, err)) != WD_OK ||
        (st = get_string(d, K_STATUS, 1, &status, err)) != WD_OK ||
        (st = get_string(d, K_REASON, 0, &a->reason, err)) != WD_OK) {
        return st;
    }
    const jsmntok_t *t = tok(d, K_STATUS);
    if (tok_eq(d, t, "accepted")) {
        a->status = WD_ACK_ACCEPTED;
    } else if (tok_eq(d, t, "rejected")) {
        a->status = WD_ACK_REJECTED;
    } else if (tok_eq(d, t, "cancelled")) {
        a->status = WD_ACK_CANCELLED;
    } else {
        return fail(err, t, "unknown status '%.*s' (expected accepted, rejected or cancelled)",
                    clip(t), d->line + t->start);
    }
    return WD_OK;
}

static enum wd_status decode_fill(const struct wd_decoder *d, struct wd_event *ev,
                                  struct wd_error *err)
{
    struct wd_ev_fill *f = &ev->u.fill;
    enum wd_status st;
    if ((st = get_id(d, &f->id, err)) != WD_OK ||
        (st = get_side(d, &f->side, err)) != WD_OK ||
        (st = get_positive(d, K_QTY, 1, &f->qty, err)) != WD_OK ||
        (st = get_positive(d, K_PRICE, 1, &f->price, err)) != WD_OK ||
        (st = get_nonneg(d, K_COMMISSION, &f->commission, err)) != WD_OK ||
        (st = get_string(d, K_EXEC_ID, 0, &f->exec_id, err)) != WD_OK) {
        return st;
    }
    return WD_OK;
}

static enum wd_status decode_heartbeat(const struct wd_decoder *d, struct wd_event *ev,
                                       struct wd_error *err)
{
    struct wd_ev_heartbeat *h = &ev->u.heartbeat;
    enum wd_status st;
    struct wd_str status;
    if ((st = get_string(d, K_COMPONENT, 1, &h->component, err)) != WD_OK ||
        (st = get_string(d, K_STATUS, 1, &status, err)) != WD_OK ||
        (st = get_string(d, K_DETAIL, 0, &h->detail, err)) != WD_OK) {
        return st;
    }
    const jsmntok_t *t = tok(d, K_STATUS);
    if (tok_eq(d, t, "up")) {
        h->status = WD_HB_UP;
    } else if (tok_eq(d, t, "down")) {
        h->status = WD_HB_DOWN;
    } else {
        return fail(err, t, "unknown status '%.*s' (expected up or down)", clip(t),
                    d->line + t->start);
    }
    return WD_OK;
}

static enum wd_status decode_account(const struct wd_decoder *d, struct wd_event *ev,
                                     struct wd_error *err)
{
    struct wd_ev_account *a = &ev->u.account;
    enum wd_status st;
    a->has_cash = tok(d, K_CASH) != NULL;
    a->has_buying_power = tok(d, K_BUYING_POWER) != NULL;
    if ((st = get_fix(d, K_EQUITY, 1, &a->equity, err)) != WD_OK ||
        (st = get_fix(d, K_CASH, 0, &a->cash, err)) != WD_OK ||
        (st = get_fix(d, K_BUYING_POWER, 0, &a->buying_power, err)) != WD_OK) {
        return st;
    }
    return WD_OK;
}

static enum wd_status decode_metric(const struct wd_decoder *d, struct wd_event *ev,
                                    struct wd_error *err)
{
    struct wd_ev_metric *m = &ev->u.metric;
    enum wd_status st;
    if ((st = get_string(d, K_NAME, 1, &m->name, err)) != WD_OK) {
        return st;
    }
    const jsmntok_t *t = tok(d, K_VALUE);
    if (t == NULL) {
        return fail(err, NULL, "missing key '%s'", "value");
    }
    if (t->type != JSMN_PRIMITIVE) {
        return fail(err, t, "wrong type for '%s': expected a number", "value");
    }
    /* Metric values are gauges, not money: a double is right here. The
     * syntax is checked by the fixed-point parser's rules first, so strtod
     * sees only a JSON number. */
    char buf[64];
    size_t n = (size_t)(t->end - t->start);
    wd_fix probe;
    enum wd_status ps = n < sizeof buf ? wd_fix_parse(d->line + t->start, n, &probe) : WD_ERANGE;
    if (ps == WD_EINVAL) {
        return fail(err, t, "value of '%s' is not a number", "value");
    }
    if (n >= sizeof buf) {
        return fail(err, t, "value of '%s' is out of range", "value");
    }
    memcpy(buf, d->line + t->start, n);
    buf[n] = '\0';
    m->value = strtod(buf, NULL);
    if (!isfinite(m->value)) {
        return fail(err, t, "value of '%s' is out of range", "value");
    }
    m->labels = (struct wd_str){"", 0};
    const jsmntok_t *lt = tok(d, K_LABELS);
    if (lt != NULL) {
        if (lt->type != JSMN_OBJECT) {
            return fail(err, lt, "wrong type for '%s': expected an object", "labels");
        }
        m->labels = tok_str(d, lt);
    }
    return WD_OK;
}

static enum wd_status parse_type(const struct wd_decoder *d, enum wd_event_type *type,
                                 struct wd_error *err)
{
    static const char *const names[] = {"quote", "trade", "bar", "intent", "ack", "fill",
                                        "heartbeat", "account", "metric"};
    struct wd_str s;
    enum wd_status st = get_string(d, K_TYPE, 1, &s, err);
    if (st != WD_OK) {
        return st;
    }
    /* Dispatch on the first byte: one comparison for the common types. */
    unsigned i;
    switch (s.len > 0 ? s.ptr[0] : 0) {
    case 'q': i = 0; break;
    case 't': i = 1; break;
    case 'b': i = 2; break;
    case 'i': i = 3; break;
    case 'a': i = s.len == 3 ? 4u : 7u; break;
    case 'f': i = 5; break;
    case 'h': i = 6; break;
    case 'm': i = 8; break;
    default: i = 9; break;
    }
    if (i < 9 && s.len == strlen(names[i]) && memcmp(s.ptr, names[i], s.len) == 0) {
        *type = (enum wd_event_type)(WD_EV_QUOTE + i);
        return WD_OK;
    }
    return fail(err, tok(d, K_TYPE), "unknown event type '%.*s'", clip(tok(d, K_TYPE)),
                d->line + tok(d, K_TYPE)->start);
}


/* ---- one pass: strict JSON grammar and the top-level key index ------------------
 * jsmn's strict mode still accepts stray or doubled separators ("{,", ",}",
 * "::", "[1 2]"), partial literals ("tru", "-") and control characters in
 * strings. Every token's raw span is known, so one flat walk over the
 * tokens checks the bytes between them and each primitive's text, and
 * indexes the top-level keys on the way: a few bytes of work per token, no
 * recursion, no second pass. */

static size_t raw_start(const jsmntok_t *t)
{
    return (size_t)t->start - (t->type == JSMN_STRING ? 1u : 0u);
}

static size_t raw_end(const jsmntok_t *t)
{
    return (size_t)t->end + (t->type == JSMN_STRING ? 1u : 0u);
}

/* The walk stays inside the top-level object, whose last byte is '}', so
 * skipping blanks always stops inside the line. */
static size_t skip_ws(const char *s, size_t i)
{
    if ((unsigned char)s[i] > ' ') {
        return i; /* compact JSON: the usual case */
    }
    while (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
        i++;
    }
    return i;
}

static int number_syntax_ok(const char *s, size_t n)
{
    size_t i = 0;
    if (i < n && s[i] == '-') {
        i++;
    }
    if (i >= n || s[i] < '0' || s[i] > '9') {
        return 0;
    }
    if (s[i] == '0') {
        i++;
    } else {
        while (i < n && s[i] >= '0' && s[i] <= '9') {
            i++;
        }
    }
    if (i < n && s[i] == '.') {
        size_t j = ++i;
        while (i < n && s[i] >= '0' && s[i] <= '9') {
            i++;
        }
        if (i == j) {
            return 0;
        }
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-')) {
            i++;
        }
        size_t j = i;
        while (i < n && s[i] >= '0' && s[i] <= '9') {
            i++;
        }
        if (i == j) {
            return 0;
        }
    }
    return i == n;
}

/* Whether any of n bytes is a control character (< 0x20), eight at a time. */
static int has_control(const char *s, size_t n)
{
    size_t i = 0;
    for (; i + 8u <= n; i += 8u) {
        uint64_t x;
        memcpy(&x, s + i, 8);
        /* A byte b < 0x20 makes (b - 0x20) borrow into its top bit while
         * b's own top bit is clear. */
        if (((x - 0x2020202020202020ull) & ~x & 0x8080808080808080ull) != 0) {
            return 1;
        }
    }
    for (; i < n; i++) {
        if ((unsigned char)s[i] < 0x20) {
            return 1;
        }
    }
    return 0;
}

static const char *primitive_problem(const char *v, size_t n)
{
    switch (v[0]) {
    case 't': return n == 4 && memcmp(v, "true", 4) == 0 ? NULL : "bad JSON: invalid literal";
    case 'f': return n == 5 && memcmp(v, "false", 5) == 0 ? NULL : "bad JSON: invalid literal";
    case 'n': return n == 4 && memcmp(v, "null", 4) == 0 ? NULL : "bad JSON: invalid literal";
    default: break;
    }
    if (number_syntax_ok(v, n)) {
        return NULL;
    }
    return is_non_finite_text(v, n) ? "non-finite number (NaN/Infinity) is not JSON"
                                    : "bad JSON: invalid literal";
}

#define MAX_DEPTH 32

struct frame {
    int tok;       /* the container's token */
    int remaining; /* members (objects: pairs) not yet started */
    bool is_obj, first, want_key;
};

/* Checks one key or value token: what precedes it (blanks, then `sep`
 * unless sep is 0, then blanks) must start at pos; returns the position
 * after the token, or 0 with err set. */
static size_t flat_token(const char *line, size_t pos, char sep, const jsmntok_t *t,
                         bool check, struct wd_error *err)
{
    pos = skip_ws(line, pos);
    if (sep != 0) {
        if (line[pos] != sep) {
            (void)fail(err, t, sep == ':' ? "bad JSON: expected ':'" : "bad JSON: expected ','");
            return 0;
        }
        pos = skip_ws(line, pos + 1u);
    }
    if (pos != raw_start(t)) {
        (void)fail(err, t, "%s", "bad JSON: unexpected character");
        return 0;
    }
    const char *why = NULL;
    if (!check) {
        /* its reader checks it */
    } else if (t->type == JSMN_PRIMITIVE) {
        why = primitive_problem(line + t->start, (size_t)(t->end - t->start));
    } else if (has_control(line + t->start, (size_t)(t->end - t->start))) {
        why = "bad JSON: control character in a string";
    }
    if (why != NULL) {
        (void)fail(err, t, "%s", why);
        return 0;
    }
    return raw_end(t);
}

/* The common case: an object whose values are all strings or primitives
 * (n == 2 * keys + 1). A tight loop over the pairs, no frames. */
static enum wd_status index_flat(struct wd_decoder *d, const char *line, int n,
                                 struct wd_error *err)
{
    const jsmntok_t *toks = d->toks;
    size_t pos = 1;
    for (int i = 1; i < n; i += 2) {
        const jsmntok_t *kt = &toks[i];
        if (kt->type != JSMN_STRING || kt->size != 1) {
            return fail(err, kt, "%s", "bad JSON: expected a key");
        }
        enum key key = lookup_key(line + kt->start, (size_t)(kt->end - kt->start));
        const jsmntok_t *vt = &toks[i + 1];
        /* A known key is one of our names: no control character in it. A
         * known key's number is parsed (and so checked) by its getter, the
         * ones no getter reads are checked in check_unread; string values
         * compared to fixed words or checked as names need no scan. */
        bool check_value = key == K__COUNT ||
                           (vt->type == JSMN_STRING && !(KB(key) & LITERAL_KEYS));
        if ((pos = flat_token(line, pos, i > 1 ? ',' : 0, kt, key == K__COUNT, err)) == 0 ||
            (pos = flat_token(line, pos, ':', vt, check_value, err)) == 0) {
            return WD_EINVAL;
        }
        if (key != K__COUNT) {
            if (d->at[key] >= 0) {
                return fail(err, kt, "duplicate key '%s'", key_names[key]);
            }
            d->at[key] = (int16_t)(i + 1);
            if (toks[i + 1].type == JSMN_PRIMITIVE) {
                d->prims |= 1ull << key;
            } else if (!check_value) {
                d->words |= 1ull << key;
            }
        }
    }
    pos = skip_ws(line, pos);
    if (pos + 1u != (size_t)toks[0].end) {
        return fail(err, n > 1 ? &toks[n - 1] : &toks[0], "%s",
                    n > 1 ? "bad JSON: expected ',' or a closing bracket"
                          : "bad JSON: unexpected character");
    }
    return WD_OK;
}

/* Tokenizes, checks the grammar, and indexes the top-level keys. */
static enum wd_status index_keys(struct wd_decoder *d, const char *line, size_t len,
                                 struct wd_error *err)
{
    jsmn_parser p;
    jsmn_init(&p);
    int n = jsmn_parse(&p, line, len, d->toks, WD_DECODE_MAX_TOKENS);
    if (n < 0) {
        if (err != NULL) {
            err->column = p.pos + 1u;
        }
        if (n == JSMN_ERROR_NOMEM) {
            return wd_error_set(err, WD_EINVAL, "too many JSON tokens (max %d)",
                                WD_DECODE_MAX_TOKENS);
        }
        if (n == JSMN_ERROR_INVAL && p.pos < len &&
            is_non_finite_text(line + p.pos, len - p.pos)) {
            return wd_error_set(err, WD_EINVAL, "non-finite number (NaN/Infinity) is not JSON");
        }
        return wd_error_set(err, WD_EINVAL, n == JSMN_ERROR_PART ? "bad JSON: truncated"
                                                                 : "bad JSON");
    }
    const jsmntok_t *toks = d->toks;
    if (n == 0 || toks[0].type != JSMN_OBJECT) {
        return fail(err, n ? &toks[0] : NULL, "%s", "bad JSON: not an object");
    }
    if ((size_t)toks[0].end != len) {
        if (err != NULL) {
            err->column = (uint32_t)toks[0].end + 1u;
        }
        return wd_error_set(err, WD_EINVAL, "bad JSON: trailing data after the object");
    }
    memset(d->at, 0xff, sizeof d->at);
    d->prims = 0;
    d->words = 0;
    if (n == 2 * toks[0].size + 1) {
        return index_flat(d, line, n, err);
    }

    struct frame st[MAX_DEPTH];
    int depth = 0;
    size_t pos = 1; /* just after the opening brace */
    st[0] = (struct frame){0, toks[0].size, true, true, true};
    int i = 1;
    for (;;) {
        /* Close every container whose members are all done. */
        while (st[depth].remaining == 0 && (!st[depth].is_obj || st[depth].want_key)) {
            const jsmntok_t *c = &toks[st[depth].tok];
            pos = skip_ws(line, pos);
            if (pos + 1u != (size_t)c->end) {
                return fail(err, i < n ? &toks[i] : c, "%s",
                            st[depth].first ? "bad JSON: unexpected character"
                                            : "bad JSON: expected ',' or a closing bracket");
            }
            pos = (size_t)c->end;
            if (depth == 0) {
                return i == n ? WD_OK : fail(err, &toks[i], "%s", "bad JSON");
            }
            depth--;
        }
        if (i >= n) {
            return fail(err, NULL, "%s", "bad JSON: truncated");
        }
        const jsmntok_t *t = &toks[i];
        struct frame *f = &st[depth];
        pos = skip_ws(line, pos);
        if (f->is_obj && !f->want_key) {
            if (line[pos] != ':') {
                return fail(err, t, "%s", "bad JSON: expected ':'");
            }
            pos = skip_ws(line, pos + 1u);
            f->want_key = true;
            f->remaining--;
        } else {
            if (!f->first) {
                if (line[pos] != ',') {
                    return fail(err, t, "%s", "bad JSON: expected ','");
                }
                pos = skip_ws(line, pos + 1u);
            }
            f->first = false;
            if (f->is_obj) {
                if (t->type != JSMN_STRING || t->size != 1) {
                    return fail(err, t, "%s", "bad JSON: expected a key");
                }
                f->want_key = false;
                if (depth == 0) {
                    enum key key = lookup_key(line + t->start, (size_t)(t->end - t->start));
                    if (key != K__COUNT) {
                        if (d->at[key] >= 0) {
                            return fail(err, t, "duplicate key '%s'", key_names[key]);
                        }
                        d->at[key] = (int16_t)(i + 1);
                    }
                }
            } else {
                f->remaining--;
            }
        }
        if (pos != raw_start(t)) {
            return fail(err, t, "%s", "bad JSON: unexpected character");
        }
        switch (t->type) {
        case JSMN_PRIMITIVE: {
            const char *why = primitive_problem(line + t->start, (size_t)(t->end - t->start));
            if (why != NULL) {
                return fail(err, t, "%s", why);
            }
            pos = raw_end(t);
            break;
        }
        case JSMN_STRING:
            if (has_control(line + t->start, (size_t)(t->end - t->start))) {
                return fail(err, t, "%s", "bad JSON: control character in a string");
            }
            pos = raw_end(t);
            break;
        default:
            if (depth + 1 >= MAX_DEPTH) {
                return fail(err, t, "%s", "bad JSON: nested too deeply");
            }
            st[++depth] = (struct frame){i, t->size, t->type == JSMN_OBJECT, true, true};
            pos = (size_t)t->start + 1u;
            break;
        }
        i++;
    }
}

static enum wd_status intern_status(enum wd_status st, const char *what, struct wd_error *err)
{
    if (st == WD_EFULL) {
        return wd_error_set(err, WD_EFULL, "too many distinct %s names", what);
    }
    return wd_error_set(err, st, "cannot intern %s name: %s", what, wd_status_str(st));
}

/* The keys each event type's getters read (and so fully check). */
static uint64_t consumed_keys(enum wd_event_type t)
{
    const uint64_t common = KB(K_TYPE) | KB(K_TS) | KB(K_ACCOUNT) | KB(K_SEQ) | KB(K_SYMBOL);
    switch (t) {
    case WD_EV_QUOTE: return common | KB(K_BID) | KB(K_ASK) | KB(K_BID_SIZE) | KB(K_ASK_SIZE);
    case WD_EV_TRADE: return common | KB(K_PRICE) | KB(K_SIZE);
    case WD_EV_BAR:
        return common | KB(K_OPEN) | KB(K_HIGH) | KB(K_LOW) | KB(K_CLOSE) | KB(K_VOLUME) |
               KB(K_INTERVAL_S);
    case WD_EV_INTENT:
        return common | KB(K_ID) | KB(K_SIDE) | KB(K_QTY) | KB(K_SOURCE) | KB(K_SIG) |
               KB(K_ORDER_TYPE) | KB(K_LIMIT);
    case WD_EV_ACK: return common | KB(K_ID) | KB(K_STATUS) | KB(K_REASON);
    case WD_EV_FILL:
        return common | KB(K_ID) | KB(K_SIDE) | KB(K_QTY) | KB(K_PRICE) | KB(K_COMMISSION) |
               KB(K_EXEC_ID);
    case WD_EV_HEARTBEAT: return common | KB(K_COMPONENT) | KB(K_STATUS) | KB(K_DETAIL);
    case WD_EV_ACCOUNT: return common | KB(K_EQUITY) | KB(K_CASH) | KB(K_BUYING_POWER);
    case WD_EV_METRIC: return common | KB(K_NAME) | KB(K_VALUE) | KB(K_LABELS);
    default: return 0;
    }
}

/* Checks the primitives of known keys that this event type does not read
 * (say a "price" on a quote): they are ignored, but must still be JSON. */
static enum wd_status check_unread(const struct wd_decoder *d, enum wd_event_type type,
                                   struct wd_error *err)
{
    uint64_t left = d->prims & ~consumed_keys(type);
    while (left != 0) {
        enum key k = (enum key)__builtin_ctzll(left);
        const jsmntok_t *t = tok(d, k);
        const char *why = primitive_problem(d->line + t->start, (size_t)(t->end - t->start));
        if (why != NULL) {
            return fail(err, t, "%s", why);
        }
        left &= left - 1u;
    }
    /* A fixed word the event does not read (an ack's "side") is compared to
     * nothing: scanned here, so that a control character in it still makes
     * the line malformed. */
    left = d->words & ~consumed_keys(type);
    while (left != 0) {
        const jsmntok_t *t = tok(d, (enum key)__builtin_ctzll(left));
        if (has_control(d->line + t->start, (size_t)(t->end - t->start))) {
            return fail(err, t, "%s", "bad JSON: control character in a string");
        }
        left &= left - 1u;
    }
    return WD_OK;
}

/* Makes a new name fit or fails before anything is interned, so that an
 * event is either recorded with both its names or not at all. */
static enum wd_status name_fits(const struct wd_intern *t, struct wd_str name, const char *what,
                                struct wd_error *err)
{
    uint32_t id;
    /* Room left: nothing to look up (the common case costs one compare). */
    if (name.len == 0 || t->count < t->max_names ||
        wd_intern_find(t, name.ptr, name.len, &id) == WD_OK) {
        return WD_OK;
    }
    return intern_status(WD_EFULL, what, err);
}

/* Decodes a line already trimmed of surrounding blanks. */
static enum wd_status decode_trimmed(struct wd_decoder *d, const char *line, size_t len,
                                     struct wd_event *ev, struct wd_error *err)
{
    enum wd_status st;
    struct wd_str ts_text, symbol = {"", 0}, account;

    if (len > WD_DECODE_MAX_LINE) {
        return wd_error_set(err, WD_EINVAL, "line too long (%zu bytes, max %d)", len,
                            WD_DECODE_MAX_LINE);
    }
    if (len == 0) {
        return wd_error_set(err, WD_EINVAL, "empty line");
    }
    d->line = line;
    if ((st = index_keys(d, line, len, err)) != WD_OK ||
        (st = parse_type(d, &ev->type, err)) != WD_OK ||
        (st = get_ts(d, ev, &ts_text, err)) != WD_OK ||
        (st = get_name(d, K_ACCOUNT, 0, &account, err)) != WD_OK) {
        return st;
    }
    ev->has_seq = tok(d, K_SEQ) != NULL;
    ev->seq = 0;
    if (ev->has_seq && (st = get_uint(d, K_SEQ, UINT64_MAX, &ev->seq, err)) != WD_OK) {
        return st;
    }
    switch (ev->type) {
    case WD_EV_QUOTE: st = decode_quote(d, ev, err); break;
    case WD_EV_TRADE: st = decode_trade(d, ev, err); break;
    case WD_EV_BAR: st = decode_bar(d, ev, err); break;
    case WD_EV_INTENT: st = decode_intent(d, ev, err); break;
    case WD_EV_ACK: st = decode_ack(d, ev, err); break;
    case WD_EV_FILL: st = decode_fill(d, ev, err); break;
    case WD_EV_HEARTBEAT: st = decode_heartbeat(d, ev, err); break;
    case WD_EV_ACCOUNT: st = decode_account(d, ev, err); break;
    case WD_EV_METRIC: st = decode_metric(d, ev, err); break;
    default: st = WD_EINVAL; break;
    }
    if (st != WD_OK) {
        return st;
    }
    /* Events about an instrument must name it. */
    int needs_symbol = ev->type == WD_EV_QUOTE || ev->type == WD_EV_TRADE ||
                       ev->type == WD_EV_BAR || ev->type == WD_EV_INTENT ||
                       ev->type == WD_EV_FILL;
    if ((st = get_name(d, K_SYMBOL, needs_symbol, &symbol, err)) != WD_OK) {
        return st;
    }
    if (ev->type == WD_EV_INTENT) {
        ev->u.intent.ts_text = ts_text;
    }
    if ((st = check_unread(d, ev->type, err)) != WD_OK) {
        return st;
    }
    /* Valid: only now touch the name tables. */
    if ((st = name_fits(d->symbols, symbol, "symbol", err)) != WD_OK ||
        (st = name_fits(d->accounts, account, "account", err)) != WD_OK) {
        return st;
    }
    ev->symbol = WD_NO_ID;
    if (symbol.len > 0 && (st = wd_intern_get(d->symbols, symbol.ptr, symbol.len,
                                              &ev->symbol)) != WD_OK) {
        return intern_status(st, "symbol", err);
    }
    ev->account = d->default_account;
    if (account.len > 0 && (st = wd_intern_get(d->accounts, account.ptr, account.len,
                                               &ev->account)) != WD_OK) {
        return intern_status(st, "account", err);
    }
    return WD_OK;
}

enum wd_status wd_decode_line(struct wd_decoder *d, const char *line, size_t len,
                              struct wd_event *ev, struct wd_error *err)
{
    size_t lead = 0;
    if (err != NULL) {
        err->column = 0;
    }
    /* Trim surrounding blanks and a CR from CRLF files. */
    while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == ' ' || line[len - 1] == '\t')) {
        len--;
    }
    while (lead < len && (line[lead] == ' ' || line[lead] == '\t')) {
        lead++;
    }
    enum wd_status st = decode_trimmed(d, line + lead, len - lead, ev, err);
    /* Columns count from the start of the caller's line. */
    if (st != WD_OK && err != NULL && err->column > 0) {
        err->column += (uint32_t)lead;
    }
    return st;
}
