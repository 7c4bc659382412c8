/*
 * The engine (see include/warden/engine.h): pre-trade gate, kill-switches,
 * trading states per scope, open orders, around the book.
 *
 * Hot path: an intent costs a few array lookups (scope states by account
 * and strategy id, the allowed-symbol table), one position lookup, and, for
 * an accepted order, one insertion in the open-order table; nothing is
 * allocated per event once tables have grown. Kill-switches are evaluated
 * after each equity-changing event over the accounts present (a handful).
 * Pure: no I/O, no clock; outputs go through the caller's callback.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "warden/engine.h"
#include "warden/detect.h"
#include "warden/hist.h"
#include "warden/psr.h"
#include "warden/session.h"
#include "warden/severity.h"
#include "warden/timeutil.h"

#include "util.h"

#define DEFAULT_MAX_OPEN_ORDERS 1000000u
#define MAX_SCOPES 100000u
#define MAX_SOURCES 100000u
#define ORDER_ID_MAX 64
#define WARDEN_SOURCE "warden"

/* ---- the gate's reason codes (SPEC section 3) ------------------------------------ */

enum reason_code {
    RS_HALTED, RS_UNAUTH_SOURCE, RS_UNAUTH_SIGNATURE, RS_UNAUTH_SYMBOL, RS_UNAUTH_HOURS,
    RS_REDUCE_ONLY, RS_MAX_ORDER_QTY, RS_RAMP_SIZE, RS_MAX_ORDER_NOTIONAL, RS_BOX_LIM,
    RS_MAX_GROSS_EXPOSURE, RS_PRICE_COLLAR, RS_RATE, RS_OPEN_ORDERS, RS_INVALID, RS_COUNT
};

/* One object per reason, so that a reason is known by its pointer. */
static const char *const k_reasons[RS_COUNT] = {
    "halted", "unauthorized:source", "unauthorized:signature", "unauthorized:symbol",
    "unauthorized:hours", "reduce_only", "limit:max_order_qty", "ramp:size",
    "limit:max_order_notional", "limit:box_lim", "limit:max_gross_exposure",
    "limit:price_collar", "limit:rate", "limit:open_orders", "invalid"};

#define RS(name) k_reasons[RS_##name]

/* The code of a reason string from k_reasons (by pointer, else by text);
 * RS_COUNT if it is none of them. */
static unsigned reason_code(const char *r)
{
    for (unsigned i = 0; i < RS_COUNT; i++) {
        if (k_reasons[i] == r) {
            return i;
        }
    }
    for (unsigned i = 0; i < RS_COUNT; i++) {
        if (strcmp(k_reasons[i], r) == 0) {
            return i;
        }
    }
    return RS_COUNT;
}

/* ---- open orders ------------------------------------------------------------ */

enum { SLOT_FREE = 0, SLOT_USED, SLOT_TOMB };

/* An accepted order still open. The fields a probe and a fill read come
 * first; the id last. */
struct order {
    uint8_t slot;
    uint8_t id_len;
    int8_t side;
    bool acked;
    uint32_t hash;
    uint32_t account, symbol;
    uint32_t pos;      /* book position index it trades against, or NO_POS */
    wd_fix remaining;  /* quantity not yet filled */
    wd_fix price;      /* reference price at acceptance (limit, else mark); 0 unknown */
    int64_t intent_ns; /* when the intent was accepted, for intent->ack latency */
    char id[ORDER_ID_MAX];
};

#define NO_POS UINT32_MAX

struct order_map {
    struct order *slots;
    uint32_t mask;
    uint32_t used, tombs, max;
};

/* The slot holding id, or the first free/tomb slot for inserting it. */
static struct order *om_probe(const struct order_map *m, const char *id, size_t n, uint32_t h,
                              bool *found)
{
    uint32_t i = h & m->mask;
    struct order *tomb = NULL;
    for (;;) {
        struct order *o = &m->slots[i];
        if (o->slot == SLOT_FREE) {
            *found = false;
            return tomb != NULL ? tomb : o;
        }
        if (o->slot == SLOT_TOMB) {
            if (tomb == NULL) {
                tomb = o;
            }
        } else if (o->hash == h && o->id_len == n && memcmp(o->id, id, n) == 0) {
            *found = true;
            return o;
        }
        i = (i + 1u) & m->mask;
    }
}

static enum wd_status om_rehash(struct order_map *m, uint32_t nslots)
{
    struct order *ns = calloc(nslots, sizeof *ns);
    if (ns == NULL) {
        return WD_ENOMEM;
    }
    struct order *old = m->slots;
    uint32_t oldn = m->mask + 1u;
    m->slots = ns;
    m->mask = nslots - 1u;
    m->tombs = 0;
    for (uint32_t i = 0; i < oldn; i++) {
        if (old[i].slot == SLOT_USED) {
            bool found;
            struct order *o = om_probe(m, old[i].id, old[i].id_len, old[i].hash, &found);
            *o = old[i];
        }
    }
    free(old);
    return WD_OK;
}

static enum wd_status om_init(struct order_map *m, uint32_t max)
{
    memset(m, 0, sizeof *m);
    m->max = max;
    m->mask = 1023u;
    m->slots = calloc(m->mask + 1u, sizeof *m->slots);
    return m->slots != NULL ? WD_OK : WD_ENOMEM;
}

static bool id_ok(struct wd_str id) { return id.len > 0 && id.len <= ORDER_ID_MAX; }

static struct order *om_find(const struct order_map *m, struct wd_str id)
{
    bool found;
    if (!id_ok(id)) {
        return NULL;
    }
    struct order *o = om_probe(m, id.ptr, id.len, wd__fnv1a(id.ptr, id.len), &found);
    return found ? o : NULL;
}

static void om_remove(struct order_map *m, struct order *o)
{
    o->slot = SLOT_TOMB;
    m->used--;
    m->tombs++;
}

/* The order with this id (*found), else a new zeroed one inserted for it:
 * one probe. WD_EFULL when max orders are open, WD_EINVAL for an id that
 * cannot be stored. */
static enum wd_status om_upsert(struct order_map *m, struct wd_str id, struct order **out,
                                bool *found)
{
    if (!id_ok(id)) {
        return WD_EINVAL;
    }
    if ((uint64_t)(m->used + m->tombs + 1u) * 2u > m->mask + 1u) {
        uint32_t n = m->mask + 1u;
        /* Grow when mostly live, else just sweep the tombstones. */
        enum wd_status st = om_rehash(m, (uint64_t)(m->used + 1u) * 4u > n ? n * 2u : n);
        if (st != WD_OK) {
            return st;
        }
    }
    uint32_t h = wd__fnv1a(id.ptr, id.len);
    struct order *o = om_probe(m, id.ptr, id.len, h, found);
    if (*found) {
        *out = o;
        return WD_OK;
    }
    if (m->used >= m->max) {
        /* Filled orders still waiting for their ack make room (a broker
         * that sends no acks must not fill the table). */
        for (uint32_t i = 0; i <= m->mask; i++) {
            if (m->slots[i].slot == SLOT_USED && m->slots[i].remaining <= 0) {
                om_remove(m, &m->slots[i]);
            }
        }
        if (m->used >= m->max) {
            return WD_EFULL;
        }
    }
    if (o->slot == SLOT_TOMB) {
        m->tombs--;
    }
    memset(o, 0, sizeof *o);
    o->slot = SLOT_USED;
    o->hash = h;
    o->id_len = (uint8_t)id.len;
    memcpy(o->id, id.ptr, id.len);
    m->used++;
    *out = o;
    return WD_OK;
}

/* ---- rejected intents --------------------------------------------------------- */

/* The last REJ_CAP intents the gate rejected, so that a fill for one (the
 * order reached the broker anyway) is recognised as such: a ring, oldest
 * first, indexed by an open-addressed table of ring positions. Fixed size,
 * allocated at the first rejection: no event pays for a rehash, and a
 * rejection older than the last REJ_CAP is forgotten (a fill for it is
 * then one "warden never saw open", still unauthorized). */
#define REJ_CAP 65536u
#define REJ_INDEX (2u * REJ_CAP)

struct rejected {
    uint32_t hash;
    uint8_t id_len;
    uint8_t reason; /* enum reason_code */
    char id[ORDER_ID_MAX];
};

struct rej_ring {
    struct rejected *ring; /* REJ_CAP entries */
    uint64_t *index;       /* REJ_INDEX slots: hash << 32 | (ring position + 1), 0 free;
                              the hash lets a probe pass an entry without reading it */
    uint32_t head, count;
};

#define REJ_POS(v) ((uint32_t)(v) - 1u)
#define REJ_HASH(v) ((uint32_t)((v) >> 32))

/* The index slot holding (id, h), or the free slot where it would go. */
static uint32_t rej_slot(const struct rej_ring *r, const char *id, size_t n, uint32_t h,
                         bool *found)
{
    uint32_t i = h & (REJ_INDEX - 1u);
    for (;; i = (i + 1u) & (REJ_INDEX - 1u)) {
        uint64_t v = r->index[i];
        if (v == 0) {
            *found = false;
            return i;
        }
        if (REJ_HASH(v) != h) {
            continue;
        }
        const struct rejected *x = &r->ring[REJ_POS(v)];
        if (x->id_len == n && memcmp(x->id, id, n) == 0) {
            *found = true;
            return i;
        }
    }
}

/* Removes index slot i, shifting the run after it back (no tombstones). */
static void rej_unindex(struct rej_ring *r, uint32_t i)
{
    const uint32_t mask = REJ_INDEX - 1u;
    uint32_t j = i;
    r->index[i] = 0;
    for (;;) {
        j = (j + 1u) & mask;
        uint64_t v = r->index[j];
        if (v == 0) {
            return;
        }
        uint32_t home = REJ_HASH(v) & mask;
        /* Move v back into the hole unless its home lies in (i, j]. */
        if (((j - home) & mask) >= ((j - i) & mask)) {
            r->index[i] = v;
            r->index[j] = 0;
            i = j;
        }
    }
}

static const struct rejected *rej_find(const struct rej_ring *r, struct wd_str id)
{
    bool found;
    if (r->ring == NULL || !id_ok(id)) {
        return NULL;
    }
    uint32_t i = rej_slot(r, id.ptr, id.len, wd__fnv1a(id.ptr, id.len), &found);
    return found ? &r->ring[REJ_POS(r->index[i])] : NULL;
}

/* Remembers (or re-remembers, with the newer reason) a rejected id. */
static enum wd_status rej_add(struct rej_ring *r, struct wd_str id, unsigned reason)
{
    bool found;
    if (!id_ok(id)) {
        return WD_OK;
    }
    if (r->ring == NULL) {
        r->ring = calloc(REJ_CAP, sizeof *r->ring);
        r->index = calloc(REJ_INDEX, sizeof *r->index);
        if (r->ring == NULL || r->index == NULL) {
            free(r->ring);
            free(r->index);
            r->ring = NULL;
            r->index = NULL;
            return WD_ENOMEM;
        }
    }
    uint32_t h = wd__fnv1a(id.ptr, id.len);
    uint32_t i = rej_slot(r, id.ptr, id.len, h, &found);
    if (found) {
        r->ring[REJ_POS(r->index[i])].reason = (uint8_t)reason;
        return WD_OK;
    }
    uint32_t pos;
    if (r->count == REJ_CAP) {
        pos = r->head; /* the oldest leaves */
        r->head = (r->head + 1u) & (REJ_CAP - 1u);
        /* Its index entry, found by value: no entry needs reading. */
        uint64_t want = (uint64_t)r->ring[pos].hash << 32 | (pos + 1u);
        uint32_t k = r->ring[pos].hash & (REJ_INDEX - 1u);
        for (uint32_t step = 0; r->index[k] != want && step < REJ_INDEX; step++) {
            k = (k + 1u) & (REJ_INDEX - 1u);
        }
        if (r->index[k] == want) { /* always: every ring entry is indexed */
            rej_unindex(r, k);
        }
        i = rej_slot(r, id.ptr, id.len, h, &found); /* the run may have moved */
    } else {
        pos = (r->head + r->count) & (REJ_CAP - 1u);
        r->count++;
    }
    struct rejected *x = &r->ring[pos];
    x->hash = h;
    x->id_len = (uint8_t)id.len;
    x->reason = (uint8_t)reason;
    memcpy(x->id, id.ptr, id.len);
    r->index[i] = (uint64_t)h << 32 | (pos + 1u);
    return WD_OK;
}

static void rej_free(struct rej_ring *r)
{
    free(r->ring);
    free(r->index);
}

/* ---- per-account and per-scope state ----------------------------------------- */

/* A kill-switch's latch: a switch fires when its condition holds and it is
 * armed, and firing disarms it. It re-arms once the condition is seen false
 * while its scope is not HALTED (after a resume, say). So a PnL that hovers
 * around the line opens one incident, not one per quote, and a resumed
 * scope is halted again only by a fresh breach. */
struct kill_state {
    bool pnl_on, dd_on, psr_on; /* fired and not yet re-armed */
    uint64_t seen;              /* the figures' version last evaluated */
    struct wd_psr_window *psr; /* NULL until the scope's first equity change */
};

struct acct_x {
    wd_i128 open_notional; /* sum over open orders of remaining * price; each term
                              saturates at INT64_MAX, so the sum needs 128 bits */
    int64_t *rate;        /* ring of the max_orders_per_s latest accept times, in time
                             order from rate_head (see rate_push) */
    uint32_t rate_head, rate_count;
    struct kill_state ks;
    uint32_t scope;       /* index + 1 into e->scopes, 0 if none */
};

/* The recent bars of one symbol, for completeness: their times, oldest at
 * head, in a ring sized for completeness.window_s. */
struct bar_ring {
    int64_t interval_ns; /* the cadence the bars announce */
    int64_t first_ns;    /* the first bar at this cadence */
    uint32_t cap, head, count;
    uint32_t due;        /* bars due in the window at the last evaluation */
    bool incomplete;
    int64_t ts[];
};

struct sym_x {
    struct bar_ring *bars; /* NULL until a bar with interval_s */
    wd_fix mid;
    int64_t quote_ts;  /* 0: never quoted */
    int64_t market_ts; /* latest quote, trade or bar time; 0: none */
    uint32_t older, newer; /* staleness list by market_ts (ids + 1, 0: none) */
    bool listed;           /* has had market data: in the staleness list */
    bool stale;            /* counted in det.n_stale */
    bool allowed;
};

/* Quantity of open orders against one position, by direction. */
struct pos_open {
    wd_fix buy, sell;
};

struct source_key {
    uint8_t *key; /* owned, decoded from hex; NULL: known, unsigned */
    size_t len;
    size_t name_len; /* strlen of the source's name */
};

/* One open incident per detector scenario (firm scope), with hysteresis. */
struct det_slot {
    bool open;
    uint8_t severity; /* enum wd_severity while open: raised, never lowered */
    char incident[WD_INCIDENT_ID_MAX];
};

struct detectors {
    struct wd_reject_window rej; /* P1-3 */
    struct wd_hyst rej_h;
    struct det_slot rej_s;
    struct wd_hist_window lat;   /* P2-1 */
    struct wd_hyst lat_h;
    struct det_slot lat_s;
    struct wd_hyst lag_h;        /* P1-2: consumer lag */
    bool kafka_down;             /* P1-2: kafka heartbeat down */
    struct det_slot bus_s;
    bool broker_seen, broker_down; /* P1-1 */
    int64_t broker_hb_ns;
    bool market_seen;
    int64_t market_ns;           /* last market data event */
    struct det_slot broker_s;
    char broker_why[96];
    uint8_t *unauth;  /* by book position index: 1 if an unauthorized fill built it */
    uint32_t n_unauth;
    /* P2-2 data quality */
    bool seq_seen[4];
    uint64_t seq_last[4];   /* by stream: market, intents, exec reports, system */
    uint32_t oldest, newest, fresh; /* the staleness list (see dq_touch): its ends and
                                       its first fresh symbol (ids + 1, 0: none) */
    bool list_built;        /* false after a snapshot load: rebuilt on next use */
    int64_t dq_session;     /* the open of the session at the last look; INT64_MIN:
                               closed (a new value starts a new session) */
    uint32_t n_stale;       /* symbols now stale */
    uint32_t n_incomplete;  /* symbols short of bars */
    struct det_slot dq_s;
    uint64_t malformed;
};

/* Fewer acknowledgements (or latency samples) than this in the window say
 * nothing about a rate: one rejection out of one is not a spike. */
#define DET_MIN_SAMPLES 20u

