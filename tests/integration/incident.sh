#!/bin/sh
# `warden incident ...` (issue 5) against a real store: the lifecycle with
# its refusals, one incident per (scenario, scope), the P0/P1 checklist gate
# on resolve and on `warden resume`, the SLA with a given clock (--at), the
# timeline, and the audit chain still verifying after it all.
#
# usage: incident.sh path/to/warden
set -u
warden=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 2
fails=0
passes=0
ok() { passes=$((passes + 1)); }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }
inc() { "$warden" incident "$@" --db w.db; }

T0=2025-11-17T15:00:00Z
# Open by hand (P1 broker disconnect on the firm).
inc open --scenario broker_disconnect --scope firm --title "Broker link down" \
    --as alice --at $T0 >open.out 2>open.err || bad "open failed: $(cat open.err)"
id=$(sed -n 's/^\(INC-[0-9]*-[0-9]*\):.*/\1/p' open.out)
[ "$id" = INC-20251117-001 ] && ok || bad "first incident id '$id'"

# One per (scenario, scope).
inc open --scenario broker_disconnect --scope firm --title again --as bob --at $T0 \
    >/dev/null 2>dup.err && bad "a second broker_disconnect on firm was opened" || ok
grep -q "INC-20251117-001 is already open" dup.err && ok || bad "dedup message: $(cat dup.err)"

# SLA: P1 acknowledgement within 15 minutes.
inc list --at 2025-11-17T15:14:59Z >l1.out 2>/dev/null
grep -q "ack due in 1s" l1.out && ok || bad "SLA 1 s before due: $(cat l1.out)"
inc list --at 2025-11-17T15:15:01Z >l2.out 2>l2.err
grep -q "PAST SLA: ack 1s late" l2.out && ok || bad "SLA 1 s past due: $(cat l2.out)"
grep -q "1 past SLA" l2.err && ok || bad "list summary: $(cat l2.err)"

# A change needs --as; a bad id and a bad transition are refused.
inc ack "$id" --at 2025-11-17T15:05:00Z >/dev/null 2>&1; [ $? -eq 2 ] && ok || bad "ack without --as"
inc ack INC-20251117-999 --as alice --at 2025-11-17T15:05:00Z >/dev/null 2>nf.err
[ $? -eq 1 ] && grep -q "no such incident" nf.err && ok || bad "bad id: $(cat nf.err)"
inc close "$id" --as alice --at 2025-11-17T15:05:00Z >/dev/null 2>tr.err
[ $? -eq 1 ] && grep -q "open" tr.err && ok || bad "open -> closed was not refused: $(cat tr.err)"

inc ack "$id" --as alice --at 2025-11-17T15:05:00Z >/dev/null || bad "ack failed"
inc assign "$id" --role commander carol --as alice --at 2025-11-17T15:06:00Z >/dev/null ||
    bad "assign failed"
inc status "$id" investigating --as carol --at 2025-11-17T15:07:00Z >/dev/null || bad "status failed"
inc note "$id" "broker says maintenance" --as carol --at 2025-11-17T15:08:00Z >/dev/null ||
    bad "note failed"

# P1: resolve refused while a criterion is unticked.
inc resolve "$id" --as carol --at 2025-11-17T15:20:00Z >/dev/null 2>res.err
[ $? -eq 1 ] && ok || bad "resolve with unticked criteria was allowed"
n=$(inc show "$id" --json | grep -o '"text":"[^"]*","done"' | wc -l)
[ "$n" -ge 1 ] && ok || bad "no recovery criteria on the record"
i=1
while [ $i -le "$n" ]; do
    inc check "$id" $i --as carol --at 2025-11-17T15:2$i:00Z >/dev/null || bad "check $i failed"
    i=$((i + 1))
done
inc resolve "$id" --as carol --at 2025-11-17T15:40:00Z >/dev/null || bad "resolve after the checklist failed: $(cat res.err)"
inc close "$id" --as carol --at 2025-11-17T16:00:00Z >/dev/null || bad "close failed"

# The timeline has every change, in order, with who.
inc show "$id" >show.out || bad "show failed"
for what in opened status role note check; do
    grep -q " $what " show.out && ok || bad "timeline lacks a '$what' entry: $(cat show.out)"
done
grep -q "carol" show.out && ok || bad "timeline lacks who"

# Nothing leaves closed; list shows no active incident.
inc note "$id" "late note" --as carol --at 2025-11-17T16:05:00Z >/dev/null 2>&1 &&
    bad "a closed incident took a note" || ok
inc list --at 2025-11-17T16:10:00Z 2>l3.err >/dev/null
grep -q "0 incidents active" l3.err && ok || bad "active list after close: $(cat l3.err)"

