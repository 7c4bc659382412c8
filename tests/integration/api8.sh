#!/bin/sh
# On-call, silences and status updates through the API of a running
# `warden run` (issue 8 over issue 6's API), over real HTTP on loopback:
#  - GET oncall: the document `warden oncall --json` prints (one writer),
#    with the chain's levels; 401 without a token;
#  - silences: a viewer may not silence (403), a responder may not silence
#    a P0 scenario (403, the role from the token: a "role" in the body is
#    an unknown field), a risk_officer may; list, remove (403/404/409), each
#    in the audit chain under the token's name; malformed, incomplete and
#    oversized bodies (400 naming the field, 413);
#  - POST incidents/ID/update: the status update queued and delivered to a
#    webhook receiver on loopback (the sender woken by the API), a note on
#    the timeline under the token's name.
# Waits poll with a timeout; no fixed long sleeps.
#
# usage: api8.sh path/to/warden
set -u
warden=$1
. "$(dirname "$0")/daemon_lib.sh"
rpid=
trap 'cleanup; [ -n "$rpid" ] && kill "$rpid" 2>/dev/null' EXIT

# A webhook receiver: each POST's body as one line in hook.log.
cat >recv.py <<'PY'
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_POST(self):
        b = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with open("hook.log", "ab") as f:
            f.write(b.replace(b"\n", b" ") + b"\n")
        self.send_response(200); self.end_headers()
s = http.server.HTTPServer(("127.0.0.1", 0), H)
open("recv.port", "w").write(str(s.server_port))
s.serve_forever()
PY
python3 recv.py &
rpid=$!
wait_for recv.port '[0-9]' || { bad "the receiver did not start"; finish api8.sh; }

api_config
cat >>c.yaml <<EOF2
oncall:
  engineers:
    - {name: rosa, contacts: [{channel: sms, to: "+15550100"}]}
    - {name: olga, contacts: [{channel: email, to: "olga@example.com"}]}
notify:
  webhook: {url: "http://127.0.0.1:$(cat recv.port)/hook"}
  routes: {P0: [webhook], P1: [webhook], P2: [webhook], P3: [webhook]}
EOF2
"$warden" run --config c.yaml --db s.db --input ev.jsonl --metrics-listen off \
    --api-listen 127.0.0.1:0 >out.jsonl 2>err.log &
pid=$!
wait_for err.log ' INFO run started .* api=127.0.0.1:[0-9]*' && ok ||
    { bad "no start log line with the port: $(cat err.log)"; finish api8.sh; }
A=$(sed -n 's/.* INFO run started .* api=\([^ ]*\).*/\1/p' err.log)
kill_pnl_events >>ev.jsonl
wait_for out.jsonl '"type":"incident".*"scenario":"kill_pnl"' && ok || bad "no kill_pnl incident"
id=$(grep -o '"id":"INC-[0-9]*-[0-9]*"' out.jsonl | head -1 | cut -d'"' -f4)
# The opening notification reaches the receiver first.
wait_for hook.log "$id" && ok || bad "the incident's opening never reached the webhook"

# ---- GET oncall ----
[ "$(api GET /api/v1/oncall "")" = 401 ] && ok || bad "oncall without a token: not 401"
[ "$(api GET /api/v1/oncall "$VIEW")" = 200 ] && ok || bad "GET oncall: $(cat api.out)"
cp api.out oncall.json
grep -q '"chain":\[{"level":1,"name":"On-Call","rotation":true,"severities":\["P0","P1","P2","P3"\],"contacts":\[{"name":"\(rosa\|olga\)"' oncall.json &&
    ok || bad "GET oncall: no chain with the rotation's contacts: $(cat oncall.json)"
grep -q '"level":5,"name":"CEO","rotation":false,"severities":\["P0"\],"contacts":\[\]' oncall.json &&
    ok || bad "GET oncall: L5 CEO, P0 only: $(cat oncall.json)"
grep -q "\"open_incidents\":\[{\"id\":\"$id\",\"severity\":\"P0\"" oncall.json && ok ||
    bad "GET oncall: the open incident not in the checklist: $(cat oncall.json)"
grep -q '"access":\[{"name":"\(rosa\|olga\)","api_role":"\(responder\|risk_officer\)"}' oncall.json &&
    ok || bad "GET oncall: access: $(cat oncall.json)"
