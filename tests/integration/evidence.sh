#!/bin/sh
# `warden evidence ID` (issue 5 points 8 and 9): a replay trips the PnL
# kill-switch (P0), responders tick its checklist and resolve it, and the
# evidence archive is written, listed, extracted and checked: the exact file
# list, sha256sum -c of its manifest, exactly the expected event lines
# (window boundaries inclusive, a malformed line among them kept), the
# audit verification, the chain excerpt, the configuration copied byte for
# byte, the same bytes on a second run, a tampered store reported as
# BROKEN, and the refusals' exit codes.
#
# usage: evidence.sh path/to/warden path/to/sqlexec
set -u
warden=$1
sqlexec=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 2
fails=0
passes=0
ok() { passes=$((passes + 1)); }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }
id=INC-20251117-001

cat >kill.yaml <<'EOF'
capital: 1000
EOF
# The kill fires on the quote at 15:00:03 (the incident opens then); it is
# resolved at 15:20:00 below. With the default 15-minute window the events
# kept are those from 14:45:03 to 15:35:00, both included.
# Metrics before the session: a gap in quotes or heartbeats would open a
# data-quality or broker incident of its own.
cat >kill.jsonl <<'EOF'
{"type":"metric","ts":"2025-11-17T14:30:00Z","name":"cpu","value":0.5}
{"type":"metric","ts":"2025-11-17T14:45:02.999999999Z","name":"cpu","value":0.5}
garbage before the window
{"type":"metric","ts":"2025-11-17T14:45:03Z","name":"cpu","value":0.5}
{"type":"quote","ts":"2025-11-17T15:00:00Z","symbol":"XYZ","bid":9.99,"ask":10.01}
{"type":"intent","ts":"2025-11-17T15:00:01Z","id":"o1","symbol":"XYZ","side":"BUY","qty":100,"source":"s"}
{"type":"fill","ts":"2025-11-17T15:00:02Z","id":"o1","symbol":"XYZ","side":"BUY","qty":100,"price":10}
{"type":"quote","ts":"2025-11-17T15:00:03Z","symbol":"XYZ","bid":9.39,"ask":9.41}
not json at all
{"type":"quote","ts":1763392500000000000,"symbol":"XYZ","bid":"oops"}
{"type":"quote","ts":"2025-11-17T15:35:00Z","symbol":"XYZ","bid":9.39,"ask":9.41}
{"type":"quote","ts":"2025-11-17T15:35:00.000000001Z","symbol":"XYZ","bid":9.39,"ask":9.41}
garbage after the window
{"type":"quote","ts":"2025-11-17T16:00:00Z","symbol":"XYZ","bid":9.39,"ask":9.41}
EOF
sed -n '4,11p' kill.jsonl >expected_events.jsonl

"$warden" replay --db k.db --config kill.yaml kill.jsonl >/dev/null 2>replay.err ||
    bad "replay failed: $(cat replay.err)"
n=$("$warden" incident show $id --db k.db --json | grep -o '"text":"[^"]*","done"' | wc -l)
[ "$n" -ge 1 ] && ok || bad "no recovery criteria on $id"
i=1
while [ $i -le "$n" ]; do
    "$warden" incident check $id $i --as rita --db k.db --at 2025-11-17T15:1$i:00Z >/dev/null ||
        bad "check $i"
    i=$((i + 1))
done
"$warden" incident resolve $id --as rita --db k.db --at 2025-11-17T15:20:00Z >/dev/null ||
    bad "resolve failed"

# The default path, and what it holds.
"$warden" evidence $id --db k.db --config kill.yaml --events kill.jsonl >ev.out 2>ev.err ||
    bad "evidence failed: $(cat ev.err)"
[ "$(cat ev.out)" = "evidence/$id.tar.gz" ] && ok || bad "evidence printed '$(cat ev.out)'"
tar -tzf "evidence/$id.tar.gz" >list.out || bad "tar -tzf failed"
cat >list.expected <<EOF
$id/MANIFEST.sha256
$id/VERSION
$id/audit.txt
$id/audit_chain.jsonl
$id/config.yaml
$id/events.jsonl
$id/incident.log
$id/record.json
$id/report.md
$id/timeline.jsonl
EOF
cmp -s list.out list.expected && ok || bad "archive list: $(diff list.expected list.out)"
# Deterministic headers: owner 0/0, mode 0644, mtime the opening (15:00:03).
tar -tvzf "evidence/$id.tar.gz" --utc --numeric-owner >listv.out 2>/dev/null
[ "$(grep -c '^-rw-r--r-- 0/0 .* 2025-11-17 15:00 ' listv.out)" = 10 ] && ok ||
    bad "member modes, owners or times: $(cat listv.out)"

mkdir x && tar -xzf "evidence/$id.tar.gz" -C x || bad "extraction failed"
d=x/$id
(cd "$d" && sha256sum -c --strict MANIFEST.sha256 >../../sum.out 2>&1) && ok ||
    bad "sha256sum -c: $(cat sum.out)"
