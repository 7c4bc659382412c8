/*
 * The notification outbox in SQLite (outbox.h). Statements are prepared per
 * call: notifications are rare next to events, and this keeps the file
 * apart from store.c's statement table. Every function runs in its own
 * transaction nested in the caller's (wd_store_begin), so a row queued by
 * an incident change commits with it.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/outbox.h"
#include "store/store.h"

static const char *const state_names[] = {"pending", "sent", "failed", "held"};

const char *wd_outbox_state_name(enum wd_outbox_state s)
{
    return (unsigned)s < 4 ? state_names[s] : "?";
}

static enum wd_status fail(sqlite3 *db, int rc, const char *op, struct wd_error *err)
{
    const char *msg = sqlite3_extended_errcode(db) == rc ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    return wd_error_set(err, (rc & 0xff) == SQLITE_NOMEM ? WD_ENOMEM : WD_EIO,
                        "store: outbox %s: %s", op, msg);
}

/* A text column into a fixed field, cut at a UTF-8 boundary. */
static void col_text(sqlite3_stmt *q, int col, char *dst, size_t cap)
{
    const char *t = (const char *)sqlite3_column_text(q, col);
    size_t n = t != NULL ? (size_t)sqlite3_column_bytes(q, col) : 0;
    if (n >= cap) {
        n = cap - 1;
        while (n > 0 && ((unsigned char)t[n] & 0xc0) == 0x80) {
            n--;
        }
    }
    if (n > 0) {
        memcpy(dst, t, n);
    }
    dst[n] = '\0';
}

static int bind_text(sqlite3_stmt *q, int col, const char *field, size_t cap)
{
    return sqlite3_bind_text(q, col, field, (int)strnlen(field, cap), SQLITE_STATIC);
}

/* One bind of a chain: skipped once one failed. */
#define BIND(x)                                                                              \
    do {                                                                                     \
        if (rc == SQLITE_OK)                                                                 \
            rc = (x);                                                                        \
    } while (0)

#define ROW_COLS                                                                             \
    "id, incident, channel, kind, recipient, severity, scenario, scope, status, title, text,"\
    " created_ns, state, attempts, next_ns, last_code, last_error, done_ns"

static enum wd_status read_row(sqlite3_stmt *q, struct wd_outbox_row *r, struct wd_error *err)
{
    char ch[16], kind[16], sev[4], st[12];
    memset(r, 0, sizeof *r);
    r->id = sqlite3_column_int64(q, 0);
    col_text(q, 1, r->incident, sizeof r->incident);
    col_text(q, 2, ch, sizeof ch);
    col_text(q, 3, kind, sizeof kind);
    col_text(q, 4, r->recipient, sizeof r->recipient);
    col_text(q, 5, sev, sizeof sev);
    col_text(q, 6, r->scenario, sizeof r->scenario);
    col_text(q, 7, r->scope, sizeof r->scope);
    col_text(q, 8, r->status, sizeof r->status);
    col_text(q, 9, r->title, sizeof r->title);
    col_text(q, 10, r->text, sizeof r->text);
    r->created_ns = sqlite3_column_int64(q, 11);
    col_text(q, 12, st, sizeof st);
    r->attempts = (uint32_t)sqlite3_column_int64(q, 13);
    r->next_ns = sqlite3_column_int64(q, 14);
    r->last_code = (long)sqlite3_column_int64(q, 15);
    col_text(q, 16, r->last_error, sizeof r->last_error);
    r->done_ns = sqlite3_column_int64(q, 17);
    r->state = WD_OB_PENDING;
    for (unsigned i = 0; i < 4; i++) {
        if (strcmp(st, state_names[i]) == 0) {
            r->state = (enum wd_outbox_state)i;
        }
    }
    if (wd_channel_parse(ch, strlen(ch), &r->channel) != WD_OK ||
        wd_notify_kind_parse(kind, &r->kind) != WD_OK ||
        wd_severity_parse(sev, &r->severity) != WD_OK) {
        return wd_error_set(err, WD_EIO, "store: outbox row %lld: unknown channel, kind or "
                            "severity", (long long)r->id);
    }
    return WD_OK;
}

