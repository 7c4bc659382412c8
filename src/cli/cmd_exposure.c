/*
 * `warden exposure` (the playbook's check_exposure, P1-3 step 3: "Check
 * current exposure"): after replaying the events through the engine, per
 * account and for the firm, the gross and net exposure and each position's
 * notional, against the limits the gate enforces: box_lim per position,
 * max_gross_exposure per account (positions plus open orders). A limit of 0
 * is no limit.
 */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cmds.h"
#include "cli/jsonout.h"
#include "warden/timeutil.h"

static const char usage_text[] =
    "Usage: warden exposure [--events FILE | FILE] [--json] [--config FILE] [--db PATH]\n"
    "\n"
    "Exposure as of the end of the input (the playbook's check_exposure): replays\n"
    "the events through the engine (trading states from the store, nothing\n"
    "written), then per account:\n"
    "  positions  symbol, quantity, mark, notional (qty x mark) and its use of\n"
    "             limits.box_lim (max |position notional| per symbol)\n"
    "  gross      sum of |position notional| + notional of open orders (the\n"
    "             gate's measure), and its use of limits.max_gross_exposure\n"
    "  net        sum of position notional (long minus short)\n"
    "and the firm's totals. A use over 100% is flagged OVER; a limit of 0 is no\n"
    "limit (shown as -). The mark is the last quote's mid, else the last trade,\n"
    "else the last fill.\n"
    "\n"
    "Options:\n"
    "  -e, --events FILE    JSON Lines events ('-' or none: stdin)\n"
    "  -c, --config FILE    YAML configuration (limits, accounts, session)\n"
    "      --db PATH        store to read trading states from (default: store.path)\n"
    "  -j, --json           one JSON object instead of the tables\n"
    "  -h, --help           this help\n"
    "\n"
    "Exit status: 0 ok (over a limit or not), 1 input unreadable, 2 usage or bad\n"
    "config.\n";

/* |v| / limit; NaN (JSON null, "-") without a limit. */
static double usage_of(wd_fix v, wd_fix limit)
{
    if (limit <= 0) {
        return NAN;
    }
    return fabs((double)v) / (double)limit;
}

static bool over(double use) { return !isnan(use) && use > 1.0; }

static void fmt_use(double use, char *buf, size_t cap)
{
    if (isnan(use)) {
        snprintf(buf, cap, "-");
    } else {
        snprintf(buf, cap, "%.2f%%%s", use * 100.0, over(use) ? " OVER" : "");
    }
}

struct acct {
    uint32_t id;
    const char *name;
    wd_fix open, gross, net;
};

struct pos {
    const struct wd_position *p;
    const char *account, *symbol;
    wd_fix mark;
};

static int cmp_acct(const void *a, const void *b)
{
    return strcmp(((const struct acct *)a)->name, ((const struct acct *)b)->name);
}

static int cmp_pos(const void *a, const void *b)
{
    const struct pos *x = a, *y = b;
    int c = strcmp(x->account, y->account);
    return c != 0 ? c : strcmp(x->symbol, y->symbol);
}

static wd_fix sat_add(wd_fix a, wd_fix b)
{
    wd_fix r;
    return __builtin_add_overflow(a, b, &r) ? INT64_MAX : r;
}

struct view {
    struct acct *accts;
    size_t n_accts;
    struct pos *pos;
    size_t n_pos;
    struct acct firm;
};

