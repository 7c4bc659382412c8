#!/bin/sh
# Golden tests for `warden positions|pnl|drawdown` over data/multiday.jsonl,
# a crafted three-day, two-account session (2025-11-17..19, New York).
#
# The expected figures in expected/ were checked by hand:
#   alpha: capital 500,000 (its account event precedes any fill).
#     day 1  buy 1000 AAPL @ 190.05 (comm 1)  -> cash 309,949, cost 190,050
#     day 2  sell 400 @ 186 (comm 1): releases 400/1000 of the cost = 76,020,
#            realizes 74,400 - 76,020 - 1 = -1,621  -> realized -1,622
#            equity = 384,348 cash + 600 * 186 = 495,948
#     day 3  sell 600 @ 181 (comm 1): realizes 108,600 - 114,030 - 1 = -5,431
#            -> realized -7,053, equity 492,947, day-open 495,948,
#            daily ratio -3,001 / 495,948
#            peak 501,949 (AAPL mid 192 on day 1); max drawdown at the AAPL
#            mid 180.1 on day 3: (501,949 - 492,408) / 501,949
#   beta: capital 1,000,000 (default).
#     day 1  sell 200 MSFT @ 410 (comm 0.5); marked by the fill, then trade 405
#     day 2  buy 300 @ 400.5 (comm 0.75) flips to +100: realizes
#            82,000 - 80,100 = 1,900 -> realized 1,898.75; cost 40,050
#     day 3  MSFT mid 410: unrealized 950, equity 1,002,848.75
#   firm: capital 1,500,000, equity 1,495,795.75 = capital - 4,204.25;
#         peak 1,502,948.5, max drawdown 8,391.75 / 1,502,948.5.
# data/multiday-malformed.jsonl is the same session with nine malformed
# lines and a blank line interleaved: every output must be identical.
#
# usage: golden.sh path/to/warden tests/integration
# WARDEN_UPDATE_GOLDEN=1 rewrites the expected files (then review the diff).
set -u
warden=$1
dir=$2
data=$dir/data
exp=$dir/expected
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
passes=0

check() { # name, expected file, actual file
    if [ "${WARDEN_UPDATE_GOLDEN:-0}" = 1 ]; then
        cp "$3" "$2"
    fi
    if cmp -s "$2" "$3"; then
        passes=$((passes + 1))
    else
        echo "FAIL: $1"
        diff -u "$2" "$3" | head -40
        fails=$((fails + 1))
    fi
}

expect_rc() { # name, expected rc, actual rc
    if [ "$2" = "$3" ]; then
        passes=$((passes + 1))
    else
        echo "FAIL: $1: exit status $3, expected $2"
        fails=$((fails + 1))
    fi
}

cd "$dir" || exit 2
for cmd in positions pnl drawdown; do
    "$warden" "$cmd" --json --events data/multiday.jsonl >"$tmp/$cmd.json" 2>"$tmp/$cmd.err"
    expect_rc "$cmd --json" 0 $?
    check "$cmd --json" "$exp/$cmd.json" "$tmp/$cmd.json"
    check "$cmd --json stderr is empty" /dev/null "$tmp/$cmd.err"
    "$warden" "$cmd" data/multiday.jsonl >"$tmp/$cmd.txt"
    check "$cmd table" "$exp/$cmd.txt" "$tmp/$cmd.txt"

    # Malformed lines change nothing but stderr.
    "$warden" "$cmd" --json --events data/multiday-malformed.jsonl >"$tmp/$cmd.m.json" \
        2>"$tmp/$cmd.m.err"
    expect_rc "$cmd --json with malformed lines" 0 $?
    check "$cmd with malformed lines: same output" "$exp/$cmd.json" "$tmp/$cmd.m.json"
    check "$cmd with malformed lines: stderr" "$exp/malformed.stderr" "$tmp/$cmd.m.err"

    # stdin gives the same figures.
    "$warden" "$cmd" --json - <data/multiday.jsonl >"$tmp/$cmd.stdin.json"
    check "$cmd from stdin" "$exp/$cmd.json" "$tmp/$cmd.stdin.json"
