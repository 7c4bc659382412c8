#!/bin/sh
# Notifications (issue 8, point 9). Run by hand, never by ctest:
#
#   bench/notify_bench.sh [CROSSINGS [RUNS [FILLER]]]   # defaults 200, 5, 2000000
#
# Environment: KEEP=1 keeps the scratch directory, NO_BUILD=1 uses build/
# as it is. Needs python3 (and python3-aiosmtpd for the receiver of (b)).
#
# Builds the release preset, then RUNS times:
#   (a) latency: `warden run` on a fresh store, events on its stdin, a
#       loopback receiver in bench/notify_bench.py; CROSSINGS kill-switch
#       crossings one after the other, each on a fresh account and symbol:
#       the time from writing the crossing event into warden's stdin to the
#       arrival of the incident's Slack message and PagerDuty trigger;
#       p50 and p99 per run;
#   (b) throughput: the workload of `notify_bench.py gen CROSSINGS FILLER`
#       (CROSSINGS crossings among FILLER quotes) fed into `warden run`
#       through a FIFO by `cat`, timed from the start of the feed to its
#       `input ended` log line (as bench/serve_bench.sh), twice,
#       interleaved: with tests/integration/notify_receiver.py answering at
#       once, and answering nothing at all (every Slack and PagerDuty
#       request hangs until delivery.timeout_ms, 500 ms here, then is
#       retried after 100 ms..1 s, so that the sender thread records
#       failures in the store while the events flow). Every event must
#       be counted, every crossing must open its incident, and every
#       notification must be in the outbox (sent or still pending).
# Prints every run, then the medians over the runs and the ratio hang/fast.
set -eu

crossings=${1:-200}
runs=${2:-5}
filler=${3:-2000000}
root=$(cd "$(dirname "$0")/.." && pwd)

bench=notify_bench
. "$root/bench/lib.sh"
bench_start warden

/usr/bin/python3 "$root/bench/notify_bench.py" gen "$crossings" "$filler" >w.jsonl
n=$(wc -l <w.jsonl)
echo "workload (b): $n events ($crossings crossings); $(nproc) CPUs"


phase_latency() { # DIR: sets LS50 LS99 LP50 LP99 (ms)
    mkdir "$1"
    /usr/bin/python3 "$root/bench/notify_bench.py" latency "$warden" "$1" "$crossings" >"$1/lat.txt"
    LS50=$(awk '$1 == "slack" { print $3 }' "$1/lat.txt")
    LS99=$(awk '$1 == "slack" { print $5 }' "$1/lat.txt")
    LP50=$(awk '$1 == "pagerduty" { print $3 }' "$1/lat.txt")
    LP99=$(awk '$1 == "pagerduty" { print $5 }' "$1/lat.txt")
}

phase_run() { # DIR hang|fast: sets R (events/s), Q (notifications queued), S (sent)
    d=$1
    mkdir "$d"
    rm -f "$d/ports"
    if [ "$2" = hang ]; then
        set -- --always /slack:hang --always /pd:hang
    else
        set --
    fi
    /usr/bin/python3 "$root/tests/integration/notify_receiver.py" "$d/rx.jsonl" "$d/ports" \
        "$@" >/dev/null 2>&1 &
    rpid=$!
    pids="$pids $rpid"
    wait_for "$d/ports" . 10
    read -r hp _ <"$d/ports"
    cat >"$d/c.yaml" <<EOF
capital: 1000
session: {tz: UTC, open: "00:00", close: "23:59", days: [Mon, Tue, Wed, Thu, Fri, Sat, Sun]}
notify:
  slack: {webhook_url: "http://127.0.0.1:$hp/slack"}
  pagerduty: {routing_key: bench-key, url: "http://127.0.0.1:$hp/pd"}
  routes: {P0: [pagerduty, slack]}
  delivery: {timeout_ms: 500, backoff_base_ms: 100, backoff_max_ms: 1000}
EOF
    mkfifo "$d/in"
    "$warden" run --config "$d/c.yaml" --db "$d/s.db" --logs "$d" --input - \
        --metrics-listen off --api-listen off <"$d/in" >"$d/out.jsonl" 2>"$d/err" &
    wpid=$!
    pids="$pids $wpid"
    exec 9>"$d/in"
    wait_for "$d/err" " run started " 10
    t0=$(nowf)
    cat w.jsonl >&9
    exec 9>&-
    wait_for "$d/err" " input ended" 600
    t1=$(log_time "$d/err" " input ended")
    kill -TERM "$wpid"
    wait "$wpid" || true
    kill "$rpid" 2>/dev/null || true
    wait "$rpid" 2>/dev/null || true
    grep -q " run stopped events=$n " "$d/err" ||
        { echo "notify_bench: run did not count $n events" >&2; tail -3 "$d/err" >&2; exit 1; }
    grep -q " incidents=$crossings " "$d/err" ||
        { echo "notify_bench: not $crossings incidents" >&2; tail -3 "$d/err" >&2; exit 1; }
    Q=$(sqlite3 "$d/s.db" "SELECT count(*) FROM notify_outbox WHERE kind = 'opened'")
    S=$(sqlite3 "$d/s.db" "SELECT count(*) FROM notify_outbox WHERE kind = 'opened' AND state = 'sent'")
    [ "$Q" -eq $((2 * crossings)) ] ||
        { echo "notify_bench: $Q opened notifications queued, not $((2 * crossings))" >&2; exit 1; }
    R=$(echo "$n $t0 $t1" | awk '{ printf "%.0f", $1 / ($3 - $2) }')
}

: >lat50s; : >lat99s; : >lat50p; : >lat99p; : >fast; : >hang; : >ratio
i=1
while [ "$i" -le "$runs" ]; do
    phase_latency "l$i"
    phase_run "f$i" fast
    F=$R FS=$S
    phase_run "h$i" hang
    H=$R HS=$S
    echo "run $i: latency slack p50 $LS50 p99 $LS99 ms, pagerduty p50 $LP50 p99 $LP99 ms;" \
        "throughput fast $F ev/s ($FS/$Q opened sent), hang $H ev/s ($HS/$Q sent, the rest pending)"
    echo "$LS50" >>lat50s; echo "$LS99" >>lat99s; echo "$LP50" >>lat50p; echo "$LP99" >>lat99p
    echo "$F" >>fast; echo "$H" >>hang
    echo "$H $F" | awk '{ printf "%.4f\n", $1 / $2 }' >>ratio
    i=$((i + 1))
done
echo "median of $runs runs:"
echo "  kill-switch -> Slack:     p50 $(median <lat50s) ms, p99 $(median <lat99s) ms ($crossings crossings a run)"
echo "  kill-switch -> PagerDuty: p50 $(median <lat50p) ms, p99 $(median <lat99p) ms"
echo "  warden run, receiver answering: $(median <fast) events/s"
echo "  warden run, receiver hanging:   $(median <hang) events/s ($(median <ratio | awk '{ printf "%.1f", $1 * 100 }')% of answering)"
