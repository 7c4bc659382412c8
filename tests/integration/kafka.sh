#!/bin/sh
# `warden run` on Kafka, against librdkafka's mock cluster (tests/tools/
# kafka_mock): consume -> decide -> produce (an ack and a fill read before
# their intent are not unauthorized); kill -9 and restart count every fill
# once; a broker taken down raises bus_failure and recovers; two wardens in
# one group split the partitions; with the broker down, SIGTERM still stops
# warden within seconds and nothing is lost. Usage: kafka.sh WARDEN KAFKA_MOCK
warden=$1
mock=$2
command -v kcat >/dev/null || { echo "SKIPPED: kcat not installed"; exit 77; }
. "$(dirname "$0")/daemon_lib.sh"
mpid=
pid2=
trap 'kill -KILL $pid $pid2 $mpid 2>/dev/null; rm -rf "$tmp"' EXIT

kafka_mock_start "$mock" 1 2
cat >c.yaml <<EOF2
capital: 1000
session: {tz: UTC, open: "00:00", close: "23:59", days: [Mon, Tue, Wed, Thu, Fri, Sat, Sun]}
kafka: {brokers: "$B", group: wardens, max_wait_ms: 200,
        properties: {topic.metadata.refresh.interval.ms: 1000, reconnect.backoff.max.ms: 200,
                     session.timeout.ms: 6000, heartbeat.interval.ms: 500}}
tokens: [{name: vic, role: viewer, token: $VIEW}]
EOF2
put() { printf 'acct1|%s\n' "$2" | kcat -P -b "$B" -t "$1" -K'|' 2>>kcat.err; }
intent() { put order_intents "{\"type\":\"intent\",\"ts\":\"$(now)\",\"account\":\"acct1\",\"id\":\"$1\",\"symbol\":\"XYZ\",\"side\":\"BUY\",\"qty\":10,\"source\":\"s\"}"; }
fill() { put exec_reports "{\"type\":\"fill\",\"ts\":\"$(now)\",\"account\":\"acct1\",\"id\":\"$1\",\"symbol\":\"XYZ\",\"side\":\"BUY\",\"qty\":10,\"price\":10}"; }
q() { put market_events "{\"type\":\"quote\",\"ts\":\"$(now)\",\"account\":\"acct1\",\"symbol\":\"XYZ\",\"bid\":$1,\"ask\":$2}"; }
start() { "$warden" run --config c.yaml --db "$1.db" --metrics-listen "${MET:-off}" --api-listen "${API:-off}" >>"$1.out" 2>>"$1.err" & }

t0=$(now)
# 1. Consume -> decide -> produce. Each intent is stamped first but
# written to Kafka after its fill: the merge puts it back in front.
q 9.99 10.01
for i in 1 2 3 4 5; do
    t=$(now); sleep 0.002
    fill o$i
    put order_intents "{\"type\":\"intent\",\"ts\":\"$t\",\"account\":\"acct1\",\"id\":\"o$i\",\"symbol\":\"XYZ\",\"side\":\"BUY\",\"qty\":10,\"source\":\"s\"}"
done
start a; pid=$!
wait_for a.out '"id":"o5","verdict":"accept"' 300 && ok || bad "no decision for o5: $(grep -v CONFWARN a.err | tail -8)"
grep -q unauthorized a.out && bad "a fill read before its intent was taken as unauthorized" || ok
# Every partition at its end, the merge empty: said once, with the 11
# messages. A partition's last messages and its end come in one poll;
# the end is applied after them (else the merge never takes the partition
# for caught up again, and this is never said).
wait_for a.err ' INFO run kafka caught up partitions=8 messages=11 events=' 100 && ok ||
    bad "no 'kafka caught up' with the 11 messages: $(grep ' kafka ' a.err)"
grep -q ' INFO run kafka assigned partitions=8$' a.err && ok || bad "no 'kafka assigned partitions=8'"
sleep 1.3 # a handover record and commit (every second; the store's checkpoint every 100 ms)
[ "$(kcat -C -b "$B" -t risk_decisions -e -q -f '%k\n' | grep -c '^acct1$')" = 5 ] && ok ||
    bad "risk_decisions does not hold 5 decisions keyed acct1"
grep -q '"partition":[01],"offset":[0-9]' a.out && ok || bad "outputs without partition and offset"

