#!/bin/sh
# `warden run` serving metrics and the API, end to end over loopback:
#  - ports 0, read back from the start log line;
#  - /metrics with the figures, the latency histogram, staleness, open
#    incidents after a kill-switch; `promtool check metrics` when there is
#    a promtool (else said, and skipped after every other check);
#  - /healthz, /readyz (ready once the store is open and a tick ran);
#  - the API: 401 without a token, 403 for a viewer's halt, a responder's
#    halt seen by `warden status` (an offline read of the same store) and
#    in the audit chain under the token's name, incidents after the
#    kill-switch, pnl from the running engine, kafka/lag's 404 without
#    Kafka, 413 over 64 KiB;
#  - SIGTERM: exit 0.
# Waits poll with a timeout; no fixed long sleeps.
#
# usage: serve.sh path/to/warden
set -u
warden=$1
. "$(dirname "$0")/daemon_lib.sh"
api_config
"$warden" run --config c.yaml --db s.db --input ev.jsonl --metrics-listen 127.0.0.1:0 \
    --api-listen 127.0.0.1:0 >out.jsonl 2>err.log &
pid=$!
wait_for err.log ' INFO run started .* metrics=127.0.0.1:[0-9]* api=127.0.0.1:[0-9]*' && ok ||
    { bad "no start log line with the ports: $(cat err.log)"; exit 1; }
M=$(sed -n 's/.* INFO run started .* metrics=\([^ ]*\) .*/\1/p' err.log)
A=$(sed -n 's/.* INFO run started .* api=\([^ ]*\).*/\1/p' err.log)

[ "$(curl -s -m 5 "http://$M/healthz")" = ok ] && ok || bad "/healthz"
until_ok 50 curl -sf -m 5 "http://$M/readyz" && ok || bad "/readyz not ready after a tick"

# A buy, acknowledged, filled, then the price falls 6%: the PnL kill-switch.
kill_pnl_events >>ev.jsonl
# The trading system's consumer reports its lag (SPEC section 2).
printf '{"type":"metric","ts":"%s","name":"consumer_lag","value":1234}\n' "$(now)" >>ev.jsonl
wait_for out.jsonl '"type":"incident".*"scenario":"kill_pnl"' && ok || bad "no kill_pnl incident: $(cat out.jsonl)"

# The metrics text is renewed at most every 100 ms while events flow, and
# at each tick: wait until it counts the six events.
until_ok 30 sh -c "curl -s -m 5 'http://$M/metrics' | grep -qx 'warden_events_processed_total 6'" && ok ||
    bad "/metrics never counted 6 events"
curl -s -m 5 "http://$M/metrics" >m1.txt
for want in 'warden_equity{scope="firm"} 940' 'warden_equity{scope="account:default"} 940' \
    'warden_daily_pnl_ratio{scope="firm"} -0.06' 'warden_drawdown_ratio{scope="firm"} 0.06' \
    'warden_max_drawdown_ratio{scope="firm"} 0.06' \
    'warden_trading_state{scope="account:default",state="HALTED"} 1' \
    'warden_trading_state{scope="firm",state="ACTIVE"} 1' \
    'warden_intent_ack_latency_seconds_count 1' 'warden_events_processed_total 6' \
    'warden_consumer_lag_messages 1234' \
    'warden_events_malformed_total 0' 'warden_rejection_ratio 0' \
    'warden_open_incidents{severity="P0",scenario="kill_pnl"} 1'; do
    grep -qF -- "$want" m1.txt && ok || bad "/metrics has no '$want'"
done
curl -s -m 5 "http://$M/metrics" | grep -qE "pnl|drawdown|latency" && ok || bad "the playbook's grep"

# The API.
[ "$(api GET /api/v1/status "")" = 401 ] && ok || bad "no token: not 401"
[ "$(api POST /api/v1/halt "$VIEW" '{"reason":"x"}')" = 403 ] && ok || bad "viewer halt: not 403"
grep -q 'responder' api.out && ok || bad "the 403 does not name the role: $(cat api.out)"
[ "$(api GET /api/v1/incidents "$VIEW")" = 200 ] && ok || bad "GET incidents"
grep -q '"scenario":"kill_pnl"' api.out && ok || bad "the kill_pnl incident not listed: $(cat api.out)"
[ "$(api GET /api/v1/pnl "$VIEW")" = 200 ] && ok || bad "GET pnl"
grep -q '"equity":940' api.out && ok || bad "pnl not from the live engine: $(cat api.out)"
[ "$(api GET /api/v1/positions "$VIEW")" = 200 ] && grep -q '"symbol":"XYZ","qty":100' api.out && ok ||
    bad "GET positions: $(cat api.out)"
# No Kafka input: GET kafka/lag says so, as the API's 404 error document.
[ "$(api GET /api/v1/kafka/lag "$VIEW")" = 404 ] &&
    [ "$(cat api.out)" = '{"error":"Kafka is not configured: warden run reads no Kafka topics (no kafka section in the configuration, or --input other than kafka)"}' ] &&
    ok || bad "GET kafka/lag without Kafka: $(cat api.out)"
head -c 70000 /dev/zero | tr '\0' ' ' >big.json
[ "$(api POST /api/v1/halt "$RESP" @big.json)" = 413 ] && ok || bad "a 70 KB body: not 413"
[ "$(api POST /api/v1/halt "$RESP" '{"scope":"firm","reason":"api test"}')" = 200 ] && ok ||
    bad "responder halt: $(cat api.out)"
"$warden" status --db s.db >status.txt 2>&1
grep -q '^firm *HALTED.*rosa' status.txt && ok || bad "the API's halt is not in the store: $(cat status.txt)"
sqlite3 s.db "SELECT who FROM audit_chain WHERE payload LIKE '%api test%'" 2>/dev/null | grep -qx rosa && ok ||
    bad "the audit chain does not name rosa: $(sqlite3 s.db 'SELECT seq, kind, who FROM audit_chain' 2>&1 | tail -5)"
# The engine follows the halt: the next intent is refused.
printf '{"type":"intent","ts":"%s","id":"o9","account":"other","symbol":"XYZ","side":"BUY","qty":1,"source":"s"}\n' "$(now)" >>ev.jsonl
wait_for out.jsonl '"id":"o9","verdict":"reject","reason":"halted"' && ok || bad "the engine did not take the API's halt: $(tail -2 out.jsonl)"
until_ok 30 sh -c "curl -s -m 5 'http://$M/metrics' | grep -qF 'warden_trading_state{scope=\"firm\",state=\"HALTED\"} 1'" && ok ||
    bad "the firm's halt not in /metrics"
# Staleness is measured at each tick.
until_ok 30 sh -c "curl -s -m 5 'http://$M/metrics' | grep -q '^warden_market_data_staleness_seconds{symbol=\"XYZ\"} [0-9]'" && ok ||
    bad "no staleness for XYZ"

if command -v promtool >/dev/null 2>&1; then
    curl -s -m 5 "http://$M/metrics" | promtool check metrics >promtool.txt 2>&1 && ok ||
        bad "promtool check metrics: $(cat promtool.txt)"
    skipped=
else
    skipped="promtool not found (Debian's prometheus package): the exposition was not checked"
fi

stop TERM "serving"

finish serve.sh
