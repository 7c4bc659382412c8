#!/usr/bin/python3
"""Loopback receivers for the notification tests (tests/integration/notify.sh).

HTTP: records every POST as one JSON line {"path", "body", "auth", "ts"} in
OUT (appended, flushed), answers the first FAIL requests of each path with
STATUS (503, 429, 400...), or sleeps HANG seconds before answering (a hung
receiver), then 200. SMTP (aiosmtpd from Debian): records each message as
{"path": "smtp", "from", "to", "body"}. Writes "http_port smtp_port" to
PORTFILE once both listen on 127.0.0.1 (port 0: ephemeral).

usage: notify_receiver.py OUT PORTFILE [--fail N --status S] [--hang SECONDS]
                          [--always PATH:CODE]...
"""
import argparse, json, sys, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ap = argparse.ArgumentParser()
ap.add_argument("out"); ap.add_argument("portfile")
ap.add_argument("--fail", type=int, default=0); ap.add_argument("--status", type=int, default=503)
ap.add_argument("--hang", type=float, default=0)
ap.add_argument("--always", action="append", default=[], help="PATH:CODE, every time")
a = ap.parse_args()
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
        if a.hang > 0:
            time.sleep(a.hang)
        code = a.status if k <= a.fail else 200
        for rule in a.always:
            p, c = rule.rsplit(":", 1)
            if p == self.path:
                code = int(c)
        record({"path": self.path, "body": body, "code": code, "ts": time.time(),
                "ctype": self.headers.get("Content-Type", ""),
                "auth": self.headers.get("Authorization", "")})
        self.send_response(code)
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