/* Runs a SELECT of ROW_COLS (bound by bind(q, ctx)) into a malloc'd array. */
static enum wd_status select_rows(sqlite3 *db, const char *sql,
                                  int (*bind)(sqlite3_stmt *q, const void *ctx), const void *ctx,
                                  struct wd_outbox_row **out, size_t *n, struct wd_error *err)
{
    sqlite3_stmt *q = NULL;
    struct wd_outbox_row *arr = NULL;
    size_t len = 0, cap = 0;
    enum wd_status r = WD_OK;
    *out = NULL;
    *n = 0;
    int rc = sqlite3_prepare_v2(db, sql, -1, &q, NULL);
    if (rc == SQLITE_OK && bind != NULL) {
        rc = bind(q, ctx);
    }
    while (rc == SQLITE_OK || rc == SQLITE_ROW) {
        if ((rc = sqlite3_step(q)) != SQLITE_ROW) {
            break;
        }
        if (len == cap) {
            size_t ncap = cap ? cap * 2 : 8;
            struct wd_outbox_row *na = realloc(arr, ncap * sizeof *na);
            if (na == NULL) {
                r = wd_error_set(err, WD_ENOMEM, "store: outbox: out of memory");
                break;
            }
            arr = na;
            cap = ncap;
        }
        if ((r = read_row(q, &arr[len], err)) != WD_OK) {
            break;
        }
        len++;
    }
    if (r == WD_OK && rc != SQLITE_DONE) {
        r = fail(db, rc, "read", err);
    }
    sqlite3_finalize(q);
    if (r != WD_OK) {
        free(arr);
        return r;
    }
    *out = arr;
    *n = len;
    return WD_OK;
}

/* Executes one write statement in its own nested transaction. */
static enum wd_status write_one(struct wd_store *s, sqlite3_stmt *q, int rc, const char *op,
                                struct wd_error *err)
{
    sqlite3 *db = wd__store_db(s);
    enum wd_status r;
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(q);
    }
    r = rc == SQLITE_DONE ? WD_OK : fail(db, rc, op, err);
    sqlite3_finalize(q);
    return r;
}

