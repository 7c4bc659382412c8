/*
 * The playbook's documents and messages rendered from an incident record
 * (include/warden/render.h): one incident driven through its lifecycle by
 * the wd_incident_* functions, rendered at fixed times and compared byte
 * for byte with tests/unit/golden/ (WD_UPDATE_GOLDEN=1 rewrites them; read
 * the diff before committing); the review deadline, the follow-up and the
 * next-update times on their boundaries; the buffer's bound and rollback.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "warden/incident.h"
#include "warden/render.h"
#include "warden/timeutil.h"
#include "warden/tz.h"

#define S_NS 1000000000LL
#define MIN_NS (60 * S_NS)
#define HOUR_NS (60 * MIN_NS)
/* 2026-03-02T14:30:00Z, 09:30 in New York (EST). */
#define T0 (1772461800LL * S_NS)
#define ID "INC-20260302-001"

#define TL_MAX 64

/* The incident as it was at three moments, and its timeline. */
static struct wd_incident inc, at_open, at_fixing;
static struct wd_timeline_entry tl[TL_MAX];
static size_t n_tl, n_open, n_fixing;
static struct wd_tz *ny;

static void ok(enum wd_status st)
{
    assert_int_equal(st, WD_OK);
}

static struct wd_timeline_entry *next_entry(void)
{
    assert_true(n_tl < TL_MAX);
    return &tl[n_tl++];
}

static void to(enum wd_inc_status s, const char *who, int64_t at)
{
    ok(wd_incident_transition(&inc, s, who, at, next_entry(), NULL));
}

static void assign(enum wd_inc_role r, const char *name, int64_t at)
{
    ok(wd_incident_assign(&inc, r, name, "alice", at, next_entry(), NULL));
}

static void note(enum wd_tl_kind k, const char *text, const char *who, int64_t at)
{
    ok(wd_incident_note(&inc, k, text, who, at, next_entry(), NULL));
}

/* A P0 PnL kill, from the detector's open to resolution and its actions. */
static void build(void)
{
    struct wd_incident_opening o = {
        .id = ID,
        .scenario = WD_SC_KILL_PNL,
        .scope = "firm",
        .severity = WD_P0,
        .title = "Daily PnL -5.4% breached kill_pnl -5%",
        .detail = "equity 946000 vs start 1000000",
        .who = "warden",
        .trading_halted = true,
        .pnl_open = -54000 * WD_FIX_SCALE,
    };
    n_tl = 0;
    ok(wd_incident_open(&inc, &o, T0, next_entry(), NULL));
    note(WD_TL_CONTROL, "halt firm: kill_pnl -5.4% < -5%", "warden", T0);
    at_open = inc;
    n_open = n_tl;

    to(WD_INC_ACKNOWLEDGED, "alice", T0 + 4 * MIN_NS);
    assign(WD_IR_COMMANDER, "alice", T0 + 5 * MIN_NS);
    assign(WD_IR_RISK_OFFICER, "carol", T0 + 6 * MIN_NS);
    assign(WD_IR_TECH_LEAD, "bob", T0 + 6 * MIN_NS);
    assign(WD_IR_COMMS_LEAD, "dave", T0 + 7 * MIN_NS);
    assign(WD_IR_SME, "erin", T0 + 8 * MIN_NS);
    to(WD_INC_INVESTIGATING, "bob", T0 + 10 * MIN_NS);
    note(WD_TL_FINDING, "kill_pnl fired again: daily PnL -5.6%", "warden", T0 + 12 * MIN_NS);
    note(WD_TL_NOTE, "a fill of 40000 AAPL at ten times the intended size", "bob",
         T0 + 25 * MIN_NS);
    to(WD_INC_IDENTIFIED, "bob", T0 + 30 * MIN_NS);
    to(WD_INC_FIXING, "bob", T0 + 40 * MIN_NS);
    at_fixing = inc;
    n_fixing = n_tl;

    for (uint32_t i = 0; i < inc.n_criteria; i++) {
        const char *who = i == 2 ? "carol" : "bob";
        ok(wd_incident_check(&inc, i, true, who, T0 + (50 + i) * MIN_NS, next_entry(), NULL));
    }
    to(WD_INC_MONITORING, "bob", T0 + 70 * MIN_NS);
    note(WD_TL_APPROVAL, "risk_officer carol approved resume of firm", "carol",
         T0 + 85 * MIN_NS);
    note(WD_TL_CONTROL, "resume firm", "carol", T0 + 86 * MIN_NS);
    to(WD_INC_RESOLVED, "alice", T0 + 95 * MIN_NS);
    ok(wd_incident_set_pnl_resolved(&inc, -5200050 * (WD_FIX_SCALE / 100), "alice",
                                    T0 + 96 * MIN_NS, next_entry(), NULL));
    /* Due at local midnight of 2026-03-09 (shown as a date), and at
     * 2026-03-04 17:00 UTC (12:00 in New York, shown with its time). */
    int64_t d9 = wd_tz_day_start_ns(ny, wd_days_from_civil(2026, 3, 9));
    ok(wd_incident_action_add(&inc, "Add a pre-trade order size check", "bob", d9, "alice",
                              T0 + 100 * MIN_NS, NULL, next_entry(), NULL));
    ok(wd_incident_action_add(&inc, "Update INCIDENT_PLAYBOOK.md with this scenario", "dave",
                              T0 + 2 * 86400 * S_NS + 2 * HOUR_NS + 30 * MIN_NS, "alice",
                              T0 + 101 * MIN_NS, NULL, next_entry(), NULL));
    ok(wd_incident_action_add(&inc, "Page the risk officer on every P0", "carol", 0, "alice",
                              T0 + 102 * MIN_NS, NULL, next_entry(), NULL));
    ok(wd_incident_action_done(&inc, 2, true, "carol", T0 + 110 * MIN_NS, next_entry(), NULL));
}

