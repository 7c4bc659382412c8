#!/bin/sh
# Event ingestion of `warden run` while wrk hammers /metrics and
# /api/v1/status (issue 6, point 9). Run by hand, never by ctest:
#
#   bench/serve_bench.sh [EVENTS [RUNS]]      # defaults 2000000 and 3
#
# Environment: WRK_THREADS (2), WRK_CONNS (16) per wrk, KEEP=1 keeps the
# scratch directory, NO_BUILD=1 uses build/ as it is.
#
# Builds the release preset, writes a session with `bench_decode --dump`,
# then RUNS times, interleaved:
#   (a) offline: `warden replay FILE` into a fresh store, timed from launch
#       to exit (events/s);
#   (b) `warden run` alone on a fresh store, port-0 listeners, the session
#       fed into its stdin through a FIFO by `cat`: timed from the start of
#       the feed to its `input ended, still running` log line (wall clock,
#       ms), then SIGTERM; every event must be counted in `stopped events=`;
#   (c) as (b), with two wrk (-t WRK_THREADS -c WRK_CONNS --latency) started
#       half a second before the feed and stopped (SIGINT: wrk reports what
#       it did so far) when the input has ended: one on /metrics, one on
#       /api/v1/status with a viewer's bearer token;
#   (d) as (c), with `warden run --ingest-cpu 0` (the event loop alone on
#       CPU 0, the servers on the others), both wrk under `taskset -c` on
#       the other CPUs and the feeding `cat` on CPU 0: the deployment
#       docs/RUN.md recommends.
# Prints every run, then medians and the ratios (b)/(a), (c)/(a) and
# (d)/(a) (medians of the per-run ratios). The target (>= 90%) is judged on
# (d); (c) shows what sharing every CPU with the load costs. The same configuration (a viewer token,
# defaults otherwise) and the same stdout/store work in the three phases.
set -eu

events=${1:-2000000}
runs=${2:-3}
wt=${WRK_THREADS:-2}
wc=${WRK_CONNS:-16}
root=$(cd "$(dirname "$0")/.." && pwd)
token=bench-viewer-token-0123456789

if ! command -v wrk >/dev/null 2>&1; then
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "serve_bench: installing wrk (Debian package wrk)" >&2
        apt-get install -y wrk >/dev/null
    else
        echo "serve_bench: wrk is missing: apt-get install wrk" >&2
        exit 2
    fi
fi

bench=serve_bench
. "$root/bench/lib.sh"
bench_start warden bench_decode

cat >c.yaml <<EOF
tokens:
  - {name: bench, role: viewer, token: $token}
EOF
"$root/build/bench/bench_decode" --dump --events "$events" >s.jsonl
n=$(wc -l <s.jsonl)
echo "session: $n events, $(wc -c <s.jsonl) bytes; $(nproc) CPUs; wrk -t$wt -c$wc x2"

# to_ms VALUE: wrk's 1.10ms / 424.00us / 1.02s in ms
to_ms() {
    echo "$1" | awk '/us$/ { sub(/us$/, ""); printf "%.3f", $0 / 1000; next }
                     /ms$/ { sub(/ms$/, ""); printf "%.3f", $0; next }
                     /s$/ { sub(/s$/, ""); printf "%.3f", $0 * 1000; next }'
}
wrk_field() { # FILE rps|p50|p99|n
    case $2 in
    rps) awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$1" ;;
    p50) to_ms "$(awk '$1 == "50%" { print $2 }' "$1")" ;;
    p99) to_ms "$(awk '$1 == "99%" { print $2 }' "$1")" ;;
    n) awk '/requests in/ { print $1 }' "$1" ;;
    esac
}

phase_replay() { # DIR: sets R to events/s
    mkdir "$1"
    t0=$(nowf)
    "$warden" replay --config c.yaml --db "$1/s.db" --logs "$1" s.jsonl >"$1/out.jsonl" 2>"$1/err"
    t1=$(nowf)
    grep -q ": $n events;" "$1/err" || { echo "serve_bench: replay did not count $n events" >&2; tail -3 "$1/err" >&2; exit 1; }
    R=$(rate "$n" "$t0" "$t1")
}

