/*
 * The metrics HTTP server on libmicrohttpd (src/bus/http.h): routing,
 * bounds, and the lock shared with the daemon. It knows nothing of the
 * metrics themselves; the render callback writes them.
 */
#include "bus/http.h"

#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <microhttpd.h>

#define CONN_LIMIT 64u
#define CONN_MEMORY_LIMIT (16u * 1024u)
#define CONN_TIMEOUT_S 10u

struct wd_http {
    struct MHD_Daemon *d;
    pthread_mutex_t mu;             /* guards ready, out and the render callback */
    bool ready;
    struct wd_render_buf out;       /* reused for every /metrics */
    wd_http_render_fn render;
    void *ctx;
    uint16_t port;
    wd_http_handler_fn handler;     /* the handler mode */
    size_t max_body;
};

/* A request in the handler mode: made by the URI callback (the only place
 * libmicrohttpd shows the query as sent), freed when it completes. */
struct hreq {
    char *uri;
    char *body;
    size_t len, cap;
    bool seen;      /* the headers were looked at */
    bool too_large; /* the body went past max_body: discarded, 413 */
};

/* The marker of a request whose headers have been seen (libmicrohttpd calls
 * the handler once with them, then with body chunks, then to answer). */
static int request_seen;

static enum MHD_Result reply(struct MHD_Connection *c, unsigned code, const char *type,
                             const char *body, size_t len, bool allow)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, (void *)(uintptr_t)body, MHD_RESPMEM_MUST_COPY);
    if (r == NULL) {
        return MHD_NO;
    }
    enum MHD_Result ok = MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    if (ok == MHD_YES) {
        ok = MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    }
    if (ok == MHD_YES && allow) {
        ok = MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    }
    if (ok == MHD_YES) {
        ok = MHD_queue_response(c, code, r);
    }
    MHD_destroy_response(r);
    return ok;
}

static enum MHD_Result text(struct MHD_Connection *c, unsigned code, const char *body)
{
    return reply(c, code, "text/plain; charset=utf-8", body, strlen(body), false);
}

static enum MHD_Result metrics(struct wd_http *s, struct MHD_Connection *c)
{
    pthread_mutex_lock(&s->mu);
    wd_render_buf_reset(&s->out);
    enum wd_status st = s->render(s->ctx, &s->out);
    enum MHD_Result r;
    if (st == WD_OK) {
        r = reply(c, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8",
                  s->out.data != NULL ? s->out.data : "", s->out.len, false);
    } else {
        wd_render_buf_reset(&s->out);
        if (wd_render_buf_putf(&s->out, "metrics unavailable: %s\n", wd_status_str(st)) !=
            WD_OK) {
            pthread_mutex_unlock(&s->mu);
            return MHD_NO;
        }
        r = text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, s->out.data);
    }
    pthread_mutex_unlock(&s->mu);
    return r;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **req)
{
    (void)version;
    (void)upload;
    struct wd_http *s = cls;
    bool get = strcmp(method, MHD_HTTP_METHOD_GET) == 0;
    if (*req == NULL) {
        if (!get && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0) {
            /* Answered before any body is read; libmicrohttpd then closes. */
            return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain; charset=utf-8",
                         "method not allowed\n", 19, true);
        }
        /* No endpoint here takes a body: refuse one from its headers,
         * before it is read (libmicrohttpd only accepts an answer now or
         * once the body has been received). */
        const char *len = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                      MHD_HTTP_HEADER_CONTENT_LENGTH);
        if ((len != NULL && strcmp(len, "0") != 0) ||
            MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                        MHD_HTTP_HEADER_TRANSFER_ENCODING) != NULL) {
            return text(c, MHD_HTTP_CONTENT_TOO_LARGE, "request body not accepted\n");
        }
        *req = &request_seen;
        return MHD_YES;
    }
    if (*upload_size != 0) {
        return MHD_NO; /* a body the headers did not announce: drop the connection */
    }
    if (strcmp(url, "/metrics") == 0) {
        return metrics(s, c);
    }
    if (strcmp(url, "/healthz") == 0) {
        return text(c, MHD_HTTP_OK, "ok\n");
    }
    if (strcmp(url, "/readyz") == 0) {
        pthread_mutex_lock(&s->mu);
        bool ready = s->ready;
        pthread_mutex_unlock(&s->mu);
        return ready ? text(c, MHD_HTTP_OK, "ready\n")
                     : text(c, MHD_HTTP_SERVICE_UNAVAILABLE, "not ready\n");
    }
    return text(c, MHD_HTTP_NOT_FOUND, "not found\n");
}

/* ---- the handler mode ------------------------------------------------------- */

