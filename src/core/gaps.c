/*
 * Missing market data per symbol (see include/warden/gaps.h). Pure.
 *
 * Each stream keeps one cursor: for bars, the first slot not yet accounted
 * for (received or missing); for quotes, the time of the last data. An
 * event moves the cursor forward and turns what it skipped into gaps, so a
 * file is processed in one pass with memory per symbol, not per event.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "warden/gaps.h"
#include "warden/session.h"
#include "warden/timeutil.h"

#define MAX_INTERVAL_S 86400 /* a bar longer than a day sets no useful cadence */

struct stream {
    uint32_t symbol;
    enum wd_gap_kind kind;
    int64_t interval_ns; /* bars */
    int64_t cursor_ns;
    uint64_t expected, received, gaps, ignored;
    int64_t missing_ns;
};

struct wd_gaps {
    const struct wd_config *cfg;
    const struct wd_tz *tz;
    int64_t start_ns, end_ns, stale_ns, open_ns;
    uint32_t max_gaps;
    bool finished;

    struct stream *streams;
    uint32_t n_streams, cap_streams;
    uint32_t *index[2]; /* per kind, by symbol id: stream index + 1, 0 = none */
    uint32_t n_index[2];
    uint8_t *expect;    /* by symbol id: listed in the configuration */
    uint32_t n_expect;

    struct wd_gap *gaps;
    uint32_t n_gaps, cap_gaps;

    /* The last session answer: valid for every t in [sc_from, sc_close). */
    bool sc_valid, sc_found;
    int64_t sc_from, sc_open, sc_close;
};

const char *wd_gap_kind_name(enum wd_gap_kind k) { return k == WD_GAP_BARS ? "bars" : "quotes"; }

enum wd_status wd_gaps_new(const struct wd_gaps_opts *opts, struct wd_gaps **out)
{
    *out = NULL;
    if (opts->end_ns <= opts->start_ns || opts->cfg->detect.staleness_s < 0 ||
        opts->cfg->detect.staleness_s > INT64_MAX / WD_NS_PER_S) {
        return WD_EINVAL;
    }
    struct wd_gaps *g = calloc(1, sizeof *g);
    if (g == NULL) {
        return WD_ENOMEM;
    }
    g->cfg = opts->cfg;
    g->tz = opts->tz;
    g->start_ns = opts->start_ns;
    g->end_ns = opts->end_ns;
    g->stale_ns = opts->cfg->detect.staleness_s * WD_NS_PER_S;
    g->max_gaps = opts->max_gaps ? opts->max_gaps : WD_GAPS_DEFAULT_MAX;
    *out = g;
    return WD_OK;
}

void wd_gaps_free(struct wd_gaps *g)
{
    if (g == NULL) {
        return;
    }
    free(g->streams);
    free(g->index[0]);
    free(g->index[1]);
    free(g->expect);
    free(g->gaps);
    free(g);
}

/* The session containing t, or the next one before the window end. */
static bool session(struct wd_gaps *g, int64_t t, int64_t *o, int64_t *c)
{
    if (!g->sc_valid || t < g->sc_from || t >= g->sc_close) {
        g->sc_valid = true;
        g->sc_from = t;
        g->sc_found = wd_session_next(g->cfg, g->tz, t, g->end_ns, &g->sc_open, &g->sc_close);
        if (!g->sc_found) {
            g->sc_close = INT64_MAX;
        }
    }
    *o = g->sc_open;
    *c = g->sc_close;
    return g->sc_found;
}

static enum wd_status add_gap(struct wd_gaps *g, struct stream *st, int64_t a, int64_t b)
{
    if (g->n_gaps >= g->max_gaps) {
        return WD_EFULL;
    }
    if (g->n_gaps == g->cap_gaps &&
        wd__array_grow((void **)&g->gaps, &g->cap_gaps, g->n_gaps + 1u, sizeof *g->gaps) != WD_OK) {
        return WD_ENOMEM;
    }
    g->gaps[g->n_gaps++] = (struct wd_gap){st->symbol, st->kind, a, b};
    st->gaps++;
    st->missing_ns += b - a;
    return WD_OK;
}