struct wd_engine {
    const struct wd_config *cfg;
    const struct wd_tz *tz;
    wd_emit_fn emit;
    void *emit_ctx;
    wd_hmac_verify_fn hmac_verify;
    void *hmac_ctx;
    wd_incident_seq_fn incident_seq;
    void *incident_seq_ctx;
    wd_incident_active_fn incident_active;
    void *incident_active_ctx;

    struct wd_intern symbols, accounts, strategies;
    struct wd_book *book;
    struct order_map orders;
    struct rej_ring rejected;

    struct acct_x *ax; /* by account id */
    uint32_t n_ax;
    struct sym_x *sx;  /* by symbol id */
    uint32_t n_sx;
    uint32_t *strat_scope; /* by strategy id: index + 1 into scopes */
    uint32_t n_strat;
    struct source_key *keys; /* parallel to cfg->limits.sources */
    struct pos_open *po;     /* by book position index: open order quantity */
    uint32_t n_po;

    struct wd_scope_state *scopes;
    uint32_t n_scopes, cap_scopes;
    uint32_t firm_scope; /* index + 1, 0 if none */
    uint64_t states_version; /* bumped by every change of a scope's state */
    uint32_t n_ramping;  /* scopes in RAMP_UP */
    struct kill_state firm_ks;
    uint64_t kills_changes; /* wd_book_changes when the switches last looked */
    int64_t kills_psr_due;  /* earliest PSR sample time among the scopes then */

    int64_t seq_day;
    uint32_t seq;
    int64_t sess_minute; /* in_session's cache: the UTC minute, and its answer */
    bool sess_open;
    int64_t sess_open_ns; /* while sess_open: when the current session opened */

    struct detectors det;

    /* The event being processed, for outputs. */
    uint64_t event_no;
    int64_t ts_ns;
};

static void watch_latency(struct wd_engine *e);

static enum wd_status ensure_acct(struct wd_engine *e, uint32_t id)
{
    return id < e->n_ax ? WD_OK : wd__array_grow((void **)&e->ax, &e->n_ax, id + 1u, sizeof *e->ax);
}

