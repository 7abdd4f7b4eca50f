"""The waypoint (L7), end to end on loopback (net 127.0.18.x): client → node-a (SOCKS, the Service uses a
waypoint) → HBONE → `weft waypoint` (HTTPRoute) → HBONE → node-b → HTTP servers v1 and v2.

The waypoint runs as its own workload (`waypoint`, sa waypoint) on a node no `weft node` serves here.
"""

from __future__ import annotations

import json
import select
import shutil
import socket
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass

import pytest

from waypointlab import HTTPConnection, Response, assert_share, service, start_http

from weftlab import (
    HERE,
    STARTUP_TIMEOUT,
    Lab,
    LogFile,
    echo_roundtrip,
    join_docs,
    namespace_doc,
    pick_free_port,
    pod_doc,
    socks_connect,
)

H2_PEER = HERE / "interop" / "h2-peer.js"
VIP, VIP_V1, VIP_V2 = "10.96.18.10", "10.96.18.11", "10.96.18.12"
VIP_H2, VIP_GRPC = "10.96.18.20", "10.96.18.21"
VIP_TCP = "10.96.18.30"
VIP_SECURE = "10.96.18.40"
VIP_HALF = "10.96.18.50"

L7_POLICY = """apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: secure-l7, namespace: demo}
spec:
  targetRefs: [{group: "", kind: Service, name: secure}]
  action: ALLOW
  rules:
  - from: [{source: {principals: [cluster.local/ns/demo/sa/client]}}]
    to: [{operation: {methods: [GET], paths: ["/public/*"]}}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: secure-deny-admin, namespace: demo}
spec:
  targetRefs: [{group: "", kind: Service, name: secure}]
  action: DENY
  rules:
  - to: [{operation: {paths: ["/public/admin*"]}}]
"""


GATEWAY = """apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: waypoint, namespace: demo}
spec:
  gatewayClassName: istio-waypoint
  listeners: [{name: mesh, port: 15008, protocol: HBONE}]
"""

ROUTE = """apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: echo, namespace: demo}
spec:
  parentRefs: [{group: "", kind: Service, name: echo, port: 80}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /v2}}]
    backendRefs: [{name: echo-v2, port: 80}]
  - matches: [{path: {type: PathPrefix, value: /api}, headers: [{name: x-version, value: v1}]}]
    backendRefs: [{name: echo-v1, port: 80}]
  - matches: [{path: {type: PathPrefix, value: /api}}]
    filters:
    - type: RequestHeaderModifier
      requestHeaderModifier: {set: [{name: x-added, value: by-route}], remove: [x-remove-me]}
    - type: ResponseHeaderModifier
      responseHeaderModifier: {add: [{name: x-route, value: api}]}
    backendRefs: [{name: echo-v1, port: 80, weight: 90}, {name: echo-v2, port: 80, weight: 10}]
  - matches: [{path: {type: Exact, value: /old}}]
    filters:
    - type: RequestRedirect
      requestRedirect: {path: {type: ReplaceFullPath, replaceFullPath: /new}, statusCode: 301}
  - matches: [{path: {type: PathPrefix, value: /missing}}]
    backendRefs: [{name: nope, port: 80}]
  - matches: [{path: {type: PathPrefix, value: /legacy}}]
    filters:
    - type: URLRewrite
      urlRewrite: {path: {type: ReplacePrefixMatch, replacePrefixMatch: /v2/modern}}
    backendRefs: [{name: echo-v2, port: 80}]
  - matches: [{path: {type: PathPrefix, value: /mirror}}]
    filters:
    - type: RequestMirror
      requestMirror: {backendRef: {name: echo-v2, port: 80}}
    backendRefs: [{name: echo-v1, port: 80}]
  - matches: [{path: {type: PathPrefix, value: /slowonce}}]
    timeouts: {request: 5s, backendRequest: 300ms}
    retry: {codes: [503], attempts: 2, backoff: 10ms}
    backendRefs: [{name: echo-v1, port: 80}]
  - matches: [{path: {type: PathPrefix, value: /flaky}}]
    retry: {codes: [503], attempts: 3, backoff: 10ms}
    backendRefs: [{name: echo-v1, port: 80}]
  - matches: [{path: {type: PathPrefix, value: /sleep}}]
    timeouts: {request: 300ms}
    backendRefs: [{name: echo-v1, port: 80}]
"""


