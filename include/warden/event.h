/*
 * Decoded input events (SPEC section 2).
 *
 * A struct wd_event is a view: string fields (wd_str) point into the line
 * buffer it was decoded from and are valid only until that buffer changes.
 * Symbols and accounts are interned to small integer ids (see intern.h) so
 * the book never compares strings on the hot path. Prices, sizes and money
 * are fixed-point (fixed.h).
 */
#ifndef WD_CORE_EVENT_H
#define WD_CORE_EVENT_H

#include <stdbool.h>
#include <stdint.h>

#include "warden/fixed.h"

/* A byte range inside the caller's line buffer; not NUL-terminated. */
struct wd_str {
    const char *ptr;
    uint32_t len;
};

enum wd_event_type {
    WD_EV_NONE = 0,
    WD_EV_QUOTE,
    WD_EV_TRADE,
    WD_EV_BAR,
    WD_EV_INTENT,
    WD_EV_ACK,
    WD_EV_FILL,
    WD_EV_HEARTBEAT,
    WD_EV_ACCOUNT,
    WD_EV_METRIC,
    WD_EV__COUNT
};

/* +1 buy, -1 sell: multiply a quantity by the side to get its sign. */
enum wd_side { WD_SIDE_SELL = -1, WD_SIDE_BUY = 1 };

enum wd_order_type { WD_ORDER_MKT = 0, WD_ORDER_LMT = 1 };

enum wd_ack_status { WD_ACK_ACCEPTED = 0, WD_ACK_REJECTED, WD_ACK_CANCELLED };

enum wd_hb_status { WD_HB_UP = 0, WD_HB_DOWN };

/* "no symbol": events that carry none. */
#define WD_NO_ID UINT32_MAX

struct wd_ev_quote {
    wd_fix bid, ask;
    wd_fix bid_size, ask_size; /* 0 when absent */
};

struct wd_ev_trade {
    wd_fix price, size;
};

struct wd_ev_bar {
    wd_fix open, high, low, close, volume;
    int64_t interval_s; /* 0 when absent */
};

struct wd_ev_intent {
    struct wd_str id, source, sig; /* sig.len == 0 when absent */
    enum wd_side side;
    enum wd_order_type order_type;
    wd_fix qty;   /* > 0 */
    wd_fix limit; /* valid when has_limit */
    bool has_limit;
    struct wd_str qty_text; /* the qty as its JSON text, for signatures */
    struct wd_str ts_text;  /* the ts as its JSON text, for signatures */
};

struct wd_ev_ack {
    struct wd_str id, reason; /* reason.len == 0 when absent */
    enum wd_ack_status status;
};

struct wd_ev_fill {
    struct wd_str id, exec_id; /* exec_id.len == 0 when absent */
    enum wd_side side;
    wd_fix qty;        /* > 0 */
    wd_fix price;      /* > 0 */
    wd_fix commission; /* 0 when absent */
};

struct wd_ev_heartbeat {
    struct wd_str component, detail;
    enum wd_hb_status status;
};

struct wd_ev_account {
    wd_fix equity;
    wd_fix cash, buying_power;
    bool has_cash, has_buying_power;
};

struct wd_ev_metric {
    struct wd_str name;
    struct wd_str labels; /* raw JSON object text, len 0 when absent */
    double value;
};

struct wd_event {
    enum wd_event_type type;
    int64_t ts_ns;
    uint32_t account; /* interned id; "default" when absent */
    uint32_t symbol;  /* interned id, or WD_NO_ID */
    bool has_seq;
    uint64_t seq;
    union {
        struct wd_ev_quote quote;
        struct wd_ev_trade trade;
        struct wd_ev_bar bar;
        struct wd_ev_intent intent;
        struct wd_ev_ack ack;
        struct wd_ev_fill fill;
        struct wd_ev_heartbeat heartbeat;
        struct wd_ev_account account;
        struct wd_ev_metric metric;
    } u;
};

/* "quote", "fill", ... ; static. */
const char *wd_event_type_name(enum wd_event_type t);

#endif /* WD_CORE_EVENT_H */