done

"$warden" pnl --json --date 2025-11-18 data/multiday.jsonl >"$tmp/pnl-day2.json"
check "pnl --date 2025-11-18" "$exp/pnl-2025-11-18.json" "$tmp/pnl-day2.json"
"$warden" pnl --date 2025-11-18 data/multiday.jsonl >"$tmp/pnl-day2.txt"
check "pnl --date 2025-11-18 table" "$exp/pnl-2025-11-18.txt" "$tmp/pnl-day2.txt"

# Errors: unreadable input is 1, bad usage is 2, with a message.
"$warden" pnl --events data/does-not-exist.jsonl >/dev/null 2>"$tmp/err"
expect_rc "missing events file" 1 $?
check "missing events file message" "$exp/missing-file.stderr" "$tmp/err"
"$warden" pnl --date 2025-13-01 data/multiday.jsonl >/dev/null 2>"$tmp/err"
expect_rc "bad --date" 2 $?
check "bad --date message" "$exp/bad-date.stderr" "$tmp/err"
"$warden" frobnicate >/dev/null 2>"$tmp/err"
expect_rc "unknown command" 2 $?
"$warden" pnl --help >"$tmp/help" 2>&1
expect_rc "pnl --help" 0 $?
grep -q -- "--date" "$tmp/help" || { echo "FAIL: pnl --help does not mention --date"; fails=$((fails + 1)); }

# warden config check: the example is valid; every problem has its line.
"$warden" config check ../../examples/warden.yaml >"$tmp/out" 2>&1
expect_rc "config check of the example" 0 $?
printf 'limits:\n  max_dd: abc\n  kill_pnl: 0.5\nsesion: {}\n' >"$tmp/bad.yaml"
"$warden" config check "$tmp/bad.yaml" >/dev/null 2>"$tmp/err"
expect_rc "config check of a bad file" 2 $?
sed "s|$tmp/||" "$tmp/err" >"$tmp/err.rel"
check "config check messages" "$exp/config-check.stderr" "$tmp/err.rel"

# P0-3: flatten --filter unauthorized closes exactly the positions that
# unauthorized fills built, and the gate accepts warden's closing intents
# although the accounts are halted.
"$warden" flatten --db "$tmp/fl.db" --events data/unauthorized.jsonl --filter unauthorized \
    --confirm >"$tmp/flat.jsonl" 2>/dev/null
expect_rc "flatten --filter unauthorized" 0 $?
check "flatten --filter unauthorized intents" "$exp/flatten-unauthorized.jsonl" "$tmp/flat.jsonl"
cat data/unauthorized.jsonl "$tmp/flat.jsonl" >"$tmp/with-flatten.jsonl"
"$warden" replay --db "$tmp/fl2.db" "$tmp/with-flatten.jsonl" >"$tmp/replay.out" 2>/dev/null
n_ok=$(grep -c '"id":"warden-flatten-[0-9]*-[0-9]","verdict":"accept"' "$tmp/replay.out")
[ "$n_ok" -eq 2 ] && passes=$((passes + 1)) || {
    echo "FAIL: the gate accepted $n_ok of 2 flatten intents"
    fails=$((fails + 1))
}
grep -q '"action":"halt","scope":"account:alpha"' "$tmp/replay.out" &&
    grep -q '"scenario":"unauthorized_trading"' "$tmp/replay.out" &&
    passes=$((passes + 1)) || {
    echo "FAIL: no unauthorized_trading halt in the replay"
    fails=$((fails + 1))
}

