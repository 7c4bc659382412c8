/*
 * The HTTP server (libmicrohttpd) in two modes. The metrics mode: `GET /metrics` in the Prometheus
 * text format from a caller's render callback, `GET /healthz` (200 "ok"),
 * `GET /readyz` (200 once the caller says ready, else 503), 404 for any
 * other path, 405 for methods other than GET and HEAD, 413 for a request
 * with a body. docs/METRICS.md; issue 6 point 2. The handler mode (below):
 * every request with its body to a callback (the API, docs/API.md).
 *
 * Threading: libmicrohttpd's internal polling thread serves the requests,
 * so the daemon's event loop needs no change to host it. The server owns a
 * mutex; it calls the render callback with the mutex held, and the owner
 * of the data rendered (the daemon's loop updating a struct wd_metrics)
 * takes the same mutex with wd_http_lock / wd_http_unlock around its
 * updates. A scrape therefore waits for an update in progress and an
 * update waits at most one rendering, never a network write (the text is
 * copied into the response before the mutex is released).
 *
 * Bounds: 64 connections at once, 16 KiB of request (line and headers;
 * libmicrohttpd answers 414/431 beyond), a 10 s idle timeout, and the
 * rendered text up to max_response bytes (500 beyond).
 */
#ifndef WD_BUS_HTTP_H
#define WD_BUS_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "warden/render.h"
#include "warden/status.h"

#define WD_HTTP_LISTEN_DEFAULT "127.0.0.1:8000"
#define WD_HTTP_RESPONSE_MAX_DEFAULT (8u * 1024u * 1024u)

/* ---- the handler mode (a second instance: the API) ------------------------
 * With cfg.handler set (and render NULL) the server routes nothing itself:
 * every request, whatever its method and path, goes to the handler once its
 * body has been read. Bodies are accepted up to max_body bytes (default
 * WD_HTTP_BODY_MAX_DEFAULT): a larger Content-Length is answered 413 from
 * the headers, before the body is read; a chunked body that grows past it
 * is read to its end and discarded, then answered 413. Those 413s are JSON
 * ({"error":"..."}), as the API's own errors are. The handler runs on the
 * server's thread WITHOUT the server's mutex: it takes whatever lock guards
 * the data it touches. */

#define WD_HTTP_BODY_MAX_DEFAULT (64u * 1024u)

struct wd_http_request {
    const char *method;        /* "GET", "POST", ... */
    const char *path;          /* as sent: path and query ("/api/v1/incidents?all=1") */
    const char *authorization; /* the Authorization header's value; NULL when absent */
    const char *body;          /* NUL-terminated copy; "" when none */
    size_t body_len;
};

struct wd_http_reply {
    int status;                   /* HTTP status; 0 (not set) answers 500 */
    const char *content_type;     /* static; NULL: application/json */
    const char *www_authenticate; /* static; non-NULL: sent as WWW-Authenticate */
    char *body;                   /* from malloc; the server frees it (NULL: empty) */
    size_t body_len;
};

typedef void (*wd_http_handler_fn)(void *ctx, const struct wd_http_request *req,
                                   struct wd_http_reply *rep);

/* Appends the body of /metrics to out (empty on entry). Called on the
 * server's thread with the server's mutex held; a status other than WD_OK
 * answers 500. */
typedef enum wd_status (*wd_http_render_fn)(void *ctx, struct wd_render_buf *out);

struct wd_http_config {
    const char *listen;          /* "HOST:PORT", "[V6]:PORT" or ":PORT" (all
                                    interfaces); NULL: WD_HTTP_LISTEN_DEFAULT.
                                    Port 0 picks a free one (see wd_http_port). */
    wd_http_render_fn render;    /* the metrics mode: required unless handler */
    void *ctx;                   /* borrowed; passed to render or handler */
    size_t max_response;         /* 0: WD_HTTP_RESPONSE_MAX_DEFAULT (metrics mode) */
    wd_http_handler_fn handler;  /* the handler mode (render must be NULL) */
    size_t max_body;             /* 0: WD_HTTP_BODY_MAX_DEFAULT (handler mode) */
};

struct wd_http;

/* Binds the address and starts serving on a new thread; not ready until
 * wd_http_set_ready. *out is from malloc (free with wd_http_free).
 * WD_EINVAL: a malformed listen address, or not exactly one of render
 * and handler; WD_EIO: the
 * address cannot be bound (in use, not local) or the thread not started,
 * with the reason in err; WD_ENOMEM. */
enum wd_status wd_http_new(const struct wd_http_config *cfg, struct wd_http **out,
                           struct wd_error *err) WD_MUST_USE;

/* Stops serving (waits for the thread; requests in flight are cut) and
 * frees. NULL is a no-op. Call it without holding the lock. */
void wd_http_free(struct wd_http *s);

/* The TCP port the server listens on (the chosen one for port 0). */
uint16_t wd_http_port(const struct wd_http *s);

/* Whether /readyz answers (metrics mode) 200 (true) or 503 (false, the start). */
void wd_http_set_ready(struct wd_http *s, bool ready);

/* Excludes the render callback while the caller updates what it renders. */
void wd_http_lock(struct wd_http *s);
void wd_http_unlock(struct wd_http *s);

#endif /* WD_BUS_HTTP_H */