static enum wd_status ensure_sym(struct wd_engine *e, uint32_t id)
{
    return id < e->n_sx ? WD_OK : wd__array_grow((void **)&e->sx, &e->n_sx, id + 1u, sizeof *e->sx);
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

static enum wd_status decode_keys(struct wd_engine *e, struct wd_error *err)
{
    size_t n = e->cfg->limits.n_sources;
    if (n == 0) {
        return WD_OK;
    }
    e->keys = calloc(n, sizeof *e->keys);
    if (e->keys == NULL) {
        return wd_error_set(err, WD_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        const char *hex = e->cfg->limits.sources[i].key_hex;
        e->keys[i].name_len = strlen(e->cfg->limits.sources[i].name);
        if (hex == NULL) {
            continue;
        }
        size_t hl = strlen(hex);
        if (hl == 0 || hl % 2 != 0) {
            return wd_error_set(err, WD_EINVAL, "limits.sources.%s.key: not hex",
                                e->cfg->limits.sources[i].name);
        }
        if (e->hmac_verify == NULL) {
            return wd_error_set(err, WD_EINVAL, "source keys need an HMAC verifier");
        }
        e->keys[i].key = malloc(hl / 2);
        if (e->keys[i].key == NULL) {
            return wd_error_set(err, WD_ENOMEM, "out of memory");
        }
        for (size_t k = 0; k < hl / 2; k++) {
            int hi = hexval(hex[2 * k]), lo = hexval(hex[2 * k + 1]);
            if (hi < 0 || lo < 0) {
                return wd_error_set(err, WD_EINVAL, "limits.sources.%s.key: not hex",
                                    e->cfg->limits.sources[i].name);
            }
            e->keys[i].key[k] = (uint8_t)(hi * 16 + lo);
        }
        e->keys[i].len = hl / 2;
    }
    return WD_OK;
}

enum wd_status wd_engine_new(const struct wd_engine_opts *opts, struct wd_engine **out,
                             struct wd_error *err)
{
    enum wd_status st;
    struct wd_engine *e = calloc(1, sizeof *e);
    if (e == NULL) {
        return wd_error_set(err, WD_ENOMEM, "out of memory");
    }
    e->cfg = opts->cfg;
    e->tz = opts->tz;
    e->kills_changes = UINT64_MAX; /* the first equity event looks */
    e->det.dq_session = INT64_MIN;
    e->emit = opts->emit;
    e->emit_ctx = opts->emit_ctx;
    e->hmac_verify = opts->hmac_verify;
    e->hmac_ctx = opts->hmac_ctx;
    e->incident_seq = opts->incident_seq;
    e->incident_active = opts->incident_active;
    e->incident_active_ctx = opts->incident_active_ctx;
    e->incident_seq_ctx = opts->incident_seq_ctx;
    e->sess_minute = INT64_MIN;
    e->seq_day = INT64_MIN;
    if ((st = wd_intern_init(&e->symbols, 1000000u)) != WD_OK ||
        (st = wd_intern_init(&e->accounts, 100000u)) != WD_OK ||
        (st = wd_intern_init(&e->strategies, MAX_SOURCES)) != WD_OK ||
        (st = om_init(&e->orders, opts->max_open_orders ? opts->max_open_orders
                                                         : DEFAULT_MAX_OPEN_ORDERS)) != WD_OK) {
        wd_error_set(err, st, "out of memory");
        goto fail;
    }
    if ((st = decode_keys(e, err)) != WD_OK) {
        goto fail;
    }
    const struct wd_config *dc = e->cfg;
    if ((st = wd_reject_init(&e->det.rej, dc->detect.reject.window_orders,
                             dc->detect.reject.window_s)) != WD_OK ||
        (st = wd_hist_window_init(&e->det.lat, dc->detect.latency.window_s * WD_NS_PER_S,
                                  100000u)) != WD_OK) {
        wd_error_set(err, st, "detectors: bad detect.reject / detect.latency settings");
        goto fail;
    }
    watch_latency(e);
    /* Allowed symbols are interned up front so the check is an array read. */
    for (size_t i = 0; i < e->cfg->limits.n_symbols; i++) {
        const char *sym = e->cfg->limits.symbols[i];
        uint32_t id;
        if ((st = wd_intern_get(&e->symbols, sym, strlen(sym), &id)) != WD_OK ||
            (st = ensure_sym(e, id)) != WD_OK) {
            wd_error_set(err, st, "limits.symbols: cannot record '%s'", sym);
            goto fail;
        }
        e->sx[id].allowed = true;
    }
    struct wd_account_capital *caps = NULL;
    if (e->cfg->n_accounts > 0) {
        caps = calloc(e->cfg->n_accounts, sizeof *caps);
        if (caps == NULL) {
            st = wd_error_set(err, WD_ENOMEM, "out of memory");
            goto fail;
        }
        for (size_t i = 0; i < e->cfg->n_accounts; i++) {
            caps[i] = (struct wd_account_capital){e->cfg->accounts[i].name,
                                                  e->cfg->accounts[i].capital};
        }
    }
    struct wd_book_config bc = {.default_capital = e->cfg->capital,
                                .accounts = caps,
                                .n_accounts = e->cfg->n_accounts,
                                .tz = e->tz};
    st = wd_book_new(&bc, &e->symbols, &e->accounts, &e->book, err);
    free(caps);
    if (st != WD_OK) {
        goto fail;
    }
    *out = e;
    return WD_OK;
fail:
    wd_engine_free(e);
    return st;
}

static void kill_state_free(struct kill_state *k) { free(k->psr); }

void wd_engine_free(struct wd_engine *e)
{
    if (e == NULL) {
        return;
    }
    for (uint32_t i = 0; i < e->n_ax; i++) {
        free(e->ax[i].rate);
        kill_state_free(&e->ax[i].ks);
    }
    kill_state_free(&e->firm_ks);
    wd_reject_destroy(&e->det.rej);
    free(e->det.unauth);
    wd_hist_window_destroy(&e->det.lat);
    free(e->ax);
    for (uint32_t i = 0; i < e->n_sx; i++) {
        free(e->sx[i].bars);
    }
    free(e->sx);
    free(e->strat_scope);
    free(e->po);
    if (e->keys != NULL) {
        for (size_t i = 0; i < e->cfg->limits.n_sources; i++) {
            free(e->keys[i].key);
        }
    }
    free(e->keys);
    free(e->scopes);
    free(e->orders.slots);
    rej_free(&e->rejected);
    wd_book_free(e->book);
    wd_intern_destroy(&e->symbols);
    wd_intern_destroy(&e->accounts);
    wd_intern_destroy(&e->strategies);
    free(e);
}

struct wd_intern *wd_engine_symbols(struct wd_engine *e) { return &e->symbols; }
struct wd_intern *wd_engine_accounts(struct wd_engine *e) { return &e->accounts; }
wd_fix wd_engine_open_notional(const struct wd_engine *e, uint32_t account)
{
    if (account >= e->n_ax) {
        return 0;
    }
    wd_i128 v = e->ax[account].open_notional;
    return v > INT64_MAX ? INT64_MAX : (wd_fix)v;
}

const struct wd_book *wd_engine_book(const struct wd_engine *e) { return e->book; }

double wd_engine_psr(const struct wd_engine *e, uint32_t account)
{
    const struct kill_state *k = account == UINT32_MAX ? &e->firm_ks
                                 : account < e->n_ax   ? &e->ax[account].ks
                                                       : NULL;
    struct wd_psr_stats ps;
    if (k == NULL || k->psr == NULL) {
        return (double)NAN; /* clang: NAN is a float (-Wdouble-promotion) */
    }
    wd_psr_window_stats(k->psr, e->cfg->limits.psr.benchmark, &ps);
    return ps.psr;
}

/* ---- outputs ------------------------------------------------------------------- */

static void emit(struct wd_engine *e, struct wd_output *o)
{
    o->event_no = e->event_no;
    o->ts_ns = e->ts_ns;
    if (e->emit != NULL) {
        e->emit(e->emit_ctx, o);
    }
}

static void emit_log(struct wd_engine *e, enum wd_log_level lvl, const char *component,
                     const char *msg)
{
    struct wd_output o = {.type = WD_OUT_LOG};
    o.u.log.level = lvl;
    o.u.log.component = component;
    o.u.log.message = msg;
    emit(e, &o);
}

static void emit_control(struct wd_engine *e, const char *action, const char *scope,
                         const char *reason, const char *incident)
{
    struct wd_output o = {.type = WD_OUT_CONTROL};
    o.u.control.action = action;
    o.u.control.scope = scope;
    o.u.control.reason = reason;
    o.u.control.incident = incident;
    emit(e, &o);
}

static void emit_state(struct wd_engine *e, const struct wd_scope_state *st)
{
    struct wd_output o = {.type = WD_OUT_STATE};
    o.u.state.state = st;
    emit(e, &o);
}

/* ---- scopes ------------------------------------------------------------------------ */

static void copy_text(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap) {
        n = cap - 1u;
    }
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* The slot of scope (created ACTIVE if new): index into e->scopes. */
static enum wd_status scope_slot(struct wd_engine *e, const char *scope, uint32_t *idx,
                                 struct wd_error *err)
{
    enum wd_scope_kind kind;
    const char *name;
    uint32_t *ref = NULL;
    enum wd_status st = wd_scope_parse(scope, &kind, &name, err);
    if (st != WD_OK) {
        return st;
    }
    if (kind == WD_SCOPE_FIRM) {
        ref = &e->firm_scope;
    } else {
        uint32_t id;
        struct wd_intern *t = kind == WD_SCOPE_ACCOUNT ? &e->accounts : &e->strategies;
        if ((st = wd_intern_get(t, name, strlen(name), &id)) != WD_OK) {
            return wd_error_set(err, st, "scope '%s': %s", scope, wd_status_str(st));
        }
        if (kind == WD_SCOPE_ACCOUNT) {
            if ((st = ensure_acct(e, id)) != WD_OK) {
                return wd_error_set(err, st, "out of memory");
            }
            ref = &e->ax[id].scope;
        } else {
            if ((st = wd__array_grow((void **)&e->strat_scope, &e->n_strat, id + 1u,
                           sizeof *e->strat_scope)) != WD_OK) {
                return wd_error_set(err, st, "out of memory");
            }
            ref = &e->strat_scope[id];
        }
    }
    if (*ref == 0) {
        if (e->n_scopes >= MAX_SCOPES) {
            return wd_error_set(err, WD_EFULL, "too many scopes with a state");
        }
        if ((st = wd__array_grow((void **)&e->scopes, &e->cap_scopes, e->n_scopes + 1u,
                       sizeof *e->scopes)) != WD_OK) {
            return wd_error_set(err, st, "out of memory");
        }
        struct wd_scope_state *s = &e->scopes[e->n_scopes];
        memset(s, 0, sizeof *s);
        copy_text(s->scope, sizeof s->scope, scope);
        s->state = WD_TS_ACTIVE;
        *ref = ++e->n_scopes;
    }
    *idx = *ref - 1u;
    return WD_OK;
}

static void set_slot_state(struct wd_engine *e, uint32_t idx, const struct wd_scope_state *st)
{
    struct wd_scope_state *s = &e->scopes[idx];
    if (s->state == WD_TS_RAMP_UP) {
        e->n_ramping--;
    }
    char scope[WD_SCOPE_MAX];
    e->states_version++;
    memcpy(scope, s->scope, sizeof scope);
    *s = *st;
    memcpy(s->scope, scope, sizeof scope); /* the normalised name stays */
    if (s->state == WD_TS_RAMP_UP) {
        e->n_ramping++;
    }
}

uint64_t wd_engine_states_version(const struct wd_engine *e)
{
    return e->states_version;
}

enum wd_status wd_engine_set_state(struct wd_engine *e, const struct wd_scope_state *st,
                                   struct wd_error *err)
{
    uint32_t idx;
    enum wd_status s = scope_slot(e, st->scope, &idx, err);
    if (s == WD_OK) {
        set_slot_state(e, idx, st);
    }
    return s;
}

void wd_engine_get_state(const struct wd_engine *e, const char *scope, struct wd_scope_state *out)
{
    for (uint32_t i = 0; i < e->n_scopes; i++) {
        if (strcmp(e->scopes[i].scope, scope) == 0) {
            *out = e->scopes[i];
            return;
        }
    }
    memset(out, 0, sizeof *out);
    copy_text(out->scope, sizeof out->scope, scope);
    out->state = WD_TS_ACTIVE;
}

size_t wd_engine_state_count(const struct wd_engine *e) { return e->n_scopes; }

const struct wd_scope_state *wd_engine_state_at(const struct wd_engine *e, size_t i)
{
    return i < e->n_scopes ? &e->scopes[i] : NULL;
}

/* The states that govern an intent: the firm's, its account's, its
 * strategy's (NULL where none is recorded). */
struct governing {
    const struct wd_scope_state *s[3];
};

static void governing_states(const struct wd_engine *e, uint32_t account, struct wd_str source,
                             struct governing *g)
{
    memset(g, 0, sizeof *g);
    if (e->firm_scope != 0) {
        g->s[0] = &e->scopes[e->firm_scope - 1u];
    }
    if (account < e->n_ax && e->ax[account].scope != 0) {
        g->s[1] = &e->scopes[e->ax[account].scope - 1u];
    }
    uint32_t sid;
    if (e->n_strat > 0 && wd_intern_find(&e->strategies, source.ptr, source.len, &sid) == WD_OK &&
        sid < e->n_strat && e->strat_scope[sid] != 0) {
        g->s[2] = &e->scopes[e->strat_scope[sid] - 1u];
    }
}

static const struct wd_scope_state *most_restrictive(const struct governing *g,
                                                     enum wd_tstate *state)
{
    const struct wd_scope_state *worst = NULL;
    *state = WD_TS_ACTIVE;
    for (int i = 0; i < 3; i++) {
        if (g->s[i] != NULL && g->s[i]->state > *state) {
            *state = g->s[i]->state;
            worst = g->s[i];
        }
    }
    return worst;
}

static bool any_in(const struct governing *g, enum wd_tstate st)
{
    for (int i = 0; i < 3; i++) {
        if (g->s[i] != NULL && g->s[i]->state == st) {
            return true;
        }
    }
    return false;
}

/* ---- the pre-trade gate ------------------------------------------------------- */

/* Trading hours: weekday in session.days, not a holiday, and local time in
 * [open, close). The answer cannot change inside a UTC minute (session
 * times, holidays and UTC offsets are all whole minutes), so it is
 * remembered per minute: one zone lookup per minute of events, not one per
 * event. */
static bool session_at(const struct wd_engine *e, int64_t utc_s, int64_t *open_utc_s);

static bool in_session(struct wd_engine *e, int64_t ts_ns)
{
    int64_t minute = wd_floor_div(ts_ns, 60 * WD_NS_PER_S);
    if (minute != e->sess_minute) {
        int64_t open_s = 0;
        e->sess_minute = minute;
        e->sess_open = session_at(e, minute * 60, &open_s);
        e->sess_open_ns = open_s * WD_NS_PER_S;
    }
    return e->sess_open;
}

/* Silence that counts while the market is open starts at the open: the
 * later of last (a last-seen time) and the current session's open. */
static int64_t since_open(const struct wd_engine *e, int64_t last)
{
    return last > e->sess_open_ns ? last : e->sess_open_ns;
}

/* Whether the market is open at utc_s, and then when that session opened
 * (*open_utc_s, in UTC seconds). */
static bool session_at(const struct wd_engine *e, int64_t utc_s, int64_t *open_utc_s)
{
    int64_t local_s = utc_s + wd_tz_offset_s(e->tz, utc_s);
    int64_t day = wd_floor_div(local_s, 86400);
    int64_t minute = (local_s - day * 86400) / 60;
    if (!wd_session_day(e->cfg, day)) {
        return false;
    }
    *open_utc_s = utc_s - (local_s - day * 86400 - (int64_t)e->cfg->session.open_min * 60);
    return minute >= e->cfg->session.open_min && minute < e->cfg->session.close_min;
}

/* Whether s is the n bytes of lit (a source name, a component, a metric). */
static bool source_is(struct wd_str s, const char *lit, size_t n)
{
    return s.len == n && memcmp(s.ptr, lit, n) == 0;
}

/* s equals the string literal lit. */
#define IS_LIT(s, lit) source_is((s), (lit), sizeof(lit) - 1u)

/* The configured source entry for s, or -1. */
static long find_source(const struct wd_engine *e, struct wd_str s)
{
    for (size_t i = 0; i < e->cfg->limits.n_sources; i++) {
        if (source_is(s, e->cfg->limits.sources[i].name, e->keys[i].name_len)) {
            return (long)i;
        }
    }
    return -1;
}

/* Appends n bytes and a separator to a message being built in buf[cap];
 * false when it would not fit. */
static bool msg_put(char *buf, size_t cap, size_t *len, const char *p, size_t n, char sep)
{
    if (n + 1u > cap - *len) {
        return false;
    }
    memcpy(buf + *len, p, n);
    *len += n;
    if (sep != '\0') {
        buf[(*len)++] = sep;
    }
    return true;
}

/* The intent's canonical string id|symbol|side|qty|source|ts (SPEC
 * section 2) verified against its sig under the source's key. */
static bool signature_ok(const struct wd_engine *e, const struct source_key *k,
                         const struct wd_event *ev)
{
    const struct wd_ev_intent *in = &ev->u.intent;
    char msg[512];
    size_t n = 0;
    const char *sym = wd_intern_name(&e->symbols, ev->symbol);
    const char *side = in->side == WD_SIDE_BUY ? "BUY" : "SELL";
    if (in->sig.len == 0 || !msg_put(msg, sizeof msg, &n, in->id.ptr, in->id.len, '|') ||
        !msg_put(msg, sizeof msg, &n, sym, strlen(sym), '|') ||
        !msg_put(msg, sizeof msg, &n, side, strlen(side), '|') ||
        !msg_put(msg, sizeof msg, &n, in->qty_text.ptr, in->qty_text.len, '|') ||
        !msg_put(msg, sizeof msg, &n, in->source.ptr, in->source.len, '|') ||
        !msg_put(msg, sizeof msg, &n, in->ts_text.ptr, in->ts_text.len, '\0')) {
        return false;
    }
    return e->hmac_verify(e->hmac_ctx, k->key, k->len, msg, n, in->sig.ptr, in->sig.len);
}

/* |a| for fixed values that fit. */
static wd_fix fabs_fix(wd_fix v) { return v < 0 ? -v : v; }

/* round(qty * price) saturating at INT64_MAX (a notional that large fails
 * every limit anyway). */
static wd_fix notional(wd_fix qty, wd_fix price)
{
    wd_fix v;
    return wd_fix_mul(fabs_fix(qty), price, &v) == WD_OK ? v : INT64_MAX;
}

static bool limit_ok(wd_fix value, wd_fix limit, double scale)
{
    if (limit <= 0) {
        return true;
    }
    if (scale == 1.0) {
        return value <= limit; /* exact: a double has 53 bits, a wd_fix 63 */
    }
    return (double)value <= (double)limit * scale;
}

struct verdict {
    const char *reason; /* NULL: accept */
    char detail[160];
    wd_fix price;       /* reference price of the order, 0 unknown */
};

static const char *reject(struct verdict *v, const char *reason, const char *fmt, ...)
    WD_PRINTF(3, 4);

static const char *reject(struct verdict *v, const char *reason, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->detail, sizeof v->detail, fmt, ap);
    va_end(ap);
    v->reason = reason;
    return reason;
}

/* A rejection whose detail is the concatenation of the NULL-terminated
 * strings after reason: no format to parse, on the paths a flood of
 * rejections takes (limits, halted). */
static const char *reject_cat(struct verdict *v, const char *reason, ...)
{
    va_list ap;
    size_t len = 0;
    va_start(ap, reason);
    for (const char *p = va_arg(ap, const char *); p != NULL; p = va_arg(ap, const char *)) {
        size_t n = strlen(p);
        n = n < sizeof v->detail - 1u - len ? n : sizeof v->detail - 1u - len;
        memcpy(v->detail + len, p, n);
        len += n;
    }
    va_end(ap);
    v->detail[len] = '\0';
    v->reason = reason;
    return reason;
}

/* A size check that RAMP_UP tightens: the plain limit's reason when the
 * order breaks the normal limit, "ramp:size" when it breaks only the
 * ramp-up fraction of it. */
static const char *size_check(struct verdict *v, wd_fix value, wd_fix limit, double ramp,
                              const char *reason, const char *what)
{
    char a[40], b[40];
    if (limit_ok(value, limit, 1.0) && limit_ok(value, limit, ramp)) {
        return NULL;
    }
    wd_fix_format(value, 0, a, sizeof a);
    wd_fix_format(limit, 0, b, sizeof b);
    if (!limit_ok(value, limit, 1.0)) {
        return reject_cat(v, reason, what, " ", a, " > limit ", b, (const char *)NULL);
    }
    return reject(v, RS(RAMP_SIZE), "%s %s > %g x limit %s during ramp-up", what, a, ramp, b);
}

/* The account's ring keeps the cap = max_orders_per_s latest accept times
 * in time order, the oldest at rate_head. There are cap accepts within the
 * second before ts exactly when the ring is full and its oldest is within
 * it: one comparison. */
static bool rate_full(const struct acct_x *ax, uint32_t cap, int64_t ts)
{
    return ax->rate != NULL && ax->rate_count == cap && ts - ax->rate[ax->rate_head] < WD_NS_PER_S;
}

/* Records an accept at ts: the oldest time leaves a full ring, and ts goes
 * in its place in time order (at the end, unless the accept came out of
 * event-time order). */
static void rate_push(struct acct_x *ax, uint32_t cap, int64_t ts)
{
    if (ax->rate_count == cap) {
        ax->rate_head = ax->rate_head + 1u == cap ? 0u : ax->rate_head + 1u;
        ax->rate_count--;
    }
    uint32_t k = ax->rate_count;
    for (; k > 0; k--) {
        uint32_t prev = ax->rate_head + k - 1u, at = ax->rate_head + k;
        prev -= prev >= cap ? cap : 0u;
        at -= at >= cap ? cap : 0u;
        if (ax->rate[prev] <= ts) {
            break;
        }
        ax->rate[at] = ax->rate[prev];
    }
    uint32_t at = ax->rate_head + k;
    ax->rate[at - (at >= cap ? cap : 0u)] = ts;
    ax->rate_count++;
}

static const char *gate(struct wd_engine *e, const struct wd_event *ev, struct verdict *v)
{
    const struct wd_ev_intent *in = &ev->u.intent;
    const struct wd_config *c = e->cfg;
    struct governing g;
    enum wd_tstate worst;
    v->reason = NULL;
    v->detail[0] = '\0';
    v->price = 0;

    bool is_warden = IS_LIT(in->source, WARDEN_SOURCE);
    governing_states(e, ev->account, in->source, &g);
    const struct wd_scope_state *ws = most_restrictive(&g, &worst);
    if (worst == WD_TS_HALTED && !is_warden) {
        return reject_cat(v, RS(HALTED), ws->scope, " is HALTED (", ws->reason, ")",
                          (const char *)NULL);
    }
    if (!is_warden) {
        if (c->limits.n_sources > 0) {
            long si = find_source(e, in->source);
            if (si < 0) {
                return reject(v, RS(UNAUTH_SOURCE), "source '%.*s' is not configured",
                              (int)in->source.len, in->source.ptr);
            }
            if (e->keys[si].key != NULL && !signature_ok(e, &e->keys[si], ev)) {
                return reject(v, RS(UNAUTH_SIGNATURE),
                              in->sig.len == 0 ? "source '%.*s' must sign its intents"
                                               : "bad signature from source '%.*s'",
                              (int)in->source.len, in->source.ptr);
            }
        }
        if (c->limits.n_symbols > 0 && (ev->symbol >= e->n_sx || !e->sx[ev->symbol].allowed)) {
            return reject(v, RS(UNAUTH_SYMBOL), "symbol %s is not in limits.symbols",
                          wd_intern_name(&e->symbols, ev->symbol));
        }
        if (!in_session(e, ev->ts_ns)) {
            return reject_cat(v, RS(UNAUTH_HOURS), "outside trading hours", (const char *)NULL);
        }
    }

    const struct wd_position *pos = wd_book_find_position(e->book, ev->account, ev->symbol);
    wd_fix held = pos != NULL ? pos->qty : 0;
    wd_fix q = in->qty * in->side;
    if (is_warden || any_in(&g, WD_TS_REDUCE_ONLY)) {
        /* Orders already open in the same direction count: two sells of
         * 60 against a long of 100 would flip it once both fill. */
        wd_fix pending = 0;
        if (pos != NULL) {
            uint32_t pi = wd_book_position_index(e->book, pos);
            if (pi < e->n_po) {
                pending = q > 0 ? e->po[pi].buy : e->po[pi].sell;
            }
        }
        bool shrinks = held != 0 && (held > 0) != (q > 0) &&
                       (wd_i128)fabs_fix(q) + pending <= fabs_fix(held);
        if (!shrinks) {
            return reject(v, RS(REDUCE_ONLY),
                          held == 0 ? "no position to reduce"
                                    : "order would grow or flip the position");
        }
    }

    double ramp = any_in(&g, WD_TS_RAMP_UP) ? c->ramp.fraction : 1.0;
    const char *r;
    if ((r = size_check(v, in->qty, c->limits.max_order_qty, ramp, RS(MAX_ORDER_QTY),
                        "qty")) != NULL) {
        return r;
    }

    /* Reference price: the limit, else the mark. */
    wd_fix mark = 0;
    bool has_mark = wd_book_mark(e->book, ev->symbol, &mark);
    v->price = in->order_type == WD_ORDER_LMT ? in->limit : (has_mark ? mark : 0);
    bool needs_price = c->limits.max_order_notional > 0 || c->limits.box_lim > 0 ||
                       c->limits.max_gross_exposure > 0;
    if (needs_price && v->price == 0) {
        return reject(v, c->limits.max_order_notional > 0 ? RS(MAX_ORDER_NOTIONAL)
                         : c->limits.box_lim > 0          ? RS(BOX_LIM)
                                                          : RS(MAX_GROSS_EXPOSURE),
                      "no price to value the order (no limit, no mark): fail closed");
    }
    wd_fix value = notional(in->qty, v->price);
    if ((r = size_check(v, value, c->limits.max_order_notional, ramp,
                        RS(MAX_ORDER_NOTIONAL), "notional")) != NULL) {
        return r;
    }

    if (c->limits.price_collar > 0.0) {
        const struct sym_x *sx = ev->symbol < e->n_sx ? &e->sx[ev->symbol] : NULL;
        if (sx == NULL || sx->quote_ts == 0 ||
            ev->ts_ns - sx->quote_ts > c->detect.staleness_s * WD_NS_PER_S) {
            return reject_cat(v, RS(PRICE_COLLAR), "no fresh quote: fail closed",
                              (const char *)NULL);
        }
        if (in->order_type == WD_ORDER_LMT &&
            fabs((double)(in->limit - sx->mid)) > c->limits.price_collar * (double)sx->mid) {
            char a[40], b[40];
            wd_fix_format(in->limit, 2, a, sizeof a);
            wd_fix_format(sx->mid, 2, b, sizeof b);
            return reject(v, RS(PRICE_COLLAR), "limit %s is more than %g%% from mid %s", a,
                          c->limits.price_collar * 100.0, b);
        }
    }

    if (c->limits.box_lim > 0) {
        wd_fix after;
        if (wd_fix_add(held, q, &after) != WD_OK) {
            return reject(v, RS(BOX_LIM), "position out of range");
        }
        if ((r = size_check(v, notional(after, v->price), c->limits.box_lim, ramp,
                            RS(BOX_LIM), "position notional")) != NULL) {
            return r;
        }
    }

    const struct acct_x *ax = ev->account < e->n_ax ? &e->ax[ev->account] : NULL;
    if (c->limits.max_gross_exposure > 0) {
        const struct wd_figures *f = wd_book_account(e->book, ev->account);
        wd_i128 gross = (wd_i128)(f != NULL ? f->gross : 0) +
                        (ax != NULL ? ax->open_notional : 0) + value;
        wd_fix gv = gross > INT64_MAX ? INT64_MAX : (wd_fix)gross;
        if ((r = size_check(v, gv, c->limits.max_gross_exposure, ramp,
                            RS(MAX_GROSS_EXPOSURE), "gross exposure")) != NULL) {
            return r;
        }
    }

    if (c->limits.max_orders_per_s > 0 && ax != NULL && rate_full(ax, c->limits.max_orders_per_s,
                                                                  ev->ts_ns)) {
        return reject(v, RS(RATE), "%u orders in the last second (max %u)",
                      c->limits.max_orders_per_s, c->limits.max_orders_per_s);
    }
    return NULL;
}

const char *wd_engine_check_intent(struct wd_engine *e, const struct wd_event *ev)
{
    struct verdict v;
    const char *r = gate(e, ev, &v);
    return r != NULL ? r : "";
}

/* Open quantity against a position: +qty when an order opens, -qty as it
 * fills or ends. */
static enum wd_status po_add(struct wd_engine *e, const struct order *o, wd_fix qty)
{
    if (o->pos == NO_POS) {
        return WD_OK;
    }
    enum wd_status st = wd__array_grow((void **)&e->po, &e->n_po, o->pos + 1u, sizeof *e->po);
    if (st != WD_OK) {
        return st;
    }
    if (o->side > 0) {
        e->po[o->pos].buy += qty;
    } else {
        e->po[o->pos].sell += qty;
    }
    return WD_OK;
}

static enum wd_status record_accept(struct wd_engine *e, const struct wd_event *ev, wd_fix price)
{
    const struct wd_ev_intent *in = &ev->u.intent;
    enum wd_status st = ensure_acct(e, ev->account);
    if (st != WD_OK) {
        return st;
    }
    struct acct_x *ax = &e->ax[ev->account];
    uint32_t cap = e->cfg->limits.max_orders_per_s;
    if (cap > 0 && ax->rate == NULL) {
        ax->rate = calloc(cap, sizeof *ax->rate);
        if (ax->rate == NULL) {
            return WD_ENOMEM;
        }
    }
    struct order *o;
    bool found;
    if ((st = om_upsert(&e->orders, in->id, &o, &found)) != WD_OK) {
        return st; /* nothing recorded: the intent is rejected */
    }
    if (found) {
        /* A reused id replaces the old order's exposure, in the account
         * that placed it. */
        e->ax[o->account].open_notional -= notional(o->remaining, o->price);
        (void)po_add(e, o, -o->remaining);
    }
    const struct wd_position *p = wd_book_find_position(e->book, ev->account, ev->symbol);
    o->account = ev->account;
    o->symbol = ev->symbol;
    o->side = (int8_t)in->side;
    o->remaining = in->qty;
    o->price = price;
    o->pos = p != NULL ? wd_book_position_index(e->book, p) : NO_POS;
    o->intent_ns = ev->ts_ns;
    o->acked = false;
    if ((st = po_add(e, o, o->remaining)) != WD_OK) {
        om_remove(&e->orders, o);
        return st;
    }
    ax->open_notional += notional(in->qty, price);
    if (cap > 0) {
        rate_push(ax, cap, ev->ts_ns);
    }
    return WD_OK;
}

/* An order leaves (or shrinks in) the open-order book. */
static void order_done(struct wd_engine *e, struct order *o, wd_fix qty)
{
    struct acct_x *ax = &e->ax[o->account];
    wd_fix q = qty < o->remaining ? qty : o->remaining;
    ax->open_notional -= notional(o->remaining, o->price) - notional(o->remaining - q, o->price);
    (void)po_add(e, o, -q); /* the slot exists: po_add grew it when the order opened */
    o->remaining -= q;
    /* A filled order whose ack has not come yet stays (with nothing open)
     * until it does, so that its intent->ack latency is still measured. */
    if (o->remaining <= 0 && o->acked) {
        om_remove(&e->orders, o);
    }
}

/* ---- kill-switches ---------------------------------------------------------------- */

/* ratio as a percentage with 2 decimals, or more when 2 would print the
 * threshold itself ("-5.00% < -5%" reads as a false alarm). */
static void format_pct(double ratio, double threshold, char *buf, size_t cap)
{
    char t[32];
    for (int dec = 2; dec <= 6; dec++) {
        snprintf(buf, cap, "%.*f%%", dec, ratio * 100.0);
        snprintf(t, sizeof t, "%.*f%%", dec, threshold * 100.0);
        if (strcmp(buf, t) != 0) {
            return;
        }
    }
}

/* Opens an incident id INC-YYYYMMDD-NNN for the book's current local day. */
static void next_incident_id(struct wd_engine *e, char *buf, size_t cap)
{
    int64_t day = wd_book_day(e->book);
    if (day == INT64_MIN) {
        day = wd_tz_local_day(e->tz, e->ts_ns, NULL, NULL);
    }
    if (day != e->seq_day) {
        e->seq_day = day;
        e->seq = e->incident_seq != NULL ? e->incident_seq(e->incident_seq_ctx, day) : 0;
    }
    e->seq++;
    int64_t y;
    unsigned m, d;
    wd_civil_from_days(day, &y, &m, &d);
    snprintf(buf, cap, "INC-%04lld%02u%02u-%03u", (long long)y, m, d, e->seq);
}

/* The incident a finding of (scenario, scope) goes to: the one still
 * active for them (the store knows), else a new number. */
static void open_incident_id(struct wd_engine *e, const char *scenario, const char *scope,
                             char *buf, size_t cap)
{
    char id[WD_INCIDENT_ID_MAX];
    if (e->incident_active != NULL && e->incident_active(e->incident_active_ctx, scenario, scope, id)) {
        copy_text(buf, cap, id);
        return;
    }
    next_incident_id(e, buf, cap);
}

static enum wd_status fire_kill(struct wd_engine *e, const char *scope, const char *scenario,
                                const char *title, const char *detail, struct wd_error *err)
{
    uint32_t idx;
    char incident[WD_INCIDENT_ID_MAX];
    enum wd_status st = scope_slot(e, scope, &idx, err);
    if (st != WD_OK) {
        return st;
    }
    open_incident_id(e, scenario, scope, incident, sizeof incident);
    emit_log(e, WD_LOG_CRIT, "killswitch", title);
    emit_log(e, WD_LOG_CRIT, "killswitch", detail);

    struct wd_scope_state s = e->scopes[idx];
    s.state = WD_TS_HALTED;
    s.since_ns = e->ts_ns;
    copy_text(s.reason, sizeof s.reason, title);
    copy_text(s.by, sizeof s.by, "warden");
    copy_text(s.scenario, sizeof s.scenario, scenario);
    copy_text(s.incident, sizeof s.incident, incident);
    s.ramp_until_ns = 0;
    set_slot_state(e, idx, &s);
    emit_state(e, &e->scopes[idx]);

    emit_control(e, "halt", scope, title, incident);
    if (e->cfg->on_kill.cancel_all) {
        emit_control(e, "cancel_all", scope, title, incident);
    }
    if (e->cfg->on_kill.flatten) {
        emit_control(e, "flatten", scope, title, incident);
    }
    struct wd_output o = {.type = WD_OUT_INCIDENT};
    o.u.incident.id = incident;
    o.u.incident.severity = "P0";
    o.u.incident.scenario = scenario;
    o.u.incident.status = "open";
    o.u.incident.title = title;
    o.u.incident.detail = detail;
    o.u.incident.scope = scope;
    emit(e, &o);
    return WD_OK;
}

/* The scope name of an account id, or "firm" for WD_NO_ID. Formatted only
 * when a kill-switch fires, never per event. */
static const char *kill_scope(const struct wd_engine *e, uint32_t account, char *buf, size_t cap)
{
    if (account == WD_NO_ID) {
        return "firm";
    }
    snprintf(buf, cap, "account:%s", wd_intern_name(&e->accounts, account));
    return buf;
}

/* Evaluates one scope's kill-switches on its current figures. */
static enum wd_status check_kills(struct wd_engine *e, uint32_t account,
                                  const struct wd_figures *f, struct kill_state *k,
                                  struct wd_error *err)
{
    /* Nothing moved since the last look and no PSR sample is due: every
     * answer would be the same. */
    if (f->version == k->seen && k->psr != NULL && e->ts_ns < k->psr->next_sample_ns) {
        return WD_OK;
    }
    k->seen = f->version;
    const struct wd_config *c = e->cfg;
    char detail[160], a[32], b[32], sbuf[WD_SCOPE_MAX];
    enum wd_status st = WD_OK;
    uint32_t sref = account == WD_NO_ID ? e->firm_scope : e->ax[account].scope;
    bool halted = sref != 0 && e->scopes[sref - 1u].state == WD_TS_HALTED;