GRPC_FAULT = """apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: echo-grpc, namespace: demo}
spec:
  hosts: [echo-grpc]
  http:
  - match: [{uri: {prefix: /echo.Echo/Broken}}]
    fault: {abort: {grpcStatus: UNAVAILABLE, percentage: {value: 100}}}
    route: [{destination: {host: echo-grpc}}]
  - route: [{destination: {host: echo-grpc}}]
"""


@dataclass
class WaypointMesh:
    lab: Lab
    client_ip: str
    waypoint_log: LogFile
    waypoint_ip: str
    v2_url: str
    spans_file: object

    def connect(self) -> HTTPConnection:
        return HTTPConnection(self.client_ip, VIP)


def start_h2(lab: Lab, ip: str, port: int, name: str):
    p = lab._spawn(["node", str(H2_PEER), "server", "--host", ip, "--port", str(port), "--name", name],
                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    ready, _, _ = select.select([p.stdout], [], [], STARTUP_TIMEOUT)
    assert ready, f"h2 server {name} did not start"
    line = p.stdout.readline()
    assert line.startswith("READY "), line


def h2_client(mesh: "WaypointMesh", target: str, path: str, grpc: str | None = None) -> dict:
    cmd = ["node", str(H2_PEER), "client", "--socks", f"{mesh.client_ip}:15080", "--target", target, "--path", path]
    if grpc is not None:
        cmd += ["--grpc", grpc]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


@pytest.fixture(scope="module")
def mesh(tmp_path_factory, weft) -> WaypointMesh:
    lab = Lab(tmp_path_factory.mktemp("waypoint"), weft, "127.0.18")
    try:
        ca = lab.init_ca()
        client_ip, v1_ip, v2_ip, waypoint_ip, intruder_ip = lab.ip(1), lab.ip(2), lab.ip(3), lab.ip(5), lab.ip(6)
        dead_ip = lab.ip(8)  # an endpoint whose application does not listen: its node answers 503
        port = pick_free_port([v1_ip, v2_ip])
        start_http(lab, v1_ip, port, "v1")
        start_http(lab, v2_ip, port, "v2")
        tcp_echo = lab.start_echo(v2_ip, pick_free_port([v2_ip]))
        h2_port = pick_free_port([v1_ip])
        if shutil.which("node"):
            start_h2(lab, v1_ip, h2_port, "h2-v1")
        docs = [
            namespace_doc("demo"),
            pod_doc("client", client_ip, "node-a", "client", labels={"app": "client"}),
            pod_doc("intruder", intruder_ip, "node-a", "intruder", labels={"app": "intruder"}),
            pod_doc("echo-v1", v1_ip, "node-b", "echo", labels={"app": "echo", "version": "v1", "half": "member"}),
            pod_doc("dead", dead_ip, "node-b", "echo", labels={"half": "member"}),
            pod_doc("echo-v2", v2_ip, "node-b", "echo", labels={"app": "echo", "version": "v2"}),
            pod_doc("waypoint", waypoint_ip, "waypoints", "waypoint",
                    labels={"gateway.networking.k8s.io/gateway-name": "waypoint"}),
            GATEWAY,
            service("echo", VIP, {"app": "echo"}, port, labels={"istio.io/use-waypoint": "waypoint"}),
            service("echo-v1", VIP_V1, {"app": "echo", "version": "v1"}, port),
            service("echo-v2", VIP_V2, {"app": "echo", "version": "v2"}, port),
            ROUTE,
            service("echo-h2", VIP_H2, {"app": "echo", "version": "v1"}, h2_port,
                    labels={"istio.io/use-waypoint": "waypoint"}, port_name="http2"),
            service("echo-tcp", VIP_TCP, {"app": "echo", "version": "v2"}, tcp_echo.port,
                    labels={"istio.io/use-waypoint": "waypoint"}, port_name="tcp-echo"),
            service("secure", VIP_SECURE, {"app": "echo", "version": "v1"}, port,
                    labels={"istio.io/use-waypoint": "waypoint"}),
            L7_POLICY,
            service("half", VIP_HALF, {"half": "member"}, port, labels={"istio.io/use-waypoint": "waypoint"}),
            service("echo-grpc", VIP_GRPC, {"app": "echo", "version": "v1"}, h2_port,
                    labels={"istio.io/use-waypoint": "waypoint"}, port_name="grpc"),
            GRPC_FAULT,
        ]
        config = lab.write("mesh.yaml", join_docs(docs))
        check = lab.run_weft("check", config)
        assert check.returncode == 0, check.stdout + check.stderr
        lab.start_node("node-b", config, ca, [v1_ip, v2_ip, dead_ip])
        lab.start_node("node-a", config, ca, [client_ip, intruder_ip])
        collector_ip = lab.ip(7)
        spans_file = lab.root / "otlp.txt"
        p = lab._spawn([sys.executable, str(HERE / "helpers" / "otlp_collector.py"), "--host", collector_ip, "--out",
                        str(spans_file)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        ready, _, _ = select.select([p.stdout], [], [], STARTUP_TIMEOUT)
        assert ready, "OTLP collector did not start"
        collector_port = int(p.stdout.readline().split()[1])
        log_path = lab.root / "waypoint.log"
        out = open(log_path, "wb")
        lab._files.append(out)
        lab._spawn([str(weft), "waypoint", "--config", str(config), "--ca-dir", str(ca.dir), "--workload",
                    "demo/waypoint", "--threads", "2", "--header-timeout", "2s",
                    "--metrics-address", f"{waypoint_ip}:15020", "--readiness-address", f"{waypoint_ip}:15021",
                    "--otlp-endpoint", f"http://{collector_ip}:{collector_port}", "--otlp-protocol", "http/json"], stdout=out, stderr=subprocess.STDOUT)
        log = LogFile(log_path)
        log.wait_for("listening", addr=f"[IPv4]{waypoint_ip}:15008", timeout=STARTUP_TIMEOUT)
        yield WaypointMesh(lab, client_ip, log, waypoint_ip, f"http://{v2_ip}:{port}", spans_file)
    finally:
        lab.close()


def test_path_and_header_routing_to_two_versions(mesh: WaypointMesh):
    c = mesh.connect()
    try:
        r = c.request("/v2/items")
        assert r.status == 200 and r.json()["server"] == "v2" and r.json()["path"] == "/v2/items", r
        for _ in range(5):
            r = c.request("/api/x", {"x-version": "v1"})
            assert r.status == 200 and r.json()["server"] == "v1", r
    finally:
        c.close()
    # The waypoint logged each request with its route and upstream.
    lines = mesh.waypoint_log.wait_for("request complete", count=6)
    assert any(l["route"] == "HTTPRoute demo/echo rule 0" and l["status"] == "200" for l in lines), [l.raw for l in lines]


def test_weighted_split_90_10_over_1000_requests(mesh: WaypointMesh):
    served = Counter()
    conns = [mesh.connect() for _ in range(4)]
    try:
        for i in range(1000):
            r = conns[i % 4].request("/api/split")
            assert r.status == 200, r
            served[r.json()["server"]] += 1
    finally:
        for c in conns:
            c.close()
    assert_share(served["v1"], 1000, 90, f"v1 {dict(served)}")


def test_header_modification_both_ways_and_request_id(mesh: WaypointMesh):
    c = mesh.connect()
    try:
        r = c.request("/api/h", {"x-remove-me": "1", "x-keep": "yes"})
    finally:
        c.close()
    seen = r.json()["headers"]
    assert seen["x-added"] == "by-route" and "x-remove-me" not in seen and seen["x-keep"] == "yes", seen
    assert len(seen["x-request-id"]) == 36, seen
    assert r.headers["x-route"] == "api", r.headers
    assert r.headers["x-envoy-upstream-service-time"].isdigit(), r.headers


def test_redirect_missing_backend_no_route_and_timeout(mesh: WaypointMesh):
    c = mesh.connect()
    try:
        r = c.request("/old")
        assert r.status == 301 and r.headers["location"].endswith("/new"), r
        r = c.request("/missing/x")
        assert r.status == 500, r
        r = c.request("/nothing-matches")
        assert r.status == 404, r
        # The route's 300 ms request timeout against a backend that takes 2 s.
        r = c.request("/sleep/2000")
        assert r.status == 504, r
        # Other routes are unaffected.
        r = c.request("/v2/after")
        assert r.status == 200 and r.json()["server"] == "v2", r
    except (socket.timeout, AssertionError):
        print(mesh.waypoint_log.text()[-3000:])
        raise
    finally:
        c.close()
    flags = {l["status"]: l["response_flags"] for l in mesh.waypoint_log.find("request complete")}
    assert flags.get("404") == "NR" and flags.get("504") == "UT", flags
    details = {l["status"]: l["response_code_details"] for l in mesh.waypoint_log.find("request complete")}
    assert details["404"] == "route_not_found" and details["504"] == "upstream_response_timeout", details
    assert details["200"] == "via_upstream" and details["301"] == "direct_response", details


def raw_exchange(mesh: WaypointMesh, data: bytes, wait: float = 5.0) -> tuple[bytes, bool]:
    """Sends raw bytes through the tunnel to the waypoint; returns what came back and whether the connection was
    closed (FIN or reset) within `wait` seconds."""
    s, code = socks_connect(mesh.client_ip, VIP, 80)
    assert code == 0
    s.settimeout(wait)
    out = b""
    closed = False
    try:
        s.sendall(data)
        while True:
            chunk = s.recv(65536)
            if not chunk:
                closed = True
                break
            out += chunk
    except (ConnectionResetError, BrokenPipeError):
        closed = True
    except socket.timeout:
        pass
    finally:
        s.close()
    return out, closed


def still_serving(mesh: WaypointMesh) -> None:
    c = mesh.connect()
    try:
        r = c.request("/v2/still-here")
        assert r.status == 200 and r.json()["server"] == "v2", r
    finally:
        c.close()


def test_oversized_header_is_refused_and_others_are_served(mesh: WaypointMesh):
    huge = b"GET /api/x HTTP/1.1\r\nhost: echo\r\nx-big: " + b"a" * (1 << 20) + b"\r\n\r\n"
    out, closed = raw_exchange(mesh, huge)
    # Refused: a 4xx (when the client reads it before the reset of its unread upload) and closed at once; never
    # forwarded.
    assert closed and (out == b"" or out.startswith(b"HTTP/1.1 4")), out[:200]
    still_serving(mesh)


def test_request_smuggling_with_conflicting_framing_is_refused(mesh: WaypointMesh):
    smuggle = (b"POST /api/x HTTP/1.1\r\nhost: echo\r\ncontent-length: 4\r\ntransfer-encoding: chunked\r\n\r\n"
               b"0\r\n\r\nGET /v2/smuggled HTTP/1.1\r\nhost: echo\r\n\r\n")
    out, closed = raw_exchange(mesh, smuggle)
    assert closed and out.startswith(b"HTTP/1.1 400"), out[:300]
    assert b"/v2/smuggled" not in out
    still_serving(mesh)


def test_slowloris_is_closed_and_others_are_served(mesh: WaypointMesh):
    s, code = socks_connect(mesh.client_ip, VIP, 80)
    assert code == 0
    s.settimeout(1)
    started = time.monotonic()
    closed_after = None
    try:
        s.sendall(b"GET /api/slow HTTP/1.1\r\nhost: echo\r\n")
        for i in range(40):
            still_serving(mesh) if i == 2 else None
            try:
                s.sendall(b"x-drip-%d: y\r\n" % i)
                if s.recv(1) == b"":
                    closed_after = time.monotonic() - started
                    break
            except socket.timeout:
                continue
            except (ConnectionResetError, BrokenPipeError):
                closed_after = time.monotonic() - started
                break
    finally:
        s.close()
    assert closed_after is not None and closed_after < 8, closed_after
    still_serving(mesh)


def test_keep_alive_idle_past_the_header_timeout_is_closed_and_a_busy_one_is_not(mesh: WaypointMesh):
    # --header-timeout 2s: the deadline is one timer per connection that re-checks when it fires, so a connection
    # sending a request every 0.5 s for 5 s (past two timeouts) must stay open, and once idle it must be closed.
    c = mesh.connect()
    try:
        started = time.monotonic()
        while time.monotonic() - started < 5:
            r = c.request("/v2/busy")
            assert r.status == 200, r
            time.sleep(0.5)
        idle_from = time.monotonic()
        c.sock.settimeout(10)
        try:
            closed = c.sock.recv(1) == b""
        except ConnectionResetError:
            closed = True
        idle = time.monotonic() - idle_from
        assert closed and 1.0 < idle < 6, (closed, idle)
    finally:
        c.close()


def test_retries_turn_a_backend_that_fails_twice_into_a_200(mesh: WaypointMesh):
    c = mesh.connect()
    try:
        r = c.request("/flaky/twice/2")
        assert r.status == 200 and r.json()["server"] == "v1", r
        # Failing more often than the 3 attempts allow: the backend's last 503 reaches the client (flag URX).
        r = c.request("/flaky/always/10")
        assert r.status == 503, r
    finally:
        c.close()
    done = {l["path"]: l for l in mesh.waypoint_log.wait_for("request complete", predicate=lambda l: l["path"].startswith("/flaky"), count=2)}
    assert done["/flaky/twice/2"]["retries"] == "2" and done["/flaky/twice/2"]["status"] == "200", done
    assert done["/flaky/always/10"]["retries"] == "3" and done["/flaky/always/10"]["response_flags"] == "URX", done


def scrape(ip: str) -> str:
    import urllib.request
    with urllib.request.urlopen(f"http://{ip}:15020/metrics", timeout=10) as r:
        return r.read().decode()


def metric(text: str, name: str, **labels: str) -> float:
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name + "{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_request_metrics_match_the_traffic(mesh: WaypointMesh):
    import urllib.request
    with urllib.request.urlopen(f"http://{mesh.waypoint_ip}:15021/healthz/ready", timeout=10) as r:
        assert r.read() == b"ready\n"
    ok = dict(reporter="waypoint", source_principal="spiffe://cluster.local/ns/demo/sa/client",
              source_workload="client", destination_service="echo-v2.demo.svc.cluster.local",
              destination_service_name="echo-v2", destination_workload="echo-v2", response_code="200",
              response_flags="-", request_protocol="http", connection_security_policy="mutual_tls")
    nr = dict(reporter="waypoint", response_code="404", response_flags="NR")
    before = scrape(mesh.waypoint_ip)
    c = mesh.connect()
    try:
        for _ in range(3):
            assert c.request("/v2/metrics").status == 200
        assert c.request("/no-route-here").status == 404
    finally:
        c.close()
    mesh.waypoint_log.wait_for("request complete", predicate=lambda l: l["path"] == "/no-route-here")
    after = scrape(mesh.waypoint_ip)
    assert metric(after, "istio_requests_total", **ok) - metric(before, "istio_requests_total", **ok) == 3, after[-3000:]
    assert metric(after, "istio_requests_total", **nr) - metric(before, "istio_requests_total", **nr) == 1
    assert metric(after, "istio_request_duration_milliseconds_count", **ok) - \
        metric(before, "istio_request_duration_milliseconds_count", **ok) == 3
    assert metric(after, "istio_response_bytes_sum", **ok) > metric(before, "istio_response_bytes_sum", **ok)


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
def test_http2_and_grpc_clients_work_through_the_waypoint(mesh: WaypointMesh):
    out = h2_client(mesh, f"{VIP_H2}:80", "/h2/path")
    assert out["error"] is None and out["status"] == 200, out
    body = json.loads(out["body"])
    assert body["protocol"] == "h2" and body["path"] == "/h2/path" and body["server"] == "h2-v1", body
    out = h2_client(mesh, f"{VIP_GRPC}:80", "/echo.Echo/Say", grpc="hello")
    assert out["error"] is None and out["status"] == 200, out
    assert out["body"] == "h2-v1:hello", out
    assert out["trailers"].get("grpc-status") == "0", out
    lines = mesh.waypoint_log.wait_for("request complete", predicate=lambda l: l["path"] == "/echo.Echo/Say")
    assert lines[0]["status"] == "200" and lines[0]["upstream_cluster"] == "outbound|80||echo-grpc.demo.svc.cluster.local", lines[0].raw


def test_grpc_fault_abort_answers_a_grpc_status(mesh: WaypointMesh):
    if not shutil.which("node"):
        pytest.skip("nodejs is not installed")
    out = h2_client(mesh, f"{VIP_GRPC}:80", "/echo.Echo/Broken", grpc="hello")
    assert out["error"] is None and out["status"] == 200, out
    status = out["headers"].get("grpc-status") or out["trailers"].get("grpc-status")
    assert status == "14" and out["headers"].get("content-type") == "application/grpc", out
    # Other methods of the Service still reach it.
    ok = h2_client(mesh, f"{VIP_GRPC}:80", "/echo.Echo/Say", grpc="hi")
    assert ok["body"] == "h2-v1:hi" and ok["trailers"].get("grpc-status") == "0", ok
    line = mesh.waypoint_log.wait_for("request complete", predicate=lambda l: l["path"] == "/echo.Echo/Broken")[0]
    assert line["response_flags"] == "FI", line.raw


def test_tcp_port_is_proxied_at_l4_through_the_waypoint(mesh: WaypointMesh):
    payload = b"tcp through the waypoint\n" * 2000
    assert echo_roundtrip(mesh.client_ip, (VIP_TCP, 80), payload) == payload
    line = mesh.waypoint_log.wait_for("tcp connection complete")[0]
    assert line["service"] == "demo/echo-tcp:80" and line.get("error") is None, line.raw
    assert line["src.identity"] == "spiffe://cluster.local/ns/demo/sa/client", line.raw


def test_request_mirror_sends_a_shadow_copy_and_answers_from_the_primary(mesh: WaypointMesh):
    import urllib.request
    c = mesh.connect()
    try:
        for i in range(5):
            r = c.request(f"/mirror/{i}")
            assert r.status == 200 and r.json()["server"] == "v1", r
    finally:
        c.close()
    deadline = time.time() + 10
    shadows = []
    while time.time() < deadline and len(shadows) < 5:
        with urllib.request.urlopen(mesh.v2_url + "/__seen", timeout=5) as resp:
            shadows = [s for s in json.loads(resp.read()) if s["path"].startswith("/mirror/")]
        time.sleep(0.1)
    assert sorted(s["path"] for s in shadows) == [f"/mirror/{i}" for i in range(5)], shadows
    assert all(s["host"] == "echo.demo.svc.cluster.local-shadow" for s in shadows), shadows


def test_l7_authorization_by_identity_method_and_path(mesh: WaypointMesh):
    intruder_ip = mesh.client_ip.rsplit(".", 1)[0] + ".6"

    def status(client_ip: str, path: str, method: str = "GET") -> Response:
        c = HTTPConnection(client_ip, VIP_SECURE)
        try:
            return c.request(path, method=method)
        finally:
            c.close()

    assert status(mesh.client_ip, "/public/page").status == 200
    denied = status(intruder_ip, "/public/page")  # another identity
    assert denied.status == 403 and denied.body == b"RBAC: access denied", denied
    assert status(mesh.client_ip, "/public/page", method="POST").status == 403  # method not allowed
    assert status(mesh.client_ip, "/private").status == 403  # path not allowed
    assert status(mesh.client_ip, "/public/admin-panel").status == 403  # DENY wins
    # Normalisation: these reach /private or /public/admin, whatever they look like.
    for sneaky in ("/public/../private", "/public/%2E%2E/private", "/public/./admin", "/public/%61dmin"):
        assert status(mesh.client_ip, sneaky).status == 403, sneaky
    lines = mesh.waypoint_log.wait_for("request complete", predicate=lambda l: l["status"] == "403", count=8)
    assert any("secure-deny-admin" in l["rbac"] for l in lines), [l.raw for l in lines]
    assert any(l["response_code_details"].startswith("rbac_access_denied_matched_policy[") for l in lines), [l.raw for l in lines]
    assert any(l["src.identity"].endswith("/sa/intruder") for l in lines)


def test_url_rewrite_replaces_the_matched_prefix(mesh: WaypointMesh):
    c = mesh.connect()
    try:
        r = c.request("/legacy/items?id=7")
    finally:
        c.close()
    assert r.status == 200 and r.json()["server"] == "v2", r
    assert r.json()["path"] == "/v2/modern/items?id=7", r.json()
    line = mesh.waypoint_log.wait_for("request complete", predicate=lambda l: l["path"] == "/legacy/items?id=7")[0]
    assert line["original_path"] == "/legacy/items?id=7", line.raw


def test_check_rejects_a_malformed_regex_with_file_and_line(mesh: WaypointMesh):
    bad = mesh.lab.write("bad-route.yaml", """apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: broken, namespace: demo}
spec:
  parentRefs: [{group: "", kind: Service, name: echo, port: 80}]
  rules:
  - matches: [{path: {type: RegularExpression, value: "/api/(v1"}}]
    backendRefs: [{name: echo-v1, port: 80}]
""")
    r = mesh.lab.run_weft("check", bad)
    assert r.returncode == 1, r.stdout + r.stderr
    out = r.stdout + r.stderr
    assert f"{bad}:7:" in out and "HTTPRoute/demo/broken" in out and "regular expression" in out, out


def test_trace_context_continues_through_the_waypoint_and_spans_are_exported(mesh: WaypointMesh):
    import base64
    trace_id, parent = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
    c = mesh.connect()
    try:
        r = c.request("/v2/traced", {"traceparent": f"00-{trace_id}-{parent}-01", "tracestate": "vendor=x"})
    finally:
        c.close()
    assert r.status == 200, r
    seen = r.json()["headers"]["traceparent"].split("-")
    # Same trace, and the backend's parent is the waypoint's span, not the caller's.
    assert seen[1] == trace_id and seen[2] != parent and seen[3] == "01", seen
    deadline = time.time() + 15
    exported = ""
    while time.time() < deadline:
        text = mesh.spans_file.read_text() if mesh.spans_file.exists() else ""
        exported = "\n".join(base64.b64decode(line.split()[-1]).decode(errors="replace") for line in text.splitlines())
        if seen[2] in exported or base64.b64encode(bytes.fromhex(seen[2])).decode() in exported:
            break
        time.sleep(0.2)
    spans = json.loads(exported.splitlines()[-1]) if exported else {}
    found = [s for rs in spans.get("resourceSpans", []) for ss in rs.get("scopeSpans", []) for s in ss.get("spans", [])]
    def b64(hex_id: str) -> str:  # swift-otel's OTLP/JSON carries ids as protobuf JSON bytes (base64)
        return base64.b64encode(bytes.fromhex(hex_id)).decode()

    mine = [s for s in found if s.get("name") == "echo-v2.demo.svc.cluster.local:80/*" and s["traceId"] == b64(trace_id)]
    assert mine, exported[:2000]
    assert mine[0]["parentSpanId"] == b64(parent) and mine[0]["spanId"] == b64(seen[2]), mine[0]


def test_b3_caller_is_continued_and_gets_b3_headers_upstream(mesh: WaypointMesh):
    trace_id, parent = "463ac35c9f6413ad48485a3953bb6124", "a2fb4a1d1a96d312"
    c = mesh.connect()
    try:
        multi = c.request("/v2/b3", {"x-b3-traceid": trace_id, "x-b3-spanid": parent, "x-b3-sampled": "1"})
        single = c.request("/v2/b3", {"b3": f"{trace_id[16:]}-{parent}-1"})
    finally:
        c.close()
    h = multi.json()["headers"]
    # The waypoint's span continues the B3 trace: same trace, the caller's span becomes the parent.
    assert h["x-b3-traceid"] == trace_id and h["x-b3-parentspanid"] == parent, h
    assert h["x-b3-spanid"] != parent and h["x-b3-sampled"] == "1", h
    assert h["traceparent"].split("-")[1] == trace_id and h["traceparent"].split("-")[2] == h["x-b3-spanid"], h
    b3 = single.json()["headers"]["b3"].split("-")
    assert b3[0] == trace_id[16:] and b3[1] != parent and b3[2] == "1" and b3[3] == parent, b3


def test_backend_request_timeout_retries_a_slow_attempt(mesh: WaypointMesh):
    c = mesh.connect()
    try:
        started = time.monotonic()
        r = c.request("/slowonce/a/2000")  # the first attempt hangs 2 s; the retry answers at once
        elapsed = time.monotonic() - started
    finally:
        c.close()
    assert r.status == 200 and elapsed < 1.5, (r, elapsed)
    line = mesh.waypoint_log.wait_for("request complete", predicate=lambda l: l["path"] == "/slowonce/a/2000")[0]
    assert line["retries"] == "1", line.raw


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
def test_http2_prior_knowledge_on_an_http_port_is_detected(mesh: WaypointMesh):
    out = h2_client(mesh, f"{VIP}:80", "/v2/from-h2")
    assert out["error"] is None and out["status"] == 200, out
    body = json.loads(out["body"])
    assert body["server"] == "v2" and body["path"] == "/v2/from-h2", body  # routed by the HTTPRoute, sent as HTTP/1.1


def test_connection_close_is_honoured(mesh: WaypointMesh):
    s, code = socks_connect(mesh.client_ip, VIP, 80)
    assert code == 0
    s.settimeout(10)
    s.sendall(b"GET /v2/bye HTTP/1.1\r\nhost: echo\r\nconnection: close\r\n\r\n")
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break  # closed by the waypoint after the response
        data += chunk
    s.close()
    assert data.startswith(b"HTTP/1.1 200") and b"connection: close" in data.lower(), data[:300]


def test_upstream_streams_are_reused_for_keep_alive_requests(mesh: WaypointMesh):
    node_b = mesh.client_ip.rsplit(".", 1)[0] + ".2"  # node-b's endpoints are on its first address
    labels = dict(reporter="destination", source_principal="spiffe://cluster.local/ns/demo/sa/waypoint",
                  destination_workload="echo-v2")
    before = metric(scrape(node_b), "istio_tcp_connections_opened_total", **labels)
    c = mesh.connect()
    try:
        for i in range(20):
            assert c.request(f"/v2/reuse/{i}").status == 200
    finally:
        c.close()
    opened = metric(scrape(node_b), "istio_tcp_connections_opened_total", **labels) - before
    # 20 requests, one client connection: the waypoint kept its upstream stream (Envoy's connection pool).
    assert opened <= 2, opened  # (0 when an idle stream from an earlier test was reused)


def test_an_endpoint_that_refuses_is_skipped(mesh: WaypointMesh):
    # Service `half` has two endpoints; one refuses every connection. No request fails: the waypoint tries the
    # other endpoint at once and then avoids the refusing one for a while.
    served = Counter()
    c = HTTPConnection(mesh.client_ip, VIP_HALF)
    try:
        for _ in range(20):
            r = c.request("/lb")
            assert r.status == 200, r
            served[r.json()["server"]] += 1
    finally:
        c.close()
    assert served == Counter({"v1": 20}), served
