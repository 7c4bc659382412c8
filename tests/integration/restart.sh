#!/bin/sh
# Durable state across crashes and commands (Step 2):
#  - a replay killed with SIGKILL mid-stream and started again on the same
#    input resumes from its snapshot: the outputs before the snapshot plus
#    the outputs of the second run are exactly those of an uninterrupted
#    run, and the final book is the same (no fill counted twice);
#  - a scope halted by a kill-switch before the crash is still halted;
#  - replaying an input already fully replayed does nothing;
#  - the same input on a fresh store gives the same bytes, every run;
#  - a scope halted with `warden halt` is halted for the next replay;
#  - `warden audit verify` passes on every store written here (the crash
#    and rewind included) and fails, naming the row, once a row is deleted
#    behind warden's back.
#
# usage: restart.sh path/to/warden path/to/gensession path/to/sqlexec
set -u
warden=$1
gen=$2
sqlexec=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 2
fails=0
passes=0
ok() { passes=$((passes + 1)); }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }

"$gen" 200000 >s.jsonl || exit 2

"$warden" replay --db ref.db s.jsonl >ref.out 2>ref.err || bad "reference replay failed"
[ -s ref.out ] && ok || bad "reference replay wrote nothing"
grep -q '"action":"halt"' ref.out && ok || bad "the session should trip a kill-switch"

# Deterministic: same input, fresh store, same bytes.
"$warden" replay --db ref2.db s.jsonl >ref2.out 2>/dev/null
cmp -s ref.out ref2.out && ok || bad "two replays on fresh stores differ"

# Crash after event 123457 (the hook sends SIGKILL to the process itself).
WARDEN_CRASH_AFTER_EVENTS=123457 "$warden" replay --db crash.db --snapshot-every 1000 \
    s.jsonl >part.out 2>part.err
rc=$?
[ "$rc" -eq 137 ] && ok || bad "crash run exit status $rc, expected 137 (SIGKILL)"

# The kill-switch halt from before the crash is durable.
"$warden" status --db crash.db --json >status.json
grep -q '"scope":"account:gamma","state":"HALTED"' status.json && ok ||
    bad "account:gamma is not HALTED after the crash: $(cat status.json)"

"$warden" replay --db crash.db s.jsonl >rest.out 2>rest.err || bad "resumed replay failed"
resumed=$(sed -n 's/.*resuming after line [0-9]* (\([0-9]*\) events).*/\1/p' rest.err)
[ "$resumed" = 123000 ] && ok || bad "expected to resume after 123000 events, got '$resumed'"

# Outputs up to the snapshot from the first run + the second run = reference.
awk -v last="$resumed" -F'"event_no":' '
    NF > 1 { split($2, a, ","); if (a[1] + 0 <= last) print; }' part.out >joined.out
cat rest.out >>joined.out
cmp -s joined.out ref.out && ok || {
    bad "outputs across the crash differ from an uninterrupted run"
    diff ref.out joined.out | head -5
}
# The final book: same figures, so no fill was counted twice.
tail -1 ref.err >ref.fig
tail -1 rest.err >rest.fig
cmp -s ref.fig rest.fig && ok || bad "final figures differ: $(cat ref.fig) vs $(cat rest.fig)"
grep -q 'firm equity' ref.fig && ok || bad "no figures line in the summary"

# A real `kill -9` from outside, wherever it lands: start a replay of a
# longer session, wait for its first snapshot to show on stdout, kill it,
# resume; the joined outputs and the final figures must match a clean run.
"$gen" 1000000 7 >long.jsonl || exit 2
"$warden" replay --db longref.db long.jsonl >longref.out 2>longref.err
"$warden" replay --db long.db --snapshot-every 5000 long.jsonl >lpart.out 2>lpart.err &
pid=$!
n=0
while [ ! -s lpart.out ] && [ $n -lt 200 ]; do
    sleep 0.05
    n=$((n + 1))
done
sleep 0.2
kill -9 "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
"$warden" replay --db long.db long.jsonl >lrest.out 2>lrest.err || bad "resume after kill -9 failed"
lresumed=$(sed -n 's/.*resuming after line [0-9]* (\([0-9]*\) events).*/\1/p' lrest.err)
if [ -z "$lresumed" ]; then
    echo "note: the long replay finished before the kill; nothing to resume"
    lresumed=1000000
    : >lrest.out
    tail -1 lpart.err >lrest.err
fi
# The kill may cut the last line written (stdout is block-buffered): a line
# without its newline never reached a reader whole, so it does not count.
if [ -s lpart.out ] && [ -n "$(tail -c1 lpart.out)" ]; then
    sed -i '$d' lpart.out