# Documents: the incident log kept under logs/, the report, a message, the
# review deadline (48 h after the resolution at 15:40).
ls logs/incident_20251117_*.log >/dev/null 2>&1 && grep -q "$id" logs/incident_20251117_*.log && ok ||
    bad "no incident log under logs/"
inc report "$id" --at 2025-11-17T16:00:00Z >report.md && head -1 report.md | grep -q "^# Incident Report - 2025-11-17" &&
    ok || bad "report: $(head -3 report.md)"
inc message "$id" --kind initial --at 2025-11-17T16:00:00Z | grep -q "INCIDENT ALERT" && ok ||
    bad "initial message"
inc message "$id" --kind weekly >/dev/null 2>&1; [ $? -eq 2 ] && ok || bad "a bad --kind was not a usage error"
inc open --scenario high_latency --scope firm --title "Slow acks" --as alice --at $T0 >/dev/null ||
    bad "second open failed"
inc resolve INC-20251117-002 --pnl -1234.5 --as alice --at 2025-11-17T15:10:00Z >/dev/null || bad "P2 high_latency resolve"
inc show INC-20251117-002 | grep -q " impact .*PnL at resolution -1234.50" && ok || bad "the PnL at resolution is not on the record"
inc review --due --at 2025-11-19T15:10:00Z >due1.out 2>/dev/null
[ ! -s due1.out ] && ok || bad "review due exactly at 48 h listed: $(cat due1.out)"
inc review --due --at 2025-11-19T15:10:01Z >due2.out 2>/dev/null
grep -q "INC-20251117-002  review overdue" due2.out && ok || bad "overdue review not listed: $(cat due2.out)"

# The audit chain covers it all.
"$warden" audit verify --db w.db >verify.out 2>&1 && ok || bad "audit verify failed: $(cat verify.out)"

# From a replay: a detector that fires again while its incident is active
# adds to it (one incident per scenario and scope); its recovery is noted.
cat >hb.jsonl <<'EOF'
{"type":"heartbeat","ts":"2025-11-17T15:00:00Z","component":"broker","status":"down"}
{"type":"heartbeat","ts":"2025-11-17T15:00:01Z","component":"broker","status":"up"}
{"type":"heartbeat","ts":"2025-11-17T15:00:02Z","component":"broker","status":"down"}
EOF
"$warden" replay --db r.db hb.jsonl >hb.out 2>/dev/null || bad "replay failed"
[ "$(grep -c '"id":"INC-20251117-001"' hb.out)" = 3 ] && ok || bad "the re-fire did not reuse the incident: $(cat hb.out)"
"$warden" incident list --all --db r.db --at 2025-11-17T15:01:00Z 2>l4.err >l4.out
grep -q "warden: 1 incident, " l4.err && ok || bad "replay incidents: $(cat l4.err)"
"$warden" incident show INC-20251117-001 --db r.db >show2.out
[ "$(grep -c ' finding ' show2.out)" = 2 ] && ok || bad "findings on the timeline: $(cat show2.out)"

# A kill-switch halt (P0) resumes only once its incident's recovery criteria
# are ticked, whatever approvals there are; every control action of the
# kill is on the incident's timeline.
cat >kill.yaml <<'EOF'
capital: 1000
EOF
cat >kill.jsonl <<'EOF'
{"type":"quote","ts":"2025-11-17T15:00:00Z","symbol":"XYZ","bid":9.99,"ask":10.01}
{"type":"intent","ts":"2025-11-17T15:00:01Z","id":"o1","symbol":"XYZ","side":"BUY","qty":100,"source":"s"}
{"type":"fill","ts":"2025-11-17T15:00:02Z","id":"o1","symbol":"XYZ","side":"BUY","qty":100,"price":10}
{"type":"quote","ts":"2025-11-17T15:00:03Z","symbol":"XYZ","bid":9.39,"ask":9.41}
EOF
"$warden" replay --db k.db --config kill.yaml --logs out kill.jsonl >/dev/null 2>&1 || bad "kill replay failed"
grep -q "^Trading: Halted" out/logs/incident_20251117_100003.log && grep -q "^PnL: -60.00 at open" out/logs/incident_20251117_100003.log &&
    ok || bad "the replay's incident log: $(cat out/logs/*.log 2>&1 | head -20)"
"$warden" incident show INC-20251117-001 --db k.db >kshow.out
grep -q " control .*halt account:default: Kill-switch activated: PnL breach" kshow.out &&
    grep -q " control .*cancel_all account:default" kshow.out && ok ||
    bad "the kill's controls are not on the timeline: $(cat kshow.out)"
"$warden" resume --db k.db --scope account:default --as rita --role risk_officer --reason ok >res1.out 2>&1
grep -q "still HALTED; incident INC-20251117-001's recovery criteria are not all ticked" res1.out && ok ||
    bad "resume before the checklist: $(cat res1.out)"
