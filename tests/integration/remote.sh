#!/bin/sh
# The CLI driving a running warden (issue 6, point 5): with WARDEN_URL (or
# --url) and WARDEN_TOKEN, halt, status, resume and incident ... go through
# the API over real HTTP on loopback (tests/tools/api_serve: wd_api_handle
# on libmicrohttpd), 401 and 403 are explained with a hint, the token is
# never printed; oncall, silence add|list|remove (the P0 rule from the
# token's role) and incident update go through it too; afterwards the
# store, read offline, holds what was done under the tokens' names.
#
# usage: remote.sh path/to/warden path/to/api_serve
set -u
warden=$1
serve=$2
tmp=$(mktemp -d)
pid=
cleanup() {
    if [ -n "$pid" ]; then kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; fi
    rm -rf "$tmp"
}
trap cleanup EXIT
cd "$tmp" || exit 2
fails=0
passes=0
ok() { passes=$((passes + 1)); }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }
unset WARDEN_URL WARDEN_TOKEN WARDEN_AS

VIEWER=viewer-token-0001
RESP=responder-token-01
RISK=risk-token-000001
cat >warden.yaml <<YAML
tokens:
  - {name: vera, role: viewer, token: "$VIEWER"}
  - {name: carol, role: responder, token: "$RESP"}
  - {name: rita, role: risk_officer, token: "$RISK"}
YAML

# An incident opened offline, before the server starts.
"$warden" incident open --db w.db --scenario broker_disconnect --scope firm \
    --title "Broker link down" --as alice >open.out 2>&1 || bad "offline open: $(cat open.out)"
id=$(sed -n 's/^\(INC-[0-9]*-[0-9]*\):.*/\1/p' open.out)

"$serve" w.db warden.yaml >port 2>serve.err &
pid=$!
i=0
while [ ! -s port ]; do
    i=$((i + 1)); [ $i -lt 100 ] || { echo "FAIL: server did not start: $(cat serve.err)"; exit 1; }
    sleep 0.05
done
base=http://127.0.0.1:$(cat port)
export WARDEN_URL=$base

# halt as the responder: the token's name is recorded.
WARDEN_TOKEN=$RESP "$warden" halt --scope firm --reason x >halt.out 2>halt.err &&
    ok || bad "halt: $(cat halt.err)"
grep -qx "firm: HALTED by carol: x" halt.out && ok || bad "halt output: $(cat halt.out)"
# The store, read offline while the server runs, has the halt under carol.
env -u WARDEN_URL "$warden" status --db w.db --json >off1.json 2>&1
grep -q '"scope":"firm","state":"HALTED",.*"reason":"x","by":"carol"' off1.json && ok ||
    bad "offline status after the halt: $(cat off1.json)"

# status through the API: the offline table.
WARDEN_TOKEN=$VIEWER "$warden" status >status.out 2>status.err && ok || bad "status: $(cat status.err)"
grep -q "^firm  *HALTED .* carol .* x$" status.out && ok || bad "status table: $(cat status.out)"
grep -q "resume needs: risk_officer" status.out && ok || bad "status approvals: $(cat status.out)"
# --url instead of WARDEN_URL; --json is the API's document.
WARDEN_URL= WARDEN_TOKEN=$VIEWER "$warden" status --json --url "$base" >sj.out 2>&1 &&
    ok || bad "status --url: $(cat sj.out)"
grep -q '"scope":"firm","state":"HALTED"' sj.out && ok || bad "status --json: $(cat sj.out)"

# incidents: list (JSON and table), ack, note, check, show.
WARDEN_TOKEN=$VIEWER "$warden" incident list --json >list.json 2>list.err &&
    ok || bad "incident list --json: $(cat list.err)"
grep -q "\"id\":\"$id\",\"scenario\":\"broker_disconnect\"" list.json && ok ||
    bad "incident list --json: $(cat list.json)"
WARDEN_TOKEN=$VIEWER "$warden" incident list >list.out 2>list.err && ok || bad "incident list"
grep -q "^$id  *P1  *open  *broker_disconnect  *firm .* ack due in" list.out && ok ||
    bad "incident list table: $(cat list.out)"
grep -q "1 incident active, 0 past SLA" list.err && ok || bad "list summary: $(cat list.err)"
WARDEN_TOKEN=$RESP "$warden" incident ack "$id" >ack.out 2>ack.err && ok || bad "ack: $(cat ack.err)"
grep -q "^$id: " ack.out && ok || bad "ack output: $(cat ack.out)"
WARDEN_TOKEN=$RESP "$warden" incident note "$id" "failover started" >note.out 2>&1 &&
    ok || bad "note: $(cat note.out)"
