#!/bin/sh
# `warden run`, the daemon's loop, end to end:
#  - a followed file: events appended over time go through the engine as
#    they come (a kill-switch crossing: halt, cancel_all, incident), and a
#    rotation (the file replaced by a new one) is followed;
#  - a heartbeat timeout found by the wall-clock tick with no new event;
#  - SIGHUP with an invalid configuration: refused, logged, still running;
#    then a valid one with another limits.kill_pnl: in the audit trail;
#  - SIGTERM: exit status 0, the halt in the store (`warden status`);
#  - an incident's acknowledgement SLA and escalation passed on the wall
#    clock: on its timeline once each;
#  - stdin from a here-doc; a unix socket with two producers (python3).
# Waits poll with a timeout; no fixed long sleeps.
#
# usage: run.sh path/to/warden
set -u
warden=$1
. "$(dirname "$0")/daemon_lib.sh"

# Every hour of every day is a trading hour: events are stamped now.
cat >c.yaml <<'EOF'
capital: 1000
session: {tz: UTC, open: "00:00", close: "23:59", days: [Mon, Tue, Wed, Thu, Fri, Sat, Sun]}
detect: {heartbeat_timeout_s: 1}
EOF
cp c.yaml run.yaml
: >ev.jsonl

"$warden" run --metrics-listen 127.0.0.1:0 --api-listen 127.0.0.1:0 --config run.yaml --db s.db --input ev.jsonl >out.jsonl 2>err.log &
pid=$!
wait_for err.log ' INFO run started config=run.yaml store=s.db input=ev.jsonl' && ok ||
    bad "no start log line: $(cat err.log)"

# A buy, then the price falls 6%: the PnL kill-switch.
quote 9.99 10.01 >>ev.jsonl
printf '{"type":"intent","ts":"%s","id":"o1","symbol":"XYZ","side":"BUY","qty":100,"source":"s"}\n' "$(now)" >>ev.jsonl
wait_for out.jsonl '"id":"o1","verdict":"accept"' && ok || bad "the intent was not decided: $(cat out.jsonl)"
printf '{"type":"fill","ts":"%s","id":"o1","symbol":"XYZ","side":"BUY","qty":100,"price":10}\n' "$(now)" >>ev.jsonl
quote 9.39 9.41 >>ev.jsonl
wait_for out.jsonl '"action":"halt","scope":"account:default"' && ok || bad "no halt: $(cat out.jsonl)"
wait_for out.jsonl '"type":"incident".*"scenario":"kill_pnl"' && ok || bad "no kill_pnl incident"

# Rotation: the file is moved away and a new one takes its place.
mv ev.jsonl ev.jsonl.1
printf '{"type":"intent","ts":"%s","id":"o2","symbol":"XYZ","side":"BUY","qty":1,"source":"s"}\n' "$(now)" >ev.jsonl
wait_for err.log 'input file replaced' && ok || bad "rotation not logged: $(cat err.log)"
wait_for out.jsonl '"id":"o2","verdict":"reject","reason":"halted"' && ok ||
    bad "the intent after the rotation: $(tail -3 out.jsonl)"
# Truncation: read again from the start (seen once the file is shorter
# than what was read, as with tail -F).
: >ev.jsonl
wait_for err.log 'input file truncated' && ok || bad "truncation not logged"
printf '{"type":"intent","ts":"%s","id":"o3","symbol":"XYZ","side":"BUY","qty":1,"source":"s"}\n' "$(now)" >>ev.jsonl
wait_for out.jsonl '"id":"o3","verdict":"reject"' && ok || bad "the intent after a truncation"

# A broker heartbeat, then silence: the tick finds the timeout.
printf '{"type":"heartbeat","ts":"%s","component":"broker","status":"up"}\n' "$(now)" >>ev.jsonl
wait_for out.jsonl '"scenario":"broker_disconnect"' 40 && ok ||
    bad "no heartbeat timeout from the tick: $(tail -3 out.jsonl)"

# SIGHUP with an invalid file: refused, logged, still running.
printf 'limits:\n  kill_pnl: abc\n' >run.yaml
kill -HUP $pid
wait_for err.log 'ERROR run configuration refused' && ok || bad "invalid reload not refused: $(tail -3 err.log)"
kill -0 $pid 2>/dev/null && ok || bad "warden run died on an invalid reload"
# Then a valid one with another kill_pnl.
sed 's/^capital: 1000$/capital: 1000\nlimits: {kill_pnl: -0.03}/' c.yaml >run.yaml
kill -HUP $pid
wait_for err.log 'INFO run configuration reloaded config=run.yaml kill_pnl=-0.03' && ok ||
    bad "valid reload not logged: $(tail -3 err.log)"
[ "$(sqlite3 s.db "SELECT payload FROM audit_chain WHERE kind = 'limits.change' ORDER BY seq DESC LIMIT 1")" = \
  '{"key":"limits.kill_pnl","old":"-0.05","new":"-0.03"}' ] && ok || bad "the kill_pnl change is not in the trail"
# Still processing, with the book carried over: the position is still there.
printf '{"type":"intent","ts":"%s","id":"o4","symbol":"XYZ","side":"SELL","qty":1,"source":"s"}\n' "$(now)" >>ev.jsonl
wait_for out.jsonl '"id":"o4","verdict":"reject","reason":"halted"' && ok || bad "no decision after the reload"

