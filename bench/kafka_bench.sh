#!/bin/sh
# Kafka ingestion: the rate at which `warden run` consumes the input topics
# against the rate at which kcat merely reads them, from the same cluster
# (issue 7, point 8). Run by hand, never by ctest:
#
#   bench/kafka_bench.sh [EVENTS [RUNS]]      # defaults 1000000 and 5
#
# Environment: KEEP=1 keeps the scratch directory, NO_BUILD=1 uses build/
# as it is, PARTITIONS forces the partitions per topic.
#
# Debian has no Kafka broker (apt-cache search kafka: clients only), so the
# cluster is librdkafka's mock cluster (tests/tools/kafka_mock): the Kafka
# protocol over TCP on localhost, in a process of its own. The mock keeps
# at most 5 MiB and 100,000 messages per partition (older message sets are
# dropped), so the topics get enough partitions for the session to fit in
# 4 MiB each (PARTITIONS).
#
# Builds the release preset, writes a session with `bench_decode --dump`,
# sends each line to its topic (quotes and trades: market_events; intents:
# order_intents; acks and fills: exec_reports; the rest: system_events),
# keyed by its account (else its symbol), the partitions of a topic taken
# in turn (kcat -P -p), its `seq` renumbered per topic, and checks that the
# cluster holds EVENTS messages.
# Then RUNS times, interleaved, on the same cluster and topics:
#   (a) kcat, a balanced consumer on the four topics (a fresh group, like
#       warden): `kcat -b B -G GROUP -o beginning -e TOPICS >/dev/null`,
#       timed from its "rebalanced ... assigned" line to its "Reached end
#       ... exiting" line (stderr, stamped as read); the count of messages
#       is checked once, beforehand (counting would add a pipe);
#   (b) `warden run` with a kafka section (a fresh group, a fresh store,
#       listeners off), timed from its `kafka assigned` log line to its
#       `kafka caught up` line (every assigned partition at its end and
#       nothing held by the merge), which must say messages=EVENTS; then
#       SIGTERM.
# Both join a group: the mock cluster holds a new group's first join ~3 s
# (and the first fetch takes a while), the same for both; the ratio is
# taken from the assignment on, and launch-to-end ("wall") is printed
# beside it. Prints every run, the medians and the medians of the per-run
# ratios. The target is b/a >= 70% (from the assignment).
set -eu

events=${1:-1000000}
runs=${2:-5}
root=$(cd "$(dirname "$0")/.." && pwd)

command -v kcat >/dev/null 2>&1 || { echo "kafka_bench: kcat is missing: apt-get install kcat" >&2; exit 2; }
bench=kafka_bench
. "$root/bench/lib.sh"
bench_start warden bench_decode kafka_mock

"$root/build/bench/bench_decode" --dump --events "$events" >s.jsonl
n=$(wc -l <s.jsonl)
topics="market_events order_intents exec_reports system_events"
# The busiest topic's bytes (key and record overhead: ~40 bytes a line).
big=$(awk '{ t = $0; sub(/^\{"type":"/, "", t); sub(/".*/, "", t)
             if (t == "quote" || t == "trade") b += length($0) + 40 }
           END { printf "%d", b }' s.jsonl)
parts=${PARTITIONS:-$(((big + 4194303) / 4194304))}
[ "$parts" -ge 1 ] || parts=1

mkfifo ctl
"$root/build/tests/kafka_mock" 1 "$parts" <ctl >mock.out 2>mock.err &
mpid=$!
exec 3>ctl
w=0
until grep -q '^bootstrap' mock.out 2>/dev/null; do
    w=$((w + 1))
    [ "$w" -lt 500 ] || { echo "kafka_bench: the mock cluster did not start" >&2; cat mock.err >&2; exit 1; }
    sleep 0.02
done
B=$(awk '/^bootstrap/ { print $2 }' mock.out)

