#!/bin/sh
# Notifications end to end (issue 8), against real receivers on loopback
# (notify_receiver.py: HTTP that answers 503 to the first calls of each
# path, and aiosmtpd for email):
#  - a kill-switch in `warden run`: the P0 route (pagerduty, slack, sms)
#    delivered after two 503s each, with the exact shapes (PagerDuty
#    trigger with dedup_key = incident id and severity critical, Slack
#    attachment color danger), every attempt on the incident's timeline;
#  - an offline ack: PagerDuty acknowledge after the trigger, no duplicate;
#  - a P3 opened by hand: Slack and the email through SMTP; a webhook
#    answering 400 is given up with the answer recorded;
#  - receivers down: `warden incident update` stays queued; a restarted
#    `warden run` resumes and delivers it;
#  - metrics: sent and failed per channel; no secret in any log;
#  - the chain's test page reaches each level's contact (sms, email); a
#    silence holds an incident's notifications back (held, never sent).
# Waits poll with a timeout.
#
# usage: notify.sh path/to/warden
set -u
warden=$1
here=$(cd "$(dirname "$0")" && pwd)
. "$here/notify_lib.sh"
receiver --fail 2 --status 503 --always /hook:400
printf "R0UT1NG-KEY-SECRET\n" >pd.key

cat >n.yaml <<YAML
capital: 1000
session: {tz: UTC, open: "00:00", close: "23:59", days: [Mon, Tue, Wed, Thu, Fri, Sat, Sun]}
notify:
  slack: {webhook_url: "http://127.0.0.1:$HP/slack", channel: "#incidents"}
  pagerduty: {routing_key_file: pd.key, url: "http://127.0.0.1:$HP/pd"}
  webhook: {url: "http://127.0.0.1:$HP/hook"}
  email: {smtp_url: "smtp://127.0.0.1:$SP", from: warden@example.com, to: [oncall@example.com]}
  sms: {url: "http://127.0.0.1:$HP/sms", username: ACsid, password: sms-SECRET-pw, to: ["+15550100"]}
  routes: {P3: [slack, email, webhook]}
  delivery: {backoff_base_ms: 50, backoff_max_ms: 200, failing_after: 2}
YAML
"$warden" config check n.yaml >check.txt 2>&1 && ok || bad "config check: $(cat check.txt)"

kill_pnl_events >ev.jsonl
"$warden" run --metrics-listen 127.0.0.1:0 --api-listen off --config n.yaml --db s.db --input ev.jsonl >out.jsonl 2>err.log &
pid=$!
wait_for out.jsonl '"type":"incident".*"scenario":"kill_pnl"' && ok || bad "no kill_pnl incident: $(cat err.log)"
ID=$(sed -n 's/.*"type":"incident".*"id":"\(INC-[0-9]*-[0-9]*\)".*/\1/p' out.jsonl | head -1)
for p in /pd /slack /sms; do
    wait_for rx.jsonl "\"path\": \"$p\".*\"code\": 200" 100 && ok || bad "$p not delivered: $(cat rx.jsonl)"
    [ "$(grep -c "\"path\": \"$p\"" rx.jsonl)" -eq 3 ] && ok || bad "$p: not 2 refusals then 1 delivery"
done
[ "$(grep -c '"path": "/hook"' rx.jsonl)" -eq 0 ] && ok || bad "the webhook is not on the P0 route"
# The exact shapes.
/usr/bin/python3 - "$ID" <<'PY' && ok || bad "payload shapes"
import json, sys, base64
inc = sys.argv[1]
rows = [json.loads(l) for l in open("rx.jsonl")]
pd = json.loads([r for r in rows if r["path"] == "/pd" and r["code"] == 200][0]["body"])
assert pd["routing_key"] == "R0UT1NG-KEY-SECRET", pd
assert pd["event_action"] == "trigger" and pd["dedup_key"] == inc, pd
assert pd["payload"]["severity"] == "critical" and pd["payload"]["source"] == "warden", pd
assert pd["payload"]["summary"].startswith("\U0001F6A8 INCIDENT ALERT \U0001F6A8 P0 " + inc), pd
sl = json.loads([r for r in rows if r["path"] == "/slack" and r["code"] == 200][0]["body"])
assert sl["channel"] == "#incidents", sl
att = sl["attachments"][0]
assert att["color"] == "danger", att
assert att["fields"][0] == {"title": "Severity", "value": "P0", "short": True}, att
assert "Next update in: 30 minutes" in att["text"], att["text"]
sms = [r for r in rows if r["path"] == "/sms" and r["code"] == 200][0]
assert sms["body"].startswith("To=%2B15550100&Body="), sms["body"]
assert sms["ctype"] == "application/x-www-form-urlencoded"
assert sms["auth"] == "Basic " + base64.b64encode(b"ACsid:sms-SECRET-pw").decode(), sms["auth"]
PY
# Every attempt on the timeline.
"$warden" incident show "$ID" --db s.db >show.txt 2>&1
grep -q 'notify .*slack opened attempt 1 failed (HTTP 503: try again later), retry in' show.txt && ok ||
    bad "no failed attempt on the timeline: $(grep notify show.txt)"