    double pnl = wd_figures_pnl_ratio(f);
    bool on = pnl < c->limits.kill_pnl;
    if (on && !k->pnl_on) {
        format_pct(pnl, c->limits.kill_pnl, a, sizeof a);
        snprintf(detail, sizeof detail, "PnL=%s < KILL_PNL=%g%%", a, c->limits.kill_pnl * 100.0);
        st = fire_kill(e, kill_scope(e, account, sbuf, sizeof sbuf), "kill_pnl", "Kill-switch activated: PnL breach", detail, err);
    }
    k->pnl_on = on || (k->pnl_on && halted);
    if (st != WD_OK) {
        return st;
    }

    on = f->drawdown > c->limits.max_dd;
    if (on && !k->dd_on) {
        format_pct(f->drawdown, c->limits.max_dd, a, sizeof a);
        snprintf(detail, sizeof detail, "Drawdown=%s > MAX_DD=%g%%", a, c->limits.max_dd * 100.0);
        st = fire_kill(e, kill_scope(e, account, sbuf, sizeof sbuf), "kill_drawdown",
                       "Kill-switch activated: Max Drawdown breach", detail, err);
    }
    k->dd_on = on || (k->dd_on && halted);
    if (st != WD_OK) {
        return st;
    }

    if (k->psr == NULL) {
        k->psr = malloc(sizeof *k->psr);
        if (k->psr == NULL ||
            wd_psr_window_init(k->psr, c->limits.psr.interval_s, c->limits.psr.window) != WD_OK) {
            free(k->psr);
            k->psr = NULL;
            return wd_error_set(err, WD_ENOMEM, "PSR window: out of memory or bad psr settings");
        }
    }
    if (wd_psr_window_observe(k->psr, e->ts_ns, wd_fix_to_double(f->equity))) {
        struct wd_psr_stats ps;
        wd_psr_window_stats(k->psr, c->limits.psr.benchmark, &ps);
        on = ps.n >= c->limits.psr.min_obs && !isnan(ps.psr) && ps.psr < c->limits.psr.min;
        if (on && !k->psr_on) {
            snprintf(a, sizeof a, "%.4f", ps.psr);
            snprintf(b, sizeof b, "%g", c->limits.psr.min);
            snprintf(detail, sizeof detail, "PSR=%s < PSR_MIN=%s over %u returns", a, b, ps.n);
            st = fire_kill(e, kill_scope(e, account, sbuf, sizeof sbuf), "kill_psr",
                           "Kill-switch activated: PSR breach", detail, err);
        }
        k->psr_on = on || (k->psr_on && halted);
    }
    return st;
}

static int64_t psr_due(const struct kill_state *k, int64_t due)
{
    return k->psr != NULL && k->psr->next_sample_ns < due ? k->psr->next_sample_ns : due;
}

/* Every scope's kill-switches, after an event that may move figures. When
 * no figure moved since the last look and no PSR sample is due, every
 * answer would be the same: nothing to do. */
static enum wd_status check_all_kills(struct wd_engine *e, struct wd_error *err)
{
    enum wd_status st;
    uint64_t changes = wd_book_changes(e->book);
    if (changes == e->kills_changes && e->ts_ns < e->kills_psr_due) {
        return WD_OK;
    }
    uint32_t slots = wd_book_account_slots(e->book), present = 0;
    int64_t due = INT64_MAX;
    for (uint32_t id = 0; id < slots; id++) {
        const struct wd_figures *f = wd_book_account(e->book, id);
        if (f == NULL) {
            continue;
        }
        present++;
        if ((st = ensure_acct(e, id)) != WD_OK) {
            return wd_error_set(err, st, "out of memory");
        }
        if ((st = check_kills(e, id, f, &e->ax[id].ks, err)) != WD_OK) {
            return st;
        }
        due = psr_due(&e->ax[id].ks, due);
    }
    /* With a single account the firm's figures are that account's: its own
     * switch already halts it, and a second incident would only be noise. */
    if (present >= 2) {
        if ((st = check_kills(e, WD_NO_ID, wd_book_firm(e->book), &e->firm_ks, err)) != WD_OK) {
            return st;
        }
        due = psr_due(&e->firm_ks, due);
    }
    e->kills_changes = changes;
    e->kills_psr_due = due;
    return WD_OK;
}

/* ---- ramp-up ------------------------------------------------------------------------ */

/* A RAMP_UP scope starts its clock at the first event after the resume,
 * and becomes ACTIVE when ramp.duration_s of event time have passed. */
static void advance_ramps(struct wd_engine *e)
{
    for (uint32_t i = 0; i < e->n_scopes && e->n_ramping > 0; i++) {
        struct wd_scope_state *s = &e->scopes[i];
        if (s->state != WD_TS_RAMP_UP) {
            continue;
        }
        if (s->ramp_until_ns == 0) {
            s->ramp_until_ns = e->ts_ns + e->cfg->ramp.duration_s * WD_NS_PER_S;
            emit_state(e, s);
            emit_control(e, "resume", s->scope, "ramp-up started", s->incident);
            continue;
        }
        if (e->ts_ns >= s->ramp_until_ns) {
            char msg[160];
            struct wd_scope_state ns = *s;
            ns.state = WD_TS_ACTIVE;
            ns.since_ns = e->ts_ns;
            copy_text(ns.reason, sizeof ns.reason, "ramp-up complete");
            ns.ramp_until_ns = 0;
            set_slot_state(e, i, &ns);
            snprintf(msg, sizeof msg, "%s: ramp-up complete, ACTIVE", s->scope);
            emit_log(e, WD_LOG_INFO, "state", msg);
            emit_state(e, s);
        }
    }
}

/* ---- detectors (playbook P1-1, P1-2, P1-3, P2-1) --------------------------------------- */

/* Opens (or closes) the firm-scope incident of a detector: an `incident`
 * line with status open (or monitoring, once recovered), and a log line in
 * the playbook's wording. */
static void det_transition(struct wd_engine *e, struct det_slot *s, enum wd_scenario sc,
                           bool open, const struct wd_severity_facts *facts, const char *title,
                           const char *detail)
{
    char msg[320];
    if (open == s->open) {
        return;
    }
    s->open = open;
    enum wd_severity sev = wd_severity_for(sc, facts);
    if (open) {
        open_incident_id(e, wd_scenario_name(sc), "firm", s->incident, sizeof s->incident);
        s->severity = (uint8_t)sev;
    } else if ((enum wd_severity)s->severity < sev) {
        sev = (enum wd_severity)s->severity; /* the recovery keeps the incident's severity */
    }
    snprintf(msg, sizeof msg, "%s: %s", title, detail);
    emit_log(e, open ? WD_LOG_WARN : WD_LOG_INFO, "detect", msg);
    struct wd_output o = {.type = WD_OUT_INCIDENT};
    o.u.incident.id = s->incident;
    o.u.incident.severity = wd_severity_name(sev);
    o.u.incident.scenario = wd_scenario_name(sc);
    o.u.incident.status = open ? "open" : "monitoring";
    o.u.incident.title = title;
    o.u.incident.detail = detail;
    o.u.incident.scope = "firm";
    emit(e, &o);
}

static void det_rejects(struct wd_engine *e, bool rejected, struct wd_str reason)
{
    struct detectors *d = &e->det;
    const struct wd_config *c = e->cfg;
    wd_reject_add(&d->rej, e->ts_ns, rejected, reason);
    if (d->rej.count < DET_MIN_SAMPLES) {
        return; /* too few to tell a rate: neither opens nor recovers */
    }
    double ratio = wd_reject_ratio(&d->rej);
    enum wd_hyst_step step =
        wd_hyst_update(&d->rej_h, ratio, c->detect.reject.open, c->detect.reject.close, e->ts_ns);
    if (step == WD_HYST_SAME) {
        return;
    }
    char top[160], detail[320];
    wd_reject_top(&d->rej, 5, top, sizeof top);
    snprintf(detail, sizeof detail, "%.1f%% of the last %u orders rejected (%s %g%%)%s%s",
             ratio * 100.0, d->rej.count, step == WD_HYST_OPENED ? ">" : "<",
             (step == WD_HYST_OPENED ? c->detect.reject.open : c->detect.reject.close) * 100.0,
             top[0] ? "; top reasons: " : "", top);
    struct wd_severity_facts f = {.major_function_broken = true};
    det_transition(e, &d->rej_s, WD_SC_REJECT_SPIKE, step == WD_HYST_OPENED,
                   &f, step == WD_HYST_OPENED ? "High rejection rate detected"
                                              : "Rejection rate recovered",
                   detail);
}

/* The latency window's watched bounds: p95 > open_p95_ms opens, and p95 <
 * close_p95_ms, i.e. not p95 > ceil(close) - 1 ns, closes (p95 exact,
 * over the samples themselves). */
enum { LAT_WATCH_OPEN, LAT_WATCH_CLOSE };

static int64_t ns_bound(double ns)
{
    return ns >= 9.2e18 ? INT64_MAX : ns <= -9.2e18 ? INT64_MIN : (int64_t)ns;
}

static void watch_latency(struct wd_engine *e)
{
    const struct wd_config *c = e->cfg;
    wd_hist_window_watch(&e->det.lat, LAT_WATCH_OPEN,
                         ns_bound(floor(c->detect.latency.open_p95_ms * 1e6)));
    wd_hist_window_watch(&e->det.lat, LAT_WATCH_CLOSE,
                         ns_bound(ceil(c->detect.latency.close_p95_ms * 1e6) - 1.0));
}

/* P2-1 on each intent->ack latency: whether the exact p95 crossed a
 * threshold is a counter comparison (the window's watched bounds); the p95
 * itself is computed only to report a crossing. */
static void det_latency(struct wd_engine *e, int64_t latency_ns)
{
    struct detectors *d = &e->det;
    const struct wd_config *c = e->cfg;
    if (latency_ns < 0 || wd_hist_window_add(&d->lat, e->ts_ns, latency_ns) != WD_OK ||
        wd_hist_window_count(&d->lat) < DET_MIN_SAMPLES) {
        return;
    }
    bool opening = !d->lat_h.open;
    if (opening ? !wd_hist_window_exceeds(&d->lat, 0.95, LAT_WATCH_OPEN)
                : wd_hist_window_exceeds(&d->lat, 0.95, LAT_WATCH_CLOSE)) {
        return;
    }
    int64_t p95 = 0;
    if (wd_hist_window_exact_quantile(&d->lat, 0.95, &p95) != WD_OK &&
        wd_hist_window_quantile(&d->lat, 0.95, &p95) != WD_OK) {
        p95 = 0; /* out of memory for the exact one, and the window is not empty */
    }
    d->lat_h.open = opening;
    d->lat_h.since_ns = e->ts_ns;
    char detail[200];
    snprintf(detail, sizeof detail, "p95 intent->ack latency %.1f ms %s %g ms over %u acks",
             floor((double)p95 / 1e5) / 10.0, opening ? ">" : "<",
             opening ? c->detect.latency.open_p95_ms : c->detect.latency.close_p95_ms,
             wd_hist_window_count(&d->lat));
    struct wd_severity_facts f = {.degraded = true};
    det_transition(e, &d->lat_s, WD_SC_HIGH_LATENCY, opening, &f,
                   opening ? "High latency detected" : "Latency recovered", detail);
}

/* The bus (P1-2) is failing while consumer lag is latched high or the
 * kafka component reports down. */
static void det_bus(struct wd_engine *e, const char *why)
{
    struct detectors *d = &e->det;
    bool failing = d->lag_h.open || d->kafka_down;
    struct wd_severity_facts f = {.major_function_broken = true};
    det_transition(e, &d->bus_s, WD_SC_BUS_FAILURE, failing, &f,
                   failing ? "Kafka failure detected" : "Kafka recovered", why);
}

static bool any_position_open(const struct wd_engine *e)
{
    return wd_book_firm(e->book)->gross != 0;
}

/* The broker link (P1-1) is down when its heartbeat says so, when its
 * heartbeats stop for heartbeat_timeout_s, or when no market data at all
 * has arrived for staleness_s while the market is open. */
static void det_broker(struct wd_engine *e)
{
    struct detectors *d = &e->det;
    const struct wd_config *c = e->cfg;
    enum { UP, HB_DOWN, HB_TIMEOUT, NO_DATA } cause = UP;
    if (d->broker_seen && d->broker_down) {
        cause = HB_DOWN;
    } else if (d->broker_seen &&
               e->ts_ns - d->broker_hb_ns > c->detect.heartbeat_timeout_s * WD_NS_PER_S) {
        cause = HB_TIMEOUT;
    } else if (d->market_seen && in_session(e, e->ts_ns) &&
               e->ts_ns - since_open(e, d->market_ns) > c->detect.staleness_s * WD_NS_PER_S) {
        cause = NO_DATA;
    }
    bool down = cause != UP;
    if (down == d->broker_s.open) {
        return; /* no change: nothing to format */
    }
    char why[160];
    switch (cause) {
    case HB_DOWN:
        snprintf(why, sizeof why, "broker heartbeat down");
        break;
    case HB_TIMEOUT:
        snprintf(why, sizeof why, "no broker heartbeat for %llds (> %llds)",
                 (long long)((e->ts_ns - d->broker_hb_ns) / WD_NS_PER_S),
                 (long long)c->detect.heartbeat_timeout_s);
        break;
    case NO_DATA:
        snprintf(why, sizeof why, "no market data for %llds (> %llds) while the market is open",
                 (long long)((e->ts_ns - since_open(e, d->market_ns)) / WD_NS_PER_S),
                 (long long)c->detect.staleness_s);
        break;
    case UP:
        break;
    }
    if (down) {
        copy_text(d->broker_why, sizeof d->broker_why, why);
    } else {
        char was[sizeof d->broker_why];
        memcpy(was, d->broker_why, sizeof was);
        snprintf(why, sizeof why, "heartbeats and market data flowing again (was: %.96s)", was);
    }
    /* Positions left open while the broker is unreachable are money at
     * risk: the decision tree raises P1 to P0. */
    struct wd_severity_facts f = {.major_function_broken = true,
                                  .money_at_risk = down && any_position_open(e)};
    det_transition(e, &d->broker_s, WD_SC_BROKER_DISCONNECT, down, &f,
                   down ? "Broker disconnected" : "Broker connection restored", why);
}

static void dq_alert(struct wd_engine *e, const char *detail)
{
    struct wd_output a = {.type = WD_OUT_ALERT};
    a.u.alert.scenario = "data_quality";
    a.u.alert.severity = "P2";
    a.u.alert.detail = detail;
    a.u.alert.scope = "firm";
    emit(e, &a);
}

/* Producer sequence numbers, per stream (SPEC section 2: gaps are
 * data-quality findings). */
static void dq_seq(struct wd_engine *e, const struct wd_event *ev)
{
    static const char *const streams[] = {"market_events", "order_intents", "exec_reports",
                                          "system_events"};
    unsigned sidx;
    switch (ev->type) {
    case WD_EV_QUOTE: case WD_EV_TRADE: case WD_EV_BAR: sidx = 0; break;
    case WD_EV_INTENT: sidx = 1; break;
    case WD_EV_ACK: case WD_EV_FILL: sidx = 2; break;
    default: sidx = 3; break;
    }
    struct detectors *d = &e->det;
    if (!ev->has_seq) {
        return;
    }
    if (d->seq_seen[sidx] && ev->seq != d->seq_last[sidx] + 1u) {
        char detail[160];
        if (ev->seq > d->seq_last[sidx]) {
            snprintf(detail, sizeof detail,
                     "sequence gap on %s: expected %llu, got %llu (%llu missing)", streams[sidx],
                     (unsigned long long)(d->seq_last[sidx] + 1u), (unsigned long long)ev->seq,
                     (unsigned long long)(ev->seq - d->seq_last[sidx] - 1u));
        } else {
            snprintf(detail, sizeof detail,
                     "sequence went back on %s: %llu after %llu (duplicate or reordered)",
                     streams[sidx], (unsigned long long)ev->seq,
                     (unsigned long long)d->seq_last[sidx]);
        }
        dq_alert(e, detail);
    }
    if (!d->seq_seen[sidx] || ev->seq > d->seq_last[sidx]) {
        d->seq_last[sidx] = ev->seq;
    }
    d->seq_seen[sidx] = true;
}

static void dq_report(struct wd_engine *e);

/* Per-symbol staleness while the market is open: the playbook's "Data
 * quality gate failed" / "Staleness > 60s", silence counted from the open.
 * The symbols with market data form a list ordered by market_ts, oldest
 * first; the stale ones are a prefix of it (silence since the open grows
 * with age), and `fresh` is the first symbol not yet marked stale. A
 * market event moves its symbol to the newest end (un-marking it if
 * stale); each event marks, from `fresh` on, the symbols that have since
 * gone silent too long. O(1) per event for data in event-time order, and a
 * symbol turns stale on exactly the event that crosses. */
#define SX(id1) (&e->sx[(id1) - 1u])

static void list_unlink(struct wd_engine *e, uint32_t id1)
{
    struct detectors *d = &e->det;
    struct sym_x *x = SX(id1);
    if (d->fresh == id1) {
        d->fresh = x->newer;
    }
    *(x->older ? &SX(x->older)->newer : &d->oldest) = x->newer;
    *(x->newer ? &SX(x->newer)->older : &d->newest) = x->older;
    x->older = x->newer = 0;
}

/* Links symbol id1 in market_ts order, from the newest end back (one step
 * for data in event-time order). A fresh symbol placed before `fresh`
 * becomes `fresh`: the next look decides about it. */
static void list_insert(struct wd_engine *e, uint32_t id1)
{
    struct detectors *d = &e->det;
    struct sym_x *x = SX(id1);
    uint32_t after = d->newest;
    bool past_fresh = false;
    while (after != 0 && SX(after)->market_ts > x->market_ts) {
        past_fresh = past_fresh || after == d->fresh;
        after = SX(after)->older;
    }
    x->older = after;
    x->newer = after ? SX(after)->newer : d->oldest;
    *(after ? &SX(after)->newer : &d->oldest) = id1;
    *(x->newer ? &SX(x->newer)->older : &d->newest) = id1;
    if (d->fresh == 0 || past_fresh) {
        d->fresh = id1;
    }
}

/* After a snapshot load: every symbol with data in the list, none marked. */
static void list_build(struct wd_engine *e)
{
    struct detectors *d = &e->det;
    d->oldest = d->newest = d->fresh = 0;
    d->n_stale = 0;
    for (uint32_t i = 0; i < e->n_sx; i++) {
        e->sx[i].older = e->sx[i].newer = 0;
        e->sx[i].stale = false;
        if (e->sx[i].listed) {
            list_insert(e, i + 1u);
        }
    }
    d->fresh = d->oldest;
    d->list_built = true;
}

/* The market closed, or opened again: nothing is stale or short of bars
 * until the new session says so (silence and bars count from the open). */
static void dq_new_session(struct wd_engine *e)
{
    struct detectors *d = &e->det;
    for (uint32_t id1 = d->oldest; id1 != 0; id1 = SX(id1)->newer) {
        SX(id1)->stale = false;
        if (SX(id1)->bars != NULL) {
            SX(id1)->bars->incomplete = false;
        }
    }
    d->n_stale = 0;
    d->n_incomplete = 0;
    d->fresh = d->oldest;
}

/* A market event of symbol sym at ts: it is fresh again, and newest. */
static void dq_touch(struct wd_engine *e, uint32_t sym, int64_t ts)
{
    struct detectors *d = &e->det;
    struct sym_x *x = &e->sx[sym];
    if (!d->list_built) {
        list_build(e);
    }
    if (x->listed && ts <= x->market_ts) {
        return; /* nothing newer than it had */
    }
    if (x->listed) {
        if (x->stale) {
            x->stale = false;
            d->n_stale--;
        }
        list_unlink(e, sym + 1u);
    }
    x->market_ts = ts;
    x->listed = true;
    list_insert(e, sym + 1u);
}

/* Marks the symbols that went stale by now; un-marks all when the market
 * is closed. Reports a change of the data-quality state. */
static void dq_staleness(struct wd_engine *e)
{
    struct detectors *d = &e->det;
    if (!d->list_built) {
        list_build(e);
    }
    bool open = in_session(e, e->ts_ns);
    int64_t session = open ? e->sess_open_ns : INT64_MIN;
    if (session != d->dq_session) {
        dq_new_session(e);
        d->dq_session = session;
    }
    if (open) {
        int64_t limit = e->cfg->detect.staleness_s * WD_NS_PER_S;
        while (d->fresh != 0 && e->ts_ns - since_open(e, SX(d->fresh)->market_ts) > limit) {
            struct sym_x *x = SX(d->fresh);
            if (!x->stale) { /* marked already when it came back in out of order */
                x->stale = true;
                d->n_stale++;
            }
            d->fresh = x->newer;
        }
    }
    dq_report(e);
}

/* Bar completeness (P2-2, "completeness of expected bars below
 * completeness.min"), per symbol on each of its bars that gives
 * interval_s, while the market is open: of the bars due in the last
 * completeness.window_s (counted from the session's open and from the
 * symbol's first bar, whichever is later), how many came. */
static enum wd_status dq_bar(struct wd_engine *e, const struct wd_event *ev)
{
    const struct wd_config *c = e->cfg;
    int64_t interval = ev->u.bar.interval_s;
    if (interval <= 0 || interval > c->detect.completeness.window_s) {
        return WD_OK; /* no cadence to expect */
    }
    struct sym_x *sx = &e->sx[ev->symbol];
    struct bar_ring *b = sx->bars;
    if (b == NULL || b->interval_ns != interval * WD_NS_PER_S) {
        uint32_t cap = (uint32_t)(c->detect.completeness.window_s / interval) + 1u;
        if (b != NULL && b->incomplete) {
            e->det.n_incomplete--; /* a new cadence: counted afresh */
        }
        if (b == NULL || b->cap < cap) {
            struct bar_ring *nb = realloc(b, sizeof *nb + (size_t)cap * sizeof nb->ts[0]);
            if (nb == NULL) {
                return WD_ENOMEM;
            }
            b = sx->bars = nb;
            b->cap = cap;
        }
        b->interval_ns = interval * WD_NS_PER_S;
        b->head = b->count = 0;
        b->first_ns = ev->ts_ns;
        b->incomplete = false;
    }
    if (b->count > 0 && ev->ts_ns <= b->ts[(b->head + b->count - 1u) % b->cap]) {
        return WD_OK; /* a repeated or late bar adds nothing */
    }
    if (b->count == b->cap) {
        b->head = (b->head + 1u) % b->cap;
        b->count--;
    }
    b->ts[(b->head + b->count) % b->cap] = ev->ts_ns;
    b->count++;
    if (!in_session(e, ev->ts_ns)) {
        return WD_OK;
    }
    int64_t from = ev->ts_ns - c->detect.completeness.window_s * WD_NS_PER_S + 1;
    from = from > e->sess_open_ns ? from : e->sess_open_ns;
    from = from > b->first_ns ? from : b->first_ns;
    while (b->count > 0 && b->ts[b->head] < from) {
        b->head = (b->head + 1u) % b->cap;
        b->count--;
    }
    uint32_t due = (uint32_t)((ev->ts_ns - from) / b->interval_ns) + 1u;
    b->due = due;
    bool incomplete = (double)b->count < c->detect.completeness.min * (double)due;
    if (incomplete != b->incomplete) {
        b->incomplete = incomplete;
        e->det.n_incomplete += incomplete ? 1u : (uint32_t)-1;
        dq_report(e);
    }
    return WD_OK;
}

/* Appends "NAME (text)" items of the symbols selected by pick to
 * list[cap], as many as fit. */
static void dq_list(const struct wd_engine *e, char *list, size_t cap,
                    bool (*pick)(const struct wd_engine *, uint32_t, char *, size_t))
{
    size_t len = 0;
    char what[48];
    list[0] = '\0';
    for (uint32_t i = 0; i < e->n_sx && len + 48 < cap; i++) {
        if (pick(e, i, what, sizeof what)) {
            int w = snprintf(list + len, cap - len, "%s%s (%s)", len ? ", " : "",
                             wd_intern_name(&e->symbols, i), what);
            len += w > 0 ? (size_t)w : 0u;
        }
    }
}

static bool pick_stale(const struct wd_engine *e, uint32_t i, char *what, size_t cap)
{
    int64_t silent = e->ts_ns - since_open(e, e->sx[i].market_ts);
    if (!e->sx[i].stale) {
        return false;
    }
    snprintf(what, cap, "%llds", (long long)(silent / WD_NS_PER_S));
    return true;
}

static bool pick_incomplete(const struct wd_engine *e, uint32_t i, char *what, size_t cap)
{
    const struct bar_ring *b = e->sx[i].bars;
    if (b == NULL || !b->incomplete) {
        return false;
    }
    snprintf(what, cap, "%u of %u bars, %.1f%%", b->count, b->due,
             100.0 * (double)b->count / (double)b->due);
    return true;
}

/* The data-quality incident (P2-2) is open while a symbol is stale or
 * short of bars; says so when that changes. */
static void dq_report(struct wd_engine *e)
{
    struct detectors *d = &e->det;
    const struct wd_config *c = e->cfg;
    bool bad = d->n_stale > 0 || d->n_incomplete > 0;
    if (bad == d->dq_s.open) {
        return; /* no change: nothing to say */
    }
    char detail[400], stale[150], inc[150];
    size_t len = 0;
    detail[0] = '\0';
    if (d->n_stale > 0) {
        dq_list(e, stale, sizeof stale, pick_stale);
        int w = snprintf(detail, sizeof detail, "Staleness > %llds: %u symbol%s: %s",
                         (long long)c->detect.staleness_s, d->n_stale,
                         d->n_stale == 1 ? "" : "s", stale);
        len = w > 0 ? (size_t)w : 0u;
    }
    if (d->n_incomplete > 0 && len < sizeof detail) {
        dq_list(e, inc, sizeof inc, pick_incomplete);
        snprintf(detail + len, sizeof detail - len, "%sCompleteness < %g%%: %u symbol%s: %s",
                 len ? "; " : "", c->detect.completeness.min * 100.0, d->n_incomplete,
                 d->n_incomplete == 1 ? "" : "s", inc);
    }
    if (!bad) {
        snprintf(detail, sizeof detail, "every symbol fresh again (< %llds) and complete",
                 (long long)c->detect.staleness_s);
    }
    struct wd_severity_facts f = {.degraded = true};
    det_transition(e, &d->dq_s, WD_SC_DATA_QUALITY, bad, &f,
                   bad ? "Data quality gate failed" : "Data quality recovered", detail);
}

void wd_engine_report_malformed(struct wd_engine *e, uint64_t line, const char *reason)
{
    char detail[320];
    e->det.malformed++;
    snprintf(detail, sizeof detail, "malformed event at line %llu skipped: %s (%llu so far)",
             (unsigned long long)line, reason, (unsigned long long)e->det.malformed);
    dq_alert(e, detail);
}

uint64_t wd_engine_malformed_count(const struct wd_engine *e) { return e->det.malformed; }

/* Feeds the detectors with one event (after the book took it). */
static enum wd_status detect(struct wd_engine *e, const struct wd_event *ev)
{
    struct detectors *d = &e->det;
    enum wd_status st = WD_OK;
    dq_seq(e, ev);
    if (ev->symbol != WD_NO_ID &&
        (ev->type == WD_EV_QUOTE || ev->type == WD_EV_TRADE || ev->type == WD_EV_BAR)) {
        dq_touch(e, ev->symbol, ev->ts_ns);
    }
    dq_staleness(e);
    switch (ev->type) {
    case WD_EV_BAR:
        st = dq_bar(e, ev);
        /* fall through */
    case WD_EV_QUOTE:
    case WD_EV_TRADE:
        d->market_seen = true;
        d->market_ns = ev->ts_ns;
        break;
    case WD_EV_ACK: {
        struct order *o = om_find(&e->orders, ev->u.ack.id);
        if (o != NULL && !o->acked) {
            o->acked = true;
            det_latency(e, ev->ts_ns - o->intent_ns);
        }
        if (ev->u.ack.status != WD_ACK_CANCELLED) {
            det_rejects(e, ev->u.ack.status == WD_ACK_REJECTED, ev->u.ack.reason);
        }
        break;
    }
    case WD_EV_HEARTBEAT:
        if (IS_LIT(ev->u.heartbeat.component, "broker")) {
            d->broker_seen = true;
            d->broker_hb_ns = ev->ts_ns;
            d->broker_down = ev->u.heartbeat.status == WD_HB_DOWN;
        } else if (IS_LIT(ev->u.heartbeat.component, "kafka")) {
            d->kafka_down = ev->u.heartbeat.status == WD_HB_DOWN;
            det_bus(e, d->kafka_down ? "kafka heartbeat down" : "kafka heartbeat up");
        }
        break;
    case WD_EV_METRIC:
        if (IS_LIT(ev->u.metric.name, "consumer_lag")) {
            const struct wd_config *c = e->cfg;
            enum wd_hyst_step step =
                wd_hyst_update(&d->lag_h, ev->u.metric.value, (double)c->detect.consumer_lag.open,
                               (double)c->detect.consumer_lag.close, ev->ts_ns);
            if (step != WD_HYST_SAME) {
                char why[96];
                snprintf(why, sizeof why, "consumer lag %.0f %s %lld", ev->u.metric.value,
                         step == WD_HYST_OPENED ? ">" : "<",
                         (long long)(step == WD_HYST_OPENED ? c->detect.consumer_lag.open
                                                            : c->detect.consumer_lag.close));
                det_bus(e, why);
            }
        }
        break;
    default:
        break;
    }
    det_broker(e);
    return st;
}

/* ---- events --------------------------------------------------------------------------- */

/* A rejected intent is remembered, so that a fill for it (the order
 * reached the broker anyway) is recognised. An open order with the same
 * id stays as it is. */
static enum wd_status remember_rejected(struct wd_engine *e, const struct wd_event *ev,
                                        const char *reason)
{
    if (om_find(&e->orders, ev->u.intent.id) != NULL) {
        return WD_OK;
    }
    return rej_add(&e->rejected, ev->u.intent.id, reason_code(reason));
}

/* P0-3 on a fill: halt the account, cancel its orders, open one incident
 * per account (later findings while it is open are alerts), and mark the
 * position so that `warden flatten --filter unauthorized` closes it. */
static enum wd_status unauthorized_fill(struct wd_engine *e, const struct wd_event *ev,
                                        const char *why, struct wd_error *err)
{
    char scope[WD_SCOPE_MAX], title[] = "Unauthorized trading detected";
    const struct wd_position *p = wd_book_find_position(e->book, ev->account, ev->symbol);
    if (p != NULL) {
        uint32_t pi = wd_book_position_index(e->book, p);
        if (wd__array_grow((void **)&e->det.unauth, &e->det.n_unauth, pi + 1u, 1u) != WD_OK) {
            return wd_error_set(err, WD_ENOMEM, "out of memory");
        }
        e->det.unauth[pi] = 1;
    }
    snprintf(scope, sizeof scope, "account:%s", wd_intern_name(&e->accounts, ev->account));
    uint32_t idx;
    enum wd_status st = scope_slot(e, scope, &idx, err);
    if (st != WD_OK) {
        return st;
    }
    struct wd_scope_state *sc = &e->scopes[idx];
    if (sc->state == WD_TS_HALTED && strcmp(sc->scenario, "unauthorized_trading") == 0) {
        struct wd_output a = {.type = WD_OUT_ALERT};
        a.u.alert.scenario = "unauthorized_trading";
        a.u.alert.severity = "P0";
        a.u.alert.detail = why;
        a.u.alert.scope = scope;
        emit(e, &a);
        return WD_OK;
    }
    char incident[WD_INCIDENT_ID_MAX], msg[320];
    open_incident_id(e, "unauthorized_trading", scope, incident, sizeof incident);
    snprintf(msg, sizeof msg, "%s: %s", title, why);
    emit_log(e, WD_LOG_CRIT, "detect", msg);
    struct wd_scope_state ns = *sc;
    ns.state = WD_TS_HALTED;
    ns.since_ns = e->ts_ns;
    copy_text(ns.reason, sizeof ns.reason, title);
    copy_text(ns.by, sizeof ns.by, "warden");
    copy_text(ns.scenario, sizeof ns.scenario, "unauthorized_trading");
    copy_text(ns.incident, sizeof ns.incident, incident);
    ns.ramp_until_ns = 0;
    set_slot_state(e, idx, &ns);
    emit_state(e, &e->scopes[idx]);
    emit_control(e, "halt", scope, title, incident);
    emit_control(e, "cancel_all", scope, title, incident);
    struct wd_output o = {.type = WD_OUT_INCIDENT};
    o.u.incident.id = incident;
    o.u.incident.severity = "P0";
    o.u.incident.scenario = "unauthorized_trading";
    o.u.incident.status = "open";
    o.u.incident.title = title;
    o.u.incident.detail = why;
    o.u.incident.scope = scope;
    emit(e, &o);
    return WD_OK;
}

/* Why a fill is unauthorized, or NULL. */
static const char *fill_problem(struct wd_engine *e, const struct wd_event *ev,
                                const struct order *o, char *buf, size_t cap)
{
    const struct wd_ev_fill *fl = &ev->u.fill;
    const struct wd_config *c = e->cfg;
    const struct rejected *r = o == NULL ? rej_find(&e->rejected, fl->id) : NULL;
    if (r != NULL) {
        snprintf(buf, cap, "fill for intent %.*s, which the gate rejected (%s)", (int)fl->id.len,
                 fl->id.ptr, r->reason < RS_COUNT ? k_reasons[r->reason] : "rejected");
    } else if (o == NULL && c->detect.unknown_fills) {
        snprintf(buf, cap, "fill for order %.*s, which warden never saw open", (int)fl->id.len,
                 fl->id.ptr);
    } else if (o != NULL && fl->qty > o->remaining) {
        char a[40], b[40];
        wd_fix_format(fl->qty, 0, a, sizeof a);
        wd_fix_format(o->remaining, 0, b, sizeof b);
        snprintf(buf, cap, "fill of %s for order %.*s, beyond its open quantity %s", a,
                 (int)fl->id.len, fl->id.ptr, b);
    } else if (c->limits.n_symbols > 0 && (ev->symbol >= e->n_sx || !e->sx[ev->symbol].allowed)) {
        snprintf(buf, cap, "fill in %s, a symbol not in limits.symbols",
                 wd_intern_name(&e->symbols, ev->symbol));
    } else if (!in_session(e, ev->ts_ns)) {
        snprintf(buf, cap, "fill for %.*s outside trading hours", (int)fl->id.len, fl->id.ptr);
    } else {
        const struct wd_position *p = wd_book_find_position(e->book, ev->account, ev->symbol);
        if (c->limits.box_lim > 0 && p != NULL && notional(p->qty, fl->price) > c->limits.box_lim) {
            char a[40], b[40];
            wd_fix_format(notional(p->qty, fl->price), 2, a, sizeof a);
            wd_fix_format(c->limits.box_lim, 2, b, sizeof b);
            snprintf(buf, cap, "position in %s worth %s over box_lim %s",
                     wd_intern_name(&e->symbols, ev->symbol), a, b);
        } else {
            return NULL;
        }
    }
    return buf;
}

bool wd_engine_position_unauthorized(const struct wd_engine *e, const struct wd_position *p)
{
    uint32_t pi = wd_book_position_index(e->book, p);
    return pi < e->det.n_unauth && e->det.unauth[pi] != 0;
}

static enum wd_status on_intent(struct wd_engine *e, const struct wd_event *ev,
                                struct wd_error *err)
{
    struct verdict v;
    const char *reason = gate(e, ev, &v);
    struct wd_output o = {.type = WD_OUT_DECISION};
    o.u.decision.id = ev->u.intent.id;
    o.u.decision.accept = reason == NULL;
    o.u.decision.reason = reason != NULL ? reason : "";
    o.u.decision.detail = reason != NULL ? v.detail : "";
    if (reason == NULL) {
        enum wd_status st = record_accept(e, ev, v.price);
        if (st == WD_EFULL) {
            o.u.decision.accept = false;
            o.u.decision.reason = RS(OPEN_ORDERS);
            o.u.decision.detail = "too many open orders to track";
        } else if (st != WD_OK) {
            return wd_error_set(err, st, "out of memory");
        }
    } else if (remember_rejected(e, ev, reason) != WD_OK) {
        return wd_error_set(err, WD_ENOMEM, "out of memory");
    }
    emit(e, &o);
    if (reason != NULL && strncmp(reason, "unauthorized:", 13) == 0) {
        /* Blocked, so no money moved; but an unknown source, a bad
         * signature or an order for a forbidden symbol is P0-3's symptom. */
        char detail[256];
        struct wd_output a = {.type = WD_OUT_ALERT};
        snprintf(detail, sizeof detail, "intent %.*s blocked: %s (%s)", (int)ev->u.intent.id.len,
                 ev->u.intent.id.ptr, reason, v.detail);
        a.u.alert.scenario = "unauthorized_trading";
        a.u.alert.severity = "P0";
        a.u.alert.detail = detail;
        a.u.alert.scope = "firm";
        emit(e, &a);
    }
    return WD_OK;
}

enum wd_status wd_engine_tick(struct wd_engine *e, int64_t now_ns, struct wd_error *err)
{
    if (now_ns <= e->ts_ns) {
        return WD_OK; /* event time is ahead: nothing has aged */
    }
    e->ts_ns = now_ns;
    if (e->n_ramping > 0) {
        advance_ramps(e);
    }
    dq_staleness(e);
    det_broker(e);
    return check_all_kills(e, err);
}

enum wd_status wd_engine_process(struct wd_engine *e, const struct wd_event *ev,
                                 uint64_t event_no, struct wd_error *err)
{
    struct wd_error berr = {0};
    enum wd_status st;
    e->event_no = event_no;
    e->ts_ns = ev->ts_ns;
    if (ev->symbol != WD_NO_ID && (st = ensure_sym(e, ev->symbol)) != WD_OK) {
        return wd_error_set(err, st, "out of memory");
    }
    if ((st = ensure_acct(e, ev->account)) != WD_OK) {
        return wd_error_set(err, st, "out of memory");
    }
    if (e->n_ramping > 0) {
        advance_ramps(e);
    }

    st = wd_book_apply(e->book, ev, &berr);
    if (st == WD_ENOMEM) {
        return wd_error_set(err, st, "out of memory");
    }
    if (st != WD_OK) {
        char msg[WD_ERROR_MSG_MAX + 32];
        snprintf(msg, sizeof msg, "event refused by the book: %s", berr.msg);
        emit_log(e, WD_LOG_ERROR, "book", msg);
        if (ev->type == WD_EV_INTENT) {
            /* Every intent gets a decision: one warden cannot account for
             * is rejected. */
            struct wd_output o = {.type = WD_OUT_DECISION};
            o.u.decision.id = ev->u.intent.id;
            o.u.decision.accept = false;
            o.u.decision.reason = RS(INVALID);
            o.u.decision.detail = berr.msg;
            emit(e, &o);
        }
        return WD_OK;
    }

    if ((st = detect(e, ev)) != WD_OK) {
        return wd_error_set(err, st, "out of memory");
    }
    switch (ev->type) {
    case WD_EV_INTENT:
        return on_intent(e, ev, err);
    case WD_EV_ACK: {
        /* detect() marked it acked; a rejection or cancel ends it, and an
         * order filled before its ack ends now. */
        struct order *o = om_find(&e->orders, ev->u.ack.id);
        if (o != NULL && (ev->u.ack.status != WD_ACK_ACCEPTED || o->remaining <= 0)) {
            order_done(e, o, o->remaining);
        }
        return WD_OK;
    }
    case WD_EV_QUOTE:
        e->sx[ev->symbol].quote_ts = ev->ts_ns;
        (void)wd_book_mark(e->book, ev->symbol, &e->sx[ev->symbol].mid);
        return check_all_kills(e, err);
    case WD_EV_FILL: {
        struct order *o = om_find(&e->orders, ev->u.fill.id);
        char why[256];
        if (fill_problem(e, ev, o, why, sizeof why) != NULL &&
            (st = unauthorized_fill(e, ev, why, err)) != WD_OK) {
            return st;
        }
        if (o != NULL) {
            order_done(e, o, ev->u.fill.qty);
        }
        return check_all_kills(e, err);
    }
    case WD_EV_TRADE:
    case WD_EV_ACCOUNT:
        return check_all_kills(e, err);
    default:
        return WD_OK;
    }
}

/* ---- snapshots ------------------------------------------------------------------------ */

#define ENGINE_MAGIC 0x4e454457u /* "WDEN" */
#define ENGINE_VERSION 5u

static void save_kills(struct wd_wbuf *w, const struct kill_state *k)
{
    wd_w_u8(w, (uint8_t)((k->pnl_on ? 1u : 0u) | (k->dd_on ? 2u : 0u) | (k->psr_on ? 4u : 0u) |
                         (k->psr != NULL ? 8u : 0u)));
    if (k->psr == NULL) {
        return;
    }
    const struct wd_psr_window *p = k->psr;
    wd_w_i64(w, p->interval_ns);
    wd_w_u32(w, p->window);
    wd_w_i64(w, p->next_sample_ns);
    wd_w_u8(w, p->has_last ? 1u : 0u);
    wd_w_f64(w, p->last_equity);
    wd_w_u32(w, p->count);
    for (uint32_t i = 0; i < p->count; i++) {
        /* oldest first: head is the oldest return (src/core/psr.c) */
        wd_w_f64(w, p->r[(p->head + i) % p->window]);
    }
}

static enum wd_status load_kills(const struct wd_engine *e, struct wd_rbuf *r, struct kill_state *k)
{
    uint8_t fl = wd_r_u8(r);
    k->pnl_on = (fl & 1u) != 0;
    k->dd_on = (fl & 2u) != 0;
    k->psr_on = (fl & 4u) != 0;
    if (!(fl & 8u)) {
        return WD_OK;
    }
    struct wd_psr_window saved;
    saved.interval_ns = wd_r_i64(r);
    saved.window = wd_r_u32(r);
    saved.next_sample_ns = wd_r_i64(r);
    saved.has_last = wd_r_u8(r) != 0;
    saved.last_equity = wd_r_f64(r);
    uint32_t count = wd_r_u32(r);
    if (r->bad || count > WD_PSR_MAX_WINDOW || saved.window > WD_PSR_MAX_WINDOW ||
        count > saved.window) {
        return WD_EINVAL;
    }
    free(k->psr);
    k->psr = malloc(sizeof *k->psr);
    if (k->psr == NULL ||
        wd_psr_window_init(k->psr, e->cfg->limits.psr.interval_s, e->cfg->limits.psr.window) !=
            WD_OK) {
        return WD_ENOMEM;
    }
    struct wd_psr_window *p = k->psr;
    bool same = saved.interval_ns == p->interval_ns && saved.window == p->window;
    for (uint32_t i = 0; i < count; i++) {
        double v = wd_r_f64(r);
        if (same) {
            p->r[(p->head + p->count) % p->window] = v;
            p->count++;
        }
    }
    /* A changed psr.window or psr.interval_s starts the window afresh. */
    if (same) {
        p->next_sample_ns = saved.next_sample_ns;
        p->has_last = saved.has_last;
        p->last_equity = saved.last_equity;
    }
    return r->bad ? WD_EINVAL : WD_OK;
}

static void save_str(struct wd_wbuf *w, const char *s) { wd_w_bytes(w, s, strlen(s)); }

/* A symbol's bar ring: its cadence, first bar, last evaluation and the
 * bar times, oldest first. */
static void save_bars(struct wd_wbuf *w, const struct bar_ring *b)
{
    wd_w_u32(w, b != NULL ? b->count + 1u : 0u);
    if (b == NULL) {
        return;
    }
    wd_w_i64(w, b->interval_ns);
    wd_w_i64(w, b->first_ns);
    wd_w_u32(w, b->due);
    wd_w_u8(w, b->incomplete ? 1u : 0u);
    for (uint32_t k = 0; k < b->count; k++) {
        wd_w_i64(w, b->ts[(b->head + k) % b->cap]);
    }
}

static enum wd_status load_bars(struct wd_engine *e, struct wd_rbuf *r, struct sym_x *sx)
{
    uint32_t n = wd_r_u32(r);
    if (n == 0 || r->bad) {
        return r->bad ? WD_EINVAL : WD_OK;
    }
    int64_t interval = wd_r_i64(r), window = e->cfg->detect.completeness.window_s * WD_NS_PER_S;
    /* The ring fits this configuration's window and every saved bar. */
    uint32_t cap = interval > 0 ? (uint32_t)(window / interval) + 1u : 0u;
    if (interval < WD_NS_PER_S || interval % WD_NS_PER_S != 0 || interval > window ||
        n - 1u > 1000000u) {
        return WD_EINVAL; /* never saved so */
    }
    struct bar_ring *b = malloc(sizeof *b + (size_t)(cap > n ? cap : n) * sizeof b->ts[0]);
    if (b == NULL) {
        return WD_ENOMEM;
    }
    b->interval_ns = interval;
    b->first_ns = wd_r_i64(r);
    b->due = wd_r_u32(r);
    b->incomplete = wd_r_u8(r) != 0;
    b->cap = cap > n ? cap : n;
    b->head = 0;
    b->count = n - 1u;
    bool sorted = true;
    for (uint32_t k = 0; k < b->count; k++) {
        b->ts[k] = wd_r_i64(r);
        sorted = sorted && (k == 0 || b->ts[k] > b->ts[k - 1u]);
    }
    if (!sorted || r->bad) {
        free(b);
        return WD_EINVAL;
    }
    free(sx->bars);
    sx->bars = b;
    e->det.n_incomplete += b->incomplete ? 1u : 0u;
    return r->bad ? WD_EINVAL : WD_OK;
}

static void save_hyst(struct wd_wbuf *w, const struct wd_hyst *h)
{
    wd_w_u8(w, h->open ? 1u : 0u);
    wd_w_i64(w, h->since_ns);
}

static void load_hyst(struct wd_rbuf *r, struct wd_hyst *h)
{
    h->open = wd_r_u8(r) != 0;
    h->since_ns = wd_r_i64(r);
}

static void save_slot(struct wd_wbuf *w, const struct det_slot *s)
{
    wd_w_u8(w, s->open ? 1u : 0u);
    wd_w_u8(w, s->severity);
    save_str(w, s->incident);
}

static void load_text(struct wd_rbuf *r, char *dst, size_t cap)
{
    size_t n;
    const char *p = wd_r_bytes(r, cap - 1u, &n);
    memcpy(dst, p, n);
    dst[n] = '\0';
}

static void load_slot(struct wd_rbuf *r, struct det_slot *s)
{
    s->open = wd_r_u8(r) != 0;
    s->severity = wd_r_u8(r);
    if (s->severity > WD_P3) {
        r->bad = true;
    }
    load_text(r, s->incident, sizeof s->incident);
}

/* The detectors' windows and latches, so that a resumed replay opens and
 * closes incidents exactly as an uninterrupted one. */
static void save_detectors(struct wd_wbuf *w, const struct detectors *d)
{
    wd_w_u32(w, d->rej.count);
    for (uint32_t i = 0; i < d->rej.count; i++) {
        uint32_t k = (d->rej.head + i) % d->rej.cap;
        uint8_t rr = d->rej.reason[k];
        wd_w_i64(w, d->rej.ts[k]);
        wd_w_u8(w, rr != 0 ? 1u : 0u);
        save_str(w, rr != 0 ? d->rej.reasons[rr - 1u].text : "");
    }
    save_hyst(w, &d->rej_h);
    save_slot(w, &d->rej_s);
    wd_w_u32(w, d->lat.count);
    for (uint32_t i = 0; i < d->lat.count; i++) {
        const struct wd_hist_sample *sm = &d->lat.ring[(d->lat.head + i) % d->lat.cap];
        wd_w_i64(w, sm->ts_ns);
        wd_w_i64(w, sm->value_ns);
    }
    save_hyst(w, &d->lat_h);
    save_slot(w, &d->lat_s);
    save_hyst(w, &d->lag_h);
    wd_w_u8(w, (uint8_t)((d->kafka_down ? 1u : 0u) | (d->broker_seen ? 2u : 0u) |
                         (d->broker_down ? 4u : 0u) | (d->market_seen ? 8u : 0u)));
    save_slot(w, &d->bus_s);
    wd_w_i64(w, d->broker_hb_ns);
    wd_w_i64(w, d->market_ns);
    save_slot(w, &d->broker_s);
    save_str(w, d->broker_why);
    for (unsigned i = 0; i < 4; i++) {
        wd_w_u8(w, d->seq_seen[i] ? 1u : 0u);
        wd_w_u64(w, d->seq_last[i]);
    }
    save_slot(w, &d->dq_s);
    wd_w_u64(w, d->malformed);
    wd_w_i64(w, d->dq_session);
}

static enum wd_status load_detectors(struct wd_rbuf *r, struct detectors *d)
{
    uint32_t n = wd_r_u32(r);
    for (uint32_t i = 0; i < n && !r->bad; i++) {
        int64_t ts = wd_r_i64(r);
        bool rejected = wd_r_u8(r) != 0;
        size_t len;
        const char *p = wd_r_bytes(r, WD_REJECT_REASON_MAX, &len);
        if (!r->bad) {
            wd_reject_add(&d->rej, ts, rejected, (struct wd_str){p, (uint32_t)len});
        }
    }
    load_hyst(r, &d->rej_h);
    load_slot(r, &d->rej_s);
    n = wd_r_u32(r);
    for (uint32_t i = 0; i < n && !r->bad; i++) {
        int64_t ts = wd_r_i64(r), v = wd_r_i64(r);
        if (!r->bad && wd_hist_window_add(&d->lat, ts, v) != WD_OK) {
            return WD_EINVAL;
        }
    }
    load_hyst(r, &d->lat_h);
    load_slot(r, &d->lat_s);
    load_hyst(r, &d->lag_h);
    uint8_t fl = wd_r_u8(r);
    d->kafka_down = (fl & 1u) != 0;
    d->broker_seen = (fl & 2u) != 0;
    d->broker_down = (fl & 4u) != 0;
    d->market_seen = (fl & 8u) != 0;
    load_slot(r, &d->bus_s);
    d->broker_hb_ns = wd_r_i64(r);
    d->market_ns = wd_r_i64(r);
    load_slot(r, &d->broker_s);
    load_text(r, d->broker_why, sizeof d->broker_why);
    for (unsigned i = 0; i < 4; i++) {
        d->seq_seen[i] = wd_r_u8(r) != 0;
        d->seq_last[i] = wd_r_u64(r);
    }
    load_slot(r, &d->dq_s);
    d->malformed = wd_r_u64(r);
    d->dq_session = wd_r_i64(r);
    return r->bad ? WD_EINVAL : WD_OK;
}

static const struct kill_state k_no_kills; /* an account without side state */

/* Whether a section takes account id (want NULL: every one). */
static bool wants(const bool *want, uint32_t id) { return want == NULL || want[id]; }

/* The kill-switch latches and PSR windows per account: every account with
 * side state (want NULL), or the wanted ones (by account id, book slots). */
static void save_kill_section(struct wd_wbuf *w, const struct wd_engine *e, const bool *want)
{
    uint32_t n = 0, end = want == NULL ? e->n_ax : wd_book_account_slots(e->book);
    end = end < wd_intern_count(&e->accounts) ? end : wd_intern_count(&e->accounts);
    for (uint32_t i = 0; i < end; i++) {
        n += wants(want, i) ? 1u : 0u;
    }
    wd_w_u32(w, n);
    for (uint32_t i = 0; i < end; i++) {
        if (wants(want, i)) {
            save_str(w, wd_intern_name(&e->accounts, i));
            save_kills(w, i < e->n_ax ? &e->ax[i].ks : &k_no_kills);
        }
    }
}

static void save_order(struct wd_wbuf *w, const struct wd_engine *e, const struct order *o)
{
    wd_w_bytes(w, o->id, o->id_len);
    save_str(w, wd_intern_name(&e->accounts, o->account));
    save_str(w, wd_intern_name(&e->symbols, o->symbol));
    wd_w_u8(w, (uint8_t)((o->side > 0 ? 1u : 0u) | (o->acked ? 2u : 0u)));
    wd_w_i64(w, o->remaining);
    wd_w_i64(w, o->price);
    wd_w_i64(w, o->intent_ns);
}

static void save_order_section(struct wd_wbuf *w, const struct wd_engine *e, const bool *want)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i <= e->orders.mask; i++) {
        const struct order *o = &e->orders.slots[i];
        n += o->slot == SLOT_USED && wants(want, o->account) ? 1u : 0u;
    }
    wd_w_u32(w, n);
    for (uint32_t i = 0; i <= e->orders.mask; i++) {
        const struct order *o = &e->orders.slots[i];
        if (o->slot == SLOT_USED && wants(want, o->account)) {
            save_order(w, e, o);
        }
    }
}

