/*
 * Test tool: serves a metrics registry with sample values over the real
 * HTTP adapter on 127.0.0.1 and an ephemeral port (or the address given as
 * the first argument), prints the port on stdout, then waits for signals:
 * SIGUSR1 makes /readyz answer 200, SIGTERM or SIGINT stops it (exit 0).
 * Used by tests/integration/metrics_http.sh.
 */
#include <signal.h>
#include <stdio.h>

#include "bus/http.h"
#include "warden/metrics.h"

static enum wd_status render(void *ctx, struct wd_render_buf *out)
{
    return wd_metrics_render(ctx, out);
}

static enum wd_status fill(struct wd_metrics *m)
{
    enum wd_status st = WD_OK;
    if (st == WD_OK) st = wd_metrics_set_figures(m, "firm", 1002500.25, 0.0025, 0.012, 0.04);
    if (st == WD_OK) st = wd_metrics_set_figures(m, "account:alpha", 480000, -0.04, 0.05, 0.05);
    if (st == WD_OK) st = wd_metrics_set_psr(m, "firm", 0.91);
    if (st == WD_OK) st = wd_metrics_set_state(m, "firm", WD_TS_ACTIVE);
    if (st == WD_OK) st = wd_metrics_set_state(m, "account:alpha", WD_TS_HALTED);
    if (st == WD_OK) st = wd_metrics_set_state(m, "strategy:mm-1", WD_TS_RAMP_UP);
    if (st == WD_OK) st = wd_metrics_observe_latency(m, 4000000);
    if (st == WD_OK) st = wd_metrics_observe_latency(m, 180000000);
    if (st == WD_OK) st = wd_metrics_observe_latency(m, 1500000000);
    if (st == WD_OK) st = wd_metrics_set_staleness(m, "AAPL", 0.5);
    if (st == WD_OK) st = wd_metrics_set_staleness(m, "we\"ird\\sym\nbol", 31);
    if (st == WD_OK) st = wd_metrics_set_open_incidents(m, "P0", "kill_pnl", 1);
    if (st == WD_OK) st = wd_metrics_set_events(m, 1000, 3);
    wd_metrics_set_rejection_ratio(m, 0.02);
    wd_metrics_set_consumer_lag(m, 7);
    return st;
}

int main(int argc, char **argv)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    /* Blocked before the server's thread starts, so that it inherits the mask. */
    pthread_sigmask(SIG_BLOCK, &set, NULL);

    struct wd_metrics *m = NULL;
    if (wd_metrics_new(&m) != WD_OK || fill(m) != WD_OK) {
        fprintf(stderr, "metrics_serve: cannot fill the registry\n");
        return 1;
    }
    struct wd_http_config cfg = {.listen = argc > 1 ? argv[1] : "127.0.0.1:0", .render = render, .ctx = m};
    struct wd_http *s = NULL;
    struct wd_error err = {0};
    if (wd_http_new(&cfg, &s, &err) != WD_OK) {
        fprintf(stderr, "metrics_serve: %s\n", err.msg);
        wd_metrics_free(m);
        return 1;
    }
    printf("%u\n", (unsigned)wd_http_port(s));
    fflush(stdout);
    for (;;) {
        int sig = 0;
        if (sigwait(&set, &sig) != 0 || sig != SIGUSR1) {
            break;
        }
        wd_http_lock(s);
        enum wd_status st = wd_metrics_set_events(m, 1001, 3); /* an update under the lock */
        wd_http_unlock(s);
        wd_http_set_ready(s, st == WD_OK);
    }
    wd_http_free(s);
    wd_metrics_free(m);
    return 0;
}
