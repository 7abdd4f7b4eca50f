"""Waypoint traffic policy end to end on loopback (net 127.0.19.x): VirtualService routing and faults,
DestinationRule subsets, load balancing, circuit breaking and outlier detection, local rate limits, and
configuration edits at run time.

client → node-a (SOCKS; the Services use a waypoint) → HBONE → `weft waypoint` → HBONE → node-b → HTTP servers.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from waypointlab import HTTPConnection, Response, assert_share, service, start_http
from weftlab import STARTUP_TIMEOUT, Lab, LogFile, join_docs, namespace_doc, pick_free_port, pod_doc

NS = "shop"
VIP_REVIEWS, VIP_SHADOW, VIP_OUTLIER, VIP_HASH = "10.96.19.10", "10.96.19.11", "10.96.19.12", "10.96.19.13"
VIP_CB, VIP_LIMITED, VIP_FAULTY, VIP_STICKY = "10.96.19.14", "10.96.19.15", "10.96.19.16", "10.96.19.17"
VIP_CBT, VIP_AVOID = "10.96.19.18", "10.96.19.19"

GATEWAY = f"""apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {{name: waypoint, namespace: {NS}}}
spec:
  gatewayClassName: istio-waypoint
  listeners: [{{name: mesh, port: 15008, protocol: HBONE}}]
"""


def reviews_vs(v1: int, v2: int) -> str:
    return f"""apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {{name: reviews, namespace: {NS}}}
spec:
  hosts: [reviews]
  http:
  - name: flaky
    match: [{{uri: {{prefix: /flaky}}}}]
    retries: {{attempts: 3, retryOn: 5xx, backoff: 5ms}}
    route: [{{destination: {{host: reviews, subset: v1}}}}]
  - name: mirrored
    match: [{{uri: {{prefix: /mirror}}}}]
    mirror: {{host: shadow}}
    mirrorPercentage: {{value: 30}}
    route: [{{destination: {{host: reviews, subset: v1}}}}]
  - name: canary
    route:
    - {{destination: {{host: reviews, subset: v1}}, weight: {v1}}}
    - {{destination: {{host: reviews, subset: v2}}, weight: {v2}}}
"""


def one_connection_pool(host: str) -> str:
    """A DestinationRule allowing one upstream connection and one waiting request."""
    return f"""apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {{name: {host}, namespace: {NS}}}
spec:
  host: {host}
  trafficPolicy:
    connectionPool:
      tcp: {{maxConnections: 1}}
      http: {{http1MaxPendingRequests: 1}}