/* Positions marked by unauthorized fills, by name. */
static void save_unauth_section(struct wd_wbuf *w, const struct wd_engine *e, const bool *want)
{
    uint32_t nu = 0;
    for (uint32_t i = 0; i < e->det.n_unauth; i++) {
        const struct wd_position *p = wd_book_position(e->book, i);
        nu += e->det.unauth[i] != 0 && p != NULL && wants(want, p->account) ? 1u : 0u;
    }
    wd_w_u32(w, nu);
    for (uint32_t i = 0; i < e->det.n_unauth; i++) {
        const struct wd_position *p = wd_book_position(e->book, i);
        if (e->det.unauth[i] != 0 && p != NULL && wants(want, p->account)) {
            save_str(w, wd_intern_name(&e->accounts, p->account));
            save_str(w, wd_intern_name(&e->symbols, p->symbol));
        }
    }
}

void wd_engine_save(const struct wd_engine *e, struct wd_wbuf *w)
{
    wd_w_u32(w, ENGINE_MAGIC);
    wd_w_u32(w, ENGINE_VERSION);
    wd_book_save(e->book, w);
    save_kills(w, &e->firm_ks);
    save_kill_section(w, e, NULL);
    uint32_t n = 0;
    for (uint32_t i = 0; i < e->n_sx && i < wd_intern_count(&e->symbols); i++) {
        n += e->sx[i].quote_ts != 0 || e->sx[i].listed ? 1u : 0u;
    }
    wd_w_u32(w, n);
    for (uint32_t i = 0; i < e->n_sx && i < wd_intern_count(&e->symbols); i++) {
        if (e->sx[i].quote_ts != 0 || e->sx[i].listed) {
            save_str(w, wd_intern_name(&e->symbols, i));
            wd_w_i64(w, e->sx[i].mid);
            wd_w_i64(w, e->sx[i].quote_ts);
            wd_w_i64(w, e->sx[i].market_ts);
            wd_w_u8(w, e->sx[i].listed ? 1u : 0u);
            save_bars(w, e->sx[i].bars);
        }
    }
    save_order_section(w, e, NULL);
    /* Rejected intents still remembered, oldest first. */
    const struct rej_ring *rr = &e->rejected;
    wd_w_u32(w, rr->count);
    for (uint32_t k = 0; k < rr->count; k++) {
        const struct rejected *x = &rr->ring[(rr->head + k) & (REJ_CAP - 1u)];
        wd_w_bytes(w, x->id, x->id_len);
        save_str(w, x->reason < RS_COUNT ? k_reasons[x->reason] : "");
    }
    save_detectors(w, &e->det);
    save_unauth_section(w, e, NULL);
}