static int build(const struct cli_replay *rp, struct view *v)
{
    const struct wd_book *b = wd_engine_book(rp->engine);
    const struct wd_intern *an = wd_engine_accounts(rp->engine);
    const struct wd_intern *sn = wd_engine_symbols(rp->engine);
    uint32_t slots = wd_book_account_slots(b);
    size_t np = wd_book_position_count(b);
    memset(v, 0, sizeof *v);
    v->accts = calloc(slots ? slots : 1u, sizeof *v->accts);
    v->pos = calloc(np ? np : 1u, sizeof *v->pos);
    if (v->accts == NULL || v->pos == NULL) {
        cli_errorf("out of memory");
        return CLI_FAIL;
    }
    v->firm.name = "FIRM";
    for (uint32_t id = 0; id < slots; id++) {
        const struct wd_figures *f = wd_book_account(b, id);
        if (f == NULL) {
            continue;
        }
        struct acct *a = &v->accts[v->n_accts++];
        a->id = id;
        a->name = wd_intern_name(an, id);
        a->open = wd_engine_open_notional(rp->engine, id);
        a->gross = sat_add(f->gross, a->open);
        a->net = f->mtm;
        v->firm.open = sat_add(v->firm.open, a->open);
    }
    const struct wd_figures *ff = wd_book_firm(b);
    v->firm.gross = sat_add(ff->gross, v->firm.open);
    v->firm.net = ff->mtm;
    for (size_t i = 0; i < np; i++) {
        const struct wd_position *p = wd_book_position(b, i);
        if (p->qty == 0) {
            continue;
        }
        struct pos *q = &v->pos[v->n_pos++];
        q->p = p;
        q->account = wd_intern_name(an, p->account);
        q->symbol = wd_intern_name(sn, p->symbol);
        (void)wd_book_mark(b, p->symbol, &q->mark);
    }
    qsort(v->accts, v->n_accts, sizeof *v->accts, cmp_acct);
    qsort(v->pos, v->n_pos, sizeof *v->pos, cmp_pos);
    return CLI_OK;
}

static void json_use(struct jw *w, const char *key, double use)
{
    jw_key(w, key);
    jw_double(w, use); /* NaN: null, no limit */
    jw_key(w, "over");
    jw_bool(w, over(use));
}

static void json_totals(struct jw *w, const struct acct *a, const struct wd_figures *f)
{
    jw_key(w, "gross");
    jw_fix(w, a->gross);
    jw_key(w, "gross_positions");
    jw_fix(w, f->gross);
    jw_key(w, "open_orders");
    jw_fix(w, a->open);
    jw_key(w, "net");
    jw_fix(w, a->net);
}

static void print_json(const struct cli_replay *rp, const struct view *v)
{
    const struct wd_book *b = wd_engine_book(rp->engine);
    const struct wd_config *c = &rp->cfg;
    struct jw w;
    jw_init(&w, stdout);
    jw_obj_begin(&w);
    jw_key(&w, "as_of");
    jw_int(&w, rp->last_ts);
    jw_key(&w, "limits");
    jw_obj_begin(&w);
    jw_key(&w, "box_lim");
    jw_fix(&w, c->limits.box_lim);
    jw_key(&w, "max_gross_exposure");
    jw_fix(&w, c->limits.max_gross_exposure);
    jw_obj_end(&w);
    jw_key(&w, "accounts");
    jw_arr_begin(&w);
    size_t k = 0;
    for (size_t i = 0; i < v->n_accts; i++) {
        const struct acct *a = &v->accts[i];
        jw_obj_begin(&w);
        jw_key(&w, "account");
        jw_str(&w, a->name);
        json_totals(&w, a, wd_book_account(b, a->id));
        json_use(&w, "max_gross_use", usage_of(a->gross, c->limits.max_gross_exposure));
        jw_key(&w, "positions");
        jw_arr_begin(&w);
        for (; k < v->n_pos && strcmp(v->pos[k].account, a->name) == 0; k++) {
            const struct pos *q = &v->pos[k];
            jw_obj_begin(&w);
            jw_key(&w, "symbol");
            jw_str(&w, q->symbol);
            jw_key(&w, "qty");
            jw_fix(&w, q->p->qty);
            jw_key(&w, "mark");
            jw_fix(&w, q->mark);
            jw_key(&w, "notional");
            jw_fix(&w, q->p->mtm);
            json_use(&w, "box_lim_use", usage_of(q->p->mtm, c->limits.box_lim));
            jw_obj_end(&w);
        }
        jw_arr_end(&w);
        jw_obj_end(&w);
    }
    jw_arr_end(&w);
    jw_key(&w, "firm");
    jw_obj_begin(&w);
    json_totals(&w, &v->firm, wd_book_firm(b));
    jw_obj_end(&w);
    jw_obj_end(&w);
    jw_finish(&w);
}