# 2. kill -9, more fills, restart: every fill counted once. 10 fills of
# 10 at 10 = 100 XYZ; the quote at 9.40 is then -60 on 1000: -6.00%.
kill -KILL $pid; wait $pid 2>/dev/null; pid=
t5=$(now)
for i in 6 7 8 9 10; do intent o$i; fill o$i; done
# `warden kafka lag` while no warden runs: the group committed 5 intents
# and 5 fills on acct1's partition, 10 of each are there; the other
# partition has no committed offset and nothing in it.
"$warden" kafka lag --config c.yaml >lag.txt 2>lag.err || bad "kafka lag failed: $(cat lag.err)"
head -1 lag.txt | grep -q '^GROUP  *TOPIC  *PARTITION  *CURRENT-OFFSET  *LOG-END-OFFSET  *LAG$' && ok ||
    bad "kafka lag header: $(head -1 lag.txt)"
grep -q '^wardens  *order_intents  *[01]  *5  *10  *5$' lag.txt && ok || bad "kafka lag intents: $(cat lag.txt)"
grep -q '^wardens  *exec_reports  *[01]  *5  *10  *5$' lag.txt && ok || bad "kafka lag fills: $(cat lag.txt)"
grep -q '^wardens  *market_events  *[01]  *1  *1  *0$' lag.txt && ok || bad "kafka lag quotes: $(cat lag.txt)"
grep -q '^wardens  *system_events  *[01]  *-  *0  *-$' lag.txt && ok || bad "kafka lag, no offset: $(cat lag.txt)"
[ "$(wc -l <lag.txt)" = 9 ] && ok || bad "kafka lag: not 8 partitions: $(cat lag.txt)"
"$warden" kafka lag --config c.yaml --json | grep -q '"partition":[01],"current_offset":5,"log_end_offset":10,"lag":5}.*"total_lag":10}$' &&
    ok || bad "kafka lag --json: $("$warden" kafka lag --config c.yaml --json)"
MET=127.0.0.1:0 API=127.0.0.1:0 start a; pid=$!
wait_for a.out '"id":"o10","verdict":"accept"' 300 && ok || bad "no decision for o10 after restart"
grep -q 'resuming after event' a.err && ok || bad "the restart did not resume from the checkpoint"
# The 10 new messages read, every partition at its end: the quote below
# then waits for nothing (not released after max_wait_ms: the count of
# late releases, taken after two ticks, does not move).
wait_for a.err ' INFO run kafka caught up partitions=8 messages=10 events=' 100 && ok ||
    bad "no 'kafka caught up' with the 10 new messages: $(grep ' kafka ' a.err)"
M=$(sed -n 's/.* INFO run started .* metrics=\([^ ]*\) .*/\1/p' a.err | tail -1)
sleep 2.2 # two ticks: the merge's figures are taken each second
late0=$(curl -s "http://$M/metrics" | grep '^warden_kafka_merge_released_late_total ')
q 9.39 9.41
wait_for a.out '"action":"halt"' 100 && ok || bad "no halt after the drop"
# /metrics: the lag of each of the 8 partitions (all read: 0), the merge.
sleep 2.2 # two ticks: the lag is taken each second
curl -s "http://$M/metrics" >m.txt
[ "$(grep -c '^warden_consumer_lag_messages{topic="[a-z_]*",partition="[01]"} 0$' m.txt)" = 8 ] && ok ||
    bad "no lag per partition in /metrics: $(grep consumer_lag m.txt)"
grep -q '^warden_consumer_lag_messages 0$' m.txt && ok || bad "no total lag in /metrics"
grep -q '^warden_kafka_merge_max_wait_seconds 0.2$' m.txt && grep -q '^warden_kafka_merge_held 0$' m.txt &&
    grep -q '^warden_kafka_merge_held_max [1-9]' m.txt && ok || bad "no merge metrics: $(grep merge m.txt)"
[ -n "$late0" ] && grep -qx "$late0" m.txt && ok ||
    bad "the quote waited for a partition at its end: $late0, then $(grep released_late_total m.txt)"

