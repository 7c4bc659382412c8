#!/usr/bin/python3
"""Loopback receivers for the notification tests (tests/integration/notify.sh).

HTTP: records every POST as one JSON line {"path", "body", "code", "ts",
"ctype", "auth"} in OUT (appended, flushed; "ts" is the arrival), answers
the first FAIL requests of each path with STATUS (503, 429, 400...), or
sleeps HANG seconds before answering (a slow receiver), then 200.
Per path, --first PATH:WHAT:N[:RETRY_AFTER] answers the first N calls of
PATH with WHAT, a status (with a Retry-After header of RETRY_AFTER seconds
when given), or `hang`: the request is read and recorded with code 0, and
never answered (the handler waits until the client gives up and closes).
--always PATH:WHAT does so every time. SMTP (aiosmtpd from Debian): records
each message as {"path": "smtp", "from", "to", "body"}. Writes "http_port
smtp_port" to PORTFILE once both listen on 127.0.0.1 (port 0: ephemeral).

usage: notify_receiver.py OUT PORTFILE [--fail N --status S] [--hang SECONDS]
                          [--first PATH:WHAT:N[:RETRY_AFTER]]... [--always PATH:WHAT]...
"""
import argparse, json, sys, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ap = argparse.ArgumentParser()
ap.add_argument("out"); ap.add_argument("portfile")
ap.add_argument("--fail", type=int, default=0); ap.add_argument("--status", type=int, default=503)
ap.add_argument("--hang", type=float, default=0)
ap.add_argument("--always", action="append", default=[], help="PATH:CODE|hang, every time")
ap.add_argument("--first", action="append", default=[],
                help="PATH:CODE|hang:N[:RETRY_AFTER], the first N calls of PATH")
a = ap.parse_args()
rules = {}  # path -> (what, n, retry_after): the first n calls
for r in a.first:
    f = r.split(":")
    rules[f[0]] = (f[1], int(f[2]), f[3] if len(f) > 3 else None)
for r in a.always:
    p, w = r.rsplit(":", 1)
    rules[p] = (w, float("inf"), None)
lock = threading.Lock()
seen = {}

def record(obj):
    with lock, open(a.out, "a") as f:
        f.write(json.dumps(obj) + "\n")

class H(BaseHTTPRequestHandler):
    def log_message(self, *args): pass
    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n).decode("utf-8")
        with lock:
            k = seen.get(self.path, 0) + 1
            seen[self.path] = k
        arrived = time.time()
        if a.hang > 0:
            time.sleep(a.hang)
        code, retry_after = (a.status if k <= a.fail else 200), None
        what, n, ra = rules.get(self.path, ("200", 0, None))
        if k <= n:
            code, retry_after = (0 if what == "hang" else int(what)), ra
        record({"path": self.path, "body": body, "code": code, "ts": arrived,
                "ctype": self.headers.get("Content-Type", ""),
                "auth": self.headers.get("Authorization", "")})
        if code == 0:  # hang: never answer; return once the client closes
            self.close_connection = True
            while self.rfile.read(1):
                pass
            return
        self.send_response(code)
        if retry_after is not None:
            self.send_header("Retry-After", retry_after)
        self.send_header("Content-Type", "text/plain")
        msg = b"ok" if code == 200 else b"try again later" if code >= 429 else b"invalid payload"
        self.send_header("Content-Length", str(len(msg)))
        self.end_headers()
        self.wfile.write(msg)

http = ThreadingHTTPServer(("127.0.0.1", 0), H)
threading.Thread(target=http.serve_forever, daemon=True).start()

from aiosmtpd.controller import Controller
class S:
    async def handle_DATA(self, server, session, envelope):
        record({"path": "smtp", "from": envelope.mail_from, "to": envelope.rcpt_tos,
                "body": envelope.content.decode("utf-8", "replace"), "ts": time.time()})
        return "250 OK"
import socket
probe = socket.socket()
probe.bind(("127.0.0.1", 0))  # a free port: aiosmtpd's controller cannot take port 0
sport = probe.getsockname()[1]
probe.close()
smtp = Controller(S(), hostname="127.0.0.1", port=sport)
smtp.start()
with open(a.portfile + ".tmp", "w") as f:
    f.write("%d %d\n" % (http.server_address[1], sport))
import os; os.rename(a.portfile + ".tmp", a.portfile)
try:
    while True: time.sleep(3600)
except KeyboardInterrupt:
    pass
