#!/usr/bin/env python3
# Source: ../shared/peers/seed_curl_runtime.py (the seed's Python+curl function), copied unchanged below; the benchmark peer.
"""Baseline for benchmarks: the seed document's approach, packaged as an FC custom runtime.

The seed's function is Python that shells out to curl against the group's VPC second-level domain.
This file does the same behind the FC custom-runtime contract (POST /invoke on 0.0.0.0:PORT), so that
the project's function can be compared with it side by side: start-up time to a listening port, time
per invocation, memory.

Target URL: the event body's "url" field if the body is JSON with one, else env APIGW_URL.
Response: curl's timing write-out as JSON; x-fc-status 404 when curl fails.
"""
import json
import os
import subprocess
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

WRITE_OUT = ('{"status":%{http_code},"dns":%{time_namelookup},"connect":%{time_connect},'
             '"tls":%{time_appconnect},"ttfb":%{time_starttransfer},"total":%{time_total}}')


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        rid = self.headers.get("x-fc-request-id", "-")
        if self.path == "/invoke":
            print(f"FC Invoke Start RequestId: {rid}", flush=True)
            url = os.environ.get("APIGW_URL", "")
            try:
                event = json.loads(body or b"{}")
                if isinstance(event, dict) and event.get("url"):
                    url = event["url"]
            except ValueError:
                pass
            proc = subprocess.run(["curl", "-s", "-o", "/dev/null", "-m", "5", "-w", WRITE_OUT, url],
                                  capture_output=True, text=True)
            ok = proc.returncode == 0
            out = proc.stdout if ok else json.dumps({"error": f"curl exit {proc.returncode}"})
            self.reply(200 if ok else 404, out.encode())
            print(f"FC Invoke End RequestId: {rid}", flush=True)
        else:
            self.reply(200, b"")

    def do_GET(self):
        self.reply(200, b"")

    def reply(self, status, payload):
        self.send_response(status)
        self.send_header("x-fc-status", str(status))
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


if __name__ == "__main__":
    port = int(os.environ.get("FC_CUSTOM_LISTEN_PORT") or os.environ.get("FC_SERVER_PORT") or 9000)
    ThreadingHTTPServer(("0.0.0.0", port), Handler).serve_forever()