# ---- GET /api/v1/kafka/lag (issue 7 point 5) --------------------------------
# The rows of the same ticks as /metrics above (nothing moves in between):
# acct1's partition P holds the 10 intents, 10 fills and 2 quotes, all
# read; the others are empty (position null: nothing read, none
# committed). Then the same positions and log-end offsets as `warden kafka
# lag` (the group's commits: the checkpoint is done), the same lag per
# partition as /metrics, the merge's figures as /metrics'; no token: 401.
A=$(sed -n 's/.* INFO run started .* api=\([^ ]*\).*/\1/p' a.err | tail -1)
[ "$(api GET /api/v1/kafka/lag "$VIEW")" = 200 ] && ok || bad "GET kafka/lag: $(cat api.out)"
cp api.out lag.json
P=$(sed -n 's/.*"topic":"order_intents","partition":\([01]\),"position":10,.*/\1/p' lag.json)
exp=
for t in exec_reports:10 market_events:2 order_intents:10 system_events:-; do
    for p in 0 1; do
        n=${t#*:}
        [ "$p" = "$P" ] && [ "$n" != - ] || n=
        exp="$exp${exp:+,}{\"topic\":\"${t%:*}\",\"partition\":$p,\"position\":${n:-null},\"high_watermark\":${n:-0},\"lag\":0}"
    done
done
hm=$(sed -n 's/^warden_kafka_merge_held_max //p' m.txt)
rl=$(sed -n 's/^warden_kafka_merge_released_late_total //p' m.txt)
bw=$(sed -n 's/^warden_kafka_merge_backlog_wait_seconds \([0-9]*\)$/\1000/p' m.txt)
grep -qF "{\"group\":\"wardens\",\"partitions\":[$exp],\"total\":0,\"open\":1000,\"close\":100,\"merge\":{\"held\":0,\"held_max\":$hm,\"released_late\":$rl,\"paused\":0,\"max_wait_ms\":200,\"backlog_wait_ms\":$bw},\"updated\":\"" lag.json &&
    ok || bad "GET kafka/lag: $(cat lag.json), expected partitions [$exp] and merge held_max $hm released_late $rl backlog_wait_ms $bw"
upd=$(sed -n 's/.*,"updated":"\(20[0-9-]*T[0-9:.]*Z\)"}$/\1/p' lag.json)
[ -n "$upd" ] && [ $(($(date +%s) - $(date -u -d "$upd" +%s))) -le 3 ] && ok ||
    bad "GET kafka/lag: updated is not the last tick's RFC 3339 time: $(cat lag.json)"
# rows FILE POSITION-KEY END-KEY: "topic partition position end" a line, -1 as null.
rows() {
    tr '{' '\n' <"$1" | sed -n "s/^\"topic\":\"\([a-z_]*\)\",\"partition\":\([0-9]*\),\"$2\":\([0-9-]*\|null\),\"$3\":\([0-9]*\),.*/\1 \2 \3 \4/p" |
        sed 's/ -1 / null /' | sort
}
"$warden" kafka lag --config c.yaml --json >lagc.json 2>&1
[ "$(rows lag.json position high_watermark)" = "$(rows lagc.json current_offset log_end_offset)" ] &&
    [ "$(rows lag.json position high_watermark | wc -l)" = 8 ] && ok ||
    bad "GET kafka/lag and warden kafka lag differ: $(cat lag.json lagc.json)"
[ "$(tr '{' '\n' <lag.json | sed -n 's/^"topic":"\([a-z_]*\)","partition":\([0-9]*\),.*"lag":\([0-9]*\)}.*/warden_consumer_lag_messages{topic="\1",partition="\2"} \3/p' |
    grep -cxFf - m.txt)" = 8 ] && ok || bad "GET kafka/lag's lag is not /metrics': $(cat lag.json)"
[ "$(api GET /api/v1/kafka/lag "")" = 401 ] && grep -q '"error"' api.out && ok ||
    bad "GET kafka/lag without a token: not 401: $(cat api.out)"
# The dashboard's Kafka lag panel shows the 8 rows (Debian's chromium, when installed).
browser=$(command -v chromium chromium-browser | head -1)
if [ -n "$browser" ]; then
    timeout 60 "$browser" --headless --no-sandbox --disable-gpu --no-first-run --user-data-dir="$PWD/chrome" \
        --virtual-time-budget=6000 --dump-dom "http://$A/incidents#token=$VIEW" >dash.html 2>dash.err
    [ "$(grep -o '<tr><td class="mono">[a-z_]*</td><td>[01]</td><td>[0-9-]*</td><td>[0-9]*</td><td>0</td></tr>' dash.html | wc -l)" = 8 ] &&
        grep -q "<tr><td class=\"mono\">exec_reports</td><td>$P</td><td>10</td><td>10</td><td>0</td></tr>" dash.html &&
        ok || bad "the dashboard's Kafka lag panel: $(grep -o '<section id="lag">.\{0,900\}' dash.html) $(head -c 300 dash.err)"
fi
# ---- end of GET /api/v1/kafka/lag --------------------------------------------

# `warden replay --kafka`: history from the bus, in event time across the
# topics (the fills written before their intents are not unauthorized),
# from --from on; the live group's committed offsets do not move.
"$warden" kafka lag --config c.yaml >lag1.txt
"$warden" replay --config c.yaml --db r1.db --kafka order_intents,exec_reports --from "$t0" \
    >r1.out 2>r1.err || bad "replay --kafka failed: $(cat r1.err)"
[ "$(grep -c '"verdict":"accept"' r1.out)" = 10 ] && ok || bad "replay --kafka: not 10 accepts: $(cat r1.out r1.err)"
grep -q unauthorized r1.out && bad "replay --kafka: an unauthorized trade" || ok
grep -q '"partition":[01],"offset":0,"id":"o1","verdict":"accept"' r1.out && ok ||
    bad "replay --kafka: o1 without its partition and offset: $(head -2 r1.out)"
"$warden" replay --config c.yaml --db r2.db --kafka order_intents,exec_reports --from "$t5" \
    >r2.out 2>r2.err || bad "replay --kafka --from t5 failed: $(cat r2.err)"
[ "$(grep -c '"verdict":"accept"' r2.out)" = 5 ] && grep -q '"id":"o6","verdict":"accept"' r2.out && ok ||
    bad "replay --kafka --from t5: not o6..o10: $(cat r2.out)"
"$warden" replay --config c.yaml --db r3.db --kafka order_intents --from "$t0" --to "$t5" \
    >r3.out 2>r3.err || bad "replay --kafka --to failed: $(cat r3.err)"
[ "$(grep -c '"verdict":"accept"' r3.out)" = 5 ] && ok || bad "replay --kafka --to t5: $(cat r3.out)"
"$warden" replay --config c.yaml --db r4.db --kafka nosuch --from "$t0" 2>r4.err
[ $? = 2 ] && grep -q 'nosuch is not one of the input topics' r4.err && ok ||
    bad "replay --kafka nosuch: $(cat r4.err)"
"$warden" kafka lag --config c.yaml >lag2.txt
cmp -s lag1.txt lag2.txt && ok || bad "replay --kafka moved the group's offsets: $(diff lag1.txt lag2.txt)"
grep -q '"detail":"PnL=-6.00% < KILL_PNL=-5%"' a.out && ok ||
    bad "fills not counted exactly once: $(grep kill_pnl a.out)"
kcat -C -b "$B" -t control -e -q | grep -q '"action":"halt","scope":"account:acct1"' && ok ||
    bad "the halt is not on the control topic"

# 3. The broker goes down: bus_failure; back up: recovered.
echo "down 1" >&3
wait_for a.out '"scenario":"bus_failure","status":"open"' 150 && ok || bad "no bus_failure with the broker down"
echo "up 1" >&3
sleep 1
q 9.39 9.41
wait_for a.out '"scenario":"bus_failure","status":"monitoring"' 200 && ok || bad "bus_failure did not recover"

# 4. A second warden in the group: the partitions are split, each one
# gets the same partition of every topic (co-partitioned by account).
start b; pid2=$!
wait_for b.err 'kafka: assigned ' 600 && ok || bad "the second warden got no partition"
sleep 2
na=$(grep -c 'kafka: assigned ' b.err)
parts=$(grep 'kafka: assigned ' b.err | sed 's/.*assigned [a-z_]*\/\([0-9]*\).*/\1/' | sort -u | wc -l)
[ "$na" = 4 ] && [ "$parts" = 1 ] && ok || bad "second warden: $na assignments over $parts partitions"
pid_a=$pid
pid=$pid2; pid2=
stop TERM "second warden"
pid=$pid_a

# 5. The cluster is gone: SIGTERM still stops warden, with exit status 0,
# within a few seconds (a bounded last flush and leave of the group); what
# was not checkpointed is read again at the next start, and the halt holds.
echo "down 1" >&3
n=0 # the second bus_failure (the first was step 3's)
while [ "$(grep -c '"scenario":"bus_failure","status":"open"' a.out)" -lt 2 ] && [ $n -lt 150 ]; do
    n=$((n + 1)); sleep 0.1
done
intent o11 2>/dev/null # queued by kcat for nothing: the broker is down
kill -TERM $pid
n=0
while kill -0 $pid 2>/dev/null && [ $n -lt 100 ]; do n=$((n + 1)); sleep 0.1; done
kill -0 $pid 2>/dev/null && bad "SIGTERM with the broker down: warden still running after 10 s" || ok
wait $pid; rc=$?; pid=
[ "$rc" = 0 ] && ok || bad "exit status $rc after SIGTERM with the broker down"
echo "up 1" >&3
sleep 1
start a; pid=$!
intent o12
wait_for a.out '"id":"o12","verdict":"reject","reason":"halted"' 200 && ok ||
    bad "after the stop with the broker down, o12 was not rejected (halted): $(tail -3 a.err)"
stop TERM "first warden"
echo quit >&3
finish kafka