static int setup(void **state)
{
    (void)state;
    static const char rule[] = "EST5EDT,M3.2.0,M11.1.0";
    if (wd_tz_from_posix(rule, sizeof rule - 1, &ny, NULL) != WD_OK) {
        return -1;
    }
    build();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    wd_tz_free(ny);
    return 0;
}

/* ---- golden files ---------------------------------------------------------- */

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    assert_non_null(buf);
    size_t got;
    while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            cap *= 2;
            buf = realloc(buf, cap);
            assert_non_null(buf);
        }
    }
    fclose(f);
    *len = n;
    return buf;
}

static void check_golden(const char *name, const struct wd_render_buf *b)
{
    const char *src = getenv("WD_SOURCE_DIR");
    char path[1024];
    (void)snprintf(path, sizeof path, "%s/tests/unit/golden/%s", src != NULL ? src : ".", name);
    const char *update = getenv("WD_UPDATE_GOLDEN");
    if (update != NULL && strcmp(update, "1") == 0) {
        FILE *f = fopen(path, "wb");
        assert_non_null(f);
        assert_int_equal(fwrite(b->data, 1, b->len, f), b->len);
        fclose(f);
        return;
    }
    size_t len = 0;
    char *want = read_all(path, &len);
    if (want == NULL) {
        fail_msg("missing golden file %s (WD_UPDATE_GOLDEN=1 writes it)", path);
    }
    if (len != b->len || memcmp(want, b->data, len) != 0) {
        size_t i = 0;
        while (i < len && i < b->len && want[i] == b->data[i]) {
            i++;
        }
        print_error("%s differs at byte %zu; rendered:\n%s\n", name, i, b->data);
        free(want);
        fail_msg("golden mismatch: %s", name);
    }
    free(want);
}

typedef enum wd_status (*renderer)(const struct wd_incident *, const struct wd_timeline_entry *,
                                   size_t, int64_t, const struct wd_tz *,
                                   struct wd_render_buf *);

static void golden(const char *name, renderer fn, const struct wd_incident *r, size_t n,
                   int64_t now, const struct wd_tz *tz)
{
    struct wd_render_buf b;
    wd_render_buf_init(&b, 0);
    ok(fn(r, tl, n, now, tz, &b));
    check_golden(name, &b);
    /* Deterministic: the same inputs give the same bytes. */
    struct wd_render_buf again;
    wd_render_buf_init(&again, 0);
    ok(fn(r, tl, n, now, tz, &again));
    assert_int_equal(again.len, b.len);
    assert_memory_equal(again.data, b.data, b.len);
    wd_render_buf_destroy(&again);
    wd_render_buf_destroy(&b);
}

static void test_render_report_golden(void **state)
{
    (void)state;
    golden("report_resolved.md", wd_render_report, &inc, n_tl, T0 + 3 * HOUR_NS, ny);
    golden("report_fixing.md", wd_render_report, &at_fixing, n_fixing, T0 + 45 * MIN_NS, ny);
}

static void test_render_log_golden(void **state)
{
    (void)state;
    golden("incident_log.txt", wd_render_log, &inc, n_tl, T0 + 3 * HOUR_NS, ny);
    golden("incident_log_open.txt", wd_render_log, &at_open, n_open, T0, ny);
}

static void test_render_review_golden(void **state)
{
    (void)state;
    golden("review.md", wd_render_review, &inc, n_tl, T0 + 3 * HOUR_NS, ny);
}

