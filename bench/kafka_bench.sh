#!/bin/sh
# warden's ingest rate from Kafka vs kcat's plain consumption of the same
# topic on the same cluster, in one run. The cluster is librdkafka's mock
# cluster (tests/tools/kafka_mock): no Kafka broker is packaged in Debian.
# Usage: bench/kafka_bench.sh BUILD_DIR [EVENTS]   (default 200000)
set -e
build=${1:-build}; n=${2:-200000}
tmp=$(mktemp -d); trap 'kill $mpid 2>/dev/null; rm -rf "$tmp"' EXIT
mkfifo "$tmp/ctl"; sleep 100000 >"$tmp/ctl" & sl=$!
"$build/tests/kafka_mock" 1 1 <"$tmp/ctl" >"$tmp/mock.out" & mpid=$!
while ! grep -q bootstrap "$tmp/mock.out"; do sleep 0.1; done
B=$(awk '/^bootstrap/{print $2}' "$tmp/mock.out")
ts=1763280000000000000
awk -v n="$n" -v ts="$ts" 'BEGIN{for(i=0;i<n;i++) printf "a%d|{\"type\":\"quote\",\"ts\":%d,\"account\":\"a%d\",\"symbol\":\"S%d\",\"bid\":10.0,\"ask\":10.02}\n", i%16, ts+i*1000, i%16, i%50}' >"$tmp/ev"
kcat -P -b "$B" -t market_events -K'|' -X linger.ms=20 <"$tmp/ev"
t0=$(date +%s.%N); kcat -C -b "$B" -t market_events -e -q >/dev/null; t1=$(date +%s.%N)
cat >"$tmp/c.yaml" <<EOF2
kafka: {brokers: "$B", group: bench, max_wait_ms: 0}
EOF2
t2=$(date +%s.%N)
"$build/warden" run --config "$tmp/c.yaml" --db "$tmp/s.db" --metrics-listen off --api-listen off \
    >/dev/null 2>"$tmp/err" & wpid=$!
while ! grep -q "resuming\|consuming" "$tmp/err"; do sleep 0.01; done
# done when the checkpoint holds every event
while :; do
    sleep 0.05
    c=$(sqlite3 "$tmp/s.db" "select events from snapshots where input_key='kafka:bench'" 2>/dev/null || true)
    [ "${c:-0}" -ge "$n" ] && break
done
t3=$(date +%s.%N); kill $wpid; wait $wpid || true; kill $sl
awk -v n="$n" -v a="$t0" -v b="$t1" -v c="$t2" -v d="$t3" 'BEGIN{
  k=n/(b-a); w=n/(d-c);
  printf "events %d\nkcat -C -e: %.2f s, %.0f events/s\nwarden run: %.2f s, %.0f events/s (%.0f%% of kcat)\n", n, b-a, k, d-c, w, 100*w/k}'