grep -q 'notify .*pagerduty opened delivered (HTTP 200) on attempt 3' show.txt && ok ||
    bad "no delivery on the timeline: $(grep notify show.txt)"

# Acknowledged offline: PagerDuty acknowledge (after the trigger), Slack.
"$warden" incident ack "$ID" --as alice --db s.db --config n.yaml >ack.txt 2>&1 && ok || bad "ack: $(cat ack.txt)"
wait_for rx.jsonl 'event_action.....acknowledge' 100 && ok || bad "no PagerDuty acknowledge: $(tail -3 rx.jsonl)"
/usr/bin/python3 - <<'PY' && ok || bad "order or duplicates"
import json
rows = [json.loads(l) for l in open("rx.jsonl") if '"/pd"' in l]
done = [json.loads(r["body"])["event_action"] for r in rows if r["code"] == 200]
assert done == ["trigger", "acknowledge"], done
PY

# A P3 by hand: Slack and email; the webhook's 400 is given up at once.
"$warden" incident open --scenario manual --severity P3 --scope firm --title "Log warnings" \
    --as alice --db s.db --config n.yaml >open.txt 2>&1 && ok || bad "open: $(cat open.txt)"
ID3=$(sed -n 's/^\(INC-[0-9]*-[0-9]*\):.*/\1/p' open.txt)
wait_for rx.jsonl '"path": "smtp"' 100 && ok || bad "no email: $(cat open.txt)"
/usr/bin/python3 - "$ID3" <<'PY' && ok || bad "email shape"
import json, sys
m = [json.loads(l) for l in open("rx.jsonl") if '"smtp"' in l][0]
assert m["from"] == "warden@example.com" and m["to"] == ["oncall@example.com"], m
assert "Subject: =?UTF-8?B?" in m["body"] and "Content-Type: text/plain; charset=utf-8" in m["body"], m
assert sys.argv[1] in m["body"] and "INCIDENT ALERT" in m["body"], m["body"]
PY
wait_for rx.jsonl '"path": "/hook"' 100 && ok || bad "no webhook call"
sleep 0.5
# (One `opened` call: the on-call chain's `escalated` message may follow.)
[ "$(grep '"path": "/hook"' rx.jsonl | grep -c 'kind.....opened')" -eq 1 ] && ok || bad "a 400 was retried"
"$warden" incident show "$ID3" --db s.db >show3.txt 2>&1
grep -q 'webhook opened given up after attempt 1 (HTTP 400: invalid payload)' show3.txt && ok ||
    bad "the 400 is not recorded: $(grep notify show3.txt)"

# Metrics (the daemon's own deliveries). The PagerDuty acknowledge is sent
# once (checked above), by whichever of the daemon's sender and the offline
# ack's flush leases its row first: the daemon counts the trigger, and the
# acknowledge when it was the one.
M=$(sed -n 's/.* INFO run started .* metrics=\([^ ]*\) .*/\1/p' err.log)
curl -s "http://$M/metrics" >m.txt
# The exposition stays valid with the per-channel families (no family twice).
if command -v promtool >/dev/null 2>&1; then
    promtool check metrics <m.txt >promtool.txt 2>&1 && ok || bad "promtool check metrics: $(cat promtool.txt)"
fi
[ "$(grep -c '^# TYPE warden_notifications_sent_total ' m.txt)" -eq 1 ] && ok || bad "the sent family twice"
grep -q '^warden_notifications_sent_total{channel="pagerduty"} [12]$' m.txt && ok || bad "sent metric: $(grep notif m.txt)"
grep -q '^warden_notification_attempts_failed_total{channel="slack"} 2$' m.txt && ok || bad "attempts metric: $(grep notif m.txt)"
grep -q 'ERROR notify alert notify channel failing channel=pagerduty consecutive_failures=2' err.log && ok ||
    bad "no failing-channel alert: $(grep notify err.log)"