static void *uri_seen(void *cls, const char *uri, struct MHD_Connection *c)
{
    (void)cls;
    (void)c;
    struct hreq *q = calloc(1, sizeof *q);
    if (q != NULL && (q->uri = strdup(uri)) == NULL) {
        free(q);
        q = NULL;
    }
    return q; /* NULL: out of memory, answered 500 by handle_api */
}

static void completed(void *cls, struct MHD_Connection *c, void **req,
                      enum MHD_RequestTerminationCode why)
{
    (void)cls;
    (void)c;
    (void)why;
    struct hreq *q = *req;
    if (q != NULL) {
        free(q->uri);
        free(q->body);
        free(q);
        *req = NULL;
    }
}

static enum MHD_Result json_error(struct MHD_Connection *c, unsigned code, const char *msg)
{
    char buf[160];
    int n = snprintf(buf, sizeof buf, "{\"error\":\"%s\"}\n", msg);
    return reply(c, code, "application/json", buf, (size_t)n, false);
}

static bool body_add(struct hreq *q, size_t max, const char *data, size_t n)
{
    if (q->too_large || n > max - q->len) {
        q->too_large = true;
        return true;
    }
    if (q->len + n + 1 > q->cap) {
        size_t cap = q->cap != 0 ? q->cap : 1024;
        while (cap < q->len + n + 1) {
            cap *= 2;
        }
        char *b = realloc(q->body, cap);
        if (b == NULL) {
            return false;
        }
        q->body = b;
        q->cap = cap;
    }
    memcpy(q->body + q->len, data, n);
    q->len += n;
    q->body[q->len] = '\0';
    return true;
}

static enum MHD_Result handle_api(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **req)
{
    (void)url;
    (void)version;
    struct wd_http *s = cls;
    struct hreq *q = *req;
    if (q == NULL) {
        return json_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
    }
    if (!q->seen) {
        q->seen = true;
        const char *len = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                      MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (len != NULL && (strlen(len) > 19 || strtoull(len, NULL, 10) > s->max_body)) {
            return json_error(c, MHD_HTTP_CONTENT_TOO_LARGE, "request body too large");
        }
        return MHD_YES;
    }
    if (*upload_size != 0) {
        if (!body_add(q, s->max_body, upload, *upload_size)) {
            return MHD_NO;
        }
        *upload_size = 0;
        return MHD_YES;
    }
    if (q->too_large) {
        return json_error(c, MHD_HTTP_CONTENT_TOO_LARGE, "request body too large");
    }
    struct wd_http_request in = {.method = method,
                                 .path = q->uri,
                                 .authorization = MHD_lookup_connection_value(
                                     c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION),
                                 .body = q->body != NULL ? q->body : "",
                                 .body_len = q->len};
    struct wd_http_reply out = {0};
    s->handler(s->ctx, &in, &out);
    if (out.status == 0) {
        free(out.body);
        return json_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "no answer");
    }
    struct MHD_Response *r = MHD_create_response_from_buffer_with_free_callback(
        out.body_len, out.body != NULL ? out.body : (char *)"", out.body != NULL ? free : NULL);
    if (r == NULL) {
        free(out.body);
        return MHD_NO;
    }
    enum MHD_Result ok = MHD_add_response_header(
        r, MHD_HTTP_HEADER_CONTENT_TYPE,
        out.content_type != NULL ? out.content_type : "application/json");
    if (ok == MHD_YES) {
        ok = MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    }
    if (ok == MHD_YES && out.www_authenticate != NULL) {
        ok = MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, out.www_authenticate);
    }
    if (ok == MHD_YES) {
        ok = MHD_queue_response(c, (unsigned)out.status, r);
    }
    MHD_destroy_response(r);
    return ok;
}

/* Splits "HOST:PORT" / "[V6]:PORT" / ":PORT" into host (NULL: every
 * interface) and port, in buf. */
static enum wd_status split_listen(const char *listen, char *buf, size_t cap,
                                   const char **host, const char **port)
{
    size_t n = strlen(listen);
    const char *colon = strrchr(listen, ':');
    if (n == 0 || n >= cap || colon == NULL || colon[1] == '\0') {
        return WD_EINVAL;
    }
    memcpy(buf, listen, n + 1);
    char *c = buf + (colon - listen);
    *c = '\0';
    *port = c + 1;
    for (const char *p = *port; *p != '\0'; p++) {
        if (*p < '0' || *p > '9') {
            return WD_EINVAL;
        }
    }
    char *h = buf;
    if (h[0] == '[') {
        size_t hl = strlen(h);
        if (hl < 3 || h[hl - 1] != ']') {
            return WD_EINVAL;
        }
        h[hl - 1] = '\0';
        h++;
    } else if (strchr(h, ':') != NULL) {
        return WD_EINVAL; /* a bare IPv6 address needs brackets */
    }
    *host = h[0] != '\0' ? h : NULL;
    return WD_OK;
}

