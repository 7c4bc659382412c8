#!/bin/sh
# Scale-out with the accounts' state handed over (issue 7 point 4), on
# librdkafka's mock cluster with 4 partitions per topic. Eight accounts
# a0..a7, keyed by account. Stage 1: warden A alone; each even account
# buys 40 XYZ at 10; each odd account is halted by a person through A's
# API. Stage 2: warden B joins the group: the rebalance hands the shards
# that move over (the state topic); each even account buys 40 more, each
# odd account's intent is refused as halted wherever it now lives. The two
# wardens' positions together: each even account exactly once, at 80 (none
# lost, none doubled). Stage 3: B is killed (-9); its shards come back to A
# from B's last records; 40 more each: A alone holds every even account at
# exactly 120, and the odd ones are still halted. A message on the state
# topic that is not a record is skipped.
# Usage: kafka_handover.sh WARDEN KAFKA_MOCK
warden=$1
mock=$2
command -v kcat >/dev/null || { echo "SKIPPED: kcat not installed"; exit 77; }
. "$(dirname "$0")/daemon_lib.sh"
mpid=
pidb=
trap 'kill -KILL $pid $pidb $mpid 2>/dev/null; rm -rf "$tmp"' EXIT

kafka_mock_start "$mock" 1 4
VIEW=view-token-0123456789abcdef
RESP=resp-token-0123456789abcdef
RISK=risk-token-0123456789abcdef
api_config
cat >>c.yaml <<EOF2
kafka: {brokers: "$B", group: shared, max_wait_ms: 50,
        properties: {topic.metadata.refresh.interval.ms: 1000, session.timeout.ms: 6000,
                     heartbeat.interval.ms: 500}}
EOF2
put() { printf '%s|%s\n' "$2" "$3" | kcat -P -b "$B" -t "$1" -K'|' 2>>kcat.err; }
intent() { put order_intents "$1" "{\"type\":\"intent\",\"ts\":\"$(now)\",\"account\":\"$1\",\"id\":\"$2\",\"symbol\":\"XYZ\",\"side\":\"BUY\",\"qty\":40,\"source\":\"s\"}"; }
fill() { put exec_reports "$1" "{\"type\":\"fill\",\"ts\":\"$(now)\",\"account\":\"$1\",\"id\":\"$2\",\"symbol\":\"XYZ\",\"side\":\"BUY\",\"qty\":40,\"price\":10}"; }
# stage N: each even account buys (intent, then its fill once a warden has
# accepted the intent, as a broker would); each odd one tries.
decided() { cat a.out b.out 2>/dev/null | grep -q "\"id\":\"$1\",\"verdict\""; }
stage() {
    for a in 0 2 4 6; do
        intent a$a s$1a$a
        until_ok 100 decided s$1a$a || bad "no decision for s$1a$a"
        fill a$a s$1a$a
    done
    for a in 1 3 5 7; do intent a$a s$1a$a; done
}
# run NAME: a warden with its own store and API.
run() {
    "$warden" run --config c.yaml --db "$1.db" --metrics-listen off --api-listen 127.0.0.1:0 \
        >>"$1.out" 2>>"$1.err" &
}
api_of() { sed -n 's/.* INFO run started .* api=\([^ ]*\).*/\1/p' "$1.err" | tail -1; }
# positions NAME: "account qty" lines of that warden's book (XYZ).
positions() {
    curl -s -m 5 -H "Authorization: Bearer $VIEW" "http://$(api_of "$1")/api/v1/positions" |
        grep -o '"account":"a[0-9]","symbol":"XYZ","qty":"*[0-9.-]*' |
        sed 's/"account":"\(a[0-9]\)","symbol":"XYZ","qty":"*\([0-9.-]*\)/\1 \2/'
}

for a in 0 1 2 3 4 5 6 7; do
    put market_events a$a "{\"type\":\"quote\",\"ts\":\"$(now)\",\"account\":\"a$a\",\"symbol\":\"XYZ\",\"bid\":9.99,\"ask\":10.01}"
