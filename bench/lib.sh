# Shared by the benchmark scripts (serve_bench.sh, notify_bench.sh,
# kafka_bench.sh); sourced after `set -eu` and `root=` are set, with
# `bench` naming the script for messages.
#
#   bench_start TARGET...   builds the release preset's TARGETs (unless
#                           NO_BUILD=1), sets warden=, makes the scratch
#                           directory $tmp (kept with KEEP=1) and cd's there;
#                           on exit every pid in $pids and $mpid is killed.

bench_start() {
    cd "$root"
    if [ -z "${NO_BUILD-}" ]; then
        cmake --preset release >/dev/null
        cmake --build build -j2 --target "$@" >/dev/null
    fi
    warden=$root/build/warden
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/$bench.XXXXXX")
    pids=
    mpid=
    trap bench_cleanup EXIT
    trap 'exit 130' INT TERM
    cd "$tmp"
}
bench_cleanup() {
    for p in $pids $mpid; do kill -KILL "$p" 2>/dev/null || true; done
    [ -n "${KEEP-}" ] && echo "kept $tmp" >&2 || rm -rf "$tmp"
}
nowf() { date +%s.%N; }
# log_time FILE PATTERN: the wall-clock time (s since the epoch) of the
# first log line matching PATTERN.
log_time() {
    t=$(grep -m1 -- "$2" "$1" | cut -d' ' -f1)
    date -u -d "$(echo "$t" | sed 's/T/ /; s/Z$//')" +%s.%N
}
# wait_for FILE PATTERN TIMEOUT_S: until grep finds PATTERN in FILE; exits
# 1 with FILE's end on stderr when it does not in time.
wait_for() {
    _w=0
    while ! grep -q -- "$2" "$1" 2>/dev/null; do
        _w=$((_w + 1))
        if [ "$_w" -gt $(($3 * 50)) ]; then
            echo "$bench: timed out waiting for '$2' in $1" >&2
            tail -n 20 "$1" >&2
            exit 1
        fi
        sleep 0.02
    done
}
# rate N T0 T1: N events over T1 - T0 seconds, per second.
rate() { echo "$1 $2 $3" | awk '{ printf "%.0f", $1 / ($3 - $2) }'; }
# median: of the numbers on stdin, one per line.
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# pct A B: 100 * A / B, one decimal.
pct() { echo "$1 $2" | awk '{ printf "%.1f", 100 * $1 / $2 }'; }
# col K: the median of column K of ./results.
col() { awk -v c="$1" '{ print $c }' results | median; }
