#!/usr/bin/env python3
"""webhook-receiver.py - a loopback webhook receiver for the notify tests.

    webhook-receiver.py PORTFILE LOG [--delay SECONDS] [--status CODE] [--port N]

Listens on 127.0.0.1 (port N, or any free port), writes the port to
PORTFILE once it listens, and appends one JSON line per request to LOG:
{"path": ..., "event": X-Cutover-Event header, "body": the parsed JSON
payload, "at": epoch seconds when it arrived}. Each request is answered
after --delay seconds (default 0) with --status (default 200). Requests
are served concurrently, so one slow answer holds up no other.
"""
import argparse
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("portfile")
    ap.add_argument("log")
    ap.add_argument("--delay", type=float, default=0.0)
    ap.add_argument("--status", type=int, default=200)
    ap.add_argument("--port", type=int, default=0)
    args = ap.parse_args()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            n = int(self.headers.get("Content-Length", "0"))
            raw = self.rfile.read(n)
            try:
                body = json.loads(raw)
            except ValueError:
                body = {"unparsable": raw.decode("utf-8", "replace")}
            rec = {"path": self.path, "event": self.headers.get("X-Cutover-Event"),
                   "type": self.headers.get("Content-Type"), "body": body,
                   "at": time.time()}
            with lock, open(args.log, "a") as f:
                f.write(json.dumps(rec) + "\n")
            time.sleep(args.delay)
            self.send_response(args.status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *a):
            pass

    ThreadingHTTPServer.daemon_threads = True
    ThreadingHTTPServer.allow_reuse_address = True
    ThreadingHTTPServer.request_queue_size = 128  # no SYN dropped
    srv = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    with open(args.portfile + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    import os
    os.rename(args.portfile + ".tmp", args.portfile)
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