"$warden" status --db k.db | grep -q "HALTED" && ok || bad "the scope left HALTED"
n=$("$warden" incident show INC-20251117-001 --db k.db --json | grep -o '"text":"[^"]*","done"' | wc -l)
i=1
while [ $i -le "$n" ]; do
    "$warden" incident check INC-20251117-001 $i --as rita --db k.db >/dev/null || bad "check $i"
    i=$((i + 1))
done
"$warden" resume --db k.db --scope account:default --as rita --role risk_officer --reason ok >res2.out 2>&1
grep -q "RAMP_UP" res2.out && ok || bad "resume after the checklist: $(cat res2.out)"
"$warden" audit verify --db k.db >/dev/null 2>&1 && ok || bad "audit verify after the resume"

# Limit changes are in the audit trail (SPEC 8): a run with another
# kill_pnl records the change from the value last in force, and only it.
cat >kill2.yaml <<'EOF'
capital: 1000
limits: {kill_pnl: -0.03}
EOF
cp k.db lim.db
"$warden" replay --db lim.db --config kill2.yaml --restart kill.jsonl >/dev/null 2>&1 || bad "replay with kill2.yaml"
[ "$(sqlite3 lim.db "SELECT payload FROM audit_chain WHERE kind = 'limits.change' ORDER BY seq DESC LIMIT 1")" = \
  '{"key":"limits.kill_pnl","old":"-0.05","new":"-0.03"}' ] && ok || bad "the kill_pnl change is not in the trail"
[ "$(sqlite3 lim.db "SELECT count(*) FROM audit_chain WHERE kind = 'limits.change'")" = 12 ] && ok ||
    bad "limit entries: $(sqlite3 lim.db "SELECT count(*) FROM audit_chain WHERE kind = 'limits.change'")"

# Tampering behind warden's back with the sqlite3 tool (Debian's sqlite3):
# an edited row, a deleted row, reordered chain entries; each is found and
# named. Each on a copy of the store that verified.
command -v sqlite3 >/dev/null || { bad "the sqlite3 tool is not installed (deps/debian-packages.txt)"; }
"$warden" audit verify --db k.db >/dev/null 2>&1 && ok || bad "k.db does not verify before tampering"
cp k.db t1.db
sqlite3 t1.db "UPDATE incidents SET severity = 'P3' WHERE id = 'INC-20251117-001'"
"$warden" audit verify --db t1.db >t1.out 2>&1; [ $? -eq 1 ] && grep -q "incidents row INC-20251117-001" t1.out &&
    ok || bad "an edited incidents row was not named: $(cat t1.out)"
cp k.db t2.db
sqlite3 t2.db "DELETE FROM approvals WHERE who = 'rita'"
"$warden" audit verify --db t2.db >t2.out 2>&1; [ $? -eq 1 ] && grep -q "approvals row" t2.out &&
    ok || bad "a deleted approvals row was not named: $(cat t2.out)"
cp k.db t3.db
sqlite3 t3.db "DROP TRIGGER audit_chain_no_update;
UPDATE audit_chain SET seq = -3 WHERE seq = 3; UPDATE audit_chain SET seq = 3 WHERE seq = 4;
UPDATE audit_chain SET seq = 4 WHERE seq = -3;"
"$warden" audit verify --db t3.db >t3.out 2>&1; [ $? -eq 1 ] && grep -q "entry 3" t3.out && grep -q "reordered" t3.out &&
    ok || bad "reordered chain entries were not named: $(cat t3.out)"

# A keyed chain (store.chain_key_file): it verifies under its key only;
# a key file too short is refused at start, naming the setting.
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >chain.key
printf 'store: {chain_key_file: chain.key}\n' >keyed.yaml
"$warden" halt --config keyed.yaml --db keyed.db --scope firm --reason "keyed test" --as kim >/dev/null 2>&1 &&
    ok || bad "halt with a keyed chain"
"$warden" audit verify --config keyed.yaml --db keyed.db >kv.out 2>&1 && ok || bad "keyed chain under its key: $(cat kv.out)"
"$warden" audit verify --db keyed.db >ku.out 2>&1; [ $? -eq 1 ] && grep -q "entry 1: hash does not match" ku.out &&
    ok || bad "a keyed chain verified without its key: $(cat ku.out)"
printf 'short' >short.key
printf 'store: {chain_key_file: short.key}\n' >short.yaml
"$warden" audit verify --config short.yaml --db keyed.db >ks.out 2>&1; [ $? -eq 2 ] &&
    grep -q "store.chain_key_file short.key: a key is 16 to 4096 bytes" ks.out && ok ||
    bad "a short key file not refused: $(cat ks.out)"

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