# The same document as the CLI's, but for the instant.
at=$(sed 's/^{"at_ns":\([0-9]*\),.*/\1/' oncall.json)
at3339=$(date -u -d "@${at%?????????}.${at#??????????}" +%Y-%m-%dT%H:%M:%S.%NZ)
"$warden" oncall --json --config c.yaml --db s.db --at "$at3339" >cli.json 2>&1
[ "$(cat cli.json)" = "$(cat oncall.json)" ] && ok ||
    bad "GET oncall differs from warden oncall --json: $(cat cli.json) vs $(cat oncall.json)"

# ---- silences: roles ----
body='{"scenario":"broker_disconnect","until":"+2h","reason":"broker maintenance"}'
[ "$(api POST /api/v1/silences "$VIEW" "$body")" = 403 ] && ok || bad "viewer silence: not 403"
grep -qx '{"error":"silencing needs the responder role (or higher); token '"'vic'"' has viewer"}' api.out &&
    ok || bad "viewer 403: $(cat api.out)"
p0='{"scenario":"kill_pnl","scope":"account:default","until":"+1h","reason":"drill"}'
[ "$(api POST /api/v1/silences "$RESP" "$p0")" = 403 ] && ok || bad "responder P0 silence: not 403: $(cat api.out)"
grep -qx '{"error":"silencing kill_pnl (a P0 scenario) needs the risk_officer role; given responder (token '"'rosa'"')"}' api.out &&
    ok || bad "responder P0 403: $(cat api.out)"
[ "$(api POST /api/v1/silences "$RESP" '{"scenario":"kill_pnl","until":"+1h","reason":"x","role":"risk_officer"}')" = 400 ] &&
    grep -qx '{"error":"unknown field \\"role\\""}' api.out && ok || bad "a role in the body: $(cat api.out)"
[ "$(api POST /api/v1/silences "$RESP" "$body")" = 200 ] && ok || bad "responder silence: $(cat api.out)"
grep -q '^{"id":1,"scenario":"broker_disconnect","scope":"",.*"reason":"broker maintenance","by":"rosa","role":"responder","removed_ns":0,"removed_by":""}$' api.out &&
    ok || bad "silence #1: $(cat api.out)"
[ "$(api POST /api/v1/silences "$RISK" "$p0")" = 200 ] && ok || bad "risk_officer P0 silence: $(cat api.out)"
grep -q '^{"id":2,"scenario":"kill_pnl","scope":"account:default",.*"by":"olga","role":"risk_officer"' api.out &&
    ok || bad "silence #2: $(cat api.out)"
[ "$(api GET "/api/v1/incidents/$id/timeline" "$VIEW")" = 200 ] &&
    grep -q '"kind":"note","who":"olga","from":"","to":"","text":"silence #2 (until [^"]*, by olga) added: notifications held back; reason: drill"' api.out &&
    ok || bad "the silence not on the incident's timeline: $(cat api.out)"

# ---- silences: bad bodies ----
check400() { # BODY EXPECTED-ERROR
    [ "$(api POST /api/v1/silences "$RISK" "$1")" = 400 ] && grep -qxF "{\"error\":\"$2\"}" api.out &&
        ok || bad "body $1: $(cat api.out) (expected $2)"
}
check400 '{"scenario":"kill_pnl","reason":"x"}' 'missing field \"until\"'
check400 '{"scenario":"kill_pnl","until":"+1h"}' 'missing field \"reason\"'
check400 '{"scenario":"kill_pnl","until":"+1h","reason":"x","scenario":"y"}' 'field \"scenario\" given twice'
check400 '{"scenario":7,"until":"+1h","reason":"x"}' 'field \"scenario\": expected a string (at most 1023 bytes)'
check400 '{"scenario":"kill_pnl","until":"tomorrow","reason":"x"}' "field \\\"until\\\": 'tomorrow' is not a time: expected RFC 3339 (2025-11-17T14:30:00Z), a date YYYY-MM-DD (the end of that local day) or +N followed by m, h or d (such as +2h)"
check400 '{"scenario":"kill_pnl","until":"2001-01-01T00:00:00Z","reason":"x"}' '--until must be in the future'
check400 '{"scenario":"nope","until":"+1h","reason":"x"}' "scenario 'nope': not a scenario (see docs/SCENARIOS.md)"
check400 '{"scenario":"kill_pnl","scope":"desk:x","until":"+1h","reason":"x"}' "scope 'desk:x': expected firm, account:NAME or strategy:NAME"
check400 '[1,2]' 'the request body is not one JSON object'
check400 '{"scenario":"kill_pnl"' 'the request body is not one JSON object'
head -c 70000 /dev/zero | tr '\0' ' ' >big.json
[ "$(api POST /api/v1/silences "$RISK" @big.json)" = 413 ] && ok || bad "a 70 KB body: not 413"
[ "$(api GET /api/v1/silences "$VIEW")" = 200 ] && ok || bad "GET silences"
[ "$(grep -o '"id":[0-9]*' api.out | tr '\n' ' ')" = '"id":1 "id":2 ' ] && ok || bad "GET silences: $(cat api.out)"

