# Shared by the `warden run` integration tests (run.sh, serve.sh): a
# scratch directory as the working directory, the daemon's pid killed on
# exit, pass/fail counters, timestamps, polling waits, the stop by a signal.
# Sourced after `warden=` is set.
tmp=$(mktemp -d)
pid=
cleanup() {
    [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
cd "$tmp" || exit 2
fails=0
passes=0
ok() { passes=$((passes + 1)); }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }
now() { date -u +%Y-%m-%dT%H:%M:%S.%NZ; }
# wait_for FILE PATTERN [TENTHS]: until grep finds PATTERN in FILE (default 8 s).
wait_for() {
    n=0
    while ! grep -q -- "$2" "$1" 2>/dev/null; do
        n=$((n + 1))
        [ "$n" -gt "${3:-80}" ] && return 1
        sleep 0.1
    done
    return 0
}
# stop SIGNAL WHAT: signals the running warden; its exit status must be 0.
stop() {
    kill -"$1" "$pid"
    wait "$pid"
    rc=$?
    pid=
    [ "$rc" -eq 0 ] && ok || bad "exit status $rc after SIG$1 ($2)"
}
quote() { printf '{"type":"quote","ts":"%s","symbol":"XYZ","bid":%s,"ask":%s}\n' "$(now)" "$1" "$2"; }