/* An order as save_order wrote it; names are views into the buffer. */
struct order_rec {
    struct wd_str id, account, symbol;
    uint8_t flags;
    wd_fix remaining, price;
    int64_t intent_ns;
};

/* false: malformed (never saved so). */
static bool read_order(struct wd_rbuf *r, struct order_rec *o)
{
    size_t n;
    o->id.ptr = wd_r_bytes(r, ORDER_ID_MAX, &n);
    o->id.len = (uint32_t)n;
    o->account.ptr = wd_r_bytes(r, WD_INTERN_NAME_MAX, &n);
    o->account.len = (uint32_t)n;
    o->symbol.ptr = wd_r_bytes(r, WD_INTERN_NAME_MAX, &n);
    o->symbol.len = (uint32_t)n;
    o->flags = wd_r_u8(r);
    o->remaining = wd_r_i64(r);
    o->price = wd_r_i64(r);
    o->intent_ns = wd_r_i64(r);
    bool acked = (o->flags & 2u) != 0;
    return !r->bad && o->id.len > 0 && o->account.len > 0 && o->symbol.len > 0 &&
           o->remaining >= 0 && !(o->remaining == 0 && acked) && o->price >= 0;
}

/* Opens a read order (its slot from om_upsert) for account id, symbol sym:
 * its exposure joins the account's and its position's. */