enum wd_status wd_http_new(const struct wd_http_config *cfg, struct wd_http **out,
                           struct wd_error *err)
{
    *out = NULL;
    const char *listen = cfg->listen != NULL ? cfg->listen : WD_HTTP_LISTEN_DEFAULT;
    if ((cfg->render == NULL) == (cfg->handler == NULL)) {
        return wd_error_set(err, WD_EINVAL, "http: give a render callback or a handler");
    }
    char buf[256];
    const char *host, *port;
    if (split_listen(listen, buf, sizeof buf, &host, &port) != WD_OK) {
        return wd_error_set(err, WD_EINVAL, "http: listen address \"%s\" is not HOST:PORT",
                            listen);
    }
    struct addrinfo hints = {0}, *ai = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    int gai = getaddrinfo(host, port, &hints, &ai);
    if (gai != 0) {
        return wd_error_set(err, WD_EINVAL, "http: listen address \"%s\": %s", listen,
                            gai_strerror(gai));
    }
    enum wd_status st = WD_OK;
    struct wd_http *s = calloc(1, sizeof *s);
    if (s == NULL) {
        st = wd_error_set(err, WD_ENOMEM, "http: out of memory");
        goto out;
    }
    if (pthread_mutex_init(&s->mu, NULL) != 0) {
        free(s);
        s = NULL;
        st = wd_error_set(err, WD_ENOMEM, "http: cannot create a mutex");
        goto out;
    }
    wd_render_buf_init(&s->out, cfg->max_response != 0 ? cfg->max_response
                                                        : WD_HTTP_RESPONSE_MAX_DEFAULT);
    s->render = cfg->render;
    s->ctx = cfg->ctx;
    s->handler = cfg->handler;
    s->max_body = cfg->max_body != 0 ? cfg->max_body : WD_HTTP_BODY_MAX_DEFAULT;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO;
    if (ai->ai_family == AF_INET6) {
        flags |= MHD_USE_IPv6;
    }
    if (s->handler != NULL) {
        s->d = MHD_start_daemon(flags, 0, NULL, NULL, handle_api, s,
                                MHD_OPTION_SOCK_ADDR, ai->ai_addr,
                                MHD_OPTION_URI_LOG_CALLBACK, uri_seen, (void *)NULL,
                                MHD_OPTION_NOTIFY_COMPLETED, completed, (void *)NULL,
                                MHD_OPTION_CONNECTION_LIMIT, CONN_LIMIT,
                                MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONN_MEMORY_LIMIT,
                                MHD_OPTION_CONNECTION_TIMEOUT, CONN_TIMEOUT_S,
                                MHD_OPTION_END);
    } else {
        s->d = MHD_start_daemon(flags, 0, NULL, NULL, handle, s,
                            MHD_OPTION_SOCK_ADDR, ai->ai_addr,
                            MHD_OPTION_CONNECTION_LIMIT, CONN_LIMIT,
                            MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONN_MEMORY_LIMIT,
                            MHD_OPTION_CONNECTION_TIMEOUT, CONN_TIMEOUT_S,
                            MHD_OPTION_END);
    }
    if (s->d == NULL) {
        st = wd_error_set(err, WD_EIO, "http: cannot listen on %s (in use, or not local?)",
                          listen);
        goto fail_daemon;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info != NULL ? info->port : 0;
    *out = s;
    goto out;

fail_daemon:
    pthread_mutex_destroy(&s->mu);
    wd_render_buf_destroy(&s->out);
    free(s);
out:
    freeaddrinfo(ai);
    return st;
}

void wd_http_free(struct wd_http *s)
{
    if (s == NULL) {
        return;
    }
    MHD_stop_daemon(s->d);
    pthread_mutex_destroy(&s->mu);
    wd_render_buf_destroy(&s->out);
    free(s);
}

uint16_t wd_http_port(const struct wd_http *s)
{
    return s->port;
}

void wd_http_set_ready(struct wd_http *s, bool ready)
{
    pthread_mutex_lock(&s->mu);
    s->ready = ready;
    pthread_mutex_unlock(&s->mu);
}

void wd_http_lock(struct wd_http *s)
{
    pthread_mutex_lock(&s->mu);
}

void wd_http_unlock(struct wd_http *s)
{
    pthread_mutex_unlock(&s->mu);
}
