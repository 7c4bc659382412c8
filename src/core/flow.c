/*
 * Order-flow statistics (see include/warden/flow.h). Pure.
 *
 * Intent ids are interned (one arena, open addressing) into dense records,
 * so an ack finds its intent without a per-event allocation once the id is
 * known.
 */
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "warden/detect.h"
#include "warden/flow.h"

/* ---- tally ----------------------------------------------------------------------- */

enum wd_status wd_tally_init(struct wd_tally *t, uint32_t max_reasons)
{
    memset(t, 0, sizeof *t);
    t->max_reasons = max_reasons ? max_reasons : 1u;
    return wd_intern_init(&t->names, t->max_reasons);
}

void wd_tally_destroy(struct wd_tally *t)
{
    wd_intern_destroy(&t->names);
    free(t->counts);
    memset(t, 0, sizeof *t);
}

/* A reason over the name bound is cut before byte 61, never inside a UTF-8
 * sequence or a JSON escape (\uXXXX is the longest), then "...". */
static size_t cut_reason(const char *p, size_t n, char *buf)
{
    if (n <= WD_INTERN_NAME_MAX) {
        memcpy(buf, p, n);
        return n;
    }
    size_t k = WD_INTERN_NAME_MAX - 3u;
    while (k > 0 && ((unsigned char)p[k] & 0xC0u) == 0x80u) {
        k--;
    }
    for (size_t i = 0; i < k;) {
        size_t len = p[i] != '\\' ? 1u : p[i + 1] == 'u' ? 6u : 2u;
        if (i + len > k) {
            k = i;
            break;
        }
        i += len;
    }
    memcpy(buf, p, k);
    memcpy(buf + k, "...", 3);
    return k + 3u;
}

enum wd_status wd_tally_add(struct wd_tally *t, struct wd_str reason)
{
    char buf[WD_INTERN_NAME_MAX];
    size_t n;
    if (reason.len == 0) {
        n = strlen(WD_TALLY_NONE);
        memcpy(buf, WD_TALLY_NONE, n);
    } else {
        n = cut_reason(reason.ptr, reason.len, buf);
    }
    uint32_t id;
    if (wd_intern_find(&t->names, buf, n, &id) != WD_OK) {
        if (wd_intern_count(&t->names) >= t->max_reasons) {
            t->other++;
            t->total++;
            return WD_OK;
        }
        enum wd_status st = wd_intern_get(&t->names, buf, n, &id);
        if (st != WD_OK) {
            return st; /* ENOMEM: the bound was checked above */
        }
    }
    if (id >= t->n_counts &&
        wd__array_grow((void **)&t->counts, &t->n_counts, id + 1u, sizeof *t->counts) != WD_OK) {
        return WD_ENOMEM;
    }
    t->counts[id]++;
    t->total++;
    return WD_OK;
}

size_t wd_tally_size(const struct wd_tally *t)
{
    return wd_intern_count(&t->names) + (t->other > 0 ? 1u : 0u);
}

static int cmp_entry(const void *a, const void *b)
{
    const struct wd_tally_entry *x = a, *y = b;
    if (x->count != y->count) {
        return x->count > y->count ? -1 : 1;
    }
    return strcmp(x->reason, y->reason);
}

size_t wd_tally_sorted(const struct wd_tally *t, struct wd_tally_entry *out)
{
    size_t n = 0;
    for (uint32_t id = 0; id < wd_intern_count(&t->names); id++) {
        uint64_t c = id < t->n_counts ? t->counts[id] : 0u;
        if (c > 0) {
            out[n++] = (struct wd_tally_entry){wd_intern_name(&t->names, id), c};
        }
    }
    qsort(out, n, sizeof *out, cmp_entry);
    if (t->other > 0) {
        out[n++] = (struct wd_tally_entry){WD_TALLY_OTHER, t->other};
    }
    return n;
}

/* ---- order flow ------------------------------------------------------------------- */

enum { O_PENDING = 1u, O_ACCEPTED = 2u, O_IN_WINDOW = 4u };

struct order {
    int64_t ts_ns;
    uint32_t account;
    uint8_t flags;
};

struct acct_lat {
    struct wd_hist hist; /* counts NULL until the account's first latency */
    int64_t max_ns;
};

struct wd_flow {
    struct wd_flow_opts o;
    struct wd_intern ids;
    struct order *orders;
    uint32_t n_orders;
    struct wd_tally broker, gate;
    struct wd_reject_window rej;
    bool has_rej;
    struct wd_hist hist;
    int64_t max_ns;
    struct acct_lat *accts;
    uint32_t n_accts;
    struct wd_flow_stats s; /* counters; rates, latency, never_acked filled on demand */
    uint64_t superseded;    /* pending accepted intents whose id came again */
};

#define DEFAULT_MAX_ORDERS 10000000u
#define DEFAULT_MAX_REASONS 1000u