fi
awk -v last="$lresumed" -F'"event_no":' '
    NF > 1 { split($2, a, ","); if (a[1] + 0 <= last) print; }' lpart.out >ljoined.out
cat lrest.out >>ljoined.out
cmp -s ljoined.out longref.out && ok || bad "kill -9 at event ~$lresumed: outputs differ"
[ "$(tail -1 lrest.err)" = "$(tail -1 longref.err)" ] && ok ||
    bad "kill -9: final figures differ: $(tail -1 lrest.err) vs $(tail -1 longref.err)"

# Again on the same input: nothing new.
"$warden" replay --db crash.db s.jsonl >again.out 2>again.err || bad "third replay failed"
[ ! -s again.out ] && grep -q 'nothing new' again.err && ok || bad "a finished input was replayed again"

# A manual halt is seen by the next replay: every intent rejected `halted`.
"$warden" halt --db manual.db --scope firm --reason "drill" --as tester >/dev/null || bad "halt failed"
"$warden" replay --db manual.db s.jsonl >halted.out 2>/dev/null
accepts=$(grep -c '"verdict":"accept"' halted.out)
rejects=$(grep -c '"reason":"halted"' halted.out)
[ "$accepts" -eq 0 ] && [ "$rejects" -gt 1000 ] && ok ||
    bad "after warden halt: $accepts accepts, $rejects halted rejects"

# Resume needs the Risk Officer; after it the scope ramps up.
"$warden" resume --db manual.db --scope firm --as bob --role cto --reason r >/dev/null 2>&1 &&
    bad "a CTO approval alone resumed a manual halt" || ok
"$warden" resume --db manual.db --scope firm --as alice --role risk_officer \
    --reason "drill over" >resume.out || bad "resume failed"
grep -q 'RAMP_UP' resume.out && ok || bad "resume did not move to RAMP_UP: $(cat resume.out)"

# Killed before its first snapshot (every 100,000 events by default), after
# the kill-switch halt at event 53,317: the next run starts from the start,
# takes back what the killed run wrote (its halt would otherwise reject the
# intents before it), and gives exactly the uninterrupted run's outputs.
WARDEN_CRASH_AFTER_EVENTS=60000 "$warden" replay --db early.db s.jsonl >early1.out 2>early1.err
[ $? -eq 137 ] && ok || bad "early crash run did not die by SIGKILL"
"$warden" status --db early.db --json | grep -q '"scope":"account:gamma","state":"HALTED"' && ok ||
    bad "the halt before the early crash is not in the store"
"$warden" replay --db early.db s.jsonl >early2.out 2>early2.err || bad "rerun after an early crash failed"
cmp -s early2.out ref.out && ok || {
    bad "a rerun after a crash before the first snapshot differs from an uninterrupted run"
    diff ref.out early2.out | head -5
}

# A detector's recovery announces its incident again (same id): the store
# updates the record, and the replay goes on to the end.
cat >hb.jsonl <<'EOF'
{"type":"heartbeat","ts":"2025-11-17T15:00:00Z","component":"broker","status":"down"}
{"type":"heartbeat","ts":"2025-11-17T15:00:01Z","component":"broker","status":"up"}
{"type":"heartbeat","ts":"2025-11-17T15:00:02Z","component":"broker","status":"up"}
EOF
"$warden" replay --db hb.db hb.jsonl >hb.out 2>hb.err && ok || bad "a detector recovery failed the replay: $(tail -1 hb.err)"
[ "$(grep -c '"id":"INC-20251117-001"' hb.out)" = 2 ] && grep -q '"status":"monitoring"' hb.out &&
    grep -q ' 3 events' hb.err && ok || bad "the recovery was not announced: $(cat hb.out)"

# The audit chain: every store above verifies, the crashed-and-resumed one
# too (its rewind is chained); an approval deleted with raw SQL is named.
for db in ref.db crash.db long.db manual.db hb.db; do
    "$warden" audit verify --db "$db" >verify.out 2>&1 && ok ||
        bad "audit verify $db: $(cat verify.out)"
done
"$sqlexec" manual.db "DELETE FROM approvals WHERE who = 'alice'" || bad "sqlexec failed"
"$warden" audit verify --db manual.db --json >tampered.out 2>&1
rc=$?
[ "$rc" -eq 1 ] && grep -q '"table":"approvals","key":"1","message":"approvals row 1: missing' \
    tampered.out && ok || bad "audit verify after a deleted approval: rc $rc, $(cat tampered.out)"

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