static enum wd_status open_order(struct wd_engine *e, struct order *o, const struct order_rec *rec,
                                 uint32_t id, uint32_t sym)
{
    o->account = id;
    o->symbol = sym;
    o->side = (rec->flags & 1u) ? 1 : -1;
    o->remaining = rec->remaining;
    o->price = rec->price;
    o->intent_ns = rec->intent_ns;
    o->acked = (rec->flags & 2u) != 0;
    e->ax[id].open_notional += notional(o->remaining, o->price);
    const struct wd_position *p = wd_book_find_position(e->book, id, sym);
    o->pos = p != NULL ? wd_book_position_index(e->book, p) : NO_POS;
    return po_add(e, o, o->remaining);
}

static enum wd_status read_name(struct wd_rbuf *r, struct wd_intern *t, uint32_t *id)
{
    size_t n;
    const char *p = wd_r_bytes(r, WD_INTERN_NAME_MAX, &n);
    return r->bad ? WD_EINVAL : wd_intern_get(t, p, n, id);
}

enum wd_status wd_engine_load(struct wd_engine *e, const void *data, size_t len,
                              struct wd_error *err)
{
    struct wd_rbuf r;
    enum wd_status st;
    uint32_t n, id, sym;
    wd_rbuf_init(&r, data, len);
    if (wd_r_u32(&r) != ENGINE_MAGIC) {
        return wd_error_set(err, WD_EINVAL, "not an engine snapshot");
    }
    uint32_t version = wd_r_u32(&r);
    if (version != ENGINE_VERSION) {
        return wd_error_set(err, WD_EINVAL,
                            "engine snapshot format %u, this warden reads format %u only",
                            version, ENGINE_VERSION);
    }
    if ((st = wd_book_load(e->book, &r, err)) != WD_OK) {
        return st;
    }
    if ((st = load_kills(e, &r, &e->firm_ks)) != WD_OK) {
        goto bad;
    }
    n = wd_r_u32(&r);
    for (uint32_t k = 0; k < n && !r.bad; k++) {
        if ((st = read_name(&r, &e->accounts, &id)) != WD_OK || (st = ensure_acct(e, id)) != WD_OK ||
            (st = load_kills(e, &r, &e->ax[id].ks)) != WD_OK) {
            goto bad;
        }
    }
    n = wd_r_u32(&r);
    for (uint32_t k = 0; k < n && !r.bad; k++) {
        if ((st = read_name(&r, &e->symbols, &sym)) != WD_OK || (st = ensure_sym(e, sym)) != WD_OK) {
            goto bad;
        }
        e->sx[sym].mid = wd_r_i64(&r);
        e->sx[sym].quote_ts = wd_r_i64(&r);
        e->sx[sym].market_ts = wd_r_i64(&r);
        e->sx[sym].listed = wd_r_u8(&r) != 0;
        if ((st = load_bars(e, &r, &e->sx[sym])) != WD_OK) {
            goto bad;
        }
    }
    n = wd_r_u32(&r);
    for (uint32_t k = 0; k < n && !r.bad; k++) {
        struct order_rec orec;
        struct order *o;
        bool dup;
        if (!read_order(&r, &orec)) {
            st = WD_EINVAL;
            goto bad;
        }
        if ((st = wd_intern_get(&e->accounts, orec.account.ptr, orec.account.len, &id)) != WD_OK ||
            (st = wd_intern_get(&e->symbols, orec.symbol.ptr, orec.symbol.len, &sym)) != WD_OK ||
            (st = ensure_acct(e, id)) != WD_OK || (st = ensure_sym(e, sym)) != WD_OK ||
            (st = om_upsert(&e->orders, orec.id, &o, &dup)) != WD_OK) {
            goto bad;
        }
        if (dup) {
            st = WD_EINVAL;
            goto bad;
        }
        if ((st = open_order(e, o, &orec, id, sym)) != WD_OK) {
            goto bad;
        }
    }
    n = wd_r_u32(&r);
    for (uint32_t k = 0; k < n && !r.bad; k++) {
        size_t idn;
        const char *idp = wd_r_bytes(&r, ORDER_ID_MAX, &idn);
        char reason[32];
        load_text(&r, reason, sizeof reason);
        if (r.bad || idn == 0) {
            st = WD_EINVAL;
            goto bad;
        }
        if ((st = rej_add(&e->rejected, (struct wd_str){idp, (uint32_t)idn},
                          reason_code(reason))) != WD_OK) {
            goto bad;
        }
    }
    if ((st = load_detectors(&r, &e->det)) != WD_OK) {
        goto bad;
    }
    n = wd_r_u32(&r);
    for (uint32_t k = 0; k < n && !r.bad; k++) {
        const struct wd_position *p;
        if ((st = read_name(&r, &e->accounts, &id)) != WD_OK ||
            (st = read_name(&r, &e->symbols, &sym)) != WD_OK) {
            goto bad;
        }
        if ((p = wd_book_find_position(e->book, id, sym)) == NULL) {
            st = WD_EINVAL;
            goto bad;
        }
        uint32_t pi = wd_book_position_index(e->book, p);
        if ((st = wd__array_grow((void **)&e->det.unauth, &e->det.n_unauth, pi + 1u, 1u)) !=
            WD_OK) {
            goto bad;
        }
        e->det.unauth[pi] = 1;
    }
    if (r.bad || r.pos != r.len) {
        st = WD_EINVAL;
        goto bad;
    }
    return WD_OK;
bad:
    return wd_error_set(err, st == WD_OK ? WD_EINVAL : st, "engine snapshot is damaged (%s)",
                        wd_status_str(st));
}

