/*
 * The metrics HTTP server (libmicrohttpd): `GET /metrics` in the Prometheus
 * text format from a caller's render callback, `GET /healthz` (200 "ok"),
 * `GET /readyz` (200 once the caller says ready, else 503), 404 for any
 * other path, 405 for methods other than GET and HEAD, 413 for a request
 * with a body. docs/METRICS.md; issue 6 point 2.
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

/* Appends the body of /metrics to out (empty on entry). Called on the
 * server's thread with the server's mutex held; a status other than WD_OK
 * answers 500. */
typedef enum wd_status (*wd_http_render_fn)(void *ctx, struct wd_render_buf *out);

struct wd_http_config {
    const char *listen;          /* "HOST:PORT", "[V6]:PORT" or ":PORT" (all
                                    interfaces); NULL: WD_HTTP_LISTEN_DEFAULT.
                                    Port 0 picks a free one (see wd_http_port). */
    wd_http_render_fn render;    /* required */
    void *ctx;                   /* borrowed; passed to render */
    size_t max_response;         /* 0: WD_HTTP_RESPONSE_MAX_DEFAULT */
};

struct wd_http;

/* Binds the address and starts serving on a new thread; not ready until
 * wd_http_set_ready. *out is from malloc (free with wd_http_free).
 * WD_EINVAL: a malformed listen address or no render callback; WD_EIO: the
 * address cannot be bound (in use, not local) or the thread not started,
 * with the reason in err; WD_ENOMEM. */
enum wd_status wd_http_new(const struct wd_http_config *cfg, struct wd_http **out,
                           struct wd_error *err) WD_MUST_USE;

/* Stops serving (waits for the thread; requests in flight are cut) and
 * frees. NULL is a no-op. Call it without holding the lock. */
void wd_http_free(struct wd_http *s);

/* The TCP port the server listens on (the chosen one for port 0). */
uint16_t wd_http_port(const struct wd_http *s);

/* Whether /readyz answers 200 (true) or 503 (false, the start). */
void wd_http_set_ready(struct wd_http *s, bool ready);

/* Excludes the render callback while the caller updates what it renders. */
void wd_http_lock(struct wd_http *s);
void wd_http_unlock(struct wd_http *s);

#endif /* WD_BUS_HTTP_H */
