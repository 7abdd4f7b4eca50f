"""Metrics (:15020), access logs, admin (:15000) and readiness (:15021) of `weft node` (loopback net 127.0.17.x).

Each node's endpoints are on its first workload address (see ``Lab.start_node``): node-a on 127.0.17.1, node-b on
127.0.17.2. Known traffic is sent, then the Prometheus text is parsed and compared label by label.
"""

from __future__ import annotations

import json
import re
import signal
import socket
import time
import urllib.error
import urllib.request

from weftlab import (
    ADMIN_PORT,
    METRICS_PORT,
    READINESS_PORT,
    Lab,
    Mesh,
    echo_roundtrip,
    join_docs,
    namespace_doc,
    pod_doc,
    service_doc,
    socks_connect,
    start_mesh,
)

CLIENT = "spiffe://cluster.local/ns/demo/sa/client"
ECHO = "spiffe://cluster.local/ns/demo/sa/echo"
_SAMPLE = re.compile(r'^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$')
_LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def http(ip: str, port: int, path: str, method: str = "GET") -> tuple[int, str]:
    req = urllib.request.Request(f"http://{ip}:{port}{path}", method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def scrape(ip: str) -> list[tuple[str, dict[str, str], float]]:
    status, text = http(ip, METRICS_PORT, "/metrics")
    assert status == 200, text
    samples = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = _SAMPLE.match(line)
        assert m, f"not Prometheus text: {line!r}"
        samples.append((m.group(1), dict(_LABEL.findall(m.group(2) or "")), float(m.group(3))))
    return samples


def value(samples, name: str, **labels: str) -> float:
    """The sum of the samples of `name` whose labels include `labels` (0 if none)."""
    return sum(v for n, l, v in samples if n == name and all(l.get(k) == want for k, want in labels.items()))


def series(samples, name: str, **labels: str) -> list[dict[str, str]]:
    return [l for n, l, _ in samples if n == name and all(l.get(k) == want for k, want in labels.items())]


def wait_closed(mesh: Mesh, count: int, since_a: int = 0, since_b: int = 0) -> None:
    mesh.node_a.log.wait_for("connection complete", since=since_a, count=count, direction="outbound")
    mesh.node_b.log.wait_for("connection complete", since=since_b, count=count, direction="inbound")


def test_tcp_metrics_match_known_traffic_with_istio_labels(lab: Lab):
    mesh = start_mesh(lab)
    sizes = [1000, 2500, 40000]
    for n in sizes:
        payload = b"x" * n
        assert echo_roundtrip(mesh.client_ip, mesh.echo.addr, payload) == payload
    # Once more through the Service VIP: destination_service is known then.
    assert echo_roundtrip(mesh.client_ip, (mesh.vip, mesh.vip_port), b"y" * 700) == b"y" * 700
    wait_closed(mesh, 4)

    common = dict(
        source_workload="client", source_workload_namespace="demo", source_principal=CLIENT, source_app="client",
        source_canonical_service="client", source_version="latest", destination_workload="echo-1",
        destination_workload_namespace="demo", destination_principal=ECHO, destination_app="echo",
        destination_canonical_service="echo", request_protocol="tcp", response_flags="-",
        connection_security_policy="mutual_tls", source_cluster="Kubernetes",
    )
    for ip, reporter in ((mesh.client_ip, "source"), (mesh.echo.ip, "destination")):
        s = scrape(ip)
        by_ip = dict(common, reporter=reporter, destination_service="unknown")
        assert value(s, "istio_tcp_connections_opened_total", **by_ip) == 3, [
            {k: (l.get(k), w) for k, w in by_ip.items() if l.get(k) != w} for l in series(s, "istio_tcp_connections_opened_total")]
        assert value(s, "istio_tcp_connections_closed_total", **by_ip) == 3
        assert value(s, "istio_tcp_received_bytes_total", **by_ip) == sum(sizes)
        assert value(s, "istio_tcp_sent_bytes_total", **by_ip) == sum(sizes)
        by_vip = dict(common, reporter=reporter, destination_service="echo.demo.svc.cluster.local",
                      destination_service_name="echo", destination_service_namespace="demo")
        assert value(s, "istio_tcp_connections_closed_total", **by_vip) == 1, series(s, "istio_tcp_connections_closed_total")
        assert value(s, "istio_tcp_received_bytes_total", **by_vip) == 700
        # Every series carries exactly Istio's label set.
        labels = set(series(s, "istio_tcp_connections_opened_total")[0])
        assert "destination_port" not in labels and "source_cluster" in labels and len(labels) == 23, labels
        assert value(s, "istio_build", component="ztunnel") == 1
        assert value(s, "weft_certificates") == 1
        assert value(s, "weft_certificate_expiry_timestamp_seconds") > time.time()
        assert value(s, "weft_workloads_local") == 1
    # Pool gauges on the client's node: the four streams shared pooled connections (one per event loop at most).
    a = scrape(mesh.client_ip)
    assert 1 <= value(a, "weft_hbone_pool_connections_opened") <= 2
    assert value(a, "weft_hbone_pool_streams") == 0


def test_access_log_lines_and_json_format(lab: Lab):
    mesh = start_mesh(lab, node_a_args={"extra": ["--access-log", "json"]})
    payload = b"z" * 1234
    assert mesh.roundtrip(payload) == payload
    # Node B: text access log (the default), one line per connection with ztunnel's fields.
    line = mesh.node_b.log.wait_for("connection complete", direction="inbound")[0]
    assert line["src.identity"] == CLIENT and line["dst.identity"] == ECHO, line.raw
    assert line["src.workload"] == "client" and line["dst.workload"] == "echo-1", line.raw
    assert line["bytes_sent"] == line["bytes_recv"] == "1234", line.raw
    assert line["dst.hbone_addr"] == f"{mesh.echo.ip}:15008" and line["security"] == "mutual_tls", line.raw
    assert re.fullmatch(r"\d+(\.\d+)?ms", line["duration"]), line.raw
    # Node A: JSON, one object per line.
    deadline = time.time() + 10
    objects = []
    while time.time() < deadline and not objects:
        objects = [json.loads(l) for l in mesh.node_a.log.text().splitlines()
                   if l.startswith("{") and '"connection complete"' in l]
        time.sleep(0.05)
    assert objects, mesh.node_a.log.text()[-2000:]
    entry = objects[0]
    assert entry["target"] == "weft.access" and entry["direction"] == "outbound", entry
    assert entry["bytes_sent"] == "1234" and entry["src.identity"] == CLIENT and entry["dst.identity"] == ECHO, entry
    # The daemon's own lines stay text.
    assert mesh.node_a.log.find("listening"), "daemon log should stay in text format"


def test_log_levels_change_at_run_time(lab: Lab):
    mesh = start_mesh(lab, node_b_args={"log_level": "info"})
    ip = mesh.echo.ip
    assert http(ip, ADMIN_PORT, "/logging") == (200, "default=info access=info\n")
    status, body = http(ip, ADMIN_PORT, "/logging?level=access=off", method="POST")
    assert status == 200 and "access=off" in body, body
    mark = mesh.node_b.log.mark()
    assert mesh.roundtrip() == b"ping through weft\n"
    mesh.node_a.log.wait_for("connection complete", direction="outbound", since=0)
    time.sleep(0.5)
    assert mesh.node_b.log.find("connection complete", since=mark) == []
    # Back on, and the daemon's level to debug.
    status, body = http(ip, ADMIN_PORT, "/logging?level=access=info,debug", method="POST")
    assert status == 200 and body == "default=debug access=info\n", body
    mark = mesh.node_b.log.mark()
    assert mesh.roundtrip() == b"ping through weft\n"
    mesh.node_b.log.wait_for("connection complete", since=mark)
    # Bad requests: clear errors, nothing changed.
    status, body = http(ip, ADMIN_PORT, "/logging?level=loud", method="POST")
    assert status == 400 and "unknown log level 'loud'" in body, body
    assert http(ip, ADMIN_PORT, "/logging?level=debug")[0] == 200  # GET shows, never changes
    assert http(ip, ADMIN_PORT, "/logging")[1] == "default=debug access=info\n"
    assert http(ip, ADMIN_PORT, "/config_dump", method="POST")[0] == 405
    status, body = http(ip, ADMIN_PORT, "/nope")
    assert status == 404 and "/config_dump" in body


def test_config_dump_and_broken_manifest_keep_last_good(lab: Lab):
    mesh = start_mesh(lab)
    status, body = http(mesh.client_ip, ADMIN_PORT, "/config_dump")
    assert status == 200
    dump = json.loads(body)
    assert dump["node"] == "node-a" and dump["trustDomain"] == "cluster.local"
    certs = dump["certificates"]
    assert [c["identity"] for c in certs] == [CLIENT], certs
    assert certs[0]["state"] == "Available" and 86000 < certs[0]["expiresInSeconds"] <= 86400, certs
    assert certs[0]["notAfter"].endswith("Z") and "BEGIN" not in body and "PRIVATE" not in body.upper()
    assert {w["uid"] for w in dump["workloads"]} == {"Pod/demo/client", "Pod/demo/echo-1"}
    assert [s["hostname"] for s in dump["services"]] == ["echo.demo.svc.cluster.local"]
    assert dump["services"][0]["endpoints"] == ["Pod/demo/echo-1"]
    assert dump["config"]["reloads"] == 0 and dump["config"]["reloadErrors"] == 0

    # A broken manifest saved while running: rejected, counted, shown; traffic and config stay.
    good = mesh.config.read_text()
    mark = mesh.node_a.log.mark()
    mesh.config.write_text(good + "---\napiVersion: v1\nkind: Pod\nmetadata: {name: broken, namespace: demo}\nspec: [\n")
    mesh.node_a.log.wait_for("configuration rejected; the last good configuration stays in force", since=mark)
    dump = json.loads(http(mesh.client_ip, ADMIN_PORT, "/config_dump")[1])
    assert dump["config"]["reloadErrors"] == 1 and dump["config"]["lastErrors"], dump["config"]
    assert "mesh.yaml:" in dump["config"]["lastErrors"][0], dump["config"]["lastErrors"]
    assert {w["uid"] for w in dump["workloads"]} == {"Pod/demo/client", "Pod/demo/echo-1"}
    assert value(scrape(mesh.client_ip), "weft_config_reloads_total", result="error") == 1
    assert mesh.roundtrip() == b"ping through weft\n"
    # Fixed again: applied and counted.
    mark = mesh.node_a.log.mark()
    mesh.config.write_text(good + "\n")
    mesh.node_a.log.wait_for("configuration reloaded", since=mark)
    assert value(scrape(mesh.client_ip), "weft_config_reloads_total", result="success") == 1


def test_denials_are_counted_with_the_deny_flag(lab: Lab):
    deny = ("apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: deny-client, namespace: demo}\n"
            "spec:\n  action: DENY\n  rules:\n  - from:\n    - source: {principals: [cluster.local/ns/demo/sa/client]}\n")
    mesh = start_mesh(lab, extra_docs=[deny])
    for _ in range(2):
        s, code = socks_connect(mesh.client_ip, *mesh.echo.addr)
        s.close()
        assert code == 2  # not allowed
    mesh.node_b.log.wait_for("connection failed", count=2, direction="inbound", response_flags="DENY")
    b = scrape(mesh.echo.ip)
    denied = dict(reporter="destination", response_flags="DENY", source_principal=CLIENT, destination_workload="echo-1")
    assert value(b, "istio_tcp_connections_opened_total", **denied) == 2
    assert value(b, "istio_tcp_connections_closed_total", **denied) == 2
    assert value(b, "weft_connections_rejected_total", reason="policy_denied") == 2
    a = scrape(mesh.client_ip)
    assert value(a, "istio_tcp_connections_closed_total", reporter="source", response_flags="DENY") == 2
    assert value(a, "weft_connections_rejected_total", reason="denied_by_peer") == 2


def test_metric_labels_can_be_added_and_dropped(lab: Lab):
    mesh = start_mesh(lab, node_b_args={"extra": ["--metric-labels", "+destination_port,-source_cluster,-destination_cluster"]})
    assert mesh.roundtrip() == b"ping through weft\n"
    wait_closed(mesh, 1)
    rows = series(scrape(mesh.echo.ip), "istio_tcp_connections_closed_total", reporter="destination")
    assert len(rows) == 1, rows
    assert rows[0]["destination_port"] == str(mesh.target_port), rows
    assert "source_cluster" not in rows[0] and "destination_cluster" not in rows[0], rows
    # A bad change is refused at start with the names that are allowed.
    r = lab.run_weft("node", "--config", mesh.config, "--ca-dir", mesh.ca.dir, "--node", "node-z",
                     "--metric-labels", "+pod_ip", "--admin-address", "off", "--metrics-address", "off",
                     "--readiness-address", "off")
    assert r.returncode != 0
    assert "unknown metric label 'pod_ip'" in r.stderr and "destination_port" in r.stderr, r.stderr


def test_endpoint_addresses_are_checked(lab: Lab):
    mesh = start_mesh(lab)
    base = ["node", "--config", mesh.config, "--ca-dir", mesh.ca.dir, "--node", "node-z"]
    r = lab.run_weft(*base, "--admin-address", "0.0.0.0:15000")
    assert r.returncode != 0 and "not a loopback address" in r.stderr, r.stderr
    r = lab.run_weft(*base, "--metrics-address", "nowhere")
    assert r.returncode != 0 and "--metrics-address: 'nowhere' is not an address" in r.stderr, r.stderr
    # A second node on node-a's metrics address fails to start (no silent port sharing for the endpoints).
    r = lab.run_weft(*base, "--admin-address", "off", "--readiness-address", "off",
                     "--metrics-address", f"{mesh.client_ip}:{METRICS_PORT}", timeout=30)
    assert r.returncode != 0 and f"cannot listen for metrics on [IPv4]{mesh.client_ip}:{METRICS_PORT}" in r.stderr, r.stderr


def test_readiness_is_ready_when_serving_and_not_while_draining(lab: Lab):
    mesh = start_mesh(lab, node_b_args={"drain_timeout": "8s"})
    assert http(mesh.echo.ip, READINESS_PORT, "/healthz/ready") == (200, "ready\n")
    assert http(mesh.echo.ip, READINESS_PORT, "/other")[0] == 404
    # A live connection keeps node-b draining after SIGTERM: readiness says so, metrics are still served.
    live, code = socks_connect(mesh.client_ip, *mesh.echo.addr)
    assert code == 0
    live.sendall(b"hold\n")
    assert live.recv(100) == b"hold\n"
    mesh.node_b.signal(signal.SIGTERM)
    mesh.node_b.log.wait_for("draining")
    status, body = http(mesh.echo.ip, READINESS_PORT, "/healthz/ready")
    assert status == 503 and "draining" in body, body
    assert value(scrape(mesh.echo.ip), "weft_proxied_sockets_open") >= 1
    live.close()
    mesh.node_b.wait(15)