stop TERM "notify"

# Receivers down: the update stays queued; a new warden run delivers it.
kill "$rpid"; wait "$rpid" 2>/dev/null; rpid=
"$warden" incident update "$ID" --message "root cause found" --as alice --db s.db --config n.yaml >upd.txt 2>upd.err && ok ||
    bad "update: $(cat upd.txt upd.err)"
grep -q "$ID: status update posted, 2 notifications queued" upd.txt && ok || bad "update output: $(cat upd.txt)"
# (The count may include the on-call escalations' rows that the stopped
# daemon had queued and not sent: only the update's two are pinned.)
grep -q 'notifications: 0 delivered, [0-9]* still queued' upd.err && ok || bad "update flush: $(cat upd.err)"
[ "$(sqlite3 s.db "SELECT count(*) FROM notify_outbox WHERE kind = 'update' AND state = 'pending'")" -eq 2 ] &&
    ok || bad "the update's rows: $(sqlite3 s.db 'SELECT channel, kind, state FROM notify_outbox')"
: >rx.jsonl
receiver
sed -i "s/127.0.0.1:[0-9]*\//127.0.0.1:$HP\//; s/smtp:\/\/127.0.0.1:[0-9]*/smtp:\/\/127.0.0.1:$SP/" n.yaml
"$warden" run --metrics-listen off --api-listen off --config n.yaml --db s.db --input ev.jsonl >out2.jsonl 2>err2.log &
pid=$!
wait_for rx.jsonl 'INCIDENT UPDATE' 100 && ok || bad "the queued update was not resumed: $(cat err2.log)"
grep -q 'root cause found' rx.jsonl && ok || bad "the update's message"
stop TERM "resume"
# No secret in any log or output.
! grep -q -e 'R0UT1NG-KEY-SECRET' -e 'sms-SECRET-pw' err.log err2.log out.jsonl upd.txt upd.err show.txt && ok ||
    bad "a secret in the logs"
"$warden" audit verify --db s.db >/dev/null 2>&1 && ok || bad "audit verify"

# Pages go out through the same outbox (issue 8 points 5-7): the chain's
# test page reaches each level's contact on its channel; a silence holds
# an escalation's pages back (the outbox row is `held`, nothing is sent).
: >rx.jsonl
cat n.yaml - >e.yaml <<'YAML'
escalation:
  levels:
    - name: On-Call
      contacts: [{name: olly, channel: sms, to: "+15550111"}]
    - name: Senior Engineer
      contacts: [{name: dana, channel: email, to: "senior@example.com"}]
YAML
"$warden" oncall test-page --config e.yaml --db p.db --as kim >tp.txt 2>tp.err && ok || bad "test-page: $(cat tp.txt tp.err)"
wait_for rx.jsonl '"path": "/sms".*To=%2B15550111' 50 && ok || bad "the L1 test page: $(cat rx.jsonl tp.err)"
wait_for rx.jsonl 'senior@example.com' 50 && ok || bad "the L2 test page by email: $(cat rx.jsonl)"
grep -q 'warden test page from kim: the alerting chain is being tested' rx.jsonl && ok || bad "the test page's text: $(cat rx.jsonl)"
"$warden" silence add --scenario broker_disconnect --until +2h --reason "broker maintenance" --as kim \
    --config e.yaml --db p.db >sil.txt 2>&1 && ok || bad "silence add: $(cat sil.txt)"
: >rx.jsonl
"$warden" incident open --scenario broker_disconnect --title "planned" --config e.yaml --db p.db --as kim >po.txt 2>&1 ||
    bad "open during the silence: $(cat po.txt)"
"$warden" oncall escalate --config e.yaml --db p.db >esc.txt 2>&1 && ok || bad "escalate: $(cat esc.txt)"
[ "$(sqlite3 p.db "SELECT count(*) FROM notify_outbox WHERE incident <> '' AND state = 'held'")" -ge 1 ] && ok ||
    bad "no held row: $(sqlite3 p.db 'SELECT incident, channel, kind, state FROM notify_outbox')"
[ "$(sqlite3 p.db "SELECT count(*) FROM notify_outbox WHERE incident <> '' AND state <> 'held'")" -eq 0 ] && ok ||
    bad "a silenced incident's notification was sent: $(sqlite3 p.db 'SELECT incident, channel, kind, state FROM notify_outbox')"
sleep 0.3
! grep -q '"path"' rx.jsonl && ok || bad "the receiver got a silenced notification: $(cat rx.jsonl)"
finish notify
