/*
 * Test tool: the API (src/svc/api.c, wd_api_handle) served over real HTTP
 * with libmicrohttpd directly, on 127.0.0.1 and an ephemeral port, on the
 * store and the configuration (its tokens:) given; prints the port on
 * stdout, then serves until SIGTERM or SIGINT (exit 0). Stands in for the
 * daemon's API server in tests/integration/remote.sh, which drives the
 * CLI's --url mode (src/cli/remote.c) against it.
 *
 * usage: api_serve STORE CONFIG
 */
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <microhttpd.h>

#include "bus/config_yaml.h"
#include "bus/tzload.h"
#include "store/store.h"
#include "svc/api.h"

struct server {
    struct wd_api api;
    pthread_mutex_t mu; /* wd_api_handle and the store: one request at a time */
};

struct request {
    char *body;
    size_t len;
};

static int64_t now_ns(void)
{
    struct timespec t;
    (void)clock_gettime(CLOCK_REALTIME, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *data,
                              size_t *data_size, void **con_cls)
{
    struct server *s = cls;
    struct request *r = *con_cls;
    char path[1024];
    (void)version;
    if (r == NULL) {
        if ((r = calloc(1, sizeof *r)) == NULL) {
            return MHD_NO;
        }
        *con_cls = r;
        return MHD_YES;
    }
    if (*data_size > 0) {
        /* Past the bound the rest is dropped; the API answers 413. */
        size_t keep = r->len <= WD_API_BODY_MAX ? *data_size : 0u;
        char *b = keep ? realloc(r->body, r->len + keep + 1) : r->body;
        if (keep && b == NULL) {
            return MHD_NO;
        }
        if (keep) {
            memcpy(b + r->len, data, keep);
            b[r->len + keep] = '\0';
            r->body = b;
        }
        r->len += *data_size;
        *data_size = 0;
        return MHD_YES;
    }
    const char *qs = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "all");
    snprintf(path, sizeof path, "%s%s", url, qs != NULL ? "?all=1" : "");
    struct wd_api_response out;
    pthread_mutex_lock(&s->mu);
    (void)wd_api_handle(&s->api, method, path,
                        MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                    MHD_HTTP_HEADER_AUTHORIZATION),
                        r->body != NULL ? r->body : "", r->len, now_ns(), &out);
    pthread_mutex_unlock(&s->mu);
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        out.body_len, out.body != NULL ? out.body : (void *)(uintptr_t) "", MHD_RESPMEM_MUST_COPY);
    enum MHD_Result ok = resp != NULL ? MHD_YES : MHD_NO;
    if (ok == MHD_YES) {
        ok = MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    }
    if (ok == MHD_YES && out.www_authenticate != NULL) {
        ok = MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                                     out.www_authenticate);
    }
    if (ok == MHD_YES) {
        ok = MHD_queue_response(c, (unsigned)out.status, resp);
    }
    if (resp != NULL) {
        MHD_destroy_response(resp);
    }
    wd_api_response_destroy(&out);
    return ok;
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    struct request *r = *con_cls;
    (void)cls;
    (void)c;
    (void)toe;
    if (r != NULL) {
        free(r->body);
        free(r);
        *con_cls = NULL;
    }
}

int main(int argc, char **argv)
{
    struct server s;
    struct wd_config cfg;
    struct wd_config_report rep = {0};
    struct wd_error err = {0};
    struct wd_store *store = NULL;
    struct wd_tz *tz = NULL;
    if (argc != 3) {
        fprintf(stderr, "usage: api_serve STORE CONFIG\n");
        return 2;
    }
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL); /* inherited by the server's thread */
    if (wd_config_init(&cfg) != WD_OK || wd_config_load_file(argv[2], &cfg, &rep) != WD_OK) {
        for (size_t i = 0; i < rep.n; i++) {
            fprintf(stderr, "api_serve: %s:%llu: %s\n", argv[2],
                    (unsigned long long)rep.items[i].line, rep.items[i].msg);
        }
        wd_config_report_free(&rep);
        return 1;
    }
    wd_config_report_free(&rep);
    if (wd_tz_load(cfg.session.tz, &tz, &err) != WD_OK ||
        wd_store_open(argv[1], &store, &err) != WD_OK) {
        fprintf(stderr, "api_serve: %s\n", err.msg);
        return 1;
    }
    memset(&s, 0, sizeof s);
    s.api = (struct wd_api){.store = store, .cfg = &cfg, .tz = tz};
    pthread_mutex_init(&s.mu, NULL);
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, handle, &s, MHD_OPTION_SOCK_ADDR,
        (struct sockaddr *)&addr, MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
        MHD_OPTION_CONNECTION_TIMEOUT, 10u, MHD_OPTION_END);
    if (d == NULL) {
        fprintf(stderr, "api_serve: cannot start the HTTP server\n");
        return 1;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    printf("%u\n", info != NULL ? (unsigned)info->port : 0u);
    fflush(stdout);
    int sig = 0;
    (void)sigwait(&set, &sig);
    MHD_stop_daemon(d);
    pthread_mutex_destroy(&s.mu);
    wd_store_close(store);
    wd_tz_free(tz);
    wd_config_destroy(&cfg);
    return 0;
}