enum wd_status wd_flow_new(const struct wd_flow_opts *opts, struct wd_flow **out)
{
    struct wd_flow *f = calloc(1, sizeof *f);
    *out = NULL;
    if (f == NULL) {
        return WD_ENOMEM;
    }
    f->o = *opts;
    if (f->o.max_orders == 0) {
        f->o.max_orders = DEFAULT_MAX_ORDERS;
    }
    uint32_t mr = f->o.max_reasons ? f->o.max_reasons : DEFAULT_MAX_REASONS;
    enum wd_status st = wd_intern_init(&f->ids, f->o.max_orders);
    if (st == WD_OK) {
        st = wd_tally_init(&f->broker, mr);
    }
    if (st == WD_OK) {
        st = wd_tally_init(&f->gate, mr);
    }
    if (st == WD_OK) {
        st = wd_hist_init(&f->hist);
    }
    if (st == WD_OK && f->o.reject_window_s > 0 && f->o.reject_window_orders > 0) {
        st = wd_reject_init(&f->rej, f->o.reject_window_orders, f->o.reject_window_s);
        f->has_rej = st == WD_OK;
    }
    if (st != WD_OK) {
        wd_flow_free(f);
        return st;
    }
    *out = f;
    return WD_OK;
}

void wd_flow_free(struct wd_flow *f)
{
    if (f == NULL) {
        return;
    }
    wd_intern_destroy(&f->ids);
    free(f->orders);
    wd_tally_destroy(&f->broker);
    wd_tally_destroy(&f->gate);
    if (f->has_rej) {
        wd_reject_destroy(&f->rej);
    }
    wd_hist_destroy(&f->hist);
    for (uint32_t i = 0; i < f->n_accts; i++) {
        wd_hist_destroy(&f->accts[i].hist);
    }
    free(f->accts);
    free(f);
}

static bool in_window(const struct wd_flow *f, int64_t ts)
{
    return ts >= f->o.start_ns && ts < f->o.end_ns;
}

static struct order *find(struct wd_flow *f, struct wd_str id)
{
    uint32_t i;
    if (id.len == 0 || id.len > WD_INTERN_NAME_MAX ||
        wd_intern_find(&f->ids, id.ptr, id.len, &i) != WD_OK || i >= f->n_orders) {
        return NULL;
    }
    return &f->orders[i];
}

enum wd_status wd_flow_intent(struct wd_flow *f, const struct wd_event *ev)
{
    bool win = in_window(f, ev->ts_ns);
    struct wd_str id = ev->u.intent.id;
    uint32_t i;
    f->s.intents += win;
    enum wd_status st = id.len == 0 || id.len > WD_INTERN_NAME_MAX
                            ? WD_EINVAL
                            : wd_intern_get(&f->ids, id.ptr, id.len, &i);
    if (st == WD_ENOMEM) {
        return st;
    }
    if (st != WD_OK) {
        f->s.untracked += win;
        return WD_OK;
    }
    if (i >= f->n_orders &&
        wd__array_grow((void **)&f->orders, &f->n_orders, i + 1u, sizeof *f->orders) != WD_OK) {
        return WD_ENOMEM;
    }
    struct order *o = &f->orders[i];
    const uint8_t waiting = O_PENDING | O_ACCEPTED | O_IN_WINDOW;
    if ((o->flags & waiting) == waiting) {
        f->superseded++; /* the id came again before its ack */
    }
    o->ts_ns = ev->ts_ns;
    o->account = ev->account;
    o->flags = (uint8_t)(O_PENDING | O_ACCEPTED | (win ? O_IN_WINDOW : 0u));
    return WD_OK;
}

enum wd_status wd_flow_decision(struct wd_flow *f, int64_t ts_ns, struct wd_str id, bool accept,
                                const char *reason)
{
    struct order *o = find(f, id);
    if (o != NULL && o->ts_ns == ts_ns && !accept) {
        o->flags &= (uint8_t)~O_ACCEPTED;
    }
    if (!in_window(f, ts_ns)) {
        return WD_OK;
    }
    f->s.decisions++;
    if (accept) {
        return WD_OK;
    }
    f->s.gate_rejected++;
    return wd_tally_add(&f->gate, (struct wd_str){reason, (uint32_t)strlen(reason)});
}

static enum wd_status latency(struct wd_flow *f, const struct order *o, int64_t v)
{
    if (o->account >= f->n_accts &&
        wd__array_grow((void **)&f->accts, &f->n_accts, o->account + 1u, sizeof *f->accts) !=
            WD_OK) {
        return WD_ENOMEM;
    }
    struct acct_lat *a = &f->accts[o->account];
    if (a->hist.counts == NULL && wd_hist_init(&a->hist) != WD_OK) {
        return WD_ENOMEM;
    }
    if (wd_hist_record(&f->hist, v) != WD_OK || wd_hist_record(&a->hist, v) != WD_OK) {
        return WD_ERANGE; /* 2^64 samples: not reachable from a file */
    }
    f->max_ns = v > f->max_ns ? v : f->max_ns;
    a->max_ns = v > a->max_ns ? v : a->max_ns;
    return WD_OK;
}