/* Bars: every slot in [a, b) is missing; one gap per session. */
static enum wd_status missing_bars(struct wd_gaps *g, struct stream *st, int64_t a, int64_t b)
{
    int64_t o, c, iv = st->interval_ns;
    while (a < b && session(g, a, &o, &c) && o < b) {
        int64_t first = a > o ? a : o;
        int64_t slot = o + (first - o + iv - 1) / iv * iv;
        int64_t lim = c < b ? c : b;
        if (slot < lim) {
            int64_t n = (lim - 1 - slot) / iv + 1;
            int64_t end = slot + n * iv;
            end = end < lim ? end : lim;
            st->expected += (uint64_t)n;
            enum wd_status s = add_gap(g, st, slot, end);
            if (s != WD_OK) {
                return s;
            }
        }
        a = c;
    }
    return WD_OK;
}

/* Quotes: a silence over [a, b), judged per session against staleness. */
static enum wd_status silence(struct wd_gaps *g, struct stream *st, int64_t a, int64_t b)
{
    int64_t o, c;
    while (a < b && session(g, a, &o, &c) && o < b) {
        int64_t p0 = a > o ? a : o, p1 = b < c ? b : c;
        if (p1 - p0 > g->stale_ns) {
            enum wd_status s = add_gap(g, st, p0, p1);
            if (s != WD_OK) {
                return s;
            }
        }
        a = c;
    }
    return WD_OK;
}

static enum wd_status stream_for(struct wd_gaps *g, uint32_t symbol, enum wd_gap_kind kind,
                                 int64_t interval_ns, struct stream **out)
{
    uint32_t **idx = &g->index[kind];
    if (symbol >= g->n_index[kind] &&
        wd__array_grow((void **)idx, &g->n_index[kind], symbol + 1u, sizeof **idx) != WD_OK) {
        return WD_ENOMEM;
    }
    if ((*idx)[symbol] != 0) {
        *out = &g->streams[(*idx)[symbol] - 1u];
        return WD_OK;
    }
    if (g->n_streams == g->cap_streams &&
        wd__array_grow((void **)&g->streams, &g->cap_streams, g->n_streams + 1u,
                       sizeof *g->streams) != WD_OK) {
        return WD_ENOMEM;
    }
    struct stream *st = &g->streams[g->n_streams++];
    memset(st, 0, sizeof *st);
    st->symbol = symbol;
    st->kind = kind;
    st->interval_ns = interval_ns;
    st->cursor_ns = g->start_ns;
    (*idx)[symbol] = g->n_streams;
    *out = st;
    return WD_OK;
}

enum wd_status wd_gaps_expect(struct wd_gaps *g, uint32_t symbol)
{
    if (symbol >= g->n_expect &&
        wd__array_grow((void **)&g->expect, &g->n_expect, symbol + 1u, 1u) != WD_OK) {
        return WD_ENOMEM;
    }
    g->expect[symbol] = 1;
    return WD_OK;
}

static enum wd_status add_bar(struct wd_gaps *g, struct stream *st, int64_t t)
{
    int64_t o, c;
    if (!session(g, t, &o, &c) || o > t) {
        st->ignored++; /* outside trading hours: no slot */
        return WD_OK;
    }
    int64_t slot = o + (t - o) / st->interval_ns * st->interval_ns;
    if (slot < g->start_ns) {
        return WD_OK; /* its slot began before the window */
    }
    if (slot < st->cursor_ns) {
        st->ignored++; /* a second bar for a slot, or out of order */
        return WD_OK;
    }
    enum wd_status s = missing_bars(g, st, st->cursor_ns, slot);
    st->received++;
    st->expected++;
    st->cursor_ns = slot + st->interval_ns;
    return s;
}