[ "$(wc -l <"$d/MANIFEST.sha256")" = 9 ] && ok || bad "manifest does not list the 9 other files"
cmp -s "$d/events.jsonl" expected_events.jsonl && ok ||
    bad "events.jsonl: $(diff expected_events.jsonl "$d/events.jsonl")"
head -1 "$d/audit.txt" | grep -qx "audit chain: intact" && ok || bad "audit.txt: $(cat "$d/audit.txt")"
head_hash=$(sed -n 's/^head hash: //p' "$d/audit.txt")
[ "${#head_hash}" = 64 ] && ok || bad "head hash '$head_hash'"
# The excerpt: entries of this incident (entity ID or ID#...), and the head.
tail -1 "$d/audit_chain.jsonl" | grep -q "\"hash\":\"$head_hash\"}$" && ok ||
    bad "the last excerpt entry is not the head"
[ "$(grep -vc "\"entity\":\"$id[\"#]" "$d/audit_chain.jsonl")" -le 1 ] && ok ||
    bad "entries of other entities in the excerpt"
grep -q '"kind":"incidents.put","entity":"'$id'"' "$d/audit_chain.jsonl" && ok ||
    bad "the incident's own entry is missing from the excerpt"
[ "$(grep -c "\"kind\":\"incident_timeline.append\",\"entity\":\"$id#" "$d/audit_chain.jsonl")" = \
    "$(wc -l <"$d/timeline.jsonl")" ] && ok || bad "one chain entry per timeline entry"
cmp -s "$d/config.yaml" kill.yaml && ok || bad "config.yaml is not the file given"
grep -q '^{"v":1,"id":"'$id'","scenario":"kill_pnl",' "$d/record.json" && ok || bad "record.json: $(head -c 200 "$d/record.json")"
grep -q '"kind":"status".*"to":"resolved"' "$d/timeline.jsonl" && ok || bad "timeline lacks the resolution"
head -1 "$d/report.md" | grep -q "^# Incident Report - 2025-11-17" && ok || bad "report.md"
grep -q "$id" "$d/incident.log" && ok || bad "incident.log"
printf 'warden %s\nstore schema 6\n' "$("$warden" --version | sed 's/^warden //')" >version.expected
cmp -s "$d/VERSION" version.expected && ok || bad "VERSION: $(cat "$d/VERSION")"

# The same store and inputs: the same bytes.
"$warden" evidence $id --db k.db --config kill.yaml --events kill.jsonl --out again.tar.gz \
    >/dev/null 2>&1 || bad "second run failed"
cmp -s "evidence/$id.tar.gz" again.tar.gz && ok || bad "two runs gave different archives"

# A narrower window (14:59:03 .. 15:21:00); no --config; no --events (an empty events.jsonl).
"$warden" evidence $id --db k.db --events kill.jsonl --window 1m --out w.tar.gz >/dev/null 2>&1 ||
    bad "--window 1m failed"
tar -xzOf w.tar.gz "$id/events.jsonl" >w.events
sed -n '5,10p' kill.jsonl | cmp -s - w.events && ok || bad "--window 1m events: $(cat w.events)"
tar -xzOf w.tar.gz "$id/config.yaml" | grep -q "embedded defaults" && ok || bad "config.yaml without --config"
"$warden" evidence $id --db k.db --out none.tar.gz >/dev/null 2>&1 || bad "no --events failed"
[ -z "$(tar -xzOf none.tar.gz "$id/events.jsonl")" ] && ok || bad "events.jsonl without --events"

# Refusals.
"$warden" evidence INC-20251117-999 --db k.db >/dev/null 2>nf.err
[ $? -eq 1 ] && grep -q "no such incident" nf.err && ok || bad "no such incident: $(cat nf.err)"
"$warden" evidence $id --db k.db --out "$tmp/no/such/dir/e.tar.gz" >/dev/null 2>uw.err
[ $? -eq 1 ] && grep -q "cannot write" uw.err && ok || bad "unwritable output: $(cat uw.err)"
for w in 15 -5m 1x "" 31d; do
    "$warden" evidence $id --db k.db --window "$w" >/dev/null 2>bw.err
    [ $? -eq 2 ] && grep -q -- "--window" bw.err && ok || bad "--window '$w' was not a usage error"
done
# A store edited behind warden's back: the archive is still written, and
# audit.txt names the first bad row.
cp k.db t.db
"$sqlexec" t.db "UPDATE incidents SET title = 'edited'" >/dev/null || bad "sqlexec failed"
"$warden" evidence $id --db t.db --out t.tar.gz >/dev/null 2>t.err && ok || bad "evidence of a tampered store"
tar -xzOf t.tar.gz "$id/audit.txt" >t.audit
head -1 t.audit | grep -qx "audit chain: BROKEN" && grep -q "^first bad row: incidents $id$" t.audit &&
    ok || bad "tampered audit.txt: $(cat t.audit)"
grep -q "does not verify" t.err && ok || bad "no warning for a broken chain: $(cat t.err)"

"$warden" evidence --help | grep -q "MANIFEST.sha256" && ok || bad "--help"
"$warden" --help | grep -q "^  evidence " && ok || bad "evidence missing from warden --help"

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