static void test_render_messages_golden(void **state)
{
    (void)state;
    golden("msg_initial.txt", wd_render_msg_initial, &at_open, n_open, T0 + MIN_NS, ny);
    golden("msg_update.txt", wd_render_msg_update, &at_fixing, n_fixing, T0 + 45 * MIN_NS, ny);
    golden("msg_resolution.txt", wd_render_msg_resolution, &inc, n_tl, T0 + 3 * HOUR_NS, ny);
}

/* ---- deadlines and cadence -------------------------------------------------- */

static void test_render_review_due_48h_boundary(void **state)
{
    (void)state;
    struct wd_review_due d;
    int64_t r = inc.resolved_ns;
    assert_int_equal(r, T0 + 95 * MIN_NS);
    wd_review_due(&inc, r + 48 * HOUR_NS, &d);
    assert_true(d.review_needed);
    assert_int_equal(d.review_due_ns, r + 48 * HOUR_NS);
    assert_false(d.review_overdue); /* exactly on time */
    wd_review_due(&inc, r + 48 * HOUR_NS + 1, &d);
    assert_true(d.review_overdue);
    assert_int_equal(d.followup_due_ns, 0);
    assert_false(d.followup_due);
    assert_int_equal(d.open_actions, 2);

    /* Not resolved: nothing is due yet. */
    wd_review_due(&at_fixing, T0 + 100 * HOUR_NS, &d);
    assert_false(d.review_needed);
    assert_false(d.review_overdue);
    assert_int_equal(d.review_due_ns, 0);
}

static void test_render_followup_two_weeks_after_close(void **state)
{
    (void)state;
    struct wd_incident c = inc;
    int64_t closed = T0 + 40 * HOUR_NS;
    ok(wd_incident_transition(&c, WD_INC_CLOSED, "alice", closed, NULL, NULL));
    struct wd_review_due d;
    int64_t due = closed + 14 * 24 * HOUR_NS;
    wd_review_due(&c, due - 1, &d);
    assert_false(d.review_needed); /* held: closed */
    assert_false(d.review_overdue);
    assert_int_equal(d.followup_due_ns, due);
    assert_false(d.followup_due);
    wd_review_due(&c, due, &d);
    assert_true(d.followup_due);
    /* With every action item done, nothing is left to follow up. */
    ok(wd_incident_action_done(&c, 0, true, "bob", due, NULL, NULL));
    ok(wd_incident_action_done(&c, 1, true, "dave", due, NULL, NULL));
    wd_review_due(&c, due, &d);
    assert_int_equal(d.open_actions, 0);
    assert_false(d.followup_due);
}

static void test_render_next_update_per_severity(void **state)
{
    (void)state;
    assert_int_equal(wd_update_interval_ns(WD_P0), 30 * MIN_NS);
    assert_int_equal(wd_update_interval_ns(WD_P1), HOUR_NS);
    assert_int_equal(wd_update_interval_ns(WD_P2), 4 * HOUR_NS);
    assert_int_equal(wd_update_interval_ns(WD_P3), 24 * HOUR_NS);
    int64_t now = T0 + 45 * MIN_NS;
    assert_int_equal(wd_render_next_update_ns(&at_fixing, now), now + 30 * MIN_NS);
    /* Resolved: the resolution message is the last one. */
    assert_int_equal(wd_render_next_update_ns(&inc, inc.resolved_ns), 0);

    /* A P2 raised to P0 goes from every 4 hours to every 30 minutes. */
    struct wd_incident p2;
    struct wd_incident_opening o = {.id = "INC-20260302-002", .scenario = WD_SC_HIGH_LATENCY,
                                    .scope = "firm", .severity = WD_P2, .title = "p95 1.4 s",
                                    .who = "warden"};
    ok(wd_incident_open(&p2, &o, T0, NULL, NULL));
    assert_int_equal(wd_render_next_update_ns(&p2, T0), T0 + 4 * HOUR_NS);
    ok(wd_incident_raise(&p2, WD_P0, "alice", T0 + MIN_NS, NULL, NULL));
    assert_int_equal(wd_render_next_update_ns(&p2, T0 + MIN_NS), T0 + 31 * MIN_NS);
    struct wd_render_buf b;
    wd_render_buf_init(&b, 0);
    ok(wd_render_msg_update(&p2, NULL, 0, T0 + MIN_NS, NULL, &b));
    assert_non_null(strstr(b.data, "\nNext update in: 30 minutes (by 2026-03-02 15:01 UTC)\n"));
    wd_render_buf_reset(&b);
    ok(wd_render_msg_update(&inc, tl, n_tl, T0 + 3 * HOUR_NS, NULL, &b));
    assert_non_null(strstr(b.data, "\nNext update in: none (the incident is resolved)\n"));
    wd_render_buf_destroy(&b);
}