"""


STATIC = f"""apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {{name: reviews, namespace: {NS}}}
spec:
  host: reviews
  subsets:
  - {{name: v1, labels: {{version: v1}}}}
  - {{name: v2, labels: {{version: v2}}}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {{name: outlier, namespace: {NS}}}
spec:
  host: outlier.{NS}.svc.cluster.local
  trafficPolicy:
    loadBalancer: {{simple: ROUND_ROBIN}}
    outlierDetection: {{consecutive5xxErrors: 3, interval: 1s, baseEjectionTime: 3s, maxEjectionPercent: 100}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {{name: hash, namespace: {NS}}}
spec:
  host: hash
  trafficPolicy:
    loadBalancer: {{consistentHash: {{httpHeaderName: x-user}}}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {{name: sticky, namespace: {NS}}}
spec:
  host: sticky
  trafficPolicy:
    loadBalancer: {{consistentHash: {{httpCookie: {{name: sticky, path: /, ttl: 60s}}, maglev: {{tableSize: 65537}}}}}}
---
{one_connection_pool("cb")}---
{one_connection_pool("cbt")}---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {{name: cbt, namespace: {NS}}}
spec:
  hosts: [cbt]
  http:
  - match: [{{headers: {{x-mode: {{exact: quick}}}}}}]
    timeout: 300ms
    route: [{{destination: {{host: cbt}}}}]
  - route: [{{destination: {{host: cbt}}}}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {{name: avoid, namespace: {NS}}}
spec:
  host: avoid
  trafficPolicy:
    loadBalancer: {{simple: RANDOM}}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {{name: avoid, namespace: {NS}}}
spec:
  hosts: [avoid]
  http:
  - retries: {{attempts: 1, retryOn: 5xx, backoff: 1ms}}
    route: [{{destination: {{host: avoid}}}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {{name: faulty, namespace: {NS}}}
spec:
  hosts: [faulty]
  http:
  - match: [{{uri: {{prefix: /abort}}}}]
    fault: {{abort: {{httpStatus: 418, percentage: {{value: 10}}}}}}
    route: [{{destination: {{host: faulty}}}}]
  - match: [{{uri: {{prefix: /delay}}}}]
    fault: {{delay: {{fixedDelay: 5s, percentage: {{value: 10}}}}}}
    route: [{{destination: {{host: faulty}}}}]
  - route: [{{destination: {{host: faulty}}}}]
---
apiVersion: weft.dev/v1alpha1
kind: LocalRateLimitPolicy
metadata: {{name: limited-10rps, namespace: {NS}}}
spec:
  targetRefs: [{{group: "", kind: Service, name: limited}}]
  limit: {{requests: 10, unit: Second}}
"""


REJECTED = "configuration rejected; the last good configuration stays in force"


@dataclass
class PolicyMesh:
    lab: Lab
    client_ip: str
    waypoint_ip: str
    waypoint_log: LogFile
    config: Path
    base_docs: list[str]
    servers: dict[str, str]  # name → "ip:port"

    def connect(self, vip: str, host: str) -> HTTPConnection:
        return HTTPConnection(self.client_ip, vip, host_header=f"{host}.{NS}.svc.cluster.local")

    def get(self, vip: str, host: str, path: str, headers: dict[str, str] | None = None) -> Response:
        c = self.connect(vip, host)
        try:
            return c.request(path, headers)
        finally:
            c.close()

    def apply(self, *docs: str, expect_reload: bool = True) -> int:
        """Rewrites the live configuration; waits until the waypoint has taken (or refused) it."""
        mark = self.waypoint_log.mark()
        self.config.write_text(join_docs(self.base_docs + list(docs)))
        message = "configuration reloaded" if expect_reload else REJECTED
        self.waypoint_log.wait_for(message, since=mark, timeout=15)
        return mark

    def seen(self, name: str) -> list[dict]:
        with urllib.request.urlopen(f"http://{self.servers[name]}/__seen", timeout=5) as r:
            return json.loads(r.read())


@pytest.fixture(scope="module")
def mesh(tmp_path_factory, weft) -> PolicyMesh:
    lab = Lab(tmp_path_factory.mktemp("traffic"), weft, "127.0.19")
    try:
        ca = lab.init_ca()
        client_ip, waypoint_ip = lab.ip(1), lab.ip(5)
        names = {"v1": 2, "v2": 3, "bad": 4, "shadow": 6, "h1": 7, "h2": 8, "h3": 9, "ok": 10}
        ips = {name: lab.ip(n) for name, n in names.items()}
        port = pick_free_port(ips.values())
        for name, ip in ips.items():
            start_http(lab, ip, port, name, *(["--status", "503"] if name == "bad" else []))
        waypoint = {"istio.io/use-waypoint": "waypoint"}
        base = [
            namespace_doc(NS),
            pod_doc("client", client_ip, "node-a", "client", ns=NS, labels={"app": "client"}),
            pod_doc("reviews-v1", ips["v1"], "node-b", "reviews", ns=NS, labels={"app": "reviews", "version": "v1", "cb": "pool"}),
            pod_doc("reviews-v2", ips["v2"], "node-b", "reviews", ns=NS, labels={"app": "reviews", "version": "v2"}),
            pod_doc("shadow", ips["shadow"], "node-b", "shadow", ns=NS, labels={"app": "shadow"}),
            pod_doc("bad", ips["bad"], "node-b", "outlier", ns=NS, labels={"app": "outlier"}),
            pod_doc("ok", ips["ok"], "node-b", "outlier", ns=NS, labels={"app": "outlier"}),
            *(pod_doc(h, ips[h], "node-b", "hash", ns=NS, labels={"app": "hash"}) for h in ("h1", "h2", "h3")),
            pod_doc("waypoint", waypoint_ip, "waypoints", "waypoint", ns=NS,
                    labels={"gateway.networking.k8s.io/gateway-name": "waypoint"}),
            GATEWAY,
            service("reviews", VIP_REVIEWS, {"app": "reviews"}, port, waypoint, namespace=NS),
            service("shadow", VIP_SHADOW, {"app": "shadow"}, port, namespace=NS),
            service("outlier", VIP_OUTLIER, {"app": "outlier"}, port, waypoint, namespace=NS),
            service("hash", VIP_HASH, {"app": "hash"}, port, waypoint, namespace=NS),
            service("sticky", VIP_STICKY, {"app": "hash"}, port, waypoint, namespace=NS),
            service("cb", VIP_CB, {"cb": "pool"}, port, waypoint, namespace=NS),
            service("limited", VIP_LIMITED, {"cb": "pool"}, port, waypoint, namespace=NS),
            service("faulty", VIP_FAULTY, {"cb": "pool"}, port, waypoint, namespace=NS),
            service("cbt", VIP_CBT, {"cb": "pool"}, port, waypoint, namespace=NS),
            service("avoid", VIP_AVOID, {"app": "outlier"}, port, waypoint, namespace=NS),
            STATIC,
        ]
        config = lab.write("mesh.yaml", join_docs(base + [reviews_vs(90, 10)]))
        check = lab.run_weft("check", config)
        assert check.returncode == 0, check.stdout + check.stderr
        lab.start_node("node-b", config, ca, list(ips.values()))
        lab.start_node("node-a", config, ca, [client_ip])
        log_path = lab.root / "waypoint.log"
        out = open(log_path, "wb")
        lab._files.append(out)
        lab._spawn([str(weft), "waypoint", "--config", str(config), "--ca-dir", str(ca.dir), "--workload",
                    f"{NS}/waypoint", "--threads", "2", "--metrics-address", f"{waypoint_ip}:15020",
                    "--readiness-address", f"{waypoint_ip}:15021"], stdout=out, stderr=subprocess.STDOUT)
        log = LogFile(log_path)
        log.wait_for("listening", addr=f"[IPv4]{waypoint_ip}:15008", timeout=STARTUP_TIMEOUT)
        yield PolicyMesh(lab, client_ip, waypoint_ip, log, config, base,
                         {name: f"{ip}:{port}" for name, ip in ips.items()})
    finally:
        lab.close()


def servers_for(mesh: PolicyMesh, vip: str, host: str, path: str, n: int,
                headers: dict[str, str] | None = None) -> Counter:
    c = mesh.connect(vip, host)
    got: Counter = Counter()
    try:
        for _ in range(n):
            r = c.request(path, headers)
            assert r.status == 200, (r.status, r.body)
            got[r.headers["x-served-by"]] += 1
    finally:
        c.close()
    return got


def test_canary_split_follows_virtual_service_edits_without_a_failed_request(mesh: PolicyMesh):
    failures: list[str] = []
    stop = threading.Event()

    def background() -> None:
        # A second client keeps sending through every edit: no request may fail.
        while not stop.is_set():
            c = mesh.connect(VIP_REVIEWS, "reviews")
            try:
                for _ in range(20):
                    r = c.request("/canary")
                    if r.status != 200:
                        failures.append(f"{r.status} {r.body!r}")
            except Exception as e:  # noqa: BLE001 — any failure is the finding
                failures.append(repr(e))
            finally:
                c.close()

    t = threading.Thread(target=background, daemon=True)
    t.start()
    try:
        got = servers_for(mesh, VIP_REVIEWS, "reviews", "/canary", 400)
        assert_share(got["v2"], 400, 10, f"v2 at 90/10 {dict(got)}")
        mesh.apply(reviews_vs(50, 50))
        got = servers_for(mesh, VIP_REVIEWS, "reviews", "/canary", 400)
        assert_share(got["v2"], 400, 50, f"v2 at 50/50 {dict(got)}")
        mesh.apply(reviews_vs(0, 100))
        got = servers_for(mesh, VIP_REVIEWS, "reviews", "/canary", 100)
        assert got == Counter({"v2": 100}), got
    finally:
        stop.set()
        t.join(timeout=30)
        mesh.apply(reviews_vs(90, 10))
    assert not failures, failures[:5]


def test_fault_abort_on_ten_percent(mesh: PolicyMesh):
    c = mesh.connect(VIP_FAULTY, "faulty")
    statuses: Counter = Counter()
    mark = mesh.waypoint_log.mark()
    try:
        for _ in range(1000):
            r = c.request("/abort")
            statuses[r.status] += 1
            if r.status == 418:
                assert r.body == b"fault filter abort", r.body
    finally:
        c.close()
    assert set(statuses) <= {200, 418}, statuses
    assert_share(statuses[418], 1000, 10, f"aborted {dict(statuses)}")
    aborted = mesh.waypoint_log.wait_for("request complete", since=mark, count=statuses[418],
                                         predicate=lambda l: l["status"] == "418")
    assert all(l["response_flags"] == "FI" for l in aborted), aborted[0].raw
    metrics = scrape(mesh.waypoint_ip)
    assert 'response_flags="FI"' in metrics and 'response_code="418"' in metrics


def test_fault_delay_of_5s_on_ten_percent(mesh: PolicyMesh):
    def one(_: int) -> float:
        start = time.monotonic()
        r = mesh.get(VIP_FAULTY, "faulty", "/delay")
        assert r.status == 200, r
        return time.monotonic() - start

    with ThreadPoolExecutor(max_workers=60) as pool:
        durations = list(pool.map(one, range(300)))
    delayed = [d for d in durations if d >= 4.9]
    assert all(d < 8 for d in delayed), max(durations)
    assert_share(len(delayed), 300, 10, "delayed")
    assert all(d < 2 for d in durations if d < 4.9), sorted(durations)[-40:]
    lines = mesh.waypoint_log.records()
    assert any(l.message == "request complete" and l["response_flags"] == "DI" for l in lines)


def test_circuit_breaker_turns_surplus_concurrent_requests_into_503_overloaded(mesh: PolicyMesh):
    # maxConnections 1 + http1MaxPendingRequests 1: one request in flight, one waiting, the rest overflow.
    def one(i: int) -> Response:
        time.sleep(0.02 * i)  # all start while the first is still in flight (1.5 s)
        return mesh.get(VIP_CB, "cb", "/sleep/1500")

    mark = mesh.waypoint_log.mark()
    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(one, range(6)))
    ok = [r for r in results if r.status == 200]
    overflow = [r for r in results if r.status == 503]
    assert len(ok) == 2 and len(overflow) == 4, [(r.status, r.body) for r in results]
    assert all(r.headers.get("x-envoy-overloaded") == "true" for r in overflow), [r.headers for r in overflow]
    lines = mesh.waypoint_log.wait_for("request complete", since=mark, count=6)
    assert sorted(l["response_flags"] for l in lines) == ["-", "-", "UO", "UO", "UO", "UO"], [l.raw for l in lines]
    # The breaker closes again: sequential requests are served.
    for _ in range(3):
        assert mesh.get(VIP_CB, "cb", "/x").status == 200
    cluster = 'cluster="outbound|80||cb.shop.svc.cluster.local"'
    metrics = scrape(mesh.waypoint_ip)
    assert f'weft_waypoint_cluster_overflow_total{{{cluster},limit="pending"}} 4' in metrics, metrics[-3000:]
    assert f"weft_waypoint_cluster_requests_pending{{{cluster}}} 0" in metrics


def test_a_request_that_times_out_in_the_pending_queue_gives_its_place_back(mesh: PolicyMesh):
    # One connection, one pending place. A holds the connection for 2 s; B waits in the queue and times out
    # (300 ms route timeout); C, sent after, must get the freed pending place (and time out the same way), not an
    # overflow.
    with ThreadPoolExecutor(max_workers=1) as pool:
        a = pool.submit(mesh.get, VIP_CBT, "cbt", "/sleep/2000")
        time.sleep(0.3)
        b = mesh.get(VIP_CBT, "cbt", "/x", {"x-mode": "quick"})
        c = mesh.get(VIP_CBT, "cbt", "/x", {"x-mode": "quick"})
        assert a.result().status == 200
    assert b.status == 504 and c.status == 504, (b.status, b.body, c.status, c.body)
    assert "x-envoy-overloaded" not in c.headers, c.headers
    metrics = scrape(mesh.waypoint_ip)
    cluster = 'cluster="outbound|80||cbt.shop.svc.cluster.local"'
    assert f"weft_waypoint_cluster_requests_pending{{{cluster}}} 0" in metrics, metrics[-2000:]


def test_a_retry_goes_to_another_endpoint(mesh: PolicyMesh):
    # Two endpoints, one always 503, random balancing, one retry on 5xx: a retry that could land on the same broken
    # endpoint would fail a quarter of the requests; Istio's default previous-hosts rule sends it to the other.
    c = mesh.connect(VIP_AVOID, "avoid")
    try:
        statuses = Counter(c.request("/x").status for _ in range(40))
    finally:
        c.close()
    assert statuses == Counter({200: 40}), statuses


def test_outlier_detection_ejects_an_endpoint_that_always_fails_and_brings_it_back(mesh: PolicyMesh):
    c = mesh.connect(VIP_OUTLIER, "outlier")
    try:
        statuses = [c.request("/x").status for _ in range(16)]
        # Round robin: the broken endpoint answers 503 three times in a row (its own count), then is ejected.
        assert statuses.count(503) == 3, statuses
        assert all(s == 200 for s in statuses[8:]), statuses
        cluster = 'cluster="outbound|80||outlier.shop.svc.cluster.local"'
        assert f"weft_waypoint_cluster_ejected_endpoints{{{cluster}}} 1" in scrape(mesh.waypoint_ip)
        ejected = mesh.waypoint_log.find("endpoint ejected by outlier detection")
        assert ejected and ejected[-1]["endpoint"] == mesh.servers["bad"] and ejected[-1]["seconds"] == "3", ejected
        time.sleep(3.3)  # baseEjectionTime 3s × 1 ejection
        back = [c.request("/x").status for _ in range(6)]
        assert 503 in back, back
    finally:
        c.close()


def test_consistent_hash_keeps_each_user_on_one_endpoint(mesh: PolicyMesh):
    chosen = {}
    for user in [f"user-{i}" for i in range(12)]:
        got = servers_for(mesh, VIP_HASH, "hash", "/x", 15, {"x-user": user})
        assert len(got) == 1, (user, got)
        chosen[user] = next(iter(got))
    assert len(set(chosen.values())) >= 2, chosen
    # Asked again later (other connections), every user lands where it did.
    for user, server in chosen.items():
        assert mesh.get(VIP_HASH, "hash", "/x", {"x-user": user}).headers["x-served-by"] == server


def test_cookie_affinity_generates_a_cookie_and_keeps_to_it(mesh: PolicyMesh):
    first = mesh.get(VIP_STICKY, "sticky", "/x")
    cookie = first.headers.get("set-cookie", "")
    assert cookie.startswith("sticky=") and "Max-Age=60" in cookie and "Path=/" in cookie, first.headers
    value = cookie.split(";")[0]
    got = servers_for(mesh, VIP_STICKY, "sticky", "/x", 20, {"cookie": f"other=1; {value}"})
    assert got == Counter({first.headers["x-served-by"]: 20}), got


def test_mirror_percentage_sends_about_the_share_to_the_shadow(mesh: PolicyMesh):
    before = len(mesh.seen("shadow"))
    got = servers_for(mesh, VIP_REVIEWS, "reviews", "/mirror", 300)
    assert got == Counter({"v1": 300}), got
    time.sleep(1.0)
    seen = [s for s in mesh.seen("shadow")[before:] if s["path"] == "/mirror"]
    assert_share(len(seen), 300, 30, "mirrored")
    assert all(s["host"].startswith("reviews.shop.svc.cluster.local-shadow") for s in seen), seen[:3]


def test_retries_recover_a_flaky_backend_and_give_up_with_urx(mesh: PolicyMesh):
    mark = mesh.waypoint_log.mark()
    r = mesh.get(VIP_REVIEWS, "reviews", "/flaky/vs-once/2")
    assert r.status == 200, r
    r = mesh.get(VIP_REVIEWS, "reviews", "/flaky/vs-never/10")
    assert r.status == 503, r
    lines = mesh.waypoint_log.wait_for("request complete", since=mark, count=2)
    assert lines[0]["retries"] == "2" and lines[0]["response_flags"] == "-", lines[0].raw
    assert lines[1]["retries"] == "3" and lines[1]["response_flags"] == "URX", lines[1].raw


def test_local_rate_limit_answers_429_past_the_limit(mesh: PolicyMesh):
    time.sleep(1.1)  # a full bucket
    c = mesh.connect(VIP_LIMITED, "limited")
    results = []
    try:
        start = time.monotonic()
        for _ in range(30):
            results.append(c.request("/x"))
        elapsed = time.monotonic() - start
    finally:
        c.close()
    ok = [r for r in results if r.status == 200]
    limited = [r for r in results if r.status == 429]
    # A full bucket of 10, plus what it refills (10/s) while the 30 requests are sent.
    assert 10 <= len(ok) <= 10 + int(elapsed * 10) + 1, ([r.status for r in results], elapsed)
    assert len(ok) + len(limited) == 30 and limited, [r.status for r in results]
    r = limited[0]
    assert r.body == b"local_rate_limited" and r.headers.get("x-local-rate-limit") == "true", (r.headers, r.body)
    assert r.headers.get("x-ratelimit-limit") == "10" and r.headers.get("x-ratelimit-remaining") == "0", r.headers
    time.sleep(1.1)
    assert mesh.get(VIP_LIMITED, "limited", "/x").status == 200
    lines = mesh.waypoint_log.records()
    assert any(l.message == "request complete" and l["response_flags"] == "RL" for l in lines)


BAD_INPUTS = {
    "weights": (reviews_vs(60, 30), "weight"),
    "duration": (reviews_vs(90, 10).replace("backoff: 5ms", "backoff: -5ms"), "backoff"),
    "retry_on": (reviews_vs(90, 10).replace("retryOn: 5xx", 'retryOn: "5xx,sometimes"'), "retryOn"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_virtual_service_is_rejected_at_load_and_the_last_good_config_kept(mesh: PolicyMesh, case: str):
    doc, field = BAD_INPUTS[case]
    bad = mesh.lab.write(f"bad-{case}.yaml", join_docs(mesh.base_docs + [doc]))
    check = mesh.lab.run_weft("check", bad)
    assert check.returncode != 0, check.stdout
    out = check.stdout + check.stderr
    assert f"bad-{case}.yaml:" in out and field in out and "VirtualService/shop/reviews" in out, out
    mark = mesh.apply(doc, expect_reload=False)
    rejected = mesh.waypoint_log.find(REJECTED, since=mark)
    assert rejected, mesh.waypoint_log.text(mark)
    # Still routed by the last good configuration (90/10), no failure.
    got = servers_for(mesh, VIP_REVIEWS, "reviews", "/canary", 50)
    assert got["v1"] >= 35, got
    mesh.apply(reviews_vs(90, 10))


def test_undefined_subset_is_a_check_error_and_answers_503_nr(mesh: PolicyMesh):
    # A rule before the catch-all canary rule routes to a subset no DestinationRule defines.
    doc = reviews_vs(90, 10).replace(
        "  - name: canary",
        "  - name: nowhere\n    match: [{uri: {prefix: /nowhere}}]\n"
        "    route: [{destination: {host: reviews, subset: v9}}]\n  - name: canary", 1)
    bad = mesh.lab.write("subset.yaml", join_docs(mesh.base_docs + [doc]))
    check = mesh.lab.run_weft("check", bad)
    assert check.returncode != 0 and "subset v9" in check.stdout + check.stderr, check.stdout + check.stderr
    mark = mesh.apply(doc)
    try:
        r = mesh.get(VIP_REVIEWS, "reviews", "/nowhere")
        assert r.status == 503 and b"subset v9" in r.body, r
        line = mesh.waypoint_log.wait_for("request complete", since=mark, predicate=lambda l: l["path"] == "/nowhere")[0]
        assert line["response_flags"] == "NR", line.raw
        assert mesh.get(VIP_REVIEWS, "reviews", "/canary").status == 200
    finally:
        mesh.apply(reviews_vs(90, 10))


def scrape(ip: str) -> str:
    with urllib.request.urlopen(f"http://{ip}:15020/metrics", timeout=5) as r:
        return r.read().decode()
