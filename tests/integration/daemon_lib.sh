# Shared by the `warden run` integration tests (run.sh, serve.sh,
# dashboard.sh): a
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
# kill_pnl_events: a buy of 100 XYZ, acknowledged, filled at 10, then the
# price falls 6% (capital 1000): the PnL kill-switch halts account:default
# and opens a P0 kill_pnl incident.
kill_pnl_events() {
    quote 9.99 10.01
    printf '{"type":"intent","ts":"%s","id":"o1","symbol":"XYZ","side":"BUY","qty":100,"source":"s"}\n' "$(now)"
    printf '{"type":"ack","ts":"%s","id":"o1","status":"accepted"}\n' "$(now)"
    printf '{"type":"fill","ts":"%s","id":"o1","symbol":"XYZ","side":"BUY","qty":100,"price":10}\n' "$(now)"
    quote 9.39 9.41
}
# finish NAME: the counts, then exit 1 on a failure, 77 (skipped) when
# $skipped says what was not checked, else 0.
finish() {
    echo "$1: $passes passed, $fails failed"
    [ "$fails" -eq 0 ] || exit 1
    if [ -n "${skipped-}" ]; then
        echo "SKIPPED: $skipped"
        exit 77
    fi
    exit 0
}
# api_config: c.yaml with capital 1000, an always-open UTC session and
# three tokens: vic (viewer, $VIEW), rosa (responder, $RESP), olga
# (risk_officer, $RISK); an empty ev.jsonl for the daemon to follow.
VIEW=viewer-token-0123456789
RESP=responder-token-0123456789
RISK=riskofficer-token-0123456789
api_config() {
    cat >c.yaml <<EOF2
capital: 1000
session: {tz: UTC, open: "00:00", close: "23:59", days: [Mon, Tue, Wed, Thu, Fri, Sat, Sun]}
tokens:
  - {name: vic, role: viewer, token: $VIEW}
  - {name: rosa, role: responder, token: $RESP}
  - {name: olga, role: risk_officer, token: $RISK}
EOF2
    : >ev.jsonl
}
# until_ok TENTHS CMD...: until CMD succeeds.
until_ok() {
    t=$1
    shift
    n=0
    while ! "$@" >/dev/null 2>&1; do
        n=$((n + 1))
        [ "$n" -gt "$t" ] && return 1
        sleep 0.1
    done
    return 0
}
# api METHOD PATH TOKEN [BODY]: the status on stdout, the body in api.out;
# the API at $A (HOST:PORT).
api() {
    if [ -n "$3" ]; then
        set -- "$1" "$2" "-H" "Authorization: Bearer $3" "${4-}"
    else
        set -- "$1" "$2" "-H" "X-None: 1" "${4-}"
    fi
    if [ -n "$5" ]; then
        curl -s -m 5 -o api.out -w '%{http_code}' -X "$1" "$3" "$4" -d "$5" "http://$A$2"
    else
        curl -s -m 5 -o api.out -w '%{http_code}' -X "$1" "$3" "$4" "http://$A$2"
    fi
}

# kafka_mock_start MOCK BROKERS PARTITIONS: librdkafka's mock cluster
# (tests/tools/kafka_mock) in the background, its commands on fd 3 (the
# fifo ctl: `echo "down 1" >&3`); sets mpid and B (the bootstrap address).
# Exits the test when it does not start.
kafka_mock_start() {
    mkfifo ctl
    "$1" "$2" "$3" <ctl >mock.out 2>mock.err &
    mpid=$!
    exec 3>ctl
    wait_for mock.out bootstrap || { echo "FAIL: no mock cluster: $(cat mock.err)"; exit 1; }
    B=$(awk '/^bootstrap/{print $2}' mock.out)
}