enum wd_status wd_gaps_add(struct wd_gaps *g, const struct wd_event *ev)
{
    if (ev->symbol == WD_NO_ID ||
        (ev->type != WD_EV_QUOTE && ev->type != WD_EV_TRADE && ev->type != WD_EV_BAR)) {
        return WD_OK;
    }
    bool bar = ev->type == WD_EV_BAR && ev->u.bar.interval_s > 0 &&
               ev->u.bar.interval_s <= MAX_INTERVAL_S;
    struct stream *st;
    enum wd_status s;
    if (bar) {
        s = stream_for(g, ev->symbol, WD_GAP_BARS, ev->u.bar.interval_s * WD_NS_PER_S, &st);
    } else {
        s = stream_for(g, ev->symbol, WD_GAP_QUOTES, 0, &st);
    }
    if (s != WD_OK || ev->ts_ns < g->start_ns || ev->ts_ns >= g->end_ns) {
        return s;
    }
    if (bar) {
        if (ev->u.bar.interval_s * WD_NS_PER_S != st->interval_ns) {
            st->ignored++; /* another cadence than the symbol's first bar */
            return WD_OK;
        }
        return add_bar(g, st, ev->ts_ns);
    }
    if (ev->ts_ns < st->cursor_ns) {
        st->ignored++;
        return WD_OK;
    }
    s = silence(g, st, st->cursor_ns, ev->ts_ns);
    st->cursor_ns = ev->ts_ns;
    st->received++;
    return s;
}

enum wd_status wd_gaps_finish(struct wd_gaps *g, int64_t end_ns)
{
    if (g->finished || end_ns <= g->start_ns || end_ns > g->end_ns) {
        return WD_EINVAL;
    }
    g->finished = true;
    g->end_ns = end_ns;
    g->sc_valid = false;
    enum wd_status s = WD_OK;
    for (uint32_t sym = 0; sym < g->n_expect && s == WD_OK; sym++) {
        struct stream *st;
        bool has = (sym < g->n_index[0] && g->index[0][sym] != 0) ||
                   (sym < g->n_index[1] && g->index[1][sym] != 0);
        if (g->expect[sym] && !has) {
            s = stream_for(g, sym, WD_GAP_QUOTES, 0, &st);
        }
    }
    for (uint32_t i = 0; i < g->n_streams && s == WD_OK; i++) {
        struct stream *st = &g->streams[i];
        s = st->kind == WD_GAP_BARS ? missing_bars(g, st, st->cursor_ns, end_ns)
                                    : silence(g, st, st->cursor_ns, end_ns);
        st->cursor_ns = end_ns;
    }
    g->open_ns = wd_session_open_ns(g->cfg, g->tz, g->start_ns, end_ns);
    return s;
}

size_t wd_gaps_count(const struct wd_gaps *g) { return g->n_gaps; }

const struct wd_gap *wd_gaps_at(const struct wd_gaps *g, size_t i) { return &g->gaps[i]; }

size_t wd_gaps_stream_count(const struct wd_gaps *g) { return g->n_streams; }

void wd_gaps_stream(const struct wd_gaps *g, size_t i, struct wd_gap_stream *out)
{
    const struct stream *st = &g->streams[i];
    memset(out, 0, sizeof *out);
    out->symbol = st->symbol;
    out->kind = st->kind;
    out->interval_s = st->interval_ns / WD_NS_PER_S;
    out->expected = st->expected;
    out->received = st->received;
    out->open_ns = g->open_ns;
    out->gaps = st->gaps;
    out->missing_ns = st->missing_ns;
    out->ignored = st->ignored;
    if (st->kind == WD_GAP_BARS) {
        out->completeness = st->expected ? (double)st->received / (double)st->expected : 1.0;
    } else {
        out->completeness =
            g->open_ns > 0 ? 1.0 - (double)st->missing_ns / (double)g->open_ns : 1.0;
    }
}
