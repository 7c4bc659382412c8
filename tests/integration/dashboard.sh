#!/bin/sh
# The incident dashboard served by `warden run` (docs/RUN.md, "Dashboard"):
#  - GET /incidents and /incidents/{id}: 200, text/html, without a token,
#    the page's key elements, no http:// or https:// reference (nothing
#    fetched from elsewhere at run time);
#  - other paths and methods are not the page (the API answers them);
#  - the API's incident records carry the SLA due times the page counts
#    down from;
#  - with Debian's chromium installed: the page rendered headless with a
#    viewer's token shows the halted scope's banner and the open incident,
#    and the Kafka lag panel "Kafka is not configured" (no Kafka input),
#    and the incident page its recovery checklist and timeline (else said,
#    and skipped after every other check). SCREENSHOT_DIR=DIR keeps
#    screenshots of both pages there; DASHBOARD_WINDOW=W,H sets the
#    window (default 1200,1000; 390,1000 shows the phone layout).
#
# usage: dashboard.sh path/to/warden
set -u
warden=$1
. "$(dirname "$0")/daemon_lib.sh"
# get PATH [CURL ARGS...]: the status; body in page.out, headers in page.hdr
get() {
    p=$1
    shift
    curl -s -m 5 -D page.hdr -o page.out -w '%{http_code}' "$@" "http://$A$p"
}

api_config
"$warden" run --config c.yaml --db s.db --input ev.jsonl --metrics-listen off \
    --api-listen 127.0.0.1:0 >out.jsonl 2>err.log &
pid=$!
wait_for err.log ' INFO run started .* api=127.0.0.1:[0-9]*' && ok ||
    { bad "no start log line with the port: $(cat err.log)"; exit 1; }
A=$(sed -n 's/.* INFO run started .* api=\([^ ]*\).*/\1/p' err.log)

# A buy, filled, then the price falls 6%: the PnL kill-switch halts the
# account and opens a P0 incident; then a responder halts the firm.
kill_pnl_events >>ev.jsonl
wait_for out.jsonl '"type":"incident".*"scenario":"kill_pnl"' && ok || bad "no kill_pnl incident: $(cat out.jsonl)"
curl -s -m 5 -o halt.out -H "Authorization: Bearer $RESP" -d '{"scope":"firm","reason":"dashboard test"}' \
    "http://$A/api/v1/halt"
grep -q '"state":"HALTED"' halt.out && ok || bad "the firm's halt: $(cat halt.out)"

# The API's record: due times for the countdowns.
curl -s -m 5 -o inc.out -H "Authorization: Bearer $VIEW" "http://$A/api/v1/incidents"
ID=$(sed -n 's/.*"id":"\([^"]*\)","scenario":"kill_pnl".*/\1/p' inc.out)
[ -n "$ID" ] && ok || bad "no incident id in $(cat inc.out)"
opened=$(sed -n 's/.*"opened_ns":\([0-9]*\).*/\1/p' inc.out)
ackdue=$(sed -n 's/.*"ack_due_ns":\([0-9]*\).*/\1/p' inc.out)
[ -n "$opened" ] && [ -n "$ackdue" ] && [ $((ackdue - opened)) -eq 300000000000 ] && ok ||
    bad "a P0's ack_due_ns is not opened_ns + 5 min: $(cat inc.out)"
grep -q '"resolve_due_ns":[1-9]' inc.out && ok || bad "no resolve_due_ns: $(cat inc.out)"

# The page, without a token.
[ "$(get /incidents)" = 200 ] && ok || bad "GET /incidents: $(cat page.hdr page.out)"
grep -qi '^content-type: text/html; charset=utf-8' page.hdr && ok || bad "not text/html: $(cat page.hdr)"
for want in '<title>warden: incidents</title>' 'id="banners"' 'id="c-equity"' 'id="c-pnl"' \
    'id="c-dd"' 'id="incidents"' 'id="d-criteria"' 'id="d-timeline"' 'id="f-ack"' \
    'id="f-status"' 'id="f-note"' 'id="f-resolve"' 'id="f-halt"' 'id="f-resume"' \
    'sessionStorage' 'Authorization' '"/api/v1/"' '"polyline"' 'createElementNS' '@media' \
    'id="lag"' 'id="lag-table"' 'id="lag-off"' '"kafka/lag"'; do
    grep -qF -- "$want" page.out && ok || bad "the page has no '$want'"
