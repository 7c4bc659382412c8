#!/bin/sh
# The metrics server over real HTTP on 127.0.0.1 (an ephemeral port):
# /metrics (content type, the playbook's grep, promtool's check), /healthz,
# /readyz before and after the owner says ready, 404, 405, 413.
# Exits 77 (ctest: skipped) after every HTTP check passed if promtool
# (Debian's prometheus package) is not installed, saying so.
#
# usage: metrics_http.sh path/to/metrics_serve
set -eu
serve=$1
tmp=$(mktemp -d)
pid=
cleanup() {
    if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
    rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$serve" >"$tmp/port" 2>"$tmp/err" &
pid=$!
i=0
while [ ! -s "$tmp/port" ]; do
    i=$((i + 1)); [ $i -lt 100 ] || fail "server did not start: $(cat "$tmp/err")"
    sleep 0.05
done
port=$(cat "$tmp/port")
base=http://127.0.0.1:$port

# status METHOD PATH [curl options...]: prints the HTTP status code.
status() {
    m=$1; p=$2; shift 2
    curl -s -o "$tmp/body" -D "$tmp/headers" -X "$m" "$@" -w '%{http_code}' "$base$p"
}

[ "$(status GET /metrics)" = 200 ] || fail "/metrics status"
grep -qi '^content-type: text/plain; version=0.0.4; charset=utf-8' "$tmp/headers" ||
    fail "/metrics content type: $(cat "$tmp/headers")"
cp "$tmp/body" "$tmp/metrics"
grep -q '^warden_trading_state{scope="account:alpha",state="HALTED"} 1$' "$tmp/metrics" ||
    fail "trading state series missing"
grep -q '^warden_intent_ack_latency_seconds_bucket{le="+Inf"} 3$' "$tmp/metrics" ||
    fail "histogram +Inf bucket"
grep -q '^warden_market_data_staleness_seconds{symbol="we\\"ird\\\\sym\\nbol"} 31$' "$tmp/metrics" ||
    fail "escaped label value"
# The playbook's look at the figures (INCIDENT_PLAYBOOK.md, "Review metrics").
curl -s "$base/metrics" | grep -E "pnl|drawdown|latency" >"$tmp/grep" || fail "playbook grep"
for want in warden_daily_pnl_ratio warden_drawdown_ratio warden_max_drawdown_ratio \
    warden_intent_ack_latency_seconds_bucket; do
    grep -q "^$want" "$tmp/grep" || fail "playbook grep lacks $want"
done

[ "$(status HEAD /metrics -I)" = 200 ] || fail "HEAD /metrics"
[ "$(status GET /healthz)" = 200 ] || fail "/healthz status"
[ "$(cat "$tmp/body")" = ok ] || fail "/healthz body"
[ "$(status GET /readyz)" = 503 ] || fail "/readyz before ready"
kill -USR1 "$pid"
i=0
while [ "$(status GET /readyz)" != 200 ]; do
    i=$((i + 1)); [ $i -lt 100 ] || fail "/readyz never became ready"
    sleep 0.05
done
[ "$(status GET /metrics)" = 200 ] || fail "/metrics after update"
grep -q '^warden_events_processed_total 1001$' "$tmp/body" || fail "update not served"
[ "$(status GET /nope)" = 404 ] || fail "/nope is not 404"
[ "$(status GET /metrics/x)" = 404 ] || fail "/metrics/x is not 404"
[ "$(status POST /metrics --data x)" = 405 ] || fail "POST is not 405"
grep -qi '^allow: GET, HEAD' "$tmp/headers" || fail "405 without Allow"
[ "$(status DELETE /healthz)" = 405 ] || fail "DELETE is not 405"
[ "$(status GET /metrics --data-binary @"$tmp/metrics")" = 413 ] || fail "GET with a body"
long=$(head -c 40000 /dev/zero | tr '\0' a)
code=$(status GET "/$long")
case "$code" in 414|431) ;; *) fail "oversized request line answered $code" ;; esac
[ "$(status GET /healthz)" = 200 ] || fail "server gone after the oversized request"

kill -TERM "$pid"
wait "$pid" || fail "server exit status $?"
pid=

if ! command -v promtool >/dev/null 2>&1; then
    echo "SKIPPED: promtool not installed (Debian package prometheus, deps/debian-packages.txt);" \
         "every HTTP check passed, the exposition was not linted" >&2
    exit 77
fi
promtool check metrics <"$tmp/metrics" >"$tmp/lint" 2>&1 || {
    cat "$tmp/lint" >&2
    fail "promtool check metrics"
}
echo "ok: metrics served on $base and accepted by promtool"
