#!/bin/sh
# Event-time order while warden catches up a backlog (issue 7 point 2):
# 60,000 intents and their 60,000 fills, over 32 accounts and 8 partitions
# per topic, are on the bus before warden starts, every fill written before
# every intent. librdkafka fetches the partitions unevenly; without flow
# control the merge filled up with fills, or let them go after max_wait_ms,
# before their intents were read, and they were taken for unauthorized
# trades (P0-3). Now the partitions ahead are paused and a partition whose
# log end is past what was read is waited for (backlog_wait_ms): every
# intent is accepted, no fill is unauthorized, the merge never holds more
# than its pool, and every message is processed once (nothing lost or
# doubled by pausing). Usage: kafka_backlog.sh WARDEN KAFKA_MOCK
warden=$1
mock=$2
command -v kcat >/dev/null || { echo "SKIPPED: kcat not installed"; exit 77; }
. "$(dirname "$0")/daemon_lib.sh"
mpid=
trap 'kill -KILL $pid $mpid 2>/dev/null; rm -rf "$tmp"' EXIT

N=${BACKLOG_INTENTS:-60000}
kafka_mock_start "$mock" 1 8
cat >c.yaml <<EOF2
capital: 1000000
session: {tz: UTC, open: "00:00", close: "23:59", days: [Mon, Tue, Wed, Thu, Fri, Sat, Sun]}
kafka: {brokers: "$B", group: backlog, max_wait_ms: 20}
EOF2
# Stamps 1 us apart from now; each fill 500 ns after its intent; buys and
# sells alternate per account (positions stay small), all at the mid.
# (awk's numbers are doubles: the stamp is written as seconds, then the
# nanoseconds within them, N < 999,000.)
awk -v n="$N" -v sec="$(date +%s)" 'function ns(x) { return sprintf("%d%09d", sec, x) }
BEGIN {
    printf "a0|{\"type\":\"quote\",\"ts\":%s,\"account\":\"a0\",\"symbol\":\"XYZ\",\"bid\":9.99,\"ask\":10.01}\n", ns(0) > "quotes.txt"
    for (i = 0; i < n; i++) {
        a = "a" (i % 32); side = (int(i / 32) % 2) ? "SELL" : "BUY"; t = 1000 + i * 1000
        printf "%s|{\"type\":\"intent\",\"ts\":%s,\"account\":\"%s\",\"id\":\"o%d\",\"symbol\":\"XYZ\",\"side\":\"%s\",\"qty\":1,\"source\":\"s\"}\n", a, ns(t), a, i, side > "intents.txt"
        printf "%s|{\"type\":\"fill\",\"ts\":%s,\"account\":\"%s\",\"id\":\"o%d\",\"symbol\":\"XYZ\",\"side\":\"%s\",\"qty\":1,\"price\":10}\n", a, ns(t + 500), a, i, side > "fills.txt"
    }
}'
kcat -P -b "$B" -t market_events -K'|' -l quotes.txt 2>>kcat.err &&
    kcat -P -b "$B" -t exec_reports -K'|' -l fills.txt 2>>kcat.err &&
    kcat -P -b "$B" -t order_intents -K'|' -l intents.txt 2>>kcat.err ||
    { echo "FAIL: kcat could not produce: $(cat kcat.err)"; exit 1; }

"$warden" run --config c.yaml --db w.db --metrics-listen 127.0.0.1:0 --api-listen off \
    >w.out 2>w.err &
pid=$!
# The 120,001 messages processed, every partition at its end.
wait_for w.err " INFO run kafka caught up partitions=32 messages=$((2 * N + 1)) events=" 1200 && ok ||
    bad "not caught up with $((2 * N + 1)) messages: $(grep ' kafka ' w.err | tail -5)"
# (stdout is buffered: its last lines may come a little after the log's)
all_accepted() { [ "$(grep -c '"verdict":"accept"' w.out)" -ge "$N" ]; }
until_ok 100 all_accepted
acc=$(grep -c '"verdict":"accept"' w.out)
[ "$acc" = "$N" ] && ok || bad "$acc accepts, not $N"
grep -c '"verdict":"reject"' w.out | grep -qx 0 && ok || bad "rejects: $(grep -m3 '"verdict":"reject"' w.out)"
grep -q unauthorized w.out && bad "fills taken for unauthorized trades: $(grep -c unauthorized w.out) lines, first: $(grep -m1 unauthorized w.out)" || ok
# Each intent decided once (none lost or doubled by a pause and resume).
[ "$(grep -o '"id":"o[0-9]*","verdict"' w.out | sort -u | wc -l)" = "$N" ] && ok ||
    bad "not $N distinct decisions"
M=$(sed -n 's/.* INFO run started .* metrics=\([^ ]*\) .*/\1/p' w.err | tail -1)
sleep 1.2 # a tick: the merge's figures
curl -s "http://$M/metrics" >m.txt
held_max=$(sed -n 's/^warden_kafka_merge_held_max //p' m.txt)
[ -n "$held_max" ] && [ "$held_max" -le 65536 ] && ok || bad "merge held_max: $held_max"
grep -q '^warden_kafka_partitions_paused 0$' m.txt && ok ||
    bad "partitions still paused at the end: $(grep paused m.txt)"
grep -q '^warden_kafka_merge_backlog_wait_seconds 5$' m.txt && ok ||
    bad "no backlog wait in /metrics: $(grep backlog m.txt)"
kill -TERM $pid; wait $pid; rc=$?; pid=
[ $rc = 0 ] && ok || bad "exit status $rc after SIGTERM"
echo "merge held at most $held_max; $(grep -c . w.out) output lines" >&2
finish kafka_backlog