# phase_run DIR WRK(0|1) PIN(0|1): sets R to events/s (and leaves wrk
# reports in DIR)
phase_run() {
    d=$1
    mkdir "$d"
    mkfifo "$d/in"
    pin= load= feed=
    if [ "$3" -eq 1 ]; then
        pin="--ingest-cpu 0"
        load="taskset -c 1-$(($(nproc) - 1))"
        feed="taskset -c 0"
    fi
    # shellcheck disable=SC2086 # $pin and $load: none or two words
    "$warden" run --config c.yaml --db "$d/s.db" --logs "$d" --input - $pin \
        --metrics-listen 127.0.0.1:0 --api-listen 127.0.0.1:0 \
        <"$d/in" >"$d/out.jsonl" 2>"$d/err" &
    wpid=$!
    pids="$pids $wpid"
    exec 9>"$d/in" # opens the FIFO: warden's open returns
    wait_for "$d/err" " run started " 10
    line=$(grep -m1 " run started " "$d/err")
    maddr=$(echo "$line" | sed 's/.* metrics=\([^ ]*\).*/\1/')
    aaddr=$(echo "$line" | sed 's/.* api=\([^ ]*\).*/\1/')
    k1= k2=
    if [ "$2" -eq 1 ]; then
        $load wrk -t"$wt" -c"$wc" -d600s --latency "http://$maddr/metrics" >"$d/wrk_metrics" 2>&1 9>&- &
        k1=$!
        $load wrk -t"$wt" -c"$wc" -d600s --latency -H "Authorization: Bearer $token" \
            "http://$aaddr/api/v1/status" >"$d/wrk_status" 2>&1 9>&- &
        k2=$!
        pids="$pids $k1 $k2"
        sleep 0.5
    fi
    t0=$(nowf)
    # The feeder stands for the producers (another host, in production):
    # pinned with the loop, so that the load does not starve it either.
    $feed cat s.jsonl >&9
    exec 9>&-
    wait_for "$d/err" " input ended" 600
    if [ -n "$k1" ]; then
        kill -INT "$k1" "$k2"
        wait "$k1" "$k2" || true
    fi
    t1=$(log_time "$d/err" " input ended")
    kill -TERM "$wpid"
    rc=0
    wait "$wpid" || rc=$?
    [ "$rc" -eq 0 ] || { echo "serve_bench: warden run exited $rc" >&2; exit 1; }
    pids=
    grep -q " run stopped events=$n " "$d/err" || { echo "serve_bench: run did not count $n events" >&2; tail -3 "$d/err" >&2; exit 1; }
    R=$(rate "$n" "$t0" "$t1")
}

hdr='%-4s %10s %10s %10s %10s %6s %6s %6s | %9s %7s %7s | %9s %7s %7s | %9s %7s %7s | %9s %7s %7s\n'
# shellcheck disable=SC2059 # the format is hdr
printf "$hdr" run "a replay" "b run" "c +wrk" "d pinned" "b/a%" "c/a%" "d/a%" \
    "c met/s" "p50 ms" "p99 ms" "c st/s" "p50 ms" "p99 ms" \
    "d met/s" "p50 ms" "p99 ms" "d st/s" "p50 ms" "p99 ms"
: >results
# wrk_cols DIR: requests/s, p50 and p99 of both wrk (non-2xx answers fail)
wrk_cols() {
    if grep -q "Non-2xx" "$1/wrk_metrics" "$1/wrk_status"; then
        echo "serve_bench: wrk saw non-2xx answers:" >&2
        grep -H "Non-2xx" "$1/wrk_metrics" "$1/wrk_status" >&2
        exit 1
    fi
    for f in wrk_metrics wrk_status; do
        printf '%s %s %s ' "$(wrk_field "$1/$f" rps)" "$(wrk_field "$1/$f" p50)" "$(wrk_field "$1/$f" p99)"
    done
}
i=1
while [ "$i" -le "$runs" ]; do
    phase_replay "a$i"
    a=$R
    phase_run "b$i" 0 0
    b=$R
    phase_run "c$i" 1 0
    c=$R
    phase_run "d$i" 1 1
    d=$R
    row="$a $b $c $d $(pct "$b" "$a") $(pct "$c" "$a") $(pct "$d" "$a") $(wrk_cols "c$i") $(wrk_cols "d$i")"
    echo "$row" >>results
    # shellcheck disable=SC2059,SC2086 # the format is hdr; row: words
    printf "$hdr" "$i" $row
    i=$((i + 1))
done
meds=
for k in $(seq 1 19); do meds="$meds $(col "$k")"; done
# shellcheck disable=SC2059,SC2086
printf "$hdr" med $meds
for k in 6 7; do
    r=$(col "$k")
    what=$([ "$k" -eq 6 ] && echo "(c)/(a), sharing every CPU" || echo "(d)/(a), --ingest-cpu 0")
    if awk -v r="$r" 'BEGIN { exit !(r >= 90) }'; then
        echo "target >= 90%: met by $what ($r%)"
    else
        echo "target >= 90%: missed by $what ($r%)"
    fi
done