# audit_trades: every anomaly with its reason.
"$warden" audit --db "$tmp/au.db" --events data/unauthorized.jsonl >"$tmp/audit.txt" 2>/dev/null
expect_rc "audit" 0 $?
check "audit table" "$exp/audit-unauthorized.txt" "$tmp/audit.txt"

# find_data_gaps: data/gaps.jsonl, Monday 2025-11-17, New York hours
# (09:30 = 14:30Z), staleness 60 s; data/gaps.yaml lists AAPL MSFT TSLA NVDA.
# Window 14:30Z-14:45Z (15 min):
#   AAPL  1-min bars at 14:30..14:44 without 14:33, 14:34, 14:35 and 14:41:
#         gaps [14:33, 14:36) and [14:41, 14:42); 11 of 15 bars, 73.33%
#   MSFT  quotes 14:30:00, :30, 14:31:30 (60 s: not stale), 14:33:00 (90 s:
#         gap), 14:35:00 (120 s: gap), 14:35:30, 14:36:00, then trades every
#         minute 14:37..14:45 (60 s: none stale); 15 events in the window;
#         3m30s missing of 15 min = 76.67%
#   TSLA  a pre-market quote at 14:00 (outside hours: no gap), one at
#         14:30:10, then silent: gap [14:30:10, 14:45), 14m50s
#   NVDA  configured, no data: gap [14:30, 14:45), 0%
# With --start 2025-11-17 (local midnight, 05:00Z) and no --end, the window
# ends at the last event (14:45:00, the MSFT trade, which still counts:
# 16 MSFT events) and hours before the open count for nothing, so the gaps
# are the same; without the configuration NVDA is not expected.
w="--start 2025-11-17T14:30:00Z --end 2025-11-17T14:45:00Z --config data/gaps.yaml"
"$warden" gaps $w data/gaps.jsonl >"$tmp/gaps.txt" 2>/dev/null
expect_rc "gaps" 0 $?
check "gaps table" "$exp/gaps.txt" "$tmp/gaps.txt"
"$warden" gaps $w --json --events data/gaps.jsonl >"$tmp/gaps.json" 2>/dev/null
check "gaps --json" "$exp/gaps.json" "$tmp/gaps.json"
"$warden" gaps --start 2025-11-17 - <data/gaps.jsonl >"$tmp/gaps-day.txt" 2>/dev/null
check "gaps --start DAY, to the last event, from stdin" "$exp/gaps-day.txt" "$tmp/gaps-day.txt"
"$warden" gaps --start 2025-11-17T25:00:00Z data/gaps.jsonl >/dev/null 2>"$tmp/err"
expect_rc "gaps: bad --start" 2 $?
check "gaps: bad --start message" "$exp/gaps-bad-start.stderr" "$tmp/err"
"$warden" gaps data/gaps.jsonl >/dev/null 2>"$tmp/err"
expect_rc "gaps: no --start" 2 $?
"$warden" gaps --start 2025-11-17 --end 2025-11-16 data/gaps.jsonl >/dev/null 2>"$tmp/err"
expect_rc "gaps: --end before --start" 2 $?
"$warden" gaps --start 2025-11-17 --events data/does-not-exist.jsonl >/dev/null 2>"$tmp/err"
expect_rc "gaps: missing events file" 1 $?
check "gaps: missing events file message" "$exp/missing-file.stderr" "$tmp/err"

