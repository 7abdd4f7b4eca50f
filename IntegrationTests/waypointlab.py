"""Shared pieces of the waypoint tests: Service manifests, an HTTP/1.1 keep-alive client over the node's SOCKS
listener, and the test HTTP server."""

from __future__ import annotations

import json
import math
import select
import subprocess
import sys
from dataclasses import dataclass

from weftlab import HERE, STARTUP_TIMEOUT, Lab, socks_connect

HTTP_SERVER = HERE / "helpers" / "http_server.py"


def service(name: str, vip: str, selector: dict[str, str], target: int, labels: dict[str, str] | None = None,
            port_name: str = "http", namespace: str = "demo") -> str:
    sel = ", ".join(f"{k}: {v}" for k, v in selector.items())
    lab = ", ".join(f"{k}: {v}" for k, v in (labels or {}).items())
    return (f"apiVersion: v1\nkind: Service\nmetadata: {{name: {name}, namespace: {namespace}, labels: {{{lab}}}}}\n"
            f"spec:\n  clusterIP: {vip}\n  selector: {{{sel}}}\n"
            f"  ports: [{{name: {port_name}, port: 80, targetPort: {target}}}]\n")



def assert_share(count: int, n: int, percent: float, what: str, sigmas: float = 5.0) -> None:
    """Asserts that `count` of `n` independent random draws is consistent with a `percent` % chance each.

    The bound is `sigmas` binomial standard deviations (5: a correct data plane fails this less than once in a
    million runs), so a statistical test is not flaky; it still tells 50/50 from 90/10 from a few hundred draws.
    """
    p = percent / 100
    slack = sigmas * math.sqrt(p * (1 - p) / n) * 100 if 0 < p < 1 else 0.0
    got = count / n * 100
    assert abs(got - percent) <= slack, (
        f"{what}: {count} of {n} ({got:.1f} %), expected {percent} % ± {slack:.1f} (±{sigmas:g} sigma)")

@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict:
        return json.loads(self.body)


class HTTPConnection:
    """HTTP/1.1 keep-alive over a SOCKS tunnel through the client's node."""

    def __init__(self, client_ip: str, host: str, port: int = 80, host_header: str = "echo.demo.svc.cluster.local"):
        self.sock, code = socks_connect(client_ip, host, port)
        assert code == 0, f"SOCKS reply {code}"
        self.sock.settimeout(15)
        self.buf = b""
        self.host = host
        self.host_header = host_header

    def request(self, path: str, headers: dict[str, str] | None = None, method: str = "GET") -> Response:
        lines = [f"{method} {path} HTTP/1.1", f"host: {self.host_header}"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        while b"\r\n\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            assert chunk, f"connection closed before a response; got {self.buf!r}"
            self.buf += chunk
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        status_line, *header_lines = head.decode().split("\r\n")
        status = int(status_line.split()[1])
        hdrs = {}
        for line in header_lines:
            k, v = line.split(":", 1)
            hdrs[k.strip().lower()] = v.strip()
        length = int(hdrs.get("content-length", "0"))
        while len(self.buf) < length:
            chunk = self.sock.recv(65536)
            assert chunk, "connection closed in the body"
            self.buf += chunk
        body, self.buf = self.buf[:length], self.buf[length:]
        return Response(status, hdrs, body)

    def close(self) -> None:
        self.sock.close()


def start_http(lab: Lab, ip: str, port: int, name: str, *extra: str):
    p = lab._spawn([sys.executable, str(HTTP_SERVER), "--host", ip, "--port", str(port), "--name", name, *extra],
                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    ready, _, _ = select.select([p.stdout], [], [], STARTUP_TIMEOUT)
    assert ready, f"http server {name} did not start"
    line = p.stdout.readline()
    assert line.startswith("READY "), line
