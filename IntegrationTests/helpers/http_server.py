#!/usr/bin/env python3
"""A threaded HTTP/1.1 server for Weft's waypoint tests.

Usage: http_server.py --host 127.0.18.3 [--port 0] --name v1

Prints ``READY <port>`` on stdout. Every request is answered 200 with a JSON body naming the server, the
method, the path and the request headers it received (so a test sees what the waypoint forwarded), plus the
response header ``x-served-by: <name>``. Paths starting with ``/status/<code>`` answer that status; ``/sleep/<ms>``
waits first; ``/slowonce/<key>/<ms>`` waits only the first time; ``/flaky/<key>/<n>`` answers 503 to the first n requests for that key, then 200. Keep-alive is
supported. ``--status 503`` makes every answer that status (a broken endpoint). ``/__seen`` lists every request received so far (path and Host), for mirroring tests. Runs until killed.
"""

import argparse
import json
import os
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


FLAKY: dict[str, int] = {}
SEEN: list[dict[str, str]] = []
LOCK = threading.Lock()


def make_handler(name: str, fixed_status: int | None = None):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body are separate writes: without this, keep-alive responses wait on delayed ACKs (40 ms).
        disable_nagle_algorithm = True

        def log_message(self, *args):
            pass

        def _answer(self):
            length = int(self.headers.get("content-length") or 0)
            body_in = self.rfile.read(length) if length else b""
            if self.path == "/__seen":
                with LOCK:
                    body = json.dumps(SEEN).encode()
                self.send_response(200)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            with LOCK:
                SEEN.append({"path": self.path, "host": self.headers.get("host", "")})
            status = fixed_status or 200
            parts = self.path.split("/")
            if len(parts) > 2 and parts[1] == "status" and parts[2].isdigit():
                status = int(parts[2])
            if len(parts) > 3 and parts[1] == "flaky" and parts[3].isdigit():
                with LOCK:
                    FLAKY[parts[2]] = FLAKY.get(parts[2], 0) + 1
                    if FLAKY[parts[2]] <= int(parts[3]):
                        status = 503
            if len(parts) > 3 and parts[1] == "slowonce" and parts[3].isdigit():
                with LOCK:
                    FLAKY[parts[2]] = FLAKY.get(parts[2], 0) + 1
                    first = FLAKY[parts[2]] == 1
                if first:
                    time.sleep(int(parts[3]) / 1000)
            if len(parts) > 2 and parts[1] == "sleep" and parts[2].isdigit():
                time.sleep(int(parts[2]) / 1000)
            body = json.dumps({
                "server": name, "method": self.command, "path": self.path,
                "headers": {k.lower(): v for k, v in self.headers.items()}, "body_length": len(body_in),
            }).encode() + b"\n"
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.send_header("x-served-by", name)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _answer

    return Handler


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--name", required=True)
    parser.add_argument("--status", type=int, help="answer every request with this status (a broken backend)")
    args = parser.parse_args()
    server = ThreadingHTTPServer((args.host, args.port), make_handler(args.name, args.status))
    server.daemon_threads = True
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    print(f"READY {server.server_address[1]}", flush=True)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