static void peak(struct wd_flow *f, int64_t ts, bool rejected, struct wd_str reason)
{
    if (!f->has_rej) {
        return;
    }
    wd_reject_add(&f->rej, ts, rejected, reason);
    double r = wd_reject_ratio(&f->rej);
    if (f->rej.count >= f->o.reject_min_acks && r > f->s.peak_rate) {
        f->s.peak_rate = r;
        f->s.peak_ts_ns = ts;
        f->s.peak_acks = f->rej.count;
    }
}

enum wd_status wd_flow_ack(struct wd_flow *f, const struct wd_event *ev)
{
    const struct wd_ev_ack *a = &ev->u.ack;
    bool win = in_window(f, ev->ts_ns);
    enum wd_status st = WD_OK;
    if (win) {
        f->s.acks++;
        switch (a->status) {
        case WD_ACK_ACCEPTED: f->s.acks_accepted++; break;
        case WD_ACK_REJECTED: f->s.acks_rejected++; break;
        case WD_ACK_CANCELLED: f->s.acks_cancelled++; break;
        }
        if (a->status != WD_ACK_CANCELLED) {
            peak(f, ev->ts_ns, a->status == WD_ACK_REJECTED, a->reason);
        }
        if (a->status == WD_ACK_REJECTED && (st = wd_tally_add(&f->broker, a->reason)) != WD_OK) {
            return st;
        }
    }
    struct order *o = find(f, a->id);
    if (o == NULL) {
        if (a->id.len > WD_INTERN_NAME_MAX) {
            f->s.untracked += win;
        } else {
            f->s.acks_without_intent += win;
        }
        return WD_OK;
    }
    if (!(o->flags & O_PENDING)) {
        return WD_OK; /* a later ack (a cancel after the accept, ...) */
    }
    o->flags &= (uint8_t)~O_PENDING;
    if (!win) {
        return WD_OK;
    }
    int64_t v = ev->ts_ns - o->ts_ns;
    if (v < 0) {
        f->s.negative++;
        return WD_OK;
    }
    return latency(f, o, v);
}

static void fill_latency(const struct wd_hist *h, int64_t max_ns, struct wd_flow_latency *out)
{
    memset(out, 0, sizeof *out);
    out->count = wd_hist_count(h);
    if (out->count == 0) {
        return;
    }
    out->max_ns = max_ns;
    /* Valid quantiles of a non-empty histogram: never an error. */
    if (wd_hist_quantile(h, 0.50, &out->p50_ns) != WD_OK ||
        wd_hist_quantile(h, 0.95, &out->p95_ns) != WD_OK ||
        wd_hist_quantile(h, 0.99, &out->p99_ns) != WD_OK) {
        out->count = 0;
    }
    /* The exact max bounds every quantile: clamping keeps them never low
     * and makes them tighter. */
    out->p50_ns = out->p50_ns < max_ns ? out->p50_ns : max_ns;
    out->p95_ns = out->p95_ns < max_ns ? out->p95_ns : max_ns;
    out->p99_ns = out->p99_ns < max_ns ? out->p99_ns : max_ns;
}

void wd_flow_stats(const struct wd_flow *f, struct wd_flow_stats *out)
{
    *out = f->s;
    uint64_t decided = f->s.acks_accepted + f->s.acks_rejected;
    out->broker_rate = decided ? (double)f->s.acks_rejected / (double)decided : 0.0;
    out->gate_rate = f->s.decisions ? (double)f->s.gate_rejected / (double)f->s.decisions : 0.0;
    const uint8_t waiting = O_PENDING | O_ACCEPTED | O_IN_WINDOW;
    out->never_acked = f->superseded;
    for (uint32_t i = 0; i < wd_intern_count(&f->ids) && i < f->n_orders; i++) {
        out->never_acked += (f->orders[i].flags & waiting) == waiting;
    }
    fill_latency(&f->hist, f->max_ns, &out->latency);
}

const struct wd_tally *wd_flow_broker_reasons(const struct wd_flow *f) { return &f->broker; }
const struct wd_tally *wd_flow_gate_reasons(const struct wd_flow *f) { return &f->gate; }

bool wd_flow_account_latency(const struct wd_flow *f, uint32_t account,
                             struct wd_flow_latency *out)
{
    if (account >= f->n_accts || f->accts[account].hist.counts == NULL ||
        wd_hist_count(&f->accts[account].hist) == 0) {
        return false;
    }
    fill_latency(&f->accts[account].hist, f->accts[account].max_ns, out);
    return true;
}

uint32_t wd_flow_account_slots(const struct wd_flow *f) { return f->n_accts; }