/* ---- account handover ------------------------------------------------------------------- */

/* An account record (docs/internals/ENGINE.md, "Account handover"):
 *     magic, version
 *     the book part (wd_book_save_accounts)
 *     kill-switch latches and PSR windows   save_kill_section
 *     open orders                           save_order_section
 *     unauthorized marks                    save_unauth_section
 * each section written by the same code as the whole snapshot's, for the
 * wanted accounts only. */
#define ACCT_MAGIC 0x43414457u /* "WDAC" */
#define ACCT_VERSION 1u

/* By account id (book slots): the present accounts want(ctx, name) takes. */
static bool *wanted(const struct wd_engine *e, wd_account_pred want, void *ctx)
{
    uint32_t n = wd_book_account_slots(e->book);
    bool *v = calloc(n ? n : 1u, sizeof *v);
    for (uint32_t id = 0; v != NULL && id < n; id++) {
        v[id] = wd_book_account(e->book, id) != NULL &&
                want(ctx, wd_intern_name(&e->accounts, id));
    }
    return v;
}

void wd_engine_save_accounts(const struct wd_engine *e, wd_account_pred want, void *ctx,
                             struct wd_wbuf *w)
{
    bool *v = wanted(e, want, ctx);
    if (v == NULL) {
        w->st = WD_ENOMEM;
        return;
    }
    wd_w_u32(w, ACCT_MAGIC);
    wd_w_u32(w, ACCT_VERSION);
    wd_book_save_accounts(e->book, v, w);
    save_kill_section(w, e, v);
    save_order_section(w, e, v);
    save_unauth_section(w, e, v);
    free(v);
}

/* A set of account ids: v[id] for id < n, or the single id `only` when v
 * is NULL. */
struct acct_set {
    const bool *v;
    uint32_t n, only;
};

static bool in_set(const struct acct_set *s, uint32_t id)
{
    return s->v != NULL ? id < s->n && s->v[id] : id == s->only;
}

/* Forgets the accounts of s: their open orders, the open quantities and
 * marks of their positions, their side state (rate window, latches, PSR
 * window; the scope reference stays), their book state. */
static void drop_set(struct wd_engine *e, const struct acct_set *s)
{
    for (uint32_t i = 0; i <= e->orders.mask; i++) {
        struct order *o = &e->orders.slots[i];
        if (o->slot == SLOT_USED && in_set(s, o->account)) {
            om_remove(&e->orders, o);
        }
    }
    for (size_t i = 0; i < wd_book_position_count(e->book); i++) {
        if (in_set(s, wd_book_position(e->book, i)->account)) {
            if (i < e->n_po) {
                e->po[i] = (struct pos_open){0, 0};
            }
            if (i < e->det.n_unauth) {
                e->det.unauth[i] = 0;
            }
        }
    }
    for (uint32_t id = 0; id < wd_book_account_slots(e->book) || id < e->n_ax; id++) {
        if (!in_set(s, id)) {
            continue;
        }
        if (id < e->n_ax) {
            struct acct_x *ax = &e->ax[id];
            ax->open_notional = 0;
            ax->rate_head = ax->rate_count = 0;
            kill_state_free(&ax->ks);
            memset(&ax->ks, 0, sizeof ax->ks);
        }
        wd_book_drop_account(e->book, id);
    }
}

void wd_engine_drop_accounts(struct wd_engine *e, wd_account_pred want, void *ctx)
{
    bool *v = wanted(e, want, ctx);
    if (v != NULL) {
        struct acct_set s = {v, wd_book_account_slots(e->book), 0};
        drop_set(e, &s);
        free(v);
        return;
    }
    /* Out of memory for the set: one account at a time. */
    for (uint32_t id = 0; id < wd_book_account_slots(e->book); id++) {
        if (wd_book_account(e->book, id) != NULL && want(ctx, wd_intern_name(&e->accounts, id))) {
            struct acct_set s = {NULL, 0, id};
            drop_set(e, &s);
        }
    }
}

/* The engine sections of an account record, checked against the record's
 * book part (rec) and this engine, changing nothing: the number of orders
 * it opens in *n_orders, whether it marks positions in *n_unauth. */
static enum wd_status check_sections(const struct wd_engine *e, struct wd_rbuf *r,
                                     const struct wd_book_record *rec, struct wd_intern *ids,
                                     uint32_t *n_orders, uint32_t *n_unauth, struct wd_error *err)
{
    uint32_t n = wd_r_u32(r), rid, sid, before;
    for (uint32_t k = 0; k < n; k++) {
        size_t len;
        const char *p = wd_r_bytes(r, WD_INTERN_NAME_MAX, &len);
        struct kill_state tmp = {0};
        enum wd_status st = r->bad ? WD_EINVAL : load_kills(e, r, &tmp);
        kill_state_free(&tmp);
        if (st != WD_OK || wd_intern_find(&rec->accounts, p, len, &rid) != WD_OK) {
            return wd_error_set(err, st == WD_ENOMEM ? st : WD_EINVAL,
                                "account record: bad kill-switch entry #%u", k + 1u);
        }
    }
    n = wd_r_u32(r);
    if (r->bad || n > r->len) {
        return wd_error_set(err, WD_EINVAL, "account record: truncated");
    }
    /* Orders open here for the record's accounts leave before it loads. */
    uint32_t leaving = 0;
    for (uint32_t i = 0; i <= e->orders.mask; i++) {
        const struct order *o = &e->orders.slots[i];
        const char *an = o->slot == SLOT_USED ? wd_intern_name(&e->accounts, o->account) : NULL;
        leaving += an != NULL && wd_intern_find(&rec->accounts, an, strlen(an), &rid) == WD_OK;
    }
    for (uint32_t k = 0; k < n; k++) {
        struct order_rec o;
        if (!read_order(r, &o) || wd_intern_find(&rec->accounts, o.account.ptr, o.account.len,
                                                 &rid) != WD_OK) {
            return wd_error_set(err, WD_EINVAL, "account record: bad order #%u", k + 1u);
        }
        before = wd_intern_count(ids);
        enum wd_status st = wd_intern_get(ids, o.id.ptr, o.id.len, &sid);
        if (st != WD_OK || wd_intern_count(ids) == before) {
            return wd_error_set(err, st == WD_ENOMEM ? st : WD_EINVAL,
                                "account record: order %.*s twice", (int)o.id.len, o.id.ptr);
        }
        const struct order *mine = om_find(&e->orders, o.id);
        const char *an = mine != NULL ? wd_intern_name(&e->accounts, mine->account) : NULL;
        if (an != NULL && wd_intern_find(&rec->accounts, an, strlen(an), &rid) != WD_OK) {
            return wd_error_set(err, WD_EINVAL,
                                "account record: order %.*s is open here for account %s",
                                (int)o.id.len, o.id.ptr, an);
        }
    }
    if ((uint64_t)e->orders.used - leaving + n > e->orders.max) {
        return wd_error_set(err, WD_EFULL, "account record: more open orders than the %u allowed",
                            e->orders.max);
    }
    *n_orders = n;
    n = wd_r_u32(r);
    for (uint32_t k = 0; k < n; k++) {
        size_t an, sn, kn;
        char key[32];
        const char *ap = wd_r_bytes(r, WD_INTERN_NAME_MAX, &an);
        const char *sp = wd_r_bytes(r, WD_INTERN_NAME_MAX, &sn);
        uint32_t pid;
        if (r->bad || wd_intern_find(&rec->accounts, ap, an, &rid) != WD_OK ||
            wd_intern_find(&rec->symbols, sp, sn, &sid) != WD_OK) {
            return wd_error_set(err, WD_EINVAL, "account record: bad unauthorized mark #%u", k + 1u);
        }
        int kl = snprintf(key, sizeof key, "%u:%u", rid, sid);
        kn = kl > 0 ? (size_t)kl : 0u;
        if (wd_intern_find(&rec->positions, key, kn, &pid) != WD_OK) {
            return wd_error_set(err, WD_EINVAL, "account record: unauthorized mark #%u: no such "
                                "position", k + 1u);
        }
    }
    *n_unauth = n;
    if (r->bad || r->pos != r->len) {
        return wd_error_set(err, WD_EINVAL, "account record: %s",
                            r->bad ? "truncated" : "trailing bytes");
    }
    return WD_OK;
}

/* Reads a name the book's reserve step interned into t. */
static uint32_t interned(struct wd_rbuf *r, const struct wd_intern *t)
{
    size_t n;
    uint32_t id = WD_NO_ID;
    const char *p = wd_r_bytes(r, WD_INTERN_NAME_MAX, &n);
    return wd_intern_find(t, p, n, &id) == WD_OK ? id : WD_NO_ID;
}

enum wd_status wd_engine_load_accounts(struct wd_engine *e, const void *data, size_t len,
                                       size_t *n, struct wd_error *err)
{
    struct wd_rbuf r, book_at, kills_at, orders_at;
    struct wd_book_record rec;
    struct wd_intern ids;
    struct kill_state *ks = NULL;
    bool *set = NULL;
    uint32_t n_orders = 0, n_unauth = 0, nacc = 0, id, sym;
    enum wd_status st;
    *n = 0;
    wd_rbuf_init(&r, data, len);
    if (wd_r_u32(&r) != ACCT_MAGIC || wd_r_u32(&r) != ACCT_VERSION) {
        return wd_error_set(err, WD_EINVAL, "not an account record (magic or version)");
    }
    if (wd_book_record_init(&rec) != WD_OK) {
        return wd_error_set(err, WD_ENOMEM, "out of memory");
    }
    if (wd_intern_init(&ids, e->orders.max) != WD_OK) {
        wd_book_record_destroy(&rec);
        return wd_error_set(err, WD_ENOMEM, "out of memory");
    }
    /* 1. Check everything; nothing changes. */
    book_at = r;
    if ((st = wd_book_check_accounts(e->book, &r, &rec, err)) != WD_OK) {
        goto out;
    }
    kills_at = r;
    if ((st = check_sections(e, &r, &rec, &ids, &n_orders, &n_unauth, err)) != WD_OK) {
        goto out;
    }
    /* 2. Make room: interned names, grown tables, the PSR windows read;
     * nothing visible changes. */
    nacc = wd_intern_count(&rec.accounts);
    ks = calloc(nacc ? nacc : 1u, sizeof *ks);
    if (ks == NULL || (st = wd_book_reserve_accounts(e->book, &rec)) != WD_OK) {
        st = wd_error_set(err, ks == NULL ? WD_ENOMEM : st, "account record: %s",
                          wd_status_str(ks == NULL ? WD_ENOMEM : st));
        goto out;
    }
    r = kills_at;
    uint32_t nk = wd_r_u32(&r);
    for (uint32_t k = 0; k < nk; k++) {
        size_t nl;
        const char *p = wd_r_bytes(&r, WD_INTERN_NAME_MAX, &nl);
        uint32_t rid = 0;
        if (wd_intern_find(&rec.accounts, p, nl, &rid) != WD_OK ||
            (st = load_kills(e, &r, &ks[rid])) != WD_OK) {
            st = wd_error_set(err, WD_ENOMEM, "out of memory"); /* checked: only memory */
            goto out;
        }
    }
    orders_at = r;
    uint32_t slots = wd_book_account_slots(e->book), max_id = 0, max_sym = 0;
    set = calloc(slots ? slots : 1u, sizeof *set);
    if (set == NULL) {
        st = wd_error_set(err, WD_ENOMEM, "out of memory");
        goto out;
    }
    for (uint32_t i = 0; i < nacc; i++) {
        const char *name = wd_intern_name(&rec.accounts, i);
        if (wd_intern_find(&e->accounts, name, strlen(name), &id) == WD_OK) {
            set[id] = true;
            max_id = id > max_id ? id : max_id;
        }
    }
    for (uint32_t i = 0; i < wd_intern_count(&rec.symbols); i++) {
        const char *name = wd_intern_name(&rec.symbols, i);
        if (wd_intern_find(&e->symbols, name, strlen(name), &sym) == WD_OK && sym > max_sym) {
            max_sym = sym;
        }
    }
    uint32_t pos_after = (uint32_t)wd_book_position_count(e->book) + rec.new_positions;
    uint32_t slots_needed = e->orders.used + e->orders.tombs + n_orders;
    uint32_t nslots = e->orders.mask + 1u;
    while ((uint64_t)slots_needed * 2u > nslots) {
        nslots *= 2u;
    }
    if ((nslots != e->orders.mask + 1u && (st = om_rehash(&e->orders, nslots)) != WD_OK) ||
        (pos_after > 0 && (st = wd__array_grow((void **)&e->po, &e->n_po, pos_after,
                                               sizeof *e->po)) != WD_OK) ||
        (n_unauth > 0 && (st = wd__array_grow((void **)&e->det.unauth, &e->det.n_unauth,
                                              pos_after, 1u)) != WD_OK) ||
        (nacc > 0 && (st = ensure_sym(e, max_sym)) != WD_OK) ||
        (nacc > 0 && (st = ensure_acct(e, max_id)) != WD_OK)) {
        st = wd_error_set(err, st, "account record: %s", wd_status_str(st));
        goto out;
    }

    /* 3. Apply: cannot fail. The record's accounts are dropped first, so a
     * load replaces, never sums. */
    struct acct_set s = {set, slots, 0};
    drop_set(e, &s);
    r = book_at;
    wd_book_load_accounts(e->book, &r, &rec);
    for (uint32_t i = 0; i < nacc; i++) {
        const char *name = wd_intern_name(&rec.accounts, i);
        if (wd_intern_find(&e->accounts, name, strlen(name), &id) == WD_OK) {
            e->ax[id].ks = ks[i]; /* seen 0: evaluated at the next event */
            ks[i] = (struct kill_state){0};
        }
    }
    r = orders_at;
    uint32_t no = wd_r_u32(&r);
    for (uint32_t k = 0; k < no; k++) {
        struct order_rec orec;
        struct order *o;
        bool found;
        (void)read_order(&r, &orec);
        if (wd_intern_find(&e->accounts, orec.account.ptr, orec.account.len, &id) == WD_OK &&
            wd_intern_find(&e->symbols, orec.symbol.ptr, orec.symbol.len, &sym) == WD_OK &&
            om_upsert(&e->orders, orec.id, &o, &found) == WD_OK) {
            (void)open_order(e, o, &orec, id, sym); /* po has room */
        }
    }
    uint32_t nu = wd_r_u32(&r);
    for (uint32_t k = 0; k < nu; k++) {
        id = interned(&r, &e->accounts);
        sym = interned(&r, &e->symbols);
        const struct wd_position *p = wd_book_find_position(e->book, id, sym);
        if (p != NULL) {
            e->det.unauth[wd_book_position_index(e->book, p)] = 1;
        }
    }
    *n = nacc;
    st = WD_OK;
out:
    for (uint32_t i = 0; ks != NULL && i < nacc; i++) {
        kill_state_free(&ks[i]);
    }
    free(ks);
    free(set);
    wd_intern_destroy(&ids);
    wd_book_record_destroy(&rec);
    return st;
}
