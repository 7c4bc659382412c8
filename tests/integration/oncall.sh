#!/bin/sh
# warden oncall / oncall escalate / oncall test-page / silence (issue 8):
# the rotation across the DST handoff, escalation once per level with its
# timeline entries, silences with the P0 role rule, all in an intact audit
# chain. Times are given with --at (a fake clock); the store is a temp file.
set -u
warden=$1
src=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cfg="$src/examples/warden.yaml"
db="$dir/w.db"
pass=0
fail=0
check() { # name expected actual
    if [ "$2" = "$3" ]; then pass=$((pass + 1)); else
        fail=$((fail + 1)); printf 'FAIL: %s\n  expected: %s\n  actual:   %s\n' "$1" "$2" "$3"; fi
}
W() { "$warden" "$@" --config "$cfg" --db "$db"; }

# The rotation: 2025-11-02 is the fall-back Sunday and week 1's start;
# 2026-03-08 the spring-forward Sunday (handoff 09:00 EDT = 13:00Z).
out=$(W oncall --json --at 2026-03-08T12:59:00Z)
check "before the spring-forward handoff" \
    '"now":{"week":17,"primary":"carol","secondary":"alice","scheduled_primary":"carol","scheduled_secondary":"alice","start_ns":1772373600000000000,"end_ns":1772974800000000000}' \
    "$(printf '%s' "$out" | grep -o '"now":{[^}]*}')"
out=$(W oncall --json --at 2026-03-08T13:00:00Z)
check "after it" '"primary":"alice","secondary":"bob"' \
    "$(printf '%s' "$out" | grep -o '"now":{[^}]*}' | grep -o '"primary":"[a-z]*","secondary":"[a-z]*"')"
# The override: bob away 2025-12-24..26, carol covers (bob is week 8's primary).
out=$(W oncall --at 2025-12-25T12:00:00Z | sed -n 3p)
check "override" "      primary   carol  (for bob: holiday swap)" "$out"

# Escalation with a fake clock: a P1 opened at 15:00Z.
W incident open --scenario broker_disconnect --scope firm --title "IBKR down" --as warden \
    --at 2025-11-10T15:00:00Z >/dev/null
for t in 15:00:00 15:15:00 15:15:01 15:15:01 15:45:00 17:00:01; do
    W oncall escalate --at 2025-11-10T${t}Z
done >"$dir/esc.out"
check "levels newly reached" "1 0 1 0 0 1" "$(awk '{printf "%s%s", s, $1; s=" "}' "$dir/esc.out")"
tl=$(W incident show INC-20251110-001 --json | grep -o '"kind":"escalation","who":"warden","from":"L[0-9]","to":"L[0-9]"' | tr '\n' ' ')
check "escalation timeline" '"kind":"escalation","who":"warden","from":"L0","to":"L1" "kind":"escalation","who":"warden","from":"L1","to":"L2" "kind":"escalation","who":"warden","from":"L2","to":"L3" ' "$tl"

# Silences: a P1 scenario by anyone, a P0 one only as risk_officer.
W silence add --scenario kill_pnl --until +2h --reason maintenance --as bob --at 2025-11-10T15:00:00Z 2>"$dir/err"
check "P0 silence refused without the role" "1" "$?"
check "refusal message" "warden: silence: silencing kill_pnl (a P0 scenario) needs the risk_officer role; given none" "$(cat "$dir/err")"
out=$(W silence add --scenario broker_disconnect --until 2025-11-10T19:00:00Z --reason "broker maintenance" --as bob --at 2025-11-10T17:30:00Z)
check "silence added" "silence #1: broker_disconnect in every scope held back until 2025-11-10T19:00:00.000Z (by bob)" "$out"
W silence add --scenario kill_pnl --scope firm --until +1h --reason drill --as erin --role risk_officer --at 2025-11-10T17:30:00Z >/dev/null
check "P0 silence as risk_officer" "0" "$?"
note=$(W incident show INC-20251110-001 --json | grep -o '"kind":"note","who":"bob"[^}]*"text":"silence #1[^"]*"' | sed 's/.*"text"://')
check "silence on the incident's timeline" '"silence #1 (until 2025-11-10T19:00:00.000Z, by bob) added: notifications held back; reason: broker maintenance"' "$note"
# An acknowledged incident of the silenced scenario still escalates (the record), its page held.
W incident open --scenario broker_disconnect --scope account:alpha --title "alpha link" --as warden --at 2025-11-10T17:40:00Z >/dev/null
W oncall escalate --at 2025-11-10T17:40:00Z >/dev/null
held=$(W incident show INC-20251110-002 --json | grep -o 'page held back by silence #1' | head -1)
check "page held back, escalation recorded" "page held back by silence #1" "$held"
check "list at 18:00" "2" "$(W silence list --json --at 2025-11-10T18:00:00Z | grep -o '"id":' | wc -l | tr -d ' ')"
check "expired by itself at 19:00" "0" "$(W silence list --json --at 2025-11-10T19:00:00Z | grep -o '"id":' | wc -l | tr -d ' ')"
W silence remove 2 --as bob --at 2025-11-10T17:50:00Z 2>/dev/null
check "removing a P0 silence needs the role" "1" "$?"
check "remove" "silence #1 removed" "$(W silence remove 1 --as bob --at 2025-11-10T17:50:00Z)"

# The chain test, and the checklist that reads it.
W oncall test-page --as carol --at 2025-11-10T18:00:00Z >/dev/null
out=$(W oncall --at 2025-11-10T18:05:00Z | grep 'test alerting chain')
check "checklist: chain tested" "  [x] test alerting chain: last tested 2025-11-10T18:00:00.000Z by carol" "$out"
check "audit chain intact" "0" "$("$warden" audit verify --db "$db" >/dev/null; echo $?)"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
