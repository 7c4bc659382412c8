#!/bin/sh
# Notifications against receivers that misbehave (issue 8 points 3, 4, 8),
# with a real `warden run` (its sender thread) and notify_receiver.py:
#  - PagerDuty answers 429 with Retry-After: 1 twice: the retry waits the
#    Retry-After (not the 50 ms backoff), a later path's Retry-After: 30 is
#    capped at backoff_max_ms; after two failures the channel raises its own
#    `alert` line on stdout (SPEC section 3 shape), written once;
#  - Slack and the webhook hang (accept, never answer) on their first call:
#    the attempt times out by delivery.timeout_ms and is retried;
#  - meanwhile the incident is acknowledged and resolved through the API:
#    every receiver gets opened, acknowledged, resolved in that order, each
#    answered 200 exactly once (no duplicate once acknowledged), and every
#    outbox row ends `sent`;
#  - status-update reminders (update_every_s P0: 2): they arrive through
#    the channels and on the timeline, each at least 2 s after the opening
#    and after the one before (one per interval, never a duplicate).
# Waits poll with a timeout; no assertion on speed.
#
# usage: notify_faults.sh path/to/warden
set -u
warden=$1
here=$(cd "$(dirname "$0")" && pwd)
. "$here/notify_lib.sh"
api() { # api PATH [BODY]: POST as the responder, the answer in api.out
    curl -s -m 5 -o api.out -w '%{http_code}' -H "Authorization: Bearer $RESP" -d "${2-}" \
        "http://$A/api/v1/$1"
}

# --- 1. 429 with Retry-After, hangs, order, no duplicate, the channel's alert
receiver --first /pd:429:2:1 --first /slack:hang:1 --first /hook:hang:1 --first /pd2:429:1:30
api_config
cat >>c.yaml <<YAML
notify:
  slack: {webhook_url: "http://127.0.0.1:$HP/slack"}
  pagerduty: {routing_key: R0UT1NG-KEY, url: "http://127.0.0.1:$HP/pd"}
  webhook: {url: "http://127.0.0.1:$HP/hook"}
  routes: {P0: [pagerduty, slack, webhook]}
  update_every_s: {P0: 0}
  delivery: {timeout_ms: 1500, backoff_base_ms: 50, backoff_max_ms: 2000, failing_after: 2}
YAML
kill_pnl_events >ev.jsonl
"$warden" run --metrics-listen off --api-listen 127.0.0.1:0 --config c.yaml --db s.db \
    --input ev.jsonl >out.jsonl 2>err.log &
