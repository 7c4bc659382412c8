/*
 * The reading of librdkafka's statistics JSON (src/kafka/kafka.c,
 * wd__kafka_parse_stats): the high watermark of each partition of each
 * topic, librdkafka's internal partition -1 left out, nested objects
 * (brokers, windows) skipped, and a malformed document read as nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "kafka/kafka.h"

struct seen {
    char text[512];
};

static void add(void *ctx, const char *topic, size_t topic_len, int32_t partition, int64_t hi)
{
    struct seen *s = ctx;
    size_t n = strlen(s->text);
    snprintf(s->text + n, sizeof s->text - n, "%.*s/%d=%lld;", (int)topic_len, topic,
             (int)partition, (long long)hi);
}

/* Shaped like librdkafka 2.0's statistics (fields trimmed). */
static const char stats[] =
    "{\"name\":\"rdkafka#consumer-1\",\"type\":\"consumer\",\"ts\":1,"
    "\"brokers\":{\"127.0.0.1:9092/1\":{\"state\":\"UP\",\"rtt\":{\"min\":1,\"max\":2},"
    "\"toppars\":{\"order_intents-0\":{\"topic\":\"order_intents\",\"partition\":0}}}},"
    "\"topics\":{"
    "\"order_intents\":{\"topic\":\"order_intents\",\"age\":5,\"batchsize\":{\"min\":0},"
    "\"partitions\":{"
    "\"0\":{\"partition\":0,\"broker\":1,\"hi_offset\":42,\"lo_offset\":0,\"consumer_lag\":2},"
    "\"1\":{\"partition\":1,\"broker\":1,\"hi_offset\":7,\"consumer_lag\":-1},"
    "\"-1\":{\"partition\":-1,\"hi_offset\":-1001}}},"
    "\"exec_reports\":{\"topic\":\"exec_reports\",\"partitions\":{"
    "\"0\":{\"partition\":0,\"hi_offset\":-1001}}}},"
    "\"cgrp\":{\"state\":\"up\"}}";

static void test_kafka_stats_high_watermark_per_partition(void **state)
{
    (void)state;
    struct seen s = {{0}};
    assert_int_equal(wd__kafka_parse_stats(stats, strlen(stats), add, &s), 3);
    assert_string_equal(s.text, "order_intents/0=42;order_intents/1=7;exec_reports/0=-1001;");
}

static void test_kafka_stats_malformed_reads_nothing(void **state)
{
    (void)state;
    struct seen s = {{0}};
    assert_int_equal(wd__kafka_parse_stats(stats, strlen(stats) - 3, add, &s), 0);
    assert_int_equal(wd__kafka_parse_stats("{\"topics\":[1,2]}", 16, add, &s), 0);
    assert_int_equal(wd__kafka_parse_stats("", 0, add, &s), 0);
    assert_string_equal(s.text, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kafka_stats_high_watermark_per_partition),
        cmocka_unit_test(test_kafka_stats_malformed_reads_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