static void print_table(const struct cli_replay *rp, const struct view *v)
{
    const struct wd_book *b = wd_engine_book(rp->engine);
    const struct wd_config *c = &rp->cfg;
    char ts[40], l1[48], l2[48], q[40], m[40], n[48], u[32], g[48], o[48], t[48];
    wd_time_format_utc(rp->last_ts, ts, sizeof ts);
    printf("Exposure as of %s (UTC)\n", ts);
    cli_fmt_money(c->limits.box_lim, l1, sizeof l1);
    cli_fmt_money(c->limits.max_gross_exposure, l2, sizeof l2);
    printf("limits: box_lim %s per position, max_gross_exposure %s per account\n\n",
           c->limits.box_lim > 0 ? l1 : "none",
           c->limits.max_gross_exposure > 0 ? l2 : "none");
    printf("%-12s %-10s %12s %14s %16s %14s\n", "ACCOUNT", "SYMBOL", "QTY", "MARK", "NOTIONAL",
           "BOX_LIM USE");
    for (size_t i = 0; i < v->n_pos; i++) {
        const struct pos *p = &v->pos[i];
        wd_fix_format(p->p->qty, 0, q, sizeof q);
        wd_fix_format_round(p->mark, 4, m, sizeof m);
        cli_fmt_money(p->p->mtm, n, sizeof n);
        fmt_use(usage_of(p->p->mtm, c->limits.box_lim), u, sizeof u);
        printf("%-12s %-10s %12s %14s %16s %14s\n", p->account, p->symbol, q, m, n, u);
    }
    if (v->n_pos == 0) {
        printf("(no open positions)\n");
    }
    printf("\n%-12s %16s %16s %16s %16s %14s\n", "ACCOUNT", "POSITIONS", "OPEN ORDERS", "GROSS",
           "NET", "MAX_GROSS USE");
    for (size_t i = 0; i <= v->n_accts; i++) {
        const struct acct *a = i < v->n_accts ? &v->accts[i] : &v->firm;
        const struct wd_figures *f = i < v->n_accts ? wd_book_account(b, a->id) : wd_book_firm(b);
        cli_fmt_money(f->gross, g, sizeof g);
        cli_fmt_money(a->open, o, sizeof o);
        cli_fmt_money(a->gross, t, sizeof t);
        cli_fmt_money(a->net, n, sizeof n);
        /* The gross limit is per account: the firm's sum has none. */
        fmt_use(i < v->n_accts ? usage_of(a->gross, c->limits.max_gross_exposure) : (double)NAN, u,
                sizeof u);
        printf("%-12s %16s %16s %16s %16s %14s\n", a->name, g, o, t, n, u);
    }
}

int cmd_exposure(int argc, char **argv)
{
    struct cli_opts o;
    struct cli_replay rp;
    struct view v = {0};
    memset(&rp, 0, sizeof rp);
    int rc = cli_parse_opts(argc, argv, usage_text, CLI_OPT_DB, &o);
    if (rc != CLI_OK) {
        return rc < 0 ? CLI_OK : rc;
    }
    rp.path = o.events;
    if ((rc = cli_replay_open(&rp, o.config, o.db, NULL, NULL)) != CLI_OK ||
        (rc = cli_replay_run(&rp)) != CLI_OK || (rc = build(&rp, &v)) != CLI_OK) {
        goto out;
    }
    if (o.json) {
        print_json(&rp, &v);
    } else {
        print_table(&rp, &v);
    }
    if (rp.malformed > 0) {
        fprintf(stderr, "warden: exposure: %" PRIu64 " malformed lines skipped\n", rp.malformed);
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        cli_errorf("cannot write output");
        rc = CLI_FAIL;
    }
out:
    free(v.accts);
    free(v.pos);
    cli_replay_close(&rp);
    return rc;
}