WARDEN_TOKEN=$RESP "$warden" incident check "$id" 1 >check.out 2>&1 && ok || bad "check: $(cat check.out)"
WARDEN_TOKEN=$VIEWER "$warden" incident show "$id" >show.out 2>&1 && ok || bad "show: $(cat show.out)"
grep -q "^  1\. \[x\] .* (carol)$" show.out && ok || bad "show criteria: $(cat show.out)"
grep -q "note  *carol  *failover started$" show.out && ok || bad "show timeline: $(cat show.out)"
WARDEN_TOKEN=$VIEWER "$warden" incident show "$id" --json >show.json 2>&1 && ok || bad "show --json"
grep -q "^{\"record\":{\"id\":\"$id\".*\"timeline\":\[{" show.json && ok || bad "show --json: $(cat show.json)"
WARDEN_TOKEN=$RESP "$warden" incident status INC-20990101-001 investigating >nf.out 2>nf.err
[ $? -eq 1 ] && ok || bad "unknown incident: exit status"
grep -q "HTTP 404: incident INC-20990101-001: no such incident" nf.err && ok || bad "404: $(cat nf.err)"
WARDEN_TOKEN=$RESP "$warden" incident open --scenario x >/dev/null 2>op.err
[ $? -eq 2 ] && ok || bad "incident open through the API is not a usage error"
grep -q "not available through the API" op.err && ok || bad "open: $(cat op.err)"

# 401: a token the server does not know; it is never printed.
WARDEN_TOKEN=not-a-known-token-42 "$warden" status >/dev/null 2>401.err
[ $? -eq 1 ] && ok || bad "401: exit status"
grep -q "HTTP 401: unknown token" 401.err && ok || bad "401 message: $(cat 401.err)"
grep -q "hint: WARDEN_TOKEN" 401.err && ok || bad "401 hint: $(cat 401.err)"
grep -q "not-a-known-token-42" 401.err && bad "401 printed the token" || ok
"$warden" status >/dev/null 2>401b.err
[ $? -eq 1 ] && ok || bad "no token: exit status"
grep -q "hint: set WARDEN_TOKEN" 401b.err && ok || bad "no token hint: $(cat 401b.err)"

# 403: the viewer may not halt.
WARDEN_TOKEN=$VIEWER "$warden" halt --scope account:alpha --reason y >/dev/null 2>403.err
[ $? -eq 1 ] && ok || bad "403: exit status"
grep -q "HTTP 403: halting needs the responder role (or higher); token 'vera' has viewer" 403.err &&
    ok || bad "403 message: $(cat 403.err)"
grep -q "hint: WARDEN_TOKEN's role" 403.err && ok || bad "403 hint: $(cat 403.err)"

# Offline-only options are refused with --url; the live figures need the engine.
WARDEN_TOKEN=$VIEWER "$warden" status --db w.db >/dev/null 2>&1
[ $? -eq 2 ] && ok || bad "--db with --url is not a usage error"
WARDEN_TOKEN=$VIEWER "$warden" pnl >/dev/null 2>pnl.err
[ $? -eq 1 ] && ok || bad "pnl without the engine: exit status"
grep -q "HTTP 503: pnl needs the running engine" pnl.err && ok || bad "pnl: $(cat pnl.err)"

# resume: the Risk Officer's approval is all a manual halt needs.
WARDEN_TOKEN=$RISK "$warden" resume --scope firm --role risk_officer --reason "link back" \
    >resume.out 2>resume.err && ok || bad "resume: $(cat resume.err)"
grep -q "^firm: approval by rita (risk_officer) recorded$" resume.out && ok ||
    bad "resume output: $(cat resume.out)"
grep -q "^firm: RAMP_UP, then ACTIVE$" resume.out && ok || bad "resume output: $(cat resume.out)"

# On-call and silences (issue 8) through the API.
WARDEN_TOKEN=$VIEWER "$warden" oncall >oc.out 2>oc.err && ok || bad "oncall: $(cat oc.err)"
grep -q "^  L1 On-Call (the rotation): (no contacts)$" oc.out && ok || bad "oncall chain: $(cat oc.out)"
grep -q "^  L5 CEO: (no contacts)$" oc.out && ok || bad "oncall chain L5: $(cat oc.out)"
WARDEN_TOKEN=$VIEWER "$warden" oncall --json >oc.json 2>&1 && ok || bad "oncall --json"
grep -q '^{"at_ns":[0-9]*,"tz":"[A-Za-z_/]*","now":{"week":' oc.json && ok || bad "oncall --json: $(cat oc.json)"
WARDEN_TOKEN=$VIEWER "$warden" oncall test-page >/dev/null 2>tp.err
[ $? -eq 2 ] && grep -q "oncall test-page: not available through the API" tp.err && ok ||
    bad "oncall test-page with --url: $(cat tp.err)"
WARDEN_TOKEN=$VIEWER "$warden" silence add --scenario broker_disconnect --until +2h --reason m >/dev/null 2>s403.err
[ $? -eq 1 ] && grep -q "HTTP 403: silencing needs the responder role (or higher); token 'vera' has viewer" s403.err &&
    ok || bad "viewer silence add: $(cat s403.err)"
