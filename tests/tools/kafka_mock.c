/*
 * A Kafka cluster for the tests: librdkafka's mock cluster (rdkafka_mock.h,
 * the Kafka protocol in process). Usage: kafka_mock [BROKERS [PARTITIONS]].
 * Creates warden's eight default topics with PARTITIONS partitions, prints
 * the bootstrap address on stdout ("bootstrap HOST:PORT,...") and then
 * obeys lines on stdin until it ends or says "quit":
 *   down N / up N    take broker N (1-based) down or back up
 * Each command is answered "ok" on stdout.
 */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    static const char *const topics[] = {"market_events", "order_intents", "exec_reports",
                                         "system_events", "risk_decisions", "control",
                                         "incidents", "warden_state"};
    char errstr[256], line[128];
    int brokers = argc > 1 ? atoi(argv[1]) : 1;
    int parts = argc > 2 ? atoi(argv[2]) : 1;
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    if (rk == NULL) {
        fprintf(stderr, "kafka_mock: %s\n", errstr);
        return 1;
    }
    rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, brokers);
    if (mc == NULL) {
        fprintf(stderr, "kafka_mock: cannot start the mock cluster\n");
        return 1;
    }
    for (size_t i = 0; i < sizeof topics / sizeof topics[0]; i++) {
        if (rd_kafka_mock_topic_create(mc, topics[i], parts, 1) != RD_KAFKA_RESP_ERR_NO_ERROR) {
            fprintf(stderr, "kafka_mock: cannot create %s\n", topics[i]);
            return 1;
        }
    }
    printf("bootstrap %s\n", rd_kafka_mock_cluster_bootstraps(mc));
    fflush(stdout);
    while (fgets(line, sizeof line, stdin) != NULL) {
        int id;
        if (strncmp(line, "quit", 4) == 0) {
            break;
        }
        if (sscanf(line, "down %d", &id) == 1) {
            rd_kafka_mock_broker_set_down(mc, id);
        } else if (sscanf(line, "up %d", &id) == 1) {
            rd_kafka_mock_broker_set_up(mc, id);
        }
        printf("ok\n");
        fflush(stdout);
    }
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(rk);
    return 0;
}