# topic.partition files of "key|line"
awk -v parts="$parts" '
{
    t = $0; sub(/^\{"type":"/, "", t); sub(/".*/, "", t)
    if (t == "quote" || t == "trade") topic = "market_events"
    else if (t == "intent") topic = "order_intents"
    else if (t == "ack" || t == "fill") topic = "exec_reports"
    else topic = "system_events"
    k = "-"
    if (match($0, /"account":"[^"]*"/)) k = substr($0, RSTART + 11, RLENGTH - 12)
    else if (match($0, /"symbol":"[^"]*"/)) k = substr($0, RSTART + 10, RLENGTH - 11)
    # seq is per stream (SPEC section 2: gaps are data-quality findings);
    # the session numbers all its lines in one sequence
    # (index and substr: a sub() with [0-9]+ takes mawk ~0.2 ms a line)
    i = index($0, ",\"seq\":")
    if (i) {
        r = substr($0, i + 7)
        $0 = substr($0, 1, i + 6) (seen[topic] + 1) substr(r, match(r, /[^0-9]/))
    }
    p = seen[topic]++ % parts
    print k "|" $0 > (topic "." p)
}' s.jsonl
for f in *_*.[0-9]*; do
    kcat -P -b "$B" -t "${f%.*}" -p "${f##*.}" -K'|' -l "$f" 2>>kcat.err
done
held=0
for t in $topics; do
    c=$(kcat -C -b "$B" -t "$t" -o beginning -e -q -f '\n' 2>>kcat.err | wc -l)
    held=$((held + c))
done
[ "$held" -eq "$n" ] || { echo "kafka_bench: the cluster holds $held messages of $n" >&2; exit 1; }
echo "session: $n events, $(wc -c <s.jsonl) bytes; $parts partitions per topic (mock cluster, 1 broker); $(nproc) CPUs"


# Each phase sets W (events/s, launch to end) and R (events/s, from the
# assignment of the partitions to the end: the group join, ~3 s on the mock
# cluster for both, left out).
phase_kcat() { # RUN
    mkfifo "kerr$1"
    # The reader stamps kcat's two lines that matter as they come (kcat
    # writes a few dozen lines to stderr in all).
    while IFS= read -r l; do
        case $l in
        *rebalanced*assigned:*) nowf >"kas$1" ;;
        *"Reached end"*exiting*) nowf >"kend$1" ;;
        esac
    done <"kerr$1" &
    rpid=$!
    t0=$(nowf)
    # shellcheck disable=SC2086 # topics: four words
    kcat -b "$B" -G "kcat-$1" -o beginning -e $topics >/dev/null 2>"kerr$1"
    t1=$(nowf)
    wait "$rpid"
    [ -s "kas$1" ] && [ -s "kend$1" ] || { echo "kafka_bench: kcat did not say its assignment and end" >&2; exit 1; }
    W=$(rate "$n" "$t0" "$t1")
    R=$(rate "$n" "$(cat "kas$1")" "$(cat "kend$1")")
}

phase_warden() { # RUN
    d=w$1
    mkdir "$d"
    echo "kafka: {brokers: \"$B\", group: warden-$1${KAFKA_EXTRA:+, $KAFKA_EXTRA}}" >"$d/c.yaml"
    t0=$(nowf)
    "$warden" run --config "$d/c.yaml" --db "$d/s.db" --logs "$d" \
        --metrics-listen off --api-listen off >"$d/out.jsonl" 2>"$d/err" &
    wpid=$!
    pids=$wpid
    w=0
    until grep -q " kafka caught up " "$d/err" 2>/dev/null; do
        if ! kill -0 "$wpid" 2>/dev/null || [ "$w" -gt 30000 ]; then
            echo "kafka_bench: warden did not catch up" >&2
            tail -5 "$d/err" >&2
            exit 1
        fi
        w=$((w + 1))
        sleep 0.02 # polls the log; the times are the log lines' own
    done
    t1=$(log_time "$d/err" " kafka caught up ")
    ta=$(log_time "$d/err" " kafka assigned ")
    awk '/^VmHWM/ { print $2 }' "/proc/$wpid/status" >>hwm # peak resident, kB
    kill -TERM "$wpid"
    rc=0
    wait "$wpid" || rc=$?
    pids=
    [ "$rc" -eq 0 ] || { echo "kafka_bench: warden run exited $rc" >&2; tail -3 "$d/err" >&2; exit 1; }
    grep -q " kafka caught up .*messages=$n " "$d/err" ||
        { echo "kafka_bench: warden did not read $n messages" >&2; grep " caught up " "$d/err" >&2; exit 1; }
    [ "$(grep -c " kafka assigned " "$d/err")" -eq 1 ] || { echo "kafka_bench: more than one assignment" >&2; exit 1; }
    W=$(rate "$n" "$t0" "$t1")
    R=$(rate "$n" "$ta" "$t1")
    # Order kept while catching up: as many unauthorized-trading findings
    # as a replay of the file (the session has some of its own).
    U=$(grep -c '"scenario":"unauthorized_trading"' "$d/out.jsonl" || true)
    echo "$U" >>unauth
}

hdr='%-4s %12s %12s %8s | %12s %12s %8s\n'
# shellcheck disable=SC2059 # the format is hdr
printf "$hdr" run "a kcat ev/s" "b warden" "b/a%" "a wall" "b wall" "b/a%"
: >results
i=1
while [ "$i" -le "$runs" ]; do
    phase_kcat "$i"
    a=$R aw=$W
    phase_warden "$i"
    b=$R bw=$W
    row="$a $b $(pct "$b" "$a") $aw $bw $(pct "$bw" "$aw")"
    echo "$row" >>results
    # shellcheck disable=SC2059,SC2086 # the format is hdr; row: words
    printf "$hdr" "$i" $row
    i=$((i + 1))
done
meds=
for k in 1 2 3 4 5 6; do meds="$meds $(col "$k")"; done
# shellcheck disable=SC2059,SC2086
printf "$hdr" med $meds
echo "unauthorized-trading outputs per warden run: $(tr '\n' ' ' <unauth)(\`warden replay\` of the session: $("$warden" replay s.jsonl --db r.db 2>/dev/null | grep -c '"scenario":"unauthorized_trading"'); equal: the event-time order held)"
echo "warden's peak resident memory per run (kB): $(tr '\n' ' ' <hwm)"
r=$(col 3)
if awk -v r="$r" 'BEGIN { exit !(r >= 70) }'; then
    echo "target >= 70% of kcat (from the assignment): met ($r%)"
else
    echo "target >= 70% of kcat (from the assignment): missed ($r%)"
fi
