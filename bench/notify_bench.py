#!/usr/bin/python3
"""Helper of bench/notify_bench.sh (issue 8 point 9). Two modes:

latency WARDEN DIR N: starts `warden run` (config DIR/c.yaml written here,
store DIR/s.db, events on its stdin) against an HTTP receiver in this
process on 127.0.0.1 (Slack webhook /slack, PagerDuty /pd, both answering
200 at once). A first `account` event gives a reserve account a large
equity, so that the firm never breaches. Then N kill-switch crossings, one
at a time, each on a fresh account and symbol (a quote, a buy of 100 at
10, its ack and fill, then a quote 6% lower): the time from writing the
falling quote into warden's stdin to the arrival of the incident's Slack
`opened` message and PagerDuty `trigger`. Prints one line per crossing
"slack_ms pd_ms", then "p50 ... p99 ..." lines.

gen N FILLER: writes to stdout a workload for the throughput runs: N
crossings as above, spread among FILLER quotes on 50 other symbols (a
random walk within 0.5%, no detector fires on them), timestamps from now,
1 us apart.
"""
import json, os, random, subprocess, sys, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CONFIG = """capital: 1000
session: {tz: UTC, open: "00:00", close: "23:59", days: [Mon, Tue, Wed, Thu, Fri, Sat, Sun]}
notify:
  slack: {webhook_url: "http://127.0.0.1:%d/slack"}
  pagerduty: {routing_key: bench-key, url: "http://127.0.0.1:%d/pd"}
  routes: {P0: [pagerduty, slack]}
"""


class Clock:
    def __init__(self):
        self.ns = time.time_ns()

    def __call__(self):
        self.ns = max(self.ns + 1000, time.time_ns())
        return self.ns


def crossing(i, ts, drop=True):
    """The lines of crossing i; the last one (the falling quote) crosses."""
    a, s = "a%d" % i, "K%d" % i
    lines = [
        {"type": "quote", "ts": ts(), "symbol": s, "bid": 9.99, "ask": 10.01},
        {"type": "intent", "ts": ts(), "account": a, "id": "o%d" % i, "symbol": s,
         "side": "BUY", "qty": 100, "source": "bench"},
        {"type": "ack", "ts": ts(), "account": a, "id": "o%d" % i, "status": "accepted"},
        {"type": "fill", "ts": ts(), "account": a, "id": "o%d" % i, "symbol": s,
         "side": "BUY", "qty": 100, "price": 10},
        {"type": "quote", "ts": ts(), "symbol": s, "bid": 9.39, "ask": 9.41},
    ]
    return [json.dumps(x, separators=(",", ":")) + "\n" for x in lines]


def reserve(ts):
    return json.dumps({"type": "account", "ts": ts(), "account": "reserve",
                       "equity": 1000000000}) + "\n"


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))]


def latency(warden, d, n):
    arrived = {}  # (path, scope) -> arrival time of its first opened message
    cv = threading.Condition()

    class H(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            t = time.time()
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
            if self.path == "/pd" and body.get("event_action") == "trigger" and \
                    body["payload"]["class"] == "opened":
                scope = body["payload"]["component"]
            elif self.path == "/slack" and "INCIDENT ALERT" in body.get("text", ""):
                scope = body["attachments"][0]["fields"][3]["value"]
            else:
                scope = None
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")
            if scope is not None:
                with cv:
                    arrived.setdefault((self.path, scope), t)
                    cv.notify_all()

    http = ThreadingHTTPServer(("127.0.0.1", 0), H)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    port = http.server_address[1]
    with open(os.path.join(d, "c.yaml"), "w") as f:
        f.write(CONFIG % (port, port))
    err = open(os.path.join(d, "err.log"), "w")
    w = subprocess.Popen([warden, "run", "--config", os.path.join(d, "c.yaml"), "--db",
                          os.path.join(d, "s.db"), "--logs", d, "--input", "-",
                          "--metrics-listen", "off", "--api-listen", "off"],
                         stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=err)
    ts = Clock()
    w.stdin.write(reserve(ts).encode())
    w.stdin.flush()
    out = []
    try:
        for i in range(n):
            lines = crossing(i, ts)
            w.stdin.write("".join(lines[:-1]).encode())
            w.stdin.flush()
            time.sleep(0.005)  # the position is in before the price falls
            scope = "account:a%d" % i
            t0 = time.time()
            w.stdin.write(lines[-1].encode())
            w.stdin.flush()
            with cv:
                ok = cv.wait_for(lambda: ("/slack", scope) in arrived and ("/pd", scope) in arrived,
                                 timeout=30)
            if not ok:
                sys.exit("notify_bench: crossing %d not notified within 30 s (see %s)" % (i, d))
            out.append(((arrived[("/slack", scope)] - t0) * 1000,
                        (arrived[("/pd", scope)] - t0) * 1000))
            print("%.3f %.3f" % out[-1], flush=True)
    finally:
        w.stdin.close()
        w.terminate()
        w.wait()
    for name, k in (("slack", 0), ("pagerduty", 1)):
        v = [x[k] for x in out]
        print("%s p50 %.3f p99 %.3f max %.3f ms" % (name, pct(v, 50), pct(v, 99), max(v)))


def gen(n, filler):
    ts = Clock()
    rnd = random.Random(7)
    px = [100.0] * 50
    out = sys.stdout
    out.write(reserve(ts))
    every = max(1, filler // max(n, 1))
    k = 0
    for q in range(filler):
        j = rnd.randrange(50)
        px[j] = min(100.5, max(99.5, px[j] + rnd.choice((-0.01, 0.01))))
        out.write('{"type":"quote","ts":%d,"symbol":"F%d","bid":%.2f,"ask":%.2f}\n'
                  % (ts(), j, px[j] - 0.01, px[j] + 0.01))
        if q % every == every - 1 and k < n:
            out.writelines(crossing(k, ts))
            k += 1
    while k < n:
        out.writelines(crossing(k, ts))
        k += 1


if __name__ == "__main__":
    if sys.argv[1] == "latency":
        latency(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    elif sys.argv[1] == "gen":
        gen(int(sys.argv[2]), int(sys.argv[3]))
    else:
        sys.exit(__doc__)