static void test_render_log_name_in_session_zone(void **state)
{
    (void)state;
    char name[64];
    assert_int_equal(wd_render_log_name(&inc, ny, name, sizeof name), 33);
    assert_string_equal(name, "logs/incident_20260302_093000.log");
    assert_int_equal(wd_render_log_name(&inc, NULL, name, sizeof name), 33);
    assert_string_equal(name, "logs/incident_20260302_143000.log");
    /* Cut like snprintf: the full length is returned. */
    assert_int_equal(wd_render_log_name(&inc, NULL, name, 10), 33);
    assert_string_equal(name, "logs/inci");
}

/* ---- refusals and the buffer ------------------------------------------------ */

static void test_render_refusals_leave_buffer_as_it_was(void **state)
{
    (void)state;
    struct wd_render_buf b;
    wd_render_buf_init(&b, 600);
    ok(wd_render_msg_initial(&at_open, tl, n_open, T0, NULL, &b)); /* short enough */
    size_t len = b.len;
    char *copy = malloc(len + 1);
    assert_non_null(copy);
    memcpy(copy, b.data, len + 1);

    /* Over the bound: WD_EFULL, the earlier text intact. */
    assert_int_equal(wd_render_report(&inc, tl, n_tl, T0, ny, &b), WD_EFULL);
    assert_int_equal(b.len, len);
    assert_string_equal(b.data, copy);
    /* A resolution message for an unresolved incident. */
    assert_int_equal(wd_render_msg_resolution(&at_fixing, tl, n_fixing, T0, NULL, &b),
                     WD_ESTATE);
    /* An entry of another incident. */
    struct wd_timeline_entry other = tl[0];
    memcpy(other.incident, "INC-20260302-009", sizeof "INC-20260302-009");
    assert_int_equal(wd_render_log(&inc, &other, 1, T0, NULL, &b), WD_EINVAL);
    assert_int_equal(wd_render_message(WD_MSG__COUNT, &inc, tl, n_tl, T0, NULL, &b), WD_EINVAL);
    assert_int_equal(b.len, len);
    assert_string_equal(b.data, copy);
    free(copy);
    wd_render_buf_destroy(&b);
    wd_render_buf_destroy(&b); /* twice is harmless */
}

static void test_render_message_kinds(void **state)
{
    (void)state;
    enum wd_msg_kind k;
    for (unsigned i = 0; i < WD_MSG__COUNT; i++) {
        ok(wd_msg_kind_parse(wd_msg_kind_name((enum wd_msg_kind)i), &k));
        assert_int_equal(k, i);
    }
    assert_int_equal(wd_msg_kind_parse("status", &k), WD_EINVAL);
    assert_string_equal(wd_msg_kind_name(WD_MSG__COUNT), "?");
    /* The dispatcher gives the same bytes as the renderer it names. */
    struct wd_render_buf a, b;
    wd_render_buf_init(&a, 0);
    wd_render_buf_init(&b, 0);
    ok(wd_render_message(WD_MSG_UPDATE, &at_fixing, tl, n_fixing, T0 + HOUR_NS, NULL, &a));
    ok(wd_render_msg_update(&at_fixing, tl, n_fixing, T0 + HOUR_NS, NULL, &b));
    assert_string_equal(a.data, b.data);
    wd_render_buf_destroy(&a);
    wd_render_buf_destroy(&b);
}

/* A '|' in a text cannot break the review's timeline table. */
static void test_render_review_table_escapes_pipe(void **state)
{
    (void)state;
    struct wd_incident c = at_fixing;
    struct wd_timeline_entry e[1];
    ok(wd_incident_note(&c, WD_TL_NOTE, "limit | size", "bob", T0 + HOUR_NS, &e[0], NULL));
    struct wd_render_buf b;
    wd_render_buf_init(&b, 0);
    ok(wd_render_review(&c, e, 1, T0 + HOUR_NS, NULL, &b));
    assert_non_null(strstr(b.data, "| 15:30 | | limit \\| size (by bob) |\n"));
    wd_render_buf_destroy(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_render_report_golden),
        cmocka_unit_test(test_render_log_golden),
        cmocka_unit_test(test_render_review_golden),
        cmocka_unit_test(test_render_messages_golden),
        cmocka_unit_test(test_render_review_due_48h_boundary),
        cmocka_unit_test(test_render_followup_two_weeks_after_close),
        cmocka_unit_test(test_render_next_update_per_severity),
        cmocka_unit_test(test_render_log_name_in_session_zone),
        cmocka_unit_test(test_render_refusals_leave_buffer_as_it_was),
        cmocka_unit_test(test_render_message_kinds),
        cmocka_unit_test(test_render_review_table_escapes_pipe),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