# ---- silences: remove ----
[ "$(api POST /api/v1/silences/2/remove "$VIEW")" = 403 ] && ok || bad "viewer remove: not 403"
[ "$(api POST /api/v1/silences/2/remove "$RESP")" = 403 ] && grep -q "needs the risk_officer role; given responder (token 'rosa')" api.out &&
    ok || bad "responder removes a P0 silence: $(cat api.out)"
[ "$(api POST /api/v1/silences/99/remove "$RESP")" = 404 ] && grep -qx '{"error":"no silence #99"}' api.out &&
    ok || bad "remove #99: $(cat api.out)"
[ "$(api POST /api/v1/silences/x1/remove "$RESP")" = 404 ] && ok || bad "remove x1: $(cat api.out)"
[ "$(api POST /api/v1/silences/1/remove "$RESP" '{"why":"x"}')" = 400 ] && grep -q 'unknown field \\"why\\"' api.out &&
    ok || bad "remove with a body: $(cat api.out)"
[ "$(api POST /api/v1/silences/1/remove "$RESP")" = 200 ] &&
    grep -qx '{"id":1,"removed_by":"rosa","message":"silence #1 removed"}' api.out && ok || bad "remove #1: $(cat api.out)"
[ "$(api POST /api/v1/silences/1/remove "$RESP")" = 409 ] && ok || bad "remove #1 twice: not 409: $(cat api.out)"
[ "$(api POST /api/v1/silences/2/remove "$RISK" '{}')" = 200 ] && ok || bad "risk_officer remove #2: $(cat api.out)"
[ "$(api GET /api/v1/silences "$VIEW")" = 200 ] && grep -qx '{"silences":\[\]}' api.out && ok ||
    bad "GET silences after removal: $(cat api.out)"
[ "$(api GET '/api/v1/silences?all=1' "$VIEW")" = 200 ] &&
    [ "$(grep -o '"removed_by":"[a-z]*"' api.out | tr '\n' ' ')" = '"removed_by":"rosa" "removed_by":"olga" ' ] &&
    ok || bad "GET silences?all=1: $(cat api.out)"
aud=$(sqlite3 s.db "SELECT who FROM audit_chain WHERE entity LIKE 'silences%' OR kind LIKE 'silences%' ORDER BY seq" 2>&1 | tr '\n' ' ')
[ "$aud" = "rosa olga rosa olga " ] && ok || bad "the audit chain's silences: $aud"

# ---- status update ----
upd='{"message":"failover at 14:05"}'
[ "$(api POST "/api/v1/incidents/$id/update" "$VIEW" "$upd")" = 403 ] && ok || bad "viewer update: not 403"
[ "$(api POST "/api/v1/incidents/$id/update" "$RESP" '{"msg":"x"}')" = 400 ] &&
    grep -q 'unknown field \\"msg\\"' api.out && ok || bad "update {msg}: $(cat api.out)"
[ "$(api POST "/api/v1/incidents/$id/update" "$RESP" '{"message":5}')" = 400 ] && ok || bad "update {message:5}"
[ "$(api POST /api/v1/incidents/INC-20990101-001/update "$RESP")" = 404 ] &&
    grep -qx '{"error":"incident INC-20990101-001: no such incident"}' api.out && ok || bad "update unknown: $(cat api.out)"
[ "$(api POST "/api/v1/incidents/$id/update" "$RESP" "$upd")" = 200 ] && ok || bad "update: $(cat api.out)"
grep -qx "{\"id\":\"$id\",\"by\":\"rosa\",\"queued\":1}" api.out && ok || bad "update answer: $(cat api.out)"
wait_for hook.log 'Update from rosa: failover at 14:05' 50 && ok || bad "the update never reached the webhook: $(cat hook.log)"
[ "$(api GET "/api/v1/incidents/$id/timeline" "$VIEW")" = 200 ] &&
    grep -q '"kind":"note","who":"rosa","from":"","to":"","text":"status update posted: failover at 14:05"' api.out &&
    ok || bad "the update not on the timeline: $(cat api.out)"

stop TERM "api8"
finish api8.sh