enum wd_status wd_store_outbox_add(struct wd_store *s, const struct wd_outbox_row *r, bool held,
                                   int64_t *id, struct wd_error *err)
{
    sqlite3 *db = wd__store_db(s);
    sqlite3_stmt *q = NULL;
    enum wd_status st = wd_store_begin(s, err);
    if (st != WD_OK) {
        return st;
    }
    int rc = sqlite3_prepare_v2(db,
                                "INSERT INTO notify_outbox (incident, channel, kind, recipient,"
                                " severity, scenario, scope, status, title, text, created_ns,"
                                " state, next_ns) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                                -1, &q, NULL);
    if (rc == SQLITE_OK) {
        BIND(bind_text(q, 1, r->incident, sizeof r->incident));
        BIND(sqlite3_bind_text(q, 2, wd_channel_name(r->channel), -1, SQLITE_STATIC));
        BIND(sqlite3_bind_text(q, 3, wd_notify_kind_name(r->kind), -1, SQLITE_STATIC));
        BIND(bind_text(q, 4, r->recipient, sizeof r->recipient));
        BIND(sqlite3_bind_text(q, 5, wd_severity_name(r->severity), -1, SQLITE_STATIC));
        BIND(bind_text(q, 6, r->scenario, sizeof r->scenario));
        BIND(bind_text(q, 7, r->scope, sizeof r->scope));
        BIND(bind_text(q, 8, r->status, sizeof r->status));
        BIND(bind_text(q, 9, r->title, sizeof r->title));
        BIND(bind_text(q, 10, r->text, sizeof r->text));
        BIND(sqlite3_bind_int64(q, 11, r->created_ns));
        BIND(sqlite3_bind_text(q, 12, held ? "held" : "pending", -1, SQLITE_STATIC));
        BIND(sqlite3_bind_int64(q, 13, r->next_ns));
    }
    st = write_one(s, q, rc, "add", err);
    if (st != WD_OK) {
        wd_store_rollback(s);
        return st;
    }
    if (id != NULL) {
        *id = sqlite3_last_insert_rowid(db);
    }
    return wd_store_commit(s, err);
}

struct claim_args {
    int64_t now, max;
};

static int bind_claim(sqlite3_stmt *q, const void *ctx)
{
    const struct claim_args *a = ctx;
    int rc = sqlite3_bind_int64(q, 1, a->now);
    return rc == SQLITE_OK ? sqlite3_bind_int64(q, 2, a->max) : rc;
}

enum wd_status wd_store_outbox_claim(struct wd_store *s, int64_t now_ns, int64_t lease_until_ns,
                                     size_t max, struct wd_outbox_row **out, size_t *n,
                                     struct wd_error *err)
{
    static const char sql[] =
        "SELECT " ROW_COLS " FROM notify_outbox o WHERE o.state = 'pending'"
        " AND o.next_ns <= ?1 AND o.lease_ns <= ?1 AND NOT EXISTS (SELECT 1 FROM notify_outbox p"
        " WHERE p.incident = o.incident AND p.channel = o.channel AND p.recipient = o.recipient"
        " AND p.state = 'pending' AND p.id < o.id) ORDER BY o.id LIMIT ?2";
    struct claim_args a = {now_ns, (int64_t)max};
    sqlite3 *db = wd__store_db(s);
    enum wd_status st = wd_store_begin(s, err);
    if (st != WD_OK) {
        return st;
    }
    st = select_rows(db, sql, bind_claim, &a, out, n, err);
    for (size_t i = 0; st == WD_OK && i < *n; i++) {
        sqlite3_stmt *q = NULL;
        int rc = sqlite3_prepare_v2(db, "UPDATE notify_outbox SET lease_ns = ? WHERE id = ?", -1,
                                    &q, NULL);
        if (rc == SQLITE_OK) {
            rc = sqlite3_bind_int64(q, 1, lease_until_ns);
        }
        if (rc == SQLITE_OK) {
            rc = sqlite3_bind_int64(q, 2, (*out)[i].id);
        }
        st = write_one(s, q, rc, "claim", err);
    }
    if (st != WD_OK) {
        free(*out);
        *out = NULL;
        *n = 0;
        wd_store_rollback(s);
        return st;
    }
    st = wd_store_commit(s, err);
    if (st != WD_OK) {
        free(*out);
        *out = NULL;
        *n = 0;
    }
    return st;
}

enum wd_status wd_store_outbox_result(struct wd_store *s, int64_t id, enum wd_outbox_state state,
                                      uint32_t attempts, int64_t next_ns, long code,
                                      const char *error, int64_t done_ns, struct wd_error *err)
{
    sqlite3_stmt *q = NULL;
    enum wd_status st = wd_store_begin(s, err);
    if (st != WD_OK) {
        return st;
    }
    int rc = sqlite3_prepare_v2(wd__store_db(s),
                                "UPDATE notify_outbox SET state = ?, attempts = ?, next_ns = ?,"
                                " last_code = ?, last_error = ?, done_ns = ?, lease_ns = 0"
                                " WHERE id = ?",
                                -1, &q, NULL);
    if (rc == SQLITE_OK) {
        BIND(sqlite3_bind_text(q, 1, wd_outbox_state_name(state), -1, SQLITE_STATIC));
        BIND(sqlite3_bind_int64(q, 2, attempts));
        BIND(sqlite3_bind_int64(q, 3, next_ns));
        BIND(sqlite3_bind_int64(q, 4, code));
        BIND(bind_text(q, 5, error != NULL ? error : "", WD_OUTBOX_ERROR_MAX));
        BIND(sqlite3_bind_int64(q, 6, done_ns));
        BIND(sqlite3_bind_int64(q, 7, id));
    }
    st = write_one(s, q, rc, "result", err);
    if (st != WD_OK) {
        wd_store_rollback(s);
        return st;
    }
    return wd_store_commit(s, err);
}

static int bind_incident(sqlite3_stmt *q, const void *ctx)
{
    return sqlite3_bind_text(q, 1, ctx, -1, SQLITE_STATIC);
}

enum wd_status wd_store_outbox_list(struct wd_store *s, const char *incident,
                                    struct wd_outbox_row **out, size_t *n, struct wd_error *err)
{
    if (incident == NULL) {
        return select_rows(wd__store_db(s), "SELECT " ROW_COLS " FROM notify_outbox ORDER BY id",
                           NULL, NULL, out, n, err);
    }
    return select_rows(wd__store_db(s),
                       "SELECT " ROW_COLS " FROM notify_outbox WHERE incident = ? ORDER BY id",
                       bind_incident, incident, out, n, err);
}

/* One integer (or two) from a one-row SELECT. */
static enum wd_status scalar2(sqlite3 *db, sqlite3_stmt *q, int rc, int64_t *a, int64_t *b,
                              struct wd_error *err)
{
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(q);
    }
    enum wd_status st = WD_OK;
    if (rc == SQLITE_ROW) {
        *a = sqlite3_column_int64(q, 0);
        if (b != NULL) {
            *b = sqlite3_column_int64(q, 1);
        }
    } else {
        st = fail(db, rc == SQLITE_DONE ? SQLITE_ERROR : rc, "read", err);
    }
    sqlite3_finalize(q);
    return st;
}

enum wd_status wd_store_outbox_pending(struct wd_store *s, size_t *n, int64_t *next_ns,
                                       struct wd_error *err)
{
    sqlite3 *db = wd__store_db(s);
    sqlite3_stmt *q = NULL;
    int64_t count = 0;
    int rc = sqlite3_prepare_v2(db, "SELECT count(*), coalesce(min(next_ns), 0) FROM "
                                "notify_outbox WHERE state = 'pending'", -1, &q, NULL);
    enum wd_status st = scalar2(db, q, rc, &count, next_ns, err);
    *n = (size_t)count;
    return st;
}