done
grep -qiE 'https?://' page.out && bad "the page references another site: $(grep -oiE '.{20}https?://.{30}' page.out)" || ok
grep -qiE '<(script|link|img|iframe)[^>]* (src|href)=' page.out && bad "the page loads a resource: $(grep -oiE '<(script|link|img|iframe)[^>]* (src|href)=[^>]*' page.out)" || ok
size=$(wc -c <page.out)
[ "$size" -lt 65536 ] && ok || bad "the page is $size bytes"
cp page.out list.page
[ "$(get "/incidents/$ID")" = 200 ] && cmp -s page.out list.page && ok || bad "GET /incidents/$ID"
[ "$(get '/incidents?x=1')" = 200 ] && ok || bad "GET /incidents?x=1"
[ "$(get /incidents/a/b)" != 200 ] && ok || bad "/incidents/a/b served the page"
[ "$(get /incidentsx)" != 200 ] && ok || bad "/incidentsx served the page"
[ "$(get /incidents -X POST)" != 200 ] && ok || bad "POST /incidents served the page"
[ "$(get /api/v1/incidents)" = 401 ] && ok || bad "the API without a token is not 401"

browser=
for b in chromium chromium-browser; do
    command -v "$b" >/dev/null 2>&1 && { browser=$b; break; }
done
skipped=
if [ -n "$browser" ]; then
    # shot URL OUT: the rendered DOM in OUT.html, a screenshot in OUT.png
    shot() {
        set -- "$1" "$2" --headless --no-sandbox --disable-gpu --no-first-run \
            --user-data-dir="$PWD/chrome" --virtual-time-budget=6000 --window-size=${DASHBOARD_WINDOW:-1200,1000}
        timeout 60 "$browser" "$3" "$4" "$5" "$6" "$7" "$8" "$9" --dump-dom "$1" >"$2.html" 2>"$2.err"
        timeout 60 "$browser" "$3" "$4" "$5" "$6" "$7" "$8" "$9" --hide-scrollbars \
            --screenshot="$PWD/$2.png" "$1" >/dev/null 2>>"$2.err"
    }
    shot "http://$A/incidents#token=$VIEW" list
    grep -q 'firm: HALTED' list.html && ok || bad "headless: no firm HALTED banner: $(head -c 600 list.err)"
    grep -q 'account:default: HALTED' list.html && ok || bad "headless: no account banner"
    grep -q "href=\"/incidents/$ID\"" list.html && ok || bad "headless: the incident is not listed"
    grep -qE 'class="sev sev-P0"' list.html && ok || bad "headless: no P0 severity"
    grep -qE '[0-9]+s (left|late)' list.html && ok || bad "headless: no SLA countdown"
    grep -q '<polyline points="[0-9]' list.html && ok || bad "headless: no chart line"
    # No Kafka input: the lag panel says so instead of its table.
    grep -q '<table id="lag-table" hidden="">' list.html &&
        grep -q '<p class="dim" id="lag-off">Kafka is not configured: warden run reads no Kafka topics' list.html &&
        ok || bad "headless: the Kafka lag panel does not say Kafka is not configured: $(grep -o '<section id="lag">.\{0,400\}' list.html)"
    [ -s list.png ] && ok || bad "headless: no screenshot: $(cat list.err)"
    shot "http://$A/incidents/$ID#token=$VIEW" incident
    grep -q 'type="checkbox"' incident.html && ok || bad "headless: no checklist on the incident page"
    grep -qE '<td>(open|opened|created)' incident.html && ok || bad "headless: no timeline: $(grep -o '<tbody>.\{0,300\}' incident.html | tail -1)"
    if [ -n "${SCREENSHOT_DIR-}" ]; then
        cp list.png "$SCREENSHOT_DIR/dashboard.png"
        cp incident.png "$SCREENSHOT_DIR/dashboard-incident.png"
    fi
else
    skipped="no chromium (Debian's chromium package): the page was not rendered"
fi

stop TERM "serving the dashboard"

finish dashboard.sh