stop TERM "file input"
grep -q ' INFO run stopped events=' err.log && ok || bad "no stop log line"
"$warden" status --db s.db >status.txt 2>&1
grep -q 'account:default *HALTED' status.txt && ok || bad "the halt is not in the store: $(cat status.txt)"
"$warden" audit verify --db s.db >/dev/null 2>&1 && ok || bad "audit verify"
# Every stderr line is a log line: time level component message.
bad_lines=$(grep -cvE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z (DEBUG|INFO|WARN|ERROR|CRIT) [a-z_]+ ' err.log)
# (the invalid configuration's problems are said as `warden: FILE:LINE:COL: ...`)
[ "$bad_lines" -le 2 ] && ok || bad "unstructured stderr lines: $(grep -vE '^[0-9]{4}-' err.log)"

# stdin from a here-doc: processed, then still running until SIGTERM.
"$warden" run --metrics-listen off --api-listen off --config c.yaml --db in.db >in.out 2>in.err <<EOF &
$(quote 9.99 10.01)
{"type":"intent","ts":"$(now)","id":"h1","symbol":"XYZ","side":"BUY","qty":1,"source":"s"}
not json
EOF
pid=$!
wait_for in.err 'input ended, still running input=stdin' && ok || bad "stdin end not logged: $(cat in.err)"
grep -q '"id":"h1","verdict":"accept"' in.out && ok || bad "stdin event: $(cat in.out)"
grep -q 'malformed event skipped' in.err && ok || bad "malformed stdin line not reported"
kill -0 $pid 2>/dev/null && ok || bad "warden run stopped at the end of stdin"
stop INT "stdin input"

# The incidents' deadlines pass on the wall clock: a kill-switch crossed
# 31 minutes ago and nobody acknowledged it. The tick puts the
# acknowledgement SLA breach (5 min for a P0) and the senior engineer
# escalation (30 min) on its timeline, once each however many ticks pass.
T=$(date -u -d '-31 min' +%Y-%m-%dT%H:%M:%S.%NZ)
{
    printf '{"type":"quote","ts":"%s","symbol":"XYZ","bid":9.99,"ask":10.01}\n' "$T"
    printf '{"type":"intent","ts":"%s","id":"s1","symbol":"XYZ","side":"BUY","qty":100,"source":"s"}\n' "$T"
    printf '{"type":"fill","ts":"%s","id":"s1","symbol":"XYZ","side":"BUY","qty":100,"price":10}\n' "$T"
    printf '{"type":"quote","ts":"%s","symbol":"XYZ","bid":9.39,"ask":9.41}\n' "$T"
} >sla.jsonl
"$warden" run --metrics-listen off --api-listen off --config c.yaml --db sla.db --input - <sla.jsonl >sla.out 2>sla.err &
pid=$!
wait_for sla.err 'incident escalation id=INC-' && ok || bad "no escalation logged: $(cat sla.err)"
grep -q 'incident sla_breach id=INC-.* severity=P0 text="acknowledgement SLA breached: a P0 is acknowledged within 5 min' sla.err && ok ||
    bad "no acknowledgement SLA breach logged: $(grep incident sla.err)"
id=$(sed -n 's/.*incident escalation id=\(INC-[0-9-]*\) .*/\1/p' sla.err | head -1)
ticks_then=$(grep -c 'incident ' sla.err)
sleep 2.5 # two more ticks: nothing announced twice
[ "$(grep -c 'incident ' sla.err)" -eq "$ticks_then" ] && ok || bad "deadlines announced again: $(grep incident sla.err)"
stop TERM "deadlines"
"$warden" incident show "$id" --json --db sla.db >sla.json 2>&1 || bad "incident show $id: $(cat sla.json)"
[ "$(grep -o '"kind":"sla_breach"' sla.json | wc -l)" -eq 1 ] && ok || bad "sla_breach entries: $(cat sla.json)"
[ "$(grep -o '"kind":"escalation"' sla.json | wc -l)" -eq 1 ] && ok || bad "escalation entries: $(cat sla.json)"
grep -q '"kind":"escalation","who":"warden"' sla.json && ok || bad "escalation not by warden: $(cat sla.json)"
[ -s "logs/$(ls logs 2>/dev/null | head -1)" ] && ok || bad "no incident log beside the store"

# A unix socket, two producers, each a line in two writes.
"$warden" run --metrics-listen off --api-listen off --config c.yaml --db u.db --input "unix:$tmp/w.sock" >u.out 2>u.err &
pid=$!
wait_for u.err 'INFO run started' && ok || bad "socket run did not start: $(cat u.err)"
python3 - "$tmp/w.sock" "$(now)" <<'EOF' || bad "python producer failed"
import socket, sys, time
path, ts = sys.argv[1], sys.argv[2]
a = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); a.connect(path)
b = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); b.connect(path)
a.sendall(('{"type":"quote","ts":"%s","symbol":"XYZ","bid":9.99,"ask":10.01}\n{"type":"intent","ts":"%s",' % (ts, ts)).encode())
b.sendall(('{"type":"intent","ts":"%s","id":"b1","symbol":"XYZ",' % ts).encode())
time.sleep(0.2)
a.sendall(b'"id":"a1","symbol":"XYZ","side":"BUY","qty":1,"source":"s"}\n')
b.sendall(b'"side":"BUY","qty":2,"source":"s"}\n')
a.close(); b.close()
EOF
wait_for u.out '"id":"a1","verdict":"accept"' && ok || bad "producer a: $(cat u.out) $(cat u.err)"
wait_for u.out '"id":"b1","verdict":"accept"' && ok || bad "producer b: $(cat u.out)"
wait_for u.err 'producer disconnected' && ok || bad "disconnect not logged"
stop TERM "socket input"
[ ! -e "$tmp/w.sock" ] && ok || bad "the socket was left behind"

echo "run: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
