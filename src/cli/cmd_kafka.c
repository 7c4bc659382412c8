/*
 * `warden kafka lag` (docs/KAFKA.md, issue 7 point 5): the consumer
 * group's lag per partition, printed like `kafka-consumer-groups
 * --describe`. It reads the group's committed offsets and each partition's
 * log-end offset from the brokers without joining the group (nothing is
 * subscribed or committed), so it can run beside the live wardens.
 */
#define _DEFAULT_SOURCE
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cmds.h"
#include "cli/jsonout.h"
#include "kafka/kafka.h"
#include "warden/config.h"

#define TIMEOUT_MS 5000

static const char usage[] =
    "Usage: warden kafka lag [--config FILE] [--json]\n"
    "\n"
    "The consumer group's lag on each partition of the four input topics, asked\n"
    "of the brokers without joining the group (like kafka-consumer-groups\n"
    "--describe): GROUP TOPIC PARTITION CURRENT-OFFSET LOG-END-OFFSET LAG.\n"
    "CURRENT-OFFSET is the group's committed offset (\"-\" when it has none;\n"
    "warden's own store may be ahead by one checkpoint), LAG = LOG-END - CURRENT.\n"
    "Brokers, group, topics and security come from the configuration's kafka\n"
    "section (docs/KAFKA.md). Each broker request waits at most 5 s.\n"
    "\n"
    "  --config FILE  the configuration (kafka section)\n"
    "  --json         one JSON object: group, partitions [{topic, partition,\n"
    "                 current_offset, log_end_offset, lag}] (-1: unknown),\n"
    "                 total_lag\n"
    "\n"
    "Exit status: 0, 1 (the cluster did not answer), 2 (usage, configuration).\n";

struct rows {
    struct wd_kafka_lag_row *v;
    size_t n, cap;
    bool oom;
};

static void add_row(void *ctx, const struct wd_kafka_lag_row *row)
{
    struct rows *r = ctx;
    if (r->n == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 64;
        struct wd_kafka_lag_row *v = realloc(r->v, cap * sizeof *v);
        if (v == NULL) {
            r->oom = true;
            return;
        }
        r->v = v;
        r->cap = cap;
    }
    r->v[r->n++] = *row;
}

static void cell(char *buf, size_t cap, int64_t v)
{
    if (v < 0) {
        snprintf(buf, cap, "-");
    } else {
        snprintf(buf, cap, "%" PRId64, v);
    }
}

static void print_table(const char *group, const struct rows *r)
{
    printf("%-24s %-20s %-10s %-15s %-15s %s\n", "GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET",
           "LOG-END-OFFSET", "LAG");
    for (size_t i = 0; i < r->n; i++) {
        char cur[24], end[24], lag[24];
        cell(cur, sizeof cur, r->v[i].position);
        cell(end, sizeof end, r->v[i].high);
        cell(lag, sizeof lag, r->v[i].lag);
        printf("%-24s %-20s %-10" PRId32 " %-15s %-15s %s\n", group, r->v[i].topic,
               r->v[i].partition, cur, end, lag);
    }
}

static void print_json(const char *group, const struct rows *r)
{
    struct jw w;
    int64_t total = 0;
    jw_init(&w, stdout);
    jw_obj_begin(&w);
    jw_key(&w, "group");
    jw_str(&w, group);
    jw_key(&w, "partitions");
    jw_arr_begin(&w);
    for (size_t i = 0; i < r->n; i++) {
        jw_obj_begin(&w);
        jw_key(&w, "topic");
        jw_str(&w, r->v[i].topic);
        jw_key(&w, "partition");
        jw_int(&w, r->v[i].partition);
        jw_key(&w, "current_offset");
        jw_int(&w, r->v[i].position);
        jw_key(&w, "log_end_offset");
        jw_int(&w, r->v[i].high);
        jw_key(&w, "lag");
        jw_int(&w, r->v[i].lag);
        jw_obj_end(&w);
        total += r->v[i].lag > 0 ? r->v[i].lag : 0;
    }
    jw_arr_end(&w);
    jw_key(&w, "total_lag");
    jw_int(&w, total);
    jw_obj_end(&w);
    jw_finish(&w);
}

static int kafka_lag(int argc, char **argv)
{
    static const struct option longopts[] = {{"config", required_argument, NULL, 'c'},
                                             {"json", no_argument, NULL, 'j'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    const char *config = NULL;
    bool json = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:jh", longopts, NULL)) != -1) {
        switch (c) {
        case 'c': config = optarg; break;
        case 'j': json = true; break;
        case 'h': fputs(usage, stdout); return CLI_OK;
        default: fputs(usage, stderr); return CLI_USAGE;
        }
    }
    if (optind != argc) {
        cli_errorf("kafka lag: unexpected argument '%s'", argv[optind]);
        return CLI_USAGE;
    }
    struct wd_config cfg;
    struct wd_error err = {0};
    struct wd_kafka *k = NULL;
    struct rows rows = {0};
    int rc = cli_config_load(&cfg, config);
    if (rc != CLI_OK) {
        wd_config_destroy(&cfg);
        return rc;
    }
    enum wd_status st = wd_kafka_new(&cfg, true, false, NULL, &k, &err);
    if (st == WD_OK) {
        st = wd_kafka_group_lag(k, TIMEOUT_MS, add_row, &rows, &err);
    }
    if (st != WD_OK || rows.oom) {
        cli_errorf("kafka lag: %s", rows.oom ? "out of memory" : err.msg);
        rc = st == WD_EINVAL ? CLI_USAGE : CLI_FAIL;
    } else if (json) {
        print_json(cfg.kafka.group, &rows);
    } else {
        print_table(cfg.kafka.group, &rows);
    }
    wd_kafka_free(k, 0);
    wd_config_destroy(&cfg);
    free(rows.v);
    return rc;
}

int cmd_kafka(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "lag") == 0) {
        return kafka_lag(argc - 1, argv + 1);
    }
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        fputs(usage, stdout);
        return CLI_OK;
    }
    cli_errorf("kafka: expected 'lag' (see 'warden kafka --help')");
    return CLI_USAGE;
}