done
for a in 0 2 4 6; do intent a$a s1a$a; fill a$a s1a$a; done
# Something that is not a record, under each shard's key of the group:
# skipped (a shard never starts from it, nor is stopped by it).
for n in 0 1 2 3; do put warden_state "shared/$n" "not a handover record"; done
run a; pid=$!
wait_for a.err ' INFO run kafka caught up partitions=16 messages=16 ' 200 && ok ||
    bad "A did not catch up: $(grep -i kafka a.err | tail -5)"
[ "$(grep -c 'a record under shared/[0-3] is not a handover record of this shard: skipped' a.err)" = 4 ] && ok ||
    bad "the 4 stray messages on the state topic not skipped: $(grep -i 'record' a.err)"
A=$(api_of a)
for a in 1 3 5 7; do
    code=$(curl -s -m 5 -o h.out -w '%{http_code}' -H "Authorization: Bearer $RISK" \
        -d "{\"scope\":\"account:a$a\",\"reason\":\"desk review\"}" "http://$A/api/v1/halt")
    [ "$code" = 200 ] && ok || bad "halt a$a: $code $(cat h.out)"
done
[ "$(positions a | sort | tr '\n' ' ')" = "a0 40 a2 40 a4 40 a6 40 " ] && ok ||
    bad "stage 1 positions: $(positions a | tr '\n' ' ')"
# No message after the halts, and more than a second: the halts alone must
# make the shards' records be written again.
sleep 2.5

# Stage 2: B joins; the shards split 2 and 2.
run b; pidb=$!
wait_for b.err ' INFO run kafka assigned partitions=8$' 300 && ok ||
    bad "B got no 8 partitions: $(grep -i 'kafka' b.err | tail -5)"
wait_for a.err ' INFO run kafka assigned partitions=8$' 100 && ok ||
    bad "A kept no 8 partitions: $(grep -i 'kafka' a.err | tail -5)"
grep -q 'accounts and [0-9]* trading states handed over' b.err && ok ||
    bad "B took no handover record: $(grep -i 'shard' b.err)"
stage 2
wait_for a.out '"id":"s2a7","verdict"' 100 || wait_for b.out '"id":"s2a7","verdict"' 100
sleep 1
for a in 1 3 5 7; do
    cat a.out b.out | grep -q "\"id\":\"s2a$a\",\"verdict\":\"reject\",\"reason\":\"halted\"" && ok ||
        bad "a$a's intent after the rebalance not refused as halted: $(cat a.out b.out | grep "s2a$a")"
done
cat a.out b.out | grep -q unauthorized && bad "an unauthorized trade after the rebalance: $(cat a.out b.out | grep -m1 unauthorized)" || ok
got=$( (positions a; positions b) | sort | tr '\n' ' ')
[ "$got" = "a0 80 a2 80 a4 80 a6 80 " ] && ok ||
    bad "stage 2: the two wardens' positions are not each even account once at 80: $got (A: $(positions a | tr '\n' ' ') B: $(positions b | tr '\n' ' '))"

# Stage 3: B dies; A gets B's shards back from B's last records.
sleep 1.3 # B's periodic record (every second) after stage 2
kill -KILL $pidb; wait $pidb 2>/dev/null; pidb=
# (the second time A is assigned all 16: the group waits for B's session
# to time out, then for the rebalance)
all_back() { [ "$(grep -c ' INFO run kafka assigned partitions=16$' a.err)" -ge 2 ]; }
until_ok 600 all_back && ok ||
    bad "A did not get the 16 partitions back: $(grep -i 'kafka' a.err | tail -5)"
stage 3
wait_for a.out '"id":"s3a7","verdict"' 100 && wait_for a.out '"id":"s3a6","verdict"' 100 && ok ||
    bad "A decided no stage 3 intents"
sleep 1
[ "$(positions a | sort | tr '\n' ' ')" = "a0 120 a2 120 a4 120 a6 120 " ] && ok ||
    bad "stage 3: A's positions are not each even account at 120: $(positions a | tr '\n' ' ')"
for a in 1 3 5 7; do
    grep -q "\"id\":\"s3a$a\",\"verdict\":\"reject\",\"reason\":\"halted\"" a.out && ok ||
        bad "a$a's intent after B died not refused as halted: $(grep "s3a$a" a.out)"
done
grep -q unauthorized a.out && bad "an unauthorized trade after B died: $(grep -m1 unauthorized a.out)" || ok
stop TERM "warden A"
finish kafka_handover