pid=$!
wait_for err.log ' INFO run started .* api=127.0.0.1:[0-9]*' && ok || bad "no start: $(cat err.log)"
A=$(sed -n 's/.* INFO run started .* api=\([^ ]*\).*/\1/p' err.log)
wait_for out.jsonl '"type":"incident".*"scenario":"kill_pnl"' && ok || bad "no incident: $(cat err.log)"
ID=$(sed -n 's/.*"type":"incident".*"id":"\(INC-[0-9]*-[0-9]*\)".*/\1/p' out.jsonl | head -1)
# Acknowledged and resolved while Slack's "opened" hangs.
wait_for rx.jsonl '"path": "/slack".*"code": 0' 100 && ok || bad "no hung Slack call: $(cat rx.jsonl)"
[ "$(api "incidents/$ID/ack")" = 200 ] && ok || bad "ack: $(cat api.out)"
for i in 1 2 3 4 5; do # a P0 is resolved with its recovery criteria ticked
    [ "$(api "incidents/$ID/check" "{\"index\":$i,\"done\":true}")" = 200 ] || bad "check $i: $(cat api.out)"
done
[ "$(api "incidents/$ID/resolve")" = 200 ] && ok || bad "resolve: $(cat api.out)"
delivered() { grep -c "\"path\": \"$1\", .*\"code\": 200" rx.jsonl; }
n=0 # each receiver's three messages delivered (a hang lasts timeout_ms)
while { [ "$(delivered /pd)" -lt 3 ] || [ "$(delivered /slack)" -lt 3 ] ||
        [ "$(delivered /hook)" -lt 3 ]; } && [ "$n" -lt 300 ]; do
    n=$((n + 1)); sleep 0.1
done
# The failing channel's alert is written by the loop at its next tick.
wait_for out.jsonl '"type":"alert".*notify_channel_failing' 50 && ok || bad "no channel alert: $(cat out.jsonl)"
stop TERM "faults"
"$warden" incident show "$ID" --db s.db >show.txt 2>&1
/usr/bin/python3 - "$ID" <<'PY' && ok || bad "order, duplicates or Retry-After: $(cat rx.jsonl)"
import json, sys
inc = sys.argv[1]
rows = [json.loads(l) for l in open("rx.jsonl")]
def seen(path, key):
    return [(key(json.loads(r["body"])), r["code"], r["ts"]) for r in rows if r["path"] == path]
pd = seen("/pd", lambda b: b["event_action"])
hook = seen("/hook", lambda b: b["kind"])
slack = seen("/slack", lambda b: b["text"])
# In order per incident: each receiver's deliveries (200) follow the
# outbox's queue order for its channel, each exactly once; opened,
# acknowledged and resolved among them.
import sqlite3
db = sqlite3.connect("s.db")
order = {ch: [k for (k,) in db.execute(
    "SELECT kind FROM notify_outbox WHERE channel = ? ORDER BY id", (ch,))]
    for ch in ("pagerduty", "slack", "webhook")}
pd_kind = {"opened": "trigger", "acknowledged": "acknowledge", "escalated": "trigger",
           "resolved": "resolve"}
assert [k for k, c, _ in pd if c == 200] == [pd_kind[k] for k in order["pagerduty"]], (pd, order)
assert [k for k, c, _ in hook if c == 200] == order["webhook"], (hook, order)
for ch in order.values():
    assert [k for k in ch if k != "escalated"] == ["opened", "acknowledged", "resolved"], order
assert len([1 for _, c, _ in slack if c == 200]) == len(order["slack"]), slack
heads = [json.loads(r["body"])["text"] for r in rows if r["path"] == "/slack" and r["code"] == 200]
assert "ALERT" in heads[0] and "acknowledged" in heads[1] and "RESOLVED" in heads[-1], heads
# The faults happened as configured: two 429s, one hang, each before any 200.
assert [c for _, c, _ in pd][:3] == [429, 429, 200], pd
assert [c for _, c, _ in hook][:2] == [0, 200] and hook[0][0] == "opened", hook
assert [c for _, c, _ in slack][:2] == [0, 200], slack
# Retry-After: 1 honoured (the backoff alone is at most 100 ms here).
assert pd[1][2] - pd[0][2] >= 0.95 and pd[2][2] - pd[1][2] >= 0.95, pd
assert all(json.loads(r["body"]).get("dedup_key", inc) == inc for r in rows if r["path"] == "/pd")
PY
grep -q "pagerduty opened attempt 1 failed (HTTP 429: try again later), retry in 1000 ms (Retry-After 1s)" show.txt &&
    ok || bad "Retry-After not on the timeline: $(grep notify show.txt)"
grep -q "slack opened attempt 1 failed (no answer: Timeout was reached), retry in" show.txt && ok ||
    bad "the hang's timeout not on the timeline: $(grep notify show.txt)"
grep -q "slack opened delivered (HTTP 200) on attempt 2" show.txt && ok || bad "slack after the hang: $(grep notify show.txt)"
# The acknowledgement was queued while the first Slack attempt hung.
/usr/bin/python3 - <<'PY' && ok || bad "ack not queued during the hang: $(grep notify show.txt)"
lines = open("show.txt").read().splitlines()
q = [i for i, l in enumerate(lines) if "acknowledged notification queued" in l]
d = [i for i, l in enumerate(lines) if "slack opened delivered" in l]
assert q and d and q[0] < d[0], (q, d)
PY
[ "$(sqlite3 s.db "SELECT count(*) FROM notify_outbox WHERE state <> 'sent'")" -eq 0 ] && ok ||
    bad "rows not sent: $(sqlite3 s.db 'SELECT channel, kind, state, attempts FROM notify_outbox')"
[ "$(sqlite3 s.db "SELECT group_concat(channel || ':' || attempts, ' ') FROM
     (SELECT * FROM notify_outbox WHERE kind = 'opened' ORDER BY channel)")" = "pagerduty:3 slack:2 webhook:2" ] &&
    ok || bad "attempts: $(sqlite3 s.db 'SELECT channel, kind, attempts FROM notify_outbox ORDER BY id')"
[ "$(sqlite3 s.db "SELECT count(*) FROM notify_outbox WHERE kind <> 'opened' AND attempts <> 1")" -eq 0 ] &&
    ok || bad "a retry after the opening: $(sqlite3 s.db 'SELECT channel, kind, attempts FROM notify_outbox')"
# Point 3: the channel's own alert, the SPEC's alert shape, once (Slack and
# the webhook failed once in a row only: no alert for them).
/usr/bin/python3 - <<'PY' && ok || bad "the alert line: $(grep alert out.jsonl)"
import json
al = [json.loads(l) for l in open("out.jsonl") if '"type":"alert"' in l]
assert len(al) == 1, al
a = al[0]
assert sorted(a) == ["detail", "event_no", "scenario", "scope", "severity", "ts", "type"], a
assert a["event_no"] == 5 and isinstance(a["ts"], int), a
assert (a["scenario"], a["severity"], a["scope"]) == ("notify_channel_failing", "P1", "notify:pagerduty"), a
assert a["detail"] == "Notification channel failing: pagerduty, 2 attempts in a row failed (last: HTTP 429)", a
PY
grep -q 'ERROR notify alert notify channel failing channel=pagerduty consecutive_failures=2' err.log && ok ||
    bad "no failing log line: $(grep notify err.log)"
grep -q 'INFO notify notify channel recovered channel=pagerduty' err.log && ok || bad "no recovery: $(grep notify err.log)"

# Retry-After beyond backoff_max_ms: capped (an incident opened offline on
# a PagerDuty path answering 429 with Retry-After: 30).
sed "s#/pd\"}#/pd2\"}#; s#routes: {P0: \[pagerduty, slack, webhook\]}#routes: {P3: [pagerduty]}#" c.yaml >c2.yaml
"$warden" incident open --scenario manual --severity P3 --scope firm --title "cap" --as alice \
    --db s2.db --config c2.yaml >o2.txt 2>&1 && ok || bad "open: $(cat o2.txt)"
ID2=$(sed -n 's/^\(INC-[0-9]*-[0-9]*\):.*/\1/p' o2.txt)
"$warden" incident show "$ID2" --db s2.db >show2.txt 2>&1
grep -q "pagerduty opened attempt 1 failed (HTTP 429: try again later), retry in 2000 ms (Retry-After 30s)" show2.txt &&
    ok || bad "Retry-After not capped: $(grep notify show2.txt)"
grep -q 'notifications: 0 delivered, 1 still queued' o2.txt && ok || bad "flush: $(cat o2.txt)"

# --- 2. Reminders (point 4): a P0 with update_every_s 2 under warden run.
: >rx.jsonl
sed "s/update_every_s: {P0: 0}/update_every_s: {P0: 2}/" c.yaml >r.yaml
kill_pnl_events >ev2.jsonl # opened now
"$warden" run --metrics-listen off --api-listen off --config r.yaml --db r.db \
    --input ev2.jsonl >rout.jsonl 2>rerr.log &
pid=$!
wait_for rout.jsonl '"type":"incident".*"scenario":"kill_pnl"' && ok || bad "no incident: $(cat rerr.log)"
RID=$(sed -n 's/.*"type":"incident".*"id":"\(INC-[0-9]*-[0-9]*\)".*/\1/p' rout.jsonl | head -1)
n=0
while [ "$(grep -c 'kind..:..reminder' rx.jsonl)" -lt 3 ] && [ "$n" -lt 300 ]; do
    n=$((n + 1)); sleep 0.1
done
stop TERM "reminders"
"$warden" incident show "$RID" --db r.db >rshow.txt 2>&1
sqlite3 r.db "SELECT opened_ns FROM incidents WHERE id = '$RID'" >opened.txt 2>&1
sqlite3 r.db "SELECT ts_ns FROM incident_timeline WHERE incident = '$RID' AND kind = 'notify'
              AND from_value = 'reminder' AND to_value = 'queued' ORDER BY seq" >rem.txt 2>&1
/usr/bin/python3 - "$RID" <<'PY' && ok || bad "reminders: $(cat opened.txt rem.txt; grep -c reminder rx.jsonl)"
import json, sys
inc = sys.argv[1]
opened = int(open("opened.txt").read())
queued = [int(x) for x in open("rem.txt").read().split()]
rows = [json.loads(l) for l in open("rx.jsonl")]
# Through each routed channel that takes a reminder (PagerDuty does not).
hook = [json.loads(r["body"]) for r in rows if r["path"] == "/hook" and r["code"] == 200]
rem = [b for b in hook if b["kind"] == "reminder"]
assert len(rem) >= 3 and all(b["incident"] == inc for b in rem), hook
slack = [r for r in rows if r["path"] == "/slack" and r["code"] == 200 and "The next status update for" in r["body"]]
assert len(slack) == len(rem), (len(slack), len(rem))
assert not any(json.loads(r["body"])["event_action"] not in ("trigger",) for r in rows if r["path"] == "/pd")
# On the timeline: each one 2 s after the opening or the one before.
assert len(queued) == len(rem), (queued, len(rem))
gaps = [b - a for a, b in zip([opened] + queued, queued)]
assert all(g >= 2000000000 for g in gaps), gaps
PY
grep -q "reminder notification queued: slack, webhook" rshow.txt && ok || bad "reminder on the timeline: $(grep -i remind rshow.txt)"
grep -q "The next status update for $RID (P0) is due" rx.jsonl && ok || bad "reminder text: $(grep -i remind rx.jsonl)"
finish notify_faults