# rejects, latency, exposure: data/orders.jsonl, 2025-11-17 from 15:00:00Z
# (in hours), with data/orders.yaml: max_order_qty 500, box_lim 50,000,
# max_gross_exposure 70,000. AAPL mid 100 (102 from 15:00:15), MSFT mid 400
# (1,100 from 15:00:16).
#   gate: 10 intents o1..o10; rejected o2 (qty 1000) and o7 (qty 600) as
#     limit:max_order_qty, o8 (TSLA 300 x 200 = 60,000) as limit:box_lim:
#     3 of 10 = 30.00%
#   broker: 8 acks: accepted o1 o4 o5 ghost, rejected o3 and o10
#     "Insufficient buying power", o9 "Market closed", cancelled o1 (a later
#     ack): 3 of 7 = 42.86%; no peak (fewer than 20 acks)
#   latency (first ack - intent): alpha o1 50 ms, o3 200, o9 300, o10 100;
#     beta o4 20, o5 1500. Nearest rank: firm p50 = 3rd of 6 = 100 ms, p95 =
#     p99 = 6th = 1500 = max; alpha p50 = 2nd of 4 = 100, p95 = 300; beta p50
#     = 20, p95 = 1500. The histogram reports a bucket's top, clamped to the
#     max: 100 ms shows as 100.139, 20 ms as 20.054 (< 0.4% high). The
#     ghost ack has no intent; o6 (accepted) is never acked.
#   exposure at 15:00:16: alpha AAPL +100 x 102 = 10,200 (20.40% of box_lim),
#     open o6 100 x 100 = 10,000 (o3 o9 o10 were rejected by the broker):
#     gross 20,200 = 28.86%; beta MSFT -50 x 1,100 = -55,000: 110% OVER
#     box_lim, open o5 200 x 99.5 = 19,900: gross 74,900 = 107% OVER; firm
#     gross 95,100, net 10,200 - 55,000 = -44,800.
oc="--config data/orders.yaml"
for cmd in rejects latency exposure; do
    "$warden" $cmd --db "$tmp/o.db" $oc data/orders.jsonl >"$tmp/$cmd.txt" 2>"$tmp/$cmd.err"
    expect_rc "$cmd" 0 $?
    check "$cmd table" "$exp/$cmd.txt" "$tmp/$cmd.txt"
    check "$cmd stderr is empty" /dev/null "$tmp/$cmd.err"
    "$warden" $cmd --db "$tmp/o.db" $oc --json --events - <data/orders.jsonl >"$tmp/$cmd.json"
    check "$cmd --json from stdin" "$exp/$cmd.json" "$tmp/$cmd.json"
    "$warden" $cmd --db "$tmp/o.db" --events data/does-not-exist.jsonl >/dev/null 2>"$tmp/err"
    expect_rc "$cmd: missing events file" 1 $?
    check "$cmd: missing events file message" "$exp/missing-file.stderr" "$tmp/err"
    "$warden" $cmd --help >"$tmp/help" 2>&1
    expect_rc "$cmd --help" 0 $?
done
# A window: from 15:00:05 on, o1 o3 o4 and their acks are out; in: intents
# o5..o10 (gate: o7 and o8, 2 of 6), acks o5 ghost o9 o10 o1-cancel (broker:
# 2 of 4, 1 cancelled), latencies o5 1500, o9 300, o10 100: p50 = 2nd = 300
# (300.941), p95 = 1500. --end 2025-11-18 is through that local day.
"$warden" rejects --db "$tmp/o.db" $oc --start 2025-11-17T15:00:05Z --end 2025-11-18 \
    data/orders.jsonl >"$tmp/rejects-window.txt" 2>/dev/null
check "rejects --start --end" "$exp/rejects-window.txt" "$tmp/rejects-window.txt"
"$warden" latency --db "$tmp/o.db" $oc --start 2025-11-17T15:00:05Z --json \
    data/orders.jsonl >"$tmp/latency-window.json" 2>/dev/null
check "latency --start" "$exp/latency-window.json" "$tmp/latency-window.json"
"$warden" latency --db "$tmp/o.db" --start yesterday data/orders.jsonl >/dev/null 2>"$tmp/err"
expect_rc "latency: bad --start" 2 $?
check "latency: bad --start message" "$exp/latency-bad-start.stderr" "$tmp/err"
"$warden" exposure --db "$tmp/o.db" --start 2025-11-17 data/orders.jsonl >/dev/null 2>"$tmp/err"
expect_rc "exposure takes no --start" 2 $?

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