WARDEN_TOKEN=$RESP "$warden" silence add --scenario kill_pnl --until +2h --reason m --role risk_officer >/dev/null 2>p0.err
[ $? -eq 1 ] && grep -q "HTTP 403: silencing kill_pnl (a P0 scenario) needs the risk_officer role; given responder (token 'carol')" p0.err &&
    ok || bad "responder P0 silence through the CLI: $(cat p0.err)"
grep -q "\-\-as and \-\-role are ignored with \-\-url" p0.err && ok || bad "--role not said ignored: $(cat p0.err)"
WARDEN_TOKEN=$RESP "$warden" silence add --scenario broker_disconnect --scope firm --until +2h \
    --reason "broker maintenance" >sa.out 2>sa.err && ok || bad "silence add: $(cat sa.err)"
grep -q "^silence #1: broker_disconnect in firm held back until .* (by carol)$" sa.out && ok ||
    bad "silence add output: $(cat sa.out)"
WARDEN_TOKEN=$RISK "$warden" silence add --scenario kill_drawdown --until +1h --reason drill >/dev/null 2>&1 &&
    ok || bad "risk_officer silences a P0 scenario"
WARDEN_TOKEN=$RESP "$warden" silence add --scenario broker_disconnect --until soon --reason m >/dev/null 2>su.err
[ $? -eq 1 ] && grep -q "HTTP 400: field \"until\": 'soon' is not a time" su.err && ok || bad "bad --until: $(cat su.err)"
WARDEN_TOKEN=$VIEWER "$warden" silence list >sl.out 2>&1 && ok || bad "silence list: $(cat sl.out)"
grep -q "^1  *broker_disconnect  *firm .* carol  *broker maintenance$" sl.out && ok || bad "silence list: $(cat sl.out)"
grep -q "^2  *kill_drawdown  *(every) .* rita  *drill$" sl.out && ok || bad "silence list: $(cat sl.out)"
WARDEN_TOKEN=$RESP "$warden" silence remove 2 >/dev/null 2>sr.err
[ $? -eq 1 ] && grep -q "HTTP 403" sr.err && ok || bad "responder removes a P0 silence: $(cat sr.err)"
WARDEN_TOKEN=$RESP "$warden" silence remove 1 >sr.out 2>&1 && ok || bad "silence remove: $(cat sr.out)"
grep -qx "silence #1 removed" sr.out && ok || bad "silence remove output: $(cat sr.out)"
WARDEN_TOKEN=$RESP "$warden" silence remove 1 >/dev/null 2>sr2.err
[ $? -eq 1 ] && grep -q "HTTP 409" sr2.err && ok || bad "remove twice: $(cat sr2.err)"
WARDEN_TOKEN=$VIEWER "$warden" silence list --all --json >sl.json 2>&1 && ok || bad "silence list --all --json"
grep -q '"id":1,.*"removed_by":"carol"}' sl.json && ok || bad "silence list --all --json: $(cat sl.json)"
WARDEN_TOKEN=$VIEWER "$warden" silence list --db w.db >/dev/null 2>&1
[ $? -eq 2 ] && ok || bad "silence --db with --url is not a usage error"
# The status update (no channel configured here: nothing queued, the note recorded).
WARDEN_TOKEN=$RESP "$warden" incident update "$id" --message "failover done" >up.out 2>up.err &&
    ok || bad "incident update: $(cat up.err)"
grep -qx "$id: status update posted, 0 notifications queued" up.out && ok || bad "update output: $(cat up.out)"
WARDEN_TOKEN=$VIEWER "$warden" incident update "$id" >/dev/null 2>up403.err
[ $? -eq 1 ] && grep -q "HTTP 403: a status update needs the responder role" up403.err && ok ||
    bad "viewer update: $(cat up403.err)"

# No server: the URL is named.
kill "$pid"; wait "$pid" 2>/dev/null; pid=
WARDEN_TOKEN=$VIEWER "$warden" status >/dev/null 2>down.err
[ $? -eq 1 ] && ok || bad "server down: exit status"
grep -q "GET $base/api/v1/status: .*onnect" down.err && ok || bad "server down: $(cat down.err)"

# Offline afterwards: the store holds it all under the tokens' names.
unset WARDEN_URL
"$warden" status --db w.db --json >off.json 2>&1 && ok || bad "offline status: $(cat off.json)"
grep -q '"scope":"firm","state":"RAMP_UP",.*"by":"rita"' off.json && ok ||
    bad "offline status: $(cat off.json)"
"$warden" incident show "$id" --db w.db >off.out 2>&1 && ok || bad "offline show"
grep -q "note  *carol  *failover started$" off.out && ok || bad "offline timeline: $(cat off.out)"
grep -q "^  1\. \[x\]" off.out && ok || bad "offline criteria: $(cat off.out)"
grep -q "note  *carol  *status update posted: failover done$" off.out && ok || bad "offline update note: $(cat off.out)"
"$warden" silence list --all --db w.db --config warden.yaml >offs.out 2>&1
grep -q "^1 .* carol .*\[removed\]$" offs.out && ok || bad "offline silences: $(cat offs.out)"

echo "remote: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
